/* place.c - which account and region a host's findings name (place.h). */
#include "engine/place.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/file.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/mem.h"

int mm_place_account_ok(const char *s, size_t n)
{
	size_t i;
	if (n != 12)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int mm_place_region_ok(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > MM_PLACE_REGION_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* v, a JSON string of allowed bytes (so no escapes), into out. */
static int take(const struct mm_json_val *v, const char *name, int (*ok)(const char *, size_t),
		char *out, size_t cap, struct mm_err *err)
{
	size_t n;
	if (v->type != MM_JSON_STRING)
		return mm_err_set(err, MM_EPARSE, "%s: expected a string", name);
	n = v->n - 2;
	if (n == 0)
		return 0; /* "": not known */
	if (!ok(v->p + 1, n) || n >= cap)
		return mm_err_set(err, MM_EPARSE, "%s: \"%.*s\" is not %s", name,
				  (int)(n > 40 ? 40 : n), v->p + 1,
				  ok == mm_place_account_ok ? "a 12-digit AWS account id"
							    : "a region name (like eu-west-1)");
	memcpy(out, v->p + 1, n);
	out[n] = '\0';
	return 0;
}

int mm_place_parse(const char *buf, size_t n, struct mm_place *out, struct mm_err *err)
{
	struct mm_json_val top, v;
	size_t used, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (mm_json_value(buf, n, &top, &used) || top.type != MM_JSON_OBJECT)
		return mm_err_set(err, MM_EPARSE, "not a JSON object");
	for (i = used; i < n; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n')
			return mm_err_set(err, MM_EPARSE, "text after the object");
	if ((rc = mm_json_get(&top, "accountId", &v)) < 0)
		return mm_err_set(err, MM_EPARSE, "not a JSON object");
	if (rc == 1 && (rc = take(&v, "accountId", mm_place_account_ok, out->account,
				  sizeof(out->account), err)))
		return rc;
	if ((rc = mm_json_get(&top, "region", &v)) < 0)
		return mm_err_set(err, MM_EPARSE, "not a JSON object");
	if (rc == 1 &&
	    (rc = take(&v, "region", mm_place_region_ok, out->region, sizeof(out->region), err)))
		return rc;
	return 0;
}

void mm_place_format(const struct mm_place *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "{\"accountId\":\"%s\",\"region\":\"%s\"}\n", p->account, p->region);
}

int mm_place_read_dir(const char *dir, struct mm_place *out, struct mm_err *err)
{
	char path[4200];
	size_t n;
	char *buf;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir[0] ? dir : ".", MM_PLACE_FILE) >=
	    sizeof(path))
		return 0;
	if (!(buf = mm_file_read(path, MM_PLACE_FILE_MAX, &n))) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return mm_err_set(err, MM_EIO, "%s: cannot read: %s", path, strerror(errno));
	}
	if (n >= MM_PLACE_FILE_MAX)
		rc = mm_err_set(err, MM_EPARSE, "%s: over %d bytes: not a place file", path,
				MM_PLACE_FILE_MAX);
	else if ((rc = mm_place_parse(buf, n, out, err))) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		mm_err_set(err, rc, "%s: %s (want {\"accountId\":\"123456789012\",\"region\":"
				    "\"eu-west-1\"})", path, why);
	}
	mm_free(buf);
	return rc ? rc : 1;
}

int mm_place_write_dir(const char *dir, const struct mm_place *p, struct mm_err *err)
{
	char path[4200], tmp[4300], line[128];
	struct mm_place have;
	struct mm_err e2;

	if (mm_place_read_dir(dir, &have, &e2) != 1)
		memset(&have, 0, sizeof(have));
	if ((!p->account[0] || !strcmp(have.account, p->account)) &&
	    (!p->region[0] || !strcmp(have.region, p->region)))
		return 0;
	if (p->account[0])
		memcpy(have.account, p->account, sizeof(have.account));
	if (p->region[0])
		memcpy(have.region, p->region, sizeof(have.region));
	snprintf(path, sizeof(path), "%s/%s", dir, MM_PLACE_FILE);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, MM_PLACE_FILE);
	mm_place_format(&have, line, sizeof(line));
	return mm_file_replace(path, tmp, line, strlen(line), err);
}

/* ---- instance -> place ------------------------------------------------ */

struct entry {
	char id[32];		/* "" = empty slot */
	struct mm_place p;
	int changed;
};

struct mm_places {
	pthread_mutex_t mu;
	struct entry *t;
	size_t mask, n;		/* slots - 1, used */
};

int mm_places_new(struct mm_places **out)
{
	struct mm_places *ps = mm_calloc(1, sizeof(*ps));
	if (!ps)
		return MM_ENOMEM;
	pthread_mutex_init(&ps->mu, NULL);
	*out = ps;
	return 0;
}

void mm_places_free(struct mm_places *ps)
{
	if (!ps)
		return;
	pthread_mutex_destroy(&ps->mu);
	mm_free(ps->t);
	mm_free(ps);
}

static struct entry *find(struct entry *t, size_t mask, const char *id)
{
	size_t k = mm_hash(id, strlen(id), 0) & mask;
	while (t[k].id[0] && strcmp(t[k].id, id))
		k = (k + 1) & mask;
	return &t[k];
}

static int grow(struct mm_places *ps)
{
	size_t cap = ps->t ? (ps->mask + 1) * 2 : 64, i;
	struct entry *t = mm_calloc(cap, sizeof(*t));
	if (!t)
		return MM_ENOMEM;
	for (i = 0; ps->t && i <= ps->mask; i++)
		if (ps->t[i].id[0])
			*find(t, cap - 1, ps->t[i].id) = ps->t[i];
	mm_free(ps->t);
	ps->t = t;
	ps->mask = cap - 1;
	return 0;
}

int mm_places_put(struct mm_places *ps, const char *instance, const struct mm_place *p)
{
	struct entry *e;
	int rc = 0;

	if (!instance[0] || strlen(instance) >= sizeof(e->id))
		return MM_EINVAL;
	if (!p->account[0] && !p->region[0])
		return 0;
	pthread_mutex_lock(&ps->mu);
	e = ps->t ? find(ps->t, ps->mask, instance) : NULL;
	if (!e || !e->id[0]) {
		if (ps->n >= MM_PLACES_MAX) {
			rc = MM_ETOOBIG;
			goto out;
		}
		if ((!ps->t || (ps->n + 1) * 4 > (ps->mask + 1) * 3) && (rc = grow(ps)))
			goto out;
		e = find(ps->t, ps->mask, instance);
		snprintf(e->id, sizeof(e->id), "%s", instance);
		ps->n++;
	}
	if (p->account[0] && strcmp(e->p.account, p->account)) {
		memcpy(e->p.account, p->account, sizeof(e->p.account));
		e->changed = rc = 1;
	}
	if (p->region[0] && strcmp(e->p.region, p->region)) {
		memcpy(e->p.region, p->region, sizeof(e->p.region));
		e->changed = rc = 1;
	}
out:
	pthread_mutex_unlock(&ps->mu);
	return rc;
}

int mm_places_get(struct mm_places *ps, const char *instance, struct mm_place *out)
{
	struct entry *e;
	int found = 0;

	if (!ps || !instance[0])
		return 0;
	pthread_mutex_lock(&ps->mu);
	if (ps->t && (e = find(ps->t, ps->mask, instance))->id[0]) {
		*out = e->p;
		found = 1;
	}
	pthread_mutex_unlock(&ps->mu);
	return found;
}

int mm_places_each_changed(struct mm_places *ps,
			   int (*fn)(void *ctx, const char *instance, const struct mm_place *p),
			   void *ctx)
{
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&ps->mu);
	for (i = 0; ps->t && i <= ps->mask && !rc; i++)
		if (ps->t[i].id[0] && ps->t[i].changed)
			rc = fn(ctx, ps->t[i].id, &ps->t[i].p);
	pthread_mutex_unlock(&ps->mu);
	return rc;
}

void mm_places_clean(struct mm_places *ps)
{
	size_t i;

	pthread_mutex_lock(&ps->mu);
	for (i = 0; ps->t && i <= ps->mask; i++)
		ps->t[i].changed = 0;
	pthread_mutex_unlock(&ps->mu);
}
