/* test_criteria.c - GuardDuty FindingCriteria on finding JSON. */
#include <string.h>

#include "mmtest.h"
#include "serve/criteria.h"

static const char *F =
	"{\"schemaVersion\":\"2.0\",\"accountId\":\"123456789012\",\"region\":\"us-east-1\","
	"\"id\":\"abc\",\"type\":\"Recon:EC2/Portscan\",\"severity\":5,"
	"\"updatedAt\":\"2024-01-02T03:04:05.000Z\","
	"\"resource\":{\"resourceType\":\"Instance\",\"instanceDetails\":{\"instanceId\":\"i-0abc\","
	"\"networkInterfaces\":[{\"privateIpAddress\":\"10.0.0.1\"},{\"privateIpAddress\":\"10.0.0.2\"}],"
	"\"tags\":[{\"key\":\"Name\",\"value\":\"web\"}]}},"
	"\"service\":{\"archived\":false,\"count\":3,\"resourceRole\":\"ACTOR\"}}";

static int m(const char *crit)
{
	struct mm_criteria *c;
	struct mm_err err;
	int r;
	mm_err_clear(&err);
	if (mm_criteria_compile(crit, strlen(crit), &c, &err))
		return -100;
	r = mm_criteria_match(c, F, strlen(F));
	mm_criteria_free(c);
	return r;
}

MM_TEST(empty_matches_all)
{
	CHECK_EQ_INT(m("{}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{}}"), 1);
}

MM_TEST(eq_neq_and_aliases)
{
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"eq\":[\"A\",\"Recon:EC2/Portscan\"]}}}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"eq\":[\"Recon:EC2/PortProbeUnprotectedPort\"]}}}"), 0);
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"equals\":[\"Recon:EC2/Portscan\"]}}}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"neq\":[\"Recon:EC2/Portscan\"]}}}"), 0);
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"notEquals\":[\"X\"]}}}"), 1);
	/* booleans and numbers as the console sends them */
	CHECK_EQ_INT(m("{\"criterion\":{\"service.archived\":{\"eq\":[\"false\"]}}}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{\"service.archived\":{\"eq\":[\"true\"]}}}"), 0);
	CHECK_EQ_INT(m("{\"criterion\":{\"severity\":{\"eq\":[\"5.0\"]}}}"), 1);
	/* absent field: eq no, neq yes */
	CHECK_EQ_INT(m("{\"criterion\":{\"resource.accessKeyDetails.userName\":{\"eq\":[\"x\"]}}}"), 0);
	CHECK_EQ_INT(m("{\"criterion\":{\"resource.accessKeyDetails.userName\":{\"neq\":[\"x\"]}}}"), 1);
}

MM_TEST(numbers_and_times)
{
	CHECK_EQ_INT(m("{\"criterion\":{\"severity\":{\"gte\":5}}}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{\"severity\":{\"gt\":5}}}"), 0);
	CHECK_EQ_INT(m("{\"criterion\":{\"severity\":{\"gte\":4,\"lt\":7}}}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{\"severity\":{\"greaterThanOrEqual\":7}}}"), 0);
	/* 2024-01-02T03:04:05Z = 1704164645000 ms */
	CHECK_EQ_INT(m("{\"criterion\":{\"updatedAt\":{\"greaterThanOrEqual\":1704164645000}}}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{\"updatedAt\":{\"greaterThan\":1704164645000}}}"), 0);
	CHECK_EQ_INT(m("{\"criterion\":{\"updatedAt\":{\"lt\":1704164646000}}}"), 1);
}

MM_TEST(arrays_fan_out)
{
	CHECK_EQ_INT(m("{\"criterion\":{\"resource.instanceDetails.networkInterfaces.privateIpAddress\":"
		       "{\"eq\":[\"10.0.0.2\"]}}}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{\"resource.instanceDetails.networkInterfaces.privateIpAddress\":"
		       "{\"neq\":[\"10.0.0.2\"]}}}"), 0);
	CHECK_EQ_INT(m("{\"criterion\":{\"resource.instanceDetails.tags.value\":{\"eq\":[\"web\"]}}}"), 1);
}

MM_TEST(matches_glob_and_and)
{
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"matches\":[\"Recon:*\"]}}}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"notMatches\":[\"Recon:*\"]}}}"), 0);
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"matches\":[\"*Port?can\"]}}}"), 1);
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"matches\":[\"Backdoor:*\"]},\"severity\":{\"gte\":1}}}"), 0);
	CHECK_EQ_INT(m("{\"criterion\":{\"type\":{\"matches\":[\"Recon:*\"]},\"severity\":{\"gte\":1}}}"), 1);
}

MM_TEST(bad_criteria_refused_with_reason)
{
	struct mm_criteria *c = NULL;
	struct mm_err err;
	static const char *bad[] = {
		"[]", "{\"criterion\":[]}", "{\"criterion\":{\"type\":{\"eq\":\"x\"}}}",
		"{\"criterion\":{\"severity\":{\"gte\":\"7\"}}}", "{\"criterion\":{\"type\":{\"like\":[\"x\"]}}}",
		"{\"criterion\":{\"type\":5}}", "{\"criterion\":{\"type\":{\"eq\":[1]}}}", "{\"crit",
	};
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mm_err_clear(&err);
		CHECK_EQ_INT(mm_criteria_compile(bad[i], strlen(bad[i]), &c, &err), MM_EINVAL);
		CHECK(c == NULL);
		CHECK(err.msg[0] != '\0');
	}
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_criteria_compile(bad[4], strlen(bad[4]), &c, &err), MM_EINVAL);
	CHECK(strstr(err.msg, "like") != NULL);
}

MM_TEST(sort_keys)
{
	double num = 0;
	char s[64];
	CHECK_EQ_INT(mm_criteria_sort_key("severity", F, strlen(F), &num, s, sizeof(s)), 1);
	CHECK(num == 5);
	CHECK_EQ_INT(mm_criteria_sort_key("updatedAt", F, strlen(F), &num, s, sizeof(s)), 1);
	CHECK(num == 1704164645000.0);
	CHECK_EQ_INT(mm_criteria_sort_key("type", F, strlen(F), &num, s, sizeof(s)), 2);
	CHECK_EQ_STR(s, "Recon:EC2/Portscan");
	CHECK_EQ_INT(mm_criteria_sort_key("nope.x", F, strlen(F), &num, s, sizeof(s)), 0);
}
