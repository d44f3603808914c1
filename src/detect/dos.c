/* dos.c - Backdoor:EC2/DenialOfService.{Tcp,Udp,UdpOnTcpPorts,UnusualProtocol,Dns}:
 * the instance floods one remote host (docs/finding-types.md has the
 * logic and the reasons in prose).
 *
 * A flood is packets per second to one public remote, not bytes: per
 * (ENI, remote, class, minute of the record's start) the outbound
 * records' packets are summed, and so are their rates (packets /
 * max(1, end - start): a VPC flow record covers a capture window of up
 * to 60 s, or 600 s, so its packet count alone says little about its
 * rate). A minute fires when it holds >= min_packets packets AND its
 * rates add up to >= min_pps, and the traffic has the shape of a flood
 * rather than a transfer or a conversation (below).
 *
 * Cost. Almost every flow record has a handful of packets; a flood at
 * 1000 pps over a 60 s window produces records with tens of thousands.
 * So a record only counts when its own packet count is large
 * (>= min_record_packets, or its own rate >= min_record_pps): the common
 * record costs one compare and touches no state. Only those heavy
 * records enter the (bounded) tables, in both directions: a heavy inbound
 * record from the remote tells a conversation or a download from a
 * flood. finish is O(entries). The definition is exact and order-free:
 * a minute's sums are over its heavy records, whatever the file order or
 * thread split; merge adds them.
 *
 * Classes (by protocol and the remote's port):
 *   Tcp            proto 6; not when the outbound packets are full-size
 *                  (an upload) or the remote sends full-size data back
 *                  (a download: our side is its ACK stream)
 *   Dns            udp to port 53 at flood rates, or from local port 53 to
 *                  the victim (the instance reflects/amplifies DNS)
 *   UdpOnTcpPorts  udp to a port whose service is TCP (80, 443, 22, ...)
 *   Udp            any other udp
 *   UnusualProtocol  not icmp (1), tcp, udp, esp (50) or icmpv6 (58)
 * The udp classes and UnusualProtocol fire only when the remote does not
 * answer in kind (inbound packets < answered_ratio x outbound): a VPN
 * tunnel, a QUIC upload or a GRE tunnel to one peer is a conversation.
 * Udp to a telemetry collector's port (syslog, NetFlow, ...) is a one-way
 * stream by design and does not fire (telemetry_ports).
 *
 * State: one ENI table and one bucket table per worker, merged exactly at
 * the flush; finish emits each bucket once (marked reported) and drops
 * buckets more than retain_minutes older than the newest one, so state
 * holds the last hours of heavy traffic only. Persisted in 256 rows of
 * ENIs by hash (see persistence). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/intern.h"
#include "core/log.h"
#include "core/mem.h"
#include "detect/blob.h"
#include "detect/detect.h"
#include "store/store.h"

/* Hard bounds (docs/finding-types.md), never grown past: past them the
 * buckets kept are the smallest by (ENI hash, bucket hash) - see admit -
 * and what is not kept is not counted (s->dropped, logged at finish). */
#define DOS_MAX_ENIS 65536
#define DOS_MAX_BUCKETS 262144
#define DOS_BLOB_MAX 4096	/* buckets per ENI in one stored blob: the newest */
#define DOS_SHARDS 256		/* stored rows: ENIs by hash, many ENIs per row */
#define DOS_ROW_MAX MM_STORE_STATE_MAX	/* one row's bytes: the store's limit */
#define DOS_PKTS_MAX 1000000000000000ULL /* one record's packets/bytes, clamped */
#define DOS_MINUTE_MAX 224000000	/* record starts after 2395 are not counted */

enum { C_TCP, C_UDP, C_UDPTCP, C_UNUSUAL, C_DNS, C__COUNT };

static const char *const types[] = {
	"Backdoor:EC2/DenialOfService.Tcp",
	"Backdoor:EC2/DenialOfService.Udp",
	"Backdoor:EC2/DenialOfService.UdpOnTcpPorts",
	"Backdoor:EC2/DenialOfService.UnusualProtocol",
	"Backdoor:EC2/DenialOfService.Dns",
	NULL,
};

enum { P_MIN_PACKETS, P_MIN_PPS, P_REC_PACKETS, P_REC_PPS, P_BULK, P_ANSWERED, P_RETAIN, P_TELEMETRY };

static const struct mm_param params[] = {
	{"min_packets", 100000, 1, 1e12, "packets",
	 "packets to one remote in one minute: a flood tool (hping3 --flood, LOIC, botnet "
	 "UDP/SYN floods) sends tens of thousands per second; 100k in a minute is 1667/s "
	 "sustained"},
	{"min_pps", 1000, 1, 1e9, "packets/s",
	 "summed rate (packets / record duration) to one remote in one minute: normal "
	 "per-peer traffic is far below (a 5 Mbit/s video stream is ~450/s), floods far above"},
	{"min_record_packets", 1000, 1, 1e12, "packets",
	 "a record counts toward a flood only if it has this many packets (or min_record_pps): "
	 "a 1000/s flood over a 60 s capture window logs ~60000 per record, normal records few"},
	{"min_record_pps", 100, 1, 1e9, "packets/s",
	 "or if its own rate is this high (short records); keeps ordinary records out of the "
	 "state at the cost of one compare"},
	{"bulk_packet_bytes", 1000, 64, 65535, "bytes",
	 "tcp: an average packet this large in either direction is a transfer (MSS-sized "
	 "segments of an upload or download), not a SYN/ACK/RST flood (40-60 byte packets)"},
	{"answered_ratio", 0.05, 0, 1, "ratio",
	 "udp/other: inbound packets from the remote >= this share of outbound make a "
	 "conversation (VPN, QUIC and RTP peers answer; a flood target does not)"},
	{"retain_minutes", 180, 10, 10080, "minutes",
	 "buckets older than the newest by this much are dropped after finish: flow logs "
	 "arrive within ~10-15 minutes, so a minute's records are all in by then"},
	{"telemetry_ports", 1, 0, 1, "bool",
	 "1: udp to the ports of one-way telemetry (syslog 514, SNMP traps 162, NetFlow "
	 "2055/9995/9996, IPFIX 4739, sFlow 6343, StatsD 8125, GELF 12201) is a log or metrics "
	 "stream to a collector, unanswered by design, not a flood"},
	{NULL, 0, 0, 0, NULL, NULL},
};

struct dos_eni {
	uint64_t h;		/* first: grow_slots reads it */
	char name[32];		/* interface-id */
	char account[16];
	char region[24];
	char instance[24];	/* instance-id if the record logged it */
	uint32_t nb;		/* buckets of this ENI; 0: a free entry (evicted) */
};

/* One (ENI, remote, class, minute) of heavy records. */
struct dos_bucket {
	uint64_t h;		/* first: grow_slots reads it */
	uint32_t eni;
	uint8_t cls, reported, proto, blocked;
	struct mm_ip remote, local;
	uint16_t lport, rport;
	uint16_t nrec;		/* heavy records in it this batch (saturates; not
				 * saved): what an eviction leaves uncounted */
	int64_t minute;
	uint64_t out_pk, out_by, out_mpps;	/* mpps: sum of packets * 1000 / duration */
	uint64_t in_pk, in_by;
	uint64_t top_pk;			/* the largest outbound record: details */
	int64_t first_ms, last_ms;
	struct mm_evref first, top;		/* file NULL: none yet */
};

struct dos_state {
	struct dos_eni *eni;
	size_t neni, caneni;
	uint64_t *eslot;	/* slot(): index + 1 and a hash tag; 0 empty */
	size_t emask;
	struct dos_bucket *b;
	size_t nb, canb;
	uint64_t *bslot;
	size_t bmask;
	uint64_t dropped;
	uint64_t evicted;	/* buckets given up for smaller ones (admit) */
	/* ENI entries freed by eviction (reused first); live ENIs are neni - nfree */
	uint32_t *efree;
	size_t nfree;
	/* the bound as bottom-k (admit): keys >= thr refused this batch
	 * (thr_set: one is), a max-heap of the kept keys once full */
	struct dos_key { uint64_t e, b; } thr, *heap;
	int thr_set, heaped;
	size_t hn, hcap;
	uint64_t stored[DOS_SHARDS / 64];	/* bit k: shard k's row holds ENIs */
	const char *last_name;	/* the evidence file name of the last reference taken */
	const char *last_file;	/* and its interned copy */
};

/* ---- tables ---------------------------------------------------------------- */

/* An index slot: the entry's index + 1 in the low half, the top half of
 * its hash in the high half, so a probe past other keys compares the tag
 * and never touches their entries (one cache miss per lookup, not one per
 * probe: most heavy records on a busy estate open a new bucket). */
static uint64_t slot(size_t i, uint64_t h)
{
	return (uint64_t)(i + 1) | (h & 0xffffffff00000000ULL);
}

static int slot_tag_eq(uint64_t sl, uint64_t h)
{
	return ((sl ^ h) >> 32) == 0;
}

static size_t slot_ix(uint64_t sl)
{
	return (size_t)(uint32_t)sl - 1;
}

/* Where a hash's probe starts: its high half, which the slot keeps as
 * the tag, so growing the index never reads the entries. */
static size_t home(uint64_t h, size_t mask)
{
	return (size_t)(h >> 32) & mask;
}

/* Make the index hold n entries at most half full: grown from the old
 * slots, or built from arr's n entries of stride bytes when there are
 * none. Every entry type starts with its uint64_t hash (dos_eni,
 * dos_bucket). */
static int grow_slots(uint64_t **slot_arr, size_t *mask, size_t n, const void *arr, size_t stride)
{
	size_t cap = *mask ? (*mask + 1) : 0, ncap, i;
	uint64_t *ns;

	if (n * 2 < cap)
		return 0;
	ncap = cap ? cap * 2 : 64;
	while (n * 2 >= ncap)
		ncap *= 2;
	if (!(ns = mm_calloc(ncap, sizeof(*ns))))
		return MM_ENOMEM;
	if (*slot_arr) {
		for (i = 0; i < cap; i++) {
			size_t k;
			if (!(*slot_arr)[i])
				continue;
			for (k = home((*slot_arr)[i], ncap - 1); ns[k]; k = (k + 1) & (ncap - 1))
				;
			ns[k] = (*slot_arr)[i];
		}
	} else {
		for (i = 0; i < n; i++) {
			uint64_t h = *(const uint64_t *)((const char *)arr + i * stride);
			size_t k;
			for (k = home(h, ncap - 1); ns[k]; k = (k + 1) & (ncap - 1))
				;
			ns[k] = slot(i, h);
		}
	}
	mm_free(*slot_arr);
	*slot_arr = ns;
	*mask = ncap - 1;
	return 0;
}

static int grow_arr(void **arr, size_t *cap, size_t n, size_t stride, size_t max)
{
	size_t ncap;
	void *p;
	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > max)
		ncap = max;
	if (n >= ncap || !(p = mm_realloc(*arr, ncap * stride)))
		return MM_ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int eni_set(struct dos_eni *e, const char *name, size_t n)
{
	if (!n || n >= sizeof(e->name))
		return -1;
	memcpy(e->name, name, n);
	e->name[n] = '\0';
	return 0;
}

static uint64_t eni_hash(const char *name, size_t n)
{
	return mm_hash(name, n, 0x646f73);
}

/* Index of the ENI named name[0..n) (h is eni_hash of it), or -1. */
static long eni_find(const struct dos_state *s, uint64_t h, const char *name, size_t n)
{
	size_t k;
	const struct dos_eni *e;
	if (s->emask)
		for (k = home(h, s->emask); s->eslot[k]; k = (k + 1) & s->emask) {
			if (!slot_tag_eq(s->eslot[k], h))
				continue;
			e = &s->eni[slot_ix(s->eslot[k])];
			if (e->h == h && strlen(e->name) == n && !memcmp(e->name, name, n))
				return (long)slot_ix(s->eslot[k]);
		}
	return -1;
}

/* Add the ENI (absent; a freed entry reused first); -1 when out of memory.
 * The bound is admit's. */
static long eni_add(struct dos_state *s, uint64_t h, const char *name, size_t n)
{
	size_t k, i;
	struct dos_eni *e;
	if (s->nfree) {
		i = s->efree[--s->nfree];
	} else {
		if (s->neni >= DOS_MAX_ENIS ||
		    grow_arr((void **)&s->eni, &s->caneni, s->neni, sizeof(*s->eni), DOS_MAX_ENIS) ||
		    grow_slots(&s->eslot, &s->emask, s->neni + 1, s->eni, sizeof(*s->eni)))
			return -1;
		i = s->neni++;
	}
	e = &s->eni[i];
	memset(e, 0, sizeof(*e));
	e->h = h;
	eni_set(e, name, n);
	for (k = home(h, s->emask); s->eslot[k]; k = (k + 1) & s->emask)
		;
	s->eslot[k] = slot(i, h);
	return (long)i;
}

static uint64_t bucket_hash(uint64_t eni_h, const struct mm_ip *remote, int cls, int64_t minute)
{
	return mm_hash(remote, sizeof(*remote),
		       eni_h ^ mm_hash_mix((uint64_t)minute * 8 + (uint64_t)cls + 1));
}

/* ---- the bounds as bottom-k -------------------------------------------------
 *
 * Past the bounds, which buckets are kept must not depend on the order
 * records arrive in nor on how files were spread over workers. Buckets
 * are ordered by (ENI hash, bucket hash) and the kept ones are always the
 * smallest: a new bucket is admitted only if it is below the largest kept
 * one, which is evicted (with its ENI when that was its last bucket) and
 * thr falls to it; keys >= thr are refused for the rest of the batch. thr
 * only falls, so a bucket that ends up kept was never refused nor evicted
 * and holds exact sums; the kept set is every key below the first one (in
 * that order) at which the buckets or the ENIs of all keys seen exceed
 * their bound, for any order or split (merge applies the same rule to the
 * union, from the lower thr). Ordering by ENI first means whole ENIs are
 * watched or not (but at the edge). finish starts the next batch afresh. */

static int key_lt(struct dos_key a, struct dos_key b)
{
	return a.e < b.e || (a.e == b.e && a.b < b.b);
}

static void heap_down(struct dos_key *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct dos_key t;
		if (l < n && key_lt(h[m], h[l]))
			m = l;
		if (l + 1 < n && key_lt(h[m], h[l + 1]))
			m = l + 1;
		if (m == i)
			break;
		t = h[m], h[m] = h[i], h[i] = t;
		i = m;
	}
}

static int heap_push(struct dos_state *s, struct dos_key k)
{
	size_t i;
	if (s->hn == s->hcap) {
		size_t nc = s->hcap ? s->hcap * 2 : 1024;
		struct dos_key *nh = mm_realloc(s->heap, nc * sizeof(*nh));
		if (!nh)
			return -1;
		s->heap = nh;
		s->hcap = nc;
	}
	i = s->hn++;
	s->heap[i] = k;
	while (i && key_lt(s->heap[(i - 1) / 2], s->heap[i])) {
		struct dos_key t = s->heap[i];
		s->heap[i] = s->heap[(i - 1) / 2];
		s->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

static int heap_build(struct dos_state *s)
{
	size_t i;
	if (s->nb > s->hcap) {
		struct dos_key *nh = mm_realloc(s->heap, s->nb * sizeof(*nh));
		if (!nh)
			return -1;
		s->heap = nh;
		s->hcap = s->nb;
	}
	for (i = 0; i < s->nb; i++) {
		s->heap[i].e = s->eni[s->b[i].eni].h;
		s->heap[i].b = s->b[i].h;
	}
	s->hn = s->nb;
	for (i = s->hn / 2; i-- > 0;)
		heap_down(s->heap, s->hn, i);
	s->heaped = 1;
	return 0;
}

/* Remove slot k of an index (backward shift: no tombstones). */
static void slot_del(uint64_t *t, size_t mask, size_t k)
{
	size_t i = k, j = k;
	for (;;) {
		size_t h;
		j = (j + 1) & mask;
		if (!t[j])
			break;
		h = home(t[j], mask); /* the slot's tag is its hash's high half */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		t[i] = t[j];
		i = j;
	}
	t[i] = 0;
}

/* The slot of entry ix whose hash is h. */
static size_t slot_find(const uint64_t *t, size_t mask, uint64_t h, size_t ix)
{
	size_t k = home(h, mask);
	while (slot_ix(t[k]) != ix)
		k = (k + 1) & mask;
	return k;
}

/* Evict the largest kept bucket (and its ENI if it was its last): the
 * last bucket moves into its place. */
static void evict_top(struct dos_state *s)
{
	struct dos_key top = s->heap[0];
	size_t k, i, last = s->nb - 1;
	struct dos_eni *e;

	s->heap[0] = s->heap[--s->hn];
	heap_down(s->heap, s->hn, 0);
	s->thr = top;
	s->thr_set = 1;
	for (k = home(top.b, s->bmask); s->bslot[k]; k = (k + 1) & s->bmask)
		if (slot_tag_eq(s->bslot[k], top.b) && s->b[slot_ix(s->bslot[k])].h == top.b &&
		    s->eni[s->b[slot_ix(s->bslot[k])].eni].h == top.e)
			break;
	if (!s->bslot[k])
		return; /* not held (an out-of-memory path): nothing to free */
	i = slot_ix(s->bslot[k]);
	slot_del(s->bslot, s->bmask, k);
	s->dropped += s->b[i].nrec;
	e = &s->eni[s->b[i].eni];
	if (--e->nb == 0) {
		slot_del(s->eslot, s->emask, slot_find(s->eslot, s->emask, e->h, s->b[i].eni));
		s->efree[s->nfree++] = s->b[i].eni;
		e->h = 0;
		e->name[0] = '\0';
	}
	if (i != last) {
		s->bslot[slot_find(s->bslot, s->bmask, s->b[last].h, last)] = slot(i, s->b[last].h);
		s->b[i] = s->b[last];
	}
	s->nb--;
	s->evicted++;
}

/* Is key k refused for the rest of the batch without a look? In a
 * worker's state every kept key is at or below thr (it is set only to
 * an evicted or refused key, each at or above every kept one, and falls
 * only), so a key above it is not held and would not be admitted: such
 * records (most heavy records once the bound is hit) cost no table
 * probe. Equal keys take the long way. Not for merge: a merged state may
 * hold keys above the thr it took from a source. */
static int refused(const struct dos_state *s, uint64_t eh, uint64_t h)
{
	struct dos_key k = {eh, h};
	return s->thr_set && key_lt(s->thr, k);
}

/* May a new bucket of key k be added (room made by evicting larger ones)?
 * *ei is its ENI's index or -1 (then one more ENI is needed; it may also
 * become -1 when the ENI's last bucket was evicted). 1 yes, 0 no. */
static int admit(struct dos_state *s, struct dos_key k, long *ei, const char *name, size_t n)
{
	if (s->thr_set && !key_lt(k, s->thr))
		return 0;
	while (s->nb >= DOS_MAX_BUCKETS || (*ei < 0 && s->neni - s->nfree >= DOS_MAX_ENIS)) {
		if ((!s->heaped && heap_build(s)) ||
		    (!s->efree && !(s->efree = mm_malloc(DOS_MAX_ENIS * sizeof(*s->efree)))))
			return 0;
		if (!s->hn || !key_lt(k, s->heap[0])) {
			s->thr = k;
			s->thr_set = 1;
			return 0;
		}
		evict_top(s);
		if (*ei >= 0 && !s->eni[*ei].nb)
			*ei = eni_find(s, k.e, name, n); /* its last bucket went */
	}
	if (s->heaped && heap_push(s, k)) {
		s->heaped = 0; /* rebuilt when next needed */
		s->hn = 0;
	}
	return 1;
}

/* The bucket of the key (with its ENI, named name[0..n), eh its hash),
 * added (zeroed) when absent and admitted; *eio: the ENI's index. NULL
 * when not kept. */
static struct dos_bucket *bucket_get(struct dos_state *s, uint64_t eh, const char *name, size_t n,
				     const struct mm_ip *remote, int cls, int64_t minute, long *eio)
{
	uint64_t h = bucket_hash(eh, remote, cls, minute);
	struct dos_bucket *b;
	struct dos_key key;
	long ei;
	size_t k;

	if (!n || n >= sizeof(s->eni[0].name))
		return NULL;
	ei = eni_find(s, eh, name, n);
	if (ei >= 0 && s->bmask)
		for (k = home(h, s->bmask); s->bslot[k]; k = (k + 1) & s->bmask) {
			if (!slot_tag_eq(s->bslot[k], h))
				continue;
			b = &s->b[slot_ix(s->bslot[k])];
			if (b->h == h && b->eni == (uint32_t)ei && b->cls == cls &&
			    b->minute == minute && mm_ip_eq(&b->remote, remote)) {
				*eio = ei;
				return b;
			}
		}
	/* room first, so an admitted key is always held */
	if (s->nb < DOS_MAX_BUCKETS &&
	    (grow_arr((void **)&s->b, &s->canb, s->nb, sizeof(*s->b), DOS_MAX_BUCKETS) ||
	     grow_slots(&s->bslot, &s->bmask, s->nb + 1, s->b, sizeof(*s->b))))
		return NULL;
	key.e = eh;
	key.b = h;
	if (!admit(s, key, &ei, name, n))
		return NULL;
	if (ei < 0 && (ei = eni_add(s, eh, name, n)) < 0)
		return NULL; /* out of memory: the key is in the heap, not held (see evict_top) */
	if (!s->bmask && grow_slots(&s->bslot, &s->bmask, s->nb + 1, s->b, sizeof(*s->b)))
		return NULL;
	b = &s->b[s->nb];
	memset(b, 0, sizeof(*b));
	b->h = h;
	b->eni = (uint32_t)ei;
	b->cls = (uint8_t)cls;
	b->minute = minute;
	b->remote = *remote;
	for (k = home(h, s->bmask); s->bslot[k]; k = (k + 1) & s->bmask)
		;
	s->bslot[k] = slot(s->nb, h);
	s->nb++;
	s->eni[ei].nb++;
	*eio = ei;
	return b;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Is r the better "top" record: more packets, ties to the earliest? */
static int top_better(uint64_t pk, const struct mm_evref *r, const struct dos_bucket *b)
{
	return !b->top.file || pk > b->top_pk || (pk == b->top_pk && mm_evref_before(r, &b->top));
}

/* Add src's sums, times, references and details into dst (same key). */
static void bucket_add(struct dos_bucket *d, const struct dos_bucket *src)
{
	if (src->out_pk) {
		if (!d->out_pk || src->first_ms < d->first_ms)
			d->first_ms = src->first_ms;
		if (!d->out_pk || src->last_ms > d->last_ms)
			d->last_ms = src->last_ms;
	}
	d->nrec = (uint16_t)(d->nrec + src->nrec < d->nrec ? UINT16_MAX : d->nrec + src->nrec);
	d->out_pk = sat_add(d->out_pk, src->out_pk);
	d->out_by = sat_add(d->out_by, src->out_by);
	d->out_mpps = sat_add(d->out_mpps, src->out_mpps);
	d->in_pk = sat_add(d->in_pk, src->in_pk);
	d->in_by = sat_add(d->in_by, src->in_by);
	d->reported |= src->reported;
	if (src->first.file && (!d->first.file || mm_evref_before(&src->first, &d->first)))
		d->first = src->first;
	if (src->top.file && top_better(src->top_pk, &src->top, d)) {
		d->top = src->top;
		d->top_pk = src->top_pk;
		d->local = src->local;
		d->lport = src->lport;
		d->rport = src->rport;
		d->proto = src->proto;
		d->blocked = src->blocked;
	}
}

/* ---- classification -------------------------------------------------------- */

/* Not RFC 1918/6598, loopback, link-local, ULA (mm_ip_is_private), nor
 * this-network, multicast or reserved/broadcast: GuardDuty's DoS types
 * are about publicly routable victims. */
static int is_public(const struct mm_ip *ip)
{
	if (mm_ip_is_private(ip))
		return 0;
	if (!ip->v6) {
		uint32_t a = mm_ip_v4(ip);
		return (a >> 24) != 0 && (a >> 28) < 14;
	}
	return ip->b[0] != 0xff;
}

/* Ports whose service runs over TCP only (or where UDP is a fallback a
 * flood tool aims at because a firewall lets the TCP port through):
 * udp sent there at flood rates is UdpOnTcpPorts. */
static int tcp_service_port(uint16_t p)
{
	static const uint16_t ports[] = {21,  22,  23,  25,  80,   110,  143,  443,  445,  465,
					 587, 993, 995, 1433, 3306, 3389, 5432, 5900, 8080, 8443};
	size_t i;
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (ports[i] == p)
			return 1;
	return 0;
}

/* UDP ports of one-way telemetry streams (telemetry_ports). */
static int telemetry_port(uint16_t p)
{
	static const uint16_t ports[] = {162, 514, 2055, 4739, 6343, 8125, 9995, 9996, 12201};
	size_t i;
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (ports[i] == p)
			return 1;
	return 0;
}

/* The class, or -1 for protocols no type covers (icmp, esp, icmpv6). */
static int classify(uint8_t proto, uint16_t lport, uint16_t rport)
{
	switch (proto) {
	case 6:
		return C_TCP;
	case 17:
		if (rport == 53 || lport == 53)
			return C_DNS;
		return tcp_service_port(rport) ? C_UDPTCP : C_UDP;
	case 1:
	case 50:
	case 58:
		return -1;
	default:
		return C_UNUSUAL;
	}
}

/* ---- hooks ----------------------------------------------------------------- */

static void *state_new(void)
{
	return mm_calloc(1, sizeof(struct dos_state));
}

static void state_free(void *st)
{
	struct dos_state *s = st;
	if (!s)
		return;
	mm_free(s->eni);
	mm_free(s->eslot);
	mm_free(s->b);
	mm_free(s->bslot);
	mm_free(s->efree);
	mm_free(s->heap);
	mm_free(s);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* mm_evref_take, with the interned file name remembered: the records of
 * one file share it, and interning takes a lock. */
static void take_ref(struct dos_state *s, struct mm_evref *r, const struct mm_detect_ctx *c,
		     const struct mm_event *ev, int64_t time_ms)
{
	const char *file = c->file && c->file->rel ? c->file->rel : ev->loc.file;
	if (file && file == s->last_name && !strcmp(file, s->last_file)) {
		r->file = s->last_file;
		r->line = ev->loc.line;
		r->offset = ev->loc.offset;
		r->time_ms = time_ms;
		return;
	}
	mm_evref_take(r, c, ev, time_ms);
	s->last_name = file;
	s->last_file = r->file;
}

/* What a record that passed the packet floor adds to: the sides, the
 * class, the ENI's hash. */
struct plan {
	const struct mm_ip *local, *remote;
	uint16_t lport, rport;
	int sl, cls;
	uint64_t eh;	/* eni_get's hash of the name */
	uint64_t bh;	/* bucket_hash of the record's bucket */
};

/* Fill pl for ev; 0 when the record counts, -1 when it is left out. Pure:
 * reads the record and the context only, so a run can be planned (and
 * its state loaded) before any of it is applied. */
static int prep(const struct mm_detect_ctx *c, const struct mm_event *ev, struct plan *pl)
{
	const struct mm_flow *fl = &ev->u.flow;
	const double *p = c->params;
	uint64_t pk = fl->packets < DOS_PKTS_MAX ? fl->packets : DOS_PKTS_MAX;
	uint64_t by = fl->bytes < DOS_PKTS_MAX ? fl->bytes : DOS_PKTS_MAX;
	int64_t dur = fl->end - fl->start;

	if (!fl->has_addrs || !fl->eni.n || fl->start < 0 || fl->start / 60 > DOS_MINUTE_MAX)
		return -1;
	if (dur < 1)
		dur = 1;
	if ((double)pk < p[P_REC_PACKETS] && (double)pk < p[P_REC_PPS] * (double)dur)
		return -1;
	if ((pl->sl = mm_flow_src_is_local(c, fl)) < 0)
		return -1;
	pl->local = pl->sl ? &fl->src : &fl->dst;
	pl->remote = pl->sl ? &fl->dst : &fl->src;
	pl->lport = fl->has_ports ? (pl->sl ? fl->sport : fl->dport) : 0;
	pl->rport = fl->has_ports ? (pl->sl ? fl->dport : fl->sport) : 0;
	if (!is_public(pl->remote) || (pl->cls = classify(fl->proto, pl->lport, pl->rport)) < 0 ||
	    (!pl->sl && fl->action == MM_ACT_REJECT))
		return -1; /* (a blocked inbound packet is no answer) */
	/* inbound tcp matters only as a download's full-size data */
	if (!pl->sl && pl->cls == C_TCP && (double)by < p[P_BULK] * (double)pk)
		return -1;
	pl->eh = eni_hash(fl->eni.p, fl->eni.n);
	pl->bh = bucket_hash(pl->eh, pl->remote, pl->cls, floor_div(fl->start, 60));
	return 0;
}

/* Add the planned record to its bucket. */
static void apply(struct dos_state *s, struct mm_detect_ctx *c, const struct mm_event *ev,
		  const struct plan *pl)
{
	const struct mm_flow *fl = &ev->u.flow;
	uint64_t pk = fl->packets < DOS_PKTS_MAX ? fl->packets : DOS_PKTS_MAX;
	uint64_t by = fl->bytes < DOS_PKTS_MAX ? fl->bytes : DOS_PKTS_MAX;
	int64_t dur = fl->end - fl->start;
	struct dos_bucket *b;
	long ei;

	if (dur < 1)
		dur = 1;
	if (refused(s, pl->eh, pl->bh) ||
	    !(b = bucket_get(s, pl->eh, fl->eni.p, fl->eni.n, pl->remote, pl->cls,
			     floor_div(fl->start, 60), &ei))) {
		s->dropped++;
		return;
	}
	{
		struct dos_eni *e = &s->eni[ei];
		struct mm_str acct = c->file && c->file->account[0] ? mm_str_c(c->file->account)
								     : fl->account;
		if (!e->account[0] && acct.n)
			mm_str_copy(e->account, sizeof(e->account), acct);
		if (!e->region[0])
			mm_str_copy(e->region, sizeof(e->region),
				    fl->region.n ? fl->region
						 : mm_str_c(c->file ? c->file->region : ""));
		if (!e->instance[0] && fl->instance_id.n)
			mm_str_copy(e->instance, sizeof(e->instance), fl->instance_id);
	}
	{
		/* the record as a bucket of one, added like a merge adds */
		struct dos_bucket one;
		memset(&one, 0, sizeof(one));
		one.nrec = 1;
		if (!pl->sl) {
			one.in_pk = pk;
			one.in_by = by;
		} else {
			one.out_pk = pk;
			one.out_by = by;
			one.out_mpps = pk * 1000 / (uint64_t)dur;
			one.first_ms = fl->start * 1000;
			one.last_ms = fl->end * 1000;
			take_ref(s, &one.first, c, ev, fl->start * 1000);
			one.top = one.first;
			one.top_pk = pk;
			one.local = *pl->local;
			one.lport = pl->lport;
			one.rport = pl->rport;
			one.proto = fl->proto;
			one.blocked = fl->action == MM_ACT_REJECT;
		}
		bucket_add(b, &one);
	}
}

/* The smaller of the two per-record floors: a record below both stops
 * at one compare (rate >= min_record_pps needs packets >= it). */
static double floor_of(const double *p)
{
	return p[P_REC_PACKETS] < p[P_REC_PPS] ? p[P_REC_PACKETS] : p[P_REC_PPS];
}

static void on_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	struct plan pl;
	if ((double)ev->u.flow.packets < floor_of(c->params) || prep(c, ev, &pl))
		return;
	apply(st, c, ev, &pl);
}

/* A run: plan every record and ask for its ENI's and its bucket's table
 * slots, then for the ENI and the bucket, then apply, so the misses of
 * a run overlap. Only loads move earlier: the result is on_event's. */
static void on_batch(void *st, struct mm_detect_ctx *c, const struct mm_event *evs, int n)
{
	struct dos_state *s = st;
	struct plan pl[MM_DETECT_BATCH];
	uint64_t bh[MM_DETECT_BATCH];
	signed char ok[MM_DETECT_BATCH];
	double floor = floor_of(c->params);
	int k, any = 0;

	for (k = 0; k < n; k++) {
		ok[k] = (double)evs[k].u.flow.packets >= floor && !prep(c, &evs[k], &pl[k]);
		if (!ok[k])
			continue;
		any = 1;
		bh[k] = pl[k].bh;
		if (refused(s, pl[k].eh, bh[k])) {
			ok[k] = 0;
			s->dropped++;
			continue;
		}
		if (s->emask)
			__builtin_prefetch(&s->eslot[home(pl[k].eh, s->emask)]);
		if (s->bmask)
			__builtin_prefetch(&s->bslot[home(bh[k], s->bmask)]);
	}
	if (!any)
		return;
	for (k = 0; k < n; k++) {
		uint64_t sl;
		if (!ok[k])
			continue;
		if (s->emask && (sl = s->eslot[home(pl[k].eh, s->emask)]))
			__builtin_prefetch(&s->eni[slot_ix(sl)]);
		if (s->bmask && (sl = s->bslot[home(bh[k], s->bmask)]))
			__builtin_prefetch(&s->b[slot_ix(sl)]);
	}
	for (k = 0; k < n; k++)
		if (ok[k])
			apply(s, c, &evs[k], &pl[k]);
}

static int merge(void *dst, void *src)
{
	struct dos_state *d = dst, *s = src;
	size_t i;

	d->dropped += s->dropped;
	d->evicted += s->evicted;
	for (i = 0; i < DOS_SHARDS / 64; i++)
		d->stored[i] |= s->stored[i];
	if (!d->nb && !d->neni && !d->thr_set) {
		/* the first worker merged into an empty state: take its tables
		 * whole (the caller frees src) */
		struct dos_state t = *d;
		*d = *s;
		d->dropped = t.dropped;
		d->evicted = t.evicted;
		memcpy(d->stored, t.stored, sizeof(d->stored));
		t.dropped = t.evicted = 0;
		*s = t;
		return 0;
	}
	/* keys the source refused stay refused (see admit) */
	if (s->thr_set && (!d->thr_set || key_lt(s->thr, d->thr))) {
		d->thr = s->thr;
		d->thr_set = 1;
	}
	for (i = 0; i < s->nb; i++) {
		const struct dos_bucket *sb = &s->b[i];
		const struct dos_eni *se = &s->eni[sb->eni];
		struct dos_bucket *db;
		long ei;
		if (!(db = bucket_get(d, se->h, se->name, strlen(se->name), &sb->remote, sb->cls,
				      sb->minute, &ei))) {
			d->dropped += sb->nrec; /* its records (0: counted in an earlier batch) */
			continue;
		}
		{
			struct dos_eni *de = &d->eni[ei];
			if (!de->account[0])
				memcpy(de->account, se->account, sizeof(de->account));
			if (!de->region[0])
				memcpy(de->region, se->region, sizeof(de->region));
			if (!de->instance[0])
				memcpy(de->instance, se->instance, sizeof(de->instance));
		}
		bucket_add(db, sb);
	}
	return 0;
}

/* Does the minute look like a flood rather than a transfer or a
 * conversation? (The rates were checked by the caller.) */
static int flood_shaped(const struct dos_bucket *b, const double *p)
{
	double bulk = p[P_BULK];

	switch (b->cls) {
	case C_TCP:
		/* not required to be acknowledged: flow logs of uploads can
		 * show few ACK packets (coalesced), and a missed large-packet
		 * flood is better than a backup paging someone */
		if ((double)b->out_by >= bulk * (double)b->out_pk)
			return 0; /* full-size segments: an upload */
		if (b->in_pk && (double)b->in_by >= bulk * (double)b->in_pk && b->in_by >= b->out_by)
			return 0; /* the remote sends data: we are its ACK stream */
		return 1;
	case C_DNS:
		return 1; /* reflection gets its spoofed queries "answered" by design */
	case C_UDP:
		if (p[P_TELEMETRY] != 0 && telemetry_port(b->rport))
			return 0;
		/* fall through */
	default:
		return (double)b->in_pk < p[P_ANSWERED] * (double)b->out_pk;
	}
}

static void emit(struct dos_state *s, struct mm_detect_ctx *c, struct dos_bucket *b)
{
	const struct dos_eni *e = &s->eni[b->eni];
	struct mm_evref refs[2];
	struct mm_finding *f;
	int n = 0, latest;
	char pbuf[8];

	refs[n++] = b->top;
	if (b->first.file && (b->first.file != b->top.file || b->first.line != b->top.line))
		refs[n++] = b->first;
	f = mm_emit_refs(c, types[b->cls], mm_str_c(e->account), mm_str_c(e->name), "", refs, n,
			 b->first_ms, b->last_ms, &latest);
	if (!f)
		return;
	if (!f->region[0])
		snprintf(f->region, sizeof(f->region), "%s", e->region);
	if (!f->instance_id[0])
		snprintf(f->instance_id, sizeof(f->instance_id), "%s", e->instance);
	if (!latest)
		return;
	f->role = MM_ROLE_ACTOR;
	f->direction = MM_DIR_OUTBOUND;
	f->has_remote_ip = 1;
	f->remote_ip = b->remote;
	f->has_local_ip = 1;
	f->local_ip = b->local;
	f->remote_port = b->rport;
	f->local_port = b->lport;
	f->blocked = b->blocked;
	snprintf(f->protocol, sizeof(f->protocol), "%s", mm_proto_name(b->proto, pbuf));
	snprintf(f->caller_type, sizeof(f->caller_type), "Remote IP");
	mm_finding_info_clear(f);
	mm_finding_info_num(f, "packetsPerSecond", (double)(b->out_mpps / 1000));
	mm_finding_info_num(f, "packets", (double)b->out_pk);
}

/* Drop buckets older than the newest by more than keep minutes, and ENIs
 * left without buckets (their shard's row is rewritten at the next save:
 * s->stored remembers which rows hold something). */
static int prune(struct dos_state *s, int64_t keep)
{
	int64_t newest = INT64_MIN;
	size_t i, n = 0, ne = 0, nb0 = s->nb, neni0 = s->neni;
	uint32_t *map = NULL;
	int rc = 0;

	for (i = 0; i < s->nb; i++)
		if (s->b[i].minute > newest)
			newest = s->b[i].minute;
	for (i = 0; i < s->nb; i++)
		if (s->b[i].minute >= newest - keep)
			s->b[n++] = s->b[i];
	s->nb = n;
	if (s->neni && !(map = mm_calloc(s->neni, sizeof(*map))))
		return MM_ENOMEM;
	for (i = 0; i < s->nb; i++)
		map[s->b[i].eni] = 1;
	for (i = 0; i < s->neni; i++) {
		if (!map[i])
			continue;
		s->eni[ne] = s->eni[i];
		map[i] = (uint32_t)ne++;
	}
	s->neni = ne;
	s->nfree = 0; /* freed entries had no bucket: gone */
	for (i = 0; i < s->neni; i++)
		s->eni[i].nb = 0;
	for (i = 0; i < s->nb; i++) {
		s->b[i].eni = map[s->b[i].eni];
		s->eni[s->b[i].eni].nb++;
	}
	mm_free(map);
	if (n == nb0 && ne == neni0)
		return 0; /* nothing moved: the indexes still hold */
	/* rebuild both indexes */
	mm_free(s->eslot);
	mm_free(s->bslot);
	s->eslot = s->bslot = NULL;
	s->emask = s->bmask = 0;
	if ((s->neni && (rc = grow_slots(&s->eslot, &s->emask, s->neni, s->eni, sizeof(*s->eni)))) ||
	    (s->nb && (rc = grow_slots(&s->bslot, &s->bmask, s->nb, s->b, sizeof(*s->b)))))
		return rc;
	return 0;
}

static void finish(void *st, struct mm_detect_ctx *c)
{
	struct dos_state *s = st;
	const double *p = c->params;
	size_t i;

	for (i = 0; i < s->nb; i++) {
		struct dos_bucket *b = &s->b[i];
		b->nrec = 0; /* counted: an eviction in a later batch loses no record of these */
		if (b->reported || (double)b->out_pk < p[P_MIN_PACKETS] ||
		    (double)b->out_mpps < p[P_MIN_PPS] * 1000.0 || !flood_shaped(b, p))
			continue;
		if (c->intel && mm_intel_trusted(c->intel, &b->remote))
			continue; /* your own load-test target, say */
		b->reported = 1;
		emit(s, c, b);
	}
	if (s->dropped || s->evicted) {
		mm_warn("dos: %llu heavy flow records not counted (bounds: %d ENIs, %d buckets; "
			"past them the smallest by hash are kept, %llu given up)",
			(unsigned long long)s->dropped, DOS_MAX_ENIS, DOS_MAX_BUCKETS,
			(unsigned long long)s->evicted);
		s->dropped = s->evicted = 0;
	}
	if (prune(s, (int64_t)p[P_RETAIN]))
		mm_warn("dos: out of memory pruning state");
	/* the next batch is a new bottom-k over what is kept plus what it
	 * brings: a key refused in this batch may be kept from the next one
	 * on (with that batch's records only), like a pruned minute */
	s->thr_set = 0;
	s->heaped = 0;
	s->hn = 0;
}

/* ---- persistence ------------------------------------------------------------
 * DOS_SHARDS rows "shard-000".., the ENIs spread over them by hash (a row
 * per ENI cost a database write per ENI: on a large estate most ENIs hold
 * a bucket or two of ordinary heavy records, and those writes were most
 * of the detector's time). Little-endian:
 *   "DOS2" u32 neni, neni x { str name, u32 count, str account, str region,
 *     str instance, count x { u8 cls reported proto blocked, ip remote,
 *     ip local, u16 lport rport, i64 minute, u64 out_pk out_by out_mpps
 *     in_pk in_by top_pk, i64 first_ms last_ms, ref first, ref top } }
 *   ip = u8 v6 + 16 bytes; str = u8 length + bytes; ref = str file (u16
 *   length) + u64 line, offset + i64 time (file length 0: no reference).
 * A shard whose row held ENIs and now holds none is saved as neni 0
 * (clears the row); one that never held any is not written. */

/* The writer is not the shared codec (blob.h): a reference here is a
 * number in the row's file table, the row's size counts that table before
 * it is written, and put_u's one-store fast path is part of the save's
 * measured cost. The reader below does use the codec. */
struct wr {
	uint8_t *p;
	size_t n, cap;
	int bad;
	/* the row's file names: interned pointers, index + 1 in a small
	 * open-addressing map (reset per row) */
	const char **files;
	size_t nfiles, capfiles, fbytes;	/* fbytes: the file table's size */
	uint32_t *fmap;
	size_t fmask;
};

static size_t fbytes(const struct wr *w)
{
	return w->fbytes;
}

static void put(struct wr *w, const void *v, size_t n)
{
	if (w->bad || !n)
		return;
	if (w->n + n > w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 1024;
		uint8_t *q;
		while (nc < w->n + n)
			nc *= 2;
		if (!(q = mm_realloc(w->p, nc))) {
			w->bad = 1;
			return;
		}
		w->p = q;
		w->cap = nc;
	}
	memcpy(w->p + w->n, v, n);
	w->n += n;
}

static void put_u(struct wr *w, uint64_t v, int bytes)
{
	uint8_t b[8];
	int i;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (!w->bad && w->cap - w->n >= 8) { /* the common case: room */
		memcpy(w->p + w->n, &v, 8);
		w->n += (size_t)bytes;
		return;
	}
#endif
	for (i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, (size_t)bytes);
}

static void put_str(struct wr *w, const char *z, int lenbytes)
{
	size_t n = z ? strlen(z) : 0;
	if (n > (lenbytes == 1 ? 255u : 4095u))
		n = 0;
	put_u(w, n, lenbytes);
	put(w, z, n);
}

static void put_ip(struct wr *w, const struct mm_ip *ip)
{
	put_u(w, ip->v6, 1);
	put(w, ip->b, 16);
}

/* The row-local number of an interned file name (1-based; 0: none). */
static uint32_t file_ix(struct wr *w, const char *file)
{
	size_t k, i;
	if (!file || !file[0])
		return 0;
	if ((w->nfiles + 1) * 2 > w->fmask + 1) {
		size_t nc = w->fmask ? (w->fmask + 1) * 2 : 64;
		uint32_t *nm = mm_calloc(nc, sizeof(*nm));
		const char **nf = mm_realloc(w->files, nc / 2 * sizeof(*nf));
		if (!nm || !nf) {
			mm_free(nm);
			if (nf)
				w->files = nf;
			w->bad = 1;
			return 0;
		}
		w->files = nf;
		mm_free(w->fmap);
		w->fmap = nm;
		w->fmask = nc - 1;
		for (i = 0; i < w->nfiles; i++) {
			k = (size_t)mm_hash_mix((uint64_t)(uintptr_t)w->files[i]) & w->fmask;
			while (w->fmap[k])
				k = (k + 1) & w->fmask;
			w->fmap[k] = (uint32_t)(i + 1);
		}
	}
	for (k = (size_t)mm_hash_mix((uint64_t)(uintptr_t)file) & w->fmask; w->fmap[k];
	     k = (k + 1) & w->fmask)
		if (w->files[w->fmap[k] - 1] == file)
			return w->fmap[k];
	w->files[w->nfiles++] = file;
	w->fbytes += 2 + strlen(file);
	w->fmap[k] = (uint32_t)w->nfiles;
	return w->fmap[k];
}

/* Forget the files numbered past nf (an ENI taken back out of the row). */
static int files_trim(struct wr *w, size_t nf, size_t fb)
{
	size_t i, k;
	w->nfiles = nf;
	w->fbytes = fb;
	memset(w->fmap, 0, (w->fmask + 1) * sizeof(*w->fmap));
	for (i = 0; i < w->nfiles; i++) {
		k = (size_t)mm_hash_mix((uint64_t)(uintptr_t)w->files[i]) & w->fmask;
		while (w->fmap[k])
			k = (k + 1) & w->fmask;
		w->fmap[k] = (uint32_t)(i + 1);
	}
	return 0;
}

static void put_ref(struct wr *w, const struct mm_evref *r)
{
	put_u(w, file_ix(w, r->file), 4);
	put_u(w, r->line, 8);
	put_u(w, r->offset, 8);
	put_u(w, (uint64_t)r->time_ms, 8);
}

static void put_bucket(struct wr *w, const struct dos_bucket *b)
{
	put_u(w, b->cls, 1);
	put_u(w, b->reported, 1);
	put_u(w, b->proto, 1);
	put_u(w, b->blocked, 1);
	put_ip(w, &b->remote);
	put_ip(w, &b->local);
	put_u(w, b->lport, 2);
	put_u(w, b->rport, 2);
	put_u(w, (uint64_t)b->minute, 8);
	put_u(w, b->out_pk, 8);
	put_u(w, b->out_by, 8);
	put_u(w, b->out_mpps, 8);
	put_u(w, b->in_pk, 8);
	put_u(w, b->in_by, 8);
	put_u(w, b->top_pk, 8);
	put_u(w, (uint64_t)b->first_ms, 8);
	put_u(w, (uint64_t)b->last_ms, 8);
	put_ref(w, &b->first);
	put_ref(w, &b->top);
}

static int cmp_newest(const void *a, const void *b)
{
	const struct dos_bucket *x = *(const struct dos_bucket *const *)a;
	const struct dos_bucket *y = *(const struct dos_bucket *const *)b;
	return (x->minute < y->minute) - (x->minute > y->minute);
}

static int save(void *st, int (*putf)(void *, const char *, const void *, size_t), void *pctx)
{
	struct dos_state *s = st;
	size_t *start = NULL, *fill = NULL, i;
	const struct dos_bucket **order = NULL;
	struct wr w = {0}, o = {0};
	size_t shs[DOS_SHARDS + 1], at[DOS_SHARDS + 1];
	int rc = 0, sh;

	if (!s->neni) {
		for (i = 0; i < DOS_SHARDS / 64 && !s->stored[i]; i++)
			;
		if (i == DOS_SHARDS / 64)
			return 0;
	}
	start = mm_calloc(s->neni + 1, sizeof(*start));
	fill = mm_calloc(s->neni + 1, sizeof(*fill));
	order = mm_calloc(s->nb ? s->nb : 1, sizeof(*order));
	if (!start || !fill || !order) {
		rc = MM_ENOMEM;
		goto out;
	}
	for (i = 0; i < s->nb; i++)
		start[s->b[i].eni + 1]++;
	for (i = 0; i < s->neni; i++)
		start[i + 1] += start[i];
	for (i = 0; i < s->nb; i++)
		order[start[s->b[i].eni] + fill[s->b[i].eni]++] = &s->b[i];
	/* the ENIs with buckets, by shard (fill reused: ENI indexes) */
	for (i = 0; i <= DOS_SHARDS; i++)
		shs[i] = 0;
	for (i = 0; i < s->neni; i++)
		if (start[i + 1] > start[i])
			shs[(s->eni[i].h >> 56) % DOS_SHARDS + 1]++;
	for (i = 0; i < DOS_SHARDS; i++)
		shs[i + 1] += shs[i];
	memcpy(at, shs, sizeof(at));
	for (i = 0; i < s->neni; i++)
		if (start[i + 1] > start[i])
			fill[at[(s->eni[i].h >> 56) % DOS_SHARDS]++] = i;
	for (sh = 0; sh < DOS_SHARDS && !rc; sh++) {
		size_t j;
		uint32_t neni = 0;
		char ent[16];
		w.n = 0;
		w.nfiles = 0;
		w.fbytes = 0;
		if (w.fmap)
			memset(w.fmap, 0, (w.fmask + 1) * sizeof(*w.fmap));
		for (j = shs[sh]; j < shs[sh + 1]; j++) {
			size_t n, k, before = w.n, nf = w.nfiles, fb = fbytes(&w);
			struct dos_eni *e;
			i = fill[j];
			e = &s->eni[i];
			n = start[i + 1] - start[i];
			if (n > DOS_BLOB_MAX) {
				qsort(order + start[i], n, sizeof(*order), cmp_newest);
				n = DOS_BLOB_MAX;
			}
			put_str(&w, e->name, 1);
			put_u(&w, n, 4);
			put_str(&w, e->account, 1);
			put_str(&w, e->region, 1);
			put_str(&w, e->instance, 1);
			for (k = 0; k < n; k++)
				put_bucket(&w, order[start[i] + k]);
			if (12 + fbytes(&w) + w.n > DOS_ROW_MAX) {
				/* the row is full: this ENI is not kept (counted
				 * and warned about like any bound) */
				w.n = before;
				if (w.nfiles != nf && files_trim(&w, nf, fb))
					w.bad = 1;
				s->dropped += n;
				continue;
			}
			neni++;
		}
		if (!neni && !(s->stored[sh / 64] >> (sh % 64) & 1))
			continue;
		o.n = 0;
		put(&o, "DOS2", 4);
		put_u(&o, neni, 4);
		put_u(&o, w.nfiles, 4);
		for (i = 0; i < w.nfiles; i++)
			put_str(&o, w.files[i], 2);
		put(&o, w.p, w.n);
		if (w.bad || o.bad) {
			rc = MM_ENOMEM;
			break;
		}
		snprintf(ent, sizeof(ent), "shard-%03d", sh);
		rc = putf(pctx, ent, o.p, o.n);
		if (neni)
			s->stored[sh / 64] |= 1ULL << (sh % 64);
		else
			s->stored[sh / 64] &= ~(1ULL << (sh % 64));
	}
out:
	mm_free(w.p);
	mm_free(w.files);
	mm_free(w.fmap);
	mm_free(o.p);
	mm_free(start);
	mm_free(fill);
	mm_free(order);
	return rc;
}

/* The row's reader: the shared codec (blob.h) plus the row's file table,
 * which a reference names by number (1-based; 0: none). */
struct rd {
	struct mm_blob_rd b;
	uint64_t nfiles;
	const char **files;	/* interned; NULL while validating */
};

static void get_ref(struct rd *r, struct mm_evref *ref)
{
	uint64_t f = mm_blob_get_u(&r->b, 4);
	ref->line = mm_blob_get_u(&r->b, 8);
	ref->offset = mm_blob_get_u(&r->b, 8);
	ref->time_ms = (int64_t)mm_blob_get_u(&r->b, 8);
	ref->file = NULL;
	if (f > r->nfiles)
		r->b.bad = 1;
	else if (f && r->files)
		ref->file = r->files[f - 1];
	else if (f)
		ref->file = ""; /* validating: any non-NULL */
}

static void get_bucket(struct rd *r, struct dos_bucket *b)
{
	memset(b, 0, sizeof(*b));
	b->cls = (uint8_t)mm_blob_get_u(&r->b, 1);
	b->reported = (uint8_t)mm_blob_get_u(&r->b, 1);
	b->proto = (uint8_t)mm_blob_get_u(&r->b, 1);
	b->blocked = (uint8_t)mm_blob_get_u(&r->b, 1);
	mm_blob_get_ip(&r->b, &b->remote);
	mm_blob_get_ip(&r->b, &b->local);
	b->lport = (uint16_t)mm_blob_get_u(&r->b, 2);
	b->rport = (uint16_t)mm_blob_get_u(&r->b, 2);
	b->minute = (int64_t)mm_blob_get_u(&r->b, 8);
	b->out_pk = mm_blob_get_u(&r->b, 8);
	b->out_by = mm_blob_get_u(&r->b, 8);
	b->out_mpps = mm_blob_get_u(&r->b, 8);
	b->in_pk = mm_blob_get_u(&r->b, 8);
	b->in_by = mm_blob_get_u(&r->b, 8);
	b->top_pk = mm_blob_get_u(&r->b, 8);
	b->first_ms = (int64_t)mm_blob_get_u(&r->b, 8);
	b->last_ms = (int64_t)mm_blob_get_u(&r->b, 8);
	get_ref(r, &b->first);
	get_ref(r, &b->top);
	if (b->cls >= C__COUNT || b->reported > 1 || b->blocked > 1 || b->minute < 0 ||
	    b->minute > DOS_MINUTE_MAX || (b->out_pk && !b->top.file))
		r->b.bad = 1;
}

/* One ENI's group: its header, then (with s) its buckets into the state
 * (validate with s NULL first: a malformed row never touches the state). */
static int load_eni(struct dos_state *s, struct rd *r)
{
	char name[32], acct[16], region[24], inst[24];
	uint64_t count, k;
	long ei = -1;

	mm_blob_get_str(&r->b, name, sizeof(name), 1);
	count = mm_blob_get_u(&r->b, 4);
	mm_blob_get_str(&r->b, acct, sizeof(acct), 1);
	mm_blob_get_str(&r->b, region, sizeof(region), 1);
	mm_blob_get_str(&r->b, inst, sizeof(inst), 1);
	if (r->b.bad || !name[0] || !count || count > DOS_BLOB_MAX)
		return MM_EFORMAT;
	for (k = 0; k < count && !r->b.bad; k++) {
		struct dos_bucket b, *d;
		struct dos_eni *e;
		get_bucket(r, &b);
		if (!s || r->b.bad)
			continue;
		if (!(d = bucket_get(s, eni_hash(name, strlen(name)), name, strlen(name), &b.remote,
				     b.cls, b.minute, &ei))) {
			s->dropped++;
			continue;
		}
		bucket_add(d, &b);
		e = &s->eni[ei];
		if (!e->account[0])
			snprintf(e->account, sizeof(e->account), "%s", acct);
		if (!e->region[0])
			snprintf(e->region, sizeof(e->region), "%s", region);
		if (!e->instance[0])
			snprintf(e->instance, sizeof(e->instance), "%s", inst);
	}
	return r->b.bad ? MM_EFORMAT : 0;
}

static int load(void *st, const char *entity, int version, const void *blob, size_t n)
{
	struct dos_state *s = st;
	struct rd r = {{NULL, NULL, 0}, 0, NULL};
	uint64_t neni, k;
	const unsigned char *body;
	int sh, rc = 0;

	(void)version;
	if (strncmp(entity, "shard-", 6) || entity[6] < '0' || entity[6] > '9' ||
	    entity[7] < '0' || entity[7] > '9' || entity[8] < '0' || entity[8] > '9' || entity[9] ||
	    (sh = (entity[6] - '0') * 100 + (entity[7] - '0') * 10 + entity[8] - '0') >= DOS_SHARDS)
		return MM_EFORMAT;
	if (n < 12 || memcmp(blob, "DOS2", 4))
		return MM_EFORMAT;
	mm_blob_rd_init(&r.b, (const unsigned char *)blob + 4, n - 4);
	neni = mm_blob_get_u(&r.b, 4);
	r.nfiles = mm_blob_get_u(&r.b, 4);
	/* every file is named by some reference: at most two per bucket */
	if (neni > DOS_MAX_ENIS || r.nfiles > 2 * (uint64_t)DOS_MAX_BUCKETS)
		return MM_EFORMAT;
	for (k = 0; k < r.nfiles && !r.b.bad; k++) {
		char file[4096];
		mm_blob_get_str(&r.b, file, sizeof(file), 2);
		if (!r.b.bad && !file[0])
			r.b.bad = 1;
	}
	if (r.b.bad)
		return MM_EFORMAT;
	body = r.b.p;
	/* validate the whole row before it touches the state */
	for (k = 0; k < neni && !rc; k++)
		rc = load_eni(NULL, &r);
	if (rc || r.b.p != r.b.end)
		return MM_EFORMAT;
	if (!neni)
		return 0; /* a cleared row: nothing to hold, nothing to clear again */
	if (r.nfiles && !(r.files = mm_calloc((size_t)r.nfiles, sizeof(*r.files))))
		return MM_ENOMEM;
	r.b.p = (const unsigned char *)blob + 12;
	for (k = 0; k < r.nfiles; k++) {
		char file[4096];
		mm_blob_get_str(&r.b, file, sizeof(file), 2);
		r.files[k] = mm_intern(file, strlen(file));
	}
	s->stored[sh / 64] |= 1ULL << (sh % 64);
	r.b.p = body;
	for (k = 0; k < neni && !rc; k++)
		rc = load_eni(s, &r);
	mm_free(r.files);
	return rc;
}

const struct mm_detector_def mm_det_dos = {
	.name = "dos",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.state_version = 2,
	.types = types,
	.params = params,
	.state_new = state_new,
	.state_free = state_free,
	.on_event = on_event,
	.on_batch = on_batch,
	.merge = merge,
	.finish = finish,
	.save = save,
	.load = load,
};
