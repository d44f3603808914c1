/* sample.c - sample findings, shaped like GuardDuty's generated ones
 * ("GeneratedFinding..." placeholders, documentation addresses). */
#include "serve/sample.h"

#include <stdio.h>
#include <string.h>

void mm_sample_finding(const struct mm_ftype *t, int64_t now_ms, struct mm_finding *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->type, sizeof(f->type), "%s", t->type);
	f->severity = t->severity;
	snprintf(f->account, sizeof(f->account), "123456789012");
	snprintf(f->region, sizeof(f->region), "us-east-1");
	f->res_type = t->res_type;
	f->action = t->action;
	f->role = MM_ROLE_ACTOR;
	f->count = 1;
	f->first_seen_ms = f->last_seen_ms = now_ms;
	f->created_at_ms = f->updated_at_ms = now_ms;
	/* part of the key: a sample never merges into a real finding */
	snprintf(f->disc, sizeof(f->disc), "sample");
	switch (t->res_type) {
	case MM_RES_INSTANCE:
	case MM_RES_RUNTIME:
		snprintf(f->instance_id, sizeof(f->instance_id), "i-99999999");
		snprintf(f->eni, sizeof(f->eni), "eni-bfcffe88");
		break;
	case MM_RES_ACCESSKEY:
	case MM_RES_S3BUCKET:
		snprintf(f->access_key_id, sizeof(f->access_key_id), "GeneratedFindingAccessKeyId");
		snprintf(f->principal_id, sizeof(f->principal_id), "GeneratedFindingPrincipalId");
		snprintf(f->user_name, sizeof(f->user_name), "GeneratedFindingUserName");
		snprintf(f->user_type, sizeof(f->user_type), "IAMUser");
		if (t->res_type == MM_RES_S3BUCKET)
			snprintf(f->bucket_name, sizeof(f->bucket_name), "generatedfindingbucketname");
		break;
	}
	if (t->res_type == MM_RES_RUNTIME) {
		snprintf(f->proc.name, sizeof(f->proc.name), "generatedfindingprocess");
		snprintf(f->proc.exe, sizeof(f->proc.exe), "/tmp/generatedfindingprocess");
		f->proc.pid = 1234;
	}
	switch (t->action) {
	case MM_ACTION_NETWORK_CONNECTION:
	case MM_ACTION_PORT_PROBE:
		f->direction = t->action == MM_ACTION_PORT_PROBE ? MM_DIR_INBOUND : MM_DIR_OUTBOUND;
		snprintf(f->protocol, sizeof(f->protocol), "TCP");
		f->has_remote_ip = mm_ip_parse("198.51.100.0", 12, &f->remote_ip) == 0;
		f->has_local_ip = mm_ip_parse("10.0.0.23", 9, &f->local_ip) == 0;
		f->remote_port = 80;
		f->local_port = 39677;
		break;
	case MM_ACTION_DNS_REQUEST:
		snprintf(f->domain, sizeof(f->domain), "GeneratedFindingDomainName");
		snprintf(f->protocol, sizeof(f->protocol), "UDP");
		break;
	case MM_ACTION_AWS_API_CALL:
		snprintf(f->api, sizeof(f->api), "GeneratedFindingAPIName");
		snprintf(f->service_name, sizeof(f->service_name), "GeneratedFindingAPIServiceName");
		snprintf(f->caller_type, sizeof(f->caller_type), "Remote IP");
		f->has_remote_ip = mm_ip_parse("198.51.100.0", 12, &f->remote_ip) == 0;
		snprintf(f->user_agent, sizeof(f->user_agent), "GeneratedFindingUserAgent");
		break;
	case MM_ACTION_SEQUENCE:
		break;
	}
	mm_finding_info_json(f, "sample", "true");
	mm_finding_make_id(f);
}
