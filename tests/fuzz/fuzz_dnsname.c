/* fuzz_dnsname.c - libFuzzer target for the DNS name functions
 * (detect/dgascore.h) and the dnsbehav state parser: each input line is a
 * name for mm_dns_base, mm_dns_entropy and mm_dga_score (and its base
 * label scored as the detector does); the whole input is also offered to
 * dnsbehav's load as a state blob (it must refuse or take it, never
 * crash), and a state that took it must save again. Exact-size copies so
 * ASan sees over-reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "detect/dgascore.h"

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	(void)pctx;
	(void)entity;
	(void)blob;
	(void)n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t s = 0, i;
	void *st;
	char *b;

	for (i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			size_t n = i - s, off = 0, len = 0;
			b = malloc(n ? n : 1);
			if (!b)
				return 0;
			memcpy(b, data + s, n);
			(void)mm_dns_entropy(b, n);
			(void)mm_dga_score(b, n);
			if (mm_dns_base(b, n, &off, &len) == 0) {
				const char *dot;
				if (off + len > n || len == 0)
					abort();
				dot = memchr(b + off, '.', len);
				if (!dot)
					abort(); /* a base always has its suffix */
				(void)mm_dga_score(b + off, (size_t)(dot - (b + off)));
			}
			free(b);
			s = i + 1;
		}
	}
	st = mm_det_dnsbehav.state_new();
	if (!st)
		return 0;
	b = malloc(size ? size : 1);
	if (b) {
		memcpy(b, data, size);
		if (mm_det_dnsbehav.load(st, "i-0123456789abcdef0", 1, b, size) == 0)
			(void)mm_det_dnsbehav.save(st, put, NULL);
		free(b);
	}
	mm_det_dnsbehav.state_free(st);
	return 0;
}
