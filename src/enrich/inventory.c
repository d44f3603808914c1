/* inventory.c - the instance inventory: instance id / ENI / IP -> instance.
 *
 * Instances live in slabs of MM__SLAB records that never move (an
 * mm_instance is ~35 KB of fixed arrays, so one flat array would copy
 * gigabytes on growth, and only the used parts of a record are written,
 * so the rest of each slab stays untouched zero pages). Three
 * open-addressing tables (linear probing, power-of-two sizes, load
 * <= 0.7) index them:
 *
 *   id  -> instance   one entry per instance id
 *   eni -> instance   one entry per ENI; the newest writer wins (an ENI
 *                     can move between instances)
 *   ip  -> instance   a multimap of (address, instance) pairs
 *
 * Entries are never deleted. When an update takes an ENI or address away
 * from an instance the old entry stays, so every lookup re-checks that
 * the instance still holds the key; stale entries only cost a probe. An
 * address owned by more than one instance is ambiguous and resolves to
 * nobody; after MM__IP_MAX_OWNERS distinct owners an "overflow" marker is
 * stored so one hot address (172.31.0.10 in every default VPC) cannot
 * make probes unbounded, and it stays ambiguous for good.
 *
 * Parsing uses the on-demand scanner in core/json.h; unescaped strings go
 * to a small stack arena per field, and the instance being built lives
 * in a scratch record owned by the inventory, so learning from an event
 * allocates nothing unless a new instance is stored. */
#include "enrich/inventory.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/common.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"

#define MM__IP_MAX_OWNERS 4
#define MM__IP_OVERFLOW UINT32_MAX
#define MM__HASH_SEED 0x6d616d6f7269ULL	/* "mamori" */
#define MM__FIELD_MAX 2048	/* longest unescaped string field we take */
#define MM__FILE_MAX ((size_t)1 << 30)	/* describe-instances file size cap */
#define MM__JSON_MAX ((size_t)64 << 20)	/* to_json output cap */

struct mm__slot {
	uint64_t h;
	uint32_t v;	/* instance index + 1; 0 = empty */
};

struct mm__ipslot {
	struct mm_ip ip;
	uint32_t v;	/* instance index + 1; 0 = empty; MM__IP_OVERFLOW */
};

/* Instances per slab: one calloc of ~1.1 MB, big enough that the C
 * library maps fresh zeroed pages, so the unused tails of records are
 * never touched and cost no resident memory. */
#define MM__SLAB 32

struct mm_inventory {
	struct mm_instance **slabs;
	size_t nslabs, slabs_cap;
	size_t n, max;
	struct mm__slot *ids, *enis;
	size_t ids_cap, ids_used, enis_cap, enis_used;
	struct mm__ipslot *ips;
	size_t ips_cap, ips_used;
	struct mm_instance *scratch;	/* record being parsed */
};

/* ------------------------------------------------------------------ */
/* tables */

static inline struct mm_instance *item(const struct mm_inventory *inv, size_t i)
{
	return &inv->slabs[i / MM__SLAB][i % MM__SLAB];
}

static uint64_t hash_str(const char *s, size_t n)
{
	return mm_hash(s, n, MM__HASH_SEED);
}

static uint64_t hash_ip(const struct mm_ip *ip)
{
	return mm_hash(ip->b, 16, MM__HASH_SEED ^ ip->v6);
}

static int zeq(const char *z, const char *s, size_t n)
{
	return strlen(z) == n && memcmp(z, s, n) == 0;
}

static int inst_has_eni(const struct mm_instance *in, const char *eni, size_t n)
{
	return mm_instance_nif(in, eni, n) != NULL;
}

static int inst_has_ip(const struct mm_instance *in, const struct mm_ip *ip)
{
	int i, j;
	for (i = 0; i < in->nnif; i++) {
		const struct mm_netif *f = &in->nifs[i];
		if (f->has_public_ip && mm_ip_eq(&f->public_ip, ip))
			return 1;
		for (j = 0; j < f->nprivate; j++)
			if (mm_ip_eq(&f->private_ips[j], ip))
				return 1;
		for (j = 0; j < f->nipv6; j++)
			if (mm_ip_eq(&f->ipv6[j], ip))
				return 1;
	}
	return 0;
}

/* Grow a slot table to hold one more entry at load <= 0.7. */
static int slots_reserve(struct mm__slot **tab, size_t *cap, size_t used)
{
	struct mm__slot *nt;
	size_t ncap, i;

	if (*cap && (used + 1) * 10 <= *cap * 7)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	nt = mm_calloc(ncap, sizeof(*nt));
	if (!nt)
		return MM_ENOMEM;
	for (i = 0; i < *cap; i++) {
		size_t j;
		if (!(*tab)[i].v)
			continue;
		j = (*tab)[i].h & (ncap - 1);
		while (nt[j].v)
			j = (j + 1) & (ncap - 1);
		nt[j] = (*tab)[i];
	}
	mm_free(*tab);
	*tab = nt;
	*cap = ncap;
	return 0;
}

static int ips_reserve(struct mm_inventory *inv)
{
	struct mm__ipslot *nt;
	size_t ncap, i;

	if (inv->ips_cap && (inv->ips_used + 1) * 10 <= inv->ips_cap * 7)
		return 0;
	ncap = inv->ips_cap ? inv->ips_cap * 2 : 64;
	nt = mm_calloc(ncap, sizeof(*nt));
	if (!nt)
		return MM_ENOMEM;
	for (i = 0; i < inv->ips_cap; i++) {
		size_t j;
		if (!inv->ips[i].v)
			continue;
		j = hash_ip(&inv->ips[i].ip) & (ncap - 1);
		while (nt[j].v)
			j = (j + 1) & (ncap - 1);
		nt[j] = inv->ips[i];
	}
	mm_free(inv->ips);
	inv->ips = nt;
	inv->ips_cap = ncap;
	return 0;
}

/* Index of the instance with this id, or -1. */
static long find_id(const struct mm_inventory *inv, const char *id, size_t n)
{
	uint64_t h;
	size_t j;

	if (!inv->ids_cap)
		return -1;
	h = hash_str(id, n);
	for (j = h & (inv->ids_cap - 1); inv->ids[j].v; j = (j + 1) & (inv->ids_cap - 1)) {
		const struct mm__slot *s = &inv->ids[j];
		if (s->h == h && zeq(item(inv, s->v - 1)->instance_id, id, n))
			return (long)s->v - 1;
	}
	return -1;
}

static int index_id(struct mm_inventory *inv, uint32_t idx)
{
	const char *id = item(inv, idx)->instance_id;
	uint64_t h = hash_str(id, strlen(id));
	size_t j;
	int rc = slots_reserve(&inv->ids, &inv->ids_cap, inv->ids_used);

	if (rc)
		return rc;
	j = h & (inv->ids_cap - 1);
	while (inv->ids[j].v)
		j = (j + 1) & (inv->ids_cap - 1);
	inv->ids[j].h = h;
	inv->ids[j].v = idx + 1;
	inv->ids_used++;
	return 0;
}

/* ENI -> idx; an existing entry for the same ENI is taken over. */
static int index_eni(struct mm_inventory *inv, uint32_t idx, const char *eni)
{
	size_t n = strlen(eni), j;
	uint64_t h = hash_str(eni, n);
	int rc = slots_reserve(&inv->enis, &inv->enis_cap, inv->enis_used);

	if (rc)
		return rc;
	for (j = h & (inv->enis_cap - 1); inv->enis[j].v; j = (j + 1) & (inv->enis_cap - 1)) {
		struct mm__slot *s = &inv->enis[j];
		/* Matched on the 64-bit hash alone: the previous owner may
		 * no longer list the ENI, so its name cannot always be
		 * checked. Two ENIs colliding on 64 bits is negligible. */
		if (s->h == h) {
			s->v = idx + 1;
			return 0;
		}
	}
	inv->enis[j].h = h;
	inv->enis[j].v = idx + 1;
	inv->enis_used++;
	return 0;
}

static int index_ip(struct mm_inventory *inv, uint32_t idx, const struct mm_ip *ip)
{
	size_t j;
	int owners = 0, rc = ips_reserve(inv);

	if (rc)
		return rc;
	for (j = hash_ip(ip) & (inv->ips_cap - 1); inv->ips[j].v; j = (j + 1) & (inv->ips_cap - 1)) {
		struct mm__ipslot *s = &inv->ips[j];
		if (!mm_ip_eq(&s->ip, ip))
			continue;
		if (s->v == MM__IP_OVERFLOW || s->v == idx + 1)
			return 0;
		owners++;
	}
	inv->ips[j].ip = *ip;
	inv->ips[j].v = owners >= MM__IP_MAX_OWNERS ? MM__IP_OVERFLOW : idx + 1;
	inv->ips_used++;
	return 0;
}

static int index_keys(struct mm_inventory *inv, uint32_t idx)
{
	const struct mm_instance *in = item(inv, idx);
	int i, j, rc = 0;

	for (i = 0; i < in->nnif && !rc; i++) {
		const struct mm_netif *f = &in->nifs[i];
		if (f->eni[0])
			rc = index_eni(inv, idx, f->eni);
		if (!rc && f->has_public_ip)
			rc = index_ip(inv, idx, &f->public_ip);
		for (j = 0; j < f->nprivate && !rc; j++)
			rc = index_ip(inv, idx, &f->private_ips[j]);
		for (j = 0; j < f->nipv6 && !rc; j++)
			rc = index_ip(inv, idx, &f->ipv6[j]);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* life cycle */

int mm_inventory_new(struct mm_inventory **out)
{
	struct mm_inventory *inv = mm_calloc(1, sizeof(*inv));

	*out = NULL;
	if (!inv)
		return MM_ENOMEM;
	inv->scratch = mm_calloc(1, sizeof(*inv->scratch));
	if (!inv->scratch) {
		mm_free(inv);
		return MM_ENOMEM;
	}
	inv->max = MM_INV_MAX_INSTANCES;
	*out = inv;
	return 0;
}

void mm_inventory_free(struct mm_inventory *inv)
{
	size_t i;

	if (!inv)
		return;
	for (i = 0; i < inv->nslabs; i++)
		mm_free(inv->slabs[i]);
	mm_free(inv->slabs);
	mm_free(inv->ids);
	mm_free(inv->enis);
	mm_free(inv->ips);
	mm_free(inv->scratch);
	mm_free(inv);
}

void mm_inventory_set_max(struct mm_inventory *inv, size_t max)
{
	inv->max = max < MM_INV_MAX_INSTANCES ? max : MM_INV_MAX_INSTANCES;
}

/* ------------------------------------------------------------------ */
/* merging one record into another */

static void set_str(char *dst, size_t cap, const char *src)
{
	if (src[0])
		mm_str_copy(dst, cap, mm_str_c(src));
}

#define MM__SET(dst, src, field) set_str((dst)->field, sizeof((dst)->field), (src)->field)

static void merge_nif(struct mm_netif *d, const struct mm_netif *s)
{
	MM__SET(d, s, eni);
	MM__SET(d, s, subnet_id);
	MM__SET(d, s, vpc_id);
	MM__SET(d, s, private_dns);
	MM__SET(d, s, public_dns);
	if (s->has_public_ip) {
		d->has_public_ip = 1;
		d->public_ip = s->public_ip;
	}
	if (s->nprivate) {
		d->nprivate = s->nprivate;
		memcpy(d->private_ips, s->private_ips, sizeof(d->private_ips));
	}
	if (s->nipv6) {
		d->nipv6 = s->nipv6;
		memcpy(d->ipv6, s->ipv6, sizeof(d->ipv6));
	}
	if (s->nsg) {
		d->nsg = s->nsg;
		memcpy(d->sg_id, s->sg_id, sizeof(d->sg_id));
		memcpy(d->sg_name, s->sg_name, sizeof(d->sg_name));
	}
}

/* Fields that src sets replace those in dst. Interfaces match by ENI; an
 * interface without an ENI (built from an instance's top-level address
 * fields) is the primary interface, so it pairs with the first one. */
static void merge_instance(struct mm_instance *d, const struct mm_instance *s)
{
	int i, k;

	MM__SET(d, s, instance_type);
	MM__SET(d, s, image_id);
	MM__SET(d, s, launch_time);
	MM__SET(d, s, az);
	MM__SET(d, s, state);
	MM__SET(d, s, platform);
	MM__SET(d, s, iam_profile_arn);
	MM__SET(d, s, iam_profile_id);
	MM__SET(d, s, account);
	if (s->ntags) {
		d->ntags = s->ntags;
		memcpy(d->tags, s->tags, sizeof(d->tags[0]) * (size_t)s->ntags);
	}
	for (i = 0; i < s->nnif; i++) {
		const struct mm_netif *sf = &s->nifs[i];
		int at = -1;
		if (sf->eni[0]) {
			for (k = 0; k < d->nnif && at < 0; k++)
				if (!strcmp(d->nifs[k].eni, sf->eni))
					at = k;
			for (k = 0; k < d->nnif && at < 0; k++)
				if (!d->nifs[k].eni[0])
					at = k;
		} else if (d->nnif) {
			at = 0;
		}
		if (at < 0) {
			if (d->nnif >= MM_INV_MAX_NIFS)
				continue;
			at = d->nnif++;
			memset(&d->nifs[at], 0, sizeof(d->nifs[at]));
		}
		merge_nif(&d->nifs[at], sf);
	}
}

/* A caller-built record must keep every count within its array and every
 * string terminated, or merging and indexing would run off the end. */
static int instance_valid(const struct mm_instance *in)
{
	int i;

#define MM__TERM(s) (memchr((s), 0, sizeof(s)) != NULL)
	if (!in->instance_id[0] || !MM__TERM(in->instance_id) || !MM__TERM(in->instance_type) ||
	    !MM__TERM(in->image_id) || !MM__TERM(in->launch_time) || !MM__TERM(in->az) ||
	    !MM__TERM(in->state) || !MM__TERM(in->platform) || !MM__TERM(in->iam_profile_arn) ||
	    !MM__TERM(in->iam_profile_id) || !MM__TERM(in->account))
		return 0;
	if (in->ntags < 0 || in->ntags > MM_INV_MAX_TAGS || in->nnif < 0 ||
	    in->nnif > MM_INV_MAX_NIFS)
		return 0;
	for (i = 0; i < in->ntags; i++)
		if (!MM__TERM(in->tags[i].key) || !MM__TERM(in->tags[i].value))
			return 0;
	for (i = 0; i < in->nnif; i++) {
		const struct mm_netif *f = &in->nifs[i];
		int j;
		if (f->nprivate < 0 || f->nprivate > MM_INV_MAX_IPS || f->nipv6 < 0 ||
		    f->nipv6 > MM_INV_MAX_IPS || f->nsg < 0 || f->nsg > MM_INV_MAX_SGS ||
		    !MM__TERM(f->eni) || !MM__TERM(f->subnet_id) || !MM__TERM(f->vpc_id) ||
		    !MM__TERM(f->private_dns) || !MM__TERM(f->public_dns))
			return 0;
		for (j = 0; j < f->nsg; j++)
			if (!MM__TERM(f->sg_id[j]) || !MM__TERM(f->sg_name[j]))
				return 0;
	}
#undef MM__TERM
	return 1;
}

/* Copy only the used part of src into dst, which must be zeroed. A
 * record is ~35 KB of fixed arrays but a typical instance uses a few
 * tags and one interface; with dst from calloc the untouched pages are
 * never faulted in, so resident memory follows what is used. */
static void copy_used(struct mm_instance *dst, const struct mm_instance *src)
{
	memcpy(dst, src, offsetof(struct mm_instance, tags));
	memcpy(dst->tags, src->tags, sizeof(src->tags[0]) * (size_t)src->ntags);
	dst->nnif = src->nnif;
	memcpy(dst->nifs, src->nifs, sizeof(src->nifs[0]) * (size_t)src->nnif);
}

/* Zero what a parser relies on: the scalar fields and the counts. Tags
 * and interfaces are written whole as they are added. */
static void scratch_reset(struct mm_instance *in)
{
	memset(in, 0, offsetof(struct mm_instance, tags));
	in->nnif = 0;
}

int mm_inventory_put(struct mm_inventory *inv, const struct mm_instance *inst)
{
	long at;
	uint32_t idx;
	int rc;

	if (!instance_valid(inst))
		return MM_EINVAL;
	at = find_id(inv, inst->instance_id, strlen(inst->instance_id));
	if (at >= 0) {
		idx = (uint32_t)at;
		if (item(inv, idx) != inst)
			merge_instance(item(inv, idx), inst);
		return index_keys(inv, idx);
	}
	if (inv->n >= inv->max)
		return MM_ETOOBIG;
	if (inv->n / MM__SLAB == inv->nslabs) {
		struct mm_instance *slab;
		if (inv->nslabs == inv->slabs_cap) {
			size_t ncap = inv->slabs_cap ? inv->slabs_cap * 2 : 16;
			struct mm_instance **ns = mm_realloc(inv->slabs, ncap * sizeof(*ns));
			if (!ns)
				return MM_ENOMEM;
			inv->slabs = ns;
			inv->slabs_cap = ncap;
		}
		slab = mm_calloc(MM__SLAB, sizeof(*slab));
		if (!slab)
			return MM_ENOMEM;
		inv->slabs[inv->nslabs++] = slab;
	}
	idx = (uint32_t)inv->n;
	copy_used(item(inv, idx), inst);
	inv->n++;
	rc = index_id(inv, idx);
	if (rc) {
		/* Unindexed records would be invisible: take it back out, and
		 * leave the slot zeroed as copy_used expects. */
		inv->n--;
		memset(item(inv, idx), 0, sizeof(struct mm_instance));
		return rc;
	}
	return index_keys(inv, idx);
}

int mm_inventory_merge(struct mm_inventory *dst, const struct mm_inventory *src)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < src->n && !rc; i++)
		rc = mm_inventory_put(dst, item(src, i));
	return rc;
}

/* ------------------------------------------------------------------ */
/* lookups */

const struct mm_instance *mm_inventory_by_id(const struct mm_inventory *inv, const char *id,
					     size_t n)
{
	long at = find_id(inv, id, n);
	return at < 0 ? NULL : item(inv, (size_t)at);
}

const struct mm_instance *mm_inventory_by_eni(const struct mm_inventory *inv, const char *eni,
					      size_t n)
{
	uint64_t h;
	size_t j;

	if (!inv->enis_cap || !n)
		return NULL;
	h = hash_str(eni, n);
	for (j = h & (inv->enis_cap - 1); inv->enis[j].v; j = (j + 1) & (inv->enis_cap - 1)) {
		const struct mm__slot *s = &inv->enis[j];
		if (s->h == h && inst_has_eni(item(inv, s->v - 1), eni, n))
			return item(inv, s->v - 1);
	}
	return NULL;
}

const struct mm_instance *mm_inventory_by_ip(const struct mm_inventory *inv,
					     const struct mm_ip *ip)
{
	const struct mm_instance *found = NULL;
	size_t j;

	if (!inv->ips_cap)
		return NULL;
	for (j = hash_ip(ip) & (inv->ips_cap - 1); inv->ips[j].v; j = (j + 1) & (inv->ips_cap - 1)) {
		const struct mm__ipslot *s = &inv->ips[j];
		const struct mm_instance *in;
		if (!mm_ip_eq(&s->ip, ip))
			continue;
		if (s->v == MM__IP_OVERFLOW)
			return NULL;
		in = item(inv, s->v - 1);
		if (!inst_has_ip(in, ip))
			continue;	/* stale: the instance gave it up */
		if (found && found != in)
			return NULL;	/* ambiguous */
		found = in;
	}
	return found;
}

const struct mm_netif *mm_instance_nif(const struct mm_instance *inst, const char *eni, size_t n)
{
	int i;

	if (!inst || !n)
		return NULL;
	for (i = 0; i < inst->nnif; i++)
		if (zeq(inst->nifs[i].eni, eni, n))
			return &inst->nifs[i];
	return NULL;
}

size_t mm_inventory_count(const struct mm_inventory *inv)
{
	return inv->n;
}

const struct mm_instance *mm_inventory_at(const struct mm_inventory *inv, size_t i)
{
	return i < inv->n ? item(inv, i) : NULL;
}

/* ------------------------------------------------------------------ */
/* JSON field helpers */

/* mm_str_copy that never cuts a UTF-8 sequence in half: the text comes
 * from validated JSON and goes back out as JSON, which must stay valid. */
static void copy_utf8(char *dst, size_t cap, struct mm_str s)
{
	if (s.n >= cap) {
		s.n = cap - 1;
		while (s.n && ((unsigned char)s.p[s.n] & 0xC0) == 0x80)
			s.n--;
	}
	mm_str_copy(dst, cap, s);
}

/* The member at obj.key (a dotted path): 1 with *v, 0 if obj is not an
 * object or has no such member, negative on malformed input. */
static int get_member(const struct mm_json_val *obj, const char *key, struct mm_json_val *v)
{
	if (obj->type != MM_JSON_OBJECT)
		return 0;
	return mm_json_path(obj, key, v);
}

/* Copy the string at obj.key into dst (truncating to cap). Missing keys,
 * null and non-string values leave dst untouched. */
static int get_str(const struct mm_json_val *obj, const char *key, char *dst, size_t cap)
{
	char mem[MM__FIELD_MAX];
	struct mm_arena ar;
	struct mm_json_val v;
	struct mm_str s;
	int rc;

	if ((rc = get_member(obj, key, &v)) <= 0)
		return rc;
	if (v.type != MM_JSON_STRING)
		return 0;
	mm_arena_init(&ar, mem, sizeof(mem));
	rc = mm_json_str(&v, &ar, &s);
	if (rc == MM_ETOOBIG)
		return 0;	/* absurdly long escaped field: ignore it */
	if (rc)
		return rc;
	copy_utf8(dst, cap, s);
	return 0;
}

static int get_ip(const struct mm_json_val *obj, const char *key, struct mm_ip *ip, int *ok)
{
	char txt[64] = "";
	int rc = get_str(obj, key, txt, sizeof(txt));

	*ok = 0;
	if (rc)
		return rc;
	if (txt[0] && mm_ip_parse(txt, strlen(txt), ip) == 0)
		*ok = 1;
	return 0;
}

/* Member key of obj as an array (or {"items": [...]}/{"item": [...]}
 * as CloudTrail's XML-derived shape nests them). 1 with *arr, 0 if none. */
static int get_arr(const struct mm_json_val *obj, const char *key, const char *inner,
		   struct mm_json_val *arr)
{
	struct mm_json_val v;
	int rc;

	if ((rc = get_member(obj, key, &v)) <= 0)
		return rc;
	if (inner) {
		if (v.type != MM_JSON_OBJECT)
			return 0;
		rc = mm_json_get(&v, inner, arr);
		if (rc <= 0)
			return rc;
	} else {
		*arr = v;
	}
	return arr->type == MM_JSON_ARRAY;
}

static int add_private(struct mm_netif *f, const struct mm_ip *ip, int primary)
{
	int i;

	for (i = 0; i < f->nprivate; i++) {
		if (mm_ip_eq(&f->private_ips[i], ip)) {
			if (primary && i) {
				struct mm_ip t = f->private_ips[0];
				f->private_ips[0] = f->private_ips[i];
				f->private_ips[i] = t;
			}
			return 0;
		}
	}
	if (f->nprivate >= MM_INV_MAX_IPS)
		return 0;
	if (primary && f->nprivate) {
		f->private_ips[f->nprivate++] = f->private_ips[0];
		f->private_ips[0] = *ip;
	} else {
		f->private_ips[f->nprivate++] = *ip;
	}
	return 0;
}

/* Launch time from a string (ISO) or a number (epoch ms; values below
 * 1e11, i.e. before 1973 as ms, are taken as seconds) into GuardDuty's
 * form. Unparseable or out of range: left empty. */
static void set_launch_time(struct mm_instance *in, const struct mm_json_val *v)
{
	int64_t ms = 0;

	if (v->type == MM_JSON_NUMBER) {
		if (mm_json_int(v, &ms) != 0 || ms < 0)
			return;
		if (ms < 100000000000LL)
			ms *= 1000;
	} else if (v->type == MM_JSON_STRING) {
		if (v->n < 3 || mm_time_parse_iso(v->p + 1, v->n - 2, &ms) != 0)
			return;
	} else {
		return;
	}
	if (ms < 0 || ms > 253402300799999LL)	/* before 1970 or past 9999: not real */
		return;
	mm_time_format_iso(ms, in->launch_time);
}

/* for each element of arr (skipped when arr is not an array): rc is 1
 * inside the body, and 0 or a negative MM_E... code after the loop. */
#define MM__EACH(arr, elem, rc)                                                     \
	for (struct mm_json_iter it_##elem, *once_##elem = &it_##elem;              \
	     once_##elem && (arr).type == MM_JSON_ARRAY &&                          \
	     mm_json_iter_init(&it_##elem, &(arr)) == 0;                            \
	     once_##elem = NULL)                                                    \
		while ((rc = mm_json_iter_next(&it_##elem, NULL, &elem)) == 1)

/* ------------------------------------------------------------------ */
/* lists, read alike in every source */

static int parse_groups(const struct mm_json_val *arr, struct mm_netif *f, const char *idk,
			const char *namek)
{
	struct mm_json_val g;
	int rc = 0, n = 0, r;

	MM__EACH(*arr, g, rc) {
		if (g.type != MM_JSON_OBJECT)
			continue;
		if (n >= MM_INV_MAX_SGS)
			continue;
		f->sg_id[n][0] = f->sg_name[n][0] = '\0';
		if ((r = get_str(&g, idk, f->sg_id[n], sizeof(f->sg_id[n]))) ||
		    (r = get_str(&g, namek, f->sg_name[n], sizeof(f->sg_name[n]))))
			return r;
		if (f->sg_id[n][0] || f->sg_name[n][0])
			n++;
	}
	if (rc < 0)
		return rc;
	f->nsg = n;
	return 0;
}

static int parse_tags(const struct mm_json_val *arr, struct mm_instance *in, const char *kk,
		      const char *vk)
{
	struct mm_json_val t;
	int rc = 0, r;

	in->ntags = 0;
	MM__EACH(*arr, t, rc) {
		struct mm_tag *tg;
		if (t.type != MM_JSON_OBJECT || in->ntags >= MM_INV_MAX_TAGS)
			continue;
		tg = &in->tags[in->ntags];
		tg->key[0] = tg->value[0] = '\0';
		if ((r = get_str(&t, kk, tg->key, sizeof(tg->key))) ||
		    (r = get_str(&t, vk, tg->value, sizeof(tg->value))))
			return r;
		if (tg->key[0])
			in->ntags++;
	}
	return rc < 0 ? rc : 0;
}

static int parse_ipv6(const struct mm_json_val *arr, struct mm_netif *f, const char *key)
{
	struct mm_json_val a;
	int rc = 0, r, ok;

	MM__EACH(*arr, a, rc) {
		struct mm_ip ip;
		if (f->nipv6 >= MM_INV_MAX_IPS)
			continue;
		if (a.type == MM_JSON_OBJECT) {
			if ((r = get_ip(&a, key, &ip, &ok)))
				return r;
		} else if (a.type == MM_JSON_STRING) {
			ok = a.n >= 2 && mm_ip_parse(a.p + 1, a.n - 2, &ip) == 0;
		} else {
			ok = 0;
		}
		if (ok)
			f->ipv6[f->nipv6++] = ip;
	}
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ */
/* one reader for three spellings of an instance
 *
 * describe-instances, CloudTrail's RunInstances response and GuardDuty's
 * instanceDetails carry the same shapes under different key names:
 * describe-instances in upper camel case, CloudTrail in lower camel case
 * with lists still wrapped as {"items": [...]} from EC2's XML API,
 * GuardDuty flat. A key table per source lets one reader serve all three,
 * so a fix to how an interface is read lands in every source at once. */

/* A list at key, or at key.inner when inner is not NULL. */
struct mm__arr {
	const char *key, *inner;
};

struct mm__nif_keys {
	const char *eni, *subnet, *vpc, *privdns, *pubdns, *pubip, *privip;
	struct mm__arr privs;	/* the interface's private addresses */
	const char *priv_ip;	/* address key in an element of privs */
	const char *priv_primary;	/* its primary flag; NULL: none are primary */
	const char *priv_pubip;	/* its public address; NULL: not read */
	struct mm__arr ipv6s;
	const char *ipv6;	/* address key in an element of ipv6s */
	struct mm__arr groups;
	const char *group_id, *group_name;
};

struct mm__inst_keys {
	const char *id, *type, *image, *az, *state, *platform;
	const char *platform_details;	/* NULL: the source has none */
	const char *iam_arn, *iam_id, *launch;
	struct mm__arr tags;
	const char *tag_key, *tag_value;
	struct mm__arr nifs;
	const struct mm__nif_keys *nif;
	/* The instance's own address fields, read as its primary interface
	 * when it has no interface list (only the scalar keys are set);
	 * NULL: no such fallback. */
	const struct mm__nif_keys *top;
};

static const struct mm__nif_keys describe_nif_keys = {
	.eni = "NetworkInterfaceId", .subnet = "SubnetId", .vpc = "VpcId",
	.privdns = "PrivateDnsName", .pubdns = "Association.PublicDnsName",
	.pubip = "Association.PublicIp", .privip = "PrivateIpAddress",
	.privs = {"PrivateIpAddresses", NULL}, .priv_ip = "PrivateIpAddress",
	.priv_primary = "Primary", .priv_pubip = "Association.PublicIp",
	.ipv6s = {"Ipv6Addresses", NULL}, .ipv6 = "Ipv6Address",
	.groups = {"Groups", NULL}, .group_id = "GroupId", .group_name = "GroupName",
};
static const struct mm__nif_keys describe_top_keys = {
	.subnet = "SubnetId", .vpc = "VpcId", .privdns = "PrivateDnsName",
	.pubdns = "PublicDnsName", .pubip = "PublicIpAddress", .privip = "PrivateIpAddress",
};
static const struct mm__inst_keys describe_keys = {
	.id = "InstanceId", .type = "InstanceType", .image = "ImageId",
	.az = "Placement.AvailabilityZone", .state = "State.Name", .platform = "Platform",
	.platform_details = "PlatformDetails", .iam_arn = "IamInstanceProfile.Arn",
	.iam_id = "IamInstanceProfile.Id", .launch = "LaunchTime",
	.tags = {"Tags", NULL}, .tag_key = "Key", .tag_value = "Value",
	.nifs = {"NetworkInterfaces", NULL}, .nif = &describe_nif_keys,
	.top = &describe_top_keys,
};

static const struct mm__nif_keys ct_nif_keys = {
	.eni = "networkInterfaceId", .subnet = "subnetId", .vpc = "vpcId",
	.privdns = "privateDnsName", .pubdns = "association.publicDnsName",
	.pubip = "association.publicIp", .privip = "privateIpAddress",
	.privs = {"privateIpAddressesSet", "item"}, .priv_ip = "privateIpAddress",
	.priv_primary = "primary",
	.ipv6s = {"ipv6AddressesSet", "item"}, .ipv6 = "ipv6Address",
	.groups = {"groupSet", "items"}, .group_id = "groupId", .group_name = "groupName",
};
static const struct mm__nif_keys ct_top_keys = {
	.subnet = "subnetId", .vpc = "vpcId", .privdns = "privateDnsName",
	.pubdns = "dnsName", .pubip = "ipAddress", .privip = "privateIpAddress",
};
static const struct mm__inst_keys ct_keys = {
	.id = "instanceId", .type = "instanceType", .image = "imageId",
	.az = "placement.availabilityZone", .state = "instanceState.name",
	.platform = "platform", .iam_arn = "iamInstanceProfile.arn",
	.iam_id = "iamInstanceProfile.id", .launch = "launchTime",
	.tags = {"tagSet", "items"}, .tag_key = "key", .tag_value = "value",
	.nifs = {"networkInterfaceSet", "items"}, .nif = &ct_nif_keys, .top = &ct_top_keys,
};

/* GuardDuty marks no address primary (the interface's own
 * privateIpAddress, read first, already is) and has no top-level
 * address fields. */
static const struct mm__nif_keys details_nif_keys = {
	.eni = "networkInterfaceId", .subnet = "subnetId", .vpc = "vpcId",
	.privdns = "privateDnsName", .pubdns = "publicDnsName", .pubip = "publicIp",
	.privip = "privateIpAddress",
	.privs = {"privateIpAddresses", NULL}, .priv_ip = "privateIpAddress",
	.ipv6s = {"ipv6Addresses", NULL}, .ipv6 = "ipv6Address",
	.groups = {"securityGroups", NULL}, .group_id = "groupId", .group_name = "groupName",
};
static const struct mm__inst_keys details_keys = {
	.id = "instanceId", .type = "instanceType", .image = "imageId",
	.az = "availabilityZone", .state = "instanceState", .platform = "platform",
	.iam_arn = "iamInstanceProfile.arn", .iam_id = "iamInstanceProfile.id",
	.launch = "launchTime", .tags = {"tags", NULL}, .tag_key = "key", .tag_value = "value",
	.nifs = {"networkInterfaces", NULL}, .nif = &details_nif_keys,
};

/* The subnet, VPC and DNS names of an interface. */
static int nif_names(const struct mm_json_val *o, const struct mm__nif_keys *k,
		     struct mm_netif *f)
{
	int rc;

	if ((rc = get_str(o, k->subnet, f->subnet_id, sizeof(f->subnet_id))) ||
	    (rc = get_str(o, k->vpc, f->vpc_id, sizeof(f->vpc_id))) ||
	    (rc = get_str(o, k->privdns, f->private_dns, sizeof(f->private_dns))) ||
	    (rc = get_str(o, k->pubdns, f->public_dns, sizeof(f->public_dns))))
		return rc;
	return 0;
}

/* The address at obj.key, if it parses, as f's public address. */
static int get_public_ip(const struct mm_json_val *obj, const char *key, struct mm_netif *f)
{
	struct mm_ip ip;
	int ok, rc = get_ip(obj, key, &ip, &ok);

	if (!rc && ok) {
		f->has_public_ip = 1;
		f->public_ip = ip;
	}
	return rc;
}

/* The address at obj.key, if it parses, as the primary private one. */
static int get_primary_ip(const struct mm_json_val *obj, const char *key, struct mm_netif *f)
{
	struct mm_ip ip;
	int ok, rc = get_ip(obj, key, &ip, &ok);

	if (!rc && ok)
		add_private(f, &ip, 1);
	return rc;
}

static int read_nif(const struct mm_json_val *o, const struct mm__nif_keys *k,
		    struct mm_netif *f)
{
	struct mm_json_val arr, p;
	struct mm_ip ip;
	int rc, ok;

	memset(f, 0, sizeof(*f));
	if ((rc = get_str(o, k->eni, f->eni, sizeof(f->eni))) || (rc = nif_names(o, k, f)) ||
	    (rc = get_public_ip(o, k->pubip, f)) || (rc = get_primary_ip(o, k->privip, f)))
		return rc;
	if ((rc = get_arr(o, k->privs.key, k->privs.inner, &arr)) < 0)
		return rc;
	if (rc == 1) {
		MM__EACH(arr, p, rc) {
			struct mm_json_val prim;
			int r;
			if (p.type != MM_JSON_OBJECT)
				continue;
			if ((r = get_ip(&p, k->priv_ip, &ip, &ok)))
				return r;
			if (ok)
				add_private(f, &ip,
					    k->priv_primary &&
						    mm_json_get(&p, k->priv_primary, &prim) == 1 &&
						    prim.type == MM_JSON_TRUE);
			/* A public address on a secondary private one: keep it
			 * only if the interface has none of its own. */
			if (k->priv_pubip && !f->has_public_ip &&
			    (r = get_public_ip(&p, k->priv_pubip, f)))
				return r;
		}
		if (rc < 0)
			return rc;
	}
	if ((rc = get_arr(o, k->ipv6s.key, k->ipv6s.inner, &arr)) < 0)
		return rc;
	if (rc == 1 && (rc = parse_ipv6(&arr, f, k->ipv6)))
		return rc;
	if ((rc = get_arr(o, k->groups.key, k->groups.inner, &arr)) < 0)
		return rc;
	if (rc == 1 && (rc = parse_groups(&arr, f, k->group_id, k->group_name)))
		return rc;
	return 0;
}

/* The top-level address fields of an instance as its primary interface
 * (used when there is no interface list). 1 if it had anything. */
static int top_level_nif(const struct mm_json_val *o, struct mm_netif *f,
			 const struct mm__nif_keys *k)
{
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = nif_names(o, k, f)) || (rc = get_primary_ip(o, k->privip, f)) ||
	    (rc = get_public_ip(o, k->pubip, f)))
		return rc;
	return f->nprivate || f->has_public_ip || f->subnet_id[0] || f->vpc_id[0];
}

/* Instance tags from RunInstances' requestParameters.tagSpecificationSet
 * (the request names them even when the response does not echo a tagSet). */
static int request_tags(const struct mm_json_val *req, struct mm_instance *in)
{
	struct mm_json_val arr, spec, tags;
	int rc;

	if ((rc = get_arr(req, "tagSpecificationSet", "items", &arr)) <= 0)
		return rc;
	MM__EACH(arr, spec, rc) {
		char rt[32] = "";
		int r;
		if (spec.type != MM_JSON_OBJECT)
			continue;
		if ((r = get_str(&spec, "resourceType", rt, sizeof(rt))))
			return r;
		if (strcmp(rt, "instance"))
			continue;
		if ((r = get_arr(&spec, "tags", NULL, &tags)) < 0)
			return r;
		if (r == 1)
			return parse_tags(&tags, in, "key", "value");
	}
	return rc < 0 ? rc : 0;
}

/* Read the instance object o, spelled as k says, into the inventory's
 * scratch record. req, when not NULL, is a RunInstances request whose
 * tags stand in for a response without any. 1 with the record filled
 * (account left empty for the caller), 0 if o names no instance,
 * or a negative MM_E... code. */
static int read_instance(struct mm_inventory *inv, const struct mm_json_val *o,
			 const struct mm__inst_keys *k, const struct mm_json_val *req)
{
	struct mm_instance *in = inv->scratch;
	struct mm_json_val v, arr, e;
	char details[64] = "";
	int rc;

	scratch_reset(in);
	if ((rc = get_str(o, k->id, in->instance_id, sizeof(in->instance_id))) ||
	    (rc = get_str(o, k->type, in->instance_type, sizeof(in->instance_type))) ||
	    (rc = get_str(o, k->image, in->image_id, sizeof(in->image_id))) ||
	    (rc = get_str(o, k->az, in->az, sizeof(in->az))) ||
	    (rc = get_str(o, k->state, in->state, sizeof(in->state))) ||
	    (rc = get_str(o, k->platform, in->platform, sizeof(in->platform))) ||
	    (k->platform_details &&
	     (rc = get_str(o, k->platform_details, details, sizeof(details)))) ||
	    (rc = get_str(o, k->iam_arn, in->iam_profile_arn, sizeof(in->iam_profile_arn))) ||
	    (rc = get_str(o, k->iam_id, in->iam_profile_id, sizeof(in->iam_profile_id))))
		return rc;
	if (!in->instance_id[0])
		return 0;	/* nothing to key it by (an interface-only object): skip */
	/* GuardDuty's platform is EC2's Platform field: "windows" or null
	 * (Linux). PlatformDetails ("Linux/UNIX", "Windows with SQL...")
	 * only stands in for it when Platform is missing. */
	if (!in->platform[0] && !strncmp(details, "Windows", 7))
		strcpy(in->platform, "windows");
	if ((rc = mm_json_get(o, k->launch, &v)) < 0)
		return rc;
	if (rc == 1)
		set_launch_time(in, &v);
	if ((rc = get_arr(o, k->tags.key, k->tags.inner, &arr)) < 0)
		return rc;
	if (rc == 1 && (rc = parse_tags(&arr, in, k->tag_key, k->tag_value)))
		return rc;
	if (req && in->ntags == 0 && req->type == MM_JSON_OBJECT && (rc = request_tags(req, in)))
		return rc;
	if ((rc = get_arr(o, k->nifs.key, k->nifs.inner, &arr)) < 0)
		return rc;
	if (rc == 1) {
		MM__EACH(arr, e, rc) {
			int r;
			if (e.type != MM_JSON_OBJECT || in->nnif >= MM_INV_MAX_NIFS)
				continue;
			if ((r = read_nif(&e, k->nif, &in->nifs[in->nnif])))
				return r;
			in->nnif++;
		}
		if (rc < 0)
			return rc;
	}
	if (in->nnif == 0 && k->top) {
		rc = top_level_nif(o, &in->nifs[0], k->top);
		if (rc < 0)
			return rc;
		in->nnif = rc;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* describe-instances */

static int describe_instance(struct mm_inventory *inv, const struct mm_json_val *o,
			     const char *owner, struct mm_err *err)
{
	struct mm_instance *in = inv->scratch;
	int rc = read_instance(inv, o, &describe_keys, NULL);

	if (rc <= 0)
		return rc;
	mm_str_copy(in->account, sizeof(in->account), mm_str_c(owner));
	rc = mm_inventory_put(inv, in);
	if (rc == MM_ETOOBIG)
		return mm_err_set(err, rc, "inventory full (%zu instances)", inv->max);
	return rc;
}

int mm_inventory_load_describe(struct mm_inventory *inv, const char *buf, size_t n,
			       struct mm_err *err)
{
	struct mm_json_val doc, res, r, arr, o;
	struct mm_json_iter it;
	size_t used;
	int rc, full = 0;

	rc = mm_json_value(buf, n, &doc, &used);
	if (rc)
		return mm_err_set(err, MM_EPARSE, "describe-instances: %s", mm_strerror(rc));
	if (doc.type != MM_JSON_OBJECT)
		return mm_err_set(err, MM_EFORMAT, "describe-instances: not a JSON object");
	rc = mm_json_get(&doc, "Reservations", &res);
	if (rc < 0)
		return mm_err_set(err, MM_EPARSE, "describe-instances: %s", mm_strerror(rc));
	if (rc == 0 || res.type != MM_JSON_ARRAY)
		return mm_err_set(err, MM_EFORMAT,
				  "describe-instances: no \"Reservations\" array");
	if ((rc = mm_json_iter_init(&it, &res)))
		return mm_err_set(err, rc, "describe-instances: %s", mm_strerror(rc));
	while ((rc = mm_json_iter_next(&it, NULL, &r)) == 1) {
		char owner[32] = "";
		int r2;
		if (r.type != MM_JSON_OBJECT)
			continue;
		if ((r2 = get_str(&r, "OwnerId", owner, sizeof(owner))))
			return mm_err_set(err, MM_EPARSE, "describe-instances: %s",
					  mm_strerror(r2));
		if ((r2 = get_arr(&r, "Instances", NULL, &arr)) < 0)
			return mm_err_set(err, MM_EPARSE, "describe-instances: %s",
					  mm_strerror(r2));
		if (r2 == 0)
			continue;
		MM__EACH(arr, o, r2) {
			int r3;
			if (o.type != MM_JSON_OBJECT)
				continue;
			r3 = describe_instance(inv, &o, owner, err);
			if (r3 == MM_ETOOBIG) {
				full++;	/* keep counting what did not fit */
				continue;
			}
			if (r3)
				return mm_err_set(err, r3 == MM_ENOMEM ? r3 : MM_EPARSE,
						  "describe-instances: %s", mm_strerror(r3));
		}
		if (r2 < 0)
			return mm_err_set(err, MM_EPARSE, "describe-instances: %s",
					  mm_strerror(r2));
	}
	if (rc < 0)
		return mm_err_set(err, MM_EPARSE, "describe-instances: %s", mm_strerror(rc));
	if (full)
		return mm_err_set(err, MM_ETOOBIG,
				  "describe-instances: inventory full at %zu instances, %d dropped",
				  inv->max, full);
	return 0;
}

int mm_inventory_load_file(struct mm_inventory *inv, const char *path, struct mm_err *err)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	f = fopen(path, "rb");
	if (!f) {
		rc = mm_err_set(err, MM_EIO, "%s: cannot open", path);
		goto out;
	}
	for (;;) {
		size_t got;
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb;
			if (cap >= MM__FILE_MAX) {
				rc = mm_err_set(err, MM_ETOOBIG, "%s: larger than %zu bytes", path,
						MM__FILE_MAX);
				goto out;
			}
			nb = mm_realloc(buf, ncap);
			if (!nb) {
				rc = mm_err_set(err, MM_ENOMEM, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = mm_err_set(err, MM_EIO, "%s: read error", path);
		goto out;
	}
	rc = mm_inventory_load_describe(inv, buf, len, err);
	if (rc) {
		char msg[sizeof(err->msg)];
		if (err) {
			snprintf(msg, sizeof(msg), "%s", err->msg);
			mm_err_set(err, rc, "%s: %s", path, msg);
		}
	}
out:
	if (f)
		fclose(f);
	mm_free(buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* CloudTrail RunInstances */

static int ct_instance(struct mm_inventory *inv, const struct mm_json_val *o,
		       const struct mm_json_val *req, struct mm_str account)
{
	struct mm_instance *in = inv->scratch;
	int rc = read_instance(inv, o, &ct_keys, req);

	if (rc <= 0)
		return rc;
	mm_str_copy(in->account, sizeof(in->account), account);
	return mm_inventory_put(inv, in);
}

int mm_inventory_add_event(struct mm_inventory *inv, const struct mm_event *ev, struct mm_err *err)
{
	const struct mm_api *a = &ev->u.api;
	struct mm_json_val resp, req = {.type = MM_JSON_INVALID}, arr, o;
	size_t used;
	int rc, r2;

	if (ev->kind != MM_EV_API || !mm_str_eqz(a->event_name, "RunInstances") ||
	    a->response_elements.n == 0 || a->error_code.n)
		return 0;
	rc = mm_json_value(a->response_elements.p, a->response_elements.n, &resp, &used);
	if (rc || resp.type != MM_JSON_OBJECT)
		return mm_err_set(err, MM_EPARSE, "RunInstances: bad responseElements");
	if (a->request_parameters.n &&
	    mm_json_value(a->request_parameters.p, a->request_parameters.n, &req, &used) != 0)
		req.type = MM_JSON_INVALID;	/* tags are optional: ignore a bad request */
	rc = get_arr(&resp, "instancesSet", "items", &arr);
	if (rc <= 0)
		return rc < 0 ? mm_err_set(err, MM_EPARSE, "RunInstances: bad instancesSet") : 0;
	MM__EACH(arr, o, rc) {
		if (o.type != MM_JSON_OBJECT)
			continue;
		r2 = ct_instance(inv, &o, &req, a->account);
		if (r2 == MM_ETOOBIG)
			return mm_err_set(err, r2, "inventory full (%zu instances)", inv->max);
		if (r2 == MM_ENOMEM)
			return mm_err_set(err, r2, "RunInstances: out of memory");
		if (r2)
			return mm_err_set(err, MM_EPARSE, "RunInstances: %s", mm_strerror(r2));
	}
	if (rc < 0)
		return mm_err_set(err, MM_EPARSE, "RunInstances: %s", mm_strerror(rc));
	return 0;
}

/* ------------------------------------------------------------------ */
/* GuardDuty instanceDetails */

static int kv(struct mm_buf *b, int *first, const char *key, const char *val)
{
	int rc;

	if (!val[0])
		return 0;
	rc = mm_buf_printf(b, "%s\"%s\":", *first ? "" : ",", key);
	*first = 0;
	return rc ? rc : mm_buf_json_strz(b, val);
}

static int nif_json(const struct mm_netif *f, struct mm_buf *b)
{
	char ip[MM_IP_STRLEN];
	int rc, i, first = 1;

	if ((rc = mm_buf_addc(b, '{')) || (rc = kv(b, &first, "networkInterfaceId", f->eni)))
		return rc;
	if ((rc = mm_buf_printf(b, "%s\"privateIpAddresses\":[", first ? "" : ",")))
		return rc;
	first = 0;
	for (i = 0; i < f->nprivate; i++) {
		int f2 = 1;
		if ((rc = mm_buf_addz(b, i ? ",{" : "{")))
			return rc;
		/* Only the primary address's DNS name is known. */
		if (i == 0 && (rc = kv(b, &f2, "privateDnsName", f->private_dns)))
			return rc;
		if ((rc = kv(b, &f2, "privateIpAddress", mm_ip_format(&f->private_ips[i], ip))) ||
		    (rc = mm_buf_addc(b, '}')))
			return rc;
	}
	if ((rc = mm_buf_addc(b, ']')) || (rc = kv(b, &first, "subnetId", f->subnet_id)) ||
	    (rc = kv(b, &first, "vpcId", f->vpc_id)) ||
	    (rc = kv(b, &first, "privateDnsName", f->private_dns)) ||
	    (rc = mm_buf_addz(b, ",\"securityGroups\":[")))
		return rc;
	for (i = 0; i < f->nsg; i++) {
		int f2 = 1;
		if ((rc = mm_buf_addz(b, i ? ",{" : "{")) ||
		    (rc = kv(b, &f2, "groupName", f->sg_name[i])) ||
		    (rc = kv(b, &f2, "groupId", f->sg_id[i])) || (rc = mm_buf_addc(b, '}')))
			return rc;
	}
	if ((rc = mm_buf_addc(b, ']')))
		return rc;
	if (f->has_public_ip && (rc = kv(b, &first, "publicIp", mm_ip_format(&f->public_ip, ip))))
		return rc;
	if ((rc = mm_buf_addz(b, ",\"ipv6Addresses\":[")))
		return rc;
	for (i = 0; i < f->nipv6; i++) {
		if ((i && (rc = mm_buf_addc(b, ','))) ||
		    (rc = mm_buf_json_strz(b, mm_ip_format(&f->ipv6[i], ip))))
			return rc;
	}
	if ((rc = mm_buf_addc(b, ']')) || (rc = kv(b, &first, "publicDnsName", f->public_dns)))
		return rc;
	if (f->nprivate &&
	    (rc = kv(b, &first, "privateIpAddress", mm_ip_format(&f->private_ips[0], ip))))
		return rc;
	return mm_buf_addc(b, '}');
}

static int instance_json(const struct mm_instance *in, struct mm_buf *b)
{
	int rc, i, first = 1;

	if ((rc = mm_buf_addc(b, '{')) || (rc = kv(b, &first, "instanceId", in->instance_id)) ||
	    (rc = kv(b, &first, "instanceType", in->instance_type)) ||
	    (rc = kv(b, &first, "launchTime", in->launch_time)))
		return rc;
	if (in->platform[0])
		rc = kv(b, &first, "platform", in->platform);
	else
		rc = mm_buf_printf(b, "%s\"platform\":null", first ? "" : ",");
	first = 0;
	if (rc || (rc = mm_buf_addz(b, ",\"productCodes\":[]")))
		return rc;
	if (in->iam_profile_arn[0] || in->iam_profile_id[0]) {
		int f2 = 1;
		if ((rc = mm_buf_addz(b, ",\"iamInstanceProfile\":{")) ||
		    (rc = kv(b, &f2, "arn", in->iam_profile_arn)) ||
		    (rc = kv(b, &f2, "id", in->iam_profile_id)) || (rc = mm_buf_addc(b, '}')))
			return rc;
	}
	if ((rc = mm_buf_addz(b, ",\"networkInterfaces\":[")))
		return rc;
	for (i = 0; i < in->nnif; i++)
		if ((i && (rc = mm_buf_addc(b, ','))) || (rc = nif_json(&in->nifs[i], b)))
			return rc;
	if ((rc = mm_buf_addz(b, "],\"tags\":[")))
		return rc;
	for (i = 0; i < in->ntags; i++) {
		if ((rc = mm_buf_addz(b, i ? ",{\"key\":" : "{\"key\":")) ||
		    (rc = mm_buf_json_strz(b, in->tags[i].key)) ||
		    (rc = mm_buf_addz(b, ",\"value\":")) ||
		    (rc = mm_buf_json_strz(b, in->tags[i].value)) || (rc = mm_buf_addc(b, '}')))
			return rc;
	}
	if ((rc = mm_buf_addc(b, ']')) || (rc = kv(b, &first, "instanceState", in->state)) ||
	    (rc = kv(b, &first, "availabilityZone", in->az)) ||
	    (rc = kv(b, &first, "imageId", in->image_id)))
		return rc;
	return mm_buf_addc(b, '}');
}

int mm_instance_to_json(const struct mm_instance *inst, const char *eni, struct mm_buf *out)
{
	size_t mark = out->len;
	int rc;

	if (inst)
		rc = instance_json(inst, out);
	else if (eni && eni[0]) {
		if (!(rc = mm_buf_addz(out, "{\"networkInterfaces\":[{\"networkInterfaceId\":")) &&
		    !(rc = mm_buf_json_strz(out, eni)))
			rc = mm_buf_addz(out, "}]}");
	} else
		rc = mm_buf_addz(out, "{}");
	if (rc) {
		/* Never leave half an object behind. */
		out->len = mark;
		if (out->p)
			out->p[mark] = '\0';
	}
	return rc;
}

int mm_inventory_add_details_json(struct mm_inventory *inv, const char *buf, size_t n,
				  struct mm_err *err)
{
	struct mm_instance *in = inv->scratch;
	struct mm_json_val o, v;
	size_t used;
	int rc;

	rc = mm_json_value(buf, n, &o, &used);
	if (rc || o.type != MM_JSON_OBJECT)
		return mm_err_set(err, MM_EPARSE, "instanceDetails: not a JSON object");
	/* Accept a whole finding too: resource.instanceDetails. */
	if (mm_json_path(&o, "resource.instanceDetails", &v) == 1) {
		if (v.type != MM_JSON_OBJECT)
			return 0;
		o = v;
	}
	rc = read_instance(inv, &o, &details_keys, NULL);
	if (rc < 0)
		return mm_err_set(err, MM_EPARSE, "instanceDetails: %s", mm_strerror(rc));
	if (rc == 0)
		return 0;	/* an interface-only object names no instance */
	rc = mm_inventory_put(inv, in);
	if (rc == MM_ETOOBIG)
		return mm_err_set(err, rc, "inventory full (%zu instances)", inv->max);
	if (rc)
		return mm_err_set(err, rc, "instanceDetails: %s", mm_strerror(rc));
	return 0;
}
