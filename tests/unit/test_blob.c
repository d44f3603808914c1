/* test_blob.c - the detectors' state blob codec (src/detect/blob.c): the
 * exact bytes it writes (the five detectors' stored formats depend on
 * them), round trips, and the reader's refusal of every short or
 * out-of-shape input with the bad flag sticking. */
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "core/ip.h"
#include "detect/blob.h"
#include "detect/detect.h"
#include "mmtest.h"

static struct mm_ip ip_of(const char *z)
{
	struct mm_ip ip;
	memset(&ip, 0, sizeof(ip));
	CHECK_EQ_INT(mm_ip_parse(z, strlen(z), &ip), 0);
	return ip;
}

/* One of each piece, as a detector writes them. */
static void put_sample(struct mm_buf *b)
{
	struct mm_ip v4 = ip_of("203.0.113.7"), v6 = ip_of("2001:db8::1");
	struct mm_evref ref = {"logs/a.gz", 12, 345, 1709563040000};
	CHECK_EQ_INT(mm_blob_put_u(b, 0x0102030405060708ULL, 8), 0);
	CHECK_EQ_INT(mm_blob_put_u(b, 0xabcd, 2), 0);
	CHECK_EQ_INT(mm_blob_put_str(b, "acct", 1, 15), 0);
	CHECK_EQ_INT(mm_blob_put_str(b, "region", 2, 23), 0);
	CHECK_EQ_INT(mm_blob_put_ip(b, &v4), 0);
	CHECK_EQ_INT(mm_blob_put_ip(b, &v6), 0);
	CHECK_EQ_INT(mm_blob_put_ref(b, &ref, 1024), 0);
}

MM_TEST(writes_little_endian_with_length_prefixes)
{
	struct mm_buf b;
	const unsigned char *p;
	mm_buf_init(&b, 1 << 16);
	put_sample(&b);
	p = (const unsigned char *)b.p;
	CHECK_EQ_INT(b.len, 8 + 2 + (1 + 4) + (2 + 6) + 17 + 17 + (2 + 9 + 24));
	CHECK(!memcmp(p, "\x08\x07\x06\x05\x04\x03\x02\x01", 8));
	CHECK(!memcmp(p + 8, "\xcd\xab", 2));
	CHECK(!memcmp(p + 10, "\x04" "acct", 5));
	CHECK(!memcmp(p + 15, "\x06\x00" "region", 8));
	CHECK(!memcmp(p + 23, "\x00\xcb\x00\x71\x07", 5)); /* v6 flag, 203.0.113.7 */
	CHECK(!memcmp(p + 40, "\x01\x20\x01\x0d\xb8", 5));
	CHECK(!memcmp(p + 57, "\x09\x00" "logs/a.gz" "\x0c\x00", 13));
	mm_buf_free(&b);
}

MM_TEST(round_trip)
{
	struct mm_buf b;
	struct mm_blob_rd r;
	struct mm_ip ip, v4 = ip_of("203.0.113.7"), v6 = ip_of("2001:db8::1");
	struct mm_evref ref;
	char s[16];
	mm_buf_init(&b, 1 << 16);
	put_sample(&b);
	mm_blob_rd_init(&r, b.p, b.len);
	CHECK(mm_blob_get_u(&r, 8) == 0x0102030405060708ULL);
	CHECK_EQ_INT(mm_blob_get_u(&r, 2), 0xabcd);
	mm_blob_get_str(&r, s, sizeof(s), 1);
	CHECK_EQ_STR(s, "acct");
	mm_blob_get_str(&r, s, sizeof(s), 2);
	CHECK_EQ_STR(s, "region");
	mm_blob_get_ip(&r, &ip);
	CHECK(!memcmp(&ip, &v4, sizeof(ip)));
	mm_blob_get_ip(&r, &ip);
	CHECK(!memcmp(&ip, &v6, sizeof(ip)));
	mm_blob_get_ref(&r, &ref, 1024);
	CHECK_EQ_STR(ref.file, "logs/a.gz");
	CHECK_EQ_INT(ref.line, 12);
	CHECK_EQ_INT(ref.offset, 345);
	CHECK_EQ_INT(ref.time_ms, 1709563040000);
	CHECK(!r.bad);
	CHECK(r.p == r.end);
	/* an interned name: the same pointer for the same name */
	mm_blob_rd_init(&r, b.p, b.len);
	r.p += b.len - (2 + 9 + 24);
	{
		struct mm_evref again;
		mm_blob_get_ref(&r, &again, 1024);
		CHECK(again.file == ref.file);
	}
	mm_buf_free(&b);
}

/* Every cut of a valid blob fails, and a failed reader stays failed. */
MM_TEST(every_truncation_is_bad_and_sticks)
{
	struct mm_buf b;
	size_t cut;
	mm_buf_init(&b, 1 << 16);
	put_sample(&b);
	for (cut = 0; cut < b.len; cut++) {
		struct mm_blob_rd r;
		struct mm_ip ip;
		struct mm_evref ref;
		char s[16];
		mm_blob_rd_init(&r, b.p, cut);
		mm_blob_get_u(&r, 8);
		mm_blob_get_u(&r, 2);
		mm_blob_get_str(&r, s, sizeof(s), 1);
		mm_blob_get_str(&r, s, sizeof(s), 2);
		mm_blob_get_ip(&r, &ip);
		mm_blob_get_ip(&r, &ip);
		mm_blob_get_ref(&r, &ref, 1024);
		CHECK(r.bad);
		CHECK_EQ_INT(mm_blob_get_u(&r, 1), 0);
		mm_blob_get_str(&r, s, sizeof(s), 1);
		CHECK_EQ_STR(s, "");
		CHECK(mm_blob_get_bytes(&r, 0) == NULL);
	}
	mm_buf_free(&b);
}

MM_TEST(strings_out_of_shape)
{
	struct mm_blob_rd r;
	char s[4];
	mm_blob_rd_init(&r, "\x03" "abc", 4);
	mm_blob_get_str(&r, s, sizeof(s), 1); /* fits with its NUL */
	CHECK(!r.bad);
	CHECK_EQ_STR(s, "abc");
	mm_blob_rd_init(&r, "\x04" "abcd", 5);
	mm_blob_get_str(&r, s, sizeof(s), 1); /* one too long */
	CHECK(r.bad);
	CHECK_EQ_STR(s, "");
	mm_blob_rd_init(&r, "\x03" "a\0c", 4);
	mm_blob_get_str(&r, s, sizeof(s), 1); /* a NUL inside */
	CHECK(r.bad);
	mm_blob_rd_init(&r, "\x03\x00" "ab", 4);
	mm_blob_get_str(&r, s, sizeof(s), 2); /* says more than there is */
	CHECK(r.bad);
}

MM_TEST(addresses_out_of_shape)
{
	unsigned char b[17];
	struct mm_blob_rd r;
	struct mm_ip ip;
	memset(b, 0, sizeof(b));
	b[0] = 2; /* v6 flag above 1 */
	mm_blob_rd_init(&r, b, sizeof(b));
	mm_blob_get_ip(&r, &ip);
	CHECK(r.bad);
	b[0] = 0;
	b[16] = 1; /* IPv4 with the last byte set: not what ip.h keeps */
	mm_blob_rd_init(&r, b, sizeof(b));
	mm_blob_get_ip(&r, &ip);
	CHECK(r.bad);
	b[0] = 1; /* the same bytes as IPv6 are fine */
	mm_blob_rd_init(&r, b, sizeof(b));
	mm_blob_get_ip(&r, &ip);
	CHECK(!r.bad);
	CHECK_EQ_INT(ip.v6, 1);
}

MM_TEST(refs_cut_and_checked)
{
	struct mm_buf b;
	struct mm_blob_rd r;
	struct mm_evref ref = {"abcdefgh", 1, 2, 3}, got, none = {NULL, 0, 0, 0};
	mm_buf_init(&b, 1 << 16);
	CHECK_EQ_INT(mm_blob_put_ref(&b, &ref, 4), 0); /* the name is cut to 4 */
	CHECK_EQ_INT(mm_blob_put_ref(&b, &none, 4), 0); /* no name: length 0 */
	CHECK_EQ_INT(b.len, 2 * (2 + 24) + 4);
	mm_blob_rd_init(&r, b.p, b.len);
	mm_blob_get_ref(&r, &got, 4);
	CHECK_EQ_STR(got.file, "abcd");
	CHECK_EQ_INT(got.time_ms, 3);
	mm_blob_get_ref(&r, &got, 4);
	CHECK_EQ_STR(got.file, ""); /* interned empty, as mm_evref_take gives */
	CHECK(!r.bad);
	mm_blob_rd_init(&r, b.p, b.len);
	mm_blob_get_ref(&r, &got, 3); /* longer than the reader allows */
	CHECK(r.bad);
	CHECK(got.file == NULL);
	mm_buf_free(&b);
}

/* A full buffer says so; the piece may be cut (callers roll back to
 * where their record began, as brute and netscan do). */
MM_TEST(full_buffer_is_too_big)
{
	struct mm_buf b;
	struct mm_ip ip = ip_of("10.0.0.1");
	mm_buf_init(&b, 10);
	CHECK_EQ_INT(mm_blob_put_u(&b, 1, 8), 0);
	CHECK_EQ_INT(mm_blob_put_u(&b, 1, 2), 0);
	CHECK_EQ_INT(mm_blob_put_u(&b, 1, 1), MM_ETOOBIG);
	CHECK_EQ_INT(b.len, 10);
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_blob_put_ip(&b, &ip), MM_ETOOBIG);
	CHECK_EQ_INT(mm_blob_put_str(&b, "abcdefghijk", 1, 255), MM_ETOOBIG);
	mm_buf_free(&b);
}

MM_TEST(raw_little_endian)
{
	unsigned char p[8];
	mm_le_put(p, 0x1122334455667788ULL, 8);
	CHECK_EQ_INT(p[0], 0x88);
	CHECK_EQ_INT(p[7], 0x11);
	CHECK(mm_le_get(p, 8) == 0x1122334455667788ULL);
	CHECK_EQ_INT(mm_le_get(p, 3), 0x667788);
	mm_le_put(p, 0xffff, 1); /* only the bytes asked for */
	CHECK_EQ_INT(p[0], 0xff);
	CHECK_EQ_INT(p[1], 0x77);
}

MM_TEST(varints_and_compact_addresses)
{
	static const uint64_t vals[] = {0, 1, 127, 128, 300, 16383, 16384, 1709563040000ULL,
					UINT64_MAX};
	static const size_t lens[] = {1, 1, 1, 2, 2, 2, 3, 6, 10};
	static const unsigned char nonmin[] = {0x80, 0x00};	/* 0 in two bytes */
	static const unsigned char over[] = {0xff, 0xff, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0x02}; /* bit 64 */
	static const unsigned char eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					       0x80, 0x80, 0x80, 0x81, 0x01};
	struct mm_ip v4 = ip_of("203.0.113.7"), v6 = ip_of("2001:db8::1"), got;
	struct mm_blob_rd r;
	struct mm_buf b;
	size_t i, k;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		mm_buf_init(&b, 64);
		CHECK_EQ_INT(mm_blob_put_uv(&b, vals[i]), 0);
		CHECK_EQ_INT((int)b.len, (int)lens[i]);
		mm_blob_rd_init(&r, b.p, b.len);
		CHECK(mm_blob_get_uv(&r) == vals[i] && !r.bad && r.p == r.end);
		for (k = 0; k < b.len; k++) { /* every cut is bad */
			mm_blob_rd_init(&r, b.p, k);
			(void)mm_blob_get_uv(&r);
			CHECK(r.bad);
		}
		mm_buf_free(&b);
	}
	mm_blob_rd_init(&r, nonmin, sizeof(nonmin));
	CHECK(mm_blob_get_uv(&r) == 0 && r.bad);
	mm_blob_rd_init(&r, over, sizeof(over));
	(void)mm_blob_get_uv(&r);
	CHECK(r.bad);
	mm_blob_rd_init(&r, eleven, sizeof(eleven));
	(void)mm_blob_get_uv(&r);
	CHECK(r.bad);

	mm_buf_init(&b, 64);
	CHECK_EQ_INT(mm_blob_put_ipc(&b, &v4), 0);
	CHECK_EQ_INT((int)b.len, 5);
	CHECK_EQ_INT(mm_blob_put_ipc(&b, &v6), 0);
	CHECK_EQ_INT((int)b.len, 22);
	mm_blob_rd_init(&r, b.p, b.len);
	mm_blob_get_ipc(&r, &got);
	CHECK(!r.bad && memcmp(&got, &v4, sizeof(got)) == 0);
	mm_blob_get_ipc(&r, &got);
	CHECK(!r.bad && memcmp(&got, &v6, sizeof(got)) == 0 && r.p == r.end);
	b.p[0] = 2; /* v6 flag above 1 */
	mm_blob_rd_init(&r, b.p, b.len);
	mm_blob_get_ipc(&r, &got);
	CHECK(r.bad);
	mm_blob_rd_init(&r, b.p + 5, 16); /* an IPv6 address cut short */
	mm_blob_get_ipc(&r, &got);
	CHECK(r.bad);
	mm_buf_free(&b);
}
