/* fuzz_ctbase_state.c - libFuzzer target for the ctbase detector's state
 * blob loader (what `scan` reads back from the store's detector_state).
 *
 * The input's first byte picks the entity kind (even: a principal "p|",
 * odd: an instance session "i|"); the rest is its blob. Whatever loads
 * must save again as one row, the saved blob must load into a fresh state
 * and save to the same length, and a finish over the loaded state (which
 * judges every item, reads the active days and hours and writes
 * findings) must not fault. A malformed blob is rejected whole. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

struct saved {
	unsigned char *blob;
	size_t n;
	int count;
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct saved *s = pctx;
	(void)entity;
	s->count++;
	free(s->blob);
	s->blob = malloc(n ? n : 1);
	if (!s->blob)
		abort();
	memcpy(s->blob, blob, n);
	s->n = n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mm_detector_def *d = &mm_det_ctbase;
	const char *ent;
	struct saved a = {0}, b = {0};
	void *st, *st2;
	double p[MM_PARAMS_MAX];
	struct mm_detect_ctx c;
	struct mm_agg *agg = NULL;

	if (size < 1)
		return 0;
	ent = (data[0] & 1) ? "i|arn:aws:sts::111122223333:assumed-role/R/i-0fuzz0000000000a"
			    : "p|arn:aws:iam::111122223333:user/fuzz";
	st = d->state_new();
	st2 = d->state_new();
	if (!st || !st2 || mm_agg_new(&agg, 64))
		abort();
	if (d->load(st, ent, d->state_version, data + 1, size - 1) == 0) {
		if (d->save(st, put, &a) || a.count != 1)
			abort();
		if (d->load(st2, ent, d->state_version, a.blob, a.n) != 0)
			abort();
		if (d->save(st2, put, &b) || b.count != 1 || b.n != a.n)
			abort();
		memset(&c, 0, sizeof(c));
		mm_detector_defaults(d, p);
		p[7] = 1; /* unusual_asn_caller: judge the networks too */
		c.params = p;
		c.agg = agg;
		d->finish(st2, &c);
	}
	free(a.blob);
	free(b.blob);
	d->state_free(st);
	d->state_free(st2);
	mm_agg_free(agg);
	return 0;
}
