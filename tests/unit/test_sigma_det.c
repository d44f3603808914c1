/* test_sigma_det.c - the sigma detector (src/detect/sigma.c) and rule
 * sets (src/sigma: index, correlation resolution): a detection rule's
 * finding (type from tags, severity from level, one per rule and
 * principal, the rule in additionalInfo), the index against matching
 * every rule, each correlation type with a positive and a look-alike,
 * timespan edges, group-by, aliases, generate, out-of-order events,
 * merge order, save/load (two scans = one), bounds and hostile blobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "detect/detect.h"
#include "mmtest.h"
#include "parse/cloudtrail.h"
#include "sigma/sigma.h"

#define T0 1714557600L /* 2024-05-01T10:00:00Z */
#define K1 "AKIA0000000000000001"
#define K2 "AKIA0000000000000002"

enum { P_MAX_GROUPS, P_MAX_EVENTS, P_LATE };

struct fx {
	struct mm_sigma_set set;
	struct mm_agg *agg;
	struct mm_detect_ctx d;
	double p[MM_PARAMS_MAX];
	void *st;
	char mem[1 << 16];
	struct mm_arena scratch;
	uint64_t line;
};

static const struct mm_detector_def *det(void) { return &mm_det_sigma; }

static void setup(struct fx *f, const char *yaml)
{
	memset(f, 0, sizeof(*f));
	mm_sigma_set_init(&f->set);
	CHECK_EQ_INT(mm_sigma_set_add_buf(&f->set, "r.yml", yaml, strlen(yaml)), 0);
	CHECK_EQ_INT(mm_sigma_set_build(&f->set), 0);
	if (f->set.nok != f->set.n) {
		int i;
		for (i = 0; i < f->set.n; i++)
			if (f->set.r[i]->status != MM_SIGMA_OK)
				fprintf(stderr, "  rule not ok: %s\n", f->set.r[i]->reason);
	}
	CHECK_EQ_INT(mm_agg_new(&f->agg, 1000), 0);
	f->d.agg = f->agg;
	f->d.sigma = &f->set;
	mm_detector_defaults(det(), f->p);
	f->d.params = f->p;
	mm_arena_init(&f->scratch, f->mem, sizeof(f->mem));
	f->st = det()->state_new();
	CHECK(f->st != NULL);
}

static void teardown(struct fx *f)
{
	det()->state_free(f->st);
	mm_agg_free(f->agg);
	mm_sigma_set_free(&f->set);
}

/* One CloudTrail event into state st: at T0 + t seconds, eventName name,
 * eventSource src, caller key, from ip, with extra members (may be ""). */
static void ev_into(struct fx *f, void *st, long t, const char *name, const char *src, const char *key,
		    const char *ip, const char *extra)
{
	static char line[4096];
	char when[32];
	time_t tt = (time_t)(T0 + t);
	struct tm tmv;
	struct mm_event ev;
	struct mm_err e;
	gmtime_r(&tt, &tmv);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tmv);
	snprintf(line, sizeof(line),
		 "{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":\"AIDA%s\","
		 "\"arn\":\"arn:aws:iam::111122223333:user/u%s\",\"accountId\":\"111122223333\","
		 "\"accessKeyId\":\"%s\",\"userName\":\"u%s\"},\"eventTime\":\"%s\",\"eventSource\":\"%s\","
		 "\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"%s\",\"userAgent\":\"aws-cli/2\","
		 "\"recipientAccountId\":\"111122223333\"%s%s}",
		 key + 16, key + 16, key, key + 16, when, src, name, ip, *extra ? "," : "", extra);
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&f->scratch);
	CHECK_EQ_INT(mm_ct_parse_line(line, strlen(line), &f->scratch, &ev, &e), 0);
	ev.raw = mm_str_make(line, strlen(line));
	ev.loc.file = "t.jsonl";
	ev.loc.line = ++f->line;
	det()->on_event(st, &f->d, &ev);
	if (f->d.locked) /* as the pipeline does after each event */
		f->d.locked = 0;
}

static void ev(struct fx *f, long t, const char *name, const char *key, const char *extra)
{
	ev_into(f, f->st, t, name, "iam.amazonaws.com", key, "198.51.100.7", extra);
}

static void fin(struct fx *f, void *st) { det()->finish(st, &f->d); }

static size_t nfind(struct fx *f)
{
	return mm_agg_count(f->agg);
}

static struct mm_finding *find(struct fx *f, const char *type, const char *key)
{
	size_t i;
	for (i = 0; i < mm_agg_count(f->agg); i++) {
		struct mm_finding *x = mm_agg_at(f->agg, i);
		if (!strcmp(x->type, type) && (!key || !strcmp(x->access_key_id, key)))
			return x;
	}
	return NULL;
}

#define RULE(id, name, tags, level, det)                                                                 \
	"title: Rule " id "\nid: " id "\nname: " name "\nauthor: Tester\nlevel: " level "\ntags: " tags "\n" \
	"logsource: {product: aws, service: cloudtrail}\ndetection:\n" det

#define CREATE_USER RULE("r-create", "create_user", "[attack.persistence, attack.t1136.003]", "medium", \
			 "  sel: {eventName: CreateUser}\n  condition: sel\n")
#define DELETE_USER RULE("r-delete", "delete_user", "[attack.impact]", "high", \
			 "  sel: {eventName: DeleteUser}\n  condition: sel\n")
#define PER "Persistence:IAMUser/SigmaRule"
#define IMP "Impact:IAMUser/SigmaRule"

/* ---- detection rules -------------------------------------------------- */

MM_TEST(rule_finding_type_severity_info)
{
	struct fx f;
	struct mm_finding *x;
	setup(&f, RULE("r-stop", "stop", "[attack.t1562.008, attack.defense-impairment]", "high",
		       "  sel:\n    eventSource: cloudtrail.amazonaws.com\n    eventName: [StopLogging, DeleteTrail]\n"
		       "  condition: sel\n"));
	ev_into(&f, f.st, 0, "StopLogging", "cloudtrail.amazonaws.com", K1, "198.51.100.7", "");
	ev_into(&f, f.st, 60, "DeleteTrail", "cloudtrail.amazonaws.com", K1, "198.51.100.7", "");
	/* look-alikes: the name from another service, another API */
	ev_into(&f, f.st, 90, "StopLogging", "other.amazonaws.com", K1, "198.51.100.7", "");
	ev_into(&f, f.st, 120, "StartLogging", "cloudtrail.amazonaws.com", K1, "198.51.100.7", "");
	fin(&f, f.st);
	CHECK_EQ_INT(nfind(&f), 1);
	x = find(&f, "DefenseEvasion:IAMUser/SigmaRule", K1);
	CHECK(x != NULL);
	if (x) {
		CHECK_EQ_INT(x->count, 2);
		CHECK(x->severity == 8);
		CHECK_EQ_INT(x->first_seen_ms, (T0) * 1000);
		CHECK_EQ_INT(x->last_seen_ms, (T0 + 60) * 1000);
		CHECK(!strcmp(x->disc, "r-stop"));
		CHECK(!strcmp(x->api, "DeleteTrail"));
		CHECK(strstr(x->info, "\"sigma\":{\"id\":\"r-stop\",\"title\":\"Rule r-stop\",\"level\":\"high\","
				      "\"author\":\"Tester\"") != NULL);
		CHECK(strstr(x->info, "\"tags\":[\"attack.t1562.008\",\"attack.defense-impairment\"]") != NULL);
		CHECK_EQ_INT(x->napis, 2);
	}
	teardown(&f);
}

MM_TEST(type_from_first_tactic_tag_and_level)
{
	static const struct {
		const char *tags, *level, *type;
		double sev;
	} c[] = {
		{"[attack.t1078, attack.initial_access, attack.persistence]", "low", "InitialAccess:IAMUser/SigmaRule", 2},
		{"[attack.stealth]", "critical", "Stealth:IAMUser/SigmaRule", 9},
		{"[attack.credential-access]", "informational", "CredentialAccess:IAMUser/SigmaRule", 1},
		{"[attack.collection]", "medium", "UnauthorizedAccess:IAMUser/SigmaRule", 5},
		{"[cve.2021-1]", "bogus", "UnauthorizedAccess:IAMUser/SigmaRule", 5},
		{"[attack.command-and-control]", "high", "Backdoor:IAMUser/SigmaRule", 8},
		{"[attack.reconnaissance]", "high", "Recon:IAMUser/SigmaRule", 8},
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(c); i++) {
		char y[1024];
		struct fx f;
		struct mm_finding *x;
		snprintf(y, sizeof(y),
			 "title: t\nid: x%zu\ntags: %s\nlevel: %s\nlogsource: {product: aws, service: cloudtrail}\n"
			 "detection:\n  s: {eventName: CreateUser}\n  condition: s\n",
			 i, c[i].tags, c[i].level);
		setup(&f, y);
		ev(&f, 0, "CreateUser", K1, "");
		fin(&f, f.st);
		x = find(&f, c[i].type, K1);
		CHECK(x != NULL);
		if (x)
			CHECK(x->severity == c[i].sev);
		CHECK(mm_ftype_get(c[i].type) != NULL);
		teardown(&f);
	}
}

MM_TEST(one_finding_per_rule_and_principal)
{
	struct fx f;
	setup(&f, CREATE_USER "---\n" DELETE_USER);
	ev(&f, 0, "CreateUser", K1, "");
	ev(&f, 5, "CreateUser", K1, "");
	ev(&f, 9, "CreateUser", K2, "");
	ev(&f, 10, "DeleteUser", K1, "");
	ev(&f, 11, "ListUsers", K1, "");
	CHECK_EQ_INT(nfind(&f), 0); /* the batch's findings come at finish */
	fin(&f, f.st);
	CHECK_EQ_INT(nfind(&f), 3);
	CHECK(find(&f, PER, K1) && find(&f, PER, K1)->count == 2);
	CHECK(find(&f, PER, K2) && find(&f, PER, K2)->count == 1);
	CHECK(find(&f, IMP, K1) && find(&f, IMP, K1)->count == 1);
	teardown(&f);
}

/* finish emits one finding per (rule, principal): between them the
 * table may pack what was emitted (mm_emit_done), so a batch with many
 * principals does not hold all their findings unpacked at the flush. */
MM_TEST(finish_lets_the_table_pack_between_findings)
{
	struct fx f;
	char key[21];
	struct mm_agg_stats as;
	int i;
	setup(&f, CREATE_USER);
	for (i = 0; i < 900; i++) {
		snprintf(key, sizeof(key), "AKIA%016d", i + 1);
		ev(&f, i, "CreateUser", key, "");
	}
	fin(&f, f.st);
	CHECK_EQ_INT(nfind(&f), 900);
	mm_agg_stats(f.agg, &as);
	CHECK(as.open_hw < 600);
	CHECK(as.packed > 0);
	CHECK(find(&f, PER, "AKIA0000000000000900") != NULL);
	teardown(&f);
}

MM_TEST(no_rules_no_work)
{
	struct fx f;
	setup(&f, CREATE_USER);
	f.d.sigma = NULL;
	ev(&f, 0, "CreateUser", K1, "");
	fin(&f, f.st);
	CHECK_EQ_INT(nfind(&f), 0);
	teardown(&f);
}

/* ---- the index ----------------------------------------------------------- */

static int cands(struct fx *f, const char *src, const char *name, const char *ua, const char *type)
{
	struct mm_api a;
	memset(&a, 0, sizeof(a));
	a.event_name = mm_str_c(name);
	a.event_source = mm_str_c(src);
	a.user_agent = mm_str_c(ua);
	a.who.type = mm_str_c(type);
	return mm_sigma_set_candidates(&f->set, &a);
}

MM_TEST(index_candidates)
{
	struct fx f;
	const char *iam = "iam.amazonaws.com";
	setup(&f, CREATE_USER "---\n" DELETE_USER "---\n"
		  RULE("r-src", "src", "[]", "low", "  s: {eventSource: ec2.amazonaws.com, userAgent|contains: kali}\n"
						   "  condition: s\n")
		  "---\n"
		  RULE("r-wild", "wild", "[]", "low", "  s: {eventName|startswith: Delete}\n  condition: s\n")
		  "---\n"
		  RULE("r-or", "or", "[]", "low", "  a: {eventName: PutBucketPolicy}\n  b: {eventName: CreateUser}\n"
						 "  condition: a or b\n")
		  "---\n"
		  RULE("r-ua", "ua", "[]", "low", "  s: {userAgent: TruffleHog}\n  condition: s\n")
		  "---\n"
		  RULE("r-root", "root", "[]", "low", "  s: {userIdentity.type: Root}\n  f: {eventType: AwsServiceEvent}\n"
						    "  condition: s and not f\n")
		  "---\n"
		  RULE("r-not", "not", "[]", "low", "  s: {eventName: CreateUser}\n  condition: not s\n"));
	/* gated rules only under their values (case-insensitive); r-wild, r-not always */
	CHECK_EQ_INT(cands(&f, iam, "CreateUser", "aws-cli", "IAMUser"), 4);
	CHECK_EQ_INT(cands(&f, iam, "createuser", "aws-cli", "IAMUser"), 4);
	CHECK_EQ_INT(cands(&f, iam, "PutBucketPolicy", "aws-cli", "IAMUser"), 3);
	CHECK_EQ_INT(cands(&f, iam, "GetUser", "aws-cli", "IAMUser"), 2);
	CHECK_EQ_INT(cands(&f, "EC2.amazonaws.com", "RunInstances", "", ""), 3);
	CHECK_EQ_INT(cands(&f, iam, "GetUser", "trufflehog", "Root"), 4);
	ev(&f, 0, "PutBucketPolicy", K1, "");
	ev(&f, 1, "DeleteUser", K1, "");
	ev(&f, 2, "DeleteRole", K1, "");
	fin(&f, f.st);
	/* r-or, r-delete, r-wild (twice), r-not (three times) */
	CHECK_EQ_INT(nfind(&f), 4);
	CHECK(find(&f, "UnauthorizedAccess:IAMUser/SigmaRule", K1) != NULL);
	teardown(&f);
}

/* The index gives the same answers as evaluating every rule: the
 * repository's rules and the shared-style sample over their events. */
MM_TEST(index_agrees_with_every_rule)
{
	static const char *const dirs[] = {"tests/data/sigma/rules", "tests/data/sigma/drl"};
	struct mm_sigma_set set;
	struct mm_sigma_scratch sc;
	struct mm_err e;
	char mem[1 << 16];
	struct mm_arena ar;
	FILE *fp;
	char line[16384];
	int d, lines = 0;
	mm_sigma_set_init(&set);
	for (d = 0; d < 2; d++)
		CHECK_EQ_INT(mm_sigma_set_add_path(&set, dirs[d], &e), 0);
	CHECK_EQ_INT(mm_sigma_set_build(&set), 0);
	CHECK(set.nok >= 10);
	CHECK_EQ_INT(mm_sigma_scratch_init(&sc, 1 << 16), 0);
	mm_arena_init(&ar, mem, sizeof(mem));
	for (d = 0; d < 2; d++) {
		fp = fopen(d ? "tests/data/sigma/events/events.jsonl" : "tests/data/sigma/drl/events.jsonl",
			   "r");
		CHECK(fp != NULL);
		while (fp && fgets(line, sizeof(line), fp)) {
			struct mm_event ev0;
			int hits[64], n, i, k, want = 0;
			uint8_t hit[256];
			size_t len = strcspn(line, "\n");
			if (!len)
				continue;
			lines++;
			mm_arena_reset(&ar);
			memset(&ev0, 0, sizeof(ev0));
			CHECK_EQ_INT(mm_ct_parse_line(line, len, &ar, &ev0, &e), 0);
			n = mm_sigma_set_match(&set, &ev0.u.api, mm_str_make(line, len), &sc, hits, 64);
			mm_sigma_match_many((const struct mm_sigma_rule *const *)set.r, set.n, mm_str_make(line, len), &sc, hit);
			for (i = 0, k = 0; i < set.n; i++) {
				if (!hit[i])
					continue;
				want++;
				if (k >= n || hits[k] != i)
					fprintf(stderr, "  line %d: rule %s matched alone, not through the index\n", lines,
						set.r[i]->file);
				else
					k++;
			}
			CHECK_EQ_INT(n, want);
		}
		if (fp)
			fclose(fp);
	}
	CHECK(lines >= 20);
	mm_sigma_scratch_free(&sc);
	mm_sigma_set_free(&set);
}

/* ---- correlations --------------------------------------------------------- */

#define CORR(type, extra) \
	"title: Correlated\nid: c-1\nlevel: critical\ncorrelation:\n  type: " type "\n" extra "---\n"

static long corr_count(struct fx *f, const char *key)
{
	size_t i;
	for (i = 0; i < mm_agg_count(f->agg); i++) {
		struct mm_finding *x = mm_agg_at(f->agg, i);
		if (!strcmp(x->disc, "c-1") && (!key || !strcmp(x->access_key_id, key)))
			return (long)x->count;
	}
	return 0;
}

#define EC3 CORR("event_count", "  rules: [create_user]\n  group-by: [userIdentity.arn]\n  timespan: 5m\n" \
				   "  condition: {gte: 3}\n") CREATE_USER

MM_TEST(event_count_window_edges)
{
	struct fx f;
	struct mm_finding *x;
	/* three in 5 minutes, the last exactly 300 s after the first: fires */
	setup(&f, EC3);
	ev(&f, 0, "CreateUser", K1, "");
	ev(&f, 150, "CreateUser", K1, "");
	ev(&f, 300, "CreateUser", K1, "");
	/* look-alike: three spread over 301 s by another key */
	ev(&f, 0, "CreateUser", K2, "");
	ev(&f, 150, "CreateUser", K2, "");
	ev(&f, 301, "CreateUser", K2, "");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 3);
	CHECK_EQ_INT(corr_count(&f, K2), 0);
	x = find(&f, PER, K1); /* the correlation's type comes from its rule's tags */
	CHECK(x != NULL);
	/* the base rule raises no finding of its own (generate: false) */
	CHECK_EQ_INT(nfind(&f), 1);
	if (x) {
		CHECK(x->severity == 9);
		CHECK_EQ_INT(x->first_seen_ms, T0 * 1000);
		CHECK_EQ_INT(x->last_seen_ms, (T0 + 300) * 1000);
		CHECK_EQ_INT(x->nevidence, 3);
		CHECK(strstr(x->info, "\"correlation\":\"event_count\"") != NULL);
		CHECK(strstr(x->info, "\"group\":\"arn:aws:iam::111122223333:user/u0001\"") != NULL);
	}
	/* one more inside the window adds one; a finish with nothing new adds nothing */
	ev(&f, 200, "CreateUser", K1, "");
	fin(&f, f.st);
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 4);
	teardown(&f);
}

MM_TEST(event_count_out_of_order_and_gt)
{
	struct fx f;
	setup(&f, CORR("event_count", "  rules: [create_user]\n  timespan: 1m\n  condition: {gt: 2}\n") CREATE_USER);
	ev(&f, 50, "CreateUser", K1, "");
	ev(&f, 1000, "CreateUser", K1, "");
	ev(&f, 0, "CreateUser", K1, "");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 0); /* two in the minute: gt 2 wants three */
	ev(&f, 30, "CreateUser", K1, "");    /* late, in the middle */
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 3);
	teardown(&f);
}

MM_TEST(value_count_distinct)
{
	struct fx f;
	setup(&f, CORR("value_count", "  rules: [create_user]\n  group-by: [sourceIPAddress]\n  timespan: 10m\n"
				      "  condition: {gte: 3, field: requestParameters.userName}\n") CREATE_USER);
	ev(&f, 0, "CreateUser", K1, "\"requestParameters\":{\"userName\":\"a\"}");
	ev(&f, 10, "CreateUser", K1, "\"requestParameters\":{\"userName\":\"b\"}");
	ev(&f, 20, "CreateUser", K1, "\"requestParameters\":{\"userName\":\"a\"}");
	ev(&f, 30, "CreateUser", K1, "");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 0); /* two distinct names, and one event without */
	ev(&f, 40, "CreateUser", K1, "\"requestParameters\":{\"userName\":\"C\"}");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 5);
	teardown(&f);
}

#define TWO CREATE_USER "---\n" DELETE_USER

MM_TEST(temporal_any_order)
{
	struct fx f;
	setup(&f, CORR("temporal", "  rules: [create_user, delete_user]\n  group-by: [userIdentity.arn]\n"
				   "  timespan: 10m\n") TWO);
	ev(&f, 100, "DeleteUser", K1, "");
	ev(&f, 400, "CreateUser", K1, "");
	ev(&f, 0, "CreateUser", K2, "");
	ev(&f, 601, "DeleteUser", K2, ""); /* 10 min 1 s apart */
	ev(&f, 0, "CreateUser", K2, "");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 2);
	CHECK_EQ_INT(corr_count(&f, K2), 0);
	teardown(&f);
}

MM_TEST(temporal_ordered_order_and_ties)
{
	struct fx f;
	setup(&f, CORR("temporal_ordered", "  rules: [create_user, delete_user]\n  timespan: 10m\n") TWO);
	ev(&f, 100, "DeleteUser", K1, ""); /* delete before create: not in order */
	ev(&f, 200, "CreateUser", K1, "");
	ev(&f, 50, "CreateUser", K2, ""); /* same second: counts as in order */
	ev(&f, 50, "DeleteUser", K2, "");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 0);
	CHECK_EQ_INT(corr_count(&f, K2), 2);
	ev(&f, 700, "DeleteUser", K1, ""); /* now create (200) then delete (700) */
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 3); /* every event in the window: the early delete too */
	teardown(&f);
}

MM_TEST(group_by_keeps_groups_apart_and_aliases)
{
	struct fx f;
	setup(&f, CORR("temporal", "  rules: [create_user, delete_user]\n  group-by: [target]\n  timespan: 1h\n"
				   "  aliases:\n    target:\n      create_user: requestParameters.userName\n"
				   "      delete_user: responseElements.user\n") TWO);
	ev(&f, 0, "CreateUser", K1, "\"requestParameters\":{\"userName\":\"eve\"}");
	ev(&f, 10, "DeleteUser", K1, "\"responseElements\":{\"user\":\"bob\"}");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 0);
	ev(&f, 20, "DeleteUser", K1, "\"responseElements\":{\"user\":\"eve\"}");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 2);
	teardown(&f);
}

MM_TEST(generate_keeps_base_findings)
{
	struct fx f;
	setup(&f, CORR("event_count", "  rules: [create_user]\n  timespan: 5m\n  condition: {gte: 2}\n  generate: true\n")
		  CREATE_USER);
	ev(&f, 0, "CreateUser", K1, "");
	ev(&f, 1, "CreateUser", K1, "");
	fin(&f, f.st);
	CHECK_EQ_INT(nfind(&f), 2); /* the rule's own and the correlation's, one type */
	teardown(&f);
}

MM_TEST(resolution_verdicts)
{
	struct mm_sigma_set s;
	const char *y = "title: A\nname: a\ncorrelation:\n  type: temporal\n  rules: [b, nope]\n  timespan: 1m\n---\n"
			"title: B\nname: b\nlogsource: {product: aws, service: cloudtrail}\ndetection: {s: {x: 1}, condition: s}\n"
			"---\ntitle: C\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 1m\n  condition: {gte: 2}\n"
			"---\ntitle: D\ncorrelation:\n  type: event_count\n  rules: [w]\n  timespan: 1m\n  condition: {gte: 2}\n"
			"---\ntitle: W\nname: w\nlogsource: {product: windows}\ndetection: {s: {x: 1}, condition: s}\n";
	mm_sigma_set_init(&s);
	CHECK_EQ_INT(mm_sigma_set_add_buf(&s, "c.yml", y, strlen(y)), 0);
	CHECK_EQ_INT(mm_sigma_set_build(&s), 0);
	CHECK_EQ_INT(s.n, 5);
	CHECK(s.r[0]->status == MM_SIGMA_BROKEN && strstr(s.r[0]->reason, "c.yml:5: correlation names 'nope'"));
	CHECK(s.r[2]->status == MM_SIGMA_UNSUPPORTED && strstr(s.r[2]->reason, "chained correlations"));
	CHECK(s.r[3]->status == MM_SIGMA_UNSUPPORTED && strstr(s.r[3]->reason, "which cannot run"));
	CHECK_EQ_INT(s.nok, 1);
	CHECK_EQ_INT(s.ncorr, 0);
	CHECK_EQ_INT(s.r[1]->emit, 1); /* b is named only by a broken correlation */
	mm_sigma_set_free(&s);
}

/* ---- merge, save/load --------------------------------------------------- */

struct rows {
	int n;
	char ent[32][16];
	unsigned char *blob[32];
	size_t len[32];
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct rows *r = pctx;
	if (r->n >= 32)
		return MM_ETOOBIG;
	snprintf(r->ent[r->n], sizeof(r->ent[0]), "%s", entity);
	r->blob[r->n] = malloc(n + 1);
	memcpy(r->blob[r->n], blob, n);
	r->len[r->n++] = n;
	return 0;
}

static void rows_free(struct rows *r)
{
	int i;
	for (i = 0; i < r->n; i++)
		free(r->blob[r->n - 1 - i]);
	r->n = 0;
}

#define EC3T CORR("event_count", "  rules: [create_user]\n  group-by: [userIdentity.arn]\n  timespan: 5m\n" \
				    "  condition: {gte: 3}\n") CREATE_USER

/* the stream: a burst of 4 for K1 around t=1000, 2 for K2 (no finding) */
static void stream(struct fx *f, void *a, void *b, int split)
{
	static const long t[] = {1000, 1100, 1290, 1200, 40, 60, 2000};
	static const char *const k[] = {K1, K1, K1, K1, K2, K2, K1};
	int i;
	for (i = 0; i < 7; i++)
		ev_into(f, (split ? i % 2 : i < 3) ? b : a, t[i], "CreateUser", "iam.amazonaws.com", k[i], "198.51.100.7",
			"");
}

MM_TEST(merge_any_order_equals_one_state)
{
	struct fx f, g;
	void *a, *b;
	long one;
	setup(&f, EC3T);
	stream(&f, f.st, f.st, 0);
	fin(&f, f.st);
	one = corr_count(&f, K1);
	CHECK_EQ_INT(one, 4);
	setup(&g, EC3T);
	a = det()->state_new();
	b = det()->state_new();
	stream(&g, a, b, 1);
	CHECK_EQ_INT(det()->merge(b, a), 0); /* b into a's place: the other order */
	fin(&g, b);
	CHECK_EQ_INT(corr_count(&g, K1), one);
	CHECK_EQ_INT(corr_count(&g, K2), 0);
	det()->state_free(a);
	det()->state_free(b);
	teardown(&g);
	teardown(&f);
}

/* Detection rules' matches are counted per worker and emitted at finish:
 * split over two workers and merged either way, the same finding as one. */
MM_TEST(rule_matches_merge_any_order)
{
	static const long t[] = {50, 10, 30, 20, 40, 60};
	static const char *const n[] = {"CreateUser", "DeleteUser", "CreateUser",
					"CreateUser", "DeleteUser", "ListUsers"};
	struct fx f, g, h;
	struct mm_finding *x, *y, *z;
	void *a, *b, *c2, *d2;
	int i;
	setup(&f, CREATE_USER "---\n" DELETE_USER);
	setup(&g, CREATE_USER "---\n" DELETE_USER);
	setup(&h, CREATE_USER "---\n" DELETE_USER);
	a = det()->state_new();
	b = det()->state_new();
	c2 = det()->state_new();
	d2 = det()->state_new();
	for (i = 0; i < 6; i++) {
		ev_into(&f, f.st, t[i], n[i], "iam.amazonaws.com", K1, "198.51.100.7", "");
		ev_into(&g, i % 2 ? a : b, t[i], n[i], "iam.amazonaws.com", K1, "198.51.100.7", "");
		ev_into(&h, i < 4 ? c2 : d2, t[i], n[i], "iam.amazonaws.com", K1, "198.51.100.7", "");
	}
	CHECK_EQ_INT(det()->merge(a, b), 0);
	CHECK_EQ_INT(det()->merge(d2, c2), 0);
	fin(&f, f.st);
	fin(&g, a);
	fin(&h, d2);
	x = find(&f, PER, K1);
	y = find(&g, PER, K1);
	z = find(&h, PER, K1);
	CHECK(x && y && z);
	if (x && y && z) {
		CHECK_EQ_INT(x->count, 3);
		CHECK_EQ_INT(x->first_seen_ms, (T0 + 20) * 1000);
		CHECK_EQ_INT(x->last_seen_ms, (T0 + 50) * 1000);
		CHECK_EQ_INT(y->count, x->count);
		CHECK_EQ_INT(z->count, x->count);
		CHECK_EQ_INT(y->first_seen_ms, x->first_seen_ms);
		CHECK_EQ_INT(z->last_seen_ms, x->last_seen_ms);
		CHECK_EQ_INT(y->nevidence, x->nevidence);
		CHECK_EQ_INT(y->detail_line, x->detail_line);
		CHECK_EQ_INT(z->detail_line, x->detail_line);
		CHECK_EQ_INT(x->napis, 1);
		CHECK_EQ_INT(x->apis[0].count, 3);
		CHECK_EQ_INT(z->apis[0].count, 3);
		CHECK(!strcmp(x->info, y->info) && !strcmp(x->info, z->info));
	}
	CHECK(find(&g, IMP, K1) && find(&g, IMP, K1)->count == 2);
	det()->state_free(a);
	det()->state_free(b);
	det()->state_free(c2);
	det()->state_free(d2);
	teardown(&h);
	teardown(&g);
	teardown(&f);
}

MM_TEST(save_load_two_scans_equal_one)
{
	struct fx f;
	struct rows r;
	void *st2, *st3;
	int i;
	memset(&r, 0, sizeof(r));
	setup(&f, EC3T);
	/* scan 1: two of the burst; flush, save */
	ev(&f, 1000, "CreateUser", K1, "");
	ev(&f, 1100, "CreateUser", K1, "");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 0);
	CHECK_EQ_INT(det()->save(f.st, put, &r), 0);
	CHECK_EQ_INT(r.n, 16);
	/* scan 2: a fresh state loaded from the rows, the rest */
	st2 = det()->state_new();
	for (i = 0; i < r.n; i++)
		CHECK_EQ_INT(det()->load(st2, r.ent[i], 1, r.blob[i], r.len[i]), 0);
	ev_into(&f, st2, 1290, "CreateUser", "iam.amazonaws.com", K1, "198.51.100.7", "");
	ev_into(&f, st2, 1200, "CreateUser", "iam.amazonaws.com", K1, "198.51.100.7", "");
	fin(&f, st2);
	CHECK_EQ_INT(corr_count(&f, K1), 4);
	/* saved again and loaded: reported events stay reported */
	rows_free(&r);
	CHECK_EQ_INT(det()->save(st2, put, &r), 0);
	st3 = det()->state_new();
	for (i = 0; i < r.n; i++)
		CHECK_EQ_INT(det()->load(st3, r.ent[i], 1, r.blob[i], r.len[i]), 0);
	fin(&f, st3);
	CHECK_EQ_INT(corr_count(&f, K1), 4);
	/* hostile rows: cut, bad magic, wrong version, random; state unchanged */
	for (i = 0; i < r.n; i++) {
		size_t cut;
		if (r.len[i] < 10)
			continue;
		for (cut = 1; cut < r.len[i]; cut += 7)
			CHECK_EQ_INT(det()->load(st3, "x", 1, r.blob[i], cut), MM_EFORMAT);
		r.blob[i][0] ^= 1;
		CHECK_EQ_INT(det()->load(st3, "x", 1, r.blob[i], r.len[i]), MM_EFORMAT);
		r.blob[i][0] ^= 1;
		CHECK_EQ_INT(det()->load(st3, "x", 2, r.blob[i], r.len[i]), MM_EFORMAT);
	}
	{
		unsigned char junk[300];
		unsigned seed = 7;
		int k;
		for (k = 0; k < 200; k++) {
			size_t j;
			for (j = 0; j < sizeof(junk); j++)
				junk[j] = (unsigned char)((seed = seed * 1103515245 + 12345) >> 16);
			junk[0] = 0x53;
			det()->load(st3, "x", 1, junk, (size_t)(k + 1));
		}
	}
	fin(&f, st3);
	CHECK_EQ_INT(corr_count(&f, K1), 4);
	rows_free(&r);
	det()->state_free(st2);
	det()->state_free(st3);
	teardown(&f);
}

MM_TEST(bounds_groups_and_events)
{
	struct fx f;
	char key[32];
	int i;
	setup(&f, EC3T);
	f.p[P_MAX_GROUPS] = 100;
	f.p[P_MAX_EVENTS] = 16;
	for (i = 0; i < 100; i++) /* a flood on one group: the latest 16 stay */
		ev(&f, 5000 + i * 1000, "CreateUser", K1, "");
	for (i = 0; i < 150; i++) { /* 99 more groups fit, the rest are not tracked */
		snprintf(key, sizeof(key), "AKIA%016d", i + 10);
		ev(&f, i, "CreateUser", key, "");
	}
	fin(&f, f.st);
	/* every 3 within 5 min of the last 16 (1000 s apart) is none: no burst */
	CHECK_EQ_INT(corr_count(&f, K1), 0);
	ev(&f, 5000 + 99 * 1000 + 1, "CreateUser", K1, "");
	ev(&f, 5000 + 99 * 1000 + 2, "CreateUser", K1, "");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 3);
	teardown(&f);
}

MM_TEST(late_events_forgotten)
{
	struct fx f;
	setup(&f, EC3T);
	f.p[P_LATE] = 10;
	ev(&f, 0, "CreateUser", K1, "");
	ev(&f, 10, "CreateUser", K1, "");
	ev(&f, 100000, "CreateUser", K1, "");
	fin(&f, f.st); /* the first two are more than 5 + 10 minutes behind */
	ev(&f, 20, "CreateUser", K1, "");
	fin(&f, f.st);
	CHECK_EQ_INT(corr_count(&f, K1), 0);
	teardown(&f);
}
