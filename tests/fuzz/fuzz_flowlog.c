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
		{
			/* differential: the default-layout fast path must agree
			 * with the general parser on every line */
			struct mm_flow_fmt f2 = fmt;
			struct mm_event ev2;
			struct mm_err e2;
			int rc2;
			mm__flow_no_fast_path = 1;
			rc2 = mm_flow_parse(&f2, line, n, &arena, &ev2, &e2);
			mm__flow_no_fast_path = 0;
			rc = mm_flow_parse(&fmt, line, n, &arena, &ev, &err);
			if (rc != rc2)
				abort();
			if (rc == 0) {
				const struct mm_flow *a = &ev.u.flow, *b = &ev2.u.flow;
				if (a->version != b->version || a->has_addrs != b->has_addrs ||
				    a->has_ports != b->has_ports || a->proto != b->proto ||
				    a->action != b->action || a->status != b->status ||
				    a->sport != b->sport || a->dport != b->dport ||
				    a->packets != b->packets || a->bytes != b->bytes ||
				    a->start != b->start || a->end != b->end ||
				    a->tcp_flags != b->tcp_flags ||
				    (a->has_addrs && (!mm_ip_eq(&a->src, &b->src) ||
						      !mm_ip_eq(&a->dst, &b->dst))) ||
				    !mm_str_eq(a->account, b->account) || !mm_str_eq(a->eni, b->eni))
					abort();
			}
		}
		if (rc == 0) {
			/* touch every slice so ASan checks they stay in bounds */
			volatile char sink = 0;
			const struct mm_str *s[] = {&ev.u.flow.account, &ev.u.flow.eni,
						    &ev.u.flow.vpc_id, &ev.u.flow.region,
						    &ev.u.flow.reject_reason,
						    &ev.u.flow.ecs_cluster_name};
			size_t i, k;
			/* an absent field is {NULL, 0}: never index it (clang may
			 * form p + n before the loop, NULL + 0 to UBSan) */
			for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
				for (k = 0; s[i]->p && k < s[i]->n; k++)
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
