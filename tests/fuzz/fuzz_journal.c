/* fuzz_journal.c - libFuzzer target for the agent's journald rendering
 * (agent/journal.h mm_journal_entry_json): journal fields are anyone's
 * bytes (any local program logs). The input is the cursor and the fields
 * in mm_journal_field order, separated by 0x1e. Whatever they hold, the
 * line must be one JSON object the host-log parser accepts as journald,
 * under its 64 KiB line bound, or nothing at all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/journal.h"
#include "core/arena.h"
#include "core/json.h"
#include "parse/syslog.h"

static char scratch[1 << 17];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char cursor[MM_JOURNAL_CURSOR_MAX + 8];
	struct mm_journal_entry e;
	struct mm_json_val o, v;
	struct mm_syslog_ctx cx;
	struct mm_arena a;
	struct mm_event ev;
	struct mm_err err;
	struct mm_buf b;
	size_t used, k = 0;
	int i, rc;
	memset(&e, 0, sizeof(e));
	e.realtime_us = size * 1000003u;
	for (i = -1; i < MM_JF__N && p <= end; i++) {
		const char *q = memchr(p, 0x1e, (size_t)(end - p));
		size_t n = (size_t)((q ? q : end) - p);
		if (i < 0) {
			k = n < sizeof(cursor) - 1 ? n : sizeof(cursor) - 1;
			memcpy(cursor, p, k);
			cursor[k] = '\0';
			e.cursor = cursor;
		} else {
			e.f[i].p = p;
			e.f[i].n = n;
		}
		if (!q)
			break;
		p = q + 1;
	}
	mm_buf_init(&b, 1 << 20);
	rc = mm_journal_entry_json(&b, &e);
	if (rc == 0) {
		if (!b.len || b.p[b.len - 1] != '\n' || b.len > 65536)
			abort();
		if (mm_json_value(b.p, b.len - 1, &o, &used) || o.type != MM_JSON_OBJECT ||
		    mm_json_get(&o, "MESSAGE", &v) != 1 || !mm_journal_looks_like(b.p, b.len - 1))
			abort();
		memset(&cx, 0, sizeof(cx));
		mm_arena_init(&a, scratch, sizeof(scratch));
		mm_err_clear(&err);
		rc = mm_journal_parse(&cx, b.p, b.len - 1, &a, &ev, &err);
		if (rc && (!strcmp(err.msg, "not a JSON object") || strstr(err.msg, "MESSAGE is neither")))
			abort();
	} else if (rc != MM_ESKIP || b.len) {
		abort();
	}
	mm_buf_free(&b);
	return 0;
}
