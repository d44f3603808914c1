/* detect.h - detectors and the per-thread finding aggregator.
 *
 * Each scan thread owns one struct mm_detector: events go in one at a
 * time (mm_detect_event); findings accumulate in the thread's aggregator,
 * keyed by (type, resource, threat list), so repeated activity updates
 * one finding. Shared inputs (intel, base inventory) are read-only. What
 * the thread learns about instances (CloudTrail RunInstances) goes to its
 * own inventory; the pipeline merges threads at the end.
 *
 * Time is event time only: a replay of old logs yields the same findings
 * as live processing did. */
#ifndef MM_DETECT_H
#define MM_DETECT_H

#include <stdint.h>

#include "core/event.h"
#include "enrich/inventory.h"
#include "finding/finding.h"
#include "intel/intel.h"

/* Bounded finding table: past max, new keys are dropped and counted. */
struct mm_agg;
int mm_agg_new(struct mm_agg **out, size_t max_findings);
void mm_agg_free(struct mm_agg *a);
size_t mm_agg_count(const struct mm_agg *a);
struct mm_finding *mm_agg_at(struct mm_agg *a, size_t i);
uint64_t mm_agg_dropped(const struct mm_agg *a);
/* Find the finding for key (type, resource, list) or create it zeroed with
 * those set. *created tells which. NULL when full or out of memory. The
 * strings are copied; type must be a table string (mm_ftype_get). */
struct mm_finding *mm_agg_get(struct mm_agg *a, const char *type, const char *resource,
			      size_t resource_len, const char *list, int *created);
/* Add (merge) a complete finding under its own id-less key
 * (type + mm_finding_resource_key + threat_list). Raises the table's cap
 * if needed: merging never drops what workers already found. */
int mm_agg_merge(struct mm_agg *a, const struct mm_finding *f);
/* Rebuild the index after callers changed findings' resource fields (ENI
 * resolved to an instance): a finding whose new key equals an earlier
 * one's is merged into it and marked dead (archived = -1, skipped by
 * everyone). No copy of the table is made. */
int mm_agg_rekey(struct mm_agg *a);

/* Defaults for a file: the account and region in its S3 key (may be empty). */
struct mm_file_ctx {
	const char *path;
	char account[32];
	char region[32];
};
/* Fill account/region from an S3-layout path
 * (.../AWSLogs/<account>/<service>/<region>/...). */
void mm_file_ctx_from_path(struct mm_file_ctx *fc, const char *path);

struct mm_detect_stats {
	uint64_t flows, dns, api;
	uint64_t matches, trusted_skips;
};

/* Per-thread memo of IPv4 (address, port) pairs known to match no list.
 * Traffic is dominated by a few busy remote endpoints, so most lookups
 * repeat; a hit here is one L1/L2 access instead of the intel set's
 * two or three dependent cache misses. Only misses are cached, so it can
 * never hide a threat. */
#define MM_IPMEMO_SLOTS 8192
struct mm_ipmemo {
	uint64_t key[MM_IPMEMO_SLOTS];	/* (ip << 16 | port) + 1; 0 = empty */
};

struct mm_detector {
	const struct mm_intel *intel;		/* borrowed */
	const struct mm_inventory *inv;		/* borrowed, may be NULL */
	struct mm_inventory *learned;		/* owned by the caller */
	struct mm_agg *agg;			/* owned by the caller */
	const struct mm_file_ctx *file;		/* current file */
	struct mm_ipmemo *memo;			/* owned by the caller, may be NULL */
	struct mm_detect_stats st;
};

void mm_detect_event(struct mm_detector *d, const struct mm_event *ev);

/* Connection initiator for a flow record, from the local and remote
 * ports: the well-known/registered port is the server's; ambiguous cases
 * fall back to prefer_outbound (the remote is a known server) or to the
 * higher port being the client. Exposed for tests. */
enum mm_dir mm_flow_initiator(uint8_t proto, uint16_t lport, uint16_t rport, int src_is_local,
			      int prefer_outbound);

/* API names GuardDuty's Recon:IAMUser types cover (List*, Describe*, Get*). */
int mm_api_is_recon(const char *name, size_t n);

#endif
