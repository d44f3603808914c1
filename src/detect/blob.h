/* blob.h - the little-endian codec of the detectors' state blobs.
 *
 * A detector saves its state as one versioned blob per entity (detect.h:
 * save/load). The five that keep network state (brute, dos, netscan,
 * netbase, dnsbehav) write the same pieces: unsigned integers of 1-8
 * bytes, strings with a 1- or 2-byte length in front, addresses and
 * evidence references. This is those pieces, once; each detector still
 * owns its layout (documented next to its save).
 *
 * Writing appends to an mm_buf (its max bounds the blob) and returns 0,
 * MM_ENOMEM or MM_ETOOBIG (a full buffer, which may hold part of the
 * piece: a caller that drops what does not fit and goes on sets len back
 * to where its record began). Reading never trusts the blob: the first short
 * read or out-of-shape value sets bad, and from then on every read
 * fails and returns 0 (strings come back empty), so a loader can read a
 * whole record and check bad once. Only save and load use it, never the
 * per-record path. */
#ifndef MM_BLOB_H
#define MM_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/ip.h"

struct mm_evref;

/* bytes (1-8) of v into p, least significant first */
static inline void mm_le_put(unsigned char *p, uint64_t v, int bytes)
{
	int i;
	for (i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t mm_le_get(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int mm_blob_put_u(struct mm_buf *b, uint64_t v, int bytes);
/* A length of lenbytes (1 or 2), then the bytes of z (NULL: ""), cut to
 * max bytes (and to what the length can say). */
int mm_blob_put_str(struct mm_buf *b, const char *z, int lenbytes, size_t max);
/* u8 v6, then the 16 address bytes. */
int mm_blob_put_ip(struct mm_buf *b, const struct mm_ip *ip);
/* v in 7-bit groups, least significant first, the high bit set on all
 * but the last (LEB128): 1 byte below 128, at most 10. */
int mm_blob_put_uv(struct mm_buf *b, uint64_t v);
/* u8 v6, then 4 address bytes for IPv4 or 16 for IPv6. */
int mm_blob_put_ipc(struct mm_buf *b, const struct mm_ip *ip);
/* The file name as a string with a u16 length cut to max bytes (NULL:
 * empty), then u64 line, u64 offset, i64 time in ms. */
int mm_blob_put_ref(struct mm_buf *b, const struct mm_evref *r, size_t max);

struct mm_blob_rd {
	const unsigned char *p, *end;
	int bad;
};

static inline void mm_blob_rd_init(struct mm_blob_rd *r, const void *blob, size_t n)
{
	r->p = blob;
	r->end = r->p + (blob ? n : 0);
	r->bad = 0;
}

/* The next n bytes, or NULL (and bad) when fewer are left. */
const unsigned char *mm_blob_get_bytes(struct mm_blob_rd *r, size_t n);
uint64_t mm_blob_get_u(struct mm_blob_rd *r, int bytes);
/* A string of a lenbytes length into out (size bytes with the NUL):
 * bad when it does not fit or holds a NUL. */
void mm_blob_get_str(struct mm_blob_rd *r, char *out, size_t size, int lenbytes);
/* bad on v6 above 1 or an IPv4 address whose bytes past the fourth are
 * not zero (ip.h keeps them zero, so addresses compare with memcmp). */
void mm_blob_get_ip(struct mm_blob_rd *r, struct mm_ip *ip);
/* bad past 10 bytes, on bits past 64, or on a non-minimal encoding (a
 * last group of 0 after others): one value, one encoding. */
uint64_t mm_blob_get_uv(struct mm_blob_rd *r);
/* mm_blob_put_ipc's form; bad on v6 above 1. */
void mm_blob_get_ipc(struct mm_blob_rd *r, struct mm_ip *ip);
/* bad on a file name longer than max or holding a NUL; the name is
 * interned (an empty one too, as mm_evref_take does). On bad, r's file
 * is NULL. */
void mm_blob_get_ref(struct mm_blob_rd *r, struct mm_evref *ref, size_t max);

#endif
