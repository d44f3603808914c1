/* fuzz_hostauth_state.c - libFuzzer target for the hostauth detector's
 * stored profile loader (src/detect/hostauth.c, load).
 *
 * The input is a version byte (low bit: 1 or 2) and one stored row. A
 * row that loads must save, and the saved
 * bytes must load back and save the same bytes again (the format round
 * trips); a refused row must leave nothing behind (nothing saved). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

struct row {
	int n;
	unsigned char buf[8192];
	size_t len;
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct row *r = pctx;
	(void)entity;
	if (r->n++ || n > sizeof(r->buf))
		abort(); /* one entity loaded: one row, within the caps */
	memcpy(r->buf, blob, n);
	r->len = n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mm_detector_def *d = &mm_det_hostauth;
	void *s = d->state_new(), *s2 = NULL;
	struct row a, b;
	int rc;

	if (!s)
		return 0;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	/* the first byte picks the blob version (1: before ASNs, 2: now) */
	if (!size)
		goto out;
	rc = d->load(s, "i-0123456789abcdef0", (data[0] & 1) + 1, data + 1, size - 1);
	d->save(s, put, &a);
	if (rc) {
		if (a.n)
			abort(); /* refused, yet something was kept */
		goto out;
	}
	s2 = d->state_new();
	if (!s2)
		goto out;
	if (a.n != 1 || d->load(s2, "i-0123456789abcdef0", d->state_version, a.buf, a.len))
		abort();
	d->save(s2, put, &b);
	if (b.n != 1 || b.len != a.len || memcmp(a.buf, b.buf, a.len))
		abort();
out:
	d->state_free(s);
	if (s2)
		d->state_free(s2);
	return 0;
}
