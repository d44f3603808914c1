/* file.h - replacing a file whole: what readers see under its name is the
 * old content or the new, never a part (temporary file, fsync, rename,
 * fsync of the folder); reading a small file whole. */
#ifndef MM_CORE_FILE_H
#define MM_CORE_FILE_H

#include <stddef.h>

#include "core/err.h"

/* Write the n bytes at p to tmp (created 0600, truncated; not a symlink),
 * fsync it, rename it to path and fsync path's folder. tmp must be in the
 * same folder as path. On failure tmp is removed, path is untouched and
 * MM_EIO is returned with err naming the file and the reason. */
int mm_file_replace(const char *path, const char *tmp, const void *p, size_t n, struct mm_err *err);

/* Read a file (no symlink at the last component; opened non-blocking, so
 * a FIFO reads as empty instead of hanging) into a new NUL-terminated
 * buffer the caller frees, stopping once about max bytes are in. NULL
 * with *n = 0 and errno set when absent or unreadable, and when memory or
 * a read fails part way: never a silently shortened content. */
char *mm_file_read(const char *path, size_t max, size_t *n);

#endif
