/* mtime.c - ISO 8601 parsing/formatting without locale or TZ state. */
#include "core/mtime.h"

#include <time.h>

#include "core/err.h"

int64_t mm_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's days_from_civil */
	int64_t era;
	unsigned yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int num(const char *s, size_t n, size_t at, size_t len, unsigned *out)
{
	unsigned v = 0;
	size_t i;
	if (at + len > n)
		return -1;
	for (i = at; i < at + len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int mm_time_parse_iso(const char *s, size_t n, int64_t *ms)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	size_t i;
	int64_t t, off = 0;

	if (num(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || num(s, n, 5, 2, &mo) || s[7] != '-' ||
	    num(s, n, 8, 2, &d))
		return MM_EPARSE;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return MM_EPARSE;
	i = 10;
	if (i < n && (s[i] == 'T' || s[i] == ' ')) {
		if (num(s, n, 11, 2, &h) || n < 16 || s[13] != ':' || num(s, n, 14, 2, &mi))
			return MM_EPARSE;
		i = 16;
		if (i < n && s[i] == ':') {
			if (num(s, n, 17, 2, &sec))
				return MM_EPARSE;
			i = 19;
		}
		if (h > 23 || mi > 59 || sec > 60)
			return MM_EPARSE;
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			unsigned scale = 100;
			i++;
			if (i >= n || s[i] < '0' || s[i] > '9')
				return MM_EPARSE;
			while (i < n && s[i] >= '0' && s[i] <= '9') {
				frac += (unsigned)(s[i] - '0') * scale;
				scale /= 10;
				i++;
			}
		}
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			unsigned oh, om;
			int sign = s[i] == '-' ? -1 : 1;
			if (num(s, n, i + 1, 2, &oh))
				return MM_EPARSE;
			if (i + 3 < n && s[i + 3] == ':') {
				if (num(s, n, i + 4, 2, &om))
					return MM_EPARSE;
				i += 6;
			} else if (num(s, n, i + 3, 2, &om) == 0) {
				i += 5;
			} else {
				om = 0;
				i += 3;
			}
			off = sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
		}
	}
	if (i != n)
		return MM_EPARSE;
	t = mm_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	*ms = t * 1000 + frac;
	return 0;
}

char *mm_time_format_iso(int64_t ms, char *buf)
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t msr = ms - secs * 1000;
	int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400;
	int64_t sod = secs - z * 86400;
	/* civil_from_days */
	int64_t era, y;
	unsigned doe, yoe, doy, mp, d, m;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999; /* clamp: keeps the output a fixed 24 bytes */
	/* by hand, not snprintf: findings print many timestamps and snprintf
	 * was a third of the cost of rendering one */
	{
		unsigned hh = (unsigned)(sod / 3600), mm = (unsigned)(sod / 60 % 60);
		unsigned ss = (unsigned)(sod % 60), frac = (unsigned)msr % 1000u, yy = (unsigned)y;
		char *p = buf;
		*p++ = (char)('0' + yy / 1000);
		*p++ = (char)('0' + yy / 100 % 10);
		*p++ = (char)('0' + yy / 10 % 10);
		*p++ = (char)('0' + yy % 10);
		*p++ = '-';
		*p++ = (char)('0' + m / 10);
		*p++ = (char)('0' + m % 10);
		*p++ = '-';
		*p++ = (char)('0' + d / 10);
		*p++ = (char)('0' + d % 10);
		*p++ = 'T';
		*p++ = (char)('0' + hh / 10);
		*p++ = (char)('0' + hh % 10);
		*p++ = ':';
		*p++ = (char)('0' + mm / 10);
		*p++ = (char)('0' + mm % 10);
		*p++ = ':';
		*p++ = (char)('0' + ss / 10);
		*p++ = (char)('0' + ss % 10);
		*p++ = '.';
		*p++ = (char)('0' + frac / 100);
		*p++ = (char)('0' + frac / 10 % 10);
		*p++ = (char)('0' + frac % 10);
		*p++ = 'Z';
		*p = '\0';
	}
	return buf;
}

int64_t mm_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
