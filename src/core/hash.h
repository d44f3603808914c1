/* hash.h - fast non-cryptographic hashing for in-memory tables.
 * Not for anything an attacker can exploit by collision beyond slowing a
 * bounded table; tables that take outside keys also cap their size. */
#ifndef MM_HASH_H
#define MM_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t mm__rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t mm_hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* 64-bit hash of n bytes, seedable. */
static inline uint64_t mm_hash(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
	while (n >= 8) {
		h = (h ^ mm_hash_mix(mm__rd64(p))) * 0x9e3779b97f4a7c15ULL;
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t t = 0;
		memcpy(&t, p, n);
		h = (h ^ mm_hash_mix(t ^ ((uint64_t)n << 56))) * 0x9e3779b97f4a7c15ULL;
	}
	return mm_hash_mix(h);
}

/* 128-bit stable identifier of n bytes as 32 lowercase hex characters
 * (plus NUL) in out: two chained 64-bit hashes. For ids derived from a
 * key (finding ids, detector ids), not for security. */
void mm_hash_hex128(const void *data, size_t n, uint64_t seed, char out[33]);

#endif
