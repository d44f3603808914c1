/* fuzz_ingest.c - libFuzzer target for what an agent's upload request
 * carries to `mamori serve` (serve/ingest.c) and what the server answers
 * to the agent (agent/ship.c). The input's first line is the query
 * string, the rest the body. A query that parses must name a host and a
 * source that are safe file names (no '/', not "." or "..", not hidden,
 * bounded); the body is then written into a scratch spool (bounded to
 * 1 MiB: then refused as full) and the stream's size must only grow by
 * what was written. The reply parser reads the same bytes: bounded by
 * their length, never past it; and so does the place file parser
 * (engine/place.h), whose every result must format and parse back to
 * itself. Exact-size copies so ASan sees over-reads. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ship.h"
#include "serve/ingest.h"

static struct mm_ingest *g;
static char root[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path) ? 0 : 0;
}

/* the scratch spool goes with the process */
static void cleanup(void)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void safe_name(const char *s, size_t max)
{
	size_t n = strlen(s), i;
	if (!n || n > max || s[0] == '.')
		abort();
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == '\\' || (unsigned char)s[i] < 0x21)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t qn = nl ? (size_t)(nl - data) : size, bn = nl ? size - qn - 1 : 0;
	char *q = malloc(qn + 1), *body = malloc(bn ? bn : 1);
	struct mm_http_req rq;
	struct mm_ingest_target t;
	struct mm_err err;
	uint64_t off;

	if (!g) {
		char tmpl[] = "/tmp/mm-fuzz-ingest-XXXXXX", dir[64];
		struct mm_ingest_opts o;
		if (!mkdtemp(tmpl))
			abort();
		snprintf(root, sizeof(root), "%s", tmpl);
		atexit(cleanup);
		snprintf(dir, sizeof(dir), "%s/agent", tmpl);
		memset(&o, 0, sizeof(o));
		o.dir = dir;
		o.max_bytes = 1 << 20;
		o.segment_bytes = 4096;
		if (mm_ingest_open(&g, &o, &err))
			abort();
	}
	memcpy(q, data, qn);
	q[qn] = '\0';
	if (bn)
		memcpy(body, nl + 1, bn);
	memset(&rq, 0, sizeof(rq));
	rq.query = q;
	if (mm_ingest_parse_query(&rq, &t, &err) == 0) {
		enum mm_ingest_status st;
		uint64_t have, written, before;
		safe_name(t.host, MM_INGEST_HOST_MAX);
		safe_name(t.source, MM_INGEST_SOURCE_MAX);
		/* a place that parses is one the place file can hold */
		if ((t.place.account[0] &&
		     !mm_place_account_ok(t.place.account, strlen(t.place.account))) ||
		    (t.place.region[0] && !mm_place_region_ok(t.place.region, strlen(t.place.region))))
			abort();
		if (mm_ingest_write(g, &t, body, 0, &st, &before, &written, &err) == 0 &&
		    mm_ingest_write(g, &t, body, bn, &st, &have, &written, &err) == 0) {
			if (st == MM_INGEST_OK && have != before + written && written)
				abort();
			if (written > bn)
				abort();
		}
	}
	(void)mm_ship_parse_reply(body, bn, &off);
	{
		/* the body as a place file: what parses formats back to itself */
		struct mm_place pl, again;
		char line[128];
		if (mm_place_parse(body, bn, &pl, &err) == 0) {
			mm_place_format(&pl, line, sizeof(line));
			if (mm_place_parse(line, strlen(line), &again, &err) ||
			    memcmp(&pl, &again, sizeof(pl)))
				abort();
		}
	}
	free(q);
	free(body);
	return 0;
}
