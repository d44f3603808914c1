/* fuzz_route53.c - libFuzzer target: each line of the input through the
 * cheap sniffer and the Resolver query log parser (CloudWatch wrapping
 * included). Exact-size copies so ASan sees over-reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/route53.h"

static char arena_mem[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t s = 0, i;
	for (i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			size_t n = i - s;
			char *b = malloc(n ? n : 1);
			struct mm_arena a;
			struct mm_event ev;
			struct mm_err err;
			if (!b)
				return 0;
			memcpy(b, data + s, n);
			mm_arena_init(&a, arena_mem, sizeof(arena_mem));
			(void)mm_dns_looks_like(b, n);
			(void)mm_dns_parse(b, n, &a, &ev, &err);
			free(b);
			s = i + 1;
		}
	}
	return 0;
}
