/* netbase.c - per-ENI network baselines from VPC Flow Logs, learned in
 * event time, and the findings for traffic that leaves them:
 * Behavior:EC2/NetworkPortUnusual, Backdoor:EC2/Spambot,
 * Behavior:EC2/TrafficVolumeUnusual, DefenseEvasion:EC2/UnusualDNSResolver,
 * DefenseEvasion:EC2/UnusualDoHActivity and DefenseEvasion:EC2/UnusualDoTActivity
 * (docs/finding-types.md has the logic and every threshold's reason).
 *
 * What is learned per ENI, from ACCEPTed records with a public remote:
 * the first time (event time) each item was seen - remote server ports
 * by protocol for connections the instance opened, local ports accepted
 * inbound, the public DNS resolvers it asked, whether it spoke DoH - the
 * outbound bytes per hour, a 32-register HyperLogLog of remote peers and,
 * for mail ports, the distinct remotes per hour.
 *
 * Order-free by construction: the baseline is what was seen before
 * learn_end = (the ENI's earliest record) + learning_days, judged from the
 * items' earliest times at finish, so files may come in any order and the
 * per-thread states merge exactly (min of times, sums of bytes, max of
 * registers, union of sets). An item whose earliest time is at or after
 * learn_end is new: it fires once (flag REPORTED, kept in the stored
 * state) and is part of the baseline from then on.
 *
 * Bounds: at most max_items items per ENI (the earliest ones by (time,
 * key) are kept, so the set is the same whatever the order; items beyond
 * the cap are neither learned nor reported: an ENI that talks to more
 * ports than that never gets a NetworkPortUnusual for the overflow, rather
 * than one for everything), at most max_hours hour buckets (the oldest is
 * folded into the baseline maximum), NB_MAIL_SLOTS mail hours of at most
 * 16 remotes, NB_MAX_ENIS interfaces (new ones past it are not tracked).
 *
 * Memory grows with need: an ENI starts as its struct, a 4-slot item
 * table and packed evidence for the items that can fire; its hour table,
 * big records, mail hours and spambot hours live in a cold part
 * allocated the first time any is needed.
 *
 * Cost: the flow scan's hot path is here. A record is dropped early
 * unless ACCEPTed with addresses and one public side; then one cheap hash
 * of the id, a small cache of recent ENIs keyed by it (else one table
 * probe), one probe of the ENI's item table and a byte sum in the ENI's
 * hot lines. No allocation, no formatting except on a new item or a new
 * hour. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/intern.h"
#include "core/mem.h"
#include "detect/blob.h"
#include "detect/detect.h"
#include "store/store.h"

#define NB_MAX_ENIS (1u << 18)
/* Mail hours are kept by hour modulo this, so an hour's remotes seen by
 * different threads meet at the merge unless a thread saw mail more than
 * this many hours later in the same batch (then the part it held is
 * judged alone). */
#define NB_MAIL_SLOTS 128
#define NB_MAIL_IPS 16
#define NB_MAX_HITS 4
#define NB_HLL 32
#define NB_BIG 8

/* item kinds: the top byte of the 64-bit key (never 0, so 0 is empty) */
#define K_OUT 1ULL	/* proto << 16 | remote server port, instance initiated */
#define K_IN 2ULL	/* proto << 16 | local port, accepted inbound */
#define K_RES 3ULL	/* DNS resolver address (IPv4, or a hash of IPv6) */
#define K_DOH 4ULL	/* any DoH resolver on 443 */
#define KEY(k, v) ((k) << 56 | (uint64_t)(v))
#define KIND(key) ((key) >> 56)

#define F_REPORTED 1u
/* an item's flags above the low byte: 1 + its index in the ENI's dense
 * evidence array, 0 for none (inbound ports, mail and DNS server ports
 * never fire on their own, so they keep no evidence) */
#define DI_SHIFT 8
#define ITEM_DI(it) ((it)->flags >> DI_SHIFT)

/* params, in the table's order */
enum { P_LEARN, P_MAX_ITEMS, P_SPAM_IPS, P_VOL_FACTOR, P_VOL_FLOOR, P_MAX_HOURS, P__N };

struct nb_item {	/* hot: probed per record */
	uint64_t key;
	uint32_t first;	/* earliest event time, s */
	uint32_t flags;
};

struct nb_det {		/* cold: the item's earliest record, for the finding */
	struct mm_evref ref;	/* ref.file NULL: none (restored from the store) */
	struct mm_ip rip, lip;	/* remote, local */
	uint16_t lport, rport;
	uint8_t proto;
};

/* The same, as kept (40 bytes, not 72): the time in seconds, v4
 * addresses inline (an IPv6 pair goes to the ENI's ip6 array at the
 * same index), the server port and protocol from the item's key. */
struct nb_pdet {
	const char *file;
	uint64_t line, offset;
	uint32_t t;
	uint32_t rip, lip;	/* IPv4; v6: in ip6[index] */
	uint16_t lport;
	uint8_t proto, v6;
};

struct nb_hour {
	uint32_t hour;	/* event time / 3600 + 1; 0 = empty */
	uint32_t flags;
	uint64_t bytes;	/* sent by the instance to public remotes */
};

/* The largest record of one of the latest NB_BIG hours that had a big
 * record (>= volume_floor_bytes / 64): the evidence of a volume finding,
 * kept apart so the per-hour buckets stay 16 bytes. */
struct nb_big {
	uint32_t hour;
	uint64_t bytes;
	struct mm_evref ref;
	struct mm_ip rip, lip;	/* remote, local */
};

struct nb_mail {
	uint32_t hour;	/* + 1; 0 = empty */
	uint32_t n;
	uint32_t ip[NB_MAIL_IPS];	/* hashes of the distinct remotes */
	struct mm_evref ref;		/* earliest record of the hour */
	struct mm_ip rip, lip;	/* remote, local */
	uint16_t rport;
};

struct nb_hit {		/* an hour a mail port reached the spambot count */
	uint32_t hour;
	uint16_t rport;
	uint8_t flags;
	struct mm_ip rip, lip;	/* remote, local */
	struct mm_evref ref;
};

/* Every part past the fixed few lines is allocated on need and grows
 * with it: an ENI seen in a handful of records costs its struct, a
 * 4-slot item table and the evidence of the items that can fire. */
struct nb_eni {
	/* hot: what every record reads or writes, in the first lines */
	char name[32];
	uint32_t nlen;
	/* the hours being summed here (by hour parity: a file's records
	 * straddle an hour boundary), flushed into hr on change */
	uint32_t cur_hour[2];
	uint64_t cur_bytes[2];
	int64_t tmin, tmax;	/* event time span, s; tmin > tmax: none yet */
	uint8_t hll[NB_HLL];
	uint32_t icap, nitems;
	struct nb_item *it;
	/* cold */
	struct nb_pdet *det;	/* dense, ndet of dcap used */
	uint16_t ndet, dcap;
	uint8_t overflow;
	char account[16];
	char region[24];
	/* the rest, allocated the first time an ENI needs any of it (a
	 * second hour, a big record, mail, the item cap, an IPv6 pair);
	 * until then the shared all-zero nb_cold_none, only ever read */
	struct nb_cold *x;
};

struct nb_cold {
	struct nb_item latest;	/* at the cap: the latest item kept (key 0: unknown) */
	uint32_t hcap, nhours;
	struct nb_hour *hr;
	uint64_t frozen_max;	/* max bytes of hours folded out of hr */
	struct nb_big *big;	/* NB_BIG once a big record was seen, or NULL */
	struct nb_mail *mail;	/* nmail of mcap: at most one per hour % NB_MAIL_SLOTS */
	uint32_t nmail, mcap;
	struct nb_hit *hits;	/* NB_MAX_HITS once a mail hour reached the count */
	struct mm_ip (*ip6)[2];	/* dcap (remote, local), once a v6 pair was kept */
	uint8_t hoverflow, nbig, nhits;
};

static struct nb_cold nb_cold_none;

struct nb_slot {
	uint64_t h;
	struct nb_eni *e;
};

struct nb_state {
	size_t cap, n;
	struct nb_slot *t;
	double p[P__N];	/* params last seen (merge and load have no ctx) */
	int has_p;
	uint64_t dropped_enis;
	/* ENIs by the low bits of their hash, the hash kept alongside: records
	 * of an ENI come in short runs, a hit skips the table, and a miss is
	 * told without touching the ENI's memory */
	struct nb_slot recent[256];
	/* the last file name interned for evidence (raw and interned): a
	 * new item's evidence skips the intern table's hash */
	const char *raw_file, *int_file;
	uint64_t big_min;	/* volume_floor_bytes / 64: a record worth keeping */
};

static const struct mm_param params[] = {
	{"learning_days", 7, 1, 90, "days",
	 "an ENI has a baseline once its records span this long; a week holds weekly jobs "
	 "(GuardDuty learns for about that long before Behavior findings)"},
	{"max_items", 256, 16, 4096, "items",
	 "ports, resolvers and peers kept per ENI; the earliest are kept, items past the cap "
	 "are neither learned nor reported (a busy server stays quiet instead of firing on all)"},
	{"spambot_min_ips", 10, 2, 16, "IPs",
	 "distinct public mail servers in one hour on 25/465/587: a spambot walks MX lists, a relay "
	 "talks to its smarthost or a few domains' MXs"},
	{"volume_factor", 10, 1, 1000, "x",
	 "an hour fires above this many times the largest baselined hour: an order of magnitude "
	 "over anything seen, so daily peaks and a nightly backup stay in"},
	{"volume_floor_bytes", 1073741824.0, 1048576.0, 1e15, "bytes",
	 "and only above this per hour (1 GiB): smaller bursts on quiet hosts are routine "
	 "(package updates, log shipping)"},
	{"max_hours", 1536, 48, 8760, "hours",
	 "hour buckets kept per ENI (64 days); the oldest folds into the baseline maximum"},
	{NULL, 0, 0, 0, NULL, NULL},
};

/* ---- small helpers -------------------------------------------------------- */

/* Not the public internet: RFC 1918, CGNAT, loopback, link-local,
 * multicast, broadcast and "this network" (contract's "public remote"). */
static inline int not_public(const struct mm_ip *ip)
{
	if (!ip->v6) {
		uint32_t a = mm_ip_v4(ip);
		uint32_t o = a >> 24;
		return o == 10 || o == 127 || o == 0 || o >= 224 || (a >> 20) == (172u << 4 | 1) ||
		       (a >> 16) == (192u << 8 | 168) || (a >> 22) == ((100u << 2) | 1) ||
		       (a >> 16) == (169u << 8 | 254);
	}
	return ip->b[0] == 0xff || mm_ip_is_private(ip);
}

static inline uint32_t ip_key32(const struct mm_ip *ip)
{
	if (!ip->v6)
		return mm_ip_v4(ip);
	return (uint32_t)mm_hash(ip->b, 16, 0x6e6574) | 1; /* v6: a hash (evidence has the address) */
}

/* Public DoH resolvers' anycast addresses (v4): Cloudflare, Google,
 * Quad9, OpenDNS, AdGuard, NextDNS (45.90.28.0/24, 45.90.30.0/24),
 * CleanBrowsing. A connection to 443 on these is DNS in disguise; the
 * first-octet filter keeps the common 443 record at one test. */
static const uint32_t doh_v4[] = {
	0x01010101, /* 1.1.1.1 */	0x01000001, /* 1.0.0.1 */
	0x08080808, /* 8.8.8.8 */	0x08080404, /* 8.8.4.4 */
	0x09090909, /* 9.9.9.9 */	0x9570709a, /* 149.112.112.112 */
	0xd043dede, /* 208.67.222.222 */ 0xd043dcdc, /* 208.67.220.220 */
	0x5e8c0e0e, /* 94.140.14.14 */	0x5e8c0f0f, /* 94.140.15.15 */
	0xb9e4a8a8, /* 185.228.168.168 */ 0xb9e4a809, /* 185.228.168.9 */
};

static int is_doh(const struct mm_ip *ip)
{
	uint32_t a;
	size_t i;
	if (ip->v6)
		return 0;
	a = mm_ip_v4(ip);
	switch (a >> 24) {
	case 1: case 8: case 9: case 149: case 208: case 94: case 185: break;
	case 45: return (a >> 8) == 0x2d5a1c || (a >> 8) == 0x2d5a1e; /* NextDNS */
	default: return 0;
	}
	for (i = 0; i < sizeof(doh_v4) / sizeof(doh_v4[0]); i++)
		if (doh_v4[i] == a)
			return 1;
	return 0;
}

static inline uint32_t clamp_time(int64_t t)
{
	return t < 0 ? 0 : t > 0xfffffffeLL ? 0xfffffffeu : (uint32_t)t;
}

static int is_mail_port(uint16_t p)
{
	return p == 25 || p == 465 || p == 587;
}

/* ---- the ENI table ---------------------------------------------------------- */

/* e's cold part, allocated on first need: 0, or -1 out of memory. */
static int cold_get(struct nb_eni *e)
{
	struct nb_cold *x;
	if (e->x != &nb_cold_none)
		return 0;
	if (!(x = mm_calloc(1, sizeof(*x))))
		return -1;
	e->x = x;
	return 0;
}

static void eni_free(struct nb_eni *e)
{
	if (!e)
		return;
	mm_free(e->it);
	mm_free(e->det);
	if (e->x && e->x != &nb_cold_none) {
		mm_free(e->x->ip6);
		mm_free(e->x->hr);
		mm_free(e->x->mail);
		mm_free(e->x->big);
		mm_free(e->x->hits);
		mm_free(e->x);
	}
	mm_free(e);
}

static void *state_new(void)
{
	struct nb_state *s = mm_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = 64;
	s->t = mm_calloc(s->cap, sizeof(*s->t));
	if (!s->t) {
		mm_free(s);
		return NULL;
	}
	return s;
}

static void state_free(void *state)
{
	struct nb_state *s = state;
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->cap; i++)
		eni_free(s->t[i].e);
	mm_free(s->t);
	mm_free(s);
}

/* Hash of an ENI id: three overlapping 8-byte words and one mix (an id
 * is "eni-" and 17 hex digits), a fraction of mm_hash's rounds; the
 * table also compares the name, so a collision costs a probe, never a
 * wrong ENI. */
static inline uint64_t eni_hash(const char *p, size_t n)
{
	uint64_t h;
	if (n < 16)
		h = mm_hash(p, n, 0x6e6574626173ULL);
	else
		h = mm_hash_mix((mm__rd64((const unsigned char *)p + 4) * 0x9e3779b97f4a7c15ULL) ^
				(mm__rd64((const unsigned char *)p + (n - 8) / 2) * 0xc2b2ae3d27d4eb4fULL) ^
				mm__rd64((const unsigned char *)p + n - 8) ^ n);
	return h ? h : 1;
}

static int table_grow(struct nb_state *s)
{
	size_t ncap = s->cap * 2, i;
	struct nb_slot *nt = mm_calloc(ncap, sizeof(*nt));
	if (!nt)
		return -1;
	for (i = 0; i < s->cap; i++) {
		size_t j;
		if (!s->t[i].e)
			continue;
		for (j = s->t[i].h & (ncap - 1); nt[j].e; j = (j + 1) & (ncap - 1))
			;
		nt[j] = s->t[i];
	}
	mm_free(s->t);
	s->t = nt;
	s->cap = ncap;
	return 0;
}

static struct nb_eni *eni_find(const struct nb_state *s, uint64_t h, const char *p, size_t n)
{
	size_t j;
	struct nb_eni *e;
	for (j = h & (s->cap - 1); (e = s->t[j].e); j = (j + 1) & (s->cap - 1))
		if (s->t[j].h == h && e->nlen == n && memcmp(e->name, p, n) == 0)
			return e;
	return NULL;
}

/* Insert e (known absent) under hash h; -1 at the bound or out of memory. */
static int eni_put(struct nb_state *s, uint64_t h, struct nb_eni *e)
{
	size_t j;
	if (s->n >= NB_MAX_ENIS || ((s->n + 1) * 2 > s->cap && table_grow(s)))
		return -1;
	for (j = h & (s->cap - 1); s->t[j].e; j = (j + 1) & (s->cap - 1))
		;
	s->t[j].h = h;
	s->t[j].e = e;
	s->n++;
	return 0;
}

/* The ENI named (p, n) with hash h, created if absent; NULL when the
 * table is at its bound or memory is out (the ENI goes untracked). */
static struct nb_eni *eni_get(struct nb_state *s, uint64_t h, const char *p, size_t n)
{
	size_t j = h & (s->cap - 1);
	struct nb_eni *e;

	for (;;) {
		e = s->t[j].e;
		if (!e)
			break;
		if (s->t[j].h == h && e->nlen == n && memcmp(e->name, p, n) == 0)
			return e;
		j = (j + 1) & (s->cap - 1);
	}
	if (s->n >= NB_MAX_ENIS || n >= sizeof(e->name)) {
		s->dropped_enis++;
		return NULL;
	}
	if ((s->n + 1) * 2 > s->cap) {
		if (table_grow(s))
			return NULL;
		return eni_get(s, h, p, n);
	}
	e = mm_calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	memcpy(e->name, p, n);
	e->nlen = (uint32_t)n;
	e->x = &nb_cold_none;
	e->tmin = INT64_MAX;
	e->tmax = INT64_MIN;
	s->t[j].h = h;
	s->t[j].e = e;
	s->n++;
	return e;
}

/* ---- items ----------------------------------------------------------------- */

/* Keys differ in their low bits (ports, hours): a multiplicative hash
 * spreads them for a power-of-two table at one multiply. */
static inline uint32_t slot_of(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 32);
}

static inline int item_find(const struct nb_eni *e, uint64_t key)
{
	uint32_t j;
	if (!e->icap)
		return -1;
	for (j = slot_of(key) & (e->icap - 1); e->it[j].key;
	     j = (j + 1) & (e->icap - 1))
		if (e->it[j].key == key)
			return (int)j;
	return -1;
}

/* Place key in a table known to have room; its index. */
static uint32_t item_place(struct nb_item *it, uint32_t cap, uint64_t key)
{
	uint32_t j;
	for (j = slot_of(key) & (cap - 1); it[j].key; j = (j + 1) & (cap - 1))
		;
	return j;
}

/* Can an item of this key fire on its own (and so needs the evidence
 * of its earliest record)? Inbound ports are baseline only; the mail
 * and DNS server ports fire through Spambot's hours and the resolvers. */
static inline int needs_det(uint64_t key)
{
	uint32_t port, proto;
	if (KIND(key) != K_OUT)
		return KIND(key) != K_IN;
	port = (uint16_t)key;
	proto = (uint8_t)(key >> 16);
	return !((proto == 6 && is_mail_port((uint16_t)port)) ||
		 ((proto == 6 || proto == 17) && port == 53));
}

/* Unpack item it's evidence into d; NULL when it has none. */
static const struct nb_det *item_det(const struct nb_eni *e, const struct nb_item *it,
				     struct nb_det *d)
{
	const struct nb_pdet *p;
	uint32_t di = ITEM_DI(it);
	if (!di)
		return NULL;
	p = &e->det[--di];
	memset(d, 0, sizeof(*d));
	d->ref.file = p->file;
	d->ref.line = p->line;
	d->ref.offset = p->offset;
	d->ref.time_ms = (int64_t)p->t * 1000;
	if (p->v6) {
		d->rip = e->x->ip6[di][0];
		d->lip = e->x->ip6[di][1];
	} else {
		mm_ip_set_v4(&d->rip, p->rip);
		mm_ip_set_v4(&d->lip, p->lip);
	}
	d->lport = p->lport;
	d->proto = p->proto;
	switch (KIND(it->key)) {
	case K_OUT: d->rport = (uint16_t)it->key; break;
	case K_RES: d->rport = 53; break;
	case K_DOH: d->rport = 443; break;
	default: break;
	}
	return d;
}

/* Pack d into evidence slot di; -1 when a v6 pair finds no memory. */
static int det_put(struct nb_eni *e, uint32_t di, const struct nb_det *d)
{
	struct nb_pdet *p = &e->det[di];
	memset(p, 0, sizeof(*p));
	p->file = d->ref.file;
	p->line = d->ref.line;
	p->offset = d->ref.offset;
	p->t = (uint32_t)(d->ref.time_ms / 1000);
	p->lport = d->lport;
	p->proto = d->proto;
	if (d->rip.v6 || d->lip.v6) {
		if (cold_get(e) ||
		    (!e->x->ip6 && !(e->x->ip6 = mm_calloc(e->dcap, sizeof(*e->x->ip6)))))
			return -1;
		p->v6 = 1;
		e->x->ip6[di][0] = d->rip;
		e->x->ip6[di][1] = d->lip;
	} else {
		p->rip = mm_ip_v4(&d->rip);
		p->lip = mm_ip_v4(&d->lip);
	}
	return 0;
}

/* Keep d as item it's evidence, in a new slot (index in its flags). */
static void det_new(struct nb_eni *e, struct nb_item *it, const struct nb_det *d)
{
	if (e->ndet == e->dcap) {
		uint32_t ncap = e->dcap ? e->dcap * 2u : 2u;
		struct nb_pdet *nd;
		if (ncap > 0xffff || !(nd = mm_realloc(e->det, ncap * sizeof(*nd))))
			return;
		e->det = nd;
		if (e->x->ip6) {
			struct mm_ip (*n6)[2] = mm_realloc(e->x->ip6, ncap * sizeof(*n6));
			if (!n6)
				return; /* det grown, dcap not: still consistent */
			e->x->ip6 = n6;
		}
		e->dcap = (uint16_t)ncap;
	}
	if (det_put(e, e->ndet, d))
		return;
	e->ndet++;
	it->flags = (it->flags & ((1u << DI_SHIFT) - 1)) | (uint32_t)e->ndet << DI_SHIFT;
}

/* Rebuild into ncap slots, leaving out the slot `skip` (-1: none); the
 * evidence array is rebuilt dense alongside when an item leaves. */
static int item_rebuild(struct nb_eni *e, uint32_t ncap, int skip)
{
	struct nb_item *nit = mm_calloc(ncap, sizeof(*nit));
	struct nb_pdet *ndet = NULL;
	struct mm_ip (*n6)[2] = NULL;
	uint32_t i, n = 0, nd = 0;

	if (!nit)
		return -1;
	if (skip >= 0 && e->ndet &&
	    (!(ndet = mm_malloc(e->dcap * sizeof(*ndet))) ||
	     (e->x->ip6 && !(n6 = mm_calloc(e->dcap, sizeof(*n6)))))) {
		mm_free(nit);
		mm_free(ndet);
		return -1;
	}
	for (i = 0; i < e->icap; i++) {
		uint32_t j;
		if (!e->it[i].key || (int)i == skip)
			continue;
		j = item_place(nit, ncap, e->it[i].key);
		nit[j] = e->it[i];
		if (ndet && ITEM_DI(&e->it[i])) {
			if (n6)
				memcpy(n6[nd], e->x->ip6[ITEM_DI(&e->it[i]) - 1], sizeof(n6[0]));
			ndet[nd++] = e->det[ITEM_DI(&e->it[i]) - 1];
			nit[j].flags = (nit[j].flags & ((1u << DI_SHIFT) - 1)) | nd << DI_SHIFT;
		}
		n++;
	}
	mm_free(e->it);
	if (ndet) {
		mm_free(e->det);
		e->det = ndet;
		e->ndet = (uint16_t)nd;
		if (n6) {
			mm_free(e->x->ip6);
			e->x->ip6 = n6;
		}
	}
	e->it = nit;
	e->icap = ncap;
	e->nitems = n;
	return 0;
}

static int item_later(const struct nb_item *a, const struct nb_item *b)
{
	return a->first != b->first ? a->first > b->first : a->key > b->key;
}

/* Room for one more item: grow, or when at the cap drop the latest item
 * if the new one is earlier (so the set is the max earliest whatever the
 * order). 0 when there is room. */
static int item_room(struct nb_eni *e, uint64_t key, uint32_t first, uint32_t max)
{
	uint32_t i;
	int latest = -1;
	struct nb_item nw = {key, first, 0};

	if (e->nitems < max) {
		if ((e->nitems + 1) * 4 <= e->icap * 3)
			return 0;
		return item_rebuild(e, e->icap ? e->icap * 2 : 4, -1);
	}
	e->overflow = 1;
	if (cold_get(e))
		return -1;
	/* the latest kept item, remembered: at the cap most new items are
	 * later than it (time order), and are turned away in O(1) */
	if (e->x->latest.key && !item_later(&e->x->latest, &nw))
		return -1;
	for (i = 0; i < e->icap; i++)
		if (e->it[i].key && (latest < 0 || item_later(&e->it[i], &e->it[latest])))
			latest = (int)i;
	if (latest < 0)
		return -1;
	e->x->latest = e->it[latest];
	if (!item_later(&e->x->latest, &nw))
		return -1;
	e->x->latest.key = 0; /* the set changes: find it again next time */
	return item_rebuild(e, e->icap, latest);
}

/* Is (ref) earlier than the detail we hold? */
static int det_better(const struct nb_det *d, const struct mm_evref *ref)
{
	return !d->ref.file || mm_evref_before(ref, &d->ref);
}

/* Learn key seen at first (flags OR'ed in), with its detail when given
 * (kept only for the kinds that can fire). */
static void item_add(struct nb_eni *e, uint64_t key, uint32_t first, uint32_t flags,
		     const struct nb_det *det, uint32_t max)
{
	int j = item_find(e, key);
	struct nb_det od;

	flags &= F_REPORTED;
	if (j < 0) {
		if (item_room(e, key, first, max))
			return;
		j = (int)item_place(e->it, e->icap, key);
		e->it[j].key = key;
		e->it[j].first = first;
		e->it[j].flags = flags;
		e->nitems++;
		if (det && det->ref.file && needs_det(key))
			det_new(e, &e->it[j], det);
		return;
	}
	e->it[j].flags |= flags;
	if (first < e->it[j].first) {
		e->it[j].first = first;
		if (e->x->latest.key)
			e->x->latest.key = 0; /* it may have been the latest */
	}
	if (!det || !det->ref.file || !needs_det(key))
		return;
	if (!item_det(e, &e->it[j], &od))
		det_new(e, &e->it[j], det);
	else if (det_better(&od, &det->ref))
		det_put(e, ITEM_DI(&e->it[j]) - 1, det);
}

/* ---- per record ------------------------------------------------------------ */

struct rec {
	struct nb_state *s;
	struct mm_detect_ctx *c;
	const struct mm_event *ev;
	const struct mm_ip *remote, *local;
	uint32_t t;
	uint16_t lport, rport;
	uint8_t proto;
};

/* The record's place for tie-breaks, without interning the file name. */
static void rec_ref_raw(const struct rec *r, struct mm_evref *ref)
{
	const char *file = r->c->file && r->c->file->rel ? r->c->file->rel : r->ev->loc.file;
	ref->file = file ? file : "";
	ref->line = r->ev->loc.line;
	ref->offset = r->ev->loc.offset;
	ref->time_ms = (int64_t)r->t * 1000;
}

/* mm_evref_take, with the interned file name cached per state. */
static void rec_take(const struct rec *r, struct mm_evref *ref)
{
	const char *file = r->c->file && r->c->file->rel ? r->c->file->rel : r->ev->loc.file;
	struct nb_state *s = r->s;
	if (!file)
		file = "";
	if (file != s->raw_file || !s->int_file || strcmp(file, s->int_file)) {
		s->int_file = mm_intern(file, strlen(file));
		s->raw_file = s->int_file ? file : NULL;
	}
	ref->file = s->int_file ? s->int_file : "";
	ref->line = r->ev->loc.line;
	ref->offset = r->ev->loc.offset;
	ref->time_ms = (int64_t)r->t * 1000;
}

static void rec_det(const struct rec *r, struct nb_det *d)
{
	memset(d, 0, sizeof(*d));
	rec_take(r, &d->ref);
	d->rip = *r->remote;
	d->lip = *r->local;
	d->lport = r->lport;
	d->rport = r->rport;
	d->proto = r->proto;
}

/* Per-record item touch: the hot case (known item, not earlier) returns
 * after one probe and one compare. */
static inline void touch(struct nb_eni *e, const struct rec *r, uint64_t key)
{
	struct nb_det d;
	int j = item_find(e, key), nd = needs_det(key);

	if (j >= 0) {
		struct mm_evref raw;
		const struct nb_det *od;
		if (r->t > e->it[j].first || (r->t == e->it[j].first && !nd))
			return;
		if (r->t == e->it[j].first && (od = item_det(e, &e->it[j], &d)) && od->ref.file) {
			rec_ref_raw(r, &raw);
			if (!mm_evref_before(&raw, &od->ref))
				return;
		}
	}
	if (!nd) {
		item_add(e, key, r->t, 0, NULL, (uint32_t)r->c->params[P_MAX_ITEMS]);
		return;
	}
	rec_det(r, &d);
	item_add(e, key, r->t, 0, &d, (uint32_t)r->c->params[P_MAX_ITEMS]);
}

/* ---- hours ----------------------------------------------------------------- */

static int hour_find(const struct nb_eni *e, uint32_t hour)
{
	uint32_t j;
	if (!e->x->hcap)
		return -1;
	for (j = slot_of(hour) & (e->x->hcap - 1); e->x->hr[j].hour; j = (j + 1) & (e->x->hcap - 1))
		if (e->x->hr[j].hour == hour)
			return (int)j;
	return -1;
}

static int hour_rebuild(struct nb_eni *e, uint32_t ncap, int skip)
{
	struct nb_hour *nh = mm_calloc(ncap, sizeof(*nh));
	uint32_t i, n = 0;
	if (!nh)
		return -1;
	for (i = 0; i < e->x->hcap; i++) {
		uint32_t j;
		if (!e->x->hr[i].hour || (int)i == skip)
			continue;
		for (j = slot_of(e->x->hr[i].hour) & (ncap - 1); nh[j].hour; j = (j + 1) & (ncap - 1))
			;
		nh[j] = e->x->hr[i];
		n++;
	}
	mm_free(e->x->hr);
	e->x->hr = nh;
	e->x->hcap = ncap;
	e->x->nhours = n;
	return 0;
}

/* The bucket for hour, created if absent; -1 when it cannot be (out of
 * memory, or older than every kept hour at the bound). At the bound the
 * oldest hour is folded into frozen_max: it leaves the baseline's
 * running maximum as it was. */
static int hour_get(struct nb_eni *e, uint32_t hour, uint32_t max)
{
	int j = hour_find(e, hour);
	if (j >= 0)
		return j;
	if (cold_get(e))
		return -1;
	if (e->x->nhours >= max) {
		uint32_t i;
		int old = -1;
		e->x->hoverflow = 1;
		for (i = 0; i < e->x->hcap; i++)
			if (e->x->hr[i].hour && (old < 0 || e->x->hr[i].hour < e->x->hr[old].hour))
				old = (int)i;
		if (old < 0 || e->x->hr[old].hour > hour)
			return -1;
		if (!(e->x->hr[old].flags & F_REPORTED) && e->x->hr[old].bytes > e->x->frozen_max)
			e->x->frozen_max = e->x->hr[old].bytes;
		if (hour_rebuild(e, e->x->hcap, old))
			return -1;
	} else if ((e->x->nhours + 1) * 4 > e->x->hcap * 3 &&
		   hour_rebuild(e, e->x->hcap ? e->x->hcap * 2 : 4, -1)) {
		return -1;
	}
	for (j = (int)(slot_of(hour) & (e->x->hcap - 1)); e->x->hr[j].hour;
	     j = (int)((j + 1) & (e->x->hcap - 1)))
		;
	memset(&e->x->hr[j], 0, sizeof(e->x->hr[j]));
	e->x->hr[j].hour = hour;
	e->x->nhours++;
	return j;
}

/* Keep b if it is the largest record of its hour among the NB_BIG
 * latest hours (order-free: the same set whatever the arrival order). */
static void big_add(struct nb_eni *e, const struct nb_big *b)
{
	int i, k = -1;
	if (cold_get(e))
		return;
	if (!e->x->big && !(e->x->big = mm_malloc(NB_BIG * sizeof(*e->x->big))))
		return;
	for (i = 0; i < e->x->nbig; i++)
		if (e->x->big[i].hour == b->hour) {
			if (b->bytes > e->x->big[i].bytes ||
			    (b->bytes == e->x->big[i].bytes && mm_evref_before(&b->ref, &e->x->big[i].ref)))
				e->x->big[i] = *b;
			return;
		}
	if (e->x->nbig < NB_BIG) {
		e->x->big[e->x->nbig++] = *b;
		return;
	}
	for (i = 0; i < e->x->nbig; i++)
		if (k < 0 || e->x->big[i].hour < e->x->big[k].hour)
			k = i;
	if (e->x->big[k].hour < b->hour)
		e->x->big[k] = *b;
}

static const struct nb_big *big_of(const struct nb_eni *e, uint32_t hour)
{
	int i;
	for (i = 0; i < e->x->nbig; i++)
		if (e->x->big[i].hour == hour)
			return &e->x->big[i];
	return NULL;
}

/* Move inline hour sum k into its bucket. */
static void hour_flush1(struct nb_eni *e, int k, uint32_t max)
{
	int j;
	if (!e->cur_hour[k])
		return;
	if ((j = hour_get(e, e->cur_hour[k], max)) >= 0)
		e->x->hr[j].bytes += e->cur_bytes[k];
	e->cur_hour[k] = 0;
	e->cur_bytes[k] = 0;
}

/* Both (before anything reads hr). */
static void hour_flush(struct nb_eni *e, uint32_t max)
{
	hour_flush1(e, 0, max);
	hour_flush1(e, 1, max);
}

static inline void add_bytes(struct nb_eni *e, const struct rec *r, uint64_t bytes)
{
	uint32_t hour = r->t / 3600 + 1;

	/* records of one ENI come in runs within an hour: sum in the ENI's
	 * hot lines, touch the hour table only when the hour changes */
	if (MM_UNLIKELY(hour != e->cur_hour[hour & 1])) {
		hour_flush1(e, hour & 1, (uint32_t)r->c->params[P_MAX_HOURS]);
		e->cur_hour[hour & 1] = hour;
	}
	e->cur_bytes[hour & 1] += bytes;
	/* the hour's largest record is its evidence; only records that could
	 * matter at the floor are worth interning a file name for */
	if (MM_UNLIKELY(bytes >= r->s->big_min)) {
		struct nb_big b;
		const struct nb_big *old = big_of(e, hour);
		if (old && old->bytes >= bytes)
			return;
		memset(&b, 0, sizeof(b));
		b.hour = hour;
		b.bytes = bytes;
		b.rip = *r->remote;
		b.lip = *r->local;
		rec_take(r, &b.ref);
		big_add(e, &b);
	}
}

/* ---- mail ------------------------------------------------------------------ */

static void hit_add(struct nb_eni *e, const struct nb_hit *h)
{
	int i, k;
	if (cold_get(e))
		return;
	if (!e->x->hits && !(e->x->hits = mm_malloc(NB_MAX_HITS * sizeof(*e->x->hits))))
		return;
	for (i = 0; i < e->x->nhits; i++)
		if (e->x->hits[i].hour == h->hour && e->x->hits[i].rport == h->rport) {
			e->x->hits[i].flags |= h->flags;
			if (mm_evref_before(&h->ref, &e->x->hits[i].ref)) {
				e->x->hits[i].ref = h->ref;
				e->x->hits[i].rip = h->rip;
				e->x->hits[i].lip = h->lip;
			}
			return;
		}
	/* keep the NB_MAX_HITS earliest hours */
	if (e->x->nhits < NB_MAX_HITS) {
		k = e->x->nhits++;
	} else {
		k = 0;
		for (i = 1; i < e->x->nhits; i++)
			if (e->x->hits[i].hour > e->x->hits[k].hour)
				k = i;
		if (e->x->hits[k].hour <= h->hour)
			return;
	}
	e->x->hits[k] = *h;
}

/* Did the slot reach the count? Then it is a hit (kept after the slot
 * goes). */
static void mail_check(struct nb_eni *e, const struct nb_mail *m, uint32_t min)
{
	struct nb_hit h;
	if (!m->hour || m->n < min)
		return;
	memset(&h, 0, sizeof(h));
	h.hour = m->hour;
	h.rport = m->rport;
	h.rip = m->rip;
	h.lip = m->lip;
	h.ref = m->ref;
	hit_add(e, &h);
}

/* The mail hour slot of hour's class (hour % NB_MAIL_SLOTS): the slots
 * are a small array holding only the classes seen, latest appended, so
 * an ENI that sends mail in a few hours keeps a few. NULL when absent
 * and not created (or out of memory); a created one is zeroed. */
static struct nb_mail *mail_slot(struct nb_eni *e, uint32_t hour, int create)
{
	uint32_t i, cls = hour % NB_MAIL_SLOTS;
	for (i = e->x->nmail; i-- > 0;)
		if (e->x->mail[i].hour % NB_MAIL_SLOTS == cls)
			return &e->x->mail[i];
	if (!create || cold_get(e))
		return NULL;
	if (e->x->nmail == e->x->mcap) {
		uint32_t ncap = e->x->mcap ? e->x->mcap * 2 : 1;
		struct nb_mail *nm = mm_realloc(e->x->mail, ncap * sizeof(*nm));
		if (!nm)
			return NULL;
		e->x->mail = nm;
		e->x->mcap = ncap;
	}
	memset(&e->x->mail[e->x->nmail], 0, sizeof(e->x->mail[0]));
	return &e->x->mail[e->x->nmail++];
}

/* Merge src's (hour, remotes) into its slot; the older of two hours in a
 * slot gives way (checked first: a count reached stays a hit). */
static void mail_merge_slot(struct nb_eni *e, const struct nb_mail *src, uint32_t min)
{
	struct nb_mail *m = mail_slot(e, src->hour, 1);
	uint32_t i, k;

	if (!m)
		return;
	if (m->hour != src->hour) {
		if (m->hour > src->hour) {
			mail_check(e, src, min);
			return;
		}
		mail_check(e, m, min);
		*m = *src;
		return;
	}
	for (i = 0; i < src->n; i++) {
		for (k = 0; k < m->n && m->ip[k] != src->ip[i]; k++)
			;
		if (k == m->n && m->n < NB_MAIL_IPS)
			m->ip[m->n++] = src->ip[i];
	}
	if (src->ref.file && (!m->ref.file || mm_evref_before(&src->ref, &m->ref))) {
		m->ref = src->ref;
		m->rip = src->rip;
		m->lip = src->lip;
		m->rport = src->rport;
	}
}

static void mail_add(struct nb_eni *e, const struct rec *r)
{
	struct nb_mail one;
	uint32_t ip = ip_key32(r->remote), hour = r->t / 3600 + 1, k;
	struct nb_mail *m = mail_slot(e, hour, 0);

	if (m && m->hour == hour) {
		struct mm_evref raw;
		for (k = 0; k < m->n; k++)
			if (m->ip[k] == ip)
				break;
		if (k == m->n && m->n < NB_MAIL_IPS)
			m->ip[m->n++] = ip;
		rec_ref_raw(r, &raw);
		if (m->ref.file && !mm_evref_before(&raw, &m->ref))
			return;
	}
	memset(&one, 0, sizeof(one));
	one.hour = hour;
	one.n = 1;
	one.ip[0] = ip;
	rec_take(r, &one.ref);
	one.rip = *r->remote;
	one.lip = *r->local;
	one.rport = r->rport;
	mail_merge_slot(e, &one, (uint32_t)r->c->params[P_SPAM_IPS]);
}

/* ---- on_event -------------------------------------------------------------- */

/* Does netbase look at this record at all? (accepted, with addresses) */
static inline int wanted(const struct mm_flow *fl)
{
	return fl->action == MM_ACT_ACCEPT && fl->has_addrs && fl->eni.n;
}

/* Which side of fl is the instance: 1 src, 0 dst, -1 neither has a
 * public remote or it cannot be told. */
static inline int local_side(const struct mm_flow *fl)
{
	int snp = not_public(&fl->src), dnp = not_public(&fl->dst);
	if (snp != dnp)
		return snp;
	if (snp)
		return -1; /* private to private: no public remote */
	/* both public (an ENI's public address logged): the logged direction */
	return fl->fdir == MM_FDIR_EGRESS ? 1 : fl->fdir == MM_FDIR_INGRESS ? 0 : -1;
}

/* The port item a record touches, 0 for none: (proto, local port) for
 * a connection accepted inbound, (proto, remote server port) for one the
 * instance opened. Ports are a TCP/UDP notion: other protocols only
 * count as bytes. A server port in the ephemeral range (>= 32768) is a
 * guess between two client-looking ports (P2P, passive FTP data, a
 * reply whose request was not logged): not an item, or every such flow
 * would be "new". */
static inline uint64_t port_key(const struct mm_flow *fl, int sl)
{
	uint16_t lport = sl ? fl->sport : fl->dport, rport = sl ? fl->dport : fl->sport;
	if (!fl->has_ports || (fl->proto != 6 && fl->proto != 17))
		return 0;
	if (mm_flow_initiator(fl->proto, lport, rport, sl, 0) != MM_DIR_OUTBOUND)
		return lport < 32768 ? KEY(K_IN, (uint32_t)fl->proto << 16 | lport) : 0;
	return rport < 32768 ? KEY(K_OUT, (uint32_t)fl->proto << 16 | rport) : 0;
}

/* One record; eh is eni_hash of its ENI (0: compute it). */
static void on_flow(struct nb_state *s, struct mm_detect_ctx *c, const struct mm_event *ev,
		    uint64_t eh)
{
	const struct mm_flow *fl = &ev->u.flow;
	struct nb_eni *e;
	struct rec r;
	int sl;
	unsigned rk;
	uint64_t key;

	if (!wanted(fl) || (sl = local_side(fl)) < 0)
		return;
	if (MM_UNLIKELY(!s->has_p)) {
		memcpy(s->p, c->params, sizeof(s->p));
		s->has_p = 1;
		s->big_min = (uint64_t)(c->params[P_VOL_FLOOR] / 64);
	}
	if (!eh)
		eh = eni_hash(fl->eni.p, fl->eni.n);
	rk = (unsigned)(eh >> 56);
	e = s->recent[rk].e;
	if (s->recent[rk].h != eh || !e || e->nlen != fl->eni.n ||
	    memcmp(e->name, fl->eni.p, fl->eni.n)) {
		e = eni_get(s, eh, fl->eni.p, fl->eni.n);
		if (!e)
			return;
		s->recent[rk].h = eh;
		s->recent[rk].e = e;
		if (MM_UNLIKELY(e->tmin == INT64_MAX && !e->account[0])) {
			struct mm_str a = c->file && c->file->account[0] ? mm_str_c(c->file->account)
									 : fl->account;
			mm_str_copy(e->account, sizeof(e->account), a);
			if (fl->region.n)
				mm_str_copy(e->region, sizeof(e->region), fl->region);
			else if (c->file)
				mm_str_copy(e->region, sizeof(e->region), mm_str_c(c->file->region));
		}
	}
	r.s = s;
	r.c = c;
	r.ev = ev;
	r.remote = sl ? &fl->dst : &fl->src;
	r.local = sl ? &fl->src : &fl->dst;
	r.t = clamp_time(fl->start);
	r.lport = sl ? fl->sport : fl->dport;
	r.rport = sl ? fl->dport : fl->sport;
	r.proto = fl->proto;
	if (r.t < e->tmin)
		e->tmin = r.t;
	if (r.t > e->tmax)
		e->tmax = r.t;
	{
		/* HyperLogLog of remote peers: 32 registers, ~18% error; enough
		 * to tell "a few" from "thousands" in the evidence */
		/* one multiply: the register from the top 5 bits, the rank from
		 * the leading zeros of the next 59 (1..60) */
		uint64_t h = ((((uint64_t)ip_key32(r.remote) << 1) | r.remote->v6) + 1) *
			     0x9e3779b97f4a7c15ULL;
		uint64_t w = h << 5;
		uint8_t rank = (uint8_t)(w ? __builtin_clzll(w) + 1 : 60);
		if (rank > 60)
			rank = 60;
		if (rank > e->hll[h >> 59])
			e->hll[h >> 59] = rank;
	}
	if (sl && fl->bytes)
		add_bytes(e, &r, fl->bytes);
	/* the port item: accepted inbound or the remote server port */
	if (!(key = port_key(fl, sl)))
		return;
	touch(e, &r, key);
	if (KIND(key) == K_IN)
		return;
	if (MM_LIKELY(r.rport != 53 && r.rport != 443 && r.rport != 25 && r.rport != 465 &&
		      r.rport != 587))
		return;
	if (r.rport == 53 && (fl->proto == 6 || fl->proto == 17))
		touch(e, &r, KEY(K_RES, ip_key32(r.remote)));
	else if (r.rport == 443 && fl->proto == 6 && is_doh(r.remote))
		touch(e, &r, KEY(K_DOH, 0));
	else if (fl->proto == 6 && is_mail_port(r.rport))
		mail_add(e, &r);
}

static void on_event(void *state, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	on_flow(state, c, ev, 0);
}

/* A run of records: first ask for each one's table slot, then for its
 * ENI and the ENI's item table, then do the work, so the cache misses
 * of a run overlap instead of coming one after another. Only loads are
 * moved earlier: the result is on_event's, record by record. */
static void on_batch(void *state, struct mm_detect_ctx *c, const struct mm_event *evs, int n)
{
	struct nb_state *s = state;
	uint64_t h[MM_DETECT_BATCH];
	int k;

	for (k = 0; k < n; k++) {
		const struct mm_flow *fl = &evs[k].u.flow;
		h[k] = 0;
		if (!wanted(fl))
			continue;
		h[k] = eni_hash(fl->eni.p, fl->eni.n);
		if (s->cap)
			__builtin_prefetch(&s->t[h[k] & (s->cap - 1)]);
	}
	for (k = 0; k < n; k++) {
		const struct nb_eni *e;
		if (!h[k] || !s->cap || !(e = s->t[h[k] & (s->cap - 1)].e))
			continue;
		__builtin_prefetch(e);
		__builtin_prefetch((const char *)e + 64);
	}
	/* the port item's slot in the ENI's item table (the ENI's first
	 * lines are in by now, or on their way) */
	for (k = 0; k < n; k++) {
		const struct mm_flow *fl = &evs[k].u.flow;
		const struct nb_eni *e;
		uint64_t key;
		int sl;
		if (!h[k] || !s->cap || !(e = s->t[h[k] & (s->cap - 1)].e) || !e->icap ||
		    (sl = local_side(fl)) < 0 || !(key = port_key(fl, sl)))
			continue;
		__builtin_prefetch(&e->it[slot_of(key) & (e->icap - 1)]);
	}
	for (k = 0; k < n; k++)
		if (h[k])
			on_flow(s, c, &evs[k], h[k]);
}

/* ---- merge ----------------------------------------------------------------- */

static void eni_merge(struct nb_eni *d, struct nb_eni *s, const double *p)
{
	uint32_t i;
	int k;

	/* src's inline hour sums: into dst's of the same hour (or its free
	 * inline slot), else into dst's hour table */
	for (k = 0; k < 2; k++) {
		int j;
		if (!s->cur_hour[k])
			continue;
		if (d->cur_hour[k] == s->cur_hour[k] || !d->cur_hour[k]) {
			d->cur_hour[k] = s->cur_hour[k];
			d->cur_bytes[k] += s->cur_bytes[k];
		} else if ((j = hour_get(d, s->cur_hour[k], (uint32_t)p[P_MAX_HOURS])) >= 0) {
			d->x->hr[j].bytes += s->cur_bytes[k];
		}
	}
	if (!d->account[0])
		memcpy(d->account, s->account, sizeof(d->account));
	if (!d->region[0])
		memcpy(d->region, s->region, sizeof(d->region));
	if (s->tmin < d->tmin)
		d->tmin = s->tmin;
	if (s->tmax > d->tmax)
		d->tmax = s->tmax;
	for (i = 0; i < NB_HLL; i++)
		if (s->hll[i] > d->hll[i])
			d->hll[i] = s->hll[i];
	d->overflow |= s->overflow;
	for (i = 0; i < s->icap; i++) {
		struct nb_det sd;
		if (s->it[i].key)
			item_add(d, s->it[i].key, s->it[i].first, s->it[i].flags,
				 item_det(s, &s->it[i], &sd), (uint32_t)p[P_MAX_ITEMS]);
	}
	if (s->x->frozen_max > d->x->frozen_max)
		if (!cold_get(d))
			d->x->frozen_max = s->x->frozen_max;
	if (s->x->hoverflow && !cold_get(d))
		d->x->hoverflow = 1;
	for (i = 0; i < s->x->hcap; i++) {
		int j;
		if (!s->x->hr[i].hour || (j = hour_get(d, s->x->hr[i].hour, (uint32_t)p[P_MAX_HOURS])) < 0)
			continue;
		d->x->hr[j].bytes += s->x->hr[i].bytes;
		d->x->hr[j].flags |= s->x->hr[i].flags;
	}
	for (k = 0; k < s->x->nbig; k++)
		big_add(d, &s->x->big[k]);
	for (i = 0; i < s->x->nmail; i++)
		if (s->x->mail[i].hour)
			mail_merge_slot(d, &s->x->mail[i], (uint32_t)p[P_SPAM_IPS]);
	for (k = 0; k < s->x->nhits; k++)
		hit_add(d, &s->x->hits[k]);
}

static const double *state_params(const struct nb_state *a, const struct nb_state *b)
{
	static double def[P__N];
	if (a->has_p)
		return a->p;
	if (b && b->has_p)
		return b->p;
	mm_detector_defaults(&mm_det_netbase, def);
	return def;
}

static int merge(void *dst, void *src)
{
	struct nb_state *d = dst, *s = src;
	const double *p = state_params(d, s);
	size_t i;

	if (!d->has_p && s->has_p) {
		memcpy(d->p, s->p, sizeof(d->p));
		d->has_p = 1;
	}
	d->dropped_enis += s->dropped_enis;
	for (i = 0; i < s->cap; i++) {
		struct nb_eni *de, *se = s->t[i].e;
		if (!se)
			continue;
		/* an ENI dst does not hold moves over as it is (src is freed
		 * after the merge): no copy, no second allocation */
		if (!eni_find(d, s->t[i].h, se->name, se->nlen) && !eni_put(d, s->t[i].h, se)) {
			s->t[i].e = NULL;
			continue;
		}
		de = eni_get(d, s->t[i].h, se->name, strlen(se->name));
		if (de)
			eni_merge(de, se, p);
		/* merged (or past dst's bound): freed now, not with src, so
		 * the merge's peak is not both states in full */
		eni_free(se);
		s->t[i].e = NULL;
	}
	memset(s->recent, 0, sizeof(s->recent));
	return 0;
}

/* ---- finish ---------------------------------------------------------------- */

/* Does the instance behind eni announce addr as a resolver (tag
 * mamori:dns-resolver = "ip[,ip...]")? */
static int announced_resolver(const struct mm_detect_ctx *c, const char *eni,
			      const struct mm_ip *addr)
{
	const struct mm_inventory *invs[2] = {c->inv, c->learned};
	int k, i;

	for (k = 0; k < 2; k++) {
		const struct mm_instance *inst;
		if (!invs[k] || !mm_inventory_count(invs[k]) ||
		    !(inst = mm_inventory_by_eni(invs[k], eni, strlen(eni))))
			continue;
		for (i = 0; i < inst->ntags; i++) {
			const char *v = inst->tags[i].value;
			if (strcmp(inst->tags[i].key, "mamori:dns-resolver"))
				continue;
			while (*v) {
				struct mm_ip ip;
				size_t n;
				while (*v == ',' || *v == ' ')
					v++;
				n = strcspn(v, ", ");
				if (n && mm_ip_parse(v, n, &ip) == 0 && mm_ip_eq(&ip, addr))
					return 1;
				v += n;
			}
		}
	}
	return 0;
}

static double hll_estimate(const uint8_t *reg)
{
	double sum = 0;
	int i, zeros = 0;
	for (i = 0; i < NB_HLL; i++) {
		sum += ldexp(1.0, -(int)reg[i]);
		zeros += reg[i] == 0;
	}
	{
		double est = 0.697 * NB_HLL * NB_HLL / sum;
		if (est <= 2.5 * NB_HLL && zeros) /* small range: linear counting */
			est = NB_HLL * log((double)NB_HLL / zeros);
		return est;
	}
}

static void set_net(struct mm_finding *f, const struct nb_eni *e, const struct mm_ip *rip,
		    const struct mm_ip *lip, uint16_t lport, uint16_t rport, uint8_t proto)
{
	f->has_local_ip = lip != NULL;
	if (lip)
		f->local_ip = *lip;
	f->role = MM_ROLE_ACTOR;
	f->direction = MM_DIR_OUTBOUND;
	f->has_remote_ip = 1;
	f->remote_ip = *rip;
	f->remote_port = rport;
	f->local_port = lport;
	f->blocked = 0;
	/* items are TCP or UDP only (server ports) */
	snprintf(f->protocol, sizeof(f->protocol), "%s", proto == 17 ? "UDP" : "TCP");
	snprintf(f->caller_type, sizeof(f->caller_type), "Remote IP");
	snprintf(f->eni, sizeof(f->eni), "%s", e->name);
	if (e->region[0] && !f->region[0])
		snprintf(f->region, sizeof(f->region), "%s", e->region);
	mm_finding_info_num(f, "peers", (double)(uint64_t)(hll_estimate(e->hll) + 0.5));
}

static struct mm_finding *emit(struct mm_detect_ctx *c, const struct nb_eni *e, const char *type,
			       const struct mm_evref *ref, int64_t first, int64_t last)
{
	int latest;
	struct mm_finding *f;
	f = mm_emit_refs(c, type, mm_str_c(e->account), mm_str_c(e->name), "", ref, ref ? 1 : 0,
			 first, last, &latest);
	return f && latest ? f : NULL;
}

static void finish_items(struct mm_detect_ctx *c, struct nb_eni *e, int64_t learn_end)
{
	uint32_t i;
	for (i = 0; i < e->icap; i++) {
		struct nb_item *it = &e->it[i];
		struct nb_det dd;
		const struct nb_det *d = item_det(e, it, &dd);
		const char *type = NULL;
		struct mm_finding *f;
		uint64_t kind = KIND(it->key);
		uint16_t port = (uint16_t)it->key;
		uint8_t proto = (uint8_t)(it->key >> 16);

		if (!it->key || (it->flags & F_REPORTED) || (int64_t)it->first < learn_end)
			continue;
		if (kind == K_OUT) {
			if ((proto == 6 && is_mail_port(port)) || ((proto == 6 || proto == 17) && port == 53))
				continue; /* Spambot's and the resolver rule's */
			if (proto == 6 && port == 853)
				type = "DefenseEvasion:EC2/UnusualDoTActivity";
			else
				type = "Behavior:EC2/NetworkPortUnusual";
		} else if (kind == K_RES) {
			type = "DefenseEvasion:EC2/UnusualDNSResolver";
		} else if (kind == K_DOH) {
			type = "DefenseEvasion:EC2/UnusualDoHActivity";
		} else {
			continue; /* inbound ports: baseline only */
		}
		it->flags |= F_REPORTED; /* once; learned from now on */
		if (!d || !d->ref.file)
			continue; /* restored without its record: learned silently */
		if (kind != K_OUT || port == 853) {
			if (announced_resolver(c, e->name, &d->rip))
				continue;
		} else if (mm_intel_trusted(c->intel, &d->rip)) {
			continue;
		}
		f = emit(c, e, type, &d->ref, d->ref.time_ms, d->ref.time_ms);
		if (!f)
			continue;
		set_net(f, e, &d->rip, &d->lip, d->lport, d->rport, d->proto);
		if (kind == K_OUT)
			mm_finding_info_num(f, "unusualPort", port);
	}
}

static void finish_spam(struct mm_detect_ctx *c, struct nb_eni *e, int64_t learn_end)
{
	int k;
	for (k = 0; k < e->x->nhits; k++) {
		struct nb_hit *h = &e->x->hits[k];
		struct mm_finding *f;
		int j;
		if ((h->flags & F_REPORTED) || (int64_t)(h->hour - 1) * 3600 + 3599 < learn_end)
			continue;
		/* the mail port must be new for the ENI: a relay that always
		 * sent mail has it in the baseline */
		j = item_find(e, KEY(K_OUT, 6u << 16 | h->rport));
		if (j < 0 || (int64_t)e->it[j].first < learn_end)
			continue; /* baselined, or past the item cap: never fire on overflow */
		h->flags |= F_REPORTED;
		e->it[j].flags |= F_REPORTED;
		if (!h->ref.file)
			continue;
		f = emit(c, e, "Backdoor:EC2/Spambot", &h->ref, h->ref.time_ms, h->ref.time_ms);
		if (f)
			set_net(f, e, &h->rip, &h->lip, 0, h->rport, 6);
	}
}

static const struct mm_ip zero_ip;

static int hour_cmp(const void *a, const void *b)
{
	uint32_t x = (*(struct nb_hour *const *)a)->hour, y = (*(struct nb_hour *const *)b)->hour;
	return x < y ? -1 : x > y;
}

/* Hours in time order: the baseline is the largest hour not reported so
 * far (learning hours and later quiet ones); a later hour over
 * max(factor x that, floor) fires. */
static void finish_volume(struct mm_detect_ctx *c, struct nb_eni *e, int64_t learn_end)
{
	struct nb_hour **v;
	uint64_t m = e->x->frozen_max;
	uint32_t i, n = 0;

	if (!e->x->nhours || !(v = mm_malloc(e->x->nhours * sizeof(*v))))
		return;
	for (i = 0; i < e->x->hcap; i++)
		if (e->x->hr[i].hour)
			v[n++] = &e->x->hr[i];
	qsort(v, n, sizeof(*v), hour_cmp);
	for (i = 0; i < n; i++) {
		struct nb_hour *h = v[i];
		int64_t start = (int64_t)(h->hour - 1) * 3600;
		double lim = c->params[P_VOL_FACTOR] * (double)m;
		struct mm_finding *f;
		const struct nb_big *b;
		if (h->flags & F_REPORTED)
			continue;
		if (lim < c->params[P_VOL_FLOOR])
			lim = c->params[P_VOL_FLOOR];
		if (start < learn_end || (double)h->bytes <= lim) {
			if (h->bytes > m)
				m = h->bytes;
			continue;
		}
		h->flags |= F_REPORTED;
		b = big_of(e, h->hour);
		if (b && !b->ref.file)
			b = NULL;
		f = emit(c, e, "Behavior:EC2/TrafficVolumeUnusual", b ? &b->ref : NULL,
			 b ? b->ref.time_ms : start * 1000, b ? b->ref.time_ms : start * 1000);
		if (!f)
			continue;
		set_net(f, e, b ? &b->rip : &zero_ip, b ? &b->lip : NULL, 0, 0, 6);
		f->has_remote_ip = b != NULL;
		f->protocol[0] = '\0';
		mm_finding_info_num(f, "hourBytes", (double)h->bytes);
		mm_finding_info_num(f, "baselineBytes", (double)m);
	}
	mm_free(v);
}

static void finish(void *state, struct mm_detect_ctx *c)
{
	struct nb_state *s = state;
	size_t i;
	for (i = 0; i < s->cap; i++) {
		struct nb_eni *e = s->t[i].e;
		int64_t learn_end;
		uint32_t k;
		if (!e || e->tmin > e->tmax)
			continue;
		/* hours that reached the spambot count become hits (kept, and
		 * stored with their record) also before the baseline: older
		 * logs read in a later scan can make one new */
		for (k = 0; k < e->x->nmail; k++)
			mail_check(e, &e->x->mail[k], (uint32_t)c->params[P_SPAM_IPS]);
		learn_end = e->tmin + (int64_t)(c->params[P_LEARN] * 86400);
		if (e->tmax < learn_end)
			continue; /* no baseline yet */
		hour_flush(e, (uint32_t)c->params[P_MAX_HOURS]);
		finish_items(c, e, learn_end);
		finish_spam(c, e, learn_end);
		finish_volume(c, e, learn_end);
	}
}

/* ---- save / load ------------------------------------------------------------ */

/* Blob, little-endian, version 2 (state_version):
 *   "NB01" tmin:i64 tmax:i64 frozen_max:u64 overflow:u8 hoverflow:u8
 *   account[16] region[24] hll[32] nitems:u32 nhours:u32 nhits:u32
 *   nitems x (key:u64 first:u32 flags:u32)
 *   nhours x (hour:u32 flags:u32 bytes:u64)
 *   nhits  x (hour:u32 rport:u16 flags:u8)
 *   nfiles:u8, nfiles x (len:u16 name[len])
 *   nrefs:u32, nrefs x (tag:u8 key:uv file:u8 line:uv offset:uv
 *                       time_ms:uv remote:ipc local:ipc lport:uv proto:u8)
 *   (uv: LEB128; ipc: v6:u8 then 4 or 16 bytes; file: an index into the
 *   names; tag: the item's kind, key its value without it, or REF_HIT
 *   and key hour << 16 | rport)
 * The refs (version 2) are the records of what has not fired yet and
 * still could: an item's or a mail hit's. Without them an item that
 * turns out new only when older logs arrive in a later scan (days
 * scanned newest first, a backfill after live monitoring began) was
 * learned without a finding.
 * Version 1 is the same without the refs, and still loads. The mail
 * hours in progress are not stored (a spambot burst cut by the scan
 * boundary counts in the part each scan saw). */
#define NB_MAGIC "NB01"
#define NB_HDR (4 + 8 + 8 + 8 + 1 + 1 + 16 + 24 + NB_HLL + 4 + 4 + 4)
#define NB_REF_FILE 1024	/* a stored evidence file name, at most */
#define NB_REF_FILES 64		/* distinct file names in one blob's refs */
#define REF_HIT 0x10		/* a ref's tag for a mail hit; an item's is its kind */
#define KEY_VALUE ((1ULL << 56) - 1)	/* a key without its kind */

/* The refs section of e (version 2) into w: the file names, then the
 * unfired items' and hits' records naming them by index. A record whose
 * file is past NB_REF_FILES distinct names, or has none, is left out
 * (should that item turn out new, it is learned without a finding, as
 * every item was in version 1). */
static int refs_put(struct mm_buf *w, const struct nb_eni *e)
{
	const char *files[NB_REF_FILES];
	struct nb_det dd;
	uint32_t j, nref = 0, pass;
	int nf = 0, rc = 0;

	for (pass = 0; pass < 3 && !rc; pass++) {
		if (pass == 1) {
			rc = mm_blob_put_u(w, (uint64_t)nf, 1);
			for (j = 0; j < (uint32_t)nf && !rc; j++)
				rc = mm_blob_put_str(w, files[j], 2, NB_REF_FILE);
			continue;
		}
		if (pass == 2)
			rc = rc ? rc : mm_blob_put_u(w, nref, 4);
		for (j = 0; j < e->icap + e->x->nhits && !rc; j++) {
			const struct mm_evref *r;
			const struct mm_ip *rip, *lip;
			uint64_t key;
			uint16_t lport = 0;
			uint8_t proto = 6;
			int tag, f;
			if (j < e->icap) {
				const struct nb_det *d;
				if (!e->it[j].key || (e->it[j].flags & F_REPORTED) ||
				    !(d = item_det(e, &e->it[j], &dd)))
					continue;
				tag = 1, key = e->it[j].key, r = &d->ref, rip = &d->rip, lip = &d->lip;
				lport = d->lport, proto = d->proto;
			} else {
				const struct nb_hit *h = &e->x->hits[j - e->icap];
				if (h->flags & F_REPORTED)
					continue;
				tag = 2, key = (uint64_t)h->hour << 16 | h->rport, r = &h->ref;
				rip = &h->rip, lip = &h->lip;
			}
			if (!r->file || !r->file[0] || strlen(r->file) > NB_REF_FILE)
				continue;
			for (f = 0; f < nf && files[f] != r->file; f++)
				;
			if (f == nf) {
				if (nf == NB_REF_FILES)
					continue;
				if (pass == 0)
					files[nf++] = r->file;
			}
			if (pass == 0) {
				nref++;
				continue;
			}
			/* an item's kind is its tag; the rest of the key follows */
			rc = mm_blob_put_u(w, tag == 1 ? KIND(key) : REF_HIT, 1);
			rc = rc ? rc : mm_blob_put_uv(w, tag == 1 ? key & KEY_VALUE : key);
			rc = rc ? rc : mm_blob_put_u(w, (uint64_t)f, 1);
			rc = rc ? rc : mm_blob_put_uv(w, r->line);
			rc = rc ? rc : mm_blob_put_uv(w, r->offset);
			rc = rc ? rc : mm_blob_put_uv(w, (uint64_t)r->time_ms);
			rc = rc ? rc : mm_blob_put_ipc(w, rip);
			rc = rc ? rc : mm_blob_put_ipc(w, lip);
			rc = rc ? rc : mm_blob_put_uv(w, lport);
			rc = rc ? rc : mm_blob_put_u(w, proto, 1);
		}
	}
	return rc;
}

static int save(void *state, int (*put)(void *pctx, const char *entity, const void *blob, size_t n),
		void *pctx)
{
	struct nb_state *s = state;
	struct mm_buf refs;
	size_t i;
	int rc = 0;

	mm_buf_init(&refs, MM_STORE_STATE_MAX);
	for (i = 0; i < s->cap && !rc; i++) {
		struct nb_eni *e = s->t[i].e;
		unsigned char *b, *p;
		size_t n;
		uint32_t j, nh;
		int k;
		if (!e || e->tmin > e->tmax)
			continue;
		/* the hours being summed inline are written as they are (a
		 * flush would allocate an hour table for every ENI); only when
		 * they could push out a kept hour are they flushed first */
		if (e->x->nhours + 2 > (uint32_t)state_params(s, NULL)[P_MAX_HOURS])
			hour_flush(e, (uint32_t)state_params(s, NULL)[P_MAX_HOURS]);
		nh = e->x->nhours;
		for (k = 0; k < 2; k++)
			if (e->cur_hour[k] && hour_find(e, e->cur_hour[k]) < 0)
				nh++;
		mm_buf_reset(&refs);
		if ((rc = refs_put(&refs, e)))
			break;
		n = NB_HDR + (size_t)e->nitems * 16 + (size_t)nh * 16 + (size_t)e->x->nhits * 7 +
		    refs.len;
		if (!(b = mm_malloc(n))) {
			rc = MM_ENOMEM;
			break;
		}
		p = b;
		memcpy(p, NB_MAGIC, 4), p += 4;
		mm_le_put(p, (uint64_t)e->tmin, 8), p += 8;
		mm_le_put(p, (uint64_t)e->tmax, 8), p += 8;
		mm_le_put(p, e->x->frozen_max, 8), p += 8;
		*p++ = (unsigned char)e->overflow;
		*p++ = (unsigned char)e->x->hoverflow;
		memcpy(p, e->account, 16), p += 16;
		memcpy(p, e->region, 24), p += 24;
		memcpy(p, e->hll, NB_HLL), p += NB_HLL;
		mm_le_put(p, e->nitems, 4), p += 4;
		mm_le_put(p, nh, 4), p += 4;
		mm_le_put(p, (uint32_t)e->x->nhits, 4), p += 4;
		for (j = 0; j < e->icap; j++)
			if (e->it[j].key) {
				mm_le_put(p, e->it[j].key, 8), p += 8;
				mm_le_put(p, e->it[j].first, 4), p += 4;
				mm_le_put(p, e->it[j].flags & F_REPORTED, 4), p += 4;
			}
		for (j = 0; j < e->x->hcap; j++)
			if (e->x->hr[j].hour) {
				uint64_t by = e->x->hr[j].bytes;
				for (k = 0; k < 2; k++)
					if (e->cur_hour[k] == e->x->hr[j].hour)
						by += e->cur_bytes[k];
				mm_le_put(p, e->x->hr[j].hour, 4), p += 4;
				mm_le_put(p, e->x->hr[j].flags, 4), p += 4;
				mm_le_put(p, by, 8), p += 8;
			}
		for (k = 0; k < 2; k++)
			if (e->cur_hour[k] && hour_find(e, e->cur_hour[k]) < 0) {
				mm_le_put(p, e->cur_hour[k], 4), p += 4;
				mm_le_put(p, 0, 4), p += 4;
				mm_le_put(p, e->cur_bytes[k], 8), p += 8;
			}
		for (k = 0; k < e->x->nhits; k++) {
			mm_le_put(p, e->x->hits[k].hour, 4), p += 4;
			mm_le_put(p, e->x->hits[k].rport, 2);
			p[2] = e->x->hits[k].flags;
			p += 3;
		}
		memcpy(p, refs.p, refs.len);
		rc = put(pctx, e->name, b, n);
		mm_free(b);
	}
	mm_buf_free(&refs);
	return rc;
}

/* Give the restored items and hits of e their records: the refs
 * section (version 2) in r, to its end exactly. -1 when malformed or
 * naming what e does not hold. */
static int load_refs(struct nb_eni *e, struct mm_blob_rd *r)
{
	const char *files[NB_REF_FILES];
	uint32_t nr, j;
	int nf = (int)mm_blob_get_u(r, 1), k;

	if (nf > NB_REF_FILES)
		return -1;
	for (k = 0; k < nf && !r->bad; k++) {
		size_t n = (size_t)mm_blob_get_u(r, 2);
		const unsigned char *p = n && n <= NB_REF_FILE ? mm_blob_get_bytes(r, n) : NULL;
		if (!p || memchr(p, '\0', n))
			return -1;
		files[k] = mm_intern((const char *)p, n);
	}
	nr = (uint32_t)mm_blob_get_u(r, 4);
	for (j = 0; j < nr && !r->bad; j++) {
		struct nb_det d;
		uint64_t tag = mm_blob_get_u(r, 1), key = mm_blob_get_uv(r), lport;
		int f = (int)mm_blob_get_u(r, 1);
		memset(&d, 0, sizeof(d));
		d.ref.line = mm_blob_get_uv(r);
		d.ref.offset = mm_blob_get_uv(r);
		d.ref.time_ms = (int64_t)mm_blob_get_uv(r);
		mm_blob_get_ipc(r, &d.rip);
		mm_blob_get_ipc(r, &d.lip);
		lport = mm_blob_get_uv(r);
		d.proto = (uint8_t)mm_blob_get_u(r, 1);
		if (r->bad || f >= nf || d.ref.time_ms < 0 || d.ref.time_ms > 0xfffffffeLL * 1000 ||
		    lport > 0xffff || (tag != REF_HIT && key > KEY_VALUE))
			return -1;
		d.lport = (uint16_t)lport;
		d.ref.file = files[f];
		if (tag != REF_HIT) {
			key |= tag << 56;
			if ((k = item_find(e, key)) < 0 || !needs_det(key) ||
			    (e->it[k].flags & F_REPORTED))
				return -1;
			item_add(e, key, e->it[k].first, 0, &d, 4096);
			continue;
		}
		if (key >> 48)
			return -1;
		for (k = 0; k < e->x->nhits; k++)
			if (e->x->hits[k].hour == (uint32_t)(key >> 16) &&
			    e->x->hits[k].rport == (uint16_t)key)
				break;
		if (k == e->x->nhits || (e->x->hits[k].flags & F_REPORTED))
			return -1;
		if (!e->x->hits[k].ref.file || mm_evref_before(&d.ref, &e->x->hits[k].ref)) {
			e->x->hits[k].ref = d.ref;
			e->x->hits[k].rip = d.rip;
			e->x->hits[k].lip = d.lip;
		}
	}
	return r->bad || r->p != r->end ? -1 : 0;
}

/* Restore one ENI's blob, merging into what is held (so loading is
 * order-free too). A malformed blob is rejected whole: MM_EPARSE. */
static int load(void *state, const char *entity, int version, const void *blob, size_t n)
{
	struct nb_state *s = state;
	const unsigned char *b = blob, *p;
	uint32_t ni, nh, nt, j;
	struct nb_eni *tmp = NULL, *e;
	const double *prm = state_params(s, NULL);
	int rc = MM_EPARSE;
	size_t en = strlen(entity), fixed;

	if ((version != 1 && version != 2) || n < NB_HDR || memcmp(b, NB_MAGIC, 4) || !en ||
	    en >= sizeof(tmp->name))
		return MM_EPARSE;
	p = b + NB_HDR - 12;
	ni = (uint32_t)mm_le_get(p, 4);
	nh = (uint32_t)mm_le_get(p + 4, 4);
	nt = (uint32_t)mm_le_get(p + 8, 4);
	if (ni > 4096 || nh > 8760 || nt > NB_MAX_HITS)
		return MM_EPARSE;
	fixed = NB_HDR + (size_t)ni * 16 + (size_t)nh * 16 + (size_t)nt * 7;
	if (version == 1 ? n != fixed : n < fixed + 5)
		return MM_EPARSE;
	if (!(tmp = mm_calloc(1, sizeof(*tmp))))
		return MM_ENOMEM;
	tmp->x = &nb_cold_none;
	if (cold_get(tmp)) {
		mm_free(tmp);
		return MM_ENOMEM;
	}
	memcpy(tmp->name, entity, en);
	p = b + 4;
	tmp->tmin = (int64_t)mm_le_get(p, 8), p += 8;
	tmp->tmax = (int64_t)mm_le_get(p, 8), p += 8;
	tmp->x->frozen_max = mm_le_get(p, 8), p += 8;
	tmp->overflow = *p++ != 0;
	tmp->x->hoverflow = *p++ != 0;
	memcpy(tmp->account, p, 16), p += 16;
	memcpy(tmp->region, p, 24), p += 24;
	memcpy(tmp->hll, p, NB_HLL), p += NB_HLL;
	p += 12;
	tmp->account[sizeof(tmp->account) - 1] = tmp->region[sizeof(tmp->region) - 1] = '\0';
	if (tmp->tmin > tmp->tmax || tmp->tmin < 0 || tmp->tmax > 0xfffffffeLL)
		goto out;
	for (j = 0; j < NB_HLL; j++)
		if (tmp->hll[j] > 60)
			goto out;
	for (j = 0; j < ni; j++, p += 16) {
		uint64_t key = mm_le_get(p, 8), kind = KIND(key);
		if (kind < K_OUT || kind > K_DOH || item_find(tmp, key) >= 0)
			goto out;
		item_add(tmp, key, (uint32_t)mm_le_get(p + 8, 4),
			 (uint32_t)mm_le_get(p + 12, 4) & F_REPORTED, NULL, 4096);
	}
	for (j = 0; j < nh; j++, p += 16) {
		uint32_t hour = (uint32_t)mm_le_get(p, 4);
		int k;
		if (!hour || hour_find(tmp, hour) >= 0 || (k = hour_get(tmp, hour, 8760)) < 0)
			goto out;
		tmp->x->hr[k].bytes = mm_le_get(p + 8, 8);
		tmp->x->hr[k].flags = (uint32_t)mm_le_get(p + 4, 4) & F_REPORTED;
	}
	for (j = 0; j < nt; j++, p += 7) {
		struct nb_hit h;
		memset(&h, 0, sizeof(h));
		h.hour = (uint32_t)mm_le_get(p, 4);
		h.rport = (uint16_t)mm_le_get(p + 4, 2);
		h.flags = p[6] & F_REPORTED;
		if (!h.hour || !is_mail_port(h.rport))
			goto out;
		hit_add(tmp, &h);
	}
	if (version >= 2) {
		struct mm_blob_rd rd;
		mm_blob_rd_init(&rd, p, (size_t)(b + n - p));
		if (load_refs(tmp, &rd))
			goto out;
	}
	e = eni_get(s, eni_hash(entity, en), entity, en);
	if (!e) {
		rc = MM_ENOMEM;
		goto out;
	}
	eni_merge(e, tmp, prm);
	rc = 0;
out:
	eni_free(tmp);
	return rc;
}

static const char *const types[] = {
	"Behavior:EC2/NetworkPortUnusual",
	"Backdoor:EC2/Spambot",
	"Behavior:EC2/TrafficVolumeUnusual",
	"DefenseEvasion:EC2/UnusualDNSResolver",
	"DefenseEvasion:EC2/UnusualDoHActivity",
	"DefenseEvasion:EC2/UnusualDoTActivity",
	NULL,
};

const struct mm_detector_def mm_det_netbase = {
	.name = "netbase",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.state_version = 2,
	.state_version_min = 1,
	.types = types,
	.params = params,
	.state_new = state_new,
	.state_free = state_free,
	.on_event = on_event,
	.on_batch = on_batch,
	.state_packed = 1,
	.merge = merge,
	.finish = finish,
	.save = save,
	.load = load,
};
