/* fuzz_sigma_state.c - libFuzzer target for the sigma detector's stored
 * state loader (src/detect/sigma.c, load): the correlation groups a scan
 * saved.
 *
 * The input is one stored row. A row that loads must run through finish
 * (with a rule set holding the correlation the seeds name, so loaded
 * groups are evaluated and emit into a small finding table), save, and
 * load back from what was saved; saving that again writes the same bytes
 * (the format round-trips). A refused row leaves nothing behind: the
 * state then saves as empty shards. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "sigma/sigma.h"

#define MAXROWS 16

struct rows {
	size_t n;
	unsigned char *buf;
	size_t len, cap;
	size_t at[MAXROWS], rlen[MAXROWS];
	int groups;		/* rows holding a group (more than the header) */
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
	if (n > 5)
		r->groups++;
	return 0;
}

static void save_all(const struct mm_detector_def *d, void *st, struct rows *r)
{
	memset(r, 0, sizeof(*r));
	if (d->save(st, put, r))
		abort();
}

static const char rules[] =
	"title: C\nid: c-1\nlevel: high\ncorrelation:\n  type: event_count\n  rules: [r]\n"
	"  group-by: [userIdentity.arn]\n  timespan: 5m\n  condition: {gte: 2}\n---\n"
	"title: R\nname: r\nlogsource: {product: aws, service: cloudtrail}\n"
	"detection: {s: {eventName: CreateUser}, condition: s}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mm_sigma_set set;
	static int ready;
	const struct mm_detector_def *d = &mm_det_sigma;
	void *st;
	struct rows a, b;
	int rc;

	if (!ready) {
		mm_sigma_set_init(&set);
		if (mm_sigma_set_add_buf(&set, "f.yml", rules, sizeof(rules) - 1) || mm_sigma_set_build(&set) ||
		    set.ncorr != 1)
			abort();
		ready = 1;
	}
	if (!(st = d->state_new()))
		return 0;
	rc = d->load(st, "shard-00", d->state_version, data, size);
	save_all(d, st, &a);
	if (rc) {
		if (a.groups)
			abort(); /* a refused row added something */
	} else {
		void *st2 = d->state_new();
		struct rows c;
		size_t i;
		/* what loaded saves, loads back and saves to the same bytes */
		for (i = 0; i < a.n; i++)
			if (d->load(st2, "shard", d->state_version, a.buf + a.at[i], a.rlen[i]))
				abort();
		save_all(d, st2, &b);
		{
			void *st3 = d->state_new();
			for (i = 0; i < b.n; i++)
				if (d->load(st3, "shard", d->state_version, b.buf + b.at[i], b.rlen[i]))
					abort();
			save_all(d, st3, &c);
			if (c.len != b.len || memcmp(c.buf, b.buf, b.len))
				abort();
			free(c.buf);
			d->state_free(st3);
		}
		free(b.buf);
		d->state_free(st2);
		/* and finish runs on it, with and without the rule set */
		{
			struct mm_agg *agg;
			struct mm_detect_ctx ctx;
			double p[MM_PARAMS_MAX];
			if (mm_agg_new(&agg, 64) == 0) {
				memset(&ctx, 0, sizeof(ctx));
				ctx.agg = agg;
				ctx.sigma = &set;
				mm_detector_defaults(d, p);
				ctx.params = p;
				d->finish(st, &ctx);
				ctx.sigma = NULL;
				d->finish(st, &ctx);
				mm_agg_free(agg);
			}
		}
	}
	free(a.buf);
	d->state_free(st);
	return 0;
}
