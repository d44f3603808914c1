/* test_hostauth.c - the hostauth detector's attempt table as stored
 * state (detect/hostauth.c): the save/load round trip, a brute force
 * split over two runs (save, a fresh state loads) giving what one run
 * over everything gives, attempts more than the window apart not adding
 * up across runs, forgotten keys, older profile rows still loading and
 * malformed rows refused whole. Events are built directly (the syslog
 * parser has its own tests). */
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/mem.h"
#include "detect/detect.h"
#include "mmtest.h"

#define T_BRUTE "UnauthorizedAccess:Runtime/SSHBruteForce"
#define T_AFTER "InitialAccess:Runtime/SuccessfulLoginAfterBruteForce"
#define T0 1764720000000LL	/* 2025-12-03T00:00:00Z */
#define MIN 60000LL

#define D (&mm_det_hostauth)

struct rows {
	struct mm_buf b;
	int n;
	size_t at[64], len[64];
	char ent[64][128];
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct rows *r = pctx;
	if (r->n >= 64)
		return MM_ETOOBIG;
	r->at[r->n] = r->b.len;
	r->len[r->n] = n;
	snprintf(r->ent[r->n], sizeof(r->ent[0]), "%s", entity);
	r->n++;
	return mm_buf_add(&r->b, blob, n);
}

struct run {
	struct mm_agg *agg;
	struct mm_detect_ctx c;
	double p[MM_PARAMS_MAX];
	uint64_t line;
};

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	CHECK_EQ_INT(mm_agg_new(&r->agg, 1000), 0);
	r->c.agg = r->agg;
	mm_detector_defaults(D, r->p);
	r->c.params = r->p;
}

static void run_free(struct run *r)
{
	mm_agg_free(r->agg);
}

/* One sshd record: fail (1) or accepted (0) from addr at t. */
static void ev(struct run *r, void *st, int fail, const char *addr, int64_t t)
{
	struct mm_event e;
	memset(&e, 0, sizeof(e));
	e.kind = MM_EV_HOST;
	e.loc.file = "auth.log";
	e.loc.line = ++r->line;
	e.u.host.what = fail ? MM_HOST_LOGIN_FAIL : MM_HOST_LOGIN_OK;
	e.u.host.time_ms = t;
	e.u.host.host = mm_str_c("web-1");
	e.u.host.instance_id = mm_str_c("i-0abc");
	e.u.host.program = mm_str_c("sshd");
	e.u.host.user = mm_str_c("root");
	e.u.host.method = mm_str_c("password");
	e.u.host.has_remote = 1;
	e.u.host.rport = 40000;
	CHECK_EQ_INT(mm_ip_parse(addr, strlen(addr), &e.u.host.remote), 0);
	D->on_event(st, &r->c, &e);
}

/* A state loaded from what st saves (st is freed). */
static void *reload(void *st)
{
	struct rows a;
	void *st2 = D->state_new();
	int i;
	memset(&a, 0, sizeof(a));
	mm_buf_init(&a.b, 4u << 20);
	CHECK_EQ_INT(D->save(st, put, &a), 0);
	for (i = 0; i < a.n; i++)
		CHECK_EQ_INT(D->load(st2, a.ent[i], D->state_version, a.b.p + a.at[i], a.len[i]), 0);
	mm_buf_free(&a.b);
	D->state_free(st);
	return st2;
}

/* Per type: summed count, earliest first, latest last, over every agg. */
struct tot {
	uint64_t count;
	int64_t first, last;
};

static void total(struct mm_agg **aggs, int n, const char *type, struct tot *t)
{
	int k;
	size_t i;
	memset(t, 0, sizeof(*t));
	for (k = 0; k < n; k++)
		for (i = 0; i < mm_agg_count(aggs[k]); i++) {
			const struct mm_finding *f = mm_agg_at(aggs[k], i);
			if (strcmp(f->type, type))
				continue;
			if (!t->count || f->first_seen_ms < t->first)
				t->first = f->first_seen_ms;
			if (!t->count || f->last_seen_ms > t->last)
				t->last = f->last_seen_ms;
			t->count += f->count;
		}
}

/* The story: a brute force of 30 one a minute from 10:00 then a login at
 * 10:40 (203.0.113.50); 25 tries at 03:00 and a login at 16:00
 * (198.51.100.77); 12 tries at 08:00 and 12 at 10:30 (192.0.2.99), never
 * 20 in an hour. from/to: event-time minutes of the day to feed. */
static void story(struct run *r, void *st, int from, int to)
{
	int i;
	for (i = 0; i < 25; i++)
		if (3 * 60 >= from && 3 * 60 < to)
			ev(r, st, 1, "198.51.100.77", T0 + 3 * 60 * MIN + i * 30000);
	for (i = 0; i < 12; i++) {
		if (8 * 60 + i >= from && 8 * 60 + i < to)
			ev(r, st, 1, "192.0.2.99", T0 + (8 * 60 + i) * MIN);
		if (630 + i >= from && 630 + i < to)
			ev(r, st, 1, "192.0.2.99", T0 + (630 + i) * MIN);
	}
	for (i = 0; i < 30; i++)
		if (600 + i >= from && 600 + i < to)
			ev(r, st, 1, "203.0.113.50", T0 + (600 + i) * MIN + 5000);
	if (640 >= from && 640 < to)
		ev(r, st, 0, "203.0.113.50", T0 + 640 * MIN);
	if (650 >= from && 650 < to)
		ev(r, st, 0, "192.0.2.99", T0 + 650 * MIN);
	if (960 >= from && 960 < to)
		ev(r, st, 0, "198.51.100.77", T0 + 960 * MIN);
}

MM_TEST(split_over_two_runs_as_one)
{
	struct run whole, r1, r2;
	struct mm_agg *aggs[2];
	struct tot a, b;
	void *sw = D->state_new(), *s1 = D->state_new();
	int cut;

	run_init(&whole);
	story(&whole, sw, 0, 24 * 60);
	D->finish(sw, &whole.c);
	total(&whole.agg, 1, T_BRUTE, &a);
	CHECK_EQ_INT((int)a.count, 55);
	CHECK_EQ_INT((int)mm_agg_count(whole.agg), 4); /* 2 brute forces, 2 logins after */
	/* the cut anywhere: before, inside and after the brute forces */
	for (cut = 0; cut <= 24 * 60; cut += 9) {
		run_init(&r1);
		run_init(&r2);
		story(&r1, s1, 0, cut);
		D->finish(s1, &r1.c);
		s1 = reload(s1);
		story(&r2, s1, cut, 24 * 60);
		D->finish(s1, &r2.c);
		aggs[0] = r1.agg;
		aggs[1] = r2.agg;
		total(aggs, 2, T_BRUTE, &b);
		total(&whole.agg, 1, T_BRUTE, &a);
		CHECK(a.count == b.count && a.first == b.first && a.last == b.last);
		total(aggs, 2, T_AFTER, &b);
		total(&whole.agg, 1, T_AFTER, &a);
		CHECK(a.count == b.count && a.first == b.first && a.last == b.last);
		CHECK_EQ_INT((int)b.count, 2);
		/* a rerun (the file progress hands nothing new): nothing more */
		run_free(&r1);
		run_init(&r1);
		s1 = reload(s1);
		D->finish(s1, &r1.c);
		CHECK_EQ_INT((int)mm_agg_count(r1.agg), 0);
		run_free(&r1);
		run_free(&r2);
		D->state_free(s1);
		s1 = D->state_new();
	}
	D->state_free(s1);
	D->state_free(sw);
	run_free(&whole);
}

MM_TEST(old_attempts_do_not_add_up_across_runs)
{
	struct run r1, r2;
	void *st = D->state_new();
	int i;
	run_init(&r1);
	run_init(&r2);
	/* 15 at 08:00 in one run, 15 at 09:30 in the next: 30, never 20 in
	 * an hour */
	for (i = 0; i < 15; i++)
		ev(&r1, st, 1, "192.0.2.99", T0 + (480 + i) * MIN);
	D->finish(st, &r1.c);
	st = reload(st);
	for (i = 0; i < 15; i++)
		ev(&r2, st, 1, "192.0.2.99", T0 + (570 + i) * MIN);
	D->finish(st, &r2.c);
	CHECK_EQ_INT((int)mm_agg_count(r1.agg) + (int)mm_agg_count(r2.agg), 0);
	/* positive twin: 15 more within the hour after the second run's do */
	run_free(&r2);
	run_init(&r2);
	st = reload(st);
	for (i = 0; i < 5; i++)
		ev(&r2, st, 1, "192.0.2.99", T0 + (600 + i) * MIN);
	D->finish(st, &r2.c);
	CHECK_EQ_INT((int)mm_agg_count(r2.agg), 1);
	CHECK_EQ_INT((int)mm_agg_at(r2.agg, 0)->count, 35);
	D->state_free(st);
	run_free(&r1);
	run_free(&r2);
}

MM_TEST(round_trip_same_bytes_and_bad_rows_refused)
{
	struct run r;
	struct rows a, b;
	void *st = D->state_new(), *st2;
	int i, key = -1;
	size_t n;
	run_init(&r);
	story(&r, st, 0, 620);
	D->finish(st, &r.c);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	mm_buf_init(&a.b, 4u << 20);
	mm_buf_init(&b.b, 4u << 20);
	CHECK_EQ_INT(D->save(st, put, &a), 0);
	CHECK_EQ_INT(a.n, 3); /* three (host, address) keys; no login yet: no profile */
	st2 = D->state_new();
	for (i = 0; i < a.n; i++) {
		CHECK_EQ_INT(D->load(st2, a.ent[i], 3, a.b.p + a.at[i], a.len[i]), 0);
		if (!strcmp(a.ent[i], "i-0abc|203.0.113.50"))
			key = i;
	}
	CHECK(key >= 0);
	CHECK_EQ_INT(D->save(st2, put, &b), 0);
	CHECK(a.b.len == b.b.len); /* hash order may differ: same rows, same bytes in total */
	/* every truncation and trailing bytes refused; nothing is kept */
	D->state_free(st2);
	st2 = D->state_new();
	for (n = 0; n < a.len[key]; n++)
		CHECK(D->load(st2, "x", 3, a.b.p + a.at[key], n) != 0);
	mm_buf_add(&a.b, "\0", 1);
	CHECK(D->load(st2, "x", 3, a.b.p + a.at[key], a.len[key] + 1) != 0);
	CHECK(D->load(st2, "x", 4, a.b.p + a.at[key], a.len[key]) != 0);
	mm_buf_reset(&b.b);
	b.n = 0;
	CHECK_EQ_INT(D->save(st2, put, &b), 0);
	CHECK_EQ_INT(b.n, 0);
	D->state_free(st2);
	D->state_free(st);
	mm_buf_free(&a.b);
	mm_buf_free(&b.b);
	run_free(&r);
}

MM_TEST(profile_rows_of_versions_1_and_2_still_load)
{
	/* first_ms, host "web-1", one user "git" with a /24 (kind 0) */
	static const unsigned char v2[] = {0x00, 0x10, 0x5e, 0x5f, 0x9a, 0x01, 0x00, 0x00,
					   5, 'w', 'e', 'b', '-', '1', 1, 0, 3, 'g', 'i', 't', 1,
					   0, 198, 51, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	struct rows a;
	void *st = D->state_new();
	CHECK_EQ_INT(D->load(st, "i-0abc", 2, v2, sizeof(v2)), 0);
	CHECK_EQ_INT(D->load(st, "i-0abd", 1, v2, sizeof(v2)), 0);
	memset(&a, 0, sizeof(a));
	mm_buf_init(&a.b, 1u << 20);
	CHECK_EQ_INT(D->save(st, put, &a), 0);
	CHECK_EQ_INT(a.n, 2);
	/* saved as version 3: the kind byte, then the same bytes */
	CHECK_EQ_INT((int)a.len[0], (int)sizeof(v2) + 1);
	CHECK_EQ_INT((unsigned char)a.b.p[a.at[0]], 1);
	CHECK(memcmp(a.b.p + a.at[0] + 1, v2, sizeof(v2)) == 0);
	/* a version-2 row given as version 3 is refused (no kind byte) */
	CHECK(D->load(st, "i-0abe", 3, v2, sizeof(v2)) != 0);
	mm_buf_free(&a.b);
	D->state_free(st);
}

MM_TEST(idle_keys_are_forgotten)
{
	struct run r;
	struct rows a;
	void *st = D->state_new();
	run_init(&r);
	/* a lone try at 00:00, another address at 23:59 the next day: the
	 * first is more than success_window_s (a day) behind, forgotten */
	ev(&r, st, 1, "192.0.2.1", T0);
	ev(&r, st, 1, "192.0.2.2", T0 + 23 * 60 * MIN);
	D->finish(st, &r.c);
	memset(&a, 0, sizeof(a));
	mm_buf_init(&a.b, 1u << 20);
	CHECK_EQ_INT(D->save(st, put, &a), 0);
	CHECK_EQ_INT(a.n, 2); /* 23 hours apart: both kept */
	ev(&r, st, 1, "192.0.2.3", T0 + 25 * 60 * MIN);
	D->finish(st, &r.c);
	mm_buf_reset(&a.b);
	a.n = 0;
	CHECK_EQ_INT(D->save(st, put, &a), 0);
	CHECK_EQ_INT(a.n, 2);
	CHECK(strcmp(a.ent[0], "i-0abc|192.0.2.1") && strcmp(a.ent[1], "i-0abc|192.0.2.1"));
	mm_buf_free(&a.b);
	D->state_free(st);
	run_free(&r);
}
