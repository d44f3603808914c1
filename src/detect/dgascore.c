/* dgascore.c - the registered base domain of a DNS name, label entropy,
 * and the DGA score of a registered-domain label (dgascore.h).
 *
 * The score is a sum of points, each for a trait that separates the
 * output of domain generation algorithms (random letters: Cryptolocker,
 * Ramnit, Locky, Necurs, Tinba, Qakbot; letters and digits: GameOver
 * Zeus; hex hashes: Bamital, Dyre) from names people choose (words,
 * brands, abbreviations): letter pairs that are rare in English and in
 * product names, long consonant runs, too few vowels, digits scattered
 * among letters, length and entropy. Dictionary DGAs (Suppobox, Matsnu:
 * "winterbreakfast.net") and short pronounceable ones (Simda: "lyvyxor")
 * look like names to any character model and are not caught here; the
 * `dga` threat list covers known ones. tests/unit/test_dnsbehav.c
 * measures the score on ~570 real popular domains and 71 DGA samples. */
#include "detect/dgascore.h"

#include <math.h>
#include <string.h>

/* Two-label public suffixes under which people register names. A short
 * list of the common ones (ICANN section of the Public Suffix List), not
 * the whole list: a name under a suffix not here gets a base one label
 * too short (see dgascore.h), which only groups it more coarsely. */
#define S(z) {z, sizeof(z) - 1}
static const struct {
	const char *z;
	size_t n;
} suffix2[] = {
	S("ac.uk"), S("co.uk"), S("gov.uk"), S("ltd.uk"), S("me.uk"), S("net.uk"), S("nhs.uk"),
	S("org.uk"), S("plc.uk"), S("sch.uk"), S("com.au"), S("edu.au"), S("gov.au"), S("net.au"),
	S("org.au"), S("id.au"), S("co.nz"), S("net.nz"), S("org.nz"), S("govt.nz"), S("ac.nz"),
	S("co.jp"), S("ne.jp"), S("or.jp"), S("ac.jp"), S("go.jp"), S("ad.jp"), S("co.kr"),
	S("or.kr"), S("ne.kr"), S("go.kr"), S("ac.kr"), S("com.cn"), S("net.cn"), S("org.cn"),
	S("gov.cn"), S("edu.cn"), S("com.hk"), S("org.hk"), S("com.tw"), S("org.tw"), S("net.tw"),
	S("com.sg"), S("edu.sg"), S("gov.sg"), S("com.my"), S("co.in"), S("net.in"), S("org.in"),
	S("gov.in"), S("ac.in"), S("firm.in"), S("co.za"), S("org.za"), S("gov.za"), S("co.il"),
	S("org.il"), S("ac.il"), S("com.br"), S("net.br"), S("org.br"), S("gov.br"), S("edu.br"),
	S("com.mx"), S("org.mx"), S("gob.mx"), S("com.ar"), S("gob.ar"), S("com.co"), S("com.pe"),
	S("com.ve"), S("com.ec"), S("com.uy"), S("com.tr"), S("gov.tr"), S("com.ua"), S("co.id"),
	S("or.id"), S("go.id"), S("co.th"), S("in.th"), S("com.vn"), S("com.ph"), S("com.pk"),
	S("com.sa"), S("com.eg"), S("com.ng"), S("co.ke"), S("com.pl"), S("com.ru"), S("com.es"),
	S("com.pt"), S("co.at"), S("or.at"), S("com.gr"), S("com.cy"), S("com.mt"), S("co.hu"),
};
#undef S

static char fold(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static int is_suffix2(const char *s, size_t n)
{
	size_t i, k;
	char b[16];

	/* every entry ends in a two-letter country code: most names leave here */
	if (n < 5 || n >= sizeof(b) || s[n - 3] != '.')
		return 0;
	for (i = 0; i < n; i++)
		b[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	for (k = 0; k < sizeof(suffix2) / sizeof(suffix2[0]); k++)
		if (suffix2[k].n == n && memcmp(suffix2[k].z, b, n) == 0)
			return 1;
	return 0;
}

int mm_dns_base(const char *name, size_t n, size_t *off, size_t *len)
{
	size_t dots[3], nd = 0, i, start;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > MM_DNS_NAME_MAX)
		return -1;
	/* the last three dots, right to left */
	for (i = n; i > 0 && nd < 3; i--)
		if (name[i - 1] == '.') {
			if (i == n || (nd && dots[nd - 1] == i))
				return -1; /* empty label */
			dots[nd++] = i - 1;
		}
	if (nd == 0)
		return -1; /* a single label */
	/* name[dots[0]+1 .. n) is the TLD; dots[1] (or the start) bounds the
	 * label left of it */
	start = nd >= 2 ? dots[1] + 1 : 0;
	if (start == dots[0])
		return -1;
	if (is_suffix2(name + start, n - start)) {
		if (nd < 2)
			return -1; /* "co.uk" itself */
		start = nd >= 3 ? dots[2] + 1 : 0;
		if (start == dots[1])
			return -1;
	}
	*off = start;
	*len = n - start;
	return 0;
}

double mm_dns_entropy(const char *s, size_t n)
{
	unsigned cnt[256];
	size_t i, m = 0;
	double h = 0;

	/* counts of the bytes present only: one pass to count, one to sum
	 * (clearing each count as it is used), no walk over 256 slots */
	for (i = 0; i < n; i++)
		cnt[(unsigned char)fold(s[i])] = 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.')
			continue;
		cnt[(unsigned char)fold(s[i])]++;
		m++;
	}
	if (!m)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)fold(s[i]);
		if (s[i] != '.' && cnt[c]) {
			double p = (double)cnt[c] / (double)m;
			h -= p * log2(p);
			cnt[c] = 0;
		}
	}
	return h;
}

/* Letter pairs common in English words and in product names (about 360
 * of the 676): bit b of row a is set when "a" followed by "b" is common.
 * Random letters hit a rare pair about half the time; names rarely. */
static const unsigned common_pair[26] = {
	0x3febd6e, 0x1164917, 0x11a6d9d, 0x136695f, 0x1fff9ff, 0x11e4933, 0x11669db,
	0x11e611b, 0x3aefc7f, 0x014c011, 0x1166d91, 0x13cfd3b, 0x11cf913, 0x33efdff,
	0x1fefd7f, 0x01edd95, 0x0100000, 0x13efdff, 0x31dfd9d, 0x15ef99f, 0x18eb95f,
	0x1047511, 0x10ee19b, 0x008c117, 0x00ce115, 0x2004111,
};

static int is_vowel(int c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

int mm_dga_score(const char *label, size_t n)
{
	char b[64];
	size_t i, letters = 0, digits = 0, vowels = 0, pairs = 0, rare = 0, hex = 0;
	size_t run = 0, maxrun = 0, switches = 0, odd = 0;
	int score = 0, prev = -1; /* -1 none, 0 letter, 1 digit, 2 hyphen */
	double rf, h;

	if (n < MM_DGA_MIN_LEN || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)label[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
		b[i] = (char)c;
	}
	if (n >= 4 && memcmp(b, "xn--", 4) == 0)
		return 0;
	for (i = 0; i < n; i++) {
		int c = b[i], kind = c == '-' ? 2 : (c <= '9' ? 1 : 0);
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
			hex++;
		if (kind == 0) {
			letters++;
			/* j, x, z and a q not before u: ~1 % of letters in names,
			 * 4 of 26 in random letters */
			if (c == 'j' || c == 'x' || c == 'z' || (c == 'q' && (i + 1 >= n || b[i + 1] != 'u')))
				odd++;
			if (is_vowel(c) || c == 'y') {
				vowels += c != 'y';
				run = 0;
			} else if (++run > maxrun) {
				maxrun = run;
			}
			if (prev == 0) {
				pairs++;
				if (!(common_pair[b[i - 1] - 'a'] >> (c - 'a') & 1))
					rare++;
			}
		} else {
			run = 0;
			digits += kind == 1;
		}
		if (prev >= 0 && prev != 2 && kind != 2 && prev != kind)
			switches++;
		prev = kind;
	}
	/* hex digests (Bamital, Dyre): long, hex only, digits and letters mixed */
	if (hex + 1 >= n && n >= 16 && digits >= 3 && letters >= 3)
		return 100;
	rf = pairs ? (double)rare / (double)pairs : 0;
	/* rare pairs: names stay under ~15 %, random letters near 50 % */
	if (pairs >= 4 && rf > 0.15)
		score += (int)((rf - 0.15) * 140.0 > 50 ? 50 : (rf - 0.15) * 140.0);
	/* consonant runs: "strengths" has 4; random letters often 5+ */
	if (maxrun >= 6)
		score += 25;
	else if (maxrun >= 5)
		score += 18;
	else if (maxrun >= 4)
		score += 8;
	/* vowels: English ~38 % of letters; random letters ~19 % */
	if (letters >= 6) {
		double vr = (double)vowels / (double)letters;
		if (vr < 0.15)
			score += 15;
		else if (vr < 0.25)
			score += 8;
	}
	/* digits scattered among letters (GameOver Zeus) */
	if (odd >= 3)
		score += 20;
	else if (odd >= 2)
		score += 10;
	if (switches >= 4)
		score += 40;
	else if (switches >= 3 && digits >= 2)
		score += 15;
	h = mm_dns_entropy(b, n);
	if (n >= 12 && h >= 3.4)
		score += 10;
	if (n >= 16)
		score += 5;
	return score > 100 ? 100 : score;
}
