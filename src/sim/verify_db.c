/* verify_db.c - load findings for the verifier from a mamori store.
 * Kept apart from verify.c so the verifier's logic links without SQLite. */
#include "sim/sim.h"
#include "store/store.h"

#include <string.h>

static int row_cb(void *ctx, const struct mm_finding_row *row)
{
	void **c = ctx;
	struct mm_sim_found_set *s = c[0];
	struct mm_err *err = c[1];
	return mm_sim_found_add_json(s, row->json, strlen(row->json), row->resource, err);
}

int mm_sim_found_load_db(struct mm_sim_found_set *s, const char *db_path, struct mm_err *err)
{
	struct mm_store *st = NULL;
	struct mm_finding_filter flt;
	void *ctx[2] = {s, err};
	int rc;

	if ((rc = mm_store_open(&st, db_path, err)))
		return rc;
	memset(&flt, 0, sizeof flt);
	flt.include_archived = 1;
	rc = mm_store_findings(st, &flt, row_cb, ctx, err);
	mm_store_close(st);
	return rc;
}
