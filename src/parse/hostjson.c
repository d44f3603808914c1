/* hostjson.c - host events as JSON lines: the parser (into struct
 * mm_host) and the writer the agent's spool uses.
 *
 * One pass over the record's members with the on-demand iterator
 * (core/json.h), dispatching on the key; strings are slices of the line
 * unless they carry escapes (then unescaped into the scratch arena).
 * Members this version does not know are ignored, so an older server reads
 * a newer agent's lines. */
#include "parse/hostjson.h"

#include <stdio.h>
#include <string.h>

#include "core/ip.h"
#include "core/json.h"
#include "core/mtime.h"
#include "parse/jsonrec.h"

#define KEY MM__KEY

static const char *const what_names[] = {
	[MM_HOST_LOGIN_FAIL] = "login_fail", [MM_HOST_LOGIN_OK] = "login_ok",
	[MM_HOST_SUDO] = "sudo",	     [MM_HOST_SU] = "su",
	[MM_HOST_USER_ADD] = "user_add",     [MM_HOST_USER_MOD] = "user_mod",
	[MM_HOST_USER_DEL] = "user_del",     [MM_HOST_PASSWD] = "passwd",
	[MM_HOST_CRON_CMD] = "cron_cmd",     [MM_HOST_CRONTAB] = "crontab",
	[MM_HOST_PROC] = "proc",	     [MM_HOST_SOCK] = "sock",
	[MM_HOST_FILE] = "file",	     [MM_HOST_ACCOUNT] = "account",
	[MM_HOST_LINE] = "line",
};

const char *mm_host_what_name(enum mm_host_what w)
{
	if ((unsigned)w >= MM_ARRAY_LEN(what_names))
		return NULL;
	return what_names[w];
}

enum mm_host_what mm_host_what_parse(const char *s, size_t n)
{
	size_t i;
	for (i = 1; i < MM_ARRAY_LEN(what_names); i++)
		if (what_names[i] && strlen(what_names[i]) == n && memcmp(what_names[i], s, n) == 0)
			return (enum mm_host_what)i;
	return MM_HOST_NONE;
}

/* What one pass collects besides the event's own fields. */
struct hj_ctx {
	struct mm_json_val time, start;
	struct mm_str what, remote, local;
	int have_version, have_time, have_start, have_what, have_host;
};

static int get_str(const struct mm_json_val *v, struct mm_arena *a, struct mm_str *out,
		   const char *name, struct mm_err *err)
{
	return mm__json_str_field(v, a, out, name, err);
}

static int get_int(const struct mm_json_val *v, int64_t lo, int64_t hi, int64_t *out,
		   const char *name, struct mm_err *err)
{
	int64_t x;
	if (v->type == MM_JSON_NULL) {
		*out = 0;
		return 0;
	}
	if (v->type != MM_JSON_NUMBER || mm_json_int(v, &x) || x < lo || x > hi)
		return mm_err_set(err, MM_EPARSE, "%s: not an integer in [%lld, %lld]", name,
				  (long long)lo, (long long)hi);
	*out = x;
	return 0;
}

static int get_bool(const struct mm_json_val *v, uint8_t *out, const char *name,
		    struct mm_err *err)
{
	if (v->type == MM_JSON_TRUE)
		*out = 1;
	else if (v->type == MM_JSON_FALSE || v->type == MM_JSON_NULL)
		*out = 0;
	else
		return mm_err_set(err, MM_EPARSE, "%s: expected true or false", name);
	return 0;
}

/* One member: 0 handled (or ignored), negative on a bad value. */
static int field(struct mm_host *h, struct mm_str k, const struct mm_json_val *v,
		 struct mm_arena *a, struct hj_ctx *c, struct mm_err *err)
{
	int64_t x;
	int rc;

#define S(name) \
	if (KEY(k, #name)) \
		return get_str(v, a, &h->name, #name, err)
#define I(name, lo, hi, set)                                              \
	if (KEY(k, #name)) {                                              \
		if ((rc = get_int(v, lo, hi, &x, #name, err)))            \
			return rc;                                        \
		set;                                                      \
		return 0;                                                 \
	}
#define B(name) \
	if (KEY(k, #name)) \
		return get_bool(v, &h->name, #name, err)

	switch (k.n) {
	case 3:
		I(pid, 0, INT64_MAX, h->pid = x);
		S(exe);
		break;
	case 4:
		S(user);
		S(name);
		S(path);
		S(diff);
		if (KEY(k, "time")) {
			c->time = *v;
			c->have_time = 1;
			return 0;
		}
		if (KEY(k, "what")) {
			c->have_what = 1;
			if (v->type != MM_JSON_STRING)
				return mm_err_set(err, MM_EPARSE, "what: expected a string");
			return get_str(v, a, &c->what, "what", err);
		}
		if (KEY(k, "host")) {
			c->have_host = 1;
			if (v->type != MM_JSON_STRING)
				return mm_err_set(err, MM_EPARSE, "host: expected a string");
			return get_str(v, a, &h->host, "host", err);
		}
		I(ppid, 0, INT64_MAX, h->ppid = x);
		break;
	case 5:
		I(rport, 0, 65535, h->rport = (uint16_t)x);
		I(lport, 0, 65535, h->lport = (uint16_t)x);
		I(proto, 0, 255, h->proto = (uint8_t)x);
		S(state);
		if (KEY(k, "start")) {
			c->start = *v;
			c->have_start = v->type != MM_JSON_NULL;
			return 0;
		}
		if (KEY(k, "local"))
			return get_str(v, a, &c->local, "local", err);
		break;
	case 6:
		S(method);
		S(sha256);
		S(change);
		if (KEY(k, "remote"))
			return get_str(v, a, &c->remote, "remote", err);
		break;
	case 7:
		S(program);
		S(message);
		S(command);
		S(lineage);
		break;
	case 10:
		S(new_sha256);
		S(old_sha256);
		break;
	case 11:
		S(instance_id);
		S(target_user);
		B(exe_deleted);
		break;
	case 12:
		B(invalid_user);
		I(cpu_permille, 0, UINT32_MAX, h->cpu_permille = (uint32_t)x);
		break;
	case 17:
		if (KEY(k, "mamori_host_event")) {
			if (v->type != MM_JSON_NUMBER || mm_json_int(v, &x))
				return mm_err_set(err, MM_EPARSE, "mamori_host_event: not a number");
			if (x != 1)
				return mm_err_set(err, MM_EPARSE,
						  "mamori_host_event: version %lld not supported (1 is)",
						  (long long)x);
			c->have_version = 1;
			return 0;
		}
		break;
	default:
		break;
	}
#undef S
#undef I
#undef B
	return 0;
}

static int addr(struct mm_str s, struct mm_ip *ip, uint8_t *has, const char *name,
		struct mm_err *err)
{
	if (s.n == 0)
		return 0;
	if (mm_ip_parse(s.p, s.n, ip))
		return mm_err_set(err, MM_EPARSE, "%s: not an IP address: \"%.*s\"", name,
				  (int)MM_MIN(s.n, 46), s.p);
	*has = 1;
	return 0;
}

int mm_hostjson_parse(const char *line, size_t n, struct mm_arena *a, struct mm_event *ev,
		      struct mm_err *err)
{
	struct mm_host *h = &ev->u.host;
	const char *p = line, *end = line + n;
	struct mm_json_val obj, v;
	struct mm_json_iter it;
	struct mm_str k;
	struct hj_ctx c;
	char kb[64];
	int rc;

	memset(h, 0, sizeof(*h));
	memset(&c, 0, sizeof(c));
	ev->kind = MM_EV_HOST;
	ev->raw = mm_str_make(line, n);
	if (n > MM_HOSTJSON_MAX_LINE)
		return mm_err_set(err, MM_EPARSE, "line longer than %u bytes", MM_HOSTJSON_MAX_LINE);
	p = mm__json_ws(p, end);
	if (p >= end || *p != '{')
		return mm_err_set(err, MM_EPARSE, "line is not a JSON object");
	obj.type = MM_JSON_OBJECT;
	obj.p = p;
	obj.n = (size_t)(end - p);
	mm_json_iter_init(&it, &obj);
	while ((rc = mm_json_iter_next(&it, &k, &v)) == 1) {
		if (it.key_esc)
			k = mm__json_norm_key(k, kb, sizeof(kb));
		if ((rc = field(h, k, &v, a, &c, err)) < 0)
			return rc;
	}
	if (rc)
		return mm_err_set(err, MM_EPARSE, "%s",
				  rc == MM_EDEPTH ? "nested too deeply" : "malformed JSON");
	if (mm__json_ws(it.p, end) < end)
		return mm_err_set(err, MM_EPARSE, "trailing bytes after the record");
	if (!c.have_version)
		return mm_err_set(err, MM_EPARSE, "missing mamori_host_event");
	if (!c.have_time)
		return mm_err_set(err, MM_EPARSE, "missing time");
	if (!c.have_what)
		return mm_err_set(err, MM_EPARSE, "missing what");
	if (!c.have_host)
		return mm_err_set(err, MM_EPARSE, "missing host");
	if ((rc = mm__json_time_field(&c.time, "time", &h->time_ms, err)))
		return rc;
	if (c.have_start && (rc = mm__json_time_field(&c.start, "start", &h->start_ms, err)))
		return rc;
	h->what = mm_host_what_parse(c.what.p, c.what.n);
	if (h->what == MM_HOST_NONE)
		return mm_err_set(err, MM_ESKIP, "what: unknown kind \"%.*s\"",
				  (int)MM_MIN(c.what.n, 40), c.what.p);
	if ((rc = addr(c.remote, &h->remote, &h->has_remote, "remote", err)) ||
	    (rc = addr(c.local, &h->local, &h->has_local, "local", err)))
		return rc;
	return 0;
}

int mm_hostjson_looks_like(const char *line, size_t n)
{
	const char *s;
	size_t i = 0;

	if (!line)
		return 0;
	if (n > MM_HOSTJSON_MAX_LINE)
		n = MM_HOSTJSON_MAX_LINE;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= n || line[i] != '{')
		return 0;
	s = memmem(line + i, n - i, "\"mamori_host_event\"", 19);
	if (!s)
		return 0;
	s += 19;
	n -= (size_t)(s - line);
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	if (!n || *s != ':')
		return 0;
	s++, n--;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	return n && *s == '1' && (n == 1 || s[1] < '0' || s[1] > '9');
}

/* ---- writer ---- */

/* Per-field budgets (escaped bytes): their sum plus the keys and numbers
 * stays under MM_HOSTJSON_MAX_LINE (12 small + 3 paths + command + diff
 * + a log line's message at the path budget). */
#define BUD_SMALL 512
#define BUD_PATH 4096
#define BUD_CMD 8192
#define BUD_DIFF 32768

/* s escaped into b, cut at a character boundary once the escaped bytes
 * would pass budget. */
static int esc_bounded(struct mm_buf *b, const char *s, size_t n, size_t budget)
{
	size_t start = b->len, i = 0;
	int rc;

	/* the common case: short and plain, one call */
	if (n * 6 <= budget)
		return mm_json_escape(b, s, n);
	while (i < n) {
		size_t before = b->len;
		int k = mm_utf8_seq(s + i, n - i);
		if (k <= 0)
			k = 1;
		if ((rc = mm_json_escape(b, s + i, (size_t)k)))
			return rc;
		if (b->len - start > budget) {
			b->len = before;
			b->p[b->len] = '\0';
			break;
		}
		i += (size_t)k;
	}
	return 0;
}

static int put_str(struct mm_buf *b, const char *key, struct mm_str s, size_t budget)
{
	int rc;
	if (s.n == 0)
		return 0;
	if ((rc = mm_buf_printf(b, ",\"%s\":\"", key)) || (rc = esc_bounded(b, s.p, s.n, budget)))
		return rc;
	return mm_buf_addc(b, '"');
}

static int put_int(struct mm_buf *b, const char *key, int64_t x)
{
	if (x <= 0)	/* 0 is absent; no member is negative (the parser refuses it) */
		return 0;
	return mm_buf_printf(b, ",\"%s\":%lld", key, (long long)x);
}

static int put_ip(struct mm_buf *b, const char *key, const struct mm_ip *ip, int has)
{
	char t[MM_IP_STRLEN];
	if (!has)
		return 0;
	return mm_buf_printf(b, ",\"%s\":\"%s\"", key, mm_ip_format(ip, t));
}

int mm_hostjson_write(struct mm_buf *out, const struct mm_event *ev)
{
	const struct mm_host *h;
	const char *what;
	char ts[MM_TIME_STRLEN];
	size_t at = out->len;
	int rc;

	if (!ev || ev->kind != MM_EV_HOST)
		return MM_EINVAL;
	h = &ev->u.host;
	if (!(what = mm_host_what_name(h->what)))
		return MM_EINVAL;
	if ((rc = mm_buf_printf(out, "{\"mamori_host_event\":1,\"time\":\"%s\",\"what\":\"%s\",\"host\":\"",
				mm_time_format_iso(h->time_ms, ts), what)) ||
	    (rc = esc_bounded(out, h->host.p, h->host.n, BUD_SMALL)) ||
	    (rc = mm_buf_addc(out, '"')) ||
	    (rc = put_str(out, "instance_id", h->instance_id, BUD_SMALL)) ||
	    (rc = put_str(out, "program", h->program, BUD_SMALL)) ||
	    (rc = put_int(out, "pid", h->pid)) ||
	    (rc = put_str(out, "user", h->user, BUD_SMALL)) ||
	    (rc = put_str(out, "target_user", h->target_user, BUD_SMALL)) ||
	    (rc = put_str(out, "method", h->method, BUD_SMALL)) ||
	    (rc = (h->invalid_user ? mm_buf_addz(out, ",\"invalid_user\":true") : 0)) ||
	    (rc = put_ip(out, "remote", &h->remote, h->has_remote)) ||
	    (rc = put_int(out, "rport", h->rport)) ||
	    (rc = put_ip(out, "local", &h->local, h->has_local)) ||
	    (rc = put_int(out, "lport", h->lport)) ||
	    (rc = put_int(out, "proto", h->proto)) ||
	    (rc = put_str(out, "state", h->state, BUD_SMALL)) ||
	    (rc = put_str(out, "command", h->command, BUD_CMD)) ||
	    (rc = put_str(out, "exe", h->exe, BUD_PATH)) ||
	    (rc = put_str(out, "name", h->name, BUD_SMALL)) ||
	    (rc = put_str(out, "sha256", h->sha256, BUD_SMALL)) ||
	    (rc = put_str(out, "lineage", h->lineage, BUD_PATH)) ||
	    (rc = put_int(out, "ppid", h->ppid)) ||
	    (rc = (h->exe_deleted ? mm_buf_addz(out, ",\"exe_deleted\":true") : 0)) ||
	    (rc = put_int(out, "cpu_permille", h->cpu_permille)) ||
	    (rc = (h->start_ms ? mm_buf_printf(out, ",\"start\":\"%s\"",
					       mm_time_format_iso(h->start_ms, ts))
			       : 0)) ||
	    (rc = put_str(out, "path", h->path, BUD_PATH)) ||
	    (rc = put_str(out, "change", h->change, BUD_SMALL)) ||
	    (rc = put_str(out, "old_sha256", h->old_sha256, BUD_SMALL)) ||
	    (rc = put_str(out, "new_sha256", h->new_sha256, BUD_SMALL)) ||
	    (rc = put_str(out, "diff", h->diff, BUD_DIFF)) ||
	    (rc = put_str(out, "message", h->message, BUD_PATH)) ||
	    (rc = mm_buf_add(out, "}\n", 2)))
		goto fail;
	return 0;
fail:
	out->len = at;
	if (out->p)
		out->p[at] = '\0';
	return rc;
}
