/* ingest.h - the server side of agent shipping: `POST /mamori/v1/ingest`.
 *
 * A host agent (`mamori agent ship`, agent/ship.h) uploads the new whole
 * lines of a log or host-event file; this module appends them, fsynced,
 * to a file under the daemon's spool folder, which the daemon follows
 * like any other source (serve.c), so what was acknowledged survives a
 * crash and its progress is committed with the findings it produced.
 *
 * Request: POST /mamori/v1/ingest?host=H&source=S&offset=N, signed with
 * AWS SigV4 for service "guardduty" by a key from `mamori keys create`
 * (the same check as the GuardDuty API: serve/auth.h). H is 1..64 and S
 * 1..128 bytes of [A-Za-z0-9._-] not starting with '.' (S not ending in
 * a compression suffix); anything else is refused, never rewritten. N is
 * the byte offset in the (host, source) stream where the body starts.
 * The body is zero or more whole lines (empty, or ending in '\n'), at
 * most MM_INGEST_MAX_BODY bytes.
 *
 * Answers (JSON; errors in GuardDuty's {"message","__type"} shape):
 *   200 {"offset":H,"written":W}  H the stream's size now (every byte
 *       below H is on disk), W the bytes this request added. A retry of
 *       bytes the server already has is 200 with W = 0 (or the part it
 *       lacked): never written twice.
 *   409 {"__type":"OffsetMismatchException","offset":H,...}  N > H (a
 *       gap), or N < H < N + len with H not at a line start of the body:
 *       resume at H.
 *   503 + Retry-After  the spool is full (MM_INGEST_MAX_BYTES) or the
 *       host has too many files: nothing written, try again later.
 *   400 bad names, offset or body; 403 not signed by an active key.
 *
 * On disk: DIR/<host>/<base>.<source>, base the 20-digit stream offset
 * of the file's first byte. A file is closed for writing at
 * segment_bytes (at a line boundary) and a new one started; closed files
 * the daemon has committed to their end are removed (mm_ingest_prune);
 * the newest file of a stream is never removed, so the stream's size is
 * always known from the folder alone (no other state). A crash in the
 * middle of a write leaves an unacknowledged partial line at the end of
 * the newest file: it is cut off before the next write.
 *
 * Thread-safe: one mutex serialises writes and prunes (the HTTP
 * listener's threads and the daemon's ingest thread). */
#ifndef MM_INGEST_H
#define MM_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "engine/place.h"
#include "serve/http.h"

#define MM_INGEST_PATH "/mamori/v1/ingest"
#define MM_INGEST_HOST_MAX 64
#define MM_INGEST_SOURCE_MAX 128
#define MM_INGEST_MAX_BODY MM_HTTP_MAX_BODY	/* 4 MiB: the listener's cap (413 past it) */
#define MM_INGEST_MAX_BYTES (1ull << 30)	/* spool bytes of all agents */
#define MM_INGEST_SEGMENT (64ull << 20)	/* bytes per file before a new one */
#define MM_INGEST_MAX_HOST_FILES 256	/* files in one host's folder */
#define MM_INGEST_MAX_HOSTS 4096		/* host folders */
#define MM_INGEST_METRIC_HOSTS 256		/* hosts counted by name in /metrics (then "_other") */
#define MM_INGEST_RETRY_S 5		/* Retry-After when full */

struct mm_ingest;

struct mm_ingest_opts {
	const char *dir;		/* created 0700 with the first upload (parent must exist) */
	uint64_t max_bytes;		/* 0 = MM_INGEST_MAX_BYTES */
	uint64_t segment_bytes;		/* 0 = MM_INGEST_SEGMENT */
	int max_host_files;		/* 0 = MM_INGEST_MAX_HOST_FILES */
	/* the signature check (serve/auth.h's mm_auth_check); NULL = none
	 * (unit tests only) */
	int (*auth)(void *ctx, const struct mm_http_req *rq, char *type, size_t tcap, char *msg,
		    size_t mcap);
	void *auth_ctx;
};

/* A request's target, validated. */
struct mm_ingest_target {
	char host[MM_INGEST_HOST_MAX + 1];
	char source[MM_INGEST_SOURCE_MAX + 1];
	uint64_t offset;
	/* account=, region=: the host's AWS account and region (optional;
	 * kept in the host's folder as its place file, engine/place.h) */
	struct mm_place place;
};

/* Outcome of a write. */
enum mm_ingest_status {
	MM_INGEST_OK,		/* appended (or already had it) */
	MM_INGEST_GAP,		/* offset mismatch: resume at *have */
	MM_INGEST_FULL,		/* spool or host file bound reached: retry later */
};

int mm_ingest_open(struct mm_ingest **out, const struct mm_ingest_opts *o, struct mm_err *err);
void mm_ingest_close(struct mm_ingest *g);

/* 1 when s is a valid host (max = MM_INGEST_HOST_MAX) or source name
 * (max = MM_INGEST_SOURCE_MAX, is_source set), 0 otherwise. */
int mm_ingest_name_ok(const char *s, size_t max, int is_source);

/* Read host=, source=, offset= (and account=, region= when given) from
 * rq's query into t. 0 or MM_EINVAL
 * with the reason in err. Exposed for tests and fuzzing. */
int mm_ingest_parse_query(const struct mm_http_req *rq, struct mm_ingest_target *t,
			  struct mm_err *err);

/* Append body (n bytes: empty or whole lines) to t's stream at
 * t->offset, fsynced before returning. 0 with *status and *have (the
 * stream's size afterwards, or the size to resume at) and *written;
 * MM_EINVAL (body not whole lines), MM_EIO with err. */
int mm_ingest_write(struct mm_ingest *g, const struct mm_ingest_target *t, const char *body,
		    size_t n, enum mm_ingest_status *status, uint64_t *have, uint64_t *written,
		    struct mm_err *err);

/* Serve one request to MM_INGEST_PATH (an mm_http_handler; ctx = g). */
void mm_ingest_handle(void *g, const struct mm_http_req *rq, struct mm_http_resp *rs);

/* Remove closed files (not the newest of their stream) that done(ctx,
 * path, size) says were committed to their end. The daemon calls it
 * after each commit. */
void mm_ingest_prune(struct mm_ingest *g, int (*done)(void *ctx, const char *path, uint64_t size),
		     void *ctx);

/* Prometheus text: bytes and lines in by host, requests rejected by
 * reason, duplicate bytes, spool bytes. */
void mm_ingest_metrics(struct mm_ingest *g, struct mm_buf *b);

/* Bytes in the ingest folder now. */
uint64_t mm_ingest_spool_bytes(struct mm_ingest *g);

#endif
