/* cli.h - subcommands of the mamori binary and their shared conventions.
 *
 * Each subcommand is `int mm_cmd_NAME(int argc, char **argv)` where argv[0]
 * is the subcommand name; it parses its own options with getopt_long,
 * prints usage on --help (exit 0) and returns one of the exit codes
 * below. Errors go to stderr as "mamori NAME: what went wrong; what to do". */
#ifndef MM_CLI_H
#define MM_CLI_H

#define MM_EXIT_OK 0		/* did the job */
#define MM_EXIT_ERROR 1		/* could not do the job (I/O, database, ...) */
#define MM_EXIT_USAGE 2		/* bad command line */
#define MM_EXIT_BADINPUT 3	/* scan --strict: some records were malformed */
#define MM_EXIT_FINDINGS 4	/* scan --fail-on: findings at/above a severity */
#define MM_EXIT_BUSY 5		/* scan: another run holds the database (see --wait) */

int mm_cmd_scan(int argc, char **argv);
int mm_cmd_findings(int argc, char **argv);
int mm_cmd_sim(int argc, char **argv);

/* Parse "high"/"medium"/"low" or a number into a severity. 0 or MM_EINVAL. */
int mm_cli_parse_severity(const char *s, double *out);
/* Parse "2024-01-02", "2024-01-02T03:04:05Z", or a relative "24h"/"7d"
 * (relative to now) into epoch ms. 0 or MM_EINVAL. */
int mm_cli_parse_since(const char *s, long long *out_ms);

#endif
