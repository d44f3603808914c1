/* serve.c - `mamori serve`: follow logs, detect continuously, serve
 * GuardDuty's API. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/pipeopts.h"
#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "serve/serve.h"
#include "store/store.h"

#define DEFAULT_LISTEN "127.0.0.1:8600"

static void usage(FILE *out)
{
	fputs("usage: mamori serve [options] --follow PATH... [--syslog-udp|--syslog-tcp HOST:PORT] [--stdin]\n"
	      "\n"
	      "Run continuously: follow log folders and files as they grow (new files in the\n"
	      "S3 layout, lines appended to files), detect with every detector `mamori scan`\n"
	      "runs, store findings within seconds, and serve GuardDuty's REST API so the AWS\n"
	      "CLI and SDKs work with --endpoint-url (requests signed with a key from\n"
	      "`mamori keys create`). Stops cleanly on SIGINT/SIGTERM; after a crash it resumes\n"
	      "where the last commit stopped, counting nothing twice.\n"
	      "\n"
	      "options:\n"
	      "  --follow PATH             a folder (walked recursively) or file to follow;\n"
	      "                            repeatable\n"
	      "  --syslog-udp HOST:PORT    receive syslog (RFC 3164/5424) over UDP ...\n"
	      "  --syslog-tcp HOST:PORT    ... or TCP (newline or octet-counted frames); each\n"
	      "                            message's text goes to SPOOL/<tag>.log, tag = the\n"
	      "                            sender's TAG/APP-NAME (tag each log type apart)\n"
	      "  --stdin                   read log lines from stdin into SPOOL/stdin.log\n"
	      "  --spool DIR               where stream sources are spooled and followed from\n"
	      "                            (default DB.spool; at most 1 GiB: then UDP drops,\n"
	      "                            counted, and TCP is not read until the daemon caught up)\n"
	      "  --listen HOST:PORT        where the API listens (default " DEFAULT_LISTEN ";\n"
	      "                            port 0 picks a free one)\n"
	      "  --tls-cert FILE           serve HTTPS with this PEM certificate ...\n"
	      "  --tls-key FILE            ... and this PEM private key\n"
	      "  --poll-ms N               how often the followed paths are looked at (default\n"
	      "                            1000; 50..600000)\n"
	      "  --ready-file FILE         once listening, write \"URL DETECTOR_ID\" into FILE\n"
	      "  --log-format text|json    messages on stderr as text (default) or one JSON object\n"
	      "                            a line (time, level, msg; file and line for bad records)\n"
	      "  --webhook URL             POST each new finding to URL as the EventBridge event\n"
	      "                            GuardDuty sends (repeatable; sinks webhook-1, ...)\n"
	      "  --slack-webhook URL       post each new finding to this Slack incoming webhook\n"
	      "  --console-url URL         link notifications to URL/#/finding/ID\n"
	      "  --min-severity S          notify these sinks only at or above S (low, medium,\n"
	      "                            high, critical or 0..10; default any)\n"
	      "                            (email sinks, type filters, frequencies: the serve:\n"
	      "                            section of --config; see docs/notify.md)\n",
	      out);
	fputs(mm_cli_pipe_help, out);
	fputs("  -q, --quiet               errors only\n"
	      "  -v, --verbose             also debug messages\n"
	      "  -h, --help                this help\n"
	      "\n"
	      "endpoints: POST/GET /detector/... (GuardDuty API, SigV4), GET /metrics\n"
	      "(Prometheus), GET /healthz, POST /mamori/v1/ingest (`mamori agent ship`\n"
	      "uploads, SigV4; kept in SPOOL/agent and followed). See docs/api.md.\n"
	      "\n"
	      "SIGHUP reloads the config file (its serve: sinks too), the Sigma rules and\n"
	      "every threat list; if they do not load, the daemon goes on with what it had.\n"
	      "listen, TLS files and follow need a restart (a reload logs when they changed).\n"
	      "\n"
	      "exit status: 0 stopped by a signal, 1 error (database, listen address), 2 usage,\n"
	      "5 the database is in use by another run\n",
	      out);
}

/* SIGHUP: the config file and Sigma rules parsed again into the other
 * slot; the daemon swaps to it or keeps the first. Slots never move: the
 * options point into them (config, rule set). */
struct reloader {
	struct mm_cli_pipe slot[2];
	int cur;
	/* for the sinks of a reloaded serve: section: the flags' sinks and
	 * what the daemon started with of the settings a reload cannot change */
	const struct mm_notify_conf *flag_sinks;
	double minsev;
	const struct mm_serve_opts *o;
	int listen_given, follow_given, tls_given;
};

/* The sinks: the file's (svc, may be NULL), then the flags' with their
 * --min-severity; the flag's --console-url wins. 0, or MM_EINVAL with
 * msg set. */
static int compose_sinks(const struct mm_config_serve *svc, const struct mm_notify_conf *nc,
			 double minsev, struct mm_notify_conf *fin, char *msg, size_t cap)
{
	int i, j;
	memset(fin, 0, sizeof(*fin));
	if (svc)
		*fin = svc->notify;
	if (nc->console_url[0])
		memcpy(fin->console_url, nc->console_url, sizeof(fin->console_url));
	for (i = 0; i < nc->nsinks; i++) {
		if (fin->nsinks >= MM_NOTIFY_MAX_SINKS) {
			snprintf(msg, cap, "at most %d notification sinks (flags and config file "
					   "together)", MM_NOTIFY_MAX_SINKS);
			return MM_EINVAL;
		}
		for (j = 0; j < fin->nsinks; j++)
			if (!strcmp(fin->sinks[j].name, nc->sinks[i].name)) {
				snprintf(msg, cap, "the config file has a sink named %s too; rename it",
					 nc->sinks[i].name);
				return MM_EINVAL;
			}
		fin->sinks[fin->nsinks] = nc->sinks[i];
		fin->sinks[fin->nsinks++].min_severity = minsev;
	}
	return 0;
}

/* 1 when a and b differ (NULL as ""). */
static int differs(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

static int reload_sinks(void *ctx, struct mm_notify_conf *out, struct mm_err *err)
{
	struct reloader *r = ctx;
	const struct mm_config_serve *svc = mm_config_serve(r->slot[!r->cur].cfg);
	const struct mm_serve_opts *o = r->o;
	char msg[256];
	int i, fol = 0;
	/* what needs a restart: compared, logged, kept as it runs */
	if (!r->listen_given &&
	    differs(svc && (svc->set & MM_SERVE_LISTEN) ? svc->listen : DEFAULT_LISTEN, o->listen))
		mm_warn("serve: reload: listen changed: restart to apply (still listening on %s)",
			o->listen);
	if (!r->tls_given && svc && (((svc->set & MM_SERVE_TLS_CERT) && differs(svc->tls_cert, o->tls_cert)) ||
		    ((svc->set & MM_SERVE_TLS_KEY) && differs(svc->tls_key, o->tls_key))))
		mm_warn("serve: reload: TLS files changed: restart to apply");
	if (!r->follow_given && svc && svc->nfollow) {
		fol = svc->nfollow != o->nfollow;
		for (i = 0; !fol && i < svc->nfollow; i++)
			fol = differs(svc->follow[i], o->follow[i]);
		if (fol)
			mm_warn("serve: reload: follow changed: restart to apply");
	}
	if (compose_sinks(svc, r->flag_sinks, r->minsev, out, msg, sizeof(msg)))
		return mm_err_set(err, MM_EINVAL, "%s", msg);
	return 0;
}

static int reload_prepare(void *ctx, struct mm_pipeline_opts *out, struct mm_err *err)
{
	struct reloader *r = ctx;
	struct mm_cli_pipe *cur = &r->slot[r->cur], *next = &r->slot[!r->cur];
	int rc;
	mm_cli_pipe_free(next);
	mm_cli_pipe_init(next);
	next->p = cur->p;		/* lists, paths, threads: as given */
	next->p.config = NULL;
	next->p.sigma = NULL;
	next->config_path = cur->config_path;
	memcpy(next->rules, cur->rules, sizeof(cur->rules));
	next->nrules = cur->nrules;
	if ((rc = mm_cli_pipe_ready("serve", next, 1))) {
		mm_cli_pipe_free(next);
		mm_cli_pipe_init(next);
		return mm_err_set(err, MM_EINVAL, "the config file or a Sigma rule did not load "
						  "(see the message above)");
	}
	*out = next->p;
	return 0;
}

static void reload_done(void *ctx, int ok)
{
	struct reloader *r = ctx;
	if (ok)
		r->cur = !r->cur;
	mm_cli_pipe_free(&r->slot[!r->cur]);
	mm_cli_pipe_init(&r->slot[!r->cur]);
}

enum {
	OPT_FOLLOW = 1000, OPT_LISTEN, OPT_TLS_CERT, OPT_TLS_KEY, OPT_POLL, OPT_READY, OPT_LOGFMT,
	OPT_SYSLOG_UDP, OPT_SYSLOG_TCP, OPT_STDIN, OPT_SPOOL,
	OPT_WEBHOOK, OPT_SLACK, OPT_CONSOLE, OPT_MINSEV
};

/* A sink from --webhook / --slack-webhook. */
static int flag_sink(struct mm_notify_conf *nc, enum mm_sink_kind kind, const char *url)
{
	struct mm_notify_sink *s;
	int i, k = 0;
	if (nc->nsinks >= MM_NOTIFY_MAX_SINKS) {
		fprintf(stderr, "mamori serve: at most %d notification sinks\n", MM_NOTIFY_MAX_SINKS);
		return MM_EXIT_USAGE;
	}
	if (strlen(url) >= sizeof(s->url) ||
	    (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
		fprintf(stderr, "mamori serve: %s takes an http:// or https:// URL (under %d bytes)\n",
			kind == MM_SINK_SLACK ? "--slack-webhook" : "--webhook", MM_NOTIFY_URL);
		return MM_EXIT_USAGE;
	}
	for (i = 0; i < nc->nsinks; i++)
		if (nc->sinks[i].kind == kind)
			k++;
	s = &nc->sinks[nc->nsinks++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	snprintf(s->name, sizeof(s->name), "%s-%d", kind == MM_SINK_SLACK ? "slack" : "webhook",
		 k + 1);
	snprintf(s->url, sizeof(s->url), "%s", url);
	return 0;
}

int mm_cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		MM_CLI_PIPE_LONGOPTS,
		{"follow", required_argument, NULL, OPT_FOLLOW},
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
		{"tls-key", required_argument, NULL, OPT_TLS_KEY},
		{"poll-ms", required_argument, NULL, OPT_POLL},
		{"ready-file", required_argument, NULL, OPT_READY},
		{"log-format", required_argument, NULL, OPT_LOGFMT},
		{"webhook", required_argument, NULL, OPT_WEBHOOK},
		{"slack-webhook", required_argument, NULL, OPT_SLACK},
		{"console-url", required_argument, NULL, OPT_CONSOLE},
		{"min-severity", required_argument, NULL, OPT_MINSEV},
		{"syslog-udp", required_argument, NULL, OPT_SYSLOG_UDP},
		{"syslog-tcp", required_argument, NULL, OPT_SYSLOG_TCP},
		{"stdin", no_argument, NULL, OPT_STDIN},
		{"spool", required_argument, NULL, OPT_SPOOL},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mm_serve_opts o;
	struct reloader rl;
	struct mm_cli_pipe *cp = &rl.slot[0];
	struct mm_err err;
	struct mm_notify_conf *nc = NULL, *fin = NULL;	/* big: on the heap */
	struct mm_config_serve *svc = NULL;
	int listen_given = 0;
	double minsev = 0;
	int c, rc = MM_EXIT_OK, quiet = 0, i;

	memset(&o, 0, sizeof(o));
	if (!(nc = mm_calloc(1, sizeof(*nc)))) {
		fprintf(stderr, "mamori serve: out of memory\n");
		return MM_EXIT_ERROR;
	}
	rl.cur = 0;
	rl.follow_given = rl.tls_given = 0;
	mm_cli_pipe_init(&rl.slot[0]);
	mm_cli_pipe_init(&rl.slot[1]);
	mm_err_clear(&err);
	o.listen = DEFAULT_LISTEN;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		int taken = mm_cli_pipe_opt("serve", cp, c, optarg);
		if (taken < 0) {
			rc = -taken;
			goto out;
		}
		if (taken)
			continue;
		switch (c) {
		case OPT_FOLLOW:
			if (o.nfollow >= MM_SERVE_MAX_FOLLOW) {
				fprintf(stderr, "mamori serve: at most %d --follow paths\n",
					MM_SERVE_MAX_FOLLOW);
				rc = MM_EXIT_USAGE;
				goto out;
			}
			o.follow[o.nfollow++] = optarg;
			break;
		case OPT_LISTEN:
			o.listen = optarg;
			listen_given = 1;
			break;
		case OPT_TLS_CERT:
			o.tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			o.tls_key = optarg;
			break;
		case OPT_POLL: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 50 || v > 600000) {
				fprintf(stderr, "mamori serve: --poll-ms takes 50..600000\n");
				rc = MM_EXIT_USAGE;
				goto out;
			}
			o.poll_ms = (int)v;
			break;
		}
		case OPT_READY:
			o.ready_file = optarg;
			break;
		case OPT_SYSLOG_UDP:
			o.syslog_udp = optarg;
			break;
		case OPT_SYSLOG_TCP:
			o.syslog_tcp = optarg;
			break;
		case OPT_STDIN:
			o.stdin_src = 1;
			break;
		case OPT_SPOOL:
			o.spool_dir = optarg;
			break;
		case OPT_LOGFMT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				fprintf(stderr, "mamori serve: --log-format takes text or json\n");
				rc = MM_EXIT_USAGE;
				goto out;
			}
			mm_log_set_json(!strcmp(optarg, "json"));
			break;
		case OPT_WEBHOOK:
		case OPT_SLACK:
			if ((rc = flag_sink(nc, c == OPT_SLACK ? MM_SINK_SLACK : MM_SINK_WEBHOOK,
					    optarg)))
				goto out;
			break;
		case OPT_CONSOLE:
			if (strlen(optarg) >= sizeof(nc->console_url)) {
				fprintf(stderr, "mamori serve: --console-url is too long\n");
				rc = MM_EXIT_USAGE;
				goto out;
			}
			snprintf(nc->console_url, sizeof(nc->console_url), "%s", optarg);
			/* links are built as URL/#/finding/ID */
			while (nc->console_url[0] &&
			       nc->console_url[strlen(nc->console_url) - 1] == '/')
				nc->console_url[strlen(nc->console_url) - 1] = '\0';
			break;
		case OPT_MINSEV:
			if (mm_notify_severity_parse(optarg, &minsev)) {
				fprintf(stderr, "mamori serve: --min-severity takes low, medium, high, "
						"critical or a number 0..10\n");
				rc = MM_EXIT_USAGE;
				goto out;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			mm_log_set_level(MM_LOG_VERBOSE);
			break;
		case 'h':
			usage(stdout);
			goto out;
		default:
			fprintf(stderr, "Try 'mamori serve --help'.\n");
			rc = MM_EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mamori serve: unexpected argument '%s' (sources are given with "
				"--follow PATH)\n", argv[optind]);
		rc = MM_EXIT_USAGE;
		goto out;
	}
	if ((rc = mm_cli_pipe_ready("serve", cp, quiet)))
		goto out;
	if (quiet)
		mm_log_set_level(MM_LOG_QUIET);
	/* the config file's serve: section under the flags; copied, since a
	 * SIGHUP frees the config it came from */
	if (mm_config_serve(cp->cfg)) {
		if (!(svc = mm_malloc(sizeof(*svc)))) {
			fprintf(stderr, "mamori serve: out of memory\n");
			rc = MM_EXIT_ERROR;
			goto out;
		}
		*svc = *mm_config_serve(cp->cfg);
		if (!listen_given && (svc->set & MM_SERVE_LISTEN))
			o.listen = svc->listen;
		rl.follow_given = o.nfollow > 0;
		rl.tls_given = o.tls_cert || o.tls_key;
		if (!o.nfollow)
			for (i = 0; i < svc->nfollow && i < MM_SERVE_MAX_FOLLOW; i++)
				o.follow[o.nfollow++] = svc->follow[i];
		if (!o.poll_ms && (svc->set & MM_SERVE_POLL))
			o.poll_ms = svc->poll_ms;
		if (!o.tls_cert && !o.tls_key && (svc->set & MM_SERVE_TLS_CERT))
			o.tls_cert = svc->tls_cert;
		if (!o.tls_key && o.tls_cert == svc->tls_cert && (svc->set & MM_SERVE_TLS_KEY))
			o.tls_key = svc->tls_key;
	}
	if (!o.nfollow && !o.syslog_udp && !o.syslog_tcp && !o.stdin_src)
		/* agents' uploads (POST /mamori/v1/ingest) are a source of their own */
		mm_info("serve: no --follow, syslog or stdin source: detecting on what agents "
			"ship (mamori agent ship) only");
	if (!o.tls_cert != !o.tls_key) {
		fprintf(stderr, "mamori serve: TLS needs both a certificate and a key (--tls-cert and "
				"--tls-key, or tls_cert and tls_key in the config file)\n");
		rc = MM_EXIT_USAGE;
		goto out;
	}
	/* sinks: the file's, then the flags' (their --min-severity); the
	 * flag's --console-url wins */
	if (!(fin = mm_calloc(1, sizeof(*fin)))) {
		fprintf(stderr, "mamori serve: out of memory\n");
		rc = MM_EXIT_ERROR;
		goto out;
	}
	{
		char msg[256];
		if (compose_sinks(svc, nc, minsev, fin, msg, sizeof(msg))) {
			fprintf(stderr, "mamori serve: %s\n", msg);
			rc = MM_EXIT_USAGE;
			goto out;
		}
	}
	if (!cp->p.db_path)
		cp->p.db_path = mm_store_default_path();
	o.p = cp->p;
	o.notify = fin;
	o.reload.prepare = reload_prepare;
	o.reload.done = reload_done;
	o.reload.sinks = reload_sinks;
	o.reload.ctx = &rl;
	rl.flag_sinks = nc;
	rl.minsev = minsev;
	rl.o = &o;
	rl.listen_given = listen_given;
	if (mm_serve_run(&o, &err)) {
		fprintf(stderr, "mamori serve: %s\n", err.msg[0] ? err.msg : mm_strerror(err.code));
		rc = err.code == MM_EBUSY ? MM_EXIT_BUSY : MM_EXIT_ERROR;
	}
out:
	mm_free(nc);
	mm_free(fin);
	mm_free(svc);
	mm_cli_pipe_free(&rl.slot[0]);
	mm_cli_pipe_free(&rl.slot[1]);
	return rc;
}
