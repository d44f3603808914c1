/* test_brute.c - the brute force detector (src/detect/brute.c): each
 * type and role, each threshold's edge, the look-alikes that must not
 * fire, save/load (two scans = one), merge order, bounds and malformed
 * state blobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "finding/output.h"
#include "detect/detect.h"
#include "mmtest.h"
#include "parse/flowlog.h"

#define T0 1714557600 /* 2024-05-01T10:00:00Z */
#define ENI "eni-0aaaaaaaaaaaaaaa1"
#define LOCAL "10.0.1.10"

enum { P_MIN_ATTEMPTS, P_WINDOW, P_MAX_PACKETS, P_MAX_BYTES, P_LATE, P_MAX_PAIRS };

struct fixture {
	struct mm_intel *in;
	struct mm_agg *agg;
	struct mm_detect_ctx d;
	struct mm_file_ctx fc;
	double p[MM_PARAMS_MAX];
	void *st;
	char mem[1 << 16];
	struct mm_arena scratch;
	struct mm_flow_fmt fmt;
	uint64_t line;
};

static const struct mm_detector_def *det(void)
{
	return &mm_det_brute;
}

static void setup(struct fixture *fx)
{
	struct mm_err e;
	const char *t = "192.0.2.200\n";
	memset(fx, 0, sizeof(*fx));
	CHECK_EQ_INT(mm_intel_new(&fx->in), 0);
	CHECK_EQ_INT(mm_intel_load_trusted_mem(fx->in, "trusted.txt", t, strlen(t), &e), 0);
	CHECK_EQ_INT(mm_intel_build(fx->in, &e), 0);
	CHECK_EQ_INT(mm_agg_new(&fx->agg, 1000), 0);
	fx->d.intel = fx->in;
	fx->d.agg = fx->agg;
	mm_file_ctx_from_path(&fx->fc, "t/AWSLogs/111122223333/vpcflowlogs/us-east-1/x.log");
	fx->d.file = &fx->fc;
	mm_detector_defaults(det(), fx->p);
	fx->d.params = fx->p;
	mm_arena_init(&fx->scratch, fx->mem, sizeof(fx->mem));
	mm_flow_fmt_auto(&fx->fmt);
	fx->st = det()->state_new();
	CHECK(fx->st != NULL);
}

static void teardown(struct fixture *fx)
{
	det()->state_free(fx->st);
	mm_agg_free(fx->agg);
	mm_intel_free(fx->in);
}

/* One v2 record into state st. */
static void rec_into(struct fixture *fx, void *st, const char *eni, const char *src,
		     const char *dst, int sport, int dport, int pk, long by, long t,
		     const char *act)
{
	char line[512];
	struct mm_event ev;
	struct mm_err e;
	snprintf(line, sizeof(line), "2 111122223333 %s %s %s %d %d 6 %d %ld %ld %ld %s OK", eni,
		 src, dst, sport, dport, pk, by, t, t + 2, act);
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&fx->scratch);
	CHECK_EQ_INT(mm_flow_parse(&fx->fmt, line, strlen(line), &fx->scratch, &ev, &e), 0);
	ev.loc.file = "t.log";
	ev.loc.line = ++fx->line;
	det()->on_event(st, &fx->d, &ev);
}

/* An attempt: a short client->server record from remote to the instance. */
static void attempt_in(struct fixture *fx, const char *remote, int port, long t, int k)
{
	rec_into(fx, fx->st, ENI, remote, LOCAL, 40000 + k, port, 14, 2900, t, "ACCEPT");
}

static void finish(struct fixture *fx, void *st)
{
	det()->finish(st, &fx->d);
}

static size_t count_type(struct fixture *fx, const char *t)
{
	size_t i, n = 0;
	for (i = 0; i < mm_agg_count(fx->agg); i++)
		if (!t || strcmp(mm_agg_at(fx->agg, i)->type, t) == 0)
			n++;
	return n;
}

static struct mm_finding *find(struct fixture *fx, const char *t)
{
	struct mm_finding *hit = NULL;
	size_t i;
	for (i = 0; i < mm_agg_count(fx->agg); i++) {
		struct mm_finding *f = mm_agg_at(fx->agg, i);
		if (strcmp(f->type, t) == 0) {
			CHECK(hit == NULL);
			hit = f;
		}
	}
	return hit;
}

#define SSH "UnauthorizedAccess:EC2/SSHBruteForce"
#define RDP "UnauthorizedAccess:EC2/RDPBruteForce"
#define WINRM "Impact:EC2/WinRMBruteForce"

MM_TEST(ssh_target_fires_low_at_threshold)
{
	struct fixture fx;
	struct mm_finding *f;
	char ip[MM_IP_STRLEN];
	int k;
	setup(&fx);
	for (k = 0; k < 20; k++)
		attempt_in(&fx, "203.0.113.50", 22, T0 + k * 25, k);
	/* the server's replies are the same connections: not counted */
	for (k = 0; k < 40; k++)
		rec_into(&fx, fx.st, ENI, LOCAL, "203.0.113.50", 22, 40000 + k, 12, 3400, T0, "ACCEPT");
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, NULL), 1);
	f = find(&fx, SSH);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->count, 20);
		CHECK_EQ_INT(f->role, MM_ROLE_TARGET);
		CHECK(f->severity == 2.0);
		CHECK_EQ_INT(f->direction, MM_DIR_INBOUND);
		CHECK_EQ_INT(f->local_port, 22);
		CHECK_EQ_INT(f->remote_port, 40019);
		CHECK_EQ_STR(mm_ip_format(&f->remote_ip, ip), "203.0.113.50");
		CHECK_EQ_STR(mm_ip_format(&f->local_ip, ip), LOCAL);
		CHECK_EQ_STR(f->eni, ENI);
		CHECK_EQ_STR(f->account, "111122223333");
		CHECK_EQ_INT(f->first_seen_ms, (int64_t)T0 * 1000);
		CHECK_EQ_INT(f->last_seen_ms, (int64_t)(T0 + 19 * 25) * 1000);
		CHECK(f->nevidence >= 1);
		CHECK_EQ_STR(f->disc, "target 203.0.113.50");
	}
	/* a second finish with nothing new reports nothing again */
	mm_agg_clear(fx.agg);
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, NULL), 0);
	teardown(&fx);
}

MM_TEST(nineteen_attempts_do_not_fire)
{
	struct fixture fx;
	int k;
	setup(&fx);
	for (k = 0; k < 19; k++)
		attempt_in(&fx, "203.0.113.50", 22, T0 + k * 25, k);
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, NULL), 0);
	/* the 20th, later, within the window: now it does, all 20 counted */
	attempt_in(&fx, "203.0.113.50", 22, T0 + 500, 99);
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, SSH), 1);
	if (find(&fx, SSH))
		CHECK_EQ_INT(find(&fx, SSH)->count, 20);
	teardown(&fx);
}

/* 20 attempts within minutes m..m+9 fire; the same 20 over m..m+10 (half
 * in the first minute, half in the eleventh) do not. */
MM_TEST(window_edge)
{
	struct fixture fx;
	int k;
	setup(&fx);
	for (k = 0; k < 10; k++)
		attempt_in(&fx, "203.0.113.51", 22, T0 + k, k);
	for (k = 0; k < 10; k++)
		attempt_in(&fx, "203.0.113.51", 22, T0 + 9 * 60 + 59 - k, 10 + k);
	for (k = 0; k < 10; k++)
		attempt_in(&fx, "203.0.113.52", 22, T0 + k, k);
	for (k = 0; k < 10; k++)
		attempt_in(&fx, "203.0.113.52", 22, T0 + 10 * 60 + k, 10 + k);
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, SSH), 1);
	if (find(&fx, SSH))
		CHECK_EQ_STR(find(&fx, SSH)->disc, "target 203.0.113.51");
	teardown(&fx);
}

/* window = 1200 s: the 20 attempts over eleven minutes now fire. */
MM_TEST(params_change_window_and_threshold)
{
	struct fixture fx;
	int k;
	setup(&fx);
	fx.p[P_WINDOW] = 1200;
	for (k = 0; k < 10; k++)
		attempt_in(&fx, "203.0.113.52", 22, T0 + k, k);
	for (k = 0; k < 10; k++)
		attempt_in(&fx, "203.0.113.52", 22, T0 + 10 * 60 + k, 10 + k);
	/* min_attempts = 5: five RDP tries fire, four do not */
	fx.p[P_MIN_ATTEMPTS] = 5;
	for (k = 0; k < 5; k++)
		attempt_in(&fx, "203.0.113.60", 3389, T0 + k, k);
	for (k = 0; k < 4; k++)
		attempt_in(&fx, "203.0.113.61", 3389, T0 + k, k);
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, SSH), 1);
	CHECK_EQ_INT(count_type(&fx, RDP), 1);
	teardown(&fx);
}

MM_TEST(rdp_actor_fires_high)
{
	struct fixture fx;
	struct mm_finding *f;
	char ip[MM_IP_STRLEN];
	int k;
	setup(&fx);
	for (k = 0; k < 25; k++) {
		rec_into(&fx, fx.st, ENI, LOCAL, "198.51.100.99", 49200 + k, 3389, 18, 4200,
			 T0 + k * 10, "ACCEPT");
		rec_into(&fx, fx.st, ENI, "198.51.100.99", LOCAL, 3389, 49200 + k, 16, 5100,
			 T0 + k * 10, "ACCEPT");
	}
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, NULL), 1);
	f = find(&fx, RDP);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->count, 25);
		CHECK_EQ_INT(f->role, MM_ROLE_ACTOR);
		CHECK(f->severity == 8.0);
		CHECK_EQ_INT(f->direction, MM_DIR_OUTBOUND);
		CHECK_EQ_INT(f->remote_port, 3389);
		CHECK_EQ_INT(f->local_port, 49224);
		CHECK_EQ_STR(mm_ip_format(&f->remote_ip, ip), "198.51.100.99");
		CHECK_EQ_STR(f->disc, "actor 198.51.100.99");
	}
	teardown(&fx);
}

/* Both roles on one instance and one remote are two findings. */
MM_TEST(roles_are_separate_findings)
{
	struct fixture fx;
	int k;
	setup(&fx);
	for (k = 0; k < 20; k++) {
		attempt_in(&fx, "198.51.100.99", 22, T0 + k, k);
		rec_into(&fx, fx.st, ENI, LOCAL, "198.51.100.99", 50000 + k, 22, 14, 2900, T0 + k,
			 "ACCEPT");
	}
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, SSH), 2);
	teardown(&fx);
}

/* WinRM on 5985 and 5986 is one type; rejected SYNs count (blocked). */
MM_TEST(winrm_both_ports_and_rejected)
{
	struct fixture fx;
	struct mm_finding *f;
	int k;
	setup(&fx);
	for (k = 0; k < 10; k++)
		rec_into(&fx, fx.st, ENI, "203.0.113.77", LOCAL, 61000 + k, 5985, 2, 120, T0 + k * 8,
			 "REJECT");
	for (k = 0; k < 12; k++)
		rec_into(&fx, fx.st, ENI, "203.0.113.77", LOCAL, 62000 + k, 5986, 2, 120,
			 T0 + 100 + k * 8, "REJECT");
	finish(&fx, fx.st);
	/* each port is its own pair: 10 and 12, neither reaches 20 */
	CHECK_EQ_INT(count_type(&fx, NULL), 0);
	for (k = 0; k < 10; k++)
		rec_into(&fx, fx.st, ENI, "203.0.113.77", LOCAL, 63000 + k, 5986, 2, 120,
			 T0 + 200 + k, "REJECT");
	finish(&fx, fx.st);
	f = find(&fx, WINRM);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->count, 22);
		CHECK_EQ_INT(f->role, MM_ROLE_TARGET);
		CHECK_EQ_INT(f->blocked, 1);
		CHECK_EQ_INT(f->local_port, 5986);
	}
	teardown(&fx);
}

/* Look-alikes: sessions, private remotes, trusted, other ports, a
 * client->server record that is really a reply (source port 22). */
MM_TEST(lookalikes_do_not_fire)
{
	struct fixture fx;
	int k;
	setup(&fx);
	for (k = 0; k < 30; k++) {
		/* large: an scp or interactive session, not an attempt */
		rec_into(&fx, fx.st, ENI, "198.51.100.55", LOCAL, 44000 + k, 22, 900, 1200000,
			 T0 + k * 10, "ACCEPT");
		/* one over max_packets, under max_bytes */
		rec_into(&fx, fx.st, ENI, "198.51.100.56", LOCAL, 44000 + k, 22, 101, 9000,
			 T0 + k * 10, "ACCEPT");
		/* one over max_bytes */
		rec_into(&fx, fx.st, ENI, "198.51.100.57", LOCAL, 44000 + k, 22, 20, 20001,
			 T0 + k * 10, "ACCEPT");
		/* private remote: in-VPC automation */
		rec_into(&fx, fx.st, ENI, "10.0.0.5", LOCAL, 43000 + k, 5985, 10, 2500, T0 + k,
			 "ACCEPT");
		/* CGNAT remote is not public either */
		rec_into(&fx, fx.st, ENI, "100.64.1.1", LOCAL, 43000 + k, 22, 10, 2500, T0 + k,
			 "ACCEPT");
		/* trusted scanner */
		attempt_in(&fx, "192.0.2.200", 22, T0 + k, k);
		/* another port */
		attempt_in(&fx, "203.0.113.90", 2222, T0 + k, k);
		/* privileged source port: not a client's */
		rec_into(&fx, fx.st, ENI, "203.0.113.91", LOCAL, 1000 - k, 22, 10, 2500, T0 + k,
			 "ACCEPT");
	}
	/* an interactive session: one 5-tuple logged every minute for an hour */
	for (k = 0; k < 60; k++)
		rec_into(&fx, fx.st, ENI, "198.51.100.7", LOCAL, 52000, 22, k ? 60 : 35,
			 k ? 4000 : 5200, T0 + k * 60, "ACCEPT");
	/* a bastion: 40 users from 40 addresses, one short session each */
	for (k = 0; k < 40; k++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "198.51.100.%d", 100 + k);
		attempt_in(&fx, ip, 22, T0 + k * 14, k);
	}
	/* the positive control: at exactly max_packets and max_bytes */
	for (k = 0; k < 20; k++)
		rec_into(&fx, fx.st, ENI, "198.51.100.58", LOCAL, 44000 + k, 22, 100, 20000, T0 + k,
			 "ACCEPT");
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, NULL), 1);
	if (find(&fx, SSH))
		CHECK_EQ_STR(find(&fx, SSH)->disc, "target 198.51.100.58");
	teardown(&fx);
}

/* An attack longer than the per-pair bucket bound (64 minutes) is counted
 * whole: retired minutes that were in the attack are kept as pending. */
MM_TEST(long_attack_beyond_bucket_bound)
{
	struct fixture fx;
	int k;
	setup(&fx);
	for (k = 0; k < 200 * 6; k++)
		attempt_in(&fx, "203.0.113.50", 22, T0 + k * 10, k % 20000);
	finish(&fx, fx.st);
	CHECK(find(&fx, SSH) != NULL);
	if (find(&fx, SSH)) {
		CHECK_EQ_INT(find(&fx, SSH)->count, 1200);
		CHECK_EQ_INT(find(&fx, SSH)->first_seen_ms, (int64_t)T0 * 1000);
		CHECK_EQ_INT(find(&fx, SSH)->last_seen_ms, (int64_t)(T0 + 1199 * 10) * 1000);
	}
	teardown(&fx);
}

/* max_pairs bounds the table. Past it the kept pairs are those with the
 * smallest key hashes (bottom-k), so the same records in any order or
 * split among workers give the same findings; kept attackers still fire,
 * and under the bound every one does. */
struct brec {
	char ip[32];
	long t;
};

static int bound_recs(struct brec *r)
{
	int n = 0, a, k;
	for (a = 1; a <= 60; a++)
		for (k = 0; k < 20; k++) {
			snprintf(r[n].ip, sizeof(r[n].ip), "203.0.113.%d", a);
			r[n++].t = T0 + k * 7 + a;
		}
	for (k = 0; k < 3000; k++) {
		snprintf(r[n].ip, sizeof(r[n].ip), "198.20.%d.%d", (k >> 8) & 255, k & 255);
		r[n++].t = T0 + k % 600;
	}
	return n;
}

static void bound_feed(struct fixture *fx, void *st, const struct brec *r, int k)
{
	fx->line = (uint64_t)k;
	rec_into(fx, st, ENI, r[k].ip, LOCAL, 40000 + k % 20000, 22, 14, 2900, r[k].t, "ACCEPT");
}

/* Same findings (type, discriminator, count, first/last seen) in a and b. */
static void same_findings(struct fixture *a, struct fixture *b)
{
	size_t i, j;
	CHECK_EQ_INT(mm_agg_count(a->agg), mm_agg_count(b->agg));
	for (i = 0; i < mm_agg_count(a->agg); i++) {
		struct mm_finding *f = mm_agg_at(a->agg, i), *g = NULL;
		for (j = 0; j < mm_agg_count(b->agg); j++)
			if (!strcmp(mm_agg_at(b->agg, j)->type, f->type) &&
			    !strcmp(mm_agg_at(b->agg, j)->disc, f->disc))
				g = mm_agg_at(b->agg, j);
		CHECK(g != NULL);
		if (!g)
			continue;
		CHECK_EQ_INT(f->count, g->count);
		CHECK_EQ_INT(f->first_seen_ms, g->first_seen_ms);
		CHECK_EQ_INT(f->last_seen_ms, g->last_seen_ms);
	}
}

MM_TEST(pair_bound)
{
	static struct brec r[5000];
	struct fixture a, b, m, all;
	void *w1, *w2;
	int n = bound_recs(r), k;

	setup(&a);
	setup(&b);
	setup(&m);
	setup(&all);
	a.p[P_MAX_PAIRS] = b.p[P_MAX_PAIRS] = m.p[P_MAX_PAIRS] = 100;
	for (k = 0; k < n; k++)
		bound_feed(&a, a.st, r, k);
	for (k = n - 1; k >= 0; k--)
		bound_feed(&b, b.st, r, k);
	w1 = det()->state_new();
	w2 = det()->state_new();
	for (k = 0; k < n; k++)
		if (k % 3)
			bound_feed(&m, w1, r, k);
	for (k = n - 1; k >= 0; k--)
		if (!(k % 3))
			bound_feed(&m, w2, r, k);
	CHECK_EQ_INT(det()->merge(m.st, w2), 0);
	CHECK_EQ_INT(det()->merge(m.st, w1), 0);
	finish(&a, a.st);
	finish(&b, b.st);
	finish(&m, m.st);
	CHECK(count_type(&a, SSH) > 0 && count_type(&a, SSH) < 60);
	same_findings(&a, &b);
	same_findings(&a, &m);
	same_findings(&m, &a);
	all.p[P_MAX_PAIRS] = 5000;
	for (k = n - 1; k >= 0; k--)
		bound_feed(&all, all.st, r, k);
	finish(&all, all.st);
	CHECK_EQ_INT(count_type(&all, SSH), 60);
	det()->state_free(w1);
	det()->state_free(w2);
	teardown(&a);
	teardown(&b);
	teardown(&m);
	teardown(&all);
}

/* Records later than late_minutes behind the newest event time are not
 * counted (state between batches is bounded). */
MM_TEST(late_records_beyond_slack)
{
	struct fixture fx;
	int k;
	setup(&fx);
	fx.p[P_LATE] = 60;
	for (k = 0; k < 10; k++)
		attempt_in(&fx, "203.0.113.50", 22, T0 + k, k);
	attempt_in(&fx, "203.0.113.99", 22, T0 + 6 * 3600, 1); /* moves the clock */
	finish(&fx, fx.st);
	for (k = 0; k < 10; k++)
		attempt_in(&fx, "203.0.113.50", 22, T0 + 30 + k, 10 + k);
	finish(&fx, fx.st);
	CHECK_EQ_INT(count_type(&fx, NULL), 0);
	teardown(&fx);
}

/* The title names the attacker first: the remote for TARGET, the
 * instance for ACTOR (as GuardDuty's "X is performing SSH brute force
 * attacks against Y"). */
MM_TEST(titles_follow_the_role)
{
	struct fixture fx;
	struct mm_buf b;
	size_t i;
	int k, seen = 0;
	setup(&fx);
	for (k = 0; k < 20; k++) {
		attempt_in(&fx, "203.0.113.50", 22, T0 + k, k);
		rec_into(&fx, fx.st, ENI, LOCAL, "198.51.100.99", 50000 + k, 22, 14, 2900, T0 + k,
			 "ACCEPT");
	}
	finish(&fx, fx.st);
	for (i = 0; i < mm_agg_count(fx.agg); i++) {
		struct mm_finding *f = mm_agg_at(fx.agg, i);
		mm_buf_init(&b, 1 << 20);
		CHECK_EQ_INT(mm_finding_to_json(f, NULL, &b), 0);
		if (f->role == MM_ROLE_TARGET) {
			seen |= 1;
			CHECK(strstr(b.p, "\"title\":\"203.0.113.50 is performing SSH brute force attacks "
					  "against " ENI ".\"") != NULL);
		} else {
			seen |= 2;
			CHECK(strstr(b.p, "\"title\":\"" ENI " is performing SSH brute force attacks "
					  "against 198.51.100.99.\"") != NULL);
			CHECK(strstr(b.p, "\"severity\":8") != NULL);
		}
		mm_buf_free(&b);
	}
	CHECK_EQ_INT(seen, 3);
	teardown(&fx);
}

/* ---- save / load and merge ------------------------------------------------ */

/* The attack records of the save/load and merge tests, i = 0..n-1: an
 * SSH attack that straddles 12:00, an RDP actor, a WinRM target, noise. */
#define NREC 400
static void record(struct fixture *fx, void *st, int i)
{
	if (i < 150) /* SSH from 203.0.113.50, one every 8 s from 11:50 */
		rec_into(fx, st, ENI, "203.0.113.50", LOCAL, 30000 + i, 22, 14, 2900,
			 T0 + 6600 + i * 8, "ACCEPT");
	else if (i < 250) /* RDP out to 198.51.100.99, every 30 s from 11:40 */
		rec_into(fx, st, ENI, LOCAL, "198.51.100.99", 30000 + i, 3389, 18, 4200,
			 T0 + 6000 + (i - 150) * 30, "ACCEPT");
	else if (i < 300) /* WinRM from 203.0.113.77 to another ENI */
		rec_into(fx, st, "eni-0bbbbbbbbbbbbbbb2", "203.0.113.77", "10.0.1.20", 30000 + i,
			 5986, 2, 120, T0 + 7100 + (i - 250) * 3, "REJECT");
	else /* many remotes, one attempt each */ {
		char ip[32];
		snprintf(ip, sizeof(ip), "198.51.100.%d", i - 300);
		rec_into(fx, st, ENI, ip, LOCAL, 30000 + i, 22, 14, 2900, T0 + 6600 + i, "ACCEPT");
	}
}

struct tot {
	uint64_t count[3];
	int64_t first[3], last[3];
};

/* Add the agg's findings to t (by type) and clear it. */
static void collect(struct fixture *fx, struct tot *t)
{
	size_t i;
	for (i = 0; i < mm_agg_count(fx->agg); i++) {
		struct mm_finding *f = mm_agg_at(fx->agg, i);
		int k = strcmp(f->type, SSH) == 0 ? 0 : strcmp(f->type, RDP) == 0 ? 1 : 2;
		if (!t->count[k] || f->first_seen_ms < t->first[k])
			t->first[k] = f->first_seen_ms;
		if (!t->count[k] || f->last_seen_ms > t->last[k])
			t->last[k] = f->last_seen_ms;
		t->count[k] += f->count;
	}
	mm_agg_clear(fx->agg);
}

static void check_tot(const struct tot *a, const struct tot *b)
{
	int k;
	for (k = 0; k < 3; k++) {
		CHECK_EQ_INT(a->count[k], b->count[k]);
		CHECK_EQ_INT(a->first[k], b->first[k]);
		CHECK_EQ_INT(a->last[k], b->last[k]);
	}
}

static void one_scan(struct fixture *fx, struct tot *t)
{
	int i;
	for (i = 0; i < NREC; i++)
		record(fx, fx->st, i);
	finish(fx, fx->st);
	collect(fx, t);
}

MM_TEST(two_scans_equal_one)
{
	struct fixture fx;
	struct tot one, two;
	struct mmtest_rows r;
	int i, cut;
	setup(&fx);
	memset(&one, 0, sizeof(one));
	one_scan(&fx, &one);
	CHECK_EQ_INT(one.count[0], 150);
	CHECK_EQ_INT(one.count[1], 100);
	CHECK_EQ_INT(one.count[2], 50);
	teardown(&fx);
	/* scan 1 has records [0, cut) and of the SSH attack the part before
	 * 12:00 minus a few; scan 2 (a new process: state from the store) the
	 * rest */
	for (cut = 0; cut <= NREC; cut += 37) {
		memset(&two, 0, sizeof(two));
		memset(&r, 0, sizeof(r));
		setup(&fx);
		for (i = 0; i < cut; i++)
			record(&fx, fx.st, i);
		finish(&fx, fx.st);
		collect(&fx, &two);
		CHECK_EQ_INT(det()->save(fx.st, mmtest_put_row, &r), 0);
		CHECK_EQ_INT(r.n, 32);
		det()->state_free(fx.st);
		fx.st = det()->state_new();
		for (i = 0; i < r.n; i++)
			CHECK_EQ_INT(det()->load(fx.st, r.entity[i], det()->state_version, r.blob[i],
						 r.len[i]),
				     0);
		for (i = cut; i < NREC; i++)
			record(&fx, fx.st, i);
		finish(&fx, fx.st);
		collect(&fx, &two);
		check_tot(&one, &two);
		mmtest_rows_free(&r);
		teardown(&fx);
	}
}

/* Records split among worker states any way, merged in any order, with
 * finishes in between, give the same findings. */
MM_TEST(merge_is_order_free)
{
	struct fixture fx;
	struct tot one, t;
	int split, i;
	setup(&fx);
	memset(&one, 0, sizeof(one));
	one_scan(&fx, &one);
	teardown(&fx);
	for (split = 0; split < 4; split++) {
		void *w[3];
		setup(&fx);
		memset(&t, 0, sizeof(t));
		for (i = 0; i < 3; i++)
			w[i] = det()->state_new();
		for (i = 0; i < NREC; i++) {
			int j = NREC - 1 - i; /* reversed arrival */
			int to = split == 0 ? j % 3 : split == 1 ? (j * 7) % 3 : split == 2 ? j / 134 : 0;
			record(&fx, w[to], split == 3 ? i : j);
		}
		for (i = 0; i < 3; i++) {
			int k = split == 1 ? 2 - i : i;
			CHECK_EQ_INT(det()->merge(fx.st, w[k]), 0);
			det()->state_free(w[k]);
			if (split == 2)
				finish(&fx, fx.st); /* a flush after each batch */
		}
		finish(&fx, fx.st);
		collect(&fx, &t);
		check_tot(&one, &t);
		teardown(&fx);
	}
}

/* A pair's first attempt is kept small (inline in the table) and the
 * full pair made when a second comes, by record, merge or load: the same
 * finding whichever way, and a saved small pair reloads and saves to the
 * same bytes. */
MM_TEST(small_pairs_grow_exactly)
{
	struct fixture fx;
	struct mmtest_rows r1, r2;
	int order, i, k;
	int64_t first = 0, last = 0;

	for (order = 0; order < 3; order++) {
		void *w[2];
		struct mm_finding *f;
		setup(&fx);
		w[0] = det()->state_new();
		w[1] = det()->state_new();
		/* the first attempt alone in one worker, 19 in the other */
		rec_into(&fx, w[0], ENI, "203.0.113.9", LOCAL, 40000, 22, 14, 2900, T0, "ACCEPT");
		for (k = 1; k < 20; k++)
			rec_into(&fx, w[1], ENI, "203.0.113.9", LOCAL, 40000 + k, 22, 14, 2900,
				 T0 + k * 20, "ACCEPT");
		if (order == 2) { /* the small one through the store */
			memset(&r1, 0, sizeof(r1));
			CHECK_EQ_INT(det()->save(w[0], mmtest_put_row, &r1), 0);
			det()->state_free(w[0]);
			w[0] = det()->state_new();
			for (i = 0; i < r1.n; i++)
				CHECK_EQ_INT(det()->load(w[0], r1.entity[i], det()->state_version,
							 r1.blob[i], r1.len[i]),
					     0);
			mmtest_rows_free(&r1);
		}
		for (i = 0; i < 2; i++) {
			CHECK_EQ_INT(det()->merge(fx.st, w[order == 1 ? 1 - i : i]), 0);
			det()->state_free(w[order == 1 ? 1 - i : i]);
		}
		finish(&fx, fx.st);
		f = find(&fx, SSH);
		CHECK(f != NULL);
		if (f) {
			CHECK_EQ_INT(f->count, 20);
			if (order == 0) {
				first = f->first_seen_ms;
				last = f->last_seen_ms;
			}
			CHECK_EQ_INT(f->first_seen_ms, first);
			CHECK_EQ_INT(f->last_seen_ms, last);
			CHECK_EQ_INT(f->first_seen_ms, (int64_t)T0 * 1000);
		}
		teardown(&fx);
	}

	/* save, load, save: the same rows, small pairs and full ones */
	setup(&fx);
	for (i = 0; i < NREC; i++)
		record(&fx, fx.st, i);
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	CHECK_EQ_INT(det()->save(fx.st, mmtest_put_row, &r1), 0);
	det()->state_free(fx.st);
	fx.st = det()->state_new();
	for (i = 0; i < r1.n; i++)
		CHECK_EQ_INT(det()->load(fx.st, r1.entity[i], det()->state_version, r1.blob[i],
					 r1.len[i]),
			     0);
	CHECK_EQ_INT(det()->save(fx.st, mmtest_put_row, &r2), 0);
	CHECK_EQ_INT(r1.n, r2.n);
	for (i = 0; i < r1.n && i < r2.n; i++) {
		CHECK_EQ_INT(r1.len[i], r2.len[i]);
		CHECK(r1.len[i] == r2.len[i] && memcmp(r1.blob[i], r2.blob[i], r1.len[i]) == 0);
	}
	mmtest_rows_free(&r1);
	mmtest_rows_free(&r2);
	teardown(&fx);
}

/* ---- malformed state --------------------------------------------------------- */

static size_t pairs_after_load(const void *blob, size_t n, int *rc)
{
	struct fixture fx;
	size_t k;
	setup(&fx);
	*rc = det()->load(fx.st, "shard-00", det()->state_version, blob, n);
	/* whatever was loaded, a finish must not crash; count what fires
	 * after a full attack is added (a loaded state must still work) */
	for (k = 0; k < 20; k++)
		attempt_in(&fx, "203.0.113.50", 22, T0 + (long)k, (int)k);
	finish(&fx, fx.st);
	k = count_type(&fx, NULL);
	teardown(&fx);
	return k;
}

MM_TEST(load_rejects_malformed_blobs)
{
	struct fixture fx;
	struct mmtest_rows r;
	int i, rc, big = -1;
	size_t n;
	unsigned char *b;
	setup(&fx);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < NREC; i++)
		record(&fx, fx.st, i);
	/* no finish: buckets with counts, some reported, some not */
	CHECK_EQ_INT(det()->save(fx.st, mmtest_put_row, &r), 0);
	teardown(&fx);
	for (i = 0; i < r.n; i++)
		if (big < 0 || r.len[i] > r.len[big])
			big = i;
	b = r.blob[big];
	n = r.len[big];
	CHECK(n > 100);
	/* every truncation is refused */
	for (size_t cut = 0; cut < n; cut++) {
		CHECK(pairs_after_load(b, cut, &rc) == 1);
		CHECK(rc != 0);
	}
	/* trailing bytes are refused */
	{
		unsigned char *x = malloc(n + 1);
		memcpy(x, b, n);
		x[n] = 0;
		pairs_after_load(x, n + 1, &rc);
		CHECK(rc != 0);
		free(x);
	}
	/* bit flips: refused or loaded, never a crash */
	for (size_t at = 0; at < n; at++) {
		unsigned char *x = malloc(n);
		memcpy(x, b, n);
		x[at] ^= (unsigned char)(1u << (at % 8));
		pairs_after_load(x, n, &rc);
		free(x);
	}
	/* a wrong version and garbage */
	CHECK(det()->load(NULL, "x", 99, b, n) != 0);
	{
		unsigned char g[256];
		for (i = 0; i < 256; i++)
			g[i] = (unsigned char)(i * 37 + 11);
		pairs_after_load(g, sizeof(g), &rc);
		CHECK(rc != 0);
		memcpy(g, "MMBF\x01\x00", 6);
		pairs_after_load(g, sizeof(g), &rc);
		CHECK(rc != 0);
	}
	/* the intact blob loads */
	pairs_after_load(b, n, &rc);
	CHECK_EQ_INT(rc, 0);
	mmtest_rows_free(&r);
}

/* A slow two-hour attack (about 1.8 tries a minute, so only some windows
 * reach 20) read in a scrambled order: one state, three merged workers
 * and two scans split mid-way all count the same attempts as time order. */
#define NS 220 /* about 18 per 10 minutes: some windows reach 20, most not */
MM_TEST(scrambled_long_attack_same_everywhere)
{
	struct fixture fx;
	struct tot ordered, t;
	long when[NS];
	int order[NS], i, mode;
	unsigned x = 12345;
	for (i = 0; i < NS; i++) {
		x = x * 1103515245u + 12345u;
		when[i] = T0 + (long)((x >> 8) % 7200);
		order[i] = i;
	}
	for (i = NS - 1; i > 0; i--) { /* Fisher-Yates with the same generator */
		int j, tmp;
		x = x * 1103515245u + 12345u;
		j = (int)((x >> 8) % (unsigned)(i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	memset(&ordered, 0, sizeof(ordered));
	setup(&fx);
	{
		/* time order: a sort of the indices by when[] */
		int idx[NS], a, b;
		for (i = 0; i < NS; i++)
			idx[i] = i;
		for (a = 1; a < NS; a++)
			for (b = a; b > 0 && when[idx[b]] < when[idx[b - 1]]; b--) {
				int tmp = idx[b];
				idx[b] = idx[b - 1];
				idx[b - 1] = tmp;
			}
		for (i = 0; i < NS; i++)
			attempt_in(&fx, "203.0.113.50", 22, when[idx[i]], idx[i]);
	}
	finish(&fx, fx.st);
	collect(&fx, &ordered);
	teardown(&fx);
	CHECK(ordered.count[0] > 0 && ordered.count[0] < NS);
	for (mode = 0; mode < 3; mode++) {
		memset(&t, 0, sizeof(t));
		setup(&fx);
		if (mode == 0) {
			for (i = 0; i < NS; i++)
				attempt_in(&fx, "203.0.113.50", 22, when[order[i]], order[i]);
		} else if (mode == 1) {
			void *w[3];
			void *keep = fx.st;
			for (i = 0; i < 3; i++)
				w[i] = det()->state_new();
			for (i = 0; i < NS; i++) {
				fx.st = w[i % 3];
				attempt_in(&fx, "203.0.113.50", 22, when[order[i]], order[i]);
			}
			fx.st = keep;
			for (i = 0; i < 3; i++) {
				CHECK_EQ_INT(det()->merge(fx.st, w[i]), 0);
				det()->state_free(w[i]);
			}
		} else {
			struct mmtest_rows r;
			memset(&r, 0, sizeof(r));
			for (i = 0; i < NS / 2; i++)
				attempt_in(&fx, "203.0.113.50", 22, when[order[i]], order[i]);
			finish(&fx, fx.st);
			collect(&fx, &t);
			CHECK_EQ_INT(det()->save(fx.st, mmtest_put_row, &r), 0);
			det()->state_free(fx.st);
			fx.st = det()->state_new();
			for (i = 0; i < r.n; i++)
				CHECK_EQ_INT(det()->load(fx.st, r.entity[i], 1, r.blob[i], r.len[i]), 0);
			mmtest_rows_free(&r);
			for (i = NS / 2; i < NS; i++)
				attempt_in(&fx, "203.0.113.50", 22, when[order[i]], order[i]);
		}
		finish(&fx, fx.st);
		collect(&fx, &t);
		check_tot(&ordered, &t);
		teardown(&fx);
	}
}
