/* json.c - the on-demand JSON scanner behind core/json.h.
 *
 * One pass, no allocation, strict RFC 8259: every value handed out has
 * been validated (grammar, escapes, no raw control characters, UTF-8).
 * Inputs are never NUL-terminated, so every read is checked against end.
 *
 * Speed comes from the string scanner: strings are most of the bytes in
 * CloudTrail and DNS logs, and it looks at 16 bytes per step (SSE2) for
 * the only bytes that need attention: '"', '\\', a control character or a
 * non-ASCII byte (whose UTF-8 is then checked byte by byte). Containers
 * are skipped iteratively with a bit stack (object/array per level), so
 * deep input cannot overflow the C stack. */
#include "core/json.h"

#include "core/buf.h"

#include <string.h>

#include "core/err.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if MM_JSON_MAX_DEPTH > 64
#error "the container bit stack holds 64 levels"
#endif

/* Byte classes: JSON whitespace, and what may follow a scalar (a
 * delimiter: whitespace, ',', ']', '}', ':'). One load and a test where
 * a chain of compares ran for every token. */
enum { C_WS = 1, C_DELIM = 2 };
static const unsigned char cls[256] = {
	[' '] = C_WS | C_DELIM, ['\n'] = C_WS | C_DELIM, ['\r'] = C_WS | C_DELIM,
	['\t'] = C_WS | C_DELIM, [','] = C_DELIM, [']'] = C_DELIM, ['}'] = C_DELIM,
	[':'] = C_DELIM,
};

static inline const char *skip_ws(const char *p, const char *end)
{
	/* logs are compact JSON: the next byte is seldom whitespace, and a
	 * byte above ' ' never is */
	if (MM_LIKELY(p < end && (unsigned char)*p > ' '))
		return p;
	while (p < end && (cls[(unsigned char)*p] & C_WS))
		p++;
	return p;
}

static inline int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* memchr costs a call; most strings in logs are short */
static inline int has_backslash(const char *s, size_t n)
{
	size_t i;
	if (n > 32)
		return memchr(s, '\\', n) != NULL;
	for (i = 0; i < n; i++)
		if (s[i] == '\\')
			return 1;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if
 * invalid, -1 if it runs past end. Overlongs and surrogates rejected. */
int mm_json_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	int len, i;

	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	for (i = 1; i < len; i++) {
		if (p + i >= end)
			return -1;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
	}
	return len;
}

/* The bytes of p[0..16) a string cannot hold as they are, as a bit mask:
 * '"', '\\', a control character or a non-ASCII byte (one signed compare
 * catches 0x00-0x1f and 0x80-0xff at once). */
#if defined(__SSE2__)
static MM_ALWAYS_INLINE unsigned special16(const char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
	__m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
	__m128i k = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), k));
}
#endif

/* The first byte at or after p that a string cannot hold as it is: '"',
 * '\\', a control character or a non-ASCII byte (end if none). 16 bytes
 * a step with SSE2. */
static const char *next_special(const char *p, const char *end)
{
#if defined(__SSE2__)
	while (end - p >= 16) {
		unsigned m = special16(p);
		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
#endif
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
			return p;
		p++;
	}
	return p;
}

size_t mm_json_plain_len(const char *s, size_t n)
{
	return (size_t)(next_special(s, s + n) - s);
}

/* p is just past an opening quote. On success returns 0 and *close is
 * the closing quote; *esc is set to 1 if a backslash was seen. Errors:
 * MM_ETRUNC (input ended) or MM_EPARSE; *close is then where. */
static int scan_string(const char *p, const char *end, const char **close, int *esc)
{
	/* next_special's loop written out: as a call (even inlined) it cost
	 * the scanner ~4% more instructions (callgrind, CloudTrail); the
	 * 16-byte step itself is shared (special16) */
	for (;;) {
		unsigned char c;
#if defined(__SSE2__)
		while (end - p >= 16) {
			unsigned m = special16(p);
			if (m) {
				p += __builtin_ctz(m);
				goto special;
			}
			p += 16;
		}
#endif
		while (p < end) {
			c = (unsigned char)*p;
			if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
				goto special;
			p++;
		}
		*close = p;
		return MM_ETRUNC;
special:
		c = (unsigned char)*p;
		if (c == '"') {
			*close = p;
			return 0;
		}
		if (c == '\\') {
			*esc = 1;
			if (p + 1 >= end) {
				*close = p;
				return MM_ETRUNC;
			}
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				p += 2;
				break;
			case 'u': {
				int i;
				for (i = 2; i < 6; i++) {
					if (p + i >= end) {
						*close = p;
						return MM_ETRUNC;
					}
					if (hexval((unsigned char)p[i]) < 0) {
						*close = p;
						return MM_EPARSE;
					}
				}
				p += 6;
				break;
			}
			default:
				*close = p;
				return MM_EPARSE;
			}
			continue;
		}
		if (c < 0x20) {
			*close = p;
			return MM_EPARSE;
		}
		{
			int l = mm_json_utf8_len((const unsigned char *)p, (const unsigned char *)end);
			if (l <= 0) {
				*close = p;
				return l < 0 ? MM_ETRUNC : MM_EPARSE;
			}
			p += l;
		}
	}
}

/* scan_string for the common case, inlined: a string that ends within
 * its first 16 bytes with nothing to decode or check (keys, rcodes,
 * regions, addresses...). Anything else goes to scan_string, which
 * looks at those bytes again. */
static MM_ALWAYS_INLINE int str_fast(const char *p, const char *end, const char **close, int *esc)
{
#if defined(__SSE2__)
	if (MM_LIKELY(end - p >= 16)) {
		unsigned m = special16(p);
		if (MM_LIKELY(m)) {
			const char *c = p + __builtin_ctz(m);
			if (MM_LIKELY(*c == '"')) {
				*close = c;
				return 0;
			}
		}
	}
#endif
	return scan_string(p, end, close, esc);
}

/* One or more digits (a number's integer part, fraction or exponent): 0
 * with *p past them, else MM_ETRUNC (input ends) or MM_EPARSE with *p
 * where they should start. */
static int scan_digits(const char **p, const char *end)
{
	const char *q = *p;
	if (q >= end)
		return MM_ETRUNC;
	if (*q < '0' || *q > '9')
		return MM_EPARSE;
	while (q < end && *q >= '0' && *q <= '9')
		q++;
	*p = q;
	return 0;
}

/* Number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(const char *p, const char *end, const char **after)
{
	int rc = 0;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else
		rc = scan_digits(&p, end);
	if (!rc && p < end && *p == '.') {
		p++;
		rc = scan_digits(&p, end);
	}
	if (!rc && p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		rc = scan_digits(&p, end);
	}
	*after = p;
	return rc;
}

static int scan_lit(const char *p, const char *end, const char *lit, size_t len)
{
	size_t have = (size_t)(end - p);
	if (have < len)
		return memcmp(p, lit, have) == 0 ? MM_ETRUNC : MM_EPARSE;
	return memcmp(p, lit, len) == 0 ? 0 : MM_EPARSE;
}

/* Scan one value at p (no leading whitespace). max_depth bounds container
 * nesting counted from this value. On success *after is just past the
 * value; on failure *after is where the error is. Returns 0, MM_EPARSE,
 * MM_ETRUNC or MM_EDEPTH. */
static int scan_value(const char *p, const char *end, int max_depth, enum mm_json_type *type,
		      int *esc_out, const char **after)
{
	uint64_t stack = 0;	/* bit d set: level d is an object */
	int d = 0, rc, esc = 0;
	const char *q;

	*type = MM_JSON_INVALID;
value:
	if (p >= end)
		goto trunc;
	switch (*p) {
	case '{':
	case '[':
		if (d >= max_depth) {
			rc = MM_EDEPTH;
			goto fail;
		}
		if (d == 0)
			*type = *p == '{' ? MM_JSON_OBJECT : MM_JSON_ARRAY;
		if (*p == '{')
			stack |= (uint64_t)1 << d;
		else
			stack &= ~((uint64_t)1 << d);
		d++;
		p = skip_ws(p + 1, end);
		if (p >= end)
			goto trunc;
		if (stack & ((uint64_t)1 << (d - 1))) {
			if (*p == '}')
				goto pop;
			goto key;
		}
		if (*p == ']')
			goto pop;
		goto value;
	case '"':
		if (d == 0)
			*type = MM_JSON_STRING;
		rc = str_fast(p + 1, end, &q, &esc);
		if (rc) {
			p = q;
			goto fail;
		}
		p = q + 1;
		goto next;
	case 't':
	case 'f':
	case 'n': {
		/* true, false, null: the first byte names the literal */
		static const struct {
			const char *s;
			size_t n;
			enum mm_json_type type;
		} lits[] = {{"true", 4, MM_JSON_TRUE}, {"false", 5, MM_JSON_FALSE},
			    {"null", 4, MM_JSON_NULL}};
		int i = *p == 't' ? 0 : *p == 'f' ? 1 : 2;

		if (d == 0)
			*type = lits[i].type;
		rc = scan_lit(p, end, lits[i].s, lits[i].n);
		if (rc)
			goto fail;
		p += lits[i].n;
		goto next;
	}
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9')) {
			if (d == 0)
				*type = MM_JSON_NUMBER;
			rc = scan_number(p, end, &q);
			p = q;
			if (rc)
				goto fail;
			/* "01", "1x": a number must end at a delimiter; the caller
			 * (or the container) checks what follows. */
			goto next;
		}
		rc = MM_EPARSE;
		goto fail;
	}
key:
	/* p at the first non-space byte where an object key must start */
	if (*p != '"') {
		rc = MM_EPARSE;
		goto fail;
	}
	rc = str_fast(p + 1, end, &q, &esc);
	if (rc) {
		p = q;
		goto fail;
	}
	p = skip_ws(q + 1, end);
	if (p >= end)
		goto trunc;
	if (*p != ':') {
		rc = MM_EPARSE;
		goto fail;
	}
	p = skip_ws(p + 1, end);
	goto value;
pop:
	/* the container at depth d closes at p */
	p++;
	d--;
next:
	if (d == 0) {
		*esc_out = esc;
		*after = p;
		return 0;
	}
	p = skip_ws(p, end);
	if (p >= end)
		goto trunc;
	if (stack & ((uint64_t)1 << (d - 1))) {
		if (*p == ',') {
			p = skip_ws(p + 1, end);
			if (p >= end)
				goto trunc;
			goto key;
		}
		if (*p == '}')
			goto pop;
	} else {
		if (*p == ',') {
			p = skip_ws(p + 1, end);
			goto value;
		}
		if (*p == ']')
			goto pop;
	}
	rc = MM_EPARSE;
	goto fail;
trunc:
	rc = MM_ETRUNC;
fail:
	*after = p;
	return rc;
}

/* A scalar must be followed by a delimiter, else "1x" or "truex" would
 * scan as a value followed by garbage the caller might not look at. */
static inline int ends_ok(const char *p, const char *end)
{
	return p >= end || (cls[(unsigned char)*p] & C_DELIM);
}

int mm_json_scan(const char *p, size_t n, struct mm_json_val *out, size_t *used, size_t *err_at)
{
	const char *end = p + n, *s, *after = p;
	enum mm_json_type t;
	int rc, esc = 0;

	s = skip_ws(p, end);
	rc = scan_value(s, end, MM_JSON_MAX_DEPTH, &t, &esc, &after);
	if (rc == 0 && t != MM_JSON_OBJECT && t != MM_JSON_ARRAY && t != MM_JSON_STRING &&
	    !ends_ok(after, end))
		rc = MM_EPARSE;
	if (rc) {
		if (err_at)
			*err_at = (size_t)(after - p);
		return rc;
	}
	out->type = t;
	out->plain = t == MM_JSON_STRING && !esc;
	out->p = s;
	out->n = (size_t)(after - s);
	if (used)
		*used = (size_t)(after - p);
	return 0;
}

int mm_json_value(const char *p, size_t n, struct mm_json_val *out, size_t *used)
{
	int rc = mm_json_scan(p, n, out, used, NULL);
	return rc == MM_ETRUNC ? MM_EPARSE : rc;
}

int mm_json_iter_init(struct mm_json_iter *it, const struct mm_json_val *v)
{
	if (!v || !v->p || v->n < 1 || (v->type != MM_JSON_OBJECT && v->type != MM_JSON_ARRAY))
		return MM_EINVAL;
	if (v->p[0] != (v->type == MM_JSON_OBJECT ? '{' : '['))
		return MM_EINVAL;
	it->p = v->p + 1;
	it->end = v->p + v->n;
	it->first = 1;
	it->type = v->type;
	it->depth = 1;
	it->key_esc = 0;
	return 0;
}

/* it->first: 1 before the first member, 0 between members, 2 at the end
 * (it->p is then just past the closing bracket), 3 while a key has been
 * read and its value not yet consumed (it->p at the value). Children are
 * scanned with the depth budget left below the container being iterated. */
static MM_NOINLINE int iter_key_slow(struct mm_json_iter *it, struct mm_str *key)
{
	const char *p = it->p, *end = it->end, *q;
	char close = it->type == MM_JSON_OBJECT ? '}' : ']';
	int rc, esc = 0;

	if (it->first == 2)
		return 0;
	if (it->first == 3)
		return MM_EINVAL;
	p = skip_ws(p, end);
	if (p >= end)
		return MM_EPARSE;
	if (*p == close) {
		it->p = p + 1;
		it->first = 2;
		return 0;
	}
	if (!it->first) {
		if (*p != ',')
			return MM_EPARSE;
		p = skip_ws(p + 1, end);
		if (p >= end)
			return MM_EPARSE;
	}
	if (it->type == MM_JSON_OBJECT) {
		if (*p != '"')
			return MM_EPARSE;
		rc = scan_string(p + 1, end, &q, &esc);
		if (rc)
			return MM_EPARSE;
		if (key) {
			key->p = p + 1;
			key->n = (size_t)(q - p - 1);
		}
		it->key_esc = esc;
		p = skip_ws(q + 1, end);
		if (p >= end || *p != ':')
			return MM_EPARSE;
		p = skip_ws(p + 1, end);
	} else if (key) {
		key->p = NULL;
		key->n = 0;
	}
	it->p = p;
	it->first = 3;
	return 1;
}

static MM_NOINLINE int iter_value_slow(struct mm_json_iter *it, struct mm_json_val *val)
{
	const char *p = it->p, *q;
	enum mm_json_type t;
	int rc, esc = 0;

	if (it->first != 3)
		return MM_EINVAL;
	if (p < it->end && *p == '"') {
		/* most values are strings: straight to the string scanner */
		if (str_fast(p + 1, it->end, &q, &esc))
			return MM_EPARSE;
		q++;
		t = MM_JSON_STRING;
	} else {
		rc = scan_value(p, it->end, MM_JSON_MAX_DEPTH - it->depth, &t, &esc, &q);
		if (rc)
			return rc == MM_EDEPTH ? MM_EDEPTH : MM_EPARSE;
	}
	if (!ends_ok(q, it->end))
		return MM_EPARSE;
	val->type = t;
	val->plain = t == MM_JSON_STRING && !esc;
	val->p = p;
	val->n = (size_t)(q - p);
	it->p = q;
	it->first = 0;
	return 1;
}

int mm_json_iter_enter(struct mm_json_iter *it, struct mm_json_iter *child)
{
	const char *p = it->p;
	if (it->first != 3 || p >= it->end || (*p != '{' && *p != '['))
		return MM_EINVAL;
	if (it->depth >= MM_JSON_MAX_DEPTH)
		return MM_EDEPTH;
	child->p = p + 1;
	child->end = it->end;
	child->first = 1;
	child->type = *p == '{' ? MM_JSON_OBJECT : MM_JSON_ARRAY;
	child->depth = it->depth + 1;
	child->key_esc = 0;
	return 0;
}

int mm_json_iter_leave(struct mm_json_iter *it, const struct mm_json_iter *child)
{
	if (it->first != 3 || child->first != 2)
		return MM_EINVAL;
	if (!ends_ok(child->p, it->end))
		return MM_EPARSE;
	it->p = child->p;
	it->first = 0;
	return 0;
}

/* The iterator's common case, without a call: compact JSON as logs are
 * written (',"key":' or '{"key":', a key that ends within 32 bytes, a
 * string value that ends within 64, neither holding a byte that needs a
 * closer look). Each returns 1 when it stepped, 0 to let the full path
 * (which reads the same bytes again) decide; the full path is out of
 * line so this stays a leaf with nothing to save. Measured with
 * callgrind (--threads 1) on 60k bench DNS lines: the Route 53 parse
 * 430M -> 292M instructions (docs/internals/json.md). */

static MM_ALWAYS_INLINE int key_fast(struct mm_json_iter *it, struct mm_str *key)
{
#if defined(__SSE2__)
	const char *p = it->p, *k, *c;
	ptrdiff_t n;
	unsigned m;

	if (it->type != MM_JSON_OBJECT || it->first > 1 || (n = it->end - p) < 19)
		return 0;
	k = it->first ? p : p + 1;
	if ((!it->first && *p != ',') || *k != '"')
		return 0;
	if ((m = special16(k + 1)))
		c = k + 1 + __builtin_ctz(m);
	else if (n >= 35 && (m = special16(k + 17)))
		c = k + 17 + __builtin_ctz(m);
	else
		return 0;
	if (*c != '"' || c[1] != ':')	/* c + 1 <= k + 33 <= p + 34 < end */
		return 0;
	if (key) {
		key->p = k + 1;
		key->n = (size_t)(c - k - 1);
	}
	it->key_esc = 0;
	it->p = skip_ws(c + 2, it->end);
	it->first = 3;
	return 1;
#else
	(void)it;
	(void)key;
	return 0;
#endif
}

static MM_ALWAYS_INLINE int value_fast(struct mm_json_iter *it, struct mm_json_val *val)
{
#if defined(__SSE2__)
	const char *p = it->p, *c;
	ptrdiff_t n;
	unsigned m;

	/* block i (p + 1 + 16i ...) is looked at only when its bytes and
	 * the one after the closing quote are all before end */
	if (it->first != 3 || (n = it->end - p) < 18 || *p != '"')
		return 0;
	if ((m = special16(p + 1)))
		c = p + 1 + __builtin_ctz(m);
	else if (n >= 34 && (m = special16(p + 17)))
		c = p + 17 + __builtin_ctz(m);
	else if (n >= 50 && (m = special16(p + 33)))
		c = p + 33 + __builtin_ctz(m);
	else if (n >= 66 && (m = special16(p + 49)))
		c = p + 49 + __builtin_ctz(m);
	else
		return 0;
	/* the closing quote, then a delimiter (c + 1 < end) */
	if (*c != '"' || !(cls[(unsigned char)c[1]] & C_DELIM))
		return 0;
	val->type = MM_JSON_STRING;
	val->plain = 1;
	val->p = p;
	val->n = (size_t)(c + 1 - p);
	it->p = c + 1;
	it->first = 0;
	return 1;
#else
	(void)it;
	(void)val;
	return 0;
#endif
}

int mm_json_iter_key(struct mm_json_iter *it, struct mm_str *key)
{
	if (key_fast(it, key))
		return 1;
	return iter_key_slow(it, key);
}

int mm_json_iter_value(struct mm_json_iter *it, struct mm_json_val *val)
{
	if (value_fast(it, val))
		return 1;
	return iter_value_slow(it, val);
}

int mm_json_iter_next(struct mm_json_iter *it, struct mm_str *key, struct mm_json_val *val)
{
	int rc;
	if (key_fast(it, key))
		return value_fast(it, val) ? 1 : iter_value_slow(it, val);
	rc = iter_key_slow(it, key);
	if (rc != 1)
		return rc;
	return mm_json_iter_value(it, val);
}

/* Decode the escape at p (p[0] == '\\') into UTF-8 in out[4]. Returns the
 * escape's length in the input (2, 6 or 12) and *olen, or 0 if invalid
 * (including lone or mismatched UTF-16 surrogates). */
static size_t decode_escape(const char *p, const char *end, char out[4], size_t *olen)
{
	uint32_t cp;
	size_t used = 6;
	int i;

	if (end - p < 2)
		return 0;
	switch (p[1]) {
	case '"': out[0] = '"'; break;
	case '\\': out[0] = '\\'; break;
	case '/': out[0] = '/'; break;
	case 'b': out[0] = '\b'; break;
	case 'f': out[0] = '\f'; break;
	case 'n': out[0] = '\n'; break;
	case 'r': out[0] = '\r'; break;
	case 't': out[0] = '\t'; break;
	case 'u':
		goto unicode;
	default:
		return 0;
	}
	*olen = 1;
	return 2;
unicode:
	if (end - p < 6)
		return 0;
	cp = 0;
	for (i = 2; i < 6; i++) {
		int h = hexval((unsigned char)p[i]);
		if (h < 0)
			return 0;
		cp = cp << 4 | (uint32_t)h;
	}
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return 0;	/* low surrogate without a high one */
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		uint32_t lo = 0;
		if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
			return 0;
		for (i = 8; i < 12; i++) {
			int h = hexval((unsigned char)p[i]);
			if (h < 0)
				return 0;
			lo = lo << 4 | (uint32_t)h;
		}
		if (lo < 0xDC00 || lo > 0xDFFF)
			return 0;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		used = 12;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		*olen = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		*olen = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		*olen = 3;
	} else {
		out[0] = (char)(0xF0 | cp >> 18);
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[3] = (char)(0x80 | (cp & 0x3F));
		*olen = 4;
	}
	return used;
}

int mm_json_unescape(const char *s, size_t n, char *dst, size_t *dlen)
{
	const char *p = s, *end = s + n, *bs;
	size_t o = 0;

	while (p < end) {
		char u[4];
		size_t ul = 0, used;
		bs = memchr(p, '\\', (size_t)(end - p));
		if (!bs) {
			memcpy(dst + o, p, (size_t)(end - p));
			o += (size_t)(end - p);
			break;
		}
		memcpy(dst + o, p, (size_t)(bs - p));
		o += (size_t)(bs - p);
		used = decode_escape(bs, end, u, &ul);
		if (!used)
			return MM_EPARSE;
		memcpy(dst + o, u, ul);
		o += ul;
		p = bs + used;
	}
	*dlen = o;
	return 0;
}

int mm_json_str(const struct mm_json_val *v, struct mm_arena *arena, struct mm_str *out)
{
	const char *s;
	size_t n, dn = 0;
	char *dst;
	int rc;

	out->p = NULL;
	out->n = 0;
	if (!v || !v->p)
		return MM_EINVAL;
	if (v->type == MM_JSON_NULL)
		return 0;
	if (v->type != MM_JSON_STRING) {
		out->p = v->p;
		out->n = v->n;
		return 0;
	}
	if (v->n < 2)
		return MM_EPARSE;
	s = v->p + 1;
	n = v->n - 2;
	if (v->plain || !has_backslash(s, n)) {
		out->p = s;
		out->n = n;
		return 0;
	}
	/* unescaped text is never longer than the escaped text */
	if (!arena)
		return MM_EINVAL;
	dst = mm_arena_alloc(arena, n ? n : 1);
	if (!dst)
		return MM_ETOOBIG;
	rc = mm_json_unescape(s, n, dst, &dn);
	if (rc)
		return rc;
	/* give back what the shrink saved: dst was the last allocation */
	arena->used = (size_t)(dst - arena->base) + dn;
	out->p = dst;
	out->n = dn;
	return 0;
}

int mm_json_int(const struct mm_json_val *v, int64_t *out)
{
	const char *p, *end;
	int neg = 0;
	uint64_t acc = 0, lim;

	if (!v || !v->p)
		return MM_EINVAL;
	if (v->type == MM_JSON_NUMBER) {
		p = v->p;
		end = v->p + v->n;
	} else if (v->type == MM_JSON_STRING && v->n >= 2) {
		p = v->p + 1;
		end = v->p + v->n - 1;
	} else
		return MM_EPARSE;
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= end)
		return MM_EPARSE;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		unsigned dgt;
		if (*p < '0' || *p > '9')
			return MM_EPARSE;
		dgt = (unsigned)(*p - '0');
		if (acc > (lim - dgt) / 10)
			return MM_EPARSE;
		acc = acc * 10 + dgt;
	}
	if (neg)
		*out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	else
		*out = (int64_t)acc;
	return 0;
}

int mm_json_key_eq(struct mm_str raw, const char *key)
{
	const char *p = raw.p, *end = raw.p + raw.n;
	size_t kn = strlen(key), k = 0;

	if (!memchr(raw.p ? raw.p : "", '\\', raw.n))
		return raw.n == kn && (kn == 0 || memcmp(raw.p, key, kn) == 0);
	while (p < end) {
		if (*p == '\\') {
			char u[4];
			size_t ul = 0, used = decode_escape(p, end, u, &ul);
			if (!used || kn - k < ul || memcmp(key + k, u, ul) != 0)
				return 0;
			k += ul;
			p += used;
		} else {
			if (k >= kn || key[k] != *p)
				return 0;
			k++;
			p++;
		}
	}
	return k == kn;
}

int mm_json_get(const struct mm_json_val *obj, const char *key, struct mm_json_val *out)
{
	struct mm_json_iter it;
	struct mm_str k;
	struct mm_json_val v;
	int rc;

	if (!obj || obj->type != MM_JSON_OBJECT)
		return MM_EINVAL;
	rc = mm_json_iter_init(&it, obj);
	if (rc)
		return rc;
	while ((rc = mm_json_iter_next(&it, &k, &v)) == 1) {
		if (mm_json_key_eq(k, key)) {
			*out = v;
			return 1;
		}
	}
	return rc;
}

int mm_json_path(const struct mm_json_val *obj, const char *path, struct mm_json_val *out)
{
	struct mm_json_val cur = *obj, v;
	char seg[256];
	const char *p = path;
	int rc;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len >= sizeof(seg))
			return MM_EINVAL;
		memcpy(seg, p, len);
		seg[len] = '\0';
		if (cur.type != MM_JSON_OBJECT)
			return 0;
		rc = mm_json_get(&cur, seg, &v);
		if (rc != 1)
			return rc;
		cur = v;
		if (!dot)
			break;
		p = dot + 1;
	}
	*out = cur;
	return 1;
}

/* ---- writing: escaping arbitrary bytes into a JSON string ---- */

int mm_utf8_seq(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	int len;

	if (n == 0)
		return 0;
	if (u[0] < 0x80)
		return 1;
	len = mm_json_utf8_len(u, u + n);
	return len < 0 ? 0 : len;
}

size_t mm_json_escape_ascii(unsigned char c, char out[6])
{
	static const char hex[] = "0123456789abcdef";

	if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
		return 0;
	out[0] = '\\';
	switch (c) {
	case '"': out[1] = '"'; return 2;
	case '\\': out[1] = '\\'; return 2;
	case '\n': out[1] = 'n'; return 2;
	case '\r': out[1] = 'r'; return 2;
	case '\t': out[1] = 't'; return 2;
	case '\b': out[1] = 'b'; return 2;
	case '\f': out[1] = 'f'; return 2;
	default:
		memcpy(out + 1, "u00", 3);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return 6;
	}
}

int mm_json_escape(struct mm_buf *b, const char *s, size_t n)
{
	size_t i = 0, run = 0;
	int rc;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		size_t en = 0;
		int len;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80 && (len = mm_utf8_seq(s + i, n - i)) > 0) {
			i += (size_t)len;
			continue;
		}
		if ((rc = mm_buf_add(b, s + run, i - run)))
			return rc;
		if (c >= 0x80) {
			memcpy(esc, "\xef\xbf\xbd", 3); /* U+FFFD */
			en = 3;
		} else
			en = mm_json_escape_ascii(c, esc);
		if ((rc = mm_buf_add(b, esc, en)))
			return rc;
		i++;
		run = i;
	}
	return mm_buf_add(b, s + run, n - run);
}
