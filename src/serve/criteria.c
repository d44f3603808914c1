/* criteria.c - GuardDuty FindingCriteria: compile, match, sort keys. */
#include "serve/criteria.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"

enum op {
	OP_EQ = MM_CRIT_EQ, OP_NEQ = MM_CRIT_NEQ, OP_GT = MM_CRIT_GT, OP_GTE = MM_CRIT_GTE,
	OP_LT = MM_CRIT_LT, OP_LTE = MM_CRIT_LTE, OP_MATCH = MM_CRIT_MATCH, OP_NOMATCH = MM_CRIT_NOMATCH
};

static const struct {
	const char *name;
	enum op op;
	int list;	/* takes a list of strings (else one number) */
} OPS[] = {
	{"eq", OP_EQ, 1}, {"equals", OP_EQ, 1}, {"neq", OP_NEQ, 1}, {"notEquals", OP_NEQ, 1},
	{"gt", OP_GT, 0}, {"greaterThan", OP_GT, 0}, {"gte", OP_GTE, 0},
	{"greaterThanOrEqual", OP_GTE, 0}, {"lt", OP_LT, 0}, {"lessThan", OP_LT, 0},
	{"lte", OP_LTE, 0}, {"lessThanOrEqual", OP_LTE, 0}, {"matches", OP_MATCH, 1},
	{"notMatches", OP_NOMATCH, 1},
};

struct cond {
	char path[MM_CRIT_MAX_PATH];
	enum op op;
	double num;
	char *vals[MM_CRIT_MAX_VALUES];	/* owned, unescaped */
	int nvals;
};

struct mm_criteria {
	struct cond c[MM_CRIT_MAX_CONDS];
	size_t n;
};

void mm_criteria_free(struct mm_criteria *c)
{
	size_t i;
	int k;
	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		for (k = 0; k < c->c[i].nvals; k++)
			mm_free(c->c[i].vals[k]);
	mm_free(c);
}

size_t mm_criteria_count(const struct mm_criteria *c)
{
	return c ? c->n : 0;
}

void mm_criteria_cond(const struct mm_criteria *c, size_t i, struct mm_crit_cond *out)
{
	const struct cond *d = &c->c[i];
	out->path = d->path;
	out->op = (enum mm_crit_op)d->op;
	out->num = d->num;
	out->vals = (const char *const *)d->vals;
	out->nvals = d->nvals;
}

/* A JSON string's contents, unescaped, as an owned C string (NULs in it
 * are refused: no field value holds one). */
static char *dup_str(const struct mm_json_val *v)
{
	size_t len;
	char *s;
	if (v->type != MM_JSON_STRING || v->n < 2)
		return NULL;
	if (!(s = mm_malloc(v->n)))
		return NULL;
	if (mm_json_unescape(v->p + 1, v->n - 2, s, &len) || memchr(s, 0, len)) {
		mm_free(s);
		return NULL;
	}
	s[len] = '\0';
	return s;
}

/* Copy a raw key into out (unescaped). 0 or MM_EINVAL. */
static int key_str(struct mm_str k, char *out, size_t cap)
{
	size_t len;
	if (k.n >= cap || mm_json_unescape(k.p, k.n, out, &len) || memchr(out, 0, len))
		return MM_EINVAL;
	out[len] = '\0';
	return 0;
}

static int compile_field(struct mm_criteria *c, const char *path, const struct mm_json_val *ops,
			 struct mm_err *err)
{
	struct mm_json_iter it;
	struct mm_str k;
	struct mm_json_val v;
	char name[32];
	size_t i;
	int rc;

	if (ops->type != MM_JSON_OBJECT)
		return mm_err_set(err, MM_EINVAL, "criterion '%s' must be an object of conditions",
				  path);
	mm_json_iter_init(&it, ops);
	while ((rc = mm_json_iter_next(&it, &k, &v)) == 1) {
		struct cond *d;
		if (key_str(k, name, sizeof(name)))
			return mm_err_set(err, MM_EINVAL, "criterion '%s': unknown condition", path);
		for (i = 0; i < MM_ARRAY_LEN(OPS) && strcmp(OPS[i].name, name); i++)
			;
		if (i == MM_ARRAY_LEN(OPS))
			return mm_err_set(err, MM_EINVAL,
					  "criterion '%s': unknown condition '%s' (use eq, neq, gt, gte, "
					  "lt, lte, equals, notEquals, greaterThan, greaterThanOrEqual, "
					  "lessThan, lessThanOrEqual, matches, notMatches)", path, name);
		if (c->n >= MM_CRIT_MAX_CONDS)
			return mm_err_set(err, MM_EINVAL, "more than %d conditions",
					  MM_CRIT_MAX_CONDS);
		d = &c->c[c->n];
		memset(d, 0, sizeof(*d));
		snprintf(d->path, sizeof(d->path), "%s", path);
		d->op = OPS[i].op;
		c->n++;
		if (OPS[i].list) {
			struct mm_json_iter ai;
			struct mm_json_val e;
			if (v.type != MM_JSON_ARRAY)
				return mm_err_set(err, MM_EINVAL,
						  "criterion '%s': '%s' takes a list of strings", path, name);
			mm_json_iter_init(&ai, &v);
			while ((rc = mm_json_iter_next(&ai, NULL, &e)) == 1) {
				if (d->nvals >= MM_CRIT_MAX_VALUES)
					return mm_err_set(err, MM_EINVAL,
							  "criterion '%s': at most %d values", path,
							  MM_CRIT_MAX_VALUES);
				if (!(d->vals[d->nvals] = dup_str(&e)))
					return mm_err_set(err, MM_EINVAL,
							  "criterion '%s': '%s' takes a list of strings",
							  path, name);
				d->nvals++;
			}
			if (rc < 0)
				return mm_err_set(err, MM_EINVAL, "criterion '%s': malformed list", path);
		} else {
			int64_t iv;
			if (v.type != MM_JSON_NUMBER || mm_json_int(&v, &iv))
				return mm_err_set(err, MM_EINVAL, "criterion '%s': '%s' takes a number",
						  path, name);
			d->num = (double)iv;
		}
	}
	return rc < 0 ? mm_err_set(err, MM_EINVAL, "criterion '%s': malformed", path) : 0;
}

int mm_criteria_compile(const char *json, size_t n, struct mm_criteria **out, struct mm_err *err)
{
	struct mm_criteria *c;
	struct mm_json_val root, crit, v;
	struct mm_json_iter it;
	struct mm_str k;
	size_t used;
	int rc;

	*out = NULL;
	if (mm_json_value(json, n, &root, &used) || root.type != MM_JSON_OBJECT)
		return mm_err_set(err, MM_EINVAL, "findingCriteria must be a JSON object");
	if (!(c = mm_calloc(1, sizeof(*c))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	rc = mm_json_get(&root, "criterion", &crit);
	if (rc == 1) {
		if (crit.type != MM_JSON_OBJECT) {
			mm_criteria_free(c);
			return mm_err_set(err, MM_EINVAL, "findingCriteria.criterion must be an object");
		}
		mm_json_iter_init(&it, &crit);
		while ((rc = mm_json_iter_next(&it, &k, &v)) == 1) {
			char path[MM_CRIT_MAX_PATH];
			if (key_str(k, path, sizeof(path)) || !path[0]) {
				mm_criteria_free(c);
				return mm_err_set(err, MM_EINVAL, "criterion: bad field name");
			}
			if ((rc = compile_field(c, path, &v, err))) {
				mm_criteria_free(c);
				return rc;
			}
		}
	}
	if (rc < 0) {
		mm_criteria_free(c);
		return mm_err_set(err, MM_EINVAL, "findingCriteria: malformed JSON");
	}
	*out = c;
	return 0;
}

/* ---- matching ------------------------------------------------------ */

/* A leaf value as text (unescaped, truncated at cap) and, when it reads as
 * a number or an ISO-8601 time, as *num (ms for times). Returns 1 with a
 * number, 0 text only, -1 for null/containers (no value). */
static int leaf(const struct mm_json_val *v, char *txt, size_t cap, double *num)
{
	size_t len = 0;
	char *end;
	int64_t ms;

	txt[0] = '\0';
	switch (v->type) {
	case MM_JSON_STRING:
		if (v->n - 2 >= cap)
			return 0; /* longer than any value we compare against */
		if (mm_json_unescape(v->p + 1, v->n - 2, txt, &len))
			return -1;
		txt[len] = '\0';
		if (len >= 20 && txt[4] == '-' && txt[10] == 'T' && mm_time_parse_iso(txt, len, &ms) == 0) {
			*num = (double)ms;
			return 1;
		}
		break;
	case MM_JSON_NUMBER:
	case MM_JSON_TRUE:
	case MM_JSON_FALSE:
		if (v->n >= cap)
			return 0;
		memcpy(txt, v->p, v->n);
		txt[v->n] = '\0';
		len = v->n;
		break;
	default:
		return -1;
	}
	if (len && (v->type == MM_JSON_NUMBER || v->type == MM_JSON_STRING)) {
		*num = strtod(txt, &end);
		if (*end == '\0' && isfinite(*num))
			return 1;
	}
	return 0;
}

static int glob(const char *p, const char *s)
{
	const char *star = NULL, *back = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			back = s;
		} else if (*p == '?' || *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++back;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Does one leaf satisfy d's positive sense (eq/matches: equals or matches
 * one of the values; numbers: the comparison)? */
static int leaf_hit(const struct cond *d, const struct mm_json_val *v)
{
	char txt[1024];
	double num = 0, vn;
	char *end;
	int isnum = leaf(v, txt, sizeof(txt), &num), i;

	if (isnum < 0)
		return 0;
	switch (d->op) {
	case OP_EQ:
	case OP_NEQ:
		for (i = 0; i < d->nvals; i++) {
			if (!strcmp(txt, d->vals[i]))
				return 1;
			if (isnum == 1) {
				vn = strtod(d->vals[i], &end);
				if (d->vals[i][0] && *end == '\0' && vn == num)
					return 1;
			}
		}
		return 0;
	case OP_MATCH:
	case OP_NOMATCH:
		for (i = 0; i < d->nvals; i++)
			if (glob(d->vals[i], txt))
				return 1;
		return 0;
	case OP_GT:
		return isnum == 1 && num > d->num;
	case OP_GTE:
		return isnum == 1 && num >= d->num;
	case OP_LT:
		return isnum == 1 && num < d->num;
	case OP_LTE:
		return isnum == 1 && num <= d->num;
	}
	return 0;
}

typedef int (*leaf_fn)(void *ctx, const struct mm_json_val *v);

/* Call fn on every value at path under v, fanning out through arrays;
 * stops at (and returns) fn's first non-zero result. */
static int walk(const struct mm_json_val *v, const char *path, leaf_fn fn, void *ctx, int depth)
{
	struct mm_json_iter it;
	struct mm_json_val e;
	int rc;

	if (depth > MM_JSON_MAX_DEPTH)
		return 0;
	if (v->type == MM_JSON_ARRAY) {
		mm_json_iter_init(&it, v);
		while ((rc = mm_json_iter_next(&it, NULL, &e)) == 1)
			if ((rc = walk(&e, path, fn, ctx, depth + 1)))
				return rc;
		return rc < 0 ? rc : 0;
	}
	if (!*path)
		return fn(ctx, v);
	if (v->type == MM_JSON_OBJECT) {
		char seg[MM_CRIT_MAX_PATH];
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(seg))
			return 0;
		memcpy(seg, path, n);
		seg[n] = '\0';
		if ((rc = mm_json_get(v, seg, &e)) != 1)
			return rc < 0 ? rc : 0;
		return walk(&e, dot ? dot + 1 : "", fn, ctx, depth + 1);
	}
	return 0;
}

static int hit_fn(void *ctx, const struct mm_json_val *v)
{
	return leaf_hit(ctx, v);
}

int mm_criteria_match(const struct mm_criteria *c, const char *json, size_t n)
{
	struct mm_json_val root;
	size_t used, i;
	int hit;

	if (!c || !c->n)
		return 1;
	if (mm_json_value(json, n, &root, &used))
		return MM_EPARSE;
	for (i = 0; i < c->n; i++) {
		const struct cond *d = &c->c[i];
		hit = walk(&root, d->path, hit_fn, (void *)d, 0);
		if (hit < 0)
			return hit;
		if (d->op == OP_NEQ || d->op == OP_NOMATCH)
			hit = !hit;
		if (!hit)
			return 0;
	}
	return 1;
}

struct sortctx {
	double *num;
	char *str;
	size_t cap;
	int kind;
};

static int sort_fn(void *ctx, const struct mm_json_val *v)
{
	struct sortctx *s = ctx;
	char txt[256];
	int r = leaf(v, txt, sizeof(txt), s->num);
	if (r < 0)
		return 0;
	s->kind = r == 1 ? 1 : 2;
	if (s->kind == 2)
		snprintf(s->str, s->cap, "%s", txt);
	return 1; /* the first value decides */
}

int mm_criteria_sort_key(const char *path, const char *json, size_t n, double *num, char *str,
			 size_t cap)
{
	struct mm_json_val root;
	struct sortctx s = {num, str, cap, 0};
	size_t used;
	int rc;
	if (mm_json_value(json, n, &root, &used))
		return MM_EPARSE;
	if (cap)
		str[0] = '\0';
	rc = walk(&root, path, sort_fn, &s, 0);
	return rc < 0 ? rc : s.kind;
}
