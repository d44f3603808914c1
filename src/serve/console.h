/* console.h - the web console `mamori serve` serves: its page (web/,
 * embedded in the binary by serve/assets.S) at /, /console and
 * /console/..., and a JSON API under /console/api/ for that page.
 *
 *   POST /console/api/signin     {"user","password"} -> {"user","csrf","detectorId","role"} + cookie
 *   POST /console/api/signout
 *   GET  /console/api/session    -> {"user","csrf","detectorId","role"} or 401
 *   ANY  /console/api/gd/detector/...   GuardDuty's own operations
 *        (serve/api.h's mm_api_route: ListFindings, GetFindings, Archive,
 *        filters, threat intel sets ...), the session standing in for SigV4
 *   POST /console/api/findings   one page of the findings table: the
 *        findingCriteria of ListFindings plus free text, sort, offset;
 *        the total, counts by severity and by day (the chart)
 *   GET  /console/api/playbook?type=T&role=R   remediation steps (serve/playbook.h)
 *   GET  /console/api/lists      the threat lists serve loaded from its
 *        command line / config (the API's sets come through /gd/)
 *   GET  /console/api/system     the daemon's health (serve.c writes it):
 *        events in by source, parse errors, lag, spool depth, syslog
 *        drops, notification queues, retries and dead letters
 *   POST /console/api/deadletters/retry {"id": N}   queue a dead letter again
 *
 * Roles (serve/roles.h): every request after the session check is held
 * against the user's role (read from the database at each request); a
 * role below what the operation needs gets 403 {"message": "forbidden: ..."}.
 *
 * Every API call but signin needs a live session (cookie
 * "mamori_session", serve/users.h); every one that is not GET or HEAD
 * also needs the header X-CSRF-Token equal to the session's CSRF token
 * (403 otherwise); a request with an Origin header must come from the
 * console's own origin (403 otherwise). */
#ifndef MM_CONSOLE_H
#define MM_CONSOLE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "serve/http.h"

struct mm_gdapi;
struct mm_pipeline_opts;
struct mm_console;

#define MM_CONSOLE_COOKIE "mamori_session"

struct mm_console_opts {
	const char *db_path;
	struct mm_gdapi *api;			/* borrowed */
	const char *detector_id;		/* borrowed */
	int tls;				/* cookies get Secure */
	const struct mm_pipeline_opts *lists;	/* borrowed, may be NULL: what /lists shows */
	/* /system and /deadletters/retry (may be NULL): status appends the
	 * JSON object; retry returns 1 re-queued, 0 no such dead letter,
	 * negative on an error. Called from HTTP threads. */
	void (*status)(void *ctx, struct mm_buf *out);
	int (*retry)(void *ctx, long long id, struct mm_err *err);
	void *status_ctx;
};

int mm_console_open(struct mm_console **out, const struct mm_console_opts *o, struct mm_err *err);
void mm_console_close(struct mm_console *c);
/* Answer rq if its path is the console's ("/", "/console", "/console/...")
 * and return 1; 0 (rs untouched) for any other path. */
int mm_console_handle(struct mm_console *c, const struct mm_http_req *rq, struct mm_http_resp *rs);

/* The Set-Cookie value for a session token (NULL: one that clears the
 * cookie), with HttpOnly, SameSite=Strict, Path=/, Max-Age and, when
 * secure, Secure. */
void mm_console_cookie(char *out, size_t cap, const char *token, int secure);
/* The session token in a Cookie header into out (cap bytes): 1 found, 0 not. */
int mm_console_cookie_token(const char *cookie_hdr, char *out, size_t cap);
/* 1 when a state-changing request may proceed: method GET/HEAD, or its
 * X-CSRF-Token equals want (compared in constant time); 0 otherwise. */
int mm_console_csrf_ok(const struct mm_http_req *rq, const char *want);
/* 1 when the request has no Origin header, or its Origin is this server
 * (scheme per tls, host from the Host header); 0 otherwise. */
int mm_console_origin_ok(const struct mm_http_req *rq, int tls);

#endif
