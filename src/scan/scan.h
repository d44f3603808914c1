/* scan.h - `mamori scan` as a driver of the pipeline: walk the paths,
 * feed the files in batches, flush after each batch (or once). */
#ifndef MM_SCAN_H
#define MM_SCAN_H

#include "engine/pipeline.h"

struct mm_scan_opts {
	struct mm_pipeline_opts p;
	const char *const *paths;	/* borrowed; "-" = stdin */
	int npaths;
	size_t flush_every;		/* files per flush; 0 = one flush at the end */
};

/* Run a scan. 0 when the scan ran (bad records are counted, not fatal),
 * negative MM_E... with err set when it could not (database, lock, lists,
 * inventory, missing input path). */
int mm_scan_run(const struct mm_scan_opts *o, struct mm_scan_result *res, struct mm_err *err);

#endif
