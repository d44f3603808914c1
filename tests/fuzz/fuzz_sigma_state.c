/* fuzz_sigma_state.c - libFuzzer target for the sigma detector's stored
 * state loader (src/detect/sigma.c, load): the correlation groups a scan
 * saved, one row per shard (a 5-byte header alone holds nothing). Finish
 * runs without a rule set and with one holding the correlation the seeds
 * name, so loaded groups are evaluated. What is checked: state_harness.h. */
#include "sigma/sigma.h"
#include "state_harness.h"

static const char rules[] =
	"title: C\nid: c-1\nlevel: high\ncorrelation:\n  type: event_count\n  rules: [r]\n"
	"  group-by: [userIdentity.arn]\n  timespan: 5m\n  condition: {gte: 2}\n---\n"
	"title: R\nname: r\nlogsource: {product: aws, service: cloudtrail}\n"
	"detection: {s: {eventName: CreateUser}, condition: s}\n";

static struct mm_sigma_set set;

/* finish runs without the rule set first, then (by the harness) with it */
static void both_ways(void *st, struct mm_detect_ctx *c, double *p)
{
	(void)p;
	c->sigma = NULL;
	mm_det_sigma.finish(st, c);
	c->sigma = &set;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct fz_state_opts o = { .d = &mm_det_sigma, .entity = "shard-00", .empty_len = 5,
				   .before_finish = both_ways };

	if (!ready) {
		mm_sigma_set_init(&set);
		if (mm_sigma_set_add_buf(&set, "f.yml", rules, sizeof(rules) - 1) || mm_sigma_set_build(&set) ||
		    set.ncorr != 1)
			abort();
		ready = 1;
	}
	fz_state_run(&o, data, size);
	return 0;
}
