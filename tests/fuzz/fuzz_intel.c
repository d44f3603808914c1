/* fuzz_intel.c - libFuzzer target for the intel list parser and lookups.
 *
 * The input is loaded both as a threat list and as a trusted list, the set
 * is built, and then queried with addresses and names cut from the input
 * itself, so lookups hit the entries just loaded. */
#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "intel/intel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_intel *in = NULL;
	struct mm_intel_hit hits[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;
	struct mm_err err;
	const char *s = (const char *)data;
	size_t off = 0;

	mm_log_set_level(MM_LOG_QUIET);
	if (mm_intel_new(&in))
		return 0;
	mm_intel_load_mem(in, MM_CAT_C2, "fuzz", s, size, &st, &err);
	mm_intel_load_trusted_mem(in, "trusted", s, size, &err);
	if (mm_intel_build(in, &err) == 0) {
		/* query every line as an address and as a name */
		while (off < size) {
			const char *nl = memchr(s + off, '\n', size - off);
			size_t n = nl ? (size_t)(nl - (s + off)) : size - off;
			struct mm_ip ip;
			int plen;
			mm_intel_match_domain(in, s + off, n, hits, MM_INTEL_MAX_HITS);
			if (mm_cidr_parse(s + off, n, &ip, &plen) == 0) {
				mm_intel_match_ip(in, &ip, 0, hits, MM_INTEL_MAX_HITS);
				mm_intel_match_ip(in, &ip, (uint16_t)n, hits, 2);
				mm_intel_trusted(in, &ip);
				/* last address of the prefix too */
				ip.b[15] ^= 0xff;
				mm_intel_match_ip(in, &ip, 0, hits, MM_INTEL_MAX_HITS);
			}
			off += n + 1;
		}
	}
	mm_intel_free(in);
	return 0;
}
