/* syslog.c - auth/secure and cron log lines (rsyslog, journald JSON)
 * into host events. See syslog.h for the contract and
 * docs/internals/syslog.md for the shapes and why. Matching is by
 * fixed prefixes and bounded token scans; nothing read is executed. */
#include "parse/syslog.h"

#include <string.h>

#include "core/ip.h"
#include "core/json.h"
#include "core/mtime.h"
#include "enrich/inventory.h"

#define MAX_LINE (64 * 1024)

/* ---- small slice helpers ------------------------------------------------- */

static struct mm_str sl(const char *p, size_t n)
{
	struct mm_str s;
	s.p = p;
	s.n = n;
	return s;
}

/* Does s start with z? Then *rest is what follows. */
static int eat(struct mm_str s, const char *z, struct mm_str *rest)
{
	size_t k = strlen(z);
	if (s.n < k || memcmp(s.p, z, k) != 0)
		return 0;
	*rest = sl(s.p + k, s.n - k);
	return 1;
}

/* Position of z in s, or -1. */
static long find(struct mm_str s, const char *z)
{
	const char *q = memmem(s.p, s.n, z, strlen(z));
	return q ? (long)(q - s.p) : -1;
}

/* The token up to the first c (or the end) into *tok, rest after c. */
static void token(struct mm_str s, char c, struct mm_str *tok, struct mm_str *rest)
{
	const char *q = memchr(s.p, c, s.n);
	size_t k = q ? (size_t)(q - s.p) : s.n;
	*tok = sl(s.p, k);
	*rest = q ? sl(q + 1, s.n - k - 1) : sl(s.p + s.n, 0);
}

static struct mm_str trim(struct mm_str s)
{
	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
		s.p++, s.n--;
	while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
		s.n--;
	return s;
}

static int digits(const char *p, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;
	if (n == 0 || n > 18)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 1;
}

/* "from ADDR port N" anywhere after the user: fills remote/rport. */
static void from_port(struct mm_host *h, struct mm_str s)
{
	long at = find(s, " from ");
	struct mm_str rest, addr, w, pn;
	int64_t port;
	if (at < 0) {
		if (eat(s, "from ", &rest))
			at = -1;
		else
			return;
	} else {
		rest = sl(s.p + at + 6, s.n - (size_t)at - 6);
	}
	token(rest, ' ', &addr, &rest);
	if (mm_ip_parse(addr.p, addr.n, &h->remote) == 0)
		h->has_remote = 1;
	token(rest, ' ', &w, &rest);
	if (mm_str_eqz(w, "port")) {
		token(rest, ' ', &pn, &rest);
		if (digits(pn.p, pn.n, &port) && port < 65536)
			h->rport = (uint16_t)port;
	}
}

/* "user ADDR port N" (Disconnected / Connection closed forms). */
static void user_addr_port(struct mm_host *h, struct mm_str s)
{
	struct mm_str u, addr, w, pn, rest;
	int64_t port;
	token(s, ' ', &u, &rest);
	h->user = u;
	token(rest, ' ', &addr, &rest);
	if (mm_ip_parse(addr.p, addr.n, &h->remote) == 0)
		h->has_remote = 1;
	token(rest, ' ', &w, &rest);
	if (mm_str_eqz(w, "port")) {
		token(rest, ' ', &pn, &rest);
		if (digits(pn.p, pn.n, &port) && port < 65536)
			h->rport = (uint16_t)port;
	}
}

/* The user name before " from " (sshd puts it there, and a user name
 * may itself contain spaces: take everything up to the last " from "). */
static struct mm_str user_before_from(struct mm_str s)
{
	const char *p = s.p + s.n;
	while (p - s.p >= 6) {
		if (memcmp(p - 6, " from ", 6) == 0)
			return sl(s.p, (size_t)(p - 6 - s.p));
		p--;
	}
	return sl(s.p, 0);
}

/* ---- messages ------------------------------------------------------------- */

static int prog_is(struct mm_str prog, const char *z)
{
	return mm_str_eqz(prog, z);
}

static int sshd_msg(struct mm_host *h, struct mm_str m)
{
	struct mm_str r, meth;
	if (eat(m, "Failed ", &r) || eat(m, "Accepted ", &r)) {
		int ok = m.p[0] == 'A';
		long f = find(r, " for ");
		if (f <= 0)
			return MM_ESKIP;
		meth = sl(r.p, (size_t)f);
		r = sl(r.p + f + 5, r.n - (size_t)f - 5);
		if (eat(r, "invalid user ", &r))
			h->invalid_user = 1;
		h->what = ok ? MM_HOST_LOGIN_OK : MM_HOST_LOGIN_FAIL;
		h->method = meth;
		h->user = user_before_from(r);
		from_port(h, r);
		return 0;
	}
	if (eat(m, "Invalid user ", &r)) {
		h->what = MM_HOST_LOGIN_FAIL;
		h->invalid_user = 1;
		h->user = user_before_from(r);
		if (!h->user.n && eat(r, "from ", &meth))
			h->user = sl(r.p, 0); /* "Invalid user  from": empty name */
		from_port(h, r);
		return 0;
	}
	if (eat(m, "Disconnected from authenticating user ", &r) ||
	    eat(m, "Connection closed by authenticating user ", &r)) {
		h->what = MM_HOST_LOGIN_FAIL;
		h->method = mm_str_c("preauth");
		user_addr_port(h, r);
		return 0;
	}
	if (eat(m, "Disconnected from invalid user ", &r) ||
	    eat(m, "Connection closed by invalid user ", &r)) {
		h->what = MM_HOST_LOGIN_FAIL;
		h->method = mm_str_c("preauth");
		h->invalid_user = 1;
		user_addr_port(h, r);
		return 0;
	}
	if (find(m, "authentication failure;") >= 0 && eat(m, "pam_unix(", &r)) {
		long at = find(m, " rhost=");
		h->what = MM_HOST_LOGIN_FAIL;
		h->method = mm_str_c("pam");
		if (at >= 0) {
			struct mm_str a = sl(m.p + at + 7, m.n - (size_t)at - 7), tok;
			token(a, ' ', &tok, &a);
			if (mm_ip_parse(tok.p, tok.n, &h->remote) == 0)
				h->has_remote = 1;
		}
		at = find(m, " user=");
		if (at >= 0) {
			struct mm_str a = sl(m.p + at + 6, m.n - (size_t)at - 6), tok;
			token(a, ' ', &tok, &a);
			h->user = tok;
		}
		return 0;
	}
	return MM_ESKIP;
}

/* sudo: "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls -l" */
static int sudo_msg(struct mm_host *h, struct mm_str m)
{
	long c = find(m, " : ");
	long cmd = find(m, "COMMAND=");
	long u = find(m, "USER=");
	if (c <= 0 || cmd < 0)
		return MM_ESKIP;
	h->what = MM_HOST_SUDO;
	h->user = trim(sl(m.p, (size_t)c));
	h->command = trim(sl(m.p + cmd + 8, m.n - (size_t)cmd - 8));
	if (u >= 0) {
		struct mm_str a = sl(m.p + u + 5, m.n - (size_t)u - 5), tok;
		token(a, ' ', &tok, &a);
		h->target_user = tok;
	}
	return 0;
}

/* "name(uid=0)" -> "name" */
static struct mm_str strip_uid(struct mm_str s)
{
	const char *q = memchr(s.p, '(', s.n);
	return q ? sl(s.p, (size_t)(q - s.p)) : s;
}

static int su_msg(struct mm_host *h, struct mm_str m)
{
	struct mm_str r, tok;
	long at;
	/* Debian: "(to root) alice on pts/0" */
	if (eat(m, "(to ", &r)) {
		token(r, ')', &tok, &r);
		h->what = MM_HOST_SU;
		h->target_user = tok;
		r = trim(r);
		token(r, ' ', &tok, &r);
		h->user = tok;
		return 0;
	}
	/* pam: "pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)" */
	at = find(m, "session opened for user ");
	if (at >= 0) {
		r = sl(m.p + at + 24, m.n - (size_t)at - 24);
		token(r, ' ', &tok, &r);
		h->what = MM_HOST_SU;
		h->target_user = strip_uid(tok);
		if (eat(r, "by ", &r)) {
			token(r, ' ', &tok, &r);
			h->user = strip_uid(tok);
		}
		return 0;
	}
	return MM_ESKIP;
}

/* "key=value," inside s into *out */
static int kv(struct mm_str s, const char *key, struct mm_str *out)
{
	long at = find(s, key);
	struct mm_str r, tok;
	if (at < 0)
		return 0;
	r = sl(s.p + at + strlen(key), s.n - (size_t)at - strlen(key));
	token(r, ',', &tok, &r);
	*out = trim(tok);
	return 1;
}

/* 'quoted' value after z into *out */
static int quoted_after(struct mm_str s, const char *z, struct mm_str *out)
{
	long at = find(s, z);
	struct mm_str r, tok;
	if (at < 0)
		return 0;
	r = sl(s.p + at + strlen(z), s.n - (size_t)at - strlen(z));
	if (!r.n || r.p[0] != '\'')
		return 0;
	r = sl(r.p + 1, r.n - 1);
	token(r, '\'', &tok, &r);
	*out = tok;
	return 1;
}

static int account_msg(struct mm_host *h, struct mm_str prog, struct mm_str m)
{
	struct mm_str r, name;
	if ((eat(m, "new user: ", &r) || eat(m, "new group: ", &r)) && kv(r, "name=", &name)) {
		h->what = MM_HOST_USER_ADD;
		h->target_user = name;
		h->command = m;
		return 0;
	}
	if (prog_is(prog, "usermod") || prog_is(prog, "chsh") || prog_is(prog, "gpasswd")) {
		if (quoted_after(m, "add ", &name) || quoted_after(m, "change user ", &name) ||
		    quoted_after(m, "lock user ", &name) || quoted_after(m, "unlock user ", &name) ||
		    quoted_after(m, "user ", &name)) {
			h->what = MM_HOST_USER_MOD;
			h->target_user = name;
			h->command = m;
			return 0;
		}
		if (eat(m, "changed user ", &r) || eat(m, "user ", &r)) {
			token(r, ' ', &name, &r);
			h->what = MM_HOST_USER_MOD;
			h->target_user = name;
			h->command = m;
			return 0;
		}
		return MM_ESKIP;
	}
	if (prog_is(prog, "userdel")) {
		if (quoted_after(m, "delete user ", &name)) {
			h->what = MM_HOST_USER_DEL;
			h->target_user = name;
			h->command = m;
			return 0;
		}
		return MM_ESKIP;
	}
	return MM_ESKIP;
}

static int passwd_msg(struct mm_host *h, struct mm_str m)
{
	long at = find(m, "password changed for ");
	struct mm_str r, tok;
	if (at < 0)
		return MM_ESKIP;
	r = sl(m.p + at + 21, m.n - (size_t)at - 21);
	token(r, ' ', &tok, &r);
	h->what = MM_HOST_PASSWD;
	h->target_user = tok;
	return 0;
}

/* "(user) CMD (command)" / "(root) REPLACE (git)" */
static int cron_msg(struct mm_host *h, struct mm_str prog, struct mm_str m)
{
	struct mm_str r, user, verb;
	if (!eat(m, "(", &r))
		return MM_ESKIP;
	token(r, ')', &user, &r);
	if (!r.n || r.p[0] != ' ')
		return MM_ESKIP;
	r = sl(r.p + 1, r.n - 1);
	if (eat(r, "CMD (", &r)) {
		if (r.n && r.p[r.n - 1] == ')')
			r.n--;
		h->what = MM_HOST_CRON_CMD;
		h->user = user;
		h->command = r;
		return 0;
	}
	if (!prog_is(prog, "crontab"))
		return MM_ESKIP;
	/* "BEGIN EDIT (git)", "REPLACE (git)", "DELETE (git)" */
	{
		long par = find(r, " (");
		if (par <= 0)
			return MM_ESKIP;
		verb = sl(r.p, (size_t)par);
		if (!mm_str_eqz(verb, "REPLACE") && !mm_str_eqz(verb, "BEGIN EDIT") &&
		    !mm_str_eqz(verb, "END EDIT") && !mm_str_eqz(verb, "DELETE"))
			return MM_ESKIP;
		r = sl(r.p + par + 2, r.n - (size_t)par - 2);
		token(r, ')', &h->target_user, &r);
		h->what = MM_HOST_CRONTAB;
		h->user = user;
		h->change = verb;
		return 0;
	}
}

/* The kind of a message of a program mamori reads; MM_ESKIP when the
 * program or this message of it says nothing of interest. */
static int known_msg(struct mm_host *h, struct mm_str prog, struct mm_str msg)
{
	if (prog_is(prog, "sshd") || prog_is(prog, "sshd-session"))
		return sshd_msg(h, msg);
	if (prog_is(prog, "sudo"))
		return sudo_msg(h, msg);
	if (prog_is(prog, "su"))
		return su_msg(h, msg);
	if (prog_is(prog, "useradd") || prog_is(prog, "adduser") || prog_is(prog, "groupadd") ||
	    prog_is(prog, "usermod") || prog_is(prog, "chsh") || prog_is(prog, "gpasswd") ||
	    prog_is(prog, "userdel"))
		return account_msg(h, prog, msg);
	if (prog_is(prog, "passwd") || prog_is(prog, "chpasswd"))
		return passwd_msg(h, msg);
	if (prog_is(prog, "CROND") || prog_is(prog, "CRON") || prog_is(prog, "crond") ||
	    prog_is(prog, "cron") || prog_is(prog, "/usr/sbin/cron") || prog_is(prog, "crontab"))
		return cron_msg(h, prog, msg);
	return MM_ESKIP;
}

int mm_syslog_message(struct mm_host *h, struct mm_str prog, struct mm_str msg, uint32_t *repeat)
{
	struct mm_str r;
	*repeat = 1;
	msg = trim(msg);
	/* rsyslog: "message repeated 3 times: [ Failed password for ...]"
	 * (a malformed one stays a plain line of its program) */
	if (eat(msg, "message repeated ", &r)) {
		struct mm_str num;
		int64_t k;
		token(r, ' ', &num, &r);
		if (digits(num.p, num.n, &k) && eat(r, "times: [", &r)) {
			if (r.n && r.p[r.n - 1] == ']')
				r.n--;
			msg = trim(r);
			*repeat = k < 1 ? 1 : k > MM_SYSLOG_REPEAT_MAX ? MM_SYSLOG_REPEAT_MAX : (uint32_t)k;
		}
	}
	h->program = prog;
	h->message = msg;
	if (known_msg(h, prog, msg) == 0)
		return 0;
	/* any other line (another program, or one of those saying nothing
	 * the kinds above hold): a generic line, for Sigma's keywords. A
	 * parser that gave up may have set fields; only the header's stay. */
	{
		struct mm_host keep = *h;
		memset(h, 0, sizeof(*h));
		h->time_ms = keep.time_ms;
		h->host = keep.host;
		h->instance_id = keep.instance_id;
		h->pid = keep.pid;
	}
	h->what = MM_HOST_LINE;
	h->program = prog;
	h->message = msg;
	return 0;
}

/* ---- headers and time ----------------------------------------------------- */

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static int month_of(const char *p)
{
	int i;
	for (i = 0; i < 12; i++)
		if (memcmp(p, months + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

static int two(const char *p, int *v)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return 0;
	*v = (p[0] - '0') * 10 + (p[1] - '0');
	return 1;
}

static void civil_from_days(int64_t z, int64_t *y)
{
	/* Howard Hinnant's algorithm, year only */
	int64_t era, doe, yoe, doy, mp, m;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (m <= 2);
}

int64_t mm_syslog_resolve_year(int mon, int day, int64_t sod, int64_t anchor_ms)
{
	int64_t y, t;
	int64_t adays = anchor_ms >= 0 ? anchor_ms / 86400000 : (anchor_ms - 86399999) / 86400000;
	civil_from_days(adays, &y);
	t = (mm_days_from_civil(y, (unsigned)mon, (unsigned)day) * 86400 + sod) * 1000;
	if (t > anchor_ms + 86400000)
		t = (mm_days_from_civil(y - 1, (unsigned)mon, (unsigned)day) * 86400 + sod) * 1000;
	return t;
}

/* "Dec  5 22:48:54 " -> ms; returns bytes of the stamp (15) or 0. */
static size_t trad_stamp(const char *p, size_t n, int64_t anchor, int64_t *ms)
{
	int mon, d, hh, mi, ss;
	if (n < 16 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':' || p[15] != ' ')
		return 0;
	if (!(mon = month_of(p)))
		return 0;
	if (p[4] == ' ') {
		if (p[5] < '1' || p[5] > '9')
			return 0;
		d = p[5] - '0';
	} else if (!two(p + 4, &d)) {
		return 0;
	}
	if (d < 1 || d > 31 || !two(p + 7, &hh) || !two(p + 10, &mi) || !two(p + 13, &ss) ||
	    hh > 23 || mi > 59 || ss > 60)
		return 0;
	*ms = mm_syslog_resolve_year(mon, d, (int64_t)hh * 3600 + mi * 60 + ss, anchor);
	return 15;
}

/* "2026-12-05T22:48:54.123456+00:00 " -> ms; bytes of the stamp or 0. */
static size_t iso_stamp(const char *p, size_t n, int64_t *ms)
{
	const char *sp;
	if (n < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':')
		return 0;
	sp = memchr(p, ' ', n < 48 ? n : 48);
	if (!sp)
		return 0;
	if (mm_time_parse_iso(p, (size_t)(sp - p), ms))
		return 0;
	return (size_t)(sp - p);
}

/* After the stamp: " host tag: msg". */
static int header(const char *line, size_t n, int64_t anchor, int64_t *ms, struct mm_str *host,
		  struct mm_str *tag, struct mm_str *msg)
{
	size_t k = trad_stamp(line, n, anchor, ms);
	struct mm_str r;
	const char *colon;
	if (!k)
		k = iso_stamp(line, n, ms);
	if (!k || k >= n || line[k] != ' ')
		return 0;
	r = sl(line + k + 1, n - k - 1);
	token(r, ' ', host, &r);
	if (!host->n || !r.n)
		return 0;
	/* the tag ends at the first ':' followed by a space (or the end) */
	colon = r.p;
	for (;;) {
		colon = memchr(colon, ':', (size_t)(r.p + r.n - colon));
		if (!colon)
			return 0;
		if (colon + 1 == r.p + r.n || colon[1] == ' ')
			break;
		colon++;
	}
	*tag = sl(r.p, (size_t)(colon - r.p));
	if (memchr(tag->p, ' ', tag->n) || tag->n == 0 || tag->n > 128)
		return 0;
	*msg = sl(colon + 1, (size_t)(r.p + r.n - colon - 1));
	return 1;
}

int mm_syslog_looks_like(const char *line, size_t n)
{
	int64_t ms;
	struct mm_str host, tag, msg;
	if (n > MAX_LINE)
		n = MAX_LINE;
	return header(line, n, 0, &ms, &host, &tag, &msg);
}

int mm_journal_looks_like(const char *line, size_t n)
{
	return n && line[0] == '{' && memmem(line, n, "\"__REALTIME_TIMESTAMP\"", 22) &&
	       memmem(line, n, "\"MESSAGE\"", 9);
}

/* ---- attribution ---------------------------------------------------------- */

int mm_syslog_instance_from_path(const char *path, char *out, size_t cap)
{
	const char *p = path;
	while (p && *p) {
		const char *e = strchr(p, '/');
		size_t k = e ? (size_t)(e - p) : strlen(p), i;
		if ((k == 10 || k == 19) && p[0] == 'i' && p[1] == '-' && k < cap) {
			for (i = 2; i < k; i++)
				if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
					break;
			if (i == k) {
				memcpy(out, p, k);
				out[k] = '\0';
				return 1;
			}
		}
		p = e ? e + 1 : NULL;
	}
	return 0;
}

int mm_syslog_host_ip(struct mm_str host, struct mm_ip *out)
{
	char buf[16];
	size_t i, k = 0;
	struct mm_str r;
	if (!eat(host, "ip-", &r))
		return MM_EPARSE;
	for (i = 0; i < r.n && r.p[i] != '.'; i++) {
		char c = r.p[i];
		if (k + 1 >= sizeof(buf))
			return MM_EPARSE;
		if (c == '-')
			c = '.';
		else if (c < '0' || c > '9')
			return MM_EPARSE;
		buf[k++] = c;
	}
	if (mm_ip_parse(buf, k, out) || out->v6)
		return MM_EPARSE;
	return 0;
}

/* instance_id and host from the context (--host, a folder) or the
 * logged host name through the inventory. */
static void attribute(const struct mm_syslog_ctx *cx, struct mm_host *h)
{
	struct mm_ip ip;
	if (cx->host)
		h->host = mm_str_c(cx->host);
	if (cx->instance_id) {
		h->instance_id = mm_str_c(cx->instance_id);
		return;
	}
	if (cx->inv && mm_syslog_host_ip(h->host, &ip) == 0) {
		const struct mm_instance *in = mm_inventory_by_ip(cx->inv, &ip);
		if (in)
			h->instance_id = mm_str_c(in->instance_id);
	}
}

/* ---- the two line formats ------------------------------------------------- */

/* "prog[pid]" -> prog, pid */
static void split_tag(struct mm_str tag, struct mm_str *prog, int64_t *pid)
{
	const char *b = memchr(tag.p, '[', tag.n);
	*pid = 0;
	if (b && tag.p[tag.n - 1] == ']') {
		*prog = sl(tag.p, (size_t)(b - tag.p));
		digits(b + 1, (size_t)(tag.p + tag.n - b - 2), pid);
	} else {
		*prog = tag;
	}
}

int mm_syslog_parse(struct mm_syslog_ctx *cx, const char *line, size_t n, struct mm_arena *a,
		    struct mm_event *ev, struct mm_err *e)
{
	struct mm_host *h = &ev->u.host;
	struct mm_str host, tag, msg, prog;
	int64_t ms, pid;
	int rc;

	(void)a;
	cx->repeat = 1;
	if (n > MAX_LINE)
		return mm_err_set(e, MM_ETOOBIG, "syslog line longer than %d bytes", MAX_LINE);
	while (n && (line[n - 1] == '\r'))
		n--;
	if (!header(line, n, cx->anchor_ms, &ms, &host, &tag, &msg))
		return mm_err_set(e, MM_EPARSE, "not a syslog line (want \"Mon dd hh:mm:ss host "
					       "prog[pid]: message\" or an RFC 3339 stamp)");
	memset(&ev->u.host, 0, sizeof(ev->u.host));
	ev->kind = MM_EV_HOST;
	split_tag(tag, &prog, &pid);
	h->time_ms = ms;
	h->host = host;
	h->pid = pid;
	if ((rc = mm_syslog_message(h, prog, msg, &cx->repeat)))
		return rc;
	attribute(cx, h);
	return 0;
}

/* MESSAGE as journald writes it: a string, or an array of byte values
 * when it is not valid UTF-8 (decoded into a). */
static int journal_message(const struct mm_json_val *v, struct mm_arena *a, struct mm_str *out)
{
	struct mm_json_iter it;
	struct mm_json_val x;
	char *buf;
	size_t k = 0;
	int rc;
	if (v->type != MM_JSON_ARRAY)
		return mm_json_str(v, a, out);
	buf = mm_arena_alloc(a, v->n);
	if (!buf)
		return MM_ETOOBIG;
	if ((rc = mm_json_iter_init(&it, v)))
		return rc;
	while ((rc = mm_json_iter_next(&it, NULL, &x)) == 1) {
		int64_t b;
		if (mm_json_int(&x, &b) || b < 0 || b > 255 || k >= v->n)
			return MM_EPARSE;
		buf[k++] = (char)b;
	}
	if (rc < 0)
		return rc;
	*out = sl(buf, k);
	return 0;
}

int mm_journal_parse(struct mm_syslog_ctx *cx, const char *line, size_t n, struct mm_arena *a,
		     struct mm_event *ev, struct mm_err *e)
{
	struct mm_host *h = &ev->u.host;
	struct mm_json_val obj, v;
	struct mm_str prog = {NULL, 0}, msg, host = {NULL, 0};
	int64_t us = 0, pid = 0;
	size_t used;
	int rc;

	cx->repeat = 1;
	if (n > MAX_LINE)
		return mm_err_set(e, MM_ETOOBIG, "journal line longer than %d bytes", MAX_LINE);
	if (mm_json_value(line, n, &obj, &used) || obj.type != MM_JSON_OBJECT)
		return mm_err_set(e, MM_EPARSE, "not a JSON object");
	if (mm_json_get(&obj, "__REALTIME_TIMESTAMP", &v) != 1 || mm_json_int(&v, &us) || us < 0)
		return mm_err_set(e, MM_EPARSE, "no __REALTIME_TIMESTAMP (microseconds)");
	if (mm_json_get(&obj, "MESSAGE", &v) != 1)
		return mm_err_set(e, MM_EPARSE, "no MESSAGE");
	if ((rc = journal_message(&v, a, &msg)))
		return mm_err_set(e, rc, "MESSAGE is neither a string nor an array of bytes");
	if (mm_json_get(&obj, "SYSLOG_IDENTIFIER", &v) == 1 && mm_json_str(&v, a, &prog))
		return mm_err_set(e, MM_EPARSE, "bad SYSLOG_IDENTIFIER");
	if (mm_json_get(&obj, "_HOSTNAME", &v) == 1 && mm_json_str(&v, a, &host))
		return mm_err_set(e, MM_EPARSE, "bad _HOSTNAME");
	if (mm_json_get(&obj, "_PID", &v) == 1 && mm_json_int(&v, &pid))
		pid = 0;
	if (!prog.n && mm_json_get(&obj, "_COMM", &v) == 1 && mm_json_str(&v, a, &prog))
		return mm_err_set(e, MM_EPARSE, "bad _COMM");
	memset(&ev->u.host, 0, sizeof(ev->u.host));
	ev->kind = MM_EV_HOST;
	h->time_ms = us / 1000;
	h->host = host;
	h->pid = pid;
	if ((rc = mm_syslog_message(h, prog, msg, &cx->repeat)))
		return rc;
	attribute(cx, h);
	return 0;
}
