/* scan.c - the scan pipeline (see scan.h for the shape). */
#include "scan/scan.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "detect/detect.h"
#include "enrich/inventory.h"
#include "finding/output.h"
#include "input/reader.h"
#include "input/walk.h"
#include "parse/cloudtrail.h"
#include "parse/flowlog.h"
#include "parse/route53.h"
#include "store/store.h"

#ifndef MM_DATADIR
#define MM_DATADIR "/usr/local/share/mamori"
#endif

#define SCRATCH_CAP (1u << 20)
#define LINE_BUF_CAP (MM_CT_MAX_RECORD + (1u << 20))
#define MAX_DOC ((size_t)1 << 30)
#define HEAD_HASH_BYTES 4096
#define DEFAULT_MAX_FINDINGS 100000
#define SPLIT_MIN ((uint64_t)64 << 20)		/* split plain files from this size */
#define SPLIT_PART_MIN ((uint64_t)16 << 20)	/* and into parts no smaller */
#define SPLIT_BUF ((size_t)1 << 20)
#define MAX_UNKNOWN_WARNINGS 10u

/* Per-file outcome, written to the store by the main thread. */
struct file_job {
	const char *path;		/* borrowed from the file list */
	struct mm_file_state prev;	/* remembered progress */
	int has_prev;
	struct mm_file_state now;	/* progress after this run */
	int record;			/* write now to the store */
	/* A big plain line-oriented file is cut at line boundaries into
	 * parts that workers read in parallel: part is -1 for a whole file,
	 * else 0..nparts-1 covering bytes [start, end) whose first line is
	 * line first_line + 1. Part 0 records the file's state for all. */
	int part, nparts;
	uint64_t start, end, first_line;
	uint64_t total_lines;		/* part 0: lines in the whole file */
};

struct worker;

struct scan {
	const struct mm_scan_opts *o;
	struct mm_intel *intel;
	struct mm_inventory *inv;
	struct file_job *jobs;
	size_t njobs;
	atomic_size_t next;
	atomic_uint_fast64_t bytes, records, files_done;
	atomic_uint unknown_warned;
};

struct worker {
	struct scan *s;
	pthread_t th;
	char *scratch_mem;
	struct mm_arena scratch;
	struct mm_detector det;
	struct mm_agg *agg;
	struct mm_inventory *learned;
	struct mm_scan_result r;	/* counts only */
	struct mm_buf doc;
	char *linebuf;			/* LINE_BUF_CAP, reused for every file */
	int failed;
	struct mm_err err;
};

static char data_dir_buf[PATH_MAX];

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *mm_data_dir(void)
{
	const char *env = getenv("MAMORI_DATA");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(data_dir_buf, sizeof(data_dir_buf), "%s", env);
		return is_dir(data_dir_buf) ? data_dir_buf : NULL;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(data_dir_buf, sizeof(data_dir_buf), "%s/../data", exe);
			if (is_dir(data_dir_buf))
				return data_dir_buf;
			snprintf(data_dir_buf, sizeof(data_dir_buf), "%s/../share/mamori", exe);
			if (is_dir(data_dir_buf))
				return data_dir_buf;
		}
	}
	snprintf(data_dir_buf, sizeof(data_dir_buf), "%s", MM_DATADIR);
	return is_dir(data_dir_buf) ? data_dir_buf : NULL;
}

/* The bundled lists: maltrail's mining pools, the Tor relay and exit lists. */
static const struct {
	enum mm_intel_cat cat;
	const char *rel;
} bundled[] = {
	{MM_CAT_MINING, "intel/crypto_mining.txt"},
	{MM_CAT_TOR, "intel/tor-nodes.lst"},
	{MM_CAT_TOREXIT, "intel/tor-exit-nodes.lst"},
};

static int load_intel(struct scan *s, struct mm_scan_result *res, struct mm_err *err)
{
	const struct mm_scan_opts *o = s->o;
	int i, rc;

	if ((rc = mm_intel_new(&s->intel)))
		return mm_err_set(err, rc, "out of memory");
	if (!o->no_default_lists) {
		const char *dd = mm_data_dir();
		if (!dd) {
			mm_warn("bundled threat lists not found (set MAMORI_DATA to the data folder, "
				"or pass --no-default-lists)");
		} else {
			for (i = 0; i < (int)MM_ARRAY_LEN(bundled); i++) {
				char p[PATH_MAX + 64];
				snprintf(p, sizeof(p), "%s/%s", dd, bundled[i].rel);
				if ((rc = mm_intel_load(s->intel, bundled[i].cat, p, NULL, NULL, err)))
					return rc;
			}
		}
	}
	for (i = 0; i < o->nlists; i++)
		if ((rc = mm_intel_load(s->intel, o->lists[i].cat, o->lists[i].path, NULL, NULL, err)))
			return rc;
	for (i = 0; i < o->ntrusted; i++)
		if ((rc = mm_intel_load_trusted(s->intel, o->trusted[i], err)))
			return rc;
	if ((rc = mm_intel_build(s->intel, err)))
		return rc;
	res->intel_entries = mm_intel_count(s->intel);
	return 0;
}

static void flush_progress(struct worker *w, uint64_t *records, uint64_t *bytes)
{
	if (*records) {
		atomic_fetch_add_explicit(&w->s->records, *records, memory_order_relaxed);
		*records = 0;
	}
	if (*bytes) {
		atomic_fetch_add_explicit(&w->s->bytes, *bytes, memory_order_relaxed);
		*bytes = 0;
	}
}

static void bad_record(struct worker *w, const char *path, uint64_t line, const struct mm_err *e)
{
	w->r.bad_records++;
	mm_log_record_error(path, line, e->msg[0] ? e->msg : mm_strerror(e->code));
}

static void count_event(struct worker *w, const struct mm_event *ev)
{
	switch (ev->kind) {
	case MM_EV_FLOW: w->r.records_flow++; break;
	case MM_EV_DNS: w->r.records_dns++; break;
	case MM_EV_API: w->r.records_api++; break;
	default: break;
	}
}

/* Hash of the file's first min(limit, HEAD_HASH_BYTES) raw bytes: it
 * identifies the content across runs. A file that only grew keeps the
 * hash of its old prefix, so comparing with the length hashed last time
 * tells "appended to" from "replaced". */
static uint64_t head_hash(const char *path, uint64_t limit, uint64_t *size, int64_t *mtime)
{
	unsigned char b[HEAD_HASH_BYTES];
	struct stat st;
	FILE *f;
	size_t n;

	*size = 0;
	*mtime = 0;
	if (strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0) {
		*size = (uint64_t)st.st_size;
		*mtime = (int64_t)st.st_mtime;
	}
	f = fopen(path, "rb");
	if (!f)
		return 0;
	n = fread(b, 1, (size_t)MM_MIN((uint64_t)sizeof(b), limit), f);
	fclose(f);
	return mm_hash(b, n, 0x68656164ULL) | 1; /* never 0 */
}

/* Line-oriented formats: flow, DNS, CloudTrail JSON lines. */
static int scan_lines(struct worker *w, struct file_job *job, enum mm_format fmt,
		      struct mm_lines *ln, struct mm_reader *rd, struct mm_flow_fmt *ffmt,
		      uint64_t raw_base)
{
	uint64_t stop = job->part >= 0 ? job->end : UINT64_MAX;
	const char *line;
	size_t n;
	uint64_t recs = 0, last_raw = raw_base; /* bytes of this file already counted */
	struct mm_event ev;
	struct mm_err e;
	int rc;

	for (;;) {
		rc = mm_lines_next(ln, &line, &n, &e);
		if (rc == 0)
			break;
		if (rc == MM_ETOOBIG) {
			bad_record(w, job->path, ln->line, &e);
			continue;
		}
		if (rc < 0) {
			/* stream damage: the lines before were processed */
			w->r.bad_records++;
			mm_log_record_error(job->path, ln->line + 1, e.msg);
			job->now.complete = 0;
			goto out;
		}
		if (MM_UNLIKELY(ln->line_offset >= stop))
			break; /* the next part's first line */
		if (n == 0 || (n == 1 && line[0] == ' '))
			continue;
		mm_arena_reset(&w->scratch);
		e.code = 0;
		e.msg[0] = '\0';
		/* no memset of ev: each parser sets kind and clears its own part */
		switch (fmt) {
		case MM_FMT_FLOW:
			rc = mm_flow_parse(ffmt, line, n, &w->scratch, &ev, &e);
			break;
		case MM_FMT_DNS:
			rc = mm_dns_parse(line, n, &w->scratch, &ev, &e);
			break;
		default:
			rc = mm_ct_parse_line(line, n, &w->scratch, &ev, &e);
			break;
		}
		if (rc == MM_ESKIP) {
			w->r.records_skipped++;
			continue;
		}
		if (rc) {
			bad_record(w, job->path, ln->line, &e);
			continue;
		}
		ev.loc.file = job->path;
		ev.loc.line = ln->line;
		ev.loc.offset = ln->line_offset;
		count_event(w, &ev);
		mm_detect_event(&w->det, &ev);
		if (++recs >= 65536) {
			uint64_t b = rd->raw_read - last_raw;
			last_raw = rd->raw_read;
			flush_progress(w, &recs, &b);
		}
	}
	job->now.complete = 1;
out:
	job->now.offset = ln->offset + ln->start;
	job->now.line = ln->line;
	{
		uint64_t b = rd->raw_read - last_raw;
		flush_progress(w, &recs, &b);
	}
	return 0;
}

static int scan_ct_doc(struct worker *w, struct file_job *job, struct mm_reader *rd,
		       const char *head, size_t headn)
{
	struct mm_ct_doc doc;
	struct mm_event ev;
	struct mm_err e;
	uint64_t line, off, recs = 0, b;
	int rc, slurp_rc = 0;
	const char *dp;
	size_t dn;
	void *map = NULL;
	size_t map_n = 0;

	/* A plain file is mapped, not copied: the page cache is the buffer.
	 * gzip and stdin are inflated into the worker's reusable buffer. */
	if (!rd->gz && strcmp(job->path, "-") != 0) {
		int fd = open(job->path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size <= MAX_DOC) {
			map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (map == MAP_FAILED) {
				map = NULL;
			} else {
				map_n = (size_t)st.st_size;
				madvise(map, map_n, MADV_SEQUENTIAL);
			}
		}
		if (fd >= 0)
			close(fd);
	}
	if (map) {
		dp = map;
		dn = map_n;
	} else {
		mm_buf_reset(&w->doc);
		if ((rc = mm_buf_add(&w->doc, head, headn))) {
			mm_error("%s: out of memory", job->path);
			return rc;
		}
		slurp_rc = mm_reader_slurp(rd, &w->doc, &e);
		if (slurp_rc && slurp_rc != MM_ETRUNC) {
			w->r.bad_records++;
			mm_log_record_error(job->path, 1, e.msg);
			if (slurp_rc != MM_EPARSE)
				return 0;
		}
		dp = w->doc.p;
		dn = w->doc.len;
	}
	if (mm_ct_doc_init(&doc, dp, dn, &e)) {
		bad_record(w, job->path, 1, &e);
		if (map)
			munmap(map, map_n);
		return 0;
	}
	for (;;) {
		mm_err_clear(&e);
		rc = mm_ct_doc_next_event(&doc, &w->scratch, &ev, &line, &off, &e);
		if (rc == 0)
			break;
		if (rc == MM_EPARSE) {
			bad_record(w, job->path, line, &e);
			continue;
		}
		if (rc < 0) {
			bad_record(w, job->path, line, &e);
			break;
		}
		ev.loc.file = job->path;
		ev.loc.line = line;
		ev.loc.offset = off;
		count_event(w, &ev);
		mm_detect_event(&w->det, &ev);
		recs++;
	}
	if (slurp_rc == MM_ETRUNC)
		mm_log_record_error(job->path, doc.line, "gzip stream ends early (truncated file)");
	b = map ? map_n : rd->raw_read;
	flush_progress(w, &recs, &b);
	job->now.complete = slurp_rc == 0;
	job->now.offset = dn;
	job->now.line = doc.line;
	if (map)
		munmap(map, map_n);
	return 0;
}

static void scan_file(struct worker *w, struct file_job *job)
{
	struct mm_reader rd;
	struct mm_lines ln;
	struct mm_flow_fmt ffmt;
	struct mm_file_ctx fc;
	struct mm_err e;
	const char *head;
	size_t headn;
	enum mm_format fmt = MM_FMT_UNKNOWN;
	uint64_t start_off = 0, start_line = 0;
	int have_reader = 0, have_lines = 0, rc;

	memset(&job->now, 0, sizeof(job->now));
	job->now.head_hash = head_hash(job->path, UINT64_MAX, &job->now.size, &job->now.mtime);
	if (job->part >= 0) {
		/* a part of a split file: read only [start, end) */
		start_off = job->start;
		start_line = job->first_line;
	} else if (job->has_prev && !w->s->o->rescan && strcmp(job->path, "-") != 0 &&
		   job->prev.size <= job->now.size &&
		   job->prev.head_hash ==
			   (job->prev.size >= HEAD_HASH_BYTES
				    ? job->now.head_hash /* same bytes hashed: no second read */
				    : head_hash(job->path, job->prev.size, &(uint64_t){0},
						&(int64_t){0}))) {
		/* same content, same size: done before (a truncated .gz too: it
		 * was read as far as it goes) */
		if (job->prev.size == job->now.size) {
			w->r.files_done_before++;
			return;
		}
		if (job->prev.offset && job->now.size > job->prev.size) {
			start_off = job->prev.offset;
			start_line = job->prev.line;
		}
	}
	mm_file_ctx_from_path(&fc, job->path);
	w->det.file = &fc;

	/* detect the format (and a flow header) from the start of the stream */
	if ((rc = mm_reader_open(&rd, job->path, 0, &e))) {
		mm_error("%s", e.msg);
		w->r.files_failed++;
		return;
	}
	have_reader = 1;
	if ((rc = mm_lines_init_buf(&ln, &rd, w->linebuf, LINE_BUF_CAP, MM_CT_MAX_RECORD, 0, 0))) {
		mm_error("%s: out of memory", job->path);
		w->r.files_failed++;
		goto out;
	}
	have_lines = 1;
	mm_lines_peek(&ln, &head, &headn, &e);
	fmt = mm_format_detect(job->path, head, headn, w->s->o->source);
	mm_flow_fmt_auto(&ffmt);
	switch (fmt) {
	case MM_FMT_EMPTY:
		w->r.files_empty++;
		job->now.complete = 1;
		job->record = 1;
		goto out;
	case MM_FMT_CT_DIGEST:
		w->r.files_digest++;
		job->now.complete = 1;
		job->record = 1;
		goto out;
	case MM_FMT_UNKNOWN: {
		char first[81];
		size_t k = 0;
		while (k < headn && k < 80 && head[k] != '\n' && head[k] != '\r') {
			first[k] = (head[k] >= 0x20 && head[k] < 0x7f) ? head[k] : '?';
			k++;
		}
		first[k] = '\0';
		/* a folder of other files must not flood the terminal: the first
		 * few are named, the summary counts them all */
		if (atomic_fetch_add(&w->s->unknown_warned, 1) < MAX_UNKNOWN_WARNINGS)
			mm_warn("%s: not a known log format (starts \"%s\"); skipped. Use --source "
				"flow|cloudtrail|dns to force one", job->path, first);
		w->r.files_unknown++;
		goto out;
	}
	case MM_FMT_CT_DOC:
		w->r.files++;
		scan_ct_doc(w, job, &rd, head, headn);
		ln.start = ln.end; /* consumed by the slurp */
		job->record = 1;
		goto out;
	default:
		break;
	}
	if (job->part <= 0)
		w->r.files++;
	if (rd.gz)
		start_off = 0; /* gzip cannot be resumed mid-stream: read it whole */
	if (start_off) {
		/* resume: take the flow header from line 1, then jump */
		const char *l1;
		size_t n1;
		if (fmt == MM_FMT_FLOW && mm_lines_next(&ln, &l1, &n1, &e) == 1 &&
		    mm_flow_classify(l1, n1) == MM_FLOW_LINE_HEADER)
			mm_flow_fmt_header(&ffmt, l1, n1, &e);
		mm_lines_free(&ln);
		have_lines = 0;
		mm_reader_close(&rd);
		have_reader = 0;
		if ((rc = mm_reader_open(&rd, job->path, start_off, &e))) {
			mm_error("%s", e.msg);
			w->r.files_failed++;
			goto out;
		}
		have_reader = 1;
		if ((rc = mm_lines_init_buf(&ln, &rd, w->linebuf, LINE_BUF_CAP, MM_CT_MAX_RECORD,
					    start_off, start_line))) {
			w->r.files_failed++;
			goto out;
		}
		have_lines = 1;
	}
	scan_lines(w, job, fmt, &ln, &rd, &ffmt, start_off);
	job->record = job->part <= 0;
	if (job->part == 0) {
		/* the parts together read the whole file */
		job->now.complete = 1;
		job->now.offset = job->now.size;
		job->now.line = job->total_lines;
	}
out:
	atomic_fetch_add_explicit(&w->s->files_done, 1, memory_order_relaxed);
	if (have_lines)
		mm_lines_free(&ln);
	if (have_reader) {
		if (job->now.size == 0)
			job->now.size = rd.raw_read;
		mm_reader_close(&rd);
	}
	w->det.file = NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct scan *s = w->s;
	for (;;) {
		size_t i = atomic_fetch_add(&s->next, 1);
		if (i >= s->njobs)
			break;
		scan_file(w, &s->jobs[i]);
	}
	return NULL;
}

static int worker_init(struct worker *w, struct scan *s)
{
	int rc;
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->scratch_mem = mm_malloc(SCRATCH_CAP);
	w->linebuf = mm_malloc(LINE_BUF_CAP);
	w->det.memo = mm_calloc(1, sizeof(struct mm_ipmemo));
	if (!w->scratch_mem || !w->linebuf || !w->det.memo)
		return MM_ENOMEM;
	mm_arena_init(&w->scratch, w->scratch_mem, SCRATCH_CAP);
	if ((rc = mm_agg_new(&w->agg, s->o->max_findings ? s->o->max_findings
							     : DEFAULT_MAX_FINDINGS)))
		return rc;
	if ((rc = mm_inventory_new(&w->learned)))
		return rc;
	mm_buf_init(&w->doc, MAX_DOC);
	w->det.intel = s->intel; /* det.memo was set above */
	w->det.inv = s->inv;
	w->det.learned = w->learned;
	w->det.agg = w->agg;
	return 0;
}

static void worker_free(struct worker *w)
{
	mm_free(w->scratch_mem);
	mm_free(w->linebuf);
	mm_free(w->det.memo);
	mm_agg_free(w->agg);
	mm_inventory_free(w->learned);
	mm_buf_free(&w->doc);
}

static void add_counts(struct mm_scan_result *r, const struct mm_scan_result *x)
{
	r->files += x->files;
	r->files_done_before += x->files_done_before;
	r->files_unknown += x->files_unknown;
	r->files_empty += x->files_empty;
	r->files_digest += x->files_digest;
	r->files_failed += x->files_failed;
	r->records_flow += x->records_flow;
	r->records_dns += x->records_dns;
	r->records_api += x->records_api;
	r->records_skipped += x->records_skipped;
	r->bad_records += x->bad_records;
}

/* Name the instance behind ENI- or address-keyed findings. */
static void resolve(struct mm_finding *f, const struct mm_inventory *inv)
{
	const struct mm_instance *inst = NULL;
	if (f->res_type != MM_RES_INSTANCE)
		return;
	if (f->instance_id[0])
		inst = mm_inventory_by_id(inv, f->instance_id, strlen(f->instance_id));
	if (!inst && f->eni[0])
		inst = mm_inventory_by_eni(inv, f->eni, strlen(f->eni));
	if (!inst && f->local_ip_key[0]) {
		struct mm_ip ip;
		if (mm_ip_parse(f->local_ip_key, strlen(f->local_ip_key), &ip) == 0)
			inst = mm_inventory_by_ip(inv, &ip);
	}
	if (!inst)
		return;
	snprintf(f->instance_id, sizeof(f->instance_id), "%s", inst->instance_id);
	if (!f->eni[0] && inst->nnif)
		snprintf(f->eni, sizeof(f->eni), "%s", inst->nifs[0].eni);
	if (!f->account[0])
		snprintf(f->account, sizeof(f->account), "%s", inst->account);
	if (!f->region[0] && inst->az[0]) {
		size_t n = strlen(inst->az);
		/* us-east-1a -> us-east-1 */
		snprintf(f->region, sizeof(f->region), "%.*s", (int)(n > 1 ? n - 1 : n), inst->az);
	}
}

static void progress_line(struct scan *s, double secs, int final)
{
	uint64_t b = atomic_load(&s->bytes), r = atomic_load(&s->records);
	uint64_t fd = atomic_load(&s->files_done);
	fprintf(stderr,
		"\r\033[Kscanning: %llu/%zu files, %.2fM records (%.2fM/s), %.0f MB read (%.0f MB/s)%s",
		(unsigned long long)fd, s->njobs, (double)r / 1e6,
		secs > 0 ? (double)r / 1e6 / secs : 0.0, (double)b / 1e6,
		secs > 0 ? (double)b / 1e6 / secs : 0.0, final ? "\n" : "");
	fflush(stderr);
}

struct inv_load_ctx {
	struct mm_inventory *inv;
};

static int inv_row(void *ctx, const char *id, const char *json)
{
	struct inv_load_ctx *c = ctx;
	(void)id;
	mm_inventory_add_details_json(c->inv, json, strlen(json), NULL);
	return 0;
}

static int write_results(struct scan *s, struct mm_store *st, struct mm_agg *final,
			 struct mm_scan_result *res, struct mm_err *err)
{
	struct mm_buf js;
	size_t i;
	int rc = 0;
	int64_t now = res->started_ms;
	double t_load = 0, t_json = 0, t_put = 0;
	struct timespec tp;

	mm_buf_init(&js, 16u << 20);
	if ((rc = mm_store_begin(st, err)))
		goto out;
	for (i = 0; i < mm_agg_count(final); i++) {
		struct mm_finding *f = mm_agg_at(final, i);
		struct mm_finding old;
		int found;

		if (f->archived < 0)
			continue; /* dropped (e.g. TorClient folded into TorRelay) */
		/* With an inventory, an interface or address it does not know is not
		 * an instance's (NAT gateway, load balancer, endpoint, resolver
		 * endpoint): GuardDuty raises EC2 findings on instances only. */
		if (f->res_type == MM_RES_INSTANCE && !f->instance_id[0] &&
		    mm_inventory_count(s->inv) > 0 && !s->o->report_unknown_enis) {
			res->findings_unattributed++;
			continue;
		}
		if (!f->region[0] && s->o->default_region)
			snprintf(f->region, sizeof(f->region), "%s", s->o->default_region);
		mm_finding_make_id(f);
		memcpy(&old, f, sizeof(old));
		old.count = 0;
		old.nevidence = 0;
		clock_gettime(CLOCK_MONOTONIC, &tp);
		found = mm_store_finding_load_state(st, &old);
		t_load += since(&tp);
		if (found < 0) {
			rc = mm_err_set(err, found, "reading stored finding %s failed", f->id);
			goto fail;
		}
		f->updated_at_ms = now;
		if (found) {
			int archived = old.archived;
			mm_finding_merge(f, &old);
			f->archived = archived;
			res->findings_updated++;
		} else {
			f->created_at_ms = now;
			res->findings_new++;
		}
		mm_buf_reset(&js);
		clock_gettime(CLOCK_MONOTONIC, &tp);
		if ((rc = mm_finding_to_json(f, s->inv, &js))) {
			rc = mm_err_set(err, rc, "rendering finding %s failed", f->id);
			goto fail;
		}
		t_json += since(&tp);
		clock_gettime(CLOCK_MONOTONIC, &tp);
		if ((rc = mm_store_finding_put(st, f, js.p, err)))
			goto fail;
		t_put += since(&tp);
		if (f->severity > res->max_severity)
			res->max_severity = f->severity;
		/* the caller prints these once the transaction has committed */
		if (s->o->emit && !f->archived && (fputs(js.p, s->o->emit) == EOF || fputc('\n', s->o->emit) == EOF)) {
			rc = mm_err_set(err, MM_EIO, "writing the findings to a temporary file failed");
			goto fail;
		}
	}
	mm_debug("store: lookups %.3f s, JSON %.3f s, writes %.3f s", t_load, t_json, t_put);
	for (i = 0; i < s->njobs; i++) {
		struct file_job *j = &s->jobs[i];
		if (!j->record || strcmp(j->path, "-") == 0)
			continue;
		if ((rc = mm_store_file_put(st, j->path, &j->now, err)))
			goto fail;
	}
	for (i = 0;; i++) {
		const struct mm_instance *inst = mm_inventory_at(s->inv, i);
		if (!inst)
			break;
		mm_buf_reset(&js);
		if (mm_instance_to_json(inst, NULL, &js) == 0 &&
		    (rc = mm_store_inventory_put(st, inst->instance_id, js.p, err)))
			goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &tp);
	if ((rc = mm_store_commit(st, err)))
		goto fail;
	mm_debug("store: commit %.3f s", since(&tp));
	goto out;
fail:
	mm_store_rollback(st);
out:
	mm_buf_free(&js);
	return rc;
}

/* Is path a plain (not gzip) file in a line-oriented format, and how big? */
static int splittable(const char *path, enum mm_source forced, uint64_t *size)
{
	char head[65536];
	struct stat st;
	ssize_t n;
	int fd, ok = 0;
	enum mm_format f;

	if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < SPLIT_MIN)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 2 || ((unsigned char)head[0] == 0x1f && (unsigned char)head[1] == 0x8b))
		return 0;
	f = mm_format_detect(path, head, (size_t)n, forced);
	ok = f == MM_FMT_FLOW || f == MM_FMT_DNS || f == MM_FMT_CT_LINES;
	*size = (uint64_t)st.st_size;
	return ok;
}

/* Cut big plain line-oriented files into parts at line boundaries so both
 * cores work on them (files are otherwise the unit of parallel work).
 * Line numbers stay exact: one memchr pass counts the lines before each
 * cut. Files with remembered progress keep the resume path instead. */
static int split_big_files(struct scan *s, int nthreads, struct mm_err *err)
{
	struct file_job *nj = NULL;
	size_t k, cap = s->njobs, n = 0;
	char *buf;

	/* With files enough to keep every thread busy, splitting would only
	 * add the counting pass: files stay the unit of work. */
	if (s->njobs >= (size_t)nthreads * 2)
		return 0;

	for (k = 0; k < s->njobs; k++) {
		uint64_t size;
		if ((s->jobs[k].has_prev && !s->o->rescan) ||
		    !splittable(s->jobs[k].path, s->o->source, &size))
			continue;
		cap += (size_t)MM_MIN((uint64_t)2 * (uint64_t)nthreads, size / SPLIT_PART_MIN);
	}
	if (cap == s->njobs)
		return 0;
	nj = mm_calloc(cap, sizeof(*nj));
	if (!nj)
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	buf = mm_malloc(SPLIT_BUF);
	if (!buf) {
		mm_free(nj);
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	}
	for (k = 0; k < s->njobs; k++) {
		struct file_job *j = &s->jobs[k];
		uint64_t size = 0, nparts, lines = 0, p, pos = 0;
		int fd, last_nl = 1;
		size_t first = n;

		if ((j->has_prev && !s->o->rescan) || !splittable(j->path, s->o->source, &size) ||
		    (fd = open(j->path, O_RDONLY | O_CLOEXEC)) < 0) {
			nj[n++] = *j;
			continue;
		}
		/* One read()-based pass (not mmap: mapped pages would count as
		 * resident for the whole file) finds the cut after each nominal
		 * boundary and counts the lines before it. */
		nparts = MM_MIN((uint64_t)2 * (uint64_t)nthreads, size / SPLIT_PART_MIN);
		p = 0;
		nj[n] = *j;
		nj[n].part = 0;
		nj[n].start = 0;
		nj[n].first_line = 0;
		while (pos < size) {
			ssize_t got = pread(fd, buf, SPLIT_BUF, (off_t)pos);
			const char *q = buf, *e;
			if (got <= 0)
				break;
			e = buf + got;
			while (q < e) {
				const char *nl = memchr(q, '\n', (size_t)(e - q));
				uint64_t at;
				if (!nl)
					break;
				lines++;
				at = pos + (uint64_t)(nl - buf) + 1;
				q = nl + 1;
				/* cut after the first newline past the next boundary */
				if (p + 1 < nparts && at >= size / nparts * (p + 1) && at < size) {
					nj[n].end = at;
					n++;
					p++;
					nj[n] = *j;
					nj[n].part = (int)p;
					nj[n].start = at;
					nj[n].first_line = lines;
				}
			}
			last_nl = buf[got - 1] == '\n';
			pos += (uint64_t)got;
		}
		close(fd);
		nj[n].end = size;
		n++;
		for (p = first; p < n; p++) {
			nj[p].nparts = (int)(n - first);
			nj[p].total_lines = lines + !last_nl;
		}
	}
	mm_free(buf);
	mm_free(s->jobs);
	s->jobs = nj;
	s->njobs = n;
	return 0;
}

int mm_scan_run(const struct mm_scan_opts *o, struct mm_scan_result *res, struct mm_err *err)
{
	struct scan s;
	struct mm_filelist fl;
	struct mm_store *st = NULL;
	struct worker *ws = NULL;
	struct mm_agg *final = NULL;
	struct timespec t0, t1;
	int i, rc = 0, nthreads = 0, started = 0;
	size_t k;

	memset(&s, 0, sizeof(s));
	memset(res, 0, sizeof(*res));
	mm_filelist_init(&fl);
	s.o = o;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	res->started_ms = mm_now_ms();

	for (i = 0; i < o->npaths; i++)
		if ((rc = mm_walk_add(&fl, o->paths[i], err)))
			goto out;
	mm_filelist_sort(&fl);
	if ((rc = mm_store_open(&st, o->db_path ? o->db_path : mm_store_default_path(), err)))
		goto out;
	if ((rc = load_intel(&s, res, err)))
		goto out;
	mm_debug("threat lists loaded: %llu entries (%.3f s)", (unsigned long long)res->intel_entries,
		 since(&t0));
	if ((rc = mm_inventory_new(&s.inv))) {
		rc = mm_err_set(err, rc, "out of memory");
		goto out;
	}
	{
		struct inv_load_ctx c = {s.inv};
		if ((rc = mm_store_inventory_each(st, inv_row, &c, err)))
			goto out;
	}
	if (o->inventory_path && (rc = mm_inventory_load_file(s.inv, o->inventory_path, err)))
		goto out;

	s.njobs = fl.n;
	s.jobs = mm_calloc(fl.n ? fl.n : 1, sizeof(*s.jobs));
	if (!s.jobs) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	for (k = 0; k < fl.n; k++) {
		s.jobs[k].path = fl.paths[k];
		s.jobs[k].part = -1;
		if (strcmp(fl.paths[k], "-") != 0) {
			int g = mm_store_file_get(st, fl.paths[k], &s.jobs[k].prev);
			s.jobs[k].has_prev = g == 1;
		}
	}

	nthreads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 64)
		nthreads = 64;
	if (nthreads > 1 && (rc = split_big_files(&s, nthreads, err)))
		goto out;
	if ((size_t)nthreads > s.njobs)
		nthreads = s.njobs ? (int)s.njobs : 1;
	ws = mm_calloc((size_t)nthreads, sizeof(*ws));
	if (!ws) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nthreads; i++) {
		if ((rc = worker_init(&ws[i], &s))) {
			rc = mm_err_set(err, rc, "out of memory starting workers");
			nthreads = i + 1;
			goto out;
		}
	}
	{
		/* workers always run on their own threads, so the main thread is
		 * free to draw progress even with --threads 1 */
		for (i = 0; i < nthreads; i++) {
			if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) {
				rc = mm_err_set(err, MM_ENOMEM, "cannot start thread");
				break;
			}
			started++;
		}
		if (o->progress) {
			while (atomic_load(&s.files_done) < s.njobs && atomic_load(&s.next) <= s.njobs) {
				struct timespec nap = {0, 250000000};
				double secs;
				nanosleep(&nap, NULL);
				clock_gettime(CLOCK_MONOTONIC, &t1);
				secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
				progress_line(&s, secs, 0);
				if (atomic_load(&s.files_done) >= s.njobs)
					break;
			}
		}
		for (i = 0; i < started; i++)
			pthread_join(ws[i].th, NULL);
		if (rc)
			goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	res->bytes_in = atomic_load(&s.bytes);
	if (o->progress)
		progress_line(&s, res->seconds, 1);

	mm_debug("workers done (%.3f s)", since(&t0));
	/* merge what the workers learned and found */
	for (i = 0; i < nthreads; i++) {
		add_counts(res, &ws[i].r);
		mm_inventory_merge(s.inv, ws[i].learned);
		res->findings_dropped += mm_agg_dropped(ws[i].agg);
	}
	/* Worker 0's table becomes the result, re-keyed in place after its
	 * ENIs are resolved; the others merge into it and are freed as they
	 * go, so findings are never held twice. */
	final = ws[0].agg;
	ws[0].agg = NULL;
	for (k = 0; k < mm_agg_count(final); k++)
		resolve(mm_agg_at(final, k), s.inv);
	mm_agg_rekey(final);
	for (i = 1; i < nthreads; i++) {
		for (k = 0; k < mm_agg_count(ws[i].agg); k++) {
			struct mm_finding *f = mm_agg_at(ws[i].agg, k);
			resolve(f, s.inv);
			if (mm_agg_merge(final, f)) {
				rc = mm_err_set(err, MM_ENOMEM, "out of memory merging findings");
				goto out;
			}
		}
		mm_agg_free(ws[i].agg);
		ws[i].agg = NULL;
	}
	/* An instance that relays Tor also connects out to relays: report it
	 * as the relay it is, not also as a client. */
	{
		struct mm_finding **relays = NULL;
		size_t nrelays = 0, j;
		for (k = 0; k < mm_agg_count(final); k++) {
			struct mm_finding *g = mm_agg_at(final, k);
			if (g->archived >= 0 && !strcmp(g->type, "UnauthorizedAccess:EC2/TorRelay")) {
				struct mm_finding **nr = mm_realloc(relays, (nrelays + 1) * sizeof(*nr));
				if (!nr)
					break;
				relays = nr;
				relays[nrelays++] = g;
			}
		}
		for (k = 0; nrelays && k < mm_agg_count(final); k++) {
			struct mm_finding *f = mm_agg_at(final, k);
			char a[256], b[256];
			if (f->archived < 0 || strcmp(f->type, "UnauthorizedAccess:EC2/TorClient"))
				continue;
			mm_finding_resource_key(f, a, sizeof(a));
			for (j = 0; j < nrelays; j++) {
				mm_finding_resource_key(relays[j], b, sizeof(b));
				if (!strcmp(a, b)) {
					f->archived = -1;
					break;
				}
			}
		}
		mm_free(relays);
	}
	mm_debug("merged %zu findings (%.3f s)", mm_agg_count(final), since(&t0));
	rc = write_results(&s, st, final, res, err);
	mm_debug("stored (%.3f s)", since(&t0));
out:
	if (ws) {
		for (i = 0; i < nthreads; i++)
			worker_free(&ws[i]);
		mm_free(ws);
	}
	mm_agg_free(final);
	mm_free(s.jobs);
	mm_inventory_free(s.inv);
	mm_intel_free(s.intel);
	if (st) {
		struct timespec tc;
		clock_gettime(CLOCK_MONOTONIC, &tc);
		mm_store_close(st);
		mm_debug("store closed (checkpoint) %.3f s", since(&tc));
	}
	mm_filelist_free(&fl);
	return rc;
}
