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
 * findings at most, so nothing is dropped. */
struct mm_agg;
int mm_agg_new(struct mm_agg **out, size_t max_findings);
void mm_agg_free(struct mm_agg *a);
/* Set the cap (mm_agg_merge may have raised it). */
void mm_agg_set_max(struct mm_agg *a, size_t max_findings);
/* Room past the cap for the findings one event may still add. */
#define MM_AGG_HEADROOM 64
/* Forget every finding, keep the memory. */
void mm_agg_clear(struct mm_agg *a);
size_t mm_agg_count(const struct mm_agg *a);
int mm_agg_full(const struct mm_agg *a);
struct mm_finding *mm_agg_at(struct mm_agg *a, size_t i);
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
/* Rebuild the index after callers changed findings' resource fields (ENI
 * resolved to an instance): a finding whose new key equals an earlier
 * one's is merged into it and marked dead (archived = -1, skipped by
 * everyone). No copy of the table is made. */
int mm_agg_rekey(struct mm_agg *a);

#endif
