/* scan.h - `mamori scan` as a driver of the pipeline: walk the paths,
 * feed the files in batches, flush after each batch (or once). */
#ifndef MM_SCAN_H
#define MM_SCAN_H

#include "engine/pipeline.h"

struct mm_filelist;

struct mm_scan_opts {
	struct mm_pipeline_opts p;
	const char *const *paths;	/* borrowed; "-" = stdin */
	int npaths;
	size_t flush_every;		/* files per flush; 0 = one flush at the end */
	/* Called once when every flush succeeded, before the pipeline
	 * closes, with the result: the last flush's WAL checkpoint runs on
	 * its own thread meanwhile (printing the findings the scan touched
	 * overlaps it). The store is committed; done may read it through its
	 * own handle. NULL = none. */
	void (*done)(void *ctx, const struct mm_scan_result *res);
	void *done_ctx;
};

/* Run a scan. 0 when the scan ran (bad records are counted, not fatal),
 * negative MM_E... with err set when it could not (database, lock, lists,
 * inventory, missing input path). */
int mm_scan_run(const struct mm_scan_opts *o, struct mm_scan_result *res, struct mm_err *err);

/* The name evidence gives path (found by walking fl's roots): its S3 key
 * ("AWSLogs/123456789012/vpcflowlogs/..."), else its path below the
 * deepest root it lies under, starting with the root's last component.
 * Caller frees; NULL when out of memory. */
char *mm_scan_rel_name(const struct mm_filelist *fl, const char *path);

#endif
