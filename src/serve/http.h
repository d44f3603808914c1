/* http.h - the daemon's HTTP listener (GNU libmicrohttpd underneath).
 *
 * A handler sees a whole request: method, the path and query exactly as
 * the client sent them (still percent-encoded: SigV4 signs those bytes),
 * headers, and the body (read whole, bounded by MM_HTTP_MAX_BODY: a bigger
 * one is answered 413 without calling the handler). It fills a response.
 * One thread per connection, at most MM_HTTP_MAX_CONN of them, each idle
 * connection closed after MM_HTTP_TIMEOUT_S; handlers must be
 * thread-safe. */
#ifndef MM_HTTP_H
#define MM_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/err.h"
#include "serve/hdr.h"

#define MM_HTTP_MAX_BODY (4u << 20)	/* request body bytes */
#define MM_HTTP_MAX_HEADERS 64
#define MM_HTTP_MAX_CONN 64
#define MM_HTTP_TIMEOUT_S 30
#define MM_HTTP_MAX_RESP (256u << 20)	/* response body bytes */

struct mm_http_req {
	const char *method;
	const char *path;	/* raw, percent-encoded, no query */
	const char *query;	/* raw, without '?'; NULL when none */
	struct mm_http_header hdr[MM_HTTP_MAX_HEADERS];
	size_t nhdr;
	const char *body;	/* NUL-terminated; body_len bytes */
	size_t body_len;
	char remote[64];	/* client address, for logs */
};

struct mm_http_resp {
	int status;
	const char *ctype;	/* static string; default application/json */
	struct mm_buf body;	/* the handler appends */
	struct mm_http_header hdr[8];	/* extra headers; values copied below */
	char hval[8][512];
	size_t nhdr;
};

typedef void (*mm_http_handler)(void *ctx, const struct mm_http_req *rq, struct mm_http_resp *rs);

struct mm_http;	/* opaque */

/* Listen on addr ("127.0.0.1:8080", "[::1]:8080", "localhost:0" for any
 * free port) and serve every request with h. TLS when cert and key (PEM
 * files) are given. */
int mm_http_start(struct mm_http **out, const char *addr, const char *tls_cert,
		  const char *tls_key, mm_http_handler h, void *ctx, struct mm_err *err);
/* The port actually bound (useful after ":0"). */
int mm_http_port(const struct mm_http *s);
void mm_http_stop(struct mm_http *s);

/* "host:port", "[v6]:port", ":port" (= 127.0.0.1) resolved (numeric
 * port; host by name or address). 0 or MM_EINVAL with the reason. */
int mm_http_parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len,
		       struct mm_err *err);
/* A request header's value by name (case-insensitive), or NULL. */
const char *mm_http_header(const struct mm_http_req *rq, const char *name);
/* The value of query parameter name, percent-decoded into out (cap
 * bytes). 1 found, 0 not. */
int mm_http_query(const struct mm_http_req *rq, const char *name, char *out, size_t cap);
/* Add a response header (copied; at most 8, longer values cut). */
void mm_http_set_header(struct mm_http_resp *rs, const char *name, const char *value);
/* Decode %XX in place; 0 or MM_EINVAL for a bad escape. */
int mm_http_pct_decode(char *s);

#endif
