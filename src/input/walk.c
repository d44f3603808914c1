/* walk.c - recursive, sorted, bounded directory expansion that stays
 * inside the roots it was given (walk.h). */
#include "input/walk.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/mem.h"

struct mm__walk_id {
	uint64_t dev, ino;	/* 0/0: unknown (stdin) */
};

void mm_filelist_init(struct mm_filelist *fl)
{
	memset(fl, 0, sizeof(*fl));
}

void mm_filelist_free(struct mm_filelist *fl)
{
	size_t i;
	for (i = 0; i < fl->n; i++)
		mm_free(fl->paths[i]);
	for (i = 0; i < fl->nroots; i++)
		mm_free(fl->roots[i]);
	mm_free(fl->paths);
	mm_free(fl->root_of);
	mm_free(fl->ids);
	mm_free(fl->roots);
	mm_filelist_init(fl);
}

static int grow(void **p, size_t ncap, size_t sz)
{
	void *np = mm_realloc(*p, ncap * sz);
	if (!np)
		return MM_ENOMEM;
	*p = np;
	return 0;
}

static int push(struct mm_filelist *fl, const char *path, size_t root, const struct stat *st,
		struct mm_err *err)
{
	if (fl->n >= MM_WALK_MAX_FILES)
		return mm_err_set(err, MM_ETOOBIG, "more than %d input files", MM_WALK_MAX_FILES);
	if (fl->n == fl->cap) {
		size_t ncap = fl->cap ? fl->cap * 2 : 64;
		if (grow((void **)&fl->paths, ncap, sizeof(*fl->paths)) ||
		    grow((void **)&fl->root_of, ncap, sizeof(*fl->root_of)) ||
		    grow((void **)&fl->ids, ncap, sizeof(*fl->ids)))
			return mm_err_set(err, MM_ENOMEM, "out of memory listing files");
		fl->cap = ncap;
	}
	fl->paths[fl->n] = mm_strdup(path);
	if (!fl->paths[fl->n])
		return mm_err_set(err, MM_ENOMEM, "out of memory listing files");
	fl->root_of[fl->n] = root;
	fl->ids[fl->n].dev = st ? (uint64_t)st->st_dev : 0;
	fl->ids[fl->n].ino = st ? (uint64_t)st->st_ino : 0;
	fl->n++;
	return 0;
}

/* Is canonical path p at or under root r? */
static int under(const char *p, const char *r)
{
	size_t n = strlen(r);
	if (n == 1 && r[0] == '/')
		return p[0] == '/';
	return strncmp(p, r, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* The deepest root that holds canonical path p, or MM_WALK_NO_ROOT. */
static size_t root_holding(const struct mm_filelist *fl, const char *p)
{
	size_t i, best = MM_WALK_NO_ROOT, bestn = 0;
	for (i = 0; i < fl->nroots; i++) {
		size_t n = strlen(fl->roots[i]);
		if (under(p, fl->roots[i]) && (best == MM_WALK_NO_ROOT || n > bestn)) {
			best = i;
			bestn = n;
		}
	}
	return best;
}

/* Register canonical path real as a root (once); its index in *idx. */
static int add_root(struct mm_filelist *fl, const char *real, size_t *idx, struct mm_err *err)
{
	size_t i;
	for (i = 0; i < fl->nroots; i++) {
		if (strcmp(fl->roots[i], real) == 0) {
			*idx = i;
			return 0;
		}
	}
	if (fl->nroots >= MM_WALK_MAX_ROOTS)
		return mm_err_set(err, MM_ETOOBIG, "more than %d paths to scan", MM_WALK_MAX_ROOTS);
	if (fl->nroots == fl->caproots) {
		size_t ncap = fl->caproots ? fl->caproots * 2 : 8;
		if (grow((void **)&fl->roots, ncap, sizeof(*fl->roots)))
			return mm_err_set(err, MM_ENOMEM, "out of memory listing files");
		fl->caproots = ncap;
	}
	fl->roots[fl->nroots] = mm_strdup(real);
	if (!fl->roots[fl->nroots])
		return mm_err_set(err, MM_ENOMEM, "out of memory listing files");
	*idx = fl->nroots++;
	return 0;
}

/* A link found inside a walked folder: list its target if that is a
 * regular file inside some root; otherwise say why it is skipped.
 * Linked folders are never descended (see walk.h). */
static int walk_link(struct mm_filelist *fl, const char *path, struct mm_err *err)
{
	struct stat st;
	char *real = NULL;
	size_t root;
	int rc = 0;

	if (stat(path, &st) != 0 || !(real = realpath(path, NULL))) {
		fl->links_skipped++;
		mm_warn("%s: broken link (or a loop of links); skipped", path);
		goto out;
	}
	root = root_holding(fl, real);
	if (root == MM_WALK_NO_ROOT) {
		fl->links_skipped++;
		mm_warn("%s: link to %s, outside the paths given; skipped", path, real);
		goto out;
	}
	if (S_ISDIR(st.st_mode))
		goto out; /* inside a root: walked as itself (no loops) */
	if (!S_ISREG(st.st_mode)) {
		fl->links_skipped++;
		goto out;
	}
	rc = push(fl, real, root, &st, err);
out:
	free(real);
	return rc;
}

static int walk_dir(struct mm_filelist *fl, const char *dir, size_t root, int depth,
		    struct mm_err *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char path[PATH_MAX];
	int rc = 0;

	if (depth > MM_WALK_MAX_DEPTH) {
		fl->unreadable++;
		mm_warn("%s: folders nested deeper than %d; skipped", dir, MM_WALK_MAX_DEPTH);
		return 0;
	}
	d = opendir(dir);
	if (!d) {
		fl->unreadable++;
		mm_warn("%s: cannot open folder: %s; skipped", dir, strerror(errno));
		return 0;
	}
	for (;;) {
		struct stat st;
		int n;

		errno = 0;
		if (!(de = readdir(d))) {
			if (errno) {
				fl->unreadable++;
				mm_warn("%s: cannot read folder: %s; the rest of it is skipped", dir,
					strerror(errno));
			}
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			fl->unreadable++;
			mm_warn("%s/%s: path too long; skipped", dir, de->d_name);
			continue;
		}
		if (lstat(path, &st) != 0)
			continue; /* gone since readdir */
		if (S_ISDIR(st.st_mode)) {
			if ((rc = walk_dir(fl, path, root, depth + 1, err)))
				goto out;
		} else if (S_ISLNK(st.st_mode)) {
			if ((rc = walk_link(fl, path, err)))
				goto out;
		} else if (S_ISREG(st.st_mode)) {
			if ((rc = push(fl, path, root, &st, err)))
				goto out;
		}
	}
out:
	closedir(d);
	return rc;
}

/* Canonicalise path and register it as a root. *real gets the canonical
 * path (caller frees), st its stat. */
static int root_of_path(struct mm_filelist *fl, const char *path, char **real, struct stat *st,
			size_t *idx, struct mm_err *err)
{
	*real = NULL;
	if (stat(path, st) != 0)
		return mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
	/* Canonical absolute paths: the store remembers scanned files by
	 * path, so `logs/x.gz` today and `/srv/logs/x.gz` tomorrow must be
	 * the same file (and evidence names it unambiguously). */
	*real = realpath(path, NULL);
	if (!*real)
		return mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
	return add_root(fl, *real, idx, err);
}

static int walk_root(struct mm_filelist *fl, const char *real, const struct stat *st, size_t idx,
		     struct mm_err *err)
{
	if (S_ISDIR(st->st_mode))
		return walk_dir(fl, real, idx, 0, err);
	return push(fl, real, idx, st, err);
}

int mm_walk_add(struct mm_filelist *fl, const char *path, struct mm_err *err)
{
	struct stat st;
	char *real;
	size_t idx;
	int rc;

	if (strcmp(path, "-") == 0)
		return push(fl, path, MM_WALK_NO_ROOT, NULL, err);
	rc = root_of_path(fl, path, &real, &st, &idx, err);
	if (!rc)
		rc = walk_root(fl, real, &st, idx, err);
	free(real);
	return rc;
}

int mm_walk_paths(struct mm_filelist *fl, const char *const *paths, size_t n,
		  struct mm_err *err)
{
	size_t i, idx;
	struct stat st;
	char *real;
	int rc = 0;

	/* every root first: a link is inside the roots if inside any of them */
	for (i = 0; i < n && !rc; i++) {
		if (strcmp(paths[i], "-") == 0)
			continue;
		rc = root_of_path(fl, paths[i], &real, &st, &idx, err);
		free(real);
	}
	for (i = 0; i < n && !rc; i++) {
		if (strcmp(paths[i], "-") == 0) {
			rc = push(fl, "-", MM_WALK_NO_ROOT, NULL, err);
			continue;
		}
		rc = root_of_path(fl, paths[i], &real, &st, &idx, err);
		if (!rc)
			rc = walk_root(fl, real, &st, idx, err);
		free(real);
	}
	return rc;
}

struct ent {
	char *path;
	size_t root;
	struct mm__walk_id id;
	size_t pos;	/* rank in path order */
	int drop;
};

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path, ((const struct ent *)b)->path);
}

static int cmp_id(const void *a, const void *b)
{
	const struct ent *x = *(const struct ent *const *)a, *y = *(const struct ent *const *)b;
	if (x->id.dev != y->id.dev)
		return x->id.dev < y->id.dev ? -1 : 1;
	if (x->id.ino != y->id.ino)
		return x->id.ino < y->id.ino ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void mm_filelist_sort(struct mm_filelist *fl)
{
	struct ent *e;
	struct ent **byid = NULL;
	size_t i, j = 0;

	if (fl->n < 2)
		return;
	e = mm_malloc(fl->n * sizeof(*e));
	if (!e)
		return; /* unsorted but complete: still correct, just not ordered */
	for (i = 0; i < fl->n; i++) {
		e[i].path = fl->paths[i];
		e[i].root = fl->root_of[i];
		e[i].id = fl->ids[i];
		e[i].drop = 0;
	}
	qsort(e, fl->n, sizeof(*e), cmp_path);
	for (i = 0; i < fl->n; i++) {
		e[i].pos = i;
		if (i > 0 && strcmp(e[i - 1].path, e[i].path) == 0)
			e[i].drop = 1;
	}
	/* the same file under two names (hard link, bind mount): keep the
	 * first name in path order */
	byid = mm_malloc(fl->n * sizeof(*byid));
	if (byid) {
		for (i = 0; i < fl->n; i++)
			byid[i] = &e[i];
		qsort(byid, fl->n, sizeof(*byid), cmp_id);
		for (i = 1; i < fl->n; i++) {
			if (byid[i]->id.ino == 0 && byid[i]->id.dev == 0)
				continue;
			if (byid[i]->id.dev == byid[i - 1]->id.dev &&
			    byid[i]->id.ino == byid[i - 1]->id.ino)
				byid[i]->drop = 1;
		}
		mm_free(byid);
	}
	for (i = 0; i < fl->n; i++) {
		if (e[i].drop) {
			mm_free(e[i].path);
			continue;
		}
		fl->paths[j] = e[i].path;
		fl->root_of[j] = e[i].root;
		fl->ids[j] = e[i].id;
		j++;
	}
	fl->n = j;
	mm_free(e);
}

const char *mm_filelist_rel(const struct mm_filelist *fl, size_t i)
{
	const char *p = fl->paths[i], *r, *slash;
	size_t n;

	if (fl->root_of[i] == MM_WALK_NO_ROOT || fl->root_of[i] >= fl->nroots)
		return p;
	r = fl->roots[fl->root_of[i]];
	n = strlen(r);
	if (strcmp(p, r) == 0) {
		slash = strrchr(p, '/');
		return slash && slash[1] ? slash + 1 : p;
	}
	if (n == 1 && r[0] == '/')
		return p + 1;
	if (strncmp(p, r, n) == 0 && p[n] == '/')
		return p + n + 1;
	return p;
}
