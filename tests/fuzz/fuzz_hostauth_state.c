/* fuzz_hostauth_state.c - libFuzzer target for the hostauth detector's
 * stored state loader (src/detect/hostauth.c, load): a host's profile
 * row or a (host, address) key's attempts row, and an entity loaded
 * saves exactly that one row. The input's first byte picks the row's
 * version (modulo 3: 0 version 1, profiles before ASNs; 1 version 2; 2
 * version 3, a kind byte then a profile or a key); what is saved is
 * always the current version. What is checked: state_harness.h, finish
 * included (a loaded key's attempts slide the window and may report). */
#include "state_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state_opts o = { .d = &mm_det_hostauth, .entity = "i-0123456789abcdef0",
				   .one_row = 1 };
	if (size < 1)
		return 0;
	o.version = data[0] % 3 + 1;
	fz_state_run(&o, data + 1, size - 1);
	return 0;
}
