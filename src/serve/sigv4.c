/* sigv4.c - AWS Signature Version 4 verification and signing (sigv4.h).
 *
 * One builder makes the string to sign for both directions, so what we
 * sign in tests is exactly what we verify. Verification order: find the
 * credentials (header, else presigned query), parse and bound them,
 * check scope and time (cheap, no key lookup), look the key up, build
 * the canonical request, compare signatures in constant time. Secrets
 * and derived keys live on the stack and are wiped before return. */
#include "serve/sigv4.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/mtime.h"

#define ALGO "AWS4-HMAC-SHA256"
#define CANON_MAX (256 * 1024)	/* canonical request bytes */
#define SCRATCH_MAX (64 * 1024)	/* encoded query parameters */
#define FIELD_MAX 128		/* region, service, dates in the scope */
#define SIGNED_MAX 2048		/* bytes of the SignedHeaders list */

/* What a request's credentials say, from either form. */
struct creds {
	int presigned;
	char key_id[MM_SIGV4_KEY_ID_MAX];
	char date8[16];		/* scope date YYYYMMDD */
	char region[FIELD_MAX];
	char service[FIELD_MAX];
	char signed_hdrs[SIGNED_MAX];
	char signature[80];
	char amz_date[24];	/* YYYYMMDDTHHMMSSZ */
	long expires;		/* presigned: seconds */
	int date_from_date_hdr;	/* header form: time from Date, not X-Amz-Date */
};

/* ---- small helpers --------------------------------------------------- */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return 0;
	return *a == *b;
}

static int ieqn(const char *a, size_t an, const char *z)
{
	size_t i;
	for (i = 0; i < an && z[i]; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)z[i]))
			return 0;
	return i == an && !z[i];
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* AWS's UriEncode: every byte but the unreserved ones as %XX (upper
 * case); '/' kept when keep_slash. */
static int uri_encode(struct mm_buf *b, const char *p, size_t n, int keep_slash)
{
	static const char d[] = "0123456789ABCDEF";
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			rc = mm_buf_addc(b, (char)c);
		} else {
			char e[3] = {'%', d[c >> 4], d[c & 15]};
			rc = mm_buf_add(b, e, 3);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Decode %XX (a '%' not followed by two hex digits stays itself; '+' is
 * not a space in SigV4) and UriEncode the result, into b. */
static int uri_reencode(struct mm_buf *b, const char *p, size_t n)
{
	size_t i;
	int rc;
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c == '%' && i + 2 < n && mm_hexval(p[i + 1]) >= 0 && mm_hexval(p[i + 2]) >= 0) {
			c = (char)(mm_hexval(p[i + 1]) * 16 + mm_hexval(p[i + 2]));
			i += 2;
		}
		if ((rc = uri_encode(b, &c, 1, 0)))
			return rc;
	}
	return 0;
}

/* Decode %XX (a '%' not followed by two hex digits stays itself; '+' is
 * not a space in SigV4) into out (cap bytes). Length, or -1 if too long. */
static long uri_decode(const char *p, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)p[i];
		if (c == '%' && i + 2 < n && mm_hexval(p[i + 1]) >= 0 && mm_hexval(p[i + 2]) >= 0) {
			c = mm_hexval(p[i + 1]) * 16 + mm_hexval(p[i + 2]);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

/* "YYYYMMDDTHHMMSSZ" -> epoch ms. 0 or -1. */
static int parse_amz_date(const char *s, int64_t *ms)
{
	int v[6], i, k = 0;
	static const int w[6] = {4, 2, 2, 2, 2, 2};
	const char *p = s;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (i = 0; i < 6; i++) {
		int j, x = 0;
		if (i == 3)
			p++;	/* the 'T' */
		for (j = 0; j < w[i]; j++, p++) {
			if (*p < '0' || *p > '9')
				return -1;
			x = x * 10 + (*p - '0');
		}
		v[k++] = x;
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -1;
	*ms = ((mm_days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]) * 86400) +
	       v[3] * 3600 + v[4] * 60 + v[5]) *
	      1000;
	return 0;
}

static void format_amz_date(int64_t ms, char out[24])
{
	int64_t s = ms > 0 ? ms / 1000 : 0, days = s / 86400, sod = s % 86400;
	/* civil from days (Howard Hinnant's algorithm) */
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;

	y += m <= 2;
	snprintf(out, 24, "%04d%02u%02uT%02d%02d%02dZ", (int)(y % 10000), m, d, (int)(sod / 3600),
		 (int)(sod / 60 % 60), (int)(sod % 60));
}

/* RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT" -> "19941106T084937Z". 0/-1. */
static int date_hdr_to_amz(const char *s, char out[24])
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], tz[4];
	int d, y, hh, mi, ss, n = 0, m;
	const char *comma = strchr(s, ',');
	int64_t ms;
	char tmp[24];

	if (!comma || strlen(s) > 64)
		return -1;
	if (sscanf(comma + 1, " %2d %3s %4d %2d:%2d:%2d %3s%n", &d, mon, &y, &hh, &mi, &ss, tz,
		   &n) != 7 ||
	    comma[1 + n + strspn(comma + 1 + n, " \t\r\n")] != '\0' || strcmp(tz, "GMT") != 0 ||
	    strlen(mon) != 3)
		return -1;
	{
		const char *f = strstr(months, mon);
		if (!f || (f - months) % 3)
			return -1;
		m = (int)((f - months) / 3) + 1;
	}
	if (y < 1970 || y > 9999)
		return -1;
	snprintf(tmp, sizeof(tmp), "%04d%02d%02dT%02d%02d%02dZ", y, m, d, hh, mi, ss);
	if (parse_amz_date(tmp, &ms))
		return -1;
	memcpy(out, tmp, 17);
	return 0;
}

/* The one value of header name, or NULL; *count how many there were.
 * Leading blanks are skipped (a server may hand values over untrimmed);
 * trailing ones are the caller's to ignore (see trimmed_len). */
static const char *header(const struct mm_sigv4_req *r, const char *name, int *count)
{
	const char *v = NULL;
	size_t i, n = MM_MIN(r->nheaders, (size_t)MM_SIGV4_MAX_HEADERS);
	*count = 0;
	for (i = 0; i < n; i++)
		if (r->headers[i].name && r->headers[i].value && ieq(r->headers[i].name, name)) {
			if (!v) {
				v = r->headers[i].value;
				while (*v == ' ' || *v == '\t')
					v++;
			}
			(*count)++;
		}
	return v;
}

/* ---- canonical request ----------------------------------------------- */

/* botocore's remove_dot_segments: drop empty and "." segments, ".." pops;
 * keep the leading and (if anything is left) the trailing '/'. Each kept
 * segment is UriEncoded: the path as sent is encoded once more. Written
 * straight into b (a ".." cuts b back to the previous '/': an encoded
 * segment holds none), so no per-segment array on the stack. */
static int canon_path(struct mm_buf *b, const char *path)
{
	size_t base = b->len, plen = strlen(path), nseg = 0;
	const char *p = path, *end = path + plen;
	int rc;

	if (plen == 0)
		return mm_buf_addc(b, '/');
	while (p < end) {
		const char *q = memchr(p, '/', (size_t)(end - p));
		size_t l = q ? (size_t)(q - p) : (size_t)(end - p);
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg) {
				size_t i = b->len;
				while (i > base && b->p[i - 1] != '/')
					i--;
				b->len = i - 1;	/* drop the '/' too */
				b->p[b->len] = '\0';
				nseg--;
			}
		} else if (l && !(l == 1 && p[0] == '.')) {
			if ((rc = mm_buf_addc(b, '/')) || (rc = uri_encode(b, p, l, 0)))
				return rc;
			nseg++;
		}
		p += l + 1;
	}
	if (nseg == 0)
		return path[0] == '/' ? mm_buf_addc(b, '/') : 0;
	if (path[0] != '/') {	/* not an HTTP path, but as botocore would */
		memmove(b->p + base, b->p + base + 1, b->len - base - 1);
		b->p[--b->len] = '\0';
	}
	return path[plen - 1] == '/' ? mm_buf_addc(b, '/') : 0;
}

struct param {
	size_t k, kn, v, vn;	/* offsets into the scratch buffer */
};

/* Insertion sort: qsort's comparator would need the global base, which is
 * not thread-safe; at most MM_SIGV4_MAX_PARAMS entries. */
static void sort_params(struct param *ps, size_t n, const char *base)
{
	size_t i, j;
	for (i = 1; i < n; i++) {
		struct param t = ps[i];
		for (j = i; j > 0; j--) {
			const struct param *a = &ps[j - 1];
			int c = memcmp(base + a->k, base + t.k, MM_MIN(a->kn, t.kn));
			if (!c)
				c = a->kn == t.kn ? 0 : (a->kn < t.kn ? -1 : 1);
			if (!c) {
				c = memcmp(base + a->v, base + t.v, MM_MIN(a->vn, t.vn));
				if (!c)
					c = a->vn == t.vn ? 0 : (a->vn < t.vn ? -1 : 1);
			}
			if (c <= 0)
				break;
			ps[j] = ps[j - 1];
		}
		ps[j] = t;
	}
}

/* Each name=value decoded, then UriEncoded, sorted by name then value;
 * X-Amz-Signature left out when presigned. 0, MM_ETOOBIG, MM_ENOMEM. */
static int canon_query(struct mm_buf *b, const char *query, int presigned)
{
	struct param ps[MM_SIGV4_MAX_PARAMS];
	struct mm_buf s;
	size_t n = 0, i;
	const char *p = query, *end, *base;
	int rc = 0;

	if (!query || !*query)
		return 0;
	mm_buf_init(&s, SCRATCH_MAX);
	end = query + strlen(query);
	while (p < end) {
		const char *start = p, *amp = memchr(p, '&', (size_t)(end - p));
		size_t l = amp ? (size_t)(amp - p) : (size_t)(end - p);
		const char *eq = memchr(p, '=', l);
		size_t kl = eq ? (size_t)(eq - p) : l;

		p += l + 1;
		if (!l)
			continue;
		if (n == MM_SIGV4_MAX_PARAMS) {
			rc = MM_ETOOBIG;
			goto out;
		}
		ps[n].k = s.len;
		if ((rc = uri_reencode(&s, start, kl)))
			goto out;
		ps[n].kn = s.len - ps[n].k;
		/* "X-Amz-Signature" encodes to itself */
		if (presigned && ps[n].kn == 15 && !memcmp(s.p + ps[n].k, "X-Amz-Signature", 15)) {
			s.len = ps[n].k;
			continue;
		}
		ps[n].v = s.len;
		if (eq && (rc = uri_reencode(&s, eq + 1, l - kl - 1)))
			goto out;
		ps[n].vn = s.len - ps[n].v;
		n++;
	}
	base = s.p ? s.p : "";	/* "=" alone adds nothing to s */
	sort_params(ps, n, base);
	for (i = 0; i < n; i++) {
		if ((i && (rc = mm_buf_addc(b, '&'))) || (rc = mm_buf_add(b, base + ps[i].k, ps[i].kn)) ||
		    (rc = mm_buf_addc(b, '=')) || (rc = mm_buf_add(b, base + ps[i].v, ps[i].vn)))
			goto out;
	}
out:
	mm_buf_free(&s);
	return rc;
}

/* name's values (all headers of that name, in order) trimmed, inner runs
 * of blanks as one space, joined with ','. 1 if any, 0 if none, <0. */
static int canon_header_value(struct mm_buf *b, const struct mm_sigv4_req *r, const char *name,
			      size_t nlen)
{
	size_t i, nh = MM_MIN(r->nheaders, (size_t)MM_SIGV4_MAX_HEADERS);
	int found = 0, rc;

	for (i = 0; i < nh; i++) {
		const char *v = r->headers[i].value, *e;
		int space = 0, started = 0;

		if (!r->headers[i].name || !v || !ieqn(name, nlen, r->headers[i].name))
			continue;
		if (strlen(v) > MM_SIGV4_MAX_VALUE)
			return MM_ETOOBIG;
		if (found && (rc = mm_buf_addc(b, ',')))
			return rc;
		found = 1;
		for (e = v; *e; e++) {
			int blank = *e == ' ' || *e == '\t' || *e == '\r' || *e == '\n' ||
				    *e == '\v' || *e == '\f';
			if (blank) {
				space = started;
				continue;
			}
			if (space && (rc = mm_buf_addc(b, ' ')))
				return rc;
			space = 0;
			started = 1;
			if ((rc = mm_buf_addc(b, *e)))
				return rc;
		}
	}
	return found;
}

/* The string to sign into sts. missing (cap 128) names a signed header
 * absent from the request (rc MM_ENOTFOUND). payload: 64 hex chars. */
static int string_to_sign(const struct mm_sigv4_req *r, const struct creds *c, const char *payload,
			  struct mm_buf *sts, char *missing, size_t missing_cap)
{
	struct mm_buf cr;
	unsigned char h[SHA256_DIGEST_LENGTH];
	char hx[2 * SHA256_DIGEST_LENGTH + 1];
	const char *p = c->signed_hdrs;
	int rc;

	mm_buf_init(&cr, CANON_MAX);
	if ((rc = mm_buf_addz(&cr, r->method)) || (rc = mm_buf_addc(&cr, '\n')) ||
	    (rc = canon_path(&cr, r->path)) || (rc = mm_buf_addc(&cr, '\n')) ||
	    (rc = canon_query(&cr, r->query, c->presigned)) || (rc = mm_buf_addc(&cr, '\n')))
		goto out;
	while (*p) {
		const char *semi = strchr(p, ';');
		size_t l = semi ? (size_t)(semi - p) : strlen(p);
		if ((rc = mm_buf_add(&cr, p, l)) || (rc = mm_buf_addc(&cr, ':')))
			goto out;
		if ((rc = canon_header_value(&cr, r, p, l)) < 0)
			goto out;
		if (rc == 0) {
			snprintf(missing, missing_cap, "%.*s", (int)MM_MIN(l, 100), p);
			rc = MM_ENOTFOUND;
			goto out;
		}
		if ((rc = mm_buf_addc(&cr, '\n')))
			goto out;
		p += l + (semi ? 1 : 0);
	}
	if ((rc = mm_buf_addc(&cr, '\n')) || (rc = mm_buf_addz(&cr, c->signed_hdrs)) ||
	    (rc = mm_buf_addc(&cr, '\n')) || (rc = mm_buf_addz(&cr, payload)))
		goto out;
	SHA256((const unsigned char *)cr.p, cr.len, h);
	hex(h, sizeof(h), hx);
	rc = mm_buf_printf(sts, ALGO "\n%s\n%s/%s/%s/aws4_request\n%s", c->amz_date, c->date8,
			   c->region, c->service, hx);
out:
	mm_buf_free(&cr);
	return rc;
}

/* HMAC chain from the secret, then the signature over sts, as hex. */
static int compute_signature(const char *secret, const struct creds *c, const struct mm_buf *sts,
			     char out[65])
{
	unsigned char k[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE];
	char seed[MM_SIGV4_SECRET_MAX + 8];
	const char *parts[4] = {c->date8, c->region, c->service, "aws4_request"};
	unsigned int kl = 0;
	size_t sl = strlen(secret);
	int i, rc = 0;

	if (sl > MM_SIGV4_SECRET_MAX)
		return MM_EINVAL;
	memcpy(seed, "AWS4", 4);
	memcpy(seed + 4, secret, sl);
	if (!HMAC(EVP_sha256(), seed, (int)(sl + 4), (const unsigned char *)parts[0],
		  strlen(parts[0]), k, &kl))
		rc = MM_ENOMEM;
	for (i = 1; !rc && i < 4; i++)
		if (!HMAC(EVP_sha256(), k, (int)kl, (const unsigned char *)parts[i],
			  strlen(parts[i]), k, &kl))
			rc = MM_ENOMEM;
	if (!rc && !HMAC(EVP_sha256(), k, (int)kl, (const unsigned char *)sts->p, sts->len, sig,
			 &kl))
		rc = MM_ENOMEM;
	if (!rc)
		hex(sig, kl, out);
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

/* ---- parsing the credentials ----------------------------------------- */

/* "AKID/DATE/REGION/SERVICE/aws4_request" into c. 0 or -1 (msg set). */
static int parse_credential(const char *s, size_t n, struct creds *c, char *msg, size_t cap)
{
	char *f[5] = {c->key_id, c->date8, c->region, c->service, NULL};
	size_t caps[5] = {sizeof(c->key_id), sizeof(c->date8), sizeof(c->region),
			  sizeof(c->service), 0};
	size_t i = 0, start = 0, k;

	for (k = 0; k <= n; k++) {
		if (k < n && s[k] != '/')
			continue;
		if (i == 4) {
			if (k != n || k - start != 12 || memcmp(s + start, "aws4_request", 12)) {
				snprintf(msg, cap, "Credential should be scoped with a valid terminator: "
						   "'aws4_request'");
				return -1;
			}
			i++;
			break;
		}
		if (k - start == 0 || k - start >= caps[i]) {
			snprintf(msg, cap, "Credential is malformed: expected "
					   "ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request");
			return -1;
		}
		memcpy(f[i], s + start, k - start);
		f[i][k - start] = '\0';
		i++;
		start = k + 1;
	}
	if (i != 5) {
		snprintf(msg, cap, "Credential is malformed: expected "
				   "ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request");
		return -1;
	}
	if (strlen(c->date8) != 8 || strspn(c->date8, "0123456789") != 8) {
		snprintf(msg, cap, "Credential's date is not YYYYMMDD");
		return -1;
	}
	return 0;
}

/* SignedHeaders: lowercase names, ';'-separated, sorted, no repeats, and
 * only characters a header name may hold (so never ',', ';' or '=', which
 * would break the Authorization value). 0 or -1. */
static int check_signed_headers(const char *s, char *msg, size_t cap)
{
	const char *prev = NULL, *p = s;
	size_t prevl = 0, count = 0;

	if (!*s) {
		snprintf(msg, cap, "SignedHeaders is empty");
		return -1;
	}
	while (1) {
		const char *semi = strchr(p, ';');
		size_t l = semi ? (size_t)(semi - p) : strlen(p), i;
		if (!l || ++count > MM_SIGV4_MAX_SIGNED) {
			snprintf(msg, cap, "SignedHeaders is malformed");
			return -1;
		}
		for (i = 0; i < l; i++) {
			unsigned char ch = (unsigned char)p[i];
			/* RFC 9110 token characters, lowercase */
			if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			      (ch && strchr("!#$%&'*+-.^_`|~", ch)))) {
				snprintf(msg, cap, "SignedHeaders must be lowercase header names");
				return -1;
			}
		}
		if (prev) {
			int c = memcmp(prev, p, MM_MIN(prevl, l));
			if (c > 0 || (c == 0 && prevl >= l)) {
				snprintf(msg, cap, "SignedHeaders must be sorted, without repeats");
				return -1;
			}
		}
		prev = p;
		prevl = l;
		if (!semi)
			return 0;
		p = semi + 1;
	}
}

static int has_signed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;
	while (p && *p) {
		const char *semi = strchr(p, ';');
		size_t l = semi ? (size_t)(semi - p) : strlen(p);
		if (l == n && !memcmp(p, name, n))
			return 1;
		p = semi ? semi + 1 : NULL;
	}
	return 0;
}

/* Length of z without trailing blanks. */
static size_t trimmed_len(const char *z)
{
	size_t n = strlen(z);
	while (n && (z[n - 1] == ' ' || z[n - 1] == '\t' || z[n - 1] == '\r' || z[n - 1] == '\n'))
		n--;
	return n;
}

static int copy_field(char *dst, size_t cap, const char *p, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* The Authorization header's value into c. 0 or -1 (msg set). */
static int parse_auth_header(const char *v, struct creds *c, char *msg, size_t cap)
{
	size_t al = strlen(ALGO), n, vl = trimmed_len(v);
	const char *p, *end;
	int have_cred = 0, have_sh = 0, have_sig = 0;

	if (vl > MM_SIGV4_AUTH_MAX) {
		snprintf(msg, cap, "Authorization header is too long");
		return -1;
	}
	if (strncmp(v, ALGO, al) != 0 || (v[al] != ' ' && v[al] != '\t')) {
		snprintf(msg, cap, "Authorization header must use the " ALGO " algorithm");
		return -1;
	}
	p = v + al;
	end = v + vl;
	while (p < end) {
		const char *comma, *eq, *ke, *vs, *ve;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		comma = memchr(p, ',', (size_t)(end - p));
		ve = comma ? comma : end;
		eq = memchr(p, '=', (size_t)(ve - p));
		if (!eq) {
			snprintf(msg, cap, "Authorization header is malformed: expected "
					   "Credential=..., SignedHeaders=..., Signature=...");
			return -1;
		}
		ke = eq;
		while (ke > p && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		vs = eq + 1;
		while (vs < ve && (*vs == ' ' || *vs == '\t'))
			vs++;
		while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		n = (size_t)(ve - vs);
		if (ieqn(p, (size_t)(ke - p), "Credential") && !have_cred) {
			if (parse_credential(vs, n, c, msg, cap))
				return -1;
			have_cred = 1;
		} else if (ieqn(p, (size_t)(ke - p), "SignedHeaders") && !have_sh) {
			if (copy_field(c->signed_hdrs, sizeof(c->signed_hdrs), vs, n)) {
				snprintf(msg, cap, "SignedHeaders is too long");
				return -1;
			}
			have_sh = 1;
		} else if (ieqn(p, (size_t)(ke - p), "Signature") && !have_sig) {
			if (copy_field(c->signature, sizeof(c->signature), vs, n)) {
				snprintf(msg, cap, "Signature is too long");
				return -1;
			}
			have_sig = 1;
		} else {
			snprintf(msg, cap, "Authorization header is malformed: unexpected or "
					   "repeated parameter");
			return -1;
		}
		p = comma ? comma + 1 : end;
	}
	if (!have_cred || !have_sh || !have_sig) {
		snprintf(msg, cap, "Authorization header requires '%s' parameter",
			 !have_cred ? "Credential" : !have_sh ? "SignedHeaders" : "Signature");
		return -1;
	}
	return 0;
}

/* The presigned form's X-Amz-* query parameters into c. 0, 1 (none of
 * them: not presigned), -1 (msg set). */
static int parse_presigned(const char *q, struct creds *c, char *msg, size_t cap)
{
	static const char *const names[] = {"X-Amz-Algorithm", "X-Amz-Credential",
					    "X-Amz-Date",      "X-Amz-Expires",
					    "X-Amz-SignedHeaders", "X-Amz-Signature"};
	char val[6][SIGNED_MAX];
	int seen[6] = {0}, any = 0, i;
	const char *p = q, *end;
	char key[64];

	if (!q)
		return 1;
	end = q + strlen(q);
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t l = amp ? (size_t)(amp - p) : (size_t)(end - p);
		const char *eq = memchr(p, '=', l);
		size_t kl = eq ? (size_t)(eq - p) : l;

		if (uri_decode(p, kl, key, sizeof(key)) >= 0)
			for (i = 0; i < 6; i++)
				if (!strcmp(key, names[i])) {
					any = 1;
					if (seen[i]++) {
						snprintf(msg, cap, "%s is repeated", names[i]);
						return -1;
					}
					if (uri_decode(eq ? eq + 1 : p + l, eq ? l - kl - 1 : 0,
						       val[i], sizeof(val[i])) < 0) {
						snprintf(msg, cap, "%s is too long", names[i]);
						return -1;
					}
				}
		p += l + 1;
	}
	if (!any)
		return 1;
	for (i = 0; i < 6; i++)
		if (!seen[i]) {
			snprintf(msg, cap, "AWS query-string parameters must include '%s'", names[i]);
			return -1;
		}
	if (strcmp(val[0], ALGO)) {
		snprintf(msg, cap, "X-Amz-Algorithm must be " ALGO);
		return -1;
	}
	if (parse_credential(val[1], strlen(val[1]), c, msg, cap))
		return -1;
	if (copy_field(c->amz_date, sizeof(c->amz_date), val[2], strlen(val[2])) ||
	    copy_field(c->signed_hdrs, sizeof(c->signed_hdrs), val[4], strlen(val[4])) ||
	    copy_field(c->signature, sizeof(c->signature), val[5], strlen(val[5]))) {
		snprintf(msg, cap, "X-Amz-Date, X-Amz-SignedHeaders or X-Amz-Signature is too long");
		return -1;
	}
	{
		long x;
		if (!val[3][0] || strspn(val[3], "0123456789") != strlen(val[3]) ||
		    strlen(val[3]) > 7 || (x = strtol(val[3], NULL, 10)) < 1 ||
		    x > MM_SIGV4_MAX_EXPIRES) {
			snprintf(msg, cap, "X-Amz-Expires must be a number of seconds from 1 to %d",
				 MM_SIGV4_MAX_EXPIRES);
			return -1;
		}
		c->expires = x;
	}
	c->presigned = 1;
	return 0;
}

/* ---- verify ---------------------------------------------------------- */

static int fail(enum mm_sigv4_fail f, enum mm_sigv4_fail *why, struct mm_err *err,
		const char *msg)
{
	if (why)
		*why = f;
	mm_err_set(err, MM_EINVAL, "%s", msg);
	return MM_EINVAL;
}

static int payload_hash(const struct mm_sigv4_req *r, char out[65])
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	SHA256(r->body_len ? (const unsigned char *)r->body : (const unsigned char *)"",
	       r->body_len, h);
	hex(h, sizeof(h), out);
	return 0;
}

int mm_sigv4_verify(const struct mm_sigv4_req *r, mm_sigv4_secret_fn fn, void *ctx,
		    char *key_id, size_t key_id_cap, enum mm_sigv4_fail *why,
		    struct mm_err *err)
{
	struct creds c;
	struct mm_buf sts;
	char msg[320], payload[65], expect[65], secret[MM_SIGV4_SECRET_MAX + 1], missing[128];
	const char *auth, *xcs;
	int n_auth, n, rc;
	int64_t t, now = r->now_ms;

	memset(&c, 0, sizeof(c));
	msg[0] = '\0';
	mm_buf_init(&sts, 1024);
	if (why)
		*why = MM_SIGV4_OK;
	if (key_id && key_id_cap)
		key_id[0] = '\0';
	mm_err_clear(err);
	if (!r->method || !r->path || !r->service || (r->nheaders && !r->headers) ||
	    (r->body_len && !r->body))
		return mm_err_set(err, MM_EINVAL, "sigv4: incomplete request given to verify");

	auth = header(r, "authorization", &n_auth);
	if (r->nheaders > MM_SIGV4_MAX_HEADERS)
		return fail(MM_SIGV4_MALFORMED, why, err, "Too many headers");
	if (n_auth > 1)
		return fail(MM_SIGV4_MALFORMED, why, err, "Only one Authorization header allowed");
	if (strlen(r->path) > MM_SIGV4_MAX_PATH || (r->query && strlen(r->query) > MM_SIGV4_MAX_QUERY))
		return fail(MM_SIGV4_MALFORMED, why, err, "Request path or query string too long");
	if (auth) {
		if (parse_auth_header(auth, &c, msg, sizeof(msg)))
			return fail(MM_SIGV4_MALFORMED, why, err, msg);
		if ((rc = parse_presigned(r->query, &(struct creds){0}, msg, sizeof(msg))) <= 0)
			return fail(MM_SIGV4_MALFORMED, why, err,
				    "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
				    "parameter or the Authorization header should be specified");
	} else {
		rc = parse_presigned(r->query, &c, msg, sizeof(msg));
		if (rc < 0)
			return fail(MM_SIGV4_MALFORMED, why, err, msg);
		if (rc > 0)
			return fail(MM_SIGV4_MISSING, why, err, "Missing Authentication Token");
	}
	if (check_signed_headers(c.signed_hdrs, msg, sizeof(msg)))
		return fail(MM_SIGV4_MALFORMED, why, err, msg);
	if (!has_signed(c.signed_hdrs, "host"))
		return fail(MM_SIGV4_MALFORMED, why, err,
			    "'Host' must be a signed header");

	/* the request time: X-Amz-Date (query or header), else Date */
	if (!c.presigned) {
		const char *xd = header(r, "x-amz-date", &n);
		if (n > 1)
			return fail(MM_SIGV4_MALFORMED, why, err, "X-Amz-Date is repeated");
		if (xd) {
			if (!has_signed(c.signed_hdrs, "x-amz-date"))
				return fail(MM_SIGV4_MALFORMED, why, err,
					    "'X-Amz-Date' must be a signed header");
			if (copy_field(c.amz_date, sizeof(c.amz_date), xd, trimmed_len(xd)))
				return fail(MM_SIGV4_MALFORMED, why, err,
					    "X-Amz-Date must be YYYYMMDD'T'HHMMSS'Z'");
		} else {
			const char *d = header(r, "date", &n);
			if (!d)
				return fail(MM_SIGV4_MALFORMED, why, err,
					    "Authorization header requires existence of either a "
					    "'X-Amz-Date' or a 'Date' header");
			if (n > 1 || date_hdr_to_amz(d, c.amz_date))
				return fail(MM_SIGV4_MALFORMED, why, err,
					    "Date must be an RFC 1123 date in GMT");
			if (!has_signed(c.signed_hdrs, "date"))
				return fail(MM_SIGV4_MALFORMED, why, err,
					    "'Date' must be a signed header");
			c.date_from_date_hdr = 1;
		}
	}
	if (parse_amz_date(c.amz_date, &t))
		return fail(MM_SIGV4_MALFORMED, why, err, "X-Amz-Date must be YYYYMMDD'T'HHMMSS'Z'");

	/* scope: service, then date */
	if (strcmp(c.service, r->service)) {
		snprintf(msg, sizeof(msg), "Credential should be scoped to correct service: '%s'.",
			 r->service);
		return fail(MM_SIGV4_WRONG_SCOPE, why, err, msg);
	}
	if (memcmp(c.date8, c.amz_date, 8)) {
		snprintf(msg, sizeof(msg),
			 "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
			 "date from HTTP: '%s' != '%.8s', from '%s'.",
			 c.date8, c.amz_date, c.amz_date);
		return fail(MM_SIGV4_WRONG_SCOPE, why, err, msg);
	}

	/* time */
	{
		char a[24], b[24], nw[24];
		format_amz_date(now, nw);
		if (c.presigned) {
			if (t > now + MM_SIGV4_SKEW_MS) {
				format_amz_date(now + MM_SIGV4_SKEW_MS, b);
				snprintf(msg, sizeof(msg),
					 "Signature not yet current: %s is still later than %s (%s + "
					 "15 min.)",
					 c.amz_date, b, nw);
				return fail(MM_SIGV4_EXPIRED, why, err, msg);
			}
			if (now > t + (int64_t)c.expires * 1000) {
				format_amz_date(t + (int64_t)c.expires * 1000, a);
				snprintf(msg, sizeof(msg),
					 "Signature expired: %s is now earlier than %s (presigned "
					 "URL valid %ld s from %s).",
					 a, nw, c.expires, c.amz_date);
				return fail(MM_SIGV4_EXPIRED, why, err, msg);
			}
		} else if (t < now - MM_SIGV4_SKEW_MS) {
			format_amz_date(now - MM_SIGV4_SKEW_MS, b);
			snprintf(msg, sizeof(msg),
				 "Signature expired: %s is now earlier than %s (%s - 15 min.)",
				 c.amz_date, b, nw);
			return fail(MM_SIGV4_EXPIRED, why, err, msg);
		} else if (t > now + MM_SIGV4_SKEW_MS) {
			format_amz_date(now + MM_SIGV4_SKEW_MS, b);
			snprintf(msg, sizeof(msg),
				 "Signature not yet current: %s is still later than %s (%s + 15 "
				 "min.)",
				 c.amz_date, b, nw);
			return fail(MM_SIGV4_EXPIRED, why, err, msg);
		}
	}

	/* payload: the body's hash; a client-sent hash must be that one */
	payload_hash(r, payload);
	xcs = header(r, "x-amz-content-sha256", &n);
	if (xcs && (n > 1 || trimmed_len(xcs) != 64 || memcmp(xcs, payload, 64)))
		return fail(MM_SIGV4_BAD_SIGNATURE, why, err,
			    "The provided 'x-amz-content-sha256' header does not match what was "
			    "computed.");

	/* the key */
	rc = fn(ctx, c.key_id, secret, sizeof(secret));
	if (rc == MM_ENOTFOUND)
		return fail(MM_SIGV4_UNKNOWN_KEY, why, err,
			    "The security token included in the request is invalid.");
	if (rc) {
		OPENSSL_cleanse(secret, sizeof(secret));
		if (!err || !err->msg[0])
			mm_err_set(err, rc, "sigv4: looking up the access key: %s", mm_strerror(rc));
		return rc;
	}
	secret[sizeof(secret) - 1] = '\0';

	rc = string_to_sign(r, &c, payload, &sts, missing, sizeof(missing));
	if (!rc)
		rc = compute_signature(secret, &c, &sts, expect);
	OPENSSL_cleanse(secret, sizeof(secret));
	mm_buf_free(&sts);
	if (rc == MM_ENOTFOUND) {
		snprintf(msg, sizeof(msg), "Signed header '%s' is not in the request", missing);
		return fail(MM_SIGV4_MALFORMED, why, err, msg);
	}
	if (rc == MM_ETOOBIG)
		return fail(MM_SIGV4_MALFORMED, why, err, "Request too large to verify");
	if (rc)
		return mm_err_set(err, rc, "sigv4: computing the signature: %s", mm_strerror(rc));
	if (strlen(c.signature) != 64 || CRYPTO_memcmp(c.signature, expect, 64) != 0) {
		OPENSSL_cleanse(expect, sizeof(expect));
		return fail(MM_SIGV4_BAD_SIGNATURE, why, err,
			    "The request signature we calculated does not match the signature you "
			    "provided. Check your AWS Secret Access Key and signing method. Consult "
			    "the service documentation for details.");
	}
	OPENSSL_cleanse(expect, sizeof(expect));
	if (key_id && key_id_cap)
		mm_str_copy(key_id, key_id_cap, mm_str_c(c.key_id));
	return 0;
}

/* ---- sign ------------------------------------------------------------ */

int mm_sigv4_sign(const struct mm_sigv4_req *r, const char *amz_date, const char *region,
		  const char *access_key_id, const char *secret, char *out, size_t cap,
		  struct mm_err *err)
{
	struct creds c;
	struct mm_buf sts;
	char payload[65], sig[65], missing[128];
	const char *names[MM_SIGV4_MAX_HEADERS];
	size_t nn = 0, i, j, nh;
	size_t off = 0;
	int64_t t;
	int rc;

	memset(&c, 0, sizeof(c));
	if (!r->method || !r->path || !r->service || !amz_date || !region || !access_key_id ||
	    !secret || (r->nheaders && !r->headers) || (r->body_len && !r->body))
		return mm_err_set(err, MM_EINVAL, "sigv4 sign: missing input");
	if (parse_amz_date(amz_date, &t))
		return mm_err_set(err, MM_EINVAL, "sigv4 sign: date must be YYYYMMDDTHHMMSSZ");
	if (r->nheaders > MM_SIGV4_MAX_HEADERS || strlen(r->path) > MM_SIGV4_MAX_PATH ||
	    (r->query && strlen(r->query) > MM_SIGV4_MAX_QUERY))
		return mm_err_set(err, MM_ETOOBIG, "sigv4 sign: request over the bounds");
	if (copy_field(c.key_id, sizeof(c.key_id), access_key_id, strlen(access_key_id)) ||
	    copy_field(c.region, sizeof(c.region), region, strlen(region)) ||
	    copy_field(c.service, sizeof(c.service), r->service, strlen(r->service)) ||
	    strlen(secret) > MM_SIGV4_SECRET_MAX)
		return mm_err_set(err, MM_ETOOBIG, "sigv4 sign: key, region or service too long");
	memcpy(c.amz_date, amz_date, 17);
	memcpy(c.date8, amz_date, 8);
	/* signed headers: every distinct name but Authorization, lowercased,
	 * sorted */
	nh = r->nheaders;
	for (i = 0; i < nh; i++) {
		const char *nm = r->headers[i].name;
		if (!nm || !r->headers[i].value || ieq(nm, "authorization"))
			continue;
		for (j = 0; j < nn && !ieq(names[j], nm); j++)
			;
		if (j == nn)
			names[nn++] = nm;
	}
	for (i = 1; i < nn; i++)	/* insertion sort, case-insensitive */
		for (j = i; j > 0; j--) {
			const char *a = names[j - 1], *b = names[j];
			size_t k = 0;
			while (a[k] && lower((unsigned char)a[k]) == lower((unsigned char)b[k]))
				k++;
			if (lower((unsigned char)a[k]) <= lower((unsigned char)b[k]))
				break;
			names[j - 1] = b;
			names[j] = a;
		}
	for (i = 0; i < nn; i++) {
		size_t l = strlen(names[i]);
		if (off + l + 2 > sizeof(c.signed_hdrs))
			return mm_err_set(err, MM_ETOOBIG, "sigv4 sign: too many headers");
		if (i)
			c.signed_hdrs[off++] = ';';
		for (j = 0; j < l; j++)
			c.signed_hdrs[off++] = (char)lower((unsigned char)names[i][j]);
	}
	c.signed_hdrs[off] = '\0';
	if (check_signed_headers(c.signed_hdrs, missing, sizeof(missing)) ||
	    !has_signed(c.signed_hdrs, "host") ||
	    (!has_signed(c.signed_hdrs, "x-amz-date") && !has_signed(c.signed_hdrs, "date")))
		return mm_err_set(err, MM_EINVAL,
				  "sigv4 sign: needs Host and X-Amz-Date (or Date) headers, valid "
				  "names");
	{
		const char *xcs;
		int n;
		payload_hash(r, payload);
		if ((xcs = header(r, "x-amz-content-sha256", &n)) && n == 1 && trimmed_len(xcs) < 65)
			snprintf(payload, sizeof(payload), "%.*s", (int)trimmed_len(xcs), xcs);
	}
	mm_buf_init(&sts, 1024);
	rc = string_to_sign(r, &c, payload, &sts, missing, sizeof(missing));
	if (!rc)
		rc = compute_signature(secret, &c, &sts, sig);
	mm_buf_free(&sts);
	if (rc)
		return mm_err_set(err, rc == MM_ENOTFOUND ? MM_EINVAL : rc, "sigv4 sign: %s",
				  mm_strerror(rc));
	if ((size_t)snprintf(out, cap,
			     ALGO " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
				  "Signature=%s",
			     c.key_id, c.date8, c.region, c.service, c.signed_hdrs, sig) >= cap)
		return mm_err_set(err, MM_ETOOBIG, "sigv4 sign: output buffer too small");
	return 0;
}

const char *mm_sigv4_fail_type(enum mm_sigv4_fail why)
{
	switch (why) {
	case MM_SIGV4_MISSING:
		return "MissingAuthenticationTokenException";
	case MM_SIGV4_MALFORMED:
		return "IncompleteSignatureException";
	case MM_SIGV4_UNKNOWN_KEY:
		return "UnrecognizedClientException";
	case MM_SIGV4_BAD_SIGNATURE:
	case MM_SIGV4_EXPIRED:
	case MM_SIGV4_WRONG_SCOPE:
		return "InvalidSignatureException";
	case MM_SIGV4_OK:
		break;
	}
	return "InternalServerException";
}
