/* fuzz_ctbase_state.c - libFuzzer target for the CloudTrail baseline
 * detector's blob loader (what `scan` reads back from the store's
 * detector_state). The input's first byte picks the entity kind (even: a
 * principal "p|", odd: an instance session "i|"); the rest is its blob,
 * which saves back as exactly one row. Finish judges the networks too
 * (unusual_asn_caller on). What is checked: state_harness.h. */
#include "state_harness.h"

static void networks_on(void *st, struct mm_detect_ctx *c, double *p)
{
	(void)st;
	(void)c;
	p[7] = 1; /* unusual_asn_caller */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state_opts o = { .d = &mm_det_ctbase, .one_row = 1, .same_len_only = 1,
				   .before_finish = networks_on };
	if (size < 1)
		return 0;
	o.entity = (data[0] & 1) ? "i|arn:aws:sts::111122223333:assumed-role/R/i-0fuzz0000000000a"
				 : "p|arn:aws:iam::111122223333:user/fuzz";
	fz_state_run(&o, data + 1, size - 1);
	return 0;
}
