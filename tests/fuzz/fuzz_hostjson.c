/* fuzz_hostjson.c - libFuzzer target: each line of the input through the
 * host-event sniffer and parser; a line that parses is written back and
 * the written line must parse again to the same kind (the writer never
 * emits what the parser refuses). Exact-size copies so ASan sees
 * over-reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "parse/hostjson.h"

static char arena_mem[1 << 17];
static char arena_mem2[1 << 17];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t s = 0, i;
	for (i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			size_t n = i - s;
			char *b = malloc(n ? n : 1);
			struct mm_arena a, a2;
			struct mm_event ev, ev2;
			struct mm_err err;
			struct mm_buf out;
			if (!b)
				return 0;
			memcpy(b, data + s, n);
			mm_arena_init(&a, arena_mem, sizeof(arena_mem));
			(void)mm_hostjson_looks_like(b, n);
			if (mm_hostjson_parse(b, n, &a, &ev, &err) == 0) {
				mm_buf_init(&out, 1u << 20);
				if (mm_hostjson_write(&out, &ev) == 0) {
					mm_arena_init(&a2, arena_mem2, sizeof(arena_mem2));
					if (out.len > MM_HOSTJSON_MAX_LINE + 1 ||
					    mm_hostjson_parse(out.p, out.len - 1, &a2, &ev2, &err) != 0 ||
					    ev2.u.host.what != ev.u.host.what ||
					    ev2.u.host.time_ms != ev.u.host.time_ms)
						abort();
				}
				mm_buf_free(&out);
			}
			free(b);
			s = i + 1;
		}
	}
	return 0;
}
