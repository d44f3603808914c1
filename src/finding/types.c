/* types.c - the finding types mamori raises: one table row each, with
 * GuardDuty's default severity, resource type, action type, title and
 * description.
 *
 * Severities follow GuardDuty's finding-type reference (High = 8,
 * Medium = 5, Low = 2). Titles and descriptions are GuardDuty's wording
 * where we could check it against findings GuardDuty emitted (marked
 * "as GuardDuty" below); the others follow the same pattern and are noted
 * in docs/finding-types.md. They are templates: finding/output.c replaces
 * these tokens at render time, from the finding:
 *
 *   {instance}  instance id, else the ENI, else the asking address, else
 *               the runtime host name
 *   {ip} {port} remote address and port     {domain}  queried name
 *   {lport}     local port (a probed port)
 *   {api}       API name (the latest)        {service} eventSource
 *   {user}      user name, else principal id {key}     access key id
 *   {list}      threat list name             {bucket}  S3 bucket name
 *   {process}   process name                 {host}    runtime host name
 *   {actor} {target}  the attacking and the attacked side: the instance
 *               and the remote address, by the finding's resource role
 *
 * An unknown token is copied as it stands. docs/finding-types.md is the
 * prose twin of this table; keep them together. Adding a type is one row
 * here (and its doc entry); nothing else switches on type names. */
#include "finding/finding.h"

#include <pthread.h>
#include <string.h>

#include "core/hash.h"

#define HIGH 8.0
#define MED 5.0
#define LOW 2.0

#define INST MM_RES_INSTANCE
#define AKEY MM_RES_ACCESSKEY
#define NET MM_ACTION_NETWORK_CONNECTION
#define DNS MM_ACTION_DNS_REQUEST
#define API MM_ACTION_AWS_API_CALL
#define PROBE MM_ACTION_PORT_PROBE

static const struct mm_ftype types[] = {
	/* VPC Flow Logs + threat intelligence */
	{"CryptoCurrency:EC2/BitcoinTool.B", HIGH, INST, NET,
	 "EC2 instance {instance} is communicating with a Bitcoin-related IP address.",
	 /* as GuardDuty */
	 "EC2 instance {instance} is communicating outbound with a known Bitcoin-related IP address "
	 "{ip}."},
	{"Backdoor:EC2/C&CActivity.B", HIGH, INST, NET,
	 "EC2 instance {instance} is communicating with a Command and Control server IP address.",
	 "EC2 instance {instance} is communicating with IP address {ip} on port {port}, which is "
	 "associated with a known Command and Control server."},
	{"UnauthorizedAccess:EC2/TorClient", HIGH, INST, NET,
	 /* as GuardDuty */
	 "EC2 instance {instance} is communicating with Tor Entry node.",
	 "EC2 instance {instance} is communicating with IP address {ip} on the Tor Anonymizing Proxy "
	 "network marked as an Entry node."},
	{"UnauthorizedAccess:EC2/TorRelay", HIGH, INST, NET,
	 "EC2 instance {instance} is communicating with Tor network as a relay.",
	 "EC2 instance {instance} is communicating with IP address {ip} on the Tor Anonymizing Proxy "
	 "network in a manner that suggests it is acting as a Tor relay."},
	{"UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", MED, INST, NET,
	 "EC2 instance {instance} is communicating with an IP address on a custom threat list.",
	 "EC2 instance {instance} is communicating with IP address {ip} on port {port}, which is "
	 "on the custom threat list {list}."},
	{"Trojan:EC2/BlackholeTraffic", MED, INST, NET,
	 "EC2 instance {instance} is communicating with a blackholed IP address.",
	 "EC2 instance {instance} is attempting to communicate with IP address {ip} of a remote host "
	 "that is a known black hole."},
	{"Trojan:EC2/DropPoint", MED, INST, NET,
	 "EC2 instance {instance} is communicating with a Drop Point IP address.",
	 "EC2 instance {instance} is communicating with IP address {ip} of a remote host that is "
	 "known to hold credentials and other stolen data captured by malware."},
	/* Route 53 Resolver query logs + threat intelligence */
	{"CryptoCurrency:EC2/BitcoinTool.B!DNS", HIGH, INST, DNS,
	 /* as GuardDuty */
	 "Bitcoin-related domain name queried by EC2 instance {instance}.",
	 "EC2 instance {instance} is querying a domain name that is associated with Bitcoin-related "
	 "activity."},
	{"Backdoor:EC2/C&CActivity.B!DNS", HIGH, INST, DNS,
	 /* title as GuardDuty */
	 "Command and Control server domain name queried by EC2 instance {instance}.",
	 "EC2 instance {instance} is querying a domain name associated with a known Command and "
	 "Control server."},
	{"Impact:EC2/MaliciousDomainRequest.Custom", MED, INST, DNS,
	 "Domain name on a custom threat list queried by EC2 instance {instance}.",
	 "EC2 instance {instance} is querying domain name {domain}, which is on the custom threat "
	 "list {list}."},
	{"Trojan:EC2/BlackholeTraffic!DNS", MED, INST, DNS,
	 /* as GuardDuty */
	 "Blackholed domain name queried by EC2 instance {instance}.",
	 "EC2 instance {instance} is querying a domain name of a blackholed domain."},
	{"Trojan:EC2/DropPoint!DNS", MED, INST, DNS,
	 /* as GuardDuty */
	 "Drop Point domain name queried by EC2 instance {instance}.",
	 "EC2 instance {instance} is querying a domain name of a remote host that is known to hold "
	 "credentials and other stolen data captured by malware."},
	/* Route 53 Resolver query logs + domain reputation lists */
	{"Impact:EC2/AbusedDomainRequest.Reputation", MED, INST, DNS,
	 "EC2 instance {instance} is querying a low reputation domain name associated with known "
	 "abused domains.",
	 "EC2 instance {instance} is querying domain name {domain}, which is on the abused-domain "
	 "list {list} (dynamic DNS and other freely abused names)."},
	{"Impact:EC2/BitcoinDomainRequest.Reputation", HIGH, INST, DNS,
	 "EC2 instance {instance} is querying a low reputation domain name associated with "
	 "cryptocurrency-related activity.",
	 "EC2 instance {instance} is querying domain name {domain}, which is on the "
	 "cryptocurrency-related domain list {list}."},
	{"Impact:EC2/MaliciousDomainRequest.Reputation", HIGH, INST, DNS,
	 "EC2 instance {instance} is querying a low reputation domain name associated with known "
	 "malicious domains.",
	 "EC2 instance {instance} is querying domain name {domain}, which is on the malicious-domain "
	 "list {list}."},
	{"Impact:EC2/SuspiciousDomainRequest.Reputation", LOW, INST, DNS,
	 "EC2 instance {instance} is querying a low reputation domain name that is suspicious in "
	 "nature.",
	 "EC2 instance {instance} is querying domain name {domain}, which is on the suspicious-domain "
	 "list {list}."},
	{"Trojan:EC2/DriveBySourceTraffic!DNS", HIGH, INST, DNS,
	 "EC2 instance {instance} is querying a domain name of a known source of drive-by download "
	 "attacks.",
	 "EC2 instance {instance} is querying domain name {domain} of a remote host that is a known "
	 "source of drive-by download attacks (list {list})."},
	{"Trojan:EC2/PhishingDomainRequest!DNS", HIGH, INST, DNS,
	 "EC2 instance {instance} is querying a domain involved in phishing attacks.",
	 "EC2 instance {instance} is querying domain name {domain}, which is on the phishing list "
	 "{list}."},
	{"Trojan:EC2/DGADomainRequest.C!DNS", HIGH, INST, DNS,
	 "EC2 instance {instance} is querying an algorithmically generated domain.",
	 "EC2 instance {instance} is querying domain name {domain}, which is on the list of known "
	 "generated domains {list}. Such domains are commonly used by malware."},
	/* Route 53 Resolver query logs: behaviour (detect/dnsbehav.c) */
	{"Trojan:EC2/DNSDataExfiltration", HIGH, INST, DNS,
	 "EC2 instance {instance} is exfiltrating data through DNS queries.",
	 "EC2 instance {instance} is querying many long, random-looking subdomains of {domain}, a "
	 "pattern of data carried out of the network in DNS queries."},
	{"Trojan:EC2/DGADomainRequest.B", HIGH, INST, DNS,
	 "EC2 instance {instance} is querying algorithmically generated domains.",
	 "EC2 instance {instance} is querying many algorithmically generated-looking domain names "
	 "such as {domain}, most of which do not exist. Such domains are commonly used by malware."},
	{"UnauthorizedAccess:EC2/MetadataDNSRebind", HIGH, INST, DNS,
	 "EC2 instance {instance} is performing DNS lookups that resolve to the instance metadata "
	 "service.",
	 "EC2 instance {instance} queried domain name {domain}, which resolves to the instance "
	 "metadata address 169.254.169.254 (a DNS rebinding attempt to reach the metadata "
	 "service)."},
	/* CloudTrail + threat intelligence */
	{"UnauthorizedAccess:IAMUser/MaliciousIPCaller", MED, AKEY, API,
	 /* title as GuardDuty */
	 "API {api} was invoked from a known malicious IP address.",
	 "API {api} was invoked from IP address {ip}, which is on the threat list {list}."},
	{"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", MED, AKEY, API,
	 /* title as GuardDuty */
	 "API {api} was invoked from an IP address on a custom threat list.",
	 "API {api} was invoked from IP address {ip}, which is on the custom threat list {list}."},
	{"Recon:IAMUser/MaliciousIPCaller", MED, AKEY, API,
	 "API {api} was invoked from a known malicious IP address.",
	 "API {api}, commonly used to discover resources, was invoked from IP address {ip}, which "
	 "is on the threat list {list}."},
	{"Recon:IAMUser/MaliciousIPCaller.Custom", MED, AKEY, API,
	 "API {api} was invoked from an IP address on a custom threat list.",
	 "API {api}, commonly used to discover resources, was invoked from IP address {ip}, which "
	 "is on the custom threat list {list}."},
	{"UnauthorizedAccess:IAMUser/TorIPCaller", MED, AKEY, API,
	 /* as GuardDuty */
	 "API {api} was invoked from a Tor exit node.",
	 "API {api} was invoked from a Tor exit node IP address {ip}."},
	{"Recon:IAMUser/TorIPCaller", MED, AKEY, API,
	 "API {api} was invoked from a Tor exit node.",
	 "API {api}, commonly used to discover resources, was invoked from a Tor exit node IP "
	 "address {ip}."},
	/* CloudTrail: the account's root user made a call */
	{"Policy:IAMUser/RootCredentialUsage", LOW, AKEY, API,
	 /* as GuardDuty */
	 "The API {api} was invoked using root credentials.",
	 "The API {api} was invoked using root credentials from IP address {ip}."},
	/* VPC Flow Logs: brute force (detector brute). Low when the instance
	 * is the target; the detector raises it to High when it is the actor,
	 * as GuardDuty does. {actor}/{target}: the attacking/attacked side. */
	{"UnauthorizedAccess:EC2/SSHBruteForce", LOW, INST, NET,
	 /* as GuardDuty's sample finding (TARGET) */
	 "{actor} is performing SSH brute force attacks against {target}.",
	 "{actor} is performing SSH brute force attacks against {target}. Brute force attacks are "
	 "used to gain unauthorized access to your instance by guessing the SSH password."},
	{"UnauthorizedAccess:EC2/RDPBruteForce", LOW, INST, NET,
	 /* as GuardDuty (TARGET; AWS's brute force knowledge-center article) */
	 "{actor} is performing RDP brute force attacks against {target}.",
	 "{actor} is performing RDP brute force attacks against {target}. Brute force attacks are "
	 "used to gain unauthorized access to your instance by guessing the RDP password."},
	{"Impact:EC2/WinRMBruteForce", LOW, INST, NET,
	 "{actor} is performing WinRM brute force attacks against {target}.",
	 "{actor} is performing Windows Remote Management (WinRM) brute force attacks against "
	 "{target}. Brute force attacks are used to gain unauthorized access to Windows instances "
	 "by guessing their credentials."},
	/* VPC Flow Logs: per-ENI baselines (detect/netbase.c) */
	{"Behavior:EC2/NetworkPortUnusual", MED, INST, NET,
	 "EC2 instance {instance} is communicating with a remote host on an unusual server port.",
	 "EC2 instance {instance} is communicating with a remote host {ip} on server port {port}, "
	 "which it has not used before."},
	{"Backdoor:EC2/Spambot", MED, INST, NET,
	 "EC2 instance {instance} is exhibiting unusual behavior by communicating with a remote host "
	 "on port {port}.",
	 "EC2 instance {instance} is communicating with many remote mail servers such as {ip} on "
	 "port {port}, which it did not do before: it may be sending spam."},
	{"Behavior:EC2/TrafficVolumeUnusual", MED, INST, NET,
	 "EC2 instance {instance} is generating unusually large amounts of network traffic to a "
	 "remote host.",
	 "EC2 instance {instance} sent far more traffic to remote hosts such as {ip} in one hour "
	 "than in any hour of its baseline."},
	{"DefenseEvasion:EC2/UnusualDNSResolver", MED, INST, NET,
	 "EC2 instance {instance} is communicating with an unusual public DNS resolver.",
	 "EC2 instance {instance} is sending DNS queries to the public resolver {ip}, which it has "
	 "not used before."},
	{"DefenseEvasion:EC2/UnusualDoHActivity", MED, INST, NET,
	 "EC2 instance {instance} is performing an unusual DNS over HTTPS communication.",
	 "EC2 instance {instance} is communicating with the DNS over HTTPS resolver {ip} on port "
	 "{port}, which it has not done before."},
	{"DefenseEvasion:EC2/UnusualDoTActivity", MED, INST, NET,
	 "EC2 instance {instance} is performing an unusual DNS over TLS communication.",
	 "EC2 instance {instance} is communicating with {ip} on port {port} (DNS over TLS), which "
	 "it has not done before."},
	/* VPC Flow Logs: probes of the instance, scans from it (detect/netscan.c) */
	{"Recon:EC2/PortProbeUnprotectedPort", LOW, INST, PROBE,
	 /* title as GuardDuty */
	 "Unprotected port on EC2 instance {instance} is being probed.",
	 "EC2 instance {instance} has an unprotected port {lport} which is being probed by known "
	 "malicious hosts or scanners."},
	{"Recon:EC2/PortProbeEMRUnprotectedPort", HIGH, INST, PROBE,
	 /* title as GuardDuty */
	 "Unprotected EMR-related sensitive port on EC2 instance {instance} is being probed.",
	 "EC2 instance {instance} has an unprotected EMR-related sensitive port {lport} which is "
	 "being probed by known malicious hosts or scanners."},
	{"Recon:EC2/Portscan", MED, INST, NET,
	 /* title as GuardDuty */
	 "EC2 instance {instance} is performing outbound port scans against remote host {ip}.",
	 "EC2 instance {instance} is being used to perform reconnaissance scans on ports of remote "
	 "host {ip}."},
	{"Impact:EC2/PortSweep", HIGH, INST, NET,
	 "EC2 instance {instance} is probing a port on a large number of IP addresses.",
	 "EC2 instance {instance} is probing port {port} on a large number of IP addresses, as a "
	 "port sweep or worm does."},
	/* VPC Flow Logs: the instance floods one remote (detect/dos.c) */
	{"Backdoor:EC2/DenialOfService.Tcp", HIGH, INST, NET,
	 /* as GuardDuty (title and description) */
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using TCP protocol.",
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using TCP protocol."},
	{"Backdoor:EC2/DenialOfService.Udp", HIGH, INST, NET,
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using UDP protocol.",
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using UDP protocol against {ip}."},
	{"Backdoor:EC2/DenialOfService.UdpOnTcpPorts", HIGH, INST, NET,
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using UDP protocol on a TCP port.",
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using UDP protocol on TCP port {port} of {ip}."},
	{"Backdoor:EC2/DenialOfService.UnusualProtocol", HIGH, INST, NET,
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using an unusual protocol.",
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using an unusual protocol against {ip}."},
	{"Backdoor:EC2/DenialOfService.Dns", HIGH, INST, NET,
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using DNS protocol.",
	 "EC2 instance {instance} is behaving in a manner that may indicate it is being used to "
	 "perform a Denial of Service (DoS) attack using DNS protocol against {ip}."},
	/* CloudTrail: single-event configuration and agent rules (detector
	 * ctrules). Severities and headings from GuardDuty's IAM and S3
	 * finding-type reference; titles name the API like the other CloudTrail
	 * types; the S3 bucket types' resource is the bucket
	 * (with the caller's access key), the others' the access key. */
	{"Stealth:IAMUser/CloudTrailLoggingDisabled", LOW, AKEY, API,
	 "API {api} was invoked to disable AWS CloudTrail logging.",
	 "The API {api} was invoked by {user} from IP address {ip} to stop or narrow CloudTrail "
	 "logging."},
	{"Stealth:IAMUser/PasswordPolicyChange", LOW, AKEY, API,
	 "API {api} was invoked to weaken the account password policy.",
	 "The account password policy was deleted or weakened by {user} calling {api} from IP "
	 "address {ip}."},
	{"Stealth:S3/ServerAccessLoggingDisabled", LOW, MM_RES_S3BUCKET, API,
	 "API {api} was invoked to disable server access logging for S3 bucket {bucket}.",
	 "The API {api} was invoked by {user} from IP address {ip} to disable server access logging "
	 "for S3 bucket {bucket}."},
	{"Policy:S3/AccountBlockPublicAccessDisabled", LOW, AKEY, API,
	 "API {api} was invoked to disable S3 Block Public Access for the account.",
	 "The API {api} was invoked by {user} from IP address {ip} to turn off S3 Block Public "
	 "Access settings for the account."},
	{"Policy:S3/BucketBlockPublicAccessDisabled", LOW, MM_RES_S3BUCKET, API,
	 "API {api} was invoked to disable S3 Block Public Access for S3 bucket {bucket}.",
	 "The API {api} was invoked by {user} from IP address {ip} to turn off S3 Block Public "
	 "Access settings for S3 bucket {bucket}."},
	{"Policy:S3/BucketAnonymousAccessGranted", HIGH, MM_RES_S3BUCKET, API,
	 "API {api} was invoked to grant anonymous access to S3 bucket {bucket}.",
	 "The API {api} was invoked by {user} from IP address {ip} to grant anonymous access to S3 "
	 "bucket {bucket} through its bucket policy or ACL."},
	{"Policy:S3/BucketPublicAccessGranted", HIGH, MM_RES_S3BUCKET, API,
	 "API {api} was invoked to grant all authenticated AWS users access to S3 bucket "
	 "{bucket}.",
	 "The API {api} was invoked by {user} from IP address {ip} to grant every authenticated AWS "
	 "user access to S3 bucket {bucket} through its ACL."},
	{"PenTest:IAMUser/KaliLinux", MED, AKEY, API,
	 "API {api} was invoked from a Kali Linux computer.",
	 "API {api} was invoked with the credentials of {user} from a Kali Linux computer with IP "
	 "address {ip}."},
	{"PenTest:IAMUser/ParrotLinux", MED, AKEY, API,
	 "API {api} was invoked from a Parrot Security Linux computer.",
	 "API {api} was invoked with the credentials of {user} from a Parrot Security Linux "
	 "computer with IP address {ip}."},
	{"PenTest:IAMUser/PentooLinux", MED, AKEY, API,
	 "API {api} was invoked from a Pentoo Linux computer.",
	 "API {api} was invoked with the credentials of {user} from a Pentoo Linux computer with IP "
	 "address {ip}."},
	{"DefenseEvasion:IAMUser/BedrockLoggingDisabled", MED, AKEY, API,
	 "API {api} was invoked to disable Amazon Bedrock model invocation logging.",
	 "The API {api} was invoked by {user} from IP address {ip} to stop Amazon Bedrock model "
	 "invocation logging."},
	/* CloudTrail: per-principal baselines (detector ctbase). The
	 * AnomalousBehavior titles and descriptions as GuardDuty's sample
	 * finding (its "User AssumedRole : NAME" becomes {user}). */
	{"CredentialAccess:IAMUser/AnomalousBehavior", MED, AKEY, API,
	 "User {user} is anomalously invoking APIs commonly used in CredentialAccess tactics.",
	 "APIs commonly used in CredentialAccess tactics were invoked by user {user}, under anomalous "
	 "circumstances. Such activity is not typically seen from this user."},
	{"DefenseEvasion:IAMUser/AnomalousBehavior", MED, AKEY, API,
	 "User {user} is anomalously invoking APIs commonly used in DefenseEvasion tactics.",
	 "APIs commonly used in DefenseEvasion tactics were invoked by user {user}, under anomalous "
	 "circumstances. Such activity is not typically seen from this user."},
	{"Discovery:IAMUser/AnomalousBehavior", LOW, AKEY, API,
	 "User {user} is anomalously invoking APIs commonly used in Discovery tactics.",
	 "APIs commonly used in Discovery tactics were invoked by user {user}, under anomalous "
	 "circumstances. Such activity is not typically seen from this user."},
	{"Exfiltration:IAMUser/AnomalousBehavior", HIGH, AKEY, API,
	 "User {user} is anomalously invoking APIs commonly used in Exfiltration tactics.",
	 "APIs commonly used in Exfiltration tactics were invoked by user {user}, under anomalous "
	 "circumstances. Such activity is not typically seen from this user."},
	{"Impact:IAMUser/AnomalousBehavior", HIGH, AKEY, API,
	 "User {user} is anomalously invoking APIs commonly used in Impact tactics.",
	 "APIs commonly used in Impact tactics were invoked by user {user}, under anomalous "
	 "circumstances. Such activity is not typically seen from this user."},
	{"InitialAccess:IAMUser/AnomalousBehavior", MED, AKEY, API,
	 "User {user} is anomalously invoking APIs commonly used in InitialAccess tactics.",
	 "APIs commonly used in InitialAccess tactics were invoked by user {user}, under anomalous "
	 "circumstances. Such activity is not typically seen from this user."},
	{"Persistence:IAMUser/AnomalousBehavior", MED, AKEY, API,
	 "User {user} is anomalously invoking APIs commonly used in Persistence tactics.",
	 "APIs commonly used in Persistence tactics were invoked by user {user}, under anomalous "
	 "circumstances. Such activity is not typically seen from this user."},
	{"PrivilegeEscalation:IAMUser/AnomalousBehavior", MED, AKEY, API,
	 "User {user} is anomalously invoking APIs commonly used in PrivilegeEscalation tactics.",
	 "APIs commonly used in PrivilegeEscalation tactics were invoked by user {user}, under anomalous "
	 "circumstances. Such activity is not typically seen from this user."},
	{"UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", MED, AKEY, API,
	 "Unusual console login was seen for principal {user}.",
	 "Multiple worldwide successful console logins were observed for {user}: one from {ip}, "
	 "a place it never signed in from, while it was active from another."},
	{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", HIGH, AKEY, API,
	 "Credentials for instance role {user} used from external IP address.",
	 "Credentials created exclusively for an EC2 instance using instance role {user} have "
	 "been used from external IP address {ip}."},
	{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", HIGH, AKEY, API,
	 "Credentials for instance role {user} used from a different AWS address.",
	 "Credentials created exclusively for an EC2 instance using instance role {user} have "
	 "been used from {ip}, an AWS address that is not the instance's."},
	{"UnauthorizedAccess:IAMUser/UnusualASNCaller", HIGH, AKEY, API,
	 "API {api} was invoked from an IP address with an unusual ASN.",
	 "API {api} was invoked by {user} from IP address {ip}, in a network (ASN) this principal "
	 "has not used before."},
	/* CloudTrail + Sigma rules (detector sigma): not GuardDuty types but
	 * shaped like them, <purpose from the rule's ATT&CK tactic>:IAMUser/
	 * SigmaRule; the severity in the row is the default for a rule with
	 * no level, the detector sets each finding's from its rule's level.
	 * service.additionalInfo.sigma names the rule and its author. */
	{"InitialAccess:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"Execution:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"Persistence:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"PrivilegeEscalation:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"DefenseEvasion:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"Stealth:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"CredentialAccess:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"Discovery:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"Recon:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"Exfiltration:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"Impact:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"Backdoor:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	{"UnauthorizedAccess:IAMUser/SigmaRule", MED, AKEY, API,
	 "API {api} by {user} matched a Sigma rule.",
	 "The API {api} was invoked by {user} ({key}) from IP address {ip} in a way a Sigma detection "
	 "rule describes; service.additionalInfo.sigma names the rule, its level and author."},
	/* CloudTrail: attack sequences (detect/sequence.c). Title and
	 * description as GuardDuty's; {usertype}/{user} the principal. */
	{"AttackSequence:IAM/CompromisedCredentials", 9.0, AKEY, MM_ACTION_SEQUENCE,
	 "Potential credential compromise of {usertype}/{user} indicated by a sequence of "
	 "actions.",
	 "A sequence of actions involving multiple signals indicating a possible credential "
	 "compromise was observed for {usertype}/{user}."},
	/* Host events + Sigma rules (detector sigma): Linux rules' matches,
	 * <purpose from the rule's ATT&CK tactic>:Runtime/SigmaRule on the
	 * Runtime resource (the host, the process from the event); severity
	 * from the rule's level as for the IAMUser ones. */
	{"InitialAccess:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"Execution:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"Persistence:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"PrivilegeEscalation:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"DefenseEvasion:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"Stealth:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"CredentialAccess:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"Discovery:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"Recon:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"Exfiltration:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"Impact:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"Backdoor:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	{"UnauthorizedAccess:Runtime/SigmaRule", MED, MM_RES_RUNTIME, NET,
	 "A process or log line on {instance} matched a Sigma rule.",
	 "An event on host {host} (process {process}) matched a Sigma detection rule for Linux; "
	 "service.additionalInfo.sigma names the rule, its level and author."},
	/* host auth/cron logs and host agent events (detect/hostauth.c,
	 * detect/hostcmd.c): the Runtime resource */
	{"UnauthorizedAccess:Runtime/SSHBruteForce", LOW, MM_RES_RUNTIME, NET,
	 "SSH brute force attacks against {instance}.",
	 "Host {host} ({instance}) is the target of SSH brute force attempts from {ip}: many failed "
	 "SSH authentications in a short time in its auth log."},
	{"InitialAccess:Runtime/SuccessfulLoginAfterBruteForce", HIGH, MM_RES_RUNTIME, NET,
	 "A login to {instance} succeeded from an address that was brute forcing it.",
	 "User {user} logged in to host {host} ({instance}) over SSH from {ip}, an address that made "
	 "many failed SSH authentications against it just before. The brute force may have found a "
	 "valid password or key."},
	{"InitialAccess:Runtime/UnusualLogin", MED, MM_RES_RUNTIME, NET,
	 "An unusual login to {instance}.",
	 "User {user} logged in to host {host} ({instance}) over SSH from {ip}: a user never seen "
	 "logging in to this host, or a network never seen for this user, after the host's learning "
	 "period."},
	{"Execution:Runtime/SuspiciousCommand", MED, MM_RES_RUNTIME, NET,
	 "A suspicious command was executed on {instance}.",
	 "A suspicious command (a download piped into a shell, base64-decoded execution or an "
	 "interpreter one-liner with a socket) was executed on host {host} ({instance}) by process "
	 "{process}."},
	{"Persistence:Runtime/SuspiciousCommand", MED, MM_RES_RUNTIME, NET,
	 "A command that sets up persistence was executed on {instance}.",
	 "A crontab, a systemd unit or a user account was created or changed on host {host} "
	 "({instance}) by process {process}: a way to keep access after a compromise."},
	{"DefenseEvasion:Runtime/SuspiciousCommand", MED, MM_RES_RUNTIME, NET,
	 "A command that weakens defences was executed on {instance}.",
	 "A command that clears history or logs, disables SELinux, the firewall or audit, or locks "
	 "credential files was executed on host {host} ({instance}) by process {process}."},
	/* host agent: processes and sockets (detect/hostproc.c), watched
	 * files (detect/hostfile.c); GuardDuty Runtime Monitoring's names and
	 * default severities, its descriptions reworded for a host */
	{"CryptoCurrency:Runtime/BitcoinTool.B", HIGH, MM_RES_RUNTIME, NET,
	 "Process {process} on {instance} is communicating with a Bitcoin-related IP address.",
	 "Process {process} on {instance} is communicating outbound with IP address {ip} on port "
	 "{port}, which is on the cryptocurrency-related list {list}."},
	{"Impact:Runtime/CryptoMinerExecuted", HIGH, MM_RES_RUNTIME, NET,
	 "A cryptocurrency miner is running on {instance}.",
	 "Process {process} on {instance} is executing a binary associated with cryptocurrency "
	 "mining (by its name, its command line, a mining pool connection or sustained CPU use "
	 "from a temporary, hidden or deleted executable)."},
	{"Backdoor:Runtime/C&CActivity.B", HIGH, MM_RES_RUNTIME, NET,
	 "Process {process} on {instance} is communicating with a Command and Control server IP "
	 "address.",
	 "Process {process} on {instance} is communicating with IP address {ip} on port {port}, "
	 "which is associated with a known Command and Control server (list {list})."},
	{"UnauthorizedAccess:Runtime/TorClient", HIGH, MM_RES_RUNTIME, NET,
	 "Process {process} on {instance} is communicating with Tor network.",
	 "Process {process} on {instance} is making connections to IP address {ip}, a node of the "
	 "Tor anonymizing network (list {list})."},
	{"Execution:Runtime/ReverseShell", HIGH, MM_RES_RUNTIME, NET,
	 "Process {process} on {instance} has created a reverse shell.",
	 "Shell process {process} on {instance} has its input or output connected to a TCP "
	 "connection with remote address {ip} on port {port}: a reverse shell."},
	{"Execution:Runtime/NewBinaryExecuted", MED, MM_RES_RUNTIME, NET,
	 "A newly created or recently modified binary was executed on {instance}.",
	 "Process {process} on {instance} runs an executable that was created or modified after "
	 "the host's baseline, outside the package manager's directories."},
	{"Persistence:Runtime/AuthorizedKeysModified", MED, MM_RES_RUNTIME, NET,
	 "An SSH authorized_keys file was modified on {instance}.",
	 "A user's SSH authorized_keys file on {instance} was changed: a key added there gives "
	 "whoever holds it a login that survives password changes."},
	{"Persistence:Runtime/WatchedFileModified", LOW, MM_RES_RUNTIME, NET,
	 "A watched file was modified on {instance}.",
	 "A file under integrity monitoring on {instance} was created, modified, deleted or had "
	 "its mode or owner changed."},
	{NULL, 0, 0, 0, NULL, NULL},
};

const struct mm_ftype *mm_ftype_all(void)
{
	return types;
}

/* An index over the table by mm_ftype_hash, built once: findings look
 * their type up as they are rendered (a linear search hashed or compared
 * every name, ~12k instructions a lookup by hash). Linear probing keeps
 * types that share a hash in table order, so the first one wins as it
 * did. */
#define TYPE_SLOTS 1024
static struct {
	uint32_t h;
	uint16_t i;	/* index + 1; 0 = empty */
} type_ix[TYPE_SLOTS];
static pthread_once_t type_ix_once = PTHREAD_ONCE_INIT;

static void type_ix_build(void)
{
	size_t i;
	for (i = 0; types[i].type && i < TYPE_SLOTS / 2; i++) {
		uint32_t h = mm_ftype_hash(types[i].type), j = h & (TYPE_SLOTS - 1);
		while (type_ix[j].i)
			j = (j + 1) & (TYPE_SLOTS - 1);
		type_ix[j].h = h;
		type_ix[j].i = (uint16_t)(i + 1);
	}
}

/* The first type with hash h whose name is type (any name when type is
 * NULL). */
static const struct mm_ftype *type_find(uint32_t h, const char *type)
{
	uint32_t j;
	pthread_once(&type_ix_once, type_ix_build);
	for (j = h & (TYPE_SLOTS - 1); type_ix[j].i; j = (j + 1) & (TYPE_SLOTS - 1)) {
		const struct mm_ftype *t = &types[type_ix[j].i - 1];
		if (type_ix[j].h == h && (!type || strcmp(t->type, type) == 0))
			return t;
	}
	return NULL;
}

const struct mm_ftype *mm_ftype_get(const char *type)
{
	return type_find(mm_ftype_hash(type), type);
}

uint32_t mm_ftype_hash(const char *type)
{
	return (uint32_t)mm_hash(type, strlen(type), 0x5e9);
}

const struct mm_ftype *mm_ftype_by_hash(uint32_t h)
{
	return type_find(h, NULL);
}

/* GuardDuty's bands: Critical 9.0-10.0 (attack sequences), High 7.0-8.9,
 * Medium 4.0-6.9, Low 1.0-3.9. */
const char *mm_severity_label(double sev)
{
	if (sev >= 9.0)
		return "Critical";
	if (sev >= 7.0)
		return "High";
	if (sev >= 4.0)
		return "Medium";
	return "Low";
}
