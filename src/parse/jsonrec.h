/* jsonrec.h - small pieces shared by the one-pass JSON record parsers
 * (cloudtrail.c, route53.c): key matching, whitespace, string and
 * timestamp fields. Internal to src/parse; all static inline so the hot
 * per-member dispatch stays as fast as when each parser had its own copy.
 *
 * Nothing here allocates: unescaped strings go to the caller's scratch
 * arena, unescaped keys to a caller's buffer. */
#ifndef MM_PARSE_JSONREC_H
#define MM_PARSE_JSONREC_H

#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/common.h"
#include "core/err.h"
#include "core/json.h"
#include "core/mtime.h"

/* Is the key slice k exactly the string literal lit? */
#define MM__KEY(k, lit) ((k).n == sizeof(lit) - 1 && memcmp((k).p, lit, sizeof(lit) - 1) == 0)

/* Past JSON whitespace from p, stopping at end. */
static inline const char *mm__json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* Newlines in [p, end). memchr (vectorised in libc) hops from newline to
 * newline; in CloudTrail files newlines are rare, so this touches each
 * byte once at memchr speed and needs no POPCNT instruction (not in
 * baseline x86-64: the builtin became a slow library call). */
static inline uint64_t mm__json_count_nl(const char *p, const char *end)
{
	uint64_t c = 0;
	while (p < end) {
		const char *q = memchr(p, '\n', (size_t)(end - p));
		if (!q)
			break;
		c++;
		p = q + 1;
	}
	return c;
}

/* A document iterator's line counter: *line is the 1-based line of
 * *at; bring it up to q (never backwards) and return it. Counting only
 * over bytes passed keeps it one pass over the document. */
static inline uint64_t mm__json_line_at(uint64_t *line, const char **at, const char *q)
{
	if (q > *at) {
		*line += mm__json_count_nl(*at, q);
		*at = q;
	}
	return *line;
}

/* A raw key with escapes ("event\u004eame") unescaped into buf (cap
 * bytes), so a dispatch sees what a JSON reader would. Keys the parsers
 * know are short: a longer or undecodable escaped key comes back empty,
 * which matches none of them. */
static inline struct mm_str mm__json_norm_key(struct mm_str k, char *buf, size_t cap)
{
	size_t n = 0;
	if (k.n == 0 || !memchr(k.p, '\\', k.n))
		return k;
	if (k.n > cap || mm_json_unescape(k.p, k.n, buf, &n) != 0)
		return mm_str_make("", 0);
	return mm_str_make(buf, n);
}

/* String field named name: strings (unescaped into a), null -> empty,
 * numbers and booleans as their text; objects and arrays are a type
 * error. 0 or MM_EPARSE with "name: reason" in err. */
static inline int mm__json_str_field(const struct mm_json_val *v, struct mm_arena *a,
				     struct mm_str *out, const char *name, struct mm_err *err)
{
	int rc;
	if (v->type == MM_JSON_STRING && v->plain && v->n >= 2) {
		/* nothing to decode: the bytes between the quotes (no call) */
		out->p = v->p + 1;
		out->n = v->n - 2;
		return 0;
	}
	if (v->type == MM_JSON_OBJECT || v->type == MM_JSON_ARRAY)
		return mm_err_set(err, MM_EPARSE, "%s: expected a string", name);
	rc = mm_json_str(v, a, out);
	if (rc)
		return mm_err_set(err, MM_EPARSE, "%s: %s", name,
				  rc == MM_ETOOBIG ? "scratch arena full" : "invalid string escape");
	return 0;
}

/* The record's ISO 8601 time field named name into *ms. 0 or MM_EPARSE
 * when it is not a string or does not parse (the text, cut to 40 bytes,
 * is quoted in err). */
static inline int mm__json_time_field(const struct mm_json_val *v, const char *name, int64_t *ms,
				      struct mm_err *err)
{
	struct mm_str t;
	if (v->type != MM_JSON_STRING)
		return mm_err_set(err, MM_EPARSE, "%s is not a string", name);
	t = mm_str_make(v->p + 1, v->n - 2);
	if (mm_time_parse_iso(t.p, t.n, ms))
		return mm_err_set(err, MM_EPARSE, "%s is not ISO 8601: \"%.*s\"", name,
				  (int)MM_MIN(t.n, 40), t.p);
	return 0;
}

#endif
