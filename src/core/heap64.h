/* heap64.h - a max-heap of uint64_t in a plain array: the bottom-k
 * bounds of the flow detectors (brute, netscan) keep their kept keys'
 * hashes in one, the largest on top, to evict it when a smaller key
 * comes. The caller owns the array and its count. */
#ifndef MM_CORE_HEAP64_H
#define MM_CORE_HEAP64_H

#include <stddef.h>
#include <stdint.h>

/* Move h[i] up to its place (after it was appended or grew). */
static inline void mm_heap64_up(uint64_t *h, size_t i)
{
	while (i) {
		size_t p = (i - 1) / 2;
		uint64_t t;
		if (h[p] >= h[i])
			break;
		t = h[p], h[p] = h[i], h[i] = t;
		i = p;
	}
}

/* Move h[i] down to its place among h[0..n) (after it shrank, or to
 * build the heap: i from n / 2 down to 0). */
static inline void mm_heap64_down(uint64_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		uint64_t t;
		if (l < n && h[l] > h[m])
			m = l;
		if (l + 1 < n && h[l + 1] > h[m])
			m = l + 1;
		if (m == i)
			break;
		t = h[m], h[m] = h[i], h[i] = t;
		i = m;
	}
}

#endif
