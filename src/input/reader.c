/* reader.c - file/stdin/gzip byte streams and bounded line framing. */
#include "input/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef MM_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "core/common.h"
#include "core/mem.h"

#define RAW_CAP (256u << 10)

static int read_full(int fd, unsigned char *buf, size_t want, size_t *got)
{
	size_t have = 0;
	while (have < want) {
		ssize_t k = read(fd, buf + have, want - have);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			break;
		have += (size_t)k;
	}
	*got = have;
	return 0;
}

int mm_reader_open(struct mm_reader *r, const char *path, uint64_t offset, struct mm_err *err)
{
	size_t got = 0;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->name = path;
	if (strcmp(path, "-") == 0) {
		r->fd = 0;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			return mm_err_set(err, MM_EIO, "%s: cannot open: %s", path, strerror(errno));
		r->owns_fd = 1;
#ifdef POSIX_FADV_SEQUENTIAL
		posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	}
	r->raw = mm_malloc(RAW_CAP);
	if (!r->raw) {
		rc = mm_err_set(err, MM_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	r->raw_cap = RAW_CAP;
	if (read_full(r->fd, r->raw, 2, &got) < 0) {
		rc = mm_err_set(err, MM_EIO, "%s: read: %s", path, strerror(errno));
		goto fail;
	}
	r->raw_read = got;
	if (got == 2 && r->raw[0] == 0x1f && r->raw[1] == 0x8b) {
		r->gz = 1;
		if (offset) {
			rc = mm_err_set(err, MM_EINVAL, "%s: cannot resume gzip at an offset", path);
			goto fail;
		}
#ifdef MM_HAVE_ISAL
		r->isal = mm_malloc(sizeof(*r->isal));
		if (!r->isal) {
			rc = mm_err_set(err, MM_ENOMEM, "%s: out of memory", path);
			goto fail;
		}
		isal_inflate_init(r->isal);
		r->isal->crc_flag = ISAL_GZIP;
		r->zs.next_in = r->raw;
		r->zs.avail_in = (uInt)got;
		return 0;
#endif
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
			rc = mm_err_set(err, MM_ENOMEM, "%s: inflateInit failed", path);
			goto fail;
		}
		r->zinit = 1;
		r->zs.next_in = r->raw;
		r->zs.avail_in = (uInt)got;
	} else if (offset) {
		if (lseek(r->fd, (off_t)offset, SEEK_SET) < 0) {
			rc = mm_err_set(err, MM_EIO, "%s: seek: %s", path, strerror(errno));
			goto fail;
		}
		r->raw_read = offset;
		r->zs.avail_in = 0;
	} else {
		/* plain: the two peeked bytes are the first output */
		r->zs.next_in = r->raw;
		r->zs.avail_in = (uInt)got;
	}
	if (got < 2 && !offset)
		r->eof = 1;
	return 0;
fail:
	mm_reader_close(r);
	return rc;
}

void mm_reader_close(struct mm_reader *r)
{
	if (r->zinit)
		inflateEnd(&r->zs);
	r->zinit = 0;
	mm_free(r->isal);
	r->isal = NULL;
	if (r->owns_fd && r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	mm_free(r->raw);
	r->raw = NULL;
}

/* Say how the stream ended and where ("NAME: offset N: reason"). */
static int report(struct mm_reader *r, struct mm_err *err)
{
	unsigned long long off = (unsigned long long)r->err_offset;

	switch (r->end) {
	case MM_READ_TRUNC:
		return mm_err_set(err, MM_ETRUNC, "%s: offset %llu: gzip stream ends early (truncated file)",
				  r->name, off);
	case MM_READ_IOERR:
		return mm_err_set(err, MM_EIO, "%s: offset %llu: read: %s", r->name, off,
				  strerror(r->err_errno));
	default:
		return mm_err_set(err, MM_EPARSE,
				  "%s: offset %llu: corrupt gzip data (%s; %llu bytes decompressed before it)",
				  r->name, off, r->err_why ? r->err_why : "inflate error",
				  (unsigned long long)r->out_total);
	}
}

/* The stream is damaged: record how and where (the compressed offset is
 * what inflate had consumed: bytes read minus those still waiting in the
 * window). The bytes this call produced before the damage are handed out
 * first (*got > 0, return 0) - dropping them would make a file corrupt
 * after its first megabyte look empty - and the error comes on the next
 * call; with nothing produced it comes now. why must be a static string. */
static int damaged(struct mm_reader *r, enum mm_read_end end, const char *why, const char *buf,
		   const char *next_out, size_t *got, struct mm_err *err)
{
	r->end = end;
	r->err_why = why;
	r->err_offset = end == MM_READ_IOERR ? r->raw_read : r->raw_read - r->zs.avail_in;
	*got = (size_t)(next_out - buf);
	if (*got)
		return 0;
	return report(r, err);
}

/* Read the next raw window. 0 (avail_in = 0 at the end of the file) or
 * MM_EIO with r->end set (nothing reported yet: the caller does). */
static int refill(struct mm_reader *r)
{
	ssize_t k;
	if (r->eof)
		return 0;
	for (;;) {
		k = read(r->fd, r->raw, r->raw_cap);
		if (k < 0 && errno == EINTR)
			continue;
		break;
	}
	if (k < 0) {
		r->err_errno = errno;
		return MM_EIO;
	}
	if (k == 0)
		r->eof = 1;
	r->raw_read += (uint64_t)k;
	r->zs.next_in = r->raw;
	r->zs.avail_in = (uInt)k;
	return 0;
}

#define IOERR(next_out) damaged(r, MM_READ_IOERR, NULL, buf, (const char *)(next_out), got, err)
#define TRUNC(next_out) damaged(r, MM_READ_TRUNC, NULL, buf, (const char *)(next_out), got, err)
#define CORRUPT(why, next_out) \
	damaged(r, MM_READ_CORRUPT, why, buf, (const char *)(next_out), got, err)

#ifdef MM_HAVE_ISAL
/* gzip through ISA-L: same contract as the zlib loop below (concatenated
 * members, damage reported after the good bytes, corrupt data and CRC
 * mismatches are MM_EPARSE). */
static int read_isal(struct mm_reader *r, char *buf, size_t cap, size_t *got, struct mm_err *err)
{
	struct inflate_state *st = r->isal;

	st->next_out = (uint8_t *)buf;
	st->avail_out = (uint32_t)MM_MIN(cap, (size_t)1 << 30);
	while (st->avail_out > 0) {
		int ir;
		uint32_t in_before, out_before;

		if (st->block_state == ISAL_BLOCK_FINISH) {
			/* end of a member: another may follow */
			if (r->zs.avail_in == 0 && refill(r))
				return IOERR(st->next_out);
			if (r->zs.avail_in == 0) {
				r->done = 1; /* clean end */
				break;
			}
			isal_inflate_reset(st);
			st->crc_flag = ISAL_GZIP;
		}
		if (r->zs.avail_in == 0) {
			if (refill(r))
				return IOERR(st->next_out);
			if (r->zs.avail_in == 0)
				return TRUNC(st->next_out);
		}
		st->next_in = r->zs.next_in;
		st->avail_in = r->zs.avail_in;
		in_before = st->avail_in;
		out_before = st->avail_out;
		ir = isal_inflate(st);
		r->zs.next_in = st->next_in;
		r->zs.avail_in = st->avail_in;
		if (ir < 0)
			return CORRUPT(ir == ISAL_INCORRECT_CHECKSUM ? "checksum mismatch"
				       : ir == ISAL_INVALID_WRAPPER  ? "bad gzip header"
								     : "bad deflate data",
				       st->next_out);
		if (st->block_state != ISAL_BLOCK_FINISH && st->avail_in == in_before &&
		    st->avail_out == out_before && r->zs.avail_in > 0)
			return CORRUPT("no progress", st->next_out);
	}
	*got = (size_t)((char *)st->next_out - buf);
	return 0;
}
#endif

static int read_inner(struct mm_reader *r, char *buf, size_t cap, size_t *got, struct mm_err *err)
{
	*got = 0;
	if (r->done || cap == 0)
		return 0;
	if (!r->gz) {
		if (r->zs.avail_in) {
			/* the peeked magic bytes first, then a normal read after them */
			size_t n = MM_MIN((size_t)r->zs.avail_in, cap), more = 0;
			int rc;
			memcpy(buf, r->zs.next_in, n);
			r->zs.next_in += n;
			r->zs.avail_in -= (uInt)n;
			if (n < cap && !r->eof && (rc = read_inner(r, buf + n, cap - n, &more, err)))
				return rc; /* cannot happen with n > 0: damage is deferred */
			*got = n + more;
			return 0;
		}
		if (r->eof) {
			r->done = 1;
			return 0;
		}
		for (;;) {
			ssize_t k = read(r->fd, buf, cap);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				r->err_errno = errno;
				return IOERR(buf);
			}
			if (k == 0) {
				r->eof = 1;
				r->done = 1;
				return 0;
			}
			r->raw_read += (uint64_t)k;
			*got = (size_t)k;
			return 0;
		}
	}
#ifdef MM_HAVE_ISAL
	if (r->isal)
		return read_isal(r, buf, cap, got, err);
#endif
	r->zs.next_out = (unsigned char *)buf;
	r->zs.avail_out = (uInt)MM_MIN(cap, (size_t)1 << 30);
	while (r->zs.avail_out > 0) {
		int zr;
		if (r->zs.avail_in == 0) {
			if (refill(r))
				return IOERR(r->zs.next_out);
			if (r->zs.avail_in == 0)
				return TRUNC(r->zs.next_out);
		}
		zr = inflate(&r->zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* another member may follow (concatenated gzip) */
			if (r->zs.avail_in == 0 && refill(r))
				return IOERR(r->zs.next_out);
			if (r->zs.avail_in == 0) {
				r->done = 1; /* clean end */
				break;
			}
			if (inflateReset(&r->zs) != Z_OK)
				return CORRUPT("bad gzip member", r->zs.next_out);
			continue;
		}
		if (zr == Z_BUF_ERROR)
			continue; /* needs input: loop refills */
		if (zr != Z_OK) /* zlib's messages are static strings */
			return CORRUPT(r->zs.msg ? r->zs.msg : "inflate error", r->zs.next_out);
	}
	*got = (size_t)((char *)r->zs.next_out - buf);
	return 0;
}

int mm_reader_read(struct mm_reader *r, char *buf, size_t cap, size_t *got, struct mm_err *err)
{
	int rc;

	*got = 0;
	if (r->end >= MM_READ_TRUNC)
		return report(r, err); /* sticky: damage is never turned into a clean end */
	rc = read_inner(r, buf, cap, got, err);
	if (rc == 0) {
		r->out_total += *got;
		if (*got == 0 && cap && r->end == MM_READ_MORE)
			r->end = MM_READ_EOF;
	}
	return rc;
}

uint64_t mm_reader_size_hint(const struct mm_reader *r)
{
	struct stat st;
	unsigned char t[4];
	uint64_t isize;

	if (r->fd < 0 || fstat(r->fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return 0;
	if (!r->gz)
		return (uint64_t)st.st_size;
	/* a member is at least 18 bytes (header 10, empty deflate 2, trailer 8) */
	if (st.st_size < 18 || pread(r->fd, t, 4, st.st_size - 4) != 4)
		return 0;
	isize = (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 | (uint64_t)t[3] << 24;
	/* deflate expands at most ~1032:1: a larger claim is not the size */
	return isize <= (uint64_t)st.st_size * 1032 ? isize : 0;
}

/* Read what is left of the stream into out. When the file says how big
 * the whole is (mm_reader_size_hint), out gets that room at once and the
 * reads fill it, so a document costs its size, not the next power of two
 * plus the copy of the last: a 9.4 MB CloudTrail .gz object held 16 MB and
 * an 8 MB freed block. A wrong hint only costs the growth it would have. */
#define SLURP_SLACK 4096	/* room past the hint: the read that sees the end */
int mm_reader_slurp(struct mm_reader *r, struct mm_buf *out, struct mm_err *err)
{
	uint64_t hint = mm_reader_size_hint(r), done = r->out_total;

	/* out holds what was read before (a peeked head): out->len of done */
	if (hint > done && hint - done < out->max && out->len < out->max)
		(void)mm_buf_reserve_exact(out, (size_t)(hint - done) + SLURP_SLACK);
	for (;;) {
		size_t got = 0, room = out->cap > out->len + 1 ? out->cap - out->len - 1 : 0;
		int rc;
		if (room < SLURP_SLACK && (rc = mm_buf_reserve(out, 1u << 20))) {
			if (rc == MM_ETOOBIG)
				return mm_err_set(err, rc, "%s: larger than %zu bytes", r->name, out->max);
			return mm_err_set(err, rc, "%s: out of memory", r->name);
		}
		room = out->cap - out->len - 1;
		rc = mm_reader_read(r, out->p + out->len, room, &got, err);
		out->len += got;
		out->p[out->len] = '\0';
		if (rc)
			return rc;
		if (got == 0)
			return 0;
	}
}

int mm_lines_init_buf(struct mm_lines *l, struct mm_reader *r, char *buf, size_t buf_cap,
		      size_t max_line, uint64_t start_offset, uint64_t start_line)
{
	memset(l, 0, sizeof(*l));
	if (buf_cap <= max_line || !buf)
		return MM_EINVAL;
	l->buf = buf;
	l->r = r;
	l->cap = buf_cap;
	l->max_line = max_line;
	l->offset = start_offset;
	l->line = start_line;
	return 0;
}

int mm_lines_init(struct mm_lines *l, struct mm_reader *r, size_t buf_cap, size_t max_line,
		  uint64_t start_offset, uint64_t start_line)
{
	char *buf;

	/* l is cleared on every path, so mm_lines_free is safe after a failure */
	memset(l, 0, sizeof(*l));
	if (buf_cap <= max_line)
		return MM_EINVAL;
	buf = mm_malloc(buf_cap);
	if (!buf)
		return MM_ENOMEM;
	/* the arguments were checked above: this cannot fail */
	mm_lines_init_buf(l, r, buf, buf_cap, max_line, start_offset, start_line);
	l->owns_buf = 1;
	return 0;
}

void mm_lines_free(struct mm_lines *l)
{
	if (l->owns_buf)
		mm_free(l->buf);
	l->buf = NULL;
}

/* Move unconsumed bytes to the front and read more. 0 or error. */
static int fill(struct mm_lines *l)
{
	size_t got = 0, old_end, old_nl = l->nl_end;
	int rc;
	if (l->eof || l->pending_err)
		return 0;
	l->nl_end = 0;
	if (l->start > 0) {
		memmove(l->buf, l->buf + l->start, l->end - l->start);
		l->offset += l->start;
		l->end -= l->start;
		old_nl = old_nl > l->start ? old_nl - l->start : 0;
		l->start = 0;
	}
	if (l->end == l->cap)
		return 0;
	old_end = l->end;
	/* at most 1 MiB a read: the buffer is sized for the longest record,
	 * but filling it whole would touch (and keep resident) all of it */
	rc = mm_reader_read(l->r, l->buf + l->end, MM_MIN(l->cap - l->end, (size_t)1 << 20), &got,
			    &l->perr);
	l->end += got;
	{
		/* where the buffer's last complete line ends: lines before it
		 * stay where they are until the next fill (mm_lines_ready).
		 * Only the bytes just read are searched: a line longer than a
		 * read (a one-line CloudTrail document) is not searched again
		 * at every fill */
		const char *z = l->end > old_end ? memrchr(l->buf + old_end, '\n', l->end - old_end)
						 : NULL;
		l->nl_end = z ? (size_t)(z - l->buf) + 1 : old_nl;
	}
	if (rc)
		l->pending_err = rc;
	else if (got == 0)
		l->eof = 1;
	return 0;
}

/* Newlines in p[0..n), counting no further than max. */
static int count_nl(const char *p, size_t n, int max)
{
	const char *end = p + n;
	int k = 0;
	while (k < max && p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

int mm_lines_peek(struct mm_lines *l, const char **p, size_t *n, struct mm_err *err)
{
	/* enough to see the first few lines (format detection looks past a
	 * damaged first one), or the buffer's worth; newlines are counted
	 * over each fill's new bytes only (seen: bytes past start counted) */
	size_t seen = 0;
	int k = 0;
	while (!l->eof && !l->pending_err && l->end < l->cap &&
	       (k += count_nl(l->buf + l->start + seen, l->end - l->start - seen,
			      MM_LINES_PEEK_LINES - k)) < MM_LINES_PEEK_LINES) {
		size_t before = l->end;
		seen = l->end - l->start;
		fill(l);
		if (l->end == before && !l->eof && !l->pending_err)
			break;
	}
	*p = l->buf + l->start;
	*n = l->end - l->start;
	return 0;
}

int mm_lines_peek_start(struct mm_lines *l, const char **p, size_t *n, struct mm_err *err)
{
	if (l->end == l->start)
		fill(l);
	*p = l->buf + l->start;
	*n = l->end - l->start;
	return 0;
}

int mm_lines_next(struct mm_lines *l, const char **line, size_t *n, struct mm_err *err)
{
	l->last_unterminated = 0;
	for (;;) {
		char *s = l->buf + l->start;
		size_t avail = l->end - l->start;
		char *nl = avail ? memchr(s, '\n', avail) : NULL;

		if (nl) {
			size_t len = (size_t)(nl - s);
			uint64_t at = l->offset + l->start;
			l->start += len + 1;
			if (l->skipping) {
				l->skipping = 0;
				continue;
			}
			l->line++;
			l->line_offset = at;
			if (len > l->max_line) {
				return mm_err_set(err, MM_ETOOBIG, "line longer than %zu bytes",
						  l->max_line);
			}
			if (len && s[len - 1] == '\r')
				len--;
			*line = s;
			*n = len;
			return 1;
		}
		if (avail > l->max_line) {
			/* over-long line: report once, drop until the next '\n' */
			if (!l->skipping) {
				l->line++;
				l->line_offset = l->offset + l->start;
				l->skipping = 1;
				l->start = l->end;
				return mm_err_set(err, MM_ETOOBIG, "line longer than %zu bytes",
						  l->max_line);
			}
			l->start = l->end;
		}
		if (l->eof || l->pending_err) {
			if (avail && !l->skipping) {
				/* last line without a newline */
				l->line++;
				l->line_offset = l->offset + l->start;
				l->start = l->end;
				l->last_unterminated = 1;
				if (avail && s[avail - 1] == '\r')
					avail--;
				*line = s;
				*n = avail;
				return 1;
			}
			l->start = l->end;
			if (l->pending_err) {
				int rc = l->pending_err;
				l->pending_err = 0;
				l->eof = 1;
				if (err)
					*err = l->perr;
				return rc;
			}
			return 0;
		}
		fill(l);
	}
}
