/* auth.c - SigV4 against the issued keys; a read-only key may only read
 * (the table of writes is serve/roles.c's). */
#include "serve/auth.h"

#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/mtime.h"
#include "serve/keys.h"
#include "serve/roles.h"
#include "serve/sigv4.h"

struct mm_auth {
	struct mm_keys *keys;
};

int mm_auth_open(struct mm_auth **out, const char *db_path, struct mm_err *err)
{
	struct mm_auth *a;
	int rc;
	*out = NULL;
	if (!(a = mm_calloc(1, sizeof(*a))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	/* a wrong master key fails here, loudly, not at the first request */
	if ((rc = mm_keys_open(&a->keys, db_path, err)) || (rc = mm_keys_check(a->keys, err))) {
		mm_keys_close(a->keys);
		mm_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void mm_auth_close(struct mm_auth *a)
{
	if (!a)
		return;
	mm_keys_close(a->keys);
	mm_free(a);
}

static int secret_of(void *ctx, const char *id, char *secret, size_t cap)
{
	return mm_keys_secret(ctx, id, secret, cap);
}

int mm_auth_check(void *ctx, const struct mm_http_req *rq, char *type, size_t tcap, char *msg,
		  size_t mcap)
{
	struct mm_auth *a = ctx;
	struct mm_sigv4_req r;
	struct mm_err err;
	enum mm_sigv4_fail why = MM_SIGV4_OK;
	char key[64];
	int rc;

	memset(&r, 0, sizeof(r));
	r.method = rq->method;
	r.path = rq->path;
	r.query = rq->query;
	r.headers = rq->hdr;
	r.nheaders = rq->nhdr;
	r.body = rq->body;
	r.body_len = rq->body_len;
	r.now_ms = mm_now_ms();
	r.service = "guardduty";
	mm_err_clear(&err);
	rc = mm_sigv4_verify(&r, secret_of, a->keys, key, sizeof(key), &why, &err);
	if (rc == 0) {
		const char *what = "";
		enum mm_access need;
		mm_keys_touch(a->keys, key, r.now_ms); /* last used: at most once a minute */
		need = mm_access_gd(rq->method, rq->path, &what);
		if (need <= MM_ACCESS_VIEWER)
			return 0;
		rc = mm_keys_read_only(a->keys, key);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			snprintf(msg, mcap, "reading the API key's permissions failed");
			return 2;
		}
		snprintf(type, tcap, "AccessDeniedException");
		snprintf(msg, mcap,
			 "API key %s is read-only: %s needs a key created without --read-only", key,
			 what);
		return 1;
	}
	snprintf(type, tcap, "%s", mm_sigv4_fail_type(why));
	snprintf(msg, mcap, "%s", err.msg[0] ? err.msg : "request not authenticated");
	/* why stays OK when the fault is ours (the key store failed) */
	return why == MM_SIGV4_OK ? 2 : 1;
}
