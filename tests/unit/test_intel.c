/* test_intel.c - threat-intel sets: list formats, longest-prefix match
 * per list, IP:port, domain suffixes, trusted set, the real lists in
 * shared/data/intel, limits and failure paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/hash.h"
#include "intel/intel.h"
#include "mmtest.h"

static struct mm_intel *mk(void)
{
	struct mm_intel *in = NULL;
	CHECK_EQ_INT(mm_intel_new(&in), 0);
	return in;
}

static void load(struct mm_intel *in, enum mm_intel_cat cat, const char *name, const char *text,
		 struct mm_intel_load_stats *st)
{
	struct mm_err err;
	CHECK_EQ_INT(mm_intel_load_mem(in, cat, name, text, strlen(text), st, &err), 0);
}

static void build(struct mm_intel *in)
{
	struct mm_err err;
	CHECK_EQ_INT(mm_intel_build(in, &err), 0);
}

static int mip(const struct mm_intel *in, const char *addr, uint16_t port,
	       struct mm_intel_hit *hits)
{
	struct mm_ip ip;
	if (mm_ip_parse(addr, strlen(addr), &ip))
		return -1;
	return mm_intel_match_ip(in, &ip, port, hits, MM_INTEL_MAX_HITS);
}

static int mdom(const struct mm_intel *in, const char *name, struct mm_intel_hit *hits)
{
	return mm_intel_match_domain(in, name, strlen(name), hits, MM_INTEL_MAX_HITS);
}

/* indicator of the hit from list name, or NULL */
static const char *hit_of(const struct mm_intel_hit *h, int n, const char *list)
{
	int i;
	for (i = 0; i < n; i++)
		if (strcmp(h[i].list_name, list) == 0)
			return h[i].indicator;
	return NULL;
}

MM_TEST(intel_categories)
{
	enum mm_intel_cat c = MM_CAT_CUSTOM;
	int i;
	for (i = 0; i < MM_CAT__COUNT; i++) {
		CHECK(mm_intel_cat_name((enum mm_intel_cat)i) != NULL);
		CHECK_EQ_INT(mm_intel_cat_parse(mm_intel_cat_name((enum mm_intel_cat)i), &c), 0);
		CHECK_EQ_INT(c, i);
	}
	CHECK_EQ_STR(mm_intel_cat_name(MM_CAT_TOREXIT), "torexit");
	CHECK_EQ_INT(mm_intel_cat_parse("mining", &c), 0);
	CHECK_EQ_INT(c, MM_CAT_MINING);
	CHECK_EQ_INT(mm_intel_cat_parse("droppoint", &c), 0);
	CHECK_EQ_INT(c, MM_CAT_DROPPOINT);
	CHECK_EQ_INT(mm_intel_cat_parse("miner", &c), MM_EINVAL);
	CHECK_EQ_INT(mm_intel_cat_parse("", &c), MM_EINVAL);
	CHECK_EQ_INT(mm_intel_cat_parse(NULL, &c), MM_EINVAL);
	CHECK(mm_intel_cat_name(MM_CAT__COUNT) == NULL);
}

MM_TEST(intel_longest_prefix_per_list)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	int n;

	load(in, MM_CAT_C2, "A", "10.0.0.0/8\n10.1.2.0/24\n10.1.2.77\n", NULL);
	load(in, MM_CAT_SCANNER, "B", "10.1.0.0/16\n", NULL);
	build(in);
	n = mip(in, "10.1.2.3", 0, h);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(hit_of(h, n, "A"), "10.1.2.0/24");
	CHECK_EQ_STR(hit_of(h, n, "B"), "10.1.0.0/16");
	/* the most specific hit comes first */
	CHECK_EQ_STR(h[0].list_name, "A");
	CHECK_EQ_INT(h[0].cat, MM_CAT_C2);
	n = mip(in, "10.1.2.77", 0, h);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(hit_of(h, n, "A"), "10.1.2.77");
	n = mip(in, "10.1.3.1", 0, h);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(hit_of(h, n, "A"), "10.0.0.0/8");
	n = mip(in, "10.200.0.1", 0, h);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(h[0].indicator, "10.0.0.0/8");
	CHECK_EQ_INT(mip(in, "11.0.0.0", 0, h), 0);
	CHECK_EQ_INT(mip(in, "9.255.255.255", 0, h), 0);
	/* max bounds the answer */
	{
		struct mm_ip ip;
		mm_ip_parse("10.1.2.3", 8, &ip);
		CHECK_EQ_INT(mm_intel_match_ip(in, &ip, 0, h, 1), 1);
		CHECK_EQ_STR(h[0].indicator, "10.1.2.0/24");
		CHECK_EQ_INT(mm_intel_match_ip(in, &ip, 0, h, 0), 0);
	}
	mm_intel_free(in);
}

MM_TEST(intel_boundaries)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];

	load(in, MM_CAT_CUSTOM, "b", "192.0.2.64/26\n198.51.100.7/32\n1.2.3.4/24\n1.255.255.0/23\n",
	     NULL);
	build(in);
	CHECK_EQ_INT(mip(in, "192.0.2.63", 0, h), 0);
	CHECK_EQ_INT(mip(in, "192.0.2.64", 0, h), 1);
	CHECK_EQ_INT(mip(in, "192.0.2.127", 0, h), 1);
	CHECK_EQ_INT(mip(in, "192.0.2.128", 0, h), 0);
	CHECK_EQ_INT(mip(in, "198.51.100.7", 0, h), 1);
	CHECK_EQ_INT(mip(in, "198.51.100.6", 0, h), 0);
	CHECK_EQ_INT(mip(in, "198.51.100.8", 0, h), 0);
	/* host bits are masked: 1.2.3.4/24 is 1.2.3.0/24, listed as written */
	CHECK_EQ_INT(mip(in, "1.2.3.0", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "1.2.3.4/24");
	CHECK_EQ_INT(mip(in, "1.2.3.255", 0, h), 1);
	CHECK_EQ_INT(mip(in, "1.2.4.0", 0, h), 0);
	/* a prefix spanning two /16 buckets */
	CHECK_EQ_INT(mip(in, "1.255.254.0", 0, h), 1);
	CHECK_EQ_INT(mip(in, "1.255.255.255", 0, h), 1);
	CHECK_EQ_INT(mip(in, "2.0.0.0", 0, h), 0);
	CHECK_EQ_INT(mip(in, "1.255.253.255", 0, h), 0);
	mm_intel_free(in);
}

/* A set big enough for the /24 bitmap (4096 ranges and more) answers
 * as a small one: the boundary cases above, ranges across /24 and /16
 * edges, and misses next to listed /24s. */
MM_TEST(intel_big_set_same_answers)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	size_t cap = 6000 * 20 + 256, n = 0;
	char *text = malloc(cap), a[32];
	int i;

	CHECK(text != NULL);
	/* 6000 hosts, each alone in its /24 (100.64.0.0/10) */
	for (i = 0; i < 6000; i++)
		n += (size_t)snprintf(text + n, cap - n, "100.%d.%d.7\n", 64 + i / 200, i % 200);
	snprintf(text + n, cap - n,
		 "192.0.2.64/26\n198.51.100.7/32\n1.2.3.4/24\n1.255.255.0/23\n10.4.0.0/14\n");
	load(in, MM_CAT_CUSTOM, "b", text, NULL);
	free(text);
	build(in);
	CHECK_EQ_INT(mip(in, "192.0.2.63", 0, h), 0);
	CHECK_EQ_INT(mip(in, "192.0.2.64", 0, h), 1);
	CHECK_EQ_INT(mip(in, "192.0.2.127", 0, h), 1);
	CHECK_EQ_INT(mip(in, "192.0.2.128", 0, h), 0);
	CHECK_EQ_INT(mip(in, "198.51.100.7", 0, h), 1);
	CHECK_EQ_INT(mip(in, "198.51.100.6", 0, h), 0);
	CHECK_EQ_INT(mip(in, "198.51.101.7", 0, h), 0);
	CHECK_EQ_INT(mip(in, "1.2.3.0", 0, h), 1);
	CHECK_EQ_INT(mip(in, "1.2.3.255", 0, h), 1);
	CHECK_EQ_INT(mip(in, "1.2.4.0", 0, h), 0);
	CHECK_EQ_INT(mip(in, "1.2.2.255", 0, h), 0);
	CHECK_EQ_INT(mip(in, "1.255.254.0", 0, h), 1);
	CHECK_EQ_INT(mip(in, "1.255.255.255", 0, h), 1);
	CHECK_EQ_INT(mip(in, "2.0.0.0", 0, h), 0);
	CHECK_EQ_INT(mip(in, "1.255.253.255", 0, h), 0);
	/* a /14: four /16 buckets, every /24 of them */
	CHECK_EQ_INT(mip(in, "10.4.0.0", 0, h), 1);
	CHECK_EQ_INT(mip(in, "10.5.128.9", 0, h), 1);
	CHECK_EQ_INT(mip(in, "10.7.255.255", 0, h), 1);
	CHECK_EQ_INT(mip(in, "10.3.255.255", 0, h), 0);
	CHECK_EQ_INT(mip(in, "10.8.0.0", 0, h), 0);
	for (i = 0; i < 6000; i += 97) {
		snprintf(a, sizeof(a), "100.%d.%d.7", 64 + i / 200, i % 200);
		CHECK_EQ_INT(mip(in, a, 0, h), 1);
		snprintf(a, sizeof(a), "100.%d.%d.8", 64 + i / 200, i % 200);
		CHECK_EQ_INT(mip(in, a, 0, h), 0);
		snprintf(a, sizeof(a), "100.%d.%d.7", 64 + i / 200, 200 + i % 50);
		CHECK_EQ_INT(mip(in, a, 0, h), 0);
	}
	mm_intel_free(in);
}

/* Lists big enough for the radix sort of the build (1024 IPv4 entries
 * and more), dense enough that prefixes nest and repeat: every answer is
 * the one a plain reading gives, the longest prefix per list and, for a
 * prefix listed twice, the first as listed. */
struct ref_entry {
	uint32_t lo;
	int plen, list;
	char text[24];
};

static const char *ref_hit(const struct ref_entry *e, int n, uint32_t a, int list)
{
	int i, best = -1;
	for (i = 0; i < n; i++) {
		uint32_t mask = e[i].plen ? ~(uint32_t)0 << (32 - e[i].plen) : 0;
		if (e[i].list == list && (a & mask) == e[i].lo && (best < 0 || e[i].plen > e[best].plen))
			best = i;
	}
	return best < 0 ? NULL : e[best].text;
}

MM_TEST(intel_big_nested_lists_match_a_plain_reading)
{
	enum { N = 3000 };
	static struct ref_entry e[2 * N];
	static const char *names[2] = {"one", "two"};
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	size_t cap = N * 24 + 16;
	char *text[2] = {malloc(cap), malloc(cap)};
	size_t len[2] = {0, 0};
	uint32_t r = 12345;
	int i, l, ne = 0, q;

	CHECK(text[0] != NULL && text[1] != NULL);
	for (l = 0; l < 2; l++)
		for (i = 0; i < N; i++) {
			struct ref_entry *x = &e[ne++];
			uint32_t a;
			r = r * 1103515245u + 12345u;
			/* 10.0.0.0/20: 4096 addresses for 6000 entries */
			a = 0x0a000000u | ((r >> 8) & 0xfff);
			x->plen = 20 + (int)((r >> 24) % 13);
			x->lo = a & (~(uint32_t)0 << (32 - x->plen));
			x->list = l;
			if (x->plen == 32)
				snprintf(x->text, sizeof(x->text), (r & 1) ? "10.0.%u.%u" : "10.0.%u.%u/32",
					 (x->lo >> 8) & 0xff, x->lo & 0xff);
			else
				snprintf(x->text, sizeof(x->text), "10.0.%u.%u/%d", (x->lo >> 8) & 0xff,
					 x->lo & 0xff, x->plen);
			len[l] += (size_t)snprintf(text[l] + len[l], cap - len[l], "%s\n", x->text);
		}
	/* v6 entries among them take the other path of the sort */
	load(in, MM_CAT_CUSTOM, names[0], text[0], NULL);
	load(in, MM_CAT_C2, names[1], "2001:db8::/32\n2001:db8::1\n", NULL);
	load(in, MM_CAT_C2, names[1], text[1], NULL);
	free(text[0]);
	free(text[1]);
	build(in);
	for (q = 0; q < 4096 + 64; q += 3) {
		char addr[32];
		uint32_t a = 0x0a000000u + (uint32_t)q;
		int n;
		snprintf(addr, sizeof(addr), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
			 a & 0xff);
		n = mip(in, addr, 0, h);
		for (l = 0; l < 2; l++) {
			const char *want = ref_hit(e, ne, a, l), *got = hit_of(h, n, names[l]);
			CHECK((want == NULL) == (got == NULL));
			if (want && got && strcmp(want, got)) {
				printf("  %s in list %s: got %s, want %s\n", addr, names[l], got, want);
				CHECK(0);
			}
		}
	}
	CHECK_EQ_INT(mip(in, "2001:db8::1", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "2001:db8::1");
	mm_intel_free(in);
}

MM_TEST(intel_slash0_and_extremes)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;

	/* /0 would match everything: refused (tests/unit: intel_refuses_broad) */
	load(in, MM_CAT_CUSTOM, "all", "0.0.0.0/0\n", &st);
	CHECK_EQ_INT(st.refused, 1);
	/* the widest allowed prefixes at both ends of the space */
	load(in, MM_CAT_CUSTOM, "wide", "0.0.0.0/8\n255.0.0.0/8\n", NULL);
	load(in, MM_CAT_CUSTOM, "edge", "255.255.255.255\n0.0.0.0/32\n", NULL);
	build(in);
	CHECK_EQ_INT(mip(in, "8.8.8.8", 0, h), 0);
	CHECK_EQ_INT(mip(in, "255.255.255.255", 0, h), 2);
	CHECK_EQ_STR(hit_of(h, 2, "edge"), "255.255.255.255");
	CHECK_EQ_STR(hit_of(h, 2, "wide"), "255.0.0.0/8");
	CHECK_EQ_INT(mip(in, "0.0.0.0", 0, h), 2);
	CHECK_EQ_INT(mip(in, "0.0.0.1", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "0.0.0.0/8");
	CHECK_EQ_INT(mip(in, "1.0.0.0", 0, h), 0);
	/* IPv4 prefixes do not cover IPv6 */
	CHECK_EQ_INT(mip(in, "2001:db8::1", 0, h), 0);
	mm_intel_free(in);
}

MM_TEST(intel_ipv6)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;

	load(in, MM_CAT_TOR, "v6",
	     "2001:db8::/32\n2001:db8:1::/48\n2001:db8:1::5\n[2001:db8:ffff::1]\n2001::/16\n::/0\n",
	     &st);
	CHECK_EQ_INT(st.cidrs, 3);
	CHECK_EQ_INT(st.refused, 1);
	CHECK_EQ_INT(st.ips, 2);
	CHECK_EQ_INT(st.errors, 0);
	load(in, MM_CAT_TOR, "top", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n", NULL);
	build(in);
	CHECK_EQ_INT(mip(in, "2001:db8:1::5", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "2001:db8:1::5");
	CHECK_EQ_INT(mip(in, "2001:db8:1::6", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "2001:db8:1::/48");
	CHECK_EQ_INT(mip(in, "2001:db8:1:ffff:ffff:ffff:ffff:ffff", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "2001:db8:1::/48");
	CHECK_EQ_INT(mip(in, "2001:db8:2::", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "2001:db8::/32");
	CHECK_EQ_INT(mip(in, "2001:db9::", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "2001::/16");
	CHECK_EQ_INT(mip(in, "2001:db8:ffff::1", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "2001:db8:ffff::1");
	CHECK_EQ_INT(mip(in, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, h), 1);
	CHECK_EQ_INT(mip(in, "2002::1", 0, h), 0);
	CHECK_EQ_INT(mip(in, "1.2.3.4", 0, h), 0);
	mm_intel_free(in);
}

MM_TEST(intel_ipv4_mapped)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;
	struct mm_ip ip;

	load(in, MM_CAT_C2, "m", "::ffff:203.0.113.9\n::ffff:198.51.100.0/120\n::ffff:1.2.3.4/64\n",
	     &st);
	CHECK_EQ_INT(st.ips, 1);
	CHECK_EQ_INT(st.cidrs, 1);
	CHECK_EQ_INT(st.errors, 1);	/* a mapped prefix shorter than /96 */
	build(in);
	CHECK_EQ_INT(mip(in, "203.0.113.9", 0, h), 1);
	CHECK_EQ_INT(mip(in, "::ffff:203.0.113.9", 0, h), 1);
	CHECK_EQ_INT(mip(in, "198.51.100.200", 0, h), 1);
	CHECK_EQ_INT(mip(in, "198.51.101.0", 0, h), 0);
	/* an address built by hand in mapped form is folded too */
	memset(&ip, 0, sizeof(ip));
	ip.v6 = 1;
	ip.b[10] = ip.b[11] = 0xff;
	ip.b[12] = 203;
	ip.b[14] = 113;
	ip.b[15] = 9;
	CHECK_EQ_INT(mm_intel_match_ip(in, &ip, 0, h, MM_INTEL_MAX_HITS), 1);
	mm_intel_free(in);
}

MM_TEST(intel_ip_port)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;

	load(in, MM_CAT_MINING, "pools",
	     "107.191.47.239:3333\n107.191.47.239:7777\n[2001:db8::9]:4444\n"
	     "107.191.47.239:0\n1.2.3.4:65536\n1.2.3.4:x\n",
	     &st);
	CHECK_EQ_INT(st.ip_ports, 3);
	CHECK_EQ_INT(st.errors, 3);
	load(in, MM_CAT_C2, "c2", "107.191.47.0/24\n", NULL);
	build(in);
	CHECK_EQ_INT(mip(in, "107.191.47.239", 3333, h), 2);
	CHECK_EQ_STR(hit_of(h, 2, "pools"), "107.191.47.239:3333");
	CHECK_EQ_STR(hit_of(h, 2, "c2"), "107.191.47.0/24");
	CHECK_EQ_INT(mip(in, "107.191.47.239", 7777, h), 2);
	CHECK_EQ_STR(hit_of(h, 2, "pools"), "107.191.47.239:7777");
	/* wrong or unknown port: only the prefix list */
	CHECK_EQ_INT(mip(in, "107.191.47.239", 443, h), 1);
	CHECK_EQ_STR(h[0].list_name, "c2");
	CHECK_EQ_INT(mip(in, "107.191.47.239", 0, h), 1);
	CHECK_EQ_INT(mip(in, "107.191.47.238", 3333, h), 1);
	CHECK_EQ_INT(mip(in, "2001:db8::9", 4444, h), 1);
	CHECK_EQ_STR(h[0].indicator, "[2001:db8::9]:4444");
	CHECK_EQ_INT(mip(in, "2001:db8::9", 4445, h), 0);
	mm_intel_free(in);
}

MM_TEST(intel_domains)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;

	load(in, MM_CAT_MINING, "pools",
	     "pool.minexmr.com\n*.Wild.Example\n.dot.example\ntrailing.example.\n"
	     "xmr.pool.minexmr.com\nbad..name\n-\nhost_ok.example\n",
	     &st);
	CHECK_EQ_INT(st.domains, 6);
	CHECK_EQ_INT(st.errors, 2);	/* "bad..name" and "-" */
	CHECK_EQ_INT(st.skipped, 0);
	load(in, MM_CAT_C2, "other", "minexmr.org\npool.minexmr.com\n", NULL);
	build(in);
	CHECK_EQ_INT(mdom(in, "pool.minexmr.com", h), 2);
	CHECK_EQ_INT(mdom(in, "a.pool.minexmr.com.", h), 2);
	CHECK_EQ_STR(hit_of(h, 2, "pools"), "pool.minexmr.com");
	CHECK_EQ_INT(mdom(in, "POOL.MINEXMR.COM", h), 2);
	CHECK_EQ_INT(mdom(in, "xpool.minexmr.com", h), 0);
	CHECK_EQ_INT(mdom(in, "minexmr.com", h), 0);
	CHECK_EQ_INT(mdom(in, "com", h), 0);
	/* most specific per list */
	CHECK_EQ_INT(mdom(in, "a.xmr.pool.minexmr.com", h), 2);
	CHECK_EQ_STR(hit_of(h, 2, "pools"), "xmr.pool.minexmr.com");
	CHECK_EQ_STR(hit_of(h, 2, "other"), "pool.minexmr.com");
	CHECK_EQ_INT(mdom(in, "wild.example", h), 1);
	CHECK_EQ_STR(h[0].indicator, "wild.example");
	CHECK_EQ_INT(mdom(in, "x.y.wild.example", h), 1);
	CHECK_EQ_INT(mdom(in, "a.dot.example", h), 1);
	CHECK_EQ_INT(mdom(in, "trailing.example", h), 1);
	CHECK_EQ_INT(mdom(in, "HOST_OK.example.", h), 1);
	CHECK_EQ_INT(mdom(in, "", h), 0);
	CHECK_EQ_INT(mdom(in, ".", h), 0);
	CHECK_EQ_INT(mdom(in, "pool.minexmr.com..", h), 0);
	{
		/* over 253 characters: no match even though the suffix is listed */
		char big[400];
		memset(big, 'a', sizeof(big));
		for (int i = 50; i < 300; i += 50)
			big[i] = '.';
		memcpy(big + 300, ".pool.minexmr.com", 17);
		CHECK_EQ_INT(mm_intel_match_domain(in, big, 317, h, MM_INTEL_MAX_HITS), 0);
		CHECK_EQ_INT(mm_intel_match_domain(in, big + 100, 217, h, MM_INTEL_MAX_HITS), 2);
	}
	mm_intel_free(in);
}

/* The two-label filter in front of the per-suffix probes (intel.c): a
 * name whose last two labels no entry ends in is answered without them,
 * unless an overlay TLD entry (one label) may still match. Every answer
 * is the one the probes give. */
MM_TEST(intel_domain_two_label_filter)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];

	load(in, MM_CAT_C2, "c2", "deep.sub.evil.example\nshort.example\nexample.net\n", NULL);
	load(in, MM_CAT_BITCOIN, "chain", "bit\n", NULL);
	build(in);
	/* matches of three, two and one label(s) */
	CHECK_EQ_INT(mdom(in, "x.deep.sub.evil.example", h), 1);
	CHECK_EQ_INT(mdom(in, "deep.sub.evil.example", h), 1);
	CHECK_EQ_INT(mdom(in, "a.b.example.net", h), 1);
	CHECK_EQ_STR(h[0].indicator, "example.net");
	CHECK_EQ_INT(mdom(in, "wallet.bit", h), 1);
	CHECK_EQ_STR(h[0].indicator, "bit");
	CHECK_EQ_INT(mdom(in, "BIT", h), 1);
	CHECK_EQ_INT(mdom(in, "a.b.c.bit.", h), 1);
	/* the last two labels are an entry's but the name is not under it */
	CHECK_EQ_INT(mdom(in, "sub.evil.example", h), 0);
	CHECK_EQ_INT(mdom(in, "other.evil.example", h), 0);
	CHECK_EQ_INT(mdom(in, "example", h), 0);
	/* no entry ends so: filtered */
	CHECK_EQ_INT(mdom(in, "www.example.org", h), 0);
	CHECK_EQ_INT(mdom(in, "bit.example.org", h), 0);
	CHECK_EQ_INT(mdom(in, "a.example.bit.org", h), 0);
	mm_intel_free(in);
}

MM_TEST(intel_domain_validation)
{
	struct mm_intel *in = mk();
	struct mm_intel_load_stats st;
	char line[300];

	/* 64-char label, 254-char name, bad characters, numeric tld */
	memset(line, 'a', 64);
	memcpy(line + 64, ".com\n", 6);
	load(in, MM_CAT_CUSTOM, "v", line, &st);
	CHECK_EQ_INT(st.errors, 1);
	memset(line, 'a', 63);
	memcpy(line + 63, ".com\n", 6);
	load(in, MM_CAT_CUSTOM, "v", line, &st);
	CHECK_EQ_INT(st.errors, 0);
	CHECK_EQ_INT(st.domains, 1);
	load(in, MM_CAT_CUSTOM, "v", "a%b.com\n1.2.3\n1.2.3.256\nfoo:bar:baz\nä.com\n", &st);
	CHECK_EQ_INT(st.errors, 5);
	CHECK_EQ_INT(st.domains, 0);
	mm_intel_free(in);
}

MM_TEST(intel_formats)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;

	/* maltrail: comments, inline comments, URLs, paths, CRLF, trailing spaces */
	load(in, MM_CAT_MINING, "trail",
	     "# header\r\n\r\n5.63.151.0/24 # scanners.labs.rapid7.com\r\n"
	     "http://185.141.25.35\r\nhttp://evil.example/gate.php\r\n/zima.php?mine=XMR\r\n"
	     "deanmiller.net/m/\r\n154.19.243.107:8868 \r\n\tminer.example\t\r\n"
	     "miner.example:3333\r\nhttps://drop.example:8443/\r\n",
	     &st);
	CHECK_EQ_INT(st.cidrs, 1);
	CHECK_EQ_INT(st.ips, 1);
	CHECK_EQ_INT(st.ip_ports, 1);
	CHECK_EQ_INT(st.domains, 3);
	CHECK_EQ_INT(st.skipped, 3);
	CHECK_EQ_INT(st.errors, 0);
	/* hosts file */
	load(in, MM_CAT_MINING, "hosts",
	     "127.0.0.1 localhost\n0.0.0.0 coinhive.com\n0.0.0.0 a.example b.example # x\n"
	     "1.2.3.4 not-a-sink.example\n",
	     &st);
	CHECK_EQ_INT(st.domains, 3);
	CHECK_EQ_INT(st.skipped, 1);
	CHECK_EQ_INT(st.errors, 1);
	/* adblock */
	load(in, MM_CAT_MINING, "adblock",
	     "[Adblock Plus 2.0]\n! Title: x\n||coinimp.com$third-party\n||45.15.156.210^\n"
	     "||cdn*.example^\n-coin-hive.js\n/authedmine.$script\n@@||ok.example^\n"
	     "||ads.example/path/x.js\n||Mixed.Example^$third-party\n",
	     &st);
	CHECK_EQ_INT(st.domains, 2);
	CHECK_EQ_INT(st.ips, 1);
	CHECK_EQ_INT(st.skipped, 5);
	CHECK_EQ_INT(st.errors, 0);
	build(in);
	CHECK_EQ_INT(mip(in, "185.141.25.35", 0, h), 1);
	CHECK_EQ_STR(h[0].indicator, "185.141.25.35");
	CHECK_EQ_INT(mip(in, "5.63.151.9", 0, h), 1);
	CHECK_EQ_INT(mip(in, "154.19.243.107", 8868, h), 1);
	CHECK_EQ_INT(mdom(in, "miner.example", h), 1);
	CHECK_EQ_INT(mdom(in, "drop.example", h), 1);
	CHECK_EQ_INT(mdom(in, "evil.example", h), 0);
	CHECK_EQ_INT(mdom(in, "www.coinhive.com", h), 1);
	CHECK_EQ_STR(h[0].list_name, "hosts");
	CHECK_EQ_INT(mdom(in, "localhost", h), 0);
	CHECK_EQ_INT(mdom(in, "b.example", h), 1);
	CHECK_EQ_INT(mdom(in, "coinimp.com", h), 1);
	CHECK_EQ_INT(mdom(in, "mixed.example", h), 1);
	CHECK_EQ_INT(mdom(in, "ok.example", h), 0);
	CHECK_EQ_INT(mip(in, "45.15.156.210", 0, h), 1);
	mm_intel_free(in);
}

MM_TEST(intel_edge_files)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;
	struct mm_err err;

	/* no trailing newline: the last line counts */
	load(in, MM_CAT_C2, "nonl", "a.example\nb.example", &st);
	CHECK_EQ_INT(st.domains, 2);
	load(in, MM_CAT_C2, "empty", "", &st);
	CHECK_EQ_INT(st.domains + st.ips + st.errors + st.skipped, 0);
	CHECK_EQ_INT(mm_intel_load_mem(in, MM_CAT_C2, "null", NULL, 0, &st, &err), 0);
	/* a line longer than the limit is one error, the next line still loads */
	{
		size_t n = 10000;
		char *big = malloc(n + 32);
		memset(big, 'a', n);
		memcpy(big + n, "\nc.example\n", 12);
		CHECK_EQ_INT(mm_intel_load_mem(in, MM_CAT_C2, "long", big, strlen(big), &st, &err), 0);
		CHECK_EQ_INT(st.errors, 1);
		CHECK_EQ_INT(st.domains, 1);
		free(big);
	}
	build(in);
	CHECK_EQ_INT(mdom(in, "b.example", h), 1);
	CHECK_EQ_INT(mdom(in, "c.example", h), 1);
	/* frozen after build */
	CHECK_EQ_INT(mm_intel_load_mem(in, MM_CAT_C2, "late", "d.example\n", 10, NULL, &err),
		     MM_EINVAL);
	CHECK_EQ_INT(mm_intel_build(in, &err), MM_EINVAL);
	mm_intel_free(in);
}

/* Write text to a temp file; returns its path (static buffer). */
static const char *tmpfile_with(const char *text, size_t n)
{
	static char path[64];
	FILE *f;
	snprintf(path, sizeof(path), "/tmp/mm_intel_test_%d.txt", (int)getpid());
	f = fopen(path, "wb");
	fwrite(text, 1, n, f);
	fclose(f);
	return path;
}

MM_TEST(intel_bad_line_numbers)
{
	struct mm_intel *in = mk();
	struct mm_intel_load_stats st;
	struct mm_err err;
	const char *text = "# c\r\n1.2.3.4\r\n\r\n1.2.3.999\r\nok.example\r\nnope nope\r\n9.9.9.9/40";
	const char *path = tmpfile_with(text, strlen(text));
	char logpath[80];
	FILE *saved;
	char out[2048];
	size_t got;
	char expect[200];

	/* capture stderr to see "path:line: reason" */
	snprintf(logpath, sizeof(logpath), "%s.log", path);
	fflush(stderr);
	saved = fdopen(dup(fileno(stderr)), "w");
	CHECK(freopen(logpath, "w", stderr) != NULL);
	CHECK_EQ_INT(mm_intel_load(in, MM_CAT_CUSTOM, path, NULL, &st, &err), 0);
	fflush(stderr);
	dup2(fileno(saved), fileno(stderr));
	CHECK_EQ_INT(st.ips, 1);
	CHECK_EQ_INT(st.domains, 1);
	CHECK_EQ_INT(st.errors, 3);
	{
		FILE *f = fopen(logpath, "rb");
		got = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
		out[got] = '\0';
		if (f)
			fclose(f);
	}
	snprintf(expect, sizeof(expect), "%s:4: ", path);
	CHECK(strstr(out, expect) != NULL);
	snprintf(expect, sizeof(expect), "%s:6: ", path);
	CHECK(strstr(out, expect) != NULL);
	snprintf(expect, sizeof(expect), "%s:7: ", path);
	CHECK(strstr(out, expect) != NULL);
	snprintf(expect, sizeof(expect), "%s:5: ", path);
	CHECK(strstr(out, expect) == NULL);
	build(in);
	{
		struct mm_intel_hit h[MM_INTEL_MAX_HITS];
		char base[64];
		CHECK_EQ_INT(mip(in, "1.2.3.4", 0, h), 1);
		snprintf(base, sizeof(base), "mm_intel_test_%d.txt", (int)getpid());
		CHECK_EQ_STR(h[0].list_name, base);	/* default name: the base name */
	}
	unlink(path);
	unlink(logpath);
	fclose(saved);
	mm_intel_free(in);
}

MM_TEST(intel_file_long_lines_and_chunks)
{
	/* a file bigger than the read buffer, with a too-long line across a
	 * buffer boundary and no final newline */
	size_t cap = 1200000, n = 0, i;
	char *text = malloc(cap);
	struct mm_intel *in = mk();
	struct mm_intel_load_stats st;
	struct mm_err err;
	const char *path;

	for (i = 0; i < 20000; i++)
		n += (size_t)sprintf(text + n, "10.%u.%u.%u\n", (unsigned)(i >> 16) & 255,
				     (unsigned)(i >> 8) & 255, (unsigned)i & 255);
	memset(text + n, 'x', 300000);
	n += 300000;
	text[n++] = '\n';
	n += (size_t)sprintf(text + n, "last.example");
	path = tmpfile_with(text, n);
	mm_log_set_level(MM_LOG_QUIET);
	CHECK_EQ_INT(mm_intel_load(in, MM_CAT_C2, path, "big", &st, &err), 0);
	CHECK_EQ_INT(st.ips, 20000);
	CHECK_EQ_INT(st.errors, 1);
	CHECK_EQ_INT(st.domains, 1);
	build(in);
	{
		struct mm_intel_hit h[MM_INTEL_MAX_HITS];
		CHECK_EQ_INT(mdom(in, "last.example", h), 1);
		CHECK_EQ_INT(mip(in, "10.0.78.31", 0, h), 1);
		CHECK_EQ_INT(mip(in, "10.0.78.32", 0, h), 0);
	}
	CHECK_EQ_INT(mm_intel_count(in), 20001);
	unlink(path);
	free(text);
	mm_intel_free(in);
}

MM_TEST(intel_missing_file)
{
	struct mm_intel *in = mk();
	struct mm_intel_load_stats st;
	struct mm_err err;

	mm_err_clear(&err);
	CHECK_EQ_INT(mm_intel_load(in, MM_CAT_C2, "/nonexistent/intel.txt", NULL, &st, &err),
		     MM_EIO);
	CHECK(strstr(err.msg, "/nonexistent/intel.txt") != NULL);
	CHECK_EQ_INT(mm_intel_load_trusted(in, "/nonexistent/trusted.txt", &err), MM_EIO);
	CHECK(strstr(err.msg, "/nonexistent/trusted.txt") != NULL);
	mm_intel_free(in);
}

MM_TEST(intel_trusted)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_err err;
	struct mm_ip ip;
	const char *t = "10.0.0.0/8\n# bastion\n203.0.113.5\n2001:db8::/64\nscanner.corp.example\n";

	CHECK_EQ_INT(mm_intel_load_trusted_mem(in, "trusted", t, strlen(t), &err), 0);
	load(in, MM_CAT_SCANNER, "threat", "203.0.113.5\n", NULL);
	build(in);
	mm_ip_parse("10.20.30.40", 11, &ip);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 1);
	mm_ip_parse("11.0.0.1", 8, &ip);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 0);
	mm_ip_parse("203.0.113.5", 11, &ip);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 1);
	/* trusted entries are not threats; the threat list still answers */
	CHECK_EQ_INT(mm_intel_match_ip(in, &ip, 0, h, MM_INTEL_MAX_HITS), 1);
	CHECK_EQ_STR(h[0].list_name, "threat");
	mm_ip_parse("203.0.113.6", 11, &ip);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 0);
	mm_ip_parse("2001:db8::ffff", 14, &ip);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 1);
	mm_ip_parse("2001:db8:0:1::", 14, &ip);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 0);
	CHECK_EQ_INT(mdom(in, "scanner.corp.example", h), 0);
	CHECK_EQ_INT(mm_intel_count(in), 4);
	mm_intel_free(in);
}

MM_TEST(intel_unbuilt_and_null)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_ip ip;

	load(in, MM_CAT_C2, "x", "1.2.3.4\nx.example\n", NULL);
	mm_ip_parse("1.2.3.4", 7, &ip);
	CHECK_EQ_INT(mm_intel_match_ip(in, &ip, 0, h, MM_INTEL_MAX_HITS), 0);
	CHECK_EQ_INT(mdom(in, "x.example", h), 0);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 0);
	CHECK_EQ_INT(mm_intel_match_ip(NULL, &ip, 0, h, MM_INTEL_MAX_HITS), 0);
	mm_intel_free(NULL);
	mm_intel_free(in);
	/* an empty set builds and answers nothing */
	in = mk();
	build(in);
	CHECK_EQ_INT(mm_intel_match_ip(in, &ip, 80, h, MM_INTEL_MAX_HITS), 0);
	CHECK_EQ_INT(mdom(in, "x.example", h), 0);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 0);
	mm_intel_free(in);
}

MM_TEST(intel_duplicates_and_lists)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];

	/* the same entry twice in one list: one hit, the first as listed */
	load(in, MM_CAT_C2, "dup", "1.2.3.4\n1.2.3.4/32\nx.example\nX.example.\n", NULL);
	/* same name and category again: the same list */
	load(in, MM_CAT_C2, "dup", "1.2.3.4\n", NULL);
	/* same name, another category: another list */
	load(in, MM_CAT_TOR, "dup", "1.2.3.4\n", NULL);
	build(in);
	CHECK_EQ_INT(mip(in, "1.2.3.4", 0, h), 2);
	CHECK_EQ_STR(h[0].indicator, "1.2.3.4");
	CHECK(h[0].cat != h[1].cat);
	CHECK_EQ_INT(mdom(in, "x.example", h), 1);
	mm_intel_free(in);
}

MM_TEST(intel_limit)
{
	struct mm_intel *in = mk();
	struct mm_intel_load_stats st;
	struct mm_err err;
	const char *t = "1.1.1.1\n2.2.2.2\na.example\n3.3.3.3\n";

	mm__intel_set_max(in, 3);
	CHECK_EQ_INT(mm_intel_load_mem(in, MM_CAT_C2, "cap", t, strlen(t), &st, &err), MM_ETOOBIG);
	CHECK(strstr(err.msg, "cap:4:") != NULL);
	CHECK_EQ_INT(mm_intel_count(in), 3);
	CHECK_EQ_INT(mm_intel_load_trusted_mem(in, "t", "4.4.4.4\n", 8, &err), MM_ETOOBIG);
	build(in);
	{
		struct mm_intel_hit h[MM_INTEL_MAX_HITS];
		CHECK_EQ_INT(mip(in, "2.2.2.2", 0, h), 1);
		CHECK_EQ_INT(mip(in, "3.3.3.3", 0, h), 0);
	}
	mm_intel_free(in);
}

MM_TEST(intel_alloc_failures)
{
	/* every allocation failing in turn: an error code, never a crash or leak */
	const char *t = "1.1.1.0/24\n1.1.1.1:80\n2001:db8::/32\nx.example\n";
	long i;
	int ok = 0;

	for (i = 0; i < 40 && !ok; i++) {
		struct mm_intel *in = NULL;
		struct mm_err err;
		int rc;
		mm_mem_fail_after(i);
		rc = mm_intel_new(&in);
		if (!rc)
			rc = mm_intel_load_mem(in, MM_CAT_C2, "f", t, strlen(t), NULL, &err);
		if (!rc)
			rc = mm_intel_load_trusted_mem(in, "t", "9.9.9.9\n", 8, &err);
		if (!rc)
			rc = mm_intel_build(in, &err);
		mm_mem_fail_after(-1);
		CHECK(rc == 0 || rc == MM_ENOMEM);
		if (!rc) {
			struct mm_intel_hit h[MM_INTEL_MAX_HITS];
			ok = 1;
			CHECK_EQ_INT(mip(in, "1.1.1.1", 80, h), 1);
		}
		mm_intel_free(in);
	}
	CHECK(ok);
}

static void load_real(struct mm_intel *in, enum mm_intel_cat cat, const char *rel,
		      struct mm_intel_load_stats *st)
{
	char path[512];
	struct mm_err err;
	snprintf(path, sizeof(path), "%s/intel/%s", mmtest_shared_data(), rel);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_intel_load(in, cat, path, NULL, st, &err), 0);
	fprintf(stderr, "  %s: ips %llu cidrs %llu ip_ports %llu domains %llu skipped %llu errors %llu\n",
		rel, (unsigned long long)st->ips, (unsigned long long)st->cidrs,
		(unsigned long long)st->ip_ports, (unsigned long long)st->domains,
		(unsigned long long)st->skipped, (unsigned long long)st->errors);
}

MM_TEST(intel_real_lists)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;
	struct mm_err err;

	load_real(in, MM_CAT_MINING, "maltrail/suspicious/crypto_mining.txt", &st);
	CHECK_EQ_INT(st.errors, 0);
	CHECK_EQ_INT(st.ip_ports, 721);	/* grep -c '^[0-9.]*:[0-9]*$' */
	CHECK(st.domains > 400);
	CHECK(st.ips >= 19);	/* includes "http://185.141.25.35" */
	/* mass_scanner.txt really has three bad lines ("C91.196.152.28",
	 * a stray letter before the address) and two path trails */
	mm_log_set_level(MM_LOG_QUIET);
	load_real(in, MM_CAT_SCANNER, "maltrail/mass_scanner.txt", &st);
	mm_log_set_level(MM_LOG_NORMAL);
	CHECK_EQ_INT(st.errors, 3);
	CHECK_EQ_INT(st.skipped, 2);
	CHECK(st.ips > 19000);
	load_real(in, MM_CAT_SCANNER, "maltrail/mass_scanner_cidr.txt", &st);
	CHECK_EQ_INT(st.errors, 0);
	CHECK(st.cidrs > 1000);
	load_real(in, MM_CAT_C2, "maltrail/malware/elf_coinminer.txt", &st);
	CHECK_EQ_INT(st.errors, 0);
	CHECK(st.ips + st.domains + st.ip_ports > 10);
	load_real(in, MM_CAT_C2, "maltrail/malware/elf_xorddos.txt", &st);
	CHECK_EQ_INT(st.errors, 0);
	CHECK(st.ips + st.domains + st.ip_ports > 10);
	load_real(in, MM_CAT_C2, "maltrail/malware/cobalt.txt", &st);
	CHECK_EQ_INT(st.errors, 0);
	load_real(in, MM_CAT_C2, "maltrail/malware/elf_h2miner.txt", &st);
	CHECK_EQ_INT(st.errors, 0);
	load_real(in, MM_CAT_C2, "maltrail/suspicious/onion.txt", &st);
	CHECK_EQ_INT(st.errors, 0);
	load_real(in, MM_CAT_TOREXIT, "tor/tor-exit-nodes.lst", &st);
	CHECK_EQ_INT(st.errors, 0);
	CHECK(st.ips > 1500);
	load_real(in, MM_CAT_TOR, "tor/tor-nodes.lst", &st);
	CHECK_EQ_INT(st.errors, 0);
	CHECK(st.ips > 7000);
	load_real(in, MM_CAT_MINING, "nocoin/hosts.txt", &st);
	CHECK_EQ_INT(st.errors, 0);
	CHECK(st.domains > 250);
	load_real(in, MM_CAT_MINING, "nocoin/nocoin.txt", &st);
	CHECK_EQ_INT(st.errors, 0);
	CHECK(st.domains > 100);
	CHECK(st.skipped > 10);
	CHECK_EQ_INT(mm_intel_build(in, &err), 0);
	CHECK(mm_intel_count(in) > 30000);
	/* spot checks against lines seen in the files */
	CHECK(mip(in, "107.191.47.239", 3333, h) >= 1);
	CHECK_EQ_STR(hit_of(h, MM_INTEL_MAX_HITS, "crypto_mining.txt"), "107.191.47.239:3333");
	CHECK_EQ_INT(mip(in, "5.63.151.200", 0, h) >= 1, 1);
	CHECK_EQ_STR(hit_of(h, MM_INTEL_MAX_HITS, "mass_scanner_cidr.txt"), "5.63.151.0/24");
	CHECK(mip(in, "101.99.92.179", 0, h) >= 1);
	CHECK_EQ_STR(hit_of(h, MM_INTEL_MAX_HITS, "tor-exit-nodes.lst"), "101.99.92.179");
	CHECK(mdom(in, "www.ad-miner.com", h) >= 1);
	CHECK(mdom(in, "abcdefghijklmnop.onion", h) >= 1);
	CHECK_EQ_INT(mdom(in, "example.org", h), 0);
	CHECK_EQ_INT(mip(in, "192.0.2.1", 0, h), 0);
	mm_intel_free(in);
}

MM_TEST(intel_refuses_broad)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_intel_load_stats st;
	struct mm_err err;
	struct mm_ip ip;
	const char *t = "0.0.0.0/0\n::/0\n1.0.0.0/7\n2000::/15\ncom\n.\n*\n*.\nco.uk\nAmazonAWS.com.\n"
			"10.0.0.0/8\n2001:db8::/16\nevil.com\n.onion\nx.co.uk\n";

	load(in, MM_CAT_C2, "c2", t, &st);
	CHECK_EQ_INT(st.refused, 10);
	CHECK_EQ_INT(st.errors, 0);
	CHECK_EQ_INT(st.cidrs, 2);
	CHECK_EQ_INT(st.domains, 3);
	/* trusted lists refuse only /0: wide private ranges are fine there */
	CHECK_EQ_INT(mm_intel_load_trusted_mem(in, "trusted", "0.0.0.0/0\nfc00::/7\n", 19, &err), 0);
	build(in);
	CHECK_EQ_INT(mip(in, "8.8.8.8", 0, h), 0);
	CHECK_EQ_INT(mip(in, "10.1.2.3", 0, h), 1);
	CHECK_EQ_INT(mdom(in, "www.example.com", h), 0);
	CHECK_EQ_INT(mdom(in, "a.evil.com", h), 1);
	CHECK_EQ_INT(mdom(in, "bbc.co.uk", h), 0);
	CHECK_EQ_INT(mdom(in, "a.x.co.uk", h), 1);
	CHECK_EQ_INT(mdom(in, "ec2.us-east-1.amazonaws.com", h), 0);
	CHECK_EQ_INT(mdom(in, "abcdefghijklmnop.onion", h), 1);
	mm_ip_parse("8.8.8.8", 7, &ip);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 0);
	mm_ip_parse("fd00::1", 7, &ip);
	CHECK_EQ_INT(mm_intel_trusted(in, &ip), 1);
	mm_intel_free(in);
}

static void load_100_bad(void)
{
	struct mm_intel *in = mk();
	struct mm_intel_load_stats st;
	static char t[4096];
	int i;

	t[0] = '\0';
	for (i = 0; i < 100; i++)
		strcat(t, i % 2 ? "0.0.0.0/0\n" : "bad..name\n");
	load(in, MM_CAT_CUSTOM, "noisy.txt", t, &st);
	CHECK_EQ_INT(st.errors, 50);
	CHECK_EQ_INT(st.refused, 50);
	mm_intel_free(in);
}

MM_TEST(intel_problems_have_their_own_budget)
{
	static char text[16384];
	int i;

	mm_log_reset();
	/* MM_LOG_LIST_LIMIT lines, then one saying how many more */
	CHECK_EQ_INT(mmtest_capture_stderr(load_100_bad, text, sizeof(text)), MM_LOG_LIST_LIMIT + 1);
	CHECK(strstr(text, "noisy.txt:1: empty label in domain") != NULL);
	CHECK(strstr(text, "noisy.txt:2: entry '0.0.0.0/0' would match everything; skipped") != NULL);
	CHECK(strstr(text, "noisy.txt: 80 more problems in this list not shown") != NULL);
	/* the record-error budget of the scanned logs is untouched */
	CHECK_EQ_INT(mm_log_suppressed(), 0);
	for (i = 0; i < MM_LOG_ERR_LIMIT; i++)
		mm_log_record_error("/dev/null", 1, "x");
	CHECK_EQ_INT(mm_log_suppressed(), 0);
	mm_log_record_error("/dev/null", 1, "x");
	CHECK_EQ_INT(mm_log_suppressed(), 1);
	mm_log_reset();
}

/* mm_intel_prefetch_ip is a hint: safe on NULL, an unbuilt set, IPv6 and
 * a set large enough to have the /24 bitmap, and it changes no answer. */
MM_TEST(intel_prefetch_is_only_a_hint)
{
	struct mm_intel *in = mk();
	struct mm_intel_hit h[MM_INTEL_MAX_HITS];
	struct mm_ip v4, v6;
	char *text = mm_malloc(5000 * 20);
	size_t off = 0;
	int i;

	CHECK(text != NULL);
	CHECK_EQ_INT(mm_ip_parse("198.51.100.7", 12, &v4), 0);
	CHECK_EQ_INT(mm_ip_parse("2001:db8::1", 11, &v6), 0);
	mm_intel_prefetch_ip(NULL, &v4);
	mm_intel_prefetch_ip(in, &v4); /* not built yet */
	mm_intel_prefetch_ip(in, NULL);
	/* 5000 single addresses: more ranges than the bitmap's minimum */
	for (i = 0; i < 5000; i++)
		off += (size_t)snprintf(text + off, 20, "10.%d.%d.1\n", i / 256, i % 256);
	off += (size_t)snprintf(text + off, 20, "198.51.100.7\n");
	load(in, MM_CAT_CUSTOM, "big.txt", text, NULL);
	build(in);
	mm_intel_prefetch_ip(in, &v4);
	mm_intel_prefetch_ip(in, &v6);
	CHECK_EQ_INT(mip(in, "198.51.100.7", 0, h), 1);
	CHECK_EQ_INT(mip(in, "198.51.100.8", 0, h), 0);
	CHECK_EQ_INT(mip(in, "10.3.7.1", 0, h), 1);
	CHECK_EQ_INT(mip(in, "2001:db8::1", 0, h), 0);
	mm_free(text);
	mm_intel_free(in);
}

/* The hand-written formatters give what printf gives: every octet value
 * in every position of an IPv4 address (and back through the parser),
 * and the 128-bit hash's hex. */
MM_TEST(ip_format_and_hash_hex_match_printf)
{
	char got[MM_IP_STRLEN], want[MM_IP_STRLEN], hx[33], hw[33];
	struct mm_ip ip, back;
	unsigned v;
	int pos;
	for (pos = 0; pos < 4; pos++)
		for (v = 0; v < 256; v++) {
			memset(&ip, 0, sizeof(ip));
			ip.b[0] = 10;
			ip.b[1] = 200;
			ip.b[2] = 7;
			ip.b[3] = 99;
			ip.b[pos] = (uint8_t)v;
			snprintf(want, sizeof(want), "%u.%u.%u.%u", ip.b[0], ip.b[1], ip.b[2], ip.b[3]);
			CHECK_EQ_STR(mm_ip_format(&ip, got), want);
			CHECK_EQ_INT(mm_ip_parse(got, strlen(got), &back), 0);
			CHECK(memcmp(back.b, ip.b, 4) == 0 && !back.v6);
		}
	for (v = 0; v < 64; v++) {
		uint64_t h1 = mm_hash(&v, sizeof(v), v), h2 = mm_hash(&v, sizeof(v), h1 ^ 0x9e3779b97f4a7c15ULL);
		mm_hash_hex128(&v, sizeof(v), v, hx);
		snprintf(hw, sizeof(hw), "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
		CHECK_EQ_STR(hx, hw);
	}
}
