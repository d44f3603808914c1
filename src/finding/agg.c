/* agg.c - bounded open-addressing table of findings keyed by (type,
 * account, resource, discriminator): the same key the id hashes.
 * Findings live in fixed-size chunks so pointers handed out stay valid
 * as the table grows. */
#include "finding/agg.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/mem.h"

/* Findings are kept packed (mm_finding_pack_mem: ~3.7 KB -> a few
 * hundred bytes) and opened (unpacked into an open slot) when a caller
 * asks for one. Open slots live in chunks that never move, so pointers
 * handed out stay valid until mm_agg_release packs them again. */
#define OPEN_CHUNK 64
#define KEEP_OPEN 256	/* a release sweeps after this many more opened */
#define OPEN_MAX 2048	/* a sweep keeps fewer open (~3.7 KB each) */

struct slot {
	uint64_t hash;
	uint32_t idx; /* index + 1; 0 = empty */
};

struct fent {
	unsigned char *blob;	/* packed bytes, len of cap (NULL: none yet) */
	uint32_t len, cap;
	uint32_t open;		/* open slot + 1, 0 = packed */
	uint8_t spent;		/* mm_agg_spent: closed without packing again */
};

struct oslot {
	struct mm_finding f;
	uint32_t idx;
	uint8_t used;	/* opened or asked for since the last release that packed */
	uint8_t clean;	/* f is its packed bytes unpacked, unchanged: never handed
			 * to a caller that may write (rekey's unchanged ones, key
			 * compares), so closing it needs no pack */
};

struct mm_agg {
	struct fent *fe;
	size_t fcap, count, max;
	struct oslot **oc;	/* chunks of OPEN_CHUNK open slots */
	size_t noc, nopen, open_hw;
	struct slot *slots;
	size_t nslots; /* power of two */
	size_t sweep_at;	/* mm_agg_release sweeps past this many open */
	uint64_t dropped;
	uint64_t unpacks, packs, sweeps;	/* for -v */
	struct mm_buf pk;	/* packing scratch */
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
	mm_buf_init(&a->pk, sizeof(struct mm_finding) * 2);
	a->sweep_at = KEEP_OPEN;
	*out = a;
	return 0;
}

static void free_blobs(struct mm_agg *a)
{
	size_t i;
	for (i = 0; i < a->count; i++) {
		mm_free(a->fe[i].blob);
		a->fe[i].blob = NULL;
	}
}

void mm_agg_free(struct mm_agg *a)
{
	size_t i;
	if (!a)
		return;
	free_blobs(a);
	mm_free(a->fe);
	for (i = 0; i < a->noc; i++)
		mm_free(a->oc[i]);
	mm_free(a->oc);
	mm_free(a->slots);
	mm_buf_free(&a->pk);
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
	free_blobs(a);
	a->count = 0;
	a->nopen = 0;
	a->sweep_at = KEEP_OPEN;
}

uint64_t mm_agg_dropped(const struct mm_agg *a) { return a->dropped; }

static struct oslot *oslot_at(struct mm_agg *a, size_t k)
{
	return &a->oc[k / OPEN_CHUNK][k % OPEN_CHUNK];
}

/* A fresh open slot for finding i (its fent marked open), or NULL. */
static struct oslot *open_new(struct mm_agg *a, size_t i)
{
	struct oslot *o;
	if (a->nopen / OPEN_CHUNK >= a->noc) {
		struct oslot **nc = mm_realloc(a->oc, (a->noc + 1) * sizeof(*nc));
		if (!nc)
			return NULL;
		a->oc = nc;
		if (!(nc[a->noc] = mm_malloc(OPEN_CHUNK * sizeof(struct oslot))))
			return NULL;
		a->noc++;
	}
	o = oslot_at(a, a->nopen);
	o->idx = (uint32_t)i;
	o->used = 1;
	o->clean = 0;
	a->fe[i].open = (uint32_t)++a->nopen;
	if (a->nopen > a->open_hw)
		a->open_hw = a->nopen;
	return o;
}

/* Finding i's open slot, opened (unpacked, clean) if it is not: NULL
 * out of memory. */
static struct oslot *open_slot(struct mm_agg *a, size_t i)
{
	struct fent *e = &a->fe[i];
	struct oslot *o;
	if (e->open) {
		o = oslot_at(a, e->open - 1);
		o->used = 1;
		return o;
	}
	if (!(o = open_new(a, i)))
		return NULL;
	a->unpacks++;
	if (mm_finding_unpack_mem(&o->f, e->blob, e->len)) {
		/* our own bytes: cannot happen; an empty finding is not a crash */
		memset(&o->f, 0, sizeof(o->f));
		o->f.archived = -1;
	} else {
		o->clean = 1;
	}
	return o;
}

/* Finding i, opened for a caller that may write through the pointer. */
static struct mm_finding *open_at(struct mm_agg *a, size_t i)
{
	struct oslot *o = open_slot(a, i);
	if (!o)
		return NULL;
	o->clean = 0;
	return &o->f;
}

struct mm_finding *mm_agg_at(struct mm_agg *a, size_t i)
{
	if (i >= a->count)
		return NULL;
	return open_at(a, i);
}

int mm_agg_read(struct mm_agg *a, size_t i, struct mm_finding *out)
{
	const struct fent *e;
	if (i >= a->count)
		return MM_EINVAL;
	e = &a->fe[i];
	if (e->open) {
		*out = oslot_at(a, e->open - 1)->f;
		return 0;
	}
	return mm_finding_unpack_mem(out, e->blob, e->len);
}

/* Pack o's finding into its blob: 0, or MM_ENOMEM. */
static int pack_one(struct mm_agg *a, struct oslot *o)
{
	struct fent *e = &a->fe[o->idx];
	mm_buf_reset(&a->pk);
	a->packs++;
	if (mm_finding_pack_mem(&o->f, &a->pk))
		return MM_ENOMEM;
	if (a->pk.len > e->cap) {
		/* a little room: a finding grows a few bytes at a time */
		size_t nc = a->pk.len + 32;
		unsigned char *nb = mm_realloc(e->blob, nc);
		if (!nb)
			return MM_ENOMEM;
		e->blob = nb;
		e->cap = (uint32_t)nc;
	}
	memcpy(e->blob, a->pk.p, a->pk.len);
	e->len = (uint32_t)a->pk.len;
	return 0;
}

/* Pack the open findings not used since the last sweep, the others
 * moved down to fill the gaps: a finding a detector adds to record after
 * record stays open (second chance). The next sweep comes KEEP_OPEN
 * openings later, so "used" means used in the last KEEP_OPEN or more
 * findings opened, whatever the number of releases in between; past
 * OPEN_MAX - KEEP_OPEN kept, used ones are packed too. Out of memory, a
 * finding stays open: right, only bigger. */
static void close_unused(struct mm_agg *a)
{
	size_t k, j = 0;
	a->sweeps++;
	for (k = 0; k < a->nopen; k++) {
		struct oslot *o = oslot_at(a, k);
		const struct fent *e = &a->fe[o->idx];
		int keep = o->used && j < OPEN_MAX - KEEP_OPEN;
		if (e->blob && (e->spent || (o->clean && !keep))) {
			/* its packed bytes stay as they are: nothing reads it
			 * again before the table is cleared, or nothing in it
			 * changed since they were unpacked */
			a->fe[o->idx].open = 0;
			continue;
		}
		if (keep || pack_one(a, o)) {
			o->used = 0;
			if (j != k) {
				struct oslot *d = oslot_at(a, j);
				memcpy(d, o, sizeof(*d));
				a->fe[d->idx].open = (uint32_t)(j + 1);
			}
			j++;
			continue;
		}
		a->fe[o->idx].open = 0;
	}
	a->nopen = j;
	a->sweep_at = MM_MAX(j, (size_t)KEEP_OPEN) + KEEP_OPEN;
	/* the slots past the next sweep go back (a detector's finish may
	 * have opened thousands at once) */
	while (a->noc > (a->sweep_at + OPEN_CHUNK - 1) / OPEN_CHUNK + 1)
		mm_free(a->oc[--a->noc]);
}

void mm_agg_stats(const struct mm_agg *a, struct mm_agg_stats *st)
{
	size_t i;
	memset(st, 0, sizeof(*st));
	for (i = 0; i < a->count; i++)
		st->packed += a->fe[i].cap;
	st->open_hw = a->open_hw;
	st->unpacks = a->unpacks;
	st->packs = a->packs;
	st->sweeps = a->sweeps;
}

void mm_agg_spent(struct mm_agg *a, size_t i)
{
	if (i < a->count)
		a->fe[i].spent = 1;
}

void mm_agg_release(struct mm_agg *a)
{
	if (a->nopen > a->sweep_at)
		close_unused(a);
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
			struct oslot *o = open_slot(a, a->slots[j].idx - 1);
			if (o && key_eq(&o->f, type, acct, res, rn, disc)) {
				o->clean = 0; /* handed to the caller */
				return &o->f;
			}
		}
		j = (j + 1) & (a->nslots - 1);
	}
	if (a->count >= a->max + MM_AGG_HEADROOM || a->count >= UINT32_MAX - 1) {
		a->dropped++;
		return NULL;
	}
	if (a->count == a->fcap) {
		size_t nc = a->fcap ? a->fcap * 2 : 256;
		struct fent *nf = mm_realloc(a->fe, nc * sizeof(*nf));
		if (!nf)
			return NULL;
		a->fe = nf;
		a->fcap = nc;
	}
	memset(&a->fe[a->count], 0, sizeof(a->fe[0]));
	{
		struct oslot *o = open_new(a, a->count);
		if (!o)
			return NULL;
		f = &o->f;
	}
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

int mm_agg_rekey(struct mm_agg *a, int (*fix)(struct mm_finding *f, size_t i, void *ctx),
		 void *ctx)
{
	size_t i;
	int rc = 0;

	memset(a->slots, 0, a->nslots * sizeof(struct slot));
	for (i = 0; i < a->count; i++, mm_agg_release(a)) {
		struct oslot *o = open_slot(a, i);
		struct mm_finding *f;
		char k[256];
		size_t kn, j;
		uint64_t h;

		if (!o) {
			rc = MM_ENOMEM;
			continue; /* unindexed: found by index, not by key */
		}
		f = &o->f;
		/* a finding the fix leaves as it is needs no pack to close */
		if (fix && fix(f, i, ctx))
			o->clean = 0;
		if (f->archived < 0)
			continue;
		mm_finding_resource_key(f, k, sizeof(k));
		kn = strlen(k);
		h = key_hash(f->type, f->account, k, kn, f->disc);
		j = h & (a->nslots - 1);
		while (a->slots[j].idx) {
			struct oslot *g = a->slots[j].hash == h ? open_slot(a, a->slots[j].idx - 1)
								: NULL;
			if (g && key_eq(&g->f, f->type, f->account, k, kn, f->disc)) {
				mm_finding_merge(&g->f, f);
				g->clean = 0;
				f->archived = -1;
				o->clean = 0;
				break;
			}
			j = (j + 1) & (a->nslots - 1);
		}
		if (f->archived < 0)
			continue;
		a->slots[j].hash = h;
		a->slots[j].idx = (uint32_t)(i + 1);
	}
	return rc;
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
	mm_agg_release(a);
	return 0;
}
