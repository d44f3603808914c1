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

/* A faster 64-bit hash of n bytes for tables that live in memory only
 * (16 bytes a 64x64->128-bit multiply, where mm_hash does three
 * multiplies every 8). Its values may change between builds: never store
 * them, nor anything derived from them (mm_hash is the stable one). */
#ifdef __SIZEOF_INT128__
static inline uint64_t mm__mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t mm_hash_fast(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t a = 0, b = 0, h = seed ^ 0xa0761d6478bd642fULL ^ (uint64_t)n;
	while (n > 16) {
		h = mm__mum(mm__rd64(p) ^ 0xe7037ed1a0b428dbULL, mm__rd64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	if (n > 8) {
		a = mm__rd64(p);
		memcpy(&b, p + 8, n - 8);
	} else if (n) {
		memcpy(&a, p, n);
	}
	h = mm__mum(a ^ 0x8ebc6af09c88c6e3ULL, b ^ h ^ 0x589965cc75374cc3ULL);
	return mm_hash_mix(h);
}
#else
static inline uint64_t mm_hash_fast(const void *data, size_t n, uint64_t seed)
{
	return mm_hash(data, n, seed);
}
#endif

/* 128-bit stable identifier of n bytes as 32 lowercase hex characters
 * (plus NUL) in out: two chained 64-bit hashes. For ids derived from a
 * key (finding ids, detector ids), not for security. */
void mm_hash_hex128(const void *data, size_t n, uint64_t seed, char out[33]);

#endif
