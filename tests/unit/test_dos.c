/* test_dos.c - the DoS detector (src/detect/dos.c): each type fires on a
 * flood and not on its look-alikes, every threshold at its edge, merge
 * in any split, save/load (two scans = one scan), hostile state blobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/hash.h"
#include "detect/detect.h"
#include "mmtest.h"
#include "parse/flowlog.h"

#define T_TCP "Backdoor:EC2/DenialOfService.Tcp"
#define T_UDP "Backdoor:EC2/DenialOfService.Udp"
#define T_UDPTCP "Backdoor:EC2/DenialOfService.UdpOnTcpPorts"
#define T_UNUSUAL "Backdoor:EC2/DenialOfService.UnusualProtocol"
#define T_DNS "Backdoor:EC2/DenialOfService.Dns"

/* 2024-05-01T10:00:00Z, a minute boundary */
#define T0 1714557600L

struct fixture {
	struct mm_intel *in;
	struct mm_agg *agg;
	struct mm_detect_ctx d;
	struct mm_file_ctx fc;
	double params[MM_PARAMS_MAX];
	char mem[1 << 14];
	struct mm_arena scratch;
	struct mm_flow_fmt fmt;
	uint64_t line;
};

static const struct mm_detector_def *D = &mm_det_dos;

static void setup(struct fixture *fx)
{
	struct mm_err e;
	const char *t = "198.51.100.99\n";
	memset(fx, 0, sizeof(*fx));
	CHECK_EQ_INT(mm_intel_new(&fx->in), 0);
	CHECK_EQ_INT(mm_intel_load_trusted_mem(fx->in, "trusted.txt", t, strlen(t), &e), 0);
	CHECK_EQ_INT(mm_intel_build(fx->in, &e), 0);
	CHECK_EQ_INT(mm_agg_new(&fx->agg, 1000), 0);
	mm_detector_defaults(D, fx->params);
	fx->d.intel = fx->in;
	fx->d.agg = fx->agg;
	fx->d.params = fx->params;
	mm_file_ctx_from_path(&fx->fc, "t/AWSLogs/111122223333/vpcflowlogs/us-east-1/x.log");
	fx->d.file = &fx->fc;
	mm_arena_init(&fx->scratch, fx->mem, sizeof(fx->mem));
	mm_flow_fmt_auto(&fx->fmt);
}

static void teardown(struct fixture *fx)
{
	mm_agg_free(fx->agg);
	mm_intel_free(fx->in);
}

/* One v2 record on ENI eni-0d05 into state st. */
static void rec(struct fixture *fx, void *st, const char *src, const char *dst, int sport,
		int dport, int proto, unsigned long long pkts, unsigned long long bytes, long start,
		long end)
{
	char line[512];
	struct mm_event ev;
	struct mm_err e;
	snprintf(line, sizeof(line), "2 111122223333 eni-0d05 %s %s %d %d %d %llu %llu %ld %ld ACCEPT OK",
		 src, dst, sport, dport, proto, pkts, bytes, start, end);
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&fx->scratch);
	CHECK_EQ_INT(mm_flow_parse(&fx->fmt, line, strlen(line), &fx->scratch, &ev, &e), 0);
	ev.loc.file = "t.log";
	ev.loc.line = ++fx->line;
	D->on_event(st, &fx->d, &ev);
}

/* Outbound from the instance 10.0.1.10 to remote. */
static void out(struct fixture *fx, void *st, const char *remote, int sport, int dport, int proto,
		unsigned long long pkts, unsigned long long bytes, long start, long dur)
{
	rec(fx, st, "10.0.1.10", remote, sport, dport, proto, pkts, bytes, start, start + dur);
}

static void in(struct fixture *fx, void *st, const char *remote, int sport, int dport, int proto,
	       unsigned long long pkts, unsigned long long bytes, long start, long dur)
{
	rec(fx, st, remote, "10.0.1.10", sport, dport, proto, pkts, bytes, start, start + dur);
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

static void finish(struct fixture *fx, void *st)
{
	D->finish(st, &fx->d);
}

MM_TEST(dos_registered_with_params)
{
	CHECK(mm_detector_by_name("dos") == D);
	CHECK_EQ_INT(mm_detector_nparams(D), 8);
	CHECK(mm_ftype_get(T_TCP) && mm_ftype_get(T_UDP) && mm_ftype_get(T_UDPTCP) &&
	      mm_ftype_get(T_UNUSUAL) && mm_ftype_get(T_DNS));
	CHECK_EQ_INT((int)mm_ftype_get(T_DNS)->severity, 8);
}

/* A SYN flood (40-byte packets) at 3000/s from two sockets: one finding
 * with GuardDuty's shape. */
MM_TEST(tcp_flood_fires_with_details)
{
	struct fixture fx;
	struct mm_finding *f;
	char buf[MM_IP_STRLEN];
	void *st;
	setup(&fx);
	st = D->state_new();
	out(&fx, st, "203.0.113.50", 40000, 80, 6, 90000, 3600000, T0, 60);
	out(&fx, st, "203.0.113.50", 40001, 80, 6, 90001, 3600040, T0 + 5, 60);
	in(&fx, st, "203.0.113.50", 80, 40001, 6, 2000, 88000, T0 + 5, 60); /* SYN-ACKs */
	finish(&fx, st);
	CHECK_EQ_INT(mm_agg_count(fx.agg), 1);
	f = find(&fx, T_TCP);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->count, 1);
		CHECK_EQ_INT(f->role, MM_ROLE_ACTOR);
		CHECK_EQ_INT(f->direction, MM_DIR_OUTBOUND);
		CHECK_EQ_STR(mm_ip_format(&f->remote_ip, buf), "203.0.113.50");
		CHECK_EQ_STR(mm_ip_format(&f->local_ip, buf), "10.0.1.10");
		CHECK_EQ_INT(f->remote_port, 80);
		CHECK_EQ_INT(f->local_port, 40001); /* the larger record */
		CHECK_EQ_STR(f->protocol, "TCP");
		CHECK_EQ_STR(f->account, "111122223333");
		CHECK_EQ_STR(f->region, "us-east-1");
		CHECK_EQ_INT(f->first_seen_ms, T0 * 1000);
		CHECK_EQ_INT(f->last_seen_ms, (T0 + 65) * 1000);
		CHECK_EQ_INT(f->nevidence, 2);
		CHECK(strstr(f->info, "\"packets\":180001") != NULL);
	}
	/* finished once: a second finish does not count it again */
	finish(&fx, st);
	f = find(&fx, T_TCP);
	CHECK(f && f->count == 1);
	D->state_free(st);
	teardown(&fx);
}

static int fires(struct fixture *fx, const char *type)
{
	return find(fx, type) != NULL;
}

/* min_packets (100000 in one minute) and min_pps (1000/s summed) at
 * their edges: each case is up to two TCP records (start offset,
 * duration, packets; 40-byte packets) and whether the minute fires. */
MM_TEST(thresholds_at_their_edges)
{
	static const struct {
		const char *what;
		long off[2], dur[2];
		unsigned long long pk[2];
		double min_packets;	/* 0: the default */
		int fires;
	} cases[] = {
		{"exactly 100000 packets at 1000/s", {0, -1}, {100, 0}, {100000, 0}, 0, 1},
		{"99999 packets", {0, -1}, {60, 0}, {99999, 0}, 0, 0},
		{"100000 packets over 101 s: 990/s", {0, -1}, {101, 0}, {100000, 0}, 0, 0},
		{"a 600 s window with 300k packets: 500/s", {0, -1}, {600, 0}, {300000, 0}, 0, 0},
		{"one minute in two 50k records: summed", {1, 59}, {40, 40}, {50000, 50000}, 0, 1},
		{"60k + 60k in two minutes", {0, 60}, {30, 30}, {60000, 60000}, 0, 0},
		{"min_packets 50000 from the config", {0, -1}, {30, 0}, {60000, 0}, 50000, 1},
	};
	size_t i;
	int k;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture fx;
		void *st;
		setup(&fx);
		if (cases[i].min_packets)
			fx.params[0] = cases[i].min_packets;
		st = D->state_new();
		for (k = 0; k < 2 && cases[i].off[k] >= 0; k++)
			out(&fx, st, "203.0.113.50", 40000 + k, 80, 6, cases[i].pk[k], cases[i].pk[k] * 40,
			    T0 + cases[i].off[k], cases[i].dur[k]);
		finish(&fx, st);
		if ((int)mm_agg_count(fx.agg) != cases[i].fires || (cases[i].fires && !fires(&fx, T_TCP))) {
			fprintf(stderr, "  case \"%s\": %zu findings, want %d\n", cases[i].what,
				mm_agg_count(fx.agg), cases[i].fires);
			mmtest_failures++;
		}
		D->state_free(st);
		teardown(&fx);
	}
}

/* The per-record floor: records under min_record_packets and
 * min_record_pps never count (the documented cost bound), records at it do. */
MM_TEST(record_floor)
{
	struct fixture fx;
	void *st;
	int i;

	setup(&fx); /* 200 sockets x 999 packets in 60 s: 16.6/s each, ignored */
	st = D->state_new();
	for (i = 0; i < 200; i++)
		out(&fx, st, "203.0.113.50", 30000 + i, 80, 6, 999, 39960, T0, 60);
	finish(&fx, st);
	CHECK_EQ_INT(mm_agg_count(fx.agg), 0);
	D->state_free(st);
	teardown(&fx);

	setup(&fx); /* 100 sockets x 1000 packets: counted, 100000 at 1600/s */
	st = D->state_new();
	for (i = 0; i < 100; i++)
		out(&fx, st, "203.0.113.50", 30000 + i, 80, 6, 1000, 40000, T0, 60);
	finish(&fx, st);
	CHECK(fires(&fx, T_TCP));
	D->state_free(st);
	teardown(&fx);

	setup(&fx); /* 1000 short records of 100 packets in 1 s: 100/s each, counted */
	st = D->state_new();
	for (i = 0; i < 1000; i++)
		out(&fx, st, "203.0.113.50", 20000 + i, 80, 6, 100, 4000, T0 + (i % 60), 1);
	finish(&fx, st);
	CHECK(fires(&fx, T_TCP));
	D->state_free(st);
	teardown(&fx);
}

/* Each udp/other class, and ICMP/ESP that no type covers. */
MM_TEST(each_class_fires)
{
	struct fixture fx;
	void *st;
	setup(&fx);
	st = D->state_new();
	out(&fx, st, "203.0.113.51", 50000, 9999, 17, 200000, 100000000, T0, 60);
	out(&fx, st, "203.0.113.52", 50000, 443, 17, 200000, 100000000, T0, 60);
	out(&fx, st, "203.0.113.53", 0, 0, 47, 200000, 100000000, T0, 60);
	out(&fx, st, "203.0.113.54", 50000, 53, 17, 200000, 12000000, T0, 60);
	out(&fx, st, "203.0.113.55", 0, 0, 1, 200000, 12000000, T0, 60);
	out(&fx, st, "203.0.113.56", 0, 0, 50, 200000, 12000000, T0, 60);
	finish(&fx, st);
	CHECK(fires(&fx, T_UDP));
	CHECK(fires(&fx, T_UDPTCP));
	CHECK(fires(&fx, T_UNUSUAL));
	CHECK(fires(&fx, T_DNS));
	CHECK_EQ_INT(mm_agg_count(fx.agg), 4);
	{
		struct mm_finding *f = find(&fx, T_UDPTCP);
		CHECK(f && f->remote_port == 443 && !strcmp(f->protocol, "UDP"));
		f = find(&fx, T_UNUSUAL);
		CHECK(f && !strcmp(f->protocol, "47"));
	}
	D->state_free(st);
	teardown(&fx);
}

/* DNS reflection: answers from local port 53 to one victim at flood
 * rates, their spoofed queries arriving from the victim too. */
MM_TEST(dns_reflection_fires_busy_resolver_does_not)
{
	struct fixture fx;
	void *st;
	char ip[32];
	int i;
	setup(&fx);
	st = D->state_new();
	in(&fx, st, "198.51.100.7", 33333, 53, 17, 150000, 9000000, T0, 60);
	out(&fx, st, "198.51.100.7", 53, 33333, 17, 150000, 450000000, T0, 60);
	/* a resolver answering 300 clients, 200 packets a minute each, and a
	 * busy office NAT with 1500 queries/s in 60 s windows split in
	 * records under the per-minute total */
	for (i = 0; i < 300; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", i % 250 + 1);
		in(&fx, st, ip, 40000 + i, 53, 17, 200, 14000, T0 + 120, 60);
		out(&fx, st, ip, 53, 40000 + i, 17, 200, 40000, T0 + 120, 60);
	}
	out(&fx, st, "203.0.113.77", 53, 41000, 17, 90000, 18000000, T0 + 120, 60);
	finish(&fx, st);
	CHECK_EQ_INT(mm_agg_count(fx.agg), 1);
	{
		struct mm_finding *f = find(&fx, T_DNS);
		CHECK(f && f->local_port == 53 && f->remote_port == 33333);
	}
	D->state_free(st);
	teardown(&fx);
}

/* Transfers and conversations that move many packets to one host. */
MM_TEST(lookalikes_do_not_fire)
{
	struct fixture fx;
	void *st;
	int i;
	setup(&fx);
	st = D->state_new();
	/* a backup upload at ~400 Mbit/s: MSS-sized segments out, ACKs in */
	out(&fx, st, "52.216.1.10", 45000, 443, 6, 2000000, 2900000000ULL, T0, 60);
	in(&fx, st, "52.216.1.10", 443, 45000, 6, 1000000, 52000000, T0, 60);
	/* a download at ~1 Gbit/s: our side is its 52-byte ACK stream */
	in(&fx, st, "52.216.1.11", 443, 45001, 6, 5000000, 7240000000ULL, T0, 60);
	out(&fx, st, "52.216.1.11", 45001, 443, 6, 2500000, 130000000, T0, 60);
	/* a video streaming server: 400 viewers at 5 Mbit/s (~430/s each) */
	for (i = 0; i < 400; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "100.%d.%d.9", 128 + i / 200, i % 200);
		out(&fx, st, ip, 443, 50000 + i, 6, 26000, 37000000, T0, 60);
		in(&fx, st, ip, 50000 + i, 443, 6, 13000, 700000, T0, 60);
	}
	/* a WireGuard tunnel to one peer at 300 Mbit/s, answered */
	out(&fx, st, "203.0.113.90", 51820, 51820, 17, 1500000, 2100000000ULL, T0, 60);
	in(&fx, st, "203.0.113.90", 51820, 51820, 17, 700000, 40000000, T0, 60);
	/* QUIC (udp 443) upload, acknowledged */
	out(&fx, st, "203.0.113.91", 51000, 443, 17, 500000, 650000000, T0, 60);
	in(&fx, st, "203.0.113.91", 443, 51000, 17, 100000, 5000000, T0, 60);
	/* syslog and NetFlow export to public collectors: one-way by design */
	out(&fx, st, "203.0.113.95", 41000, 514, 17, 180000, 54000000, T0, 60);
	out(&fx, st, "203.0.113.96", 41000, 2055, 17, 180000, 250000000, T0, 60);
	/* a GRE tunnel (47) both ways */
	out(&fx, st, "203.0.113.92", 0, 0, 47, 500000, 650000000, T0, 60);
	in(&fx, st, "203.0.113.92", 0, 0, 47, 400000, 500000000, T0, 60);
	/* floods at private addresses (not GuardDuty's public victims) */
	out(&fx, st, "10.0.9.9", 40000, 80, 6, 900000, 36000000, T0, 60);
	out(&fx, st, "100.64.0.9", 40000, 9999, 17, 900000, 36000000, T0, 60);
	/* a flood at a trusted address (your own load test) */
	out(&fx, st, "198.51.100.99", 40000, 80, 6, 900000, 36000000, T0, 60);
	/* the instance being flooded (inbound), not flooding */
	in(&fx, st, "203.0.113.93", 40000, 80, 6, 900000, 36000000, T0, 60);
	in(&fx, st, "203.0.113.93", 40000, 9999, 17, 900000, 36000000, T0, 60);
	/* positive control in the same state: a UDP flood barely answered */
	out(&fx, st, "203.0.113.94", 40000, 9999, 17, 900000, 36000000, T0, 60);
	in(&fx, st, "203.0.113.94", 9999, 40000, 17, 40000, 2000000, T0, 60);
	finish(&fx, st);
	CHECK_EQ_INT(mm_agg_count(fx.agg), 1);
	{
		struct mm_finding *f = find(&fx, T_UDP);
		char b[MM_IP_STRLEN];
		CHECK(f && !strcmp(mm_ip_format(&f->remote_ip, b), "203.0.113.94"));
	}
	D->state_free(st);
	teardown(&fx);
}

/* telemetry_ports 0: a syslog stream at flood rates counts like any udp. */
MM_TEST(telemetry_ports_switch)
{
	struct fixture fx;
	void *st;
	setup(&fx);
	fx.params[7] = 0;
	st = D->state_new();
	out(&fx, st, "203.0.113.95", 41000, 514, 17, 180000, 54000000, T0, 60);
	finish(&fx, st);
	CHECK(fires(&fx, T_UDP));
	D->state_free(st);
	teardown(&fx);
}

/* bulk_packet_bytes and answered_ratio at their edges. */
MM_TEST(shape_params_at_edges)
{
	struct fixture fx;
	void *st;
	setup(&fx); /* average exactly 1000 bytes: a transfer */
	st = D->state_new();
	out(&fx, st, "203.0.113.50", 40000, 80, 6, 200000, 200000000, T0, 60);
	/* 999.99 bytes: a flood */
	out(&fx, st, "203.0.113.51", 40000, 80, 6, 200000, 199999999, T0, 60);
	/* full-size TCP packets with hardly an ACK back (an upload as some
	 * flow logs show it, or hping3 -d 1400 at a filtered port): a
	 * transfer, never paged (the documented limit) */
	out(&fx, st, "203.0.113.54", 40000, 8443, 6, 200000, 290000000, T0, 60);
	in(&fx, st, "203.0.113.54", 8443, 40000, 6, 40, 2080, T0, 60);
	/* answered at exactly 5 %: a conversation; just under: a flood */
	out(&fx, st, "203.0.113.52", 40000, 9999, 17, 200000, 20000000, T0, 60);
	in(&fx, st, "203.0.113.52", 9999, 40000, 17, 10000, 600000, T0, 60);
	out(&fx, st, "203.0.113.53", 40000, 9999, 17, 200000, 20000000, T0, 60);
	in(&fx, st, "203.0.113.53", 9999, 40000, 17, 9999, 600000, T0, 60);
	finish(&fx, st);
	CHECK_EQ_INT(mm_agg_count(fx.agg), 2);
	{
		struct mm_finding *f = find(&fx, T_TCP);
		char b[MM_IP_STRLEN];
		CHECK(f && !strcmp(mm_ip_format(&f->remote_ip, b), "203.0.113.51"));
		f = find(&fx, T_UDP);
		CHECK(f && !strcmp(mm_ip_format(&f->remote_ip, b), "203.0.113.53"));
	}
	D->state_free(st);
	teardown(&fx);
}

/* The records of a scenario: a TCP flood over three minutes, a UDP
 * flood and its look-alike answered tunnel. */
static void scenario(struct fixture *fx, void **st, int nst, int split)
{
	int k = 0, m;
	for (m = 0; m < 3; m++) {
		out(fx, st[(k++ / split) % nst], "203.0.113.50", 40000 + m, 80, 6, 40000 + m, 1600000,
		    T0 + 60 * m + 3, 30);
		out(fx, st[(k++ / split) % nst], "203.0.113.50", 41000 + m, 80, 6, 40000, 1600000,
		    T0 + 60 * m + 20, 30);
		out(fx, st[(k++ / split) % nst], "203.0.113.50", 42000 + m, 80, 6, 40000, 1600000,
		    T0 + 60 * m + 40, 30);
	}
	out(fx, st[(k++ / split) % nst], "203.0.113.60", 5000, 9999, 17, 80000, 8000000, T0, 60);
	out(fx, st[(k++ / split) % nst], "203.0.113.60", 5001, 9999, 17, 80000, 8000000, T0 + 2, 60);
	out(fx, st[(k++ / split) % nst], "203.0.113.61", 5000, 9999, 17, 160000, 8000000, T0, 60);
	in(fx, st[(k++ / split) % nst], "203.0.113.61", 9999, 5000, 17, 80000, 8000000, T0, 60);
}

static void summary(struct fixture *fx, char *buf, size_t cap)
{
	size_t i, n = 0;
	buf[0] = '\0';
	for (i = 0; i < mm_agg_count(fx->agg); i++) {
		struct mm_finding *f = mm_agg_at(fx->agg, i);
		char b[MM_IP_STRLEN];
		n += (size_t)snprintf(buf + n, cap - n, "%s %llu %lld %lld %s %u %u %d %s|", f->type,
				      (unsigned long long)f->count, (long long)f->first_seen_ms,
				      (long long)f->last_seen_ms, mm_ip_format(&f->remote_ip, b),
				      f->local_port, f->remote_port, f->nevidence, f->info);
	}
}

MM_TEST(merge_is_exact_in_any_split)
{
	struct fixture fx;
	char want[2048], got[2048];
	void *one, *st[3];
	int split;

	setup(&fx);
	one = D->state_new();
	scenario(&fx, &one, 1, 1);
	finish(&fx, one);
	summary(&fx, want, sizeof(want));
	CHECK(strstr(want, T_TCP " 3 ") != NULL);
	CHECK(strstr(want, T_UDP " 1 ") != NULL);
	D->state_free(one);
	teardown(&fx);

	for (split = 1; split <= 4; split++) {
		int order;
		for (order = 0; order < 2; order++) {
			void *dst;
			setup(&fx);
			st[0] = D->state_new();
			st[1] = D->state_new();
			st[2] = D->state_new();
			scenario(&fx, st, 3, split);
			dst = D->state_new();
			CHECK_EQ_INT(D->merge(dst, st[order ? 2 : 0]), 0);
			CHECK_EQ_INT(D->merge(dst, st[1]), 0);
			CHECK_EQ_INT(D->merge(dst, st[order ? 0 : 2]), 0);
			finish(&fx, dst);
			summary(&fx, got, sizeof(got));
			CHECK_EQ_STR(got, want);
			D->state_free(dst);
			D->state_free(st[0]);
			D->state_free(st[1]);
			D->state_free(st[2]);
			teardown(&fx);
		}
	}
}

/* ---- persistence ----------------------------------------------------------- */

/* save st, free it, and return a fresh state loaded from the rows */
/* Does the row hold the text (an ENI's name)? */
static int has(const unsigned char *b, size_t n, const char *z)
{
	size_t k = strlen(z), i;
	for (i = 0; i + k <= n; i++)
		if (!memcmp(b + i, z, k))
			return 1;
	return 0;
}

static void *reload(void *st, struct mmtest_rows *r)
{
	void *ns = D->state_new();
	int i;
	CHECK_EQ_INT(D->save(st, mmtest_put_row, r), 0);
	D->state_free(st);
	for (i = 0; i < r->n; i++)
		CHECK_EQ_INT(D->load(ns, r->entity[i], D->state_version, r->blob[i], r->len[i]), 0);
	return ns;
}

/* Two scans (a flush, save, a new process loading the rows) give the
 * findings of one: a minute split across the two counts whole, a minute
 * reported in the first is not reported again. */
MM_TEST(save_load_two_scans_equal_one)
{
	struct fixture fx;
	struct mmtest_rows r = {0};
	char want[2048], got[2048];
	void *st;

	setup(&fx);
	st = D->state_new();
	out(&fx, st, "203.0.113.50", 40000, 80, 6, 150000, 6000000, T0, 60);       /* minute 0 */
	out(&fx, st, "203.0.113.50", 40001, 80, 6, 60000, 2400000, T0 + 60, 30);   /* minute 1 */
	out(&fx, st, "203.0.113.50", 40002, 80, 6, 60000, 2400000, T0 + 90, 30);   /* minute 1 */
	out(&fx, st, "203.0.113.50", 40003, 80, 6, 60000, 2400000, T0 + 100, 30);  /* minute 1 */
	finish(&fx, st);
	summary(&fx, want, sizeof(want));
	CHECK(strstr(want, T_TCP " 2 ") != NULL);
	D->state_free(st);
	teardown(&fx);

	setup(&fx);
	st = D->state_new();
	out(&fx, st, "203.0.113.50", 40000, 80, 6, 150000, 6000000, T0, 60);
	out(&fx, st, "203.0.113.50", 40001, 80, 6, 60000, 2400000, T0 + 60, 30);
	finish(&fx, st); /* scan 1: minute 0 fires, minute 1 is not there yet */
	st = reload(st, &r);
	out(&fx, st, "203.0.113.50", 40002, 80, 6, 60000, 2400000, T0 + 90, 30);
	out(&fx, st, "203.0.113.50", 40003, 80, 6, 60000, 2400000, T0 + 100, 30);
	finish(&fx, st); /* scan 2: minute 1 whole, minute 0 not again */
	summary(&fx, got, sizeof(got));
	CHECK_EQ_STR(got, want);
	CHECK_EQ_INT(r.n, 1); /* one ENI: one shard's row */
	CHECK(!strncmp(r.entity[0], "shard-", 6));
	/* a third reload and finish changes nothing */
	st = reload(st, &r);
	finish(&fx, st);
	summary(&fx, got, sizeof(got));
	CHECK_EQ_STR(got, want);
	D->state_free(st);
	mmtest_rows_free(&r);
	teardown(&fx);
}

/* Buckets older than retain_minutes behind the newest are dropped after
 * finish; an ENI left empty has its row cleared (count 0) once. */
MM_TEST(prune_bounds_state)
{
	struct fixture fx;
	struct mmtest_rows r = {0};
	char first[16];
	void *st;
	setup(&fx);
	st = D->state_new();
	out(&fx, st, "203.0.113.50", 40000, 80, 6, 5000, 200000, T0, 60);
	finish(&fx, st);
	CHECK_EQ_INT(D->save(st, mmtest_put_row, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK(r.len[0] > 16);
	snprintf(first, sizeof(first), "%s", r.entity[0]);
	mmtest_rows_free(&r);
	/* a record on another ENI four hours later pushes eni-0d05's out */
	{
		char line[256];
		struct mm_event ev;
		struct mm_err e;
		snprintf(line, sizeof(line),
			 "2 111122223333 eni-0d06 10.0.1.20 203.0.113.50 40000 80 6 5000 200000 %ld %ld ACCEPT OK",
			 T0 + 4 * 3600, T0 + 4 * 3600 + 60);
		memset(&ev, 0, sizeof(ev));
		mm_arena_reset(&fx.scratch);
		CHECK_EQ_INT(mm_flow_parse(&fx.fmt, line, strlen(line), &fx.scratch, &ev, &e), 0);
		ev.loc.file = "t.log";
		D->on_event(st, &fx.d, &ev);
	}
	finish(&fx, st);
	{
		/* eni-0d05's row is rewritten without it (cleared when it was
		 * alone in its shard), eni-0d06 is in one */
		int i, old = 0, found = 0;
		CHECK_EQ_INT(D->save(st, mmtest_put_row, &r), 0);
		CHECK(r.n == 1 || r.n == 2);
		for (i = 0; i < r.n; i++) {
			old |= has(r.blob[i], r.len[i], "eni-0d05");
			found |= has(r.blob[i], r.len[i], "eni-0d06");
			if (!strcmp(r.entity[i], first) && !has(r.blob[i], r.len[i], "eni-0d06"))
				CHECK(r.len[i] == 12 && !memcmp(r.blob[i], "DOS2\0\0\0\0", 8));
		}
		CHECK(!old && found);
	}
	mmtest_rows_free(&r);
	/* next save: a cleared row is not written again */
	CHECK_EQ_INT(D->save(st, mmtest_put_row, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK(has(r.blob[0], r.len[0], "eni-0d06"));
	mmtest_rows_free(&r);
	D->state_free(st);
	teardown(&fx);
}

/* Malformed blobs are rejected whole and leave the state as it was. */
MM_TEST(hostile_blobs_rejected)
{
	struct fixture fx;
	struct mmtest_rows r = {0}, after = {0};
	unsigned char *b;
	void *st, *ns;
	size_t n, i, bk;
	const char *ent;

	setup(&fx);
	st = D->state_new();
	out(&fx, st, "203.0.113.50", 40000, 80, 6, 5000, 200000, T0, 60);
	out(&fx, st, "203.0.113.51", 40000, 9999, 17, 5000, 200000, T0, 60);
	CHECK_EQ_INT(D->save(st, mmtest_put_row, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	b = r.blob[0];
	n = r.len[0];
	ent = r.entity[0];
	/* the first bucket: header, the file table (one name), the ENI's
	 * name, count and strings */
	CHECK_EQ_INT(b[8], 1);
	bk = 12 + 2 + (size_t)(b[12] | b[13] << 8) + 1 + 8 + 4 + 1 + 12 + 1 + 9 + 1;
	ns = D->state_new();
	/* every truncation */
	for (i = 0; i < n; i++)
		CHECK(D->load(ns, ent, 2, b, i) != 0);
	/* trailing garbage */
	{
		unsigned char *x = malloc(n + 1);
		memcpy(x, b, n);
		x[n] = 0;
		CHECK(D->load(ns, ent, 2, x, n + 1) != 0);
		free(x);
	}
	/* bad magic, a huge count, a bad class, a bad v6 flag */
	{
		unsigned char *x = malloc(n);
		memcpy(x, b, n);
		x[0] = 'X';
		CHECK(D->load(ns, ent, 2, x, n) != 0);
		memcpy(x, b, n);
		x[4] = 0xff, x[5] = 0xff, x[6] = 0xff, x[7] = 0x7f;
		CHECK(D->load(ns, ent, 2, x, n) != 0);
		memcpy(x, b, n);
		x[bk] = 9; /* first bucket's class */
		CHECK(D->load(ns, ent, 2, x, n) != 0);
		memcpy(x, b, n);
		x[bk + 4] = 2; /* its remote's family */
		CHECK(D->load(ns, ent, 2, x, n) != 0);
		free(x);
	}
	/* an entity name no ENI could have */
	{
		char longname[200];
		memset(longname, 'e', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		CHECK(D->load(ns, longname, 2, b, n) != 0);
	}
	/* nothing got in */
	CHECK_EQ_INT(D->save(ns, mmtest_put_row, &after), 0);
	CHECK_EQ_INT(after.n, 0);
	/* and the good blob still loads */
	CHECK_EQ_INT(D->load(ns, ent, 2, b, n), 0);
	CHECK_EQ_INT(D->save(ns, mmtest_put_row, &after), 0);
	CHECK_EQ_INT(after.n, 1);
	CHECK_EQ_INT(after.len[0], n);
	mmtest_rows_free(&after);
	mmtest_rows_free(&r);
	D->state_free(ns);
	D->state_free(st);
	teardown(&fx);
}

/* Hostile numbers: packet counts near 2^64 saturate, never wrap. */
MM_TEST(huge_counts_saturate)
{
	struct fixture fx;
	void *st;
	setup(&fx);
	st = D->state_new();
	out(&fx, st, "203.0.113.50", 40000, 80, 6, 18446744073709551615ULL, 1, T0, 0);
	out(&fx, st, "203.0.113.50", 40001, 80, 6, 18446744073709551615ULL, 1, T0, 0);
	finish(&fx, st);
	CHECK(fires(&fx, T_TCP));
	D->state_free(st);
	teardown(&fx);
}

/* An outbound flood the security group REJECTs still fires (the instance
 * tried; blocked), and a REJECTed inbound record is no answer. */
MM_TEST(rejected_flood_is_blocked)
{
	struct fixture fx;
	struct mm_event ev;
	struct mm_err e;
	const char *lines[] = {
		"2 111122223333 eni-0d05 10.0.1.10 203.0.113.70 40000 9999 17 200000 8000000 "
		"1714557600 1714557660 REJECT OK",
		"2 111122223333 eni-0d05 203.0.113.70 10.0.1.10 9999 40000 17 200000 8000000 "
		"1714557600 1714557660 REJECT OK",
	};
	void *st;
	size_t i;
	setup(&fx);
	st = D->state_new();
	for (i = 0; i < 2; i++) {
		memset(&ev, 0, sizeof(ev));
		mm_arena_reset(&fx.scratch);
		CHECK_EQ_INT(mm_flow_parse(&fx.fmt, lines[i], strlen(lines[i]), &fx.scratch, &ev, &e), 0);
		ev.loc.file = "t.log";
		ev.loc.line = i + 1;
		D->on_event(st, &fx.d, &ev);
	}
	finish(&fx, st);
	{
		struct mm_finding *f = find(&fx, T_UDP);
		CHECK(f && f->blocked == 1);
	}
	D->state_free(st);
	teardown(&fx);
}

/* The bounds, hit in any order: 80000 ENIs (past 65536) with 4 inbound
 * heavy buckets each (past 262144 buckets) and a UDP flood on every
 * 400th. The buckets kept are the smallest by (ENI hash, bucket hash), so
 * the same records in order, reversed, or split over two workers merged
 * give the same floods; some floods are kept and some not, and with the
 * floods alone every one fires. */
#define BOUND_ENIS 80000

static void bound_rec(struct fixture *fx, void *st, int k, int floods_only)
{
	char line[512], eni[32], ip[32];
	struct mm_event ev;
	struct mm_err e;
	int i = k / 5, j = k % 5;
	if (j == 4 && i % 400)
		return;
	if (floods_only && j < 4)
		return;
	snprintf(eni, sizeof(eni), "eni-%08x", i);
	if (j < 4) {
		snprintf(ip, sizeof(ip), "11.%d.%d.%d", j, (i >> 8) & 255, i & 255);
		snprintf(line, sizeof(line), "2 111122223333 %s %s 10.0.1.10 5000 6000 17 1000 100000 %ld %ld ACCEPT OK",
			 eni, ip, T0, T0 + 60);
	} else {
		snprintf(line, sizeof(line), "2 111122223333 %s 10.0.1.10 203.0.113.50 40000 9999 17 200000 20000000 %ld %ld ACCEPT OK",
			 eni, T0, T0 + 60);
	}
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&fx->scratch);
	CHECK_EQ_INT(mm_flow_parse(&fx->fmt, line, strlen(line), &fx->scratch, &ev, &e), 0);
	ev.loc.file = "t.log";
	ev.loc.line = (uint64_t)k + 1;
	D->on_event(st, &fx->d, &ev);
}

static void same_findings(struct fixture *a, struct fixture *b)
{
	size_t i, j;
	CHECK_EQ_INT(mm_agg_count(a->agg), mm_agg_count(b->agg));
	for (i = 0; i < mm_agg_count(a->agg); i++) {
		struct mm_finding *f = mm_agg_at(a->agg, i), *g = NULL;
		for (j = 0; j < mm_agg_count(b->agg); j++)
			if (!strcmp(mm_agg_at(b->agg, j)->type, f->type) &&
			    !strcmp(mm_agg_at(b->agg, j)->eni, f->eni) &&
			    !strcmp(mm_agg_at(b->agg, j)->disc, f->disc))
				g = mm_agg_at(b->agg, j);
		CHECK(g != NULL);
		if (g)
			CHECK_EQ_INT(f->count, g->count);
	}
}

MM_TEST(bound_keeps_the_same_buckets_in_any_order_or_split)
{
	struct fixture a, b, m, all;
	void *st, *w1, *w2;
	int k, n = BOUND_ENIS * 5;

	setup(&a);
	st = D->state_new();
	for (k = 0; k < n; k++)
		bound_rec(&a, st, k, 0);
	finish(&a, st);
	D->state_free(st);
	CHECK(mm_agg_count(a.agg) > 100 && mm_agg_count(a.agg) < BOUND_ENIS / 400);

	setup(&b);
	st = D->state_new();
	for (k = n - 1; k >= 0; k--)
		bound_rec(&b, st, k, 0);
	finish(&b, st);
	D->state_free(st);
	same_findings(&a, &b);

	setup(&m);
	st = D->state_new();
	w1 = D->state_new();
	w2 = D->state_new();
	for (k = 0; k < n; k++)
		if (k % 3)
			bound_rec(&m, w1, k, 0);
	for (k = n - 1; k >= 0; k--)
		if (!(k % 3))
			bound_rec(&m, w2, k, 0);
	CHECK_EQ_INT(D->merge(st, w2), 0);
	CHECK_EQ_INT(D->merge(st, w1), 0);
	D->state_free(w1);
	D->state_free(w2);
	finish(&m, st);
	D->state_free(st);
	same_findings(&a, &m);
	same_findings(&m, &a);

	setup(&all);
	st = D->state_new();
	for (k = 0; k < n; k++)
		bound_rec(&all, st, k, 1);
	finish(&all, st);
	D->state_free(st);
	CHECK_EQ_INT(mm_agg_count(all.agg), BOUND_ENIS / 400);
	teardown(&a);
	teardown(&b);
	teardown(&m);
	teardown(&all);
}

/* A stored row stays under the store's 1 MiB limit: two ENIs of the same
 * shard with 4096 buckets each (~700 KB apiece) do not both fit, so the
 * second is left out (counted as dropped) and the save still succeeds.
 * (The shard is the top byte of the ENI name's hash, seed 0x646f73, as in
 * dos.c.) */
MM_TEST(row_stays_under_store_limit)
{
	struct fixture fx;
	struct mmtest_rows r = {0};
	char name[2][16], line[256];
	void *st, *ns;
	int a = 0, b, i, k, in0, in1;

	for (b = 1; b < 4096; b++) {
		char x[16], y[16];
		snprintf(x, sizeof(x), "eni-%04x", a);
		snprintf(y, sizeof(y), "eni-%04x", b);
		if (mm_hash(x, strlen(x), 0x646f73) >> 56 == mm_hash(y, strlen(y), 0x646f73) >> 56)
			break;
	}
	CHECK(b < 4096);
	snprintf(name[0], sizeof(name[0]), "eni-%04x", a);
	snprintf(name[1], sizeof(name[1]), "eni-%04x", b);
	setup(&fx);
	st = D->state_new();
	for (k = 0; k < 2; k++)
		for (i = 0; i < 4096; i++) {
			struct mm_event ev;
			struct mm_err e;
			snprintf(line, sizeof(line),
				 "2 111122223333 %s 10.0.1.10 11.0.%d.%d 40000 80 6 5000 200000 %ld %ld ACCEPT OK",
				 name[k], i >> 8, i & 255, (long)T0, (long)T0 + 60);
			memset(&ev, 0, sizeof(ev));
			mm_arena_reset(&fx.scratch);
			CHECK_EQ_INT(mm_flow_parse(&fx.fmt, line, strlen(line), &fx.scratch, &ev, &e), 0);
			ev.loc.file = "t.log";
			ev.loc.line = (uint64_t)(k * 4096 + i + 1);
			D->on_event(st, &fx.d, &ev);
		}
	finish(&fx, st);
	CHECK_EQ_INT(D->save(st, mmtest_put_row, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK(r.len[0] <= (size_t)1 << 20);
	in0 = has(r.blob[0], r.len[0], name[0]);
	in1 = has(r.blob[0], r.len[0], name[1]);
	CHECK(in0 + in1 == 1);
	ns = D->state_new();
	CHECK_EQ_INT(D->load(ns, r.entity[0], D->state_version, r.blob[0], r.len[0]), 0);
	D->state_free(ns);
	mmtest_rows_free(&r);
	D->state_free(st);
	teardown(&fx);
}
