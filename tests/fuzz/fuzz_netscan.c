/* fuzz_netscan.c - libFuzzer target for the netscan detector's state
 * loader (the per-ENI blob the store hands back).
 *
 * The input is loaded as one ENI's blob; whatever loads must save again,
 * load back from what was saved (a round trip), and survive finish (which
 * emits and prunes) with the default params. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "detect/detect.h"

struct saved {
	unsigned char *b;
	size_t n;
	int count;
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct saved *s = pctx;
	(void)entity;
	if (s->b)
		return 0; /* one ENI in, one blob out */
	s->b = malloc(n ? n : 1);
	if (!s->b)
		return MM_ENOMEM;
	memcpy(s->b, blob, n);
	s->n = n;
	s->count++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mm_detector_def *d = &mm_det_netscan;
	double p[MM_PARAMS_MAX];
	struct mm_detect_ctx c;
	struct mm_agg *agg = NULL;
	struct saved sv = {0};
	void *st, *st2 = NULL;

	mm_log_set_level(MM_LOG_QUIET);
	if (!(st = d->state_new()))
		return 0;
	if (d->load(st, "eni-0f0f0f0f0f0f0f0f0", d->state_version, data, size) == 0) {
		if (d->save(st, put, &sv) == 0 && sv.b) {
			st2 = d->state_new();
			if (st2 && d->load(st2, "eni-0f0f0f0f0f0f0f0f0", d->state_version, sv.b, sv.n))
				abort(); /* what we saved must load */
		}
		mm_detector_defaults(d, p);
		if (mm_agg_new(&agg, 100) == 0) {
			memset(&c, 0, sizeof(c));
			c.agg = agg;
			c.params = p;
			d->finish(st, &c);
			if (st2)
				d->merge(st, st2);
			d->finish(st, &c);
			mm_agg_free(agg);
		}
	}
	free(sv.b);
	if (st2)
		d->state_free(st2);
	d->state_free(st);
	return 0;
}
