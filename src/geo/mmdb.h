/* mmdb.h - internal to src/geo: MaxMind DB files through libmaxminddb
 * (compiled in with MM_HAVE_MAXMINDDB; without it opening fails with
 * MM_EINVAL and a message saying how to get it). */
#ifndef MM_GEO_MMDB_H
#define MM_GEO_MMDB_H

#include "core/err.h"
#include "core/ip.h"
#include "geo/geo.h"

struct mm__mmdb;

int mm__mmdb_open(struct mm__mmdb **out, const char *path, struct mm_err *err);
void mm__mmdb_close(struct mm__mmdb *m);
/* MM_GEO_ASN / MM_GEO_COUNTRY the database may answer. */
unsigned mm__mmdb_kinds(const struct mm__mmdb *m);
/* Fill what out does not hold yet (asn + names into out->buf, cc); the
 * MM_GEO_* bits this database answered. */
unsigned mm__mmdb_lookup(const struct mm__mmdb *m, const struct mm_ip *ip, struct mm_geo_info *out);

#endif
