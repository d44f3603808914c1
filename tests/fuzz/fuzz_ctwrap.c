/* fuzz_ctwrap.c - libFuzzer target: the bytes as a CloudTrail document in
 * any wrapper (array, JSON stream, lookup-events, EventBridge, Lake rows)
 * walked to its end, as one wrapped item and one Lake row, as one line,
 * and through format detection. Exact-size copy so ASan sees over-reads;
 * the walker must always make progress and locate inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/cloudtrail.h"
#include "parse/ctwrap.h"
#include "parse/format.h"

static char arena_mem[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1);
	struct mm_arena a;
	struct mm_event ev;
	struct mm_err err;
	struct mm_ctw w;
	const char *after;
	uint64_t line, off, last = 0;
	int rc, guard = 0;

	if (!b)
		return 0;
	memcpy(b, data, size);
	mm_arena_init(&a, arena_mem, sizeof(arena_mem));
	mm_ctw_init(&w, b, size);
	while ((rc = mm_ctw_next_event(&w, &a, &ev, &line, &off, &err)) != 0) {
		if (off > size || line > size + 1)
			abort();	/* located inside the input */
		if (mm_ctw_offset(&w) < last || mm_ctw_offset(&w) > size)
			abort();	/* the walker never goes back */
		last = mm_ctw_offset(&w);
		if (rc == 1 && ev.raw.n == 0)
			abort();	/* every event has its record */
		if (rc == MM_ETRUNC || ++guard > 100000)
			break;
	}
	if (guard > 100000)
		abort();
	if (size && b[0] == '{') {
		mm_arena_reset(&a);
		(void)mm_ctw_parse_item(b, b + size, &a, &ev, &err, &after);
	}
	if (size && b[0] == '[') {
		mm_arena_reset(&a);
		(void)mm_ctw_parse_row(b, b + size, &a, &ev, &err, &after);
	}
	mm_arena_reset(&a);
	(void)mm_ct_parse_line(b, size, &a, &ev, &err);
	(void)mm_format_detect("f", b, size, MM_SRC_AUTO);
	(void)mm_format_detect("f", b, size, MM_SRC_CLOUDTRAIL);
	free(b);
	return 0;
}
