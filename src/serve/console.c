/* console.c - the web console: embedded assets, sign-in and sessions,
 * CSRF and Origin checks, and the console's JSON API (console.h). */
#include "serve/console.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "engine/pipeline.h"
#include "intel/intel.h"
#include "serve/api.h"
#include "serve/criteria.h"
#include "serve/playbook.h"
#include "serve/roles.h"
#include "serve/users.h"
#include "store/store.h"

#define MAX_HITS 1000000	/* findings one table query collects (ids and sort keys) */
#define MAX_PAGE 200		/* rows per page */
#define MAX_Q 256		/* free-text bytes */
#define MAX_DAYS 366		/* chart width */
#define DAY_MS 86400000LL

/* serve/assets.S: the files of web/, each followed by a NUL */
extern const char mm_asset_index[], mm_asset_index_end[];
extern const char mm_asset_js[], mm_asset_js_end[];
extern const char mm_asset_css[], mm_asset_css_end[];

static const struct {
	const char *path, *ctype;
	const char *p, *end;
} ASSETS[] = {
	{"/console/app.js", "text/javascript; charset=utf-8", mm_asset_js, mm_asset_js_end},
	{"/console/app.css", "text/css; charset=utf-8", mm_asset_css, mm_asset_css_end},
};

struct mm_console {
	struct mm_users *users;
	struct mm_store *st;	/* the table's reads; mu guards it */
	pthread_mutex_t mu;
	struct mm_gdapi *api;
	char detector[64];
	int tls;
	const struct mm_pipeline_opts *lists;
	void (*status)(void *ctx, struct mm_buf *out);
	int (*retry)(void *ctx, long long id, struct mm_err *err);
	void *status_ctx;
};

int mm_console_open(struct mm_console **out, const struct mm_console_opts *o, struct mm_err *err)
{
	struct mm_console *c;
	int rc;
	*out = NULL;
	if (!(c = mm_calloc(1, sizeof(*c))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	c->api = o->api;
	c->tls = o->tls;
	c->lists = o->lists;
	c->status = o->status;
	c->retry = o->retry;
	c->status_ctx = o->status_ctx;
	snprintf(c->detector, sizeof(c->detector), "%s", o->detector_id ? o->detector_id : "");
	if ((rc = mm_users_open(&c->users, o->db_path, err)) ||
	    (rc = mm_store_open(&c->st, o->db_path, err))) {
		mm_console_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void mm_console_close(struct mm_console *c)
{
	if (!c)
		return;
	mm_users_close(c->users);
	mm_store_close(c->st);
	pthread_mutex_destroy(&c->mu);
	mm_free(c);
}

/* ---- cookies, CSRF, Origin ------------------------------------------ */

void mm_console_cookie(char *out, size_t cap, const char *token, int secure)
{
	snprintf(out, cap, "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s",
		 MM_CONSOLE_COOKIE, token ? token : "",
		 token ? (long long)(MM_USERS_IDLE_MS / 1000) : 0LL, secure ? "; Secure" : "");
}

int mm_console_cookie_token(const char *h, char *out, size_t cap)
{
	size_t nl = strlen(MM_CONSOLE_COOKIE), n;
	const char *p = h;
	if (cap)
		out[0] = '\0';
	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		n = strcspn(p, ";");
		if (n > nl && !strncmp(p, MM_CONSOLE_COOKIE, nl) && p[nl] == '=') {
			size_t vl = n - nl - 1;
			while (vl && (p[nl + 1 + vl - 1] == ' ' || p[nl + 1 + vl - 1] == '\t'))
				vl--;
			if (vl == 0 || vl >= cap)
				return 0;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return 1;
		}
		p += n;
	}
	return 0;
}

static int safe_method(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD");
}

int mm_console_csrf_ok(const struct mm_http_req *rq, const char *want)
{
	const char *got = mm_http_header(rq, "X-CSRF-Token");
	size_t n = strlen(want);
	if (safe_method(rq->method))
		return 1;
	if (!got || strlen(got) != n || n == 0)
		return 0;
	return CRYPTO_memcmp(got, want, n) == 0;
}

int mm_console_origin_ok(const struct mm_http_req *rq, int tls)
{
	const char *origin = mm_http_header(rq, "Origin"), *host = mm_http_header(rq, "Host");
	const char *scheme = tls ? "https://" : "http://";
	size_t sl = strlen(scheme);
	if (!origin)
		return 1;
	if (!host || strncasecmp(origin, scheme, sl))
		return 0;
	return strcasecmp(origin + sl, host) == 0;
}

/* ---- responses ---------------------------------------------------------- */

static void json_error(struct mm_http_resp *rs, int status, const char *msg)
{
	rs->status = status;
	rs->ctype = "application/json";
	mm_buf_reset(&rs->body);
	mm_buf_addz(&rs->body, "{\"message\":");
	mm_buf_json_strz(&rs->body, msg);
	mm_buf_addc(&rs->body, '}');
}

/* 403 for a role below need; 0 (nothing written) when the role may. */
static int forbidden(struct mm_http_resp *rs, enum mm_access role, enum mm_access need,
		     const char *what)
{
	char msg[256];
	if (role >= need)
		return 0;
	snprintf(msg, sizeof(msg), "forbidden: %s needs the %s role; you are %s", what,
		 mm_access_name(need), mm_access_name(role));
	json_error(rs, 403, msg);
	return 1;
}

static void common_headers(struct mm_http_resp *rs)
{
	mm_http_set_header(rs, "X-Content-Type-Options", "nosniff");
	mm_http_set_header(rs, "Cache-Control", "no-store");
	mm_http_set_header(rs, "Referrer-Policy", "no-referrer");
}

static void asset(struct mm_http_resp *rs, const char *ctype, const char *p, const char *end)
{
	rs->status = 200;
	rs->ctype = ctype;
	mm_buf_add(&rs->body, p, (size_t)(end - p));
	mm_http_set_header(rs, "X-Frame-Options", "DENY");
	mm_http_set_header(rs, "Content-Security-Policy",
			   "default-src 'none'; script-src 'self'; style-src 'self'; "
			   "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
			   "frame-ancestors 'none'; base-uri 'none'");
}

/* ---- request helpers ------------------------------------------------------ */

/* mm_api_get_str, with "" when the member is absent */
static int get_str(const struct mm_json_val *o, const char *key, char *out, size_t cap)
{
	out[0] = '\0';
	return mm_api_get_str(o, key, out, cap);
}

static long long get_num(const struct mm_json_val *o, const char *key, long long dflt)
{
	struct mm_json_val v;
	int64_t i;
	if (mm_json_get(o, key, &v) != 1 || v.type != MM_JSON_NUMBER || mm_json_int(&v, &i))
		return dflt;
	return i;
}

/* ---- sign-in ------------------------------------------------------------------ */

static void signin(struct mm_console *c, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	struct mm_json_val req;
	char user[MM_USERS_NAME_MAX + 2], pw[MM_USERS_PW_MAX + 2], token[MM_USERS_TOKEN_HEX + 1];
	char csrf[MM_USERS_TOKEN_HEX + 1], cookie[256];
	struct mm_err err;
	int64_t retry = 0;
	int rc;

	mm_err_clear(&err);
	if (mm_api_body(rq, &req) || get_str(&req, "user", user, sizeof(user)) != 1 ||
	    get_str(&req, "password", pw, sizeof(pw)) != 1)
		return json_error(rs, 400, "send {\"user\": ..., \"password\": ...}");
	rc = mm_users_signin(c->users, user, pw, strlen(pw), mm_now_ms(), token, &retry, &err);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc == MM_EBUSY) {
		char s[32];
		snprintf(s, sizeof(s), "%lld", (long long)((retry + 999) / 1000));
		mm_http_set_header(rs, "Retry-After", s);
		return json_error(rs, 429, err.msg);
	}
	if (rc == MM_EINVAL)
		return json_error(rs, 401, err.msg);
	if (rc)
		return json_error(rs, 500, err.msg);
	mm_users_csrf(token, csrf);
	mm_console_cookie(cookie, sizeof(cookie), token, c->tls);
	mm_http_set_header(rs, "Set-Cookie", cookie);
	OPENSSL_cleanse(token, sizeof(token));
	mm_buf_addz(&rs->body, "{\"user\":");
	mm_buf_json_strz(&rs->body, user);
	mm_buf_addz(&rs->body, ",\"csrf\":");
	mm_buf_json_strz(&rs->body, csrf);
	mm_buf_addz(&rs->body, ",\"detectorId\":");
	mm_buf_json_strz(&rs->body, c->detector);
	rc = mm_users_role(c->users, user, &err);
	mm_buf_addz(&rs->body, ",\"role\":");
	mm_buf_json_strz(&rs->body, mm_access_name(rc > 0 ? (enum mm_access)rc : MM_ACCESS_NONE));
	mm_buf_addc(&rs->body, '}');
}

/* ---- the findings table ------------------------------------------------------ */

struct hit {
	char id[72];
	double sev;
	int64_t last;
	uint64_t count;
};

struct table {
	struct mm_criteria *crit;
	const char *q, *resource;
	struct hit *h;
	size_t n, cap;
	int oom, toomany;
	unsigned long long bands[4];
};

static int band(double sev)
{
	return sev >= 9 ? 3 : sev >= 7 ? 2 : sev >= 4 ? 1 : 0;
}

static int table_row(void *ctx, const struct mm_finding_row *row)
{
	struct table *t = ctx;
	size_t jl = strlen(row->json);
	if (mm_criteria_match(t->crit, row->json, jl) != 1)
		return 0;
	if (t->q[0] && !strcasestr(row->json, t->q))
		return 0;
	if (t->resource[0] && (!row->resource || !strcasestr(row->resource, t->resource)))
		return 0;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;
		struct hit *nh;
		if (nc > MAX_HITS) {
			t->toomany = 1;
			return 1;
		}
		if (!(nh = mm_realloc(t->h, nc * sizeof(*nh)))) {
			t->oom = 1;
			return 1;
		}
		t->h = nh;
		t->cap = nc;
	}
	snprintf(t->h[t->n].id, sizeof(t->h[0].id), "%s", row->id);
	t->h[t->n].sev = row->severity;
	t->h[t->n].last = row->last_seen_ms;
	t->h[t->n].count = row->count;
	t->bands[band(row->severity)]++;
	t->n++;
	return 0;
}

/* ctx: 0 lastSeen, 1 severity, 2 count; each descending, then lastSeen, id */
static int hit_cmp(const void *x, const void *y, void *ctx)
{
	const struct hit *a = x, *b = y;
	int r = 0, sort_key = *(const int *)ctx;
	if (sort_key == 1)
		r = (a->sev < b->sev) - (a->sev > b->sev);
	else if (sort_key == 2)
		r = (a->count < b->count) - (a->count > b->count);
	if (!r)
		r = (a->last < b->last) - (a->last > b->last);
	return r ? r : strcmp(a->id, b->id);
}

/* Append a JSON member "key": the string at path in the finding, or "". */
static void member(struct mm_buf *b, const char *key, const struct mm_json_val *f, const char *path)
{
	struct mm_json_val v;
	char tmp[512];
	size_t len = 0;
	mm_buf_printf(b, ",\"%s\":", key);
	if (mm_json_path(f, path, &v) == 1 && v.type == MM_JSON_STRING && v.n - 2 < sizeof(tmp) &&
	    !mm_json_unescape(v.p + 1, v.n - 2, tmp, &len)) {
		mm_buf_json_str(b, tmp, len);
		return;
	}
	mm_buf_addz(b, "\"\"");
}

static int page_row(void *ctx, const struct mm_finding_row *row)
{
	struct mm_buf *b = ctx;
	struct mm_json_val f;
	size_t used;
	char iso[40];
	if (mm_json_value(row->json, strlen(row->json), &f, &used) || f.type != MM_JSON_OBJECT)
		return 0;
	mm_buf_addz(b, "{\"id\":");
	mm_buf_json_strz(b, row->id);
	mm_buf_addz(b, ",\"type\":");
	mm_buf_json_strz(b, row->type);
	mm_buf_printf(b, ",\"severity\":%g,\"count\":%llu,\"archived\":%s", row->severity,
		      (unsigned long long)row->count, row->archived ? "true" : "false");
	mm_buf_addz(b, ",\"resource\":");
	mm_buf_json_strz(b, row->resource ? row->resource : "");
	mm_buf_addz(b, ",\"lastSeen\":");
	mm_buf_json_strz(b, mm_time_format_iso(row->last_seen_ms, iso));
	member(b, "title", &f, "title");
	member(b, "accountId", &f, "accountId");
	member(b, "region", &f, "region");
	member(b, "resourceType", &f, "resource.resourceType");
	member(b, "resourceRole", &f, "service.resourceRole");
	mm_buf_addc(b, '}');
	return 1;
}

static void findings(struct mm_console *c, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	struct mm_json_val req, cv;
	struct table t;
	struct mm_finding_filter flt;
	struct mm_err err;
	char q[MAX_Q + 1], res[MAX_Q + 1], sort[16], order[8];
	long long off, lim, days;
	unsigned long long *chart = NULL;
	int64_t maxday = 0;
	size_t i, end;
	int rc, desc, key;

	mm_err_clear(&err);
	memset(&t, 0, sizeof(t));
	if (mm_api_body(rq, &req))
		return json_error(rs, 400, "the request body is not a JSON object");
	if (get_str(&req, "q", q, sizeof(q)) < 0)
		return json_error(rs, 400, "q: the free text is at most 256 bytes");
	if (get_str(&req, "resource", res, sizeof(res)) < 0)
		return json_error(rs, 400, "resource: at most 256 bytes");
	if (get_str(&req, "sort", sort, sizeof(sort)) < 0 ||
	    get_str(&req, "order", order, sizeof(order)) < 0)
		return json_error(rs, 400, "sort is lastSeen, severity or count; order asc or desc");
	off = get_num(&req, "offset", 0);
	lim = get_num(&req, "limit", 50);
	days = get_num(&req, "days", 30);
	if (off < 0 || lim < 1 || lim > MAX_PAGE || days < 1 || days > MAX_DAYS)
		return json_error(rs, 400, "offset >= 0, limit 1..200, days 1..366");
	if (mm_json_get(&req, "findingCriteria", &cv) == 1 && cv.type == MM_JSON_OBJECT)
		rc = mm_criteria_compile(cv.p, cv.n, &t.crit, &err);
	else
		rc = mm_criteria_compile("{}", 2, &t.crit, &err);
	if (rc)
		return json_error(rs, 400, err.msg);
	t.q = q;
	t.resource = res;
	memset(&flt, 0, sizeof(flt));
	flt.include_archived = 1;	/* the criteria say (service.archived) */
	pthread_mutex_lock(&c->mu);
	rc = mm_store_findings(c->st, &flt, table_row, &t, &err);
	if (rc >= 0 && !t.oom && !t.toomany) {
		key = !strcmp(sort, "severity") ? 1 : !strcmp(sort, "count") ? 2 : 0;
		desc = strcmp(order, "asc") != 0;
		if (t.n > 1 && (key || !desc))	/* the store's order is lastSeen descending */
			qsort_r(t.h, t.n, sizeof(*t.h), hit_cmp, &key);
		if (!desc)
			for (i = 0; i < t.n / 2; i++) {
				struct hit tmp = t.h[i];
				t.h[i] = t.h[t.n - 1 - i];
				t.h[t.n - 1 - i] = tmp;
			}
		mm_buf_printf(&rs->body, "{\"total\":%zu,\"counts\":{\"low\":%llu,\"medium\":%llu,"
					 "\"high\":%llu,\"critical\":%llu},\"rows\":[",
			      t.n, t.bands[0], t.bands[1], t.bands[2], t.bands[3]);
		end = (size_t)off + (size_t)lim < t.n ? (size_t)off + (size_t)lim : t.n;
		for (i = (size_t)off; i < end; i++) {
			if (i > (size_t)off)
				mm_buf_addc(&rs->body, ',');
			if (mm_store_finding_by_id(c->st, t.h[i].id, page_row, &rs->body, &err) != 1)
				mm_buf_addz(&rs->body, "null");	/* deleted meanwhile */
		}
		mm_buf_addz(&rs->body, "],\"chart\":{\"days\":[");
		/* by day of eventLastSeen, the days up to the newest match */
		for (i = 0; i < t.n; i++)
			if (t.h[i].last / DAY_MS > maxday)
				maxday = t.h[i].last / DAY_MS;
		if (t.n && (chart = mm_calloc((size_t)days * 4, sizeof(*chart)))) {
			for (i = 0; i < t.n; i++) {
				int64_t d = t.h[i].last / DAY_MS - (maxday - days + 1);
				if (d >= 0 && d < days)
					chart[d * 4 + band(t.h[i].sev)]++;
			}
			for (i = 0; i < (size_t)days; i++) {
				char iso[40];
				mm_time_format_iso((maxday - days + 1 + (int64_t)i) * DAY_MS, iso);
				iso[10] = '\0';
				mm_buf_printf(&rs->body,
					      "%s{\"day\":\"%s\",\"low\":%llu,\"medium\":%llu,"
					      "\"high\":%llu,\"critical\":%llu}",
					      i ? "," : "", iso, chart[i * 4], chart[i * 4 + 1],
					      chart[i * 4 + 2], chart[i * 4 + 3]);
			}
		}
		mm_buf_addz(&rs->body, "]}}");
	}
	pthread_mutex_unlock(&c->mu);
	mm_free(chart);
	mm_free(t.h);
	mm_criteria_free(t.crit);
	if (t.toomany)
		return json_error(rs, 400, "more than 1000000 findings match: narrow the filter");
	if (t.oom)
		return json_error(rs, 500, "out of memory");
	if (rc < 0)
		return json_error(rs, 500, err.msg);
}

/* ---- the other console endpoints ------------------------------------------------ */

static void playbook(const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	char type[256], role[32];
	if (!mm_http_query(rq, "type", type, sizeof(type)))
		type[0] = '\0';
	if (!mm_http_query(rq, "role", role, sizeof(role)))
		role[0] = '\0';
	mm_playbook_json(mm_playbook_for(type, role[0] ? role : NULL), &rs->body);
}

static void lists(struct mm_console *c, struct mm_http_resp *rs)
{
	const struct mm_pipeline_opts *p = c->lists;
	const char *dir = mm_data_dir();
	int i;
	mm_buf_printf(&rs->body, "{\"bundled\":%s,\"dataDir\":",
		      p && p->no_default_lists ? "false" : "true");
	mm_buf_json_strz(&rs->body, dir ? dir : "");
	mm_buf_addz(&rs->body, ",\"lists\":[");
	for (i = 0; p && i < p->nlists; i++) {
		mm_buf_addz(&rs->body, i ? ",{\"category\":" : "{\"category\":");
		mm_buf_json_strz(&rs->body, mm_intel_cat_name(p->lists[i].cat));
		mm_buf_addz(&rs->body, ",\"name\":");
		mm_buf_json_strz(&rs->body, p->lists[i].name ? p->lists[i].name : "");
		mm_buf_addz(&rs->body, ",\"path\":");
		mm_buf_json_strz(&rs->body, p->lists[i].path ? p->lists[i].path : "");
		mm_buf_addc(&rs->body, '}');
	}
	mm_buf_addz(&rs->body, "],\"trusted\":[");
	for (i = 0; p && i < p->ntrusted; i++) {
		if (i)
			mm_buf_addc(&rs->body, ',');
		mm_buf_json_strz(&rs->body, p->trusted[i]);
	}
	mm_buf_addz(&rs->body, "]}");
}

/* GuardDuty's operations under /console/api/gd/detector/...: the same
 * request with the prefix cut, answered by the API's router. */
static void gd(struct mm_console *c, const struct mm_http_req *rq, struct mm_http_resp *rs,
	       enum mm_access role)
{
	struct mm_http_req r = *rq;
	const char *what = "";
	enum mm_access need;
	r.path = rq->path + strlen("/console/api/gd");
	if (strncmp(r.path, "/detector", 9) || (r.path[9] && r.path[9] != '/'))
		return json_error(rs, 404, "no such operation");
	need = mm_access_gd(r.method, r.path, &what);	/* sets what: before its use */
	if (forbidden(rs, role, need, what))
		return;
	mm_api_route(c->api, &r, rs);
}

/* The System page: what serve.c reports (counters, queues, dead letters). */
static void system_page(struct mm_console *c, struct mm_http_resp *rs)
{
	if (!c->status)
		return json_error(rs, 404, "no system status in this server");
	c->status(c->status_ctx, &rs->body);
}

/* POST {"id": N}: queue dead letter N again. */
static void retry(struct mm_console *c, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	struct mm_json_val req;
	struct mm_err err;
	long long id;
	int rc;
	mm_err_clear(&err);
	if (mm_api_body(rq, &req) || (id = get_num(&req, "id", -1)) < 0)
		return json_error(rs, 400, "send {\"id\": N}, the dead letter's id");
	if (!c->retry)
		return json_error(rs, 404, "no notification sinks in this server");
	rc = c->retry(c->status_ctx, id, &err);
	if (rc < 0)
		return json_error(rs, 500, err.msg);
	if (rc == 0)
		return json_error(rs, 404, "no dead letter with that id");
	mm_buf_printf(&rs->body, "{\"id\":%lld,\"status\":\"pending\"}", id);
}

static void api(struct mm_console *c, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	const char *path = rq->path + strlen("/console/api");
	char token[MM_USERS_TOKEN_HEX + 2], user[MM_USERS_NAME_MAX + 1], csrf[MM_USERS_TOKEN_HEX + 1];
	struct mm_err err;
	int get = !strcmp(rq->method, "GET"), post = !strcmp(rq->method, "POST"), rc;
	enum mm_access role;

	mm_err_clear(&err);
	rs->ctype = "application/json";
	common_headers(rs);
	if (!mm_console_origin_ok(rq, c->tls))
		return json_error(rs, 403, "cross-origin request refused");
	if (!strcmp(path, "/signin")) {
		if (!post)
			return json_error(rs, 405, "POST {\"user\", \"password\"}");
		return signin(c, rq, rs);
	}
	if (!mm_console_cookie_token(mm_http_header(rq, "Cookie"), token, sizeof(token)))
		return json_error(rs, 401, "sign in first");
	rc = mm_users_session(c->users, token, mm_now_ms(), user, sizeof(user), &err);
	if (rc < 0)
		return json_error(rs, 500, err.msg);
	if (rc == 0)
		return json_error(rs, 401, "the session has ended: sign in again");
	/* read at every request: a role change applies at once */
	if ((rc = mm_users_role(c->users, user, &err)) < 0)
		return json_error(rs, 500, err.msg);
	if (rc == 0)
		return json_error(rs, 401, "the user no longer exists: sign in again");
	role = (enum mm_access)rc;
	mm_users_csrf(token, csrf);
	if (!mm_console_csrf_ok(rq, csrf))
		return json_error(rs, 403, "missing or wrong X-CSRF-Token header");
	if (!strcmp(path, "/session") && get) {
		mm_buf_addz(&rs->body, "{\"user\":");
		mm_buf_json_strz(&rs->body, user);
		mm_buf_addz(&rs->body, ",\"csrf\":");
		mm_buf_json_strz(&rs->body, csrf);
		mm_buf_addz(&rs->body, ",\"detectorId\":");
		mm_buf_json_strz(&rs->body, c->detector);
		mm_buf_addz(&rs->body, ",\"role\":");
		mm_buf_json_strz(&rs->body, mm_access_name(role));
		mm_buf_addc(&rs->body, '}');
		return;
	}
	if (!strcmp(path, "/signout") && post) {
		char cookie[256];
		if (mm_users_signout(c->users, token, &err))
			return json_error(rs, 500, err.msg);
		mm_console_cookie(cookie, sizeof(cookie), NULL, c->tls);
		mm_http_set_header(rs, "Set-Cookie", cookie);
		mm_buf_addz(&rs->body, "{}");
		return;
	}
	if (!strcmp(path, "/findings") && post)
		return findings(c, rq, rs);
	if (!strcmp(path, "/playbook") && get)
		return playbook(rq, rs);
	if (!strcmp(path, "/lists") && get)
		return lists(c, rs);
	if (!strcmp(path, "/system") && get)
		return system_page(c, rs);
	if (!strcmp(path, "/deadletters/retry") && post) {
		if (forbidden(rs, role, MM_ACCESS_ANALYST, "retrying a dead letter"))
			return;
		return retry(c, rq, rs);
	}
	if (!strncmp(path, "/gd/", 4))
		return gd(c, rq, rs, role);
	json_error(rs, 404, "no such console operation");
}

int mm_console_handle(struct mm_console *c, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	const char *p = rq->path;
	size_t i;
	if (strcmp(p, "/") && strcmp(p, "/console") && strncmp(p, "/console/", 9))
		return 0;
	if (!strncmp(p, "/console/api/", 13)) {
		api(c, rq, rs);
		return 1;
	}
	if (!safe_method(rq->method)) {
		json_error(rs, 405, "the console's pages are read with GET");
		return 1;
	}
	common_headers(rs);
	for (i = 0; i < sizeof(ASSETS) / sizeof(ASSETS[0]); i++)
		if (!strcmp(p, ASSETS[i].path)) {
			asset(rs, ASSETS[i].ctype, ASSETS[i].p, ASSETS[i].end);
			return 1;
		}
	/* every other console path is the page (its script routes by #hash) */
	if (!strcmp(p, "/") || !strcmp(p, "/console") || !strcmp(p, "/console/")) {
		asset(rs, "text/html; charset=utf-8", mm_asset_index, mm_asset_index_end);
		return 1;
	}
	rs->status = 404;
	rs->ctype = "text/plain";
	mm_buf_addz(&rs->body, "not found\n");
	return 1;
}
