/* pipeline.c - the detection engine (see pipeline.h for the shape).
 *
 * Threads: files are the unit of parallel work. Each worker owns its
 * parser scratch, its instance of every detector's state and what it
 * learned about instances, so reading and detecting take no locks; the
 * batch's findings are in one table, locked only when a detector emits
 * (a match). Exactness: detector states merge exactly at the flush
 * (their contract), findings aggregate exactly in any arrival order
 * (counts add, times widen, evidence keeps the earliest by a total
 * order, details come from the latest record by (event time, file,
 * line)), and the store keeps each finding's whole mergeable state, so a
 * later flush or a later run continues it exactly. */
#include "engine/pipeline.h"

#include <inttypes.h>
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
#include <zlib.h>
#ifdef MM_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "core/arena.h"
#include "core/hash.h"
#include "core/intern.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "config/config.h"
#include "detect/blob.h"
#include "detect/detect.h"
#include "engine/place.h"
#include "enrich/inventory.h"
#include "finding/output.h"
#include "input/reader.h"
#include "parse/cloudtrail.h"
#include "parse/ctwrap.h"
#include "parse/flowlog.h"
#include "parse/hostjson.h"
#include "parse/route53.h"
#include "parse/syslog.h"
#include "sigma/sigma.h"
#include "store/store.h"

#ifndef MM_DATADIR
#define MM_DATADIR "/usr/local/share/mamori"
#endif

#define SCRATCH_CAP (1u << 20)
#define LINE_BUF_CAP (MM_CT_MAX_RECORD + (1u << 20))
#define MAX_DOC ((size_t)1 << 30)
#define HEAD_HASH_BYTES 4096
/* findings the batch's table holds before a spill: packed, 300-800
 * bytes each (finding/agg.c), so ~15-40 MB at most, whatever the thread
 * count */
#define DEFAULT_MAX_FINDINGS 50000
/* split plain files from this size, into parts no smaller than a
 * quarter of it; MM_SPLIT_MIN_BYTES overrides (tests cut small files) */
static uint64_t split_min(void)
{
	const char *e = getenv("MM_SPLIT_MIN_BYTES");
	long long v = e ? atoll(e) : 0;
	return v > 0 ? (uint64_t)v : (uint64_t)64 << 20;
}
#define SPLIT_MIN split_min()
#define SPLIT_PART_MIN (split_min() / 4)
#define SPLIT_BUF ((size_t)1 << 20)
#define MAX_UNKNOWN_WARNINGS 10u
#define MAX_THREADS 64
/* the aggregation stage's stored state: one row per finding id */
#define AGG_STATE "finding"
/* instance -> account and region (engine/place.h): one row each */
#define PLACE_STATE "place"
#define PLACE_STATE_VERSION 1

/* Per-file outcome, written to the store at the flush. */
struct file_job {
	const char *path;		/* borrowed from the feed's caller (copied) */
	const char *rel;		/* evidence name (interned) */
	struct mm_file_state prev;	/* remembered progress */
	int has_prev;
	uint64_t content_hash, content_size; /* at feed time, for a file of no
					      * remembered name (0: not taken) */
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

struct worker {
	struct mm_pipeline *s;
	pthread_t th;
	char *scratch_mem;
	struct mm_arena scratch;
	struct mm_detect_ctx det;
	void *dstate[16];		/* each detector's state, this worker's */
	struct mm_inventory *learned;
	struct mm_scan_result r;	/* counts only */
	struct mm_buf doc;
	char *linebuf;			/* LINE_BUF_CAP, reused for every file */
	/* flow records parsed but not yet given to the detectors: their
	 * slices point into linebuf, which stays put while mm_lines_ready */
	struct mm_event *batch;		/* MM_DETECT_BATCH */
	int nbatch;
	struct mm_err err;		/* a spill's, made by this worker */
	int spill_failed;
};

struct mm_pipeline {
	struct mm_pipeline_opts o;
	const struct mm_detector_def *dets[16];	/* the enabled ones */
	int ndet;
	double params[16][MM_PARAMS_MAX];	/* each one's tunables */
	void *gstate[16];		/* merged detector states */
	struct mm_intel *intel;
	struct mm_geo *geo;		/* IP ownership for remoteIpDetails; NULL = none */
	struct mm_inventory *inv;
	struct mm_places *places;	/* instance -> account, region */
	struct mm_store *st;
	int in_txn;
	struct worker *ws;
	int nthreads;
	/* The batch's findings: ONE table that every worker adds to under
	 * agg_mu (taken only when a detector emits, i.e. on a match, not per
	 * record), so each finding is held once however files are split. */
	struct mm_agg *final;
	pthread_mutex_t agg_mu;
	size_t agg_max;			/* spill threshold */
	int inv_unsaved;		/* --inventory loaded, not yet stored */
	int held_checked;		/* held findings tried against this inventory */
	struct saver *saving;		/* the flush's detector saves, while findings are written */
	char (*spilled)[33];		/* ids spilled during this batch */
	size_t nspilled, capspilled;
	struct mm_buf js, blob;
	/* the batch being read */
	struct file_job *jobs;
	size_t njobs;
	atomic_size_t next;
	atomic_uint_fast64_t bytes, records, files_done;
	atomic_uint unknown_warned;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running;
	/* file progress waiting for the flush */
	struct file_job *done;
	size_t ndone, capdone;
	char **owned;			/* copied paths of done jobs */
	size_t nowned, capowned;
	struct mm_scan_result res;
	uint64_t prog_files, prog_records;	/* of batches before this one */
	size_t expect_files;
	int progress_drawn;			/* a line without its newline is up */
	struct timespec t0;
	int64_t now_ms;
	/* the WAL's checkpoint after a flush's commit, on its own thread
	 * and handle (see ckpt_start) */
	pthread_t ckpt_th;
	int ckpt_running;
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

/* The bundled lists: maltrail's mining pools, malware C2 and mass scanners,
 * the Tor relay and exit lists; maltrail's dynamic DNS (abused), blockchain
 * DNS (bitcoin) and exploit-kit (driveby) domains. */
static const struct {
	enum mm_intel_cat cat;
	const char *rel;
} bundled[] = {
	{MM_CAT_MINING, "intel/crypto_mining.txt"},
	{MM_CAT_TOR, "intel/tor-nodes.lst"},
	{MM_CAT_TOREXIT, "intel/tor-exit-nodes.lst"},
	{MM_CAT_ABUSED, "intel/dynamic_domain.txt"},
	{MM_CAT_BITCOIN, "intel/blockchain_dns.txt"},
	{MM_CAT_DRIVEBY, "intel/ek_underminer.txt"},
	/* maltrail's malware trails (IP entries): C2 and download hosts */
	{MM_CAT_C2, "intel/malware_c2.txt"},
	/* maltrail's mass scanners: labels for netscan, never a finding alone */
	{MM_CAT_SCANNER, "intel/mass_scanner.txt"},
	{MM_CAT_SCANNER, "intel/mass_scanner_cidr.txt"},
};

/* Without an ownership file, AWS's ranges alone (the snapshot in the
 * data folder, geo/aws-ranges.txt: 69 KB, built in memory in a few ms):
 * inside or outside AWS is what InstanceCredentialExfiltration's two
 * types and an instance session's home rest on, and needs no download.
 * A snapshot that does not load is warned about and skipped. */
static void aws_only_geo(struct mm_pipeline *s, const char *dd)
{
	char p[PATH_MAX + 32];
	struct mm_geo_builder *b = NULL;
	struct mm_err gerr;
	void *buf = NULL;
	size_t len = 0;

	snprintf(p, sizeof(p), "%s/geo/aws-ranges.txt", dd);
	if (access(p, F_OK) != 0)
		return;
	mm_err_clear(&gerr);
	if (mm_geo_builder_new(&b) || mm_geo_builder_add_cidrs(b, p, &gerr) ||
	    mm_geo_builder_finish(b, &buf, &len, &gerr) || mm_geo_open_mem(&s->geo, buf, len, &gerr))
		mm_warn("%s: %s (inside/outside AWS unknown)", p,
			gerr.msg[0] ? gerr.msg : "out of memory");
	mm_geo_builder_free(b);
}

/* The IP ownership file findings are enriched from when written: --geo
 * FILE (must load), else <data dir>/geo/geo.mmgeo when `make geo` built
 * one (a broken default is warned about, not fatal: enrichment is not
 * what the scan is for); --geoip .mmdb files (must load) are asked
 * before it. no_geo turns it off. Without ASN/country data
 * the scan says so once and writes remoteIpDetails without
 * organization/country (AWS's ranges alone, aws_only_geo, still tell
 * inside from outside AWS). */
static int load_geo(struct mm_pipeline *s, struct mm_err *err)
{
	const char *path = s->o.geo_path, *dd;
	char def[PATH_MAX + 32];
	int rc, i;

	if (s->o.no_geo)
		return 0;
	if (path) {
		if ((rc = mm_geo_open(&s->geo, path, err)))
			return rc;
	} else if ((dd = mm_data_dir())) {
		snprintf(def, sizeof(def), "%s/geo/geo.mmgeo", dd);
		if (access(def, F_OK) == 0) {
			struct mm_err gerr;
			mm_err_clear(&gerr);
			if (mm_geo_open(&s->geo, def, &gerr))
				mm_warn("%s (findings carry no organization/country from it; rebuild it "
					"with `make geo`)", gerr.msg);
		}
	}
	if (!s->geo && (dd = mm_data_dir()))
		aws_only_geo(s, dd);
	/* .mmdb files join the same handle: asked first, the file fills in */
	for (i = 0; i < s->o.ngeoip; i++)
		if ((rc = mm_geo_add_mmdb(&s->geo, s->o.geoip[i], err)))
			return rc;
	if (!(mm_geo_kinds(s->geo) & (MM_GEO_ASN | MM_GEO_COUNTRY)))
		mm_info("no IP ownership data: findings' remoteIpDetails carry no organization or "
			"country (build it with `make geo`, or pass --geo FILE or --geoip FILE.mmdb)");
	return 0;
}

static int load_intel(struct mm_pipeline *s, struct mm_err *err)
{
	const struct mm_pipeline_opts *o = &s->o;
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
		if ((rc = mm_intel_load(s->intel, o->lists[i].cat, o->lists[i].path,
					 o->lists[i].name, NULL, err)))
			return rc;
	for (i = 0; i < o->ntrusted; i++)
		if ((rc = mm_intel_load_trusted(s->intel, o->trusted[i], err)))
			return rc;
	if ((rc = mm_intel_build(s->intel, err)))
		return rc;
	s->res.intel_entries = mm_intel_count(s->intel);
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

static int spill(struct mm_pipeline *s, struct mm_agg *a, struct mm_err *err);

static void release(struct worker *w);

/* Enrich, then hand the event to every detector that wants its kind. */
static void detect(struct worker *w, const struct mm_event *ev)
{
	struct mm_pipeline *s = w->s;
	unsigned bit = MM_KIND_BIT(ev->kind);
	int i;

	switch (ev->kind) {
	case MM_EV_FLOW: w->r.records_flow++; break;
	case MM_EV_DNS: w->r.records_dns++; break;
	case MM_EV_API:
		w->r.records_api++;
		/* enrichment: instances learned from RunInstances name the
		 * ENIs in findings at the flush, whatever order files come in */
		if (mm_str_eqz(ev->u.api.event_name, "RunInstances"))
			mm_inventory_add_event(w->learned, ev, NULL);
		break;
	case MM_EV_HOST: w->r.records_host++; break;
	default: break;
	}
	for (i = 0; i < s->ndet; i++)
		if ((s->dets[i]->kinds & bit) && s->dets[i]->on_event) {
			w->det.params = s->params[i];
			s->dets[i]->on_event(w->dstate[i], &w->det, ev);
		}
	release(w);
}

/* The held flow records to every flow detector: a whole run to those
 * with on_batch, one by one to the others (releasing the table after
 * each, as detect does). The same calls in the same order per detector
 * as one record at a time; detectors do not see each other, so the
 * order between detectors does not matter. */
static void detect_batch(struct worker *w)
{
	struct mm_pipeline *s = w->s;
	unsigned bit = MM_KIND_BIT(MM_EV_FLOW);
	int i, k, n = w->nbatch;

	if (!n)
		return;
	w->nbatch = 0;
	w->r.records_flow += (uint64_t)n;
	for (i = 0; i < s->ndet; i++) {
		const struct mm_detector_def *d = s->dets[i];
		if (!(d->kinds & bit))
			continue;
		w->det.params = s->params[i];
		if (d->on_batch) {
			d->on_batch(w->dstate[i], &w->det, w->batch, n);
			release(w);
		} else if (d->on_event) {
			if (d->prefetch)
				d->prefetch(w->dstate[i], &w->det, w->batch, n);
			for (k = 0; k < n; k++) {
				d->on_event(w->dstate[i], &w->det, &w->batch[k]);
				release(w);
			}
		}
	}
}

/* After a detector emitted, the shared table is still locked: spill it
 * when full, then unlock. */
static void release(struct worker *w)
{
	struct mm_pipeline *s = w->s;
	if (w->det.locked) {
		/* a full table is written into the open transaction right here
		 * (the store is only ever used under this lock while workers
		 * run) */
		if (MM_UNLIKELY(mm_agg_full(s->final))) {
			/* what leaves the table is read first by the detectors
			 * that read the batch's findings at finish (the running
			 * detector's params are put back after) */
			const double *params = w->det.params;
			int i;
			for (i = 0; i < s->ndet; i++)
				if (s->dets[i]->on_spill) {
					w->det.params = s->params[i];
					s->dets[i]->on_spill(w->dstate[i], &w->det);
				}
			w->det.params = params;
			if (spill(s, s->final, &w->err) == 0) {
				mm_agg_clear(s->final);
			} else {
				mm_error("%s", w->err.msg);
				w->spill_failed = 1;
			}
		}
		w->det.locked = 0;
		mm_agg_release(s->final);
		pthread_mutex_unlock(&s->agg_mu);
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

/* The instance a host log is from: --host when it names one, else a
 * folder of the path named i-..., else the driver's host_instance (the
 * agent's own); NULL for none. buf (32 bytes) may hold the answer. */
static const char *host_instance(const struct worker *w, const struct file_job *job, char *buf,
				 size_t cap)
{
	const char *inst = NULL;
	if (w->s->o.host)
		inst = mm_syslog_instance_from_path(w->s->o.host, buf, cap) ? w->s->o.host : NULL;
	else if (mm_syslog_instance_from_path(job->path, buf, cap))
		inst = buf;
	return inst ? inst : w->s->o.host_instance;
}

/* Line-oriented formats: flow, DNS, CloudTrail JSON lines. */
static int scan_lines(struct worker *w, struct file_job *job, enum mm_format fmt,
		      struct mm_lines *ln, struct mm_reader *rd, struct mm_flow_fmt *ffmt,
		      uint64_t raw_base, uint64_t skip_lines)
{
	uint64_t stop = job->part >= 0 ? job->end : UINT64_MAX;
	const char *line;
	size_t n;
	uint64_t recs = 0, last_raw = raw_base; /* bytes of this file already counted */
	struct mm_event ev;
	struct mm_err e;
	int rc, held_back = 0;
	struct mm_syslog_ctx hx;
	char inst[32];

	if (fmt == MM_FMT_SYSLOG || fmt == MM_FMT_JOURNAL) {
		/* host logs: the year of year-less stamps and the host's name */
		memset(&hx, 0, sizeof(hx));
		hx.anchor_ms = job->now.mtime ? job->now.mtime * 1000 : mm_now_ms();
		hx.host = w->s->o.host;
		hx.inv = w->det.inv;
		hx.instance_id = host_instance(w, job, inst, sizeof(inst));
	}
	for (;;) {
		struct mm_event *pev = &ev;
		/* held records point into the line buffer: give them to the
		 * detectors before it is refilled */
		if (w->nbatch && !mm_lines_ready(ln))
			detect_batch(w);
		rc = mm_lines_next(ln, &line, &n, &e);
		if (rc == 0)
			break;
		if (rc == MM_ETOOBIG) {
			bad_record(w, job->path, ln->line, &e);
			continue;
		}
		if (rc < 0) {
			/* stream damage ("file: offset N: why"): the lines before
			 * were processed; the file is not done */
			w->r.bad_records++;
			mm_log_located(e.msg);
			job->now.complete = 0;
			goto out;
		}
		if (MM_UNLIKELY(ln->line_offset >= stop))
			break; /* the next part's first line */
		if (n == 0 || (n == 1 && line[0] == ' '))
			continue;
		if (ln->line <= skip_lines) {
			/* counted by an earlier scan; a flow header still sets the
			 * layout of the lines after it */
			if (fmt == MM_FMT_FLOW && mm_flow_classify(line, n) == MM_FLOW_LINE_HEADER)
				mm_flow_fmt_header(ffmt, line, n, &e);
			continue;
		}
		mm_arena_reset(&w->scratch);
		e.code = 0;
		e.msg[0] = '\0';
		/* no memset of ev: each parser sets kind and clears its own part */
		switch (fmt) {
		case MM_FMT_FLOW:
			pev = &w->batch[w->nbatch];
			rc = mm_flow_parse(ffmt, line, n, &w->scratch, pev, &e);
			break;
		case MM_FMT_DNS:
			rc = mm_dns_parse(line, n, &w->scratch, &ev, &e);
			break;
		case MM_FMT_HOSTJSON:
			rc = mm_hostjson_parse(line, n, &w->scratch, &ev, &e);
			break;
		case MM_FMT_SYSLOG:
			rc = mm_syslog_parse(&hx, line, n, &w->scratch, &ev, &e);
			break;
		case MM_FMT_JOURNAL:
			rc = mm_journal_parse(&hx, line, n, &w->scratch, &ev, &e);
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
			if (job->part < 0 && !rd->gz && strcmp(job->path, "-") != 0 &&
			    ln->last_unterminated && rd->end == MM_READ_EOF) {
				/* the last line, without its newline, and it does not
				 * parse: a line still being written. Not consumed: the
				 * next scan reads it whole. */
				w->r.partial_lines++;
				held_back = 1;
				break;
			}
			bad_record(w, job->path, ln->line, &e);
			continue;
		}
		pev->loc.file = job->path;
		pev->loc.line = ln->line;
		pev->loc.offset = ln->line_offset;
		if (fmt != MM_FMT_CT_LINES) {	/* CloudTrail's parser sets raw (a wrapped record's own) */
			pev->raw.p = line;
			pev->raw.n = n;
		}
		if (pev != &ev) {
			/* a flow record is held; one that used the scratch arena
			 * (a CloudWatch-wrapped line) goes at once, with the run */
			if (++w->nbatch == MM_DETECT_BATCH || w->scratch.used)
				detect_batch(w);
		} else {
			detect(w, &ev);
			/* "message repeated N times": the line stands for N */
			if ((fmt == MM_FMT_SYSLOG || fmt == MM_FMT_JOURNAL) && hx.repeat > 1) {
				uint32_t k;
				for (k = 1; k < hx.repeat; k++)
					detect(w, &ev);
			}
		}
		if (++recs >= 65536) {
			uint64_t b = rd->raw_read - last_raw;
			last_raw = rd->raw_read;
			flush_progress(w, &recs, &b);
		}
	}
	job->now.complete = !held_back;
out:
	detect_batch(w);
	job->now.offset = held_back ? ln->line_offset : ln->offset + ln->start;
	job->now.line = held_back ? ln->line - 1 : ln->line;
	{
		uint64_t b = rd->raw_read - last_raw;
		flush_progress(w, &recs, &b);
	}
	return 0;
}

/* The bytes of the record that starts at off and ends before the
 * iterator's position (separators trimmed). */
static struct mm_str record_bytes(const char *dp, size_t dn, uint64_t off, const char *end)
{
	struct mm_str r = {NULL, 0};
	const char *p;
	if (off >= dn || end < dp + off || end > dp + dn)
		return r;
	p = dp + off;
	while (end > p && (end[-1] == ',' || end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' ||
			   end[-1] == '\t' || end[-1] == ']'))
		end--;
	r.p = p;
	r.n = (size_t)(end - p);
	return r;
}

/* A mapped document is read through a window: 1 to 3 MAP_STEPs ahead of
 * the parser populated, two steps at a time in one call (MADV_POPULATE_READ,
 * Linux 5.14; before it, page faults), and what lies 1 to 3 steps behind
 * it dropped from the mapping (the page cache keeps it; a read behind
 * faults it in again, the same bytes). So at most 6 steps (3 MiB) of a
 * document are resident per worker whatever its size: on the CloudTrail
 * bench's 9.4 MB objects, with all of each mapped, the two workers held
 * ~20 MB of them at the scan's end, the run's peak. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#define MAP_STEP ((size_t)512 << 10)

struct mapwin {
	char *base;
	size_t n;
	size_t ready;	/* populated up to here */
	size_t gone;	/* dropped below here */
	int populate;	/* MADV_POPULATE_READ works */
};

static void mapwin_at(struct mapwin *m, size_t pos)
{
	if (m->ready < m->n && pos + MAP_STEP > m->ready) {
		size_t to = MM_MIN(m->n, m->ready + 2 * MAP_STEP);
		if (m->populate && madvise(m->base + m->ready, to - m->ready, MADV_POPULATE_READ))
			m->populate = 0;
		m->ready = to;
	}
	if (pos > m->gone + 2 * MAP_STEP) {
		size_t to = pos - MAP_STEP;
		to -= to % MAP_STEP;	/* page-aligned: MAP_STEP is whole pages */
		madvise(m->base + m->gone, to - m->gone, MADV_DONTNEED);
		m->gone = to;
	}
}

/* A whole CloudTrail document: the S3 {"Records":[...]} file (its one-pass
 * iterator), or any other wrapper (fmt MM_FMT_CT_STREAM: parse/ctwrap.h). */
static int scan_ct_doc(struct worker *w, struct file_job *job, struct mm_reader *rd,
		       const char *head, size_t headn, uint64_t skip_before, enum mm_format fmt)
{
	struct mm_ct_doc doc;
	struct mm_ctw cw;
	int stream = fmt == MM_FMT_CT_STREAM;
	struct mm_event ev;
	struct mm_err e;
	uint64_t line, off, recs = 0, b, good_end = 0;
	int rc, slurp_rc = 0;
	const char *dp;
	size_t dn;
	void *map = NULL;
	size_t map_n = 0;
	struct mapwin win;

	/* A plain file is mapped, not copied: the page cache is the buffer.
	 * gzip and stdin are inflated into the worker's reusable buffer. The
	 * mapping is populated a window at a time (mapwin_at): one call maps
	 * many pages for far less than a page fault every 64 KiB (sys time
	 * of a parse-only pass -45% when the whole file was populated at
	 * once, MAP_POPULATE, which held all of it resident). */
	memset(&win, 0, sizeof(win));
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
				win.base = map;
				win.n = map_n;
				win.populate = 1;
				mapwin_at(&win, 0);
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
		if (slurp_rc) {
			/* damaged or cut: the records before the damage count,
			 * the error is located, the file is not done */
			w->r.bad_records++;
			mm_log_located(e.msg);
			if (slurp_rc != MM_EPARSE && slurp_rc != MM_ETRUNC)
				return 0;
		}
		dp = w->doc.p;
		dn = w->doc.len;
	}
	if (stream)
		mm_ctw_init(&cw, dp, dn);
	else if (mm_ct_doc_init(&doc, dp, dn, &e)) {
		bad_record(w, job->path, 1, &e);
		if (map)
			munmap(map, map_n);
		return 0;
	}
	for (;;) {
		mm_err_clear(&e);
		rc = stream ? mm_ctw_next_event(&cw, &w->scratch, &ev, &line, &off, &e)
			    : mm_ct_doc_next_event(&doc, &w->scratch, &ev, &line, &off, &e);
		if (rc == 0)
			break;
		if (rc == MM_ESKIP) {
			w->r.records_skipped++;
			continue;
		}
		if (rc == MM_EPARSE) {
			bad_record(w, job->path, line, &e);
			continue;
		}
		if (rc < 0) {
			bad_record(w, job->path, line, &e);
			break;
		}
		if (off < skip_before)
			continue; /* counted by an earlier scan of this damaged file */
		ev.loc.file = job->path;
		ev.loc.line = line;
		ev.loc.offset = off;
		if (!stream)
			ev.raw = record_bytes(dp, dn, off, doc.p);
		detect(w, &ev);
		recs++;
		good_end = stream ? mm_ctw_offset(&cw) : (uint64_t)(doc.p - doc.buf);
		if (map)
			mapwin_at(&win, good_end);
	}
	b = map ? map_n : rd->raw_read;
	flush_progress(w, &recs, &b);
	job->now.complete = slurp_rc == 0;
	/* a damaged document remembers where its good records end, so a
	 * second read of it counts none of them again */
	job->now.offset = slurp_rc == 0 ? dn : MM_MAX(good_end, skip_before);
	job->now.line = stream ? cw.line : doc.line;
	if (map)
		munmap(map, map_n);
	return 0;
}

/* Host logs: the account and region their folder's place file names
 * (engine/place.h), where the path's S3 layout said none; remembered
 * for the instance they are from (host_instance), so that findings made
 * later from saved state name the same. Read per file (host logs are
 * few, large files) so a rewritten one counts. */
static void host_place(struct worker *w, const struct file_job *job, struct mm_file_ctx *fc)
{
	const char *slash = strrchr(job->path, '/'), *inst;
	char dir[4096], ibuf[32];
	struct mm_place pl;
	struct mm_err e;
	size_t n = slash ? (size_t)(slash - job->path) : 0;
	int rc;

	if (!strcmp(job->path, "-") || n >= sizeof(dir))
		return;
	memcpy(dir, job->path, n);
	dir[n] = '\0';
	if (slash && n == 0)
		snprintf(dir, sizeof(dir), "/");
	if ((rc = mm_place_read_dir(dir, &pl, &e)) < 0) {
		mm_warn("%s; findings from %s name no account or region from it", e.msg, job->path);
		return;
	}
	if (rc == 0)
		return;
	if (!fc->account[0])
		snprintf(fc->account, sizeof(fc->account), "%s", pl.account);
	if (!fc->region[0])
		snprintf(fc->region, sizeof(fc->region), "%s", pl.region);
	inst = host_instance(w, job, ibuf, sizeof(ibuf));
	if (inst && inst[0] && mm_places_put(w->s->places, inst, &pl) == MM_ETOOBIG)
		mm_warn("%s: the account of %s is not remembered: %d instances already are", job->path,
			inst, MM_PLACES_MAX);
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
	uint64_t start_off = 0, start_line = 0, skip_lines = 0;
	int have_reader = 0, have_lines = 0, rc;

	memset(&job->now, 0, sizeof(job->now));
	job->now.head_hash = head_hash(job->path, UINT64_MAX, &job->now.size, &job->now.mtime);
	if (job->part >= 0) {
		/* a part of a split file: read only [start, end) */
		start_off = job->start;
		start_line = job->first_line;
	} else if (job->has_prev && !w->s->o.rescan && strcmp(job->path, "-") != 0 &&
		   job->prev.size <= job->now.size &&
		   job->prev.head_hash ==
			   (job->prev.size >= HEAD_HASH_BYTES
				    ? job->now.head_hash /* same bytes hashed: no second read */
				    : head_hash(job->path, job->prev.size, &(uint64_t){0},
						&(int64_t){0}))) {
		/* same content, same size, read to its end: done before */
		if (job->prev.size == job->now.size && job->prev.complete) {
			w->r.files_done_before++;
			return;
		}
		/* it grew, or was not read whole (damage, a line still being
		 * written): a plain file resumes at the offset; a .gz (no
		 * mid-stream resume) is read again with the records already
		 * counted skipped */
		if (job->prev.offset) {
			start_off = job->prev.offset;
			start_line = job->prev.line;
		}
	}
	mm_file_ctx_from_path(&fc, job->path);
	fc.rel = job->rel;
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
	/* a {"Records" document is told by its first bytes: the rest of its
	 * (single, megabytes long) first line is not read here, it is mapped */
	mm_lines_peek_start(&ln, &head, &headn, &e);
	if (headn && mm_format_detect(job->path, head, headn, w->s->o.source) == MM_FMT_CT_DOC)
		fmt = MM_FMT_CT_DOC;
	else if ((rc = mm_lines_peek(&ln, &head, &headn, &e)) < 0 && headn == 0) {
		/* damaged from the first bytes (a corrupt .gz): a located error,
		 * counted, and the file is not remembered (it is no "empty" file) */
		w->r.bad_records++;
		mm_log_located(e.msg[0] ? e.msg : mm_strerror(rc));
		goto out;
	}
	if (fmt != MM_FMT_CT_DOC)
		fmt = mm_format_detect(job->path, head, headn, w->s->o.source);
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
	case MM_FMT_CT_STREAM:
		w->r.files++;
		scan_ct_doc(w, job, &rd, head, headn, start_off, fmt);
		ln.start = ln.end; /* consumed by the slurp */
		job->record = 1;
		goto out;
	default:
		break;
	}
	if (fmt == MM_FMT_SYSLOG || fmt == MM_FMT_JOURNAL || fmt == MM_FMT_HOSTJSON)
		host_place(w, job, &fc);
	if (job->part <= 0)
		w->r.files++;
	if (rd.gz) {
		/* gzip cannot be resumed mid-stream: read it from the start and
		 * skip the lines counted before */
		skip_lines = start_line;
		start_off = 0;
		start_line = 0;
	}
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
	scan_lines(w, job, fmt, &ln, &rd, &ffmt, start_off, skip_lines);
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
	struct mm_pipeline *s = w->s;
	/* without a usable Sigma rule nothing reads a record's top-level
	 * members: not keeping them saves ~5% of the CloudTrail parse
	 * (docs/internals/sigma.md) */
	mm_ct_keep_top(s->o.sigma && s->o.sigma->built && s->o.sigma->nok > 0);
	for (;;) {
		size_t i = atomic_fetch_add(&s->next, 1);
		if (i >= s->njobs)
			break;
		scan_file(w, &s->jobs[i]);
	}
	pthread_mutex_lock(&s->mu);
	s->running--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int worker_init(struct worker *w, struct mm_pipeline *s)
{
	int rc, i;
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->scratch_mem = mm_malloc(SCRATCH_CAP);
	w->linebuf = mm_malloc(LINE_BUF_CAP);
	w->det.memo = mm_calloc(1, sizeof(struct mm_ipmemo));
	w->batch = mm_malloc(MM_DETECT_BATCH * sizeof(struct mm_event));
	if (!w->scratch_mem || !w->linebuf || !w->det.memo || !w->batch)
		return MM_ENOMEM;
	mm_arena_init(&w->scratch, w->scratch_mem, SCRATCH_CAP);
	if ((rc = mm_inventory_new(&w->learned)))
		return rc;
	for (i = 0; i < s->ndet; i++)
		if (s->dets[i]->state_new && !(w->dstate[i] = s->dets[i]->state_new()))
			return MM_ENOMEM;
	mm_buf_init(&w->doc, MAX_DOC);
	w->det.intel = s->intel; /* det.memo was set above */
	w->det.geo = s->geo;
	w->det.sigma = s->o.sigma;
	w->det.inv = s->inv;
	w->det.learned = w->learned;
	w->det.agg = s->final;
	w->det.agg_lock = &s->agg_mu;
	return 0;
}

static void worker_free(struct worker *w)
{
	int i;
	mm_free(w->scratch_mem);
	mm_free(w->linebuf);
	mm_free(w->batch);
	mm_free(w->det.memo);
	mm_inventory_free(w->learned);
	mm_buf_free(&w->doc);
	for (i = 0; w->s && i < w->s->ndet; i++)
		if (w->dstate[i] && w->s->dets[i]->state_free)
			w->s->dets[i]->state_free(w->dstate[i]);
}

static void add_counts(struct mm_scan_result *r, struct mm_scan_result *x)
{
	r->files += x->files;
	r->files_done_before += x->files_done_before;
	r->files_moved += x->files_moved;
	r->files_unknown += x->files_unknown;
	r->files_empty += x->files_empty;
	r->files_digest += x->files_digest;
	r->files_failed += x->files_failed;
	r->records_flow += x->records_flow;
	r->records_dns += x->records_dns;
	r->records_api += x->records_api;
	r->records_host += x->records_host;
	r->records_skipped += x->records_skipped;
	r->bad_records += x->bad_records;
	r->partial_lines += x->partial_lines;
	memset(x, 0, sizeof(*x));
}

/* Name the instance behind ENI- or address-keyed findings. */
static int resolve(struct mm_finding *f, const struct mm_inventory *inv)
{
	const struct mm_instance *inst = NULL;
	if (f->res_type != MM_RES_INSTANCE)
		return 0;
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
		return 0;
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
	return 1;
}

/* One line, redrawn: files, records and bytes since open (every batch),
 * out of the files the driver announced (mm_pipeline_expect_files). */
static void progress_line(struct mm_pipeline *s, double secs, int final)
{
	uint64_t b = s->res.bytes_in + atomic_load(&s->bytes);
	uint64_t r = s->prog_records + atomic_load(&s->records);
	uint64_t fd = s->prog_files + atomic_load(&s->files_done);
	uint64_t total = MM_MAX((uint64_t)s->expect_files, (uint64_t)(s->prog_files + s->njobs));
	fprintf(stderr,
		"\r\033[Kscanning: %llu/%llu files, %.2fM records (%.2fM/s), %.0f MB read (%.0f MB/s)%s",
		(unsigned long long)fd, (unsigned long long)total, (double)r / 1e6,
		secs > 0 ? (double)r / 1e6 / secs : 0.0, (double)b / 1e6,
		secs > 0 ? (double)b / 1e6 / secs : 0.0, final ? "\n" : "");
	fflush(stderr);
	s->progress_drawn = !final;
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
static int split_big_files(struct mm_pipeline *s, int nthreads, struct mm_err *err)
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
		if ((s->jobs[k].has_prev && !s->o.rescan) ||
		    !splittable(s->jobs[k].path, s->o.source, &size))
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

		if ((j->has_prev && !s->o.rescan) || !splittable(j->path, s->o.source, &size) ||
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

/* ---- the flush side: everything below runs on the caller's thread ---- */

/* The checkpoint: a flush commits one transaction of tens of MB into
 * the WAL, and SQLite's automatic checkpoint then copied it all into the
 * main file inside the commit, on the flush's thread (the bench's flow
 * scan: ~114 MB, 0.2-0.5 s of its 0.3-0.6 s commit). The pipeline's
 * handle has the automatic checkpoint off; after each commit a thread
 * with its own handle checkpoints while this thread frees the batch and
 * the caller goes on. What is committed is durable before the thread
 * starts (it is in the WAL); a crash during the checkpoint loses nothing
 * (SQLite finishes it at the next open). The thread is joined before the
 * next write transaction begins, so the WAL starts again from its
 * beginning rather than growing, and before the handle closes. */
static void *ckpt_main(void *arg)
{
	char *path = arg;
	struct mm_err e;
	struct timespec t0;

	memset(&e, 0, sizeof(e));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mm_store_checkpoint_file(path, &e))
		mm_warn("checkpointing the database after the flush: %s (the close does it)", e.msg);
	mm_debug("flush: checkpoint done on its own thread (%.3f s)", since(&t0));
	mm_free(path);
	return NULL;
}

static void ckpt_join(struct mm_pipeline *s)
{
	if (!s->ckpt_running)
		return;
	pthread_join(s->ckpt_th, NULL);
	s->ckpt_running = 0;
}

/* Start the checkpoint of what the flush just committed; if no thread
 * can be had, checkpoint here. Failure is a warning: the data is
 * committed, and the next checkpoint (at the latest the close) copies it. */
static void ckpt_start(struct mm_pipeline *s)
{
	struct mm_err e;
	size_t n = strlen(mm_store_path(s->st)) + 1;
	char *path = mm_malloc(n);

	if (path) {
		memcpy(path, mm_store_path(s->st), n);
		if (pthread_create(&s->ckpt_th, NULL, ckpt_main, path) == 0) {
			s->ckpt_running = 1;
			return;
		}
		mm_free(path);
	}
	memset(&e, 0, sizeof(e));
	if (mm_store_checkpoint(s->st, &e))
		mm_warn("checkpointing the database after the flush: %s", e.msg);
}

static int begin(struct mm_pipeline *s, struct mm_err *err)
{
	int rc;
	if (s->in_txn)
		return 0;
	ckpt_join(s);
	if ((rc = mm_store_begin(s->st, err)))
		return rc;
	s->in_txn = 1;
	return 0;
}

/* The instanceDetails JSON for f (enrichment: the renderer never looks
 * the inventory up itself), into b; NULL when there is none. */
static const char *instance_details(const struct mm_pipeline *s, const struct mm_finding *f,
				    struct mm_buf *b)
{
	const struct mm_instance *inst;
	if (f->res_type != MM_RES_INSTANCE || !f->instance_id[0])
		return NULL;
	inst = mm_inventory_by_id(s->inv, f->instance_id, strlen(f->instance_id));
	if (!inst)
		return NULL;
	mm_buf_reset(b);
	if (mm_instance_to_json(inst, f->eni[0] ? f->eni : NULL, b) || !b->len)
		return NULL;
	return b->p;
}

/* Is f's type one that supersedes another (some rule's `by`)? */
static int supersedes_others(const struct mm_pipeline *s, const struct mm_finding *f)
{
	int i, j;
	for (i = 0; i < s->ndet; i++) {
		const struct mm_supersede *r = s->dets[i]->supersedes;
		for (j = 0; r && r[j].dropped; j++)
			if (!strcmp(f->type, r[j].by))
				return 1;
	}
	return 0;
}

/* Apply the detectors' supersede rules to f: 1 if f is not reported. A
 * finding of a `by` type removes stored ones it supersedes. */
static int apply_supersede(struct mm_pipeline *s, const struct mm_finding *f,
			   struct mm_err *err)
{
	int i, j, rc;
	for (i = 0; i < s->ndet; i++) {
		const struct mm_supersede *r = s->dets[i]->supersedes;
		for (j = 0; r && r[j].dropped; j++) {
			if (!strcmp(f->type, r[j].dropped)) {
				/* write_agg writes `by` types first, so the store
				 * answers for this batch too */
				char rk[256];
				mm_finding_resource_key(f, rk, sizeof(rk));
				if ((rc = mm_store_has_finding(s->st, r[j].by, rk, err)))
					return rc;
			} else if (!strcmp(f->type, r[j].by)) {
				char rk[256];
				mm_finding_resource_key(f, rk, sizeof(rk));
				if ((rc = mm_store_delete_findings(s->st, r[j].dropped, rk, err)) < 0)
					return rc;
			}
		}
	}
	return 0;
}

/* The whole stored state of finding id into *f: 1 found, 0 none (or the
 * state of another build, which the caller treats as none), negative
 * error. Uses s->blob. */
static int stored_finding(struct mm_pipeline *s, const char *id, struct mm_finding *f,
			  struct mm_err *err)
{
	int ver = 0, g;

	mm_buf_reset(&s->blob);
	g = mm_store_state_get(s->st, AGG_STATE, id, &ver, &s->blob, err);
	if (g <= 0)
		return g;
	return ver == MM_FINDING_STATE_VERSION && mm_finding_unpack(f, s->blob.p, s->blob.len) == 0;
}

/* Remove finding id (row and state): it is about to be written under
 * another key. 0 or negative. */
static int forget_finding(struct mm_pipeline *s, const char *id, struct mm_err *err)
{
	int rc;
	if ((rc = begin(s, err)) || (rc = mm_store_finding_delete(s->st, id, err)) < 0 ||
	    (rc = mm_store_state_del(s->st, AGG_STATE, id, err)) < 0)
		return rc;
	return 0;
}

/* What write_prep learned about a finding, for its render and commit. */
struct wctx {
	int found, held, replace;
};

/* The first step of writing f: the place and id it is written under.
 * Nothing is read from the store yet. */
static void write_id(struct mm_pipeline *s, struct mm_finding *f)
{
	if (f->res_type == MM_RES_RUNTIME && f->instance_id[0] && (!f->account[0] || !f->region[0])) {
		/* what the host's place file said (host_place), this run or before */
		struct mm_place pl;
		if (mm_places_get(s->places, f->instance_id, &pl)) {
			if (!f->account[0])
				snprintf(f->account, sizeof(f->account), "%s", pl.account);
			if (!f->region[0])
				snprintf(f->region, sizeof(f->region), "%s", pl.region);
		}
	}
	if (!f->region[0] && s->o.default_region)
		snprintf(f->region, sizeof(f->region), "%s", s->o.default_region);
	if (!f->account[0] && f->res_type == MM_RES_RUNTIME && s->o.host_account)
		snprintf(f->account, sizeof(f->account), "%s", s->o.host_account);
	mm_finding_make_id(f);
}

/* Then, after write_id: supersede rules, and f merged with what the
 * store holds for its id (counted new or updated). 0 to go on, 1 when f
 * is not written (superseded), negative on error. Reads the store. With
 * replace, f already is the whole stored state (a spilled finding seen
 * again at the flush, with the inventory complete): it is rendered and
 * written again, not merged a second time. */
static int write_prep(struct mm_pipeline *s, struct mm_finding *f, int replace, struct wctx *c,
		      struct mm_err *err)
{
	struct mm_finding old;
	int found = 0, rc, first_touch;

	if ((rc = apply_supersede(s, f, err)) < 0)
		return rc;
	if (rc == 1) {
		f->archived = -1;
		return 1;
	}
	/* the filter stage: with an inventory, an interface or address it
	 * does not know is not an instance's (NAT gateway, load balancer,
	 * endpoint): GuardDuty raises EC2 findings on instances only. Such a
	 * finding is held, not dropped: when a later file or run names the
	 * instance, it moves onto it. */
	c->held = f->res_type == MM_RES_INSTANCE && !f->instance_id[0] &&
		  mm_inventory_count(s->inv) > 0 && !s->o.report_unknown_enis;
	c->replace = replace;
	c->found = 0;
	/* none, or another build's state: the row's (below) */
	if (replace)
		return 0;
	if ((found = stored_finding(s, f->id, &old, err)) < 0)
		return found;
	if (!found) {
		memcpy(&old, f, sizeof(old));
		old.count = 0;
		old.nevidence = 0;
		if (mm_finding_has_apis(&old))
			old.napis = 0;
		old.detail_file = NULL;
		found = mm_store_finding_load_state(s->st, &old);
		if (found < 0)
			return mm_err_set(err, found, "reading stored finding %s failed", f->id);
	}
	c->found = found;
	/* counted once per run however often spills and flushes write it */
	first_touch = !found || old.updated_at_ms < s->res.started_ms;
	f->updated_at_ms = s->now_ms;
	if (found) {
		int archived = old.archived;
		mm_finding_merge(f, &old);
		f->archived = archived > 0 ? archived : 0;
		if (first_touch)
			s->res.findings_updated++;
	} else {
		if (!f->created_at_ms)
			f->created_at_ms = s->now_ms;
		s->res.findings_new++;
	}
	if (c->held && first_touch)
		s->res.findings_unattributed++;
	return 0;
}

/* f's GuardDuty JSON into js and its packed state into pk (det: room
 * for the instance's details; it may be pk). Reads only f, the inventory
 * and the IP ownership data: safe beside the thread that writes the
 * store. 0 or an MM_E code. */
static int write_render(const struct mm_pipeline *s, const struct mm_finding *f,
			struct mm_buf *det, struct mm_buf *js, struct mm_buf *pk)
{
	const char *details = instance_details(s, f, det);
	int rc;

	mm_buf_reset(js);
	if ((rc = mm_finding_to_json_geo(f, details, s->geo, js)))
		return rc;
	mm_buf_reset(pk);
	return mm_finding_pack(f, pk);
}

/* The last step: f (rendered: rc is write_render's answer) into the
 * store, its row and its state; jc: the indexed columns found in js, or
 * NULL. A suppression rule archives a new finding as it arrives (asked
 * here, on the thread that owns the rules). */
static int write_commit(struct mm_pipeline *s, struct mm_finding *f, const struct wctx *c,
			int rc, struct mm_buf *det, struct mm_buf *js, struct mm_buf *pk,
			const struct mm_store_jcols *jc, struct mm_err *err)
{
	if (!rc && !c->found && !c->replace && !c->held && s->o.suppress &&
	    s->o.suppress(s->o.suppress_ctx, js->p) == 1) {
		f->archived = 1;
		rc = write_render(s, f, det, js, pk);
		jc = NULL; /* of the JSON before: found again from this one */
	}
	if (rc)
		return mm_err_set(err, rc, "rendering finding %s failed", f->id);
	if ((rc = mm_store_finding_put_jc(s->st, f, js->p, c->held, jc, err)) ||
	    (rc = mm_store_state_put(s->st, AGG_STATE, f->id, MM_FINDING_STATE_VERSION, pk->p,
				     pk->len, err)))
		return rc;
	if (!c->held && f->severity > s->res.max_severity)
		s->res.max_severity = f->severity;
	return 0;
}

/* Merge f with what the store holds for its id and write it back:
 * finding row (GuardDuty JSON), its mergeable state, held or not (see
 * write_prep for replace). One finding, every step on this thread. */
static int write_one(struct mm_pipeline *s, struct mm_finding *f, int replace,
		     struct mm_err *err)
{
	struct wctx c;
	int rc;

	if (f->archived < 0)
		return 0;
	write_id(s, f);
	if ((rc = write_prep(s, f, replace, &c, err)))
		return rc < 0 ? rc : 0;
	rc = write_render(s, f, &s->blob, &s->js, &s->blob);
	return write_commit(s, f, &c, rc, &s->blob, &s->js, &s->blob, NULL, err);
}

/* ---- the pipelined writer ----
 *
 * A flush of many findings renders each one (JSON, packed state: ~40% of
 * writing it; then the columns the store indexes, found in the JSON) on
 * a helper thread while this one reads and writes the
 * store: batches of WBATCH findings, two of them, one being rendered
 * while the other is committed and refilled. Everything a finding's
 * preparation reads from the store is written before it is prepared:
 * the batches drain between write_agg's two passes (supersede rules),
 * and before a finding whose id is already in flight. */
#define WBATCH 16
#define WPIPE_MIN 64	/* fewer findings: not worth a thread */

struct wslot {
	struct mm_finding *f;	/* &fc: the table's own may be packed meanwhile */
	struct mm_finding fc;
	struct wctx c;
	int rc;
	struct mm_buf det, js, pk;
	struct mm_store_jcols jc;	/* the store's indexed columns, found in js */
};

struct wpipe {
	struct mm_pipeline *s;
	struct wslot b[2][WBATCH];
	int n[2];
	int cur, inflight;		/* batch being filled; posted, not committed (-1) */
	unsigned posted, rendered;	/* batches, counting up; batch number k is b[(k - 1) & 1] */
	unsigned inflight_no;		/* the number inflight was posted as */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int spilling;
};

static void *wpipe_main(void *arg)
{
	struct wpipe *p = arg;
	for (;;) {
		int k, i;
		pthread_mutex_lock(&p->mu);
		while (p->rendered == p->posted && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->rendered == p->posted) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		k = (int)(p->rendered & 1);
		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < p->n[k]; i++) {
			struct wslot *w = &p->b[k][i];
			w->rc = write_render(p->s, w->f, &w->det, &w->js, &w->pk);
			if (!w->rc)
				mm_store_jcols_of(w->js.p, &w->jc);
		}
		pthread_mutex_lock(&p->mu);
		p->rendered++;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
}

/* The spill's list of the ids it wrote (see write_agg). */
static int note_spilled(struct mm_pipeline *s, const struct mm_finding *f, struct mm_err *err)
{
	if (s->nspilled == s->capspilled) {
		size_t nc = s->capspilled ? s->capspilled * 2 : 1024;
		char (*ni)[33] = mm_realloc(s->spilled, nc * sizeof(*ni));
		if (!ni)
			return mm_err_set(err, MM_ENOMEM, "out of memory");
		s->spilled = ni;
		s->capspilled = nc;
	}
	memcpy(s->spilled[s->nspilled++], f->id, 33);
	return 0;
}

/* Commit the posted batch once it is rendered. */
static int wpipe_commit(struct wpipe *p, struct mm_err *err)
{
	int k = p->inflight, i, rc = 0;
	if (k < 0)
		return 0;
	pthread_mutex_lock(&p->mu);
	while (p->rendered < p->inflight_no)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n[k] && !rc; i++) {
		struct wslot *w = &p->b[k][i];
		rc = write_commit(p->s, w->f, &w->c, w->rc, &w->det, &w->js, &w->pk, &w->jc, err);
		if (!rc && p->spilling && w->f->archived >= 0)
			rc = note_spilled(p->s, w->f, err);
	}
	p->inflight = -1;
	p->n[k] = 0;
	return rc;
}

/* Post the batch being filled, commit the one before it meanwhile. */
static int wpipe_post(struct wpipe *p, struct mm_err *err)
{
	int rc;
	if (!p->n[p->cur])
		return 0;
	pthread_mutex_lock(&p->mu);
	p->posted++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	rc = wpipe_commit(p, err);
	p->inflight = p->cur;
	p->inflight_no = p->posted;
	p->cur ^= 1;
	return rc;
}

static int wpipe_drain(struct wpipe *p, struct mm_err *err)
{
	int rc = wpipe_post(p, err);
	return rc ? rc : wpipe_commit(p, err);
}

/* Is a finding with f's id prepared and not yet committed? */
static int wpipe_has(const struct wpipe *p, const struct mm_finding *f)
{
	int k, i;
	for (k = 0; k < 2; k++)
		for (i = 0; i < p->n[k]; i++)
			if (!strcmp(p->b[k][i].f->id, f->id))
				return 1;
	return 0;
}

static int wpipe_add(struct wpipe *p, struct mm_finding *f, struct mm_err *err)
{
	struct wslot *w;
	int rc;

	write_id(p->s, f);
	if (wpipe_has(p, f) && (rc = wpipe_drain(p, err)))
		return rc;
	w = &p->b[p->cur][p->n[p->cur]];
	if ((rc = write_prep(p->s, f, 0, &w->c, err)))
		return rc < 0 ? rc : 0;
	w->fc = *f;
	w->f = &w->fc;
	w->rc = 0;
	if (++p->n[p->cur] == WBATCH)
		return wpipe_post(p, err);
	return 0;
}

static int wpipe_start(struct wpipe *p, struct mm_pipeline *s, int spilling)
{
	int k, i;
	memset(p, 0, sizeof(*p));
	p->s = s;
	p->inflight = -1;
	p->spilling = spilling;
	for (k = 0; k < 2; k++)
		for (i = 0; i < WBATCH; i++) {
			mm_buf_init(&p->b[k][i].det, s->blob.max);
			mm_buf_init(&p->b[k][i].js, s->js.max);
			mm_buf_init(&p->b[k][i].pk, s->blob.max);
		}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->th, NULL, wpipe_main, p)) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		return MM_ENOMEM;
	}
	return 0;
}

static void wpipe_end(struct wpipe *p)
{
	int k, i;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	for (k = 0; k < 2; k++)
		for (i = 0; i < WBATCH; i++) {
			mm_buf_free(&p->b[k][i].det);
			mm_buf_free(&p->b[k][i].js);
			mm_buf_free(&p->b[k][i].pk);
		}
}

struct saver;
static int save_take(struct saver *v);

struct fix_ctx {
	struct mm_pipeline *s;
	unsigned char *sup;	/* per finding: 1 if its type supersedes others */
};

static int fix_one(struct mm_finding *f, size_t i, void *ctx)
{
	struct fix_ctx *x = ctx;
	int changed = resolve(f, x->s->inv);
	x->sup[i] = (unsigned char)supersedes_others(x->s, f);
	return changed;
}

/* Resolve, re-key and write every finding of a into the open
 * transaction. A spill remembers the ids it wrote: the flush writes them
 * again once the batch's inventory is complete. */
static int write_agg(struct mm_pipeline *s, struct mm_agg *a, int spilling, struct mm_err *err)
{
	struct wpipe *p = NULL;
	struct fix_ctx x = {s, NULL};
	size_t i, n = mm_agg_count(a);
	int rc = 0;

	if (!n)
		return 0;
	/* one walk resolves ENIs to instances, merges findings whose keys
	 * became equal and notes each one's pass: the table holds them
	 * packed, so every walk unpacks them all (finding/agg.h) */
	if (!(x.sup = mm_calloc(n, 1)))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	if ((rc = mm_agg_rekey(a, fix_one, &x))) {
		mm_free(x.sup);
		return mm_err_set(err, rc, "out of memory");
	}
	if (n >= WPIPE_MIN && s->nthreads > 1 && (p = mm_malloc(sizeof(*p))) &&
	    wpipe_start(p, s, spilling)) {
		mm_free(p);
		p = NULL;
	}
	/* two passes: the types that supersede others first, so a finding
	 * they supersede finds them in the store, batch or not */
	for (i = 0; i < 2 * n && !rc; i++, mm_agg_release(a)) {
		struct mm_finding *f;
		if (p && i == n)
			rc = wpipe_drain(p, err);
		/* the detectors' rows saved meanwhile go in as they come */
		if (!rc && s->saving && (i & 31) == 31)
			rc = save_take(s->saving);
		if (rc || x.sup[i % n] != (i < n))
			continue;
		if (!(f = mm_agg_at(a, i % n))) {
			rc = mm_err_set(err, MM_ENOMEM, "out of memory");
			break;
		}
		/* written (or a copy taken to write): the table is cleared
		 * after this walk, so it need not be packed again */
		mm_agg_spent(a, i % n);
		if (f->archived < 0)
			continue;
		if (p)
			rc = wpipe_add(p, f, err);
		else if (!(rc = write_one(s, f, 0, err)) && spilling && f->archived >= 0)
			rc = note_spilled(s, f, err);
	}
	if (p) {
		if (!rc)
			rc = wpipe_drain(p, err);
		wpipe_end(p);
		mm_free(p);
	}
	mm_free(x.sup);
	return rc;
}

/* The findings spilled during the batch, written again now that what the
 * batch learned about instances is merged: same key, rendered again
 * (instance details, held or not); a key that changed (the ENI now names
 * an instance) moves, merging into what that key holds. */
static int rewrite_spilled(struct mm_pipeline *s, struct mm_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < s->nspilled; i++) {
		struct mm_finding f;
		char oldid[33];
		int g = stored_finding(s, s->spilled[i], &f, err);

		if (g < 0)
			return g;
		if (!g)
			continue; /* moved already, or superseded */
		memcpy(oldid, f.id, sizeof(oldid));
		resolve(&f, s->inv);
		mm_finding_make_id(&f);
		if (!strcmp(f.id, oldid))
			rc = write_one(s, &f, 1, err);
		else if ((rc = forget_finding(s, oldid, err)) == 0)
			rc = write_one(s, &f, 0, err);
		if (rc)
			return rc;
	}
	s->nspilled = 0;
	return 0;
}

static int spill(struct mm_pipeline *s, struct mm_agg *a, struct mm_err *err)
{
	int rc;
	if ((rc = begin(s, err)))
		return rc;
	/* what is written now is created or updated now: without it a
	 * spill before the first flush wrote times of 0 (1970), and the
	 * flush then counted those findings "updated" */
	s->now_ms = mm_now_ms();
	s->res.spills++;
	mm_debug("spilling %zu findings into the open transaction", mm_agg_count(a));
	return write_agg(s, a, 1, err);
}

/* Held findings whose instance is now known move onto it. */
struct held_ctx {
	struct mm_pipeline *s;
	char (*ids)[33];
	size_t n, cap;
};

static int held_row(void *ctx, const struct mm_finding_row *row)
{
	struct held_ctx *h = ctx;
	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 64;
		char (*ni)[33] = mm_realloc(h->ids, nc * sizeof(*ni));
		if (!ni)
			return MM_ENOMEM;
		h->ids = ni;
		h->cap = nc;
	}
	snprintf(h->ids[h->n++], 33, "%s", row->id);
	return 0;
}

static int attribute_held(struct mm_pipeline *s, struct mm_agg *final, struct mm_err *err)
{
	struct held_ctx h = {s, NULL, 0, 0};
	size_t i;
	int rc;

	if (mm_inventory_count(s->inv) == 0)
		return 0;
	if ((rc = mm_store_held_each(s->st, held_row, &h, err)) < 0)
		goto out;
	for (i = 0; i < h.n; i++) {
		struct mm_finding f;
		int g = stored_finding(s, h.ids[i], &f, err);

		if (g < 0) {
			rc = g;
			goto out;
		}
		if (!g)
			continue;
		resolve(&f, s->inv);
		if (!f.instance_id[0])
			continue;
		if ((rc = forget_finding(s, h.ids[i], err)))
			goto out;
		/* its own count was stored: merging it in again is exact */
		f.created_at_ms = 0;
		if ((rc = mm_agg_merge(final, &f)))
			goto out;
		s->res.findings_attributed_late++;
	}
	rc = 0;
out:
	mm_free(h.ids);
	return rc;
}

/* ---- saving the detectors' states ------------------------------------------
 *
 * The detectors' save hooks run on helper threads (one detector each at
 * a time) while this thread writes the findings: they share nothing
 * (save reads its detector's merged state, the findings are the batch's
 * table). They hand over finished rows, which this thread then writes
 * in the order they come (rows of different keys, so the order does not
 * matter). A detector with state_packed has its entities' blobs packed
 * into rows of up to MM_STORE_STATE_MAX bytes named PACK_PREFIX + a
 * sequence number:
 *   "MMPK" u8 format=1, then per entity: u16 name length, name,
 *   u32 blob length, blob (little-endian)
 * and all its rows are deleted before they are written (save puts the
 * whole state). A blob too big to share a row is written as the
 * entity's own row, as a detector without state_packed writes all.
 * Measured on the 50k-ENI bench file: one SQLite row per ENI per
 * detector was ~0.8 s of the flush, written serially after the findings. */
#define PACK_PREFIX "#pack-"
#define PACK_MAGIC "MMPK"
#define PACK_FORMAT 1
#define PACK_HDR 5
#define SAVERS 2	/* helper threads at most */
/* rows handed over and not yet written, bytes: the savers wait past it
 * (the bench file's whole state is ~42 MB deflated) */
#define SAVE_QUEUE_MAX ((size_t)64 << 20)
/* A row whose version has this bit holds "u32 length" and the raw
 * deflate of the detector's blob (or pack) of that length; the version
 * without the bit is the detector's. The blobs of a 50k-ENI estate
 * deflate 2.5-5x at ISA-L's level 1 (~0.5-1 GB/s on one core), which
 * the saving threads do while this one writes: the database, its WAL
 * and the commit's copy shrink as much. A build without ISA-L writes
 * them as they are (zlib's level 1 is ~5x slower) and reads both. An
 * older build sees a version it does not know and relearns. */
#define STATE_DEFLATED 0x10000
#define DEFLATE_MIN 4096	/* smaller rows are written as they are */

/* A finished row, handed from a saving thread to the writer. */
struct save_row {
	struct save_row *next;
	int det;			/* index into s->dets */
	int deflated;
	char entity[MM_STORE_ENTITY_MAX + 1];
	size_t n;
	unsigned char data[];		/* n bytes */
};

struct saver;

/* One saving thread's: the detector it saves, its pack being filled. */
struct save_hand {
	struct saver *v;
	int det;
	unsigned seq;			/* the detector's next pack number */
	unsigned char *pack;		/* MM_STORE_STATE_MAX bytes */
	size_t pn;			/* bytes in pack; 0: none open */
	unsigned char *z;		/* deflate output, MM_STORE_STATE_MAX */
	unsigned char *lvl;		/* ISA-L's level 1 buffer */
	pthread_t th;
	int started;
};

struct saver {
	struct mm_pipeline *s;
	struct mm_err *err;		/* the writing thread's */
	int threaded;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct save_row *head, **tail;	/* rows to write, in order */
	size_t queued;			/* their bytes */
	int next;			/* the next detector to save */
	int running;			/* saving threads not done */
	int rc, failed;			/* the first failure of a save, its detector */
	int wrc;			/* the writing thread's first failure */
	struct save_hand hand[SAVERS];
};

static int save_write(struct saver *v, int det, const char *entity, int deflated,
		      const unsigned char *p, size_t n)
{
	const struct mm_detector_def *d = v->s->dets[det];
	return mm_store_state_put(v->s->st, d->name, entity,
				  d->state_version | (deflated ? STATE_DEFLATED : 0), p, n, v->err);
}

/* Deflate p[0..n) into h->z: its length ("u32 n" and the stream), or 0
 * when that would not save an eighth (then written as it is). */
static size_t save_deflate(struct save_hand *h, const unsigned char *p, size_t n)
{
#ifdef MM_HAVE_ISAL
	struct isal_zstream zs;
	if (n < DEFLATE_MIN || n > MM_STORE_STATE_MAX)
		return 0;
	if (!h->lvl && !(h->lvl = mm_malloc(ISAL_DEF_LVL1_DEFAULT)))
		return 0;
	if (!h->z && !(h->z = mm_malloc(MM_STORE_STATE_MAX)))
		return 0;
	isal_deflate_stateless_init(&zs);
	zs.level = 1;
	zs.level_buf = h->lvl;
	zs.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
	zs.next_in = (uint8_t *)p;
	zs.avail_in = (uint32_t)n;
	zs.next_out = h->z + 4;
	zs.avail_out = (uint32_t)(n - n / 8 - 4);
	zs.end_of_stream = 1;
	zs.flush = NO_FLUSH;
	if (isal_deflate_stateless(&zs) != COMP_OK || zs.avail_in)
		return 0;
	mm_le_put(h->z, n, 4);
	return 4 + zs.total_out;
#else
	(void)h;
	(void)p;
	(void)n;
	return 0;
#endif
}

/* One finished row of the current detector: deflated, then handed to
 * the writer (or written now, unthreaded). 0, MM_ENOMEM, or MM_EDB when
 * the writer failed (its err is set). */
static int save_emit(struct save_hand *h, const char *entity, const unsigned char *p, size_t n)
{
	struct saver *v = h->v;
	size_t zn = save_deflate(h, p, n);
	struct save_row *r;
	int rc;

	if (zn) {
		p = h->z;
		n = zn;
	}
	if (!v->threaded) {
		if ((rc = save_write(v, h->det, entity, zn > 0, p, n)))
			v->wrc = rc;
		return rc ? MM_EDB : 0;
	}
	if (!(r = mm_malloc(sizeof(*r) + n)))
		return MM_ENOMEM;
	r->next = NULL;
	r->det = h->det;
	r->deflated = zn > 0;
	snprintf(r->entity, sizeof(r->entity), "%s", entity);
	r->n = n;
	if (n)
		memcpy(r->data, p, n);
	pthread_mutex_lock(&v->mu);
	while (v->queued > SAVE_QUEUE_MAX && !v->wrc)
		pthread_cond_wait(&v->cv, &v->mu);
	*v->tail = r;
	v->tail = &r->next;
	v->queued += n;
	rc = v->wrc;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	return rc ? MM_EDB : 0;
}

static int save_pack_out(struct save_hand *h)
{
	char ent[32];
	size_t n = h->pn;
	if (!n)
		return 0;
	h->pn = 0;
	snprintf(ent, sizeof(ent), PACK_PREFIX "%06u", h->seq++);
	return save_emit(h, ent, h->pack, n);
}

/* The put the detectors' save hooks call (a saving thread). */
static int save_put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct save_hand *h = pctx;
	const struct mm_detector_def *d = h->v->s->dets[h->det];
	size_t en = strlen(entity), need = 2 + en + 4 + n;
	unsigned char *q;
	int rc;

	if (!en || en > MM_STORE_ENTITY_MAX || n > MM_STORE_STATE_MAX)
		return MM_EINVAL;
	if (!d->state_packed || PACK_HDR + need > MM_STORE_STATE_MAX)
		return save_emit(h, entity, blob, n);	/* a row of its own */
	if (h->pn && h->pn + need > MM_STORE_STATE_MAX && (rc = save_pack_out(h)))
		return rc;
	if (!h->pack && !(h->pack = mm_malloc(MM_STORE_STATE_MAX)))
		return MM_ENOMEM;
	if (!h->pn) {
		memcpy(h->pack, PACK_MAGIC, 4);
		h->pack[4] = PACK_FORMAT;
		h->pn = PACK_HDR;
	}
	q = h->pack + h->pn;
	mm_le_put(q, en, 2);
	memcpy(q + 2, entity, en);
	mm_le_put(q + 2 + en, n, 4);
	if (n)
		memcpy(q + 6 + en, blob, n);
	h->pn += need;
	return 0;
}

/* Save detectors, taking the next one until none is left (a saving
 * thread, or the writer itself unthreaded). */
static void save_all(struct save_hand *h)
{
	struct saver *v = h->v;
	struct mm_pipeline *s = v->s;
	int j, rc = 0;

	for (;;) {
		const struct mm_detector_def *d;
		if (v->threaded)
			pthread_mutex_lock(&v->mu);
		j = v->rc || v->wrc ? s->ndet : v->next++;
		if (v->threaded)
			pthread_mutex_unlock(&v->mu);
		if (j >= s->ndet)
			break;
		d = s->dets[j];
		if (!d->save || d->state_version <= 0)
			continue;
		h->det = j;
		h->seq = 0;
		h->pn = 0;
		rc = d->save(s->gstate[j], save_put, h);
		if (!rc)
			rc = save_pack_out(h);
		if (rc) {
			if (v->threaded)
				pthread_mutex_lock(&v->mu);
			if (!v->rc) {
				v->rc = rc;
				v->failed = j;
			}
			if (v->threaded)
				pthread_mutex_unlock(&v->mu);
			break;
		}
	}
	if (v->threaded) {
		pthread_mutex_lock(&v->mu);
		v->running--;
		pthread_cond_broadcast(&v->cv);
		pthread_mutex_unlock(&v->mu);
	}
}

static void *save_main(void *arg)
{
	save_all(arg);
	return NULL;
}

/* Start saving on helper threads (none with one worker: then the
 * writer saves in save_finish). */
static void save_start(struct saver *v, struct mm_pipeline *s, struct mm_err *err)
{
	int i, want = s->nthreads < SAVERS ? s->nthreads : SAVERS;

	memset(v, 0, sizeof(*v));
	v->s = s;
	v->err = err;
	v->tail = &v->head;
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	for (i = 0; i < SAVERS; i++)
		v->hand[i].v = v;
	if (want < 2)
		return;
	/* set before the threads start: they read it */
	v->threaded = 1;
	pthread_mutex_lock(&v->mu);
	for (i = 0; i < want; i++) {
		if (pthread_create(&v->hand[i].th, NULL, save_main, &v->hand[i]) != 0)
			break;
		v->hand[i].started = 1;
		v->running++;
	}
	pthread_mutex_unlock(&v->mu);
	if (!i)
		v->threaded = 0;
}

/* Wait for the saving threads, then free what is left. */
static void save_release(struct saver *v)
{
	int i;
	for (i = 0; i < SAVERS; i++) {
		struct save_hand *h = &v->hand[i];
		if (h->started)
			pthread_join(h->th, NULL);
		mm_free(h->pack);
		mm_free(h->z);
		mm_free(h->lvl);
	}
	while (v->head) {
		struct save_row *r = v->head;
		v->head = r->next;
		mm_free(r);
	}
	pthread_mutex_destroy(&v->mu);
	pthread_cond_destroy(&v->cv);
}

/* Write the rows queued so far, not waiting for more (the flushing
 * thread, between findings): the queue stays short rather than holding
 * every detector's rows until the findings are all written (~10 MB of
 * the CloudTrail bench's peak). 0 or MM_EDB (err set). */
static int save_take(struct saver *v)
{
	struct save_row *r, *next;
	int rc;

	if (!v->threaded)
		return 0;
	pthread_mutex_lock(&v->mu);
	r = v->head;
	v->head = NULL;
	v->tail = &v->head;
	v->queued = 0;
	rc = v->wrc;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	for (; r; r = next) {
		next = r->next;
		if (!rc && (rc = save_write(v, r->det, r->entity, r->deflated, r->data, r->n))) {
			pthread_mutex_lock(&v->mu);
			if (!v->wrc)
				v->wrc = rc;
			pthread_cond_broadcast(&v->cv);
			pthread_mutex_unlock(&v->mu);
		}
		mm_free(r);
	}
	return rc ? MM_EDB : 0;
}

/* Write the rows the saving threads hand over until they are all done
 * (rows are dropped once rc is set). Returns rc or the first failure. */
static int save_drain(struct saver *v, int rc)
{
	for (;;) {
		int more;
		pthread_mutex_lock(&v->mu);
		if (rc && !v->wrc)
			v->wrc = rc;
		while (!v->head && v->running)
			pthread_cond_wait(&v->cv, &v->mu);
		more = v->head != NULL;
		pthread_mutex_unlock(&v->mu);
		if (!more)
			return rc;
		if (save_take(v) && !rc)
			rc = v->wrc; /* the write's own code, err set */
	}
}

/* Delete the stored rows of the packed detectors, before any of their
 * new rows is written. 0 or an MM_E code (err set). */
static int save_clear(struct saver *v)
{
	struct mm_pipeline *s = v->s;
	int j, rc = 0;

	for (j = 0; j < s->ndet && !rc; j++)
		if (s->dets[j]->state_packed && s->dets[j]->save && s->dets[j]->state_version > 0)
			rc = mm_store_state_clear(s->st, s->dets[j]->name, v->err);
	return rc;
}

/* The findings could not be written: stop the saving, drop its rows. */
static void save_abort(struct saver *v)
{
	if (v->threaded)
		save_drain(v, MM_EDB);
	save_release(v);
}

/* Write the rows the saving produces until it is done (the packed
 * detectors' old rows were deleted by save_clear), and free what it
 * used. 0 or an MM_E code (err set). */
static int save_finish(struct saver *v)
{
	struct mm_pipeline *s = v->s;
	int rc = 0;

	if (v->threaded)
		rc = save_drain(v, rc);
	else if (!rc)
		save_all(&v->hand[0]);
	save_release(v);
	if (rc)
		return rc;
	if (v->wrc)
		return v->wrc;	/* err set by the write */
	if (v->rc == MM_ENOMEM)
		return mm_err_set(v->err, MM_ENOMEM, "out of memory saving detector state");
	if (v->rc)
		return mm_err_set(v->err, v->rc, "%s: saving detector state failed",
				  s->dets[v->failed]->name);
	return 0;
}

/* Merging the workers' states of the detectors: a shared cursor over
 * the detectors, taken by up to nthreads threads. */
struct merge_job {
	struct mm_pipeline *s;
	pthread_mutex_t mu;
	int next;		/* the next detector to merge */
	int rc, failed;		/* the first failure and its detector */
};

struct place_save {
	struct mm_pipeline *s;
	struct mm_err *err;
};

/* One instance's place as its stored row. */
static int place_put(void *ctx, const char *instance, const struct mm_place *p)
{
	struct place_save *v = ctx;
	char line[128];
	mm_place_format(p, line, sizeof(line));
	return mm_store_state_put(v->s->st, PLACE_STATE, instance, PLACE_STATE_VERSION, line,
				  strlen(line), v->err);
}

/* A stored place row (bad or other-version rows are skipped: the next
 * host file of that folder says it again). */
static int place_row(void *ctx, const char *entity, int version, const void *blob, size_t n)
{
	struct mm_pipeline *s = ctx;
	struct mm_place p;
	struct mm_err e;
	if (version == PLACE_STATE_VERSION && mm_place_parse(blob, n, &p, &e) == 0)
		(void)mm_places_put(s->places, entity, &p);
	return 0;
}

/* Merge every worker's state of detector j into the pipeline's, giving
 * each worker a fresh one. 0 or an MM_E code. */
static int merge_one(struct mm_pipeline *s, int j)
{
	const struct mm_detector_def *d = s->dets[j];
	int i, rc;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; d->merge && d->state_new && i < s->nthreads; i++) {
		void *fresh;
		if ((rc = d->merge(s->gstate[j], s->ws[i].dstate[j])))
			return rc;
		if (!(fresh = d->state_new()))
			return MM_ENOMEM;
		if (d->state_free)
			d->state_free(s->ws[i].dstate[j]);
		s->ws[i].dstate[j] = fresh;
	}
	mm_debug("flush: %s merged (%.3f s)", d->name, since(&t0));
	return 0;
}

static void *merge_main(void *arg)
{
	struct merge_job *mj = arg;
	for (;;) {
		int j, rc;
		pthread_mutex_lock(&mj->mu);
		j = mj->rc ? mj->s->ndet : mj->next++;
		pthread_mutex_unlock(&mj->mu);
		if (j >= mj->s->ndet)
			return NULL;
		if ((rc = merge_one(mj->s, j))) {
			pthread_mutex_lock(&mj->mu);
			if (!mj->rc) {
				mj->rc = rc;
				mj->failed = j;
			}
			pthread_mutex_unlock(&mj->mu);
		}
	}
}

static int merge_states(struct mm_pipeline *s, struct mm_err *err)
{
	struct merge_job mj = {.s = s};
	pthread_t th[15];
	int n = 0, i;

	pthread_mutex_init(&mj.mu, NULL);
	/* the calling thread is one of them */
	while (n + 1 < s->nthreads && n + 1 < s->ndet && n < 15 &&
	       pthread_create(&th[n], NULL, merge_main, &mj) == 0)
		n++;
	merge_main(&mj);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&mj.mu);
	if (mj.rc == MM_ENOMEM)
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	if (mj.rc)
		return mm_err_set(err, mj.rc, "%s: merging detector state failed", s->dets[mj.failed]->name);
	return 0;
}

int mm_pipeline_flush(struct mm_pipeline *s, struct mm_err *err)
{
	struct mm_agg *final = s->final;
	size_t k;
	int i, j, rc;

	struct timespec tp;
	int inv_changed = 0;	/* spilled findings need writing again only then */
	struct saver sv;

	s->now_ms = mm_now_ms();
	s->res.findings_spilled += s->nspilled;
	clock_gettime(CLOCK_MONOTONIC, &tp);
	/* what the workers learned; their findings are in the shared table */
	for (i = 0; i < s->nthreads; i++) {
		struct worker *w = &s->ws[i];
		add_counts(&s->res, &w->r);
		if (w->spill_failed) {
			w->spill_failed = 0;
			rc = mm_err_set(err, MM_EDB, "writing findings during the batch failed (see above)");
			goto fail;
		}
		if (mm_inventory_count(w->learned)) {
			struct mm_inventory *empty;
			inv_changed = 1;
			if (mm_inventory_merge(s->inv, w->learned) || mm_inventory_new(&empty))
				return mm_err_set(err, MM_ENOMEM, "out of memory merging instances");
			mm_inventory_free(w->learned);
			w->learned = w->det.learned = empty;
		}
	}
	s->res.findings_dropped += mm_agg_dropped(final);
	mm_debug("flush: merged %zu findings (%.3f s)", mm_agg_count(final), since(&tp));
	/* detector states: merge exactly (each detector's on its own thread,
	 * as many at once as there are workers: they share nothing), then let
	 * each finish on the whole, in registry order */
	clock_gettime(CLOCK_MONOTONIC, &tp);
	if ((rc = merge_states(s, err)))
		return rc;
	mm_debug("flush: detector states merged (%.3f s)", since(&tp));
	clock_gettime(CLOCK_MONOTONIC, &tp);
	for (j = 0; j < s->ndet; j++) {
		const struct mm_detector_def *d = s->dets[j];
		struct mm_detect_ctx c;
		if (!d->finish)
			continue;
		memset(&c, 0, sizeof(c));
		c.intel = s->intel;
		c.geo = s->geo;
		c.sigma = s->o.sigma;
		c.inv = s->inv;
		c.agg = final;
		c.params = s->params[j];
		d->finish(s->gstate[j], &c);
		mm_agg_release(final);
	}
	mm_debug("flush: detectors finished (%.3f s)", since(&tp));
	if (mm_log_get_level() >= MM_LOG_VERBOSE) {
		struct mm_agg_stats as;
		mm_agg_stats(final, &as); /* a walk of the table: -v only */
		mm_debug("findings table: %zu findings packed in %.1f MB (%.0f bytes each), "
			 "at most %zu open at once (%.1f MB); %" PRIu64 " unpacks, %" PRIu64
			 " packs, %" PRIu64 " sweeps so far",
			 mm_agg_count(final), as.packed / 1e6,
			 mm_agg_count(final) ? (double)as.packed / (double)mm_agg_count(final) : 0.0,
			 as.open_hw, as.open_hw * sizeof(struct mm_finding) / 1e6, as.unpacks,
			 as.packs, as.sweeps);
	}
	/* held findings can only move when the inventory has news: the one
	 * loaded at open (first flush) or instances this batch learned */
	if ((inv_changed || !s->held_checked) && (rc = attribute_held(s, final, err)))
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &tp);
	/* the states are serialized meanwhile (see save_start) */
	save_start(&sv, s, err);
	s->saving = &sv;
	if ((rc = begin(s, err)) || (rc = save_clear(&sv)) || (rc = write_agg(s, final, 0, err)) ||
	    (inv_changed && (rc = rewrite_spilled(s, err)))) {
		s->saving = NULL;
		save_abort(&sv);
		goto fail;
	}
	s->saving = NULL;
	mm_debug("flush: findings written (%.3f s)", since(&tp));
	clock_gettime(CLOCK_MONOTONIC, &tp);
	if ((rc = save_finish(&sv)))
		goto fail;
	for (k = 0; k < s->ndone; k++) {
		struct file_job *jb = &s->done[k];
		if ((rc = mm_store_file_put(s->st, jb->path, &jb->now, err)))
			goto fail;
	}
	/* the inventory is written when it changed: the given one at the
	 * first flush, what RunInstances taught at any */
	for (k = 0; inv_changed || s->inv_unsaved; k++) {
		const struct mm_instance *inst = mm_inventory_at(s->inv, k);
		if (!inst)
			break;
		mm_buf_reset(&s->js);
		if (mm_instance_to_json(inst, NULL, &s->js) == 0 &&
		    (rc = mm_store_inventory_put(s->st, inst->instance_id, s->js.p, err)))
			goto fail;
	}
	if ((rc = mm_places_each_changed(s->places, place_put, &(struct place_save){s, err})))
		goto fail;
	mm_debug("flush: states, files and inventory written (%.3f s)", since(&tp));
	clock_gettime(CLOCK_MONOTONIC, &tp);
	if ((rc = mm_store_commit(s->st, err)))
		goto fail;
	mm_debug("flush: commit (%.3f s)", since(&tp));
	ckpt_start(s);
	mm_places_clean(s->places);
	s->inv_unsaved = 0;
	s->held_checked = 1;
	s->in_txn = 0;
	s->nspilled = 0;
	mm_agg_clear(final);
	mm_agg_set_max(final, s->agg_max); /* merges at the flush may have raised it */
	for (k = 0; k < s->nowned; k++)
		mm_free(s->owned[k]);
	s->nowned = 0;
	s->ndone = 0;
	return 0;
fail:
	mm_store_rollback(s->st);
	s->in_txn = 0;
	s->nspilled = 0;
	return rc;
}

struct state_load_ctx {
	const struct mm_detector_def *d;
	void *state;
	uint64_t discarded;
	uint64_t bad;		/* rows that did not parse (packs, deflated) */
	unsigned char *raw;	/* an inflated row */
};

/* A pack row (see save_put): every entity's blob goes to load. A pack
 * that does not parse is discarded whole (counted in bad). */
static void state_pack(struct state_load_ctx *c, int version, const unsigned char *b, size_t n)
{
	size_t at = PACK_HDR;
	char ent[MM_STORE_ENTITY_MAX + 1];

	if (n < PACK_HDR || memcmp(b, PACK_MAGIC, 4) || b[4] != PACK_FORMAT) {
		c->bad++;
		return;
	}
	while (at < n) {
		size_t en, bn;
		if (n - at < 2 || (en = mm_le_get(b + at, 2)) == 0 || en > MM_STORE_ENTITY_MAX ||
		    n - at - 2 < en + 4 || (bn = mm_le_get(b + at + 2 + en, 4)) > n - at - 6 - en) {
			c->bad++;
			return;
		}
		memcpy(ent, b + at + 2, en);
		ent[en] = '\0';
		if (c->d->load(c->state, ent, version, b + at + 6 + en, bn))
			c->discarded++;
		at += 6 + en + bn;
	}
}

/* Inflate a STATE_DEFLATED row into c->raw: its length, or -1 when it
 * does not inflate to the length it names. */
static long state_inflate(struct state_load_ctx *c, const unsigned char *b, size_t n)
{
	size_t want;
	if (n < 4 || n > 0xffffffffu || (want = mm_le_get(b, 4)) > MM_STORE_STATE_MAX)
		return -1;
	if (!c->raw && !(c->raw = mm_malloc(MM_STORE_STATE_MAX + 1)))
		return -1;
#ifdef MM_HAVE_ISAL
	{
		struct inflate_state st;
		isal_inflate_init(&st);
		st.next_in = (uint8_t *)(b + 4);
		st.avail_in = (uint32_t)(n - 4);
		st.next_out = c->raw;
		st.avail_out = MM_STORE_STATE_MAX + 1;
		if (isal_inflate_stateless(&st) != ISAL_DECOMP_OK || st.total_out != want)
			return -1;
	}
#else
	{
		z_stream zs;
		int zr;
		memset(&zs, 0, sizeof(zs));
		if (inflateInit2(&zs, -15) != Z_OK)
			return -1;
		zs.next_in = (Bytef *)(b + 4);
		zs.avail_in = (uInt)(n - 4);
		zs.next_out = c->raw;
		zs.avail_out = MM_STORE_STATE_MAX + 1;
		zr = inflate(&zs, Z_FINISH);
		inflateEnd(&zs);
		if (zr != Z_STREAM_END || zs.total_out != want)
			return -1;
	}
#endif
	return (long)want;
}

static int state_row(void *ctx, const char *entity, int version, const void *blob, size_t n)
{
	struct state_load_ctx *c = ctx;
	if (version & STATE_DEFLATED) {
		long m = state_inflate(c, blob, n);
		if (m < 0) {
			c->bad++;
			return 0;
		}
		version &= ~STATE_DEFLATED;
		blob = c->raw;
		n = (size_t)m;
	}
	/* a version this build does not know is discarded: the detector
	 * relearns (documented per detector); one it still reads (from
	 * state_version_min) goes to load, which tells them apart */
	if (version > c->d->state_version ||
	    version < (c->d->state_version_min ? c->d->state_version_min : c->d->state_version))
		c->discarded++;
	else if (!strncmp(entity, PACK_PREFIX, strlen(PACK_PREFIX)))
		state_pack(c, version, blob, n);
	else if (c->d->load(c->state, entity, version, blob, n))
		c->discarded++;
	return 0;
}

int mm_pipeline_open(struct mm_pipeline **out, const struct mm_pipeline_opts *o,
		     struct mm_err *err)
{
	struct mm_pipeline *s;
	int i, rc;

	*out = NULL;
	s = mm_calloc(1, sizeof(*s));
	if (!s)
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	s->o = *o;
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->res.started_ms = mm_now_ms();
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->agg_mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	mm_buf_init(&s->js, 16u << 20);
	mm_buf_init(&s->blob, 64u << 20);
	/* the detectors the config leaves enabled, each with its params */
	for (i = 0; (o->detectors ? o->detectors : mm_detectors)[i]; i++) {
		const struct mm_detector_def *d = (o->detectors ? o->detectors : mm_detectors)[i];
		if (!mm_config_enabled(o->config, d->name))
			continue;
		if (s->ndet >= (int)MM_ARRAY_LEN(s->gstate)) {
			rc = mm_err_set(err, MM_EINVAL, "too many detectors");
			goto fail;
		}
		if (mm_detector_nparams(d) > MM_PARAMS_MAX) {
			rc = mm_err_set(err, MM_EINVAL, "%s: too many params", d->name);
			goto fail;
		}
		s->dets[s->ndet] = d;
		mm_config_params(o->config, d, s->params[s->ndet]);
		s->ndet++;
	}
	for (i = 0; i < s->ndet; i++) {
		if (s->dets[i]->state_new && !(s->gstate[i] = s->dets[i]->state_new())) {
			rc = mm_err_set(err, MM_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if ((rc = mm_store_open(&s->st, o->db_path ? o->db_path : mm_store_default_path(), err)))
		goto fail;
	/* a flush is one big transaction: 8 MiB of SQLite pages, not ~2,
	 * so it seldom spills to the WAL or re-reads btree pages midway.
	 * Bench files: flows (22.7k findings) pread 97k -> 14k, pwrite 112k
	 * -> 29k calls at 32 MiB. 8 MiB writes as fast (flows, alternated 3
	 * times: findings written 1.35-1.59 s vs 1.57-1.63 s at 32 MiB;
	 * DNS pread 2.5k -> 3.7k, pwrite 7.5k -> 8.7k) and the cache is
	 * memory the flush holds beside the whole findings table: DNS peak
	 * RSS 121 -> 95 MB, CloudTrail + Sigma 206-214 -> 182-189 MB. At
	 * 4 MiB the flow bench's preads tripled (14k -> 46.5k) */
	if ((rc = mm_store_cache_kib(s->st, 8 * 1024, err)) ||
	    (rc = mm_store_autocheckpoint_off(s->st, err)))
		goto fail;
	/* one run at a time per database: a second one would read the same
	 * remembered progress and count the same files again */
	if ((rc = mm_store_lock(s->st, o->lock_wait_ms, err)))
		goto fail;
	if ((rc = load_intel(s, err)))
		goto fail;
	if ((rc = load_geo(s, err)))
		goto fail;
	mm_debug("threat lists loaded: %llu entries (%.3f s)",
		 (unsigned long long)s->res.intel_entries, since(&s->t0));
	if ((rc = mm_inventory_new(&s->inv))) {
		rc = mm_err_set(err, rc, "out of memory");
		goto fail;
	}
	{
		struct inv_load_ctx c = {s->inv};
		if ((rc = mm_store_inventory_each(s->st, inv_row, &c, err)))
			goto fail;
	}
	if (o->inventory_path && (rc = mm_inventory_load_file(s->inv, o->inventory_path, err)))
		goto fail;
	if ((rc = mm_places_new(&s->places))) {
		rc = mm_err_set(err, rc, "out of memory");
		goto fail;
	}
	if ((rc = mm_store_state_each(s->st, PLACE_STATE, place_row, s, err)))
		goto fail;
	mm_places_clean(s->places);
	s->inv_unsaved = o->inventory_path != NULL;
	for (i = 0; i < s->ndet; i++) {
		struct state_load_ctx c = {s->dets[i], s->gstate[i], 0, 0, NULL};
		if (!s->dets[i]->load || s->dets[i]->state_version <= 0)
			continue;
		rc = mm_store_state_each(s->st, s->dets[i]->name, state_row, &c, err);
		mm_free(c.raw);
		if (rc)
			goto fail;
		if (c.discarded)
			mm_warn("%s: %llu stored state rows of another version discarded",
				s->dets[i]->name, (unsigned long long)c.discarded);
		if (c.bad)
			mm_warn("%s: %llu stored state rows malformed, discarded (the detector "
				"relearns what they held)",
				s->dets[i]->name, (unsigned long long)c.bad);
	}
	s->agg_max = o->max_findings ? o->max_findings : DEFAULT_MAX_FINDINGS;
	if ((rc = mm_agg_new(&s->final, s->agg_max))) {
		rc = mm_err_set(err, rc, "out of memory");
		goto fail;
	}
	s->nthreads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (s->nthreads < 1)
		s->nthreads = 1;
	if (s->nthreads > MAX_THREADS)
		s->nthreads = MAX_THREADS;
	s->ws = mm_calloc((size_t)s->nthreads, sizeof(*s->ws));
	if (!s->ws) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < s->nthreads; i++) {
		if ((rc = worker_init(&s->ws[i], s))) {
			rc = mm_err_set(err, rc, "out of memory starting workers");
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	mm_pipeline_close(s);
	return rc;
}

/* A file of no remembered name may be a remembered file renamed or moved
 * (same first bytes, same size or grown since, as a log rotated by rename
 * while its writer still appends): take its progress, so what was read is
 * not counted twice and what was added is read. Whole-content identity is the promise; a file that differs only
 * after its first 4 KiB at the same size is rare enough for logs, which
 * only grow, and is documented. */
static void known_by_content(struct mm_pipeline *s, struct file_job *j)
{
	struct mm_file_state fs;
	char other[PATH_MAX];

	if (!j->content_hash || mm_store_file_by_content(s->st, j->content_hash, j->content_size,
							 other, sizeof(other), &fs) != 1)
		return;
	j->prev = fs;
	j->has_prev = 1;
	s->res.files_moved++;
	mm_debug("%s: same content as %s, scanned before", j->path, other);
}

/* Two files of this batch with the same content (a copy of a log next to
 * it, one delivery synced twice): the second is the first's records
 * again, so it is dropped from the batch, counted as known by content.
 * Across batches and runs known_by_content catches it. */
struct content_key {
	uint64_t hash, size;
	size_t job;
};

static int content_cmp(const void *a, const void *b)
{
	const struct content_key *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->job < y->job ? -1 : x->job > y->job; /* the first in path order stays */
}

static int drop_same_content(struct mm_pipeline *s)
{
	struct content_key *k = mm_calloc(s->njobs ? s->njobs : 1, sizeof(*k));
	size_t i, n = 0, out = 0;
	char *drop;

	if (!k)
		return MM_ENOMEM;
	drop = mm_calloc(s->njobs ? s->njobs : 1, 1);
	if (!drop) {
		mm_free(k);
		return MM_ENOMEM;
	}
	for (i = 0; i < s->njobs; i++) {
		if (s->jobs[i].has_prev || !s->jobs[i].content_hash || !s->jobs[i].content_size)
			continue;
		k[n].hash = s->jobs[i].content_hash;
		k[n].size = s->jobs[i].content_size;
		k[n].job = i;
		n++;
	}
	qsort(k, n, sizeof(*k), content_cmp);
	for (i = 1; i < n; i++)
		if (k[i].hash == k[i - 1].hash && k[i].size == k[i - 1].size) {
			drop[k[i].job] = 1;
			s->res.files_moved++;
			s->res.files_done_before++;
			mm_debug("%s: same content as %s in this batch", s->jobs[k[i].job].path,
				 s->jobs[k[i - 1].job].path);
		}
	for (i = 0; i < s->njobs; i++)
		if (!drop[i])
			s->jobs[out++] = s->jobs[i];
	s->njobs = out;
	mm_free(drop);
	mm_free(k);
	return 0;
}

/* Keep a copy of each finished job for the flush. */
static int keep_done(struct mm_pipeline *s, const struct file_job *j)
{
	char *copy;
	if (s->ndone == s->capdone) {
		size_t nc = s->capdone ? s->capdone * 2 : 256;
		struct file_job *nd = mm_realloc(s->done, nc * sizeof(*nd));
		if (!nd)
			return MM_ENOMEM;
		s->done = nd;
		s->capdone = nc;
	}
	if (s->nowned == s->capowned) {
		size_t nc = s->capowned ? s->capowned * 2 : 256;
		char **no = mm_realloc(s->owned, nc * sizeof(*no));
		if (!no)
			return MM_ENOMEM;
		s->owned = no;
		s->capowned = nc;
	}
	if (!(copy = mm_strdup(j->path)))
		return MM_ENOMEM;
	s->owned[s->nowned++] = copy;
	s->done[s->ndone] = *j;
	s->done[s->ndone++].path = copy;
	return 0;
}

int mm_pipeline_feed_files(struct mm_pipeline *s, const char *const *paths,
			   const char *const *rels, size_t n, struct mm_err *err)
{
	size_t k;
	int i, rc = 0, started = 0, nthreads;

	s->jobs = mm_calloc(n ? n : 1, sizeof(*s->jobs));
	if (!s->jobs)
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	s->njobs = n;
	for (k = 0; k < n; k++) {
		const char *rel = rels && rels[k] ? rels[k] : paths[k];
		s->jobs[k].path = paths[k];
		s->jobs[k].rel = mm_intern(rel, strlen(rel));
		s->jobs[k].part = -1;
		if (strcmp(paths[k], "-") != 0) {
			struct file_job *j = &s->jobs[k];
			int g = mm_store_file_get(s->st, paths[k], &j->prev);
			j->has_prev = g == 1;
			if (g == 0) {
				/* one read of its first bytes serves both content checks */
				int64_t mtime;
				j->content_hash = head_hash(j->path, UINT64_MAX, &j->content_size,
							    &mtime);
				if (!s->o.rescan)
					known_by_content(s, j);
			}
		}
	}
	if ((rc = drop_same_content(s))) {
		rc = mm_err_set(err, rc, "out of memory");
		goto out;
	}
	nthreads = s->nthreads;
	if (nthreads > 1 && (rc = split_big_files(s, nthreads, err)))
		goto out;
	atomic_store(&s->next, 0);
	if ((size_t)nthreads > s->njobs)
		nthreads = s->njobs ? (int)s->njobs : 1;
	/* workers always run on their own threads, so this thread is free to
	 * draw progress */
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&s->ws[i].th, NULL, worker_main, &s->ws[i]) != 0) {
			rc = mm_err_set(err, MM_ENOMEM, "cannot start thread");
			break;
		}
		started++;
		s->running++;
	}
	while (s->running > 0) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->cv, &s->mu, &until);
		if (s->o.progress) {
			pthread_mutex_unlock(&s->mu);
			progress_line(s, since(&s->t0), 0);
			pthread_mutex_lock(&s->mu);
		}
	}
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < started; i++)
		pthread_join(s->ws[i].th, NULL);
	s->res.seconds = since(&s->t0);
	if (s->o.progress)
		progress_line(s, s->res.seconds, 0); /* the newline comes at close */
	s->res.bytes_in += atomic_exchange(&s->bytes, 0);
	s->prog_records += atomic_exchange(&s->records, 0);
	s->prog_files += atomic_exchange(&s->files_done, 0);
	if (rc)
		goto out;
	for (k = 0; k < s->njobs; k++) {
		struct file_job *j = &s->jobs[k];
		if (j->record && strcmp(j->path, "-") != 0 && (rc = keep_done(s, j))) {
			rc = mm_err_set(err, rc, "out of memory");
			goto out;
		}
	}
out:
	mm_free(s->jobs);
	s->jobs = NULL;
	s->njobs = 0;
	return rc;
}

int mm_pipeline_feed_event(struct mm_pipeline *s, const struct mm_event *ev)
{
	struct worker *w = &s->ws[0];
	struct mm_file_ctx fc;
	mm_file_ctx_from_path(&fc, ev->loc.file ? ev->loc.file : "");
	w->det.file = &fc;
	detect(w, ev);
	w->det.file = NULL;
	return 0;
}

void mm_pipeline_expect_files(struct mm_pipeline *s, size_t n)
{
	s->expect_files = n;
}

const struct mm_scan_result *mm_pipeline_result(const struct mm_pipeline *s)
{
	return &s->res;
}

void mm_pipeline_progress_end(struct mm_pipeline *s)
{
	if (s->progress_drawn)
		progress_line(s, since(&s->t0), 1);
}

void mm_pipeline_close(struct mm_pipeline *s)
{
	int i;
	size_t k;

	if (!s)
		return;
	if (s->progress_drawn)
		progress_line(s, since(&s->t0), 1);
	if (s->ws) {
		for (i = 0; i < s->nthreads; i++)
			worker_free(&s->ws[i]);
		mm_free(s->ws);
	}
	for (i = 0; i < s->ndet; i++)
		if (s->gstate[i] && s->dets[i]->state_free)
			s->dets[i]->state_free(s->gstate[i]);
	if (s->st) {
		if (s->in_txn)
			mm_store_rollback(s->st); /* an unflushed batch is not half-kept */
		ckpt_join(s);
		mm_store_close(s->st);
	}
	mm_agg_free(s->final);
	mm_inventory_free(s->inv);
	mm_places_free(s->places);
	mm_intel_free(s->intel);
	mm_geo_close(s->geo);
	for (k = 0; k < s->nowned; k++)
		mm_free(s->owned[k]);
	mm_free(s->owned);
	mm_free(s->spilled);
	mm_free(s->done);
	mm_free(s->jobs);
	mm_buf_free(&s->js);
	mm_buf_free(&s->blob);

	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->agg_mu);
	pthread_cond_destroy(&s->cv);
	mm_free(s);
}
