/* test_inventory.c - instance inventory: describe-instances, CloudTrail
 * RunInstances, lookups by id/ENI/IP, ambiguity, merging, the GuardDuty
 * instanceDetails writer and its reader, bad input and the size cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/mem.h"
#include "enrich/inventory.h"
#include "mmtest.h"
#include "parse/cloudtrail.h"

#define DATA "tests/data/inventory/"

static struct mm_ip ip_of(const char *s)
{
	struct mm_ip ip;
	memset(&ip, 0, sizeof(ip));
	if (mm_ip_parse(s, strlen(s), &ip) != 0)
		fprintf(stderr, "  bad test address %s\n", s);
	return ip;
}

static const struct mm_instance *by_ipz(const struct mm_inventory *inv, const char *s)
{
	struct mm_ip ip = ip_of(s);
	return mm_inventory_by_ip(inv, &ip);
}

static const struct mm_instance *by_idz(const struct mm_inventory *inv, const char *s)
{
	return mm_inventory_by_id(inv, s, strlen(s));
}

static const struct mm_instance *by_enz(const struct mm_inventory *inv, const char *s)
{
	return mm_inventory_by_eni(inv, s, strlen(s));
}

static const char *tag(const struct mm_instance *in, const char *key)
{
	int i;
	for (i = 0; in && i < in->ntags; i++)
		if (!strcmp(in->tags[i].key, key))
			return in->tags[i].value;
	return NULL;
}

static struct mm_inventory *load(const char *file)
{
	struct mm_inventory *inv = NULL;
	struct mm_err err;
	int rc;

	mm_err_clear(&err);
	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	rc = mm_inventory_load_file(inv, file, &err);
	if (rc)
		fprintf(stderr, "  load %s: %s\n", file, err.msg);
	CHECK_EQ_INT(rc, 0);
	return inv;
}

/* The real RunInstances sample through the CloudTrail parser. */
static int add_run_instances(struct mm_inventory *inv)
{
	char path[512], *line = NULL;
	static char scratch[1 << 16];
	struct mm_arena ar;
	struct mm_event ev;
	struct mm_err err;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/aws-samples/cloudtrail/test-run-instances-json.log",
		 mmtest_shared_data());
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return -1;
	n = getline(&line, &cap, f);
	CHECK(n > 0);
	mm_arena_init(&ar, scratch, sizeof(scratch));
	memset(&ev, 0, sizeof(ev));
	mm_err_clear(&err);
	if (n > 0 && mm_ct_parse_line(line, (size_t)n, &ar, &ev, &err) == 0) {
		CHECK_EQ_SLICE(ev.u.api.event_name, "RunInstances");
		rc = mm_inventory_add_event(inv, &ev, &err);
		if (rc)
			fprintf(stderr, "  add_event: %s\n", err.msg);
	} else {
		fprintf(stderr, "  ct parse: %s\n", err.msg);
	}
	free(line);
	fclose(f);
	return rc;
}

MM_TEST(describe_basic)
{
	struct mm_inventory *inv = load(DATA "describe-basic.json");
	const struct mm_instance *in, *w;
	const struct mm_netif *f;
	char ip[MM_IP_STRLEN];

	CHECK_EQ_INT(mm_inventory_count(inv), 2);
	in = by_idz(inv, "i-1234567890abcdef0");
	CHECK(in != NULL);
	if (!in)
		goto out;
	CHECK_EQ_STR(in->instance_type, "t3.nano");
	CHECK_EQ_STR(in->image_id, "ami-0abcdef1234567890");
	CHECK_EQ_STR(in->launch_time, "2022-11-15T10:48:59.000Z");
	CHECK_EQ_STR(in->az, "us-east-2a");
	CHECK_EQ_STR(in->state, "running");
	CHECK_EQ_STR(in->platform, "");	/* Linux: GuardDuty prints null */
	CHECK_EQ_STR(in->account, "111122223333");
	CHECK_EQ_STR(in->iam_profile_id, "111111111111111111111");
	CHECK(strstr(in->iam_profile_arn, "instance-profile/AmazonSSM") != NULL);
	CHECK_EQ_INT(in->ntags, 2);
	CHECK_EQ_STR(tag(in, "Name"), "my-instance");
	CHECK_EQ_STR(tag(in, "team"), "web \"edge\"");	/* unescaped */
	CHECK_EQ_INT(in->nnif, 2);
	f = mm_instance_nif(in, "eni-1234567890abcdefg", 21);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->nprivate, 2);
		CHECK_EQ_STR(mm_ip_format(&f->private_ips[0], ip), "10.0.0.157");
		CHECK_EQ_STR(mm_ip_format(&f->private_ips[1], ip), "10.0.0.158");
		CHECK(f->has_public_ip);
		CHECK_EQ_STR(mm_ip_format(&f->public_ip, ip), "34.253.223.13");
		CHECK_EQ_STR(f->public_dns, "ec2-34-253-223-13.us-east-2.compute.amazonaws.com");
		CHECK_EQ_INT(f->nipv6, 1);
		CHECK_EQ_STR(mm_ip_format(&f->ipv6[0], ip), "2600:1f16:abc:de00::1234");
		CHECK_EQ_INT(f->nsg, 1);
		CHECK_EQ_STR(f->sg_id[0], "sg-1234567890abcdefg");
		CHECK_EQ_STR(f->sg_name[0], "launch-wizard-146");
		CHECK_EQ_STR(f->subnet_id, "subnet-04a636d18e83cfacb");
	}
	f = mm_instance_nif(in, "eni-0bbbbbbbbbbbbbbb1", 21);
	CHECK(f != NULL);
	if (f) {
		CHECK(!f->has_public_ip);
		CHECK_EQ_INT(f->nsg, 2);
		CHECK_EQ_STR(f->sg_name[1], "monitoring");
		CHECK_EQ_STR(f->subnet_id, "subnet-0bbbb1111cccc2222");
	}
	CHECK(mm_instance_nif(in, "eni-nope", 8) == NULL);

	/* lookups */
	CHECK(by_enz(inv, "eni-1234567890abcdefg") == in);
	CHECK(by_enz(inv, "eni-0bbbbbbbbbbbbbbb1") == in);
	CHECK(by_ipz(inv, "10.0.0.157") == in);
	CHECK(by_ipz(inv, "10.0.0.158") == in);
	CHECK(by_ipz(inv, "10.0.1.20") == in);
	CHECK(by_ipz(inv, "34.253.223.13") == in);
	CHECK(by_ipz(inv, "2600:1f16:abc:de00::1234") == in);
	CHECK(by_ipz(inv, "10.0.0.159") == NULL);
	CHECK(by_enz(inv, "eni-1234567890abcdef") == NULL);	/* prefix only */
	CHECK(by_idz(inv, "i-1234567890abcdef") == NULL);
	CHECK(mm_inventory_by_id(inv, "i-1234567890abcdef0", 0) == NULL);

	w = by_idz(inv, "i-0598c7d356eba48d7");
	CHECK(w != NULL);
	if (w) {
		CHECK_EQ_STR(w->platform, "windows");
		CHECK_EQ_STR(w->state, "stopped");
		CHECK_EQ_STR(w->launch_time, "2024-03-04T08:15:02.000Z");
		CHECK(by_ipz(inv, "10.0.2.44") == w);
		CHECK(by_enz(inv, "eni-0cccccccccccccccc") == w);
	}
	CHECK(mm_inventory_at(inv, 0) != NULL);
	CHECK(mm_inventory_at(inv, 1) != NULL);
	CHECK(mm_inventory_at(inv, 2) == NULL);
out:
	mm_inventory_free(inv);
}

MM_TEST(describe_toplevel_addresses)
{
	struct mm_inventory *inv = load(DATA "describe-toplevel.json");
	const struct mm_instance *in = by_idz(inv, "i-0aaa1111bbbb22223");
	char ip[MM_IP_STRLEN];

	CHECK(in != NULL);
	if (in) {
		CHECK_EQ_STR(in->launch_time, "2023-06-01T12:00:00.000Z");
		CHECK_EQ_STR(in->platform, "windows");	/* from PlatformDetails */
		CHECK_EQ_INT(in->nnif, 1);
		CHECK_EQ_STR(in->nifs[0].eni, "");
		CHECK_EQ_STR(in->nifs[0].subnet_id, "subnet-0eu1");
		CHECK_EQ_STR(in->nifs[0].vpc_id, "vpc-0eu1");
		CHECK_EQ_STR(mm_ip_format(&in->nifs[0].public_ip, ip), "52.48.1.2");
		CHECK(by_ipz(inv, "172.31.5.9") == in);
		CHECK(by_ipz(inv, "52.48.1.2") == in);
	}
	mm_inventory_free(inv);
}

MM_TEST(run_instances_sample)
{
	struct mm_inventory *inv = NULL;
	const struct mm_instance *in;
	const struct mm_netif *f;

	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	CHECK_EQ_INT(add_run_instances(inv), 0);
	CHECK_EQ_INT(mm_inventory_count(inv), 1);
	in = by_idz(inv, "i-0f2f135de18b555e3");
	CHECK(in != NULL);
	if (in) {
		CHECK_EQ_STR(in->instance_type, "t1.micro");
		CHECK_EQ_STR(in->image_id, "ami-00a4cd63f089232e0");
		CHECK_EQ_STR(in->launch_time, "2024-09-11T09:28:28.000Z");	/* epoch ms */
		CHECK_EQ_STR(in->az, "us-east-1d");
		CHECK_EQ_STR(in->state, "pending");
		CHECK_EQ_STR(in->account, "1010101010101");
		CHECK_EQ_INT(in->ntags, 5);
		CHECK_EQ_STR(tag(in, "name"), "cloudtrail-event-test");
		CHECK_EQ_STR(tag(in, "division"), "engineering");
		CHECK_EQ_STR(tag(in, "project"), "testproject");
		f = mm_instance_nif(in, "eni-043138569d4a31e90", 21);
		CHECK(f != NULL);
		if (f) {
			CHECK_EQ_INT(f->nprivate, 1);
			CHECK(!f->has_public_ip);
			CHECK_EQ_STR(f->private_dns, "ip-172-31-35-48.ec2.internal");
			CHECK_EQ_STR(f->subnet_id, "subnet-c4bf5e9b");
			CHECK_EQ_STR(f->vpc_id, "vpc-73d2e309");
			CHECK_EQ_INT(f->nsg, 1);
			CHECK_EQ_STR(f->sg_id[0], "sg-4e483165");
			CHECK_EQ_STR(f->sg_name[0], "default");
		}
	}
	CHECK(by_enz(inv, "eni-043138569d4a31e90") == in);
	CHECK(by_ipz(inv, "172.31.35.48") == in);
	mm_inventory_free(inv);
}

/* A response without a tagSet: tags come from the request. Also an old
 * record with an ISO launch time and no interface set. */
MM_TEST(run_instances_request_tags)
{
	static const char req[] =
	    "{\"instanceType\":\"t2.micro\",\"tagSpecificationSet\":{\"items\":["
	    "{\"resourceType\":\"volume\",\"tags\":[{\"key\":\"vol\",\"value\":\"x\"}]},"
	    "{\"resourceType\":\"instance\",\"tags\":[{\"key\":\"Name\",\"value\":\"from-req\"},"
	    "{\"key\":\"env\",\"value\":\"prod\"}]}]}}";
	static const char resp[] =
	    "{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-0old0000000000001\","
	    "\"instanceType\":\"t2.micro\",\"imageId\":\"ami-1\","
	    "\"launchTime\":\"2016-08-02T02:05:06.000Z\",\"placement\":{\"availabilityZone\":"
	    "\"us-west-2a\"},\"privateIpAddress\":\"10.9.8.7\",\"ipAddress\":\"54.1.2.3\","
	    "\"subnetId\":\"subnet-9\",\"vpcId\":\"vpc-9\"}]},\"ownerId\":\"123\"}";
	struct mm_inventory *inv = NULL;
	const struct mm_instance *in;
	struct mm_event ev;
	struct mm_err err;

	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_API;
	ev.u.api.event_name = mm_str_c("RunInstances");
	ev.u.api.account = mm_str_c("999988887777");
	ev.u.api.request_parameters = mm_str_c(req);
	ev.u.api.response_elements = mm_str_c(resp);
	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	CHECK_EQ_INT(mm_inventory_add_event(inv, &ev, &err), 0);
	in = by_idz(inv, "i-0old0000000000001");
	CHECK(in != NULL);
	if (in) {
		CHECK_EQ_INT(in->ntags, 2);
		CHECK_EQ_STR(tag(in, "Name"), "from-req");
		CHECK(tag(in, "vol") == NULL);
		CHECK_EQ_STR(in->launch_time, "2016-08-02T02:05:06.000Z");
		CHECK_EQ_STR(in->account, "999988887777");
		CHECK_EQ_INT(in->nnif, 1);
		CHECK(by_ipz(inv, "10.9.8.7") == in);
		CHECK(by_ipz(inv, "54.1.2.3") == in);
	}

	/* Other events, failed calls and empty responses are ignored. */
	ev.u.api.event_name = mm_str_c("TerminateInstances");
	CHECK_EQ_INT(mm_inventory_add_event(inv, &ev, &err), 0);
	ev.u.api.event_name = mm_str_c("RunInstances");
	ev.u.api.response_elements = mm_str_c("");
	CHECK_EQ_INT(mm_inventory_add_event(inv, &ev, &err), 0);
	ev.kind = MM_EV_FLOW;
	CHECK_EQ_INT(mm_inventory_add_event(inv, &ev, &err), 0);
	CHECK_EQ_INT(mm_inventory_count(inv), 1);

	/* A malformed response is an error, not a crash. */
	ev.kind = MM_EV_API;
	ev.u.api.response_elements = mm_str_c("{\"instancesSet\":{\"items\":[{\"instanceId\":");
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_inventory_add_event(inv, &ev, &err), MM_EPARSE);
	CHECK(err.msg[0] != '\0');
	CHECK_EQ_INT(mm_inventory_count(inv), 1);
	mm_inventory_free(inv);
}

/* RunInstances, then describe-instances fills in the public address and
 * the running state; RunInstances' tags survive an empty Tags list. */
MM_TEST(update_and_ambiguous_ip)
{
	struct mm_inventory *inv = NULL;
	const struct mm_instance *in, *other;
	struct mm_err err;
	char ip[MM_IP_STRLEN];

	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	CHECK_EQ_INT(add_run_instances(inv), 0);
	CHECK(by_ipz(inv, "3.91.20.7") == NULL);
	CHECK_EQ_INT(mm_inventory_load_file(inv, DATA "describe-update.json", &err), 0);
	CHECK_EQ_INT(mm_inventory_count(inv), 2);
	in = by_idz(inv, "i-0f2f135de18b555e3");
	CHECK(in != NULL);
	if (!in)
		goto out;
	CHECK_EQ_STR(in->state, "running");
	CHECK_EQ_INT(in->ntags, 5);
	CHECK_EQ_INT(in->nnif, 1);
	CHECK(in->nifs[0].has_public_ip);
	CHECK_EQ_STR(mm_ip_format(&in->nifs[0].public_ip, ip), "3.91.20.7");
	CHECK_EQ_STR(in->nifs[0].private_dns, "ip-172-31-35-48.ec2.internal");	/* kept */
	CHECK(by_ipz(inv, "3.91.20.7") == in);
	CHECK(by_ipz(inv, "172.31.35.48") == in);

	/* 10.0.0.157 is i-0bbb...2's in one VPC; loading describe-basic adds
	 * another owner in another VPC: the address then means nobody. */
	other = by_idz(inv, "i-0bbbbbbbbbbbbbbb2");
	CHECK(other != NULL);
	CHECK(by_ipz(inv, "10.0.0.157") == other);
	CHECK_EQ_INT(mm_inventory_load_file(inv, DATA "describe-basic.json", &err), 0);
	CHECK_EQ_INT(mm_inventory_count(inv), 4);
	CHECK(by_ipz(inv, "10.0.0.157") == NULL);
	CHECK(by_ipz(inv, "10.0.0.158") == by_idz(inv, "i-1234567890abcdef0"));
	CHECK(by_enz(inv, "eni-0dddddddddddddddd") == by_idz(inv, "i-0bbbbbbbbbbbbbbb2"));

	/* Loading the same file again changes nothing. */
	CHECK_EQ_INT(mm_inventory_load_file(inv, DATA "describe-basic.json", &err), 0);
	CHECK_EQ_INT(mm_inventory_count(inv), 4);
	CHECK(by_ipz(inv, "10.0.0.157") == NULL);
	CHECK(by_ipz(inv, "34.253.223.13") == by_idz(inv, "i-1234567890abcdef0"));
out:
	mm_inventory_free(inv);
}

/* An address that moves: the old owner gives it up, the new owner has it. */
MM_TEST(address_moves_between_instances)
{
	struct mm_inventory *inv = NULL;
	static struct mm_instance a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	strcpy(a.instance_id, "i-a");
	a.nnif = 1;
	strcpy(a.nifs[0].eni, "eni-a");
	a.nifs[0].has_public_ip = 1;
	a.nifs[0].public_ip = ip_of("198.51.100.7");
	strcpy(b.instance_id, "i-b");
	b.nnif = 1;
	strcpy(b.nifs[0].eni, "eni-b");
	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	CHECK_EQ_INT(mm_inventory_put(inv, &a), 0);
	CHECK_EQ_INT(mm_inventory_put(inv, &b), 0);
	CHECK(by_ipz(inv, "198.51.100.7") == by_idz(inv, "i-a"));
	/* The elastic IP is re-associated with b; a's record says so. */
	a.nifs[0].public_ip = ip_of("198.51.100.8");
	b.nifs[0].has_public_ip = 1;
	b.nifs[0].public_ip = ip_of("198.51.100.7");
	CHECK_EQ_INT(mm_inventory_put(inv, &a), 0);
	CHECK_EQ_INT(mm_inventory_put(inv, &b), 0);
	CHECK(by_ipz(inv, "198.51.100.7") == by_idz(inv, "i-b"));
	CHECK(by_ipz(inv, "198.51.100.8") == by_idz(inv, "i-a"));
	/* The ENI moves to b: the newest writer owns it. */
	b.nnif = 2;
	strcpy(b.nifs[1].eni, "eni-a");
	CHECK_EQ_INT(mm_inventory_put(inv, &b), 0);
	CHECK(by_enz(inv, "eni-a") == by_idz(inv, "i-b"));

	/* Bad records are refused. */
	b.nnif = MM_INV_MAX_NIFS + 1;
	CHECK_EQ_INT(mm_inventory_put(inv, &b), MM_EINVAL);
	b.nnif = 1;
	b.instance_id[0] = '\0';
	CHECK_EQ_INT(mm_inventory_put(inv, &b), MM_EINVAL);
	memset(b.instance_id, 'x', sizeof(b.instance_id));	/* unterminated */
	CHECK_EQ_INT(mm_inventory_put(inv, &b), MM_EINVAL);
	CHECK_EQ_INT(mm_inventory_count(inv), 2);
	mm_inventory_free(inv);
}

/* One address on many instances: stays ambiguous (overflow marker). */
MM_TEST(hot_address_ambiguous)
{
	struct mm_inventory *inv = NULL;
	static struct mm_instance a;
	int i;

	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	for (i = 0; i < 50; i++) {
		memset(&a, 0, sizeof(a));
		snprintf(a.instance_id, sizeof(a.instance_id), "i-%04d", i);
		a.nnif = 1;
		a.nifs[0].nprivate = 1;
		a.nifs[0].private_ips[0] = ip_of("172.31.0.10");
		CHECK_EQ_INT(mm_inventory_put(inv, &a), 0);
		if (i == 0)
			CHECK(by_ipz(inv, "172.31.0.10") == by_idz(inv, "i-0000"));
		else
			CHECK(by_ipz(inv, "172.31.0.10") == NULL);
	}
	CHECK_EQ_INT(mm_inventory_count(inv), 50);
	mm_inventory_free(inv);
}

MM_TEST(merge_inventories)
{
	struct mm_inventory *a = load(DATA "describe-basic.json");
	struct mm_inventory *b = NULL;
	const struct mm_instance *in;

	CHECK_EQ_INT(mm_inventory_new(&b), 0);
	CHECK_EQ_INT(add_run_instances(b), 0);
	CHECK_EQ_INT(mm_inventory_merge(a, b), 0);
	CHECK_EQ_INT(mm_inventory_count(a), 3);
	CHECK_EQ_INT(mm_inventory_count(b), 1);
	in = by_enz(a, "eni-043138569d4a31e90");
	CHECK(in != NULL && !strcmp(in->instance_id, "i-0f2f135de18b555e3"));
	CHECK(by_ipz(a, "10.0.0.157") == by_idz(a, "i-1234567890abcdef0"));
	/* merging a into b: b learns everything */
	CHECK_EQ_INT(mm_inventory_merge(b, a), 0);
	CHECK_EQ_INT(mm_inventory_count(b), 3);
	CHECK(by_ipz(b, "34.253.223.13") == by_idz(b, "i-1234567890abcdef0"));
	mm_inventory_free(a);
	mm_inventory_free(b);
}

MM_TEST(json_round_trip)
{
	struct mm_inventory *inv = load(DATA "describe-basic.json");
	struct mm_inventory *back = NULL;
	struct mm_buf b, b2;
	struct mm_err err;
	size_t i;

	mm_buf_init(&b, 1 << 20);
	mm_buf_init(&b2, 1 << 20);
	CHECK_EQ_INT(add_run_instances(inv), 0);
	CHECK_EQ_INT(mm_inventory_new(&back), 0);
	for (i = 0; mm_inventory_at(inv, i); i++) {
		const struct mm_instance *in = mm_inventory_at(inv, i), *out;
		mm_buf_reset(&b);
		mm_buf_reset(&b2);
		CHECK_EQ_INT(mm_instance_to_json(in, NULL, &b), 0);
		CHECK_EQ_INT(mm_inventory_add_details_json(back, b.p, b.len, &err), 0);
		out = by_idz(back, in->instance_id);
		CHECK(out != NULL);
		if (!out)
			continue;
		/* Same JSON out again: nothing GuardDuty shows was lost. */
		CHECK_EQ_INT(mm_instance_to_json(out, NULL, &b2), 0);
		CHECK_EQ_STR(b2.p, b.p);
		CHECK_EQ_INT(out->ntags, in->ntags);
		CHECK_EQ_INT(out->nnif, in->nnif);
	}
	CHECK_EQ_INT(mm_inventory_count(back), 3);
	CHECK(by_ipz(back, "2600:1f16:abc:de00::1234") == by_idz(back, "i-1234567890abcdef0"));

	/* the exact text for the RunInstances instance */
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_instance_to_json(by_idz(inv, "i-0f2f135de18b555e3"), NULL, &b), 0);
	CHECK_EQ_STR(b.p,
		     "{\"instanceId\":\"i-0f2f135de18b555e3\",\"instanceType\":\"t1.micro\","
		     "\"launchTime\":\"2024-09-11T09:28:28.000Z\",\"platform\":null,"
		     "\"productCodes\":[],\"networkInterfaces\":[{\"networkInterfaceId\":"
		     "\"eni-043138569d4a31e90\",\"privateIpAddresses\":[{\"privateDnsName\":"
		     "\"ip-172-31-35-48.ec2.internal\",\"privateIpAddress\":\"172.31.35.48\"}],"
		     "\"subnetId\":\"subnet-c4bf5e9b\",\"vpcId\":\"vpc-73d2e309\","
		     "\"privateDnsName\":\"ip-172-31-35-48.ec2.internal\",\"securityGroups\":"
		     "[{\"groupName\":\"default\",\"groupId\":\"sg-4e483165\"}],"
		     "\"ipv6Addresses\":[],\"privateIpAddress\":\"172.31.35.48\"}],"
		     "\"tags\":[{\"key\":\"team\",\"value\":\"cloud\"},{\"key\":\"division\","
		     "\"value\":\"engineering\"},{\"key\":\"org\",\"value\":\"security\"},"
		     "{\"key\":\"name\",\"value\":\"cloudtrail-event-test\"},{\"key\":\"project\","
		     "\"value\":\"testproject\"}],\"instanceState\":\"pending\","
		     "\"availabilityZone\":\"us-east-1d\",\"imageId\":\"ami-00a4cd63f089232e0\"}");
	/* escaping and the IAM profile */
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_instance_to_json(by_idz(inv, "i-1234567890abcdef0"), NULL, &b), 0);
	CHECK(strstr(b.p, "{\"key\":\"team\",\"value\":\"web \\\"edge\\\"\"}") != NULL);
	CHECK(strstr(b.p, "\"iamInstanceProfile\":{\"arn\":\"arn:aws:iam::111122223333:"
			  "instance-profile/AmazonSSMRoleForInstancesQuickSetup\",\"id\":"
			  "\"111111111111111111111\"}") != NULL);
	CHECK(strstr(b.p, "\"publicIp\":\"34.253.223.13\"") != NULL);
	CHECK(strstr(b.p, "\"ipv6Addresses\":[\"2600:1f16:abc:de00::1234\"]") != NULL);

	/* interface only, nothing invented */
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_instance_to_json(NULL, "eni-0abc", &b), 0);
	CHECK_EQ_STR(b.p, "{\"networkInterfaces\":[{\"networkInterfaceId\":\"eni-0abc\"}]}");
	CHECK_EQ_INT(mm_inventory_add_details_json(back, b.p, b.len, &err), 0);
	CHECK_EQ_INT(mm_inventory_count(back), 3);

	/* a capped buffer fails cleanly and leaves what was there */
	{
		struct mm_buf small;
		mm_buf_init(&small, 64);
		CHECK_EQ_INT(mm_buf_addz(&small, "x"), 0);
		CHECK_EQ_INT(mm_instance_to_json(by_idz(inv, "i-1234567890abcdef0"), NULL, &small),
			     MM_ETOOBIG);
		CHECK_EQ_STR(small.p, "x");
		mm_buf_free(&small);
	}
	mm_buf_free(&b);
	mm_buf_free(&b2);
	mm_inventory_free(back);
	mm_inventory_free(inv);
}

/* GuardDuty's own sample finding reads back. */
MM_TEST(details_from_guardduty_sample)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct mm_inventory *inv = NULL;
	const struct mm_instance *in;
	struct mm_err err;
	FILE *f;

	snprintf(path, sizeof(path), "%s/aws-samples/guardduty-findings/test-guardduty.log",
		 mmtest_shared_data());
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	while ((n = getline(&line, &cap, f)) > 0)
		CHECK_EQ_INT(mm_inventory_add_details_json(inv, line, (size_t)n, &err), 0);
	in = by_idz(inv, "i-99999999");
	CHECK(in != NULL);
	if (in) {
		CHECK_EQ_STR(in->launch_time, "2016-08-02T02:05:06.000Z");
		CHECK_EQ_INT(in->ntags, 9);
		CHECK_EQ_STR(in->iam_profile_id, "GeneratedFindingInstanceProfileId");
		CHECK(by_enz(inv, "eni-abcdef888") == in);
		CHECK_EQ_STR(in->platform, "");
	}
	in = by_idz(inv, "i-abcd1234");
	CHECK(in != NULL);
	if (in) {
		CHECK_EQ_INT(in->nifs[0].nsg, 2);
		CHECK(by_ipz(inv, "216.160.83.56") == in);
	}
	free(line);
	fclose(f);
	mm_inventory_free(inv);
}

MM_TEST(malformed_input)
{
	static const char *bad[] = {
	    "",
	    "{",
	    "[]",
	    "{\"Reservations\":{}}",
	    "{\"Reservations\":[{\"Instances\":[{\"InstanceId\":\"i-1\"}]}",
	    "{\"Reservations\":[{\"Instances\":[{\"InstanceId\":\"i-1\",}]}]}",
	    "{\"Reservations\":[{\"Instances\":[{\"InstanceId\":\"i-\\u12\"}]}]}",
	    "{\"Nope\":1}",
	    "nul",
	};
	struct mm_inventory *inv = NULL;
	struct mm_err err;
	size_t i;

	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	for (i = 0; i < MM_ARRAY_LEN(bad); i++) {
		int rc;
		mm_err_clear(&err);
		rc = mm_inventory_load_describe(inv, bad[i], strlen(bad[i]), &err);
		if (rc >= 0)
			fprintf(stderr, "  accepted bad input %zu\n", i);
		CHECK(rc < 0);
		CHECK(err.msg[0] != '\0');
	}
	CHECK_EQ_INT(mm_inventory_count(inv), 0);
	/* wrong types and missing ids are skipped, not fatal */
	{
		static const char odd[] =
		    "{\"Reservations\":[1,{\"Instances\":[null,{\"InstanceType\":\"x\"},"
		    "{\"InstanceId\":7},{\"InstanceId\":\"i-ok\",\"LaunchTime\":\"garbage\","
		    "\"NetworkInterfaces\":[{\"NetworkInterfaceId\":{},\"PrivateIpAddress\":"
		    "\"999.1.1.1\",\"Groups\":\"x\",\"Ipv6Addresses\":[1,\"zz\"]}],\"Tags\":"
		    "[{\"Key\":\"k\"},{\"Value\":\"nokey\"}]}]}]}";
		const struct mm_instance *in;
		CHECK_EQ_INT(mm_inventory_load_describe(inv, odd, strlen(odd), &err), 0);
		CHECK_EQ_INT(mm_inventory_count(inv), 1);
		in = by_idz(inv, "i-ok");
		CHECK(in != NULL);
		if (in) {
			CHECK_EQ_STR(in->launch_time, "");
			CHECK_EQ_INT(in->ntags, 1);
			CHECK_EQ_INT(in->nifs[0].nprivate, 0);
		}
	}
	CHECK_EQ_INT(mm_inventory_load_file(inv, "tests/data/inventory/no-such-file.json", &err),
		     MM_EIO);
	CHECK(strstr(err.msg, "no-such-file") != NULL);
	mm_err_clear(&err);
	CHECK(mm_inventory_add_details_json(inv, "{\"instanceId\":", 14, &err) < 0);
	CHECK(mm_inventory_add_details_json(inv, "[1]", 3, &err) < 0);
	mm_inventory_free(inv);
}

/* Oversized lists are cut to the struct's bounds. */
MM_TEST(bounds)
{
	struct mm_buf b;
	struct mm_inventory *inv = NULL;
	const struct mm_instance *in;
	struct mm_err err;
	int i;

	mm_buf_init(&b, 1 << 22);
	mm_buf_addz(&b, "{\"Reservations\":[{\"Instances\":[{\"InstanceId\":\"i-big\",\"Tags\":[");
	for (i = 0; i < 200; i++)
		mm_buf_printf(&b, "%s{\"Key\":\"k%d\",\"Value\":\"v\"}", i ? "," : "", i);
	mm_buf_addz(&b, "],\"NetworkInterfaces\":[");
	for (i = 0; i < 20; i++) {
		int j;
		mm_buf_printf(&b, "%s{\"NetworkInterfaceId\":\"eni-%d\",\"PrivateIpAddresses\":[",
			      i ? "," : "", i);
		for (j = 0; j < 20; j++)
			mm_buf_printf(&b, "%s{\"PrivateIpAddress\":\"10.1.%d.%d\"}", j ? "," : "",
				      i, j);
		mm_buf_addz(&b, "],\"Groups\":[");
		for (j = 0; j < 20; j++)
			mm_buf_printf(&b, "%s{\"GroupId\":\"sg-%d\"}", j ? "," : "", j);
		mm_buf_addz(&b, "]}");
	}
	/* an over-long tag value is truncated, not overflowed */
	mm_buf_addz(&b, "]},{\"InstanceId\":\"i-long\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"");
	for (i = 0; i < 1000; i++)
		mm_buf_addc(&b, 'a');
	/* a key of 2-byte UTF-8 characters is cut between characters */
	mm_buf_addz(&b, "\"}]},{\"InstanceId\":\"i-utf8\",\"Tags\":[{\"Key\":\"");
	for (i = 0; i < 100; i++)
		mm_buf_addz(&b, "\xc3\xa9");
	mm_buf_addz(&b, "\",\"Value\":\"v\"}]}]}]}");
	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	CHECK_EQ_INT(mm_inventory_load_describe(inv, b.p, b.len, &err), 0);
	in = by_idz(inv, "i-big");
	CHECK(in != NULL);
	if (in) {
		CHECK_EQ_INT(in->ntags, MM_INV_MAX_TAGS);
		CHECK_EQ_INT(in->nnif, MM_INV_MAX_NIFS);
		CHECK_EQ_INT(in->nifs[0].nprivate, MM_INV_MAX_IPS);
		CHECK_EQ_INT(in->nifs[0].nsg, MM_INV_MAX_SGS);
		CHECK(by_enz(inv, "eni-7") == in);
		CHECK(by_enz(inv, "eni-8") == NULL);
	}
	in = by_idz(inv, "i-long");
	CHECK(in != NULL);
	if (in)
		CHECK_EQ_INT(strlen(in->tags[0].value), sizeof(in->tags[0].value) - 1);
	in = by_idz(inv, "i-utf8");
	CHECK(in != NULL);
	if (in) {
		struct mm_buf j;
		CHECK_EQ_INT(strlen(in->tags[0].key), 126);	/* not 127: no half character */
		mm_buf_init(&j, 1 << 16);
		CHECK_EQ_INT(mm_instance_to_json(in, NULL, &j), 0);
		CHECK_EQ_INT(mm_inventory_add_details_json(inv, j.p, j.len, &err), 0);
		mm_buf_free(&j);
	}
	mm_buf_free(&b);
	mm_inventory_free(inv);
}

/* A flood of instances stops at the cap with MM_ETOOBIG; known ones still
 * update. */
MM_TEST(instance_cap)
{
	struct mm_buf b;
	struct mm_inventory *inv = NULL;
	struct mm_err err;
	int i;

	mm_buf_init(&b, 1 << 24);
	mm_buf_addz(&b, "{\"Reservations\":[{\"Instances\":[");
	for (i = 0; i < 5000; i++)
		mm_buf_printf(&b,
			      "%s{\"InstanceId\":\"i-%08d\",\"NetworkInterfaces\":[{"
			      "\"NetworkInterfaceId\":\"eni-%08d\",\"PrivateIpAddress\":"
			      "\"10.%d.%d.%d\"}]}",
			      i ? "," : "", i, i, (i >> 16) & 255, (i >> 8) & 255, i & 255);
	mm_buf_addz(&b, "]}]}");
	CHECK_EQ_INT(mm_inventory_new(&inv), 0);
	mm_inventory_set_max(inv, 1000);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_inventory_load_describe(inv, b.p, b.len, &err), MM_ETOOBIG);
	CHECK(strstr(err.msg, "4000 dropped") != NULL);
	CHECK_EQ_INT(mm_inventory_count(inv), 1000);
	CHECK(by_idz(inv, "i-00000999") != NULL);
	CHECK(by_idz(inv, "i-00001000") == NULL);
	CHECK(by_enz(inv, "eni-00000500") == by_idz(inv, "i-00000500"));
	CHECK(by_ipz(inv, "10.0.3.231") == by_idz(inv, "i-00000999"));
	CHECK(by_ipz(inv, "10.0.3.232") == NULL);
	/* the ceiling cannot be raised past the header's cap */
	mm_inventory_set_max(inv, (size_t)-1);
	mm_inventory_set_max(inv, 1000);
	/* Loading the same file again only updates: the first 1000 fit. */
	CHECK_EQ_INT(mm_inventory_load_describe(inv, b.p, b.len, &err), MM_ETOOBIG);
	CHECK_EQ_INT(mm_inventory_count(inv), 1000);
	mm_buf_free(&b);
	mm_inventory_free(inv);
}

/* Every allocation failing in turn: errors, never crashes or leaks. */
MM_TEST(alloc_failures)
{
	int k, ok = 0;

	for (k = 0; k < 60 && !ok; k++) {
		struct mm_inventory *inv = NULL;
		struct mm_err err;
		mm_mem_fail_after(k);
		if (mm_inventory_new(&inv) == 0) {
			int rc = mm_inventory_load_file(inv, DATA "describe-basic.json", &err);
			if (rc == 0)
				ok = 1;
			else
				CHECK(rc == MM_ENOMEM);
			mm_inventory_free(inv);
		}
		mm_mem_fail_after(-1);
	}
	CHECK(ok);
}
