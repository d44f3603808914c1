/* journal.h - the agent's journald collector: the entries the host-log
 * parser reads (auth/authpriv, sshd, sudo, su, useradd..., cron), taken
 * through libsystemd's sd-journal after a saved cursor, written as
 * `journalctl -o json` lines for the agent's spool (docs/agent.md,
 * "The journal"). The conversion (mm_journal_entry_json) is always
 * built; the reader needs MM_HAVE_SYSTEMD (mm_journal_built() says).
 *
 * Exactly once: mm_journal_read() fills a buffer and remembers the last
 * cursor it read; the caller makes the buffer a whole spool file
 * (renamed in), THEN calls mm_journal_commit() to save the cursor. On
 * open the resume point is the last __CURSOR of the newest
 * NNNNNN.journal.jsonl in the spool folder when one is there (a crash
 * between the rename and the commit re-reads nothing), else the saved
 * cursor. */
#ifndef MM_AGENT_JOURNAL_H
#define MM_AGENT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define MM_JOURNAL_MSG_MAX 8192		/* MESSAGE bytes kept (the rest cut) */
#define MM_JOURNAL_FIELD_MAX 256	/* any other field's bytes (longer: left out) */
#define MM_JOURNAL_CURSOR_MAX 512
#define MM_JOURNAL_CYCLE_ENTRIES 20000	/* entries looked at a cycle; the rest next cycle */
#define MM_JOURNAL_CYCLE_BYTES (16u << 20) /* JSON bytes a cycle (+ one entry) */
#define MM_JOURNAL_SPOOL_SUFFIX ".journal.jsonl"

/* The fields rendered, in this order after __CURSOR and __REALTIME_TIMESTAMP. */
enum mm_journal_field {
	MM_JF_HOSTNAME,
	MM_JF_PID,
	MM_JF_IDENT,	/* SYSLOG_IDENTIFIER */
	MM_JF_COMM,
	MM_JF_PRIORITY,
	MM_JF_FACILITY,	/* SYSLOG_FACILITY */
	MM_JF_MESSAGE,
	MM_JF__N
};

extern const char *const mm_journal_field_names[MM_JF__N];

/* One entry, every slice borrowed; n == 0 with p == NULL: absent. */
struct mm_journal_entry {
	const char *cursor;	/* NUL-terminated, may be NULL */
	uint64_t realtime_us;
	struct {
		const char *p;
		size_t n;
	} f[MM_JF__N];
};

/* 1 when the entry is one the host-log parser may use: facility auth (4)
 * or authpriv (10), or SYSLOG_IDENTIFIER / _COMM one of sshd,
 * sshd-session, sudo, su, useradd, usermod, userdel, groupadd, adduser,
 * chsh, gpasswd, passwd, chpasswd, CRON, cron, CROND, crond, crontab,
 * systemd-logind, and the Sigma services' vsftpd, clamd, freshclam,
 * clamav-milter, clamonacc, clamdscan, clamscan, guacd, guacamole. */
int mm_journal_wanted(const struct mm_journal_entry *e);

/* Append e to out as one `journalctl -o json` line (with '\n'). MESSAGE
 * that is not UTF-8 becomes an array of byte values (as journalctl
 * writes it); it is cut at MM_JOURNAL_MSG_MAX bytes (on a character
 * boundary when it is text). Other fields that are not UTF-8 or longer
 * than MM_JOURNAL_FIELD_MAX are left out. MM_ESKIP (nothing appended)
 * without MESSAGE; MM_ETOOBIG when out is full (out unchanged). */
int mm_journal_entry_json(struct mm_buf *out, const struct mm_journal_entry *e);

/* 1 when built with libsystemd. */
int mm_journal_built(void);

struct mm_journal;

struct mm_journal_opts {
	const char *dir;	/* journal files in DIR (journalctl -D); NULL: the system journal */
	const char *state;	/* the cursor state file (written atomically) */
	const char *spool;	/* the agent's spool folder (NNNNNN.journal.jsonl) */
	int64_t since_us;	/* first run: start here; 0: the default (below); -1: the head */
	/* first run without since_us: the head with dir (the files were
	 * handed over to be read), the tail of the system journal */
	uint64_t max_entries;	/* entries looked at a read; 0: MM_JOURNAL_CYCLE_ENTRIES */
};

struct mm_journal_counts {
	uint64_t read;		/* entries rendered, this handle's life */
	uint64_t skipped;	/* entries looked at and not wanted */
};

/* Open and position (caller frees with mm_journal_close). MM_EINVAL
 * when built without libsystemd. */
int mm_journal_open(struct mm_journal **out, const struct mm_journal_opts *o, struct mm_err *err);
/* Append the next entries (bounded) to out; *n = the lines appended. */
int mm_journal_read(struct mm_journal *j, struct mm_buf *out, uint64_t *n, struct mm_err *err);
/* Save the last cursor read (after its spool file is renamed in). */
int mm_journal_commit(struct mm_journal *j, struct mm_err *err);
void mm_journal_counts(const struct mm_journal *j, struct mm_journal_counts *c);
void mm_journal_close(struct mm_journal *j);

/* The last __CURSOR of the newest NNNNNN.journal.jsonl in spool into
 * buf: 1 found, 0 none, < 0 error. Exposed for the unit test. */
int mm_journal_spool_cursor(const char *spool, char *buf, size_t cap);

#endif
