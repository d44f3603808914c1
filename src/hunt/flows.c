/* flows.c - `mamori flows`: the flow records behind an instance, an
 * interface or a finding (see flows.h for the contract).
 *
 * No index: a day of a 1,200-instance estate (2M records, 33 MB of gzip)
 * reads in well under a second on two cores, so reading the logs again
 * is simpler and always agrees with them. Each worker keeps its own rows
 * and summary table; they merge at the end (sums, min/max), so the
 * result is the same for any thread count. */
#include "hunt/flows.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "detect/detect.h"
#include "enrich/inventory.h"
#include "finding/finding.h"
#include "input/reader.h"
#include "parse/cloudtrail.h"
#include "parse/flowlog.h"
#include "parse/format.h"

#define SCRATCH_CAP (64u << 10)
#define LINE_BUF_CAP (1u << 20)
#define MAX_LINE (256u << 10)	/* CloudWatch-wrapped records are longer than plain ones */
#define MAX_THREADS 64
#define MAX_CT_DOC ((size_t)1 << 30)	/* as scan: one CloudTrail S3 document */
#define CT_SCRATCH_CAP (1u << 20)	/* as scan: a RunInstances response unescaped */

void mm_flows_query_init(struct mm_flows_query *q)
{
	memset(q, 0, sizeof(*q));
	q->port = q->local_port = q->remote_port = q->proto = -1;
}

static int add_target(char (*set)[32], size_t *n, const char *s)
{
	size_t i, len = s ? strlen(s) : 0;

	if (len == 0 || len >= 32)
		return MM_EINVAL;
	for (i = 0; i < *n; i++)
		if (strcmp(set[i], s) == 0)
			return 0;
	if (*n >= MM_FLOWS_MAX_TARGETS)
		return MM_ETOOBIG;
	memcpy(set[*n], s, len + 1);
	(*n)++;
	return 0;
}

int mm_flows_add_eni(struct mm_flows_query *q, const char *eni)
{
	return add_target(q->enis, &q->nenis, eni);
}

int mm_flows_add_instance(struct mm_flows_query *q, const char *id)
{
	return add_target(q->instances, &q->ninstances, id);
}

/* ---- pruning by S3 key --------------------------------------------------- */

static int digits(const char *p, int n, int *out)
{
	int v = 0, i;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 1;
}

static int civil_ok(int y, int mo, int d)
{
	return y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

/* "YYYYMMDDTHHMMZ" at p (14 bytes available)? */
static int stamp_at(const char *p, int64_t *t)
{
	int y, mo, d, h, mi;

	if (p[8] != 'T' || p[13] != 'Z' || !digits(p, 4, &y) || !digits(p + 4, 2, &mo) ||
	    !digits(p + 6, 2, &d) || !digits(p + 9, 2, &h) || !digits(p + 11, 2, &mi) ||
	    !civil_ok(y, mo, d) || h > 23 || mi > 59)
		return 0;
	*t = mm_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60;
	return 1;
}

int mm_flows_key_time(const char *path, int64_t *lo, int64_t *hi)
{
	const char *base = strrchr(path, '/'), *p, *q;
	size_t n;
	int k, y, mo, d;

	base = base ? base + 1 : path;
	n = strlen(base);
	/* the delivery stamp: "_YYYYMMDDTHHMMZ_" (or before the extension) */
	for (p = base; n >= 15 && p + 15 <= base + n; p++) {
		int64_t t;
		if (*p == '_' && stamp_at(p + 1, &t)) {
			*lo = *hi = t;
			return 1;
		}
	}
	/* the date folders after AWSLogs/<acct>/<service>/<region>/ */
	p = strstr(path, "AWSLogs/");
	if (!p)
		return 0;
	p += 8;
	for (k = 0; k < 3; k++) {
		if (!(p = strchr(p, '/')))
			return 0;
		p++;
	}
	q = p;
	if (strlen(q) < 11 || q[4] != '/' || q[7] != '/' || q[10] != '/' || !digits(q, 4, &y) ||
	    !digits(q + 5, 2, &mo) || !digits(q + 8, 2, &d) || !civil_ok(y, mo, d))
		return 0;
	*lo = mm_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400;
	*hi = *lo + 86400;
	return 1;
}

/* The service folder of an S3 key names another source. */
static int other_service(const char *path)
{
	static const char *const other[] = {"CloudTrail/", "CloudTrail-Digest/",
					    "CloudTrail-Insight/", "vpcdnsquerylogs/"};
	const char *p = strstr(path, "AWSLogs/"), *s;
	size_t i;

	if (!p || !(s = strchr(p + 8, '/')))
		return 0;
	s++;
	for (i = 0; i < MM_ARRAY_LEN(other); i++)
		if (strncmp(s, other[i], strlen(other[i])) == 0)
			return 1;
	return 0;
}

int mm_flows_prune(const struct mm_flows_query *q, const char *path)
{
	int64_t lo, hi;

	if (other_service(path))
		return 1;
	if (q->no_prune || (!q->has_since && !q->has_until) || !mm_flows_key_time(path, &lo, &hi))
		return 0;
	/* its records lie within SLACK of the key time (flows.h says why) */
	if (q->has_since && (hi + MM_FLOWS_SLACK_S) * 1000 < q->since_ms)
		return 1;
	if (q->has_until && (lo - MM_FLOWS_SLACK_S) * 1000 >= q->until_ms)
		return 1;
	return 0;
}

/* ---- matching ------------------------------------------------------------ */

static int in_set(const char (*set)[32], size_t n, struct mm_str s)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strlen(set[i]) == s.n && memcmp(set[i], s.p, s.n) == 0)
			return 1;
	return 0;
}

static int in_cidr(const struct mm_ip *ip, const struct mm_ip *net, int len)
{
	int full = len / 8, rest = len % 8;

	if (ip->v6 != net->v6)
		return 0;
	if (memcmp(ip->b, net->b, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((ip->b[full] ^ net->b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int mm_flows_match(const struct mm_flows_query *q, const struct mm_flow *f, int *src_local)
{
	int sl;

	*src_local = -1;
	if ((q->nenis || q->ninstances) && !in_set(q->enis, q->nenis, f->eni) &&
	    !in_set(q->instances, q->ninstances, f->instance_id))
		return 0;
	if (q->has_since && f->end * 1000 < q->since_ms)
		return 0;
	if (q->has_until && f->start * 1000 >= q->until_ms)
		return 0;
	if (q->action != MM_ACT_NONE && f->action != q->action)
		return 0;
	if (q->proto >= 0 && (!f->has_addrs || f->proto != q->proto))
		return 0;
	if (q->port >= 0 && (!f->has_ports || (f->sport != q->port && f->dport != q->port)))
		return 0;
	{
		/* the side rule of scan's detectors (threatintel.c), so the
		 * hunt and the finding agree on what "remote" means */
		struct mm_detect_ctx d = {.inv = q->inv};
		sl = mm_flow_src_is_local(&d, f);
	}
	*src_local = sl;
	if (q->has_remote) {
		if (!f->has_addrs)
			return 0;
		/* an undecided side: either address may be the remote one */
		if (sl == 1 ? !in_cidr(&f->dst, &q->remote, q->remote_len)
		    : sl == 0 ? !in_cidr(&f->src, &q->remote, q->remote_len)
			      : !in_cidr(&f->dst, &q->remote, q->remote_len) &&
					!in_cidr(&f->src, &q->remote, q->remote_len))
			return 0;
	}
	if (q->local_port >= 0 || q->remote_port >= 0) {
		int a, b; /* the arrangement with src local, then dst local */
		if (!f->has_ports)
			return 0;
		a = (q->local_port < 0 || f->sport == q->local_port) &&
		    (q->remote_port < 0 || f->dport == q->remote_port);
		b = (q->local_port < 0 || f->dport == q->local_port) &&
		    (q->remote_port < 0 || f->sport == q->remote_port);
		if (sl == 1 ? !a : sl == 0 ? !b : !(a || b))
			return 0;
	}
	return 1;
}

/* ---- summary groups: an open-addressing table keyed by the group key ---- */

struct gtab {
	struct mm_flows_group *g;	/* cap slots; flows == 0 marks empty */
	size_t n, cap;
};

static int key_eq(const struct mm_flows_group *a, const struct mm_flows_group *b)
{
	return a->hour == b->hour && a->port == b->port && a->proto == b->proto &&
	       a->dir == b->dir && a->remote.v6 == b->remote.v6 &&
	       memcmp(a->remote.b, b->remote.b, 16) == 0;
}

static uint64_t key_hash(const struct mm_flows_group *k)
{
	uint64_t h = mm_hash(k->remote.b, 16, k->remote.v6);
	return mm_hash_mix(h ^ ((uint64_t)k->hour * 0x9e3779b97f4a7c15ULL) ^
			   ((uint64_t)k->port << 16) ^ ((uint64_t)k->proto << 8) ^ k->dir);
}

static int gtab_grow(struct gtab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024, i;
	/* written before read: calloc's zero pages would each fault twice
	 * (read, then copy on write with a TLB shootdown across threads) */
	struct mm_flows_group *ng = mm_malloc(ncap * sizeof(*ng));

	if (!ng)
		return MM_ENOMEM;
	memset(ng, 0, ncap * sizeof(*ng));
	for (i = 0; i < t->cap; i++) {
		size_t j;
		if (!t->g[i].flows)
			continue;
		j = key_hash(&t->g[i]) & (ncap - 1);
		while (ng[j].flows)
			j = (j + 1) & (ncap - 1);
		ng[j] = t->g[i];
	}
	mm_free(t->g);
	t->g = ng;
	t->cap = ncap;
	return 0;
}

/* Add src (a key with its counts) into t. */
static int gtab_add(struct gtab *t, const struct mm_flows_group *src)
{
	size_t j;
	struct mm_flows_group *g;

	if ((t->n + 1) * 2 > t->cap) {
		if (t->n >= MM_FLOWS_MAX_GROUPS)
			return MM_ETOOBIG;
		if (gtab_grow(t))
			return MM_ENOMEM;
	}
	j = key_hash(src) & (t->cap - 1);
	while (t->g[j].flows && !key_eq(&t->g[j], src))
		j = (j + 1) & (t->cap - 1);
	g = &t->g[j];
	if (!g->flows) {
		*g = *src;
		t->n++;
		return 0;
	}
	g->flows += src->flows;
	g->packets += src->packets;
	g->bytes += src->bytes;
	g->bytes_out += src->bytes_out;
	g->bytes_in += src->bytes_in;
	g->accepts += src->accepts;
	g->rejects += src->rejects;
	g->first = MM_MIN(g->first, src->first);
	g->last = MM_MAX(g->last, src->last);
	return 0;
}

/* ---- rows ---------------------------------------------------------------- */

static int row_cmp(const void *pa, const void *pb)
{
	const struct mm_flow_row *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

struct rows {
	struct mm_flow_row *r;
	size_t n, cap;
};

/* Keep the earliest `limit` rows (0 = all): sort and cut when twice as
 * many are held, so memory stays ~2x the limit whatever matches. */
static int rows_trim(struct rows *v, size_t limit)
{
	if (limit && v->n > limit) {
		qsort(v->r, v->n, sizeof(*v->r), row_cmp);
		v->n = limit;
	}
	return 0;
}

static struct mm_flow_row *rows_push(struct rows *v, size_t limit)
{
	if (v->n == v->cap) {
		size_t ncap;
		struct mm_flow_row *nr;
		if (limit && v->n >= 2 * limit + 1024) {
			rows_trim(v, limit);
			return &v->r[v->n++];
		}
		if (v->n >= MM_FLOWS_MAX_ROWS)
			return NULL;
		ncap = v->cap ? v->cap * 2 : 256;
		if (ncap > MM_FLOWS_MAX_ROWS)
			ncap = MM_FLOWS_MAX_ROWS;
		nr = mm_realloc(v->r, ncap * sizeof(*nr));
		if (!nr)
			return NULL;
		v->r = nr;
		v->cap = ncap;
	}
	return &v->r[v->n++];
}


/* ---- instances named by CloudTrail RunInstances in the input ------------- */

/* May the file hold CloudTrail? Its S3 key says so, or it is outside the
 * layout (then its content decides). */
static int maybe_cloudtrail(const char *path)
{
	const char *p = strstr(path, "AWSLogs/"), *s;

	if (strcmp(path, "-") == 0)
		return 0; /* stdin can be read once: it is for the flows */
	if (!p || !(s = strchr(p + 8, '/')))
		return 1;
	return strncmp(s + 1, "CloudTrail/", 11) == 0;
}

static void learn_event(struct mm_inventory *inv, const struct mm_event *ev, uint64_t *n)
{
	if (mm_str_eqz(ev->u.api.event_name, "RunInstances") &&
	    mm_inventory_add_event(inv, ev, NULL) == 0)
		(*n)++;
}

/* One file: RunInstances records (a cheap substring test first: most
 * CloudTrail files have none) into inv. Errors are the scan's business:
 * here a damaged file only teaches less. */
static void learn_file(const char *path, struct mm_inventory *inv, char *linebuf,
		       struct mm_arena *scratch, struct mm_buf *doc, uint64_t *n)
{
	struct mm_reader rd;
	struct mm_lines ln;
	struct mm_event ev;
	struct mm_err e;
	const char *head, *line;
	size_t headn, len;
	enum mm_format fmt;
	int rc;

	if (mm_reader_open(&rd, path, 0, &e))
		return;
	if (mm_lines_init_buf(&ln, &rd, linebuf, LINE_BUF_CAP, MAX_LINE, 0, 0)) {
		mm_reader_close(&rd);
		return;
	}
	if (mm_lines_peek(&ln, &head, &headn, &e) < 0 && headn == 0)
		goto out;
	fmt = mm_format_detect(path, head, headn, MM_SRC_AUTO);
	if (fmt == MM_FMT_CT_LINES) {
		while ((rc = mm_lines_next(&ln, &line, &len, &e)) != 0) {
			if (rc < 0 && rc != MM_ETOOBIG)
				break;
			mm_arena_reset(scratch);
			if (rc == 1 && memmem(line, len, "RunInstances", 12) &&
			    mm_ct_parse_line(line, len, scratch, &ev, &e) == 0)
				learn_event(inv, &ev, n);
		}
	} else if (fmt == MM_FMT_CT_DOC) {
		struct mm_ct_doc d;
		uint64_t l, off;
		mm_buf_reset(doc);
		if (mm_buf_add(doc, head, headn))
			goto out;
		mm_reader_slurp(&rd, doc, &e); /* a damaged tail: the records before count */
		if (!memmem(doc->p, doc->len, "RunInstances", 12) ||
		    mm_ct_doc_init(&d, doc->p, doc->len, &e))
			goto out;
		while ((rc = mm_ct_doc_next_event(&d, scratch, &ev, &l, &off, &e)) != 0) {
			if (rc == 1)
				learn_event(inv, &ev, n);
			else if (rc != MM_EPARSE)
				break;
		}
	}
out:
	mm_lines_free(&ln);
	mm_reader_close(&rd);
}

/* Add the interfaces of every instance target to q's ENIs; learn from
 * the input's CloudTrail when the inventory lacks one. */
static int resolve_instances(struct mm_flows_query *q, struct mm_flows_result *res,
			     struct mm_err *err)
{
	size_t i, k, missing = 0;
	int rc = 0;

	if (!q->ninstances)
		return 0;
	for (i = 0; i < q->ninstances; i++)
		if (!q->inv || !mm_inventory_by_id(q->inv, q->instances[i], strlen(q->instances[i])))
			missing++;
	if (missing && q->inv) {
		char *linebuf = mm_malloc(LINE_BUF_CAP), *smem = mm_malloc(CT_SCRATCH_CAP);
		struct mm_arena scratch;
		struct mm_buf doc;
		mm_buf_init(&doc, MAX_CT_DOC);
		if (!linebuf || !smem) {
			rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		} else {
			mm_arena_init(&scratch, smem, CT_SCRATCH_CAP);
			for (k = 0; k < res->files.n; k++)
				if (maybe_cloudtrail(res->files.paths[k]))
					learn_file(res->files.paths[k], q->inv, linebuf, &scratch,
						   &doc, &res->instances_learned);
		}
		mm_buf_free(&doc);
		mm_free(linebuf);
		mm_free(smem);
		if (rc)
			return rc;
	}
	for (i = 0; i < q->ninstances; i++) {
		const struct mm_instance *in =
			q->inv ? mm_inventory_by_id(q->inv, q->instances[i], strlen(q->instances[i]))
			       : NULL;
		int n;
		if (!in) {
			res->instances_unknown++;
			mm_warn("%s is in no inventory (--inventory, the database's, or RunInstances "
				"in the input): only records that name it (instance-id, flow logs "
				"v3+) match",
				q->instances[i]);
			continue;
		}
		for (n = 0; n < in->nnif; n++)
			if (in->nifs[n].eni[0] && mm_flows_add_eni(q, in->nifs[n].eni) == MM_ETOOBIG)
				return mm_err_set(err, MM_ETOOBIG,
						  "more than %d interfaces to look for; ask for fewer "
						  "instances at a time",
						  MM_FLOWS_MAX_TARGETS);
	}
	return 0;
}

/* ---- workers ------------------------------------------------------------- */

struct run;

struct worker {
	struct run *run;
	pthread_t th;
	char *scratch_mem, *linebuf;
	struct mm_arena scratch;
	struct rows rows;
	struct gtab groups;
	uint64_t matched, records, bad, bytes_in;
	uint64_t files_read, files_other, files_failed, files_pruned;
	int failed;		/* MM_ENOMEM / MM_ETOOBIG: stop */
};

struct run {
	const struct mm_flows_query *q;
	const struct mm_filelist *fl;
	atomic_size_t next;
	atomic_uint_fast64_t prog_files, prog_records, prog_matched;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running;
};

static void summarise(struct worker *w, const struct mm_flow *f, int sl)
{
	const struct mm_flows_query *q = w->run->q;
	struct mm_flows_group k;
	int src_local = sl < 0 ? 1 : sl; /* undecided: the source is ours */
	int rc;

	memset(&k, 0, sizeof(k));
	if (q->mode != MM_FLOWS_BYTES && !f->has_addrs)
		return; /* NODATA / SKIPDATA: no peer, no port */
	switch (q->mode) {
	case MM_FLOWS_TALKERS:
		k.remote = src_local ? f->dst : f->src;
		break;
	case MM_FLOWS_PORTS: {
		uint16_t lp = src_local ? f->sport : f->dport, rp = src_local ? f->dport : f->sport;
		k.proto = f->proto;
		if (f->has_ports) {
			k.dir = (uint8_t)mm_flow_initiator(f->proto, lp, rp, src_local, 0);
			k.port = k.dir == MM_DIR_OUTBOUND ? rp : lp;
		} else {
			k.dir = src_local ? MM_DIR_OUTBOUND : MM_DIR_INBOUND;
		}
		break;
	}
	default:
		k.hour = f->start - (f->start % 3600 + 3600) % 3600;
		break;
	}
	k.flows = 1;
	k.packets = f->packets;
	k.bytes = f->bytes;
	if (sl == 1)
		k.bytes_out = f->bytes;
	else if (sl == 0)
		k.bytes_in = f->bytes;
	k.accepts = f->action == MM_ACT_ACCEPT;
	k.rejects = f->action == MM_ACT_REJECT;
	k.first = f->start;
	k.last = f->end;
	if ((rc = gtab_add(&w->groups, &k)))
		w->failed = rc;
}

static void keep_row(struct worker *w, const struct mm_flow *f, int sl, uint32_t file,
		     uint64_t line)
{
	struct mm_flow_row *r = rows_push(&w->rows, w->run->q->limit);

	if (!r) {
		w->failed = w->rows.n >= MM_FLOWS_MAX_ROWS ? MM_ETOOBIG : MM_ENOMEM;
		return;
	}
	memset(r, 0, sizeof(*r));
	r->start = f->start;
	r->end = f->end;
	r->packets = f->packets;
	r->bytes = f->bytes;
	r->line = line;
	r->file = file;
	r->sport = f->sport;
	r->dport = f->dport;
	r->proto = f->proto;
	r->action = (uint8_t)f->action;
	r->status = (uint8_t)f->status;
	r->has_addrs = f->has_addrs;
	r->has_ports = f->has_ports;
	r->src_local = (int8_t)sl;
	r->src = f->src;
	r->dst = f->dst;
	mm_str_copy(r->eni, sizeof(r->eni), f->eni);
	mm_str_copy(r->instance, sizeof(r->instance), f->instance_id);
	mm_str_copy(r->account, sizeof(r->account), f->account);
}

/* Does the line hold one of the target ids as text? A record's
 * interface-id and instance-id are slices of a plain line, so one that
 * holds none of them cannot match; a substring search is a fraction of a
 * parse. Past PREFILTER_MAX targets the searches would cost more. */
#define PREFILTER_MAX 8

static int holds_target(const struct mm_flows_query *q, const char *line, size_t n)
{
	size_t i;
	for (i = 0; i < q->nenis; i++)
		if (memmem(line, n, q->enis[i], strlen(q->enis[i])))
			return 1;
	for (i = 0; i < q->ninstances; i++)
		if (memmem(line, n, q->instances[i], strlen(q->instances[i])))
			return 1;
	return 0;
}

static void read_file(struct worker *w, size_t idx)
{
	const struct mm_flows_query *q = w->run->q;
	const char *path = w->run->fl->paths[idx];
	struct mm_reader rd;
	struct mm_lines ln;
	struct mm_flow_fmt ffmt;
	struct mm_event ev;
	struct mm_err e;
	const char *head, *line;
	size_t headn, n;
	uint64_t recs = 0;
	int rc, prefilter;

	mm_err_clear(&e);
	if (mm_reader_open(&rd, path, 0, &e)) {
		mm_error("%s", e.msg);
		w->files_failed++;
		return;
	}
	if (mm_lines_init_buf(&ln, &rd, w->linebuf, LINE_BUF_CAP, MAX_LINE, 0, 0)) {
		w->files_failed++;
		mm_reader_close(&rd);
		return;
	}
	rc = mm_lines_peek(&ln, &head, &headn, &e);
	if (mm_format_detect(path, head, headn, MM_SRC_AUTO) != MM_FMT_FLOW) {
		if (rc < 0 || ln.pending_err) {
			/* damaged before a first whole line (a cut .gz): say so */
			w->bad++;
			mm_log_located(ln.pending_err && ln.perr.msg[0] ? ln.perr.msg
				       : e.msg[0] ? e.msg : mm_strerror(rc));
		} else {
			w->files_other++;
		}
		goto out;
	}
	w->files_read++;
	mm_flow_fmt_auto(&ffmt);
	prefilter = q->nenis + q->ninstances > 0 && q->nenis + q->ninstances <= PREFILTER_MAX;
	while ((rc = mm_lines_next(&ln, &line, &n, &e)) != 0) {
		int sl;
		if (rc == MM_ETOOBIG) {
			w->bad++;
			mm_log_record_error(path, ln.line, e.msg);
			continue;
		}
		if (rc < 0) {
			/* damage: the lines before it were read */
			w->bad++;
			mm_log_located(e.msg);
			break;
		}
		if (n == 0)
			continue;
		if (prefilter && line[0] >= '0' && line[0] <= '9' && !holds_target(q, line, n)) {
			/* a plain record (not a header, not a CloudWatch JSON line)
			 * that holds none of the ids cannot match: not parsed */
			if ((++recs & 65535) == 0)
				atomic_fetch_add_explicit(&w->run->prog_records, 65536,
							  memory_order_relaxed);
			continue;
		}
		mm_arena_reset(&w->scratch);
		rc = mm_flow_parse(&ffmt, line, n, &w->scratch, &ev, &e);
		if (rc == MM_ESKIP)
			continue;
		if (rc) {
			w->bad++;
			mm_log_record_error(path, ln.line, e.msg[0] ? e.msg : mm_strerror(rc));
			continue;
		}
		if ((++recs & 65535) == 0)
			atomic_fetch_add_explicit(&w->run->prog_records, 65536, memory_order_relaxed);
		if (!mm_flows_match(q, &ev.u.flow, &sl))
			continue;
		w->matched++;
		atomic_fetch_add_explicit(&w->run->prog_matched, 1, memory_order_relaxed);
		if (q->mode == MM_FLOWS_ROWS)
			keep_row(w, &ev.u.flow, sl, (uint32_t)idx, ln.line);
		else
			summarise(w, &ev.u.flow, sl);
		if (MM_UNLIKELY(w->failed))
			break;
	}
	atomic_fetch_add_explicit(&w->run->prog_records, recs & 65535, memory_order_relaxed);
	w->records += recs;
out:
	w->bytes_in += rd.raw_read;
	mm_lines_free(&ln);
	mm_reader_close(&rd);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;

	for (;;) {
		size_t i;
		if (atomic_load(&r->stop))
			break;
		i = atomic_fetch_add(&r->next, 1);
		if (i >= r->fl->n)
			break;
		if (mm_flows_prune(r->q, r->fl->paths[i]))
			w->files_pruned++;
		else
			read_file(w, i);
		atomic_fetch_add_explicit(&r->prog_files, 1, memory_order_relaxed);
		if (w->failed)
			atomic_store(&r->stop, 1);
	}
	pthread_mutex_lock(&r->mu);
	r->running--;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void progress_line(struct run *r, double secs, int final)
{
	uint64_t recs = atomic_load(&r->prog_records);
	fprintf(stderr, "\r\033[Kflows: %llu/%zu files, %.2fM records (%.2fM/s), %llu match%s",
		(unsigned long long)atomic_load(&r->prog_files), r->fl->n, (double)recs / 1e6,
		secs > 0 ? (double)recs / 1e6 / secs : 0.0,
		(unsigned long long)atomic_load(&r->prog_matched), final ? "\n" : "");
	fflush(stderr);
}

/* Summary order: hours ascending; otherwise bytes, then flows,
 * descending, then the key, so ties print the same on every run. */
static int group_cmp(const void *pa, const void *pb, void *mode)
{
	const struct mm_flows_group *a = pa, *b = pb;
	int c;

	if (*(const enum mm_flows_mode *)mode == MM_FLOWS_BYTES)
		return a->hour < b->hour ? -1 : a->hour > b->hour;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->flows != b->flows)
		return a->flows > b->flows ? -1 : 1;
	if (a->remote.v6 != b->remote.v6)
		return a->remote.v6 - b->remote.v6;
	if ((c = memcmp(a->remote.b, b->remote.b, 16)))
		return c;
	if (a->dir != b->dir)
		return a->dir - b->dir;
	if (a->proto != b->proto)
		return a->proto - b->proto;
	return a->port - b->port;
}

static int merge(const struct mm_flows_query *q, struct worker *ws, int nw,
		 struct mm_flows_result *res)
{
	int i;
	size_t k, total = 0;
	struct gtab all = {NULL, 0, 0};

	for (i = 0; i < nw; i++) {
		struct worker *w = &ws[i];
		res->matched += w->matched;
		res->records += w->records;
		res->bad_records += w->bad;
		res->files_read += w->files_read;
		res->files_other += w->files_other;
		res->files_failed += w->files_failed;
		res->files_pruned += w->files_pruned;
		res->bytes_in += w->bytes_in;
		total += w->rows.n;
	}
	if (q->mode == MM_FLOWS_ROWS) {
		/* grow the biggest worker's array and move the others into it,
		 * freeing each: the peak stays near one copy of the rows */
		int big = 0;
		for (i = 1; i < nw; i++)
			if (ws[i].rows.n > ws[big].rows.n)
				big = i;
		res->rows = mm_realloc(ws[big].rows.r, (total ? total : 1) * sizeof(*res->rows));
		if (!res->rows)
			return MM_ENOMEM;
		ws[big].rows.r = NULL;
		res->nrows = ws[big].rows.n;
		for (i = 0; i < nw; i++) {
			if (i == big)
				continue;
			if (ws[i].rows.n)
				memcpy(res->rows + res->nrows, ws[i].rows.r,
				       ws[i].rows.n * sizeof(*res->rows));
			res->nrows += ws[i].rows.n;
			mm_free(ws[i].rows.r);
			ws[i].rows.r = NULL;
		}
		qsort(res->rows, res->nrows, sizeof(*res->rows), row_cmp);
		if (q->limit && res->nrows > q->limit)
			res->nrows = q->limit;
		return 0;
	}
	for (i = 0; i < nw; i++)
		for (k = 0; k < ws[i].groups.cap; k++)
			if (ws[i].groups.g[k].flows) {
				int rc = gtab_add(&all, &ws[i].groups.g[k]);
				if (rc) {
					mm_free(all.g);
					return rc;
				}
			}
	res->groups = mm_malloc((all.n ? all.n : 1) * sizeof(*res->groups));
	if (!res->groups) {
		mm_free(all.g);
		return MM_ENOMEM;
	}
	for (k = 0; k < all.cap; k++)
		if (all.g[k].flows)
			res->groups[res->ngroups++] = all.g[k];
	mm_free(all.g);
	qsort_r(res->groups, res->ngroups, sizeof(*res->groups), group_cmp, (void *)&q->mode);
	return 0;
}

int mm_flows_run(const struct mm_flows_query *query, const char *const *paths, size_t npaths,
		 struct mm_flows_result *res, struct mm_err *err)
{
	struct mm_flows_query *q = NULL;	/* the query with instances resolved */
	struct run r;
	struct worker *ws = NULL;
	struct timespec t0;
	int nthreads, i, started = 0, rc = 0;

	memset(res, 0, sizeof(*res));
	mm_filelist_init(&res->files);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = mm_walk_paths(&res->files, paths, npaths, err)))
		return rc;
	mm_filelist_sort(&res->files);
	if (res->files.n > UINT32_MAX)
		return mm_err_set(err, MM_ETOOBIG, "too many files");
	if (!(q = mm_malloc(sizeof(*q))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	*q = *query;
	if ((rc = resolve_instances(q, res, err))) {
		mm_free(q);
		return rc;
	}

	nthreads = q->threads;
	memset(&r, 0, sizeof(r));
	r.q = q;
	r.fl = &res->files;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	if (nthreads <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = c > 0 ? (int)c : 1;
	}
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	if ((size_t)nthreads > res->files.n)
		nthreads = res->files.n ? (int)res->files.n : 1;
	ws = mm_calloc((size_t)nthreads, sizeof(*ws));
	if (!ws) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nthreads; i++) {
		ws[i].run = &r;
		ws[i].scratch_mem = mm_malloc(SCRATCH_CAP);
		ws[i].linebuf = mm_malloc(LINE_BUF_CAP);
		if (!ws[i].scratch_mem || !ws[i].linebuf) {
			rc = mm_err_set(err, MM_ENOMEM, "out of memory");
			goto out;
		}
		mm_arena_init(&ws[i].scratch, ws[i].scratch_mem, SCRATCH_CAP);
	}
	pthread_mutex_lock(&r.mu);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) {
			rc = mm_err_set(err, MM_ENOMEM, "cannot start a thread");
			atomic_store(&r.stop, 1);
			break;
		}
		started++;
		r.running++;
	}
	while (r.running > 0) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r.cv, &r.mu, &until);
		if (q->progress && r.running > 0)
			progress_line(&r, since(&t0), 0);
	}
	pthread_mutex_unlock(&r.mu);
	for (i = 0; i < started; i++)
		pthread_join(ws[i].th, NULL);
	if (q->progress)
		progress_line(&r, since(&t0), 1);
	if (rc)
		goto out;
	for (i = 0; i < nthreads; i++)
		if (ws[i].failed) {
			rc = ws[i].failed == MM_ETOOBIG
				     ? mm_err_set(err, MM_ETOOBIG,
						  "more than %d %s match; narrow the query "
						  "(--since/--until, --remote, --port) or use --limit",
						  q->mode == MM_FLOWS_ROWS ? MM_FLOWS_MAX_ROWS
									   : MM_FLOWS_MAX_GROUPS,
						  q->mode == MM_FLOWS_ROWS ? "flows" : "groups")
				     : mm_err_set(err, MM_ENOMEM, "out of memory");
			goto out;
		}
	if ((rc = merge(q, ws, nthreads, res)))
		rc = mm_err_set(err, rc, rc == MM_ETOOBIG ? "too many groups; narrow the query"
							  : "out of memory");
	res->seconds = since(&t0);
out:
	for (i = 0; ws && i < nthreads; i++) {
		mm_free(ws[i].scratch_mem);
		mm_free(ws[i].linebuf);
		mm_free(ws[i].rows.r);
		mm_free(ws[i].groups.g);
	}
	mm_free(ws);
	mm_free(q);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	return rc;
}

void mm_flows_result_free(struct mm_flows_result *res)
{
	mm_free(res->rows);
	mm_free(res->groups);
	mm_filelist_free(&res->files);
	memset(res, 0, sizeof(*res));
}
