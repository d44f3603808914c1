/* test_ctbase.c - the per-principal CloudTrail baselines: each finding
 * type with a positive and its look-alikes (an admin on two home ISPs, a
 * CI user from a fixed address, a security tool listing everything every
 * hour, a traveller's first login abroad, an instance behind its NAT, VPC
 * endpoint and service-invoked calls), the learning edge, out-of-order
 * records, two scans equal to one through save/load, merge order, the
 * user-agent families and hostile state blobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/ctbase.h"
#include "detect/detect.h"
#include "geo/geo.h"
#include "core/strpool.h"
#include "mmtest.h"

#define DET mm_det_ctbase
#define DAY 86400000LL
#define HOUR 3600000LL
#define T0 1709251200000LL /* 2024-03-01T00:00:00Z, ms */
#define ACCT "111122223333"
#define ALICE "arn:aws:iam::111122223333:user/alice"

#define HOME_A "203.0.113.10"	/* AS64501 Home Fiber, DE */
#define HOME_B "198.51.100.20"	/* AS64502 Home Cable, DE */
#define EVIL "192.0.2.66"	/* AS64666 Bullet Hosting, RU */
#define US_IP "8.8.8.8"		/* AS15169, US */
#define AWS_HOME "3.0.5.5"	/* AS16509, inside AWS */
#define AWS_OTHER "3.1.9.9"	/* AS16509, inside AWS */
#define CLI "aws-cli/2.13.0 Python/3.11.4 Linux/6.1 exe/x86_64.ubuntu.22"
#define BOTO "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#6.1 lang/python#3.11"
#define BROWSER "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"

enum { P_LEARN, P_MIN_DAYS, P_NOVEL_H, P_DISC_MIN, P_DISC_WIN, P_LOGIN_H, P_MAX_ITEMS, P_ASN };

static struct mm_geo *test_geo(void)
{
	static const char *asn = "203.0.113.0,203.0.113.255,64501,Home Fiber\n"
				 "198.51.100.0,198.51.100.255,64502,Home Cable\n"
				 "192.0.2.0,192.0.2.255,64666,\"Bullet \"\"Hosting\"\"\"\n"
				 "8.8.8.0,8.8.8.255,15169,Google LLC\n"
				 "3.0.0.0,3.127.255.255,16509,\"Amazon.com, Inc.\"\n";
	static const char *cc = "203.0.113.0,203.0.113.255,DE\n198.51.100.0,198.51.100.255,DE\n"
				"192.0.2.0,192.0.2.255,RU\n8.8.8.0,8.8.8.255,US\n"
				"3.0.0.0,3.127.255.255,US\n";
	char pa[] = "/tmp/ctbase-asn-XXXXXX", pc[] = "/tmp/ctbase-cc-XXXXXX",
	     pw[] = "/tmp/ctbase-aws-XXXXXX";
	struct mm_geo_builder *b = NULL;
	struct mm_geo *g = NULL;
	struct mm_err err;
	void *buf = NULL;
	size_t len = 0;
	int fa = mkstemp(pa), fc = mkstemp(pc), fw = mkstemp(pw);

	CHECK(fa >= 0 && fc >= 0 && fw >= 0);
	CHECK(write(fa, asn, strlen(asn)) == (ssize_t)strlen(asn));
	CHECK(write(fc, cc, strlen(cc)) == (ssize_t)strlen(cc));
	CHECK(write(fw, "3.0.0.0/15\n", 11) == 11);
	close(fa), close(fc), close(fw);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_geo_builder_new(&b), 0);
	CHECK_EQ_INT(mm_geo_builder_add_csv(b, MM_GEO_ASN, pa, &err), 0);
	CHECK_EQ_INT(mm_geo_builder_add_csv(b, MM_GEO_COUNTRY, pc, &err), 0);
	CHECK_EQ_INT(mm_geo_builder_add_cidrs(b, pw, &err), 0);
	CHECK_EQ_INT(mm_geo_builder_finish(b, &buf, &len, &err), 0);
	mm_geo_builder_free(b);
	unlink(pa), unlink(pc), unlink(pw);
	CHECK_EQ_INT(mm_geo_open_mem(&g, buf, len, &err), 0);
	return g;
}

struct fx {
	void *st;
	struct mm_agg *agg;
	struct mm_geo *geo;
	struct mm_detect_ctx c;
	struct mm_file_ctx fc;
	double p[MM_PARAMS_MAX];
	uint64_t line;
	size_t pooled;	/* strings in the shared pool at setup */
};

static size_t pooled(void)
{
	size_t n, b;
	mm_sp_stats(&n, &b);
	return n;
}

static void setup_geo(struct fx *x, int with_geo)
{
	memset(x, 0, sizeof(*x));
	x->pooled = pooled();
	x->st = DET.state_new();
	CHECK(x->st != NULL);
	CHECK_EQ_INT(mm_agg_new(&x->agg, 1000), 0);
	mm_detector_defaults(&DET, x->p);
	x->geo = with_geo ? test_geo() : NULL;
	x->c.geo = x->geo;
	x->c.agg = x->agg;
	x->c.params = x->p;
	mm_file_ctx_from_path(&x->fc, "t/AWSLogs/111122223333/CloudTrail/us-east-1/x.json");
	x->c.file = &x->fc;
}

static void setup(struct fx *x)
{
	setup_geo(x, 1);
}

/* Every label and detail let go of its strings: the pool holds what it
 * held before the test (a leaked reference would keep a string). */
static void teardown(struct fx *x)
{
	DET.state_free(x->st);
	mm_agg_free(x->agg);
	mm_geo_close(x->geo);
	CHECK_EQ_INT((int)pooled(), (int)x->pooled);
}

/* One call: who is an IAM user ARN, or "role:NAME/SESSION" for an
 * assumed role. ip may be a service name ("ec2.amazonaws.com"). */
struct call {
	const char *who, *ip, *ua, *src, *name, *invoked_by, *resp, *type;
	int read_only;
	int64_t t;
};

static void call_on(struct fx *x, void *st, const struct call *k)
{
	struct mm_event ev;
	struct mm_api *a = &ev.u.api;
	char arn[160], issuer[160], pid[64];
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_API;
	ev.loc.file = "t.json";
	ev.loc.line = ++x->line;
	a->time_ms = k->t;
	a->event_source = mm_str_c(k->src ? k->src : "iam.amazonaws.com");
	a->event_name = mm_str_c(k->name);
	a->event_type = mm_str_c(k->type ? k->type : "AwsApiCall");
	a->region = mm_str_c("us-east-1");
	a->account = mm_str_c(ACCT);
	a->read_only = k->read_only;
	a->user_agent = mm_str_c(k->ua ? k->ua : CLI);
	a->source_ip_raw = mm_str_c(k->ip);
	a->has_source_ip = mm_ip_parse(k->ip, strlen(k->ip), &a->source_ip) == 0;
	if (k->resp)
		a->response_elements = mm_str_c(k->resp);
	if (k->invoked_by)
		a->who.invoked_by = mm_str_c(k->invoked_by);
	a->who.account_id = mm_str_c(ACCT);
	if (strncmp(k->who, "role:", 5) == 0) {
		const char *slash = strchr(k->who + 5, '/');
		int rn = (int)(slash - (k->who + 5));
		snprintf(arn, sizeof(arn), "arn:aws:sts::%s:assumed-role/%s", ACCT, k->who + 5);
		snprintf(issuer, sizeof(issuer), "arn:aws:iam::%s:role/%.*s", ACCT, rn, k->who + 5);
		snprintf(pid, sizeof(pid), "AROAEXAMPLE:%s", slash + 1);
		a->who.type = mm_str_c("AssumedRole");
		a->who.arn = mm_str_c(arn);
		a->who.issuer_arn = mm_str_c(issuer);
		a->who.principal_id = mm_str_c(pid);
		a->who.access_key_id = mm_str_c("ASIAEXAMPLESESSION01");
		a->who.issuer_user_name = mm_str_make(k->who + 5, (size_t)rn);
	} else {
		a->who.type = mm_str_c(strstr(k->who, ":root") ? "Root" : "IAMUser");
		a->who.arn = mm_str_c(k->who);
		a->who.principal_id = mm_str_c("AIDAEXAMPLEALICE");
		a->who.access_key_id = mm_str_c("AKIAEXAMPLEALICE0001");
		a->who.user_name = mm_str_c(strrchr(k->who, '/') ? strrchr(k->who, '/') + 1 : "x");
	}
	DET.on_event(st, &x->c, &ev);
}

static void call(struct fx *x, const char *who, const char *ip, const char *ua, const char *src,
		 const char *name, int64_t t)
{
	struct call k;
	memset(&k, 0, sizeof(k));
	k.who = who, k.ip = ip, k.ua = ua, k.src = src, k.name = name, k.t = t;
	k.read_only = -1;
	call_on(x, x->st, &k);
}

static void login(struct fx *x, const char *who, const char *ip, int64_t t)
{
	struct call k;
	memset(&k, 0, sizeof(k));
	k.who = who, k.ip = ip, k.ua = BROWSER, k.src = "signin.amazonaws.com";
	k.name = "ConsoleLogin", k.type = "AwsConsoleSignIn", k.t = t, k.read_only = 0;
	k.resp = "{\"ConsoleLogin\":\"Success\"}";
	call_on(x, x->st, &k);
}

/* alice's ordinary days [d0, d1): the CLI from home, a few reads */
static void alice_days(struct fx *x, const char *ip, int d0, int d1)
{
	int d;
	for (d = d0; d < d1; d++) {
		int64_t t = T0 + d * DAY + 9 * HOUR;
		call(x, ALICE, ip, CLI, "s3.amazonaws.com", "ListBuckets", t);
		call(x, ALICE, ip, CLI, "ec2.amazonaws.com", "DescribeInstances", t + 60000);
		call(x, ALICE, ip, CLI, "sts.amazonaws.com", "GetCallerIdentity", t + 120000);
	}
}

/* ... and a console sign-in from home at 08:00 before each */
static void alice_home(struct fx *x, int d0, int d1)
{
	int d;
	for (d = d0; d < d1; d++) {
		login(x, ALICE, HOME_A, T0 + d * DAY + 8 * HOUR);
		alice_days(x, HOME_A, d, d + 1);
	}
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
		if (!type || strcmp(mm_agg_at(x->agg, i)->type, type) == 0)
			n += (int)mm_agg_at(x->agg, i)->count;
	return n;
}

static const struct mm_finding *find(struct fx *x, const char *type)
{
	size_t i;
	for (i = 0; i < mm_agg_count(x->agg); i++)
		if (strcmp(mm_agg_at(x->agg, i)->type, type) == 0)
			return mm_agg_at(x->agg, i);
	return NULL;
}

#define CRED "CredentialAccess:IAMUser/AnomalousBehavior"
#define DISC "Discovery:IAMUser/AnomalousBehavior"
#define PERS "Persistence:IAMUser/AnomalousBehavior"
#define LOGIN "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B"
#define OUTSIDE "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
#define INSIDE "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS"
#define ASN "UnauthorizedAccess:IAMUser/UnusualASNCaller"

MM_TEST(ua_families)
{
	static const char *const cases[][2] = {
		{CLI, "aws-cli/2"},
		{BOTO, "Boto3/1"},
		{"[aws-cli/1.18.69 Python/2.7.18 Linux/4.14 botocore/1.16.19]", "aws-cli/1"},
		{"APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) "
		 "terraform-provider-aws/5.31.0 aws-sdk-go-v2/1.24.0 os/linux",
		 "Terraform/1"},
		{BROWSER, "browser"},
		{"console.amazonaws.com", "browser"},
		{"signin.amazonaws.com", "browser"},
		{"AWS Internal", "AWS Internal"},
		{"aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21", "aws-sdk-go-v2/1"},
		{"", "none"},
		{"weird\"agent", "weird'agent"},
	};
	size_t i;
	char out[56];
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mm__ctbase_ua_family(mm_str_c(cases[i][0]), out, sizeof(out));
		CHECK_EQ_STR(out, cases[i][1]);
	}
}

/* "Terraform/" is searched 16 bytes at a time: found at any offset, a
 * near miss is not it */
MM_TEST(ua_family_finds_terraform_anywhere)
{
	char ua[96], out[56];
	size_t pad;
	for (pad = 1; pad < 40; pad++) {
		memset(ua, 'x', pad);
		snprintf(ua + pad, sizeof(ua) - pad, " Terraform/1.5.7 (+https://www.terraform.io)");
		mm__ctbase_ua_family(mm_str_c(ua), out, sizeof(out));
		CHECK_EQ_STR(out, "Terraform/1");
		snprintf(ua + pad, sizeof(ua) - pad, " Terraform 1.5.7 TerraformX/2");
		mm__ctbase_ua_family(mm_str_c(ua), out, sizeof(out));
		CHECK(strncmp(out, "xx", pad > 1 ? 2 : 1) == 0);
	}
	mm__ctbase_ua_family(mm_str_c("Terraform/"), out, sizeof(out));
	CHECK_EQ_STR(out, "Terraform/");
}

MM_TEST(anomalous_new_api_from_new_network)
{
	struct fx x;
	const struct mm_finding *f;
	setup(&x);
	alice_days(&x, HOME_A, 0, 10);
	call(&x, ALICE, EVIL, BOTO, "secretsmanager.amazonaws.com", "GetSecretValue",
	     T0 + 10 * DAY + 3 * HOUR);
	finish(&x);
	CHECK_EQ_INT(count(&x, CRED), 1);
	CHECK_EQ_INT(count(&x, NULL), 1);
	f = find(&x, CRED);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_STR(f->access_key_id, "AKIAEXAMPLEALICE0001");
		CHECK_EQ_STR(f->api, "GetSecretValue");
		CHECK_EQ_STR(f->service_name, "secretsmanager.amazonaws.com");
		CHECK(f->role == MM_ROLE_TARGET);
		CHECK(strstr(f->info, "\"anomalousAPIs\":\"secretsmanager.amazonaws.com:"
				      "[GetSecretValue:success]\"") != NULL);
		CHECK(strstr(f->info, "\"profiledBehavior\":{") != NULL);
		CHECK(strstr(f->info, "asnNumber: 64501 asnOrg: Home Fiber") != NULL);
		CHECK(strstr(f->info, "\"unusualASNsUserIdentityProfiling\":\"asnNumber: 64666 "
				      "asnOrg: Bullet 'Hosting'\"") != NULL);
		CHECK(strstr(f->info, "\"unusualUserAgentsUserIdentityProfiling\":\"Boto3/1\"") !=
		      NULL);
		CHECK(strstr(f->info, "\"unusualHoursUserIdentityProfiling\":\"03\"") != NULL);
		CHECK(strstr(f->info, "\"unusualCountriesUserIdentityProfiling\":\"RU\"") != NULL);
		CHECK(strstr(f->info, "unusualRegions") == NULL); /* us-east-1 as ever */
		CHECK(strlen(f->info) < MM_INFO_MAX);
	}
	teardown(&x);
}

MM_TEST(new_api_from_usual_network_and_agent_is_quiet)
{
	struct fx x;
	setup(&x);
	alice_days(&x, HOME_A, 0, 10);
	call(&x, ALICE, HOME_A, CLI, "secretsmanager.amazonaws.com", "GetSecretValue",
	     T0 + 10 * DAY + 3 * HOUR);
	call(&x, ALICE, HOME_A, CLI, "iam.amazonaws.com", "CreateUser", T0 + 10 * DAY + 4 * HOUR);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

MM_TEST(usual_api_from_new_network_is_quiet)
{
	struct fx x;
	setup(&x);
	alice_days(&x, HOME_A, 0, 10);
	alice_days(&x, EVIL, 10, 11);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

MM_TEST(learning_edge)
{
	struct fx x;
	setup(&x);
	/* day 5 of 7: still learning, even from a new network */
	alice_days(&x, HOME_A, 0, 5);
	call(&x, ALICE, EVIL, BOTO, "secretsmanager.amazonaws.com", "GetSecretValue",
	     T0 + 5 * DAY);
	alice_days(&x, HOME_A, 5, 10);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
	/* a week passed but only two active days: no baseline yet */
	setup(&x);
	alice_days(&x, HOME_A, 0, 2);
	call(&x, ALICE, EVIL, BOTO, "secretsmanager.amazonaws.com", "GetSecretValue",
	     T0 + 9 * DAY);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
	/* the first minute past the baseline fires */
	setup(&x);
	alice_days(&x, HOME_A, 0, 7);
	call(&x, ALICE, EVIL, BOTO, "secretsmanager.amazonaws.com", "GetSecretValue",
	     T0 + 9 * HOUR + 7 * DAY);
	finish(&x);
	CHECK_EQ_INT(count(&x, CRED), 1);
	teardown(&x);
}

static const char *const reads[] = {
	"ListUsers",	   "ListRoles",	      "ListPolicies",	    "ListGroups",
	"GetAccountAuthorizationDetails", "ListAccessKeys", "ListAttachedUserPolicies",
	"ListInstanceProfiles", "GetAccountSummary", "ListMFADevices", "ListSAMLProviders",
	"ListServerCertificates",
};

static void discovery_burst(struct fx *x, const char *ip, const char *ua, int n, int64_t t,
			    int64_t step)
{
	int i;
	for (i = 0; i < n; i++) {
		struct call k;
		memset(&k, 0, sizeof(k));
		k.who = ALICE, k.ip = ip, k.ua = ua, k.src = "iam.amazonaws.com";
		k.name = reads[i], k.read_only = 1, k.t = t + i * step;
		call_on(x, x->st, &k);
	}
}

MM_TEST(discovery_needs_a_burst)
{
	struct fx x;
	setup(&x);
	alice_days(&x, HOME_A, 0, 10);
	discovery_burst(&x, EVIL, BOTO, 12, T0 + 10 * DAY, 20000);
	finish(&x);
	CHECK_EQ_INT(count(&x, DISC), 12);
	CHECK_EQ_INT(count(&x, NULL), 12);
	teardown(&x);
	/* nine new reads: below discovery_min_apis */
	setup(&x);
	alice_days(&x, HOME_A, 0, 10);
	discovery_burst(&x, EVIL, BOTO, 9, T0 + 10 * DAY, 20000);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
	/* twelve spread over 12 hours: no burst */
	setup(&x);
	alice_days(&x, HOME_A, 0, 10);
	discovery_burst(&x, EVIL, BOTO, 12, T0 + 10 * DAY, HOUR);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

MM_TEST(security_tool_listing_every_hour_is_quiet)
{
	struct fx x;
	int h;
	setup(&x);
	/* a scanner role lists all of IAM every hour for two weeks */
	for (h = 0; h < 14 * 24; h++) {
		int i;
		for (i = 0; i < 12; i++) {
			struct call k;
			memset(&k, 0, sizeof(k));
			k.who = "role:SecurityAudit/scanner", k.ip = AWS_HOME, k.ua = BOTO;
			k.src = "iam.amazonaws.com", k.name = reads[i], k.read_only = 1;
			k.t = T0 + h * HOUR + i * 1000;
			call_on(&x, x.st, &k);
		}
	}
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

MM_TEST(admin_on_two_home_isps_is_quiet)
{
	struct fx x;
	int d;
	setup(&x);
	for (d = 0; d < 10; d++) {
		const char *ip = d % 2 ? HOME_B : HOME_A;
		login(&x, ALICE, ip, T0 + d * DAY + 8 * HOUR);
		alice_days(&x, ip, d, d + 1);
	}
	/* day 10: from the second ISP, a new persistence API and a login */
	login(&x, ALICE, HOME_B, T0 + 10 * DAY + 8 * HOUR);
	call(&x, ALICE, HOME_B, CLI, "iam.amazonaws.com", "CreateAccessKey",
	     T0 + 10 * DAY + 9 * HOUR);
	call(&x, ALICE, HOME_A, CLI, "s3.amazonaws.com", "ListBuckets", T0 + 10 * DAY + 8 * HOUR);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

MM_TEST(ci_user_from_fixed_address_is_quiet)
{
	struct fx x;
	const char *ci = "arn:aws:iam::111122223333:user/ci-deployer";
	static const char *const apis[] = {"CreateStack", "CreateRole", "PutRolePolicy",
					   "CreateAccessKey", "DeleteTrail", "AttachRolePolicy"};
	int d, i;
	setup(&x);
	for (d = 0; d < 10; d++)
		call(&x, ci, US_IP, "Terraform/1.5.7", "cloudformation.amazonaws.com", "DescribeStacks",
		     T0 + d * DAY + 2 * HOUR);
	/* a new pipeline deploys things it never did, from the same runner */
	for (i = 0; i < 6; i++)
		call(&x, ci, US_IP, "Terraform/1.6.0", "iam.amazonaws.com", apis[i],
		     T0 + 10 * DAY + i * 1000);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

MM_TEST(console_login_from_new_country_while_active_at_home)
{
	struct fx x;
	const struct mm_finding *f;
	setup(&x);
	alice_home(&x, 0, 10);
	/* alice works from home at 09:00; someone signs in from RU at 09:30 */
	call(&x, ALICE, HOME_A, CLI, "s3.amazonaws.com", "ListBuckets", T0 + 10 * DAY + 9 * HOUR);
	login(&x, ALICE, EVIL, T0 + 10 * DAY + 9 * HOUR + 30 * 60000);
	finish(&x);
	CHECK_EQ_INT(count(&x, LOGIN), 1);
	CHECK_EQ_INT(count(&x, NULL), 1);
	f = find(&x, LOGIN);
	if (f) {
		CHECK_EQ_STR(f->api, "ConsoleLogin");
		CHECK(strstr(f->info, "\"unusualLoginPlace\":\"RU\"") != NULL);
	}
	teardown(&x);
}

MM_TEST(traveller_first_login_abroad_is_quiet)
{
	struct fx x;
	setup(&x);
	alice_home(&x, 0, 10);
	/* last seen at home at 09:02, lands and signs in from the US at 20:00 */
	login(&x, ALICE, US_IP, T0 + 9 * DAY + 20 * HOUR);
	call(&x, ALICE, US_IP, BROWSER, "s3.amazonaws.com", "ListBuckets", T0 + 9 * DAY + 20 * HOUR);
	login(&x, ALICE, US_IP, T0 + 10 * DAY + 20 * HOUR);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

/* The same two, in one long batch: alice's routine goes on for five more
 * days before finish judges, so the hours around the login leave the
 * ring of places (CB_ACT hours) first. The concurrent activity must still
 * count, and the traveller must still be quiet. */
MM_TEST(console_login_judged_after_days_more_of_the_batch)
{
	struct fx x;
	int d;
	setup(&x);
	alice_home(&x, 0, 10);
	call(&x, ALICE, HOME_A, CLI, "s3.amazonaws.com", "ListBuckets", T0 + 10 * DAY + 9 * HOUR);
	login(&x, ALICE, EVIL, T0 + 10 * DAY + 9 * HOUR + 30 * 60000);
	alice_home(&x, 11, 16);
	finish(&x);
	CHECK_EQ_INT(count(&x, LOGIN), 1);
	CHECK_EQ_INT(count(&x, NULL), 1);
	teardown(&x);

	setup(&x);
	alice_home(&x, 0, 10);
	login(&x, ALICE, US_IP, T0 + 9 * DAY + 20 * HOUR);
	call(&x, ALICE, US_IP, BROWSER, "s3.amazonaws.com", "ListBuckets", T0 + 9 * DAY + 20 * HOUR);
	for (d = 10; d < 16; d++) {
		login(&x, ALICE, US_IP, T0 + d * DAY + 20 * HOUR);
		call(&x, ALICE, US_IP, BROWSER, "s3.amazonaws.com", "ListBuckets",
		     T0 + d * DAY + 20 * HOUR + 60000);
	}
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

static void inst_call(struct fx *x, const char *ip, const char *name, int64_t t,
		      const char *invoked_by)
{
	struct call k;
	memset(&k, 0, sizeof(k));
	k.who = "role:W/i-0abc123def4567890", k.ip = ip, k.ua = BOTO;
	k.src = "s3.amazonaws.com", k.name = name, k.t = t, k.read_only = 1;
	k.invoked_by = invoked_by;
	call_on(x, x->st, &k);
}

MM_TEST(instance_credentials_outside_and_inside)
{
	struct fx x;
	int i;
	setup(&x);
	for (i = 0; i < 20; i++)
		inst_call(&x, AWS_HOME, "ListBuckets", T0 + i * HOUR, NULL);
	inst_call(&x, EVIL, "ListBuckets", T0 + 5 * HOUR + 1, NULL);
	inst_call(&x, EVIL, "GetObject", T0 + 5 * HOUR + 2, NULL);
	inst_call(&x, AWS_OTHER, "ListBuckets", T0 + 6 * HOUR, NULL);
	finish(&x);
	CHECK_EQ_INT(count(&x, OUTSIDE), 1);
	CHECK_EQ_INT(count(&x, INSIDE), 1);
	CHECK(find(&x, OUTSIDE) && strstr(find(&x, OUTSIDE)->info, AWS_HOME));
	teardown(&x);
}

MM_TEST(instance_home_is_inside_aws_even_when_the_thief_calls_first)
{
	/* one day read before the days it follows: the thief's call from
	 * outside AWS is the session's earliest here; the instance's own
	 * address (inside AWS) is still its home */
	struct fx x;
	int i;
	setup(&x);
	inst_call(&x, EVIL, "ListBuckets", T0 + 4 * HOUR, NULL);
	for (i = 5; i < 20; i++)
		inst_call(&x, AWS_HOME, "ListBuckets", T0 + i * HOUR, NULL);
	finish(&x);
	CHECK_EQ_INT(count(&x, OUTSIDE), 1);
	CHECK_EQ_INT(count(&x, INSIDE), 0);
	CHECK(find(&x, OUTSIDE) && strstr(find(&x, OUTSIDE)->info, AWS_HOME) &&
	      strcmp(find(&x, OUTSIDE)->access_key_id, "") != 0);
	teardown(&x);
}

MM_TEST(instance_nat_vpce_and_service_calls_are_quiet)
{
	struct fx x;
	int i;
	setup(&x);
	/* behind its NAT gateway: one public address from the start */
	for (i = 0; i < 20; i++)
		inst_call(&x, "203.0.113.77", "ListBuckets", T0 + i * HOUR, NULL);
	/* through a VPC endpoint: its private address */
	inst_call(&x, "10.0.1.15", "GetObject", T0 + 3 * HOUR, NULL);
	/* AWS on its behalf: a service name for an address, invokedBy */
	inst_call(&x, "ec2.amazonaws.com", "CreateNetworkInterface", T0 + 4 * HOUR, NULL);
	inst_call(&x, AWS_OTHER, "Decrypt", T0 + 5 * HOUR, "s3.amazonaws.com");
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

MM_TEST(service_principals_are_never_learned)
{
	struct fx x;
	struct call k;
	int d;
	setup(&x);
	for (d = 0; d < 12; d++) {
		memset(&k, 0, sizeof(k));
		k.who = "role:AWSServiceRoleForAutoScaling/AutoScaling";
		k.ip = d < 10 ? AWS_HOME : EVIL, k.ua = "autoscaling.amazonaws.com";
		k.src = "iam.amazonaws.com", k.name = d < 10 ? "ListRoles" : "CreateAccessKey";
		k.t = T0 + d * DAY, k.read_only = -1;
		call_on(&x, x.st, &k);
	}
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
}

MM_TEST(unusual_asn_caller_is_opt_in)
{
	struct fx x;
	setup(&x);
	alice_days(&x, HOME_A, 0, 10);
	alice_days(&x, EVIL, 10, 11);
	finish(&x);
	CHECK_EQ_INT(count(&x, NULL), 0);
	teardown(&x);
	setup(&x);
	x.p[P_ASN] = 1;
	alice_days(&x, HOME_A, 0, 10);
	alice_days(&x, EVIL, 10, 11);
	alice_days(&x, HOME_A, 11, 12);
	finish(&x);
	CHECK_EQ_INT(count(&x, ASN), 1);
	CHECK_EQ_INT(count(&x, NULL), 1);
	teardown(&x);
}

MM_TEST(without_geo_the_network_is_the_slash24)
{
	struct fx x;
	setup_geo(&x, 0);
	alice_days(&x, "203.0.113.10", 0, 10);
	/* same /24, other host: usual; another /24: new */
	call(&x, ALICE, "203.0.113.99", BOTO, "iam.amazonaws.com", "CreateUser", T0 + 10 * DAY);
	CHECK_EQ_INT(count(&x, NULL), 0);
	call(&x, ALICE, "203.0.114.1", CLI, "iam.amazonaws.com", "CreateAccessKey",
	     T0 + 10 * DAY + HOUR);
	finish(&x);
	CHECK_EQ_INT(count(&x, PERS), 2); /* CreateUser by agent, CreateAccessKey by network */
	teardown(&x);
}

/* ---- order, merge, persistence ---- */

/* The scenario every order test replays: a baseline, a stolen key's
 * burst, a login abroad while at home, an instance credential abroad. */
struct evlist {
	struct call k[256];
	int n;
};

static void ev_add(struct evlist *l, const char *who, const char *ip, const char *ua,
		   const char *src, const char *name, int ro, int64_t t)
{
	struct call *k = &l->k[l->n++];
	memset(k, 0, sizeof(*k));
	k->who = who, k->ip = ip, k->ua = ua, k->src = src, k->name = name, k->read_only = ro;
	k->t = t;
	if (strcmp(name, "ConsoleLogin") == 0) {
		k->type = "AwsConsoleSignIn";
		k->resp = "{\"ConsoleLogin\":\"Success\"}";
	}
}

static void scenario(struct evlist *l)
{
	int d, i;
	l->n = 0;
	for (d = 0; d < 12; d++) {
		int64_t t = T0 + d * DAY + 9 * HOUR;
		ev_add(l, ALICE, HOME_A, BROWSER, "signin.amazonaws.com", "ConsoleLogin", 0, t);
		ev_add(l, ALICE, HOME_A, CLI, "s3.amazonaws.com", "ListBuckets", 1, t + 60000);
		ev_add(l, ALICE, HOME_A, CLI, "ec2.amazonaws.com", "DescribeInstances", 1, t + 1000);
		ev_add(l, "role:W/i-0abc123def4567890", AWS_HOME, BOTO, "s3.amazonaws.com",
		       "ListBuckets", 1, t + 5000);
	}
	for (i = 0; i < 12; i++)
		ev_add(l, ALICE, EVIL, BOTO, "iam.amazonaws.com", reads[i], 1,
		       T0 + 10 * DAY + 9 * HOUR + 30000 + i * 1000);
	ev_add(l, ALICE, EVIL, BOTO, "iam.amazonaws.com", "CreateAccessKey", 0,
	       T0 + 10 * DAY + 9 * HOUR + 200000);
	ev_add(l, ALICE, EVIL, BROWSER, "signin.amazonaws.com", "ConsoleLogin", 0,
	       T0 + 10 * DAY + 9 * HOUR + 300000);
	ev_add(l, "role:W/i-0abc123def4567890", EVIL, BOTO, "s3.amazonaws.com", "GetObject",
	       1, T0 + 11 * DAY);
}

/* "type resource count first last info" lines, sorted, into out */
static void summary(struct mm_agg *agg, char *out, size_t cap)
{
	char lines[32][900];
	size_t i, n = mm_agg_count(agg), len = 0;
	int k, j;
	for (i = 0; i < n && i < 32; i++) {
		const struct mm_finding *f = mm_agg_at(agg, i);
		snprintf(lines[i], sizeof(lines[i]), "%s %s %llu %lld %lld %s\n", f->type,
			 f->access_key_id, (unsigned long long)f->count, (long long)f->first_seen_ms,
			 (long long)f->last_seen_ms, f->info);
	}
	for (k = 1; k < (int)n && k < 32; k++)
		for (j = k; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
			char tmp[900];
			memcpy(tmp, lines[j], sizeof(tmp));
			memcpy(lines[j], lines[j - 1], sizeof(tmp));
			memcpy(lines[j - 1], tmp, sizeof(tmp));
		}
	out[0] = '\0';
	for (i = 0; i < n && i < 32; i++)
		len += (size_t)snprintf(out + len, cap > len ? cap - len : 0, "%s", lines[i]);
}

static char ref_sum[32 * 900];

static void reference(void)
{
	struct fx x;
	struct evlist l;
	int i;
	setup(&x);
	scenario(&l);
	for (i = 0; i < l.n; i++)
		call_on(&x, x.st, &l.k[i]);
	finish(&x);
	summary(x.agg, ref_sum, sizeof(ref_sum));
	CHECK_EQ_INT(count(&x, DISC), 12);
	CHECK_EQ_INT(count(&x, PERS), 1);
	CHECK_EQ_INT(count(&x, LOGIN), 1);
	CHECK_EQ_INT(count(&x, OUTSIDE), 1);
	teardown(&x);
}

MM_TEST(out_of_order_is_the_same)
{
	static char sum[32 * 900];
	struct fx x;
	struct evlist l;
	int i;
	reference();
	setup(&x);
	scenario(&l);
	for (i = l.n - 1; i >= 0; i--) /* newest first */
		call_on(&x, x.st, &l.k[i]);
	finish(&x);
	summary(x.agg, sum, sizeof(sum));
	CHECK_EQ_STR(sum, ref_sum);
	teardown(&x);
}

/* Feed the scenario into x's state and two worker states as to() says,
 * merge the workers in (a then b, or b then a) and check the findings
 * are the single state's. */
static void merged_is_one(void *(*to)(const struct call *k, int i, void *own, void *a, void *b))
{
	static char sum[32 * 900];
	struct evlist l;
	int order, i;
	reference();
	scenario(&l);
	for (order = 0; order < 2; order++) {
		struct fx x;
		void *a, *b;
		setup(&x);
		a = DET.state_new();
		b = DET.state_new();
		for (i = 0; i < l.n; i++)
			call_on(&x, to(&l.k[i], i, x.st, a, b), &l.k[i]);
		/* the pipeline merges workers into its own state */
		CHECK_EQ_INT(DET.merge(x.st, order ? a : b), 0);
		CHECK_EQ_INT(DET.merge(x.st, order ? b : a), 0);
		DET.state_free(a);
		DET.state_free(b);
		finish(&x);
		summary(x.agg, sum, sizeof(sum));
		CHECK_EQ_STR(sum, ref_sum);
		teardown(&x);
	}
}

/* records dealt to two workers; the first merge adopts a whole state */
static void *by_record(const struct call *k, int i, void *own, void *a, void *b)
{
	return (i * 7 % 3) ? a : b;
}

/* each worker holds principals the other lacks and ones both hold, and
 * the pipeline's state already holds some: entities move, and merged
 * ones are freed, neither through the adopting shortcut */
static void *by_principal(const struct call *k, int i, void *own, void *a, void *b)
{
	if (strcmp(k->who, ALICE) == 0)
		return i % 2 ? a : own;
	return i % 5 ? b : a;
}

MM_TEST(merge_any_split_any_order)
{
	merged_is_one(by_record);
}

MM_TEST(merge_moves_absent_and_frees_merged)
{
	merged_is_one(by_principal);
}

/* Sum two scans' findings by (type, key): the store merges them so. */
MM_TEST(two_scans_equal_one)
{
	struct evlist l;
	struct mmtest_rows rows = {0};
	struct fx x1, x2, ref;
	const char *types[] = {DISC, PERS, LOGIN, OUTSIDE, NULL};
	int i, k;
	scenario(&l);
	setup(&ref);
	for (i = 0; i < l.n; i++)
		call_on(&ref, ref.st, &l.k[i]);
	DET.finish(ref.st, &ref.c);
	for (int64_t cut = T0 + 10 * DAY + 9 * HOUR + 35000; cut <= T0 + 10 * DAY + 10 * HOUR;
	     cut += 30 * 60000) {
		setup(&x1);
		setup(&x2);
		for (i = 0; i < l.n; i++)
			if (l.k[i].t < cut)
				call_on(&x1, x1.st, &l.k[i]);
		DET.finish(x1.st, &x1.c);
		CHECK_EQ_INT(DET.save(x1.st, mmtest_put_row, &rows), 0);
		CHECK(rows.n >= 3);
		for (k = 0; k < rows.n; k++)
			CHECK_EQ_INT(DET.load(x2.st, rows.entity[k], 1, rows.blob[k], rows.len[k]), 0);
		for (i = 0; i < l.n; i++)
			if (l.k[i].t >= cut)
				call_on(&x2, x2.st, &l.k[i]);
		DET.finish(x2.st, &x2.c);
		for (k = 0; types[k]; k++)
			CHECK_EQ_INT(count(&x1, types[k]) + count(&x2, types[k]), count(&ref, types[k]));
		CHECK_EQ_INT(count(&x1, NULL) + count(&x2, NULL), count(&ref, NULL));
		mmtest_rows_free(&rows);
		teardown(&x1);
		teardown(&x2);
	}
	teardown(&ref);
}

MM_TEST(attack_scanned_before_its_baseline_still_fires)
{
	/* a backfill: the day of the stolen key is scanned first (no
	 * baseline: nothing fires), its learning days in a later scan */
	struct mmtest_rows rows = {0};
	struct fx x;
	int k, reload;
	for (reload = 0; reload < 2; reload++) {
		setup(&x);
		call(&x, ALICE, EVIL, BOTO, "secretsmanager.amazonaws.com", "GetSecretValue",
		     T0 + 10 * DAY + 3 * HOUR);
		finish(&x);
		CHECK_EQ_INT(count(&x, NULL), 0);
		if (reload) {
			CHECK_EQ_INT(DET.save(x.st, mmtest_put_row, &rows), 0);
			DET.state_free(x.st);
			x.st = DET.state_new();
			for (k = 0; k < rows.n; k++)
				CHECK_EQ_INT(DET.load(x.st, rows.entity[k], DET.state_version,
						      rows.blob[k], rows.len[k]),
					     0);
			mmtest_rows_free(&rows);
		}
		alice_days(&x, HOME_A, 0, 10);
		finish(&x);
		CHECK_EQ_INT(count(&x, CRED), 1);
		CHECK_EQ_INT(count(&x, NULL), 1);
		teardown(&x);
	}
}

MM_TEST(item_cap_keeps_the_earliest)
{
	struct fx x;
	char name[32];
	int i;
	setup(&x);
	x.p[P_MAX_ITEMS] = 16;
	alice_days(&x, HOME_A, 0, 10);
	/* 40 new persistence APIs from a new network: 16 APIs are kept in all
	 * (3 baseline), so 13 fire and the rest are neither learned nor reported */
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "CreateThing%02d", i);
		call(&x, ALICE, EVIL, BOTO, "iam.amazonaws.com", name, T0 + 10 * DAY + i * 1000);
	}
	finish(&x);
	CHECK(count(&x, NULL) <= 13);
	teardown(&x);
}

/* A principal calling from more networks than its cap keeps: the same
 * stored state (and so the same profiledBehavior) whatever order the
 * records come in. Counts of a full kind are not kept (an item that was
 * out of the table for a while missed records, and which ones depends on
 * the order), so the most-seen labels of a full kind are the earliest. */
MM_TEST(capped_kind_state_is_the_same_in_any_order)
{
	struct call k[64];
	char ips[10][24];
	struct mmtest_rows rows[2] = {{0}, {0}};
	int n = 0, i, j, order, r;
	for (i = 0; i < 10; i++) {
		snprintf(ips[i], sizeof(ips[i]), "100.%d.7.9", 64 + i);
		for (j = 0; j <= i % 4; j++) {
			memset(&k[n], 0, sizeof(k[n]));
			k[n].who = ALICE, k[n].ip = ips[i], k[n].ua = CLI;
			k[n].src = "s3.amazonaws.com", k[n].name = "ListBuckets", k[n].read_only = 1;
			k[n].t = T0 + (i * 7 % 10) * HOUR + j * 60000 + (j ? (9 - i) * DAY : 0);
			n++;
		}
	}
	for (order = 0; order < 2; order++) {
		struct fx x;
		setup_geo(&x, 0);
		x.p[P_MAX_ITEMS] = 16; /* 4 networks */
		for (i = 0; i < n; i++) {
			int at = order ? n - 1 - i : (i * 7) % n;
			x.line = (uint64_t)at; /* a record is the same line in any order */
			call_on(&x, x.st, &k[at]);
		}
		finish(&x);
		CHECK_EQ_INT(DET.save(x.st, mmtest_put_row, &rows[order]), 0);
		teardown(&x);
	}
	CHECK_EQ_INT(rows[0].n, rows[1].n);
	for (r = 0; r < rows[0].n; r++) {
		int o = mmtest_row(&rows[1], rows[0].entity[r]);
		CHECK(o >= 0);
		if (o < 0)
			continue;
		CHECK_EQ_INT((int)rows[0].len[r], (int)rows[1].len[o]);
		CHECK(rows[0].len[r] == rows[1].len[o] &&
		      memcmp(rows[0].blob[r], rows[1].blob[o], rows[0].len[r]) == 0);
	}
	mmtest_rows_free(&rows[0]);
	mmtest_rows_free(&rows[1]);
}

MM_TEST(hostile_blobs)
{
	struct fx x;
	struct mmtest_rows bl = {0};
	struct evlist l;
	unsigned char *m;
	size_t i, n;
	int k;
	setup(&x);
	scenario(&l);
	for (k = 0; k < l.n - 3; k++)
		call_on(&x, x.st, &l.k[k]);
	CHECK_EQ_INT(DET.save(x.st, mmtest_put_row, &bl), 0);
	CHECK(bl.n >= 2);
	for (k = 0; k < bl.n; k++) {
		n = bl.len[k];
		m = malloc(n + 8);
		for (i = 0; i < n; i++)
			CHECK(DET.load(x.st, bl.entity[k], 1, bl.blob[k], i) != 0);
		CHECK(DET.load(x.st, bl.entity[k], 2, bl.blob[k], n) != 0);
		CHECK(DET.load(x.st, "", 1, bl.blob[k], n) != 0);
		CHECK(DET.load(x.st, "x|arn", 1, bl.blob[k], n) != 0);
		memcpy(m, bl.blob[k], n);
		m[0] = 'X';
		CHECK(DET.load(x.st, bl.entity[k], 1, m, n) != 0);
		memcpy(m, bl.blob[k], n);
		memset(m + 4, 0xff, 8); /* tmin > tmax */
		CHECK(DET.load(x.st, bl.entity[k], 1, m, n) != 0);
		CHECK_EQ_INT(DET.load(x.st, bl.entity[k], 1, bl.blob[k], n), 0);
		for (i = 0; i < n; i++) {
			memcpy(m, bl.blob[k], n);
			m[i] ^= 0xa5;
			(void)DET.load(x.st, "p|flip", 1, m, n);
			(void)DET.load(x.st, "i|flip", 1, m, n);
		}
		free(m);
	}
	finish(&x); /* whatever loaded, judging it is safe */
	mmtest_rows_free(&bl);
	teardown(&x);
}
