/* pipeline.h - the detection engine: one object every driver feeds.
 *
 *   mm_pipeline_open   loads threat lists, the inventory (given and
 *                      stored), the detectors' stored state; takes the
 *                      store's scan lock (two runs never double-count)
 *   mm_pipeline_feed_files   reads files on worker threads: framing ->
 *                      parse -> enrich (inventory learned from RunInstances)
 *                      -> every registered detector that wants the kind
 *   mm_pipeline_feed_event   one already-parsed event (drivers that parse
 *                      themselves; tests)
 *   mm_pipeline_flush  merges the workers' states and findings, runs each
 *                      detector's finish, resolves ENIs to instances, applies
 *                      the filter stage (supersede rules, unattributed
 *                      findings held back) and writes findings, detector
 *                      state, file progress and inventory in ONE
 *                      transaction. Any number of flushes, at any cadence,
 *                      gives the same stored result as one at the end.
 *   mm_pipeline_close  releases everything (an unflushed batch is lost,
 *                      and so is its file progress: nothing is half-kept).
 *
 * Memory is bounded by spilling, never by dropping: when the batch's one
 * finding table fills, it is written into the open transaction (not
 * committed until the flush) and emptied. */
#ifndef MM_PIPELINE_H
#define MM_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/event.h"
#include "intel/intel.h"
#include "parse/format.h"

struct mm_config;
struct mm_sigma_set;

#define MM_SCAN_MAX_LISTS 64

struct mm_detector_def;

struct mm_scan_list {
	enum mm_intel_cat cat;
	const char *path;	/* borrowed */
	const char *name;	/* the list's name in findings; NULL = the file's base name */
};

struct mm_pipeline_opts {
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
	size_t max_findings;		/* in the batch's table before a spill; 0 = 50k */
	const char *default_region;	/* for findings whose records and path name
					 * no region (flow logs v2 outside the S3 layout) */
	int lock_wait_ms;		/* wait this long for another run's lock */
	/* NULL-terminated detector table; NULL = the registry (tests pass
	 * their own) */
	const struct mm_detector_def *const *detectors;
	/* thresholds and enabled detectors (config/config.h); NULL = the
	 * built-in defaults. Borrowed: must outlive the pipeline. */
	const struct mm_config *config;
	/* IP ownership file (geo/geo.h) for remoteIpDetails; NULL = the data
	 * folder's geo/geo.mmgeo if there is one */
	const char *geo_path;
	const char *geoip[4];		/* MaxMind .mmdb files, asked first (borrowed) */
	int ngeoip;
	int no_geo;			/* no enrichment at all */
	/* Sigma rules the sigma detector runs (sigma/sigma.h, built); NULL =
	 * none. Borrowed: must outlive the pipeline. */
	const struct mm_sigma_set *sigma;
	/* Suppression rules (serve's ARCHIVE filters): called with each NEW
	 * finding's GuardDuty JSON at the flush, in the flushing thread;
	 * returning 1 stores it archived (GuardDuty archives such findings
	 * on arrival). NULL = none. */
	int (*suppress)(void *ctx, const char *json);
	void *suppress_ctx;
	/* --host NAME: host logs (parse/syslog.h) are this host's, whatever
	 * their hostname; an instance id ("i-...") also names the instance.
	 * NULL = the logged name / a path folder / the inventory decide. */
	const char *host;
	/* The instance host logs belong to when neither --host nor their
	 * path names one (the agent's own logs: its --instance-id). NULL =
	 * none. Borrowed. */
	const char *host_instance;
	/* The account of the host findings (the agent's runtime findings)
	 * that name none: the agent's --account-id or its instance's
	 * identity document. NULL = left empty. Borrowed. */
	const char *host_account;
};

/* Counters, summed over every feed and flush of the pipeline. */
struct mm_scan_result {
	uint64_t files, files_done_before, files_unknown, files_empty, files_digest, files_failed;
	uint64_t files_moved;		/* known by content under another name */
	uint64_t inputs_unreadable;	/* folders/paths that could not be read */
	uint64_t records_flow, records_dns, records_api, records_host, records_skipped;
	uint64_t bad_records;
	uint64_t partial_lines;		/* unterminated last lines left for later */
	uint64_t bytes_in;		/* bytes read from disk */
	uint64_t findings_new, findings_updated, findings_dropped;
	uint64_t findings_unattributed;	/* held: no known instance behind them yet */
	uint64_t findings_attributed_late; /* held before, now on their instance */
	uint64_t spills;		/* finding tables written before the flush */
	uint64_t findings_spilled;	/* findings those tables held */
	double max_severity;		/* highest severity among stored findings */
	uint64_t intel_entries;
	double seconds;
	int64_t started_ms;		/* wall clock at open (findings updatedAt >= this) */
};

struct mm_pipeline;	/* opaque */

/* Open: err says why not (lists, inventory, database, lock held). */
int mm_pipeline_open(struct mm_pipeline **out, const struct mm_pipeline_opts *o,
		     struct mm_err *err);
/* Read these files (canonical paths; "-" = stdin). rels[i] is the name
 * evidence uses for paths[i] (relative to the scanned root; NULL = the
 * path). Blocks until read; findings wait for the next flush. */
int mm_pipeline_feed_files(struct mm_pipeline *p, const char *const *paths,
			   const char *const *rels, size_t n, struct mm_err *err);
/* One parsed event; loc.file must live until the next flush. */
int mm_pipeline_feed_event(struct mm_pipeline *p, const struct mm_event *ev);
int mm_pipeline_flush(struct mm_pipeline *p, struct mm_err *err);
/* How many files the driver will feed in all (the progress line's total). */
void mm_pipeline_expect_files(struct mm_pipeline *p, size_t n);
/* End the progress line (its last state and the newline) if one is up,
 * before the driver prints more; close does it otherwise. */
void mm_pipeline_progress_end(struct mm_pipeline *p);
void mm_pipeline_close(struct mm_pipeline *p);
/* Borrowed; valid until close. */
const struct mm_scan_result *mm_pipeline_result(const struct mm_pipeline *p);

/* Folder holding the bundled threat lists: $MAMORI_DATA/intel, else next
 * to the binary (../data/intel, ../share/mamori/intel), else the
 * compiled-in MM_DATADIR. NULL if none exists. */
const char *mm_data_dir(void);

#endif
