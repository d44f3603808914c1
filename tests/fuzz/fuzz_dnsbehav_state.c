/* fuzz_dnsbehav_state.c - libFuzzer target for the DNS behaviour
 * detector's stored state loader (what `scan` reads back from the store's
 * detector_state for one instance). Its windows are saved in hash order,
 * so a reloaded state need only save as many bytes. What is checked:
 * state_harness.h. */
#include "state_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state_opts o = { .d = &mm_det_dnsbehav, .entity = "i-0fuzz", .same_len_only = 1 };
	fz_state_run(&o, data, size);
	return 0;
}
