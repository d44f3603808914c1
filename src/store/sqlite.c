/* sqlite.c - the findings store on SQLite (store.h).
 *
 * One file in WAL mode so readers (`mamori findings list`, the server)
 * never block the scanner that writes. The schema is versioned with
 * PRAGMA user_version and brought up to date on open by an ordered table
 * of migration steps, one transaction each. The statements the scanner
 * runs per finding or per file are prepared once and cached in the
 * handle; list queries, whose shape depends on the filter, are prepared
 * per call (they run once per command, not per record).
 *
 * Every SQLite failure becomes MM_EDB with "what we were doing: SQLite's
 * message" in the caller's struct mm_err. SQLite allocates through its
 * own allocator, not mm_malloc: fault injection covers only our side. */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/intern.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"

#define MM_STORE_BUSY_MS 5000
#define MM_STORE_PATH_MAX 4096
#define MM_STORE_ID_PREFIX_MIN 6
#define MM_STORE_LOCK_POLL_MS 50

enum {
	Q_FILE_GET,
	Q_FILE_PUT,
	Q_FIND_LOAD,
	Q_FIND_PUT,
	Q_FIND_DEL,
	Q_INV_PUT,
	Q_INV_EACH,
	Q_STATE_PUT,
	Q_STATE_DEL,
	Q_STATE_CLEAR,
	Q_STATE_EACH,
	Q_STATE_GET,
	Q_FIND_HAS,
	Q_FIND_DEL_STATE_TR,
	Q_FIND_DEL_TR,
	Q_FILE_BY_CONTENT,
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_COUNT
};

static const char *const q_sql[Q_COUNT] = {
	[Q_FILE_GET] = "SELECT size, mtime, head_hash, offset, line, complete FROM files WHERE path = ?1",
	[Q_FILE_PUT] = "INSERT OR REPLACE INTO files(path, size, mtime, head_hash, offset, line, complete)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	/* no held condition: merging must find a held row too (store.h) */
	[Q_FIND_LOAD] = "SELECT count, first_seen, last_seen, created_at, archived, evidence, json"
			" FROM findings WHERE id = ?1",
	[Q_FIND_PUT] = "INSERT OR REPLACE INTO findings(id, type, severity, resource, account, region,"
		       " count, first_seen, last_seen, created_at, updated_at, archived, evidence, json,"
		       " held, j_severity, j_updated, j_created, j_account, j_region, j_instance, j_akid)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
		       " ?17, ?18, ?19, ?20, ?21, ?22)",
	[Q_FIND_DEL] = "DELETE FROM findings WHERE id = ?1",
	[Q_INV_PUT] = "INSERT OR REPLACE INTO inventory(instance_id, json) VALUES (?1, ?2)",
	[Q_INV_EACH] = "SELECT instance_id, json FROM inventory ORDER BY instance_id",
	[Q_STATE_PUT] = "INSERT OR REPLACE INTO detector_state(detector, entity, version, state,"
			" updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_STATE_DEL] = "DELETE FROM detector_state WHERE detector = ?1 AND entity = ?2",
	[Q_STATE_CLEAR] = "DELETE FROM detector_state WHERE detector = ?1",
	[Q_STATE_EACH] = "SELECT entity, version, state FROM detector_state WHERE detector = ?1"
			 " ORDER BY entity",
	[Q_STATE_GET] = "SELECT version, state FROM detector_state WHERE detector = ?1 AND entity = ?2",
	[Q_FIND_HAS] = "SELECT 1 FROM findings WHERE type = ?1 AND resource = ?2 LIMIT 1",
	[Q_FIND_DEL_STATE_TR] = "DELETE FROM detector_state WHERE detector = 'finding' AND entity IN"
				" (SELECT id FROM findings WHERE type = ?1 AND resource = ?2)",
	[Q_FIND_DEL_TR] = "DELETE FROM findings WHERE type = ?1 AND resource = ?2",
	[Q_FILE_BY_CONTENT] = "SELECT path, size, mtime, head_hash, offset, line, complete FROM files"
			      " WHERE head_hash = ?1 AND size <= ?2 ORDER BY size DESC, path LIMIT 1",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
};

/* Schema 1: the tables of the first release, exactly as it created them.
 * IF NOT EXISTS makes the step also adopt a file that has the tables but
 * user_version 0 (written before the version was recorded). */
static const char schema_v1_sql[] =
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

/* Schema 2: findings held back until their instance is known, and the
 * detectors' per-entity state. The partial index holds only held rows,
 * so mm_store_held_each does not scan the table and costs nothing for
 * the (many) ordinary findings. */
static const char schema_v2_sql[] =
	"ALTER TABLE findings ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX IF NOT EXISTS findings_held ON findings(id) WHERE held != 0;"
	"CREATE TABLE IF NOT EXISTS detector_state("
	" detector TEXT NOT NULL, entity TEXT NOT NULL, version INTEGER NOT NULL,"
	" state BLOB, updated_ms INTEGER NOT NULL, PRIMARY KEY(detector, entity));"
	"CREATE INDEX IF NOT EXISTS files_content ON files(head_hash, size);";

/* Schema 3: the GuardDuty API's common findingCriteria and sort keys,
 * indexed. Each j_ column is a VIRTUAL generated column that reads the
 * value out of the finding's own JSON, so the index can never disagree
 * with what the API's JSON matcher sees (an archive that rewrites the
 * JSON in place moves the index with it); only the indexes store values.
 * type, severity and archived already have real columns and indexes.
 * Sort keys carry id so ties page stably (keyset pagination). */
static const char schema_v3_sql[] =
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
	"CREATE INDEX IF NOT EXISTS findings_j_severity ON findings(j_severity, id);"
	"CREATE INDEX IF NOT EXISTS findings_j_updated ON findings(j_updated, id);"
	"CREATE INDEX IF NOT EXISTS findings_j_created ON findings(j_created, id);"
	"CREATE INDEX IF NOT EXISTS findings_j_account ON findings(j_account);"
	"CREATE INDEX IF NOT EXISTS findings_j_region ON findings(j_region);"
	"CREATE INDEX IF NOT EXISTS findings_j_instance ON findings(j_instance);"
	"CREATE INDEX IF NOT EXISTS findings_j_akid ON findings(j_akid);";

/* Schema 4: the j_ columns become plain columns the store fills from the
 * finding's JSON as it writes it (mm_store_jcols_of below), with the same
 * indexes. As VIRTUAL generated columns SQLite evaluated json_extract on
 * the whole JSON for each column at every insert and again for each
 * index: measured on the DNS benchmark's 12 950 findings, inserting them
 * took 0.378 s, 0.162 s with plain columns (sqlite3 3.40, one
 * transaction, all 14 indexes). The values are the same ones: read out
 * of the same JSON, json_extract's types (integer or real severity,
 * strings unescaped, NULL when absent), and nothing else rewrites the
 * JSON's severity, times, account, region, instance or key (an archive
 * flips "archived" only). Existing rows are filled by json_extract. */
static const char schema_v4_sql[] =
	"DROP INDEX IF EXISTS findings_j_severity; DROP INDEX IF EXISTS findings_j_updated;"
	"DROP INDEX IF EXISTS findings_j_created; DROP INDEX IF EXISTS findings_j_account;"
	"DROP INDEX IF EXISTS findings_j_region; DROP INDEX IF EXISTS findings_j_instance;"
	"DROP INDEX IF EXISTS findings_j_akid;"
	"ALTER TABLE findings DROP COLUMN j_severity; ALTER TABLE findings DROP COLUMN j_updated;"
	"ALTER TABLE findings DROP COLUMN j_created; ALTER TABLE findings DROP COLUMN j_account;"
	"ALTER TABLE findings DROP COLUMN j_region; ALTER TABLE findings DROP COLUMN j_instance;"
	"ALTER TABLE findings DROP COLUMN j_akid;"
	"ALTER TABLE findings ADD COLUMN j_severity; ALTER TABLE findings ADD COLUMN j_updated;"
	"ALTER TABLE findings ADD COLUMN j_created; ALTER TABLE findings ADD COLUMN j_account;"
	"ALTER TABLE findings ADD COLUMN j_region; ALTER TABLE findings ADD COLUMN j_instance;"
	"ALTER TABLE findings ADD COLUMN j_akid;"
	"UPDATE findings SET j_severity = json_extract(json, '$.severity'),"
	" j_updated = json_extract(json, '$.updatedAt'),"
	" j_created = json_extract(json, '$.createdAt'),"
	" j_account = json_extract(json, '$.accountId'),"
	" j_region = json_extract(json, '$.region'),"
	" j_instance = json_extract(json, '$.resource.instanceDetails.instanceId'),"
	" j_akid = json_extract(json, '$.resource.accessKeyDetails.accessKeyId');"
	"CREATE INDEX IF NOT EXISTS findings_j_severity ON findings(j_severity, id);"
	"CREATE INDEX IF NOT EXISTS findings_j_updated ON findings(j_updated, id);"
	"CREATE INDEX IF NOT EXISTS findings_j_created ON findings(j_created, id);"
	"CREATE INDEX IF NOT EXISTS findings_j_account ON findings(j_account);"
	"CREATE INDEX IF NOT EXISTS findings_j_region ON findings(j_region);"
	"CREATE INDEX IF NOT EXISTS findings_j_instance ON findings(j_instance);"
	"CREATE INDEX IF NOT EXISTS findings_j_akid ON findings(j_akid);";

/* The migration steps, in order: step i takes the file from version
 * migrations[i].to - 1 to .to. A new schema is a new line here, never an
 * edit of a shipped step (files in the field already ran it). */
static const struct migration {
	int to;
	const char *what;
	const char *sql;
} migrations[] = {
	{1, "creating the tables", schema_v1_sql},
	{2, "adding held findings and detector state", schema_v2_sql},
	{3, "indexing the API's finding criteria", schema_v3_sql},
	{4, "storing the criteria columns instead of computing them", schema_v4_sql},
};

#define MM_STORE_SCHEMA ((int)(sizeof(migrations) / sizeof(migrations[0])))

struct mm_store {
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	int schema;	/* the file's version (older than current only read-only) */
	int readonly;
	int lock_fd;	/* <db>.lock while mm_store_lock holds it, else -1 */
	int has_rowmatch;	/* mm_rowmatch() registered on this connection */
	char path[MM_STORE_PATH_MAX];
};

static int db_fail(struct mm_store *st, struct mm_err *err, const char *what)
{
	return mm_err_set(err, MM_EDB, "%s: %s (database %s)", what,
			  st->db ? sqlite3_errmsg(st->db) : "no handle", st->path);
}

/* The cached statement for q, reset and unbound, or NULL. */
static sqlite3_stmt *stmt(struct mm_store *st, int q)
{
	sqlite3_stmt *s = st->q[q];
	if (!s) {
		if (sqlite3_prepare_v3(st->db, q_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &st->q[q],
				       NULL) != SQLITE_OK)
			return NULL;
		return st->q[q];
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* The directory part of path must exist: SQLite's own message for a
 * missing directory ("unable to open database file") does not say why. */
static int check_dir(const char *path, struct mm_err *err)
{
	char dir[MM_STORE_PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat sb;
	size_t n;

	if (!slash)
		return 0;
	n = (size_t)(slash - path);
	if (n == 0)
		return 0;	/* "/file" */
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (stat(dir, &sb) != 0)
		return mm_err_set(err, MM_EIO,
				  "cannot create database %s: directory %s does not exist (%s); "
				  "create it first or choose another path",
				  path, dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return mm_err_set(err, MM_EIO, "cannot create database %s: %s is not a directory",
				  path, dir);
	return 0;
}

static int user_version(struct mm_store *st, int *out)
{
	sqlite3_stmt *s = NULL;
	int rc = MM_EDB;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW)
		goto out;
	*out = sqlite3_column_int(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static int newer_schema(struct mm_store *st, int ver, struct mm_err *err)
{
	return mm_err_set(err, MM_EDB,
			  "database %s was written by a newer mamori (schema %d, this build knows "
			  "%d); upgrade mamori",
			  st->path, ver, MM_STORE_SCHEMA);
}

/* Run one migration step in its own transaction. The version is read
 * again inside the (IMMEDIATE, so exclusive for writers) transaction: a
 * second process that opened the same old file at the same moment waits
 * here and then finds the step already done. */
static int migrate_step(struct mm_store *st, const struct migration *m, struct mm_err *err)
{
	char sql[64];
	int ver = 0, rc;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (user_version(st, &ver))
		goto fail;
	if (ver >= m->to) {
		if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
		return 0;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", m->to);
	if (sqlite3_exec(st->db, m->sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	rc = mm_err_set(err, MM_EDB, "upgrading database %s to schema %d (%s): %s", st->path,
			m->to, m->what, sqlite3_errmsg(st->db));
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int setup(struct mm_store *st, struct mm_err *err)
{
	size_t i;
	int ver = 0, rc;

	if (sqlite3_busy_timeout(st->db, MM_STORE_BUSY_MS) != SQLITE_OK)
		return db_fail(st, err, "setting busy timeout");
	/* Refuse a newer file before touching it in any way. */
	if (user_version(st, &ver))
		return db_fail(st, err, "reading schema version");
	if (ver > MM_STORE_SCHEMA)
		return newer_schema(st, ver, err);
	/* journal_mode returns a row; exec ignores it. WAL lets readers run
	 * while a scan writes; NORMAL sync is durable across app crashes and
	 * loses at most the last commits on power loss, the usual WAL trade. */
	/* A finding's row is ~3 KB (its JSON): 16 KiB pages hold several
	 * instead of one, so bulk writes touch a quarter of the pages. Only
	 * takes effect on a new, empty database (before WAL is set). */
	if (sqlite3_exec(st->db, "PRAGMA page_size=16384", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, err, "setting the page size");
	if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, err, "enabling WAL mode");
	if (sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF", NULL, NULL,
			 NULL) != SQLITE_OK)
		return db_fail(st, err, "setting synchronous mode");
	for (i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		assert(migrations[i].to == (int)i + 1);
		if (migrations[i].to > ver && (rc = migrate_step(st, &migrations[i], err)))
			return rc;
	}
	if (user_version(st, &ver))
		return db_fail(st, err, "reading schema version");
	if (ver > MM_STORE_SCHEMA)	/* a newer mamori upgraded it meanwhile */
		return newer_schema(st, ver, err);
	st->schema = ver;
	return 0;
}

/* Create a new database file 0600 (it holds access key ids and
 * addresses) before SQLite opens it; SQLite would create it 0644 & ~umask.
 * O_EXCL makes this race-free: if the file appeared meanwhile (or always
 * existed) we leave it and its mode alone. Changing the umask instead
 * would be process-wide, and the scanner's other threads create files
 * too. SQLite gives the -wal and -shm files the mode of the database
 * file, so they are 0600 as well. */
static int create_private(const char *path, struct mm_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EEXIST || access(path, F_OK) == 0)
		return 0;
	return mm_err_set(err, MM_EIO, "cannot create database %s: %s", path, strerror(errno));
}

static int store_new(struct mm_store **out, const char *path, struct mm_err *err)
{
	struct mm_store *st;

	*out = NULL;
	if (!path || !*path)
		return mm_err_set(err, MM_EINVAL, "no database path given");
	if (strlen(path) >= MM_STORE_PATH_MAX)
		return mm_err_set(err, MM_EINVAL, "database path too long");
	st = mm_calloc(1, sizeof(*st));
	if (!st)
		return mm_err_set(err, MM_ENOMEM, "opening database %s: out of memory", path);
	st->lock_fd = -1;
	snprintf(st->path, sizeof(st->path), "%s", path);
	*out = st;
	return 0;
}

int mm_store_open(struct mm_store **out, const char *path, struct mm_err *err)
{
	struct mm_store *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = store_new(&st, path, err)))
		return rc;
	if ((rc = check_dir(path, err)) || (rc = create_private(path, err)))
		goto out;
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "opening database");
		goto out;
	}
	rc = setup(st, err);
out:
	if (rc) {
		mm_store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* Does table exist? 1/0, negative on error. */
static int has_table(struct mm_store *st, const char *table)
{
	sqlite3_stmt *s = NULL;
	int rc = MM_EDB;

	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : MM_EDB;
out:
	sqlite3_finalize(s);
	return rc;
}

/* "file:" + path percent-encoded + query, for a URI open. */
static int uri_for(char *dst, size_t cap, const char *path, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	const unsigned char *p;

	n = (size_t)snprintf(dst, cap, "file:");
	for (p = (const unsigned char *)path; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr("/-._~", *p);
		if (n + 4 >= cap)
			return MM_ETOOBIG;
		if (plain) {
			dst[n++] = (char)*p;
		} else {
			dst[n++] = '%';
			dst[n++] = hex[*p >> 4];
			dst[n++] = hex[*p & 15];
		}
	}
	if (n + strlen(query) + 1 > cap)
		return MM_ETOOBIG;
	memcpy(dst + n, query, strlen(query) + 1);
	return 0;
}

int mm_store_open_ro(struct mm_store **out, const char *path, struct mm_err *err)
{
	struct mm_store *st = NULL;
	char wal[MM_STORE_PATH_MAX + 8];
	char *uri = NULL;
	size_t cap;
	int rc, ver = 0;

	*out = NULL;
	if ((rc = store_new(&st, path, err)))
		return rc;
	st->readonly = 1;
	if (access(path, F_OK) != 0) {
		rc = mm_err_set(err, MM_EIO, "cannot open database %s: %s", path, strerror(errno));
		goto out;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		rc = db_fail(st, err, "opening database read-only");
		goto out;
	}
	sqlite3_busy_timeout(st->db, MM_STORE_BUSY_MS);
	/* the first read: this is where WAL needs the -shm file */
	if (user_version(st, &ver)) {
		/* A WAL reader needs the -shm file; a user who may not write
		 * the directory cannot create it. When no -wal file exists no
		 * writer has uncheckpointed data, so the main file alone is the
		 * whole database: read it as immutable (no locks, no -shm).
		 * With a -wal present that would silently miss recent commits,
		 * so we refuse and say why instead. */
		snprintf(wal, sizeof(wal), "%s-wal", path);
		if (access(wal, F_OK) == 0) {
			rc = mm_err_set(err, MM_EDB,
					"cannot read database %s read-only: %s; a scan may be "
					"writing it, or its -shm file cannot be created (ask its "
					"owner, or run as a user who may write %s)",
					path, sqlite3_errmsg(st->db), path);
			goto out;
		}
		sqlite3_close(st->db);
		st->db = NULL;
		cap = strlen(path) * 3 + 32;
		uri = mm_malloc(cap);
		if (!uri) {
			rc = mm_err_set(err, MM_ENOMEM, "opening database %s: out of memory", path);
			goto out;
		}
		if ((rc = uri_for(uri, cap, path, "?immutable=1"))) {
			rc = mm_err_set(err, MM_EINVAL, "database path too long");
			goto out;
		}
		if (sqlite3_open_v2(uri, &st->db,
				    SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
				    NULL) != SQLITE_OK ||
		    user_version(st, &ver)) {
			rc = db_fail(st, err, "opening database read-only");
			goto out;
		}
	}
	if (ver > MM_STORE_SCHEMA) {
		rc = newer_schema(st, ver, err);
		goto out;
	}
	if (ver == 0) {
		/* the first release's files may say 0 and still hold tables */
		rc = has_table(st, "findings");
		if (rc < 0) {
			rc = db_fail(st, err, "opening database read-only");
			goto out;
		}
		if (rc == 0) {
			rc = mm_err_set(err, MM_EDB,
					"database %s has no findings tables yet; run `mamori scan` "
					"once (as a user who may write it)",
					path);
			goto out;
		}
		ver = 1;
	}
	st->schema = ver;
	rc = 0;
out:
	mm_free(uri);
	if (rc) {
		mm_store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

int mm_store_schema(const struct mm_store *st)
{
	return st->schema;
}

void mm_store_close(struct mm_store *st)
{
	int i;

	if (!st)
		return;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->q[i]);
	sqlite3_close(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd);	/* releases the flock */
	mm_free(st);
}

static int run_simple(struct mm_store *st, int q, struct mm_err *err, const char *what)
{
	sqlite3_stmt *s = stmt(st, q);
	int rc;

	if (!s)
		return db_fail(st, err, what);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		rc = db_fail(st, err, what);
		sqlite3_reset(s);
		return rc;
	}
	sqlite3_reset(s);
	return 0;
}

int mm_store_begin(struct mm_store *st, struct mm_err *err)
{
	/* SQLite would begin, and fail only at the first write */
	if (st->readonly)
		return mm_err_set(err, MM_EDB, "beginning transaction: database %s is open read-only",
				  st->path);
	return run_simple(st, Q_BEGIN, err, "beginning transaction");
}

int mm_store_commit(struct mm_store *st, struct mm_err *err)
{
	return run_simple(st, Q_COMMIT, err, "committing transaction");
}

int mm_store_rollback(struct mm_store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;	/* nothing open: SQLite may have rolled back already */
	return run_simple(st, Q_ROLLBACK, NULL, "rolling back");
}

/* ---- files ---- */

int mm_store_file_get(struct mm_store *st, const char *path, struct mm_file_state *fs)
{
	sqlite3_stmt *s = stmt(st, Q_FILE_GET);
	int rc;

	if (!s)
		return MM_EDB;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		fs->size = (uint64_t)sqlite3_column_int64(s, 0);
		fs->mtime = sqlite3_column_int64(s, 1);
		fs->head_hash = (uint64_t)sqlite3_column_int64(s, 2);
		fs->offset = (uint64_t)sqlite3_column_int64(s, 3);
		fs->line = (uint64_t)sqlite3_column_int64(s, 4);
		fs->complete = sqlite3_column_int(s, 5);
		rc = 1;
	} else {
		rc = rc == SQLITE_DONE ? 0 : MM_EDB;
	}
	sqlite3_reset(s);
	return rc;
}

int mm_store_file_put(struct mm_store *st, const char *path, const struct mm_file_state *fs,
		      struct mm_err *err)
{
	sqlite3_stmt *s = stmt(st, Q_FILE_PUT);
	int rc = 0;

	if (!s)
		return db_fail(st, err, "saving file state");
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	/* uint64 values are stored as their int64 bit pattern: head_hash
	 * uses all 64 bits, and the cast back restores it exactly. */
	sqlite3_bind_int64(s, 2, (sqlite3_int64)fs->size);
	sqlite3_bind_int64(s, 3, fs->mtime);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)fs->head_hash);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)fs->offset);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)fs->line);
	sqlite3_bind_int(s, 7, fs->complete ? 1 : 0);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = mm_err_set(err, MM_EDB, "saving file state for %s: %s (database %s)", path,
				sqlite3_errmsg(st->db), st->path);
	sqlite3_reset(s);
	return rc;
}


/* Parse the evidence column back into f->ev. A malformed column is
 * treated as no evidence (MM_EPARSE returned so tests can see it). */
static int evidence_from_json(struct mm_finding *f, const char *p, size_t n)
{
	char mem[1024];
	struct mm_arena ar;
	struct mm_json_val arr, el, v;
	struct mm_json_iter it;
	struct mm_str key;
	size_t used;
	int rc;

	f->nevidence = 0;
	if (!p || n == 0)
		return 0;
	if ((rc = mm_json_value(p, n, &arr, &used)))
		return rc;
	if (arr.type != MM_JSON_ARRAY)
		return MM_EPARSE;
	if ((rc = mm_json_iter_init(&it, &arr)))
		return rc;
	while ((rc = mm_json_iter_next(&it, &key, &el)) == 1) {
		struct mm_evidence *e;
		struct mm_str s;
		int64_t x;

		if (el.type != MM_JSON_OBJECT)
			return MM_EPARSE;
		if (f->nevidence >= MM_EVIDENCE_MAX)
			break;
		e = &f->ev[f->nevidence];
		memset(e, 0, sizeof(*e));
		mm_arena_init(&ar, mem, sizeof(mem));
		if (mm_json_get(&el, "file", &v) == 1 && mm_json_str(&v, &ar, &s) == 0)
			e->file = mm_intern(s.p, s.n);
		if (mm_json_get(&el, "line", &v) == 1 && mm_json_int(&v, &x) == 0)
			e->line = (uint64_t)x;
		if (mm_json_get(&el, "offset", &v) == 1 && mm_json_int(&v, &x) == 0)
			e->offset = (uint64_t)x;
		if (mm_json_get(&el, "time", &v) == 1) {
			/* ms in the evidence column of old rows, ISO 8601 in the JSON */
			if (v.type == MM_JSON_STRING && mm_json_str(&v, &ar, &s) == 0 &&
			    mm_time_parse_iso(s.p, s.n, &x) == 0)
				e->time_ms = x;
			else if (mm_json_int(&v, &x) == 0)
				e->time_ms = x;
		}
		f->nevidence++;
	}
	return rc < 0 ? rc : 0;
}

int mm_store_finding_load_state(struct mm_store *st, struct mm_finding *f)
{
	sqlite3_stmt *s = stmt(st, Q_FIND_LOAD);
	int rc;

	if (!s)
		return MM_EDB;
	sqlite3_bind_text(s, 1, f->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		f->count = (uint64_t)sqlite3_column_int64(s, 0);
		f->first_seen_ms = sqlite3_column_int64(s, 1);
		f->last_seen_ms = sqlite3_column_int64(s, 2);
		f->created_at_ms = sqlite3_column_int64(s, 3);
		f->archived = sqlite3_column_int(s, 4);
		if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
			if (evidence_from_json(f, (const char *)sqlite3_column_text(s, 5),
					       (size_t)sqlite3_column_bytes(s, 5)))
				f->nevidence = 0;
		} else {
			/* the evidence lives once, in the finding's
			 * service.additionalInfo.evidence (service.mamoriEvidence
			 * before schema 2; writing it twice cost a third of the
			 * database's size) */
			const char *j = (const char *)sqlite3_column_text(s, 6);
			struct mm_json_val doc, ev;
			size_t used;
			f->nevidence = 0;
			if (j && mm_json_value(j, (size_t)sqlite3_column_bytes(s, 6), &doc, &used) == 0 &&
			    (mm_json_path(&doc, "service.additionalInfo.evidence", &ev) == 1 ||
			     mm_json_path(&doc, "service.mamoriEvidence", &ev) == 1) &&
			    evidence_from_json(f, ev.p, ev.n))
				f->nevidence = 0;
		}
		rc = 1;
	} else {
		rc = rc == SQLITE_DONE ? 0 : MM_EDB;
	}
	sqlite3_reset(s);
	return rc;
}

int mm_store_finding_put(struct mm_store *st, const struct mm_finding *f, const char *json,
			 struct mm_err *err)
{
	return mm_store_finding_put_held(st, f, json, 0, err);
}

/* Bind what json_extract(json, path) would give for v (found), as the
 * schema 3 columns computed it: NULL when absent or null, a string
 * unescaped, a number as an integer when its text is one (and fits),
 * else a real, true/false as 1/0, a container as its text. */
static void bind_json(sqlite3_stmt *s, int i, int found, const struct mm_json_val *v)
{
	char num[64], *e;
	size_t k;
	int integral = 1;

	if (found != 1 || v->type == MM_JSON_NULL) {
		sqlite3_bind_null(s, i);
		return;
	}
	switch (v->type) {
	case MM_JSON_STRING: {
		char small[256], *d = v->n - 2 < sizeof(small) ? small : mm_malloc(v->n - 1);
		size_t n;
		if (!d || mm_json_unescape(v->p + 1, v->n - 2, d, &n)) {
			sqlite3_bind_null(s, i);
		} else {
			sqlite3_bind_text(s, i, d, (int)n, SQLITE_TRANSIENT);
		}
		if (d && d != small)
			mm_free(d);
		return;
	}
	case MM_JSON_NUMBER:
		if (v->n >= sizeof(num)) {
			sqlite3_bind_null(s, i);
			return;
		}
		memcpy(num, v->p, v->n);
		num[v->n] = '\0';
		for (k = 0; k < v->n; k++)
			if (num[k] == '.' || num[k] == 'e' || num[k] == 'E')
				integral = 0;
		if (integral) {
			long long ll;
			errno = 0;
			ll = strtoll(num, &e, 10);
			if (!errno && !*e) {
				sqlite3_bind_int64(s, i, ll);
				return;
			}
		}
		sqlite3_bind_double(s, i, strtod(num, NULL));
		return;
	case MM_JSON_TRUE:
	case MM_JSON_FALSE:
		sqlite3_bind_int(s, i, v->type == MM_JSON_TRUE);
		return;
	default:
		sqlite3_bind_text(s, i, v->p, (int)v->n, SQLITE_TRANSIENT);
		return;
	}
}

/* The j_ columns' values from the finding's JSON (schema 4), in one
 * walk of its members (the first of a repeated key, as json_extract).
 * Reads json only: the pipelined writer finds them on its rendering
 * thread, beside the one that writes the store (~15% of a finding's
 * work on the writing thread: callgrind, the CloudTrail bench with the
 * Sigma rules). */
void mm_store_jcols_of(const char *json, struct mm_store_jcols *jc)
{
	static const char *const top_keys[] = {"severity", "updatedAt", "createdAt", "accountId",
					       "region"};
	struct mm_json_val top, v, res = {.type = MM_JSON_INVALID}, d;
	struct mm_json_iter it;
	struct mm_str k;
	int i, have_res = 0;

	memset(jc, 0, sizeof(*jc));
	/* the walk validates what it passes: no separate pass over the
	 * whole document first (the renderer wrote it, starting with '{') */
	top.type = MM_JSON_OBJECT;
	top.p = json;
	top.n = json ? strlen(json) : 0;
	if (json && json[0] == '{' && mm_json_iter_init(&it, &top) == 0) {
		while (mm_json_iter_next(&it, &k, &v) == 1) {
			for (i = 0; i < 5; i++)
				if (!jc->found[i] && mm_json_key_eq(k, top_keys[i])) {
					jc->found[i] = 1;
					jc->val[i] = v;
				}
			if (!have_res && mm_json_key_eq(k, "resource")) {
				have_res = 1;
				res = v;
			}
		}
		if (have_res && res.type == MM_JSON_OBJECT) {
			if (mm_json_get(&res, "instanceDetails", &d) == 1 && d.type == MM_JSON_OBJECT &&
			    mm_json_get(&d, "instanceId", &jc->val[5]) == 1)
				jc->found[5] = 1;
			if (mm_json_get(&res, "accessKeyDetails", &d) == 1 &&
			    d.type == MM_JSON_OBJECT && mm_json_get(&d, "accessKeyId", &jc->val[6]) == 1)
				jc->found[6] = 1;
		}
	}
}

int mm_store_finding_put_held(struct mm_store *st, const struct mm_finding *f, const char *json,
			      int held, struct mm_err *err)
{
	return mm_store_finding_put_jc(st, f, json, held, NULL, err);
}

int mm_store_finding_put_jc(struct mm_store *st, const struct mm_finding *f, const char *json,
			    int held, const struct mm_store_jcols *jc, struct mm_err *err)
{
	struct mm_store_jcols own;
	sqlite3_stmt *s;
	char res[300];
	int rc, i;

	s = stmt(st, Q_FIND_PUT);
	if (!s)
		return db_fail(st, err, "saving finding");
	mm_finding_resource_key(f, res, sizeof(res));
	sqlite3_bind_text(s, 1, f->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, f->type, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 3, f->severity);
	sqlite3_bind_text(s, 4, res, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, f->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, f->region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)f->count);
	sqlite3_bind_int64(s, 8, f->first_seen_ms);
	sqlite3_bind_int64(s, 9, f->last_seen_ms);
	sqlite3_bind_int64(s, 10, f->created_at_ms);
	sqlite3_bind_int64(s, 11, f->updated_at_ms);
	sqlite3_bind_int(s, 12, f->archived ? 1 : 0);
	/* evidence column: NULL; the sample is in the JSON's
	 * service.additionalInfo.evidence */
	sqlite3_bind_null(s, 13);
	sqlite3_bind_text(s, 14, json ? json : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 15, held ? 1 : 0);
	if (!jc) {
		mm_store_jcols_of(json, &own);
		jc = &own;
	}
	for (i = 0; i < MM_STORE_JCOLS; i++)
		bind_json(s, 16 + i, jc->found[i], &jc->val[i]);
	rc = 0;
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = mm_err_set(err, MM_EDB, "saving finding %s: %s (database %s)", f->id,
				sqlite3_errmsg(st->db), st->path);
	sqlite3_reset(s);
	return rc;
}

/* The listed columns. A schema 1 file (read-only open) has no held
 * column and no held rows: there it reads as 0, and the visibility
 * condition is "true". */
#define ROW_COLS_BASE                                                                  \
	"SELECT id, type, resource, json, severity, count, first_seen, last_seen, updated_at," \
	" archived, "

static const char *row_cols(const struct mm_store *st)
{
	return st->schema >= 2 ? ROW_COLS_BASE "held FROM findings"
			       : ROW_COLS_BASE "0 FROM findings";
}

/* SQL condition for "listed": not held back. */
static const char *visible(const struct mm_store *st)
{
	return st->schema >= 2 ? "held = 0" : "1";
}

static int emit_row(sqlite3_stmt *s, mm_finding_row_cb cb, void *ctx)
{
	struct mm_finding_row row;

	row.id = (const char *)sqlite3_column_text(s, 0);
	row.type = (const char *)sqlite3_column_text(s, 1);
	row.resource = (const char *)sqlite3_column_text(s, 2);
	row.json = (const char *)sqlite3_column_text(s, 3);
	if (!row.id)
		row.id = "";
	if (!row.type)
		row.type = "";
	if (!row.resource)
		row.resource = "";
	if (!row.json)
		row.json = "{}";
	row.severity = sqlite3_column_double(s, 4);
	row.count = (uint64_t)sqlite3_column_int64(s, 5);
	row.first_seen_ms = sqlite3_column_int64(s, 6);
	row.last_seen_ms = sqlite3_column_int64(s, 7);
	row.updated_ms = sqlite3_column_int64(s, 8);
	row.archived = sqlite3_column_int(s, 9);
	row.held = sqlite3_column_int(s, 10);
	return cb(ctx, &row);
}

/* Step s to the end calling cb per row. Returns rows seen via *nrows. */
static int each_row(struct mm_store *st, sqlite3_stmt *s, mm_finding_row_cb cb, void *ctx,
		    long *nrows, struct mm_err *err, const char *what)
{
	int rc;

	for (;;) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return db_fail(st, err, what);
		if (nrows)
			(*nrows)++;
		if (cb && (rc = emit_row(s, cb, ctx)))
			return rc;
	}
}

int mm_store_findings(struct mm_store *st, const struct mm_finding_filter *flt,
		      mm_finding_row_cb cb, void *ctx, struct mm_err *err)
{
	static const struct mm_finding_filter none;
	char sql[1024];
	char prefix[128];
	size_t tn = 0;
	int n, i = 0, bi = 1, rc, type_prefix = 0;
	sqlite3_stmt *s = NULL;

	if (!flt)
		flt = &none;
	n = snprintf(sql, sizeof(sql), "%s WHERE %s", row_cols(st), visible(st));
	if (flt->type && *flt->type) {
		tn = strlen(flt->type);
		if (flt->type[tn - 1] == '*') {
			type_prefix = 1;
			tn--;
			if (tn >= sizeof(prefix))
				return mm_err_set(err, MM_EINVAL, "type filter too long");
			memcpy(prefix, flt->type, tn);
			prefix[tn] = '\0';
			/* type >= prefix lets the index narrow the scan;
			 * substr() is the exact test. */
			if (tn)
				n += snprintf(sql + n, sizeof(sql) - (size_t)n,
					      " AND type >= ?%d AND substr(type, 1, %zu) = ?%d", bi,
					      tn, bi);
			if (tn)
				bi++;
		} else {
			n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND type = ?%d", bi++);
		}
	}
	if (flt->min_severity > 0)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND severity >= ?%d", bi++);
	if (flt->resource && *flt->resource)
		/* A finding on an instance is keyed by its instance id; an ENI
		 * filter also finds it through the stored instanceDetails. */
		n += snprintf(sql + n, sizeof(sql) - (size_t)n,
			      " AND (resource = ?%d OR instr(json, '\"networkInterfaceId\":\"' || ?%d"
			      " || '\"') > 0)",
			      bi, bi);
	if (flt->resource && *flt->resource)
		bi++;
	if (flt->since_ms)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND last_seen >= ?%d", bi++);
	if (flt->updated_since_ms)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND updated_at >= ?%d", bi++);
	if (!flt->include_archived)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND archived = 0");
	n += snprintf(sql + n, sizeof(sql) - (size_t)n, " ORDER BY last_seen DESC, id");
	if (flt->limit > 0)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " LIMIT ?%d", bi++);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return mm_err_set(err, MM_EINVAL, "filter too long");

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "listing findings");
		goto out;
	}
	i = 1;
	if (flt->type && *flt->type) {
		if (!type_prefix)
			sqlite3_bind_text(s, i++, flt->type, -1, SQLITE_STATIC);
		else if (tn)
			sqlite3_bind_text(s, i++, prefix, (int)tn, SQLITE_STATIC);
	}
	if (flt->min_severity > 0)
		sqlite3_bind_double(s, i++, flt->min_severity);
	if (flt->resource && *flt->resource)
		sqlite3_bind_text(s, i++, flt->resource, -1, SQLITE_STATIC);
	if (flt->since_ms)
		sqlite3_bind_int64(s, i++, flt->since_ms);
	if (flt->updated_since_ms)
		sqlite3_bind_int64(s, i++, flt->updated_since_ms);
	if (flt->limit > 0)
		sqlite3_bind_int64(s, i++, flt->limit);
	rc = each_row(st, s, cb, ctx, NULL, err, "listing findings");
out:
	sqlite3_finalize(s);
	return rc;
}

static int is_id_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-' || c == '_';
}

int mm_store_finding_by_id(struct mm_store *st, const char *id, mm_finding_row_cb cb, void *ctx,
			   struct mm_err *err)
{
	sqlite3_stmt *s = NULL;
	size_t n = id ? strlen(id) : 0, k;
	long nrows = 0;
	char sql[512];
	int rc;

	if (n == 0 || n > 64)
		return mm_err_set(err, MM_EINVAL, "finding id must be 1 to 64 characters");
	/* Ids are hex; refusing other characters also keeps GLOB's
	 * metacharacters out of the prefix pattern. */
	for (k = 0; k < n; k++)
		if (!is_id_char(id[k]))
			return mm_err_set(err, MM_EINVAL, "finding id '%s' has a character ids never have",
					  id);

	snprintf(sql, sizeof(sql), "%s WHERE id = ?1 AND %s", row_cols(st), visible(st));
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "looking up finding");
		goto out;
	}
	sqlite3_bind_text(s, 1, id, (int)n, SQLITE_STATIC);
	if ((rc = each_row(st, s, cb, ctx, &nrows, err, "looking up finding")))
		goto out;
	if (nrows) {
		rc = 1;
		goto out;
	}
	if (n < MM_STORE_ID_PREFIX_MIN) {
		rc = mm_err_set(err, MM_EINVAL,
				"no finding %s; an id prefix needs at least %d characters", id,
				MM_STORE_ID_PREFIX_MIN);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	/* First count (at most 2) so an ambiguous prefix calls cb never. */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM (SELECT 1 FROM findings WHERE id GLOB ?1 || '*' AND %s"
		 " LIMIT 2)",
		 visible(st));
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "looking up finding");
		goto out;
	}
	sqlite3_bind_text(s, 1, id, (int)n, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = db_fail(st, err, "looking up finding");
		goto out;
	}
	nrows = sqlite3_column_int(s, 0);
	if (nrows == 0) {
		rc = 0;
		goto out;
	}
	if (nrows > 1) {
		rc = mm_err_set(err, MM_EINVAL,
				"id prefix %s is ambiguous: it matches more than one finding; give more characters",
				id);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	snprintf(sql, sizeof(sql), "%s WHERE id GLOB ?1 || '*' AND %s", row_cols(st),
		 visible(st));
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "looking up finding");
		goto out;
	}
	sqlite3_bind_text(s, 1, id, (int)n, SQLITE_STATIC);
	nrows = 0;
	if ((rc = each_row(st, s, cb, ctx, &nrows, err, "looking up finding")))
		goto out;
	rc = nrows ? 1 : 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int mm_store_held_each(struct mm_store *st, mm_finding_row_cb cb, void *ctx, struct mm_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st->schema < 2)
		return 0;	/* read-only schema 1 file: nothing can be held */
	/* the WHERE term matches the partial index findings_held */
	if (sqlite3_prepare_v2(st->db, ROW_COLS_BASE "held FROM findings WHERE held != 0 ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "listing held findings");
		goto out;
	}
	rc = each_row(st, s, cb, ctx, NULL, err, "listing held findings");
out:
	sqlite3_finalize(s);
	return rc;
}

int mm_store_finding_delete(struct mm_store *st, const char *id, struct mm_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!id || !*id)
		return mm_err_set(err, MM_EINVAL, "no finding id to delete");
	s = stmt(st, Q_FIND_DEL);
	if (!s)
		return db_fail(st, err, "deleting finding");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = mm_err_set(err, MM_EDB, "deleting finding %s: %s (database %s)", id,
				sqlite3_errmsg(st->db), st->path);
	else
		rc = sqlite3_changes(st->db) > 0 ? 1 : 0;
	sqlite3_reset(s);
	return rc;
}

/* ---- inventory ---- */

int mm_store_inventory_put(struct mm_store *st, const char *instance_id, const char *json,
			   struct mm_err *err)
{
	sqlite3_stmt *s = stmt(st, Q_INV_PUT);
	int rc = 0;

	if (!s)
		return db_fail(st, err, "saving inventory");
	sqlite3_bind_text(s, 1, instance_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, json, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = mm_err_set(err, MM_EDB, "saving inventory for %s: %s (database %s)", instance_id,
				sqlite3_errmsg(st->db), st->path);
	sqlite3_reset(s);
	return rc;
}

int mm_store_inventory_each(struct mm_store *st, mm_inventory_row_cb cb, void *ctx,
			    struct mm_err *err)
{
	sqlite3_stmt *s = stmt(st, Q_INV_EACH);
	int rc;

	if (!s)
		return db_fail(st, err, "reading inventory");
	for (;;) {
		const char *id, *js;
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			rc = db_fail(st, err, "reading inventory");
			break;
		}
		id = (const char *)sqlite3_column_text(s, 0);
		js = (const char *)sqlite3_column_text(s, 1);
		if ((rc = cb(ctx, id ? id : "", js ? js : "{}")))
			break;
	}
	sqlite3_reset(s);
	return rc;
}

/* ---- detector state ---- */

static int state_key_ok(const char *detector, const char *entity, struct mm_err *err)
{
	if (!detector || !*detector || strlen(detector) > MM_STORE_DETECTOR_MAX)
		return mm_err_set(err, MM_EINVAL, "detector name must be 1 to %d bytes",
				  MM_STORE_DETECTOR_MAX);
	if (!entity || strlen(entity) > MM_STORE_ENTITY_MAX)
		return mm_err_set(err, MM_EINVAL, "state entity must be at most %d bytes",
				  MM_STORE_ENTITY_MAX);
	return 0;
}

int mm_store_state_put(struct mm_store *st, const char *detector, const char *entity, int version,
		       const void *blob, size_t n, struct mm_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = state_key_ok(detector, entity, err)))
		return rc;
	if (n > MM_STORE_STATE_MAX)
		return mm_err_set(err, MM_ETOOBIG, "state of %s for %s is %zu bytes, more than %d",
				  detector, entity, n, MM_STORE_STATE_MAX);
	if (n && !blob)
		return mm_err_set(err, MM_EINVAL, "state of %s for %s: no bytes", detector, entity);
	s = stmt(st, Q_STATE_PUT);
	if (!s)
		return db_fail(st, err, "saving detector state");
	sqlite3_bind_text(s, 1, detector, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, entity, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, version);
	/* a zero-length blob, not NULL: each() then always has bytes */
	sqlite3_bind_blob(s, 4, n ? blob : "", (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, mm_now_ms());
	rc = 0;
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = mm_err_set(err, MM_EDB, "saving state of %s for %s: %s (database %s)", detector,
				entity, sqlite3_errmsg(st->db), st->path);
	sqlite3_reset(s);
	return rc;
}

int mm_store_state_del(struct mm_store *st, const char *detector, const char *entity,
		       struct mm_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = state_key_ok(detector, entity, err)))
		return rc;
	s = stmt(st, Q_STATE_DEL);
	if (!s)
		return db_fail(st, err, "deleting detector state");
	sqlite3_bind_text(s, 1, detector, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, entity, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = mm_err_set(err, MM_EDB, "deleting state of %s for %s: %s (database %s)",
				detector, entity, sqlite3_errmsg(st->db), st->path);
	else
		rc = sqlite3_changes(st->db) > 0 ? 1 : 0;
	sqlite3_reset(s);
	return rc;
}

int mm_store_state_clear(struct mm_store *st, const char *detector, struct mm_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = state_key_ok(detector, "", err)))
		return rc;
	s = stmt(st, Q_STATE_CLEAR);
	if (!s)
		return db_fail(st, err, "deleting detector state");
	sqlite3_bind_text(s, 1, detector, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = mm_err_set(err, MM_EDB, "deleting state of %s: %s (database %s)", detector,
				sqlite3_errmsg(st->db), st->path);
	sqlite3_reset(s);
	return rc;
}

int mm_store_state_each(struct mm_store *st, const char *detector, mm_state_row_cb cb, void *ctx,
			struct mm_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = state_key_ok(detector, "", err)))
		return rc;
	if (st->schema < 2)
		return 0;	/* read-only schema 1 file: no state yet */
	s = stmt(st, Q_STATE_EACH);
	if (!s)
		return db_fail(st, err, "reading detector state");
	sqlite3_bind_text(s, 1, detector, -1, SQLITE_STATIC);
	for (;;) {
		const char *entity;
		const void *blob;
		size_t n;

		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			rc = db_fail(st, err, "reading detector state");
			break;
		}
		entity = (const char *)sqlite3_column_text(s, 0);
		blob = sqlite3_column_blob(s, 2);
		n = (size_t)sqlite3_column_bytes(s, 2);
		if ((rc = cb(ctx, entity ? entity : "", sqlite3_column_int(s, 1), blob ? blob : "",
			     blob ? n : 0)))
			break;
	}
	sqlite3_reset(s);
	return rc;
}

/* ---- scan lock ---- */

/* The pid the holder wrote into the lock file, or 0. */
static long lock_holder(int fd)
{
	char b[32];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	b[n] = '\0';
	pid = strtol(b, NULL, 10);
	return pid > 0 ? pid : 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mm_store_lock(struct mm_store *st, int wait_ms, struct mm_err *err)
{
	char path[MM_STORE_PATH_MAX + 8], pid[32];
	int64_t deadline;
	int fd = -1, rc, n;
	long holder;

	if (st->lock_fd >= 0)
		return 0;	/* this handle holds it already */
	snprintf(path, sizeof(path), "%s.lock", st->path);
	/* 0600 like the database; O_CREAT without O_EXCL: the file is meant
	 * to stay (unlinking it on release would let a third process lock a
	 * new file while a second still holds the old one). */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return mm_err_set(err, MM_EIO, "cannot open lock file %s: %s", path,
				  strerror(errno));
	deadline = mono_ms() + (wait_ms > 0 ? wait_ms : 0);
	for (;;) {
		struct timespec nap = {0, MM_STORE_LOCK_POLL_MS * 1000000L};

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			rc = mm_err_set(err, MM_EIO, "cannot lock %s: %s", path, strerror(errno));
			goto out;
		}
		if (mono_ms() >= deadline) {
			holder = lock_holder(fd);
			if (holder)
				rc = mm_err_set(err, MM_EBUSY,
						"%s is in use by another mamori process (pid %ld); "
						"wait for it, or pass --wait SECONDS",
						st->path, holder);
			else
				rc = mm_err_set(err, MM_EBUSY,
						"%s is in use by another mamori process; wait for it, "
						"or pass --wait SECONDS",
						st->path);
			goto out;
		}
		nanosleep(&nap, NULL);
	}
	/* ours: say who holds it, for the message of the one that waits */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		rc = mm_err_set(err, MM_EIO, "cannot write lock file %s: %s", path, strerror(errno));
		goto out;
	}
	st->lock_fd = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

const char *mm_store_default_path(void)
{
	const char *e = getenv("MAMORI_DB");
	return e && *e ? e : "./mamori.db";
}

int mm_store_state_get(struct mm_store *st, const char *detector, const char *entity, int *version,
		       struct mm_buf *out, struct mm_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = state_key_ok(detector, entity, err)))
		return rc;
	if (st->schema < 2)
		return 0;
	s = stmt(st, Q_STATE_GET);
	if (!s)
		return db_fail(st, err, "reading detector state");
	sqlite3_bind_text(s, 1, detector, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, entity, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = 1;
		if (out) {
			const void *b = sqlite3_column_blob(s, 1);
			size_t n = (size_t)sqlite3_column_bytes(s, 1);
			if (mm_buf_add(out, b ? b : "", n))
				rc = mm_err_set(err, MM_ENOMEM, "reading state of %s for %s: out of memory",
						detector, entity);
		}
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = mm_err_set(err, MM_EDB, "reading state of %s for %s: %s (database %s)", detector,
				entity, sqlite3_errmsg(st->db), st->path);
	}
	sqlite3_reset(s);
	return rc;
}

int mm_store_has_finding(struct mm_store *st, const char *type, const char *resource,
			 struct mm_err *err)
{
	sqlite3_stmt *s = stmt(st, Q_FIND_HAS);
	int rc;

	if (!s)
		return db_fail(st, err, "looking up a finding");
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, resource, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_fail(st, err, "looking up a finding");
	sqlite3_reset(s);
	return rc;
}

int mm_store_delete_findings(struct mm_store *st, const char *type, const char *resource,
			     struct mm_err *err)
{
	int q[2] = {Q_FIND_DEL_STATE_TR, Q_FIND_DEL_TR}, i, rc = 0;

	for (i = 0; i < 2 && !rc; i++) {
		sqlite3_stmt *s = stmt(st, q[i]);
		if (!s)
			return db_fail(st, err, "deleting findings");
		sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, resource, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = db_fail(st, err, "deleting findings");
		sqlite3_reset(s);
	}
	return rc ? rc : sqlite3_changes(st->db);
}

int mm_store_file_by_content(struct mm_store *st, uint64_t head_hash, uint64_t size,
			     char *path, size_t cap, struct mm_file_state *fs)
{
	sqlite3_stmt *s = stmt(st, Q_FILE_BY_CONTENT);
	int rc;

	if (!s)
		return MM_EDB;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)head_hash);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)size);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(s, 0);
		snprintf(path, cap, "%s", p ? p : "");
		fs->size = (uint64_t)sqlite3_column_int64(s, 1);
		fs->mtime = sqlite3_column_int64(s, 2);
		fs->head_hash = (uint64_t)sqlite3_column_int64(s, 3);
		fs->offset = (uint64_t)sqlite3_column_int64(s, 4);
		fs->line = (uint64_t)sqlite3_column_int64(s, 5);
		fs->complete = sqlite3_column_int(s, 6);
		rc = 1;
	} else {
		rc = rc == SQLITE_DONE ? 0 : MM_EDB;
	}
	sqlite3_reset(s);
	return rc;
}

/* ---- the API's queries ---------------------------------------------- */

/* Column of each enum mm_fcol (a fixed table: never user text) and
 * whether it holds numbers. */
static const struct {
	const char *name;
	int numeric;
} fcols[MM_FCOL_N] = {
	[MM_FCOL_TYPE] = {"type", 0},	   [MM_FCOL_SEVERITY] = {"j_severity", 1},
	[MM_FCOL_UPDATED] = {"j_updated", 0}, [MM_FCOL_CREATED] = {"j_created", 0},
	[MM_FCOL_ARCHIVED] = {"archived", 1}, [MM_FCOL_ACCOUNT] = {"j_account", 0},
	[MM_FCOL_REGION] = {"j_region", 0},   [MM_FCOL_INSTANCE] = {"j_instance", 0},
	[MM_FCOL_AKID] = {"j_akid", 0},
};

#define FQ_SQL_MAX (1 << 18)

struct fmatch {
	mm_fq_match_fn fn;
	void *ctx;
};

/* mm_rowmatch(json, pointer): the caller's row matcher, inside the query
 * so LIMIT and GROUP BY see only matching rows. The pointer is bound with
 * sqlite3_bind_pointer and can come from nowhere else; DIRECTONLY keeps
 * the function out of the schema (triggers, views, indexes). */
static void rowmatch_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const struct fmatch *m = sqlite3_value_pointer(argv[1], "mm_fmatch");
	const unsigned char *j = sqlite3_value_text(argv[0]);
	int r;

	(void)argc;
	if (!m || !j) {
		sqlite3_result_int(cx, 0);
		return;
	}
	r = m->fn(m->ctx, (const char *)j, (size_t)sqlite3_value_bytes(argv[0]));
	sqlite3_result_int(cx, r == 1);
}

static int add_cond(struct mm_buf *b, const struct mm_fcond *c, int *bi)
{
	static const char *const cmp[] = {[MM_FOP_GT] = ">", [MM_FOP_GTE] = ">=",
					  [MM_FOP_LT] = "<", [MM_FOP_LTE] = "<="};
	const char *col;
	int k, bad = 0;

	if ((unsigned)c->col >= MM_FCOL_N || c->n < 0 || c->n > MM_FQ_MAX_VALS)
		return MM_EINVAL;
	col = fcols[c->col].name;
	switch (c->op) {
	case MM_FOP_IN:
	case MM_FOP_NOTIN:
		if (c->n == 0)
			return mm_buf_addz(b, c->op == MM_FOP_IN ? " AND 0" : "");
		if (c->op == MM_FOP_IN)
			bad |= mm_buf_printf(b, " AND %s IN (", col);
		else
			bad |= mm_buf_printf(b, " AND (%s IS NULL OR %s NOT IN (", col, col);
		for (k = 0; k < c->n; k++)
			bad |= mm_buf_printf(b, "%s?%d", k ? "," : "", (*bi)++);
		bad |= mm_buf_addz(b, c->op == MM_FOP_IN ? ")" : "))");
		return bad ? MM_ETOOBIG : 0;
	case MM_FOP_GT:
	case MM_FOP_GTE:
	case MM_FOP_LT:
	case MM_FOP_LTE:
		if (c->n != 1)
			return MM_EINVAL;
		return mm_buf_printf(b, " AND %s %s ?%d", col, cmp[c->op], (*bi)++);
	}
	return MM_EINVAL;
}

static void bind_cond(sqlite3_stmt *s, const struct mm_fcond *c, int *bi)
{
	int k;
	for (k = 0; k < c->n; k++) {
		if (fcols[c->col].numeric)
			sqlite3_bind_double(s, (*bi)++, c->num[k]);
		else
			sqlite3_bind_text(s, (*bi)++, c->txt[k], -1, SQLITE_STATIC);
	}
}

/* " FROM findings WHERE ..." for q's conditions and matcher; binds start
 * at ?1 and *bi is the next free one. */
static int fq_where(struct mm_store *st, struct mm_buf *b, const struct mm_fquery *q, int *bi,
		    struct mm_err *err)
{
	int i, rc;

	if (st->schema < 3)
		return mm_err_set(err, MM_EDB, "database %s has schema %d: the API needs 3 (open it "
				  "read-write once to upgrade)", st->path, st->schema);
	if (q->match && !st->has_rowmatch) {
		if (sqlite3_create_function_v2(st->db, "mm_rowmatch", 2,
					       SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL, rowmatch_fn,
					       NULL, NULL, NULL) != SQLITE_OK)
			return db_fail(st, err, "registering the row matcher");
		st->has_rowmatch = 1;
	}
	if (mm_buf_addz(b, " FROM findings WHERE held = 0"))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	for (i = 0; i < q->nc; i++)
		if ((rc = add_cond(b, &q->c[i], bi)))
			return mm_err_set(err, rc, "bad pushed-down condition");
	if (q->match && mm_buf_printf(b, " AND mm_rowmatch(json, ?%d)", (*bi)++))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	return 0;
}

/* The query built in b (bad: a printf into it failed), prepared into *s
 * with the criteria bound from ?1 on; what names it in errors. */
static int fq_prepare(struct mm_store *st, const struct mm_buf *b, int bad, const char *what,
		      const struct mm_fquery *q, const struct fmatch *m, sqlite3_stmt **s, struct mm_err *err)
{
	int i, bi = 1;
	if (bad || !b->p)
		return mm_err_set(err, MM_ETOOBIG, "query too long");
	if (sqlite3_prepare_v2(st->db, b->p, (int)b->len, s, NULL) != SQLITE_OK)
		return db_fail(st, err, what);
	for (i = 0; i < q->nc; i++)
		bind_cond(*s, &q->c[i], &bi);
	if (q->match)
		sqlite3_bind_pointer(*s, bi++, (void *)m, "mm_fmatch", NULL);
	return 0;
}

int mm_store_fquery(struct mm_store *st, const struct mm_fquery *q, mm_fq_row_cb cb, void *ctx,
		    struct mm_err *err)
{
	struct mm_buf b;
	struct fmatch m = {q->match, q->match_ctx};
	sqlite3_stmt *s = NULL;
	const char *key = NULL, *dir = q->desc ? "DESC" : "ASC", *rel = q->desc ? "<" : ">";
	int bi = 1, rc, kb = 0, lb = 0, bad = 0;

	mm_buf_init(&b, FQ_SQL_MAX);
	if (q->sort >= 0) {
		if (q->sort != MM_FCOL_SEVERITY && q->sort != MM_FCOL_UPDATED &&
		    q->sort != MM_FCOL_CREATED)
			return mm_err_set(err, MM_EINVAL, "no index to sort by");
		key = fcols[q->sort].name;
	}
	bad |= mm_buf_printf(&b, "SELECT id, %s, last_seen, %s", key ? key : "NULL",
			     q->want_json ? "json" : "NULL");
	if ((rc = fq_where(st, &b, q, &bi, err)))
		goto out;
	if (!key) {
		if (q->after_id) {
			kb = bi;
			bi += 2;
			bad |= mm_buf_printf(&b, " AND (last_seen < ?%d OR (last_seen = ?%d AND id > ?%d))",
				      kb, kb, kb + 1);
		}
		bad |= mm_buf_addz(&b, " ORDER BY last_seen DESC, id");
	} else if (q->phase == 0) {
		bad |= mm_buf_printf(&b, " AND %s IS NOT NULL", key);
		if (q->after_id) {
			kb = bi;
			bi += 2;
			bad |= mm_buf_printf(&b, " AND (%s, id) %s (?%d, ?%d)", key, rel, kb, kb + 1);
		}
		bad |= mm_buf_printf(&b, " ORDER BY %s %s, id %s", key, dir, dir);
	} else {
		bad |= mm_buf_printf(&b, " AND %s IS NULL", key);
		if (q->after_id) {
			kb = bi++;
			bad |= mm_buf_printf(&b, " AND id %s ?%d", rel, kb);
		}
		bad |= mm_buf_printf(&b, " ORDER BY id %s", dir);
	}
	if (q->limit > 0) {
		lb = bi++;
		bad |= mm_buf_printf(&b, " LIMIT ?%d", lb);
	}
	if ((rc = fq_prepare(st, &b, bad, "querying findings", q, &m, &s, err)))
		goto out;
	if (kb) {
		if (!key) {
			sqlite3_bind_int64(s, kb, q->after_ms);
			sqlite3_bind_text(s, kb + 1, q->after_id, -1, SQLITE_STATIC);
		} else if (q->phase) {
			sqlite3_bind_text(s, kb, q->after_id, -1, SQLITE_STATIC);
		} else {
			if (q->sort == MM_FCOL_SEVERITY)
				sqlite3_bind_double(s, kb, q->after_num);
			else
				sqlite3_bind_text(s, kb, q->after_txt ? q->after_txt : "", -1,
						  SQLITE_STATIC);
			sqlite3_bind_text(s, kb + 1, q->after_id, -1, SQLITE_STATIC);
		}
	}
	if (lb)
		sqlite3_bind_int64(s, lb, q->limit);
	for (;;) {
		struct mm_fq_row r;
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			rc = db_fail(st, err, "querying findings");
			break;
		}
		memset(&r, 0, sizeof(r));
		r.id = (const char *)sqlite3_column_text(s, 0);
		r.has_key = sqlite3_column_type(s, 1) != SQLITE_NULL;
		if (r.has_key && q->sort == MM_FCOL_SEVERITY)
			r.key_num = sqlite3_column_double(s, 1);
		else if (r.has_key)
			r.key_txt = (const char *)sqlite3_column_text(s, 1);
		r.last_seen_ms = sqlite3_column_int64(s, 2);
		r.json = (const char *)sqlite3_column_text(s, 3);
		if (!r.json)
			r.json = "{}";
		if (!r.id)
			r.id = "";
		if ((rc = cb(ctx, &r)))
			break;
	}
out:
	sqlite3_finalize(s);
	mm_buf_free(&b);
	return rc;
}

int mm_store_fgroup(struct mm_store *st, const struct mm_fquery *q, enum mm_fgroup by, int desc,
		    mm_fq_group_cb cb, void *ctx, struct mm_err *err)
{
	static const char *const cols[] = {
		[MM_FG_SEVERITY] = "NULL, NULL, severity",
		[MM_FG_TYPE] = "type, NULL, 0",
		[MM_FG_ACCOUNT] = "account, NULL, 0",
		[MM_FG_RESOURCE] = "resource, account, 0",
		[MM_FG_DATE] = "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch'), NULL, severity",
	};
	static const char *const keys[] = {
		[MM_FG_SEVERITY] = "3", [MM_FG_TYPE] = "1", [MM_FG_ACCOUNT] = "1",
		[MM_FG_RESOURCE] = "1, 2", [MM_FG_DATE] = "1, 3",
	};
	struct mm_buf b;
	struct fmatch m = {q->match, q->match_ctx};
	sqlite3_stmt *s = NULL;
	int bi = 1, rc, lb = 0, bad = 0;

	if ((unsigned)by > MM_FG_DATE)
		return mm_err_set(err, MM_EINVAL, "no such grouping");
	mm_buf_init(&b, FQ_SQL_MAX);
	bad |= mm_buf_printf(&b, "SELECT %s, count(*), max(updated_at)", cols[by]);
	if ((rc = fq_where(st, &b, q, &bi, err)))
		goto out;
	/* ties by key so the answer is stable */
	bad |= mm_buf_printf(&b, " GROUP BY %s ORDER BY 4 %s, %s", keys[by], desc ? "DESC" : "ASC", keys[by]);
	if (q->limit > 0) {
		lb = bi++;
		bad |= mm_buf_printf(&b, " LIMIT ?%d", lb);
	}
	if ((rc = fq_prepare(st, &b, bad, "counting findings", q, &m, &s, err)))
		goto out;
	if (lb)
		sqlite3_bind_int64(s, lb, q->limit);
	for (;;) {
		struct mm_fq_group g;
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			rc = db_fail(st, err, "counting findings");
			break;
		}
		g.key = (const char *)sqlite3_column_text(s, 0);
		g.account = (const char *)sqlite3_column_text(s, 1);
		g.severity = sqlite3_column_double(s, 2);
		g.count = sqlite3_column_int64(s, 3);
		g.last_ms = sqlite3_column_int64(s, 4);
		if (!g.key)
			g.key = "";
		if (!g.account)
			g.account = "";
		if ((rc = cb(ctx, &g)))
			break;
	}
out:
	sqlite3_finalize(s);
	mm_buf_free(&b);
	return rc;
}

int mm_store_cache_kib(struct mm_store *st, int kib, struct mm_err *err)
{
	char sql[64];
	sqlite3_stmt *s = NULL;
	int ok;

	if (kib <= 0 || kib > 1024 * 1024)
		return mm_err_set(err, MM_EINVAL, "page cache size %d KiB out of range", kib);
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", kib);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, err, "setting the page cache size");
	/* read back: SQLite ignores a pragma it does not know */
	if (sqlite3_prepare_v2(st->db, "PRAGMA cache_size", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "reading the page cache size");
	ok = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == -kib;
	sqlite3_finalize(s);
	return ok ? 0 : mm_err_set(err, MM_EDB, "page cache size not taken");
}

int mm_store_autocheckpoint_off(struct mm_store *st, struct mm_err *err)
{
	if (sqlite3_wal_autocheckpoint(st->db, 0) != SQLITE_OK)
		return db_fail(st, err, "turning the automatic checkpoint off");
	return 0;
}

int mm_store_checkpoint(struct mm_store *st, struct mm_err *err)
{
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	/* BUSY: another handle is checkpointing right now; it copies the same frames */
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return db_fail(st, err, "checkpointing the WAL");
	return 0;
}

int mm_store_checkpoint_file(const char *path, struct mm_err *err)
{
	struct mm_store *st = NULL;
	int rc;

	if ((rc = store_new(&st, path, err)))
		return rc;
	/* no CREATE: a file removed meanwhile is not made again, empty */
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(st, err, "opening database to checkpoint it");
	else
		rc = mm_store_checkpoint(st, err);
	mm_store_close(st);
	return rc;
}

const char *mm_store_path(const struct mm_store *st)
{
	return st->path;
}
