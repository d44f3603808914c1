/* test_file.c - replacing a file whole (core/file.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/mem.h"
#include "mmtest.h"

static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;
	if (!f)
		return (size_t)-1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

MM_TEST(replace_writes_whole_and_leaves_no_temporary)
{
	char dir[] = "/tmp/mm-file-XXXXXX", path[64], tmp[64], buf[64];
	struct mm_err err;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp, sizeof(tmp), "%s/.state.tmp", dir);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_file_replace(path, tmp, "first\n", 6, &err), 0);
	CHECK_EQ_INT((int)slurp(path, buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "first\n", 6));
	CHECK_EQ_INT(mm_file_replace(path, tmp, "2\n", 2, &err), 0);
	CHECK_EQ_INT((int)slurp(path, buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "2\n", 2));
	CHECK(access(tmp, F_OK) != 0);
	CHECK_EQ_INT(mm_file_replace(path, tmp, "", 0, &err), 0); /* empty is a content too */
	CHECK_EQ_INT((int)slurp(path, buf, sizeof(buf)), 0);
	unlink(path);
	rmdir(dir);
}

MM_TEST(replace_that_fails_says_where_and_keeps_the_old_file)
{
	char dir[] = "/tmp/mm-file-XXXXXX", path[64], tmp[64], buf[64];
	struct mm_err err;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp, sizeof(tmp), "%s/no-such-folder/.tmp", dir);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_file_replace(path, tmp, "x", 1, &err), MM_EIO);
	CHECK(strstr(err.msg, "no-such-folder") != NULL);
	snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
	CHECK_EQ_INT(mm_file_replace(path, tmp, "old", 3, &err), 0);
	/* a temporary name that is a folder cannot be written: old content stays */
	CHECK_EQ_INT(mkdir(tmp, 0700), 0);
	CHECK(mm_file_replace(path, tmp, "new", 3, &err) != 0);
	CHECK_EQ_INT((int)slurp(path, buf, sizeof(buf)), 3);
	CHECK(!memcmp(buf, "old", 3));
	rmdir(tmp);
	unlink(path);
	rmdir(dir);
}

static void put(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;
	for (i = 0; i < n; i++)
		fputc('a' + (int)(i % 26), f);
	fclose(f);
}

MM_TEST(read_whole_file_or_nothing)
{
	char dir[] = "/tmp/mm-file-XXXXXX", path[64];
	size_t n = 7;
	char *buf;
	long k;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f", dir);
	CHECK(mm_file_read(path, 1 << 20, &n) == NULL); /* absent */
	CHECK_EQ_INT((int)n, 0);
	put(path, 100000); /* needs several growths past the first 8 KiB */
	buf = mm_file_read(path, 1 << 20, &n);
	CHECK(buf != NULL);
	CHECK_EQ_INT((int)n, 100000);
	CHECK_EQ_INT(buf[99999], 'a' + 99999 % 26);
	CHECK_EQ_INT(buf[n], '\0');
	mm_free(buf);
	/* a bound stops the read once about max bytes are in: the caller sees n >= max */
	buf = mm_file_read(path, 16384, &n);
	CHECK(buf != NULL && n >= 16384 && n < 100000);
	mm_free(buf);
	/* memory failing at any growth gives NULL, never the first part of the file */
	for (k = 0; k < 8; k++) {
		mm_mem_fail_after(k);
		buf = mm_file_read(path, 1 << 20, &n);
		mm_mem_fail_after(-1);
		CHECK(buf == NULL || n == 100000);
		if (!buf)
			CHECK_EQ_INT((int)n, 0);
		mm_free(buf);
	}
	/* a folder opens but does not read */
	CHECK(mm_file_read(dir, 1 << 20, &n) == NULL);
	unlink(path);
	rmdir(dir);
}
