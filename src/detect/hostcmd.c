/* hostcmd.c - Execution/Persistence/DefenseEvasion:Runtime/SuspiciousCommand
 * from host events: the commands cron ran and sudo allowed (auth/cron
 * logs), the command lines the host agent saw (PROC), account changes
 * (useradd, usermod into sudo/wheel, ACCOUNT events), crontab edits and
 * FILE events on crontab and systemd unit paths.
 *
 * Stateless: each finding is a function of one event, so threads need no
 * merge (the aggregator is exact). Matching is by bounded substring and
 * word tests on the logged text; nothing is ever executed. The patterns
 * and their look-alikes are in docs/finding-types.md. */
#include <stdio.h>
#include <string.h>

#include "detect/detect.h"

#define T_EXEC "Execution:Runtime/SuspiciousCommand"
#define T_PERS "Persistence:Runtime/SuspiciousCommand"
#define T_EVAS "DefenseEvasion:Runtime/SuspiciousCommand"

#define MAX_CMD 8192	/* longer command lines are looked at up to here */

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* Position just past the first occurrence of word w in s[from..) that
 * starts a word (after a start, a separator or a '/'), or -1. w may end
 * in a non-word char (then no end test). */
static long word_at(const char *s, size_t n, size_t from, const char *w)
{
	size_t k = strlen(w), i;
	for (i = from; i + k <= n; i++) {
		if (memcmp(s + i, w, k) != 0)
			continue;
		if (i > 0 && (is_word_char(s[i - 1]) && s[i - 1] != '-'))
			continue;
		if (i > 0 && s[i - 1] == '-')
			continue;
		if (is_word_char(w[k - 1]) && i + k < n && is_word_char(s[i + k]))
			continue;
		return (long)(i + k);
	}
	return -1;
}

static int has_word(const char *s, size_t n, const char *w)
{
	return word_at(s, n, 0, w) >= 0;
}

static int has(const char *s, size_t n, const char *z)
{
	return memmem(s, n, z, strlen(z)) != NULL;
}

static const char *const shells[] = {"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox",
				     "python", "python2", "python3", "perl", "ruby", "php", NULL};

/* Is there a '|' after position from whose right side runs a shell or
 * an interpreter (optionally through sudo / env / a path)? */
static int piped_to_shell(const char *s, size_t n, size_t from)
{
	size_t i;
	for (i = from; i < n; i++) {
		size_t j, k;
		int t;
		if (s[i] != '|' || (i + 1 < n && s[i + 1] == '|') || (i > 0 && s[i - 1] == '|'))
			continue;
		j = i + 1;
		for (;;) {
			while (j < n && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j + 5 <= n && memcmp(s + j, "sudo ", 5) == 0) {
				j += 5;
				continue;
			}
			if (j + 4 <= n && memcmp(s + j, "env ", 4) == 0) {
				j += 4;
				continue;
			}
			break;
		}
		/* a path: take the last component */
		k = j;
		while (k < n && s[k] != ' ' && s[k] != '\t' && s[k] != ';' && s[k] != '|' && s[k] != ')')
			k++;
		{
			size_t b = k;
			while (b > j && s[b - 1] != '/')
				b--;
			j = b;
		}
		for (t = 0; shells[t]; t++) {
			size_t L = strlen(shells[t]);
			if (k - j == L && memcmp(s + j, shells[t], L) == 0)
				return 1;
		}
	}
	return 0;
}

/* The Execution patterns: what runs code it has just fetched or decoded. */
static const char *exec_match(const char *s, size_t n)
{
	static const char *const fetchers[] = {"curl", "wget", "fetch", "tftp", NULL};
	int i;
	long at;
	for (i = 0; fetchers[i]; i++) {
		at = word_at(s, n, 0, fetchers[i]);
		while (at >= 0) {
			if (piped_to_shell(s, n, (size_t)at))
				return "download piped into a shell";
			at = word_at(s, n, (size_t)at, fetchers[i]);
		}
	}
	/* bash -c "$(curl ...)", sh -c `wget -O- ...`, eval "$(curl ...)" */
	if (has(s, n, "$(curl") || has(s, n, "$(wget") || has(s, n, "`curl") || has(s, n, "`wget") ||
	    has(s, n, "<(curl") || has(s, n, "<(wget"))
		return "downloaded script executed by command substitution";
	at = word_at(s, n, 0, "base64");
	if (at >= 0 && (has(s, n, " -d") || has(s, n, "--decode")) && piped_to_shell(s, n, (size_t)at))
		return "base64-decoded text piped into a shell";
	if ((has_word(s, n, "python") || has_word(s, n, "python3") || has_word(s, n, "python2") ||
	     has_word(s, n, "perl")) &&
	    (has(s, n, " -c ") || has(s, n, " -e ")) && has(s, n, "socket") &&
	    (has(s, n, "exec") || has(s, n, "subprocess") || has(s, n, "pty") || has(s, n, "dup2") ||
	     has(s, n, "/bin/sh") || has(s, n, "/bin/bash")))
		return "interpreter one-liner opening a socket and running a shell";
	return NULL;
}

/* The DefenseEvasion patterns: hiding tracks, lowering defences. */
static const char *evasion_match(const char *s, size_t n)
{
	long at;
	/* SigmaHQ lnx_shell_clear_cmd_history's keywords ("unset HISTFILE"
	 * left out, as there: too common in legitimate scripts) */
	if (has(s, n, "history -c") || has(s, n, "history -w") || has(s, n, "HISTFILE=/dev/null") ||
	    has(s, n, "HISTSIZE=0") || has(s, n, "HISTFILESIZE=0") || has(s, n, "shopt -ou history") ||
	    has(s, n, "shopt -uo history") || has(s, n, "empty_bash_history") ||
	    (has(s, n, "sh_history") &&
	     (has_word(s, n, "rm") || has_word(s, n, "shred") || has(s, n, "/dev/null") ||
	      has(s, n, "/dev/zero") || has_word(s, n, "truncate") || has(s, n, "echo \"\" >") ||
	      (has_word(s, n, "chattr") && has(s, n, "+i")))))
		return "shell history cleared";
	if (has(s, n, "/var/log/") &&
	    (has_word(s, n, "rm") || has_word(s, n, "shred") || has_word(s, n, "truncate") ||
	     has(s, n, "mv /var/log/") ||
	     has(s, n, "> /var/log/") || has(s, n, ">/var/log/") || has(s, n, "/dev/null > /var/log") ||
	     has(s, n, "/dev/null >/var/log")))
		return "log files removed or truncated";
	if (has(s, n, "setenforce 0") || has(s, n, "SELINUX=disabled"))
		return "SELinux disabled";
	if (((at = word_at(s, n, 0, "iptables")) >= 0 || (at = word_at(s, n, 0, "ip6tables")) >= 0) &&
	    (has(s, n, " -F") || has(s, n, " --flush")))
		return "firewall rules flushed";
	if (has(s, n, "ufw disable") || has(s, n, "nft flush ruleset") ||
	    ((has(s, n, "systemctl stop") || has(s, n, "systemctl disable")) &&
	     (has(s, n, "firewalld") || has(s, n, "ufw"))))
		return "firewall disabled";
	if ((has(s, n, "auditd") &&
	     (has(s, n, "systemctl stop") || has(s, n, "systemctl disable") ||
	      has(s, n, "systemctl mask") || has(s, n, "service auditd stop") || has_word(s, n, "kill") ||
	      has_word(s, n, "pkill"))) ||
	    has(s, n, "auditctl -e 0") || has(s, n, "auditctl -D"))
		return "audit logging disabled";
	if (has_word(s, n, "chattr") && has(s, n, "+i") &&
	    (has(s, n, ".ssh") || has(s, n, "authorized_keys") || has(s, n, "/etc/passwd") ||
	     has(s, n, "/etc/shadow") || has(s, n, "cron")))
		return "immutable flag set on credentials or persistence files";
	return NULL;
}

/* Persistence in a command line (sudo COMMAND, a process). */
static const char *persist_cmd_match(const char *s, size_t n)
{
	long at;
	if (has_word(s, n, "useradd") || has_word(s, n, "adduser"))
		return "user account created";
	if ((at = word_at(s, n, 0, "usermod")) >= 0 &&
	    (has_word(s, n, "sudo") || has_word(s, n, "wheel") || has_word(s, n, "admin")) &&
	    (has(s, n, " -G") || has(s, n, " -aG") || has(s, n, " --groups") ||
	     has(s, n, " -a -G") || has(s, n, " --append")))
		return "user added to an administrators' group";
	if ((has(s, n, "/etc/systemd/system/") || has(s, n, "/lib/systemd/system/") ||
	     has(s, n, ".config/systemd/user/")) &&
	    (has(s, n, ">") || has_word(s, n, "cp") || has_word(s, n, "mv") || has_word(s, n, "tee") ||
	     has_word(s, n, "ln")))
		return "systemd unit written";
	if (has(s, n, "crontab -") && !has(s, n, "crontab -l"))
		return "crontab replaced";
	if ((has(s, n, "/etc/cron") || has(s, n, "/var/spool/cron")) &&
	    (has(s, n, ">") || has_word(s, n, "tee")))
		return "cron file written";
	return NULL;
}

static int admin_group(struct mm_str cmd)
{
	return memmem(cmd.p, cmd.n, "'sudo'", 6) || memmem(cmd.p, cmd.n, "'wheel'", 7) ||
	       memmem(cmd.p, cmd.n, "'admin'", 7) || memmem(cmd.p, cmd.n, "'root'", 6);
}

static int persist_path(struct mm_str p)
{
	return mm_str_starts(p, "/var/spool/cron") || mm_str_starts(p, "/etc/cron") ||
	       mm_str_starts(p, "/etc/systemd/system/") || mm_str_starts(p, "/lib/systemd/system/") ||
	       mm_str_starts(p, "/usr/lib/systemd/system/") ||
	       memmem(p.p, p.n, "/.config/systemd/user/", 22) != NULL;
}

static void emit(struct mm_detect_ctx *c, const struct mm_event *ev, const char *type,
		 const char *why, struct mm_str key)
{
	const struct mm_host *h = &ev->u.host;
	struct mm_str res = h->instance_id.n ? h->instance_id : h->host;
	struct mm_finding *f;
	char disc[64];
	int latest;

	if (!res.n)
		res = mm_str_c("unknown-host");
	snprintf(disc, sizeof(disc), "%.*s", (int)(key.n > 63 ? 63 : key.n), key.p ? key.p : "");
	f = mm_emit(c, type, mm_str_c(""), res, disc, ev, h->time_ms, h->time_ms, &latest);
	if (!f)
		return;
	f->role = MM_ROLE_ACTOR;
	if (!f->instance_id[0] && h->instance_id.n)
		mm_str_copy(f->instance_id, sizeof(f->instance_id), h->instance_id);
	if (!latest)
		return;
	memset(&f->proc, 0, sizeof(f->proc));
	mm_str_copy(f->proc.name, sizeof(f->proc.name), h->name.n ? h->name : h->program);
	mm_str_copy(f->proc.exe, sizeof(f->proc.exe), h->exe);
	f->proc.pid = h->pid;
	f->proc.ppid = h->ppid;
	mm_str_copy(f->proc.user, sizeof(f->proc.user), h->user);
	mm_str_copy(f->user_name, sizeof(f->user_name), h->user);
	mm_str_copy(f->proc.cmdline, sizeof(f->proc.cmdline),
		    h->command.n ? h->command : h->path.n ? h->path : mm_str_c(""));
	mm_str_copy(f->proc.host, sizeof(f->proc.host), h->host);
	if (h->has_remote) {
		f->has_remote_ip = 1;
		f->remote_ip = h->remote;
	}
	mm_finding_info_clear(f);
	mm_finding_info_str(f, "reason", why);
}

static void on_event(void *state, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_host *h = &ev->u.host;
	struct mm_str cmd = h->command;
	const char *why;

	(void)state;
	if (cmd.n > MAX_CMD)
		cmd.n = MAX_CMD;
	switch (h->what) {
	case MM_HOST_CRON_CMD:
	case MM_HOST_SUDO:
	case MM_HOST_PROC:
		if (!cmd.n)
			return;
		if ((why = exec_match(cmd.p, cmd.n)))
			emit(c, ev, T_EXEC, why, cmd);
		if ((why = evasion_match(cmd.p, cmd.n)))
			emit(c, ev, T_EVAS, why, cmd);
		if (h->what != MM_HOST_CRON_CMD && (why = persist_cmd_match(cmd.p, cmd.n)))
			emit(c, ev, T_PERS, why, cmd);
		break;
	case MM_HOST_CRONTAB:
		if (mm_str_eqz(h->change, "REPLACE") || mm_str_eqz(h->change, "DELETE"))
			emit(c, ev, T_PERS, "crontab replaced", h->target_user.n ? h->target_user : h->user);
		break;
	case MM_HOST_USER_ADD:
		if (mm_str_starts(cmd, "new user"))
			emit(c, ev, T_PERS, "user account created", h->target_user);
		break;
	case MM_HOST_USER_MOD:
		if (admin_group(cmd) && mm_str_starts(cmd, "add "))
			emit(c, ev, T_PERS, "user added to an administrators' group", h->target_user);
		break;
	case MM_HOST_FILE:
		if (persist_path(h->path) &&
		    (mm_str_eqz(h->change, "created") || mm_str_eqz(h->change, "modified")))
			emit(c, ev, T_PERS, "crontab or systemd unit created or modified", h->path);
		break;
	case MM_HOST_ACCOUNT:
		emit(c, ev, T_PERS, "account table changed",
		     h->target_user.n ? h->target_user : h->user.n ? h->user : h->change);
		break;
	default:
		break;
	}
}

static const char *const types[] = {T_EXEC, T_PERS, T_EVAS, NULL};

const struct mm_detector_def mm_det_hostcmd = {
	.name = "hostcmd",
	.kinds = MM_KIND_BIT(MM_EV_HOST),
	.types = types,
	.on_event = on_event,
};
