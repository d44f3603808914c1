/* sim.c (cli) - `mamori sim`: write a simulated AWS estate, and
 * `mamori sim verify`: check a scan's findings against its truth.json. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/mtime.h"
#include "sim/sim.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mamori sim --out DIR [--days N] [--seed S] [--scale K] [--start YYYY-MM-DD]\n"
		"                  [--attacks intel,network,dnslists,ctrules,iam|all] [--force]\n"
		"       mamori sim verify --truth DIR/truth.json (--db FILE | --findings FILE.jsonl)\n"
		"\n"
		"Writes an AWS estate's logs as AWS delivers them (VPC Flow Logs, Route 53 Resolver\n"
		"query logs, CloudTrail) with injected attacks and benign look-alikes, plus\n"
		"inventory.json, intel/*.txt, scan.args (scan options, paths relative to DIR) and\n"
		"truth.json. Output is byte-identical for the same arguments.\n"
		"\n"
		"  --out DIR      output directory (created; must be empty unless --force)\n"
		"  --days N       days of logs, 1..%d (default 2)\n"
		"  --seed S       PRNG seed, unsigned integer (default 1)\n"
		"  --scale K      estate size: ~12 instances per unit, 1..%d (default 1)\n"
		"  --start DATE   first day, UTC (default 2024-03-04)\n"
		"  --attacks SET  which attacks (and look-alikes) to inject: intel (threat lists),\n"
		"                 network (behaviours: baselines, probes, scans, brute force, DoS,\n"
		"                 DNS), dnslists (the list-driven DNS types: scan.args names the\n"
		"                 abused, bitcoin, malicious, suspicious, driveby, phishing and dga\n"
		"                 lists it writes), ctrules (the single-record CloudTrail types:\n"
		"                 logging disabled, password policy, S3 buckets opened, PenTest\n"
		"                 agents, Bedrock logging), iam (principal baselines: a stolen key's\n"
		"                 anomalous calls ending in an attack sequence, a console sign-in\n"
		"                 from abroad during work, an instance role used outside AWS; with\n"
		"                 an admin on two ISPs, a CI user, a traveller and an hourly\n"
		"                 auditor as look-alikes), comma-separated, or all (the default:\n"
		"                 all five).\n"
		"                 Behaviours that need a learned baseline start on day 9: only with\n"
		"                 --days 9 or more\n"
		"  --force        write into a non-empty DIR (overwrites, deletes nothing)\n"
		"\n"
		"verify prints one line per check (ok / MISSING / MISMATCH / UNEXPECTED) and\n"
		"\"N passed, N failed\"; exit 0 when all pass, 1 otherwise.\n",
		MM_SIM_MAX_DAYS, MM_SIM_MAX_SCALE);
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "intel", "network", "dnslists", "ctrules", "iam" (comma-separated), "all" ->
 * MM_SIM_ATTACKS_* bits. */
static int parse_attacks(const char *s, int *out)
{
	int v = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		if (n == 5 && !strncmp(s, "intel", 5))
			v |= MM_SIM_ATTACKS_INTEL;
		else if (n == 7 && !strncmp(s, "network", 7))
			v |= MM_SIM_ATTACKS_NETWORK;
		else if (n == 3 && !strncmp(s, "all", 3))
			v |= MM_SIM_ATTACKS_ALL;
		else if (n == 8 && !strncmp(s, "dnslists", 8))
			v |= MM_SIM_ATTACKS_DNSLISTS;
		else if (n == 7 && !strncmp(s, "ctrules", 7))
			v |= MM_SIM_ATTACKS_CTRULES;
		else if (n == 3 && !strncmp(s, "iam", 3))
			v |= MM_SIM_ATTACKS_IAM;
		else
			return -1;
		s += n;
		if (*s == ',' && *++s == '\0')
			return -1;
	}
	if (!v)
		return -1;
	*out = v;
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"truth", required_argument, NULL, 't'},
					     {"db", required_argument, NULL, 'd'},
					     {"findings", required_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *truth = NULL, *db = NULL, *jsonl = NULL;
	struct mm_sim_found_set set = {0};
	struct mm_err err;
	int c, rc, passed = 0, failed = 0, code;

	mm_err_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': truth = optarg; break;
		case 'd': db = optarg; break;
		case 'f': jsonl = optarg; break;
		case 'h': usage(stdout); return MM_EXIT_OK;
		default: usage(stderr); return MM_EXIT_USAGE;
		}
	}
	if (optind < argc || !truth || (!db == !jsonl)) {
		fprintf(stderr, "mamori sim verify: need --truth FILE and exactly one of --db FILE or --findings FILE; see --help\n");
		return MM_EXIT_USAGE;
	}
	rc = db ? mm_sim_found_load_db(&set, db, &err) : mm_sim_found_load_jsonl(&set, jsonl, &err);
	if (!rc)
		rc = mm_sim_verify(truth, &set, stdout, &passed, &failed, &err);
	if (rc) {
		fprintf(stderr, "mamori sim verify: %s; check the file paths\n",
			err.msg[0] ? err.msg : mm_strerror(rc));
		code = MM_EXIT_ERROR;
	} else {
		code = failed ? MM_EXIT_ERROR : MM_EXIT_OK;
	}
	mm_sim_found_free(&set);
	return code;
}

int mm_cmd_sim(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
					     {"days", required_argument, NULL, 'd'},
					     {"seed", required_argument, NULL, 's'},
					     {"scale", required_argument, NULL, 'k'},
					     {"start", required_argument, NULL, 'S'},
					     {"force", no_argument, NULL, 'F'},
					     {"attacks", required_argument, NULL, 'A'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct mm_sim_opts o;
	struct mm_sim_stats st;
	struct mm_err err;
	unsigned long long v;
	int c, rc;

	if (argc > 1 && !strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	mm_sim_opts_init(&o);
	mm_err_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out_dir = optarg;
			break;
		case 'd':
			if (parse_uint(optarg, MM_SIM_MAX_DAYS, &v) || v < 1) {
				fprintf(stderr, "mamori sim: bad --days '%s'; give a whole number 1..%d\n", optarg,
					MM_SIM_MAX_DAYS);
				return MM_EXIT_USAGE;
			}
			o.days = (int)v;
			break;
		case 's':
			if (parse_uint(optarg, ~0ULL, &v)) {
				fprintf(stderr, "mamori sim: bad --seed '%s'; give an unsigned integer\n", optarg);
				return MM_EXIT_USAGE;
			}
			o.seed = v;
			break;
		case 'k':
			if (parse_uint(optarg, MM_SIM_MAX_SCALE, &v) || v < 1) {
				fprintf(stderr, "mamori sim: bad --scale '%s'; give a whole number 1..%d\n", optarg,
					MM_SIM_MAX_SCALE);
				return MM_EXIT_USAGE;
			}
			o.scale = (int)v;
			break;
		case 'S': {
			int64_t ms;
			if (strlen(optarg) != 10 || mm_time_parse_iso(optarg, 10, &ms) || ms < 0) {
				fprintf(stderr, "mamori sim: bad --start '%s'; use YYYY-MM-DD\n", optarg);
				return MM_EXIT_USAGE;
			}
			o.start_day = ms / 86400000;
			break;
		}
		case 'F':
			o.force = 1;
			break;
		case 'A':
			if (parse_attacks(optarg, &o.attacks)) {
				fprintf(stderr, "mamori sim: bad --attacks '%s'; give intel, network, dnslists, ctrules, iam or all, comma-separated\n",
					optarg);
				return MM_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return MM_EXIT_OK;
		default:
			usage(stderr);
			return MM_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mamori sim: unexpected argument '%s'; see --help\n", argv[optind]);
		return MM_EXIT_USAGE;
	}
	if (!o.out_dir) {
		fprintf(stderr, "mamori sim: --out DIR is required; see --help\n");
		return MM_EXIT_USAGE;
	}
	rc = mm_sim_generate(&o, &st, &err);
	if (rc) {
		fprintf(stderr, "mamori sim: %s\n", err.msg[0] ? err.msg : mm_strerror(rc));
		return rc == MM_EEXISTS || rc == MM_EINVAL ? MM_EXIT_USAGE : MM_EXIT_ERROR;
	}
	fprintf(stderr,
		"mamori sim: wrote %s: %d instances, %llu flow + %llu DNS + %llu CloudTrail records in "
		"%llu files (%llu MB raw, %llu MB gzip), %d expected findings\n",
		o.out_dir, st.instances, (unsigned long long)st.flow_records,
		(unsigned long long)st.dns_records, (unsigned long long)st.ct_records,
		(unsigned long long)st.files, (unsigned long long)(st.bytes_raw >> 20),
		(unsigned long long)(st.bytes_gz >> 20), st.expected);
	return MM_EXIT_OK;
}
