/* test_ingest.c - the server's offset bookkeeping for agent uploads
 * (serve/ingest.c): appends, idempotent retries, gaps, partial overlaps,
 * new files at the segment bound, pruning that keeps the newest file,
 * a crash's partial line cut off, the spool bound, names and queries. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmtest.h"
#include "serve/ingest.h"

static char dir[256], root[64];

static struct mm_ingest *open_dir(uint64_t max_bytes, uint64_t seg)
{
	struct mm_ingest_opts o;
	struct mm_ingest *g = NULL;
	struct mm_err err;
	char tmpl[] = "/tmp/mm-ingest-XXXXXX";
	if (!dir[0]) {
		CHECK(mkdtemp(tmpl) != NULL);
		snprintf(root, sizeof(root), "%s", tmpl);
		snprintf(dir, sizeof(dir), "%s/agent", tmpl);
	}
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.max_bytes = max_bytes;
	o.segment_bytes = seg;
	CHECK_EQ_INT(mm_ingest_open(&g, &o, &err), 0);
	return g;
}

static void cleanup(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd)) {
	}
}

/* write s at off: returns the status, *have filled */
static int put(struct mm_ingest *g, const char *host, const char *src, uint64_t off, const char *s,
	       uint64_t *have, uint64_t *written)
{
	struct mm_ingest_target t;
	enum mm_ingest_status st;
	struct mm_err err;
	memset(&t, 0, sizeof(t));
	snprintf(t.host, sizeof(t.host), "%s", host);
	snprintf(t.source, sizeof(t.source), "%s", src);
	t.offset = off;
	if (mm_ingest_write(g, &t, s, strlen(s), &st, have, written, &err))
		return -1;
	return (int)st;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n = 0;
	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int nfiles(const char *host)
{
	char p[400];
	DIR *dp;
	struct dirent *de;
	int n = 0;
	snprintf(p, sizeof(p), "%s/%s", dir, host);
	if (!(dp = opendir(p)))
		return 0;
	while ((de = readdir(dp)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

MM_TEST(append_retry_gap_overlap)
{
	struct mm_ingest *g = open_dir(0, 0);
	uint64_t have, w;
	char p[400];
	CHECK_EQ_INT(put(g, "web-1", "a.log", 0, "one\ntwo\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 8 && w == 8);
	/* a retry of the same bytes: acknowledged, nothing written */
	CHECK_EQ_INT(put(g, "web-1", "a.log", 0, "one\ntwo\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 8 && w == 0);
	/* a retry of the first line only */
	CHECK_EQ_INT(put(g, "web-1", "a.log", 0, "one\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 8 && w == 0);
	/* a gap: refused with the size we have */
	CHECK_EQ_INT(put(g, "web-1", "a.log", 9, "x\n", &have, &w), MM_INGEST_GAP);
	CHECK(have == 8 && w == 0);
	/* overlap at a line boundary: only the new part is written */
	CHECK_EQ_INT(put(g, "web-1", "a.log", 4, "two\nthree\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 14 && w == 6);
	/* overlap not at a line boundary of the body: not our bytes */
	CHECK_EQ_INT(put(g, "web-1", "a.log", 12, "xyz\n", &have, &w), MM_INGEST_GAP);
	CHECK(have == 14);
	/* an empty body probes the offset */
	CHECK_EQ_INT(put(g, "web-1", "a.log", 0, "", &have, &w), MM_INGEST_OK);
	CHECK(have == 14 && w == 0);
	snprintf(p, sizeof(p), "%s/web-1/00000000000000000000.a.log", dir);
	CHECK_EQ_STR(slurp(p), "one\ntwo\nthree\n");
	/* streams are apart by host and by source */
	CHECK_EQ_INT(put(g, "web-2", "a.log", 0, "b\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 2);
	CHECK_EQ_INT(put(g, "web-1", "b.log", 3, "b\n", &have, &w), MM_INGEST_GAP);
	CHECK(have == 0);
	/* not whole lines: refused */
	CHECK_EQ_INT(put(g, "web-1", "a.log", 14, "half", &have, &w), -1);
	mm_ingest_close(g);
	/* a new handle (a restart) knows the sizes from the folder alone */
	g = open_dir(0, 0);
	CHECK_EQ_INT(put(g, "web-1", "a.log", 14, "four\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 19 && w == 5);
	CHECK(mm_ingest_spool_bytes(g) == 19 + 2);
	mm_ingest_close(g);
	cleanup();
}

static int all_done(void *ctx, const char *path, uint64_t size)
{
	(void)path;
	(void)size;
	++*(int *)ctx;
	return 1;
}

MM_TEST(segments_prune_keeps_newest)
{
	struct mm_ingest *g = open_dir(0, 10);
	uint64_t have, w;
	char p[400];
	int calls = 0;
	CHECK_EQ_INT(put(g, "h", "s.log", 0, "0123456789\n", &have, &w), MM_INGEST_OK); /* 11 */
	CHECK_EQ_INT(put(g, "h", "s.log", 11, "abc\n", &have, &w), MM_INGEST_OK);
	CHECK_EQ_INT(put(g, "h", "s.log", 15, "def\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 19);
	CHECK_EQ_INT(nfiles("h"), 2); /* 0..10 and 11.. */
	snprintf(p, sizeof(p), "%s/h/00000000000000000011.s.log", dir);
	CHECK_EQ_STR(slurp(p), "abc\ndef\n");
	mm_ingest_prune(g, all_done, &calls);
	CHECK_EQ_INT(calls, 1); /* only the closed file was asked about */
	CHECK_EQ_INT(nfiles("h"), 1);
	CHECK(mm_ingest_spool_bytes(g) == 8);
	/* the stream's size survives the prune and a restart */
	mm_ingest_close(g);
	g = open_dir(0, 10);
	CHECK_EQ_INT(put(g, "h", "s.log", 0, "0123456789\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 19 && w == 0);
	CHECK_EQ_INT(put(g, "h", "s.log", 19, "g\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 21);
	mm_ingest_close(g);
	cleanup();
}

MM_TEST(crash_partial_line_cut)
{
	struct mm_ingest *g = open_dir(0, 0);
	uint64_t have, w;
	char p[400];
	int fd;
	CHECK_EQ_INT(put(g, "h", "c.log", 0, "ok\n", &have, &w), MM_INGEST_OK);
	/* what a crash in the middle of the next write leaves */
	snprintf(p, sizeof(p), "%s/h/00000000000000000000.c.log", dir);
	fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, "parti", 5) == 5);
	close(fd);
	/* the retry of the unacknowledged request succeeds, once */
	CHECK_EQ_INT(put(g, "h", "c.log", 3, "partial\n", &have, &w), MM_INGEST_OK);
	CHECK(have == 11 && w == 8);
	CHECK_EQ_STR(slurp(p), "ok\npartial\n");
	mm_ingest_close(g);
	cleanup();
}

MM_TEST(spool_full_is_back_pressure)
{
	struct mm_ingest *g = open_dir(10, 0);
	uint64_t have, w;
	CHECK_EQ_INT(put(g, "h", "f.log", 0, "12345678\n", &have, &w), MM_INGEST_OK);
	CHECK_EQ_INT(put(g, "h", "f.log", 9, "abc\n", &have, &w), MM_INGEST_FULL);
	CHECK(have == 9);
	/* a retry of what it has is still acknowledged */
	CHECK_EQ_INT(put(g, "h", "f.log", 0, "12345678\n", &have, &w), MM_INGEST_OK);
	CHECK(w == 0);
	mm_ingest_close(g);
	cleanup();
}

MM_TEST(names)
{
	CHECK(mm_ingest_name_ok("web-1", MM_INGEST_HOST_MAX, 0));
	CHECK(mm_ingest_name_ok("i-0abc123", MM_INGEST_HOST_MAX, 0));
	CHECK(mm_ingest_name_ok("x.hostevents.jsonl", MM_INGEST_SOURCE_MAX, 1));
	CHECK(!mm_ingest_name_ok("", MM_INGEST_HOST_MAX, 0));
	CHECK(!mm_ingest_name_ok(".", MM_INGEST_HOST_MAX, 0));
	CHECK(!mm_ingest_name_ok("..", MM_INGEST_HOST_MAX, 0));
	CHECK(!mm_ingest_name_ok(".hidden", MM_INGEST_HOST_MAX, 0));
	CHECK(!mm_ingest_name_ok("a/b", MM_INGEST_HOST_MAX, 0));
	CHECK(!mm_ingest_name_ok("../etc", MM_INGEST_HOST_MAX, 0));
	CHECK(!mm_ingest_name_ok("a b", MM_INGEST_HOST_MAX, 0));
	CHECK(!mm_ingest_name_ok("a\\b", MM_INGEST_HOST_MAX, 0));
	CHECK(!mm_ingest_name_ok("x.log.gz", MM_INGEST_SOURCE_MAX, 1));
	CHECK(mm_ingest_name_ok("x.log.gz", MM_INGEST_HOST_MAX, 0));
	CHECK(mm_ingest_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				MM_INGEST_HOST_MAX, 0)); /* 64 */
	CHECK(!mm_ingest_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				 MM_INGEST_HOST_MAX, 0)); /* 65 */
}

static int query(const char *q, struct mm_ingest_target *t)
{
	struct mm_http_req rq;
	struct mm_err err;
	memset(&rq, 0, sizeof(rq));
	rq.query = q;
	return mm_ingest_parse_query(&rq, t, &err);
}

MM_TEST(query_parse)
{
	struct mm_ingest_target t;
	CHECK_EQ_INT(query("host=web-1&source=a.log&offset=42", &t), 0);
	CHECK_EQ_STR(t.host, "web-1");
	CHECK_EQ_STR(t.source, "a.log");
	CHECK(t.offset == 42);
	CHECK_EQ_INT(query("offset=0&source=a.log&host=h", &t), 0);
	CHECK_EQ_INT(query("host=..%2Fx&source=a.log&offset=0", &t), MM_EINVAL);
	CHECK_EQ_INT(query("host=h&source=%2E%2E&offset=0", &t), MM_EINVAL);
	CHECK_EQ_INT(query("host=h&source=a%00b&offset=0", &t), MM_EINVAL);
	CHECK_EQ_INT(query("host=h&source=a&offset=-1", &t), MM_EINVAL);
	CHECK_EQ_INT(query("host=h&source=a&offset=1e3", &t), MM_EINVAL);
	CHECK_EQ_INT(query("host=h&source=a&offset=99999999999999999999", &t), MM_EINVAL);
	CHECK_EQ_INT(query("host=h&source=a&offset=", &t), MM_EINVAL);
	CHECK_EQ_INT(query("host=h&source=a", &t), MM_EINVAL);
	CHECK_EQ_INT(query("source=a&offset=0", &t), MM_EINVAL);
	CHECK_EQ_INT(query(NULL, &t), MM_EINVAL);
}
