/* agg.c - bounded open-addressing table of findings keyed by (type,
 * account, resource, discriminator): the same key the id hashes.
 * Findings live in fixed-size chunks so pointers handed out stay valid
 * as the table grows. */
#include "finding/agg.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/mem.h"

#define CHUNK 256

struct slot {
	uint64_t hash;
	uint32_t idx; /* index + 1; 0 = empty */
};

struct mm_agg {
	struct mm_finding **chunks;
	size_t nchunks, count, max;
	struct slot *slots;
	size_t nslots; /* power of two */
	uint64_t dropped;
};

int mm_agg_new(struct mm_agg **out, size_t max_findings)
{
	struct mm_agg *a = mm_calloc(1, sizeof(*a));
	*out = NULL;
	if (!a)
		return MM_ENOMEM;
	a->max = max_findings ? max_findings : 1;
	a->nslots = 64;
	a->slots = mm_calloc(a->nslots, sizeof(struct slot));
	if (!a->slots) {
		mm_free(a);
		return MM_ENOMEM;
	}
	*out = a;
	return 0;
}

void mm_agg_free(struct mm_agg *a)
{
	size_t i;
	if (!a)
		return;
	for (i = 0; i < a->nchunks; i++)
		mm_free(a->chunks[i]);
	mm_free(a->chunks);
	mm_free(a->slots);
	mm_free(a);
}

size_t mm_agg_count(const struct mm_agg *a) { return a->count; }
int mm_agg_full(const struct mm_agg *a) { return a->count >= a->max; }
void mm_agg_set_max(struct mm_agg *a, size_t max_findings)
{
	a->max = max_findings ? max_findings : 1;
}

void mm_agg_clear(struct mm_agg *a)
{
	memset(a->slots, 0, a->nslots * sizeof(struct slot));
	a->count = 0;
}

uint64_t mm_agg_dropped(const struct mm_agg *a) { return a->dropped; }

struct mm_finding *mm_agg_at(struct mm_agg *a, size_t i)
{
	if (i >= a->count)
		return NULL;
	return &a->chunks[i / CHUNK][i % CHUNK];
}

static uint64_t key_hash(const char *type, const char *acct, const char *res, size_t rn,
			 const char *disc)
{
	uint64_t h = mm_hash(type, strlen(type), 1);
	h = mm_hash(acct, strlen(acct), h);
	h = mm_hash(res, rn, h);
	return mm_hash(disc, strlen(disc), h);
}

static int key_eq(const struct mm_finding *f, const char *type, const char *acct, const char *res,
		  size_t rn, const char *disc)
{
	char k[256];
	mm_finding_resource_key(f, k, sizeof(k));
	return strcmp(f->type, type) == 0 && strcmp(f->account, acct) == 0 && strlen(k) == rn &&
	       memcmp(k, res, rn) == 0 && strcmp(f->disc, disc) == 0;
}

static int grow(struct mm_agg *a)
{
	size_t i, n = a->nslots * 2;
	struct slot *ns = mm_calloc(n, sizeof(*ns));
	if (!ns)
		return MM_ENOMEM;
	for (i = 0; i < a->nslots; i++) {
		size_t j;
		if (!a->slots[i].idx)
			continue;
		j = a->slots[i].hash & (n - 1);
		while (ns[j].idx)
			j = (j + 1) & (n - 1);
		ns[j] = a->slots[i];
	}
	mm_free(a->slots);
	a->slots = ns;
	a->nslots = n;
	return 0;
}

/* Set the resource fields of a new finding from its key text. */
static void set_resource(struct mm_finding *f, const char *res, size_t rn)
{
	char tmp[256];
	size_t n = rn < sizeof(tmp) - 1 ? rn : sizeof(tmp) - 1;
	memcpy(tmp, res, n);
	tmp[n] = '\0';
	if (f->res_type == MM_RES_ACCESSKEY)
		snprintf(f->access_key_id, sizeof(f->access_key_id), "%s", tmp);
	else if (f->res_type == MM_RES_S3BUCKET)
		snprintf(f->bucket_name, sizeof(f->bucket_name), "%s", tmp);
	else if (strncmp(tmp, "i-", 2) == 0)
		snprintf(f->instance_id, sizeof(f->instance_id), "%s", tmp);
	else if (f->res_type == MM_RES_RUNTIME)
		/* a host with no instance id: "host:NAME" (mm_finding_resource_key) */
		snprintf(f->proc.host, sizeof(f->proc.host), "%s",
			 strncmp(tmp, "host:", 5) == 0 ? tmp + 5 : tmp);
	else if (strncmp(tmp, "ip:", 3) == 0)
		snprintf(f->local_ip_key, sizeof(f->local_ip_key), "%s", tmp + 3);
	else
		snprintf(f->eni, sizeof(f->eni), "%s", tmp);
}

static struct mm_finding *lookup(struct mm_agg *a, const char *type, const char *acct,
				 const char *res, size_t rn, const char *disc, int restype,
				 int *created)
{
	uint64_t h = key_hash(type, acct, res, rn, disc);
	size_t j = h & (a->nslots - 1);
	struct mm_finding *f;
	const struct mm_ftype *ft;

	*created = 0;
	while (a->slots[j].idx) {
		if (a->slots[j].hash == h) {
			f = mm_agg_at(a, a->slots[j].idx - 1);
			if (key_eq(f, type, acct, res, rn, disc))
				return f;
		}
		j = (j + 1) & (a->nslots - 1);
	}
	if (a->count >= a->max + MM_AGG_HEADROOM || a->count >= UINT32_MAX - 1) {
		a->dropped++;
		return NULL;
	}
	if (a->count % CHUNK == 0) {
		size_t c = a->count / CHUNK;
		if (c >= a->nchunks) {
			struct mm_finding **nc = mm_realloc(a->chunks, (c + 1) * sizeof(*nc));
			if (!nc)
				return NULL;
			a->chunks = nc;
			nc[c] = mm_malloc(CHUNK * sizeof(struct mm_finding));
			if (!nc[c])
				return NULL;
			a->nchunks = c + 1;
		}
	}
	f = &a->chunks[a->count / CHUNK][a->count % CHUNK];
	memset(f, 0, sizeof(*f));
	snprintf(f->type, sizeof(f->type), "%s", type);
	snprintf(f->account, sizeof(f->account), "%s", acct);
	snprintf(f->disc, sizeof(f->disc), "%s", disc);
	ft = mm_ftype_get(type);
	if (ft) {
		f->severity = ft->severity;
		f->action = ft->action;
	}
	f->res_type = restype;
	set_resource(f, res, rn);
	a->slots[j].hash = h;
	a->slots[j].idx = (uint32_t)(a->count + 1);
	a->count++;
	*created = 1;
	if (a->count * 2 > a->nslots)
		grow(a); /* on failure the table stays valid, just fuller */
	return f;
}

struct mm_finding *mm_agg_get(struct mm_agg *a, const char *type, const char *account,
			      const char *resource, size_t resource_len, const char *disc,
			      int *created)
{
	const struct mm_ftype *ft = mm_ftype_get(type);
	/* an attack sequence is keyed by its principal, held in the
	 * AccessKey fields (output renders it as AttackSequence) */
	int restype = ft && (ft->action == MM_ACTION_AWS_API_CALL || ft->action == MM_ACTION_SEQUENCE)
			      ? MM_RES_ACCESSKEY
			      : MM_RES_INSTANCE;
	if (ft && ft->res_type == MM_RES_S3BUCKET)
		restype = MM_RES_S3BUCKET; /* resource key: the bucket name */
	if (ft && ft->res_type == MM_RES_RUNTIME)
		restype = MM_RES_RUNTIME; /* the instance id, else "host:NAME" */
	return lookup(a, type, account, resource, resource_len, disc, restype, created);
}

int mm_agg_rekey(struct mm_agg *a)
{
	size_t i;

	memset(a->slots, 0, a->nslots * sizeof(struct slot));
	for (i = 0; i < a->count; i++) {
		struct mm_finding *f = mm_agg_at(a, i);
		char k[256];
		size_t kn, j;
		uint64_t h;

		if (f->archived < 0)
			continue;
		mm_finding_resource_key(f, k, sizeof(k));
		kn = strlen(k);
		h = key_hash(f->type, f->account, k, kn, f->disc);
		j = h & (a->nslots - 1);
		while (a->slots[j].idx) {
			struct mm_finding *g = mm_agg_at(a, a->slots[j].idx - 1);
			if (a->slots[j].hash == h && key_eq(g, f->type, f->account, k, kn, f->disc)) {
				mm_finding_merge(g, f);
				f->archived = -1;
				break;
			}
			j = (j + 1) & (a->nslots - 1);
		}
		if (f->archived < 0)
			continue;
		a->slots[j].hash = h;
		a->slots[j].idx = (uint32_t)(i + 1);
	}
	return 0;
}

int mm_agg_merge(struct mm_agg *a, const struct mm_finding *f)
{
	char k[256];
	int created;
	struct mm_finding *d;

	mm_finding_resource_key(f, k, sizeof(k));
	if (a->count >= a->max)
		a->max = a->count + 1;
	d = lookup(a, f->type, f->account, k, strlen(k), f->disc, f->res_type, &created);
	if (!d)
		return MM_ETOOBIG;
	if (created)
		*d = *f;
	else
		mm_finding_merge(d, f);
	return 0;
}
