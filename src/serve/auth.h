/* auth.h - who may call the API: AWS SigV4 signatures (serve/sigv4.h)
 * checked against the access keys `mamori keys create` issued
 * (serve/keys.h). An mm_api_auth_fn. */
#ifndef MM_AUTH_H
#define MM_AUTH_H

#include <stddef.h>

#include "core/err.h"
#include "serve/http.h"

struct mm_auth;

int mm_auth_open(struct mm_auth **out, const char *db_path, struct mm_err *err);
void mm_auth_close(struct mm_auth *a);
/* 0 when rq is signed by an active key for service "guardduty";
 * otherwise the AWS error type and a message, and 1 (the client's
 * fault: 403) or 2 (ours, the key store failed: 500). */
int mm_auth_check(void *ctx, const struct mm_http_req *rq, char *type, size_t tcap, char *msg,
		  size_t mcap);

#endif
