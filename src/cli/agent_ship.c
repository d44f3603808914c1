/* agent_ship.c - `mamori agent ship`: upload files' new whole lines to a
 * central `mamori serve` (agent/ship.h), once or following them. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/collect.h"
#include "agent/ship.h"
#include "cli/cli.h"
#include "core/log.h"
#include "engine/place.h"
#include "serve/ingest.h"
#include "serve/sigv4.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *out)
{
	fputs("usage: mamori agent ship --server URL [--key-file FILE] [--host NAME] [--state FILE]\n"
	      "                         [--follow] [options] [SOURCE=]FILE...\n"
	      "\n"
	      "Upload the new whole lines of each FILE (logs, the agent's *.hostevents.jsonl\n"
	      "spool files) to a central `mamori serve`, which detects on them as on its own\n"
	      "followed files. Requests are SigV4-signed with a key from `mamori keys create`.\n"
	      "What the server acknowledged is remembered in the state file, so a run resumes\n"
	      "where the last one stopped; the files are the queue while the server is away.\n"
	      "\n"
	      "options:\n"
	      "  --server URL        the daemon, e.g. http://10.0.0.5:8600\n"
	      "  --key-file FILE     the AWS_ACCESS_KEY_ID=/AWS_SECRET_ACCESS_KEY= lines `mamori\n"
	      "                      keys create` printed (default: those environment variables)\n"
	      "  --host NAME         this host's name on the server (default: the host name;\n"
	      "                      an instance id i-... attributes findings to the instance)\n"
	      "  --state FILE        acknowledged offsets (default $HOME/.mamori-ship.state)\n"
	      "  --follow            keep shipping as the files grow, until SIGINT/SIGTERM\n"
	      "  --poll-ms N         with --follow, look at the files this often (default 1000)\n"
	      "  --max-wait S        without --follow, give up after S seconds of the server\n"
	      "                      being away (default 60; the state is kept)\n"
	      "  --chunk BYTES       bytes per request at most (default 1 MiB, at most 4 MiB)\n"
	      "  --spool-cap BYTES   unshipped bytes beyond which an error is reported\n"
	      "                      (default 1 GiB; nothing is ever dropped)\n"
	      "  --region NAME       signing region (default us-east-1)\n"
	      "  --account-id ID     the AWS account the server's findings from these files\n"
	      "                      name (12 digits; default: the accountId of the instance\n"
	      "                      identity document in /run/cloud-init/instance-data.json)\n"
	      "  --host-region NAME  the AWS region they name (default: that file's region)\n"
	      "  -q, --quiet         errors only\n"
	      "  -v, --verbose       also debug messages\n"
	      "  -h, --help          this help\n"
	      "\n"
	      "A FILE is shipped as source SOURCE (default: its base name); the server keeps it\n"
	      "under SPOOL/agent/HOST/. See mamori-agent-ship(1) and docs/agent-ship.md.\n"
	      "\n"
	      "exit status: 0 every file shipped to its last whole line, 1 not (server away,\n"
	      "refused, local error), 2 usage\n",
	      out);
}

static int parse_u64(const char *s, unsigned long long lo, unsigned long long hi,
		     unsigned long long *out)
{
	char *e;
	unsigned long long v;
	if (!s || !*s || *s == '-')
		return -1;
	v = strtoull(s, &e, 10);
	if (*e || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (!stop_flag && nanosleep(&ts, &ts))
		;
}

static void summary(struct mm_ship *s)
{
	struct mm_ship_counts c;
	mm_ship_counts(s, &c);
	mm_info("ship: %llu bytes (%llu lines) acknowledged in %llu requests, %llu failed, "
		"%llu re-aligned; %llu bytes waiting",
		(unsigned long long)c.bytes_sent, (unsigned long long)c.lines_sent,
		(unsigned long long)c.requests, (unsigned long long)c.failures,
		(unsigned long long)c.resyncs, (unsigned long long)c.backlog);
}

enum { OPT_SERVER = 256, OPT_KEYFILE, OPT_HOST, OPT_STATE, OPT_FOLLOW, OPT_POLL, OPT_MAXWAIT,
       OPT_CHUNK, OPT_CAP, OPT_REGION, OPT_ACCOUNT, OPT_HOST_REGION };

int mm_cmd_agent_ship(int argc, char **argv)
{
	static const struct option lo[] = {
		{"server", required_argument, NULL, OPT_SERVER},
		{"key-file", required_argument, NULL, OPT_KEYFILE},
		{"host", required_argument, NULL, OPT_HOST},
		{"state", required_argument, NULL, OPT_STATE},
		{"follow", no_argument, NULL, OPT_FOLLOW},
		{"poll-ms", required_argument, NULL, OPT_POLL},
		{"max-wait", required_argument, NULL, OPT_MAXWAIT},
		{"chunk", required_argument, NULL, OPT_CHUNK},
		{"spool-cap", required_argument, NULL, OPT_CAP},
		{"region", required_argument, NULL, OPT_REGION},
		{"account-id", required_argument, NULL, OPT_ACCOUNT},
		{"host-region", required_argument, NULL, OPT_HOST_REGION},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mm_ship_opts o;
	struct mm_ship *s = NULL;
	struct mm_err err;
	struct sigaction sa;
	const char *key_file = NULL;
	char id[MM_SIGV4_KEY_ID_MAX + 1], secret[MM_SIGV4_SECRET_MAX + 1], state[4200];
	char acct[32] = "", hregion[64] = "";
	unsigned long long v, poll_ms = 1000, max_wait_s = 60;
	int c, follow = 0, rc = MM_EXIT_ERROR, i;
	long long waited_ms = 0;

	memset(&o, 0, sizeof(o));
	mm_err_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", lo, NULL)) != -1) {
		switch (c) {
		case OPT_SERVER: o.server = optarg; break;
		case OPT_KEYFILE: key_file = optarg; break;
		case OPT_HOST: o.host = optarg; break;
		case OPT_STATE: o.state_path = optarg; break;
		case OPT_FOLLOW: follow = 1; break;
		case OPT_REGION: o.region = optarg; break;
		case OPT_ACCOUNT:
			if (!mm_place_account_ok(optarg, strlen(optarg))) {
				fprintf(stderr, "mamori agent ship: --account-id takes a 12-digit AWS "
						"account id, not '%s'\n", optarg);
				return MM_EXIT_USAGE;
			}
			o.account = optarg;
			break;
		case OPT_HOST_REGION:
			if (!mm_place_region_ok(optarg, strlen(optarg))) {
				fprintf(stderr, "mamori agent ship: --host-region takes a region name "
						"like eu-west-1, not '%s'\n", optarg);
				return MM_EXIT_USAGE;
			}
			o.host_region = optarg;
			break;
		case OPT_POLL:
			if (parse_u64(optarg, 50, 600000, &poll_ms))
				goto bad_num;
			break;
		case OPT_MAXWAIT:
			if (parse_u64(optarg, 0, 86400, &max_wait_s))
				goto bad_num;
			break;
		case OPT_CHUNK:
			if (parse_u64(optarg, 1024, MM_INGEST_MAX_BODY, &v))
				goto bad_num;
			o.chunk = (size_t)v;
			break;
		case OPT_CAP:
			if (parse_u64(optarg, 1, 1ull << 50, &v))
				goto bad_num;
			o.spool_cap = v;
			break;
		case 'q': mm_log_set_level(MM_LOG_QUIET); break;
		case 'v': mm_log_set_level(MM_LOG_VERBOSE); break;
		case 'h': usage(stdout); return MM_EXIT_OK;
		default: usage(stderr); return MM_EXIT_USAGE;
		}
	}
	if (!o.server || optind >= argc) {
		fprintf(stderr, "mamori agent ship: give --server URL and at least one FILE. Try "
				"'mamori agent ship --help'.\n");
		return MM_EXIT_USAGE;
	}
	if (mm_ship_load_key(key_file, id, sizeof(id), secret, sizeof(secret), &err)) {
		fprintf(stderr, "mamori agent ship: %s\n", err.msg);
		return MM_EXIT_USAGE;
	}
	o.key_id = id;
	o.secret = secret;
	if (!o.account || !o.host_region) {
		/* on an EC2 instance: what cloud-init cached of its identity */
		mm_agent_instance_place(NULL, acct, sizeof(acct), hregion, sizeof(hregion));
		if (!o.account && acct[0])
			o.account = acct;
		if (!o.host_region && hregion[0] && mm_place_region_ok(hregion, strlen(hregion)))
			o.host_region = hregion;
	}
	if (!o.state_path) {
		const char *home = getenv("HOME");
		snprintf(state, sizeof(state), "%s/.mamori-ship.state", home && *home ? home : ".");
		o.state_path = state;
	}
	if (mm_ship_open(&s, &o, &err)) {
		fprintf(stderr, "mamori agent ship: %s\n", err.msg);
		rc = err.code == MM_EINVAL ? MM_EXIT_USAGE : MM_EXIT_ERROR;
		goto out;
	}
	for (i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '='), name[MM_INGEST_SOURCE_MAX + 1];
		const char *path = argv[i], *src = NULL;
		/* SOURCE=PATH when what precedes '=' is a name (no '/') */
		if (eq && (size_t)(eq - argv[i]) <= MM_INGEST_SOURCE_MAX &&
		    !memchr(argv[i], '/', (size_t)(eq - argv[i]))) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - argv[i]), argv[i]);
			if (mm_ingest_name_ok(name, MM_INGEST_SOURCE_MAX, 1)) {
				src = name;
				path = eq + 1;
			}
		}
		if (mm_ship_add(s, path, src, &err)) {
			fprintf(stderr, "mamori agent ship: %s\n", err.msg);
			rc = MM_EXIT_USAGE;
			goto out;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	stop_flag = 0;
	for (;;) {
		int r = mm_ship_cycle(s, &err);
		if (r < 0) {
			fprintf(stderr, "mamori agent ship: %s\n", err.msg);
			rc = MM_EXIT_ERROR;
			break;
		}
		if (r == MM_SHIP_DONE) {
			waited_ms = 0;
			if (!follow) {
				rc = MM_EXIT_OK;
				break;
			}
			sleep_ms((int)poll_ms);
		} else {
			int ms = mm_ship_retry_ms(s);
			mm_warn("ship: %s; retrying in %d ms", err.msg, ms);
			mm_err_clear(&err);
			if (!follow && waited_ms + ms > (long long)max_wait_s * 1000) {
				fprintf(stderr, "mamori agent ship: gave up after %llu s; the state is "
						"kept: run again to go on\n", max_wait_s);
				rc = MM_EXIT_ERROR;
				break;
			}
			waited_ms += ms;
			sleep_ms(ms);
		}
		if (stop_flag) {
			rc = MM_EXIT_OK;
			break;
		}
	}
	summary(s);
out:
	mm_ship_close(s);
	memset(secret, 0, sizeof(secret));
	return rc;
bad_num:
	fprintf(stderr, "mamori agent ship: --%s: '%s' is out of range\n", lo[c - OPT_SERVER].name,
		optarg);
	return MM_EXIT_USAGE;
}
