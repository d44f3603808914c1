/* api.h - GuardDuty's REST API over the findings store.
 *
 * The paths, request and response JSON of the real service (botocore's
 * guardduty 2017-11-28 model), so the AWS CLI and SDKs work with
 * --endpoint-url: ListDetectors, GetDetector, ListFindings,
 * GetFindings, GetFindingsStatistics, ArchiveFindings,
 * UnarchiveFindings, UpdateFindingsFeedback, and the filter CRUD
 * (CreateFilter, ListFilters, GetFilter, UpdateFilter, DeleteFilter).
 * Errors are GuardDuty's shape: {"message": ..., "__type": ...} with the
 * type also in x-amzn-ErrorType; 400 for bad requests, 403 when the
 * request is not signed by a known key, 404 for an unknown path.
 * docs/api.md lists what each operation does here. */
#ifndef MM_API_H
#define MM_API_H

#include "core/err.h"
#include "serve/http.h"

struct mm_sdb;

/* Decide whether a request may proceed: 0 yes; otherwise fill type (an
 * AWS error type name) and msg and return 1 (answered 403) or 2 (the
 * check itself failed: 500). */
typedef int (*mm_api_auth_fn)(void *ctx, const struct mm_http_req *rq, char *type, size_t tcap,
			      char *msg, size_t mcap);

struct mm_api_opts {
	const char *db_path;
	struct mm_sdb *sdb;		/* borrowed */
	mm_api_auth_fn auth;		/* required */
	void *auth_ctx;
};

struct mm_gdapi;

int mm_api_open(struct mm_gdapi **out, const struct mm_api_opts *o, struct mm_err *err);
void mm_api_close(struct mm_gdapi *a);
/* Serve one request whose path starts with /detector (an mm_http_handler
 * with ctx = the api). */
void mm_api_handle(void *api, const struct mm_http_req *rq, struct mm_http_resp *rs);
/* The same without the signature check: for callers that authenticated
 * the request their own way (the console's session cookie). rq->path
 * must start with /detector. Not counted in mm_api_counts. */
void mm_api_route(struct mm_gdapi *a, const struct mm_http_req *rq, struct mm_http_resp *rs);
/* 1 (the default): ListFindings and GetFindingsStatistics push the
 * indexed criteria down to SQL; 0: they read every finding (tests compare
 * the two). */
void mm_api_set_pushdown(struct mm_gdapi *a, int on);
/* Requests answered, by outcome (for /metrics). */
void mm_api_counts(const struct mm_gdapi *a, unsigned long long *ok, unsigned long long *client_err,
		   unsigned long long *denied, unsigned long long *server_err);

struct mm_json_val;
/* The request body as a JSON object (an empty body is {}); 0 or MM_EPARSE. */
int mm_api_body(const struct mm_http_req *rq, struct mm_json_val *v);
/* String member key of object o, unescaped into out: 1 found, 0 absent
 * (out untouched), MM_EINVAL wrong type, too long or holding a NUL. */
int mm_api_get_str(const struct mm_json_val *o, const char *key, char *out, size_t cap);

/* Write GuardDuty's error body and headers into rs. */
void mm_api_error(struct mm_http_resp *rs, int status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
