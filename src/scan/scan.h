/* scan.h - the scan pipeline: files -> framing -> parsers -> detectors ->
 * findings -> store.
 *
 * Files are the unit of parallel work: worker threads (one per core by
 * default) take files from a shared queue; each owns its parser scratch,
 * detector state and finding aggregator, so the hot path takes no locks.
 * After the workers finish, the main thread merges their findings and
 * what they learned about instances, resolves ENIs to instances, merges
 * with what the store already holds, and writes one transaction. */
#ifndef MM_SCAN_H
#define MM_SCAN_H

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "intel/intel.h"
#include "parse/format.h"

#define MM_SCAN_MAX_LISTS 64

struct mm_scan_list {
	enum mm_intel_cat cat;
	const char *path;	/* borrowed */
};

struct mm_scan_opts {
	const char *const *paths;	/* borrowed; "-" = stdin */
	int npaths;
	const char *db_path;		/* NULL = mm_store_default_path() */
	enum mm_source source;		/* forced format family or AUTO */
	int threads;			/* 0 = one per online CPU */
	const char *inventory_path;	/* describe-instances JSON or NULL */
	struct mm_scan_list lists[MM_SCAN_MAX_LISTS];
	int nlists;
	const char *trusted[MM_SCAN_MAX_LISTS];
	int ntrusted;
	int no_default_lists;		/* skip the bundled mining/Tor lists */
	int rescan;			/* ignore remembered progress */
	int progress;			/* show progress on stderr */
	int report_unknown_enis;	/* keep findings on interfaces/addresses the
					 * inventory does not know (see docs) */
	size_t max_findings;		/* per thread; 0 = default */
	const char *default_region;	/* for findings whose records and path name
					 * no region (flow logs v2 outside the S3 layout) */
	FILE *emit;			/* if set: each finding this scan stores, as
					 * one GuardDuty JSON line (borrowed) */
};

struct mm_scan_result {
	uint64_t files, files_done_before, files_unknown, files_empty, files_digest, files_failed;
	uint64_t records_flow, records_dns, records_api, records_skipped;
	uint64_t bad_records;
	uint64_t bytes_in;		/* bytes read from disk */
	uint64_t findings_new, findings_updated, findings_dropped;
	uint64_t findings_unattributed;	/* not reported: no known instance behind them */
	double max_severity;		/* highest severity among stored findings */
	uint64_t intel_entries;
	double seconds;
	int64_t started_ms;		/* wall clock at start (findings updatedAt >= this) */
};

/* Run a scan. 0 when the scan ran (bad records are counted, not fatal),
 * negative MM_E... with err set when it could not (database, lists,
 * inventory, missing input path). */
int mm_scan_run(const struct mm_scan_opts *o, struct mm_scan_result *res, struct mm_err *err);

/* Folder holding the bundled threat lists: $MAMORI_DATA/intel, else next
 * to the binary (../data/intel, ../share/mamori/intel), else the
 * compiled-in MM_DATADIR. NULL if none exists. */
const char *mm_data_dir(void);

#endif
