/* ship.h - the agent side of shipping: upload the new whole lines of
 * local files to a central `mamori serve` (serve/ingest.h has the
 * protocol), SigV4-signed with a key from `mamori keys create`.
 *
 * The files themselves are the on-disk queue: nothing is copied. Per
 * file the shipper remembers, in a small state file rewritten atomically
 * after every acknowledgement, the stream offset the server acknowledged,
 * the file's identity (device, inode) and how far into it that is, so a
 * restart resumes exactly there. While the server is away (refused,
 * timing out, 5xx, 503 back-pressure) nothing is lost: the bytes stay in
 * the files and the next cycles retry with backoff (1 s doubling to
 * 60 s). Rotation is handled as the follower does: when the path names a
 * new inode, the old file (still open) is shipped to its last whole line,
 * then the new one from its start; a file that shrank (copytruncate) is
 * read again from its start. A 409 from the server (its stream size
 * differs from ours: our state or its spool was lost) re-aligns on the
 * server's offset: we resend from there when that point is inside the
 * file at a line start, else continue with our next byte at the server's
 * offset.
 *
 * THE RULE for whoever writes the queued files (the agent's
 * *.hostevents.jsonl spool): a file may be deleted only when
 * mm_ship_pending() says 0 for it (every byte shipped and acknowledged)
 * AND its records are committed locally. Deleting earlier loses what
 * was not yet shipped. Files must be written in whole lines.
 *
 * Backlog bound: the bytes not yet acknowledged across all files are
 * counted (mm_ship_counts().backlog); past the spool cap mm_ship_cycle
 * returns MM_SHIP_OVER_CAP and logs it once: the writer should stop
 * adding (the shipper never drops anything itself).
 *
 * Not thread-safe: one thread drives a struct mm_ship. */
#ifndef MM_SHIP_H
#define MM_SHIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MM_SHIP_MAX_FILES 256
#define MM_SHIP_CHUNK (1u << 20)		/* bytes a request carries at most */
#define MM_SHIP_SPOOL_CAP (1ull << 30)	/* default backlog bound */
#define MM_SHIP_BACKOFF_MIN_MS 1000
#define MM_SHIP_BACKOFF_MAX_MS 60000
#define MM_SHIP_TIMEOUT_MS 30000

/* mm_ship_cycle's results (besides negative errors) */
#define MM_SHIP_DONE 0		/* every file shipped to its last whole line */
#define MM_SHIP_RETRY 1		/* the server is away or busy: call again after mm_ship_retry_ms */
#define MM_SHIP_OVER_CAP 2	/* as RETRY, and the backlog is over the spool cap */

struct mm_ship_opts {
	const char *server;	/* "http://127.0.0.1:8600" (https too); required */
	const char *key_id;	/* access key id; required */
	const char *secret;	/* secret key; required */
	const char *region;	/* signing region; NULL = "us-east-1" */
	const char *host;	/* host name sent; NULL = gethostname() (sanitised) */
	/* the host's AWS account (12 digits) and region, sent with every
	 * request so the server's findings name them; NULL = not sent */
	const char *account;
	const char *host_region;
	const char *state_path;	/* required: offsets survive restarts here */
	size_t chunk;		/* 0 = MM_SHIP_CHUNK; at most serve's MM_INGEST_MAX_BODY */
	uint64_t spool_cap;	/* 0 = MM_SHIP_SPOOL_CAP */
	int timeout_ms;		/* per request; 0 = MM_SHIP_TIMEOUT_MS */
};

struct mm_ship_counts {
	uint64_t bytes_sent;	/* acknowledged by the server (new to it) */
	uint64_t lines_sent;
	uint64_t requests, failures;	/* failures: transport errors, 5xx, 403 */
	uint64_t resyncs;	/* 409s re-aligned on */
	uint64_t skipped_lines;	/* lines longer than the chunk: not shipped */
	uint64_t backlog;	/* bytes in the files not yet acknowledged */
	int over_cap;
};

struct mm_ship;

/* Read the state file (a missing one is an empty state). *out is the
 * caller's, freed by mm_ship_close. MM_EINVAL (options), MM_EPARSE (a
 * state file that is not ours), MM_EIO, MM_ENOMEM. */
int mm_ship_open(struct mm_ship **out, const struct mm_ship_opts *o, struct mm_err *err);
/* Write the state and free everything. */
void mm_ship_close(struct mm_ship *s);

/* Ship path (copied) as stream source (NULL = its base name, made a
 * valid name: characters outside [A-Za-z0-9._-] become '_'). Adding the
 * same path again is 0. MM_EEXISTS (another path has that source name),
 * MM_ETOOBIG (MM_SHIP_MAX_FILES), MM_EINVAL (a bad source name). The
 * file need not exist yet. */
int mm_ship_add(struct mm_ship *s, const char *path, const char *source, struct mm_err *err);
/* Stop shipping path and forget its state. MM_EBUSY when it is pending
 * (see the rule above), MM_ENOTFOUND when not added. */
int mm_ship_remove(struct mm_ship *s, const char *path, struct mm_err *err);

/* One pass over every file: ship what is new, in chunks, until each is
 * shipped to its last whole line or the server stops accepting.
 * MM_SHIP_DONE, MM_SHIP_RETRY or MM_SHIP_OVER_CAP (err says why), or
 * negative on a local failure (the state file cannot be written). Waits
 * for nothing itself: the caller sleeps mm_ship_retry_ms() after RETRY. */
int mm_ship_cycle(struct mm_ship *s, struct mm_err *err);
/* How long to wait before the next cycle after a RETRY (backoff, or the
 * server's Retry-After). */
int mm_ship_retry_ms(const struct mm_ship *s);

/* 1 when path (as added) has bytes the server has not acknowledged (or
 * the file was never looked at), 0 when all of it is shipped, -1 when it
 * was not added. The agent must not delete a spool file while this is
 * not 0 (THE RULE above). */
int mm_ship_pending(struct mm_ship *s, const char *path);

void mm_ship_counts(const struct mm_ship *s, struct mm_ship_counts *c);

/* The key: from file (lines AWS_ACCESS_KEY_ID=... and
 * AWS_SECRET_ACCESS_KEY=..., as `mamori keys create` prints; "export "
 * prefixes, quotes and comments allowed), else (file NULL) from the
 * environment variables of the same names. 0, MM_ENOTFOUND, MM_EIO. */
int mm_ship_load_key(const char *file, char *id, size_t idcap, char *secret, size_t scap,
		     struct mm_err *err);

/* --- exposed for tests ----------------------------------------------- */

/* Where a file stands: the stream offset the server acknowledged and
 * the file offset that corresponds to. */
struct mm_ship_pos {
	uint64_t stream;	/* server offset of our next byte */
	uint64_t foff;		/* our next byte in the file */
};
/* The server answered 409 with offset `want`; fd is the file (its
 * first len bytes are there). Move p back or forward to want when
 * want - stream lands inside [0, len] of the file at a line start
 * (resend from there / skip what the server has), else keep foff and
 * take want as our next stream offset. Returns 1 when the file offset
 * moved, 0 when only the stream offset did. */
int mm_ship_resync(struct mm_ship_pos *p, uint64_t want, int fd, uint64_t len);
/* The "offset" member of the server's JSON answer: 0 and *off, or
 * MM_EPARSE. Bounded by n; the body need not be NUL-terminated. */
int mm_ship_parse_reply(const char *body, size_t n, uint64_t *off);

#endif
