/* mem.c - allocation funnel with fault injection for tests. */
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

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

void *mm_calloc(size_t count, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(count ? count : 1, size ? size : 1);
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
