/* fuzz_hostproc_state.c - libFuzzer target for the hostproc detector's stored
 * state loader (src/detect/hostproc.c, load).
 *
 * The input is one stored row. A row that loads must run through finish
 * (emitting into a small finding table), save, and load back from what
 * was saved; the second save must write the same bytes as the first (the
 * format round-trips). A row that is refused must leave nothing behind:
 * the state then saves no row. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

#define MAXROWS 64
struct rows {
	size_t n;
	unsigned char *buf;	/* all rows' bytes, concatenated */
	size_t len, cap;
	size_t at[MAXROWS], rlen[MAXROWS];
	int pairs;		/* rows that hold a pair (more than the header) */
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct rows *r = pctx;
	(void)entity;
	if (r->n >= MAXROWS)
		abort();
	r->at[r->n] = r->len;
	r->rlen[r->n] = n;
	if (r->len + n > r->cap) {
		r->cap = (r->len + n) * 2;
		r->buf = realloc(r->buf, r->cap);
		if (!r->buf)
			abort();
	}
	memcpy(r->buf + r->len, blob, n);
	r->len += n;
	r->n++;
	if (n > 0)
		r->pairs++;
	return 0;
}

static void save_all(const struct mm_detector_def *d, void *st, struct rows *r)
{
	memset(r, 0, sizeof(*r));
	if (d->save(st, put, r))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mm_detector_def *d = &mm_det_hostproc;
	void *st = d->state_new();
	struct rows a, b;
	int rc;

	if (!st)
		return 0;
	rc = d->load(st, "i-0abc", d->state_version, data, size);
	save_all(d, st, &a);
	if (rc) {
		if (a.pairs)
			abort(); /* a refused row added something */
	} else {
		/* what loaded saves and loads back to the same bytes */
		void *st2 = d->state_new();
		size_t i;
		for (i = 0; i < a.n; i++)
			if (d->load(st2, "shard", d->state_version, a.buf + a.at[i], a.rlen[i]))
				abort();
		save_all(d, st2, &b);
		if (b.len != a.len || memcmp(a.buf, b.buf, a.len))
			abort();
		free(b.buf);
		d->state_free(st2);
		/* and finish runs on it */
		{
			struct mm_agg *agg;
			struct mm_detect_ctx c;
			double p[MM_PARAMS_MAX];
			if (mm_agg_new(&agg, 64) == 0) {
				memset(&c, 0, sizeof(c));
				c.agg = agg;
				mm_detector_defaults(d, p);
				c.params = p;
				d->finish(st, &c);
				mm_agg_free(agg);
			}
		}
	}
	free(a.buf);
	d->state_free(st);
	return 0;
}
