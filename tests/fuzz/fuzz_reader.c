/* fuzz_reader.c - libFuzzer target for the byte reader and line framing:
 * whatever bytes a file holds (plain, gzip, damaged gzip), reading must
 * end in a clean end or one located error, never hang or overrun, and
 * the end state must agree with the code returned. The input goes through
 * a memory file so the real open/read path is used. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "input/reader.h"

static int mfd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_reader r;
	struct mm_lines l;
	struct mm_err e;
	const char *line;
	size_t n;
	int rc, guard = 0;

	if (mfd < 0) {
		mfd = memfd_create("fuzz_reader", 0);
		if (mfd < 0)
			return 0;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	}
	if (ftruncate(mfd, 0) || pwrite(mfd, data, size, 0) != (ssize_t)size)
		return 0;
	if (mm_reader_open(&r, path, 0, &e))
		return 0;
	if (mm_lines_init(&l, &r, 4096, 1024, 0, 0)) {
		mm_reader_close(&r);
		return 0;
	}
	while ((rc = mm_lines_next(&l, &line, &n, &e)) != 0) {
		if (rc == 1 && n > 1024)
			abort();
		if (rc < 0 && rc != MM_ETOOBIG)
			break;
		if (++guard > 10000000)
			abort(); /* no progress */
	}
	if (rc == 0 && r.end != MM_READ_EOF)
		abort();
	if (rc == MM_ETRUNC && r.end != MM_READ_TRUNC)
		abort();
	if (rc == MM_EPARSE && r.end != MM_READ_CORRUPT)
		abort();
	if ((rc == MM_ETRUNC || rc == MM_EPARSE) && !strstr(e.msg, ": offset "))
		abort();
	mm_lines_free(&l);
	mm_reader_close(&r);
	return 0;
}
