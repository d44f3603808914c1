/* serve.c - the daemon: follow sources, detect, flush; serve the API. */
#include "serve/serve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/common.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "input/walk.h"
#include "scan/scan.h"
#include "serve/api.h"
#include "serve/auth.h"
#include "serve/console.h"
#include "serve/criteria.h"
#include "serve/http.h"
#include "serve/ingest.h"
#include "serve/notify.h"
#include "serve/sdb.h"
#include "serve/spool.h"
#include "store/store.h"

#define MAX_RULES 256	/* ARCHIVE filters compiled for suppression */
#define MAX_WATCHES 4096	/* folders watched with inotify; past that, polling only */
#define SETTLE_MS 20	/* after a change, wait this long for the writer's next bytes */

static volatile sig_atomic_t stop_flag, hup_flag;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_flag = 1;
	else
		stop_flag = 1;
}

/* What the follower saw of a file at the last poll that fed it. */
struct seen {
	char *path;
	long long size;
	long long mtime_ns;
};

struct daemon {
	const struct mm_serve_opts *o;
	struct mm_pipeline *p;
	struct mm_pipeline_opts base;	/* from the command line / config, before sets */
	struct mm_pipeline_opts po;	/* what the pipeline runs with */
	/* the API's threat intel sets and IP sets, as loaded: owned strings
	 * the options borrow */
	char *set_str[2 * MM_SCAN_MAX_LISTS];
	int nset_str;
	uint64_t set_gen;
	atomic_ullong reloads, reload_errors;
	struct mm_sdb *sdb;
	struct mm_gdapi *api;
	struct mm_notify *notify;	/* NULL without sinks; swapped on SIGHUP under notify_mu */
	struct mm_notify_conf *nconf;	/* what notify runs with (owned) */
	pthread_mutex_t notify_mu;	/* notify, for the HTTP threads (the ingest thread swaps it) */
	int64_t started_ms;
	struct mm_console *console;
	struct mm_auth *auth;
	struct mm_http *http;
	struct mm_spool *spool;
	struct mm_ingest *ingest;	/* agents' uploads into SPOOL/agent (serve/ingest.h) */
	struct mm_store *st;	/* the daemon's reader: which spool files are read */
	const char *follow[MM_SERVE_MAX_FOLLOW + 1];
	int nfollow;
	char spool_dir[4096];
	/* suppression rules, owned by the ingest thread (the pipeline calls
	 * suppress() from its flush, in that thread) */
	struct mm_criteria *rules[MAX_RULES];
	int nrules;
	uint64_t rules_gen;
	int rules_loaded;
	/* follower state: sorted by path */
	struct seen *seen;
	size_t nseen;
	/* inotify on the followed folders wakes the loop as soon as something
	 * is written; the poll interval stays the safety net (network file
	 * systems, watch limits) */
	int ifd;
	char **watched;		/* folders with a watch, sorted */
	size_t nwatched;
	/* counters for /metrics (written by the ingest thread) */
	atomic_ullong polls, flushes, flush_errors, suppressed, files_fed;
	atomic_llong last_flush_ms, last_poll_ms;
	_Atomic double last_flush_s;
	/* a copy of the pipeline's counters after each flush, plus those of
	 * the pipelines before the last reload (acc) */
	struct mm_scan_result res, acc;
	pthread_mutex_t res_mu;
};

/* ---- suppression rules ------------------------------------------------ */

static int add_rule(void *ctx, const struct mm_filter_row *r)
{
	struct daemon *d = ctx;
	struct mm_err err;
	mm_err_clear(&err);
	if (strcmp(r->action, "ARCHIVE") || d->nrules >= MAX_RULES)
		return 0;
	if (mm_criteria_compile(r->criteria, strlen(r->criteria), &d->rules[d->nrules], &err)) {
		mm_warn("filter %s: %s (not applied)", r->name, err.msg);
		return 0;
	}
	d->nrules++;
	return 0;
}

/* Recompile the ARCHIVE filters when the API changed them. */
static void refresh_rules(struct daemon *d)
{
	struct mm_err err;
	uint64_t g = mm_sdb_filter_gen(d->sdb);
	int i;
	if (d->rules_loaded && g == d->rules_gen)
		return;
	for (i = 0; i < d->nrules; i++)
		mm_criteria_free(d->rules[i]);
	d->nrules = 0;
	mm_err_clear(&err);
	if (mm_sdb_filter_each(d->sdb, add_rule, d, &err))
		mm_warn("reading suppression rules: %s", err.msg);
	d->rules_gen = g;
	d->rules_loaded = 1;
}

static int suppress(void *ctx, const char *json)
{
	struct daemon *d = ctx;
	size_t n = strlen(json);
	int i;
	for (i = 0; i < d->nrules; i++)
		if (mm_criteria_match(d->rules[i], json, n) == 1) {
			atomic_fetch_add(&d->suppressed, 1);
			return 1;
		}
	return 0;
}

/* ---- lists from the API's sets, reloads ------------------------------ */

struct setload {
	struct daemon *d;
	struct mm_pipeline_opts *po;
	int full;
};

static char *keep(struct daemon *d, const char *s)
{
	char *c;
	if (d->nset_str >= (int)MM_ARRAY_LEN(d->set_str) || !(c = mm_strdup(s)))
		return NULL;
	d->set_str[d->nset_str++] = c;
	return c;
}

static int add_set(void *ctx, const struct mm_set_row *r)
{
	struct setload *L = ctx;
	struct mm_pipeline_opts *po = L->po;
	const char *file, *name;
	if (strcmp(r->status, "ACTIVE") || !r->file)
		return 0;
	if (!strcmp(r->kind, "ipset")) {
		if (po->ntrusted >= MM_SCAN_MAX_LISTS || !(file = keep(L->d, r->file))) {
			L->full = 1;
			return 0;
		}
		po->trusted[po->ntrusted++] = file;
		return 0;
	}
	if (po->nlists >= MM_SCAN_MAX_LISTS || !(file = keep(L->d, r->file)) ||
	    !(name = keep(L->d, r->name))) {
		L->full = 1;
		return 0;
	}
	/* GuardDuty reports a custom threat list's hits as .Custom findings
	 * naming the list */
	po->lists[po->nlists].cat = MM_CAT_CUSTOM;
	po->lists[po->nlists].path = file;
	po->lists[po->nlists].name = name;
	po->nlists++;
	return 0;
}

/* d->po = base + the active sets (strings kept in d->set_str). */
static void compose(struct daemon *d)
{
	struct setload L = {d, &d->po, 0};
	struct mm_err err;
	int i;
	for (i = 0; i < d->nset_str; i++)
		mm_free(d->set_str[i]);
	d->nset_str = 0;
	d->po = d->base;
	d->po.suppress = suppress;
	d->po.suppress_ctx = d;
	d->po.progress = 0;
	d->set_gen = mm_sdb_set_gen(d->sdb);
	mm_err_clear(&err);
	if (mm_sdb_set_each(d->sdb, NULL, add_set, &L, &err))
		mm_warn("serve: reading threat intel sets: %s", err.msg);
	if (L.full)
		mm_warn("serve: more than %d lists: the sets past that are not loaded",
			MM_SCAN_MAX_LISTS);
}

/* Close and open the pipeline with d->base + sets. 0, or negative with
 * the pipeline closed (the caller decides). */
static void add_counts(struct mm_scan_result *to, const struct mm_scan_result *r)
{
	to->records_flow += r->records_flow;
	to->records_dns += r->records_dns;
	to->records_api += r->records_api;
	to->records_host += r->records_host;
	to->bad_records += r->bad_records;
	to->bytes_in += r->bytes_in;
	to->findings_new += r->findings_new;
	to->findings_updated += r->findings_updated;
	to->findings_dropped += r->findings_dropped;
}

/* The counters so far: the closed pipelines' and the open one's. */
static void snapshot(struct daemon *d)
{
	struct mm_scan_result r = d->acc;
	if (d->p)
		add_counts(&r, mm_pipeline_result(d->p));
	pthread_mutex_lock(&d->res_mu);
	d->res = r;
	pthread_mutex_unlock(&d->res_mu);
}

static int reopen(struct daemon *d, struct mm_err *err)
{
	if (d->p)
		add_counts(&d->acc, mm_pipeline_result(d->p));
	mm_pipeline_close(d->p);
	d->p = NULL;
	compose(d);
	return mm_pipeline_open(&d->p, &d->po, err);
}

/* The sinks of the reloaded configuration: when they differ, stop the
 * running notifier (a delivery in flight finishes) and start one with
 * them; if that fails, start the previous one again. The outbox is in
 * the database, so nothing queued is lost either way. */
static void reload_sinks(struct daemon *d)
{
	const struct mm_serve_reload *r = &d->o->reload;
	struct mm_notify_conf *next = mm_calloc(1, sizeof(*next));
	struct mm_notify *old, *nn = NULL;
	struct mm_err err;
	mm_err_clear(&err);
	if (!next) {
		mm_warn("serve: reload: out of memory; notification sinks unchanged");
		return;
	}
	if (r->sinks(r->ctx, next, &err)) {
		mm_warn("serve: reload: %s; notification sinks unchanged", err.msg);
		atomic_fetch_add(&d->reload_errors, 1);
		mm_free(next);
		return;
	}
	if (!memcmp(next, d->nconf, sizeof(*next))) {
		mm_free(next);
		return;
	}
	pthread_mutex_lock(&d->notify_mu);
	old = d->notify;
	d->notify = NULL;
	pthread_mutex_unlock(&d->notify_mu);
	mm_notify_close(old);
	if (mm_notify_open(&nn, d->o->p.db_path, next, &err)) {
		mm_warn("serve: reload: notification sinks: %s; keeping the previous sinks", err.msg);
		atomic_fetch_add(&d->reload_errors, 1);
		mm_err_clear(&err);
		mm_free(next);
		if (mm_notify_open(&nn, d->o->p.db_path, d->nconf, &err))
			mm_warn("serve: notification sinks: %s; notifications are off until the next "
				"reload", err.msg);
	} else {
		mm_info("serve: reloaded notification sinks (%d)", next->nsinks);
		mm_free(d->nconf);
		d->nconf = next;
	}
	pthread_mutex_lock(&d->notify_mu);
	d->notify = nn;
	pthread_mutex_unlock(&d->notify_mu);
}

/* SIGHUP or a set change: reload, keeping the running setup if the new
 * one fails. Negative only when not even the old setup opens again. */
static int reload(struct daemon *d, int hup, struct mm_err *err)
{
	struct mm_pipeline_opts old = d->base, next;
	const struct mm_serve_reload *r = &d->o->reload;
	int prepared = 0, rc;

	if (hup && r->prepare) {
		if ((rc = r->prepare(r->ctx, &next, err))) {
			mm_warn("serve: reload: %s; still running with the previous configuration",
				err->msg);
			mm_err_clear(err);
			atomic_fetch_add(&d->reload_errors, 1);
		} else {
			prepared = 1;
			d->base = next;
		}
	}
	if ((rc = reopen(d, err)) == 0) {
		if (prepared && r->sinks)
			reload_sinks(d);
		if (prepared)
			r->done(r->ctx, 1);
		atomic_fetch_add(&d->reloads, 1);
		mm_info("serve: reloaded (%d threat lists, %d trusted lists)", d->po.nlists,
			d->po.ntrusted);
		return 0;
	}
	mm_warn("serve: reload: %s; going back to the previous configuration", err->msg);
	mm_err_clear(err);
	atomic_fetch_add(&d->reload_errors, 1);
	if (prepared)
		r->done(r->ctx, 0);
	d->base = old;
	return reopen(d, err);
}

/* ---- waking on changes ---------------------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Watch dir (once). Failures (limits, permissions) leave it to polling. */
static void watch_dir(struct daemon *d, const char *dir)
{
	char *key = (char *)dir, *c, **nw;
	if (d->ifd < 0 || d->nwatched >= MAX_WATCHES ||
	    (d->nwatched && bsearch(&key, d->watched, d->nwatched, sizeof(*d->watched), str_cmp)))
		return;
	if (inotify_add_watch(d->ifd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO) < 0)
		return;
	if (!(c = mm_strdup(dir)) ||
	    !(nw = mm_realloc(d->watched, (d->nwatched + 1) * sizeof(*nw)))) {
		mm_free(c);
		return;
	}
	d->watched = nw;
	d->watched[d->nwatched++] = c;
	qsort(d->watched, d->nwatched, sizeof(*d->watched), str_cmp);
}

/* Watch the folders the walk found files in (and the roots). */
static void watch_walk(struct daemon *d, const struct mm_filelist *fl)
{
	char dir[4096];
	size_t i;
	for (i = 0; i < fl->nroots; i++) {
		struct stat st;
		if (stat(fl->roots[i], &st) == 0 && S_ISDIR(st.st_mode))
			watch_dir(d, fl->roots[i]);
	}
	for (i = 0; i < fl->n; i++) {
		const char *slash = strrchr(fl->paths[i], '/');
		size_t n = slash ? (size_t)(slash - fl->paths[i]) : 0;
		if (!n || n >= sizeof(dir))
			continue;
		memcpy(dir, fl->paths[i], n);
		dir[n] = '\0';
		watch_dir(d, dir);
	}
}

/* ---- following ---------------------------------------------------------- */

static int seen_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->path, ((const struct seen *)b)->path);
}

static struct seen *seen_find(struct daemon *d, const char *path)
{
	struct seen key = {(char *)path, 0, 0};
	if (!d->nseen) /* bsearch wants a base even for no elements */
		return NULL;
	return bsearch(&key, d->seen, d->nseen, sizeof(*d->seen), seen_cmp);
}

/* Remember (size, mtime) of the files just committed; the list is small
 * next to what it saves (re-reading heads of every file every poll). */
static int seen_update(struct daemon *d, char **paths, const struct stat *sts, size_t n)
{
	size_t i, n0 = d->nseen, add = 0;
	struct seen *ns;
	for (i = 0; i < n; i++)
		if (!seen_find(d, paths[i]))
			add++;
	if (add) {
		if (!(ns = mm_realloc(d->seen, (d->nseen + add) * sizeof(*ns))))
			return MM_ENOMEM;
		d->seen = ns;
	}
	for (i = 0; i < n; i++) {
		struct seen key = {paths[i], 0, 0};
		struct seen *s = bsearch(&key, d->seen, n0, sizeof(*d->seen), seen_cmp);
		if (!s) { /* paths are unique (the walk dedupes): append, sort below */
			s = &d->seen[d->nseen];
			if (!(s->path = mm_strdup(paths[i])))
				return MM_ENOMEM;
			d->nseen++;
		}
		s->size = (long long)sts[i].st_size;
		s->mtime_ns = (long long)sts[i].st_mtim.tv_sec * 1000000000LL + sts[i].st_mtim.tv_nsec;
	}
	if (d->nseen > n0)
		qsort(d->seen, d->nseen, sizeof(*d->seen), seen_cmp);
	return 0;
}

/* A rotated spool file whose every byte the pipeline committed. */
static int spool_done(void *ctx, const char *path, uint64_t size)
{
	struct daemon *d = ctx;
	struct mm_file_state fs;
	return d->st && mm_store_file_get(d->st, path, &fs) == 1 && fs.complete &&
	       fs.offset >= size;
}

/* One poll: walk, feed what is new or changed, flush. 1 fed something,
 * 0 nothing to do, negative on a failure of the pipeline. */
static int poll_once(struct daemon *d, struct mm_err *err)
{
	struct mm_filelist fl;
	char **paths = NULL, **rels = NULL;
	struct stat *sts = NULL;
	size_t i, n = 0;
	int rc = 0;
	int64_t t0;

	mm_filelist_init(&fl);
	atomic_fetch_add(&d->polls, 1);
	atomic_store(&d->last_poll_ms, mm_now_ms());
	if ((rc = mm_walk_paths(&fl, d->follow, (size_t)d->nfollow, err))) {
		/* a followed folder that is gone for now is not fatal */
		mm_filelist_free(&fl);
		mm_warn("%s (will retry)", err->msg);
		mm_err_clear(err);
		return 0;
	}
	mm_filelist_sort(&fl);
	watch_walk(d, &fl);
	paths = mm_calloc(fl.n + 1, sizeof(*paths));
	rels = mm_calloc(fl.n + 1, sizeof(*rels));
	sts = mm_calloc(fl.n + 1, sizeof(*sts));
	if (!paths || !rels || !sts) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < fl.n; i++) {
		struct seen *s;
		struct stat st;
		if (stat(fl.paths[i], &st) || !S_ISREG(st.st_mode))
			continue;
		s = seen_find(d, fl.paths[i]);
		if (s && s->size == (long long)st.st_size &&
		    s->mtime_ns == (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec)
			continue;
		paths[n] = fl.paths[i];
		sts[n] = st;
		if (!(rels[n] = mm_scan_rel_name(&fl, fl.paths[i]))) {
			rc = mm_err_set(err, MM_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (!n)
		goto out;
	refresh_rules(d);
	t0 = mm_now_ms();
	if ((rc = mm_pipeline_feed_files(d->p, (const char *const *)paths,
					 (const char *const *)rels, n, err)) ||
	    (rc = mm_pipeline_flush(d->p, err))) {
		atomic_fetch_add(&d->flush_errors, 1);
		goto out;
	}
	atomic_fetch_add(&d->flushes, 1);
	atomic_fetch_add(&d->files_fed, n);
	atomic_store(&d->last_flush_ms, mm_now_ms());
	atomic_store(&d->last_flush_s, (double)(mm_now_ms() - t0) / 1000.0);
	snapshot(d);
	if (mm_notify_flushed(d->notify, t0, err)) {
		mm_warn("serve: %s", err->msg);
		mm_err_clear(err);
	}
	/* a daemon shows the first bad records of every poll, not of its life */
	if (mm_log_suppressed())
		mm_warn("serve: %llu more malformed records in this poll not shown",
			(unsigned long long)mm_log_suppressed());
	mm_log_reset();
	if (d->spool)
		mm_spool_prune(d->spool, spool_done, d);
	mm_ingest_prune(d->ingest, spool_done, d);
	if ((rc = seen_update(d, paths, sts, n)))
		mm_err_set(err, rc, "out of memory");
	else
		rc = 1;
out:
	for (i = 0; rels && i < n; i++)
		mm_free(rels[i]);
	mm_free(rels);
	mm_free(paths);
	mm_free(sts);
	mm_filelist_free(&fl);
	return rc;
}

/* ---- HTTP: metrics, health, API --------------------------------------- */

static void notify_metrics(struct daemon *d, struct mm_buf *b)
{
	static const struct { const char *name, *type, *help; } m[] = {
		{"mamori_notify_sent_total", "counter", "Notifications delivered, by sink."},
		{"mamori_notify_failures_total", "counter", "Failed delivery attempts, by sink."},
		{"mamori_notify_dead_letters", "gauge", "Notifications given up on, kept as dead letters."},
		{"mamori_notify_dropped_total", "counter", "Notifications dropped: the sink's queue was full."},
		{"mamori_notify_queue_depth", "gauge", "Notifications waiting to be delivered."},
	};
	struct mm_notify_count c[MM_NOTIFY_MAX_SINKS];
	int n, i, j;
	pthread_mutex_lock(&d->notify_mu);
	n = mm_notify_counts(d->notify, c, MM_NOTIFY_MAX_SINKS);
	pthread_mutex_unlock(&d->notify_mu);
	for (j = 0; n && j < (int)MM_ARRAY_LEN(m); j++) {
		mm_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m[j].name, m[j].help, m[j].name,
			      m[j].type);
		for (i = 0; i < n; i++) {
			unsigned long long v = j == 0 ? c[i].sent : j == 1 ? c[i].failed
					     : j == 2 ? c[i].dead : j == 3 ? c[i].dropped : c[i].queued;
			mm_buf_printf(b, "%s{sink=\"%s\"} %llu\n", m[j].name, c[i].sink, v);
		}
	}
}

static void metrics(struct daemon *d, struct mm_http_resp *rs)
{
	struct mm_scan_result r;
	struct mm_spool_counts sc;
	unsigned long long ok = 0, cerr = 0, den = 0, serr = 0;
	struct mm_buf *b = &rs->body;
	int64_t now = mm_now_ms(), lf = atomic_load(&d->last_flush_ms);

	pthread_mutex_lock(&d->res_mu);
	r = d->res;
	pthread_mutex_unlock(&d->res_mu);
	mm_api_counts(d->api, &ok, &cerr, &den, &serr);
	mm_spool_counts(d->spool, &sc);
	rs->ctype = "text/plain; version=0.0.4";
	mm_buf_printf(b,
		      "# HELP mamori_records_total Log records read, by source.\n"
		      "# TYPE mamori_records_total counter\n"
		      "mamori_records_total{source=\"flow\"} %llu\n"
		      "mamori_records_total{source=\"dns\"} %llu\n"
		      "mamori_records_total{source=\"cloudtrail\"} %llu\n"
		      "# HELP mamori_parse_errors_total Malformed records skipped.\n"
		      "# TYPE mamori_parse_errors_total counter\n"
		      "mamori_parse_errors_total %llu\n"
		      "# HELP mamori_bytes_read_total Bytes read from log files.\n"
		      "# TYPE mamori_bytes_read_total counter\n"
		      "mamori_bytes_read_total %llu\n"
		      "# HELP mamori_files_read_total Files (or their new parts) read.\n"
		      "# TYPE mamori_files_read_total counter\n"
		      "mamori_files_read_total %llu\n"
		      "# HELP mamori_findings_total Findings written, new or updated.\n"
		      "# TYPE mamori_findings_total counter\n"
		      "mamori_findings_total{kind=\"new\"} %llu\n"
		      "mamori_findings_total{kind=\"updated\"} %llu\n"
		      "mamori_findings_total{kind=\"suppressed\"} %llu\n"
		      "# HELP mamori_findings_dropped_total Findings lost to a full table (0 by design).\n"
		      "# TYPE mamori_findings_dropped_total counter\n"
		      "mamori_findings_dropped_total %llu\n"
		      "# HELP mamori_flushes_total Commits of findings, state and progress.\n"
		      "# TYPE mamori_flushes_total counter\n"
		      "mamori_flushes_total{result=\"ok\"} %llu\n"
		      "mamori_flushes_total{result=\"error\"} %llu\n"
		      "# HELP mamori_last_flush_seconds How long the last read+flush took.\n"
		      "# TYPE mamori_last_flush_seconds gauge\n"
		      "mamori_last_flush_seconds %.3f\n"
		      "# HELP mamori_since_last_flush_seconds Time since the last commit (-1: none yet).\n"
		      "# TYPE mamori_since_last_flush_seconds gauge\n"
		      "mamori_since_last_flush_seconds %.3f\n"
		      "# HELP mamori_polls_total Polls of the followed sources.\n"
		      "# TYPE mamori_polls_total counter\n"
		      "mamori_polls_total %llu\n"
		      "# HELP mamori_reloads_total Reloads of config, rules and lists (SIGHUP, set changes).\n"
		      "# TYPE mamori_reloads_total counter\n"
		      "mamori_reloads_total{result=\"ok\"} %llu\n"
		      "mamori_reloads_total{result=\"error\"} %llu\n"
		      "# HELP mamori_stream_messages_total Syslog/stdin messages spooled.\n"
		      "# TYPE mamori_stream_messages_total counter\n"
		      "mamori_stream_messages_total %llu\n"
		      "# HELP mamori_stream_dropped_total Syslog UDP messages dropped: spool full.\n"
		      "# TYPE mamori_stream_dropped_total counter\n"
		      "mamori_stream_dropped_total %llu\n"
		      "# HELP mamori_stream_cut_total Messages cut to the size bound.\n"
		      "# TYPE mamori_stream_cut_total counter\n"
		      "mamori_stream_cut_total %llu\n"
		      "# HELP mamori_spool_bytes Bytes waiting in the spool folder (queue depth).\n"
		      "# TYPE mamori_spool_bytes gauge\n"
		      "mamori_spool_bytes %llu\n"
		      "# HELP mamori_api_requests_total API requests, by outcome.\n"
		      "# TYPE mamori_api_requests_total counter\n"
		      "mamori_api_requests_total{outcome=\"ok\"} %llu\n"
		      "mamori_api_requests_total{outcome=\"client_error\"} %llu\n"
		      "mamori_api_requests_total{outcome=\"denied\"} %llu\n"
		      "mamori_api_requests_total{outcome=\"server_error\"} %llu\n",
		      (unsigned long long)r.records_flow, (unsigned long long)r.records_dns,
		      (unsigned long long)r.records_api, (unsigned long long)r.bad_records,
		      (unsigned long long)r.bytes_in, (unsigned long long)atomic_load(&d->files_fed),
		      (unsigned long long)r.findings_new, (unsigned long long)r.findings_updated,
		      (unsigned long long)atomic_load(&d->suppressed),
		      (unsigned long long)r.findings_dropped,
		      (unsigned long long)atomic_load(&d->flushes),
		      (unsigned long long)atomic_load(&d->flush_errors), atomic_load(&d->last_flush_s),
		      lf ? (double)(now - lf) / 1000.0 : -1.0,
		      (unsigned long long)atomic_load(&d->polls),
		      (unsigned long long)atomic_load(&d->reloads),
		      (unsigned long long)atomic_load(&d->reload_errors),
		      (unsigned long long)sc.messages, (unsigned long long)sc.dropped,
		      (unsigned long long)sc.cut, (unsigned long long)sc.spool_bytes, ok, cerr, den,
		      serr);
	mm_buf_printf(b, "# HELP mamori_stream_tcp_stalls_total Syslog TCP back-pressure: reader pauses, spool full.\n"
			 "# TYPE mamori_stream_tcp_stalls_total counter\n"
			 "mamori_stream_tcp_stalls_total %llu\n",
		      (unsigned long long)sc.stalls);
	notify_metrics(d, b);
	mm_ingest_metrics(d->ingest, b);
}

/* ---- the console's System page ------------------------------------------ */

#define MAX_DEAD_SHOWN 50

static int dead_row(void *ctx, const struct mm_notify_dead *r)
{
	struct mm_buf *b = ctx;
	char iso[40];
	mm_buf_printf(b, "%s{\"id\":%lld,\"sink\":", b->p[b->len - 1] == '[' ? "" : ",", r->id);
	mm_buf_json_strz(b, r->sink ? r->sink : "");
	mm_buf_addz(b, ",\"findingId\":");
	mm_buf_json_strz(b, r->finding_id ? r->finding_id : "");
	mm_buf_printf(b, ",\"attempts\":%d,\"lastError\":", r->attempts);
	mm_buf_json_strz(b, r->last_error ? r->last_error : "");
	mm_buf_addz(b, ",\"at\":");
	mm_buf_json_strz(b, mm_time_format_iso(r->at_ms, iso));
	mm_buf_printf(b, ",\"sinkConfigured\":%s}", r->sink_configured ? "true" : "false");
	return 0;
}

/* GET /console/api/system: what /metrics counts, as one JSON object. */
static void system_status(void *ctx, struct mm_buf *b)
{
	struct daemon *d = ctx;
	struct mm_scan_result r;
	struct mm_spool_counts sc;
	struct mm_notify_count c[MM_NOTIFY_MAX_SINKS];
	unsigned long long q = 0, fails = 0, dead = 0, dropped = 0;
	int64_t now = mm_now_ms(), lf = atomic_load(&d->last_flush_ms);
	int n, i, problems = 0;

	pthread_mutex_lock(&d->res_mu);
	r = d->res;
	pthread_mutex_unlock(&d->res_mu);
	mm_spool_counts(d->spool, &sc);
	mm_buf_printf(b,
		      "{\"uptimeSeconds\":%lld,\"events\":{\"flow\":%llu,\"dns\":%llu,"
		      "\"cloudtrail\":%llu,\"host\":%llu},\"parseErrors\":%llu,\"bytesRead\":%llu,"
		      "\"filesRead\":%llu,\"findings\":{\"new\":%llu,\"updated\":%llu,"
		      "\"suppressed\":%llu},\"flushes\":{\"ok\":%llu,\"error\":%llu},"
		      "\"lagSeconds\":%.3f,\"lastFlushSeconds\":%.3f,\"polls\":%llu,"
		      "\"reloads\":{\"ok\":%llu,\"error\":%llu},",
		      (long long)((now - d->started_ms) / 1000), (unsigned long long)r.records_flow,
		      (unsigned long long)r.records_dns, (unsigned long long)r.records_api,
		      (unsigned long long)r.records_host, (unsigned long long)r.bad_records,
		      (unsigned long long)r.bytes_in, (unsigned long long)atomic_load(&d->files_fed),
		      (unsigned long long)r.findings_new, (unsigned long long)r.findings_updated,
		      (unsigned long long)atomic_load(&d->suppressed),
		      (unsigned long long)atomic_load(&d->flushes),
		      (unsigned long long)atomic_load(&d->flush_errors),
		      lf ? (double)(now - lf) / 1000.0 : -1.0, atomic_load(&d->last_flush_s),
		      (unsigned long long)atomic_load(&d->polls),
		      (unsigned long long)atomic_load(&d->reloads),
		      (unsigned long long)atomic_load(&d->reload_errors));
	mm_buf_printf(b,
		      "\"spool\":{\"enabled\":%s,\"queueBytes\":%llu,\"messages\":%llu,"
		      "\"udpDropped\":%llu,\"tcpStalls\":%llu,\"cut\":%llu,\"connections\":%llu},",
		      d->spool ? "true" : "false", (unsigned long long)sc.spool_bytes,
		      (unsigned long long)sc.messages, (unsigned long long)sc.dropped,
		      (unsigned long long)sc.stalls, (unsigned long long)sc.cut,
		      (unsigned long long)sc.connections);
	pthread_mutex_lock(&d->notify_mu);
	n = mm_notify_counts(d->notify, c, MM_NOTIFY_MAX_SINKS);
	mm_buf_addz(b, "\"notify\":{\"sinks\":[");
	for (i = 0; i < n; i++) {
		mm_buf_addz(b, i ? ",{\"name\":" : "{\"name\":");
		mm_buf_json_strz(b, c[i].sink);
		mm_buf_printf(b, ",\"sent\":%llu,\"failedAttempts\":%llu,\"deadLetters\":%llu,"
				 "\"dropped\":%llu,\"queued\":%llu}",
			      c[i].sent, c[i].failed, c[i].dead, c[i].dropped, c[i].queued);
		q += c[i].queued;
		fails += c[i].failed;
		dead += c[i].dead;
		dropped += c[i].dropped;
	}
	mm_buf_addz(b, "],\"deadLetters\":[");
	mm_notify_dead_each(d->notify, MAX_DEAD_SHOWN, dead_row, b);
	pthread_mutex_unlock(&d->notify_mu);
	mm_buf_printf(b, "],\"queued\":%llu,\"failedAttempts\":%llu,\"deadLetterCount\":%llu,"
			 "\"dropped\":%llu},",
		      q, fails, dead, dropped);
	/* the badge: anything a person should look at */
	if (r.bad_records || sc.dropped || dead || dropped || atomic_load(&d->flush_errors) ||
	    atomic_load(&d->reload_errors))
		problems = 1;
	mm_buf_printf(b, "\"status\":\"%s\"}", problems ? "degraded" : "ok");
}

static int system_retry(void *ctx, long long id, struct mm_err *err)
{
	struct daemon *d = ctx;
	int rc;
	pthread_mutex_lock(&d->notify_mu);
	rc = mm_notify_retry(d->notify, id, err);
	pthread_mutex_unlock(&d->notify_mu);
	return rc;
}

static void handle(void *ctx, const struct mm_http_req *rq, struct mm_http_resp *rs)
{
	struct daemon *d = ctx;
	if (!strcmp(rq->path, "/metrics") && !strcmp(rq->method, "GET"))
		return metrics(d, rs);
	if (!strcmp(rq->path, "/healthz") && !strcmp(rq->method, "GET")) {
		rs->ctype = "text/plain";
		mm_buf_addz(&rs->body, "ok\n");
		return;
	}
	if (!strcmp(rq->path, MM_INGEST_PATH))
		return mm_ingest_handle(d->ingest, rq, rs);
	if (mm_console_handle(d->console, rq, rs))
		return;
	mm_api_handle(d->api, rq, rs);
}

/* ---- run ------------------------------------------------------------------ */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (!stop_flag && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Until a followed folder changes (then a short settle, so a writer's
 * burst is read at once), a signal, or ms have passed. */
static void wait_change(struct daemon *d, int ms)
{
	struct pollfd pfd = {d->ifd, POLLIN, 0};
	char buf[4096] __attribute__((aligned(8)));
	if (d->ifd < 0) {
		sleep_ms(ms);
		return;
	}
	if (poll(&pfd, 1, ms) > 0) {
		sleep_ms(SETTLE_MS);
		while (read(d->ifd, buf, sizeof(buf)) > 0)
			; /* drained: which file changed does not matter, the walk sees */
	}
}

int mm_serve_run(const struct mm_serve_opts *o, struct mm_err *err)
{
	struct daemon *d;
	struct mm_api_opts ao;
	struct sigaction sa;
	char host[128];
	int rc, i, poll_ms = o->poll_ms > 0 ? o->poll_ms : 1000;
	size_t k;

	if (!(d = mm_calloc(1, sizeof(*d))))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	d->o = o;
	d->started_ms = mm_now_ms();
	pthread_mutex_init(&d->res_mu, NULL);
	pthread_mutex_init(&d->notify_mu, NULL);
	d->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	d->base = o->p;
	if (!(d->nconf = mm_calloc(1, sizeof(*d->nconf)))) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	if (o->notify)
		*d->nconf = *o->notify;
	/* the store first (opening creates or upgrades it), then serve's
	 * tables, whose threat intel sets the pipeline loads */
	{
		struct mm_store *st = NULL;
		if ((rc = mm_store_open(&st, o->p.db_path, err)))
			goto out;
		mm_store_close(st);
	}
	if ((rc = mm_sdb_open(&d->sdb, o->p.db_path, err)) ||
	    (rc = mm_store_open(&d->st, o->p.db_path, err)))
		goto out;
	for (i = 0; i < o->nfollow; i++)
		d->follow[d->nfollow++] = o->follow[i];
	snprintf(d->spool_dir, sizeof(d->spool_dir), "%s", o->spool_dir ? o->spool_dir : "");
	if (!o->spool_dir)
		snprintf(d->spool_dir, sizeof(d->spool_dir), "%s.spool", o->p.db_path);
	if (o->syslog_udp || o->syslog_tcp || o->stdin_src) {
		struct mm_spool_opts so;
		memset(&so, 0, sizeof(so));
		so.dir = d->spool_dir;
		so.udp = o->syslog_udp;
		so.tcp = o->syslog_tcp;
		so.stdin_src = o->stdin_src;
		if ((rc = mm_spool_open(&d->spool, &so, err)))
			goto out;
		d->follow[d->nfollow++] = d->spool_dir;
	}
	compose(d);
	if ((rc = mm_pipeline_open(&d->p, &d->po, err)) ||
	    (rc = mm_auth_open(&d->auth, o->p.db_path, err)))
		goto out;
	{
		/* agents' uploads: SPOOL/agent, followed with the rest (SPOOL
		 * is followed by the stream sources, else added here) */
		struct mm_ingest_opts io;
		char idir[4200];
		if (mkdir(d->spool_dir, 0700) && errno != EEXIST) {
			rc = mm_err_set(err, MM_EIO, "cannot create the spool folder %s: %s",
					d->spool_dir, strerror(errno));
			goto out;
		}
		snprintf(idir, sizeof(idir), "%s/agent", d->spool_dir);
		memset(&io, 0, sizeof(io));
		io.dir = idir;
		io.auth = mm_auth_check;
		io.auth_ctx = d->auth;
		if ((rc = mm_ingest_open(&d->ingest, &io, err)))
			goto out;
		/* SPOOL itself (agent/ appears in it with the first upload) */
		if (!d->spool && d->nfollow < MM_SERVE_MAX_FOLLOW + 1)
			d->follow[d->nfollow++] = d->spool_dir;
	}
	memset(&ao, 0, sizeof(ao));
	ao.db_path = o->p.db_path;
	ao.sdb = d->sdb;
	ao.auth = mm_auth_check;
	ao.auth_ctx = d->auth;
	if ((rc = mm_api_open(&d->api, &ao, err)) ||
	    (rc = mm_notify_open(&d->notify, o->p.db_path, d->nconf, err)))
		goto out;
	{
		struct mm_console_opts co = {o->p.db_path, d->api, mm_sdb_detector_id(d->sdb),
					     o->tls_cert != NULL, &o->p, system_status, system_retry, d};
		if ((rc = mm_console_open(&d->console, &co, err)))
			goto out;
	}
	refresh_rules(d);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	stop_flag = 0;
	if ((rc = mm_http_start(&d->http, o->listen, o->tls_cert, o->tls_key, handle, d, err)))
		goto out;
	snprintf(host, sizeof(host), "%s", o->listen);
	if (strrchr(host, ':'))
		*strrchr(host, ':') = '\0';
	if (!host[0])
		snprintf(host, sizeof(host), "127.0.0.1");
	mm_info("serve: listening on %s://%s:%d, detector %s; following %d source(s) every %d ms",
		o->tls_cert ? "https" : "http", host, mm_http_port(d->http),
		mm_sdb_detector_id(d->sdb), o->nfollow, poll_ms);
	if (d->spool)
		mm_info("serve: spooling%s%s%s into %s (udp port %d, tcp port %d)",
			o->syslog_udp ? " syslog/udp" : "", o->syslog_tcp ? " syslog/tcp" : "",
			o->stdin_src ? " stdin" : "", d->spool_dir, mm_spool_udp_port(d->spool),
			mm_spool_tcp_port(d->spool));
	if (o->ready_file) {
		/* written whole, then renamed: a reader never sees half of it */
		char tmp[4200];
		FILE *f;
		snprintf(tmp, sizeof(tmp), "%s.tmp", o->ready_file);
		if ((f = fopen(tmp, "w"))) {
			fprintf(f, "%s://%s:%d %s %d %d\n", o->tls_cert ? "https" : "http", host,
				mm_http_port(d->http), mm_sdb_detector_id(d->sdb),
				mm_spool_udp_port(d->spool), mm_spool_tcp_port(d->spool));
			if (fclose(f) == 0)
				rename(tmp, o->ready_file);
		}
	}
	while (!stop_flag) {
		if (hup_flag || mm_sdb_set_gen(d->sdb) != d->set_gen) {
			int hup = hup_flag;
			hup_flag = 0;
			if ((rc = reload(d, hup, err)))
				goto out;
		}
		rc = poll_once(d, err);
		if (rc < 0) {
			/* the batch was rolled back whole; the next poll reads it again */
			mm_warn("serve: %s (retrying in %d ms)", err->msg, poll_ms);
			mm_err_clear(err);
			/* reopen the pipeline after a failed flush; its counters
			 * stay as of the last commit */
			pthread_mutex_lock(&d->res_mu);
			d->acc = d->res;
			pthread_mutex_unlock(&d->res_mu);
			mm_pipeline_close(d->p);
			d->p = NULL;
			for (k = 0; k < d->nseen; k++)
				mm_free(d->seen[k].path);
			d->nseen = 0;
			sleep_ms(poll_ms);
			if ((rc = mm_pipeline_open(&d->p, &d->po, err)))
				goto out;
			continue;
		}
		if (rc == 1)
			mm_info("serve: flush: %llu new, %llu updated findings so far",
				(unsigned long long)d->res.findings_new,
				(unsigned long long)d->res.findings_updated);
		wait_change(d, poll_ms);
	}
	rc = 0;
	mm_info("serve: stopping");
out:
	mm_http_stop(d->http);
	mm_notify_close(d->notify);
	mm_spool_close(d->spool);
	mm_ingest_close(d->ingest);
	mm_store_close(d->st);
	mm_console_close(d->console);
	mm_api_close(d->api);
	mm_auth_close(d->auth);
	mm_sdb_close(d->sdb);
	mm_pipeline_close(d->p);
	for (i = 0; i < d->nrules; i++)
		mm_criteria_free(d->rules[i]);
	for (k = 0; k < d->nseen; k++)
		mm_free(d->seen[k].path);
	mm_free(d->seen);
	for (i = 0; i < d->nset_str; i++)
		mm_free(d->set_str[i]);
	for (k = 0; k < d->nwatched; k++)
		mm_free(d->watched[k]);
	mm_free(d->watched);
	if (d->ifd >= 0)
		close(d->ifd);
	pthread_mutex_destroy(&d->res_mu);
	pthread_mutex_destroy(&d->notify_mu);
	mm_free(d->nconf);
	mm_free(d);
	return rc;
}
