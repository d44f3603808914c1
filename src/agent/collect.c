/* collect.c - one collection cycle of the host agent (see collect.h). */
#include "agent/collect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "agent/fim.h"
#include "parse/hostjson.h"

static struct mm_str S(const char *z)
{
	struct mm_str s = { z, z ? strlen(z) : 0 };
	return s;
}

void mm_collector_init(struct mm_collector *c, const struct mm_collector_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = *o;
	if (!c->o.proc_dir)
		c->o.proc_dir = "/proc";
	if (!c->o.root)
		c->o.root = "";
	if (!c->o.sample_ms)
		c->o.sample_ms = 1000;
	if (!c->o.cpu_report_permille)
		c->o.cpu_report_permille = 200;
	if (!c->o.hash_budget)
		c->o.hash_budget = 256ull << 20;
	mm_hashcache_init(&c->hc);
}

void mm_collector_free(struct mm_collector *c)
{
	mm_proc_table_free(&c->prev);
	mm_proc_table_free(&c->cur);
	mm_sock_table_free(&c->socks);
	mm_free(c->seen_inodes);
	mm_hashcache_free(&c->hc);
	mm_accounts_free(&c->acc_prev);
	mm_accounts_free(&c->acc_cur);
	memset(c, 0, sizeof(*c));
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void base_event(const struct mm_collector *c, struct mm_event *ev, enum mm_host_what w,
		       int64_t now)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = MM_EV_HOST;
	ev->u.host.what = w;
	ev->u.host.time_ms = now;
	ev->u.host.host = S(c->o.host);
	ev->u.host.instance_id = S(c->o.instance_id);
}

static void fill_proc(struct mm_host *h, const struct mm_proc *p)
{
	h->pid = p->pid;
	h->ppid = p->ppid;
	h->user = S(p->user);
	h->name = S(p->name);
	h->exe = S(p->exe);
	h->exe_deleted = p->exe_deleted;
	h->command = S(p->cmdline);
	h->sha256 = S(p->sha256);
	h->lineage = S(p->lineage);
	h->cpu_permille = p->cpu_permille;
	h->start_ms = p->start_ms;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int sock_worth(const struct mm_sock *s)
{
	if (s->proto == 6)
		return s->state == MM_TCP_ESTABLISHED || s->state == MM_TCP_SYN_SENT ||
		       s->state == MM_TCP_LISTEN;
	return s->state == MM_TCP_ESTABLISHED; /* connected UDP */
}

static void fill_sock(struct mm_host *h, const struct mm_sock *s)
{
	h->proto = s->proto;
	h->has_local = 1;
	h->local = s->local;
	h->lport = s->lport;
	h->has_remote = !(s->proto == 6 && s->state == MM_TCP_LISTEN) && s->proto != 0;
	h->remote = s->remote;
	h->rport = s->rport;
	h->state = S(mm_sock_state_name(s->proto, s->state));
}

struct acc_ctx {
	struct mm_collector *c;
	struct mm_buf *out;
	int64_t now;
};

static int on_account(void *ctx, const struct mm_account *a, const char *change)
{
	struct acc_ctx *x = ctx;
	struct mm_event ev;
	base_event(x->c, &ev, MM_HOST_ACCOUNT, x->now);
	ev.u.host.user = S(a->name);
	ev.u.host.change = S(change);
	ev.u.host.path = S("/etc/passwd");
	ev.u.host.command = S(a->shell); /* the account's login shell */
	x->c->n.events_account++;
	return mm_hostjson_write(x->out, &ev);
}

/* The saved passwd copy: the account table as "name:uid:shell" lines. */
static void accounts_save(const struct mm_collector *c)
{
	char tmp[1100];
	FILE *f;
	size_t i;
	if (!c->o.accounts_state)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->o.accounts_state);
	{
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return;
		if (!(f = fdopen(fd, "w"))) {
			close(fd);
			return;
		}
	}
	for (i = 0; i < c->acc_cur.n; i++) {
		const struct mm_account *a = &c->acc_cur.v[i];
		fprintf(f, "%s:x:%u:%u::%s:%s\n", a->name, a->uid, a->gid, a->home, a->shell);
	}
	if (fflush(f) == 0 && fsync(fileno(f)) == 0 && fclose(f) == 0)
		rename(tmp, c->o.accounts_state);
	else
		unlink(tmp);
}

static int accounts_cycle(struct mm_collector *c, struct mm_buf *out, int64_t now)
{
	struct acc_ctx x = { c, out, now };
	int rc;
	if (!c->have_acc_prev && c->o.accounts_state) {
		/* the table a previous run saw (its passwd copy) */
		if (!access(c->o.accounts_state, R_OK)) {
			FILE *f = fopen(c->o.accounts_state, "r");
			char *txt = mm_malloc(MM_USERS_FILE_MAX + 1);
			size_t n = 0;
			if (f && txt) {
				n = fread(txt, 1, MM_USERS_FILE_MAX, f);
				txt[n] = '\0';
				if (!mm_accounts_parse(&c->acc_prev, txt, n))
					c->have_acc_prev = 1;
			}
			if (f)
				fclose(f);
			mm_free(txt);
		}
	}
	if ((rc = mm_accounts_load(&c->acc_cur, c->o.root)))
		return rc;
	rc = mm_accounts_diff(c->have_acc_prev ? &c->acc_prev : NULL, &c->acc_cur, on_account, &x);
	if (rc)
		return rc;
	accounts_save(c);
	/* cur becomes prev */
	{
		struct mm_accounts t = c->acc_prev;
		c->acc_prev = c->acc_cur;
		c->acc_cur = t;
		c->have_acc_prev = 1;
	}
	return 0;
}

int mm_collector_cycle(struct mm_collector *c, struct mm_buf *out, struct mm_err *err)
{
	struct mm_proc_table first = { 0 };
	uint64_t *seen = NULL;
	size_t nseen = 0, i;
	char fds[32];
	int64_t t0, t1, now;
	int rc;

	/* accounts first: the process table names users from it */
	now = mm_now_ms();
	if ((rc = accounts_cycle(c, out, now))) {
		mm_err_set(err, rc, "accounts: %s", mm_strerror(rc));
		goto out;
	}
	t0 = mm_now_ms();
	if ((rc = mm_proc_snapshot(&first, c->o.proc_dir, mm_accounts_uname, &c->acc_prev))) {
		mm_err_set(err, rc, "%s: cannot read processes", c->o.proc_dir);
		goto out;
	}
	sleep_ms(c->o.sample_ms);
	t1 = mm_now_ms();
	if ((rc = mm_proc_snapshot(&c->cur, c->o.proc_dir, mm_accounts_uname, &c->acc_prev))) {
		mm_err_set(err, rc, "%s: cannot read processes", c->o.proc_dir);
		goto out;
	}
	mm_proc_cpu(&c->cur, &first, t1 - t0);
	mm_proc_lineage(&c->cur);
	mm_proc_hash(&c->cur, &c->hc, c->o.proc_dir, c->o.hash_budget);
	if ((rc = mm_sock_read(&c->socks, c->o.proc_dir)) ||
	    (rc = mm_sock_map(&c->socks, &c->cur, c->o.proc_dir))) {
		mm_err_set(err, rc, "sockets: %s", mm_strerror(rc));
		goto out;
	}
	now = mm_now_ms();
	c->n.cycles++;
	c->n.procs += c->cur.n;
	c->n.socks += c->socks.n;

	for (i = 0; i < c->cur.n; i++) {
		const struct mm_proc *p = &c->cur.v[i];
		const struct mm_proc *b = c->have_prev ? mm_proc_find(&c->prev, p->pid) : NULL;
		int is_new = !b || b->start_ticks != p->start_ticks;
		struct mm_event ev;
		if (!p->exe[0])
			continue; /* kernel thread */
		if (!is_new && p->cpu_permille < c->o.cpu_report_permille &&
		    !(p->sha256[0] && !b->sha256[0]))
			continue;
		base_event(c, &ev, MM_HOST_PROC, now);
		fill_proc(&ev.u.host, p);
		if ((rc = mm_hostjson_write(out, &ev))) {
			mm_err_set(err, rc, "spool: %s", mm_strerror(rc));
			goto out;
		}
		c->n.events_proc++;
	}

	if (c->socks.n && !(seen = mm_malloc(c->socks.n * sizeof(*seen)))) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < c->socks.n; i++) {
		const struct mm_sock *s = &c->socks.v[i];
		const struct mm_proc *p = s->pid ? mm_proc_find(&c->cur, s->pid) : NULL;
		struct mm_event ev;
		if (!sock_worth(s) || !s->inode)
			continue;
		seen[nseen++] = s->inode;
		if (c->seen_inodes &&
		    bsearch(&s->inode, c->seen_inodes, c->nseen, sizeof(uint64_t), u64_cmp))
			continue;
		base_event(c, &ev, MM_HOST_SOCK, now);
		if (p)
			fill_proc(&ev.u.host, p);
		ev.u.host.pid = s->pid;
		fill_sock(&ev.u.host, s);
		if (s->pid && s->fd >= 0) {
			snprintf(fds, sizeof(fds), "fd:%d", s->fd);
			ev.u.host.path = S(fds);
		}
		if ((rc = mm_hostjson_write(out, &ev))) {
			mm_err_set(err, rc, "spool: %s", mm_strerror(rc));
			goto out;
		}
		c->n.events_sock++;
	}
	/* processes talking through fds 0/1/2 to a TCP peer */
	for (i = 0; i < c->cur.n; i++) {
		const struct mm_proc *p = &c->cur.v[i];
		const struct mm_proc *b = c->have_prev ? mm_proc_find(&c->prev, p->pid) : NULL;
		const struct mm_sock *s;
		struct mm_event ev;
		if (!p->stdio_sock || !p->exe[0] || (b && b->start_ticks == p->start_ticks &&
						     b->stdio_inode == p->stdio_inode))
			continue;
		if (!(s = mm_sock_find(&c->socks, p->stdio_inode)) || s->proto != 6 ||
		    s->state == MM_TCP_LISTEN)
			continue;
		base_event(c, &ev, MM_HOST_SOCK, now);
		fill_proc(&ev.u.host, p);
		fill_sock(&ev.u.host, s);
		/* "fd:0,1,2": the stdio fds of this process that are this socket
		 * (docs/internals/hostjson.md: the reverse-shell signal) */
		{
			size_t len = (size_t)snprintf(fds, sizeof(fds), "fd:");
			int k, any = 0;
			for (k = 0; k < 3; k++)
				if (p->stdio_inodes[k] == s->inode) {
					len += (size_t)snprintf(fds + len, sizeof(fds) - len, "%s%d",
								any ? "," : "", k);
					any = 1;
				}
			ev.u.host.path = S(fds);
		}
		if ((rc = mm_hostjson_write(out, &ev))) {
			mm_err_set(err, rc, "spool: %s", mm_strerror(rc));
			goto out;
		}
		c->n.events_sock++;
	}
	if (nseen)
		qsort(seen, nseen, sizeof(*seen), u64_cmp);
	mm_free(c->seen_inodes);
	c->seen_inodes = seen;
	c->nseen = nseen;
	seen = NULL;
	/* cur becomes prev */
	{
		struct mm_proc_table t = c->prev;
		c->prev = c->cur;
		c->cur = t;
		c->have_prev = 1;
	}
	rc = 0;
out:
	mm_free(seen);
	mm_proc_table_free(&first);
	return rc;
}

int mm_collector_file_event(const struct mm_collector *c, struct mm_buf *out,
			    const struct mm_fim_change *ch)
{
	struct mm_event ev;
	base_event(c, &ev, MM_HOST_FILE, mm_now_ms());
	ev.u.host.path = S(ch->path);
	ev.u.host.change = S(ch->change);
	ev.u.host.old_sha256 = S(ch->old_sha256);
	ev.u.host.new_sha256 = S(ch->new_sha256);
	ev.u.host.diff = S(ch->diff);
	ev.u.host.state = S(ch->detail); /* "mode 100644->100666", "owner 0:0->1000:1000" */
	ev.u.host.user = S(mm_accounts_uname((void *)&c->acc_prev, (uint32_t)strtoul(ch->owner, NULL, 10)));
	if (!ev.u.host.user.n)
		ev.u.host.user = S(ch->owner);
	return mm_hostjson_write(out, &ev);
}

static int read_line_file(const char *path, char *out, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	if (fd < 0)
		return -1;
	n = read(fd, out, cap - 1);
	close(fd);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] ? 0 : -1;
}

void mm_agent_instance_id(const char *root, char *id, size_t cap)
{
	char path[1024], buf[128];
	size_t i;
	id[0] = '\0';
	snprintf(path, sizeof(path), "%s/var/lib/cloud/data/instance-id", root ? root : "");
	if (read_line_file(path, buf, sizeof(buf)) &&
	    (read_line_file("/sys/devices/virtual/dmi/id/board_asset_tag", buf, sizeof(buf)) ||
	     strncmp(buf, "i-", 2)))
		return;
	/* an id is letters, digits and '-': anything else is not one */
	for (i = 0; buf[i]; i++)
		if (!((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= '0' && buf[i] <= '9') ||
		      buf[i] == '-'))
			return;
	snprintf(id, cap, "%s", buf);
}

#define INSTANCE_DATA_MAX (4 << 20)

/* v, a JSON string, into out when every byte is allowed (no escapes). */
static void take_id(const struct mm_json_val *v, const char *allowed, size_t want, char *out,
		    size_t cap)
{
	size_t i, n;
	if (v->type != MM_JSON_STRING || v->n < 3)
		return;
	n = v->n - 2;
	if (n >= cap || (want && n != want))
		return;
	for (i = 0; i < n; i++)
		if (!strchr(allowed, v->p[1 + i]))
			return;
	memcpy(out, v->p + 1, n);
	out[n] = '\0';
}

void mm_agent_instance_place(const char *root, char *account, size_t acap, char *region,
			     size_t rcap)
{
	static const char digits[] = "0123456789";
	static const char rchars[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	char path[1024], *buf;
	size_t len, used;
	struct mm_json_val top, doc, v;

	account[0] = region[0] = '\0';
	snprintf(path, sizeof(path), "%s/run/cloud-init/instance-data.json", root ? root : "");
	if (!(buf = mm_file_read(path, INSTANCE_DATA_MAX, &len)))
		return;
	if (mm_json_value(buf, len, &top, &used) || top.type != MM_JSON_OBJECT)
		goto out;
	if (mm_json_path(&top, "ds.dynamic.instance-identity.document", &doc) == 1 &&
	    doc.type == MM_JSON_OBJECT) {
		if (mm_json_get(&doc, "accountId", &v) == 1)
			take_id(&v, digits, 12, account, acap);
		if (mm_json_get(&doc, "region", &v) == 1)
			take_id(&v, rchars, 0, region, rcap);
	}
	if (mm_json_path(&top, "v1.region", &v) == 1) {
		char r[64] = "";
		take_id(&v, rchars, 0, r, sizeof(r));
		if (r[0] && strlen(r) < rcap)
			snprintf(region, rcap, "%s", r);
	}
out:
	mm_free(buf);
}
