/* brute.c - SSH, RDP and WinRM brute force from VPC Flow Logs
 * (UnauthorizedAccess:EC2/SSHBruteForce, UnauthorizedAccess:EC2/RDPBruteForce,
 * Impact:EC2/WinRMBruteForce); docs/finding-types.md has the logic and the
 * reasons in prose.
 *
 * What an attempt looks like. hydra, ncrack and medusa open one TCP
 * connection per login try (or per few tries: sshd's MaxAuthTries is 6),
 * each from a new source port, and each is short: handshake, key
 * exchange or TLS/CredSSP, a few credentials, close. Flow logs keep one
 * record per 5-tuple and direction per aggregation interval, so an attack
 * is a stream of client->server records to port 22/3389/5985/5986 with
 * distinct source ports, few packets and a few KB each. A blocked attempt
 * (security group or NACL REJECT) is the same record with 1-3 SYNs. An
 * interactive session is one 5-tuple: one record per interval (at most
 * 10 in 10 minutes even with 1-minute aggregation), and a busy one is
 * larger than an attempt. So an attempt is a client->server record on a
 * brute-forced port whose packets and bytes are under max_packets and
 * max_bytes; only the client's direction is counted, so a connection is
 * one attempt, not two.
 *
 * Role. The client is the side whose destination port is the service
 * port. A public remote client attacking the instance: TARGET (Low 2);
 * the instance attacking a public remote server: ACTOR (High 8). Private
 * remotes (in-VPC administration, bastions) and trusted addresses never
 * count.
 *
 * State. One pair per (ENI, remote address, service port, direction):
 * attempts counted per event-time minute (a short sorted bucket list).
 * Most pairs are a random public remote's one try: such a pair stays a
 * small inline table entry (~140 bytes: its minute, its record, its
 * interface name; the other strings interned) until a second minute or
 * record makes it a full pair - the same pair, so nothing else changes.
 * At each finish a bucket is "in an attack" when some window of `window`
 * seconds (whole minutes) holding it has >= min_attempts attempts; that
 * is monotone in the counts (more records can only add attacks), so a
 * bucket once found in one stays marked. The finding counts attempts in
 * attacks: each finish reports what it has not reported yet (count -
 * reported per bucket), so findings add up to the same thing whether the
 * records came in one batch, many batches or two scans. Merge adds counts
 * bucket by bucket (exact). Bounds, all documented in
 * docs/finding-types.md: at most MAX_BUCKETS minutes per pair (the
 * oldest is retired first, its attack decided on what is present), at
 * most max_pairs pairs per state (past it the pairs with the smallest key
 * hashes are kept, in any order or split: see admit),
 * and at finish a pair's minutes older than its newest minus (window +
 * late_minutes) are dropped, and pairs whose newest is that far behind
 * the newest record of all - records later than that are not counted. */
#include <stdio.h>
#include <string.h>

#include "core/hash.h"
#include "core/heap64.h"
#include "core/log.h"
#include "core/mem.h"
#include "detect/blob.h"
#include "detect/detect.h"

enum { P_MIN_ATTEMPTS, P_WINDOW, P_MAX_PACKETS, P_MAX_BYTES, P_LATE, P_MAX_PAIRS };

static const struct mm_param params[] = {
	{"min_attempts", 20, 2, 100000, "flows",
	 "connection attempts from one remote to one instance port in the window: an admin opens a "
	 "few sessions, hydra/ncrack/medusa open tens to hundreds a minute (one per login try or "
	 "per MaxAuthTries=6 tries)"},
	{"window", 600, 60, 3600, "seconds",
	 "event-time window the attempts must fall in (whole minutes): 10 minutes catches slow, "
	 "throttled attacks (a few tries a minute) while a person's retries stay under 20"},
	{"max_packets", 100, 1, 1000000, "packets",
	 "a client->server record with more packets is a session, not an attempt: a failed SSH/RDP/"
	 "WinRM login is 10-40 packets from the client, a blocked one 1-3 SYNs"},
	{"max_bytes", 20000, 40, 1e12, "bytes",
	 "a client->server record with more bytes is a session, not an attempt: a failed login "
	 "sends 2-6 KB (key exchange or TLS/CredSSP plus credentials), typing and file copies more"},
	{"late_minutes", 1440, 0, 10080, "minutes",
	 "how far out of event-time order a pair's records may arrive (files read in any order, "
	 "scans split by day) and still meet their attack; a pair quiet that long behind the "
	 "newest record is forgotten: bounds the state kept between batches and scans"},
	{"max_pairs", 100000, 100, 10000000, "pairs",
	 "(interface, remote, port, direction) pairs tracked at once; bounds memory (~150 bytes "
	 "for a pair with one minute of attempts, up to ~2.5 KB for a full one) under a flood of "
	 "spoofed sources; beyond it the pairs with the smallest key hashes are kept, whatever "
	 "the order or thread split"},
	{NULL, 0, 0, 0, NULL, NULL},
};

#define MAX_BUCKETS 128	/* minutes kept per pair: 2 KB at most */
#define MAX_REFS 4	/* earliest attempts kept per pair as evidence */
#define NSHARDS 32	/* stored rows: every save rewrites all of them */

enum { T_SSH, T_RDP, T_WINRM };

static const char *const type_names[] = {
	"UnauthorizedAccess:EC2/SSHBruteForce",
	"UnauthorizedAccess:EC2/RDPBruteForce",
	"Impact:EC2/WinRMBruteForce",
	NULL,
};

/* One event-time minute of one pair. qual: known to be in an attack. */
struct bucket {
	int32_t minute;		/* since the epoch */
	uint32_t count;		/* attempts */
	uint32_t reported;	/* of them, already in a finding */
	uint8_t fsec, lsec;	/* first and last attempt's second in the minute */
	uint8_t qual;
};

struct pair {
	uint64_t h;		/* hash of the key (never 0 for a used pair) */
	uint64_t eni_h;
	struct mm_ip remote, local;
	uint16_t port;		/* the service port (22, 3389, 5985, 5986) */
	uint16_t last_cport;	/* the client's source port, latest attempt */
	uint8_t dir;		/* MM_DIR_INBOUND (TARGET) or MM_DIR_OUTBOUND (ACTOR) */
	uint8_t last_reject;	/* latest attempt was REJECTed */
	uint8_t nref, has_latest;
	uint16_t nb, cap;
	struct bucket *b;	/* sorted by minute, no duplicates */
	uint32_t pend;		/* attempts in attacks of retired buckets, unreported */
	int64_t pend_first, pend_last;
	struct mm_evref ref[MAX_REFS];	/* earliest attempts (this process only) */
	uint8_t ref_sent[MAX_REFS];
	struct mm_evref latest;
	char eni[32], inst[24], acct[16], region[24];
};

/* The strings of a small pair's record but its interface, interned:
 * a file's records share them. */
struct ctx {
	char inst[24], acct[16], region[24];
};

/* A pair as the table holds it: its key, and while it is small its one
 * minute of attempts and at most one evidence record inline (~100 bytes:
 * most pairs are a random public remote's single try that never comes
 * back); a pair with more (a second minute, a second record, anything
 * reported or retired) is promoted to a full struct pair. */
struct ent {
	uint64_t h;		/* hash of the key */
	uint64_t eni_h;
	struct pair *full;	/* NULL while small */
	/* small: the evidence record (rfile NULL: none, loaded from the
	 * store), its minute's attempts and the strings */
	const char *rfile;
	uint64_t rline, roff;
	int32_t minute;
	uint32_t count;
	uint32_t ctx;		/* index into the state's ctx; CTX_NONE: no strings */
	uint16_t port;
	uint16_t cport;
	struct mm_ip remote, local;
	uint8_t dir, reject, fsec, lsec;
	char eni[32];
};

#define CTX_NONE UINT32_MAX

/* idx: index + 1 into the state's p, 0 = empty; tag: the upper half of
 * the entry's hash, so a probe past other keys does not read their
 * entries (one cache miss per record, not three). */
struct slot {
	uint32_t idx, tag;
};

struct state {
	struct ent *p;		/* in insertion order */
	size_t n, cap;
	struct slot *slot;	/* open addressing over p */
	size_t nslots;
	struct ctx *cx;		/* interned strings */
	size_t ncx, capcx;
	struct slot *cxslot;	/* open addressing over cx */
	size_t ncxslots;
	uint32_t lastcx;	/* the last one interned (+ 1), tried first */
	int64_t max_minute;	/* newest attempt seen (event time) */
	/* window (minutes) and min_attempts of the run, learnt from the
	 * hooks that get params (merge and load do not); 0 = not known yet:
	 * then a full pair's retired minute is not judged (never a false
	 * attack) */
	int w;
	uint64_t min;
	uint64_t dropped;	/* attempts not counted (bounds) */
	uint64_t warned;	/* dropped when finish last said so */
	const char *file;	/* interned path of the last attempt's file */
	/* max_pairs as bottom-k by key hash (see admit): max (0 until the
	 * params are seen), thr (keys >= thr refused this batch; 0: none),
	 * a max-heap of the kept hashes built when the table first fills */
	size_t max;
	uint64_t thr;
	uint64_t *heap;
	size_t hn, hcap;
	int heaped;
};

/* ---- the table ------------------------------------------------------------ */

static uint64_t key_hash(uint64_t eni_h, const struct mm_ip *r, uint16_t port, uint8_t dir)
{
	uint64_t a, b;
	memcpy(&a, r->b, 8);
	memcpy(&b, r->b + 8, 8);
	return mm_hash_mix(eni_h ^ mm_hash_mix(a ^ (b * 0x9e3779b97f4a7c15ULL)) ^
			   ((uint64_t)port << 8 | dir << 1 | r->v6)) | 1;
}

/* The slot a hash starts probing at: its upper half (the low bit is
 * always set). */
#define HOME(h, nslots) ((size_t)((h) >> 32) & ((nslots) - 1))

static int key_eq(const struct ent *p, uint64_t h, uint64_t eni_h, const struct mm_ip *r,
		  uint16_t port, uint8_t dir)
{
	return p->h == h && p->eni_h == eni_h && p->port == port && p->dir == dir &&
	       p->remote.v6 == r->v6 && memcmp(p->remote.b, r->b, 16) == 0;
}

static int rehash(struct state *s, size_t nslots)
{
	struct slot *ns = mm_calloc(nslots, sizeof(*ns));
	size_t i;
	if (!ns)
		return -1;
	for (i = 0; i < s->n; i++) {
		size_t j = HOME(s->p[i].h, nslots);
		while (ns[j].idx)
			j = (j + 1) & (nslots - 1);
		ns[j].idx = (uint32_t)(i + 1);
		ns[j].tag = (uint32_t)(s->p[i].h >> 32);
	}
	mm_free(s->slot);
	s->slot = ns;
	s->nslots = nslots;
	return 0;
}

static void pair_free(struct pair *p);

/* ---- the bound: bottom-k by key hash ---------------------------------------
 *
 * When max pairs are held, which pairs stay must not depend on the order
 * records arrive in nor on how files were spread over workers: the kept
 * pairs are those with the smallest key hashes. A new pair is admitted
 * only if its hash is below the largest kept one, which is then evicted
 * (its unreported attempts counted in dropped) and thr falls to it; pairs
 * at or above thr are refused for the rest of the batch. thr only falls,
 * so a pair that ends up kept was never refused nor evicted and counts
 * exactly; the kept set is the max smallest hashes of all pairs seen, for
 * any order or split (merge applies the same rule to the union, from the
 * lower thr). finish starts the next batch afresh (thr reset). */

static int heap_push(struct state *s, uint64_t h)
{
	size_t i;
	if (s->hn == s->hcap) {
		size_t nc = s->hcap ? s->hcap * 2 : 1024;
		uint64_t *nh = mm_realloc(s->heap, nc * sizeof(*nh));
		if (!nh)
			return -1;
		s->heap = nh;
		s->hcap = nc;
	}
	i = s->hn++;
	s->heap[i] = h;
	mm_heap64_up(s->heap, i);
	return 0;
}

static int heap_build(struct state *s)
{
	size_t i;
	if (s->n > s->hcap) {
		uint64_t *nh = mm_realloc(s->heap, s->n * sizeof(*nh));
		if (!nh)
			return -1;
		s->heap = nh;
		s->hcap = s->n;
	}
	for (i = 0; i < s->n; i++)
		s->heap[i] = s->p[i].h;
	s->hn = s->n;
	for (i = s->hn / 2; i-- > 0;)
		mm_heap64_down(s->heap, s->hn, i);
	s->heaped = 1;
	return 0;
}

/* The slot holding entry idx (whose hash is h). */
static size_t slot_of(const struct state *s, uint64_t h, size_t idx)
{
	size_t j = HOME(h, s->nslots);
	while (s->slot[j].idx != idx + 1)
		j = (j + 1) & (s->nslots - 1);
	return j;
}

/* Attempts a pair holds that no finding has reported. */
static uint64_t unreported(const struct ent *e)
{
	const struct pair *p = e->full;
	uint64_t n = 0;
	int i;
	if (!p)
		return e->count;
	for (i = 0; i < p->nb; i++)
		n += p->b[i].count - p->b[i].reported;
	return n + p->pend;
}

/* Evict the pair with the largest hash: its slot goes (backward shift),
 * the last entry moves into its place. */
static void evict_top(struct state *s)
{
	uint64_t h = s->heap[0];
	size_t j = HOME(h, s->nslots), i, k, last = s->n - 1;
	uint32_t idx;
	while (!(s->slot[j].tag == (uint32_t)(h >> 32) && s->p[s->slot[j].idx - 1].h == h))
		j = (j + 1) & (s->nslots - 1);
	idx = s->slot[j].idx - 1;
	s->heap[0] = s->heap[--s->hn];
	mm_heap64_down(s->heap, s->hn, 0);
	s->dropped += unreported(&s->p[idx]);
	pair_free(s->p[idx].full);
	/* backward-shift delete of slot j */
	for (i = j, k = j;;) {
		size_t home;
		k = (k + 1) & (s->nslots - 1);
		if (!s->slot[k].idx)
			break;
		home = ((size_t)s->slot[k].tag) & (s->nslots - 1); /* HOME: the tag is h >> 32 */
		if (i <= k ? (i < home && home <= k) : (i < home || home <= k))
			continue;
		s->slot[i] = s->slot[k];
		i = k;
	}
	s->slot[i].idx = 0;
	s->slot[i].tag = 0;
	if (idx != last) {
		s->slot[slot_of(s, s->p[last].h, last)].idx = idx + 1;
		s->p[idx] = s->p[last];
	}
	s->n--;
	s->thr = h;
}

/* May a new pair of hash h be added (room made by evicting a larger one)?
 * 1 yes, 0 no (the caller counts what it does not keep). */
static int admit(struct state *s, uint64_t h, size_t max)
{
	if (s->thr && h >= s->thr)
		return 0;
	if (s->n >= max) {
		if (!s->heaped && heap_build(s))
			return 0;
		if (!s->hn || h >= s->heap[0]) {
			s->thr = h;
			return 0;
		}
		evict_top(s);
	}
	if (s->heaped && heap_push(s, h)) {
		s->heaped = 0; /* rebuilt when next needed */
		s->hn = 0;
	}
	return 1;
}

/* The entry for the key, created (small, empty: count 0, key set) when
 * absent and admitted under max pairs (admit); NULL otherwise. */
static struct ent *pair_get(struct state *s, uint64_t eni_h, const struct mm_ip *r, uint16_t port,
			    uint8_t dir, size_t max, int *created)
{
	uint64_t h = key_hash(eni_h, r, port, dir);
	struct ent *p;
	size_t j;

	*created = 0;
	if (s->nslots) {
		for (j = HOME(h, s->nslots); s->slot[j].idx; j = (j + 1) & (s->nslots - 1)) {
			if (s->slot[j].tag != (uint32_t)(h >> 32))
				continue;
			p = &s->p[s->slot[j].idx - 1];
			if (key_eq(p, h, eni_h, r, port, dir))
				return p;
		}
	}
	if (s->n >= UINT32_MAX - 1)
		return NULL;
	/* room first (an eviction in admit makes its own), so an admitted
	 * hash is always in the table */
	if (s->n < max && s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct ent *np = mm_realloc(s->p, nc * sizeof(*np));
		if (!np)
			return NULL;
		s->p = np;
		s->cap = nc;
	}
	/* grown at 3/4 full: tags keep a probe cheap, and the table stays
	 * small (its pages are first touched at random) */
	if (s->n < max && (s->n + 1) * 4 > s->nslots * 3 &&
	    rehash(s, s->nslots ? s->nslots * 2 : 128))
		return NULL;
	if (!admit(s, h, max))
		return NULL;
	p = &s->p[s->n];
	memset(p, 0, sizeof(*p));
	p->h = h;
	p->eni_h = eni_h;
	p->remote = *r;
	p->port = port;
	p->dir = dir;
	p->ctx = CTX_NONE;
	for (j = HOME(h, s->nslots); s->slot[j].idx; j = (j + 1) & (s->nslots - 1))
		;
	s->slot[j].idx = (uint32_t)(s->n + 1);
	s->slot[j].tag = (uint32_t)(h >> 32);
	s->n++;
	*created = 1;
	return p;
}

/* Is field f (cap bytes) what copy_str makes of v? */
static int field_eq(const char *f, size_t cap, struct mm_str v)
{
	size_t n = v.n < cap - 1 ? v.n : cap - 1;
	return f[n] == '\0' && (!n || memcmp(f, v.p, n) == 0);
}

static uint64_t ctx_hash(struct mm_str inst, struct mm_str acct, struct mm_str region)
{
	const struct mm_str v[3] = {inst, acct, region};
	const size_t cap[3] = {24, 16, 24};
	uint64_t h = 0x637478ULL;
	int i;
	for (i = 0; i < 3; i++)
		h = mm_hash(v[i].p, v[i].n < cap[i] - 1 ? v[i].n : cap[i] - 1, h);
	return h;
}

static int ctx_eq(const struct ctx *x, struct mm_str inst, struct mm_str acct,
		  struct mm_str region)
{
	return field_eq(x->inst, sizeof(x->inst), inst) && field_eq(x->acct, sizeof(x->acct), acct) &&
	       field_eq(x->region, sizeof(x->region), region);
}

/* The index of the strings (each cut to its field as copy_str would),
 * added when new; CTX_NONE when out of memory. */
static uint32_t ctx_intern(struct state *s, struct mm_str inst, struct mm_str acct,
			   struct mm_str region)
{
	struct ctx *k;
	uint64_t h;
	size_t j;

	if (s->lastcx && ctx_eq(&s->cx[s->lastcx - 1], inst, acct, region))
		return s->lastcx - 1;
	h = ctx_hash(inst, acct, region);
	if (s->ncxslots)
		for (j = HOME(h, s->ncxslots); s->cxslot[j].idx; j = (j + 1) & (s->ncxslots - 1))
			if (s->cxslot[j].tag == (uint32_t)(h >> 32) &&
			    ctx_eq(&s->cx[s->cxslot[j].idx - 1], inst, acct, region)) {
				s->lastcx = s->cxslot[j].idx;
				return s->cxslot[j].idx - 1;
			}
	if (s->ncx >= UINT32_MAX - 1)
		return CTX_NONE;
	if (s->ncx == s->capcx) {
		size_t nc = s->capcx ? s->capcx * 2 : 16;
		struct ctx *np = mm_realloc(s->cx, nc * sizeof(*np));
		if (!np)
			return CTX_NONE;
		s->cx = np;
		s->capcx = nc;
	}
	if ((s->ncx + 1) * 2 > s->ncxslots) {
		size_t ns = s->ncxslots ? s->ncxslots * 2 : 32, i;
		struct slot *nsl = mm_calloc(ns, sizeof(*nsl));
		if (!nsl)
			return CTX_NONE;
		for (i = 0; i < s->ncxslots; i++) {
			if (!s->cxslot[i].idx)
				continue;
			j = s->cxslot[i].tag & (ns - 1); /* HOME: the tag is h >> 32 */
			while (nsl[j].idx)
				j = (j + 1) & (ns - 1);
			nsl[j] = s->cxslot[i];
		}
		mm_free(s->cxslot);
		s->cxslot = nsl;
		s->ncxslots = ns;
	}
	for (j = HOME(h, s->ncxslots); s->cxslot[j].idx; j = (j + 1) & (s->ncxslots - 1))
		;
	k = &s->cx[s->ncx];
	memset(k, 0, sizeof(*k));
	mm_str_copy(k->inst, sizeof(k->inst), inst);
	mm_str_copy(k->acct, sizeof(k->acct), acct);
	mm_str_copy(k->region, sizeof(k->region), region);
	s->cxslot[j].idx = (uint32_t)(s->ncx + 1);
	s->cxslot[j].tag = (uint32_t)(h >> 32);
	s->lastcx = s->cxslot[j].idx;
	return (uint32_t)s->ncx++;
}

static void *state_new(void)
{
	return mm_calloc(1, sizeof(struct state));
}

static void pair_free(struct pair *p)
{
	if (p) {
		mm_free(p->b);
		mm_free(p);
	}
}

static void state_free(void *st)
{
	struct state *s = st;
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		pair_free(s->p[i].full);
	mm_free(s->p);
	mm_free(s->slot);
	mm_free(s->cx);
	mm_free(s->cxslot);
	mm_free(s->heap);
	mm_free(s);
}

/* ---- attacks over a pair's buckets ---------------------------------------- */

static int64_t bucket_first_ms(const struct bucket *b)
{
	return ((int64_t)b->minute * 60 + b->fsec) * 1000;
}

static int64_t bucket_last_ms(const struct bucket *b)
{
	return ((int64_t)b->minute * 60 + b->lsec) * 1000;
}

/* Mark every bucket that some window of w minutes with >= min attempts
 * holds. A window can start at a bucket WLOG (slide it right to its first
 * bucket), so one two-pointer pass does it. */
static void mark_attacks(struct pair *p, int w, uint64_t min)
{
	uint64_t sum = 0;
	size_t j, k = 0, cover = 0;
	for (j = 0; j < p->nb; j++) {
		while (k < p->nb && (int64_t)p->b[k].minute <= (int64_t)p->b[j].minute + w - 1)
			sum += p->b[k++].count;
		if (sum >= min && k > cover)
			cover = k;
		if (j < cover)
			p->b[j].qual = 1;
		sum -= p->b[j].count;
	}
}

/* Take what the oldest bucket adds to an attack into pend, then drop it
 * (the pair is full). */
static void retire_oldest(struct pair *p, int w, uint64_t min)
{
	struct bucket *b = &p->b[0];
	if (w > 0)
		mark_attacks(p, w, min);
	if (b->qual && b->count > b->reported) {
		if (!p->pend || bucket_first_ms(b) < p->pend_first)
			p->pend_first = bucket_first_ms(b);
		if (!p->pend || bucket_last_ms(b) > p->pend_last)
			p->pend_last = bucket_last_ms(b);
		p->pend += b->count - b->reported;
	}
	memmove(p->b, p->b + 1, (size_t)(p->nb - 1) * sizeof(*p->b));
	p->nb--;
}

/* Add n attempts (seconds fsec..lsec, reported r, qual q) at minute m.
 * 0, or -1 when they cannot be kept (older than a full pair's oldest
 * minute, or out of memory). */
static int add_bucket(struct pair *p, int32_t m, uint32_t n, uint32_t r, uint8_t fsec,
		      uint8_t lsec, uint8_t q, int w, uint64_t min)
{
	size_t i;
	struct bucket *b;

	/* records mostly come in time order: the newest bucket first */
	if (p->nb && p->b[p->nb - 1].minute <= m)
		i = p->nb - 1;
	else
		for (i = 0; i < p->nb && p->b[i].minute < m; i++)
			;
	if (i < p->nb && p->b[i].minute == m) {
		b = &p->b[i];
		b->count = b->count + n < b->count ? UINT32_MAX : b->count + n;
		b->reported = b->reported + r > b->count ? b->count : b->reported + r;
		if (fsec < b->fsec)
			b->fsec = fsec;
		if (lsec > b->lsec)
			b->lsec = lsec;
		b->qual |= q;
		return 0;
	}
	if (i < p->nb && p->b[i].minute < m)
		i++;
	if (p->nb == p->cap) {
		if (p->cap < MAX_BUCKETS) {
			uint16_t nc = p->cap ? (uint16_t)(p->cap * 2) : 4;
			struct bucket *nb = mm_realloc(p->b, nc * sizeof(*nb));
			if (!nb)
				return -1;
			p->b = nb;
			p->cap = nc;
		} else {
			if (i == 0)
				return -1; /* older than everything a full pair keeps */
			retire_oldest(p, w, min);
			i--;
		}
	}
	memmove(p->b + i + 1, p->b + i, (size_t)(p->nb - i) * sizeof(*p->b));
	b = &p->b[i];
	b->minute = m;
	b->count = n;
	b->reported = r > n ? n : r;
	b->fsec = fsec;
	b->lsec = lsec;
	b->qual = q;
	p->nb++;
	return 0;
}

/* Keep ref among the pair's MAX_REFS earliest (by time, file, line). */
static void add_ref(struct pair *p, const struct mm_evref *r, uint8_t sent)
{
	int i = p->nref;
	if (i == MAX_REFS) {
		if (!mm_evref_before(r, &p->ref[MAX_REFS - 1]))
			return;
		i--;
	} else {
		p->nref++;
	}
	while (i > 0 && mm_evref_before(r, &p->ref[i - 1])) {
		p->ref[i] = p->ref[i - 1];
		p->ref_sent[i] = p->ref_sent[i - 1];
		i--;
	}
	p->ref[i] = *r;
	p->ref_sent[i] = sent;
}

static int pair_merge(struct pair *p, const struct pair *q, int w, uint64_t min, uint64_t *dropped);

/* A small entry as the full pair it stands for (its bucket in *tb;
 * nothing allocated). */
static void small_view(const struct state *s, const struct ent *e, struct pair *v,
		       struct bucket *tb)
{
	memset(v, 0, sizeof(*v));
	memset(tb, 0, sizeof(*tb));
	v->h = e->h;
	v->eni_h = e->eni_h;
	v->remote = e->remote;
	v->local = e->local;
	v->port = e->port;
	v->last_cport = e->cport;
	v->dir = e->dir;
	v->last_reject = e->reject;
	v->b = tb;
	if (e->count) {
		tb->minute = e->minute;
		tb->count = e->count;
		tb->fsec = e->fsec;
		tb->lsec = e->lsec;
		v->nb = 1;
		v->cap = 1;
	}
	if (e->rfile) {
		v->ref[0].file = e->rfile;
		v->ref[0].line = e->rline;
		v->ref[0].offset = e->roff;
		v->ref[0].time_ms = ((int64_t)e->minute * 60 + e->fsec) * 1000;
		v->nref = 1;
		v->latest = v->ref[0];
		v->has_latest = 1;
	}
	memcpy(v->eni, e->eni, sizeof(v->eni));
	if (e->ctx != CTX_NONE) {
		const struct ctx *x = &s->cx[e->ctx];
		memcpy(v->inst, x->inst, sizeof(v->inst));
		memcpy(v->acct, x->acct, sizeof(v->acct));
		memcpy(v->region, x->region, sizeof(v->region));
	}
}

/* The entry's full pair, made from its small form when it has none yet
 * (the same pair the small one stands for); NULL when out of memory. */
static struct pair *promote(struct state *s, struct ent *e)
{
	struct pair v, *p;
	struct bucket tb;
	uint64_t dropped = 0;

	if (e->full)
		return e->full;
	if (!(p = mm_malloc(sizeof(*p))))
		return NULL;
	memset(p, 0, sizeof(*p));
	small_view(s, e, &v, &tb);
	p->h = e->h;
	p->eni_h = e->eni_h;
	p->remote = e->remote;
	p->local = e->local;
	p->port = e->port;
	p->dir = e->dir;
	p->last_cport = e->cport;
	p->last_reject = e->reject;
	pair_merge(p, &v, s->w, s->min, &dropped);
	if (dropped) {
		pair_free(p);
		return NULL;
	}
	e->full = p;
	return p;
}

/* ---- per record ----------------------------------------------------------- */

static int service_type(uint16_t port)
{
	switch (port) {
	case 22: return T_SSH;
	case 3389: return T_RDP;
	case 5985:
	case 5986: return T_WINRM;
	default: return -1;
	}
}

/* Could the address be a host on the internet? (the contract's "public") */
static int is_public(const struct mm_ip *ip)
{
	static const uint8_t zero[16];
	if (mm_ip_is_private(ip))
		return 0;
	if (!ip->v6)
		return ip->b[0] != 0 && ip->b[0] < 224; /* not 0/8, multicast, reserved */
	return ip->b[0] != 0xff && memcmp(ip->b, zero, 16) != 0;
}

/* The pair's owner: its interface, else (a log without interface-id) its
 * instance. */
static uint64_t owner_hash(const char *p, size_t n)
{
	return mm_hash(p, n, 0x6272757465ULL);
}

static void copy_str(char *dst, size_t cap, struct mm_str s)
{
	if (!dst[0] && s.n)
		mm_str_copy(dst, cap, s);
}

static void slow_path(struct state *s, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_flow *fl = &ev->u.flow;
	const double *pm = c->params;
	int sp, dp, src_local, created;
	const struct mm_ip *remote;
	struct ent *e;
	struct pair *p;
	struct mm_evref r;
	struct mm_str acct, region;
	uint64_t eni_h;
	int64_t t;
	int32_t m;
	uint8_t dir, sec;
	int w = (int)((pm[P_WINDOW] + 59) / 60);

	s->w = w;
	s->min = (uint64_t)pm[P_MIN_ATTEMPTS];
	s->max = (size_t)pm[P_MAX_PAIRS];
	if (!fl->has_addrs || fl->sport < 1024 || service_type(fl->sport) >= 0 || fl->start <= 0 ||
	    fl->start / 60 > INT32_MAX || (!fl->eni.n && !fl->instance_id.n))
		return; /* a client uses an unprivileged, non-service source port */
	if (fl->packets > pm[P_MAX_PACKETS] || fl->bytes > pm[P_MAX_BYTES])
		return; /* a session, not an attempt */
	/* which side is the instance: the private one; the logged direction
	 * when both are public (IPv6) */
	sp = is_public(&fl->src);
	dp = is_public(&fl->dst);
	if (sp == dp) {
		if (!sp || fl->fdir == MM_FDIR_UNKNOWN)
			return; /* both private (never brute force by this rule), or unknown */
		src_local = fl->fdir == MM_FDIR_EGRESS;
	} else {
		src_local = dp;
	}
	remote = src_local ? &fl->dst : &fl->src;
	if (!is_public(remote))
		return;
	if (c->intel && mm_intel_trusted(c->intel, remote)) {
		c->st.trusted_skips++;
		return;
	}
	dir = src_local ? MM_DIR_OUTBOUND : MM_DIR_INBOUND;
	t = fl->start;
	m = (int32_t)(t / 60);
	sec = (uint8_t)(t % 60);
	eni_h = fl->eni.n ? owner_hash(fl->eni.p, fl->eni.n) : owner_hash(fl->instance_id.p,
									     fl->instance_id.n);
	e = pair_get(s, eni_h, remote, fl->dport, dir, (size_t)pm[P_MAX_PAIRS], &created);
	if (!e) {
		s->dropped++;
		return;
	}
	{
		/* an attack's records share a file: intern its path once, not
		 * under the pool's lock per attempt */
		const char *path = c->file && c->file->rel ? c->file->rel : ev->loc.file;
		if (s->file && path && strcmp(s->file, path) == 0) {
			r.file = s->file;
			r.line = ev->loc.line;
			r.offset = ev->loc.offset;
			r.time_ms = t * 1000;
		} else {
			mm_evref_take(&r, c, ev, t * 1000);
			s->file = r.file;
		}
	}
	acct = c->file && c->file->account[0] ? mm_str_c(c->file->account) : fl->account;
	region = fl->region.n ? fl->region : c->file ? mm_str_c(c->file->region) : fl->region;
	if (created) {
		/* the common case: a remote's first try, kept small */
		e->local = src_local ? fl->src : fl->dst;
		e->cport = fl->sport;
		e->reject = fl->action == MM_ACT_REJECT;
		e->minute = m;
		e->count = 1;
		e->fsec = e->lsec = sec;
		e->rfile = r.file;
		e->rline = r.line;
		e->roff = r.offset;
		mm_str_copy(e->eni, sizeof(e->eni), fl->eni);
		e->ctx = ctx_intern(s, fl->instance_id, acct, region);
		if (m > s->max_minute)
			s->max_minute = m;
		if (r.file && e->ctx != CTX_NONE)
			return;
		e->rfile = NULL; /* out of memory: the full pair takes the record */
		e->count = 0;
	}
	if (!(p = promote(s, e))) {
		s->dropped++;
		return;
	}
	if (created) {
		p->local = src_local ? fl->src : fl->dst;
		p->last_cport = fl->sport;
	}
	copy_str(p->eni, sizeof(p->eni), fl->eni);
	copy_str(p->inst, sizeof(p->inst), fl->instance_id);
	copy_str(p->acct, sizeof(p->acct), acct);
	copy_str(p->region, sizeof(p->region), region);
	if (add_bucket(p, m, 1, 0, sec, sec, 0, w, (uint64_t)pm[P_MIN_ATTEMPTS])) {
		s->dropped++;
		return;
	}
	if (m > s->max_minute)
		s->max_minute = m;
	add_ref(p, &r, 0);
	if (!p->has_latest || mm_evref_before(&p->latest, &r)) {
		p->latest = r;
		p->has_latest = 1;
		p->local = src_local ? fl->src : fl->dst;
		p->last_cport = fl->sport;
		p->last_reject = fl->action == MM_ACT_REJECT;
	}
}

static void on_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_flow *fl = &ev->u.flow;
	/* nearly every record leaves here: one compare and one switch */
	if (ev->kind != MM_EV_FLOW || fl->proto != 6 || service_type(fl->dport) < 0 ||
	    !fl->has_ports)
		return;
	slow_path(st, c, ev);
}

/* ---- merge ---------------------------------------------------------------- */

/* Fold pair q (same key) into p. */
static int pair_merge(struct pair *p, const struct pair *q, int w, uint64_t min, uint64_t *dropped)
{
	int i;
	for (i = 0; i < q->nb; i++) {
		const struct bucket *b = &q->b[i];
		if (add_bucket(p, b->minute, b->count, b->reported, b->fsec, b->lsec, b->qual, w, min))
			*dropped += b->count;
	}
	if (q->pend) {
		if (!p->pend || q->pend_first < p->pend_first)
			p->pend_first = q->pend_first;
		if (!p->pend || q->pend_last > p->pend_last)
			p->pend_last = q->pend_last;
		p->pend += q->pend;
	}
	for (i = 0; i < q->nref; i++)
		add_ref(p, &q->ref[i], q->ref_sent[i]);
	if (q->has_latest && (!p->has_latest || mm_evref_before(&p->latest, &q->latest))) {
		p->latest = q->latest;
		p->has_latest = 1;
		p->local = q->local;
		p->last_cport = q->last_cport;
		p->last_reject = q->last_reject;
	}
	if (!p->eni[0])
		memcpy(p->eni, q->eni, sizeof(p->eni));
	if (!p->inst[0])
		memcpy(p->inst, q->inst, sizeof(p->inst));
	if (!p->acct[0])
		memcpy(p->acct, q->acct, sizeof(p->acct));
	if (!p->region[0])
		memcpy(p->region, q->region, sizeof(p->region));
	return 0;
}

/* The merge gets no params: the window and threshold come from the
 * states (see struct state), for the rare full-pair retirement. */
static int merge(void *dst, void *src)
{
	struct state *d = dst, *s = src;
	size_t i;
	size_t max;
	int w;
	uint64_t min;

	if (!d->w) {
		d->w = s->w;
		d->min = s->min;
	}
	if (!d->max)
		d->max = s->max;
	/* past max_pairs: bottom-k of the union, below both thresholds */
	max = d->max ? d->max : (size_t)params[P_MAX_PAIRS].max;
	if (s->thr && (!d->thr || s->thr < d->thr))
		d->thr = s->thr;
	w = d->w;
	min = d->min;

	for (i = 0; i < s->n; i++) {
		const struct ent *qe = &s->p[i];
		const struct pair *q = qe->full;
		struct pair v, *p;
		struct bucket tb;
		int created;
		struct ent *e = pair_get(d, qe->eni_h, &qe->remote, qe->port, qe->dir, max, &created);
		if (!q) {
			small_view(s, qe, &v, &tb);
			q = &v;
		}
		if (e && created && !qe->full) {
			/* small stays small; its strings interned here */
			*e = *qe;
			e->ctx = qe->ctx == CTX_NONE ? CTX_NONE
						     : ctx_intern(d, mm_str_c(v.inst),
								  mm_str_c(v.acct), mm_str_c(v.region));
			if (e->ctx != CTX_NONE || qe->ctx == CTX_NONE)
				continue;
			e->count = 0; /* out of memory: the full pair takes it */
			e->rfile = NULL;
		}
		if (!e || !(p = promote(d, e))) {
			int k;
			for (k = 0; k < q->nb; k++)
				d->dropped += q->b[k].count;
			continue;
		}
		if (created) {
			p->local = q->local;
			p->last_cport = q->last_cport;
		}
		pair_merge(p, q, w, min, &d->dropped);
	}
	if (s->max_minute > d->max_minute)
		d->max_minute = s->max_minute;
	d->dropped += s->dropped;
	return 0;
}

/* ---- finish --------------------------------------------------------------- */

/* Is an attempt at t (ms) one of the attack's (after mark_attacks)? */
static int in_attack(const struct pair *p, int64_t t)
{
	int64_t m = t / 60000;
	int i;
	if (p->pend && t >= p->pend_first && t <= p->pend_last)
		return 1;
	for (i = 0; i < p->nb; i++)
		if (p->b[i].minute == m)
			return p->b[i].qual;
	return 0;
}

static void emit_pair(struct pair *p, struct mm_detect_ctx *c, int w, uint64_t min)
{
	uint64_t delta = p->pend;
	int64_t first = p->pend_first, last = p->pend_last;
	struct mm_evref refs[MAX_REFS + 1];
	struct mm_finding *f;
	char disc[64], ipbuf[MM_IP_STRLEN];
	int i, n = 0, latest;
	int ti = service_type(p->port);

	mark_attacks(p, w, min);
	for (i = 0; i < p->nb; i++) {
		struct bucket *b = &p->b[i];
		if (!b->qual || b->count <= b->reported)
			continue;
		if (!delta || bucket_first_ms(b) < first)
			first = bucket_first_ms(b);
		if (!delta || bucket_last_ms(b) > last)
			last = bucket_last_ms(b);
		delta += b->count - b->reported;
	}
	if (!delta || ti < 0)
		return;
	for (i = 0; i < p->nref; i++)
		if (!p->ref_sent[i] && in_attack(p, p->ref[i].time_ms)) {
			refs[n++] = p->ref[i];
			p->ref_sent[i] = 1;
		}
	if (p->has_latest && (n == 0 || in_attack(p, p->latest.time_ms)))
		refs[n++] = p->latest;
	for (i = 0; i < p->nb; i++)
		if (p->b[i].qual)
			p->b[i].reported = p->b[i].count;
	p->pend = 0;
	if (n == 0) { /* state loaded from the store, no record at hand */
		memset(&refs[0], 0, sizeof(refs[0]));
		refs[0].file = "";
		refs[0].time_ms = last;
		n = 1;
	}
	snprintf(disc, sizeof(disc), "%s %s", p->dir == MM_DIR_OUTBOUND ? "actor" : "target",
		 mm_ip_format(&p->remote, ipbuf));
	f = mm_emit_refs(c, type_names[ti], mm_str_c(p->acct), mm_str_c(p->eni[0] ? p->eni : p->inst),
			 disc, refs, n, first, last, &latest);
	if (!f)
		return;
	f->count += delta - 1; /* the finding counts attempts, not emissions */
	f->role = p->dir == MM_DIR_OUTBOUND ? MM_ROLE_ACTOR : MM_ROLE_TARGET;
	f->severity = p->dir == MM_DIR_OUTBOUND ? 8.0 : 2.0;
	if (!f->instance_id[0] && p->inst[0])
		snprintf(f->instance_id, sizeof(f->instance_id), "%s", p->inst);
	if (!f->region[0] && p->region[0])
		snprintf(f->region, sizeof(f->region), "%s", p->region);
	if (!latest)
		return;
	f->direction = p->dir;
	f->has_remote_ip = 1;
	f->remote_ip = p->remote;
	f->has_local_ip = 1;
	f->local_ip = p->local;
	if (p->dir == MM_DIR_OUTBOUND) {
		f->local_port = p->last_cport;
		f->remote_port = p->port;
	} else {
		f->local_port = p->port;
		f->remote_port = p->last_cport;
	}
	f->blocked = p->last_reject;
	snprintf(f->protocol, sizeof(f->protocol), "TCP");
	snprintf(f->caller_type, sizeof(f->caller_type), "Remote IP");
}

/* Drop the strings no small pair uses any more (after pruning), so they
 * do not pile up over many batches. Out of memory: a pair keeps no
 * strings (they name the resource only). */
static void ctx_compact(struct state *s)
{
	struct ctx *old = s->cx;
	struct slot *oldslot = s->cxslot;
	size_t i;

	s->cx = NULL;
	s->cxslot = NULL;
	s->ncx = s->capcx = s->ncxslots = 0;
	s->lastcx = 0;
	for (i = 0; i < s->n; i++) {
		struct ent *e = &s->p[i];
		const struct ctx *x;
		if (e->full || e->ctx == CTX_NONE)
			continue;
		x = &old[e->ctx];
		e->ctx = ctx_intern(s, mm_str_c(x->inst), mm_str_c(x->acct),
				    mm_str_c(x->region));
	}
	mm_free(old);
	mm_free(oldslot);
}

static void finish(void *st, struct mm_detect_ctx *c)
{
	struct state *s = st;
	const double *pm = c->params;
	int w = (int)((pm[P_WINDOW] + 59) / 60);
	uint64_t min = (uint64_t)pm[P_MIN_ATTEMPTS];
	int64_t late = (int64_t)pm[P_LATE];
	int64_t keep_from = s->max_minute - w - late;
	size_t i, o = 0;

	s->w = w;
	s->min = min;
	for (i = 0; i < s->n; i++) {
		struct ent *e = &s->p[i];
		/* a small pair's one minute is an attack only when it holds
		 * min_attempts by itself (a loaded one, thresholds changed) */
		if (e->full || (e->count >= min && promote(s, e)))
			emit_pair(e->full, c, w, min);
	}
	if (s->dropped > s->warned) {
		mm_warn("brute: %llu attempts not counted: a bound was hit (max_pairs pairs, or "
			"more than 128 minutes of one pair read out of order)",
			(unsigned long long)(s->dropped - s->warned));
		s->warned = s->dropped;
	}
	/* forget what is too old to matter again: a pair's minutes more than
	 * (window + late) behind its own newest, and whole pairs whose newest
	 * is that far behind the newest record of all (a quiet pair). Per
	 * pair, so logs of another account or region read days later still
	 * meet their own attack's earlier minutes. */
	for (i = 0; i < s->n; i++) {
		struct ent *e = &s->p[i];
		struct pair *p = e->full;
		if (!p) {
			if (e->minute < keep_from)
				continue;
		} else {
			int64_t from = p->nb ? (int64_t)p->b[p->nb - 1].minute - w - late : 0;
			int j, k = 0;
			for (j = 0; j < p->nb; j++)
				if (p->b[j].minute >= from)
					p->b[k++] = p->b[j];
			p->nb = (uint16_t)k;
			if ((!p->nb || p->b[p->nb - 1].minute < keep_from) && !p->pend) {
				pair_free(p);
				continue;
			}
		}
		if (o != i)
			s->p[o] = *e;
		o++;
	}
	if (o != s->n) {
		s->n = o;
		rehash(s, s->nslots); /* same size: cannot need more room */
		ctx_compact(s);
	}
	/* the next batch is a new bottom-k over what is kept plus what it
	 * brings: a pair refused in this batch may be tracked from the next
	 * on (with that batch's attempts only), like a pair forgotten above */
	s->max = (size_t)pm[P_MAX_PAIRS];
	s->thr = 0;
	s->heaped = 0;
	s->hn = 0;
}

/* ---- save / load ----------------------------------------------------------
 *
 * NSHARDS rows, "shard-00" .. "shard-31", every one written at every save
 * (empty ones too), so a pair that is gone is gone from the store. Blob
 * v1, little endian:
 *   "MMBF" u8 version=1 u8 shard i64 max_minute u32 npairs
 *   per pair: u8 v6 [16] remote, u8 v6 [16] local, u16 port, u8 dir,
 *     u16 last_cport, u8 last_reject, 4 x (u8 len, bytes) eni inst acct
 *     region, u32 pend, i64 pend_first, i64 pend_last, u16 nb,
 *     nb x (i32 minute, u32 count, u32 reported, u8 fsec, u8 lsec, u8 qual)
 * Evidence refs are not stored (they name this process's files). A pair
 * that does not fit its row's MM_STORE_STATE_MAX is left out. */

#define BLOB_MAX (1u << 20)

/* 0, MM_ETOOBIG (the row is full) or MM_ENOMEM. */
static int put_pair(struct mm_buf *w, const struct pair *p)
{
	int i, rc = mm_blob_put_ip(w, &p->remote);
	rc = rc ? rc : mm_blob_put_ip(w, &p->local);
	rc = rc ? rc : mm_blob_put_u(w, p->port, 2);
	rc = rc ? rc : mm_blob_put_u(w, p->dir, 1);
	rc = rc ? rc : mm_blob_put_u(w, p->last_cport, 2);
	rc = rc ? rc : mm_blob_put_u(w, p->last_reject, 1);
	rc = rc ? rc : mm_blob_put_str(w, p->eni, 1, sizeof(p->eni) - 1);
	rc = rc ? rc : mm_blob_put_str(w, p->inst, 1, sizeof(p->inst) - 1);
	rc = rc ? rc : mm_blob_put_str(w, p->acct, 1, sizeof(p->acct) - 1);
	rc = rc ? rc : mm_blob_put_str(w, p->region, 1, sizeof(p->region) - 1);
	rc = rc ? rc : mm_blob_put_u(w, p->pend, 4);
	rc = rc ? rc : mm_blob_put_u(w, (uint64_t)p->pend_first, 8);
	rc = rc ? rc : mm_blob_put_u(w, (uint64_t)p->pend_last, 8);
	rc = rc ? rc : mm_blob_put_u(w, p->nb, 2);
	for (i = 0; i < p->nb && !rc; i++) {
		rc = mm_blob_put_u(w, (uint32_t)p->b[i].minute, 4);
		rc = rc ? rc : mm_blob_put_u(w, p->b[i].count, 4);
		rc = rc ? rc : mm_blob_put_u(w, p->b[i].reported, 4);
		rc = rc ? rc : mm_blob_put_u(w, p->b[i].fsec, 1);
		rc = rc ? rc : mm_blob_put_u(w, p->b[i].lsec, 1);
		rc = rc ? rc : mm_blob_put_u(w, p->b[i].qual, 1);
	}
	return rc;
}

static int save(void *st, int (*putrow)(void *pctx, const char *entity, const void *blob, size_t n),
		void *pctx)
{
	struct state *s = st;
	struct mm_buf w;
	int sh, rc = 0;
	size_t i, k, start[NSHARDS + 1];
	uint32_t *ord;

	/* the pairs of each shard in table order, found in one pass (not
	 * one pass over all pairs per shard) */
	ord = mm_malloc((s->n ? s->n : 1) * sizeof(*ord));
	if (!ord)
		return MM_ENOMEM;
	memset(start, 0, sizeof(start));
	for (i = 0; i < s->n; i++)
		start[(s->p[i].h >> 59) % NSHARDS + 1]++;
	for (sh = 0; sh < NSHARDS; sh++)
		start[sh + 1] += start[sh];
	{
		size_t at[NSHARDS];
		memcpy(at, start, sizeof(at));
		for (i = 0; i < s->n; i++)
			ord[at[(s->p[i].h >> 59) % NSHARDS]++] = (uint32_t)i;
	}
	mm_buf_init(&w, BLOB_MAX);
	for (sh = 0; sh < NSHARDS && !rc; sh++) {
		char ent[16];
		uint32_t np = 0;
		size_t at;
		mm_buf_reset(&w);
		rc = mm_buf_add(&w, "MMBF", 4);
		rc = rc ? rc : mm_blob_put_u(&w, 1, 1);
		rc = rc ? rc : mm_blob_put_u(&w, (uint64_t)sh, 1);
		rc = rc ? rc : mm_blob_put_u(&w, (uint64_t)s->max_minute, 8);
		at = w.len;
		rc = rc ? rc : mm_blob_put_u(&w, 0, 4);
		for (k = start[sh]; k < start[sh + 1] && !rc; k++) {
			size_t before = w.len;
			i = ord[k];
			if (s->p[i].full) {
				rc = put_pair(&w, s->p[i].full);
			} else {
				struct pair v;
				struct bucket tb;
				small_view(s, &s->p[i], &v, &tb);
				rc = put_pair(&w, &v);
			}
			if (rc == MM_ETOOBIG) {
				/* does not fit: leave it out (documented) */
				w.len = before;
				rc = 0;
				continue;
			}
			np++;
		}
		if (rc)
			break; /* out of memory: a short row would lose pairs silently */
		mm_le_put((unsigned char *)w.p + at, np, 4);
		snprintf(ent, sizeof(ent), "shard-%02d", sh);
		rc = putrow(pctx, ent, w.p, w.len);
	}
	mm_buf_free(&w);
	mm_free(ord);
	return rc;
}

/* Read one pair into q (buckets into qb). Sets r->bad on anything out of
 * shape. */
static void get_pair(struct mm_blob_rd *r, struct pair *q, struct bucket *qb)
{
	uint64_t nb;
	size_t i;
	memset(q, 0, sizeof(*q));
	mm_blob_get_ip(r, &q->remote);
	mm_blob_get_ip(r, &q->local);
	q->port = (uint16_t)mm_blob_get_u(r, 2);
	q->dir = (uint8_t)mm_blob_get_u(r, 1);
	q->last_cport = (uint16_t)mm_blob_get_u(r, 2);
	q->last_reject = (uint8_t)mm_blob_get_u(r, 1);
	mm_blob_get_str(r, q->eni, sizeof(q->eni), 1);
	mm_blob_get_str(r, q->inst, sizeof(q->inst), 1);
	mm_blob_get_str(r, q->acct, sizeof(q->acct), 1);
	mm_blob_get_str(r, q->region, sizeof(q->region), 1);
	q->pend = (uint32_t)mm_blob_get_u(r, 4);
	q->pend_first = (int64_t)mm_blob_get_u(r, 8);
	q->pend_last = (int64_t)mm_blob_get_u(r, 8);
	nb = mm_blob_get_u(r, 2);
	if (service_type(q->port) < 0 || (q->dir != MM_DIR_INBOUND && q->dir != MM_DIR_OUTBOUND) ||
	    q->last_reject > 1 || nb > MAX_BUCKETS || (!q->eni[0] && !q->inst[0]) ||
	    (q->pend && q->pend_first > q->pend_last)) {
		r->bad = 1;
		return;
	}
	for (i = 0; i < nb && !r->bad; i++) {
		struct bucket *b = &qb[i];
		b->minute = (int32_t)(uint32_t)mm_blob_get_u(r, 4);
		b->count = (uint32_t)mm_blob_get_u(r, 4);
		b->reported = (uint32_t)mm_blob_get_u(r, 4);
		b->fsec = (uint8_t)mm_blob_get_u(r, 1);
		b->lsec = (uint8_t)mm_blob_get_u(r, 1);
		b->qual = (uint8_t)mm_blob_get_u(r, 1);
		if (b->minute <= 0 || b->count == 0 || b->reported > b->count || b->fsec > 59 ||
		    b->lsec > 59 || b->fsec > b->lsec || b->qual > 1 ||
		    (i && b->minute <= qb[i - 1].minute))
			r->bad = 1;
	}
	q->nb = (uint16_t)nb;
	q->b = qb;
	q->eni_h = q->eni[0] ? owner_hash(q->eni, strlen(q->eni))
			     : owner_hash(q->inst, strlen(q->inst));
}

/* Check the whole blob first, then add it: a malformed row adds nothing. */
static int load(void *st, const char *entity, int version, const void *blob, size_t n)
{
	struct state *s = st;
	struct mm_blob_rd r;
	struct bucket qb[MAX_BUCKETS];
	struct pair q;
	int64_t maxm;
	uint64_t np, i;
	int pass;
	const unsigned char *magic;

	(void)entity;
	if (version != 1 || !blob)
		return MM_EINVAL;
	for (pass = 0; pass < 2; pass++) {
		mm_blob_rd_init(&r, blob, n);
		magic = mm_blob_get_bytes(&r, 4);
		if (!magic || memcmp(magic, "MMBF", 4) || mm_blob_get_u(&r, 1) != 1 ||
		    mm_blob_get_u(&r, 1) >= NSHARDS)
			return MM_EPARSE;
		maxm = (int64_t)mm_blob_get_u(&r, 8);
		np = mm_blob_get_u(&r, 4);
		if (r.bad || maxm < 0 || maxm > INT32_MAX || np > n / 40)
			return MM_EPARSE;
		for (i = 0; i < np; i++) {
			get_pair(&r, &q, qb);
			if (r.bad)
				return MM_EPARSE;
			if (pass == 1) {
				int created;
				struct pair *p;
				struct ent *e = pair_get(s, q.eni_h, &q.remote, q.port, q.dir,
							 (size_t)params[P_MAX_PAIRS].max, &created);
				if (!e)
					return MM_ENOMEM;
				if (created && q.nb == 1 && !q.b[0].reported && !q.b[0].qual &&
				    !q.pend && !q.pend_first && !q.pend_last) {
					/* nothing a small pair cannot hold */
					e->local = q.local;
					e->cport = q.last_cport;
					e->reject = q.last_reject;
					e->minute = q.b[0].minute;
					e->count = q.b[0].count;
					e->fsec = q.b[0].fsec;
					e->lsec = q.b[0].lsec;
					memcpy(e->eni, q.eni, sizeof(e->eni));
					e->ctx = ctx_intern(s, mm_str_c(q.inst),
							    mm_str_c(q.acct), mm_str_c(q.region));
					if (e->ctx != CTX_NONE)
						continue;
					e->count = 0;
				}
				if (!(p = promote(s, e)))
					return MM_ENOMEM;
				if (created) {
					p->local = q.local;
					p->last_cport = q.last_cport;
					p->last_reject = q.last_reject;
				}
				pair_merge(p, &q, s->w, s->min, &s->dropped);
			}
		}
		if (r.p != r.end)
			return MM_EPARSE; /* trailing bytes */
	}
	if (maxm > s->max_minute)
		s->max_minute = maxm;
	return 0;
}

const struct mm_detector_def mm_det_brute = {
	.name = "brute",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.state_version = 1,
	.types = type_names,
	.params = params,
	.state_new = state_new,
	.state_free = state_free,
	.on_event = on_event,
	.merge = merge,
	.finish = finish,
	.save = save,
	.load = load,
};
