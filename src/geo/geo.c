/* geo.c - the IP ownership file: validate and map it, look addresses up,
 * and build it from CSV ranges and CIDR lists.
 *
 * Layout (all integers little-endian, sections 8-byte aligned; details
 * in docs/internals/geo.md):
 *   header  "MMGEO\r\n\032", u32 version, u32 ntab, u64 file length, u64 0
 *   ntab x  {u32 kind, u32 count, u64 offset, u64 bytes}
 *   range tables (ASN/country/AWS x IPv4/IPv6): count range starts
 *           (u32, or u64 hi + u64 lo for IPv6), strictly increasing from
 *           0, then count u32 values; a range runs to the next start.
 *           NONE marks a gap, so the table covers the whole family and a
 *           lookup is one "last start <= ip" search.
 *   ASN records {u32 asn, u32 offset of the organisation in STR}
 *   STR     NUL-terminated organisation names.
 * Everything is checked once at open, so lookups index without checks. */
#include "geo/geo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/mem.h"
#include "geo/mmdb.h"

__extension__ typedef unsigned __int128 u128;

#define GEO_MAGIC "MMGEO\r\n\032"
#define GEO_VERSION 1u
#define GEO_HDR 32u
#define GEO_DIRENT 24u
#define GEO_MAXTAB 16u
#define NONE 0xFFFFFFFFu

/* section kinds in the file */
enum { K_ASN4 = 1, K_ASN6, K_CC4, K_CC6, K_AWS4, K_AWS6, K_ASNREC, K_STR, K_LAST = K_STR };

struct tab {
	const void *keys;	/* u32[n] or u64[2n] */
	const uint32_t *vals;
	uint32_t n;
};

struct mm_geo {
	void *base;
	size_t len;
	int mapped;
	struct tab t[3][2];	/* [asn, cc, aws][v4, v6] */
	const uint32_t *rec;	/* nrec x {asn, stroff} */
	uint32_t nrec;
	const char *str;
	unsigned kinds;
	struct mm__mmdb *mmdb[MM_GEO_MAX_MMDB];	/* asked first, in order */
	int nmmdb;
};

/* ---- little-endian access (the host must be little-endian: checked) ---- */

static int host_le(void)
{
	const uint16_t one = 1;
	return *(const uint8_t *)&one == 1;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* table index for a range kind: [what][family] */
static int kind_slot(uint32_t kind, int *what, int *fam)
{
	if (kind < K_ASN4 || kind > K_AWS6)
		return 0;
	*what = (int)(kind - K_ASN4) / 2;
	*fam = (int)(kind - K_ASN4) % 2;
	return 1;
}

static u128 key6(const uint64_t *k, uint32_t i)
{
	return ((u128)k[2 * i] << 64) | k[2 * i + 1];
}

static int valid_value(const struct mm_geo *g, int what, uint32_t v)
{
	if (v == NONE)
		return 1;
	if (what == 0)
		return v < g->nrec;
	if (what == 1)
		return v <= 0xFFFF && (v >> 8) >= 'A' && (v >> 8) <= 'Z' && (v & 0xFF) >= 'A' &&
		       (v & 0xFF) <= 'Z';
	return v == 1;
}

static int validate(struct mm_geo *g, struct mm_err *err)
{
	const uint8_t *p = g->base;
	uint32_t ntab, i, j, seen = 0;
	uint32_t strbytes = 0;

	if (g->len < GEO_HDR || memcmp(p, GEO_MAGIC, 8))
		return mm_err_set(err, MM_EFORMAT, "not a mamori geo file");
	if (rd32(p + 8) != GEO_VERSION)
		return mm_err_set(err, MM_EFORMAT, "geo file version %u, this mamori reads %u",
				  rd32(p + 8), GEO_VERSION);
	if (!host_le())
		return mm_err_set(err, MM_EFORMAT, "geo files are little-endian only");
	ntab = rd32(p + 12);
	if (rd64(p + 16) != g->len || ntab > GEO_MAXTAB || GEO_HDR + ntab * GEO_DIRENT > g->len)
		return mm_err_set(err, MM_EPARSE, "geo file header does not match its length");
	/* pass 1: locate sections, check bounds and sizes; strings and records first */
	for (i = 0; i < ntab; i++) {
		const uint8_t *d = p + GEO_HDR + i * GEO_DIRENT;
		uint32_t kind = rd32(d), count = rd32(d + 4);
		uint64_t off = rd64(d + 8), bytes = rd64(d + 16), want;
		int what, fam;

		if (kind < K_ASN4 || kind > K_LAST || (seen & (1u << kind)))
			return mm_err_set(err, MM_EPARSE, "geo file: bad or repeated section %u", kind);
		seen |= 1u << kind;
		if (off % 8 || off < GEO_HDR + ntab * GEO_DIRENT || off > g->len ||
		    bytes > g->len - off)
			return mm_err_set(err, MM_EPARSE, "geo file: section %u out of bounds", kind);
		if (kind_slot(kind, &what, &fam))
			want = (uint64_t)count * (fam ? 20 : 8);
		else if (kind == K_ASNREC)
			want = (uint64_t)count * 8;
		else
			want = count;
		if (bytes != want)
			return mm_err_set(err, MM_EPARSE, "geo file: section %u has the wrong size", kind);
		if (kind_slot(kind, &what, &fam)) {
			struct tab *t = &g->t[what][fam];
			if (!count)
				return mm_err_set(err, MM_EPARSE, "geo file: empty range table");
			t->keys = p + off;
			t->vals = (const uint32_t *)(p + off + (uint64_t)count * (fam ? 16 : 4));
			t->n = count;
		} else if (kind == K_ASNREC) {
			g->rec = (const uint32_t *)(p + off);
			g->nrec = count;
		} else {
			g->str = (const char *)(p + off);
			strbytes = count;
		}
	}
	if (g->nrec && (!strbytes || g->str[strbytes - 1]))
		return mm_err_set(err, MM_EPARSE, "geo file: names not NUL-terminated");
	for (i = 0; i < g->nrec; i++)
		if (g->rec[2 * i + 1] >= strbytes)
			return mm_err_set(err, MM_EPARSE, "geo file: ASN name out of bounds");
	/* pass 2: every table sorted from 0, every value valid */
	for (i = 0; i < 6; i++) {
		int what = (int)i / 2, fam = (int)i % 2;
		const struct tab *t = &g->t[what][fam];
		if (!t->n)
			continue;
		g->kinds |= 1u << what;
		if (fam) {
			const uint64_t *k = t->keys;
			if (key6(k, 0) != 0)
				return mm_err_set(err, MM_EPARSE, "geo file: table does not start at ::");
			for (j = 1; j < t->n; j++)
				if (key6(k, j) <= key6(k, j - 1))
					return mm_err_set(err, MM_EPARSE, "geo file: ranges out of order");
		} else {
			const uint32_t *k = t->keys;
			if (k[0] != 0)
				return mm_err_set(err, MM_EPARSE, "geo file: table does not start at 0");
			for (j = 1; j < t->n; j++)
				if (k[j] <= k[j - 1])
					return mm_err_set(err, MM_EPARSE, "geo file: ranges out of order");
		}
		for (j = 0; j < t->n; j++)
			if (!valid_value(g, what, t->vals[j]))
				return mm_err_set(err, MM_EPARSE, "geo file: bad value in a range table");
	}
	return 0;
}

int mm_geo_open_mem(struct mm_geo **out, void *buf, size_t len, struct mm_err *err)
{
	struct mm_geo *g;
	int rc;

	*out = NULL;
	if (((uintptr_t)buf & 7) != 0) {
		mm_free(buf);
		return mm_err_set(err, MM_EINVAL, "geo data not 8-byte aligned");
	}
	if (!(g = mm_calloc(1, sizeof(*g)))) {
		mm_free(buf);
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	}
	g->base = buf;
	g->len = len;
	if ((rc = validate(g, err))) {
		mm_geo_close(g);
		return rc;
	}
	*out = g;
	return 0;
}

int mm_geo_open(struct mm_geo **out, const char *path, struct mm_err *err)
{
	struct mm_geo *g = NULL;
	struct stat st;
	void *map = MAP_FAILED;
	int fd = -1, rc = 0;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		rc = mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size < (off_t)GEO_HDR) {
		rc = mm_err_set(err, MM_EFORMAT, "%s: not a mamori geo file", path);
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!(g = mm_calloc(1, sizeof(*g)))) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	g->base = map;
	g->len = (size_t)st.st_size;
	g->mapped = 1;
	map = MAP_FAILED;
	if ((rc = validate(g, err))) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
		mm_err_set(err, rc, "%s: %s", path, msg);
		goto out;
	}
	*out = g;
	g = NULL;
out:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	mm_geo_close(g);
	return rc;
}

int mm_geo_add_mmdb(struct mm_geo **g, const char *path, struct mm_err *err)
{
	struct mm__mmdb *m = NULL;
	int rc;

	if (*g && (*g)->nmmdb >= MM_GEO_MAX_MMDB)
		return mm_err_set(err, MM_EINVAL, "at most %d .mmdb files", MM_GEO_MAX_MMDB);
	if ((rc = mm__mmdb_open(&m, path, err)))
		return rc;
	if (!*g) {
		if (!(*g = mm_calloc(1, sizeof(**g)))) {
			mm__mmdb_close(m);
			return mm_err_set(err, MM_ENOMEM, "out of memory");
		}
	}
	(*g)->mmdb[(*g)->nmmdb++] = m;
	(*g)->kinds |= mm__mmdb_kinds(m);
	return 0;
}

void mm_geo_close(struct mm_geo *g)
{
	int i;

	if (!g)
		return;
	for (i = 0; i < g->nmmdb; i++)
		mm__mmdb_close(g->mmdb[i]);
	if (g->mapped)
		munmap(g->base, g->len);
	else
		mm_free(g->base);
	mm_free(g);
}

unsigned mm_geo_kinds(const struct mm_geo *g)
{
	return g ? g->kinds : 0;
}

/* Value of the last range starting at or below x. keys[0] == 0 <= x,
 * so the invariant base[0] <= x holds from the start. Branch-free
 * halving: the loads are the cost, not mispredictions. */
static uint32_t find4(const struct tab *t, uint32_t x)
{
	const uint32_t *k = t->keys, *base = k;
	size_t n = t->n;

	while (n > 1) {
		size_t half = n / 2;
		base = base[half] <= x ? base + half : base;
		n -= half;
	}
	return t->vals[base - k];
}

static uint32_t find6(const struct tab *t, u128 x)
{
	const uint64_t *k = t->keys;
	size_t lo = 0, n = t->n;

	while (n > 1) {
		size_t half = n / 2;
		lo = key6(k, (uint32_t)(lo + half)) <= x ? lo + half : lo;
		n -= half;
	}
	return t->vals[lo];
}

static u128 ip128(const struct mm_ip *ip)
{
	u128 v = 0;
	int i;
	for (i = 0; i < 16; i++)
		v = (v << 8) | ip->b[i];
	return v;
}

unsigned mm_geo_lookup(const struct mm_geo *g, const struct mm_ip *ip, struct mm_geo_info *out)
{
	uint32_t v[3];
	unsigned found = 0;
	int fam = ip->v6 ? 1 : 0, w, i;
	u128 x6 = 0;

	out->asn = 0;
	out->as_org = out->isp = out->org = "";
	memset(out->cc, 0, sizeof(out->cc));
	out->aws = 0;
	if (!g)
		return 0;
	for (i = 0; i < g->nmmdb; i++)
		found |= mm__mmdb_lookup(g->mmdb[i], ip, out);
	if (fam)
		x6 = ip128(ip);
	for (w = 0; w < 3; w++) {
		const struct tab *t = &g->t[w][fam];
		/* what a .mmdb answered is not asked again */
		int skip = (w == 0 && (found & MM_GEO_ASN)) || (w == 1 && (found & MM_GEO_COUNTRY));
		v[w] = !t->n || skip ? NONE : fam ? find6(t, x6) : find4(t, mm_ip_v4(ip));
	}
	if (v[0] != NONE) {
		out->asn = g->rec[2 * v[0]];
		out->as_org = g->str + g->rec[2 * v[0] + 1];
		found |= MM_GEO_ASN;
	}
	if (v[1] != NONE) {
		out->cc[0] = (char)(v[1] >> 8);
		out->cc[1] = (char)(v[1] & 0xFF);
		found |= MM_GEO_COUNTRY;
	}
	if (v[2] != NONE) {
		out->aws = 1;
		found |= MM_GEO_AWS;
	}
	if (found & MM_GEO_ASN) {
		if (!out->isp[0])
			out->isp = out->as_org;
		if (!out->org[0])
			out->org = out->as_org;
	}
	return found;
}

/* ---- builder ---- */

struct rng {
	u128 lo, hi;
	uint32_t val, seq;
};

struct rvec {
	struct rng *v;
	size_t n, cap;
};

struct mm_geo_builder {
	struct rvec r[3][2];
	uint32_t *rec;		/* 2 per ASN: number, name offset */
	size_t nrec, caprec;
	uint32_t *ht;		/* open addressing: record index + 1, 0 = free */
	size_t htcap;
	char *str;
	size_t nstr, capstr;
	uint32_t seq;
};

int mm_geo_builder_new(struct mm_geo_builder **out)
{
	*out = mm_calloc(1, sizeof(**out));
	return *out ? 0 : MM_ENOMEM;
}

void mm_geo_builder_free(struct mm_geo_builder *b)
{
	int i, j;

	if (!b)
		return;
	for (i = 0; i < 3; i++)
		for (j = 0; j < 2; j++)
			mm_free(b->r[i][j].v);
	mm_free(b->rec);
	mm_free(b->ht);
	mm_free(b->str);
	mm_free(b);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t nc;
	void *np;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 1024;
	while (nc < need)
		nc *= 2;
	if (!(np = mm_realloc(*p, nc * elem)))
		return MM_ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

static int add_range(struct mm_geo_builder *b, int what, int fam, u128 lo, u128 hi, uint32_t val)
{
	struct rvec *r = &b->r[what][fam];

	if (grow((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v)))
		return MM_ENOMEM;
	r->v[r->n].lo = lo;
	r->v[r->n].hi = hi;
	r->v[r->n].val = val;
	r->v[r->n].seq = b->seq++;
	r->n++;
	return 0;
}

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	return x ^ (x >> 16);
}

/* The record index of asn, adding it with name when new (the first name
 * seen for an ASN is kept). */
static int asn_record(struct mm_geo_builder *b, uint32_t asn, const char *name, size_t nlen,
		      uint32_t *idx)
{
	size_t i, mask;

	if ((b->nrec + 1) * 2 > b->htcap) {
		size_t nc = b->htcap ? b->htcap * 2 : 4096, k;
		uint32_t *nh = mm_calloc(nc, sizeof(*nh));
		if (!nh)
			return MM_ENOMEM;
		for (k = 0; k < b->nrec; k++) {
			i = hash32(b->rec[2 * k]) & (nc - 1);
			while (nh[i])
				i = (i + 1) & (nc - 1);
			nh[i] = (uint32_t)k + 1;
		}
		mm_free(b->ht);
		b->ht = nh;
		b->htcap = nc;
	}
	mask = b->htcap - 1;
	for (i = hash32(asn) & mask; b->ht[i]; i = (i + 1) & mask)
		if (b->rec[2 * (b->ht[i] - 1)] == asn) {
			*idx = b->ht[i] - 1;
			return 0;
		}
	if (b->nrec >= NONE - 1 || b->nstr + nlen + 1 > 0xFFFFFFF0u)
		return MM_ETOOBIG;
	if (grow((void **)&b->rec, &b->caprec, 2 * (b->nrec + 1), sizeof(*b->rec)) ||
	    grow((void **)&b->str, &b->capstr, b->nstr + nlen + 1, 1))
		return MM_ENOMEM;
	b->rec[2 * b->nrec] = asn;
	b->rec[2 * b->nrec + 1] = (uint32_t)b->nstr;
	memcpy(b->str + b->nstr, name, nlen);
	b->str[b->nstr + nlen] = '\0';
	b->nstr += nlen + 1;
	b->ht[i] = (uint32_t)b->nrec + 1;
	*idx = (uint32_t)b->nrec++;
	return 0;
}

static int parse_addr(const char *s, size_t n, u128 *v, int *fam)
{
	struct mm_ip ip;

	if (mm_ip_parse(s, n, &ip))
		return MM_EPARSE;
	*fam = ip.v6;
	*v = ip.v6 ? ip128(&ip) : mm_ip_v4(&ip);
	return 0;
}

/* next comma-separated field of line from *p: [*s, *s + *n) */
static int field(const char **p, const char **s, size_t *n)
{
	const char *c = strchr(*p, ',');

	if (!c)
		return MM_EPARSE;
	*s = *p;
	*n = (size_t)(c - *p);
	*p = c + 1;
	return 0;
}

/* One CSV line (no newline) into the builder. */
static int csv_line(struct mm_geo_builder *b, unsigned kind, const char *line)
{
	const char *p = line, *s;
	size_t n;
	u128 lo, hi;
	int fam, fam2;
	uint32_t val;

	if (field(&p, &s, &n) || parse_addr(s, n, &lo, &fam) || field(&p, &s, &n) ||
	    parse_addr(s, n, &hi, &fam2) || fam != fam2 || hi < lo)
		return MM_EPARSE;
	if (kind == MM_GEO_COUNTRY) {
		size_t len = strlen(p);
		if (len != 2 || p[0] < 'A' || p[0] > 'Z' || p[1] < 'A' || p[1] > 'Z')
			return MM_EPARSE;
		val = ((uint32_t)(unsigned char)p[0] << 8) | (unsigned char)p[1];
		return add_range(b, 1, fam, lo, hi, val);
	} else {
		char name[4096];
		size_t k = 0;
		uint64_t asn = 0;
		int rc;

		if (field(&p, &s, &n) || !n || n > 10)
			return MM_EPARSE;
		for (k = 0; k < n; k++) {
			if (s[k] < '0' || s[k] > '9')
				return MM_EPARSE;
			asn = asn * 10 + (uint64_t)(s[k] - '0');
		}
		if (asn > 0xFFFFFFFFu)
			return MM_EPARSE;
		k = 0;
		if (*p == '"') {	/* "quoted, with ""quotes"" doubled" */
			for (p++; *p; p++) {
				if (*p == '"' && p[1] != '"')
					break;
				if (*p == '"')
					p++;
				name[k++] = *p;
			}
			if (*p != '"' || p[1])
				return MM_EPARSE;
		} else {
			k = strlen(p);
			memcpy(name, p, k);
		}
		if ((rc = asn_record(b, (uint32_t)asn, name, k, &val)))
			return rc;
		return add_range(b, 0, fam, lo, hi, val);
	}
}

/* Each line of path, without its newline, to fn; file:line in err. */
static int each_line(struct mm_geo_builder *b, const char *path, unsigned kind,
		     int (*fn)(struct mm_geo_builder *, unsigned, const char *), struct mm_err *err)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	unsigned long ln = 0;
	int rc = 0;

	if (!f)
		return mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		ln++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) {
			rc = mm_err_set(err, MM_ETOOBIG, "%s:%lu: line too long", path, ln);
			goto out;
		}
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if ((rc = fn(b, kind, line))) {
			mm_err_set(err, rc, "%s:%lu: %s", path, ln,
				   rc == MM_EPARSE ? "malformed line" : mm_strerror(rc));
			goto out;
		}
	}
	if (ferror(f))
		rc = mm_err_set(err, MM_EIO, "%s: read error", path);
out:
	fclose(f);
	return rc;
}

int mm_geo_builder_add_csv(struct mm_geo_builder *b, unsigned kind, const char *path,
			   struct mm_err *err)
{
	if (kind != MM_GEO_ASN && kind != MM_GEO_COUNTRY)
		return mm_err_set(err, MM_EINVAL, "CSV ranges are ASN or country");
	return each_line(b, path, kind, csv_line, err);
}

static int cidr_line(struct mm_geo_builder *b, unsigned kind, const char *line)
{
	struct mm_ip ip;
	size_t n;
	int len, max;
	u128 lo, span;

	(void)kind;
	while (*line == ' ' || *line == '\t')
		line++;
	n = strcspn(line, " \t#");
	if (!n)
		return line[0] == '#' || !line[0] ? 0 : MM_EPARSE;
	if (mm_cidr_parse(line, n, &ip, &len))
		return MM_EPARSE;
	max = ip.v6 ? 128 : 32;
	lo = ip.v6 ? ip128(&ip) : mm_ip_v4(&ip);
	span = len == 0 ? (ip.v6 ? ~(u128)0 : 0xFFFFFFFFu) : (((u128)1 << (max - len)) - 1);
	return add_range(b, 2, ip.v6, lo, lo | span, 1);
}

int mm_geo_builder_add_cidrs(struct mm_geo_builder *b, const char *path, struct mm_err *err)
{
	return each_line(b, path, 0, cidr_line, err);
}

static int rng_cmp(const void *a, const void *b)
{
	const struct rng *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort r and turn it into starts + values over the whole family (gaps
 * NONE, equal neighbours merged), written over r->v[].lo / .val; the
 * count goes to *out_n. Overlaps: the range that starts first wins, on
 * equal starts the one added first. */
static int flatten(struct rvec *r, int fam, size_t *out_n)
{
	const u128 top = fam ? ~(u128)0 : 0xFFFFFFFFu;
	struct rng *o = NULL;
	size_t i, n = 0, cap = 0;
	u128 next = 0;	/* first address not yet covered */
	int full = 0;	/* covered up to top */

#define EMIT(k, v)                                                                         \
	do {                                                                               \
		if (n && o[n - 1].val == (v))                                              \
			break;                                                             \
		if (grow((void **)&o, &cap, n + 1, sizeof(*o)))                            \
			return MM_ENOMEM;                                                  \
		o[n].lo = (k);                                                             \
		o[n].val = (v);                                                            \
		n++;                                                                       \
	} while (0)

	qsort(r->v, r->n, sizeof(*r->v), rng_cmp);
	for (i = 0; i < r->n && !full; i++) {
		u128 lo = r->v[i].lo;
		if (r->v[i].hi > top)
			continue;
		if (r->v[i].hi < next)
			continue;
		if (lo < next)
			lo = next;
		if (lo > next)
			EMIT(next, NONE);
		EMIT(lo, r->v[i].val);
		if (r->v[i].hi == top)
			full = 1;
		else
			next = r->v[i].hi + 1;
	}
	if (!full)
		EMIT(next, NONE);
#undef EMIT
	mm_free(r->v);
	r->v = o;
	r->cap = cap;
	r->n = n;
	*out_n = n;
	return 0;
}

int mm_geo_builder_finish(struct mm_geo_builder *b, void **buf, size_t *len, struct mm_err *err)
{
	struct {
		uint32_t kind, count;
		uint64_t off, bytes;
	} dir[K_LAST];
	uint32_t ntab = 0, t;
	uint64_t off;
	uint8_t *p;
	int w, fam, rc;

	*buf = NULL;
	*len = 0;
	if (!host_le())
		return mm_err_set(err, MM_EINVAL, "geo files are written on little-endian hosts only");
	for (w = 0; w < 3; w++)
		for (fam = 0; fam < 2; fam++) {
			struct rvec *r = &b->r[w][fam];
			size_t n;
			if (!r->n)
				continue;
			if ((rc = flatten(r, fam, &n)))
				return mm_err_set(err, rc, "out of memory");
			if (n > 0xFFFFFFF0u)
				return mm_err_set(err, MM_ETOOBIG, "too many ranges");
			dir[ntab].kind = (uint32_t)(K_ASN4 + 2 * w + fam);
			dir[ntab].count = (uint32_t)n;
			dir[ntab].bytes = (uint64_t)n * (fam ? 20 : 8);
			ntab++;
		}
	if (b->nrec) {
		dir[ntab].kind = K_ASNREC;
		dir[ntab].count = (uint32_t)b->nrec;
		dir[ntab].bytes = (uint64_t)b->nrec * 8;
		ntab++;
		dir[ntab].kind = K_STR;
		dir[ntab].count = (uint32_t)b->nstr;
		dir[ntab].bytes = b->nstr;
		ntab++;
	}
	off = GEO_HDR + (uint64_t)ntab * GEO_DIRENT;
	for (t = 0; t < ntab; t++) {
		off = (off + 7) & ~(uint64_t)7;
		dir[t].off = off;
		off += dir[t].bytes;
	}
	off = (off + 7) & ~(uint64_t)7;
	if (!(p = mm_calloc(1, (size_t)off)))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	memcpy(p, GEO_MAGIC, 8);
	{
		uint32_t v = GEO_VERSION;
		memcpy(p + 8, &v, 4);
		memcpy(p + 12, &ntab, 4);
		memcpy(p + 16, &off, 8);
	}
	for (t = 0; t < ntab; t++) {
		uint8_t *d = p + GEO_HDR + t * GEO_DIRENT, *s = p + dir[t].off;
		uint32_t i, n = dir[t].count;
		memcpy(d, &dir[t].kind, 4);
		memcpy(d + 4, &dir[t].count, 4);
		memcpy(d + 8, &dir[t].off, 8);
		memcpy(d + 16, &dir[t].bytes, 8);
		if (dir[t].kind == K_ASNREC) {
			memcpy(s, b->rec, (size_t)dir[t].bytes);
			continue;
		}
		if (dir[t].kind == K_STR) {
			memcpy(s, b->str, b->nstr);
			continue;
		}
		w = (int)(dir[t].kind - K_ASN4) / 2;
		fam = (int)(dir[t].kind - K_ASN4) % 2;
		for (i = 0; i < n; i++) {
			const struct rng *r = &b->r[w][fam].v[i];
			if (fam) {
				uint64_t hi = (uint64_t)(r->lo >> 64), lo = (uint64_t)r->lo;
				memcpy(s + 16 * (size_t)i, &hi, 8);
				memcpy(s + 16 * (size_t)i + 8, &lo, 8);
			} else {
				uint32_t k = (uint32_t)r->lo;
				memcpy(s + 4 * (size_t)i, &k, 4);
			}
			memcpy(s + (size_t)n * (fam ? 16 : 4) + 4 * (size_t)i, &r->val, 4);
		}
	}
	*buf = p;
	*len = (size_t)off;
	return 0;
}
