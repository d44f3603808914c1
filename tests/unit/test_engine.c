/* test_engine.c - the pipeline with a detector that keeps per-entity
 * state: exact merge, finish on the merged whole, state persisted in the
 * store and continued by the next pipeline, the same stored result at any
 * flush cadence; and the registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/intern.h"
#include "core/mem.h"
#include "detect/detect.h"
#include "engine/pipeline.h"
#include "mmtest.h"
#include "parse/flowlog.h"
#include "store/store.h"

#define TTYPE "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"
#define MAXE 16
#define THRESHOLD 3

/* Counts flows per ENI; reports an ENI once, when it reaches THRESHOLD. */
struct cstate {
	int n;
	struct {
		char eni[32];
		long count;
		int reported;
		long long at_ms;	/* time of the flow that crossed (latest wins) */
	} e[MAXE];
};

static int slot(struct cstate *s, const char *eni)
{
	int i;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].eni, eni))
			return i;
	if (s->n == MAXE)
		return -1;
	snprintf(s->e[s->n].eni, sizeof(s->e[0].eni), "%s", eni);
	return s->n++;
}

static void *c_new(void) { return mm_calloc(1, sizeof(struct cstate)); }
static void c_free(void *st) { mm_free(st); }

static void c_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	struct cstate *s = st;
	char eni[32];
	int i;
	(void)c;
	mm_str_copy(eni, sizeof(eni), ev->u.flow.eni);
	if ((i = slot(s, eni)) < 0)
		return;
	s->e[i].count++;
	if (ev->u.flow.start * 1000 > s->e[i].at_ms)
		s->e[i].at_ms = ev->u.flow.start * 1000;
}

static int c_merge(void *dst, void *src)
{
	struct cstate *d = dst, *s = src;
	int i, j;
	for (i = 0; i < s->n; i++) {
		if ((j = slot(d, s->e[i].eni)) < 0)
			return MM_ETOOBIG;
		d->e[j].count += s->e[i].count;
		if (s->e[i].at_ms > d->e[j].at_ms)
			d->e[j].at_ms = s->e[i].at_ms;
	}
	return 0;
}

static void c_finish(void *st, struct mm_detect_ctx *c)
{
	struct cstate *s = st;
	int i, latest;
	for (i = 0; i < s->n; i++) {
		struct mm_event ev;
		if (s->e[i].reported || s->e[i].count < THRESHOLD)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.kind = MM_EV_FLOW;
		ev.loc.file = "state";
		mm_emit(c, TTYPE, mm_str_c("123456789012"), mm_str_c(s->e[i].eni), "count", &ev,
			s->e[i].at_ms, s->e[i].at_ms, &latest);
		s->e[i].reported = 1;
	}
}

static int c_save(void *st, int (*put)(void *, const char *, const void *, size_t), void *pctx)
{
	struct cstate *s = st;
	int i, rc;
	for (i = 0; i < s->n; i++) {
		char b[64];
		int n = snprintf(b, sizeof(b), "%ld %d %lld", s->e[i].count, s->e[i].reported,
				 s->e[i].at_ms);
		if ((rc = put(pctx, s->e[i].eni, b, (size_t)n)))
			return rc;
	}
	return 0;
}

static int c_load(void *st, const char *entity, int version, const void *blob, size_t n)
{
	struct cstate *s = st;
	char b[64];
	int i;
	(void)version;
	if (n >= sizeof(b) || (i = slot(s, entity)) < 0)
		return MM_EFORMAT;
	memcpy(b, blob, n);
	b[n] = '\0';
	return sscanf(b, "%ld %d %lld", &s->e[i].count, &s->e[i].reported, &s->e[i].at_ms) == 3
		       ? 0
		       : MM_EFORMAT;
}

static const char *const c_types[] = {TTYPE, NULL};
static const struct mm_detector_def counter = {
	.name = "test-counter",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.state_version = 1,
	.types = c_types,
	.state_new = c_new,
	.state_free = c_free,
	.on_event = c_event,
	.merge = c_merge,
	.finish = c_finish,
	.save = c_save,
	.load = c_load,
};
static const struct mm_detector_def *const dets[] = {&counter, NULL};
/* the same detector with its entities packed into few rows */
static const struct mm_detector_def counter_packed = {
	.name = "test-counter",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.state_version = 1,
	.types = c_types,
	.state_new = c_new,
	.state_free = c_free,
	.on_event = c_event,
	.merge = c_merge,
	.finish = c_finish,
	.save = c_save,
	.load = c_load,
	.state_packed = 1,
};
static const struct mm_detector_def *const packed_dets[] = {&counter_packed, NULL};
static const struct mm_detector_def *const *use_dets = dets;

/* Emits a finding per flow, on the flow's ENI: fills finding tables. */
static void e_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	int latest;
	(void)st;
	mm_emit(c, TTYPE, mm_str_c("123456789012"), ev->u.flow.eni, "echo", ev,
		ev->u.flow.start * 1000, ev->u.flow.end * 1000, &latest);
}
static const struct mm_detector_def echo = {
	.name = "test-echo",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.types = c_types,
	.on_event = e_event,
};
static const struct mm_detector_def *const echo_dets[] = {&echo, NULL};

static void opts(struct mm_pipeline_opts *o, const char *db)
{
	memset(o, 0, sizeof(*o));
	o->db_path = db;
	o->threads = 2;
	o->no_default_lists = 1;
	o->detectors = use_dets;
}

static void flow(struct mm_event *ev, const char *eni, long t)
{
	static char lines[64][256];
	static int k;
	static struct mm_flow_fmt fmt;
	static char mem[1 << 14];
	struct mm_arena a;
	struct mm_err e;
	char *l = lines[k++ % 64];
	mm_flow_fmt_auto(&fmt);
	mm_arena_init(&a, mem, sizeof(mem));
	snprintf(l, 256, "2 123456789012 %s 10.0.0.5 203.0.113.9 40001 443 6 10 840 %ld %ld ACCEPT OK",
		 eni, t, t + 60);
	CHECK_EQ_INT(mm_flow_parse(&fmt, l, strlen(l), &a, ev, &e), 0);
	ev->loc.file = "t.log";
	ev->loc.line = (uint64_t)t;
}

struct rows {
	char buf[4096];
};

static int row_cb(void *ctx, const struct mm_finding_row *r)
{
	struct rows *x = ctx;
	size_t n = strlen(x->buf);
	snprintf(x->buf + n, sizeof(x->buf) - n, "%s %s %llu %lld|", r->type, r->resource,
		 (unsigned long long)r->count, (long long)r->last_seen_ms);
	return 0;
}

static void stored(const char *db, struct rows *out)
{
	struct mm_store *st;
	struct mm_finding_filter f;
	struct mm_err e;
	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	CHECK_EQ_INT(mm_store_open(&st, db, &e), 0);
	CHECK(mm_store_findings(st, &f, row_cb, out, &e) >= 0);
	mm_store_close(st);
}

/* Feed eni-a 4 flows and eni-b 2 flows, flushing every `every` events. */
static void run(const char *db, int every)
{
	struct mm_pipeline *p;
	struct mm_pipeline_opts o;
	struct mm_err e;
	const char *enis[6] = {"eni-a", "eni-b", "eni-a", "eni-a", "eni-b", "eni-a"};
	int i;
	opts(&o, db);
	CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
	for (i = 0; i < 6; i++) {
		struct mm_event ev;
		flow(&ev, enis[i], 1714557600 + 60 * (6 - i)); /* newest first */
		CHECK_EQ_INT(mm_pipeline_feed_event(p, &ev), 0);
		if (every && (i + 1) % every == 0)
			CHECK_EQ_INT(mm_pipeline_flush(p, &e), 0);
	}
	CHECK_EQ_INT(mm_pipeline_flush(p, &e), 0);
	mm_pipeline_close(p);
}

static char *tmpdb(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/mm_engine_XXXXXX");
	CHECK(mkdtemp(path) != NULL);
	strcat(path, "/t.db");
	return path;
}

MM_TEST(state_detector_same_result_any_flush_cadence)
{
	char a[64], b[64], c[64];
	struct rows ra, rb, rc;
	snprintf(a, sizeof(a), "%s", tmpdb());
	snprintf(b, sizeof(b), "%s", tmpdb());
	snprintf(c, sizeof(c), "%s", tmpdb());
	run(a, 0);
	run(b, 1);
	run(c, 4);
	stored(a, &ra);
	stored(b, &rb);
	stored(c, &rc);
	/* eni-a crossed the threshold (4 flows), eni-b did not (2) */
	CHECK(strstr(ra.buf, "eni-a") != NULL);
	CHECK(strstr(ra.buf, "eni-b") == NULL);
	CHECK_EQ_STR(rb.buf, ra.buf);
	CHECK_EQ_STR(rc.buf, ra.buf);
}

MM_TEST(state_persists_and_continues_in_the_next_run)
{
	char a[64];
	struct rows r;
	struct mm_pipeline *p;
	struct mm_pipeline_opts o;
	struct mm_err e;
	struct mm_event ev;
	snprintf(a, sizeof(a), "%s", tmpdb());
	run(a, 0); /* eni-b has 2 of 3 */
	stored(a, &r);
	CHECK(strstr(r.buf, "eni-b") == NULL);
	opts(&o, a);
	CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
	flow(&ev, "eni-b", 1714560000);
	mm_pipeline_feed_event(p, &ev);
	CHECK_EQ_INT(mm_pipeline_flush(p, &e), 0);
	mm_pipeline_close(p);
	stored(a, &r);
	CHECK(strstr(r.buf, "eni-b") != NULL); /* the third flow, a run later */
	/* and eni-a, reported before, is not reported again */
	CHECK(strstr(strstr(r.buf, "eni-a") + 1, "eni-a") == NULL);
}

static int count_row(void *ctx, const char *entity, int version, const void *blob, size_t n)
{
	int *k = ctx;
	(void)version;
	(void)blob;
	(void)n;
	k[strncmp(entity, "#pack-", 6) ? 0 : 1]++;
	return 0;
}

/* rows of test-counter: [0] one entity each, [1] packs */
static void state_rows(const char *db, int k[2])
{
	struct mm_store *st;
	struct mm_err e;
	k[0] = k[1] = 0;
	CHECK_EQ_INT(mm_store_open(&st, db, &e), 0);
	CHECK_EQ_INT(mm_store_state_each(st, "test-counter", count_row, k, &e), 0);
	mm_store_close(st);
}

/* A packed detector: the same findings at any flush cadence; rows of
 * one entity each (a database written before packing) load, and are
 * replaced by one pack at the next save, which the run after continues. */
MM_TEST(packed_state_same_result_and_loads_entity_rows)
{
	char a[64], b[64], c[64];
	struct rows ra, rb, rc;
	struct mm_pipeline *p;
	struct mm_pipeline_opts o;
	struct mm_err e;
	struct mm_event ev;
	int k[2];

	snprintf(a, sizeof(a), "%s", tmpdb());
	snprintf(b, sizeof(b), "%s", tmpdb());
	snprintf(c, sizeof(c), "%s", tmpdb());
	run(a, 0);
	use_dets = packed_dets;
	run(b, 0);
	run(c, 1);
	stored(a, &ra);
	stored(b, &rb);
	stored(c, &rc);
	CHECK_EQ_STR(rb.buf, ra.buf);
	CHECK_EQ_STR(rc.buf, ra.buf);
	state_rows(b, k);
	CHECK_EQ_INT(k[0], 0);
	CHECK_EQ_INT(k[1], 1);
	/* a: written unpacked, eni-b at 2 of 3; continued packed */
	state_rows(a, k);
	CHECK_EQ_INT(k[0], 2);
	CHECK_EQ_INT(k[1], 0);
	opts(&o, a);
	CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
	flow(&ev, "eni-b", 1714560000);
	mm_pipeline_feed_event(p, &ev);
	CHECK_EQ_INT(mm_pipeline_flush(p, &e), 0);
	mm_pipeline_close(p);
	stored(a, &ra);
	CHECK(strstr(ra.buf, "eni-b") != NULL);
	state_rows(a, k);
	CHECK_EQ_INT(k[0], 0);
	CHECK_EQ_INT(k[1], 1);
	/* and a pack continues: b's eni-b was at 2 of 3 */
	stored(b, &rb);
	CHECK(strstr(rb.buf, "eni-b") == NULL);
	opts(&o, b);
	CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
	flow(&ev, "eni-b", 1714560000);
	mm_pipeline_feed_event(p, &ev);
	CHECK_EQ_INT(mm_pipeline_flush(p, &e), 0);
	mm_pipeline_close(p);
	stored(b, &rb);
	CHECK_EQ_STR(rb.buf, ra.buf);
	use_dets = dets;
}

MM_TEST(unflushed_batch_is_not_half_kept)
{
	char a[64];
	struct rows r;
	struct mm_pipeline *p;
	struct mm_pipeline_opts o;
	struct mm_err e;
	int i;
	snprintf(a, sizeof(a), "%s", tmpdb());
	opts(&o, a);
	o.detectors = echo_dets;
	o.max_findings = 1; /* spill at once into the open transaction */
	CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
	for (i = 0; i < 4; i++) {
		struct mm_event ev;
		char eni[16];
		snprintf(eni, sizeof(eni), "eni-c%d", i);
		flow(&ev, eni, 1714557600 + i);
		mm_pipeline_feed_event(p, &ev);
	}
	CHECK(mm_pipeline_result(p)->spills >= 3);
	mm_pipeline_close(p); /* a crash before the flush */
	stored(a, &r);
	CHECK_EQ_STR(r.buf, "");
	/* the same with a flush: all four stored, none dropped */
	CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
	for (i = 0; i < 4; i++) {
		struct mm_event ev;
		char eni[16];
		snprintf(eni, sizeof(eni), "eni-c%d", i);
		flow(&ev, eni, 1714557600 + i);
		mm_pipeline_feed_event(p, &ev);
	}
	CHECK_EQ_INT(mm_pipeline_flush(p, &e), 0);
	CHECK_EQ_INT(mm_pipeline_result(p)->findings_dropped, 0);
	mm_pipeline_close(p);
	stored(a, &r);
	CHECK(strstr(r.buf, "eni-c0") && strstr(r.buf, "eni-c3"));
}

MM_TEST(second_pipeline_on_a_database_is_refused)
{
	char a[64];
	struct mm_pipeline *p, *q;
	struct mm_pipeline_opts o;
	struct mm_err e;
	snprintf(a, sizeof(a), "%s", tmpdb());
	opts(&o, a);
	CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
	if (fork() == 0) {
		/* flock is per open file: another process is refused */
		int rc = mm_pipeline_open(&q, &o, &e);
		_exit(rc == MM_EBUSY && strstr(e.msg, "in use") ? 0 : 1);
	}
	{
		int status = 0;
		wait(&status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	mm_pipeline_close(p);
}

MM_TEST(registry_names_every_type_once)
{
	int i, j, k, l;
	CHECK(mm_detector_by_name("threatintel") == &mm_det_threatintel);
	CHECK(mm_detector_by_name("rootcred") == &mm_det_rootcred);
	CHECK(mm_detector_by_name("nope") == NULL);
	for (i = 0; mm_detectors[i]; i++) {
		for (j = 0; mm_detectors[i]->types[j]; j++) {
			CHECK(mm_ftype_get(mm_detectors[i]->types[j]) != NULL);
			for (k = 0; mm_detectors[k]; k++)
				for (l = 0; mm_detectors[k]->types[l]; l++)
					if (k != i || l != j)
						CHECK(strcmp(mm_detectors[i]->types[j],
							     mm_detectors[k]->types[l]) != 0);
		}
	}
}

/* The raw record travels with every event: a rule engine reads any field. */
static char raw_seen[4][512];
static int nraw;
static void r_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	(void)st;
	(void)c;
	if (nraw < 4)
		snprintf(raw_seen[nraw++], sizeof(raw_seen[0]), "%.*s", (int)ev->raw.n, ev->raw.p);
}
static const struct mm_detector_def rawdet = {
	.name = "test-raw",
	.kinds = MM_KIND_BIT(MM_EV_FLOW) | MM_KIND_BIT(MM_EV_API),
	.types = c_types,
	.on_event = r_event,
};
static const struct mm_detector_def *const raw_dets[] = {&rawdet, NULL};

MM_TEST(raw_record_reaches_detectors)
{
	char dir[64], flow[96], ct[96], db[96];
	const char *paths[2];
	struct mm_pipeline *p;
	struct mm_pipeline_opts o;
	struct mm_err e;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/mm_raw_XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(flow, sizeof(flow), "%s/a.log", dir);
	snprintf(ct, sizeof(ct), "%s/b.json", dir);
	snprintf(db, sizeof(db), "%s/t.db", dir);
	f = fopen(flow, "w");
	fputs("2 123456789012 eni-0abc 10.0.0.5 203.0.113.9 40001 443 6 10 840 1714557600 "
	      "1714557660 ACCEPT OK\n", f);
	fclose(f);
	f = fopen(ct, "w");
	fputs("{\"Records\":[{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\"},"
	      "\"eventTime\":\"2024-05-01T10:00:00Z\",\"eventSource\":\"s3.amazonaws.com\","
	      "\"eventName\":\"GetObject\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"1.2.3.4\","
	      "\"custom\":{\"deep\":[1,2]}},\n {\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":"
	      "\"Root\"},\"eventTime\":\"2024-05-01T10:00:01Z\",\"eventSource\":\"s3.amazonaws.com\","
	      "\"eventName\":\"PutObject\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"1.2.3.4\"}]}",
	      f);
	fclose(f);
	memset(&o, 0, sizeof(o));
	o.db_path = db;
	o.threads = 1;
	o.no_default_lists = 1;
	o.detectors = raw_dets;
	nraw = 0;
	paths[0] = flow;
	paths[1] = ct;
	CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
	CHECK_EQ_INT(mm_pipeline_feed_files(p, paths, NULL, 2, &e), 0);
	CHECK_EQ_INT(mm_pipeline_flush(p, &e), 0);
	mm_pipeline_close(p);
	CHECK_EQ_INT(nraw, 3);
	CHECK_EQ_STR(raw_seen[0], "2 123456789012 eni-0abc 10.0.0.5 203.0.113.9 40001 443 6 10 840 "
				  "1714557600 1714557660 ACCEPT OK");
	CHECK(raw_seen[1][0] == '{' && strstr(raw_seen[1], "\"custom\":{\"deep\":[1,2]}}") != NULL);
	CHECK(strstr(raw_seen[1], "PutObject") == NULL);
	CHECK(raw_seen[2][0] == '{' && raw_seen[2][strlen(raw_seen[2]) - 1] == '}');
}

/* ---- the pipelined writer (a flush of 64 findings or more, 2 threads)
 * stores what the one-thread writer stores: counts merged with what a
 * run before stored, and two findings that reach one id only as they
 * are written (a host's account filled in from host_account) merged,
 * not one of them lost. */
#define RTYPE "Execution:Runtime/SigmaRule"
static void t_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	char inst[32];
	int latest;
	long t = (long)ev->u.flow.start;
	(void)st;
	/* 90 instances; instance 7 twice a record: without an account and
	 * with the one host_account gives */
	snprintf(inst, sizeof(inst), "i-%017ld", t % 90);
	mm_emit(c, RTYPE, mm_str_c(t % 2 ? "" : "123456789012"), mm_str_c(inst), "twin", ev,
		t * 1000, t * 1000, &latest);
	if (t % 90 == 7)
		mm_emit(c, RTYPE, mm_str_c(t % 2 ? "123456789012" : ""), mm_str_c(inst), "twin", ev,
			t * 1000, t * 1000, &latest);
}
static const char *const t_types[] = {RTYPE, NULL};
static const struct mm_detector_def twin = {
	.name = "test-twin",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.types = t_types,
	.on_event = t_event,
};
static const struct mm_detector_def *const twin_dets[] = {&twin, NULL};

struct bigrows {
	char buf[1 << 15];
	long total;
};

static int bigrow_cb(void *ctx, const struct mm_finding_row *r)
{
	struct bigrows *x = ctx;
	size_t n = strlen(x->buf);
	snprintf(x->buf + n, sizeof(x->buf) - n, "%s %llu|", r->resource, (unsigned long long)r->count);
	x->total += (long)r->count;
	return 0;
}

static void twin_run(const char *db, int threads, int runs)
{
	int k, i;
	for (k = 0; k < runs; k++) {
		struct mm_pipeline *p;
		struct mm_pipeline_opts o;
		struct mm_err e;
		opts(&o, db);
		o.threads = threads;
		o.detectors = twin_dets;
		o.host_account = "123456789012";
		CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
		for (i = 0; i < 400; i++) {
			struct mm_event ev;
			flow(&ev, "eni-a", 1714557600 + 1000 * k + i);
			CHECK_EQ_INT(mm_pipeline_feed_event(p, &ev), 0);
		}
		CHECK_EQ_INT(mm_pipeline_flush(p, &e), 0);
		mm_pipeline_close(p);
	}
}

MM_TEST(pipelined_writer_stores_what_one_thread_stores)
{
	static struct bigrows r1, r2;
	char a[64], b[64];
	struct mm_store *st;
	struct mm_finding_filter f;
	struct mm_err e;
	snprintf(a, sizeof(a), "%s", tmpdb());
	snprintf(b, sizeof(b), "%s", tmpdb());
	twin_run(a, 1, 2);
	twin_run(b, 2, 2);
	memset(&f, 0, sizeof(f));
	CHECK_EQ_INT(mm_store_open(&st, a, &e), 0);
	CHECK(mm_store_findings(st, &f, bigrow_cb, &r1, &e) >= 0);
	mm_store_close(st);
	CHECK_EQ_INT(mm_store_open(&st, b, &e), 0);
	CHECK(mm_store_findings(st, &f, bigrow_cb, &r2, &e) >= 0);
	mm_store_close(st);
	{
		/* 90 findings: 800 records, and instance 7's doubles */
		long want = 0, t;
		int k;
		for (k = 0; k < 2; k++)
			for (t = 1714557600 + 1000 * k; t < 1714557600 + 1000 * k + 400; t++)
				want += t % 90 == 7 ? 2 : 1;
		CHECK_EQ_INT((int)r1.total, (int)want);
	}
	CHECK_EQ_INT((int)r2.total, (int)r1.total);
	CHECK_EQ_STR(r2.buf, r1.buf);
	CHECK(strstr(r1.buf, "i-00000000000000007 ") != NULL);
}
