/* fuzz_flows.c - libFuzzer target for the hunt's parsers: the S3 key
 * time of a path (mm_flows_key_time, mm_flows_prune) and the filters on
 * whatever records the flow-log parser makes of the input. The first
 * byte picks the query's filters; the rest is both a path and lines. The
 * input is copied to an exact-size NUL-terminated buffer so ASan sees any
 * read past the end. Invariants: a key time is a sane range, a file
 * skipped for a wider window is skipped for a narrower one, and nothing
 * is skipped without a key that says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "hunt/flows.h"
#include "parse/flowlog.h"

static char arena_mem[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mm_flows_query q, wide;
	struct mm_flow_fmt fmt;
	struct mm_arena ar;
	struct mm_event ev;
	struct mm_err err;
	int64_t lo, hi;
	char *b;
	const char *p, *end;
	uint8_t pick;
	int sl;

	if (size < 1)
		return 0;
	pick = data[0];
	b = malloc(size);
	if (!b)
		return 0;
	memcpy(b, data + 1, size - 1);
	b[size - 1] = '\0';
	mm_flows_query_init(&q);
	q.has_since = pick & 1;
	q.since_ms = (int64_t)1709510400 * 1000 + (int64_t)(pick >> 4) * 3600 * 1000;
	q.has_until = (pick >> 1) & 1;
	q.until_ms = q.since_ms + 3600 * 1000;
	q.port = (pick & 4) ? 443 : -1;
	q.remote_port = (pick & 8) ? 3333 : -1;
	if (pick & 16) {
		q.has_remote = 1;
		mm_cidr_parse("198.51.100.0/23", 15, &q.remote, &q.remote_len);
	}
	if (pick & 32)
		mm_flows_add_eni(&q, "eni-0f10000000000000a");
	if (mm_flows_key_time(b, &lo, &hi) == 1 && (hi < lo || hi - lo > 86400))
		abort();
	wide = q;
	wide.since_ms -= 86400 * 1000;
	wide.until_ms += 86400 * 1000;
	if (mm_flows_prune(&wide, b) && !mm_flows_prune(&q, b))
		abort(); /* a wider window skips a file the narrower one reads */
	if (mm_flows_prune(&q, b) && !mm_flows_key_time(b, &lo, &hi) && !strstr(b, "AWSLogs/"))
		abort(); /* pruned for a reason it cannot have */
	mm_flow_fmt_auto(&fmt);
	for (p = b, end = b + strlen(b); p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
		if (n <= MM_FLOW_MAX_LINE && mm_flow_parse(&fmt, p, n, &ar, &ev, &err) == 0)
			(void)mm_flows_match(&q, &ev.u.flow, &sl);
		p += n + 1;
	}
	free(b);
	return 0;
}
