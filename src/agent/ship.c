/* ship.c - upload new whole lines of local files to `mamori serve`
 * (ship.h; the server side is serve/ingest.c). libcurl for HTTP, the
 * signer of serve/sigv4.c for SigV4, the files themselves as the queue,
 * a small state file for the acknowledged offsets. */
#include "agent/ship.h"

#include <ctype.h>
#include <dirent.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "serve/ingest.h"
#include "serve/sigv4.h"

#define STATE_MAGIC "mamori-ship-state 1"
#define REPLY_MAX 65536
#define URL_MAX 2048
#define MAX_RESYNC 4	/* 409s followed per file per cycle */

struct sfile {
	char *path;
	char source[MM_INGEST_SOURCE_MAX + 1];
	struct mm_ship_pos pos;
	uint64_t dev, ino;	/* what pos.foff counts in; 0/0: not yet seen */
	int fd;			/* that file, open (it may have been renamed away) */
	int binary;		/* compressed: never shipped (warned once) */
};

struct mm_ship {
	char *server, *key_id, *secret, *region, *state_path;
	char host[MM_INGEST_HOST_MAX + 1];
	struct mm_place place;	/* account=, region= of every request */
	char authority[512];	/* Host header */
	char base_path[512];	/* the server URL's path, without a trailing '/' */
	size_t chunk;
	uint64_t spool_cap;
	int timeout_ms;
	CURL *curl;
	struct sfile files[MM_SHIP_MAX_FILES];
	int nfiles;
	int backoff_ms, retry_after_ms;
	int cap_warned;
	char *buf;		/* one chunk */
	struct mm_ship_counts c;
};

/* ---- small helpers ---------------------------------------------------------- */

static void sanitise(const char *in, char *out, size_t max)
{
	size_t i, k = 0;
	for (i = 0; in[i] && k < max; i++) {
		unsigned char c = (unsigned char)in[i];
		out[k++] = isalnum(c) || c == '.' || c == '_' || c == '-' ? (char)c : '_';
	}
	out[k] = '\0';
	if (out[0] == '.')
		out[0] = '_';
	if (!out[0])
		snprintf(out, max + 1, "unnamed");
}

int mm_ship_parse_reply(const char *body, size_t n, uint64_t *off)
{
	static const char key[] = "\"offset\"";
	size_t i, k = sizeof(key) - 1;
	for (i = 0; i + k <= n; i++) {
		size_t j;
		uint64_t v = 0;
		int digits = 0;
		if (memcmp(body + i, key, k))
			continue;
		j = i + k;
		while (j < n && (body[j] == ' ' || body[j] == '\t'))
			j++;
		if (j >= n || body[j] != ':')
			continue;
		j++;
		while (j < n && (body[j] == ' ' || body[j] == '\t'))
			j++;
		while (j < n && isdigit((unsigned char)body[j]) && digits < 19) {
			v = v * 10 + (uint64_t)(body[j] - '0');
			j++;
			digits++;
		}
		if (!digits || (j < n && isdigit((unsigned char)body[j])))
			return MM_EPARSE;
		*off = v;
		return 0;
	}
	return MM_EPARSE;
}

int mm_ship_resync(struct mm_ship_pos *p, uint64_t want, int fd, uint64_t len)
{
	uint64_t cand;
	char prev;
	/* the file offset the server's offset corresponds to */
	if (want >= p->stream) {
		if (want - p->stream > len - (p->foff <= len ? p->foff : len))
			goto rebase;
		cand = p->foff + (want - p->stream);
	} else {
		if (p->stream - want > p->foff)
			goto rebase;
		cand = p->foff - (p->stream - want);
	}
	if (cand > len)
		goto rebase;
	if (cand > 0 && (fd < 0 || pread(fd, &prev, 1, (off_t)(cand - 1)) != 1 || prev != '\n'))
		goto rebase;
	p->foff = cand;
	p->stream = want;
	return 1;
rebase:
	/* not a point of ours: our next byte goes where the server is */
	p->stream = want;
	return 0;
}

int mm_ship_load_key(const char *file, char *id, size_t idcap, char *secret, size_t scap,
		     struct mm_err *err)
{
	FILE *f;
	char line[1024];
	int got_id = 0, got_secret = 0;
	if (!file) {
		const char *a = getenv("AWS_ACCESS_KEY_ID"), *b = getenv("AWS_SECRET_ACCESS_KEY");
		if (!a || !*a || !b || !*b)
			return mm_err_set(err, MM_ENOTFOUND,
					  "no key: give --key-file FILE (the lines `mamori keys "
					  "create` prints) or set AWS_ACCESS_KEY_ID and "
					  "AWS_SECRET_ACCESS_KEY");
		snprintf(id, idcap, "%s", a);
		snprintf(secret, scap, "%s", b);
		return 0;
	}
	if (!(f = fopen(file, "r")))
		return mm_err_set(err, MM_EIO, "cannot read %s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *v, *e;
		while (isspace((unsigned char)*p))
			p++;
		if (!strncmp(p, "export ", 7))
			p += 7;
		if (*p == '#' || !(v = strchr(p, '=')))
			continue;
		*v++ = '\0';
		e = v + strlen(v);
		while (e > v && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (e - v >= 2 && (*v == '"' || *v == '\'') && e[-1] == *v) {
			e[-1] = '\0';
			v++;
		}
		if (!strcmp(p, "AWS_ACCESS_KEY_ID")) {
			snprintf(id, idcap, "%s", v);
			got_id = 1;
		} else if (!strcmp(p, "AWS_SECRET_ACCESS_KEY")) {
			snprintf(secret, scap, "%s", v);
			got_secret = 1;
		}
	}
	fclose(f);
	if (!got_id || !got_secret)
		return mm_err_set(err, MM_ENOTFOUND,
				  "%s: want the lines AWS_ACCESS_KEY_ID=... and "
				  "AWS_SECRET_ACCESS_KEY=... (as `mamori keys create` prints)",
				  file);
	return 0;
}

/* ---- state file ----------------------------------------------------------- */

static struct sfile *find(struct mm_ship *s, const char *path)
{
	int i;
	for (i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i].path, path))
			return &s->files[i];
	return NULL;
}

/* Entries of the state file are kept for files not added yet (the
 * caller adds them after open): parked here. */
struct parked {
	char *path;
	char source[MM_INGEST_SOURCE_MAX + 1];
	struct mm_ship_pos pos;
	uint64_t dev, ino;
};

static int save_state(struct mm_ship *s, struct mm_err *err)
{
	char tmp[4200];
	FILE *f;
	int i, fd;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->state_path);
	if (!(f = fopen(tmp, "w")))
		return mm_err_set(err, MM_EIO, "cannot write %s: %s", tmp, strerror(errno));
	fprintf(f, "%s\n", STATE_MAGIC);
	for (i = 0; i < s->nfiles; i++) {
		const struct sfile *x = &s->files[i];
		fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s %s\n", x->pos.stream,
			x->pos.foff, x->dev, x->ino, x->source, x->path);
	}
	fflush(f);
	fd = fileno(f);
	if (ferror(f) || fsync(fd)) {
		fclose(f);
		unlink(tmp);
		return mm_err_set(err, MM_EIO, "cannot write %s: %s", tmp, strerror(errno));
	}
	if (fclose(f) || rename(tmp, s->state_path)) {
		unlink(tmp);
		return mm_err_set(err, MM_EIO, "cannot write %s: %s", s->state_path,
				  strerror(errno));
	}
	return 0;
}

static int load_state(struct mm_ship *s, struct parked **out, int *nout, struct mm_err *err)
{
	FILE *f;
	char line[4400];
	int n = 0, lineno = 0;
	struct parked *v;
	*out = NULL;
	*nout = 0;
	if (!(f = fopen(s->state_path, "r")))
		return errno == ENOENT ? 0
				       : mm_err_set(err, MM_EIO, "cannot read %s: %s", s->state_path,
						    strerror(errno));
	if (!(v = mm_calloc(MM_SHIP_MAX_FILES, sizeof(*v)))) {
		fclose(f);
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b, c, d;
		char src[MM_INGEST_SOURCE_MAX + 1];
		int used = 0;
		size_t l = strlen(line);
		lineno++;
		if (l && line[l - 1] == '\n')
			line[--l] = '\0';
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC))
				goto bad;
			continue;
		}
		if (n >= MM_SHIP_MAX_FILES ||
		    sscanf(line, "%llu %llu %llu %llu %128s %n", &a, &b, &c, &d, src, &used) != 5 ||
		    !used || !line[used] || !mm_ingest_name_ok(src, MM_INGEST_SOURCE_MAX, 1))
			goto bad;
		if (!(v[n].path = mm_strdup(line + used))) {
			fclose(f);
			*out = v;
			*nout = n;
			return mm_err_set(err, MM_ENOMEM, "out of memory");
		}
		v[n].pos.stream = a;
		v[n].pos.foff = b;
		v[n].dev = c;
		v[n].ino = d;
		snprintf(v[n].source, sizeof(v[n].source), "%s", src);
		n++;
	}
	fclose(f);
	*out = v;
	*nout = n;
	return 0;
bad:
	fclose(f);
	*out = v;
	*nout = n;
	return mm_err_set(err, MM_EPARSE, "%s:%d: not a mamori ship state file (remove it to ship "
			  "every file again from its start)", s->state_path, lineno);
}

/* ---- open / add --------------------------------------------------------------- */

/* the state file's entries live beside the handle until added */
struct holder {
	struct mm_ship s;
	struct parked *parked;
	int nparked;
};

int mm_ship_open(struct mm_ship **out, const struct mm_ship_opts *o, struct mm_err *err)
{
	struct holder *h;
	struct mm_ship *s;
	const char *p, *slash;
	char hn[256];
	int rc;

	*out = NULL;
	if (!o->server || !o->key_id || !o->secret || !o->state_path)
		return mm_err_set(err, MM_EINVAL, "ship: server, key and state file are required");
	if (strncmp(o->server, "http://", 7) && strncmp(o->server, "https://", 8))
		return mm_err_set(err, MM_EINVAL, "%s: the server is an http:// or https:// URL",
				  o->server);
	if (strlen(o->server) > 1024)
		return mm_err_set(err, MM_EINVAL, "server URL too long");
	if (!(h = mm_calloc(1, sizeof(*h))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	s = &h->s;
	s->server = mm_strdup(o->server);
	s->key_id = mm_strdup(o->key_id);
	s->secret = mm_strdup(o->secret);
	s->region = mm_strdup(o->region ? o->region : "us-east-1");
	s->state_path = mm_strdup(o->state_path);
	s->chunk = o->chunk ? o->chunk : MM_SHIP_CHUNK;
	if (s->chunk > MM_INGEST_MAX_BODY)
		s->chunk = MM_INGEST_MAX_BODY;
	s->spool_cap = o->spool_cap ? o->spool_cap : MM_SHIP_SPOOL_CAP;
	s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : MM_SHIP_TIMEOUT_MS;
	s->buf = mm_malloc(s->chunk);
	if (!s->server || !s->key_id || !s->secret || !s->region || !s->state_path || !s->buf) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto bad;
	}
	/* the URL's authority (the Host header signed) and path prefix */
	p = strstr(s->server, "://") + 3;
	slash = strchr(p, '/');
	snprintf(s->authority, sizeof(s->authority), "%.*s",
		 (int)(slash ? (size_t)(slash - p) : strlen(p)), p);
	snprintf(s->base_path, sizeof(s->base_path), "%s", slash ? slash : "");
	while (s->base_path[0] && s->base_path[strlen(s->base_path) - 1] == '/')
		s->base_path[strlen(s->base_path) - 1] = '\0';
	if (!s->authority[0] || strchr(s->base_path, '?')) {
		rc = mm_err_set(err, MM_EINVAL, "%s: not a server URL", s->server);
		goto bad;
	}
	if (o->host) {
		if (!mm_ingest_name_ok(o->host, MM_INGEST_HOST_MAX, 0)) {
			rc = mm_err_set(err, MM_EINVAL,
					"host name '%s': 1..%d of A-Z a-z 0-9 . _ - (not starting "
					"with '.')",
					o->host, MM_INGEST_HOST_MAX);
			goto bad;
		}
		snprintf(s->host, sizeof(s->host), "%s", o->host);
	} else {
		if (gethostname(hn, sizeof(hn)))
			snprintf(hn, sizeof(hn), "localhost");
		hn[sizeof(hn) - 1] = '\0';
		sanitise(hn, s->host, MM_INGEST_HOST_MAX);
	}
	if (o->account && !mm_place_account_ok(o->account, strlen(o->account))) {
		rc = mm_err_set(err, MM_EINVAL, "account '%s': not a 12-digit AWS account id",
				o->account);
		goto bad;
	}
	if (o->host_region && !mm_place_region_ok(o->host_region, strlen(o->host_region))) {
		rc = mm_err_set(err, MM_EINVAL, "region '%s': not a region name (like eu-west-1)",
				o->host_region);
		goto bad;
	}
	snprintf(s->place.account, sizeof(s->place.account), "%s", o->account ? o->account : "");
	snprintf(s->place.region, sizeof(s->place.region), "%s",
		 o->host_region ? o->host_region : "");
	if (!(s->curl = curl_easy_init())) {
		rc = mm_err_set(err, MM_ENOMEM, "cannot start libcurl");
		goto bad;
	}
	if ((rc = load_state(s, &h->parked, &h->nparked, err)))
		goto bad;
	*out = s;
	return 0;
bad:
	mm_ship_close(s);
	return rc;
}

int mm_ship_add(struct mm_ship *s, const char *path, const char *source, struct mm_err *err)
{
	struct holder *h = (struct holder *)s;
	char src[MM_INGEST_SOURCE_MAX + 1];
	struct sfile *f;
	int i;

	if (find(s, path))
		return 0;
	if (strchr(path, '\n') || strlen(path) > 4000)
		return mm_err_set(err, MM_EINVAL, "%s: unusable path", path);
	if (source) {
		if (!mm_ingest_name_ok(source, MM_INGEST_SOURCE_MAX, 1))
			return mm_err_set(err, MM_EINVAL,
					  "source '%s': 1..%d of A-Z a-z 0-9 . _ - (not starting "
					  "with '.', not a compressed file's name)",
					  source, MM_INGEST_SOURCE_MAX);
		snprintf(src, sizeof(src), "%s", source);
	} else {
		const char *b = strrchr(path, '/');
		sanitise(b ? b + 1 : path, src, MM_INGEST_SOURCE_MAX);
		if (!mm_ingest_name_ok(src, MM_INGEST_SOURCE_MAX, 1))
			return mm_err_set(err, MM_EINVAL,
					  "%s: a compressed file cannot be shipped line by line",
					  path);
	}
	for (i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i].source, src))
			return mm_err_set(err, MM_EEXISTS,
					  "%s and %s would both be source '%s' on the server: name "
					  "one with NAME=PATH",
					  s->files[i].path, path, src);
	if (s->nfiles >= MM_SHIP_MAX_FILES)
		return mm_err_set(err, MM_ETOOBIG, "at most %d files", MM_SHIP_MAX_FILES);
	f = &s->files[s->nfiles];
	memset(f, 0, sizeof(*f));
	if (!(f->path = mm_strdup(path)))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	snprintf(f->source, sizeof(f->source), "%s", src);
	f->fd = -1;
	/* resume from the state file when it knew this path as this source */
	for (i = 0; i < h->nparked; i++)
		if (h->parked[i].path && !strcmp(h->parked[i].path, path) &&
		    !strcmp(h->parked[i].source, src)) {
			f->pos = h->parked[i].pos;
			f->dev = h->parked[i].dev;
			f->ino = h->parked[i].ino;
		}
	s->nfiles++;
	return 0;
}

int mm_ship_remove(struct mm_ship *s, const char *path, struct mm_err *err)
{
	struct sfile *f = find(s, path);
	if (!f)
		return mm_err_set(err, MM_ENOTFOUND, "%s is not shipped", path);
	if (mm_ship_pending(s, path) != 0)
		return mm_err_set(err, MM_EBUSY, "%s has bytes the server has not acknowledged",
				  path);
	if (f->fd >= 0)
		close(f->fd);
	mm_free(f->path);
	*f = s->files[--s->nfiles];
	return save_state(s, err);
}

void mm_ship_close(struct mm_ship *s)
{
	struct holder *h = (struct holder *)s;
	struct mm_err err;
	int i;
	if (!s)
		return;
	if (s->nfiles && save_state(s, &err))
		mm_warn("ship: %s", err.msg);
	for (i = 0; i < s->nfiles; i++) {
		if (s->files[i].fd >= 0)
			close(s->files[i].fd);
		mm_free(s->files[i].path);
	}
	for (i = 0; i < h->nparked; i++)
		mm_free(h->parked[i].path);
	mm_free(h->parked);
	if (s->curl)
		curl_easy_cleanup(s->curl);
	mm_free(s->server);
	mm_free(s->key_id);
	if (s->secret) {
		memset(s->secret, 0, strlen(s->secret));
		mm_free(s->secret);
	}
	mm_free(s->region);
	mm_free(s->state_path);
	mm_free(s->buf);
	mm_free(h);
}

/* ---- HTTP --------------------------------------------------------------------- */

struct reply {
	char buf[REPLY_MAX];
	size_t n;
	int retry_after_s;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ctx)
{
	struct reply *r = ctx;
	size_t n = sz * nm, k = n;
	if (k > sizeof(r->buf) - 1 - r->n)
		k = sizeof(r->buf) - 1 - r->n;
	memcpy(r->buf + r->n, p, k);
	r->n += k;
	r->buf[r->n] = '\0';
	return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ctx)
{
	struct reply *r = ctx;
	size_t n = sz * nm;
	if (n > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		long v = strtol(p + 12, NULL, 10);
		if (v > 0 && v <= 3600)
			r->retry_after_s = (int)v;
	}
	return n;
}

enum sent { SENT_OK, SENT_GAP, SENT_AWAY };

/* POST body to f's stream at f->pos.stream. SENT_OK with *have;
 * SENT_GAP with *have (the server's offset); SENT_AWAY (why in err). */
static enum sent post(struct mm_ship *s, struct sfile *f, const char *body, size_t n,
		      uint64_t *have, struct mm_err *err)
{
	struct mm_http_header hv[3];
	struct mm_sigv4_req r;
	struct curl_slist *hl = NULL;
	struct reply *rp;
	char query[512], url[URL_MAX], path[640], amz[20], auth[MM_SIGV4_AUTH_MAX];
	char h_host[600], h_date[64], h_auth[MM_SIGV4_AUTH_MAX + 32];
	char ebuf[CURL_ERROR_SIZE];
	struct tm tm;
	time_t now = time(NULL);
	long status = 0;
	CURLcode cc;
	enum sent out = SENT_AWAY;

	if (!(rp = mm_calloc(1, sizeof(*rp)))) {
		mm_err_set(err, MM_ENOMEM, "out of memory");
		return SENT_AWAY;
	}
	/* (names in the order SigV4's canonical query sorts them) */
	snprintf(query, sizeof(query), "%s%s%shost=%s&offset=%" PRIu64 "&%s%s%ssource=%s",
		 s->place.account[0] ? "account=" : "", s->place.account,
		 s->place.account[0] ? "&" : "", s->host, f->pos.stream,
		 s->place.region[0] ? "region=" : "", s->place.region, s->place.region[0] ? "&" : "",
		 f->source);
	snprintf(path, sizeof(path), "%s%s", s->base_path, MM_INGEST_PATH);
	snprintf(url, sizeof(url), "%s://%s%s?%s", strncmp(s->server, "https", 5) ? "http" : "https",
		 s->authority, path, query);
	gmtime_r(&now, &tm);
	strftime(amz, sizeof(amz), "%Y%m%dT%H%M%SZ", &tm);
	hv[0] = (struct mm_http_header){"Host", s->authority};
	hv[1] = (struct mm_http_header){"X-Amz-Date", amz};
	hv[2] = (struct mm_http_header){"Content-Type", "application/octet-stream"};
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = path;
	r.query = query;
	r.headers = hv;
	r.nheaders = 3;
	r.body = body;
	r.body_len = n;
	r.service = "guardduty";
	if (mm_sigv4_sign(&r, amz, s->region, s->key_id, s->secret, auth, sizeof(auth), err))
		goto out;
	snprintf(h_host, sizeof(h_host), "Host: %s", s->authority);
	snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", amz);
	snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
	hl = curl_slist_append(hl, h_host);
	hl = curl_slist_append(hl, h_date);
	hl = curl_slist_append(hl, "Content-Type: application/octet-stream");
	hl = curl_slist_append(hl, h_auth);
	hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
	if (!hl) {
		mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	curl_easy_reset(s->curl);
	ebuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->timeout_ms < 5000 ? s->timeout_ms : 5000));
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, n ? body : "");
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, rp);
	curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, rp);
	s->c.requests++;
	if ((cc = curl_easy_perform(s->curl)) != CURLE_OK) {
		mm_err_set(err, MM_EIO, "%s: %s", s->server, ebuf[0] ? ebuf : curl_easy_strerror(cc));
		s->c.failures++;
		goto out;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 || status == 409) {
		if (mm_ship_parse_reply(rp->buf, rp->n, have)) {
			mm_err_set(err, MM_EPARSE, "%s: an answer without an offset (HTTP %ld)",
				   s->server, status);
			s->c.failures++;
			goto out;
		}
		out = status == 200 ? SENT_OK : SENT_GAP;
		goto out;
	}
	s->c.failures++;
	if (rp->retry_after_s)
		s->retry_after_ms = rp->retry_after_s * 1000;
	mm_err_set(err, status == 403 ? MM_EINVAL : MM_EIO, "%s: HTTP %ld: %.300s", s->server,
		   status, rp->buf);
out:
	curl_slist_free_all(hl);
	mm_free(rp);
	return out;
}

/* ---- one file ------------------------------------------------------------------ */

/* The file the state points into, renamed within the path's folder
 * while we were not running (logrotate: secure -> secure-20261205,
 * x.log -> x.log.1): its fd, or -1. At most MAX_LOOK entries looked at. */
#define MAX_LOOK 4096
static int find_renamed(const struct sfile *f)
{
	char dir[4200], p[4400];
	const char *slash = strrchr(f->path, '/');
	DIR *dp;
	struct dirent *de;
	struct stat st;
	int fd = -1, n = 0;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - f->path) : 1,
		 slash ? f->path : ".");
	if (slash == f->path)
		snprintf(dir, sizeof(dir), "/");
	if (!(dp = opendir(dir)))
		return -1;
	while ((de = readdir(dp)) && n++ < MAX_LOOK) {
		if ((uint64_t)de->d_ino != f->ino)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_dev == f->dev &&
		    (uint64_t)st.st_ino == f->ino)
			break;
		close(fd);
		fd = -1;
	}
	closedir(dp);
	return fd;
}

/* Open f's path when f has no file: a different inode than the state's
 * is the state's file renamed (finished first, from the state's offset)
 * or, when that is gone, a new file started at 0. 1 open, 0 no file. */
static int open_file(struct sfile *f)
{
	struct stat st;
	unsigned char magic[2];
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !(f->dev || f->ino))
		return 0;
	if ((f->dev || f->ino) &&
	    (fd < 0 || (fstat(fd, &st) == 0 &&
			((uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino)))) {
		int old = find_renamed(f);
		if (old >= 0) {
			if (fd >= 0)
				close(fd);
			fd = old;
		}
	}
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if ((uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino) {
		if (f->dev || f->ino)
			f->pos.foff = 0; /* replaced while we were not looking */
		f->dev = (uint64_t)st.st_dev;
		f->ino = (uint64_t)st.st_ino;
	}
	if (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		if (!f->binary)
			mm_warn("ship: %s is gzip-compressed: not shipped (ship the plain log)",
				f->path);
		f->binary = 1;
		close(fd);
		return 0;
	}
	f->binary = 0;
	f->fd = fd;
	return 1;
}

/* Ship f until it is caught up or the server stops taking. */
static int ship_file(struct mm_ship *s, struct sfile *f, struct mm_err *err)
{
	int resyncs = 0, rc;
	for (;;) {
		struct stat st, pst;
		uint64_t have = 0;
		size_t n, k;
		ssize_t r;
		char *nl;
		enum sent sr;

		if (f->fd < 0 && !open_file(f))
			return MM_SHIP_DONE;
		if (fstat(f->fd, &st))
			return mm_err_set(err, MM_EIO, "%s: %s", f->path, strerror(errno));
		if ((uint64_t)st.st_size < f->pos.foff)
			f->pos.foff = 0; /* truncated in place (copytruncate) */
		if ((uint64_t)st.st_size > f->pos.foff) {
			n = (uint64_t)st.st_size - f->pos.foff > s->chunk
				    ? s->chunk : (size_t)((uint64_t)st.st_size - f->pos.foff);
			r = pread(f->fd, s->buf, n, (off_t)f->pos.foff);
			if (r < 0)
				return mm_err_set(err, MM_EIO, "%s: %s", f->path, strerror(errno));
			n = (size_t)r;
			for (k = n; k > 0 && s->buf[k - 1] != '\n'; k--)
				;
			if (k == 0 && n == s->chunk) {
				/* one line longer than a request: not shippable, skipped */
				uint64_t at = f->pos.foff + n;
				for (;;) {
					r = pread(f->fd, s->buf, s->chunk, (off_t)at);
					if (r <= 0)
						break;
					if ((nl = memchr(s->buf, '\n', (size_t)r))) {
						mm_warn("ship: %s: a line of more than %zu bytes at "
							"offset %" PRIu64 " skipped",
							f->path, s->chunk, f->pos.foff);
						s->c.skipped_lines++;
						f->pos.foff = at + (uint64_t)(nl - s->buf) + 1;
						break;
					}
					at += (uint64_t)r;
				}
				if (r > 0)
					continue;
				k = 0; /* the long line is not finished yet */
			}
			if (k > 0) {
				sr = post(s, f, s->buf, k, &have, err);
				if (sr == SENT_AWAY)
					return MM_SHIP_RETRY;
				if (sr == SENT_GAP) {
					if (++resyncs > MAX_RESYNC) {
						mm_err_set(err, MM_EIO,
							   "%s: the server keeps refusing our offsets",
							   f->path);
						return MM_SHIP_RETRY;
					}
					s->c.resyncs++;
					mm_info("ship: %s: the server has %" PRIu64
						" bytes of %s, we were at %" PRIu64 "; re-aligning",
						f->path, have, f->source, f->pos.stream);
					mm_ship_resync(&f->pos, have, f->fd, (uint64_t)st.st_size);
				} else {
					const char *p = s->buf, *e = s->buf + k;
					f->pos.stream += k;
					f->pos.foff += k;
					s->c.bytes_sent += k;
					while (p < e && (p = memchr(p, '\n', (size_t)(e - p)))) {
						s->c.lines_sent++;
						p++;
					}
				}
				if ((rc = save_state(s, err)))
					return rc;
				continue;
			}
		}
		/* caught up with this file: has the path moved on to another? */
		if (stat(f->path, &pst) == 0 &&
		    ((uint64_t)pst.st_dev != f->dev || (uint64_t)pst.st_ino != f->ino)) {
			close(f->fd);
			f->fd = -1;
			f->pos.foff = 0;
			f->dev = f->ino = 0;
			continue;
		}
		return MM_SHIP_DONE;
	}
}

int mm_ship_pending(struct mm_ship *s, const char *path)
{
	struct sfile *f = find(s, path);
	struct stat st;
	if (!f)
		return -1;
	if (f->fd >= 0 && fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->pos.foff)
		return 1;
	if (stat(path, &st))
		return 0; /* gone: nothing of it is left to ship */
	if ((uint64_t)st.st_dev == f->dev && (uint64_t)st.st_ino == f->ino)
		return (uint64_t)st.st_size > f->pos.foff;
	return st.st_size > 0;
}

static uint64_t backlog(struct mm_ship *s)
{
	uint64_t b = 0;
	struct stat st;
	int i;
	for (i = 0; i < s->nfiles; i++) {
		struct sfile *f = &s->files[i];
		if (f->fd >= 0 && fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->pos.foff)
			b += (uint64_t)st.st_size - f->pos.foff;
		if (stat(f->path, &st) == 0 &&
		    ((uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino))
			b += (uint64_t)st.st_size;
		else if (f->fd < 0 && stat(f->path, &st) == 0 && (uint64_t)st.st_size > f->pos.foff)
			b += (uint64_t)st.st_size - f->pos.foff;
	}
	return b;
}

int mm_ship_cycle(struct mm_ship *s, struct mm_err *err)
{
	int i, rc, any_retry = 0;
	struct mm_err e1;

	s->retry_after_ms = 0;
	for (i = 0; i < s->nfiles; i++) {
		mm_err_clear(&e1);
		rc = ship_file(s, &s->files[i], &e1);
		if (rc < 0) {
			*err = e1;
			return rc;
		}
		if (rc == MM_SHIP_RETRY) {
			if (!any_retry && err)
				*err = e1;
			any_retry = 1;
			break; /* the server is away for every file alike */
		}
	}
	s->c.backlog = backlog(s);
	s->c.over_cap = s->c.backlog > s->spool_cap;
	if (!any_retry) {
		s->backoff_ms = 0;
		s->cap_warned = 0;
		return MM_SHIP_DONE;
	}
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : MM_SHIP_BACKOFF_MIN_MS;
	if (s->backoff_ms > MM_SHIP_BACKOFF_MAX_MS)
		s->backoff_ms = MM_SHIP_BACKOFF_MAX_MS;
	if (s->c.over_cap) {
		if (!s->cap_warned)
			mm_error("ship: %" PRIu64 " bytes wait for the server, over the spool cap of "
				 "%" PRIu64 ": stop adding to the shipped files until it is back",
				 s->c.backlog, s->spool_cap);
		s->cap_warned = 1;
		return MM_SHIP_OVER_CAP;
	}
	return MM_SHIP_RETRY;
}

int mm_ship_retry_ms(const struct mm_ship *s)
{
	int ms = s->backoff_ms ? s->backoff_ms : MM_SHIP_BACKOFF_MIN_MS;
	return s->retry_after_ms > ms ? s->retry_after_ms : ms;
}

void mm_ship_counts(const struct mm_ship *s, struct mm_ship_counts *c)
{
	*c = s->c;
}
