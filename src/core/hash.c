/* hash.c - out-of-line hashing helpers (the hot hash is inline in hash.h). */
#include "core/hash.h"

void mm_hash_hex128(const void *data, size_t n, uint64_t seed, char out[33])
{
	uint64_t h1 = mm_hash(data, n, seed);
	uint64_t h2 = mm_hash(data, n, h1 ^ 0x9e3779b97f4a7c15ULL);
	static const char hex[] = "0123456789abcdef";
	int i;
	for (i = 0; i < 16; i++) {
		out[i] = hex[(h1 >> (60 - 4 * i)) & 15];
		out[16 + i] = hex[(h2 >> (60 - 4 * i)) & 15];
	}
	out[32] = '\0';
}
