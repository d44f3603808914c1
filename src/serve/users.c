/* users.c - the console's users (PBKDF2 passwords, per-user backoff) and
 * sessions (hashed tokens, idle expiry). See users.h. */
#include "serve/users.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/mem.h"
#include "serve/roles.h"

#define BUSY_MS 15000
#define TOUCH_MS 60000	/* a session's seen_at is rewritten at most once a minute */

enum {
	Q_U_INSERT, Q_U_DEL, Q_U_EACH, Q_U_GET, Q_U_FAIL, Q_U_OK, Q_S_INSERT, Q_S_GET, Q_S_TOUCH,
	Q_S_DEL, Q_S_DEL_USER, Q_S_EXPIRE, Q_U_ROLE, Q_U_SET_ROLE, Q_N
};

static const char *const SQL[Q_N] = {
	[Q_U_INSERT] = "INSERT INTO console_users(name, pw, created_at, failures, retry_at,"
		       " last_signin, role) VALUES (?1, ?2, ?3, 0, 0, 0, CASE WHEN ?4 <> '' THEN ?4"
		       " WHEN EXISTS (SELECT 1 FROM console_users) THEN 'analyst' ELSE 'admin' END)",
	[Q_U_DEL] = "DELETE FROM console_users WHERE name = ?1",
	[Q_U_EACH] = "SELECT u.name, u.created_at, u.last_signin, u.failures,"
		     " (SELECT count(*) FROM console_sessions s WHERE s.name = u.name"
		     "  AND s.seen_at > ?1 AND s.created_at > ?2), u.role"
		     " FROM console_users u ORDER BY u.name",
	[Q_U_GET] = "SELECT pw, failures, retry_at FROM console_users WHERE name = ?1",
	[Q_U_FAIL] = "UPDATE console_users SET failures = failures + 1, retry_at = ?2"
		     " WHERE name = ?1",
	[Q_U_OK] = "UPDATE console_users SET failures = 0, retry_at = 0, last_signin = ?2"
		   " WHERE name = ?1",
	[Q_S_INSERT] = "INSERT INTO console_sessions(token_hash, name, created_at, seen_at)"
		       " VALUES (?1, ?2, ?3, ?3)",
	[Q_S_GET] = "SELECT name, created_at, seen_at FROM console_sessions WHERE token_hash = ?1",
	[Q_S_TOUCH] = "UPDATE console_sessions SET seen_at = ?2 WHERE token_hash = ?1",
	[Q_S_DEL] = "DELETE FROM console_sessions WHERE token_hash = ?1",
	[Q_S_DEL_USER] = "DELETE FROM console_sessions WHERE name = ?1",
	[Q_S_EXPIRE] = "DELETE FROM console_sessions WHERE seen_at <= ?1 OR created_at <= ?2",
	[Q_U_ROLE] = "SELECT role FROM console_users WHERE name = ?1",
	[Q_U_SET_ROLE] = "UPDATE console_users SET role = ?2 WHERE name = ?1",
};

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS console_users(name TEXT PRIMARY KEY, pw TEXT NOT NULL,"
	" created_at INTEGER NOT NULL, failures INTEGER NOT NULL, retry_at INTEGER NOT NULL,"
	" last_signin INTEGER NOT NULL, role TEXT NOT NULL DEFAULT 'admin');"
	"CREATE TABLE IF NOT EXISTS console_sessions(token_hash BLOB PRIMARY KEY,"
	" name TEXT NOT NULL, created_at INTEGER NOT NULL, seen_at INTEGER NOT NULL);";

struct mm_users {
	sqlite3 *db;
	sqlite3_stmt *q[Q_N];
	pthread_mutex_t mu;
};

/* Verified against for unknown names, so they take as long as known
 * ones; made on first use (a KDF run costs ~0.1 s). */
static char dummy[MM_USERS_PW_STR];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	unsigned char salt[16] = {0};
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		salt[0] = 1;	/* any salt will do: nobody's password is checked against it */
	mm_users_pw_hash("", 0, salt, MM_USERS_ITER, dummy);
}

static const char HEX[] = "0123456789abcdef";

static void hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;
	for (i = 0; i < n; i++) {
		out[2 * i] = HEX[p[i] >> 4];
		out[2 * i + 1] = HEX[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *s, size_t n, unsigned char *out)
{
	size_t i;
	for (i = 0; i < n; i++) {
		int v = 0, k;
		for (k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

int mm_users_name_ok(const char *name)
{
	size_t n = strlen(name), i;
	if (n == 0 || n > MM_USERS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("._@+-", c)))
			return 0;
	}
	return 1;
}

int mm_users_pw_hash(const char *pw, size_t n, const unsigned char salt[16], unsigned iter,
		     char out[MM_USERS_PW_STR])
{
	unsigned char dk[32];
	char sh[33], dh[65];
	if (n > MM_USERS_PW_MAX || iter == 0 || iter > 100000000u)
		return MM_EINVAL;
	if (PKCS5_PBKDF2_HMAC(pw, (int)n, salt, 16, (int)iter, EVP_sha256(), sizeof(dk), dk) != 1)
		return MM_EIO;
	hex(salt, 16, sh);
	hex(dk, sizeof(dk), dh);
	snprintf(out, MM_USERS_PW_STR, "pbkdf2-sha256$%u$%s$%s", iter, sh, dh);
	OPENSSL_cleanse(dk, sizeof(dk));
	return 0;
}

int mm_users_pw_verify(const char *stored, const char *pw, size_t n)
{
	static const char pre[] = "pbkdf2-sha256$";
	unsigned char salt[16], want[32], got[32];
	const char *p = stored, *s, *h;
	char *e;
	unsigned long iter;
	int ok;

	if (strncmp(p, pre, sizeof(pre) - 1))
		return MM_EINVAL;
	p += sizeof(pre) - 1;
	iter = strtoul(p, &e, 10);
	if (e == p || *e != '$' || iter == 0 || iter > 100000000ul)
		return MM_EINVAL;
	s = e + 1;
	if (strlen(s) != 32 + 1 + 64 || s[32] != '$')
		return MM_EINVAL;
	h = s + 33;
	if (unhex(s, 16, salt) || unhex(h, 32, want))
		return MM_EINVAL;
	if (n > MM_USERS_PW_MAX)
		return 0;
	if (PKCS5_PBKDF2_HMAC(pw, (int)n, salt, 16, (int)iter, EVP_sha256(), sizeof(got), got) != 1)
		return MM_EIO;
	ok = CRYPTO_memcmp(got, want, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

void mm_users_csrf(const char *token, char out[MM_USERS_TOKEN_HEX + 1])
{
	static const char label[] = "mamori console csrf v1";
	unsigned char mac[32];
	unsigned int len = sizeof(mac);
	HMAC(EVP_sha256(), token, (int)strlen(token), (const unsigned char *)label,
	     sizeof(label) - 1, mac, &len);
	hex(mac, 32, out);
}

/* The stored key of a token: SHA-256 of its 64 hex characters. */
static int token_hash(const char *token, unsigned char out[32])
{
	unsigned char raw[32];
	if (strlen(token) != MM_USERS_TOKEN_HEX || unhex(token, 32, raw))
		return -1;
	SHA256((const unsigned char *)token, MM_USERS_TOKEN_HEX, out);
	return 0;
}

static int fail(struct mm_users *u, struct mm_err *err, const char *what)
{
	return mm_err_set(err, MM_EDB, "%s: %s", what, sqlite3_errmsg(u->db));
}

/* 1 when console_users has the role column. */
static int has_role_column(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int ok = sqlite3_prepare_v2(db, "SELECT role FROM console_users LIMIT 0", -1, &s, NULL) ==
		 SQLITE_OK;
	sqlite3_finalize(s);
	return ok;
}

int mm_users_open(struct mm_users **out, const char *db_path, struct mm_err *err)
{
	struct mm_users *u;
	int i;

	*out = NULL;
	if (!(u = mm_calloc(1, sizeof(*u))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	pthread_mutex_init(&u->mu, NULL);
	if (sqlite3_open_v2(db_path, &u->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		mm_err_set(err, MM_EDB, "cannot open %s: %s", db_path,
			   u->db ? sqlite3_errmsg(u->db) : "out of memory");
		goto bad;
	}
	sqlite3_busy_timeout(u->db, BUSY_MS);
	if (sqlite3_exec(u->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
		fail(u, err, "creating the console's tables");
		goto bad;
	}
	/* a database from before roles: its users keep every right (admin) */
	if (!has_role_column(u->db) &&
	    sqlite3_exec(u->db, "ALTER TABLE console_users ADD COLUMN role TEXT NOT NULL DEFAULT"
				" 'admin'", NULL, NULL, NULL) != SQLITE_OK) {
		fail(u, err, "adding roles to the console's users");
		goto bad;
	}
	for (i = 0; i < Q_N; i++)
		if (sqlite3_prepare_v2(u->db, SQL[i], -1, &u->q[i], NULL) != SQLITE_OK) {
			fail(u, err, "preparing a statement");
			goto bad;
		}
	*out = u;
	return 0;
bad:
	mm_users_close(u);
	return err->code ? err->code : MM_EDB;
}

void mm_users_close(struct mm_users *u)
{
	int i;
	if (!u)
		return;
	for (i = 0; i < Q_N; i++)
		sqlite3_finalize(u->q[i]);
	sqlite3_close(u->db);
	pthread_mutex_destroy(&u->mu);
	mm_free(u);
}

static sqlite3_stmt *stmt(struct mm_users *u, int i)
{
	sqlite3_reset(u->q[i]);
	sqlite3_clear_bindings(u->q[i]);
	return u->q[i];
}

int mm_users_add(struct mm_users *u, const char *name, const char *pw, size_t n, int64_t now_ms,
		 struct mm_err *err)
{
	return mm_users_add_role(u, name, pw, n, NULL, now_ms, err);
}

int mm_users_add_role(struct mm_users *u, const char *name, const char *pw, size_t n,
		      const char *role, int64_t now_ms, struct mm_err *err)
{
	unsigned char salt[16];
	char h[MM_USERS_PW_STR];
	sqlite3_stmt *s;
	int rc;

	if (!mm_users_name_ok(name))
		return mm_err_set(err, MM_EINVAL, "a user name is 1 to %d of A-Z a-z 0-9 . _ @ + -",
				  MM_USERS_NAME_MAX);
	if (n < MM_USERS_PW_MIN || n > MM_USERS_PW_MAX)
		return mm_err_set(err, MM_EINVAL, "a password is %d to %d bytes", MM_USERS_PW_MIN,
				  MM_USERS_PW_MAX);
	if (role && !mm_access_parse(role))
		return mm_err_set(err, MM_EINVAL, "a role is admin, analyst or viewer");
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return mm_err_set(err, MM_EIO, "no random bytes for the salt");
	if ((rc = mm_users_pw_hash(pw, n, salt, MM_USERS_ITER, h)))
		return mm_err_set(err, rc, "cannot hash the password");
	pthread_mutex_lock(&u->mu);
	s = stmt(u, Q_U_INSERT);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, h, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now_ms);
	sqlite3_bind_text(s, 4, role ? role : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		rc = mm_err_set(err, MM_EEXISTS, "a user named %s exists already", name);
	else if (rc != SQLITE_DONE)
		rc = fail(u, err, "adding a user");
	else
		rc = 0;
	sqlite3_reset(s);
	pthread_mutex_unlock(&u->mu);
	return rc;
}

int mm_users_del(struct mm_users *u, const char *name, struct mm_err *err)
{
	sqlite3_stmt *s;
	int rc, n = 0;
	pthread_mutex_lock(&u->mu);
	s = stmt(u, Q_S_DEL_USER);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		s = stmt(u, Q_U_DEL);
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		n = sqlite3_changes(u->db);
	}
	rc = rc == SQLITE_DONE ? (n > 0) : fail(u, err, "deleting a user");
	sqlite3_reset(s);
	pthread_mutex_unlock(&u->mu);
	return rc;
}

int mm_users_each(struct mm_users *u, int64_t now_ms, mm_user_cb cb, void *ctx, struct mm_err *err)
{
	sqlite3_stmt *s;
	struct mm_user_row r;
	int rc;
	pthread_mutex_lock(&u->mu);
	s = stmt(u, Q_U_EACH);
	sqlite3_bind_int64(s, 1, now_ms - MM_USERS_IDLE_MS);
	sqlite3_bind_int64(s, 2, now_ms - MM_USERS_MAX_MS);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.name = (const char *)sqlite3_column_text(s, 0);
		r.created_ms = sqlite3_column_int64(s, 1);
		r.last_signin_ms = sqlite3_column_int64(s, 2);
		r.failures = (long)sqlite3_column_int64(s, 3);
		r.sessions = (long)sqlite3_column_int64(s, 4);
		r.role = (const char *)sqlite3_column_text(s, 5);
		if ((rc = cb(ctx, &r))) {
			sqlite3_reset(s);
			pthread_mutex_unlock(&u->mu);
			return rc;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : fail(u, err, "listing users");
	sqlite3_reset(s);
	pthread_mutex_unlock(&u->mu);
	return rc;
}

/* How long the user must wait after failures consecutive failures. */
static int64_t backoff_ms(long failures)
{
	int64_t w = 1000;
	long k;
	if (failures < MM_USERS_FREE_FAILS)
		return 0;
	for (k = MM_USERS_FREE_FAILS; k < failures && w < MM_USERS_MAX_WAIT_MS; k++)
		w *= 2;
	return w < MM_USERS_MAX_WAIT_MS ? w : MM_USERS_MAX_WAIT_MS;
}

int mm_users_signin(struct mm_users *u, const char *name, const char *pw, size_t n,
		    int64_t now_ms, char token[MM_USERS_TOKEN_HEX + 1], int64_t *retry_ms,
		    struct mm_err *err)
{
	char stored[MM_USERS_PW_STR];
	unsigned char raw[32], th[32];
	sqlite3_stmt *s;
	long failures = 0;
	int64_t retry_at = 0;
	int found = 0, ok, rc;

	token[0] = '\0';
	*retry_ms = 0;
	pthread_mutex_lock(&u->mu);
	s = stmt(u, Q_U_GET);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		snprintf(stored, sizeof(stored), "%s", (const char *)sqlite3_column_text(s, 0));
		failures = (long)sqlite3_column_int64(s, 1);
		retry_at = sqlite3_column_int64(s, 2);
		found = 1;
	}
	sqlite3_reset(s);
	pthread_mutex_unlock(&u->mu);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(u, err, "reading a user");
	if (found && now_ms < retry_at) {
		*retry_ms = retry_at - now_ms;
		return mm_err_set(err, MM_EBUSY, "too many failed sign-ins; try again in %lld s",
				  (long long)((*retry_ms + 999) / 1000));
	}
	/* the KDF runs outside the lock: other requests go on meanwhile */
	if (!found)
		pthread_once(&dummy_once, make_dummy);
	ok = mm_users_pw_verify(found ? stored : dummy, pw, n);
	if (!found)
		ok = 0;
	if (ok < 0)
		return mm_err_set(err, MM_EDB, "user %s has a password this build cannot read", name);
	pthread_mutex_lock(&u->mu);
	if (!found || !ok) {
		if (found) {
			s = stmt(u, Q_U_FAIL);
			sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 2, now_ms + backoff_ms(failures + 1));
			sqlite3_step(s);
			sqlite3_reset(s);
		}
		pthread_mutex_unlock(&u->mu);
		return mm_err_set(err, MM_EINVAL, "wrong user name or password");
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		pthread_mutex_unlock(&u->mu);
		return mm_err_set(err, MM_EIO, "no random bytes for a session");
	}
	hex(raw, sizeof(raw), token);
	token_hash(token, th);
	s = stmt(u, Q_S_EXPIRE);
	sqlite3_bind_int64(s, 1, now_ms - MM_USERS_IDLE_MS);
	sqlite3_bind_int64(s, 2, now_ms - MM_USERS_MAX_MS);
	sqlite3_step(s);
	s = stmt(u, Q_U_OK);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_ms);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		s = stmt(u, Q_S_INSERT);
		sqlite3_bind_blob(s, 1, th, sizeof(th), SQLITE_STATIC);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, now_ms);
		rc = sqlite3_step(s);
	}
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? 0 : fail(u, err, "starting a session");
	pthread_mutex_unlock(&u->mu);
	if (rc)
		token[0] = '\0';
	return rc;
}

int mm_users_session(struct mm_users *u, const char *token, int64_t now_ms, char *name,
		     size_t cap, struct mm_err *err)
{
	unsigned char th[32];
	sqlite3_stmt *s;
	int64_t created, seen;
	int rc, live = 0;

	if (cap)
		name[0] = '\0';
	if (!token || token_hash(token, th))
		return 0;
	pthread_mutex_lock(&u->mu);
	s = stmt(u, Q_S_GET);
	sqlite3_bind_blob(s, 1, th, sizeof(th), SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		created = sqlite3_column_int64(s, 1);
		seen = sqlite3_column_int64(s, 2);
		live = now_ms - seen < MM_USERS_IDLE_MS && now_ms - created < MM_USERS_MAX_MS;
		if (live)
			snprintf(name, cap, "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_reset(s);
		if (!live) {
			s = stmt(u, Q_S_DEL);
			sqlite3_bind_blob(s, 1, th, sizeof(th), SQLITE_STATIC);
			sqlite3_step(s);
		} else if (now_ms - seen >= TOUCH_MS) {
			s = stmt(u, Q_S_TOUCH);
			sqlite3_bind_blob(s, 1, th, sizeof(th), SQLITE_STATIC);
			sqlite3_bind_int64(s, 2, now_ms);
			sqlite3_step(s);
		}
		rc = SQLITE_DONE;
	}
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? live : fail(u, err, "reading a session");
	pthread_mutex_unlock(&u->mu);
	return rc;
}

int mm_users_signout(struct mm_users *u, const char *token, struct mm_err *err)
{
	unsigned char th[32];
	sqlite3_stmt *s;
	int rc;
	if (!token || token_hash(token, th))
		return 0;
	pthread_mutex_lock(&u->mu);
	s = stmt(u, Q_S_DEL);
	sqlite3_bind_blob(s, 1, th, sizeof(th), SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? 0 : fail(u, err, "ending a session");
	pthread_mutex_unlock(&u->mu);
	return rc;
}

int mm_users_set_role(struct mm_users *u, const char *name, const char *role, struct mm_err *err)
{
	sqlite3_stmt *s;
	int rc;
	if (!mm_access_parse(role))
		return mm_err_set(err, MM_EINVAL, "a role is admin, analyst or viewer");
	pthread_mutex_lock(&u->mu);
	s = stmt(u, Q_U_SET_ROLE);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? (sqlite3_changes(u->db) > 0) : fail(u, err, "setting a role");
	sqlite3_reset(s);
	pthread_mutex_unlock(&u->mu);
	return rc;
}

int mm_users_role(struct mm_users *u, const char *name, struct mm_err *err)
{
	sqlite3_stmt *s;
	int rc;
	pthread_mutex_lock(&u->mu);
	s = stmt(u, Q_U_ROLE);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = (int)mm_access_parse((const char *)sqlite3_column_text(s, 0));
	else
		rc = rc == SQLITE_DONE ? 0 : fail(u, err, "reading a role");
	sqlite3_reset(s);
	pthread_mutex_unlock(&u->mu);
	return rc;
}
