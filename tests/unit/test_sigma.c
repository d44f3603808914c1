/* test_sigma.c - Sigma rules: loading (ok / unsupported / broken, each with
 * its file:line reason), every value modifier and condition form on
 * matching and look-alike records, the repository's own rules on its
 * events, the shared SigmaHQ CloudTrail set (when ../shared/data is
 * present), bounds and a failed allocation at every step of a load. */
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "mmtest.h"
#include "sigma/sigma.h"

static const char *HEAD = "title: T\nid: x\nlevel: high\nlogsource:\n  product: aws\n  service: cloudtrail\n";

static struct mm_sigma_rule *rule(const char *detection)
{
	char buf[8192];
	snprintf(buf, sizeof(buf), "%sdetection:\n%s", HEAD, detection);
	return mm_sigma_load("t.yml", buf, strlen(buf));
}

static int match(const struct mm_sigma_rule *r, const char *json)
{
	struct mm_sigma_scratch s;
	int m;
	if (mm_sigma_scratch_init(&s, 1 << 16))
		return -100;
	m = mm_sigma_match(r, mm_str_c(json), &s);
	mm_sigma_scratch_free(&s);
	return m;
}

/* detection text, then records that must match, then "|" and records that must not */
static void cases(const char *det, const char *const *yes, const char *const *no)
{
	struct mm_sigma_rule *r = rule(det);
	CHECK(r != NULL);
	if (!r)
		return;
	if (r->status != MM_SIGMA_OK)
		fprintf(stderr, "  rule not ok: %s\n", r->reason);
	CHECK_EQ_INT(r->status, MM_SIGMA_OK);
	for (; yes && *yes; yes++)
		if (match(r, *yes) != 1) {
			fprintf(stderr, "  want a match: %s\n", *yes);
			mmtest_failures++;
		}
	for (; no && *no; no++)
		if (match(r, *no) != 0) {
			fprintf(stderr, "  want no match: %s\n", *no);
			mmtest_failures++;
		}
	mm_sigma_free(r);
}
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

MM_TEST(metadata)
{
	const char *y = "title: Trail Stopped\nid: 1234\nstatus: test\nlevel: high\ndescription: d\nauthor: a\n"
			"tags:\n  - attack.defense-evasion\n  - attack.t1562.008\n"
			"logsource:\n  product: aws\n  service: cloudtrail\n"
			"detection:\n  sel:\n    eventName: StopLogging\n  condition: sel\n";
	struct mm_sigma_rule *r = mm_sigma_load("m.yml", y, strlen(y));
	CHECK(r && r->status == MM_SIGMA_OK);
	CHECK_EQ_STR(r->title, "Trail Stopped");
	CHECK_EQ_STR(r->id, "1234");
	CHECK_EQ_STR(r->status_text, "test");
	CHECK_EQ_STR(r->level, "high");
	CHECK_EQ_STR(r->product, "aws");
	CHECK_EQ_STR(r->service, "cloudtrail");
	CHECK(r->category == NULL);
	CHECK_EQ_INT(r->ntags, 2);
	CHECK_EQ_STR(r->tags[1], "attack.t1562.008");
	CHECK_EQ_INT(r->line, 1);
	mm_sigma_free(r);
}

MM_TEST(equality_wildcards_case)
{
	cases("  sel:\n    eventName: stoplogging\n  condition: sel\n",
	      L("{\"eventName\":\"StopLogging\"}", "{\"eventName\":\"STOPLOGGING\"}"),
	      L("{\"eventName\":\"StopLoggingX\"}", "{\"eventName\":\"Stop\"}", "{\"other\":\"StopLogging\"}",
		"{\"eventName\":null}"));
	cases("  sel:\n    eventName: 'Get*Policy?'\n  condition: sel\n",
	      L("{\"eventName\":\"GetBucketPolicyX\"}", "{\"eventName\":\"getpolicyZ\"}",
		"{\"eventName\":\"GetPolicy\\u00e9\"}"),
	      L("{\"eventName\":\"GetBucketPolicy\"}", "{\"eventName\":\"PutBucketPolicyX\"}"));
	/* escaped wildcards are literal */
	cases("  sel:\n    a: 'x\\*y\\?'\n  condition: sel\n", L("{\"a\":\"x*y?\"}"), L("{\"a\":\"xzy?\"}", "{\"a\":\"x*yz\"}"));
	/* JSON escapes are undone before comparing; numbers and booleans as written */
	cases("  sel:\n    a: 'a\"b'\n    n: 42\n    b: true\n  condition: sel\n",
	      L("{\"a\":\"a\\\"b\",\"n\":42,\"b\":true}", "{\"a\":\"a\\u0022b\",\"n\":\"42\",\"b\":\"true\"}"),
	      L("{\"a\":\"a\\\"b\",\"n\":42.0,\"b\":true}"));
}

MM_TEST(lists_maps_nesting)
{
	/* a list of values is OR; a map is AND; a list of maps is OR */
	cases("  sel:\n    - eventName: [A, B]\n      src: s\n    - eventName: C\n  condition: sel\n",
	      L("{\"eventName\":\"A\",\"src\":\"s\"}", "{\"eventName\":\"b\",\"src\":\"S\"}", "{\"eventName\":\"C\"}"),
	      L("{\"eventName\":\"A\"}", "{\"eventName\":\"D\",\"src\":\"s\"}"));
	/* dotted names walk objects; arrays on the way match when one element does */
	cases("  sel:\n    requestParameters.tags.key: Owner\n    userIdentity.type: IAMUser\n  condition: sel\n",
	      L("{\"userIdentity\":{\"type\":\"IAMUser\"},\"requestParameters\":{\"tags\":[{\"key\":\"Name\"},{\"key\":\"owner\"}]}}"),
	      L("{\"userIdentity\":{\"type\":\"Root\"},\"requestParameters\":{\"tags\":[{\"key\":\"Owner\"}]}}",
		"{\"userIdentity\":{\"type\":\"IAMUser\"},\"requestParameters\":{\"tags\":{\"k\":\"Owner\"}}}"));
	/* a field whose value is a list */
	cases("  sel:\n    resources: r2\n  condition: sel\n", L("{\"resources\":[\"r1\",\"r2\"]}"), L("{\"resources\":[\"r1\"]}"));
}

MM_TEST(string_modifiers)
{
	cases("  sel:\n    ua|contains: kali\n  condition: sel\n", L("{\"ua\":\"Linux/6.5.0-KALI3\"}"), L("{\"ua\":\"ubuntu\"}"));
	cases("  sel:\n    ua|startswith: aws-cli/\n  condition: sel\n", L("{\"ua\":\"aws-cli/2.0\"}"),
	      L("{\"ua\":\"boto aws-cli/2.0\"}"));
	cases("  sel:\n    e|endswith: .amazonaws.com\n  condition: sel\n", L("{\"e\":\"iam.amazonaws.com\"}"),
	      L("{\"e\":\"iam.amazonaws.com.evil\"}"));
	/* all: every value must be found; without it any one */
	cases("  sel:\n    ua|contains|all: [aws-cli, kali]\n  condition: sel\n", L("{\"ua\":\"aws-cli/2 kali\"}"),
	      L("{\"ua\":\"aws-cli/2\"}", "{\"ua\":\"kali\"}"));
	cases("  sel:\n    ua|contains: [aws-cli, kali]\n  condition: sel\n", L("{\"ua\":\"kali\"}"), L("{\"ua\":\"boto\"}"));
	/* cased */
	cases("  sel:\n    a|cased: Abc\n  condition: sel\n", L("{\"a\":\"Abc\"}"), L("{\"a\":\"abc\"}"));
	/* windash: - / and the three Unicode dashes */
	cases("  sel:\n    cmd|windash|contains: ' -enc '\n  condition: sel\n",
	      L("{\"cmd\":\"x -enc y\"}", "{\"cmd\":\"x /enc y\"}", "{\"cmd\":\"x \\u2013enc y\"}", "{\"cmd\":\"x \xe2\x80\x95" "enc y\"}"),
	      L("{\"cmd\":\"x +enc y\"}", "{\"cmd\":\"x-enc y\"}"));
}

MM_TEST(encodings)
{
	/* base64("secret") = c2VjcmV0 */
	cases("  sel:\n    d|base64: secret\n  condition: sel\n", L("{\"d\":\"c2VjcmV0\"}"), L("{\"d\":\"c2VjcmV0YQ==\"}"));
	cases("  sel:\n    d|base64|contains: secret\n  condition: sel\n", L("{\"d\":\"xx c2VjcmV0 yy\"}"), L("{\"d\":\"secret\"}"));
	/* base64offset finds the value at any of the three byte offsets:
	 * "xsecret" -> eHNlY3JldA, "xxsecret" -> eHhzZWNyZXQ=, "xxxsecret" -> eHh4c2VjcmV0 */
	cases("  sel:\n    d|base64offset|contains: secret\n  condition: sel\n",
	      L("{\"d\":\"eHNlY3JldA==\"}", "{\"d\":\"eHhzZWNyZXQ=\"}", "{\"d\":\"eHh4c2VjcmV0\"}"),
	      L("{\"d\":\"eHh4c2VjcmVU\"}", "{\"d\":\"c2VjcmVU\"}"));
}

MM_TEST(regex_cidr_numbers)
{
	cases("  sel:\n    k|re: '^AKIA[A-Z0-9]{16}$'\n  condition: sel\n", L("{\"k\":\"AKIAABCDEFGHIJKLMNOP\"}"),
	      L("{\"k\":\"akiaABCDEFGHIJKLMNOP\"}", "{\"k\":\"AKIAABCDEFGHIJKLMNO\"}"));
	cases("  sel:\n    k|re|i: '^akia'\n  condition: sel\n", L("{\"k\":\"AKIAXX\"}"), L("{\"k\":\"ASIAXX\"}"));
	cases("  sel:\n    ip|cidr:\n      - 10.0.0.0/8\n      - 2001:db8::/32\n  condition: sel\n",
	      L("{\"ip\":\"10.1.2.3\"}", "{\"ip\":\"2001:db8:1::5\"}"),
	      L("{\"ip\":\"11.0.0.1\"}", "{\"ip\":\"2001:db9::1\"}", "{\"ip\":\"ec2.amazonaws.com\"}"));
	cases("  sel:\n    ip|cidr: 192.0.2.0/25\n  condition: sel\n", L("{\"ip\":\"192.0.2.127\"}"), L("{\"ip\":\"192.0.2.128\"}"));
	cases("  sel:\n    n|gte: 10\n    m|lt: 2.5\n  condition: sel\n", L("{\"n\":10,\"m\":2}", "{\"n\":\"11\",\"m\":-1}"),
	      L("{\"n\":9,\"m\":2}", "{\"n\":10,\"m\":2.5}", "{\"n\":\"ten\",\"m\":1}"));
	cases("  sel:\n    a|neq: x\n  condition: sel\n", L("{\"a\":\"y\"}", "{}"), L("{\"a\":\"X\"}"));
}

MM_TEST(exists_null_fieldref)
{
	cases("  sel:\n    errorCode|exists: true\n  condition: sel\n", L("{\"errorCode\":\"AccessDenied\"}", "{\"errorCode\":\"\"}"),
	      L("{\"other\":1}"));
	cases("  sel:\n    errorCode|exists: false\n  condition: sel\n", L("{\"other\":1}"), L("{\"errorCode\":\"x\"}"));
	/* null: absent or JSON null; an empty string is a value */
	cases("  sel:\n    errorCode: null\n  condition: sel\n", L("{}", "{\"errorCode\":null}"), L("{\"errorCode\":\"x\"}", "{\"errorCode\":\"\"}"));
	cases("  sel:\n    errorCode: ''\n  condition: sel\n", L("{\"errorCode\":\"\"}"), L("{}", "{\"errorCode\":\"x\"}"));
	cases("  sel:\n    requestParameters.userName|fieldref: userIdentity.userName\n  condition: sel\n",
	      L("{\"userIdentity\":{\"userName\":\"carol\"},\"requestParameters\":{\"userName\":\"Carol\"}}"),
	      L("{\"userIdentity\":{\"userName\":\"admin\"},\"requestParameters\":{\"userName\":\"carol\"}}",
		"{\"requestParameters\":{\"userName\":\"carol\"}}", "{\"userIdentity\":{\"userName\":null},\"requestParameters\":{\"userName\":null}}"));
}

MM_TEST(keywords)
{
	cases("  keywords:\n    - 'kali'\n    - 'parrot'\n  condition: keywords\n",
	      L("{\"userAgent\":\"aws-cli Linux/6.5-Kali\"}", "{\"x\":{\"y\":\"parrotsec\"}}"), L("{\"userAgent\":\"ubuntu\"}"));
}

MM_TEST(keywords_with_modifiers)
{
	/* '|all': every keyword somewhere in the record; '|re' over its text */
	cases("  k:\n    '|all':\n      - kali\n      - CreateUser\n  condition: k\n",
	      L("{\"eventName\":\"CreateUser\",\"userAgent\":\"x-kali\"}"),
	      L("{\"eventName\":\"CreateUser\"}", "{\"userAgent\":\"kali\"}"));
	cases("  k:\n    '|re': 'kali[0-9]'\n  condition: k\n", L("{\"a\":\"kali3\"}"), L("{\"a\":\"kali\"}"));
	/* the literal prefilter: its first byte recurs before the match, the
	 * match ends the text, a near miss at the end, case matters */
	cases("  sel:\n    a|re: 'kali[0-9]'\n  condition: sel\n",
	      L("{\"a\":\"kkakalkali7\"}", "{\"a\":\"k kali0 k\"}"),
	      L("{\"a\":\"kkakalkal\"}", "{\"a\":\"kal\"}", "{\"a\":\"KALI7\"}", "{\"a\":\"\"}"));
}

MM_TEST(conditions)
{
	const char *sels = "  sel_a:\n    a: 1\n  sel_b:\n    b: 1\n  filter_x:\n    x: 1\n  _hidden:\n    h: 1\n";
	char det[1024];
	struct {
		const char *cond;
		const char *const *yes, *const *no;
	} t[] = {
		{"sel_a and sel_b", L("{\"a\":1,\"b\":1}"), L("{\"a\":1}", "{\"b\":1}")},
		{"sel_a or sel_b", L("{\"a\":1}", "{\"b\":1}"), L("{\"x\":1}")},
		{"sel_a and not filter_x", L("{\"a\":1}"), L("{\"a\":1,\"x\":1}")},
		{"not sel_a", L("{\"b\":1}"), L("{\"a\":1}")},
		{"sel_a or sel_b and filter_x", L("{\"a\":1}", "{\"b\":1,\"x\":1}"), L("{\"b\":1}")},
		{"(sel_a or sel_b) and filter_x", L("{\"b\":1,\"x\":1}"), L("{\"a\":1}")},
		{"not (sel_a or sel_b)", L("{\"x\":1}"), L("{\"b\":1}")},
		{"1 of sel_*", L("{\"a\":1}", "{\"b\":1}"), L("{\"x\":1}")},
		{"all of sel_*", L("{\"a\":1,\"b\":1}"), L("{\"a\":1}")},
		{"1 of them", L("{\"x\":1}"), L("{\"h\":1}")},
		{"all of them", L("{\"a\":1,\"b\":1,\"x\":1}"), L("{\"a\":1,\"b\":1}")},
		{"sel_a and not 1 of filter*", L("{\"a\":1}"), L("{\"a\":1,\"x\":1}")},
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(t); i++) {
		snprintf(det, sizeof(det), "%s  condition: %s\n", sels, t[i].cond);
		cases(det, t[i].yes, t[i].no);
	}
	/* a list of conditions: any */
	snprintf(det, sizeof(det), "%s  condition:\n    - sel_a\n    - sel_b\n", sels);
	cases(det, L("{\"b\":1}"), L("{\"x\":1}"));
}

/* status and reason of a detection (or whole rule when full) */
static void verdict(const char *text, int full, int want, const char *reason_has)
{
	struct mm_sigma_rule *r = full ? mm_sigma_load("v.yml", text, strlen(text)) : rule(text);
	CHECK(r != NULL);
	if (!r)
		return;
	if ((int)r->status != want || !strstr(r->reason, reason_has)) {
		fprintf(stderr, "  %s: got %s '%s', want %s '%s'\n", text, mm_sigma_status_name(r->status), r->reason,
			mm_sigma_status_name(want), reason_has);
		mmtest_failures++;
	}
	CHECK_EQ_INT(match(r, "{\"a\":1}") == 1, 0);
	mm_sigma_free(r);
}

MM_TEST(broken_rules_say_where)
{
	verdict("  sel:\n    a: 1\n  condition: sel and filter\n", 0, MM_SIGMA_BROKEN,
		"t.yml:10: condition names 'filter', which is not a selection");
	verdict("  sel:\n    a|containz: 1\n  condition: sel\n", 0, MM_SIGMA_BROKEN, "t.yml:9: unknown modifier 'containz'");
	verdict("  sel:\n    a|re: '(['\n  condition: sel\n", 0, MM_SIGMA_BROKEN, "t.yml:9: regex '(['");
	verdict("  sel:\n    a|cidr: 10.0.0.0/33\n  condition: sel\n", 0, MM_SIGMA_BROKEN, "not a CIDR range");
	verdict("  sel:\n    a|exists: maybe\n  condition: sel\n", 0, MM_SIGMA_BROKEN, "exists wants true or false");
	verdict("  sel:\n    a|gt: many\n  condition: sel\n", 0, MM_SIGMA_BROKEN, "not a number");
	verdict("  sel:\n    a|re|cidr: x\n  condition: sel\n", 0, MM_SIGMA_BROKEN, "cannot be combined");
	verdict("  sel:\n    a: []\n  condition: sel\n", 0, MM_SIGMA_BROKEN, "empty list of values");
	verdict("  sel:\n    a:\n      - x\n      - null\n  condition: sel\n", 0, MM_SIGMA_BROKEN,
		"t.yml:11: null cannot be part of a list of values ('a')");
	verdict("  sel:\n    a:\n      b: 1\n  condition: sel\n", 0, MM_SIGMA_BROKEN, "is a map");
	verdict("  sel:\n    a: 1\n", 0, MM_SIGMA_BROKEN, "no condition");
	verdict("  sel:\n    a: 1\n  condition: (sel\n", 0, MM_SIGMA_BROKEN, "without its ')'");
	verdict("  sel:\n    a: 1\n  condition: sel)\n", 0, MM_SIGMA_BROKEN, "unexpected ')'");
	verdict("  sel:\n    a: 1\n  condition: sel and\n", 0, MM_SIGMA_BROKEN, "condition ends");
	verdict("  sel:\n    a: 1\n  condition: 1 of nothing*\n", 0, MM_SIGMA_BROKEN, "names no selection");
	verdict("  sel:\n    a: 1\n  condition: 1 sel\n", 0, MM_SIGMA_BROKEN, "followed by 'of'");
	verdict("title: x\nlogsource: {product: aws, service: cloudtrail}\n", 1, MM_SIGMA_BROKEN, "needs a detection");
	verdict("logsource: {product: aws, service: cloudtrail}\ndetection: {s: {a: 1}, condition: s}\n", 1,
		MM_SIGMA_BROKEN, "needs a title");
	verdict("title: x\ndetection: {s: {a: 1}, condition: s}\n", 1, MM_SIGMA_BROKEN, "needs a logsource");
	verdict("title: [x\n", 1, MM_SIGMA_BROKEN, "v.yml:2: YAML:");
	verdict("- a\n- b\n", 1, MM_SIGMA_BROKEN, "must be a YAML map");
	verdict("", 1, MM_SIGMA_BROKEN, "empty file");
	/* broken beats unsupported, whichever comes first */
	verdict("  sel:\n    a|wide: x\n  other:\n    b|nope: 1\n  condition: sel\n", 0, MM_SIGMA_BROKEN, "unknown modifier 'nope'");
}

MM_TEST(unsupported_rules_say_why)
{
	verdict("  sel:\n    a|utf16le|base64: x\n  condition: sel\n", 0, MM_SIGMA_UNSUPPORTED, "t.yml:9: modifier 'utf16le' is not implemented");
	verdict("  sel:\n    a|expand: '%x%'\n  condition: sel\n", 0, MM_SIGMA_UNSUPPORTED, "'expand' is not implemented");
	verdict("  sel:\n    a|re: '\\d+'\n  condition: sel\n", 0, MM_SIGMA_UNSUPPORTED, "PCRE escape");
	verdict("  sel:\n    a|re: '(?i)x'\n  condition: sel\n", 0, MM_SIGMA_UNSUPPORTED, "(?...)");
	verdict("  sel:\n    a: 1\n  condition: sel | count() > 5\n", 0, MM_SIGMA_UNSUPPORTED, "aggregation");
	verdict("  sel:\n    a: 1\n  timeframe: 5m\n  condition: sel\n", 0, MM_SIGMA_UNSUPPORTED, "timeframe");
	verdict("  sel:\n    a: 1\n  condition: 2 of sel\n", 0, MM_SIGMA_UNSUPPORTED, "'2 of'");
	verdict("  sel:\n    '|cidr': 10.0.0.0/8\n  condition: sel\n", 0, MM_SIGMA_UNSUPPORTED, "keywords with '|cidr'");
	verdict("title: c\ncorrelation:\n  type: value_sum\n  rules: [a]\n", 1, MM_SIGMA_UNSUPPORTED,
		"v.yml:3: correlation type value_sum (Sigma 2.1 metrics): not implemented");
	verdict("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {lt: 3}\n",
		1, MM_SIGMA_UNSUPPORTED, "v.yml:6: correlation condition 'lt': a streaming detector cannot take");
	verdict("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {gt: 3, lte: 9}\n",
		1, MM_SIGMA_UNSUPPORTED, "correlation condition 'lte'");
	verdict("title: l\nlogsource:\n  product: linux\n  service: auditd\ndetection: {s: {a: 1}, condition: s}\n", 1,
		MM_SIGMA_UNSUPPORTED, "v.yml:3: logsource product=linux service=auditd: mamori does not read the audit log");
	verdict("title: w\nlogsource:\n  product: windows\ndetection: {s: {a: 1}, condition: s}\n", 1, MM_SIGMA_UNSUPPORTED,
		"logsource product=windows service=- category=-: mamori reads no such events");
	verdict("title: a\nlogsource: {product: aws, service: cloudtrail}\ndetection: {s: {a: 1}, condition: s}\n---\ntitle: b\n",
		1, MM_SIGMA_UNSUPPORTED, "several YAML documents");
}

MM_TEST(bounds)
{
	/* more selections than the cap, a windash explosion, a deep condition */
	char *buf = mm_malloc(1 << 20);
	size_t n = 0;
	int i;
	struct mm_sigma_rule *r;
	CHECK(buf != NULL);
	n += (size_t)sprintf(buf + n, "%sdetection:\n", HEAD);
	for (i = 0; i < MM_SIGMA_MAX_SELECTIONS + 1; i++)
		n += (size_t)sprintf(buf + n, "  s%d:\n    a: %d\n", i, i);
	n += (size_t)sprintf(buf + n, "  condition: 1 of s*\n");
	r = mm_sigma_load("b.yml", buf, n);
	CHECK(r && r->status == MM_SIGMA_UNSUPPORTED && strstr(r->reason, "more than 64 selections"));
	mm_sigma_free(r);
	n = (size_t)sprintf(buf, "%sdetection:\n  s:\n    a|windash: '-a -b -c -d -e'\n  condition: s\n", HEAD);
	r = mm_sigma_load("b.yml", buf, n);
	CHECK(r && r->status == MM_SIGMA_UNSUPPORTED && strstr(r->reason, "more than 4 dashes"));
	mm_sigma_free(r);
	n = (size_t)sprintf(buf, "%sdetection:\n  s:\n    a: 1\n  condition: ", HEAD);
	for (i = 0; i < 100; i++)
		buf[n++] = '(';
	n += (size_t)sprintf(buf + n, "s");
	for (i = 0; i < 100; i++)
		buf[n++] = ')';
	buf[n++] = '\n';
	r = mm_sigma_load("b.yml", buf, n);
	CHECK(r && r->status == MM_SIGMA_BROKEN && strstr(r->reason, "nested too deeply"));
	mm_sigma_free(r);
	mm_free(buf);
	/* a record that is not an object */
	r = rule("  s:\n    a: 1\n  condition: s\n");
	CHECK_EQ_INT(match(r, "[1]"), MM_EPARSE);
	CHECK_EQ_INT(match(r, "{\"a\":"), MM_EPARSE);
	mm_sigma_free(r);
}

MM_TEST(allocation_failures)
{
	/* every allocation of a load fails in turn: NULL or a clean rule, never a leak or crash */
	const char *det = "  sel:\n    a|re: '^x'\n    b|windash|contains: ' -x'\n    c|base64offset|contains: abc\n"
			  "  f:\n    d|cidr: 10.0.0.0/8\n  condition: sel and not f\n";
	long k;
	for (k = 0; k < 400; k++) {
		struct mm_sigma_rule *r;
		mm_mem_fail_after(k);
		r = rule(det);
		mm_mem_fail_after(-1);
		if (r && r->status == MM_SIGMA_OK) {
			CHECK_EQ_INT(match(r, "{\"a\":\"xy\",\"b\":\"a /x\",\"c\":\"YWJj\"}"), 1);
			mm_sigma_free(r);
			break;
		}
		mm_sigma_free(r);
	}
	CHECK(k < 400);
}

static char *path_join(const char *a, const char *b)
{
	static char p[1024];
	snprintf(p, sizeof(p), "%s/%s", a, b);
	return p;
}

MM_TEST(repo_rules_load_and_files)
{
	static const char *const names[] = {"cloudtrail_stopped.yml", "console_login_without_mfa.yml",
					    "own_login_profile_changed.yml", "userdata_downloads_script.yml",
					    "pentest_cli_user_creation.yml"};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(names); i++) {
		struct mm_sigma_rule *r = mm_sigma_load_file(path_join("tests/data/sigma/rules", names[i]));
		CHECK(r && r->status == MM_SIGMA_OK);
		if (r && r->status != MM_SIGMA_OK)
			fprintf(stderr, "  %s\n", r->reason);
		mm_sigma_free(r);
	}
	{
		struct mm_sigma_rule *r = mm_sigma_load_file("tests/data/sigma/absent.yml");
		CHECK(r && r->status == MM_SIGMA_BROKEN && strstr(r->reason, "cannot read"));
		mm_sigma_free(r);
	}
}

/* the shared SigmaHQ CloudTrail rules: every one loads (or says why) and a
 * sample fires on the events written for them and not on look-alikes */
MM_TEST(shared_cloudtrail_rules)
{
	const char *base = mmtest_shared_data();
	char dir[1024], path[1400];
	static const struct {
		const char *file, *yes, *no;
	} t[] = {
		{"aws_cloudtrail_disable_logging.yml",
		 "{\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventName\":\"StopLogging\"}",
		 "{\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventName\":\"DescribeTrails\"}"},
		{"aws_cloudtrail_console_login_success_without_mfa.yml",
		 "{\"eventName\":\"ConsoleLogin\",\"userIdentity\":{\"type\":\"IAMUser\"},\"responseElements\":{\"ConsoleLogin\":\"Success\"},"
		 "\"additionalEventData\":{\"MFAUsed\":\"No\"}}",
		 "{\"eventName\":\"ConsoleLogin\",\"userIdentity\":{\"type\":\"IAMUser\"},\"responseElements\":{\"ConsoleLogin\":\"Success\"},"
		 "\"additionalEventData\":{\"MFAUsed\":\"Yes\"}}"},
		{"aws_update_login_profile.yml",
		 "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"UpdateLoginProfile\",\"userIdentity\":{\"arn\":\"a\"},"
		 "\"requestParameters\":{\"userName\":\"b\"}}",
		 "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"UpdateLoginProfile\",\"userIdentity\":{\"arn\":\"b\"},"
		 "\"requestParameters\":{\"userName\":\"B\"}}"},
	};
	size_t i;
	DIR *dp;
	struct dirent *de;
	int ok = 0, total = 0;
	snprintf(dir, sizeof(dir), "%s/sigma/rules/cloud/aws/cloudtrail", base);
	dp = opendir(dir);
	if (!dp)
		mmtest_skip("no sigma/rules/cloud/aws/cloudtrail in the shared data");
	while ((de = readdir(dp))) {
		struct mm_sigma_rule *r;
		if (!strstr(de->d_name, ".yml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		r = mm_sigma_load_file(path);
		CHECK(r != NULL);
		total++;
		if (r && r->status == MM_SIGMA_OK)
			ok++;
		else if (r)
			fprintf(stderr, "  %s %s\n", mm_sigma_status_name(r->status), r->reason);
		mm_sigma_free(r);
	}
	closedir(dp);
	CHECK(total > 0);
	CHECK_EQ_INT(ok, total);	/* today every shared CloudTrail rule runs */
	for (i = 0; i < MM_ARRAY_LEN(t); i++) {
		struct mm_sigma_rule *r;
		snprintf(path, sizeof(path), "%s/%s", dir, t[i].file);
		r = mm_sigma_load_file(path);
		if (!r || r->status != MM_SIGMA_OK) {
			fprintf(stderr, "  %s: %s\n", t[i].file, r ? r->reason : "oom");
			mmtest_failures++;
			mm_sigma_free(r);
			continue;
		}
		CHECK_EQ_INT(match(r, t[i].yes), 1);
		CHECK_EQ_INT(match(r, t[i].no), 0);
		mm_sigma_free(r);
	}
}

/* several rules at once (one scan of the record, one lookup per field)
 * answer exactly what each rule alone does, record after record (no
 * stale field cache between records) */
MM_TEST(many_equals_one)
{
	static const char *const names[] = {"cloudtrail_stopped.yml", "console_login_without_mfa.yml",
					    "own_login_profile_changed.yml", "userdata_downloads_script.yml",
					    "pentest_cli_user_creation.yml"};
	struct mm_sigma_rule *r[MM_ARRAY_LEN(names) + 1];
	struct mm_sigma_scratch s;
	FILE *f = fopen("tests/data/sigma/events/events.jsonl", "r");
	char line[8192];
	size_t i;
	int total = 0, lines = 0;
	CHECK(f != NULL);
	CHECK_EQ_INT(mm_sigma_scratch_init(&s, 1 << 16), 0);
	for (i = 0; i < MM_ARRAY_LEN(names); i++)
		r[i] = mm_sigma_load_file(path_join("tests/data/sigma/rules", names[i]));
	r[i] = rule("  k:\n    - 'kali'\n  condition: k\n");	/* a keyword rule too */
	while (f && fgets(line, sizeof(line), f)) {
		uint8_t hit[MM_ARRAY_LEN(r)];
		int n = mm_sigma_match_many((const struct mm_sigma_rule *const *)r, (int)MM_ARRAY_LEN(r),
					    mm_str_c(line), &s, hit), sum = 0;
		lines++;
		for (i = 0; i < MM_ARRAY_LEN(r); i++) {
			CHECK_EQ_INT(hit[i], match(r[i], line));
			sum += hit[i];
		}
		CHECK_EQ_INT(n, sum);
		total += n;
	}
	if (f)
		fclose(f);
	{
		/* bytes after the object are not the record's: both paths ignore
		 * them (a keyword that only occurs there does not match) */
		uint8_t hit[MM_ARRAY_LEN(r)];
		const char *tail = "{\"eventName\":\"x\"} \"kali\"";
		CHECK_EQ_INT(mm_sigma_match_many((const struct mm_sigma_rule *const *)r, (int)MM_ARRAY_LEN(r),
						 mm_str_c(tail), &s, hit), 0);
		CHECK_EQ_INT(match(r[MM_ARRAY_LEN(names)], tail), 0);
	}
	CHECK_EQ_INT(lines, 11);
	CHECK_EQ_INT(total, 5 + 2);	/* one per own rule, kali twice */
	{
		uint8_t hit[MM_ARRAY_LEN(r)];
		CHECK_EQ_INT(mm_sigma_match_many((const struct mm_sigma_rule *const *)r, (int)MM_ARRAY_LEN(r),
						 mm_str_c(" [1]"), &s, hit), MM_EPARSE);
		CHECK_EQ_INT(mm_sigma_match_many((const struct mm_sigma_rule *const *)r, (int)MM_ARRAY_LEN(r),
						 mm_str_c("{\"a\":"), &s, hit), MM_EPARSE);
	}
	for (i = 0; i < MM_ARRAY_LEN(r); i++)
		mm_sigma_free(r[i]);
	mm_sigma_scratch_free(&s);
}

/* the eventName prefilter of mm_sigma_match_many: it skips a rule only
 * where the rule could not match; every shape where it must not apply
 * (or, not, 1 of several, wildcards, neq, several eventName members,
 * escapes) gives the same answers as the plain path */
MM_TEST(gate_agrees)
{
	static const char *const dets[] = {
		"  s:\n    eventName: [StopLogging, DeleteTrail]\n  condition: s\n",
		"  s:\n    - eventName: StopLogging\n    - eventName: DeleteTrail\n      a: 1\n  condition: s\n",
		"  s:\n    - eventName: StopLogging\n    - a: 1\n  condition: s\n",
		"  s:\n    eventName: StopLogging\n  t:\n    a: 1\n  condition: s or t\n",
		"  s:\n    eventName: StopLogging\n  t:\n    a: 1\n  condition: not s\n",
		"  s:\n    eventName: StopLogging\n  t:\n    a: 1\n  condition: 1 of them\n",
		"  s:\n    eventName: StopLogging\n  t:\n    a: 1\n  condition: all of them\n",
		"  s:\n    eventName: StopLogging\n  t:\n    a: 1\n  condition: t and s\n",
		"  s:\n    eventName: 'Stop*'\n  condition: s\n",
		"  s:\n    eventName|neq: StopLogging\n  condition: s\n",
		"  s:\n    eventName|cased: stoplogging\n  condition: s\n",
		"  s:\n    eventName: ''\n  condition: s\n",
	};
	static const char *const evs[] = {
		"{\"eventName\":\"StopLogging\"}", "{\"eventName\":\"stoplogging\",\"a\":1}",
		"{\"eventName\":\"DeleteTrail\",\"a\":1}", "{\"eventName\":\"DeleteTrail\"}",
		"{\"eventName\":\"Describe\",\"a\":1}", "{\"a\":1}", "{\"eventName\":\"\"}",
		"{\"eventName\":\"Stop\\u004cogging\"}", "{\"eventName\":[\"StopLogging\"]}",
		"{\"eventName\":\"x\",\"eventName\":\"StopLogging\"}", "{\"eventName\":null}",
	};
	struct mm_sigma_rule *r[MM_ARRAY_LEN(dets)];
	struct mm_sigma_scratch s;
	size_t i, j;
	CHECK_EQ_INT(mm_sigma_scratch_init(&s, 1 << 16), 0);
	for (i = 0; i < MM_ARRAY_LEN(dets); i++) {
		r[i] = rule(dets[i]);
		CHECK(r[i] && r[i]->status == MM_SIGMA_OK);
	}
	for (j = 0; j < MM_ARRAY_LEN(evs); j++) {
		uint8_t hit[MM_ARRAY_LEN(dets)];
		mm_sigma_match_many((const struct mm_sigma_rule *const *)r, (int)MM_ARRAY_LEN(r), mm_str_c(evs[j]), &s, hit);
		for (i = 0; i < MM_ARRAY_LEN(dets); i++)
			if (hit[i] != match(r[i], evs[j])) {
				fprintf(stderr, "  rule %zu on %s: many %d, one %d\n", i, evs[j], hit[i], match(r[i], evs[j]));
				mmtest_failures++;
			}
	}
	/* and the gate does skip: rule 0 on a Describe event is not evaluated,
	 * but must still answer 0; on StopLogging 1 */
	CHECK_EQ_INT(match(r[0], evs[0]), 1);
	CHECK_EQ_INT(match(r[0], evs[4]), 0);
	for (i = 0; i < MM_ARRAY_LEN(dets); i++)
		mm_sigma_free(r[i]);
	mm_sigma_scratch_free(&s);
}

/* a regex's required literal (checked with memmem before regexec) never
 * changes an answer: every regex here against every subject agrees with
 * regexec alone */
MM_TEST(regex_literal_prefilter_agrees)
{
	static const char *const res[] = {
		"abcd?e", "ab*cde", "x{0,2}yzw", "foo\\.bar", "[abc]def", "[]x]yzq", "[^]x]yzq", "a+bcd",
		"^arn:aws:iam::[0-9]{12}:user/adm", ".+:assumed-role/aws:.+", "abc$", "ab.cd", "abcd{2}e",
		"abc[.]def", "q{1}rst",
	};
	static const char *const subj[] = {
		"abce", "abcde", "acde", "abbbcde", "yzw", "xxyzw", "foo.bar", "fooxbar", "adef", "]yzq", "yyzq",
		"aaabcd", "bcd", "arn:aws:iam::123456789012:user/admin", "x:assumed-role/aws:y", "ABC", "xabc",
		"abxcd", "abcdde", "abcde", "abc.def", "qrst", "rst", "",
	};
	size_t i, j;
	char det[512], json[256];
	for (i = 0; i < MM_ARRAY_LEN(res); i++) {
		struct mm_sigma_rule *r;
		regex_t re;
		char yq[256];
		size_t k = 0, m;
		/* single-quoted YAML: a quote is doubled */
		for (m = 0; res[i][m] && k < sizeof(yq) - 2; m++) {
			if (res[i][m] == '\'')
				yq[k++] = '\'';
			yq[k++] = res[i][m];
		}
		yq[k] = '\0';
		snprintf(det, sizeof(det), "  s:\n    f|re: '%s'\n  condition: s\n", yq);
		r = rule(det);
		CHECK(r && r->status == MM_SIGMA_OK);
		if (!r || r->status != MM_SIGMA_OK) {
			if (r)
				fprintf(stderr, "  %s\n", r->reason);
			mm_sigma_free(r);
			continue;
		}
		CHECK_EQ_INT(regcomp(&re, res[i], REG_EXTENDED | REG_NOSUB), 0);
		for (j = 0; j < MM_ARRAY_LEN(subj); j++) {
			int want = regexec(&re, subj[j], 0, NULL, 0) == 0;
			snprintf(json, sizeof(json), "{\"f\":\"%s\"}", subj[j]);
			if (match(r, json) != want) {
				fprintf(stderr, "  /%s/ on '%s': got %d, regexec %d\n", res[i], subj[j], !want, want);
				mmtest_failures++;
			}
		}
		regfree(&re);
		mm_sigma_free(r);
	}
}
