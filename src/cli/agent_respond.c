/* agent_respond.c - `mamori agent respond ACTION ...`: the command line
 * of the containment actions (src/agent/respond.h does the work).
 * Dry-run unless --yes; `undo ID` and `list` read the history back. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/respond.h"
#include "cli/cli.h"

static void usage(FILE *to)
{
	fputs("usage: mamori agent respond ACTION ARGS... [OPTIONS]\n"
	      "\n"
	      "Contain a compromised host. Dry-run by default: prints what would be done;\n"
	      "--yes acts. Every action, dry or real, goes to the audit log and the database.\n"
	      "\n"
	      "Actions:\n"
	      "  kill PID              SIGTERM, then SIGKILL after --grace (through a pidfd)\n"
	      "  quarantine PATH       move the file into the quarantine folder (mode 000, hashed)\n"
	      "  block IP              drop traffic to and from IP (nftables table inet mamori)\n"
	      "  lock-user NAME        lock the password and expire the account\n"
	      "  remove-cron USER PAT  remove the lines of USER's crontab containing PAT (fixed text)\n"
	      "  undo ID               undo action ID (not kill)\n"
	      "  list                  the history of actions\n"
	      "\n"
	      "Options:\n"
	      "  --yes                 act (default: dry run)\n"
	      "  --db FILE             database (default $MAMORI_DB, else ./mamori.db)\n"
	      "  --audit-log FILE      audit log (default /var/log/mamori/audit.log)\n"
	      "  --root DIR            path-based actions work beneath DIR (a test tree);\n"
	      "                        lock-user then edits DIR/etc/shadow instead of usermod\n"
	      "  --quarantine-dir DIR  default /var/lib/mamori/quarantine (beneath --root)\n"
	      "  --allow-root DIR      quarantine only beneath DIR (repeatable; default /tmp,\n"
	      "                        /var/tmp, /dev/shm, /home, /root, /opt, /srv, /var/www,\n"
	      "                        /run/user, /usr/local)\n"
	      "  --for DURATION        block: timeout (30m, 1h, 2d; default none)\n"
	      "  --grace MS            kill: SIGTERM to SIGKILL (default 5000)\n"
	      "  --force               lock-user: allow a uid 0 account\n"
	      "  --kill-sessions       lock-user: also end the user's sessions (loginctl)\n"
	      "  --nft PATH            the nft program (default: nft in /usr/sbin, /usr/bin, ...)\n"
	      "  --reason TEXT         stored with the action\n"
	      "  --format text|json    list: output format\n"
	      "\n"
	      "See docs/respond.md and mamori-agent-respond(1).\n",
	      to);
}

enum { O_YES = 256, O_DB, O_AUDIT, O_ROOT, O_QDIR, O_ALLOW, O_FOR, O_GRACE, O_FORCE, O_KILLS,
       O_NFT, O_REASON, O_FORMAT };

int mm_cmd_agent_respond(int argc, char **argv)
{
	static const struct option longs[] = {
		{"yes", no_argument, NULL, O_YES},
		{"db", required_argument, NULL, O_DB},
		{"audit-log", required_argument, NULL, O_AUDIT},
		{"root", required_argument, NULL, O_ROOT},
		{"quarantine-dir", required_argument, NULL, O_QDIR},
		{"allow-root", required_argument, NULL, O_ALLOW},
		{"for", required_argument, NULL, O_FOR},
		{"grace", required_argument, NULL, O_GRACE},
		{"force", no_argument, NULL, O_FORCE},
		{"kill-sessions", no_argument, NULL, O_KILLS},
		{"nft", required_argument, NULL, O_NFT},
		{"reason", required_argument, NULL, O_REASON},
		{"format", required_argument, NULL, O_FORMAT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mm_respond_opts o;
	struct mm_err err;
	const char *word;
	char id[MM_RESPOND_ID_LEN + 1];
	int c, json = 0, rc, action;
	char *end;

	memset(&o, 0, sizeof(o));
	o.db = getenv("MAMORI_DB");
	if (!o.db || !o.db[0])
		o.db = "mamori.db";
	optind = 1;
	/* GNU getopt permutes: options anywhere, the words left in order
	 * from optind; "--" ends the options (a PATTERN may start with '-') */
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case O_YES: o.yes = 1; break;
		case O_DB: o.db = optarg; break;
		case O_AUDIT: o.audit_log = optarg; break;
		case O_ROOT: o.root = optarg; break;
		case O_QDIR: o.quarantine_dir = optarg; break;
		case O_ALLOW:
			if (o.nallow >= MM_RESPOND_MAX_ALLOW) {
				fprintf(stderr, "mamori agent respond: at most %d --allow-root\n",
					MM_RESPOND_MAX_ALLOW);
				return MM_EXIT_USAGE;
			}
			if (optarg[0] != '/') {
				fprintf(stderr, "mamori agent respond: --allow-root takes an absolute path\n");
				return MM_EXIT_USAGE;
			}
			o.allow[o.nallow++] = optarg;
			break;
		case O_FOR:
			if (mm_respond_parse_duration(optarg, &o.block_s)) {
				fprintf(stderr, "mamori agent respond: --for takes a duration like 30m, 1h, "
					"2d (at most 366d), not '%s'\n", optarg);
				return MM_EXIT_USAGE;
			}
			break;
		case O_GRACE:
			o.grace_ms = (int)strtol(optarg, &end, 10);
			if (*end || o.grace_ms < 1 || o.grace_ms > 600000) {
				fprintf(stderr, "mamori agent respond: --grace takes 1 to 600000 ms\n");
				return MM_EXIT_USAGE;
			}
			break;
		case O_FORCE: o.force = 1; break;
		case O_KILLS: o.kill_sessions = 1; break;
		case O_NFT: o.nft = optarg; break;
		case O_REASON: o.reason = optarg; break;
		case O_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, "mamori agent respond: --format takes text or json\n");
				return MM_EXIT_USAGE;
			}
			json = !strcmp(optarg, "json");
			break;
		case 'h': usage(stdout); return MM_EXIT_OK;
		default: usage(stderr); return MM_EXIT_USAGE;
		}
	}
	{
		char **words = argv + optind;
		int nw = argc - optind;
		if (nw == 0 || nw > 8) {
			usage(stderr);
			return MM_EXIT_USAGE;
		}
		word = words[0];
		mm_err_clear(&err);
		if (!strcmp(word, "list")) {
			if (nw != 1) {
				usage(stderr);
				return MM_EXIT_USAGE;
			}
			rc = mm_respond_list(&o, json, stdout, &err);
		} else if (!strcmp(word, "undo")) {
			if (nw != 2) {
				fputs("mamori agent respond: undo takes one action id\n", stderr);
				return MM_EXIT_USAGE;
			}
			rc = mm_respond_undo(&o, words[1], &err);
		} else if ((action = mm_respond_action_parse(word))) {
			int need = action == MM_RESPOND_REMOVE_CRON ? 2 : 1;
			if (nw - 1 != need) {
				fprintf(stderr, "mamori agent respond: %s takes %s\n", word,
					need == 2 ? "USER PATTERN" : "one argument");
				return MM_EXIT_USAGE;
			}
			rc = mm_respond_do(&o, action, (const char *const *)words + 1, nw - 1, id, &err);
		} else {
			fprintf(stderr, "mamori agent respond: unknown action '%s'\n", word);
			usage(stderr);
			return MM_EXIT_USAGE;
		}
	}
	if (rc) {
		fprintf(stderr, "mamori agent respond: %s\n", err.msg[0] ? err.msg : mm_strerror(rc));
		return MM_EXIT_ERROR;
	}
	return MM_EXIT_OK;
}
