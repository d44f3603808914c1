/* listfmt.c - GuardDuty's list formats into one indicator a line.
 *
 * Every format ends in the same place: take() validates one value the way
 * mm_intel_load would (address, CIDR of /8 or longer for IPv4 and /16 or
 * longer for IPv6, or a DNS name with a dot) and writes it on its own
 * line, or counts it as skipped. Nothing that is not a clean token ever
 * reaches the output, so a field holding "1.2.3.4\n5.6.7.8" or a '#'
 * cannot smuggle a second entry or a comment into the list.
 *
 * The formats (docs/internals/listfmt.md has samples and the reasons):
 *   TXT          passed through as it is (mm_intel_load reads it).
 *   STIX         STIX 1.x XML: CybOX Address_Value, DomainNameObj and
 *                URIObj Value, Hostname_Value; "##comma##" lists,
 *                condition Equals and InclusiveBetween (a range becomes
 *                the CIDRs that cover it exactly).
 *   OTX_CSV      "Indicator type,Indicator,Description".
 *   PROOF_POINT  "ip|domain, category, score, first_seen, last_seen, ports".
 *   FIRE_EYE     iSIGHT CSV: the cidr, domain, ip and url columns.
 *   ALIEN_VAULT  "indicator#risk#reliability#activity#country#city#lat,long#x".
 *
 * STIX is read by the small scanner below, not by libxml2. We need the
 * text of four element names and five attributes; a scanner that knows
 * no DTD cannot load one, expand an entity or open a URL, so XXE and
 * entity bombs are impossible by construction rather than by flags, and
 * it adds no library. It is bounded: element depth STIX_MAX_DEPTH, one
 * value's text at most the document, linear time. It refuses a DOCTYPE,
 * decodes only the five predefined entities and character references,
 * and tolerates the one mistake in GuardDuty's own STIX sample
 * ("<AddressObject:Address_Valuecondition=...>", a missing space). */
#include "intel/listfmt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/common.h"
#include "core/ip.h"
#include "core/mem.h"

__extension__ typedef unsigned __int128 u128;

#define MAX_DOMAIN 253
#define STIX_MAX_DEPTH 256
#define STIX_MAX_ATTR 256	/* attribute text kept; longer values are cut */
#define STIX_MAX_DELIM 32
#define CSV_MAX_FIELDS 128	/* FireEye has 47 columns; more are ignored */
#define CSV_MAX_RECORD (64u << 10)	/* unescaped bytes kept per record */

struct cv {
	struct mm_buf *out;
	struct mm_listfmt_stats *st;
	struct mm_err *err;
};

/* ---- validation and output ------------------------------------------- */

static int is_sp(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_sp((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_sp((*s)[*n - 1]))
		(*n)--;
}

static int eqi(const char *s, size_t n, const char *z)
{
	return strlen(z) == n && strncasecmp(s, z, n) == 0;
}

/* Single labels that mm_intel_load takes bare (overlay networks). */
static int overlay_tld(const char *s, size_t n)
{
	static const char *const tld[] = {"onion", "i2p", "bit", "exit", "tor",
					  "loki",  "emc", "coin", "lib", "bazar"};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(tld); i++)
		if (eqi(s, n, tld[i]))
			return 1;
	return 0;
}

/* The DNS names mm_intel_load takes: optional "*." or "." in front and
 * one "." behind, labels of letters, digits, '-' and '_' (1-63, no '-'
 * at either end), at most 253 characters, a last label that is not all
 * digits, and a dot (or an overlay TLD). */
static int domain_ok(const char *s, size_t n)
{
	size_t i, lab = 0, dots = 0, last = 0;
	int alldigit = 1;

	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	} else if (n && s[0] == '.') {
		s++;
		n--;
	}
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > MAX_DOMAIN)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			alldigit = 1;
			dots++;
			last = i + 1;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
			if (++lab > 63 || (lab == 1 && ch == '-'))
				return 0;
			if (ch < '0' || ch > '9')
				alldigit = 0;
		} else {
			return 0;
		}
	}
	if (lab == 0 || s[n - 1] == '-' || alldigit)
		return 0;
	return dots > 0 || overlay_tld(s + last, n - last);
}

/* "addr/len" as mm_intel_load takes it: IPv4 /8../32, IPv6 /16../128,
 * IPv4-mapped IPv6 prefixes as the IPv4 prefix they denote. */
static int cidr_ok(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t an, i;
	struct mm_ip ip;
	int len = 0, v6text;

	if (!slash)
		return 0;
	an = (size_t)(slash - s);
	if (mm_ip_parse(s, an, &ip) || n - an - 1 == 0 || n - an - 1 > 3)
		return 0;
	for (i = an + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		len = len * 10 + (s[i] - '0');
	}
	v6text = memchr(s, ':', an) != NULL;
	if (len > (v6text ? 128 : 32))
		return 0;
	if (v6text && !ip.v6) {	/* ::ffff:a.b.c.d/len */
		if (len < 96)
			return 0;
		len -= 96;
	}
	return len >= (ip.v6 ? 16 : 8);
}

static int put(struct cv *c, const char *s, size_t n)
{
	if (mm_buf_add(c->out, s, n) || mm_buf_addc(c->out, '\n'))
		return mm_err_set(c->err, MM_ETOOBIG, "the converted list is larger than %u MiB",
				  MM_LIST_MAX_BYTES >> 20);
	c->st->written++;
	return 0;
}

/* Split a URL (or "host/path" without a scheme) into its host; *path is
 * set when anything but a lone "/" follows the host and port. Bracketed
 * IPv6 hosts lose their brackets. 0 when there is no host. */
static int url_host(const char *s, size_t n, const char **h, size_t *hn, int *path)
{
	const char *sch = n > 3 ? memmem(s, n, "://", 3) : NULL;
	size_t i, e, at;

	if (sch) {
		n -= (size_t)(sch + 3 - s);
		s = sch + 3;
	}
	for (e = 0; e < n && s[e] != '/' && s[e] != '?' && s[e] != '#'; e++)
		;
	*path = n - e > 1 || (n - e == 1 && s[e] != '/');
	/* user:password@ */
	for (at = e; at > 0 && s[at - 1] != '@'; at--)
		;
	s += at;
	e -= at;
	if (e && s[0] == '[') {
		const char *rb = memchr(s, ']', e);
		if (!rb)
			return 0;
		*h = s + 1;
		*hn = (size_t)(rb - s - 1);
		return *hn > 0;
	}
	for (i = 0; i < e && s[i] != ':'; i++)
		;
	*h = s;
	*hn = i;
	return i > 0;
}

enum { K_ANY, K_URL };

/* One value from a list: written if mm_intel_load would take it, else
 * counted as skipped. Empty values are neither. */
static int take(struct cv *c, int kind, const char *s, size_t n)
{
	struct mm_ip ip;

	trim(&s, &n);
	if (n == 0)
		return 0;
	if (kind == K_URL || (n > 3 && memmem(s, n, "://", 3))) {
		const char *h;
		size_t hn;
		int path;
		if (!url_host(s, n, &h, &hn, &path)) {
			c->st->skipped++;
			return 0;
		}
		if (mm_ip_parse(h, hn, &ip) == 0)
			return put(c, h, hn);	/* an address in a URL: the address */
		if (path) {
			/* a path on a named host: the host may be a shared
			 * service (a file host, a CDN); the trail is the URL */
			c->st->skipped++;
			return 0;
		}
		s = h;
		n = hn;
	}
	if (mm_ip_parse(s, n, &ip) == 0 || (memchr(s, '/', n) ? cidr_ok(s, n) : domain_ok(s, n)))
		return put(c, s, n);
	c->st->skipped++;
	return 0;
}

/* The CIDRs that cover lo..hi exactly (same family, lo <= hi): at most
 * 2 x the address width of them. Each goes through take(), so a range
 * wider than a /8 (/16 for IPv6) leaves its widest blocks skipped. */
static int range(struct cv *c, const char *a, size_t an, const char *b, size_t bn)
{
	struct mm_ip lo, hi, cur;
	int bits, i, rc;
	u128 x = 0, y = 0;

	trim(&a, &an);
	trim(&b, &bn);
	if (mm_ip_parse(a, an, &lo) || mm_ip_parse(b, bn, &hi) || lo.v6 != hi.v6) {
		c->st->skipped++;
		return 0;
	}
	bits = lo.v6 ? 128 : 32;
	for (i = 0; i < bits / 8; i++) {
		x = (x << 8) | lo.b[i];
		y = (y << 8) | hi.b[i];
	}
	if (x > y) {
		c->st->skipped++;
		return 0;
	}
	for (;;) {
		char txt[MM_IP_STRLEN + 8];
		int k = 0, len;
		u128 next;
		/* the largest block of 2^k addresses aligned at x within y; an
		 * aligned x + 2^(k+1) - 1 cannot overflow */
		while (k < bits && ((x >> k) & 1) == 0) {
			if (k + 1 == 128) {
				if (x == 0 && y == ~(u128)0)
					k++;
				break;
			}
			if (x + (((u128)1 << (k + 1)) - 1) > y)
				break;
			k++;
		}
		memset(&cur, 0, sizeof(cur));
		cur.v6 = lo.v6;
		for (i = 0; i < bits / 8; i++)
			cur.b[i] = (uint8_t)(x >> (bits - 8 - 8 * i));
		mm_ip_format(&cur, txt);
		len = (int)strlen(txt);
		snprintf(txt + len, sizeof(txt) - (size_t)len, "/%d", bits - k);
		if ((rc = take(c, K_ANY, txt, strlen(txt))))
			return rc;
		if (k == bits)
			break;
		next = x + ((u128)1 << k);
		if (next == 0 || next > y)
			break;
		x = next;
	}
	return 0;
}

/* ---- CSV (RFC 4180, leniently) --------------------------------------- */

struct csv {
	const char *p;
	size_t n, off;
	size_t used;
	int nf;
	struct {
		uint32_t off, len;
		uint8_t cut;	/* longer than the record's room: never an indicator */
	} f[CSV_MAX_FIELDS];
	char rec[CSV_MAX_RECORD];
};

static void csv_addc(struct csv *r, char ch)
{
	/* past the record's room the field is cut and marked: its prefix
	 * could read as a different indicator ("1.2.3.45" cut to "1.2.3.4") */
	if (r->nf > CSV_MAX_FIELDS)
		return;
	if (r->used < CSV_MAX_RECORD) {
		r->rec[r->used++] = ch;
		r->f[r->nf - 1].len++;
	} else {
		r->f[r->nf - 1].cut = 1;
	}
}

/* Next record into r->f; 0 at the end. Blank lines and lines that start
 * with '#' are skipped. Fields: surrounding blanks trimmed outside
 * quotes; "..." with "" for a quote, commas and line ends inside; CRLF or
 * LF ends a record. Fields past CSV_MAX_FIELDS are dropped. */
static int csv_next(struct csv *r)
{
	const char *p = r->p;
	size_t n = r->n, i = r->off;

	/* skip blank and comment lines */
	for (;;) {
		size_t j = i;
		while (j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r'))
			j++;
		if (j < n && p[j] == '\n') {
			i = j + 1;
			continue;
		}
		if (j < n && p[j] == '#') {
			const char *nl = memchr(p + j, '\n', n - j);
			i = nl ? (size_t)(nl - p) + 1 : n;
			continue;
		}
		if (j >= n) {
			r->off = n;
			return 0;
		}
		break;
	}
	r->used = 0;
	r->nf = 0;
	for (;;) {
		size_t keep;

		if (r->nf < CSV_MAX_FIELDS) {
			r->f[r->nf].off = (uint32_t)r->used;
			r->f[r->nf].len = 0;
			r->f[r->nf].cut = 0;
		}
		r->nf++;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i < n && p[i] == '"') {
			i++;
			while (i < n) {
				if (p[i] == '"') {
					if (i + 1 < n && p[i + 1] == '"') {
						csv_addc(r, '"');
						i += 2;
						continue;
					}
					i++;
					break;
				}
				csv_addc(r, p[i++]);
			}
		}
		/* unquoted text, or what follows a closing quote */
		keep = r->used;
		while (i < n && p[i] != ',' && p[i] != '\n') {
			csv_addc(r, p[i]);
			if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
				keep = r->used;
			i++;
		}
		/* trailing blanks and the CR of CRLF are not part of the field */
		if (r->nf <= CSV_MAX_FIELDS && r->used > keep) {
			r->f[r->nf - 1].len -= (uint32_t)(r->used - keep);
			r->used = keep;
		}
		if (i < n && p[i] == ',') {
			i++;
			continue;
		}
		if (i < n)	/* '\n' */
			i++;
		break;
	}
	if (r->nf > CSV_MAX_FIELDS)
		r->nf = CSV_MAX_FIELDS;
	r->off = i;
	return 1;
}

/* Field k (empty when absent); NULL when it was cut. */
static const char *fld(const struct csv *r, int k, size_t *n)
{
	*n = 0;
	if (k < 0 || k >= r->nf)
		return "";
	if (r->f[k].cut)
		return NULL;
	*n = r->f[k].len;
	return r->rec + r->f[k].off;
}

static int take_fld(struct cv *c, const struct csv *r, int k, int kind)
{
	size_t n;
	const char *s = fld(r, k, &n);
	if (!s) {
		c->st->skipped++;
		return 0;
	}
	return take(c, kind, s, n);
}

static int fld_is(const struct csv *r, int k, const char *z)
{
	size_t n;
	const char *s = fld(r, k, &n);
	if (!s)
		return 0;
	trim(&s, &n);
	return eqi(s, n, z);
}

static int col_named(const struct csv *r, const char *z)
{
	int k;
	for (k = 0; k < r->nf; k++)
		if (fld_is(r, k, z))
			return k;
	return -1;
}

static struct csv *csv_new(const char *buf, size_t n, struct mm_err *err)
{
	struct csv *r = mm_malloc(sizeof(*r));
	if (!r) {
		mm_err_set(err, MM_ENOMEM, "out of memory");
		return NULL;
	}
	r->p = buf;
	r->n = n;
	r->off = n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	r->used = 0;
	r->nf = 0;
	return r;
}

/* OTX_CSV: "Indicator type,Indicator,Description" (an OTX pulse export).
 * The header names the columns when present. Types taken: IPv4, IPv6,
 * CIDR, domain, hostname ("Domain name", FQDN) and URL/URI (by the URL
 * rule); the others (file hashes, e-mail, CVE, mutex, YARA...) are
 * skipped. */
static int otx(struct cv *c, const char *buf, size_t n)
{
	static const char *const types[] = {"ipv4", "ipv6",	   "cidr", "domain",
					    "hostname", "domain name", "fqdn", "ip"};
	struct csv *r = csv_new(buf, n, c->err);
	int tcol = 0, icol = 1, rc = 0;

	if (!r)
		return MM_ENOMEM;
	while (!rc && csv_next(r)) {
		const char *t, *v;
		size_t tn, vn, i;
		int kind = -1;
		if (fld_is(r, 0, "indicator type") || col_named(r, "indicator") >= 0) {
			int a = col_named(r, "indicator type"), b = col_named(r, "indicator");
			if (a < 0)
				a = col_named(r, "type");
			if (a >= 0 && b >= 0) {
				tcol = a;
				icol = b;
			}
			continue;
		}
		t = fld(r, tcol, &tn);
		v = fld(r, icol, &vn);
		if (!t || !v) {
			c->st->skipped++;
			continue;
		}
		trim(&t, &tn);
		trim(&v, &vn);
		if (vn == 0) {	/* a row without its indicator column */
			c->st->skipped += tn != 0;
			continue;
		}
		if (tn == 0)
			kind = K_ANY;
		for (i = 0; kind < 0 && i < MM_ARRAY_LEN(types); i++)
			if (eqi(t, tn, types[i]))
				kind = K_ANY;
		if (kind < 0 && (eqi(t, tn, "url") || eqi(t, tn, "uri")))
			kind = K_URL;
		if (kind < 0) {
			c->st->skipped++;
			continue;
		}
		rc = take(c, kind, v, vn);
	}
	mm_free(r);
	return rc;
}

/* PROOF_POINT: Proofpoint ET Intelligence (IQRisk) reputation CSV,
 * "ip, category, score, first_seen, last_seen, ports (|)" or the same
 * with "domain" first: the first column. */
static int proofpoint(struct cv *c, const char *buf, size_t n)
{
	struct csv *r = csv_new(buf, n, c->err);
	int rc = 0;

	if (!r)
		return MM_ENOMEM;
	while (!rc && csv_next(r)) {
		if (fld_is(r, 0, "ip") || fld_is(r, 0, "domain"))
			continue;	/* header */
		rc = take_fld(c, r, 0, K_ANY);
	}
	mm_free(r);
	return rc;
}

/* FIRE_EYE: FireEye iSIGHT Threat Intelligence CSV (47 columns, header
 * "reportId, title, threatScape, ..."). Network indicators are taken:
 * cidr, domain, ip, and url (by the URL rule). The e-mail columns
 * (sourceDomain, sourceIp, senderAddress) are not: a sender domain in a
 * phishing report is often spoofed, a real one. Without a header the
 * documented column order is assumed. */
static int fireeye(struct cv *c, const char *buf, size_t n)
{
	static const char *const names[] = {"cidr", "domain", "ip", "url"};
	int cols[4] = {31, 32, 35, 41}, rc = 0;
	struct csv *r = csv_new(buf, n, c->err);

	if (!r)
		return MM_ENOMEM;
	while (!rc && csv_next(r)) {
		size_t k;
		int any = 0;
		if (col_named(r, "reportId") >= 0) {
			for (k = 0; k < MM_ARRAY_LEN(names); k++)
				cols[k] = col_named(r, names[k]);
			continue;
		}
		for (k = 0; !rc && k < MM_ARRAY_LEN(names); k++) {
			uint64_t before = c->st->written + c->st->skipped;
			rc = take_fld(c, r, cols[k], names[k][0] == 'u' ? K_URL : K_ANY);
			any |= c->st->written + c->st->skipped != before;
		}
		if (!any)	/* a row of file hashes, e-mail or nothing we take */
			c->st->skipped++;
	}
	mm_free(r);
	return rc;
}

/* ALIEN_VAULT: the AlienVault (OSSIM) reputation feed, one entry a line:
 * "indicator#risk#reliability#activity#country#city#lat,long#x". The
 * first '#' field; lines starting with '#' are comments. */
static int alienvault(struct cv *c, const char *buf, size_t n)
{
	size_t i = n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	int rc = 0;

	while (!rc && i < n) {
		const char *s = buf + i, *nl = memchr(s, '\n', n - i), *h;
		size_t ln = nl ? (size_t)(nl - s) : n - i;
		i += ln + 1;
		trim(&s, &ln);
		if (ln == 0 || s[0] == '#')
			continue;
		h = memchr(s, '#', ln);
		rc = take(c, K_ANY, s, h ? (size_t)(h - s) : ln);
	}
	return rc;
}

/* ---- STIX 1.x --------------------------------------------------------- */

enum { OT_NONE, OT_ADDR, OT_DOMAIN, OT_URI, OT_OTHER };

struct frame {
	uint8_t otype;		/* xsi:type of this element (a CybOX object's Properties) */
	uint8_t cat_bad;	/* category="" that is not an IP address or network */
	uint8_t urn;		/* URIObj type="General URN" */
};

struct attrs {
	char xsi_type[STIX_MAX_ATTR], category[STIX_MAX_ATTR], type[STIX_MAX_ATTR];
	char condition[STIX_MAX_ATTR], apply[STIX_MAX_ATTR], delim[STIX_MAX_ATTR];
};

struct stix {
	struct cv *c;
	const char *p;
	size_t n, i;
	int depth;
	struct frame fr[STIX_MAX_DEPTH + 1];
	/* the value element being read, if any */
	int in_val, val_kind;
	char condition[32], apply[8], delim[STIX_MAX_DELIM + 1];
	struct mm_buf text;
};

static int stix_fail(struct stix *x, size_t at, const char *why)
{
	uint64_t line = 1;
	size_t k;
	for (k = 0; k < at && k < x->n; k++)
		line += x->p[k] == '\n';
	return mm_err_set(x->c->err, MM_EPARSE, "STIX document line %llu: %s",
			  (unsigned long long)line, why);
}

/* Decode s[0..n) (entities: the five predefined ones and character
 * references; anything else is kept as written, never expanded) into
 * the text buffer or into a fixed attribute buffer (dst != NULL). */
static int decode(struct stix *x, const char *s, size_t n, char *dst, size_t cap)
{
	size_t i = 0, k = dst ? strlen(dst) : 0;

	while (i < n) {
		char ch = s[i];
		size_t adv = 1;
		if (ch == '&') {
			const char *semi = memchr(s + i, ';', MM_MIN(n - i, (size_t)12));
			if (semi) {
				const char *e = s + i + 1;
				size_t en = (size_t)(semi - e);
				unsigned long v = 0;
				int ok = 1;
				if (en == 2 && !memcmp(e, "lt", 2))
					ch = '<';
				else if (en == 2 && !memcmp(e, "gt", 2))
					ch = '>';
				else if (en == 3 && !memcmp(e, "amp", 3))
					ch = '&';
				else if (en == 4 && !memcmp(e, "quot", 4))
					ch = '"';
				else if (en == 4 && !memcmp(e, "apos", 4))
					ch = '\'';
				else if (en >= 2 && e[0] == '#') {
					size_t j = 1;
					int hex = e[1] == 'x';
					if (hex)
						j++;
					if (j == en)
						ok = 0;
					for (; ok && j < en; j++) {
						char d = e[j];
						int dv = d >= '0' && d <= '9'	? d - '0'
							 : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
							 : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
										     : -1;
						if (dv < 0)
							ok = 0;
						else
							v = v * (hex ? 16 : 10) + (unsigned long)dv;
					}
					/* only ASCII matters to an indicator; the rest
					 * becomes a character no indicator holds */
					ch = ok && v > 0 && v < 128 ? (char)v : '?';
				} else {
					ok = 0;
				}
				if (ok)
					adv = en + 2;
				else
					ch = '&';
			}
		}
		if (dst) {
			if (k + 1 < cap)
				dst[k++] = ch;
		} else if (mm_buf_addc(&x->text, ch)) {
			return mm_err_set(x->c->err, MM_ETOOBIG, "STIX value too long");
		}
		i += adv;
	}
	if (dst)
		dst[k] = '\0';
	return 0;
}

static const char *local(const char *s, size_t n, size_t *ln)
{
	const char *colon = memrchr(s, ':', n);
	if (!colon) {
		*ln = n;
		return s;
	}
	*ln = n - (size_t)(colon + 1 - s);
	return colon + 1;
}

static int ends_with(const char *z, const char *suffix)
{
	size_t a = strlen(z), b = strlen(suffix);
	return a >= b && strcasecmp(z + a - b, suffix) == 0;
}

/* Keep one attribute if it is one we read. */
static void attr_keep(struct stix *x, struct attrs *a, const char *nm, size_t nn, const char *v,
		      size_t vn)
{
	size_t ln;
	const char *l = local(nm, nn, &ln);
	char *dst = NULL;

	if (eqi(l, ln, "type"))
		dst = l == nm ? a->type : a->xsi_type;	/* unprefixed: URIObj's own */
	else if (eqi(nm, nn, "category"))
		dst = a->category;
	else if (eqi(nm, nn, "condition"))
		dst = a->condition;
	else if (eqi(nm, nn, "apply_condition"))
		dst = a->apply;
	else if (eqi(nm, nn, "delimiter"))
		dst = a->delim;
	if (dst) {
		dst[0] = '\0';
		decode(x, v, vn, dst, STIX_MAX_ATTR);
	}
}

static int name_char(char ch)
{
	return !is_sp(ch) && ch != '>' && ch != '/' && ch != '=' && ch != '<' && ch != '"' &&
	       ch != '\'';
}

/* Attributes from x->i to the end of the tag; *self set for "/>".
 * Returns 0, or MM_EPARSE when the document ends inside the tag. */
static int attributes(struct stix *x, struct attrs *a, int *self, const char *glued, size_t gn)
{
	const char *p = x->p;
	size_t n = x->n, i = x->i;

	*self = 0;
	for (;;) {
		const char *nm;
		size_t nn;
		while (i < n && is_sp(p[i]))
			i++;
		if (i >= n)
			return stix_fail(x, x->i, "the document ends inside a tag");
		if (p[i] == '>') {
			i++;
			break;
		}
		if (p[i] == '/' && i + 1 < n && p[i + 1] == '>') {
			*self = 1;
			i += 2;
			break;
		}
		if (glued) {	/* the tail of a name run into its attribute */
			nm = glued;
			nn = gn;
			glued = NULL;
		} else {
			nm = p + i;
			while (i < n && name_char(p[i]))
				i++;
			nn = (size_t)(p + i - nm);
			if (nn == 0) {	/* stray character: step over it */
				i++;
				continue;
			}
			while (i < n && is_sp(p[i]))
				i++;
		}
		if (i < n && p[i] == '=') {
			i++;
			while (i < n && is_sp(p[i]))
				i++;
			if (i < n && (p[i] == '"' || p[i] == '\'')) {
				const char *q = memchr(p + i + 1, p[i], n - i - 1);
				if (!q)
					return stix_fail(x, x->i, "the document ends inside an attribute");
				attr_keep(x, a, nm, nn, p + i + 1, (size_t)(q - p - i - 1));
				i = (size_t)(q - p) + 1;
			} else {
				size_t v = i;
				while (i < n && !is_sp(p[i]) && p[i] != '>')
					i++;
				attr_keep(x, a, nm, nn, p + v, i - v);
			}
		}
	}
	x->i = i;
	return 0;
}

static int address_category_ok(const char *cat)
{
	static const char *const ok[] = {"",	     "ipv4-addr", "ipv6-addr", "ipv4-net",
					 "ipv6-net", "cidr"};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(ok); i++)
		if (strcasecmp(cat, ok[i]) == 0)
			return 1;
	return 0;
}

/* The value just read: split on the delimiter, then by condition. */
static int stix_value(struct stix *x)
{
	const char *s = x->text.p ? x->text.p : "", *d = x->delim[0] ? x->delim : "##comma##";
	size_t n = x->text.len, dn = strlen(d);
	const char *parts[2];
	size_t pn[2], np = 0, i = 0;
	int rc = 0;

	if (!strcasecmp(x->apply, "NONE") ||
	    (x->condition[0] && strcasecmp(x->condition, "Equals") &&
	     strcasecmp(x->condition, "InclusiveBetween"))) {
		/* a negation or a pattern (Contains, StartsWith, FitsPattern...) */
		x->c->st->skipped++;
		return 0;
	}
	if (!strcasecmp(x->condition, "InclusiveBetween")) {
		while (i <= n && np < 3) {
			const char *m = memmem(s + i, n - i, d, dn);
			size_t e = m ? (size_t)(m - s) : n;
			if (np < 2) {
				parts[np] = s + i;
				pn[np] = e - i;
			}
			np++;
			i = e + dn;
			if (!m)
				break;
		}
		if (np != 2) {
			x->c->st->skipped++;
			return 0;
		}
		return range(x->c, parts[0], pn[0], parts[1], pn[1]);
	}
	while (!rc && i <= n) {
		const char *m = dn ? memmem(s + i, n - i, d, dn) : NULL;
		size_t e = m ? (size_t)(m - s) : n;
		rc = take(x->c, x->val_kind, s + i, e - i);
		if (!m)
			break;
		i = e + dn;
	}
	return rc;
}

static int stix_start(struct stix *x)
{
	const char *p = x->p, *nm = p + x->i, *glued = NULL, *l;
	size_t n = x->n, nn, ln, gn = 0;
	struct attrs a;
	struct frame *parent = &x->fr[x->depth];
	int self, rc, kind = -1;

	while (x->i < n && name_char(p[x->i]))
		x->i++;
	nn = (size_t)(p + x->i - nm);
	l = local(nm, nn, &ln);
	if (x->i < n && p[x->i] == '=') {
		/* "<AddressObject:Address_Valuecondition=...>" as in
		 * GuardDuty's sample: the value element, then the attribute */
		static const char *const vals[] = {"Address_Value", "Hostname_Value", "Value"};
		size_t k;
		for (k = 0; k < MM_ARRAY_LEN(vals); k++) {
			size_t vl = strlen(vals[k]);
			if (ln > vl && !strncmp(l, vals[k], vl)) {
				glued = l + vl;
				gn = ln - vl;
				nn -= gn;
				ln = vl;
				break;
			}
		}
	}
	memset(&a, 0, sizeof(a));
	if ((rc = attributes(x, &a, &self, glued, gn)))
		return rc;
	if (x->in_val) {	/* markup inside a value: not a value we read */
		x->in_val = 0;
		x->c->st->skipped++;
	}
	if (eqi(l, ln, "Address_Value")) {
		if (!parent->cat_bad && (parent->otype == OT_ADDR || parent->otype == OT_NONE))
			kind = K_ANY;
		else
			x->c->st->skipped++;	/* an e-mail, MAC or ASN address */
	} else if (eqi(l, ln, "Hostname_Value")) {
		kind = K_ANY;
	} else if (eqi(l, ln, "Value") && parent->otype == OT_DOMAIN) {
		kind = K_ANY;
	} else if (eqi(l, ln, "Value") && parent->otype == OT_URI) {
		if (parent->urn)
			x->c->st->skipped++;
		else
			kind = K_URL;
	}
	if (kind >= 0 && !self) {
		x->in_val = x->depth + 1;
		x->val_kind = kind;
		snprintf(x->condition, sizeof(x->condition), "%s", a.condition);
		snprintf(x->apply, sizeof(x->apply), "%s", a.apply);
		if (strlen(a.delim) > STIX_MAX_DELIM) {
			x->in_val = 0;
			x->c->st->skipped++;
		}
		snprintf(x->delim, sizeof(x->delim), "%s", a.delim);
		mm_buf_reset(&x->text);
	}
	if (self)
		return 0;
	if (x->depth >= STIX_MAX_DEPTH)
		return stix_fail(x, (size_t)(nm - p), "elements nested deeper than 256");
	x->depth++;
	{
		struct frame *f = &x->fr[x->depth];
		memset(f, 0, sizeof(*f));
		if (a.xsi_type[0])
			f->otype = ends_with(a.xsi_type, "AddressObjectType")	     ? OT_ADDR
				   : ends_with(a.xsi_type, "DomainNameObjectType") ? OT_DOMAIN
				   : ends_with(a.xsi_type, "URIObjectType")	     ? OT_URI
										     : OT_OTHER;
		f->cat_bad = !address_category_ok(a.category);
		f->urn = strcasecmp(a.type, "General URN") == 0;
	}
	return 0;
}

/* Skip past the terminator term of a construct starting at x->i. */
static int skip_to(struct stix *x, const char *term, const char *what)
{
	const char *e = memmem(x->p + x->i, x->n - x->i, term, strlen(term));
	if (!e)
		return stix_fail(x, x->i, what);
	x->i = (size_t)(e - x->p) + strlen(term);
	return 0;
}

static int stix(struct cv *c, const char *buf, size_t n)
{
	struct stix *x = mm_calloc(1, sizeof(*x));
	size_t i0 = 0;
	int rc = 0, elements = 0;

	if (!x)
		return mm_err_set(c->err, MM_ENOMEM, "out of memory");
	x->c = c;
	x->p = buf;
	x->n = n;
	mm_buf_init(&x->text, MM_LIST_MAX_BYTES);
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i0 = 3;
	if (n >= 2 && ((buf[0] == '\xfe' && buf[1] == '\xff') || (buf[0] == '\xff' && buf[1] == '\xfe'))) {
		rc = mm_err_set(c->err, MM_EPARSE, "the STIX document is UTF-16: save it as UTF-8");
		goto out;
	}
	{
		size_t k = i0;
		while (k < n && is_sp(buf[k]))
			k++;
		if (k < n && (buf[k] == '{' || buf[k] == '[')) {
			rc = mm_err_set(c->err, MM_EPARSE,
					"this is JSON (STIX 2?); GuardDuty's STIX format is STIX 1.x XML: "
					"convert the indicators, or give a TXT list");
			goto out;
		}
	}
	x->i = i0;
	while (!rc && x->i < n) {
		const char *lt = memchr(buf + x->i, '<', n - x->i);
		size_t e = lt ? (size_t)(lt - buf) : n;
		if (x->in_val && e > x->i)
			rc = decode(x, buf + x->i, e - x->i, NULL, 0);
		x->i = e;
		if (rc || !lt)
			break;
		if (n - e >= 4 && !memcmp(lt, "<!--", 4)) {
			x->i += 4;
			rc = skip_to(x, "-->", "the document ends inside a comment");
		} else if (n - e >= 9 && !memcmp(lt, "<![CDATA[", 9)) {
			const char *t = buf + e + 9, *end = memmem(t, n - e - 9, "]]>", 3);
			if (!end) {
				rc = stix_fail(x, e, "the document ends inside a CDATA section");
				break;
			}
			if (x->in_val && mm_buf_add(&x->text, t, (size_t)(end - t)))
				rc = mm_err_set(c->err, MM_ETOOBIG, "STIX value too long");
			x->i = (size_t)(end - buf) + 3;
		} else if (n - e >= 2 && lt[1] == '!') {
			/* <!DOCTYPE ...>, <!ENTITY ...>: no DTD is ever read, so
			 * no entity can be declared, expanded or fetched */
			rc = stix_fail(x, e,
				       "a DOCTYPE or other declaration is not accepted in a STIX list "
				       "(no DTDs, no entities): remove it");
		} else if (n - e >= 2 && lt[1] == '?') {
			x->i += 2;
			rc = skip_to(x, "?>", "the document ends inside a processing instruction");
		} else if (n - e >= 2 && lt[1] == '/') {
			x->i += 2;
			while (x->i < n && buf[x->i] != '>')
				x->i++;
			if (x->i >= n) {
				rc = stix_fail(x, e, "the document ends inside a tag");
				break;
			}
			x->i++;
			if (x->in_val && x->depth == x->in_val) {
				x->in_val = 0;
				rc = stix_value(x);
			} else if (x->in_val) {
				x->in_val = 0;
				c->st->skipped++;
			}
			if (x->depth > 0)
				x->depth--;
		} else if (n - e >= 2 && name_char(lt[1])) {
			x->i++;
			elements++;
			rc = stix_start(x);
		} else {
			/* a '<' that starts no markup: text */
			if (x->in_val)
				rc = decode(x, lt, 1, NULL, 0);
			x->i++;
		}
	}
	if (!rc && elements == 0)
		rc = mm_err_set(c->err, MM_EPARSE,
				"this is not XML: no element found in the STIX document; check that "
				"the list's format is STIX");
out:
	mm_buf_free(&x->text);
	mm_free(x);
	return rc;
}

/* ---- TXT -------------------------------------------------------------- */

/* TXT: the list as it is; mm_intel_load reads it line by line (comments,
 * blanks and bad lines are its business, reported there). Counted as
 * lines that are not blank or comments. */
static int txt(struct cv *c, const char *buf, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - buf) : n, k = i;
		while (k < e && (buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\r'))
			k++;
		if (k < e && buf[k] != '#')
			c->st->written++;
		i = e + 1;
	}
	if (n && mm_buf_add(c->out, buf, n))
		return mm_err_set(c->err, MM_ETOOBIG, "list too big");
	if (n && buf[n - 1] != '\n' && mm_buf_addc(c->out, '\n'))
		return mm_err_set(c->err, MM_ETOOBIG, "list too big");
	return 0;
}

/* ---- the table -------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(struct cv *c, const char *buf, size_t n);
	const char *what;	/* for "no indicator" messages */
} formats[] = {
	{"TXT", txt, "TXT list"},
	{"STIX", stix, "STIX document"},
	{"OTX_CSV", otx, "OTX CSV"},
	{"PROOF_POINT", proofpoint, "Proofpoint CSV"},
	{"FIRE_EYE", fireeye, "FireEye iSIGHT CSV"},
	{"ALIEN_VAULT", alienvault, "AlienVault reputation list"},
};

int mm_listfmt_convert(const char *format, const char *buf, size_t n, struct mm_buf *out,
		       struct mm_listfmt_stats *st, struct mm_err *err)
{
	struct cv c = {out, st, err};
	size_t k;
	int rc;

	memset(st, 0, sizeof(*st));
	for (k = 0; k < MM_ARRAY_LEN(formats); k++)
		if (!strcmp(format, formats[k].name))
			break;
	if (k == MM_ARRAY_LEN(formats))
		return mm_err_set(err, MM_EINVAL, "list format %s is not supported", format);
	if ((rc = formats[k].fn(&c, buf, n)))
		return rc;
	if (st->written == 0 && formats[k].fn != txt)
		return mm_err_set(err, MM_EPARSE,
				  "no addresses, CIDRs or domains found in this %s (%llu entries "
				  "skipped): check that the list's format is %s",
				  formats[k].what, (unsigned long long)st->skipped, format);
	return 0;
}

int mm_listfmt_to_txt(const char *format, const char *buf, size_t n, struct mm_buf *out,
		      uint64_t *count, struct mm_err *err)
{
	struct mm_listfmt_stats st;
	int rc = mm_listfmt_convert(format, buf, n, out, &st, err);
	*count = st.written;
	return rc;
}
