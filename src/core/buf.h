/* buf.h - growable byte buffer with a hard cap (curl's dynbuf idea).
 *
 * Appends past the cap fail with MM_ETOOBIG and leave the buffer as it was.
 * The buffer owns its memory; mm_buf_free releases it. The contents are
 * always NUL-terminated after a successful append (the NUL is not counted
 * in len). */
#ifndef MM_BUF_H
#define MM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct mm_buf {
	char *p;
	size_t len;
	size_t cap;	/* allocated */
	size_t max;	/* hard limit on len */
};

/* Never allocates. */
void mm_buf_init(struct mm_buf *b, size_t max);
void mm_buf_free(struct mm_buf *b);
static inline void mm_buf_reset(struct mm_buf *b) { b->len = 0; if (b->p) b->p[0] = '\0'; }
/* Make room for at least extra more bytes (plus the NUL). */
int mm_buf_reserve(struct mm_buf *b, size_t extra);
/* The same, but a buffer too small is replaced by one of exactly that
 * room (its len bytes copied, not the old capacity; no doubling): for a
 * size known up front, which doubling would overshoot by up to 2x. */
int mm_buf_reserve_exact(struct mm_buf *b, size_t extra);
int mm_buf_add(struct mm_buf *b, const void *p, size_t n);
int mm_buf_addz(struct mm_buf *b, const char *z);
int mm_buf_addc(struct mm_buf *b, char c);
int mm_buf_printf(struct mm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s as the inside of a JSON string (escaped, no quotes). */
int mm_buf_json_esc(struct mm_buf *b, const char *s, size_t n);
/* Append "s" as a JSON string with quotes. */
int mm_buf_json_str(struct mm_buf *b, const char *s, size_t n);
int mm_buf_json_strz(struct mm_buf *b, const char *z);

#endif
