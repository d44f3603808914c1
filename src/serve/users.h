/* users.h - the web console's users and sessions, in the findings
 * SQLite file through their own connection (as serve/sdb.h does):
 *   console_users(name PRIMARY KEY, pw, created_at, failures, retry_at, last_signin,
 *                 role admin|analyst|viewer; serve/roles.h)
 *   console_sessions(token_hash PRIMARY KEY, name, created_at, seen_at)
 *
 * Passwords: PBKDF2-HMAC-SHA256 (OpenSSL), MM_USERS_ITER iterations, a
 * 16-byte random salt, stored as "pbkdf2-sha256$ITER$SALTHEX$HASHHEX";
 * compared in constant time. A sign-in for an unknown user runs the same
 * KDF, so the answer's timing does not tell which names exist.
 *
 * Backoff: after MM_USERS_FREE_FAILS wrong passwords in a row for a user,
 * each further attempt must wait 1 s, 2 s, 4 s ... (at most 60 s) after
 * the last failure; an attempt before then is refused without checking
 * the password (MM_EBUSY, *retry_ms says how long). A good sign-in resets
 * the count.
 *
 * Sessions: a random 256-bit token (64 hex characters) goes to the
 * browser in the cookie; only its SHA-256 is stored. A session ends after
 * MM_USERS_IDLE_MS without a request, MM_USERS_MAX_MS after sign-in, on
 * sign-out, or when its user is deleted. The CSRF token is derived from
 * the session token (HMAC-SHA256 keyed by it), so nothing more is stored
 * and a stolen database does not yield it.
 *
 * Times are passed in (now_ms) so tests can move the clock. Thread-safe:
 * one mutex around the connection. */
#ifndef MM_USERS_H
#define MM_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MM_USERS_ITER 210000		/* PBKDF2 iterations (OWASP 2023: 600k for SHA-256 is the
					 * top of the range; 210k keeps a sign-in near 0.1 s) */
#define MM_USERS_NAME_MAX 64		/* bytes; A-Z a-z 0-9 . _ @ + - */
#define MM_USERS_PW_MIN 8
#define MM_USERS_PW_MAX 1024
#define MM_USERS_PW_STR 160		/* the stored string, with its NUL */
#define MM_USERS_TOKEN_HEX 64		/* session and CSRF tokens: 32 bytes as hex */
#define MM_USERS_IDLE_MS (12LL * 3600 * 1000)
#define MM_USERS_MAX_MS (7LL * 24 * 3600 * 1000)
#define MM_USERS_FREE_FAILS 3
#define MM_USERS_MAX_WAIT_MS 60000

struct mm_users;

/* Hash pw (n bytes) with salt (16 bytes) and iter iterations into out
 * ("pbkdf2-sha256$..."). 0, or MM_EINVAL (pw too long) / MM_EIO. */
int mm_users_pw_hash(const char *pw, size_t n, const unsigned char salt[16], unsigned iter,
		     char out[MM_USERS_PW_STR]);
/* 1 when pw matches the stored string, 0 when not, MM_EINVAL when stored
 * is not one mm_users_pw_hash writes. */
int mm_users_pw_verify(const char *stored, const char *pw, size_t n);
/* The CSRF token of a session token (both 64 hex characters). */
void mm_users_csrf(const char *token, char out[MM_USERS_TOKEN_HEX + 1]);
/* 1 when name is a valid user name. */
int mm_users_name_ok(const char *name);

int mm_users_open(struct mm_users **out, const char *db_path, struct mm_err *err);
void mm_users_close(struct mm_users *u);

/* Add a user, with the default role (MM_EEXISTS if taken; MM_EINVAL for a bad name or a
 * password shorter than MM_USERS_PW_MIN or longer than MM_USERS_PW_MAX). */
int mm_users_add(struct mm_users *u, const char *name, const char *pw, size_t n, int64_t now_ms,
		 struct mm_err *err);
/* The same with a role ("admin", "analyst", "viewer"; MM_EINVAL for
 * another). role NULL: admin for the first user, analyst after. A
 * database from before roles gets the column; its users become admin. */
int mm_users_add_role(struct mm_users *u, const char *name, const char *pw, size_t n,
		      const char *role, int64_t now_ms, struct mm_err *err);
/* Change a user's role: 1 changed, 0 no such user, MM_EINVAL bad role. */
int mm_users_set_role(struct mm_users *u, const char *name, const char *role, struct mm_err *err);
/* A user's role as enum mm_access (serve/roles.h): 1..3; 0 no such user;
 * negative on a database error. */
int mm_users_role(struct mm_users *u, const char *name, struct mm_err *err);
/* Delete a user and their sessions. 1 deleted, 0 no such user. */
int mm_users_del(struct mm_users *u, const char *name, struct mm_err *err);
struct mm_user_row {
	const char *name;
	int64_t created_ms, last_signin_ms;	/* 0: never */
	long failures;
	long sessions;				/* live sessions */
	const char *role;			/* "admin", "analyst", "viewer" */
};
typedef int (*mm_user_cb)(void *ctx, const struct mm_user_row *r);
/* Every user, by name. */
int mm_users_each(struct mm_users *u, int64_t now_ms, mm_user_cb cb, void *ctx, struct mm_err *err);

/* Check name and password; on success start a session and write its
 * token into token (64 hex + NUL): 0. A wrong name or password:
 * MM_EINVAL. Too soon after failures: MM_EBUSY with *retry_ms. */
int mm_users_signin(struct mm_users *u, const char *name, const char *pw, size_t n,
		    int64_t now_ms, char token[MM_USERS_TOKEN_HEX + 1], int64_t *retry_ms,
		    struct mm_err *err);
/* 1 when token names a live session (its user copied into name, cap
 * bytes; its idle clock restarted), 0 when not (unknown, expired,
 * malformed), negative on a database error. */
int mm_users_session(struct mm_users *u, const char *token, int64_t now_ms, char *name,
		     size_t cap, struct mm_err *err);
/* End the session (nothing if unknown). */
int mm_users_signout(struct mm_users *u, const char *token, struct mm_err *err);

#endif
