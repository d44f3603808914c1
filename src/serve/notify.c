/* notify.c - the notification outbox and its worker (notify.h). */
#include "serve/notify.h"

#include <curl/curl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/common.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "finding/output.h"
#include "store/store.h"

#define BUSY_MS 15000
#define BATCH 16		/* due rows taken per round */
#define IDLE_MS 200		/* worker wakes at least this often */
#define KEEP_SENT_MS (7LL * 24 * 3600 * 1000)	/* sent rows kept a week */
#define MAX_ERR 300

enum {
	Q_META_GET, Q_META_PUT, Q_ST_GET, Q_ST_PUT, Q_OB_ADD, Q_OB_DUE, Q_OB_DONE, Q_OB_RETRY,
	Q_OB_DEPTH, Q_OB_DEAD, Q_DIRTY_DUE, Q_DIRTY_CLEAR, Q_FINDING, Q_PRUNE, Q_BEGIN, Q_COMMIT,
	Q_ROLLBACK, Q_N
};

static const char *const SQL[Q_N] = {
	[Q_META_GET] = "SELECT value FROM notify_meta WHERE key = ?1",
	[Q_META_PUT] = "INSERT OR REPLACE INTO notify_meta(key, value) VALUES (?1, ?2)",
	[Q_ST_GET] = "SELECT seen_updated, last_enq FROM notify_state WHERE sink = ?1 AND"
		     " finding_id = ?2",
	[Q_ST_PUT] = "INSERT OR REPLACE INTO notify_state(sink, finding_id, seen_updated, last_enq,"
		     " dirty) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_OB_ADD] = "INSERT INTO notify_outbox(sink, finding_id, resource, kind, payload,"
		     " created_at, attempts, next_at, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?6,"
		     " 'pending')",
	[Q_OB_DUE] = "SELECT id, sink, finding_id, resource, payload, attempts FROM notify_outbox"
		     " WHERE status = 'pending' AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2",
	[Q_OB_DONE] = "UPDATE notify_outbox SET status = ?2, attempts = ?3, last_error = ?4,"
		      " done_at = ?5 WHERE id = ?1",
	[Q_OB_RETRY] = "UPDATE notify_outbox SET attempts = ?2, next_at = ?3, last_error = ?4"
		       " WHERE id = ?1",
	[Q_OB_DEPTH] = "SELECT count(*) FROM notify_outbox WHERE sink = ?1 AND status = 'pending'",
	[Q_OB_DEAD] = "SELECT count(*) FROM notify_outbox WHERE sink = ?1 AND status = 'dead'",
	[Q_DIRTY_DUE] = "SELECT finding_id FROM notify_state WHERE sink = ?1 AND dirty = 1 AND"
			" last_enq <= ?2 LIMIT ?3",
	[Q_DIRTY_CLEAR] = "UPDATE notify_state SET dirty = 0 WHERE sink = ?1 AND finding_id = ?2",
	[Q_FINDING] = "SELECT json, archived, updated_at, resource FROM findings WHERE id = ?1 AND"
		      " held = 0",
	[Q_PRUNE] = "DELETE FROM notify_outbox WHERE status IN ('sent', 'skipped') AND"
		    " done_at < ?1",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
};

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS notify_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS notify_state(sink TEXT NOT NULL, finding_id TEXT NOT NULL,"
	" seen_updated INTEGER NOT NULL, last_enq INTEGER NOT NULL, dirty INTEGER NOT NULL,"
	" PRIMARY KEY(sink, finding_id));"
	"CREATE TABLE IF NOT EXISTS notify_outbox(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" sink TEXT NOT NULL, finding_id TEXT NOT NULL, resource TEXT, kind TEXT NOT NULL,"
	" payload TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	" next_at INTEGER NOT NULL, status TEXT NOT NULL, last_error TEXT, done_at INTEGER);"
	"CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox(status, next_at);"
	/* the worker looks for held-back updates every round: only those rows */
	"CREATE INDEX IF NOT EXISTS notify_state_dirty ON notify_state(sink, last_enq) WHERE dirty = 1;";

struct sinkstate {
	atomic_ullong sent, failed, dead, dropped, queued;
	char password[MM_NOTIFY_ADDR];
};

struct mm_notify {
	struct mm_notify_conf c;
	struct sinkstate ss[MM_NOTIFY_MAX_SINKS];
	sqlite3 *db;
	sqlite3_stmt *q[Q_N];
	struct mm_store *st;	/* reads the flushed findings (ingest thread only) */
	pthread_mutex_t mu;	/* the connection */
	pthread_mutex_t wmu;	/* the worker's wake-up */
	pthread_cond_t wake;
	pthread_t th;
	int started, stop;
	int64_t mark;		/* the since of the last processed flush, 0 = none */
};

/* ---- small pieces ------------------------------------------------------- */

int mm_notify_severity_parse(const char *s, double *out)
{
	static const struct { const char *w; double v; } words[] = {
		{"low", 1}, {"medium", 4}, {"high", 7}, {"critical", 9},
	};
	char *end;
	double v;
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(words); i++)
		if (!strcasecmp(s, words[i].w)) {
			*out = words[i].v;
			return 0;
		}
	v = strtod(s, &end);
	if (end == s || *end || !(v >= 0 && v <= 10))
		return MM_EINVAL;
	*out = v;
	return 0;
}

static const struct { const char *name; int s; } FREQS[] = {
	{"FIFTEEN_MINUTES", 900}, {"ONE_HOUR", 3600}, {"SIX_HOURS", 21600},
};

int mm_notify_frequency_parse(const char *s, int *out_s)
{
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(FREQS); i++)
		if (!strcmp(s, FREQS[i].name)) {
			*out_s = FREQS[i].s;
			return 0;
		}
	return MM_EINVAL;
}

const char *mm_notify_frequency_name(int s)
{
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(FREQS); i++)
		if (FREQS[i].s == s)
			return FREQS[i].name;
	return s ? "custom" : "FIFTEEN_MINUTES";
}

static int freq_of(const struct mm_notify_sink *s)
{
	return s->frequency_s > 0 ? s->frequency_s : 900;
}

static int attempts_of(const struct mm_notify_sink *s)
{
	return s->max_attempts > 0 ? s->max_attempts : 8;
}

int mm_notify_wants(const struct mm_notify_sink *s, const char *type, double severity)
{
	int i;
	if (severity < s->min_severity)
		return 0;
	if (!s->ntypes)
		return 1;
	for (i = 0; i < s->ntypes; i++)
		if (fnmatch(s->types[i], type, 0) == 0)
			return 1;
	return 0;
}

int64_t mm_notify_backoff_ms(const struct mm_notify_conf *c, int attempts)
{
	int64_t base = c->backoff_ms > 0 ? c->backoff_ms : 1000;
	int64_t cap = c->backoff_max_ms > 0 ? c->backoff_max_ms : 300000;
	int64_t d = base;
	int i;
	for (i = 1; i < attempts && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

int mm_notify_update_due(int64_t now_ms, int64_t last_enq_ms, int frequency_s)
{
	return now_ms - last_enq_ms >= (int64_t)(frequency_s > 0 ? frequency_s : 900) * 1000;
}

/* ---- rendering -------------------------------------------------------------- */

/* The finding's facts, as text (empty when absent). */
struct facts {
	char id[128], type[160], title[512], account[32], region[32], first[40], last[40];
	char sevword[16];
	double severity;
	long long count;
};

static void str_at(const struct mm_json_val *doc, const char *path, char *out, size_t cap)
{
	struct mm_json_val v;
	size_t n;
	out[0] = '\0';
	if (mm_json_path(doc, path, &v) != 1)
		return;
	if (v.type == MM_JSON_STRING && v.n >= 2 && v.n - 2 < cap) {
		if (mm_json_unescape(v.p + 1, v.n - 2, out, &n) == 0)
			out[n] = '\0';
		else
			out[0] = '\0';
	} else if (v.type == MM_JSON_NUMBER && v.n < cap) {
		memcpy(out, v.p, v.n);
		out[v.n] = '\0';
	}
}

static const char *sev_word(double s)
{
	return s >= 9 ? "Critical" : s >= 7 ? "High" : s >= 4 ? "Medium" : "Low";
}

static int get_facts(const char *json, struct facts *f)
{
	struct mm_json_val doc;
	size_t used;
	char b[64];
	if (mm_json_value(json, strlen(json), &doc, &used) || doc.type != MM_JSON_OBJECT)
		return MM_EINVAL;
	str_at(&doc, "id", f->id, sizeof(f->id));
	str_at(&doc, "type", f->type, sizeof(f->type));
	if (!f->id[0] || !f->type[0])
		return MM_EINVAL;
	str_at(&doc, "title", f->title, sizeof(f->title));
	str_at(&doc, "accountId", f->account, sizeof(f->account));
	str_at(&doc, "region", f->region, sizeof(f->region));
	str_at(&doc, "service.eventFirstSeen", f->first, sizeof(f->first));
	str_at(&doc, "service.eventLastSeen", f->last, sizeof(f->last));
	str_at(&doc, "severity", b, sizeof(b));
	f->severity = strtod(b, NULL);
	str_at(&doc, "service.count", b, sizeof(b));
	f->count = strtoll(b, NULL, 10);
	snprintf(f->sevword, sizeof(f->sevword), "%s", sev_word(f->severity));
	return 0;
}

/* Slack mrkdwn text: &, < and > escaped as Slack asks, inside a JSON
 * string. */
static int slack_esc(struct mm_buf *b, const char *s)
{
	int rc = 0;
	for (; *s && !rc; s++) {
		if (*s == '&')
			rc = mm_buf_addz(b, "&amp;");
		else if (*s == '<')
			rc = mm_buf_addz(b, "&lt;");
		else if (*s == '>')
			rc = mm_buf_addz(b, "&gt;");
		else
			rc = mm_json_escape(b, s, 1);
	}
	return rc;
}

static int slack_field(struct mm_buf *b, int first, const char *label, const char *value)
{
	int rc = mm_buf_printf(b, "%s{\"type\":\"mrkdwn\",\"text\":\"*%s*\\n", first ? "" : ",",
			       label);
	if (!rc)
		rc = slack_esc(b, value[0] ? value : "-");
	return rc ? rc : mm_buf_addz(b, "\"}");
}

static int render_slack(const struct mm_notify_conf *c, const struct facts *f, const char *resource,
			struct mm_buf *b)
{
	static const char *const colour[] = {":large_blue_circle:", ":large_yellow_circle:",
					     ":red_circle:", ":rotating_light:"};
	char head[160], sev[48], acct[80], cnt[32];
	int level = f->severity >= 9 ? 3 : f->severity >= 7 ? 2 : f->severity >= 4 ? 1 : 0;
	int rc;

	/* a header's text is at most 150 characters */
	snprintf(head, sizeof(head), "%s %s severity: %.100s", colour[level], f->sevword, f->type);
	snprintf(sev, sizeof(sev), "%s (%g)", f->sevword, f->severity);
	snprintf(acct, sizeof(acct), "%s / %s", f->account, f->region);
	snprintf(cnt, sizeof(cnt), "%lld", f->count);
	rc = mm_buf_addz(b, "{\"text\":");
	if (!rc) {
		char fb[400];
		snprintf(fb, sizeof(fb), "[mamori] %s %s on %s", f->sevword, f->type, resource);
		rc = mm_buf_json_strz(b, fb);
	}
	if (!rc)
		rc = mm_buf_addz(b, ",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":"
				    "\"plain_text\",\"emoji\":true,\"text\":");
	if (!rc)
		rc = mm_buf_json_strz(b, head);
	if (!rc)
		rc = mm_buf_addz(b, "}},{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"");
	if (!rc)
		rc = slack_esc(b, f->title[0] ? f->title : f->type);
	if (!rc)
		rc = mm_buf_addz(b, "\"}},{\"type\":\"section\",\"fields\":[");
	if (!rc)
		rc = slack_field(b, 1, "Type", f->type);
	if (!rc)
		rc = slack_field(b, 0, "Severity", sev);
	if (!rc)
		rc = slack_field(b, 0, "Resource", resource);
	if (!rc)
		rc = slack_field(b, 0, "Account / Region", acct);
	if (!rc)
		rc = slack_field(b, 0, "First seen", f->first);
	if (!rc)
		rc = slack_field(b, 0, "Last seen", f->last);
	if (!rc)
		rc = slack_field(b, 0, "Count", cnt);
	if (!rc)
		rc = slack_field(b, 0, "Finding", f->id);
	if (!rc)
		rc = mm_buf_addz(b, "]}");
	if (!rc && c->console_url[0]) {
		rc = mm_buf_addz(b, ",{\"type\":\"actions\",\"elements\":[{\"type\":\"button\","
				    "\"text\":{\"type\":\"plain_text\",\"text\":\"Open in the "
				    "console\"},\"url\":\"");
		if (!rc)
			rc = mm_json_escape(b, c->console_url, strlen(c->console_url));
		if (!rc)
			rc = mm_buf_addz(b, "/#/finding/");
		if (!rc)
			rc = mm_json_escape(b, f->id, strlen(f->id));
		if (!rc)
			rc = mm_buf_addz(b, "\"}]}");
	}
	return rc ? rc : mm_buf_addz(b, "]}");
}

/* A header value: controls (CR, LF: header injection) become spaces. */
static int hdr(struct mm_buf *b, const char *name, const char *v)
{
	int rc = mm_buf_printf(b, "%s: ", name);
	for (; *v && !rc; v++)
		rc = mm_buf_addc(b, (unsigned char)*v < 0x20 || *v == 0x7f ? ' ' : *v);
	return rc ? rc : mm_buf_addz(b, "\r\n");
}

/* Body text as quoted-printable (RFC 2045): lines of at most 76
 * characters, so the one-line JSON travels intact through SMTP's 998
 * byte line limit. Text lines end in CRLF. */
static int qp(struct mm_buf *b, const char *s)
{
	int col = 0, rc = 0;
	for (; *s && !rc; s++) {
		unsigned char ch = (unsigned char)*s;
		char enc[4];
		int n;
		if (ch == '\n') {
			rc = mm_buf_addz(b, "\r\n");
			col = 0;
			continue;
		}
		if ((ch >= 33 && ch <= 126 && ch != '=') ||
		    (ch == ' ' && s[1] && s[1] != '\n')) {
			enc[0] = (char)ch;
			n = 1;
		} else {
			snprintf(enc, sizeof(enc), "=%02X", ch);
			n = 3;
		}
		if (col + n > 75) {
			rc = mm_buf_addz(b, "=\r\n");
			col = 0;
		}
		if (!rc)
			rc = mm_buf_add(b, enc, (size_t)n);
		col += n;
	}
	return rc ? rc : mm_buf_addz(b, "\r\n");
}

static int render_email(const struct mm_notify_conf *c, const struct mm_notify_sink *s,
			const struct facts *f, const char *resource, const char *json,
			struct mm_buf *b)
{
	struct mm_buf text;
	char subj[600], date[64], to[MM_NOTIFY_MAX_TO * (MM_NOTIFY_ADDR + 2)];
	time_t now = time(NULL);
	struct tm tm;
	size_t k = 0;
	int i, rc;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	to[0] = '\0';
	for (i = 0; i < s->nto; i++)
		k += (size_t)snprintf(to + k, sizeof(to) - k, "%s%s", i ? ", " : "", s->to[i]);
	snprintf(subj, sizeof(subj), "[mamori] %s %s on %s", f->sevword, f->type, resource);
	mm_buf_init(&text, MM_NOTIFY_PAYLOAD_MAX);
	rc = mm_buf_printf(&text,
			   "%s\n\n"
			   "Type:        %s\n"
			   "Severity:    %s (%g)\n"
			   "Resource:    %s\n"
			   "Account:     %s\n"
			   "Region:      %s\n"
			   "First seen:  %s\n"
			   "Last seen:   %s\n"
			   "Count:       %lld\n"
			   "Finding id:  %s\n",
			   f->title[0] ? f->title : f->type, f->type, f->sevword, f->severity,
			   resource, f->account, f->region, f->first, f->last, f->count, f->id);
	if (!rc && c->console_url[0])
		rc = mm_buf_printf(&text, "Console:     %s/#/finding/%s\n", c->console_url, f->id);
	if (!rc)
		rc = mm_buf_printf(&text, "\nThe finding (GuardDuty JSON):\n%s\n", json);
	if (!rc)
		rc = hdr(b, "From", s->from);
	if (!rc)
		rc = hdr(b, "To", to);
	if (!rc)
		rc = hdr(b, "Subject", subj);
	if (!rc)
		rc = hdr(b, "Date", date);
	if (!rc)
		rc = mm_buf_printf(b, "Message-ID: <%.100s.%lld@mamori>\r\n", f->id,
				   (long long)mm_now_ms());
	if (!rc)
		rc = mm_buf_addz(b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
				    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	if (!rc)
		rc = qp(b, text.p);
	mm_buf_free(&text);
	return rc;
}

int mm_notify_render(const struct mm_notify_conf *c, const struct mm_notify_sink *s,
		     const char *finding_json, const char *resource, struct mm_buf *out)
{
	struct facts f;
	size_t start = out->len;
	int rc;
	memset(&f, 0, sizeof(f));
	if (!resource)
		resource = "";
	if (s->kind == MM_SINK_WEBHOOK)
		return mm_eventbridge_event(finding_json, out);
	if ((rc = get_facts(finding_json, &f)))
		return rc;
	rc = s->kind == MM_SINK_SLACK ? render_slack(c, &f, resource, out)
				      : render_email(c, s, &f, resource, finding_json, out);
	if (rc) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
	}
	return rc;
}

/* ---- delivery ------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t discard(char *p, size_t sz, size_t nm, void *ctx)
{
	(void)p;
	(void)ctx;
	return sz * nm;
}

struct upload {
	const char *p;
	size_t n, off;
};

static size_t reader(char *dst, size_t sz, size_t nm, void *ctx)
{
	struct upload *u = ctx;
	size_t n = sz * nm;
	if (n > u->n - u->off)
		n = u->n - u->off;
	memcpy(dst, u->p + u->off, n);
	u->off += n;
	return n;
}

/* One attempt. 0 delivered; otherwise why not in why. */
static int deliver(struct mm_notify *n, int si, const char *body, size_t len, char *why,
		   size_t cap)
{
	const struct mm_notify_sink *s = &n->c.sinks[si];
	struct curl_slist *h = NULL, *rcpt = NULL;
	struct upload up = {body, len, 0};
	char eb[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *c;
	int i;

	pthread_once(&curl_once, curl_init);
	if (!(c = curl_easy_init())) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(n->c.timeout_s > 0 ? n->c.timeout_s : 10));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, eb);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (s->kind == MM_SINK_EMAIL) {
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
		curl_easy_setopt(c, CURLOPT_MAIL_FROM, s->from);
		for (i = 0; i < s->nto; i++)
			rcpt = curl_slist_append(rcpt, s->to[i]);
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
		if (s->user[0]) {
			curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
			curl_easy_setopt(c, CURLOPT_PASSWORD, n->ss[si].password);
		}
		curl_easy_setopt(c, CURLOPT_READFUNCTION, reader);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "mamori");
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	curl_slist_free_all(rcpt);
	if (rc != CURLE_OK) {
		snprintf(why, cap, "%s", eb[0] ? eb : curl_easy_strerror(rc));
		return -1;
	}
	if (s->kind != MM_SINK_EMAIL && (status < 200 || status > 299)) {
		snprintf(why, cap, "HTTP status %ld", status);
		return -1;
	}
	return 0;
}

/* ---- the database ----------------------------------------------------------- */

static int step_done(struct mm_notify *n, int q)
{
	int rc = sqlite3_step(n->q[q]);
	sqlite3_reset(n->q[q]);
	sqlite3_clear_bindings(n->q[q]);
	return rc == SQLITE_DONE ? 0 : MM_EDB;
}

static int64_t meta_mark(struct mm_notify *n)
{
	sqlite3_stmt *s = n->q[Q_META_GET];
	int64_t v = 0;
	sqlite3_bind_text(s, 1, "processed_since", -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = strtoll((const char *)sqlite3_column_text(s, 0), NULL, 10);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return v;
}

static int count_q(struct mm_notify *n, int q, const char *sink)
{
	sqlite3_stmt *s = n->q[q];
	int v = 0;
	sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return v;
}

static int sink_index(const struct mm_notify *n, const char *name)
{
	int i;
	for (i = 0; i < n->c.nsinks; i++)
		if (!strcmp(n->c.sinks[i].name, name))
			return i;
	return -1;
}

static int outbox_add(struct mm_notify *n, int si, const char *id, const char *resource,
		      const char *kind, const char *json, int64_t now)
{
	sqlite3_stmt *s = n->q[Q_OB_ADD];
	int rc;
	sqlite3_bind_text(s, 1, n->c.sinks[si].name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	rc = step_done(n, Q_OB_ADD);
	if (!rc)
		atomic_fetch_add(&n->ss[si].queued, 1);
	return rc;
}

static int state_put(struct mm_notify *n, int si, const char *id, int64_t seen, int64_t enq,
		     int dirty)
{
	sqlite3_stmt *s = n->q[Q_ST_PUT];
	sqlite3_bind_text(s, 1, n->c.sinks[si].name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, seen);
	sqlite3_bind_int64(s, 4, enq);
	sqlite3_bind_int(s, 5, dirty);
	return step_done(n, Q_ST_PUT);
}

static int queue_full(struct mm_notify *n, int si)
{
	int max = n->c.queue_max > 0 ? n->c.queue_max : 10000;
	if (atomic_load(&n->ss[si].queued) < (unsigned long long)max)
		return 0;
	atomic_fetch_add(&n->ss[si].dropped, 1);
	return 1;
}

/* ---- after a flush ------------------------------------------------------------ */

struct flushctx {
	struct mm_notify *n;
	int64_t now;
	int rc;
};

static int on_finding(void *ctx, const struct mm_finding_row *r)
{
	struct flushctx *F = ctx;
	struct mm_notify *n = F->n;
	int si;

	if (r->archived || r->held)
		return 0;
	for (si = 0; si < n->c.nsinks; si++) {
		const struct mm_notify_sink *s = &n->c.sinks[si];
		sqlite3_stmt *q = n->q[Q_ST_GET];
		int64_t seen = 0, enq = 0;
		int known = 0, rc;

		if (!mm_notify_wants(s, r->type, r->severity))
			continue;
		sqlite3_bind_text(q, 1, s->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, r->id, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			known = 1;
			seen = sqlite3_column_int64(q, 0);
			enq = sqlite3_column_int64(q, 1);
		}
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		if (known && r->updated_ms <= seen)
			continue;	/* this version was handled (a re-read window) */
		if (!known || mm_notify_update_due(F->now, enq, freq_of(s))) {
			if (queue_full(n, si))
				continue;
			rc = outbox_add(n, si, r->id, r->resource, known ? "update" : "new", r->json,
					F->now);
			if (!rc)
				rc = state_put(n, si, r->id, r->updated_ms, F->now, 0);
		} else {
			/* within the period: the worker sends the latest version when
			 * it ends */
			rc = state_put(n, si, r->id, r->updated_ms, enq, 1);
		}
		if (rc) {
			F->rc = rc;
			return 1;
		}
	}
	return 0;
}

int mm_notify_flushed(struct mm_notify *n, int64_t since_ms, struct mm_err *err)
{
	struct mm_finding_filter flt;
	struct flushctx F;
	char b[32];
	int rc;

	if (!n)
		return 0;
	memset(&flt, 0, sizeof(flt));
	/* a daemon killed between a flush's commit and this point left its
	 * findings unprocessed: read from the last processed flush on */
	flt.updated_since_ms = n->mark && n->mark < since_ms ? n->mark : since_ms;
	F.n = n;
	F.now = mm_now_ms();
	F.rc = 0;
	pthread_mutex_lock(&n->mu);
	if (step_done(n, Q_BEGIN)) {
		rc = mm_err_set(err, MM_EDB, "notify: %s", sqlite3_errmsg(n->db));
		goto out;
	}
	rc = mm_store_findings(n->st, &flt, on_finding, &F, err);
	if (rc == 1 || F.rc)
		rc = mm_err_set(err, MM_EDB, "notify: queueing: %s", sqlite3_errmsg(n->db));
	if (!rc) {
		snprintf(b, sizeof(b), "%lld", (long long)since_ms);
		sqlite3_bind_text(n->q[Q_META_PUT], 1, "processed_since", -1, SQLITE_STATIC);
		sqlite3_bind_text(n->q[Q_META_PUT], 2, b, -1, SQLITE_TRANSIENT);
		if (step_done(n, Q_META_PUT) || step_done(n, Q_COMMIT))
			rc = mm_err_set(err, MM_EDB, "notify: %s", sqlite3_errmsg(n->db));
	}
	if (rc) {
		int si;
		step_done(n, Q_ROLLBACK);
		/* the in-memory depth follows the file again */
		for (si = 0; si < n->c.nsinks; si++)
			atomic_store(&n->ss[si].queued,
				     (unsigned long long)count_q(n, Q_OB_DEPTH, n->c.sinks[si].name));
	} else {
		n->mark = since_ms;
	}
out:
	pthread_mutex_unlock(&n->mu);
	pthread_mutex_lock(&n->wmu);
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->wmu);
	return rc;
}

/* ---- the worker ---------------------------------------------------------------- */

/* Updates held back by the frequency whose period has ended: queue the
 * finding as it is now (unless archived meanwhile). */
static void promote_updates(struct mm_notify *n, int64_t now)
{
	int si;
	for (si = 0; si < n->c.nsinks; si++) {
		const struct mm_notify_sink *s = &n->c.sinks[si];
		char ids[BATCH][128];
		int k = 0, i;
		sqlite3_stmt *q = n->q[Q_DIRTY_DUE];
		sqlite3_bind_text(q, 1, s->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, now - (int64_t)freq_of(s) * 1000);
		sqlite3_bind_int(q, 3, BATCH);
		while (k < BATCH && sqlite3_step(q) == SQLITE_ROW)
			snprintf(ids[k++], sizeof(ids[0]), "%s",
				 (const char *)sqlite3_column_text(q, 0));
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		for (i = 0; i < k; i++) {
			sqlite3_stmt *f = n->q[Q_FINDING];
			int go = 0;
			if (step_done(n, Q_BEGIN))
				return;
			sqlite3_bind_text(f, 1, ids[i], -1, SQLITE_STATIC);
			if (sqlite3_step(f) == SQLITE_ROW && !sqlite3_column_int(f, 1) &&
			    !queue_full(n, si)) {
				go = !outbox_add(n, si, ids[i], (const char *)sqlite3_column_text(f, 3),
						 "update", (const char *)sqlite3_column_text(f, 0),
						 now) &&
				     !state_put(n, si, ids[i], sqlite3_column_int64(f, 2), now, 0);
				if (!go) {
					sqlite3_reset(f);
					sqlite3_clear_bindings(f);
					step_done(n, Q_ROLLBACK);
					return;
				}
			}
			sqlite3_reset(f);
			sqlite3_clear_bindings(f);
			if (!go) {
				sqlite3_bind_text(n->q[Q_DIRTY_CLEAR], 1, s->name, -1, SQLITE_STATIC);
				sqlite3_bind_text(n->q[Q_DIRTY_CLEAR], 2, ids[i], -1, SQLITE_STATIC);
				step_done(n, Q_DIRTY_CLEAR);
			}
			if (step_done(n, Q_COMMIT)) {
				step_done(n, Q_ROLLBACK);
				return;
			}
		}
	}
}

struct due {
	int64_t id;
	int si, attempts;
	char finding[128], resource[256];
	char *payload;
};

/* Is the finding archived now (archived through the API after it was
 * queued)? */
static int archived_now(struct mm_notify *n, const char *id)
{
	sqlite3_stmt *f = n->q[Q_FINDING];
	int a = 0;
	sqlite3_bind_text(f, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(f) == SQLITE_ROW)
		a = sqlite3_column_int(f, 1);
	sqlite3_reset(f);
	sqlite3_clear_bindings(f);
	return a;
}

static void finish(struct mm_notify *n, const struct due *d, const char *status, int attempts,
		   const char *why, int64_t now)
{
	sqlite3_stmt *s = n->q[Q_OB_DONE];
	sqlite3_bind_int64(s, 1, d->id);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, attempts);
	sqlite3_bind_text(s, 4, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	if (step_done(n, Q_OB_DONE))
		mm_warn("notify: recording a delivery: %s", sqlite3_errmsg(n->db));
	if (d->si >= 0 && atomic_load(&n->ss[d->si].queued) > 0)
		atomic_fetch_sub(&n->ss[d->si].queued, 1);
}

/* One round: take the due rows, send them (the connection is free
 * meanwhile), record the outcomes. How many were due. */
static int round_once(struct mm_notify *n)
{
	struct due d[BATCH];
	struct mm_buf body;
	int k = 0, i;
	int64_t now = mm_now_ms();
	sqlite3_stmt *q;

	pthread_mutex_lock(&n->mu);
	promote_updates(n, now);
	q = n->q[Q_OB_DUE];
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int(q, 2, BATCH);
	while (k < BATCH && sqlite3_step(q) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(q, 4);
		d[k].id = sqlite3_column_int64(q, 0);
		d[k].si = sink_index(n, (const char *)sqlite3_column_text(q, 1));
		snprintf(d[k].finding, sizeof(d[k].finding), "%s",
			 (const char *)sqlite3_column_text(q, 2));
		snprintf(d[k].resource, sizeof(d[k].resource), "%s",
			 sqlite3_column_text(q, 3) ? (const char *)sqlite3_column_text(q, 3) : "");
		d[k].payload = mm_strdup(p ? p : "");
		d[k].attempts = sqlite3_column_int(q, 5);
		if (!d[k].payload)
			break;
		k++;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	pthread_mutex_unlock(&n->mu);

	mm_buf_init(&body, MM_NOTIFY_PAYLOAD_MAX + 65536);
	for (i = 0; i < k; i++) {
		char why[MAX_ERR] = "";
		const struct mm_notify_sink *s;
		int arch, ok = -1, att = d[i].attempts + 1, rc;

		if (d[i].si < 0) {
			pthread_mutex_lock(&n->mu);
			finish(n, &d[i], "dead", d[i].attempts, "sink removed",
			       mm_now_ms());
			pthread_mutex_unlock(&n->mu);
			continue;
		}
		s = &n->c.sinks[d[i].si];
		pthread_mutex_lock(&n->mu);
		arch = archived_now(n, d[i].finding);
		pthread_mutex_unlock(&n->mu);
		mm_buf_reset(&body);
		rc = arch ? 0 : mm_notify_render(&n->c, s, d[i].payload, d[i].resource, &body);
		if (!arch && !rc)
			ok = deliver(n, d[i].si, body.p, body.len, why, sizeof(why));
		else if (rc)
			snprintf(why, sizeof(why), "cannot render the finding: %s", mm_strerror(rc));
		now = mm_now_ms();
		pthread_mutex_lock(&n->mu);
		if (arch) {
			finish(n, &d[i], "skipped", d[i].attempts, "archived before delivery", now);
		} else if (ok == 0) {
			finish(n, &d[i], "sent", att, NULL, now);
			atomic_fetch_add(&n->ss[d[i].si].sent, 1);
			mm_info("notify: %s: sent finding %s", s->name, d[i].finding);
		} else {
			atomic_fetch_add(&n->ss[d[i].si].failed, 1);
			if (att >= attempts_of(s) || rc) {
				finish(n, &d[i], "dead", att, why, now);
				atomic_fetch_add(&n->ss[d[i].si].dead, 1);
				mm_warn("notify: %s: finding %s not delivered after %d attempts (%s); "
					"kept as a dead letter",
					s->name, d[i].finding, att, why);
			} else {
				sqlite3_stmt *r = n->q[Q_OB_RETRY];
				int64_t delay = mm_notify_backoff_ms(&n->c, att);
				sqlite3_bind_int64(r, 1, d[i].id);
				sqlite3_bind_int(r, 2, att);
				sqlite3_bind_int64(r, 3, now + delay);
				sqlite3_bind_text(r, 4, why, -1, SQLITE_STATIC);
				if (step_done(n, Q_OB_RETRY))
					mm_warn("notify: recording a retry: %s", sqlite3_errmsg(n->db));
				mm_info("notify: %s: attempt %d for finding %s failed (%s); next in "
					"%lld ms",
					s->name, att, d[i].finding, why, (long long)delay);
			}
		}
		pthread_mutex_unlock(&n->mu);
	}
	mm_buf_free(&body);
	for (i = 0; i < k; i++)
		mm_free(d[i].payload);
	return k;
}

static void *worker(void *arg)
{
	struct mm_notify *n = arg;
	for (;;) {
		int busy;
		pthread_mutex_lock(&n->wmu);
		if (n->stop) {
			pthread_mutex_unlock(&n->wmu);
			break;
		}
		pthread_mutex_unlock(&n->wmu);
		busy = round_once(n);
		pthread_mutex_lock(&n->wmu);
		if (!busy && !n->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += IDLE_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&n->wake, &n->wmu, &ts);
		}
		pthread_mutex_unlock(&n->wmu);
	}
	return NULL;
}

/* ---- open, close, counts ---------------------------------------------------- */

/* Pending rows of sinks no longer configured (removed by a reload or
 * from the config between runs) become dead letters "sink removed". */
static void bury_removed(struct mm_notify *n)
{
	char names[MM_NOTIFY_MAX_SINKS * 4][MM_NOTIFY_NAME];
	sqlite3_stmt *s = NULL;
	int k = 0, i;
	if (sqlite3_prepare_v2(n->db, "SELECT DISTINCT sink FROM notify_outbox WHERE status ="
				      " 'pending'", -1, &s, NULL) != SQLITE_OK)
		goto out;
	while (k < (int)MM_ARRAY_LEN(names) && sqlite3_step(s) == SQLITE_ROW) {
		const char *nm = (const char *)sqlite3_column_text(s, 0);
		if (nm && sink_index(n, nm) < 0)
			snprintf(names[k++], sizeof(names[0]), "%s", nm);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!k || sqlite3_prepare_v2(n->db, "UPDATE notify_outbox SET status = 'dead', last_error ="
					    " 'sink removed', done_at = ?2 WHERE sink = ?1 AND status"
					    " = 'pending'", -1, &s, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < k; i++) {
		sqlite3_bind_text(s, 1, names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, mm_now_ms());
		if (sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(n->db) > 0)
			mm_warn("notify: %d queued notification(s) of sink %s, no longer configured, "
				"kept as dead letters (sink removed)", sqlite3_changes(n->db), names[i]);
		sqlite3_reset(s);
	}
out:
	sqlite3_finalize(s);
}

int mm_notify_open(struct mm_notify **out, const char *db_path, const struct mm_notify_conf *conf,
		   struct mm_err *err)
{
	struct mm_notify *n;
	int i, j;

	*out = NULL;
	if (!conf || conf->nsinks <= 0)
		return 0;
	if (conf->nsinks > MM_NOTIFY_MAX_SINKS)
		return mm_err_set(err, MM_EINVAL, "at most %d notification sinks",
				  MM_NOTIFY_MAX_SINKS);
	if (!(n = mm_calloc(1, sizeof(*n))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	n->c = *conf;
	pthread_mutex_init(&n->mu, NULL);
	pthread_mutex_init(&n->wmu, NULL);
	pthread_cond_init(&n->wake, NULL);
	for (i = 0; i < n->c.nsinks; i++) {
		const struct mm_notify_sink *s = &n->c.sinks[i];
		if (!s->name[0] || !s->url[0]) {
			mm_err_set(err, MM_EINVAL, "notification sink %d has no %s", i + 1,
				   s->name[0] ? "url" : "name");
			goto bad;
		}
		if (strspn(s->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(s->name)) {
			mm_err_set(err, MM_EINVAL,
				   "notification sink name '%s': use letters, digits, '_', '.', '-'",
				   s->name);
			goto bad;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(n->c.sinks[j].name, s->name)) {
				mm_err_set(err, MM_EINVAL, "two notification sinks are named %s",
					   s->name);
				goto bad;
			}
		if (s->kind == MM_SINK_EMAIL) {
			if (!s->from[0] || !s->nto) {
				mm_err_set(err, MM_EINVAL, "email sink %s needs from and to", s->name);
				goto bad;
			}
			if (s->password_env[0]) {
				const char *pw = getenv(s->password_env);
				if (!pw) {
					mm_err_set(err, MM_EINVAL,
						   "email sink %s: the environment variable %s (its "
						   "password_env) is not set",
						   s->name, s->password_env);
					goto bad;
				}
				snprintf(n->ss[i].password, sizeof(n->ss[i].password), "%s", pw);
			}
		}
	}
	if (sqlite3_open_v2(db_path, &n->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		mm_err_set(err, MM_EDB, "notify: cannot open %s: %s", db_path,
			   n->db ? sqlite3_errmsg(n->db) : "out of memory");
		goto bad;
	}
	sqlite3_busy_timeout(n->db, BUSY_MS);
	if (sqlite3_exec(n->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
		mm_err_set(err, MM_EDB, "notify: creating tables: %s", sqlite3_errmsg(n->db));
		goto bad;
	}
	for (i = 0; i < Q_N; i++)
		if (sqlite3_prepare_v2(n->db, SQL[i], -1, &n->q[i], NULL) != SQLITE_OK) {
			mm_err_set(err, MM_EDB, "notify: preparing a statement: %s",
				   sqlite3_errmsg(n->db));
			goto bad;
		}
	if (mm_store_open(&n->st, db_path, err))
		goto bad;
	n->mark = meta_mark(n);
	sqlite3_bind_int64(n->q[Q_PRUNE], 1, mm_now_ms() - KEEP_SENT_MS);
	step_done(n, Q_PRUNE);
	bury_removed(n);
	for (i = 0; i < n->c.nsinks; i++) {
		atomic_store(&n->ss[i].queued,
			     (unsigned long long)count_q(n, Q_OB_DEPTH, n->c.sinks[i].name));
		atomic_store(&n->ss[i].dead,
			     (unsigned long long)count_q(n, Q_OB_DEAD, n->c.sinks[i].name));
	}
	if (pthread_create(&n->th, NULL, worker, n)) {
		mm_err_set(err, MM_ENOMEM, "notify: cannot start the worker thread");
		goto bad;
	}
	n->started = 1;
	*out = n;
	return 0;
bad:
	mm_notify_close(n);
	return err->code;
}

void mm_notify_close(struct mm_notify *n)
{
	int i;
	if (!n)
		return;
	if (n->started) {
		pthread_mutex_lock(&n->wmu);
		n->stop = 1;
		pthread_cond_signal(&n->wake);
		pthread_mutex_unlock(&n->wmu);
		pthread_join(n->th, NULL);
	}
	for (i = 0; i < Q_N; i++)
		sqlite3_finalize(n->q[i]);
	sqlite3_close(n->db);
	mm_store_close(n->st);
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->wmu);
	pthread_mutex_destroy(&n->mu);
	mm_free(n);
}

int mm_notify_counts(struct mm_notify *n, struct mm_notify_count *out, int max)
{
	int i;
	if (!n)
		return 0;
	for (i = 0; i < n->c.nsinks && i < max; i++) {
		snprintf(out[i].sink, sizeof(out[i].sink), "%s", n->c.sinks[i].name);
		out[i].sent = atomic_load(&n->ss[i].sent);
		out[i].failed = atomic_load(&n->ss[i].failed);
		out[i].dead = atomic_load(&n->ss[i].dead);
		out[i].dropped = atomic_load(&n->ss[i].dropped);
		out[i].queued = atomic_load(&n->ss[i].queued);
	}
	return i;
}

int mm_notify_dead_each(struct mm_notify *n, int max, mm_notify_dead_cb cb, void *ctx)
{
	struct mm_notify_dead r;
	sqlite3_stmt *s = NULL;
	int k = 0;
	if (!n)
		return 0;
	pthread_mutex_lock(&n->mu);
	if (sqlite3_prepare_v2(n->db, "SELECT id, sink, finding_id, attempts, last_error, done_at"
				      " FROM notify_outbox WHERE status = 'dead' ORDER BY id DESC"
				      " LIMIT ?1", -1, &s, NULL) != SQLITE_OK) {
		k = MM_EDB;
		goto out;
	}
	sqlite3_bind_int(s, 1, max);
	while (sqlite3_step(s) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(s, 0);
		r.sink = (const char *)sqlite3_column_text(s, 1);
		r.finding_id = (const char *)sqlite3_column_text(s, 2);
		r.attempts = sqlite3_column_int(s, 3);
		r.last_error = sqlite3_column_text(s, 4) ? (const char *)sqlite3_column_text(s, 4) : "";
		r.at_ms = sqlite3_column_int64(s, 5);
		r.sink_configured = sink_index(n, r.sink ? r.sink : "") >= 0;
		k++;
		if (cb(ctx, &r))
			break;
	}
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&n->mu);
	return k;
}

int mm_notify_retry(struct mm_notify *n, long long id, struct mm_err *err)
{
	sqlite3_stmt *s = NULL;
	char sink[MM_NOTIFY_NAME] = "";
	int rc = 0, si;
	if (!n)
		return 0;
	pthread_mutex_lock(&n->mu);
	if (sqlite3_prepare_v2(n->db, "SELECT sink FROM notify_outbox WHERE id = ?1 AND status ="
				      " 'dead'", -1, &s, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(sink, sizeof(sink), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	s = NULL;
	if (!sink[0])
		goto out;	/* rc 0: no such dead letter */
	if (sqlite3_prepare_v2(n->db, "UPDATE notify_outbox SET status = 'pending', attempts = 0,"
				      " next_at = ?2, done_at = NULL WHERE id = ?1 AND status ="
				      " 'dead'", -1, &s, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, mm_now_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		goto dberr;
	rc = sqlite3_changes(n->db) > 0;
	if (rc && (si = sink_index(n, sink)) >= 0) {
		if (atomic_load(&n->ss[si].dead) > 0)
			atomic_fetch_sub(&n->ss[si].dead, 1);
		atomic_fetch_add(&n->ss[si].queued, 1);
	}
	if (rc)
		mm_info("notify: %s: dead letter %lld queued again", sink, id);
	goto out;
dberr:
	rc = mm_err_set(err, MM_EDB, "notify: %s", sqlite3_errmsg(n->db));
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&n->mu);
	if (rc > 0) {
		pthread_mutex_lock(&n->wmu);
		pthread_cond_signal(&n->wake);
		pthread_mutex_unlock(&n->wmu);
	}
	return rc;
}
