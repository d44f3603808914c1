/* fuzz_hostauth_state.c - libFuzzer target for the hostauth detector's
 * stored profile loader (src/detect/hostauth.c, load): one row per host,
 * and an entity loaded saves exactly that one row. The input's first
 * byte picks the row's version (low bit: 1, before ASNs, or 2); what is
 * saved is always the current version. What is checked: state_harness.h
 * (finish is not run: hostauth judges only on events). */
#include "state_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state_opts o = { .d = &mm_det_hostauth, .entity = "i-0123456789abcdef0",
				   .one_row = 1, .no_finish = 1 };
	if (size < 1)
		return 0;
	o.version = (data[0] & 1) + 1;
	fz_state_run(&o, data + 1, size - 1);
	return 0;
}
