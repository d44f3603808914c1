/* test_detect.c - the threat-intel detectors, event in -> finding out,
 * with positive and negative (look-alike) cases for every type. */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "detect/detect.h"
#include "mmtest.h"
#include "parse/cloudtrail.h"
#include "parse/flowlog.h"
#include "parse/route53.h"

struct fixture {
	struct mm_intel *in;
	struct mm_agg *agg;
	struct mm_inventory *learned;
	struct mm_detect_ctx d;
	struct mm_file_ctx fc;
	char mem[1 << 16];
	struct mm_arena scratch;
	struct mm_flow_fmt fmt;
};

static void load(struct mm_intel *in, enum mm_intel_cat cat, const char *name, const char *text)
{
	struct mm_err e;
	CHECK_EQ_INT(mm_intel_load_mem(in, cat, name, text, strlen(text), NULL, &e), 0);
}

static void setup(struct fixture *fx)
{
	struct mm_err e;
	memset(fx, 0, sizeof(*fx));
	CHECK_EQ_INT(mm_intel_new(&fx->in), 0);
	load(fx->in, MM_CAT_MINING, "mining.txt", "198.51.100.7\n45.9.0.0/16\npool.minexmr.example\n");
	load(fx->in, MM_CAT_C2, "c2.txt", "203.0.113.66\nevil-c2.example\n");
	load(fx->in, MM_CAT_TOR, "tor.txt", "192.0.2.10\n192.0.2.11\n192.0.2.20\n");
	load(fx->in, MM_CAT_TOREXIT, "torexit.txt", "192.0.2.20\n");
	load(fx->in, MM_CAT_BLACKHOLE, "bh.txt", "100.200.1.1\nsink.example\n");
	load(fx->in, MM_CAT_DROPPOINT, "drop.txt", "100.200.2.2\ndrop.example\n");
	load(fx->in, MM_CAT_CUSTOM, "custom.txt", "100.200.3.3\nbad.example\n198.18.0.0/15\n");
	{
		const char *t = "203.0.113.99\n198.18.5.5\n";
		CHECK_EQ_INT(mm_intel_load_trusted_mem(fx->in, "trusted.txt", t, strlen(t), &e), 0);
	}
	load(fx->in, MM_CAT_C2, "c2b.txt", "203.0.113.99\n");
	CHECK_EQ_INT(mm_intel_build(fx->in, &e), 0);
	CHECK_EQ_INT(mm_agg_new(&fx->agg, 1000), 0);
	CHECK_EQ_INT(mm_inventory_new(&fx->learned), 0);
	fx->d.intel = fx->in;
	fx->d.agg = fx->agg;
	fx->d.learned = fx->learned;
	mm_file_ctx_from_path(&fx->fc, "t/AWSLogs/111122223333/vpcflowlogs/us-east-1/x.log");
	fx->d.file = &fx->fc;
	mm_arena_init(&fx->scratch, fx->mem, sizeof(fx->mem));
	mm_flow_fmt_auto(&fx->fmt);
}

static void teardown(struct fixture *fx)
{
	mm_agg_free(fx->agg);
	mm_inventory_free(fx->learned);
	mm_intel_free(fx->in);
}

static void flow(struct fixture *fx, const char *line)
{
	struct mm_event ev;
	struct mm_err e;
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&fx->scratch);
	CHECK_EQ_INT(mm_flow_parse(&fx->fmt, line, strlen(line), &fx->scratch, &ev, &e), 0);
	ev.loc.file = "t.log";
	ev.loc.line = 1;
	mm_detect_event(&fx->d, &ev);
}

static void dns(struct fixture *fx, const char *qname, const char *inst)
{
	char line[1024];
	struct mm_event ev;
	struct mm_err e;
	snprintf(line, sizeof(line),
		 "{\"version\":\"1.100000\",\"account_id\":\"111122223333\",\"region\":\"us-east-1\","
		 "\"vpc_id\":\"vpc-1\",\"query_timestamp\":\"2024-05-01T10:00:00Z\",\"query_name\":\"%s\","
		 "\"query_type\":\"A\",\"query_class\":\"IN\",\"rcode\":\"NOERROR\",\"answers\":[],"
		 "\"srcaddr\":\"10.0.0.5\",\"srcport\":\"53111\",\"transport\":\"UDP\",\"srcids\":{%s%s%s}}",
		 qname, inst ? "\"instance\":\"" : "", inst ? inst : "", inst ? "\"" : "");
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&fx->scratch);
	CHECK_EQ_INT(mm_dns_parse(line, strlen(line), &fx->scratch, &ev, &e), 0);
	static uint64_t ln;
	ev.loc.file = "q.log";
	ev.loc.line = ++ln; /* same time: the later line gives the details */
	mm_detect_event(&fx->d, &ev);
}

static void api(struct fixture *fx, const char *name, const char *ip)
{
	char line[2048];
	struct mm_event ev;
	struct mm_err e;
	snprintf(line, sizeof(line),
		 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":"
		 "\"AIDAEXAMPLE\",\"arn\":\"arn:aws:iam::111122223333:user/alice\",\"accountId\":"
		 "\"111122223333\",\"accessKeyId\":\"AKIAEXAMPLE1\",\"userName\":\"alice\"},"
		 "\"eventTime\":\"2024-05-01T11:00:00Z\",\"eventSource\":\"iam.amazonaws.com\","
		 "\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"%s\","
		 "\"userAgent\":\"aws-cli/2\",\"requestParameters\":null,\"responseElements\":null,"
		 "\"eventID\":\"e1\",\"eventType\":\"AwsApiCall\",\"recipientAccountId\":\"111122223333\"}",
		 name, ip);
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&fx->scratch);
	CHECK_EQ_INT(mm_ct_parse_line(line, strlen(line), &fx->scratch, &ev, &e), 0);
	ev.loc.file = "ct.json";
	ev.loc.line = 1;
	mm_detect_event(&fx->d, &ev);
}

/* The one finding of type t, or NULL (and a failure if more than one). */
static struct mm_finding *find(struct fixture *fx, const char *t)
{
	struct mm_finding *hit = NULL;
	size_t i;
	for (i = 0; i < mm_agg_count(fx->agg); i++) {
		struct mm_finding *f = mm_agg_at(fx->agg, i);
		if (strcmp(f->type, t) == 0) {
			CHECK(hit == NULL);
			hit = f;
		}
	}
	return hit;
}

#define ENI "2 111122223333 eni-0aaa "

MM_TEST(mining_pool_outbound_both_directions_is_one_finding)
{
	struct fixture fx;
	struct mm_finding *f;
	char ip[64];
	setup(&fx);
	flow(&fx, ENI "10.0.0.5 198.51.100.7 41000 3333 6 20 4000 1714557600 1714557660 ACCEPT OK");
	flow(&fx, ENI "198.51.100.7 10.0.0.5 3333 41000 6 18 9000 1714557600 1714557660 ACCEPT OK");
	flow(&fx, ENI "10.0.0.5 45.9.1.2 41002 14444 6 20 4000 1714557700 1714557760 ACCEPT OK");
	f = find(&fx, "CryptoCurrency:EC2/BitcoinTool.B");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT((int)f->count, 3);
		CHECK_EQ_INT(f->role, MM_ROLE_ACTOR);
		CHECK_EQ_INT(f->direction, MM_DIR_OUTBOUND);
		CHECK_EQ_STR(f->eni, "eni-0aaa");
		CHECK_EQ_STR(f->account, "111122223333");
		CHECK_EQ_STR(f->region, "us-east-1");
		CHECK_EQ_STR(f->threat_list, "mining.txt");
		CHECK_EQ_STR(f->indicator, "45.9.0.0/16");
		CHECK_EQ_STR(mm_ip_format(&f->remote_ip, ip), "45.9.1.2");
		CHECK_EQ_INT(f->remote_port, 14444);
		CHECK_EQ_INT((int)(f->first_seen_ms / 1000), 1714557600);
		CHECK_EQ_INT((int)(f->last_seen_ms / 1000), 1714557760);
		CHECK_EQ_STR(f->protocol, "TCP");
		CHECK(f->nevidence >= 1);
	}
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 1);
	teardown(&fx);
}

MM_TEST(neighbours_of_listed_addresses_do_not_fire)
{
	struct fixture fx;
	setup(&fx);
	flow(&fx, ENI "10.0.0.5 198.51.100.8 41000 3333 6 20 4000 1714557600 1714557660 ACCEPT OK");
	flow(&fx, ENI "10.0.0.5 45.10.0.0 41000 3333 6 20 4000 1714557600 1714557660 ACCEPT OK");
	flow(&fx, ENI "10.0.0.5 45.8.255.255 41000 3333 6 20 4000 1714557600 1714557660 ACCEPT OK");
	flow(&fx, ENI "- - - - - - - 1714557600 1714557660 - NODATA");
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 0);
	/* positive control: the listed address and the CIDR's edges do fire */
	flow(&fx, ENI "10.0.0.5 198.51.100.7 41000 3333 6 20 4000 1714557600 1714557660 ACCEPT OK");
	flow(&fx, ENI "10.0.0.5 45.9.255.255 41000 3333 6 20 4000 1714557600 1714557660 ACCEPT OK");
	CHECK(find(&fx, "CryptoCurrency:EC2/BitcoinTool.B") != NULL);
	if (find(&fx, "CryptoCurrency:EC2/BitcoinTool.B"))
		CHECK_EQ_INT(find(&fx, "CryptoCurrency:EC2/BitcoinTool.B")->count, 2);
	teardown(&fx);
}

MM_TEST(c2_blackhole_droppoint_outbound_only)
{
	struct fixture fx;
	setup(&fx);
	flow(&fx, ENI "10.0.0.5 203.0.113.66 50000 443 6 5 400 1714557600 1714557660 ACCEPT OK");
	flow(&fx, ENI "10.0.0.5 100.200.1.1 50001 80 6 3 180 1714557600 1714557660 REJECT OK");
	flow(&fx, ENI "10.0.0.5 100.200.2.2 50002 443 6 900 9000000 1714557600 1714557660 ACCEPT OK");
	CHECK(find(&fx, "Backdoor:EC2/C&CActivity.B") != NULL);
	CHECK(find(&fx, "Trojan:EC2/BlackholeTraffic") != NULL);
	if (find(&fx, "Trojan:EC2/BlackholeTraffic"))
		CHECK_EQ_INT(find(&fx, "Trojan:EC2/BlackholeTraffic")->blocked, 1);
	CHECK(find(&fx, "Trojan:EC2/DropPoint") != NULL);
	teardown(&fx);
}

MM_TEST(inbound_rejected_probe_from_c2_does_not_fire)
{
	struct fixture fx;
	setup(&fx);
	flow(&fx, ENI "203.0.113.66 10.0.0.5 51515 22 6 1 60 1714557600 1714557660 REJECT OK");
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 0);
	/* positive control: the instance opening a connection to it fires */
	flow(&fx, ENI "10.0.0.5 203.0.113.66 51515 443 6 1 60 1714557600 1714557660 ACCEPT OK");
	CHECK(find(&fx, "Backdoor:EC2/C&CActivity.B") != NULL);
	teardown(&fx);
}

MM_TEST(custom_list_inbound_accepted_is_target)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	flow(&fx, ENI "100.200.3.3 10.0.0.5 51515 22 6 10 900 1714557600 1714557660 ACCEPT OK");
	f = find(&fx, "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->role, MM_ROLE_TARGET);
		CHECK_EQ_INT(f->direction, MM_DIR_INBOUND);
		CHECK_EQ_INT(f->local_port, 22);
	}
	teardown(&fx);
}

MM_TEST(trusted_beats_threat)
{
	struct fixture fx;
	setup(&fx);
	flow(&fx, ENI "10.0.0.5 203.0.113.99 50000 443 6 5 400 1714557600 1714557660 ACCEPT OK");
	flow(&fx, ENI "10.0.0.5 198.18.5.5 50000 443 6 5 400 1714557600 1714557660 ACCEPT OK");
	api(&fx, "CreateUser", "203.0.113.99");
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 0);
	CHECK(fx.d.st.trusted_skips >= 3);
	/* positive control: the same lists, an address that is not trusted */
	flow(&fx, ENI "10.0.0.5 203.0.113.66 50000 443 6 5 400 1714557600 1714557660 ACCEPT OK");
	api(&fx, "CreateUser", "203.0.113.66");
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 2);
	teardown(&fx);
}

MM_TEST(tor_client_relay_and_exit_visitors)
{
	struct fixture fx;
	setup(&fx);
	/* outbound to a guard relay: client */
	flow(&fx, ENI "10.0.0.5 192.0.2.10 40100 9001 6 50 40000 1714557600 1714557660 ACCEPT OK");
	CHECK(find(&fx, "UnauthorizedAccess:EC2/TorClient") != NULL);
	CHECK(find(&fx, "UnauthorizedAccess:EC2/TorRelay") == NULL);
	/* web server visited through an exit relay: nothing */
	flow(&fx, "2 111122223333 eni-0web 192.0.2.20 10.0.0.9 51000 443 6 10 900 1714557600 1714557660 ACCEPT OK");
	flow(&fx, "2 111122223333 eni-0web 10.0.0.9 192.0.2.20 443 51000 6 10 9000 1714557600 1714557660 ACCEPT OK");
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 1);
	/* a non-exit relay connecting to our ORPort: relay */
	flow(&fx, "2 111122223333 eni-0rly 192.0.2.11 10.0.0.7 52000 9001 6 10 900 1714557600 1714557660 ACCEPT OK");
	CHECK(find(&fx, "UnauthorizedAccess:EC2/TorRelay") != NULL);
	if (find(&fx, "UnauthorizedAccess:EC2/TorRelay"))
		CHECK_EQ_INT(find(&fx, "UnauthorizedAccess:EC2/TorRelay")->role, MM_ROLE_ACTOR);
	teardown(&fx);
}

MM_TEST(dns_findings_and_lookalikes)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	dns(&fx, "xmr.pool.minexmr.example.", "i-0abc");
	dns(&fx, "POOL.MINEXMR.EXAMPLE.", "i-0abc");
	dns(&fx, "evil-c2.example.", "i-0abc");
	dns(&fx, "sink.example.", "i-0abc");
	dns(&fx, "drop.example.", "i-0abc");
	dns(&fx, "www.bad.example.", NULL);
	/* look-alikes */
	dns(&fx, "xpool.minexmr.example.", "i-0abc");
	dns(&fx, "minexmr.example.", "i-0abc");
	dns(&fx, "notbad.example.", "i-0abc");
	f = find(&fx, "CryptoCurrency:EC2/BitcoinTool.B!DNS");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT((int)f->count, 2);
		CHECK_EQ_STR(f->instance_id, "i-0abc");
		CHECK_EQ_STR(f->domain, "POOL.MINEXMR.EXAMPLE");
		CHECK_EQ_INT(f->role, MM_ROLE_ACTOR);
	}
	CHECK(find(&fx, "Backdoor:EC2/C&CActivity.B!DNS") != NULL);
	CHECK(find(&fx, "Trojan:EC2/BlackholeTraffic!DNS") != NULL);
	CHECK(find(&fx, "Trojan:EC2/DropPoint!DNS") != NULL);
	f = find(&fx, "Impact:EC2/MaliciousDomainRequest.Custom");
	CHECK(f != NULL);
	if (f)
		CHECK_EQ_STR(f->local_ip_key, "10.0.0.5");
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 5);
	teardown(&fx);
}

MM_TEST(cloudtrail_callers)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	api(&fx, "CreateUser", "203.0.113.66");
	api(&fx, "ListBuckets", "203.0.113.66");
	api(&fx, "AttachUserPolicy", "100.200.3.3");
	api(&fx, "DescribeInstances", "100.200.3.3");
	api(&fx, "CreateAccessKey", "192.0.2.20");
	api(&fx, "GetCallerIdentity", "192.0.2.20");
	api(&fx, "CreateUser", "8.8.8.8");
	f = find(&fx, "UnauthorizedAccess:IAMUser/MaliciousIPCaller");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_STR(f->access_key_id, "AKIAEXAMPLE1");
		CHECK_EQ_INT(f->role, MM_ROLE_TARGET);
		CHECK_EQ_STR(f->api, "CreateUser");
		CHECK_EQ_STR(f->user_name, "alice");
		CHECK_EQ_INT(f->res_type, MM_RES_ACCESSKEY);
	}
	CHECK(find(&fx, "Recon:IAMUser/MaliciousIPCaller") != NULL);
	CHECK(find(&fx, "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom") != NULL);
	CHECK(find(&fx, "Recon:IAMUser/MaliciousIPCaller.Custom") != NULL);
	CHECK(find(&fx, "UnauthorizedAccess:IAMUser/TorIPCaller") != NULL);
	CHECK(find(&fx, "Recon:IAMUser/TorIPCaller") != NULL);
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 6);
	teardown(&fx);
}

MM_TEST(aws_service_caller_without_address_is_ignored)
{
	struct fixture fx;
	setup(&fx);
	api(&fx, "CreateUser", "ec2.amazonaws.com");
	api(&fx, "CreateUser", "AWS Internal");
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 0);
	/* positive control: a listed address in the same field fires */
	api(&fx, "CreateUser", "203.0.113.66");
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 1);
	teardown(&fx);
}

/* A CloudTrail call by userIdentity type `who` (Root or IAMUser), with
 * invokedBy and eventType as given (NULL = absent / AwsApiCall). */
static void call_as(struct fixture *fx, const char *who, const char *name, const char *invoked,
		    const char *etype, const char *time)
{
	char line[2048];
	struct mm_event ev;
	struct mm_err e;
	snprintf(line, sizeof(line),
		 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"%s\",\"principalId\":"
		 "\"111122223333\",\"arn\":\"arn:aws:iam::111122223333:root\",\"accountId\":"
		 "\"111122223333\",\"accessKeyId\":\"ASIAROOTKEY1\"%s%s%s},"
		 "\"eventTime\":\"%s\",\"eventSource\":\"s3.amazonaws.com\","
		 "\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"198.51.100.9\","
		 "\"userAgent\":\"console.amazonaws.com\",\"eventID\":\"e1\",\"eventType\":\"%s\","
		 "\"recipientAccountId\":\"111122223333\"}",
		 who, invoked ? ",\"invokedBy\":\"" : "", invoked ? invoked : "", invoked ? "\"" : "",
		 time, name, etype ? etype : "AwsApiCall");
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&fx->scratch);
	CHECK_EQ_INT(mm_ct_parse_line(line, strlen(line), &fx->scratch, &ev, &e), 0);
	ev.loc.file = "ct.json";
	ev.loc.line = 1;
	mm_detect_event(&fx->d, &ev);
}

MM_TEST(root_credential_usage_positive_and_lookalikes)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	/* look-alikes first: none of these is the root using its credentials */
	call_as(&fx, "Root", "ConsoleLogin", NULL, "AwsConsoleSignIn", "2024-05-01T10:00:00Z");
	call_as(&fx, "Root", "Decrypt", "cloudtrail.amazonaws.com", NULL, "2024-05-01T10:00:01Z");
	call_as(&fx, "Root", "ConfigRuleEvaluation", NULL, "AwsServiceEvent", "2024-05-01T10:00:02Z");
	call_as(&fx, "IAMUser", "ListBuckets", NULL, NULL, "2024-05-01T10:00:03Z");
	CHECK(find(&fx, "Policy:IAMUser/RootCredentialUsage") == NULL);
	/* the positive control, in the same fixture */
	call_as(&fx, "Root", "ListBuckets", NULL, NULL, "2024-05-01T10:01:00Z");
	call_as(&fx, "Root", "ListBuckets", NULL, NULL, "2024-05-01T10:02:00Z");
	call_as(&fx, "Root", "CreateBucket", NULL, NULL, "2024-05-01T10:03:00Z");
	f = find(&fx, "Policy:IAMUser/RootCredentialUsage");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->count, 3);
		CHECK_EQ_STR(f->access_key_id, "ASIAROOTKEY1");
		CHECK_EQ_STR(f->user_type, "Root");
		CHECK_EQ_STR(f->user_name, "Root");
		CHECK_EQ_STR(f->api, "CreateBucket"); /* the latest call's details */
		CHECK_EQ_INT(f->severity, 2);
		CHECK_EQ_INT(f->napis, 2);
		CHECK_EQ_STR(f->apis[0].name, "CreateBucket");
		CHECK_EQ_STR(f->apis[1].name, "ListBuckets");
		CHECK_EQ_INT(f->apis[1].count, 2);
	}
	teardown(&fx);
}

/* The engine calls prefetch only before on_event's per-record loop: a
 * detector declaring it must have on_event and no on_batch. */
MM_TEST(prefetch_hook_only_with_on_event)
{
	int i, with = 0;
	for (i = 0; mm_detectors[i]; i++) {
		const struct mm_detector_def *d = mm_detectors[i];
		if (!d->prefetch)
			continue;
		with++;
		CHECK(d->on_event != NULL);
		CHECK(d->on_batch == NULL);
	}
	CHECK(with >= 1); /* threatintel */
}
