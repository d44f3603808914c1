/* test_apiquery.c - the GuardDuty API's queries on the store's indexes
 * (src/serve/api.c, src/store/sqlite.c schema 3): ListFindings and
 * GetFindingsStatistics with the criteria pushed down to SQL answer
 * exactly what the full scan (every finding through the JSON matcher)
 * answers, for random criteria, sorts and page sizes over a few hundred
 * findings; keyset pages stay stable when findings are added; groupBy
 * shapes; clientToken idempotency of CreateFilter / CreateIPSet across
 * a reopen; a schema 2 file is upgraded in place. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "finding/finding.h"
#include "finding/output.h"
#include "mmtest.h"
#include "serve/api.h"
#include "serve/sample.h"
#include "serve/sdb.h"
#include "store/store.h"

#define NFIND 400
#define T0 1764000000000LL	/* 2025-11-24 */

static char dir[512], db[600];
static struct mm_sdb *sdb;
static struct mm_gdapi *api;
static unsigned long long rng = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int allow(void *ctx, const struct mm_http_req *rq, char *type, size_t tcap, char *msg,
		 size_t mcap)
{
	return 0;
}

static const char *const ACCTS[] = {"123456789012", "012345678901", "000000000042", "anonymous"};
static const char *const REGIONS[] = {"us-east-1", "eu-west-1", "ap-northeast-1"};
static const double SEVS[] = {2, 5, 5.5, 8, 8.9};

static void open_api(void)
{
	struct mm_api_opts o;
	struct mm_err err;
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_sdb_open(&sdb, db, &err), 0);
	memset(&o, 0, sizeof(o));
	o.db_path = db;
	o.sdb = sdb;
	o.auth = allow;
	CHECK_EQ_INT(mm_api_open(&api, &o, &err), 0);
}

static void close_api(void)
{
	mm_api_close(api);
	mm_sdb_close(sdb);
	api = NULL;
	sdb = NULL;
}

/* One finding of a random type, account, region, severity and times. */
static void put_random(struct mm_store *st, int i, struct mm_finding *f, struct mm_buf *js)
{
	const struct mm_ftype *all = mm_ftype_all();
	int nt = 0;
	struct mm_err err;
	while (all[nt].type)
		nt++;
	mm_sample_finding(&all[rnd((unsigned)nt)], T0, f);
	snprintf(f->account, sizeof(f->account), "%s", ACCTS[rnd(4)]);
	snprintf(f->region, sizeof(f->region), "%s", REGIONS[rnd(3)]);
	f->severity = SEVS[rnd(5)];
	if (f->instance_id[0])
		snprintf(f->instance_id, sizeof(f->instance_id), "i-%08x", rnd(20));
	if (f->access_key_id[0])
		snprintf(f->access_key_id, sizeof(f->access_key_id), "AKIAEXAMPLE%05u", rnd(10));
	f->created_at_ms = T0 + (int64_t)rnd(86400 * 5) * 1000 + rnd(1000);
	f->updated_at_ms = f->created_at_ms + (int64_t)rnd(86400) * 1000;
	f->first_seen_ms = f->created_at_ms;
	f->last_seen_ms = T0 + (int64_t)rnd(50) * 1000;	/* many ties */
	f->archived = rnd(4) == 0;
	snprintf(f->id, sizeof(f->id), "%08x%024x", (unsigned)i, rnd(1000));
	mm_buf_reset(js);
	CHECK_EQ_INT(mm_finding_to_json(f, NULL, js), 0);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_finding_put(st, f, js->p, &err), 0);
}

static void fill(int n, int from)
{
	struct mm_store *st = NULL;
	struct mm_finding *f = mm_calloc(1, sizeof(*f));
	struct mm_buf js;
	struct mm_err err;
	int i;
	mm_err_clear(&err);
	mm_buf_init(&js, 1 << 20);
	CHECK_EQ_INT(mm_store_open(&st, db, &err), 0);
	mm_store_begin(st, &err);
	for (i = 0; i < n; i++)
		put_random(st, from + i, f, &js);
	mm_store_commit(st, &err);
	mm_store_close(st);
	mm_buf_free(&js);
	mm_free(f);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/mm-apiq-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/q.db", dir);
	fill(NFIND, 0);
	open_api();
}

static void teardown(void)
{
	char cmd[700];
	close_api();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

/* POST path with body; the answer's body into out (status returned). */
static int call(const char *method, const char *path, const char *body, struct mm_buf *out)
{
	struct mm_http_req rq;
	struct mm_http_resp rs;
	int st;
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.method = method;
	rq.path = path;
	rq.body = body;
	rq.body_len = strlen(body);
	rs.status = 200;
	mm_buf_init(&rs.body, 64 << 20);
	mm_api_route(api, &rq, &rs);
	mm_buf_reset(out);
	mm_buf_add(out, rs.body.p ? rs.body.p : "", rs.body.len);
	st = rs.status;
	mm_buf_free(&rs.body);
	return st;
}

static char path_findings[128], path_stats[128], path_filter[128], path_ipset[128];

static void paths(void)
{
	const char *d = mm_sdb_detector_id(sdb);
	snprintf(path_findings, sizeof(path_findings), "/detector/%s/findings", d);
	snprintf(path_stats, sizeof(path_stats), "/detector/%s/findings/statistics", d);
	snprintf(path_filter, sizeof(path_filter), "/detector/%s/filter", d);
	snprintf(path_ipset, sizeof(path_ipset), "/detector/%s/ipset", d);
}

/* Every page of a ListFindings, ids joined with ',' into all; the number
 * of pages, or -1 on an error answer. */
static int list_all(const char *crit, const char *sort, int max, struct mm_buf *all)
{
	struct mm_buf body, out;
	char token[256] = "";
	int pages = 0;
	mm_buf_init(&body, 1 << 20);
	mm_buf_init(&out, 64 << 20);
	mm_buf_reset(all);
	for (;;) {
		struct mm_json_val root, ids, tok, e;
		struct mm_json_iter it;
		size_t used;
		mm_buf_reset(&body);
		mm_buf_printf(&body, "{\"findingCriteria\":%s,\"maxResults\":%d%s%s", crit, max,
			      sort[0] ? ",\"sortCriteria\":" : "", sort);
		if (token[0])
			mm_buf_printf(&body, ",\"nextToken\":\"%s\"", token);
		mm_buf_addc(&body, '}');
		if (call("POST", path_findings, body.p, &out) != 200) {
			fprintf(stderr, "list: %s -> %.*s\n", body.p, (int)out.len, out.p);
			pages = -1;
			break;
		}
		pages++;
		CHECK_EQ_INT(mm_json_value(out.p, out.len, &root, &used), 0);
		CHECK_EQ_INT(mm_json_get(&root, "findingIds", &ids), 1);
		mm_json_iter_init(&it, &ids);
		while (mm_json_iter_next(&it, NULL, &e) == 1) {
			mm_buf_add(all, e.p, e.n);
			mm_buf_addc(all, ',');
		}
		if (mm_json_get(&root, "nextToken", &tok) != 1)
			break;
		CHECK(tok.n - 2 < sizeof(token));
		memcpy(token, tok.p + 1, tok.n - 2);
		token[tok.n - 2] = '\0';
		if (pages > NFIND + 5) {
			pages = -1;
			break;
		}
	}
	mm_buf_free(&body);
	mm_buf_free(&out);
	return pages;
}

/* A random findingCriteria over the pushed-down fields (and one that is
 * not), with values taken from the data and numeric spellings. */
static void random_criteria(struct mm_buf *b)
{
	static const char *const ops_list[] = {"eq", "neq", "equals", "notEquals", "matches"};
	static const char *const ops_num[] = {"gt", "gte", "lt", "lte", "greaterThan",
					      "lessThanOrEqual"};
	int n = 1 + (int)rnd(3), i;
	mm_buf_addz(b, "{\"criterion\":{");
	for (i = 0; i < n; i++) {
		int field = (int)rnd(10);
		if (i)
			mm_buf_addc(b, ',');
		switch (field) {
		case 0: {
			const struct mm_ftype *all = mm_ftype_all();
			mm_buf_printf(b, "\"type\":{\"%s\":[\"%s\",\"%s\"]}", ops_list[rnd(4)],
				      all[rnd(20)].type, all[rnd(3)].type);
			break;
		}
		case 1:
			if (rnd(2))
				mm_buf_printf(b, "\"severity\":{\"%s\":%u}", ops_num[rnd(6)], 2 + rnd(7));
			else
				mm_buf_printf(b, "\"severity\":{\"%s\":[\"%s\",\"8.0\",\"x\"]}",
					      ops_list[rnd(4)], rnd(2) ? "5.5" : "2");
			break;
		case 2:
		case 3:
			mm_buf_printf(b, "\"%s\":{\"%s\":%lld}", field == 2 ? "updatedAt" : "createdAt",
				      ops_num[rnd(6)], T0 + (long long)rnd(86400 * 6) * 1000 + rnd(1000));
			break;
		case 4:
			mm_buf_printf(b, "\"service.archived\":{\"%s\":[\"%s\"]}", ops_list[rnd(4)],
				      rnd(3) ? (rnd(2) ? "true" : "false") : "1");
			break;
		case 5: {
			/* 12345678901 equals 012345678901 as a number; 42 equals 000000000042 */
			static const char *const acct[] = {"123456789012", "12345678901", "42",
							   "anonymous", "012345678901", "42.0"};
			mm_buf_printf(b, "\"accountId\":{\"%s\":[\"%s\"]}", ops_list[rnd(4)], acct[rnd(6)]);
			break;
		}
		case 6:
			mm_buf_printf(b, "\"region\":{\"%s\":[\"%s\"]}", ops_list[rnd(5)],
				      rnd(4) ? REGIONS[rnd(3)] : "us-*");
			break;
		case 7:
			mm_buf_printf(b, "\"resource.instanceDetails.instanceId\":{\"%s\":[\"i-%08x\","
				      "\"i-%08x\"]}", ops_list[rnd(4)], rnd(20), rnd(20));
			break;
		case 8:
			mm_buf_printf(b, "\"resource.accessKeyDetails.accessKeyId\":{\"%s\":"
				      "[\"AKIAEXAMPLE%05u\"]}", ops_list[rnd(4)], rnd(10));
			break;
		default:	/* not indexed: the matcher alone */
			mm_buf_printf(b, "\"resource.resourceType\":{\"%s\":[\"Instance\"]}",
				      ops_list[rnd(4)]);
			break;
		}
	}
	mm_buf_addz(b, "}}");
}

MM_TEST(pushdown_equals_full_scan)
{
	static const char *const sorts[] = {"", "{\"attributeName\":\"severity\",\"orderBy\":\"DESC\"}",
		"{\"attributeName\":\"severity\",\"orderBy\":\"ASC\"}",
		"{\"attributeName\":\"updatedAt\",\"orderBy\":\"DESC\"}",
		"{\"attributeName\":\"createdAt\",\"orderBy\":\"ASC\"}",
		"{\"attributeName\":\"type\",\"orderBy\":\"ASC\"}",
		"{\"attributeName\":\"accountId\",\"orderBy\":\"DESC\"}"};
	static const char *const groups[] = {"", "ACCOUNT", "DATE", "FINDING_TYPE", "RESOURCE",
					     "SEVERITY"};
	struct mm_buf crit, fast, slow, body;
	int round, nonempty = 0, p1, p2;

	setup();
	paths();
	mm_buf_init(&crit, 1 << 20);
	mm_buf_init(&fast, 64 << 20);
	mm_buf_init(&slow, 64 << 20);
	mm_buf_init(&body, 1 << 20);
	for (round = 0; round < 300; round++) {
		const char *sort = sorts[rnd(7)];
		int max = rnd(3) ? 1 + (int)rnd(50) : 50;
		mm_buf_reset(&crit);
		if (round == 0)
			mm_buf_addz(&crit, "{}");
		else
			random_criteria(&crit);
		mm_api_set_pushdown(api, 1);
		p1 = list_all(crit.p, sort, max, &fast);
		mm_api_set_pushdown(api, 0);
		p2 = list_all(crit.p, sort, max, &slow);
		CHECK(p1 > 0 && p2 > 0);
		if (fast.len != slow.len || memcmp(fast.p, slow.p, fast.len))
			fprintf(stderr, "differ: %s sort %s\n fast %.*s\n slow %.*s\n", crit.p, sort,
				(int)fast.len, fast.p, (int)slow.len, slow.p);
		CHECK_EQ_INT(fast.len, slow.len);
		CHECK(!memcmp(fast.p ? fast.p : "", slow.p ? slow.p : "", fast.len));
		nonempty += fast.len > 0;
		/* statistics: countBySeverity or a random groupBy */
		{
			const char *g = groups[rnd(6)];
			mm_buf_reset(&body);
			if (g[0])
				mm_buf_printf(&body, "{\"findingCriteria\":%s,\"groupBy\":\"%s\","
					      "\"orderBy\":\"%s\",\"maxResults\":%u}", crit.p, g,
					      rnd(2) ? "ASC" : "DESC", 1 + rnd(100));
			else
				mm_buf_printf(&body, "{\"findingCriteria\":%s,\"findingStatisticTypes\":"
					      "[\"COUNT_BY_SEVERITY\"]}", crit.p);
			mm_api_set_pushdown(api, 1);
			CHECK_EQ_INT(call("POST", path_stats, body.p, &fast), 200);
			mm_api_set_pushdown(api, 0);
			CHECK_EQ_INT(call("POST", path_stats, body.p, &slow), 200);
			if (fast.len != slow.len || memcmp(fast.p, slow.p, fast.len))
				fprintf(stderr, "stats differ: %s\n fast %.*s\n slow %.*s\n", body.p,
					(int)fast.len, fast.p, (int)slow.len, slow.p);
			CHECK_EQ_INT(fast.len, slow.len);
			CHECK(!memcmp(fast.p, slow.p, fast.len));
		}
	}
	CHECK(nonempty > 100);	/* the criteria select something most of the time */
	mm_buf_free(&crit);
	mm_buf_free(&fast);
	mm_buf_free(&slow);
	mm_buf_free(&body);
	teardown();
}

/* Keyset pages: a page taken after more findings were stored continues
 * where the previous one stopped (no id twice). */
MM_TEST(keyset_pages_stable_under_inserts)
{
	struct mm_buf out, body, seen;
	struct mm_json_val root, ids, tok, e;
	struct mm_json_iter it;
	char token[256];
	size_t used;
	int pages = 0, n = 0;

	setup();
	paths();
	mm_buf_init(&out, 16 << 20);
	mm_buf_init(&body, 1 << 16);
	mm_buf_init(&seen, 16 << 20);
	CHECK_EQ_INT(call("POST", path_findings,
			  "{\"maxResults\":50,\"sortCriteria\":{\"attributeName\":\"severity\","
			  "\"orderBy\":\"DESC\"}}", &out), 200);
	for (;;) {
		CHECK_EQ_INT(mm_json_value(out.p, out.len, &root, &used), 0);
		CHECK_EQ_INT(mm_json_get(&root, "findingIds", &ids), 1);
		mm_json_iter_init(&it, &ids);
		while (mm_json_iter_next(&it, NULL, &e) == 1) {
			char id[80];
			snprintf(id, sizeof(id), ",%.*s,", (int)e.n, e.p);
			CHECK(seen.p == NULL || strstr(seen.p, id) == NULL);
			mm_buf_addz(&seen, id + 1);
			mm_buf_reset(&body);
			n++;
		}
		if (mm_json_get(&root, "nextToken", &tok) != 1)
			break;
		memcpy(token, tok.p + 1, tok.n - 2);
		token[tok.n - 2] = '\0';
		CHECK_EQ_INT(token[0], 'k');
		if (++pages == 2) {	/* new findings arrive between pages */
			close_api();
			fill(30, 100000);
			open_api();
			paths();
		}
		mm_buf_reset(&body);
		mm_buf_printf(&body, "{\"maxResults\":50,\"sortCriteria\":{\"attributeName\":"
			      "\"severity\",\"orderBy\":\"DESC\"},\"nextToken\":\"%s\"}", token);
		CHECK_EQ_INT(call("POST", path_findings, body.p, &out), 200);
	}
	CHECK(n >= NFIND);
	CHECK_EQ_INT(call("POST", path_findings, "{\"nextToken\":\"k0:zz'--:1\"}", &out), 400);
	CHECK_EQ_INT(call("POST", path_findings, "{\"nextToken\":\"k9:abc:1\"}", &out), 400);
	mm_buf_free(&out);
	mm_buf_free(&body);
	mm_buf_free(&seen);
	teardown();
}

MM_TEST(statistics_group_by_shapes)
{
	struct mm_buf out;
	struct mm_json_val root, fs, arr, e, v;
	struct mm_json_iter it;
	size_t used;
	long long total = 0;
	int n = 0;

	setup();
	paths();
	mm_buf_init(&out, 16 << 20);
	CHECK_EQ_INT(call("POST", path_stats, "{\"groupBy\":\"FINDING_TYPE\",\"maxResults\":100}",
			  &out), 200);
	CHECK_EQ_INT(mm_json_value(out.p, out.len, &root, &used), 0);
	CHECK_EQ_INT(mm_json_path(&root, "findingStatistics.groupedByFindingType", &arr), 1);
	mm_json_iter_init(&it, &arr);
	while (mm_json_iter_next(&it, NULL, &e) == 1) {
		int64_t c;
		CHECK_EQ_INT(mm_json_get(&e, "findingType", &v), 1);
		CHECK_EQ_INT(mm_json_get(&e, "lastGeneratedAt", &v), 1);
		CHECK_EQ_INT(v.type, MM_JSON_NUMBER);
		CHECK_EQ_INT(mm_json_get(&e, "totalFindings", &v), 1);
		CHECK_EQ_INT(mm_json_int(&v, &c), 0);
		total += c;
		n++;
	}
	CHECK(n > 1);
	CHECK(total <= NFIND);
	(void)fs;
	/* severity: the counts add up to every finding */
	CHECK_EQ_INT(call("POST", path_stats, "{\"groupBy\":\"SEVERITY\",\"orderBy\":\"ASC\"}", &out),
		     200);
	CHECK(strstr(out.p, "\"groupedBySeverity\":[{\"severity\":") != NULL);
	CHECK_EQ_INT(call("POST", path_stats, "{\"groupBy\":\"RESOURCE\",\"maxResults\":3}", &out),
		     200);
	CHECK(strstr(out.p, "\"resourceType\":") && strstr(out.p, "\"resourceId\":"));
	CHECK_EQ_INT(call("POST", path_stats, "{\"groupBy\":\"DATE\"}", &out), 200);
	CHECK(strstr(out.p, "\"date\":17640") != NULL);
	CHECK_EQ_INT(call("POST", path_stats, "{\"groupBy\":\"ACCOUNT\"}", &out), 200);
	CHECK(strstr(out.p, "\"accountId\":\"012345678901\"") != NULL);
	CHECK_EQ_INT(call("POST", path_stats, "{}", &out), 200);
	CHECK(strstr(out.p, "\"countBySeverity\":{\"") != NULL);
	CHECK_EQ_INT(call("POST", path_stats, "{\"groupBy\":\"COLOUR\"}", &out), 400);
	CHECK_EQ_INT(call("POST", path_stats, "{\"groupBy\":\"DATE\",\"maxResults\":101}", &out),
		     400);
	CHECK_EQ_INT(call("POST", path_stats, "{\"groupBy\":\"DATE\",\"findingStatisticTypes\":"
			  "[\"COUNT_BY_SEVERITY\"]}", &out), 400);
	CHECK_EQ_INT(call("POST", path_stats, "{\"orderBy\":\"ASC\"}", &out), 400);
	mm_buf_free(&out);
	teardown();
}

/* Count filters by listing them. */
static int count_member(const char *path, const char *member)
{
	struct mm_buf out;
	struct mm_json_val root, arr, e;
	struct mm_json_iter it;
	size_t used;
	int n = 0;
	mm_buf_init(&out, 1 << 20);
	CHECK_EQ_INT(call("GET", path, "", &out), 200);
	CHECK_EQ_INT(mm_json_value(out.p, out.len, &root, &used), 0);
	CHECK_EQ_INT(mm_json_get(&root, member, &arr), 1);
	mm_json_iter_init(&it, &arr);
	while (mm_json_iter_next(&it, NULL, &e) == 1)
		n++;
	mm_buf_free(&out);
	return n;
}

MM_TEST(client_token_idempotent_and_persisted)
{
	struct mm_buf a, b;
	char list[700], body[1024];
	FILE *f;

	setup();
	paths();
	mm_buf_init(&a, 1 << 20);
	mm_buf_init(&b, 1 << 20);
	/* CreateFilter: the same token and request answers the same, once */
	CHECK_EQ_INT(call("POST", path_filter, "{\"name\":\"quiet\",\"action\":\"ARCHIVE\","
			  "\"findingCriteria\":{\"criterion\":{\"severity\":{\"lt\":4}}},"
			  "\"clientToken\":\"tok-1\"}", &a), 200);
	CHECK_EQ_INT(call("POST", path_filter, "{\"name\":\"quiet\",\"action\":\"ARCHIVE\","
			  "\"findingCriteria\":{\"criterion\":{\"severity\":{\"lt\":4}}},"
			  "\"clientToken\":\"tok-1\"}", &b), 200);
	CHECK_EQ_INT(a.len, b.len);
	CHECK(!memcmp(a.p, b.p, a.len));
	CHECK_EQ_INT(count_member(path_filter, "filterNames"), 1);
	/* the same token with another request: refused, nothing made */
	CHECK_EQ_INT(call("POST", path_filter, "{\"name\":\"other\",\"action\":\"NOOP\","
			  "\"findingCriteria\":{\"criterion\":{}},\"clientToken\":\"tok-1\"}", &b),
		     400);
	CHECK(strstr(b.p, "clientToken") != NULL);
	CHECK_EQ_INT(count_member(path_filter, "filterNames"), 1);
	/* without a token a repeat is the old error (name taken) */
	CHECK_EQ_INT(call("POST", path_filter, "{\"name\":\"quiet\",\"action\":\"ARCHIVE\","
			  "\"findingCriteria\":{\"criterion\":{}}}", &b), 400);
	/* CreateIPSet: one set for two calls; the id survives a restart */
	snprintf(list, sizeof(list), "%s/trusted.txt", dir);
	CHECK((f = fopen(list, "w")) != NULL);
	fputs("10.0.0.0/8\n", f);
	fclose(f);
	snprintf(body, sizeof(body), "{\"name\":\"office\",\"format\":\"TXT\",\"location\":\"%s\","
		 "\"activate\":true,\"clientToken\":\"ip-7\"}", list);
	CHECK_EQ_INT(call("POST", path_ipset, body, &a), 200);
	close_api();
	open_api();
	CHECK_EQ_INT(call("POST", path_ipset, body, &b), 200);
	CHECK_EQ_INT(a.len, b.len);
	CHECK(!memcmp(a.p, b.p, a.len));
	CHECK_EQ_INT(count_member(path_ipset, "ipSetIds"), 1);
	/* tokens are per operation: the same token on CreateFilter is new */
	CHECK_EQ_INT(call("POST", path_filter, "{\"name\":\"third\",\"action\":\"NOOP\","
			  "\"findingCriteria\":{\"criterion\":{}},\"clientToken\":\"ip-7\"}", &b),
		     200);
	CHECK_EQ_INT(call("POST", path_filter, "{\"name\":\"fourth\",\"findingCriteria\":{},"
			  "\"clientToken\":\"0123456789012345678901234567890123456789012345678901"
			  "234567890123456789\"}", &b), 400);
	mm_buf_free(&a);
	mm_buf_free(&b);
	teardown();
}

/* A schema 2 file (findings, no j_ columns) is upgraded on open and its
 * findings are found through the new indexes. */
MM_TEST(schema3_upgrades_in_place)
{
	struct mm_store *st = NULL;
	struct mm_err err;
	struct mm_buf out;
	sqlite3 *h;

	setup();
	close_api();
	CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(h, "DROP INDEX findings_j_severity; DROP INDEX findings_j_updated;"
				  "DROP INDEX findings_j_created; DROP INDEX findings_j_account;"
				  "DROP INDEX findings_j_region; DROP INDEX findings_j_instance;"
				  "DROP INDEX findings_j_akid; ALTER TABLE findings DROP COLUMN j_severity;"
				  "ALTER TABLE findings DROP COLUMN j_updated;"
				  "ALTER TABLE findings DROP COLUMN j_created;"
				  "ALTER TABLE findings DROP COLUMN j_account;"
				  "ALTER TABLE findings DROP COLUMN j_region;"
				  "ALTER TABLE findings DROP COLUMN j_instance;"
				  "ALTER TABLE findings DROP COLUMN j_akid; PRAGMA user_version=2;",
				  NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_open(&st, db, &err), 0);
	CHECK_EQ_INT(mm_store_schema(st), 4);
	mm_store_close(st);
	open_api();
	paths();
	mm_buf_init(&out, 1 << 20);
	CHECK_EQ_INT(call("POST", path_findings, "{\"findingCriteria\":{\"criterion\":{\"accountId\":"
			  "{\"eq\":[\"012345678901\"]}}}}", &out), 200);
	CHECK(strstr(out.p, "\"findingIds\":[\"") != NULL);
	mm_buf_free(&out);
	teardown();
}
