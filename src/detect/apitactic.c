/* apitactic.c - the API -> tactic table (see apitactic.h).
 *
 * Sources: GuardDuty's finding-type reference names the APIs of each
 * AnomalousBehavior category (credential access: GetPasswordData,
 * GetSecretValue, BatchGetSecretValue, GenerateDbAuthToken; persistence:
 * CreateAccessKey, ImportKeyPair, ModifyInstanceAttribute; privilege
 * escalation: AssociateIamInstanceProfile, AddUserToGroup, PutUserPolicy;
 * exfiltration: PutBucketReplication, CreateSnapshot,
 * RestoreDBInstanceFromDBSnapshot; impact: DeleteSecurityGroup,
 * UpdateUser, PutBucketPolicy; initial access: StartSession,
 * GetAuthorizationToken; defence evasion: DeleteFlowLogs,
 * DisassociateFromMasterAccount, UpdateDetector); the rest are the AWS
 * calls behind the techniques of MITRE ATT&CK's IaaS matrix (log and
 * monitor tampering, snapshot sharing, key and login creation, policy
 * attachment, ...). An API sits in one tactic only: the one GuardDuty
 * names, else the one an intruder most often uses it for. */
#include "detect/apitactic.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

struct row {
	const char *name;
	enum mm_tactic t;
};

/* sorted by name (strcmp), so a reader finds a row and a duplicate
 * shows; test_apitactic checks the order. Searched by hash (row_of). */
static const struct row rows[] = {
	{"AddPermission", MM_TAC_PERSISTENCE},
	{"AddRoleToInstanceProfile", MM_TAC_PERSISTENCE},
	{"AddUserToGroup", MM_TAC_PRIVILEGE_ESCALATION},
	{"AssociateIamInstanceProfile", MM_TAC_PRIVILEGE_ESCALATION},
	{"AssumeRoleWithSAML", MM_TAC_INITIAL_ACCESS},
	{"AssumeRoleWithWebIdentity", MM_TAC_INITIAL_ACCESS},
	{"AttachGroupPolicy", MM_TAC_PRIVILEGE_ESCALATION},
	{"AttachRolePolicy", MM_TAC_PRIVILEGE_ESCALATION},
	{"AttachUserPolicy", MM_TAC_PRIVILEGE_ESCALATION},
	{"AuthorizeSecurityGroupEgress", MM_TAC_PERSISTENCE},
	{"AuthorizeSecurityGroupIngress", MM_TAC_PERSISTENCE},
	{"BatchDisableStandards", MM_TAC_DEFENSE_EVASION},
	{"BatchGetSecretValue", MM_TAC_CREDENTIAL_ACCESS},
	{"ConsoleLogin", MM_TAC_INITIAL_ACCESS},
	{"CopyDBClusterSnapshot", MM_TAC_EXFILTRATION},
	{"CopyDBSnapshot", MM_TAC_EXFILTRATION},
	{"CopyImage", MM_TAC_EXFILTRATION},
	{"CopySnapshot", MM_TAC_EXFILTRATION},
	{"CreateAccessKey", MM_TAC_PERSISTENCE},
	{"CreateComputeEnvironment", MM_TAC_IMPACT},
	{"CreateDBClusterSnapshot", MM_TAC_EXFILTRATION},
	{"CreateDBSnapshot", MM_TAC_EXFILTRATION},
	{"CreateEventSourceMapping", MM_TAC_PERSISTENCE},
	{"CreateExportTask", MM_TAC_EXFILTRATION},
	{"CreateFilter", MM_TAC_DEFENSE_EVASION},
	{"CreateFunction", MM_TAC_PERSISTENCE},
	{"CreateIPSet", MM_TAC_DEFENSE_EVASION},
	{"CreateImage", MM_TAC_EXFILTRATION},
	{"CreateInstanceProfile", MM_TAC_PERSISTENCE},
	{"CreateKeyPair", MM_TAC_PERSISTENCE},
	{"CreateLoginProfile", MM_TAC_PERSISTENCE},
	{"CreateNetworkAclEntry", MM_TAC_PERSISTENCE},
	{"CreateOpenIDConnectProvider", MM_TAC_PERSISTENCE},
	{"CreatePolicy", MM_TAC_PRIVILEGE_ESCALATION},
	{"CreatePolicyVersion", MM_TAC_PRIVILEGE_ESCALATION},
	{"CreateReplicationTask", MM_TAC_EXFILTRATION},
	{"CreateRole", MM_TAC_PERSISTENCE},
	{"CreateRoute", MM_TAC_PERSISTENCE},
	{"CreateSAMLProvider", MM_TAC_PERSISTENCE},
	{"CreateSecurityGroup", MM_TAC_PERSISTENCE},
	{"CreateServiceSpecificCredential", MM_TAC_PERSISTENCE},
	{"CreateSnapshot", MM_TAC_EXFILTRATION},
	{"CreateStoreImageTask", MM_TAC_EXFILTRATION},
	{"CreateToken", MM_TAC_INITIAL_ACCESS},
	{"CreateTrigger", MM_TAC_PERSISTENCE},
	{"CreateUser", MM_TAC_PERSISTENCE},
	{"CreateVirtualMFADevice", MM_TAC_PERSISTENCE},
	{"DeactivateMFADevice", MM_TAC_DEFENSE_EVASION},
	{"DeleteAccessKey", MM_TAC_IMPACT},
	{"DeleteAlarms", MM_TAC_DEFENSE_EVASION},
	{"DeleteBackupVault", MM_TAC_IMPACT},
	{"DeleteBucket", MM_TAC_IMPACT},
	{"DeleteBucketEncryption", MM_TAC_DEFENSE_EVASION},
	{"DeleteBucketPolicy", MM_TAC_IMPACT},
	{"DeleteConfigRule", MM_TAC_DEFENSE_EVASION},
	{"DeleteConfigurationRecorder", MM_TAC_DEFENSE_EVASION},
	{"DeleteDBCluster", MM_TAC_IMPACT},
	{"DeleteDBClusterSnapshot", MM_TAC_IMPACT},
	{"DeleteDBInstance", MM_TAC_IMPACT},
	{"DeleteDBSnapshot", MM_TAC_IMPACT},
	{"DeleteDeliveryChannel", MM_TAC_DEFENSE_EVASION},
	{"DeleteDetector", MM_TAC_DEFENSE_EVASION},
	{"DeleteEventBus", MM_TAC_DEFENSE_EVASION},
	{"DeleteFlowLogs", MM_TAC_DEFENSE_EVASION},
	{"DeleteFunction", MM_TAC_IMPACT},
	{"DeleteHostedZone", MM_TAC_IMPACT},
	{"DeleteLogGroup", MM_TAC_DEFENSE_EVASION},
	{"DeleteLogStream", MM_TAC_DEFENSE_EVASION},
	{"DeleteLoginProfile", MM_TAC_IMPACT},
	{"DeleteMembers", MM_TAC_DEFENSE_EVASION},
	{"DeleteModelInvocationLoggingConfiguration", MM_TAC_DEFENSE_EVASION},
	{"DeletePublishingDestination", MM_TAC_DEFENSE_EVASION},
	{"DeleteRecoveryPoint", MM_TAC_IMPACT},
	{"DeleteRetentionPolicy", MM_TAC_DEFENSE_EVASION},
	{"DeleteRole", MM_TAC_IMPACT},
	{"DeleteRolePermissionsBoundary", MM_TAC_PRIVILEGE_ESCALATION},
	{"DeleteRuleGroup", MM_TAC_DEFENSE_EVASION},
	{"DeleteSecurityGroup", MM_TAC_IMPACT},
	{"DeleteSnapshot", MM_TAC_IMPACT},
	{"DeleteStack", MM_TAC_IMPACT},
	{"DeleteTable", MM_TAC_IMPACT},
	{"DeleteThreatIntelSet", MM_TAC_DEFENSE_EVASION},
	{"DeleteTrail", MM_TAC_DEFENSE_EVASION},
	{"DeleteUser", MM_TAC_IMPACT},
	{"DeleteUserPermissionsBoundary", MM_TAC_PRIVILEGE_ESCALATION},
	{"DeleteVirtualMFADevice", MM_TAC_DEFENSE_EVASION},
	{"DeleteVolume", MM_TAC_IMPACT},
	{"DeleteWebACL", MM_TAC_DEFENSE_EVASION},
	{"DeregisterDelegatedAdministrator", MM_TAC_DEFENSE_EVASION},
	{"DetachUserPolicy", MM_TAC_IMPACT},
	{"DisableAlarmActions", MM_TAC_DEFENSE_EVASION},
	{"DisableEbsEncryptionByDefault", MM_TAC_DEFENSE_EVASION},
	{"DisableKey", MM_TAC_IMPACT},
	{"DisableOrganizationAdminAccount", MM_TAC_DEFENSE_EVASION},
	{"DisableRule", MM_TAC_DEFENSE_EVASION},
	{"DisableSecurityHub", MM_TAC_DEFENSE_EVASION},
	{"DisassociateFromAdministratorAccount", MM_TAC_DEFENSE_EVASION},
	{"DisassociateFromMasterAccount", MM_TAC_DEFENSE_EVASION},
	{"DisassociateMembers", MM_TAC_DEFENSE_EVASION},
	{"EnableMFADevice", MM_TAC_PERSISTENCE},
	{"ExportImage", MM_TAC_EXFILTRATION},
	{"ExportSnapshot", MM_TAC_EXFILTRATION},
	{"GenerateDbAuthToken", MM_TAC_CREDENTIAL_ACCESS},
	{"GetAuthorizationToken", MM_TAC_INITIAL_ACCESS},
	{"GetFederationToken", MM_TAC_INITIAL_ACCESS},
	{"GetParameter", MM_TAC_CREDENTIAL_ACCESS},
	{"GetParameters", MM_TAC_CREDENTIAL_ACCESS},
	{"GetParametersByPath", MM_TAC_CREDENTIAL_ACCESS},
	{"GetPasswordData", MM_TAC_CREDENTIAL_ACCESS},
	{"GetRoleCredentials", MM_TAC_INITIAL_ACCESS},
	{"GetSecretValue", MM_TAC_CREDENTIAL_ACCESS},
	{"GetSessionToken", MM_TAC_CREDENTIAL_ACCESS},
	{"GetSigninToken", MM_TAC_INITIAL_ACCESS},
	{"ImportKeyPair", MM_TAC_PERSISTENCE},
	{"LeaveOrganization", MM_TAC_DEFENSE_EVASION},
	{"ListSecrets", MM_TAC_CREDENTIAL_ACCESS},
	{"ModifyDBClusterSnapshotAttribute", MM_TAC_EXFILTRATION},
	{"ModifyDBInstance", MM_TAC_IMPACT},
	{"ModifyDBInstanceSecurityGroups", MM_TAC_PERSISTENCE},
	{"ModifyDBSnapshotAttribute", MM_TAC_EXFILTRATION},
	{"ModifyImageAttribute", MM_TAC_EXFILTRATION},
	{"ModifyInstanceAttribute", MM_TAC_PERSISTENCE},
	{"ModifySnapshotAttribute", MM_TAC_EXFILTRATION},
	{"PutBucketLifecycle", MM_TAC_IMPACT},
	{"PutBucketLifecycleConfiguration", MM_TAC_IMPACT},
	{"PutBucketLogging", MM_TAC_DEFENSE_EVASION},
	{"PutBucketPolicy", MM_TAC_IMPACT},
	{"PutBucketReplication", MM_TAC_EXFILTRATION},
	{"PutBucketVersioning", MM_TAC_IMPACT},
	{"PutEventSelectors", MM_TAC_DEFENSE_EVASION},
	{"PutGroupPolicy", MM_TAC_PRIVILEGE_ESCALATION},
	{"PutInsightSelectors", MM_TAC_DEFENSE_EVASION},
	{"PutKeyPolicy", MM_TAC_IMPACT},
	{"PutRetentionPolicy", MM_TAC_DEFENSE_EVASION},
	{"PutRolePermissionsBoundary", MM_TAC_PRIVILEGE_ESCALATION},
	{"PutRolePolicy", MM_TAC_PRIVILEGE_ESCALATION},
	{"PutRule", MM_TAC_PERSISTENCE},
	{"PutTargets", MM_TAC_PERSISTENCE},
	{"PutUserPermissionsBoundary", MM_TAC_PRIVILEGE_ESCALATION},
	{"PutUserPolicy", MM_TAC_PRIVILEGE_ESCALATION},
	{"RegisterImage", MM_TAC_PERSISTENCE},
	{"ReplaceIamInstanceProfileAssociation", MM_TAC_PRIVILEGE_ESCALATION},
	{"ReplaceNetworkAclEntry", MM_TAC_PERSISTENCE},
	{"RequestServiceQuotaIncrease", MM_TAC_IMPACT},
	{"RestoreDBClusterFromSnapshot", MM_TAC_EXFILTRATION},
	{"RestoreDBInstanceFromDBSnapshot", MM_TAC_EXFILTRATION},
	{"ResumeSession", MM_TAC_INITIAL_ACCESS},
	{"RetrieveEnvironmentInfo", MM_TAC_CREDENTIAL_ACCESS},
	{"RunInstances", MM_TAC_IMPACT},
	{"ScheduleKeyDeletion", MM_TAC_IMPACT},
	{"SendSSHPublicKey", MM_TAC_INITIAL_ACCESS},
	{"SendSerialConsoleSSHPublicKey", MM_TAC_INITIAL_ACCESS},
	{"SetDefaultPolicyVersion", MM_TAC_PRIVILEGE_ESCALATION},
	{"SetInstanceProfile", MM_TAC_PERSISTENCE},
	{"SetUserPolicy", MM_TAC_PERSISTENCE},
	{"SharedSnapshotCopyInitiated", MM_TAC_EXFILTRATION},
	{"StartExportTask", MM_TAC_EXFILTRATION},
	{"StartSSOSession", MM_TAC_INITIAL_ACCESS},
	{"StartSession", MM_TAC_INITIAL_ACCESS},
	{"StopConfigurationRecorder", MM_TAC_DEFENSE_EVASION},
	{"StopInstances", MM_TAC_IMPACT},
	{"StopLogging", MM_TAC_DEFENSE_EVASION},
	{"StopMonitoringMembers", MM_TAC_DEFENSE_EVASION},
	{"TerminateInstances", MM_TAC_IMPACT},
	{"UpdateAccessKey", MM_TAC_PERSISTENCE},
	{"UpdateAssumeRolePolicy", MM_TAC_PRIVILEGE_ESCALATION},
	{"UpdateDetector", MM_TAC_DEFENSE_EVASION},
	{"UpdateFilter", MM_TAC_DEFENSE_EVASION},
	{"UpdateFunctionCode", MM_TAC_PERSISTENCE},
	{"UpdateFunctionConfiguration", MM_TAC_PERSISTENCE},
	{"UpdateIPSet", MM_TAC_DEFENSE_EVASION},
	{"UpdateLoginProfile", MM_TAC_PERSISTENCE},
	{"UpdateSAMLProvider", MM_TAC_PERSISTENCE},
	{"UpdateTrail", MM_TAC_DEFENSE_EVASION},
	{"UpdateUser", MM_TAC_IMPACT},
	{"UploadSSHPublicKey", MM_TAC_PERSISTENCE},
	{"UploadSigningCertificate", MM_TAC_PERSISTENCE},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static const char *const names[MM_TAC__N] = {
	[MM_TAC_NONE] = "",
	[MM_TAC_CREDENTIAL_ACCESS] = "CredentialAccess",
	[MM_TAC_DEFENSE_EVASION] = "DefenseEvasion",
	[MM_TAC_DISCOVERY] = "Discovery",
	[MM_TAC_EXFILTRATION] = "Exfiltration",
	[MM_TAC_IMPACT] = "Impact",
	[MM_TAC_INITIAL_ACCESS] = "InitialAccess",
	[MM_TAC_PERSISTENCE] = "Persistence",
	[MM_TAC_PRIVILEGE_ESCALATION] = "PrivilegeEscalation",
};

const char *mm_tactic_name(enum mm_tactic t)
{
	return (unsigned)t < MM_TAC__N ? names[t] : "";
}

static int has_prefix(struct mm_str s, const char *p)
{
	size_t n = strlen(p);
	return s.n > n && memcmp(s.p, p, n) == 0;
}

static int contains(struct mm_str s, const char *w)
{
	size_t n = strlen(w), i;
	for (i = 0; i + n <= s.n; i++)
		if (memcmp(s.p + i, w, n) == 0)
			return 1;
	return 0;
}

/* Reads that are a workload's own traffic, not someone looking around:
 * S3 object reads and listings, table and stream reads, metric and log
 * reads that monitoring agents make all day. */
static int data_plane_read(struct mm_str source, struct mm_str name)
{
	if (mm_str_eqz(source, "s3.amazonaws.com"))
		return contains(name, "Object") || contains(name, "Part");
	if (mm_str_eqz(source, "dynamodb.amazonaws.com") || mm_str_eqz(source, "kinesis.amazonaws.com") ||
	    mm_str_eqz(source, "sqs.amazonaws.com") || mm_str_eqz(source, "kms.amazonaws.com"))
		return 1;
	if (mm_str_eqz(source, "monitoring.amazonaws.com"))
		return has_prefix(name, "GetMetric");
	if (mm_str_eqz(source, "logs.amazonaws.com"))
		return mm_str_eqz(name, "GetLogEvents") || mm_str_eqz(name, "GetQueryResults");
	return 0;
}

static int digits(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* The name without the API version some services append: Lambda's
 * "CreateFunction20150331", "UpdateFunctionCode20150331v2", CloudFront's
 * "CreateDistribution2020_05_31". */
static struct mm_str unversioned(struct mm_str name)
{
	size_t n = name.n;
	const char *p = name.p;
	if (n > 2 && p[n - 2] == 'v' && p[n - 1] >= '0' && p[n - 1] <= '9')
		n -= 2;
	if (n > 8 && digits(p + n - 8, 8))
		name.n = n - 8;
	else if (n > 10 && p[n - 3] == '_' && p[n - 6] == '_' && digits(p + n - 10, 4) &&
		 digits(p + n - 5, 2) && digits(p + n - 2, 2))
		name.n = n - 10;
	return name;
}

/* The rows by name hash, built once: sequence asks for every record,
 * where bisection's nine strlen+memcmp steps cost ~2% of a CloudTrail
 * scan. Slots hold a row index + 1; 0 is empty. */
#define TAB_BITS 10
static uint16_t tab[1u << TAB_BITS];
_Static_assert(NROWS * 2 <= (1u << TAB_BITS), "the tactic table is at most half full");
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static uint64_t name_hash(const char *p, size_t n)
{
	return mm_hash_fast(p, n, 0x7461637469637321ull);
}

static void tab_build(void)
{
	size_t i;
	for (i = 0; i < NROWS; i++) {
		size_t j = name_hash(rows[i].name, strlen(rows[i].name)) & ((1u << TAB_BITS) - 1);
		while (tab[j])
			j = (j + 1) & ((1u << TAB_BITS) - 1);
		tab[j] = (uint16_t)(i + 1);
	}
}

static int row_of(struct mm_str name)
{
	size_t j = name_hash(name.p, name.n) & ((1u << TAB_BITS) - 1);
	pthread_once(&tab_once, tab_build);
	for (; tab[j]; j = (j + 1) & ((1u << TAB_BITS) - 1)) {
		const char *r = rows[tab[j] - 1].name;
		if (strlen(r) == name.n && memcmp(r, name.p, name.n) == 0)
			return tab[j] - 1;
	}
	return -1;
}

enum mm_tactic mm_api_tactic(struct mm_str source, struct mm_str name, int read_only)
{
	int r;

	if (!name.n || name.n > 96)
		return MM_TAC_NONE;
	name = unversioned(name);
	if ((r = row_of(name)) >= 0)
		return rows[r].t;
	/* a write the table does not know serves no tactic we name */
	if (read_only == 0)
		return MM_TAC_NONE;
	if (!(has_prefix(name, "List") || has_prefix(name, "Describe") || has_prefix(name, "Get") ||
	      has_prefix(name, "BatchGet") || has_prefix(name, "Search") || has_prefix(name, "Lookup")))
		return MM_TAC_NONE;
	return data_plane_read(source, name) ? MM_TAC_NONE : MM_TAC_DISCOVERY;
}

/* for the unit test: is the table sorted, and is every row found? */
int mm__apitactic_sorted(void);
int mm__apitactic_sorted(void)
{
	size_t i;
	for (i = 1; i < NROWS; i++)
		if (strcmp(rows[i - 1].name, rows[i].name) >= 0)
			return 0;
	/* and the hash finds every row */
	for (i = 0; i < NROWS; i++)
		if (row_of(mm_str_c(rows[i].name)) != (int)i)
			return 0;
	return 1;
}
