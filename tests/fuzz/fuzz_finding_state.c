/* fuzz_finding_state.c - libFuzzer target for a stored finding's bytes
 * (mm_finding_unpack: the store's detector_state rows of the "finding"
 * stage, read back at every flush that meets the finding again) and for
 * the finding table's own packing (mm_finding_pack_mem/unpack_mem).
 *
 * Whatever unpacks must be safe to use (every text field ends), and must
 * survive the round trips exactly: packed for the store and unpacked,
 * packed for memory and unpacked, merged into a finding table, released
 * (packed) and read back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "finding/agg.h"
#include "finding/finding.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

/* f unpacked from anywhere: use it as the engine does. */
static void use(struct mm_finding *f)
{
	struct mm_finding g, h;
	struct mm_buf b;
	struct mm_agg *a;
	char key[256];
	int i;

	mm_finding_resource_key(f, key, sizeof(key));
	mm_finding_make_id(f);
	check(strlen(f->id) == 32);

	/* memory packing: the same bytes back (tails were zeroed in place) */
	mm_buf_init(&b, 2 * sizeof(*f));
	check(mm_finding_pack_mem(f, &b) == 0);
	check(mm_finding_unpack_mem(&g, b.p, b.len) == 0);
	check(memcmp(&g, f, sizeof(g)) == 0);
	mm_buf_free(&b);

	/* store packing: the fields survive (file names are interned again) */
	mm_buf_init(&b, 1 << 20);
	check(mm_finding_pack(f, &b) == 0);
	check(mm_finding_unpack(&h, b.p, b.len) == 0);
	check(!strcmp(h.id, f->id) && !strcmp(h.type, f->type) && h.count == f->count &&
	      h.nevidence == f->nevidence);
	mm_buf_free(&b);

	/* through a finding table, packed by the releases in between */
	if (mm_agg_new(&a, 1000))
		return;
	for (i = 0; i < 300; i++) {
		g = *f;
		if (i)
			snprintf(g.disc, sizeof(g.disc), "d%d", i);
		check(mm_agg_merge(a, &g) == 0);
		mm_agg_release(a);
	}
	check(mm_agg_count(a) == 300);
	check(mm_agg_read(a, 0, &h) == 0);
	check(!strcmp(h.type, f->type) && h.count == f->count);
	mm_agg_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *in = malloc(size ? size : 1);
	struct mm_finding f;

	if (!in)
		return 0;
	memcpy(in, data, size);
	if (mm_finding_unpack(&f, in, size) == 0)
		use(&f);
	/* our own memory format from arbitrary bytes: refused or usable
	 * once made safe as a stored one is */
	if (mm_finding_unpack_mem(&f, in, size) == 0) {
		mm_finding_zero_tails(&f);
		if (f.nevidence >= 0 && f.nevidence <= MM_EVIDENCE_MAX) {
			memset(f.ev, 0, sizeof(f.ev)); /* pointers from bytes: never followed */
			f.detail_file = NULL;
			f.nevidence = 0;
			if (!mm_finding_has_apis(&f) || (f.napis >= 0 && f.napis <= MM_API_CALLS_MAX))
				if (!mm_finding_has_probes(&f) ||
				    (f.nprobes >= 0 && f.nprobes <= MM_PROBES_MAX))
					if (!mm_finding_has_seq(&f) || f.seq.nsig <= MM_SEQ_SIGNALS_MAX)
						use(&f);
		}
	}
	free(in);
	return 0;
}
