/* flows.c - `mamori flows`: the hunt after a finding. Which flow records
 * lie behind an instance, an interface or a finding, filtered, as rows or
 * as top talkers / ports / bytes per hour, as a table or JSON Lines.
 * The logic is src/hunt/flows.c; this file is options and printing. */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mtime.h"
#include "enrich/inventory.h"
#include "finding/finding.h"
#include "hunt/flows.h"
#include "store/store.h"

#define DEFAULT_LIMIT 10000
#define DEFAULT_TOP 10
#define DEFAULT_AROUND_S 3600

static void usage(FILE *out)
{
	fputs("usage: mamori flows [what] [filters] [output] PATH...\n"
	      "\n"
	      "The VPC Flow Log records behind an instance, an interface or a finding: read\n"
	      "from the same logs `mamori scan` reads (files, folders in the S3 layout, .gz),\n"
	      "filtered, printed as rows or summaries. Files whose S3 key lies outside the\n"
	      "time window, and CloudTrail / Route 53 folders, are skipped unopened.\n"
	      "\n"
	      "what (repeatable; none: every interface):\n"
	      "  --instance ID         an instance: its interfaces (from --inventory, the\n"
	      "                        database's inventory or RunInstances in the input)\n"
	      "                        and the records naming it (instance-id, v3+ logs)\n"
	      "  --eni ID              an interface (eni-...)\n"
	      "  --finding ID          a stored finding (id or a unique prefix of 6+): its\n"
	      "                        instance or interface, in its first..last seen window\n"
	      "                        widened by --around\n"
	      "  --db FILE             findings database: --finding's (default $MAMORI_DB,\n"
	      "                        else ./mamori.db), and the instances scan learned\n"
	      "                        (read when --db or $MAMORI_DB is given)\n"
	      "  --inventory FILE      `aws ec2 describe-instances` JSON (instance -> ENIs,\n"
	      "                        and which side of a record is the instance)\n"
	      "\n"
	      "filters:\n"
	      "  --since WHEN          records overlapping WHEN or later: 2024-03-04,\n"
	      "                        2024-03-04T09:00:00Z (RFC 3339), or an age: 2h, 7d\n"
	      "  --until WHEN          records that started before WHEN (same forms)\n"
	      "  --around DURATION     with --finding: widen its window by this on each side\n"
	      "                        (default 1h; 0 for the exact window; 30m, 2h, 1d)\n"
	      "  --remote IP[/LEN]     the remote side is this address or in this CIDR\n"
	      "  --port N              either side's port is N\n"
	      "  --local-port N        the interface's port is N\n"
	      "  --remote-port N       the remote side's port is N\n"
	      "  --proto P             tcp, udp, icmp, icmpv6 or a protocol number\n"
	      "  --action A            accept or reject\n"
	      "  --no-prune            open every file, whatever its S3 key time says\n"
	      "\n"
	      "output:\n"
	      "  --summary S           talkers (per remote address), ports (per direction,\n"
	      "                        protocol and service port) or bytes (per hour)\n"
	      "  --top N               talkers/ports: the N biggest by bytes (default 10,\n"
	      "                        0 = all)\n"
	      "  --limit N             rows: the N earliest (default 10000, 0 = all)\n"
	      "  --format F            table (default on a terminal) or json (JSON Lines,\n"
	      "                        default otherwise; jsonl is the same)\n"
	      "  --threads N           worker threads (default: one per CPU)\n"
	      "  --no-progress         no progress line (it only shows on a terminal anyway)\n"
	      "  -q, --quiet           no progress, no summary line, no warnings\n"
	      "  -h, --help            this help\n"
	      "\n"
	      "exit status: 0 ok (also when nothing matches), 1 error (unreadable input or\n"
	      "database), 2 usage (a bad option, an unknown finding or instance)\n",
	      out);
}

enum {
	OPT_INSTANCE = 1000, OPT_ENI, OPT_FINDING, OPT_DB, OPT_INVENTORY, OPT_SINCE, OPT_UNTIL,
	OPT_AROUND, OPT_REMOTE, OPT_PORT, OPT_LPORT, OPT_RPORT, OPT_PROTO, OPT_ACTION,
	OPT_NOPRUNE, OPT_SUMMARY, OPT_TOP, OPT_LIMIT, OPT_FORMAT, OPT_THREADS, OPT_NOPROGRESS
};

static int usage_error(const char *what)
{
	fprintf(stderr, "mamori flows: %s\nTry 'mamori flows --help'.\n", what);
	return MM_EXIT_USAGE;
}

/* A whole number in [lo, hi]; 0 or -1. */
static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* "90s", "30m", "2h", "1d", "0": seconds; 0 or -1. */
static int parse_duration(const char *s, long long *out)
{
	char *end;
	long long v, unit = 1;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v > 3660LL * 86400)
		return -1;
	if (*end) {
		if (end[1])
			return -1;
		switch (*end) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: return -1;
		}
	} else if (v != 0) {
		return -1; /* a bare number needs a unit, except 0 */
	}
	*out = v * unit;
	return 0;
}

static int parse_proto(const char *s, int *out)
{
	static const struct {
		const char *name;
		int num;
	} names[] = {{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58}, {"sctp", 132}};
	size_t i;
	long v;

	for (i = 0; i < MM_ARRAY_LEN(names); i++)
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].num;
			return 0;
		}
	if (parse_num(s, 0, 255, &v))
		return -1;
	*out = (int)v;
	return 0;
}

/* ---- the store: findings and the stored inventory ----------------------- */

static int open_db(const char *path, struct mm_store **st)
{
	struct mm_err err;
	struct stat sb;

	mm_err_clear(&err);
	if (stat(path, &sb) != 0) {
		fprintf(stderr,
			"mamori flows: no database at %s; run `mamori scan` first, or pass --db FILE "
			"(or set MAMORI_DB)\n",
			path);
		return MM_EXIT_ERROR;
	}
	if ((access(path, W_OK) == 0 ? mm_store_open : mm_store_open_ro)(st, path, &err)) {
		fprintf(stderr, "mamori flows: %s\n", err.msg);
		return MM_EXIT_ERROR;
	}
	return 0;
}

static int inv_row(void *ctx, const char *id, const char *json)
{
	(void)id;
	mm_inventory_add_details_json(ctx, json, strlen(json), NULL);
	return 0;
}

/* What a finding tells the hunt: its window and the interfaces and
 * instance in its resource. */
struct finding_ctx {
	struct mm_flows_query *q;
	int found, is_ec2, bad;
	int64_t first_ms, last_ms;
	char type[128], resource[64];
};

static void add_json_target(struct finding_ctx *c, const struct mm_json_val *v, int eni,
			    struct mm_arena *ar)
{
	struct mm_str s;
	char buf[64];

	if (v->type != MM_JSON_STRING || mm_json_str(v, ar, &s) || s.n == 0 || s.n >= 32)
		return;
	snprintf(buf, sizeof(buf), "%.*s", (int)s.n, s.p);
	if ((eni ? mm_flows_add_eni(c->q, buf) : mm_flows_add_instance(c->q, buf)) == 0)
		c->is_ec2 = 1;
}

static int finding_row(void *vctx, const struct mm_finding_row *row)
{
	static char mem[16384];
	struct finding_ctx *c = vctx;
	struct mm_arena ar;
	struct mm_json_val root, nifs, el, v;
	struct mm_json_iter it;
	struct mm_str key;
	size_t used;

	mm_arena_init(&ar, mem, sizeof(mem));
	c->found = 1;
	c->first_ms = row->first_seen_ms;
	c->last_ms = row->last_seen_ms;
	snprintf(c->type, sizeof(c->type), "%s", row->type);
	snprintf(c->resource, sizeof(c->resource), "%s", row->resource);
	if (mm_json_value(row->json, strlen(row->json), &root, &used) ||
	    root.type != MM_JSON_OBJECT) {
		c->bad = 1;
		return 0;
	}
	if (mm_json_path(&root, "resource.instanceDetails.instanceId", &v) == 1)
		add_json_target(c, &v, 0, &ar);
	if (mm_json_path(&root, "resource.instanceDetails.networkInterfaces", &nifs) == 1 &&
	    nifs.type == MM_JSON_ARRAY && mm_json_iter_init(&it, &nifs) == 0)
		while (mm_json_iter_next(&it, &key, &el) == 1)
			if (el.type == MM_JSON_OBJECT &&
			    mm_json_get(&el, "networkInterfaceId", &v) == 1)
				add_json_target(c, &v, 1, &ar);
	return 0;
}

/* ---- printing ------------------------------------------------------------ */

/* "2024-03-04T09:00:00Z" from epoch seconds */
static const char *tstr(int64_t secs, char *buf)
{
	mm_time_format_iso(secs * 1000, buf);
	if (strlen(buf) == 24) {
		buf[19] = 'Z';
		buf[20] = '\0';
	}
	return buf;
}

static const char *proto_str(uint8_t p, char *buf)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	default: snprintf(buf, 8, "%u", p); return buf;
	}
}

static const char *action_str(uint8_t a)
{
	return a == MM_ACT_ACCEPT ? "ACCEPT" : a == MM_ACT_REJECT ? "REJECT" : "-";
}

static const char *status_str(uint8_t s)
{
	return s == MM_LOGST_OK ? "OK" : s == MM_LOGST_NODATA ? "NODATA"
				: s == MM_LOGST_SKIPDATA ? "SKIPDATA" : "-";
}

/* "addr:port", "[v6]:port", "addr" (no ports), "-" (none) */
static const char *endpoint(const struct mm_ip *ip, uint16_t port, int has_addr, int has_port,
			    char *buf, size_t cap)
{
	char a[MM_IP_STRLEN];

	if (!has_addr)
		return "-";
	mm_ip_format(ip, a);
	if (!has_port)
		snprintf(buf, cap, "%s", a);
	else
		snprintf(buf, cap, ip->v6 ? "[%s]:%u" : "%s:%u", a, port);
	return buf;
}

static const char *dir_str(int src_local)
{
	return src_local == 1 ? "out" : src_local == 0 ? "in" : "?";
}

/* A JSON string member: names from logs are escaped (they are outside data). */
static void jstr_member(struct mm_buf *b, const char *key, const char *val, int first)
{
	mm_buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
	mm_buf_json_strz(b, val);
}

static int print_rows(const struct mm_flows_result *r, int json)
{
	struct mm_buf b;
	char t1[MM_TIME_STRLEN], t2[MM_TIME_STRLEN], s[80], d[80], pb[8];
	char a[MM_IP_STRLEN], eni[4 * sizeof(r->rows[0].eni)];
	size_t i;

	mm_buf_init(&b, 1 << 20);
	if (!json && r->nrows)
		printf("%-20s  %-21s  %-3s  %-41s  %-41s  %-5s  %7s  %10s  %s\n", "START", "ENI",
		       "DIR", "SOURCE", "DESTINATION", "PROTO", "PACKETS", "BYTES", "ACTION");
	for (i = 0; i < r->nrows; i++) {
		const struct mm_flow_row *w = &r->rows[i];
		/* ICMP logs 0 (or type and code) as ports: not ports */
		int ports = w->has_ports && w->proto != 1 && w->proto != 58;
		if (!json) {
			printf("%-20s  %-21s  %-3s  %-41s  %-41s  %-5s  %7llu  %10llu  %s\n",
			       tstr(w->start, t1), w->eni[0] ? mm_log_safe(w->eni, eni, sizeof(eni)) : "-",
			       dir_str(w->src_local),
			       endpoint(&w->src, w->sport, w->has_addrs, ports, s, sizeof(s)),
			       endpoint(&w->dst, w->dport, w->has_addrs, ports, d, sizeof(d)),
			       w->has_addrs ? proto_str(w->proto, pb) : "-",
			       (unsigned long long)w->packets, (unsigned long long)w->bytes,
			       w->status == MM_LOGST_OK || !w->status ? action_str(w->action)
								     : status_str(w->status));
			continue;
		}
		mm_buf_reset(&b);
		mm_buf_printf(&b, "{\"start\":\"%s\",\"end\":\"%s\"", tstr(w->start, t1),
			      tstr(w->end, t2));
		jstr_member(&b, "account", w->account, 0);
		jstr_member(&b, "eni", w->eni, 0);
		if (w->instance[0])
			jstr_member(&b, "instanceId", w->instance, 0);
		mm_buf_printf(&b, ",\"direction\":\"%s\"",
			      w->src_local == 1 ? "egress" : w->src_local == 0 ? "ingress" : "unknown");
		if (w->has_addrs) {
			mm_buf_printf(&b, ",\"srcaddr\":\"%s\"", mm_ip_format(&w->src, a));
			mm_buf_printf(&b, ",\"dstaddr\":\"%s\"", mm_ip_format(&w->dst, a));
		}
		if (w->has_ports)
			mm_buf_printf(&b, ",\"srcport\":%u,\"dstport\":%u", w->sport, w->dport);
		if (w->has_addrs)
			mm_buf_printf(&b, ",\"protocol\":%u", w->proto);
		mm_buf_printf(&b, ",\"packets\":%llu,\"bytes\":%llu,\"action\":\"%s\","
				  "\"logStatus\":\"%s\"",
			      (unsigned long long)w->packets, (unsigned long long)w->bytes,
			      action_str(w->action), status_str(w->status));
		jstr_member(&b, "file", mm_filelist_rel(&r->files, w->file), 0);
		mm_buf_printf(&b, ",\"line\":%llu}\n", (unsigned long long)w->line);
		if (b.len && fwrite(b.p, 1, b.len, stdout) != b.len)
			break;
	}
	if (!json && r->nrows == 0)
		puts("No flows.");
	mm_buf_free(&b);
	return ferror(stdout) ? MM_EIO : 0;
}

static const char *dirword(uint8_t d)
{
	return d == MM_DIR_OUTBOUND ? "out" : d == MM_DIR_INBOUND ? "in" : "?";
}

static int print_groups(const struct mm_flows_result *r, enum mm_flows_mode mode, size_t top,
			int json)
{
	struct mm_buf b;
	char t1[MM_TIME_STRLEN], t2[MM_TIME_STRLEN], a[MM_IP_STRLEN], pb[8];
	size_t i, n = r->ngroups;

	if (mode != MM_FLOWS_BYTES && top && n > top)
		n = top;
	mm_buf_init(&b, 1 << 20);
	if (!json && n) {
		if (mode == MM_FLOWS_TALKERS)
			printf("%-39s", "REMOTE");
		else if (mode == MM_FLOWS_PORTS)
			printf("%-3s  %-6s  %5s", "DIR", "PROTO", "PORT");
		else
			printf("%-20s", "HOUR");
		printf("  %8s  %10s  %12s  %12s  %12s  %7s  %7s  %-20s  %s\n", "FLOWS", "PACKETS",
		       "BYTES", "BYTES OUT", "BYTES IN", "ACCEPT", "REJECT", "FIRST", "LAST");
	}
	for (i = 0; i < n; i++) {
		const struct mm_flows_group *g = &r->groups[i];
		if (!json) {
			if (mode == MM_FLOWS_TALKERS)
				printf("%-39s", mm_ip_format(&g->remote, a));
			else if (mode == MM_FLOWS_PORTS)
				printf("%-3s  %-6s  %5u", dirword(g->dir), proto_str(g->proto, pb),
				       g->port);
			else
				printf("%-20s", tstr(g->hour, t1));
			printf("  %8llu  %10llu  %12llu  %12llu  %12llu  %7llu  %7llu  %-20s  %s\n",
			       (unsigned long long)g->flows, (unsigned long long)g->packets,
			       (unsigned long long)g->bytes, (unsigned long long)g->bytes_out,
			       (unsigned long long)g->bytes_in, (unsigned long long)g->accepts,
			       (unsigned long long)g->rejects, tstr(g->first, t1), tstr(g->last, t2));
			continue;
		}
		mm_buf_reset(&b);
		if (mode == MM_FLOWS_TALKERS)
			mm_buf_printf(&b, "{\"remote\":\"%s\"", mm_ip_format(&g->remote, a));
		else if (mode == MM_FLOWS_PORTS)
			mm_buf_printf(&b, "{\"direction\":\"%s\",\"protocol\":%u,\"port\":%u",
				      g->dir == MM_DIR_OUTBOUND ? "OUTBOUND"
				      : g->dir == MM_DIR_INBOUND ? "INBOUND" : "UNKNOWN",
				      g->proto, g->port);
		else
			mm_buf_printf(&b, "{\"hour\":\"%s\"", tstr(g->hour, t1));
		mm_buf_printf(&b,
			      ",\"flows\":%llu,\"packets\":%llu,\"bytes\":%llu,\"bytesOut\":%llu,"
			      "\"bytesIn\":%llu,\"accepts\":%llu,\"rejects\":%llu,\"first\":\"%s\","
			      "\"last\":\"%s\"}\n",
			      (unsigned long long)g->flows, (unsigned long long)g->packets,
			      (unsigned long long)g->bytes, (unsigned long long)g->bytes_out,
			      (unsigned long long)g->bytes_in, (unsigned long long)g->accepts,
			      (unsigned long long)g->rejects, tstr(g->first, t1), tstr(g->last, t2));
		if (b.len && fwrite(b.p, 1, b.len, stdout) != b.len)
			break;
	}
	if (!json && n == 0)
		puts("No flows.");
	mm_buf_free(&b);
	return ferror(stdout) ? MM_EIO : 0;
}

/* ---- the command --------------------------------------------------------- */

int mm_cmd_flows(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"instance", required_argument, NULL, OPT_INSTANCE},
		{"eni", required_argument, NULL, OPT_ENI},
		{"finding", required_argument, NULL, OPT_FINDING},
		{"db", required_argument, NULL, OPT_DB},
		{"inventory", required_argument, NULL, OPT_INVENTORY},
		{"since", required_argument, NULL, OPT_SINCE},
		{"until", required_argument, NULL, OPT_UNTIL},
		{"around", required_argument, NULL, OPT_AROUND},
		{"remote", required_argument, NULL, OPT_REMOTE},
		{"port", required_argument, NULL, OPT_PORT},
		{"local-port", required_argument, NULL, OPT_LPORT},
		{"remote-port", required_argument, NULL, OPT_RPORT},
		{"proto", required_argument, NULL, OPT_PROTO},
		{"action", required_argument, NULL, OPT_ACTION},
		{"no-prune", no_argument, NULL, OPT_NOPRUNE},
		{"summary", required_argument, NULL, OPT_SUMMARY},
		{"top", required_argument, NULL, OPT_TOP},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"no-progress", no_argument, NULL, OPT_NOPROGRESS},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct mm_flows_query q; /* ~4 KB of targets: off the stack */
	struct mm_flows_result res;
	struct mm_err err;
	struct mm_inventory *inv = NULL;
	struct mm_store *st = NULL;
	const char *db = NULL, *inv_path = NULL, *finding = NULL;
	size_t top = DEFAULT_TOP;
	int c, json = !isatty(STDOUT_FILENO), quiet = 0, noprogress = 0, rc = MM_EXIT_OK;
	long long around = DEFAULT_AROUND_S, ms;
	long v;

	mm_flows_query_init(&q);
	q.limit = DEFAULT_LIMIT;
	memset(&res, 0, sizeof(res));
	mm_err_clear(&err);
	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_INSTANCE:
			if (strncmp(optarg, "i-", 2) != 0 || strlen(optarg) >= 32)
				return usage_error("--instance takes an instance id (i-...)");
			if (mm_flows_add_instance(&q, optarg))
				return usage_error("too many --instance/--eni (at most 64 each)");
			break;
		case OPT_ENI:
			if (strlen(optarg) < 2 || strlen(optarg) >= 32)
				return usage_error("--eni takes an interface id (eni-...)");
			if (mm_flows_add_eni(&q, optarg))
				return usage_error("too many --instance/--eni (at most 64 each)");
			break;
		case OPT_FINDING:
			finding = optarg;
			break;
		case OPT_DB:
			db = optarg;
			break;
		case OPT_INVENTORY:
			inv_path = optarg;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (mm_cli_parse_since(optarg, &ms))
				return usage_error(c == OPT_SINCE
					? "--since takes a date (2024-03-04), a time "
					  "(2024-03-04T09:00:00Z) or an age (2h, 7d)"
					: "--until takes a date (2024-03-04), a time "
					  "(2024-03-04T09:00:00Z) or an age (2h, 7d)");
			if (c == OPT_SINCE) {
				q.has_since = 1;
				q.since_ms = ms;
			} else {
				q.has_until = 1;
				q.until_ms = ms;
			}
			break;
		case OPT_AROUND:
			if (parse_duration(optarg, &around))
				return usage_error("--around takes a duration: 0, 90s, 30m, 2h, 1d");
			break;
		case OPT_REMOTE: {
			int len;
			if (mm_cidr_parse(optarg, strlen(optarg), &q.remote, &len))
				return usage_error("--remote takes an address or a CIDR "
						   "(203.0.113.7, 198.51.100.0/24, 2001:db8::/32)");
			q.has_remote = 1;
			q.remote_len = len;
			break;
		}
		case OPT_PORT:
		case OPT_LPORT:
		case OPT_RPORT:
			if (parse_num(optarg, 0, 65535, &v))
				return usage_error("--port, --local-port and --remote-port take 0-65535");
			*(c == OPT_PORT ? &q.port : c == OPT_LPORT ? &q.local_port : &q.remote_port) =
				(int)v;
			break;
		case OPT_PROTO:
			if (parse_proto(optarg, &q.proto))
				return usage_error("--proto takes tcp, udp, icmp, icmpv6, sctp or a "
						   "protocol number 0-255");
			break;
		case OPT_ACTION:
			if (strcasecmp(optarg, "accept") == 0)
				q.action = MM_ACT_ACCEPT;
			else if (strcasecmp(optarg, "reject") == 0)
				q.action = MM_ACT_REJECT;
			else
				return usage_error("--action takes accept or reject");
			break;
		case OPT_NOPRUNE:
			q.no_prune = 1;
			break;
		case OPT_SUMMARY:
			if (strcmp(optarg, "talkers") == 0)
				q.mode = MM_FLOWS_TALKERS;
			else if (strcmp(optarg, "ports") == 0)
				q.mode = MM_FLOWS_PORTS;
			else if (strcmp(optarg, "bytes") == 0)
				q.mode = MM_FLOWS_BYTES;
			else
				return usage_error("--summary takes talkers, ports or bytes");
			break;
		case OPT_TOP:
		case OPT_LIMIT:
			if (parse_num(optarg, 0, MM_FLOWS_MAX_ROWS, &v))
				return usage_error(c == OPT_TOP ? "--top takes a number (0 = all)"
								: "--limit takes a number (0 = all)");
			if (c == OPT_TOP)
				top = (size_t)v;
			else
				q.limit = (size_t)v;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				json = 0;
			else if (strcmp(optarg, "json") == 0 || strcmp(optarg, "jsonl") == 0)
				json = 1;
			else
				return usage_error("--format takes table or json");
			break;
		case OPT_THREADS:
			if (parse_num(optarg, 1, 64, &v))
				return usage_error("--threads takes 1..64");
			q.threads = (int)v;
			break;
		case OPT_NOPROGRESS:
			noprogress = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return MM_EXIT_OK;
		default: {
			/* name the word: a known option missing its value, or an unknown one */
			char msg[160];
			const struct option *o = longopts;
			while (o->name && (!optopt || o->val != optopt))
				o++;
			if (optopt && o->name)
				snprintf(msg, sizeof(msg), "--%s needs a value", o->name);
			else
				snprintf(msg, sizeof(msg), "unknown option '%s'",
					 optind > 0 && optind <= argc ? argv[optind - 1] : "?");
			return usage_error(msg);
		}
		}
	}
	if (optind >= argc)
		return usage_error("no input; give the log files or folders scan reads "
				   "(e.g. ./AWSLogs/)");
	if (q.has_since && q.has_until && q.until_ms <= q.since_ms)
		return usage_error("--until must be later than --since");
	if (quiet)
		mm_log_set_level(MM_LOG_QUIET);

	/* the inventory: --inventory, then what the database learned */
	if (mm_inventory_new(&inv)) {
		rc = MM_EXIT_ERROR;
		goto out;
	}
	if (inv_path && mm_inventory_load_file(inv, inv_path, &err)) {
		fprintf(stderr, "mamori flows: %s\n", err.msg);
		rc = MM_EXIT_ERROR;
		goto out;
	}
	if (!db)
		db = getenv("MAMORI_DB") && *getenv("MAMORI_DB") ? mm_store_default_path() : NULL;
	if (finding && !db)
		db = mm_store_default_path();
	if (db && (rc = open_db(db, &st)))
		goto out;
	if (st && mm_store_inventory_each(st, inv_row, inv, &err) < 0) {
		fprintf(stderr, "mamori flows: %s\n", err.msg);
		rc = MM_EXIT_ERROR;
		goto out;
	}
	if (finding) {
		struct finding_ctx fc;
		int g;
		memset(&fc, 0, sizeof(fc));
		fc.q = &q;
		g = mm_store_finding_by_id(st, finding, finding_row, &fc, &err);
		if (g < 0) {
			fprintf(stderr, "mamori flows: %s\n", err.msg[0] ? err.msg : mm_strerror(g));
			rc = MM_EXIT_ERROR;
			goto out;
		}
		if (!fc.found) {
			fprintf(stderr,
				"mamori flows: no finding '%s' in %s (or the prefix is not unique); "
				"see `mamori findings list --db %s`\n",
				finding, db, db);
			rc = MM_EXIT_USAGE;
			goto out;
		}
		if (!fc.is_ec2) {
			fprintf(stderr,
				"mamori flows: finding %s (%s) is about %s, not an instance or an "
				"interface: it has no flows; try --remote with its caller's address\n",
				finding, fc.type, fc.resource);
			rc = MM_EXIT_USAGE;
			goto out;
		}
		if (!q.has_since) {
			q.has_since = 1;
			q.since_ms = fc.first_ms - around * 1000;
		}
		if (!q.has_until) {
			q.has_until = 1;
			/* until is exclusive: the last second itself is in */
			q.until_ms = fc.last_ms + around * 1000 + 1;
		}
		if (!quiet) {
			char t1[MM_TIME_STRLEN], t2[MM_TIME_STRLEN];
			fprintf(stderr, "mamori flows: finding %s: %s on %s, flows from %s to %s\n",
				finding, fc.type, fc.resource, mm_time_format_iso(q.since_ms, t1),
				mm_time_format_iso(q.until_ms, t2));
		}
	}
	q.inv = inv;
	q.progress = !quiet && !noprogress && isatty(STDERR_FILENO);

	if ((c = mm_flows_run(&q, (const char *const *)(argv + optind), (size_t)(argc - optind),
			      &res, &err))) {
		fprintf(stderr, "mamori flows: %s\n", err.msg[0] ? err.msg : mm_strerror(c));
		rc = MM_EXIT_ERROR;
		goto out;
	}
	c = q.mode == MM_FLOWS_ROWS ? print_rows(&res, json) : print_groups(&res, q.mode, top, json);
	fflush(stdout);
	if (c) {
		fprintf(stderr, "mamori flows: cannot write output\n");
		rc = MM_EXIT_ERROR;
		goto out;
	}
	if (!quiet) {
		fprintf(stderr,
			"mamori flows: %llu of %llu records match, in %llu files read (%llu skipped "
			"by S3 key, %llu not flow logs) in %.2f s\n",
			(unsigned long long)res.matched, (unsigned long long)res.records,
			(unsigned long long)res.files_read, (unsigned long long)res.files_pruned,
			(unsigned long long)res.files_other, res.seconds);
		if (q.mode == MM_FLOWS_ROWS && res.matched > res.nrows)
			fprintf(stderr, "mamori flows: showing the %zu earliest; --limit N (0 = all) "
					"or a --summary for the rest\n",
				res.nrows);
		if (res.bad_records)
			fprintf(stderr, "mamori flows: %llu malformed records skipped (see the "
					"file:line messages above)\n",
				(unsigned long long)res.bad_records);
	}
	if (res.files_failed)
		rc = MM_EXIT_ERROR;
out:
	mm_flows_result_free(&res);
	mm_inventory_free(inv);
	mm_store_close(st);
	return rc;
}
