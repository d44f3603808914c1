/* intel.h - threat-intelligence and trusted-IP sets.
 *
 * Lists are loaded (GuardDuty TXT: one IPv4/IPv6 address, CIDR or domain
 * a line; maltrail trails: IP, IP:port, CIDR, domain, with # comments),
 * then built once; after mm_intel_build the set is read-only and safe to
 * query from many threads. Addresses: longest-prefix match (IPv4 via a
 * /16-bucketed table of disjoint ranges: one or two cache lines a miss;
 * IPv6 by binary search). Domains: a listed domain covers its
 * subdomains (suffix match on label boundaries), case-insensitive,
 * trailing dot ignored. Trusted addresses are a separate set: callers
 * test mm_intel_trusted first (trusted beats threat). */
#ifndef MM_INTEL_H
#define MM_INTEL_H

#include <stdint.h>

#include "core/err.h"
#include "core/ip.h"

enum mm_intel_cat {
	MM_CAT_CUSTOM = 0,
	MM_CAT_MINING,
	MM_CAT_C2,
	MM_CAT_TOR,		/* any Tor relay */
	MM_CAT_TOREXIT,		/* Tor exit relay (also a relay) */
	MM_CAT_BLACKHOLE,
	MM_CAT_DROPPOINT,
	MM_CAT_SCANNER,
	MM_CAT__COUNT
};

/* "custom", "mining", ... ; NULL for out of range. */
const char *mm_intel_cat_name(enum mm_intel_cat c);
/* Parse a category word; 0 or MM_EINVAL. */
int mm_intel_cat_parse(const char *word, enum mm_intel_cat *out);

struct mm_intel;	/* opaque */

/* One match. Strings are owned by the intel set (valid until freed). */
struct mm_intel_hit {
	enum mm_intel_cat cat;
	const char *list_name;	/* e.g. "crypto_mining.txt" */
	const char *indicator;	/* the entry as listed: "1.2.3.0/24", "pool.x.com", "1.2.3.4:3333" */
};

#define MM_INTEL_MAX_HITS 8

struct mm_intel_load_stats {
	uint64_t ips, cidrs, ip_ports, domains, skipped, errors;
	uint64_t refused;	/* entries that would match everything (not in errors) */
};

/* Entries that would match (nearly) everything are refused with a
 * located warning "list:line: entry 'X' would match everything; skipped"
 * and counted in refused: on threat lists, IPv4 prefixes shorter than
 * /8 and IPv6 prefixes shorter than /16 (0.0.0.0/0, ::/0 included), a
 * bare top-level domain ("com"), a public suffix from a short built-in
 * table ("co.uk", "amazonaws.com"), and ".", "*", "*."; on trusted lists
 * only /0 (trusting every address hides every finding; wide private
 * ranges such as fc00::/7 stay allowed there). */
#define MM_INTEL_MIN_PLEN4 8
#define MM_INTEL_MIN_PLEN6 16

int mm_intel_new(struct mm_intel **out);
void mm_intel_free(struct mm_intel *in);
/* Load a list file. name is the list's name in findings (NULL: the
 * file's base name; loading the same name and category twice adds to one
 * list). path and name are borrowed (copied). Bad lines are reported as
 * "path:line: reason" through mm_log_list_error - the first
 * MM_LOG_LIST_LIMIT of each load, then one warning says how many more;
 * they never use up the record-error budget of the scanned logs - and
 * counted in st (may
 * be NULL; overwritten with this load's counts); they do not fail the
 * load. URL entries are skipped (counted). Fails only on I/O error, out of
 * memory, after mm_intel_build (MM_EINVAL), or when the set would exceed
 * MM_INTEL_MAX_ENTRIES (MM_ETOOBIG; entries before the limit stay). */
#define MM_INTEL_MAX_ENTRIES 20000000
int mm_intel_load(struct mm_intel *in, enum mm_intel_cat cat, const char *path, const char *name,
		  struct mm_intel_load_stats *st, struct mm_err *err);
/* Same, from memory (used by tests and fuzzing). */
int mm_intel_load_mem(struct mm_intel *in, enum mm_intel_cat cat, const char *name,
		      const char *buf, size_t n, struct mm_intel_load_stats *st, struct mm_err *err);
/* Trusted IP list (addresses and CIDRs; domains are ignored). */
int mm_intel_load_trusted(struct mm_intel *in, const char *path, struct mm_err *err);
int mm_intel_load_trusted_mem(struct mm_intel *in, const char *name, const char *buf, size_t n,
			      struct mm_err *err);
/* Freeze: build lookup structures. Must be called before queries. */
int mm_intel_build(struct mm_intel *in, struct mm_err *err);

/* 1 if ip is on the trusted list. */
int mm_intel_trusted(const struct mm_intel *in, const struct mm_ip *ip);
/* Threat hits for an address seen with a remote port (port 0 = unknown;
 * an IP:port entry matches only that port). Longest prefix per list;
 * at most max hits, one per (list); returns the number of hits. */
int mm_intel_match_ip(const struct mm_intel *in, const struct mm_ip *ip, uint16_t port,
		      struct mm_intel_hit *hits, int max);
/* Threat hits for a DNS name (any case, with or without trailing dot).
 * The most specific listed suffix per list wins. */
int mm_intel_match_domain(const struct mm_intel *in, const char *name, size_t n,
			  struct mm_intel_hit *hits, int max);
/* Number of entries loaded (threat + trusted), for summaries. */
uint64_t mm_intel_count(const struct mm_intel *in);

/* Internal, for tests: lower the entry limit of one set. */
void mm__intel_set_max(struct mm_intel *in, uint64_t max);

#endif
