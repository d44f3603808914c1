/* geo.c - `mamori geo build|lookup`: write the IP ownership file scans
 * map (from the ip-location-db CSV ranges and AWS's CIDRs), and look
 * addresses up in one, optionally timing lookups. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/mem.h"
#include "geo/geo.h"

static const char build_usage[] =
	"usage: mamori geo build [--asn CSV]... [--country CSV]... [--aws CIDRS]... -o FILE\n"
	"\n"
	"Write the IP ownership file `mamori scan --geo FILE` maps. Inputs are the CSV\n"
	"range files of the ip-location-db npm packages (`make geo` fetches them):\n"
	"  --asn CSV        start,end,asn,organisation lines (asn-ipv4.csv, asn-ipv6.csv)\n"
	"  --country CSV    start,end,CC lines (dbip-country-ipv4.csv, -ipv6.csv)\n"
	"  --aws CIDRS      one CIDR a line: AWS's ranges (data/geo/aws-ranges.txt)\n"
	"  -o, --output FILE  where to write (replaced atomically)\n"
	"  -h, --help       this help\n"
	"\n"
	"exit status: 0 ok, 1 error (unreadable or malformed input), 2 usage\n";

static const char lookup_usage[] =
	"usage: mamori geo lookup [--geo FILE] [--geoip FILE.mmdb]... [--bench N] [IP...]\n"
	"\n"
	"Print, one JSON line per address, what the data says about it: asn, asnOrg\n"
	"(isp, org when a MaxMind ISP database names them), countryCode, countryName,\n"
	"insideAws. --geoip files (MaxMind DB, through libmaxminddb) are asked first.\n"
	"--bench N times N lookups of random addresses (half IPv4, half IPv6) and\n"
	"prints nanoseconds per lookup.\n"
	"\n"
	"exit status: 0 ok, 1 error, 2 usage\n";

static const char top_usage[] =
	"usage: mamori geo build [--asn CSV]... [--country CSV]... [--aws CIDRS]... -o FILE\n"
	"       mamori geo lookup [--geo FILE] [--geoip FILE.mmdb]... [--bench N] [IP...]\n"
	"\n"
	"IP ownership data for findings' remoteIpDetails (ASN, organisation, country) and\n"
	"for telling AWS's addresses from others. See docs/internals/geo.md.\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const void *p, size_t n)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return MM_ETOOBIG;
	if (!(f = fopen(tmp, "wb")))
		return MM_EIO;
	if (fwrite(p, 1, n, f) != n || fclose(f)) {
		remove(tmp);
		return MM_EIO;
	}
	if (rename(tmp, path)) {
		remove(tmp);
		return MM_EIO;
	}
	return 0;
}

static int cmd_build(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"asn", required_argument, NULL, 'a'},
		{"country", required_argument, NULL, 'c'},
		{"aws", required_argument, NULL, 'w'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mm_geo_builder *b = NULL;
	struct mm_geo *g = NULL;
	struct mm_err err;
	const char *out = NULL;
	void *buf = NULL;
	size_t len = 0;
	int c, rc = MM_EXIT_OK, ninputs = 0;
	double t0 = now_s();

	mm_err_clear(&err);
	if (mm_geo_builder_new(&b)) {
		fprintf(stderr, "mamori geo build: out of memory\n");
		return MM_EXIT_ERROR;
	}
	optind = 1;
	/* first pass: options only, so a usage error costs no reading */
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'a' || c == 'c' || c == 'w')
			ninputs++;
		else if (c == 'h') {
			fputs(build_usage, stdout);
			goto out;
		} else {
			fputs(build_usage, stderr);
			rc = MM_EXIT_USAGE;
			goto out;
		}
	}
	if (!out || !ninputs || optind < argc) {
		fprintf(stderr, "mamori geo build: give -o FILE and at least one --asn, --country "
				"or --aws input\n");
		rc = MM_EXIT_USAGE;
		goto out;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		int r = 0;
		if (c == 'a')
			r = mm_geo_builder_add_csv(b, MM_GEO_ASN, optarg, &err);
		else if (c == 'c')
			r = mm_geo_builder_add_csv(b, MM_GEO_COUNTRY, optarg, &err);
		else if (c == 'w')
			r = mm_geo_builder_add_cidrs(b, optarg, &err);
		if (r) {
			fprintf(stderr, "mamori geo build: %s\n", err.msg[0] ? err.msg : mm_strerror(r));
			rc = MM_EXIT_ERROR;
			goto out;
		}
	}
	if (mm_geo_builder_finish(b, &buf, &len, &err)) {
		fprintf(stderr, "mamori geo build: %s\n", err.msg);
		rc = MM_EXIT_ERROR;
		goto out;
	}
	/* what we write must be what a scan accepts */
	{
		void *copy = mm_malloc(len);
		if (!copy) {
			fprintf(stderr, "mamori geo build: out of memory\n");
			rc = MM_EXIT_ERROR;
			goto out;
		}
		memcpy(copy, buf, len);
		if (mm_geo_open_mem(&g, copy, len, &err)) {
			fprintf(stderr, "mamori geo build: internal error: %s\n", err.msg);
			rc = MM_EXIT_ERROR;
			goto out;
		}
	}
	if (write_file(out, buf, len)) {
		fprintf(stderr, "mamori geo build: cannot write %s\n", out);
		rc = MM_EXIT_ERROR;
		goto out;
	}
	fprintf(stderr, "mamori geo build: %s: %zu bytes (%s%s%s), %.2f s\n", out, len,
		mm_geo_kinds(g) & MM_GEO_ASN ? "asn " : "",
		mm_geo_kinds(g) & MM_GEO_COUNTRY ? "country " : "",
		mm_geo_kinds(g) & MM_GEO_AWS ? "aws" : "", now_s() - t0);
out:
	mm_geo_close(g);
	mm_free(buf);
	mm_geo_builder_free(b);
	return rc;
}

/* a plain-text value as a JSON string */
static void put_json_str(const char *z)
{
	putchar('"');
	for (; *z; z++) {
		if (*z == '"' || *z == '\\')
			printf("\\%c", *z);
		else if ((unsigned char)*z < 0x20)
			printf("\\u%04x", (unsigned char)*z);
		else
			putchar(*z);
	}
	putchar('"');
}

static void print_info(const char *text, const struct mm_geo_info *gi, unsigned found)
{
	const char *name = mm_geo_country_name(gi->cc);

	printf("{\"ip\":\"%s\"", text);
	if (found & MM_GEO_ASN) {
		printf(",\"asn\":\"%u\",\"asnOrg\":", gi->asn);
		put_json_str(gi->as_org);
		if (strcmp(gi->isp, gi->as_org) || strcmp(gi->org, gi->as_org)) {
			printf(",\"isp\":");
			put_json_str(gi->isp);
			printf(",\"org\":");
			put_json_str(gi->org);
		}
	}
	if (found & MM_GEO_COUNTRY) {
		printf(",\"countryCode\":\"%s\"", gi->cc);
		if (name)
			printf(",\"countryName\":\"%s\"", name);
	}
	printf(",\"insideAws\":%s}\n", gi->aws ? "true" : "false");
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int cmd_lookup(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"geo", required_argument, NULL, 'g'},
		{"geoip", required_argument, NULL, 'm'},
		{"bench", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mm_geo *g = NULL;
	struct mm_err err;
	const char *path = NULL, *mmdb[MM_GEO_MAX_MMDB];
	long long bench = 0;
	int c, i, rc = MM_EXIT_OK, nmmdb = 0;

	mm_err_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'g') {
			path = optarg;
		} else if (c == 'm') {
			if (nmmdb >= MM_GEO_MAX_MMDB) {
				fprintf(stderr, "mamori geo lookup: at most %d --geoip files\n",
					MM_GEO_MAX_MMDB);
				return MM_EXIT_USAGE;
			}
			mmdb[nmmdb++] = optarg;
		} else if (c == 'b') {
			char *end;
			bench = strtoll(optarg, &end, 10);
			if (*end || bench < 1 || bench > 1000000000) {
				fprintf(stderr, "mamori geo lookup: --bench takes 1..1000000000\n");
				return MM_EXIT_USAGE;
			}
		} else if (c == 'h') {
			fputs(lookup_usage, stdout);
			return MM_EXIT_OK;
		} else {
			fputs(lookup_usage, stderr);
			return MM_EXIT_USAGE;
		}
	}
	if (!path && !nmmdb) {
		fprintf(stderr, "mamori geo lookup: give --geo FILE and/or --geoip FILE.mmdb\n");
		return MM_EXIT_USAGE;
	}
	if (path && mm_geo_open(&g, path, &err)) {
		fprintf(stderr, "mamori geo lookup: %s\n", err.msg);
		return MM_EXIT_ERROR;
	}
	for (i = 0; i < nmmdb; i++)
		if (mm_geo_add_mmdb(&g, mmdb[i], &err)) {
			fprintf(stderr, "mamori geo lookup: %s\n", err.msg);
			mm_geo_close(g);
			return MM_EXIT_ERROR;
		}
	for (i = optind; i < argc; i++) {
		struct mm_ip ip;
		struct mm_geo_info gi;
		if (mm_ip_parse(argv[i], strlen(argv[i]), &ip)) {
			fprintf(stderr, "mamori geo lookup: '%s' is not an address\n", argv[i]);
			rc = MM_EXIT_USAGE;
			continue;
		}
		print_info(argv[i], &gi, mm_geo_lookup(g, &ip, &gi));
	}
	if (bench) {
		/* addresses made up front so the timing is the lookups only */
		enum { NADDR = 1 << 16 };
		struct mm_ip *ips = mm_calloc(NADDR, sizeof(*ips));
		uint64_t s = 0x9E3779B97F4A7C15ull, hits = 0;
		double t0, t1;
		long long k;
		if (!ips) {
			mm_geo_close(g);
			return MM_EXIT_ERROR;
		}
		for (i = 0; i < NADDR; i++) {
			uint64_t r = rnd(&s), r2 = rnd(&s);
			if (i & 1) {
				ips[i].v6 = 1;
				ips[i].b[0] = 0x20 | (uint8_t)(r & 0x0F);	/* 2000::/4, where routes are */
				memcpy(ips[i].b + 1, &r2, 8);
				memcpy(ips[i].b + 9, &r, 7);
			} else {
				mm_ip_set_v4(&ips[i], (uint32_t)r);
			}
		}
		t0 = now_s();
		for (k = 0; k < bench; k++) {
			struct mm_geo_info gi;
			hits += mm_geo_lookup(g, &ips[k & (NADDR - 1)], &gi) != 0;
		}
		t1 = now_s();
		printf("{\"lookups\":%lld,\"nsPerLookup\":%.1f,\"found\":%llu}\n", bench,
		       (t1 - t0) * 1e9 / (double)bench, (unsigned long long)hits);
		mm_free(ips);
	}
	mm_geo_close(g);
	return rc;
}

int mm_cmd_geo(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub && !strcmp(sub, "build"))
		return cmd_build(argc - 1, argv + 1);
	if (sub && !strcmp(sub, "lookup"))
		return cmd_lookup(argc - 1, argv + 1);
	if (sub && (!strcmp(sub, "-h") || !strcmp(sub, "--help"))) {
		fputs(top_usage, stdout);
		return MM_EXIT_OK;
	}
	fputs(top_usage, stderr);
	return MM_EXIT_USAGE;
}
