/* test_agent_collect.c - the agent's collectors against this machine's
 * /proc (real child processes, a real loopback TCP connection) and
 * against fixed text (the /proc/net table format, passwd). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/proc.h"
#include "agent/sock.h"
#include "agent/users.h"
#include "core/mem.h"
#include "mmtest.h"

/* Copy /bin/sleep to dir/name; returns the path (static). */
static const char *copy_sleep(const char *dir, const char *name)
{
	static char path[512];
	char cmd[1200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "cp \"$(command -v sleep)\" '%s' && chmod 755 '%s'", path, path);
	if (system(cmd))
		return NULL;
	return path;
}

static pid_t spawn(const char *exe, const char *arg)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl(exe, exe, arg, (char *)NULL);
		_exit(127);
	}
	/* until it has exec'd (a loaded machine may take a while) */
	for (int i = 0; i < 100; i++) {
		char lp[64], buf[512];
		ssize_t n;
		snprintf(lp, sizeof(lp), "/proc/%d/exe", (int)pid);
		n = readlink(lp, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			if (!strncmp(buf, exe, strlen(exe)))
				break;
		}
		usleep(50 * 1000);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int file_sha(const char *path, char out[65])
{
	int fd = open(path, O_RDONLY), rc;
	if (fd < 0)
		return -1;
	rc = mm_sha256_fd(fd, 1ull << 30, out);
	close(fd);
	return rc;
}

MM_TEST(proc_finds_child_with_exe_cmdline_hash_lineage)
{
	char dir[] = "/tmp/mm-proc-XXXXXX", want[65];
	const char *exe;
	pid_t pid;
	struct mm_proc_table t = { 0 };
	struct mm_hashcache hc;
	struct mm_proc *p;
	CHECK(mkdtemp(dir) != NULL);
	exe = copy_sleep(dir, "kthreaddw");
	CHECK(exe != NULL);
	CHECK(file_sha(exe, want) == 0);
	pid = spawn(exe, "30");
	CHECK_EQ_INT(mm_proc_snapshot(&t, "/proc", NULL, NULL), 0);
	p = mm_proc_find(&t, pid);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ_STR(p->name, "kthreaddw");
		CHECK_EQ_STR(p->exe, exe);
		CHECK_EQ_INT(p->exe_deleted, 0);
		CHECK(strstr(p->cmdline, "kthreaddw 30") != NULL);
		CHECK_EQ_INT(p->ppid, getpid());
		CHECK_EQ_INT(p->uid, geteuid());
		CHECK(p->start_ms > 1500000000000LL);
		CHECK(p->start_ms <= (int64_t)time(NULL) * 1000 + 2000);
	}
	mm_hashcache_init(&hc);
	mm_proc_hash(&t, &hc, "/proc", 1ull << 30);
	mm_proc_lineage(&t);
	p = mm_proc_find(&t, pid);
	if (p) {
		char lp[64];
		CHECK_EQ_STR(p->sha256, want);
		snprintf(lp, sizeof(lp), "%d:", (int)getpid());
		CHECK(!strncmp(p->lineage, lp, strlen(lp)));
	}
	/* a second pass hits the cache */
	{
		uint64_t misses = hc.misses;
		mm_proc_hash(&t, &hc, "/proc", 1ull << 30);
		CHECK_EQ_INT(hc.misses, misses);
		CHECK(hc.hits > 0);
	}
	/* a budget of 0 hashes nothing new: deferred, not an error */
	{
		struct mm_hashcache h2;
		mm_hashcache_init(&h2);
		mm_proc_hash(&t, &h2, "/proc", 0);
		CHECK(h2.deferred > 0);
		CHECK_EQ_INT(h2.hashed_bytes, 0);
		mm_hashcache_free(&h2);
	}
	reap(pid);
	mm_hashcache_free(&hc);
	mm_proc_table_free(&t);
	unlink(exe);
	rmdir(dir);
}

MM_TEST(proc_deleted_exe_still_hashes)
{
	char dir[] = "/tmp/mm-proc-XXXXXX", want[65];
	const char *exe;
	pid_t pid;
	struct mm_proc_table t = { 0 };
	struct mm_hashcache hc;
	struct mm_proc *p;
	CHECK(mkdtemp(dir) != NULL);
	exe = copy_sleep(dir, "gone");
	CHECK(file_sha(exe, want) == 0);
	pid = spawn(exe, "30");
	CHECK(unlink(exe) == 0);
	CHECK_EQ_INT(mm_proc_snapshot(&t, "/proc", NULL, NULL), 0);
	mm_hashcache_init(&hc);
	mm_proc_hash(&t, &hc, "/proc", 1ull << 30);
	p = mm_proc_find(&t, pid);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ_INT(p->exe_deleted, 1);
		CHECK_EQ_STR(p->exe, exe);
		CHECK_EQ_STR(p->sha256, want);
	}
	reap(pid);
	mm_hashcache_free(&hc);
	mm_proc_table_free(&t);
	rmdir(dir);
}

MM_TEST(proc_cpu_share_of_a_busy_child)
{
	struct mm_proc_table a = { 0 }, b = { 0 };
	struct mm_proc *p;
	pid_t pid = fork();
	if (pid == 0) {
		volatile unsigned long x = 0;
		alarm(20);
		for (;;)
			x++;
	}
	usleep(100 * 1000);
	CHECK_EQ_INT(mm_proc_snapshot(&a, "/proc", NULL, NULL), 0);
	usleep(1000 * 1000);
	CHECK_EQ_INT(mm_proc_snapshot(&b, "/proc", NULL, NULL), 0);
	mm_proc_cpu(&b, &a, 1000);
	p = mm_proc_find(&b, pid);
	CHECK(p != NULL);
	if (p)
		CHECK(p->cpu_permille >= 100); /* a busy loop on a shared, loaded 2-core box */
	p = mm_proc_find(&b, getpid());
	if (p)
		CHECK(p->cpu_permille < 300); /* we slept */
	reap(pid);
	mm_proc_table_free(&a);
	mm_proc_table_free(&b);
}

MM_TEST(proc_missing_dir_is_eio_and_vanished_pid_skipped)
{
	struct mm_proc_table t = { 0 };
	CHECK(mm_proc_snapshot(&t, "/nonexistent-proc", NULL, NULL) != 0);
	mm_proc_table_free(&t);
}

MM_TEST(proc_username_from_passwd)
{
	struct mm_accounts acc = { 0 };
	struct mm_proc_table t = { 0 };
	static const char pw[] = "root:x:0:0:root:/root:/bin/bash\n";
	struct mm_proc *p;
	char line[128];
	snprintf(line, sizeof(line), "tester:x:%u:0::/home/t:/bin/sh\n%s", (unsigned)geteuid(), pw);
	CHECK_EQ_INT(mm_accounts_parse(&acc, line, strlen(line)), 0);
	CHECK_EQ_INT(mm_proc_snapshot(&t, "/proc", mm_accounts_uname, &acc), 0);
	p = mm_proc_find(&t, getpid());
	CHECK(p != NULL);
	if (p)
		CHECK_EQ_STR(p->user, geteuid() == 0 ? "tester" : "tester");
	mm_proc_table_free(&t);
	mm_accounts_free(&acc);
}

MM_TEST(sock_parse_proc_net_text)
{
	static const char tcp[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0\n"
		"   1: 0100007F:9C40 0200007F:0D3D 01 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 20 4 30 10 -1\n"
		"   2: garbage line\n";
	static const char tcp6[] =
		"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0\n";
	struct mm_sock_table t = { 0 };
	char buf[64];
	CHECK_EQ_INT(mm_sock_parse(&t, tcp, strlen(tcp), 6, 0), 0);
	CHECK_EQ_INT(t.n, 2);
	if (t.n == 2) {
		CHECK_EQ_STR(mm_ip_format(&t.v[0].local, buf), "127.0.0.1");
		CHECK_EQ_INT(t.v[0].lport, 3306);
		CHECK_EQ_STR(mm_sock_state_name(6, t.v[0].state), "LISTEN");
		CHECK_EQ_INT(t.v[0].inode, 12345);
		CHECK_EQ_STR(mm_ip_format(&t.v[1].remote, buf), "127.0.0.2");
		CHECK_EQ_INT(t.v[1].rport, 3389);
		CHECK_EQ_INT(t.v[1].lport, 40000);
		CHECK_EQ_STR(mm_sock_state_name(6, t.v[1].state), "ESTABLISHED");
	}
	CHECK_EQ_INT(mm_sock_parse(&t, tcp6, strlen(tcp6), 6, 1), 0);
	CHECK_EQ_INT(t.n, 3);
	if (t.n == 3) {
		CHECK_EQ_STR(mm_ip_format(&t.v[2].local, buf), "::1");
		CHECK_EQ_INT(t.v[2].lport, 22);
	}
	CHECK_EQ_STR(mm_sock_state_name(17, 7), "UNCONN");
	mm_sock_table_free(&t);
}

MM_TEST(sock_loopback_connection_maps_to_our_pid)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM, 0), cs = socket(AF_INET, SOCK_STREAM, 0), as;
	struct mm_sock_table t = { 0 };
	struct mm_proc_table pt = { 0 };
	size_t i;
	int found = 0, listen_found = 0;
	uint16_t port;
	pid_t child;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(0x7f000001);
	CHECK(bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(ls, 4) == 0);
	CHECK(getsockname(ls, (struct sockaddr *)&sa, &sl) == 0);
	port = ntohs(sa.sin_port);
	CHECK(connect(cs, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	as = accept(ls, NULL, NULL);
	CHECK(as >= 0);
	/* a child whose stdin and stdout are the accepted socket: the
	 * reverse-shell shape */
	child = fork();
	if (child == 0) {
		dup2(as, 0);
		dup2(as, 1);
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	usleep(300 * 1000);
	CHECK_EQ_INT(mm_proc_snapshot(&pt, "/proc", NULL, NULL), 0);
	CHECK_EQ_INT(mm_sock_read(&t, "/proc"), 0);
	CHECK_EQ_INT(mm_sock_map(&t, &pt, "/proc"), 0);
	for (i = 0; i < t.n; i++) {
		const struct mm_sock *s = &t.v[i];
		if (s->proto == 6 && s->rport == port && s->state == MM_TCP_ESTABLISHED) {
			found = 1;
			CHECK_EQ_INT(s->pid, getpid());
			CHECK_EQ_INT(s->fd, cs);
		}
		if (s->proto == 6 && s->lport == port && s->state == MM_TCP_LISTEN) {
			listen_found = 1;
			CHECK_EQ_INT(s->pid, getpid());
		}
	}
	CHECK(found);
	CHECK(listen_found);
	{
		struct mm_proc *c = mm_proc_find(&pt, child);
		struct mm_proc *me = mm_proc_find(&pt, getpid());
		CHECK(c != NULL);
		if (c)
			CHECK_EQ_INT(c->stdio_sock & 3, 3);
		if (me)
			CHECK_EQ_INT(me->stdio_sock & 1, 0);
	}
	reap(child);
	close(as);
	close(cs);
	close(ls);
	mm_sock_table_free(&t);
	mm_proc_table_free(&pt);
}

struct changes {
	char buf[512];
};

static int note(void *ctx, const struct mm_account *a, const char *change)
{
	struct changes *c = ctx;
	size_t l = strlen(c->buf);
	snprintf(c->buf + l, sizeof(c->buf) - l, "%s:%s ", a->name, change);
	return 0;
}

MM_TEST(users_diff_new_uid0_shell_deleted)
{
	static const char before[] = "root:x:0:0:root:/root:/bin/bash\n"
				     "git:x:998:998::/home/git:/sbin/nologin\n"
				     "old:x:1001:1001::/home/old:/bin/bash\n"
				     "# comment\nbroken line\n";
	static const char now[] = "root:x:0:0:root:/root:/bin/bash\n"
				  "git:x:998:998::/home/git:/bin/bash\n"
				  "toor:x:0:0::/root:/bin/sh\n";
	struct mm_accounts a = { 0 }, b = { 0 };
	struct changes c = { "" };
	CHECK_EQ_INT(mm_accounts_parse(&a, before, strlen(before)), 0);
	CHECK_EQ_INT(a.n, 3);
	CHECK_EQ_INT(mm_accounts_parse(&b, now, strlen(now)), 0);
	CHECK_EQ_INT(mm_accounts_diff(&a, &b, note, &c), 0);
	CHECK_EQ_STR(c.buf, "git:shell toor:created toor:uid0 old:deleted ");
	/* no baseline: only the uid 0 duplicates */
	c.buf[0] = '\0';
	CHECK_EQ_INT(mm_accounts_diff(NULL, &b, note, &c), 0);
	CHECK_EQ_STR(c.buf, "toor:uid0 ");
	CHECK(mm_shell_is_login("/bin/bash"));
	CHECK(!mm_shell_is_login("/usr/sbin/nologin"));
	CHECK(!mm_shell_is_login("/bin/false"));
	CHECK(!mm_shell_is_login(""));
	mm_accounts_free(&a);
	mm_accounts_free(&b);
}

MM_TEST(users_load_from_root_with_shadow)
{
	char dir[] = "/tmp/mm-users-XXXXXX", p[600];
	FILE *f;
	struct mm_accounts a = { 0 };
	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "%s/etc", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/passwd", dir);
	f = fopen(p, "w");
	fputs("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/etc/shadow", dir);
	f = fopen(p, "w");
	fputs("root:*:19000::::::\n", f);
	fclose(f);
	CHECK_EQ_INT(mm_accounts_load(&a, dir), 0);
	CHECK_EQ_INT(a.n, 2);
	CHECK(mm_accounts_by_name(&a, "root")->in_shadow);
	CHECK(!mm_accounts_by_name(&a, "alice")->in_shadow);
	CHECK_EQ_STR(mm_accounts_uname(&a, 1000), "alice");
	CHECK(mm_accounts_uname(&a, 4242) == NULL);
	mm_accounts_free(&a);
	/* missing passwd: empty, not an error */
	CHECK_EQ_INT(mm_accounts_load(&a, "/nonexistent-root"), 0);
	CHECK_EQ_INT(a.n, 0);
	mm_accounts_free(&a);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	CHECK(system(p) == 0);
}

#include "agent/fim.h"
#include "core/buf.h"

MM_TEST(fim_diff_one_hunk_bounded)
{
	static const char a[] = "root:x:0:0\ndaemon:x:1:1\nbin:x:2:2\n";
	static const char b[] = "root:x:0:0\ndaemon:x:1:1\nevil:x:0:0\nbin:x:2:2\n";
	struct mm_buf o;
	mm_buf_init(&o, 1 << 20);
	CHECK_EQ_INT(mm_fim_diff(&o, a, strlen(a), b, strlen(b), 8192), 0);
	CHECK_EQ_STR(o.p, "@@ -3,0 +3,1 @@\n+evil:x:0:0\n");
	mm_buf_reset(&o);
	CHECK_EQ_INT(mm_fim_diff(&o, a, strlen(a), a, strlen(a), 8192), 0);
	CHECK_EQ_INT(o.len, 0);
	mm_buf_reset(&o);
	CHECK_EQ_INT(mm_fim_diff(&o, "x\n", 2, "y\n", 2, 8192), 0);
	CHECK_EQ_STR(o.p, "@@ -1,1 +1,1 @@\n-x\n+y\n");
	mm_buf_reset(&o);
	{
		static char big[20000];
		memset(big, 'a', sizeof(big) - 2);
		big[sizeof(big) - 2] = '\n';
		CHECK_EQ_INT(mm_fim_diff(&o, "x\n", 2, big, sizeof(big) - 1, 100), 0);
		CHECK(o.len < 200);
		CHECK(strstr(o.p, "(cut)") != NULL);
	}
	mm_buf_free(&o);
}

#include "agent/collect.h"

/* root/run/cloud-init/instance-data.json := text (NULL: no file); then
 * the account and region read from it. */
static void place_of(const char *root, const char *text, char acct[32], char region[64])
{
	char path[600];
	snprintf(path, sizeof(path), "%s/run/cloud-init/instance-data.json", root);
	unlink(path);
	if (text) {
		FILE *f = fopen(path, "w");
		if (f) {
			fputs(text, f);
			fclose(f);
		}
	}
	mm_agent_instance_place(root, acct, 32, region, 64);
}

MM_TEST(instance_place_from_cloud_init)
{
	char dir[] = "/tmp/mm-place-XXXXXX", sub[600], acct[32], region[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/run", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/run/cloud-init", dir);
	mkdir(sub, 0700);
	/* EC2: the identity document and the standard key */
	place_of(dir,
		 "{\"ds\":{\"dynamic\":{\"instance-identity\":{\"document\":{\"accountId\":"
		 "\"123456789012\",\"region\":\"us-east-2\"}}}},\"v1\":{\"region\":\"us-east-2\"}}",
		 acct, region);
	CHECK_EQ_STR(acct, "123456789012");
	CHECK_EQ_STR(region, "us-east-2");
	/* v1.region alone (another datasource): no account */
	place_of(dir, "{\"v1\":{\"cloud_name\":\"aws\",\"region\":\"ap-south-1\"}}", acct, region);
	CHECK_EQ_STR(acct, "");
	CHECK_EQ_STR(region, "ap-south-1");
	/* not ids: 13 digits, a number, escapes, a region with a slash */
	place_of(dir,
		 "{\"ds\":{\"dynamic\":{\"instance-identity\":{\"document\":{\"accountId\":"
		 "\"1234567890123\",\"region\":\"us/east\"}}}}}",
		 acct, region);
	CHECK_EQ_STR(acct, "");
	CHECK_EQ_STR(region, "");
	place_of(dir,
		 "{\"ds\":{\"dynamic\":{\"instance-identity\":{\"document\":{\"accountId\":"
		 "123456789012,\"region\":\"us-\\u0065ast-1\"}}}}}",
		 acct, region);
	CHECK_EQ_STR(acct, "");
	CHECK_EQ_STR(region, "");
	/* broken JSON, an array, no file: empty, no crash */
	place_of(dir, "{\"v1\":{\"region\":\"eu-west-1\"", acct, region);
	CHECK_EQ_STR(region, "");
	place_of(dir, "[\"v1\"]", acct, region);
	CHECK_EQ_STR(region, "");
	place_of(dir, NULL, acct, region);
	CHECK_EQ_STR(acct, "");
	CHECK_EQ_STR(region, "");
	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(sub), 0);
}
