/* test_ctrules.c - the single-event CloudTrail rules (detector ctrules):
 * each type's positive record next to its look-alikes (a trail updated
 * without narrowing, a policy for one partner account, an ACL for one
 * canonical user, logging re-pointed, a tightened password policy, an
 * Ubuntu agent, failed calls), aggregation per caller and bucket, the
 * params, and hostile requestParameters. */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "detect/ctrules.h"
#include "detect/detect.h"
#include "mmtest.h"
#include "parse/cloudtrail.h"

#define KEY_M "AKIAEXAMPLEMALLORY1"
#define KEY_A "AKIAEXAMPLEALICE001"
#define UA_OK "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1014-aws exe/x86_64.ubuntu.22 prompt/off"

struct fixture {
	struct mm_agg *agg;
	struct mm_detect_ctx d;
	struct mm_file_ctx fc;
	double params[MM_PARAMS_MAX];
	char mem[1 << 16];
	struct mm_arena scratch;
	uint64_t line;
};

static void setup(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	CHECK_EQ_INT(mm_agg_new(&fx->agg, 1000), 0);
	fx->d.agg = fx->agg;
	mm_file_ctx_from_path(&fx->fc, "t/AWSLogs/111122223333/CloudTrail/us-east-1/x.json");
	fx->d.file = &fx->fc;
	mm_detector_defaults(&mm_det_ctrules, fx->params);
	fx->d.params = fx->params;
	mm_arena_init(&fx->scratch, fx->mem, sizeof(fx->mem));
}

static void teardown(struct fixture *fx)
{
	mm_agg_free(fx->agg);
}

/* One record: key calls src:name with requestParameters rp (JSON text or
 * NULL), agent ua (NULL: an Ubuntu CLI), errorCode err (NULL: success),
 * at minute min of 2024-05-01T10. */
static void call(struct fixture *fx, const char *key, const char *src, const char *name,
		 const char *rp, const char *ua, const char *err, int min)
{
	static char line[16384];
	struct mm_event ev;
	struct mm_err e;
	char errf[128] = "";

	if (err)
		snprintf(errf, sizeof(errf), "\"errorCode\":\"%s\",\"errorMessage\":\"denied\",",
			 err);
	snprintf(
		line, sizeof(line),
		"{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":"
		"\"AIDA%s\",\"arn\":\"arn:aws:iam::111122223333:user/u\",\"accountId\":"
		"\"111122223333\",\"accessKeyId\":\"%s\",\"userName\":\"u-%s\"},"
		"\"eventTime\":\"2024-05-01T10:%02d:00Z\",\"eventSource\":\"%s\",\"eventName\":\"%"
		"s\","
		"\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"198.51.100.23\",\"userAgent\":"
		"\"%"
		"s\","
		"%s\"requestParameters\":%s,\"responseElements\":null,\"eventID\":\"e%d\","
		"\"readOnly\":false,\"eventType\":\"AwsApiCall\",\"recipientAccountId\":"
		"\"111122223333\"}",
		key + 4, key, key + 4, min, src, name, ua ? ua : UA_OK, errf, rp ? rp : "null",
		min);
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&fx->scratch);
	CHECK_EQ_INT(mm_ct_parse_line(line, strlen(line), &fx->scratch, &ev, &e), 0);
	ev.loc.file = "ct.json";
	ev.loc.line = ++fx->line;
	mm_det_ctrules.on_event(NULL, &fx->d, &ev);
}

static int count(struct fixture *fx, const char *type)
{
	size_t i;
	int n = 0;
	for (i = 0; i < mm_agg_count(fx->agg); i++)
		n += strcmp(mm_agg_at(fx->agg, i)->type, type) == 0;
	return n;
}

static struct mm_finding *find(struct fixture *fx, const char *type)
{
	size_t i;
	for (i = 0; i < mm_agg_count(fx->agg); i++)
		if (strcmp(mm_agg_at(fx->agg, i)->type, type) == 0)
			return mm_agg_at(fx->agg, i);
	return NULL;
}

#define CT    "cloudtrail.amazonaws.com"
#define TRAIL "Stealth:IAMUser/CloudTrailLoggingDisabled"

MM_TEST(cloudtrail_logging_disabled_and_lookalikes)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	/* look-alikes: updated but still logging everything, failed stops */
	call(&fx, KEY_A, CT, "UpdateTrail",
	     "{\"name\":\"org-trail\",\"s3BucketName\":\"acme-trail-2\",\"isMultiRegionTrail\":"
	     "true,"
	     "\"includeGlobalServiceEvents\":true,\"enableLogFileValidation\":true}",
	     NULL, NULL, 1);
	call(&fx, KEY_A, CT, "StopLogging", "{\"name\":\"org-trail\"}", NULL, "AccessDenied", 2);
	call(&fx, KEY_A, CT, "StartLogging", "{\"name\":\"org-trail\"}", NULL, NULL, 3);
	call(&fx, KEY_A, CT, "PutEventSelectors",
	     "{\"trailName\":\"org-trail\",\"eventSelectors\":[{\"readWriteType\":\"All\","
	     "\"includeManagementEvents\":true,\"dataResources\":[{\"type\":\"AWS::S3::Object\","
	     "\"values\":[\"arn:aws:s3\"]}]}]}",
	     NULL, NULL, 4);
	call(&fx, KEY_A, CT, "PutEventSelectors",
	     "{\"trailName\":\"org-trail\",\"advancedEventSelectors\":[{\"name\":\"mgmt\","
	     "\"fieldSelectors\":[{\"field\":\"eventCategory\",\"equals\":[\"Management\"]}]}]}",
	     NULL, NULL, 5);
	call(&fx, KEY_A, CT, "DeleteTrail", "{\"name\":\"x\"}", NULL, "TrailNotFoundException", 6);
	CHECK_EQ_INT(count(&fx, TRAIL), 0);
	/* positives, one caller: one finding */
	call(&fx, KEY_M, CT, "StopLogging", "{\"name\":\"org-trail\"}", NULL, NULL, 10);
	call(&fx, KEY_M, CT, "UpdateTrail",
	     "{\"name\":\"org-trail\",\"includeGlobalServiceEvents\":false}", NULL, NULL, 11);
	call(&fx, KEY_M, CT, "UpdateTrail", "{\"name\":\"org-trail\",\"isMultiRegionTrail\":false}",
	     NULL, NULL, 12);
	call(&fx, KEY_M, CT, "PutEventSelectors",
	     "{\"trailName\":\"org-trail\",\"eventSelectors\":[{\"readWriteType\":\"All\","
	     "\"includeManagementEvents\":false}]}",
	     NULL, NULL, 13);
	call(&fx, KEY_M, CT, "PutEventSelectors",
	     "{\"trailName\":\"org-trail\",\"eventSelectors\":[{\"readWriteType\":\"ReadOnly\"}]}",
	     NULL, NULL, 14);
	call(&fx, KEY_M, CT, "PutEventSelectors",
	     "{\"trailName\":\"org-trail\",\"advancedEventSelectors\":[{\"fieldSelectors\":["
	     "{\"field\":\"eventCategory\",\"equals\":[\"Management\"]},{\"field\":\"readOnly\","
	     "\"equals\":[\"true\"]}]}]}",
	     NULL, NULL, 15);
	call(&fx, KEY_M, CT, "DeleteTrail", "{\"name\":\"org-trail\"}", NULL, NULL, 16);
	CHECK_EQ_INT(count(&fx, TRAIL), 1);
	f = find(&fx, TRAIL);
	if (f) {
		CHECK_EQ_INT(f->count, 7);
		CHECK_EQ_STR(f->access_key_id, KEY_M);
		CHECK_EQ_INT(f->res_type, MM_RES_ACCESSKEY);
		CHECK_EQ_INT(f->severity, 2);
		CHECK_EQ_INT(f->role, MM_ROLE_TARGET);
		CHECK_EQ_STR(f->api, "DeleteTrail");
		CHECK_EQ_INT(f->napis, 4);
	}
	teardown(&fx);
}

#define IAM "iam.amazonaws.com"
#define PW  "Stealth:IAMUser/PasswordPolicyChange"
#define STRONG                                                                           \
	"{\"minimumPasswordLength\":16,\"requireSymbols\":true,\"requireNumbers\":true," \
	"\"requireUppercaseCharacters\":true,\"requireLowercaseCharacters\":true,"       \
	"\"allowUsersToChangePassword\":true,\"passwordReusePrevention\":24}"
#define WEAK "{\"minimumPasswordLength\":8,\"requireNumbers\":true}"

MM_TEST(password_policy_weakened_and_tightened)
{
	struct fixture fx;
	setup(&fx);
	call(&fx, KEY_A, IAM, "UpdateAccountPasswordPolicy", STRONG, NULL, NULL, 1);
	call(&fx, KEY_A, IAM, "GetAccountPasswordPolicy", NULL, NULL, NULL, 2);
	call(&fx, KEY_A, IAM, "DeleteAccountPasswordPolicy", NULL, NULL, "AccessDenied", 3);
	call(&fx, KEY_A, IAM, "UpdateAccountPasswordPolicy", WEAK, NULL, "AccessDenied", 4);
	CHECK_EQ_INT(count(&fx, PW), 0);
	call(&fx, KEY_M, IAM, "UpdateAccountPasswordPolicy", WEAK, NULL, NULL, 10);
	/* every setting omitted: AWS resets to length 6, nothing required */
	call(&fx, KEY_M, IAM, "UpdateAccountPasswordPolicy", "{}", NULL, NULL, 11);
	call(&fx, KEY_M, IAM, "DeleteAccountPasswordPolicy", NULL, NULL, NULL, 12);
	CHECK_EQ_INT(count(&fx, PW), 1);
	CHECK(find(&fx, PW) && find(&fx, PW)->count == 3);
	/* the floor is a param: with length 6 / 0 classes nothing is weak */
	mm_agg_free(fx.agg);
	CHECK_EQ_INT(mm_agg_new(&fx.agg, 1000), 0);
	fx.d.agg = fx.agg;
	fx.params[1] = 6;
	fx.params[2] = 0;
	call(&fx, KEY_M, IAM, "UpdateAccountPasswordPolicy", WEAK, NULL, NULL, 20);
	CHECK_EQ_INT(count(&fx, PW), 0);
	call(&fx, KEY_M, IAM, "DeleteAccountPasswordPolicy", NULL, NULL, NULL, 21);
	CHECK_EQ_INT(count(&fx, PW), 1);
	teardown(&fx);
}

#define S3    "s3.amazonaws.com"
#define S3LOG "Stealth:S3/ServerAccessLoggingDisabled"
#define XMLNS "\"xmlns\":\"http://s3.amazonaws.com/doc/2006-03-01/\""

MM_TEST(server_access_logging_disabled_on_the_bucket)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	/* re-pointed to another bucket: still logging */
	call(&fx, KEY_A, S3, "PutBucketLogging",
	     "{\"BucketLoggingStatus\":{\"LoggingEnabled\":{\"TargetBucket\":\"acme-logs-2\","
	     "\"TargetPrefix\":\"web/\"}," XMLNS "},\"Host\":\"acme-web.s3.amazonaws.com\","
	     "\"bucketName\":\"acme-web\",\"logging\":\"\"}",
	     NULL, NULL, 1);
	call(&fx, KEY_A, S3, "PutBucketLogging",
	     "{\"BucketLoggingStatus\":{" XMLNS "},\"bucketName\":\"acme-web\",\"logging\":\"\"}",
	     NULL, "AccessDenied", 2);
	CHECK_EQ_INT(count(&fx, S3LOG), 0);
	call(&fx, KEY_M, S3, "PutBucketLogging",
	     "{\"BucketLoggingStatus\":{" XMLNS "},\"Host\":\"acme-web.s3.amazonaws.com\","
	     "\"bucketName\":\"acme-web\",\"logging\":\"\"}",
	     NULL, NULL, 10);
	f = find(&fx, S3LOG);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->res_type, MM_RES_S3BUCKET);
		CHECK_EQ_STR(f->bucket_name, "acme-web");
		CHECK_EQ_STR(f->access_key_id, KEY_M);
		CHECK_EQ_STR(f->user_name, "u-EXAMPLEMALLORY1");
		CHECK_EQ_INT(f->severity, 2);
	}
	teardown(&fx);
}

#define ACCT_BPA "Policy:S3/AccountBlockPublicAccessDisabled"
#define BKT_BPA  "Policy:S3/BucketBlockPublicAccessDisabled"
#define BPA(a, b, c, d)                                                         \
	"{\"PublicAccessBlockConfiguration\":{" XMLNS ",\"BlockPublicAcls\":" a \
	",\"IgnorePublicAcls\":" b ",\"BlockPublicPolicy\":" c ",\"RestrictPublicBuckets\":" d "}"

MM_TEST(block_public_access_account_and_bucket)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	call(&fx, KEY_A, S3, "PutAccountPublicAccessBlock",
	     BPA("true", "true", "true", "true") ",\"x-amz-account-id\":\"111122223333\"}", NULL,
	     NULL, 1);
	call(&fx, KEY_A, S3, "PutBucketPublicAccessBlock",
	     BPA("true", "true", "true", "true") ",\"bucketName\":\"acme-web\"}", NULL, NULL, 2);
	call(&fx, KEY_A, S3, "DeleteBucketPublicAccessBlock", "{\"bucketName\":\"acme-web\"}", NULL,
	     "AccessDenied", 3);
	call(&fx, KEY_A, S3, "GetBucketPublicAccessBlock", "{\"bucketName\":\"acme-web\"}", NULL,
	     NULL, 4);
	CHECK_EQ_INT(count(&fx, ACCT_BPA) + count(&fx, BKT_BPA), 0);
	call(&fx, KEY_M, S3, "PutAccountPublicAccessBlock",
	     BPA("true", "true", "false", "true") ",\"x-amz-account-id\":\"111122223333\"}", NULL,
	     NULL, 10);
	call(&fx, KEY_M, S3, "DeleteAccountPublicAccessBlock",
	     "{\"x-amz-account-id\":\"111122223333\"}", NULL, NULL, 11);
	/* the XML body's booleans, logged as strings */
	call(&fx, KEY_M, S3, "PutBucketPublicAccessBlock",
	     BPA("\"false\"", "\"false\"", "\"false\"",
		 "\"false\"") ",\"bucketName\":\"acme-web\"}",
	     NULL, NULL, 12);
	call(&fx, KEY_M, S3, "DeleteBucketPublicAccessBlock", "{\"bucketName\":\"acme-web\"}", NULL,
	     NULL, 13);
	call(&fx, KEY_M, S3, "DeleteBucketPublicAccessBlock", "{\"bucketName\":\"acme-media\"}",
	     NULL, NULL, 14);
	/* S3 Control's names: account-level without a bucket, the bucket's with one */
	call(&fx, KEY_M, "s3-control.amazonaws.com", "PutPublicAccessBlock",
	     BPA("false", "true", "true", "true") ",\"x-amz-account-id\":\"111122223333\"}", NULL,
	     NULL, 15);
	call(&fx, KEY_M, S3, "DeletePublicAccessBlock", "{\"bucketName\":\"acme-media\"}", NULL,
	     NULL, 16);
	CHECK_EQ_INT(count(&fx, ACCT_BPA), 1);
	f = find(&fx, ACCT_BPA);
	CHECK(f && f->count == 3 && f->res_type == MM_RES_ACCESSKEY);
	/* one finding per bucket */
	CHECK_EQ_INT(count(&fx, BKT_BPA), 2);
	f = find(&fx, BKT_BPA);
	CHECK(f && f->res_type == MM_RES_S3BUCKET && f->severity == 2);
	if (f && !strcmp(f->bucket_name, "acme-web"))
		CHECK_EQ_INT(f->count, 2);
	else if (f)
		CHECK_EQ_INT(f->count, 2); /* acme-media: Delete and DeletePublicAccessBlock */
	teardown(&fx);
}

#define ANON   "Policy:S3/BucketAnonymousAccessGranted"
#define PUBLIC "Policy:S3/BucketPublicAccessGranted"
#define POLICY(stmt)                                                                     \
	"{\"bucketPolicy\":{\"Version\":\"2012-10-17\",\"Statement\":[" stmt             \
	"]},\"bucketName\":\"acme-exports\",\"Host\":\"acme-exports.s3.amazonaws.com\"," \
	"\"policy\":\"\"}"
#define GET "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::acme-exports/*\""

MM_TEST(policy_grant_reader)
{
	static const struct {
		const char *doc;
		int want;
	} C[] = {
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," GET "}]}", 2},
		{"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," GET "}}", 2},
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::"
		 "444455556666:root\",\"*\"]}," GET "}]}",
		 2},
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::"
		 "444455556666:root\"}," GET "}]}",
		 2},
		/* a condition that does not narrow who: still public */
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," GET ",\"Condition\":"
		 "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}}]}",
		 2},
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," GET ",\"Condition\":"
		 "{\"StringLike\":{\"aws:Referer\":\"https://acme.example/*\"}}}]}",
		 2},
		/* the text of a policy, as some tools log it */
		{"\"{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":\\\"*\\\"}]"
		 "}\"",
		 2},
		/* look-alikes */
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::"
		 "444455556666:root\"}," GET "}]}",
		 0},
		{"{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\","
		 "\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}",
		 0},
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," GET ",\"Condition\":"
		 "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}}]}",
		 0},
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," GET ",\"Condition\":"
		 "{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-abc123\"}}}]}",
		 0},
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
		 "\"cloudtrail.amazonaws.com\"},\"Action\":\"s3:PutObject\"}]}",
		 0},
		{"{\"Statement\":[]}", 0},
		{"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"", 0},
		{"", 0},
		{"[1,2", 0},
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(C); i++) {
		int got = (int)mm_ct_policy_grant(C[i].doc, strlen(C[i].doc));
		if (got != C[i].want)
			printf("  policy case %zu: got %d want %d\n", i, got, C[i].want);
		CHECK_EQ_INT(got, C[i].want);
	}
}

#define ACL(grants)                                                                         \
	"{\"bucketName\":\"acme-exports\",\"AccessControlPolicy\":{\"AccessControlList\":{" \
	"\"Grant\":" grants "},\"Owner\":{\"ID\":"                                          \
	"\"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be\"}," XMLNS      \
	"},\"Host\":\"acme-exports.s3.amazonaws.com\",\"acl\":\"\"}"
#define GROUP(g, perm)                                                                             \
	"{\"Grantee\":{\"xsi:type\":\"Group\",\"URI\":\"http://acs.amazonaws.com/groups/global/" g \
	"\",\"xmlns:xsi\":\"http://www.w3.org/2001/XMLSchema-instance\"},\"Permission\":\"" perm   \
	"\"}"
#define CANON(id)                                                                       \
	"{\"Grantee\":{\"xsi:type\":\"CanonicalUser\",\"ID\":\"" id "\",\"xmlns:xsi\":" \
	"\"http://www.w3.org/2001/XMLSchema-instance\"},\"Permission\":\"FULL_CONTROL\"}"

MM_TEST(acl_grant_reader)
{
	static const struct {
		const char *rp;
		int want;
	} C[] = {
		{ACL("[" CANON("79a59df9") "," GROUP("AllUsers", "READ") "]"), 2},
		{ACL(GROUP("AllUsers", "WRITE")), 2},
		{ACL("[" GROUP("AuthenticatedUsers", "READ") "]"), 1},
		{ACL("[" GROUP("AuthenticatedUsers", "READ") "," GROUP("AllUsers", "READ_ACP") "]"),
		 2},
		{"{\"bucketName\":\"b\",\"x-amz-acl\":[\"public-read\"],\"acl\":[\"\"]}", 2},
		{"{\"bucketName\":\"b\",\"x-amz-acl\":\"public-read-write\",\"acl\":\"\"}", 2},
		{"{\"bucketName\":\"b\",\"x-amz-acl\":[\"authenticated-read\"],\"acl\":[\"\"]}", 1},
		{"{\"bucketName\":\"b\",\"x-amz-grant-read\":[\"uri=\\\"http://acs.amazonaws.com/"
		 "groups/global/AllUsers\\\"\"],\"acl\":[\"\"]}",
		 2},
		/* look-alikes */
		{ACL("[" CANON("79a59df9") "," CANON("be4c2c1f") "]"), 0},
		{ACL(GROUP("s3/LogDelivery", "WRITE")), 0},
		{"{\"bucketName\":\"b\",\"x-amz-acl\":[\"private\"],\"acl\":[\"\"]}", 0},
		{"{\"bucketName\":\"b\",\"x-amz-acl\":[\"bucket-owner-full-control\"]}", 0},
		{"{\"bucketName\":\"b\",\"x-amz-grant-full-control\":[\"id=79a59df9\"]}", 0},
		{"{\"AccessControlPolicy\":{\"AccessControlList\":{\"Grant\":[", 0},
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(C); i++) {
		int got = (int)mm_ct_acl_grant(C[i].rp, strlen(C[i].rp));
		if (got != C[i].want)
			printf("  acl case %zu: got %d want %d\n", i, got, C[i].want);
		CHECK_EQ_INT(got, C[i].want);
	}
}

MM_TEST(bucket_public_and_anonymous_grants_per_bucket_and_caller)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	/* a partner account, the log-delivery group, one canonical user */
	call(&fx, KEY_A, S3, "PutBucketPolicy",
	     POLICY("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:"
		    "root\"}," GET "}"),
	     NULL, NULL, 1);
	call(&fx, KEY_A, S3, "PutBucketAcl", ACL(CANON("be4c2c1f")), NULL, NULL, 2);
	call(&fx, KEY_A, S3, "PutBucketPolicy",
	     POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\"," GET "}"), NULL, "AccessDenied", 3);
	CHECK_EQ_INT(count(&fx, ANON) + count(&fx, PUBLIC), 0);
	call(&fx, KEY_M, S3, "PutBucketPolicy",
	     POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\"," GET "}"), NULL, NULL, 10);
	call(&fx, KEY_M, S3, "PutBucketAcl", ACL(GROUP("AllUsers", "READ")), NULL, NULL, 11);
	call(&fx, KEY_A, S3, "PutBucketAcl", ACL(GROUP("AuthenticatedUsers", "READ")), NULL, NULL,
	     12);
	/* same bucket, same caller: one finding with both calls */
	CHECK_EQ_INT(count(&fx, ANON), 1);
	f = find(&fx, ANON);
	if (f) {
		CHECK_EQ_INT(f->count, 2);
		CHECK_EQ_STR(f->bucket_name, "acme-exports");
		CHECK_EQ_STR(f->access_key_id, KEY_M);
		CHECK_EQ_INT(f->severity, 8);
		CHECK_EQ_INT(f->napis, 2);
	}
	CHECK_EQ_INT(count(&fx, PUBLIC), 1);
	f = find(&fx, PUBLIC);
	CHECK(f && !strcmp(f->access_key_id, KEY_A) && f->severity == 8);
	/* another caller on the same bucket: its own finding */
	call(&fx, KEY_A, S3, "PutBucketAcl", ACL(GROUP("AllUsers", "READ")), NULL, NULL, 13);
	CHECK_EQ_INT(count(&fx, ANON), 2);
	teardown(&fx);
}

MM_TEST(pentest_agent_reader)
{
	static const struct {
		const char *ua;
		int want;
	} C[] = {
		{"aws-cli/1.22.34 Python/3.11.2 Linux/6.1.0-kali5-amd64 botocore/1.23.34", 1},
		{"Boto3/1.26.0 Python/3.11.2 Linux/6.5.0-kali3-amd64 Botocore/1.29.0", 1},
		{"aws-cli/2.13.25 Python/3.11.6 Linux/6.5.0-kali3-amd64 source/x86_64.kali.2023 "
		 "prompt/off command/sts.get-caller-identity",
		 1},
		{"aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 "
		 "lang/python#3.11.8 md/pyimpl#CPython md/distrib#kali.2024 "
		 "cfg/retry-mode#standard",
		 1},
		{"[aws-cli/2.9.0 Python/3.9.11 Linux/5.18.0-kali7-amd64 exe/x86_64.kali.2022 "
		 "prompt/off]",
		 1},
		{"aws-cli/1.27.0 Python/3.9.2 Linux/6.5.0-13parrot1-amd64 botocore/1.29.0", 2},
		{"aws-cli/2.13.0 Python/3.11.4 Linux/6.1.0-1parrot1-amd64 exe/x86_64.parrot.5 "
		 "prompt/off",
		 2},
		{"Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#6.6.30-pentoo md/arch#x86_64", 3},
		{"aws-cli/2.11.0 Python/3.11.3 Linux/6.1.19-pentoo exe/x86_64.pentoo.2023 "
		 "prompt/off",
		 3},
		/* look-alikes */
		{UA_OK, 0},
		{"aws-cli/1.18.69 Python/3.8.10 Linux/5.4.0-1045-aws botocore/1.16.19", 0},
		{"aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0-18-amd64 exe/x86_64.debian.12 "
		 "prompt/off",
		 0},
		{"kali-backup/1.2 Linux/6.1.0-18-amd64 md/distrib#debian.12", 0},
		{"aws-cli/2.15.0 md/command#s3.cp /home/kali/exports md/distrib#ubuntu.22", 0},
		{"Boto3/1.34 Linux/6.5.0-kalibrate-amd64 md/distrib#parrotfish.1", 0},
		{"console.amazonaws.com", 0},
		{"S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 "
		 "Linux/5.10.220-188.869.amzn2int.x86_64",
		 0},
		{"", 0},
		{"kali", 0},
		{"Linux/", 0},
		{"Linux/-", 0},
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(C); i++) {
		int got = mm_ct_pentest_distro(C[i].ua, strlen(C[i].ua));
		if (got != C[i].want)
			printf("  agent case %zu: got %d want %d\n", i, got, C[i].want);
		CHECK_EQ_INT(got, C[i].want);
	}
}

/* The agent is searched 16 bytes at a time for a name's first two
 * letters, then byte by byte for the last bytes: each name, in any case,
 * is found wherever it starts (the two letters across a 16-byte step
 * too), and a lone 'k' or 'p' is not enough. */
MM_TEST(pentest_agent_name_found_at_every_offset)
{
	static const struct {
		const char *token;
		int want;
	} N[] = {{"Linux/6.5.0-KALI3-amd64", 1},
		 {"Linux/6.5.0-kaLi3-amd64", 1},
		 {"Linux/6.1.0-1Parrot1-amd64", 2},
		 {"Linux/6.1.19-PENTOO", 3}};
	char ua[128];
	size_t i, pad;
	for (i = 0; i < MM_ARRAY_LEN(N); i++)
		for (pad = 0; pad < 40; pad++) {
			int got;
			memset(ua, 'x', pad);
			ua[pad] = ' ';
			snprintf(ua + pad + 1, sizeof(ua) - pad - 1, "%s", N[i].token);
			got = mm_ct_pentest_distro(ua, strlen(ua));
			if (got != N[i].want)
				printf("  token %zu at %zu: got %d\n", i, pad, got);
			CHECK_EQ_INT(got, N[i].want);
		}
	/* the letters apart, or only their first */
	CHECK_EQ_INT(mm_ct_pentest_distro("Linux/6.5.0-k-ali", 17), 0);
	CHECK_EQ_INT(mm_ct_pentest_distro("Linux/6.5.0-kpkpkpkpkpkpkpkpkpkp-amd64", 39), 0);
}

#define KALI_UA "Boto3/1.26.0 Python/3.11.2 Linux/6.5.0-kali3-amd64 Botocore/1.29.0"

MM_TEST(pentest_findings_and_failed_calls_switch)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	call(&fx, KEY_A, "sts.amazonaws.com", "GetCallerIdentity", NULL, NULL, NULL, 1);
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 0);
	call(&fx, KEY_M, "sts.amazonaws.com", "GetCallerIdentity", NULL, KALI_UA, NULL, 10);
	call(&fx, KEY_M, "iam.amazonaws.com", "ListUsers", NULL, KALI_UA, "AccessDenied", 11);
	call(&fx, KEY_M, "s3.amazonaws.com", "ListBuckets", NULL,
	     "aws-cli/2.13.0 Python/3.11.4 Linux/6.1.0-1parrot1-amd64 exe/x86_64.parrot.5", NULL,
	     12);
	f = find(&fx, "PenTest:IAMUser/KaliLinux");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->count, 2);
		CHECK_EQ_INT(f->severity, 5);
		CHECK_EQ_STR(f->api, "ListUsers");
		CHECK_EQ_STR(f->error_code, "AccessDenied");
	}
	CHECK_EQ_INT(count(&fx, "PenTest:IAMUser/ParrotLinux"), 1);
	CHECK_EQ_INT(count(&fx, "PenTest:IAMUser/PentooLinux"), 0);
	/* the switch off: only successful calls count */
	fx.params[0] = 0;
	call(&fx, KEY_A, "iam.amazonaws.com", "ListUsers", NULL, KALI_UA, "AccessDenied", 20);
	CHECK(find(&fx, "PenTest:IAMUser/KaliLinux")->count == 2);
	teardown(&fx);
}

#define BR      "bedrock.amazonaws.com"
#define BEDROCK "DefenseEvasion:IAMUser/BedrockLoggingDisabled"

MM_TEST(bedrock_logging_disabled_and_lookalikes)
{
	struct fixture fx;
	setup(&fx);
	call(&fx, KEY_A, BR, "PutModelInvocationLoggingConfiguration",
	     "{\"loggingConfig\":{\"s3Config\":{\"bucketName\":\"acme-bedrock-logs\",\"keyPrefix\":"
	     "\"inv/\"},\"textDataDeliveryEnabled\":true,\"imageDataDeliveryEnabled\":false,"
	     "\"embeddingDataDeliveryEnabled\":false}}",
	     NULL, NULL, 1);
	call(&fx, KEY_A, BR, "DeleteModelInvocationLoggingConfiguration", NULL, NULL,
	     "AccessDenied", 2);
	call(&fx, KEY_A, BR, "GetModelInvocationLoggingConfiguration", NULL, NULL, NULL, 3);
	CHECK_EQ_INT(count(&fx, BEDROCK), 0);
	call(&fx, KEY_M, BR, "PutModelInvocationLoggingConfiguration",
	     "{\"loggingConfig\":{\"s3Config\":{\"bucketName\":\"acme-bedrock-logs\"},"
	     "\"textDataDeliveryEnabled\":false,\"imageDataDeliveryEnabled\":false,"
	     "\"embeddingDataDeliveryEnabled\":false}}",
	     NULL, NULL, 10);
	call(&fx, KEY_M, BR, "DeleteModelInvocationLoggingConfiguration", NULL, NULL, NULL, 11);
	CHECK_EQ_INT(count(&fx, BEDROCK), 1);
	CHECK(find(&fx, BEDROCK)->count == 2 && find(&fx, BEDROCK)->severity == 5);
	teardown(&fx);
}

/* The same records in either order (files read in any order, several
 * threads): the same findings, counts, windows and details. */
static void replay(struct fixture *fx, int reverse)
{
	static const struct {
		const char *key, *src, *name, *rp, *ua;
		int min;
	} R[] = {
		{KEY_M, CT, "StopLogging", "{\"name\":\"t\"}", NULL, 5},
		{KEY_M, CT, "DeleteTrail", "{\"name\":\"t\"}", KALI_UA, 9},
		{KEY_M, S3, "PutBucketAcl", ACL(GROUP("AllUsers", "READ")), NULL, 7},
		{KEY_M, S3, "PutBucketPolicy",
		 POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\"," GET "}"), KALI_UA, 3},
		{KEY_A, S3, "PutBucketAcl", ACL(GROUP("AllUsers", "READ")), NULL, 8},
	};
	int i, n = (int)MM_ARRAY_LEN(R);
	for (i = 0; i < n; i++) {
		int k = reverse ? n - 1 - i : i;
		call(fx, R[k].key, R[k].src, R[k].name, R[k].rp, R[k].ua, NULL, R[k].min);
	}
}

MM_TEST(arrival_order_does_not_change_findings)
{
	struct fixture a, b;
	size_t i, j;
	setup(&a);
	setup(&b);
	replay(&a, 0);
	replay(&b, 1);
	CHECK_EQ_INT((int)mm_agg_count(a.agg), 4); /* trail, 2 anonymous, Kali */
	CHECK_EQ_INT((int)mm_agg_count(b.agg), (int)mm_agg_count(a.agg));
	for (i = 0; i < mm_agg_count(a.agg); i++) {
		const struct mm_finding *f = mm_agg_at(a.agg, i), *g = NULL;
		for (j = 0; j < mm_agg_count(b.agg); j++)
			if (!strcmp(mm_agg_at(b.agg, j)->type, f->type) &&
			    !strcmp(mm_agg_at(b.agg, j)->access_key_id, f->access_key_id) &&
			    !strcmp(mm_agg_at(b.agg, j)->bucket_name, f->bucket_name))
				g = mm_agg_at(b.agg, j);
		CHECK(g != NULL);
		if (!g)
			continue;
		CHECK_EQ_INT(f->count, g->count);
		CHECK(f->first_seen_ms == g->first_seen_ms && f->last_seen_ms == g->last_seen_ms);
		CHECK_EQ_STR(f->api, g->api);
		CHECK_EQ_STR(f->bucket_name, g->bucket_name);
		CHECK_EQ_INT(f->napis, g->napis);
	}
	teardown(&a);
	teardown(&b);
}

MM_TEST(hostile_request_parameters_fire_nothing_and_do_not_crash)
{
	struct fixture fx;
	char deep[3000];
	int i;
	setup(&fx);
	for (i = 0; i < 1400; i++)
		deep[i] = '[';
	deep[i] = '\0';
	call(&fx, KEY_M, S3, "PutBucketPolicy",
	     "{\"bucketName\":\"b\",\"bucketPolicy\":\"\\u0000\"}", NULL, NULL, 1);
	call(&fx, KEY_M, S3, "PutBucketPolicy", "{\"bucketName\":\"b\",\"bucketPolicy\":\"{\\\"\"}",
	     NULL, NULL, 2);
	call(&fx, KEY_M, S3, "PutBucketPolicy", "{\"bucketName\":\"b\",\"bucketPolicy\":17}", NULL,
	     NULL, 3);
	call(&fx, KEY_M, S3, "PutBucketAcl",
	     "{\"bucketName\":\"\",\"x-amz-acl\":[\"public-read\"]}", NULL, NULL, 4);
	call(&fx, KEY_M, S3, "PutBucketLogging", "{\"bucketName\":\"b\",\"BucketLoggingStatus\":7}",
	     NULL, NULL, 5);
	call(&fx, KEY_M, CT, "PutEventSelectors", "{\"eventSelectors\":{}}", NULL, NULL, 6);
	call(&fx, KEY_M, IAM, "UpdateAccountPasswordPolicy",
	     "{\"minimumPasswordLength\":\"x\",\"requireSymbols\":true,\"requireNumbers\":true,"
	     "\"requireUppercaseCharacters\":true,\"requireLowercaseCharacters\":true}",
	     NULL, NULL, 7);
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 1); /* the bad length reads as AWS's default 6 */
	CHECK_EQ_INT(count(&fx, PW), 1);
	CHECK_EQ_INT((int)mm_ct_policy_grant(deep, strlen(deep)), 0);
	CHECK_EQ_INT((int)mm_ct_acl_grant(deep, strlen(deep)), 0);
	CHECK_EQ_INT(mm_ct_pentest_distro(deep, strlen(deep)), 0);
	teardown(&fx);
}

MM_TEST(types_are_in_the_table_with_guardduty_severities)
{
	static const struct {
		const char *type;
		double sev;
		int res;
	} W[] = {
		{TRAIL, 2, MM_RES_ACCESSKEY},
		{PW, 2, MM_RES_ACCESSKEY},
		{S3LOG, 2, MM_RES_S3BUCKET},
		{ACCT_BPA, 2, MM_RES_ACCESSKEY},
		{BKT_BPA, 2, MM_RES_S3BUCKET},
		{ANON, 8, MM_RES_S3BUCKET},
		{PUBLIC, 8, MM_RES_S3BUCKET},
		{"PenTest:IAMUser/KaliLinux", 5, MM_RES_ACCESSKEY},
		{"PenTest:IAMUser/ParrotLinux", 5, MM_RES_ACCESSKEY},
		{"PenTest:IAMUser/PentooLinux", 5, MM_RES_ACCESSKEY},
		{BEDROCK, 5, MM_RES_ACCESSKEY},
	};
	size_t i;
	int n = 0;
	for (i = 0; i < MM_ARRAY_LEN(W); i++) {
		const struct mm_ftype *t = mm_ftype_get(W[i].type);
		CHECK(t != NULL);
		if (t) {
			CHECK(t->severity == W[i].sev);
			CHECK_EQ_INT(t->res_type, W[i].res);
			CHECK_EQ_INT(t->action, MM_ACTION_AWS_API_CALL);
		}
	}
	while (mm_det_ctrules.types[n])
		n++;
	CHECK_EQ_INT(n, (int)MM_ARRAY_LEN(W));
	CHECK(mm_detector_by_name("ctrules") == &mm_det_ctrules);
}
