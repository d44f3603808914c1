/* proc.c - the process collector (see proc.h): /proc/PID/{stat,status,
 * exe,cmdline} into a bounded table, CPU share from two snapshots,
 * executable hashes with a cache and a per-cycle byte budget. */
#include "agent/proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "core/mem.h"

/* Read a small file whole (at most cap-1 bytes), NUL-terminated. Bytes
 * read, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	while (got + 1 < cap) {
		ssize_t r = read(fd, buf + got, cap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

int64_t mm_proc_btime(const char *proc_dir)
{
	char path[512], buf[8192], *p;
	snprintf(path, sizeof(path), "%s/stat", proc_dir);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	if (!(p = strstr(buf, "\nbtime ")))
		return 0;
	return strtoll(p + 7, NULL, 10);
}

static void copy_cut(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Parse /proc/PID/stat. 0 or -1 (gone or malformed). */
static int read_stat(const char *dir, struct mm_proc *pr)
{
	char path[512], buf[2048], *open_p, *close_p, *tok, *save = NULL;
	int i;
	unsigned long long ut = 0, stt = 0, start = 0;
	snprintf(path, sizeof(path), "%s/stat", dir);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* comm may hold spaces and parentheses: it spans to the LAST ')' */
	if (!(open_p = strchr(buf, '(')) || !(close_p = strrchr(buf, ')')) || close_p < open_p)
		return -1;
	copy_cut(pr->name, sizeof(pr->name), open_p + 1, (size_t)(close_p - open_p - 1));
	tok = strtok_r(close_p + 1, " ", &save);
	for (i = 0; tok; i++, tok = strtok_r(NULL, " ", &save)) {
		if (i == 1)
			pr->ppid = atoi(tok);
		else if (i == 11)
			ut = strtoull(tok, NULL, 10);
		else if (i == 12)
			stt = strtoull(tok, NULL, 10);
		else if (i == 19) {
			start = strtoull(tok, NULL, 10);
			break;
		}
	}
	if (i < 19)
		return -1;
	pr->cpu_ticks = ut + stt;
	pr->start_ticks = start;
	return 0;
}

static int read_uid(const char *dir, struct mm_proc *pr)
{
	char path[512], buf[4096], *p;
	unsigned r, e;
	snprintf(path, sizeof(path), "%s/status", dir);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	if (!(p = strstr(buf, "\nUid:")) || sscanf(p + 5, "%u %u", &r, &e) != 2)
		return -1;
	pr->uid = e;
	return 0;
}

static void read_exe(const char *dir, struct mm_proc *pr)
{
	char path[512], buf[MM_PROC_EXE + 16];
	ssize_t n;
	static const char del[] = " (deleted)";
	snprintf(path, sizeof(path), "%s/exe", dir);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return; /* kernel thread, gone, or not permitted */
	buf[n] = '\0';
	if ((size_t)n > sizeof(del) - 1 && !strcmp(buf + n - (sizeof(del) - 1), del)) {
		n -= (ssize_t)(sizeof(del) - 1);
		buf[n] = '\0';
		pr->exe_deleted = 1;
	}
	copy_cut(pr->exe, sizeof(pr->exe), buf, (size_t)n);
}

static void read_cmdline(const char *dir, struct mm_proc *pr)
{
	char path[512];
	ssize_t n, i;
	snprintf(path, sizeof(path), "%s/cmdline", dir);
	n = read_small(path, pr->cmdline, sizeof(pr->cmdline));
	if (n <= 0) {
		pr->cmdline[0] = '\0';
		return;
	}
	while (n > 0 && pr->cmdline[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)pr->cmdline[i];
		if (ch == '\0' || ch == '\n' || ch == '\r' || ch == '\t')
			pr->cmdline[i] = ' ';
	}
	pr->cmdline[n] = '\0';
}

static int pid_cmp(const void *a, const void *b)
{
	const struct mm_proc *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

int mm_proc_snapshot(struct mm_proc_table *t, const char *proc_dir, mm_proc_username_fn uname,
		     void *uctx)
{
	DIR *d;
	struct dirent *de;
	int64_t btime = mm_proc_btime(proc_dir);
	long hz = sysconf(_SC_CLK_TCK);
	int rc = 0;

	if (hz <= 0)
		hz = 100;
	t->n = 0;
	if (!(d = opendir(proc_dir)))
		return MM_EIO;
	while ((de = readdir(d))) {
		char dir[512], *end;
		long pid = strtol(de->d_name, &end, 10);
		struct mm_proc *pr;
		const char *un;
		if (*end || pid <= 0 || end == de->d_name)
			continue;
		if (t->n >= MM_PROC_MAX)
			break;
		if (t->n == t->cap) {
			size_t nc = t->cap ? t->cap * 2 : 256;
			struct mm_proc *nv = mm_realloc(t->v, nc * sizeof(*nv));
			if (!nv) {
				rc = MM_ENOMEM;
				break;
			}
			t->v = nv;
			t->cap = nc;
		}
		pr = &t->v[t->n];
		memset(pr, 0, sizeof(*pr));
		pr->pid = (int)pid;
		snprintf(dir, sizeof(dir), "%s/%ld", proc_dir, pid);
		/* a process that exits between these reads is simply skipped */
		if (read_stat(dir, pr) || read_uid(dir, pr))
			continue;
		read_exe(dir, pr);
		read_cmdline(dir, pr);
		pr->start_ms = btime ? btime * 1000 + (int64_t)(pr->start_ticks * 1000 / (uint64_t)hz) : 0;
		un = uname ? uname(uctx, pr->uid) : NULL;
		if (un)
			snprintf(pr->user, sizeof(pr->user), "%s", un);
		else
			snprintf(pr->user, sizeof(pr->user), "%u", pr->uid);
		t->n++;
	}
	closedir(d);
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), pid_cmp);
	return rc;
}

void mm_proc_table_free(struct mm_proc_table *t)
{
	mm_free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

struct mm_proc *mm_proc_find(const struct mm_proc_table *t, int pid)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].pid == pid)
			return &t->v[mid];
		if (t->v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void mm_proc_cpu(struct mm_proc_table *now, const struct mm_proc_table *before, int64_t interval_ms)
{
	long hz = sysconf(_SC_CLK_TCK);
	size_t i;
	if (hz <= 0)
		hz = 100;
	for (i = 0; i < now->n; i++) {
		struct mm_proc *p = &now->v[i];
		const struct mm_proc *b = mm_proc_find(before, p->pid);
		uint64_t d, pm;
		p->cpu_permille = 0;
		if (!b || b->start_ticks != p->start_ticks || interval_ms <= 0 ||
		    p->cpu_ticks < b->cpu_ticks)
			continue;
		d = p->cpu_ticks - b->cpu_ticks;
		pm = d * 1000000ull / ((uint64_t)hz * (uint64_t)interval_ms);
		p->cpu_permille = pm > 1000000 ? 1000000 : (uint32_t)pm;
	}
}

void mm_proc_lineage(struct mm_proc_table *t)
{
	size_t i;
	for (i = 0; i < t->n; i++) {
		struct mm_proc *p = &t->v[i];
		size_t len = 0;
		int depth, ppid = p->ppid;
		p->lineage[0] = '\0';
		for (depth = 0; depth < MM_PROC_LINEAGE_DEPTH && ppid > 0; depth++) {
			const struct mm_proc *q = mm_proc_find(t, ppid);
			int w;
			if (!q || q == p)
				break;
			w = snprintf(p->lineage + len, sizeof(p->lineage) - len, "%s%d:%s:%s",
				     len ? ";" : "", q->pid, q->name, q->exe);
			if (w < 0 || (size_t)w >= sizeof(p->lineage) - len) {
				p->lineage[len] = '\0'; /* cut at a whole entry */
				break;
			}
			len += (size_t)w;
			ppid = q->ppid;
		}
	}
}

/* ---- hashing ------------------------------------------------------------ */

void mm_hashcache_init(struct mm_hashcache *c)
{
	memset(c, 0, sizeof(*c));
}

void mm_hashcache_free(struct mm_hashcache *c)
{
	mm_free(c->v);
	memset(c, 0, sizeof(*c));
}

int mm_sha256_fd(int fd, uint64_t max, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536], md[32];
	unsigned int mdlen = 0, i;
	uint64_t total = 0;
	int rc = 0;

	out[0] = '\0';
	if (!ctx)
		return MM_ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = MM_EIO;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = MM_EIO;
			goto out;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (total > max) {
			rc = MM_ETOOBIG;
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		rc = MM_EIO;
		goto out;
	}
	for (i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static struct mm_hashcache_ent *cache_find(struct mm_hashcache *c, const struct stat *st)
{
	size_t i;
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	for (i = 0; i < MM_PROC_HASH_CACHE; i++) {
		struct mm_hashcache_ent *e = &c->v[i];
		if (e->hex[0] && e->ino == (uint64_t)st->st_ino && e->dev == (uint64_t)st->st_dev &&
		    e->mtime_ns == mt && e->size == (uint64_t)st->st_size)
			return e;
	}
	return NULL;
}

static void cache_put(struct mm_hashcache *c, const struct stat *st, const char *hex)
{
	size_t i, victim = 0;
	for (i = 0; i < MM_PROC_HASH_CACHE; i++) {
		if (!c->v[i].hex[0]) {
			victim = i;
			break;
		}
		if (c->v[i].used < c->v[victim].used)
			victim = i;
	}
	c->v[victim].dev = (uint64_t)st->st_dev;
	c->v[victim].ino = (uint64_t)st->st_ino;
	c->v[victim].size = (uint64_t)st->st_size;
	c->v[victim].mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	c->v[victim].used = ++c->clock;
	memcpy(c->v[victim].hex, hex, 65);
}

void mm_proc_hash(struct mm_proc_table *t, struct mm_hashcache *c, const char *proc_dir,
		  uint64_t budget)
{
	size_t i;
	uint64_t spent = 0;
	if (!c->v && !(c->v = mm_calloc(MM_PROC_HASH_CACHE, sizeof(*c->v))))
		return;
	for (i = 0; i < t->n; i++) {
		struct mm_proc *p = &t->v[i];
		struct mm_hashcache_ent *e;
		struct stat st;
		char path[512], hex[65];
		int fd;
		if (!p->exe[0])
			continue;
		snprintf(path, sizeof(path), "%s/%d/exe", proc_dir, p->pid);
		/* /proc/PID/exe opens the very file the process runs, even
		 * deleted or replaced on disk */
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		if ((e = cache_find(c, &st))) {
			e->used = ++c->clock;
			memcpy(p->sha256, e->hex, 65);
			c->hits++;
			close(fd);
			continue;
		}
		if ((uint64_t)st.st_size > MM_PROC_HASH_MAX_FILE || spent + (uint64_t)st.st_size > budget) {
			c->deferred++;
			close(fd);
			continue;
		}
		spent += (uint64_t)st.st_size;
		c->misses++;
		if (!mm_sha256_fd(fd, MM_PROC_HASH_MAX_FILE, hex)) {
			c->hashed_bytes += (uint64_t)st.st_size;
			cache_put(c, &st, hex);
			memcpy(p->sha256, hex, 65);
		}
		close(fd);
	}
}
