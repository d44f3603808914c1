/* test_keys.c - the API access key store (src/serve/keys.c): create,
 * list, delete, the secret round trip and its use by the SigV4 verifier;
 * secrets encrypted at rest (the database file never holds one in
 * clear); the master key file made 0600, refused when others may read it
 * or malformed; $MAMORI_MASTER_KEY wins; a wrong or missing master key is
 * reported, never turned into a wrong secret; a secret moved to another
 * row does not open; inactive keys; last-used bookkeeping; several
 * threads looking secrets up at once. Each test works in its own
 * temporary folder. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/mtime.h"
#include "serve/keys.h"
#include "serve/sigv4.h"
#include "mmtest.h"

#define OTHER_MASTER "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char dir[256], db[300], keyfile[310];

static void fresh(void)
{
	const char *tmp = getenv("TMPDIR");
	unsetenv(MM_KEYS_ENV);
	snprintf(dir, sizeof(dir), "%s/mm-keys-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/m.db", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/m.db.key", dir);
}

static void cleanup(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "  cannot remove %s\n", dir);
}

static struct mm_keys *open_ok(void)
{
	struct mm_keys *k = NULL;
	struct mm_err err;
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_keys_open(&k, db, &err), 0);
	if (!k)
		fprintf(stderr, "  open: %s\n", err.msg);
	return k;
}

static void create_ok(struct mm_keys *k, const char *name, char *id, char *secret)
{
	struct mm_err err;
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_keys_create(k, name, id, secret, &err), 0);
	if (err.msg[0])
		fprintf(stderr, "  create: %s\n", err.msg);
}

struct listed {
	int n;
	struct mm_key_info ki[8];
};

static int collect(void *ctx, const struct mm_key_info *ki)
{
	struct listed *l = ctx;
	if (l->n < 8)
		l->ki[l->n] = *ki;
	l->n++;
	return 0;
}

/* Does the file at path contain needle? */
static int file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t n, cap = 1 << 22, nl = strlen(needle);
	char *buf;
	int found = 0;
	if (!f)
		return 0;
	buf = malloc(cap);
	n = buf ? fread(buf, 1, cap, f) : 0;
	fclose(f);
	for (size_t i = 0; buf && i + nl <= n; i++)
		if (!memcmp(buf + i, needle, nl)) {
			found = 1;
			break;
		}
	free(buf);
	return found;
}

static void sql(const char *stmt)
{
	sqlite3 *h = NULL;
	CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(h, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

MM_TEST(create_list_secret_delete)
{
	struct mm_keys *k;
	char id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1], id2[MM_KEYS_ID_LEN + 1],
		secret2[MM_KEYS_SECRET_LEN + 1], got[128];
	struct listed l = {0};
	struct mm_err err;
	size_t i;
	int64_t t0 = mm_now_ms();

	fresh();
	if (!(k = open_ok()))
		return;
	CHECK_EQ_INT(mm_keys_check(k, &err), 0);
	create_ok(k, "alice", id, secret);
	create_ok(k, "ci-bot@example.com", id2, secret2);
	/* shapes: AKIA + 16 of A-Z2-7; 40 of A-Za-z0-9+/ */
	CHECK(mm_keys_is_id(id));
	CHECK(mm_keys_is_id(id2));
	CHECK(strcmp(id, id2) != 0);
	CHECK_EQ_INT(strlen(secret), MM_KEYS_SECRET_LEN);
	for (i = 0; i < MM_KEYS_SECRET_LEN; i++)
		CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
			     secret[i]) != NULL);
	CHECK(strcmp(secret, secret2) != 0);
	/* round trip */
	CHECK_EQ_INT(mm_keys_secret(k, id, got, sizeof(got)), 0);
	CHECK_EQ_STR(got, secret);
	CHECK_EQ_INT(mm_keys_secret(k, id2, got, sizeof(got)), 0);
	CHECK_EQ_STR(got, secret2);
	CHECK_EQ_INT(mm_keys_secret(k, "AKIAAAAAAAAAAAAAAAAA", got, sizeof(got)), MM_ENOTFOUND);
	CHECK_EQ_INT(mm_keys_secret(k, "alice", got, sizeof(got)), MM_ENOTFOUND);
	CHECK_EQ_INT(mm_keys_secret(k, id, got, 40), MM_ETOOBIG);
	/* list: oldest first, no secret */
	CHECK_EQ_INT(mm_keys_list(k, collect, &l, &err), 0);
	CHECK_EQ_INT(l.n, 2);
	CHECK_EQ_STR(l.ki[0].id, id);
	CHECK_EQ_STR(l.ki[0].name, "alice");
	CHECK_EQ_STR(l.ki[1].name, "ci-bot@example.com");
	CHECK(l.ki[0].created_ms >= t0 - 1000 && l.ki[0].created_ms <= mm_now_ms() + 1000);
	CHECK_EQ_INT(l.ki[0].last_used_ms, 0);
	CHECK_EQ_INT(l.ki[0].active, 1);
	/* delete by id, by name, unknown */
	CHECK_EQ_INT(mm_keys_delete(k, id, &err), 0);
	CHECK_EQ_INT(mm_keys_secret(k, id, got, sizeof(got)), MM_ENOTFOUND);
	CHECK_EQ_INT(mm_keys_delete(k, "ci-bot@example.com", &err), 0);
	CHECK_EQ_INT(mm_keys_delete(k, "alice", &err), MM_ENOTFOUND);
	CHECK(strstr(err.msg, "no key with id or name 'alice'") != NULL);
	l.n = 0;
	CHECK_EQ_INT(mm_keys_list(k, collect, &l, &err), 0);
	CHECK_EQ_INT(l.n, 0);
	mm_keys_close(k);
	/* persisted across opens */
	if ((k = open_ok())) {
		create_ok(k, "bob", id, secret);
		mm_keys_close(k);
	}
	if ((k = open_ok())) {
		CHECK_EQ_INT(mm_keys_secret(k, id, got, sizeof(got)), 0);
		CHECK_EQ_STR(got, secret);
		mm_keys_close(k);
	}
	cleanup();
}

MM_TEST(names)
{
	static const char *const bad[] = {"", "a b", "tab\there", "quote'", "semi;colon",
					  "AKIAABCDEFGHIJKLMNOP",
					  "x1234567890123456789012345678901234567890123456789012345678901234"};
	struct mm_keys *k;
	char id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1];
	struct mm_err err;
	size_t i;

	fresh();
	if (!(k = open_ok()))
		return;
	for (i = 0; i < MM_ARRAY_LEN(bad); i++) {
		CHECK_EQ_INT(mm_keys_create(k, bad[i], id, secret, &err), MM_EINVAL);
		CHECK_EQ_STR(secret, "");
	}
	/* nothing was created, not even the master key */
	CHECK(access(keyfile, F_OK) != 0);
	create_ok(k, "dup", id, secret);
	CHECK_EQ_INT(mm_keys_create(k, "dup", id, secret, &err), MM_EEXISTS);
	CHECK(strstr(err.msg, "already exists") != NULL);
	mm_keys_close(k);
	cleanup();
}

MM_TEST(encrypted_at_rest)
{
	struct mm_keys *k;
	char id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1], wal[320];
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;

	fresh();
	if (!(k = open_ok()))
		return;
	create_ok(k, "alice", id, secret);
	/* the raw table: every column of every row, as text and bytes */
	CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(h, "SELECT * FROM api_keys", -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int c;
		for (c = 0; c < sqlite3_column_count(s); c++) {
			const void *b = sqlite3_column_blob(s, c);
			int n = sqlite3_column_bytes(s, c);
			CHECK(!b || n < MM_KEYS_SECRET_LEN || !memmem(b, (size_t)n, secret, 10));
		}
		CHECK_EQ_INT(sqlite3_column_bytes(s, 2), 1 + 12 + 40 + 16);
	}
	sqlite3_finalize(s);
	sqlite3_close(h);
	/* nor do the files on disk: database, WAL */
	snprintf(wal, sizeof(wal), "%s-wal", db);
	CHECK(!file_has(db, secret));
	CHECK(!file_has(wal, secret));
	CHECK(file_has(db, id) || file_has(wal, id)); /* the search works */
	mm_keys_close(k);
	CHECK(!file_has(db, secret));
	cleanup();
}

MM_TEST(key_file_mode_and_format)
{
	struct mm_keys *k;
	char id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1];
	struct stat sb;
	struct mm_err err;
	FILE *f;
	char text[100] = {0};

	fresh();
	if (!(k = open_ok()))
		return;
	CHECK(access(keyfile, F_OK) != 0); /* made on first use, not on open */
	create_ok(k, "alice", id, secret);
	mm_keys_close(k);
	CHECK_EQ_INT(stat(keyfile, &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	f = fopen(keyfile, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(text, sizeof(text), f) != NULL);
		fclose(f);
	}
	CHECK_EQ_INT(strlen(text), 65);
	CHECK_EQ_INT(strspn(text, "0123456789abcdef"), 64);
	/* others may read it: refused, with the fix */
	chmod(keyfile, 0644);
	k = NULL;
	CHECK_EQ_INT(mm_keys_open(&k, db, &err), MM_EINVAL);
	CHECK(k == NULL);
	CHECK(strstr(err.msg, "chmod 600") != NULL);
	chmod(keyfile, 0600);
	/* the same key from the environment works */
	text[64] = '\0';
	setenv(MM_KEYS_ENV, text, 1);
	if ((k = open_ok())) {
		char got[64];
		CHECK_EQ_INT(mm_keys_check(k, &err), 0);
		CHECK_EQ_INT(mm_keys_secret(k, id, got, sizeof(got)), 0);
		CHECK_EQ_STR(got, secret);
		mm_keys_close(k);
	}
	unsetenv(MM_KEYS_ENV);
	/* a malformed file is an error, not a key */
	f = fopen(keyfile, "w");
	if (f) {
		fputs("not hex at all\n", f);
		fclose(f);
	}
	CHECK_EQ_INT(mm_keys_open(&k, db, &err), MM_EINVAL);
	CHECK(strstr(err.msg, "malformed") != NULL);
	cleanup();
}

MM_TEST(wrong_master_key)
{
	struct mm_keys *k;
	char id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1], got[64];
	struct listed l = {0};
	struct mm_err err;

	fresh();
	if (!(k = open_ok()))
		return;
	create_ok(k, "alice", id, secret);
	mm_keys_close(k);
	setenv(MM_KEYS_ENV, OTHER_MASTER, 1);
	if ((k = open_ok())) {
		CHECK_EQ_INT(mm_keys_check(k, &err), MM_EINVAL);
		CHECK(strstr(err.msg, "does not decrypt") != NULL);
		CHECK(strstr(err.msg, MM_KEYS_ENV) != NULL);
		/* no garbage secret, no new key under the wrong master */
		memset(got, 'x', sizeof(got));
		CHECK_EQ_INT(mm_keys_secret(k, id, got, sizeof(got)), MM_EINVAL);
		CHECK(strncmp(got, secret, 10) != 0);
		CHECK_EQ_INT(mm_keys_create(k, "bob", id, secret, &err), MM_EINVAL);
		/* listing and deleting still work */
		CHECK_EQ_INT(mm_keys_list(k, collect, &l, &err), 0);
		CHECK_EQ_INT(l.n, 1);
		mm_keys_close(k);
	}
	/* a malformed environment value is refused */
	setenv(MM_KEYS_ENV, "abc", 1);
	CHECK_EQ_INT(mm_keys_open(&k, db, &err), MM_EINVAL);
	CHECK(strstr(err.msg, "64 hex") != NULL);
	unsetenv(MM_KEYS_ENV);
	/* the key file gone: reported as missing */
	unlink(keyfile);
	if ((k = open_ok())) {
		CHECK_EQ_INT(mm_keys_check(k, &err), MM_ENOTFOUND);
		CHECK(strstr(err.msg, "no master key") != NULL);
		CHECK_EQ_INT(mm_keys_create(k, "bob", id, secret, &err), MM_ENOTFOUND);
		CHECK(access(keyfile, F_OK) != 0);
		mm_keys_close(k);
	}
	cleanup();
}

MM_TEST(env_master_wins)
{
	struct mm_keys *k;
	char id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1], got[64];

	fresh();
	setenv(MM_KEYS_ENV, OTHER_MASTER, 1);
	if ((k = open_ok())) {
		create_ok(k, "alice", id, secret);
		mm_keys_close(k);
	}
	CHECK(access(keyfile, F_OK) != 0); /* no file made */
	if ((k = open_ok())) {
		CHECK_EQ_INT(mm_keys_secret(k, id, got, sizeof(got)), 0);
		CHECK_EQ_STR(got, secret);
		mm_keys_close(k);
	}
	unsetenv(MM_KEYS_ENV);
	cleanup();
}

MM_TEST(moved_secret_and_inactive)
{
	struct mm_keys *k;
	char a[MM_KEYS_ID_LEN + 1], sa[MM_KEYS_SECRET_LEN + 1], b[MM_KEYS_ID_LEN + 1],
		sb[MM_KEYS_SECRET_LEN + 1], got[64], stmt[300];

	fresh();
	if (!(k = open_ok()))
		return;
	create_ok(k, "a", a, sa);
	create_ok(k, "b", b, sb);
	/* b's sealed secret put in a's row: the id is bound in, so it fails */
	snprintf(stmt, sizeof(stmt),
		 "UPDATE api_keys SET secret = (SELECT secret FROM api_keys WHERE id = '%s') "
		 "WHERE id = '%s'",
		 b, a);
	sql(stmt);
	CHECK_EQ_INT(mm_keys_secret(k, a, got, sizeof(got)), MM_EINVAL);
	CHECK_EQ_INT(mm_keys_secret(k, b, got, sizeof(got)), 0);
	/* an inactive key is not known */
	snprintf(stmt, sizeof(stmt), "UPDATE api_keys SET active = 0 WHERE id = '%s'", b);
	sql(stmt);
	CHECK_EQ_INT(mm_keys_secret(k, b, got, sizeof(got)), MM_ENOTFOUND);
	mm_keys_close(k);
	cleanup();
}

MM_TEST(touch)
{
	struct mm_keys *k;
	char id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1];
	struct listed l = {0};
	struct mm_err err;

	fresh();
	if (!(k = open_ok()))
		return;
	create_ok(k, "alice", id, secret);
	CHECK_EQ_INT(mm_keys_touch(k, id, 1000000), 0);
	CHECK_EQ_INT(mm_keys_touch(k, id, 1000000 + 5000), 0);	/* not written */
	CHECK_EQ_INT(mm_keys_list(k, collect, &l, &err), 0);
	CHECK_EQ_INT(l.ki[0].last_used_ms, 1000000);
	CHECK_EQ_INT(mm_keys_touch(k, id, 1000000 + MM_KEYS_TOUCH_MS), 0);
	l.n = 0;
	CHECK_EQ_INT(mm_keys_list(k, collect, &l, &err), 0);
	CHECK_EQ_INT(l.ki[0].last_used_ms, 1000000 + MM_KEYS_TOUCH_MS);
	CHECK_EQ_INT(mm_keys_touch(k, "nonsense", 1), 0);
	mm_keys_close(k);
	cleanup();
}

/* the store as the verifier's lookup: a request signed with a created key */
MM_TEST(verifies_with_sigv4)
{
	struct mm_keys *k;
	char id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1], auth[MM_SIGV4_AUTH_MAX],
		who[64];
	struct mm_http_header h[3] = {{"Host", "127.0.0.1:8443"}, {"X-Amz-Date", "20250101T000000Z"},
				      {NULL, NULL}};
	struct mm_sigv4_req r;
	enum mm_sigv4_fail why;
	struct mm_err err;

	fresh();
	if (!(k = open_ok()))
		return;
	create_ok(k, "alice", id, secret);
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = "/detector";
	r.headers = h;
	r.nheaders = 2;
	r.now_ms = 1735689600000LL;
	r.service = "guardduty";
	CHECK_EQ_INT(mm_sigv4_sign(&r, "20250101T000000Z", "us-east-1", id, secret, auth,
				   sizeof(auth), &err),
		     0);
	h[2] = (struct mm_http_header){"Authorization", auth};
	r.nheaders = 3;
	CHECK_EQ_INT(mm_sigv4_verify(&r, mm_keys_secret, k, who, sizeof(who), &why, &err), 0);
	CHECK_EQ_STR(who, id);
	CHECK_EQ_INT(mm_keys_delete(k, "alice", &err), 0);
	CHECK_EQ_INT(mm_sigv4_verify(&r, mm_keys_secret, k, who, sizeof(who), &why, &err),
		     MM_EINVAL);
	CHECK_EQ_INT(why, MM_SIGV4_UNKNOWN_KEY);
	mm_keys_close(k);
	cleanup();
}

struct worker {
	struct mm_keys *k;
	const char *id, *secret;
	int bad;
};

static void *lookups(void *p)
{
	struct worker *w = p;
	char got[64];
	int i;
	for (i = 0; i < 300; i++) {
		if (mm_keys_secret(w->k, w->id, got, sizeof(got)) || strcmp(got, w->secret))
			w->bad++;
		mm_keys_touch(w->k, w->id, 1000 + i * 1000);
	}
	return NULL;
}

MM_TEST(threads)
{
	struct mm_keys *k;
	char id[2][MM_KEYS_ID_LEN + 1], secret[2][MM_KEYS_SECRET_LEN + 1];
	struct worker w[4];
	pthread_t t[4];
	int i;

	fresh();
	if (!(k = open_ok()))
		return;
	create_ok(k, "a", id[0], secret[0]);
	create_ok(k, "b", id[1], secret[1]);
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){k, id[i & 1], secret[i & 1], 0};
		CHECK_EQ_INT(pthread_create(&t[i], NULL, lookups, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ_INT(w[i].bad, 0);
	}
	mm_keys_close(k);
	cleanup();
}

MM_TEST(new_database_is_private)
{
	struct mm_keys *k;
	struct stat sb;

	fresh();
	if ((k = open_ok()))
		mm_keys_close(k);
	CHECK_EQ_INT(stat(db, &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	/* a folder that does not exist: an error, not a crash */
	{
		struct mm_err err;
		char bad[400];
		snprintf(bad, sizeof(bad), "%s/no/such/m.db", dir);
		k = NULL;
		CHECK(mm_keys_open(&k, bad, &err) != 0);
		CHECK(k == NULL);
		CHECK(err.msg[0] != '\0');
	}
	cleanup();
}
