/* fuzz_hostlog.c - libFuzzer target: each line of the input through the
 * host log sniffers and parsers (rsyslog traditional / RFC 3339 lines,
 * journald JSON; parse/syslog.h). Exact-size copies so ASan sees
 * over-reads. (fuzz_syslog.c is serve's listener framing.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/syslog.h"

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
			struct mm_syslog_ctx cx;
			if (!b)
				return 0;
			memcpy(b, data + s, n);
			memset(&cx, 0, sizeof(cx));
			cx.anchor_ms = 1796510934000LL;
			mm_arena_init(&a, arena_mem, sizeof(arena_mem));
			(void)mm_syslog_looks_like(b, n);
			(void)mm_journal_looks_like(b, n);
			(void)mm_syslog_parse(&cx, b, n, &a, &ev, &err);
			mm_arena_init(&a, arena_mem, sizeof(arena_mem));
			(void)mm_journal_parse(&cx, b, n, &a, &ev, &err);
			free(b);
			s = i + 1;
		}
	}
	return 0;
}
