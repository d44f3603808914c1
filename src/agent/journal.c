/* journal.c - the agent's journald collector (journal.h): entries after a
 * saved cursor through sd-journal, filtered to what the host-log parser
 * reads, rendered as `journalctl -o json` lines for the spool. The
 * rendering and the filter are plain C (unit-tested without a journal);
 * the reader is built only with MM_HAVE_SYSTEMD. */
#include "agent/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/file.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"

#ifdef MM_HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

const char *const mm_journal_field_names[MM_JF__N] = {
	"_HOSTNAME", "_PID", "SYSLOG_IDENTIFIER", "_COMM", "PRIORITY", "SYSLOG_FACILITY", "MESSAGE",
};

/* the programs syslog.c gives an event kind (docs/internals/syslog.md),
 * systemd-logind (session lines), and the programs of the Sigma services
 * vsftpd, clamav and guacamole (src/sigma/sigma.c: their keyword rules
 * read these programs' lines) */
static const char *const wanted_progs[] = {
	"sshd", "sshd-session", "sudo", "su", "useradd", "usermod", "userdel", "groupadd",
	"adduser", "chsh", "gpasswd", "passwd", "chpasswd", "CRON", "cron", "CROND", "crond",
	"crontab", "systemd-logind", "vsftpd", "clamd", "freshclam", "clamav-milter", "clamonacc",
	"clamdscan", "clamscan", "guacd", "guacamole",
};

static int slice_is(const char *p, size_t n, const char *z)
{
	return p && strlen(z) == n && !memcmp(p, z, n);
}

int mm_journal_wanted(const struct mm_journal_entry *e)
{
	size_t i;
	if (slice_is(e->f[MM_JF_FACILITY].p, e->f[MM_JF_FACILITY].n, "4") ||
	    slice_is(e->f[MM_JF_FACILITY].p, e->f[MM_JF_FACILITY].n, "10"))
		return 1;
	for (i = 0; i < sizeof(wanted_progs) / sizeof(wanted_progs[0]); i++)
		if (slice_is(e->f[MM_JF_IDENT].p, e->f[MM_JF_IDENT].n, wanted_progs[i]) ||
		    slice_is(e->f[MM_JF_COMM].p, e->f[MM_JF_COMM].n, wanted_progs[i]))
			return 1;
	return 0;
}

/* Bytes at the start of p[0..n) that are whole valid UTF-8. */
static size_t utf8_prefix(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		int k = mm_utf8_seq(p + i, n - i);
		if (k <= 0)
			break;
		i += (size_t)k;
	}
	return i;
}

static int add_bytes_array(struct mm_buf *b, const char *p, size_t n)
{
	size_t i;
	int rc = mm_buf_addc(b, '[');
	for (i = 0; !rc && i < n; i++)
		rc = mm_buf_printf(b, i ? ",%u" : "%u", (unsigned)(unsigned char)p[i]);
	return rc ? rc : mm_buf_addc(b, ']');
}

int mm_journal_entry_json(struct mm_buf *out, const struct mm_journal_entry *e)
{
	size_t mark = out->len, i;
	int rc = 0;
	const char *mp = e->f[MM_JF_MESSAGE].p;
	size_t mn = e->f[MM_JF_MESSAGE].n;
	if (!mp)
		return MM_ESKIP;
	if ((rc = mm_buf_addc(out, '{')))
		goto out;
	if (e->cursor && strlen(e->cursor) < MM_JOURNAL_CURSOR_MAX &&
	    utf8_prefix(e->cursor, strlen(e->cursor)) == strlen(e->cursor) &&
	    ((rc = mm_buf_addz(out, "\"__CURSOR\":")) ||
	     (rc = mm_buf_json_strz(out, e->cursor)) || (rc = mm_buf_addc(out, ','))))
		goto out;
	/* journalctl writes the numbers as strings */
	if ((rc = mm_buf_printf(out, "\"__REALTIME_TIMESTAMP\":\"%llu\"",
				(unsigned long long)e->realtime_us)))
		goto out;
	for (i = 0; i < MM_JF_MESSAGE; i++) {
		const char *p = e->f[i].p;
		size_t n = e->f[i].n;
		if (!p || n > MM_JOURNAL_FIELD_MAX || utf8_prefix(p, n) != n)
			continue;
		if ((rc = mm_buf_printf(out, ",\"%s\":", mm_journal_field_names[i])) ||
		    (rc = mm_buf_json_str(out, p, n)))
			goto out;
	}
	if ((rc = mm_buf_addz(out, ",\"MESSAGE\":")))
		goto out;
	if (mn > MM_JOURNAL_MSG_MAX) {
		/* cut; text stays text when only the cut split a character */
		size_t ok = utf8_prefix(mp, MM_JOURNAL_MSG_MAX);
		size_t whole = ok + 4 < mn ? ok + 4 : mn;
		if (ok + 4 > MM_JOURNAL_MSG_MAX && utf8_prefix(mp, whole) > ok)
			mn = ok;
		else
			mn = MM_JOURNAL_MSG_MAX;
	}
	if (utf8_prefix(mp, mn) == mn)
		rc = mm_buf_json_str(out, mp, mn);
	else
		rc = add_bytes_array(out, mp, mn);
	if (!rc)
		rc = mm_buf_addz(out, "}\n");
out:
	if (rc) {
		out->len = mark;
		if (out->p)
			out->p[mark] = '\0';
	}
	return rc;
}

/* ---- the spool's resume point ------------------------------------------- */

static int spool_seq(const char *name, unsigned long *seq)
{
	char *end;
	if (name[0] < '0' || name[0] > '9')
		return -1;
	*seq = strtoul(name, &end, 10);
	return strcmp(end, MM_JOURNAL_SPOOL_SUFFIX) ? -1 : 0;
}

/* The __CURSOR of the last whole line of path (files are renamed in
 * whole; the last 128 KiB hold the last line: lines are < 64 KiB). */
static int file_last_cursor(const char *path, char *buf, size_t cap)
{
	enum { TAIL = 128 << 10 };
	char *t = NULL, mem[1024];
	struct stat sb;
	struct mm_arena ar;
	struct mm_json_val o, v;
	struct mm_str s;
	size_t n, end, start, used;
	off_t at;
	int fd = -1, rc = 0;
	ssize_t r;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(fd, &sb)) {
		rc = -1;
		goto out;
	}
	at = sb.st_size > TAIL ? sb.st_size - TAIL : 0;
	n = (size_t)(sb.st_size - at);
	if (!n || !(t = mm_malloc(n))) {
		rc = n ? -1 : 0;
		goto out;
	}
	if ((r = pread(fd, t, n, at)) != (ssize_t)n) {
		rc = -1;
		goto out;
	}
	end = n;
	while (end && t[end - 1] == '\n')
		end--;
	start = end;
	while (start && t[start - 1] != '\n')
		start--;
	mm_arena_init(&ar, mem, sizeof(mem));
	if (end > start && !mm_json_value(t + start, end - start, &o, &used) &&
	    o.type == MM_JSON_OBJECT && mm_json_get(&o, "__CURSOR", &v) == 1 &&
	    v.type == MM_JSON_STRING && !mm_json_str(&v, &ar, &s) && s.n && s.n < cap &&
	    !memchr(s.p, '\0', s.n)) {
		memcpy(buf, s.p, s.n);
		buf[s.n] = '\0';
		rc = 1;
	}
out:
	if (fd >= 0)
		close(fd);
	mm_free(t);
	return rc;
}

int mm_journal_spool_cursor(const char *spool, char *buf, size_t cap)
{
	DIR *d = opendir(spool);
	struct dirent *de;
	unsigned long best = 0, s;
	char name[NAME_MAX + 1] = "", path[PATH_MAX];
	int found = 0, rc;
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)))
		if (!spool_seq(de->d_name, &s) && (!found || s > best)) {
			best = s;
			found = 1;
			snprintf(name, sizeof(name), "%s", de->d_name);
		}
	closedir(d);
	if (!found)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", spool, name);
	rc = file_last_cursor(path, buf, cap);
	return rc;
}

/* ---- the reader ----------------------------------------------------------- */

#ifndef MM_HAVE_SYSTEMD

int mm_journal_built(void)
{
	return 0;
}

int mm_journal_open(struct mm_journal **out, const struct mm_journal_opts *o, struct mm_err *err)
{
	(void)o;
	*out = NULL;
	return mm_err_set(err, MM_EINVAL, "this mamori was built without libsystemd: no --journal "
					  "(install libsystemd-dev and rebuild)");
}

int mm_journal_read(struct mm_journal *j, struct mm_buf *out, uint64_t *n, struct mm_err *err)
{
	(void)j, (void)out;
	*n = 0;
	return mm_err_set(err, MM_EINVAL, "built without libsystemd");
}

int mm_journal_commit(struct mm_journal *j, struct mm_err *err)
{
	(void)j;
	return mm_err_set(err, MM_EINVAL, "built without libsystemd");
}

void mm_journal_counts(const struct mm_journal *j, struct mm_journal_counts *c)
{
	(void)j;
	memset(c, 0, sizeof(*c));
}

void mm_journal_close(struct mm_journal *j)
{
	(void)j;
}

#else

struct mm_journal {
	sd_journal *j;
	char state[PATH_MAX];
	char pending[MM_JOURNAL_CURSOR_MAX];	/* the last cursor read, not yet saved */
	int dirty;
	uint64_t max_entries;
	struct mm_journal_counts n;
};

int mm_journal_built(void)
{
	return 1;
}

/* Write the state file whole: the value and a newline (core/file.h). */
static int state_save(const char *path, const char *value, struct mm_err *err)
{
	char tmp[PATH_MAX + 8];
	struct mm_buf b;
	int rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	mm_buf_init(&b, strlen(value) + 2);
	if (mm_buf_printf(&b, "%s\n", value) || !b.p)
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
	else
		rc = mm_file_replace(path, tmp, b.p, b.len, err);
	mm_buf_free(&b);
	return rc;
}

/* 1 read (one line, no '\n'), 0 absent. */
static int state_load(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;
	if (!f)
		return 0;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] != '\0';
}

/* The realtime stamp (t=hex) of a cursor, 0 when it has none. */
static uint64_t cursor_realtime(const char *c)
{
	const char *t = strstr(c, ";t=");
	if (!t && !strncmp(c, "t=", 2))
		t = c - 1;
	return t ? strtoull(t + 3, NULL, 16) : 0;
}

static int add_matches(sd_journal *j)
{
	size_t i;
	char m[64];
	int r;
	if ((r = sd_journal_add_match(j, "SYSLOG_FACILITY=4", 0)) < 0 ||
	    (r = sd_journal_add_match(j, "SYSLOG_FACILITY=10", 0)) < 0 ||
	    (r = sd_journal_add_disjunction(j)) < 0)
		return r;
	for (i = 0; i < sizeof(wanted_progs) / sizeof(wanted_progs[0]); i++) {
		snprintf(m, sizeof(m), "SYSLOG_IDENTIFIER=%s", wanted_progs[i]);
		if ((r = sd_journal_add_match(j, m, 0)) < 0)
			return r;
	}
	if ((r = sd_journal_add_disjunction(j)) < 0)
		return r;
	for (i = 0; i < sizeof(wanted_progs) / sizeof(wanted_progs[0]); i++) {
		/* _COMM is cut at 15 bytes by the kernel; every name here is shorter */
		snprintf(m, sizeof(m), "_COMM=%s", wanted_progs[i]);
		if ((r = sd_journal_add_match(j, m, 0)) < 0)
			return r;
	}
	return 0;
}

/* Position after cursor c: on the entry itself when it is there (the
 * next read starts after it), else before the oldest entry after its
 * time (said once). */
static int seek_after(struct mm_journal *jr, const char *c, struct mm_err *err)
{
	int r;
	if ((r = sd_journal_seek_cursor(jr->j, c)) < 0)
		return mm_err_set(err, MM_EPARSE, "journal cursor %.64s: %s", c, strerror(-r));
	r = sd_journal_next(jr->j);
	if (r > 0 && sd_journal_test_cursor(jr->j, c) > 0)
		return 0;
	mm_warn("agent: journal: the saved cursor is no longer in the journal (vacuumed or "
		"rotated away): resuming at the oldest entry after its time");
	if ((r = sd_journal_seek_realtime_usec(jr->j, cursor_realtime(c) + 1)) < 0)
		return mm_err_set(err, MM_EIO, "journal: %s", strerror(-r));
	return 0;
}

int mm_journal_open(struct mm_journal **out, const struct mm_journal_opts *o, struct mm_err *err)
{
	struct mm_journal *jr;
	char c[MM_JOURNAL_CURSOR_MAX];
	int r, rc = 0, from_spool;
	*out = NULL;
	if (!(jr = mm_calloc(1, sizeof(*jr))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	snprintf(jr->state, sizeof(jr->state), "%s", o->state);
	jr->max_entries = o->max_entries && o->max_entries < MM_JOURNAL_CYCLE_ENTRIES
				  ? o->max_entries : MM_JOURNAL_CYCLE_ENTRIES;
	r = o->dir ? sd_journal_open_directory(&jr->j, o->dir, 0)
		   : sd_journal_open(&jr->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r < 0) {
		rc = mm_err_set(err, MM_EIO, "journal %s: %s", o->dir ? o->dir : "(system)",
				strerror(-r));
		goto out;
	}
	/* fields past this are cut by libsystemd: MESSAGE's bound, plus "MESSAGE=" */
	(void)sd_journal_set_data_threshold(jr->j, MM_JOURNAL_MSG_MAX + 64);
	if ((r = add_matches(jr->j)) < 0) {
		rc = mm_err_set(err, MM_EIO, "journal matches: %s", strerror(-r));
		goto out;
	}
	(void)sd_journal_get_fd(jr->j); /* notice journal files that appear later */
	if ((from_spool = mm_journal_spool_cursor(o->spool, c, sizeof(c))) < 0) {
		/* not the state's older cursor: that could read entries twice */
		rc = mm_err_set(err, MM_EIO, "%s: the newest journal spool file cannot be read",
				o->spool);
		goto out;
	}
	if (from_spool || state_load(jr->state, c, sizeof(c))) {
		if (!strcmp(c, "HEAD"))
			r = sd_journal_seek_head(jr->j);
		else if ((rc = seek_after(jr, c, err)))
			goto out;
		if (from_spool) { /* the crash window: the spool has it, the state not */
			snprintf(jr->pending, sizeof(jr->pending), "%s", c);
			jr->dirty = 1;
		}
	} else if (o->since_us > 0) {
		r = sd_journal_seek_realtime_usec(jr->j, (uint64_t)o->since_us);
	} else if (o->since_us < 0 || o->dir) {
		r = sd_journal_seek_head(jr->j);
		snprintf(jr->pending, sizeof(jr->pending), "HEAD");
		jr->dirty = 1;
	} else {
		/* first run on the system journal: from now on (the history is
		 * --journal-since's); the tail is saved at once so the next run
		 * does not start at a later tail */
		char *tc = NULL;
		if ((r = sd_journal_seek_tail(jr->j)) >= 0 && (r = sd_journal_previous(jr->j)) > 0 &&
		    sd_journal_get_cursor(jr->j, &tc) >= 0 && strlen(tc) < sizeof(jr->pending))
			snprintf(jr->pending, sizeof(jr->pending), "%s", tc);
		else /* an empty journal: everything that comes is new */
			r = sd_journal_seek_head(jr->j), snprintf(jr->pending, sizeof(jr->pending), "HEAD");
		free(tc);
		jr->dirty = 1;
	}
	if (r < 0) {
		rc = mm_err_set(err, MM_EIO, "journal seek: %s", strerror(-r));
		goto out;
	}
	if (jr->dirty && (rc = mm_journal_commit(jr, err)))
		goto out;
	*out = jr;
	jr = NULL;
out:
	mm_journal_close(jr);
	return rc;
}

/* A field's value (after "NAME="), or absent. */
static void get_field(sd_journal *j, const char *name, const char **p, size_t *n)
{
	const void *d;
	size_t l, k = strlen(name);
	*p = NULL;
	*n = 0;
	if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= k || memcmp(d, name, k) ||
	    ((const char *)d)[k] != '=')
		return;
	*p = (const char *)d + k + 1;
	*n = l - k - 1;
}

int mm_journal_read(struct mm_journal *jr, struct mm_buf *out, uint64_t *n, struct mm_err *err)
{
	uint64_t looked = 0;
	int r;
	*n = 0;
	(void)sd_journal_process(jr->j);
	while (looked < jr->max_entries && out->len < MM_JOURNAL_CYCLE_BYTES) {
		struct mm_journal_entry e;
		char *cur = NULL;
		uint64_t us = 0;
		size_t i;
		if ((r = sd_journal_next(jr->j)) < 0)
			return mm_err_set(err, MM_EIO, "journal: %s", strerror(-r));
		if (!r)
			break;
		looked++;
		if ((r = sd_journal_get_cursor(jr->j, &cur)) < 0)
			return mm_err_set(err, MM_EIO, "journal cursor: %s", strerror(-r));
		memset(&e, 0, sizeof(e));
		e.cursor = cur;
		(void)sd_journal_get_realtime_usec(jr->j, &us);
		e.realtime_us = us;
		for (i = 0; i < MM_JF__N; i++)
			get_field(jr->j, mm_journal_field_names[i], &e.f[i].p, &e.f[i].n);
		if (!mm_journal_wanted(&e) || (r = mm_journal_entry_json(out, &e)) == MM_ESKIP) {
			jr->n.skipped++;
		} else if (r) {
			/* the buffer is full: this entry comes first next cycle */
			free(cur);
			(void)sd_journal_previous(jr->j);
			break;
		} else {
			(*n)++;
			jr->n.read++;
		}
		if (strlen(cur) < sizeof(jr->pending)) {
			snprintf(jr->pending, sizeof(jr->pending), "%s", cur);
			jr->dirty = 1;
		}
		free(cur);
	}
	return 0;
}

int mm_journal_commit(struct mm_journal *jr, struct mm_err *err)
{
	int rc;
	if (!jr->dirty)
		return 0;
	if (!(rc = state_save(jr->state, jr->pending, err)))
		jr->dirty = 0;
	return rc;
}

void mm_journal_counts(const struct mm_journal *jr, struct mm_journal_counts *c)
{
	*c = jr->n;
}

void mm_journal_close(struct mm_journal *jr)
{
	if (!jr)
		return;
	if (jr->j)
		sd_journal_close(jr->j);
	mm_free(jr);
}

#endif
