/* fuzz_dos_state.c - libFuzzer target for the dos detector's stored state
 * loader (src/detect/dos.c, one row per shard of ENIs); a cleared row
 * ("DOS2", no ENIs, no files: 12 bytes) holds nothing. What is checked:
 * state_harness.h. */
#include "state_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state_opts o = { .d = &mm_det_dos, .entity = "shard-003", .empty_len = 12 };
	fz_state_run(&o, data, size);
	return 0;
}
