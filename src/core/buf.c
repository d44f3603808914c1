/* buf.c - capped growable buffer. */
#include "core/buf.h"

#include "core/json.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

void mm_buf_init(struct mm_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void mm_buf_free(struct mm_buf *b)
{
	mm_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Would extra more bytes stay within the buffer's max? */
static int extra_ok(const struct mm_buf *b, size_t extra)
{
	return extra <= b->max && b->len <= b->max - extra;
}

/* The capacity extra more bytes need (and the NUL) in *need: 1 when the
 * buffer lacks it, 0 when it has it, MM_ETOOBIG past its max. */
static int short_of(const struct mm_buf *b, size_t extra, size_t *need)
{
	if (!extra_ok(b, extra))
		return MM_ETOOBIG;
	*need = b->len + extra + 1;
	return *need > b->cap;
}

int mm_buf_reserve(struct mm_buf *b, size_t extra)
{
	size_t need, ncap;
	char *np;
	int rc = short_of(b, extra, &need);

	if (rc <= 0)
		return rc;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	np = mm_realloc(b->p, ncap);
	if (!np)
		return MM_ENOMEM;
	b->p = np;
	b->cap = ncap;
	return 0;
}

int mm_buf_reserve_exact(struct mm_buf *b, size_t extra)
{
	size_t need;
	char *np;
	int rc = short_of(b, extra, &need);

	if (rc <= 0)
		return rc;
	if (!(np = mm_malloc(need)))
		return MM_ENOMEM;
	if (b->len)
		memcpy(np, b->p, b->len);
	np[b->len] = '\0';
	mm_free(b->p);
	b->p = np;
	b->cap = need;
	return 0;
}

int mm_buf_add(struct mm_buf *b, const void *p, size_t n)
{
	int rc = mm_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int mm_buf_addz(struct mm_buf *b, const char *z)
{
	return mm_buf_add(b, z, strlen(z));
}

int mm_buf_addc(struct mm_buf *b, char c)
{
	return mm_buf_add(b, &c, 1);
}

int mm_buf_printf(struct mm_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n, rc;

	/* most calls fit what the buffer already holds: format once, into
	 * it; only a longer text is measured first and formatted again */
	va_start(ap, fmt);
	n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (room)
			b->p[b->len] = '\0';
		return MM_EINVAL;
	}
	if ((size_t)n < room) {
		if (extra_ok(b, (size_t)n)) {
			b->len += (size_t)n;
			return 0;
		}
		b->p[b->len] = '\0';
		return MM_ETOOBIG;
	}
	if (room)
		b->p[b->len] = '\0'; /* the cut-short text is not ours to keep */
	rc = mm_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int mm_buf_json_esc(struct mm_buf *b, const char *s, size_t n)
{
	/* one escaper for every JSON mamori writes: any bytes (a file name
	 * is not necessarily UTF-8) become a valid JSON string */
	return mm_json_escape(b, s, n);
}

int mm_buf_json_str(struct mm_buf *b, const char *s, size_t n)
{
	int rc;
	if ((rc = mm_buf_addc(b, '"')) || (rc = mm_buf_json_esc(b, s, n)))
		return rc;
	return mm_buf_addc(b, '"');
}

int mm_buf_json_strz(struct mm_buf *b, const char *z)
{
	return mm_buf_json_str(b, z, strlen(z));
}
