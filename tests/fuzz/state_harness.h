/* state_harness.h - the one libFuzzer harness behind every detector's
 * stored-state target (tests/fuzz/fuzz_*_state.c); each target names
 * its detector, the entity a stored row is loaded as, and what its rows
 * look like, then calls fz_state_run.
 *
 * The input is one stored row. What the harness requires:
 * - a row the loader refuses leaves nothing behind: the state then saves
 *   no row holding anything (rows of at most empty_len bytes, when it is
 *   set, are headers or clearing rows: they hold nothing and are neither
 *   kept nor reloaded);
 * - a row that loads saves; each saved row loads (as the entity it was
 *   saved under) into a fresh state, which saves the same bytes again
 *   (only the same length with same_len_only, for detectors that save
 *   their entries in hash order);
 * - finish then runs on the loaded state, emitting into a small finding
 *   table, without a fault (unless no_finish).
 * Header-only: each fuzz target is its own program. */
#ifndef MM_FUZZ_STATE_HARNESS_H
#define MM_FUZZ_STATE_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strpool.h"
#include "detect/detect.h"

#define FZ_ROWS_MAX 256
#define FZ_ENTITY_MAX 128

struct fz_state_opts {
	const struct mm_detector_def *d;
	const char *entity;	/* what the input row is loaded as */
	int version;		/* the input row's state version; 0: the detector's current one */
	size_t empty_len;	/* a saved row this long or shorter holds nothing */
	int one_row;		/* an entity loaded must save exactly one row */
	int same_len_only;	/* the reloaded state need only save as many bytes */
	int no_finish;
	/* optional: set params, the rule set, or feed events before finish */
	void (*before_finish)(void *st, struct mm_detect_ctx *c, double *params);
};

struct fz_rows {
	size_t n;
	unsigned char *buf;	/* all rows' bytes, concatenated */
	size_t len, cap;
	size_t at[FZ_ROWS_MAX], rlen[FZ_ROWS_MAX];
	char ent[FZ_ROWS_MAX][FZ_ENTITY_MAX];
	size_t empty_len;
	int full;		/* rows holding something */
};

static int fz_put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct fz_rows *r = pctx;
	if (n <= r->empty_len && r->empty_len)
		return 0; /* a header or clearing row: holds nothing, not reloaded */
	if (r->n >= FZ_ROWS_MAX || strlen(entity) >= FZ_ENTITY_MAX)
		abort(); /* one row loaded: a bounded number of rows back */
	if (r->len + n > r->cap) {
		r->cap = (r->len + n) * 2 + 1;
		if (!(r->buf = realloc(r->buf, r->cap)))
			abort();
	}
	memcpy(r->buf + r->len, blob, n);
	strcpy(r->ent[r->n], entity);
	r->at[r->n] = r->len;
	r->rlen[r->n] = n;
	r->len += n;
	r->n++;
	if (n)
		r->full++;
	return 0;
}

static void fz_save(const struct fz_state_opts *o, void *st, struct fz_rows *r)
{
	memset(r, 0, sizeof(*r));
	r->empty_len = o->empty_len;
	if (o->d->save(st, fz_put, r))
		abort();
}

/* A fresh state loaded from every row of r, saved into out. */
static void fz_reload(const struct fz_state_opts *o, const struct fz_rows *r, struct fz_rows *out)
{
	void *st = o->d->state_new();
	size_t i;
	if (!st)
		abort();
	for (i = 0; i < r->n; i++)
		if (o->d->load(st, r->ent[i], o->d->state_version, r->buf + r->at[i], r->rlen[i]))
			abort();
	fz_save(o, st, out);
	o->d->state_free(st);
}

static void fz_state_run(const struct fz_state_opts *o, const uint8_t *data, size_t size)
{
	const struct mm_detector_def *d = o->d;
	struct fz_rows *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	void *st = d->state_new();
	size_t pooled0, pooled1, bytes;
	int rc;

	mm_sp_stats(&pooled0, &bytes);

	if (!a || !b || !st)
		abort();
	rc = d->load(st, o->entity, o->version ? o->version : d->state_version, data, size);
	fz_save(o, st, a);
	if (rc) {
		if (a->full)
			abort(); /* a refused row added something */
		goto out;
	}
	if (o->one_row && a->n != 1)
		abort();
	fz_reload(o, a, b);
	if (b->len != a->len || (a->len && !o->same_len_only && memcmp(a->buf, b->buf, a->len)))
		abort();
	if (!o->no_finish) {
		struct mm_agg *agg;
		struct mm_detect_ctx c;
		double p[MM_PARAMS_MAX];
		if (mm_agg_new(&agg, 64))
			abort();
		memset(&c, 0, sizeof(c));
		c.agg = agg;
		mm_detector_defaults(d, p);
		c.params = p;
		if (o->before_finish)
			o->before_finish(st, &c, p);
		d->finish(st, &c);
		mm_agg_free(agg);
	}
out:
	free(a->buf);
	free(b->buf);
	free(a);
	free(b);
	d->state_free(st);
	/* every shared string a state took was let go with it */
	mm_sp_stats(&pooled1, &bytes);
	if (pooled1 != pooled0)
		abort();
}

#endif
