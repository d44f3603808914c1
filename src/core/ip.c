/* ip.c - address parsing and formatting without libc's NUL-terminated
 * inet_pton (our inputs are slices), plus classification helpers. */
#include "core/common.h"
#include "core/ip.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

static int parse_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t digits = 0;
		if (part) {
			if (i >= n || s[i] != '.')
				return MM_EPARSE;
			i++;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned)(s[i] - '0');
			if (++digits > 3 || v > 255)
				return MM_EPARSE;
			i++;
		}
		if (!digits)
			return MM_EPARSE;
		out[part] = (uint8_t)v;
	}
	return i == n ? 0 : MM_EPARSE;
}

static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t words[8];
	int nw = 0, gap = -1;
	size_t i = 0;

	if (n < 2)
		return MM_EPARSE;
	if (s[0] == ':') {
		if (s[1] != ':')
			return MM_EPARSE;
		gap = 0;
		i = 2;
		if (i == n)
			goto done;
	}
	for (;;) {
		size_t start = i;
		unsigned v = 0;
		int h;
		while (i < n && (h = mm_hexval(s[i])) >= 0) {
			v = (v << 4) | (unsigned)h;
			if (i - start >= 4)
				return MM_EPARSE;
			i++;
		}
		if (i < n && s[i] == '.') {
			/* embedded IPv4 tail */
			uint8_t v4[4];
			if (nw > 6 || parse_v4(s + start, n - start, v4))
				return MM_EPARSE;
			words[nw++] = (uint16_t)((v4[0] << 8) | v4[1]);
			words[nw++] = (uint16_t)((v4[2] << 8) | v4[3]);
			i = n;
			break;
		}
		if (i == start || nw >= 8)
			return MM_EPARSE;
		words[nw++] = (uint16_t)v;
		if (i == n)
			break;
		if (s[i] != ':')
			return MM_EPARSE;
		i++;
		if (i < n && s[i] == ':') {
			if (gap >= 0)
				return MM_EPARSE;
			gap = nw;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return MM_EPARSE;
		}
	}
done:
	if (gap < 0 && nw != 8)
		return MM_EPARSE;
	if (gap >= 0 && nw > 7)
		return MM_EPARSE;
	memset(out, 0, 16);
	{
		int k, tail = gap < 0 ? 0 : nw - gap;
		int head = gap < 0 ? nw : gap;
		for (k = 0; k < head; k++) {
			out[2 * k] = (uint8_t)(words[k] >> 8);
			out[2 * k + 1] = (uint8_t)words[k];
		}
		for (k = 0; k < tail; k++) {
			int w = 8 - tail + k;
			out[2 * w] = (uint8_t)(words[head + k] >> 8);
			out[2 * w + 1] = (uint8_t)words[head + k];
		}
	}
	return 0;
}

int mm_ip_parse(const char *s, size_t n, struct mm_ip *out)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= MM_IP_STRLEN)
		return MM_EPARSE;
	if (memchr(s, ':', n)) {
		if (parse_v6(s, n, out->b))
			return MM_EPARSE;
		if (memcmp(out->b, mapped, 12) == 0) {
			memmove(out->b, out->b + 12, 4);
			memset(out->b + 4, 0, 12);
			return 0;
		}
		out->v6 = 1;
		return 0;
	}
	return parse_v4(s, n, out->b);
}

int mm_cidr_parse(const char *s, size_t n, struct mm_ip *out, int *prefix_len)
{
	const char *slash = memchr(s, '/', n);
	size_t an = slash ? (size_t)(slash - s) : n;
	int len, max;

	if (mm_ip_parse(s, an, out))
		return MM_EPARSE;
	max = out->v6 ? 128 : 32;
	if (!slash) {
		*prefix_len = max;
		return 0;
	}
	{
		size_t i = an + 1;
		if (i >= n || n - i > 3)
			return MM_EPARSE;
		len = 0;
		for (; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return MM_EPARSE;
			len = len * 10 + (s[i] - '0');
		}
	}
	if (len > max)
		return MM_EPARSE;
	/* clear host bits so a.b.c.d/24 and a.b.c.0/24 are the same net */
	{
		int bit;
		for (bit = len; bit < max; bit++)
			out->b[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	}
	*prefix_len = len;
	return 0;
}

char *mm_ip_format(const struct mm_ip *ip, char *buf)
{
	int i, best = -1, bestlen = 0, cur = -1, curlen = 0;
	char *p = buf;

	if (!ip->v6) {
		/* by hand: snprintf took ~1.7k instructions a call, and
		 * detectors format an address per record */
		for (i = 0; i < 4; i++) {
			unsigned v = ip->b[i];
			if (i)
				*p++ = '.';
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
		}
		*p = '\0';
		return buf;
	}
	for (i = 0; i < 8; i++) {
		int zero = ip->b[2 * i] == 0 && ip->b[2 * i + 1] == 0;
		if (zero) {
			if (cur < 0) {
				cur = i;
				curlen = 0;
			}
			curlen++;
			if (curlen > bestlen) {
				best = cur;
				bestlen = curlen;
			}
		} else {
			cur = -1;
		}
	}
	if (bestlen < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (i == 0)
				*p++ = ':';
			i += bestlen - 1;
			continue;
		}
		p += sprintf(p, "%x", (ip->b[2 * i] << 8) | ip->b[2 * i + 1]);
		if (i < 7)
			*p++ = ':';
	}
	*p = '\0';
	return buf;
}

int mm_ip_eq(const struct mm_ip *a, const struct mm_ip *b)
{
	return a->v6 == b->v6 && memcmp(a->b, b->b, 16) == 0;
}

int mm_ip_is_private(const struct mm_ip *ip)
{
	if (!ip->v6) {
		uint32_t a = mm_ip_v4(ip);
		return (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) ||
		       (a >> 16) == (192u << 8 | 168) || (a >> 22) == ((100u << 2) | 1) ||
		       (a >> 24) == 127 || (a >> 16) == (169u << 8 | 254) || a == 0;
	}
	return (ip->b[0] & 0xfe) == 0xfc || (ip->b[0] == 0xfe && (ip->b[1] & 0xc0) == 0x80) ||
	       (memcmp(ip->b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) == 0 && ip->b[15] <= 1);
}
