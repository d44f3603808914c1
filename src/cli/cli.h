/* cli.h - subcommands of the mamori binary and their shared conventions.
 *
 * Each subcommand is `int mm_cmd_NAME(int argc, char **argv)` where argv[0]
 * is the subcommand name; it parses its own options with getopt_long,
 * prints usage on --help (exit 0) and returns one of the exit codes
 * below. Errors go to stderr as "mamori NAME: what went wrong; what to do". */
#ifndef MM_CLI_H
#define MM_CLI_H

#include "core/err.h"

#define MM_EXIT_OK 0		/* did the job */
#define MM_EXIT_ERROR 1		/* could not do the job (I/O, database, ...) */
#define MM_EXIT_USAGE 2		/* bad command line */
#define MM_EXIT_BADINPUT 3	/* scan --strict: some records were malformed */
#define MM_EXIT_FINDINGS 4	/* scan --fail-on: findings at/above a severity */
#define MM_EXIT_BUSY 5		/* scan: another run holds the database (see --wait) */

int mm_cmd_scan(int argc, char **argv);
int mm_cmd_serve(int argc, char **argv);
int mm_cmd_findings(int argc, char **argv);
int mm_cmd_sim(int argc, char **argv);
int mm_cmd_config(int argc, char **argv);
int mm_cmd_flows(int argc, char **argv);
int mm_cmd_geo(int argc, char **argv);
int mm_cmd_rules(int argc, char **argv);
int mm_cmd_keys(int argc, char **argv);
int mm_cmd_users(int argc, char **argv);
int mm_cmd_agent(int argc, char **argv);
int mm_cmd_agent_respond(int argc, char **argv);
int mm_cmd_agent_ship(int argc, char **argv);	/* `mamori agent ship` (agent_ship.c) */

struct mm_config;
/* The configuration a command runs with: path (--config), else
 * $MAMORI_CONFIG when set and not empty, else none (*out = NULL: the
 * built-in defaults). On failure prints "mamori CMD: file:line:column:
 * reason" to stderr and returns the exit code (MM_EXIT_USAGE: a config
 * that cannot be used is a usage error; MM_EXIT_ERROR: out of memory);
 * 0 otherwise. Caller frees *out with mm_config_free. */
int mm_cli_load_config(const char *cmd, const char *path, struct mm_config **out);

/* Parse "high"/"medium"/"low" or a number into a severity. 0 or MM_EINVAL. */
int mm_cli_parse_severity(const char *s, double *out);
/* Parse "2024-01-02", "2024-01-02T03:04:05Z", or a relative "24h"/"7d"
 * (relative to now) into epoch ms. 0 or MM_EINVAL. */
int mm_cli_parse_since(const char *s, long long *out_ms);

/* --options-file: words (one a line; blank lines and "#" comments
 * skipped; surrounding blanks trimmed) spliced into the command line.
 * The values of path options (--db, --inventory, --trusted-ips, --config,
 * --threat-list [CAT=]PATH, as separate words or --opt=VALUE) are
 * resolved against the file's folder. */
#define MM_CLI_MAX_OPTFILES 8
#define MM_CLI_MAX_FILE_WORDS 256	/* words read from all options files together */
#define MM_CLI_MAX_WORD 4352		/* bytes in one line of an options file */

/* argv for getopt_long after splicing. */
struct mm_cli_args {
	char **argv;	/* owned array, NULL-terminated; words borrowed from the
			 * caller's argv or owned (owned[]) */
	int argc;
	char **owned;	/* owned words read from the files */
	int nowned;
};

/* Build out->argv = argv[0], the words of every --options-file FILE /
 * --options-file=FILE named in argv (in the order named), then argv[1..]:
 * the command line comes last, so where an option is given in both, the
 * command line's value wins (getopt sees it last). Options after a "--"
 * are not looked at. More than MM_CLI_MAX_OPTFILES files, more than
 * MM_CLI_MAX_FILE_WORDS words in the files together, a line longer than
 * MM_CLI_MAX_WORD, or an unreadable file is MM_EINVAL / MM_EIO with the
 * reason (naming the file) in err; out is then empty. out is always safe
 * to pass to mm_cli_args_free. */
int mm_cli_splice_options(int argc, char **argv, struct mm_cli_args *out, struct mm_err *err);
void mm_cli_args_free(struct mm_cli_args *a);

#endif
