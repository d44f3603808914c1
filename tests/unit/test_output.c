/* test_output.c - the GuardDuty JSON writer and the printers
 * (src/finding/output.c).
 *
 * The writer's output is parsed back with core/json.h and checked field by
 * field, its key order is compared with a finding AWS emitted (shared
 * data), and every allocation it makes is failed in turn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "enrich/inventory.h"
#include "finding/finding.h"
#include "finding/output.h"
#include "mmtest.h"

/* where the renderer puts the evidence sample */
#define EVIDENCE_PATH "service.additionalInfo.evidence"

static char arena_mem[65536];
static struct mm_arena ar;

static void net_finding(struct mm_finding *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->type, sizeof(f->type), "CryptoCurrency:EC2/BitcoinTool.B");
	f->severity = 8;
	snprintf(f->account, sizeof(f->account), "123456789012");
	snprintf(f->region, sizeof(f->region), "eu-west-1");
	f->res_type = MM_RES_INSTANCE;
	snprintf(f->instance_id, sizeof(f->instance_id), "i-0123456789abcdef0");
	snprintf(f->eni, sizeof(f->eni), "eni-0aaa");
	f->action = MM_ACTION_NETWORK_CONNECTION;
	f->direction = MM_DIR_OUTBOUND;
	snprintf(f->protocol, sizeof(f->protocol), "TCP");
	f->has_remote_ip = 1;
	mm_ip_parse("198.51.100.7", 12, &f->remote_ip);
	f->has_local_ip = 1;
	mm_ip_parse("10.0.0.5", 8, &f->local_ip);
	f->remote_port = 443;
	f->local_port = 40123;
	f->role = MM_ROLE_ACTOR;
	f->count = 42;
	f->first_seen_ms = 1668677599000;	/* 2022-11-17T09:33:19.000Z */
	f->last_seen_ms = 1669119740000;
	f->created_at_ms = 1668677599224;
	f->updated_at_ms = 1669119740934;
	snprintf(f->threat_list, sizeof(f->threat_list), "crypto_mining");
	snprintf(f->threat_name, sizeof(f->threat_name), "mining");
	snprintf(f->indicator, sizeof(f->indicator), "198.51.100.7");
	mm_finding_add_evidence(f, "vpc/flows.log", 7, 1234, 1668677599000);
	mm_finding_make_id(f);
}

/* Parse b as exactly one JSON value. */
static int parse(const struct mm_buf *b, struct mm_json_val *v)
{
	size_t used = 0;
	int rc = mm_json_value(b->p, b->len, v, &used);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(used, b->len);
	return rc;
}

/* Unescaped string at path, "" if missing. */
static struct mm_str str_at(const struct mm_json_val *o, const char *path)
{
	struct mm_json_val v;
	struct mm_str s = {"", 0};
	if (mm_json_path(o, path, &v) != 1) {
		fprintf(stderr, "  missing %s\n", path);
		return s;
	}
	if (mm_json_str(&v, &ar, &s) != 0)
		s = (struct mm_str){"", 0};
	return s;
}

static struct mm_str raw_at(const struct mm_json_val *o, const char *path)
{
	struct mm_json_val v;
	if (mm_json_path(o, path, &v) != 1)
		return (struct mm_str){"", 0};
	return (struct mm_str){v.p, v.n};
}

static int has(const struct mm_json_val *o, const char *path)
{
	struct mm_json_val v;
	return mm_json_path(o, path, &v) == 1;
}

/* Keys of an object joined by ',' into buf. */
static void keys_of(const struct mm_json_val *o, char *buf, size_t cap)
{
	struct mm_json_iter it;
	struct mm_str k;
	struct mm_json_val v;
	size_t n = 0;

	buf[0] = '\0';
	if (mm_json_iter_init(&it, o))
		return;
	while (mm_json_iter_next(&it, &k, &v) == 1 && n + k.n + 2 < cap) {
		if (n)
			buf[n++] = ',';
		memcpy(buf + n, k.p, k.n);
		n += k.n;
		buf[n] = '\0';
	}
}

/* What the pipeline's enrichment does before rendering: the instance by
 * id, else by ENI, as instanceDetails JSON (into db); NULL if unknown. */
static const char *enrich(const struct mm_inventory *inv, const struct mm_finding *f,
			  struct mm_buf *db)
{
	const struct mm_instance *inst = NULL;
	if (f->instance_id[0])
		inst = mm_inventory_by_id(inv, f->instance_id, strlen(f->instance_id));
	if (!inst && f->eni[0])
		inst = mm_inventory_by_eni(inv, f->eni, strlen(f->eni));
	if (!inst)
		return NULL;
	mm_buf_reset(db);
	return mm_instance_to_json(inst, f->eni[0] ? f->eni : NULL, db) == 0 ? db->p : NULL;
}

MM_TEST(json_network_finding_fields)
{
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o, v;
	char det[40], arn[200];

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	net_finding(&f);
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	CHECK(strchr(b.p, '\n') == NULL);	/* one line */
	if (parse(&b, &o))
		goto out;
	CHECK_EQ_SLICE(str_at(&o, "schemaVersion"), "2.0");
	CHECK_EQ_SLICE(str_at(&o, "accountId"), "123456789012");
	CHECK_EQ_SLICE(str_at(&o, "region"), "eu-west-1");
	CHECK_EQ_SLICE(str_at(&o, "partition"), "aws");
	CHECK_EQ_SLICE(str_at(&o, "id"), f.id);
	CHECK_EQ_SLICE(str_at(&o, "type"), "CryptoCurrency:EC2/BitcoinTool.B");
	CHECK_EQ_SLICE(str_at(&o, "resource.resourceType"), "Instance");
	CHECK_EQ_SLICE(str_at(&o, "resource.instanceDetails.instanceId"), "i-0123456789abcdef0");
	CHECK_EQ_SLICE(str_at(&o, "service.serviceName"), "guardduty");
	CHECK_EQ_SLICE(str_at(&o, "service.action.actionType"), "NETWORK_CONNECTION");
	CHECK_EQ_SLICE(str_at(&o, "service.action.networkConnectionAction.connectionDirection"),
		       "OUTBOUND");
	CHECK_EQ_SLICE(
		str_at(&o, "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4"),
		"198.51.100.7");
	/* no geo data: no organization/country objects, not empty ones */
	CHECK(!has(&o, "service.action.networkConnectionAction.remoteIpDetails.organization"));
	CHECK(!has(&o, "service.action.networkConnectionAction.remoteIpDetails.country"));
	CHECK_EQ_SLICE(raw_at(&o, "service.action.networkConnectionAction.remotePortDetails.port"),
		       "443");
	CHECK_EQ_SLICE(str_at(&o, "service.action.networkConnectionAction.remotePortDetails.portName"),
		       "HTTPS");
	CHECK_EQ_SLICE(str_at(&o, "service.action.networkConnectionAction.localPortDetails.portName"),
		       "Unknown");
	CHECK_EQ_SLICE(
		str_at(&o, "service.action.networkConnectionAction.localIpDetails.ipAddressV4"),
		"10.0.0.5");
	CHECK_EQ_SLICE(str_at(&o, "service.action.networkConnectionAction.protocol"), "TCP");
	CHECK_EQ_SLICE(raw_at(&o, "service.action.networkConnectionAction.blocked"), "false");
	CHECK_EQ_SLICE(str_at(&o, "service.resourceRole"), "ACTOR");
	CHECK_EQ_SLICE(raw_at(&o, "service.count"), "42");
	CHECK_EQ_SLICE(raw_at(&o, "service.archived"), "false");
	CHECK_EQ_SLICE(str_at(&o, "service.eventFirstSeen"), "2022-11-17T09:33:19.000Z");
	CHECK_EQ_SLICE(str_at(&o, "createdAt"), "2022-11-17T09:33:19.224Z");
	CHECK_EQ_SLICE(raw_at(&o, "severity"), "8");
	CHECK_EQ_SLICE(str_at(&o, "service.additionalInfo.threatListName"), "crypto_mining");
	CHECK_EQ_SLICE(str_at(&o, "service.additionalInfo.value"),
		       "{\"threatName\":\"mining\",\"threatListName\":\"crypto_mining\"}");
	CHECK_EQ_SLICE(str_at(&o, "service.additionalInfo.type"), "default");
	CHECK(mm_json_path(&o, "service.evidence.threatIntelligenceDetails", &v) == 1 &&
	      v.type == MM_JSON_ARRAY);
	CHECK(strstr(b.p, "\"threatIntelligenceDetails\":[{\"threatNames\":[\"mining\"],"
			  "\"threatListName\":\"crypto_mining\"}]") != NULL);
	/* our evidence: in additionalInfo (free-form), not in its "value" */
	CHECK(strstr(b.p, "\"additionalInfo\":{\"threatName\":\"mining\",\"threatListName\":"
			  "\"crypto_mining\",\"evidence\":[{\"file\":\"vpc/flows.log\",\"line\":7,"
			  "\"offset\":1234,\"time\":\"2022-11-17T09:33:19.000Z\"}],\"value\":") !=
	      NULL);
	CHECK(strstr(b.p, "mamoriEvidence") == NULL);

	/* detector id: 32 hex, in the arn, stable for (account, region) */
	{
		struct mm_str d = str_at(&o, "service.detectorId");
		size_t i;
		CHECK_EQ_INT(d.n, 32);
		for (i = 0; i < d.n; i++)
			CHECK(strchr("0123456789abcdef", d.p[i]) != NULL);
		snprintf(det, sizeof(det), "%.*s", (int)d.n, d.p);
		snprintf(arn, sizeof(arn), "arn:aws:guardduty:eu-west-1:123456789012:detector/%s/finding/%s",
			 det, f.id);
		CHECK_EQ_SLICE(str_at(&o, "arn"), arn);
	}
	/* title and description: GuardDuty's wording, subject filled in */
	CHECK_EQ_SLICE(str_at(&o, "title"),
		       "EC2 instance i-0123456789abcdef0 is communicating with a Bitcoin-related "
		       "IP address.");
	CHECK_EQ_SLICE(str_at(&o, "description"),
		       "EC2 instance i-0123456789abcdef0 is communicating outbound with a known "
		       "Bitcoin-related IP address 198.51.100.7.");

	/* same account+region -> same detector; another region -> another */
	{
		struct mm_buf b2;
		struct mm_json_val o2;
		mm_buf_init(&b2, 1 << 20);
		f.count = 1;
		CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b2), 0);
		if (!parse(&b2, &o2))
			CHECK_EQ_SLICE(str_at(&o2, "service.detectorId"), det);
		mm_buf_reset(&b2);
		snprintf(f.region, sizeof(f.region), "us-east-1");
		CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b2), 0);
		if (!parse(&b2, &o2)) {
			struct mm_str d2 = str_at(&o2, "service.detectorId");
			CHECK(d2.n == 32 && memcmp(d2.p, det, 32) != 0);
		}
		mm_buf_free(&b2);
	}
out:
	mm_buf_free(&b);
}

/* Top-level and service key order match a finding AWS emitted. */
MM_TEST(json_key_order_like_aws)
{
	static char line[65536];
	char path[512], want[512], got[512];
	struct mm_finding f;
	struct mm_buf b, aws;
	struct mm_json_val o, a, so, sa;
	FILE *fp;

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	snprintf(path, sizeof(path), "%s/aws-samples/guardduty-findings/test-guardduty.log",
		 mmtest_shared_data());
	fp = fopen(path, "r");
	CHECK(fp != NULL);
	if (!fp)
		return;
	CHECK(fgets(line, sizeof(line), fp) != NULL);	/* Trojan:EC2/BlackholeTraffic!DNS */
	fclose(fp);
	mm_buf_init(&aws, 1 << 20);
	mm_buf_addz(&aws, line);
	while (aws.len && (aws.p[aws.len - 1] == '\n' || aws.p[aws.len - 1] == '\r'))
		aws.p[--aws.len] = '\0';
	if (parse(&aws, &a)) {
		mm_buf_free(&aws);
		return;
	}

	net_finding(&f);
	snprintf(f.type, sizeof(f.type), "Trojan:EC2/BlackholeTraffic!DNS");
	f.action = MM_ACTION_DNS_REQUEST;
	snprintf(f.domain, sizeof(f.domain), "pool.example.com");
	snprintf(f.protocol, sizeof(f.protocol), "UDP");
	f.role = MM_ROLE_TARGET;
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o)) {
		keys_of(&a, want, sizeof(want));
		keys_of(&o, got, sizeof(got));
		CHECK_EQ_STR(got, want);
		/* service: AWS's keys in AWS's order (our evidence is inside
		 * additionalInfo) */
		CHECK(mm_json_get(&a, "service", &sa) == 1);
		CHECK(mm_json_get(&o, "service", &so) == 1);
		keys_of(&sa, want, sizeof(want));
		keys_of(&so, got, sizeof(got));
		CHECK_EQ_STR(want, "serviceName,detectorId,action,resourceRole,additionalInfo,evidence,"
				   "eventFirstSeen,eventLastSeen,archived,count");
		CHECK_EQ_STR(got, want);
		CHECK(mm_json_path(&a, "service.action.dnsRequestAction", &sa) == 1);
		CHECK(mm_json_path(&o, "service.action.dnsRequestAction", &so) == 1);
		keys_of(&sa, want, sizeof(want));
		keys_of(&so, got, sizeof(got));
		/* this 2022 sample predates domainWithSuffix (API model: last) */
		CHECK_EQ_STR(want, "domain,protocol,blocked");
		CHECK_EQ_STR(got, "domain,protocol,blocked,domainWithSuffix");
		CHECK_EQ_SLICE(str_at(&o, "service.action.dnsRequestAction.domainWithSuffix"),
			       "example.com");
		CHECK_EQ_SLICE(str_at(&o, "service.action.dnsRequestAction.domain"),
			       "pool.example.com");
		CHECK_EQ_SLICE(str_at(&o, "service.resourceRole"), "TARGET");
		CHECK_EQ_SLICE(raw_at(&o, "severity"), "8");
	}
	mm_buf_free(&b);
	mm_buf_free(&aws);
}

MM_TEST(json_resource_from_inventory)
{
	static struct mm_instance inst;
	struct mm_inventory *inv = NULL;
	struct mm_finding f;
	struct mm_buf b, db;
	struct mm_json_val o;

	mm_buf_init(&db, 1 << 20);
	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	memset(&inst, 0, sizeof(inst));
	snprintf(inst.instance_id, sizeof(inst.instance_id), "i-0123456789abcdef0");
	snprintf(inst.instance_type, sizeof(inst.instance_type), "t3.micro");
	snprintf(inst.image_id, sizeof(inst.image_id), "ami-0abc");
	inst.nnif = 1;
	snprintf(inst.nifs[0].eni, sizeof(inst.nifs[0].eni), "eni-0aaa");
	inst.nifs[0].nprivate = 1;
	mm_ip_parse("10.0.0.5", 8, &inst.nifs[0].private_ips[0]);
	CHECK_EQ_INT(mm_inventory_put(inv, &inst), 0);

	/* by instance id */
	net_finding(&f);
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, enrich(inv, &f, &db), &b), 0);
	if (!parse(&b, &o)) {
		CHECK_EQ_SLICE(str_at(&o, "resource.instanceDetails.instanceId"),
			       "i-0123456789abcdef0");
		CHECK_EQ_SLICE(str_at(&o, "resource.instanceDetails.instanceType"), "t3.micro");
		CHECK_EQ_SLICE(str_at(&o, "resource.instanceDetails.imageId"), "ami-0abc");
	}
	/* by ENI only: the inventory names the instance */
	f.instance_id[0] = '\0';
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, enrich(inv, &f, &db), &b), 0);
	if (!parse(&b, &o))
		CHECK_EQ_SLICE(str_at(&o, "resource.instanceDetails.instanceId"),
			       "i-0123456789abcdef0");
	/* unknown ENI, no inventory: the interface alone */
	snprintf(f.eni, sizeof(f.eni), "eni-0zzz");
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, enrich(inv, &f, &db), &b), 0);
	if (!parse(&b, &o)) {
		CHECK(!has(&o, "resource.instanceDetails.instanceId"));
		CHECK(strstr(b.p, "\"networkInterfaceId\":\"eni-0zzz\"") != NULL);
		/* {instance} falls back to the ENI */
		CHECK(strstr(b.p, "EC2 instance eni-0zzz") != NULL);
	}
	/* instance id known from the logs but not in the inventory */
	snprintf(f.instance_id, sizeof(f.instance_id), "i-0notininventory");
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, enrich(inv, &f, &db), &b), 0);
	if (!parse(&b, &o)) {
		CHECK_EQ_SLICE(str_at(&o, "resource.instanceDetails.instanceId"), "i-0notininventory");
		CHECK(strstr(b.p, "\"networkInterfaceId\":\"eni-0zzz\"") != NULL);
	}
	/* DNS without srcids: only the asking address is known */
	f.instance_id[0] = f.eni[0] = '\0';
	snprintf(f.local_ip_key, sizeof(f.local_ip_key), "10.9.9.9");
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o))
		CHECK(strstr(b.p, "\"instanceDetails\":{\"networkInterfaces\":[{\"privateIpAddress\":"
				  "\"10.9.9.9\"}]}") != NULL);
	mm_buf_free(&b);
	mm_inventory_free(inv);
}

MM_TEST(json_accesskey_api_call)
{
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o;

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	memset(&f, 0, sizeof(f));
	snprintf(f.type, sizeof(f.type), "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom");
	f.severity = 5;
	snprintf(f.account, sizeof(f.account), "123456789012");
	snprintf(f.region, sizeof(f.region), "us-east-1");
	f.res_type = MM_RES_ACCESSKEY;
	snprintf(f.access_key_id, sizeof(f.access_key_id), "AKIAIOSFODNN7EXAMPLE");
	snprintf(f.principal_id, sizeof(f.principal_id), "AIDAEXAMPLE");
	snprintf(f.user_name, sizeof(f.user_name), "alice");
	snprintf(f.user_type, sizeof(f.user_type), "IAMUser");
	f.action = MM_ACTION_AWS_API_CALL;
	snprintf(f.api, sizeof(f.api), "ListBuckets");
	snprintf(f.service_name, sizeof(f.service_name), "s3.amazonaws.com");
	snprintf(f.error_code, sizeof(f.error_code), "AccessDenied");
	snprintf(f.user_agent, sizeof(f.user_agent), "aws-cli/2.0 \"quoted\"\x01");
	f.has_remote_ip = 1;
	mm_ip_parse("2001:db8::1", 11, &f.remote_ip);
	f.count = 1;
	snprintf(f.threat_list, sizeof(f.threat_list), "my \"list\"");
	mm_finding_make_id(&f);

	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o))
		goto out;
	CHECK_EQ_SLICE(str_at(&o, "resource.resourceType"), "AccessKey");
	CHECK_EQ_SLICE(str_at(&o, "resource.accessKeyDetails.accessKeyId"), "AKIAIOSFODNN7EXAMPLE");
	CHECK_EQ_SLICE(str_at(&o, "resource.accessKeyDetails.principalId"), "AIDAEXAMPLE");
	CHECK_EQ_SLICE(str_at(&o, "resource.accessKeyDetails.userName"), "alice");
	CHECK_EQ_SLICE(str_at(&o, "resource.accessKeyDetails.userType"), "IAMUser");
	CHECK(!has(&o, "resource.instanceDetails"));
	CHECK_EQ_SLICE(str_at(&o, "service.action.actionType"), "AWS_API_CALL");
	CHECK_EQ_SLICE(str_at(&o, "service.action.awsApiCallAction.api"), "ListBuckets");
	CHECK_EQ_SLICE(str_at(&o, "service.action.awsApiCallAction.serviceName"), "s3.amazonaws.com");
	CHECK_EQ_SLICE(str_at(&o, "service.action.awsApiCallAction.callerType"), "Remote IP");
	CHECK_EQ_SLICE(str_at(&o, "service.action.awsApiCallAction.errorCode"), "AccessDenied");
	CHECK_EQ_SLICE(str_at(&o, "service.action.awsApiCallAction.userAgent"),
		       "aws-cli/2.0 \"quoted\"\x01");
	CHECK_EQ_SLICE(str_at(&o, "service.action.awsApiCallAction.remoteIpDetails.ipAddressV6"),
		       "2001:db8::1");
	CHECK(!has(&o, "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4"));
	CHECK_EQ_SLICE(str_at(&o, "service.additionalInfo.threatListName"), "my \"list\"");
	/* the value string holds valid JSON itself */
	{
		struct mm_str inner = str_at(&o, "service.additionalInfo.value");
		struct mm_json_val iv, x;
		size_t used;
		CHECK_EQ_INT(mm_json_value(inner.p, inner.n, &iv, &used), 0);
		CHECK(mm_json_get(&iv, "threatListName", &x) == 1);
	}
	CHECK_EQ_SLICE(raw_at(&o, "severity"), "5");
	CHECK(strstr(b.p, "alice") != NULL);
	/* no threat list, no error code: those keys are absent */
	f.threat_list[0] = '\0';
	f.error_code[0] = '\0';
	f.has_remote_ip = 0;
	f.severity = 2.5;
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o))
		goto out;
	CHECK(!has(&o, "service.evidence"));
	CHECK(!has(&o, "service.action.awsApiCallAction.errorCode"));
	CHECK(!has(&o, "service.action.awsApiCallAction.remoteIpDetails"));
	CHECK_EQ_SLICE(str_at(&o, "service.additionalInfo.value"), "{}");
	CHECK_EQ_SLICE(raw_at(&o, "severity"), "2.5");
out:
	mm_buf_free(&b);
}

MM_TEST(json_unknown_type_and_hostile_strings)
{
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o;

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	net_finding(&f);
	snprintf(f.type, sizeof(f.type), "Made:Up/Type\"\\{ip}");
	f.action = MM_ACTION_DNS_REQUEST;
	memset(f.domain, 'a', sizeof(f.domain) - 1);
	f.domain[sizeof(f.domain) - 1] = '\0';
	f.domain[3] = '\n';
	f.domain[4] = '"';
	f.direction = (enum mm_dir)77;	/* out of range: must not index past the table */
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o))
		goto out;
	CHECK_EQ_SLICE(str_at(&o, "type"), "Made:Up/Type\"\\{ip}");
	/* unknown type: title/description fall back to the type, tokens
	 * still substituted */
	CHECK_EQ_SLICE(str_at(&o, "title"), "Made:Up/Type\"\\198.51.100.7");
	CHECK_EQ_INT(str_at(&o, "service.action.dnsRequestAction.domain").n, sizeof(f.domain) - 1);
out:
	mm_buf_free(&b);
}

MM_TEST(json_fault_injection_and_cap)
{
	struct mm_finding f;
	struct mm_buf b;
	long n;
	int rc = -1, failures = 0;
	size_t full = 0;

	net_finding(&f);
	/* fail the 0th, 1st, ... allocation until the writer succeeds */
	for (n = 0; n < 64 && rc != 0; n++) {
		mm_buf_init(&b, 1 << 20);
		CHECK_EQ_INT(mm_buf_addz(&b, "prefix:"), 0);
		mm_mem_fail_after(n);
		rc = mm_finding_to_json(&f, NULL, &b);
		mm_mem_fail_after(-1);
		if (rc) {
			failures++;
			CHECK_EQ_INT(rc, MM_ENOMEM);
			CHECK_EQ_INT(b.len, 7);	/* cut back, prefix kept */
			CHECK_EQ_STR(b.p, "prefix:");
		} else {
			full = b.len;
		}
		mm_buf_free(&b);
	}
	CHECK_EQ_INT(rc, 0);
	CHECK(failures >= 1);
	CHECK(full > 500);

	/* a buffer cap smaller than the finding: TOOBIG, nothing left */
	mm_buf_init(&b, 300);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), MM_ETOOBIG);
	CHECK_EQ_INT(b.len, 0);
	mm_buf_free(&b);
	/* every cap below the full size fails cleanly, the full size works */
	for (n = (long)full - 40; n <= (long)full + 7; n++) {
		mm_buf_init(&b, (size_t)n);
		CHECK_EQ_INT(mm_buf_addz(&b, "prefix:"), 0);
		rc = mm_finding_to_json(&f, NULL, &b);
		CHECK_EQ_INT(rc, n >= (long)full ? 0 : MM_ETOOBIG);
		if (rc)
			CHECK_EQ_INT(b.len, 7);
		mm_buf_free(&b);
	}
}

/* ---- printers ---- */

static struct mm_finding_row mkrow(const char *id, const char *type, double sev, const char *json)
{
	struct mm_finding_row r;
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.type = type;
	r.resource = "i-0123456789abcdef0";
	r.json = json;
	r.severity = sev;
	r.count = 12345;
	r.last_seen_ms = 1669119740000;
	return r;
}

static char *print_rows(enum mm_outfmt fmt, int color, const struct mm_finding_row *rows, int n,
			size_t *len)
{
	struct mm_printer p;
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	int i;

	if (!fp)
		abort();
	mm_printer_begin(&p, fp, fmt, color);
	for (i = 0; i < n; i++)
		CHECK_EQ_INT(mm_printer_row(&p, &rows[i]), 0);
	mm_printer_end(&p);
	CHECK_EQ_INT(p.n, n);
	fclose(fp);
	return buf;
}

MM_TEST(printer_table)
{
	struct mm_finding_row rows[3];
	char *s, *l1, *l2, *l3;
	size_t len;

	rows[0] = mkrow("0123456789abcdef0123456789abcdef", "CryptoCurrency:EC2/BitcoinTool.B", 8, "{}");
	rows[1] = mkrow("fedcba9876543210fedcba9876543210", "Recon:EC2/PortProbeUnprotectedPort", 2,
			"{}");
	rows[2] = mkrow("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			"Some:Very/LongFindingTypeNameThatIsLongerThanAnyKnownType.Really!DNS", 5,
			"{}");
	rows[2].archived = 1;
	s = print_rows(MM_OUT_TABLE, 0, rows, 3, &len);
	l1 = s;
	l2 = strchr(l1, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	CHECK(strncmp(l1, "ID  ", 4) == 0);
	CHECK(strstr(l1, "SEVERITY") != NULL && strstr(l1, "TYPE") != NULL &&
	      strstr(l1, "RESOURCE") != NULL && strstr(l1, "COUNT") != NULL &&
	      strstr(l1, "LAST SEEN") != NULL);
	CHECK(strncmp(l2, "0123456789ab  High", 18) == 0);	/* id cut to 12 */
	CHECK(strstr(s, "0123456789abcdef0123") == NULL);
	CHECK(strncmp(l3, "fedcba987654  Low ", 18) == 0);
	/* aligned: RESOURCE starts at the same column in header and rows */
	CHECK_EQ_INT(strstr(l2, "i-0123") - l2, strstr(l1, "RESOURCE") - l1);
	CHECK_EQ_INT(strstr(l3, "i-0123") - l3, strstr(l1, "RESOURCE") - l1);
	CHECK(strstr(l2, "12345") != NULL);
	CHECK(strstr(l2, "2022-11-22T12:22:20Z") != NULL);
	/* long type whole, archived marked */
	CHECK(strstr(s, "LongerThanAnyKnownType.Really!DNS") != NULL);
	CHECK(strstr(s, "(archived)") != NULL);
	CHECK(strstr(s, "\033[") == NULL);
	free(s);

	s = print_rows(MM_OUT_TABLE, 1, rows, 2, &len);
	CHECK(strstr(s, "\033[1;31mHigh") != NULL);
	CHECK(strstr(s, "\033[0m") != NULL);
	free(s);

	s = print_rows(MM_OUT_TABLE, 0, rows, 0, &len);
	CHECK_EQ_STR(s, "No findings.\n");
	free(s);
}

MM_TEST(printer_json_lines)
{
	struct mm_finding_row rows[2];
	char *s;
	size_t len;

	rows[0] = mkrow("a", "T", 8, "{\"id\":\"a\"}");
	rows[1] = mkrow("b", "T", 8, "{\"id\":\"b\"}");
	s = print_rows(MM_OUT_JSON, 1, rows, 2, &len);
	CHECK_EQ_STR(s, "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
	free(s);
	s = print_rows(MM_OUT_JSON, 0, rows, 0, &len);
	CHECK_EQ_STR(s, "");
	free(s);
}

/* {"findings":[...]} is valid JSON holding exactly n findings. */
static void check_guardduty(int n)
{
	struct mm_finding f[2];
	struct mm_finding_row rows[2];
	struct mm_buf b[2];
	struct mm_json_val o, arr, el;
	struct mm_json_iter it;
	struct mm_str k;
	char *s;
	size_t len, used;
	int i, count = 0;

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	for (i = 0; i < 2; i++) {
		net_finding(&f[i]);
		f[i].remote_port = (uint16_t)(22 + i);
		snprintf(f[i].indicator, sizeof(f[i].indicator), "x%d", i);
		mm_finding_make_id(&f[i]);
		mm_buf_init(&b[i], 1 << 20);
		CHECK_EQ_INT(mm_finding_to_json(&f[i], NULL, &b[i]), 0);
		rows[i] = mkrow(f[i].id, f[i].type, 8, b[i].p);
	}
	s = print_rows(MM_OUT_GUARDDUTY, 0, rows, n, &len);
	CHECK_EQ_INT(mm_json_value(s, len, &o, &used), 0);
	CHECK(used <= len && len - used == 1 && s[len - 1] == '\n');
	CHECK(mm_json_get(&o, "findings", &arr) == 1 && arr.type == MM_JSON_ARRAY);
	if (mm_json_iter_init(&it, &arr) == 0)
		while (mm_json_iter_next(&it, &k, &el) == 1) {
			CHECK(el.type == MM_JSON_OBJECT);
			CHECK_EQ_SLICE(str_at(&el, "id"), f[count].id);
			count++;
		}
	CHECK_EQ_INT(count, n);
	free(s);
	for (i = 0; i < 2; i++)
		mm_buf_free(&b[i]);
}

MM_TEST(printer_guardduty)
{
	check_guardduty(0);
	check_guardduty(1);
	check_guardduty(2);
}

MM_TEST(outfmt_parse)
{
	enum mm_outfmt f = MM_OUT_JSON;
	CHECK_EQ_INT(mm_outfmt_parse("table", &f), 0);
	CHECK_EQ_INT(f, MM_OUT_TABLE);
	CHECK_EQ_INT(mm_outfmt_parse("json", &f), 0);
	CHECK_EQ_INT(f, MM_OUT_JSON);
	CHECK_EQ_INT(mm_outfmt_parse("guardduty", &f), 0);
	CHECK_EQ_INT(f, MM_OUT_GUARDDUTY);
	CHECK_EQ_INT(mm_outfmt_parse("jsonl", &f), 0);
	CHECK_EQ_INT(f, MM_OUT_JSON);
	CHECK_EQ_INT(mm_outfmt_parse("eventbridge", &f), 0);
	CHECK_EQ_INT(f, MM_OUT_EVENTBRIDGE);
	CHECK_EQ_STR(mm_outfmt_names(), "table, json, guardduty, eventbridge");
	CHECK_EQ_INT(mm_outfmt_parse("JSON", &f), MM_EINVAL);
	CHECK_EQ_INT(mm_outfmt_parse("", &f), MM_EINVAL);
	CHECK_EQ_INT(mm_outfmt_parse(NULL, &f), MM_EINVAL);
}

/* ---- the general model: titles, resources, actions ---- */

/* Render f and return its title into buf. */
static void title_of(const struct mm_finding *f, char *buf, size_t cap)
{
	struct mm_buf b;
	struct mm_json_val o;
	struct mm_str t;

	buf[0] = '\0';
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(f, NULL, &b), 0);
	if (!parse(&b, &o)) {
		t = str_at(&o, "title");
		snprintf(buf, cap, "%.*s", (int)t.n, t.p);
	}
	mm_buf_free(&b);
}

static void api_finding(struct mm_finding *f, const char *type, const char *api)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->type, sizeof(f->type), "%s", type);
	f->severity = mm_ftype_get(type) ? mm_ftype_get(type)->severity : 5;
	snprintf(f->account, sizeof(f->account), "123456789012");
	snprintf(f->region, sizeof(f->region), "us-east-1");
	f->res_type = MM_RES_ACCESSKEY;
	snprintf(f->access_key_id, sizeof(f->access_key_id), "AKIAIOSFODNN7EXAMPLE");
	snprintf(f->principal_id, sizeof(f->principal_id), "AIDAEXAMPLE");
	snprintf(f->user_name, sizeof(f->user_name), "alice");
	snprintf(f->user_type, sizeof(f->user_type), "IAMUser");
	f->action = MM_ACTION_AWS_API_CALL;
	snprintf(f->api, sizeof(f->api), "%s", api);
	snprintf(f->service_name, sizeof(f->service_name), "s3.amazonaws.com");
	f->has_remote_ip = 1;
	mm_ip_parse("203.0.113.9", 11, &f->remote_ip);
	f->count = 1;
	f->first_seen_ms = f->last_seen_ms = f->created_at_ms = f->updated_at_ms = 1669119740000;
	mm_finding_make_id(f);
}

MM_TEST(titles_name_the_subject)
{
	struct mm_finding f;
	char t[300];

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	net_finding(&f);
	snprintf(f.type, sizeof(f.type), "CryptoCurrency:EC2/BitcoinTool.B!DNS");
	f.action = MM_ACTION_DNS_REQUEST;
	snprintf(f.domain, sizeof(f.domain), "pool.minexmr.com");
	title_of(&f, t, sizeof(t));
	CHECK_EQ_STR(t, "Bitcoin-related domain name queried by EC2 instance i-0123456789abcdef0.");

	snprintf(f.type, sizeof(f.type), "Trojan:EC2/BlackholeTraffic!DNS");
	title_of(&f, t, sizeof(t));
	CHECK_EQ_STR(t, "Blackholed domain name queried by EC2 instance i-0123456789abcdef0.");

	snprintf(f.type, sizeof(f.type), "UnauthorizedAccess:EC2/TorClient");
	f.action = MM_ACTION_NETWORK_CONNECTION;
	title_of(&f, t, sizeof(t));
	CHECK_EQ_STR(t, "EC2 instance i-0123456789abcdef0 is communicating with Tor Entry node.");

	api_finding(&f, "UnauthorizedAccess:IAMUser/TorIPCaller", "GetObject");
	title_of(&f, t, sizeof(t));
	CHECK_EQ_STR(t, "API GetObject was invoked from a Tor exit node.");

	api_finding(&f, "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", "ListBuckets");
	title_of(&f, t, sizeof(t));
	CHECK_EQ_STR(t, "API ListBuckets was invoked from an IP address on a custom threat list.");

	api_finding(&f, "Policy:IAMUser/RootCredentialUsage", "GetDetector");
	title_of(&f, t, sizeof(t));
	CHECK_EQ_STR(t, "The API GetDetector was invoked using root credentials.");
}

MM_TEST(type_table_metadata)
{
	const struct mm_ftype *t = mm_ftype_get("Policy:IAMUser/RootCredentialUsage");

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK(t->severity == 2.0);
	CHECK_EQ_INT(t->res_type, MM_RES_ACCESSKEY);
	CHECK_EQ_INT(t->action, MM_ACTION_AWS_API_CALL);
	CHECK_EQ_INT(mm_ftype_get("Trojan:EC2/DropPoint!DNS")->res_type, MM_RES_INSTANCE);
	/* every type's resource agrees with its action: API calls are AccessKey
	 * findings, or S3Bucket ones (with the caller's key) */
	for (t = mm_ftype_all(); t->type; t++)
		CHECK((t->action == MM_ACTION_AWS_API_CALL || t->action == MM_ACTION_SEQUENCE) ==
		      (t->res_type == MM_RES_ACCESSKEY || t->res_type == MM_RES_S3BUCKET));
}

MM_TEST(json_root_credential_usage_api_calls)
{
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o, v, el;
	struct mm_json_iter it;
	struct mm_str k;
	int n = 0;

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	api_finding(&f, "Policy:IAMUser/RootCredentialUsage", "GetDetector");
	snprintf(f.user_type, sizeof(f.user_type), "Root");
	snprintf(f.user_name, sizeof(f.user_name), "Root");
	snprintf(f.access_key_id, sizeof(f.access_key_id), "ASIAROOTEXAMPLE");
	snprintf(f.apis[0].name, sizeof(f.apis[0].name), "ListDetectors");
	f.apis[0].count = 2;
	f.apis[0].first_ms = 1513312081000;
	f.apis[0].last_ms = 1513312095999;
	snprintf(f.apis[1].name, sizeof(f.apis[1].name), "GetDetector");
	f.apis[1].count = 3;
	f.apis[1].first_ms = 1513312082000;
	f.apis[1].last_ms = 1513312096000;
	f.napis = 2;
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (parse(&b, &o))
		goto out;
	CHECK_EQ_SLICE(raw_at(&o, "severity"), "2");
	CHECK_EQ_SLICE(str_at(&o, "resource.resourceType"), "AccessKey");
	CHECK_EQ_SLICE(str_at(&o, "resource.accessKeyDetails.userType"), "Root");
	CHECK_EQ_SLICE(str_at(&o, "service.action.actionType"), "AWS_API_CALL");
	CHECK_EQ_SLICE(str_at(&o, "service.action.awsApiCallAction.api"), "GetDetector");
	CHECK_EQ_SLICE(str_at(&o, "description"),
		       "The API GetDetector was invoked using root credentials from IP address "
		       "203.0.113.9.");
	/* GuardDuty's apiCalls: name, count, epoch-second firstSeen/lastSeen */
	CHECK(strstr(b.p, "\"apiCalls\":[{\"name\":\"ListDetectors\",\"count\":2,"
			  "\"firstSeen\":1513312081,\"lastSeen\":1513312095},"
			  "{\"name\":\"GetDetector\",\"count\":3,\"firstSeen\":1513312082,"
			  "\"lastSeen\":1513312096}]") != NULL);
	CHECK(mm_json_path(&o, "service.additionalInfo.apiCalls", &v) == 1 &&
	      v.type == MM_JSON_ARRAY);
	if (mm_json_iter_init(&it, &v) == 0)
		while (mm_json_iter_next(&it, &k, &el) == 1) {
			char keys[100];
			keys_of(&el, keys, sizeof(keys));
			CHECK_EQ_STR(keys, "name,count,firstSeen,lastSeen");
			n++;
		}
	CHECK_EQ_INT(n, 2);
	/* "value" repeats the members as a JSON string */
	{
		struct mm_str inner = str_at(&o, "service.additionalInfo.value");
		struct mm_json_val iv, x;
		size_t used;
		CHECK_EQ_INT(mm_json_value(inner.p, inner.n, &iv, &used), 0);
		CHECK(mm_json_get(&iv, "apiCalls", &x) == 1 && x.type == MM_JSON_ARRAY);
	}
	/* apiCalls only for API findings that carry them */
	f.napis = 0;
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	CHECK(strstr(b.p, "apiCalls") == NULL);
out:
	mm_buf_free(&b);
}

MM_TEST(domain_with_suffix)
{
	char d[64];

	CHECK_EQ_STR(mm_domain_with_suffix("pool.minexmr.com", d, sizeof(d)), "minexmr.com");
	CHECK_EQ_STR(mm_domain_with_suffix("minexmr.com", d, sizeof(d)), "minexmr.com");
	CHECK_EQ_STR(mm_domain_with_suffix("a.b.c.example.org.", d, sizeof(d)), "example.org");
	CHECK_EQ_STR(mm_domain_with_suffix("www.bbc.co.uk", d, sizeof(d)), "bbc.co.uk");
	CHECK_EQ_STR(mm_domain_with_suffix("bbc.co.uk", d, sizeof(d)), "bbc.co.uk");
	CHECK_EQ_STR(mm_domain_with_suffix("x.y.shop.com.au", d, sizeof(d)), "shop.com.au");
	CHECK_EQ_STR(mm_domain_with_suffix("WWW.Example.CO.UK", d, sizeof(d)), "Example.CO.UK");
	CHECK_EQ_STR(mm_domain_with_suffix("co.uk", d, sizeof(d)), "co.uk");
	CHECK_EQ_STR(mm_domain_with_suffix("localhost", d, sizeof(d)), "localhost");
	CHECK_EQ_STR(mm_domain_with_suffix("", d, sizeof(d)), "");
	CHECK_EQ_STR(mm_domain_with_suffix("pool.minexmr.com", d, 4), "min");
}

MM_TEST(json_instance_details_from_caller)
{
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o;
	static const char pending[] =
		"{\"instanceId\":\"i-0123456789abcdef0\",\"instanceType\":\"t3.micro\","
		"\"tags\":[{\"key\":\"Name\",\"value\":\"web\"}],\"instanceState\":\"pending\","
		"\"availabilityZone\":\"eu-west-1a\",\"imageId\":\"ami-0abc\"}";
	static const char running[] =
		"{\"instanceId\":\"i-0123456789abcdef0\",\"instanceState\":\"running\"}";
	static const char last[] = "{\"instanceId\":\"i-1\",\"instanceState\":\"pending\"}";
	static const char only[] = "{\"instanceState\":\"pending\"}";

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	net_finding(&f);
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, pending, &b), 0);
	if (!parse(&b, &o)) {
		CHECK(strstr(b.p, "pending") == NULL);
		CHECK(strstr(b.p, "\"instanceDetails\":{\"instanceId\":\"i-0123456789abcdef0\","
				  "\"instanceType\":\"t3.micro\",\"tags\":[{\"key\":\"Name\","
				  "\"value\":\"web\"}],\"availabilityZone\":\"eu-west-1a\","
				  "\"imageId\":\"ami-0abc\"}") != NULL);
	}
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, running, &b), 0);
	if (!parse(&b, &o))
		CHECK_EQ_SLICE(str_at(&o, "resource.instanceDetails.instanceState"), "running");
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, last, &b), 0);
	if (!parse(&b, &o))
		CHECK(strstr(b.p, "\"instanceDetails\":{\"instanceId\":\"i-1\"}") != NULL);
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, only, &b), 0);
	if (!parse(&b, &o))
		CHECK(strstr(b.p, "\"instanceDetails\":{}") != NULL);
	/* NULL: what the logs told */
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o)) {
		CHECK_EQ_SLICE(str_at(&o, "resource.instanceDetails.instanceId"),
			       "i-0123456789abcdef0");
		CHECK(!has(&o, "resource.instanceDetails.instanceType"));
	}
	mm_buf_free(&b);
}

/* A file name with control characters and bytes that are not UTF-8
 * still gives valid JSON: controls as \u00XX, bad bytes as U+FFFD. */
MM_TEST(json_hostile_bytes_stay_valid)
{
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o;
	static const char name[] = "logs/\x01\x1f\x7f\xff\xc3(\xe2\x82 ok \xc3\xa9\xf0\x9f\x98\x80"
				   "\xed\xa0\x80\xc0\xaf.gz";
	static const char want[] = "logs/\x01\x1f\x7f\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd"
				   " ok \xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				   "\xef\xbf\xbd\xef\xbf\xbd.gz";

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	net_finding(&f);
	f.nevidence = 0;
	mm_finding_add_evidence(&f, name, 1, 0, 1000);
	snprintf(f.user_agent, sizeof(f.user_agent), "ua\xfe\n");
	snprintf(f.domain, sizeof(f.domain), "bad\x80.example.com");
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (parse(&b, &o))
		goto out;
	/* controls escaped, never raw */
	{
		size_t i;
		for (i = 0; i < b.len; i++)
			CHECK((unsigned char)b.p[i] >= 0x20);
	}
	CHECK(strstr(b.p, "logs/\\u0001\\u001f") != NULL);
	/* the whole line is well-formed UTF-8 */
	{
		const unsigned char *u = (const unsigned char *)b.p;
		size_t i = 0;
		int bad = 0;
		while (i < b.len) {
			size_t k = u[i] < 0x80 ? 1 : (u[i] & 0xe0) == 0xc0 ? 2 : (u[i] & 0xf0) == 0xe0 ? 3 : 4;
			size_t j;
			if (u[i] >= 0x80 && (u[i] < 0xc2 || u[i] > 0xf4))
				bad = 1;
			for (j = 1; j < k && i + j < b.len; j++)
				if ((u[i + j] & 0xc0) != 0x80)
					bad = 1;
			i += k;
		}
		CHECK(!bad);
	}
	/* the evidence file name reads back with the bad bytes replaced */
	{
		struct mm_json_val ev, e0, fv;
		struct mm_json_iter it;
		struct mm_str k, file = {"", 0};
		CHECK(mm_json_path(&o, EVIDENCE_PATH, &ev) == 1);
		if (mm_json_iter_init(&it, &ev) == 0 && mm_json_iter_next(&it, &k, &e0) == 1 &&
		    mm_json_get(&e0, "file", &fv) == 1)
			CHECK_EQ_INT(mm_json_str(&fv, &ar, &file), 0);
		CHECK_EQ_SLICE(file, want);
	}
	CHECK_EQ_SLICE(str_at(&o, "service.action.networkConnectionAction.protocol"), "TCP");
out:
	mm_buf_free(&b);
}

/* The same hostile bytes at every offset of a long name: the writer's
 * 16-byte steps over plain bytes stop at each byte that needs care,
 * wherever it falls in a step. */
MM_TEST(json_hostile_bytes_at_every_offset)
{
	static const char bad[] = "\x01\\\"\xff\xc3(\xc3\xa9\x7f";
	static const char good[] = "\\u0001\\\\\\\"\xef\xbf\xbd\xef\xbf\xbd(\xc3\xa9\x7f";
	int pre;
	for (pre = 0; pre < 40; pre++) {
		struct mm_finding f;
		struct mm_buf b;
		char name[128], want[256];
		mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
		net_finding(&f);
		f.nevidence = 0;
		memset(name, 'a', (size_t)pre);
		snprintf(name + pre, sizeof(name) - (size_t)pre, "%s%s", bad, "-tail-of-the-name.log");
		memcpy(want, "\"file\":\"", 8);
		memset(want + 8, 'a', (size_t)pre);
		snprintf(want + 8 + pre, sizeof(want) - 8 - (size_t)pre, "%s%s\"", good,
			 "-tail-of-the-name.log");
		mm_finding_add_evidence(&f, name, 1, 0, 1000);
		mm_buf_init(&b, 1 << 20);
		CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
		if (!strstr(b.p, want)) {
			printf("  offset %d: %s not in the output\n", pre, want);
			CHECK(0);
		}
		/* a buffer capped at the text's own length cannot take the
		 * worst case up front: it is written run by run, to the same
		 * bytes; one byte less is refused */
		{
			struct mm_buf t, u;
			size_t nl = strlen(name);
			mm_buf_init(&t, 1 << 20);
			CHECK_EQ_INT(mm_finding_json_text(&t, name, nl), 0);
			CHECK(strstr(want, t.p) != NULL && t.len == strlen(want) - 9);
			mm_buf_init(&u, t.len);
			CHECK_EQ_INT(mm_finding_json_text(&u, name, nl), 0);
			CHECK(u.len == t.len && memcmp(u.p, t.p, t.len) == 0);
			mm_buf_free(&u);
			mm_buf_init(&u, t.len - 1);
			CHECK(mm_finding_json_text(&u, name, nl) != 0);
			mm_buf_free(&u);
			mm_buf_free(&t);
		}
		mm_buf_free(&b);
	}
}

MM_TEST(json_port_probe)
{
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o, v;

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	net_finding(&f);
	snprintf(f.type, sizeof(f.type), "Recon:EC2/PortProbeUnprotectedPort");
	f.action = MM_ACTION_PORT_PROBE;
	f.role = MM_ROLE_TARGET;
	f.local_port = 22;
	mm_buf_init(&b, 1 << 20);
	/* no probes listed: the finding's own port and addresses */
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o)) {
		CHECK_EQ_SLICE(str_at(&o, "service.action.actionType"), "PORT_PROBE");
		CHECK(strstr(b.p, "\"portProbeAction\":{\"portProbeDetails\":[{\"localPortDetails\":"
				  "{\"port\":22,\"portName\":\"SSH\"},\"localIpDetails\":{\"ipAddressV4\":"
				  "\"10.0.0.5\"},\"remoteIpDetails\":{\"ipAddressV4\":\"198.51.100.7\"}}") !=
		      NULL);
		CHECK_EQ_SLICE(raw_at(&o, "service.action.portProbeAction.blocked"), "false");
	}
	/* several probes */
	f.nprobes = 2;
	f.probes[0].local_port = 443;
	f.probes[0].has_remote_ip = 1;
	mm_ip_parse("192.0.2.1", 9, &f.probes[0].remote_ip);
	f.probes[1].local_port = 3389;
	f.probes[1].has_local_ip = 1;
	mm_ip_parse("10.0.0.6", 8, &f.probes[1].local_ip);
	f.probes[1].has_remote_ip = 1;
	mm_ip_parse("2001:db8::2", 11, &f.probes[1].remote_ip);
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o)) {
		CHECK(mm_json_path(&o, "service.action.portProbeAction.portProbeDetails", &v) == 1 &&
		      v.type == MM_JSON_ARRAY);
		CHECK(strstr(b.p, "{\"localPortDetails\":{\"port\":443,\"portName\":\"HTTPS\"},"
				  "\"remoteIpDetails\":{\"ipAddressV4\":\"192.0.2.1\"}}") != NULL);
		CHECK(strstr(b.p, "{\"localPortDetails\":{\"port\":3389,\"portName\":\"RDP\"},"
				  "\"localIpDetails\":{\"ipAddressV4\":\"10.0.0.6\"},\"remoteIpDetails\":"
				  "{\"ipAddressV6\":\"2001:db8::2\"}}") != NULL);
		CHECK(strstr(b.p, "198.51.100.7\",\"org") == NULL);
	}
	mm_buf_free(&b);
}

MM_TEST(json_s3_bucket_resource)
{
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o;

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	api_finding(&f, "UnauthorizedAccess:IAMUser/TorIPCaller", "GetObject");
	f.res_type = MM_RES_S3BUCKET;
	snprintf(f.bucket_name, sizeof(f.bucket_name), "my-bucket");
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o)) {
		CHECK(strstr(b.p, "\"resource\":{\"resourceType\":\"S3Bucket\",\"accessKeyDetails\":{"
				  "\"accessKeyId\":\"AKIAIOSFODNN7EXAMPLE\",") != NULL);
		CHECK(strstr(b.p, "\"s3BucketDetails\":[{\"arn\":\"arn:aws:s3:::my-bucket\","
				  "\"name\":\"my-bucket\",\"type\":\"Destination\"}]}") != NULL);
		CHECK(!has(&o, "resource.instanceDetails"));
	}
	mm_buf_free(&b);
}

MM_TEST(json_runtime_process)
{
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o;
	char t[300];

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	net_finding(&f);
	f.res_type = MM_RES_RUNTIME;
	f.instance_id[0] = f.eni[0] = '\0';
	snprintf(f.proc.name, sizeof(f.proc.name), "xmrig");
	snprintf(f.proc.exe, sizeof(f.proc.exe), "/tmp/.x/xmrig");
	f.proc.pid = 4242;
	f.proc.ppid = 1;
	snprintf(f.proc.user, sizeof(f.proc.user), "www-data");
	snprintf(f.proc.cmdline, sizeof(f.proc.cmdline), "/tmp/.x/xmrig -o pool:3333");
	snprintf(f.proc.host, sizeof(f.proc.host), "web-1");
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &b), 0);
	if (!parse(&b, &o)) {
		CHECK_EQ_SLICE(str_at(&o, "resource.resourceType"), "Instance");
		CHECK_EQ_SLICE(str_at(&o, "service.featureName"), "RuntimeMonitoring");
		CHECK(strstr(b.p, "\"runtimeDetails\":{\"process\":{\"name\":\"xmrig\","
				  "\"executablePath\":\"/tmp/.x/xmrig\",\"pid\":4242,\"user\":"
				  "\"www-data\",\"lineage\":[{\"pid\":1}]},\"context\":{"
				  "\"commandLineExample\":\"/tmp/.x/xmrig -o pool:3333\"}}") != NULL);
		CHECK_EQ_SLICE(str_at(&o, "service.additionalInfo.hostName"), "web-1");
	}
	title_of(&f, t, sizeof(t));
	CHECK_EQ_STR(t, "EC2 instance web-1 is communicating with a Bitcoin-related IP address.");
	mm_buf_free(&b);
}

/* ---- EventBridge ---- */

MM_TEST(eventbridge_envelope)
{
	struct mm_finding f;
	struct mm_finding_row row;
	struct mm_buf fj, ev, ev2;
	struct mm_json_val o, d;
	char keys[300];
	char *s;
	size_t len, used;

	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	net_finding(&f);
	mm_buf_init(&fj, 1 << 20);
	mm_buf_init(&ev, 1 << 20);
	mm_buf_init(&ev2, 1 << 20);
	CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &fj), 0);
	CHECK_EQ_INT(mm_eventbridge_event(fj.p, &ev), 0);
	CHECK(strchr(ev.p, '\n') == NULL);
	if (parse(&ev, &o))
		goto out;
	keys_of(&o, keys, sizeof(keys));
	CHECK_EQ_STR(keys, "version,id,detail-type,source,account,time,region,resources,detail");
	CHECK_EQ_SLICE(str_at(&o, "version"), "0");
	CHECK_EQ_SLICE(str_at(&o, "detail-type"), "GuardDuty Finding");
	CHECK_EQ_SLICE(str_at(&o, "source"), "aws.guardduty");
	CHECK_EQ_SLICE(str_at(&o, "account"), "123456789012");
	CHECK_EQ_SLICE(str_at(&o, "region"), "eu-west-1");
	CHECK_EQ_SLICE(str_at(&o, "time"), "2022-11-22T12:22:20Z");
	CHECK_EQ_SLICE(raw_at(&o, "resources"), "[]");
	CHECK(mm_json_get(&o, "detail", &d) == 1 && d.type == MM_JSON_OBJECT);
	CHECK(d.n == fj.len && memcmp(d.p, fj.p, fj.len) == 0);
	/* id: UUID-shaped, stable for the same update, new for the next */
	{
		struct mm_str id = str_at(&o, "id");
		size_t i;
		CHECK_EQ_INT(id.n, 36);
		for (i = 0; i < id.n && id.n == 36; i++)
			CHECK(i == 8 || i == 13 || i == 18 || i == 23 ? id.p[i] == '-'
								       : strchr("0123456789abcdef", id.p[i]) != NULL);
		CHECK_EQ_INT(mm_eventbridge_event(fj.p, &ev2), 0);
		CHECK_EQ_STR(ev2.p, ev.p);
		/* the next update of the same finding is another event */
		f.updated_at_ms += 1000;
		mm_buf_reset(&fj);
		CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &fj), 0);
		mm_buf_reset(&ev2);
		CHECK_EQ_INT(mm_eventbridge_event(fj.p, &ev2), 0);
		CHECK(strncmp(ev2.p, ev.p, 60) != 0);
		CHECK(strstr(ev2.p, "\"time\":\"2022-11-22T12:22:21Z\"") != NULL);
		f.updated_at_ms -= 1000;
		mm_buf_reset(&fj);
		CHECK_EQ_INT(mm_finding_to_json(&f, NULL, &fj), 0);
	}
	/* not a finding: refused, nothing written */
	mm_buf_reset(&ev2);
	CHECK_EQ_INT(mm_eventbridge_event("{\"x\":1}", &ev2), MM_EINVAL);
	CHECK_EQ_INT(mm_eventbridge_event("not json", &ev2), MM_EINVAL);
	CHECK_EQ_INT(ev2.len, 0);

	/* the printer: one event a line; only the JSON is needed (scan's
	 * rows carry nothing else) */
	row = mkrow(f.id, f.type, 8, fj.p);
	{
		struct mm_finding_row rows[2];
		rows[0] = rows[1] = row;
		s = print_rows(MM_OUT_EVENTBRIDGE, 0, rows, 2, &len);
		CHECK_EQ_INT(len, 2 * (ev.len + 1));
		CHECK(strncmp(s, ev.p, ev.len) == 0 && s[ev.len] == '\n');
		CHECK_EQ_INT(mm_json_value(s, len, &o, &used), 0);
		free(s);
		s = print_rows(MM_OUT_EVENTBRIDGE, 0, rows, 0, &len);
		CHECK_EQ_STR(s, "");
		free(s);
	}
out:
	mm_buf_free(&fj);
	mm_buf_free(&ev);
	mm_buf_free(&ev2);
}
