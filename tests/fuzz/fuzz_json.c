/* fuzz_json.c - libFuzzer target for the JSON scanner: scan, iterate,
 * descend, look up, unescape and convert whatever comes in. The input is
 * copied to an exact-size buffer so ASan sees any read past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"

static char arena_mem[1 << 16];

static void walk(const struct mm_json_val *v, struct mm_arena *a, int level)
{
	struct mm_json_iter it;
	struct mm_json_val m;
	struct mm_str k, s;
	int64_t x;
	if (level > 8)
		return;
	mm_json_str(v, a, &s);
	mm_json_int(v, &x);
	if (mm_json_iter_init(&it, v))
		return;
	while (mm_json_iter_next(&it, &k, &m) == 1) {
		if (k.p)
			(void)mm_json_key_eq(k, "eventTime");
		walk(&m, a, level + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1);
	struct mm_json_val v, o;
	struct mm_arena a;
	size_t used, at;
	if (!b)
		return 0;
	memcpy(b, data, size);
	mm_arena_init(&a, arena_mem, sizeof(arena_mem));
	if (mm_json_scan(b, size, &v, &used, &at) == 0) {
		if (used > size)
			abort();
		walk(&v, &a, 0);
		if (v.type == MM_JSON_OBJECT) {
			(void)mm_json_path(&v, "a.b.c", &o);
			(void)mm_json_get(&v, "Records", &o);
		}
	} else if (at > size) {
		abort();
	}
	/* the same bytes as an unscanned object: lenient iteration with
	 * on-demand descent must not misbehave either */
	if (size && b[0] == '{') {
		struct mm_json_iter it, ch;
		struct mm_str k;
		v.type = MM_JSON_OBJECT;
		v.p = b;
		v.n = size;
		mm_json_iter_init(&it, &v);
		while (mm_json_iter_key(&it, &k) == 1) {
			if (it.p < it.end && *it.p == '{' && mm_json_iter_enter(&it, &ch) == 0) {
				while (mm_json_iter_next(&ch, &k, &o) == 1)
					;
				if (mm_json_iter_leave(&it, &ch))
					break;
			} else if (mm_json_iter_value(&it, &o) != 1)
				break;
		}
	}
	free(b);
	return 0;
}
