/* fuzz_dos_state.c - libFuzzer target for the DoS detector's state
 * loader (src/detect/dos.c, one blob per ENI).
 *
 * Whatever loads must save (a cleared, empty row saves nothing), and what
 * it saves must load back and save the same bytes again; finish runs on
 * the loaded state (emitting into a finding table) without crashing. A
 * malformed blob is rejected whole. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

struct saved {
	unsigned char *p;
	size_t n;
	int rows;
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct saved *s = pctx;
	(void)entity;
	s->p = realloc(s->p, s->n + n + 1);
	if (!s->p)
		abort();
	memcpy(s->p + s->n, blob, n);
	s->n += n;
	s->rows++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mm_detector_def *d = &mm_det_dos;
	double params[MM_PARAMS_MAX];
	struct saved a = {0}, b = {0};
	struct mm_detect_ctx c;
	struct mm_agg *agg = NULL;
	void *st = d->state_new(), *st2 = NULL;

	if (!st)
		abort();
	if (d->load(st, "eni-0f0220000000000001", 1, data, size))
		goto out;
	if (d->save(st, put, &a) || a.rows > 1)
		abort();
	if (!a.rows)
		goto out; /* an empty (cleared) row holds nothing */
	st2 = d->state_new();
	if (d->load(st2, "eni-0f0220000000000001", 1, a.p, a.n))
		abort();
	if (d->save(st2, put, &b) || b.n != a.n || memcmp(a.p, b.p, a.n))
		abort();
	if (mm_agg_new(&agg, 100))
		abort();
	memset(&c, 0, sizeof(c));
	mm_detector_defaults(d, params);
	c.params = params;
	c.agg = agg;
	d->finish(st, &c);
out:
	free(a.p);
	free(b.p);
	mm_agg_free(agg);
	d->state_free(st);
	if (st2)
		d->state_free(st2);
	return 0;
}
