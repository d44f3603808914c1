/* netscan.c - port probes against an instance and scans/sweeps from it
 * (VPC Flow Logs; docs/finding-types.md has the logic and reasons):
 *
 *   Recon:EC2/PortProbeUnprotectedPort     TARGET  a local port reached
 *   Recon:EC2/PortProbeEMRUnprotectedPort  TARGET  (EMR master ports)
 *   Recon:EC2/Portscan                     ACTOR   many ports, one host
 *   Impact:EC2/PortSweep                   ACTOR   one port, many hosts
 *
 * The hot path filters first: a probe is an ACCEPTed record sent by a
 * public remote that opened the connection; a scan/sweep attempt is a
 * record the instance sent when it opened the connection that carried at
 * most attempt_max_packets packets of no payload (SYN, retries, RST) or
 * was REJECTed. Only
 * those records reach the table: one open-addressing lookup keyed by a
 * 64-bit hash of (kind, ENI, port or remote, window start), and the
 * distinct items behind a count (probing sources, ports, remote hosts)
 * are a small set per entry that stops growing at the largest threshold
 * a param can ask for - we only need to know when it reaches N. No
 * allocation per record: entries and their item slots are created once
 * per key (amortised doubling). Inbound sessions (the served-port test's
 * clients) are most inbound records and most of their ports never see a
 * probe: they go to a separate table of 40-byte records, so a probe
 * entry exists only for a key that saw a probe-sized record.
 *
 * Windows are tumbling and aligned to the epoch in event time (a day for
 * probes, 10 minutes for scans), so a scan split at a day boundary sees
 * every window whole and two scans give what one gives. Decisions are
 * taken in finish on the merged state; an entry that fired is marked
 * done (persisted) so it never fires twice. Scan and sweep counts only
 * grow, so they fire when reached. The served-port test can turn a probe
 * window off as clients arrive, so a probe window is decided in full only
 * once closed (the data moved close_after past its end); before that only
 * a port without any real client may fire - which keeps results the same
 * however flushes and runs cut the data. Entries whose window ended more
 * than `retain` seconds before the ENI's latest tracked record are
 * dropped at finish: a record later than that for a dropped window
 * starts it again (documented limit). Past max_entries the keys kept are
 * the smallest by hash, not the first to come (see admit), so findings do
 * not depend on threads or file order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/heap64.h"
#include "core/intern.h"
#include "core/log.h"
#include "core/mem.h"
#include "detect/blob.h"
#include "detect/detect.h"

#define T_PROBE "Recon:EC2/PortProbeUnprotectedPort"
#define T_EMR "Recon:EC2/PortProbeEMRUnprotectedPort"
#define T_SCAN "Recon:EC2/Portscan"
#define T_SWEEP "Impact:EC2/PortSweep"

/* params, in table order */
enum {
	P_PROBE_MIN,
	P_PROBE_PKTS,
	P_PROBE_WIN,
	P_SERVED,
	P_MASS,
	P_SCAN_MIN,
	P_SCAN_WIN,
	P_SWEEP_MIN,
	P_SWEEP_WIN,
	P_ATTEMPT_PKTS,
	P_RETAIN,
	P_MAX_ENTRIES,
	P_ATTEMPT_BPP,
	P_PROBE_BPP,
	P_CLOSE_AFTER,
};

enum { K_PROBE = 1, K_SCAN, K_SWEEP };

/* Item slots per kind: the largest threshold the params allow, so a set
 * never needs to hold more (probe: 8 sources then 16 served clients). */
#define PROBE_SRC_CAP 8
#define SERVED_CAP 16
#define SCAN_CAP 64
#define SWEEP_CAP 128
#define NREF 2	/* evidence records kept per entry (earliest): entries stay small */
/* Most scan/sweep keys see one or two items (a client's few attempts):
 * those stay inline; the pool slots are taken at the fifth. */
#define INL 4
/* Event times beyond this (seconds; year 5138) are not real: ignored, so
 * no window or ms arithmetic can overflow on hostile input. */
#define MAX_T 100000000000LL
#define NOPOOL UINT32_MAX

struct ent {
	uint64_t key;		/* never 0 (ent_key) */
	int64_t win;		/* window start, s */
	int64_t first_ms, last_ms; /* counted records */
	uint32_t eni;		/* index into names */
	uint32_t off;		/* first item slot in pool, or NOPOOL: inl */
	uint8_t kind, done, proto, v6mask; /* v6mask: probe sources kept as hashes */
	uint16_t port;		/* probe: local port; sweep: remote port; scan: source port */
	uint16_t n, m;		/* distinct items; probe: m = served clients */
	uint8_t dead;		/* scan/sweep: a trusted side (never counts) */
	uint8_t nref;
	struct mm_ip remote, local; /* scan: the host; else the latest remote */
	uint32_t inl[INL];
	struct mm_evref ref[NREF];
};

/* A probe key's served clients (real sessions to the port in the window),
 * apart from the probe entries: most inbound records are sessions, so
 * most probe keys only ever see clients and need nothing else. 40 bytes,
 * held in the open-addressing table itself (one cache miss a record);
 * the first SRV_INL clients inline, then SERVED_CAP pool slots whose
 * offset is inl[0]. */
#define SRV_INL 4
struct srv {
	uint64_t key;		/* the probe entry's key; 0: empty slot */
	int64_t win;
	uint32_t eni;
	uint16_t port;
	uint8_t proto, m;	/* m: distinct clients, at most SERVED_CAP */
	uint32_t inl[SRV_INL];
};

struct eni_name {
	uint64_t h;
	char name[32];
	char account[16];
	char region[24];
};

/* The index: open addressing on the key, tcap a power of two; entries
 * themselves are dense (0..count) in fixed chunks that never move, so
 * growing the index copies 16 bytes a key, not the entries. */
struct slot {
	uint64_t key;		/* 0 = empty */
	uint32_t idx;
};
#define CH_SHIFT 8
#define CH_N (1u << CH_SHIFT)

/* Two indexes: probe keys (few, hit by every inbound record: stays in
 * cache) and scan/sweep keys (many, hit only by outbound attempts). */
#define IX(kind) ((kind) == K_PROBE ? 0 : 1)

struct nstate {
	struct slot *t[2];
	size_t tcap[2], tn[2];
	size_t count;
	const char *fcache;	/* the interned file name last cited */
	/* hot-path memo: records come in runs of one ENI and one window */
	char last_eni[32];
	size_t last_eni_n;
	uint64_t last_enih;
	int64_t pwin, pwin_len;	/* the probe window last computed */
	struct ent **ch;	/* chunks of CH_N entries */
	size_t nch;
	/* served clients of probe keys: open addressing, svcap a power of 2 */
	struct srv *sv;
	size_t svcap, sn;
	uint32_t *pool;		/* item slots */
	size_t pool_n, pool_cap;
	struct eni_name *names;
	size_t nnames, names_cap;
	struct slot *nidx;	/* open addressing on names[].h (kept in the
				 * slot: one cache line a probe); idx: index + 1 */
	size_t nidx_cap;
	uint64_t dropped;	/* records not tracked: key refused at max_entries */
	uint64_t evicted;	/* keys given up for smaller ones (bottom-k) */
	int64_t wm;		/* watermark: latest record start seen, s */
	/* The bound (bottom-k by key, see admit): max units (entries plus
	 * served sets), 0 until params are seen; thr: keys >= thr are not
	 * tracked in this batch (0: none yet); heap: a max-heap of the kept
	 * keys, built when the state first fills (valid while heaped). */
	size_t max;
	uint64_t thr;
	uint64_t *heap;
	size_t hn, hcap;
	int heaped;
	uint32_t freel[4];	/* freed pool blocks per size class, NOPOOL: none */
};

static const uint16_t emr_ports[] = {8088, 8890, 8889, 18080, 8042, 20888, 50070, 9870};

static size_t item_cap(int kind)
{
	return kind == K_PROBE ? PROBE_SRC_CAP : kind == K_SCAN ? SCAN_CAP : SWEEP_CAP;
}

static void *state_new(void)
{
	struct nstate *s = mm_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->tcap[0] = 256;
	s->tcap[1] = 1024;
	s->nidx_cap = 64;
	s->svcap = 256;
	s->freel[0] = s->freel[1] = s->freel[2] = s->freel[3] = NOPOOL;
	s->t[0] = mm_calloc(s->tcap[0], sizeof(*s->t[0]));
	s->t[1] = mm_calloc(s->tcap[1], sizeof(*s->t[1]));
	s->nidx = mm_calloc(s->nidx_cap, sizeof(*s->nidx));
	s->sv = mm_calloc(s->svcap, sizeof(*s->sv));
	if (!s->t[0] || !s->t[1] || !s->nidx || !s->sv) {
		mm_free(s->t[0]);
		mm_free(s->t[1]);
		mm_free(s->nidx);
		mm_free(s->sv);
		mm_free(s);
		return NULL;
	}
	return s;
}

static void state_free(void *st)
{
	struct nstate *s = st;
	if (!s)
		return;
	{
		size_t i;
		for (i = 0; i < s->nch; i++)
			mm_free(s->ch[i]);
	}
	mm_free(s->ch);
	mm_free(s->sv);
	mm_free(s->t[0]);
	mm_free(s->t[1]);
	mm_free(s->pool);
	mm_free(s->names);
	mm_free(s->nidx);
	mm_free(s->heap);
	mm_free(s);
}

/* ---- keys ---------------------------------------------------------------- */

static uint64_t ip_key(const struct mm_ip *ip)
{
	return ip->v6 ? mm_hash(ip->b, 16, 7) : mm_ip_v4(ip);
}

/* 32-bit item for an address: the IPv4 address itself (so probe sources
 * can be shown), a hash for IPv6. */
static uint32_t ip_item(const struct mm_ip *ip)
{
	return ip->v6 ? (uint32_t)mm_hash(ip->b, 16, 11) : mm_ip_v4(ip);
}

static uint64_t ent_key(uint64_t enih, int kind, int proto, uint16_t port, uint64_t rkey,
			int64_t win)
{
	uint64_t a = mm_hash_mix(((uint64_t)kind << 56) ^ ((uint64_t)proto << 48) ^
				 ((uint64_t)port << 32) ^ (uint64_t)win);
	uint64_t k = mm_hash_mix(enih ^ a ^ mm_hash_mix(rkey + 0x9e3779b97f4a7c15ULL));
	return k ? k : 1;
}

/* ---- the ENI names (touched only when an entry is created) -------------- */

static int name_find(const struct nstate *s, uint64_t h)
{
	size_t i = (size_t)h & (s->nidx_cap - 1);
	while (s->nidx[i].idx) {
		if (s->nidx[i].key == h)
			return (int)(s->nidx[i].idx - 1);
		i = (i + 1) & (s->nidx_cap - 1);
	}
	return -1;
}

static int name_add(struct nstate *s, uint64_t h, struct mm_str eni, struct mm_str acct,
		    struct mm_str region)
{
	int k = name_find(s, h);
	size_t i;
	if (k >= 0)
		return k;
	if ((s->nnames + 1) * 4 > s->nidx_cap * 3) {
		size_t nc = s->nidx_cap * 2, j;
		struct slot *ni = mm_calloc(nc, sizeof(*ni));
		if (!ni)
			return -1;
		for (j = 0; j < s->nidx_cap; j++) {
			size_t p;
			if (!s->nidx[j].idx)
				continue;
			p = (size_t)s->nidx[j].key & (nc - 1);
			while (ni[p].idx)
				p = (p + 1) & (nc - 1);
			ni[p] = s->nidx[j];
		}
		mm_free(s->nidx);
		s->nidx = ni;
		s->nidx_cap = nc;
	}
	if (s->nnames == s->names_cap) {
		size_t nc = s->names_cap ? s->names_cap * 2 : 16;
		struct eni_name *nn = mm_realloc(s->names, nc * sizeof(*nn));
		if (!nn)
			return -1;
		s->names = nn;
		s->names_cap = nc;
	}
	memset(&s->names[s->nnames], 0, sizeof(s->names[0]));
	s->names[s->nnames].h = h;
	mm_str_copy(s->names[s->nnames].name, sizeof(s->names[0].name), eni);
	mm_str_copy(s->names[s->nnames].account, sizeof(s->names[0].account), acct);
	mm_str_copy(s->names[s->nnames].region, sizeof(s->names[0].region), region);
	i = (size_t)h & (s->nidx_cap - 1);
	while (s->nidx[i].idx)
		i = (i + 1) & (s->nidx_cap - 1);
	s->nidx[i].key = h;
	s->nidx[i].idx = (uint32_t)s->nnames + 1;
	return (int)s->nnames++;
}

/* ---- the entry table ----------------------------------------------------- */

static int has_item(const uint32_t *it, int n, uint32_t v)
{
	int i;
	for (i = 0; i < n; i++)
		if (it[i] == v)
			return 1;
	return 0;
}


static inline struct ent *ENT(const struct nstate *s, size_t i)
{
	return &s->ch[i >> CH_SHIFT][i & (CH_N - 1)];
}

static struct ent *ent_find(const struct nstate *s, uint64_t key, int kind)
{
	const struct slot *tab = s->t[IX(kind)];
	size_t mask = s->tcap[IX(kind)] - 1, i = (size_t)key & mask;
	for (;;) {
		const struct slot *t = &tab[i];
		if (t->key == key)
			return ENT(s, t->idx);
		if (!t->key)
			return NULL;
		i = (i + 1) & mask;
	}
}

static void slot_put(struct slot *t, size_t cap, uint64_t key, uint32_t idx)
{
	size_t p = (size_t)key & (cap - 1);
	while (t[p].key)
		p = (p + 1) & (cap - 1);
	t[p].key = key;
	t[p].idx = idx;
}

static int grow(struct nstate *s, int x)
{
	size_t nc = s->tcap[x] * 2, i;
	struct slot *nt = mm_calloc(nc, sizeof(*nt));
	if (!nt)
		return MM_ENOMEM;
	for (i = 0; i < s->tcap[x]; i++)
		if (s->t[x][i].key)
			slot_put(nt, nc, s->t[x][i].key, s->t[x][i].idx);
	mm_free(s->t[x]);
	s->t[x] = nt;
	s->tcap[x] = nc;
	return 0;
}

/* The free list of blocks of n slots (n is one of the four block sizes). */
static uint32_t *freel(struct nstate *s, size_t n)
{
	return &s->freel[n == PROBE_SRC_CAP ? 0 : n == SERVED_CAP ? 1 : n == SCAN_CAP ? 2 : 3];
}

/* Give a block of n slots back (an evicted key's): the next take of that
 * size reuses it, so eviction keeps the pool at its bound. */
static void pool_give(struct nstate *s, uint32_t off, size_t n)
{
	uint32_t *h = freel(s, n);
	s->pool[off] = *h;
	*h = off;
}

/* n item slots from the pool (a freed block, else amortised doubling);
 * 0 or MM_ENOMEM. */
static int pool_take(struct nstate *s, size_t n, uint32_t *off)
{
	uint32_t *h = freel(s, n);
	if (*h != NOPOOL) {
		*off = *h;
		*h = s->pool[*off];
		memset(s->pool + *off, 0, n * sizeof(*s->pool));
		return 0;
	}
	if (s->pool_n + n > s->pool_cap) {
		size_t nc = s->pool_cap ? s->pool_cap * 2 : 4096;
		uint32_t *np;
		while (nc < s->pool_n + n)
			nc *= 2;
		if (nc > NOPOOL || !(np = mm_realloc(s->pool, nc * sizeof(*np))))
			return MM_ENOMEM;
		s->pool = np;
		s->pool_cap = nc;
	}
	*off = (uint32_t)s->pool_n;
	memset(s->pool + s->pool_n, 0, n * sizeof(*s->pool)); /* saved as is */
	s->pool_n += n;
	return 0;
}

/* A new entry for key (absent), with its item slots; NULL when the table
 * is at max entries or out of memory (the key is then not tracked). */
static struct ent *ent_add(struct nstate *s, uint64_t key, int kind, size_t max)
{
	uint32_t off = NOPOOL;
	struct ent *e;

	if (s->count >= max) {
		s->dropped++;
		return NULL;
	}
	if ((s->tn[IX(kind)] + 1) * 4 > s->tcap[IX(kind)] * 3 && grow(s, IX(kind)))
		return NULL;
	if ((s->count >> CH_SHIFT) >= s->nch) {
		struct ent **nch, *c;
		if (!(c = mm_malloc(CH_N * sizeof(*c))))
			return NULL;
		if (!(nch = mm_realloc(s->ch, (s->nch + 1) * sizeof(*nch)))) {
			mm_free(c);
			return NULL;
		}
		s->ch = nch;
		s->ch[s->nch++] = c;
	}
	if (kind == K_PROBE && pool_take(s, item_cap(kind), &off))
		return NULL;
	e = ENT(s, s->count);
	memset(e, 0, sizeof(*e));
	e->key = key;
	e->kind = (uint8_t)kind;
	e->off = off;
	slot_put(s->t[IX(kind)], s->tcap[IX(kind)], key, (uint32_t)s->count);
	s->tn[IX(kind)]++;
	s->count++;
	return e;
}

static uint32_t *items(const struct nstate *s, struct ent *e)
{
	return e->off == NOPOOL ? e->inl : s->pool + e->off;
}

/* Add v to e's distinct items (at most cap); 1 if it was new. */
static int add_item(struct nstate *s, struct ent *e, int cap, uint32_t v)
{
	uint32_t *it = items(s, e), off;
	if (e->n >= cap || has_item(it, e->n, v))
		return 0;
	if (e->off == NOPOOL && e->n == INL) {
		if (pool_take(s, (size_t)cap, &off))
			return 0;
		memcpy(s->pool + off, e->inl, sizeof(e->inl));
		e->off = off;
		it = s->pool + off;
	}
	it[e->n++] = v;
	return 1;
}

/* ---- served clients of probe keys ------------------------------------------ */

static struct srv *srv_find(const struct nstate *s, uint64_t key)
{
	size_t mask = s->svcap - 1, i = (size_t)key & mask;
	for (;;) {
		struct srv *v = &s->sv[i];
		if (v->key == key)
			return v;
		if (!v->key)
			return NULL;
		i = (i + 1) & mask;
	}
}

static struct srv *srv_slot(struct srv *t, size_t cap, uint64_t key)
{
	size_t p = (size_t)key & (cap - 1);
	while (t[p].key)
		p = (p + 1) & (cap - 1);
	return &t[p];
}

/* A new served set for key (absent); NULL when out of memory. Moves the
 * table's records when it grows: no pointer into it is kept across. */
static struct srv *srv_add(struct nstate *s, uint64_t key, int64_t win, uint32_t eni,
			   uint16_t port, uint8_t proto)
{
	struct srv *v;
	if ((s->sn + 1) * 4 > s->svcap * 3) {
		size_t nc = s->svcap * 2, i;
		struct srv *nt = mm_calloc(nc, sizeof(*nt));
		if (!nt)
			return NULL;
		for (i = 0; i < s->svcap; i++)
			if (s->sv[i].key)
				*srv_slot(nt, nc, s->sv[i].key) = s->sv[i];
		mm_free(s->sv);
		s->sv = nt;
		s->svcap = nc;
	}
	v = srv_slot(s->sv, s->svcap, key);
	memset(v, 0, sizeof(*v));
	v->key = key;
	v->win = win;
	v->eni = eni;
	v->port = port;
	v->proto = proto;
	s->sn++;
	return v;
}

static uint32_t *srv_items(const struct nstate *s, struct srv *v)
{
	return v->m > SRV_INL ? s->pool + v->inl[0] : v->inl;
}

/* Add client x to v's set (at most SERVED_CAP; the pool from the
 * (SRV_INL+1)th). */
static void srv_put(struct nstate *s, struct srv *v, uint32_t x)
{
	uint32_t *it = srv_items(s, v), off;
	if (v->m >= SERVED_CAP || has_item(it, v->m, x))
		return;
	if (v->m == SRV_INL) {
		if (pool_take(s, SERVED_CAP, &off))
			return;
		memcpy(s->pool + off, v->inl, sizeof(v->inl));
		v->inl[0] = off;
		it = s->pool + off;
	}
	it[v->m++] = x;
}

/* ---- the bound: bottom-k by key -------------------------------------------- */

/* When the state holds max units (entries plus served sets), which keys
 * stay must not depend on the order records arrive in nor on how files
 * were spread over workers. So the kept keys are always the smallest
 * (keys are 64-bit hashes): a key k is admitted only if it is below the
 * largest kept key, which is then evicted whole (its entry and its served
 * set), and thr falls to it; keys >= thr are refused for the rest of the
 * batch. thr only falls, so a key that ends up kept was never refused nor
 * evicted before and holds exact data, and the kept set is every key
 * below the first key (in hash order) at which the units of all keys seen
 * add up past max - the same for any order or split (merge applies the
 * same rule to the union, starting from the lower thr). finish resets thr
 * (see there). */

static int heap_build(struct nstate *s)
{
	size_t need = s->count + s->sn + 1, i;
	if (need > s->hcap) {
		uint64_t *nh = mm_realloc(s->heap, need * sizeof(*nh));
		if (!nh)
			return MM_ENOMEM;
		s->heap = nh;
		s->hcap = need;
	}
	s->hn = 0;
	for (i = 0; i < s->count; i++)
		s->heap[s->hn++] = ENT(s, i)->key;
	for (i = 0; i < s->svcap; i++)
		if (s->sv[i].key && !ent_find(s, s->sv[i].key, K_PROBE))
			s->heap[s->hn++] = s->sv[i].key;
	for (i = s->hn / 2; i-- > 0;)
		mm_heap64_down(s->heap, s->hn, i);
	s->heaped = 1;
	return 0;
}

static int heap_push(struct nstate *s, uint64_t key)
{
	if (s->hn == s->hcap) {
		size_t nc = s->hcap ? s->hcap * 2 : 1024;
		uint64_t *nh = mm_realloc(s->heap, nc * sizeof(*nh));
		if (!nh)
			return MM_ENOMEM;
		s->heap = nh;
		s->hcap = nc;
	}
	s->heap[s->hn++] = key;
	mm_heap64_up(s->heap, s->hn - 1);
	return 0;
}

/* Remove slot i of a linear-probing table of cap slots (backward shift:
 * no tombstones, lookups stay as they were). */
#define DEL_SLOT(t, cap, i0)                                                                    \
	do {                                                                                    \
		size_t i_ = (i0), j_ = (i0), m_ = (cap) - 1;                                    \
		for (;;) {                                                                      \
			size_t h_;                                                              \
			j_ = (j_ + 1) & m_;                                                     \
			if (!(t)[j_].key)                                                       \
				break;                                                          \
			h_ = (size_t)(t)[j_].key & m_;                                          \
			if (i_ <= j_ ? (i_ < h_ && h_ <= j_) : (i_ < h_ || h_ <= j_))           \
				continue;                                                       \
			(t)[i_] = (t)[j_];                                                      \
			i_ = j_;                                                                \
		}                                                                               \
		memset(&(t)[i_], 0, sizeof((t)[i_]));                                           \
	} while (0)

static size_t slot_at(const struct slot *t, size_t cap, uint64_t key)
{
	size_t i = (size_t)key & (cap - 1);
	while (t[i].key != key)
		i = (i + 1) & (cap - 1);
	return i;
}

/* Drop key's entry, if any, from index x: the last entry moves into its
 * place (entries stay dense) and its pool block is freed. */
static void ent_del(struct nstate *s, int x, uint64_t key)
{
	size_t i = (size_t)key & (s->tcap[x] - 1), last;
	uint32_t idx;
	struct ent *e;
	while (s->t[x][i].key && s->t[x][i].key != key)
		i = (i + 1) & (s->tcap[x] - 1);
	if (!s->t[x][i].key)
		return;
	idx = s->t[x][i].idx;
	DEL_SLOT(s->t[x], s->tcap[x], i);
	s->tn[x]--;
	e = ENT(s, idx);
	if (e->off != NOPOOL)
		pool_give(s, e->off, item_cap(e->kind));
	last = s->count - 1;
	if (idx != last) {
		struct ent *l = ENT(s, last);
		*e = *l;
		s->t[IX(e->kind)][slot_at(s->t[IX(e->kind)], s->tcap[IX(e->kind)], e->key)].idx = idx;
	}
	s->count--;
}

static void srv_del(struct nstate *s, uint64_t key)
{
	size_t i = (size_t)key & (s->svcap - 1);
	while (s->sv[i].key && s->sv[i].key != key)
		i = (i + 1) & (s->svcap - 1);
	if (!s->sv[i].key)
		return;
	if (s->sv[i].m > SRV_INL)
		pool_give(s, s->sv[i].inl[0], SERVED_CAP);
	DEL_SLOT(s->sv, s->svcap, i);
	s->sn--;
}

/* Evict the largest kept key whole; thr falls to it. */
static void evict_top(struct nstate *s)
{
	uint64_t k = s->heap[0];
	s->heap[0] = s->heap[--s->hn];
	mm_heap64_down(s->heap, s->hn, 0);
	ent_del(s, 0, k);
	ent_del(s, 1, k);
	srv_del(s, k);
	s->thr = k;
	s->evicted++;
}

/* May one more unit (an entry or a served set) of key be added? 1 yes
 * (room was made), 0 no (counted in dropped; if key itself was the largest
 * kept key it was evicted). isnew: key holds no unit yet. Entries and
 * served sets may move: no pointer into them is valid across. */
static int admit(struct nstate *s, uint64_t key, int isnew)
{
	if (s->thr && key >= s->thr)
		goto refuse;
	while (s->max && s->count + s->sn >= s->max) {
		if (!s->heaped && heap_build(s))
			goto refuse;
		if (key >= s->heap[0]) {
			if (key == s->heap[0])
				evict_top(s);
			s->thr = key;
			goto refuse;
		}
		evict_top(s);
	}
	if (isnew && s->heaped && heap_push(s, key)) {
		s->heaped = 0; /* rebuilt when next needed */
		s->hn = 0;
	}
	return 1;
refuse:
	s->dropped++;
	return 0;
}

/* Is key tracked already (an entry in either index or a served set)? */
static int known(const struct nstate *s, uint64_t key)
{
	return srv_find(s, key) || ent_find(s, key, K_PROBE) || ent_find(s, key, K_SCAN);
}

/* Union n clients into the set of key (created if absent); 0 or MM_ENOMEM. */
static int srv_merge(struct nstate *d, uint64_t key, int64_t win, const struct eni_name *nm,
		     uint16_t port, uint8_t proto, const uint32_t *x, int n)
{
	struct srv *v;
	int i, k;
	if (n <= 0)
		return 0;
	if (!(v = srv_find(d, key))) {
		if (!admit(d, key, !known(d, key)))
			return 0;
		if ((k = name_add(d, nm->h, mm_str_c(nm->name), mm_str_c(nm->account),
				  mm_str_c(nm->region))) < 0 ||
		    !(v = srv_add(d, key, win, (uint32_t)k, port, proto)))
			return MM_ENOMEM;
	}
	for (i = 0; i < n; i++)
		srv_put(d, v, x[i]);
	return 0;
}

/* Keep the NREF earliest records by (time, file, line). */
static void ref_add(struct ent *e, const struct mm_evref *r)
{
	int i;
	for (i = 0; i < e->nref; i++)
		if (e->ref[i].time_ms == r->time_ms && e->ref[i].line == r->line &&
		    e->ref[i].file == r->file)
			return;
	mm_evref_keep(e->ref, &e->nref, NREF, r);
}

static void widen(struct ent *e, int64_t first, int64_t last)
{
	if (!e->first_ms || first < e->first_ms)
		e->first_ms = first;
	if (last > e->last_ms)
		e->last_ms = last;
}

/* ---- the hot path -------------------------------------------------------- */

/* Public unicast: not private/CGNAT/loopback/link-local (mm_ip_is_private),
 * not multicast, broadcast or 0/8. */
static int is_public(const struct mm_ip *ip, int known_not_private)
{
	if (!known_not_private && mm_ip_is_private(ip))
		return 0;
	if (!ip->v6)
		return ip->b[0] != 0 && ip->b[0] < 224;
	return ip->b[0] != 0xff;
}

/* The window of length w holding t. */
static int64_t win_of(int64_t t, int64_t w)
{
	return t - ((t % w) + w) % w;
}

static struct ent *get(struct nstate *s, struct mm_detect_ctx *c, const struct mm_flow *fl,
		       uint64_t enih, uint64_t key, int kind, int *created)
{
	struct ent *e = ent_find(s, key, kind);
	int k;
	*created = 0;
	if (e)
		return e;
	/* bounded: names too are added only with an entry */
	if (!admit(s, key, !srv_find(s, key)))
		return NULL;
	if ((k = name_add(s, enih, fl->eni, c->file && c->file->account[0] ? mm_str_c(c->file->account)
									   : fl->account,
			  fl->region.n ? fl->region
				       : mm_str_c(c->file ? c->file->region : ""))) < 0)
		return NULL;
	if (!(e = ent_add(s, key, kind, (size_t)c->params[P_MAX_ENTRIES])))
		return NULL;
	e->eni = (uint32_t)k;
	*created = 1;
	return e;
}

/* mm_evref_take without interning the file name again for every record
 * of the same file (interning locks a process-wide table). */
static void take(struct nstate *s, struct mm_evref *r, const struct mm_detect_ctx *c,
		 const struct mm_event *ev, int64_t t)
{
	const char *file = c->file && c->file->rel ? c->file->rel : ev->loc.file;
	if (!file)
		file = "";
	if (!s->fcache || strcmp(s->fcache, file))
		s->fcache = mm_intern(file, strlen(file));
	r->file = s->fcache;
	r->line = ev->loc.line;
	r->offset = ev->loc.offset;
	r->time_ms = t;
}

/* Offer a record of the activity as evidence: the NREF earliest by
 * (time, file, line) whatever the reading order, so a record of an item
 * already counted may still replace a later one. Cheap when it can't. */
static void offer(struct nstate *s, struct ent *e, const struct mm_detect_ctx *c,
		  const struct mm_event *ev, int64_t t)
{
	struct mm_evref r;
	int i;
	if (e->nref == NREF) {
		for (i = 0; i < NREF; i++)
			if (e->ref[i].time_ms >= t)
				break;
		if (i == NREF)
			return;
	}
	take(s, &r, c, ev, t);
	ref_add(e, &r);
}

static void count_item(struct nstate *s, struct ent *e, int cap, uint32_t v,
		       struct mm_detect_ctx *c, const struct mm_event *ev, int64_t t0, int64_t t1)
{
	struct mm_evref r;
	/* a repeat, or more items than the set holds: part of the activity */
	if (e->n >= cap || has_item(items(s, e), e->n, v)) {
		widen(e, t0, t1);
		offer(s, e, c, ev, t0);
		return;
	}
	if (!add_item(s, e, cap, v))
		return;
	widen(e, t0, t1);
	take(s, &r, c, ev, t0);
	ref_add(e, &r);
}

/* Probe sources: the PROBE_SRC_CAP smallest items seen (so which ones are
 * kept does not depend on arrival order; n is min(distinct, cap)). The
 * slot v would take, or -1 when it is kept already or not among them. */
static int src_slot(const struct ent *e, const uint32_t *it, uint32_t v)
{
	int i, mx = 0;
	if (has_item(it, e->n, v))
		return -1;
	if (e->n < PROBE_SRC_CAP)
		return e->n;
	for (i = 1; i < e->n; i++)
		if (it[i] > it[mx])
			mx = i;
	return v < it[mx] ? mx : -1;
}

static void src_put(struct ent *e, uint32_t *it, int pos, uint32_t v, int v6)
{
	it[pos] = v;
	e->v6mask = (uint8_t)((e->v6mask & ~(1u << pos)) | ((unsigned)(v6 != 0) << pos));
	if (pos == e->n)
		e->n++;
}

static int is_scanner(const struct mm_detect_ctx *c, const struct mm_ip *ip)
{
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	int i, nh;
	if (!c->intel)
		return 0;
	nh = mm_intel_match_ip(c->intel, ip, 0, h, MM_INTEL_MAX_HITS);
	for (i = 0; i < nh; i++)
		if (h[i].cat == MM_CAT_SCANNER)
			return 1;
	return 0;
}

static void on_probe(struct nstate *s, struct mm_detect_ctx *c, const struct mm_event *ev,
		     uint64_t enih, const struct mm_ip *remote, const struct mm_ip *local,
		     uint16_t lport)
{
	const struct mm_flow *fl = &ev->u.flow;
	const double *p = c->params;
	int64_t w = (int64_t)p[P_PROBE_WIN], win;
	/* the division once per window, not per record */
	if (s->pwin_len == w && fl->start >= s->pwin && fl->start - s->pwin < w) {
		win = s->pwin;
	} else {
		win = win_of(fl->start, w);
		s->pwin = win;
		s->pwin_len = w;
	}
	uint64_t key = ent_key(enih, K_PROBE, 0, lport, 0, win);
	int created;
	struct ent *e;
	struct mm_evref r;
	uint32_t *it, v = ip_item(remote);
	int pos;

	if (fl->packets > (uint64_t)p[P_PROBE_PKTS] ||
	    fl->bytes > fl->packets * (uint64_t)p[P_PROBE_BPP]) {
		/* a real session (more packets, or payload): a client of a
		 * port the instance serves; kept in the small served table,
		 * no probe entry */
		struct srv *sv = srv_find(s, key);
		if (!sv) {
			int k;
			uint8_t proto = fl->proto;
			if (!admit(s, key, !ent_find(s, key, K_PROBE)))
				return;
			if ((k = name_add(s, enih, fl->eni,
					  c->file && c->file->account[0] ? mm_str_c(c->file->account)
									 : fl->account,
					  fl->region.n ? fl->region
						       : mm_str_c(c->file ? c->file->region : ""))) < 0)
				return;
			if ((e = ent_find(s, key, K_PROBE)))
				proto = e->proto; /* the key's first record's */
			if (!(sv = srv_add(s, key, win, (uint32_t)k, lport, proto)))
				return;
		}
		srv_put(s, sv, v);
		return;
	}
	if (!(e = get(s, c, fl, enih, key, K_PROBE, &created)))
		return;
	if (created) {
		struct srv *sv = srv_find(s, key);
		e->win = win;
		e->port = lport;
		e->proto = sv ? sv->proto : fl->proto;
	}
	it = s->pool + e->off;
	if (has_item(it, e->n, v)) {
		widen(e, fl->start * 1000, fl->end * 1000);
		offer(s, e, c, ev, fl->start * 1000);
		return;
	}
	pos = src_slot(e, it, v);
	/* a new source: trusted never counts, nor (mass_scanner 2) a scanner */
	if (mm_intel_trusted(c->intel, remote)) {
		c->st.trusted_skips++;
		return;
	}
	if ((int)p[P_MASS] == 2 && is_scanner(c, remote))
		return;
	if (pos < 0) {
		/* a source past the kept ones: still a probe of this port */
		widen(e, fl->start * 1000, fl->end * 1000);
		offer(s, e, c, ev, fl->start * 1000);
		return;
	}
	src_put(e, it, pos, v, remote->v6);
	widen(e, fl->start * 1000, fl->end * 1000);
	take(s, &r, c, ev, fl->start * 1000);
	ref_add(e, &r);
	if (fl->end * 1000 >= e->last_ms || e->n == 1) {
		e->remote = *remote;
		e->local = *local;
	}
}

static void on_attempt(struct nstate *s, struct mm_detect_ctx *c, const struct mm_event *ev,
		       uint64_t enih, const struct mm_ip *remote, const struct mm_ip *local,
		       uint16_t rport)
{
	const struct mm_flow *fl = &ev->u.flow;
	const double *p = c->params;
	int64_t w, win;
	int created;
	struct ent *e;

	/* the ports tried on this one host */
	w = (int64_t)p[P_SCAN_WIN];
	win = win_of(fl->start, w);
	e = get(s, c, fl, enih, ent_key(enih, K_SCAN, 0, 0, ip_key(remote), win), K_SCAN, &created);
	if (e) {
		if (created) {
			e->win = win;
			e->port = fl->sport; /* the scanner's source port: detail only */
			e->remote = *remote;
			e->local = *local;
			e->proto = fl->proto;
			e->dead = mm_intel_trusted(c->intel, remote) || mm_intel_trusted(c->intel, local);
		}
		if (!e->dead)
			count_item(s, e, SCAN_CAP, rport, c, ev, fl->start * 1000, fl->end * 1000);
	}
	/* the hosts tried on this one port */
	w = (int64_t)p[P_SWEEP_WIN];
	win = win_of(fl->start, w);
	e = get(s, c, fl, enih, ent_key(enih, K_SWEEP, fl->proto, rport, 0, win), K_SWEEP,
		&created);
	if (!e)
		return;
	if (created) {
		e->win = win;
		e->port = rport;
		e->proto = fl->proto;
		e->local = *local;
		e->dead = mm_intel_trusted(c->intel, local);
	}
	if (e->dead)
		return;
	if (has_item(items(s, e), e->n, ip_item(remote))) {
		widen(e, fl->start * 1000, fl->end * 1000);
		offer(s, e, c, ev, fl->start * 1000);
		return;
	}
	if (mm_intel_trusted(c->intel, remote)) {
		c->st.trusted_skips++;
		return;
	}
	count_item(s, e, SWEEP_CAP, ip_item(remote), c, ev, fl->start * 1000, fl->end * 1000);
	if (fl->end * 1000 >= e->last_ms || e->n == 1)
		e->remote = *remote;
}

/* The ENI's hash, memoised for runs of records of one ENI. */
static uint64_t eni_hash(struct nstate *s, struct mm_str eni)
{
	if (eni.n != s->last_eni_n || memcmp(eni.p, s->last_eni, eni.n)) {
		if (eni.n > sizeof(s->last_eni))
			return mm_hash(eni.p, eni.n, 0);
		memcpy(s->last_eni, eni.p, eni.n);
		s->last_eni_n = eni.n;
		s->last_enih = mm_hash(eni.p, eni.n, 0);
	}
	return s->last_enih;
}

/* What a record is to netscan: nothing, an attempt by the instance, or
 * a probe of it. */
enum { PL_NONE, PL_ATTEMPT, PL_PROBE };
struct plan {
	int what;
	const struct mm_ip *local, *remote;
	uint16_t port;	/* attempt: the remote port; probe: the local one */
};

/* Classify ev (reads the record and the params only, no state but the
 * watermark, which on_event's order updates anyway). */
static int prep(struct nstate *s, const struct mm_detect_ctx *c, const struct mm_event *ev,
		struct plan *pl)
{
	const struct mm_flow *fl = &ev->u.flow;
	int sp, dp, sl;

	pl->what = PL_NONE;
	if (!fl->has_addrs || !fl->has_ports || (fl->proto != 6 && fl->proto != 17) ||
	    !fl->eni.n || fl->start < 0 || fl->start > MAX_T || fl->end < 0 || fl->end > MAX_T)
		return PL_NONE;
	if (fl->start > s->wm)
		s->wm = fl->start;
	sp = mm_ip_is_private(&fl->src);
	dp = mm_ip_is_private(&fl->dst);
	if (sp != dp)
		sl = sp;
	else if (fl->fdir == MM_FDIR_EGRESS)
		sl = 1;
	else if (fl->fdir == MM_FDIR_INGRESS)
		sl = 0;
	else
		return PL_NONE; /* both sides private or public and no flow-direction: can't tell */
	if (sl) {
		/* the instance sent it: an attempt if it opened the connection
		 * and little came of it */
		if (fl->action != MM_ACT_REJECT &&
		    (fl->packets > (uint64_t)c->params[P_ATTEMPT_PKTS] ||
		     fl->bytes > fl->packets * (uint64_t)c->params[P_ATTEMPT_BPP]))
			return PL_NONE;
		if (mm_flow_initiator(fl->proto, fl->sport, fl->dport, 1, 0) != MM_DIR_OUTBOUND)
			return PL_NONE;
		pl->local = &fl->src;
		pl->remote = &fl->dst;
		pl->port = fl->dport;
		return pl->what = PL_ATTEMPT;
	}
	/* the remote sent it: a probe if it got in and the remote opened it */
	if (fl->action != MM_ACT_ACCEPT)
		return PL_NONE;
	if (!is_public(&fl->src, sp != dp) ||
	    mm_flow_initiator(fl->proto, fl->dport, fl->sport, 0, 0) != MM_DIR_INBOUND)
		return PL_NONE;
	pl->local = &fl->dst;
	pl->remote = &fl->src;
	pl->port = fl->dport;
	return pl->what = PL_PROBE;
}

static void apply(struct nstate *s, struct mm_detect_ctx *c, const struct mm_event *ev,
		  const struct plan *pl, uint64_t enih)
{
	if (pl->what == PL_ATTEMPT)
		on_attempt(s, c, ev, enih, pl->remote, pl->local, pl->port);
	else if (pl->what == PL_PROBE)
		on_probe(s, c, ev, enih, pl->remote, pl->local, pl->port);
}

static void on_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	struct plan pl;
	((struct nstate *)st)->max = (size_t)c->params[P_MAX_ENTRIES];
	if (prep(st, c, ev, &pl))
		apply(st, c, ev, &pl, eni_hash(st, ev->u.flow.eni));
}

static void want_slot(const struct nstate *s, int kind, uint64_t key)
{
	if (s->tcap[IX(kind)])
		__builtin_prefetch(&s->t[IX(kind)][key & (s->tcap[IX(kind)] - 1)]);
}

static void want_ent(const struct nstate *s, int kind, uint64_t key)
{
	const struct slot *t;
	if (s->tcap[IX(kind)] && (t = &s->t[IX(kind)][key & (s->tcap[IX(kind)] - 1)])->key)
		__builtin_prefetch(ENT(s, t->idx));
}

/* A run: classify every record and ask for the table slots of the
 * entries it will touch, then for the entries, then apply, so the cache
 * misses of a run overlap. Only loads move earlier: the result is
 * on_event's, record by record. */
static void on_batch(void *st, struct mm_detect_ctx *c, const struct mm_event *evs, int n)
{
	struct nstate *s = st;
	const double *p = c->params;
	struct plan pl[MM_DETECT_BATCH];
	uint64_t h[MM_DETECT_BATCH], key[MM_DETECT_BATCH][2];
	int k;

	s->max = (size_t)p[P_MAX_ENTRIES];
	for (k = 0; k < n; k++) {
		const struct mm_flow *fl = &evs[k].u.flow;
		if (!prep(s, c, &evs[k], &pl[k]))
			continue;
		h[k] = eni_hash(s, fl->eni);
		if (pl[k].what == PL_ATTEMPT) {
			key[k][0] = ent_key(h[k], K_SCAN, 0, 0, ip_key(pl[k].remote),
					    win_of(fl->start, (int64_t)p[P_SCAN_WIN]));
			key[k][1] = ent_key(h[k], K_SWEEP, fl->proto, pl[k].port, 0,
					    win_of(fl->start, (int64_t)p[P_SWEEP_WIN]));
			want_slot(s, K_SCAN, key[k][0]);
			want_slot(s, K_SWEEP, key[k][1]);
		} else {
			key[k][0] = ent_key(h[k], K_PROBE, 0, pl[k].port, 0,
					    win_of(fl->start, (int64_t)p[P_PROBE_WIN]));
			want_slot(s, K_PROBE, key[k][0]);
			if (s->svcap)
				__builtin_prefetch(&s->sv[key[k][0] & (s->svcap - 1)]);
		}
	}
	for (k = 0; k < n; k++) {
		if (pl[k].what == PL_ATTEMPT) {
			want_ent(s, K_SCAN, key[k][0]);
			want_ent(s, K_SWEEP, key[k][1]);
		} else if (pl[k].what == PL_PROBE) {
			want_ent(s, K_PROBE, key[k][0]);
		}
	}
	for (k = 0; k < n; k++)
		if (pl[k].what)
			apply(s, c, &evs[k], &pl[k], h[k]);
}

/* ---- merge ----------------------------------------------------------------- */

/* Union src's entry (with its items at sit) into dst; names[si] is its ENI. */
static int merge_ent(struct nstate *d, const struct ent *se, const uint32_t *sit,
		     const struct eni_name *nm, size_t max)
{
	struct ent *e;
	uint32_t *it;
	int i, k;

	if (se->kind == K_PROBE) {
		/* served clients (a blob's m; entries in memory keep none) */
		if ((k = srv_merge(d, se->key, se->win, nm, se->port, se->proto,
				   sit + PROBE_SRC_CAP, se->m)))
			return k;
		if (!se->n && !se->nref && !se->done)
			return 0; /* only clients: no probe entry */
	}
	/* after the served set: admitting it may move entries */
	if (!(e = ent_find(d, se->key, se->kind))) {
		if (!admit(d, se->key, !srv_find(d, se->key)))
			return 0;
		k = name_add(d, nm->h, mm_str_c(nm->name), mm_str_c(nm->account),
			     mm_str_c(nm->region));
		if (k < 0)
			return MM_ENOMEM;
		if (!(e = ent_add(d, se->key, se->kind, max)))
			return d->count >= max ? 0 : MM_ENOMEM;
		e->eni = (uint32_t)k;
		e->win = se->win;
		e->done = se->done;
		e->dead = se->dead;
		e->proto = se->proto;
		e->port = se->port;
		e->remote = se->remote;
		e->local = se->local;
	} else {
		e->done |= se->done;
		e->dead |= se->dead;
		if (se->last_ms > e->last_ms) {
			if (se->kind != K_SCAN)
				e->remote = se->remote;
			e->local = se->local;
		}
	}
	if (se->kind == K_PROBE) {
		it = items(d, e);
		for (i = 0; i < se->n; i++) {
			int pos = src_slot(e, it, sit[i]);
			if (pos >= 0)
				src_put(e, it, pos, sit[i], se->v6mask & (1u << i));
		}
	} else {
		for (i = 0; i < se->n; i++)
			if (!add_item(d, e, (int)item_cap(se->kind), sit[i]))
				continue;
	}
	if (se->n)
		widen(e, se->first_ms, se->last_ms);
	for (i = 0; i < se->nref; i++)
		ref_add(e, &se->ref[i]);
	return 0;
}

static int merge(void *dst, void *src)
{
	struct nstate *d = dst, *s = src;
	size_t i;
	int rc;
	if (!d->max)
		d->max = s->max;
	if (!d->count && !d->sn && !d->nnames && !d->dropped && !d->evicted && !d->thr) {
		/* an empty destination (a flush's first merge) takes the
		 * source whole: the same state, without copying (and touching)
		 * every entry again */
		struct nstate t = *d;
		int64_t wm = d->wm > s->wm ? d->wm : s->wm;
		*d = *s;
		*s = t;
		d->wm = wm;
		d->fcache = NULL;
		if (!d->max)
			d->max = t.max;
		return 0;
	}
	/* keys the source refused stay refused: the union's kept keys are
	 * below both thresholds (see admit) */
	if (s->thr && (!d->thr || s->thr < d->thr))
		d->thr = s->thr;
	for (i = 0; i < s->count; i++) {
		struct ent *se = ENT(s, i);
		/* past max_entries: bottom-k of the union (admit), the
		 * refused counted in dropped */
		if ((rc = merge_ent(d, se, items(s, se), &s->names[se->eni], (size_t)-1)))
			return rc;
	}
	for (i = 0; i < s->svcap; i++) {
		struct srv *v = &s->sv[i];
		if (v->key && (rc = srv_merge(d, v->key, v->win, &s->names[v->eni], v->port, v->proto,
				    srv_items(s, v), v->m)))
			return rc;
	}
	d->dropped += s->dropped;
	d->evicted += s->evicted;
	if (s->wm > d->wm)
		d->wm = s->wm;
	return 0;
}

/* ---- finish ------------------------------------------------------------------ */

static const char *proto_word(uint8_t p)
{
	return p == 17 ? "UDP" : "TCP";
}

static int emr_instance(const struct mm_instance *inst)
{
	int i;
	for (i = 0; inst && i < inst->ntags; i++)
		if (!strncmp(inst->tags[i].key, "aws:elasticmapreduce:", 21))
			return 1;
	return 0;
}

static int emr_port(uint16_t p)
{
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(emr_ports); i++)
		if (emr_ports[i] == p)
			return 1;
	return 0;
}

static int probe_cmp(const void *a, const void *b)
{
	return memcmp(((const struct mm_port_probe *)a)->remote_ip.b,
		      ((const struct mm_port_probe *)b)->remote_ip.b, 4);
}

static void fire(struct nstate *s, struct mm_detect_ctx *c, struct ent *e)
{
	const struct eni_name *nm = &s->names[e->eni];
	const struct mm_instance *inst = NULL;
	const char *type;
	char disc[16] = "";
	struct mm_finding *f;
	int latest, i;
	uint32_t *it = items(s, e);
	struct mm_str res = mm_str_c(nm->name);

	if (c->inv && mm_inventory_count(c->inv))
		inst = mm_inventory_by_eni(c->inv, nm->name, strlen(nm->name));
	if (inst)
		res = mm_str_c(inst->instance_id);
	if (e->kind == K_PROBE) {
		type = emr_instance(inst) && emr_port(e->port) ? T_EMR : T_PROBE;
		snprintf(disc, sizeof(disc), "port:%u", e->port);
	} else {
		type = e->kind == K_SCAN ? T_SCAN : T_SWEEP;
	}
	f = mm_emit_refs(c, type, mm_str_c(nm->account), res, disc, e->ref, e->nref, e->first_ms,
			 e->last_ms, &latest);
	if (!f || !latest)
		return;
	if (inst)
		snprintf(f->instance_id, sizeof(f->instance_id), "%s", inst->instance_id);
	snprintf(f->eni, sizeof(f->eni), "%s", nm->name);
	if (nm->region[0])
		snprintf(f->region, sizeof(f->region), "%s", nm->region);
	snprintf(f->protocol, sizeof(f->protocol), "%s", proto_word(e->proto));
	snprintf(f->caller_type, sizeof(f->caller_type), "Remote IP");
	f->blocked = 0;
	f->has_remote_ip = 1;
	f->remote_ip = e->remote;
	f->has_local_ip = 1;
	f->local_ip = e->local;
	mm_finding_info_clear(f);
	if (e->kind == K_PROBE) {
		int known = 0, shown = 0;
		f->role = MM_ROLE_TARGET;
		f->direction = MM_DIR_INBOUND;
		f->local_port = e->port;
		f->remote_port = 0;
		f->nprobes = 0;
		for (i = 0; i < e->n; i++) {
			struct mm_port_probe *pp;
			struct mm_ip ip;
			if (e->v6mask & (1u << i))
				continue; /* kept as a hash: shown only as the latest */
			mm_ip_set_v4(&ip, it[i]);
			known += is_scanner(c, &ip);
			pp = &f->probes[shown++];
			memset(pp, 0, sizeof(*pp));
			pp->local_port = e->port;
			pp->has_local_ip = 1;
			pp->local_ip = e->local;
			pp->has_remote_ip = 1;
			pp->remote_ip = ip;
		}
		f->nprobes = shown;
		qsort(f->probes, (size_t)shown, sizeof(f->probes[0]), probe_cmp);
		if (!shown)
			known = is_scanner(c, &e->remote);
		if (!strcmp(type, T_PROBE)) /* GuardDuty: High for Elasticsearch */
			f->severity = e->port == 9200 || e->port == 9300 ? 8.0 : 2.0;
		if (known) {
			mm_finding_info_num(f, "knownScanners", known);
			if ((int)c->params[P_MASS] == 1 && known >= e->n)
				f->severity = 2.0;
		}
		mm_finding_info_num(f, "probeSources", e->n);
	} else {
		f->role = MM_ROLE_ACTOR;
		f->direction = MM_DIR_OUTBOUND;
		f->local_port = e->kind == K_SCAN ? e->port : 0;
		if (e->kind == K_SCAN) {
			uint32_t mx = 0;
			for (i = 0; i < e->n; i++)
				mx = it[i] > mx ? it[i] : mx;
			f->remote_port = (uint16_t)mx; /* the highest port tried */
			mm_finding_info_num(f, "distinctPorts", e->n);
		} else {
			f->remote_port = e->port;
			mm_finding_info_num(f, "distinctHosts", e->n);
		}
	}
}

static int expired_at(int kind, int64_t win, const double *p, int64_t maxt)
{
	int64_t len = (int64_t)p[kind == K_PROBE ? P_PROBE_WIN
			       : kind == K_SCAN ? P_SCAN_WIN : P_SWEEP_WIN];
	int64_t keep = (int64_t)(p[P_RETAIN] > p[P_CLOSE_AFTER] ? p[P_RETAIN] : p[P_CLOSE_AFTER]);
	/* never before it closed (and was decided) */
	return (win + len + keep) * 1000 < maxt;
}

static int expired(const struct ent *e, const double *p, const int64_t *maxt)
{
	return expired_at(e->kind, e->win, p, maxt[e->eni]);
}

static int srv_expired(const struct srv *v, const double *p, const int64_t *maxt)
{
	return expired_at(K_PROBE, v->win, p, maxt[v->eni]);
}

/* Drop windows that ended more than `retain` before their ENI's latest
 * tracked record: survivors move down (entries, then their pool slots
 * into a fresh pool) and the index is rebuilt: O(entries). When memory
 * runs out nothing is dropped. */
static void prune(struct nstate *s, const double *p)
{
	int64_t *maxt;
	uint32_t *np = NULL;
	struct srv *nsv = NULL;
	size_t i, j, npool = 0;
	int any = 0;

	if ((!s->count && !s->sn) || !(maxt = mm_calloc(s->nnames ? s->nnames : 1, sizeof(*maxt))))
		return;
	for (i = 0; i < s->count; i++) {
		const struct ent *e = ENT(s, i);
		if (e->last_ms > maxt[e->eni])
			maxt[e->eni] = e->last_ms;
	}
	for (i = 0; i < s->count && !any; i++)
		any = expired(ENT(s, i), p, maxt);
	for (i = 0; i < s->svcap && !any; i++)
		any = s->sv[i].key && srv_expired(&s->sv[i], p, maxt);
	if (!any || !(np = mm_malloc((s->pool_cap ? s->pool_cap : 1) * sizeof(*np))) ||
	    !(nsv = mm_calloc(s->svcap, sizeof(*nsv)))) {
		mm_free(np);
		goto out;
	}
	memset(s->t[0], 0, s->tcap[0] * sizeof(*s->t[0]));
	memset(s->t[1], 0, s->tcap[1] * sizeof(*s->t[1]));
	s->tn[0] = s->tn[1] = 0;
	for (i = 0, j = 0; i < s->count; i++) {
		struct ent *e = ENT(s, i), *d;
		if (expired(e, p, maxt))
			continue;
		d = ENT(s, j);
		if (d != e)
			*d = *e;
		if (d->off != NOPOOL) {
			size_t need = item_cap(d->kind);
			memcpy(np + npool, s->pool + d->off, need * sizeof(*np));
			d->off = (uint32_t)npool;
			npool += need;
		}
		slot_put(s->t[IX(d->kind)], s->tcap[IX(d->kind)], d->key, (uint32_t)j);
		s->tn[IX(d->kind)]++;
		j++;
	}
	s->count = j;
	/* served sets: survivors into a fresh table of the same size */
	for (i = 0, j = 0; i < s->svcap; i++) {
		struct srv *v = &s->sv[i], *d;
		if (!v->key || srv_expired(v, p, maxt))
			continue;
		d = srv_slot(nsv, s->svcap, v->key);
		*d = *v;
		if (d->m > SRV_INL) {
			memcpy(np + npool, s->pool + d->inl[0], SERVED_CAP * sizeof(*np));
			d->inl[0] = (uint32_t)npool;
			npool += SERVED_CAP;
		}
		j++;
	}
	mm_free(s->sv);
	s->sv = nsv;
	s->sn = j;
	mm_free(s->pool);
	s->pool = np;
	s->pool_n = npool;
	s->freel[0] = s->freel[1] = s->freel[2] = s->freel[3] = NOPOOL;
	/* chunks past the survivors go back */
	while (s->nch > 1 && ((s->nch - 1) << CH_SHIFT) >= s->count + CH_N)
		mm_free(s->ch[--s->nch]);
out:
	mm_free(maxt);
}

/* Is e's window over: has the data (any ENI) moved close_after past its
 * end? Then no more records for it are expected and the served-port test
 * sees the whole window, however the scan was cut into flushes or runs. */
static int closed(const struct nstate *s, const struct ent *e, const double *p)
{
	return s->wm >= e->win + (int64_t)p[P_PROBE_WIN] + (int64_t)p[P_CLOSE_AFTER];
}

static void finish(void *st, struct mm_detect_ctx *c)
{
	struct nstate *s = st;
	const double *p = c->params;
	size_t i;

	for (i = 0; i < s->count; i++) {
		struct ent *e = ENT(s, i);
		int hit;
		if (e->done || e->dead)
			continue;
		if (e->kind == K_PROBE) {
			const struct srv *sv = srv_find(s, e->key);
			int m = sv ? sv->m : 0;
			if (closed(s, e, p))
				hit = e->n >= (int)p[P_PROBE_MIN] && m < (int)p[P_SERVED];
			else
				/* still open: later clients could show the port
				 * is served, so only a port nobody uses yet may
				 * fire now */
				hit = e->n >= (int)p[P_PROBE_MIN] && m == 0;
		}
		else if (e->kind == K_SCAN)
			hit = e->n >= (int)p[P_SCAN_MIN];
		else
			hit = e->n >= (int)p[P_SWEEP_MIN];
		if (!hit)
			continue;
		fire(s, c, e);
		e->done = 1;
	}
	mm_debug("netscan: %zu keys (%zu probe), %zu served sets, %zu item slots, %zu ENIs, "
		 "%llu records not tracked, %llu keys evicted (max_entries)",
		 s->count, s->tn[0], s->sn, s->pool_n, s->nnames, (unsigned long long)s->dropped,
		 (unsigned long long)s->evicted);
	prune(s, p);
	/* the next batch starts a new bottom-k over what is kept plus what
	 * it brings: a key refused in this batch may be tracked from the
	 * next one on (with that batch's records only), like a window
	 * dropped by retain */
	s->max = (size_t)p[P_MAX_ENTRIES];
	s->thr = 0;
	s->heaped = 0;
	s->hn = 0;
}

/* ---- save / load ---------------------------------------------------------- */

/* Blob (version 1), little-endian, per ENI:
 *   "NS1" u8 count(of entries, <= 65535 per blob)... see put_ent. Every
 *   length is checked on load; a blob that does not parse is rejected
 *   whole (MM_EFORMAT) and the detector relearns that ENI. */
#define MAGIC "NS1"
#define BLOB_MAX ((1u << 20) - 4096) /* under the store's 1 MiB per blob */
#define REF_FILE_MAX 1024	/* an evidence file name is saved cut to this */

static int put_ent(struct mm_buf *b, const struct ent *e, const uint32_t *it)
{
	int rc = 0, i, nitems = e->kind == K_PROBE ? PROBE_SRC_CAP + e->m : e->n;
	rc = rc ? rc : mm_blob_put_u(b, e->kind, 1);
	rc = rc ? rc : mm_blob_put_u(b, e->done, 1);
	rc = rc ? rc : mm_blob_put_u(b, e->dead, 1);
	rc = rc ? rc : mm_blob_put_u(b, e->proto, 1);
	rc = rc ? rc : mm_blob_put_u(b, e->v6mask, 1);
	rc = rc ? rc : mm_blob_put_u(b, e->port, 2);
	rc = rc ? rc : mm_blob_put_u(b, e->n, 2);
	rc = rc ? rc : mm_blob_put_u(b, e->m, 2);
	rc = rc ? rc : mm_blob_put_u(b, (uint64_t)e->win, 8);
	rc = rc ? rc : mm_blob_put_u(b, (uint64_t)e->first_ms, 8);
	rc = rc ? rc : mm_blob_put_u(b, (uint64_t)e->last_ms, 8);
	rc = rc ? rc : mm_blob_put_ip(b, &e->remote);
	rc = rc ? rc : mm_blob_put_ip(b, &e->local);
	rc = rc ? rc : mm_blob_put_u(b, e->nref, 1);
	for (i = 0; !rc && i < e->nref; i++)
		rc = mm_blob_put_ref(b, &e->ref[i], REF_FILE_MAX);
	for (i = 0; !rc && i < nitems; i++)
		rc = mm_blob_put_u(b, it[i], 4);
	return rc;
}

static int save(void *st, int (*put)(void *, const char *, const void *, size_t), void *pctx)
{
	struct nstate *s = st;
	size_t i, k, *first = NULL, *order = NULL;
	int rc = 0;
	struct mm_buf b;

	size_t tot = s->count + s->svcap; /* entries, then served-table slots */

	if (!s->count && !s->sn)
		return 0;
	/* entries, then served sets (index count + i), grouped by ENI: one
	 * pass to count, one to place */
	first = mm_calloc(s->nnames + 1, sizeof(*first));
	order = mm_malloc((s->count + s->sn) * sizeof(*order));
	if (!first || !order) {
		rc = MM_ENOMEM;
		goto out;
	}
	for (i = 0; i < tot; i++)
		if (i < s->count || s->sv[i - s->count].key)
			first[(i < s->count ? ENT(s, i)->eni : s->sv[i - s->count].eni) + 1]++;
	for (k = 0; k < s->nnames; k++)
		first[k + 1] += first[k];
	{
		size_t *at = mm_malloc((s->nnames ? s->nnames : 1) * sizeof(*at));
		if (!at) {
			rc = MM_ENOMEM;
			goto out;
		}
		memcpy(at, first, s->nnames * sizeof(*at));
		for (i = 0; i < tot; i++)
			if (i < s->count || s->sv[i - s->count].key)
				order[at[i < s->count ? ENT(s, i)->eni
						      : s->sv[i - s->count].eni]++] = i;
		mm_free(at);
	}
	mm_buf_init(&b, BLOB_MAX);
	for (k = 0; k < s->nnames && !rc; k++) {
		uint32_t cnt = 0;
		const struct eni_name *nm = &s->names[k];
		if (first[k] == first[k + 1])
			continue;
		mm_buf_reset(&b);
		rc = mm_buf_add(&b, MAGIC, 3);
		rc = rc ? rc : mm_blob_put_u(&b, 0, 4); /* count, patched below */
		rc = rc ? rc : mm_blob_put_str(&b, nm->account, 1, sizeof(nm->account) - 1);
		rc = rc ? rc : mm_blob_put_str(&b, nm->region, 1, sizeof(nm->region) - 1);
		rc = rc ? rc : mm_blob_put_u(&b, (uint64_t)s->wm, 8);
		for (i = first[k]; i < first[k + 1] && !rc; i++) {
			struct ent *e, tmp;
			const struct srv *sv;
			uint32_t it[PROBE_SRC_CAP + SERVED_CAP];
			const uint32_t *ip;
			size_t at = b.len;
			if (order[i] < s->count) {
				e = ENT(s, order[i]);
				ip = items(s, e);
				sv = e->kind == K_PROBE ? srv_find(s, e->key) : NULL;
				if (e->kind == K_PROBE) {
					/* a probe entry carries its key's clients */
					tmp = *e;
					tmp.m = sv ? sv->m : 0;
					memcpy(it, ip, PROBE_SRC_CAP * sizeof(*it));
					e = &tmp;
					ip = it;
				}
			} else {
				/* a served set without a probe entry: an entry
				 * with no sources (the blob's layout) */
				sv = &s->sv[order[i] - s->count];
				if (ent_find(s, sv->key, K_PROBE))
					continue; /* written with the entry */
				memset(&tmp, 0, sizeof(tmp));
				tmp.kind = K_PROBE;
				tmp.proto = sv->proto;
				tmp.port = sv->port;
				tmp.win = sv->win;
				tmp.m = sv->m;
				memset(it, 0, PROBE_SRC_CAP * sizeof(*it));
				e = &tmp;
				ip = it;
			}
			if (sv)
				memcpy(it + PROBE_SRC_CAP, srv_items(s, (struct srv *)sv),
				       sv->m * sizeof(*it));
			if ((rc = put_ent(&b, e, ip)) == MM_ETOOBIG) {
				/* the store's blob limit: what does not fit is
				 * not kept (counted); the rest is */
				b.len = at;
				s->dropped++;
				rc = 0;
				continue;
			}
			cnt++;
		}
		if (rc || !cnt)
			continue;
		for (i = 0; i < 4; i++)
			((unsigned char *)b.p)[3 + i] = (unsigned char)(cnt >> (8 * i));
		rc = put(pctx, nm->name, b.p, b.len);
	}
	mm_buf_free(&b);
out:
	mm_free(first);
	mm_free(order);
	return rc;
}

/* Parse one entry into e and items; 0 or MM_EFORMAT. */
static int get_ent(struct mm_blob_rd *r, struct ent *e, uint32_t *items)
{
	int i, nitems;
	memset(e, 0, sizeof(*e));
	e->kind = (uint8_t)mm_blob_get_u(r, 1);
	e->done = (uint8_t)mm_blob_get_u(r, 1);
	e->dead = (uint8_t)mm_blob_get_u(r, 1);
	e->proto = (uint8_t)mm_blob_get_u(r, 1);
	e->v6mask = (uint8_t)mm_blob_get_u(r, 1);
	e->port = (uint16_t)mm_blob_get_u(r, 2);
	e->n = (uint16_t)mm_blob_get_u(r, 2);
	e->m = (uint16_t)mm_blob_get_u(r, 2);
	e->win = (int64_t)mm_blob_get_u(r, 8);
	e->first_ms = (int64_t)mm_blob_get_u(r, 8);
	e->last_ms = (int64_t)mm_blob_get_u(r, 8);
	mm_blob_get_ip(r, &e->remote);
	mm_blob_get_ip(r, &e->local);
	e->nref = (uint8_t)mm_blob_get_u(r, 1);
	if (r->bad || e->kind < K_PROBE || e->kind > K_SWEEP || e->done > 1 || e->dead > 1 ||
	    e->win < 0 || e->win > MAX_T || e->first_ms < 0 || e->first_ms > MAX_T * 1000 ||
	    e->last_ms < 0 || e->last_ms > MAX_T * 1000 ||
	    e->nref > NREF || e->n > item_cap(e->kind) ||
	    (e->kind == K_PROBE ? (e->n > PROBE_SRC_CAP || e->m > SERVED_CAP) : e->m != 0) ||
	    (e->kind != K_PROBE && e->v6mask))
		return MM_EFORMAT;
	for (i = 0; i < e->nref; i++)
		mm_blob_get_ref(r, &e->ref[i], REF_FILE_MAX);
	nitems = e->kind == K_PROBE ? PROBE_SRC_CAP + e->m : e->n;
	for (i = 0; i < nitems; i++)
		items[i] = (uint32_t)mm_blob_get_u(r, 4);
	return r->bad ? MM_EFORMAT : 0;
}

static int load(void *st, const char *entity, int version, const void *blob, size_t n)
{
	struct nstate *s = st;
	struct mm_blob_rd r;
	struct eni_name nm;
	const unsigned char *p;
	uint32_t cnt, k;
	struct ent *es = NULL;
	uint32_t *items = NULL;
	int rc = MM_EFORMAT;
	int64_t wm;

	mm_blob_rd_init(&r, blob, n);
	if (version != 1 || !entity || strlen(entity) >= sizeof(nm.name) ||
	    !(p = mm_blob_get_bytes(&r, 3)) || memcmp(p, MAGIC, 3))
		return MM_EFORMAT;
	memset(&nm, 0, sizeof(nm));
	snprintf(nm.name, sizeof(nm.name), "%s", entity);
	nm.h = mm_hash(entity, strlen(entity), 0);
	cnt = (uint32_t)mm_blob_get_u(&r, 4);
	mm_blob_get_str(&r, nm.account, sizeof(nm.account), 1);
	mm_blob_get_str(&r, nm.region, sizeof(nm.region), 1);
	wm = (int64_t)mm_blob_get_u(&r, 8);
	if (wm < 0 || wm > MAX_T)
		return MM_EFORMAT;
	/* each entry takes at least 70 bytes: a count beyond that is a lie */
	if (r.bad || cnt == 0 || cnt > (size_t)(r.end - r.p) / 70)
		return MM_EFORMAT;
	/* parse all first, so a bad blob changes nothing */
	es = mm_malloc(cnt * sizeof(*es));
	items = mm_malloc((size_t)cnt * SWEEP_CAP * sizeof(*items));
	if (!es || !items) {
		rc = MM_ENOMEM;
		goto out;
	}
	for (k = 0; k < cnt; k++) {
		if (get_ent(&r, &es[k], items + (size_t)k * SWEEP_CAP))
			goto out;
		es[k].key = ent_key(nm.h, es[k].kind, es[k].kind == K_SWEEP ? es[k].proto : 0,
				    es[k].kind == K_SCAN ? 0 : es[k].port,
				    es[k].kind == K_SCAN ? ip_key(&es[k].remote) : 0, es[k].win);
	}
	if (r.p != r.end)
		goto out;
	for (k = 0, rc = 0; k < cnt && !rc; k++)
		rc = merge_ent(s, &es[k], items + (size_t)k * SWEEP_CAP, &nm, (size_t)-1);
	if (!rc && wm > s->wm)
		s->wm = wm;
out:
	mm_free(es);
	mm_free(items);
	return rc;
}

/* ---- the definition -------------------------------------------------------- */

static const struct mm_param params[] = {
	[P_PROBE_MIN] = {"probe_min_sources", 3, 1, PROBE_SRC_CAP, "sources",
			 "distinct public, untrusted remote IPs that reach a local port with a "
			 "probe-sized flow in one window: internet scanners arrive from several "
			 "addresses a day on any exposed port, one stray packet is not a probe"},
	[P_PROBE_PKTS] = {"probe_max_packets", 3, 1, 100, "packets",
			  "a probe sends at most a SYN, an ACK and a RST/FIN (connect scan, banner "
			  "check); a client using the service sends more"},
	[P_PROBE_WIN] = {"probe_window", 86400, 600, 604800, "seconds",
			 "probes of one port are counted per day (GuardDuty reports them daily)"},
	[P_SERVED] = {"served_min_clients", 5, 1, SERVED_CAP, "clients",
		      "a port that in the same window carries real sessions (more than "
		      "probe_max_packets) from this many distinct remotes is a service in use, "
		      "and its short flows are session tails and scanners: not reported"},
	[P_MASS] = {"mass_scanner", 0, 0, 2, "mode",
		    "known mass scanners (bundled maltrail list, category scanner): 0 label the "
		    "finding (knownScanners), 1 also lower it to Low when every source is one, 2 "
		    "ignore them"},
	[P_SCAN_MIN] = {"scan_min_ports", 50, 2, SCAN_CAP, "ports",
			"distinct ports tried on one remote host in a window: nmap's fast scan tries "
			"100, its default 1000 in seconds; clients use a handful"},
	[P_SCAN_WIN] = {"scan_window", 600, 60, 86400, "seconds",
			"scanners finish a host in seconds to minutes; 10 minutes catches slow ones"},
	[P_SWEEP_MIN] = {"sweep_min_hosts", 100, 2, SWEEP_CAP, "hosts",
			 "distinct remote hosts tried on one port in a window: worms and masscan "
			 "try thousands a minute; a monitoring probe checks tens"},
	[P_SWEEP_WIN] = {"sweep_window", 600, 60, 86400, "seconds",
			 "as scan_window"},
	[P_ATTEMPT_PKTS] = {"attempt_max_packets", 3, 1, 100, "packets",
			    "an outbound attempt is a flow the instance opened that sent at most "
			    "this (SYN, retries, RST) or was rejected; a real session sends more"},
	[P_RETAIN] = {"retain", 3600, 0, 2592000, "seconds",
		      "a window is kept this long after its end, measured by the ENI's latest "
		      "tracked record, for records that arrive late (flow log files are delivered "
		      "within about 10 minutes); then dropped, which bounds state over time"},
	[P_MAX_ENTRIES] = {"max_entries", 200000, 1000, 50000000, "entries",
			   "tracked (ENI, port or host, window) keys per worker and merged: probe and "
			   "attempt entries 200-700 bytes each (40-140 MB at the default), a port's "
			   "served clients 60-120 bytes: beyond, the keys with the smallest hashes are "
			   "kept, whatever the order or thread split"},
	[P_ATTEMPT_BPP] = {"attempt_max_bytes_per_packet", 100, 40, 9001, "bytes",
			   "an attempt carries no payload: a SYN, its retries and a RST are 40-80 "
			   "bytes with headers; packets averaging more carried data (a short real "
			   "exchange, a session's tail), which is no attempt"},
	[P_PROBE_BPP] = {"probe_max_bytes_per_packet", 100, 40, 9001, "bytes",
			 "a probe's packets carry no payload (SYN, ACK, RST: 40-80 bytes with "
			 "headers); a short flow averaging more is a client's request and answer"},
	[P_CLOSE_AFTER] = {"close_after", 900, 0, 86400, "seconds",
			   "a probe window is decided in full once the data has moved this far past "
			   "its end (flow log records arrive up to about 10 minutes late); before that "
			   "only a port with no real client yet may fire"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static const char *const types[] = {T_PROBE, T_EMR, T_SCAN, T_SWEEP, NULL};

const struct mm_detector_def mm_det_netscan = {
	.name = "netscan",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.state_version = 1,
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
