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
 * most max_pairs pairs per state (new pairs beyond it are not tracked),
 * and at finish a pair's minutes older than its newest minus (window +
 * late_minutes) are dropped, and pairs whose newest is that far behind
 * the newest record of all - records later than that are not counted. */
#include <stdio.h>
#include <string.h>

#include "core/hash.h"
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
	 "(interface, remote, port, direction) pairs tracked at once; bounds memory (~0.3-2.3 KB "
	 "each) under a flood of spoofed sources; new pairs beyond it are not counted"},
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

struct state {
	struct pair *p;
	size_t n, cap;
	uint32_t *slot;		/* index + 1 into p; 0 = empty */
	size_t nslots;
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

static int key_eq(const struct pair *p, uint64_t h, uint64_t eni_h, const struct mm_ip *r,
		  uint16_t port, uint8_t dir)
{
	return p->h == h && p->eni_h == eni_h && p->port == port && p->dir == dir &&
	       p->remote.v6 == r->v6 && memcmp(p->remote.b, r->b, 16) == 0;
}

static int rehash(struct state *s, size_t nslots)
{
	uint32_t *ns = mm_calloc(nslots, sizeof(*ns));
	size_t i;
	if (!ns)
		return -1;
	for (i = 0; i < s->n; i++) {
		size_t j = (size_t)s->p[i].h & (nslots - 1);
		while (ns[j])
			j = (j + 1) & (nslots - 1);
		ns[j] = (uint32_t)(i + 1);
	}
	mm_free(s->slot);
	s->slot = ns;
	s->nslots = nslots;
	return 0;
}

/* The pair for the key, created (zeroed, key set) when absent and the
 * table has room (max pairs); NULL otherwise. */
static struct pair *pair_get(struct state *s, uint64_t eni_h, const struct mm_ip *r, uint16_t port,
			     uint8_t dir, size_t max, int *created)
{
	uint64_t h = key_hash(eni_h, r, port, dir);
	struct pair *p;
	size_t j;

	*created = 0;
	if (s->nslots) {
		for (j = (size_t)h & (s->nslots - 1); s->slot[j]; j = (j + 1) & (s->nslots - 1)) {
			p = &s->p[s->slot[j] - 1];
			if (key_eq(p, h, eni_h, r, port, dir))
				return p;
		}
	}
	if (s->n >= max || s->n >= UINT32_MAX - 1)
		return NULL;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct pair *np = mm_realloc(s->p, nc * sizeof(*np));
		if (!np)
			return NULL;
		s->p = np;
		s->cap = nc;
	}
	if ((s->n + 1) * 2 > s->nslots && rehash(s, s->nslots ? s->nslots * 2 : 128))
		return NULL;
	p = &s->p[s->n];
	memset(p, 0, sizeof(*p));
	p->h = h;
	p->eni_h = eni_h;
	p->remote = *r;
	p->port = port;
	p->dir = dir;
	for (j = (size_t)h & (s->nslots - 1); s->slot[j]; j = (j + 1) & (s->nslots - 1))
		;
	s->slot[j] = (uint32_t)(s->n + 1);
	s->n++;
	*created = 1;
	return p;
}

static void *state_new(void)
{
	return mm_calloc(1, sizeof(struct state));
}

static void state_free(void *st)
{
	struct state *s = st;
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		mm_free(s->p[i].b);
	mm_free(s->p);
	mm_free(s->slot);
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
	struct pair *p;
	uint64_t eni_h;
	int64_t t;
	int32_t m;
	uint8_t dir, sec;
	int w = (int)((pm[P_WINDOW] + 59) / 60);

	s->w = w;
	s->min = (uint64_t)pm[P_MIN_ATTEMPTS];
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
	p = pair_get(s, eni_h, remote, fl->dport, dir, (size_t)pm[P_MAX_PAIRS], &created);
	if (!p) {
		s->dropped++;
		return;
	}
	if (created) {
		p->local = src_local ? fl->src : fl->dst;
		p->last_cport = fl->sport;
	}
	copy_str(p->eni, sizeof(p->eni), fl->eni);
	copy_str(p->inst, sizeof(p->inst), fl->instance_id);
	copy_str(p->acct, sizeof(p->acct),
		 c->file && c->file->account[0] ? mm_str_c(c->file->account) : fl->account);
	copy_str(p->region, sizeof(p->region),
		 fl->region.n ? fl->region : c->file ? mm_str_c(c->file->region) : fl->region);
	if (add_bucket(p, m, 1, 0, sec, sec, 0, w, (uint64_t)pm[P_MIN_ATTEMPTS])) {
		s->dropped++;
		return;
	}
	if (m > s->max_minute)
		s->max_minute = m;
	{
		/* an attack's records share a file: intern its path once, not
		 * under the pool's lock per attempt */
		const char *path = c->file && c->file->rel ? c->file->rel : ev->loc.file;
		struct mm_evref r;
		if (s->file && path && strcmp(s->file, path) == 0) {
			r.file = s->file;
			r.line = ev->loc.line;
			r.offset = ev->loc.offset;
			r.time_ms = t * 1000;
		} else {
			mm_evref_take(&r, c, ev, t * 1000);
			s->file = r.file;
		}
		add_ref(p, &r, 0);
		if (!p->has_latest || mm_evref_before(&p->latest, &r)) {
			p->latest = r;
			p->has_latest = 1;
			p->local = src_local ? fl->src : fl->dst;
			p->last_cport = fl->sport;
			p->last_reject = fl->action == MM_ACT_REJECT;
		}
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
	size_t max = (size_t)params[P_MAX_PAIRS].max;
	int w;
	uint64_t min;

	if (!d->w) {
		d->w = s->w;
		d->min = s->min;
	}
	w = d->w;
	min = d->min;

	for (i = 0; i < s->n; i++) {
		const struct pair *q = &s->p[i];
		int created;
		struct pair *p = pair_get(d, q->eni_h, &q->remote, q->port, q->dir, max, &created);
		if (!p) {
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
	for (i = 0; i < s->n; i++)
		emit_pair(&s->p[i], c, w, min);
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
		struct pair *p = &s->p[i];
		int64_t from = p->nb ? (int64_t)p->b[p->nb - 1].minute - w - late : 0;
		int j, k = 0;
		for (j = 0; j < p->nb; j++)
			if (p->b[j].minute >= from)
				p->b[k++] = p->b[j];
		p->nb = (uint16_t)k;
		if ((!p->nb || p->b[p->nb - 1].minute < keep_from) && !p->pend) {
			mm_free(p->b);
			continue;
		}
		if (o != i)
			s->p[o] = *p;
		o++;
	}
	if (o != s->n) {
		s->n = o;
		rehash(s, s->nslots); /* same size: cannot need more room */
	}
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
	size_t i;

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
		for (i = 0; i < s->n && !rc; i++) {
			size_t before = w.len;
			if ((s->p[i].h >> 59) % NSHARDS != (uint64_t)sh)
				continue;
			if ((rc = put_pair(&w, &s->p[i])) == MM_ETOOBIG) {
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
				struct pair *p = pair_get(s, q.eni_h, &q.remote, q.port, q.dir,
							  (size_t)params[P_MAX_PAIRS].max, &created);
				if (!p)
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
