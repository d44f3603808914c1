/* fuzz_sequence_state.c - libFuzzer target for the attack-sequence
 * detector's state loader (src/detect/sequence.c, one row per shard of
 * principals; a row without principals - "MMSQ", version, shard, 0 - is
 * 10 bytes and holds nothing). Before finish, a chain of calls and a
 * member finding of the principal the seeds use are added, so finish has
 * work to do. What is checked: state_harness.h. */
#include <stdio.h>

#include "state_harness.h"

static void call(void *st, struct mm_detect_ctx *c, const char *src, const char *name, int64_t t)
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
	mm_det_sequence.on_event(st, c, &ev);
}

static void chain(void *st, struct mm_detect_ctx *c, double *p)
{
	struct mm_finding *f;
	int created;
	(void)p;
	call(st, c, "iam.amazonaws.com", "ListUsers", 1714557600000LL);
	call(st, c, "cloudtrail.amazonaws.com", "StopLogging", 1714557660000LL);
	f = mm_agg_get(c->agg, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", "123456789012", "AKIAEXAMPLE",
		       11, "", &created);
	if (f) {
		f->severity = 5;
		f->first_seen_ms = f->last_seen_ms = 1714557600000LL;
		f->count = 1;
		snprintf(f->principal_id, sizeof(f->principal_id), "AIDAEXAMPLEALICE00001");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state_opts o = { .d = &mm_det_sequence, .entity = "shard-00", .empty_len = 10,
				   .before_finish = chain };
	fz_state_run(&o, data, size);
	return 0;
}
