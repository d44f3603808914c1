/* fuzz_console.c - libFuzzer target for the web console's request
 * handling (src/serve/console.c): any bytes become a request (method,
 * path, Cookie, X-CSRF-Token, Origin/Host, body) answered by
 * mm_console_handle over a scratch database with one user and one live
 * session. The first byte chooses whether the request carries that
 * session's real cookie and CSRF token, so the signed-in paths (the
 * findings table's JSON, the playbook, GuardDuty's operations through
 * /console/api/gd/) are reached, not only the 401s. Sign-in itself is
 * skipped (each one runs the 210k-iteration KDF, slow under ASan); the
 * session is written straight into the table as sign-in would (the
 * SHA-256 of its token); test_console covers sign-in.
 * Also the cookie parser on the raw bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <sqlite3.h>

#include "core/mtime.h"
#include "serve/api.h"
#include "serve/console.h"
#include "serve/sdb.h"
#include "serve/users.h"
#include "store/store.h"

static struct mm_console *con;
static char cookie[128], csrf[MM_USERS_TOKEN_HEX + 1];

static int allow(void *ctx, const struct mm_http_req *rq, char *t, size_t tc, char *m, size_t mc)
{
	return 0;
}

static void setup(void)
{
	static char dir[] = "/tmp/mm-fuzz-console-XXXXXX";
	char db[128];
	struct mm_store *st = NULL;
	struct mm_sdb *sdb = NULL;
	struct mm_gdapi *api = NULL;
	struct mm_users *u = NULL;
	struct mm_api_opts ao = {0};
	struct mm_console_opts co = {0};
	struct mm_err err;
	static const char tok[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	unsigned char th[32];
	sqlite3 *s = NULL;
	sqlite3_stmt *q = NULL;

	mm_err_clear(&err);
	if (!mkdtemp(dir))
		abort();
	snprintf(db, sizeof(db), "%s/f.db", dir);
	if (mm_store_open(&st, db, &err))
		abort();
	mm_store_close(st);
	if (mm_sdb_open(&sdb, db, &err) || mm_users_open(&u, db, &err))
		abort();
	mm_users_close(u);
	SHA256((const unsigned char *)tok, strlen(tok), th);
	if (sqlite3_open(db, &s) != SQLITE_OK ||
	    sqlite3_prepare_v2(s, "INSERT INTO console_sessions(token_hash, name, created_at, seen_at)"
				  " VALUES (?1, 'fuzz', ?2, ?2)", -1, &q, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_blob(q, 1, th, sizeof(th), SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, mm_now_ms());
	if (sqlite3_step(q) != SQLITE_DONE)
		abort();
	sqlite3_finalize(q);
	sqlite3_close(s);
	snprintf(cookie, sizeof(cookie), "%s=%s", MM_CONSOLE_COOKIE, tok);
	mm_users_csrf(tok, csrf);
	ao.db_path = db;
	ao.sdb = sdb;
	ao.auth = allow;
	if (mm_api_open(&api, &ao, &err))
		abort();
	co.db_path = db;
	co.api = api;
	co.detector_id = mm_sdb_detector_id(sdb);
	if (mm_console_open(&con, &co, &err))
		abort();
	/* findings for the table to filter, sort, page and chart: GuardDuty's
	 * sample findings, one of every type */
	{
		char path[128];
		struct mm_http_req rq;
		struct mm_http_resp rs;
		snprintf(path, sizeof(path), "/detector/%s/findings/create", co.detector_id);
		memset(&rq, 0, sizeof(rq));
		rq.method = "POST";
		rq.path = path;
		rq.body = "{}";
		rq.body_len = 2;
		memset(&rs, 0, sizeof(rs));
		rs.status = 200;
		mm_buf_init(&rs.body, MM_HTTP_MAX_RESP);
		mm_api_route(api, &rq, &rs);
		if (rs.status != 200)
			abort();
		mm_buf_free(&rs.body);
	}
}

/* The next '\n'-ended field of [*p, end) copied into out (cap bytes). */
static void field(const char **p, const char *end, char *out, size_t cap)
{
	const char *e = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = e ? (size_t)(e - *p) : (size_t)(end - *p);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = e ? e + 1 : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const METHODS[] = {"GET", "POST", "DELETE", "HEAD", "PUT"};
	const char *p = (const char *)data, *end = p + size, *q;
	char path[512], ck[256], tok[160], origin[128], body[8192], out[128];
	struct mm_http_req rq;
	struct mm_http_resp rs;
	int flags;

	if (!con)
		setup();
	if (size < 1)
		return 0;
	flags = (unsigned char)*p++;
	field(&p, end, path, sizeof(path));
	field(&p, end, ck, sizeof(ck));
	field(&p, end, tok, sizeof(tok));
	field(&p, end, origin, sizeof(origin));
	memcpy(body, p, (size_t)(end - p) < sizeof(body) ? (size_t)(end - p) : sizeof(body) - 1);
	body[(size_t)(end - p) < sizeof(body) ? (size_t)(end - p) : sizeof(body) - 1] = '\0';
	mm_console_cookie_token(ck, out, sizeof(out));
	if (strstr(path, "signin"))
		return 0;
	memset(&rq, 0, sizeof(rq));
	rq.method = METHODS[(flags >> 4) % 5];
	q = strchr(path, '?');
	if (q) {
		*(char *)q = '\0';
		rq.query = q + 1;
	}
	rq.path = path;
	rq.hdr[rq.nhdr++] = (struct mm_http_header){"Cookie", flags & 1 ? cookie : ck};
	rq.hdr[rq.nhdr++] = (struct mm_http_header){"X-CSRF-Token", flags & 2 ? csrf : tok};
	rq.hdr[rq.nhdr++] = (struct mm_http_header){"Host", "127.0.0.1:1"};
	if (flags & 4)
		rq.hdr[rq.nhdr++] = (struct mm_http_header){"Origin", origin};
	rq.body = body;
	rq.body_len = strlen(body);
	memset(&rs, 0, sizeof(rs));
	rs.status = 200;
	mm_buf_init(&rs.body, MM_HTTP_MAX_RESP);
	mm_console_handle(con, &rq, &rs);
	mm_buf_free(&rs.body);
	return 0;
}
