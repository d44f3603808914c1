/* sigv4.h - AWS Signature Version 4: verify a request (what `mamori
 * serve` does for every API call) and sign one (tests and clients).
 *
 * Both forms AWS defines are verified: the Authorization header
 * ("AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
 * SignedHeaders=a;b, Signature=hex") and the presigned query string
 * (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 * X-Amz-SignedHeaders, X-Amz-Signature). The canonical request is built
 * as botocore (the AWS CLI's signer) builds it for services other than
 * S3: the path as sent, dot segments and empty segments removed, then
 * URI-encoded once more; the query decoded, re-encoded and sorted; the
 * signed headers lowercased, values trimmed and inner blanks collapsed,
 * repeated headers joined with ','; the payload hash the SHA-256 of the
 * body (an x-amz-content-sha256 header must equal it). The region is
 * whatever the client signed for; the service must be the expected one.
 * docs/internals/auth.md has the whole story.
 *
 * Everything from the client is bounded (MM_SIGV4_MAX_*): larger is
 * MM_SIGV4_MALFORMED, never an allocation without limit. Thread-safe:
 * no shared state; about 16 KiB of stack, a few heap buffers (the
 * canonical request) freed before return. */
#ifndef MM_SIGV4_H
#define MM_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MM_SIGV4_SKEW_MS (15 * 60 * 1000)	/* allowed clock difference */
#define MM_SIGV4_MAX_EXPIRES 604800		/* presigned: 7 days, as AWS */
#define MM_SIGV4_MAX_PATH 8192			/* bytes of the raw path */
#define MM_SIGV4_MAX_QUERY 16384		/* bytes of the raw query */
#define MM_SIGV4_MAX_PARAMS 256			/* query parameters */
#define MM_SIGV4_MAX_HEADERS 128		/* headers looked at */
#define MM_SIGV4_MAX_SIGNED 64			/* names in SignedHeaders */
#define MM_SIGV4_MAX_VALUE 8192			/* bytes of one header value */
#define MM_SIGV4_KEY_ID_MAX 128			/* bytes of an access key id */
#define MM_SIGV4_SECRET_MAX 128			/* bytes of a secret key */
#define MM_SIGV4_AUTH_MAX 4096			/* Authorization values signed / read */

/* One header as received (name in any case, value untrimmed, borrowed):
 * struct mm_http_header, shared with the HTTP listener. */
#include "serve/hdr.h"

/* A request as received. Every pointer is borrowed for the call. */
struct mm_sigv4_req {
	const char *method;	/* "GET", "POST", ... */
	const char *path;	/* raw request path as sent, percent-encoded, no query */
	const char *query;	/* raw query string without '?', or NULL */
	const struct mm_http_header *headers;
	size_t nheaders;
	const void *body;	/* may be NULL when body_len is 0 */
	size_t body_len;
	int64_t now_ms;		/* wall clock, for the 15-minute skew check */
	const char *service;	/* expected signing service, "guardduty" */
};

enum mm_sigv4_fail {
	MM_SIGV4_OK,		/* no client fault (success, or our own error) */
	MM_SIGV4_MISSING,	/* no Authorization header, no presigned query */
	MM_SIGV4_MALFORMED,	/* present but unparsable, incomplete or too big */
	MM_SIGV4_UNKNOWN_KEY,	/* access key id not known or not active */
	MM_SIGV4_BAD_SIGNATURE,	/* signature (or payload hash) does not match */
	MM_SIGV4_EXPIRED,	/* time outside now +- 15 min, or presigned URL expired */
	MM_SIGV4_WRONG_SCOPE,	/* other service, or scope date != request date */
};

/* Look up a key's secret: 0 and secret copied (NUL-terminated) if known
 * and active, else MM_ENOTFOUND (any other negative code is our own
 * failure, passed back by mm_sigv4_verify). Called from the verifying
 * thread: must be thread-safe when verify runs on several threads. */
typedef int (*mm_sigv4_secret_fn)(void *ctx, const char *access_key_id, char *secret, size_t cap);

/* 0 if the request is signed by a known key (its id copied to key_id,
 * truncated to key_id_cap - 1; *why = MM_SIGV4_OK). Otherwise:
 *   - the client's fault: MM_EINVAL, *why says which, err->msg a message
 *     for the client in AWS's words (never the secret or the expected
 *     signature): answer 403 with mm_sigv4_fail_type(*why) and err->msg;
 *   - our fault: a negative code from fn (MM_EDB, ...) or MM_ENOMEM, with
 *     *why = MM_SIGV4_OK and err->msg saying what failed: answer 500.
 * why and err may be NULL; key_id may be NULL (key_id_cap 0). */
int mm_sigv4_verify(const struct mm_sigv4_req *r, mm_sigv4_secret_fn fn, void *ctx,
		    char *key_id, size_t key_id_cap, enum mm_sigv4_fail *why,
		    struct mm_err *err);

/* Sign r for the given amz_date ("YYYYMMDDTHHMMSSZ"), region and key, as
 * the header form: writes into out (cap bytes; MM_SIGV4_AUTH_MAX always
 * suffices) the Authorization header's value. Adds nothing to r: its
 * headers must already hold Host and X-Amz-Date (= amz_date; or a Date
 * header in RFC 1123 form for the same instant); every
 * header given is signed except Authorization. r->now_ms is not used.
 * 0, MM_EINVAL (missing or malformed input, reason in err), MM_ETOOBIG
 * (over a bound or over cap) or MM_ENOMEM. */
int mm_sigv4_sign(const struct mm_sigv4_req *r, const char *amz_date, const char *region,
		  const char *access_key_id, const char *secret, char *out, size_t cap,
		  struct mm_err *err);

/* AWS's error type for the error body ("__type" / x-amzn-ErrorType):
 * MissingAuthenticationTokenException, IncompleteSignatureException,
 * UnrecognizedClientException, InvalidSignatureException (bad signature,
 * expired, wrong scope). "InternalServerException" for MM_SIGV4_OK.
 * Static; never NULL. */
const char *mm_sigv4_fail_type(enum mm_sigv4_fail why);

#endif
