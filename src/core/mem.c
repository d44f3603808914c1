/* mem.c - allocation funnel with fault injection for tests. */
#include "core/mem.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

/* The per-entity state of the flow detectors is many small blocks
 * (tables that start tiny and grow per ENI) carved by glibc out of its
 * heaps, which only glibc can ask to be backed by huge pages, and only
 * when its tunable is set at start: so the process is started again
 * once with it. Measured on the 50k-ENI flow bench file (env var set by
 * hand, same binary): scan phase 5.6 -> 4.6 s, sys 2.8 -> 2.2 s. On
 * CloudTrail they cost: every 2 MiB of heap touched is resident (peak
 * RSS on the CloudTrail bench 108 vs 99 MB) and faulting one in zeroes
 * it whole. So scan decides once it knows its inputs: huge pages unless
 * they are CloudTrail only (by --source, else by their names). */
#define THP_TUNABLE "glibc.malloc.hugetlb=1"
/* scan only: one arena for every thread, big blocks (up to 32 MiB) from
 * it rather than from mmap, and its top kept (256 MiB) instead of given
 * back. glibc advises huge pages for the main arena's heap, not for the
 * heaps of the per-thread arenas nor for the 1-4 MiB blocks it maps
 * (finding chunks, hash tables as they double): those took a 4 KiB page
 * fault each, ~10 us apiece on a VM. Workers allocate seldom (state
 * grows by doubling), so sharing the arena's lock costs little.
 * Measured on 2M records of the flow bench file (4 files, every
 * detector, both threads, alternating runs): minor faults 57k -> 2.2k,
 * CPU (user+sys) 5.05-6.33 -> 3.34-4.65 s, peak RSS 286 -> 306 MB; on
 * the 10M-record file faults 110k -> 2.6k. */
#define SCAN_TUNABLES                                                      \
	"glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432:" \
	"glibc.malloc.trim_threshold=268435456"
#define THP_MARK "MAMORI_THP"

/* argv as main got it, for a restart decided later (scan). */
static char **main_argv;

void mm_mem_set_argv(char **argv)
{
	main_argv = argv;
}

/* Start argv again with GLIBC_TUNABLES set (huge pages when thp, the
 * scan tunables when scan), once. */
static void restart(char **argv, int thp, int scan)
{
	const char *t = getenv("GLIBC_TUNABLES"), *m = getenv(THP_MARK);
	char exe[4096], env[1024];
	ssize_t n;
	const char *base;

	/* MAMORI_THP set: already restarted, or "0" to opt out */
	if (!argv || m || (t && strstr(t, "glibc.malloc.hugetlb")))
		return;
	/* only our own binary (not a debugger or valgrind running it) */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (strncmp(base, "mamori", 6))
		return;
	snprintf(env, sizeof(env), "%s%s%s%s%s", t && *t ? t : "", t && *t ? ":" : "",
		 thp ? THP_TUNABLE : "", thp && scan ? ":" : "", scan ? SCAN_TUNABLES : "");
	if (!env[0] || strlen(env) >= sizeof(env) - 1 || setenv(THP_MARK, "1", 1) ||
	    setenv("GLIBC_TUNABLES", env, 1))
		return;
	execv(exe, argv);
	/* exec failed: carry on as we are */
}

void mm_mem_thp_restart(char **argv)
{
	restart(argv, 1, argv[1] && strcmp(argv[1], "scan") == 0);
}

/* Does a name say what log it holds? FLOW when it may be flow logs
 * (any "flow": the default, huge pages), CT for CloudTrail's. */
enum { IN_FLOW = 1, IN_CT = 2 };

static int name_kind(const char *name)
{
	if (strcasestr(name, "flow"))
		return IN_FLOW;
	if (strcasestr(name, "cloudtrail"))
		return IN_CT;
	return 0;
}

static int skip_name(const char *name)
{
	size_t n = strlen(name);
	/* rule files (--rules) name what they watch, not what is read */
	return name[0] == '.' || (n > 4 && !strcmp(name + n - 4, ".yml")) ||
	       (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

/* What the inputs are, from their names and those of what folders hold
 * (breadth first, a bounded look: AWS's own layout names the service a
 * few levels down). IN_FLOW as soon as one may be flow logs. */
#define SNIFF_ENTRIES 4096
#define SNIFF_DIRS 256

static int sniff(const char *const *paths, size_t npaths)
{
	char *q[SNIFF_DIRS];
	size_t qh = 0, qt = 0, i;
	int seen = 0, budget = SNIFF_ENTRIES;
	struct stat st;

	for (i = 0; i < npaths && !(seen & IN_FLOW); i++) {
		if (!strcmp(paths[i], "-") || stat(paths[i], &st)) {
			seen |= IN_FLOW; /* stdin or unknown: as before */
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			const char *b = strrchr(paths[i], '/');
			seen |= name_kind(b ? b + 1 : paths[i]);
		} else {
			seen |= name_kind(paths[i]);
			if (qt < SNIFF_DIRS && (q[qt] = mm_strdup(paths[i])))
				qt++;
		}
	}
	while (qh < qt && budget > 0 && !(seen & IN_FLOW)) {
		DIR *d = opendir(q[qh]);
		struct dirent *de;
		while (d && budget > 0 && !(seen & IN_FLOW) && (de = readdir(d))) {
			char sub[4096];
			budget--;
			if (skip_name(de->d_name))
				continue;
			seen |= name_kind(de->d_name);
			if (qt >= SNIFF_DIRS ||
			    snprintf(sub, sizeof(sub), "%s/%s", q[qh], de->d_name) >= (int)sizeof(sub))
				continue;
			if ((de->d_type == DT_DIR ||
			     (de->d_type == DT_UNKNOWN && !stat(sub, &st) && S_ISDIR(st.st_mode))) &&
			    (q[qt] = mm_strdup(sub)))
				qt++;
		}
		if (d)
			closedir(d);
		qh++;
	}
	for (i = 0; i < qt; i++)
		mm_free(q[i]);
	return seen;
}

int mm__mem_want_thp(const char *const *paths, size_t npaths);
int mm__mem_want_thp(const char *const *paths, size_t npaths)
{
	return sniff(paths, npaths) != IN_CT;
}

void mm_mem_scan_restart(const char *const *paths, size_t npaths, int source)
{
	const char *t = getenv("GLIBC_TUNABLES");
	int thp;
	if (!main_argv || getenv(THP_MARK)) {
		mm_debug("malloc: huge pages %s (GLIBC_TUNABLES=%s)",
			 t && strstr(t, "glibc.malloc.hugetlb=1") ? "on" : "off", t ? t : "");
		return;
	}
	/* huge pages unless the inputs are CloudTrail only */
	if (source == MM_MEM_SRC_FLOW)
		thp = 1;
	else if (source == MM_MEM_SRC_OTHER)
		thp = 0;
	else
		thp = mm__mem_want_thp(paths, npaths);
	restart(main_argv, thp, 1);
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
