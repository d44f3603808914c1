/* test_sim.c - the estate simulator and its verifier: layout, determinism,
 * gzip and JSON validity of what it writes, option errors, and the
 * verifier's ok / MISSING / MISMATCH / UNEXPECTED verdicts. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "mmtest.h"
#include "sim/sim.h"

static char g_found[1024];
static char g_paths[4][1024];	/* the first four matches */
static const char *g_want;
static int g_count;

static int find_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (flag == FTW_F && strstr(path, g_want)) {
		if (g_count < 4)
			snprintf(g_paths[g_count], sizeof g_paths[0], "%s", path);
		if (!g_count++)
			snprintf(g_found, sizeof g_found, "%s", path);
	}
	return 0;
}

/* Count files whose path contains want; the first one lands in g_found. */
static int find_files(const char *dir, const char *want)
{
	g_want = want;
	g_count = 0;
	g_found[0] = '\0';
	nftw(dir, find_cb, 16, FTW_PHYS);
	return g_count;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *dir) { nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static void tmpdir(char *buf, size_t cap)
{
	snprintf(buf, cap, "/tmp/mmsimtestXXXXXX");
	if (!mkdtemp(buf))
		buf[0] = '\0';
}

static int gen(const char *dir, uint64_t seed, int days, int force)
{
	struct mm_sim_opts o;
	struct mm_err err;
	mm_sim_opts_init(&o);
	o.out_dir = dir;
	o.seed = seed;
	o.days = days;
	o.force = force;
	return mm_sim_generate(&o, NULL, &err);
}

/* Whole (gunzipped when .gz) file; caller frees. */
static char *read_all(const char *path, size_t *n)
{
	gzFile g = gzopen(path, "rb");
	size_t cap = 1 << 16, len = 0;
	char *p = malloc(cap);
	int got;
	if (!g || !p) {
		free(p);
		if (g)
			gzclose(g);
		return NULL;
	}
	while ((got = gzread(g, p + len, (unsigned)(cap - len - 1))) > 0) {
		len += (size_t)got;
		if (cap - len < 4096) {
			cap *= 2;
			p = realloc(p, cap);
		}
	}
	gzclose(g);
	if (got < 0) {
		free(p);
		return NULL;
	}
	p[len] = '\0';
	*n = len;
	return p;
}

static int files_equal(const char *a, const char *b)
{
	size_t na, nb;
	char *pa = read_all(a, &na), *pb = read_all(b, &nb);
	int eq = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return eq;
}

MM_TEST(sim_layout_and_files)
{
	char dir[64], p[1200];
	struct mm_sim_opts o;
	struct mm_sim_stats st;
	struct mm_err err;
	struct stat sb;
	static const char *const names[] = {"inventory.json", "truth.json", "scan.args",
					    "intel/mining.txt", "intel/c2.txt", "intel/tor.txt",
					    "intel/torexit.txt", "intel/blackhole.txt",
					    "intel/droppoint.txt", "intel/custom.txt",
					    "intel/trusted.txt"};
	size_t i;

	tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	mm_sim_opts_init(&o);
	o.out_dir = dir;
	o.seed = 11;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	/* default 2 days, scale 1, all attacks: about 155k flow records */
	CHECK(st.flow_records >= 100000 && st.flow_records <= 250000);
	CHECK(st.dns_records > 1000);
	CHECK(st.ct_records > 100);
	/* 18 threat-list + 3 of their attack sequences + 20 network (no baseline ones) +
	 * 7 DNS-list + 11 CloudTrail rules */
	CHECK_EQ_INT(st.expected, 59);
	CHECK_EQ_INT(st.instances, 53);
	for (i = 0; i < MM_ARRAY_LEN(names); i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		CHECK(stat(p, &sb) == 0 && sb.st_size > 0);
	}
	/* one flow file per hour per VPC, one DNS file per hour per VPC,
	 * one CloudTrail file per hour, one digest */
	CHECK_EQ_INT(find_files(dir, "_vpcflowlogs_us-east-1_fl-"), 96);
	CHECK_EQ_INT(find_files(dir, "/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/04/123456789012_vpcflowlogs_us-east-1_fl-"), 48);
	CHECK_EQ_INT(find_files(dir, "_vpcdnsquerylogs_vpc-"), 96);
	CHECK_EQ_INT(find_files(dir, "/CloudTrail/us-east-1/2024/03/05/123456789012_CloudTrail_us-east-1_2024030"), 24);
	CHECK_EQ_INT(find_files(dir, "/CloudTrail-Digest/us-east-1/2024/03/04/"), 1);
	CHECK_EQ_INT(find_files(dir, "T0005Z_"), 4);	/* 2 VPCs x 2 days, hour 00 */
	CHECK_EQ_INT(find_files(dir, ".json.gz"), 49);
	rm_rf(dir);
	/* the threat-list estate alone keeps its size */
	tmpdir(dir, sizeof dir);
	o.out_dir = dir;
	o.attacks = MM_SIM_ATTACKS_INTEL;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	CHECK(st.flow_records >= 50000 && st.flow_records <= 100000);
	CHECK_EQ_INT(st.expected, 21);
	CHECK_EQ_INT(st.instances, 21);
	rm_rf(dir);
	tmpdir(dir, sizeof dir);
	o.out_dir = dir;
	o.attacks = MM_SIM_ATTACKS_NETWORK;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	CHECK_EQ_INT(st.expected, 20);
	CHECK_EQ_INT(st.instances, 43);
	rm_rf(dir);
}

MM_TEST(sim_deterministic)
{
	char a[64], b[64], c[64], pa[1200], pb[1200], rel[1024];
	tmpdir(a, sizeof a);
	tmpdir(b, sizeof b);
	tmpdir(c, sizeof c);
	CHECK_EQ_INT(gen(a, 5, 1, 0), 0);
	CHECK_EQ_INT(gen(b, 5, 1, 0), 0);
	CHECK_EQ_INT(gen(c, 6, 1, 0), 0);
	snprintf(pa, sizeof pa, "%s/truth.json", a);
	snprintf(pb, sizeof pb, "%s/truth.json", b);
	CHECK(files_equal(pa, pb));
	snprintf(pa, sizeof pa, "%s/inventory.json", a);
	snprintf(pb, sizeof pb, "%s/inventory.json", b);
	CHECK(files_equal(pa, pb));
	/* the same flow file name exists in both and its gz bytes match */
	CHECK(find_files(a, "T1205Z_") >= 1);
	snprintf(rel, sizeof rel, "%s", g_found + strlen(a));
	snprintf(pb, sizeof pb, "%s%s", b, rel);
	{
		FILE *fa = fopen(g_found, "rb"), *fb = fopen(pb, "rb");
		char ba[1 << 16], bb[1 << 16];
		size_t na = fa ? fread(ba, 1, sizeof ba, fa) : 0, nb = fb ? fread(bb, 1, sizeof bb, fb) : 1;
		CHECK(fa && fb);
		CHECK(na > 0 && na == nb && memcmp(ba, bb, na) == 0);
		if (fa)
			fclose(fa);
		if (fb)
			fclose(fb);
	}
	/* a different seed: different ids, different bytes */
	snprintf(pb, sizeof pb, "%s/truth.json", c);
	snprintf(pa, sizeof pa, "%s/truth.json", a);
	CHECK(!files_equal(pa, pb));
	CHECK_EQ_INT(find_files(c, rel + strlen("/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/04/")), 0);
	rm_rf(a);
	rm_rf(b);
	rm_rf(c);
}

static int count_fields(const char *p, size_t n)
{
	int k = 0, in = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		if (p[i] == ' ')
			in = 0;
		else if (!in) {
			in = 1;
			k++;
		}
	}
	return k;
}

MM_TEST(sim_flow_files_match_header)
{
	char dir[64];
	static const char *const which[] = {"T0305Z_", "T1505Z_"};
	size_t w;
	int v2 = 0, v5 = 0, nodata = 0, reject = 0;

	tmpdir(dir, sizeof dir);
	CHECK_EQ_INT(gen(dir, 9, 1, 0), 0);
	for (w = 0; w < MM_ARRAY_LEN(which); w++) {
		int nf = find_files(dir, which[w]), j;
		char paths[2][1024];
		CHECK_EQ_INT(nf, 2);
		memcpy(paths, g_paths, sizeof paths);
		for (j = 0; j < 2; j++) {
			size_t n, lines = 0;
			char *buf, *p, *nl;
			int hdr;
			const char *first = paths[j];
			buf = read_all(first, &n);
			CHECK(buf != NULL);
			if (!buf)
				continue;
			nl = memchr(buf, '\n', n);
			CHECK(nl != NULL);
			hdr = count_fields(buf, (size_t)(nl - buf));
			CHECK(!strncmp(buf, "version ", 8));
			if (hdr == 14)
				v2++;
			else if (hdr == 23)
				v5++;
			for (p = nl + 1; p < buf + n; p = nl + 1) {
				nl = memchr(p, '\n', (size_t)(buf + n - p));
				CHECK(nl != NULL);
				if (!nl)
					break;
				CHECK_EQ_INT(count_fields(p, (size_t)(nl - p)), hdr);
				if (strstr(p, "NODATA") && strstr(p, "NODATA") < nl)
					nodata++;
				if (strstr(p, "REJECT") && strstr(p, "REJECT") < nl)
					reject++;
				lines++;
			}
			CHECK(lines > 100);
			free(buf);
		}
	}
	CHECK(v2 >= 1);
	CHECK(v5 >= 1);
	CHECK(nodata > 0);	/* the bastion is quiet at 03:00 */
	CHECK(reject > 0);
	rm_rf(dir);
}

MM_TEST(sim_json_valid)
{
	char dir[64], p[1200];
	size_t n, used;
	char *buf, *line, *nl;
	struct mm_json_val v, recs;
	int lines = 0, noids = 0;

	tmpdir(dir, sizeof dir);
	CHECK_EQ_INT(gen(dir, 4, 1, 0), 0);
	CHECK(find_files(dir, "_vpcdnsquerylogs_") == 48);
	buf = read_all(g_found, &n);
	CHECK(buf != NULL);
	for (line = buf; buf && line < buf + n; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(buf + n - line));
		if (!nl)
			break;
		CHECK_EQ_INT(mm_json_value(line, (size_t)(nl - line), &v, &used), 0);
		CHECK(v.type == MM_JSON_OBJECT);
		CHECK(mm_json_get(&v, "query_name", &recs) == 1);
		CHECK(recs.n > 3 && recs.p[recs.n - 2] == '.');	/* trailing dot */
		CHECK(mm_json_get(&v, "srcids", &recs) == 1);
		if (recs.n == 2)
			noids++;
		lines++;
	}
	CHECK(lines > 10);
	free(buf);
	/* CloudTrail: {"Records":[...]} */
	CHECK(find_files(dir, "_CloudTrail_us-east-1_") == 24);
	buf = read_all(g_found, &n);
	CHECK(buf != NULL);
	if (buf) {
		struct mm_json_iter it;
		struct mm_json_val r;
		int k = 0;
		CHECK_EQ_INT(mm_json_value(buf, n, &v, &used), 0);
		CHECK(mm_json_get(&v, "Records", &recs) == 1 && recs.type == MM_JSON_ARRAY);
		CHECK_EQ_INT(mm_json_iter_init(&it, &recs), 0);
		while (mm_json_iter_next(&it, NULL, &r) == 1) {
			struct mm_json_val t;
			CHECK(mm_json_get(&r, "eventTime", &t) == 1);
			CHECK(mm_json_path(&r, "userIdentity.type", &t) == 1);
			k++;
		}
		CHECK(k > 0);
		free(buf);
	}
	snprintf(p, sizeof p, "%s/inventory.json", dir);
	buf = read_all(p, &n);
	CHECK(buf && mm_json_value(buf, n, &v, &used) == 0 &&
	      mm_json_path(&v, "Reservations", &recs) == 1 && recs.type == MM_JSON_ARRAY);
	free(buf);
	snprintf(p, sizeof p, "%s/truth.json", dir);
	buf = read_all(p, &n);
	CHECK(buf && mm_json_value(buf, n, &v, &used) == 0 && mm_json_get(&v, "expected", &recs) == 1 &&
	      mm_json_get(&v, "benign", &recs) == 1);
	free(buf);
	rm_rf(dir);
}

MM_TEST(sim_bad_options)
{
	char dir[64], p[1200];
	struct mm_sim_opts o;
	struct mm_err err;
	FILE *f;

	tmpdir(dir, sizeof dir);
	mm_sim_opts_init(&o);
	o.out_dir = dir;
	o.days = 0;
	CHECK_EQ_INT(mm_sim_generate(&o, NULL, &err), MM_EINVAL);
	o.days = MM_SIM_MAX_DAYS + 1;
	CHECK_EQ_INT(mm_sim_generate(&o, NULL, &err), MM_EINVAL);
	o.days = 1;
	o.scale = 0;
	CHECK_EQ_INT(mm_sim_generate(&o, NULL, &err), MM_EINVAL);
	o.scale = MM_SIM_MAX_SCALE + 1;
	CHECK_EQ_INT(mm_sim_generate(&o, NULL, &err), MM_EINVAL);
	o.scale = 1;
	o.out_dir = NULL;
	CHECK_EQ_INT(mm_sim_generate(&o, NULL, &err), MM_EINVAL);
	/* non-empty directory: refused without force */
	snprintf(p, sizeof p, "%s/keep.txt", dir);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	o.out_dir = dir;
	CHECK_EQ_INT(mm_sim_generate(&o, NULL, &err), MM_EEXISTS);
	CHECK(strstr(err.msg, "--force") != NULL);
	o.force = 1;
	CHECK_EQ_INT(mm_sim_generate(&o, NULL, &err), 0);
	CHECK(access(p, F_OK) == 0);	/* nothing deleted */
	/* unwritable */
	o.out_dir = "/proc/mamori-sim-test";
	o.force = 0;
	CHECK_EQ_INT(mm_sim_generate(&o, NULL, &err), MM_EIO);
	rm_rf(dir);
}

MM_TEST(sim_cli)
{
	char dir[64], d[80];
	char *help[] = {"sim", "--help", NULL};
	char *bad_days[] = {"sim", "--out", "/tmp/x", "--days", "0", NULL};
	char *bad_days2[] = {"sim", "--out", "/tmp/x", "--days", "2x", NULL};
	char *bad_start[] = {"sim", "--out", "/tmp/x", "--start", "2024-13-01", NULL};
	char *no_out[] = {"sim", NULL};
	char *vbad[] = {"verify", "--truth", "x", NULL};
	char *ok[] = {"sim", "--out", d, "--days", "1", "--seed", "3", "--start", "2023-12-31", NULL};
	FILE *sink = freopen("/dev/null", "w", stdout);

	CHECK(sink != NULL);
	CHECK_EQ_INT(mm_cmd_sim(2, help), MM_EXIT_OK);
	CHECK_EQ_INT(mm_cmd_sim(5, bad_days), MM_EXIT_USAGE);
	CHECK_EQ_INT(mm_cmd_sim(5, bad_days2), MM_EXIT_USAGE);
	CHECK_EQ_INT(mm_cmd_sim(5, bad_start), MM_EXIT_USAGE);
	CHECK_EQ_INT(mm_cmd_sim(1, no_out), MM_EXIT_USAGE);
	{
		char *vb[] = {"sim", "verify", "--truth", "x", NULL};
		MM_UNUSED(vbad);
		CHECK_EQ_INT(mm_cmd_sim(4, vb), MM_EXIT_USAGE);	/* needs --db or --findings */
	}
	tmpdir(dir, sizeof dir);
	snprintf(d, sizeof d, "%s/out", dir);
	CHECK_EQ_INT(mm_cmd_sim(9, ok), MM_EXIT_OK);
	CHECK_EQ_INT(find_files(dir, "/2023/12/31/"), 2 * 24 + 2 * 24 + 24 + 1);
	/* spans into the next year? no: one day only */
	CHECK_EQ_INT(find_files(dir, "/2024/01/01/"), 0);
	CHECK_EQ_INT(mm_cmd_sim(9, ok), MM_EXIT_USAGE);	/* now non-empty */
	rm_rf(dir);
}

/* ---- verifier ---- */

static const char TRUTH[] =
	"{\"seed\":1,\"days\":1,\"expected\":["
	"{\"type\":\"CryptoCurrency:EC2/BitcoinTool.B\",\"resourceType\":\"Instance\",\"resource\":\"i-0aaa\","
	"\"role\":\"ACTOR\",\"direction\":\"OUTBOUND\",\"firstSeen\":\"2024-03-04T10:00:00Z\",\"lastSeen\":\"2024-03-04T12:00:00Z\"},"
	"{\"type\":\"Recon:IAMUser/TorIPCaller\",\"resourceType\":\"AccessKey\",\"resource\":\"AKIAXX\","
	"\"role\":\"TARGET\",\"firstSeen\":\"2024-03-04T13:00:00Z\",\"lastSeen\":\"2024-03-04T13:10:00Z\"},"
	"{\"type\":\"Behavior:EC2/NetworkPortUnusual\",\"resourceType\":\"Instance\",\"resource\":\"i-0aaa\","
	"\"role\":\"ACTOR\",\"firstSeen\":\"2024-03-04T10:00:00Z\",\"lastSeen\":\"2024-03-04T12:00:00Z\",\"optional\":true}"
	"],\"benign\":[{\"what\":\"nightly backup\",\"resource\":\"eni-0bbb\"}]}";
static const char F_NPU_TARGET[] =
	"{\"type\":\"Behavior:EC2/NetworkPortUnusual\",\"resource\":{\"resourceType\":\"Instance\",\"instanceDetails\":"
	"{\"instanceId\":\"i-0aaa\"}},\"service\":{\"resourceRole\":\"TARGET\","
	"\"eventFirstSeen\":\"2024-03-04T11:00:00.000Z\",\"eventLastSeen\":\"2024-03-04T11:10:00.000Z\"}}\n";

static const char F_MINE[] =
	"{\"schemaVersion\":\"2.0\",\"type\":\"CryptoCurrency:EC2/BitcoinTool.B\",\"resource\":{\"resourceType\":\"Instance\","
	"\"instanceDetails\":{\"instanceId\":\"i-0aaa\"}},\"service\":{\"action\":{\"actionType\":\"NETWORK_CONNECTION\","
	"\"networkConnectionAction\":{\"connectionDirection\":\"%s\"}},\"resourceRole\":\"%s\","
	"\"eventFirstSeen\":\"%s\",\"eventLastSeen\":\"2024-03-04T12:10:00.000Z\"}}\n";
static const char F_KEY[] =
	"{\"type\":\"Recon:IAMUser/TorIPCaller\",\"resource\":{\"resourceType\":\"AccessKey\",\"accessKeyDetails\":"
	"{\"accessKeyId\":\"AKIAXX\"}},\"service\":{\"action\":{\"actionType\":\"AWS_API_CALL\"},\"resourceRole\":\"TARGET\","
	"\"eventFirstSeen\":\"2024-03-04T13:00:00.000Z\",\"eventLastSeen\":\"2024-03-04T13:10:00.000Z\"}}\n";
static const char F_EXTRA[] =
	"{\"type\":\"UnauthorizedAccess:EC2/TorClient\",\"resource\":{\"resourceType\":\"Instance\",\"instanceDetails\":"
	"{\"networkInterfaces\":[{\"networkInterfaceId\":\"eni-0bbb\"}]}},\"service\":{\"resourceRole\":\"ACTOR\","
	"\"eventFirstSeen\":\"2024-03-04T13:00:00.000Z\",\"eventLastSeen\":\"2024-03-04T13:10:00.000Z\"}}\n";

/* Write truth + findings and run the verifier; returns failed count
 * (or -1 on error); out captures the report. */
static int run_verify(const char *findings, char *report, size_t cap)
{
	char dir[64], tp[128], fp[128];
	struct mm_sim_found_set set = {0};
	struct mm_err err;
	int passed = -1, failed = -1, rc;
	FILE *f, *out;

	tmpdir(dir, sizeof dir);
	snprintf(tp, sizeof tp, "%s/truth.json", dir);
	snprintf(fp, sizeof fp, "%s/f.jsonl", dir);
	f = fopen(tp, "w");
	fputs(TRUTH, f);
	fclose(f);
	f = fopen(fp, "w");
	fputs(findings, f);
	fclose(f);
	out = fmemopen(report, cap, "w");
	rc = mm_sim_found_load_jsonl(&set, fp, &err);
	if (!rc)
		rc = mm_sim_verify(tp, &set, out, &passed, &failed, &err);
	fclose(out);
	mm_sim_found_free(&set);
	rm_rf(dir);
	return rc ? -1 : failed;
}

MM_TEST(verify_verdicts)
{
	char fl[4096], rep[4096];

	/* everything right (eventFirstSeen 30 min early is inside the slack) */
	snprintf(fl, sizeof fl, F_MINE, "OUTBOUND", "ACTOR", "2024-03-04T09:30:00.000Z");
	strcat(fl, "\n");
	strcat(fl, F_KEY);
	CHECK_EQ_INT(run_verify(fl, rep, sizeof rep), 0);
	CHECK(strstr(rep, "ok CryptoCurrency:EC2/BitcoinTool.B i-0aaa") != NULL);
	CHECK(strstr(rep, "ok Behavior:EC2/NetworkPortUnusual i-0aaa (optional, not raised)") != NULL);
	CHECK(strstr(rep, "3 passed, 0 failed") != NULL);
	/* an optional finding that is raised must still fit (role) */
	strcat(fl, F_NPU_TARGET);
	CHECK_EQ_INT(run_verify(fl, rep, sizeof rep), 1);
	CHECK(strstr(rep, "MISMATCH Behavior:EC2/NetworkPortUnusual i-0aaa: role TARGET, expected ACTOR") != NULL);
	/* missing key finding */
	snprintf(fl, sizeof fl, F_MINE, "OUTBOUND", "ACTOR", "2024-03-04T10:00:00.000Z");
	CHECK_EQ_INT(run_verify(fl, rep, sizeof rep), 1);
	CHECK(strstr(rep, "MISSING Recon:IAMUser/TorIPCaller AKIAXX") != NULL);
	/* wrong role, wrong direction, outside the window */
	snprintf(fl, sizeof fl, F_MINE, "OUTBOUND", "TARGET", "2024-03-04T10:00:00.000Z");
	strcat(fl, F_KEY);
	CHECK_EQ_INT(run_verify(fl, rep, sizeof rep), 1);
	CHECK(strstr(rep, "MISMATCH CryptoCurrency:EC2/BitcoinTool.B i-0aaa: role TARGET") != NULL);
	snprintf(fl, sizeof fl, F_MINE, "INBOUND", "ACTOR", "2024-03-04T10:00:00.000Z");
	strcat(fl, F_KEY);
	CHECK_EQ_INT(run_verify(fl, rep, sizeof rep), 1);
	CHECK(strstr(rep, "direction INBOUND") != NULL);
	snprintf(fl, sizeof fl, F_MINE, "OUTBOUND", "ACTOR", "2024-03-04T08:59:00.000Z");
	strcat(fl, F_KEY);
	CHECK_EQ_INT(run_verify(fl, rep, sizeof rep), 1);
	CHECK(strstr(rep, "outside") != NULL);
	/* an extra finding (resource from the ENI) is UNEXPECTED */
	snprintf(fl, sizeof fl, F_MINE, "OUTBOUND", "ACTOR", "2024-03-04T10:00:00.000Z");
	strcat(fl, F_KEY);
	strcat(fl, F_EXTRA);
	CHECK_EQ_INT(run_verify(fl, rep, sizeof rep), 1);
	CHECK(strstr(rep, "UNEXPECTED UnauthorizedAccess:EC2/TorClient eni-0bbb ACTOR") != NULL);
	CHECK(strstr(rep, "on look-alike: nightly backup") != NULL);
	CHECK(strstr(rep, "3 passed, 1 failed") != NULL);
	/* garbage findings file */
	CHECK_EQ_INT(run_verify("{\"type\":\n", rep, sizeof rep), -1);
	CHECK_EQ_INT(run_verify("{\"nottype\":1}\n", rep, sizeof rep), -1);
}

/* The generator's own truth passes against findings synthesised from it:
 * the round trip proves truth.json carries what the verifier needs. */
MM_TEST(verify_roundtrip_generated_truth)
{
	char dir[64], p[1200], fp[1200], rep[16384];
	size_t n, used;
	char *buf;
	struct mm_json_val root, exp, e;
	struct mm_json_iter it;
	struct mm_sim_found_set set = {0};
	struct mm_err err;
	int passed = 0, failed = -1, k = 0;
	FILE *f, *out;

	tmpdir(dir, sizeof dir);
	CHECK_EQ_INT(gen(dir, 21, 1, 0), 0);
	snprintf(p, sizeof p, "%s/truth.json", dir);
	snprintf(fp, sizeof fp, "%s/findings.jsonl", dir);
	buf = read_all(p, &n);
	CHECK(buf != NULL);
	f = fopen(fp, "w");
	if (buf && f && !mm_json_value(buf, n, &root, &used) && mm_json_get(&root, "expected", &exp) == 1 &&
	    !mm_json_iter_init(&it, &exp)) {
		while (mm_json_iter_next(&it, NULL, &e) == 1) {
			struct mm_json_val t, r, rt, ro, d, fs, ls;
			int has_d = mm_json_get(&e, "direction", &d) == 1, key;
			mm_json_get(&e, "type", &t);
			mm_json_get(&e, "resource", &r);
			mm_json_get(&e, "resourceType", &rt);
			mm_json_get(&e, "role", &ro);
			mm_json_get(&e, "firstSeen", &fs);
			mm_json_get(&e, "lastSeen", &ls);
			key = rt.n == 11;	/* "AccessKey" */
			if (rt.n == 10 && !memcmp(rt.p, "\"S3Bucket\"", 10)) { /* resource "s3:BUCKET/KEY" */
				const char *sl = memchr(r.p, '/', r.n);
				int bn = sl ? (int)(sl - r.p) - 4 : 0;
				fprintf(f,
					"{\"type\":%.*s,\"resource\":{\"resourceType\":\"S3Bucket\","
					"\"accessKeyDetails\":{\"accessKeyId\":\"%.*s\"},\"s3BucketDetails\":"
					"[{\"name\":\"%.*s\"}]},\"service\":{\"resourceRole\":%.*s,"
					"\"eventFirstSeen\":%.*s,\"eventLastSeen\":%.*s}}\n",
					(int)t.n, t.p, sl ? (int)(r.p + r.n - 1 - sl - 1) : 0,
					sl ? sl + 1 : "", bn, r.p + 4, (int)ro.n, ro.p, (int)fs.n, fs.p,
					(int)ls.n, ls.p);
				k++;
				continue;
			}
			fprintf(f,
				"{\"type\":%.*s,\"resource\":{\"resourceType\":%.*s,\"%s\":{\"%s\":%.*s}},"
				"\"service\":{\"action\":{\"networkConnectionAction\":{\"connectionDirection\":%.*s}},"
				"\"resourceRole\":%.*s,\"eventFirstSeen\":%.*s,\"eventLastSeen\":%.*s}}\n",
				(int)t.n, t.p, (int)rt.n, rt.p, key ? "accessKeyDetails" : "instanceDetails",
				key ? "accessKeyId" : "instanceId", (int)r.n, r.p, has_d ? (int)d.n : 2,
				has_d ? d.p : "\"\"", (int)ro.n, ro.p, (int)fs.n, fs.p, (int)ls.n, ls.p);
			k++;
		}
	}
	if (f)
		fclose(f);
	free(buf);
	CHECK_EQ_INT(k, 59);
	out = fmemopen(rep, sizeof rep, "w");
	CHECK_EQ_INT(mm_sim_found_load_jsonl(&set, fp, &err), 0);
	CHECK_EQ_INT(mm_sim_verify(p, &set, out, &passed, &failed, &err), 0);
	fclose(out);
	CHECK_EQ_INT(passed, 59);
	CHECK_EQ_INT(failed, 0);
	mm_sim_found_free(&set);
	/* and a truth file that is not one */
	CHECK(mm_sim_verify(fp, &set, stderr, &passed, &failed, &err) < 0);
	rm_rf(dir);
}

/* ---- network behaviours ---- */

/* v is the JSON string s (raw, quotes included in v). */
static int jeq(const struct mm_json_val *v, const char *s)
{
	size_t n = strlen(s);
	return v->type == MM_JSON_STRING && v->n == n + 2 && !memcmp(v->p + 1, s, n);
}

/* What truth must hold: type, role, the instance's kind name. */
static const struct {
	const char *type, *role, *kind;
	int baseline, optional;
} NET_WANT[] = {
	{"Behavior:EC2/NetworkPortUnusual", "ACTOR", "shop-web", 1, 0},
	{"Backdoor:EC2/Spambot", "ACTOR", "newsletter-app", 1, 0},
	{"Behavior:EC2/TrafficVolumeUnusual", "ACTOR", "analytics-etl", 1, 0},
	{"DefenseEvasion:EC2/UnusualDNSResolver", "ACTOR", "legacy-agent", 1, 0},
	{"DefenseEvasion:EC2/UnusualDoHActivity", "ACTOR", "vdi-desktop", 1, 0},
	{"DefenseEvasion:EC2/UnusualDoTActivity", "ACTOR", "iot-gateway", 1, 0},
	{"Behavior:EC2/NetworkPortUnusual", "ACTOR", "iot-gateway", 1, 1},
	{"Recon:EC2/PortProbeUnprotectedPort", "TARGET", "search-es", 0, 0},
	{"Recon:EC2/PortProbeUnprotectedPort", "TARGET", "reports-mysql", 0, 0},
	{"Recon:EC2/PortProbeEMRUnprotectedPort", "TARGET", "emr-master", 0, 0},
	{"Recon:EC2/PortProbeUnprotectedPort", "TARGET", "emr-master", 0, 1},
	{"Recon:EC2/Portscan", "ACTOR", "ci-runner-7", 0, 0},
	{"Impact:EC2/PortSweep", "ACTOR", "cache-warmer", 0, 0},
	{"UnauthorizedAccess:EC2/SSHBruteForce", "TARGET", "sftp-gateway", 0, 0},
	{"UnauthorizedAccess:EC2/RDPBruteForce", "TARGET", "win-jump", 0, 0},
	{"Impact:EC2/WinRMBruteForce", "TARGET", "win-mgmt", 0, 0},
	{"UnauthorizedAccess:EC2/SSHBruteForce", "ACTOR", "batch-07", 0, 0},
	{"UnauthorizedAccess:EC2/RDPBruteForce", "ACTOR", "win-build", 0, 0},
	{"Impact:EC2/WinRMBruteForce", "ACTOR", "ops-tools", 0, 0},
	{"Backdoor:EC2/DenialOfService.Tcp", "ACTOR", "render-01", 0, 0},
	{"Backdoor:EC2/DenialOfService.Udp", "ACTOR", "render-02", 0, 0},
	{"Backdoor:EC2/DenialOfService.UdpOnTcpPorts", "ACTOR", "render-03", 0, 0},
	{"Backdoor:EC2/DenialOfService.UnusualProtocol", "ACTOR", "render-04", 0, 0},
	{"Backdoor:EC2/DenialOfService.Dns", "ACTOR", "dns-cache", 0, 0},
	{"Trojan:EC2/DNSDataExfiltration", "ACTOR", "hr-portal", 0, 0},
	{"Trojan:EC2/DGADomainRequest.B", "ACTOR", "kiosk-05", 0, 0},
	{"UnauthorizedAccess:EC2/MetadataDNSRebind", "ACTOR", "pdf-render", 0, 0},
};

/* Check a --attacks network truth of days days: every entry matches
 * NET_WANT in order (baseline ones only when days >= 9), on the right
 * instance kind, in the right part of the run; returns the entry count. */
static int check_net_truth(const char *dir, int days)
{
	char p[1200];
	size_t n, used, i = 0;
	char *buf;
	struct mm_json_val root, exp, e, inst, ben, v, k;
	struct mm_json_iter it;
	int count = 0, bad = 0, nben = 0;
	const int64_t t0 = 1709510400;	/* 2024-03-04 */

	snprintf(p, sizeof p, "%s/truth.json", dir);
	buf = read_all(p, &n);
	if (!buf || mm_json_value(buf, n, &root, &used) || mm_json_get(&root, "expected", &exp) != 1 ||
	    mm_json_get(&root, "instances", &inst) != 1 || mm_json_iter_init(&it, &exp)) {
		free(buf);
		return -1;
	}
	while (mm_json_iter_next(&it, NULL, &e) == 1) {
		struct mm_json_val ty, ro, res, fs, ls, opt, in;
		char id[64], fbuf[32], lbuf[32];
		int64_t fms = 0, lms = 0;
		while (i < MM_ARRAY_LEN(NET_WANT) && NET_WANT[i].baseline && days < 9)
			i++;
		if (i >= MM_ARRAY_LEN(NET_WANT)) {
			bad++;
			break;
		}
		mm_json_get(&e, "type", &ty);
		mm_json_get(&e, "role", &ro);
		mm_json_get(&e, "resource", &res);
		mm_json_get(&e, "firstSeen", &fs);
		mm_json_get(&e, "lastSeen", &ls);
		snprintf(id, sizeof id, "%.*s", (int)res.n - 2, res.p + 1);
		snprintf(fbuf, sizeof fbuf, "%.*s", (int)fs.n - 2, fs.p + 1);
		snprintf(lbuf, sizeof lbuf, "%.*s", (int)ls.n - 2, ls.p + 1);
		mm_time_parse_iso(fbuf, strlen(fbuf), &fms);
		mm_time_parse_iso(lbuf, strlen(lbuf), &lms);
		if (!jeq(&ty, NET_WANT[i].type) || !jeq(&ro, NET_WANT[i].role) ||
		    (mm_json_get(&e, "optional", &opt) == 1) != NET_WANT[i].optional ||
		    mm_json_get(&inst, id, &in) != 1 || mm_json_get(&in, "kind", &k) != 1 ||
		    !jeq(&k, NET_WANT[i].kind) || fms > lms) {
			fprintf(stderr, "  entry %d: not %s %s on %s\n", count, NET_WANT[i].type,
				NET_WANT[i].role, NET_WANT[i].kind);
			bad++;
		}
		/* baseline: day 9; the rest inside min(days, 6) days */
		if (NET_WANT[i].baseline ? fms < (t0 + 8 * 86400) * 1000LL || lms >= (t0 + 9 * 86400) * 1000LL
					 : lms >= (t0 + (days < 6 ? days : 6) * 86400) * 1000LL) {
			fprintf(stderr, "  entry %d (%s): window %s..%s in the wrong part of the run\n", count,
				NET_WANT[i].type, fbuf, lbuf);
			bad++;
		}
		i++;
		count++;
	}
	if (mm_json_get(&root, "benign", &ben) == 1 && !mm_json_iter_init(&it, &ben))
		while (mm_json_iter_next(&it, NULL, &v) == 1)
			nben++;
	free(buf);
	if (nben != 8) {
		fprintf(stderr, "  %d benign entries, want 8\n", nben);
		bad++;
	}
	return bad ? -1 : count;
}

MM_TEST(sim_network_truth)
{
	char dir[64], p[1200];
	struct mm_sim_opts o;
	struct mm_sim_stats st;
	struct mm_err err;
	size_t n;
	char *buf;

	tmpdir(dir, sizeof dir);
	mm_sim_opts_init(&o);
	o.out_dir = dir;
	o.days = 10;
	o.seed = 4;
	o.attacks = MM_SIM_ATTACKS_NETWORK;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	CHECK_EQ_INT(st.expected, 27);
	CHECK_EQ_INT(check_net_truth(dir, 10), 27);
	/* the EMR master's tags, the announced resolvers, the trusted scanner */
	snprintf(p, sizeof p, "%s/inventory.json", dir);
	buf = read_all(p, &n);
	CHECK(buf && strstr(buf, "{\"Key\":\"aws:elasticmapreduce:instance-group-role\",\"Value\":\"MASTER\"}"));
	CHECK(buf && strstr(buf, "{\"Key\":\"aws:elasticmapreduce:job-flow-id\",\"Value\":\"j-"));
	CHECK(buf && strstr(buf, "{\"Key\":\"mamori:dns-resolver\",\"Value\":\"1.1.1.1,1.0.0.1\"}"));
	free(buf);
	snprintf(p, sizeof p, "%s/intel/trusted.txt", dir);
	buf = read_all(p, &n);
	CHECK(buf && strstr(buf, "147.75.90.0/29\n"));
	free(buf);
	rm_rf(dir);
	/* short runs: no baseline behaviours, the rest squeezed into the run */
	for (o.days = 1; o.days <= 9; o.days += 4) {
		tmpdir(dir, sizeof dir);
		o.out_dir = dir;
		CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
		CHECK_EQ_INT(check_net_truth(dir, o.days), o.days >= 9 ? 27 : 20);
		rm_rf(dir);
	}
}

MM_TEST(sim_attacks_option)
{
	char dir[64], d[80];
	char *bad1[] = {"sim", "--out", "/tmp/x", "--attacks", "dns", NULL};
	char *bad2[] = {"sim", "--out", "/tmp/x", "--attacks", "intel,", NULL};
	char *bad3[] = {"sim", "--out", "/tmp/x", "--attacks", "", NULL};
	char *ok[] = {"sim", "--out", d, "--days", "1", "--attacks", "network,intel", NULL};
	struct mm_sim_opts o;
	struct mm_err err;

	CHECK_EQ_INT(mm_cmd_sim(5, bad1), MM_EXIT_USAGE);
	CHECK_EQ_INT(mm_cmd_sim(5, bad2), MM_EXIT_USAGE);
	CHECK_EQ_INT(mm_cmd_sim(5, bad3), MM_EXIT_USAGE);
	tmpdir(dir, sizeof dir);
	snprintf(d, sizeof d, "%s/out", dir);
	CHECK_EQ_INT(mm_cmd_sim(7, ok), MM_EXIT_OK);
	rm_rf(dir);
	mm_sim_opts_init(&o);
	o.out_dir = "/tmp/mamori-sim-never";
	o.attacks = 32;
	CHECK_EQ_INT(mm_sim_generate(&o, NULL, &err), MM_EINVAL);
}

/* --attacks dnslists: one lookup pair per list-driven type, the lists,
 * and scan.args naming their categories. */
MM_TEST(sim_dnslists)
{
	char dir[64], p[1200];
	struct mm_sim_opts o;
	struct mm_sim_stats st;
	struct mm_err err;
	size_t n, i;
	char *buf;
	static const char *const types[] = {
		"Impact:EC2/AbusedDomainRequest.Reputation", "Impact:EC2/BitcoinDomainRequest.Reputation",
		"Impact:EC2/MaliciousDomainRequest.Reputation", "Impact:EC2/SuspiciousDomainRequest.Reputation",
		"Trojan:EC2/DriveBySourceTraffic!DNS", "Trojan:EC2/PhishingDomainRequest!DNS",
		"Trojan:EC2/DGADomainRequest.C!DNS"};
	static const char *const cats[] = {"abused", "bitcoin", "malicious", "suspicious", "driveby",
					   "phishing", "dga"};

	tmpdir(dir, sizeof dir);
	mm_sim_opts_init(&o);
	o.out_dir = dir;
	o.days = 1;
	o.attacks = MM_SIM_ATTACKS_INTEL | MM_SIM_ATTACKS_NETWORK | MM_SIM_ATTACKS_DNSLISTS;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	CHECK_EQ_INT(st.expected, 48);
	snprintf(p, sizeof p, "%s/truth.json", dir);
	buf = read_all(p, &n);
	CHECK(buf && strstr(buf, "\"attacks\":\"intel,network,dnslists\""));
	for (i = 0; buf && i < MM_ARRAY_LEN(types); i++) {
		char want[160];
		snprintf(want, sizeof want, "{\"type\":\"%s\",\"resourceType\":\"Instance\"", types[i]);
		CHECK(strstr(buf, want) != NULL);
	}
	free(buf);
	snprintf(p, sizeof p, "%s/scan.args", dir);
	buf = read_all(p, &n);
	for (i = 0; buf && i < MM_ARRAY_LEN(cats); i++) {
		char want[80], f[1200];
		struct stat sb;
		snprintf(want, sizeof want, "--threat-list\n%s=intel/%s.txt\n", cats[i], cats[i]);
		CHECK(strstr(buf, want) != NULL);
		snprintf(f, sizeof f, "%s/intel/%s.txt", dir, cats[i]);
		CHECK(stat(f, &sb) == 0 && sb.st_size > 0);
	}
	free(buf);
	rm_rf(dir);
	/* alone: only its seven entries on one more instance */
	tmpdir(dir, sizeof dir);
	o.out_dir = dir;
	o.attacks = MM_SIM_ATTACKS_DNSLISTS;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	CHECK_EQ_INT(st.expected, 7);
	CHECK_EQ_INT(st.instances, 13);
	rm_rf(dir);
}

/* --attacks ctrules: one entry per single-record CloudTrail type on its
 * own key (S3 bucket types as s3:BUCKET/KEY), the look-alikes named, the
 * records in the logs; adding the set changes no other record. */
MM_TEST(sim_ctrules)
{
	char dir[64], d2[64], p[1200], q[1200];
	struct mm_sim_opts o;
	struct mm_sim_stats st;
	struct mm_err err;
	size_t n, n2, i;
	char *buf, *b2;
	static const char *const types[] = {
		"Stealth:IAMUser/CloudTrailLoggingDisabled\",\"resourceType\":\"AccessKey",
		"Stealth:IAMUser/PasswordPolicyChange\",\"resourceType\":\"AccessKey",
		"Stealth:S3/ServerAccessLoggingDisabled\",\"resourceType\":\"S3Bucket\",\"resource\":\"s3:acme-web-assets/AKIA",
		"Policy:S3/AccountBlockPublicAccessDisabled\",\"resourceType\":\"AccessKey",
		"Policy:S3/BucketBlockPublicAccessDisabled\",\"resourceType\":\"S3Bucket\",\"resource\":\"s3:acme-data-lake/AKIA",
		"Policy:S3/BucketAnonymousAccessGranted\",\"resourceType\":\"S3Bucket\",\"resource\":\"s3:acme-data-lake/AKIA",
		"Policy:S3/BucketPublicAccessGranted\",\"resourceType\":\"S3Bucket\",\"resource\":\"s3:acme-press-kit/AKIA",
		"PenTest:IAMUser/KaliLinux\",\"resourceType\":\"AccessKey",
		"PenTest:IAMUser/ParrotLinux\",\"resourceType\":\"AccessKey",
		"PenTest:IAMUser/PentooLinux\",\"resourceType\":\"AccessKey",
		"DefenseEvasion:IAMUser/BedrockLoggingDisabled\",\"resourceType\":\"AccessKey"};
	static const char *const lookalikes[] = {"trail-admin: ", "iam-admin: ", "storage-admin: ",
						 "partner-admin: ", "dev-ubuntu: ", "ml-admin: "};

	tmpdir(dir, sizeof dir);
	mm_sim_opts_init(&o);
	o.out_dir = dir;
	o.days = 1;
	o.attacks = MM_SIM_ATTACKS_CTRULES;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	CHECK_EQ_INT(st.expected, 11);
	CHECK_EQ_INT(st.instances, 12);
	snprintf(p, sizeof p, "%s/truth.json", dir);
	buf = read_all(p, &n);
	CHECK(buf && strstr(buf, "\"attacks\":\"ctrules\""));
	for (i = 0; buf && i < MM_ARRAY_LEN(types); i++) {
		char want[200];
		snprintf(want, sizeof want, "{\"type\":\"%s", types[i]);
		if (!strstr(buf, want))
			printf("  missing %s\n", types[i]);
		CHECK(strstr(buf, want) != NULL);
	}
	for (i = 0; buf && i < MM_ARRAY_LEN(lookalikes); i++)
		CHECK(strstr(buf, lookalikes[i]) != NULL);
	CHECK(buf && strstr(buf, "\"firstSeen\":\"2024-03-04T13:0"));
	free(buf);
	/* the records are in the day's CloudTrail files */
	CHECK_EQ_INT(find_files(dir, "_CloudTrail_us-east-1_20240304T1355Z_"), 1);
	rm_rf(dir);
	/* with and without the set: the same estate (inventory bytes) and log files */
	tmpdir(dir, sizeof dir);
	tmpdir(d2, sizeof d2);
	o.out_dir = dir;
	o.attacks = MM_SIM_ATTACKS_INTEL;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	o.out_dir = d2;
	o.attacks = MM_SIM_ATTACKS_INTEL | MM_SIM_ATTACKS_CTRULES;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	CHECK_EQ_INT(st.expected, 32);
	snprintf(p, sizeof p, "%s/inventory.json", dir);
	snprintf(q, sizeof q, "%s/inventory.json", d2);
	buf = read_all(p, &n);
	b2 = read_all(q, &n2);
	CHECK(buf && b2 && n == n2 && !memcmp(buf, b2, n));
	free(buf);
	free(b2);
	CHECK_EQ_INT(find_files(dir, ".log.gz"), find_files(d2, ".log.gz"));
	rm_rf(dir);
	rm_rf(d2);
}

/* ---- flow records look like a real network's ---- */

static struct {
	long recs, bad_mtu, web_small, web, probes, big_probe, flood_min, flood;
} g_fr;

/* Field i (0-based) of a space-separated line into out. */
static void field(const char *line, int i, char *out, size_t cap)
{
	const char *p = line, *e;
	while (i-- > 0 && (p = strchr(p, ' ')) != NULL)
		p++;
	if (!p) {
		out[0] = '\0';
		return;
	}
	e = p + strcspn(p, " \n");
	snprintf(out, cap, "%.*s", (int)(e - p), p);
}

static void flow_line(const char *l)
{
	char src[32], dst[32], dp[16], proto[8], pk[32], by[32], act[16];
	int v5 = l[0] == '5';
	double pkts, bytes;

	field(l, v5 ? 7 : 3, src, sizeof src);
	field(l, v5 ? 8 : 4, dst, sizeof dst);
	field(l, v5 ? 10 : 6, dp, sizeof dp);
	field(l, v5 ? 13 : 7, proto, sizeof proto);
	field(l, v5 ? 15 : 8, pk, sizeof pk);
	field(l, v5 ? 14 : 9, by, sizeof by);
	field(l, v5 ? 18 : 12, act, sizeof act);
	if (!strcmp(pk, "-") || !pk[0])
		return;	/* NODATA / SKIPDATA */
	g_fr.recs++;
	pkts = atof(pk);
	bytes = atof(by);
	/* no packet is above the 1500-byte MTU nor below a bare IP+TCP/UDP header */
	if (pkts < 1 || bytes / pkts > 1500.5 || bytes / pkts < 28)
		g_fr.bad_mtu++;
	/* web clients' requests are whole TCP sessions: 6+ packets */
	if (!strncmp(src, "24.56.", 6) && !strcmp(proto, "6") && !strcmp(act, "ACCEPT")) {
		g_fr.web++;
		if (pkts < 6)
			g_fr.web_small++;
	}
	/* port probes: 1-3 packets */
	if ((!strcmp(dp, "9200") || !strcmp(dp, "3306") || !strcmp(dp, "8088")) && strncmp(src, "10.", 3)) {
		g_fr.probes++;
		if (pkts > 3)
			g_fr.big_probe++;
	}
	/* floods: every one-minute record of a flood flow >= 10k packets */
	if (!strcmp(dst, "51.89.14.120") || !strcmp(dst, "144.76.40.8") || !strcmp(dst, "5.9.120.77") ||
	    !strcmp(dst, "88.99.60.2") || !strcmp(dst, "185.60.216.35")) {
		g_fr.flood++;
		if (pkts < 10000)
			g_fr.flood_min++;
	}
}

static int flow_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	size_t n;
	char *buf, *p, *nl;
	if (flag != FTW_F || !strstr(path, "_vpcflowlogs_"))
		return 0;
	buf = read_all(path, &n);
	if (!buf)
		return 1;
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (p[0] == '2' || p[0] == '5')
			flow_line(p);
	}
	free(buf);
	return 0;
}

MM_TEST(sim_flow_counts_realistic)
{
	char dir[64];
	tmpdir(dir, sizeof dir);
	CHECK_EQ_INT(gen(dir, 8, 1, 0), 0);
	memset(&g_fr, 0, sizeof g_fr);
	CHECK_EQ_INT(nftw(dir, flow_cb, 16, FTW_PHYS), 0);
	CHECK(g_fr.recs > 50000);
	CHECK_EQ_INT((int)g_fr.bad_mtu, 0);
	CHECK(g_fr.web > 1000);
	CHECK_EQ_INT((int)g_fr.web_small, 0);
	CHECK_EQ_INT((int)g_fr.probes, 16);	/* 6 + 5 + 5 probers */
	CHECK_EQ_INT((int)g_fr.big_probe, 0);
	CHECK(g_fr.flood >= 5 * 5 * 2);
	CHECK_EQ_INT((int)g_fr.flood_min, 0);
	rm_rf(dir);
}

/* --attacks iam: nothing before the baseline exists (fewer than 9 days);
 * with 10 days, the day-9 attacks as truth entries on the right
 * principals (keys; the principal id for a sign-in and a sequence), the
 * four look-alikes, and the attack's records in the day's logs. */
MM_TEST(sim_iam)
{
	char dir[64], p[1200];
	struct mm_sim_opts o;
	struct mm_sim_stats st;
	struct mm_err err;
	size_t n, i;
	char *buf;
	static const char *const types[] = {
		"Discovery:IAMUser/AnomalousBehavior\",\"resourceType\":\"AccessKey\",\"resource\":\"AKIA",
		"CredentialAccess:IAMUser/AnomalousBehavior\",\"resourceType\":\"AccessKey\",\"resource\":\"AKIA",
		"DefenseEvasion:IAMUser/AnomalousBehavior\",\"resourceType\":\"AccessKey\",\"resource\":\"AKIA",
		"Persistence:IAMUser/AnomalousBehavior\",\"resourceType\":\"AccessKey\",\"resource\":\"AKIA",
		"PrivilegeEscalation:IAMUser/AnomalousBehavior\",\"resourceType\":\"AccessKey\",\"resource\":\"AKIA",
		"Stealth:IAMUser/CloudTrailLoggingDisabled\",\"resourceType\":\"AccessKey\",\"resource\":\"AKIA",
		"AttackSequence:IAM/CompromisedCredentials\",\"resourceType\":\"AccessKey\",\"resource\":\"AIDA",
		"UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B\",\"resourceType\":\"AccessKey\",\"resource\":\"AIDA",
		"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS\",\"resourceType\":\"AccessKey\",\"resource\":\"ASIA"};
	static const char *const lookalikes[] = {"ivan-admin: ", "ci-terraform: ", "kate-sales: ",
						 "sec-audit: "};

	tmpdir(dir, sizeof dir);
	mm_sim_opts_init(&o);
	o.out_dir = dir;
	o.days = 8;
	o.attacks = MM_SIM_ATTACKS_IAM;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	CHECK_EQ_INT(st.expected, 0);
	rm_rf(dir);

	tmpdir(dir, sizeof dir);
	o.out_dir = dir;
	o.days = 10;
	CHECK_EQ_INT(mm_sim_generate(&o, &st, &err), 0);
	CHECK_EQ_INT(st.expected, 9);
	snprintf(p, sizeof p, "%s/truth.json", dir);
	buf = read_all(p, &n);
	CHECK(buf && strstr(buf, "\"attacks\":\"iam\""));
	for (i = 0; buf && i < MM_ARRAY_LEN(types); i++) {
		char want[200];
		snprintf(want, sizeof want, "{\"type\":\"%s", types[i]);
		if (!strstr(buf, want))
			printf("  missing %s\n", types[i]);
		CHECK(strstr(buf, want) != NULL);
	}
	for (i = 0; buf && i < MM_ARRAY_LEN(lookalikes); i++)
		CHECK(strstr(buf, lookalikes[i]) != NULL);
	/* day 9 is 2024-03-12: the burst at 03:01, the sign-in at 10:20 */
	CHECK(buf && strstr(buf, "\"firstSeen\":\"2024-03-12T03:01:00Z\""));
	CHECK(buf && strstr(buf, "\"firstSeen\":\"2024-03-12T10:20:00Z\""));
	free(buf);
	CHECK_EQ_INT(find_files(dir, "/CloudTrail/us-east-1/2024/03/12/123456789012_CloudTrail_us-east-1_20240312T0355Z_"), 1);
	rm_rf(dir);
}
