/* test_console.c - the web console's security pieces: password hashing
 * and verification (src/serve/users.c), sign-in with per-user backoff,
 * sessions (hashed tokens, idle and absolute expiry, sign-out, user
 * deletion), the CSRF token and its check, the Origin check, and the
 * session cookie's attributes (src/serve/console.c); the playbook's
 * families (src/serve/playbook.c). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmtest.h"
#include "serve/console.h"
#include "serve/playbook.h"
#include "serve/users.h"

static const unsigned char SALT[16] = "0123456789abcdef";

static char dir[512], db[600];

static struct mm_users *fresh(void)
{
	struct mm_users *u = NULL;
	struct mm_err err;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/mm-console-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/c.db", dir);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_users_open(&u, db, &err), 0);
	return u;
}

static void done(struct mm_users *u)
{
	char p[700];
	mm_users_close(u);
	snprintf(p, sizeof(p), "%s/c.db", dir);
	unlink(p);
	rmdir(dir);
}

MM_TEST(pw_hash_format_and_verify)
{
	char h[MM_USERS_PW_STR];
	CHECK_EQ_INT(mm_users_pw_hash("hunter22", 8, SALT, 1000, h), 0);
	CHECK(!strncmp(h, "pbkdf2-sha256$1000$", 19));
	CHECK_EQ_INT(strlen(h), strlen("pbkdf2-sha256$1000$") + 32 + 1 + 64);
	CHECK_EQ_INT(mm_users_pw_verify(h, "hunter22", 8), 1);
	CHECK_EQ_INT(mm_users_pw_verify(h, "hunter23", 8), 0);
	CHECK_EQ_INT(mm_users_pw_verify(h, "hunter2", 7), 0);
	CHECK_EQ_INT(mm_users_pw_verify(h, "", 0), 0);
}

/* The same password and salt give the same string; another salt gives
 * another hash. */
MM_TEST(pw_hash_deterministic_salted)
{
	char a[MM_USERS_PW_STR], b[MM_USERS_PW_STR], c[MM_USERS_PW_STR];
	unsigned char salt2[16];
	memcpy(salt2, SALT, 16);
	salt2[0] ^= 1;
	CHECK_EQ_INT(mm_users_pw_hash("same password", 13, SALT, 1000, a), 0);
	CHECK_EQ_INT(mm_users_pw_hash("same password", 13, SALT, 1000, b), 0);
	CHECK_EQ_INT(mm_users_pw_hash("same password", 13, salt2, 1000, c), 0);
	CHECK_EQ_STR(a, b);
	CHECK(strcmp(a + 60, c + 60) != 0);	/* another salt, another hash */
}

MM_TEST(pw_verify_rejects_malformed)
{
	CHECK_EQ_INT(mm_users_pw_verify("", "x", 1), MM_EINVAL);
	CHECK_EQ_INT(mm_users_pw_verify("plain", "plain", 5), MM_EINVAL);
	CHECK_EQ_INT(mm_users_pw_verify("pbkdf2-sha256$0$00$00", "x", 1), MM_EINVAL);
	CHECK_EQ_INT(mm_users_pw_verify("pbkdf2-sha256$1000$zz", "x", 1), MM_EINVAL);
	CHECK_EQ_INT(mm_users_pw_verify("pbkdf2-sha1$1000$0123456789abcdef0123456789abcdef$"
					"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
					"x", 1),
		     MM_EINVAL);
}

MM_TEST(user_names)
{
	CHECK(mm_users_name_ok("alice"));
	CHECK(mm_users_name_ok("a.b_c@d+e-f"));
	CHECK(!mm_users_name_ok(""));
	CHECK(!mm_users_name_ok("a b"));
	CHECK(!mm_users_name_ok("a'b"));
	CHECK(!mm_users_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

MM_TEST(add_stores_only_the_hash)
{
	struct mm_users *u = fresh();
	struct mm_err err;
	sqlite3 *s;
	sqlite3_stmt *q;
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_users_add(u, "alice", "s3cret-pass", 11, 1000, &err), 0);
	CHECK_EQ_INT(mm_users_add(u, "alice", "other-pass", 10, 1000, &err), MM_EEXISTS);
	CHECK_EQ_INT(mm_users_add(u, "bob", "short", 5, 1000, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_users_add(u, "bad name", "long enough", 11, 1000, &err), MM_EINVAL);
	CHECK_EQ_INT(sqlite3_open(db, &s), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(s, "SELECT pw FROM console_users WHERE name = 'alice'", -1,
					&q, NULL),
		     SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK(!strstr((const char *)sqlite3_column_text(q, 0), "s3cret"));
	CHECK(!strncmp((const char *)sqlite3_column_text(q, 0), "pbkdf2-sha256$210000$", 21));
	sqlite3_finalize(q);
	sqlite3_close(s);
	done(u);
}

MM_TEST(signin_session_signout)
{
	struct mm_users *u = fresh();
	struct mm_err err;
	char tok[MM_USERS_TOKEN_HEX + 1], tok2[MM_USERS_TOKEN_HEX + 1], name[80];
	int64_t retry = 0;
	sqlite3 *s;
	sqlite3_stmt *q;

	mm_err_clear(&err);
	CHECK_EQ_INT(mm_users_add(u, "alice", "s3cret-pass", 11, 0, &err), 0);
	CHECK_EQ_INT(mm_users_signin(u, "alice", "s3cret-pass", 11, 1000, tok, &retry, &err), 0);
	CHECK_EQ_INT(strlen(tok), 64);
	CHECK_EQ_INT(mm_users_session(u, tok, 2000, name, sizeof(name), &err), 1);
	CHECK_EQ_STR(name, "alice");
	/* two sign-ins, two different sessions */
	CHECK_EQ_INT(mm_users_signin(u, "alice", "s3cret-pass", 11, 1000, tok2, &retry, &err), 0);
	CHECK(strcmp(tok, tok2) != 0);
	/* only the token's hash is stored */
	CHECK_EQ_INT(sqlite3_open(db, &s), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(s, "SELECT count(*) FROM console_sessions WHERE"
					   " instr(hex(token_hash), upper(?1)) > 0 OR token_hash = ?1",
					-1, &q, NULL),
		     SQLITE_OK);
	sqlite3_bind_text(q, 1, tok, -1, SQLITE_STATIC);
	CHECK_EQ_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(q, 0), 0);
	sqlite3_finalize(q);
	sqlite3_close(s);
	/* sign-out ends that session only */
	CHECK_EQ_INT(mm_users_signout(u, tok, &err), 0);
	CHECK_EQ_INT(mm_users_session(u, tok, 3000, name, sizeof(name), &err), 0);
	CHECK_EQ_INT(mm_users_session(u, tok2, 3000, name, sizeof(name), &err), 1);
	/* deleting the user ends the rest */
	CHECK_EQ_INT(mm_users_del(u, "alice", &err), 1);
	CHECK_EQ_INT(mm_users_session(u, tok2, 3000, name, sizeof(name), &err), 0);
	CHECK_EQ_INT(mm_users_del(u, "alice", &err), 0);
	done(u);
}

MM_TEST(session_rejects_malformed_tokens)
{
	struct mm_users *u = fresh();
	struct mm_err err;
	char name[80];
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_users_session(u, NULL, 0, name, sizeof(name), &err), 0);
	CHECK_EQ_INT(mm_users_session(u, "", 0, name, sizeof(name), &err), 0);
	CHECK_EQ_INT(mm_users_session(u, "zz", 0, name, sizeof(name), &err), 0);
	CHECK_EQ_INT(mm_users_session(u, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
					 "abcdef",
				      0, name, sizeof(name), &err),
		     0);
	CHECK_EQ_INT(mm_users_session(u, "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789"
					 "abcdef",
				      0, name, sizeof(name), &err),
		     0);
	done(u);
}

MM_TEST(session_idle_and_absolute_expiry)
{
	struct mm_users *u = fresh();
	struct mm_err err;
	char tok[MM_USERS_TOKEN_HEX + 1], name[80];
	int64_t retry, t = 1000000, step = MM_USERS_IDLE_MS - 3600 * 1000;
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_users_add(u, "alice", "s3cret-pass", 11, 0, &err), 0);
	CHECK_EQ_INT(mm_users_signin(u, "alice", "s3cret-pass", 11, t, tok, &retry, &err), 0);
	/* used every 11 h: the idle clock restarts each time */
	CHECK_EQ_INT(mm_users_session(u, tok, t + step, name, sizeof(name), &err), 1);
	CHECK_EQ_INT(mm_users_session(u, tok, t + 2 * step, name, sizeof(name), &err), 1);
	/* idle 12 h: gone, and stays gone */
	CHECK_EQ_INT(mm_users_session(u, tok, t + 2 * step + MM_USERS_IDLE_MS, name, sizeof(name),
				      &err),
		     0);
	CHECK_EQ_INT(mm_users_session(u, tok, t + 2 * step + 1000, name, sizeof(name), &err), 0);
	/* a busy session still ends MM_USERS_MAX_MS after sign-in */
	CHECK_EQ_INT(mm_users_signin(u, "alice", "s3cret-pass", 11, t, tok, &retry, &err), 0);
	{
		int64_t now = t;
		int live = 1;
		while (now + step < t + MM_USERS_MAX_MS) {
			now += step;
			live &= mm_users_session(u, tok, now, name, sizeof(name), &err) == 1;
		}
		CHECK(live);
		CHECK_EQ_INT(mm_users_session(u, tok, t + MM_USERS_MAX_MS, name, sizeof(name), &err),
			     0);
	}
	done(u);
}

MM_TEST(signin_wrong_password_and_backoff)
{
	struct mm_users *u = fresh();
	struct mm_err err;
	char tok[MM_USERS_TOKEN_HEX + 1];
	int64_t retry = 0, t = 5000000;
	int i;
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_users_add(u, "alice", "s3cret-pass", 11, 0, &err), 0);
	/* unknown user and wrong password look the same */
	CHECK_EQ_INT(mm_users_signin(u, "nobody", "s3cret-pass", 11, t, tok, &retry, &err),
		     MM_EINVAL);
	CHECK_EQ_STR(err.msg, "wrong user name or password");
	CHECK_EQ_STR(tok, "");
	for (i = 0; i < MM_USERS_FREE_FAILS - 1; i++)
		CHECK_EQ_INT(mm_users_signin(u, "alice", "wrong-pass!", 11, t, tok, &retry, &err),
			     MM_EINVAL);
	/* the third failure arms a 1 s wait */
	CHECK_EQ_INT(mm_users_signin(u, "alice", "wrong-pass!", 11, t, tok, &retry, &err),
		     MM_EINVAL);
	CHECK_EQ_INT(mm_users_signin(u, "alice", "s3cret-pass", 11, t + 500, tok, &retry, &err),
		     MM_EBUSY);
	CHECK_EQ_INT(retry, 500);
	/* then it doubles */
	CHECK_EQ_INT(mm_users_signin(u, "alice", "wrong-pass!", 11, t + 1000, tok, &retry, &err),
		     MM_EINVAL);
	CHECK_EQ_INT(mm_users_signin(u, "alice", "s3cret-pass", 11, t + 2999, tok, &retry, &err),
		     MM_EBUSY);
	CHECK_EQ_INT(retry, 1);
	/* a good one after the wait signs in and resets the count */
	CHECK_EQ_INT(mm_users_signin(u, "alice", "s3cret-pass", 11, t + 3000, tok, &retry, &err), 0);
	CHECK_EQ_INT(mm_users_signin(u, "alice", "wrong-pass!", 11, t + 3000, tok, &retry, &err),
		     MM_EINVAL);
	CHECK_EQ_INT(mm_users_signin(u, "alice", "s3cret-pass", 11, t + 3000, tok, &retry, &err), 0);
	done(u);
}

MM_TEST(csrf_token_derived_and_checked)
{
	const char *tok = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char a[MM_USERS_TOKEN_HEX + 1], b[MM_USERS_TOKEN_HEX + 1];
	struct mm_http_req rq;
	mm_users_csrf(tok, a);
	mm_users_csrf(tok, b);
	CHECK_EQ_STR(a, b);
	CHECK_EQ_INT(strlen(a), 64);
	CHECK(strcmp(a, tok) != 0);
	mm_users_csrf("10112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", b);
	CHECK(strcmp(a, b) != 0);

	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	CHECK(mm_console_csrf_ok(&rq, a));	/* reads need none */
	rq.method = "POST";
	CHECK(!mm_console_csrf_ok(&rq, a));
	rq.hdr[0].name = "x-csrf-token";
	rq.hdr[0].value = b;
	rq.nhdr = 1;
	CHECK(!mm_console_csrf_ok(&rq, a));
	rq.hdr[0].value = "";
	CHECK(!mm_console_csrf_ok(&rq, a));
	rq.hdr[0].value = a;
	CHECK(mm_console_csrf_ok(&rq, a));
	rq.method = "DELETE";
	CHECK(mm_console_csrf_ok(&rq, a));
	rq.nhdr = 0;
	CHECK(!mm_console_csrf_ok(&rq, a));
}

MM_TEST(origin_check)
{
	struct mm_http_req rq;
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	CHECK(mm_console_origin_ok(&rq, 0));	/* no Origin: same-origin navigation or a tool */
	rq.hdr[0].name = "Host";
	rq.hdr[0].value = "127.0.0.1:8080";
	rq.hdr[1].name = "Origin";
	rq.hdr[1].value = "http://127.0.0.1:8080";
	rq.nhdr = 2;
	CHECK(mm_console_origin_ok(&rq, 0));
	CHECK(!mm_console_origin_ok(&rq, 1));	/* https console, http origin */
	rq.hdr[1].value = "http://evil.example";
	CHECK(!mm_console_origin_ok(&rq, 0));
	rq.hdr[1].value = "http://127.0.0.1:8081";
	CHECK(!mm_console_origin_ok(&rq, 0));
	rq.hdr[1].value = "null";
	CHECK(!mm_console_origin_ok(&rq, 0));
	rq.nhdr = 1;
	rq.hdr[0] = (struct mm_http_header){"Origin", "http://127.0.0.1:8080"};
	CHECK(!mm_console_origin_ok(&rq, 0));	/* no Host to compare with */
}

MM_TEST(cookie_attributes)
{
	char c[256], t[80];
	const char *tok = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	mm_console_cookie(c, sizeof(c), tok, 0);
	CHECK(!strncmp(c, "mamori_session=00112233", 23));
	CHECK(strstr(c, "; HttpOnly") != NULL);
	CHECK(strstr(c, "; SameSite=Strict") != NULL);
	CHECK(strstr(c, "; Path=/") != NULL);
	CHECK(strstr(c, "; Max-Age=43200") != NULL);
	CHECK(strstr(c, "Secure") == NULL);
	mm_console_cookie(c, sizeof(c), tok, 1);
	CHECK(strstr(c, "; Secure") != NULL);
	mm_console_cookie(c, sizeof(c), NULL, 1);
	CHECK(!strncmp(c, "mamori_session=;", 16));
	CHECK(strstr(c, "Max-Age=0") != NULL);

	CHECK_EQ_INT(mm_console_cookie_token("mamori_session=abc", t, sizeof(t)), 1);
	CHECK_EQ_STR(t, "abc");
	CHECK_EQ_INT(mm_console_cookie_token("a=1; mamori_session=xyz ; b=2", t, sizeof(t)), 1);
	CHECK_EQ_STR(t, "xyz");
	CHECK_EQ_INT(mm_console_cookie_token("xmamori_session=abc", t, sizeof(t)), 0);
	CHECK_EQ_INT(mm_console_cookie_token("mamori_session=", t, sizeof(t)), 0);
	CHECK_EQ_INT(mm_console_cookie_token(NULL, t, sizeof(t)), 0);
	CHECK_EQ_INT(mm_console_cookie_token("mamori_session=0123456789", t, 5), 0);
}

MM_TEST(playbook_families)
{
	struct mm_buf b;
	CHECK_EQ_STR(mm_playbook_for("CryptoCurrency:EC2/BitcoinTool.B", "ACTOR")->family,
		     "ec2-compromise");
	CHECK_EQ_STR(mm_playbook_for("UnauthorizedAccess:EC2/SSHBruteForce", "TARGET")->family,
		     "ec2-targeted");
	CHECK_EQ_STR(mm_playbook_for("UnauthorizedAccess:EC2/SSHBruteForce", "ACTOR")->family,
		     "ec2-compromise");
	CHECK_EQ_STR(mm_playbook_for("Trojan:EC2/DropPoint!DNS", NULL)->family, "ec2-dns");
	CHECK_EQ_STR(mm_playbook_for("Stealth:IAMUser/CloudTrailLoggingDisabled", NULL)->family,
		     "logging-disabled");
	CHECK_EQ_STR(mm_playbook_for("UnauthorizedAccess:IAMUser/MaliciousIPCaller", NULL)->family,
		     "iam-credentials");
	CHECK_EQ_STR(mm_playbook_for("AttackSequence:IAM/CompromisedCredentials", NULL)->family,
		     "iam-credentials");
	CHECK_EQ_STR(mm_playbook_for("Policy:S3/BucketPublicAccessGranted", NULL)->family,
		     "s3-policy");
	CHECK_EQ_STR(mm_playbook_for("Backdoor:EC2/DenialOfService.Tcp", NULL)->family, "ec2-dos");
	CHECK_EQ_STR(mm_playbook_for("Something:Else/New", NULL)->family, "generic");
	CHECK_EQ_STR(mm_playbook_for(NULL, NULL)->family, "generic");
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_playbook_json(mm_playbook_for("Recon:EC2/Portscan", NULL), &b), 0);
	CHECK(strstr(b.p, "\"steps\":[\"") != NULL);
	CHECK(strstr(b.p, "ss -antp") != NULL);
	CHECK(strstr(b.p, "authorized_keys") != NULL);
	mm_buf_free(&b);
}
