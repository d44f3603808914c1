/* main.c - the mamori binary: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/mem.h"

#ifndef MM_VERSION
#define MM_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fputs("usage: mamori COMMAND [options]\n"
	      "\n"
	      "Self-hosted threat detection for AWS logs and Linux hosts: GuardDuty-format\n"
	      "findings from VPC Flow Logs, Route 53 Resolver query logs and CloudTrail.\n"
	      "\n"
	      "commands:\n"
	      "  scan PATH...        read logs, detect threats, store findings\n"
	      "  serve --follow DIR  run continuously: follow logs, detect, serve GuardDuty's API\n"
	      "  findings list|show  read stored findings\n"
	      "  sim                 write a simulated estate's logs with attacks in them\n"
	      "  config show|check   print the effective configuration; validate a config file\n"
	      "  flows PATH...       the flow records behind an instance, interface or finding\n"
	      "  geo build|lookup    build/query the IP ownership file (ASN, country, AWS)\n"
	      "  rules check|test    load Sigma rules and say which run; try one on events\n"
	      "  keys create|list|delete\n"
	      "                      access keys the API accepts (AWS CLI and SDKs, SigV4)\n"
	      "  users add|list|delete  who may sign in to serve's web console\n"
	      "  agent [SUBCOMMAND]  the host agent: collect, detect, triage, respond\n"
	      "\n"
	      "Run 'mamori COMMAND --help' for a command's options; 'man mamori' for more.\n",
	      out);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	if (!cmd || !strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(cmd ? stdout : stderr);
		return cmd ? MM_EXIT_OK : MM_EXIT_USAGE;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("mamori %s\n", MM_VERSION);
		return MM_EXIT_OK;
	}
	if (!strcmp(cmd, "scan")) {
		mm_mem_set_argv(argv); /* restarted once the inputs are known */
		return mm_cmd_scan(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "serve")) {
		mm_mem_thp_restart(argv);
		return mm_cmd_serve(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "findings"))
		return mm_cmd_findings(argc - 1, argv + 1);
	if (!strcmp(cmd, "sim"))
		return mm_cmd_sim(argc - 1, argv + 1);
	if (!strcmp(cmd, "config"))
		return mm_cmd_config(argc - 1, argv + 1);
	if (!strcmp(cmd, "flows"))
		return mm_cmd_flows(argc - 1, argv + 1);
	if (!strcmp(cmd, "geo"))
		return mm_cmd_geo(argc - 1, argv + 1);
	if (!strcmp(cmd, "rules"))
		return mm_cmd_rules(argc - 1, argv + 1);
	if (!strcmp(cmd, "keys"))
		return mm_cmd_keys(argc - 1, argv + 1);
	if (!strcmp(cmd, "users"))
		return mm_cmd_users(argc - 1, argv + 1);
	if (!strcmp(cmd, "agent"))
		return mm_cmd_agent(argc - 1, argv + 1);
	fprintf(stderr, "mamori: unknown command '%s'\n", cmd);
	usage(stderr);
	return MM_EXIT_USAGE;
}
