/* json.h - a bounded, non-allocating, on-demand JSON scanner.
 *
 * Why our own: the measurements put cJSON (the fastest C DOM
 * library) at 262 MB/s on CloudTrail against simdjson's 1,022 MB/s, and
 * the target is half of simdjson. A DOM also allocates per record. This
 * scanner walks the bytes once, hands out slices into the caller's buffer
 * and never allocates; it is fuzzed (tests/fuzz/fuzz_json.c).
 *
 * A value is a slice of the input that holds exactly one JSON value
 * (object, array, string with its quotes, number, true/false/null).
 * Iteration over objects/arrays validates what it walks: malformed input
 * gives MM_EPARSE, nesting deeper than MM_JSON_MAX_DEPTH gives MM_EDEPTH.
 * Strings are not unescaped until asked (mm_json_str). */
#ifndef MM_JSON_H
#define MM_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/common.h"

#define MM_JSON_MAX_DEPTH 64

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if
 * invalid, -1 if it runs past end (overlongs, surrogates rejected). */
int mm_json_utf8_len(const unsigned char *p, const unsigned char *end);

enum mm_json_type {
	MM_JSON_INVALID = 0,
	MM_JSON_OBJECT,
	MM_JSON_ARRAY,
	MM_JSON_STRING,
	MM_JSON_NUMBER,
	MM_JSON_TRUE,
	MM_JSON_FALSE,
	MM_JSON_NULL
};

struct mm_json_val {
	enum mm_json_type type;
	/* 1: a string the scanner found without a backslash, so its text is
	 * the bytes between the quotes (mm_json_str need not look again);
	 * 0: not known. A value built by hand must leave it 0. */
	unsigned char plain;
	const char *p;	/* first byte of the value */
	size_t n;	/* bytes in the value */
};

/* Scan one value at the start of [p, p+n) after optional whitespace.
 * On success *out is the value and *used the bytes consumed including
 * leading whitespace. Validates fully (nested values included). */
int mm_json_value(const char *p, size_t n, struct mm_json_val *out, size_t *used);
/* Same, but tells a cut-short input apart: MM_ETRUNC when the input ends
 * inside the value, MM_EPARSE for bad bytes, MM_EDEPTH for deep nesting;
 * on failure *err_at (may be NULL) is the offset of the offending byte.
 * out/used are borrowed slices of p, as for mm_json_value. */
int mm_json_scan(const char *p, size_t n, struct mm_json_val *out, size_t *used, size_t *err_at);

/* Iterator over an object's members or an array's elements. */
struct mm_json_iter {
	const char *p, *end;
	int first;
	enum mm_json_type type;
	int depth;	/* nesting level of this container (1 = outermost) */
	int key_esc;	/* the last key read holds a backslash (escapes to decode) */
};

/* v must be an object or array value. Returns 0 or MM_EINVAL. */
int mm_json_iter_init(struct mm_json_iter *it, const struct mm_json_val *v);
/* Next member: *key is the raw key between its quotes (still escaped;
 * NULL/0 for arrays) and *val the value. Returns 1 when one was produced,
 * 0 at the end, negative MM_E... on malformed input. */
int mm_json_iter_next(struct mm_json_iter *it, struct mm_str *key, struct mm_json_val *val);
/* Children are validated as they are walked, with depth counted from the
 * iterated container. After the end (0), it->p is just past the closing
 * bracket, so a caller may iterate a container whose val->n runs to the
 * end of a line and learn where the container really ended. */

/* On-demand descent, so a parser can walk into a member without scanning
 * it twice: mm_json_iter_key reads the next key (1, 0 at the end, or
 * negative) and leaves the iterator at its value; then either
 * mm_json_iter_value scans the value (as mm_json_iter_next would), or, if
 * the value is an object/array, mm_json_iter_enter starts child on it and,
 * once child has returned 0, mm_json_iter_leave moves the parent past it.
 * Depth is tracked across descents (MM_EDEPTH past MM_JSON_MAX_DEPTH). */
int mm_json_iter_key(struct mm_json_iter *it, struct mm_str *key);
int mm_json_iter_value(struct mm_json_iter *it, struct mm_json_val *val);
int mm_json_iter_enter(struct mm_json_iter *it, struct mm_json_iter *child);
int mm_json_iter_leave(struct mm_json_iter *it, const struct mm_json_iter *child);

/* Find a member by (unescaped-equal) key in an object. 1 found, 0 not,
 * negative on malformed input. */
int mm_json_get(const struct mm_json_val *obj, const char *key, struct mm_json_val *out);
/* Dotted path through nested objects: "userIdentity.sessionContext.attributes". */
int mm_json_path(const struct mm_json_val *obj, const char *path, struct mm_json_val *out);

/* String contents, unescaped. If the string has no escapes, *out points
 * into the input (no copy); otherwise the unescaped bytes are written into
 * arena memory. Invalid escapes give MM_EPARSE, a full arena MM_ETOOBIG.
 * Non-string values (numbers, true...) yield their raw text. null yields
 * an empty slice. */
int mm_json_str(const struct mm_json_val *v, struct mm_arena *arena, struct mm_str *out);
/* Unescape the inside of a JSON string (no quotes) into dst, which must
 * hold n bytes (the result is never longer). \uXXXX and surrogate pairs
 * become UTF-8; invalid escapes and lone surrogates give MM_EPARSE. */
int mm_json_unescape(const char *s, size_t n, char *dst, size_t *dlen);
/* Integer value of a number, or of a string holding one ("48701"). */
int mm_json_int(const struct mm_json_val *v, int64_t *out);
/* Key equality on a raw (escaped) key slice. */
int mm_json_key_eq(struct mm_str raw_key, const char *key);

/* Bytes in the UTF-8 sequence starting at p (n > 0 bytes available): 1
 * for ASCII, 2-4 for a valid multi-byte sequence, 0 when the bytes are
 * not valid UTF-8 (stray continuation, overlong, surrogate, past
 * U+10FFFF, or cut short by n). */
int mm_utf8_seq(const char *p, size_t n);

struct mm_buf;
/* Append s (any bytes) to b as the inside of a JSON string, always valid
 * JSON: '"' and '\\' escaped, \n \r \t \b \f short forms, other control
 * characters (and DEL) as \u00XX, every byte that is not part of valid
 * UTF-8 as U+FFFD (the replacement character, written as its UTF-8
 * bytes). 0 or MM_ETOOBIG/MM_ENOMEM from the buffer. */
int mm_json_escape(struct mm_buf *b, const char *s, size_t n);
/* The escape of ASCII byte c (< 0x80) into out, as mm_json_escape writes
 * it: its length, or 0 when c is written as it is. */
size_t mm_json_escape_ascii(unsigned char c, char out[6]);
/* How many bytes from s (n available) a JSON string holds as they are:
 * up to the first '"', '\\', control character or non-ASCII byte. The
 * string scanner's fast step (SSE2), for writers of JSON text. */
size_t mm_json_plain_len(const char *s, size_t n);

#endif
