/* sdb.c - serve's own tables in the findings database. */
#include "serve/sdb.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/mem.h"
#include "core/mtime.h"

#define BUSY_MS 15000	/* a flush of a big batch holds the write lock this long at most */

enum {
	Q_META_GET, Q_META_PUT, Q_ARCHIVE, Q_FEEDBACK, Q_F_INSERT, Q_F_UPDATE, Q_F_GET, Q_F_EACH,
	Q_F_DEL, Q_S_INSERT, Q_S_REPLACE, Q_S_GET, Q_S_EACH, Q_S_DEL, Q_I_GET, Q_I_PUT, Q_N
};

#define SET_COLS "id, kind, name, format, location, status, tags, file, error, created_at, updated_at"

static const char *const SQL[Q_N] = {
	[Q_META_GET] = "SELECT value FROM serve_meta WHERE key = ?1",
	[Q_META_PUT] = "INSERT OR IGNORE INTO serve_meta(key, value) VALUES (?1, ?2)",
	/* service.archived is the JSON's only "archived" key, and the bytes
	 * "archived": can only occur as that key: inside a string the closing
	 * quote would be escaped */
	[Q_ARCHIVE] = "UPDATE findings SET archived = ?2, updated_at = ?3,"
		      " json = replace(json, CASE ?2 WHEN 1 THEN '\"archived\":false'"
		      " ELSE '\"archived\":true' END, CASE ?2 WHEN 1 THEN '\"archived\":true'"
		      " ELSE '\"archived\":false' END) WHERE id = ?1 AND held = 0",
	[Q_FEEDBACK] = "INSERT INTO feedback(finding_id, feedback, comments, at)"
		       " VALUES (?1, ?2, ?3, ?4)",
	[Q_F_INSERT] = "INSERT INTO filters(name, description, action, rank, criteria, tags,"
		       " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
	[Q_F_UPDATE] = "UPDATE filters SET description = coalesce(?2, description),"
		       " action = coalesce(?3, action), rank = coalesce(?4, rank),"
		       " criteria = coalesce(?5, criteria), updated_at = ?7 WHERE name = ?1",
	[Q_F_GET] = "SELECT name, description, action, rank, criteria, tags, created_at, updated_at"
		    " FROM filters WHERE name = ?1",
	[Q_F_EACH] = "SELECT name, description, action, rank, criteria, tags, created_at, updated_at"
		     " FROM filters ORDER BY rank, name",
	[Q_F_DEL] = "DELETE FROM filters WHERE name = ?1",
	[Q_S_INSERT] = "INSERT INTO threat_sets(" SET_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		       " ?9, ?10, ?10)",
	[Q_S_REPLACE] = "UPDATE threat_sets SET name = ?3, format = ?4, location = ?5, status = ?6,"
			" tags = ?7, file = ?8, error = ?9, updated_at = ?10 WHERE id = ?1 AND kind = ?2",
	[Q_S_GET] = "SELECT " SET_COLS " FROM threat_sets WHERE kind = ?1 AND id = ?2",
	[Q_S_EACH] = "SELECT " SET_COLS " FROM threat_sets WHERE ?1 IS NULL OR kind = ?1"
		     " ORDER BY created_at, id",
	[Q_S_DEL] = "DELETE FROM threat_sets WHERE kind = ?1 AND id = ?2",
	[Q_I_GET] = "SELECT request, response FROM idempotency WHERE op = ?1 AND token = ?2",
	[Q_I_PUT] = "INSERT OR IGNORE INTO idempotency(op, token, request, response, at)"
		    " VALUES (?1, ?2, ?3, ?4, ?5)",
};

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS serve_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS filters(name TEXT PRIMARY KEY, description TEXT,"
	" action TEXT NOT NULL, rank INTEGER NOT NULL, criteria TEXT NOT NULL, tags TEXT,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS feedback(finding_id TEXT NOT NULL, feedback TEXT NOT NULL,"
	" comments TEXT, at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS threat_sets(id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
	" name TEXT NOT NULL, format TEXT NOT NULL, location TEXT NOT NULL, status TEXT NOT NULL,"
	" tags TEXT, file TEXT, error TEXT, created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL, UNIQUE(kind, name));"
	"CREATE TABLE IF NOT EXISTS idempotency(op TEXT NOT NULL, token TEXT NOT NULL,"
	" request TEXT NOT NULL, response TEXT NOT NULL, at INTEGER NOT NULL,"
	" PRIMARY KEY(op, token));";

struct mm_sdb {
	sqlite3 *db;
	sqlite3_stmt *q[Q_N];
	pthread_mutex_t mu;
	char id[MM_SDB_ID_LEN + 1];
	int64_t created_ms;
	uint64_t gen, set_gen;
};

static int fail(struct mm_sdb *db, struct mm_err *err, const char *what)
{
	return mm_err_set(err, MM_EDB, "%s: %s", what, sqlite3_errmsg(db->db));
}

static int meta_get(struct mm_sdb *db, const char *key, char *out, size_t cap)
{
	sqlite3_stmt *s = db->q[Q_META_GET];
	int found = 0;
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
		found = 1;
	}
	sqlite3_reset(s);
	return found;
}

static int meta_put(struct mm_sdb *db, const char *key, const char *val)
{
	sqlite3_stmt *s = db->q[Q_META_PUT];
	int rc;
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : MM_EDB;
}

int mm_sdb_open(struct mm_sdb **out, const char *path, struct mm_err *err)
{
	struct mm_sdb *db;
	unsigned char rnd[MM_SDB_ID_LEN / 2];
	char buf[64];
	int i;

	*out = NULL;
	if (!(db = mm_calloc(1, sizeof(*db))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	pthread_mutex_init(&db->mu, NULL);
	if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		mm_err_set(err, MM_EDB, "cannot open %s: %s", path,
			   db->db ? sqlite3_errmsg(db->db) : "out of memory");
		goto bad;
	}
	sqlite3_busy_timeout(db->db, BUSY_MS);
	if (sqlite3_exec(db->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
		fail(db, err, "creating serve tables");
		goto bad;
	}
	for (i = 0; i < Q_N; i++)
		if (sqlite3_prepare_v2(db->db, SQL[i], -1, &db->q[i], NULL) != SQLITE_OK) {
			fail(db, err, "preparing a statement");
			goto bad;
		}
	if (!meta_get(db, "detector_id", db->id, sizeof(db->id))) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			mm_err_set(err, MM_EIO, "no random bytes for the detector id");
			goto bad;
		}
		for (i = 0; i < (int)sizeof(rnd); i++)
			snprintf(buf + 2 * i, 3, "%02x", rnd[i]);
		/* INSERT OR IGNORE: of two first starts, one id wins; read it back */
		if (meta_put(db, "detector_id", buf) ||
		    !meta_get(db, "detector_id", db->id, sizeof(db->id))) {
			fail(db, err, "storing the detector id");
			goto bad;
		}
		snprintf(buf, sizeof(buf), "%lld", (long long)mm_now_ms());
		meta_put(db, "created_at", buf);
	}
	if (meta_get(db, "created_at", buf, sizeof(buf)))
		db->created_ms = strtoll(buf, NULL, 10);
	*out = db;
	return 0;
bad:
	mm_sdb_close(db);
	return err->code;
}

void mm_sdb_close(struct mm_sdb *db)
{
	int i;
	if (!db)
		return;
	for (i = 0; i < Q_N; i++)
		sqlite3_finalize(db->q[i]);
	sqlite3_close(db->db);
	pthread_mutex_destroy(&db->mu);
	mm_free(db);
}

const char *mm_sdb_detector_id(const struct mm_sdb *db)
{
	return db->id;
}

int64_t mm_sdb_created_ms(const struct mm_sdb *db)
{
	return db->created_ms;
}

uint64_t mm_sdb_filter_gen(struct mm_sdb *db)
{
	uint64_t g;
	pthread_mutex_lock(&db->mu);
	g = db->gen;
	pthread_mutex_unlock(&db->mu);
	return g;
}

/* Run statement q (bound by the caller under the lock) to completion;
 * rows changed, or negative. */
static int exec_changes(struct mm_sdb *db, int q, struct mm_err *err, const char *what)
{
	int rc = sqlite3_step(db->q[q]);
	sqlite3_reset(db->q[q]);
	sqlite3_clear_bindings(db->q[q]);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_CONSTRAINT ? MM_EEXISTS : fail(db, err, what);
	return sqlite3_changes(db->db);
}

int mm_sdb_archive(struct mm_sdb *db, const char *finding_id, int archived, int64_t now_ms,
		   struct mm_err *err)
{
	sqlite3_stmt *s = db->q[Q_ARCHIVE];
	int rc;
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(s, 1, finding_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, archived ? 1 : 0);
	sqlite3_bind_int64(s, 3, now_ms);
	rc = exec_changes(db, Q_ARCHIVE, err, "archiving a finding");
	pthread_mutex_unlock(&db->mu);
	return rc < 0 ? rc : rc > 0;
}

int mm_sdb_feedback(struct mm_sdb *db, const char *finding_id, const char *feedback,
		    const char *comments, int64_t now_ms, struct mm_err *err)
{
	sqlite3_stmt *s = db->q[Q_FEEDBACK];
	int rc;
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(s, 1, finding_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, feedback, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, comments, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now_ms);
	rc = exec_changes(db, Q_FEEDBACK, err, "storing feedback");
	pthread_mutex_unlock(&db->mu);
	return rc < 0 ? rc : 0;
}

int mm_sdb_filter_put(struct mm_sdb *db, int create, const struct mm_filter_row *f,
		      struct mm_err *err)
{
	int q = create ? Q_F_INSERT : Q_F_UPDATE, rc;
	sqlite3_stmt *s = db->q[q];
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(s, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, f->description, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, f->action, -1, SQLITE_STATIC);
	if (f->rank > 0)
		sqlite3_bind_int64(s, 4, f->rank);
	else if (create)
		sqlite3_bind_int64(s, 4, 1);
	sqlite3_bind_text(s, 5, f->criteria, -1, SQLITE_STATIC);
	if (create)
		sqlite3_bind_text(s, 6, f->tags, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, mm_now_ms());
	rc = exec_changes(db, q, err, create ? "creating a filter" : "updating a filter");
	if (rc > 0)
		db->gen++;
	pthread_mutex_unlock(&db->mu);
	if (rc == MM_EEXISTS)
		return mm_err_set(err, MM_EEXISTS, "a filter named %s already exists", f->name);
	if (rc == 0)
		return mm_err_set(err, MM_ENOTFOUND, "no filter named %s", f->name);
	return rc < 0 ? rc : 0;
}

static int rows(struct mm_sdb *db, int q, mm_filter_cb cb, void *ctx, struct mm_err *err)
{
	sqlite3_stmt *s = db->q[q];
	int rc, n = 0, stop = 0;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct mm_filter_row r;
		r.name = (const char *)sqlite3_column_text(s, 0);
		r.description = (const char *)sqlite3_column_text(s, 1);
		r.action = (const char *)sqlite3_column_text(s, 2);
		r.rank = (long)sqlite3_column_int64(s, 3);
		r.criteria = (const char *)sqlite3_column_text(s, 4);
		r.tags = (const char *)sqlite3_column_text(s, 5);
		r.created_ms = sqlite3_column_int64(s, 6);
		r.updated_ms = sqlite3_column_int64(s, 7);
		n++;
		stop = cb(ctx, &r);
	}
	if (!stop && rc != SQLITE_DONE)
		n = fail(db, err, "reading filters");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return stop ? stop : n;
}

int mm_sdb_filter_get(struct mm_sdb *db, const char *name, mm_filter_cb cb, void *ctx,
		      struct mm_err *err)
{
	int rc;
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(db->q[Q_F_GET], 1, name, -1, SQLITE_STATIC);
	rc = rows(db, Q_F_GET, cb, ctx, err);
	pthread_mutex_unlock(&db->mu);
	return rc < 0 ? rc : rc > 0;
}

int mm_sdb_filter_each(struct mm_sdb *db, mm_filter_cb cb, void *ctx, struct mm_err *err)
{
	int rc;
	pthread_mutex_lock(&db->mu);
	rc = rows(db, Q_F_EACH, cb, ctx, err);
	pthread_mutex_unlock(&db->mu);
	return rc < 0 ? rc : 0;
}

int mm_sdb_filter_del(struct mm_sdb *db, const char *name, struct mm_err *err)
{
	int rc;
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(db->q[Q_F_DEL], 1, name, -1, SQLITE_STATIC);
	rc = exec_changes(db, Q_F_DEL, err, "deleting a filter");
	if (rc > 0)
		db->gen++;
	pthread_mutex_unlock(&db->mu);
	return rc < 0 ? rc : rc > 0;
}

uint64_t mm_sdb_set_gen(struct mm_sdb *db)
{
	uint64_t g;
	pthread_mutex_lock(&db->mu);
	g = db->set_gen;
	pthread_mutex_unlock(&db->mu);
	return g;
}

int mm_sdb_set_put(struct mm_sdb *db, int create, const struct mm_set_row *r, struct mm_err *err)
{
	int q = create ? Q_S_INSERT : Q_S_REPLACE, rc;
	sqlite3_stmt *s = db->q[q];
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->format, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->location, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->tags, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, r->file, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, r->error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, mm_now_ms());
	rc = exec_changes(db, q, err, create ? "creating a list set" : "updating a list set");
	if (rc > 0)
		db->set_gen++;
	pthread_mutex_unlock(&db->mu);
	if (rc == MM_EEXISTS)
		return mm_err_set(err, MM_EEXISTS, "a set named %s already exists", r->name);
	if (rc == 0)
		return mm_err_set(err, MM_ENOTFOUND, "no such set: %s", r->id);
	return rc < 0 ? rc : 0;
}

static int set_rows(struct mm_sdb *db, int q, mm_set_cb cb, void *ctx, struct mm_err *err)
{
	sqlite3_stmt *s = db->q[q];
	int rc, n = 0, stop = 0;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct mm_set_row r;
		r.id = (const char *)sqlite3_column_text(s, 0);
		r.kind = (const char *)sqlite3_column_text(s, 1);
		r.name = (const char *)sqlite3_column_text(s, 2);
		r.format = (const char *)sqlite3_column_text(s, 3);
		r.location = (const char *)sqlite3_column_text(s, 4);
		r.status = (const char *)sqlite3_column_text(s, 5);
		r.tags = (const char *)sqlite3_column_text(s, 6);
		r.file = (const char *)sqlite3_column_text(s, 7);
		r.error = (const char *)sqlite3_column_text(s, 8);
		r.created_ms = sqlite3_column_int64(s, 9);
		r.updated_ms = sqlite3_column_int64(s, 10);
		n++;
		stop = cb(ctx, &r);
	}
	if (!stop && rc != SQLITE_DONE)
		n = fail(db, err, "reading list sets");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return stop ? stop : n;
}

int mm_sdb_set_get(struct mm_sdb *db, const char *kind, const char *id, mm_set_cb cb, void *ctx,
		   struct mm_err *err)
{
	int rc;
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(db->q[Q_S_GET], 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(db->q[Q_S_GET], 2, id, -1, SQLITE_STATIC);
	rc = set_rows(db, Q_S_GET, cb, ctx, err);
	pthread_mutex_unlock(&db->mu);
	return rc < 0 ? rc : rc > 0;
}

int mm_sdb_set_each(struct mm_sdb *db, const char *kind, mm_set_cb cb, void *ctx,
		    struct mm_err *err)
{
	int rc;
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(db->q[Q_S_EACH], 1, kind, -1, SQLITE_STATIC);
	rc = set_rows(db, Q_S_EACH, cb, ctx, err);
	pthread_mutex_unlock(&db->mu);
	return rc < 0 ? rc : 0;
}

int mm_sdb_set_del(struct mm_sdb *db, const char *kind, const char *id, struct mm_err *err)
{
	int rc;
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(db->q[Q_S_DEL], 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(db->q[Q_S_DEL], 2, id, -1, SQLITE_STATIC);
	rc = exec_changes(db, Q_S_DEL, err, "deleting a list set");
	if (rc > 0)
		db->set_gen++;
	pthread_mutex_unlock(&db->mu);
	return rc < 0 ? rc : rc > 0;
}

int mm_sdb_idem_get(struct mm_sdb *db, const char *op, const char *token, char *req_hash,
		    size_t hcap, struct mm_buf *response, struct mm_err *err)
{
	sqlite3_stmt *s = db->q[Q_I_GET];
	int rc, found = 0;
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(s, 1, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, token, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(s, 0);
		const char *r = (const char *)sqlite3_column_text(s, 1);
		snprintf(req_hash, hcap, "%s", h ? h : "");
		if (r && mm_buf_addz(response, r))
			found = mm_err_set(err, MM_ENOMEM, "out of memory");
		else
			found = 1;
	} else if (rc != SQLITE_DONE) {
		found = fail(db, err, "reading a client token");
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	pthread_mutex_unlock(&db->mu);
	return found;
}

int mm_sdb_idem_put(struct mm_sdb *db, const char *op, const char *token, const char *req_hash,
		    const char *response, struct mm_err *err)
{
	sqlite3_stmt *s = db->q[Q_I_PUT];
	int rc;
	pthread_mutex_lock(&db->mu);
	sqlite3_bind_text(s, 1, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, req_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, response, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, mm_now_ms());
	rc = exec_changes(db, Q_I_PUT, err, "recording a client token");
	pthread_mutex_unlock(&db->mu);
	return rc < 0 ? rc : 0;
}
