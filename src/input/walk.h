/* walk.h - expand the paths given to `mamori scan` into a sorted list of
 * files: files as given, folders recursively (the S3 key layout nests
 * AWSLogs/<account>/<service>/<region>/YYYY/MM/DD), "-" for stdin.
 * Hidden entries (".name") inside folders are skipped; symlinked folders
 * are not followed (no cycles). Paths are made canonical (absolute, links
 * resolved) so the same file is the same file however it was named.
 * Sorted, so every run sees the same order. */
#ifndef MM_WALK_H
#define MM_WALK_H

#include <stddef.h>

#include "core/err.h"

#define MM_WALK_MAX_FILES 10000000
#define MM_WALK_MAX_DEPTH 32

struct mm_filelist {
	char **paths;	/* owned, each owned */
	size_t n, cap;
};

void mm_filelist_init(struct mm_filelist *fl);
void mm_filelist_free(struct mm_filelist *fl);
/* Add path (file, folder or "-"). A missing path is MM_EIO with the name
 * in err. */
int mm_walk_add(struct mm_filelist *fl, const char *path, struct mm_err *err);
/* Sort and drop duplicates. */
void mm_filelist_sort(struct mm_filelist *fl);

#endif
