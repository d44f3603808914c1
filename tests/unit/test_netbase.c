/* test_netbase.c - the baseline detector: each finding type with a
 * positive and a look-alike, the learning edge, the item cap, exact
 * merge, save/load continuing a baseline, and hostile state blobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "mmtest.h"

#define DET mm_det_netbase
#define DAY 86400LL
#define T0 1709251200LL /* 2024-03-01T00:00:00Z */
#define ENI "eni-0aaa1111bbbb2222c"
#define LOCAL "10.0.1.5"

enum { P_LEARN, P_MAX_ITEMS, P_SPAM_IPS, P_VOL_FACTOR, P_VOL_FLOOR, P_MAX_HOURS };

struct fx {
	void *st;
	struct mm_intel *in;
	struct mm_agg *agg;
	struct mm_inventory *inv;
	struct mm_detect_ctx c;
	struct mm_file_ctx fc;
	double p[MM_PARAMS_MAX];
	uint64_t line;
};

static void setup(struct fx *x)
{
	struct mm_err e;
	const char *tr = "198.51.100.99\n";
	memset(x, 0, sizeof(*x));
	x->st = DET.state_new();
	CHECK(x->st != NULL);
	CHECK_EQ_INT(mm_intel_new(&x->in), 0);
	CHECK_EQ_INT(mm_intel_load_trusted_mem(x->in, "trusted.txt", tr, strlen(tr), &e), 0);
	CHECK_EQ_INT(mm_intel_build(x->in, &e), 0);
	CHECK_EQ_INT(mm_agg_new(&x->agg, 1000), 0);
	CHECK_EQ_INT(mm_inventory_new(&x->inv), 0);
	mm_detector_defaults(&DET, x->p);
	x->c.intel = x->in;
	x->c.agg = x->agg;
	x->c.inv = x->inv;
	x->c.params = x->p;
	mm_file_ctx_from_path(&x->fc, "t/AWSLogs/111122223333/vpcflowlogs/us-east-1/x.log");
	x->c.file = &x->fc;
}

static void teardown(struct fx *x)
{
	DET.state_free(x->st);
	mm_agg_free(x->agg);
	mm_inventory_free(x->inv);
	mm_intel_free(x->in);
}

/* One ACCEPTed record src:sp -> dst:dp on eni at t. */
static void rec_on(struct fx *x, void *st, const char *eni, const char *src, int sp,
		   const char *dst, int dp, int proto, uint64_t bytes, int64_t t)
{
	struct mm_event ev;
	struct mm_flow *f = &ev.u.flow;
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_FLOW;
	ev.loc.file = "t.log";
	ev.loc.line = ++x->line;
	f->version = 2;
	f->has_addrs = f->has_ports = 1;
	f->action = MM_ACT_ACCEPT;
	f->status = MM_LOGST_OK;
	CHECK_EQ_INT(mm_ip_parse(src, strlen(src), &f->src), 0);
	CHECK_EQ_INT(mm_ip_parse(dst, strlen(dst), &f->dst), 0);
	f->sport = (uint16_t)sp;
	f->dport = (uint16_t)dp;
	f->proto = (uint8_t)proto;
	f->bytes = bytes;
	f->packets = 1 + bytes / 1000;
	f->start = t;
	f->end = t + 30;
	f->eni = mm_str_c(eni);
	f->account = mm_str_c("111122223333");
	DET.on_event(st, &x->c, &ev);
}

static void rec(struct fx *x, const char *src, int sp, const char *dst, int dp, int proto,
		uint64_t bytes, int64_t t)
{
	rec_on(x, x->st, ENI, src, sp, dst, dp, proto, bytes, t);
}

/* Outbound tcp from the instance to remote:port at t. */
static void out(struct fx *x, const char *remote, int port, int64_t t)
{
	rec(x, LOCAL, 40000 + (int)(x->line % 20000), remote, port, 6, 2000, t);
}

/* A web host: 443 to a CDN every day of days [0, n) */
static void web_days(struct fx *x, int n)
{
	int d;
	for (d = 0; d < n; d++)
		out(x, "93.184.216.34", 443, T0 + d * DAY + 3600);
}

static void finish(struct fx *x)
{
	DET.finish(x->st, &x->c);
}

static int count(struct fx *x, const char *type)
{
	size_t i;
	int n = 0;
	for (i = 0; i < mm_agg_count(x->agg); i++)
		n += strcmp(mm_agg_at(x->agg, i)->type, type) == 0;
	return n;
}

static struct mm_finding *get(struct fx *x, const char *type)
{
	size_t i;
	for (i = 0; i < mm_agg_count(x->agg); i++)
		if (strcmp(mm_agg_at(x->agg, i)->type, type) == 0)
			return mm_agg_at(x->agg, i);
	return NULL;
}

#define PORT "Behavior:EC2/NetworkPortUnusual"
#define SPAM "Backdoor:EC2/Spambot"
#define VOL "Behavior:EC2/TrafficVolumeUnusual"
#define RES "DefenseEvasion:EC2/UnusualDNSResolver"
#define DOH "DefenseEvasion:EC2/UnusualDoHActivity"
#define DOT "DefenseEvasion:EC2/UnusualDoTActivity"

MM_TEST(new_port_after_learning_fires_once_with_details)
{
	struct fx x;
	struct mm_finding *f;
	char ip[MM_IP_STRLEN];
	setup(&x);
	web_days(&x, 9);
	out(&x, "203.0.113.50", 6667, T0 + 8 * DAY + 7200);
	out(&x, "203.0.113.50", 6667, T0 + 8 * DAY + 7300);
	finish(&x);
	CHECK_EQ_INT(mm_agg_count(x.agg), 1);
	f = get(&x, PORT);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->role, MM_ROLE_ACTOR);
		CHECK_EQ_INT(f->direction, MM_DIR_OUTBOUND);
		CHECK_EQ_INT(f->remote_port, 6667);
		CHECK_EQ_STR(mm_ip_format(&f->remote_ip, ip), "203.0.113.50");
		CHECK(f->has_local_ip);
		CHECK_EQ_STR(mm_ip_format(&f->local_ip, ip), LOCAL);
		CHECK_EQ_STR(f->eni, ENI);
		CHECK_EQ_STR(f->protocol, "TCP");
		CHECK_EQ_INT(f->first_seen_ms, (T0 + 8 * DAY + 7200) * 1000);
		CHECK(f->nevidence >= 1);
		CHECK(strstr(f->info, "\"unusualPort\":6667") != NULL);
	}
	/* reported once: a later flush of the same state adds nothing */
	finish(&x);
	f = get(&x, PORT);
	CHECK(f && f->count == 1);
	teardown(&x);
}

MM_TEST(port_seen_in_learning_or_before_baseline_does_not_fire)
{
	struct fx x;
	setup(&x);
	web_days(&x, 9);
	out(&x, "203.0.113.50", 6667, T0 + 3 * DAY); /* learned */
	out(&x, "203.0.113.51", 6667, T0 + 8 * DAY);
	out(&x, "203.0.113.52", 8443, T0 + 8 * DAY); /* positive control */
	finish(&x);
	CHECK_EQ_INT(count(&x, PORT), 1);
	CHECK(get(&x, PORT) && get(&x, PORT)->remote_port == 8443);
	teardown(&x);

	/* only six days of data: no baseline yet, nothing fires */
	setup(&x);
	web_days(&x, 6);
	out(&x, "203.0.113.52", 8443, T0 + 5 * DAY + 100);
	finish(&x);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	teardown(&x);
}

MM_TEST(learning_edge_is_exact)
{
	struct fx x;
	setup(&x);
	out(&x, "93.184.216.34", 443, T0);
	out(&x, "203.0.113.1", 8001, T0 + 7 * DAY - 1); /* still learning */
	out(&x, "203.0.113.1", 8002, T0 + 7 * DAY);	 /* first second after */
	finish(&x);
	CHECK_EQ_INT(count(&x, PORT), 1);
	CHECK(get(&x, PORT) && get(&x, PORT)->remote_port == 8002);
	teardown(&x);

	/* learning_days is a param */
	setup(&x);
	x.p[P_LEARN] = 2;
	out(&x, "93.184.216.34", 443, T0);
	out(&x, "203.0.113.1", 8002, T0 + 2 * DAY);
	finish(&x);
	CHECK_EQ_INT(count(&x, PORT), 1);
	teardown(&x);
}

MM_TEST(inbound_private_and_trusted_do_not_fire)
{
	struct fx x;
	setup(&x);
	web_days(&x, 9);
	/* inbound accepted on a new port: baseline only */
	rec(&x, "198.51.100.7", 51000, LOCAL, 8080, 6, 500, T0 + 8 * DAY);
	/* private to private on a new port */
	rec(&x, LOCAL, 40001, "10.0.2.9", 5432, 6, 500, T0 + 8 * DAY);
	/* the security team's trusted host on a new port */
	out(&x, "198.51.100.99", 9999, T0 + 8 * DAY);
	/* both ports in the ephemeral range: no server port to judge */
	rec(&x, LOCAL, 50123, "203.0.113.8", 40999, 17, 500, T0 + 8 * DAY);
	out(&x, "203.0.113.9", 7777, T0 + 8 * DAY); /* positive control */
	finish(&x);
	CHECK_EQ_INT(mm_agg_count(x.agg), 1);
	CHECK(get(&x, PORT) && get(&x, PORT)->remote_port == 7777);
	teardown(&x);
}

static void mail_burst(struct fx *x, int n, int64_t t)
{
	int i;
	char ip[32];
	for (i = 0; i < n; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", 100 + i);
		out(x, ip, 25, t + i * 60);
	}
}

MM_TEST(spambot_many_mx_in_an_hour_vs_relay_and_few)
{
	struct fx x;
	setup(&x);
	web_days(&x, 9);
	mail_burst(&x, 10, T0 + 8 * DAY + 3600);
	finish(&x);
	CHECK_EQ_INT(count(&x, SPAM), 1);
	CHECK_EQ_INT(count(&x, PORT), 0); /* 25 is Spambot's, not a port finding */
	CHECK(get(&x, SPAM) && get(&x, SPAM)->remote_port == 25);
	CHECK(get(&x, SPAM) && get(&x, SPAM)->role == MM_ROLE_ACTOR);
	teardown(&x);

	/* nine remotes in the hour: below the count */
	setup(&x);
	web_days(&x, 9);
	mail_burst(&x, 9, T0 + 8 * DAY + 3600);
	finish(&x);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	teardown(&x);

	/* ten remotes spread over two hours: not within one hour */
	setup(&x);
	web_days(&x, 9);
	mail_burst(&x, 5, T0 + 8 * DAY + 3600);
	mail_burst(&x, 5, T0 + 8 * DAY + 3 * 3600);
	finish(&x);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	teardown(&x);

	/* a relay that always sent on 25 (to its smarthost) then a burst */
	setup(&x);
	web_days(&x, 9);
	out(&x, "203.0.113.25", 25, T0 + DAY);
	mail_burst(&x, 14, T0 + 8 * DAY + 3600);
	finish(&x);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	teardown(&x);
}

MM_TEST(volume_burst_vs_nightly_backup_and_floor)
{
	struct fx x;
	int d;
	const uint64_t GB = 1ULL << 30;

	/* a nightly 3 GiB backup at 02:00: in the baseline every night */
	setup(&x);
	for (d = 0; d < 10; d++) {
		rec(&x, LOCAL, 40000, "52.216.1.1", 443, 6, 3 * GB, T0 + d * DAY + 2 * 3600);
		rec(&x, LOCAL, 40001, "93.184.216.34", 443, 6, 20000000, T0 + d * DAY + 9 * 3600);
	}
	finish(&x);
	CHECK_EQ_INT(count(&x, VOL), 0);
	teardown(&x);

	/* 50 MB hours for 8 days, then 2 GiB in an hour */
	setup(&x);
	for (d = 0; d < 9; d++)
		rec(&x, LOCAL, 40001, "93.184.216.34", 443, 6, 50000000, T0 + d * DAY + 9 * 3600);
	rec(&x, LOCAL, 40002, "203.0.113.77", 443, 6, GB, T0 + 8 * DAY + 14 * 3600);
	rec(&x, LOCAL, 40002, "203.0.113.77", 443, 6, GB, T0 + 8 * DAY + 14 * 3600 + 600);
	/* inbound bytes (a download) never count */
	rec(&x, "203.0.113.78", 443, LOCAL, 40003, 6, 50 * GB, T0 + 8 * DAY + 16 * 3600);
	finish(&x);
	CHECK_EQ_INT(count(&x, VOL), 1);
	{
		struct mm_finding *f = get(&x, VOL);
		char ip[MM_IP_STRLEN];
		CHECK(f != NULL);
		if (f) {
			CHECK_EQ_STR(mm_ip_format(&f->remote_ip, ip), "203.0.113.77");
			CHECK(strstr(f->info, "\"hourBytes\":2147483648") != NULL);
		}
	}
	teardown(&x);

	/* 0.9 GiB over a tiny baseline: under the 1 GiB floor */
	setup(&x);
	for (d = 0; d < 9; d++)
		rec(&x, LOCAL, 40001, "93.184.216.34", 443, 6, 1000, T0 + d * DAY + 9 * 3600);
	rec(&x, LOCAL, 40002, "203.0.113.77", 443, 6, GB * 9 / 10, T0 + 8 * DAY + 14 * 3600);
	finish(&x);
	CHECK_EQ_INT(count(&x, VOL), 0);
	teardown(&x);
}

MM_TEST(resolver_doh_dot_and_the_inventory_tag)
{
	struct fx x;
	struct mm_instance inst;
	setup(&x);
	web_days(&x, 9);
	rec(&x, LOCAL, 53000, "8.8.8.8", 53, 17, 80, T0 + 8 * DAY);
	out(&x, "1.1.1.1", 443, T0 + 8 * DAY + 10);
	out(&x, "198.51.100.53", 853, T0 + 8 * DAY + 20);
	finish(&x);
	CHECK_EQ_INT(count(&x, RES), 1);
	CHECK_EQ_INT(count(&x, DOH), 1);
	CHECK_EQ_INT(count(&x, DOT), 1);
	CHECK_EQ_INT(count(&x, PORT), 0); /* 53 and 853 are the resolver rules' */
	CHECK(get(&x, RES) && get(&x, RES)->remote_port == 53);
	teardown(&x);

	/* used during learning: baseline */
	setup(&x);
	web_days(&x, 9);
	rec(&x, LOCAL, 53000, "8.8.8.8", 53, 17, 80, T0 + DAY);
	out(&x, "1.0.0.1", 443, T0 + DAY);
	rec(&x, LOCAL, 53000, "8.8.8.8", 53, 17, 80, T0 + 8 * DAY);
	out(&x, "1.1.1.1", 443, T0 + 8 * DAY); /* DoH is one item: any DoH server */
	out(&x, "1.2.3.4", 443, T0 + 8 * DAY); /* 443 to a non-DoH address */
	rec(&x, LOCAL, 53000, "9.9.9.9", 53, 17, 80, T0 + 8 * DAY); /* control */
	finish(&x);
	CHECK_EQ_INT(mm_agg_count(x.agg), 1);
	CHECK_EQ_INT(count(&x, RES), 1);
	teardown(&x);

	/* the instance announces its resolvers in a tag */
	setup(&x);
	memset(&inst, 0, sizeof(inst));
	snprintf(inst.instance_id, sizeof(inst.instance_id), "i-0123456789abcdef0");
	inst.nnif = 1;
	snprintf(inst.nifs[0].eni, sizeof(inst.nifs[0].eni), "%s", ENI);
	inst.ntags = 1;
	snprintf(inst.tags[0].key, sizeof(inst.tags[0].key), "mamori:dns-resolver");
	snprintf(inst.tags[0].value, sizeof(inst.tags[0].value), "9.9.9.9, 1.1.1.1");
	CHECK_EQ_INT(mm_inventory_put(x.inv, &inst), 0);
	web_days(&x, 9);
	rec(&x, LOCAL, 53000, "9.9.9.9", 53, 17, 80, T0 + 8 * DAY);
	out(&x, "1.1.1.1", 443, T0 + 8 * DAY);
	rec(&x, LOCAL, 53000, "8.8.4.4", 53, 17, 80, T0 + 8 * DAY); /* not announced */
	finish(&x);
	CHECK_EQ_INT(mm_agg_count(x.agg), 1);
	CHECK_EQ_INT(count(&x, RES), 1);
	teardown(&x);
}

MM_TEST(item_cap_keeps_the_earliest_and_never_fires_on_overflow)
{
	struct fx x;
	int i;
	setup(&x);
	x.p[P_MAX_ITEMS] = 16;
	web_days(&x, 9);
	for (i = 0; i < 40; i++)
		out(&x, "203.0.113.5", 2000 + i, T0 + DAY + i);
	out(&x, "203.0.113.5", 6667, T0 + 8 * DAY); /* past the cap: not learned, not fired */
	finish(&x);
	CHECK_EQ_INT(mm_agg_count(x.agg), 0);
	teardown(&x);

	/* the cap keeps the earliest items whatever the order: an early item
	 * arriving last still displaces a later one */
	setup(&x);
	x.p[P_MAX_ITEMS] = 16;
	for (i = 0; i < 16; i++)
		out(&x, "203.0.113.5", 3000 + i, T0 + 8 * DAY + i);
	out(&x, "93.184.216.34", 443, T0); /* the baseline's start, seen last */
	finish(&x);
	/* 443 displaced 3015; 3000..3014 are new after learning: one finding */
	CHECK_EQ_INT(count(&x, PORT), 1);
	CHECK(get(&x, PORT) && get(&x, PORT)->count == 15);
	teardown(&x);
}

/* Evidence is packed (v4 pairs inline): an IPv6 pair is kept beside it,
 * through growth of the evidence array, the cap's rebuilds and a merge. */
MM_TEST(ipv6_evidence_survives_packing_growth_cap_and_merge)
{
	struct fx x, y;
	struct mm_finding *f;
	char ip[MM_IP_STRLEN];
	void *a;
	int i;

	setup(&x);
	web_days(&x, 9);
	for (i = 0; i < 5; i++) /* v4 evidence first: the v6 pair comes after growth */
		out(&x, "203.0.113.50", 2000 + i, T0 + 8 * DAY + 3600 + i);
	rec(&x, "fd00::5", 40001, "2600:1f18:aaaa::50", 6667, 6, 2000, T0 + 8 * DAY + 7200);
	for (i = 0; i < 5; i++) /* and more after it */
		out(&x, "203.0.113.50", 2100 + i, T0 + 8 * DAY + 100 + i);
	finish(&x);
	f = get(&x, PORT);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->count, 11);
		CHECK_EQ_INT(f->remote_port, 6667); /* the latest new port's details */
		CHECK_EQ_STR(mm_ip_format(&f->remote_ip, ip), "2600:1f18:aaaa::50");
		CHECK(f->has_local_ip);
		CHECK_EQ_STR(mm_ip_format(&f->local_ip, ip), "fd00::5");
		CHECK_EQ_INT(f->first_seen_ms, (T0 + 8 * DAY + 100) * 1000);
		CHECK_EQ_INT(f->last_seen_ms, (T0 + 8 * DAY + 7200) * 1000);
	}
	teardown(&x);

	/* at the cap, split over two states: the other state's earlier
	 * items displace later ones around the v6 pair at the merge */
	setup(&y);
	y.p[P_MAX_ITEMS] = 16;
	a = DET.state_new();
	web_days(&y, 9);
	rec(&y, "fd00::5", 40001, "2600:1f18:aaaa::50", 6667, 6, 2000, T0 + 8 * DAY + 50000);
	for (i = 0; i < 16; i++) /* later than the v6 item, latest first */
		rec_on(&y, a, ENI, LOCAL, 40000, "203.0.113.50", 3000 + i, 6, 2000,
		       T0 + 8 * DAY + 60000 - i * 100);
	for (i = 0; i < 14; i++) /* earlier: these and 443 and the v6 item are kept */
		rec_on(&y, a, ENI, LOCAL, 40000, "203.0.113.50", 4000 + i, 6, 2000,
		       T0 + 8 * DAY + 1000 + i);
	CHECK_EQ_INT(DET.merge(y.st, a), 0);
	DET.state_free(a);
	finish(&y);
	f = get(&y, PORT);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->count, 15); /* 16 kept, 443 among them */
		CHECK_EQ_INT(f->remote_port, 6667);
		CHECK_EQ_STR(mm_ip_format(&f->remote_ip, ip), "2600:1f18:aaaa::50");
	}
	teardown(&y);
}

MM_TEST(hostile_port_sweep_stays_bounded_and_fast)
{
	struct fx x;
	int i;
	struct mm_finding *f;
	setup(&x);
	web_days(&x, 9);
	/* an outbound sweep of every non-ephemeral port, twice (tcp and udp):
	 * 65k new items against a cap of 256, turned away in O(1) each */
	for (i = 1; i < 32768; i++) {
		rec(&x, LOCAL, 40000, "203.0.113.200", i, 6, 60, T0 + 8 * DAY + i);
		rec(&x, LOCAL, 40000, "203.0.113.200", i, 17, 60, T0 + 8 * DAY + i);
	}
	finish(&x);
	/* the earliest new ports fit under the cap and are reported, in one
	 * finding; the rest are neither learned nor reported */
	f = get(&x, PORT);
	CHECK(f != NULL);
	CHECK(f && f->count > 200 && f->count < 256);
	CHECK_EQ_INT(count(&x, PORT), 1);
	teardown(&x);
}

/* The records of a small estate, in order; i selects a subset. */
static void estate(struct fx *x, void *st, int from_day, int to_day, int parity)
{
	int d, h, k = 0;
	for (d = from_day; d < to_day; d++)
		for (h = 0; h < 24; h += 6) {
			int64_t t = T0 + d * DAY + h * 3600;
			if (parity >= 0 && (k++ & 1) != parity)
				continue;
			rec_on(x, st, ENI, LOCAL, 41000, "93.184.216.34", 443, 6, 40000000, t);
			rec_on(x, st, "eni-0bbb", "10.0.1.6", 41000, "203.0.113.25", 25, 6, 4000, t);
			if (d == 8 && h == 12) {
				char ip[32];
				int i;
				rec_on(x, st, ENI, LOCAL, 41000, "203.0.113.50", 6667, 6, 1000, t);
				rec_on(x, st, ENI, LOCAL, 41000, "8.8.8.8", 53, 17, 100, t);
				rec_on(x, st, ENI, LOCAL, 41000, "9.9.9.9", 443, 6, 100, t);
				rec_on(x, st, ENI, LOCAL, 41000, "203.0.113.9", 853, 6, 100, t);
				rec_on(x, st, ENI, LOCAL, 41000, "203.0.113.77", 443, 6, 3ULL << 30, t);
				for (i = 0; i < 12; i++) {
					snprintf(ip, sizeof(ip), "198.18.7.%d", i + 1);
					rec_on(x, st, ENI, LOCAL, 41000 + i, ip, 587, 6, 3000, t + i);
				}
			}
		}
}

/* The findings as sorted text: type, resource, count, times, port. */
static void summary(struct fx *x, char *out, size_t cap)
{
	char lines[64][160];
	size_t i, n = mm_agg_count(x->agg), k;
	out[0] = '\0';
	for (i = 0; i < n && i < 64; i++) {
		struct mm_finding *f = mm_agg_at(x->agg, i);
		char ip[MM_IP_STRLEN];
		snprintf(lines[i], sizeof(lines[i]), "%s %s %llu %lld %lld %u %s %s\n", f->type,
			 f->eni, (unsigned long long)f->count, (long long)f->first_seen_ms,
			 (long long)f->last_seen_ms, f->remote_port, mm_ip_format(&f->remote_ip, ip),
			 f->info);
	}
	qsort(lines, i, sizeof(lines[0]), (int (*)(const void *, const void *))strcmp);
	for (k = 0; k < i; k++)
		strncat(out, lines[k], cap - strlen(out) - 1);
}

MM_TEST(merge_is_exact_whatever_the_split)
{
	struct fx one, two;
	void *a, *b;
	char s1[8192], s2[8192];

	setup(&one);
	estate(&one, one.st, 0, 10, -1);
	finish(&one);
	summary(&one, s1, sizeof(s1));
	CHECK(strstr(s1, PORT) && strstr(s1, SPAM) && strstr(s1, VOL) && strstr(s1, RES) &&
	      strstr(s1, DOH) && strstr(s1, DOT));

	/* alternate records to two states, the second fed backwards in time
	 * order by days; merge both ways */
	setup(&two);
	a = DET.state_new();
	b = DET.state_new();
	estate(&two, a, 5, 10, 0);
	estate(&two, b, 0, 10, 1);
	estate(&two, a, 0, 5, 0);
	CHECK_EQ_INT(DET.merge(two.st, b), 0);
	CHECK_EQ_INT(DET.merge(two.st, a), 0);
	DET.state_free(a);
	DET.state_free(b);
	finish(&two);
	summary(&two, s2, sizeof(s2));
	CHECK_EQ_STR(s2, s1);
	teardown(&one);
	teardown(&two);
}

MM_TEST(spambot_burst_split_between_threads_still_counts)
{
	struct fx x;
	void *a, *b;
	char ip[32];
	int i;
	setup(&x);
	a = DET.state_new();
	b = DET.state_new();
	for (i = 0; i < 9; i++)
		rec_on(&x, i & 1 ? a : b, ENI, LOCAL, 40000, "93.184.216.34", 443, 6, 100,
		       T0 + i * DAY);
	/* 14 MXs in one hour, half seen by each thread (7 each: under the count) */
	for (i = 0; i < 14; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", 100 + i);
		rec_on(&x, i & 1 ? a : b, ENI, LOCAL, 41000 + i, ip, 25, 6, 3000,
		       T0 + 8 * DAY + 3600 + i * 60);
	}
	/* then a day of mail in each thread, one server an hour */
	for (i = 0; i < 24; i++) {
		rec_on(&x, a, ENI, LOCAL, 42000, "198.51.100.25", 25, 6, 3000, T0 + 8 * DAY + (2 + i) * 3600);
		rec_on(&x, b, ENI, LOCAL, 42000, "198.51.100.25", 25, 6, 3000, T0 + 8 * DAY + (2 + i) * 3600);
	}
	CHECK_EQ_INT(DET.merge(x.st, a), 0);
	CHECK_EQ_INT(DET.merge(x.st, b), 0);
	DET.state_free(a);
	DET.state_free(b);
	finish(&x);
	CHECK_EQ_INT(count(&x, SPAM), 1);
	teardown(&x);
}

MM_TEST(save_load_continues_the_baseline)
{
	struct fx one, two;
	struct mmtest_rows bl = {0};
	char s1[8192], s2[8192];
	int i;

	setup(&one);
	estate(&one, one.st, 0, 10, -1);
	finish(&one);
	summary(&one, s1, sizeof(s1));

	/* days 0-5 scanned, saved; a new process loads and scans 5-10 */
	setup(&two);
	estate(&two, two.st, 0, 5, -1);
	finish(&two);
	CHECK_EQ_INT(mm_agg_count(two.agg), 0);
	CHECK_EQ_INT(DET.save(two.st, mmtest_put_row, &bl), 0);
	CHECK_EQ_INT(bl.n, 2);
	DET.state_free(two.st);
	two.st = DET.state_new();
	for (i = 0; i < bl.n; i++)
		CHECK_EQ_INT(DET.load(two.st, bl.entity[i], DET.state_version, bl.blob[i], bl.len[i]), 0);
	estate(&two, two.st, 5, 10, -1);
	finish(&two);
	summary(&two, s2, sizeof(s2));
	CHECK_EQ_STR(s2, s1);
	mmtest_rows_free(&bl);

	/* and what was reported stays reported across a save/load */
	CHECK_EQ_INT(DET.save(two.st, mmtest_put_row, &bl), 0);
	DET.state_free(two.st);
	two.st = DET.state_new();
	for (i = 0; i < bl.n; i++)
		CHECK_EQ_INT(DET.load(two.st, bl.entity[i], DET.state_version, bl.blob[i], bl.len[i]), 0);
	mm_agg_free(two.agg);
	CHECK_EQ_INT(mm_agg_new(&two.agg, 1000), 0);
	two.c.agg = two.agg;
	finish(&two);
	CHECK_EQ_INT(mm_agg_count(two.agg), 0);
	mmtest_rows_free(&bl);
	teardown(&one);
	teardown(&two);
}

/* The state of x saved, and loaded into a fresh one (a new scan). */
static void reload(struct fx *x)
{
	struct mmtest_rows bl = {0};
	int i;
	CHECK_EQ_INT(DET.save(x->st, mmtest_put_row, &bl), 0);
	DET.state_free(x->st);
	x->st = DET.state_new();
	for (i = 0; i < bl.n; i++)
		CHECK_EQ_INT(DET.load(x->st, bl.entity[i], DET.state_version, bl.blob[i], bl.len[i]), 0);
	mmtest_rows_free(&bl);
}

MM_TEST(days_scanned_newest_first_still_fire)
{
	/* day 8 (a new port, a new resolver, a spambot hour) is scanned
	 * first, with no baseline yet; days 0-7 come in a later scan. Each
	 * fires then with its own record, as one scan of all nine days
	 * does. */
	struct fx x;
	struct mm_finding *f;
	int k;
	for (k = 0; k < 2; k++) {
		setup(&x);
		out(&x, "203.0.113.7", 6667, T0 + 8 * DAY + 100);
		rec(&x, LOCAL, 53000, "8.8.8.8", 53, 17, 80, T0 + 8 * DAY + 200);
		mail_burst(&x, 10, T0 + 8 * DAY + 3600);
		finish(&x);
		CHECK_EQ_INT(mm_agg_count(x.agg), 0);
		if (k)
			reload(&x);
		web_days(&x, 8);
		finish(&x);
		CHECK_EQ_INT(count(&x, PORT), 1);
		CHECK_EQ_INT(count(&x, RES), 1);
		CHECK_EQ_INT(count(&x, SPAM), 1);
		f = get(&x, PORT);
		CHECK(f && f->remote_port == 6667 && f->nevidence == 1 && f->ev[0].line == 1 &&
		      f->first_seen_ms == (T0 + 8 * DAY + 100) * 1000);
		f = get(&x, SPAM);
		CHECK(f && f->nevidence == 1 && f->ev[0].line == 3);
		/* reported once: another scan adds nothing */
		mm_agg_clear(x.agg);
		reload(&x);
		finish(&x);
		CHECK_EQ_INT(mm_agg_count(x.agg), 0);
		teardown(&x);
	}
}

MM_TEST(malformed_blobs_are_rejected)
{
	struct fx x;
	struct mmtest_rows bl = {0};
	unsigned char *m;
	size_t i, n;
	setup(&x);
	estate(&x, x.st, 0, 10, -1);
	CHECK_EQ_INT(DET.save(x.st, mmtest_put_row, &bl), 0);
	CHECK(bl.n >= 1);
	n = bl.len[0];
	m = malloc(n + 8);
	/* every truncation, a bad version, a bad magic, garbage counts */
	for (i = 0; i < n; i++)
		CHECK(DET.load(x.st, "eni-trunc", DET.state_version, bl.blob[0], i) != 0);
	CHECK(DET.load(x.st, "eni-v", 3, bl.blob[0], n) != 0);
	CHECK(DET.load(x.st, "eni-v1", 1, bl.blob[0], n) != 0); /* version 1 has no refs */
	CHECK(DET.load(x.st, "eni-v", DET.state_version, bl.blob[0], n) == 0);
	memcpy(m, bl.blob[0], n);
	m[0] = 'X';
	CHECK(DET.load(x.st, "eni-m", 1, m, n) != 0);
	memcpy(m, bl.blob[0], n);
	memset(m + 4, 0xff, 16); /* tmin > tmax */
	CHECK(DET.load(x.st, "eni-t", 1, m, n) != 0);
	CHECK(DET.load(x.st, "", 1, bl.blob[0], n) != 0);
	/* byte flips anywhere: accepted or rejected, never a crash */
	for (i = 0; i < n; i++) {
		memcpy(m, bl.blob[0], n);
		m[i] ^= 0xa5;
		(void)DET.load(x.st, "eni-flip", 1, m, n);
	}
	free(m);
	mmtest_rows_free(&bl);
	teardown(&x);
}
