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

int mm_buf_reserve(struct mm_buf *b, size_t extra)
{
	size_t need, ncap;
	char *np;

	if (extra > b->max || b->len > b->max - extra)
		return MM_ETOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
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
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MM_EINVAL;
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
