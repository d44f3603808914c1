/* test_route53.c - Route 53 Resolver query log records: the AWS sample
 * file parses with zero errors, fields come out right, the CloudWatch
 * "message" wrapping is unwrapped, and bad records fail with a reason. */
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "mmtest.h"
#include "parse/route53.h"

static char scratch_mem[1 << 16];

static int parse(const char *s, struct mm_event *ev, struct mm_err *err)
{
	static char *keep;
	struct mm_arena a;
	size_t n = strlen(s);
	mm_free(keep);
	keep = mm_malloc(n ? n : 1);
	memcpy(keep, s, n);
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	mm_err_clear(err);
	return mm_dns_parse(keep, n, &a, ev, err);
}

MM_TEST(sample_file_parses)
{
	char path[512], line[8192];
	FILE *f;
	int n = 0, with_instance = 0, first = 1;
	snprintf(path, sizeof(path), "%s/aws-samples/route53_resolver_logs/test-route53.log",
		 mmtest_shared_data());
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct mm_event ev;
		struct mm_err err;
		size_t len = strlen(line);
		int rc;
		if (len <= 1)
			continue;
		CHECK(mm_dns_looks_like(line, len));
		rc = parse(line, &ev, &err);
		if (rc)
			fprintf(stderr, "  line %d: %s\n", n + 1, err.msg);
		CHECK_EQ_INT(rc, 0);
		CHECK_EQ_INT(ev.kind, MM_EV_DNS);
		CHECK(ev.u.dns.qname.n > 0);
		CHECK(ev.u.dns.time_ms > 1600000000000LL);
		if (ev.u.dns.instance_id.n)
			with_instance++;
		if (first) {
			int64_t t;
			CHECK_EQ_SLICE(ev.u.dns.qname, "does-not-exist.abc.com.");
			CHECK_EQ_SLICE(ev.u.dns.qtype, "A");
			CHECK_EQ_SLICE(ev.u.dns.qclass, "IN");
			CHECK_EQ_SLICE(ev.u.dns.rcode, "NXDOMAIN");
			CHECK_EQ_SLICE(ev.u.dns.account, "626345947581");
			CHECK_EQ_SLICE(ev.u.dns.region, "us-east-1");
			CHECK_EQ_SLICE(ev.u.dns.vpc_id, "vpc-01e31a7c");
			CHECK_EQ_SLICE(ev.u.dns.transport, "UDP");
			CHECK_EQ_SLICE(ev.u.dns.answers, "[]");
			CHECK(ev.u.dns.has_src);
			CHECK_EQ_INT(mm_ip_v4(&ev.u.dns.src), (172u << 24) | (31u << 16) | (86u << 8) | 159u);
			CHECK_EQ_INT(ev.u.dns.sport, 48701);
			CHECK_EQ_INT(mm_time_parse_iso("2021-12-11T22:46:23Z", 20, &t), 0);
			CHECK_EQ_INT(ev.u.dns.time_ms, t);
			first = 0;
		}
		n++;
	}
	fclose(f);
	CHECK(n >= 30);
	fprintf(stderr, "  (%d records, %d with srcids.instance)\n", n, with_instance);
}

MM_TEST(srcids_firewall_numeric_port)
{
	struct mm_event ev;
	struct mm_err err;
	const struct mm_dns *d = &ev.u.dns;
	CHECK_EQ_INT(parse("{\"version\":\"1.100000\",\"account_id\":\"1\",\"region\":\"eu-west-1\","
			   "\"vpc_id\":\"vpc-1\",\"query_timestamp\":\"2022-01-01T00:00:00Z\","
			   "\"query_name\":\"pool.minexmr.com.\",\"query_type\":\"A\","
			   "\"query_class\":\"IN\",\"rcode\":\"NOERROR\",\"answers\":[{\"Rdata\":"
			   "\"1.2.3.4\",\"Type\":\"A\",\"Class\":\"IN\"}],\"srcaddr\":\"2001:db8::5\","
			   "\"srcport\":53001,\"transport\":\"TCP\",\"srcids\":{\"instance\":"
			   "\"i-0abc\",\"resolver_endpoint\":\"rslvr-in-1\"},"
			   "\"firewall_rule_action\":\"BLOCK\",\"firewall_rule_group_id\":\"g\"}",
			   &ev, &err),
		     0);
	CHECK_EQ_SLICE(d->qname, "pool.minexmr.com.");
	CHECK_EQ_SLICE(d->instance_id, "i-0abc");
	CHECK_EQ_SLICE(d->resource_id, "rslvr-in-1");
	CHECK_EQ_SLICE(d->firewall_action, "BLOCK");
	CHECK_EQ_INT(d->sport, 53001);
	CHECK(d->has_src);
	CHECK_EQ_INT(d->src.v6, 1);
	CHECK(d->answers.n > 2 && d->answers.p[0] == '[');
	/* "-" placeholders become empty, a bad srcaddr is kept out */
	CHECK_EQ_INT(parse("{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"a.\","
			   "\"srcaddr\":\"-\",\"srcport\":\"-\",\"rcode\":\"-\"}",
			   &ev, &err),
		     0);
	CHECK_EQ_INT(d->has_src, 0);
	CHECK_EQ_INT(d->sport, 0);
	CHECK_EQ_INT(d->rcode.n, 0);
}

MM_TEST(cloudwatch_wrapped)
{
	struct mm_event ev;
	struct mm_err err;
	const char *w = "{\"id\":\"1\",\"timestamp\":1639262783000,\"message\":\"{\\\"version\\\":"
			"\\\"1.100000\\\",\\\"query_timestamp\\\":\\\"2021-12-11T22:46:23Z\\\","
			"\\\"query_name\\\":\\\"example.com.\\\",\\\"srcaddr\\\":\\\"10.0.0.1\\\","
			"\\\"srcport\\\":\\\"5353\\\",\\\"srcids\\\":{\\\"instance\\\":\\\"i-1\\\"}}\"}";
	CHECK(mm_dns_looks_like(w, strlen(w)));
	CHECK_EQ_INT(parse(w, &ev, &err), 0);
	CHECK_EQ_SLICE(ev.u.dns.qname, "example.com.");
	CHECK_EQ_SLICE(ev.u.dns.instance_id, "i-1");
	CHECK_EQ_INT(ev.u.dns.sport, 5353);
	CHECK(ev.u.dns.has_src);
	/* a message that is not a Resolver record */
	CHECK_EQ_INT(parse("{\"message\":\"hello\"}", &ev, &err), MM_EPARSE);
	/* wrapping only one level deep */
	CHECK_EQ_INT(parse("{\"message\":\"{\\\"message\\\":\\\"x\\\"}\"}", &ev, &err), MM_EPARSE);
}

MM_TEST(looks_like)
{
	const char *flow = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 "
			   "22 6 20 4249 1418530010 1418530070 ACCEPT OK";
	const char *ct = "{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventName\":\"x\"}";
	CHECK(!mm_dns_looks_like(flow, strlen(flow)));
	CHECK(!mm_dns_looks_like(ct, strlen(ct)));
	CHECK(!mm_dns_looks_like("", 0));
	CHECK(mm_dns_looks_like("{\"query_name\":\"a.\",\"query_timestamp\":\"x\"}", 42));
}

MM_TEST(bad_records)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{"{\"query_name\":\"a.\"}", "missing query_timestamp"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\"}", "missing query_name"},
		{"{\"query_timestamp\":\"soon\",\"query_name\":\"a.\"}", "ISO 8601"},
		{"{\"query_timestamp\":5,\"query_name\":\"a.\"}", "not a string"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":7}", "not a string"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"a.\",\"srcport\":"
		 "\"99999\"}",
		 "srcport"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"a.\",\"srcport\":"
		 "\"http\"}",
		 "srcport"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"a.\",\"answers\":"
		 "\"none\"}",
		 "answers"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"a.\",\"srcids\":3}",
		 "srcids"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"a.\"", "malformed"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"a\\u\"}", "malformed"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"\\udc00\"}",
		 "escape"},
		{"{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"a.\"}}", "trailing"},
		{"not json", "not a JSON object"},
		{"", "not a JSON object"},
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(bad); i++) {
		struct mm_event ev;
		struct mm_err err;
		int rc = parse(bad[i].in, &ev, &err);
		CHECK_EQ_INT(rc, MM_EPARSE);
		if (!strstr(err.msg, bad[i].why))
			fprintf(stderr, "  case %zu: reason \"%s\", wanted \"%s\"\n", i, err.msg,
				bad[i].why);
		CHECK(strstr(err.msg, bad[i].why) != NULL);
	}
}

MM_TEST(deep_and_long)
{
	size_t depth = 3000, n = 0, i;
	char *b = mm_malloc(MM_DNS_MAX_LINE + 16);
	struct mm_event ev;
	struct mm_err err;
	struct mm_arena a;
	n += (size_t)sprintf(b, "{\"query_timestamp\":\"2022-01-01T00:00:00Z\",\"query_name\":\"a.\","
				"\"answers\":");
	for (i = 0; i < depth; i++)
		b[n++] = '[';
	for (i = 0; i < depth; i++)
		b[n++] = ']';
	b[n++] = '}';
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	CHECK_EQ_INT(mm_dns_parse(b, n, &a, &ev, &err), MM_EPARSE);
	CHECK(strstr(err.msg, "nested") != NULL);
	memset(b, ' ', MM_DNS_MAX_LINE + 16);
	CHECK_EQ_INT(mm_dns_parse(b, MM_DNS_MAX_LINE + 16, &a, &ev, &err), MM_EPARSE);
	CHECK(strstr(err.msg, "longer") != NULL);
	mm_free(b);
}

/* A key written with escapes ("query\u005fname", valid JSON) is the key
 * a JSON reader reads: the record gives the same fields as with plain
 * keys, and an escaped key that is no field of ours is left alone. */
MM_TEST(escaped_keys_read_as_plain)
{
	const char *plain = "{\"version\":\"1.100000\",\"account_id\":\"123456789012\","
			    "\"query_timestamp\":\"2024-01-01T01:03:54Z\",\"query_name\":\"a.example.com.\","
			    "\"query_type\":\"A\",\"rcode\":\"NOERROR\",\"srcaddr\":\"10.0.0.5\","
			    "\"srcport\":\"5353\",\"srcids\":{\"instance\":\"i-0123456789abcdef0\"}}";
	const char *esc = "{\"v\\u0065rsion\":\"1.100000\",\"account\\u005fid\":\"123456789012\","
			  "\"query_timestamp\":\"2024-01-01T01:03:54Z\",\"query\\u005fname\":\"a.example.com.\","
			  "\"query_typ\\u0065\":\"A\",\"\\u0072code\":\"NOERROR\",\"srcaddr\":\"10.0.0.5\","
			  "\"srcport\":\"5353\",\"src\\u0069ds\":{\"inst\\u0061nce\":\"i-0123456789abcdef0\"},"
			  "\"n\\u006ft_ours\":\"x\"}";
	struct mm_event a, b;
	struct mm_err err;
	char qa[64], qb[64], ia[64], ib[64];

	CHECK_EQ_INT(parse(plain, &a, &err), 0);
	snprintf(qa, sizeof(qa), "%.*s", (int)a.u.dns.qname.n, a.u.dns.qname.p);
	snprintf(ia, sizeof(ia), "%.*s", (int)a.u.dns.instance_id.n, a.u.dns.instance_id.p);
	CHECK_EQ_INT(parse(esc, &b, &err), 0);
	snprintf(qb, sizeof(qb), "%.*s", (int)b.u.dns.qname.n, b.u.dns.qname.p);
	snprintf(ib, sizeof(ib), "%.*s", (int)b.u.dns.instance_id.n, b.u.dns.instance_id.p);
	CHECK_EQ_STR(qa, "a.example.com.");
	CHECK_EQ_STR(qb, qa);
	CHECK_EQ_STR(ib, "i-0123456789abcdef0");
	CHECK_EQ_STR(ia, ib);
	CHECK_EQ_SLICE(b.u.dns.account, "123456789012");
	CHECK_EQ_SLICE(b.u.dns.qtype, "A");
	CHECK_EQ_SLICE(b.u.dns.rcode, "NOERROR");
	CHECK(b.u.dns.time_ms == a.u.dns.time_ms);
	CHECK_EQ_INT(b.u.dns.sport, 5353);
}
