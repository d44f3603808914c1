/* test_cloudtrail.c - CloudTrail records and S3 documents: every AWS sample
 * parses, key fields come out right, every userIdentity type parses, bad
 * records fail with a reason, and a damaged {"Records":[...]} document
 * still yields the good records around the damage. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "mmtest.h"
#include "parse/cloudtrail.h"

static char scratch_mem[1 << 16];

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	long len;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = mm_malloc((size_t)len + 1);
	if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
		mm_free(b);
		b = NULL;
	}
	fclose(f);
	*n = (size_t)len;
	return b;
}

/* parse a C string from an exact-size heap copy (ASan sees over-reads) */
static int parse(const char *s, struct mm_event *ev, struct mm_err *err)
{
	static char *keep;
	struct mm_arena a;
	size_t n = strlen(s);
	int rc;
	mm_free(keep);	/* slices stay valid until the next parse */
	keep = mm_malloc(n ? n : 1);
	memcpy(keep, s, n);
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	mm_err_clear(err);
	rc = mm_ct_parse_line(keep, n, &a, ev, err);
	return rc;
}

/* find the sample line holding eventName name and parse it */
static int sample(const char *file, const char *name, struct mm_event *ev, char **keep)
{
	char path[512];
	size_t n, i, s = 0;
	char *b;
	struct mm_arena a;
	struct mm_err err;
	snprintf(path, sizeof(path), "%s/aws-samples/cloudtrail/%s", mmtest_shared_data(), file);
	b = slurp(path, &n);
	if (!b)
		return -1;
	*keep = b;
	for (i = 0; i <= n; i++) {
		if (i == n || b[i] == '\n') {
			mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
			if (i > s && mm_ct_parse_line(b + s, i - s, &a, ev, &err) == 0 &&
			    mm_str_eqz(ev->u.api.event_name, name))
				return 0;
			s = i + 1;
		}
	}
	return -1;
}

MM_TEST(every_sample_parses)
{
	char dir[512], path[1024];
	DIR *d;
	struct dirent *e;
	int files = 0, records = 0, digests = 0;
	snprintf(dir, sizeof(dir), "%s/aws-samples/cloudtrail", mmtest_shared_data());
	d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n, i, s = 0;
		char *b;
		if (!strstr(e->d_name, ".log"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		b = slurp(path, &n);
		CHECK(b != NULL);
		if (!b)
			continue;
		files++;
		if (mm_ct_is_digest(b, n)) {
			CHECK(strstr(e->d_name, "digest") != NULL);
			digests++;
			mm_free(b);
			continue;
		}
		CHECK(strstr(e->d_name, "digest") == NULL);
		/* one event per line; the last line may lack its newline */
		for (i = 0; i <= n; i++) {
			if (i == n || b[i] == '\n') {
				struct mm_event ev;
				struct mm_err err;
				struct mm_arena a;
				size_t j = s;
				while (j < i && (b[j] == ' ' || b[j] == '\r'))
					j++;
				if (j < i) {
					int rc;
					mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
					mm_err_clear(&err);
					rc = mm_ct_parse_line(b + s, i - s, &a, &ev, &err);
					if (rc)
						fprintf(stderr, "  %s: %s\n", e->d_name, err.msg);
					CHECK_EQ_INT(rc, 0);
					CHECK(ev.u.api.event_name.n > 0);
					CHECK(ev.u.api.time_ms > 1000000000000LL);
					records++;
				}
				s = i + 1;
			}
		}
		mm_free(b);
	}
	closedir(d);
	CHECK(files >= 20);
	CHECK_EQ_INT(digests, 1);
	CHECK(records >= 22);
}

MM_TEST(run_instances_fields)
{
	struct mm_event ev;
	char *keep = NULL;
	const struct mm_api *a = &ev.u.api;
	int64_t t;
	CHECK_EQ_INT(sample("test-run-instances-json.log", "RunInstances", &ev, &keep), 0);
	CHECK_EQ_INT(ev.kind, MM_EV_API);
	CHECK_EQ_SLICE(a->event_source, "ec2.amazonaws.com");
	CHECK_EQ_SLICE(a->event_version, "1.10");
	CHECK_EQ_SLICE(a->event_type, "AwsApiCall");
	CHECK_EQ_SLICE(a->event_id, "5e1fb8e0-231d-4527-a146-d051e37d0d4f");
	CHECK_EQ_SLICE(a->region, "us-east-1");
	CHECK_EQ_SLICE(a->account, "1010101010101");
	CHECK_EQ_SLICE(a->source_ip_raw, "216.160.83.56");
	CHECK(a->has_source_ip);
	CHECK_EQ_INT(mm_ip_v4(&a->source_ip), (216u << 24) | (160u << 16) | (83u << 8) | 56u);
	CHECK_EQ_INT(a->read_only, 0);
	CHECK_EQ_SLICE(a->who.type, "IAMUser");
	CHECK_EQ_SLICE(a->who.access_key_id, "ACCESS_KEY_EXAMPLE");
	CHECK(a->response_elements.n > 2 && a->response_elements.p[0] == '{');
	CHECK(a->response_elements.p[a->response_elements.n - 1] == '}');
	CHECK(a->request_parameters.n > 2 && a->request_parameters.p[0] == '{');
	CHECK_EQ_INT(mm_time_parse_iso("2024-09-11T09:28:29Z", 20, &t), 0);
	CHECK_EQ_INT(a->time_ms, t);
	mm_free(keep);
}

MM_TEST(console_login_account_fallback)
{
	struct mm_event ev;
	char *keep = NULL;
	const struct mm_api *a = &ev.u.api;
	CHECK_EQ_INT(sample("test-console-login-json.log", "ConsoleLogin", &ev, &keep), 0);
	/* no recipientAccountId: userIdentity.accountId stands in */
	CHECK_EQ_SLICE(a->account, "111122223333");
	CHECK_EQ_SLICE(a->who.user_name, "JohnDoe");
	CHECK_EQ_SLICE(a->who.arn, "arn:aws:iam::111122223333:user/JohnDoe");
	CHECK_EQ_INT(a->request_parameters.n, 0);	/* null */
	CHECK_EQ_SLICE(a->response_elements, "{\"ConsoleLogin\":\"Success\"}");
	CHECK_EQ_INT(a->read_only, -1);
	CHECK_EQ_INT(a->who.mfa, -1);
	mm_free(keep);
}

MM_TEST(identity_center_and_redacted_ip)
{
	struct mm_event ev;
	char *keep = NULL;
	const struct mm_api *a = &ev.u.api;
	CHECK_EQ_INT(sample("test-user-authentication.log", "UserAuthentication", &ev, &keep), 0);
	CHECK_EQ_SLICE(a->who.type, "IdentityCenterUser");
	CHECK_EQ_SLICE(a->source_ip_raw, "redacted");
	CHECK_EQ_INT(a->has_source_ip, 0);
	mm_free(keep);
}

MM_TEST(mfa_and_string_readonly)
{
	struct mm_event ev;
	struct mm_err err;
	const struct mm_api *a = &ev.u.api;
	CHECK_EQ_INT(parse("{\"eventTime\":\"2020-01-08T20:58:45Z\",\"eventSource\":\"s\","
			   "\"eventName\":\"n\",\"readOnly\":\"true\",\"userIdentity\":{\"type\":"
			   "\"AssumedRole\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\","
			   "\"arn\":\"arn:aws:iam::1:role/R\",\"userName\":\"R\",\"principalId\":"
			   "\"AROA1\"},\"attributes\":{\"mfaAuthenticated\":\"false\"}}}}",
			   &ev, &err),
		     0);
	CHECK_EQ_INT(a->read_only, 1);
	CHECK_EQ_INT(a->who.mfa, 0);
	CHECK_EQ_SLICE(a->who.issuer_type, "Role");
	CHECK_EQ_SLICE(a->who.issuer_arn, "arn:aws:iam::1:role/R");
	CHECK_EQ_SLICE(a->who.issuer_user_name, "R");
	CHECK_EQ_SLICE(a->who.issuer_principal_id, "AROA1");
	CHECK_EQ_INT(parse("{\"eventTime\":\"2020-01-08T20:58:45Z\",\"eventSource\":\"s\","
			   "\"eventName\":\"n\",\"readOnly\":true,\"userIdentity\":{\"sessionContext\":"
			   "{\"attributes\":{\"mfaAuthenticated\":\"true\"}}}}",
			   &ev, &err),
		     0);
	CHECK_EQ_INT(a->read_only, 1);
	CHECK_EQ_INT(a->who.mfa, 1);
}

/* Escaped keys are read at every level of userIdentity, as a JSON
 * reader reads them (the iterator says which keys to decode). */
MM_TEST(escaped_identity_keys)
{
	struct mm_event ev;
	struct mm_err err;
	const struct mm_api *a = &ev.u.api;
	CHECK_EQ_INT(parse("{\"eventTime\":\"2020-01-08T20:58:45Z\",\"eventSource\":\"s\","
			   "\"eventName\":\"n\",\"user\\u0049dentity\":{\"typ\\u0065\":"
			   "\"AssumedRole\",\"session\\u0043ontext\":{\"sessionIssuer\":{\"\\u0074ype\":"
			   "\"Role\",\"arn\":\"arn:aws:iam::1:role/R\",\"user\\u004eame\":\"R\"},"
			   "\"attribute\\u0073\":{\"mfa\\u0041uthenticated\":\"true\"}}}}",
			   &ev, &err),
		     0);
	CHECK_EQ_SLICE(a->who.type, "AssumedRole");
	CHECK_EQ_SLICE(a->who.issuer_type, "Role");
	CHECK_EQ_SLICE(a->who.issuer_user_name, "R");
	CHECK_EQ_INT(a->who.mfa, 1);
}

MM_TEST(every_identity_type)
{
	static const char *types[] = {"Root", "IAMUser", "AssumedRole", "Role", "FederatedUser",
				      "Directory", "AWSAccount", "AWSService", "IdentityCenterUser",
				      "SAMLUser", "WebIdentityUser", "Unknown", "SomethingNew"};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(types); i++) {
		char rec[1024];
		struct mm_event ev;
		struct mm_err err;
		snprintf(rec, sizeof(rec),
			 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"%s\",\"principalId\":"
			 "\"P\",\"arn\":\"A\",\"accountId\":\"123456789012\",\"accessKeyId\":\"K\","
			 "\"userName\":\"U\",\"invokedBy\":\"I\",\"identityProvider\":\"IP\","
			 "\"webIdFederationData\":{\"federatedProvider\":\"x\",\"attributes\":{}},"
			 "\"onBehalfOf\":{\"userId\":\"u\"}},\"eventTime\":\"2021-01-01T00:00:00Z\","
			 "\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"ListUsers\","
			 "\"sourceIPAddress\":\"AWS Internal\"}",
			 types[i]);
		CHECK_EQ_INT(parse(rec, &ev, &err), 0);
		CHECK_EQ_SLICE(ev.u.api.who.type, types[i]);
		CHECK_EQ_SLICE(ev.u.api.who.principal_id, "P");
		CHECK_EQ_SLICE(ev.u.api.who.arn, "A");
		CHECK_EQ_SLICE(ev.u.api.who.account_id, "123456789012");
		CHECK_EQ_SLICE(ev.u.api.who.access_key_id, "K");
		CHECK_EQ_SLICE(ev.u.api.who.user_name, "U");
		CHECK_EQ_SLICE(ev.u.api.who.invoked_by, "I");
		CHECK_EQ_SLICE(ev.u.api.who.identity_provider, "IP");
		CHECK_EQ_SLICE(ev.u.api.account, "123456789012");
		CHECK_EQ_SLICE(ev.u.api.source_ip_raw, "AWS Internal");
		CHECK_EQ_INT(ev.u.api.has_source_ip, 0);
	}
}

MM_TEST(no_identity_ipv6_escapes_unknown_keys)
{
	struct mm_event ev;
	struct mm_err err;
	const struct mm_api *a = &ev.u.api;
	CHECK_EQ_INT(parse("  {\"eventTime\":\"2021-01-01T00:00:00.123Z\",\"extra\":{\"a\":[1,2,{}]},"
			   "\"event\\u0053ource\":\"s3.amazonaws.com\",\"eventName\":\"Get\\u004fbject\","
			   "\"sourceIPAddress\":\"2001:db8::1\",\"errorCode\":\"AccessDenied\","
			   "\"errorMessage\":\"a \\\"quoted\\\" \\u00e9\",\"userAgent\":\"[aws-cli]\","
			   "\"requestParameters\":[1 , 2],\"responseElements\":null}\r\n",
			   &ev, &err),
		     0);
	CHECK_EQ_SLICE(a->event_source, "s3.amazonaws.com");
	CHECK_EQ_SLICE(a->event_name, "GetObject");
	CHECK(a->has_source_ip);
	CHECK_EQ_INT(a->source_ip.v6, 1);
	CHECK_EQ_SLICE(a->error_code, "AccessDenied");
	CHECK_EQ_SLICE(a->error_message, "a \"quoted\" \xc3\xa9");
	CHECK_EQ_SLICE(a->request_parameters, "[1 , 2]");
	CHECK_EQ_INT(a->response_elements.n, 0);
	CHECK_EQ_INT(a->who.type.n, 0);
	CHECK_EQ_INT(a->who.mfa, -1);
	CHECK_EQ_INT(a->time_ms % 1000, 123);
}

MM_TEST(bad_records)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{"{\"eventSource\":\"s\",\"eventName\":\"n\"}", "missing eventTime"},
		{"{\"eventTime\":\"yesterday\",\"eventSource\":\"s\",\"eventName\":\"n\"}", "ISO 8601"},
		{"{\"eventTime\":1609459200,\"eventSource\":\"s\",\"eventName\":\"n\"}", "not a string"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\"}", "missing eventName"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventName\":\"n\"}", "missing eventSource"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\",\"eventName\":5}",
		 "eventName is not a string"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\",\"eventName\":\"n\","
		 "\"userIdentity\":\"root\"}",
		 "userIdentity"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\",\"eventName\":\"n\","
		 "\"awsRegion\":{}}",
		 "awsRegion"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\",\"eventName\":\"n\"",
		 "malformed"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\",\"eventName\":\"n\"} x",
		 "trailing"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\",\"eventName\":\"\\q\"}",
		 "malformed"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\",\"eventName\":\"\\ud800\"}",
		 "escape"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\",\"eventName\":\"n\","
		 "\"userIdentity\":{\"type\":\"\\udc00x\"}}",
		 "escape"},
		{"[1,2]", "not a JSON object"},
		{"", "not a JSON object"},
		{"{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\",\"eventName\":\"n\","
		 "\"requestParameters\":{\"a\":\"b\",}}",
		 "malformed"},
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

MM_TEST(huge_depth)
{
	size_t depth = 5000, n = 0, i;
	char *b = mm_malloc(depth * 2 + 200);
	struct mm_event ev;
	struct mm_err err;
	struct mm_arena a;
	n += (size_t)sprintf(b, "{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\","
				"\"eventName\":\"n\",\"requestParameters\":");
	for (i = 0; i < depth; i++)
		b[n++] = '[';
	for (i = 0; i < depth; i++)
		b[n++] = ']';
	b[n++] = '}';
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	CHECK_EQ_INT(mm_ct_parse_line(b, n, &a, &ev, &err), MM_EPARSE);
	CHECK(strstr(err.msg, "nested") != NULL);
	mm_free(b);
}

#define REC(t, name)                                                                      \
	"  {\n    \"eventVersion\": \"1.08\",\n    \"eventTime\": \"" t "\",\n"               \
	"    \"eventSource\": \"ec2.amazonaws.com\",\n    \"eventName\": \"" name "\"\n  }"

static int doc_all(const char *s, size_t n, int *good, int *bad, uint64_t *bad_line,
		   char *names, size_t cap, struct mm_err *err)
{
	struct mm_ct_doc d;
	struct mm_json_val rec;
	uint64_t line, off;
	int rc;
	char *b = mm_malloc(n ? n : 1);
	memcpy(b, s, n);
	*good = *bad = 0;
	names[0] = '\0';
	rc = mm_ct_doc_init(&d, b, n, err);
	if (rc) {
		mm_free(b);
		return rc;
	}
	for (;;) {
		rc = mm_ct_doc_next(&d, &rec, &line, &off, err);
		if (rc == 1) {
			struct mm_event ev;
			struct mm_arena a;
			struct mm_err e2;
			mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
			if (mm_ct_parse_value(&rec, &a, &ev, &e2) == 0) {
				(*good)++;
				strncat(names, ev.u.api.event_name.p,
					MM_MIN(ev.u.api.event_name.n, cap - strlen(names) - 2));
				strcat(names, ",");
			}
			CHECK_EQ_INT(b[off], '{');
			continue;
		}
		if (rc == MM_EPARSE) {
			(*bad)++;
			*bad_line = line;
			continue;
		}
		break;
	}
	mm_free(b);
	return rc;
}

MM_TEST(doc_pretty_printed)
{
	const char *s = "{\n  \"Records\": [\n" REC("2021-01-01T00:00:00Z", "A") ",\n" REC(
		"2021-01-01T00:00:01Z", "B") "\n  ]\n}\n";
	int good, bad;
	uint64_t bl = 0;
	char names[256];
	struct mm_err err;
	CHECK_EQ_INT(doc_all(s, strlen(s), &good, &bad, &bl, names, sizeof(names), &err), 0);
	CHECK_EQ_INT(good, 2);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_STR(names, "A,B,");
	/* line numbers of each record */
	{
		struct mm_ct_doc d;
		struct mm_json_val rec;
		uint64_t line = 0, off = 0;
		CHECK_EQ_INT(mm_ct_doc_init(&d, s, strlen(s), &err), 0);
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 1);
		CHECK_EQ_INT(line, 3);
		CHECK_EQ_INT(off, 19);
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 1);
		CHECK_EQ_INT(line, 9);
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 0);
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 0);
	}
	/* records on one line, then after newlines: the counter skips to the
	 * next newline it found once and counts again past it */
	{
		static const char t[] = "{\"Records\":[{\"a\":1},{\"a\":2},\n{\"a\":3},{\"a\":4},\n\n{\"a\":5}]}";
		static const uint64_t want[] = {1, 1, 2, 2, 4};
		struct mm_ct_doc d;
		struct mm_json_val rec;
		uint64_t line = 0, off = 0;
		int i;
		CHECK_EQ_INT(mm_ct_doc_init(&d, t, sizeof(t) - 1, &err), 0);
		for (i = 0; i < 5; i++) {
			CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 1);
			CHECK_EQ_INT((int)line, (int)want[i]);
		}
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 0);
	}
	/* a line far longer than the newline search's step (64 KiB), as an
	 * S3 object is: 3000 records of ~60 bytes, a newline after record
	 * 2000 and after 2999; the search never reads more than a step past
	 * the record at hand (so a mapped file is paged in as it is read) */
	{
		struct mm_buf b;
		struct mm_ct_doc d;
		struct mm_json_val rec;
		uint64_t line = 0, off = 0;
		int i;
		mm_buf_init(&b, 1 << 20);
		CHECK_EQ_INT(mm_buf_addz(&b, "{\"Records\":["), 0);
		for (i = 0; i < 3000; i++) {
			char r[96];
			snprintf(r, sizeof(r), "%s{\"eventName\":\"E%04d\",\"pad\":\"%040d\"}%s",
				 i ? "," : "", i, 0, i == 2000 || i == 2999 ? "\n" : "");
			CHECK_EQ_INT(mm_buf_addz(&b, r), 0);
		}
		CHECK_EQ_INT(mm_buf_addz(&b, "]}"), 0);
		CHECK(b.len > 3 * (64 << 10));
		CHECK_EQ_INT(mm_ct_doc_init(&d, b.p, b.len, &err), 0);
		for (i = 0; i < 3000; i++) {
			CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 1);
			CHECK_EQ_INT((int)line, i <= 2000 ? 1 : 2);
			CHECK(d.nl == NULL || d.nl <= b.p + off + rec.n + (64 << 10));
		}
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 0);
		mm_buf_free(&b);
	}
}

MM_TEST(doc_compact_and_empty)
{
	const char *s = "{\"Records\":[{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\","
			"\"eventName\":\"X\"},{\"eventTime\":\"2021-01-01T00:00:00Z\","
			"\"eventSource\":\"s\",\"eventName\":\"Y\"}]}";
	int good, bad;
	uint64_t bl = 0;
	char names[256];
	struct mm_err err;
	CHECK_EQ_INT(doc_all(s, strlen(s), &good, &bad, &bl, names, sizeof(names), &err), 0);
	CHECK_EQ_STR(names, "X,Y,");
	CHECK_EQ_INT(doc_all("{\"Records\":[]}", 14, &good, &bad, &bl, names, sizeof(names), &err),
		     0);
	CHECK_EQ_INT(good, 0);
	CHECK_EQ_INT(doc_all(" { \"Records\" : [ ] } ", 21, &good, &bad, &bl, names, sizeof(names),
			     &err),
		     0);
	/* not a Records document */
	CHECK_EQ_INT(doc_all("{\"eventTime\":1}", 15, &good, &bad, &bl, names, sizeof(names), &err),
		     MM_EFORMAT);
	CHECK_EQ_INT(doc_all("[]", 2, &good, &bad, &bl, names, sizeof(names), &err), MM_EFORMAT);
	CHECK_EQ_INT(doc_all("", 0, &good, &bad, &bl, names, sizeof(names), &err), MM_EFORMAT);
	CHECK_EQ_INT(doc_all("{\"Records\":{}}", 14, &good, &bad, &bl, names, sizeof(names), &err),
		     MM_EFORMAT);
}

MM_TEST(doc_broken_middle_record)
{
	/* record B (starting line 9) has a bad escape on line 13 */
	const char *s = "{\n  \"Records\": [\n" REC("2021-01-01T00:00:00Z", "A") ",\n"
			"  {\n    \"eventVersion\": \"1.08\",\n    \"eventTime\": \"2021-01-01T00:00:01Z\",\n"
			"    \"eventSource\": \"ec2.amazonaws.com\",\n    \"eventName\": \"B\\x\"\n  },\n" REC(
				"2021-01-01T00:00:02Z", "C") "\n  ]\n}\n";
	int good, bad;
	uint64_t bl = 0;
	char names[256];
	struct mm_err err;
	CHECK_EQ_INT(doc_all(s, strlen(s), &good, &bad, &bl, names, sizeof(names), &err), 0);
	CHECK_EQ_INT(good, 2);
	CHECK_EQ_INT(bad, 1);
	CHECK_EQ_STR(names, "A,C,");
	CHECK_EQ_INT(bl, 9);
	{
		/* the reason names the record's line and the damage's line */
		struct mm_ct_doc d;
		struct mm_json_val rec;
		uint64_t line = 0, off = 0;
		CHECK_EQ_INT(mm_ct_doc_init(&d, s, strlen(s), &err), 0);
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 1);
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), MM_EPARSE);
		CHECK(strstr(err.msg, "line 9") != NULL);
		if (!strstr(err.msg, "at line 13")) fprintf(stderr, "  msg: %s\n", err.msg);
		CHECK(strstr(err.msg, "at line 13") != NULL);
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 1);
		CHECK_EQ_INT(line, 15);
		CHECK_EQ_INT(mm_ct_doc_next(&d, &rec, &line, &off, &err), 0);
	}
}

MM_TEST(doc_broken_separator_and_scalar)
{
	const char *s = "{\"Records\":[{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\","
			"\"eventName\":\"X\"} 42, \"str\",{\"eventTime\":\"2021-01-01T00:00:00Z\","
			"\"eventSource\":\"s\",\"eventName\":\"Y\"}]}";
	int good, bad;
	uint64_t bl = 0;
	char names[256];
	struct mm_err err;
	CHECK_EQ_INT(doc_all(s, strlen(s), &good, &bad, &bl, names, sizeof(names), &err), 0);
	CHECK_EQ_STR(names, "X,Y,");
	CHECK(bad >= 1);
}

MM_TEST(doc_truncated)
{
	const char *s = "{\"Records\":[{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\","
			"\"eventName\":\"X\"},\n{\"eventTime\":\"2021-01-01T00:00:00Z\","
			"\"eventSource\":\"s\",\"eventName\":\"Y\"}]}";
	size_t full = strlen(s), cut;
	int good, bad;
	uint64_t bl = 0;
	char names[256];
	struct mm_err err;
	/* every cut point inside the array: the complete records come out,
	 * then MM_ETRUNC; never a crash or a read past the end */
	for (cut = 13; cut < full - 1; cut++) {
		int rc = doc_all(s, cut, &good, &bad, &bl, names, sizeof(names), &err);
		CHECK(rc == MM_ETRUNC);
		if (rc != MM_ETRUNC)
			fprintf(stderr, "  cut %zu gave %d\n", cut, rc);
		CHECK_EQ_INT(bad, 0);
		CHECK(good <= 2);
		if (cut > 90)
			CHECK(strncmp(names, "X,", 2) == 0);
	}
	CHECK_EQ_INT(doc_all(s, full, &good, &bad, &bl, names, sizeof(names), &err), 0);
	CHECK_EQ_INT(good, 2);
}

MM_TEST(digest_detection)
{
	char path[512];
	size_t n;
	char *b;
	snprintf(path, sizeof(path), "%s/aws-samples/cloudtrail/test-cloudtrail-digest-json.log",
		 mmtest_shared_data());
	b = slurp(path, &n);
	CHECK(b != NULL);
	if (b)
		CHECK(mm_ct_is_digest(b, n));
	mm_free(b);
	CHECK(!mm_ct_is_digest("{\"Records\":[", 12));
	CHECK(!mm_ct_is_digest("{\"eventVersion\":\"1\",\"digestS3Object\":1}", 39));
	CHECK(mm_ct_is_digest("{\"awsAccountId\":\"1\",\"digestS3Object\":\"x\"", 40));
	CHECK(!mm_ct_is_digest("", 0));
	CHECK(!mm_ct_is_digest("nonsense", 8));
}

/* A document of three records, the middle one nested `depth` levels deep
 * in requestParameters (objects, or arrays with commas inside). */
static char *deep_doc(size_t depth, int arrays, size_t *n)
{
	char *b = mm_malloc(depth * 8 + 1024);
	size_t k = 0, i;

	k += (size_t)sprintf(b + k, "{\"Records\":[\n" REC("2021-01-01T00:00:00Z", "A") ",\n");
	k += (size_t)sprintf(b + k, "{\"eventVersion\":\"1.08\",\"eventTime\":\"2021-01-01T00:00:01Z\","
				    "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"Deep\","
				    "\"requestParameters\":");
	for (i = 0; i < depth; i++)
		k += (size_t)sprintf(b + k, arrays ? "[1," : "{\"a\":");
	b[k++] = '0';
	for (i = 0; i < depth; i++)
		b[k++] = arrays ? ']' : '}';
	k += (size_t)sprintf(b + k, "},\n" REC("2021-01-01T00:00:02Z", "C") "\n]}\n");
	*n = k;
	return b;
}

MM_TEST(doc_deep_middle_record_does_not_abort_the_document)
{
	int arrays;

	for (arrays = 0; arrays < 2; arrays++) {
		size_t n;
		char *b = deep_doc(200, arrays, &n);
		struct mm_ct_doc d;
		struct mm_err err;
		struct mm_event ev;
		struct mm_arena a;
		uint64_t line = 0, off = 0;
		int good = 0, bad = 0, rc;
		char names[64] = "";

		/* the one-pass path used by the scan */
		CHECK_EQ_INT(mm_ct_doc_init(&d, b, n, &err), 0);
		mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
		while ((rc = mm_ct_doc_next_event(&d, &a, &ev, &line, &off, &err)) != 0) {
			if (rc == 1) {
				good++;
				strncat(names, ev.u.api.event_name.p, ev.u.api.event_name.n);
				strcat(names, ",");
				continue;
			}
			CHECK_EQ_INT(rc, MM_EPARSE);
			if (rc != MM_EPARSE)
				break;
			bad++;
			/* located: the record's line, and why */
			CHECK_EQ_INT(line, 8);
			CHECK(strstr(err.msg, "line 8") != NULL);
			CHECK(strstr(err.msg, "nested too deeply") != NULL);
		}
		CHECK_EQ_INT(good, 2);
		CHECK_EQ_INT(bad, 1);
		CHECK_EQ_STR(names, "A,C,");

		/* and the two-step iterator */
		{
			int g2, b2;
			uint64_t bl = 0;
			char nm[64];
			CHECK_EQ_INT(doc_all(b, n, &g2, &b2, &bl, nm, sizeof(nm), &err), 0);
			CHECK_EQ_INT(g2, 2);
			CHECK_EQ_INT(b2, 1);
			CHECK_EQ_INT(bl, 8);
		}
		mm_free(b);
	}
}

/* The event's top_*: the record's members as a second index of the
 * record would give them (Sigma reads them instead), kept with the event
 * (so a later parse does not change them), and none for too many members */
MM_TEST(top_members_of_the_last_record)
{
	const char *rec = "{\"eventTime\":\"2021-01-01T00:00:00Z\", \"userIdentity\" : "
			  "{\"type\":\"IAMUser\",\"sessionContext\":{\"attributes\":{}}} ,"
			  "\"eventSource\":\"s\",\"ev\\u0065ntName\":\"n\",\"requestParameters\":"
			  "{\"a\":[1,{\"b\":null}]},\"x\":null}";
	static const char *const keys[] = {"eventTime", "userIdentity", "eventSource",
					   "ev\\u0065ntName", "requestParameters", "x"};
	static const char *const vals[] = {"\"2021-01-01T00:00:00Z\"",
					   "{\"type\":\"IAMUser\",\"sessionContext\":{\"attributes\":{}}}",
					   "\"s\"", "\"n\"", "{\"a\":[1,{\"b\":null}]}", "null"};
	struct mm_event ev;
	struct mm_err err;
	const struct mm_str *k;
	const struct mm_json_val *v;
	struct mm_json_val whole;
	size_t used;
	char *big;
	int n, i;

	CHECK_EQ_INT(parse(rec, &ev, &err), 0);
	n = ev.u.api.ntop;
	k = ev.u.api.top_keys;
	v = ev.u.api.top_vals;
	CHECK_EQ_INT(n, 6);
	CHECK(ev.u.api.top_p == ev.raw.p);
	CHECK_EQ_INT((int)ev.u.api.top_n, (int)strlen(rec));
	for (i = 0; i < n && i < 6; i++) {
		CHECK_EQ_INT((int)k[i].n, (int)strlen(keys[i]));
		CHECK(!memcmp(k[i].p, keys[i], k[i].n));
		CHECK_EQ_INT((int)v[i].n, (int)strlen(vals[i]));
		CHECK(!memcmp(v[i].p, vals[i], v[i].n));
		/* the same value a scan of the text gives */
		CHECK_EQ_INT(mm_json_value(v[i].p, (size_t)(ev.raw.p + ev.raw.n - v[i].p), &whole, &used), 0);
		CHECK_EQ_INT((int)whole.type, (int)v[i].type);
		CHECK_EQ_INT((int)whole.n, (int)v[i].n);
	}
	/* a thread that turned them off gets none, and the same fields; on
	 * again, they are back */
	mm_ct_keep_top(0);
	CHECK_EQ_INT(parse(rec, &ev, &err), 0);
	CHECK(ev.u.api.top_p == NULL);
	CHECK_EQ_INT(ev.u.api.ntop, 0);
	CHECK(mm_str_eqz(ev.u.api.event_name, "n"));
	CHECK(mm_str_eqz(ev.u.api.event_source, "s"));
	mm_ct_keep_top(1);
	CHECK_EQ_INT(parse(rec, &ev, &err), 0);
	CHECK_EQ_INT(ev.u.api.ntop, 6);
	CHECK(ev.u.api.top_p == ev.raw.p);
	/* an event made by hand (not parsed from a record) has none */
	memset(&ev, 0, sizeof(ev));
	CHECK(ev.u.api.top_p == NULL);
	/* more members than kept: none */
	big = mm_malloc(64 * 1024);
	CHECK(big != NULL);
	if (!big)
		return;
	n = snprintf(big, 64 * 1024, "{\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":\"s\","
				      "\"eventName\":\"n\"");
	for (i = 0; i < MM_CT_TOP_MAX; i++)
		n += snprintf(big + n, (size_t)(64 * 1024 - n), ",\"k%d\":%d", i, i);
	snprintf(big + n, (size_t)(64 * 1024 - n), "}");
	CHECK_EQ_INT(parse(big, &ev, &err), 0);
	CHECK(ev.u.api.top_p == NULL);
	mm_free(big);
}
