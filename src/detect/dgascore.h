/* dgascore.h - pure functions on a DNS name: its registered base domain,
 * the Shannon entropy of a label, and a score of how algorithmically
 * generated (DGA) a registered-domain label looks.
 *
 * No allocation, no state, no locale: each function reads only the bytes
 * it is given (any bytes: names come from logs) and is safe from any
 * thread. Used by detect/dnsbehav.c; the scorer's behaviour on real
 * popular domains and on DGA samples is measured by tests/unit/test_dnsbehav.c. */
#ifndef MM_DGASCORE_H
#define MM_DGASCORE_H

#include <stddef.h>

/* Longest name handled (RFC 1035: 253 characters without the final dot);
 * longer input has no base domain. */
#define MM_DNS_NAME_MAX 253

/* The registered base domain of name (n bytes, trailing dot allowed, any
 * case): the label left of the public suffix plus the suffix. The suffix
 * is the last label, or the last two when they form one of a short
 * built-in list of multi-label public suffixes (co.uk, com.au, co.jp,
 * com.br, ...; dgascore.c has it): no full Public Suffix List, so a name
 * under a rarer two-label suffix (e.g. "pvt.k12.ma.us") gets a base one
 * label too short, which only groups it more coarsely. Returns 0 and
 * sets *off and *len (bytes into name, without the final dot), or -1
 * when there is none: a single label, a bare suffix, an empty label, or
 * a name longer than MM_DNS_NAME_MAX. */
int mm_dns_base(const char *name, size_t n, size_t *off, size_t *len);

/* Shannon entropy in bits per character of the bytes of s, dots left
 * out and letters folded to lower case (0 for an empty string). */
double mm_dns_entropy(const char *s, size_t n);

/* How generated the label looks, 0 (a word, a brand) to 100 (random):
 * length, character entropy, consonant runs, digits mixed into letters,
 * and the share of letter pairs that are rare in English and in brand
 * names. label is one label (no dots), the registered-domain label:
 * "kxtvppwhcftgs" of kxtvppwhcftgs.com. Labels shorter than
 * MM_DGA_MIN_LEN, punycode ("xn--") and labels with characters outside
 * [a-z0-9-] (any case) score 0: too short to tell, or not what a DGA
 * emits. */
#define MM_DGA_MIN_LEN 8
int mm_dga_score(const char *label, size_t n);

#endif
