/* fuzz_hostauth_state.c - libFuzzer target for the hostauth detector's
 * stored profile loader (src/detect/hostauth.c, load): one row per host,
 * and an entity loaded saves exactly that one row. What is checked:
 * state_harness.h (finish is not run: hostauth judges only on events). */
#include "state_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state_opts o = { .d = &mm_det_hostauth, .entity = "i-0123456789abcdef0",
				   .one_row = 1, .no_finish = 1 };
	fz_state_run(&o, data, size);
	return 0;
}
