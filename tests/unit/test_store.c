/* test_store.c - the SQLite findings store (src/store/sqlite.c) and the
 * `mamori findings` command that reads it (src/cli/findings.c, util.c).
 *
 * Every test works in its own mkdtemp directory under /tmp and removes
 * it, so tests are independent (each also runs in its own process). */
#include <dirent.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/mtime.h"
#include "finding/finding.h"
#include "finding/output.h"
#include "mmtest.h"
#include "store/store.h"

struct tmp {
	char dir[64];
	char db[128];
};

static void tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/mm_store_XXXXXX");
	if (!mkdtemp(t->dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(t->db, sizeof(t->db), "%s/mamori.db", t->dir);
}

static void tmp_clean(struct tmp *t)
{
	DIR *d = opendir(t->dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", t->dir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	rmdir(t->dir);
}

static struct mm_store *open_ok(struct tmp *t)
{
	struct mm_store *st = NULL;
	struct mm_err err;
	int rc = mm_store_open(&st, t->db, &err);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		fprintf(stderr, "  open: %s\n", err.msg);
	return st;
}

/* A network finding on instance iid with a given type and times. */
static void mkfinding(struct mm_finding *f, const char *type, const char *iid, double sev,
		      int64_t first, int64_t last)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->type, sizeof(f->type), "%s", type);
	snprintf(f->account, sizeof(f->account), "123456789012");
	snprintf(f->region, sizeof(f->region), "us-east-1");
	snprintf(f->instance_id, sizeof(f->instance_id), "%s", iid);
	snprintf(f->indicator, sizeof(f->indicator), "198.51.100.7");
	f->severity = sev;
	f->res_type = MM_RES_INSTANCE;
	f->action = MM_ACTION_NETWORK_CONNECTION;
	f->count = 1;
	f->first_seen_ms = first;
	f->last_seen_ms = last;
	f->created_at_ms = 1700000000000;
	f->updated_at_ms = 1700000000000;
	mm_finding_make_id(f);
}

/* Store f with its real GuardDuty JSON (the evidence sample lives in
 * its service.additionalInfo.evidence). */
static int put(struct mm_store *st, const struct mm_finding *f)
{
	struct mm_err err;
	struct mm_buf b;
	int rc;
	mm_buf_init(&b, 1 << 20);
	rc = mm_finding_to_json(f, NULL, &b);
	if (!rc)
		rc = mm_store_finding_put(st, f, b.p, &err);
	if (rc)
		fprintf(stderr, "  put: %s\n", err.msg);
	mm_buf_free(&b);
	return rc;
}

/* Collects listed ids in order. */
struct ids {
	int n;
	char id[16][33];
	char json[16][64];
	int stop_at;
};

static int ids_cb(void *ctx, const struct mm_finding_row *row)
{
	struct ids *x = ctx;
	if (x->n < 16) {
		snprintf(x->id[x->n], sizeof(x->id[0]), "%s", row->id);
		snprintf(x->json[x->n], sizeof(x->json[0]), "%s", row->json);
	}
	x->n++;
	if (x->stop_at && x->n == x->stop_at)
		return 7;
	return 0;
}

static int list(struct mm_store *st, const struct mm_finding_filter *flt, struct ids *x)
{
	struct mm_err err;
	int rc;
	memset(x, 0, sizeof(*x));
	rc = mm_store_findings(st, flt, ids_cb, x, &err);
	if (rc)
		fprintf(stderr, "  list: %s\n", err.msg);
	return rc;
}

MM_TEST(store_open_creates_schema_wal)
{
	struct tmp t;
	struct mm_store *st;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct stat sb;

	tmp_make(&t);
	st = open_ok(&t);
	CHECK(st != NULL);
	CHECK_EQ_INT(stat(t.db, &sb), 0);
	/* reopen an existing store */
	mm_store_close(st);
	st = open_ok(&t);
	CHECK(st != NULL);

	CHECK_EQ_INT(sqlite3_open(t.db, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(s), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(s, 0), 4);
	CHECK_EQ_INT(mm_store_schema(st), 4);
	sqlite3_finalize(s);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &s, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(s), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(s, 0), 16384);
	sqlite3_finalize(s);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(s), SQLITE_ROW);
	CHECK_EQ_STR((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	/* the four tables and the seven findings indexes exist */
	CHECK_EQ_INT(sqlite3_prepare_v2(db,
					"SELECT count(*) FROM sqlite_master WHERE (type='table' AND name IN"
					" ('findings','files','inventory','detector_state')) OR"
					" (type='index' AND name LIKE 'findings_%')",
					-1, &s, NULL),
		     SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(s), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(s, 0), 18);
	sqlite3_finalize(s);
	sqlite3_close(db);
	mm_store_close(st);
	tmp_clean(&t);
}

MM_TEST(store_open_errors)
{
	struct mm_store *st = (struct mm_store *)1;
	struct mm_err err;
	struct tmp t;
	sqlite3 *db = NULL;
	char path[256];

	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_open(&st, "/tmp/mm-no-such-dir-h5/sub/x.db", &err), MM_EIO);
	CHECK(st == NULL);
	CHECK(strstr(err.msg, "does not exist") != NULL);
	CHECK(strstr(err.msg, "/tmp/mm-no-such-dir-h5/sub") != NULL);
	CHECK_EQ_INT(mm_store_open(&st, "", &err), MM_EINVAL);

	/* a file where the directory should be */
	tmp_make(&t);
	snprintf(path, sizeof(path), "%s/mamori.db/inner.db", t.dir);
	{
		FILE *fp = fopen(t.db, "w");
		CHECK(fp != NULL);
		if (fp)
			fclose(fp);
	}
	CHECK_EQ_INT(mm_store_open(&st, path, &err), MM_EIO);
	CHECK(strstr(err.msg, "not a directory") != NULL);
	unlink(t.db);

	/* a database from a newer mamori is refused, not clobbered */
	CHECK_EQ_INT(sqlite3_open(t.db, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ_INT(mm_store_open(&st, t.db, &err), MM_EDB);
	CHECK(strstr(err.msg, "written by a newer mamori (schema 99, this build knows 4)") != NULL);
	CHECK_EQ_INT(mm_store_open_ro(&st, t.db, &err), MM_EDB);
	CHECK(strstr(err.msg, "written by a newer mamori (schema 99, this build knows 4)") != NULL);
	CHECK(st == NULL);
	CHECK_EQ_INT(sqlite3_open(t.db, &db), SQLITE_OK);	/* untouched */
	{
		sqlite3_stmt *s = NULL;
		CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
		CHECK_EQ_INT(sqlite3_step(s), SQLITE_ROW);
		CHECK_EQ_INT(sqlite3_column_int(s, 0), 99);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);

	/* not a database at all */
	unlink(t.db);
	{
		FILE *fp = fopen(t.db, "w");
		CHECK(fp != NULL);
		if (fp) {
			fputs("this is not an SQLite database, just some text long enough to "
			      "fill a header page of one hundred bytes or so........\n",
			      fp);
			fclose(fp);
		}
	}
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_open(&st, t.db, &err), MM_EDB);
	CHECK(strstr(err.msg, t.db) != NULL);
	tmp_clean(&t);
}

MM_TEST(store_file_state_round_trip)
{
	struct tmp t;
	struct mm_store *st;
	struct mm_file_state a = {123456789, 1700000000, 0xfedcba9876543210ULL, 4096, 77, 0}, b;
	struct mm_err err;

	tmp_make(&t);
	st = open_ok(&t);
	memset(&b, 0, sizeof(b));
	CHECK_EQ_INT(mm_store_file_get(st, "/logs/a.log", &b), 0);
	CHECK_EQ_INT(mm_store_file_put(st, "/logs/a.log", &a, &err), 0);
	CHECK_EQ_INT(mm_store_file_get(st, "/logs/a.log", &b), 1);
	CHECK(b.size == a.size);
	CHECK(b.mtime == a.mtime);
	CHECK(b.head_hash == 0xfedcba9876543210ULL);	/* all 64 bits survive */
	CHECK(b.offset == 4096);
	CHECK(b.line == 77);
	CHECK_EQ_INT(b.complete, 0);
	/* update in place */
	a.offset = 8192;
	a.complete = 5;	/* any non-zero is stored as 1 */
	CHECK_EQ_INT(mm_store_file_put(st, "/logs/a.log", &a, &err), 0);
	CHECK_EQ_INT(mm_store_file_get(st, "/logs/a.log", &b), 1);
	CHECK(b.offset == 8192);
	CHECK_EQ_INT(b.complete, 1);
	/* another path is independent; survives reopen */
	CHECK_EQ_INT(mm_store_file_get(st, "/logs/b.log", &b), 0);
	mm_store_close(st);
	st = open_ok(&t);
	CHECK_EQ_INT(mm_store_file_get(st, "/logs/a.log", &b), 1);
	CHECK(b.offset == 8192);
	mm_store_close(st);
	tmp_clean(&t);
}

MM_TEST(store_finding_state_and_merge)
{
	struct tmp t;
	struct mm_store *st;
	struct mm_finding f, g, later;
	const char *odd = "s3/bucket/\"quoted\"\\file\t\xc3\xa9.log";

	tmp_make(&t);
	st = open_ok(&t);
	mkfinding(&f, "CryptoCurrency:EC2/BitcoinTool.B", "i-0abc", 8, 1000, 5000);
	f.count = 3;
	f.archived = 1;
	mm_finding_add_evidence(&f, odd, 12, 3400, 1000);
	mm_finding_add_evidence(&f, "b.log", 2, 100, 5000);
	CHECK_EQ_INT(put(st, &f), 0);

	/* load_state fills exactly the stored state */
	mkfinding(&g, "CryptoCurrency:EC2/BitcoinTool.B", "i-0abc", 8, 9000, 9000);
	CHECK_EQ_STR(g.id, f.id);
	CHECK_EQ_INT(mm_store_finding_load_state(st, &g), 1);
	CHECK_EQ_INT(g.count, 3);
	CHECK_EQ_INT(g.first_seen_ms, 1000);
	CHECK_EQ_INT(g.last_seen_ms, 5000);
	CHECK_EQ_INT(g.created_at_ms, 1700000000000);
	CHECK_EQ_INT(g.archived, 1);
	CHECK_EQ_INT(g.nevidence, 2);
	CHECK_EQ_STR(g.ev[0].file, odd);
	CHECK_EQ_INT(g.ev[0].line, 12);
	CHECK_EQ_INT(g.ev[0].offset, 3400);
	CHECK_EQ_INT(g.ev[0].time_ms, 1000);
	CHECK_EQ_STR(g.ev[1].file, "b.log");

	/* unknown id: 0 and untouched */
	mkfinding(&g, "CryptoCurrency:EC2/BitcoinTool.B", "i-0other", 8, 9000, 9000);
	CHECK_EQ_INT(mm_store_finding_load_state(st, &g), 0);
	CHECK_EQ_INT(g.count, 1);

	/* the scanner's cycle: load stored state, merge new activity, put */
	mkfinding(&later, "CryptoCurrency:EC2/BitcoinTool.B", "i-0abc", 8, 500, 7000);
	later.count = 2;
	mm_finding_add_evidence(&later, "c.log", 1, 0, 500);
	mkfinding(&g, "CryptoCurrency:EC2/BitcoinTool.B", "i-0abc", 8, 0, 0);
	CHECK_EQ_INT(mm_store_finding_load_state(st, &g), 1);
	mm_finding_merge(&g, &later);
	CHECK_EQ_INT(put(st, &g), 0);
	memset(&f, 0, sizeof(f));
	memcpy(f.id, g.id, sizeof(f.id));
	CHECK_EQ_INT(mm_store_finding_load_state(st, &f), 1);
	CHECK_EQ_INT(f.count, 5);
	CHECK_EQ_INT(f.first_seen_ms, 500);
	CHECK_EQ_INT(f.last_seen_ms, 7000);
	CHECK_EQ_INT(f.nevidence, 3);
	CHECK_EQ_STR(f.ev[0].file, "c.log");	/* earliest first */
	CHECK_EQ_STR(f.ev[1].file, odd);

	/* a full evidence sample round-trips at the bound */
	{
		int i;
		char name[32];
		for (i = 0; i < MM_EVIDENCE_MAX + 4; i++) {
			snprintf(name, sizeof(name), "f%02d.log", i);
			mm_finding_add_evidence(&g, name, (uint64_t)i, 0, 10 + i);
		}
		CHECK_EQ_INT(g.nevidence, MM_EVIDENCE_MAX);
		CHECK_EQ_INT(put(st, &g), 0);
		memset(&f, 0, sizeof(f));
		memcpy(f.id, g.id, sizeof(f.id));
		CHECK_EQ_INT(mm_store_finding_load_state(st, &f), 1);
		CHECK_EQ_INT(f.nevidence, MM_EVIDENCE_MAX);
		CHECK_EQ_STR(f.ev[0].file, "f00.log");
	}
	mm_store_close(st);
	tmp_clean(&t);
}

MM_TEST(store_corrupt_evidence_is_no_evidence)
{
	struct tmp t;
	struct mm_store *st;
	struct mm_finding f;
	sqlite3 *db;

	tmp_make(&t);
	st = open_ok(&t);
	mkfinding(&f, "Trojan:EC2/DropPoint", "i-1", 5, 1, 2);
	mm_finding_add_evidence(&f, "a.log", 1, 0, 1);
	CHECK_EQ_INT(put(st, &f), 0);
	CHECK_EQ_INT(sqlite3_open(t.db, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, "UPDATE findings SET evidence='[{\"file\":' ", NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	f.nevidence = 5;
	CHECK_EQ_INT(mm_store_finding_load_state(st, &f), 1);
	CHECK_EQ_INT(f.nevidence, 0);
	mm_store_close(st);
	tmp_clean(&t);
}

/* Five findings for the filter tests (last_seen order: e d c b a). */
static void filter_fixture(struct mm_store *st, struct mm_finding fs[5])
{
	mkfinding(&fs[0], "Recon:EC2/PortProbeUnprotectedPort", "i-aaa", 2, 100, 1000);
	mkfinding(&fs[1], "Recon:IAMUser/MaliciousIPCaller", "i-bbb", 5, 100, 2000);
	fs[1].res_type = MM_RES_ACCESSKEY;
	snprintf(fs[1].access_key_id, sizeof(fs[1].access_key_id), "AKIAEXAMPLE");
	mm_finding_make_id(&fs[1]);
	mkfinding(&fs[2], "CryptoCurrency:EC2/BitcoinTool.B", "i-aaa", 8, 100, 3000);
	mkfinding(&fs[3], "CryptoCurrency:EC2/BitcoinTool.B!DNS", "i-ccc", 8, 100, 4000);
	mkfinding(&fs[4], "Trojan:EC2/DropPoint", "i-ddd", 5, 100, 5000);
	fs[4].archived = 1;
	fs[4].updated_at_ms = 1800000000000;
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(put(st, &fs[i]), 0);
}

MM_TEST(store_filters)
{
	struct tmp t;
	struct mm_store *st;
	struct mm_finding fs[5];
	struct mm_finding_filter flt;
	struct ids x;

	tmp_make(&t);
	st = open_ok(&t);
	filter_fixture(st, fs);

	memset(&flt, 0, sizeof(flt));
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 4);	/* archived excluded */
	CHECK_EQ_STR(x.id[0], fs[3].id);	/* newest last_seen first */
	CHECK_EQ_STR(x.id[3], fs[0].id);
	CHECK(strncmp(x.json[0], "{\"schemaVersion\":\"2.0\",\"accountId\"", 34) == 0);
	CHECK_EQ_INT(mm_store_findings(st, NULL, ids_cb, &x, NULL), 0);

	flt.include_archived = 1;
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 5);
	CHECK_EQ_STR(x.id[0], fs[4].id);

	/* type: exact, prefix, prefix that is also an exact name, no match */
	flt.type = "CryptoCurrency:EC2/BitcoinTool.B";
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 1);
	CHECK_EQ_STR(x.id[0], fs[2].id);
	flt.type = "CryptoCurrency:EC2/BitcoinTool.B*";
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 2);
	flt.type = "Recon:*";
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 2);
	flt.type = "Recon";
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 0);
	flt.type = "*";
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 5);
	flt.type = "recon:*";	/* case matters, as in GuardDuty */
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 0);
	flt.type = NULL;

	flt.min_severity = 5;
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 4);
	flt.min_severity = 7;
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 2);
	flt.min_severity = 0;

	flt.resource = "i-aaa";
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 2);
	flt.resource = "AKIAEXAMPLE";
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 1);
	CHECK_EQ_STR(x.id[0], fs[1].id);
	flt.resource = "i-zzz";
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 0);
	flt.resource = NULL;

	flt.since_ms = 3000;	/* inclusive */
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 3);
	flt.since_ms = 5001;
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 0);
	flt.since_ms = 0;

	flt.updated_since_ms = 1750000000000;
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 1);
	CHECK_EQ_STR(x.id[0], fs[4].id);
	flt.updated_since_ms = 0;

	flt.limit = 2;
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 2);
	CHECK_EQ_STR(x.id[1], fs[3].id);

	/* all at once */
	flt.type = "CryptoCurrency:*";
	flt.min_severity = 8;
	flt.resource = "i-ccc";
	flt.since_ms = 1;
	flt.limit = 10;
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 1);
	CHECK_EQ_STR(x.id[0], fs[3].id);

	/* a non-zero callback return stops the walk and is returned */
	memset(&flt, 0, sizeof(flt));
	memset(&x, 0, sizeof(x));
	x.stop_at = 2;
	CHECK_EQ_INT(mm_store_findings(st, &flt, ids_cb, &x, NULL), 7);
	CHECK_EQ_INT(x.n, 2);
	mm_store_close(st);
	tmp_clean(&t);
}

MM_TEST(store_by_id_prefix)
{
	struct tmp t;
	struct mm_store *st;
	struct mm_finding f;
	struct mm_err err;
	struct ids x;

	tmp_make(&t);
	st = open_ok(&t);
	mkfinding(&f, "Trojan:EC2/DropPoint", "i-1", 5, 1, 2);
	snprintf(f.id, sizeof(f.id), "abcdef0123456789abcdef0123456789");
	CHECK_EQ_INT(put(st, &f), 0);
	mkfinding(&f, "Trojan:EC2/DropPoint", "i-2", 5, 1, 3);
	snprintf(f.id, sizeof(f.id), "abcdef9999999999abcdef0123456789");
	CHECK_EQ_INT(put(st, &f), 0);

	memset(&x, 0, sizeof(x));
	CHECK_EQ_INT(mm_store_finding_by_id(st, "abcdef0123456789abcdef0123456789", ids_cb, &x, &err), 1);
	CHECK_EQ_INT(x.n, 1);
	memset(&x, 0, sizeof(x));
	CHECK_EQ_INT(mm_store_finding_by_id(st, "abcdef0", ids_cb, &x, &err), 1);
	CHECK_EQ_INT(x.n, 1);
	CHECK_EQ_STR(x.id[0], "abcdef0123456789abcdef0123456789");
	memset(&x, 0, sizeof(x));
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_finding_by_id(st, "abcdef", ids_cb, &x, &err), MM_EINVAL);
	CHECK(strstr(err.msg, "ambiguous") != NULL);
	CHECK_EQ_INT(x.n, 0);	/* nothing printed for an ambiguous prefix */
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_finding_by_id(st, "abcde", ids_cb, &x, &err), MM_EINVAL);
	CHECK(strstr(err.msg, "6") != NULL);
	CHECK_EQ_INT(mm_store_finding_by_id(st, "123456", ids_cb, &x, &err), 0);
	CHECK_EQ_INT(mm_store_finding_by_id(st, "abcdef*", ids_cb, &x, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_store_finding_by_id(st, "abc?ef0", ids_cb, &x, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_store_finding_by_id(st, "", ids_cb, &x, &err), MM_EINVAL);
	CHECK_EQ_INT(x.n, 0);
	mm_store_close(st);
	tmp_clean(&t);
}

struct inv_rows {
	int n;
	char id[4][32];
	char json[4][64];
};

static int inv_cb(void *ctx, const char *id, const char *json)
{
	struct inv_rows *r = ctx;
	if (r->n < 4) {
		snprintf(r->id[r->n], sizeof(r->id[0]), "%s", id);
		snprintf(r->json[r->n], sizeof(r->json[0]), "%s", json);
	}
	r->n++;
	return r->n == 3 ? 9 : 0;
}

MM_TEST(store_inventory_and_transactions)
{
	struct tmp t;
	struct mm_store *st;
	struct mm_err err;
	struct inv_rows r;
	struct mm_finding f;
	struct ids x;

	tmp_make(&t);
	st = open_ok(&t);
	CHECK_EQ_INT(mm_store_inventory_put(st, "i-b", "{\"instanceId\":\"i-b\"}", &err), 0);
	CHECK_EQ_INT(mm_store_inventory_put(st, "i-a", "{\"instanceId\":\"i-a\",\"v\":1}", &err), 0);
	CHECK_EQ_INT(mm_store_inventory_put(st, "i-a", "{\"instanceId\":\"i-a\",\"v\":2}", &err), 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(mm_store_inventory_each(st, inv_cb, &r, &err), 0);
	CHECK_EQ_INT(r.n, 2);
	CHECK_EQ_STR(r.id[0], "i-a");
	CHECK_EQ_STR(r.json[0], "{\"instanceId\":\"i-a\",\"v\":2}");
	CHECK_EQ_STR(r.id[1], "i-b");
	CHECK_EQ_INT(mm_store_inventory_put(st, "i-c", "{}", &err), 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(mm_store_inventory_each(st, inv_cb, &r, &err), 9);
	CHECK_EQ_INT(r.n, 3);

	/* rollback discards, commit keeps */
	mkfinding(&f, "Trojan:EC2/DropPoint", "i-1", 5, 1, 2);
	CHECK_EQ_INT(mm_store_begin(st, &err), 0);
	CHECK_EQ_INT(put(st, &f), 0);
	CHECK_EQ_INT(mm_store_rollback(st), 0);
	CHECK_EQ_INT(list(st, NULL, &x), 0);
	CHECK_EQ_INT(x.n, 0);
	CHECK_EQ_INT(mm_store_rollback(st), 0);	/* nothing open: harmless */
	CHECK_EQ_INT(mm_store_begin(st, &err), 0);
	CHECK_EQ_INT(mm_store_begin(st, &err), MM_EDB);	/* nested: clear error */
	CHECK(strstr(err.msg, "transaction") != NULL);
	CHECK_EQ_INT(put(st, &f), 0);
	CHECK_EQ_INT(mm_store_commit(st, &err), 0);
	CHECK_EQ_INT(mm_store_commit(st, &err), MM_EDB);
	CHECK_EQ_INT(list(st, NULL, &x), 0);
	CHECK_EQ_INT(x.n, 1);
	mm_store_close(st);
	tmp_clean(&t);
}

/* Rows of detector_state in the main file alone (immutable: the WAL is
 * not read), or -1. */
static int main_file_states(const struct tmp *t)
{
	char uri[256];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int n = -1;

	snprintf(uri, sizeof(uri), "file:%s?immutable=1", t->db);
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM detector_state", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* Commit 20 MiB of state in one transaction: more than SQLite's automatic
 * checkpoint threshold (1000 pages of 16 KiB). */
static void commit_big(struct mm_store *st, const char *det)
{
	static unsigned char blob[MM_STORE_STATE_MAX];
	struct mm_err err;
	char ent[32];
	int i;

	memset(blob, 0x5a, sizeof(blob));
	CHECK_EQ_INT(mm_store_begin(st, &err), 0);
	for (i = 0; i < 20; i++) {
		snprintf(ent, sizeof(ent), "e%02d", i);
		blob[0] = (unsigned char)i;	/* distinct pages */
		CHECK_EQ_INT(mm_store_state_put(st, det, ent, 1, blob, sizeof(blob), &err), 0);
	}
	CHECK_EQ_INT(mm_store_commit(st, &err), 0);
}

/* The pipeline turns the automatic checkpoint off and checkpoints on
 * another handle (its own thread) after each flush's commit. */
MM_TEST(store_checkpoint_off_and_on)
{
	struct tmp t;
	struct mm_store *st, *other;
	struct mm_err err;

	tmp_make(&t);
	st = open_ok(&t);
	/* as SQLite does by default: the big commit is copied into the main file */
	commit_big(st, "a");
	CHECK_EQ_INT(main_file_states(&t), 20);
	/* off: committed (this handle reads it) but only in the WAL */
	CHECK_EQ_INT(mm_store_autocheckpoint_off(st, &err), 0);
	commit_big(st, "b");
	CHECK_EQ_INT(main_file_states(&t), 20);
	/* a checkpoint on another handle copies it, while st stays open */
	other = open_ok(&t);
	CHECK_EQ_INT(mm_store_checkpoint(other, &err), 0);
	CHECK_EQ_INT(main_file_states(&t), 40);
	CHECK_EQ_STR(mm_store_path(other), t.db);
	mm_store_close(other);
	/* the same through a handle opened for it */
	commit_big(st, "c");
	CHECK_EQ_INT(main_file_states(&t), 40);
	CHECK_EQ_INT(mm_store_checkpoint_file(t.db, &err), 0);
	CHECK_EQ_INT(main_file_states(&t), 60);
	mm_store_close(st);
	/* a missing file is an error, and is not created */
	CHECK_EQ_INT(mm_store_checkpoint_file(t.dir, &err) != 0, 1);
	unlink(t.db);
	CHECK_EQ_INT(mm_store_checkpoint_file(t.db, &err), MM_EDB);
	CHECK_EQ_INT(access(t.db, F_OK), -1);
	tmp_clean(&t);
}

MM_TEST(store_default_path)
{
	unsetenv("MAMORI_DB");
	CHECK_EQ_STR(mm_store_default_path(), "./mamori.db");
	setenv("MAMORI_DB", "", 1);
	CHECK_EQ_STR(mm_store_default_path(), "./mamori.db");
	setenv("MAMORI_DB", "/var/lib/mamori/x.db", 1);
	CHECK_EQ_STR(mm_store_default_path(), "/var/lib/mamori/x.db");
}

/* ---- cli: parsers ---- */

MM_TEST(cli_parse_severity)
{
	double v = -1;
	CHECK_EQ_INT(mm_cli_parse_severity("high", &v), 0);
	CHECK(v == 7.0);
	CHECK_EQ_INT(mm_cli_parse_severity("MEDIUM", &v), 0);
	CHECK(v == 4.0);
	CHECK_EQ_INT(mm_cli_parse_severity("low", &v), 0);
	CHECK(v == 1.0);
	CHECK_EQ_INT(mm_cli_parse_severity("5.5", &v), 0);
	CHECK(v == 5.5);
	CHECK_EQ_INT(mm_cli_parse_severity("8", &v), 0);
	CHECK(v == 8.0);
	CHECK_EQ_INT(mm_cli_parse_severity("11", &v), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_severity("-1", &v), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_severity("nan", &v), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_severity("5x", &v), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_severity("", &v), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_severity("critical", &v), MM_EINVAL);
}

MM_TEST(cli_parse_since)
{
	long long ms = 0, now = (long long)mm_now_ms();
	CHECK_EQ_INT(mm_cli_parse_since("2024-01-02", &ms), 0);
	CHECK_EQ_INT(ms, 1704153600000LL);
	CHECK_EQ_INT(mm_cli_parse_since("2024-01-02T03:04:05Z", &ms), 0);
	CHECK_EQ_INT(ms, 1704153600000LL + (3 * 3600 + 4 * 60 + 5) * 1000LL);
	CHECK_EQ_INT(mm_cli_parse_since("24h", &ms), 0);
	CHECK(ms <= now - 24LL * 3600 * 1000 + 5000 && ms >= now - 24LL * 3600 * 1000 - 5000);
	CHECK_EQ_INT(mm_cli_parse_since("7d", &ms), 0);
	CHECK(ms <= now - 7LL * 86400 * 1000 + 5000 && ms >= now - 7LL * 86400 * 1000 - 5000);
	CHECK_EQ_INT(mm_cli_parse_since("30m", &ms), 0);
	CHECK_EQ_INT(mm_cli_parse_since("2w", &ms), 0);
	CHECK_EQ_INT(mm_cli_parse_since("h", &ms), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_since("24", &ms), MM_EINVAL);	/* unit required */
	CHECK_EQ_INT(mm_cli_parse_since("24y", &ms), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_since("99999999999999999999d", &ms), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_since("999999d", &ms), MM_EINVAL);	/* > 100 years */
	CHECK_EQ_INT(mm_cli_parse_since("2024-13-01", &ms), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_since("yesterday", &ms), MM_EINVAL);
	CHECK_EQ_INT(mm_cli_parse_since("", &ms), MM_EINVAL);
}

/* ---- cli: mamori findings ---- */

/* Run mm_cmd_findings with stdout/stderr captured into files. */
static int run_cmd(struct tmp *t, char *out, size_t outcap, char *errs, size_t errcap, ...)
{
	char *argv[16];
	char outp[200], errp[200];
	int argc = 0, rc, so, se;
	va_list ap;
	FILE *fp;
	size_t n;

	va_start(ap, errcap);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(outp, sizeof(outp), "%s/out.txt", t->dir);
	snprintf(errp, sizeof(errp), "%s/err.txt", t->dir);
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	if (!freopen(outp, "w", stdout) || !freopen(errp, "w", stderr))
		abort();
	rc = mm_cmd_findings(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	fp = fopen(outp, "r");
	n = fp ? fread(out, 1, outcap - 1, fp) : 0;
	out[n] = '\0';
	if (fp)
		fclose(fp);
	fp = fopen(errp, "r");
	n = fp ? fread(errs, 1, errcap - 1, fp) : 0;
	errs[n] = '\0';
	if (fp)
		fclose(fp);
	unlink(outp);
	unlink(errp);
	return rc;
}

/* ---- schema versions and migrations ---- */

/* The exact statements the first release (schema 1) ran on a new file. */
static const char v1_schema[] =
	"CREATE TABLE IF NOT EXISTS findings("
	" id TEXT PRIMARY KEY, type TEXT NOT NULL, severity REAL NOT NULL,"
	" resource TEXT NOT NULL, account TEXT, region TEXT, count INTEGER NOT NULL,"
	" first_seen INTEGER, last_seen INTEGER, created_at INTEGER, updated_at INTEGER,"
	" archived INTEGER NOT NULL DEFAULT 0, evidence TEXT, json TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS findings_type ON findings(type);"
	"CREATE INDEX IF NOT EXISTS findings_severity ON findings(severity);"
	"CREATE INDEX IF NOT EXISTS findings_resource ON findings(resource);"
	"CREATE INDEX IF NOT EXISTS findings_last_seen ON findings(last_seen);"
	"CREATE INDEX IF NOT EXISTS findings_updated_at ON findings(updated_at);"
	"CREATE INDEX IF NOT EXISTS findings_archived ON findings(archived);"
	"CREATE TABLE IF NOT EXISTS files("
	" path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, head_hash INTEGER,"
	" offset INTEGER, line INTEGER, complete INTEGER);"
	"CREATE TABLE IF NOT EXISTS inventory(instance_id TEXT PRIMARY KEY, json TEXT NOT NULL);";

/* Write a schema 1 file by hand at path, user_version uv (0: a file from
 * before the version was recorded), holding finding f and one file row. */
static void make_v1(const char *path, int uv, const struct mm_finding *f)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char sql[64];

	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL", NULL, NULL,
				  NULL),
		     SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", uv);
	CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db,
					"INSERT INTO findings(id, type, severity, resource, account, region,"
					" count, first_seen, last_seen, created_at, updated_at, archived,"
					" evidence, json) VALUES (?1, ?2, 8, 'i-0v1', '123456789012',"
					" 'us-east-1', 4, 1000, 5000, 1700000000000, 1700000000000, 0,"
					" NULL, '{\"id\":\"v1\"}')",
					-1, &s, NULL),
		     SQLITE_OK);
	sqlite3_bind_text(s, 1, f->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, f->type, -1, SQLITE_STATIC);
	CHECK_EQ_INT(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	CHECK_EQ_INT(sqlite3_exec(db,
				  "INSERT INTO files VALUES ('/logs/v1.log', 100, 1700000000, -2,"
				  " 90, 9, 1)",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	CHECK_EQ_INT(sqlite3_close(db), SQLITE_OK);
}

static int pragma_int(const char *path, const char *pragma)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, pragma, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Rows whose j_ columns differ from what json_extract reads in their JSON
 * (schema 4 fills them on write; schema 3 computed them). */
#define J_MISMATCH                                                                         \
	"SELECT count(*) FROM findings WHERE"                                              \
	" j_severity IS NOT json_extract(json, '$.severity')"                              \
	" OR j_updated IS NOT json_extract(json, '$.updatedAt')"                           \
	" OR j_created IS NOT json_extract(json, '$.createdAt')"                           \
	" OR j_account IS NOT json_extract(json, '$.accountId')"                           \
	" OR j_region IS NOT json_extract(json, '$.region')"                               \
	" OR j_instance IS NOT json_extract(json, '$.resource.instanceDetails.instanceId')" \
	" OR j_akid IS NOT json_extract(json, '$.resource.accessKeyDetails.accessKeyId')"  \
	" OR typeof(j_severity) IS NOT typeof(json_extract(json, '$.severity'))"

/* The j_ columns hold exactly json_extract's values, types included, for
 * JSON of every shape a writer may hand the store. */
MM_TEST(store_criteria_columns_match_json)
{
	static const char *const docs[] = {
		"{\"schemaVersion\":\"2.0\",\"accountId\":\"123456789012\",\"region\":\"eu-west-1\","
		"\"resource\":{\"resourceType\":\"Instance\",\"instanceDetails\":{\"instanceId\":"
		"\"i-0abc\"}},\"severity\":8,\"createdAt\":\"2024-05-01T10:00:00.000Z\","
		"\"updatedAt\":\"2024-05-01T11:00:00.000Z\"}",
		"{\"accountId\":\"12\\u00334\\\"x\",\"region\":\"\",\"resource\":{\"accessKeyDetails\":"
		"{\"accessKeyId\":\"AKIA\\/1\"}},\"severity\":5.5,\"updatedAt\":null}",
		"{\"severity\":2e0,\"region\":\"\\u00e9\\ud83d\\ude00\",\"resource\":{\"resourceType\":"
		"\"AttackSequence\"},\"accountId\":true}",
		"{\"severity\":99999999999999999999,\"accountId\":[1,2],\"region\":{\"a\":1}}",
		"{}",
	};
	struct tmp t;
	struct mm_store *st;
	struct mm_finding f;
	struct mm_err err;
	size_t i;
	char ty[32];

	tmp_make(&t);
	st = open_ok(&t);
	CHECK(st != NULL);
	if (!st) {
		tmp_clean(&t);
		return;
	}
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct mm_store_jcols jc;
		snprintf(ty, sizeof(ty), "Type:EC2/T%zu", i);
		mkfinding(&f, ty, "i-0abc", 5, 1000, 2000);
		mm_finding_make_id(&f);
		CHECK_EQ_INT(mm_store_finding_put_held(st, &f, docs[i], 0, &err), 0);
		/* the columns found beforehand (the pipelined writer's way):
		 * the values point into the JSON they were found in */
		snprintf(ty, sizeof(ty), "Type:EC2/J%zu", i);
		mkfinding(&f, ty, "i-0abc", 5, 1000, 2000);
		mm_finding_make_id(&f);
		mm_store_jcols_of(docs[i], &jc);
		CHECK_EQ_INT(mm_store_finding_put_jc(st, &f, docs[i], 0, &jc, &err), 0);
	}
	mm_store_close(st);
	CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM findings"), 10);
	CHECK_EQ_INT(pragma_int(t.db, J_MISMATCH), 0);
	CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM findings WHERE typeof(j_severity) = "
				      "'integer'"), 2);
	/* the given columns are the ones written, not found again */
	{
		struct mm_store_jcols jc;
		st = open_ok(&t);
		CHECK(st != NULL);
		if (st) {
			mkfinding(&f, "Type:EC2/Given", "i-0abc", 5, 1000, 2000);
			mm_finding_make_id(&f);
			mm_store_jcols_of(docs[0], &jc);
			CHECK_EQ_INT(mm_store_finding_put_jc(st, &f, "{}", 0, &jc, &err), 0);
			mm_store_close(st);
		}
		CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM findings WHERE type = "
					      "'Type:EC2/Given' AND j_instance = 'i-0abc' AND "
					      "j_region = 'eu-west-1'"), 1);
	}
	tmp_clean(&t);
}

MM_TEST(store_migrates_v1_in_place)
{
	struct mm_finding f, g;
	struct mm_file_state fs;
	struct mm_err err;
	struct ids x;
	int uv;

	mkfinding(&f, "CryptoCurrency:EC2/BitcoinTool.B", "i-0v1", 8, 1000, 5000);
	for (uv = 0; uv <= 1; uv++) {
		struct tmp t;
		struct mm_store *st;

		tmp_make(&t);
		make_v1(t.db, uv, &f);
		st = open_ok(&t);
		CHECK(st != NULL);
		if (!st) {
			tmp_clean(&t);
			continue;
		}
		CHECK_EQ_INT(mm_store_schema(st), 4);
		CHECK_EQ_INT(pragma_int(t.db, "PRAGMA user_version"), 4);
		/* the finding is still there, listed and found by id */
		CHECK_EQ_INT(list(st, NULL, &x), 0);
		CHECK_EQ_INT(x.n, 1);
		CHECK_EQ_STR(x.id[0], f.id);
		CHECK_EQ_STR(x.json[0], "{\"id\":\"v1\"}");
		memset(&x, 0, sizeof(x));
		CHECK_EQ_INT(mm_store_finding_by_id(st, f.id, ids_cb, &x, &err), 1);
		memset(&g, 0, sizeof(g));
		memcpy(g.id, f.id, sizeof(g.id));
		CHECK_EQ_INT(mm_store_finding_load_state(st, &g), 1);
		CHECK_EQ_INT(g.count, 4);
		CHECK_EQ_INT(g.last_seen_ms, 5000);
		/* and the file row, all 64 bits of head_hash */
		CHECK_EQ_INT(mm_store_file_get(st, "/logs/v1.log", &fs), 1);
		CHECK(fs.head_hash == (uint64_t)-2);
		CHECK(fs.offset == 90);
		CHECK_EQ_INT(fs.complete, 1);
		/* the new schema's pieces work on the upgraded file */
		CHECK_EQ_INT(mm_store_state_put(st, "det", "e1", 1, "ab", 2, &err), 0);
		CHECK_EQ_INT(mm_store_finding_put_held(st, &f, "{}", 1, &err), 0);
		CHECK_EQ_INT(list(st, NULL, &x), 0);
		CHECK_EQ_INT(x.n, 0);
		mm_store_close(st);
		/* the criteria columns are plain ones now, and hold what the
		 * JSON says for the row the file had */
		CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM pragma_table_xinfo('findings')"
					      " WHERE name LIKE 'j\\_%' ESCAPE '\\' AND hidden = 0"), 7);
		CHECK_EQ_INT(pragma_int(t.db, J_MISMATCH), 0);
		/* reopening an upgraded file changes nothing */
		st = open_ok(&t);
		CHECK_EQ_INT(pragma_int(t.db, "PRAGMA user_version"), 4);
		mm_store_close(st);
		tmp_clean(&t);
	}
}

/* A schema 3 file (criteria columns computed by SQLite from the JSON)
 * becomes schema 4 with the same values stored, indexes included. */
MM_TEST(store_migrates_v3_criteria_columns)
{
	static const char to_v3[] =
		"DROP INDEX findings_j_severity; DROP INDEX findings_j_updated;"
		"DROP INDEX findings_j_created; DROP INDEX findings_j_account;"
		"DROP INDEX findings_j_region; DROP INDEX findings_j_instance; DROP INDEX findings_j_akid;"
		"ALTER TABLE findings DROP COLUMN j_severity; ALTER TABLE findings DROP COLUMN j_updated;"
		"ALTER TABLE findings DROP COLUMN j_created; ALTER TABLE findings DROP COLUMN j_account;"
		"ALTER TABLE findings DROP COLUMN j_region; ALTER TABLE findings DROP COLUMN j_instance;"
		"ALTER TABLE findings DROP COLUMN j_akid;"
		"ALTER TABLE findings ADD COLUMN j_severity GENERATED ALWAYS AS"
		" (json_extract(json, '$.severity')) VIRTUAL;"
		"ALTER TABLE findings ADD COLUMN j_updated GENERATED ALWAYS AS"
		" (json_extract(json, '$.updatedAt')) VIRTUAL;"
		"ALTER TABLE findings ADD COLUMN j_created GENERATED ALWAYS AS"
		" (json_extract(json, '$.createdAt')) VIRTUAL;"
		"ALTER TABLE findings ADD COLUMN j_account GENERATED ALWAYS AS"
		" (json_extract(json, '$.accountId')) VIRTUAL;"
		"ALTER TABLE findings ADD COLUMN j_region GENERATED ALWAYS AS"
		" (json_extract(json, '$.region')) VIRTUAL;"
		"ALTER TABLE findings ADD COLUMN j_instance GENERATED ALWAYS AS"
		" (json_extract(json, '$.resource.instanceDetails.instanceId')) VIRTUAL;"
		"ALTER TABLE findings ADD COLUMN j_akid GENERATED ALWAYS AS"
		" (json_extract(json, '$.resource.accessKeyDetails.accessKeyId')) VIRTUAL;"
		"CREATE INDEX findings_j_account ON findings(j_account);"
		"INSERT INTO findings(id, type, severity, resource, count, json) VALUES ('a', 'T', 8, 'r', 1,"
		" '{\"accountId\":\"210987654321\",\"severity\":8,\"resource\":{\"accessKeyDetails\":"
		"{\"accessKeyId\":\"AKIA1\"}},\"updatedAt\":\"2024-05-01T11:00:00.000Z\"}');"
		"PRAGMA user_version=3;";
	struct tmp t;
	struct mm_store *st;
	sqlite3 *db;

	tmp_make(&t);
	st = open_ok(&t);
	mm_store_close(st);
	CHECK_EQ_INT(sqlite3_open(t.db, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, to_v3, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM findings WHERE j_account = '210987654321'"),
		     1);
	st = open_ok(&t);
	CHECK(st != NULL);
	mm_store_close(st);
	CHECK_EQ_INT(pragma_int(t.db, "PRAGMA user_version"), 4);
	CHECK_EQ_INT(pragma_int(t.db, J_MISMATCH), 0);
	CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM findings WHERE j_account = '210987654321'"
				      " AND j_akid = 'AKIA1' AND j_severity = 8"),
		     1);
	CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
				      " name LIKE 'findings_j_%'"),
		     7);
	tmp_clean(&t);
}

/* A step that fails leaves the file at the last whole step: here a
 * schema 1 file that somehow has a held column already makes step 2's
 * ALTER fail, and nothing of step 2 (detector_state) may remain. */
MM_TEST(store_failed_migration_rolls_back)
{
	struct tmp t;
	struct mm_store *st = (struct mm_store *)1;
	struct mm_finding f;
	struct mm_err err;
	sqlite3 *db = NULL;

	tmp_make(&t);
	mkfinding(&f, "Trojan:EC2/DropPoint", "i-1", 5, 1, 2);
	make_v1(t.db, 1, &f);
	CHECK_EQ_INT(sqlite3_open(t.db, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, "ALTER TABLE findings ADD COLUMN held INTEGER", NULL, NULL,
				  NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_open(&st, t.db, &err), MM_EDB);
	CHECK(st == NULL);
	CHECK(strstr(err.msg, "upgrading database") != NULL);
	CHECK(strstr(err.msg, "schema 2") != NULL);
	CHECK(strstr(err.msg, "duplicate column") != NULL);
	CHECK_EQ_INT(pragma_int(t.db, "PRAGMA user_version"), 1);
	CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM sqlite_master WHERE name IN"
				      " ('detector_state', 'findings_held')"),
		     0);
	CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM findings"), 1);
	tmp_clean(&t);
}

/* ---- held findings ---- */

MM_TEST(store_held_findings)
{
	struct tmp t;
	struct mm_store *st;
	struct mm_finding a, h, g;
	struct mm_finding_filter flt;
	struct mm_err err;
	struct ids x;
	char prefix[16];

	tmp_make(&t);
	st = open_ok(&t);
	mkfinding(&a, "Trojan:EC2/DropPoint", "i-known", 5, 1, 2);
	mkfinding(&h, "Trojan:EC2/DropPoint", "i-unknown", 5, 1, 9);
	h.count = 3;
	CHECK_EQ_INT(put(st, &a), 0);
	CHECK_EQ_INT(mm_store_finding_put_held(st, &h, "{\"held\":1}", 1, &err), 0);

	/* never listed, not even with archived; not found by id or prefix */
	memset(&flt, 0, sizeof(flt));
	flt.include_archived = 1;
	CHECK_EQ_INT(list(st, &flt, &x), 0);
	CHECK_EQ_INT(x.n, 1);
	CHECK_EQ_STR(x.id[0], a.id);
	memset(&x, 0, sizeof(x));
	CHECK_EQ_INT(mm_store_finding_by_id(st, h.id, ids_cb, &x, &err), 0);
	memcpy(prefix, h.id, 10);
	prefix[10] = '\0';
	CHECK_EQ_INT(mm_store_finding_by_id(st, prefix, ids_cb, &x, &err), 0);
	CHECK_EQ_INT(x.n, 0);

	/* held_each sees exactly the held one */
	memset(&x, 0, sizeof(x));
	CHECK_EQ_INT(mm_store_held_each(st, ids_cb, &x, &err), 0);
	CHECK_EQ_INT(x.n, 1);
	CHECK_EQ_STR(x.id[0], h.id);
	CHECK_EQ_STR(x.json[0], "{\"held\":1}");

	/* load_state finds it, so later activity merges into it */
	mkfinding(&g, "Trojan:EC2/DropPoint", "i-unknown", 5, 0, 0);
	CHECK_EQ_INT(mm_store_finding_load_state(st, &g), 1);
	CHECK_EQ_INT(g.count, 3);
	CHECK_EQ_INT(g.last_seen_ms, 9);

	/* putting it with held 0 releases it */
	CHECK_EQ_INT(put(st, &g), 0);
	CHECK_EQ_INT(list(st, NULL, &x), 0);
	CHECK_EQ_INT(x.n, 2);
	memset(&x, 0, sizeof(x));
	CHECK_EQ_INT(mm_store_held_each(st, ids_cb, &x, &err), 0);
	CHECK_EQ_INT(x.n, 0);

	/* delete: held or not, exact id; 1 then 0 */
	CHECK_EQ_INT(mm_store_finding_put_held(st, &h, "{}", 1, &err), 0);
	CHECK_EQ_INT(mm_store_finding_delete(st, h.id, &err), 1);
	CHECK_EQ_INT(mm_store_finding_delete(st, h.id, &err), 0);
	CHECK_EQ_INT(mm_store_finding_load_state(st, &h), 0);
	CHECK_EQ_INT(mm_store_finding_delete(st, prefix, &err), 0);	/* no prefixes */
	CHECK_EQ_INT(mm_store_finding_delete(st, a.id, &err), 1);
	CHECK_EQ_INT(mm_store_finding_delete(st, "", &err), MM_EINVAL);
	CHECK_EQ_INT(list(st, NULL, &x), 0);
	CHECK_EQ_INT(x.n, 0);

	/* a non-zero return from cb stops held_each and is returned */
	CHECK_EQ_INT(mm_store_finding_put_held(st, &a, "{}", 1, &err), 0);
	CHECK_EQ_INT(mm_store_finding_put_held(st, &h, "{}", 1, &err), 0);
	memset(&x, 0, sizeof(x));
	x.stop_at = 1;
	CHECK_EQ_INT(mm_store_held_each(st, ids_cb, &x, &err), 7);
	CHECK_EQ_INT(x.n, 1);
	mm_store_close(st);
	tmp_clean(&t);
}

/* ---- detector state ---- */

struct state_rows {
	int n, stop_at;
	char entity[8][32];
	int version[8];
	char blob[8][32];
	size_t len[8];
};

static int state_cb(void *ctx, const char *entity, int version, const void *blob, size_t n)
{
	struct state_rows *r = ctx;
	if (r->n < 8) {
		snprintf(r->entity[r->n], sizeof(r->entity[0]), "%s", entity);
		r->version[r->n] = version;
		r->len[r->n] = n;
		memcpy(r->blob[r->n], blob, n < sizeof(r->blob[0]) ? n : sizeof(r->blob[0]));
	}
	r->n++;
	return r->stop_at && r->n == r->stop_at ? 5 : 0;
}

MM_TEST(store_detector_state)
{
	static char big[MM_STORE_STATE_MAX + 1];
	struct tmp t;
	struct mm_store *st;
	struct mm_err err;
	struct state_rows r;
	char name[MM_STORE_ENTITY_MAX + 2];
	const char bin[4] = {0, 1, '\xff', 0};

	tmp_make(&t);
	st = open_ok(&t);
	CHECK_EQ_INT(mm_store_begin(st, &err), 0);
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", "i-b", 1, "bbb", 3, &err), 0);
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", "i-a", 1, bin, sizeof(bin), &err), 0);
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", "i-c", 7, NULL, 0, &err), 0);
	CHECK_EQ_INT(mm_store_state_put(st, "bruteforce", "i-a", 3, "x", 1, &err), 0);
	CHECK_EQ_INT(mm_store_commit(st, &err), 0);

	/* one detector's rows, entity order, version and bytes exact */
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(mm_store_state_each(st, "portscan", state_cb, &r, &err), 0);
	CHECK_EQ_INT(r.n, 3);
	CHECK_EQ_STR(r.entity[0], "i-a");
	CHECK_EQ_INT(r.len[0], 4);
	CHECK(memcmp(r.blob[0], bin, 4) == 0);	/* binary-safe */
	CHECK_EQ_STR(r.entity[1], "i-b");
	CHECK_EQ_INT(r.version[1], 1);
	CHECK_EQ_STR(r.entity[2], "i-c");
	CHECK_EQ_INT(r.version[2], 7);
	CHECK_EQ_INT(r.len[2], 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(mm_store_state_each(st, "bruteforce", state_cb, &r, &err), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK_EQ_INT(r.version[0], 3);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(mm_store_state_each(st, "nobody", state_cb, &r, &err), 0);
	CHECK_EQ_INT(r.n, 0);

	/* replace in place; a stored version is returned as it is, the
	 * detector decides (here: one it does not know) */
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", "i-b", 99, "new", 3, &err), 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(mm_store_state_each(st, "portscan", state_cb, &r, &err), 0);
	CHECK_EQ_INT(r.n, 3);
	CHECK_EQ_INT(r.version[1], 99);
	CHECK(memcmp(r.blob[1], "new", 3) == 0);

	/* delete: 1, then 0 */
	CHECK_EQ_INT(mm_store_state_del(st, "portscan", "i-b", &err), 1);
	CHECK_EQ_INT(mm_store_state_del(st, "portscan", "i-b", &err), 0);
	CHECK_EQ_INT(mm_store_state_del(st, "bruteforce", "i-zzz", &err), 0);

	/* it is in the caller's transaction: a rollback takes it back */
	CHECK_EQ_INT(mm_store_begin(st, &err), 0);
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", "i-d", 1, "d", 1, &err), 0);
	CHECK_EQ_INT(mm_store_state_del(st, "portscan", "i-a", &err), 1);
	CHECK_EQ_INT(mm_store_rollback(st), 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(mm_store_state_each(st, "portscan", state_cb, &r, &err), 0);
	CHECK_EQ_INT(r.n, 2);
	CHECK_EQ_STR(r.entity[0], "i-a");
	CHECK_EQ_STR(r.entity[1], "i-c");

	/* the callback stops the walk */
	memset(&r, 0, sizeof(r));
	r.stop_at = 1;
	CHECK_EQ_INT(mm_store_state_each(st, "portscan", state_cb, &r, &err), 5);
	CHECK_EQ_INT(r.n, 1);

	/* bounds */
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", "i-a", 1, big, sizeof(big), &err),
		     MM_ETOOBIG);
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", "i-big", 1, big, sizeof(big) - 1, &err), 0);
	memset(name, 'e', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", name, 1, "x", 1, &err), MM_EINVAL);
	name[MM_STORE_ENTITY_MAX] = '\0';
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", name, 1, "x", 1, &err), 0);
	CHECK_EQ_INT(mm_store_state_put(st, "", "i-a", 1, "x", 1, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_store_state_put(st, NULL, "i-a", 1, "x", 1, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", NULL, 1, "x", 1, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_store_state_put(st, "portscan", "i-a", 1, NULL, 3, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_store_state_each(st, "", state_cb, &r, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_store_state_del(st, "portscan", NULL, &err), MM_EINVAL);
	memset(name, 'd', MM_STORE_DETECTOR_MAX + 1);
	name[MM_STORE_DETECTOR_MAX + 1] = '\0';
	CHECK_EQ_INT(mm_store_state_put(st, name, "i-a", 1, "x", 1, &err), MM_EINVAL);

	/* survives reopen */
	mm_store_close(st);
	st = open_ok(&t);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(mm_store_state_each(st, "portscan", state_cb, &r, &err), 0);
	CHECK_EQ_INT(r.n, 4);	/* i-a, i-big, i-c, eee... */
	mm_store_close(st);
	/* every row is stamped with the time it was put (ms, not s) */
	CHECK_EQ_INT(pragma_int(t.db, "SELECT count(*) FROM detector_state"), 5);
	CHECK_EQ_INT(pragma_int(t.db,
				"SELECT count(*) FROM detector_state WHERE updated_ms > 1600000000000"),
		     5);
	tmp_clean(&t);
}

/* ---- file permissions ---- */

static int mode_of(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

MM_TEST(store_new_file_is_private)
{
	struct tmp t;
	struct mm_store *st;
	struct mm_err err;
	char p[200];
	FILE *fp;

	umask(0);	/* so any 0644 from SQLite's own create would show */
	tmp_make(&t);
	st = open_ok(&t);
	CHECK_EQ_INT(mode_of(t.db), 0600);
	snprintf(p, sizeof(p), "%s-wal", t.db);
	CHECK_EQ_INT(mode_of(p), 0600);
	snprintf(p, sizeof(p), "%s-shm", t.db);
	CHECK_EQ_INT(mode_of(p), 0600);
	CHECK_EQ_INT(mm_store_lock(st, 0, &err), 0);
	snprintf(p, sizeof(p), "%s.lock", t.db);
	CHECK_EQ_INT(mode_of(p), 0600);
	mm_store_close(st);
	tmp_clean(&t);

	/* an existing file keeps the mode its owner gave it (an empty file
	 * is an empty database to SQLite) */
	tmp_make(&t);
	fp = fopen(t.db, "w");
	CHECK(fp != NULL);
	if (fp)
		fclose(fp);
	CHECK_EQ_INT(chmod(t.db, 0640), 0);
	st = open_ok(&t);
	CHECK_EQ_INT(mode_of(t.db), 0640);
	mm_store_close(st);
	st = open_ok(&t);
	CHECK_EQ_INT(mode_of(t.db), 0640);
	mm_store_close(st);
	tmp_clean(&t);
}

/* ---- read-only open ---- */

/* A store at t->db with two findings, closed. */
static void two_findings(struct tmp *t, struct mm_finding fs[2])
{
	struct mm_store *st = open_ok(t);
	mkfinding(&fs[0], "Trojan:EC2/DropPoint", "i-1", 5, 1, 2);
	mkfinding(&fs[1], "Backdoor:EC2/C&CActivity.B", "i-2", 8, 1, 3);
	CHECK_EQ_INT(put(st, &fs[0]), 0);
	CHECK_EQ_INT(put(st, &fs[1]), 0);
	mm_store_close(st);
}

MM_TEST(store_open_ro)
{
	struct tmp t;
	struct mm_store *st = NULL;
	struct mm_finding fs[2], f;
	struct mm_err err;
	struct ids x;
	struct state_rows r;
	char p[200];
	FILE *fp;

	tmp_make(&t);
	two_findings(&t, fs);
	CHECK_EQ_INT(mm_store_open_ro(&st, t.db, &err), 0);
	CHECK(st != NULL);
	if (!st)
		goto done;
	CHECK_EQ_INT(mm_store_schema(st), 4);
	CHECK_EQ_INT(list(st, NULL, &x), 0);
	CHECK_EQ_INT(x.n, 2);
	CHECK_EQ_STR(x.id[0], fs[1].id);
	memset(&x, 0, sizeof(x));
	CHECK_EQ_INT(mm_store_finding_by_id(st, fs[0].id, ids_cb, &x, &err), 1);
	/* every write is refused */
	mkfinding(&f, "Trojan:EC2/DropPoint", "i-3", 5, 1, 2);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_finding_put(st, &f, "{}", &err), MM_EDB);
	CHECK(strstr(err.msg, "readonly") != NULL);
	CHECK_EQ_INT(mm_store_finding_delete(st, fs[0].id, &err), MM_EDB);
	CHECK_EQ_INT(mm_store_state_put(st, "d", "e", 1, "x", 1, &err), MM_EDB);
	CHECK_EQ_INT(mm_store_begin(st, &err), MM_EDB);
	mm_store_close(st);
	st = NULL;

	/* a missing file is not created; an empty one says to scan first */
	CHECK_EQ_INT(mm_store_open_ro(&st, "/tmp/mm-no-such-dir-h5/x.db", &err), MM_EIO);
	snprintf(p, sizeof(p), "%s/none.db", t.dir);
	CHECK_EQ_INT(mm_store_open_ro(&st, p, &err), MM_EIO);
	CHECK(access(p, F_OK) != 0);
	fp = fopen(p, "w");
	if (fp)
		fclose(fp);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_open_ro(&st, p, &err), MM_EDB);
	CHECK(strstr(err.msg, "mamori scan") != NULL);
	CHECK(st == NULL);
	unlink(p);

	/* a schema 1 file (0 and 1) is read as it is, never upgraded */
	for (int uv = 0; uv <= 1; uv++) {
		snprintf(p, sizeof(p), "%s/v1-%d.db", t.dir, uv);
		make_v1(p, uv, &fs[0]);
		CHECK_EQ_INT(mm_store_open_ro(&st, p, &err), 0);
		if (!st)
			continue;
		CHECK_EQ_INT(mm_store_schema(st), 1);
		CHECK_EQ_INT(list(st, NULL, &x), 0);
		CHECK_EQ_INT(x.n, 1);
		CHECK_EQ_STR(x.id[0], fs[0].id);
		memset(&x, 0, sizeof(x));
		CHECK_EQ_INT(mm_store_finding_by_id(st, fs[0].id, ids_cb, &x, &err), 1);
		memcpy(x.id[0], fs[0].id, 8);
		x.id[0][8] = '\0';
		CHECK_EQ_INT(mm_store_finding_by_id(st, x.id[0], ids_cb, &x, &err), 1);
		memset(&x, 0, sizeof(x));
		CHECK_EQ_INT(mm_store_held_each(st, ids_cb, &x, &err), 0);
		CHECK_EQ_INT(x.n, 0);
		memset(&r, 0, sizeof(r));
		CHECK_EQ_INT(mm_store_state_each(st, "d", state_cb, &r, &err), 0);
		CHECK_EQ_INT(r.n, 0);
		mm_store_close(st);
		st = NULL;
		CHECK_EQ_INT(pragma_int(p, "PRAGMA user_version"), uv);
	}
done:
	tmp_clean(&t);
}

/* As a user who may not write the database nor its directory (so no
 * -shm can be made): open_ro reads it, and `mamori findings list|show`
 * pick open_ro by themselves. Run by the test as that user; the caller
 * owns t->dir (writable), the database is in t->dir/ro/. */
static void ro_as_reader(struct tmp *t)
{
	static char out[65536], errs[4096];
	struct mm_store *st = NULL;
	struct mm_finding fs[2];
	struct mm_err err;
	struct tmp sub;
	struct ids x;
	char rodir[160], wal[200];
	int rc;

	snprintf(rodir, sizeof(rodir), "%s/ro", t->dir);
	CHECK_EQ_INT(mkdir(rodir, 0700), 0);
	memcpy(&sub, t, sizeof(sub));
	snprintf(sub.db, sizeof(sub.db), "%s/mamori.db", rodir);
	two_findings(&sub, fs);
	snprintf(wal, sizeof(wal), "%s-wal", sub.db);
	CHECK(access(wal, F_OK) != 0);	/* a clean close checkpoints it away */
	CHECK_EQ_INT(chmod(sub.db, 0400), 0);
	CHECK_EQ_INT(chmod(rodir, 0500), 0);
	CHECK(access(sub.db, W_OK) != 0);

	/* the read-write open cannot work here... */
	CHECK(mm_store_open(&st, sub.db, &err) != 0);
	CHECK(st == NULL);
	/* ...the read-only one can */
	mm_err_clear(&err);
	rc = mm_store_open_ro(&st, sub.db, &err);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		fprintf(stderr, "  open_ro: %s\n", err.msg);
	if (st) {
		CHECK_EQ_INT(list(st, NULL, &x), 0);
		CHECK_EQ_INT(x.n, 2);
		mm_store_close(st);
	}

	rc = run_cmd(t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--db", sub.db,
		     "--format", "json", (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		fprintf(stderr, "  list: %s\n", errs);
	CHECK(strstr(out, fs[0].id) != NULL);
	CHECK(strstr(out, fs[1].id) != NULL);
	rc = run_cmd(t, out, sizeof(out), errs, sizeof(errs), "findings", "show", fs[0].id, "--db",
		     sub.db, (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, fs[0].id) != NULL);

	/* with a -wal beside it (a scan may be writing), reading the main
	 * file alone could miss commits: refused, and said why */
	CHECK_EQ_INT(chmod(rodir, 0700), 0);
	{
		FILE *fp = fopen(wal, "w");
		CHECK(fp != NULL);
		if (fp)
			fclose(fp);
	}
	CHECK_EQ_INT(chmod(wal, 0400), 0);
	CHECK_EQ_INT(chmod(rodir, 0500), 0);
	mm_err_clear(&err);
	st = NULL;
	rc = mm_store_open_ro(&st, sub.db, &err);
	if (rc) {
		CHECK(strstr(err.msg, "-shm") != NULL);
		CHECK(st == NULL);
	} else {
		mm_store_close(st);	/* an SQLite that reads it anyway is fine too */
	}
	CHECK_EQ_INT(chmod(rodir, 0700), 0);
	unlink(wal);
	chmod(sub.db, 0600);
	unlink(sub.db);
	rmdir(rodir);
}

MM_TEST(store_open_ro_unwritable)
{
	struct tmp t;
	pid_t pid;
	int status = 0;

	tmp_make(&t);
	if (geteuid() != 0) {
		ro_as_reader(&t);
		tmp_clean(&t);
		return;
	}
	/* root: access() says yes to everything, so run as nobody */
	CHECK_EQ_INT(chown(t.dir, 65534, 65534), 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(77);
		ro_as_reader(&t);
		fflush(NULL);
		_exit(mmtest_failures ? 1 : 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		fprintf(stderr, "  (cannot become nobody: read-only case not run)\n");
	else
		CHECK_EQ_INT(WEXITSTATUS(status), 0);
	tmp_clean(&t);
}

/* ---- scan lock ---- */

MM_TEST(store_scan_lock)
{
	struct tmp t;
	struct mm_store *st = NULL, *st2 = NULL;
	struct mm_err err;
	int up[2], down[2], status = 0;
	char c = 0, want[64];
	pid_t pid;

	tmp_make(&t);
	st = open_ok(&t);	/* create the file; closed before the fork */
	mm_store_close(st);
	st = NULL;
	CHECK_EQ_INT(pipe(up), 0);
	CHECK_EQ_INT(pipe(down), 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* child: take the lock, say so, hold it until told to go */
		struct mm_store *cs = NULL;
		close(up[0]);
		close(down[1]);
		if (mm_store_open(&cs, t.db, &err) || mm_store_lock(cs, 0, &err))
			_exit(1);
		if (write(up[1], "L", 1) != 1)
			_exit(2);
		if (read(down[0], &c, 1) != 1)
			_exit(3);
		mm_store_close(cs);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	CHECK_EQ_INT(read(up[0], &c, 1), 1);
	CHECK_EQ_INT(c, 'L');

	st = open_ok(&t);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_lock(st, 0, &err), MM_EBUSY);
	snprintf(want, sizeof(want), "(pid %ld)", (long)pid);
	CHECK(strstr(err.msg, want) != NULL);
	CHECK(strstr(err.msg, t.db) != NULL);
	CHECK(strstr(err.msg, "is in use by another mamori process") != NULL);
	CHECK(strstr(err.msg, "--wait SECONDS") != NULL);
	CHECK_EQ_STR(mm_strerror(MM_EBUSY), "in use by another process");
	/* the store itself still reads while another process scans */
	{
		struct ids x;
		CHECK_EQ_INT(list(st, NULL, &x), 0);
	}

	/* let the child go, then wait for the lock: it is released when the
	 * holder closes (or dies); the wait bound is only reached on failure */
	CHECK_EQ_INT(write(down[1], "G", 1), 1);
	CHECK_EQ_INT(mm_store_lock(st, 600000, &err), 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_INT(mm_store_lock(st, 0, &err), 0);	/* held already: fine */

	/* now we hold it: another handle (same process even) is refused
	 * with our pid, and gets it once we close */
	st2 = open_ok(&t);
	CHECK_EQ_INT(mm_store_lock(st2, 0, &err), MM_EBUSY);
	snprintf(want, sizeof(want), "(pid %ld)", (long)getpid());
	CHECK(strstr(err.msg, want) != NULL);
	mm_store_close(st);
	CHECK_EQ_INT(mm_store_lock(st2, 0, &err), 0);
	mm_store_close(st2);
	close(up[0]);
	close(down[1]);
	tmp_clean(&t);
}

MM_TEST(cli_findings_list_show)
{
	static char out[65536], errs[4096];
	struct tmp t;
	struct mm_store *st;
	struct mm_finding fs[5];
	struct mm_buf b;
	char missing[200], prefix[16];
	int rc, i;

	tmp_make(&t);
	unsetenv("MAMORI_DB");
	snprintf(missing, sizeof(missing), "%s/none.db", t.dir);

	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--db", missing,
		     (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_ERROR);
	CHECK(strstr(errs, "mamori scan") != NULL);
	CHECK(access(missing, F_OK) != 0);	/* not created */
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "show", "abcdef", "--db",
		     missing, (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_ERROR);
	CHECK(strstr(errs, "mamori scan") != NULL);

	/* a store with real GuardDuty JSON in it */
	st = open_ok(&t);
	filter_fixture(st, fs);
	mm_buf_init(&b, 1 << 20);
	for (i = 0; i < 5; i++) {
		mm_finding_add_evidence(&fs[i], "flows/2024/a.log.gz", (uint64_t)(10 + i), 0, 100);
		mm_buf_reset(&b);
		CHECK_EQ_INT(mm_finding_to_json(&fs[i], NULL, &b), 0);
		CHECK_EQ_INT(mm_store_finding_put(st, &fs[i], b.p, NULL), 0);
	}
	mm_buf_free(&b);
	mm_store_close(st);

	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--db", t.db,
		     "--format", "json", (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	{
		int lines = 0;
		for (char *p = out; *p; p++)
			lines += *p == '\n';
		CHECK_EQ_INT(lines, 4);
		CHECK(strncmp(out, "{\"schemaVersion\":\"2.0\"", 22) == 0);
	}
	/* default format is json when stdout is not a terminal */
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--db", t.db,
		     "--severity", "high", "--type", "CryptoCurrency:*", "--limit", "1", (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, fs[3].id) != NULL);
	CHECK(strstr(out, fs[2].id) == NULL);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--db", t.db,
		     "--format", "table", "--archived", "--since", "1970-01-01", (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "SEVERITY") != NULL);
	CHECK(strstr(out, "Recon:EC2/PortProbeUnprotectedPort") != NULL);
	CHECK(strstr(out, "(archived)") != NULL);
	CHECK(strstr(out, "\033[") == NULL);	/* no colour into a file */
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--db", t.db,
		     "--format", "guardduty", "--resource", "i-nothing", (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(out, "{\"findings\":[]}\n");

	/* MAMORI_DB is the default database */
	setenv("MAMORI_DB", t.db, 1);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--type",
		     "Trojan:EC2/DropPoint", "--archived", (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, fs[4].id) != NULL);

	/* show: full id, prefix, table, unknown */
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "show", fs[2].id,
		     (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, fs[2].id) != NULL);
	CHECK(strchr(out, '\n') == out + strlen(out) - 1);	/* one line */
	memcpy(prefix, fs[2].id, 8);
	prefix[8] = '\0';
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "show", prefix,
		     "--format", "table", (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "Evidence") != NULL);
	CHECK(strstr(out, "flows/2024/a.log.gz:12") != NULL);
	CHECK(strstr(out, "High") != NULL);
	CHECK(strstr(out, "i-aaa") != NULL);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "show", "ffffff00",
		     (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_ERROR);
	CHECK(strstr(errs, "no finding ffffff00; try `mamori findings list`") != NULL);
	unsetenv("MAMORI_DB");

	/* usage */
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--help",
		     (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "--severity") != NULL);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "show", "--help",
		     (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "prefix") != NULL);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_USAGE);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "frob", (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_USAGE);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--severity",
		     "extreme", (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_USAGE);
	CHECK(strstr(errs, "--severity") != NULL);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--limit", "0",
		     (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_USAGE);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--format",
		     "xml", (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_USAGE);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "list", "--bogus",
		     (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_USAGE);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "show", (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_USAGE);
	rc = run_cmd(&t, out, sizeof(out), errs, sizeof(errs), "findings", "show", "a", "b",
		     (char *)NULL);
	CHECK_EQ_INT(rc, MM_EXIT_USAGE);
	tmp_clean(&t);
}

/* The flush's page cache: set and read back; nonsense sizes refused; the
 * store works as before with it. */
MM_TEST(store_cache_size_is_taken)
{
	struct tmp t;
	struct mm_store *st;
	struct mm_file_state a = {1, 2, 3, 4, 5, 1}, b;
	struct mm_err err;

	tmp_make(&t);
	st = open_ok(&t);
	CHECK_EQ_INT(mm_store_cache_kib(st, 64 * 1024, &err), 0);
	CHECK_EQ_INT(mm_store_cache_kib(st, 0, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_store_cache_kib(st, -5, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_store_file_put(st, "/logs/c.log", &a, &err), 0);
	CHECK_EQ_INT(mm_store_file_get(st, "/logs/c.log", &b), 1);
	CHECK(b.offset == 4);
	mm_store_close(st);
	tmp_clean(&t);
}
