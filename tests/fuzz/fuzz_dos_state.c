/* fuzz_dos_state.c - libFuzzer target for the DoS detector's state
 * loader (src/detect/dos.c, one row per shard of ENIs).
 *
 * Whatever loads must save (a cleared, empty row saves nothing but its
 * clearing), and the rows it saves must load back and save the same
 * bytes again; finish runs on the loaded state (emitting into a finding
 * table) without crashing. A malformed blob is rejected whole. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

struct saved {
	unsigned char *p;	/* the rows holding ENIs, concatenated */
	size_t n;
	int rows;
	char ent[256][16];	/* and each one's entity, start and length */
	size_t at[256], len[256];
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct saved *s = pctx;
	if (n == 12)
		return 0; /* a cleared row ("DOS2", no ENIs, no files) */
	if (s->rows == 256 || strlen(entity) >= sizeof(s->ent[0]))
		abort();
	s->p = realloc(s->p, s->n + n + 1);
	if (!s->p)
		abort();
	memcpy(s->p + s->n, blob, n);
	strcpy(s->ent[s->rows], entity);
	s->at[s->rows] = s->n;
	s->len[s->rows] = n;
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
	int i;

	if (!st)
		abort();
	if (d->load(st, "shard-003", 2, data, size))
		goto out;
	if (d->save(st, put, &a))
		abort();
	if (!a.rows)
		goto out; /* an empty (cleared) row holds nothing */
	st2 = d->state_new();
	for (i = 0; i < a.rows; i++)
		if (d->load(st2, a.ent[i], 2, a.p + a.at[i], a.len[i]))
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
