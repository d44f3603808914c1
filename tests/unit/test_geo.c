/* test_geo.c - the IP ownership file (src/geo/geo.c): building it from
 * the hand-made CSV/CIDR files in tests/data/geo, lookups at every range
 * edge (IPv4 and IPv6), the overlap rule, malformed input lines, hostile
 * files (every field of a good file broken in turn, truncations, random
 * flips), failed allocations, and the finding JSON with and without the
 * data (src/finding/output.c). Needs no npm data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "core/json.h"
#include "core/mem.h"
#include "finding/finding.h"
#include "finding/output.h"
#include "geo/geo.h"
#include "mmtest.h"

#define DATA "tests/data/geo/"

/* The test data built into a fresh buffer; *len its size. */
static void *build(size_t *len)
{
	struct mm_geo_builder *b = NULL;
	struct mm_err err;
	void *buf = NULL;

	mm_err_clear(&err);
	*len = 0;
	CHECK_EQ_INT(mm_geo_builder_new(&b), 0);
	if (!b)
		return NULL;
	CHECK_EQ_INT(mm_geo_builder_add_csv(b, MM_GEO_ASN, DATA "asn.csv", &err), 0);
	CHECK_EQ_INT(mm_geo_builder_add_csv(b, MM_GEO_COUNTRY, DATA "country.csv", &err), 0);
	CHECK_EQ_INT(mm_geo_builder_add_cidrs(b, DATA "aws.txt", &err), 0);
	CHECK_EQ_INT(mm_geo_builder_finish(b, &buf, len, &err), 0);
	if (err.msg[0])
		fprintf(stderr, "  %s\n", err.msg);
	mm_geo_builder_free(b);
	return buf;
}

static struct mm_geo *open_built(void)
{
	struct mm_geo *g = NULL;
	size_t len;
	void *buf = build(&len);

	if (buf)
		CHECK_EQ_INT(mm_geo_open_mem(&g, buf, len, NULL), 0);
	return g;
}

static unsigned look(const struct mm_geo *g, const char *ip, struct mm_geo_info *gi)
{
	struct mm_ip a;
	CHECK_EQ_INT(mm_ip_parse(ip, strlen(ip), &a), 0);
	return mm_geo_lookup(g, &a, gi);
}

/* ip has asn (0 = none), org, country cc ("" = none), aws */
static void expect(const struct mm_geo *g, const char *ip, uint32_t asn, const char *org,
		   const char *cc, int aws)
{
	struct mm_geo_info gi;
	unsigned found = look(g, ip, &gi);

	if (gi.asn != asn || strcmp(gi.as_org, org) || strcmp(gi.cc, cc) || gi.aws != aws ||
	    !!(found & MM_GEO_ASN) != !!asn || !!(found & MM_GEO_COUNTRY) != !!cc[0] ||
	    !!(found & MM_GEO_AWS) != aws) {
		fprintf(stderr, "  %s: got asn %u '%s' cc '%s' aws %d (found %u)\n", ip, gi.asn,
			gi.as_org, gi.cc, gi.aws, found);
		CHECK(0);
	}
}

static void check_all_lookups(const struct mm_geo *g)
{
	CHECK_EQ_INT(mm_geo_kinds(g), MM_GEO_ASN | MM_GEO_COUNTRY | MM_GEO_AWS);
	/* range edges: first, last, one past, one before */
	expect(g, "0.0.0.0", 0, "", "ZZ", 0);
	expect(g, "0.255.255.255", 0, "", "ZZ", 0);
	expect(g, "1.0.0.0", 13335, "Cloudflare, Inc.", "AU", 0);
	expect(g, "1.0.0.255", 13335, "Cloudflare, Inc.", "AU", 0);
	expect(g, "0.255.255.254", 0, "", "ZZ", 0);
	expect(g, "1.0.1.0", 0, "", "", 0);
	expect(g, "2.255.255.255", 0, "", "", 0);
	/* one ASN record for two ranges; AWS only on 3.0.0.0/15 */
	expect(g, "3.0.0.0", 16509, "Amazon.com, Inc.", "US", 1);
	expect(g, "3.1.255.255", 16509, "Amazon.com, Inc.", "US", 1);
	expect(g, "3.2.0.0", 16509, "Amazon.com, Inc.", "US", 0);
	expect(g, "3.127.255.255", 16509, "Amazon.com, Inc.", "US", 0);
	expect(g, "3.128.0.0", 0, "", "", 0);
	expect(g, "8.8.8.8", 15169, "Google LLC", "US", 0);
	expect(g, "52.95.110.0", 0, "", "", 1);
	expect(g, "52.95.110.255", 0, "", "", 1);
	expect(g, "52.95.111.0", 0, "", "", 0);
	expect(g, "198.51.100.127", 64500, "Example \"Quoted\" Net", "DE", 0);
	expect(g, "198.51.100.128", 0, "", "DE", 0);
	expect(g, "198.51.101.0", 0, "", "", 0);
	expect(g, "10.1.2.3", 0, "", "", 0);
	expect(g, "255.255.254.255", 0, "", "", 0);
	expect(g, "255.255.255.0", 64501, "Top Of IPv4", "", 0);
	expect(g, "255.255.255.255", 64501, "Top Of IPv4", "", 0);
	/* IPv6 */
	expect(g, "::", 0, "", "", 0);
	expect(g, "::1", 0, "", "", 0);
	expect(g, "2001:4860::", 15169, "Google LLC", "US", 0);
	expect(g, "2001:4860:4860::8888", 15169, "Google LLC", "US", 0);
	expect(g, "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff", 15169, "Google LLC", "US", 0);
	expect(g, "2001:4861::", 0, "", "", 0);
	expect(g, "2001:485f:ffff:ffff:ffff:ffff:ffff:ffff", 0, "", "", 0);
	expect(g, "2600:1f18::1", 16509, "Amazon.com, Inc.", "US", 1);
	expect(g, "2600:1fff:ffff:ffff:ffff:ffff:ffff:ffff", 16509, "Amazon.com, Inc.", "US", 1);
	expect(g, "2600:2000::", 0, "", "", 0);
	expect(g, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "", "", 0);
	/* IPv4-mapped IPv6 is IPv4 (core/ip.h folds it) */
	expect(g, "::ffff:8.8.8.8", 15169, "Google LLC", "US", 0);
}

MM_TEST(geo_build_and_lookup_edges)
{
	struct mm_geo *g = open_built();
	if (g)
		check_all_lookups(g);
	mm_geo_close(g);
}

MM_TEST(geo_file_round_trip_mmap)
{
	char path[] = "/tmp/mm-geo-test-XXXXXX";
	struct mm_geo *g = NULL;
	struct mm_err err;
	size_t len;
	void *buf = build(&len);
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0 || !buf)
		goto out;
	CHECK_EQ_INT((long)write(fd, buf, len), (long)len);
	close(fd);
	CHECK_EQ_INT(mm_geo_open(&g, path, &err), 0);
	if (g)
		check_all_lookups(g);
	mm_geo_close(g);
	/* missing file: MM_EIO naming it */
	g = NULL;
	CHECK_EQ_INT(mm_geo_open(&g, "/nonexistent/geo.mmgeo", &err), MM_EIO);
	CHECK(strstr(err.msg, "/nonexistent/geo.mmgeo") != NULL);
	CHECK(g == NULL);
	/* a CSV is not a geo file */
	CHECK_EQ_INT(mm_geo_open(&g, DATA "asn.csv", &err), MM_EFORMAT);
out:
	unlink(path);
	mm_free(buf);
}

MM_TEST(geo_null_and_empty)
{
	struct mm_geo_builder *b = NULL;
	struct mm_geo *g = NULL;
	struct mm_geo_info gi;
	void *buf = NULL;
	size_t len = 0;

	/* no data at all: nothing found, strings safe to print */
	CHECK_EQ_INT(look(NULL, "8.8.8.8", &gi), 0);
	CHECK_EQ_STR(gi.as_org, "");
	CHECK_EQ_INT(mm_geo_kinds(NULL), 0);
	/* a file with no tables is valid and knows nothing */
	CHECK_EQ_INT(mm_geo_builder_new(&b), 0);
	CHECK_EQ_INT(mm_geo_builder_finish(b, &buf, &len, NULL), 0);
	mm_geo_builder_free(b);
	CHECK_EQ_INT(mm_geo_open_mem(&g, buf, len, NULL), 0);
	CHECK_EQ_INT(mm_geo_kinds(g), 0);
	CHECK_EQ_INT(look(g, "2001:4860::1", &gi), 0);
	mm_geo_close(g);
}

MM_TEST(geo_country_names)
{
	CHECK_EQ_STR(mm_geo_country_name("US"), "United States");
	CHECK_EQ_STR(mm_geo_country_name("DE"), "Germany");
	CHECK_EQ_STR(mm_geo_country_name("AD"), "Andorra");
	CHECK_EQ_STR(mm_geo_country_name("ZW"), "Zimbabwe");
	CHECK_EQ_STR(mm_geo_country_name("HK"), "Hong Kong");
	CHECK(mm_geo_country_name("ZZ") == NULL);
	CHECK(mm_geo_country_name("us") == NULL);
	CHECK(mm_geo_country_name("USA") == NULL);
	CHECK(mm_geo_country_name("") == NULL);
	CHECK(mm_geo_country_name(NULL) == NULL);
}

/* Write text to a temporary file; its path into path (PATH_MAX-ish). */
static void tmpfile_with(char *path, const char *text)
{
	int fd;
	strcpy(path, "/tmp/mm-geo-csv-XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ_INT((long)write(fd, text, strlen(text)), (long)strlen(text));
		close(fd);
	}
}

/* Overlapping ranges: the one starting first wins; on equal starts the
 * one added first; a later range fills only what is left. Adjacent
 * ranges with one value merge. */
MM_TEST(geo_overlaps_and_order)
{
	char p1[64], p2[64];
	struct mm_geo_builder *b = NULL;
	struct mm_geo *g = NULL;
	void *buf = NULL;
	size_t len = 0;

	tmpfile_with(p1, "10.0.0.0,10.0.0.255,1,one\n"
			 "10.0.0.128,10.0.1.255,2,two\n"
			 "10.0.0.0,10.0.0.10,3,three\n"
			 "10.0.3.0,10.0.3.255,1,one again\n"
			 "10.0.2.0,10.0.2.255,1,one\n");
	tmpfile_with(p2, "10.0.0.0,10.0.0.255,AA\n10.0.0.0,10.0.0.255,BB\n");
	CHECK_EQ_INT(mm_geo_builder_new(&b), 0);
	CHECK_EQ_INT(mm_geo_builder_add_csv(b, MM_GEO_ASN, p1, NULL), 0);
	CHECK_EQ_INT(mm_geo_builder_add_csv(b, MM_GEO_COUNTRY, p2, NULL), 0);
	CHECK_EQ_INT(mm_geo_builder_finish(b, &buf, &len, NULL), 0);
	mm_geo_builder_free(b);
	CHECK_EQ_INT(mm_geo_open_mem(&g, buf, len, NULL), 0);
	if (g) {
		expect(g, "10.0.0.5", 1, "one", "AA", 0);
		expect(g, "10.0.0.200", 1, "one", "AA", 0);
		expect(g, "10.0.1.0", 2, "two", "", 0);
		expect(g, "10.0.1.255", 2, "two", "", 0);
		/* 10.0.2.0-10.0.3.255: AS 1 twice, its first name kept */
		expect(g, "10.0.2.0", 1, "one", "", 0);
		expect(g, "10.0.3.255", 1, "one", "", 0);
		expect(g, "10.0.4.0", 0, "", "", 0);
	}
	mm_geo_close(g);
	unlink(p1);
	unlink(p2);
}

MM_TEST(geo_malformed_lines_rejected)
{
	static const struct {
		unsigned kind;
		const char *text;
	} bad[] = {
		{MM_GEO_ASN, "1.0.0.0,1.0.0.255,13335\n"},		/* no name field */
		{MM_GEO_ASN, "1.0.0.0,1.0.0.255,,x\n"},			/* no ASN */
		{MM_GEO_ASN, "1.0.0.0,1.0.0.255,4294967296,x\n"},	/* ASN > 32 bits */
		{MM_GEO_ASN, "1.0.0.0,1.0.0.255,12a,x\n"},
		{MM_GEO_ASN, "1.0.0.0,1.0.0.255,1,\"open quote\n"},
		{MM_GEO_ASN, "1.0.0.0,1.0.0.255,1,\"quoted\"tail\n"},
		{MM_GEO_ASN, "1.0.0.256,1.0.0.255,1,x\n"},		/* bad address */
		{MM_GEO_ASN, "1.0.1.0,1.0.0.255,1,x\n"},		/* end before start */
		{MM_GEO_ASN, "1.0.0.0,::1,1,x\n"},			/* families differ */
		{MM_GEO_ASN, "\n"},
		{MM_GEO_COUNTRY, "1.0.0.0,1.0.0.255,au\n"},
		{MM_GEO_COUNTRY, "1.0.0.0,1.0.0.255,AUS\n"},
		{MM_GEO_COUNTRY, "1.0.0.0,1.0.0.255\n"},
		{0, "3.0.0.0/33\n"},
		{0, "3.0.0.0/\n"},
		{0, "not-a-cidr\n"},
	};
	char path[64], text[256];
	size_t i;

	for (i = 0; i < MM_ARRAY_LEN(bad); i++) {
		struct mm_geo_builder *b = NULL;
		struct mm_err err;
		int rc;
		mm_err_clear(&err);
		/* a good line first: the error names line 2 */
		snprintf(text, sizeof(text), "%s%s",
			 bad[i].kind == MM_GEO_COUNTRY ? "2.0.0.0,2.0.0.255,FR\n"
			 : bad[i].kind == MM_GEO_ASN  ? "2.0.0.0,2.0.0.255,1,x\n"
						      : "2.0.0.0/8\n",
			 bad[i].text);
		tmpfile_with(path, text);
		CHECK_EQ_INT(mm_geo_builder_new(&b), 0);
		rc = bad[i].kind ? mm_geo_builder_add_csv(b, bad[i].kind, path, &err)
				 : mm_geo_builder_add_cidrs(b, path, &err);
		if (rc != MM_EPARSE || !strstr(err.msg, ":2:")) {
			fprintf(stderr, "  case %zu: rc %d, '%s'\n", i, rc, err.msg);
			CHECK(0);
		}
		mm_geo_builder_free(b);
		unlink(path);
	}
	/* a line longer than 4 KiB */
	{
		struct mm_geo_builder *b = NULL;
		struct mm_err err;
		char *big = malloc(6000);
		memset(big, 'a', 5998);
		big[5998] = '\n';
		big[5999] = '\0';
		tmpfile_with(path, big);
		CHECK_EQ_INT(mm_geo_builder_new(&b), 0);
		CHECK_EQ_INT(mm_geo_builder_add_csv(b, MM_GEO_ASN, path, &err), MM_ETOOBIG);
		mm_geo_builder_free(b);
		unlink(path);
		free(big);
	}
}

/* A copy of buf (8-aligned, owned by the caller of open_mem). */
static void *dup8(const void *buf, size_t len)
{
	void *c = mm_malloc(len ? len : 1);
	if (c && len)
		memcpy(c, buf, len);
	return c;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static int open_copy(const void *buf, size_t len)
{
	struct mm_geo *g = NULL;
	int rc = mm_geo_open_mem(&g, dup8(buf, len), len, NULL);
	if (g) {
		/* whatever loads must be safe to look up in */
		struct mm_geo_info gi;
		look(g, "3.1.2.3", &gi);
		look(g, "2600:1f18::1", &gi);
		look(g, "255.255.255.255", &gi);
		(void)strlen(gi.as_org);
	}
	mm_geo_close(g);
	return rc;
}

MM_TEST(geo_hostile_files_rejected)
{
	size_t len, i;
	uint8_t *good = build(&len), *bad;
	uint32_t ntab, t;
	uint64_t seed = 88172645463325252ull;

	if (!good)
		return;
	CHECK_EQ_INT(open_copy(good, len), 0);
	bad = malloc(len);
	/* every truncation: the header's length no longer matches */
	for (i = 0; i < len; i += (i < 256 ? 1 : 97))
		CHECK(open_copy(good, i) != 0);
	/* magic, version */
	memcpy(bad, good, len);
	bad[0] = 'X';
	CHECK_EQ_INT(open_copy(bad, len), MM_EFORMAT);
	memcpy(bad, good, len);
	put32(bad + 8, 2);
	CHECK_EQ_INT(open_copy(bad, len), MM_EFORMAT);
	/* table count beyond the file */
	memcpy(bad, good, len);
	put32(bad + 12, 1000);
	CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
	/* each directory entry: kind, count, offset, size broken in turn */
	ntab = get32(good + 12);
	for (t = 0; t < ntab; t++) {
		uint8_t *d = bad + 32 + 24 * t;
		memcpy(bad, good, len);
		put32(d, 99);				/* unknown kind */
		CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
		memcpy(bad, good, len);
		put32(d, get32(good + 32 + 24 * ((t + 1) % ntab)));	/* repeated kind */
		CHECK(ntab < 2 || open_copy(bad, len) == MM_EPARSE);
		memcpy(bad, good, len);
		put32(d + 4, get32(d + 4) + 1);		/* count != size */
		CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
		memcpy(bad, good, len);
		put32(d + 8, get32(d + 8) + 4);		/* misaligned offset */
		CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
		memcpy(bad, good, len);
		put32(d + 8, (uint32_t)len);		/* offset at the end */
		CHECK(open_copy(bad, len) == MM_EPARSE);
		memcpy(bad, good, len);
		put32(d + 12, 1);			/* offset far beyond */
		CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
		/* first range start not 0; starts out of order; a bad value */
		memcpy(bad, good, len);
		{
			uint32_t kind = get32(d), count = get32(d + 4);
			uint8_t *s = bad + get32(d + 8);
			if (kind >= 1 && kind <= 6 && count >= 2) {
				int v6 = !(kind & 1);
				size_t ksz = v6 ? 16 : 4;
				s[v6 ? 7 : 0] = 1;		/* first start != 0 */
				CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
				memcpy(bad, good, len);
				memcpy(s + ksz, s, ksz);	/* start[1] == start[0] */
				CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
				memcpy(bad, good, len);
				put32(s + count * ksz, 0x7A7A0000u);	/* value */
				CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
			} else if (kind == 7 && count) {
				put32(s + 4, 0xFFFFFF);		/* name offset */
				CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
			} else if (kind == 8 && count) {
				s[count - 1] = 'x';		/* names not terminated */
				CHECK_EQ_INT(open_copy(bad, len), MM_EPARSE);
			}
		}
	}
	/* random flips anywhere: never a crash, lookups safe when it loads */
	for (i = 0; i < 3000; i++) {
		int k, n = 1 + (int)(i % 4);
		memcpy(bad, good, len);
		for (k = 0; k < n; k++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			bad[(seed >> 8) % (i % 2 ? 256 : len)] ^= (uint8_t)(1u << (seed % 8));
		}
		open_copy(bad, len);
	}
	free(bad);
	mm_free(good);
}

MM_TEST(geo_build_survives_failed_allocations)
{
	long n;
	int ok = 0;

	for (n = 0; n < 400 && !ok; n++) {
		struct mm_geo_builder *b = NULL;
		struct mm_geo *g = NULL;
		void *buf = NULL;
		size_t len = 0;
		int rc;
		mm_mem_fail_after(n);
		rc = mm_geo_builder_new(&b);
		if (!rc)
			rc = mm_geo_builder_add_csv(b, MM_GEO_ASN, DATA "asn.csv", NULL);
		if (!rc)
			rc = mm_geo_builder_add_csv(b, MM_GEO_COUNTRY, DATA "country.csv", NULL);
		if (!rc)
			rc = mm_geo_builder_add_cidrs(b, DATA "aws.txt", NULL);
		if (!rc)
			rc = mm_geo_builder_finish(b, &buf, &len, NULL);
		if (!rc)
			rc = mm_geo_open_mem(&g, buf, len, NULL);
		mm_mem_fail_after(-1);
		CHECK(rc == 0 || rc == MM_ENOMEM || rc == MM_EIO);
		if (!rc) {
			check_all_lookups(g);
			ok = 1;
		}
		mm_geo_close(g);
		mm_geo_builder_free(b);
	}
	CHECK(ok);
}

/* ---- the finding JSON ---- */

static void net_finding(struct mm_finding *f, const char *remote)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->type, sizeof(f->type), "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom");
	f->severity = 5;
	snprintf(f->account, sizeof(f->account), "123456789012");
	snprintf(f->region, sizeof(f->region), "eu-west-1");
	f->res_type = MM_RES_INSTANCE;
	snprintf(f->instance_id, sizeof(f->instance_id), "i-0123456789abcdef0");
	f->action = MM_ACTION_NETWORK_CONNECTION;
	f->direction = MM_DIR_OUTBOUND;
	f->has_remote_ip = 1;
	mm_ip_parse(remote, strlen(remote), &f->remote_ip);
	f->remote_port = 443;
	f->role = MM_ROLE_ACTOR;
	f->count = 1;
	mm_finding_make_id(f);
}

static const char *render(const struct mm_finding *f, const struct mm_geo *g, struct mm_buf *b)
{
	struct mm_json_val v;
	size_t used = 0;

	mm_buf_reset(b);
	CHECK_EQ_INT(mm_finding_to_json_geo(f, NULL, g, b), 0);
	CHECK_EQ_INT(mm_json_value(b->p, b->len, &v, &used), 0);	/* valid JSON */
	return b->p;
}

MM_TEST(geo_finding_json_enriched)
{
	struct mm_geo *g = open_built();
	struct mm_finding f;
	struct mm_buf b;
	const char *js;

	mm_buf_init(&b, 1 << 20);
	net_finding(&f, "8.8.8.8");
	js = render(&f, g, &b);
	CHECK(strstr(js, "\"remoteIpDetails\":{\"ipAddressV4\":\"8.8.8.8\","
			 "\"organization\":{\"asn\":\"15169\",\"asnOrg\":\"Google LLC\","
			 "\"isp\":\"Google LLC\",\"org\":\"Google LLC\"},"
			 "\"country\":{\"countryCode\":\"US\",\"countryName\":\"United States\"}}") !=
	      NULL);
	/* IPv6, and a name that needs escaping */
	net_finding(&f, "2600:1f18::1");
	js = render(&f, g, &b);
	CHECK(strstr(js, "{\"ipAddressV6\":\"2600:1f18::1\",\"organization\":{\"asn\":\"16509\","
			 "\"asnOrg\":\"Amazon.com, Inc.\"") != NULL);
	net_finding(&f, "198.51.100.9");
	js = render(&f, g, &b);
	CHECK(strstr(js, "\"asnOrg\":\"Example \\\"Quoted\\\" Net\"") != NULL);
	/* a country the data has no name for: the code alone */
	net_finding(&f, "0.1.2.3");
	js = render(&f, g, &b);
	CHECK(strstr(js, "{\"ipAddressV4\":\"0.1.2.3\",\"country\":{\"countryCode\":\"ZZ\"}}") !=
	      NULL);
	CHECK(strstr(js, "organization") == NULL);
	/* an address the data does not know: no objects */
	net_finding(&f, "10.9.8.7");
	js = render(&f, g, &b);
	CHECK(strstr(js, "\"remoteIpDetails\":{\"ipAddressV4\":\"10.9.8.7\"}") != NULL);
	/* no data: no organization/country anywhere, never empty objects */
	net_finding(&f, "8.8.8.8");
	js = render(&f, NULL, &b);
	CHECK(strstr(js, "\"remoteIpDetails\":{\"ipAddressV4\":\"8.8.8.8\"}") != NULL);
	CHECK(strstr(js, "organization") == NULL && strstr(js, "\"country\"") == NULL);
	CHECK(strstr(js, "\"city\"") == NULL && strstr(js, "geoLocation") == NULL);
	/* port probes: each probe's remote on its own */
	net_finding(&f, "8.8.8.8");
	f.action = MM_ACTION_PORT_PROBE;
	f.nprobes = 2;
	f.probes[0].has_remote_ip = 1;
	mm_ip_parse("1.0.0.1", 7, &f.probes[0].remote_ip);
	f.probes[1].has_remote_ip = 1;
	mm_ip_parse("2001:4860::1", 12, &f.probes[1].remote_ip);
	js = render(&f, g, &b);
	CHECK(strstr(js, "\"1.0.0.1\",\"organization\":{\"asn\":\"13335\"") != NULL);
	CHECK(strstr(js, "\"countryCode\":\"AU\",\"countryName\":\"Australia\"") != NULL);
	CHECK(strstr(js, "\"2001:4860::1\",\"organization\":{\"asn\":\"15169\"") != NULL);
	/* API calls */
	net_finding(&f, "3.0.0.1");
	f.action = MM_ACTION_AWS_API_CALL;
	f.res_type = MM_RES_ACCESSKEY;
	js = render(&f, g, &b);
	CHECK(strstr(js, "\"awsApiCallAction\"") != NULL);
	CHECK(strstr(js, "\"3.0.0.1\",\"organization\":{\"asn\":\"16509\"") != NULL);
	mm_buf_free(&b);
	mm_geo_close(g);
}

/* ---- MaxMind DB files (libmaxminddb; tests/data/geo/mkmmdb.py made them) ---- */

MM_TEST(geo_mmdb_first_then_file)
{
#ifndef MM_HAVE_MAXMINDDB
	struct mm_geo *g = NULL;
	struct mm_err err;
	CHECK_EQ_INT(mm_geo_add_mmdb(&g, DATA "test-asn.mmdb", &err), MM_EINVAL);
	CHECK(strstr(err.msg, "libmaxminddb") != NULL);
	CHECK(g == NULL);
	mmtest_skip("built without libmaxminddb");
#else
	struct mm_geo *g = NULL, *only = NULL;
	struct mm_err err;
	struct mm_geo_info gi;
	struct mm_finding f;
	struct mm_buf b;
	const char *js;

	/* .mmdb alone: a handle of its own */
	CHECK_EQ_INT(mm_geo_add_mmdb(&only, DATA "test-asn.mmdb", &err), 0);
	CHECK_EQ_INT(mm_geo_kinds(only), MM_GEO_ASN);
	if (only) {
		expect(only, "8.8.8.8", 15169, "GOOGLE (mmdb)", "", 0);
		expect(only, "2001:4860::1", 15169, "GOOGLE (mmdb)", "", 0);
		expect(only, "1.0.0.1", 0, "", "", 0);
	}
	mm_geo_close(only);

	/* with the mapped file: .mmdb answers first, the file fills in */
	g = open_built();
	CHECK_EQ_INT(mm_geo_add_mmdb(&g, DATA "test-asn.mmdb", &err), 0);
	CHECK_EQ_INT(mm_geo_add_mmdb(&g, DATA "test-isp.mmdb", &err), 0);
	CHECK_EQ_INT(mm_geo_add_mmdb(&g, DATA "test-country.mmdb", &err), 0);
	if (!g)
		return;
	expect(g, "8.8.8.8", 15169, "GOOGLE (mmdb)", "US", 0);
	expect(g, "1.0.0.1", 13335, "Cloudflare, Inc.", "JP", 0);	/* country from .mmdb */
	expect(g, "3.0.0.1", 16509, "Amazon.com, Inc.", "US", 1);	/* all from the file */
	expect(g, "9.9.9.9", 19281, "QUAD9-AS-1", "", 0);
	expect(g, "10.0.0.1", 0, "", "", 0);
	/* an ISP database names isp and org; elsewhere they repeat asnOrg */
	CHECK_EQ_INT(look(g, "8.8.4.4", &gi), MM_GEO_ASN);
	CHECK_EQ_STR(gi.isp, "Google Fiber");
	CHECK_EQ_STR(gi.org, "Google Cloud");
	CHECK_EQ_STR(gi.as_org, "Google LLC");
	look(g, "8.8.8.8", &gi);
	CHECK_EQ_STR(gi.isp, "GOOGLE (mmdb)");
	CHECK_EQ_STR(gi.org, "GOOGLE (mmdb)");
	mm_buf_init(&b, 1 << 20);
	net_finding(&f, "8.8.4.4");
	js = render(&f, g, &b);
	CHECK(strstr(js, "\"organization\":{\"asn\":\"15169\",\"asnOrg\":\"Google LLC\","
			 "\"isp\":\"Google Fiber\",\"org\":\"Google Cloud\"}}") != NULL);
	mm_buf_free(&b);
	/* at most MM_GEO_MAX_MMDB */
	CHECK_EQ_INT(mm_geo_add_mmdb(&g, DATA "test-asn.mmdb", &err), 0);
	CHECK_EQ_INT(mm_geo_add_mmdb(&g, DATA "test-asn.mmdb", &err), MM_EINVAL);
	mm_geo_close(g);
	/* not an .mmdb, missing: refused with the path, no handle made */
	g = NULL;
	CHECK_EQ_INT(mm_geo_add_mmdb(&g, DATA "asn.csv", &err), MM_EFORMAT);
	CHECK(strstr(err.msg, "asn.csv") != NULL);
	CHECK_EQ_INT(mm_geo_add_mmdb(&g, DATA "missing.mmdb", &err), MM_EIO);
	CHECK(g == NULL);
#endif
}
