/* sock.c - the socket collector (see sock.h). */
#include "agent/sock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"

#define SOCK_TABLE_MAX (64u << 20)	/* bytes read of one /proc/net table */

const char *mm_sock_state_name(uint8_t proto, uint8_t state)
{
	static const char *const names[] = {
		"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"
	};
	if (proto == 17 && state == MM_TCP_CLOSE)
		return "UNCONN";
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "0100007F:0CEA" (or 32 hex digits for v6): the kernel prints each
 * 32-bit word of the address as a native-endian integer, so reading the
 * word back natively restores the bytes in network order. */
static int parse_addr(const char *s, size_t n, int v6, struct mm_ip *ip, uint16_t *port)
{
	size_t words = v6 ? 4 : 1, w, i;
	unsigned long pv;
	char *end;
	if (n != words * 8 + 5 || s[words * 8] != ':')
		return -1;
	memset(ip, 0, sizeof(*ip));
	ip->v6 = (uint8_t)v6;
	for (w = 0; w < words; w++) {
		uint32_t v = 0;
		for (i = 0; i < 8; i++) {
			int h = hexval(s[w * 8 + i]);
			if (h < 0)
				return -1;
			v = v << 4 | (uint32_t)h;
		}
		memcpy(ip->b + 4 * w, &v, 4);
	}
	pv = strtoul(s + words * 8 + 1, &end, 16);
	if (end != s + n || pv > 65535)
		return -1;
	*port = (uint16_t)pv;
	return 0;
}

static int push(struct mm_sock_table *t, const struct mm_sock *s)
{
	if (t->n >= MM_SOCK_MAX)
		return 0; /* bounded: the rest is not seen this cycle */
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 128;
		struct mm_sock *nv = mm_realloc(t->v, nc * sizeof(*nv));
		if (!nv)
			return MM_ENOMEM;
		t->v = nv;
		t->cap = nc;
	}
	t->v[t->n++] = *s;
	return 0;
}

/* Split the next whitespace-separated field. */
static const char *field(const char **p, const char *end, size_t *len)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*len = 0;
	while (s + *len < end && s[*len] != ' ' && s[*len] != '\t')
		(*len)++;
	*p = s + *len;
	return *len ? s : NULL;
}

int mm_sock_parse(struct mm_sock_table *t, const char *text, size_t n, uint8_t proto, int v6)
{
	const char *p = text, *end = text + n;
	int first = 1, rc;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p, *f;
		size_t len;
		int i;
		struct mm_sock s;
		if (!eol)
			eol = end;
		if (first) { /* the header line */
			first = 0;
			p = eol + 1;
			continue;
		}
		memset(&s, 0, sizeof(s));
		s.proto = proto;
		s.fd = -1;
		for (i = 0; i < 10 && (f = field(&q, eol, &len)); i++) {
			char tmp[32];
			if (i == 1 && parse_addr(f, len, v6, &s.local, &s.lport))
				break;
			if (i == 2 && parse_addr(f, len, v6, &s.remote, &s.rport))
				break;
			if (i == 3) {
				if (len != 2 || hexval(f[0]) < 0 || hexval(f[1]) < 0)
					break;
				s.state = (uint8_t)(hexval(f[0]) * 16 + hexval(f[1]));
			}
			if (i == 9) {
				char *e;
				if (len >= sizeof(tmp))
					break;
				memcpy(tmp, f, len);
				tmp[len] = '\0';
				s.inode = strtoull(tmp, &e, 10);
				if (*e)
					break;
				if ((rc = push(t, &s)))
					return rc;
			}
		}
		p = eol + 1;
	}
	return 0;
}

int mm_sock_read(struct mm_sock_table *t, const char *proc_dir)
{
	static const struct { const char *name; uint8_t proto; int v6; } tabs[] = {
		{ "tcp", 6, 0 }, { "tcp6", 6, 1 }, { "udp", 17, 0 }, { "udp6", 17, 1 }
	};
	size_t i, cap = 1 << 16;
	char *buf = mm_malloc(cap);
	int rc = 0;
	t->n = 0;
	if (!buf)
		return MM_ENOMEM;
	for (i = 0; i < sizeof(tabs) / sizeof(tabs[0]) && !rc; i++) {
		char path[512];
		size_t got = 0;
		int fd;
		snprintf(path, sizeof(path), "%s/net/%s", proc_dir, tabs[i].name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		for (;;) {
			ssize_t r;
			if (got == cap) {
				char *nb;
				if (cap >= SOCK_TABLE_MAX)
					break;
				if (!(nb = mm_realloc(buf, cap * 2))) {
					rc = MM_ENOMEM;
					break;
				}
				buf = nb;
				cap *= 2;
			}
			r = read(fd, buf + got, cap - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		close(fd);
		if (!rc)
			rc = mm_sock_parse(t, buf, got, tabs[i].proto, tabs[i].v6);
	}
	mm_free(buf);
	return rc;
}

/* inode -> index, for the fd walk: sorted copy of (inode, index). */
struct ix {
	uint64_t inode;
	size_t i;
};

static int ix_cmp(const void *a, const void *b)
{
	const struct ix *x = a, *y = b;
	return (x->inode > y->inode) - (x->inode < y->inode);
}

static struct ix *ix_find(struct ix *v, size_t n, uint64_t inode)
{
	struct ix key = { inode, 0 };
	return bsearch(&key, v, n, sizeof(*v), ix_cmp);
}

const struct mm_sock *mm_sock_find(const struct mm_sock_table *t, uint64_t inode)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		if (t->v[i].inode == inode)
			return &t->v[i];
	return NULL;
}

int mm_sock_map(struct mm_sock_table *t, struct mm_proc_table *procs, const char *proc_dir)
{
	struct ix *ix = NULL;
	size_t i, k;
	if (t->n && !(ix = mm_malloc(t->n * sizeof(*ix))))
		return MM_ENOMEM;
	for (i = 0; i < t->n; i++) {
		ix[i].inode = t->v[i].inode;
		ix[i].i = i;
	}
	if (t->n)
		qsort(ix, t->n, sizeof(*ix), ix_cmp);
	for (k = 0; k < procs->n; k++) {
		struct mm_proc *pr = &procs->v[k];
		char dir[512];
		DIR *d;
		struct dirent *de;
		int seen = 0;
		snprintf(dir, sizeof(dir), "%s/%d/fd", proc_dir, pr->pid);
		if (!(d = opendir(dir)))
			continue; /* gone, or not ours to read */
		while ((de = readdir(d)) && seen < MM_SOCK_FD_MAX) {
			char lp[600], tgt[64], *end;
			long fd = strtol(de->d_name, &end, 10);
			ssize_t n;
			uint64_t inode;
			struct ix *hit;
			if (*end || end == de->d_name)
				continue;
			seen++;
			snprintf(lp, sizeof(lp), "%s/%s", dir, de->d_name);
			n = readlink(lp, tgt, sizeof(tgt) - 1);
			if (n <= 0)
				continue;
			tgt[n] = '\0';
			if (strncmp(tgt, "socket:[", 8))
				continue;
			inode = strtoull(tgt + 8, &end, 10);
			if (*end != ']')
				continue;
			if (fd >= 0 && fd <= 2) {
				if (!pr->stdio_sock || (pr->stdio_sock & ((1u << fd) - 1)) == 0)
					pr->stdio_inode = inode;
				pr->stdio_sock |= (uint8_t)(1u << fd);
				pr->stdio_inodes[fd] = inode;
			}
			if (ix && (hit = ix_find(ix, t->n, inode))) {
				/* the first holder keeps it (a forked child shares it) */
				struct mm_sock *s = &t->v[hit->i];
				if (!s->pid) {
					s->pid = pr->pid;
					s->fd = (int)fd;
				}
			}
		}
		closedir(d);
	}
	mm_free(ix);
	return 0;
}

void mm_sock_table_free(struct mm_sock_table *t)
{
	mm_free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}
