/* geo.h - who owns an address: ASN and its organisation, country, and
 * whether it is inside AWS.
 *
 * The data lives in one compact binary file (docs/internals/geo.md has
 * the layout) that mamori maps read-only: per family and per kind a
 * sorted array of range starts and one value each, looked up by binary
 * search, no parsing and no allocation per lookup. `mamori geo build`
 * writes the file from the CSV range files of the ip-location-db npm
 * packages (asn, dbip-country) and from a list of AWS CIDRs.
 *
 * Ownership: a struct mm_geo owns its mapping (or buffer); strings a
 * lookup returns are borrowed from it and live until mm_geo_close.
 * Lookups are read-only and safe from many threads at once. */
#ifndef MM_GEO_H
#define MM_GEO_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/ip.h"

/* What a file holds / what a lookup found (bit mask). */
enum {
	MM_GEO_ASN = 1,		/* ASN + AS organisation */
	MM_GEO_COUNTRY = 2,	/* ISO 3166 alpha-2 country */
	MM_GEO_AWS = 4,		/* AWS's published ranges */
};

struct mm_geo;	/* opaque */

struct mm_geo_info {
	uint32_t asn;		/* 0 = unknown */
	const char *as_org;	/* borrowed (from g or buf); "" when unknown */
	const char *isp, *org;	/* a MaxMind ISP database's isp/organization,
				 * else as_org; "" when unknown */
	char cc[3];		/* "US"; "" when unknown */
	int aws;		/* inside one of AWS's ranges */
	char buf[3][128];	/* names read from .mmdb files (cut to 127 bytes) */
};

/* Map the file at path. 0, or MM_EIO (cannot open/map; err names the
 * file), MM_EFORMAT (not a geo file or another version), MM_EPARSE
 * (a malformed file: bad offsets, unsorted ranges, bad values). The file
 * is validated once, in full, at open: lookups then trust it. */
int mm_geo_open(struct mm_geo **out, const char *path, struct mm_err *err);

/* The same from a buffer of len bytes that must be 8-byte aligned.
 * Takes ownership of buf (mm_free at close), also on failure. */
int mm_geo_open_mem(struct mm_geo **out, void *buf, size_t len, struct mm_err *err);

/* Add a MaxMind DB (.mmdb: GeoLite2/GeoIP2 ASN, ISP, Country, City,
 * Enterprise, or ip-location-db's -mmdb files) read through
 * libmaxminddb. *g NULL: a new handle holding only this database. Lookups
 * ask the .mmdb files first, in the order added, and the mapped file
 * fills what they do not know (AWS ranges come from the mapped file
 * only). At most MM_GEO_MAX_MMDB. MM_EIO / MM_EFORMAT with the reason in
 * err; MM_EINVAL when this mamori was built without libmaxminddb. */
#define MM_GEO_MAX_MMDB 4
int mm_geo_add_mmdb(struct mm_geo **g, const char *path, struct mm_err *err);

void mm_geo_close(struct mm_geo *g);

/* The MM_GEO_* kinds the data holds (any family). g may be NULL (0). */
unsigned mm_geo_kinds(const struct mm_geo *g);

/* Look ip up; fills out (zeroed first) and returns the MM_GEO_* bits
 * found. g may be NULL (0). ~constant cost: one binary search per kind
 * the file holds. */
unsigned mm_geo_lookup(const struct mm_geo *g, const struct mm_ip *ip, struct mm_geo_info *out);

/* English name of an ISO 3166 alpha-2 code ("US" -> "United States"),
 * NULL when unknown. */
const char *mm_geo_country_name(const char *cc);

/* ---- building a file ---- */

struct mm_geo_builder;	/* opaque */

int mm_geo_builder_new(struct mm_geo_builder **out);
void mm_geo_builder_free(struct mm_geo_builder *b);

/* Add a CSV range file: start,end,... per line (IPv4 and IPv6 lines may
 * mix). kind MM_GEO_ASN: start,end,asn,organisation (the organisation
 * may be "quoted, with commas"); MM_GEO_COUNTRY: start,end,CC. Ranges
 * may come in any order; where two overlap the first added wins. A
 * malformed line fails the file with MM_EPARSE and file:line in err.
 * Lines are at most 4 KiB. */
int mm_geo_builder_add_csv(struct mm_geo_builder *b, unsigned kind, const char *path,
			   struct mm_err *err);

/* Add AWS ranges: one CIDR per line, # comments and blank lines ignored
 * (data/geo/aws-ranges.txt). */
int mm_geo_builder_add_cidrs(struct mm_geo_builder *b, const char *path, struct mm_err *err);

/* The file's bytes: *buf (caller frees with mm_free; 8-byte aligned) of
 * *len bytes. Call once: the builder is spent afterwards (free it). */
int mm_geo_builder_finish(struct mm_geo_builder *b, void **buf, size_t *len, struct mm_err *err);

#endif
