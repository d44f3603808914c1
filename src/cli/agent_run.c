/* agent_run.c - `mamori agent` itself (in src/cli: it uses the shared pipeline options) and
 * `mamori agent triage`: collect, spool, feed the pipeline (or the shipper), print; once or as a daemon. See agent/run.h for the spool
 * and its exactly-once guarantee, and for --server (the ship queue). */
#include "agent/run.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/collect.h"
#include "agent/fim.h"
#include "agent/journal.h"
#include "agent/respond.h"
#include "agent/ship.h"
#include "agent/triage.h"
#include "cli/cli.h"
#include "cli/pipeopts.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/file.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "engine/place.h"
#include "finding/finding.h"
#include "finding/output.h"
#include "scan/scan.h"
#include "serve/ingest.h"
#include "store/store.h"

#define AGENT_MAX_LOGS 32
#define AGENT_SPOOL_MAX_FILES 4096
#define AGENT_SPOOL_MAX_CYCLE (64u << 20)

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *out)
{
	fputs("usage: mamori agent [options]\n"
	      "\n"
	      "The host agent: collect processes (exe, hash, CPU, lineage), sockets with their\n"
	      "pids and account changes from this host, follow its auth and cron logs, and\n"
	      "feed them through the detection pipeline. Collector events are spooled to\n"
	      "<db>.agent/*.hostevents.jsonl; nothing is lost or counted twice across\n"
	      "restarts. Needs root (or CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH) to see every\n"
	      "process; see mamori-agent(1).\n"
	      "\n"
	      "options:\n",
	      out);
	fputs(mm_cli_pipe_help, out);
	fputs("  --once                    one cycle: collect, detect, store, print, exit\n"
	      "  --interval SECS           daemon: seconds between cycles (default 60)\n"
	      "  --sample-ms MS            between the two CPU samples of a cycle (default 1000)\n"
	      "  --root DIR                read files (passwd, default logs, instance id) under\n"
	      "                            DIR (tests); processes always come from /proc\n"
	      "  --host NAME               as above; also this host's name in its events\n"
	      "                            (default: the host name)\n"
	      "  --instance-id ID          instance id (default: cloud-init's, DMI asset tag)\n"
	      "  --account-id ID           AWS account of this host's findings (default: the\n"
	      "                            instance identity document cloud-init cached in\n"
	      "                            /run/cloud-init/instance-data.json; its region too,\n"
	      "                            unless --region)\n"
	      "  --log FILE                an auth/secure/cron log to follow (repeatable; default:\n"
	      "                            those of /var/log/secure, /var/log/auth.log, /var/log/cron\n"
	      "                            that exist)\n"
	      "  --no-logs                 follow no logs\n"
	      "  --journal                 read the system journal's auth/cron entries (default:\n"
	      "                            when built with libsystemd, without --root, --log or\n"
	      "                            --server, and /var/log/secure and auth.log are absent)\n"
	      "  --journal-dir DIR         read the journal files in DIR (as journalctl -D)\n"
	      "  --journal-since TIME      first run: journal entries from TIME (ISO 8601, or\n"
	      "                            'all'; default: the system journal's tail, all of DIR)\n"
	      "  --no-journal              read no journal\n"
	      "  --server URL              ship events and logs to a central mamori serve instead\n"
	      "                            of detecting here (queued in <db>.agent/ship/ while it\n"
	      "                            is away; see mamori-agent(1))\n"
	      "  --key-file FILE           --server: the AWS_ACCESS_KEY_ID=/AWS_SECRET_ACCESS_KEY=\n"
	      "                            lines `mamori keys create` printed (default: those\n"
	      "                            environment variables), as mamori agent ship\n"
	      "  --max-wait SECS           --server --once: retry an away server this long\n"
	      "                            (default 30; 0: one try)\n"
	      "  --audit-log FILE          automatic response (the config's respond: section):\n"
	      "                            the audit log (default /var/log/mamori/audit.log)\n"
	      "  --quarantine-dir DIR      automatic response: the quarantine folder (default\n"
	      "                            /var/lib/mamori/quarantine)\n"
	      "  --format table|json|guardduty|eventbridge|none\n"
	      "                            how --once prints the findings it touched\n"
	      "  --fail-on SEVERITY        --once: exit 4 if a finding at or above SEVERITY\n"
	      "  --no-fim                  no file integrity scan (see mamori-agent(1) for what\n"
	      "                            it watches)\n"
	      "  --no-fim-watch            daemon: no inotify wake-up on a watched file's change;\n"
	      "                            FIM at each cycle only\n"
	      "  --keep-spool              keep spool files after they were read (they are\n"
	      "                            never read twice either way; for inspection)\n"
	      "  -q, --quiet               no summary\n"
	      "  -h, --help                this help\n"
	      "\n"
	      "exit status as mamori scan: 0 ok, 1 error, 2 usage, 4 --fail-on, 5 database busy;\n"
	      "with --server --once: 0 everything shipped, 1 queued (the server is away: the next\n"
	      "run ships it) or an error\n",
	      out);
}

struct agent {
	struct mm_cli_pipe cp;
	const char *db;
	char spool[PATH_MAX];
	const char *root;
	char host[256];
	char instance[128];
	char account[32], region[64];	/* --account-id; the instance's place */
	const char *logs[AGENT_MAX_LOGS];
	int nlogs, no_logs;
	const char *server;
	const char *key_file;
	const char *audit_log, *quarantine_dir;	/* automatic response; NULL: respond's */
	long max_wait;		/* --once --server: seconds */
	struct mm_ship *ship;	/* --server: the shipper */
	char ship_dir[PATH_MAX], ship_file[PATH_MAX];
	int ship_rc;		/* the last mm_ship_cycle result */
	int64_t ship_next_ms;	/* daemon: when to retry an away server */
	uint64_t ship_dropped;	/* cycles not spooled: over the spool cap */
	int once, quiet, print, sample_ms, keep_spool;
	long interval;
	enum mm_outfmt fmt;
	double fail_on;
	unsigned seq;		/* the next spool file number */
	int no_fim;
	int no_fim_watch;	/* daemon: no inotify wake-up, periodic rescan only */
	struct mm_fim_counts fim;
	uint64_t events_file;
	/* the journal (agent/journal.h): mode -1 off, 0 default, 1 on */
	int journal_mode;
	const char *journal_dir, *journal_since;
	struct mm_journal *jr;
	uint64_t journal_lines;
};

static int name_seq(const char *name, unsigned *seq)
{
	char *end;
	unsigned long v = strtoul(name, &end, 10);
	if (end == name || (strcmp(end, ".hostevents.jsonl") && strcmp(end, MM_JOURNAL_SPOOL_SUFFIX)))
		return -1;
	*seq = (unsigned)v;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The spool's whole files, sorted (caller frees with free_list). */
static char **spool_list(struct agent *ag, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	*n = 0;
	d = opendir(ag->spool);
	if (!d)
		return NULL;
	while ((de = readdir(d)) && *n < AGENT_SPOOL_MAX_FILES) {
		unsigned s;
		char p[PATH_MAX];
		if (name_seq(de->d_name, &s))
			continue;
		if (s + 1 > ag->seq)
			ag->seq = s + 1;
		if (*n == cap) {
			char **nv = mm_realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		snprintf(p, sizeof(p), "%s/%s", ag->spool, de->d_name);
		if (!(v[*n] = mm_strdup(p)))
			break;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), str_cmp);
	return v;
}

static void free_list(char **v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		mm_free(v[i]);
	mm_free(v);
}

/* ---- --server: the ship queue ---------------------------------------------
 * With --server the cycle's events are not fed to a local pipeline: they
 * are appended (whole lines, fsync'd) to ONE queue file,
 * <db>.agent/ship/hostevents.jsonl, shipped as one stream (source
 * "hostevents.jsonl") with the followed logs (source: their base names)
 * by agent/ship.c. One file, not one per cycle: the server keeps the
 * newest file of every stream, so a stream per cycle would fill its
 * per-host folder. The queue file is replaced by an empty one (a new
 * file renamed over it, so the shipper sees a new inode and the old
 * inode cannot come back under that name) only when mm_ship_pending()
 * says every byte of it was acknowledged (ship.h's RULE). While the
 * server is away the file grows; past the ship spool cap the cycle's
 * events are not queued (counted and warned: the disk stays bounded). */

#define AGENT_SHIP_SOURCE "hostevents.jsonl"

/* Cut a partial last line (a crash in the middle of an append): ship.c
 * sends whole lines only, so the bytes cut were never shipped. */
static int ship_trim(struct agent *ag, struct mm_err *err)
{
	char buf[4096];
	struct stat sb;
	off_t end, at;
	int fd, rc = 0;
	if ((fd = open(ag->ship_file, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : mm_err_set(err, MM_EIO, "%s: %s", ag->ship_file,
							strerror(errno));
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		rc = mm_err_set(err, MM_EIO, "%s: not a regular file", ag->ship_file);
		goto out;
	}
	end = sb.st_size;
	for (at = end; at > 0;) {
		size_t n = at > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)at;
		ssize_t r = pread(fd, buf, n, at - (off_t)n);
		if (r != (ssize_t)n) {
			rc = mm_err_set(err, MM_EIO, "%s: %s", ag->ship_file, strerror(errno));
			goto out;
		}
		while (n && buf[n - 1] != '\n')
			n--, at--;
		if (n)
			break;
	}
	if (at < end) {
		mm_warn("agent: %s: %lld bytes of a partial last line cut (an interrupted append)",
			ag->ship_file, (long long)(end - at));
		if (ftruncate(fd, at) || fsync(fd))
			rc = mm_err_set(err, MM_EIO, "%s: %s", ag->ship_file, strerror(errno));
	}
out:
	close(fd);
	return rc;
}

/* Append one cycle's lines, whole or not at all. */
static int ship_append(struct agent *ag, const struct mm_buf *b, struct mm_err *err)
{
	struct stat sb;
	size_t off = 0;
	int fd, rc = 0;
	if (!b->len)
		return 0;
	if (ag->ship_rc == MM_SHIP_OVER_CAP) {
		ag->ship_dropped++;
		mm_warn("agent: the ship queue is over its cap: this cycle's events are not queued");
		return 0;
	}
	fd = open(ag->ship_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fstat(fd, &sb)) {
		rc = mm_err_set(err, MM_EIO, "%s: %s", ag->ship_file, strerror(errno));
		goto out;
	}
	while (off < b->len) {
		ssize_t w = write(fd, b->p + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = mm_err_set(err, MM_EIO, "%s: %s", ag->ship_file, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (!rc && fsync(fd))
		rc = mm_err_set(err, MM_EIO, "%s: %s", ag->ship_file, strerror(errno));
	if (rc && ftruncate(fd, sb.st_size) == 0) /* no partial cycle left behind */
		(void)fsync(fd);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Start an empty queue file when the server has all of the current one. */
static void ship_rotate(struct agent *ag)
{
	char tmp[PATH_MAX + 8];
	struct stat sb;
	int fd, dfd;
	if (stat(ag->ship_file, &sb) || !sb.st_size || mm_ship_pending(ag->ship, ag->ship_file))
		return;
	snprintf(tmp, sizeof(tmp), "%s/.new.tmp", ag->ship_dir);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return;
	if (fsync(fd) || rename(tmp, ag->ship_file)) {
		close(fd);
		unlink(tmp);
		return;
	}
	close(fd);
	if ((dfd = open(ag->ship_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

static int ship_start(struct agent *ag, struct mm_err *err)
{
	struct mm_ship_opts o;
	char id[256], secret[256], state[PATH_MAX + 96], ship_host[MM_INGEST_HOST_MAX + 1];
	const char *hn;
	size_t k;
	int i, rc;
	/* the server's folder for this host: the instance id when there is
	 * one (the server's pipeline attributes a folder named i-... to that
	 * instance, logs included), else the host name made a valid name */
	hn = !strncmp(ag->instance, "i-", 2) ? ag->instance : ag->host;
	for (k = 0; hn[k] && k < MM_INGEST_HOST_MAX; k++)
		ship_host[k] = isalnum((unsigned char)hn[k]) || strchr("._-", hn[k]) ? hn[k] : '_';
	ship_host[k] = '\0';
	if (!mm_ingest_name_ok(ship_host, MM_INGEST_HOST_MAX, 0))
		snprintf(ship_host, sizeof(ship_host), "unnamed");
	snprintf(ag->ship_dir, sizeof(ag->ship_dir), "%s/ship", ag->spool);
	snprintf(ag->ship_file, sizeof(ag->ship_file), "%s/%s", ag->ship_dir, AGENT_SHIP_SOURCE);
	/* one state per host name: each (host, source) is its own stream on
	 * the server, so a renamed host starts its streams from their start */
	snprintf(state, sizeof(state), "%s/ship-%s.state", ag->spool, ship_host);
	if (mkdir(ag->ship_dir, 0700) && errno != EEXIST)
		return mm_err_set(err, MM_EIO, "%s: %s", ag->ship_dir, strerror(errno));
	if ((rc = ship_trim(ag, err)))
		return rc;
	if ((rc = mm_ship_load_key(ag->key_file, id, sizeof(id), secret, sizeof(secret), err)))
		return rc;
	memset(&o, 0, sizeof(o));
	o.server = ag->server;
	o.key_id = id;
	o.secret = secret;
	o.host = ship_host;
	o.state_path = state;
	/* the server's findings name the account and region this agent's do */
	o.account = ag->account[0] ? ag->account : NULL;
	o.host_region = ag->cp.p.default_region && mm_place_region_ok(ag->cp.p.default_region,
								      strlen(ag->cp.p.default_region))
				? ag->cp.p.default_region
				: NULL;
	signal(SIGPIPE, SIG_IGN); /* a server gone mid-request is an error return */
	rc = mm_ship_open(&ag->ship, &o, err);
	memset(secret, 0, sizeof(secret));
	if (rc)
		return rc;
	if ((rc = mm_ship_add(ag->ship, ag->ship_file, AGENT_SHIP_SOURCE, err)))
		return rc;
	for (i = 0; i < ag->nlogs; i++)
		if ((rc = mm_ship_add(ag->ship, ag->logs[i], NULL, err)))
			return rc;
	return 0;
}

/* One pass of the shipper; an away server is not an error (the files
 * are the queue): ag->ship_rc says it and when to try again. */
static int ship_pass(struct agent *ag, struct mm_err *err)
{
	int r = mm_ship_cycle(ag->ship, err);
	if (r < 0)
		return r;
	ag->ship_rc = r;
	if (r == MM_SHIP_DONE) {
		ag->ship_next_ms = 0;
		ship_rotate(ag);
	} else {
		ag->ship_next_ms = mm_now_ms() + mm_ship_retry_ms(ag->ship);
		mm_warn("agent: %s; queued, retrying in %d ms", err->msg[0] ? err->msg : "server away",
			mm_ship_retry_ms(ag->ship));
		mm_err_clear(err);
	}
	return 0;
}

/* Write one cycle's lines as the next spool file, whole or not at all. */
static int spool_write_as(struct agent *ag, const struct mm_buf *b, const char *suffix,
			  struct mm_err *err);

static int spool_write(struct agent *ag, const struct mm_buf *b, struct mm_err *err)
{
	return spool_write_as(ag, b, ".hostevents.jsonl", err);
}

static int spool_write_as(struct agent *ag, const struct mm_buf *b, const char *suffix,
			  struct mm_err *err)
{
	char tmp[PATH_MAX], fin[PATH_MAX];
	int rc;
	if (ag->ship)
		return ship_append(ag, b, err);
	if (!b->len)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/.%06u.tmp", ag->spool, ag->seq);
	snprintf(fin, sizeof(fin), "%s/%06u%s", ag->spool, ag->seq, suffix);
	if (!(rc = mm_file_replace(fin, tmp, b->p, b->len, err)))
		ag->seq++;
	return rc;
}

/* Remove spool files the store says were read to their end. */
static void spool_prune(struct agent *ag, char **files, size_t n)
{
	struct mm_store *st = NULL;
	struct mm_err err;
	size_t i;
	if (mm_store_open(&st, ag->db, &err))
		return;
	for (i = 0; i < n; i++) {
		struct mm_file_state fs;
		struct stat sb;
		char *real = realpath(files[i], NULL);
		if (real && !stat(real, &sb) && mm_store_file_get(st, real, &fs) == 1 &&
		    fs.complete && fs.offset >= (uint64_t)sb.st_size)
			unlink(real);
		free(real);
	}
	mm_store_close(st);
}

static int print_row(void *ctx, const struct mm_finding_row *row)
{
	return mm_printer_row(ctx, row);
}

static int print_findings(struct agent *ag, int64_t since)
{
	struct mm_store *st = NULL;
	struct mm_finding_filter flt;
	struct mm_printer pr;
	struct mm_err err;
	int rc = 0;
	memset(&flt, 0, sizeof(flt));
	flt.updated_since_ms = since;
	if (mm_store_open(&st, ag->db, &err)) {
		fprintf(stderr, "mamori agent: %s\n", err.msg);
		return MM_EXIT_ERROR;
	}
	mm_printer_begin(&pr, stdout, ag->fmt, ag->fmt == MM_OUT_TABLE && isatty(1));
	if (mm_store_findings(st, &flt, print_row, &pr, &err) < 0) {
		fprintf(stderr, "mamori agent: %s\n", err.msg);
		rc = MM_EXIT_ERROR;
	}
	mm_printer_end(&pr);
	mm_store_close(st);
	return rc;
}

/* ---- automatic response (the config's respond: section) --------------------
 * After a cycle's findings are committed, each finding the cycle created
 * (createdAt at or after the cycle's start; an updated older finding was
 * responded to when it was new) goes through mm_respond_auto: off unless
 * `respond: enabled: true`, a dry run unless `mode: act`, every action
 * audited and recorded as `mamori agent respond` does. The targets are the
 * running host's (a pid, an executable path from /proc, a remote address),
 * so the actions work on "/" whatever --root says; --audit-log and
 * --quarantine-dir place what they write. At most AGENT_AUTO_MAX findings
 * a cycle (the rest counted and warned). A crash between the commit and
 * the response loses that response (at most once: never twice). */

#define AGENT_AUTO_MAX 256

struct autoctx {
	int64_t since;
	struct mm_finding *v;
	size_t n;
	uint64_t over;
};

/* Copy the string member at path of o into dst (cap bytes); "" when absent. */
static void json_copy(const struct mm_json_val *o, const char *path, char *dst, size_t cap)
{
	struct mm_json_val v;
	struct mm_str s;
	struct mm_arena ar;
	char mem[1024];
	dst[0] = '\0';
	mm_arena_init(&ar, mem, sizeof(mem));
	if (mm_json_path(o, path, &v) == 1 && v.type == MM_JSON_STRING &&
	    !mm_json_str(&v, &ar, &s) && s.n < cap && !memchr(s.p, '\0', s.n)) {
		memcpy(dst, s.p, s.n);
		dst[s.n] = '\0';
	}
}

static int auto_collect(void *ctx, const struct mm_finding_row *row)
{
	struct autoctx *x = ctx;
	struct mm_finding *f;
	struct mm_json_val o, v;
	char created[40], ip[MM_IP_STRLEN];
	int64_t created_ms = 0, pid = 0;
	size_t used;
	if (mm_json_value(row->json, strlen(row->json), &o, &used) || o.type != MM_JSON_OBJECT)
		return 0;
	json_copy(&o, "createdAt", created, sizeof(created));
	if (mm_time_parse_iso(created, strlen(created), &created_ms) || created_ms < x->since)
		return 0;
	if (x->n >= AGENT_AUTO_MAX) {
		x->over++;
		return 0;
	}
	f = &x->v[x->n];
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", row->id);
	snprintf(f->type, sizeof(f->type), "%s", row->type);
	if (mm_json_path(&o, "service.runtimeDetails.process", &v) == 1 &&
	    v.type == MM_JSON_OBJECT) {
		struct mm_json_val pv;
		f->res_type = MM_RES_RUNTIME;
		if (mm_json_get(&v, "pid", &pv) == 1 && !mm_json_int(&pv, &pid))
			f->proc.pid = pid;
		json_copy(&v, "executablePath", f->proc.exe, sizeof(f->proc.exe));
		json_copy(&v, "user", f->proc.user, sizeof(f->proc.user));
		json_copy(&v, "name", f->proc.name, sizeof(f->proc.name));
	}
	json_copy(&o, "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", ip,
		  sizeof(ip));
	if (!ip[0])
		json_copy(&o, "service.action.networkConnectionAction.remoteIpDetails.ipAddressV6",
			  ip, sizeof(ip));
	if (ip[0] && !mm_ip_parse(ip, strlen(ip), &f->remote_ip))
		f->has_remote_ip = 1;
	x->n++;
	return 0;
}

/* Respond to the findings created since since_ms. Errors are warned: a
 * failed response never stops the agent. */
static void auto_respond(struct agent *ag, int64_t since_ms)
{
	const struct mm_respond_rules *rules = mm_config_respond(ag->cp.cfg);
	struct mm_store *st = NULL;
	struct mm_finding_filter flt;
	struct mm_respond_opts o;
	struct autoctx x;
	struct mm_err err;
	size_t i;
	if (!rules || !rules->enabled || !rules->nrules)
		return;
	memset(&x, 0, sizeof(x));
	x.since = since_ms;
	if (!(x.v = mm_calloc(AGENT_AUTO_MAX, sizeof(*x.v)))) {
		mm_warn("agent: automatic response: out of memory");
		return;
	}
	memset(&flt, 0, sizeof(flt));
	flt.updated_since_ms = since_ms;
	mm_err_clear(&err);
	/* read them all first, then act with the store closed: each action
	 * writes its own row */
	if (mm_store_open(&st, ag->db, &err) ||
	    mm_store_findings(st, &flt, auto_collect, &x, &err) < 0)
		mm_warn("agent: automatic response: %s", err.msg);
	mm_store_close(st);
	if (x.over)
		mm_warn("agent: automatic response: %llu new findings past the %d a cycle are not "
			"responded to", (unsigned long long)x.over, AGENT_AUTO_MAX);
	memset(&o, 0, sizeof(o));
	o.db = ag->db;
	o.audit_log = ag->audit_log;
	o.quarantine_dir = ag->quarantine_dir;
	o.out = stderr;
	for (i = 0; i < x.n; i++) {
		mm_err_clear(&err);
		if (mm_respond_auto(rules, &x.v[i], &o, &err) < 0)
			mm_warn("agent: automatic response to %s: %s", x.v[i].id, err.msg);
	}
	mm_free(x.v);
}

struct fimctx {
	struct agent *ag;
	struct mm_collector *col;
	struct mm_buf *b;
	struct mm_err *err;
	int written;
};

static int on_fim(void *ctx, const struct mm_fim_change *ch)
{
	struct fimctx *x = ctx;
	x->ag->events_file++;
	return mm_collector_file_event(x->col, x->b, ch);
}

/* The cycle's events are made durable before the FIM baseline moves. */
static int fim_flush(void *ctx)
{
	struct fimctx *x = ctx;
	int rc = spool_write(x->ag, x->b, x->err);
	if (!rc)
		x->written = 1;
	return rc;
}

/* ---- the journal (agent/journal.h) ------------------------------------------
 * The cycle's journal entries become their own spool file
 * (NNNNNN.journal.jsonl, journalctl -o json lines); the cursor is saved
 * only after that file is renamed in. MAMORI_TEST_JOURNAL_KILL=1 (tests
 * only: tests/golden/journal.sh) kills the agent right between the two. */
static int journal_step(struct agent *ag, struct mm_err *err)
{
	struct mm_buf b;
	uint64_t n = 0;
	int rc;
	mm_buf_init(&b, MM_JOURNAL_CYCLE_BYTES + (1u << 20));
	if ((rc = mm_journal_read(ag->jr, &b, &n, err)) ||
	    (rc = spool_write_as(ag, &b, MM_JOURNAL_SPOOL_SUFFIX, err)))
		goto out;
	ag->journal_lines += n;
	if (n && getenv("MAMORI_TEST_JOURNAL_KILL"))
		raise(SIGKILL);
	rc = mm_journal_commit(ag->jr, err);
out:
	mm_buf_free(&b);
	return rc;
}

static int journal_start(struct agent *ag, int logs_given, struct mm_err *err)
{
	struct mm_journal_opts o;
	char state[PATH_MAX + 16];
	static const char *const logs[] = { "/var/log/secure", "/var/log/auth.log" };
	size_t i;
	if (ag->journal_mode < 0)
		return 0;
	if (!ag->journal_mode) {
		/* the default: this host's journal when it is where auth logs go */
		if (!mm_journal_built() || ag->root[0] || logs_given || ag->no_logs || ag->server ||
		    (access("/var/log/journal", R_OK) && access("/run/log/journal", R_OK)))
			return 0;
		for (i = 0; i < 2; i++)
			if (!access(logs[i], F_OK))
				return 0;
	}
	memset(&o, 0, sizeof(o));
	snprintf(state, sizeof(state), "%s/journal.cursor", ag->spool);
	o.dir = ag->journal_dir;
	o.state = state;
	o.spool = ag->spool;
	if (ag->journal_since && !strcmp(ag->journal_since, "all")) {
		o.since_us = -1;
	} else if (ag->journal_since) {
		int64_t ms;
		if (mm_time_parse_iso(ag->journal_since, strlen(ag->journal_since), &ms) || ms < 0)
			return mm_err_set(err, MM_EINVAL, "--journal-since takes an ISO 8601 time "
							  "or 'all'");
		o.since_us = ms ? ms * 1000 : 1;
	}
	return mm_journal_open(&ag->jr, &o, err);
}

/* One cycle: collect, spool, feed (or ship), prune. Sets *res. */
static int cycle(struct agent *ag, struct mm_collector *col, struct mm_scan_result *res,
		 struct mm_err *err)
{
	struct mm_buf b;
	char **files = NULL;
	const char **paths = NULL;
	size_t nfiles = 0, np = 0, i;
	int rc;
	struct mm_scan_opts so;

	memset(res, 0, sizeof(*res));
	mm_buf_init(&b, AGENT_SPOOL_MAX_CYCLE);
	if (ag->ship)
		ship_rotate(ag);
	if ((rc = mm_collector_cycle(col, &b, err)))
		goto out;
	if (!ag->no_fim) {
		struct fimctx x = { ag, col, &b, err, 0 };
		size_t mark = b.len;
		if (mm_fim_scan(ag->db, ag->root, on_fim, fim_flush, &x, &ag->fim, err)) {
			/* the baseline stays: its changes come again next cycle */
			mm_warn("agent: %s", err->msg);
			mm_err_clear(err);
		}
		if (x.written)
			b.len = 0; /* spooled by fim_flush */
		else
			b.len = mark; /* not this cycle's FIM events: they come again */
	}
	if ((rc = spool_write(ag, &b, err)))
		goto out;
	if (ag->jr && (rc = journal_step(ag, err)))
		goto out;
	if (ag->ship) {
		/* while the server is away, the backoff decides, not the cycle */
		if (ag->ship_rc == MM_SHIP_DONE || mm_now_ms() >= ag->ship_next_ms)
			rc = ship_pass(ag, err);
		goto out;
	}
	files = spool_list(ag, &nfiles);
	if (!(paths = mm_calloc(nfiles + AGENT_MAX_LOGS + 1, sizeof(*paths)))) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nfiles; i++)
		paths[np++] = files[i];
	for (i = 0; i < (size_t)ag->nlogs; i++)
		if (!access(ag->logs[i], R_OK))
			paths[np++] = ag->logs[i];
	if (!np)
		goto out;
	memset(&so, 0, sizeof(so));
	so.p = ag->cp.p;
	so.p.db_path = ag->db;
	/* the followed logs (and the journal) are this host's: its findings
	 * name the instance, as the server names them when they are shipped */
	if (!strncmp(ag->instance, "i-", 2))
		so.p.host_instance = ag->instance;
	if (ag->account[0])
		so.p.host_account = ag->account;
	so.paths = paths;
	so.npaths = (int)np;
	if ((rc = mm_scan_run(&so, res, err)))
		goto out;
	if (res->findings_new)
		auto_respond(ag, res->started_ms);
	if (!ag->keep_spool)
		spool_prune(ag, files, nfiles);
out:
	mm_buf_free(&b);
	mm_free(paths);
	free_list(files, nfiles);
	return rc;
}

/* --once --server: retry an away server up to --max-wait, then say
 * where things stand. MM_EXIT_OK when everything is acknowledged,
 * MM_EXIT_ERROR when some of it waits in the queue. */
static int ship_once_finish(struct agent *ag)
{
	struct mm_ship_counts c;
	struct mm_err err;
	int64_t give_up = mm_now_ms() + (int64_t)ag->max_wait * 1000;
	mm_err_clear(&err);
	while (ag->ship_rc != MM_SHIP_DONE && !g_stop) {
		int64_t now = mm_now_ms();
		if (ag->ship_next_ms > give_up)
			break;
		if (ag->ship_next_ms > now) {
			struct timespec ts = { (ag->ship_next_ms - now) / 1000,
					       (long)((ag->ship_next_ms - now) % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		if (ship_pass(ag, &err)) {
			fprintf(stderr, "mamori agent: %s\n", err.msg);
			return MM_EXIT_ERROR;
		}
	}
	mm_ship_counts(ag->ship, &c);
	if (!ag->quiet)
		fprintf(stderr,
			"mamori agent: shipped to %s: %llu bytes (%llu lines) acknowledged; %llu bytes "
			"queued%s\n",
			ag->server, (unsigned long long)c.bytes_sent,
			(unsigned long long)c.lines_sent, (unsigned long long)c.backlog,
			ag->ship_dropped ? "; a cycle was not queued (over the spool cap)" : "");
	if (ag->ship_rc == MM_SHIP_DONE)
		return MM_EXIT_OK;
	fprintf(stderr, "mamori agent: the server is away: the events wait in %s (and the logs "
			"where they are); the next run ships them\n", ag->ship_dir);
	return MM_EXIT_ERROR;
}

static void default_logs(struct agent *ag)
{
	static const char *const def[] = { "/var/log/secure", "/var/log/auth.log", "/var/log/cron" };
	static char buf[3][PATH_MAX];
	size_t i;
	for (i = 0; i < 3 && ag->nlogs < AGENT_MAX_LOGS; i++) {
		snprintf(buf[i], sizeof(buf[i]), "%s%s", ag->root, def[i]);
		if (!access(buf[i], R_OK))
			ag->logs[ag->nlogs++] = buf[i];
	}
}

enum {
	OPT_ONCE = 1100, OPT_INTERVAL, OPT_SAMPLE, OPT_ROOT, OPT_INSTANCE, OPT_ACCOUNT, OPT_LOG,
	OPT_NOLOGS, OPT_SERVER, OPT_FORMAT, OPT_FAILON, OPT_KEEP, OPT_NOFIM, OPT_KEYFILE,
	OPT_MAXWAIT, OPT_AUDIT, OPT_QDIR,
	OPT_JOURNAL, OPT_JOURNAL_DIR, OPT_JOURNAL_SINCE, OPT_NOJOURNAL
};
enum { OPT_NOFIMWATCH = 1190 };

/* --opt N within [lo, hi] from optarg into *out; a usage message
 * ("--opt takes UNITlo to hi") and MM_EXIT_USAGE otherwise. */
static int opt_range(const char *opt, const char *unit, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(optarg, &end, 10);
	if (end == optarg || *end || v < lo || v > hi) {
		fprintf(stderr, "mamori agent: %s takes %s%ld to %ld\n", opt, unit, lo, hi);
		return MM_EXIT_USAGE;
	}
	*out = v;
	return 0;
}

int mm_agent_run_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		MM_CLI_PIPE_LONGOPTS,
		{"once", no_argument, NULL, OPT_ONCE},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"sample-ms", required_argument, NULL, OPT_SAMPLE},
		{"root", required_argument, NULL, OPT_ROOT},
		{"instance-id", required_argument, NULL, OPT_INSTANCE},
		{"account-id", required_argument, NULL, OPT_ACCOUNT},
		{"log", required_argument, NULL, OPT_LOG},
		{"no-logs", no_argument, NULL, OPT_NOLOGS},
		{"server", required_argument, NULL, OPT_SERVER},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"fail-on", required_argument, NULL, OPT_FAILON},
		{"keep-spool", no_argument, NULL, OPT_KEEP},
		{"no-fim", no_argument, NULL, OPT_NOFIM},
		{"key-file", required_argument, NULL, OPT_KEYFILE},
		{"max-wait", required_argument, NULL, OPT_MAXWAIT},
		{"audit-log", required_argument, NULL, OPT_AUDIT},
		{"quarantine-dir", required_argument, NULL, OPT_QDIR},
		{"no-fim-watch", no_argument, NULL, OPT_NOFIMWATCH},
		{"journal", no_argument, NULL, OPT_JOURNAL},
		{"journal-dir", required_argument, NULL, OPT_JOURNAL_DIR},
		{"journal-since", required_argument, NULL, OPT_JOURNAL_SINCE},
		{"no-journal", no_argument, NULL, OPT_NOJOURNAL},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct agent ag;
	struct mm_collector col;
	struct mm_collector_opts co;
	struct mm_scan_result r;
	struct mm_err err;
	char accstate[PATH_MAX];
	int c, rc = MM_EXIT_OK, have_col = 0, logs_given;
	struct mm_fim_watch *fw = NULL;

	memset(&ag, 0, sizeof(ag));
	mm_err_clear(&err);
	mm_cli_pipe_init(&ag.cp);
	ag.root = "";
	ag.print = 1;
	ag.interval = 60;
	ag.sample_ms = 1000;
	ag.max_wait = 30;
	ag.fmt = isatty(1) ? MM_OUT_TABLE : MM_OUT_JSON;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		int taken = mm_cli_pipe_opt("agent", &ag.cp, c, optarg);
		if (taken < 0) {
			rc = -taken;
			goto out;
		}
		if (taken)
			continue;
		switch (c) {
		case OPT_ONCE:
			ag.once = 1;
			break;
		case OPT_INTERVAL:
			if ((rc = opt_range("--interval", "seconds from ", 1, 86400, &ag.interval)))
				goto out;
			break;
		case OPT_SAMPLE: {
			long v;
			if ((rc = opt_range("--sample-ms", "", 10, 60000, &v)))
				goto out;
			ag.sample_ms = (int)v;
			break;
		}
		case OPT_ROOT:
			ag.root = optarg;
			break;
		case OPT_INSTANCE:
			snprintf(ag.instance, sizeof(ag.instance), "%s", optarg);
			break;
		case OPT_ACCOUNT:
			if (!mm_place_account_ok(optarg, strlen(optarg))) {
				fprintf(stderr, "mamori agent: --account-id takes a 12-digit AWS "
						"account id, not '%s'\n", optarg);
				rc = MM_EXIT_USAGE;
				goto out;
			}
			snprintf(ag.account, sizeof(ag.account), "%s", optarg);
			break;
		case OPT_LOG:
			if (ag.nlogs >= AGENT_MAX_LOGS) {
				fprintf(stderr, "mamori agent: at most %d --log files\n", AGENT_MAX_LOGS);
				rc = MM_EXIT_USAGE;
				goto out;
			}
			ag.logs[ag.nlogs++] = optarg;
			break;
		case OPT_NOLOGS:
			ag.no_logs = 1;
			break;
		case OPT_SERVER:
			ag.server = optarg;
			break;
		case OPT_KEYFILE:
			ag.key_file = optarg;
			break;
		case OPT_AUDIT:
			ag.audit_log = optarg;
			break;
		case OPT_QDIR:
			ag.quarantine_dir = optarg;
			break;
		case OPT_MAXWAIT:
			if ((rc = opt_range("--max-wait", "seconds from ", 0, 86400, &ag.max_wait)))
				goto out;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "none")) {
				ag.print = 0;
				break;
			}
			ag.print = 1;
			if (mm_outfmt_parse(optarg, &ag.fmt)) {
				fprintf(stderr, "mamori agent: --format takes %s or none\n",
					mm_outfmt_names());
				rc = MM_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_FAILON:
			if (mm_cli_parse_severity(optarg, &ag.fail_on)) {
				fputs("mamori agent: --fail-on takes high, medium, low or a number\n",
				      stderr);
				rc = MM_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_NOFIM:
			ag.no_fim = 1;
			break;
		case OPT_NOFIMWATCH:
			ag.no_fim_watch = 1;
			break;
		case OPT_KEEP:
			ag.keep_spool = 1;
			break;
		case OPT_JOURNAL:
			ag.journal_mode = 1;
			break;
		case OPT_JOURNAL_DIR:
			ag.journal_mode = 1;
			ag.journal_dir = optarg;
			break;
		case OPT_JOURNAL_SINCE:
			ag.journal_since = optarg;
			break;
		case OPT_NOJOURNAL:
			ag.journal_mode = -1;
			break;
		case 'q':
			ag.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			goto out;
		default:
			fputs("Try 'mamori agent --help'.\n", stderr);
			rc = MM_EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mamori agent: unexpected argument '%s'\n", argv[optind]);
		rc = MM_EXIT_USAGE;
		goto out;
	}
	if (ag.key_file && !ag.server) {
		fputs("mamori agent: --key-file goes with --server\n", stderr);
		rc = MM_EXIT_USAGE;
		goto out;
	}
	if (ag.journal_mode > 0 && ag.server) {
		fputs("mamori agent: --journal does not go with --server yet\n", stderr);
		rc = MM_EXIT_USAGE;
		goto out;
	}
	if ((rc = mm_cli_pipe_ready("agent", &ag.cp, ag.quiet)))
		goto out;
	if (ag.quiet)
		mm_log_set_level(MM_LOG_QUIET);
	ag.db = ag.cp.p.db_path ? ag.cp.p.db_path : mm_store_default_path();
	snprintf(ag.spool, sizeof(ag.spool), "%s.agent", ag.db);
	if (mkdir(ag.spool, 0700) && errno != EEXIST) {
		fprintf(stderr, "mamori agent: %s: %s\n", ag.spool, strerror(errno));
		rc = MM_EXIT_ERROR;
		goto out;
	}
	/* --host is also a pipeline option (scan's attribution): it names the agent's host */
	if (!ag.host[0] && ag.cp.p.host)
		snprintf(ag.host, sizeof(ag.host), "%s", ag.cp.p.host);
	if (!ag.host[0] && gethostname(ag.host, sizeof(ag.host) - 1))
		snprintf(ag.host, sizeof(ag.host), "localhost");
	if (!ag.instance[0])
		mm_agent_instance_id(ag.root, ag.instance, sizeof(ag.instance));
	{
		/* findings name the account and region GuardDuty's would */
		char acct[32];
		mm_agent_instance_place(ag.root, acct, sizeof(acct), ag.region, sizeof(ag.region));
		if (!ag.account[0])
			snprintf(ag.account, sizeof(ag.account), "%s", acct);
		if (!ag.cp.p.default_region && ag.region[0])
			ag.cp.p.default_region = ag.region;
	}
	logs_given = ag.nlogs > 0;
	if (!ag.nlogs && !ag.no_logs)
		default_logs(&ag);
	if (ag.no_logs)
		ag.nlogs = 0;
	{
		size_t n = 0;
		char **v = spool_list(&ag, &n); /* learn the next sequence number */
		free_list(v, n);
	}
	if (ag.server && ship_start(&ag, &err)) {
		fprintf(stderr, "mamori agent: --server: %s\n", err.msg);
		rc = err.code == MM_EINVAL || err.code == MM_ENOTFOUND || err.code == MM_EEXISTS
			     ? MM_EXIT_USAGE : MM_EXIT_ERROR;
		goto out;
	}
	if (journal_start(&ag, logs_given, &err)) {
		fprintf(stderr, "mamori agent: %s\n", err.msg);
		rc = err.code == MM_EINVAL ? MM_EXIT_USAGE : MM_EXIT_ERROR;
		goto out;
	}
	snprintf(accstate, sizeof(accstate), "%s/accounts.state", ag.spool);
	memset(&co, 0, sizeof(co));
	co.root = ag.root;
	co.host = ag.host;
	co.instance_id = ag.instance[0] ? ag.instance : NULL;
	co.sample_ms = ag.sample_ms;
	co.accounts_state = accstate;
	mm_collector_init(&col, &co);
	have_col = 1;

	if (ag.once) {
		if (cycle(&ag, &col, &r, &err)) {
			fprintf(stderr, "mamori agent: %s\n", err.msg[0] ? err.msg : mm_strerror(err.code));
			rc = err.code == MM_EBUSY ? MM_EXIT_BUSY : MM_EXIT_ERROR;
			goto out;
		}
		if (!ag.quiet && ag.ship)
			fprintf(stderr,
				"mamori agent: %llu processes, %llu sockets; events: %llu proc, %llu "
				"sock, %llu account, %llu file (%llu files watched%s); queued for the server\n",
				(unsigned long long)col.n.procs, (unsigned long long)col.n.socks,
				(unsigned long long)col.n.events_proc,
				(unsigned long long)col.n.events_sock,
				(unsigned long long)col.n.events_account,
				(unsigned long long)ag.events_file, (unsigned long long)ag.fim.files,
				ag.fim.baseline_only ? ", baseline recorded" : "");
		else if (!ag.quiet)
			fprintf(stderr,
				"mamori agent: %llu processes, %llu sockets; events: %llu proc, %llu "
				"sock, %llu account, %llu file (%llu files watched%s); host records %llu; findings: %llu new, %llu updated\n",
				(unsigned long long)col.n.procs, (unsigned long long)col.n.socks,
				(unsigned long long)col.n.events_proc,
				(unsigned long long)col.n.events_sock,
				(unsigned long long)col.n.events_account,
				(unsigned long long)ag.events_file, (unsigned long long)ag.fim.files,
				ag.fim.baseline_only ? ", baseline recorded" : "",
				(unsigned long long)r.records_host,
				(unsigned long long)r.findings_new,
				(unsigned long long)r.findings_updated);
		if (!ag.quiet && ag.jr)
			fprintf(stderr, "mamori agent: journal: %llu entries spooled\n",
				(unsigned long long)ag.journal_lines);
		if (ag.ship) {
			rc = ship_once_finish(&ag);
			goto out;
		}
		if (ag.print && (rc = print_findings(&ag, r.started_ms)))
			goto out;
		if (ag.fail_on > 0 && r.max_severity >= ag.fail_on)
			rc = MM_EXIT_FINDINGS;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* FIM: inotify wakes the loop early for a watched path's change; the
	 * cycle's full rescan stays the safety net (agent/fim.h) */
	if (!ag.no_fim && !ag.no_fim_watch && mm_fim_watch_open(&fw, ag.root, 0, &err)) {
		mm_warn("agent: %s; FIM at each cycle only", err.msg);
		mm_err_clear(&err);
	}
	while (!g_stop) {
		long waited;
		int woke = 0;
		if (cycle(&ag, &col, &r, &err)) {
			/* a busy database or a full disk is retried next cycle */
			mm_warn("agent: %s", err.msg[0] ? err.msg : mm_strerror(err.code));
			mm_err_clear(&err);
		} else if (!ag.quiet && (r.findings_new || r.findings_updated)) {
			mm_info("agent: findings: %llu new, %llu updated",
				(unsigned long long)r.findings_new,
				(unsigned long long)r.findings_updated);
		}
		mm_fim_watch_refresh(fw);
		for (waited = 0; waited < ag.interval * 10 && !g_stop; waited++) {
			struct timespec ts = { 0, 100000000L };
			/* a watched path changed: the next cycle now, but at least
			 * 1 s after this one (a burst is one rescan) */
			if (fw && !woke && mm_fim_watch_wait(fw, 100) > 0)
				woke = 1;
			else
				nanosleep(&ts, NULL);
			if (ag.ship && ag.ship_rc != MM_SHIP_DONE && mm_now_ms() >= ag.ship_next_ms &&
			    ship_pass(&ag, &err)) { /* the ship backoff between cycles */
				mm_warn("agent: %s", err.msg);
				mm_err_clear(&err);
			}
			if (woke && waited >= 10)
				break;
		}
	}
out:
	mm_fim_watch_free(fw);
	if (have_col)
		mm_collector_free(&col);
	mm_ship_close(ag.ship);
	mm_journal_close(ag.jr);
	mm_cli_pipe_free(&ag.cp);
	return rc;
}

/* ---- triage --------------------------------------------------------------- */

int mm_agent_triage_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"out", required_argument, NULL, 'o'},
		{"root", required_argument, NULL, 'r'},
		{"db", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'H'},
		{"include-binaries", no_argument, NULL, 'b'},
		{"sample-ms", required_argument, NULL, 's'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mm_triage_opts o;
	struct mm_triage_counts cnt;
	struct mm_err err;
	char host[256] = "", out[PATH_MAX];
	int c, quiet = 0;
	struct stat sb;

	memset(&o, 0, sizeof(o));
	mm_err_clear(&err);
	o.root = "";
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out = optarg;
			break;
		case 'r':
			o.root = optarg;
			break;
		case 'd':
			o.db_path = optarg;
			break;
		case 'H':
			snprintf(host, sizeof(host), "%s", optarg);
			break;
		case 'b':
			o.include_binaries = 1;
			break;
		case 's': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 10 || v > 60000) {
				fputs("mamori agent triage: --sample-ms takes 10 to 60000\n", stderr);
				return MM_EXIT_USAGE;
			}
			o.sample_ms = (int)v;
			break;
		}
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs("usage: mamori agent triage [--out FILE] [--root DIR] [--db FILE] [--host NAME]\n"
			      "                           [--include-binaries] [--sample-ms MS] [-q]\n"
			      "\n"
			      "Write a tar.gz of what an incident responder gathers by hand: processes with\n"
			      "CPU, exe hashes and lineage; sockets with pids; crontabs; recent auth and cron\n"
			      "log lines; logins (wtmp); accounts; the agent's FIM changes (from --db, default\n"
			      "the mamori database); shell histories and dotfiles of suspicious users; the\n"
			      "suspicious binaries' hashes (the binaries too with --include-binaries, capped).\n"
			      "Read-only: the host is never changed; FILE is never overwritten (default\n"
			      "mamori-triage-HOST-TIME.tar.gz in the current folder).\n",
			      stdout);
			return MM_EXIT_OK;
		default:
			fputs("Try 'mamori agent triage --help'.\n", stderr);
			return MM_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mamori agent triage: unexpected argument '%s'\n", argv[optind]);
		return MM_EXIT_USAGE;
	}
	if (!host[0] && gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "localhost");
	o.host = host;
	if (!o.db_path && !stat(mm_store_default_path(), &sb))
		o.db_path = mm_store_default_path();
	if (!o.out) {
		char ts[32];
		time_t tt = time(NULL);
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(out, sizeof(out), "mamori-triage-%s-%s.tar.gz", host, ts);
		o.out = out;
	}
	if (mm_triage_write(&o, &cnt, &err)) {
		fprintf(stderr, "mamori agent triage: %s\n", err.msg[0] ? err.msg : mm_strerror(err.code));
		return MM_EXIT_ERROR;
	}
	if (!quiet)
		fprintf(stderr,
			"mamori agent triage: wrote %s: %llu files, %llu bytes; %llu processes (%llu "
			"suspicious), %llu sockets, %llu accounts, %llu logins, %llu FIM changes, %llu "
			"binaries\n",
			o.out, (unsigned long long)cnt.members, (unsigned long long)cnt.bytes,
			(unsigned long long)cnt.procs, (unsigned long long)cnt.suspicious_procs,
			(unsigned long long)cnt.socks, (unsigned long long)cnt.users,
			(unsigned long long)cnt.logins, (unsigned long long)cnt.fim_changes,
			(unsigned long long)cnt.binaries);
	return MM_EXIT_OK;
}
