/* fuzz_listfmt.c - libFuzzer target for the list format converters.
 *
 * The first byte picks the format (its value mod 6: TXT, STIX, OTX_CSV,
 * PROOF_POINT, FIRE_EYE, ALIEN_VAULT; the seeds use '0'..'5'), the rest
 * is the document. Besides the sanitizers, one property is checked: every
 * line a converter writes is an entry mm_intel_load takes without an
 * error or a skip, and the count matches (TXT is passed through as it
 * is, so it is not held to that). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "intel/intel.h"
#include "intel/listfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fmts[] = {"TXT",	  "STIX",     "OTX_CSV",
					   "PROOF_POINT", "FIRE_EYE", "ALIEN_VAULT"};
	struct mm_listfmt_stats st;
	struct mm_err err;
	struct mm_buf out;
	const char *fmt;

	if (size < 1)
		return 0;
	mm_log_set_level(MM_LOG_QUIET);
	fmt = fmts[data[0] % 6];
	mm_buf_init(&out, 4u << 20);
	if (mm_listfmt_convert(fmt, (const char *)data + 1, size - 1, &out, &st, &err) == 0 &&
	    data[0] % 6 != 0) {
		struct mm_intel *in = NULL;
		struct mm_intel_load_stats ls;
		if (mm_intel_new(&in) == 0) {
			if (mm_intel_load_mem(in, MM_CAT_CUSTOM, "fuzz", out.p ? out.p : "", out.len,
					      &ls, &err) == 0 &&
			    (ls.errors || ls.skipped ||
			     ls.ips + ls.cidrs + ls.domains + ls.ip_ports + ls.refused != st.written))
				abort();	/* wrote something intel does not take */
			mm_intel_free(in);
		}
	}
	mm_buf_free(&out);
	return 0;
}
