/* spool.c - syslog (UDP, TCP) and stdin into followed spool files. */
#include "serve/spool.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/mtime.h"
#include "serve/http.h"

#define MAX_TAGS 64
#define TAG_MAX 32
#define WAKE_MS 200	/* listener threads look at the stop flag this often */

struct sfile {
	char tag[TAG_MAX + 1];
	int fd;
	uint64_t size;
};

struct conn {
	int fd;
	char *buf;
	size_t len;
};

struct mm_spool {
	char *dir;
	pthread_mutex_t mu;	/* files, spool_bytes */
	struct sfile files[MAX_TAGS];
	int nfiles;
	uint64_t seq;		/* rotated file numbers */
	atomic_int stop;
	int udp_fd, tcp_fd, udp_port, tcp_port, stdin_on;
	pthread_t udp_th, tcp_th, stdin_th;
	int udp_started, tcp_started, stdin_started;
	atomic_ullong messages, bytes, dropped, cut, connections, stalls;
	uint64_t spool_bytes;
};

/* ---- syslog framing ------------------------------------------------------- */

static void tag_copy(const char *p, size_t n, char *tag, size_t cap)
{
	size_t i, k = 0;
	for (i = 0; i < n && k + 1 < cap && k < TAG_MAX; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			break;
		tag[k++] = (char)c;
	}
	tag[k] = '\0';
	/* "." or ".." would name the folder itself */
	if (!k || i < n || !strcmp(tag, ".") || !strcmp(tag, ".."))
		snprintf(tag, cap, "syslog");
}

/* The next space-delimited word of [*p, e); NULL at the end. */
static const char *word(const char **p, const char *e, size_t *n)
{
	const char *s = *p, *w;
	while (s < e && *s == ' ')
		s++;
	if (s >= e)
		return NULL;
	w = s;
	while (s < e && *s != ' ')
		s++;
	*n = (size_t)(s - w);
	*p = s;
	return w;
}

void mm_syslog_split(const char *frame, size_t n, char *tag, size_t cap, const char **msg,
		     size_t *mlen)
{
	const char *p = frame, *e = frame + n, *w;
	size_t wn, i;

	*msg = frame;
	*mlen = n;
	snprintf(tag, cap, "syslog");
	while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == '\0'))
		e--;
	*mlen = (size_t)(e - p);
	if (p < e && *p == '<') { /* <PRI> */
		for (i = 1; i < 5 && p + i < e && isdigit((unsigned char)p[i]); i++)
			;
		if (i == 1 || p + i >= e || p[i] != '>')
			return;
		p += i + 1;
	} else {
		return; /* no PRI: a bare line, taken whole */
	}
	if (p + 2 <= e && p[0] == '1' && p[1] == ' ') {
		/* RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP
		 * PROCID SP MSGID SP STRUCTURED-DATA [SP MSG] */
		const char *app = NULL;
		size_t an = 0;
		p += 2;
		for (i = 0; i < 5; i++) {
			if (!(w = word(&p, e, &wn)))
				return;
			if (i == 2) {
				app = w;
				an = wn;
			}
		}
		while (p < e && *p == ' ')
			p++;
		if (p < e && *p == '[') { /* SD-ELEMENTs, with escaped ']' inside values */
			int inq = 0;
			while (p < e) {
				if (*p == '\\' && p + 1 < e) {
					p += 2;
					continue;
				}
				if (*p == '"')
					inq = !inq;
				else if (*p == ']' && !inq && (p + 1 >= e || p[1] != '['))
					break;
				p++;
			}
			if (p < e)
				p++;
		} else if (p < e && *p == '-') {
			p++;
		}
		if (p < e && *p == ' ')
			p++;
		if (p + 3 <= e && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
		    (unsigned char)p[2] == 0xBF)
			p += 3; /* BOM */
		if (app && !(an == 1 && *app == '-'))
			tag_copy(app, an, tag, cap);
		*msg = p;
		*mlen = (size_t)(e - p);
		return;
	}
	/* RFC 3164: "Mmm dd hh:mm:ss HOST TAG[PID]: MSG" (the timestamp may be
	 * missing when a local client sends it bare) */
	if (e - p >= 16 && isalpha((unsigned char)p[0]) && p[3] == ' ' && p[6] == ' ' && p[9] == ':' &&
	    p[12] == ':' && p[15] == ' ') {
		p += 16;
		if (!word(&p, e, &wn)) /* HOST */
			return;
	}
	while (p < e && *p == ' ')
		p++;
	w = p;
	while (p < e && *p != ':' && *p != '[' && *p != ' ')
		p++;
	if (p < e && *p == '[')
		while (p < e && *p != ']')
			p++;
	if (p < e && *p == ']')
		p++;
	if (p < e && *p == ':') {
		const char *b = memchr(w, '[', (size_t)(p - w));
		tag_copy(w, (size_t)((b ? b : p) - w), tag, cap);
		p++;
		if (p < e && *p == ' ')
			p++;
		*msg = p;
		*mlen = (size_t)(e - p);
	} else {
		*msg = w;
		*mlen = (size_t)(e - w);
	}
}

/* ---- spool files ------------------------------------------------------------ */

static int open_tag(struct mm_spool *sp, struct sfile *f)
{
	char path[4200];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s.log", sp->dir, f->tag);
	f->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return MM_EIO;
	f->size = fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

/* Rename <tag>.log to <tag>.<seq>.log and start a new one. */
static void rotate(struct mm_spool *sp, struct sfile *f)
{
	char from[4200], to[4200];
	close(f->fd);
	snprintf(from, sizeof(from), "%s/%s.log", sp->dir, f->tag);
	snprintf(to, sizeof(to), "%s/%s.%013llu%03llu.log", sp->dir, f->tag,
		 (unsigned long long)mm_now_ms(), (unsigned long long)(sp->seq++ % 1000));
	/* if the rename fails, the file is reopened under its name and grows
	 * past the bound: nothing is lost */
	(void)rename(from, to);
	open_tag(sp, f);
}

/* Append msg as one line to tag's file. 0, 1 when the spool is full
 * (nothing written), negative on a write error. */
static int spool_write(struct mm_spool *sp, const char *tag, const char *msg, size_t n)
{
	struct sfile *f = NULL;
	struct iovec iov[2];
	char line[MM_SPOOL_MAX_MSG];
	size_t i;
	int k, rc = 0;

	if (n > MM_SPOOL_MAX_MSG - 1) {
		n = MM_SPOOL_MAX_MSG - 1;
		atomic_fetch_add(&sp->cut, 1);
	}
	/* one message, one line: a newline inside it would split a record */
	for (i = 0; i < n; i++)
		line[i] = msg[i] == '\n' || msg[i] == '\r' ? ' ' : msg[i];
	pthread_mutex_lock(&sp->mu);
	if (sp->spool_bytes + n + 1 > MM_SPOOL_MAX_BYTES) {
		pthread_mutex_unlock(&sp->mu);
		return 1;
	}
	for (k = 0; k < sp->nfiles; k++)
		if (!strcmp(sp->files[k].tag, tag))
			f = &sp->files[k];
	if (!f) {
		/* too many tags: the rest share "syslog" */
		if (sp->nfiles >= MAX_TAGS)
			for (k = 0, tag = "syslog"; k < sp->nfiles; k++)
				if (!strcmp(sp->files[k].tag, tag))
					f = &sp->files[k];
		if (!f && sp->nfiles < MAX_TAGS) {
			f = &sp->files[sp->nfiles];
			snprintf(f->tag, sizeof(f->tag), "%s", tag);
			if (open_tag(sp, f)) {
				pthread_mutex_unlock(&sp->mu);
				return MM_EIO;
			}
			sp->nfiles++;
		}
	}
	if (!f || f->fd < 0) {
		pthread_mutex_unlock(&sp->mu);
		return MM_EIO;
	}
	if (f->size && f->size + n + 1 > MM_SPOOL_ROTATE)
		rotate(sp, f);
	iov[0].iov_base = line;
	iov[0].iov_len = n;
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	if (writev(f->fd, iov, 2) != (ssize_t)(n + 1)) {
		rc = MM_EIO;
	} else {
		f->size += n + 1;
		sp->spool_bytes += n + 1;
		atomic_fetch_add(&sp->messages, 1);
		atomic_fetch_add(&sp->bytes, n + 1);
	}
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

static int spool_frame(struct mm_spool *sp, const char *frame, size_t n)
{
	char tag[TAG_MAX + 1];
	const char *msg;
	size_t mlen;
	mm_syslog_split(frame, n, tag, sizeof(tag), &msg, &mlen);
	if (!mlen)
		return 0;
	return spool_write(sp, tag, msg, mlen);
}

/* ---- listeners -------------------------------------------------------------- */

static int bind_sock(const char *addr, int type, int *port, struct mm_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int fd, one = 1, rc;
	if ((rc = mm_http_parse_addr(addr, &ss, &sl, err)))
		return rc;
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mm_err_set(err, MM_EIO, "%s: %s", addr, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || (type == SOCK_STREAM && listen(fd, 64))) {
		rc = mm_err_set(err, MM_EIO, "cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		return rc;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					 : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void *udp_main(void *arg)
{
	struct mm_spool *sp = arg;
	char *buf = mm_malloc(MM_SPOOL_MAX_MSG + 1);
	struct pollfd pfd = {sp->udp_fd, POLLIN, 0};
	while (buf && !atomic_load(&sp->stop)) {
		ssize_t n;
		if (poll(&pfd, 1, WAKE_MS) <= 0)
			continue;
		n = recv(sp->udp_fd, buf, MM_SPOOL_MAX_MSG, 0);
		if (n <= 0)
			continue;
		/* UDP has no back-pressure: a full spool drops, counted */
		if (spool_frame(sp, buf, (size_t)n))
			atomic_fetch_add(&sp->dropped, 1);
	}
	mm_free(buf);
	return NULL;
}

/* Take the complete frames out of c->buf (RFC 6587: octet counting
 * "LEN SP FRAME", else one frame a line). 1 while the spool is full
 * (what is left stays buffered), 0 otherwise. */
static int tcp_frames(struct mm_spool *sp, struct conn *c)
{
	size_t off = 0;
	int full = 0;
	while (off < c->len && !full) {
		const char *p = c->buf + off;
		size_t left = c->len - off, i = 0, flen, adv;
		while (i < left && i < 6 && isdigit((unsigned char)p[i]))
			i++;
		if (i > 0 && i < left && p[i] == ' ' && p[0] != '0') {
			flen = (size_t)strtoul(p, NULL, 10);
			if (flen > MM_SPOOL_MAX_MSG)
				flen = MM_SPOOL_MAX_MSG; /* cut; the rest is read as a new frame */
			if (left < i + 1 + flen)
				break;
			p += i + 1;
			adv = i + 1 + flen;
		} else {
			const char *nl = memchr(p, '\n', left);
			if (!nl) {
				if (left < MM_SPOOL_MAX_MSG)
					break;
				flen = MM_SPOOL_MAX_MSG; /* a line too long: cut */
				adv = flen;
			} else {
				flen = (size_t)(nl - p);
				adv = flen + 1;
			}
		}
		if (spool_frame(sp, p, flen) == 1) {
			full = 1;
			break;
		}
		off += adv;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return full;
}

static void *tcp_main(void *arg)
{
	struct mm_spool *sp = arg;
	struct conn cs[MM_SPOOL_MAX_CONN];
	struct pollfd pf[MM_SPOOL_MAX_CONN + 1];
	int nc = 0, i, full = 0;
	const size_t cap = 2 * MM_SPOOL_MAX_MSG + 16;

	while (!atomic_load(&sp->stop)) {
		pf[0].fd = sp->tcp_fd;
		pf[0].events = nc < MM_SPOOL_MAX_CONN ? POLLIN : 0;
		for (i = 0; i < nc; i++) {
			pf[i + 1].fd = cs[i].fd;
			/* a full spool stops reading: TCP's flow control slows the sender */
			pf[i + 1].events = full ? 0 : POLLIN;
		}
		if (poll(pf, (nfds_t)nc + 1, WAKE_MS) < 0)
			continue;
		full = 0;
		if (pf[0].revents & POLLIN) {
			int fd = accept4(sp->tcp_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0 && nc < MM_SPOOL_MAX_CONN && (cs[nc].buf = mm_malloc(cap))) {
				cs[nc].fd = fd;
				cs[nc].len = 0;
				nc++;
				atomic_fetch_add(&sp->connections, 1);
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (i = nc - 1; i >= 0; i--) {
			ssize_t n;
			if (!(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(cs[i].fd, cs[i].buf + cs[i].len, cap - cs[i].len);
			if (n > 0) {
				cs[i].len += (size_t)n;
				full |= tcp_frames(sp, &cs[i]);
				continue;
			}
			/* closed: a last line without a newline is still a message */
			if (cs[i].len && !tcp_frames(sp, &cs[i]) && cs[i].len)
				spool_frame(sp, cs[i].buf, cs[i].len);
			close(cs[i].fd);
			mm_free(cs[i].buf);
			cs[i] = cs[--nc];
		}
		if (full) {
			atomic_fetch_add(&sp->stalls, 1);
			for (i = 0; i < nc; i++)
				tcp_frames(sp, &cs[i]);
		}
	}
	for (i = 0; i < nc; i++) {
		close(cs[i].fd);
		mm_free(cs[i].buf);
	}
	return NULL;
}

static void *stdin_main(void *arg)
{
	struct mm_spool *sp = arg;
	struct conn c = {0, NULL, 0};
	struct pollfd pfd = {0, POLLIN, 0};
	const size_t cap = MM_SPOOL_MAX_MSG + 1;
	if (!(c.buf = mm_malloc(cap)))
		return NULL;
	while (!atomic_load(&sp->stop)) {
		ssize_t n;
		char *nl;
		if (poll(&pfd, 1, WAKE_MS) <= 0)
			continue;
		n = read(0, c.buf + c.len, cap - c.len);
		if (n <= 0)
			break; /* end of input */
		c.len += (size_t)n;
		while ((nl = memchr(c.buf, '\n', c.len)) || c.len == cap) {
			size_t l = nl ? (size_t)(nl - c.buf) : c.len;
			while (spool_write(sp, "stdin", c.buf, l) == 1 && !atomic_load(&sp->stop))
				usleep(WAKE_MS * 1000); /* full: wait, a pipe has back-pressure */
			l += nl ? 1 : 0;
			memmove(c.buf, c.buf + l, c.len - l);
			c.len -= l;
		}
	}
	if (c.len)
		spool_write(sp, "stdin", c.buf, c.len);
	mm_free(c.buf);
	return NULL;
}

/* ---- open/close, prune -------------------------------------------------------- */

static uint64_t dir_bytes(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	uint64_t total = 0;
	char path[4200];
	struct stat st;
	if (!dp)
		return 0;
	while ((de = readdir(dp)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				total += (uint64_t)st.st_size;
		}
	closedir(dp);
	return total;
}

int mm_spool_open(struct mm_spool **out, const struct mm_spool_opts *o, struct mm_err *err)
{
	struct mm_spool *sp;
	int rc = 0;

	*out = NULL;
	if (mkdir(o->dir, 0700) && errno != EEXIST)
		return mm_err_set(err, MM_EIO, "cannot create the spool folder %s: %s", o->dir,
				  strerror(errno));
	if (!(sp = mm_calloc(1, sizeof(*sp))) || !(sp->dir = mm_strdup(o->dir))) {
		mm_free(sp);
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&sp->mu, NULL);
	sp->udp_fd = sp->tcp_fd = -1;
	sp->spool_bytes = dir_bytes(o->dir);
	if (o->udp && (rc = sp->udp_fd = bind_sock(o->udp, SOCK_DGRAM, &sp->udp_port, err)) < 0)
		goto bad;
	if (o->tcp && (rc = sp->tcp_fd = bind_sock(o->tcp, SOCK_STREAM, &sp->tcp_port, err)) < 0)
		goto bad;
	rc = 0;
	if (sp->udp_fd >= 0 && !(sp->udp_started = !pthread_create(&sp->udp_th, NULL, udp_main, sp)))
		rc = mm_err_set(err, MM_ENOMEM, "cannot start a thread");
	if (!rc && sp->tcp_fd >= 0 &&
	    !(sp->tcp_started = !pthread_create(&sp->tcp_th, NULL, tcp_main, sp)))
		rc = mm_err_set(err, MM_ENOMEM, "cannot start a thread");
	if (!rc && o->stdin_src &&
	    !(sp->stdin_started = !pthread_create(&sp->stdin_th, NULL, stdin_main, sp)))
		rc = mm_err_set(err, MM_ENOMEM, "cannot start a thread");
	if (rc)
		goto bad;
	*out = sp;
	return 0;
bad:
	mm_spool_close(sp);
	return rc;
}

void mm_spool_close(struct mm_spool *sp)
{
	int i;
	if (!sp)
		return;
	atomic_store(&sp->stop, 1);
	if (sp->udp_started)
		pthread_join(sp->udp_th, NULL);
	if (sp->tcp_started)
		pthread_join(sp->tcp_th, NULL);
	if (sp->stdin_started)
		pthread_join(sp->stdin_th, NULL);
	if (sp->udp_fd >= 0)
		close(sp->udp_fd);
	if (sp->tcp_fd >= 0)
		close(sp->tcp_fd);
	for (i = 0; i < sp->nfiles; i++)
		if (sp->files[i].fd >= 0)
			close(sp->files[i].fd);
	pthread_mutex_destroy(&sp->mu);
	mm_free(sp->dir);
	mm_free(sp);
}

int mm_spool_udp_port(const struct mm_spool *sp)
{
	return sp ? sp->udp_port : 0;
}

int mm_spool_tcp_port(const struct mm_spool *sp)
{
	return sp ? sp->tcp_port : 0;
}

void mm_spool_counts(const struct mm_spool *sp, struct mm_spool_counts *c)
{
	memset(c, 0, sizeof(*c));
	if (!sp)
		return;
	c->messages = atomic_load(&sp->messages);
	c->bytes = atomic_load(&sp->bytes);
	c->dropped = atomic_load(&sp->dropped);
	c->cut = atomic_load(&sp->cut);
	c->connections = atomic_load(&sp->connections);
	c->stalls = atomic_load(&sp->stalls);
	pthread_mutex_lock((pthread_mutex_t *)&sp->mu);
	c->spool_bytes = sp->spool_bytes;
	pthread_mutex_unlock((pthread_mutex_t *)&sp->mu);
}

/* A rotated file's name: <tag>.<16 digits>.log */
static int rotated_name(const char *name)
{
	size_t n = strlen(name), i;
	if (n < 22 || strcmp(name + n - 4, ".log"))
		return 0;
	for (i = n - 20; i < n - 4; i++)
		if (!isdigit((unsigned char)name[i]))
			return 0;
	return name[n - 21] == '.';
}

void mm_spool_prune(struct mm_spool *sp, int (*done)(void *ctx, const char *path, uint64_t size),
		    void *ctx)
{
	DIR *dp;
	struct dirent *de;
	char path[4200];
	struct stat st;
	if (!sp || !(dp = opendir(sp->dir)))
		return;
	while ((de = readdir(dp))) {
		if (!rotated_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", sp->dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) || !done(ctx, path, (uint64_t)st.st_size))
			continue;
		if (unlink(path) == 0) {
			pthread_mutex_lock(&sp->mu);
			sp->spool_bytes -= (uint64_t)st.st_size <= sp->spool_bytes
						   ? (uint64_t)st.st_size : sp->spool_bytes;
			pthread_mutex_unlock(&sp->mu);
		}
	}
	closedir(dp);
}
