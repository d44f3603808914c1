/* fuzz_respond.c - libFuzzer target for the file edits of `mamori agent
 * respond` on files an attacker on the host may have written: a crontab
 * (remove-cron and its undo) and /etc/shadow (lock-user and its undo).
 * The input's first line is the pattern, the rest the crontab; the whole
 * input is also read as a shadow file for user "git". Properties: the
 * undo gives back exactly the original bytes (merge(filter(x)) == x;
 * unlock(lock(x)) == x), and a lock changes only that user's line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/respond.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data, *nl = memchr(d, '\n', size);
	struct mm_buf kept, removed, back, locked, unlocked;
	char pat[256], exp1[32], exp2[32];
	size_t pn = nl ? (size_t)(nl - d) : 0, nrem = 0, rest;
	int was = 0, was2 = 0;

	mm_buf_init(&kept, 1 << 20);
	mm_buf_init(&removed, 8 << 20);
	mm_buf_init(&back, 2 << 20);
	mm_buf_init(&locked, 1 << 20);
	mm_buf_init(&unlocked, 1 << 20);
	if (nl && pn > 0 && pn < sizeof(pat) && !memchr(d, '\0', pn)) {
		memcpy(pat, d, pn);
		pat[pn] = '\0';
		rest = size - pn - 1;
		if (mm_respond_cron_filter(nl + 1, rest, pat, &kept, &removed, &nrem, NULL) == 0) {
			if (mm_respond_cron_merge(kept.p, kept.len, removed.p, removed.len, &back,
						  NULL) != 0)
				abort();
			if (back.len != rest || memcmp(back.p, nl + 1, rest))
				abort();
		}
	}
	if (mm_respond_shadow_edit(d, size, "git", 1, "1", &was, exp1, sizeof(exp1), &locked) == 0) {
		if (mm_respond_shadow_edit(locked.p, locked.len, "git", was ? 0 : -1, exp1, &was2, exp2,
					   sizeof(exp2), &unlocked) != 0)
			abort();
		if (!was2 || strcmp(exp2, "1"))
			abort();
		if (unlocked.len != size || memcmp(unlocked.p, d, size))
			abort();
	}
	mm_buf_free(&kept);
	mm_buf_free(&removed);
	mm_buf_free(&back);
	mm_buf_free(&locked);
	mm_buf_free(&unlocked);
	return 0;
}
