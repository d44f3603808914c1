/* fuzz_json.c - libFuzzer target for the JSON scanner: scan, iterate,
 * descend, look up, unescape and convert whatever comes in. The input is
 * copied to an exact-size buffer so ASan sees any read past the end.
 * The writing side too: any bytes escaped with mm_json_escape must scan
 * back as one valid JSON string, and mm_log_safe output must carry no
 * control byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

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
	/* writing: any bytes become a valid JSON string */
	{
		struct mm_buf w;
		mm_buf_init(&w, 8 * size + 16);
		if (mm_buf_addc(&w, '"') == 0 && mm_json_escape(&w, b, size) == 0 &&
		    mm_buf_addc(&w, '"') == 0) {
			if (mm_json_scan(w.p, w.len, &v, &used, NULL) != 0 || used != w.len ||
			    v.type != MM_JSON_STRING)
				abort();
		}
		mm_buf_free(&w);
	}
	/* terminal-safe text: no control byte survives */
	{
		char *z = malloc(size + 1), out[512];
		size_t i;
		if (z) {
			memcpy(z, b, size);
			z[size] = '\0';
			mm_log_safe(z, out, sizeof(out));
			for (i = 0; out[i]; i++)
				if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
					abort();
			free(z);
		}
	}
	free(b);
	return 0;
}
