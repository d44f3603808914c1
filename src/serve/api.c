/* api.c - GuardDuty's REST API: routing, request JSON in, response JSON
 * out. Shapes follow botocore's guardduty 2017-11-28 model. */
#include "serve/api.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "core/common.h"
#include "intel/listfmt.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "finding/output.h"
#include "serve/criteria.h"
#include "serve/sample.h"
#include "serve/sdb.h"
#include "store/store.h"

#define MAX_IDS 50		/* findingIds per Get/Archive call (GuardDuty's limit) */
#define MAX_RESULTS 50		/* ListFindings page (GuardDuty: 1..50, default 50) */
#define ID_MAX 300

struct mm_gdapi {
	struct mm_store *st;	/* the API's own connection; mu guards it */
	pthread_mutex_t mu;
	struct mm_sdb *sdb;
	char *db_path;
	mm_api_auth_fn auth;
	void *auth_ctx;
	atomic_ullong ok, client_err, denied, server_err;
	int pushdown;		/* 0: every query reads every finding (tests compare) */
	pthread_mutex_t idem_mu;	/* a clientToken's lookup, create and record */
};

void mm_api_error(struct mm_http_resp *rs, int status, const char *type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rs->status = status;
	rs->ctype = "application/json";
	mm_buf_reset(&rs->body);
	mm_buf_addz(&rs->body, "{\"message\":");
	mm_buf_json_strz(&rs->body, msg);
	mm_buf_addz(&rs->body, ",\"type\":");
	mm_buf_json_strz(&rs->body, type);
	mm_buf_addz(&rs->body, ",\"__type\":");
	mm_buf_json_strz(&rs->body, type);
	mm_buf_addc(&rs->body, '}');
	mm_http_set_header(rs, "x-amzn-ErrorType", type);
}

#define BAD(rs, ...) mm_api_error(rs, 400, "BadRequestException", __VA_ARGS__)

int mm_api_open(struct mm_gdapi **out, const struct mm_api_opts *o, struct mm_err *err)
{
	struct mm_gdapi *a;
	int rc;
	*out = NULL;
	if (!(a = mm_calloc(1, sizeof(*a))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	if ((rc = mm_store_open(&a->st, o->db_path, err))) {
		mm_free(a);
		return rc;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->idem_mu, NULL);
	a->pushdown = 1;
	a->sdb = o->sdb;
	if (!(a->db_path = mm_strdup(o->db_path))) {
		mm_store_close(a->st);
		mm_free(a);
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	}
	a->auth = o->auth;
	a->auth_ctx = o->auth_ctx;
	*out = a;
	return 0;
}

void mm_api_close(struct mm_gdapi *a)
{
	if (!a)
		return;
	mm_store_close(a->st);
	mm_free(a->db_path);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->idem_mu);
	mm_free(a);
}

void mm_api_set_pushdown(struct mm_gdapi *a, int on)
{
	a->pushdown = on;
}

void mm_api_counts(const struct mm_gdapi *a, unsigned long long *ok, unsigned long long *client_err,
		   unsigned long long *denied, unsigned long long *server_err)
{
	*ok = atomic_load(&a->ok);
	*client_err = atomic_load(&a->client_err);
	*denied = atomic_load(&a->denied);
	*server_err = atomic_load(&a->server_err);
}

/* ---- request JSON helpers ------------------------------------------ */

int mm_api_body(const struct mm_http_req *rq, struct mm_json_val *v)
{
	size_t used;
	static const char empty[] = "{}";
	if (!rq->body_len)
		return mm_json_value(empty, 2, v, &used);
	if (mm_json_value(rq->body, rq->body_len, v, &used) || v->type != MM_JSON_OBJECT)
		return MM_EPARSE;
	return 0;
}

int mm_api_get_str(const struct mm_json_val *o, const char *key, char *out, size_t cap)
{
	struct mm_json_val v;
	size_t len;
	if (mm_json_get(o, key, &v) != 1 || v.type == MM_JSON_NULL)
		return 0;
	if (v.type != MM_JSON_STRING || v.n - 2 >= cap ||
	    mm_json_unescape(v.p + 1, v.n - 2, out, &len) || memchr(out, 0, len))
		return MM_EINVAL;
	out[len] = '\0';
	return 1;
}

static int get_int(const struct mm_json_val *o, const char *key, long long *out)
{
	struct mm_json_val v;
	int64_t i;
	if (mm_json_get(o, key, &v) != 1 || v.type == MM_JSON_NULL)
		return 0;
	if (v.type != MM_JSON_NUMBER || mm_json_int(&v, &i))
		return MM_EINVAL;
	*out = i;
	return 1;
}

/* findingIds: up to MAX_IDS strings. Count, or MM_EINVAL. */
static int get_ids(const struct mm_json_val *o, char ids[][ID_MAX], int *n)
{
	struct mm_json_val v, e;
	struct mm_json_iter it;
	size_t len;
	int rc;
	*n = 0;
	if (mm_json_get(o, "findingIds", &v) != 1 || v.type != MM_JSON_ARRAY)
		return MM_EINVAL;
	mm_json_iter_init(&it, &v);
	while ((rc = mm_json_iter_next(&it, NULL, &e)) == 1) {
		if (*n >= MAX_IDS || e.type != MM_JSON_STRING || e.n - 2 >= ID_MAX ||
		    mm_json_unescape(e.p + 1, e.n - 2, ids[*n], &len) || memchr(ids[*n], 0, len))
			return MM_EINVAL;
		ids[*n][len] = '\0';
		(*n)++;
	}
	return rc < 0 ? MM_EINVAL : 0;
}

/* The findingCriteria member compiled (absent = match all). */
static int get_criteria(const struct mm_json_val *o, struct mm_criteria **c, struct mm_err *err)
{
	struct mm_json_val v;
	if (mm_json_get(o, "findingCriteria", &v) != 1 || v.type == MM_JSON_NULL)
		return mm_criteria_compile("{}", 2, c, err);
	return mm_criteria_compile(v.p, v.n, c, err);
}

/* ---- finding walks ---------------------------------------------------- */

struct hit {
	char id[72];
	double num;
	char str[128];
	int kind;
};

struct collect {
	const struct mm_criteria *crit;
	const char *sort_attr;	/* NULL: the store's order */
	struct hit *h;
	size_t n, cap;
	int oom;
};

static int collect_row(void *ctx, const struct mm_finding_row *row)
{
	struct collect *c = ctx;
	size_t jl = strlen(row->json);
	if (mm_criteria_match(c->crit, row->json, jl) != 1)
		return 0;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 256;
		struct hit *nh = mm_realloc(c->h, nc * sizeof(*nh));
		if (!nh) {
			c->oom = 1;
			return 1;
		}
		c->h = nh;
		c->cap = nc;
	}
	memset(&c->h[c->n], 0, sizeof(c->h[0]));
	snprintf(c->h[c->n].id, sizeof(c->h[0].id), "%s", row->id);
	if (c->sort_attr)
		c->h[c->n].kind = mm_criteria_sort_key(c->sort_attr, row->json, jl, &c->h[c->n].num,
							c->h[c->n].str, sizeof(c->h[0].str));
	c->n++;
	return 0;
}

/* Absent values sort last (among themselves by id); numbers before
 * text; ties by id, in the direction of the order (so one index on
 * (key, id) serves both directions: docs/api.md). */
static int hit_cmp(const void *x, const void *y, void *desc)
{
	const struct hit *a = x, *b = y;
	int r;
	if (a->kind <= 0 || b->kind <= 0) {
		if ((a->kind <= 0) != (b->kind <= 0))
			return (a->kind <= 0) - (b->kind <= 0);
		r = 0;
	} else if (a->kind != b->kind) {
		r = a->kind - b->kind;
	} else if (a->kind == 1) {
		r = (a->num > b->num) - (a->num < b->num);
	} else {
		r = strcmp(a->str, b->str);
	}
	if (!r)
		r = strcmp(a->id, b->id);
	return *(const int *)desc ? -r : r;
}

/* ---- pushing findingCriteria down to the store's indexes --------------- */

/* The criteria fields the store indexes (store.h, schema 3). */
static const struct {
	const char *path;
	enum mm_fcol col;
} PUSHED[] = {
	{"type", MM_FCOL_TYPE},
	{"severity", MM_FCOL_SEVERITY},
	{"updatedAt", MM_FCOL_UPDATED},
	{"createdAt", MM_FCOL_CREATED},
	{"service.archived", MM_FCOL_ARCHIVED},
	{"accountId", MM_FCOL_ACCOUNT},
	{"region", MM_FCOL_REGION},
	{"resource.instanceDetails.instanceId", MM_FCOL_INSTANCE},
	{"resource.accessKeyDetails.accessKeyId", MM_FCOL_AKID},
};

#define ISO_MAX_MS 253402300799999LL	/* 9999-12-31T23:59:59.999Z */

/* The SQL side of one request: conditions that select a superset of the
 * matching findings (exactly them when exact), and the criteria the row
 * matcher then checks on each row's JSON. */
struct plan {
	struct mm_fcond c[MM_CRIT_MAX_CONDS];
	char canon[MM_CRIT_MAX_CONDS][MM_FQ_MAX_VALS][24];
	char tbound[MM_CRIT_MAX_CONDS][32];
	int nc;
	int exact;	/* every condition pushed down exactly: no row matcher */
	struct mm_fquery q;
};

static int crit_match(void *ctx, const char *json, size_t n)
{
	return mm_criteria_match(ctx, json, n);
}

/* A value the matcher reads as a number ("8", "8.0", " 8"): 1 with *v. */
static int num_val(const char *s, double *v)
{
	char *e;
	if (!s[0])
		return 0;
	*v = strtod(s, &e);
	return *e == '\0';
}

/* Push one condition of a text column. The matcher compares text, and a
 * numeric value also equals any text of the same number; mamori writes
 * these fields as plain words and 12-digit account ids, so a numeric
 * value is looked up as written, without leading zeros and padded to 12
 * digits (the row matcher then decides). 1 pushed, 0 not. */
static int push_text(struct plan *p, const struct mm_crit_cond *d, struct mm_fcond *f, int *exact)
{
	int k;
	double v;
	for (k = 0; k < d->nvals; k++) {
		if (!num_val(d->vals[k], &v)) {
			f->txt[f->n++] = d->vals[k];
			continue;
		}
		*exact = 0;
		if (d->op == MM_CRIT_NEQ)
			continue;	/* NOT IN fewer values: still a superset */
		if (!(v >= 0 && v < 1e15 && v == (double)(long long)v))
			return 0;
		f->txt[f->n++] = d->vals[k];
		snprintf(p->canon[p->nc][k * 2], 24, "%lld", (long long)v);
		f->txt[f->n++] = p->canon[p->nc][k * 2];
		snprintf(p->canon[p->nc][k * 2 + 1], 24, "%012lld", (long long)v);
		f->txt[f->n++] = p->canon[p->nc][k * 2 + 1];
	}
	return 1;
}

/* Build p from criteria c (pushdown 0: nothing pushed, every row
 * matched). */
static void plan_make(struct plan *p, const struct mm_criteria *c, int pushdown)
{
	size_t i, n = mm_criteria_count(c), k;
	memset(p, 0, sizeof(*p));
	p->exact = 1;
	for (i = 0; i < n; i++) {
		struct mm_crit_cond d;
		struct mm_fcond *f = &p->c[p->nc];
		int pushed = 0, ex = 1, j;
		double v;
		mm_criteria_cond(c, i, &d);
		for (k = 0; pushdown && k < MM_ARRAY_LEN(PUSHED) && strcmp(PUSHED[k].path, d.path); k++)
			;
		if (!pushdown || k == MM_ARRAY_LEN(PUSHED)) {
			p->exact = 0;
			continue;
		}
		memset(f, 0, sizeof(*f));
		f->col = PUSHED[k].col;
		switch (f->col) {
		case MM_FCOL_SEVERITY:
			/* a numeric leaf equals a value only as a number */
			if (d.op == MM_CRIT_EQ || d.op == MM_CRIT_NEQ) {
				f->op = d.op == MM_CRIT_EQ ? MM_FOP_IN : MM_FOP_NOTIN;
				for (j = 0; j < d.nvals; j++)
					if (num_val(d.vals[j], &v) && isfinite(v))
						f->num[f->n++] = v;
				pushed = 1;
			} else if (d.op >= MM_CRIT_GT && d.op <= MM_CRIT_LTE) {
				f->op = (enum mm_fop)(MM_FOP_GT + (d.op - MM_CRIT_GT));
				f->num[0] = d.num;
				f->n = 1;
				pushed = 1;
			}
			break;
		case MM_FCOL_ARCHIVED:
			/* a boolean leaf is the text "true" or "false", never a number */
			if (d.op == MM_CRIT_EQ || d.op == MM_CRIT_NEQ) {
				f->op = d.op == MM_CRIT_EQ ? MM_FOP_IN : MM_FOP_NOTIN;
				for (j = 0; j < d.nvals; j++)
					if (!strcmp(d.vals[j], "true") || !strcmp(d.vals[j], "false"))
						f->num[f->n++] = d.vals[j][0] == 't';
				pushed = 1;
			}
			break;
		case MM_FCOL_UPDATED:
		case MM_FCOL_CREATED:
			/* ISO 8601 UTC text sorts as time: bound by the second
			 * (superset), the row matcher compares milliseconds */
			if (d.op >= MM_CRIT_GT && d.op <= MM_CRIT_LTE && d.num >= 0 &&
			    d.num <= (double)ISO_MAX_MS) {
				char t[MM_TIME_STRLEN];
				mm_time_format_iso((int64_t)d.num, t);
				if (d.op == MM_CRIT_GT || d.op == MM_CRIT_GTE) {
					f->op = MM_FOP_GTE;
					snprintf(p->tbound[p->nc], sizeof(p->tbound[0]), "%.19s", t);
				} else {
					f->op = MM_FOP_LT;
					snprintf(p->tbound[p->nc], sizeof(p->tbound[0]), "%.19s~", t);
				}
				f->txt[0] = p->tbound[p->nc];
				f->n = 1;
				pushed = 1;
				ex = 0;
			}
			break;
		default:	/* text columns */
			if (d.op == MM_CRIT_EQ || d.op == MM_CRIT_NEQ) {
				f->op = d.op == MM_CRIT_EQ ? MM_FOP_IN : MM_FOP_NOTIN;
				pushed = push_text(p, &d, f, &ex);
			}
			break;
		}
		if (!pushed) {
			p->exact = 0;
			continue;
		}
		if (!ex)
			p->exact = 0;
		p->nc++;
	}
	p->q.c = p->c;
	p->q.nc = p->nc;
	p->q.sort = -1;
	if (n && !p->exact) {
		p->q.match = crit_match;
		p->q.match_ctx = (void *)c;
	}
}

static int fq_collect_row(void *ctx, const struct mm_fq_row *r)
{
	struct mm_finding_row row;
	memset(&row, 0, sizeof(row));
	row.id = r->id;
	row.json = r->json;
	return collect_row(ctx, &row);
}

/* Walk every listed finding (archived too) through c: with pushdown, only
 * the rows the criteria select (c->crit is then already applied). */
static int walk_findings(struct mm_gdapi *a, struct collect *c, struct mm_err *err)
{
	struct mm_finding_filter flt;
	int rc;
	if (a->pushdown) {
		struct plan *p = mm_malloc(sizeof(*p));
		const struct mm_criteria *crit = c->crit;
		if (!p)
			return mm_err_set(err, MM_ENOMEM, "out of memory");
		plan_make(p, crit, 1);
		p->q.want_json = c->sort_attr != NULL;
		c->crit = NULL;
		pthread_mutex_lock(&a->mu);
		rc = mm_store_fquery(a->st, &p->q, fq_collect_row, c, err);
		pthread_mutex_unlock(&a->mu);
		c->crit = crit;
		mm_free(p);
	} else {
		memset(&flt, 0, sizeof(flt));
		flt.include_archived = 1;
		pthread_mutex_lock(&a->mu);
		rc = mm_store_findings(a->st, &flt, collect_row, c, err);
		pthread_mutex_unlock(&a->mu);
	}
	if (c->oom)
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	return rc < 0 ? rc : 0;
}

/* ---- operations ------------------------------------------------------ */

/* A keyset page: the rows after the cursor, in the order, up to want. */
struct kpage {
	char (*id)[72];
	double *num;
	char (*txt)[40];
	int64_t *ms;
	int *phase;
	int has_key_phase;	/* the phase being read */
	int n, want;
};

static int kpage_row(void *ctx, const struct mm_fq_row *r)
{
	struct kpage *k = ctx;
	if (k->n >= k->want)
		return 1;
	snprintf(k->id[k->n], sizeof(k->id[0]), "%s", r->id);
	k->num[k->n] = r->key_num;
	snprintf(k->txt[k->n], sizeof(k->txt[0]), "%s", r->key_txt ? r->key_txt : "");
	k->ms[k->n] = r->last_seen_ms;
	k->phase[k->n] = k->has_key_phase;
	k->n++;
	return 0;
}

static int token_id_ok(const char *s, size_t n)
{
	size_t i;
	if (!n || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_", s[i]))
			return 0;
	return 1;
}

/* ListFindings on the indexes: sort is -1 (the store's order) or a
 * sortable column. The nextToken is a keyset cursor "k<phase>:<id>:<key>"
 * (key: last_seen ms, severity or ISO time), so a page costs the same
 * wherever it starts and findings stored meanwhile do not shift it. */
static void list_keyset(struct mm_gdapi *a, struct mm_criteria *crit, int sort, int desc,
			long long max, const char *token, struct mm_http_resp *rs)
{
	struct plan *p = NULL;
	struct kpage k;
	struct mm_err err;
	char idbuf[72], keybuf[48];
	int i, rc = 0, phase = 0;

	mm_err_clear(&err);
	memset(&k, 0, sizeof(k));
	p = mm_calloc(1, sizeof(*p));
	k.id = mm_malloc((size_t)(max + 1) * sizeof(*k.id));
	k.num = mm_malloc((size_t)(max + 1) * sizeof(*k.num));
	k.txt = mm_malloc((size_t)(max + 1) * sizeof(*k.txt));
	k.ms = mm_malloc((size_t)(max + 1) * sizeof(*k.ms));
	k.phase = mm_malloc((size_t)(max + 1) * sizeof(*k.phase));
	if (!p || !k.id || !k.num || !k.txt || !k.ms || !k.phase) {
		mm_api_error(rs, 500, "InternalServerErrorException", "out of memory");
		goto out;
	}
	plan_make(p, crit, a->pushdown);
	p->q.sort = sort;
	p->q.desc = desc;
	if (token[0]) {
		const char *c1 = strchr(token, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *e;
		if (token[0] != 'k' || (token[1] != '0' && token[1] != '1') || token + 2 != c1 ||
		    !c2 || !token_id_ok(c1 + 1, (size_t)(c2 - c1 - 1)) ||
		    strlen(c2 + 1) >= sizeof(keybuf) || (sort < 0 && token[1] != '0')) {
			BAD(rs, "nextToken is not one this server gave");
			goto out;
		}
		phase = token[1] - '0';
		snprintf(idbuf, sizeof(idbuf), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
		snprintf(keybuf, sizeof(keybuf), "%s", c2 + 1);
		p->q.after_id = idbuf;
		if (sort < 0) {
			p->q.after_ms = strtoll(keybuf, &e, 10);
			if (*e || !keybuf[0]) {
				BAD(rs, "nextToken is not one this server gave");
				goto out;
			}
		} else if (sort == MM_FCOL_SEVERITY && phase == 0) {
			p->q.after_num = strtod(keybuf, &e);
			if (*e || !keybuf[0]) {
				BAD(rs, "nextToken is not one this server gave");
				goto out;
			}
		} else {
			p->q.after_txt = keybuf;
		}
	}
	k.want = (int)max + 1;	/* one more: is there a next page? */
	pthread_mutex_lock(&a->mu);
	for (; phase < (sort < 0 ? 1 : 2) && k.n < k.want && rc >= 0; phase++) {
		p->q.phase = phase;
		p->q.limit = k.want - k.n;
		k.has_key_phase = phase;
		rc = mm_store_fquery(a->st, &p->q, kpage_row, &k, &err);
		p->q.after_id = NULL;	/* the next phase starts at its top */
	}
	pthread_mutex_unlock(&a->mu);
	if (rc < 0) {
		mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
		goto out;
	}
	mm_buf_addz(&rs->body, "{\"findingIds\":[");
	for (i = 0; i < k.n && i < max; i++) {
		if (i)
			mm_buf_addc(&rs->body, ',');
		mm_buf_json_strz(&rs->body, k.id[i]);
	}
	mm_buf_addc(&rs->body, ']');
	if (k.n > max) {
		char tok[160];
		i = (int)max - 1;
		if (sort < 0)
			snprintf(tok, sizeof(tok), "k%d:%s:%lld", k.phase[i], k.id[i],
				 (long long)k.ms[i]);
		else if (sort == MM_FCOL_SEVERITY)
			snprintf(tok, sizeof(tok), "k%d:%s:%.17g", k.phase[i], k.id[i], k.num[i]);
		else
			snprintf(tok, sizeof(tok), "k%d:%s:%s", k.phase[i], k.id[i], k.txt[i]);
		mm_buf_addz(&rs->body, ",\"nextToken\":");
		mm_buf_json_strz(&rs->body, tok);
	}
	mm_buf_addc(&rs->body, '}');
out:
	mm_free(p);
	mm_free(k.id);
	mm_free(k.num);
	mm_free(k.txt);
	mm_free(k.ms);
	mm_free(k.phase);
}

static void list_findings(struct mm_gdapi *a, const struct mm_json_val *req, struct mm_http_resp *rs)
{
	struct collect c;
	struct mm_criteria *crit = NULL;
	struct mm_json_val sort;
	struct mm_err err;
	char attr[MM_CRIT_MAX_PATH] = "", order[8] = "", token[160] = "";
	long long max = MAX_RESULTS;
	size_t start = 0, i, end;
	int rc, scol = -1;

	mm_err_clear(&err);
	memset(&c, 0, sizeof(c));
	if ((rc = get_int(req, "maxResults", &max)) < 0 || max < 1 || max > MAX_RESULTS)
		return BAD(rs, "maxResults must be a number from 1 to %d", MAX_RESULTS);
	if (mm_api_get_str(req, "nextToken", token, sizeof(token)) < 0)
		return BAD(rs, "nextToken is not one this server gave");
	if (mm_json_get(req, "sortCriteria", &sort) == 1 && sort.type == MM_JSON_OBJECT) {
		if (mm_api_get_str(&sort, "attributeName", attr, sizeof(attr)) < 0 ||
		    mm_api_get_str(&sort, "orderBy", order, sizeof(order)) < 0 ||
		    (order[0] && strcmp(order, "ASC") && strcmp(order, "DESC")))
			return BAD(rs, "sortCriteria: attributeName is a field path, orderBy ASC or DESC");
	}
	if (get_criteria(req, &crit, &err))
		return BAD(rs, "%s", err.msg);
	if (!strcmp(attr, "severity"))
		scol = MM_FCOL_SEVERITY;
	else if (!strcmp(attr, "updatedAt"))
		scol = MM_FCOL_UPDATED;
	else if (!strcmp(attr, "createdAt"))
		scol = MM_FCOL_CREATED;
	/* the indexes serve the store's order and the sortable columns; a
	 * token of the other kind (digits: an offset) means the scan */
	if (a->pushdown && (!attr[0] || scol >= 0) && !(token[0] >= '0' && token[0] <= '9')) {
		list_keyset(a, crit, scol, !strcmp(order, "DESC"), max, token, rs);
		mm_criteria_free(crit);
		return;
	}
	if (token[0]) {
		char *e;
		unsigned long long v = strtoull(token, &e, 10);
		if (*e || token[0] < '0' || token[0] > '9') {
			mm_criteria_free(crit);
			return BAD(rs, "nextToken is not one this server gave");
		}
		start = (size_t)v;
	}
	c.crit = crit;
	c.sort_attr = attr[0] ? attr : NULL;
	if ((rc = walk_findings(a, &c, &err))) {
		mm_criteria_free(crit);
		mm_free(c.h);
		return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
	}
	if (c.sort_attr && c.n > 1) {
		int desc = !strcmp(order, "DESC");
		qsort_r(c.h, c.n, sizeof(*c.h), hit_cmp, &desc);
	}
	end = start + (size_t)max < c.n ? start + (size_t)max : c.n;
	mm_buf_addz(&rs->body, "{\"findingIds\":[");
	for (i = start; i < end; i++) {
		if (i > start)
			mm_buf_addc(&rs->body, ',');
		mm_buf_json_strz(&rs->body, c.h[i].id);
	}
	mm_buf_addc(&rs->body, ']');
	if (end < c.n)
		mm_buf_printf(&rs->body, ",\"nextToken\":\"%zu\"", end);
	mm_buf_addc(&rs->body, '}');
	mm_criteria_free(crit);
	mm_free(c.h);
}

struct getctx {
	struct mm_buf *out;
	int n;
	const char *want;
};

static int get_row(void *ctx, const struct mm_finding_row *row)
{
	struct getctx *g = ctx;
	if (strcmp(row->id, g->want)) /* an id prefix matched: not this one */
		return 0;
	if (g->n++)
		mm_buf_addc(g->out, ',');
	mm_buf_addz(g->out, row->json);
	return 0;
}

static void get_findings(struct mm_gdapi *a, const struct mm_json_val *req, struct mm_http_resp *rs)
{
	char (*mine)[ID_MAX];
	struct getctx g;
	struct mm_err err;
	int n, i, rc = 0;

	if (!(mine = mm_malloc(MAX_IDS * sizeof(*mine))))
		return mm_api_error(rs, 500, "InternalServerErrorException", "out of memory");
	if (get_ids(req, mine, &n)) {
		mm_free(mine);
		return BAD(rs, "findingIds must be a list of 1 to %d finding ids", MAX_IDS);
	}
	mm_err_clear(&err);
	memset(&g, 0, sizeof(g));
	g.out = &rs->body;
	mm_buf_addz(&rs->body, "{\"findings\":[");
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < n && rc >= 0; i++) {
		int k, dup = 0;
		for (k = 0; k < i; k++)
			dup |= !strcmp(mine[k], mine[i]);
		if (dup)
			continue;
		g.want = mine[i];
		rc = mm_store_finding_by_id(a->st, mine[i], get_row, &g, &err);
	}
	pthread_mutex_unlock(&a->mu);
	mm_free(mine);
	if (rc < 0)
		return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
	mm_buf_addz(&rs->body, "]}");
}

/* GetFindingsStatistics' groupBy values, their store grouping and the
 * response member. */
static const struct {
	const char *name;
	enum mm_fgroup by;
	const char *member;
} GROUPS[] = {
	{"ACCOUNT", MM_FG_ACCOUNT, "groupedByAccount"},
	{"DATE", MM_FG_DATE, "groupedByDate"},
	{"FINDING_TYPE", MM_FG_TYPE, "groupedByFindingType"},
	{"RESOURCE", MM_FG_RESOURCE, "groupedByResource"},
	{"SEVERITY", MM_FG_SEVERITY, "groupedBySeverity"},
};

struct gout {
	struct mm_buf *b;
	enum mm_fgroup by;
	int n;
	int legacy;	/* countBySeverity map */
};

/* A timestamp as the REST-JSON protocol writes it: epoch seconds. */
static void put_ts(struct mm_buf *b, const char *key, int64_t ms)
{
	mm_buf_printf(b, "\"%s\":%lld.%03d", key, (long long)(ms / 1000), (int)(ms % 1000));
}

/* GuardDuty's resourceType for a resource key (mm_finding_resource_key):
 * instances and their interfaces are "Instance", S3 "S3Bucket", the rest
 * access keys. */
static const char *resource_type(const char *key)
{
	if (!strncmp(key, "i-", 2) || !strncmp(key, "eni-", 4) || !strncmp(key, "ip:", 3))
		return "Instance";
	return "AccessKey";
}

static int group_json(void *ctx, const struct mm_fq_group *g)
{
	struct gout *o = ctx;
	struct mm_buf *b = o->b;
	if (o->n++)
		mm_buf_addc(b, ',');
	if (o->legacy) {
		mm_buf_printf(b, "\"%.1f\":%lld", g->severity, g->count);
		return 0;
	}
	mm_buf_addc(b, '{');
	switch (o->by) {
	case MM_FG_ACCOUNT:
		mm_buf_addz(b, "\"accountId\":");
		mm_buf_json_strz(b, g->key);
		break;
	case MM_FG_DATE: {
		int64_t day = 0;
		char iso[40];
		snprintf(iso, sizeof(iso), "%sT00:00:00.000Z", g->key);
		if (mm_time_parse_iso(iso, strlen(iso), &day))
			day = 0;
		put_ts(b, "date", day);
		mm_buf_printf(b, ",\"severity\":%.10g", g->severity);
		break;
	}
	case MM_FG_TYPE:
		mm_buf_addz(b, "\"findingType\":");
		mm_buf_json_strz(b, g->key);
		break;
	case MM_FG_RESOURCE:
		mm_buf_addz(b, "\"accountId\":");
		mm_buf_json_strz(b, g->account);
		mm_buf_addz(b, ",\"resourceId\":");
		mm_buf_json_strz(b, g->key);
		mm_buf_addz(b, ",\"resourceType\":");
		mm_buf_json_strz(b, resource_type(g->key));
		break;
	case MM_FG_SEVERITY:
		mm_buf_printf(b, "\"severity\":%.10g", g->severity);
		break;
	}
	mm_buf_addc(b, ',');
	put_ts(b, "lastGeneratedAt", g->last_ms);
	mm_buf_printf(b, ",\"totalFindings\":%lld}", g->count);
	return 0;
}

static void statistics(struct mm_gdapi *a, const struct mm_json_val *req, struct mm_http_resp *rs)
{
	struct mm_criteria *crit = NULL;
	struct plan *p = NULL;
	struct mm_err err;
	struct mm_json_val types, e;
	struct mm_json_iter it;
	struct gout o;
	char group[16] = "", order[8] = "";
	long long max = 25;
	size_t g = 0;
	int rc, ntypes = 0;

	mm_err_clear(&err);
	memset(&o, 0, sizeof(o));
	if (mm_json_get(req, "findingStatisticTypes", &types) == 1 && types.type != MM_JSON_NULL) {
		char t[32];
		size_t len;
		if (types.type != MM_JSON_ARRAY)
			return BAD(rs, "findingStatisticTypes must be a list of COUNT_BY_SEVERITY");
		mm_json_iter_init(&it, &types);
		while ((rc = mm_json_iter_next(&it, NULL, &e)) == 1) {
			if (e.type != MM_JSON_STRING || e.n - 2 >= sizeof(t) ||
			    mm_json_unescape(e.p + 1, e.n - 2, t, &len) || len != 17 ||
			    memcmp(t, "COUNT_BY_SEVERITY", 17) || ++ntypes > 10)
				return BAD(rs, "findingStatisticTypes must be a list of COUNT_BY_SEVERITY");
		}
		if (rc < 0)
			return BAD(rs, "findingStatisticTypes must be a list of COUNT_BY_SEVERITY");
	}
	if ((rc = mm_api_get_str(req, "groupBy", group, sizeof(group))) < 0)
		return BAD(rs, "groupBy must be ACCOUNT, DATE, FINDING_TYPE, RESOURCE or SEVERITY");
	if (rc == 1) {
		for (g = 0; g < MM_ARRAY_LEN(GROUPS) && strcmp(GROUPS[g].name, group); g++)
			;
		if (g == MM_ARRAY_LEN(GROUPS))
			return BAD(rs, "groupBy must be ACCOUNT, DATE, FINDING_TYPE, RESOURCE or "
				       "SEVERITY");
		if (ntypes)
			return BAD(rs, "give either findingStatisticTypes or groupBy, not both");
	}
	if (mm_api_get_str(req, "orderBy", order, sizeof(order)) < 0 ||
	    (order[0] && strcmp(order, "ASC") && strcmp(order, "DESC")))
		return BAD(rs, "orderBy must be ASC or DESC");
	if ((rc = get_int(req, "maxResults", &max)) < 0 || max < 1 || max > 100)
		return BAD(rs, "maxResults must be a number from 1 to 100");
	if (!group[0] && (order[0] || rc == 1))
		return BAD(rs, "orderBy and maxResults go with groupBy only");
	if (get_criteria(req, &crit, &err))
		return BAD(rs, "%s", err.msg);
	if (!(p = mm_malloc(sizeof(*p)))) {
		mm_criteria_free(crit);
		return mm_api_error(rs, 500, "InternalServerErrorException", "out of memory");
	}
	plan_make(p, crit, a->pushdown);
	o.b = &rs->body;
	if (group[0]) {
		o.by = GROUPS[g].by;
		p->q.limit = (long)max;
		mm_buf_printf(&rs->body, "{\"findingStatistics\":{\"%s\":[", GROUPS[g].member);
	} else {
		o.by = MM_FG_SEVERITY;
		o.legacy = 1;
		mm_buf_addz(&rs->body, "{\"findingStatistics\":{\"countBySeverity\":{");
	}
	pthread_mutex_lock(&a->mu);
	rc = mm_store_fgroup(a->st, &p->q, o.by, strcmp(order, "ASC") != 0, group_json, &o, &err);
	pthread_mutex_unlock(&a->mu);
	mm_free(p);
	mm_criteria_free(crit);
	if (rc < 0)
		return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
	mm_buf_addz(&rs->body, group[0] ? "]}}" : "}}}");
}

static void archive(struct mm_gdapi *a, const struct mm_json_val *req, struct mm_http_resp *rs,
		    int on)
{
	char (*ids)[ID_MAX];
	struct mm_err err;
	int n, i, rc = 0;
	int64_t now = mm_now_ms();

	if (!(ids = mm_malloc(MAX_IDS * sizeof(*ids))))
		return mm_api_error(rs, 500, "InternalServerErrorException", "out of memory");
	if (get_ids(req, ids, &n) || n == 0) {
		mm_free(ids);
		return BAD(rs, "findingIds must be a list of 1 to %d finding ids", MAX_IDS);
	}
	mm_err_clear(&err);
	for (i = 0; i < n && rc >= 0; i++)
		rc = mm_sdb_archive(a->sdb, ids[i], on, now, &err);
	mm_free(ids);
	if (rc < 0)
		return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
	mm_buf_addz(&rs->body, "{}");
}

static void feedback(struct mm_gdapi *a, const struct mm_json_val *req, struct mm_http_resp *rs)
{
	char (*ids)[ID_MAX];
	char fb[16] = "", comments[2048] = "";
	struct mm_err err;
	int n, i, rc = 0;
	int64_t now = mm_now_ms();

	if (mm_api_get_str(req, "feedback", fb, sizeof(fb)) != 1 ||
	    (strcmp(fb, "USEFUL") && strcmp(fb, "NOT_USEFUL")))
		return BAD(rs, "feedback must be USEFUL or NOT_USEFUL");
	if (mm_api_get_str(req, "comments", comments, sizeof(comments)) < 0)
		return BAD(rs, "comments: a string of at most %zu bytes", sizeof(comments) - 1);
	if (!(ids = mm_malloc(MAX_IDS * sizeof(*ids))))
		return mm_api_error(rs, 500, "InternalServerErrorException", "out of memory");
	if (get_ids(req, ids, &n) || n == 0) {
		mm_free(ids);
		return BAD(rs, "findingIds must be a list of 1 to %d finding ids", MAX_IDS);
	}
	mm_err_clear(&err);
	for (i = 0; i < n && rc >= 0; i++)
		rc = mm_sdb_feedback(a->sdb, ids[i], fb, comments[0] ? comments : NULL, now, &err);
	mm_free(ids);
	if (rc < 0)
		return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
	mm_buf_addz(&rs->body, "{}");
}

static void list_detectors(struct mm_gdapi *a, struct mm_http_resp *rs)
{
	mm_buf_printf(&rs->body, "{\"detectorIds\":[\"%s\"]}", mm_sdb_detector_id(a->sdb));
}

static void get_detector(struct mm_gdapi *a, struct mm_http_resp *rs)
{
	char created[32], now[32];
	mm_time_format_iso(mm_sdb_created_ms(a->sdb), created);
	mm_time_format_iso(mm_now_ms(), now);
	mm_buf_printf(&rs->body,
		      "{\"createdAt\":\"%s\",\"updatedAt\":\"%s\",\"findingPublishingFrequency\":"
		      "\"FIFTEEN_MINUTES\",\"serviceRole\":\"\",\"status\":\"ENABLED\","
		      "\"dataSources\":{\"cloudTrail\":{\"status\":\"ENABLED\"},"
		      "\"dnsLogs\":{\"status\":\"ENABLED\"},\"flowLogs\":{\"status\":\"ENABLED\"},"
		      "\"s3Logs\":{\"status\":\"DISABLED\"}},\"tags\":{}}",
		      created, now);
}

/* CreateSampleFindings: one sample per type asked (every type mamori
 * knows when none is), stored as new findings. */
static void samples(struct mm_gdapi *a, const struct mm_json_val *req, struct mm_http_resp *rs)
{
	const struct mm_ftype *all = mm_ftype_all(), *t;
	struct mm_json_val v, e;
	struct mm_json_iter it;
	struct mm_finding *f;
	struct mm_buf js;
	struct mm_err err;
	char name[128];
	size_t len;
	int rc = 0, given = 0;

	if (!(f = mm_malloc(sizeof(*f))))
		return mm_api_error(rs, 500, "InternalServerErrorException", "out of memory");
	mm_err_clear(&err);
	mm_buf_init(&js, 1 << 20);
	if (mm_json_get(req, "findingTypes", &v) == 1 && v.type == MM_JSON_ARRAY) {
		/* check every name first: an unknown type makes nothing */
		mm_json_iter_init(&it, &v);
		while ((rc = mm_json_iter_next(&it, NULL, &e)) == 1) {
			if (e.type != MM_JSON_STRING || e.n - 2 >= sizeof(name) ||
			    mm_json_unescape(e.p + 1, e.n - 2, name, &len)) {
				rc = -1;
				break;
			}
			name[len] = '\0';
			if (!mm_ftype_get(name)) {
				mm_free(f);
				mm_buf_free(&js);
				return BAD(rs, "unknown finding type: %s", name);
			}
			given++;
		}
		if (rc < 0) {
			mm_free(f);
			mm_buf_free(&js);
			return BAD(rs, "findingTypes must be a list of finding type names");
		}
	}
	pthread_mutex_lock(&a->mu);
	if (given) {
		mm_json_iter_init(&it, &v);
		while (rc >= 0 && mm_json_iter_next(&it, NULL, &e) == 1) {
			mm_json_unescape(e.p + 1, e.n - 2, name, &len);
			name[len] = '\0';
			mm_sample_finding(mm_ftype_get(name), mm_now_ms(), f);
			mm_buf_reset(&js);
			rc = mm_finding_to_json(f, NULL, &js);
			if (!rc)
				rc = mm_store_finding_put(a->st, f, js.p, &err);
		}
	} else {
		for (t = all; t->type && rc >= 0; t++) {
			mm_sample_finding(t, mm_now_ms(), f);
			mm_buf_reset(&js);
			rc = mm_finding_to_json(f, NULL, &js);
			if (!rc)
				rc = mm_store_finding_put(a->st, f, js.p, &err);
		}
	}
	pthread_mutex_unlock(&a->mu);
	mm_free(f);
	mm_buf_free(&js);
	if (rc < 0)
		return mm_api_error(rs, 500, "InternalServerErrorException", "%s",
				    err.msg[0] ? err.msg : "rendering a sample finding failed");
	mm_buf_addz(&rs->body, "{}");
}

/* ---- filters ------------------------------------------------------------ */

/* GuardDuty: 3-64 characters, letters, digits, '-', '_', '.'. */
static int filter_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 3 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* The raw JSON of member key, copied (NULL when absent). */
static char *raw_member(const struct mm_json_val *o, const char *key, enum mm_json_type want)
{
	struct mm_json_val v;
	char *s;
	if (mm_json_get(o, key, &v) != 1 || v.type != want || !(s = mm_malloc(v.n + 1)))
		return NULL;
	memcpy(s, v.p, v.n);
	s[v.n] = '\0';
	return s;
}

static void filter_put(struct mm_gdapi *a, const struct mm_json_val *req, const char *name_in_path,
		       struct mm_http_resp *rs)
{
	struct mm_filter_row f;
	struct mm_criteria *crit = NULL;
	struct mm_err err;
	char name[80] = "", action[16] = "", desc[520];
	long long rank = 0;
	char *criteria = NULL, *tags = NULL;
	int create = name_in_path == NULL, rc, hasdesc;

	mm_err_clear(&err);
	memset(&f, 0, sizeof(f));
	if (create) {
		if (mm_api_get_str(req, "name", name, sizeof(name)) != 1 || !filter_name_ok(name))
			return BAD(rs, "name: 3 to 64 letters, digits, '-', '_' or '.'");
	} else {
		snprintf(name, sizeof(name), "%s", name_in_path);
	}
	if ((rc = mm_api_get_str(req, "action", action, sizeof(action))) < 0 ||
	    (rc == 1 && strcmp(action, "NOOP") && strcmp(action, "ARCHIVE")))
		return BAD(rs, "action must be NOOP or ARCHIVE");
	if ((hasdesc = mm_api_get_str(req, "description", desc, sizeof(desc))) < 0)
		return BAD(rs, "description: a string of at most 512 characters");
	if ((rc = get_int(req, "rank", &rank)) < 0 || (rc == 1 && (rank < 1 || rank > 100)))
		return BAD(rs, "rank must be a number from 1 to 100");
	criteria = raw_member(req, "findingCriteria", MM_JSON_OBJECT);
	if (create && !criteria)
		return BAD(rs, "findingCriteria is required");
	if (criteria && mm_criteria_compile(criteria, strlen(criteria), &crit, &err)) {
		mm_free(criteria);
		return BAD(rs, "%s", err.msg);
	}
	mm_criteria_free(crit);
	tags = raw_member(req, "tags", MM_JSON_OBJECT);
	f.name = name;
	f.description = hasdesc == 1 ? desc : NULL;
	f.action = action[0] ? action : create ? "NOOP" : NULL;
	f.rank = (long)rank;
	f.criteria = criteria;
	f.tags = tags;
	rc = mm_sdb_filter_put(a->sdb, create, &f, &err);
	mm_free(criteria);
	mm_free(tags);
	if (rc == MM_EEXISTS || rc == MM_ENOTFOUND)
		return BAD(rs, "%s", err.msg);
	if (rc)
		return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
	mm_buf_addz(&rs->body, "{\"name\":");
	mm_buf_json_strz(&rs->body, name);
	mm_buf_addc(&rs->body, '}');
}

static int filter_json(void *ctx, const struct mm_filter_row *r)
{
	struct mm_buf *b = ctx;
	mm_buf_addz(b, "{\"name\":");
	mm_buf_json_strz(b, r->name);
	if (r->description) {
		mm_buf_addz(b, ",\"description\":");
		mm_buf_json_strz(b, r->description);
	}
	mm_buf_addz(b, ",\"action\":");
	mm_buf_json_strz(b, r->action);
	mm_buf_printf(b, ",\"rank\":%ld,\"findingCriteria\":%s,\"tags\":%s}", r->rank, r->criteria,
		      r->tags ? r->tags : "{}");
	return 0;
}

/* One page of a List* answer: names after skip, at most max of them. */
struct page {
	struct mm_buf *b;
	long skip, max, seen, emitted;
};

static void page_add(struct page *n, const char *name)
{
	if (n->seen++ < n->skip || n->emitted >= n->max)
		return;
	if (n->emitted++)
		mm_buf_addc(n->b, ',');
	mm_buf_json_strz(n->b, name);
}

/* maxResults (1..50) and nextToken from the query; writes the open of
 * the answer ({"KEY":[). */
static void page_begin(struct page *n, const struct mm_http_req *rq, struct mm_http_resp *rs,
		       const char *key)
{
	char v[32];
	n->b = &rs->body;
	n->skip = n->seen = n->emitted = 0;
	n->max = 50;
	if (mm_http_query(rq, "maxResults", v, sizeof(v)) && atol(v) >= 1 && atol(v) <= 50)
		n->max = atol(v);
	if (mm_http_query(rq, "nextToken", v, sizeof(v)) && atol(v) > 0)
		n->skip = atol(v);
	mm_buf_printf(&rs->body, "{\"%s\":[", key);
}

/* ]} with a nextToken when more are left. */
static void page_end(struct page *n)
{
	mm_buf_addc(n->b, ']');
	if (n->seen > n->skip + n->emitted)
		mm_buf_printf(n->b, ",\"nextToken\":\"%ld\"", n->skip + n->emitted);
	mm_buf_addc(n->b, '}');
}

static int filter_name_cb(void *ctx, const struct mm_filter_row *r)
{
	page_add(ctx, r->name);
	return 0;
}

static void filter_list(struct mm_gdapi *a, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	struct page n;
	struct mm_err err;
	mm_err_clear(&err);
	page_begin(&n, rq, rs, "filterNames");
	if (mm_sdb_filter_each(a->sdb, filter_name_cb, &n, &err))
		return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
	page_end(&n);
}

/* ---- clientToken idempotency --------------------------------------------- */

#define TOKEN_MAX 64	/* ClientToken: 0 to 64 characters */

/* Before a Create* call: -1 answered here (the recorded answer to this
 * token, a token reused for another request, or an error), 0 no token
 * (go on), 1 a new token (go on, then idem_end; idem_mu is held so a
 * retry racing the first call waits for its answer). tok and hash are
 * the caller's (TOKEN_MAX + 1 and 65 bytes). */
static int idem_begin(struct mm_gdapi *a, const char *op, const struct mm_http_req *rq,
		      const struct mm_json_val *req, struct mm_http_resp *rs, char *tok, char *hash)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0, i;
	char was[80];
	struct mm_buf prev;
	struct mm_err err;
	int rc;

	rc = mm_api_get_str(req, "clientToken", tok, TOKEN_MAX + 1);
	if (rc < 0) {
		BAD(rs, "clientToken: a string of at most %d characters", TOKEN_MAX);
		return -1;
	}
	if (rc == 0 || !tok[0])
		return 0;
	/* the request as sent (a retry sends the same bytes) */
	if (!EVP_Digest(rq->body_len ? rq->body : "", rq->body_len, md, &mdn, EVP_sha256(), NULL)) {
		mm_api_error(rs, 500, "InternalServerErrorException", "hashing the request failed");
		return -1;
	}
	for (i = 0; i < mdn && i < 32; i++)
		snprintf(hash + 2 * i, 3, "%02x", md[i]);
	mm_err_clear(&err);
	mm_buf_init(&prev, 1 << 20);
	pthread_mutex_lock(&a->idem_mu);
	rc = mm_sdb_idem_get(a->sdb, op, tok, was, sizeof(was), &prev, &err);
	if (rc == 0) {
		mm_buf_free(&prev);
		return 1;
	}
	pthread_mutex_unlock(&a->idem_mu);
	if (rc < 0)
		mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
	else if (strcmp(was, hash))
		BAD(rs, "The request is rejected because the clientToken %s was already used with a "
			"different request.", tok);
	else {
		mm_buf_reset(&rs->body);
		mm_buf_add(&rs->body, prev.p ? prev.p : "{}", prev.p ? prev.len : 2);
	}
	mm_buf_free(&prev);
	return -1;
}

/* After the Create* call idem_begin let through: record a success. */
static void idem_end(struct mm_gdapi *a, const char *op, const char *tok, const char *hash,
		     struct mm_http_resp *rs)
{
	struct mm_err err;
	mm_err_clear(&err);
	if (rs->status == 200 && rs->body.p &&
	    mm_sdb_idem_put(a->sdb, op, tok, hash, rs->body.p, &err))
		fprintf(stderr, "mamori serve: %s: not recorded for its clientToken: %s\n", op,
			err.msg);
	pthread_mutex_unlock(&a->idem_mu);
}

/* Run a Create* operation under its clientToken. */
#define IDEMPOTENT(a, op, rq, req, rs, call)                                                \
	do {                                                                                \
		char tok_[TOKEN_MAX + 1], hash_[65];                                        \
		int held_ = idem_begin(a, op, rq, req, rs, tok_, hash_);                    \
		if (held_ < 0)                                                              \
			return;                                                             \
		call;                                                                       \
		if (held_)                                                                  \
			idem_end(a, op, tok_, hash_, rs);                                   \
		return;                                                                     \
	} while (0)

/* ---- threat intel sets and IP sets -------------------------------------- */

/* What the two families differ in: path word, id member names. */
struct setkind {
	const char *kind;	/* sdb kind */
	const char *path;	/* URI segment */
	const char *id_key;	/* CreateX response member */
	const char *ids_key;	/* ListX response member */
};
static const struct setkind THREAT = {"threatintel", "threatintelset", "threatIntelSetId",
				      "threatIntelSetIds"};
static const struct setkind IPSET = {"ipset", "ipset", "ipSetId", "ipSetIds"};

static const char *const FORMATS[] = {"TXT", "STIX", "OTX_CSV", "ALIEN_VAULT", "PROOF_POINT",
				      "FIRE_EYE"};

static int format_ok(const char *f)
{
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(FORMATS); i++)
		if (!strcmp(f, FORMATS[i]))
			return 1;
	return 0;
}

/* Read the set's location, convert it to one indicator a line, write it
 * beside the database. 0 with *file set (caller frees), or an error in
 * err (the set is then stored with status ERROR and that reason). */
static int materialise(struct mm_gdapi *a, const char *id, const char *format,
		       const char *location, char **file, struct mm_err *err)
{
	struct mm_buf in, out;
	char dir[4096], path[4200];
	uint64_t count = 0;
	int rc;
	FILE *f;

	*file = NULL;
	mm_buf_init(&in, MM_LIST_MAX_BYTES);
	mm_buf_init(&out, MM_LIST_MAX_BYTES);
	if ((rc = mm_list_fetch(location, &in, err)))
		goto out;
	if ((rc = mm_listfmt_to_txt(format, in.p ? in.p : "", in.len, &out, &count, err)))
		goto out;
	snprintf(dir, sizeof(dir), "%s.lists", a->db_path);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = mm_err_set(err, MM_EIO, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.txt", dir, id);
	if (!(f = fopen(path, "w")) || (out.len && fwrite(out.p, 1, out.len, f) != out.len) ||
	    fclose(f)) {
		rc = mm_err_set(err, MM_EIO, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (!(*file = mm_strdup(path)))
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
out:
	mm_buf_free(&in);
	mm_buf_free(&out);
	return rc;
}

struct setcopy {
	char name[304], format[16], location[2100], status[16], tags[4096];
	int found;
};

static int copy_set(void *ctx, const struct mm_set_row *r)
{
	struct setcopy *c = ctx;
	snprintf(c->name, sizeof(c->name), "%s", r->name);
	snprintf(c->format, sizeof(c->format), "%s", r->format);
	snprintf(c->location, sizeof(c->location), "%s", r->location);
	snprintf(c->status, sizeof(c->status), "%s", r->status);
	snprintf(c->tags, sizeof(c->tags), "%s", r->tags ? r->tags : "{}");
	c->found = 1;
	return 0;
}

/* Create (id NULL) or update set id of kind k from the request. */
static void set_put(struct mm_gdapi *a, const struct setkind *k, const struct mm_json_val *req,
		    const char *id_in, struct mm_http_resp *rs)
{
	struct setcopy cur;
	struct mm_set_row r;
	struct mm_err err, ferr;
	struct mm_json_val act;
	char id[40], *file = NULL, *tags = NULL;
	int create = id_in == NULL, activate, rc;

	mm_err_clear(&err);
	mm_err_clear(&ferr);
	memset(&cur, 0, sizeof(cur));
	if (create) {
		unsigned char rnd[16];
		int i;
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return mm_api_error(rs, 500, "InternalServerErrorException", "no randomness");
		for (i = 0; i < 16; i++)
			snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	} else {
		snprintf(id, sizeof(id), "%s", id_in);
		if ((rc = mm_sdb_set_get(a->sdb, k->kind, id, copy_set, &cur, &err)) < 0)
			return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
		if (!cur.found)
			return BAD(rs, "The request is rejected because the input %s is not owned by the "
				       "current account.", k->id_key);
	}
	if (mm_api_get_str(req, "name", cur.name, sizeof(cur.name)) < 0 || (create && !cur.name[0]) ||
	    strlen(cur.name) > 300)
		return BAD(rs, "name: a string of 1 to 300 characters");
	if (create && (mm_api_get_str(req, "format", cur.format, sizeof(cur.format)) != 1 ||
		       !format_ok(cur.format)))
		return BAD(rs, "format must be TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT or FIRE_EYE");
	if (mm_api_get_str(req, "location", cur.location, sizeof(cur.location)) < 0 ||
	    (create && !cur.location[0]))
		return BAD(rs, "location: a local path, file:// or http(s):// URL of the list");
	activate = mm_json_get(req, "activate", &act) == 1 ? act.type == MM_JSON_TRUE
		   : !strcmp(cur.status, "ACTIVE");
	if (create && mm_json_get(req, "activate", &act) != 1)
		return BAD(rs, "activate is required");
	if (create)
		tags = raw_member(req, "tags", MM_JSON_OBJECT);
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.kind = k->kind;
	r.name = cur.name;
	r.format = cur.format;
	r.location = cur.location;
	r.tags = tags ? tags : cur.tags[0] ? cur.tags : NULL;
	if (materialise(a, id, cur.format, cur.location, &file, &ferr)) {
		r.status = "ERROR";
		r.error = ferr.msg;
	} else {
		r.status = activate ? "ACTIVE" : "INACTIVE";
		r.file = file;
	}
	rc = mm_sdb_set_put(a->sdb, create, &r, &err);
	mm_free(file);
	mm_free(tags);
	if (rc == MM_EEXISTS)
		return BAD(rs, "%s", err.msg);
	if (rc)
		return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
	if (create) {
		mm_buf_printf(&rs->body, "{\"%s\":\"%s\"}", k->id_key, id);
		return;
	}
	mm_buf_addz(&rs->body, "{}");
}

static int set_json(void *ctx, const struct mm_set_row *r)
{
	struct mm_buf *b = ctx;
	mm_buf_addz(b, "{\"name\":");
	mm_buf_json_strz(b, r->name);
	mm_buf_addz(b, ",\"format\":");
	mm_buf_json_strz(b, r->format);
	mm_buf_addz(b, ",\"location\":");
	mm_buf_json_strz(b, r->location);
	mm_buf_addz(b, ",\"status\":");
	mm_buf_json_strz(b, r->status);
	mm_buf_printf(b, ",\"tags\":%s", r->tags ? r->tags : "{}");
	if (r->error) {
		/* not in GuardDuty's shape: says why a set is in ERROR */
		mm_buf_addz(b, ",\"mamoriError\":");
		mm_buf_json_strz(b, r->error);
	}
	mm_buf_addc(b, '}');
	return 0;
}

static int set_id_cb(void *ctx, const struct mm_set_row *r)
{
	page_add(ctx, r->id);
	return 0;
}

static void set_route(struct mm_gdapi *a, const struct setkind *k, const struct mm_http_req *rq,
		      const struct mm_json_val *req, const char *id, struct mm_http_resp *rs)
{
	struct mm_err err;
	int rc, get = !strcmp(rq->method, "GET"), post = !strcmp(rq->method, "POST"),
		del = !strcmp(rq->method, "DELETE");

	mm_err_clear(&err);
	if (!id && post)
		IDEMPOTENT(a, k == &IPSET ? "CreateIPSet" : "CreateThreatIntelSet", rq, req, rs,
			   set_put(a, k, req, NULL, rs));
	if (!id && get) {
		struct page n;
		page_begin(&n, rq, rs, k->ids_key);
		if (mm_sdb_set_each(a->sdb, k->kind, set_id_cb, &n, &err))
			return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
		page_end(&n);
		return;
	}
	if (id && get) {
		rc = mm_sdb_set_get(a->sdb, k->kind, id, set_json, &rs->body, &err);
		if (rc < 0)
			return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
		if (!rc)
			return BAD(rs, "The request is rejected because the input %s is not owned by the "
				       "current account.", k->id_key);
		return;
	}
	if (id && post)
		return set_put(a, k, req, id, rs);
	if (id && del) {
		rc = mm_sdb_set_del(a->sdb, k->kind, id, &err);
		if (rc < 0)
			return mm_api_error(rs, 500, "InternalServerErrorException", "%s", err.msg);
		if (!rc)
			return BAD(rs, "The request is rejected because the input %s is not owned by the "
				       "current account.", k->id_key);
		mm_buf_addz(&rs->body, "{}");
		return;
	}
	mm_api_error(rs, 404, "NotFoundException", "no such operation: %s %s", rq->method, rq->path);
}

/* ---- routing ------------------------------------------------------------ */

/* Split a raw path into at most 5 decoded segments. Count, or -1. */
static int segments(const char *path, char seg[5][ID_MAX])
{
	int n = 0;
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (n == 5 || len >= ID_MAX)
			return -1;
		memcpy(seg[n], p, len);
		seg[n][len] = '\0';
		if (mm_http_pct_decode(seg[n]))
			return -1;
		n++;
		p += len;
		while (*p == '/')
			p++;
	}
	return n;
}

void mm_api_route(struct mm_gdapi *a, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	char seg[5][ID_MAX];
	struct mm_json_val req;
	int n = segments(rq->path, seg);
	const char *m = rq->method;
	int get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), del = !strcmp(m, "DELETE");

	if (n < 1 || strcmp(seg[0], "detector"))
		return mm_api_error(rs, 404, "NotFoundException", "no such operation: %s %s", m,
				    rq->path);
	if (n == 1 && get)
		return list_detectors(a, rs);
	if (n == 1 && post)
		return BAD(rs, "this server has one detector, %s; it cannot create others",
			   mm_sdb_detector_id(a->sdb));
	if (strcmp(seg[1], mm_sdb_detector_id(a->sdb)))
		return BAD(rs, "The request is rejected because the input detectorId is not owned by "
			       "the current account.");
	if (mm_api_body(rq, &req))
		return BAD(rs, "the request body is not a JSON object");
	if (n == 2 && get)
		return get_detector(a, rs);
	if (n == 3 && !strcmp(seg[2], "findings") && post)
		return list_findings(a, &req, rs);
	if (n == 4 && !strcmp(seg[2], "findings") && post) {
		if (!strcmp(seg[3], "get"))
			return get_findings(a, &req, rs);
		if (!strcmp(seg[3], "statistics"))
			return statistics(a, &req, rs);
		if (!strcmp(seg[3], "archive"))
			return archive(a, &req, rs, 1);
		if (!strcmp(seg[3], "unarchive"))
			return archive(a, &req, rs, 0);
		if (!strcmp(seg[3], "feedback"))
			return feedback(a, &req, rs);
		if (!strcmp(seg[3], "create"))
			return samples(a, &req, rs);
	}
	if ((n == 3 || n == 4) && (!strcmp(seg[2], "threatintelset") || !strcmp(seg[2], "ipset")))
		return set_route(a, !strcmp(seg[2], "ipset") ? &IPSET : &THREAT, rq, &req,
				 n == 4 ? seg[3] : NULL, rs);
	if (n == 3 && !strcmp(seg[2], "filter")) {
		if (post)
			IDEMPOTENT(a, "CreateFilter", rq, &req, rs, filter_put(a, &req, NULL, rs));
		if (get)
			return filter_list(a, rq, rs);
	}
	if (n == 4 && !strcmp(seg[2], "filter")) {
		struct mm_err err;
		int rc;
		mm_err_clear(&err);
		if (get) {
			mm_buf_reset(&rs->body);
			rc = mm_sdb_filter_get(a->sdb, seg[3], filter_json, &rs->body, &err);
			if (rc == 0)
				return BAD(rs, "no filter named %s", seg[3]);
			if (rc < 0)
				return mm_api_error(rs, 500, "InternalServerErrorException", "%s",
						    err.msg);
			return;
		}
		if (post)
			return filter_put(a, &req, seg[3], rs);
		if (del) {
			rc = mm_sdb_filter_del(a->sdb, seg[3], &err);
			if (rc == 0)
				return BAD(rs, "no filter named %s", seg[3]);
			if (rc < 0)
				return mm_api_error(rs, 500, "InternalServerErrorException", "%s",
						    err.msg);
			mm_buf_addz(&rs->body, "{}");
			return;
		}
	}
	mm_api_error(rs, 404, "NotFoundException", "no such operation: %s %s", m, rq->path);
}

void mm_api_handle(void *api, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	struct mm_gdapi *a = api;
	char type[64], msg[256];

	int deny = a->auth(a->auth_ctx, rq, type, sizeof(type), msg, sizeof(msg));
	if (deny == 2) {
		mm_api_error(rs, 500, "InternalServerErrorException", "%s", msg);
		atomic_fetch_add(&a->server_err, 1);
		return;
	}
	if (deny) {
		mm_api_error(rs, 403, type, "%s", msg);
		atomic_fetch_add(&a->denied, 1);
		return;
	}
	mm_api_route(a, rq, rs);
	if (rs->status < 400)
		atomic_fetch_add(&a->ok, 1);
	else if (rs->status < 500)
		atomic_fetch_add(&a->client_err, 1);
	else
		atomic_fetch_add(&a->server_err, 1);
}
