/* strpool.h - a process-wide pool of reference-counted strings.
 *
 * For per-item text that many items repeat and that must be freed when
 * the items go (ctbase's labels and first-call details: the same agent,
 * principal and API names on thousands of items, in a state a long
 * `serve` keeps for weeks). Unlike core/intern.h, whose strings live for
 * the process, a string here is freed when its last holder lets go.
 *
 * A holder keeps a 32-bit id, 0 for the empty string. Ids are stable and
 * the same in every thread, so a holder can move between states of
 * different workers (a merge) without touching the pool. Thread-safe:
 * getting and putting take the lock of one of 16 shards (by the string's
 * hash); reading an id one holds takes none. */
#ifndef MM_STRPOOL_H
#define MM_STRPOOL_H

#include <stddef.h>
#include <stdint.h>

/* The id of s[0..n) with one more reference (0 when n is 0, without
 * one). MM_ENOMEM (nothing held) when out of memory or ids. */
int mm_sp_get(const char *s, size_t n, uint32_t *id);
/* k of them: all or none (ids all 0 on failure). */
int mm_sp_get_n(const char *const *s, const size_t *n, size_t k, uint32_t *ids);
/* Let go of one reference (0: nothing). */
void mm_sp_put(uint32_t id);
void mm_sp_put_n(const uint32_t *ids, size_t k);
/* The text of an id one holds ("" for 0), NUL-terminated. */
const char *mm_sp_str(uint32_t id);
size_t mm_sp_len(uint32_t id);
/* Distinct strings held, and their bytes with the pool's own (for -v). */
void mm_sp_stats(size_t *strings, size_t *bytes);

#endif
