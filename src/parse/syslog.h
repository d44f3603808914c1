/* syslog.h - host logs as Linux writes them, into MM_EV_HOST events:
 * rsyslog's traditional lines ("Dec  5 22:48:54 host prog[pid]: msg",
 * RHEL /var/log/secure and /var/log/cron, Debian /var/log/auth.log),
 * rsyslog's RFC 3339 stamps ("2026-12-05T22:48:54.123456+00:00 host
 * prog[pid]: msg", Debian 12's default) and `journalctl -o json` lines.
 *
 * The programs whose lines say something about logins, privilege,
 * accounts and cron are read into their kinds (sshd, sudo, su, useradd,
 * usermod, userdel, groupadd, passwd, chpasswd, CRON/CROND, crontab);
 * every other line, and the lines of those programs that say nothing of
 * interest, is an MM_HOST_LINE event (program, pid, host, message) so
 * Sigma keyword rules see it; host detectors ignore that kind. A line
 * without a syslog header is MM_EPARSE with the reason in err.
 *
 * Year-less stamps (the traditional format) take their year from the
 * context's anchor (the file's mtime; the wall clock on stdin): the
 * anchor's year, or the year before when that would put the line more
 * than a day after the anchor (a line cannot be written after its file
 * last changed, so a file spanning New Year resolves right). See
 * docs/internals/syslog.md. */
#ifndef MM_SYSLOG_H
#define MM_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/common.h"
#include "core/err.h"
#include "core/event.h"

struct mm_inventory;

/* Per-file context. Everything is borrowed and must outlive the file's
 * records. */
struct mm_syslog_ctx {
	int64_t anchor_ms;			/* year anchor: file mtime or now */
	const char *host;			/* --host NAME: replaces the logged name; or NULL */
	const char *instance_id;		/* from --host i-... or a path component; or NULL */
	const struct mm_inventory *inv;		/* ip-a-b-c-d hosts -> instance; may be NULL */
	/* out: how many times the last parsed line stands for ("message
	 * repeated N times", bounded by MM_SYSLOG_REPEAT_MAX); 1 otherwise */
	uint32_t repeat;
};
#define MM_SYSLOG_REPEAT_MAX 1000

/* Does the line start with a syslog header (either stamp form, host,
 * tag)? For format detection. */
int mm_syslog_looks_like(const char *line, size_t n);
/* Is the line a `journalctl -o json` object (MESSAGE and
 * __REALTIME_TIMESTAMP members)? */
int mm_journal_looks_like(const char *line, size_t n);

/* Parse one line into ev (kind MM_EV_HOST; slices borrowed from line or
 * from a, which holds unescaped text). 0, or MM_EPARSE /
 * MM_ETOOBIG with the reason in e. Sets cx->repeat. */
int mm_syslog_parse(struct mm_syslog_ctx *cx, const char *line, size_t n, struct mm_arena *a,
		    struct mm_event *ev, struct mm_err *e);
int mm_journal_parse(struct mm_syslog_ctx *cx, const char *line, size_t n, struct mm_arena *a,
		     struct mm_event *ev, struct mm_err *e);

/* Interpret msg, logged by prog, into h (what, user, remote, ...;
 * message). Always 0: a message of no known kind is MM_HOST_LINE (h's
 * time, host, instance_id and pid kept, the rest cleared). *repeat as
 * above. */
int mm_syslog_message(struct mm_host *h, struct mm_str prog, struct mm_str msg, uint32_t *repeat);

/* The year-less stamp (month 1-12, day, seconds of the day) resolved
 * against anchor_ms (see above). */
int64_t mm_syslog_resolve_year(int mon, int day, int64_t sod, int64_t anchor_ms);

/* A path component named like an instance id ("i-" and 8 or 17 hex
 * digits) into out (NUL-terminated); 1 found, 0 not. */
int mm_syslog_instance_from_path(const char *path, char *out, size_t cap);
/* EC2's default host name "ip-10-0-1-23" (also "ip-10-0-1-23.ec2.internal")
 * as the address 10.0.1.23; 0 or MM_EPARSE. */
int mm_syslog_host_ip(struct mm_str host, struct mm_ip *out);

#endif
