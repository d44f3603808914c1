/* test_sequence.c - attack sequences (src/detect/sequence.c): a full
 * chain fires once with its members and signals in order; partial
 * chains, a security tool's hourly listing, an admin's user creation and
 * chains spread past the window do not; each param's edge; assumed-role
 * sessions; events out of order; two scans = one scan (save/load); merge
 * order; hostile state blobs; the rendered service.detection.sequence.
 *
 * Member findings are put into the batch's table directly, as the other
 * detectors' mm_emit would (some of their types are built elsewhere:
 * the test sets what an AccessKey finding carries by hand). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "detect/detect.h"
#include "finding/output.h"
#include "mmtest.h"

#define T0 1714557600000LL /* 2024-05-01T10:00:00Z, ms */
#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
#define ACCT "123456789012"
#define ALICE "AIDAEXAMPLEALICE00001"
#define ALICE_KEY "AKIAEXAMPLEALICE0001"
#define SEQ "AttackSequence:IAM/CompromisedCredentials"

enum { P_WINDOW, P_MIN_STAGES, P_MIN_FSTAGES, P_ANCHOR, P_RETENTION };

struct fixture {
	struct mm_agg *agg;	/* the batch's findings */
	struct mm_agg *store;	/* what flushes wrote (merged by key) */
	struct mm_detect_ctx d;
	struct mm_file_ctx fc;
	double p[MM_PARAMS_MAX];
	void *st;
	uint64_t line;
};

static const struct mm_detector_def *det(void)
{
	return &mm_det_sequence;
}

static void setup(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	CHECK_EQ_INT(mm_agg_new(&fx->agg, 1000), 0);
	CHECK_EQ_INT(mm_agg_new(&fx->store, 1000), 0);
	fx->d.agg = fx->agg;
	mm_file_ctx_from_path(&fx->fc, "t/AWSLogs/" ACCT "/CloudTrail/us-east-1/x.json");
	fx->d.file = &fx->fc;
	mm_detector_defaults(det(), fx->p);
	fx->d.params = fx->p;
	fx->st = det()->state_new();
	CHECK(fx->st != NULL);
}

static void teardown(struct fixture *fx)
{
	det()->state_free(fx->st);
	mm_agg_free(fx->agg);
	mm_agg_free(fx->store);
}

struct who {
	const char *type, *pid, *key, *user;
	const char *ip;	/* where the calls (and findings) come from */
};
#define BAD_IP "203.0.113.9"
static const struct who alice = {"IAMUser", ALICE, ALICE_KEY, "alice", BAD_IP};
/* the same user at work: her own address */
static const struct who alice_office = {"IAMUser", ALICE, ALICE_KEY, "alice", "198.51.100.20"};

/* One CloudTrail call by w into state st. */
static void call_into(struct fixture *fx, void *st, const struct who *w, const char *src,
		      const char *name, int64_t t, int ro)
{
	struct mm_event ev;
	struct mm_api *a = &ev.u.api;
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_API;
	ev.loc.file = "t/x.json";
	ev.loc.line = ++fx->line;
	a->time_ms = t;
	a->event_source = mm_str_c(src);
	a->event_name = mm_str_c(name);
	a->account = mm_str_c(ACCT);
	a->region = mm_str_c("us-east-1");
	a->read_only = ro;
	a->who.type = mm_str_c(w->type);
	a->who.principal_id = mm_str_c(w->pid);
	a->who.access_key_id = mm_str_c(w->key);
	a->who.user_name = mm_str_c(w->user);
	a->who.account_id = mm_str_c(ACCT);
	a->source_ip_raw = mm_str_c(w->ip);
	a->has_source_ip = mm_ip_parse(w->ip, strlen(w->ip), &a->source_ip) == 0;
	det()->on_event(st, &fx->d, &ev);
}

static void call(struct fixture *fx, const struct who *w, const char *src, const char *name,
		 int64_t t, int ro)
{
	call_into(fx, fx->st, w, src, name, t, ro);
}

/* A finding of type on w's key from first to last, as another detector
 * would have emitted it in this batch, its evidence the record at line
 * of the file being scanned. */
static void member_at(struct fixture *fx, const struct who *w, const char *type, double sev,
		      int64_t first, int64_t last, uint64_t line)
{
	int created;
	struct mm_finding *f = mm_agg_get(fx->agg, type, ACCT, w->key, strlen(w->key), "", &created);
	CHECK(f != NULL);
	if (!f)
		return;
	f->res_type = MM_RES_ACCESSKEY;
	f->action = MM_ACTION_AWS_API_CALL;
	snprintf(f->access_key_id, sizeof(f->access_key_id), "%s", w->key);
	f->severity = sev;
	f->count += 1;
	if (created || first < f->first_seen_ms)
		f->first_seen_ms = first;
	if (last > f->last_seen_ms)
		f->last_seen_ms = last;
	snprintf(f->principal_id, sizeof(f->principal_id), "%s", w->pid);
	snprintf(f->user_name, sizeof(f->user_name), "%s", w->user);
	snprintf(f->user_type, sizeof(f->user_type), "%s", w->type);
	snprintf(f->region, sizeof(f->region), "us-east-1");
	mm_ip_parse(w->ip, strlen(w->ip), &f->remote_ip);
	f->has_remote_ip = 1;
	mm_finding_add_evidence(f, fx->fc.rel, line, 0, first);
}

/* The same on a record of its own. */
static void member(struct fixture *fx, const struct who *w, const char *type, double sev,
		   int64_t first, int64_t last)
{
	member_at(fx, w, type, sev, first, last, ++fx->line);
}

/* The flush: finish on the state, then the batch's findings go to the
 * store (merged by key, as the store does) and the batch is cleared. */
static void flush_state(struct fixture *fx, void *st)
{
	size_t i;
	det()->finish(st, &fx->d);
	for (i = 0; i < mm_agg_count(fx->agg); i++) {
		struct mm_finding *f = mm_agg_at(fx->agg, i);
		mm_finding_make_id(f);
		CHECK_EQ_INT(mm_agg_merge(fx->store, f), 0);
	}
	mm_agg_clear(fx->agg);
}

static void flush(struct fixture *fx)
{
	flush_state(fx, fx->st);
}

/* The stored sequence findings: how many, the first in *out. */
static int sequences(struct fixture *fx, const struct mm_finding **out)
{
	size_t i;
	int n = 0;
	*out = NULL;
	for (i = 0; i < mm_agg_count(fx->store); i++) {
		const struct mm_finding *f = mm_agg_at(fx->store, i);
		if (strcmp(f->type, SEQ))
			continue;
		if (!n++)
			*out = f;
	}
	return n;
}

/* The chain of the golden case: a listed caller's ListUsers and
 * DescribeInstances (Recon...IPCaller), StopLogging and CreateAccessKey
 * (UnauthorizedAccess...IPCaller), within 40 minutes. */
static void full_chain(struct fixture *fx, const struct who *w, int64_t t0)
{
	call(fx, w, "iam.amazonaws.com", "ListUsers", t0, 1);
	call(fx, w, "ec2.amazonaws.com", "DescribeInstances", t0 + 5 * MIN, 1);
	call(fx, w, "cloudtrail.amazonaws.com", "StopLogging", t0 + 20 * MIN, 0);
	call(fx, w, "iam.amazonaws.com", "CreateAccessKey", t0 + 40 * MIN, 0);
	member(fx, w, "Recon:IAMUser/MaliciousIPCaller", 5, t0, t0 + 5 * MIN);
	member(fx, w, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5, t0 + 20 * MIN,
	       t0 + 40 * MIN);
}

/* ---- the positive ------------------------------------------------------- */

MM_TEST(full_chain_fires_once_with_members_and_signals_in_order)
{
	struct fixture fx;
	const struct mm_finding *f;
	static const char *const want[] = {
		"FINDING",	     "iam:ListUsers",		"ec2:DescribeInstances",
		"FINDING",	     "cloudtrail:StopLogging", "iam:CreateAccessKey",
	};
	int i;

	setup(&fx);
	full_chain(&fx, &alice, T0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	if (!f)
		goto out;
	CHECK(f->severity == 9.0);
	CHECK_EQ_INT((int)f->count, 6); /* 2 findings + 4 API signals */
	CHECK(f->first_seen_ms == T0 && f->last_seen_ms == T0 + 40 * MIN);
	CHECK_EQ_STR(f->access_key_id, ALICE); /* keyed by the principal */
	CHECK_EQ_STR(f->principal_id, ALICE);
	CHECK_EQ_STR(f->user_name, "alice");
	CHECK_EQ_STR(f->seq.cred, ALICE_KEY);
	CHECK_EQ_INT(f->seq.nsig, 6);
	for (i = 0; i < 6 && i < f->seq.nsig; i++) {
		const struct mm_seq_signal *g = &f->seq.sig[i];
		if (!strcmp(want[i], "FINDING"))
			CHECK_EQ_INT(g->kind, MM_SEQ_FINDING);
		else
			CHECK_EQ_STR(g->name, want[i]);
		if (i)
			CHECK(g->first_ms >= f->seq.sig[i - 1].first_ms);
	}
	CHECK(mm_ftype_by_hash(f->seq.sig[0].thash) &&
	      !strcmp(mm_ftype_by_hash(f->seq.sig[0].thash)->type, "Recon:IAMUser/MaliciousIPCaller"));
	CHECK(strstr(f->info, "\"sequenceStages\":[\"InitialAccess\",\"Discovery\","
			      "\"DefenseEvasion\",\"Persistence\"]") != NULL);
	/* nothing new: the next flush adds nothing */
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	CHECK_EQ_INT((int)f->count, 6);
	/* one more harmful call joins the story: the same finding grows */
	call(&fx, &alice, "iam.amazonaws.com", "AttachUserPolicy", T0 + 50 * MIN, 0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	CHECK_EQ_INT((int)f->count, 7);
	CHECK(f->last_seen_ms == T0 + 50 * MIN);
	/* a member seen again later: nothing new to count, but the story's
	 * times and the member's count follow */
	member(&fx, &alice, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5, T0 + 55 * MIN,
	       T0 + 55 * MIN);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	CHECK_EQ_INT((int)f->count, 7);
	CHECK(f->last_seen_ms == T0 + 55 * MIN);
	CHECK(f->seq.nsig > 3 && f->seq.sig[3].kind == MM_SEQ_FINDING && f->seq.sig[3].count == 2);
out:
	teardown(&fx);
}

MM_TEST(rendered_as_guardduty_sequence)
{
	struct fixture fx;
	const struct mm_finding *f;
	struct mm_buf b;
	char *p;

	setup(&fx);
	full_chain(&fx, &alice, T0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(f, NULL, &b), 0);
	p = b.p;
	CHECK(p && strstr(p, "\"resource\":{\"resourceType\":\"AttackSequence\"}"));
	CHECK(p && strstr(p, "\"featureName\":\"Correlation\""));
	CHECK(p && strstr(p, "\"detection\":{\"sequence\":{\"uid\":"));
	CHECK(p && !strstr(p, "\"action\":"));
	CHECK(p && strstr(p, "\"actors\":[{\"id\":\"alice\",\"user\":{\"name\":\"alice\",\"uid\":\"" ALICE
			      "\",\"type\":\"IAMUser\",\"credentialUid\":\"" ALICE_KEY "\""));
	CHECK(p && strstr(p, "\"name\":\"Recon:IAMUser/MaliciousIPCaller\""));
	CHECK(p && strstr(p, "{\"key\":\"ATTACK_TACTIC\",\"values\":[\"Initial Access\",\"Discovery\","
			      "\"Defense Evasion\",\"Persistence\"]}"));
	CHECK(p && strstr(p, "{\"key\":\"HIGH_RISK_API\",\"values\":[\"cloudtrail:StopLogging\","
			      "\"iam:CreateAccessKey\"]}"));
	CHECK(p && strstr(p, "\"title\":\"Potential credential compromise of IAMUser/alice indicated "
			      "by a sequence of actions.\""));
	CHECK(p && strstr(p, "\"severity\":9,"));
	/* valid JSON */
	{
		struct mm_json_val v;
		size_t used = 0;
		CHECK_EQ_INT(mm_json_value(p, b.len, &v, &used), 0);
		CHECK(used == b.len && v.type == MM_JSON_OBJECT);
	}
	CHECK(!strcmp(mm_severity_label(f->severity), "Critical"));
	mm_buf_free(&b);
	teardown(&fx);
}

/* ---- look-alikes and edges ---------------------------------------------- */

MM_TEST(partial_chain_of_two_stages_does_not_fire)
{
	struct fixture fx;
	const struct mm_finding *f;
	setup(&fx);
	/* a listed caller that only looks around: access + discovery */
	call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0, 1);
	call(&fx, &alice, "ec2.amazonaws.com", "DescribeInstances", T0 + MIN, 1);
	member(&fx, &alice, "Recon:IAMUser/MaliciousIPCaller", 5, T0, T0 + MIN);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	/* a third stage the next day, 30 hours on: still no window of 3 */
	call(&fx, &alice, "cloudtrail.amazonaws.com", "StopLogging", T0 + 30 * HOUR, 0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	teardown(&fx);
}

MM_TEST(security_tool_listing_everything_hourly_does_not_fire)
{
	static const char *const apis[] = {"ListUsers", "ListRoles", "ListPolicies", "GetAccountSummary",
					   "ListBuckets", "DescribeInstances", "DescribeSecurityGroups",
					   "DescribeTrails", "GetDetector", "ListAccessKeys"};
	static const char *const src[] = {"iam", "iam", "iam", "iam", "s3", "ec2", "ec2",
					  "cloudtrail", "guardduty", "iam"};
	struct who tool = {"AssumedRole", "AROAEXAMPLESECTOOL001:scanner", "ASIAEXAMPLESECTOOL01",
			   "SecurityAudit", BAD_IP};
	struct fixture fx;
	const struct mm_finding *f;
	char s[64];
	int h, i;
	setup(&fx);
	for (h = 0; h < 72; h++)
		for (i = 0; i < 10; i++) {
			snprintf(s, sizeof(s), "%s.amazonaws.com", src[i]);
			call(&fx, &tool, s, apis[i], T0 + h * HOUR + i * 1000, 1);
		}
	/* even from a listed address with an anomaly finding on it (two
	 * finding stages): nothing harmful was done */
	member(&fx, &tool, "Discovery:IAMUser/AnomalousBehavior", 2, T0, T0);
	member(&fx, &tool, "Recon:IAMUser/MaliciousIPCaller", 5, T0 + HOUR, T0 + HOUR);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	teardown(&fx);
}

MM_TEST(admin_creating_a_user_does_not_fire)
{
	struct fixture fx;
	const struct mm_finding *f;
	setup(&fx);
	/* discovery, persistence, privilege escalation: 3 stages of signals */
	call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0, 1);
	call(&fx, &alice, "iam.amazonaws.com", "CreateUser", T0 + MIN, 0);
	call(&fx, &alice, "iam.amazonaws.com", "CreateAccessKey", T0 + 2 * MIN, 0);
	call(&fx, &alice, "iam.amazonaws.com", "AttachUserPolicy", T0 + 3 * MIN, 0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0); /* signals alone never fire */
	/* a Policy finding (root-like routine) is not a member */
	member(&fx, &alice, "Policy:IAMUser/RootCredentialUsage", 2, T0, T0 + 3 * MIN);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	/* one Low finding (logging off during maintenance): no anchor */
	call(&fx, &alice, "cloudtrail.amazonaws.com", "StopLogging", T0 + 4 * MIN, 0);
	member(&fx, &alice, "Stealth:IAMUser/CloudTrailLoggingDisabled", 2, T0 + 4 * MIN,
	       T0 + 4 * MIN);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	teardown(&fx);
}

MM_TEST(one_listed_call_and_routine_office_work_do_not_fire)
{
	/* a VPN exit on a threat list once; the rest of the day she works
	 * from the office: list, create a user, attach a policy, stop a
	 * trail. Those calls are not the listed caller's: no story */
	struct fixture fx;
	const struct mm_finding *f;
	setup(&fx);
	call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0, 1);
	member(&fx, &alice, "Recon:IAMUser/MaliciousIPCaller", 5, T0, T0);
	call(&fx, &alice_office, "iam.amazonaws.com", "ListUsers", T0 + HOUR, 1);
	call(&fx, &alice_office, "iam.amazonaws.com", "CreateUser", T0 + 2 * HOUR, 0);
	call(&fx, &alice_office, "iam.amazonaws.com", "AttachUserPolicy", T0 + 2 * HOUR, 0);
	call(&fx, &alice_office, "cloudtrail.amazonaws.com", "StopLogging", T0 + 3 * HOUR, 0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	/* the same calls from the listed address: the story */
	call(&fx, &alice, "iam.amazonaws.com", "CreateUser", T0 + 4 * HOUR, 0);
	call(&fx, &alice, "cloudtrail.amazonaws.com", "StopLogging", T0 + 4 * HOUR, 0);
	member(&fx, &alice, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5, T0 + 4 * HOUR,
	       T0 + 4 * HOUR);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	if (f) /* 2 members; ListUsers, CreateUser and StopLogging from it */
		CHECK_EQ_INT((int)f->count, 5);
	teardown(&fx);
}

MM_TEST(listed_callers_single_stoplogging_is_not_a_story)
{
	/* one call, two findings (the caller is listed; logging stopped):
	 * initial access says who, so the findings make one stage */
	struct fixture fx;
	const struct mm_finding *f;
	setup(&fx);
	call(&fx, &alice, "cloudtrail.amazonaws.com", "StopLogging", T0, 0);
	member(&fx, &alice, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5, T0, T0);
	member(&fx, &alice, "Stealth:IAMUser/CloudTrailLoggingDisabled", 2, T0, T0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	/* a look around from the same address makes the third stage */
	call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0 + HOUR, 1);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	teardown(&fx);
}

MM_TEST(two_findings_of_two_stages_fire)
{
	/* the story: discovery anomaly, then CloudTrail stopped;
	 * with min_finding_stages 3 the same is not enough */
	struct fixture fx;
	const struct mm_finding *f;
	int k;
	for (k = 0; k < 2; k++) {
		setup(&fx);
		if (k)
			fx.p[P_MIN_FSTAGES] = 3;
		call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0, 1);
		call(&fx, &alice, "cloudtrail.amazonaws.com", "StopLogging", T0 + 3 * HOUR, 0);
		member(&fx, &alice, "Discovery:IAMUser/AnomalousBehavior", 2, T0, T0);
		member(&fx, &alice, "Stealth:IAMUser/CloudTrailLoggingDisabled", 2, T0 + 3 * HOUR,
		       T0 + 3 * HOUR);
		flush(&fx);
		CHECK_EQ_INT(sequences(&fx, &f), k ? 0 : 1);
		if (f)
			CHECK_EQ_INT((int)f->count, 4);
		teardown(&fx);
	}
}

MM_TEST(one_call_matching_rules_of_several_tactics_is_not_a_story)
{
	/* a failed console login that two Sigma rules match (one tagged
	 * privilege escalation, one credential access): three stages, two
	 * findings past initial access, all from one call. A second call,
	 * a policy attached a minute later, makes the story: the first is
	 * one stage, the second another. */
	struct fixture fx;
	const struct mm_finding *f;
	uint64_t line;
	setup(&fx);
	call(&fx, &alice, "signin.amazonaws.com", "ConsoleLogin", T0, 0);
	line = fx.line;
	member_at(&fx, &alice, "PrivilegeEscalation:IAMUser/SigmaRule", 5, T0, T0, line);
	member_at(&fx, &alice, "CredentialAccess:IAMUser/SigmaRule", 5, T0, T0, line);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	/* the rule matching again on a record of its own: two calls */
	member(&fx, &alice, "PrivilegeEscalation:IAMUser/SigmaRule", 5, T0 + MIN, T0 + MIN);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	if (f)
		CHECK_EQ_INT((int)f->count, 3);	/* two findings, one signal */
	teardown(&fx);

	/* with API signals making up the stages: one call raising an
	 * anchoring finding and showing two tactics is still one call */
	setup(&fx);
	call(&fx, &alice, "signin.amazonaws.com", "ConsoleLogin", T0, 0);
	member_at(&fx, &alice, "CredentialAccess:IAMUser/SigmaRule", 5, T0, T0, fx.line);
	member_at(&fx, &alice, "InitialAccess:IAMUser/SigmaRule", 5, T0, T0, fx.line);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	/* a look around makes two calls of three stages: still short of
	 * three calls */
	call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0 + MIN, 1);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	/* a third call of a third stage completes it */
	call(&fx, &alice, "iam.amazonaws.com", "CreateAccessKey", T0 + 2 * MIN, 0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	teardown(&fx);
}

MM_TEST(low_level_sigma_rules_make_no_stage)
{
	/* an instance role's key used outside AWS (High, initial access)
	 * looks around (a discovery signal) and calls AttachUserPolicy,
	 * which a low-level community rule tags privilege escalation (one
	 * that matches every role session's calls): no harmful stage but
	 * that rule's, so no story. At level medium the same rule is a
	 * member and the story fires. */
	struct fixture fx;
	const struct mm_finding *f;
	int k;
	for (k = 0; k < 2; k++) {
		setup(&fx);
		call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0, 1);
		call(&fx, &alice, "iam.amazonaws.com", "GetAccountSummary", T0 + MIN, 1);
		member(&fx, &alice, "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
		       8, T0, T0 + MIN);
		member(&fx, &alice, "PrivilegeEscalation:IAMUser/SigmaRule", k ? 5 : 2, T0 + 2 * MIN,
		       T0 + 2 * MIN);
		flush(&fx);
		CHECK_EQ_INT(sequences(&fx, &f), k);
		teardown(&fx);
	}
}

MM_TEST(params_edges_window_stages_anchor)
{
	struct fixture fx;
	const struct mm_finding *f;
	int k;
	/* spread: 13 hours between steps, 26 from first to last */
	for (k = 0; k < 5; k++) {
		setup(&fx);
		if (k == 1)
			fx.p[P_WINDOW] = 26; /* the whole chain in one window */
		if (k == 2)
			fx.p[P_MIN_STAGES] = 5; /* 4 stages are not 5 */
		if (k == 3)
			fx.p[P_ANCHOR] = 6; /* the member's 5 is below */
		if (k == 4)
			fx.p[P_ANCHOR] = 5; /* the member's 5 is at it */
		member(&fx, &alice, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5, T0,
		       T0 + 26 * HOUR);
		call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0, 1);
		call(&fx, &alice, "cloudtrail.amazonaws.com", "StopLogging", T0 + 13 * HOUR, 0);
		call(&fx, &alice, "iam.amazonaws.com", "CreateAccessKey", T0 + 26 * HOUR, 0);
		flush(&fx);
		/* default 24 h: ListUsers+StopLogging (3 stages with the
		 * member) in one window, so it fires; not ListUsers and
		 * CreateAccessKey together */
		switch (k) {
		case 0:
		case 4:
			CHECK_EQ_INT(sequences(&fx, &f), 1);
			/* every item is in some firing window: 1 + 3 */
			if (f)
				CHECK_EQ_INT((int)f->count, 4);
			break;
		case 1:
			CHECK_EQ_INT(sequences(&fx, &f), 1);
			break;
		default:
			CHECK_EQ_INT(sequences(&fx, &f), 0);
		}
		teardown(&fx);
	}
	/* 25 hours apart and nothing between: never 3 stages in 24 h */
	setup(&fx);
	member(&fx, &alice, "Recon:IAMUser/MaliciousIPCaller", 5, T0, T0);
	call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0, 1);
	call(&fx, &alice, "cloudtrail.amazonaws.com", "StopLogging", T0 + 25 * HOUR, 0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 0);
	teardown(&fx);
}

MM_TEST(assumed_role_sessions_key_by_principal_not_by_temporary_key)
{
	/* an instance role's session (session name = instance id) renews
	 * its ASIA key; its credentials used elsewhere: one story */
	struct who s1 = {"AssumedRole", "AROAEXAMPLEAPPROLE001:i-0abc", "ASIAEXAMPLESESSION01", "app", BAD_IP};
	struct who s2 = {"AssumedRole", "AROAEXAMPLEAPPROLE001:i-0abc", "ASIAEXAMPLESESSION02", "app", BAD_IP};
	struct who s3 = {"AssumedRole", "AROAEXAMPLEAPPROLE001:i-0abc", "ASIAEXAMPLESESSION03", "app", BAD_IP};
	/* the same role on another instance: another principal */
	struct who other = {"AssumedRole", "AROAEXAMPLEAPPROLE001:i-0def", "ASIAEXAMPLESESSION09",
			    "app", BAD_IP};
	struct fixture fx;
	const struct mm_finding *f;
	setup(&fx);
	member(&fx, &s1, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5, T0, T0);
	call(&fx, &s2, "iam.amazonaws.com", "ListRoles", T0 + MIN, 1);
	call(&fx, &s3, "iam.amazonaws.com", "CreateUser", T0 + 2 * HOUR, 0);
	call(&fx, &other, "iam.amazonaws.com", "ListRoles", T0, 1);
	call(&fx, &other, "iam.amazonaws.com", "CreateUser", T0, 0);
	member(&fx, &other, "Discovery:IAMUser/AnomalousBehavior", 2, T0, T0);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	if (f) {
		CHECK_EQ_STR(f->access_key_id, "AROAEXAMPLEAPPROLE001");
		CHECK_EQ_STR(f->disc, "i-0abc");
		CHECK_EQ_STR(f->principal_id, "AROAEXAMPLEAPPROLE001:i-0abc");
		CHECK_EQ_STR(f->user_type, "AssumedRole");
		CHECK_EQ_INT((int)f->count, 3);
	}
	teardown(&fx);
}

/* ---- order, scans, merges ------------------------------------------------ */

/* The stored sequence as comparable text: count, times, signals. */
static void digest(struct fixture *fx, char *out, size_t cap)
{
	const struct mm_finding *f;
	size_t k = 0;
	int i, n = sequences(fx, &f);
	k += (size_t)snprintf(out + k, cap - k, "n=%d", n);
	if (!f)
		return;
	k += (size_t)snprintf(out + k, cap - k, " c=%llu %lld-%lld ev=%d", (unsigned long long)f->count,
			      (long long)f->first_seen_ms, (long long)f->last_seen_ms, f->nevidence);
	for (i = 0; i < f->seq.nsig && k < cap; i++)
		k += (size_t)snprintf(out + k, cap - k, " [%s %u %lld %lld]", f->seq.sig[i].name,
				      f->seq.sig[i].count, (long long)f->seq.sig[i].first_ms,
				      (long long)f->seq.sig[i].last_ms);
	if (k < cap)
		snprintf(out + k, cap - k, " %s", f->info);
}

struct step {
	int kind; /* 0 call, 1 member */
	const char *src, *name;
	int64_t t, t2;
	int ro;
};
static const struct step story[] = {
	{0, "iam.amazonaws.com", "ListUsers", T0, 0, 1},
	{0, "iam.amazonaws.com", "ListUsers", T0 + 2 * MIN, 0, 1},
	{0, "ec2.amazonaws.com", "DescribeInstances", T0 + 5 * MIN, 0, 1},
	{1, NULL, "Recon:IAMUser/MaliciousIPCaller", T0, T0 + 5 * MIN, 0},
	{0, "cloudtrail.amazonaws.com", "StopLogging", T0 + 20 * MIN, 0, 0},
	{0, "guardduty.amazonaws.com", "UpdateDetector", T0 + 22 * MIN, 0, 0},
	{1, NULL, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", T0 + 20 * MIN, T0 + 40 * MIN, 0},
	{0, "iam.amazonaws.com", "CreateAccessKey", T0 + 40 * MIN, 0, 0},
	{0, "s3.amazonaws.com", "PutBucketPolicy", T0 + 3 * HOUR, 0, 0},
};
#define NSTEP ((int)(sizeof(story) / sizeof(story[0])))

static void step_into(struct fixture *fx, void *st, int i)
{
	const struct step *s = &story[i];
	if (s->kind)
		member(fx, &alice, s->name, 5, s->t, s->t2);
	else
		call_into(fx, st, &alice, s->src, s->name, s->t, s->ro);
}

MM_TEST(events_out_of_order_give_the_same_finding)
{
	struct fixture a, b;
	char da[2048], db[2048];
	int i;
	setup(&a);
	for (i = 0; i < NSTEP; i++)
		step_into(&a, a.st, i);
	flush(&a);
	digest(&a, da, sizeof(da));
	setup(&b);
	for (i = NSTEP - 1; i >= 0; i--)
		step_into(&b, b.st, i);
	flush(&b);
	digest(&b, db, sizeof(db));
	CHECK(strstr(da, "n=1 c=8 ") == da);
	CHECK_EQ_STR(db, da);
	teardown(&a);
	teardown(&b);
}

/* Save st into rows, then a fresh state loaded from them. */
static void *reload(void *st)
{
	struct mmtest_rows r;
	void *n = det()->state_new();
	int i;
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(det()->save(st, mmtest_put_row, &r), 0);
	CHECK_EQ_INT(r.n, 16);
	for (i = 0; i < r.n; i++)
		CHECK_EQ_INT(det()->load(n, r.entity[i], det()->state_version, r.blob[i], r.len[i]), 0);
	mmtest_rows_free(&r);
	det()->state_free(st);
	return n;
}

MM_TEST(two_scans_equal_one_scan)
{
	struct fixture one, two;
	char d1[2048], d2[2048];
	int cut, i;

	setup(&one);
	for (i = 0; i < NSTEP; i++)
		step_into(&one, one.st, i);
	flush(&one);
	digest(&one, d1, sizeof(d1));
	/* every split point: scan 1 is steps [0, cut), saved, loaded, then
	 * scan 2 the rest (the sequence may fire in the first already) */
	for (cut = 1; cut < NSTEP; cut++) {
		setup(&two);
		for (i = 0; i < cut; i++)
			step_into(&two, two.st, i);
		flush(&two);
		two.st = reload(two.st);
		for (i = cut; i < NSTEP; i++)
			step_into(&two, two.st, i);
		flush(&two);
		digest(&two, d2, sizeof(d2));
		if (strcmp(d1, d2))
			fprintf(stderr, "  cut %d:\n    %s\n    %s\n", cut, d1, d2);
		CHECK_EQ_STR(d2, d1);
		teardown(&two);
	}
	teardown(&one);
}

MM_TEST(merge_order_does_not_matter)
{
	struct fixture fx[2];
	char d[2][2048];
	int k, i;
	for (k = 0; k < 2; k++) {
		void *w[2];
		setup(&fx[k]);
		w[0] = det()->state_new();
		w[1] = det()->state_new();
		/* the calls split between two workers, alternately */
		for (i = 0; i < NSTEP; i++)
			if (story[i].kind)
				step_into(&fx[k], fx[k].st, i);
			else
				step_into(&fx[k], w[i % 2], i);
		CHECK_EQ_INT(det()->merge(fx[k].st, w[k]), 0);
		CHECK_EQ_INT(det()->merge(fx[k].st, w[!k]), 0);
		det()->state_free(w[0]);
		det()->state_free(w[1]);
		flush(&fx[k]);
		digest(&fx[k], d[k], sizeof(d[k]));
	}
	CHECK(strstr(d[0], "n=1 c=8 ") == d[0]);
	CHECK_EQ_STR(d[1], d[0]);
	teardown(&fx[0]);
	teardown(&fx[1]);
}

MM_TEST(bounds_hit_gracefully)
{
	struct fixture fx;
	const struct mm_finding *f;
	char name[32];
	int i;
	setup(&fx);
	/* far more APIs than a principal keeps, then the chain */
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "DescribeThing%03d", i);
		call(&fx, &alice, "ec2.amazonaws.com", name, T0 - 2 * HOUR + i * 1000, 1);
	}
	full_chain(&fx, &alice, T0);
	for (i = 0; i < 40; i++) {
		char ty[64];
		snprintf(ty, sizeof(ty), "Impact:IAMUser/Thing%02d", i);
		member(&fx, &alice, ty, 5, T0 + 50 * MIN + i, T0 + 50 * MIN + i);
	}
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	if (f)
		CHECK(f->seq.nsig == MM_SEQ_SIGNALS_MAX);
	teardown(&fx);
}

/* Weeks of a principal's routine after its attack, all in the batch that
 * finish judges once (a month of CloudTrail in one scan): the attack's
 * signals must outlast the routine's, one discovery day after another,
 * past the 32 a principal used to keep. Negative: the routine alone. */
/* alice's office routine on days d0..d1: four reads at the given hour */
static void office_days(struct fixture *fx, int d0, int d1, int64_t at)
{
	static const char *const reads[] = {"ListBuckets", "GetBucketPolicy", "DescribeVpcs",
					    "DescribeSecurityGroups"};
	int d, k;
	for (d = d0; d <= d1; d++)
		for (k = 0; k < 4; k++)
			call(fx, &alice_office, k < 2 ? "s3.amazonaws.com" : "ec2.amazonaws.com",
			     reads[k], T0 + d * 24 * HOUR + at + k * MIN, 1);
}

MM_TEST(long_batch_keeps_the_early_story)
{
	struct fixture fx;
	const struct mm_finding *f;
	int attack;
	for (attack = 1; attack >= 0; attack--) {
		setup(&fx);
		if (attack)
			full_chain(&fx, &alice, T0);
		office_days(&fx, 1, 60, 0);
		flush(&fx);
		CHECK_EQ_INT(sequences(&fx, &f), attack);
		teardown(&fx);
	}
}

/* As above, where the attacker's one discovery call shares its day with
 * the office's routine discovery, and is the oldest signal of that stage
 * and window when the list is full: it may go, but its address joins the
 * office signal's, so the window's discovery stage still links to the
 * findings and the story keeps it. */
MM_TEST(long_batch_keeps_the_linked_signal_of_a_shared_day)
{
	struct fixture fx;
	const struct mm_finding *f;
	setup(&fx);
	call(&fx, &alice, "iam.amazonaws.com", "ListUsers", T0, 1);
	call(&fx, &alice, "iam.amazonaws.com", "CreateAccessKey", T0 + 10 * MIN, 0);
	member(&fx, &alice, "Recon:IAMUser/MaliciousIPCaller", 5, T0, T0);
	member(&fx, &alice, "UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5, T0 + 10 * MIN,
	       T0 + 10 * MIN);
	office_days(&fx, 0, 60, 2 * HOUR);
	flush(&fx);
	CHECK_EQ_INT(sequences(&fx, &f), 1);
	teardown(&fx);
}

MM_TEST(findings_spilled_mid_batch_still_count)
{
	/* the engine spills a full table mid-batch: on_spill reads it first
	 * (into a worker's state, merged at the flush), and a finding seen
	 * in parts adds up to the same as seen whole */
	struct fixture a, b;
	char da[2048], db[2048];
	void *w;
	int i;
	setup(&a);
	for (i = 0; i < NSTEP; i++)
		step_into(&a, a.st, i);
	setup(&b);
	w = det()->state_new();
	for (i = 0; i < NSTEP; i++) {
		step_into(&b, w, i);
		if (i == 3 || i == 6) {
			size_t k;
			CHECK(det()->on_spill != NULL);
			det()->on_spill(w, &b.d);
			for (k = 0; k < mm_agg_count(b.agg); k++) {
				struct mm_finding *f = mm_agg_at(b.agg, k);
				mm_finding_make_id(f);
				CHECK_EQ_INT(mm_agg_merge(b.store, f), 0);
			}
			mm_agg_clear(b.agg);
		}
	}
	/* one more part of the first member after the spill */
	member(&b, &alice, "Recon:IAMUser/MaliciousIPCaller", 5, T0 + MIN, T0 + MIN);
	member(&a, &alice, "Recon:IAMUser/MaliciousIPCaller", 5, T0 + MIN, T0 + MIN);
	flush(&a); /* one batch, no spill */
	digest(&a, da, sizeof(da));
	CHECK_EQ_INT(det()->merge(b.st, w), 0);
	det()->state_free(w);
	flush(&b);
	digest(&b, db, sizeof(db));
	CHECK_EQ_STR(db, da);
	teardown(&a);
	teardown(&b);
}

/* ---- hostile state ------------------------------------------------------- */

static int load_one(const void *blob, size_t n)
{
	void *st = det()->state_new();
	struct fixture fx;
	int rc = det()->load(st, "shard-00", det()->state_version, blob, n);
	/* whatever loaded, a finish must work */
	setup(&fx);
	det()->state_free(fx.st);
	fx.st = st;
	full_chain(&fx, &alice, T0);
	flush(&fx);
	teardown(&fx);
	return rc;
}

MM_TEST(load_rejects_malformed_blobs)
{
	struct fixture fx;
	struct mmtest_rows r;
	int i, big = -1;
	size_t n, cut, at;
	unsigned char *b, *x;

	setup(&fx);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < NSTEP; i++)
		step_into(&fx, fx.st, i);
	flush(&fx);
	CHECK_EQ_INT(det()->save(fx.st, mmtest_put_row, &r), 0);
	teardown(&fx);
	for (i = 0; i < r.n; i++)
		if (big < 0 || r.len[i] > r.len[big])
			big = i;
	b = r.blob[big];
	n = r.len[big];
	CHECK(n > 200);
	CHECK_EQ_INT(load_one(b, n), 0);
	for (cut = 0; cut < n; cut++)
		CHECK(load_one(b, cut) != 0);
	x = malloc(n + 1);
	memcpy(x, b, n);
	x[n] = 0;
	CHECK(load_one(x, n + 1) != 0); /* trailing bytes */
	for (at = 0; at < n; at++) {
		memcpy(x, b, n);
		x[at] ^= (unsigned char)(1u << (at % 8));
		load_one(x, n); /* refused or loaded, never a crash */
	}
	free(x);
	CHECK(det()->load(NULL, "x", 99, b, n) != 0);
	{
		unsigned char g[256];
		for (i = 0; i < 256; i++)
			g[i] = (unsigned char)(i * 37 + 11);
		CHECK(load_one(g, sizeof(g)) != 0);
		memcpy(g, "MMSQ\x01\x00\xff\xff\xff\xff", 10);
		CHECK(load_one(g, sizeof(g)) != 0);
	}
	mmtest_rows_free(&r);
}
