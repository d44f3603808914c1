/* blob.c - the detectors' state blob codec (blob.h). */
#include "detect/blob.h"

#include <string.h>

#include "core/intern.h"
#include "detect/detect.h"

int mm_blob_put_u(struct mm_buf *b, uint64_t v, int bytes)
{
	unsigned char t[8];
	mm_le_put(t, v, bytes);
	return mm_buf_add(b, t, (size_t)bytes);
}

int mm_blob_put_str(struct mm_buf *b, const char *z, int lenbytes, size_t max)
{
	size_t n = z ? strlen(z) : 0, lim = lenbytes == 1 ? 0xff : 0xffff;
	int rc;
	if (n > max)
		n = max;
	if (n > lim)
		n = lim;
	rc = mm_blob_put_u(b, n, lenbytes);
	return rc ? rc : mm_buf_add(b, z ? z : "", n);
}

int mm_blob_put_ip(struct mm_buf *b, const struct mm_ip *ip)
{
	int rc = mm_blob_put_u(b, ip->v6, 1);
	return rc ? rc : mm_buf_add(b, ip->b, 16);
}

int mm_blob_put_uv(struct mm_buf *b, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;
	do {
		t[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	return mm_buf_add(b, t, n);
}

int mm_blob_put_ipc(struct mm_buf *b, const struct mm_ip *ip)
{
	int rc = mm_blob_put_u(b, ip->v6, 1);
	return rc ? rc : mm_buf_add(b, ip->b, ip->v6 ? 16 : 4);
}

int mm_blob_put_ref(struct mm_buf *b, const struct mm_evref *r, size_t max)
{
	int rc = mm_blob_put_str(b, r->file, 2, max);
	rc = rc ? rc : mm_blob_put_u(b, r->line, 8);
	rc = rc ? rc : mm_blob_put_u(b, r->offset, 8);
	return rc ? rc : mm_blob_put_u(b, (uint64_t)r->time_ms, 8);
}

const unsigned char *mm_blob_get_bytes(struct mm_blob_rd *r, size_t n)
{
	const unsigned char *p = r->p;
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	return p;
}

uint64_t mm_blob_get_u(struct mm_blob_rd *r, int bytes)
{
	const unsigned char *p = mm_blob_get_bytes(r, (size_t)bytes);
	return p ? mm_le_get(p, bytes) : 0;
}

void mm_blob_get_str(struct mm_blob_rd *r, char *out, size_t size, int lenbytes)
{
	size_t n = (size_t)mm_blob_get_u(r, lenbytes);
	const unsigned char *p;
	out[0] = '\0';
	if (r->bad)
		return;
	if (n >= size) {
		r->bad = 1;
		return;
	}
	if (!(p = mm_blob_get_bytes(r, n)))
		return;
	if (memchr(p, '\0', n)) {
		r->bad = 1;
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

void mm_blob_get_ip(struct mm_blob_rd *r, struct mm_ip *ip)
{
	uint64_t v6 = mm_blob_get_u(r, 1);
	const unsigned char *p = mm_blob_get_bytes(r, 16);
	int i;
	memset(ip, 0, sizeof(*ip));
	if (!p || v6 > 1) {
		r->bad = 1;
		return;
	}
	ip->v6 = (uint8_t)v6;
	memcpy(ip->b, p, 16);
	if (!v6)
		for (i = 4; i < 16; i++)
			if (ip->b[i])
				r->bad = 1;
}

uint64_t mm_blob_get_uv(struct mm_blob_rd *r)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 10; i++) {
		const unsigned char *p = mm_blob_get_bytes(r, 1);
		if (!p)
			return 0;
		if ((i == 9 && *p > 1) || (i && *p == 0)) {
			r->bad = 1; /* past 64 bits, or not minimal */
			return 0;
		}
		v |= (uint64_t)(*p & 0x7f) << (7 * i);
		if (!(*p & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

void mm_blob_get_ipc(struct mm_blob_rd *r, struct mm_ip *ip)
{
	uint64_t v6 = mm_blob_get_u(r, 1);
	const unsigned char *p;
	memset(ip, 0, sizeof(*ip));
	if (r->bad || v6 > 1) {
		r->bad = 1;
		return;
	}
	if (!(p = mm_blob_get_bytes(r, v6 ? 16 : 4)))
		return;
	ip->v6 = (uint8_t)v6;
	memcpy(ip->b, p, v6 ? 16 : 4);
}

void mm_blob_get_ref(struct mm_blob_rd *r, struct mm_evref *ref, size_t max)
{
	size_t n = (size_t)mm_blob_get_u(r, 2);
	const unsigned char *p = r->bad || n > max ? NULL : mm_blob_get_bytes(r, n);
	if (!p || memchr(p, '\0', n))
		r->bad = 1;
	ref->file = r->bad ? NULL : mm_intern((const char *)p, n);
	ref->line = mm_blob_get_u(r, 8);
	ref->offset = mm_blob_get_u(r, 8);
	ref->time_ms = (int64_t)mm_blob_get_u(r, 8);
}
