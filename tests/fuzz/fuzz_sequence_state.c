/* fuzz_sequence_state.c - libFuzzer target for the attack-sequence
 * detector's state loader (src/detect/sequence.c, one row per shard of
 * principals).
 *
 * Whatever loads must save, and the rows it saves must load back and
 * save the same bytes again; finish runs on the loaded state after a
 * chain of calls and a member finding are added (emitting into a finding
 * table) without crashing. A malformed blob is rejected whole. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

struct saved {
	unsigned char *p;	/* the rows holding principals, concatenated */
	size_t n;
	int rows;
	char ent[64][16];	/* and each one's entity, start and length */
	size_t at[64], len[64];
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct saved *s = pctx;
	if (n == 10)
		return 0; /* a row without principals ("MMSQ", version, shard, 0) */
	if (s->rows == 64 || strlen(entity) >= sizeof(s->ent[0]))
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

/* A call of the principal the seeds use, so finish has work to do. */
static void call(const struct mm_detector_def *d, void *st, struct mm_detect_ctx *c,
		 const char *src, const char *name, int64_t t)
{
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_API;
	ev.loc.file = "f";
	ev.loc.line = 1;
	ev.u.api.time_ms = t;
	ev.u.api.event_source = mm_str_c(src);
	ev.u.api.event_name = mm_str_c(name);
	ev.u.api.account = mm_str_c("123456789012");
	ev.u.api.read_only = -1;
	ev.u.api.who.principal_id = mm_str_c("AIDAEXAMPLEALICE00001");
	d->on_event(st, c, &ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mm_detector_def *d = &mm_det_sequence;
	double params[MM_PARAMS_MAX];
	struct saved a = {0}, b = {0};
	struct mm_detect_ctx c;
	struct mm_agg *agg = NULL;
	struct mm_finding *f;
	void *st = d->state_new(), *st2 = NULL;
	int i, created;

	if (!st)
		abort();
	if (d->load(st, "shard-00", 1, data, size))
		goto out;
	if (d->save(st, put, &a))
		abort();
	st2 = d->state_new();
	for (i = 0; i < a.rows; i++)
		if (d->load(st2, a.ent[i], 1, a.p + a.at[i], a.len[i]))
			abort();
	if (d->save(st2, put, &b) || b.n != a.n || (a.n && memcmp(a.p, b.p, a.n)))
		abort();
	if (mm_agg_new(&agg, 100))
		abort();
	memset(&c, 0, sizeof(c));
	mm_detector_defaults(d, params);
	c.params = params;
	c.agg = agg;
	call(d, st, &c, "iam.amazonaws.com", "ListUsers", 1714557600000LL);
	call(d, st, &c, "cloudtrail.amazonaws.com", "StopLogging", 1714557660000LL);
	f = mm_agg_get(agg, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", "123456789012",
		       "AKIAEXAMPLE", 11, "", &created);
	if (f) {
		f->severity = 5;
		f->first_seen_ms = f->last_seen_ms = 1714557600000LL;
		f->count = 1;
		snprintf(f->principal_id, sizeof(f->principal_id), "AIDAEXAMPLEALICE00001");
	}
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
