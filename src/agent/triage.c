/* triage.c - `mamori agent triage` (see triage.h). */
#include "agent/triage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>
#include <zlib.h>

#include "agent/fim.h"
#include "agent/proc.h"
#include "agent/sock.h"
#include "agent/users.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/mtime.h"

#define TOP "mamori-triage/"

int mm_tar_header(unsigned char h[512], const char *name, uint64_t size, int64_t mtime,
		  unsigned mode)
{
	size_t n = strlen(name), i;
	unsigned sum = 0;
	memset(h, 0, 512);
	if (n <= 100) {
		memcpy(h, name, n);
	} else {
		/* split at a '/' so prefix <= 155 and name <= 100 */
		const char *cut = NULL, *p;
		for (p = name; *p; p++)
			if (*p == '/' && (size_t)(p - name) <= 155 && n - (size_t)(p - name) - 1 <= 100)
				cut = p;
		if (!cut)
			return MM_ETOOBIG;
		memcpy(h + 345, name, (size_t)(cut - name));
		memcpy(h, cut + 1, n - (size_t)(cut - name) - 1);
	}
	snprintf((char *)h + 100, 8, "%07o", mode & 07777);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)(mtime > 0 ? mtime : 0));
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	return 0;
}

struct bundle {
	gzFile gz;
	int64_t now;
	struct mm_triage_counts *cnt;
	int failed;
};

static void member(struct bundle *b, const char *name, const void *data, size_t n)
{
	unsigned char h[512];
	static const unsigned char zero[512];
	char full[400];
	if (b->failed)
		return;
	snprintf(full, sizeof(full), TOP "%s", name);
	if (mm_tar_header(h, full, n, b->now, 0600))
		return;
	if (gzwrite(b->gz, h, 512) != 512 || (n && gzwrite(b->gz, data, (unsigned)n) != (int)n) ||
	    (n % 512 && gzwrite(b->gz, zero, (unsigned)(512 - n % 512)) != (int)(512 - n % 512))) {
		b->failed = 1;
		return;
	}
	b->cnt->members++;
	b->cnt->bytes += n;
}

/* Read at most max bytes of root+hp (its tail when tail), no symlinks. */
static char *read_file(const char *root, const char *hp, size_t max, int tail, size_t *n)
{
	char path[PATH_MAX];
	struct stat st;
	char *buf = NULL;
	off_t off = 0;
	ssize_t r;
	int fd;
	*n = 0;
	snprintf(path, sizeof(path), "%s%s", root, hp);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		goto out;
	if ((uint64_t)st.st_size > max && tail)
		off = st.st_size - (off_t)max;
	if (!(buf = mm_malloc(max + 1)))
		goto out;
	r = pread(fd, buf, max, off);
	if (r < 0) {
		mm_free(buf);
		buf = NULL;
		goto out;
	}
	buf[r] = '\0';
	*n = (size_t)r;
out:
	close(fd);
	return buf;
}

/* The last `lines` lines of text. */
static const char *last_lines(const char *t, size_t n, size_t lines, size_t *outn)
{
	size_t seen = 0, i = n;
	if (i && t[i - 1] == '\n')
		i--;
	while (i > 0) {
		if (t[i - 1] == '\n' && ++seen == lines)
			break;
		i--;
	}
	*outn = n - i;
	return t + i;
}

static void kv_str(struct mm_buf *o, const char *k, const char *v, int comma)
{
	mm_buf_printf(o, "%s\"%s\":", comma ? "," : "", k);
	mm_buf_json_strz(o, v ? v : "");
}

static int suspicious_exe(const struct mm_proc *p)
{
	const char *e = p->exe;
	if (!e[0])
		return 0;
	if (p->exe_deleted || !strncmp(e, "/tmp/", 5) || !strncmp(e, "/dev/shm/", 9) ||
	    !strncmp(e, "/var/tmp/", 9) || strstr(e, "/."))
		return 1;
	if (p->cpu_permille >= 500 || (p->stdio_sock & 3))
		return 1;
	return 0;
}

struct users_sel {
	char names[MM_TRIAGE_MAX_USERS][64];
	int n;
};

static void pick_user(struct users_sel *s, const char *name)
{
	int i;
	if (!name || !name[0] || s->n >= MM_TRIAGE_MAX_USERS)
		return;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return;
	snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name);
}

struct fimbuf {
	struct mm_buf *o;
	struct users_sel *sel;
	const struct mm_accounts *acc;
	uint64_t n;
};

static int on_fim(void *ctx, const struct mm_fim_change *c)
{
	struct fimbuf *f = ctx;
	const char *un = mm_accounts_uname((void *)f->acc, (uint32_t)strtoul(c->owner, NULL, 10));
	mm_buf_addz(f->o, f->n ? ",\n{" : "{");
	kv_str(f->o, "path", c->path, 0);
	kv_str(f->o, "change", c->change, 1);
	kv_str(f->o, "old_sha256", c->old_sha256, 1);
	kv_str(f->o, "new_sha256", c->new_sha256, 1);
	kv_str(f->o, "detail", c->detail, 1);
	kv_str(f->o, "owner", un ? un : c->owner, 1);
	kv_str(f->o, "diff", c->diff, 1);
	mm_buf_addc(f->o, '}');
	/* a change in a home folder points at its user */
	if (un && strcmp(un, "root") && f->n < 50)
		pick_user(f->sel, un);
	f->n++;
	return 0;
}

static void add_dir_files(struct bundle *b, struct mm_buf *o, const char *root, const char *hp,
			  int *first)
{
	char real[PATH_MAX];
	DIR *d;
	struct dirent *de;
	struct stat st;
	int count = 0;
	snprintf(real, sizeof(real), "%s%s", root, hp);
	if (lstat(real, &st) || !S_ISDIR(st.st_mode) || !(d = opendir(real)))
		return;
	while ((de = readdir(d)) && count < 256) {
		char p[PATH_MAX];
		size_t n;
		char *t;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", hp, de->d_name);
		if (!(t = read_file(root, p, 65536, 0, &n)))
			continue;
		mm_buf_addz(o, *first ? "{" : ",\n{");
		*first = 0;
		kv_str(o, "path", p, 0);
		mm_buf_addz(o, ",\"content\":");
		mm_buf_json_str(o, t, n);
		mm_buf_addc(o, '}');
		mm_free(t);
		count++;
	}
	closedir(d);
	(void)b;
}

int mm_triage_write(const struct mm_triage_opts *o, struct mm_triage_counts *cnt,
		    struct mm_err *err)
{
	struct bundle b;
	struct mm_proc_table p1 = { 0 }, p2 = { 0 };
	struct mm_sock_table socks = { 0 };
	struct mm_accounts acc = { 0 };
	struct mm_hashcache hc;
	struct mm_buf j, sum;
	struct users_sel sel;
	const char *root = o->root ? o->root : "";
	const char *pdir = o->proc_dir ? o->proc_dir : "/proc";
	int fd = -1, rc = 0, first;
	size_t i, n;
	int64_t t0, t1;
	char *t;
	uint64_t bins_total = 0;

	memset(cnt, 0, sizeof(*cnt));
	memset(&b, 0, sizeof(b));
	memset(&sel, 0, sizeof(sel));
	b.cnt = cnt;
	b.now = mm_now_ms() / 1000;
	mm_hashcache_init(&hc);
	mm_buf_init(&j, 256u << 20);
	mm_buf_init(&sum, 1u << 20);
	if ((fd = open(o->out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		rc = mm_err_set(err, MM_EIO, "%s: %s", o->out, strerror(errno));
		goto out;
	}
	if (!(b.gz = gzdopen(fd, "wb6"))) {
		close(fd);
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	mm_accounts_load(&acc, root);

	/* processes: two samples for CPU, hashes, lineage, stdio sockets */
	t0 = mm_now_ms();
	if ((rc = mm_proc_snapshot(&p1, pdir, mm_accounts_uname, &acc))) {
		mm_err_set(err, rc, "%s: cannot read processes", pdir);
		goto out;
	}
	{
		struct timespec ts = { 0, (long)(o->sample_ms ? o->sample_ms : 500) * 1000000L };
		nanosleep(&ts, NULL);
	}
	t1 = mm_now_ms();
	if ((rc = mm_proc_snapshot(&p2, pdir, mm_accounts_uname, &acc))) {
		mm_err_set(err, rc, "%s: cannot read processes", pdir);
		goto out;
	}
	mm_proc_cpu(&p2, &p1, t1 - t0);
	mm_proc_lineage(&p2);
	mm_proc_hash(&p2, &hc, pdir, 1ull << 30);
	mm_sock_read(&socks, pdir);
	mm_sock_map(&socks, &p2, pdir);
	cnt->procs = p2.n;
	cnt->socks = socks.n;

	mm_buf_addz(&j, "[\n");
	for (i = 0; i < p2.n; i++) {
		const struct mm_proc *p = &p2.v[i];
		mm_buf_addz(&j, i ? ",\n{" : "{");
		mm_buf_printf(&j, "\"pid\":%d,\"ppid\":%d,\"uid\":%u,\"cpu_permille\":%u,"
				  "\"exe_deleted\":%s,\"start_ms\":%lld,\"stdio_socket\":%s,\"suspicious\":%s",
			      p->pid, p->ppid, p->uid, p->cpu_permille, p->exe_deleted ? "true" : "false",
			      (long long)p->start_ms, p->stdio_sock ? "true" : "false",
			      suspicious_exe(p) ? "true" : "false");
		kv_str(&j, "name", p->name, 1);
		kv_str(&j, "user", p->user, 1);
		kv_str(&j, "exe", p->exe, 1);
		kv_str(&j, "sha256", p->sha256, 1);
		kv_str(&j, "cmdline", p->cmdline, 1);
		kv_str(&j, "lineage", p->lineage, 1);
		mm_buf_addc(&j, '}');
		if (suspicious_exe(p)) {
			cnt->suspicious_procs++;
			if (strcmp(p->user, "root"))
				pick_user(&sel, p->user);
		}
	}
	mm_buf_addz(&j, "\n]\n");
	member(&b, "processes.json", j.p, j.len);

	mm_buf_reset(&j);
	mm_buf_addz(&j, "[\n");
	for (i = 0; i < socks.n; i++) {
		const struct mm_sock *s = &socks.v[i];
		const struct mm_proc *p = s->pid ? mm_proc_find(&p2, s->pid) : NULL;
		char la[64], ra[64];
		mm_buf_addz(&j, i ? ",\n{" : "{");
		mm_buf_printf(&j, "\"proto\":\"%s\",\"local\":\"%s\",\"lport\":%u,\"remote\":\"%s\","
				  "\"rport\":%u,\"state\":\"%s\",\"inode\":%llu,\"pid\":%d",
			      s->proto == 6 ? (s->local.v6 ? "tcp6" : "tcp") : (s->local.v6 ? "udp6" : "udp"),
			      mm_ip_format(&s->local, la), s->lport, mm_ip_format(&s->remote, ra), s->rport,
			      mm_sock_state_name(s->proto, s->state), (unsigned long long)s->inode, s->pid);
		kv_str(&j, "name", p ? p->name : "", 1);
		kv_str(&j, "exe", p ? p->exe : "", 1);
		kv_str(&j, "user", p ? p->user : "", 1);
		mm_buf_addc(&j, '}');
	}
	mm_buf_addz(&j, "\n]\n");
	member(&b, "sockets.json", j.p, j.len);

	/* crontabs, with their contents */
	mm_buf_reset(&j);
	mm_buf_addz(&j, "[\n");
	first = 1;
	{
		static const char *const files[] = { "/etc/crontab", "/etc/anacrontab" };
		static const char *const dirs[] = { "/etc/cron.d", "/var/spool/cron",
						    "/var/spool/cron/crontabs", "/etc/cron.hourly",
						    "/etc/cron.daily" };
		for (i = 0; i < 2; i++)
			if ((t = read_file(root, files[i], 65536, 0, &n))) {
				mm_buf_addz(&j, first ? "{" : ",\n{");
				first = 0;
				kv_str(&j, "path", files[i], 0);
				mm_buf_addz(&j, ",\"content\":");
				mm_buf_json_str(&j, t, n);
				mm_buf_addc(&j, '}');
				mm_free(t);
			}
		for (i = 0; i < 5; i++)
			add_dir_files(&b, &j, root, dirs[i], &first);
	}
	mm_buf_addz(&j, "\n]\n");
	member(&b, "crontabs.json", j.p, j.len);

	/* recent auth and cron log lines */
	{
		static const char *const logs[][2] = { { "/var/log/secure", "logs/secure.txt" },
						       { "/var/log/auth.log", "logs/auth.log.txt" },
						       { "/var/log/cron", "logs/cron.txt" } };
		for (i = 0; i < 3; i++)
			if ((t = read_file(root, logs[i][0], MM_TRIAGE_FILE_MAX, 1, &n))) {
				size_t ln;
				const char *l = last_lines(t, n, MM_TRIAGE_LOG_LINES, &ln);
				member(&b, logs[i][1], l, ln);
				mm_free(t);
			}
	}

	/* logins, `last`-style, from wtmp (utmp records, newest first) */
	mm_buf_reset(&j);
	mm_buf_addz(&j, "[\n");
	if ((t = read_file(root, "/var/log/wtmp", MM_TRIAGE_WTMP_MAX * sizeof(struct utmp), 1, &n))) {
		size_t k = n / sizeof(struct utmp), shown = 0;
		while (k-- > 0 && shown < MM_TRIAGE_WTMP_MAX) {
			struct utmp u;
			char user[sizeof(u.ut_user) + 1], line[sizeof(u.ut_line) + 1],
				host[sizeof(u.ut_host) + 1], ts[40];
			time_t tt;
			struct tm tm;
			memcpy(&u, t + k * sizeof(struct utmp), sizeof(u));
			if (u.ut_type != USER_PROCESS && u.ut_type != DEAD_PROCESS &&
			    u.ut_type != BOOT_TIME)
				continue;
			memcpy(user, u.ut_user, sizeof(u.ut_user));
			user[sizeof(u.ut_user)] = '\0';
			memcpy(line, u.ut_line, sizeof(u.ut_line));
			line[sizeof(u.ut_line)] = '\0';
			memcpy(host, u.ut_host, sizeof(u.ut_host));
			host[sizeof(u.ut_host)] = '\0';
			tt = (time_t)u.ut_tv.tv_sec;
			gmtime_r(&tt, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
			mm_buf_addz(&j, shown ? ",\n{" : "{");
			mm_buf_printf(&j, "\"type\":\"%s\",\"time\":\"%s\",\"pid\":%d",
				      u.ut_type == USER_PROCESS ? "login" :
				      u.ut_type == DEAD_PROCESS ? "logout" : "boot",
				      ts, (int)u.ut_pid);
			kv_str(&j, "user", user, 1);
			kv_str(&j, "line", line, 1);
			kv_str(&j, "host", host, 1);
			mm_buf_addc(&j, '}');
			if (u.ut_type == USER_PROCESS && shown < 20 && strcmp(user, "root"))
				pick_user(&sel, user);
			shown++;
		}
		cnt->logins = shown;
		mm_free(t);
	}
	mm_buf_addz(&j, "\n]\n");
	member(&b, "logins.json", j.p, j.len);

	/* accounts */
	mm_buf_reset(&j);
	mm_buf_addz(&j, "[\n");
	for (i = 0; i < acc.n; i++) {
		const struct mm_account *a = &acc.v[i];
		mm_buf_addz(&j, i ? ",\n{" : "{");
		mm_buf_printf(&j, "\"uid\":%u,\"gid\":%u,\"login_shell\":%s,\"in_shadow\":%s", a->uid,
			      a->gid, mm_shell_is_login(a->shell) ? "true" : "false",
			      a->in_shadow ? "true" : "false");
		kv_str(&j, "name", a->name, 1);
		kv_str(&j, "home", a->home, 1);
		kv_str(&j, "shell", a->shell, 1);
		mm_buf_addc(&j, '}');
		if (a->uid == 0 && strcmp(a->name, "root"))
			pick_user(&sel, a->name);
	}
	cnt->users = acc.n;
	mm_buf_addz(&j, "\n]\n");
	member(&b, "users.json", j.p, j.len);

	/* FIM changes the agent recorded */
	mm_buf_reset(&j);
	mm_buf_addz(&j, "[\n");
	if (o->db_path) {
		struct fimbuf f = { &j, &sel, &acc, 0 };
		mm_fim_recent(o->db_path, 1000, on_fim, &f, err);
		mm_err_clear(err);
		cnt->fim_changes = f.n;
	}
	mm_buf_addz(&j, "\n]\n");
	member(&b, "fim_changes.json", j.p, j.len);

	/* suspicious users' histories and dotfiles */
	for (i = 0; i < (size_t)sel.n; i++) {
		static const char *const dots[] = { ".bash_history", ".zsh_history", ".sh_history",
						    ".ash_history", ".bashrc", ".profile",
						    ".bash_profile", ".ssh/authorized_keys",
						    ".ssh/known_hosts", ".wget-hsts", ".viminfo" };
		const struct mm_account *a = mm_accounts_by_name(&acc, sel.names[i]);
		size_t k;
		if (!a || a->home[0] != '/' || strstr(a->home, ".."))
			continue;
		for (k = 0; k < sizeof(dots) / sizeof(dots[0]); k++) {
			char hp[PATH_MAX], name[400];
			snprintf(hp, sizeof(hp), "%s/%s", a->home, dots[k]);
			if (!(t = read_file(root, hp, MM_TRIAGE_FILE_MAX, 1, &n)))
				continue;
			snprintf(name, sizeof(name), "users/%s/%s", a->name, dots[k]);
			member(&b, name, t, n);
			mm_free(t);
		}
	}

	/* suspicious binaries: hashes; the files only when asked */
	mm_buf_reset(&j);
	mm_buf_addz(&j, "[\n");
	first = 1;
	for (i = 0; i < p2.n; i++) {
		const struct mm_proc *p = &p2.v[i];
		if (!suspicious_exe(p))
			continue;
		mm_buf_addz(&j, first ? "{" : ",\n{");
		first = 0;
		mm_buf_printf(&j, "\"pid\":%d,\"exe_deleted\":%s", p->pid, p->exe_deleted ? "true" : "false");
		kv_str(&j, "exe", p->exe, 1);
		kv_str(&j, "sha256", p->sha256, 1);
		kv_str(&j, "user", p->user, 1);
		mm_buf_addc(&j, '}');
		if (o->include_binaries && bins_total < MM_TRIAGE_BINS_TOTAL) {
			char hp[64], name[300];
			const char *base = strrchr(p->exe, '/');
			snprintf(hp, sizeof(hp), "/%d/exe", p->pid);
			/* /proc/PID/exe is the magic link to the running file */
			{
				char path[PATH_MAX];
				int bfd;
				struct stat st;
				snprintf(path, sizeof(path), "%s%s", pdir, hp);
				bfd = open(path, O_RDONLY | O_CLOEXEC);
				if (bfd >= 0 && !fstat(bfd, &st) && S_ISREG(st.st_mode) &&
				    (uint64_t)st.st_size <= MM_TRIAGE_BIN_MAX &&
				    bins_total + (uint64_t)st.st_size <= MM_TRIAGE_BINS_TOTAL) {
					char *bb = mm_malloc((size_t)st.st_size + 1);
					ssize_t r = bb ? pread(bfd, bb, (size_t)st.st_size, 0) : -1;
					if (r >= 0) {
						snprintf(name, sizeof(name), "binaries/%d-%s", p->pid,
							 base ? base + 1 : "exe");
						member(&b, name, bb, (size_t)r);
						bins_total += (uint64_t)r;
						cnt->binaries++;
					}
					mm_free(bb);
				}
				if (bfd >= 0)
					close(bfd);
			}
		}
	}
	mm_buf_addz(&j, "\n]\n");
	member(&b, "suspicious_binaries.json", j.p, j.len);

	/* summary.txt */
	{
		char ts[40];
		time_t tt = (time_t)b.now;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		mm_buf_printf(&sum, "mamori triage bundle\nhost: %s\ntime: %s\nroot: %s\n\n",
			      o->host ? o->host : "", ts, root[0] ? root : "/");
		mm_buf_printf(&sum, "processes: %llu (%llu suspicious: in /tmp, /dev/shm, /var/tmp, a "
				    "hidden folder, deleted, >= 50%% CPU, or a socket on stdin/stdout)\n",
			      (unsigned long long)cnt->procs, (unsigned long long)cnt->suspicious_procs);
		for (i = 0; i < p2.n; i++) {
			const struct mm_proc *p = &p2.v[i];
			if (!suspicious_exe(p))
				continue;
			mm_buf_printf(&sum, "  pid %d %s user %s cpu %u.%u%% exe %s%s sha256 %s\n", p->pid,
				      p->name, p->user, p->cpu_permille / 10, p->cpu_permille % 10, p->exe,
				      p->exe_deleted ? " (deleted)" : "", p->sha256[0] ? p->sha256 : "-");
			for (n = 0; n < socks.n; n++) {
				const struct mm_sock *s = &socks.v[n];
				char ra[64];
				if (s->pid == p->pid && s->proto == 6 && s->state == MM_TCP_ESTABLISHED)
					mm_buf_printf(&sum, "    tcp -> %s:%u\n",
						      mm_ip_format(&s->remote, ra), s->rport);
			}
		}
		mm_buf_printf(&sum, "sockets: %llu\naccounts: %llu\nlogins (wtmp): %llu\nFIM changes: %llu\n",
			      (unsigned long long)cnt->socks, (unsigned long long)cnt->users,
			      (unsigned long long)cnt->logins, (unsigned long long)cnt->fim_changes);
		mm_buf_addz(&sum, "suspicious users (dotfiles and histories under users/):");
		for (i = 0; i < (size_t)sel.n; i++)
			mm_buf_printf(&sum, " %s", sel.names[i]);
		mm_buf_printf(&sum, "\nbinaries included: %llu%s\n", (unsigned long long)cnt->binaries,
			      o->include_binaries ? "" : " (hashes only; --include-binaries to add them)");
		member(&b, "summary.txt", sum.p, sum.len);
	}
	{
		static const unsigned char zero[1024];
		if (!b.failed && gzwrite(b.gz, zero, sizeof(zero)) != (int)sizeof(zero))
			b.failed = 1;
	}
	if (b.failed)
		rc = mm_err_set(err, MM_EIO, "%s: write failed", o->out);
out:
	if (b.gz && gzclose(b.gz) != Z_OK && !rc)
		rc = mm_err_set(err, MM_EIO, "%s: write failed", o->out);
	if (rc && fd >= 0)
		unlink(o->out);
	mm_proc_table_free(&p1);
	mm_proc_table_free(&p2);
	mm_sock_table_free(&socks);
	mm_accounts_free(&acc);
	mm_hashcache_free(&hc);
	mm_buf_free(&j);
	mm_buf_free(&sum);
	return rc;
}
