/* file.c - replacing a file whole, reading a small one (see file.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/mem.h"

int mm_file_replace(const char *path, const char *tmp, const void *p, size_t n, struct mm_err *err)
{
	char dir[PATH_MAX], *slash;
	size_t off = 0;
	int fd, dfd, rc = 0;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return mm_err_set(err, MM_EIO, "%s: %s", tmp, strerror(errno));
	while (off < n) {
		ssize_t w = write(fd, (const char *)p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = mm_err_set(err, MM_EIO, "%s: %s", tmp, w < 0 ? strerror(errno) : "short write");
			break;
		}
		off += (size_t)w;
	}
	if (!rc && fsync(fd))
		rc = mm_err_set(err, MM_EIO, "%s: %s", tmp, strerror(errno));
	close(fd);
	if (!rc && rename(tmp, path))
		rc = mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
	if (rc) {
		unlink(tmp);
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0'; /* a file in / */
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

char *mm_file_read(const char *path, size_t max, size_t *n)
{
	size_t cap = 8192, got = 0;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), e = 0;
	*n = 0;
	if (fd < 0)
		return NULL;
	if (!(buf = mm_malloc(cap + 1))) {
		e = ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r;
		if (got == cap) {
			char *nb;
			if (cap >= max)
				break;
			if (!(nb = mm_realloc(buf, cap * 2 + 1))) {
				e = ENOMEM; /* never a silently shortened file */
				break;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			e = errno; /* EISDIR, EIO: not the file's content */
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (e) {
		mm_free(buf);
		buf = NULL;
	} else {
		buf[got] = '\0';
		*n = got;
	}
out:
	close(fd);
	if (e)
		errno = e;
	return buf;
}
