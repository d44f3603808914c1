/* findings.c - `mamori findings list|show`: read the findings store.
 *
 *   mamori findings list [--db FILE] [--type T] [--severity S]
 *       [--resource R] [--since WHEN] [--archived] [--limit N]
 *       [--format table|json|guardduty|eventbridge]
 *   mamori findings show ID [--db FILE] [--format json|table|eventbridge]
 *
 * Read-only in spirit: a missing database is an error that points at
 * `mamori scan`, never silently created empty (an empty list would look
 * like "no threats" when really nothing was scanned). A user who may not
 * write the file (an analyst reading the scanner's database) gets the
 * read-only open, which never migrates and needs no write access. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/mtime.h"
#include "finding/output.h"
#include "store/store.h"

#define LIMIT_MAX 100000000L

static const char list_usage[] =
	"usage: mamori findings list [options]\n"
	"\n"
	"List stored findings, newest activity (eventLastSeen) first.\n"
	"\n"
	"  --db FILE          findings database (default $MAMORI_DB, else ./mamori.db)\n"
	"  --type T           finding type, exact or a prefix ending in '*' (\"Recon:*\")\n"
	"  --severity S       minimum severity: high, medium, low or a number (0-10)\n"
	"  --resource R       instance id, ENI or access key id\n"
	"  --since WHEN       activity since WHEN: 2024-01-02, 2024-01-02T03:04:05Z, 24h, 7d\n"
	"  --archived         include archived findings\n"
	"  --limit N          at most N findings\n"
	"  --format F         table, json (one GuardDuty finding a line), guardduty\n"
	"                     ({\"findings\":[...]}) or eventbridge (one EventBridge\n"
	"                     \"GuardDuty Finding\" event a line); default table on a\n"
	"                     terminal, else json\n"
	"  -h, --help         this help\n";

static const char show_usage[] =
	"usage: mamori findings show ID [--db FILE] [--format json|table|eventbridge]\n"
	"\n"
	"Show one finding. ID is the full id or a unique prefix of at least 6 characters.\n"
	"\n"
	"  --db FILE          findings database (default $MAMORI_DB, else ./mamori.db)\n"
	"  --format F         json (the stored GuardDuty JSON, one line), table (a summary\n"
	"                     with the evidence records as file:line) or eventbridge (the\n"
	"                     finding as an EventBridge event, one line); default table on\n"
	"                     a terminal, else json\n"
	"  -h, --help         this help\n";

static const char top_usage[] =
	"usage: mamori findings list [options]\n"
	"       mamori findings show ID [options]\n"
	"\n"
	"Read the findings that `mamori scan` stored. See `mamori findings list --help`\n"
	"and `mamori findings show --help`.\n";

enum { OPT_DB = 1, OPT_TYPE, OPT_SEV, OPT_RES, OPT_SINCE, OPT_ARCH, OPT_LIMIT, OPT_FORMAT };

static const struct option list_opts[] = {
	{"db", required_argument, NULL, OPT_DB},
	{"type", required_argument, NULL, OPT_TYPE},
	{"severity", required_argument, NULL, OPT_SEV},
	{"resource", required_argument, NULL, OPT_RES},
	{"since", required_argument, NULL, OPT_SINCE},
	{"archived", no_argument, NULL, OPT_ARCH},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option show_opts[] = {
	{"db", required_argument, NULL, OPT_DB},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int usage_error(const char *sub, const char *what)
{
	fprintf(stderr, "mamori findings %s: %s; see `mamori findings %s --help`\n", sub, what,
		sub);
	return MM_EXIT_USAGE;
}

/* The default output format and colour follow stdout: people get a
 * table, pipes get JSON Lines. NO_COLOR (no-color.org) turns colour off. */
static void default_format(enum mm_outfmt *fmt, int *color, int have_fmt)
{
	int tty = isatty(STDOUT_FILENO);
	const char *term = getenv("TERM");

	if (!have_fmt)
		*fmt = tty ? MM_OUT_TABLE : MM_OUT_JSON;
	*color = tty && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
}

/* Open an existing database (path NULL: the default one); 0 or an exit
 * code (message printed). Read-write when the user may write it (so an
 * old schema is upgraded as by any open), else read-only. */
static int open_existing(const char *sub, const char *path, struct mm_store **st)
{
	struct mm_err err;
	struct stat sb;

	if (!path)
		path = mm_store_default_path();
	mm_err_clear(&err);
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			fprintf(stderr,
				"mamori findings %s: no database at %s; run `mamori scan` first "
				"(or pass --db FILE, or set MAMORI_DB)\n",
				sub, path);
		else
			fprintf(stderr, "mamori findings %s: cannot open %s: %s\n", sub, path,
				strerror(errno));
		return MM_EXIT_ERROR;
	}
	if ((access(path, W_OK) == 0 ? mm_store_open : mm_store_open_ro)(st, path, &err)) {
		fprintf(stderr, "mamori findings %s: %s\n", sub, err.msg);
		return MM_EXIT_ERROR;
	}
	return 0;
}

/* A store read that failed with c (MM_EIO: our output would not take
 * it); prints why and returns the exit code. */
static int read_failed(const char *sub, int c, const struct mm_err *err)
{
	if (c == MM_EIO)
		fprintf(stderr, "mamori findings %s: cannot write output\n", sub);
	else
		fprintf(stderr, "mamori findings %s: %s\n", sub,
			err->msg[0] ? err->msg : mm_strerror(c));
	return MM_EXIT_ERROR;
}

static int print_cb(void *ctx, const struct mm_finding_row *row)
{
	return mm_printer_row(ctx, row);
}

static int cmd_list(int argc, char **argv)
{
	struct mm_finding_filter flt;
	struct mm_printer pr;
	struct mm_store *st = NULL;
	struct mm_err err;
	enum mm_outfmt fmt = MM_OUT_JSON;
	const char *db = NULL;
	int c, have_fmt = 0, color = 0, rc = MM_EXIT_OK;
	long long ms;

	memset(&flt, 0, sizeof(flt));
	mm_err_clear(&err);
	optind = 0;	/* glibc: full re-initialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", list_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(list_usage, stdout);
			return MM_EXIT_OK;
		case OPT_DB:
			db = optarg;
			break;
		case OPT_TYPE:
			flt.type = optarg;
			break;
		case OPT_SEV:
			if (mm_cli_parse_severity(optarg, &flt.min_severity))
				return usage_error("list", "--severity takes high, medium, low or a number 0-10");
			break;
		case OPT_RES:
			flt.resource = optarg;
			break;
		case OPT_SINCE:
			if (mm_cli_parse_since(optarg, &ms))
				return usage_error("list", "--since takes a date (2024-01-02), a time "
							   "(2024-01-02T03:04:05Z) or an age (24h, 7d)");
			flt.since_ms = ms;
			break;
		case OPT_ARCH:
			flt.include_archived = 1;
			break;
		case OPT_LIMIT: {
			char *end;
			errno = 0;
			flt.limit = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || flt.limit < 1 || flt.limit > LIMIT_MAX)
				return usage_error("list", "--limit takes a positive number");
			break;
		}
		case OPT_FORMAT:
			if (mm_outfmt_parse(optarg, &fmt)) {
				char msg[160];
				snprintf(msg, sizeof(msg), "--format takes %s", mm_outfmt_names());
				return usage_error("list", msg);
			}
			have_fmt = 1;
			break;
		default:
			return usage_error("list", "unknown option or missing value");
		}
	}
	if (optind < argc)
		return usage_error("list", "unexpected argument");
	default_format(&fmt, &color, have_fmt);
	if ((rc = open_existing("list", db, &st)))
		return rc;
	mm_printer_begin(&pr, stdout, fmt, color);
	c = mm_store_findings(st, &flt, print_cb, &pr, &err);
	mm_printer_end(&pr);
	if (c)
		rc = read_failed("list", c, &err);
	mm_store_close(st);
	return rc;
}

/* ---- show ---- */

struct show_ctx {
	enum mm_outfmt fmt;
	int color;
};

/* One member of obj at a dotted path as unescaped text, "" if absent. */
static struct mm_str jstr(const struct mm_json_val *obj, const char *path, struct mm_arena *ar)
{
	struct mm_json_val v;
	struct mm_str s = MM_STR_NULL;

	if (mm_json_path(obj, path, &v) == 1 && mm_json_str(&v, ar, &s) == 0)
		return s;
	return (struct mm_str){"", 0};
}

static void show_line(const char *label, struct mm_str s)
{
	if (s.n)
		printf("%-12s %.*s\n", label, (int)s.n, s.p);
}

static int show_table(const struct mm_finding_row *row)
{
	static char mem[16384];
	struct mm_arena ar;
	struct mm_json_val root = {.type = MM_JSON_INVALID}, evs, el, v;
	struct mm_json_iter it;
	struct mm_str key;
	char t[MM_TIME_STRLEN];
	size_t used;
	int first = 1;

	mm_arena_init(&ar, mem, sizeof(mem));
	printf("%-12s %s\n", "ID", row->id);
	printf("%-12s %s\n", "Type", row->type);
	printf("%-12s %s (%g)\n", "Severity", mm_severity_label(row->severity), row->severity);
	printf("%-12s %s\n", "Resource", row->resource);
	if (mm_json_value(row->json, strlen(row->json), &root, &used) == 0 &&
	    root.type == MM_JSON_OBJECT) {
		show_line("Title", jstr(&root, "title", &ar));
		show_line("Description", jstr(&root, "description", &ar));
		show_line("Account", jstr(&root, "accountId", &ar));
		show_line("Region", jstr(&root, "region", &ar));
		show_line("Action", jstr(&root, "service.action.actionType", &ar));
		show_line("Role", jstr(&root, "service.resourceRole", &ar));
		show_line("Threat list",
			  jstr(&root, "service.additionalInfo.threatListName", &ar));
	}
	printf("%-12s %llu\n", "Count", (unsigned long long)row->count);
	printf("%-12s %s\n", "First seen", mm_time_format_iso(row->first_seen_ms, t));
	printf("%-12s %s\n", "Last seen", mm_time_format_iso(row->last_seen_ms, t));
	printf("%-12s %s\n", "Updated", mm_time_format_iso(row->updated_ms, t));
	printf("%-12s %s\n", "Archived", row->archived ? "yes" : "no");
	/* the evidence sample: service.additionalInfo.evidence; findings
	 * stored by earlier versions have it in service.mamoriEvidence */
	if (root.type == MM_JSON_OBJECT &&
	    (mm_json_path(&root, "service.additionalInfo.evidence", &evs) == 1 ||
	     mm_json_path(&root, "service.mamoriEvidence", &evs) == 1) &&
	    evs.type == MM_JSON_ARRAY && mm_json_iter_init(&it, &evs) == 0) {
		while (mm_json_iter_next(&it, &key, &el) == 1) {
			struct mm_str file = MM_STR_NULL;
			int64_t line = 0;
			if (el.type != MM_JSON_OBJECT)
				continue;
			if (mm_json_get(&el, "file", &v) == 1)
				mm_json_str(&v, &ar, &file);
			if (mm_json_get(&el, "line", &v) == 1)
				mm_json_int(&v, &line);
			printf("%-12s %.*s:%lld\n", first ? "Evidence" : "", (int)file.n,
			       file.p ? file.p : "", (long long)line);
			first = 0;
		}
	}
	return ferror(stdout) ? MM_EIO : 0;
}

static int show_cb(void *vctx, const struct mm_finding_row *row)
{
	struct show_ctx *ctx = vctx;
	struct mm_printer pr;
	int rc;

	if (ctx->fmt == MM_OUT_TABLE)
		return show_table(row);
	mm_printer_begin(&pr, stdout, ctx->fmt, ctx->color);
	rc = mm_printer_row(&pr, row);
	mm_printer_end(&pr);
	return rc;
}

static int cmd_show(int argc, char **argv)
{
	struct show_ctx ctx = {MM_OUT_JSON, 0};
	struct mm_store *st = NULL;
	struct mm_err err;
	const char *db = NULL, *id;
	int c, have_fmt = 0, rc;

	mm_err_clear(&err);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", show_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(show_usage, stdout);
			return MM_EXIT_OK;
		case OPT_DB:
			db = optarg;
			break;
		case OPT_FORMAT:
			if (mm_outfmt_parse(optarg, &ctx.fmt)) {
				char msg[160];
				snprintf(msg, sizeof(msg), "--format takes %s", mm_outfmt_names());
				return usage_error("show", msg);
			}
			have_fmt = 1;
			break;
		default:
			return usage_error("show", "unknown option or missing value");
		}
	}
	if (optind >= argc)
		return usage_error("show", "which finding? give its ID");
	if (optind + 1 < argc)
		return usage_error("show", "give one finding ID");
	id = argv[optind];
	default_format(&ctx.fmt, &ctx.color, have_fmt);
	if ((rc = open_existing("show", db, &st)))
		return rc;
	c = mm_store_finding_by_id(st, id, show_cb, &ctx, &err);
	if (c == 1) {
		rc = MM_EXIT_OK;
	} else if (c == 0) {
		fprintf(stderr, "mamori findings show: no finding %s; try `mamori findings list`\n",
			id);
		rc = MM_EXIT_ERROR;
	} else {
		rc = read_failed("show", c, &err);
	}
	mm_store_close(st);
	return rc;
}

int mm_cmd_findings(int argc, char **argv)
{
	if (argc < 2) {
		fputs(top_usage, stderr);
		return MM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(top_usage, stdout);
		return MM_EXIT_OK;
	}
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	fprintf(stderr, "mamori findings: unknown command '%s'; use list or show\n", argv[1]);
	return MM_EXIT_USAGE;
}
