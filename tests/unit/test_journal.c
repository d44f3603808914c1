/* test_journal.c - the agent's journald collector (agent/journal.h): an
 * entry rendered as a `journalctl -o json` line and read back by the
 * host-log parser (text and byte-array MESSAGE, missing fields, a huge
 * MESSAGE cut on a character boundary, fields left out, a full buffer),
 * the entry filter with look-alikes, the spool's resume cursor, and -
 * with libsystemd and systemd-journal-remote - a real journal file with
 * a binary and a 100 KiB MESSAGE read through sd-journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/journal.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "mmtest.h"
#include "parse/format.h"
#include "parse/syslog.h"

static char scratch[1 << 17];

static void set(struct mm_journal_entry *e, enum mm_journal_field f, const char *p, size_t n)
{
	e->f[f].p = p;
	e->f[f].n = n;
}

static void setz(struct mm_journal_entry *e, enum mm_journal_field f, const char *z)
{
	set(e, f, z, strlen(z));
}

/* Parse line (with its '\n') back as the pipeline would. */
static int reparse(const struct mm_buf *b, struct mm_event *ev)
{
	struct mm_syslog_ctx cx;
	struct mm_arena a;
	struct mm_err e;
	memset(&cx, 0, sizeof(cx));
	mm_arena_init(&a, scratch, sizeof(scratch));
	mm_err_clear(&e);
	if (!b->len || b->p[b->len - 1] != '\n')
		return -1;
	return mm_journal_parse(&cx, b->p, b->len - 1, &a, ev, &e);
}

static void full_entry(struct mm_journal_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->cursor = "s=abc;i=7;b=0123;m=1;t=661eab0570b40;x=9";
	e->realtime_us = 1796510400000000ULL;
	setz(e, MM_JF_HOSTNAME, "ip-10-0-1-23");
	setz(e, MM_JF_PID, "2101");
	setz(e, MM_JF_IDENT, "sshd");
	setz(e, MM_JF_COMM, "sshd");
	setz(e, MM_JF_PRIORITY, "6");
	setz(e, MM_JF_FACILITY, "10");
	setz(e, MM_JF_MESSAGE, "Failed password for root from 203.0.113.77 port 50100 ssh2");
}

MM_TEST(text_entry_round_trip)
{
	struct mm_journal_entry e;
	struct mm_event ev;
	struct mm_buf b;
	mm_buf_init(&b, 1 << 20);
	full_entry(&e);
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	CHECK_EQ_STR(b.p, "{\"__CURSOR\":\"s=abc;i=7;b=0123;m=1;t=661eab0570b40;x=9\","
			  "\"__REALTIME_TIMESTAMP\":\"1796510400000000\",\"_HOSTNAME\":\"ip-10-0-1-23\","
			  "\"_PID\":\"2101\",\"SYSLOG_IDENTIFIER\":\"sshd\",\"_COMM\":\"sshd\","
			  "\"PRIORITY\":\"6\",\"SYSLOG_FACILITY\":\"10\",\"MESSAGE\":\"Failed password "
			  "for root from 203.0.113.77 port 50100 ssh2\"}\n");
	CHECK_EQ_INT(mm_journal_looks_like(b.p, b.len - 1), 1);
	/* the spool file's name and content are detected as journald JSON */
	CHECK_EQ_INT(mm_format_detect("/x/db.agent/000003.journal.jsonl", b.p, b.len, 0),
		     MM_FMT_JOURNAL);
	CHECK_EQ_INT(reparse(&b, &ev), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LOGIN_FAIL);
	CHECK_EQ_SLICE(ev.u.host.user, "root");
	CHECK_EQ_SLICE(ev.u.host.host, "ip-10-0-1-23");
	CHECK_EQ_INT(ev.u.host.pid, 2101);
	CHECK_EQ_INT(ev.u.host.time_ms, 1796510400000LL);
	mm_buf_free(&b);
}

MM_TEST(binary_message_as_bytes)
{
	static const char msg[] = "Failed password for r\xffot from 203.0.113.77 port 1 ssh2";
	struct mm_journal_entry e;
	struct mm_event ev;
	struct mm_buf b;
	mm_buf_init(&b, 1 << 20);
	full_entry(&e);
	set(&e, MM_JF_MESSAGE, msg, sizeof(msg) - 1);
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	CHECK(strstr(b.p, "\"MESSAGE\":[70,97,105,108,") != NULL);
	CHECK(strstr(b.p, ",114,255,111,116,") != NULL);
	CHECK_EQ_INT(reparse(&b, &ev), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LOGIN_FAIL);
	CHECK_EQ_SLICE(ev.u.host.user, "r\xffot");
	/* control characters and a NUL are text: escaped, not bytes */
	mm_buf_reset(&b);
	set(&e, MM_JF_MESSAGE, "a\x01\n\0b", 5);
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	CHECK(strstr(b.p, "\"MESSAGE\":\"a\\u0001\\n\\u0000b\"}") != NULL);
	mm_buf_free(&b);
}

MM_TEST(missing_fields)
{
	struct mm_journal_entry e;
	struct mm_event ev;
	struct mm_buf b;
	mm_buf_init(&b, 1 << 20);
	memset(&e, 0, sizeof(e));
	e.realtime_us = 5;
	/* no MESSAGE: nothing written */
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), MM_ESKIP);
	CHECK_EQ_INT((int)b.len, 0);
	/* MESSAGE alone: no cursor, no other field */
	setz(&e, MM_JF_MESSAGE, "(git) CMD (id)");
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	CHECK_EQ_STR(b.p, "{\"__REALTIME_TIMESTAMP\":\"5\",\"MESSAGE\":\"(git) CMD (id)\"}\n");
	CHECK_EQ_INT(mm_journal_looks_like(b.p, b.len - 1), 1);
	/* no program: a generic line event, not a failure */
	CHECK_EQ_INT(reparse(&b, &ev), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LINE);
	CHECK_EQ_SLICE(ev.u.host.message, "(git) CMD (id)");
	/* an empty MESSAGE is still a MESSAGE */
	mm_buf_reset(&b);
	set(&e, MM_JF_MESSAGE, "", 0);
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	CHECK(strstr(b.p, "\"MESSAGE\":\"\"}") != NULL);
	mm_buf_free(&b);
}

MM_TEST(fields_left_out)
{
	static char longhost[MM_JOURNAL_FIELD_MAX + 2];
	struct mm_journal_entry e;
	struct mm_event ev;
	struct mm_buf b;
	mm_buf_init(&b, 1 << 20);
	full_entry(&e);
	memset(longhost, 'h', sizeof(longhost) - 1);
	setz(&e, MM_JF_HOSTNAME, longhost);
	setz(&e, MM_JF_IDENT, "ss\xff");
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	CHECK(strstr(b.p, "_HOSTNAME") == NULL);
	CHECK(strstr(b.p, "SYSLOG_IDENTIFIER") == NULL);
	/* the parser falls back to _COMM */
	CHECK_EQ_INT(reparse(&b, &ev), 0);
	CHECK_EQ_SLICE(ev.u.host.program, "sshd");
	/* a cursor that is not text is left out too */
	mm_buf_reset(&b);
	e.cursor = "s=\xff";
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	CHECK(strstr(b.p, "__CURSOR") == NULL);
	mm_buf_free(&b);
}

/* The MESSAGE value as written (between "MESSAGE": and the closing }). */
static const char *message_of(const struct mm_buf *b, size_t *n)
{
	const char *p = strstr(b->p, "\"MESSAGE\":");
	if (!p)
		return NULL;
	p += 10;
	*n = (size_t)(b->p + b->len - 2 - p);
	return p;
}

MM_TEST(huge_message_bounded)
{
	enum { BIG = 100000 };
	char *big = malloc(BIG);
	struct mm_journal_entry e;
	struct mm_event ev;
	struct mm_buf b;
	const char *v;
	size_t n, i;
	CHECK(big != NULL);
	if (!big)
		return;
	mm_buf_init(&b, 1 << 20);
	full_entry(&e);
	/* text: cut at MM_JOURNAL_MSG_MAX */
	memset(big, 'a', BIG);
	set(&e, MM_JF_MESSAGE, big, BIG);
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	v = message_of(&b, &n);
	CHECK(v && n == MM_JOURNAL_MSG_MAX + 2 && v[0] == '"');
	CHECK(b.len < 65536);
	/* a two-byte character across the cut: cut before it, still text */
	mm_buf_reset(&b);
	big[0] = 'a';
	for (i = 1; i + 1 < BIG; i += 2)
		big[i] = (char)0xc3, big[i + 1] = (char)0xa9; /* é */
	set(&e, MM_JF_MESSAGE, big, BIG);
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	v = message_of(&b, &n);
	CHECK(v && v[0] == '"' && n == MM_JOURNAL_MSG_MAX - 1 + 2);
	/* bytes: at most MM_JOURNAL_MSG_MAX values, and the line stays under
	 * the parser's 64 KiB */
	mm_buf_reset(&b);
	memset(big, 0xff, BIG);
	set(&e, MM_JF_MESSAGE, big, BIG);
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), 0);
	v = message_of(&b, &n);
	CHECK(v && v[0] == '[');
	for (i = 0, n = 0; v && v[i] != ']'; i++)
		n += v[i] == ',';
	CHECK_EQ_INT((int)n + 1, MM_JOURNAL_MSG_MAX);
	CHECK(b.len < 65536);
	/* read back: the same MM_JOURNAL_MSG_MAX bytes, a generic line */
	CHECK_EQ_INT(reparse(&b, &ev), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LINE);
	CHECK_EQ_INT((int)ev.u.host.message.n, MM_JOURNAL_MSG_MAX);
	CHECK(ev.u.host.message.p && !memcmp(ev.u.host.message.p, big, MM_JOURNAL_MSG_MAX));
	mm_buf_free(&b);
	free(big);
}

MM_TEST(full_buffer_unchanged)
{
	struct mm_journal_entry e;
	struct mm_buf b;
	mm_buf_init(&b, 64);
	full_entry(&e);
	CHECK_EQ_INT(mm_buf_addz(&b, "x"), 0);
	CHECK_EQ_INT(mm_journal_entry_json(&b, &e), MM_ETOOBIG);
	CHECK_EQ_INT((int)b.len, 1);
	CHECK_EQ_STR(b.p, "x");
	mm_buf_free(&b);
}

MM_TEST(wanted_and_lookalikes)
{
	struct mm_journal_entry e;
	memset(&e, 0, sizeof(e));
	setz(&e, MM_JF_MESSAGE, "Failed password for root from 198.51.100.1 port 1 ssh2");
	CHECK_EQ_INT(mm_journal_wanted(&e), 0);
	setz(&e, MM_JF_FACILITY, "4");
	CHECK_EQ_INT(mm_journal_wanted(&e), 1);
	setz(&e, MM_JF_FACILITY, "10");
	CHECK_EQ_INT(mm_journal_wanted(&e), 1);
	setz(&e, MM_JF_FACILITY, "1");
	CHECK_EQ_INT(mm_journal_wanted(&e), 0);
	setz(&e, MM_JF_FACILITY, "104"); /* not 10 nor 4 */
	CHECK_EQ_INT(mm_journal_wanted(&e), 0);
	setz(&e, MM_JF_IDENT, "myapp");
	CHECK_EQ_INT(mm_journal_wanted(&e), 0);
	setz(&e, MM_JF_IDENT, "sshdx");
	CHECK_EQ_INT(mm_journal_wanted(&e), 0);
	setz(&e, MM_JF_IDENT, "ssh");
	CHECK_EQ_INT(mm_journal_wanted(&e), 0);
	setz(&e, MM_JF_IDENT, "sshd");
	CHECK_EQ_INT(mm_journal_wanted(&e), 1);
	setz(&e, MM_JF_IDENT, "myapp");
	setz(&e, MM_JF_COMM, "CRON");
	CHECK_EQ_INT(mm_journal_wanted(&e), 1);
	setz(&e, MM_JF_COMM, "crontab");
	CHECK_EQ_INT(mm_journal_wanted(&e), 1);
	setz(&e, MM_JF_COMM, "sudoedit");
	CHECK_EQ_INT(mm_journal_wanted(&e), 0);
	setz(&e, MM_JF_COMM, "freshclam");
	CHECK_EQ_INT(mm_journal_wanted(&e), 1);
	setz(&e, MM_JF_COMM, "clam");
	CHECK_EQ_INT(mm_journal_wanted(&e), 0);
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

MM_TEST(spool_resume_cursor)
{
	char dir[] = "/tmp/mm-test-journal-XXXXXX", p[256], c[MM_JOURNAL_CURSOR_MAX];
	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ_INT(mm_journal_spool_cursor(dir, c, sizeof(c)), 0);
	snprintf(p, sizeof(p), "%s/000002.journal.jsonl", dir);
	write_file(p, "{\"__CURSOR\":\"s=1;i=1\",\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":\"a\"}\n"
		      "{\"__CURSOR\":\"s=1;i=2\",\"__REALTIME_TIMESTAMP\":\"2\",\"MESSAGE\":\"b\"}\n");
	snprintf(p, sizeof(p), "%s/000010.journal.jsonl", dir);
	write_file(p, "{\"__CURSOR\":\"s=1;i=5\",\"__REALTIME_TIMESTAMP\":\"5\",\"MESSAGE\":\"c\"}\n"
		      "{\"__CURSOR\":\"s=1;i=6\",\"__REALTIME_TIMESTAMP\":\"6\",\"MESSAGE\":\"d\"}\n");
	/* not journal spool files: ignored */
	snprintf(p, sizeof(p), "%s/000011.hostevents.jsonl", dir);
	write_file(p, "{\"__CURSOR\":\"s=1;i=9\"}\n");
	snprintf(p, sizeof(p), "%s/.000012.tmp", dir);
	write_file(p, "{\"__CURSOR\":\"s=1;i=9\"}\n");
	CHECK_EQ_INT(mm_journal_spool_cursor(dir, c, sizeof(c)), 1);
	CHECK_EQ_STR(c, "s=1;i=6");
	/* a cursor longer than the caller's buffer is not taken */
	CHECK_EQ_INT(mm_journal_spool_cursor(dir, c, 4), 0);
	/* out of memory: an error, not a wrong resume point */
	mm_mem_fail_after(0);
	CHECK_EQ_INT(mm_journal_spool_cursor(dir, c, sizeof(c)), -1);
	mm_mem_fail_after(-1);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(p), 0);
	CHECK_EQ_INT(mm_journal_spool_cursor("/nonexistent/mm-journal", c, sizeof(c)), 0);
}

/* A real journal file: systemd-journal-remote fed the export format with
 * a binary MESSAGE (length-prefixed) and a 100 KiB one. */
MM_TEST(real_journal_file)
{
	static const char *const remotes[] = { "/lib/systemd/systemd-journal-remote",
					       "/usr/lib/systemd/systemd-journal-remote" };
	char dir[] = "/tmp/mm-test-journal-XXXXXX", cmd[512], state[256];
	const char *remote = NULL;
	struct mm_journal *j = NULL;
	struct mm_journal_opts o;
	struct mm_journal_counts cnt;
	struct mm_err err;
	struct mm_buf b;
	uint64_t n = 0, len;
	size_t i;
	char *big;
	FILE *f;
	for (i = 0; i < 2; i++)
		if (!access(remotes[i], X_OK))
			remote = remotes[i];
	if (!mm_journal_built() || !remote) {
		printf("    (skipped: %s)\n", remote ? "built without libsystemd"
						  : "no systemd-journal-remote");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof(cmd), "%s -o '%s/t.journal' - 2>/dev/null", remote, dir);
	f = popen(cmd, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("__REALTIME_TIMESTAMP=1796510400000000\n__MONOTONIC_TIMESTAMP=1000\n"
	      "_BOOT_ID=0123456789abcdef0123456789abcdef\nSYSLOG_IDENTIFIER=sshd\n"
	      "SYSLOG_FACILITY=10\n_PID=7\nMESSAGE\n", f);
	len = 13;
	fwrite(&len, 8, 1, f); /* little-endian on the machines this runs on */
	fwrite("Failed \xff\xfe\x00 bytes", 1, 13, f);
	fputs("\n\n", f);
	fputs("__REALTIME_TIMESTAMP=1796510401000000\n__MONOTONIC_TIMESTAMP=2000\n"
	      "_BOOT_ID=0123456789abcdef0123456789abcdef\nSYSLOG_IDENTIFIER=CRON\n"
	      "MESSAGE=", f);
	big = malloc(100000);
	if (big) {
		memset(big, 'z', 100000);
		fwrite(big, 1, 100000, f);
		free(big);
	}
	fputs("\n\n", f);
	fputs("__REALTIME_TIMESTAMP=1796510402000000\n__MONOTONIC_TIMESTAMP=3000\n"
	      "_BOOT_ID=0123456789abcdef0123456789abcdef\nSYSLOG_IDENTIFIER=myapp\n"
	      "SYSLOG_FACILITY=1\nMESSAGE=not wanted\n\n", f);
	CHECK_EQ_INT(pclose(f), 0);
	snprintf(state, sizeof(state), "%s/cursor", dir);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.state = state;
	o.spool = dir;
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_journal_open(&j, &o, &err), 0);
	mm_buf_init(&b, 1 << 22);
	if (j) {
		CHECK_EQ_INT(mm_journal_read(j, &b, &n, &err), 0);
		CHECK_EQ_INT((int)n, 2);
		CHECK(b.p && strstr(b.p, "\"MESSAGE\":[70,97,105,108,101,100,32,255,254,0,32,98,") != NULL);
		CHECK(b.p && strstr(b.p, "\"SYSLOG_IDENTIFIER\":\"CRON\"") != NULL);
		CHECK(b.p && strstr(b.p, "not wanted") == NULL);
		CHECK(b.len < 2 * 65536);
		CHECK(b.p && strstr(b.p, "zzzz\"}\n") != NULL); /* the big one is there, cut */
		mm_journal_counts(j, &cnt);
		CHECK_EQ_INT((int)cnt.read, 2);
		CHECK_EQ_INT(mm_journal_commit(j, &err), 0);
		mm_journal_close(j);
		j = NULL;
	}
	/* bounded a read: one entry at a time, the rest next read; the saved
	 * cursor resumes a new handle after the last entry read */
	unlink(state);
	o.max_entries = 1;
	CHECK_EQ_INT(mm_journal_open(&j, &o, &err), 0);
	if (j) {
		mm_buf_reset(&b);
		CHECK_EQ_INT(mm_journal_read(j, &b, &n, &err), 0);
		CHECK_EQ_INT((int)n, 1);
		CHECK(b.p && strstr(b.p, "\"SYSLOG_IDENTIFIER\":\"sshd\"") != NULL);
		CHECK_EQ_INT(mm_journal_commit(j, &err), 0);
		mm_journal_close(j);
		j = NULL;
	}
	CHECK_EQ_INT(mm_journal_open(&j, &o, &err), 0);
	if (j) {
		mm_buf_reset(&b);
		CHECK_EQ_INT(mm_journal_read(j, &b, &n, &err), 0);
		CHECK_EQ_INT((int)n, 1);
		CHECK(b.p && strstr(b.p, "\"SYSLOG_IDENTIFIER\":\"CRON\"") != NULL);
		mm_buf_reset(&b);
		CHECK_EQ_INT(mm_journal_read(j, &b, &n, &err), 0);
		CHECK_EQ_INT((int)n, 0); /* "not wanted" is filtered out: nothing more */
		mm_journal_close(j);
	}
	mm_buf_free(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}
