/* agent.c - `mamori agent`: the host agent's subcommands, dispatched
 * through one table (each entry: a word, its one-line summary, its
 * handler). `mamori agent` with no subcommand word (or with options
 * first) runs the agent itself: the entry named "run".
 *
 * Handlers are `int fn(int argc, char **argv)` with argv[0] the
 * subcommand word (for "run": "agent"), returning an MM_EXIT_ code. */
#include "cli/cli.h"
#include "agent/run.h"

#include <stdio.h>
#include <string.h>

struct agent_cmd {
	const char *word;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

static const struct agent_cmd agent_cmds[] = {
	/* add subcommands below, one line each */
	{ "respond", "contain: kill, quarantine, block, lock-user, remove-cron; undo, list", mm_cmd_agent_respond },
	{ "run", "the agent: collect, detect, store (--once or a daemon)", mm_agent_run_main },
	{ "triage", "pack the evidence of this host into a tar.gz (read-only)", mm_agent_triage_main },
	{ "ship", "upload files' new lines to a central `mamori serve` (queued while it is away)", mm_cmd_agent_ship },
	{ NULL, NULL, NULL }
};

static void agent_usage(FILE *to)
{
	const struct agent_cmd *c;

	fputs("usage: mamori agent [SUBCOMMAND] [OPTIONS]\n"
	      "\n"
	      "The host agent: collects what a Linux host can tell about itself, detects,\n"
	      "packs evidence and contains. Subcommands:\n",
	      to);
	for (c = agent_cmds; c->word; c++)
		fprintf(to, "  %-10s %s\n", c->word, c->summary);
	fputs("\n`mamori agent SUBCOMMAND --help` describes each; see also mamori-agent(1).\n", to);
}

int mm_cmd_agent(int argc, char **argv)
{
	const struct agent_cmd *c;
	const char *word = argc > 1 ? argv[1] : NULL;

	if (word && (!strcmp(word, "-h") || !strcmp(word, "--help") || !strcmp(word, "help"))) {
		agent_usage(stdout);
		return MM_EXIT_OK;
	}
	if (word && word[0] != '-') {
		for (c = agent_cmds; c->word; c++)
			if (!strcmp(c->word, word))
				return c->fn(argc - 1, argv + 1);
		fprintf(stderr, "mamori agent: unknown subcommand '%s'\n", word);
		agent_usage(stderr);
		return MM_EXIT_USAGE;
	}
	for (c = agent_cmds; c->word; c++)
		if (!strcmp(c->word, "run"))
			return c->fn(argc, argv);
	fputs("mamori agent: the agent itself is not built in this binary\n", stderr);
	agent_usage(stderr);
	return MM_EXIT_USAGE;
}
