/* mmdb.c - MaxMind DB (.mmdb) lookups for the geo module, through
 * libmaxminddb (which maps the file and bounds-checks every read). Field
 * paths follow MaxMind's schemas: ASN/ISP databases keep
 * autonomous_system_number/_organization (and isp, organization) at the
 * top level, City/Enterprise under "traits"; the country is
 * country.iso_code. */
#include "geo/mmdb.h"

#include <string.h>

#include "core/mem.h"

#ifdef MM_HAVE_MAXMINDDB
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <maxminddb.h>

struct mm__mmdb {
	MMDB_s db;
	unsigned kinds;
};

int mm__mmdb_open(struct mm__mmdb **out, const char *path, struct mm_err *err)
{
	struct mm__mmdb *m = mm_calloc(1, sizeof(*m));
	const char *type;
	int st;

	*out = NULL;
	if (!m)
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	if ((st = MMDB_open(path, MMDB_MODE_MMAP, &m->db)) != MMDB_SUCCESS) {
		mm_free(m);
		return mm_err_set(err, st == MMDB_FILE_OPEN_ERROR ? MM_EIO : MM_EFORMAT, "%s: %s",
				  path, MMDB_strerror(st));
	}
	type = m->db.metadata.database_type ? m->db.metadata.database_type : "";
	if (strstr(type, "ASN") || strstr(type, "ISP"))
		m->kinds = MM_GEO_ASN;
	else if (strstr(type, "Country"))
		m->kinds = MM_GEO_COUNTRY;
	else	/* City, Enterprise, ip-location-db's, unknown: ask for both */
		m->kinds = MM_GEO_ASN | MM_GEO_COUNTRY;
	*out = m;
	return 0;
}

void mm__mmdb_close(struct mm__mmdb *m)
{
	if (!m)
		return;
	MMDB_close(&m->db);
	mm_free(m);
}

unsigned mm__mmdb_kinds(const struct mm__mmdb *m)
{
	return m->kinds;
}

/* A string at the top level or under "traits", copied into buf (cut at
 * cap - 1 bytes); 1 when there was one. */
static int get_str(MMDB_entry_s *e, const char *key, char *buf, size_t cap)
{
	MMDB_entry_data_s d;

	if ((MMDB_get_value(e, &d, key, NULL) != MMDB_SUCCESS || !d.has_data) &&
	    (MMDB_get_value(e, &d, "traits", key, NULL) != MMDB_SUCCESS || !d.has_data))
		return 0;
	if (d.type != MMDB_DATA_TYPE_UTF8_STRING || !d.data_size)
		return 0;
	if (d.data_size >= cap) {
		/* cut on a character boundary */
		size_t n = cap - 1;
		while (n && ((unsigned char)d.utf8_string[n] & 0xC0) == 0x80)
			n--;
		memcpy(buf, d.utf8_string, n);
		buf[n] = '\0';
	} else {
		memcpy(buf, d.utf8_string, d.data_size);
		buf[d.data_size] = '\0';
	}
	return 1;
}

static int get_asn(MMDB_entry_s *e, uint32_t *asn)
{
	MMDB_entry_data_s d;
	const char *k = "autonomous_system_number";

	if ((MMDB_get_value(e, &d, k, NULL) != MMDB_SUCCESS || !d.has_data) &&
	    (MMDB_get_value(e, &d, "traits", k, NULL) != MMDB_SUCCESS || !d.has_data))
		return 0;
	if (d.type == MMDB_DATA_TYPE_UINT32)
		*asn = d.uint32;
	else if (d.type == MMDB_DATA_TYPE_UINT16)
		*asn = d.uint16;
	else
		return 0;
	return *asn != 0;
}

unsigned mm__mmdb_lookup(const struct mm__mmdb *m, const struct mm_ip *ip, struct mm_geo_info *out)
{
	struct sockaddr_storage ss;
	MMDB_lookup_result_s r;
	unsigned found = 0;
	int mmerr = 0;

	memset(&ss, 0, sizeof(ss));
	if (ip->v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, ip->b, 16);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, ip->b, 4);
	}
	r = MMDB_lookup_sockaddr((MMDB_s *)&m->db, (const struct sockaddr *)&ss, &mmerr);
	if (mmerr != MMDB_SUCCESS || !r.found_entry)
		return 0;
	if ((m->kinds & MM_GEO_ASN) && !out->asn && get_asn(&r.entry, &out->asn)) {
		found |= MM_GEO_ASN;
		if (get_str(&r.entry, "autonomous_system_organization", out->buf[0],
			    sizeof(out->buf[0])))
			out->as_org = out->buf[0];
		if (get_str(&r.entry, "isp", out->buf[1], sizeof(out->buf[1])))
			out->isp = out->buf[1];
		if (get_str(&r.entry, "organization", out->buf[2], sizeof(out->buf[2])))
			out->org = out->buf[2];
	}
	if ((m->kinds & MM_GEO_COUNTRY) && !out->cc[0]) {
		MMDB_entry_data_s d;
		if (MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) == MMDB_SUCCESS &&
		    d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2 &&
		    d.utf8_string[0] >= 'A' && d.utf8_string[0] <= 'Z' && d.utf8_string[1] >= 'A' &&
		    d.utf8_string[1] <= 'Z') {
			out->cc[0] = d.utf8_string[0];
			out->cc[1] = d.utf8_string[1];
			out->cc[2] = '\0';
			found |= MM_GEO_COUNTRY;
		}
	}
	return found;
}

#else /* no libmaxminddb */

struct mm__mmdb {
	int unused;
};

int mm__mmdb_open(struct mm__mmdb **out, const char *path, struct mm_err *err)
{
	*out = NULL;
	return mm_err_set(err, MM_EINVAL,
			  "%s: this mamori was built without libmaxminddb (install libmaxminddb-dev, "
			  "rebuild) for .mmdb files; `mamori geo build` needs none",
			  path);
}

void mm__mmdb_close(struct mm__mmdb *m)
{
	(void)m;
}

unsigned mm__mmdb_kinds(const struct mm__mmdb *m)
{
	(void)m;
	return 0;
}

unsigned mm__mmdb_lookup(const struct mm__mmdb *m, const struct mm_ip *ip, struct mm_geo_info *out)
{
	(void)m;
	(void)ip;
	(void)out;
	return 0;
}

#endif
