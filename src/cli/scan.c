/* scan.c - `mamori scan`: read AWS logs, find threats, store findings. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/pipeopts.h"
#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "finding/output.h"
#include "scan/scan.h"
#include "sigma/sigma.h"
#include "store/store.h"

static void usage(FILE *out)
{
	fputs("usage: mamori scan [options] PATH...\n"
	      "\n"
	      "Read AWS logs as AWS delivers them (VPC Flow Logs, Route 53 Resolver query logs,\n"
	      "CloudTrail; files, folders in the S3 layout, .gz, or - for stdin), match them\n"
	      "against threat lists and store GuardDuty-format findings in SQLite. Files already\n"
	      "scanned are skipped; files that grew are read from where the last scan stopped.\n"
	      "\n"
	      "options:\n",
	      out);
	fputs(mm_cli_pipe_help, out);
	fputs("  --options-file FILE       read more options from FILE, one word a line; relative\n"
	      "                            paths in it are relative to FILE's folder\n"
	      "  --flush-every N           commit findings, state and progress after every N\n"
	      "                            files (default: once, at the end); same result\n"
	      "  --format table|json|guardduty|eventbridge|none\n"
	      "                            how to print the findings this scan touched (default:\n"
	      "                            table on a terminal, json otherwise; none: store only)\n"
	      "  --rescan                  forget what was scanned before (counts again!)\n"
	      "  --strict                  exit 3 if any record was malformed or any folder\n"
	      "                            could not be read\n"
	      "  --fail-on SEVERITY        exit 4 if a finding at or above SEVERITY was touched\n"
	      "  -q, --quiet               no progress, no summary, no warnings\n"
	      "  -v, --verbose             also print phase timings\n"
	      "  --no-progress             no progress line (it only shows on a terminal anyway)\n"
	      "  -h, --help                this help\n"
	      "\n"
	      "exit status: 0 ok, 1 error, 2 usage, a bad --config file or a broken --rules\n"
	      "rule, 3 malformed records (--strict), 4 findings at/above --fail-on, 5 the\n"
	      "database is in use by another run\n",
	      out);
}

static int print_row(void *ctx, const struct mm_finding_row *row)
{
	return mm_printer_row(ctx, row);
}

static void summary(const struct mm_scan_result *r);

struct scan_done_ctx {
	int quiet, print;
	enum mm_outfmt fmt;
	const char *db;
	int rc;		/* MM_EXIT_OK or MM_EXIT_ERROR */
};

/* After the last flush (mm_scan_opts.done): the summary, then what this
 * scan stored or updated, read back from the store after the last commit
 * (sorted like `findings list`). It runs before the pipeline closes, so
 * the flush's WAL checkpoint proceeds on its own thread meanwhile. */
static void scan_done(void *ctx, const struct mm_scan_result *r)
{
	struct scan_done_ctx *dc = ctx;
	struct mm_store *st = NULL;
	struct mm_finding_filter flt;
	struct mm_printer pr;
	struct mm_err err;

	if (!dc->quiet)
		summary(r);
	if (!dc->print)
		return;
	mm_err_clear(&err);
	memset(&flt, 0, sizeof(flt));
	flt.updated_since_ms = r->started_ms;
	flt.include_archived = 0;
	if (mm_store_open(&st, dc->db, &err)) {
		fprintf(stderr, "mamori scan: %s\n", err.msg);
		dc->rc = MM_EXIT_ERROR;
		return;
	}
	mm_printer_begin(&pr, stdout, dc->fmt, dc->fmt == MM_OUT_TABLE && isatty(1));
	if (mm_store_findings(st, &flt, print_row, &pr, &err) < 0) {
		fprintf(stderr, "mamori scan: %s\n", err.msg);
		dc->rc = MM_EXIT_ERROR;
	}
	mm_printer_end(&pr);
	mm_store_close(st);
}

static void human(uint64_t v, char *buf, size_t cap)
{
	if (v >= 10000000)
		snprintf(buf, cap, "%.1fM", (double)v / 1e6);
	else if (v >= 10000)
		snprintf(buf, cap, "%.1fk", (double)v / 1e3);
	else
		snprintf(buf, cap, "%llu", (unsigned long long)v);
}

static void summary(const struct mm_scan_result *r)
{
	char a[32], b[32], c[32], d[32];
	uint64_t recs = r->records_flow + r->records_dns + r->records_api;
	human(recs, a, sizeof(a));
	human(r->records_flow, b, sizeof(b));
	human(r->records_dns, c, sizeof(c));
	human(r->records_api, d, sizeof(d));
	fprintf(stderr, "mamori: scanned %llu files, %s records (flow %s, dns %s, cloudtrail %s) "
			"in %.2f s (%.2fM records/s, %.0f MB/s read)\n",
		(unsigned long long)r->files, a, b, c, d, r->seconds,
		r->seconds > 0 ? (double)recs / 1e6 / r->seconds : 0.0,
		r->seconds > 0 ? (double)r->bytes_in / 1e6 / r->seconds : 0.0);
	if (r->records_host)	/* host logs: events (every syslog line is one) */
		fprintf(stderr, "mamori: %llu host events, %llu lines skipped\n",
			(unsigned long long)r->records_host, (unsigned long long)r->records_skipped);
	if (r->files_done_before || r->files_unknown || r->files_digest || r->files_empty ||
	    r->files_failed)
		fprintf(stderr,
			"mamori: skipped %llu already scanned, %llu unknown format, %llu digest, "
			"%llu empty, %llu unreadable\n",
			(unsigned long long)r->files_done_before, (unsigned long long)r->files_unknown,
			(unsigned long long)r->files_digest, (unsigned long long)r->files_empty,
			(unsigned long long)r->files_failed);
	if (r->bad_records)
		fprintf(stderr, "mamori: %llu malformed records skipped (see file:line messages above)\n",
			(unsigned long long)r->bad_records);
	if (r->findings_unattributed)
		fprintf(stderr,
			"mamori: %llu findings on interfaces or addresses of no known instance (NAT "
			"gateways, load balancers, endpoints) held, not reported: they move onto "
			"their instance when a later file names it; --report-unknown-enis reports "
			"them now\n",
			(unsigned long long)r->findings_unattributed);
	if (r->inputs_unreadable)
		fprintf(stderr, "mamori: %llu folders could not be read (see the warnings above); "
				"--strict fails on them\n",
			(unsigned long long)r->inputs_unreadable);
	if (r->partial_lines)
		fprintf(stderr,
			"mamori: %llu files end in a line still being written; it is left for the "
			"next scan\n",
			(unsigned long long)r->partial_lines);
	if (r->files_moved)
		fprintf(stderr, "mamori: %llu files known by content under another name (renamed or "
				"moved): not counted again\n",
			(unsigned long long)r->files_moved);
	if (r->findings_attributed_late)
		fprintf(stderr, "mamori: %llu findings held earlier now name their instance\n",
			(unsigned long long)r->findings_attributed_late);
	if (r->findings_dropped)
		fprintf(stderr, "mamori: warning: %llu findings dropped: finding table full\n",
			(unsigned long long)r->findings_dropped);
	fprintf(stderr, "mamori: findings: %llu new, %llu updated\n",
		(unsigned long long)r->findings_new, (unsigned long long)r->findings_updated);
}

enum {
	OPT_FORMAT = 1000, OPT_RESCAN, OPT_STRICT, OPT_FAILON, OPT_NOPROGRESS, OPT_OPTFILE,
	OPT_FLUSH_EVERY
};

int mm_cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
		MM_CLI_PIPE_LONGOPTS,
		{"format", required_argument, NULL, OPT_FORMAT},
		{"rescan", no_argument, NULL, OPT_RESCAN},
		{"strict", no_argument, NULL, OPT_STRICT},
		{"fail-on", required_argument, NULL, OPT_FAILON},
		{"no-progress", no_argument, NULL, OPT_NOPROGRESS},
		{"options-file", required_argument, NULL, OPT_OPTFILE},
		{"flush-every", required_argument, NULL, OPT_FLUSH_EVERY},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mm_scan_opts o;
	struct scan_done_ctx dc;
	struct mm_cli_pipe cp;
	struct mm_scan_result r;
	struct mm_err err;
	enum mm_outfmt fmt = isatty(1) ? MM_OUT_TABLE : MM_OUT_JSON;
	int c, strict = 0, quiet = 0, noprogress = 0, rc = MM_EXIT_OK, print = 1;
	double fail_on = 0;
	struct mm_cli_args a;
	char **args = NULL;
	int nargs = 0;

	memset(&o, 0, sizeof(o));
	memset(&a, 0, sizeof(a));
	mm_cli_pipe_init(&cp);
	mm_err_clear(&err);
	/* the words of every --options-file first, then the command line's,
	 * so the command line wins; paths in a file are relative to it */
	if ((c = mm_cli_splice_options(argc, argv, &a, &err))) {
		fprintf(stderr, "mamori scan: %s\n", err.msg[0] ? err.msg : mm_strerror(c));
		rc = c == MM_EIO || c == MM_ENOMEM ? MM_EXIT_ERROR : MM_EXIT_USAGE;
		goto out;
	}
	nargs = a.argc;
	args = a.argv;
	optind = 1;
	while ((c = getopt_long(nargs, args, "qvh", longopts, NULL)) != -1) {
		int taken = mm_cli_pipe_opt("scan", &cp, c, optarg);
		if (taken < 0) {
			rc = -taken;
			goto out;
		}
		if (taken)
			continue;
		switch (c) {
		case OPT_FORMAT:
			if (!strcmp(optarg, "none")) {
				print = 0; /* store only (cron jobs, benchmarks) */
				break;
			}
			print = 1;
			if (mm_outfmt_parse(optarg, &fmt)) {
				fprintf(stderr, "mamori scan: --format takes %s or none\n",
					mm_outfmt_names());
				rc = MM_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_RESCAN:
			cp.p.rescan = 1;
			break;
		case OPT_STRICT:
			strict = 1;
			break;
		case OPT_FAILON:
			if (mm_cli_parse_severity(optarg, &fail_on)) {
				fprintf(stderr, "mamori scan: --fail-on takes high, medium, low or a number\n");
				rc = MM_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_NOPROGRESS:
			noprogress = 1;
			break;
		case OPT_OPTFILE:
			break; /* spliced in above */
		case OPT_FLUSH_EVERY: {
			char *end;
			long long v = strtoll(optarg, &end, 10);
			if (*end || v < 1 || v > 100000000) {
				fprintf(stderr, "mamori scan: --flush-every takes a whole number from 1\n");
				rc = MM_EXIT_USAGE;
				goto out;
			}
			o.flush_every = (size_t)v;
			break;
		}
		case 'q':
			quiet = 1;
			break;
		case 'v':
			mm_log_set_level(MM_LOG_VERBOSE);
			break;
		case 'h':
			usage(stdout);
			goto out;
		default:
			fprintf(stderr, "Try 'mamori scan --help'.\n");
			rc = MM_EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= nargs) {
		fprintf(stderr, "mamori scan: no input; give files or folders (or - for stdin).\n"
				"Try 'mamori scan --help'.\n");
		rc = MM_EXIT_USAGE;
		goto out;
	}
	/* glibc's tunables for this input (huge pages or not): a restart,
	 * before anything is loaded */
	mm_mem_scan_restart((const char *const *)(args + optind), (size_t)(nargs - optind),
			    cp.p.source == MM_SRC_CLOUDTRAIL ? MM_MEM_SRC_OTHER
			    : cp.p.source == MM_SRC_AUTO     ? MM_MEM_SRC_AUTO
							     : MM_MEM_SRC_FLOW);
	if ((rc = mm_cli_pipe_ready("scan", &cp, quiet)))
		goto out;
	o.p = cp.p;
	o.paths = (const char *const *)(args + optind);
	o.npaths = nargs - optind;
	o.p.progress = !quiet && !noprogress && isatty(2);
	if (quiet)
		mm_log_set_level(MM_LOG_QUIET);

	dc.quiet = quiet;
	dc.print = print;
	dc.fmt = fmt;
	dc.db = o.p.db_path ? o.p.db_path : mm_store_default_path();
	dc.rc = MM_EXIT_OK;
	o.done = scan_done;
	o.done_ctx = &dc;
	if (mm_scan_run(&o, &r, &err)) {
		fprintf(stderr, "mamori scan: %s\n", err.msg[0] ? err.msg : mm_strerror(err.code));
		rc = err.code == MM_EBUSY ? MM_EXIT_BUSY : MM_EXIT_ERROR;
		goto out;
	}
	rc = dc.rc;
	if (rc == MM_EXIT_OK && fail_on > 0 && r.max_severity >= fail_on)
		rc = MM_EXIT_FINDINGS;
	if (rc == MM_EXIT_OK && strict && (r.bad_records || r.inputs_unreadable))
		rc = MM_EXIT_BADINPUT;
out:
	/* optarg pointed into these words until now */
	mm_cli_args_free(&a);
	mm_cli_pipe_free(&cp);
	return rc;
}
