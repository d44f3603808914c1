/* ingest.c - agents' uploads into followed spool files (ingest.h).
 *
 * The stream's state is the folder: the newest file's name holds its
 * base offset and its size the rest, so a restart (or a kill -9) needs
 * nothing else to answer the next request correctly. Every write is
 * fsynced (and the folder, when a file was created) before the 200:
 * an acknowledged byte is on disk. */
#include "serve/ingest.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/mem.h"

#define BASE_DIGITS 20
#define PATH_CAP 4400

enum { REJ_DENIED, REJ_BAD, REJ_OFFSET, REJ_FULL, REJ_ERROR, REJ_N };
static const char *const rej_name[REJ_N] = {"denied", "bad_request", "offset", "full", "error"};

struct hostctr {
	char host[MM_INGEST_HOST_MAX + 1];
	uint64_t bytes, lines, requests;
};

struct mm_ingest {
	char *dir;
	uint64_t max_bytes, seg;
	int max_files;
	int (*auth)(void *ctx, const struct mm_http_req *rq, char *type, size_t tcap, char *msg,
		    size_t mcap);
	void *auth_ctx;
	pthread_mutex_t mu;	/* everything below */
	uint64_t spool_bytes;
	int nhostdirs;
	struct hostctr ctr[MM_INGEST_METRIC_HOSTS], other;
	int nctr;
	uint64_t rej[REJ_N], dup_bytes;
};

/* ---- names -------------------------------------------------------------- */

int mm_ingest_name_ok(const char *s, size_t max, int is_source)
{
	static const char *const packed[] = {".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4"};
	size_t n, i;
	if (!s || !s[0] || s[0] == '.')
		return 0;
	n = strnlen(s, max + 1);
	if (n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return 0;
	}
	/* the follower would take a compressed-looking name for what it says */
	for (i = 0; is_source && i < MM_ARRAY_LEN(packed); i++) {
		size_t k = strlen(packed[i]);
		if (n >= k && !strcasecmp(s + n - k, packed[i]))
			return 0;
	}
	return 1;
}

int mm_ingest_parse_query(const struct mm_http_req *rq, struct mm_ingest_target *t,
			  struct mm_err *err)
{
	char off[32], val[512];
	size_t i, n;
	uint64_t v = 0;

	memset(t, 0, sizeof(*t));
	if (!mm_http_query(rq, "host", t->host, sizeof(t->host)) ||
	    !mm_ingest_name_ok(t->host, MM_INGEST_HOST_MAX, 0))
		return mm_err_set(err, MM_EINVAL,
				  "host must be 1..%d of A-Z a-z 0-9 . _ - (not starting with '.')",
				  MM_INGEST_HOST_MAX);
	if (!mm_http_query(rq, "source", t->source, sizeof(t->source)) ||
	    !mm_ingest_name_ok(t->source, MM_INGEST_SOURCE_MAX, 1))
		return mm_err_set(err, MM_EINVAL,
				  "source must be 1..%d of A-Z a-z 0-9 . _ - (not starting with '.', "
				  "not a compressed file's name)",
				  MM_INGEST_SOURCE_MAX);
	if (!mm_http_query(rq, "offset", off, sizeof(off)) || !(n = strlen(off)) || n > 19)
		return mm_err_set(err, MM_EINVAL, "offset must be a decimal byte offset");
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)off[i]))
			return mm_err_set(err, MM_EINVAL, "offset must be a decimal byte offset");
		v = v * 10 + (uint64_t)(off[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return mm_err_set(err, MM_EINVAL, "offset out of range");
	t->offset = v;
	if (mm_http_query(rq, "account", val, sizeof(val))) {
		if (!mm_place_account_ok(val, strlen(val)))
			return mm_err_set(err, MM_EINVAL, "account must be a 12-digit AWS account id");
		memcpy(t->place.account, val, strlen(val) + 1);
	}
	if (mm_http_query(rq, "region", val, sizeof(val))) {
		if (!mm_place_region_ok(val, strlen(val)))
			return mm_err_set(err, MM_EINVAL, "region must be a region name (1..%d of "
							  "a-z 0-9 -, like eu-west-1)",
					  MM_PLACE_REGION_MAX);
		memcpy(t->place.region, val, strlen(val) + 1);
	}
	return 0;
}

/* ---- the folder ----------------------------------------------------------- */

/* "<20 digits>.<source>" -> base; 1 when name is a file of source. */
static int seg_of(const char *name, const char *source, uint64_t *base)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < BASE_DIGITS; i++) {
		if (!isdigit((unsigned char)name[i]))
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (name[BASE_DIGITS] != '.' || (source && strcmp(name + BASE_DIGITS + 1, source)))
		return 0;
	*base = v;
	return 1;
}

struct stream {
	int host_dir;		/* the host's folder exists */
	int found;		/* the stream has a file */
	uint64_t base, size;	/* of its newest file */
	int nfiles;		/* files in the host's folder */
	char path[PATH_CAP];	/* the newest file */
};

static int stream_scan(struct mm_ingest *g, const struct mm_ingest_target *t, struct stream *s)
{
	char hdir[PATH_CAP];
	DIR *dp;
	struct dirent *de;
	memset(s, 0, sizeof(*s));
	snprintf(hdir, sizeof(hdir), "%s/%s", g->dir, t->host);
	if (!(dp = opendir(hdir)))
		return errno == ENOENT ? 0 : MM_EIO;
	s->host_dir = 1;
	while ((de = readdir(dp))) {
		uint64_t base;
		if (de->d_name[0] == '.')
			continue;
		s->nfiles++;
		if (!seg_of(de->d_name, t->source, &base) || (s->found && base < s->base))
			continue;
		s->found = 1;
		s->base = base;
		snprintf(s->path, sizeof(s->path), "%s/%s", hdir, de->d_name);
	}
	closedir(dp);
	if (s->found) {
		struct stat st;
		if (stat(s->path, &st))
			return MM_EIO;
		s->size = (uint64_t)st.st_size;
	}
	return 0;
}

/* A crash in the middle of a write can leave a partial last line, never
 * acknowledged: cut it off so the stream ends at a line boundary. */
static int repair_tail(struct mm_ingest *g, struct stream *s)
{
	char buf[65536], last;
	uint64_t pos = s->size, end = 0;
	int fd, rc = 0;
	if (!s->found || !s->size)
		return 0;
	if ((fd = open(s->path, O_RDWR | O_CLOEXEC)) < 0)
		return MM_EIO;
	if (pread(fd, &last, 1, (off_t)(s->size - 1)) != 1) {
		rc = MM_EIO;
		goto out;
	}
	if (last == '\n')
		goto out;
	while (pos > 0 && !end) {
		size_t k = pos > sizeof(buf) ? sizeof(buf) : (size_t)pos, i;
		if (pread(fd, buf, k, (off_t)(pos - k)) != (ssize_t)k) {
			rc = MM_EIO;
			goto out;
		}
		for (i = k; i > 0 && !end; i--)
			if (buf[i - 1] == '\n')
				end = pos - k + i;
		pos -= k;
	}
	if (ftruncate(fd, (off_t)end) || fdatasync(fd)) {
		rc = MM_EIO;
		goto out;
	}
	g->spool_bytes -= s->size - end <= g->spool_bytes ? s->size - end : g->spool_bytes;
	s->size = end;
out:
	close(fd);
	return rc;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static struct hostctr *ctr_of(struct mm_ingest *g, const char *host)
{
	int i;
	for (i = 0; i < g->nctr; i++)
		if (!strcmp(g->ctr[i].host, host))
			return &g->ctr[i];
	if (g->nctr < MM_INGEST_METRIC_HOSTS) {
		snprintf(g->ctr[g->nctr].host, sizeof(g->ctr[0].host), "%s", host);
		return &g->ctr[g->nctr++];
	}
	return &g->other;
}

/* Append [p, p+n) to s's stream (a new file when there is none or the
 * newest is full). Called locked. */
static int append(struct mm_ingest *g, const struct mm_ingest_target *t, struct stream *s,
		  uint64_t have, const char *p, size_t n, enum mm_ingest_status *status,
		  struct mm_err *err)
{
	char hdir[PATH_CAP], path[PATH_CAP];
	int fd = -1, created = 0, host_created = 0, rc = 0;
	uint64_t start = 0;
	size_t done = 0;

	snprintf(hdir, sizeof(hdir), "%s/%s", g->dir, t->host);
	if (g->spool_bytes + n > g->max_bytes) {
		*status = MM_INGEST_FULL;
		return 0;
	}
	if (!s->host_dir) {
		if (g->nhostdirs >= MM_INGEST_MAX_HOSTS) {
			*status = MM_INGEST_FULL;
			return 0;
		}
		/* the folder itself is made with the first upload */
		if (mkdir(g->dir, 0700) && errno != EEXIST)
			return mm_err_set(err, MM_EIO, "cannot create %s: %s", g->dir,
					  strerror(errno));
		if (mkdir(hdir, 0700) && errno != EEXIST)
			return mm_err_set(err, MM_EIO, "cannot create %s: %s", hdir, strerror(errno));
		g->nhostdirs++;
		host_created = 1;
	}
	/* the host's account and region, before any of its data, so the
	 * daemon never reads a line of it without them */
	if ((t->place.account[0] || t->place.region[0]) &&
	    (rc = mm_place_write_dir(hdir, &t->place, err)))
		return rc;
	if (s->found && s->size < g->seg) {
		snprintf(path, sizeof(path), "%s", s->path);
		start = s->size;
	} else {
		if (s->nfiles >= g->max_files) {
			*status = MM_INGEST_FULL;
			return 0;
		}
		snprintf(path, sizeof(path), "%s/%0*" PRIu64 ".%s", hdir, BASE_DIGITS, have,
			 t->source);
		created = 1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return mm_err_set(err, MM_EIO, "cannot open %s: %s", path, strerror(errno));
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = mm_err_set(err, MM_EIO, "cannot write %s: %s", path,
					strerror(w < 0 ? errno : EIO));
			break;
		}
		done += (size_t)w;
	}
	if (!rc && fdatasync(fd))
		rc = mm_err_set(err, MM_EIO, "cannot sync %s: %s", path, strerror(errno));
	if (rc) {
		/* nothing acknowledged: take back what part of it was written */
		if (ftruncate(fd, (off_t)start) == 0 && created)
			unlink(path);
		close(fd);
		return rc;
	}
	close(fd);
	if (created)
		fsync_dir(hdir);
	if (host_created)
		fsync_dir(g->dir);
	g->spool_bytes += n;
	*status = MM_INGEST_OK;
	return 0;
}

int mm_ingest_write(struct mm_ingest *g, const struct mm_ingest_target *t, const char *body,
		    size_t n, enum mm_ingest_status *status, uint64_t *have, uint64_t *written,
		    struct mm_err *err)
{
	struct stream *s;
	uint64_t h, skip;
	int rc;

	*status = MM_INGEST_OK;
	*have = 0;
	*written = 0;
	if (n && body[n - 1] != '\n')
		return mm_err_set(err, MM_EINVAL, "the body must be whole lines (end with a newline)");
	if (n > MM_INGEST_MAX_BODY)
		return mm_err_set(err, MM_EINVAL, "the body is over %u bytes", MM_INGEST_MAX_BODY);
	if (!(s = mm_malloc(sizeof(*s))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	pthread_mutex_lock(&g->mu);
	if ((rc = stream_scan(g, t, s)) || (rc = repair_tail(g, s))) {
		rc = mm_err_set(err, rc, "cannot read the spool of %s/%s: %s", t->host, t->source,
				strerror(errno));
		goto out;
	}
	h = s->found ? s->base + s->size : 0;
	*have = h;
	if (t->offset > h) {
		*status = MM_INGEST_GAP;
		goto out;
	}
	if (t->offset + n <= h) { /* a retry of what is already here */
		g->dup_bytes += n;
		goto out;
	}
	skip = h - t->offset;
	if (skip && body[skip - 1] != '\n') {
		*status = MM_INGEST_GAP; /* not the bytes we have: resume at h */
		goto out;
	}
	if ((rc = append(g, t, s, h, body + skip, n - (size_t)skip, status, err)))
		goto out;
	if (*status == MM_INGEST_OK) {
		struct hostctr *c = ctr_of(g, t->host);
		const char *p = body + skip, *e = body + n;
		g->dup_bytes += skip;
		*written = n - skip;
		*have = h + *written;
		c->bytes += *written;
		while (p < e && (p = memchr(p, '\n', (size_t)(e - p)))) {
			c->lines++;
			p++;
		}
	}
out:
	pthread_mutex_unlock(&g->mu);
	mm_free(s);
	return rc;
}

/* ---- HTTP ------------------------------------------------------------------ */

static void reject(struct mm_ingest *g, struct mm_http_resp *rs, int reason, int status,
		  const char *type, const char *msg)
{
	pthread_mutex_lock(&g->mu);
	g->rej[reason]++;
	pthread_mutex_unlock(&g->mu);
	rs->status = status;
	mm_buf_reset(&rs->body);
	mm_buf_addz(&rs->body, "{\"message\":");
	mm_buf_json_strz(&rs->body, msg);
	mm_buf_addz(&rs->body, ",\"__type\":");
	mm_buf_json_strz(&rs->body, type);
	mm_buf_addz(&rs->body, "}");
	mm_http_set_header(rs, "x-amzn-ErrorType", type);
}

void mm_ingest_handle(void *ctx, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	struct mm_ingest *g = ctx;
	struct mm_ingest_target t;
	enum mm_ingest_status st;
	struct mm_err err;
	uint64_t have, written;
	char type[128], msg[512];
	int deny;

	if (g->auth &&
	    (deny = g->auth(g->auth_ctx, rq, type, sizeof(type), msg, sizeof(msg))) != 0) {
		if (deny == 2)
			return reject(g, rs, REJ_ERROR, 500, "InternalServerErrorException", msg);
		return reject(g, rs, REJ_DENIED, 403, type, msg);
	}
	if (strcmp(rq->method, "POST"))
		return reject(g, rs, REJ_BAD, 405, "BadRequestException", "use POST");
	mm_err_clear(&err);
	if (mm_ingest_parse_query(rq, &t, &err))
		return reject(g, rs, REJ_BAD, 400, "BadRequestException", err.msg);
	if (mm_ingest_write(g, &t, rq->body, rq->body_len, &st, &have, &written, &err)) {
		if (err.code == MM_EINVAL)
			return reject(g, rs, REJ_BAD, 400, "BadRequestException", err.msg);
		return reject(g, rs, REJ_ERROR, 500, "InternalServerErrorException", err.msg);
	}
	pthread_mutex_lock(&g->mu);
	ctr_of(g, t.host)->requests++;
	pthread_mutex_unlock(&g->mu);
	if (st == MM_INGEST_FULL) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", MM_INGEST_RETRY_S);
		reject(g, rs, REJ_FULL, 503, "ServiceUnavailableException",
		      "the ingest spool is full; retry later");
		mm_http_set_header(rs, "Retry-After", ra);
		return;
	}
	if (st == MM_INGEST_GAP) {
		pthread_mutex_lock(&g->mu);
		g->rej[REJ_OFFSET]++;
		pthread_mutex_unlock(&g->mu);
		rs->status = 409;
		mm_buf_reset(&rs->body);
		mm_buf_printf(&rs->body,
			      "{\"message\":\"offset %" PRIu64 " does not continue the stream: resume at "
			      "%" PRIu64 "\",\"__type\":\"OffsetMismatchException\",\"offset\":%" PRIu64
			      "}",
			      t.offset, have, have);
		mm_http_set_header(rs, "x-amzn-ErrorType", "OffsetMismatchException");
		return;
	}
	rs->status = 200;
	mm_buf_printf(&rs->body, "{\"offset\":%" PRIu64 ",\"written\":%" PRIu64 "}", have, written);
}

/* ---- prune, metrics, open/close --------------------------------------------- */

struct segname {
	char name[256];
	uint64_t base;
};

static int segname_cmp(const void *a, const void *b)
{
	const struct segname *x = a, *y = b;
	int c = strcmp(x->name + BASE_DIGITS + 1, y->name + BASE_DIGITS + 1);
	if (c)
		return c;
	return x->base < y->base ? -1 : x->base > y->base;
}

static void prune_host(struct mm_ingest *g, const char *hdir,
		       int (*done)(void *ctx, const char *path, uint64_t size), void *ctx)
{
	struct segname *v;
	DIR *dp;
	struct dirent *de;
	size_t n = 0, i, cap = (size_t)g->max_files + 16;
	if (!(v = mm_calloc(cap, sizeof(*v))))
		return;
	if (!(dp = opendir(hdir))) {
		mm_free(v);
		return;
	}
	while ((de = readdir(dp)) && n < cap) {
		uint64_t base;
		if (strlen(de->d_name) >= sizeof(v[0].name) || !seg_of(de->d_name, NULL, &base))
			continue;
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		v[n].base = base;
		n++;
	}
	closedir(dp);
	qsort(v, n, sizeof(*v), segname_cmp);
	for (i = 0; i + 1 < n; i++) {
		char path[PATH_CAP];
		struct stat st;
		/* the newest file of a stream stays: it holds the stream's size */
		if (strcmp(v[i].name + BASE_DIGITS + 1, v[i + 1].name + BASE_DIGITS + 1))
			continue;
		snprintf(path, sizeof(path), "%s/%s", hdir, v[i].name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) || !done(ctx, path, (uint64_t)st.st_size))
			continue;
		if (unlink(path) == 0)
			g->spool_bytes -= (uint64_t)st.st_size <= g->spool_bytes ? (uint64_t)st.st_size
										 : g->spool_bytes;
	}
	mm_free(v);
}

void mm_ingest_prune(struct mm_ingest *g, int (*done)(void *ctx, const char *path, uint64_t size),
		     void *ctx)
{
	DIR *dp;
	struct dirent *de;
	char hdir[PATH_CAP];
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	if ((dp = opendir(g->dir))) {
		while ((de = readdir(dp))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(hdir, sizeof(hdir), "%s/%s", g->dir, de->d_name);
			prune_host(g, hdir, done, ctx);
		}
		closedir(dp);
	}
	pthread_mutex_unlock(&g->mu);
}

void mm_ingest_metrics(struct mm_ingest *g, struct mm_buf *b)
{
	int i;
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	mm_buf_addz(b, "# HELP mamori_ingest_bytes_total Bytes agents uploaded, by host.\n"
		       "# TYPE mamori_ingest_bytes_total counter\n");
	for (i = 0; i < g->nctr; i++)
		mm_buf_printf(b, "mamori_ingest_bytes_total{host=\"%s\"} %" PRIu64 "\n",
			      g->ctr[i].host, g->ctr[i].bytes);
	if (g->other.requests)
		mm_buf_printf(b, "mamori_ingest_bytes_total{host=\"_other\"} %" PRIu64 "\n",
			      g->other.bytes);
	mm_buf_addz(b, "# HELP mamori_ingest_lines_total Lines agents uploaded, by host.\n"
		       "# TYPE mamori_ingest_lines_total counter\n");
	for (i = 0; i < g->nctr; i++)
		mm_buf_printf(b, "mamori_ingest_lines_total{host=\"%s\"} %" PRIu64 "\n",
			      g->ctr[i].host, g->ctr[i].lines);
	if (g->other.requests)
		mm_buf_printf(b, "mamori_ingest_lines_total{host=\"_other\"} %" PRIu64 "\n",
			      g->other.lines);
	mm_buf_addz(b, "# HELP mamori_ingest_rejected_total Ingest requests refused, by reason.\n"
		       "# TYPE mamori_ingest_rejected_total counter\n");
	for (i = 0; i < REJ_N; i++)
		mm_buf_printf(b, "mamori_ingest_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
			      rej_name[i], g->rej[i]);
	mm_buf_printf(b,
		      "# HELP mamori_ingest_duplicate_bytes_total Bytes resent that the spool already "
		      "had (acknowledged, not written again).\n"
		      "# TYPE mamori_ingest_duplicate_bytes_total counter\n"
		      "mamori_ingest_duplicate_bytes_total %" PRIu64 "\n"
		      "# HELP mamori_ingest_spool_bytes Bytes of agent uploads waiting in the spool.\n"
		      "# TYPE mamori_ingest_spool_bytes gauge\n"
		      "mamori_ingest_spool_bytes %" PRIu64 "\n"
		      "# HELP mamori_ingest_spool_limit_bytes Bound of the agent spool (503 past it).\n"
		      "# TYPE mamori_ingest_spool_limit_bytes gauge\n"
		      "mamori_ingest_spool_limit_bytes %" PRIu64 "\n",
		      g->dup_bytes, g->spool_bytes, g->max_bytes);
	pthread_mutex_unlock(&g->mu);
}

uint64_t mm_ingest_spool_bytes(struct mm_ingest *g)
{
	uint64_t v;
	pthread_mutex_lock(&g->mu);
	v = g->spool_bytes;
	pthread_mutex_unlock(&g->mu);
	return v;
}

/* Sum of the files under dir/<host>/, and the number of host folders. */
static void measure(struct mm_ingest *g)
{
	DIR *dp, *hp;
	struct dirent *de, *fe;
	char hdir[PATH_CAP], path[PATH_CAP];
	struct stat st;
	if (!(dp = opendir(g->dir)))
		return;
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(hdir, sizeof(hdir), "%s/%s", g->dir, de->d_name);
		if (!(hp = opendir(hdir)))
			continue;
		g->nhostdirs++;
		while ((fe = readdir(hp))) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", hdir, fe->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				g->spool_bytes += (uint64_t)st.st_size;
		}
		closedir(hp);
	}
	closedir(dp);
}

int mm_ingest_open(struct mm_ingest **out, const struct mm_ingest_opts *o, struct mm_err *err)
{
	struct mm_ingest *g;
	*out = NULL;
	if (strlen(o->dir) > PATH_CAP - MM_INGEST_HOST_MAX - MM_INGEST_SOURCE_MAX - 32)
		return mm_err_set(err, MM_EINVAL, "%s: path too long", o->dir);
	if (!(g = mm_calloc(1, sizeof(*g))) || !(g->dir = mm_strdup(o->dir))) {
		mm_free(g);
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	}
	g->max_bytes = o->max_bytes ? o->max_bytes : MM_INGEST_MAX_BYTES;
	g->seg = o->segment_bytes ? o->segment_bytes : MM_INGEST_SEGMENT;
	g->max_files = o->max_host_files > 0 ? o->max_host_files : MM_INGEST_MAX_HOST_FILES;
	g->auth = o->auth;
	g->auth_ctx = o->auth_ctx;
	pthread_mutex_init(&g->mu, NULL);
	measure(g);
	*out = g;
	return 0;
}

void mm_ingest_close(struct mm_ingest *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->mu);
	mm_free(g->dir);
	mm_free(g);
}
