/* fuzz_brute_state.c - libFuzzer target for the brute detector's stored
 * state loader (src/detect/brute.c, load): one row per shard of ENIs; a
 * row of its 18-byte header alone holds nothing. What is checked:
 * state_harness.h. */
#include "state_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state_opts o = { .d = &mm_det_brute, .entity = "shard-00", .empty_len = 18 };
	fz_state_run(&o, data, size);
	return 0;
}
