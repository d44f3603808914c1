/* reader.h - byte streams from files, stdin and gzip, and line framing.
 *
 * A reader yields the decompressed bytes of one source. gzip is detected
 * by its magic bytes, not the file name; concatenated gzip members are
 * read through. Inflate is ISA-L's when mamori is built with libisal
 * (2-3x zlib's speed: decompression dominates S3-delivered logs), zlib's
 * otherwise; both check the gzip CRC. A truncated .gz yields every byte before the damage and
 * then MM_ETRUNC; corrupt deflate data gives MM_EPARSE. Either way the
 * message is located: "NAME: offset N: reason", N being the compressed
 * (file) byte offset inflate had consumed up to when it stopped, and
 * r->end says how the stream ended (clean, truncated, corrupt), so a
 * caller can refuse to remember a damaged file as done. Plain files can
 * start at a byte offset (resuming a scan). */
#ifndef MM_READER_H
#define MM_READER_H

#include <stdint.h>
#include <zlib.h>

struct inflate_state;

#include "core/buf.h"
#include "core/err.h"

/* How a stream ended (struct mm_reader.end). Only MM_READ_EOF is a
 * complete file; the others mean bytes are missing. */
enum mm_read_end {
	MM_READ_MORE = 0,	/* not at the end yet */
	MM_READ_EOF,		/* clean end: every gzip member complete */
	MM_READ_TRUNC,		/* input ended inside a gzip member (MM_ETRUNC) */
	MM_READ_CORRUPT,	/* bad deflate data, header or CRC (MM_EPARSE) */
	MM_READ_IOERR		/* read(2) failed (MM_EIO) */
};

struct mm_reader {
	int fd;
	int owns_fd;
	int gz;			/* stream is gzip */
	int zinit;
	int eof;		/* no more raw input */
	int done;		/* clean end reached: no more output */
	z_stream zs;		/* zlib state; its next_in/avail_in are the raw window
				 * for the ISA-L path too */
	struct inflate_state *isal;	/* ISA-L inflate, when built with it */
	unsigned char *raw;	/* compressed input buffer */
	size_t raw_cap;
	uint64_t raw_read;	/* bytes read from the file (progress) */
	uint64_t out_total;	/* decompressed bytes handed out so far */
	enum mm_read_end end;	/* set once the stream has ended, well or not */
	uint64_t err_offset;	/* TRUNC/CORRUPT: compressed (file) byte offset
				 * inflate had consumed up to when it stopped */
	const char *err_why;	/* CORRUPT: static detail ("bad deflate data") */
	int err_errno;		/* IOERR: errno of the failed read */
	const char *name;	/* borrowed, for messages */
};

/* Open path ("-" = stdin) and position it at offset (plain files only;
 * a non-zero offset on gzip input is MM_EINVAL). Never reads more than
 * the magic bytes. */
int mm_reader_open(struct mm_reader *r, const char *path, uint64_t offset, struct mm_err *err);
/* Up to cap bytes into buf; *got = 0 means end of stream (r->end is
 * then MM_READ_EOF). Damage: the bytes inflated before it are returned
 * first, then MM_ETRUNC / MM_EPARSE / MM_EIO (again on every later call),
 * with r->end saying which and err "NAME: offset N: reason". */
int mm_reader_read(struct mm_reader *r, char *buf, size_t cap, size_t *got, struct mm_err *err);
void mm_reader_close(struct mm_reader *r);

/* Read a whole stream into out (bounded by out->max: MM_ETOOBIG past
 * it). On MM_ETRUNC out holds what was read. */
int mm_reader_slurp(struct mm_reader *r, struct mm_buf *out, struct mm_err *err);
/* The stream's whole decompressed size as the file says it, 0 when it
 * does not (stdin, a pipe): a plain file's size; a gzip file's ISIZE
 * trailer (the last member's size mod 2^32: a hint, exact for the one
 * member AWS writes), bounded by deflate's largest ratio. */
uint64_t mm_reader_size_hint(const struct mm_reader *r);

/* Line framing over a reader, with a hard line-length cap. */
struct mm_lines {
	struct mm_reader *r;
	char *buf;		/* owned */
	size_t cap, start, end;
	size_t max_line;
	uint64_t line;		/* number of the line last returned (1-based) */
	uint64_t offset;	/* stream offset of buf[start] */
	uint64_t line_offset;	/* stream offset of the line last returned */
	int eof;
	int pending_err;	/* reader error to report after the buffered lines */
	struct mm_err perr;
	int skipping;		/* dropping the rest of an over-long line */
	int owns_buf;
	size_t nl_end;		/* buf index past the last '\n' read in; 0: none */
	/* 1 when the line just returned was the stream's last bytes and no
	 * '\n' ended it: at a clean end (a line perhaps still being written)
	 * or just before a reader error (cut by the damage). A caller that
	 * cannot parse such a line should hold it back (resume at
	 * line_offset next time) rather than call it malformed. 0 for every
	 * other line. */
	int last_unterminated;
};

/* buf_cap must be > max_line. start_offset/start_line: where the reader
 * was positioned (0/0 for a fresh file). */
int mm_lines_init(struct mm_lines *l, struct mm_reader *r, size_t buf_cap, size_t max_line,
		  uint64_t start_offset, uint64_t start_line);
/* Same over a caller-owned buffer of buf_cap bytes (borrowed; reused
 * across files so the hot path does not allocate per file). */
int mm_lines_init_buf(struct mm_lines *l, struct mm_reader *r, char *buf, size_t buf_cap,
		      size_t max_line, uint64_t start_offset, uint64_t start_line);
void mm_lines_free(struct mm_lines *l);
/* 1 when the next mm_lines_next returns a line already in the buffer:
 * lines returned before it stay valid (nothing is moved or read) until
 * a call for which this is 0. Lets a caller hold a few lines at once. */
static inline int mm_lines_ready(const struct mm_lines *l)
{
	return l->start < l->nl_end;
}
/* 1 with the next line (without '\n' or '\r\n'; borrowed until the next
 * call), 0 at end of input, negative MM_E... on a problem:
 * MM_ETOOBIG = a line over max_line (skipped; l->line is its number; the
 * next call continues after it), MM_ETRUNC / MM_EPARSE / MM_EIO from the
 * reader (after all lines before the damage were returned; fatal;
 * l->r->end says which, l->r->err_offset where). A last line without
 * '\n' is returned as a line, with l->last_unterminated set. */
int mm_lines_next(struct mm_lines *l, const char **line, size_t *n, struct mm_err *err);
/* Bytes available at the start without consuming them (for format
 * detection): reads until MM_LINES_PEEK_LINES lines are in (or the
 * buffer is full, or the input ended). */
#define MM_LINES_PEEK_LINES 16
int mm_lines_peek(struct mm_lines *l, const char **p, size_t *n, struct mm_err *err);
/* The same after at most one read (none when bytes are buffered): for
 * shapes the first bytes decide (a {"Records": ...} CloudTrail document,
 * mapped whole afterwards), so the rest of a one-line document is not
 * read, scanned for newlines and dropped. mm_lines_peek may follow. */
int mm_lines_peek_start(struct mm_lines *l, const char **p, size_t *n, struct mm_err *err);

#endif
