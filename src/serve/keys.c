/* keys.c - API access keys in the mamori database, secrets sealed with
 * AES-256-GCM under a master key kept outside it (keys.h).
 *
 * Why a master key beside the database and not in it: a copy of the
 * database (a backup, a file shared for a bug report) then holds no usable
 * secret. Why GCM with the key id as associated data: a wrong master key,
 * a flipped bit or a secret pasted into another row fails the tag check
 * instead of yielding a wrong secret. The stored blob is
 *   version (1 byte, 1) | nonce (12) | ciphertext (40) | tag (16). */
#include "core/common.h"
#include "serve/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/mem.h"
#include "core/mtime.h"
#include "store/store.h"

#define BUSY_MS 5000
#define PATH_MAX_ 4096
#define BLOB_VERSION 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define BLOB_LEN (1 + NONCE_LEN + MM_KEYS_SECRET_LEN + TAG_LEN)
#define TOUCH_SLOTS 64

/* NONE: no master key and no secrets stored (one is made on the first
 * create); MISSING: secrets stored, no master key; WRONG: the master key
 * does not open them. */
enum master_state { MASTER_NONE, MASTER_OK, MASTER_MISSING, MASTER_WRONG };

struct touch_slot {
	char id[MM_KEYS_ID_LEN + 1];
	int64_t at;
};

struct mm_keys {
	sqlite3 *db;
	pthread_mutex_t mu;
	char path[PATH_MAX_];
	char key_path[PATH_MAX_ + 8];
	unsigned char master[32];
	int have_master;
	int from_env;
	enum master_state state;	/* after the open's check */
	sqlite3_stmt *get;		/* secret of an active key by id */
	sqlite3_stmt *touch;
	struct touch_slot touched[TOUCH_SLOTS];
	unsigned next_slot;
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS api_keys ("
			     " id TEXT PRIMARY KEY,"
			     " name TEXT NOT NULL UNIQUE,"
			     " secret BLOB NOT NULL,"
			     " created_at INTEGER NOT NULL,"
			     " last_used_at INTEGER,"
			     " active INTEGER NOT NULL DEFAULT 1,"
			     " read_only INTEGER NOT NULL DEFAULT 0)";

static int db_fail(struct mm_keys *k, struct mm_err *err, const char *what)
{
	return mm_err_set(err, MM_EDB, "%s in %s: %s", what, k->path,
			  k->db ? sqlite3_errmsg(k->db) : "cannot open");
}

static int random_bytes(void *p, size_t n)
{
	unsigned char *b = p;
	while (n) {
		ssize_t r = getrandom(b, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return MM_EIO;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* 64 hex characters (then optional blanks/newline) -> 32 bytes. 0/-1. */
static int parse_hex_key(const char *s, size_t n, unsigned char out[32])
{
	size_t i;
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	if (n != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		int hi = mm_hexval((unsigned char)s[2 * i]), lo = mm_hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi * 16 + lo);
	}
	return 0;
}

int mm_keys_is_id(const char *s)
{
	size_t i;
	if (strlen(s) != MM_KEYS_ID_LEN || strncmp(s, "AKIA", 4))
		return 0;
	for (i = 4; i < MM_KEYS_ID_LEN; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '2' && s[i] <= '7')))
			return 0;
	return 1;
}

/* ---- the master key --------------------------------------------------- */

/* Read <db>.key into k->master. 0 (have_master set), 1 (no file), or
 * MM_EINVAL / MM_EIO with what to do. */
static int read_key_file(struct mm_keys *k, struct mm_err *err)
{
	char buf[160];
	struct stat sb;
	ssize_t n;
	int fd = open(k->key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return mm_err_set(err, MM_EIO, "cannot read the master key %s: %s", k->key_path,
				  strerror(errno));
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return mm_err_set(err, MM_EINVAL, "master key %s is not a regular file",
				  k->key_path);
	}
	if (sb.st_mode & 077) {
		close(fd);
		return mm_err_set(err, MM_EINVAL,
				  "master key %s may be read by others (mode %03o); run `chmod 600 "
				  "%s`",
				  k->key_path, (unsigned)(sb.st_mode & 0777), k->key_path);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return mm_err_set(err, MM_EIO, "cannot read the master key %s: %s", k->key_path,
				  strerror(errno));
	if (parse_hex_key(buf, (size_t)n, k->master)) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return mm_err_set(err, MM_EINVAL,
				  "master key %s is malformed: it must hold 64 hex characters "
				  "(32 bytes)",
				  k->key_path);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	k->have_master = 1;
	return 0;
}

/* Make <db>.key (mode 0600, exclusive): 32 random bytes as hex. If it
 * appeared meanwhile, read that one instead. */
static int create_key_file(struct mm_keys *k, struct mm_err *err)
{
	static const char d[] = "0123456789abcdef";
	unsigned char key[32];
	char text[65];
	int fd, rc = 0, i;

	if (random_bytes(key, sizeof(key)))
		return mm_err_set(err, MM_EIO, "cannot get random bytes for the master key");
	for (i = 0; i < 32; i++) {
		text[2 * i] = d[key[i] >> 4];
		text[2 * i + 1] = d[key[i] & 15];
	}
	text[64] = '\n';
	fd = open(k->key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		OPENSSL_cleanse(key, sizeof(key));
		OPENSSL_cleanse(text, sizeof(text));
		if (errno == EEXIST) {
			rc = read_key_file(k, err);
			return rc == 1 ? mm_err_set(err, MM_EIO, "master key %s vanished",
						    k->key_path)
				       : rc;
		}
		return mm_err_set(err, MM_EIO, "cannot create the master key %s: %s", k->key_path,
				  strerror(errno));
	}
	if (write(fd, text, sizeof(text)) != (ssize_t)sizeof(text) || fsync(fd)) {
		rc = mm_err_set(err, MM_EIO, "cannot write the master key %s: %s", k->key_path,
				strerror(errno));
		close(fd);
		unlink(k->key_path);
	} else if (close(fd)) {
		rc = mm_err_set(err, MM_EIO, "cannot write the master key %s: %s", k->key_path,
				strerror(errno));
		unlink(k->key_path);
	} else {
		memcpy(k->master, key, sizeof(key));
		k->have_master = 1;
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

/* ---- sealing ---------------------------------------------------------- */

static int seal(const struct mm_keys *k, const char *id, const char *secret,
		unsigned char blob[BLOB_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, rc = MM_EIO;

	if (!c)
		return MM_ENOMEM;
	blob[0] = BLOB_VERSION;
	if (random_bytes(blob + 1, NONCE_LEN))
		goto out;
	if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, k->master, blob + 1) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)id, (int)strlen(id)) != 1 ||
	    EVP_EncryptUpdate(c, blob + 1 + NONCE_LEN, &n, (const unsigned char *)secret,
			      MM_KEYS_SECRET_LEN) != 1 ||
	    n != MM_KEYS_SECRET_LEN ||
	    EVP_EncryptFinal_ex(c, blob + 1 + NONCE_LEN + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
				blob + 1 + NONCE_LEN + MM_KEYS_SECRET_LEN) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/* 0 and the secret (NUL-terminated, cap > MM_KEYS_SECRET_LEN), or
 * MM_EINVAL when the blob does not open under the master key. */
static int unseal(const struct mm_keys *k, const char *id, const unsigned char *blob, size_t len,
		  char *secret)
{
	EVP_CIPHER_CTX *c;
	unsigned char tag[TAG_LEN];
	int n = 0, rc = MM_EINVAL;

	if (len != BLOB_LEN || blob[0] != BLOB_VERSION)
		return MM_EINVAL;
	if (!(c = EVP_CIPHER_CTX_new()))
		return MM_ENOMEM;
	memcpy(tag, blob + 1 + NONCE_LEN + MM_KEYS_SECRET_LEN, TAG_LEN);
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, k->master, blob + 1) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)id, (int)strlen(id)) != 1 ||
	    EVP_DecryptUpdate(c, (unsigned char *)secret, &n, blob + 1 + NONCE_LEN,
			      MM_KEYS_SECRET_LEN) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(c, (unsigned char *)secret + n, &n) != 1) {
		OPENSSL_cleanse(secret, MM_KEYS_SECRET_LEN + 1);
		goto out;
	}
	secret[MM_KEYS_SECRET_LEN] = '\0';
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/* Does the master key open a stored secret? Sets k->state. */
static int probe_master(struct mm_keys *k, struct mm_err *err)
{
	sqlite3_stmt *s = NULL;
	char secret[MM_KEYS_SECRET_LEN + 1];
	int rc;

	if (sqlite3_prepare_v2(k->db, "SELECT id, secret FROM api_keys ORDER BY created_at LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return db_fail(k, err, "reading api keys");
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		k->state = k->have_master ? MASTER_OK : MASTER_NONE;
		rc = 0;
	} else if (rc == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		if (!k->have_master)
			k->state = MASTER_MISSING;
		else
			k->state = unseal(k, id ? id : "", sqlite3_column_blob(s, 1),
					  (size_t)sqlite3_column_bytes(s, 1), secret) == 0
					   ? MASTER_OK
					   : MASTER_WRONG;
		OPENSSL_cleanse(secret, sizeof(secret));
		rc = 0;
	} else {
		rc = db_fail(k, err, "reading api keys");
	}
	sqlite3_finalize(s);
	return rc;
}

/* ---- open / close ----------------------------------------------------- */

/* 1 when api_keys has the read_only column. */
static int has_read_only(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int ok = sqlite3_prepare_v2(db, "SELECT read_only FROM api_keys LIMIT 0", -1, &s, NULL) ==
		 SQLITE_OK;
	sqlite3_finalize(s);
	return ok;
}

int mm_keys_open(struct mm_keys **out, const char *db_path, struct mm_err *err)
{
	struct mm_keys *k = NULL;
	const char *env = getenv(MM_KEYS_ENV);
	struct stat sb;
	int rc;

	*out = NULL;
	if (!db_path || !*db_path)
		return mm_err_set(err, MM_EINVAL, "no database path given");
	if (strlen(db_path) >= PATH_MAX_)
		return mm_err_set(err, MM_EINVAL, "database path too long");
	/* a new database is made by the store: its mode, schema and WAL */
	if (stat(db_path, &sb) != 0) {
		struct mm_store *st = NULL;
		if ((rc = mm_store_open(&st, db_path, err)))
			return rc;
		mm_store_close(st);
	}
	if (!(k = mm_calloc(1, sizeof(*k))))
		return mm_err_set(err, MM_ENOMEM, "opening keys: out of memory");
	if (pthread_mutex_init(&k->mu, NULL)) {
		mm_free(k);
		return mm_err_set(err, MM_ENOMEM, "opening keys: cannot make a mutex");
	}
	snprintf(k->path, sizeof(k->path), "%s", db_path);
	snprintf(k->key_path, sizeof(k->key_path), "%s.key", db_path);
	if (sqlite3_open_v2(db_path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		rc = db_fail(k, err, "opening database");
		goto out;
	}
	if (sqlite3_busy_timeout(k->db, BUSY_MS) != SQLITE_OK ||
	    sqlite3_exec(k->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(k, err, "creating the api_keys table");
		goto out;
	}
	/* a table from before read-only keys: every key keeps writing */
	if (!has_read_only(k->db) &&
	    sqlite3_exec(k->db, "ALTER TABLE api_keys ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0",
			 NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(k, err, "adding read_only to the api_keys table");
		goto out;
	}
	if (sqlite3_prepare_v2(k->db,
			       "SELECT secret FROM api_keys WHERE id = ?1 AND active = 1", -1,
			       &k->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(k->db,
			       "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND "
			       "(last_used_at IS NULL OR last_used_at < ?2)",
			       -1, &k->touch, NULL) != SQLITE_OK) {
		rc = db_fail(k, err, "preparing api key statements");
		goto out;
	}
	if (env && *env) {
		if (parse_hex_key(env, strlen(env), k->master)) {
			rc = mm_err_set(err, MM_EINVAL,
					"%s must be 64 hex characters (32 bytes); unset it to use "
					"%s",
					MM_KEYS_ENV, k->key_path);
			goto out;
		}
		k->have_master = 1;
		k->from_env = 1;
	} else if ((rc = read_key_file(k, err)) < 0) {
		goto out;
	}
	rc = probe_master(k, err);
out:
	if (rc) {
		mm_keys_close(k);
		return rc;
	}
	*out = k;
	return 0;
}

void mm_keys_close(struct mm_keys *k)
{
	if (!k)
		return;
	sqlite3_finalize(k->get);
	sqlite3_finalize(k->touch);
	sqlite3_close(k->db);
	pthread_mutex_destroy(&k->mu);
	OPENSSL_cleanse(k->master, sizeof(k->master));
	mm_free(k);
}

static int master_problem(const struct mm_keys *k, struct mm_err *err)
{
	if (k->state == MASTER_WRONG)
		return mm_err_set(err, MM_EINVAL,
				  "the master key (%s) does not decrypt the keys stored in %s; "
				  "use the master key they were created with, or delete them "
				  "(`mamori keys delete`) and create new ones",
				  k->from_env ? "$" MM_KEYS_ENV : k->key_path, k->path);
	return mm_err_set(err, MM_ENOTFOUND,
			  "keys are stored in %s but there is no master key (%s missing, %s "
			  "unset); restore it, or delete the keys (`mamori keys delete`) and "
			  "create new ones",
			  k->path, k->key_path, MM_KEYS_ENV);
}

int mm_keys_check(struct mm_keys *k, struct mm_err *err)
{
	int rc;
	pthread_mutex_lock(&k->mu);
	rc = probe_master(k, err);
	if (!rc && (k->state == MASTER_WRONG || k->state == MASTER_MISSING))
		rc = master_problem(k, err);
	pthread_mutex_unlock(&k->mu);
	return rc;
}

/* ---- create / list / delete ------------------------------------------- */

static int valid_name(const char *name)
{
	size_t i, n = strlen(name);
	if (n == 0 || n > MM_KEYS_NAME_MAX || mm_keys_is_id(name))
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("._@+=,-", c)))
			return 0;
	}
	return 1;
}

/* id: AKIA + 16 base32 characters from 10 random bytes; secret: 40
 * base64 characters from 30 random bytes. */
static int make_key(char id[MM_KEYS_ID_LEN + 1], char secret[MM_KEYS_SECRET_LEN + 1])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char r[10 + 30];
	int i;

	if (random_bytes(r, sizeof(r)))
		return MM_EIO;
	memcpy(id, "AKIA", 4);
	for (i = 0; i < 2; i++) {	/* 5 bytes -> 8 characters, twice */
		const unsigned char *p = r + 5 * i;
		uint64_t v = ((uint64_t)p[0] << 32) | ((uint64_t)p[1] << 24) | ((uint64_t)p[2] << 16) |
			     ((uint64_t)p[3] << 8) | p[4];
		int j;
		for (j = 0; j < 8; j++)
			id[4 + 8 * i + j] = b32[(v >> (35 - 5 * j)) & 31];
	}
	id[MM_KEYS_ID_LEN] = '\0';
	for (i = 0; i < 10; i++) {	/* 3 bytes -> 4 characters */
		const unsigned char *p = r + 10 + 3 * i;
		uint32_t v = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
		secret[4 * i] = b64[(v >> 18) & 63];
		secret[4 * i + 1] = b64[(v >> 12) & 63];
		secret[4 * i + 2] = b64[(v >> 6) & 63];
		secret[4 * i + 3] = b64[v & 63];
	}
	secret[MM_KEYS_SECRET_LEN] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

int mm_keys_create(struct mm_keys *k, const char *name, char *id_out, char *secret_out,
		   struct mm_err *err)
{
	sqlite3_stmt *s = NULL;
	unsigned char blob[BLOB_LEN];
	char id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1];
	int rc, tries;

	id_out[0] = secret_out[0] = '\0';
	if (!name || !valid_name(name))
		return mm_err_set(err, MM_EINVAL,
				  "key name must be 1 to %d of A-Z a-z 0-9 . _ @ + = , - and not "
				  "look like a key id",
				  MM_KEYS_NAME_MAX);
	pthread_mutex_lock(&k->mu);
	/* again: another process may have created keys since the open */
	if ((rc = probe_master(k, err)))
		goto out;
	if (k->state == MASTER_WRONG || k->state == MASTER_MISSING) {
		rc = master_problem(k, err);
		goto out;
	}
	if (!k->have_master && (rc = create_key_file(k, err)))
		goto out;
	if (sqlite3_exec(k->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(k, err, "creating a key");
		goto out;
	}
	if (sqlite3_prepare_v2(k->db, "SELECT count(*) FROM api_keys", -1, &s, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		rc = db_fail(k, err, "counting keys");
		goto rollback;
	}
	if (sqlite3_column_int64(s, 0) >= MM_KEYS_MAX) {
		rc = mm_err_set(err, MM_ETOOBIG, "%s already holds %d keys; delete some first",
				k->path, MM_KEYS_MAX);
		goto rollback;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(k->db,
			       "INSERT INTO api_keys (id, name, secret, created_at, active) "
			       "VALUES (?1, ?2, ?3, ?4, 1)",
			       -1, &s, NULL) != SQLITE_OK) {
		s = NULL;
		rc = db_fail(k, err, "creating a key");
		goto rollback;
	}
	for (tries = 0;; tries++) {
		if ((rc = make_key(id, secret))) {
			mm_err_set(err, rc, "cannot get random bytes for a key");
			goto rollback;
		}
		if ((rc = seal(k, id, secret, blob))) {
			mm_err_set(err, rc, "cannot encrypt the new secret");
			goto rollback;
		}
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(s, 3, blob, BLOB_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 4, mm_now_ms());
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			break;
		if (rc == SQLITE_CONSTRAINT) {
			/* name taken, or (2^-80) the id: which one? */
			sqlite3_stmt *q = NULL;
			int taken = 0;
			if (sqlite3_prepare_v2(k->db, "SELECT 1 FROM api_keys WHERE name = ?1", -1,
					       &q, NULL) == SQLITE_OK) {
				sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
				taken = sqlite3_step(q) == SQLITE_ROW;
			}
			sqlite3_finalize(q);
			if (taken || tries >= 3) {
				rc = mm_err_set(err, MM_EEXISTS,
						"a key named '%s' already exists; choose another name "
						"or delete it first",
						name);
				goto rollback;
			}
			continue;
		}
		rc = db_fail(k, err, "creating a key");
		goto rollback;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_exec(k->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(k, err, "creating a key");
		goto rollback;
	}
	k->state = MASTER_OK;
	memcpy(id_out, id, sizeof(id));
	memcpy(secret_out, secret, sizeof(secret));
	rc = 0;
	goto out;
rollback:
	sqlite3_finalize(s);
	s = NULL;
	sqlite3_exec(k->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(s);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(blob, sizeof(blob));
	pthread_mutex_unlock(&k->mu);
	return rc;
}

int mm_keys_list(struct mm_keys *k, mm_keys_list_fn cb, void *ctx, struct mm_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = 0, st;

	pthread_mutex_lock(&k->mu);
	if (sqlite3_prepare_v2(k->db,
			       "SELECT id, name, created_at, last_used_at, active, read_only FROM api_keys "
			       "ORDER BY created_at, rowid",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(k, err, "listing keys");
		goto out;
	}
	while ((st = sqlite3_step(s)) == SQLITE_ROW) {
		struct mm_key_info ki;
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *name = (const char *)sqlite3_column_text(s, 1);
		memset(&ki, 0, sizeof(ki));
		snprintf(ki.id, sizeof(ki.id), "%s", id ? id : "");
		snprintf(ki.name, sizeof(ki.name), "%s", name ? name : "");
		ki.created_ms = sqlite3_column_int64(s, 2);
		ki.last_used_ms = sqlite3_column_int64(s, 3);
		ki.active = sqlite3_column_int(s, 4) != 0;
		ki.read_only = sqlite3_column_int(s, 5) != 0;
		if ((rc = cb(ctx, &ki)))
			goto out;
	}
	if (st != SQLITE_DONE)
		rc = db_fail(k, err, "listing keys");
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&k->mu);
	return rc;
}

int mm_keys_delete(struct mm_keys *k, const char *id_or_name, struct mm_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = 0, i;

	pthread_mutex_lock(&k->mu);
	/* the id first: a name never looks like an id, so this is exact */
	for (i = 0; i < 2; i++) {
		if (sqlite3_prepare_v2(k->db,
				       i == 0 ? "DELETE FROM api_keys WHERE id = ?1"
					      : "DELETE FROM api_keys WHERE name = ?1",
				       -1, &s, NULL) != SQLITE_OK) {
			rc = db_fail(k, err, "deleting a key");
			goto out;
		}
		sqlite3_bind_text(s, 1, id_or_name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) != SQLITE_DONE) {
			rc = db_fail(k, err, "deleting a key");
			goto out;
		}
		sqlite3_finalize(s);
		s = NULL;
		if (sqlite3_changes(k->db) > 0)
			goto out;
	}
	rc = mm_err_set(err, MM_ENOTFOUND, "no key with id or name '%s' in %s", id_or_name,
			k->path);
out:
	sqlite3_finalize(s);
	for (i = 0; rc == 0 && i < TOUCH_SLOTS; i++)
		k->touched[i].id[0] = '\0';
	pthread_mutex_unlock(&k->mu);
	return rc;
}

/* ---- the verifier's side ---------------------------------------------- */

int mm_keys_secret(void *pk, const char *id, char *secret, size_t cap)
{
	struct mm_keys *k = pk;
	int rc;

	if (cap < MM_KEYS_SECRET_LEN + 1)
		return MM_ETOOBIG;
	if (!mm_keys_is_id(id))
		return MM_ENOTFOUND;
	pthread_mutex_lock(&k->mu);
	sqlite3_reset(k->get);
	sqlite3_bind_text(k->get, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(k->get);
	if (rc == SQLITE_ROW) {
		rc = k->have_master ? unseal(k, id, sqlite3_column_blob(k->get, 0),
					     (size_t)sqlite3_column_bytes(k->get, 0), secret)
				    : MM_EINVAL;
	} else {
		rc = rc == SQLITE_DONE ? MM_ENOTFOUND : MM_EDB;
	}
	sqlite3_reset(k->get);
	sqlite3_clear_bindings(k->get);
	pthread_mutex_unlock(&k->mu);
	return rc;
}

int mm_keys_touch(struct mm_keys *k, const char *id, int64_t now_ms)
{
	struct touch_slot *slot = NULL;
	int rc = 0, i;

	if (!mm_keys_is_id(id))
		return 0;
	pthread_mutex_lock(&k->mu);
	for (i = 0; i < TOUCH_SLOTS; i++)
		if (!strcmp(k->touched[i].id, id)) {
			slot = &k->touched[i];
			break;
		}
	if (slot && now_ms - slot->at < MM_KEYS_TOUCH_MS && now_ms >= slot->at)
		goto out;
	if (!slot) {
		slot = &k->touched[k->next_slot++ % TOUCH_SLOTS];
		snprintf(slot->id, sizeof(slot->id), "%s", id);
	}
	slot->at = now_ms;
	/* never wait behind a scan's transaction for bookkeeping */
	sqlite3_busy_timeout(k->db, 0);
	sqlite3_reset(k->touch);
	sqlite3_bind_text(k->touch, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(k->touch, 2, now_ms);
	i = sqlite3_step(k->touch);
	if (i != SQLITE_DONE && i != SQLITE_BUSY && i != SQLITE_LOCKED)
		rc = MM_EDB;
	sqlite3_reset(k->touch);
	sqlite3_busy_timeout(k->db, BUSY_MS);
out:
	pthread_mutex_unlock(&k->mu);
	return rc;
}

int mm_keys_set_read_only(struct mm_keys *k, const char *id, int read_only, struct mm_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;
	pthread_mutex_lock(&k->mu);
	if (sqlite3_prepare_v2(k->db, "UPDATE api_keys SET read_only = ?2 WHERE id = ?1", -1, &s,
			       NULL) != SQLITE_OK) {
		rc = db_fail(k, err, "marking a key read-only");
		goto out;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, read_only ? 1 : 0);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = db_fail(k, err, "marking a key read-only");
	else
		rc = sqlite3_changes(k->db) > 0;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&k->mu);
	return rc;
}

int mm_keys_read_only(struct mm_keys *k, const char *id)
{
	sqlite3_stmt *s = NULL;
	int rc;
	pthread_mutex_lock(&k->mu);
	if (sqlite3_prepare_v2(k->db, "SELECT read_only FROM api_keys WHERE id = ?1", -1, &s,
			       NULL) != SQLITE_OK) {
		rc = MM_EDB;
		goto out;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) != 0 : rc == SQLITE_DONE ? 0 : MM_EDB;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&k->mu);
	return rc;
}
