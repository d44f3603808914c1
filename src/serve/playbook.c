/* playbook.c - remediation steps per finding-type family (playbook.h).
 *
 * The order inside each family is the order a responder works in:
 * contain first without destroying evidence (a restrictive security
 * group, a snapshot), then look (logs, connections, processes,
 * persistence), then eradicate (rotate credentials, rebuild from a
 * known-good image), then close the gap that let it in. */
#include "serve/playbook.h"

#include <fnmatch.h>
#include <string.h>

#include "core/err.h"

static const char *const EC2_COMPROMISE[] = {
	"Contain without destroying evidence: attach a restrictive security group that allows no "
	"inbound and no outbound traffic except from your forensics host (aws ec2 "
	"modify-instance-attribute --instance-id ID --groups sg-ISOLATION). Existing tracked "
	"connections survive a security group change: also add a deny network ACL entry for the "
	"remote address if the connection must stop now.",
	"Before changing anything on the host, snapshot every EBS volume (aws ec2 create-snapshot "
	"--volume-id VOL --description 'IR FINDING-ID') and, if you can, capture memory. Tag the "
	"instance (aws ec2 create-tags --resources ID --tags Key=ir,Value=FINDING-ID) and turn on "
	"termination protection.",
	"Detach the instance from its Auto Scaling group and load balancer (so it is not replaced "
	"or sent traffic), keeping it running for the investigation.",
	"Open the evidence records below (file and line) and note the remote addresses, ports, "
	"domains and times; search the same logs for other instances talking to them.",
	"On the host (from the forensics session): who signed in and from where - /var/log/secure "
	"(RHEL, Amazon Linux) or /var/log/auth.log (Debian, Ubuntu), `last -Faiw`, `lastb`, "
	"`journalctl -u sshd --since -7d`.",
	"Live connections and listeners: `ss -antp` (or `netstat -antp`); look for the remote "
	"address of this finding and for unexpected listeners.",
	"Processes: `ps auxf`; for anything odd, its executable and command line: `ls -l "
	"/proc/PID/exe`, `cat /proc/PID/cmdline | tr '\\0' ' '`, `ls -l /proc/PID/cwd`; binaries "
	"running from /tmp, /dev/shm or deleted files are red flags (miners, bots, reverse shells).",
	"Persistence: crontabs of every user (`for u in $(cut -d: -f1 /etc/passwd); do crontab -l "
	"-u $u; done`), /etc/crontab, /etc/cron.*, /var/spool/cron, the cron log (/var/log/cron or "
	"`grep CRON /var/log/syslog`), systemd units and timers changed recently (`systemctl "
	"list-timers`, `find /etc/systemd /usr/lib/systemd -newer /etc/hostname`), /etc/rc.local.",
	"Accounts and keys: new users or UID 0 duplicates (`awk -F: '$3==0' /etc/passwd`, recent "
	"changes to /etc/passwd, /etc/shadow, /etc/sudoers.d), every ~/.ssh/authorized_keys, and "
	"dotfiles that run at login (~/.bashrc, ~/.profile, ~/.bash_profile) for added commands.",
	"Credentials the instance could reach: revoke the instance role's active sessions (IAM "
	"console: Roles > ROLE > Revoke active sessions, which adds an AWSRevokeOlderSessions "
	"deny), rotate any access keys, database passwords and API tokens stored on the host or in "
	"its user data.",
	"Review CloudTrail for calls made with the instance role's credentials (userIdentity "
	"arn .../ROLE/INSTANCE-ID), especially from addresses outside your VPC.",
	"Eradicate: do not clean the host in place. Rebuild from a known-good image (patched AMI, "
	"fresh instance from your launch template), restore data from backups taken before the "
	"first evidence time, then terminate the isolated instance once the investigation is done.",
	"Close the way in: patch what was exploited, remove public exposure the instance does not "
	"need, and archive this finding with a note once it is resolved.",
	NULL,
};

static const char *const EC2_TARGETED[] = {
	"The instance is the target: something on the Internet is attacking or probing it. Check "
	"whether the attack succeeded before treating it as noise.",
	"Restrict the exposed port: change its security group so the port (SSH 22, RDP 3389, or "
	"the probed port in the finding) is reachable only from your admin addresses or a bastion "
	"/ Session Manager, never 0.0.0.0/0.",
	"Look for a successful sign-in from the remote addresses in the finding: /var/log/secure or "
	"/var/log/auth.log (`grep -E 'Accepted|session opened' /var/log/auth.log`), `last -Faiw`; "
	"on Windows the Security event log (event 4624 with logon type 10).",
	"If any sign-in from them succeeded, or the probed service has a known vulnerability, treat "
	"the instance as compromised: isolate it with a restrictive security group, snapshot its "
	"volumes, and follow the instance-compromise steps (connections with `ss -antp`, processes "
	"with `ps auxf`, crontabs, ~/.ssh/authorized_keys, new users, rotate credentials, rebuild).",
	"Harden: key-only SSH (PasswordAuthentication no), no direct root login, fail2ban or an "
	"equivalent, and the service itself patched and bound to private addresses.",
	"If the addresses keep coming back and you cannot close the port, add them to a deny "
	"network ACL, then archive the finding - or suppress findings like this one for that "
	"remote address once you judged it harmless.",
	NULL,
};

static const char *const EC2_DNS[] = {
	"The instance resolved a domain linked to malware, command and control, mining, phishing or "
	"data exfiltration (or generated-looking names). Find which process asked: on the host, "
	"`ss -anup` and `ss -antp` while it happens, the resolver's logs, and processes in `ps auxf` "
	"with odd executable paths (`ls -l /proc/PID/exe`).",
	"Contain if the lookup was not a one-off by a person: attach a restrictive security group "
	"(no egress except your forensics host) and snapshot the EBS volumes before changing "
	"anything.",
	"Block the domain for the VPC (Route 53 Resolver DNS Firewall rule group) so other "
	"instances cannot reach it while you investigate.",
	"Check persistence the malware may have added: crontabs (`crontab -l -u USER`, /etc/cron.*), "
	"systemd units and timers, ~/.ssh/authorized_keys, dotfiles, new users.",
	"Rotate the credentials the instance had (instance role sessions, stored keys and tokens), "
	"then rebuild it from a known-good image rather than cleaning it in place.",
	"For DNS exfiltration: estimate what left (the query names carry it; see the evidence "
	"records) and involve whoever owns that data.",
	NULL,
};

static const char *const IAM_CREDS[] = {
	"Identify the principal: the access key id, user or role and its account in the finding's "
	"resource. Ask its owner whether the calls, the source address and the user agent were "
	"theirs.",
	"If not, disable the access key at once (aws iam update-access-key --user-name USER "
	"--access-key-id AKIA... --status Inactive); for a role, revoke its active sessions (IAM "
	"console: Revoke active sessions) and, for instance credentials used outside the instance, "
	"isolate that instance as compromised.",
	"Review the principal's recent calls in CloudTrail (aws cloudtrail lookup-events "
	"--lookup-attributes AttributeKey=AccessKeyId,AttributeValue=AKIA... --start-time ...) from "
	"a day before the first evidence time: what it listed, read, created or changed.",
	"Undo persistence: IAM users, access keys, login profiles, roles and trust policies, "
	"policies attached or inlined, federation providers, Lambda functions and EC2 instances "
	"created during that window; remove what your team did not create.",
	"Rotate: create a new access key for the legitimate owner, delete the old one, and reset "
	"the console password and MFA if the user has them. Check other secrets the principal could "
	"read (Secrets Manager, SSM parameters, S3 objects).",
	"Restrict the principal to least privilege and, where possible, to known source networks "
	"(aws:SourceIp / aws:SourceVpc conditions); prefer short-lived role credentials to "
	"long-lived keys.",
	NULL,
};

static const char *const LOGGING[] = {
	"Logging or a security control was turned off. First restore it: aws cloudtrail "
	"start-logging --name TRAIL (and put back the trail's settings, event selectors and "
	"destination), re-enable S3 server access logging or Block Public Access, restore the "
	"password policy - whatever this finding's API call changed.",
	"Find out who did it and whether it was planned: the principal, source address and user "
	"agent are in the finding; ask the owner.",
	"If it was not planned, treat the principal's credentials as compromised: disable or rotate "
	"the access key (aws iam update-access-key --status Inactive), revoke role sessions, and "
	"review the principal's other recent calls in CloudTrail around the evidence time.",
	"Look at what happened while the control was off (logs from other sources: VPC Flow Logs, "
	"DNS logs, S3 data events) and for other changes by the same principal.",
	"Prevent it: an SCP or permission boundary that denies cloudtrail:StopLogging, "
	"DeleteTrail, UpdateTrail and s3:PutBucketLogging / PutAccountPublicAccessBlock to all but "
	"a break-glass role.",
	NULL,
};

static const char *const S3_POLICY[] = {
	"A bucket or the account was opened to the public, or the root user was used. Check "
	"whether that was intended (a public website bucket) with the bucket's owner.",
	"If not, close it again: aws s3api put-public-access-block (bucket) or aws s3control "
	"put-public-access-block (account), and remove public grants from the bucket policy and "
	"ACLs.",
	"Review S3 access logs / CloudTrail data events for reads of the bucket while it was open, "
	"and decide whether the data must be treated as disclosed.",
	"Treat the calling principal as possibly compromised if the change was not planned: rotate "
	"its access keys, review its other calls. For root use: confirm who signed in, rotate the "
	"root password, make sure root has MFA and no access keys.",
	NULL,
};

static const char *const DOS[] = {
	"The instance is sending a flood (denial of service) or spam: it is most likely compromised "
	"and used as a bot. Isolate it at once with a restrictive security group (no egress) and "
	"snapshot its EBS volumes before changing anything.",
	"Find the process sending the traffic: `ss -antup`, `ps auxf`, executables under /tmp or "
	"/dev/shm (`ls -l /proc/PID/exe`); note its persistence (crontabs, /etc/cron.*, systemd "
	"units, ~/.ssh/authorized_keys, new users).",
	"Rotate the instance role's sessions and any credentials on the host, then rebuild it from "
	"a known-good image. Tell the targets' owners if they are outside your organisation and "
	"your provider requires it.",
	NULL,
};

static const char *const GENERIC[] = {
	"Read the finding's resource, the actor or target role, the remote address and the "
	"evidence records (file and line) below; decide whether the activity is expected.",
	"If it is not: contain the resource (a restrictive security group for an instance, disable "
	"the access key for a principal) and keep evidence before changing anything (EBS "
	"snapshots, log copies).",
	"Investigate what else the actor did (CloudTrail, flow and DNS logs around the evidence "
	"times), rotate credentials it could have used, and rebuild compromised hosts from a "
	"known-good image.",
	"If the activity is expected, archive the finding, or suppress findings like this one with "
	"a filter so new ones are archived on arrival.",
	NULL,
};

static const struct mm_playbook PB[] = {
	{"ec2-compromise", "EC2 instance possibly compromised", EC2_COMPROMISE},
	{"ec2-targeted", "EC2 instance attacked or probed from outside", EC2_TARGETED},
	{"ec2-dns", "EC2 instance resolving malicious domains", EC2_DNS},
	{"iam-credentials", "IAM credentials possibly misused", IAM_CREDS},
	{"logging-disabled", "Logging or a security control turned off", LOGGING},
	{"s3-policy", "S3 exposure or root credential use", S3_POLICY},
	{"ec2-dos", "EC2 instance sending attack traffic", DOS},
	{"generic", "Triage", GENERIC},
};
enum { F_COMP, F_TARGET, F_DNS, F_IAM, F_LOG, F_S3, F_DOS, F_GENERIC };

/* First match wins. role: 'A' actor only, 'T' target only, 0 either. */
static const struct {
	const char *glob;
	char role;
	int family;
} MAP[] = {
	{"Stealth:*", 0, F_LOG},
	{"DefenseEvasion:IAMUser/*", 0, F_LOG},
	{"Policy:*", 0, F_S3},
	{"Backdoor:EC2/DenialOfService*", 0, F_DOS},
	{"Backdoor:EC2/Spambot", 0, F_DOS},
	{"*:EC2/SSHBruteForce", 'T', F_TARGET},
	{"*:EC2/RDPBruteForce", 'T', F_TARGET},
	{"*:EC2/WinRMBruteForce", 'T', F_TARGET},
	{"Recon:EC2/PortProbe*", 0, F_TARGET},
	{"*:EC2/*!DNS", 0, F_DNS},
	{"*:EC2/*DomainRequest*", 0, F_DNS},
	{"Trojan:EC2/DNSDataExfiltration", 0, F_DNS},
	{"UnauthorizedAccess:EC2/MetadataDNSRebind", 0, F_DNS},
	{"DefenseEvasion:EC2/*", 0, F_DNS},
	{"*:EC2/*", 0, F_COMP},
	{"*:IAMUser/*", 0, F_IAM},
	{"*:IAM/*", 0, F_IAM},
};

const struct mm_playbook *mm_playbook_for(const char *type, const char *role)
{
	size_t i;
	char r = role && !strcmp(role, "ACTOR") ? 'A' : role && !strcmp(role, "TARGET") ? 'T' : 0;
	if (!type)
		return &PB[F_GENERIC];
	for (i = 0; i < sizeof(MAP) / sizeof(MAP[0]); i++) {
		if (fnmatch(MAP[i].glob, type, 0))
			continue;
		if (MAP[i].role && r && MAP[i].role != r)
			continue;	/* brute force from the instance: it is the attacker */
		return &PB[MAP[i].family];
	}
	return &PB[F_GENERIC];
}

int mm_playbook_json(const struct mm_playbook *pb, struct mm_buf *out)
{
	int rc = 0, i;
	rc |= mm_buf_addz(out, "{\"family\":");
	rc |= mm_buf_json_strz(out, pb->family);
	rc |= mm_buf_addz(out, ",\"title\":");
	rc |= mm_buf_json_strz(out, pb->title);
	rc |= mm_buf_addz(out, ",\"steps\":[");
	for (i = 0; pb->steps[i]; i++) {
		if (i)
			rc |= mm_buf_addc(out, ',');
		rc |= mm_buf_json_strz(out, pb->steps[i]);
	}
	rc |= mm_buf_addz(out, "]}");
	return rc ? MM_ENOMEM : 0;
}
