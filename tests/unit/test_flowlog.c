/* test_flowlog.c - VPC Flow Logs parser: every AWS sample file, custom
 * header orders, CloudWatch wrapping, Transit Gateway, and bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip.h"
#include "mmtest.h"
#include "parse/flowlog.h"

static char scratch_mem[16384];

/* Parse one line with fmt; returns rc; err text in *err. */
static int parse(struct mm_flow_fmt *fmt, const char *line, struct mm_event *ev,
		 struct mm_err *err)
{
	struct mm_arena a;
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	mm_err_clear(err);
	memset(ev, 0x5a, sizeof(*ev));	/* the parser must not rely on a zeroed event */
	return mm_flow_parse(fmt, line, strlen(line), &a, ev, err);
}

static int parse_auto(const char *line, struct mm_event *ev, struct mm_err *err)
{
	struct mm_flow_fmt fmt;
	mm_flow_fmt_auto(&fmt);
	return parse(&fmt, line, ev, err);
}

static const char *ipstr(const struct mm_ip *ip)
{
	static char buf[4][MM_IP_STRLEN];
	static int k;
	k = (k + 1) & 3;
	return mm_ip_format(ip, buf[k]);
}

/* Per-file results kept for value checks. */
#define MAXREC 16
struct filerun {
	int records, headers, errors;
	struct mm_event ev[MAXREC];
	char lines[MAXREC][4096];	/* events point into these */
};

static struct filerun run;

static void run_file(const char *name)
{
	char path[1024];
	char line[MM_FLOW_MAX_LINE + 2];
	struct mm_flow_fmt fmt;
	struct mm_err err;
	FILE *f;

	memset(&run, 0, sizeof(run));
	snprintf(path, sizeof(path), "%s/aws-samples/vpcflow/%s", mmtest_shared_data(), name);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	mm_flow_fmt_auto(&fmt);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		struct mm_event ev;
		int rc, k = run.records;
		char *buf = k < MAXREC ? run.lines[k] : line;
		if (buf != line)
			memcpy(buf, line, n + 1);
		if (n == 0 || (n == 1 && line[0] == '\n'))
			continue;
		/* a file's first line must classify as flow */
		if (run.records + run.headers + run.errors == 0)
			CHECK(mm_flow_classify(buf, n) != MM_FLOW_LINE_NONE);
		rc = parse(&fmt, buf, &ev, &err);
		if (rc == MM_ESKIP) {
			run.headers++;
		} else if (rc == 0) {
			if (k < MAXREC)
				run.ev[k] = ev;
			run.records++;
		} else {
			fprintf(stderr, "  %s: %s\n", name, err.msg);
			run.errors++;
		}
	}
	fclose(f);
}

MM_TEST(sample_v2_extra)
{
	const struct mm_flow *fl;
	run_file("test-extra-samples.log");
	CHECK_EQ_INT(run.errors, 0);
	CHECK_EQ_INT(run.records, 7);
	fl = &run.ev[0].u.flow;
	CHECK_EQ_INT(run.ev[0].kind, MM_EV_FLOW);
	CHECK_EQ_INT(fl->version, 2);
	CHECK_EQ_SLICE(fl->account, "123456789010");
	CHECK_EQ_SLICE(fl->eni, "eni-1235b8ca123456789");
	CHECK(fl->has_addrs);
	CHECK_EQ_INT(fl->src.v6, 1);
	CHECK_EQ_STR(ipstr(&fl->src), "2001:db8:1234:a100:8d6e:3477:df66:f105");
	CHECK_EQ_STR(ipstr(&fl->dst), "2001:db8:1234:a102:3304:8879:34cf:4071");
	CHECK_EQ_INT(fl->sport, 34892);
	CHECK_EQ_INT(fl->dport, 22);
	CHECK_EQ_INT(fl->proto, 6);
	CHECK_EQ_INT(fl->packets, 54);
	CHECK_EQ_INT(fl->bytes, 8855);
	CHECK_EQ_INT(fl->start, 1477913708);
	CHECK_EQ_INT(fl->end, 1477913820);
	CHECK_EQ_INT(fl->action, MM_ACT_ACCEPT);
	CHECK_EQ_INT(fl->status, MM_LOGST_OK);
	CHECK_EQ_INT(fl->tcp_flags, -1);
	CHECK_EQ_INT(fl->fdir, MM_FDIR_UNKNOWN);
	CHECK_EQ_INT(fl->vpc_id.n, 0);

	fl = &run.ev[1].u.flow;	/* NODATA */
	CHECK_EQ_INT(fl->status, MM_LOGST_NODATA);
	CHECK_EQ_INT(fl->has_addrs, 0);
	CHECK_EQ_INT(fl->has_ports, 0);
	CHECK_EQ_INT(fl->action, MM_ACT_NONE);
	CHECK_EQ_INT(fl->proto, 0);
	CHECK_EQ_INT(fl->start, 1431280876);
	fl = &run.ev[2].u.flow;	/* SKIPDATA */
	CHECK_EQ_INT(fl->status, MM_LOGST_SKIPDATA);
	CHECK_EQ_SLICE(fl->eni, "eni-11111111aaaaaaaaa");

	fl = &run.ev[3].u.flow;
	CHECK_EQ_INT(fl->src.v6, 0);
	CHECK_EQ_STR(ipstr(&fl->src), "78.24.182.42");
	CHECK_EQ_STR(ipstr(&fl->dst), "158.109.0.1");
	CHECK_EQ_INT(mm_ip_v4(&fl->dst), (158u << 24) | (109u << 16) | 1u);
	fl = &run.ev[4].u.flow;
	CHECK_EQ_INT(fl->action, MM_ACT_REJECT);
	CHECK_EQ_INT(fl->dport, 3389);
	fl = &run.ev[5].u.flow;	/* ICMP */
	CHECK_EQ_INT(fl->proto, 1);
	CHECK_EQ_INT(fl->sport, 0);
	CHECK(fl->has_ports);
}

MM_TEST(sample_tcp_flag_sequence_repeated_header)
{
	const struct mm_flow *fl;
	run_file("test-tcp-flag-sequence.log");
	CHECK_EQ_INT(run.errors, 0);
	CHECK_EQ_INT(run.headers, 3);
	CHECK_EQ_INT(run.records, 3);
	fl = &run.ev[0].u.flow;
	CHECK_EQ_INT(fl->version, 3);
	CHECK_EQ_SLICE(fl->vpc_id, "vpc-abcdefab012345678");
	CHECK_EQ_SLICE(fl->subnet_id, "subnet-aaaaaaaa012345678");
	CHECK_EQ_SLICE(fl->instance_id, "i-01234567890123456");
	CHECK_EQ_SLICE(fl->eni, "eni-1235b8ca123456789");
	CHECK_EQ_SLICE(fl->account, "123456789010");
	CHECK_EQ_STR(ipstr(&fl->src), "52.213.180.42");
	CHECK_EQ_STR(ipstr(&fl->pkt_dst), "10.0.0.62");
	CHECK(fl->has_pkt_addrs);
	CHECK_EQ_INT(fl->sport, 43416);
	CHECK_EQ_INT(fl->dport, 5001);
	/* header order is "... protocol bytes packets ..." */
	CHECK_EQ_INT(fl->bytes, 568);
	CHECK_EQ_INT(fl->packets, 8);
	CHECK_EQ_INT(fl->tcp_flags, 2);
	CHECK_EQ_INT(fl->action, MM_ACT_ACCEPT);
	CHECK_EQ_INT(fl->status, MM_LOGST_OK);
	CHECK_EQ_INT(run.ev[1].u.flow.status, MM_LOGST_SKIPDATA);
	CHECK_EQ_INT(run.ev[1].u.flow.has_addrs, 0);
	CHECK_EQ_INT(run.ev[1].u.flow.tcp_flags, -1);
	CHECK_EQ_INT(run.ev[2].u.flow.status, MM_LOGST_NODATA);
}

MM_TEST(sample_v5_all_fields)
{
	const struct mm_flow *fl;
	run_file("test-v5-all-fields.log");
	CHECK_EQ_INT(run.errors, 0);
	CHECK_EQ_INT(run.records, 1);
	fl = &run.ev[0].u.flow;
	CHECK_EQ_INT(fl->version, 5);
	CHECK_EQ_SLICE(fl->account, "64111117617");
	CHECK_EQ_SLICE(fl->vpc_id, "vpc-09676f97xxxxxb8a7");
	CHECK_EQ_SLICE(fl->instance_id, "i-0axxxxxx1ad77");
	CHECK_EQ_INT(fl->tcp_flags, 1);
	CHECK_EQ_STR(ipstr(&fl->pkt_dst), "10.200.0.80");
	CHECK_EQ_SLICE(fl->region, "us-east-1");
	CHECK_EQ_SLICE(fl->az_id, "use1-az5");
	CHECK_EQ_SLICE(fl->pkt_src_service, "AMAZON");
	CHECK_EQ_SLICE(fl->pkt_dst_service, "CLOUDFRONT");
	CHECK_EQ_INT(fl->fdir, MM_FDIR_INGRESS);
	CHECK_EQ_INT(fl->traffic_path, 1);
	CHECK_EQ_INT(fl->start, 164000066);
	CHECK_EQ_INT(fl->action, MM_ACT_REJECT);
}

MM_TEST(sample_ecs)
{
	const struct mm_flow *fl;
	run_file("test-ecs-samples.log");
	CHECK_EQ_INT(run.errors, 0);
	CHECK_EQ_INT(run.records, 10);
	fl = &run.ev[0].u.flow;
	CHECK_EQ_INT(fl->version, 3);
	CHECK_EQ_INT(fl->eni.n, 0);
	CHECK_EQ_STR(ipstr(&fl->dst), "2a02:cf40::");
	CHECK_EQ_INT(fl->fdir, MM_FDIR_INGRESS);
	CHECK_EQ_SLICE(fl->ecs_cluster_name, "frontend-cluster");
	CHECK_EQ_SLICE(fl->ecs_task_id, "6adbd0d6-211");
	CHECK_EQ_INT(fl->reject_reason.n, 0);
	fl = &run.ev[1].u.flow;
	CHECK_EQ_INT(fl->status, MM_LOGST_NODATA);
	CHECK_EQ_INT(fl->fdir, MM_FDIR_EGRESS);
	CHECK_EQ_SLICE(fl->ecs_cluster_name, "orders-cluster");
	/* these synthetic NODATA lines do carry addresses: kept, flagged */
	CHECK_EQ_INT(fl->has_addrs, 1);
}

MM_TEST(sample_v8_reject_reason)
{
	const struct mm_flow *fl;
	run_file("test-v8-samples.log");
	CHECK_EQ_INT(run.errors, 0);
	CHECK_EQ_INT(run.records, 1);
	fl = &run.ev[0].u.flow;
	CHECK_EQ_SLICE(fl->reject_reason, "BPA");
	CHECK_EQ_SLICE(fl->ecs_cluster_name, "backend-cluster");
	CHECK_EQ_SLICE(fl->ecs_task_id, "e504f037-35c");
	CHECK_EQ_INT(fl->src.v6, 1);
	CHECK_EQ_INT(fl->action, MM_ACT_REJECT);
}

MM_TEST(sample_tgw)
{
	const struct mm_flow *fl;
	run_file("test-tgw-samples.log");
	CHECK_EQ_INT(run.errors, 0);
	CHECK_EQ_INT(run.records, 10);
	fl = &run.ev[0].u.flow;
	CHECK_EQ_INT(fl->version, 3);
	CHECK_EQ_SLICE(fl->account, "748335378900");
	CHECK_EQ_SLICE(fl->eni, "eni-0cc3dd4ee5f66aa7b");
	CHECK_EQ_SLICE(fl->vpc_id, "vpc-0jkl5678");
	CHECK_EQ_STR(ipstr(&fl->src), "1.128.0.0");
	CHECK_EQ_STR(ipstr(&fl->dst), "2a02:cf40::");
	CHECK_EQ_INT(fl->sport, 39464);
	CHECK_EQ_INT(fl->dport, 22);
	CHECK_EQ_INT(fl->packets, 49);
	CHECK_EQ_INT(fl->bytes, 8947);
	CHECK_EQ_INT(fl->status, MM_LOGST_SKIPDATA);
	CHECK_EQ_INT(fl->fdir, MM_FDIR_INGRESS);
	CHECK_EQ_INT(fl->action, MM_ACT_NONE);
	CHECK_EQ_SLICE(run.ev[1].u.flow.eni, "eni-0ee5f66aa7bcc89d0");
	CHECK_EQ_INT(run.ev[2].u.flow.status, MM_LOGST_OK);
}

MM_TEST(sample_cloudwatch_wrapped)
{
	const struct mm_flow *fl;
	run_file("test-with-message-field.log");
	CHECK_EQ_INT(run.errors, 0);
	CHECK_EQ_INT(run.records, 1);
	fl = &run.ev[0].u.flow;
	CHECK_EQ_INT(fl->version, 2);
	CHECK_EQ_SLICE(fl->account, "428961148399");
	CHECK_EQ_SLICE(fl->eni, "eni-0e0bf7be352692297");
	CHECK_EQ_INT(fl->status, MM_LOGST_NODATA);
	CHECK_EQ_INT(fl->has_addrs, 0);
	CHECK_EQ_INT(fl->end, 1671029728);
}

MM_TEST(wrapped_variants)
{
	struct mm_flow_fmt fmt;
	struct mm_event ev;
	struct mm_err err;

	/* other keys, message not first, escapes (needs scratch) */
	CHECK_EQ_INT(parse_auto("{\"timestamp\":1671029698000,\"logStream\":\"eni-1\",\"message\":"
				"\"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 5 6 ACCEPT\\u0020OK\"}",
				&ev, &err), 0);
	CHECK_EQ_INT(ev.u.flow.status, MM_LOGST_OK);
	CHECK_EQ_INT(ev.u.flow.end, 6);
	/* a wrapped header sets the format */
	mm_flow_fmt_auto(&fmt);
	CHECK_EQ_INT(parse(&fmt, "{\"message\":\"version srcaddr dstaddr action\"}", &ev, &err),
		     MM_ESKIP);
	CHECK_EQ_INT(fmt.nfields, 4);
	CHECK_EQ_INT(parse(&fmt, "{\"message\":\"4 10.1.1.1 10.2.2.2 REJECT\"}", &ev, &err), 0);
	CHECK_EQ_INT(ev.u.flow.action, MM_ACT_REJECT);
	CHECK_EQ_INT(ev.u.flow.version, 4);
	/* failures */
	CHECK_EQ_INT(parse_auto("{\"msg\":\"2 1 eni-1 - - - - - - - 1 2 - NODATA\"}", &ev, &err),
		     MM_EPARSE);
	CHECK(strstr(err.msg, "message") != NULL);
	CHECK_EQ_INT(parse_auto("{\"message\":42}", &ev, &err), MM_EPARSE);
	CHECK_EQ_INT(parse_auto("{\"message\":\"2 1 eni-1", &ev, &err), MM_EPARSE);
	CHECK_EQ_INT(parse_auto("{\"message\":\"{\\\"message\\\":1}\"}", &ev, &err), MM_EPARSE);
	CHECK_EQ_INT(parse_auto("{\"message\":\"2 1 eni-1 - - - - - - - 1 2 - NODATA\"} x", &ev,
				&err), MM_EPARSE);
	CHECK_EQ_INT(parse_auto("{\"message\":\"2 1 eni-1 - - - - - - - 1 2 - BAD\"}", &ev, &err),
		     MM_EPARSE);
	CHECK(strstr(err.msg, "log-status") != NULL);
	/* escaped message without a scratch arena fails cleanly */
	{
		const char *l = "{\"message\":\"2 1 eni-1 - - - - - - - 1 2 - NODATA\\n\"}";
		mm_flow_fmt_auto(&fmt);
		CHECK_EQ_INT(mm_flow_parse(&fmt, l, strlen(l), NULL, &ev, &err), MM_EPARSE);
		l = "{\"message\":\"2 1 eni-1 - - - - - - - 1 2 - NODATA\"}";
		CHECK_EQ_INT(mm_flow_parse(&fmt, l, strlen(l), NULL, &ev, &err), 0);
	}
}

MM_TEST(custom_header_orders)
{
	struct mm_flow_fmt fmt;
	struct mm_event ev;
	struct mm_err err;
	const char *h = "version srcaddr dstaddr srcport dstport protocol start end type packets "
			"bytes account-id vpc-id subnet-id instance-id interface-id region az-id "
			"sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr "
			"pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction "
			"log-status";

	CHECK_EQ_INT(mm_flow_classify(h, strlen(h)), MM_FLOW_LINE_HEADER);
	CHECK_EQ_INT(mm_flow_fmt_header(&fmt, h, strlen(h), &err), 0);
	CHECK_EQ_INT(fmt.nfields, 29);
	CHECK_EQ_INT(fmt.tgw, 0);
	CHECK_EQ_INT(parse(&fmt,
			   "5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 "
			   "123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 "
			   "i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - "
			   "ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK",
			   &ev, &err), 0);
	CHECK_EQ_INT(ev.u.flow.version, 5);
	CHECK_EQ_INT(ev.u.flow.packets, 7);
	CHECK_EQ_INT(ev.u.flow.bytes, 471);
	CHECK_EQ_INT(ev.u.flow.sport, 34210);
	CHECK_EQ_SLICE(ev.u.flow.pkt_dst_service, "S3");
	CHECK_EQ_INT(ev.u.flow.pkt_src_service.n, 0);
	CHECK_EQ_INT(ev.u.flow.traffic_path, 8);
	CHECK_EQ_INT(ev.u.flow.fdir, MM_FDIR_EGRESS);
	CHECK_EQ_INT(ev.u.flow.tcp_flags, 3);
	CHECK_EQ_SLICE(ev.u.flow.region, "ap-southeast-2");
	CHECK_EQ_SLICE(ev.u.flow.eni, "eni-1235b8ca123456789");

	/* NAT example: no version, record starts with "-" / "i-" */
	mm_flow_fmt_auto(&fmt);
	CHECK_EQ_INT(parse(&fmt, "instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr",
			   &ev, &err), MM_ESKIP);
	CHECK_EQ_INT(parse(&fmt, "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5",
			   &ev, &err), 0);
	CHECK_EQ_INT(ev.u.flow.version, 0);
	CHECK_EQ_INT(ev.u.flow.instance_id.n, 0);
	CHECK_EQ_STR(ipstr(&ev.u.flow.pkt_dst), "203.0.113.5");
	CHECK(ev.u.flow.has_addrs);
	CHECK(!ev.u.flow.has_ports);
	CHECK_EQ_INT(parse(&fmt, "i-01234567890123456 eni-1111aaaa2222bbbb3 10.0.1.5 203.0.113.5 "
			   "10.0.1.5 203.0.113.5", &ev, &err), 0);
	CHECK_EQ_SLICE(ev.u.flow.instance_id, "i-01234567890123456");

	/* ${field} form, tabs, CRLF, double blanks */
	mm_flow_fmt_auto(&fmt);
	CHECK_EQ_INT(parse(&fmt, "${version} ${srcaddr}\t${dstaddr} ${log-status}\r\n", &ev, &err),
		     MM_ESKIP);
	CHECK_EQ_INT(fmt.nfields, 4);
	CHECK_EQ_INT(parse(&fmt, "  2  ::1\t10.0.0.1 OK\r\n", &ev, &err), 0);
	CHECK_EQ_STR(ipstr(&ev.u.flow.src), "::1");
	CHECK_EQ_INT(ev.u.flow.status, MM_LOGST_OK);

	/* TGW header names */
	CHECK_EQ_INT(parse(&fmt, "version resource-type tgw-id tgw-src-eni tgw-dst-eni srcaddr "
			   "dstaddr packets-lost-no-route log-status", &ev, &err), MM_ESKIP);
	CHECK_EQ_INT(fmt.tgw, 1);
	CHECK_EQ_INT(parse(&fmt, "6 TransitGateway tgw-1 eni-src eni-dst 10.0.0.1 10.0.0.2 3 OK",
			   &ev, &err), 0);
	CHECK_EQ_SLICE(ev.u.flow.eni, "eni-src");
	CHECK_EQ_INT(parse(&fmt, "6 TransitGateway tgw-1 eni-src eni-dst 10.0.0.1 10.0.0.2 x OK",
			   &ev, &err), MM_EPARSE);
	CHECK_EQ_STR(err.msg, "bad packets-lost-no-route 'x'");

	/* fmt NULL: records use auto, headers validated only */
	CHECK_EQ_INT(mm_flow_parse(NULL, "version srcaddr", 15, NULL, &ev, &err), MM_ESKIP);
	CHECK_EQ_INT(mm_flow_parse(NULL, "version bogus", 13, NULL, &ev, &err), MM_EPARSE);
}

MM_TEST(every_field_name_accepted)
{
	static const char *names[] = {
		"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport",
		"dstport", "protocol", "packets", "bytes", "start", "end", "action",
		"log-status", "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type",
		"pkt-srcaddr", "pkt-dstaddr", "region", "az-id", "sublocation-type",
		"sublocation-id", "pkt-src-aws-service", "pkt-dst-aws-service",
		"flow-direction", "traffic-path", "ecs-cluster-arn", "ecs-cluster-name",
		"ecs-container-instance-arn", "ecs-container-instance-id", "ecs-container-id",
		"ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn",
		"ecs-task-arn", "ecs-task-id", "reject-reason", "resource-type", "tgw-id",
		"tgw-attachment-id", "tgw-src-vpc-account-id", "tgw-dst-vpc-account-id",
		"tgw-src-vpc-id", "tgw-dst-vpc-id", "tgw-src-subnet-id", "tgw-dst-subnet-id",
		"tgw-src-eni", "tgw-dst-eni", "tgw-src-az-id", "tgw-dst-az-id",
		"tgw-pair-attachment-id", "packets-lost-no-route", "packets-lost-blackhole",
		"packets-lost-mtu-exceeded", "packets-lost-ttl-expired",
	};
	char h[4096] = "";
	struct mm_flow_fmt fmt;
	struct mm_err err;
	size_t i;

	for (i = 0; i < MM_ARRAY_LEN(names); i++) {
		char one[64];
		snprintf(one, sizeof(one), "${%s}", names[i]);
		CHECK_EQ_INT(mm_flow_fmt_header(&fmt, names[i], strlen(names[i]), &err), 0);
		CHECK_EQ_INT(mm_flow_fmt_header(&fmt, one, strlen(one), &err), 0);
		strcat(h, names[i]);
		strcat(h, " ");
	}
	CHECK_EQ_INT(mm_flow_fmt_header(&fmt, h, strlen(h), &err), 0);
	CHECK_EQ_INT(fmt.nfields, (int)MM_ARRAY_LEN(names));
	CHECK_EQ_INT(mm_flow_classify(h, strlen(h)), MM_FLOW_LINE_HEADER);
}

MM_TEST(bad_headers)
{
	struct mm_flow_fmt fmt;
	struct mm_event ev;
	struct mm_err err;

	mm_flow_fmt_auto(&fmt);
	CHECK_EQ_INT(parse(&fmt, "version srcaddr dstaddr colour", &ev, &err), MM_EPARSE);
	CHECK_EQ_STR(err.msg, "unknown flow log field 'colour'");
	CHECK_EQ_INT(fmt.nfields, 0);	/* unchanged on failure */
	CHECK_EQ_INT(mm_flow_fmt_header(&fmt, "version srcaddr srcaddr", 23, &err), MM_EPARSE);
	CHECK_EQ_STR(err.msg, "duplicate flow log field 'srcaddr'");
	CHECK_EQ_INT(mm_flow_fmt_header(&fmt, "   ", 3, &err), MM_EPARSE);
	CHECK_EQ_INT(mm_flow_fmt_header(&fmt, "${version", 9, &err), MM_EPARSE);
	CHECK_EQ_INT(mm_flow_classify("version srcaddr colour", 22), MM_FLOW_LINE_NONE);
}

MM_TEST(bad_numeric_fields)
{
	static const struct {
		int col;	/* 0-based column in a v2 line */
		const char *val, *msg;
	} cases[] = {
		{0, "x", "bad version 'x'"},
		{0, "256", "bad version '256'"},
		{3, "10.0.0", "bad srcaddr '10.0.0'"},
		{3, "10.0.0.256", "bad srcaddr '10.0.0.256'"},
		{4, "1::2::3", "bad dstaddr '1::2::3'"},
		{5, "abc", "bad srcport 'abc'"},
		{5, "65536", "bad srcport '65536'"},
		{5, "-1", "bad srcport '-1'"},
		{6, "99999999999999999999999", "bad dstport '99999999999999999999999'"},
		{7, "256", "bad protocol '256'"},
		{7, "6a", "bad protocol '6a'"},
		{8, "18446744073709551616", "bad packets '18446744073709551616'"},
		{8, "1e5", "bad packets '1e5'"},
		{9, "+5", "bad bytes '+5'"},
		{10, "-5", "bad start '-5'"},
		{10, "9223372036854775808", "bad start '9223372036854775808'"},
		{11, "x1", "bad end 'x1'"},
		{12, "ALLOW", "bad action 'ALLOW'"},
		{13, "ok", "bad log-status 'ok'"},
	};
	const char *good[14] = {"2", "123", "eni-1", "10.0.0.1", "10.0.0.2", "443", "55000",
				"6", "10", "840", "1600000000", "1600000060", "ACCEPT", "OK"};
	struct mm_event ev;
	struct mm_err err;
	char line[512];
	size_t i;
	int c;

	for (i = 0; i < MM_ARRAY_LEN(cases); i++) {
		line[0] = '\0';
		for (c = 0; c < 14; c++) {
			strcat(line, c == cases[i].col ? cases[i].val : good[c]);
			strcat(line, c < 13 ? " " : "");
		}
		CHECK_EQ_INT(parse_auto(line, &ev, &err), MM_EPARSE);
		CHECK_EQ_STR(err.msg, cases[i].msg);
	}
	/* and the good line, plus boundaries, parse */
	line[0] = '\0';
	for (c = 0; c < 14; c++) {
		strcat(line, good[c]);
		strcat(line, c < 13 ? " " : "");
	}
	CHECK_EQ_INT(parse_auto(line, &ev, &err), 0);
	CHECK_EQ_INT(parse_auto("2 1 eni-1 255.255.255.255 0.0.0.0 65535 0 255 18446744073709551615 "
				"0 253402300799 0 REJECT OK", &ev, &err), 0);
	CHECK_EQ_INT(ev.u.flow.packets, (long long)UINT64_MAX);
	CHECK_EQ_INT(ev.u.flow.sport, 65535);
	CHECK_EQ_INT(ev.u.flow.proto, 255);
	CHECK_EQ_INT(ev.u.flow.start, 253402300799LL); /* 9999-12-31T23:59:59Z */
	CHECK_EQ_STR(ipstr(&ev.u.flow.src), "255.255.255.255");
	/* IPv4-mapped IPv6 folds to IPv4 (mm_ip_parse's rule) */
	CHECK_EQ_INT(parse_auto("2 1 eni-1 ::ffff:1.2.3.4 1.2.3.4 1 1 6 1 1 1 1 ACCEPT OK", &ev,
				&err), 0);
	CHECK(mm_ip_eq(&ev.u.flow.src, &ev.u.flow.dst));
	/* v3+ fields */
	{
		const char *pre = "3 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK vpc-1 subnet-1 "
				  "i-1 ";
		snprintf(line, sizeof(line), "%s%s", pre, "x IPv4 10.0.0.1 10.0.0.2");
		CHECK_EQ_INT(parse_auto(line, &ev, &err), MM_EPARSE);
		CHECK_EQ_STR(err.msg, "bad tcp-flags 'x'");
		snprintf(line, sizeof(line), "%s%s", pre, "18 IPv4 10.0.0.1 nope");
		CHECK_EQ_INT(parse_auto(line, &ev, &err), MM_EPARSE);
		CHECK_EQ_STR(err.msg, "bad pkt-dstaddr 'nope'");
		snprintf(line, sizeof(line), "%s%s", pre, "18 IPv4 10.0.0.1 10.0.0.2");
		CHECK_EQ_INT(parse_auto(line, &ev, &err), 0);
		CHECK_EQ_INT(ev.u.flow.tcp_flags, 18);
	}
	{
		const char *pre = "5 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK - - - - - - - "
				  "- - - - - - ";
		snprintf(line, sizeof(line), "%s%s", pre, "sideways 1");
		CHECK_EQ_INT(parse_auto(line, &ev, &err), MM_EPARSE);
		CHECK_EQ_STR(err.msg, "bad flow-direction 'sideways'");
		snprintf(line, sizeof(line), "%s%s", pre, "egress 999");
		CHECK_EQ_INT(parse_auto(line, &ev, &err), MM_EPARSE);
		CHECK_EQ_STR(err.msg, "bad traffic-path '999'");
	}
	/* hostile bytes are not echoed raw; control bytes separate fields */
	CHECK_EQ_INT(parse_auto("2 1 eni-1 10.0.0.1 10.0.0.2 \xc3\xa9x 2 6 1 1 1 1 ACCEPT OK", &ev,
				&err), MM_EPARSE);
	CHECK_EQ_STR(err.msg, "bad srcport '??x'");
	CHECK_EQ_INT(parse_auto("2 1 eni-1 10.0.0.1 10.0.0.2 \x1b[31m 2 6 1 1 1 1 ACCEPT OK", &ev,
				&err), MM_EPARSE);
	CHECK_EQ_STR(err.msg, "bad srcport '[31m'");
	CHECK_EQ_INT(parse_auto("2\x01" "1\x0b" "eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK", &ev,
				&err), 0);
	/* a value longer than 64 bytes is cut in the message */
	{
		char l2[256];
		snprintf(l2, sizeof(l2), "2 1 eni-1 10.0.0.1 10.0.0.2 %070d 2 6 1 1 1 1 ACCEPT OK", 7);
		CHECK_EQ_INT(parse_auto(l2, &ev, &err), MM_EPARSE);
		CHECK(strstr(err.msg, "...'") != NULL);
		CHECK(strlen(err.msg) < 100);
	}
}

MM_TEST(bad_counts_and_bounds)
{
	struct mm_flow_fmt fmt;
	struct mm_event ev;
	struct mm_err err;
	static char big[MM_FLOW_MAX_LINE + 64];
	size_t i;

	/* headerless counts that match no layout */
	CHECK_EQ_INT(parse_auto("2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT", &ev, &err),
		     MM_EPARSE);
	CHECK(strstr(err.msg, "13 fields") != NULL);
	CHECK_EQ_INT(parse_auto("2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK x", &ev,
				&err), MM_EPARSE);
	CHECK(strstr(err.msg, "15 fields") != NULL);
	/* header vs record count */
	mm_flow_fmt_auto(&fmt);
	CHECK_EQ_INT(parse(&fmt, "version srcaddr dstaddr", &ev, &err), MM_ESKIP);
	CHECK_EQ_INT(parse(&fmt, "2 10.0.0.1", &ev, &err), MM_EPARSE);
	CHECK_EQ_STR(err.msg, "flow log record has 2 fields, header has 3");
	CHECK_EQ_INT(parse(&fmt, "2 10.0.0.1 10.0.0.2 7", &ev, &err), MM_EPARSE);
	CHECK_EQ_STR(err.msg, "flow log record has 4 fields, header has 3");
	/* empty / blank lines are skipped, not errors */
	CHECK_EQ_INT(parse_auto("", &ev, &err), MM_ESKIP);
	CHECK_EQ_INT(parse_auto(" \t\r\n", &ev, &err), MM_ESKIP);
	/* garbage */
	CHECK_EQ_INT(parse_auto("hello world", &ev, &err), MM_EPARSE);
	CHECK_EQ_INT(parse_auto("a,b,c,d,e,f,g,h,i,j,k,l,m,n", &ev, &err), MM_EPARSE);
	CHECK_EQ_INT(parse_auto("\x01\x02\xff", &ev, &err), MM_EPARSE);
	/* 36 fields that are not a Transit Gateway record */
	memset(big, 0, sizeof(big));
	for (i = 0; i < 36; i++)
		strcat(big, "1 ");
	CHECK_EQ_INT(parse_auto(big, &ev, &err), MM_EPARSE);
	/* too many fields */
	memset(big, 0, sizeof(big));
	for (i = 0; i < MM_FLOW_MAX_FIELDS + 1; i++)
		strcat(big, "- ");
	CHECK_EQ_INT(parse_auto(big, &ev, &err), MM_EPARSE);
	CHECK(strstr(err.msg, "more than 64 fields") != NULL);
	CHECK_EQ_INT(mm_flow_fmt_header(&fmt, big, strlen(big), &err), MM_EPARSE);
	/* exactly MM_FLOW_MAX_FIELDS is a count error, not a bounds error */
	big[2 * MM_FLOW_MAX_FIELDS] = '\0';
	CHECK_EQ_INT(parse_auto(big, &ev, &err), MM_EPARSE);
	CHECK(strstr(err.msg, "64 fields;") != NULL);
	/* very long line */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ_INT(parse_auto(big, &ev, &err), MM_EPARSE);
	CHECK(strstr(err.msg, "longer than") != NULL);
	CHECK_EQ_INT(mm_flow_classify(big, strlen(big)), MM_FLOW_LINE_NONE);
	/* a long but legal line parses */
	{
		const char *pre = "2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK";
		memset(big, ' ', MM_FLOW_MAX_LINE);
		memcpy(big, pre, strlen(pre));
		big[MM_FLOW_MAX_LINE] = '\0';
		CHECK_EQ_INT(parse_auto(big, &ev, &err), 0);
		big[MM_FLOW_MAX_LINE] = ' ';
		big[MM_FLOW_MAX_LINE + 1] = '\0';
		CHECK_EQ_INT(parse_auto(big, &ev, &err), MM_EPARSE);
	}
}

MM_TEST(classify)
{
#define CL(s) mm_flow_classify((s), strlen(s))
	CHECK_EQ_INT(CL("2 123456789010 eni-1235b8ca123456789 78.24.182.42 158.109.0.1 20641 22 6 "
			"20 4249 1418530010 1418530070 ACCEPT OK"), MM_FLOW_LINE_RECORD);
	CHECK_EQ_INT(CL("2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n"),
		     MM_FLOW_LINE_RECORD);
	CHECK_EQ_INT(CL("version account-id interface-id srcaddr"), MM_FLOW_LINE_HEADER);
	CHECK_EQ_INT(CL("${version} ${srcaddr}"), MM_FLOW_LINE_HEADER);
	CHECK_EQ_INT(CL("{\"message\":\"2 428961148399 eni-0e0bf7be352692297 - - - - - - - "
			"1671029698 1671029728 - NODATA\"}"), MM_FLOW_LINE_WRAPPED);
	CHECK_EQ_INT(CL("{\"timestamp\": 1, \"message\" : \"version srcaddr\"}"),
		     MM_FLOW_LINE_WRAPPED);
	/* not flow */
	CHECK_EQ_INT(CL(""), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("hello world"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("version,account-id,interface-id"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("2,123,eni-1,10.0.0.1,10.0.0.2,1,2,6,1,1,1,1,ACCEPT,OK"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("{\"message\":\"user logged in\"}"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("{\"eventVersion\":\"1.08\",\"errorMessage\":\"x\"}"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("Nov 22 02:34:01 host sshd[1]: Accepted publickey for a b c d e f g h i"),
		     MM_FLOW_LINE_NONE);
	/* version out of 2..10, wrong eni, wrong action column */
	CHECK_EQ_INT(CL("1 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("11 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("2 123 if-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 MAYBE OK"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT FINE"), MM_FLOW_LINE_NONE);
	CHECK_EQ_INT(CL("1 2 3 4 5 6 7 8 9 10 11 12 13 14"), MM_FLOW_LINE_NONE);
#undef CL
}

/* Every field of two parsed flows is the same; slices must be the same
 * pointer into the line, not just equal text. */
static int flow_same(const struct mm_flow *a, const struct mm_flow *b)
{
#define SAME_STR(f) (a->f.p == b->f.p && a->f.n == b->f.n)
	return a->version == b->version && a->has_addrs == b->has_addrs &&
	       a->has_ports == b->has_ports && a->has_pkt_addrs == b->has_pkt_addrs &&
	       a->proto == b->proto && a->action == b->action && a->status == b->status &&
	       a->fdir == b->fdir && a->tcp_flags == b->tcp_flags && a->sport == b->sport &&
	       a->dport == b->dport && memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0 &&
	       memcmp(&a->pkt_src, &b->pkt_src, sizeof(a->pkt_src)) == 0 &&
	       memcmp(&a->pkt_dst, &b->pkt_dst, sizeof(a->pkt_dst)) == 0 &&
	       a->packets == b->packets && a->bytes == b->bytes && a->start == b->start &&
	       a->end == b->end && SAME_STR(account) && SAME_STR(eni) && SAME_STR(instance_id) &&
	       SAME_STR(vpc_id) && SAME_STR(subnet_id) && SAME_STR(region) && SAME_STR(az_id) &&
	       SAME_STR(pkt_src_service) && SAME_STR(pkt_dst_service) &&
	       SAME_STR(ecs_cluster_name) && SAME_STR(ecs_task_id) && SAME_STR(reject_reason) &&
	       a->traffic_path == b->traffic_path;
#undef SAME_STR
}

/* Parse line (n bytes) with fmt on both paths: the same code, the same
 * error text, the same event. 0 when they agree. */
static int both_paths(const struct mm_flow_fmt *fmt, const char *line, size_t n)
{
	static char mem[1 << 14];
	struct mm_flow_fmt f1 = *fmt, f2 = *fmt;
	struct mm_event a, b;
	struct mm_err e1, e2;
	struct mm_arena ar;
	int r1, r2;

	mm_arena_init(&ar, mem, sizeof(mem));
	mm_err_clear(&e1);
	mm_err_clear(&e2);
	memset(&a, 0x5a, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	r1 = mm_flow_parse(&f1, line, n, &ar, &a, &e1);
	mm__flow_no_fast_path = 1;
	r2 = mm_flow_parse(&f2, line, n, &ar, &b, &e2);
	mm__flow_no_fast_path = 0;
	if (r1 != r2)
		return -1;
	if (r1)
		return strcmp(e1.msg, e2.msg) ? -1 : 0;
	return a.kind == b.kind && flow_same(&a.u.flow, &b.u.flow) ? 0 : -1;
}

/* The default-layout fast path and the general parser agree, line by
 * line, on good and bad input (the fuzz target checks the same on
 * arbitrary bytes): headerless and under a v2 header. */
MM_TEST(fast_path_agrees_with_general_parser)
{
	static const char *lines[] = {
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
		"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - SKIPDATA",
		"2 123456789010 eni-1235b8ca123456789 2001:db8::1 2001:db8::2 1 2 6 3 4 5 6 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 1.2.3.4 5.6.7.8 65535 0 255 18446744073709551615 0 1 2 REJECT SKIPDATA",
		"2 123456789010 eni-1235b8ca123456789 1.2.3.4 5.6.7.8 65536 0 6 1 1 1 2 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 1.2.3.400 5.6.7.8 1 0 6 1 1 1 2 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 1.2.3.4 5.6.7.8 1 0 6 1 1 1 2 ACCEPTED OK",
		"2 123456789010 eni-1235b8ca123456789 1.2.3.4 5.6.7.8 1 0 6 1 1 1 2 ACCEPT OK extra",
		"2 123456789010 eni-1235b8ca123456789 1.2.3.4 5.6.7.8 1 0 6 1 1 1 2 ACCEPT",
		"2  123456789010 eni-1235b8ca123456789 1.2.3.4 5.6.7.8 1 0 6 1 1 1 2 ACCEPT OK",
		"2\t123456789010 eni-1235b8ca123456789 1.2.3.4 5.6.7.8 1 0 6 1 1 1 2 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 01.2.3.4 5.6.7.8 007 0 6 1 1 1 2 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 1.2.3.4 5.6.7.8 1 0 6 99999999999999999999 1 1 2 ACCEPT OK",
		"3 - - - - - - - - - - - - -",
		"2 a b 1.2.3.4 5.6.7.8 1 0 6 1 1 1 2 - -",
		/* maximum values, every digit count around the 8-byte words */
		"2 123456789010 eni-1 255.255.255.255 0.0.0.0 65535 65535 255 18446744073709551615 18446744073709551614 253402300799 253402300799 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 12345678 123456789 1234567 12345678 REJECT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 123456789012345 1234567890123456 12345678901 123456789012 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 12345678901234567 123456789012345678 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1234567890123456789 12345678901234567890 1 1 ACCEPT OK",
		/* 2^64 and other overflows, out-of-range times and ports */
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 18446744073709551616 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 184467440737095516150 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 253402300800 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 99999 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 256 1 1 1 1 ACCEPT OK",
		"256 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		/* leading zeros (accepted by both) */
		"02 123456789010 eni-1 001.002.003.004 5.6.7.8 0065535 00000000 006 00000000000000000001 0000000000000000000000001 0001704070819 01704070879 ACCEPT OK",
		/* addresses the fast path must not take */
		"2 123456789010 eni-1 256.1.1.1 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.256 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4.5 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1..2.3 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1234.1.1.1 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 0001.2.3.4 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 ::ffff:1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 fe80::1 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4- 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 -1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
		/* '-' anywhere, signs and junk inside numbers */
		"- - - - - - - - - - - - - -",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 - 2 - 1 - 1 - ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 -1 2 6 1 1 1 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 17040708x9 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1704070819: 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1704070819/ 1 ACCEPT OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 \xff\xfa 1 ACCEPT OK",
		/* action and status words, near misses */
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OKK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT O",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 REJECT NODATA",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 accept ok",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT  OK",
		"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK ",
		"  2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK\r\n",
		/* short lines: every value ends within 8 bytes of the line's end */
		"2 1 e 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 - -",
		"2 1 e - - 1 2 6 1 1 1 1 - -",
		"2 1 e - - - - - - - - 1",
		"2 1 e - - - - - - - - 12345678 - -",
	};
	static const char hdr[] = "version account-id interface-id srcaddr dstaddr srcport dstport "
				  "protocol packets bytes start end action log-status";
	struct mm_flow_fmt fa, fh;
	struct mm_err e;
	size_t i;

	mm_flow_fmt_auto(&fa);
	CHECK_EQ_INT(mm_flow_fmt_header(&fh, hdr, strlen(hdr), &e), 0);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int bad_a = both_paths(&fa, lines[i], strlen(lines[i]));
		int bad_h = both_paths(&fh, lines[i], strlen(lines[i]));
		if (bad_a || bad_h)
			fprintf(stderr, "paths differ (%s): %s\n", bad_a ? "auto" : "header", lines[i]);
		CHECK(!bad_a && !bad_h);
	}
}

/* Every prefix of a good record (truncated lines, values cut at every
 * digit), and the record with each byte replaced by each of a set of
 * troublesome bytes, parse the same on both paths. The parser reads only
 * the given length: each variant sits in an exactly-sized copy. */
MM_TEST(fast_path_agrees_on_cut_and_mutated_lines)
{
	static const char *good[] = {
		"2 566742348567 eni-517e31c3b4c4328f2 10.0.29.195 108.210.169.224 43302 80 6 1 686 1704070819 1704070879 ACCEPT OK",
		"2 645641261078 eni-bcda22e316f8c0b4e 188.41.72.142 10.0.87.81 58438 16659 17 274 234544 1704070997 1704071060 REJECT OK",
		"2 645641261078 eni-10cd076b8f4dc169e - - - - - - - 1704071005 1704071069 - NODATA",
	};
	static const char subst[] = {'-', ' ', '\t', '.', '0', '9', '/', ':', 'a', '\0', (char)0xff};
	struct mm_flow_fmt fa;
	size_t g, i, k, fails = 0, runs = 0;
	char *buf;

	mm_flow_fmt_auto(&fa);
	for (g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		size_t n = strlen(good[g]);
		CHECK_EQ_INT(both_paths(&fa, good[g], n), 0);
		for (i = 0; i <= n; i++) {
			buf = malloc(i ? i : 1);
			CHECK(buf != NULL);
			if (!buf)
				return;
			memcpy(buf, good[g], i);
			fails += both_paths(&fa, buf, i) != 0;
			runs++;
			free(buf);
		}
		buf = malloc(n);
		CHECK(buf != NULL);
		if (!buf)
			return;
		for (i = 0; i < n; i++) {
			for (k = 0; k < sizeof(subst); k++) {
				memcpy(buf, good[g], n);
				buf[i] = subst[k];
				fails += both_paths(&fa, buf, n) != 0;
				runs++;
			}
		}
		free(buf);
	}
	CHECK(runs > 3000);
	CHECK_EQ_INT((int)fails, 0);
}

/* The word-at-a-time number and address readers give the right values
 * (not only the same as the general path): digit counts 1..18 around
 * the 8-byte boundaries, maximum values, leading zeros. */
MM_TEST(fast_path_values)
{
	struct mm_flow_fmt fmt;
	struct mm_event ev;
	struct mm_err e;
	mm_flow_fmt_auto(&fmt);

	CHECK_EQ_INT(parse(&fmt, "2 123456789012 eni-1 255.255.255.255 0.0.0.0 65535 0 255 "
				 "123456789012345678 99999999 253402300799 1704070879 REJECT OK",
			   &ev, &e), 0);
	CHECK_EQ_STR(ipstr(&ev.u.flow.src), "255.255.255.255");
	CHECK_EQ_STR(ipstr(&ev.u.flow.dst), "0.0.0.0");
	CHECK(ev.u.flow.has_addrs && ev.u.flow.has_ports);
	CHECK_EQ_INT(ev.u.flow.sport, 65535);
	CHECK_EQ_INT(ev.u.flow.dport, 0);
	CHECK_EQ_INT(ev.u.flow.proto, 255);
	CHECK(ev.u.flow.packets == 123456789012345678ULL);
	CHECK(ev.u.flow.bytes == 99999999ULL);
	CHECK(ev.u.flow.start == 253402300799LL);
	CHECK(ev.u.flow.end == 1704070879LL);
	CHECK(ev.u.flow.action == MM_ACT_REJECT && ev.u.flow.status == MM_LOGST_OK);
	CHECK_EQ_INT(ev.u.flow.tcp_flags, -1);

	CHECK_EQ_INT(parse(&fmt, "2 123456789012 eni-1 010.001.000.099 9.9.9.9 00080 1 06 "
				 "000000001 1234567890123456 12345678 123456789 ACCEPT OK",
			   &ev, &e), 0);
	CHECK_EQ_STR(ipstr(&ev.u.flow.src), "10.1.0.99");
	CHECK_EQ_INT(ev.u.flow.sport, 80);
	CHECK_EQ_INT(ev.u.flow.proto, 6);
	CHECK(ev.u.flow.packets == 1);
	CHECK(ev.u.flow.bytes == 1234567890123456ULL);
	CHECK(ev.u.flow.start == 12345678 && ev.u.flow.end == 123456789);
	CHECK(ev.u.flow.action == MM_ACT_ACCEPT && ev.u.flow.status == MM_LOGST_OK);

	/* negative: out of range on either path, same message */
	CHECK_EQ_INT(parse(&fmt, "2 123456789012 eni-1 1.2.3.4 5.6.7.8 65536 1 6 1 1 1 1 ACCEPT OK",
			   &ev, &e), MM_EPARSE);
	CHECK_EQ_STR(e.msg, "bad srcport '65536'");
	CHECK_EQ_INT(parse(&fmt, "2 123456789012 eni-1 256.1.1.1 5.6.7.8 1 1 6 1 1 1 1 ACCEPT OK",
			   &ev, &e), MM_EPARSE);
	CHECK_EQ_STR(e.msg, "bad srcaddr '256.1.1.1'");
	CHECK_EQ_INT(parse(&fmt, "2 123456789012 eni-1 1.2.3.4 5.6.7.8 1 1 6 18446744073709551616 1 1 1 ACCEPT OK",
			   &ev, &e), MM_EPARSE);
	CHECK_EQ_STR(e.msg, "bad packets '18446744073709551616'");
}

/* A start or end past year 9999 is no time: malformed, on both paths
 * (found by fuzzing: seconds * 1000 overflowed int64 downstream). */
MM_TEST(times_beyond_year_9999_are_malformed)
{
	struct mm_flow_fmt fmt;
	struct mm_event ev;
	struct mm_err e;
	mm_flow_fmt_auto(&fmt);
	CHECK_EQ_INT(parse(&fmt, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 253402300799 253402300799 ACCEPT OK",
			   &ev, &e), 0);
	CHECK(parse(&fmt, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1714557601714557601 1714557660 ACCEPT OK",
		    &ev, &e) != 0);
	CHECK(parse(&fmt, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1714557600 253402300800 ACCEPT OK",
		    &ev, &e) != 0);
	mm__flow_no_fast_path = 1;
	CHECK(parse(&fmt, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1714557601714557601 1714557660 ACCEPT OK",
		    &ev, &e) != 0);
	mm__flow_no_fast_path = 0;
}
