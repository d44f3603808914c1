/* rules.c - `mamori rules check|test`: Sigma rules without a scan.
 *
 * check loads every rule file under the folders named and says, per rule,
 * ok / unsupported (why) / broken (why); test runs one rule over files of
 * CloudTrail events, or (a Linux rule) of host events - auth/secure/cron
 * log lines, journalctl -o json lines, *.hostevents.jsonl - and prints
 * each match with its file:line. The rule
 * engine is src/sigma/sigma.c; this file is options, files and printing. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/mem.h"
#include "parse/cloudtrail.h"
#include "parse/ctwrap.h"
#include "parse/hostjson.h"
#include "parse/syslog.h"
#include "sigma/sigma.h"

#include <sys/stat.h>

#define MAX_EVENTS_FILE (256u << 20)	/* bytes of one events file read whole */

static void usage(FILE *out)
{
	fputs("usage: mamori rules check [-q] PATH...\n"
	      "       mamori rules test [-q] RULE EVENTS...\n"
	      "\n"
	      "Sigma rules, evaluated natively (docs/internals/sigma.md).\n"
	      "\n"
	      "  check PATH...     load every rule file (*.yml, *.yaml) under each folder\n"
	      "                    (or each file named) and print one line per rule:\n"
	      "                      ok FILE: TITLE\n"
	      "                      unsupported FILE:LINE: why mamori cannot run it\n"
	      "                      broken FILE:LINE: why it is not valid Sigma\n"
	      "                    then a summary line on stderr; correlation rules are\n"
	      "                    checked against the rules they name across every PATH\n"
	      "  test RULE EVENTS...\n"
	      "                    run one rule on files of CloudTrail events (one JSON\n"
	      "                    event per line, or a CloudTrail S3 log file\n"
	      "                    {\"Records\":[...]}, not compressed) and print each\n"
	      "                    matching event as FILE:LINE: eventName eventTime\n"
	      "                    (TITLE, by AUTHOR): the rule's author is named with\n"
	      "                    its matches, as the Detection Rule License asks;\n"
	      "                    a Linux rule (product: linux) runs on host events:\n"
	      "                    auth/secure/cron log lines, journalctl -o json lines\n"
	      "                    or *.hostevents.jsonl, each match printed as\n"
	      "                    FILE:LINE: what time host (TITLE, by AUTHOR)\n"
	      "\n"
	      "  -q, --quiet       check: print only rules that are not ok; test: no\n"
	      "                    summary line\n"
	      "  -h, --help        this help\n"
	      "\n"
	      "exit status: 0 ok (check: no rule is broken, unsupported ones included;\n"
	      "test: the rule ran, whether or not it matched), 1 error (unreadable file or\n"
	      "folder, no rule files found, test: the rule is unsupported), 2 usage,\n"
	      "3 a rule is broken\n",
	      out);
}

/* ---- check ------------------------------------------------------------------- */

/* Load every path into one set (so a correlation meets the rules it names
 * wherever they are), then print each rule's verdict in load order. */
static int cmd_check(int argc, char **argv, int quiet)
{
	struct mm_sigma_set set;
	struct mm_err err;
	int i, files = 0, io_error = 0, rc;
	mm_sigma_set_init(&set);
	for (i = 0; i < argc; i++) {
		mm_err_clear(&err);
		if ((rc = mm_sigma_set_add_path(&set, argv[i], &err))) {
			fprintf(stderr, "mamori rules: %s\n", err.msg[0] ? err.msg : mm_strerror(rc));
			io_error = 1;
			if (rc == MM_ENOMEM)
				break;
		}
	}
	if (mm_sigma_set_build(&set)) {
		fprintf(stderr, "mamori rules: out of memory\n");
		mm_sigma_set_free(&set);
		return MM_EXIT_ERROR;
	}
	for (i = 0; i < set.n; i++) {
		const struct mm_sigma_rule *r = set.r[i];
		files += !i || strcmp(r->file, set.r[i - 1]->file);
		if (r->status == MM_SIGMA_OK) {
			if (!quiet)
				printf("ok %s: %s\n", r->file, r->title ? r->title : "");
		} else
			printf("%s %s\n", mm_sigma_status_name(r->status), r->reason);
	}
	fprintf(stderr, "rules: %d files, %d rules: %d ok, %d unsupported, %d broken\n", files, set.n, set.nok,
		set.nunsupported, set.nbroken);
	rc = set.nbroken ? MM_EXIT_BADINPUT : io_error || !set.n ? MM_EXIT_ERROR : MM_EXIT_OK;
	mm_sigma_set_free(&set);
	return rc;
}

/* ---- test -------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t got = 0, cap = 1 << 16;
	if (!f)
		return NULL;
	b = mm_malloc(cap + 1);
	while (b) {
		size_t r = fread(b + got, 1, cap - got, f);
		got += r;
		if (got < cap)
			break;
		if (cap >= MAX_EVENTS_FILE) {
			mm_free(b);
			b = NULL;
			errno = EFBIG;
			break;
		}
		{
			char *nb = mm_realloc(b, cap * 2 + 1);
			if (!nb) {
				mm_free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (b && ferror(f)) {
		mm_free(b);
		b = NULL;
	}
	fclose(f);
	if (b) {
		b[got] = '\0';
		*n = got;
	}
	return b;
}

struct run {
	const struct mm_sigma_rule *r;
	struct mm_sigma_scratch s;
	struct mm_arena ct;
	struct mm_arena wrap;	/* records a wrapper held as text (lookup-events, Lake) */
	long events, matched, malformed;
	int quiet;
};

/* The Detection Rule License asks that views showing a rule's matches
 * name the rule's author: each match line carries the rule's title and
 * author. */
static void print_match(const struct mm_sigma_rule *r, const char *file, uint64_t line, const struct mm_event *ev)
{
	const struct mm_api *a = &ev->u.api;
	char when[32] = "";
	if (a->time_ms) {
		long long sec = a->time_ms / 1000;
		struct tm tmv;
		time_t tt = (time_t)sec;
		gmtime_r(&tt, &tmv);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tmv);
	}
	printf("%s:%llu: %.*s %s (%s, by %s)\n", file, (unsigned long long)line, (int)a->event_name.n,
	       a->event_name.p ? a->event_name.p : "", when, r->title ? r->title : "untitled",
	       r->author ? r->author : "unknown author");
}

static void one(struct run *R, const char *file, uint64_t line, const struct mm_json_val *obj)
{
	struct mm_event ev;
	struct mm_err e;
	int m;
	mm_arena_reset(&R->ct);
	memset(&ev, 0, sizeof(ev));
	if (mm_ct_parse_value(obj, &R->ct, &ev, &e)) {
		R->malformed++;
		if (!R->quiet)
			fprintf(stderr, "mamori rules: %s:%llu: %s\n", file, (unsigned long long)line, e.msg);
		return;
	}
	R->events++;
	m = mm_sigma_match(R->r, mm_str_make(obj->p, obj->n), &R->s);
	if (m == 1) {
		R->matched++;
		print_match(R->r, file, line, &ev);
	}
}

/* A Linux rule's events: one host event per line, each line read as
 * scan reads it (host-event JSON, journald JSON, else a syslog line);
 * a syslog line of any program is an event (kind "line" at least). */
static int test_host_file(struct run *R, const char *file, char *buf, size_t n)
{
	static const char *const whats[] = {"", "login_fail", "login_ok", "sudo", "su", "user_add",
					    "user_mod", "user_del", "passwd", "cron_cmd", "crontab",
					    "proc", "sock", "file", "account", "line"};
	struct mm_syslog_ctx hx;
	struct stat st;
	char inst[32];
	size_t i = 0;
	uint64_t line = 1;
	memset(&hx, 0, sizeof(hx));
	hx.anchor_ms = stat(file, &st) == 0 ? (int64_t)st.st_mtime * 1000 : (int64_t)time(NULL) * 1000;
	if (mm_syslog_instance_from_path(file, inst, sizeof(inst)))
		hx.instance_id = inst;
	while (i < n) {
		size_t j = i;
		struct mm_event ev;
		struct mm_err e;
		int rc;
		while (j < n && buf[j] != '\n')
			j++;
		if (j > i && buf[j - 1] == '\r')
			j--;
		mm_arena_reset(&R->ct);
		memset(&ev, 0, sizeof(ev));
		memset(&e, 0, sizeof(e));
		if (j == i)
			rc = MM_ESKIP;
		else if (mm_hostjson_looks_like(buf + i, j - i))
			rc = mm_hostjson_parse(buf + i, j - i, &R->ct, &ev, &e);
		else if (mm_journal_looks_like(buf + i, j - i))
			rc = mm_journal_parse(&hx, buf + i, j - i, &R->ct, &ev, &e);
		else
			rc = mm_syslog_parse(&hx, buf + i, j - i, &R->ct, &ev, &e);
		if (rc == 0 && ev.kind == MM_EV_HOST) {
			const struct mm_host *h = &ev.u.host;
			if (!ev.raw.n)
				ev.raw = mm_str_make(buf + i, j - i);
			R->events++;
			if (mm_sigma_match_host(R->r, &ev, &R->s) == 1) {
				char when[32] = "";
				time_t tt = (time_t)(h->time_ms / 1000);
				struct tm tmv;
				if (h->time_ms && gmtime_r(&tt, &tmv))
					strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tmv);
				R->matched++;
				printf("%s:%llu: %s %s %.*s (%s, by %s)\n", file, (unsigned long long)line,
				       (unsigned)h->what < MM_ARRAY_LEN(whats) ? whats[h->what] : "?", when,
				       (int)h->host.n, h->host.p ? h->host.p : "",
				       R->r->title ? R->r->title : "untitled",
				       R->r->author ? R->r->author : "unknown author");
			}
		} else if (rc != MM_ESKIP) {
			R->malformed++;
			if (!R->quiet)
				fprintf(stderr, "mamori rules: %s:%llu: %s\n", file, (unsigned long long)line,
					e.msg[0] ? e.msg : "not a host event");
		}
		while (j < n && buf[j] != '\n')
			j++;
		i = j + 1;
		line++;
	}
	mm_free(buf);
	return 0;
}

static int test_file(struct run *R, const char *file)
{
	size_t n = 0, i = 0;
	char *buf = slurp(file, &n);
	struct mm_ct_doc d;
	struct mm_err e;
	uint64_t line = 1;
	if (!buf) {
		fprintf(stderr, "mamori rules: %s: %s\n", file, strerror(errno));
		return -1;
	}
	if (R->r->src != MM_SIGMA_SRC_CLOUDTRAIL)
		return test_host_file(R, file, buf, n);
	if (mm_ct_doc_init(&d, buf, n, &e) == 0) {
		struct mm_json_val rec;
		uint64_t off;
		int rc;
		while ((rc = mm_ct_doc_next(&d, &rec, &line, &off, &e)) != 0) {
			if (rc == 1)
				one(R, file, line, &rec);
			else {
				R->malformed++;
				if (!R->quiet)
					fprintf(stderr, "mamori rules: %s:%llu: %s\n", file, (unsigned long long)line, e.msg);
				if (rc == MM_ETRUNC)
					break;
			}
		}
		mm_free(buf);
		return 0;
	}
	/* the other shapes scan reads: arrays, pretty events, lookup-events,
	 * EventBridge, Lake rows (the record's own JSON is ev.raw) */
	while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i < n && mm_ctw_detect(buf + i, n - i)) {
		struct mm_ctw w;
		struct mm_event wev;
		uint64_t off;
		int rc;
		mm_ctw_init(&w, buf, n);
		while ((rc = mm_ctw_next_event(&w, &R->wrap, &wev, &line, &off, &e)) != 0) {
			struct mm_json_val v;
			size_t used;
			if (rc == MM_ESKIP)
				continue;
			if (rc == 1 && mm_json_value(wev.raw.p, wev.raw.n, &v, &used) == 0) {
				one(R, file, line, &v);
				continue;
			}
			R->malformed++;
			if (!R->quiet)
				fprintf(stderr, "mamori rules: %s:%llu: %s\n", file, (unsigned long long)line,
					rc == 1 ? "not a JSON object" : e.msg);
			if (rc == MM_ETRUNC)
				break;
		}
		mm_free(buf);
		return 0;
	}
	i = 0;
	/* one event per line */
	while (i < n) {
		size_t j = i, used;
		struct mm_json_val v;
		while (j < n && buf[j] != '\n')
			j++;
		{
			size_t k = i;
			while (k < j && (buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\r'))
				k++;
			if (k < j) {
				/* as scan reads lines: an EventBridge event or a
				 * lookup-events item on the line is unwrapped */
				struct mm_event lev;
				int prc;
				mm_arena_reset(&R->wrap);
				memset(&lev, 0, sizeof(lev));
				prc = mm_ct_parse_line(buf + i, j - i, &R->wrap, &lev, &e);
				if (prc == MM_ESKIP) {
					/* not a CloudTrail record: nothing to test */
				} else if (prc == 0 && lev.raw.n &&
					   mm_json_value(lev.raw.p, lev.raw.n, &v, &used) == 0 &&
					   v.type == MM_JSON_OBJECT) {
					one(R, file, line, &v);
				} else if (mm_json_value(buf + i, j - i, &v, &used) == 0 &&
					   v.type == MM_JSON_OBJECT) {
					one(R, file, line, &v); /* says what is wrong with it */
				} else {
					R->malformed++;
					if (!R->quiet)
						fprintf(stderr, "mamori rules: %s:%llu: not a JSON object\n", file,
							(unsigned long long)line);
				}
			}
		}
		i = j + 1;
		line++;
	}
	mm_free(buf);
	return 0;
}

static int cmd_test(int argc, char **argv, int quiet)
{
	struct run R = {0};
	struct mm_sigma_rule *r;
	char *ctmem = NULL, *wrapmem = NULL;
	int i, rc = MM_EXIT_OK;
	r = mm_sigma_load_file(argv[0]);
	if (!r) {
		fprintf(stderr, "mamori rules: out of memory\n");
		return MM_EXIT_ERROR;
	}
	if (r->status == MM_SIGMA_OK && r->corr) {
		fprintf(stderr, "mamori rules: %s is a correlation rule: it runs over many events with the rules "
				"it names, in `mamori scan --rules`\n", argv[0]);
		mm_sigma_free(r);
		return MM_EXIT_ERROR;
	}
	if (r->status != MM_SIGMA_OK) {
		fprintf(stderr, "mamori rules: %s %s\n", mm_sigma_status_name(r->status), r->reason);
		rc = r->status == MM_SIGMA_BROKEN ? MM_EXIT_BADINPUT : MM_EXIT_ERROR;
		mm_sigma_free(r);
		return rc;
	}
	R.r = r;
	R.quiet = quiet;
	ctmem = mm_malloc(MM_CT_MAX_RECORD);
	wrapmem = mm_malloc(MM_CT_MAX_RECORD);
	if (!ctmem || !wrapmem || mm_sigma_scratch_init(&R.s, MM_CT_MAX_RECORD)) {
		fprintf(stderr, "mamori rules: out of memory\n");
		mm_free(ctmem);
		mm_free(wrapmem);
		mm_sigma_free(r);
		return MM_EXIT_ERROR;
	}
	mm_arena_init(&R.ct, ctmem, MM_CT_MAX_RECORD);
	mm_arena_init(&R.wrap, wrapmem, MM_CT_MAX_RECORD);
	for (i = 1; i < argc; i++)
		if (test_file(&R, argv[i]))
			rc = MM_EXIT_ERROR;
	if (!quiet)
		fprintf(stderr, "rules test: %s: %ld events, %ld matched, %ld malformed\n", r->title ? r->title : argv[0],
			R.events, R.matched, R.malformed);
	mm_sigma_scratch_free(&R.s);
	mm_free(ctmem);
	mm_free(wrapmem);
	mm_sigma_free(r);
	return rc;
}

int mm_cmd_rules(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *sub;
	int c, quiet = 0;
	if (argc < 2) {
		usage(stderr);
		return MM_EXIT_USAGE;
	}
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		usage(stdout);
		return MM_EXIT_OK;
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return MM_EXIT_OK;
		default: usage(stderr); return MM_EXIT_USAGE;
		}
	}
	argc -= 1 + optind;
	argv += 1 + optind;
	if (!strcmp(sub, "check")) {
		if (argc < 1) {
			fprintf(stderr, "mamori rules check: name a folder of Sigma rules (or rule files)\n");
			return MM_EXIT_USAGE;
		}
		return cmd_check(argc, argv, quiet);
	}
	if (!strcmp(sub, "test")) {
		if (argc < 2) {
			fprintf(stderr, "mamori rules test: name a rule file and at least one events file\n");
			return MM_EXIT_USAGE;
		}
		return cmd_test(argc, argv, quiet);
	}
	fprintf(stderr, "mamori rules: unknown subcommand '%s'; use check or test\n", sub);
	usage(stderr);
	return MM_EXIT_USAGE;
}
