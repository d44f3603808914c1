/* fuzz_hostproc_state.c - libFuzzer target for the hostproc detector's
 * stored state loader (src/detect/hostproc.c, load): one row per host.
 * What is checked: state_harness.h. */
#include "state_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state_opts o = { .d = &mm_det_hostproc, .entity = "i-0abc" };
	fz_state_run(&o, data, size);
	return 0;
}
