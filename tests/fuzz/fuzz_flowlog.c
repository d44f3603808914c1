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
static char scratch_mem2[MM_FLOW_MAX_LINE + 64];

/* Same slice: the same place in the line, or (unescaped into scratch) the
 * same text. */
static int str_same(struct mm_str a, struct mm_str b, const char *line, size_t n)
{
	if (a.n != b.n || (a.p == NULL) != (b.p == NULL))
		return 0;
	if (a.p && a.p >= line && a.p < line + n)
		return a.p == b.p;
	return a.n == 0 || memcmp(a.p, b.p, a.n) == 0;
}

static int flow_same(const struct mm_flow *a, const struct mm_flow *b, const char *line, size_t n)
{
#define SAME_STR(f) str_same(a->f, b->f, line, n)
	return a->version == b->version && a->has_addrs == b->has_addrs &&
	       a->has_ports == b->has_ports && a->has_pkt_addrs == b->has_pkt_addrs &&
	       a->proto == b->proto && a->action == b->action && a->status == b->status &&
	       a->fdir == b->fdir && a->tcp_flags == b->tcp_flags && a->sport == b->sport &&
	       a->dport == b->dport && memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0 &&
	       memcmp(&a->pkt_src, &b->pkt_src, sizeof(a->pkt_src)) == 0 &&
	       memcmp(&a->pkt_dst, &b->pkt_dst, sizeof(a->pkt_dst)) == 0 &&
	       a->packets == b->packets && a->bytes == b->bytes && a->start == b->start &&
	       a->end == b->end && SAME_STR(account) && SAME_STR(eni) && SAME_STR(instance_id) &&
	       SAME_STR(vpc_id) && SAME_STR(subnet_id) && SAME_STR(region) && SAME_STR(az_id) &&
	       SAME_STR(pkt_src_service) && SAME_STR(pkt_dst_service) &&
	       SAME_STR(ecs_cluster_name) && SAME_STR(ecs_task_id) && SAME_STR(reject_reason) &&
	       a->traffic_path == b->traffic_path;
#undef SAME_STR
}

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
			 * with the general parser on every line: the same code,
			 * error text and event (slices: the same bytes of the
			 * line; each path gets its own scratch for unescaped
			 * CloudWatch messages, compared by content) */
			struct mm_flow_fmt f2 = fmt;
			struct mm_arena arena2;
			struct mm_event ev2;
			struct mm_err e2;
			int rc2;
			mm_err_clear(&err);
			mm_err_clear(&e2);
			mm_arena_init(&arena2, scratch_mem2, sizeof(scratch_mem2));
			mm__flow_no_fast_path = 1;
			rc2 = mm_flow_parse(&f2, line, n, &arena2, &ev2, &e2);
			mm__flow_no_fast_path = 0;
			rc = mm_flow_parse(&fmt, line, n, &arena, &ev, &err);
			if (rc != rc2)
				abort();
			if (rc != 0 && strcmp(err.msg, e2.msg) != 0)
				abort();
			if (rc == 0 && (ev.kind != ev2.kind ||
					!flow_same(&ev.u.flow, &ev2.u.flow, line, n)))
				abort();
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
