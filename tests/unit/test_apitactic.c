/* test_apitactic.c - the API -> tactic table. */
#include <string.h>

#include "detect/apitactic.h"
#include "mmtest.h"

int mm__apitactic_sorted(void);

static enum mm_tactic tac(const char *src, const char *name, int ro)
{
	return mm_api_tactic(mm_str_c(src), mm_str_c(name), ro);
}

MM_TEST(table_is_sorted_and_every_row_found)
{
	CHECK(mm__apitactic_sorted());
}

MM_TEST(guardduty_examples_map_to_their_type)
{
	CHECK_EQ_INT(tac("ec2.amazonaws.com", "GetPasswordData", 1), MM_TAC_CREDENTIAL_ACCESS);
	CHECK_EQ_INT(tac("secretsmanager.amazonaws.com", "GetSecretValue", 1), MM_TAC_CREDENTIAL_ACCESS);
	CHECK_EQ_INT(tac("iam.amazonaws.com", "CreateAccessKey", 0), MM_TAC_PERSISTENCE);
	CHECK_EQ_INT(tac("ec2.amazonaws.com", "ImportKeyPair", 0), MM_TAC_PERSISTENCE);
	CHECK_EQ_INT(tac("iam.amazonaws.com", "AddUserToGroup", 0), MM_TAC_PRIVILEGE_ESCALATION);
	CHECK_EQ_INT(tac("ec2.amazonaws.com", "AssociateIamInstanceProfile", 0),
		     MM_TAC_PRIVILEGE_ESCALATION);
	CHECK_EQ_INT(tac("s3.amazonaws.com", "PutBucketReplication", 0), MM_TAC_EXFILTRATION);
	CHECK_EQ_INT(tac("rds.amazonaws.com", "RestoreDBInstanceFromDBSnapshot", 0), MM_TAC_EXFILTRATION);
	CHECK_EQ_INT(tac("ec2.amazonaws.com", "DeleteSecurityGroup", 0), MM_TAC_IMPACT);
	CHECK_EQ_INT(tac("ssm.amazonaws.com", "StartSession", 0), MM_TAC_INITIAL_ACCESS);
	CHECK_EQ_INT(tac("ecr.amazonaws.com", "GetAuthorizationToken", 1), MM_TAC_INITIAL_ACCESS);
	CHECK_EQ_INT(tac("ec2.amazonaws.com", "DeleteFlowLogs", 0), MM_TAC_DEFENSE_EVASION);
	CHECK_EQ_INT(tac("cloudtrail.amazonaws.com", "StopLogging", 0), MM_TAC_DEFENSE_EVASION);
	/* the first and last rows are found too */
	CHECK_EQ_INT(tac("iam.amazonaws.com", "AddPermission", 0), MM_TAC_PERSISTENCE);
	CHECK_EQ_INT(tac("ec2.amazonaws.com", "UploadSigningCertificate", 0), MM_TAC_PERSISTENCE);
	CHECK_EQ_STR(mm_tactic_name(MM_TAC_PRIVILEGE_ESCALATION), "PrivilegeEscalation");
	CHECK_EQ_STR(mm_tactic_name(MM_TAC_NONE), "");
	CHECK_EQ_STR(mm_tactic_name((enum mm_tactic)99), "");
}

MM_TEST(reads_are_discovery_but_not_the_workloads_data)
{
	CHECK_EQ_INT(tac("ec2.amazonaws.com", "DescribeInstances", 1), MM_TAC_DISCOVERY);
	CHECK_EQ_INT(tac("iam.amazonaws.com", "ListUsers", -1), MM_TAC_DISCOVERY);
	CHECK_EQ_INT(tac("sts.amazonaws.com", "GetCallerIdentity", 1), MM_TAC_DISCOVERY);
	CHECK_EQ_INT(tac("s3.amazonaws.com", "ListBuckets", 1), MM_TAC_DISCOVERY);
	CHECK_EQ_INT(tac("s3.amazonaws.com", "GetObject", 1), MM_TAC_NONE);
	CHECK_EQ_INT(tac("s3.amazonaws.com", "ListMultipartUploadParts", 1), MM_TAC_NONE);
	CHECK_EQ_INT(tac("dynamodb.amazonaws.com", "GetItem", 1), MM_TAC_NONE);
	CHECK_EQ_INT(tac("kms.amazonaws.com", "Decrypt", 1), MM_TAC_NONE);
	CHECK_EQ_INT(tac("monitoring.amazonaws.com", "GetMetricData", 1), MM_TAC_NONE);
	/* a write the table does not know, a read the record says is a
	 * write, and words that only start like a read */
	CHECK_EQ_INT(tac("ec2.amazonaws.com", "CreateTags", 0), MM_TAC_NONE);
	CHECK_EQ_INT(tac("x.amazonaws.com", "GetOrCreateThing", 0), MM_TAC_NONE);
	CHECK_EQ_INT(tac("x.amazonaws.com", "Get", 1), MM_TAC_NONE);
	CHECK_EQ_INT(tac("x.amazonaws.com", "", 1), MM_TAC_NONE);
	/* near misses of table names are not the row */
	CHECK_EQ_INT(tac("cloudtrail.amazonaws.com", "StopLoggingX", 0), MM_TAC_NONE);
	CHECK_EQ_INT(tac("cloudtrail.amazonaws.com", "StopLoggin", 0), MM_TAC_NONE);
}

MM_TEST(versioned_event_names_are_their_api)
{
	CHECK_EQ_INT(tac("lambda.amazonaws.com", "CreateFunction20150331", 0), MM_TAC_PERSISTENCE);
	CHECK_EQ_INT(tac("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", 0), MM_TAC_PERSISTENCE);
	CHECK_EQ_INT(tac("lambda.amazonaws.com", "AddPermission20150331v2", 0), MM_TAC_PERSISTENCE);
	CHECK_EQ_INT(tac("lambda.amazonaws.com", "ListFunctions20150331", 1), MM_TAC_DISCOVERY);
	CHECK_EQ_INT(tac("cloudfront.amazonaws.com", "GetDistribution2020_05_31", 1), MM_TAC_DISCOVERY);
	CHECK_EQ_INT(tac("lambda.amazonaws.com", "DeleteFunction20150331", 0), MM_TAC_IMPACT);
	/* digits that are not a version stay */
	CHECK_EQ_INT(tac("x.amazonaws.com", "StopLogging2015", 0), MM_TAC_NONE);
	CHECK_EQ_INT(tac("x.amazonaws.com", "20150331", 0), MM_TAC_NONE);
}
