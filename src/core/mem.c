/* mem.c - allocation funnel with fault injection for tests. */
#include "core/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The per-entity state of the flow detectors is many small blocks
 * (tables that start tiny and grow per ENI) carved by glibc out of its
 * heaps, which only glibc can ask to be backed by huge pages, and only
 * when its tunable is set at start: so the process is started again
 * once with it. Measured on the 50k-ENI flow bench file (env var set by
 * hand, same binary): scan phase 5.6 -> 4.6 s, sys 2.8 -> 2.2 s. */
#define THP_TUNABLE "glibc.malloc.hugetlb=1"
#define THP_MARK "MAMORI_THP"
void mm_mem_thp_restart(char **argv)
{
	const char *t = getenv("GLIBC_TUNABLES"), *m = getenv(THP_MARK);
	char exe[4096], env[1024];
	ssize_t n;
	const char *base;

	/* MAMORI_THP set: already restarted, or "0" to opt out */
	if (m || (t && strstr(t, "glibc.malloc.hugetlb")))
		return;
	/* only our own binary (not a debugger or valgrind running it) */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (strncmp(base, "mamori", 6))
		return;
	if (t && *t)
		snprintf(env, sizeof(env), "%s:%s", t, THP_TUNABLE);
	else
		snprintf(env, sizeof(env), "%s", THP_TUNABLE);
	if (strlen(env) >= sizeof(env) - 1 || setenv(THP_MARK, "1", 1) ||
	    setenv("GLIBC_TUNABLES", env, 1))
		return;
	execv(exe, argv);
	/* exec failed: carry on as we are */
}

static long fail_after = -1;

static int should_fail(void)
{
	if (fail_after < 0)
		return 0;
	if (fail_after == 0)
		return 1;
	fail_after--;
	return 0;
}

void mm_mem_fail_after(long n)
{
	fail_after = n;
}

void *mm_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

/* A big zeroed block is zeroed by writing it here rather than by
 * calloc: fresh pages from the kernel that a hash table first reads
 * (probing empty slots) are mapped to the shared zero page, and the
 * first write then copies it and flushes the TLBs of every core the
 * process runs on (an interprocessor interrupt each; ~3% of the CPU of
 * a 50k-ENI flow scan, in the tables' growth). Writing first takes one
 * plain fault per page instead. */
#define CALLOC_WRITE_MIN ((size_t)64 << 10)

void *mm_calloc(size_t count, size_t size)
{
	size_t n;
	void *p;

	if (should_fail())
		return NULL;
	if (!count || !size || count > SIZE_MAX / size || (n = count * size) < CALLOC_WRITE_MIN)
		return calloc(count ? count : 1, size ? size : 1);
	/* written, not left to the kernel's zero pages: see CALLOC_WRITE_MIN */
	if ((p = malloc(n)))
		memset(p, 0, n);
	return p;
}

void *mm_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void mm_free(void *p)
{
	free(p);
}

char *mm_strndup(const char *s, size_t n)
{
	char *d = mm_malloc(n + 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *mm_strdup(const char *s)
{
	return mm_strndup(s, strlen(s));
}
