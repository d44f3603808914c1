/* types.c - the finding types mamori raises, with GuardDuty's default
 * severity, action type, title and description for each.
 *
 * Severities follow GuardDuty's finding-type reference (High = 8,
 * Medium = 5, Low = 2). Description templates use tokens that
 * finding/output.c substitutes: {instance} {ip} {port} {domain} {api}
 * {service} {user} {key} {list}. docs/finding-types.md is the prose twin
 * of this table; keep them together. */
#include "finding/finding.h"

#include <string.h>

#define HIGH 8.0
#define MED 5.0
#define LOW 2.0

static const struct mm_ftype types[] = {
	/* VPC Flow Logs + threat intelligence */
	{"CryptoCurrency:EC2/BitcoinTool.B", HIGH, MM_ACTION_NETWORK_CONNECTION,
	 "EC2 instance is communicating with a cryptocurrency mining pool.",
	 "EC2 instance {instance} is communicating with IP address {ip} on port {port}, which is "
	 "associated with cryptocurrency-related activity (threat list {list})."},
	{"Backdoor:EC2/C&CActivity.B", HIGH, MM_ACTION_NETWORK_CONNECTION,
	 "EC2 instance is communicating with a command and control server.",
	 "EC2 instance {instance} is communicating with IP address {ip}, a known command and control "
	 "server (threat list {list})."},
	{"UnauthorizedAccess:EC2/TorClient", HIGH, MM_ACTION_NETWORK_CONNECTION,
	 "EC2 instance is making connections to Tor Guard or Entry nodes.",
	 "EC2 instance {instance} is making connections to Tor relay {ip} on port {port}, which "
	 "suggests it is running a Tor client (threat list {list})."},
	{"UnauthorizedAccess:EC2/TorRelay", HIGH, MM_ACTION_NETWORK_CONNECTION,
	 "EC2 instance is acting as a Tor relay.",
	 "EC2 instance {instance} is accepting connections from Tor relay {ip} on port {port} in a "
	 "manner that suggests it is acting as a Tor relay (threat list {list})."},
	{"UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", MED, MM_ACTION_NETWORK_CONNECTION,
	 "EC2 instance is communicating with an IP address on a custom threat list.",
	 "EC2 instance {instance} is communicating with IP address {ip} on port {port}, which is on "
	 "your custom threat list {list}."},
	{"Trojan:EC2/BlackholeTraffic", MED, MM_ACTION_NETWORK_CONNECTION,
	 "EC2 instance is attempting to communicate with a black hole IP address.",
	 "EC2 instance {instance} is attempting to communicate with IP address {ip}, a known black "
	 "hole (threat list {list})."},
	{"Trojan:EC2/DropPoint", MED, MM_ACTION_NETWORK_CONNECTION,
	 "EC2 instance is communicating with a known drop point.",
	 "EC2 instance {instance} is communicating with IP address {ip}, known to hold credentials "
	 "and other data captured by malware (threat list {list})."},
	/* Route 53 Resolver query logs + threat intelligence */
	{"CryptoCurrency:EC2/BitcoinTool.B!DNS", HIGH, MM_ACTION_DNS_REQUEST,
	 "EC2 instance is querying a domain name associated with cryptocurrency mining.",
	 "EC2 instance {instance} is querying domain {domain}, which is associated with "
	 "cryptocurrency-related activity (threat list {list})."},
	{"Backdoor:EC2/C&CActivity.B!DNS", HIGH, MM_ACTION_DNS_REQUEST,
	 "EC2 instance is querying a domain name of a command and control server.",
	 "EC2 instance {instance} is querying domain {domain}, which is associated with a known "
	 "command and control server (threat list {list})."},
	{"Impact:EC2/MaliciousDomainRequest.Custom", MED, MM_ACTION_DNS_REQUEST,
	 "EC2 instance is querying a domain on a custom threat list.",
	 "EC2 instance {instance} is querying domain {domain}, which is on your custom threat list "
	 "{list}."},
	{"Trojan:EC2/BlackholeTraffic!DNS", MED, MM_ACTION_DNS_REQUEST,
	 "EC2 instance is querying a domain name that is being redirected to a black hole.",
	 "EC2 instance {instance} is querying domain {domain}, which is redirected to a black hole "
	 "(threat list {list})."},
	{"Trojan:EC2/DropPoint!DNS", MED, MM_ACTION_DNS_REQUEST,
	 "EC2 instance is querying a domain name of a known drop point.",
	 "EC2 instance {instance} is querying domain {domain}, known to hold credentials and other "
	 "data captured by malware (threat list {list})."},
	/* CloudTrail + threat intelligence */
	{"UnauthorizedAccess:IAMUser/MaliciousIPCaller", MED, MM_ACTION_AWS_API_CALL,
	 "An API was invoked from a known malicious IP address.",
	 "API {api} of {service} was invoked by {user} with access key {key} from IP address {ip}, "
	 "which is on threat list {list}."},
	{"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", MED, MM_ACTION_AWS_API_CALL,
	 "An API was invoked from an IP address on a custom threat list.",
	 "API {api} of {service} was invoked by {user} with access key {key} from IP address {ip}, "
	 "which is on your custom threat list {list}."},
	{"Recon:IAMUser/MaliciousIPCaller", MED, MM_ACTION_AWS_API_CALL,
	 "Reconnaissance API was invoked from a known malicious IP address.",
	 "API {api} of {service}, commonly used to discover resources, was invoked by {user} with "
	 "access key {key} from IP address {ip}, which is on threat list {list}."},
	{"Recon:IAMUser/MaliciousIPCaller.Custom", MED, MM_ACTION_AWS_API_CALL,
	 "Reconnaissance API was invoked from an IP address on a custom threat list.",
	 "API {api} of {service}, commonly used to discover resources, was invoked by {user} with "
	 "access key {key} from IP address {ip}, which is on your custom threat list {list}."},
	{"UnauthorizedAccess:IAMUser/TorIPCaller", MED, MM_ACTION_AWS_API_CALL,
	 "An API was invoked from a Tor exit node IP address.",
	 "API {api} of {service} was invoked by {user} with access key {key} from Tor exit node IP "
	 "address {ip}."},
	{"Recon:IAMUser/TorIPCaller", MED, MM_ACTION_AWS_API_CALL,
	 "Reconnaissance API was invoked from a Tor exit node IP address.",
	 "API {api} of {service}, commonly used to discover resources, was invoked by {user} with "
	 "access key {key} from Tor exit node IP address {ip}."},
	{NULL, 0, 0, NULL, NULL},
};

const struct mm_ftype *mm_ftype_all(void)
{
	return types;
}

const struct mm_ftype *mm_ftype_get(const char *type)
{
	const struct mm_ftype *t;
	for (t = types; t->type; t++)
		if (strcmp(t->type, type) == 0)
			return t;
	return NULL;
}

const char *mm_severity_label(double sev)
{
	if (sev >= 7.0)
		return "High";
	if (sev >= 4.0)
		return "Medium";
	return "Low";
}
