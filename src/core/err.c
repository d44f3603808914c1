/* err.c - error table text and mm_err helpers. */
#include "core/err.h"

#include <stdio.h>

const char *mm_strerror(int code)
{
	switch (code) {
	case MM_OK:
		return "success";
#define MM__ERR_CASE(name, text) \
	case MM_E##name:         \
		return text;
		MM_ERRNO_MAP(MM__ERR_CASE)
#undef MM__ERR_CASE
	default:
		return "unknown error";
	}
}

int mm_err_set(struct mm_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}
