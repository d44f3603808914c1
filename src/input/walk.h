/* walk.h - expand the paths given to `mamori scan` into a sorted list of
 * files: files as given, folders recursively (the S3 key layout nests
 * AWSLogs/<account>/<service>/<region>/YYYY/MM/DD), "-" for stdin.
 *
 * - Paths are canonical (absolute, links resolved) so the same file is
 *   the same file however it was named; a file reached by two names (a
 *   link, a hard link, a bind mount) is listed once (dedupe by canonical
 *   path, then by (device, inode)).
 * - Hidden entries (".name") inside folders are skipped.
 * - Links inside a scanned folder are never followed out of the roots
 *   (the paths given): a link to a file inside some root is listed under
 *   the target's canonical path; a link pointing outside every root, or
 *   dangling, is skipped with a warning (counted in links_skipped).
 *   Linked folders are not descended: one inside the roots is walked as
 *   itself, one outside is skipped with a warning. So link loops cannot
 *   happen.
 * - A folder that cannot be opened or read, or that is nested deeper
 *   than MM_WALK_MAX_DEPTH, is a warning and the rest is walked; such
 *   inputs are counted in `unreadable` (a caller's --strict fails on it).
 * - Each file knows the root it was found under (root_of), so a caller
 *   can name it relative to that root (mm_filelist_rel).
 * - Sorted (mm_filelist_sort), so every run sees the same order. */
#ifndef MM_WALK_H
#define MM_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MM_WALK_MAX_FILES 10000000
#define MM_WALK_MAX_DEPTH 32
#define MM_WALK_MAX_ROOTS 4096
#define MM_WALK_NO_ROOT ((size_t)-1)	/* root_of for "-" (stdin) */

struct mm__walk_id;

struct mm_filelist {
	char **paths;		/* owned, each owned: canonical paths (or "-") */
	size_t *root_of;	/* owned: roots[] index of each path, MM_WALK_NO_ROOT for "-" */
	size_t n, cap;
	/* Canonical path of each root given, in the order given (duplicates
	 * dropped): a folder, or a file given directly (then the file is its
	 * own root). Owned, each owned. */
	char **roots;
	size_t nroots, caproots;
	size_t unreadable;	/* folders that could not be opened/read or were too deep */
	size_t links_skipped;	/* links out of every root, dangling, or to non-files */
	struct mm__walk_id *ids;	/* internal: (dev, inode) per path */
};

/* Never allocates. */
void mm_filelist_init(struct mm_filelist *fl);
void mm_filelist_free(struct mm_filelist *fl);
/* Add every path of paths[0..n) as a root first, then walk them: a link
 * is judged against all of them ("inside some root"). This is what the
 * scan should call. A missing path is MM_EIO with its name in err (the
 * walk stops); unreadable subfolders are warnings (fl->unreadable). Out
 * of memory / MM_ETOOBIG past MM_WALK_MAX_FILES are errors. Call
 * mm_filelist_sort afterwards. */
int mm_walk_paths(struct mm_filelist *fl, const char *const *paths, size_t n,
		  struct mm_err *err);
/* Add one path (file, folder or "-") as a root and walk it; links are
 * judged against the roots added so far. */
int mm_walk_add(struct mm_filelist *fl, const char *path, struct mm_err *err);
/* Sort, drop duplicates (same canonical path, or same device and inode:
 * the first path in sort order stays). paths and root_of stay parallel. */
void mm_filelist_sort(struct mm_filelist *fl);
/* paths[i] relative to its root: the part after "ROOT/" for a folder
 * root, the base name for a file given directly, "-" for stdin. Borrowed
 * (points into paths[i]). */
const char *mm_filelist_rel(const struct mm_filelist *fl, size_t i);

#endif
