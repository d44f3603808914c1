/* users.c - `mamori users add|list|delete`: who may sign in to the web
 * console `mamori serve` serves (src/serve/users.h).
 *
 *   mamori users add NAME [--db FILE] [--password-stdin] [--role ROLE]
 *   mamori users list [--db FILE] [--format table|json]
 *   mamori users set-role NAME ROLE [--db FILE]
 *   mamori users delete NAME [--db FILE]
 *
 * ROLE: admin, analyst or viewer (serve/roles.h); the first user is admin,
 * later ones analyst unless --role says.
 *
 * add reads the password from the terminal without echo, twice, or one
 * line from stdin with --password-stdin (scripts, tests). */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mtime.h"
#include "serve/roles.h"
#include "serve/users.h"
#include "store/store.h"

static const char add_usage[] =
	"usage: mamori users add NAME [--db FILE] [--password-stdin] [--role ROLE]\n"
	"\n"
	"Add a user of the web console `mamori serve` serves. The password is read\n"
	"from the terminal without echo, twice; with --password-stdin, as one line\n"
	"from standard input. 8 to 1024 bytes. It is stored hashed (PBKDF2-HMAC-SHA256,\n"
	"210000 iterations, a random salt), never in clear.\n"
	"NAME: 1 to 64 of A-Z a-z 0-9 . _ @ + -\n"
	"\n"
	"  --db FILE          database (default $MAMORI_DB, else ./mamori.db; created\n"
	"                     if missing)\n"
	"  --password-stdin   read the password from standard input (one line)\n"
	"  --role ROLE        viewer (reads only), analyst (also archives, gives\n"
	"                     feedback, manages filters, retries dead letters) or admin\n"
	"                     (also threat intel sets and IP sets); default: admin for\n"
	"                     the first user, analyst for the others\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 ok, 1 error (name taken, passwords differ, database), 2 usage\n";

static const char list_usage[] =
	"usage: mamori users list [--db FILE] [--format table|json]\n"
	"\n"
	"List the console's users: name, role, created, last sign-in (UTC), failed\n"
	"sign-ins in a row, live sessions.\n"
	"\n"
	"  --db FILE          database (default $MAMORI_DB, else ./mamori.db)\n"
	"  --format F         table (default) or json (one object a line)\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 ok, 1 error, 2 usage\n";

static const char delete_usage[] =
	"usage: mamori users delete NAME [--db FILE]\n"
	"\n"
	"Delete a console user; their sessions end at once.\n"
	"\n"
	"  --db FILE          database (default $MAMORI_DB, else ./mamori.db)\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 ok, 1 error (no such user, database), 2 usage\n";

static const char setrole_usage[] =
	"usage: mamori users set-role NAME ROLE [--db FILE]\n"
	"\n"
	"Change a console user's role: viewer (reads only), analyst (also archives,\n"
	"gives feedback, manages filters, retries dead letters) or admin (also threat\n"
	"intel sets and IP sets). Takes effect at the user's next request.\n"
	"\n"
	"  --db FILE          database (default $MAMORI_DB, else ./mamori.db)\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 ok, 1 error (no such user, database), 2 usage\n";

static const char top_usage[] =
	"usage: mamori users add NAME [--db FILE] [--password-stdin] [--role ROLE]\n"
	"       mamori users list [--db FILE] [--format table|json]\n"
	"       mamori users set-role NAME ROLE [--db FILE]\n"
	"       mamori users delete NAME [--db FILE]\n"
	"\n"
	"Users of the web console that `mamori serve` serves at http://HOST:PORT/.\n"
	"See `mamori users COMMAND --help` and man mamori-users.\n";

enum { OPT_DB = 0x100, OPT_FORMAT, OPT_STDIN, OPT_ROLE };

static const struct option opts[] = {
	{"db", required_argument, NULL, OPT_DB},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"password-stdin", no_argument, NULL, OPT_STDIN},
	{"role", required_argument, NULL, OPT_ROLE},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct args {
	const char *db, *format;
	int pw_stdin;
	const char *role;
	char *pos[2];
	int npos;
};

/* -1 to go on, else the exit code. */
static int parse(const char *sub, const char *usage, int argc, char **argv, struct args *a,
		 int maxpos)
{
	int c;
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "-h", opts, NULL)) != -1) {
		if (c == 1) {
			if (a->npos >= maxpos) {
				fprintf(stderr, "mamori users %s: unexpected argument '%s'\n", sub, optarg);
				return MM_EXIT_USAGE;
			}
			a->pos[a->npos++] = optarg;
		} else if (c == OPT_DB) {
			a->db = optarg;
		} else if (c == OPT_FORMAT && !strcmp(sub, "list")) {
			a->format = optarg;
		} else if (c == OPT_STDIN && !strcmp(sub, "add")) {
			a->pw_stdin = 1;
		} else if (c == OPT_ROLE && !strcmp(sub, "add")) {
			a->role = optarg;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return MM_EXIT_OK;
		} else {
			fprintf(stderr, "mamori users %s: see `mamori users %s --help`\n", sub, sub);
			return MM_EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (a->npos >= maxpos) {
			fprintf(stderr, "mamori users %s: unexpected argument '%s'\n", sub, argv[optind]);
			return MM_EXIT_USAGE;
		}
		a->pos[a->npos++] = argv[optind];
	}
	return -1;
}

/* must_exist: a missing database is an error. 0 or the exit code. */
static int open_users(const char *sub, const char *db, int must_exist, struct mm_users **u)
{
	struct mm_err err;
	struct stat sb;
	struct mm_store *st = NULL;

	if (!db)
		db = mm_store_default_path();
	if (must_exist && stat(db, &sb) != 0) {
		fprintf(stderr, "mamori users %s: %s %s%s\n", sub,
			errno == ENOENT ? "no database at" : "cannot open", db,
			errno == ENOENT ? "; add a user first with `mamori users add NAME --db FILE`"
					: "");
		return MM_EXIT_ERROR;
	}
	mm_err_clear(&err);
	/* the store first: it creates the file (mode 0600) or upgrades it */
	if (mm_store_open(&st, db, &err)) {
		fprintf(stderr, "mamori users %s: %s\n", sub, err.msg);
		return MM_EXIT_ERROR;
	}
	mm_store_close(st);
	if (mm_users_open(u, db, &err)) {
		fprintf(stderr, "mamori users %s: %s\n", sub, err.msg);
		return MM_EXIT_ERROR;
	}
	return 0;
}

/* One line from f into buf without its newline. Length, or -1 (nothing,
 * or longer than cap - 1). */
static long read_line(FILE *f, char *buf, size_t cap)
{
	size_t n;
	if (!fgets(buf, (int)cap, f))
		return -1;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == cap - 1)
		return -1;
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return (long)n;
}

/* Prompt on the terminal and read without echo. */
static long read_tty(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	long n;
	if (!tty)
		return -2;
	if (tcgetattr(fileno(tty), &old)) {
		fclose(tty);
		return -2;
	}
	/* echo off (dropping what was typed ahead) before the prompt shows, so
	 * an answer typed as soon as it appears is neither echoed nor dropped */
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	fputs(prompt, tty);
	fflush(tty);
	n = read_line(tty, buf, cap);
	tcsetattr(fileno(tty), TCSANOW, &old);
	fputs("\n", tty);
	fclose(tty);
	return n;
}

static int cmd_add(int argc, char **argv)
{
	struct args a = {NULL, NULL, 0, NULL, {NULL, NULL}, 0};
	struct mm_users *u = NULL;
	struct mm_err err;
	char pw[MM_USERS_PW_MAX + 2], again[MM_USERS_PW_MAX + 2];
	long n;
	int rc;

	if ((rc = parse("add", add_usage, argc, argv, &a, 1)) >= 0)
		return rc;
	if (a.npos != 1) {
		fprintf(stderr, "mamori users add: name the user (`mamori users add NAME`)\n");
		return MM_EXIT_USAGE;
	}
	if (!mm_users_name_ok(a.pos[0])) {
		fprintf(stderr, "mamori users add: a user name is 1 to %d of A-Z a-z 0-9 . _ @ + -\n",
			MM_USERS_NAME_MAX);
		return MM_EXIT_USAGE;
	}
	if (a.role && !mm_access_parse(a.role)) {
		fprintf(stderr, "mamori users add: --role is admin, analyst or viewer\n");
		return MM_EXIT_USAGE;
	}
	if (a.pw_stdin) {
		n = read_line(stdin, pw, sizeof(pw));
	} else {
		n = read_tty("Password: ", pw, sizeof(pw));
		if (n == -2) {
			fprintf(stderr, "mamori users add: no terminal to read the password from; pass "
					"--password-stdin and write it to standard input\n");
			return MM_EXIT_USAGE;
		}
		if (n >= 0 && (read_tty("Password again: ", again, sizeof(again)) != n ||
			       strcmp(pw, again))) {
			memset(again, 0, sizeof(again));
			memset(pw, 0, sizeof(pw));
			fprintf(stderr, "mamori users add: the two passwords differ; nothing was "
					"added\n");
			return MM_EXIT_ERROR;
		}
		memset(again, 0, sizeof(again));
	}
	if (n < MM_USERS_PW_MIN || n > MM_USERS_PW_MAX) {
		memset(pw, 0, sizeof(pw));
		fprintf(stderr, "mamori users add: a password is %d to %d bytes\n", MM_USERS_PW_MIN,
			MM_USERS_PW_MAX);
		return MM_EXIT_ERROR;
	}
	if ((rc = open_users("add", a.db, 0, &u))) {
		memset(pw, 0, sizeof(pw));
		return rc;
	}
	mm_err_clear(&err);
	rc = mm_users_add_role(u, a.pos[0], pw, (size_t)n, a.role, mm_now_ms(), &err);
	memset(pw, 0, sizeof(pw));
	mm_users_close(u);
	if (rc) {
		fprintf(stderr, "mamori users add: %s\n", err.msg);
		return MM_EXIT_ERROR;
	}
	fprintf(stderr, "mamori users add: user '%s' added; sign in at the console of `mamori "
			"serve`\n",
		a.pos[0]);
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
	int json, n;
};

static int print_user(void *ctx, const struct mm_user_row *r)
{
	struct list_ctx *l = ctx;
	char created[32], last[32];
	fmt_time(r->created_ms, created, sizeof(created));
	fmt_time(r->last_signin_ms, last, sizeof(last));
	/* names are [A-Za-z0-9._@+-]: nothing to escape */
	if (l->json) {
		printf("{\"name\":\"%s\",\"created\":\"%s\",\"lastSignIn\":", r->name, created);
		if (r->last_signin_ms > 0)
			printf("\"%s\"", last);
		else
			printf("null");
		printf(",\"failedSignIns\":%ld,\"sessions\":%ld,\"role\":\"%s\"}\n", r->failures,
		       r->sessions, mm_access_name(mm_access_parse(r->role)));
	} else {
		if (l->n == 0)
			printf("%-24s  %-8s  %-20s  %-20s  %-6s  %s\n", "NAME", "ROLE", "CREATED",
			       "LAST SIGN-IN", "FAILED", "SESSIONS");
		printf("%-24s  %-8s  %-20s  %-20s  %-6ld  %ld\n", r->name,
		       mm_access_name(mm_access_parse(r->role)), created, last, r->failures,
		       r->sessions);
	}
	l->n++;
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct args a = {NULL, "table", 0, NULL, {NULL, NULL}, 0};
	struct mm_users *u = NULL;
	struct mm_err err;
	struct list_ctx l = {0, 0};
	int rc;

	if ((rc = parse("list", list_usage, argc, argv, &a, 0)) >= 0)
		return rc;
	if (!strcmp(a.format, "json"))
		l.json = 1;
	else if (strcmp(a.format, "table")) {
		fprintf(stderr, "mamori users list: --format is table or json\n");
		return MM_EXIT_USAGE;
	}
	if ((rc = open_users("list", a.db, 1, &u)))
		return rc;
	mm_err_clear(&err);
	rc = mm_users_each(u, mm_now_ms(), print_user, &l, &err);
	mm_users_close(u);
	if (rc) {
		fprintf(stderr, "mamori users list: %s\n", err.msg);
		return MM_EXIT_ERROR;
	}
	if (l.n == 0 && !l.json)
		fprintf(stderr, "mamori users list: no users; add one with `mamori users add NAME`\n");
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mamori users list: cannot write output\n");
		return MM_EXIT_ERROR;
	}
	return MM_EXIT_OK;
}

static int cmd_delete(int argc, char **argv)
{
	struct args a = {NULL, NULL, 0, NULL, {NULL, NULL}, 0};
	struct mm_users *u = NULL;
	struct mm_err err;
	int rc;

	if ((rc = parse("delete", delete_usage, argc, argv, &a, 1)) >= 0)
		return rc;
	if (a.npos != 1) {
		fprintf(stderr, "mamori users delete: name the user (`mamori users list` shows "
				"them)\n");
		return MM_EXIT_USAGE;
	}
	if ((rc = open_users("delete", a.db, 1, &u)))
		return rc;
	mm_err_clear(&err);
	rc = mm_users_del(u, a.pos[0], &err);
	mm_users_close(u);
	if (rc < 0) {
		fprintf(stderr, "mamori users delete: %s\n", err.msg);
		return MM_EXIT_ERROR;
	}
	if (rc == 0) {
		fprintf(stderr, "mamori users delete: no user named %s; `mamori users list` shows "
				"them\n",
			a.pos[0]);
		return MM_EXIT_ERROR;
	}
	return MM_EXIT_OK;
}

static int cmd_set_role(int argc, char **argv)
{
	struct args a = {NULL, NULL, 0, NULL, {NULL, NULL}, 0};
	struct mm_users *u = NULL;
	struct mm_err err;
	int rc;

	if ((rc = parse("set-role", setrole_usage, argc, argv, &a, 2)) >= 0)
		return rc;
	if (a.npos != 2) {
		fprintf(stderr, "mamori users set-role: give NAME and ROLE (admin, analyst or "
				"viewer)\n");
		return MM_EXIT_USAGE;
	}
	if (!mm_access_parse(a.pos[1])) {
		fprintf(stderr, "mamori users set-role: a role is admin, analyst or viewer, not "
				"'%s'\n", a.pos[1]);
		return MM_EXIT_USAGE;
	}
	if ((rc = open_users("set-role", a.db, 1, &u)))
		return rc;
	mm_err_clear(&err);
	rc = mm_users_set_role(u, a.pos[0], a.pos[1], &err);
	mm_users_close(u);
	if (rc < 0) {
		fprintf(stderr, "mamori users set-role: %s\n", err.msg);
		return MM_EXIT_ERROR;
	}
	if (rc == 0) {
		fprintf(stderr, "mamori users set-role: no user named %s; `mamori users list` shows "
				"them\n", a.pos[0]);
		return MM_EXIT_ERROR;
	}
	fprintf(stderr, "mamori users set-role: %s is now %s\n", a.pos[0], a.pos[1]);
	return MM_EXIT_OK;
}

int mm_cmd_users(int argc, char **argv)
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
	if (!strcmp(sub, "add"))
		return cmd_add(argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(sub, "delete"))
		return cmd_delete(argc - 1, argv + 1);
	if (!strcmp(sub, "set-role"))
		return cmd_set_role(argc - 1, argv + 1);
	fprintf(stderr, "mamori users: unknown subcommand '%s'; use add, list, set-role or "
			"delete\n", sub);
	fputs(top_usage, stderr);
	return MM_EXIT_USAGE;
}
