/* agg.h - the bounded finding aggregator: one finding per key
 * (type, account, resource, discriminator), the same key the id hashes
 * (finding.h). Detectors add to a worker's table through mm_emit
 * (detect.h); the pipeline merges tables exactly and spills a full one
 * to the store instead of dropping. A table is used by one thread. */
#ifndef MM_AGG_H
#define MM_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "finding/finding.h"

/* Bounded finding table keyed by (type, account, resource, discriminator).
 * mm_agg_full() (the cap reached) tells the engine to spill the table to
 * the store after the event at hand; only MM_AGG_HEADROOM past the cap
 * does a lookup return NULL and count a drop, and one event adds a few
 * findings at most, so nothing is dropped. Memory: each finding's packed
 * bytes, plus the open ones (up to a few hundred, and those one hold of
 * the table opened). */
struct mm_agg;
int mm_agg_new(struct mm_agg **out, size_t max_findings);
void mm_agg_free(struct mm_agg *a);
/* Set the cap (mm_agg_merge may have raised it). */
void mm_agg_set_max(struct mm_agg *a, size_t max_findings);
/* Room past the cap for the findings one event may still add. */
#define MM_AGG_HEADROOM 64
/* Forget every finding (their packed bytes freed), keep the tables. */
void mm_agg_clear(struct mm_agg *a);
size_t mm_agg_count(const struct mm_agg *a);
int mm_agg_full(const struct mm_agg *a);
/* Findings are held packed (a few hundred bytes, not ~3.7 KB) and
 * opened for a caller: a pointer from mm_agg_at or mm_agg_get stays
 * valid until mm_agg_release, and what the caller writes through it is
 * kept. NULL out of memory (or i past the count). */
struct mm_finding *mm_agg_at(struct mm_agg *a, size_t i);
/* A copy of finding i, without opening it (readers of every finding). */
int mm_agg_read(struct mm_agg *a, size_t i, struct mm_finding *out);
/* Every pointer handed out before is invalid after. Once a few hundred
 * more findings were opened since the last sweep, sweep: pack the ones
 * not asked for since then (a finding added to record after record
 * stays open), and past a couple of thousand open the others too. The
 * pipeline calls it after each detector's turn with the table; a caller
 * walking the table with mm_agg_at calls it after each finding. */
void mm_agg_release(struct mm_agg *a);
/* Finding i is done with as it is now (the writer stored it, and the
 * table is cleared next): a release closes it without packing it again,
 * so what was changed since it was last packed is dropped (a finding
 * never packed yet is packed as usual). Saves the writer a pack per
 * finding (~7k instructions). */
void mm_agg_spent(struct mm_agg *a, size_t i);
/* For -v: the packed findings' bytes, the most ever open at once, and
 * how often findings were unpacked, packed and swept. */
struct mm_agg_stats {
	size_t packed, open_hw;
	uint64_t unpacks, packs, sweeps;
};
void mm_agg_stats(const struct mm_agg *a, struct mm_agg_stats *st);
uint64_t mm_agg_dropped(const struct mm_agg *a);
/* Find the finding for the key or create it zeroed with the key fields
 * and the type's metadata set. *created tells which. NULL when full or
 * out of memory. The strings are copied; type must be a table type. */
struct mm_finding *mm_agg_get(struct mm_agg *a, const char *type, const char *account,
			      const char *resource, size_t resource_len, const char *disc,
			      int *created);
/* Add (merge) a complete finding under its own key. Raises the table's
 * cap if needed: merging never drops what workers already found. */
int mm_agg_merge(struct mm_agg *a, const struct mm_finding *f);
/* Rebuild the index after findings' resource fields change (an ENI
 * resolved to an instance): fix (may be NULL) is called on each finding
 * i first and returns nonzero when it changed it (a finding it left as it
 * was is not packed again), then a finding whose new key equals an
 * earlier one's is merged into it and marked dead (archived = -1,
 * skipped by everyone). No copy of the table is made; each finding is
 * opened once. */
int mm_agg_rekey(struct mm_agg *a, int (*fix)(struct mm_finding *f, size_t i, void *ctx),
		 void *ctx);

#endif
