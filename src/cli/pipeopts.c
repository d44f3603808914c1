/* pipeopts.c - the options every pipeline-running command shares. */
#include "cli/pipeopts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "core/common.h"
#include "intel/intel.h"

const char mm_cli_pipe_help[] =
	"  --db FILE                 findings database (default $MAMORI_DB or ./mamori.db)\n"
	"  --source flow|cloudtrail|dns|hostlog\n"
	"                            force the log format instead of detecting it per file\n"
	"                            (CloudTrail: S3 files, JSON lines, arrays, pretty JSON,\n"
	"                            lookup-events output, EventBridge events, Lake results)\n"
	"  --inventory FILE          `aws ec2 describe-instances` JSON (ENI -> instance)\n"
	"  --region REGION           region for findings whose logs do not say (flow logs\n"
	"                            outside the AWSLogs/<account>/<service>/<region>/ layout)\n"
	"  --threat-list [CAT=]FILE  threat list; CAT is mining, c2, tor, torexit, blackhole,\n"
	"                            droppoint, scanner, abused, bitcoin, malicious, suspicious,\n"
	"                            driveby, phishing, dga or custom (default custom). Repeatable.\n"
	"  --trusted-ips FILE        trusted addresses/CIDRs: never reported. Repeatable.\n"
	"  --no-default-lists        do not load the bundled threat lists (mining, Tor, dynamic\n"
	"                            DNS, blockchain DNS, exploit kits)\n"
	"  --config FILE             detector settings: thresholds, enabled (YAML; default\n"
	"                            $MAMORI_CONFIG if set; see 'mamori config show')\n"
	"  --geo FILE                IP ownership file (`mamori geo build`, `make geo`) for\n"
	"                            remoteIpDetails organization/country (default: the data\n"
	"                            folder's geo/geo.mmgeo if built)\n"
	"  --geoip FILE.mmdb         MaxMind DB (GeoLite2/GeoIP2 ASN, ISP, Country, City) asked\n"
	"                            before --geo's file; repeatable (up to 4)\n"
	"  --no-geo                  no organization/country at all (wins over the above)\n"
	"  --rules PATH              Sigma rules (a rule file, or every *.yml/*.yaml under a\n"
	"                            folder) run on CloudTrail events; repeatable. A broken\n"
	"                            rule stops the run (exit 2); rules mamori cannot run\n"
	"                            are named in a warning each\n"
	"  --threads N               worker threads (default: one per CPU)\n"
	"  --wait SECONDS            if another run holds the database, wait this long\n"
	"                            for it (default 0: exit 5 at once)\n"
	"  --max-findings N          findings held before they are written into the open\n"
	"                            transaction (memory bound; default 50000, ~180 MB)\n"
	"  --report-unknown-enis     with an inventory, still report traffic on interfaces\n"
	"                            it does not know (NAT gateways, load balancers, ...)\n"
	"  --host NAME               host logs (auth.log, secure, cron, journald JSON) are\n"
	"                            this host's; an instance id (i-...) names the instance\n";

void mm_cli_pipe_init(struct mm_cli_pipe *cp)
{
	memset(cp, 0, sizeof(*cp));
	mm_sigma_set_init(&cp->sigma);
}

void mm_cli_pipe_free(struct mm_cli_pipe *cp)
{
	mm_config_free(cp->cfg);
	cp->cfg = NULL;
	mm_sigma_set_free(&cp->sigma);
}

int mm_cli_pipe_opt(const char *cmd, struct mm_cli_pipe *cp, int c, const char *arg)
{
	switch (c) {
		case OPT_P_DB:
			cp->p.db_path = arg;
			return 1;
		case OPT_P_SOURCE:
			if (mm_source_parse(arg, &cp->p.source)) {
				fprintf(stderr, "mamori %s: --source takes flow, cloudtrail, dns or hostlog, not '%s'\n", cmd,
					arg);
				return -MM_EXIT_USAGE;
			}
			return 1;
		case OPT_P_HOST:
			if (!arg[0] || strlen(arg) > 63) {
				fprintf(stderr, "mamori %s: --host takes a name of 1..63 bytes\n", cmd);
				return -MM_EXIT_USAGE;
			}
			cp->p.host = arg;
			return 1;
		case OPT_P_INVENTORY:
			cp->p.inventory_path = arg;
			return 1;
		case OPT_P_THREAT: {
			char *eq = strchr(arg, '=');
			enum mm_intel_cat cat = MM_CAT_CUSTOM;
			const char *path = arg;
			if (cp->p.nlists >= MM_SCAN_MAX_LISTS) {
				fprintf(stderr, "mamori %s: at most %d threat lists\n", cmd, MM_SCAN_MAX_LISTS);
				return -MM_EXIT_USAGE;
			}
			if (eq) {
				char word[32];
				snprintf(word, sizeof(word), "%.*s", (int)(eq - arg), arg);
				if (mm_intel_cat_parse(word, &cat) == 0) {
					path = eq + 1;
				} else if (access(arg, F_OK) != 0) {
					fprintf(stderr,
						"mamori %s: unknown threat list category '%s' (use mining, c2, "
						"tor, torexit, blackhole, droppoint, scanner, abused, bitcoin, "
						"malicious, suspicious, driveby, phishing, dga or custom)\n",
						cmd, word);
					return -MM_EXIT_USAGE;
				}
			}
			cp->p.lists[cp->p.nlists].cat = cat;
			cp->p.lists[cp->p.nlists].path = path;
			cp->p.nlists++;
			return 1;
		}
		case OPT_P_TRUSTED:
			if (cp->p.ntrusted >= MM_SCAN_MAX_LISTS) {
				fprintf(stderr, "mamori %s: at most %d trusted lists\n", cmd, MM_SCAN_MAX_LISTS);
				return -MM_EXIT_USAGE;
			}
			cp->p.trusted[cp->p.ntrusted++] = arg;
			return 1;
		case OPT_P_NODEFAULT:
			cp->p.no_default_lists = 1;
			return 1;
		case OPT_P_THREADS: {
			char *end;
			long t = strtol(arg, &end, 10);
			if (*end || t < 1 || t > 64) {
				fprintf(stderr, "mamori %s: --threads takes 1..64\n", cmd);
				return -MM_EXIT_USAGE;
			}
			cp->p.threads = (int)t;
			return 1;
		}
		case OPT_P_UNKNOWN_ENIS:
			cp->p.report_unknown_enis = 1;
			return 1;
		case OPT_P_REGION:
			cp->p.default_region = arg;
			return 1;
		case OPT_P_CONFIG:
			cp->config_path = arg;
			return 1;
		case OPT_P_GEO:
			cp->p.geo_path = arg;
			return 1;
		case OPT_P_NOGEO:
			cp->p.no_geo = 1;
			return 1;
		case OPT_P_GEOIP:
			if (cp->p.ngeoip >= (int)MM_ARRAY_LEN(cp->p.geoip)) {
				fprintf(stderr, "mamori %s: at most %d --geoip files\n", cmd,
					(int)MM_ARRAY_LEN(cp->p.geoip));
				return -MM_EXIT_USAGE;
			}
			cp->p.geoip[cp->p.ngeoip++] = arg;
			return 1;
		case OPT_P_RULES:
			if (cp->nrules >= MM_SCAN_MAX_LISTS) {
				fprintf(stderr, "mamori %s: at most %d --rules paths\n", cmd, MM_SCAN_MAX_LISTS);
				return -MM_EXIT_USAGE;
			}
			cp->rules[cp->nrules++] = arg;
			return 1;
		case OPT_P_WAIT:
		case OPT_P_MAX_FINDINGS: {
			char *end;
			long long v = strtoll(arg, &end, 10);
			if (*end || v < (c == OPT_P_WAIT ? 0 : 1) || v > 100000000) {
				fprintf(stderr, "mamori %s: --%s takes a whole number%s\n", cmd,
					c == OPT_P_WAIT ? "wait" : "max-findings",
					c == OPT_P_WAIT ? " of seconds" : " from 1");
				return -MM_EXIT_USAGE;
			}
			if (c == OPT_P_WAIT)
				cp->p.lock_wait_ms = (int)(v > 86400 ? 86400000 : v * 1000);
			else
				cp->p.max_findings = (size_t)v;
			return 1;
		}
	}
	return 0;
}

/* Load the --rules paths into set: a broken rule stops the run (its
 * file:line: reason on stderr, exit 2), a rule mamori cannot run is named
 * once in a warning, never dropped silently. Returns an exit status. */
static int load_rules(const char *cmd, struct mm_sigma_set *set, const char *const *paths, int n,
		      int quiet)
{
	struct mm_err err;
	int i, rc;
	mm_err_clear(&err);
	for (i = 0; i < n; i++)
		if ((rc = mm_sigma_set_add_path(set, paths[i], &err))) {
			fprintf(stderr, "mamori %s: --rules: %s\n", cmd, err.msg[0] ? err.msg : mm_strerror(rc));
			return rc == MM_ENOMEM ? MM_EXIT_ERROR : MM_EXIT_USAGE;
		}
	if (mm_sigma_set_build(set)) {
		fprintf(stderr, "mamori %s: out of memory loading Sigma rules\n", cmd);
		return MM_EXIT_ERROR;
	}
	for (i = 0; i < set->n; i++) {
		const struct mm_sigma_rule *r = set->r[i];
		if (r->status == MM_SIGMA_BROKEN)
			fprintf(stderr, "mamori %s: broken Sigma rule: %s\n", cmd, r->reason);
		else if (r->status == MM_SIGMA_UNSUPPORTED && !quiet)
			fprintf(stderr, "mamori %s: warning: Sigma rule not run: %s\n", cmd, r->reason);
	}
	if (set->nbroken) {
		fprintf(stderr, "mamori %s: %d broken Sigma rules; fix or remove them (`mamori rules "
				"check` lists every verdict)\n", cmd, set->nbroken);
		return MM_EXIT_USAGE;
	}
	if (!quiet)
		fprintf(stderr, "mamori %s: Sigma rules: %d run (%d correlations), %d not run\n", cmd,
			set->nok, set->ncorr, set->nunsupported);
	return MM_EXIT_OK;
}

int mm_cli_pipe_ready(const char *cmd, struct mm_cli_pipe *cp, int quiet)
{
	int rc;
	/* the config before anything is opened: a typo in it stops the run */
	if ((rc = mm_cli_load_config(cmd, cp->config_path, &cp->cfg)))
		return rc;
	cp->p.config = cp->cfg;
	if (cp->nrules) {
		if ((rc = load_rules(cmd, &cp->sigma, cp->rules, cp->nrules, quiet)))
			return rc;
		cp->p.sigma = &cp->sigma;
	}
	return MM_EXIT_OK;
}
