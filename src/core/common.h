/* common.h - basic types and macros shared by every mamori module.
 *
 * mm_str is the borrowed-slice type used everywhere on the hot path: a
 * pointer and a length into a buffer someone else owns. It is never
 * NUL-terminated unless the owner says so. */
#ifndef MM_COMMON_H
#define MM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MM_MAX(a, b) ((a) > (b) ? (a) : (b))
#define MM_LIKELY(x) __builtin_expect(!!(x), 1)
#define MM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MM_UNUSED(x) ((void)(x))
#define MM_NOINLINE __attribute__((noinline))
#define MM_ALWAYS_INLINE inline __attribute__((always_inline))

/* Borrowed byte slice. */
struct mm_str {
	const char *p;
	size_t n;
};

#define MM_STR_NULL ((struct mm_str){NULL, 0})
#define MM_STR_LIT(s) ((struct mm_str){(s), sizeof(s) - 1})

/* The value of one hex digit (either case), or -1. */
static inline int mm_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline struct mm_str mm_str_make(const char *p, size_t n)
{
	struct mm_str s = {p, n};
	return s;
}

static inline struct mm_str mm_str_c(const char *z)
{
	struct mm_str s = {z, z ? strlen(z) : 0};
	return s;
}

static inline int mm_str_eq(struct mm_str a, struct mm_str b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline int mm_str_eqz(struct mm_str a, const char *z)
{
	size_t n = strlen(z);
	return a.n == n && memcmp(a.p, z, n) == 0;
}

static inline int mm_str_starts(struct mm_str a, const char *z)
{
	size_t n = strlen(z);
	return a.n >= n && memcmp(a.p, z, n) == 0;
}

/* True for an absent field: empty, or AWS's "-" placeholder. */
static inline int mm_str_absent(struct mm_str a)
{
	return a.n == 0 || (a.n == 1 && a.p[0] == '-');
}

/* Copy a slice into a fixed char array, always NUL-terminating and
 * truncating if needed. Returns the number of bytes copied. */
static inline size_t mm_str_copy(char *dst, size_t cap, struct mm_str s)
{
	size_t n;
	if (cap == 0)
		return 0;
	n = s.n < cap - 1 ? s.n : cap - 1;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
	return n;
}

#endif
