/* mem.h - the allocation funnel.
 *
 * Every allocation in mamori goes through these so tests can make the Nth
 * allocation fail (mm_mem_fail_after) and check that every caller copes. */
#ifndef MM_MEM_H
#define MM_MEM_H

#include <stddef.h>

void *mm_malloc(size_t n);
void *mm_calloc(size_t count, size_t size);
void *mm_realloc(void *p, size_t n);
void mm_free(void *p);
/* Start the program again (execv of itself, argv as given) with glibc's
 * malloc backing its heaps by transparent huge pages, once; returns
 * when that is not possible or already done, or when MAMORI_THP is set
 * in the environment (MAMORI_THP=0 opts out). For commands that build
 * large per-entity tables (scan): see mem.c. */
void mm_mem_thp_restart(char **argv);
/* scan's restart, once its inputs are known: the scan tunables, and huge
 * pages unless the inputs are CloudTrail only (source MM_MEM_SRC_OTHER:
 * a non-flow --source; MM_MEM_SRC_FLOW; else AUTO: told by the names
 * of the paths and, breadth first, of a few thousand entries under
 * them). Needs mm_mem_set_argv (main's argv) first; returns when the
 * restart is not possible or already done. */
enum { MM_MEM_SRC_AUTO = 0, MM_MEM_SRC_FLOW, MM_MEM_SRC_OTHER };
void mm_mem_set_argv(char **argv);
void mm_mem_scan_restart(const char *const *paths, size_t npaths, int source);
/* NUL-terminated copy of n bytes of s; caller frees. NULL on failure. */
char *mm_strndup(const char *s, size_t n);
char *mm_strdup(const char *s);

/* Test hook: after n more successful allocations, every allocation fails.
 * n < 0 disables the fault (the default). Not thread-safe by design: set
 * it only from single-threaded tests. */
void mm_mem_fail_after(long n);

#endif
