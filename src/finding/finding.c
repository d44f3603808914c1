/* finding.c - identity and merging of findings.
 *
 * A finding's id is a hash of its key (type, account, resource,
 * discriminator; for list findings the discriminator is the list name), so the same activity found by any run, on any machine, in any
 * order, gets the same id: rescans and replays update, never duplicate.
 * The indicator (which list entry matched last) is detail, not identity:
 * a mining instance hopping between pool addresses is one finding. */
#include "finding/finding.h"

#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/common.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/intern.h"
#include "core/json.h"

void mm_finding_resource_key(const struct mm_finding *f, char *buf, size_t cap)
{
	if (f->res_type == MM_RES_ACCESSKEY)
		snprintf(buf, cap, "%s", f->access_key_id[0] ? f->access_key_id : f->principal_id);
	else if (f->res_type == MM_RES_S3BUCKET)
		snprintf(buf, cap, "%s", f->bucket_name); /* the caller is in disc */
	else if (f->instance_id[0])
		snprintf(buf, cap, "%s", f->instance_id);
	else if (f->res_type == MM_RES_RUNTIME)
		snprintf(buf, cap, "host:%s", f->proc.host);
	else if (f->eni[0])
		snprintf(buf, cap, "%s", f->eni);
	else
		snprintf(buf, cap, "ip:%s", f->local_ip_key);
}

void mm_finding_make_id(struct mm_finding *f)
{
	char key[1024], res[256];
	int n;

	mm_finding_resource_key(f, res, sizeof(res));
	n = snprintf(key, sizeof(key), "%s|%s|%s|%s", f->type, f->account, res, f->disc);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(key))
		n = sizeof(key) - 1;
	mm_hash_hex128(key, (size_t)n, 0x6d616d6f7269ULL, f->id);	/* "mamori" */
}

/* Total order on evidence: time, then file, then line. */
static int ev_cmp(const struct mm_evidence *a, const struct mm_evidence *b)
{
	int c;
	if (a->time_ms != b->time_ms)
		return a->time_ms < b->time_ms ? -1 : 1;
	c = a->file == b->file ? 0 : strcmp(a->file ? a->file : "", b->file ? b->file : "");
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	/* records of a one-line CloudTrail document share their line */
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return 0;
}

static void ev_insert(struct mm_finding *f, const struct mm_evidence *e)
{
	int i, pos;

	for (i = 0; i < f->nevidence; i++)
		if (ev_cmp(&f->ev[i], e) == 0)
			return; /* same record already sampled */
	pos = f->nevidence;
	while (pos > 0 && ev_cmp(e, &f->ev[pos - 1]) < 0)
		pos--;
	if (pos >= MM_EVIDENCE_MAX)
		return;
	if (f->nevidence < MM_EVIDENCE_MAX)
		f->nevidence++;
	memmove(&f->ev[pos + 1], &f->ev[pos], (size_t)(f->nevidence - 1 - pos) * sizeof(f->ev[0]));
	f->ev[pos] = *e;
}

void mm_finding_add_evidence(struct mm_finding *f, const char *file, uint64_t line,
			     uint64_t offset, int64_t time_ms)
{
	struct mm_evidence e;
	/* one copy of each path however many findings cite it */
	e.file = mm_intern(file ? file : "", file ? strlen(file) : 0);
	e.line = line;
	e.offset = offset;
	e.time_ms = time_ms;
	ev_insert(f, &e);
}

int mm_finding_is_later(const struct mm_finding *f, int64_t time_ms, const char *file,
			uint64_t line, uint64_t offset)
{
	int c;
	if (time_ms != f->last_seen_ms)
		return time_ms > f->last_seen_ms;
	if (!file || !f->detail_file)
		return file && !f->detail_file;
	c = file == f->detail_file ? 0 : strcmp(file, f->detail_file);
	if (c)
		return c > 0;
	if (line != f->detail_line)
		return line > f->detail_line;
	return offset > f->detail_offset;
}

static void api_add(struct mm_finding *f, const struct mm_api_call *c)
{
	int i, pos;

	for (i = 0; i < f->napis; i++) {
		int k = strcmp(f->apis[i].name, c->name);
		if (k == 0) {
			struct mm_api_call *d = &f->apis[i];
			d->count += c->count;
			if (c->first_ms < d->first_ms)
				d->first_ms = c->first_ms;
			if (c->last_ms > d->last_ms)
				d->last_ms = c->last_ms;
			return;
		}
		if (k > 0)
			break;
	}
	pos = i;
	if (pos >= MM_API_CALLS_MAX)
		return;
	if (f->napis < MM_API_CALLS_MAX)
		f->napis++;
	memmove(&f->apis[pos + 1], &f->apis[pos], (size_t)(f->napis - 1 - pos) * sizeof(f->apis[0]));
	f->apis[pos] = *c;
}

void mm_finding_add_api(struct mm_finding *f, const char *name, size_t n, int64_t time_ms)
{
	/* zeroed: the name's unused bytes are stored with the finding */
	struct mm_api_call c = {0};
	if (!mm_finding_has_apis(f))
		return;
	if (n >= sizeof(c.name))
		n = sizeof(c.name) - 1;
	memcpy(c.name, name, n);
	c.name[n] = '\0';
	c.count = 1;
	c.first_ms = c.last_ms = time_ms;
	api_add(f, &c);
}

void mm_finding_merge(struct mm_finding *dst, const struct mm_finding *src)
{
	int i;

	if (mm_finding_has_apis(dst) && mm_finding_has_apis(src))
		for (i = 0; i < src->napis; i++)
			api_add(dst, &src->apis[i]);

	dst->count += src->count;
	if (src->first_seen_ms < dst->first_seen_ms) {
		dst->first_seen_ms = src->first_seen_ms;
	}
	if (mm_finding_is_later(dst, src->last_seen_ms, src->detail_file, src->detail_line,
				src->detail_offset)) {
		/* the latest activity describes the finding's action details */
		dst->last_seen_ms = src->last_seen_ms;
		dst->detail_file = src->detail_file;
		dst->detail_line = src->detail_line;
		dst->detail_offset = src->detail_offset;
		dst->remote_ip = src->remote_ip;
		dst->has_remote_ip = src->has_remote_ip;
		dst->blocked = src->blocked;
		dst->role = src->role;
		memcpy(dst->domain, src->domain, sizeof(dst->domain));
		memcpy(dst->indicator, src->indicator, sizeof(dst->indicator));
		dst->direction = src->direction;
		dst->remote_port = src->remote_port;
		dst->local_port = src->local_port;
		dst->has_local_ip = src->has_local_ip;
		dst->local_ip = src->local_ip;
		memcpy(dst->protocol, src->protocol, sizeof(dst->protocol));
		memcpy(dst->api, src->api, sizeof(dst->api));
		memcpy(dst->user_agent, src->user_agent, sizeof(dst->user_agent));
		memcpy(dst->error_code, src->error_code, sizeof(dst->error_code));
		/* what a detector set from the same latest record: its extra
		 * additionalInfo members, the probes it lists, and a severity
		 * that depends on them (a probe by known scanners only) */
		memcpy(dst->info, src->info, sizeof(dst->info));
		dst->severity = src->severity;
		if (mm_finding_has_probes(dst) && mm_finding_has_probes(src)) {
			dst->nprobes = src->nprobes;
			memcpy(dst->probes, src->probes, sizeof(dst->probes));
		}
		/* a sequence's signals are the whole story as of its latest
		 * record, like info */
		if (mm_finding_has_seq(dst) && mm_finding_has_seq(src))
			dst->seq = src->seq;
		/* and the process of the latest record is the one shown */
		if (mm_finding_has_proc(dst) && mm_finding_has_proc(src) &&
		    (src->proc.pid || src->proc.name[0] || src->proc.exe[0]))
			dst->proc = src->proc;
	}
	if (src->created_at_ms && (!dst->created_at_ms || src->created_at_ms < dst->created_at_ms))
		dst->created_at_ms = src->created_at_ms;
	if (src->updated_at_ms > dst->updated_at_ms)
		dst->updated_at_ms = src->updated_at_ms;
	if (!dst->instance_id[0] && src->instance_id[0])
		memcpy(dst->instance_id, src->instance_id, sizeof(dst->instance_id));
	if (!dst->eni[0] && src->eni[0])
		memcpy(dst->eni, src->eni, sizeof(dst->eni));
	for (i = 0; i < src->nevidence; i++)
		ev_insert(dst, &src->ev[i]);
}

#define PACK_MAGIC "MMF2"

static int pack_str(struct mm_buf *out, const char *p)
{
	uint32_t n = p ? (uint32_t)strlen(p) : 0;
	int rc = mm_buf_add(out, (const char *)&n, sizeof(n));
	return rc ? rc : mm_buf_add(out, p ? p : "", n);
}

/* From i, where a run of zero bytes ends (zero_end) and where a run of
 * non-zero bytes ends (lit_end): the first index in [i, lim) of the
 * other kind of byte, or lim. */
#if defined(__SSE2__)
static MM_ALWAYS_INLINE unsigned zmask16(const unsigned char *p)
{
	return (unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_setzero_si128()));
}
#endif

static size_t zero_end(const unsigned char *p, size_t i, size_t lim)
{
#if defined(__SSE2__)
	for (; i + 16 <= lim; i += 16) {
		unsigned m = zmask16(p + i);
		if (m != 0xffff)
			return i + (size_t)__builtin_ctz(~m);
	}
#endif
	while (i < lim && !p[i])
		i++;
	return i;
}

static size_t lit_end(const unsigned char *p, size_t i, size_t lim)
{
#if defined(__SSE2__)
	for (; i + 16 <= lim; i += 16) {
		unsigned m = zmask16(p + i);
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	while (i < lim && p[i])
		i++;
	return i;
}

/* The struct is mostly empty fixed-size text fields: runs of zero bytes
 * are written as (0x00, run length - 1 in one byte), every other byte as
 * itself. A 4 KB finding packs to a few hundred bytes, at memory speed
 * (zlib's fastest level cost 20 us a finding, half of a whole flush).
 * The runs' ends are found 16 bytes at a time: the finding table
 * (finding/agg.c) packs and unpacks findings as it works, where the
 * word-and-memchr scanner took ~10k instructions a finding. */
static int zrun_pack(struct mm_buf *out, const unsigned char *p, size_t n)
{
	unsigned char tmp[8192];
	size_t i = 0, k = 0;
	int rc;

	while (i < n) {
		if (k + 2 > sizeof(tmp)) {
			if ((rc = mm_buf_add(out, (const char *)tmp, k)))
				return rc;
			k = 0;
		}
		if (p[i] == 0) {
			size_t j = zero_end(p, i + 1, MM_MIN(n, i + 256));
			tmp[k++] = 0;
			tmp[k++] = (unsigned char)(j - i - 1);
			i = j;
		} else {
			size_t j = lit_end(p, i + 1, MM_MIN(n, i + (sizeof(tmp) - k)));
			memcpy(tmp + k, p + i, j - i);
			k += j - i;
			i = j;
		}
	}
	return mm_buf_add(out, (const char *)tmp, k);
}

/* Inverse of zrun_pack into exactly n bytes; the bytes consumed, or 0. */
static size_t zrun_unpack(unsigned char *dst, size_t n, const unsigned char *p, size_t avail)
{
	size_t i = 0, k = 0;
	/* zero first, then a zero run is a skip */
	memset(dst, 0, n);
	while (k < n) {
		if (i >= avail)
			return 0;
		if (p[i] == 0) {
			size_t r;
			if (i + 1 >= avail)
				return 0;
			r = (size_t)p[i + 1] + 1;
			if (r > n - k)
				return 0;
			k += r;
			i += 2;
		} else {
			/* literal bytes up to the next run's zero, copied at once */
			size_t m = lit_end(p, i + 1, i + MM_MIN(avail - i, n - k)) - i;
			memcpy(dst + k, p + i, m);
			k += m;
			i += m;
		}
	}
	return i;
}

/* Zero a text field's bytes after its NUL: a field written again with a
 * shorter value keeps the old one's tail, which would be stored (and
 * would make the stored bytes depend on the order records came in). */
static void zero_tail(char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		s[cap - 1] = '\0'; /* no end at all (bytes from a damaged store) */
	else if (n + 1 < cap)
		memset(s + n + 1, 0, cap - n - 1);
}
#define ZT(x) zero_tail((x), sizeof(x))

void mm_finding_zero_tails(struct mm_finding *c)
{
	int i;
	ZT(c->id), ZT(c->type), ZT(c->account), ZT(c->region), ZT(c->instance_id), ZT(c->eni);
	ZT(c->local_ip_key), ZT(c->access_key_id), ZT(c->principal_id), ZT(c->user_name);
	ZT(c->user_type), ZT(c->bucket_name), ZT(c->protocol), ZT(c->domain), ZT(c->api);
	ZT(c->service_name), ZT(c->caller_type), ZT(c->error_code), ZT(c->user_agent);
	ZT(c->disc), ZT(c->threat_list), ZT(c->threat_name), ZT(c->indicator), ZT(c->info);
	if (mm_finding_has_apis(c))
		for (i = 0; i < MM_API_CALLS_MAX; i++)
			ZT(c->apis[i].name);
	if (mm_finding_has_proc(c)) {
		ZT(c->proc.name), ZT(c->proc.exe), ZT(c->proc.user), ZT(c->proc.cmdline);
		ZT(c->proc.host), ZT(c->proc.lineage);
	}
	if (mm_finding_has_seq(c)) {
		ZT(c->seq.cred);
		for (i = 0; i < MM_SEQ_SIGNALS_MAX; i++)
			ZT(c->seq.sig[i].name);
	}
}
#undef ZT

int mm_finding_pack(const struct mm_finding *f, struct mm_buf *out)
{
	struct mm_finding c;
	int i, rc;

	/* a zeroed copy: padding bytes and text past each NUL are zero, so
	 * the bytes are stable */
	memset(&c, 0, sizeof(c));
	memcpy(&c, f, sizeof(c));
	mm_finding_zero_tails(&c);
	c.detail_file = NULL;
	for (i = 0; i < MM_EVIDENCE_MAX; i++)
		c.ev[i].file = NULL;
	if ((rc = mm_buf_add(out, PACK_MAGIC, 4)) ||
	    (rc = zrun_pack(out, (const unsigned char *)&c, sizeof(c))) ||
	    (rc = pack_str(out, f->detail_file)))
		return rc;
	for (i = 0; i < f->nevidence && i < MM_EVIDENCE_MAX; i++)
		if ((rc = pack_str(out, f->ev[i].file)))
			return rc;
	return 0;
}

int mm_finding_pack_mem(struct mm_finding *f, struct mm_buf *out)
{
	mm_finding_zero_tails(f);
	return zrun_pack(out, (const unsigned char *)f, sizeof(*f));
}

int mm_finding_unpack_mem(struct mm_finding *f, const void *blob, size_t n)
{
	return zrun_unpack((unsigned char *)f, sizeof(*f), blob, n) == n ? 0 : MM_EFORMAT;
}

static int unpack_str(const char **p, const char *end, const char **s)
{
	uint32_t n;
	if ((size_t)(end - *p) < sizeof(n))
		return MM_EFORMAT;
	memcpy(&n, *p, sizeof(n));
	*p += sizeof(n);
	if ((size_t)(end - *p) < n)
		return MM_EFORMAT;
	*s = mm_intern(*p, n);
	*p += n;
	return 0;
}

int mm_finding_unpack(struct mm_finding *f, const void *blob, size_t n)
{
	const char *p = blob, *end = p + n;
	const char *df = NULL;
	int i;

	size_t used;

	if (n < 4 || memcmp(p, PACK_MAGIC, 4))
		return MM_EFORMAT;
	used = zrun_unpack((unsigned char *)f, sizeof(*f), (const unsigned char *)p + 4, n - 4);
	if (!used)
		return MM_EFORMAT;
	p += 4 + used;
	if (f->nevidence < 0 || f->nevidence > MM_EVIDENCE_MAX ||
	    (mm_finding_has_apis(f) && (f->napis < 0 || f->napis > MM_API_CALLS_MAX)) ||
	    (mm_finding_has_probes(f) && (f->nprobes < 0 || f->nprobes > MM_PROBES_MAX)) ||
	    (mm_finding_has_seq(f) && f->seq.nsig > MM_SEQ_SIGNALS_MAX) ||
	    unpack_str(&p, end, &df))
		return MM_EFORMAT;
	f->detail_file = *df ? df : NULL;
	for (i = 0; i < f->nevidence; i++)
		if (unpack_str(&p, end, &f->ev[i].file))
			return MM_EFORMAT;
	/* strings inside are fixed arrays: make sure every one ends (a
	 * damaged row must not send a reader past its field) */
	mm_finding_zero_tails(f);
	return 0;
}

void mm_finding_info_clear(struct mm_finding *f)
{
	f->info[0] = '\0';
}

/* Append the member "key":<val> where val is already JSON text. */
static void info_add(struct mm_finding *f, const char *key, const char *val)
{
	char m[sizeof(f->info)];
	size_t have = strlen(f->info), k = 0;
	const char *p;

	if (have)
		m[k++] = ',';
	m[k++] = '"';
	for (p = key; *p && k < sizeof(m) - 2; p++)
		if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			m[k++] = *p;
	m[k++] = '"';
	if (k + 1 + strlen(val) + 1 > sizeof(m) || have + k + 1 + strlen(val) + 1 > sizeof(f->info))
		return; /* does not fit: leave it out whole */
	m[k++] = ':';
	memcpy(m + k, val, strlen(val) + 1);
	memcpy(f->info + have, m, strlen(m) + 1);
}

void mm_finding_info_str(struct mm_finding *f, const char *key, const char *val)
{
	char q[sizeof(f->info)];
	size_t k = 0;
	q[k++] = '"';
	for (; *val && k < sizeof(q) - 3; val++) {
		unsigned char ch = (unsigned char)*val;
		if (ch < 0x20 || ch >= 0x7f)
			continue; /* names and words only: no control or non-ASCII bytes */
		if (ch == '"' || ch == '\\')
			q[k++] = '\\';
		q[k++] = (char)ch;
	}
	q[k++] = '"';
	q[k] = '\0';
	info_add(f, key, q);
}

void mm_finding_info_num(struct mm_finding *f, const char *key, double val)
{
	char q[48];
	if (val != val || val > 1e15 || val < -1e15)
		return;
	if (val == (double)(long long)val)
		snprintf(q, sizeof(q), "%lld", (long long)val);
	else
		snprintf(q, sizeof(q), "%.4g", val);
	info_add(f, key, q);
}

void mm_finding_info_json(struct mm_finding *f, const char *key, const char *json)
{
	struct mm_json_val v;
	size_t n = strlen(json), used = 0;
	/* one whole value and nothing after it, so info stays valid JSON */
	if (mm_json_value(json, n, &v, &used) || used != n)
		return;
	info_add(f, key, json);
}
