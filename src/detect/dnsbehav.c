/* dnsbehav.c - DNS behaviour from Route 53 Resolver query logs
 * (docs/finding-types.md, "dnsbehav", has the logic and reasons in prose):
 *
 *   Trojan:EC2/DNSDataExfiltration    per (instance, registered base
 *       domain, hour): at least exfil_min_queries distinct long,
 *       high-entropy subdomain parts (the data a tunnel carries);
 *   Trojan:EC2/DGADomainRequest.B      per (instance, hour): at least
 *       dga_min_domains distinct registered domains whose label scores as
 *       generated (dgascore.h), most of them answered NXDOMAIN;
 *   UnauthorizedAccess:EC2/MetadataDNSRebind   a name outside AWS's own
 *       whose answer is an A (AAAA) record of the instance metadata
 *       service, 169.254.169.254 (fd00:ec2::254); stateless.
 *
 * State: per entity (the instance id, else "ip:" and the asking address,
 * as the threat-intel DNS findings name it) a few hourly windows, each
 * with a bottom-K set (the K = 64 smallest 64-bit hashes) of what it
 * counts. The union of two bottom-K sets is the bottom-K set of the
 * union, so merge is exact whatever the split of files among threads,
 * and the count min(distinct, 64) decides any threshold up to 64. A
 * window's decision is taken in finish on the merged state and
 * remembered (done), so a later flush or scan does not count it twice;
 * windows more than retain_hours behind the newest hour of any entity
 * are pruned at finish, and their records, if they arrive even later,
 * start a new window; an entity left without windows is saved once as
 * an empty blob (its stored row emptied) and dropped. Bounds: EXFIL_MAX (base, hour) windows and DGA_MAX hour
 * windows per entity (when full, the oldest window gives way), K hashes
 * and REFS evidence records per window; a saved entity stays far below
 * the store's 1 MiB blob limit.
 *
 * Per record: the entity hash, one backwards scan of the name for its
 * base domain, and nothing else unless the name is long (exfiltration) or
 * its base label is new to the per-worker score cache (DGA). No
 * allocation except when a new window opens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/json.h"
#include "core/mem.h"
#include "detect/blob.h"
#include "detect/detect.h"
#include "detect/dgascore.h"

#define T_EXFIL "Trojan:EC2/DNSDataExfiltration"
#define T_DGA "Trojan:EC2/DGADomainRequest.B"
#define T_REBIND "UnauthorizedAccess:EC2/MetadataDNSRebind"

#define SET_MAX 64	/* bottom-K: the most any count threshold can be */
#define REFS 4		/* evidence records kept per window */
#define EXFIL_MAX 64	/* (base domain, hour) windows per entity */
#define DGA_MAX 48	/* hour windows per entity */
#define NAME_CAP 96	/* a base domain or DGA name kept for the finding */
#define KEY_CAP 48	/* entity key: "i-0123456789abcdef0" or "ip:<address>" */
#define CACHE_SLOTS 4096	/* DGA scores by base label */
#define NAME_SLOTS 8192		/* names that need nothing */
#define HOUR_MS 3600000LL
#define BLOB_MAGIC 0x31424e44u	/* "DNB1" */
#define FILE_CAP 512	/* an evidence file name is saved cut to this */

enum {
	P_EXFIL_MIN,
	P_EXFIL_LABEL,
	P_EXFIL_SUB,
	P_EXFIL_ENTROPY,
	P_DGA_SCORE,
	P_DGA_MIN,
	P_DGA_NX,
	P_RETAIN,
};

static const struct mm_param params[] = {
	{"exfil_min_queries", 50, 5, SET_MAX, "names",
	 "distinct long random subdomain parts per (instance, base domain) per hour: DNS tunnels "
	 "(iodine, dnscat2, DNSExfiltrator) send hundreds to thousands of queries a minute, while a "
	 "CDN or service with hashed host names is asked a handful of distinct names an hour"},
	{"exfil_label_len", 30, 16, 63, "characters",
	 "a subdomain label at least this long counts as carrying data: tunnels fill labels to "
	 "their 63-byte limit; real host names and CDN hashes are mostly shorter"},
	{"exfil_sub_len", 50, 20, 253, "characters",
	 "or subdomain labels adding up to this many characters (data split over several shorter "
	 "labels, as dnscat2 does)"},
	{"exfil_entropy", 3.3, 1, 6, "bits/char",
	 "Shannon entropy of the subdomain part: encoded data (hex ~3.6-4, base32 ~4.3 over 30-60 "
	 "characters) is above it; repeated or padded words are below"},
	{"dga_score", 55, 1, 100, "score",
	 "dgascore.c's 0-100 score of the registered-domain label at or above which it looks "
	 "generated: 0.2 % of ~570 real popular domains reach 55, 94 % of 71 samples of 20 DGA "
	 "families do (tests/unit/test_dnsbehav.c)"},
	{"dga_min_domains", 10, 2, SET_MAX, "domains",
	 "distinct generated-looking registered domains per instance per hour: a DGA bot tries "
	 "tens to thousands a run until one resolves; an odd brand name that scores high is one "
	 "domain"},
	{"dga_nx_share", 0.5, 0, 1, "fraction",
	 "share of those domains answered NXDOMAIN, at least: most generated names are not "
	 "registered, while real random-looking names resolve"},
	{"retain_hours", 48, 2, 720, "hours",
	 "hourly windows kept behind the newest hour seen, for records that arrive late (files "
	 "delivered out of order, a later scan of an earlier day); older ones are dropped after "
	 "their decision"},
	{NULL, 0, 0, 0, NULL, NULL},
};

struct refs {
	uint8_t n;
	struct mm_evref r[REFS];
};

/* One (base domain, hour) of exfiltration candidates. */
struct xwin {
	int64_t hour, first, last;
	uint64_t bh;		/* hash of base */
	uint8_t n, done;
	uint64_t h[SET_MAX];	/* ascending: the smallest hashes of distinct subdomain parts */
	struct refs rf;
	char base[NAME_CAP];
};

/* One hour of generated-looking registered domains. h's low bit is 1
 * when the domain was answered NXDOMAIN; the rest is its hash. */
struct gwin {
	int64_t hour, first, last;
	uint8_t n, done;
	uint64_t h[SET_MAX];
	struct refs rf;
	struct mm_evref name_ref;	/* the latest such query: its name is shown */
	char name[NAME_CAP];
};

struct ent {
	uint64_t kh;
	int gone;		/* no window left: saved empty, then dropped */
	char key[KEY_CAP];
	char acct[16], region[24];
	int nx, ng, capx, capg;
	struct xwin *x;
	struct gwin *g;
};

struct cache_slot {
	uint64_t h;	/* hash of the base label + 1; 0 empty */
	int score;
};

struct state {
	struct ent **tab;	/* open addressing by kh */
	size_t cap, n;
	uint64_t dropped;	/* windows that gave way at a bound */
	struct cache_slot cache[CACHE_SLOTS];
	uint64_t names[NAME_SLOTS];	/* hash | 1 of names as logged; 0 empty */
};

/* ---- small pieces ------------------------------------------------------ */

static void refs_add(struct refs *rf, const struct mm_evref *r)
{
	mm_evref_keep(rf->r, &rf->n, REFS, r);
}

/* Bottom-K insert of v (mask: the bits that identify; the rest are
 * flags OR-ed on a duplicate). */
static void set_add(uint64_t *h, uint8_t *n, uint64_t v, uint64_t mask)
{
	int i, j;
	for (i = 0; i < *n && (h[i] & mask) < (v & mask); i++)
		;
	if (i < *n && (h[i] & mask) == (v & mask)) {
		h[i] |= v & ~mask;
		return;
	}
	if (i >= SET_MAX)
		return;
	j = *n < SET_MAX ? *n : SET_MAX - 1;
	memmove(&h[i + 1], &h[i], (size_t)(j - i) * sizeof(h[0]));
	h[i] = v;
	if (*n < SET_MAX)
		(*n)++;
}

static struct state *st_new(void)
{
	struct state *s = mm_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = 64;
	if (!(s->tab = mm_calloc(s->cap, sizeof(s->tab[0])))) {
		mm_free(s);
		return NULL;
	}
	return s;
}

static void ent_free(struct ent *e)
{
	if (!e)
		return;
	mm_free(e->x);
	mm_free(e->g);
	mm_free(e);
}

static void state_free(void *p)
{
	struct state *s = p;
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->cap; i++)
		ent_free(s->tab[i]);
	mm_free(s->tab);
	mm_free(s);
}

static void *state_new(void)
{
	return st_new();
}

static struct ent **slot_of(struct state *s, uint64_t kh, const char *key, size_t kn)
{
	size_t i = (size_t)kh & (s->cap - 1);
	while (s->tab[i]) {
		struct ent *e = s->tab[i];
		if (e->kh == kh && strlen(e->key) == kn && memcmp(e->key, key, kn) == 0)
			return &s->tab[i];
		i = (i + 1) & (s->cap - 1);
	}
	return &s->tab[i];
}

static int grow(struct state *s)
{
	size_t ncap = s->cap * 2, i;
	struct ent **nt = mm_calloc(ncap, sizeof(nt[0]));
	if (!nt)
		return MM_ENOMEM;
	for (i = 0; i < s->cap; i++) {
		size_t j;
		if (!s->tab[i])
			continue;
		j = (size_t)s->tab[i]->kh & (ncap - 1);
		while (nt[j])
			j = (j + 1) & (ncap - 1);
		nt[j] = s->tab[i];
	}
	mm_free(s->tab);
	s->tab = nt;
	s->cap = ncap;
	return 0;
}

/* The entity for key, created when absent (NULL on out of memory). */
static struct ent *ent_get(struct state *s, const char *key, size_t kn)
{
	uint64_t kh;
	struct ent **sl, *e;

	if (kn >= KEY_CAP)
		kn = KEY_CAP - 1;
	kh = mm_hash(key, kn, 0x646e73);
	sl = slot_of(s, kh, key, kn);
	if (*sl)
		return *sl;
	if ((s->n + 1) * 4 > s->cap * 3) {
		if (grow(s))
			return NULL;
		sl = slot_of(s, kh, key, kn);
	}
	if (!(e = mm_calloc(1, sizeof(*e))))
		return NULL;
	e->kh = kh;
	memcpy(e->key, key, kn);
	*sl = e;
	s->n++;
	return e;
}

/* The window for (bh, hour), opened when absent; NULL when it cannot be
 * (out of memory, or the bound and the window is older than all held). */
static struct xwin *xwin_get(struct state *s, struct ent *e, uint64_t bh, int64_t hour)
{
	int i, old = -1;
	for (i = 0; i < e->nx; i++) {
		if (e->x[i].hour == hour && e->x[i].bh == bh)
			return &e->x[i];
		if (old < 0 || e->x[i].hour < e->x[old].hour ||
		    (e->x[i].hour == e->x[old].hour && e->x[i].bh < e->x[old].bh))
			old = i;
	}
	if (e->nx == EXFIL_MAX) {
		s->dropped++;
		if (hour < e->x[old].hour || (hour == e->x[old].hour && bh < e->x[old].bh))
			return NULL;
		i = old;
	} else {
		if (e->nx == e->capx) {
			int nc = e->capx ? e->capx * 2 : 2;
			struct xwin *nx = mm_realloc(e->x, (size_t)nc * sizeof(*nx));
			if (!nx)
				return NULL;
			e->x = nx;
			e->capx = nc;
		}
		i = e->nx++;
	}
	memset(&e->x[i], 0, sizeof(e->x[i]));
	e->x[i].hour = hour;
	e->x[i].bh = bh;
	return &e->x[i];
}

static struct gwin *gwin_get(struct state *s, struct ent *e, int64_t hour)
{
	int i, old = -1;
	for (i = 0; i < e->ng; i++) {
		if (e->g[i].hour == hour)
			return &e->g[i];
		if (old < 0 || e->g[i].hour < e->g[old].hour)
			old = i;
	}
	if (e->ng == DGA_MAX) {
		s->dropped++;
		if (hour < e->g[old].hour)
			return NULL;
		i = old;
	} else {
		if (e->ng == e->capg) {
			int nc = e->capg ? e->capg * 2 : 2;
			struct gwin *ng = mm_realloc(e->g, (size_t)nc * sizeof(*ng));
			if (!ng)
				return NULL;
			e->g = ng;
			e->capg = nc;
		}
		i = e->ng++;
	}
	memset(&e->g[i], 0, sizeof(e->g[i]));
	e->g[i].hour = hour;
	return &e->g[i];
}

static void times_add(int64_t *first, int64_t *last, int64_t f, int64_t l)
{
	if (!*first || f < *first)
		*first = f;
	if (!*last || l > *last)
		*last = l;
}

/* ---- what a name is ------------------------------------------------------ */

/* Registered domains whose long hashed host names are how
 * the service works, not a tunnel: AWS, the big CDNs and clouds, reverse
 * lookups, resolver-internal names, anti-malware services that look
 * file hashes up over DNS, and the DNS blocklists mail servers query. Neither exfiltration nor DGA is counted under
 * them. */
#define Q(z) {z, sizeof(z) - 1}
static const struct {
	const char *z;
	size_t n;
} quiet_bases[] = {
	Q("amazonaws.com"), Q("amazonaws.com.cn"), Q("amazon.com"), Q("awsstatic.com"),
	Q("cloudfront.net"), Q("akamaiedge.net"), Q("akamai.net"), Q("akamaihd.net"),
	Q("akamaized.net"), Q("edgekey.net"), Q("edgesuite.net"), Q("akadns.net"),
	Q("akamaitechnologies.com"), Q("azureedge.net"), Q("azurefd.net"), Q("trafficmanager.net"),
	Q("cloudapp.net"), Q("windows.net"), Q("microsoft.com"), Q("googleapis.com"),
	Q("googleusercontent.com"), Q("gvt1.com"), Q("1e100.net"), Q("fastly.net"),
	Q("fastlylb.net"), Q("cloudflare.net"), Q("sophosxl.net"), Q("mcafee.com"),
	Q("compute.internal"), Q("ec2.internal"),
	/* mail servers' blocklist lookups: reversed IPv6 addresses (32
	 * nibbles) plus an access key make long, random, distinct names */
	Q("spamhaus.org"), Q("spamhaus.net"), Q("spamcop.net"), Q("sorbs.net"),
	Q("barracudacentral.org"), Q("surbl.org"), Q("uribl.com"), Q("mailspike.net"), Q("dnswl.org"),
}, quiet_tlds[] = {
	/* top-level names that never leave the network, and reverse lookups */
	Q("arpa"), Q("aws"), Q("internal"), Q("local"), Q("localdomain"), Q("localhost"), Q("lan"),
	Q("home"), Q("intranet"), Q("corp"),
};
#undef Q

static int quiet(const char *base, size_t n)
{
	size_t k;
	const char *tld = base + n;
	while (tld > base && tld[-1] != '.')
		tld--;
	for (k = 0; k < MM_ARRAY_LEN(quiet_tlds); k++)
		if ((size_t)(base + n - tld) == quiet_tlds[k].n && memcmp(tld, quiet_tlds[k].z, quiet_tlds[k].n) == 0)
			return 1;
	for (k = 0; k < MM_ARRAY_LEN(quiet_bases); k++)
		if (quiet_bases[k].n == n && base[0] == quiet_bases[k].z[0] &&
		    memcmp(base, quiet_bases[k].z, n) == 0)
			return 1;
	return 0;
}

/* The resource a DNS record's findings go to: the instance, else the
 * asking address (as detect/threatintel.c names it). 0 if none. */
static size_t entity_key(const struct mm_dns *q, char *buf, size_t cap)
{
	char ipbuf[MM_IP_STRLEN];
	if (q->instance_id.n)
		return mm_str_copy(buf, cap, q->instance_id);
	if (q->has_src)
		return (size_t)snprintf(buf, cap, "ip:%s", mm_ip_format(&q->src, ipbuf));
	return 0;
}

static int is_nx(const struct mm_dns *q)
{
	return mm_str_eqz(q->rcode, "NXDOMAIN");
}

static void ent_ctx(struct ent *e, const struct mm_detect_ctx *c, const struct mm_dns *q)
{
	if (!e->acct[0]) {
		if (c->file && c->file->account[0])
			snprintf(e->acct, sizeof(e->acct), "%s", c->file->account);
		else
			mm_str_copy(e->acct, sizeof(e->acct), q->account);
	}
	if (!e->region[0] && q->region.n)
		mm_str_copy(e->region, sizeof(e->region), q->region);
}

/* ---- metadata rebinding (no state) --------------------------------------- */

/* Does the text hold either address at all? Every record with answers
 * comes here, so it is a few vectorised memchr calls: a '9' of
 * "169.254.169.254" (rare in answers: digits of other addresses, few
 * nines) and a ':' of "fd00:ec2::254" (the JSON's three or four colons). */
static int imds_text(const char *p, size_t n)
{
	const char *end = p + n, *x;
	for (x = p + 2; x < end && (x = memchr(x, '9', (size_t)(end - x))); x++)
		if ((size_t)(end - (x - 2)) >= 15 && memcmp(x - 2, "169.254.169.254", 15) == 0)
			return 1;
	for (x = p + 4; x < end && (x = memchr(x, ':', (size_t)(end - x))); x++)
		if ((size_t)(end - (x - 4)) >= 13 && memcmp(x - 4, "fd00:ec2::254", 13) == 0)
			return 1;
	return 0;
}

/* Does the answers array hold an A (1) or AAAA (2) record of the
 * metadata service? 0 if not. */
static int answers_imds(struct mm_str a)
{
	struct mm_json_val arr, el, v;
	struct mm_json_iter it, ot;
	struct mm_str k;

	arr.type = MM_JSON_ARRAY;
	arr.p = a.p;
	arr.n = a.n;
	if (mm_json_iter_init(&it, &arr))
		return 0;
	while (mm_json_iter_next(&it, &k, &el) == 1) {
		struct mm_str type = {NULL, 0}, rdata = {NULL, 0};
		if (el.type != MM_JSON_OBJECT || mm_json_iter_init(&ot, &el))
			continue;
		while (mm_json_iter_next(&ot, &k, &v) == 1) {
			if (v.type != MM_JSON_STRING || v.n < 2)
				continue;
			if (mm_str_eqz(k, "Type"))
				type = mm_str_make(v.p + 1, v.n - 2);
			else if (mm_str_eqz(k, "Rdata"))
				rdata = mm_str_make(v.p + 1, v.n - 2);
		}
		if (mm_str_eqz(type, "A") && mm_str_eqz(rdata, "169.254.169.254"))
			return 1;
		if (mm_str_eqz(type, "AAAA") && mm_str_eqz(rdata, "fd00:ec2::254"))
			return 2;
	}
	return 0;
}

static void rebind(struct mm_detect_ctx *c, const struct mm_event *ev, const char *key,
		   const char *lname, int has_base, size_t boff, size_t blen, int v6)
{
	const struct mm_dns *q = &ev->u.dns;
	struct mm_finding *f;
	int latest;

	/* AWS's own names for the metadata service (instance-data,
	 * instance-data.ec2.internal, ...) resolve there by design */
	if (!has_base || quiet(lname + boff, blen))
		return;
	f = mm_emit(c, T_REBIND, c->file && c->file->account[0] ? mm_str_c(c->file->account) : q->account,
		    mm_str_c(key), "", ev, q->time_ms, q->time_ms, &latest);
	if (!f || !latest)
		return;
	mm_finding_set_dns(f, q);
	mm_finding_info_clear(f);
	mm_finding_info_str(f, "resolvedAddress", v6 ? "fd00:ec2::254" : "169.254.169.254");
}

/* ---- per record -------------------------------------------------------- */

/* Remember that a name as logged needs nothing (no candidate for
 * either count): most resolver traffic repeats a few names. */
static void boring(struct state *s, uint64_t nh)
{
	s->names[nh & (NAME_SLOTS - 1)] = nh;
}

static void on_event(void *state, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	struct state *s = state;
	const struct mm_dns *q = &ev->u.dns;
	const double *P = c->params;
	char key[KEY_CAP], lname[MM_DNS_NAME_MAX + 1];
	size_t kn, n, boff = 0, blen = 0, i, maxlab = 0, lab = 0, subchars = 0, ln;
	int has_base, cand = 0, imds;
	int64_t hour;
	uint64_t nh;
	struct mm_evref r;
	struct ent *e;
	const char *dot;
	struct cache_slot *cs;

	n = q->qname.n;
	if (n && q->qname.p[n - 1] == '.')
		n--;
	if (n == 0 || n > MM_DNS_NAME_MAX)
		return;
	nh = mm_hash(q->qname.p, n, 5) | 1;
	imds = q->answers.n && imds_text(q->answers.p, q->answers.n);
	if (s->names[nh & (NAME_SLOTS - 1)] == nh && !imds)
		return; /* seen, nothing to count, no metadata address */
	if (!(kn = entity_key(q, key, sizeof(key))))
		return;
	for (i = 0; i < n; i++) {
		char ch = q->qname.p[i];
		lname[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
	}
	lname[n] = '\0';
	has_base = mm_dns_base(lname, n, &boff, &blen) == 0;
	if (imds && (imds = answers_imds(q->answers)))
		rebind(c, ev, key, lname, has_base, boff, blen, imds == 2);
	if (s->names[nh & (NAME_SLOTS - 1)] == nh)
		return;
	if (!has_base || quiet(lname + boff, blen)) {
		boring(s, nh);
		return;
	}
	hour = q->time_ms / HOUR_MS;

	/* exfiltration: the part left of the base (boff - 1 bytes) */
	if (boff > 1) {
		for (i = 0; i + 1 < boff; i++) {
			if (lname[i] == '.') {
				lab = 0;
				continue;
			}
			subchars++;
			if (++lab > maxlab)
				maxlab = lab;
		}
		if ((maxlab >= (size_t)P[P_EXFIL_LABEL] || subchars >= (size_t)P[P_EXFIL_SUB]) &&
		    mm_dns_entropy(lname, boff - 1) >= P[P_EXFIL_ENTROPY]) {
			uint64_t bh = mm_hash(lname + boff, blen, 1);
			struct xwin *w;
			cand = 1;
			if ((e = ent_get(s, key, kn)) && (w = xwin_get(s, e, bh, hour))) {
				ent_ctx(e, c, q);
				if (!w->base[0])
					mm_str_copy(w->base, sizeof(w->base), mm_str_make(lname + boff, blen));
				set_add(w->h, &w->n, mm_hash(lname, boff - 1, 2), ~0ULL);
				mm_evref_take(&r, c, ev, q->time_ms);
				refs_add(&w->rf, &r);
				times_add(&w->first, &w->last, q->time_ms, q->time_ms);
			}
		}
	}

	/* DGA: the base label's score, cached by its hash */
	dot = memchr(lname + boff, '.', blen);
	ln = dot ? (size_t)(dot - (lname + boff)) : blen;
	if (ln >= MM_DGA_MIN_LEN) {
		uint64_t lh = mm_hash(lname + boff, ln, 3) | 1;
		struct gwin *w;
		cs = &s->cache[(lh >> 20) & (CACHE_SLOTS - 1)];
		if (cs->h != lh) {
			cs->h = lh;
			cs->score = mm_dga_score(lname + boff, ln);
		}
		if (cs->score >= P[P_DGA_SCORE]) {
			cand = 1;
			if ((e = ent_get(s, key, kn)) && (w = gwin_get(s, e, hour))) {
				ent_ctx(e, c, q);
				set_add(w->h, &w->n,
					(mm_hash(lname + boff, blen, 4) & ~1ULL) | (uint64_t)is_nx(q), ~1ULL);
				mm_evref_take(&r, c, ev, q->time_ms);
				refs_add(&w->rf, &r);
				times_add(&w->first, &w->last, q->time_ms, q->time_ms);
				if (!w->name[0] || mm_evref_before(&w->name_ref, &r)) {
					w->name_ref = r;
					mm_str_copy(w->name, sizeof(w->name), mm_str_make(lname + boff, blen));
				}
			}
		}
	}
	if (!cand)
		boring(s, nh);
}

/* ---- merge ------------------------------------------------------------- */

static void refs_merge(struct refs *d, const struct refs *s)
{
	int i;
	for (i = 0; i < s->n; i++)
		refs_add(d, &s->r[i]);
}

static int ent_merge(struct state *s, struct ent *d, const struct ent *src)
{
	int i, j;
	if (!d->acct[0])
		memcpy(d->acct, src->acct, sizeof(d->acct));
	if (!d->region[0])
		memcpy(d->region, src->region, sizeof(d->region));
	for (i = 0; i < src->nx; i++) {
		const struct xwin *sw = &src->x[i];
		struct xwin *w = xwin_get(s, d, sw->bh, sw->hour);
		if (!w) {
			if (d->nx < EXFIL_MAX)
				return MM_ENOMEM;
			continue;
		}
		if (!w->base[0])
			memcpy(w->base, sw->base, sizeof(w->base));
		for (j = 0; j < sw->n; j++)
			set_add(w->h, &w->n, sw->h[j], ~0ULL);
		refs_merge(&w->rf, &sw->rf);
		times_add(&w->first, &w->last, sw->first, sw->last);
		w->done |= sw->done;
	}
	for (i = 0; i < src->ng; i++) {
		const struct gwin *sw = &src->g[i];
		struct gwin *w = gwin_get(s, d, sw->hour);
		if (!w) {
			if (d->ng < DGA_MAX)
				return MM_ENOMEM;
			continue;
		}
		for (j = 0; j < sw->n; j++)
			set_add(w->h, &w->n, sw->h[j], ~1ULL);
		refs_merge(&w->rf, &sw->rf);
		times_add(&w->first, &w->last, sw->first, sw->last);
		w->done |= sw->done;
		if (sw->name[0] && (!w->name[0] || mm_evref_before(&w->name_ref, &sw->name_ref))) {
			w->name_ref = sw->name_ref;
			memcpy(w->name, sw->name, sizeof(w->name));
		}
	}
	return 0;
}

static int merge(void *dst, void *src)
{
	struct state *d = dst, *s = src;
	size_t i;
	int rc;
	for (i = 0; i < s->cap; i++) {
		struct ent *se = s->tab[i], *de;
		if (!se)
			continue;
		if (!(de = ent_get(d, se->key, strlen(se->key))))
			return MM_ENOMEM;
		if (!de->x && !de->g) {
			/* new here: take src's windows as they are (src is
			 * freed after the merge), which is what merging them
			 * into nothing gives, without a second copy of them
			 * at the flush's peak (bench DNS file: 7.6 MB) */
			if (!de->acct[0])
				memcpy(de->acct, se->acct, sizeof(de->acct));
			if (!de->region[0])
				memcpy(de->region, se->region, sizeof(de->region));
			de->x = se->x;
			de->nx = se->nx;
			de->capx = se->capx;
			de->g = se->g;
			de->ng = se->ng;
			de->capg = se->capg;
			se->x = NULL;
			se->g = NULL;
			se->nx = se->ng = se->capx = se->capg = 0;
			continue;
		}
		if ((rc = ent_merge(d, de, se)))
			return rc;
	}
	d->dropped += s->dropped;
	return 0;
}

/* ---- finish ------------------------------------------------------------ */

static void fill(struct mm_finding *f, const struct ent *e, const char *domain)
{
	if (e->region[0])
		snprintf(f->region, sizeof(f->region), "%s", e->region);
	f->role = MM_ROLE_ACTOR;
	f->direction = MM_DIR_OUTBOUND;
	snprintf(f->domain, sizeof(f->domain), "%s", domain);
	snprintf(f->protocol, sizeof(f->protocol), "UDP");
	snprintf(f->caller_type, sizeof(f->caller_type), "Domain");
	mm_finding_info_clear(f); /* the latest window's counts only */
}

static void finish(void *state, struct mm_detect_ctx *c)
{
	struct state *s = state;
	const double *P = c->params;
	int64_t newest = INT64_MIN;
	size_t i;
	int j, k, latest;

	/* the newest hour of any entity: windows far behind it are pruned,
	 * so an instance that went quiet (or away) leaves no state behind */
	for (i = 0; i < s->cap; i++) {
		struct ent *e = s->tab[i];
		for (j = 0; e && j < e->nx; j++)
			if (e->x[j].hour > newest)
				newest = e->x[j].hour;
		for (j = 0; e && j < e->ng; j++)
			if (e->g[j].hour > newest)
				newest = e->g[j].hour;
	}
	for (i = 0; i < s->cap; i++) {
		struct ent *e = s->tab[i];
		if (!e)
			continue;
		for (j = 0; j < e->nx; j++) {
			struct xwin *w = &e->x[j];
			struct mm_finding *f;
			if (w->done || w->n < (int)P[P_EXFIL_MIN] || !w->rf.n)
				continue;
			w->done = 1;
			f = mm_emit_refs(c, T_EXFIL, mm_str_c(e->acct), mm_str_c(e->key), w->base, w->rf.r,
					 w->rf.n, w->first, w->last, &latest);
			if (!f || !latest)
				continue;
			fill(f, e, w->base);
			mm_finding_info_num(f, "distinctSubdomains", w->n);
		}
		for (j = 0; j < e->ng; j++) {
			struct gwin *w = &e->g[j];
			struct mm_finding *f;
			int nx = 0;
			if (w->done || w->n < (int)P[P_DGA_MIN] || !w->rf.n)
				continue;
			for (k = 0; k < w->n; k++)
				nx += (int)(w->h[k] & 1);
			if ((double)nx < P[P_DGA_NX] * (double)w->n)
				continue;
			w->done = 1;
			f = mm_emit_refs(c, T_DGA, mm_str_c(e->acct), mm_str_c(e->key), "", w->rf.r,
					 w->rf.n, w->first, w->last, &latest);
			if (!f || !latest)
				continue;
			fill(f, e, w->name);
			mm_finding_info_num(f, "generatedDomains", w->n);
			mm_finding_info_num(f, "nxdomain", nx);
		}
		for (j = 0; j < e->nx;)
			if (e->x[j].hour < newest - (int64_t)P[P_RETAIN])
				e->x[j] = e->x[--e->nx];
			else
				j++;
		for (j = 0; j < e->ng;)
			if (e->g[j].hour < newest - (int64_t)P[P_RETAIN])
				e->g[j] = e->g[--e->ng];
			else
				j++;
		/* saved once more, empty, so its stored row is emptied too; then
		 * dropped (save) */
		e->gone = !e->nx && !e->ng;
	}
}

/* ---- save / load ------------------------------------------------------- */

static int put_s(struct mm_buf *b, const char *z, size_t max)
{
	return mm_blob_put_str(b, z, 2, max);
}

static int put_ref(struct mm_buf *b, const struct mm_evref *r)
{
	return mm_blob_put_ref(b, r, FILE_CAP);
}

static int put_refs(struct mm_buf *b, const struct refs *rf)
{
	int i;
	if (mm_blob_put_u(b, rf->n, 1))
		return -1;
	for (i = 0; i < rf->n; i++)
		if (put_ref(b, &rf->r[i]))
			return -1;
	return 0;
}

static int put_set(struct mm_buf *b, const uint64_t *h, uint8_t n)
{
	int i;
	if (mm_blob_put_u(b, n, 1))
		return -1;
	for (i = 0; i < n; i++)
		if (mm_blob_put_u(b, h[i], 8))
			return -1;
	return 0;
}

/* Remove the entities finish found empty (after save stored them so). */
static void drop_gone(struct state *s)
{
	struct ent **old = s->tab;
	size_t cap = s->cap, i, j;
	struct ent **nt = mm_calloc(cap, sizeof(nt[0]));

	if (!nt)
		return; /* kept: they are empty, and tried again at the next save */
	s->n = 0;
	for (i = 0; i < cap; i++) {
		struct ent *e = old[i];
		if (!e)
			continue;
		if (e->gone) {
			ent_free(e);
			continue;
		}
		j = (size_t)e->kh & (cap - 1);
		while (nt[j])
			j = (j + 1) & (cap - 1);
		nt[j] = e;
		s->n++;
	}
	mm_free(old);
	s->tab = nt;
}

static int xwin_cmp(const void *a, const void *b)
{
	const struct xwin *x = a, *y = b;
	if (x->hour != y->hour)
		return x->hour < y->hour ? -1 : 1;
	return x->bh < y->bh ? -1 : x->bh > y->bh;
}

static int gwin_cmp(const void *a, const void *b)
{
	const struct gwin *x = a, *y = b;
	return x->hour < y->hour ? -1 : x->hour > y->hour;
}

static int ref_cmp(const void *a, const void *b)
{
	return mm_evref_before(a, b) ? -1 : mm_evref_before(b, a);
}

/* Windows by (hour, base), evidence by (time, file, line): what is saved
 * depends on the state, not on the order records arrived in. */
static void canon(struct ent *e)
{
	int j;
	if (e->nx)
		qsort(e->x, (size_t)e->nx, sizeof(e->x[0]), xwin_cmp);
	if (e->ng)
		qsort(e->g, (size_t)e->ng, sizeof(e->g[0]), gwin_cmp);
	for (j = 0; j < e->nx; j++)
		qsort(e->x[j].rf.r, e->x[j].rf.n, sizeof(struct mm_evref), ref_cmp);
	for (j = 0; j < e->ng; j++)
		qsort(e->g[j].rf.r, e->g[j].rf.n, sizeof(struct mm_evref), ref_cmp);
}

static int save(void *state, int (*put)(void *pctx, const char *entity, const void *blob, size_t n),
		void *pctx)
{
	struct state *s = state;
	struct mm_buf b;
	size_t i;
	int j, rc = 0;

	mm_buf_init(&b, 1 << 20);
	for (i = 0; i < s->cap && !rc; i++) {
		struct ent *e = s->tab[i];
		if (!e)
			continue;
		if (e->gone) {
			rc = put(pctx, e->key, "", 0);
			continue;
		}
		mm_buf_reset(&b);
		canon(e);
		if (mm_blob_put_u(&b, BLOB_MAGIC, 4) || put_s(&b, e->acct, 15) || put_s(&b, e->region, 23) ||
		    mm_blob_put_u(&b, (uint64_t)e->nx, 2) || mm_blob_put_u(&b, (uint64_t)e->ng, 2)) {
			rc = MM_ENOMEM;
			break;
		}
		for (j = 0; j < e->nx && !rc; j++) {
			const struct xwin *w = &e->x[j];
			if (mm_blob_put_u(&b, (uint64_t)w->hour, 8) || mm_blob_put_u(&b, (uint64_t)w->first, 8) ||
			    mm_blob_put_u(&b, (uint64_t)w->last, 8) || mm_blob_put_u(&b, w->bh, 8) || mm_blob_put_u(&b, w->done, 1) ||
			    put_s(&b, w->base, NAME_CAP - 1) || put_set(&b, w->h, w->n) || put_refs(&b, &w->rf))
				rc = MM_ENOMEM;
		}
		for (j = 0; j < e->ng && !rc; j++) {
			const struct gwin *w = &e->g[j];
			if (mm_blob_put_u(&b, (uint64_t)w->hour, 8) || mm_blob_put_u(&b, (uint64_t)w->first, 8) ||
			    mm_blob_put_u(&b, (uint64_t)w->last, 8) || mm_blob_put_u(&b, w->done, 1) ||
			    put_s(&b, w->name, NAME_CAP - 1) || put_ref(&b, &w->name_ref) ||
			    put_set(&b, w->h, w->n) || put_refs(&b, &w->rf))
				rc = MM_ENOMEM;
		}
		if (!rc)
			rc = put(pctx, e->key, b.p, b.len);
	}
	mm_buf_free(&b);
	if (!rc)
		drop_gone(s);
	return rc;
}

static void get_ref(struct mm_blob_rd *r, struct mm_evref *e)
{
	mm_blob_get_ref(r, e, FILE_CAP);
}

static void get_refs(struct mm_blob_rd *r, struct refs *rf)
{
	int i;
	rf->n = (uint8_t)mm_blob_get_u(r, 1);
	if (rf->n > REFS) {
		r->bad = 1;
		return;
	}
	for (i = 0; i < rf->n && !r->bad; i++)
		get_ref(r, &rf->r[i]);
}

/* A set: ascending by the identifying bits, no duplicates. */
static void get_set(struct mm_blob_rd *r, uint64_t *h, uint8_t *n, uint64_t mask)
{
	int i;
	*n = (uint8_t)mm_blob_get_u(r, 1);
	if (*n > SET_MAX) {
		r->bad = 1;
		return;
	}
	for (i = 0; i < *n && !r->bad; i++) {
		h[i] = mm_blob_get_u(r, 8);
		if (i && (h[i] & mask) <= (h[i - 1] & mask))
			r->bad = 1;
	}
}

static int load(void *state, const char *entity, int version, const void *blob, size_t n)
{
	struct state *s = state;
	struct mm_blob_rd r;
	struct ent *tmp = NULL, *d;
	int j, rc = MM_EPARSE;

	(void)version;
	if (!entity || !*entity || strlen(entity) >= KEY_CAP)
		goto out;
	if (n == 0)
		return 0; /* an entity whose windows all aged out */
	if (!(tmp = mm_calloc(1, sizeof(*tmp))))
		goto out;
	mm_blob_rd_init(&r, blob, n);
	if (mm_blob_get_u(&r, 4) != BLOB_MAGIC)
		goto out;
	mm_blob_get_str(&r, tmp->acct, sizeof(tmp->acct), 2);
	mm_blob_get_str(&r, tmp->region, sizeof(tmp->region), 2);
	tmp->nx = (int)mm_blob_get_u(&r, 2);
	tmp->ng = (int)mm_blob_get_u(&r, 2);
	if (r.bad || tmp->nx > EXFIL_MAX || tmp->ng > DGA_MAX)
		goto out;
	if ((tmp->nx && !(tmp->x = mm_calloc((size_t)tmp->nx, sizeof(*tmp->x)))) ||
	    (tmp->ng && !(tmp->g = mm_calloc((size_t)tmp->ng, sizeof(*tmp->g))))) {
		rc = MM_ENOMEM;
		goto out;
	}
	tmp->capx = tmp->nx;
	tmp->capg = tmp->ng;
	for (j = 0; j < tmp->nx && !r.bad; j++) {
		struct xwin *w = &tmp->x[j];
		w->hour = (int64_t)mm_blob_get_u(&r, 8);
		w->first = (int64_t)mm_blob_get_u(&r, 8);
		w->last = (int64_t)mm_blob_get_u(&r, 8);
		w->bh = mm_blob_get_u(&r, 8);
		w->done = (uint8_t)mm_blob_get_u(&r, 1);
		mm_blob_get_str(&r, w->base, sizeof(w->base), 2);
		get_set(&r, w->h, &w->n, ~0ULL);
		get_refs(&r, &w->rf);
	}
	for (j = 0; j < tmp->ng && !r.bad; j++) {
		struct gwin *w = &tmp->g[j];
		w->hour = (int64_t)mm_blob_get_u(&r, 8);
		w->first = (int64_t)mm_blob_get_u(&r, 8);
		w->last = (int64_t)mm_blob_get_u(&r, 8);
		w->done = (uint8_t)mm_blob_get_u(&r, 1);
		mm_blob_get_str(&r, w->name, sizeof(w->name), 2);
		get_ref(&r, &w->name_ref);
		get_set(&r, w->h, &w->n, ~1ULL);
		get_refs(&r, &w->rf);
	}
	if (r.bad || r.p != r.end)
		goto out;
	if (!(d = ent_get(s, entity, strlen(entity)))) {
		rc = MM_ENOMEM;
		goto out;
	}
	rc = ent_merge(s, d, tmp);
out:
	ent_free(tmp);
	return rc;
}

static const char *const types[] = {T_EXFIL, T_DGA, T_REBIND, NULL};

const struct mm_detector_def mm_det_dnsbehav = {
	.name = "dnsbehav",
	.kinds = MM_KIND_BIT(MM_EV_DNS),
	.state_version = 1,
	.types = types,
	.params = params,
	.state_new = state_new,
	.state_free = state_free,
	.on_event = on_event,
	.merge = merge,
	.finish = finish,
	.save = save,
	.load = load,
};
