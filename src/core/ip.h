/* ip.h - IPv4/IPv6 addresses as plain values.
 *
 * An address is 16 bytes plus a family flag. IPv4 addresses use b[0..3]
 * (network order) and leave the rest zero, so two equal addresses compare
 * equal with memcmp. IPv4-mapped IPv6 (::ffff:a.b.c.d) is folded to IPv4
 * when parsed. */
#ifndef MM_IP_H
#define MM_IP_H

#include <stddef.h>
#include <stdint.h>

#define MM_IP_STRLEN 46

struct mm_ip {
	uint8_t v6;	/* 0 = IPv4, 1 = IPv6 */
	uint8_t b[16];
};

/* Parse n bytes of text (no NUL needed). 0 or MM_EPARSE. Never allocates. */
int mm_ip_parse(const char *s, size_t n, struct mm_ip *out);
/* Parse "addr/len" or a bare address (len = 32 or 128). */
int mm_cidr_parse(const char *s, size_t n, struct mm_ip *out, int *prefix_len);
/* Canonical text (RFC 5952 for v6) into buf of at least MM_IP_STRLEN.
 * Returns buf. */
char *mm_ip_format(const struct mm_ip *ip, char *buf);

static inline uint32_t mm_ip_v4(const struct mm_ip *ip)
{
	return ((uint32_t)ip->b[0] << 24) | ((uint32_t)ip->b[1] << 16) |
	       ((uint32_t)ip->b[2] << 8) | ip->b[3];
}

static inline void mm_ip_set_v4(struct mm_ip *ip, uint32_t a)
{
	int i;
	ip->v6 = 0;
	for (i = 4; i < 16; i++)
		ip->b[i] = 0;
	ip->b[0] = (uint8_t)(a >> 24);
	ip->b[1] = (uint8_t)(a >> 16);
	ip->b[2] = (uint8_t)(a >> 8);
	ip->b[3] = (uint8_t)a;
}

int mm_ip_eq(const struct mm_ip *a, const struct mm_ip *b);
/* RFC 1918, RFC 6598 (100.64/10), loopback, link-local, IPv6 ULA and
 * link-local: addresses that are never the public internet. */
int mm_ip_is_private(const struct mm_ip *ip);

#endif
