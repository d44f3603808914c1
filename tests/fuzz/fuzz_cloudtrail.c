/* fuzz_cloudtrail.c - libFuzzer target: the bytes as one event line, as an
 * S3 {"Records":[...]} document (every record parsed), and as a digest
 * probe. Exact-size copy so ASan sees over-reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/cloudtrail.h"

static char arena_mem[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1);
	struct mm_arena a;
	struct mm_event ev;
	struct mm_err err;
	struct mm_ct_doc d;
	if (!b)
		return 0;
	memcpy(b, data, size);
	mm_arena_init(&a, arena_mem, sizeof(arena_mem));
	(void)mm_ct_parse_line(b, size, &a, &ev, &err);
	(void)mm_ct_is_digest(b, size);
	if (mm_ct_doc_init(&d, b, size, &err) == 0) {
		struct mm_json_val rec;
		uint64_t line, off;
		int rc, guard = 0;
		while ((rc = mm_ct_doc_next(&d, &rec, &line, &off, &err)) != 0 && guard++ < 100000) {
			if (off > size)
				abort();
			if (rc == 1) {
				mm_arena_reset(&a);
				(void)mm_ct_parse_value(&rec, &a, &ev, &err);
			} else if (rc == MM_ETRUNC) {
				break;
			}
		}
		if (guard >= 100000)
			abort();	/* the iterator must always make progress */
	}
	free(b);
	return 0;
}
