/* pipeopts.h - the options of every command that runs the detection
 * pipeline (scan, serve): database, lists, inventory, config, geo, Sigma
 * rules, threads. One parser, one help text, so the commands take the
 * same flags with the same meaning. */
#ifndef MM_PIPEOPTS_H
#define MM_PIPEOPTS_H

#include <getopt.h>

#include "engine/pipeline.h"
#include "sigma/sigma.h"

struct mm_config;

struct mm_cli_pipe {
	struct mm_pipeline_opts p;
	const char *config_path;
	const char *rules[MM_SCAN_MAX_LISTS];
	int nrules;
	struct mm_config *cfg;		/* loaded by mm_cli_pipe_ready */
	struct mm_sigma_set sigma;
};

enum {
	OPT_P_DB = 900, OPT_P_SOURCE, OPT_P_INVENTORY, OPT_P_THREAT, OPT_P_TRUSTED,
	OPT_P_NODEFAULT, OPT_P_THREADS, OPT_P_UNKNOWN_ENIS, OPT_P_REGION, OPT_P_WAIT,
	OPT_P_MAX_FINDINGS, OPT_P_CONFIG, OPT_P_GEO, OPT_P_NOGEO, OPT_P_GEOIP, OPT_P_RULES,
	OPT_P_HOST
};

/* struct option rows for getopt_long; splice into a command's table. */
#define MM_CLI_PIPE_LONGOPTS                                                   \
	{"db", required_argument, NULL, OPT_P_DB},                             \
	{"source", required_argument, NULL, OPT_P_SOURCE},                     \
	{"inventory", required_argument, NULL, OPT_P_INVENTORY},               \
	{"threat-list", required_argument, NULL, OPT_P_THREAT},                \
	{"trusted-ips", required_argument, NULL, OPT_P_TRUSTED},               \
	{"no-default-lists", no_argument, NULL, OPT_P_NODEFAULT},              \
	{"threads", required_argument, NULL, OPT_P_THREADS},                   \
	{"report-unknown-enis", no_argument, NULL, OPT_P_UNKNOWN_ENIS},        \
	{"region", required_argument, NULL, OPT_P_REGION},                     \
	{"wait", required_argument, NULL, OPT_P_WAIT},                         \
	{"max-findings", required_argument, NULL, OPT_P_MAX_FINDINGS},         \
	{"config", required_argument, NULL, OPT_P_CONFIG},                     \
	{"geo", required_argument, NULL, OPT_P_GEO},                           \
	{"no-geo", no_argument, NULL, OPT_P_NOGEO},                            \
	{"geoip", required_argument, NULL, OPT_P_GEOIP},                       \
	{"rules", required_argument, NULL, OPT_P_RULES},                       \
	{"host", required_argument, NULL, OPT_P_HOST}

/* The help lines for those options. */
extern const char mm_cli_pipe_help[];

void mm_cli_pipe_init(struct mm_cli_pipe *cp);
/* Handle getopt's result c with optarg arg for command cmd. Returns 1
 * when c was one of the pipeline options and was taken, 0 when c is not
 * one of them, or -EXIT (a negative exit status, message printed) when
 * its value is wrong. */
int mm_cli_pipe_opt(const char *cmd, struct mm_cli_pipe *cp, int c, const char *arg);
/* After parsing: load the config (a typo stops the run) and the Sigma
 * rules. Returns an exit status (0 ok). */
int mm_cli_pipe_ready(const char *cmd, struct mm_cli_pipe *cp, int quiet);
void mm_cli_pipe_free(struct mm_cli_pipe *cp);

#endif
