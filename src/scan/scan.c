/* scan.c - `mamori scan` drives the pipeline: walk the paths (sorted, so
 * every run sees the same order), feed the files in batches, flush after
 * each batch, close. Evidence names each file by its S3 key or relative
 * to the scanned root, so moving the tree changes nothing. */
#include "scan/scan.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "input/walk.h"

/* The name evidence gives path: a file in the S3 layout is named by its
 * object key ("AWSLogs/123456789012/vpcflowlogs/..."), the same whichever
 * folder was scanned and wherever the tree lives; any other file by its
 * path below the deepest root it lies under (the walk's canonical roots),
 * starting with the root's own last component; a file given by itself
 * by its base name. Caller frees. */
char *mm_scan_rel_name(const struct mm_filelist *fl, const char *path)
{
	const char *base, *rest, *key = strstr(path, "/AWSLogs/");
	const char *best = NULL;
	size_t i, bn = 0, bl;
	char *out;

	if (key)
		return mm_strdup(key + 1);
	for (i = 0; i < fl->nroots; i++) {
		const char *r = fl->roots[i];
		size_t n = strcmp(r, "/") == 0 ? 0 : strlen(r);
		if (strncmp(path, r, n) == 0 && (path[n] == '/' || path[n] == '\0') &&
		    (!best || n > bn)) {
			best = r;
			bn = n;
		}
	}
	if (!best || strcmp(path, "-") == 0)
		return mm_strdup(path);
	base = strrchr(best, '/');
	base = base ? base + 1 : best;
	bl = strlen(base);
	rest = path + bn;
	if (!*rest) { /* the root is the file itself */
		const char *b = strrchr(path, '/');
		return mm_strdup(b ? b + 1 : path);
	}
	out = mm_malloc(bl + strlen(rest) + 1);
	if (out) {
		memcpy(out, base, bl);
		strcpy(out + bl, rest);
	}
	return out;
}

int mm_scan_run(const struct mm_scan_opts *o, struct mm_scan_result *res, struct mm_err *err)
{
	struct mm_filelist fl;
	struct mm_pipeline *p = NULL;
	char **rels = NULL;
	size_t k, batch;
	int rc;

	memset(res, 0, sizeof(*res));
	mm_filelist_init(&fl);
	/* every root is known before any is walked, so a link from one root
	 * into another is followed and one out of all of them is not */
	if ((rc = mm_walk_paths(&fl, o->paths, (size_t)o->npaths, err)))
		goto out;
	mm_filelist_sort(&fl);
	rels = mm_calloc(fl.n ? fl.n : 1, sizeof(*rels));
	if (!rels) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	for (k = 0; k < fl.n; k++)
		if (!(rels[k] = mm_scan_rel_name(&fl, fl.paths[k]))) {
			rc = mm_err_set(err, MM_ENOMEM, "out of memory");
			goto out;
		}
	if ((rc = mm_pipeline_open(&p, &o->p, err)))
		goto out;
	mm_pipeline_expect_files(p, fl.n);
	batch = o->flush_every ? o->flush_every : (fl.n ? fl.n : 1);
	for (k = 0; k < fl.n || k == 0; k += batch) {
		size_t n = fl.n - k < batch ? fl.n - k : batch;
		if ((rc = mm_pipeline_feed_files(p, (const char *const *)fl.paths + k,
						 (const char *const *)rels + k, n, err)))
			goto out;
		if ((rc = mm_pipeline_flush(p, err)))
			goto out;
		if (fl.n == 0)
			break;
	}
	*res = *mm_pipeline_result(p);
	res->inputs_unreadable = fl.unreadable;
	if (o->done) {
		mm_pipeline_progress_end(p);
		o->done(o->done_ctx, res);
	}
out:
	mm_pipeline_close(p);
	for (k = 0; rels && k < fl.n; k++)
		mm_free(rels[k]);
	mm_free(rels);
	mm_filelist_free(&fl);
	return rc;
}
