/* fuzz_flowlog.c - libFuzzer target for the VPC Flow Logs parser.
 *
 * The input is split into lines and fed through one format, as a file
 * would be (so headers change the format for the lines after them). Each
 * line is copied into an exactly-sized heap buffer so ASan sees any read
 * past its end (the parser takes slices, not NUL-terminated strings). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/flowlog.h"

static char scratch_mem[MM_FLOW_MAX_LINE + 64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_flow_fmt fmt;
	struct mm_arena arena;
	struct mm_event ev;
	struct mm_err err;
	size_t at = 0;

	mm_flow_fmt_auto(&fmt);
	while (at < size) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t n = nl ? (size_t)(nl - (data + at)) : size - at;
		char *line = malloc(n ? n : 1);
		int rc;

		if (!line)
			return 0;
		memcpy(line, data + at, n);
		mm_arena_init(&arena, scratch_mem, sizeof(scratch_mem));
		(void)mm_flow_classify(line, n);
		rc = mm_flow_parse(&fmt, line, n, &arena, &ev, &err);
		if (rc == 0) {
			/* touch every slice so ASan checks they stay in bounds */
			volatile char sink = 0;
			const struct mm_str *s[] = {&ev.u.flow.account, &ev.u.flow.eni,
						    &ev.u.flow.vpc_id, &ev.u.flow.region,
						    &ev.u.flow.reject_reason,
						    &ev.u.flow.ecs_cluster_name};
			size_t i, k;
			for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
				for (k = 0; k < s[i]->n; k++)
					sink ^= s[i]->p[k];
			(void)sink;
			if (ev.kind != MM_EV_FLOW)
				abort();
		} else if (rc != MM_ESKIP && rc != MM_EPARSE) {
			abort();	/* the parser promises only these codes */
		}
		(void)mm_flow_fmt_header(&fmt, line, n, &err);
		free(line);
		at += n + 1;
	}
	return 0;
}
