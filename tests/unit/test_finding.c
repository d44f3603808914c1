/* test_finding.c - finding identity, merging, evidence bounds, type table. */
#include <stdio.h>
#include <string.h>

#include "detect/detect.h"
#include "finding/finding.h"
#include "mmtest.h"

static void base(struct mm_finding *f)
{
	memset(f, 0, sizeof(*f));
	strcpy(f->type, "CryptoCurrency:EC2/BitcoinTool.B");
	strcpy(f->account, "123456789012");
	strcpy(f->instance_id, "i-0abc");
	strcpy(f->threat_list, "mining.txt");
	strcpy(f->indicator, "1.2.3.4");
}

MM_TEST(id_is_stable_and_keyed_by_type_resource_list)
{
	struct mm_finding a, b;
	base(&a);
	base(&b);
	mm_finding_make_id(&a);
	strcpy(b.indicator, "5.6.7.8"); /* indicator is detail, not identity */
	mm_finding_make_id(&b);
	CHECK_EQ_INT((int)strlen(a.id), 32);
	CHECK_EQ_STR(a.id, b.id);
	strcpy(b.instance_id, "i-0def");
	mm_finding_make_id(&b);
	CHECK(strcmp(a.id, b.id) != 0);
	base(&b);
	strcpy(b.type, "CryptoCurrency:EC2/BitcoinTool.B!DNS");
	mm_finding_make_id(&b);
	CHECK(strcmp(a.id, b.id) != 0);
}

MM_TEST(merge_adds_counts_and_widens_times)
{
	struct mm_finding a, b;
	base(&a);
	base(&b);
	a.count = 3;
	a.first_seen_ms = 1000;
	a.last_seen_ms = 5000;
	a.remote_port = 3333;
	b.count = 2;
	b.first_seen_ms = 500;
	b.last_seen_ms = 9000;
	b.remote_port = 4444;
	mm_finding_merge(&a, &b);
	CHECK_EQ_INT((int)a.count, 5);
	CHECK_EQ_INT((int)a.first_seen_ms, 500);
	CHECK_EQ_INT((int)a.last_seen_ms, 9000);
	CHECK_EQ_INT(a.remote_port, 4444); /* the latest activity's details */
}

/* A Runtime finding shows the process of its latest record, in either
 * merge order (flushes merge in any order). */
MM_TEST(merge_keeps_the_latest_records_process)
{
	struct mm_finding a, b, c;
	memset(&a, 0, sizeof(a));
	strcpy(a.type, "Execution:Runtime/SigmaRule");
	a.res_type = MM_RES_RUNTIME;
	a.count = 1;
	b = a;
	a.first_seen_ms = a.last_seen_ms = 1000;
	a.proc.pid = 2201;
	strcpy(a.proc.name, "vsftpd");
	b.first_seen_ms = b.last_seen_ms = 2000;
	b.proc.pid = 2202;
	strcpy(b.proc.name, "vsftpd");
	c = a;
	mm_finding_merge(&c, &b);
	CHECK_EQ_INT((int)c.proc.pid, 2202);
	c = b;
	mm_finding_merge(&c, &a);
	CHECK_EQ_INT((int)c.proc.pid, 2202);
	CHECK_EQ_INT((int)c.count, 2);
}

MM_TEST(evidence_keeps_the_earliest_records_bounded)
{
	struct mm_finding f;
	int i;
	base(&f);
	for (i = 20; i > 0; i--)
		mm_finding_add_evidence(&f, "x.log", (uint64_t)i, 0, i * 1000);
	mm_finding_add_evidence(&f, "x.log", 1, 0, 1000); /* duplicate ignored */
	CHECK_EQ_INT(f.nevidence, MM_EVIDENCE_MAX);
	CHECK_EQ_INT((int)f.ev[0].line, 1);
	CHECK_EQ_INT((int)f.ev[MM_EVIDENCE_MAX - 1].line, MM_EVIDENCE_MAX);
}

/* Records of a one-line CloudTrail document share (time, file, line):
 * the byte offset tells them apart, as evidence and as the latest. */
MM_TEST(evidence_and_latest_tell_records_of_one_line_apart)
{
	struct mm_finding f;
	base(&f);
	f.nevidence = 0;
	mm_finding_add_evidence(&f, "ct.json", 1, 900, 5000);
	mm_finding_add_evidence(&f, "ct.json", 1, 12, 5000);
	mm_finding_add_evidence(&f, "ct.json", 1, 12, 5000); /* the same record again */
	CHECK_EQ_INT(f.nevidence, 2);
	CHECK_EQ_INT((int)f.ev[0].offset, 12);
	CHECK_EQ_INT((int)f.ev[1].offset, 900);
	f.last_seen_ms = 5000;
	f.detail_file = "ct.json";
	f.detail_line = 1;
	f.detail_offset = 500;
	CHECK(mm_finding_is_later(&f, 5000, "ct.json", 1, 900));
	CHECK(!mm_finding_is_later(&f, 5000, "ct.json", 1, 12));
	CHECK(!mm_finding_is_later(&f, 5000, "ct.json", 1, 500));
}

MM_TEST(type_table_has_guardduty_severities)
{
	const struct mm_ftype *t;
	CHECK(mm_ftype_get("CryptoCurrency:EC2/BitcoinTool.B")->severity == 8.0);
	CHECK(mm_ftype_get("UnauthorizedAccess:EC2/TorClient")->severity == 8.0);
	CHECK(mm_ftype_get("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom")->severity == 5.0);
	CHECK(mm_ftype_get("Recon:IAMUser/TorIPCaller")->action == MM_ACTION_AWS_API_CALL);
	CHECK(mm_ftype_get("Trojan:EC2/DropPoint!DNS")->action == MM_ACTION_DNS_REQUEST);
	CHECK(mm_ftype_get("No:Such/Type") == NULL);
	for (t = mm_ftype_all(); t->type; t++) {
		CHECK(t->title && t->title[0]);
		CHECK(t->description && strstr(t->description, "{"));
	}
	CHECK_EQ_STR(mm_severity_label(8), "High");
	CHECK_EQ_STR(mm_severity_label(5), "Medium");
	CHECK_EQ_STR(mm_severity_label(2), "Low");
}

/* The table's rows are complete and consistent: unique names, a
 * GuardDuty severity, titles that are sentences naming their subject
 * through a token, a resource type that fits the action. */
MM_TEST(type_table_rows_consistent)
{
	const struct mm_ftype *t, *u;
	int n = 0;

	for (t = mm_ftype_all(); t->type; t++, n++) {
		size_t tl = strlen(t->title);
		/* 9: Critical, attack sequences only */
		CHECK(t->severity == 2.0 || t->severity == 5.0 || t->severity == 8.0 ||
		      (t->severity == 9.0 && t->action == MM_ACTION_SEQUENCE));
		CHECK(tl > 0 && t->title[tl - 1] == '.');
		CHECK(strstr(t->title, "{instance}") || strstr(t->title, "{api}") ||
		      strstr(t->title, "{actor}") || strstr(t->title, "{user}"));
		CHECK(t->res_type == MM_RES_INSTANCE || t->res_type == MM_RES_ACCESSKEY ||
		      t->res_type == MM_RES_S3BUCKET || t->res_type == MM_RES_RUNTIME);
		if (t->action == MM_ACTION_AWS_API_CALL)
			CHECK(t->res_type == MM_RES_ACCESSKEY || t->res_type == MM_RES_S3BUCKET);
		else if (t->action == MM_ACTION_SEQUENCE)
			CHECK(t->res_type == MM_RES_ACCESSKEY); /* keyed by the principal */
		else
			CHECK(t->res_type == MM_RES_INSTANCE || t->res_type == MM_RES_RUNTIME);
		CHECK(mm_ftype_get(t->type) == t);
		for (u = t + 1; u->type; u++)
			CHECK(strcmp(t->type, u->type) != 0);
	}
	CHECK(n >= 19);
	t = mm_ftype_get("Policy:IAMUser/RootCredentialUsage");
	CHECK(t && t->severity == 2.0 && t->res_type == MM_RES_ACCESSKEY &&
	      t->action == MM_ACTION_AWS_API_CALL);
}

/* New finding fields are plain data: a finding still copies with memcpy
 * and the bounded arrays have their documented sizes. */
MM_TEST(finding_general_fields)
{
	static struct mm_finding f, g;

	memset(&f, 0, sizeof(f));
	CHECK_EQ_INT(sizeof(f.disc), 64);
	CHECK_EQ_INT(sizeof(f.bucket_name), 64);
	CHECK_EQ_INT(MM_API_CALLS_MAX, 8);
	CHECK_EQ_INT(sizeof(f.apis) / sizeof(f.apis[0]), MM_API_CALLS_MAX);
	CHECK_EQ_INT(sizeof(f.apis[0].name), 64);
	CHECK_EQ_INT(sizeof(f.proc.cmdline), MM_CMDLINE_MAX);
	snprintf(f.disc, sizeof(f.disc), "mining.txt");
	f.action = MM_ACTION_AWS_API_CALL;
	f.res_type = MM_RES_ACCESSKEY;
	snprintf(f.apis[0].name, sizeof(f.apis[0].name), "GetObject");
	f.apis[0].count = 3;
	f.napis = 1;
	memcpy(&g, &f, sizeof(f));
	CHECK_EQ_STR(g.disc, "mining.txt");
	CHECK_EQ_STR(g.apis[0].name, "GetObject");
	/* the kind-specific members are overlaid: exactly one is in use */
	CHECK(mm_finding_has_apis(&g) && !mm_finding_has_probes(&g) && !mm_finding_has_proc(&g));
	memset(&f, 0, sizeof(f));
	f.res_type = MM_RES_RUNTIME;
	f.action = MM_ACTION_NETWORK_CONNECTION;
	f.proc.pid = 77;
	CHECK(mm_finding_has_proc(&f) && !mm_finding_has_apis(&f) && !mm_finding_has_probes(&f));
	/* an API name counted on a non-API finding does not touch the process */
	mm_finding_add_api(&f, "GetObject", 9, 1000);
	CHECK_EQ_INT(f.proc.pid, 77);
	f.res_type = MM_RES_INSTANCE;
	f.action = MM_ACTION_PORT_PROBE;
	CHECK(mm_finding_has_probes(&f) && !mm_finding_has_apis(&f) && !mm_finding_has_proc(&f));
	CHECK(sizeof(struct mm_finding) <= 3720); /* 3.6 KiB: the table holds 50k before a spill */
}

MM_TEST(agg_merges_same_key_and_bounds_table)
{
	struct mm_agg *a;
	int created;
	struct mm_finding *f1, *f2, *f3;
	CHECK_EQ_INT(mm_agg_new(&a, 2), 0);
	f1 = mm_agg_get(a, "Trojan:EC2/DropPoint", "", "eni-1", 5, "d.txt", &created);
	CHECK(f1 && created);
	CHECK_EQ_STR(f1->eni, "eni-1");
	CHECK(f1->severity == 5.0);
	f2 = mm_agg_get(a, "Trojan:EC2/DropPoint", "", "eni-1", 5, "d.txt", &created);
	CHECK(f2 == f1 && !created);
	f2 = mm_agg_get(a, "Trojan:EC2/DropPoint", "", "i-9", 3, "d.txt", &created);
	CHECK(f2 && created);
	CHECK_EQ_STR(f2->instance_id, "i-9");
	/* at the cap the table is full (the engine spills after the event),
	 * yet keeps MM_AGG_HEADROOM places for what the event still adds */
	CHECK(mm_agg_full(a));
	f3 = mm_agg_get(a, "Trojan:EC2/DropPoint", "", "eni-3", 5, "d.txt", &created);
	CHECK(f3 != NULL && created);
	{
		int k;
		char eni[16];
		for (k = 0; k < MM_AGG_HEADROOM; k++) {
			snprintf(eni, sizeof(eni), "eni-x%d", k);
			f3 = mm_agg_get(a, "Trojan:EC2/DropPoint", "", eni, strlen(eni), "d.txt", &created);
		}
	}
	CHECK(f3 == NULL); /* only past the headroom is a finding refused */
	CHECK_EQ_INT((int)mm_agg_dropped(a), 1);
	CHECK_EQ_INT((int)mm_agg_count(a), 2 + MM_AGG_HEADROOM);
	mm_agg_clear(a);
	CHECK_EQ_INT((int)mm_agg_count(a), 0);
	CHECK(!mm_agg_full(a));
	mm_agg_free(a);
}

MM_TEST(file_ctx_reads_account_and_region_from_s3_key)
{
	struct mm_file_ctx fc;
	mm_file_ctx_from_path(&fc, "/d/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/01/02/x.log.gz");
	CHECK_EQ_STR(fc.account, "123456789012");
	CHECK_EQ_STR(fc.region, "eu-west-1");
	mm_file_ctx_from_path(&fc, "/d/AWSLogs/123456789012/vpcdnsquerylogs/vpc-1/2024/01/02/x.log.gz");
	CHECK_EQ_STR(fc.account, "123456789012");
	CHECK_EQ_STR(fc.region, "");
	mm_file_ctx_from_path(&fc, "plain.log");
	CHECK_EQ_STR(fc.account, "");
}

MM_TEST(initiator_heuristic)
{
	/* local ephemeral -> remote 443: outbound */
	CHECK_EQ_INT(mm_flow_initiator(6, 40000, 443, 1, 0), MM_DIR_OUTBOUND);
	/* response record of the same connection: still outbound */
	CHECK_EQ_INT(mm_flow_initiator(6, 40000, 443, 0, 0), MM_DIR_OUTBOUND);
	/* web server: local 443, remote ephemeral */
	CHECK_EQ_INT(mm_flow_initiator(6, 443, 51000, 0, 0), MM_DIR_INBOUND);
	/* stratum 3333 from an ephemeral port */
	CHECK_EQ_INT(mm_flow_initiator(6, 45000, 3333, 1, 0), MM_DIR_OUTBOUND);
	/* Tor ORPort 9001 accepting from an ephemeral port */
	CHECK_EQ_INT(mm_flow_initiator(6, 9001, 50000, 0, 0), MM_DIR_INBOUND);
	/* both ephemeral: a known server on the remote side wins */
	CHECK_EQ_INT(mm_flow_initiator(6, 38000, 45700, 1, 1), MM_DIR_OUTBOUND);
	/* ICMP: the sender */
	CHECK_EQ_INT(mm_flow_initiator(1, 0, 0, 1, 0), MM_DIR_OUTBOUND);
	CHECK_EQ_INT(mm_flow_initiator(1, 0, 0, 0, 0), MM_DIR_INBOUND);
}

MM_TEST(recon_api_names)
{
	CHECK(mm_api_is_recon("ListBuckets", 11));
	CHECK(mm_api_is_recon("DescribeInstances", 17));
	CHECK(mm_api_is_recon("GetCallerIdentity", 17));
	CHECK(!mm_api_is_recon("CreateUser", 10));
	CHECK(!mm_api_is_recon("Listen", 3));
	CHECK(!mm_api_is_recon("Get", 3));
}

MM_TEST(info_json_member_is_checked_and_bounded)
{
	struct mm_finding f;
	char big[MM_INFO_MAX + 16];
	base(&f);
	mm_finding_info_num(&f, "n", 3);
	mm_finding_info_json(&f, "anomalies", "{\"a\":[1,2,\"x\"]}");
	CHECK_EQ_STR(f.info, "\"n\":3,\"anomalies\":{\"a\":[1,2,\"x\"]}");
	/* invalid, trailing bytes, two values: each left out whole */
	mm_finding_info_json(&f, "bad", "{\"a\":");
	mm_finding_info_json(&f, "bad", "{} x");
	mm_finding_info_json(&f, "bad", "1 2");
	CHECK_EQ_STR(f.info, "\"n\":3,\"anomalies\":{\"a\":[1,2,\"x\"]}");
	/* too big for the room left: left out, info unchanged */
	memset(big, 'a', sizeof(big));
	big[0] = '"';
	big[sizeof(big) - 2] = '"';
	big[sizeof(big) - 1] = '\0';
	mm_finding_info_json(&f, "big", big);
	CHECK_EQ_STR(f.info, "\"n\":3,\"anomalies\":{\"a\":[1,2,\"x\"]}");
}

/* The pack format (zero runs as 0x00 and length-1, other bytes as they
 * are) read the way it is written, byte by byte: what mm_finding_pack
 * writes is that, whatever the mix of runs (1, 255, 256, 257 zeros, at
 * the ends of the struct too), and unpacks to the same struct. */
static size_t ref_zrun(const unsigned char *p, size_t n, unsigned char *out)
{
	size_t i = 0, k = 0;
	while (i < n) {
		if (p[i] == 0) {
			size_t r = 1;
			while (i + r < n && p[i + r] == 0 && r < 256)
				r++;
			out[k++] = 0;
			out[k++] = (unsigned char)(r - 1);
			i += r;
		} else
			out[k++] = p[i++];
	}
	return k;
}

MM_TEST(pack_writes_the_zero_run_format_and_unpacks)
{
	static struct mm_finding f, c, back;
	static unsigned char want[2 * sizeof(struct mm_finding) + 64];
	unsigned char *raw = (unsigned char *)&c;
	uint32_t r = 7;
	int round;
	for (round = 0; round < 40; round++) {
		struct mm_buf b;
		size_t i, k, at, len;
		memset(&f, 0, sizeof(f));
		/* runs of bytes, some of them zero, of lengths around the
		 * format's 256-byte cap, from both ends */
		for (i = 0; i < 60; i++) {
			r = r * 1103515245u + 12345u;
			at = (r >> 8) % sizeof(f);
			len = (size_t)(round % 4 == 0 ? 255 + (r >> 4) % 4 : (r >> 20) % 40);
			if (at + len > sizeof(f))
				len = sizeof(f) - at;
			memset((unsigned char *)&f + at, (int)((r >> 3) % 3 ? (r >> 12) & 0xff : 0), len);
		}
		if (round & 1)
			((unsigned char *)&f)[0] = ((unsigned char *)&f)[sizeof(f) - 1] = 0x5a;
		f.detail_file = round % 3 ? "flows/a.log" : NULL;
		f.nevidence = round % MM_EVIDENCE_MAX;
		for (i = 0; i < MM_EVIDENCE_MAX; i++)
			f.ev[i].file = "e.log";
		f.napis = f.nprobes = 0;
		mm_buf_init(&b, 1 << 20);
		CHECK_EQ_INT(mm_finding_pack(&f, &b), 0);
		memcpy(&c, &f, sizeof(c));
		mm_finding_zero_tails(&c);
		c.detail_file = NULL;
		for (i = 0; i < MM_EVIDENCE_MAX; i++)
			c.ev[i].file = NULL;
		k = ref_zrun(raw, sizeof(c), want);
		CHECK(b.len > 4 + k);
		CHECK(memcmp(b.p + 4, want, k) == 0);
		memset(&back, 0xee, sizeof(back));
		if (mm_finding_unpack(&back, b.p, b.len) == 0) {
			CHECK_EQ_INT(back.nevidence, f.nevidence);
			CHECK(memcmp(back.id, c.id, sizeof(c.id)) == 0);
		}
		mm_buf_free(&b);
	}
}

/* What a finding's text fields held before (a longer agent, an API
 * name's unused bytes) is not stored: a finding packs to the same bytes
 * whatever order its values came in, and nothing past a NUL (stack or
 * heap bytes) reaches the store. Failed before: an API call's name was
 * copied from an uninitialised stack buffer. */
MM_TEST(pack_stores_no_bytes_past_a_text_fields_end)
{
	static struct mm_finding a, b;
	struct mm_buf pa, pb;
	int i;
	for (i = 0; i < 2; i++) {
		struct mm_finding *f = i ? &b : &a;
		memset(f, 0, sizeof(*f));
		snprintf(f->type, sizeof(f->type), "%s", "Discovery:IAMUser/AnomalousBehavior");
		f->action = MM_ACTION_AWS_API_CALL;
		f->res_type = MM_RES_ACCESSKEY;
	}
	/* b's agent was longer once; its API name's tail holds junk */
	snprintf(b.user_agent, sizeof(b.user_agent), "%s", "aws-cli/2.15.30 Python/3.11.8 Linux/6.1");
	snprintf(a.user_agent, sizeof(a.user_agent), "%s", "Boto3/1.34");
	snprintf(b.user_agent, sizeof(b.user_agent), "%s", "Boto3/1.34");
	mm_finding_add_api(&a, "ListUsers", 9, 1000);
	mm_finding_add_api(&b, "ListUsers", 9, 1000);
	memset(b.apis[0].name + 10, 0x7f, sizeof(b.apis[0].name) - 10);
	CHECK(memcmp(&a, &b, sizeof(a)) != 0);
	mm_buf_init(&pa, 1 << 16);
	mm_buf_init(&pb, 1 << 16);
	CHECK_EQ_INT(mm_finding_pack(&a, &pa), 0);
	CHECK_EQ_INT(mm_finding_pack(&b, &pb), 0);
	CHECK_EQ_INT((int)pa.len, (int)pb.len);
	CHECK(pa.len == pb.len && memcmp(pa.p, pb.p, pa.len) == 0);
	mm_buf_free(&pa);
	mm_buf_free(&pb);
}

/* The type index answers as a walk of the table does: every type by
 * name and by hash (the first in table order), nothing for others. */
MM_TEST(type_index_finds_every_type)
{
	const struct mm_ftype *all = mm_ftype_all(), *t, *u;
	int n = 0;
	for (t = all; t->type; t++, n++) {
		for (u = all; strcmp(u->type, t->type); u++)
			;
		CHECK(mm_ftype_get(t->type) == u);
		for (u = all; mm_ftype_hash(u->type) != mm_ftype_hash(t->type); u++)
			;
		CHECK(mm_ftype_by_hash(mm_ftype_hash(t->type)) == u);
	}
	CHECK(n > 100);
	CHECK(mm_ftype_get("Recon:EC2/NoSuchType") == NULL);
	CHECK(mm_ftype_get("") == NULL);
	CHECK(mm_ftype_by_hash(mm_ftype_hash("Recon:EC2/NoSuchType")) == NULL);
}

/* zrun encoding by hand (the format mm_finding_pack writes): a zero run
 * as (0, length - 1), any other byte as itself. */
static void zrun_by_hand(struct mm_buf *b, const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (p[i]) {
			mm_buf_add(b, (const char *)p + i, 1);
			i++;
		} else {
			size_t r = 1;
			char hdr[2] = {0, 0};
			while (i + r < n && !p[i + r] && r < 256)
				r++;
			hdr[1] = (char)(r - 1);
			mm_buf_add(b, hdr, 2);
			i += r;
		}
	}
}

/* A stored finding from a damaged row whose text fields have no NUL at
 * all: unpacked, every field ends inside itself (a reader never runs on
 * into the next field or past the struct). */
MM_TEST(unpacking_a_row_with_unended_text_ends_every_field)
{
	struct mm_finding f, g;
	struct mm_buf b;
	uint32_t none = 0;

	memset(&f, 'A', sizeof(f));
	f.action = MM_ACTION_NETWORK_CONNECTION;
	f.res_type = MM_RES_INSTANCE;
	f.nevidence = 0;
	mm_buf_init(&b, 1 << 16);
	CHECK_EQ_INT(mm_buf_add(&b, "MMF2", 4), 0);
	zrun_by_hand(&b, (const unsigned char *)&f, sizeof(f));
	CHECK_EQ_INT(mm_buf_add(&b, (const char *)&none, sizeof(none)), 0); /* no detail file */
	CHECK_EQ_INT(mm_finding_unpack(&g, b.p, b.len), 0);
	CHECK(strnlen(g.id, sizeof(g.id)) < sizeof(g.id));
	CHECK(strnlen(g.type, sizeof(g.type)) < sizeof(g.type));
	CHECK(strnlen(g.account, sizeof(g.account)) < sizeof(g.account));
	CHECK(strnlen(g.instance_id, sizeof(g.instance_id)) < sizeof(g.instance_id));
	CHECK(strnlen(g.user_agent, sizeof(g.user_agent)) < sizeof(g.user_agent));
	CHECK(strnlen(g.domain, sizeof(g.domain)) < sizeof(g.domain));
	CHECK(strnlen(g.disc, sizeof(g.disc)) < sizeof(g.disc));
	CHECK(strnlen(g.info, sizeof(g.info)) < sizeof(g.info));
	CHECK_EQ_INT((int)strlen(g.user_agent), (int)sizeof(g.user_agent) - 1);
	mm_buf_free(&b);
}
