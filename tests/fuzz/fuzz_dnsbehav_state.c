/* fuzz_dnsbehav_state.c - libFuzzer target for the dnsbehav detector's
 * state blob loader (what `scan` reads back from the store's
 * detector_state for one instance).
 *
 * A malformed blob is rejected whole. Whatever loads must save again;
 * each saved row must load into a fresh state and save back to the same
 * total length, and a finish over the loaded state (which walks every
 * window) must not fault. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

#define ROWS_MAX 64

struct saved {
	unsigned char *blob[ROWS_MAX];
	char entity[ROWS_MAX][128];
	size_t n[ROWS_MAX], total;
	int count;
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct saved *s = pctx;
	if (s->count >= ROWS_MAX)
		abort(); /* one instance loaded: a handful of rows at most */
	s->blob[s->count] = malloc(n ? n : 1);
	if (!s->blob[s->count])
		abort();
	memcpy(s->blob[s->count], blob, n);
	strncpy(s->entity[s->count], entity, sizeof(s->entity[0]) - 1);
	s->n[s->count++] = n;
	s->total += n;
	return 0;
}

static void saved_free(struct saved *s)
{
	int i;
	for (i = 0; i < s->count; i++)
		free(s->blob[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mm_detector_def *d = &mm_det_dnsbehav;
	struct saved a, b;
	void *st = d->state_new(), *st2 = d->state_new();
	double p[MM_PARAMS_MAX];
	struct mm_detect_ctx c;
	struct mm_agg *agg = NULL;
	int i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (!st || !st2 || mm_agg_new(&agg, 64))
		abort();
	if (d->load(st, "i-0fuzz", d->state_version, data, size) == 0) {
		if (d->save(st, put, &a))
			abort();
		for (i = 0; i < a.count; i++)
			if (a.n[i] && d->load(st2, a.entity[i], d->state_version, a.blob[i], a.n[i]) != 0)
				abort();
		if (d->save(st2, put, &b) || b.total != a.total)
			abort();
		memset(&c, 0, sizeof(c));
		mm_detector_defaults(d, p);
		c.params = p;
		c.agg = agg;
		d->finish(st2, &c);
	}
	saved_free(&a);
	saved_free(&b);
	d->state_free(st);
	d->state_free(st2);
	mm_agg_free(agg);
	return 0;
}
