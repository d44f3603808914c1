/* test_netscan.c - the probe / portscan / sweep detector: flow lines in,
 * findings out, positive and look-alike per type and per threshold edge;
 * trusted and mass-scanner sources; save/load (two scans = one scan),
 * merge order, hostile state blobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"
#include "detect/detect.h"
#include "mmtest.h"
#include "parse/cloudtrail.h"
#include "parse/flowlog.h"

#define D (&mm_det_netscan)
#define T_PROBE "Recon:EC2/PortProbeUnprotectedPort"
#define T_EMR "Recon:EC2/PortProbeEMRUnprotectedPort"
#define T_SCAN "Recon:EC2/Portscan"
#define T_SWEEP "Impact:EC2/PortSweep"

/* 2024-05-01 10:00:00 UTC: a day and a 10-minute window start */
#define T0 1714557600LL

struct fx {
	struct mm_intel *in;
	struct mm_inventory *inv;
	struct mm_agg *agg;
	struct mm_detect_ctx d;
	struct mm_file_ctx fc;
	double p[MM_PARAMS_MAX];
	char mem[1 << 16];
	struct mm_arena scratch;
	struct mm_flow_fmt fmt;
	uint64_t line;
};

static void setup(struct fx *x)
{
	struct mm_err e;
	const char *trusted = "198.51.100.200\n10.0.9.9\n";
	const char *scan = "203.0.113.0/24\n";
	memset(x, 0, sizeof(*x));
	CHECK_EQ_INT(mm_intel_new(&x->in), 0);
	CHECK_EQ_INT(mm_intel_load_mem(x->in, MM_CAT_SCANNER, "mass_scanner.txt", scan,
				       strlen(scan), NULL, &e), 0);
	CHECK_EQ_INT(mm_intel_load_trusted_mem(x->in, "trusted.txt", trusted, strlen(trusted), &e),
		     0);
	CHECK_EQ_INT(mm_intel_build(x->in, &e), 0);
	CHECK_EQ_INT(mm_agg_new(&x->agg, 1000), 0);
	CHECK_EQ_INT(mm_inventory_new(&x->inv), 0);
	x->d.intel = x->in;
	x->d.agg = x->agg;
	x->d.inv = x->inv;
	mm_file_ctx_from_path(&x->fc, "t/AWSLogs/111122223333/vpcflowlogs/us-east-1/x.log");
	x->d.file = &x->fc;
	mm_detector_defaults(D, x->p);
	x->d.params = x->p;
	mm_arena_init(&x->scratch, x->mem, sizeof(x->mem));
	mm_flow_fmt_auto(&x->fmt);
}

static void teardown(struct fx *x)
{
	mm_agg_free(x->agg);
	mm_inventory_free(x->inv);
	mm_intel_free(x->in);
}

static int g_bpp = 60; /* bytes per packet of the records flow() writes */

/* One v2 flow record on eni-0aaa at T0 + dt. */
static void flow(struct fx *x, void *st, const char *src, const char *dst, int sport, int dport,
		 int proto, int pkts, long long dt, const char *action)
{
	char line[512];
	struct mm_event ev;
	struct mm_err e;
	snprintf(line, sizeof(line), "2 111122223333 eni-0aaa %s %s %d %d %d %d %d %lld %lld %s OK",
		 src, dst, sport, dport, proto, pkts, pkts * g_bpp, T0 + dt, T0 + dt + 5, action);
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&x->scratch);
	CHECK_EQ_INT(mm_flow_parse(&x->fmt, line, strlen(line), &x->scratch, &ev, &e), 0);
	ev.loc.file = "t.log";
	ev.loc.line = ++x->line;
	D->on_event(st, &x->d, &ev);
}

static void finish(struct fx *x, void *st)
{
	struct mm_detect_ctx c = x->d;
	c.file = NULL;
	D->finish(st, &c);
}

static int nof(struct fx *x, const char *t)
{
	size_t i;
	int n = 0;
	for (i = 0; i < mm_agg_count(x->agg); i++)
		n += !strcmp(mm_agg_at(x->agg, i)->type, t);
	return n;
}

static struct mm_finding *get(struct fx *x, const char *t)
{
	size_t i;
	for (i = 0; i < mm_agg_count(x->agg); i++)
		if (!strcmp(mm_agg_at(x->agg, i)->type, t))
			return mm_agg_at(x->agg, i);
	return NULL;
}

/* n probes (1 packet, ACCEPT) to local port from 192.0.2.(base+i) */
static void probes(struct fx *x, void *st, int port, int base, int n, long long dt)
{
	int i;
	char src[32];
	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "192.0.2.%d", base + i);
		flow(x, st, src, "10.0.0.5", 40000 + i, port, 6, 1, dt + i, "ACCEPT");
	}
}

MM_TEST(probe_three_sources_low_two_not)
{
	struct fx x;
	void *st;
	struct mm_finding *f;
	setup(&x);
	st = D->state_new();
	probes(&x, st, 22, 1, 2, 0);
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_PROBE), 0); /* 2 < probe_min_sources */
	probes(&x, st, 22, 3, 1, 100);
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_PROBE), 1);
	f = get(&x, T_PROBE);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->severity, 2);
		CHECK_EQ_INT(f->role, MM_ROLE_TARGET);
		CHECK_EQ_INT(f->action, MM_ACTION_PORT_PROBE);
		CHECK_EQ_INT(f->local_port, 22);
		CHECK_EQ_INT(f->blocked, 0);
		CHECK_EQ_INT(f->nprobes, 3);
		CHECK_EQ_STR(f->eni, "eni-0aaa");
		CHECK(strstr(f->info, "\"probeSources\":3") != NULL);
		CHECK(strstr(f->info, "knownScanners") == NULL);
	}
	/* fires once: a later finish or more probes the same day add nothing */
	probes(&x, st, 22, 10, 3, 200);
	finish(&x, st);
	CHECK_EQ_INT(get(&x, T_PROBE)->count, 1);
	D->state_free(st);
	teardown(&x);
}

MM_TEST(probe_9200_high_and_port_is_the_key)
{
	struct fx x;
	void *st;
	setup(&x);
	st = D->state_new();
	probes(&x, st, 9200, 1, 3, 0);
	probes(&x, st, 9300, 1, 3, 0);
	probes(&x, st, 3306, 1, 3, 0);
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_PROBE), 3);
	{
		size_t i;
		for (i = 0; i < mm_agg_count(x.agg); i++) {
			struct mm_finding *f = mm_agg_at(x.agg, i);
			CHECK_EQ_INT(f->severity, f->local_port == 3306 ? 2 : 8);
		}
	}
	D->state_free(st);
	teardown(&x);
}

MM_TEST(probe_lookalikes_rejected_big_private_outbound)
{
	struct fx x;
	void *st;
	int i;
	char src[32];
	setup(&x);
	st = D->state_new();
	for (i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), "192.0.2.%d", i + 1);
		flow(&x, st, src, "10.0.0.5", 40000 + i, 23, 6, 1, i, "REJECT"); /* blocked */
		flow(&x, st, src, "10.0.0.5", 40000 + i, 24, 6, 4, i, "ACCEPT"); /* 4 packets */
		snprintf(src, sizeof(src), "10.1.0.%d", i + 1);
		flow(&x, st, src, "10.0.0.5", 40000 + i, 25, 6, 1, i, "ACCEPT"); /* private */
		/* the instance's replies from its port 26: outbound records */
		snprintf(src, sizeof(src), "192.0.2.%d", i + 1);
		flow(&x, st, "10.0.0.5", src, 26, 40000 + i, 6, 1, i, "ACCEPT");
	}
	finish(&x, st);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	D->state_free(st);
	teardown(&x);
}

/* A web server: real sessions from served_min_clients clients make the
 * port's short flows (session tails, scanners) not a probe; one fewer
 * client and the probes are reported. */
MM_TEST(probe_served_port_edge)
{
	struct fx x;
	void *st;
	int i;
	char src[32];
	setup(&x);
	st = D->state_new();
	for (i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), "198.18.%d.1", i + 1);
		flow(&x, st, src, "10.0.0.5", 50000 + i, 443, 6, 30, i, "ACCEPT");
		flow(&x, st, src, "10.0.0.5", 50000 + i, 443, 6, 2, 60 + i, "ACCEPT"); /* tail */
	}
	probes(&x, st, 443, 1, 4, 0);
	/* short client requests that carry data: sessions, not probes */
	g_bpp = 700;
	probes(&x, st, 8443, 1, 5, 0);
	g_bpp = 60;
	for (i = 0; i < 4; i++) {
		snprintf(src, sizeof(src), "198.18.%d.1", i + 1);
		flow(&x, st, src, "10.0.0.5", 50000 + i, 80, 6, 30, i, "ACCEPT");
	}
	probes(&x, st, 80, 1, 3, 0);
	finish(&x, st);
	/* the day is still open: a port with clients waits for the whole day */
	CHECK_EQ_INT(nof(&x, T_PROBE), 0);
	/* any record past the day's end + close_after decides it */
	flow(&x, st, "10.1.0.1", "10.0.0.5", 40000, 9999, 6, 1, 86400 + 900, "ACCEPT");
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_PROBE), 1);
	if (get(&x, T_PROBE))
		CHECK_EQ_INT(get(&x, T_PROBE)->local_port, 80);
	D->state_free(st);
	teardown(&x);
}

MM_TEST(probe_trusted_never_counts)
{
	struct fx x;
	void *st;
	setup(&x);
	st = D->state_new();
	probes(&x, st, 22, 1, 2, 0);
	flow(&x, st, "198.51.100.200", "10.0.0.5", 40000, 22, 6, 1, 0, "ACCEPT");
	finish(&x, st);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	D->state_free(st);
	teardown(&x);
}

static void scanners(struct fx *x, void *st, int port)
{
	int i;
	char src[32];
	for (i = 0; i < 3; i++) {
		snprintf(src, sizeof(src), "203.0.113.%d", i + 1);
		flow(x, st, src, "10.0.0.5", 40000 + i, port, 6, 1, i, "ACCEPT");
	}
}

MM_TEST(probe_mass_scanner_modes)
{
	struct fx x;
	void *st;
	struct mm_finding *f;

	setup(&x); /* 0: label */
	st = D->state_new();
	scanners(&x, st, 9200);
	finish(&x, st);
	f = get(&x, T_PROBE);
	CHECK(f && f->severity == 8 && strstr(f->info, "\"knownScanners\":3"));
	D->state_free(st);
	teardown(&x);

	setup(&x); /* 1: lower to Low when every source is a scanner */
	x.p[4] = 1;
	st = D->state_new();
	scanners(&x, st, 9200);
	probes(&x, st, 9300, 1, 1, 0);
	flow(&x, st, "203.0.113.1", "10.0.0.5", 40000, 9300, 6, 1, 0, "ACCEPT");
	flow(&x, st, "203.0.113.2", "10.0.0.5", 40000, 9300, 6, 1, 0, "ACCEPT");
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_PROBE), 2);
	{
		size_t i;
		for (i = 0; i < mm_agg_count(x.agg); i++) {
			f = mm_agg_at(x.agg, i);
			CHECK_EQ_INT(f->severity, f->local_port == 9200 ? 2 : 8);
		}
	}
	D->state_free(st);
	teardown(&x);

	setup(&x); /* 2: ignore scanners */
	x.p[4] = 2;
	st = D->state_new();
	scanners(&x, st, 22);
	probes(&x, st, 22, 1, 2, 0);
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_PROBE), 0);
	D->state_free(st);
	teardown(&x);
}

MM_TEST(probe_emr_master_port)
{
	struct fx x;
	void *st;
	struct mm_err e;
	const char *inv =
		"{\"Reservations\":[{\"Instances\":[{\"InstanceId\":\"i-0emr\",\"Tags\":[{\"Key\":"
		"\"aws:elasticmapreduce:instance-group-role\",\"Value\":\"MASTER\"}],"
		"\"NetworkInterfaces\":[{\"NetworkInterfaceId\":\"eni-0aaa\",\"PrivateIpAddress\":"
		"\"10.0.0.5\"}]}]}]}";
	setup(&x);
	CHECK_EQ_INT(mm_inventory_load_describe(x.inv, inv, strlen(inv), &e), 0);
	st = D->state_new();
	probes(&x, st, 8088, 1, 3, 0);
	probes(&x, st, 22, 1, 3, 0);
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_EMR), 1);
	CHECK_EQ_INT(nof(&x, T_PROBE), 1);
	CHECK(get(&x, T_EMR) && get(&x, T_EMR)->severity == 8 &&
	      !strcmp(get(&x, T_EMR)->instance_id, "i-0emr"));
	D->state_free(st);
	teardown(&x);

	/* port 8088 on an instance that is not EMR: the plain type */
	setup(&x);
	st = D->state_new();
	probes(&x, st, 8088, 1, 3, 0);
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_EMR), 0);
	CHECK_EQ_INT(nof(&x, T_PROBE), 1);
	D->state_free(st);
	teardown(&x);
}

/* n ports (1 packet SYNs) from the instance to one host */
static void scan(struct fx *x, void *st, const char *dst, int n, int pkts, long long dt)
{
	int i;
	for (i = 0; i < n; i++)
		flow(x, st, "10.0.0.5", dst, 45000, 1 + i, 6, pkts, dt + i, "ACCEPT");
}

MM_TEST(portscan_edge_and_lookalikes)
{
	struct fx x;
	void *st;
	struct mm_finding *f;
	setup(&x);
	st = D->state_new();
	scan(&x, st, "192.0.2.50", 49, 1, 0);	/* one short */
	scan(&x, st, "192.0.2.51", 60, 10, 0);	/* real sessions, not attempts */
	scan(&x, st, "192.0.2.52", 30, 1, 0);	/* split across two windows */
	scan(&x, st, "192.0.2.52", 30, 1, 600);
	g_bpp = 101;				/* 1-packet records with payload */
	scan(&x, st, "192.0.2.54", 60, 1, 0);
	g_bpp = 60;
	finish(&x, st);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	scan(&x, st, "192.0.2.53", 50, 2, 0);
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_SCAN), 1);
	f = get(&x, T_SCAN);
	if (f) {
		char b[MM_IP_STRLEN];
		CHECK_EQ_INT(f->severity, 5);
		CHECK_EQ_INT(f->role, MM_ROLE_ACTOR);
		CHECK_EQ_INT(f->direction, MM_DIR_OUTBOUND);
		CHECK_EQ_STR(mm_ip_format(&f->remote_ip, b), "192.0.2.53");
		CHECK(strstr(f->info, "\"distinctPorts\":50") != NULL);
	}
	D->state_free(st);
	teardown(&x);
}

MM_TEST(portscan_rejected_counts_trusted_does_not)
{
	struct fx x;
	void *st;
	int i;
	setup(&x);
	st = D->state_new();
	for (i = 0; i < 60; i++) /* blocked by the egress rules: still attempts */
		flow(&x, st, "10.0.0.5", "192.0.2.60", 45000, 1 + i, 6, 7, i, "REJECT");
	for (i = 0; i < 60; i++) /* our security team's host: trusted */
		flow(&x, st, "10.0.0.5", "198.51.100.200", 45000, 1 + i, 6, 1, i, "ACCEPT");
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_SCAN), 1);
	D->state_free(st);
	teardown(&x);
}

static void sweep(struct fx *x, void *st, int port, int n, int third, long long dt)
{
	int i;
	char dst[32];
	for (i = 0; i < n; i++) {
		snprintf(dst, sizeof(dst), "198.18.%d.%d", third, i + 1);
		flow(x, st, "10.0.0.5", dst, 46000 + i, port, 6, 1, dt + i, "ACCEPT");
	}
}

MM_TEST(portsweep_edge_and_monitoring_lookalike)
{
	struct fx x;
	void *st;
	struct mm_finding *f;
	int h, p;
	setup(&x);
	st = D->state_new();
	/* a monitoring probe: 20 hosts x 3 ports, every 5 minutes for a day */
	for (h = 0; h < 288; h++)
		for (p = 0; p < 3; p++)
			sweep(&x, st, (int[]){22, 443, 9100}[p], 20, 7, (long long)h * 300);
	sweep(&x, st, 445, 99, 1, 0); /* one short */
	finish(&x, st);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	sweep(&x, st, 3389, 100, 2, 0);
	finish(&x, st);
	CHECK_EQ_INT(nof(&x, T_SWEEP), 1);
	f = get(&x, T_SWEEP);
	if (f) {
		CHECK_EQ_INT(f->severity, 8);
		CHECK_EQ_INT(f->role, MM_ROLE_ACTOR);
		CHECK_EQ_INT(f->remote_port, 3389);
		CHECK(strstr(f->info, "\"distinctHosts\":100") != NULL);
	}
	D->state_free(st);
	teardown(&x);
}

MM_TEST(trusted_local_scanner_never_fires)
{
	struct fx x;
	void *st;
	int i;
	char dst[32];
	setup(&x);
	st = D->state_new();
	for (i = 0; i < 150; i++) {
		snprintf(dst, sizeof(dst), "198.18.3.%d", i + 1);
		/* our scanner instance 10.0.9.9 (trusted) sweeping and scanning */
		flow(&x, st, "10.0.9.9", dst, 46000, 22, 6, 1, i, "ACCEPT");
		flow(&x, st, "10.0.9.9", "198.18.4.1", 46000, 1 + i, 6, 1, i, "ACCEPT");
	}
	finish(&x, st);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	D->state_free(st);
	teardown(&x);
}

/* ---- state: save/load, merge, bounds ---------------------------------------- */

/* Served clients live apart from probe entries: clients seen in one run
 * (saved with no probe entry) or by another worker (merged) still keep a
 * later probed port from firing early and decide it at close; 6 clients
 * on 443 take the pool (past the 4 inline), 4 on 80 stay inline. */
MM_TEST(served_clients_cross_save_and_merge)
{
	struct fx x;
	void *a, *b, *c, *d;
	struct mmtest_rows bs = {0};
	int i;
	char src[32];
	setup(&x);
	a = D->state_new();
	for (i = 0; i < 6; i++) {
		snprintf(src, sizeof(src), "198.18.%d.1", i + 1);
		flow(&x, a, src, "10.0.0.5", 50000 + i, 443, 6, 30, i, "ACCEPT");
		flow(&x, a, src, "10.0.0.5", 50000 + i, 443, 6, 30, 100 + i, "ACCEPT"); /* again */
		if (i < 4)
			flow(&x, a, src, "10.0.0.5", 50000 + i, 80, 6, 30, i, "ACCEPT");
	}
	finish(&x, a);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	CHECK_EQ_INT(D->save(a, mmtest_put_row, &bs), 0);
	CHECK_EQ_INT(bs.n, 1); /* clients only: still saved */
	D->state_free(a);
	b = D->state_new();
	for (i = 0; i < bs.n; i++)
		CHECK_EQ_INT(D->load(b, bs.entity[i], D->state_version, bs.blob[i], bs.len[i]), 0);
	mmtest_rows_free(&bs);
	/* another worker saw the probes; merged into an empty state first
	 * (taken whole), then the loaded one into it */
	c = D->state_new();
	probes(&x, c, 443, 1, 3, 200);
	probes(&x, c, 80, 1, 3, 200);
	d = D->state_new();
	CHECK_EQ_INT(D->merge(d, c), 0);
	CHECK_EQ_INT(D->merge(d, b), 0);
	D->state_free(b);
	D->state_free(c);
	finish(&x, d);
	CHECK_EQ_INT(nof(&x, T_PROBE), 0); /* open day, both ports have clients */
	/* round trip again, then close the day */
	CHECK_EQ_INT(D->save(d, mmtest_put_row, &bs), 0);
	D->state_free(d);
	d = D->state_new();
	for (i = 0; i < bs.n; i++)
		CHECK_EQ_INT(D->load(d, bs.entity[i], D->state_version, bs.blob[i], bs.len[i]), 0);
	mmtest_rows_free(&bs);
	flow(&x, d, "10.1.0.1", "10.0.0.5", 40000, 9999, 6, 1, 86400 + 900, "ACCEPT");
	finish(&x, d);
	CHECK_EQ_INT(nof(&x, T_PROBE), 1); /* 80: 4 clients < 5; 443: 6 */
	if (get(&x, T_PROBE))
		CHECK_EQ_INT(get(&x, T_PROBE)->local_port, 80);
	D->state_free(d);
	teardown(&x);
}

/* The whole mixed workload, days 1 and 2; part 0 = all, 1 = day 1, 2 = day 2
 * (the scan run split at the day boundary). */
static void workload(struct fx *x, void *st, int part)
{
	if (part != 2) {
		probes(x, st, 22, 1, 2, 0);
		scan(x, st, "192.0.2.50", 30, 1, 86000);
		sweep(x, st, 445, 60, 1, 86000);
		probes(x, st, 9200, 1, 3, 10);
	}
	if (part != 1) {
		/* the day boundary is T0 - 10 h + 1 d; windows are day-aligned */
		probes(x, st, 22, 20, 3, 86400 * 2);
		scan(x, st, "192.0.2.51", 55, 1, 86400 * 2);
		sweep(x, st, 445, 120, 2, 86400 * 2 + 100);
	}
}

static void compare(struct fx *a, struct fx *b)
{
	size_t i;
	CHECK_EQ_INT(mm_agg_count(a->agg), mm_agg_count(b->agg));
	for (i = 0; i < mm_agg_count(a->agg); i++) {
		struct mm_finding *f = mm_agg_at(a->agg, i), *g = NULL;
		size_t j;
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
		CHECK_EQ_INT(f->severity, g->severity);
		CHECK_EQ_INT(f->nevidence, g->nevidence);
		CHECK_EQ_STR(f->info, g->info);
	}
}

MM_TEST(two_scans_equal_one_scan)
{
	struct fx one, two;
	void *st, *s1, *s2;
	struct mmtest_rows bs = {0};
	int i;

	setup(&one);
	st = D->state_new();
	workload(&one, st, 0);
	finish(&one, st);
	CHECK_EQ_INT(nof(&one, T_PROBE), 2);
	CHECK_EQ_INT(nof(&one, T_SCAN), 1);
	CHECK_EQ_INT(nof(&one, T_SWEEP), 1);
	D->state_free(st);

	setup(&two);
	s1 = D->state_new();
	workload(&two, s1, 1);
	finish(&two, s1);
	CHECK_EQ_INT(D->save(s1, mmtest_put_row, &bs), 0);
	CHECK_EQ_INT(bs.n, 1);
	D->state_free(s1);
	s2 = D->state_new();
	for (i = 0; i < bs.n; i++)
		CHECK_EQ_INT(D->load(s2, bs.entity[i], D->state_version, bs.blob[i], bs.len[i]), 0);
	workload(&two, s2, 2);
	finish(&two, s2);
	compare(&one, &two);
	D->state_free(s2);
	mmtest_rows_free(&bs);
	teardown(&one);
	teardown(&two);
}

/* State saved mid-window continues the window: 2 probes, save, 1 more. */
MM_TEST(save_load_continues_a_window)
{
	struct fx x;
	void *s1, *s2;
	struct mmtest_rows bs = {0};
	setup(&x);
	s1 = D->state_new();
	probes(&x, s1, 22, 1, 2, 0);
	finish(&x, s1);
	CHECK_EQ_INT(D->save(s1, mmtest_put_row, &bs), 0);
	s2 = D->state_new();
	CHECK_EQ_INT(D->load(s2, bs.entity[0], 1, bs.blob[0], bs.len[0]), 0);
	probes(&x, s2, 22, 1, 1, 50); /* the same source again: still 2 */
	finish(&x, s2);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	probes(&x, s2, 22, 3, 1, 60);
	finish(&x, s2);
	CHECK_EQ_INT(nof(&x, T_PROBE), 1);
	/* a loaded entry that fired stays fired */
	mmtest_rows_free(&bs);
	CHECK_EQ_INT(D->save(s2, mmtest_put_row, &bs), 0);
	D->state_free(s1);
	s1 = D->state_new();
	CHECK_EQ_INT(D->load(s1, bs.entity[0], 1, bs.blob[0], bs.len[0]), 0);
	probes(&x, s1, 22, 30, 3, 70);
	finish(&x, s1);
	CHECK_EQ_INT(get(&x, T_PROBE)->count, 1);
	D->state_free(s1);
	D->state_free(s2);
	mmtest_rows_free(&bs);
	teardown(&x);
}

MM_TEST(merge_is_order_free)
{
	struct fx a, b;
	void *a1, *a2, *b1, *b2;
	setup(&a);
	setup(&b);
	a1 = D->state_new();
	a2 = D->state_new();
	b1 = D->state_new();
	b2 = D->state_new();
	/* the same records split differently between two workers */
	workload(&a, a1, 1);
	workload(&a, a2, 2);
	probes(&a, a2, 22, 1, 1, 1);
	workload(&b, b1, 2);
	workload(&b, b2, 1);
	probes(&b, b1, 22, 1, 1, 1);
	CHECK_EQ_INT(D->merge(a1, a2), 0);
	CHECK_EQ_INT(D->merge(b1, b2), 0);
	finish(&a, a1);
	finish(&b, b1);
	compare(&a, &b);
	CHECK_EQ_INT(nof(&a, T_SWEEP), 1);
	D->state_free(a1);
	D->state_free(a2);
	D->state_free(b1);
	D->state_free(b2);
	teardown(&a);
	teardown(&b);
}

MM_TEST(old_windows_are_dropped)
{
	struct fx x;
	void *st;
	struct mmtest_rows bs = {0};
	size_t before;
	setup(&x);
	st = D->state_new();
	probes(&x, st, 22, 1, 2, 0);
	sweep(&x, st, 445, 10, 1, 0);
	finish(&x, st);
	CHECK_EQ_INT(D->save(st, mmtest_put_row, &bs), 0);
	before = bs.len[0];
	mmtest_rows_free(&bs);
	probes(&x, st, 23, 1, 1, 86400 * 5); /* five days later */
	finish(&x, st);
	CHECK_EQ_INT(D->save(st, mmtest_put_row, &bs), 0);
	CHECK(bs.len[0] < before);
	mmtest_rows_free(&bs);
	D->state_free(st);
	teardown(&x);
}

MM_TEST(max_entries_is_a_bound)
{
	struct fx x;
	void *st;
	int i;
	char dst[32];
	setup(&x);
	x.p[11] = 1000;
	st = D->state_new();
	for (i = 0; i < 3000; i++) {
		snprintf(dst, sizeof(dst), "198.19.%d.%d", i / 250, i % 250 + 1);
		flow(&x, st, "10.0.0.5", dst, 46000, 8080, 6, 1, i * 600, "ACCEPT");
	}
	finish(&x, st); /* no crash, nothing wrong reported */
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	D->state_free(st);
	teardown(&x);
}

/* ---- the bound: bottom-k, the same kept keys for any order or split ------- */

struct brec {
	char src[32], dst[32];
	int sport, dport, pkts;
	long long dt;
};

/* Past max_entries (1000 units): 1400 sweep keys of 2 hosts, 2 scan keys,
 * 200 probe keys of 3 sources, 100 of them with 5 served clients. */
static int bound_recs(struct brec *r)
{
	int n = 0, i, k;
	for (i = 1; i <= 1400; i++)
		for (k = 1; k <= 2; k++) {
			snprintf(r[n].src, sizeof(r[n].src), "10.0.0.5");
			snprintf(r[n].dst, sizeof(r[n].dst), "198.18.0.%d", k);
			r[n].sport = 46000 + k, r[n].dport = i, r[n].pkts = 1;
			r[n++].dt = i % 500;
		}
	for (i = 0; i < 200; i++) {
		for (k = 1; k <= 3; k++) {
			snprintf(r[n].src, sizeof(r[n].src), "192.0.2.%d", k);
			snprintf(r[n].dst, sizeof(r[n].dst), "10.0.0.5");
			r[n].sport = 40000 + k, r[n].dport = 20000 + i, r[n].pkts = 1;
			r[n++].dt = i;
		}
		for (k = 0; i % 2 && k < 5; k++) {
			snprintf(r[n].src, sizeof(r[n].src), "192.0.2.%d", 100 + k);
			snprintf(r[n].dst, sizeof(r[n].dst), "10.0.0.5");
			r[n].sport = 41000 + k, r[n].dport = 20000 + i, r[n].pkts = 10;
			r[n++].dt = i + 1;
		}
	}
	return n;
}

/* Record k of r into st; its line is its index whatever the order. */
static void bound_feed(struct fx *x, void *st, const struct brec *r, int k)
{
	x->line = (uint64_t)k;
	flow(x, st, r[k].src, r[k].dst, r[k].sport, r[k].dport, 6, r[k].pkts, r[k].dt, "ACCEPT");
}

/* Windows fired of type t, over its findings. */
static int fcount(struct fx *x, const char *t)
{
	size_t i;
	int n = 0;
	for (i = 0; i < mm_agg_count(x->agg); i++)
		if (!strcmp(mm_agg_at(x->agg, i)->type, t))
			n += (int)mm_agg_at(x->agg, i)->count;
	return n;
}

static void bound_setup(struct fx *x)
{
	setup(x);
	x->p[11] = 1000; /* max_entries, the least allowed */
	x->p[7] = 2;	 /* sweep_min_hosts */
}

static size_t saved_len(void *st)
{
	struct mmtest_rows bs = {0};
	size_t n = 0;
	int i;
	CHECK_EQ_INT(D->save(st, mmtest_put_row, &bs), 0);
	for (i = 0; i < bs.n; i++)
		n += bs.len[i];
	mmtest_rows_free(&bs);
	return n;
}

MM_TEST(bound_keeps_the_same_keys_in_any_order_or_split)
{
	static struct brec r[4000];
	struct fx a, b, m;
	void *sa, *sb, *w1, *w2, *sm;
	int n = bound_recs(r), k;
	size_t la, lb, lm;

	bound_setup(&a);
	bound_setup(&b);
	bound_setup(&m);
	sa = D->state_new();
	sb = D->state_new();
	sm = D->state_new();
	w1 = D->state_new();
	w2 = D->state_new();
	for (k = 0; k < n; k++)
		bound_feed(&a, sa, r, k);
	for (k = n - 1; k >= 0; k--)
		bound_feed(&b, sb, r, k);
	/* two workers (interleaved, each in its own order), merged as a flush
	 * does: into an empty state, the second one last */
	for (k = 0; k < n; k++)
		if (k % 3)
			bound_feed(&m, w1, r, k);
	for (k = n - 1; k >= 0; k--)
		if (!(k % 3))
			bound_feed(&m, w2, r, k);
	CHECK_EQ_INT(D->merge(sm, w2), 0);
	CHECK_EQ_INT(D->merge(sm, w1), 0);
	finish(&a, sa);
	finish(&b, sb);
	finish(&m, sm);
	/* the bound was hit: some sweeps and probes were kept, not all */
	CHECK(fcount(&a, T_SWEEP) > 100 && fcount(&a, T_SWEEP) < 1400);
	CHECK(fcount(&a, T_PROBE) > 10 && fcount(&a, T_PROBE) < 100);
	compare(&a, &b);
	compare(&a, &m);
	compare(&b, &a);
	compare(&m, &a);
	la = saved_len(sa);
	lb = saved_len(sb);
	lm = saved_len(sm);
	CHECK(la > 0);
	CHECK_EQ_INT(la, lb);
	CHECK_EQ_INT(la, lm);
	D->state_free(sa);
	D->state_free(sb);
	D->state_free(sm);
	D->state_free(w1);
	D->state_free(w2);
	teardown(&a);
	teardown(&b);
	teardown(&m);
}

/* Under the bound nothing is evicted: every sweep fires. */
MM_TEST(bound_not_hit_keeps_everything)
{
	static struct brec r[4000];
	struct fx a;
	void *sa;
	int n = bound_recs(r), k;
	bound_setup(&a);
	a.p[11] = 5000;
	sa = D->state_new();
	for (k = n - 1; k >= 0; k--)
		bound_feed(&a, sa, r, k);
	finish(&a, sa);
	CHECK_EQ_INT(fcount(&a, T_SWEEP), 1400);
	CHECK_EQ_INT(fcount(&a, T_PROBE), 200 / 2); /* the served half does not fire */
	CHECK_EQ_INT(fcount(&a, T_SCAN), 2);
	D->state_free(sa);
	teardown(&a);
}

MM_TEST(hostile_blobs_are_rejected)
{
	struct fx x;
	void *st, *s2;
	struct mmtest_rows bs = {0};
	static unsigned char buf[1 << 16];
	size_t n, i;
	unsigned seed = 7;
	setup(&x);
	st = D->state_new();
	workload(&x, st, 0);
	CHECK_EQ_INT(D->save(st, mmtest_put_row, &bs), 0);
	n = bs.len[0];
	CHECK(n <= sizeof(buf));
	s2 = D->state_new();
	/* every truncation */
	for (i = 0; i < n; i++)
		CHECK(D->load(s2, "eni-0aaa", 1, bs.blob[0], i) != 0);
	/* wrong version, wrong entity length, trailing bytes */
	CHECK(D->load(s2, "eni-0aaa", 2, bs.blob[0], n) != 0);
	memcpy(buf, bs.blob[0], n);
	buf[n] = 0;
	CHECK(D->load(s2, "eni-0aaa", 1, buf, n + 1) != 0);
	CHECK(D->load(s2, "eni-0123456789abcdef0123456789abcdef", 1, buf, n) != 0);
	/* a lying count */
	buf[3] = 0xff;
	buf[4] = 0xff;
	CHECK(D->load(s2, "eni-0aaa", 1, buf, n) != 0);
	/* random byte flips: must not crash (may load or not) */
	for (i = 0; i < 2000; i++) {
		memcpy(buf, bs.blob[0], n);
		seed = seed * 1103515245u + 12345u;
		buf[(seed >> 8) % n] ^= (unsigned char)(1u << ((seed >> 4) & 7));
		(void)D->load(s2, "eni-0aaa", 1, buf, n);
	}
	finish(&x, s2);
	D->state_free(st);
	D->state_free(s2);
	mmtest_rows_free(&bs);
	teardown(&x);
}

MM_TEST(params_are_declared)
{
	int n = mm_detector_nparams(D), i;
	CHECK_EQ_INT(n, 15);
	for (i = 0; i < n; i++) {
		CHECK(D->params[i].def >= D->params[i].min && D->params[i].def <= D->params[i].max);
		CHECK(D->params[i].reason && D->params[i].reason[0]);
	}
	CHECK(mm_ftype_get(T_PROBE) && mm_ftype_get(T_PROBE)->action == MM_ACTION_PORT_PROBE);
	CHECK(mm_ftype_get(T_EMR) && mm_ftype_get(T_SWEEP) && mm_ftype_get(T_SCAN));
}

/* The scanner category labels probes; on its own it is no threat-list
 * finding: not for an API call from a listed address, not for flows. */
MM_TEST(scanner_list_raises_no_threat_finding)
{
	struct fx x;
	char line[2048];
	struct mm_event ev;
	struct mm_err e;
	setup(&x);
	snprintf(line, sizeof(line),
		 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":"
		 "\"AIDAEXAMPLE\",\"arn\":\"arn:aws:iam::111122223333:user/alice\",\"accountId\":"
		 "\"111122223333\",\"accessKeyId\":\"AKIAEXAMPLE1\",\"userName\":\"alice\"},"
		 "\"eventTime\":\"2024-05-01T11:00:00Z\",\"eventSource\":\"iam.amazonaws.com\","
		 "\"eventName\":\"ListUsers\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":"
		 "\"203.0.113.9\",\"userAgent\":\"aws-cli/2\",\"requestParameters\":null,"
		 "\"responseElements\":null,\"eventID\":\"e1\",\"eventType\":\"AwsApiCall\","
		 "\"recipientAccountId\":\"111122223333\"}");
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&x.scratch);
	CHECK_EQ_INT(mm_ct_parse_line(line, strlen(line), &x.scratch, &ev, &e), 0);
	ev.loc.file = "ct.json";
	ev.loc.line = 1;
	mm_detect_event(&x.d, &ev);
	snprintf(line, sizeof(line),
		 "2 111122223333 eni-0aaa 10.0.0.5 203.0.113.9 40000 443 6 10 900 %lld %lld ACCEPT OK",
		 T0, T0 + 5);
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&x.scratch);
	CHECK_EQ_INT(mm_flow_parse(&x.fmt, line, strlen(line), &x.scratch, &ev, &e), 0);
	ev.loc.file = "t.log";
	ev.loc.line = 2;
	mm_detect_event(&x.d, &ev);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	teardown(&x);
}

/* A probe finding continued by a later flush or run shows the later
 * window's probes, labels and severity (mm_finding_merge). */
MM_TEST(finding_merge_takes_latest_probe_details)
{
	struct mm_finding a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	snprintf(a.type, sizeof(a.type), "%s", T_PROBE);
	snprintf(b.type, sizeof(b.type), "%s", T_PROBE);
	a.action = b.action = MM_ACTION_PORT_PROBE;
	a.count = b.count = 1;
	a.first_seen_ms = a.last_seen_ms = 1000;
	b.first_seen_ms = b.last_seen_ms = 2000;
	a.severity = 8;
	b.severity = 2;
	a.nprobes = 1;
	b.nprobes = 2;
	b.probes[1].local_port = 9200;
	mm_finding_info_num(&a, "probeSources", 3);
	mm_finding_info_num(&b, "knownScanners", 4);
	mm_finding_merge(&a, &b);
	CHECK_EQ_INT(a.count, 2);
	CHECK_EQ_INT(a.severity, 2);
	CHECK_EQ_INT(a.nprobes, 2);
	CHECK_EQ_INT(a.probes[1].local_port, 9200);
	CHECK(strstr(a.info, "knownScanners") && !strstr(a.info, "probeSources"));
	/* an earlier one changes nothing but counts and times */
	memset(&b, 0, sizeof(b));
	snprintf(b.type, sizeof(b.type), "%s", T_PROBE);
	b.action = MM_ACTION_PORT_PROBE;
	b.count = 1;
	b.first_seen_ms = b.last_seen_ms = 500;
	b.severity = 8;
	mm_finding_merge(&a, &b);
	CHECK_EQ_INT(a.severity, 2);
	CHECK_EQ_INT(a.nprobes, 2);
	CHECK_EQ_INT(a.first_seen_ms, 500);
}
