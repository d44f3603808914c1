/* config.c - `mamori config show|check`: print the effective
 * configuration (every detector, every setting, with defaults and
 * reasons) and validate a config file without scanning. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"

static const char show_usage[] =
	"usage: mamori config show [--config FILE]\n"
	"\n"
	"Print the effective configuration as YAML that --config accepts: every detector,\n"
	"its `enabled` switch and every threshold with its value, each commented with its\n"
	"reason, unit, default and range; values that differ from the default are marked\n"
	"\"changed\". With no FILE (and no $MAMORI_CONFIG): the built-in defaults, a\n"
	"starting point for a config file.\n"
	"\n"
	"options:\n"
	"  --config FILE      the config file to show (default $MAMORI_CONFIG if set)\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 ok, 1 error, 2 usage or a bad config file\n";

static const char check_usage[] =
	"usage: mamori config check [FILE | --config FILE]\n"
	"\n"
	"Validate a config file the way `mamori scan --config FILE` loads it. Prints\n"
	"\"FILE: ok\", or the first error as FILE:LINE:COLUMN: reason. With no FILE:\n"
	"$MAMORI_CONFIG.\n"
	"\n"
	"options:\n"
	"  --config FILE      the file to check (same as giving FILE)\n"
	"  -q, --quiet        print nothing on success\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 valid, 1 error (out of memory), 2 invalid or usage\n";

static const char top_usage[] =
	"usage: mamori config show [--config FILE]\n"
	"       mamori config check [FILE]\n"
	"\n"
	"mamori reads one YAML config file (scan --config FILE, or $MAMORI_CONFIG): a\n"
	"section per detector with `enabled` and its thresholds. `show` prints the\n"
	"effective values with their defaults and reasons; `check` validates a file.\n"
	"See `man mamori-config`.\n";

enum { OPT_CONFIG = 1 };

/* show (check = 0) or check (check = 1) */
static int run(int argc, char **argv, int check)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, OPT_CONFIG},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *name = check ? "config check" : "config show", *path = NULL;
	struct mm_config *cfg = NULL;
	int c, rc, quiet = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, check ? "qh" : "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			path = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(check ? check_usage : show_usage, stdout);
			return MM_EXIT_OK;
		default:
			fprintf(stderr, "Try 'mamori %s --help'.\n", name);
			return MM_EXIT_USAGE;
		}
	}
	if (check && optind < argc && !path)
		path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "mamori %s: unexpected argument '%s'\nTry 'mamori %s --help'.\n",
			name, argv[optind], name);
		return MM_EXIT_USAGE;
	}
	if ((rc = mm_cli_load_config(name, path, &cfg)))
		return rc;
	if (check) {
		if (!cfg) {
			fprintf(stderr, "mamori config check: no file to check; give FILE (or set "
					"$MAMORI_CONFIG)\n");
			return MM_EXIT_USAGE;
		}
		if (!quiet)
			printf("%s: ok\n", mm_config_source(cfg));
	} else {
		mm_config_show(cfg, stdout);
	}
	mm_config_free(cfg);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "mamori %s: cannot write the output\n", name);
		return MM_EXIT_ERROR;
	}
	return MM_EXIT_OK;
}

int mm_cmd_config(int argc, char **argv)
{
	if (argc < 2) {
		fputs(top_usage, stderr);
		return MM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(top_usage, stdout);
		return MM_EXIT_OK;
	}
	if (!strcmp(argv[1], "show"))
		return run(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "check"))
		return run(argc - 1, argv + 1, 1);
	fprintf(stderr, "mamori config: unknown command '%s'; use show or check\n", argv[1]);
	return MM_EXIT_USAGE;
}
