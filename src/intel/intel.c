/* intel.c - threat-intelligence and trusted-IP sets (see intel.h).
 *
 * Two phases. Loading parses list files line by line into pending arrays
 * (prefixes, IP:port entries, domains) whose strings live in a chunked
 * string pool. mm_intel_build then freezes the set:
 *
 *  - All CIDRs (a bare address is a /32 or /128) form a laminar family:
 *    two prefixes are either disjoint or nested. Sorted by (start, length)
 *    a stack sweep gives every prefix its parent (the next shorter prefix
 *    containing it) and cuts the address space into disjoint segments, each
 *    pointing at the deepest prefix covering it. A lookup finds the segment,
 *    then walks the parent chain taking the first node of each list: that
 *    is the longest prefix of that list, so overlapping entries of different
 *    lists each give one hit. The chain is short: at most one node per
 *    (list, prefix length) and the walk stops when the caller's array is
 *    full.
 *  - IPv4 segments are split at /16 boundaries and indexed by the top 16
 *    bits (a 65537-entry offset table), storing only the low 16 bits, so a
 *    miss in an empty /16 costs two adjacent loads and a hit a short
 *    search inside one bucket. IPv6 segments are searched by bisection.
 *  - IP:port entries and domains go to open-addressing hash tables keyed
 *    with mm_hash. Domain lookups try the name and then each parent suffix.
 *
 * Queries never allocate and only read, so a built set is safe to share
 * between threads. */
#include "intel/intel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/common.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"

__extension__ typedef unsigned __int128 u128;

#define NONE UINT32_MAX
#define MAX_LINE 4096		/* longer lines are errors */
#define MAX_DOMAIN 253
#define MAX_LISTS 65535
#define POOL_CHUNK (64 * 1024)
#define READ_BUF (256 * 1024)
#define HASH_SEED 0x6d616d6f7269ULL

/* ---- storage ---------------------------------------------------------- */

struct lst {
	char *name;
	enum mm_intel_cat cat;
};

/* A pending CIDR; lo is the network address as a number (IPv4 in the
 * low 32 bits). seq keeps the sort deterministic for duplicates. */
struct pfx {
	u128 lo;
	const char *ind;
	uint32_t seq;
	uint16_t list;
	uint8_t plen;
	uint8_t v6;
};

struct node {
	const char *ind;
	uint32_t parent;
	uint16_t list;
};

struct r4 {
	uint16_t lo, hi;	/* low 16 bits; the bucket gives the high 16 */
	uint32_t node;
};

struct r6 {
	u128 lo, hi;
	uint32_t node;
};

#define BM24_MIN_RANGES 4096	/* smaller sets: tab4 and r4 stay in cache */

struct ipidx {
	uint64_t bm4[1024];	/* bit per /16 bucket: any range there? (8 KB, stays in L1) */
	uint32_t *tab4;		/* 65537 offsets into r4 */
	/* bit per /24 with any range (2 MiB), built for big sets only: with
	 * 100k scattered entries most /16s hold one, so bm4 rarely says no
	 * and a miss cost tab4 and r4 (two more dependent cache misses per
	 * flow record's remote; ~6% of a 10M-record scan's CPU); NULL when
	 * there are few ranges */
	uint64_t *bm24;
	struct r4 *r4;
	size_t nr4, capr4;
	struct node *n4;
	struct r6 *r6;
	size_t nr6, capr6;
	struct node *n6;
};

struct portent {
	struct mm_ip ip;
	uint16_t port;
	uint16_t list;
	const char *ind;
};

struct doment {
	const char *name;	/* normalised, NUL-terminated, in the pool */
	uint64_t h;
	uint16_t len;
	uint16_t list;
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

struct mm_intel {
	struct lst *lists;
	size_t nlists, caplists;
	struct pfx *pf, *tpf;	/* threat / trusted prefixes (until build) */
	size_t npf, cappf, ntpf, captpf;
	struct portent *pe;
	size_t npe, cappe;
	struct doment *de;
	size_t nde, capde;
	struct chunk *pool;
	uint64_t count, max;
	uint32_t seq;
	int built;
	struct ipidx thr, tru;
	uint32_t *ptab, *dtab;	/* slot = entry index + 1, 0 = empty */
	size_t pmask, dmask;
	/* a filter before the per-suffix probes: the hashes (| 1; 0 empty)
	 * of every entry's last two labels, and whether any entry is one
	 * label (an overlay TLD) */
	uint64_t *s2tab;
	size_t s2mask;
	int has_tld;
};

/* Grow *p (elements of size sz) so that it holds at least need. */
static int vgrow(void *pp, size_t *cap, size_t need, size_t sz)
{
	void **p = pp;
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / sz)
		return MM_ENOMEM;
	np = mm_realloc(*p, ncap * sz);
	if (!np)
		return MM_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* NUL-terminated copy of n bytes in the pool (n < POOL_CHUNK). */
static const char *pool_dup(struct mm_intel *in, const char *s, size_t n)
{
	struct chunk *c = in->pool;
	char *d;

	if (!c || c->cap - c->used < n + 1) {
		size_t cap = MM_MAX((size_t)POOL_CHUNK, n + 1);
		c = mm_malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = in->pool;
		c->used = 0;
		c->cap = cap;
		in->pool = c;
	}
	d = c->data + c->used;
	memcpy(d, s, n);
	d[n] = '\0';
	c->used += n + 1;
	return d;
}

/* ---- categories ------------------------------------------------------- */

static const char *const cat_names[MM_CAT__COUNT] = {
	"custom", "mining", "c2", "tor", "torexit", "blackhole", "droppoint", "scanner",
	"abused", "bitcoin", "malicious", "suspicious", "driveby", "phishing", "dga",
};

const char *mm_intel_cat_name(enum mm_intel_cat c)
{
	if ((int)c < 0 || c >= MM_CAT__COUNT)
		return NULL;
	return cat_names[c];
}

int mm_intel_cat_parse(const char *word, enum mm_intel_cat *out)
{
	int i;

	if (!word)
		return MM_EINVAL;
	for (i = 0; i < MM_CAT__COUNT; i++) {
		if (strcasecmp(word, cat_names[i]) == 0) {
			*out = (enum mm_intel_cat)i;
			return 0;
		}
	}
	return MM_EINVAL;
}

/* ---- lifecycle -------------------------------------------------------- */

int mm_intel_new(struct mm_intel **out)
{
	struct mm_intel *in = mm_calloc(1, sizeof(*in));

	*out = NULL;
	if (!in)
		return MM_ENOMEM;
	in->max = MM_INTEL_MAX_ENTRIES;
	*out = in;
	return 0;
}

static void ipidx_free(struct ipidx *x)
{
	mm_free(x->tab4);
	mm_free(x->bm24);
	mm_free(x->r4);
	mm_free(x->n4);
	mm_free(x->r6);
	mm_free(x->n6);
	memset(x, 0, sizeof(*x));
}

void mm_intel_free(struct mm_intel *in)
{
	size_t i;

	if (!in)
		return;
	for (i = 0; i < in->nlists; i++)
		mm_free(in->lists[i].name);
	mm_free(in->lists);
	mm_free(in->pf);
	mm_free(in->tpf);
	mm_free(in->pe);
	mm_free(in->de);
	mm_free(in->ptab);
	mm_free(in->dtab);
	mm_free(in->s2tab);
	ipidx_free(&in->thr);
	ipidx_free(&in->tru);
	while (in->pool) {
		struct chunk *next = in->pool->next;
		mm_free(in->pool);
		in->pool = next;
	}
	mm_free(in);
}

void mm__intel_set_max(struct mm_intel *in, uint64_t max)
{
	in->max = max;
}

uint64_t mm_intel_count(const struct mm_intel *in)
{
	return in ? in->count : 0;
}

/* ---- parsing helpers ---------------------------------------------------- */

struct ld {
	struct mm_intel *in;
	const char *path;	/* for "path:line: reason" */
	struct mm_err *err;
	struct mm_intel_load_stats st;
	uint64_t line;
	uint16_t list;
	int trusted;
	int adblock;		/* "[Adblock ...]" header seen: only ||rules count */
	uint64_t shown;		/* problems printed for this load (MM_LOG_LIST_LIMIT) */
};

static int is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Print a problem with this list, within the list's own budget. */
static void say(struct ld *c, const char *reason)
{
	if (c->shown++ < MM_LOG_LIST_LIMIT)
		mm_log_list_error(c->path, c->line, reason);
}

static void bad(struct ld *c, const char *reason)
{
	c->st.errors++;
	say(c, reason);
}

/* An entry that would match everything: refused, said, counted. */
static int refuse(struct ld *c, const char *t, size_t n)
{
	char msg[160];

	c->st.refused++;
	snprintf(msg, sizeof(msg), "entry '%.*s%s' would match everything; skipped",
		 (int)MM_MIN(n, (size_t)80), t, n > 80 ? "..." : "");
	say(c, msg);
	return 0;
}

/* Public suffixes (and AWS's own service domains) that a list entry
 * would turn into "every name under them": a short table, not the whole
 * Public Suffix List, for the mistakes seen in practice. */
static int is_public_suffix(const char *name, size_t n)
{
	static const char *const sfx[] = {
		"co.uk",     "org.uk",	  "ac.uk",	   "gov.uk",	"com.au",   "net.au",
		"org.au",    "co.jp",	  "ne.jp",	   "or.jp",	"com.br",   "com.cn",
		"net.cn",    "org.cn",	  "co.in",	   "co.kr",	"com.mx",   "co.nz",
		"co.za",     "com.tr",	  "com.tw",	   "com.hk",	"com.sg",   "amazonaws.com",
		"aws",	     "cloudfront.net", "amazonaws.com.cn", "in-addr.arpa", "ip6.arpa",
	};
	size_t i;

	for (i = 0; i < MM_ARRAY_LEN(sfx); i++)
		if (strlen(sfx[i]) == n && memcmp(sfx[i], name, n) == 0)
			return 1;
	return 0;
}

/* Single labels that are not ICANN top-level domains but overlay
 * networks or alternative roots: every name under them is suspicious in
 * itself, so lists carry them bare on purpose (maltrail's ".onion"). */
static int is_overlay_tld(const char *name, size_t n)
{
	static const char *const tld[] = {"onion", "i2p", "bit", "exit", "tor", "loki",
					  "emc", "coin", "lib", "bazar"};
	size_t i;

	for (i = 0; i < MM_ARRAY_LEN(tld); i++)
		if (strlen(tld[i]) == n && memcmp(tld[i], name, n) == 0)
			return 1;
	return 0;
}

/* Lowercase, strip "*." / "." in front and one "." behind, validate.
 * out must hold MAX_DOMAIN + 1 bytes. Returns NULL or the reason. */
static const char *norm_domain(const char *s, size_t n, char *out, size_t *outn)
{
	size_t i, lab = 0, k = 0;
	int alldigit = 1;

	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	} else if (n >= 1 && s[0] == '.') {
		s++;
		n--;
	}
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0)
		return "empty domain";
	if (n > MAX_DOMAIN)
		return "domain longer than 253 characters";
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch == '.') {
			if (lab == 0)
				return "empty label in domain";
			if (out[k - 1] == '-')
				return "domain label ends with '-'";
			lab = 0;
			alldigit = 1;
		} else if ((ch >= 'a' && ch <= 'z') || ch == '-' || ch == '_' ||
			   (ch >= '0' && ch <= '9')) {
			if (++lab > 63)
				return "domain label longer than 63 characters";
			if (lab == 1 && ch == '-')
				return "domain label starts with '-'";
			if (ch < '0' || ch > '9')
				alldigit = 0;
		} else {
			return "not an IP, CIDR or domain";
		}
		out[k++] = ch;
	}
	if (lab == 0)
		return "empty label in domain";
	if (out[k - 1] == '-')
		return "domain label ends with '-'";
	/* a numeric last label is a mistyped address, never a DNS name */
	if (alldigit)
		return "bad IP address";
	out[k] = '\0';
	*outn = k;
	return NULL;
}

static int parse_port(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return MM_EPARSE;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MM_EPARSE;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return MM_EPARSE;
	*out = (uint16_t)v;
	return 0;
}

/* "addr/len"; unlike mm_cidr_parse, IPv4-mapped IPv6 prefixes
 * (::ffff:0:0/96 and longer) become the IPv4 prefix they denote. */
static int parse_cidr(const char *s, size_t n, struct mm_ip *ip, int *plen)
{
	const char *slash = memchr(s, '/', n);
	size_t an = (size_t)(slash - s), i;
	int len = 0, max, bit;

	if (!slash || mm_ip_parse(s, an, ip))
		return MM_EPARSE;
	max = memchr(s, ':', an) ? 128 : 32;
	if (n - an - 1 == 0 || n - an - 1 > 3)
		return MM_EPARSE;
	for (i = an + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MM_EPARSE;
		len = len * 10 + (s[i] - '0');
	}
	if (len > max)
		return MM_EPARSE;
	if (max == 128 && !ip->v6) {
		if (len < 96)
			return MM_EPARSE;
		len -= 96;
	}
	max = ip->v6 ? 128 : 32;
	for (bit = len; bit < max; bit++)
		ip->b[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	*plen = len;
	return 0;
}

static u128 ip_num(const struct mm_ip *ip)
{
	u128 v = 0;
	int i;

	if (!ip->v6)
		return mm_ip_v4(ip);
	for (i = 0; i < 16; i++)
		v = (v << 8) | ip->b[i];
	return v;
}

static int take_entry(struct ld *c)
{
	if (c->in->count >= c->in->max)
		return mm_err_set(c->err, MM_ETOOBIG, "%s:%llu: more than %llu intel entries", c->path,
				  (unsigned long long)c->line, (unsigned long long)c->in->max);
	c->in->count++;
	return 0;
}

static int add_pfx(struct ld *c, const struct mm_ip *ip, int plen, const char *t, size_t n,
		   int is_cidr)
{
	struct mm_intel *in = c->in;
	struct pfx *arr;
	size_t *np, *cap;
	int rc;

	if (is_cidr && (plen == 0 || (!c->trusted && plen < (ip->v6 ? MM_INTEL_MIN_PLEN6
									  : MM_INTEL_MIN_PLEN4))))
		return refuse(c, t, n);
	if ((rc = take_entry(c)))
		return rc;
	np = c->trusted ? &in->ntpf : &in->npf;
	cap = c->trusted ? &in->captpf : &in->cappf;
	if (c->trusted)
		rc = vgrow(&in->tpf, cap, *np + 1, sizeof(struct pfx));
	else
		rc = vgrow(&in->pf, cap, *np + 1, sizeof(struct pfx));
	if (rc)
		return mm_err_set(c->err, rc, "%s: out of memory", c->path);
	arr = c->trusted ? in->tpf : in->pf;
	arr[*np].lo = ip_num(ip);
	arr[*np].ind = c->trusted ? NULL : pool_dup(in, t, n);
	if (!c->trusted && !arr[*np].ind)
		return mm_err_set(c->err, MM_ENOMEM, "%s: out of memory", c->path);
	arr[*np].seq = in->seq++;
	arr[*np].list = c->list;
	arr[*np].plen = (uint8_t)plen;
	arr[*np].v6 = ip->v6;
	(*np)++;
	if (is_cidr)
		c->st.cidrs++;
	else
		c->st.ips++;
	return 0;
}

static int add_port(struct ld *c, const struct mm_ip *ip, uint16_t port, const char *t, size_t n)
{
	struct mm_intel *in = c->in;
	struct portent *e;
	int rc;

	if (c->trusted) {	/* a trusted list trusts addresses, not ports */
		c->st.skipped++;
		return 0;
	}
	if ((rc = take_entry(c)))
		return rc;
	if (vgrow(&in->pe, &in->cappe, in->npe + 1, sizeof(*in->pe)))
		return mm_err_set(c->err, MM_ENOMEM, "%s: out of memory", c->path);
	e = &in->pe[in->npe];
	e->ip = *ip;
	e->port = port;
	e->list = c->list;
	e->ind = pool_dup(in, t, n);
	if (!e->ind)
		return mm_err_set(c->err, MM_ENOMEM, "%s: out of memory", c->path);
	in->npe++;
	c->st.ip_ports++;
	return 0;
}

static int add_domain(struct ld *c, const char *t, size_t n)
{
	struct mm_intel *in = c->in;
	char name[MAX_DOMAIN + 1];
	size_t nn = 0, i;
	const char *why;
	struct doment *e;
	int rc;

	if (c->trusted) {	/* trusted lists hold addresses only */
		c->st.skipped++;
		return 0;
	}
	for (i = 0; i < n && (t[i] == '.' || t[i] == '*'); i++)
		;
	if (i == n)		/* ".", "*", "*.": the root, every name */
		return refuse(c, t, n);
	if ((why = norm_domain(t, n, name, &nn))) {
		bad(c, why);
		return 0;
	}
	if ((!memchr(name, '.', nn) && !is_overlay_tld(name, nn)) || is_public_suffix(name, nn))
		return refuse(c, t, n);
	if ((rc = take_entry(c)))
		return rc;
	if (vgrow(&in->de, &in->capde, in->nde + 1, sizeof(*in->de)))
		return mm_err_set(c->err, MM_ENOMEM, "%s: out of memory", c->path);
	e = &in->de[in->nde];
	e->name = pool_dup(in, name, nn);
	if (!e->name)
		return mm_err_set(c->err, MM_ENOMEM, "%s: out of memory", c->path);
	e->len = (uint16_t)nn;
	e->h = mm_hash(name, nn, HASH_SEED);
	e->list = c->list;
	in->nde++;
	c->st.domains++;
	return 0;
}

/* One indicator token (no whitespace). Returns 0 or a fatal code. */
static int entry(struct ld *c, const char *t, size_t n)
{
	struct mm_ip ip;
	const char *sch, *slash, *colon;
	uint16_t port;
	int plen;

	/* "://" is rare in a list (an IP or a domain per line): look for its
	 * ':' first, memmem only where there is one */
	sch = n > 3 && memchr(t, ':', n) ? memmem(t, n, "://", 3) : NULL;
	if (sch) {
		/* keep a bare scheme://host[:port][/]; anything with a path is a
		 * URL trail we cannot match on flows or DNS */
		const char *host = sch + 3;
		size_t rest = n - (size_t)(host - t), h = 0;
		while (h < rest && host[h] != '/' && host[h] != '?' && host[h] != '#')
			h++;
		if (rest - h > 1 || (rest - h == 1 && host[h] != '/')) {
			c->st.skipped++;
			return 0;
		}
		if (h == 0) {
			bad(c, "URL without a host");
			return 0;
		}
		t = host;
		n = h;
	}
	if (t[0] == '/') {	/* maltrail path trail */
		c->st.skipped++;
		return 0;
	}
	if (t[0] == '[') {	/* [v6] or [v6]:port */
		const char *rb = memchr(t, ']', n);
		size_t an = rb ? (size_t)(rb - t - 1) : 0;
		if (!rb || mm_ip_parse(t + 1, an, &ip)) {
			bad(c, "bad bracketed IPv6 address");
			return 0;
		}
		if ((size_t)(rb - t) + 1 == n)
			return add_pfx(c, &ip, ip.v6 ? 128 : 32, t + 1, an, 0);
		if (rb[1] != ':' || parse_port(rb + 2, n - (size_t)(rb - t) - 2, &port)) {
			bad(c, "bad port after bracketed IPv6 address");
			return 0;
		}
		return add_port(c, &ip, port, t, n);
	}
	slash = memchr(t, '/', n);
	if (slash) {
		char tmp[MAX_DOMAIN + 1];
		size_t tn;
		if (mm_ip_parse(t, (size_t)(slash - t), &ip) == 0) {
			if (parse_cidr(t, n, &ip, &plen)) {
				bad(c, "bad CIDR prefix length");
				return 0;
			}
			return add_pfx(c, &ip, plen, t, n, 1);
		}
		if (!norm_domain(t, (size_t)(slash - t), tmp, &tn)) {
			c->st.skipped++;	/* host/path: URL without scheme */
			return 0;
		}
		bad(c, "not an IP, CIDR or domain");
		return 0;
	}
	if (mm_ip_parse(t, n, &ip) == 0)
		return add_pfx(c, &ip, ip.v6 ? 128 : 32, t, n, 0);
	colon = memchr(t, ':', n);
	if (colon) {
		size_t hn = (size_t)(colon - t);
		if (memchr(colon + 1, ':', n - hn - 1)) {
			bad(c, "bad IPv6 address");
			return 0;
		}
		if (parse_port(colon + 1, n - hn - 1, &port)) {
			bad(c, "bad port");
			return 0;
		}
		if (mm_ip_parse(t, hn, &ip) == 0)
			return add_port(c, &ip, port, t, n);
		/* domain:port - DNS has no port, the name itself is the trail */
		return add_domain(c, t, hn);
	}
	return add_domain(c, t, n);
}

/* hosts-file sink addresses: "0.0.0.0 name" lists the name */
static int is_sink(const char *t, size_t n)
{
	static const char *const sinks[] = {"0.0.0.0", "127.0.0.1", "::", "::1", "0"};
	size_t i;

	for (i = 0; i < MM_ARRAY_LEN(sinks); i++)
		if (strlen(sinks[i]) == n && memcmp(sinks[i], t, n) == 0)
			return 1;
	return 0;
}

/* hosts-file boilerplate names that are not indicators */
static int is_local_name(const char *t, size_t n)
{
	static const char *const names[] = {"localhost",     "localhost.localdomain",
					    "local",	     "broadcasthost",
					    "ip6-localhost", "ip6-loopback",
					    "0.0.0.0"};
	size_t i;

	for (i = 0; i < MM_ARRAY_LEN(names); i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], t, n) == 0)
			return 1;
	return 0;
}

/* "||domain^$options": take the domain; every other rule is skipped. */
static int adblock_line(struct ld *c, const char *s, size_t n)
{
	size_t i;

	if (n < 3 || s[0] != '|' || s[1] != '|') {
		c->st.skipped++;
		return 0;
	}
	s += 2;
	n -= 2;
	for (i = 0; i < n; i++)
		if (s[i] == '^' || s[i] == '$' || s[i] == '/' || s[i] == '|')
			break;
	if (i == 0 || memchr(s, '*', i) ||
	    (i < n && s[i] == '/' && i + 1 < n && s[i + 1] != '^' && s[i + 1] != '$')) {
		c->st.skipped++;	/* wildcard or path rule: not a plain name */
		return 0;
	}
	return entry(c, s, i);
}

static int parse_line(struct ld *c, const char *s, size_t n)
{
	size_t i, j;

	c->line++;
	if (n > MAX_LINE) {
		bad(c, "line too long");
		return 0;
	}
	if (c->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	while (n && is_ws(s[0])) {
		s++;
		n--;
	}
	while (n && is_ws(s[n - 1]))
		n--;
	if (n == 0 || s[0] == '#' || s[0] == '!')
		return 0;
	if (s[0] == '[' && n >= 8 && strncasecmp(s, "[adblock", 8) == 0) {
		c->adblock = 1;
		return 0;
	}
	if (c->adblock)
		return adblock_line(c, s, n);
	/* inline comment: indicators never contain '#' */
	{
		const char *h = memchr(s, '#', n);
		if (h)
			n = (size_t)(h - s);
		while (n && is_ws(s[n - 1]))
			n--;
	}
	for (i = 0; i < n && !is_ws(s[i]); i++)
		;
	if (i == n)
		return entry(c, s, n);
	if (!is_sink(s, i)) {
		bad(c, "unexpected text after the entry");
		return 0;
	}
	/* hosts line: every further word is a name */
	while (i < n) {
		int rc;
		while (i < n && is_ws(s[i]))
			i++;
		for (j = i; j < n && !is_ws(s[j]); j++)
			;
		if (j > i) {
			if (is_local_name(s + i, j - i))
				c->st.skipped++;
			else if ((rc = entry(c, s + i, j - i)))
				return rc;
		}
		i = j;
	}
	return 0;
}

static int parse_mem(struct ld *c, const char *buf, size_t n)
{
	size_t off = 0;
	int rc = 0;

	while (off < n && !rc) {
		const char *nl = memchr(buf + off, '\n', n - off);
		size_t ln = nl ? (size_t)(nl - (buf + off)) : n - off;
		rc = parse_line(c, buf + off, ln);
		off += ln + 1;
	}
	return rc;
}

/* Stream a file through parse_line with a fixed buffer: lines longer than
 * MAX_LINE are reported once and skipped up to their newline. */
static int parse_file(struct ld *c, FILE *f)
{
	char *buf = mm_malloc(READ_BUF);
	size_t len = 0;
	int rc = 0, eof = 0, skipping = 0;

	if (!buf)
		return mm_err_set(c->err, MM_ENOMEM, "%s: out of memory", c->path);
	while (!eof && !rc) {
		size_t got = fread(buf + len, 1, READ_BUF - len, f), off = 0;
		if (got == 0) {
			if (ferror(f)) {
				rc = mm_err_set(c->err, MM_EIO, "%s: read error", c->path);
				break;
			}
			eof = 1;
		}
		len += got;
		while (!rc) {
			char *nl = memchr(buf + off, '\n', len - off);
			size_t ln;
			if (!nl)
				break;
			ln = (size_t)(nl - (buf + off));
			if (skipping)
				skipping = 0;	/* tail of a too-long line */
			else
				rc = parse_line(c, buf + off, ln);
			off += ln + 1;
		}
		if (rc)
			break;
		len -= off;
		if (eof) {
			if (len && !skipping)
				rc = parse_line(c, buf + off, len);
		} else if (len > MAX_LINE) {
			if (!skipping)
				parse_line(c, buf + off, len);	/* reports "line too long" */
			skipping = 1;
			len = 0;
		} else if (off) {
			memmove(buf, buf + off, len);
		}
	}
	mm_free(buf);
	return rc;
}

/* ---- loading ------------------------------------------------------------ */

static int find_list(struct mm_intel *in, enum mm_intel_cat cat, const char *name, uint16_t *out,
		     struct mm_err *err)
{
	size_t i;

	for (i = 0; i < in->nlists; i++) {
		if (in->lists[i].cat == cat && strcmp(in->lists[i].name, name) == 0) {
			*out = (uint16_t)i;
			return 0;
		}
	}
	if (in->nlists >= MAX_LISTS)
		return mm_err_set(err, MM_ETOOBIG, "more than %d intel lists", MAX_LISTS);
	if (vgrow(&in->lists, &in->caplists, in->nlists + 1, sizeof(*in->lists)))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	in->lists[in->nlists].name = mm_strdup(name);
	if (!in->lists[in->nlists].name)
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	in->lists[in->nlists].cat = cat;
	*out = (uint16_t)in->nlists++;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Shared by the four load entry points: exactly one of f / buf is used. */
static int load_any(struct mm_intel *in, int trusted, enum mm_intel_cat cat, const char *path,
		    const char *name, FILE *f, const char *buf, size_t n,
		    struct mm_intel_load_stats *st, struct mm_err *err)
{
	struct ld c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (st)
		memset(st, 0, sizeof(*st));
	if (in->built)
		return mm_err_set(err, MM_EINVAL, "%s: intel set already built", path);
	if ((int)cat < 0 || cat >= MM_CAT__COUNT)
		return mm_err_set(err, MM_EINVAL, "%s: bad category", path);
	c.in = in;
	c.path = path;
	c.err = err;
	c.trusted = trusted;
	if (!trusted && (rc = find_list(in, cat, name ? name : base_name(path), &c.list, err)))
		return rc;
	rc = f ? parse_file(&c, f) : parse_mem(&c, buf ? buf : "", buf ? n : 0);
	if (c.shown > MM_LOG_LIST_LIMIT)
		mm_warn("%s: %llu more problems in this list not shown", path,
			(unsigned long long)(c.shown - MM_LOG_LIST_LIMIT));
	if (st)
		*st = c.st;
	return rc;
}

int mm_intel_load(struct mm_intel *in, enum mm_intel_cat cat, const char *path, const char *name,
		  struct mm_intel_load_stats *st, struct mm_err *err)
{
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f) {
		if (st)
			memset(st, 0, sizeof(*st));
		return mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
	}
	rc = load_any(in, 0, cat, path, name, f, NULL, 0, st, err);
	fclose(f);
	return rc;
}

int mm_intel_load_mem(struct mm_intel *in, enum mm_intel_cat cat, const char *name,
		      const char *buf, size_t n, struct mm_intel_load_stats *st, struct mm_err *err)
{
	return load_any(in, 0, cat, name ? name : "(memory)", name ? name : "(memory)", NULL, buf,
			n, st, err);
}

int mm_intel_load_trusted(struct mm_intel *in, const char *path, struct mm_err *err)
{
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f)
		return mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
	rc = load_any(in, 1, MM_CAT_CUSTOM, path, NULL, f, NULL, 0, NULL, err);
	fclose(f);
	return rc;
}

int mm_intel_load_trusted_mem(struct mm_intel *in, const char *name, const char *buf, size_t n,
			      struct mm_err *err)
{
	return load_any(in, 1, MM_CAT_CUSTOM, name ? name : "(memory)", NULL, NULL, buf, n, NULL,
			err);
}

/* ---- build ---------------------------------------------------------------- */

static int pfx_cmp(const void *a, const void *b)
{
	const struct pfx *x = a, *y = b;

	if (x->v6 != y->v6)
		return x->v6 < y->v6 ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static u128 pfx_hi(const struct pfx *p)
{
	int bits = p->v6 ? 128 : 32;

	if (p->plen == 0)
		return p->v6 ? ~(u128)0 : 0xffffffffu;
	return p->lo | (((u128)1 << (bits - p->plen)) - 1);
}

/* Emit segment [a, b] (inclusive) owned by node. */
static int emit(struct ipidx *x, int v6, u128 a, u128 b, uint32_t node, uint32_t *next_bucket)
{
	if (v6) {
		if (vgrow(&x->r6, &x->capr6, x->nr6 + 1, sizeof(*x->r6)))
			return MM_ENOMEM;
		x->r6[x->nr6].lo = a;
		x->r6[x->nr6].hi = b;
		x->r6[x->nr6].node = node;
		x->nr6++;
		return 0;
	}
	/* split at /16 boundaries so each range lives in one bucket */
	{
		uint64_t lo = (uint64_t)a, hi = (uint64_t)b;
		while (lo <= hi) {
			uint32_t bucket = (uint32_t)(lo >> 16);
			uint64_t end = MM_MIN(hi, (lo | 0xffffu));
			if (vgrow(&x->r4, &x->capr4, x->nr4 + 1, sizeof(*x->r4)))
				return MM_ENOMEM;
			while (*next_bucket <= bucket)
				x->tab4[(*next_bucket)++] = (uint32_t)x->nr4;
			x->r4[x->nr4].lo = (uint16_t)lo;
			x->r4[x->nr4].hi = (uint16_t)end;
			x->r4[x->nr4].node = node;
			x->nr4++;
			lo = end + 1;
		}
	}
	return 0;
}

/* Sweep sorted, deduplicated prefixes p[0..n) of one family: fill nodes
 * (parents) and emit the disjoint segments. */
static int sweep(struct ipidx *x, int v6, const struct pfx *p, size_t n, struct node *nodes)
{
	uint32_t *stack = NULL, sp = 0, next_bucket = 0;
	u128 cur = 0;
	int cur_ok = 1, rc = 0;
	size_t i;

	if (n && !(stack = mm_malloc(n * sizeof(*stack))))
		return MM_ENOMEM;
	for (i = 0; i <= n && !rc; i++) {
		/* close every open prefix that ends before p[i] (all at the end) */
		while (sp && (i == n || pfx_hi(&p[stack[sp - 1]]) < p[i].lo)) {
			u128 hi = pfx_hi(&p[stack[sp - 1]]);
			if (cur_ok && cur <= hi && (rc = emit(x, v6, cur, hi, stack[sp - 1], &next_bucket)))
				break;
			if (hi == (v6 ? ~(u128)0 : (u128)0xffffffffu))
				cur_ok = 0;
			else
				cur = hi + 1;
			sp--;
		}
		if (rc || i == n)
			break;
		if (sp && cur_ok && cur < p[i].lo &&
		    (rc = emit(x, v6, cur, p[i].lo - 1, stack[sp - 1], &next_bucket)))
			break;
		nodes[i].ind = p[i].ind;
		nodes[i].list = p[i].list;
		nodes[i].parent = sp ? stack[sp - 1] : NONE;
		cur = p[i].lo;
		cur_ok = 1;
		stack[sp++] = (uint32_t)i;
	}
	if (!rc && !v6) {
		while (next_bucket <= 65536)
			x->tab4[next_bucket++] = (uint32_t)x->nr4;
		for (i = 0; i < 65536; i++)
			if (x->tab4[i] != x->tab4[i + 1])
				x->bm4[i >> 6] |= (uint64_t)1 << (i & 63);
		if (x->nr4 >= BM24_MIN_RANGES && !(x->bm24 = mm_calloc(1 << 18, sizeof(*x->bm24))))
			rc = MM_ENOMEM;
		for (i = 0; x->bm24 && i < 65536; i++) {
			uint32_t k;
			for (k = x->tab4[i]; k < x->tab4[i + 1]; k++) {
				uint32_t a = (uint32_t)i << 8 | x->r4[k].lo >> 8,
					 b = (uint32_t)i << 8 | x->r4[k].hi >> 8;
				for (; a <= b; a++)
					x->bm24[a >> 6] |= (uint64_t)1 << (a & 63);
			}
		}
	}
	mm_free(stack);
	return rc;
}

/* pfx_cmp's order for a list of IPv4 prefixes (v6 ones after them, by
 * qsort): a stable radix sort of (address, length, list) keys, so entries
 * that tie keep their listed (seq) order. A 100k-entry list sorted in
 * ~10M instructions where qsort's comparator calls took ~140M, a serial
 * step before every scan. Falls back to qsort when the array is not in
 * seq order or memory is short. */
static void sort_pfx(struct pfx *p, size_t n)
{
	struct kv {
		uint64_t key;
		uint32_t ix;
	} *a = NULL, *b = NULL, *t;
	uint32_t *cnt = NULL;
	struct pfx *out = NULL;
	size_t i, n4 = 0, n6;
	int pass;

	for (i = 0; i < n; i++) {
		if (i && p[i].seq < p[i - 1].seq)
			goto fallback;
		n4 += !p[i].v6;
	}
	if (n4 < 1024 || !(a = mm_malloc(n4 * sizeof(*a))) || !(b = mm_malloc(n4 * sizeof(*b))) ||
	    !(cnt = mm_malloc(65536 * sizeof(*cnt))) || !(out = mm_malloc(n * sizeof(*out))))
		goto fallback;
	for (i = 0, n4 = 0; i < n; i++)
		if (!p[i].v6) {
			a[n4].key = (uint64_t)(uint32_t)p[i].lo << 32 | (uint64_t)p[i].plen << 16 |
				    p[i].list;
			a[n4++].ix = (uint32_t)i;
		}
	for (pass = 0; pass < 4; pass++) {
		int sh = pass * 16;
		uint32_t sum = 0;
		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (i = 0; i < n4; i++)
			cnt[(a[i].key >> sh) & 0xffff]++;
		if (cnt[(a[0].key >> sh) & 0xffff] == n4)
			continue; /* one digit value: this pass would not move anything */
		for (i = 0; i < 65536; i++) {
			uint32_t c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n4; i++)
			b[cnt[(a[i].key >> sh) & 0xffff]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (i = 0; i < n4; i++)
		out[i] = p[a[i].ix];
	for (i = 0, n6 = n4; i < n; i++)
		if (p[i].v6)
			out[n6++] = p[i];
	memcpy(p, out, n * sizeof(*p));
	if (n > n4)
		qsort(p + n4, n - n4, sizeof(*p), pfx_cmp);
	goto done;
fallback:
	qsort(p, n, sizeof(*p), pfx_cmp);
done:
	mm_free(a);
	mm_free(b);
	mm_free(cnt);
	mm_free(out);
}

static int ipidx_build(struct ipidx *x, struct pfx *p, size_t n)
{
	size_t i, k = 0, n4;
	int rc = MM_ENOMEM;

	if (n)
		sort_pfx(p, n);
	/* drop duplicates of (family, prefix, list): the first listed wins */
	for (i = 0; i < n; i++) {
		if (k && p[k - 1].v6 == p[i].v6 && p[k - 1].lo == p[i].lo &&
		    p[k - 1].plen == p[i].plen && p[k - 1].list == p[i].list)
			continue;
		p[k++] = p[i];
	}
	n = k;
	for (n4 = 0; n4 < n && !p[n4].v6; n4++)
		;
	if (!(x->tab4 = mm_calloc(65537, sizeof(*x->tab4))))
		goto out;
	if (!(x->n4 = mm_malloc(MM_MAX(n4, 1) * sizeof(*x->n4))))
		goto out;
	if (!(x->n6 = mm_malloc(MM_MAX(n - n4, 1) * sizeof(*x->n6))))
		goto out;
	if ((rc = sweep(x, 0, p, n4, x->n4)))
		goto out;
	rc = sweep(x, 1, n4 < n ? p + n4 : p, n - n4, x->n6);
out:
	return rc;
}

static uint64_t port_hash(const struct mm_ip *ip, uint16_t port)
{
	unsigned char key[19];

	key[0] = ip->v6;
	memcpy(key + 1, ip->b, 16);
	key[17] = (unsigned char)(port >> 8);
	key[18] = (unsigned char)port;
	return mm_hash(key, sizeof(key), HASH_SEED);
}

static size_t table_size(size_t n)
{
	size_t s = 16;
	while (s < n * 2)
		s *= 2;
	return s;
}

static int build_ports(struct mm_intel *in)
{
	size_t i;

	in->pmask = table_size(in->npe) - 1;
	if (!(in->ptab = mm_calloc(in->pmask + 1, sizeof(*in->ptab))))
		return MM_ENOMEM;
	for (i = 0; i < in->npe; i++) {
		const struct portent *e = &in->pe[i];
		size_t s = (size_t)port_hash(&e->ip, e->port) & in->pmask;
		for (;; s = (s + 1) & in->pmask) {
			const struct portent *o;
			if (!in->ptab[s]) {
				in->ptab[s] = (uint32_t)i + 1;
				break;
			}
			o = &in->pe[in->ptab[s] - 1];
			if (o->port == e->port && o->list == e->list && mm_ip_eq(&o->ip, &e->ip))
				break;	/* duplicate */
		}
	}
	return 0;
}

/* Where name[0..n)'s last two labels start (0: it has at most two); -1
 * when it is one label. */
static long last_two(const char *name, size_t n)
{
	const char *p1 = memrchr(name, '.', n), *p2;
	if (!p1)
		return -1;
	p2 = memrchr(name, '.', (size_t)(p1 - name));
	return p2 ? (long)(p2 - name) + 1 : 0;
}

static uint64_t two_hash(const char *name, size_t n)
{
	return mm_hash(name, n, HASH_SEED ^ 0x7432) | 1;
}

static int build_domains(struct mm_intel *in)
{
	size_t i;

	in->dmask = table_size(in->nde) - 1;
	if (!(in->dtab = mm_calloc(in->dmask + 1, sizeof(*in->dtab))))
		return MM_ENOMEM;
	in->s2mask = table_size(in->nde) - 1;
	if (!(in->s2tab = mm_calloc(in->s2mask + 1, sizeof(*in->s2tab))))
		return MM_ENOMEM;
	for (i = 0; i < in->nde; i++) {
		const struct doment *e = &in->de[i];
		long at = last_two(e->name, e->len);
		uint64_t h;
		size_t k;
		if (at < 0) {
			in->has_tld = 1;
			continue;
		}
		h = two_hash(e->name + at, e->len - (size_t)at);
		for (k = (size_t)h & in->s2mask; in->s2tab[k] && in->s2tab[k] != h;
		     k = (k + 1) & in->s2mask)
			;
		in->s2tab[k] = h;
	}
	for (i = 0; i < in->nde; i++) {
		const struct doment *e = &in->de[i];
		size_t s = (size_t)e->h & in->dmask;
		for (;; s = (s + 1) & in->dmask) {
			const struct doment *o;
			if (!in->dtab[s]) {
				in->dtab[s] = (uint32_t)i + 1;
				break;
			}
			o = &in->de[in->dtab[s] - 1];
			if (o->h == e->h && o->len == e->len && o->list == e->list &&
			    memcmp(o->name, e->name, e->len) == 0)
				break;	/* duplicate */
		}
	}
	return 0;
}

int mm_intel_build(struct mm_intel *in, struct mm_err *err)
{
	int rc;

	if (in->built)
		return mm_err_set(err, MM_EINVAL, "intel set already built");
	if ((rc = ipidx_build(&in->thr, in->pf, in->npf)) ||
	    (rc = ipidx_build(&in->tru, in->tpf, in->ntpf)) || (rc = build_ports(in)) ||
	    (rc = build_domains(in))) {
		ipidx_free(&in->thr);
		ipidx_free(&in->tru);
		mm_free(in->ptab);
		mm_free(in->dtab);
		mm_free(in->s2tab);
		in->ptab = in->dtab = NULL;
		in->s2tab = NULL;
		return mm_err_set(err, rc, "building intel set: %s", mm_strerror(rc));
	}
	/* node strings point into the pool; the pending arrays are done */
	mm_free(in->pf);
	mm_free(in->tpf);
	in->pf = in->tpf = NULL;
	in->npf = in->ntpf = in->cappf = in->captpf = 0;
	in->built = 1;
	return 0;
}

/* ---- queries (no allocation, read-only) --------------------------------- */

static uint32_t find4(const struct ipidx *x, uint32_t a)
{
	uint32_t b = a >> 16, lo, hi;
	uint16_t k = (uint16_t)a;

	/* the common miss: nothing listed in this /16, or this /24 */
	if (!(x->bm4[b >> 6] & ((uint64_t)1 << (b & 63))))
		return NONE;
	if (x->bm24 && !(x->bm24[a >> 14] & ((uint64_t)1 << ((a >> 8) & 63))))
		return NONE;
	lo = x->tab4[b];
	hi = x->tab4[b + 1];
	if (lo == hi)
		return NONE;
	/* last range with r.lo <= k */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (x->r4[mid].lo <= k)
			lo = mid;
		else
			hi = mid;
	}
	if (x->r4[lo].lo <= k && k <= x->r4[lo].hi)
		return x->r4[lo].node;
	return NONE;
}

static uint32_t find6(const struct ipidx *x, u128 a)
{
	size_t lo = 0, hi = x->nr6;

	if (!hi)
		return NONE;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->r6[mid].lo <= a)
			lo = mid;
		else
			hi = mid;
	}
	if (x->r6[lo].lo <= a && a <= x->r6[lo].hi)
		return x->r6[lo].node;
	return NONE;
}

/* Fold ::ffff:a.b.c.d to IPv4 for callers that built the address by hand. */
static const struct mm_ip *fold(const struct mm_ip *ip, struct mm_ip *tmp)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (!ip->v6 || memcmp(ip->b, mapped, 12) != 0)
		return ip;
	mm_ip_set_v4(tmp, ((uint32_t)ip->b[12] << 24) | ((uint32_t)ip->b[13] << 16) |
				  ((uint32_t)ip->b[14] << 8) | ip->b[15]);
	return tmp;
}

static int has_list(const struct mm_intel *in, const struct mm_intel_hit *hits, int k, uint16_t list)
{
	int i;

	for (i = 0; i < k; i++)
		if (hits[i].list_name == in->lists[list].name)
			return 1;
	return 0;
}

static void put_hit(const struct mm_intel *in, struct mm_intel_hit *h, uint16_t list, const char *ind)
{
	h->cat = in->lists[list].cat;
	h->list_name = in->lists[list].name;
	h->indicator = ind;
}

int mm_intel_trusted(const struct mm_intel *in, const struct mm_ip *ip)
{
	struct mm_ip tmp;

	if (!in || !in->built || !ip)
		return 0;
	ip = fold(ip, &tmp);
	if (!ip->v6)
		return find4(&in->tru, mm_ip_v4(ip)) != NONE;
	return find6(&in->tru, ip_num(ip)) != NONE;
}

void mm_intel_prefetch_ip(const struct mm_intel *in, const struct mm_ip *ip)
{
	if (in && in->built && ip && !ip->v6 && in->thr.bm24)
		__builtin_prefetch(&in->thr.bm24[mm_ip_v4(ip) >> 14]);
}

int mm_intel_match_ip(const struct mm_intel *in, const struct mm_ip *ip, uint16_t port,
		      struct mm_intel_hit *hits, int max)
{
	struct mm_ip tmp;
	const struct node *nodes;
	uint32_t nd;
	int k = 0;

	if (!in || !in->built || !ip || max <= 0)
		return 0;
	ip = fold(ip, &tmp);
	/* IP:port first: it is more specific than any prefix of its list */
	if (port && in->npe) {
		size_t s = (size_t)port_hash(ip, port) & in->pmask;
		for (; in->ptab[s] && k < max; s = (s + 1) & in->pmask) {
			const struct portent *e = &in->pe[in->ptab[s] - 1];
			if (e->port == port && mm_ip_eq(&e->ip, ip) && !has_list(in, hits, k, e->list))
				put_hit(in, &hits[k++], e->list, e->ind);
		}
	}
	if (!ip->v6) {
		nd = find4(&in->thr, mm_ip_v4(ip));
		nodes = in->thr.n4;
	} else {
		nd = find6(&in->thr, ip_num(ip));
		nodes = in->thr.n6;
	}
	/* deepest first: the first node seen of a list is its longest prefix */
	for (; nd != NONE && k < max; nd = nodes[nd].parent)
		if (!has_list(in, hits, k, nodes[nd].list))
			put_hit(in, &hits[k++], nodes[nd].list, nodes[nd].ind);
	return k;
}

int mm_intel_match_domain(const struct mm_intel *in, const char *name, size_t n,
			  struct mm_intel_hit *hits, int max)
{
	char buf[MAX_DOMAIN + 1];
	size_t i, start = 0;
	int k = 0;

	if (!in || !in->built || !name || max <= 0 || !in->nde)
		return 0;
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > MAX_DOMAIN)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = name[i];
		buf[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	{
		/* no entry ends in the name's last two labels (the common
		 * case): only an overlay TLD entry can still match */
		long at = last_two(buf, n);
		if (at >= 0) {
			uint64_t h = two_hash(buf + at, n - (size_t)at);
			size_t s = (size_t)h & in->s2mask;
			while (in->s2tab[s] && in->s2tab[s] != h)
				s = (s + 1) & in->s2mask;
			if (!in->s2tab[s]) {
				if (!in->has_tld)
					return 0;
				start = (size_t)((const char *)memrchr(buf, '.', n) - buf) + 1;
				if (start >= n)
					return 0;
			}
		}
	}
	/* the name, then each parent at a label boundary: most specific first */
	for (;;) {
		size_t len = n - start;
		uint64_t h = mm_hash(buf + start, len, HASH_SEED);
		size_t s = (size_t)h & in->dmask;
		const char *dot;
		for (; in->dtab[s] && k < max; s = (s + 1) & in->dmask) {
			const struct doment *e = &in->de[in->dtab[s] - 1];
			if (e->h == h && e->len == len && memcmp(e->name, buf + start, len) == 0 &&
			    !has_list(in, hits, k, e->list))
				put_hit(in, &hits[k++], e->list, e->name);
		}
		dot = memchr(buf + start, '.', len);
		if (!dot || k >= max)
			break;
		start = (size_t)(dot - buf) + 1;
		if (start >= n)
			break;
	}
	return k;
}
