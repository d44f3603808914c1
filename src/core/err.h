/* err.h - the one table of mamori error codes.
 *
 * Functions that can fail return int: 0 on success or a negative MM_E...
 * code from this table. Detail text goes to a caller-supplied struct
 * mm_err (never allocated). */
#ifndef MM_ERR_H
#define MM_ERR_H

#include <stdarg.h>

#define MM_ERRNO_MAP(X)                                               \
	X(NOMEM, "out of memory")                                     \
	X(IO, "input/output error")                                   \
	X(INVAL, "invalid argument")                                  \
	X(PARSE, "malformed input")                                   \
	X(TOOBIG, "too big")                                          \
	X(DEPTH, "nested too deeply")                                 \
	X(TRUNC, "truncated input")                                   \
	X(NOTFOUND, "not found")                                      \
	X(FORMAT, "unknown format")                                   \
	X(DB, "database error")                                       \
	X(EXISTS, "already exists")                                   \
	X(SKIP, "skipped")                                            \
	X(BUSY, "in use by another process")

enum {
	MM_OK = 0,
#define MM__ERR_ENUM(name, text) MM_E##name,
	MM__ERR_FIRST = -64,
	MM_ERRNO_MAP(MM__ERR_ENUM) MM__ERR_LAST
#undef MM__ERR_ENUM
};

/* Detail for the last failure. Caller-allocated; msg is always
 * NUL-terminated (empty when nothing was recorded). */
struct mm_err {
	int code;
	char msg[512];
};

/* Static text for a code ("out of memory"); never NULL. */
const char *mm_strerror(int code);

/* Record code and a printf-style message in err (err may be NULL).
 * Returns code so callers can `return mm_err_set(err, MM_EPARSE, ...)`. */
int mm_err_set(struct mm_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void mm_err_clear(struct mm_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

#endif
