/* spool.h - sources that are streams, not files: syslog over UDP and TCP,
 * and stdin. Their messages are appended to files in a spool folder that
 * the daemon follows like any other, so the file pipeline's guarantees
 * hold for them too: what reached the spool survives a crash, and its
 * progress is committed with the findings it produced.
 *
 * One spool file per stream: a syslog message goes to <tag>.log, tag
 * being its RFC 3164 TAG or RFC 5424 APP-NAME (letters, digits, '-',
 * '_', '.', at most 32; anything else is "syslog"), stdin to stdin.log.
 * Senders tag each log type apart (a flow-log shipper "vpcflow", a
 * CloudTrail one "cloudtrail"), because a file's format is detected from
 * its first lines. Only the message part is written (the syslog header
 * is dropped): the line as AWS or Linux wrote it.
 *
 * Bounds: a message is at most MM_SPOOL_MAX_MSG bytes (longer is cut and
 * counted); a spool file is rotated at MM_SPOOL_ROTATE bytes; when the
 * folder holds MM_SPOOL_MAX_BYTES, UDP messages are dropped (counted)
 * and TCP connections are not read (the sender's back-pressure) until
 * the daemon has consumed and removed rotated files (mm_spool_prune). */
#ifndef MM_SPOOL_H
#define MM_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MM_SPOOL_MAX_MSG 65536
#define MM_SPOOL_ROTATE (64ull << 20)
#define MM_SPOOL_MAX_BYTES (1ull << 30)
#define MM_SPOOL_MAX_CONN 64

struct mm_spool;

struct mm_spool_opts {
	const char *dir;	/* created 0700 if missing */
	const char *udp;	/* "HOST:PORT" or NULL */
	const char *tcp;	/* "HOST:PORT" or NULL */
	int stdin_src;		/* read stdin lines into stdin.log */
};

struct mm_spool_counts {
	uint64_t messages, bytes, dropped, cut, connections;
	uint64_t stalls;	/* TCP back-pressure: polls the readers paused, spool full */
	uint64_t spool_bytes;	/* in the folder now */
};

int mm_spool_open(struct mm_spool **out, const struct mm_spool_opts *o, struct mm_err *err);
/* Stop the listeners, flush and close the files. */
void mm_spool_close(struct mm_spool *sp);
/* The ports actually bound (after port 0), 0 when not listening. */
int mm_spool_udp_port(const struct mm_spool *sp);
int mm_spool_tcp_port(const struct mm_spool *sp);
void mm_spool_counts(const struct mm_spool *sp, struct mm_spool_counts *c);
/* Remove rotated spool files that done(ctx, path, size) says were read
 * to their end; called by the daemon after a commit. */
void mm_spool_prune(struct mm_spool *sp, int (*done)(void *ctx, const char *path, uint64_t size),
		    void *ctx);

/* The message part of one syslog frame (RFC 3164 or 5424, with or
 * without the <PRI>): *msg and *mlen point into frame, tag copied into tag (cap
 * >= 33). A frame that is no syslog at all is taken whole as the
 * message with tag "syslog". Exposed for tests and fuzzing. */
void mm_syslog_split(const char *frame, size_t n, char *tag, size_t cap, const char **msg,
		     size_t *mlen);

#endif
