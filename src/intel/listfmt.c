/* listfmt.c - GuardDuty's list formats into one indicator a line. */
#include "intel/listfmt.h"

#include <string.h>

/* TXT: the list as it is; mm_intel_load reads it line by line (comments,
 * blanks and bad lines are its business, reported there). Counted as
 * lines that are not blank or comments. */
static int txt(const char *buf, size_t n, struct mm_buf *out, uint64_t *count, struct mm_err *err)
{
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - buf) : n, k = i;
		while (k < e && (buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\r'))
			k++;
		if (k < e && buf[k] != '#')
			(*count)++;
		i = e + 1;
	}
	if (n && mm_buf_add(out, buf, n))
		return mm_err_set(err, MM_ETOOBIG, "list too big");
	if (n && buf[n - 1] != '\n' && mm_buf_addc(out, '\n'))
		return mm_err_set(err, MM_ETOOBIG, "list too big");
	return 0;
}

int mm_listfmt_to_txt(const char *format, const char *buf, size_t n, struct mm_buf *out,
		      uint64_t *count, struct mm_err *err)
{
	*count = 0;
	if (!strcmp(format, "TXT"))
		return txt(buf, n, out, count, err);
	return mm_err_set(err, MM_EINVAL, "list format %s is not supported", format);
}
