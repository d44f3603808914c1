/* test_reader.c - gzip/plain readers and bounded line framing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/common.h"
#include "input/reader.h"
#include "input/walk.h"
#include "mmtest.h"

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	fwrite(p, 1, n, f);
	fclose(f);
}

static size_t gz_bytes(const char *text, unsigned char *out, size_t cap)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (unsigned char *)text;
	zs.avail_in = (uInt)strlen(text);
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	return cap - zs.avail_out;
}

/* Read all lines of path; returns count, fills last error code. */
static int read_lines(const char *path, size_t max_line, char *joined, size_t cap, int *last_rc)
{
	struct mm_reader r;
	struct mm_lines l;
	struct mm_err e;
	const char *line;
	size_t n;
	int count = 0, rc;

	joined[0] = '\0';
	*last_rc = 0;
	if (mm_reader_open(&r, path, 0, &e))
		return -1;
	mm_lines_init(&l, &r, max_line + 16, max_line, 0, 0);
	while ((rc = mm_lines_next(&l, &line, &n, &e)) != 0) {
		if (rc < 0) {
			*last_rc = rc;
			if (rc != MM_ETOOBIG)
				break;
			continue;
		}
		count++;
		strncat(joined, line, MM_MIN(n, cap - strlen(joined) - 2));
		strcat(joined, "|");
	}
	mm_lines_free(&l);
	mm_reader_close(&r);
	return count;
}

MM_TEST(plain_lines_crlf_and_no_final_newline)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", buf[256];
	int fd = mkstemp(path), rc;
	close(fd);
	write_file(path, "a b\r\n\ncc\nlast", 14);
	CHECK_EQ_INT(read_lines(path, 100, buf, sizeof(buf), &rc), 4);
	CHECK_EQ_STR(buf, "a b||cc|last|");
	CHECK_EQ_INT(rc, 0);
	unlink(path);
}

MM_TEST(gzip_and_concatenated_members)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", buf[256];
	unsigned char gz[512];
	size_t n1, n2;
	int fd = mkstemp(path), rc;
	close(fd);
	n1 = gz_bytes("one\ntwo\n", gz, sizeof(gz));
	n2 = gz_bytes("three\n", gz + n1, sizeof(gz) - n1);
	write_file(path, gz, n1 + n2);
	CHECK_EQ_INT(read_lines(path, 100, buf, sizeof(buf), &rc), 3);
	CHECK_EQ_STR(buf, "one|two|three|");
	CHECK_EQ_INT(rc, 0);
	unlink(path);
}

MM_TEST(truncated_gzip_keeps_records_before_damage)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", buf[8192], text[4096];
	unsigned char gz[8192];
	size_t n;
	int fd = mkstemp(path), rc, i, got;
	close(fd);
	text[0] = '\0';
	for (i = 0; i < 200; i++) {
		char l[32];
		snprintf(l, sizeof(l), "line-%03d\n", i);
		strcat(text, l);
	}
	n = gz_bytes(text, gz, sizeof(gz));
	write_file(path, gz, n - 12); /* cut the trailer and some data */
	got = read_lines(path, 100, buf, sizeof(buf), &rc);
	CHECK(got > 0);
	CHECK(got <= 200);
	CHECK_EQ_INT(rc, MM_ETRUNC);
	CHECK(strncmp(buf, "line-000|line-001|", 18) == 0);
	unlink(path);
}

MM_TEST(corrupt_gzip_is_an_error_not_a_crash)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", buf[256];
	unsigned char gz[512];
	size_t n;
	int fd = mkstemp(path), rc;
	close(fd);
	n = gz_bytes("hello world\nagain\n", gz, sizeof(gz));
	gz[12] ^= 0xff;
	gz[13] ^= 0x55;
	write_file(path, gz, n);
	read_lines(path, 100, buf, sizeof(buf), &rc);
	CHECK(rc == MM_EPARSE || rc == MM_ETRUNC);
	unlink(path);
}

MM_TEST(overlong_line_is_skipped_and_reported)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", buf[4096], big[3000];
	FILE *f;
	int fd = mkstemp(path), rc;
	close(fd);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	f = fopen(path, "w");
	fprintf(f, "ok1\n%s\nok2\n", big);
	fclose(f);
	CHECK_EQ_INT(read_lines(path, 100, buf, sizeof(buf), &rc), 2);
	CHECK_EQ_STR(buf, "ok1|ok2|");
	CHECK_EQ_INT(rc, MM_ETOOBIG);
	unlink(path);
}

MM_TEST(resume_at_offset_counts_lines_from_there)
{
	char path[] = "/tmp/mmtest_rdXXXXXX";
	struct mm_reader r;
	struct mm_lines l;
	struct mm_err e;
	const char *line;
	size_t n;
	int fd = mkstemp(path);
	close(fd);
	write_file(path, "l1\nl2\nl3\n", 9);
	CHECK_EQ_INT(mm_reader_open(&r, path, 6, &e), 0);
	mm_lines_init(&l, &r, 64, 32, 6, 2);
	CHECK_EQ_INT(mm_lines_next(&l, &line, &n, &e), 1);
	CHECK(n == 2 && memcmp(line, "l3", 2) == 0);
	CHECK_EQ_INT((int)l.line, 3);
	CHECK_EQ_INT((int)l.line_offset, 6);
	CHECK_EQ_INT(mm_lines_next(&l, &line, &n, &e), 0);
	mm_lines_free(&l);
	mm_reader_close(&r);
	unlink(path);
}

MM_TEST(missing_file_is_a_clear_error)
{
	struct mm_reader r;
	struct mm_err e;
	CHECK_EQ_INT(mm_reader_open(&r, "/nonexistent/x.log", 0, &e), MM_EIO);
	CHECK(strstr(e.msg, "/nonexistent/x.log") != NULL);
}

MM_TEST(walk_is_recursive_sorted_and_skips_hidden)
{
	char dir[] = "/tmp/mmtest_walkXXXXXX", p[512];
	struct mm_filelist fl;
	struct mm_err e;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "mkdir -p %s/AWSLogs/1/vpcflowlogs/us-east-1/2024/01/02 && "
			       "touch %s/b.log %s/a.log %s/.hidden %s/AWSLogs/1/vpcflowlogs/us-east-1/2024/01/02/x.log.gz",
		 dir, dir, dir, dir, dir);
	CHECK_EQ_INT(system(p), 0);
	mm_filelist_init(&fl);
	CHECK_EQ_INT(mm_walk_add(&fl, dir, &e), 0);
	CHECK_EQ_INT(mm_walk_add(&fl, dir, &e), 0); /* duplicates dropped by sort */
	mm_filelist_sort(&fl);
	CHECK_EQ_INT((int)fl.n, 3);
	if (fl.n == 3) {
		CHECK(strstr(fl.paths[0], "/AWSLogs/1/vpcflowlogs/") != NULL);
		CHECK(strstr(fl.paths[1], "/a.log") != NULL);
		CHECK(strstr(fl.paths[2], "/b.log") != NULL);
	}
	CHECK_EQ_INT(mm_walk_add(&fl, "/nonexistent-dir-xyz", &e), MM_EIO);
	mm_filelist_free(&fl);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CHECK_EQ_INT(system(p), 0);
}

/* ---- how a stream ends: clean, truncated, corrupt (with offset) ---- */

/* Text of many distinct lines so the deflate stream is long enough to
 * damage in the middle. */
static size_t big_text(char *text, size_t cap)
{
	size_t n = 0;
	unsigned x = 12345;
	int i;
	for (i = 0; i < 3000 && n + 64 < cap; i++) {
		x = x * 1103515245u + 12345u;
		n += (size_t)snprintf(text + n, cap - n, "rec-%05d %08x %u\n", i, x, x % 977);
	}
	return n;
}

/* Read every line of path; returns the final code, with the reader's end
 * state, error offset and message. */
static int drain(const char *path, enum mm_read_end *end, uint64_t *off, char *msg, size_t mcap,
		 int *lines)
{
	struct mm_reader r;
	struct mm_lines l;
	struct mm_err e;
	const char *line;
	size_t n;
	int rc;

	*lines = 0;
	msg[0] = '\0';
	if (mm_reader_open(&r, path, 0, &e))
		return -1000;
	mm_lines_init(&l, &r, 4096, 1024, 0, 0);
	while ((rc = mm_lines_next(&l, &line, &n, &e)) == 1)
		(*lines)++;
	if (rc < 0)
		snprintf(msg, mcap, "%s", e.msg);
	*end = r.end;
	*off = r.err_offset;
	mm_lines_free(&l);
	mm_reader_close(&r);
	return rc;
}

MM_TEST(gzip_end_states_clean_truncated_corrupt)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", msg[600], want[64];
	static char text[200000];
	static unsigned char gz[200000];
	size_t tn = big_text(text, sizeof(text)), n;
	enum mm_read_end end;
	uint64_t off;
	int fd = mkstemp(path), rc, lines, i;
	z_stream zs;

	close(fd);
	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (unsigned char *)text;
	zs.avail_in = (uInt)tn;
	zs.next_out = gz;
	zs.avail_out = sizeof(gz);
	deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	n = sizeof(gz) - zs.avail_out;
	CHECK(n > 4000);

	/* clean */
	write_file(path, gz, n);
	rc = drain(path, &end, &off, msg, sizeof(msg), &lines);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(end, MM_READ_EOF);
	CHECK_EQ_INT(lines, 3000);

	/* cut short: the lines before the cut, then a located MM_ETRUNC */
	write_file(path, gz, n / 2);
	rc = drain(path, &end, &off, msg, sizeof(msg), &lines);
	CHECK_EQ_INT(rc, MM_ETRUNC);
	CHECK_EQ_INT(end, MM_READ_TRUNC);
	CHECK_EQ_INT(off, n / 2);
	snprintf(want, sizeof(want), ": offset %llu: ", (unsigned long long)(n / 2));
	CHECK(strstr(msg, want) != NULL);
	CHECK(strncmp(msg, path, strlen(path)) == 0);
	CHECK(lines > 100 && lines < 3000);

	/* corrupted in the middle: a located MM_EPARSE, distinct from both */
	for (i = 0; i < 32; i++)
		gz[n / 2 + (size_t)i] ^= 0xa5;
	write_file(path, gz, n);
	rc = drain(path, &end, &off, msg, sizeof(msg), &lines);
	CHECK_EQ_INT(rc, MM_EPARSE);
	CHECK_EQ_INT(end, MM_READ_CORRUPT);
	CHECK(off >= n / 2 - 4096 && off <= n);
	snprintf(want, sizeof(want), ": offset %llu: corrupt gzip data", (unsigned long long)off);
	CHECK(strstr(msg, want) != NULL);
	CHECK(lines > 0); /* what inflated before the damage (garbage included) */
	unlink(path);
}

/* Regression: a stream that failed inside the call that also produced
 * the good bytes before the damage looked empty (those bytes were
 * dropped with the error). A good member, then one whose deflate data
 * starts with a reserved block type: every line of the first, then a
 * located MM_EPARSE. */
MM_TEST(corrupt_second_member_keeps_the_first)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", msg[600];
	static char text[200000];
	static unsigned char gz[400000];
	size_t tn = big_text(text, sizeof(text)), n1, n2;
	enum mm_read_end end;
	uint64_t off;
	int fd = mkstemp(path), rc, lines;
	z_stream zs;
	int k;

	close(fd);
	for (k = 0, n1 = n2 = 0; k < 2; k++) {
		size_t at = k ? n1 : 0;
		memset(&zs, 0, sizeof(zs));
		deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
		zs.next_in = (unsigned char *)text;
		zs.avail_in = (uInt)tn;
		zs.next_out = gz + at;
		zs.avail_out = (uInt)(sizeof(gz) - at);
		deflate(&zs, Z_FINISH);
		deflateEnd(&zs);
		if (k)
			n2 = sizeof(gz) - at - zs.avail_out;
		else
			n1 = sizeof(gz) - zs.avail_out;
	}
	gz[n1 + 10] = 0x07; /* BFINAL=1, BTYPE=11: reserved */
	write_file(path, gz, n1 + n2);
	rc = drain(path, &end, &off, msg, sizeof(msg), &lines);
	CHECK_EQ_INT(rc, MM_EPARSE);
	CHECK_EQ_INT(end, MM_READ_CORRUPT);
	CHECK_EQ_INT(lines, 3000);
	CHECK(off > n1 && off <= n1 + n2);
	CHECK(strstr(msg, ": offset ") != NULL);
	CHECK(strstr(msg, "corrupt gzip data (") != NULL);
	unlink(path);
}

MM_TEST(corrupt_gzip_stays_failed)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", buf[256];
	unsigned char gz[512];
	struct mm_reader r;
	struct mm_err e;
	size_t n, got = 0;
	int fd = mkstemp(path), rc;

	close(fd);
	n = gz_bytes("hello world\nagain\n", gz, sizeof(gz));
	memset(gz + 10, 0xff, 4); /* an invalid deflate block type */
	write_file(path, gz, n);
	CHECK_EQ_INT(mm_reader_open(&r, path, 0, &e), 0);
	do
		rc = mm_reader_read(&r, buf, sizeof(buf), &got, &e);
	while (rc == 0 && got > 0);
	CHECK(rc == MM_EPARSE || rc == MM_ETRUNC);
	CHECK(r.end == MM_READ_CORRUPT || r.end == MM_READ_TRUNC);
	/* asking again never turns the damage into a clean end */
	CHECK(mm_reader_read(&r, buf, sizeof(buf), &got, &e) < 0);
	CHECK_EQ_INT(got, 0);
	mm_reader_close(&r);
	unlink(path);
}

MM_TEST(plain_end_is_clean)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", msg[600];
	enum mm_read_end end;
	uint64_t off;
	int fd = mkstemp(path), lines;
	close(fd);
	write_file(path, "a\nb\n", 4);
	CHECK_EQ_INT(drain(path, &end, &off, msg, sizeof(msg), &lines), 0);
	CHECK_EQ_INT(end, MM_READ_EOF);
	CHECK_EQ_INT(lines, 2);
	unlink(path);
}

/* ---- framing: the caller learns a last line had no newline ---- */

MM_TEST(last_unterminated_line_is_flagged)
{
	char path[] = "/tmp/mmtest_rdXXXXXX";
	struct mm_reader r;
	struct mm_lines l;
	struct mm_err e;
	const char *line;
	size_t n;
	int fd = mkstemp(path);

	close(fd);
	write_file(path, "one\ntwo\nthr", 11);
	CHECK_EQ_INT(mm_reader_open(&r, path, 0, &e), 0);
	mm_lines_init(&l, &r, 64, 32, 0, 0);
	CHECK_EQ_INT(mm_lines_next(&l, &line, &n, &e), 1);
	CHECK_EQ_INT(l.last_unterminated, 0);
	CHECK_EQ_INT(mm_lines_next(&l, &line, &n, &e), 1);
	CHECK_EQ_INT(l.last_unterminated, 0);
	CHECK_EQ_INT(mm_lines_next(&l, &line, &n, &e), 1);
	CHECK(n == 3 && memcmp(line, "thr", 3) == 0);
	CHECK_EQ_INT(l.last_unterminated, 1);
	CHECK_EQ_INT((int)l.line_offset, 8); /* where to resume to re-read it */
	CHECK_EQ_INT(mm_lines_next(&l, &line, &n, &e), 0);
	CHECK_EQ_INT(l.last_unterminated, 0);
	mm_lines_free(&l);
	mm_reader_close(&r);

	/* a file that ends with '\n' never sets it */
	write_file(path, "one\ntwo\n", 8);
	CHECK_EQ_INT(mm_reader_open(&r, path, 0, &e), 0);
	mm_lines_init(&l, &r, 64, 32, 0, 0);
	while (mm_lines_next(&l, &line, &n, &e) == 1)
		CHECK_EQ_INT(l.last_unterminated, 0);
	mm_lines_free(&l);
	mm_reader_close(&r);
	unlink(path);
}

/* The engine holds flow lines in runs while mm_lines_ready says the
 * buffer will not move: every held line must still read the same when
 * the run is handed on, across refills of a small buffer. */
MM_TEST(lines_held_while_ready_stay_valid)
{
	char path[] = "/tmp/mmtest_rdXXXXXX", text[4096], want[64];
	int fd = mkstemp(path), i, got = 0, runs = 0, nh = 0, rc;
	struct mm_reader r;
	struct mm_lines l;
	struct mm_err e;
	const char *held[64], *line;
	size_t hn[64], n, k = 0;

	close(fd);
	for (i = 0; i < 200; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k, "line %03d%s\n", i, i % 7 ? "" : " long tail");
	write_file(path, text, k);
	CHECK(mm_reader_open(&r, path, 0, &e) == 0);
	CHECK(mm_lines_init(&l, &r, 64, 40, 0, 0) == 0);
	for (;;) {
		if (nh && !mm_lines_ready(&l)) {
			/* hand the run on: each held line is intact */
			for (i = 0; i < nh; i++) {
				int num = got - nh + i;
				snprintf(want, sizeof(want), "line %03d%s", num, num % 7 ? "" : " long tail");
				CHECK(hn[i] == strlen(want) && memcmp(held[i], want, hn[i]) == 0);
			}
			nh = 0;
			runs++;
		}
		rc = mm_lines_next(&l, &line, &n, &e);
		if (rc <= 0)
			break;
		CHECK(nh < 64);
		held[nh] = line;
		hn[nh++] = n;
		got++;
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(got, 200);
	CHECK(runs > 10); /* the 64-byte buffer was refilled many times */
	mm_lines_free(&l);
	mm_reader_close(&r);
	unlink(path);
}

/* A document read whole (mm_reader_slurp) gets the room the file says it
 * needs at once: a gzip member's ISIZE, a plain file's size; a wrong or
 * absurd hint only costs the growth it would have had. */
MM_TEST(slurp_sizes_the_buffer_from_the_file)
{
	char path[] = "/tmp/mmtest_rdXXXXXX";
	static char text[300001];
	static unsigned char gz[400000];
	struct mm_reader r;
	struct mm_buf b;
	struct mm_err e;
	size_t n, i, n1;
	int fd = mkstemp(path);
	close(fd);
	for (i = 0; i < sizeof(text) - 1; i++)
		text[i] = (char)('a' + (i * 7919) % 26);
	text[sizeof(text) - 1] = '\0';

	/* one gzip member: the hint is its size, the buffer not doubled */
	n = gz_bytes(text, gz, sizeof(gz));
	write_file(path, gz, n);
	CHECK_EQ_INT(mm_reader_open(&r, path, 0, &e), 0);
	CHECK_EQ_INT((int)mm_reader_size_hint(&r), (int)strlen(text));
	mm_buf_init(&b, 1 << 30);
	CHECK_EQ_INT(mm_reader_slurp(&r, &b, &e), 0);
	CHECK_EQ_INT((int)b.len, (int)strlen(text));
	CHECK(memcmp(b.p, text, b.len) == 0);
	CHECK(b.cap < strlen(text) + 8192);	/* doubling from 256 B: 524,288 */
	mm_reader_close(&r);
	mm_buf_free(&b);

	/* two members: the hint (the last member's) is short; all is read */
	n1 = gz_bytes(text, gz, sizeof(gz));
	n = n1 + gz_bytes("tail\n", gz + n1, sizeof(gz) - n1);
	write_file(path, gz, n);
	CHECK_EQ_INT(mm_reader_open(&r, path, 0, &e), 0);
	CHECK_EQ_INT((int)mm_reader_size_hint(&r), 5);
	mm_buf_init(&b, 1 << 30);
	CHECK_EQ_INT(mm_reader_slurp(&r, &b, &e), 0);
	CHECK_EQ_INT((int)b.len, (int)strlen(text) + 5);
	CHECK(memcmp(b.p + strlen(text), "tail\n", 5) == 0);
	mm_reader_close(&r);
	mm_buf_free(&b);

	/* a trailer claiming more than deflate can expand to: no hint */
	n = gz_bytes("tiny\n", gz, sizeof(gz));
	gz[n - 1] = 0x7f;	/* ISIZE ~2 GB from a ~25-byte file */
	write_file(path, gz, n);
	CHECK_EQ_INT(mm_reader_open(&r, path, 0, &e), 0);
	CHECK_EQ_INT((int)mm_reader_size_hint(&r), 0);
	mm_reader_close(&r);

	/* a plain file: its size */
	write_file(path, text, 1000);
	CHECK_EQ_INT(mm_reader_open(&r, path, 0, &e), 0);
	CHECK_EQ_INT((int)mm_reader_size_hint(&r), 1000);
	mm_reader_close(&r);
	unlink(path);
}
