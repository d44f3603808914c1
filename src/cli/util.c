/* util.c - small parsers shared by the subcommands (cli.h).
 *
 * Severity words map to the bottom of GuardDuty's bands (High 7.0-8.9,
 * Medium 4.0-6.9, Low 1.0-3.9) because every caller uses them as a
 * minimum ("--severity high" = at least high). */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/mtime.h"

int mm_cli_parse_severity(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return MM_EINVAL;
	if (strcasecmp(s, "high") == 0) {
		*out = 7.0;
		return 0;
	}
	if (strcasecmp(s, "medium") == 0 || strcasecmp(s, "med") == 0) {
		*out = 4.0;
		return 0;
	}
	if (strcasecmp(s, "low") == 0) {
		*out = 1.0;
		return 0;
	}
	if (!(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return MM_EINVAL;	/* no sign, no "inf"/"nan" */
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0.0 && v <= 10.0))
		return MM_EINVAL;
	*out = v;
	return 0;
}

int mm_cli_parse_since(const char *s, long long *out_ms)
{
	size_t n, i;
	int64_t ms;
	long long num = 0, unit;

	if (!s)
		return MM_EINVAL;
	n = strlen(s);
	if (n == 0 || n > 64)
		return MM_EINVAL;
	/* Relative: digits followed by one unit letter. Bounded to 100 years
	 * so the multiplication cannot overflow. */
	for (i = 0; i < n && isdigit((unsigned char)s[i]); i++) {
		num = num * 10 + (s[i] - '0');
		if (num > 100LL * 366 * 24 * 3600)
			return MM_EINVAL;
	}
	if (i > 0 && i == n - 1 && !isdigit((unsigned char)s[n - 1]) && n < 20) {
		switch (s[n - 1]) {
		case 's': unit = 1000LL; break;
		case 'm': unit = 60LL * 1000; break;
		case 'h': unit = 3600LL * 1000; break;
		case 'd': unit = 86400LL * 1000; break;
		case 'w': unit = 7LL * 86400 * 1000; break;
		default: return MM_EINVAL;
		}
		if (num * (unit / 1000) > 100LL * 366 * 86400)
			return MM_EINVAL;
		*out_ms = (long long)mm_now_ms() - num * unit;
		return 0;
	}
	if (mm_time_parse_iso(s, n, &ms))
		return MM_EINVAL;
	*out_ms = (long long)ms;
	return 0;
}
