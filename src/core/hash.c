/* hash.c - out-of-line hashing helpers (the hot hash is inline in hash.h). */
#include "core/hash.h"

#include <stdio.h>

void mm_hash_hex128(const void *data, size_t n, uint64_t seed, char out[33])
{
	uint64_t h1 = mm_hash(data, n, seed);
	uint64_t h2 = mm_hash(data, n, h1 ^ 0x9e3779b97f4a7c15ULL);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}
