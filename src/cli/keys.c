/* keys.c - `mamori keys create|list|delete`: the access keys `mamori
 * serve` accepts from the AWS CLI and SDKs (SigV4; src/serve/keys.h).
 *
 *   mamori keys create NAME [--db FILE] [--read-only]   prints AWS_ACCESS_KEY_ID=... and
 *                                         AWS_SECRET_ACCESS_KEY=..., nothing else
 *   mamori keys list [--db FILE] [--format table|json]
 *   mamori keys delete ID|NAME [--db FILE]
 *
 * create's stdout is exactly the two lines, so `eval "$(mamori keys
 * create NAME)"` or `>> env-file` work; what it has to say goes to stderr. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "serve/keys.h"
#include "store/store.h"

static const char create_usage[] =
	"usage: mamori keys create NAME [--db FILE] [--read-only]\n"
	"\n"
	"Create an access key for `mamori serve`'s API and print it as two lines,\n"
	"ready for `export` or eval:\n"
	"  AWS_ACCESS_KEY_ID=AKIA...\n"
	"  AWS_SECRET_ACCESS_KEY=...\n"
	"The secret is shown only this once; it is stored encrypted with the master\n"
	"key $MAMORI_MASTER_KEY (64 hex characters), else FILE.key beside the database\n"
	"(created mode 0600 with the first key). NAME: 1 to 64 of A-Z a-z 0-9 . _ @ + = , -\n"
	"\n"
	"  --read-only        the key may only read (List/Get findings, statistics, filters,\n"
	"                     sets); a write gets 403 AccessDeniedException\n"
	"  --db FILE          database (default $MAMORI_DB, else ./mamori.db; created\n"
	"                     if missing)\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 ok, 1 error (name taken, master key problem, database), 2 usage\n";

static const char list_usage[] =
	"usage: mamori keys list [--db FILE] [--format table|json]\n"
	"\n"
	"List the access keys: id, name, created, last used (UTC), status. Never the\n"
	"secrets.\n"
	"\n"
	"  --db FILE          database (default $MAMORI_DB, else ./mamori.db)\n"
	"  --format F         table (default) or json (one object a line)\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 ok, 1 error, 2 usage\n";

static const char delete_usage[] =
	"usage: mamori keys delete ID|NAME [--db FILE]\n"
	"\n"
	"Delete an access key, by its id (AKIA...) or its name. Requests signed with\n"
	"it are refused from then on.\n"
	"\n"
	"  --db FILE          database (default $MAMORI_DB, else ./mamori.db)\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 ok, 1 error (no such key, database), 2 usage\n";

static const char top_usage[] =
	"usage: mamori keys create NAME [--db FILE] [--read-only]\n"
	"       mamori keys list [--db FILE] [--format table|json]\n"
	"       mamori keys delete ID|NAME [--db FILE]\n"
	"\n"
	"Access keys for `mamori serve`: the AWS CLI and SDKs sign their requests with\n"
	"them (SigV4), e.g.\n"
	"  eval \"$(mamori keys create alice)\"; export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY\n"
	"  aws guardduty list-detectors --endpoint-url http://127.0.0.1:PORT --region us-east-1\n"
	"See `mamori keys COMMAND --help` and man mamori-keys.\n";

enum { OPT_DB = 0x100, OPT_FORMAT, OPT_RO };	/* not 1: getopt returns positional words as 1 */

static const struct option opts[] = {
	{"db", required_argument, NULL, OPT_DB},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"read-only", no_argument, NULL, OPT_RO},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int read_only;	/* create --read-only */

/* Options common to the three: --db, --format (list only), --read-only
 * (create only), --help.
 * Returns -1 to go on, else the exit code. Positional words in pos. */
static int parse(const char *sub, const char *usage, int argc, char **argv, const char **db,
		 const char **format, char **pos, int maxpos, int *npos)
{
	int c;

	optind = 1;
	opterr = 1;
	*npos = 0;
	/* '-' first: positional words come back as 1 in order, wherever they are */
	while ((c = getopt_long(argc, argv, "-h", opts, NULL)) != -1) {
		if (c == 1) {
			if (*npos >= maxpos) {
				fprintf(stderr, "mamori keys %s: unexpected argument '%s'; see `mamori "
						"keys %s --help`\n",
					sub, optarg, sub);
				return MM_EXIT_USAGE;
			}
			pos[(*npos)++] = optarg;
		} else if (c == OPT_DB) {
			*db = optarg;
		} else if (c == OPT_FORMAT && format) {
			*format = optarg;
		} else if (c == OPT_RO && !strcmp(sub, "create")) {
			read_only = 1;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return MM_EXIT_OK;
		} else {
			fprintf(stderr, "mamori keys %s: see `mamori keys %s --help`\n", sub, sub);
			return MM_EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {	/* after "--" */
		if (*npos >= maxpos) {
			fprintf(stderr, "mamori keys %s: unexpected argument '%s'\n", sub, argv[optind]);
			return MM_EXIT_USAGE;
		}
		pos[(*npos)++] = argv[optind];
	}
	return -1;
}

/* Open the keys of db (NULL: the default). must_exist: a missing file is
 * an error that says how to make one. 0 or the exit code. */
static int open_keys(const char *sub, const char *db, int must_exist, struct mm_keys **k)
{
	struct mm_err err;
	struct stat sb;

	if (!db)
		db = mm_store_default_path();
	if (must_exist && stat(db, &sb) != 0) {
		if (errno == ENOENT)
			fprintf(stderr,
				"mamori keys %s: no database at %s; create a key first with `mamori "
				"keys create NAME --db FILE` (or pass --db FILE, or set MAMORI_DB)\n",
				sub, db);
		else
			fprintf(stderr, "mamori keys %s: cannot open %s: %s\n", sub, db,
				strerror(errno));
		return MM_EXIT_ERROR;
	}
	mm_err_clear(&err);
	if (mm_keys_open(k, db, &err)) {
		fprintf(stderr, "mamori keys %s: %s\n", sub, err.msg);
		return MM_EXIT_ERROR;
	}
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	struct mm_keys *k = NULL;
	struct mm_err err;
	const char *db = NULL;
	char *pos[1], id[MM_KEYS_ID_LEN + 1], secret[MM_KEYS_SECRET_LEN + 1];
	int npos, rc;

	if ((rc = parse("create", create_usage, argc, argv, &db, NULL, pos, 1, &npos)) >= 0)
		return rc;
	if (npos != 1) {
		fprintf(stderr, "mamori keys create: name the key (`mamori keys create NAME`)\n");
		return MM_EXIT_USAGE;
	}
	if ((rc = open_keys("create", db, 0, &k)))
		return rc;
	mm_err_clear(&err);
	if (mm_keys_create(k, pos[0], id, secret, &err)) {
		fprintf(stderr, "mamori keys create: %s\n", err.msg);
		mm_keys_close(k);
		return MM_EXIT_ERROR;
	}
	/* before the secret is shown: nobody can use the key in between */
	if (read_only && mm_keys_set_read_only(k, id, 1, &err) != 1) {
		fprintf(stderr, "mamori keys create: cannot make the key read-only (%s); deleting it\n",
			err.msg[0] ? err.msg : "no such key");
		mm_keys_delete(k, id, &err);
		mm_keys_close(k);
		memset(secret, 0, sizeof(secret));
		return MM_EXIT_ERROR;
	}
	mm_keys_close(k);
	printf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", id, secret);
	memset(secret, 0, sizeof(secret));
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mamori keys create: cannot write the key; delete it (`mamori keys "
				"delete %s`) and create another\n",
			id);
		return MM_EXIT_ERROR;
	}
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "mamori keys create: key '%s' created; the secret is not shown "
				"again\n",
			pos[0]);
	return MM_EXIT_OK;
}

static void fmt_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0 || !gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, cap, "%s", ms <= 0 ? "never" : "?");
}

struct list_ctx {
	int json;
	int n;
};

static int print_key(void *pctx, const struct mm_key_info *ki)
{
	struct list_ctx *l = pctx;
	char created[32], used[32];

	fmt_time(ki->created_ms, created, sizeof(created));
	fmt_time(ki->last_used_ms, used, sizeof(used));
	/* names are [A-Za-z0-9._@+=,-]: nothing to escape */
	if (l->json) {
		printf("{\"id\":\"%s\",\"name\":\"%s\",\"created\":\"%s\",\"lastUsed\":", ki->id,
		       ki->name, created);
		if (ki->last_used_ms > 0)
			printf("\"%s\"", used);
		else
			printf("null");
		printf(",\"active\":%s,\"readOnly\":%s}\n", ki->active ? "true" : "false",
		       ki->read_only ? "true" : "false");
	} else {
		if (l->n == 0)
			printf("%-20s  %-24s  %-20s  %-20s  %s\n", "ID", "NAME", "CREATED", "LAST USED",
			       "STATUS");
		printf("%-20s  %-24s  %-20s  %-20s  %s%s\n", ki->id, ki->name, created, used,
		       ki->active ? "active" : "inactive", ki->read_only ? " read-only" : "");
	}
	l->n++;
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct mm_keys *k = NULL;
	struct mm_err err;
	struct list_ctx l = {0, 0};
	const char *db = NULL, *format = "table";
	char *pos[1];
	int npos, rc;

	if ((rc = parse("list", list_usage, argc, argv, &db, &format, pos, 0, &npos)) >= 0)
		return rc;
	if (!strcmp(format, "json"))
		l.json = 1;
	else if (strcmp(format, "table")) {
		fprintf(stderr, "mamori keys list: --format is table or json\n");
		return MM_EXIT_USAGE;
	}
	if ((rc = open_keys("list", db, 1, &k)))
		return rc;
	mm_err_clear(&err);
	if (mm_keys_check(k, &err))
		fprintf(stderr, "mamori keys list: warning: %s\n", err.msg);
	mm_err_clear(&err);
	rc = mm_keys_list(k, print_key, &l, &err);
	mm_keys_close(k);
	if (rc) {
		fprintf(stderr, "mamori keys list: %s\n", err.msg);
		return MM_EXIT_ERROR;
	}
	if (l.n == 0 && !l.json)
		fprintf(stderr, "mamori keys list: no keys; create one with `mamori keys create "
				"NAME`\n");
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mamori keys list: cannot write output\n");
		return MM_EXIT_ERROR;
	}
	return MM_EXIT_OK;
}

static int cmd_delete(int argc, char **argv)
{
	struct mm_keys *k = NULL;
	struct mm_err err;
	const char *db = NULL;
	char *pos[1];
	int npos, rc;

	if ((rc = parse("delete", delete_usage, argc, argv, &db, NULL, pos, 1, &npos)) >= 0)
		return rc;
	if (npos != 1) {
		fprintf(stderr, "mamori keys delete: name the key's id or name (`mamori keys list` "
				"shows them)\n");
		return MM_EXIT_USAGE;
	}
	if ((rc = open_keys("delete", db, 1, &k)))
		return rc;
	mm_err_clear(&err);
	rc = mm_keys_delete(k, pos[0], &err);
	mm_keys_close(k);
	if (rc) {
		fprintf(stderr, "mamori keys delete: %s%s\n", err.msg,
			rc == MM_ENOTFOUND ? "; `mamori keys list` shows the keys" : "");
		return MM_EXIT_ERROR;
	}
	return MM_EXIT_OK;
}

int mm_cmd_keys(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub) {
		fputs(top_usage, stderr);
		return MM_EXIT_USAGE;
	}
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
		fputs(top_usage, stdout);
		return MM_EXIT_OK;
	}
	if (!strcmp(sub, "create"))
		return cmd_create(argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(sub, "delete"))
		return cmd_delete(argc - 1, argv + 1);
	fprintf(stderr, "mamori keys: unknown subcommand '%s'; use create, list or delete\n", sub);
	fputs(top_usage, stderr);
	return MM_EXIT_USAGE;
}
