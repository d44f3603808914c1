/* test_flows.c - the hunt (src/hunt/flows.c): the time an S3 key puts on
 * a file and the pruning it allows (edges of the window), every filter on
 * hand-built records (targets, overlap edges, CIDR bit edges, which side
 * is local), and whole runs over tests/data/flows and generated files:
 * sorted rows, --limit keeping exactly the earliest, summaries, the same
 * result for any thread count, hostile lines. Runs from the repository
 * root (scripts/run-tests.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mtime.h"
#include "enrich/inventory.h"
#include "finding/finding.h"
#include "hunt/flows.h"
#include "mmtest.h"

#define FIX "tests/data/flows/logs"
#define ENI_A "eni-0f10000000000000a"

static int64_t ts(const char *iso)
{
	int64_t ms = 0;
	CHECK_EQ_INT(mm_time_parse_iso(iso, strlen(iso), &ms), 0);
	return ms / 1000;
}

MM_TEST(key_time_from_stamp_and_folders)
{
	int64_t lo = 0, hi = 0;

	CHECK_EQ_INT(mm_flows_key_time("/x/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/04/"
				       "123456789012_vpcflowlogs_us-east-1_fl-0a_20240304T2105Z_1e2c.log.gz",
				       &lo, &hi), 1);
	CHECK_EQ_INT(lo, ts("2024-03-04T21:05:00Z"));
	CHECK_EQ_INT(hi, lo);
	/* no stamp: the date folder is the whole day */
	CHECK_EQ_INT(mm_flows_key_time("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/02/29/x.log",
				       &lo, &hi), 1);
	CHECK_EQ_INT(lo, ts("2024-02-29T00:00:00Z"));
	CHECK_EQ_INT(hi, ts("2024-03-01T00:00:00Z"));
	/* neither, or not a date: nothing is said */
	CHECK_EQ_INT(mm_flows_key_time("/logs/flows.log", &lo, &hi), 0);
	CHECK_EQ_INT(mm_flows_key_time("AWSLogs/1/vpcflowlogs/r/2024/13/04/x.log", &lo, &hi), 0);
	CHECK_EQ_INT(mm_flows_key_time("AWSLogs/1/vpcflowlogs/r/2024/03/x.log", &lo, &hi), 0);
	CHECK_EQ_INT(mm_flows_key_time("a_20241304T2105Z_b.log", &lo, &hi), 0);
	CHECK_EQ_INT(mm_flows_key_time("a_20240304T2465Z_b.log", &lo, &hi), 0);
	CHECK_EQ_INT(mm_flows_key_time("a_20240304T2105_b.log", &lo, &hi), 0);
}

MM_TEST(prune_edges)
{
	static struct mm_flows_query q;
	const char *f = "AWSLogs/1/vpcflowlogs/r/2024/03/04/1_vpcflowlogs_r_fl-0a_20240304T1005Z_ab.log";
	int64_t t = ts("2024-03-04T10:05:00Z");

	mm_flows_query_init(&q);
	/* other sources by their service folder, whatever the window */
	CHECK_EQ_INT(mm_flows_prune(&q, "AWSLogs/1/CloudTrail/r/2024/03/04/x.json.gz"), 1);
	CHECK_EQ_INT(mm_flows_prune(&q, "AWSLogs/1/vpcdnsquerylogs/vpc-1/2024/03/04/x.log"), 1);
	CHECK_EQ_INT(mm_flows_prune(&q, "AWSLogs/1/CloudTrail-Digest/r/x.json.gz"), 1);
	CHECK_EQ_INT(mm_flows_prune(&q, f), 0); /* no window: every flow file */
	/* since: the file's records lie within SLACK of its stamp */
	q.has_since = 1;
	q.since_ms = (t + MM_FLOWS_SLACK_S) * 1000;
	CHECK_EQ_INT(mm_flows_prune(&q, f), 0);
	q.since_ms = (t + MM_FLOWS_SLACK_S) * 1000 + 1;
	CHECK_EQ_INT(mm_flows_prune(&q, f), 1);
	q.no_prune = 1;
	CHECK_EQ_INT(mm_flows_prune(&q, f), 0);
	CHECK_EQ_INT(mm_flows_prune(&q, "AWSLogs/1/CloudTrail/r/x.json"), 1);
	q.no_prune = 0;
	/* until (exclusive) */
	q.has_since = 0;
	q.has_until = 1;
	q.until_ms = (t - MM_FLOWS_SLACK_S) * 1000 + 1;
	CHECK_EQ_INT(mm_flows_prune(&q, f), 0);
	q.until_ms = (t - MM_FLOWS_SLACK_S) * 1000;
	CHECK_EQ_INT(mm_flows_prune(&q, f), 1);
	/* a date folder: the whole day, with the slack */
	q.until_ms = (ts("2024-03-04T00:00:00Z") - MM_FLOWS_SLACK_S) * 1000;
	CHECK_EQ_INT(mm_flows_prune(&q, "AWSLogs/1/vpcflowlogs/r/2024/03/04/x.log"), 1);
	q.until_ms += 1;
	CHECK_EQ_INT(mm_flows_prune(&q, "AWSLogs/1/vpcflowlogs/r/2024/03/04/x.log"), 0);
	q.has_until = 0;
	q.has_since = 1;
	q.since_ms = (ts("2024-03-05T00:00:00Z") + MM_FLOWS_SLACK_S) * 1000;
	CHECK_EQ_INT(mm_flows_prune(&q, "AWSLogs/1/vpcflowlogs/r/2024/03/04/x.log"), 0);
	q.since_ms += 1;
	CHECK_EQ_INT(mm_flows_prune(&q, "AWSLogs/1/vpcflowlogs/r/2024/03/04/x.log"), 1);
	/* a path that says no time is always read */
	CHECK_EQ_INT(mm_flows_prune(&q, "/logs/flows.log"), 0);
}

MM_TEST(targets_bounded_and_deduplicated)
{
	static struct mm_flows_query q;
	char id[40];
	int i;

	mm_flows_query_init(&q);
	CHECK_EQ_INT(mm_flows_add_eni(&q, ""), MM_EINVAL);
	CHECK_EQ_INT(mm_flows_add_eni(&q, "eni-0123456789abcdef0123456789abcdef"), MM_EINVAL);
	CHECK_EQ_INT(mm_flows_add_eni(&q, ENI_A), 0);
	CHECK_EQ_INT(mm_flows_add_eni(&q, ENI_A), 0);
	CHECK_EQ_INT(q.nenis, 1);
	for (i = 1; i < MM_FLOWS_MAX_TARGETS; i++) {
		snprintf(id, sizeof(id), "eni-%d", i);
		CHECK_EQ_INT(mm_flows_add_eni(&q, id), 0);
	}
	CHECK_EQ_INT(mm_flows_add_eni(&q, "eni-one-too-many"), MM_ETOOBIG);
	CHECK_EQ_INT(mm_flows_add_instance(&q, "i-1"), 0);
	CHECK_EQ_INT(q.ninstances, 1);
}

/* A TCP record on ENI_A: src:sport -> dst:dport over [start, end]. */
static struct mm_flow flow(const char *src, int sport, const char *dst, int dport, int64_t start,
			   int64_t end)
{
	struct mm_flow f;

	memset(&f, 0, sizeof(f));
	f.eni = (struct mm_str){ENI_A, strlen(ENI_A)};
	f.has_addrs = f.has_ports = 1;
	f.proto = 6;
	f.action = MM_ACT_ACCEPT;
	f.status = MM_LOGST_OK;
	f.sport = (uint16_t)sport;
	f.dport = (uint16_t)dport;
	CHECK_EQ_INT(mm_ip_parse(src, strlen(src), &f.src), 0);
	CHECK_EQ_INT(mm_ip_parse(dst, strlen(dst), &f.dst), 0);
	f.start = start;
	f.end = end;
	f.packets = 1;
	f.bytes = 100;
	return f;
}

MM_TEST(match_targets_and_time_overlap)
{
	static struct mm_flows_query q;
	struct mm_flow f = flow("10.0.1.10", 40000, "203.0.113.5", 443, 1000, 1060);
	int sl;

	mm_flows_query_init(&q);
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 1);
	CHECK_EQ_INT(sl, 1); /* private source, public destination */
	mm_flows_add_eni(&q, "eni-other");
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 0);
	/* an instance target matches the record's instance-id */
	mm_flows_add_instance(&q, "i-0f10000000000000a");
	f.instance_id = (struct mm_str){"i-0f10000000000000a", 19};
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 1);
	f.instance_id = (struct mm_str){"i-0f10000000000000", 18}; /* a prefix is not it */
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 0);
	mm_flows_add_eni(&q, ENI_A);
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 1);
	/* [since, until): the record's [start, end] must overlap it */
	q.has_since = q.has_until = 1;
	q.since_ms = 1060 * 1000; /* the last packet at since: in */
	q.until_ms = 2000 * 1000;
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 1);
	q.since_ms = 1060 * 1000 + 1;
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 0);
	q.since_ms = 0;
	q.until_ms = 1000 * 1000; /* starts at until: out */
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 0);
	q.until_ms = 1000 * 1000 + 1;
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 1);
}

MM_TEST(match_ports_proto_action)
{
	static struct mm_flows_query q;
	struct mm_flow out = flow("10.0.1.10", 40000, "203.0.113.5", 443, 1000, 1060);
	struct mm_flow in = flow("203.0.113.5", 443, "10.0.1.10", 40000, 1000, 1060);
	struct mm_flow nodata = flow("0.0.0.0", 0, "0.0.0.0", 0, 1000, 1060);
	int sl;

	nodata.has_addrs = nodata.has_ports = 0;
	nodata.proto = 0;
	nodata.status = MM_LOGST_NODATA;
	mm_flows_query_init(&q);
	q.port = 443;
	CHECK_EQ_INT(mm_flows_match(&q, &out, &sl) + mm_flows_match(&q, &in, &sl), 2);
	CHECK_EQ_INT(mm_flows_match(&q, &nodata, &sl), 0);
	q.port = 444;
	CHECK_EQ_INT(mm_flows_match(&q, &out, &sl), 0);
	q.port = -1;
	/* the remote port is the remote side's, in either direction */
	q.remote_port = 443;
	CHECK_EQ_INT(mm_flows_match(&q, &out, &sl) + mm_flows_match(&q, &in, &sl), 2);
	q.remote_port = 40000;
	CHECK_EQ_INT(mm_flows_match(&q, &out, &sl) + mm_flows_match(&q, &in, &sl), 0);
	q.remote_port = -1;
	q.local_port = 40000;
	CHECK_EQ_INT(mm_flows_match(&q, &out, &sl) + mm_flows_match(&q, &in, &sl), 2);
	q.local_port = -1;
	q.proto = 17;
	CHECK_EQ_INT(mm_flows_match(&q, &out, &sl), 0);
	q.proto = 6;
	CHECK_EQ_INT(mm_flows_match(&q, &out, &sl), 1);
	CHECK_EQ_INT(mm_flows_match(&q, &nodata, &sl), 0);
	q.proto = -1;
	q.action = MM_ACT_REJECT;
	CHECK_EQ_INT(mm_flows_match(&q, &out, &sl), 0);
	out.action = MM_ACT_REJECT;
	CHECK_EQ_INT(mm_flows_match(&q, &out, &sl), 1);
	q.action = MM_ACT_NONE;
	CHECK_EQ_INT(mm_flows_match(&q, &nodata, &sl), 1); /* no traffic filter: listed */
}

MM_TEST(match_remote_cidr_and_local_side)
{
	static struct mm_flows_query q;
	struct mm_inventory *inv = NULL;
	struct mm_instance inst;
	struct mm_flow f = flow("10.0.1.10", 53111, "10.0.0.2", 53, 1000, 1060);
	struct mm_flow v6 = flow("2001:db8::10", 40000, "2001:db8:ff::1", 443, 1000, 1060);
	struct mm_flow pub = flow("198.51.100.1", 40000, "198.51.101.255", 443, 1000, 1060);
	int sl;

	mm_flows_query_init(&q);
	/* both private, no inventory: either side may be the remote one */
	q.has_remote = 1;
	CHECK_EQ_INT(mm_cidr_parse("10.0.1.10", 9, &q.remote, &q.remote_len), 0);
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 1);
	CHECK_EQ_INT(sl, -1);
	/* the inventory says 10.0.1.10 is the interface: not remote */
	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	memset(&inst, 0, sizeof(inst));
	snprintf(inst.instance_id, sizeof(inst.instance_id), "i-0f10000000000000a");
	inst.nnif = 1;
	snprintf(inst.nifs[0].eni, sizeof(inst.nifs[0].eni), ENI_A);
	inst.nifs[0].nprivate = 1;
	mm_ip_parse("10.0.1.10", 9, &inst.nifs[0].private_ips[0]);
	CHECK_EQ_INT(mm_inventory_put(inv, &inst), 0);
	q.inv = inv;
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 0);
	CHECK_EQ_INT(sl, 1);
	CHECK_EQ_INT(mm_cidr_parse("10.0.0.0/24", 11, &q.remote, &q.remote_len), 0);
	CHECK_EQ_INT(mm_flows_match(&q, &f, &sl), 1);
	/* prefix edges that are not whole bytes */
	CHECK_EQ_INT(mm_cidr_parse("198.51.100.0/23", 15, &q.remote, &q.remote_len), 0);
	CHECK_EQ_INT(mm_flows_match(&q, &pub, &sl), 1); /* 198.51.101.255 in /23 */
	CHECK_EQ_INT(mm_cidr_parse("198.51.100.0/24", 15, &q.remote, &q.remote_len), 0);
	CHECK_EQ_INT(mm_flows_match(&q, &pub, &sl), 1); /* undecided: the source is in it */
	CHECK_EQ_INT(mm_cidr_parse("198.51.102.0/23", 15, &q.remote, &q.remote_len), 0);
	CHECK_EQ_INT(mm_flows_match(&q, &pub, &sl), 0);
	/* families never match each other */
	CHECK_EQ_INT(mm_cidr_parse("2001:db8:ff::/48", 16, &q.remote, &q.remote_len), 0);
	CHECK_EQ_INT(mm_flows_match(&q, &v6, &sl), 1);
	CHECK_EQ_INT(mm_flows_match(&q, &pub, &sl), 0);
	CHECK_EQ_INT(mm_cidr_parse("2001:db8:fe::/47", 16, &q.remote, &q.remote_len), 0);
	CHECK_EQ_INT(mm_flows_match(&q, &v6, &sl), 1);
	CHECK_EQ_INT(mm_cidr_parse("2001:db8:fe::/48", 16, &q.remote, &q.remote_len), 0);
	CHECK_EQ_INT(mm_flows_match(&q, &v6, &sl), 0);
	/* the logged flow-direction decides when addresses cannot */
	q.has_remote = 0;
	v6.fdir = MM_FDIR_INGRESS;
	CHECK_EQ_INT(mm_flows_match(&q, &v6, &sl), 1);
	CHECK_EQ_INT(sl, 0);
	mm_inventory_free(inv);
}

static int quiet_set;

static int run(struct mm_flows_query *q, const char *path, struct mm_flows_result *res)
{
	struct mm_err err;
	const char *paths[1] = {path};
	int rc;

	mm_err_clear(&err);
	if (!quiet_set) {
		mm_log_set_level(MM_LOG_QUIET); /* the fixture's malformed line */
		quiet_set = 1;
	}
	rc = mm_flows_run(q, paths, 1, res, &err);
	if (rc)
		fprintf(stderr, "  run: %s\n", err.msg);
	return rc;
}

MM_TEST(run_fixtures_rows_sorted_and_limited)
{
	static struct mm_flows_query q;
	struct mm_flows_result r1, r3;
	size_t i;

	mm_flows_query_init(&q);
	mm_flows_add_eni(&q, ENI_A);
	q.threads = 1;
	CHECK_EQ_INT(run(&q, FIX, &r1), 0);
	CHECK_EQ_INT(r1.matched, 12);
	CHECK_EQ_INT(r1.nrows, 12);
	CHECK_EQ_INT(r1.records, 17);
	CHECK_EQ_INT(r1.bad_records, 1);
	CHECK_EQ_INT(r1.files_read, 4);
	CHECK_EQ_INT(r1.files_pruned, 2); /* CloudTrail and Route 53 by their keys */
	for (i = 1; i < r1.nrows; i++)
		CHECK(r1.rows[i - 1].start < r1.rows[i].start ||
		      (r1.rows[i - 1].start == r1.rows[i].start &&
		       r1.rows[i - 1].line < r1.rows[i].line));
	CHECK_EQ_STR(r1.rows[0].eni, ENI_A);
	CHECK_EQ_INT(r1.rows[0].line, 2);
	CHECK_EQ_INT(r1.rows[0].bytes, 5000);
	/* the same with three threads and a limit: exactly the earliest */
	q.threads = 3;
	q.limit = 5;
	CHECK_EQ_INT(run(&q, FIX, &r3), 0);
	CHECK_EQ_INT(r3.matched, 12);
	CHECK_EQ_INT(r3.nrows, 5);
	CHECK(memcmp(r1.rows, r3.rows, 5 * sizeof(*r1.rows)) == 0);
	mm_flows_result_free(&r1);
	mm_flows_result_free(&r3);
}

MM_TEST(run_instance_learned_from_runinstances)
{
	static struct mm_flows_query q;
	struct mm_flows_result r;
	struct mm_inventory *inv = NULL;

	mm_flows_query_init(&q);
	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	q.inv = inv;
	mm_flows_add_instance(&q, "i-0f10000000000000b");
	CHECK_EQ_INT(run(&q, FIX, &r), 0);
	CHECK_EQ_INT(r.instances_learned, 1);
	CHECK_EQ_INT(r.instances_unknown, 0);
	CHECK_EQ_INT(r.nrows, 2);
	CHECK_EQ_STR(r.rows[0].eni, "eni-0f10000000000000b");
	mm_flows_result_free(&r);
	/* no inventory to learn into: unknown, matched by instance-id only */
	q.inv = NULL;
	CHECK_EQ_INT(run(&q, FIX, &r), 0);
	CHECK_EQ_INT(r.instances_unknown, 1);
	CHECK_EQ_INT(r.nrows, 0);
	mm_flows_result_free(&r);
	mm_inventory_free(inv);
}

MM_TEST(run_summaries)
{
	static struct mm_flows_query q;
	struct mm_flows_result r;

	mm_flows_query_init(&q);
	mm_flows_add_eni(&q, ENI_A);
	q.mode = MM_FLOWS_TALKERS;
	CHECK_EQ_INT(run(&q, FIX, &r), 0);
	CHECK_EQ_INT(r.ngroups, 6); /* NODATA has no peer */
	CHECK_EQ_INT(r.groups[0].bytes, 103000);
	CHECK_EQ_INT(r.groups[0].flows, 3);
	CHECK_EQ_INT(r.groups[0].first, ts("2024-03-04T09:55:00Z"));
	CHECK_EQ_INT(r.groups[0].last, ts("2024-03-05T00:51:00Z"));
	mm_flows_result_free(&r);
	q.mode = MM_FLOWS_BYTES;
	CHECK_EQ_INT(run(&q, FIX, &r), 0);
	CHECK_EQ_INT(r.ngroups, 4);
	CHECK_EQ_INT(r.groups[0].hour, ts("2024-03-04T09:00:00Z"));
	CHECK_EQ_INT(r.groups[0].flows, 8);
	CHECK_EQ_INT(r.groups[3].hour, ts("2024-03-05T00:00:00Z"));
	mm_flows_result_free(&r);
	q.mode = MM_FLOWS_PORTS;
	CHECK_EQ_INT(run(&q, FIX, &r), 0);
	CHECK_EQ_INT(r.groups[0].port, 443);
	CHECK_EQ_INT(r.groups[0].dir, MM_DIR_OUTBOUND);
	CHECK_EQ_INT(r.groups[0].flows, 4);
	mm_flows_result_free(&r);
}

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mmtest_flowsXXXXXX");
	CHECK(mkdtemp(dir) != NULL);
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

/* Many files, many records, trimmed while reading: the result is the one
 * sort of everything would give, for 1 and 4 threads. */
MM_TEST(run_limit_trims_exactly_across_threads)
{
	static struct mm_flows_query q;
	struct mm_flows_result r1, r4, all;
	char path[128];
	int k, i;

	mkdir_tmp();
	for (k = 0; k < 6; k++) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/f%d.log", dir, k);
		f = fopen(path, "w");
		CHECK(f != NULL);
		if (!f)
			return;
		for (i = 0; i < 3000; i++) /* starts interleave across files */
			fprintf(f, "2 123456789012 %s 10.0.1.10 203.0.113.%d %d 443 6 1 %d %d %d ACCEPT OK\n",
				ENI_A, i % 250, 30000 + i, 40 + i, 1700000000 + (i * 7 + k * 3) % 5000,
				1700000060 + (i * 7 + k * 3) % 5000);
		fclose(f);
	}
	mm_flows_query_init(&q);
	q.threads = 4;
	q.limit = 1000;
	CHECK_EQ_INT(run(&q, dir, &r4), 0);
	q.threads = 1;
	CHECK_EQ_INT(run(&q, dir, &r1), 0);
	q.limit = 0;
	CHECK_EQ_INT(run(&q, dir, &all), 0);
	CHECK_EQ_INT(all.nrows, 18000);
	CHECK_EQ_INT(r4.matched, 18000);
	CHECK_EQ_INT(r4.nrows, 1000);
	CHECK(memcmp(r4.rows, all.rows, 1000 * sizeof(*all.rows)) == 0);
	CHECK(memcmp(r1.rows, all.rows, 1000 * sizeof(*all.rows)) == 0);
	/* summaries: 1 vs 4 threads give the same groups in the same order */
	mm_flows_result_free(&r1);
	mm_flows_result_free(&r4);
	q.mode = MM_FLOWS_TALKERS;
	q.threads = 1;
	CHECK_EQ_INT(run(&q, dir, &r1), 0);
	q.threads = 4;
	CHECK_EQ_INT(run(&q, dir, &r4), 0);
	CHECK_EQ_INT(r1.ngroups, 250);
	CHECK_EQ_INT(r4.ngroups, 250);
	CHECK(memcmp(r1.groups, r4.groups, 250 * sizeof(*r1.groups)) == 0);
	mm_flows_result_free(&r1);
	mm_flows_result_free(&r4);
	mm_flows_result_free(&all);
	rm_tmp();
}

/* Hostile input: an over-long line, binary junk, a header with an
 * unknown field, a truncated .gz: counted, located, never a crash. */
static void hostile(void)
{
	static struct mm_flows_query q;
	struct mm_flows_result r;
	char path[160], cmd[512];
	FILE *f;
	int i;

	mkdir_tmp();
	snprintf(path, sizeof(path), "%s/long.log", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "2 123456789012 %s 10.0.1.10 203.0.113.5 1 443 6 1 40 1700000000 1700000060 ACCEPT OK\n",
		ENI_A);
	for (i = 0; i < 300000; i++)
		fputc('9', f);
	fprintf(f, "\n2 123456789012 %s 10.0.1.10 203.0.113.6 1 443 6 1 40 1700000000 1700000060 ACCEPT OK\n",
		ENI_A);
	fclose(f);
	snprintf(path, sizeof(path), "%s/junk.bin", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	for (i = 0; i < 5000; i++)
		fputc((i * 131) & 0xff, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cp %s/long.log %s/cut && gzip -n %s/cut && head -c 60 %s/cut.gz > %s/cut.log.gz && rm %s/cut.gz",
		 dir, dir, dir, dir, dir, dir);
	CHECK_EQ_INT(system(cmd), 0);
	mm_flows_query_init(&q);
	quiet_set = 1; /* these messages are what the test reads */
	CHECK_EQ_INT(run(&q, dir, &r), 0);
	CHECK_EQ_INT(r.nrows, 2);
	CHECK(r.bad_records >= 2); /* the long line, the cut .gz */
	CHECK_EQ_INT(r.files_other, 1);
	CHECK_EQ_INT(r.files_read, 1);
	mm_flows_result_free(&r);
	rm_tmp();
}

MM_TEST(run_hostile_input)
{
	char text[4096];
	int before = mmtest_failures;
	mmtest_capture_stderr(hostile, text, sizeof(text));
	CHECK(strstr(text, "long.log:2: line longer than") != NULL);
	CHECK(strstr(text, "cut.log.gz: offset") != NULL);
	if (mmtest_failures != before)
		fprintf(stderr, "%s", text);
}

MM_TEST(run_missing_path_is_an_error)
{
	static struct mm_flows_query q;
	struct mm_flows_result r;
	struct mm_err err;
	const char *paths[1] = {"/nonexistent/flows"};

	mm_flows_query_init(&q);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_flows_run(&q, paths, 1, &r, &err), MM_EIO);
	CHECK(strstr(err.msg, "/nonexistent/flows") != NULL);
	mm_flows_result_free(&r);
}

/* A file stamped with the start of the hour it holds (mamori sim writes
 * them so; late AWS deliveries look the other way round): pruning by its
 * key must not lose the records late in that hour. */
MM_TEST(prune_keeps_records_of_an_hour_file)
{
	static struct mm_flows_query q;
	struct mm_flows_result r, all;
	char path[256], cmd[320];
	FILE *f;

	mkdir_tmp();
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/AWSLogs/1/vpcflowlogs/r/2024/03/04", dir);
	CHECK_EQ_INT(system(cmd), 0);
	snprintf(path, sizeof(path),
		 "%s/AWSLogs/1/vpcflowlogs/r/2024/03/04/1_vpcflowlogs_r_fl-1_20240304T0605Z_ab.log", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "2 1 %s 10.0.1.10 203.0.113.5 40000 443 6 1 40 %lld %lld ACCEPT OK\n", ENI_A,
		(long long)ts("2024-03-04T06:55:00Z"), (long long)ts("2024-03-04T06:59:59Z"));
	fprintf(f, "2 1 %s 10.0.1.10 203.0.113.5 40001 443 6 1 40 %lld %lld ACCEPT OK\n", ENI_A,
		(long long)ts("2024-03-04T06:00:00Z"), (long long)ts("2024-03-04T06:01:00Z"));
	fclose(f);
	mm_flows_query_init(&q);
	q.has_since = q.has_until = 1;
	q.since_ms = ts("2024-03-04T06:50:00Z") * 1000;
	q.until_ms = ts("2024-03-04T07:00:00Z") * 1000;
	CHECK_EQ_INT(run(&q, dir, &r), 0);
	q.no_prune = 1;
	CHECK_EQ_INT(run(&q, dir, &all), 0);
	CHECK_EQ_INT(r.nrows, 1);
	CHECK_EQ_INT(all.nrows, 1);
	CHECK_EQ_INT(r.files_read, 1);
	mm_flows_result_free(&r);
	mm_flows_result_free(&all);
	rm_tmp();
}

/* The substring prefilter (lines holding no target id are not parsed)
 * changes nothing: the rows equal those of an unfiltered run kept by
 * interface, and so do those of a query with too many targets for it. */
MM_TEST(prefilter_changes_no_row)
{
	static struct mm_flows_query q;
	struct mm_flows_result all, pre, many;
	char id[32];
	size_t i, k = 0;
	int t;

	mm_flows_query_init(&q);
	CHECK_EQ_INT(run(&q, FIX, &all), 0);
	mm_flows_add_eni(&q, ENI_A);
	mm_flows_add_eni(&q, "eni-0f10000000000000"); /* a prefix of every ENI: no match */
	CHECK_EQ_INT(run(&q, FIX, &pre), 0);
	for (t = 0; t < 10; t++) {
		snprintf(id, sizeof(id), "eni-none%d", t);
		mm_flows_add_eni(&q, id);
	}
	CHECK_EQ_INT(run(&q, FIX, &many), 0);
	for (i = 0; i < all.nrows; i++) {
		if (strcmp(all.rows[i].eni, ENI_A) != 0)
			continue;
		CHECK(k < pre.nrows && memcmp(&all.rows[i], &pre.rows[k], sizeof(all.rows[i])) == 0);
		k++;
	}
	CHECK_EQ_INT(k, pre.nrows);
	CHECK_EQ_INT(pre.nrows, 12);
	CHECK_EQ_INT(many.nrows, pre.nrows);
	CHECK(memcmp(many.rows, pre.rows, pre.nrows * sizeof(*pre.rows)) == 0);
	mm_flows_result_free(&all);
	mm_flows_result_free(&pre);
	mm_flows_result_free(&many);
}
