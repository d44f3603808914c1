/* fuzz_geo.c - libFuzzer target for the IP ownership file loader and the
 * CSV/CIDR readers that build it (src/geo/geo.c).
 *
 * Input starting with 'C' (ASN CSV), 'K' (country CSV) or 'W' (CIDR
 * list): the rest is written to a temporary file and read by the
 * builder; whatever it accepts must build into a file that loads (the
 * builder only writes what the loader accepts). Any other input is a geo
 * file: copied to an 8-byte aligned buffer and opened; a file that loads
 * must answer lookups of fixed and data-derived addresses without
 * reading out of bounds, with NUL-terminated names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "geo/geo.h"

static void lookups(const struct mm_geo *g, const uint8_t *data, size_t size)
{
	static const char *const fixed[] = {"0.0.0.0", "3.1.2.3", "255.255.255.255", "::",
					    "2600:1f18::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
	struct mm_geo_info gi;
	struct mm_ip ip;
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		mm_ip_parse(fixed[i], strlen(fixed[i]), &ip);
		mm_geo_lookup(g, &ip, &gi);
		if (strlen(gi.as_org) > (1u << 30) || (gi.cc[0] && strlen(gi.cc) != 2))
			abort();
	}
	/* addresses made of the input's own bytes, IPv4 and IPv6 */
	for (i = 0; i + 16 <= size && i < 4096; i += 16) {
		memset(&ip, 0, sizeof(ip));
		ip.v6 = (uint8_t)(data[i] & 1);
		memcpy(ip.b, data + i, ip.v6 ? 16 : 4);
		mm_geo_lookup(g, &ip, &gi);
		(void)strlen(gi.as_org);
	}
}

static void build_from_text(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz-geo-XXXXXX";
	struct mm_geo_builder *b = NULL;
	struct mm_geo *g = NULL;
	void *buf = NULL;
	size_t len = 0;
	int fd = mkstemp(path), rc;

	if (fd < 0)
		return;
	if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		close(fd);
		unlink(path);
		return;
	}
	close(fd);
	if (mm_geo_builder_new(&b))
		abort();
	rc = data[0] == 'W' ? mm_geo_builder_add_cidrs(b, path, NULL)
			    : mm_geo_builder_add_csv(b, data[0] == 'C' ? MM_GEO_ASN : MM_GEO_COUNTRY,
						     path, NULL);
	unlink(path);
	if (!rc) {
		if (mm_geo_builder_finish(b, &buf, &len, NULL))
			abort();
		if (mm_geo_open_mem(&g, buf, len, NULL))
			abort();	/* the builder wrote what the loader refuses */
		lookups(g, data, size);
		mm_geo_close(g);
	}
	mm_geo_builder_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_geo *g = NULL;
	void *buf;

	if (size && (data[0] == 'C' || data[0] == 'K' || data[0] == 'W')) {
		build_from_text(data, size);
		return 0;
	}
	if (!(buf = mm_malloc(size ? size : 1)))
		return 0;
	memcpy(buf, data, size);
	if (mm_geo_open_mem(&g, buf, size, NULL) == 0) {
		lookups(g, data, size);
		mm_geo_close(g);
	}
	return 0;
}
