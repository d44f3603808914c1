/* test_ctwrap.c - CloudTrail events inside arrays, pretty-printed streams,
 * lookup-events output, EventBridge events and CloudTrail Lake results:
 * the same event comes out of every wrapper, located at its record's first
 * line; a bad record between good ones costs only itself; truncated files,
 * CRLF and hostile nesting; format detection of each shape. */
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/mem.h"
#include "mmtest.h"
#include "parse/cloudtrail.h"
#include "parse/ctwrap.h"
#include "parse/format.h"

static char scratch_mem[1 << 16];

/* Three events: alice (listed address), bob, the root user. */
#define EV_A                                                                                       \
	"{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":"         \
	"\"AIDAEXAMPLEALICE\",\"arn\":\"arn:aws:iam::123456789012:user/alice\",\"accountId\":"     \
	"\"123456789012\",\"accessKeyId\":\"AKIAEXAMPLEALICE0001\",\"userName\":\"alice\"},"       \
	"\"eventTime\":\"2024-05-01T10:00:00Z\",\"eventSource\":\"iam.amazonaws.com\","            \
	"\"eventName\":\"CreateUser\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":"            \
	"\"203.0.113.9\",\"userAgent\":\"aws-cli/2.15\",\"requestParameters\":{\"userName\":"      \
	"\"mallory\"},\"responseElements\":null,\"eventID\":\"e-0001\",\"readOnly\":false,"        \
	"\"eventType\":\"AwsApiCall\",\"recipientAccountId\":\"123456789012\"}"
#define EV_B                                                                                       \
	"{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"AssumedRole\",\"principalId\":"     \
	"\"AROAEXAMPLE:bob\",\"arn\":\"arn:aws:sts::123456789012:assumed-role/Admin/bob\","        \
	"\"accountId\":\"123456789012\",\"accessKeyId\":\"ASIAEXAMPLEBOB000002\","                 \
	"\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":\"AROAEXAMPLE\"," \
	"\"arn\":\"arn:aws:iam::123456789012:role/Admin\",\"accountId\":\"123456789012\","          \
	"\"userName\":\"Admin\"},\"attributes\":{\"creationDate\":\"2024-05-01T09:00:00Z\","        \
	"\"mfaAuthenticated\":\"true\"}}},\"eventTime\":\"2024-05-01T10:05:00Z\",\"eventSource\":"  \
	"\"ec2.amazonaws.com\",\"eventName\":\"DescribeInstances\",\"awsRegion\":\"eu-west-1\","    \
	"\"sourceIPAddress\":\"198.51.100.7\",\"userAgent\":\"Boto3/1.34\",\"eventID\":\"e-0002\"," \
	"\"readOnly\":true,\"recipientAccountId\":\"123456789012\"}"
#define EV_C                                                                                       \
	"{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"Root\",\"principalId\":"            \
	"\"123456789012\",\"arn\":\"arn:aws:iam::123456789012:root\",\"accountId\":"               \
	"\"123456789012\",\"accessKeyId\":\"AKIAEXAMPLEROOT00003\"},\"eventTime\":"                 \
	"\"2024-05-01T10:10:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":"             \
	"\"ListBuckets\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"192.0.2.44\","            \
	"\"eventID\":\"e-0003\",\"recipientAccountId\":\"123456789012\"}"

#define MAXEV 16
struct got {
	int n, bad, skipped, trunc;
	struct mm_api api[MAXEV];
	char raw[MAXEV][4096];
	uint64_t line[MAXEV], off[MAXEV];
	uint64_t bad_line[MAXEV];
	char bad_msg[MAXEV][200];
};

/* Walk doc (an exact-size heap copy, so ASan sees over-reads). Strings of
 * the events are copied out (they live until the next record). */
static void walk(const char *doc, size_t n, struct got *g)
{
	char *b = mm_malloc(n ? n : 1);
	struct mm_ctw w;
	struct mm_arena a;
	struct mm_event ev;
	struct mm_err err;
	uint64_t line, off;
	int rc, guard = 0;

	memcpy(b, doc, n);
	memset(g, 0, sizeof(*g));
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	mm_ctw_init(&w, b, n);
	while ((rc = mm_ctw_next_event(&w, &a, &ev, &line, &off, &err)) != 0 && guard++ < 1000) {
		if (rc == 1 && g->n < MAXEV) {
			g->api[g->n] = ev.u.api;
			snprintf(g->raw[g->n], sizeof(g->raw[0]), "%.*s", (int)ev.raw.n, ev.raw.p);
			g->line[g->n] = line;
			g->off[g->n] = off;
			g->n++;
		} else if (rc == MM_ESKIP) {
			g->skipped++;
		} else if (rc == MM_ETRUNC) {
			g->trunc++;
			break;
		} else if (g->bad < MAXEV) {
			g->bad_line[g->bad] = line;
			snprintf(g->bad_msg[g->bad], sizeof(g->bad_msg[0]), "%s", err.msg);
			g->bad++;
		}
	}
	CHECK(guard < 1000);
	/* the slices into b die here: the checks read lengths and numbers */
	mm_free(b);
}

/* Same, keeping the event names (copied) for the order checks. */
static void names(const char *doc, char out[][32], int *n)
{
	char *b = mm_malloc(strlen(doc) + 1);
	struct mm_ctw w;
	struct mm_arena a;
	struct mm_event ev;
	struct mm_err err;
	uint64_t line, off;
	int rc;
	memcpy(b, doc, strlen(doc));
	*n = 0;
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	mm_ctw_init(&w, b, strlen(doc));
	while ((rc = mm_ctw_next_event(&w, &a, &ev, &line, &off, &err)) != 0 && *n < 16) {
		if (rc == MM_ETRUNC)
			break;
		if (rc == 1)
			snprintf(out[(*n)++], 32, "%.*s", (int)ev.u.api.event_name.n,
				 ev.u.api.event_name.p);
	}
	mm_free(b);
}

static struct got G;

#define WALK(s) walk((s), sizeof(s) - 1, &G)

/* The fields the wrapped event must share with the bare one. */
static void same_as_bare(const char *bare, int i)
{
	struct mm_arena a;
	struct mm_event ev;
	struct mm_err err;
	struct mm_api *w = &G.api[i];
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	CHECK_EQ_INT(mm_ct_parse_line(bare, strlen(bare), &a, &ev, &err), 0);
	CHECK_EQ_INT(w->time_ms, ev.u.api.time_ms);
	CHECK_EQ_INT(w->read_only, ev.u.api.read_only);
	CHECK_EQ_INT(w->has_source_ip, ev.u.api.has_source_ip);
	CHECK_EQ_INT(w->who.mfa, ev.u.api.who.mfa);
	CHECK_EQ_INT(w->event_id.n, ev.u.api.event_id.n);
	CHECK_EQ_INT(w->who.arn.n, ev.u.api.who.arn.n);
	CHECK_EQ_INT(w->who.type.n, ev.u.api.who.type.n);
	CHECK_EQ_INT(w->who.issuer_arn.n, ev.u.api.who.issuer_arn.n);
	CHECK_EQ_INT(w->region.n, ev.u.api.region.n);
	CHECK_EQ_INT(w->account.n, ev.u.api.account.n);
}

MM_TEST(bare_array_compact_and_pretty)
{
	char n[16][32];
	int k;
	WALK("[" EV_A "," EV_B "," EV_C "]");
	CHECK_EQ_INT(G.n, 3);
	CHECK_EQ_INT(G.bad, 0);
	CHECK_EQ_INT(G.off[0], 1);
	CHECK_EQ_STR(G.raw[0], EV_A);
	CHECK_EQ_STR(G.raw[2], EV_C);
	same_as_bare(EV_A, 0);
	same_as_bare(EV_B, 1);
	same_as_bare(EV_C, 2);
	/* pretty: one record per line block, CRLF endings */
	WALK("[\r\n  " EV_A ",\r\n  " EV_B ",\r\n  " EV_C "\r\n]\r\n");
	CHECK_EQ_INT(G.n, 3);
	CHECK_EQ_INT(G.line[0], 2);
	CHECK_EQ_INT(G.line[1], 3);
	CHECK_EQ_INT(G.line[2], 4);
	names("[\n" EV_C ",\n" EV_A "]", n, &k);
	CHECK_EQ_INT(k, 2);
	CHECK_EQ_STR(n[0], "ListBuckets");
	CHECK_EQ_STR(n[1], "CreateUser");
	/* empty array, empty stream */
	WALK("[]\n");
	CHECK_EQ_INT(G.n + G.bad + G.trunc, 0);
	WALK("  \n");
	CHECK_EQ_INT(G.n + G.bad + G.trunc, 0);
}

MM_TEST(pretty_stream_single_and_records)
{
	/* jq . output of JSON lines: pretty objects one after another */
	WALK("{\n  \"eventVersion\": \"1.09\",\n  \"eventTime\": \"2024-05-01T10:00:00Z\",\n"
	     "  \"eventSource\": \"iam.amazonaws.com\",\n  \"eventName\": \"CreateUser\"\n}\n"
	     "{\n  \"eventVersion\": \"1.09\",\n  \"eventTime\": \"2024-05-01T10:01:00Z\",\n"
	     "  \"eventSource\": \"iam.amazonaws.com\",\n  \"eventName\": \"DeleteUser\"\n}\n");
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.line[0], 1);
	CHECK_EQ_INT(G.line[1], 7);
	/* one pretty event */
	WALK("\xef\xbb\xbf{\n  \"eventTime\": \"2024-05-01T10:00:00Z\",\n  \"eventSource\": \"s\",\n"
	     "  \"eventName\": \"n\"\n}");
	CHECK_EQ_INT(G.n, 1);
	/* S3 documents concatenated (and one inside an array) */
	WALK("{\"Records\": [\n" EV_A "\n]}\n{\n \"Records\": [\n  " EV_B ",\n  " EV_C "\n ]\n}\n"
	     "[{\"Records\":[" EV_A "]}]");
	CHECK_EQ_INT(G.n, 4);
	CHECK_EQ_INT(G.line[1], 6);
	CHECK_EQ_INT(G.bad, 0);
}

/* a JSON string holding s (quotes and backslashes escaped) */
static void quote(char *dst, size_t cap, const char *s)
{
	size_t n = 0;
	dst[n++] = '"';
	for (; *s && n + 3 < cap; s++) {
		if (*s == '"' || *s == '\\')
			dst[n++] = '\\';
		dst[n++] = *s;
	}
	dst[n++] = '"';
	dst[n] = '\0';
}

MM_TEST(lookup_events_pages)
{
	static char doc[16384], qa[4096], qb[4096], qc[4096];
	int n;
	quote(qa, sizeof(qa), EV_A);
	quote(qb, sizeof(qb), EV_B);
	quote(qc, sizeof(qc), EV_C);
	/* two pages appended, pretty as the CLI prints them */
	n = snprintf(doc, sizeof(doc),
		     "{\n    \"Events\": [\n        {\n            \"EventId\": \"e-0001\",\n"
		     "            \"EventName\": \"CreateUser\",\n            \"Resources\": [],\n"
		     "            \"CloudTrailEvent\": %s\n        },\n        {\n"
		     "            \"EventId\": \"e-0002\",\n            \"CloudTrailEvent\": %s\n"
		     "        }\n    ],\n    \"NextToken\": \"tok\"\n}\n"
		     "{\n    \"Events\": [\n        {\n            \"CloudTrailEvent\": %s\n        }\n"
		     "    ]\n}\n",
		     qa, qb, qc);
	walk(doc, (size_t)n, &G);
	CHECK_EQ_INT(G.n, 3);
	CHECK_EQ_INT(G.bad, 0);
	/* located at the CloudTrailEvent string, raw is the decoded event */
	CHECK_EQ_INT(G.line[0], 7);
	CHECK_EQ_INT(G.line[1], 11);
	CHECK_EQ_INT(G.line[2], 19);
	CHECK_EQ_STR(G.raw[0], EV_A);
	CHECK_EQ_STR(G.raw[2], EV_C);
	same_as_bare(EV_A, 0);
	same_as_bare(EV_B, 1);
	same_as_bare(EV_C, 2);
	CHECK(memcmp(doc + G.off[0], "\"{", 2) == 0);
	/* a bad CloudTrailEvent between good ones; a number instead of a string */
	n = snprintf(doc, sizeof(doc),
		     "{\"Events\":[{\"CloudTrailEvent\":%s},\n{\"CloudTrailEvent\":\"{\\\"eventName\\\":"
		     "\\\"x\\\"}\"},\n{\"CloudTrailEvent\":5},\n{\"CloudTrailEvent\":\"{\\\"a\\\":\"},\n"
		     "{\"CloudTrailEvent\":%s}]}",
		     qa, qc);
	walk(doc, (size_t)n, &G);
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.bad, 3);
	CHECK_EQ_INT(G.bad_line[0], 2);
	CHECK(strstr(G.bad_msg[0], "CloudTrailEvent: missing eventTime") != NULL);
	CHECK(strstr(G.bad_msg[1], "not a string") != NULL);
	CHECK(strstr(G.bad_msg[2], "CloudTrailEvent: ") != NULL);
}

#define EB(dt, ev)                                                                                 \
	"{\"version\":\"0\",\"id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\",\"detail-type\":\"" dt  \
	"\",\"source\":\"aws.iam\",\"account\":\"123456789012\",\"time\":\"2024-05-01T10:00:00Z\"," \
	"\"region\":\"us-east-1\",\"resources\":[],\"detail\":" ev "}"

MM_TEST(eventbridge_lines_array_and_skips)
{
	WALK(EB("AWS API Call via CloudTrail", EV_A) "\n" EB("EC2 Instance State-change Notification",
							      "{\"state\":\"running\"}") "\n" EB(
		"AWS Console Sign In via CloudTrail", EV_B) "\n");
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.skipped, 1);
	CHECK_EQ_INT(G.line[1], 3);
	CHECK_EQ_STR(G.raw[0], EV_A);
	same_as_bare(EV_A, 0);
	same_as_bare(EV_B, 1);
	/* an array of them, pretty; a detail missing eventTime in the middle */
	WALK("[\n  " EB("AWS API Call via CloudTrail", EV_A) ",\n  " EB(
		"AWS API Call via CloudTrail",
		"{\"eventSource\":\"s\",\"eventName\":\"n\"}") ",\n  " EB("AWS Service Event via "
									  "CloudTrail",
									  EV_C) "\n]\n");
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.bad, 1);
	CHECK_EQ_INT(G.bad_line[0], 3);
	CHECK(strstr(G.bad_msg[0], "EventBridge detail: missing eventTime") != NULL);
	same_as_bare(EV_C, 1);
}

MM_TEST(eventbridge_and_lookup_items_as_lines)
{
	struct mm_arena a;
	struct mm_event ev;
	struct mm_err err;
	static char line[8192], q[4096];
	const char *eb = EB("AWS API Call via CloudTrail", EV_B);
	const char *other = EB("Scheduled Event", "{}");
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	CHECK_EQ_INT(mm_ct_parse_line(eb, strlen(eb), &a, &ev, &err), 0);
	CHECK_EQ_INT(ev.raw.n, strlen(EV_B));
	CHECK(memcmp(ev.raw.p, EV_B, ev.raw.n) == 0);
	CHECK_EQ_INT(mm_ct_parse_line(other, strlen(other), &a, &ev, &err), MM_ESKIP);
	quote(q, sizeof(q), EV_C);
	snprintf(line, sizeof(line), "{\"EventId\":\"e-0003\",\"CloudTrailEvent\":%s}", q);
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	CHECK_EQ_INT(mm_ct_parse_line(line, strlen(line), &a, &ev, &err), 0);
	CHECK_EQ_INT(ev.raw.n, strlen(EV_C));
	CHECK(mm_str_eqz(ev.u.api.event_name, "ListBuckets"));
	/* the wrapper's key written with an escape is the same key */
	snprintf(line, sizeof(line), "{\"EventId\":\"e-0003\",\"CloudTrail\\u0045vent\":%s}", q);
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	CHECK_EQ_INT(mm_ct_parse_line(line, strlen(line), &a, &ev, &err), 0);
	CHECK(mm_str_eqz(ev.u.api.event_name, "ListBuckets"));
	/* a bare event's raw is the object on the line */
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	CHECK_EQ_INT(mm_ct_parse_line("  " EV_A " ", strlen(EV_A) + 3, &a, &ev, &err), 0);
	CHECK_EQ_INT(ev.raw.n, strlen(EV_A));
	/* a line that is no event keeps its own reason */
	CHECK_EQ_INT(mm_ct_parse_line("{\"a\":1}", 7, &a, &ev, &err), MM_EPARSE);
	CHECK(strstr(err.msg, "missing eventTime") != NULL);
}

/* Lake: a SELECT * row, userIdentity in Lake's {key=value} rendering */
#define LAKE_ROW_A                                                                                 \
	"[{\"eventVersion\":\"1.09\"},{\"userIdentity\":\"{type=IAMUser, "                          \
	"principalid=AIDAEXAMPLEALICE, arn=arn:aws:iam::123456789012:user/alice, "                  \
	"accountid=123456789012, accesskeyid=AKIAEXAMPLEALICE0001, username=alice, "                \
	"sessioncontext=null, invokedby=null, identityprovider=null}\"},"                            \
	"{\"eventTime\":\"2024-05-01 10:00:00.000\"},{\"eventSource\":\"iam.amazonaws.com\"},"      \
	"{\"eventName\":\"CreateUser\"},{\"awsRegion\":\"us-east-1\"},{\"sourceIPAddress\":"       \
	"\"203.0.113.9\"},{\"userAgent\":\"aws-cli/2.15\"},{\"errorCode\":null},"                   \
	"{\"requestParameters\":\"{\\\"userName\\\":\\\"mallory\\\"}\"},{\"eventID\":\"e-0001\"},"  \
	"{\"readOnly\":\"false\"},{\"eventType\":\"AwsApiCall\"},{\"recipientAccountId\":"         \
	"\"123456789012\"}]"
/* lower-case column names; userIdentity as JSON text with lower-case keys */
#define LAKE_ROW_B                                                                                 \
	"[{\"eventversion\":\"1.09\"},{\"useridentity\":\"{\\\"type\\\":\\\"AssumedRole\\\","       \
	"\\\"principalid\\\":\\\"AROAEXAMPLE:bob\\\",\\\"arn\\\":\\\"arn:aws:sts::123456789012:"    \
	"assumed-role/Admin/bob\\\",\\\"accountid\\\":\\\"123456789012\\\",\\\"accesskeyid\\\":"     \
	"\\\"ASIAEXAMPLEBOB000002\\\",\\\"sessioncontext\\\":{\\\"sessionissuer\\\":{\\\"type\\\":" \
	"\\\"Role\\\",\\\"principalid\\\":\\\"AROAEXAMPLE\\\",\\\"arn\\\":\\\"arn:aws:iam::"         \
	"123456789012:role/Admin\\\",\\\"accountid\\\":\\\"123456789012\\\",\\\"username\\\":"       \
	"\\\"Admin\\\"},\\\"attributes\\\":{\\\"creationdate\\\":\\\"2024-05-01T09:00:00Z\\\","      \
	"\\\"mfaauthenticated\\\":\\\"true\\\"}}}\"},{\"eventtime\":\"2024-05-01 10:05:00.000\"},"  \
	"{\"eventsource\":\"ec2.amazonaws.com\"},{\"eventname\":\"DescribeInstances\"},"            \
	"{\"awsregion\":\"eu-west-1\"},{\"sourceipaddress\":\"198.51.100.7\"},{\"useragent\":"      \
	"\"Boto3/1.34\"},{\"eventid\":\"e-0002\"},{\"readonly\":\"true\"},"                         \
	"{\"recipientaccountid\":\"123456789012\"}]"

MM_TEST(lake_rows_rebuilt)
{
	WALK("{\n    \"QueryStatus\": \"FINISHED\",\n    \"QueryStatistics\": {\"ResultsCount\": 3,"
	     " \"BytesScanned\": 1000},\n    \"QueryResultRows\": [\n        " LAKE_ROW_A
	     ",\n        [{\"eventName\":\"CreateUser\"},{\"apiCount\":\"4\"}],\n        " LAKE_ROW_B
	     ",\n        [1,\n    ]\n}\n");
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.line[0], 5);
	CHECK_EQ_INT(G.line[1], 7);
	same_as_bare(EV_A, 0);
	same_as_bare(EV_B, 1);
	CHECK(strstr(G.raw[0], "\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":") != NULL);
	CHECK(strstr(G.raw[0], "\"requestParameters\":{\"userName\":\"mallory\"}") != NULL);
	CHECK(strstr(G.raw[1], "\"sessionIssuer\":{\"type\":\"Role\"") != NULL);
	CHECK_EQ_INT(G.bad, 2);
	CHECK_EQ_INT(G.bad_line[0], 6);
	CHECK(strstr(G.bad_msg[0], "SELECT *") != NULL);
	CHECK_EQ_INT(G.bad_line[1], 8);
	/* rows outside their wrapper: jq '.QueryResultRows' and jq -c '.QueryResultRows[]' */
	WALK("[\n" LAKE_ROW_A ",\n" LAKE_ROW_B "\n]\n");
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.line[1], 3);
	WALK(LAKE_ROW_A "\n" LAKE_ROW_B "\n");
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.line[1], 2);
	same_as_bare(EV_B, 1);
	/* a value in the {} rendering that is no struct stays a string */
	WALK("{\"QueryResultRows\":[[{\"eventTime\":\"2024-05-01 10:00:00.000\"},{\"eventSource\":\"s\"},"
	     "{\"eventName\":\"n\"},{\"userAgent\":\"{not a struct\"},{\"userIdentity\":\"{type=Root, "
	     "arn=arn:aws:iam::1:root, sessioncontext={attributes={mfaauthenticated=true, "
	     "creationdate=2024-05-01 09:00:00.000}, sessionissuer={}}}\"}]]}");
	CHECK_EQ_INT(G.n, 1);
	CHECK_EQ_INT(G.api[0].who.mfa, 1);
	CHECK_EQ_INT(G.api[0].user_agent.n, strlen("{not a struct"));
}

MM_TEST(bad_records_between_good_ones)
{
	/* array: a malformed element, a scalar, a record without eventTime */
	WALK("[\n" EV_A ",\n{\"eventVersion\":\"1.09\",\"eventTime\":\"2024-\x01\"},\n42,\n"
	     "{\"eventVersion\":\"1\",\"eventName\":\"x\",\"eventSource\":\"y\"},\n" EV_B "\n]");
	CHECK_EQ_INT(G.n, 2);
	/* the resynchronisation passes over the scalar with the damage */
	CHECK_EQ_INT(G.bad, 2);
	CHECK_EQ_INT(G.bad_line[0], 3);
	CHECK_EQ_INT(G.bad_line[1], 5);
	CHECK(strstr(G.bad_msg[1], "missing eventTime") != NULL);
	CHECK_EQ_INT(G.line[1], 6);
	/* a well-formed element of the wrong kind is one error of its own */
	WALK("[" EV_A ",\n42,\n\"x\"," EV_B "]");
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.bad, 2);
	CHECK_EQ_INT(G.bad_line[0], 2);
	CHECK(strstr(G.bad_msg[0], "not a CloudTrail event") != NULL);
	/* a stream: a damaged line between good ones */
	WALK(EB("AWS API Call via CloudTrail", EV_A) "\n{\"version\":\"0\",\"detail\":{\"ev\n" EB(
		"AWS API Call via CloudTrail", EV_C) "\n");
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.bad, 1);
	CHECK_EQ_INT(G.bad_line[0], 2);
	CHECK_EQ_INT(G.line[1], 3);
	/* a missing separator between array elements */
	WALK("[" EV_A " " EV_B ",\n" EV_C "]");
	CHECK_EQ_INT(G.n, 2);
	CHECK_EQ_INT(G.bad, 1);
	/* something that is not JSON at all */
	WALK("hello\n" EV_A "\n");
	CHECK_EQ_INT(G.n, 1);
	CHECK_EQ_INT(G.bad, 1);
}

MM_TEST(truncated_documents)
{
	/* cut inside the second record: the first comes out, then ETRUNC */
	static const char whole[] = "[\n" EV_A ",\n" EV_B "\n]\n";
	size_t cut;
	for (cut = 1; cut < sizeof(whole) - 1; cut += 7) {
		walk(whole, cut, &G);
		CHECK(G.trunc == 1 || cut >= sizeof(whole) - 4);
		CHECK(G.n <= 2);
	}
	walk(whole, strlen(EV_A) + 10, &G);
	CHECK_EQ_INT(G.n, 1);
	CHECK_EQ_INT(G.trunc, 1);
	WALK("{\"Events\":[{\"CloudTrailEvent\":\"{}\"},");
	CHECK_EQ_INT(G.trunc, 1);
	WALK("{\"QueryStatus\":\"FIN");
	CHECK_EQ_INT(G.trunc, 1);
}

MM_TEST(hostile_nesting_and_sizes)
{
	char *deep = mm_malloc(200001);
	int i;
	/* arrays nested past the walker's stack and past JSON depth */
	for (i = 0; i < 100000; i++)
		deep[i] = '[';
	for (; i < 200000; i++)
		deep[i] = ']';
	walk(deep, 200000, &G);
	CHECK_EQ_INT(G.n, 0);
	CHECK(G.bad >= 1);
	/* wrappers nested: {"Events":[{"Events":[...]}]} is walked, bounded */
	WALK("{\"Events\":[{\"Records\":[" EV_A "]}]}");
	CHECK_EQ_INT(G.n, 1);
	/* a record bigger than the bound is one located error, the next comes out */
	{
		size_t big = MM_CT_MAX_RECORD + 100, n = 0;
		char *b = mm_malloc(big + 2048);
		n += (size_t)sprintf(b, "[{\"eventTime\":\"2024-05-01T10:00:00Z\",\"x\":\"");
		memset(b + n, 'a', big);
		n += big;
		n += (size_t)sprintf(b + n, "\"},\n%s]", EV_C);
		walk(b, n, &G);
		CHECK_EQ_INT(G.n, 1);
		CHECK_EQ_INT(G.bad, 1);
		CHECK(strstr(G.bad_msg[0], "larger than") != NULL);
		mm_free(b);
	}
	mm_free(deep);
}

static enum mm_format det(const char *s, enum mm_source f)
{
	return mm_format_detect("x", s, strlen(s), f);
}

MM_TEST(detection_of_each_shape)
{
	CHECK_EQ_INT(det("[" EV_A "]", 0), MM_FMT_CT_STREAM);
	CHECK_EQ_INT(det("[\n  {\n    \"eventVersion\": \"1.09\",\n", 0), MM_FMT_CT_STREAM);
	CHECK_EQ_INT(det("{\n  \"eventVersion\": \"1.09\",\n  \"userIdentity\": {\n", 0),
		     MM_FMT_CT_STREAM);
	CHECK_EQ_INT(det("{\n    \"Events\": [\n        {\n            \"EventId\": \"x\",\n", 0),
		     MM_FMT_CT_STREAM);
	CHECK_EQ_INT(det("{\"QueryStatus\":\"FINISHED\",\"QueryResultRows\":[]}", 0),
		     MM_FMT_CT_STREAM);
	CHECK_EQ_INT(det("{\n  \"version\": \"0\",\n  \"detail-type\": \"AWS API Call via CloudTrail\",\n",
			 0),
		     MM_FMT_CT_STREAM);
	/* compact ones a line stay lines (split, streamed) */
	CHECK_EQ_INT(det(EB("AWS API Call via CloudTrail", EV_A) "\n", 0), MM_FMT_CT_LINES);
	CHECK_EQ_INT(det(EV_A "\n" EV_B "\n", 0), MM_FMT_CT_LINES);
	/* the S3 file keeps its fast path, pretty or not */
	CHECK_EQ_INT(det("{\n  \"Records\": [\n", 0), MM_FMT_CT_DOC);
	/* a pretty event without a marker in the head needs --source */
	CHECK_EQ_INT(det("{\n  \"x\": 1,\n", 0), MM_FMT_UNKNOWN);
	CHECK_EQ_INT(det("{\n  \"x\": 1,\n", MM_SRC_CLOUDTRAIL), MM_FMT_CT_STREAM);
	CHECK(det("[1,2]", MM_SRC_FLOW) != MM_FMT_CT_STREAM);
	CHECK(det("[" EV_A "]", MM_SRC_DNS) != MM_FMT_CT_STREAM);
}
