/* walk.c - recursive, sorted, bounded directory expansion. */
#include "input/walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/mem.h"

void mm_filelist_init(struct mm_filelist *fl)
{
	fl->paths = NULL;
	fl->n = fl->cap = 0;
}

void mm_filelist_free(struct mm_filelist *fl)
{
	size_t i;
	for (i = 0; i < fl->n; i++)
		mm_free(fl->paths[i]);
	mm_free(fl->paths);
	mm_filelist_init(fl);
}

static int push(struct mm_filelist *fl, const char *path, struct mm_err *err)
{
	if (fl->n >= MM_WALK_MAX_FILES)
		return mm_err_set(err, MM_ETOOBIG, "more than %d input files", MM_WALK_MAX_FILES);
	if (fl->n == fl->cap) {
		size_t ncap = fl->cap ? fl->cap * 2 : 64;
		char **np = mm_realloc(fl->paths, ncap * sizeof(*np));
		if (!np)
			return mm_err_set(err, MM_ENOMEM, "out of memory listing files");
		fl->paths = np;
		fl->cap = ncap;
	}
	fl->paths[fl->n] = mm_strdup(path);
	if (!fl->paths[fl->n])
		return mm_err_set(err, MM_ENOMEM, "out of memory listing files");
	fl->n++;
	return 0;
}

static int walk_dir(struct mm_filelist *fl, const char *dir, int depth, struct mm_err *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char path[4096];
	int rc = 0;

	if (depth > MM_WALK_MAX_DEPTH)
		return mm_err_set(err, MM_ETOOBIG, "%s: folders nested deeper than %d", dir,
				  MM_WALK_MAX_DEPTH);
	d = opendir(dir);
	if (!d)
		return mm_err_set(err, MM_EIO, "%s: cannot open folder: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int n;
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			rc = mm_err_set(err, MM_ETOOBIG, "%s/%s: path too long", dir, de->d_name);
			goto out;
		}
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((rc = walk_dir(fl, path, depth + 1, err)))
				goto out;
		} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			if (S_ISLNK(st.st_mode) && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
				continue;
			if ((rc = push(fl, path, err)))
				goto out;
		}
	}
out:
	closedir(d);
	return rc;
}

/* Add an existing path already stat'ed into st. */
static int walk_add_real(struct mm_filelist *fl, const char *path, const struct stat *st,
			    struct mm_err *err)
{
	char clean[4096];
	size_t n;

	if (S_ISDIR(st->st_mode)) {
		n = strlen(path);
		if (n >= sizeof(clean))
			return mm_err_set(err, MM_ETOOBIG, "%s: path too long", path);
		memcpy(clean, path, n + 1);
		while (n > 1 && clean[n - 1] == '/')
			clean[--n] = '\0';
		return walk_dir(fl, clean, 0, err);
	}
	return push(fl, path, err);
}

int mm_walk_add(struct mm_filelist *fl, const char *path, struct mm_err *err)
{
	struct stat st;
	char *real;
	int rc;

	if (strcmp(path, "-") == 0)
		return push(fl, path, err);
	if (stat(path, &st) != 0)
		return mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
	/* Canonical absolute paths: the store remembers scanned files by
	 * path, so `logs/x.gz` today and `/srv/logs/x.gz` tomorrow must be
	 * the same file (and evidence names it unambiguously). */
	real = realpath(path, NULL);
	if (real) {
		rc = walk_add_real(fl, real, &st, err);
		free(real);
		return rc;
	}
	return walk_add_real(fl, path, &st, err);
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void mm_filelist_sort(struct mm_filelist *fl)
{
	size_t i, j = 0;
	if (fl->n < 2)
		return;
	qsort(fl->paths, fl->n, sizeof(char *), cmp_path);
	for (i = 0; i < fl->n; i++) {
		if (j > 0 && strcmp(fl->paths[j - 1], fl->paths[i]) == 0) {
			mm_free(fl->paths[i]);
			continue;
		}
		fl->paths[j++] = fl->paths[i];
	}
	fl->n = j;
}
