/* fuzz_sigma.c - libFuzzer target for the Sigma rule loader and matcher.
 *
 * The input is a rule, optionally followed by a line "#EVENT" and a JSON
 * record. The rule is loaded from an exact-size copy (ASan sees reads past
 * the end); whatever its verdict, a rule that is not OK must say why, and
 * an OK rule is matched on the record (also an exact-size copy), which
 * must answer 1, 0 or MM_EPARSE, and mm_sigma_match_many the same. Every rule is freed (LeakSanitizer).
 * The record's bytes are also every string of host events (a process, a
 * socket, a sudo line): their view (mm_sigma_host_view) must be one valid
 * JSON object and mm_sigma_match_host answer 1 or 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "sigma/sigma.h"

static const char SEP[] = "\n#EVENT\n";

static void host_events(const struct mm_sigma_rule *r, const char *p, size_t n, struct mm_sigma_scratch *s)
{
	static char view[MM_SIGMA_HOST_VIEW_MAX];
	static const enum mm_host_what whats[] = {MM_HOST_PROC, MM_HOST_SOCK, MM_HOST_SUDO, MM_HOST_FILE,
						  MM_HOST_LOGIN_FAIL, MM_HOST_LINE};
	struct mm_str all = mm_str_make(p, n), half = mm_str_make(p, n / 2);
	size_t k, vn, used;
	for (k = 0; k < sizeof(whats) / sizeof(whats[0]); k++) {
		struct mm_event ev;
		struct mm_host *h = &ev.u.host;
		struct mm_json_val v;
		int m;
		memset(&ev, 0, sizeof(ev));
		ev.kind = MM_EV_HOST;
		ev.raw = all;
		h->what = whats[k];
		h->host = h->program = h->user = h->target_user = h->exe = h->name = half;
		h->command = h->lineage = h->path = h->state = h->change = all;
		h->message = half;	/* keywords read it when raw is a JSON record */
		h->pid = (int64_t)n;
		h->has_remote = h->has_local = 1;
		h->lport = (uint16_t)(n * 977);
		vn = mm_sigma_host_view(&ev, view, sizeof(view));
		if (vn < 2 || mm_json_value(view, vn, &v, &used) || v.type != MM_JSON_OBJECT || used != vn)
			abort();
		m = mm_sigma_match_host(r, &ev, s);
		if (m != 0 && m != 1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mm_sigma_scratch s;
	static int init;
	const char *in = (const char *)data;
	const char *sep = memmem(in, size, SEP, sizeof(SEP) - 1);
	size_t rn = sep ? (size_t)(sep - in) : size;
	char *rule = malloc(rn ? rn : 1), *ev = NULL;
	struct mm_sigma_rule *r;
	if (!init) {
		if (mm_sigma_scratch_init(&s, 1 << 20))
			abort();
		init = 1;
	}
	if (!rule)
		return 0;
	memcpy(rule, in, rn);
	r = mm_sigma_load("fuzz.yml", rule, rn);
	free(rule);
	if (!r)
		return 0;
	if (r->status != MM_SIGMA_OK && !r->reason[0])
		abort();
	if (r->status == MM_SIGMA_OK && sep) {
		size_t en = size - rn - (sizeof(SEP) - 1);
		int m;
		ev = malloc(en ? en : 1);
		if (ev) {
			memcpy(ev, sep + sizeof(SEP) - 1, en);
			const struct mm_sigma_rule *one[1] = {r};
			uint8_t hit = 0;
			int mm;
			m = mm_sigma_match(r, mm_str_make(ev, en), &s);
			if (m != 0 && m != 1 && m != MM_EPARSE)
				abort();
			/* the many-rules path (field cache, member index) agrees */
			mm = mm_sigma_match_many(one, 1, mm_str_make(ev, en), &s, &hit);
			if (mm != m || (m >= 0 && hit != m))
				abort();
			host_events(r, ev, en, &s);
			free(ev);
		}
	}
	mm_sigma_free(r);
	return 0;
}
