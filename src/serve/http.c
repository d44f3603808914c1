/* http.c - libmicrohttpd under a small whole-request interface.
 *
 * Why libmicrohttpd: packaged in Debian, small, threads and TLS (GnuTLS)
 * built in, and it hands out the request path before any decoding when
 * the unescape callback is the identity (SigV4 signs the raw bytes). */
#include "serve/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/common.h"
#include "core/mem.h"

struct mm_http {
	struct MHD_Daemon *d;
	mm_http_handler h;
	void *ctx;
	int port;
	char *cert, *key;	/* PEM contents (MHD wants them in memory) */
};

/* Per request: the body as it arrives. */
struct conn {
	struct mm_buf body;
	int too_big;
};

/* Keep the path and query as sent: SigV4 canonicalises the raw bytes,
 * and the API decodes the parts it uses itself. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

struct collect {
	struct mm_http_req *rq;
	struct mm_buf *q;
};

static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct mm_http_req *rq = cls;
	(void)kind;
	if (rq->nhdr < MM_HTTP_MAX_HEADERS) {
		rq->hdr[rq->nhdr].name = k;
		rq->hdr[rq->nhdr].value = v ? v : "";
		rq->nhdr++;
	}
	return MHD_YES;
}

static enum MHD_Result arg_cb(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct mm_buf *q = cls;
	(void)kind;
	if (q->len)
		mm_buf_addc(q, '&');
	mm_buf_addz(q, k);
	if (v) {
		mm_buf_addc(q, '=');
		mm_buf_addz(q, v);
	}
	return MHD_YES;
}

static enum MHD_Result reply_send(struct MHD_Connection *c, struct mm_http_resp *rs)
{
	struct MHD_Response *r;
	enum MHD_Result ok;
	size_t i;

	r = MHD_create_response_from_buffer(rs->body.len, rs->body.p ? rs->body.p : (char *)"",
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", rs->ctype ? rs->ctype : "application/json");
	for (i = 0; i < rs->nhdr; i++)
		MHD_add_response_header(r, rs->hdr[i].name, rs->hdr[i].value);
	ok = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ok;
}

static void simple(struct mm_http_resp *rs, int status, const char *type, const char *msg)
{
	rs->status = status;
	mm_buf_reset(&rs->body);
	mm_buf_printf(&rs->body, "{\"message\":\"%s\",\"__type\":\"%s\"}", msg, type);
	mm_http_set_header(rs, "x-amzn-ErrorType", type);
}

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct mm_http *s = cls;
	struct conn *cn = *con_cls;
	struct mm_http_req rq;
	struct mm_http_resp rs;
	struct mm_buf q;
	const union MHD_ConnectionInfo *ci;
	enum MHD_Result ok;

	(void)version;
	if (!cn) {
		if (!(cn = mm_calloc(1, sizeof(*cn))))
			return MHD_NO;
		mm_buf_init(&cn->body, MM_HTTP_MAX_BODY);
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cn->too_big && mm_buf_add(&cn->body, upload, *upload_size))
			cn->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	mm_buf_init(&rs.body, MM_HTTP_MAX_RESP);
	rs.status = 200;
	if (cn->too_big) {
		simple(&rs, 413, "BadRequestException", "request body too large");
		goto reply;
	}
	mm_buf_init(&q, 16384);
	rq.method = method;
	rq.path = url;
	MHD_get_connection_values(c, MHD_HEADER_KIND, header_cb, &rq);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, arg_cb, &q);
	rq.query = q.len ? q.p : NULL;
	rq.body = cn->body.p ? cn->body.p : "";
	rq.body_len = cn->body.len;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, rq.remote,
				  sizeof(rq.remote));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, rq.remote,
				  sizeof(rq.remote));
	}
	s->h(s->ctx, &rq, &rs);
	mm_buf_free(&q);
reply:
	ok = reply_send(c, &rs);
	mm_buf_free(&rs.body);
	return ok;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode why)
{
	struct conn *cn = *con_cls;
	(void)cls;
	(void)c;
	(void)why;
	if (cn) {
		mm_buf_free(&cn->body);
		mm_free(cn);
		*con_cls = NULL;
	}
}

static char *slurp(const char *path, struct mm_err *err)
{
	FILE *f = fopen(path, "rb");
	struct mm_buf b;
	char chunk[4096];
	size_t n;
	if (!f) {
		mm_err_set(err, MM_EIO, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	mm_buf_init(&b, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (mm_buf_add(&b, chunk, n)) {
			fclose(f);
			mm_buf_free(&b);
			mm_err_set(err, MM_ETOOBIG, "%s: larger than 1 MiB", path);
			return NULL;
		}
	fclose(f);
	if (!b.p)
		mm_buf_addz(&b, "");
	return b.p;
}

int mm_http_parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len,
		       struct mm_err *err)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints, *ai = NULL;
	int rc;

	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - addr - 1) >= sizeof(host))
			return mm_err_set(err, MM_EINVAL, "'%s': use HOST:PORT or [V6]:PORT", addr);
		memcpy(host, addr + 1, (size_t)(rb - addr - 1));
		host[rb - addr - 1] = '\0';
		port = rb + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(host))
			return mm_err_set(err, MM_EINVAL, "'%s': use HOST:PORT or [V6]:PORT", addr);
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		port = colon + 1;
		if (!host[0])
			snprintf(host, sizeof(host), "127.0.0.1");
	}
	if (!*port || strspn(port, "0123456789") != strlen(port) || atol(port) > 65535)
		return mm_err_set(err, MM_EINVAL, "'%s': bad port", addr);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) || !ai)
		return mm_err_set(err, MM_EINVAL, "'%s': %s", addr, gai_strerror(rc));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int mm_http_start(struct mm_http **out, const char *addr, const char *tls_cert,
		  const char *tls_key, mm_http_handler h, void *ctx, struct mm_err *err)
{
	struct mm_http *s;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	const union MHD_DaemonInfo *di;
	int rc;

	*out = NULL;
	if ((rc = mm_http_parse_addr(addr, &ss, &sl, err)))
		return rc;
	if (!(s = mm_calloc(1, sizeof(*s))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	s->h = h;
	s->ctx = ctx;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls_cert || tls_key) {
		if (!tls_cert || !tls_key) {
			mm_free(s);
			return mm_err_set(err, MM_EINVAL, "TLS needs both --tls-cert and --tls-key");
		}
		if (!(s->cert = slurp(tls_cert, err)) || !(s->key = slurp(tls_key, err))) {
			mm_free(s->cert);
			mm_free(s);
			return err->code;
		}
		flags |= MHD_USE_TLS;
	}
	if (s->cert)
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_req, s, MHD_OPTION_SOCK_ADDR, &ss,
					MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
					MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned)MM_HTTP_MAX_CONN,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MM_HTTP_TIMEOUT_S,
					MHD_OPTION_HTTPS_MEM_CERT, s->cert, MHD_OPTION_HTTPS_MEM_KEY,
					s->key, MHD_OPTION_END);
	else
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_req, s, MHD_OPTION_SOCK_ADDR, &ss,
					MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
					MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned)MM_HTTP_MAX_CONN,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MM_HTTP_TIMEOUT_S,
					MHD_OPTION_END);
	if (!s->d) {
		mm_free(s->cert);
		mm_free(s->key);
		mm_free(s);
		return mm_err_set(err, MM_EIO,
				  "cannot listen on %s (in use, or not an address of this host?)",
				  addr);
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	*out = s;
	return 0;
}

int mm_http_port(const struct mm_http *s)
{
	return s ? s->port : 0;
}

void mm_http_stop(struct mm_http *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	mm_free(s->cert);
	mm_free(s->key);
	mm_free(s);
}

const char *mm_http_header(const struct mm_http_req *rq, const char *name)
{
	size_t i;
	for (i = 0; i < rq->nhdr; i++)
		if (!strcasecmp(rq->hdr[i].name, name))
			return rq->hdr[i].value;
	return NULL;
}

int mm_http_pct_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '%') {
			int a = mm_hexval((unsigned char)s[1]), b = a < 0 ? -1 : mm_hexval((unsigned char)s[2]);
			if (a < 0 || b < 0 || (a == 0 && b == 0))
				return MM_EINVAL;
			*o++ = (char)(a * 16 + b);
			s += 2;
		} else {
			*o++ = *s == '+' ? ' ' : *s;
		}
	}
	*o = '\0';
	return 0;
}

int mm_http_query(const struct mm_http_req *rq, const char *name, char *out, size_t cap)
{
	const char *p = rq->query;
	size_t nl = strlen(name);
	while (p && *p) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		if ((size_t)(end - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			size_t vl = (size_t)(end - p - nl - 1);
			if (vl >= cap)
				return 0;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return mm_http_pct_decode(out) == 0;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

void mm_http_set_header(struct mm_http_resp *rs, const char *name, const char *value)
{
	if (rs->nhdr >= MM_ARRAY_LEN(rs->hdr))
		return;
	snprintf(rs->hval[rs->nhdr], sizeof(rs->hval[0]), "%s", value);
	rs->hdr[rs->nhdr].name = name;
	rs->hdr[rs->nhdr].value = rs->hval[rs->nhdr];
	rs->nhdr++;
}
