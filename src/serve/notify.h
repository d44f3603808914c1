/* notify.h - telling people about findings: webhook (the EventBridge
 * event GuardDuty sends), Slack (incoming webhook, Block Kit) and email
 * (SMTP through libcurl), what GuardDuty users build by hand from
 * EventBridge + SNS + Lambda.
 *
 * The ingest thread calls mm_notify_flushed after each committed flush;
 * the findings that flush wrote and that a sink wants (severity, type
 * globs, not archived) become rows of an outbox in the findings database
 * (own tables, own connection, prepared statements only):
 *   notify_outbox(id, sink, finding_id, resource, kind new|update,
 *                 payload = the finding JSON, created_at, attempts,
 *                 next_at, status pending|sent|dead|skipped, last_error,
 *                 done_at)
 *   notify_state(sink, finding_id, seen_updated, last_enq, dirty)
 *   notify_meta(key, value)                 the last processed flush
 * One worker thread sends the due rows, marks a row sent only after a
 * 2xx (HTTP) or 250 (SMTP), retries a failure after 1 s, 2 s, 4 s ...
 * (capped) and after max_attempts leaves it as a dead letter. A restart
 * finds the pending rows and the last processed flush in the file, so a
 * kill neither loses a notification nor sends a delivered one again (a
 * kill between the receiver's 2xx and the row's update can resend that
 * one row: at-least-once at that single point).
 *
 * Frequency (GuardDuty's findingPublishingFrequency): a new finding goes
 * out at once; an update of a finding the sink was told about goes out at
 * most once per period (FIFTEEN_MINUTES, ONE_HOUR, SIX_HOURS), carrying
 * the finding as it is when it goes (its latest count). Archived findings
 * (by an ARCHIVE filter on arrival, or through the API) are never sent.
 * Each sink's queue (pending rows) is bounded; past it, notifications
 * are dropped and counted. */
#ifndef MM_NOTIFY_H
#define MM_NOTIFY_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define MM_NOTIFY_MAX_SINKS 8
#define MM_NOTIFY_MAX_TYPES 16
#define MM_NOTIFY_MAX_TO 8
#define MM_NOTIFY_NAME 64
#define MM_NOTIFY_URL 1024
#define MM_NOTIFY_GLOB 128
#define MM_NOTIFY_ADDR 256
#define MM_NOTIFY_PAYLOAD_MAX (4u << 20)	/* a finding's JSON, bytes */

enum mm_sink_kind { MM_SINK_WEBHOOK = 1, MM_SINK_SLACK, MM_SINK_EMAIL };

/* One sink, by value (strings are arrays: a conf copies as a whole).
 * Zero fields take the defaults noted. */
struct mm_notify_sink {
	char name[MM_NOTIFY_NAME];	/* unique; keys the outbox rows */
	enum mm_sink_kind kind;
	char url[MM_NOTIFY_URL];	/* http(s) URL; email: smtp:// or smtps:// */
	double min_severity;		/* 0 = every finding */
	char types[MM_NOTIFY_MAX_TYPES][MM_NOTIFY_GLOB];	/* fnmatch globs; none = all */
	int ntypes;
	int frequency_s;		/* updates: 900 (default), 3600, 21600 */
	int max_attempts;		/* 0 = 8 */
	/* email */
	char from[MM_NOTIFY_ADDR];
	char to[MM_NOTIFY_MAX_TO][MM_NOTIFY_ADDR];
	int nto;
	char user[MM_NOTIFY_ADDR];
	char password_env[MM_NOTIFY_NAME];	/* the password is read from this variable */
};

struct mm_notify_conf {
	struct mm_notify_sink sinks[MM_NOTIFY_MAX_SINKS];
	int nsinks;
	char console_url[MM_NOTIFY_URL];	/* "" = no links */
	int backoff_ms;		/* first retry after; 0 = 1000 */
	int backoff_max_ms;	/* cap; 0 = 300000 */
	int queue_max;		/* pending rows per sink; 0 = 10000 */
	int timeout_s;		/* one delivery; 0 = 10 */
};

struct mm_notify;

/* Open the outbox in db_path (which must exist: the store created it)
 * and start the worker. conf is copied. With no sinks *out is NULL and
 * every function below takes NULL as "nothing to do". An email sink
 * whose password variable is unset is an error that names it. */
int mm_notify_open(struct mm_notify **out, const char *db_path, const struct mm_notify_conf *conf,
		   struct mm_err *err);
/* Stop the worker (a delivery in flight finishes or times out) and
 * close. Pending rows stay in the file for the next start. */
void mm_notify_close(struct mm_notify *n);
/* After a committed flush that started at since_ms: queue what the
 * sinks want of the non-archived findings updated since then (and since
 * the last processed flush, should the daemon have died in between). */
int mm_notify_flushed(struct mm_notify *n, int64_t since_ms, struct mm_err *err);

struct mm_notify_count {
	char sink[MM_NOTIFY_NAME];
	unsigned long long sent, failed, dead, dropped, queued;
};
/* Per sink, into out[0..max); returns how many. failed counts failed
 * attempts; dead the dead letters in the file; queued the pending rows. */
int mm_notify_counts(struct mm_notify *n, struct mm_notify_count *out, int max);

/* One dead letter (strings valid during the callback). */
struct mm_notify_dead {
	long long id;
	const char *sink, *finding_id, *last_error;
	int attempts;
	int64_t at_ms;		/* when it was given up on */
	int sink_configured;	/* 0: its sink was removed */
};
typedef int (*mm_notify_dead_cb)(void *ctx, const struct mm_notify_dead *r);
/* The newest max dead letters (every sink's, removed ones too), newest
 * first; cb returns nonzero to stop. How many were seen, or negative.
 * Any thread. */
int mm_notify_dead_each(struct mm_notify *n, int max, mm_notify_dead_cb cb, void *ctx);
/* Queue dead letter id again (attempts from 0, due now): 1, 0 when there
 * is no dead letter with that id, negative on a database error. A dead
 * letter of a removed sink goes dead again at once ("sink removed"). */
int mm_notify_retry(struct mm_notify *n, long long id, struct mm_err *err);

/* ---- pieces, exposed for tests ---- */

/* "low"/"medium"/"high"/"critical" (1, 4, 7, 9) or a number 0..10. 0 or MM_EINVAL. */
int mm_notify_severity_parse(const char *s, double *out);
/* "FIFTEEN_MINUTES" 900, "ONE_HOUR" 3600, "SIX_HOURS" 21600; 0 or MM_EINVAL. */
int mm_notify_frequency_parse(const char *s, int *out_s);
const char *mm_notify_frequency_name(int s);
/* Does sink s want a finding of this type and severity? */
int mm_notify_wants(const struct mm_notify_sink *s, const char *type, double severity);
/* Delay before attempt `attempts + 1` after `attempts` failures (>= 1):
 * base * 2^(attempts-1), capped. */
int64_t mm_notify_backoff_ms(const struct mm_notify_conf *c, int attempts);
/* An update of a notified finding: send now (1) or wait for the period
 * (0)? last_enq_ms is when the sink was last given this finding. */
int mm_notify_update_due(int64_t now_ms, int64_t last_enq_ms, int frequency_s);
/* The request body for sink kind (webhook: the EventBridge event; slack:
 * the Block Kit message; email: the message with headers, CRLF lines)
 * for the finding JSON, appended to out. 0, MM_EINVAL (not a finding),
 * or a buffer error. */
int mm_notify_render(const struct mm_notify_conf *c, const struct mm_notify_sink *s,
		     const char *finding_json, const char *resource, struct mm_buf *out);

#endif
