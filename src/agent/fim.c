/* fim.c - file integrity monitoring (see fim.h): the baseline walk and
 * compare, the diff, the database, and the inotify watch that wakes the
 * daemon early. */
#include "agent/fim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/proc.h"
#include "agent/users.h"
#include "core/mem.h"
#include "core/mtime.h"

#define FIM_SCHEMA 1
#define FIM_CHANGES_KEEP 10000

/* One watched file as seen now or as the baseline holds it. */
struct fent {
	char *path;			/* host path, owned */
	char sha[65];
	uint32_t mode, uid, gid;
	uint64_t size, ino;
	int64_t mtime_ns, ctime_ns;
	char *text;			/* kept content (text files), owned, may be NULL */
	size_t textn;
	int seen;			/* baseline: matched by the walk */
};

struct flist {
	struct fent *v;
	size_t n, cap;
};

static void flist_free(struct flist *l)
{
	size_t i;
	for (i = 0; i < l->n; i++) {
		mm_free(l->v[i].path);
		mm_free(l->v[i].text);
	}
	mm_free(l->v);
	memset(l, 0, sizeof(*l));
}

static struct fent *flist_add(struct flist *l)
{
	if (l->n >= MM_FIM_MAX_FILES)
		return NULL;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		struct fent *nv = mm_realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		l->v = nv;
		l->cap = nc;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static int fent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fent *)a)->path, ((const struct fent *)b)->path);
}

static struct fent *flist_find(struct flist *l, const char *path)
{
	struct fent key;
	key.path = (char *)path;
	return l->n ? bsearch(&key, l->v, l->n, sizeof(*l->v), fent_cmp) : NULL;
}

/* ---- the walk ------------------------------------------------------------ */

struct walk {
	const char *root;
	size_t rootlen;
	char rootreal[PATH_MAX];
	struct flist *cur;
	struct flist *base;		/* to skip re-reading unchanged files */
	uint64_t kept;			/* text bytes kept */
	uint64_t hashed;
};

static int is_text(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] == '\0')
			return 0;
	return 1;
}

/* Record host path hp (real path root+hp). Missing files are simply not
 * there; a path that is a duplicate is skipped. */
static void add_file(struct walk *w, const char *hp)
{
	char real[PATH_MAX];
	struct stat st;
	struct fent *e, *b;
	snprintf(real, sizeof(real), "%s%s", w->root, hp);
	if (lstat(real, &st) || !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
		return;
	if (!(e = flist_add(w->cur)) || !(e->path = mm_strdup(hp))) {
		if (e)
			w->cur->n--;
		return;
	}
	e->mode = st.st_mode;
	e->uid = st.st_uid;
	e->gid = st.st_gid;
	e->size = (uint64_t)st.st_size;
	e->ino = (uint64_t)st.st_ino;
	e->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	e->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
	b = w->base ? flist_find(w->base, hp) : NULL;
	if (b && b->size == e->size && b->mtime_ns == e->mtime_ns && b->ino == e->ino &&
	    b->ctime_ns == e->ctime_ns && b->sha[0]) {
		/* unchanged: take the baseline's hash and text */
		memcpy(e->sha, b->sha, sizeof(e->sha));
		if (b->text && (e->text = mm_malloc(b->textn + 1))) {
			memcpy(e->text, b->text, b->textn + 1);
			e->textn = b->textn;
			w->kept += b->textn;
		}
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		char tgt[PATH_MAX];
		ssize_t n = readlink(real, tgt, sizeof(tgt) - 1);
		int fd[2];
		if (n < 0 || pipe(fd))
			return;
		/* hash the link's text through a pipe (small: PATH_MAX) */
		if (write(fd[1], tgt, (size_t)n) == n) {
			close(fd[1]);
			mm_sha256_fd(fd[0], PATH_MAX, e->sha);
		} else {
			close(fd[1]);
		}
		close(fd[0]);
		return;
	}
	if ((uint64_t)st.st_size <= MM_FIM_HASH_MAX) {
		int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			return;
		if (st.st_size <= (off_t)MM_FIM_TEXT_MAX && w->kept + (uint64_t)st.st_size <= MM_FIM_KEEP_TOTAL) {
			char *t = mm_malloc((size_t)st.st_size + 1);
			ssize_t got = t ? pread(fd, t, (size_t)st.st_size, 0) : -1;
			if (t && got >= 0 && is_text(t, (size_t)got)) {
				t[got] = '\0';
				e->text = t;
				e->textn = (size_t)got;
				w->kept += (uint64_t)got;
			} else {
				mm_free(t);
			}
		}
		if (!mm_sha256_fd(fd, MM_FIM_HASH_MAX, e->sha))
			w->hashed++;
		close(fd);
	}
}

/* A directory's entries (one level; *.wants one more when sub). */
static void add_dir(struct walk *w, const char *hp, int sub)
{
	char real[PATH_MAX];
	DIR *d;
	struct dirent *de;
	struct stat st;
	snprintf(real, sizeof(real), "%s%s", w->root, hp);
	if (lstat(real, &st) || !S_ISDIR(st.st_mode))
		return; /* absent, or a symlink: not followed */
	if (!(d = opendir(real)))
		return;
	while ((de = readdir(d))) {
		char child[PATH_MAX];
		size_t l;
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		snprintf(child, sizeof(child), "%s/%s", hp, de->d_name);
		l = strlen(de->d_name);
		if (sub && de->d_type == DT_DIR && l > 6 && !strcmp(de->d_name + l - 6, ".wants"))
			add_dir(w, child, 0);
		else
			add_file(w, child);
		if (w->cur->n >= MM_FIM_MAX_FILES)
			break;
	}
	closedir(d);
}

/* Is the home folder hp (under root) really under root? */
static int home_inside(struct walk *w, const char *hp)
{
	char real[PATH_MAX], rp[PATH_MAX];
	size_t rl;
	snprintf(real, sizeof(real), "%s%s", w->root, hp);
	if (!realpath(real, rp))
		return 0;
	rl = strlen(w->rootreal);
	if (!strcmp(w->rootreal, "/"))
		return 1;
	return !strncmp(rp, w->rootreal, rl) && (rp[rl] == '/' || !rp[rl]);
}

/* The watched paths (host paths, under the root). */
static const char *const files[] = {
	"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers",
	"/etc/crontab", "/etc/ld.so.preload", "/etc/anacrontab", "/root/.bashrc",
	"/root/.profile", "/root/.bash_profile", "/root/.ssh/authorized_keys",
	"/root/.ssh/authorized_keys2"
};
static const char *const dirs[] = {
	"/etc/sudoers.d", "/etc/cron.d", "/etc/cron.hourly", "/etc/cron.daily",
	"/etc/cron.weekly", "/etc/cron.monthly", "/var/spool/cron", "/var/spool/cron/crontabs",
	"/usr/bin", "/usr/sbin"
};
static const char *const unitdirs[] = {
	"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system",
	"/etc/systemd/user", "/run/systemd/system"
};
static const char *const dot[] = {
	"/.ssh/authorized_keys", "/.ssh/authorized_keys2", "/.bashrc", "/.profile",
	"/.bash_profile"
};

static void walk_all(struct walk *w)
{
	struct mm_accounts acc = { 0 };
	size_t i, k;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		add_file(w, files[i]);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		add_dir(w, dirs[i], 0);
	for (i = 0; i < sizeof(unitdirs) / sizeof(unitdirs[0]); i++)
		add_dir(w, unitdirs[i], 1);
	if (!mm_accounts_load(&acc, w->root)) {
		for (i = 0; i < acc.n; i++) {
			const char *h = acc.v[i].home;
			if (h[0] != '/' || !h[1] || !strcmp(h, "/root") || strstr(h, "/../") ||
			    !home_inside(w, h))
				continue;
			for (k = 0; k < sizeof(dot) / sizeof(dot[0]); k++) {
				char p[PATH_MAX];
				snprintf(p, sizeof(p), "%s%s", h, dot[k]);
				add_file(w, p);
			}
		}
	}
	mm_accounts_free(&acc);
}

/* ---- the diff ------------------------------------------------------------ */

struct line {
	const char *p;
	size_t n;
};

static size_t split(const char *t, size_t n, struct line *v, size_t cap)
{
	size_t k = 0;
	const char *p = t, *end = t + n;
	while (p < end && k < cap) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t l = e ? (size_t)(e - p) : (size_t)(end - p);
		v[k].p = p;
		v[k].n = l;
		k++;
		p += l + 1;
	}
	return k;
}

int mm_fim_diff(struct mm_buf *out, const char *a, size_t an, const char *b, size_t bn, size_t max)
{
	struct line *la = NULL, *lb = NULL;
	size_t na, nb, pre = 0, suf = 0, i, start = out->len;
	int rc = 0, cut = 0;
	size_t cap = MM_FIM_TEXT_MAX / 1 + 1;
	la = mm_malloc(cap * sizeof(*la));
	lb = mm_malloc(cap * sizeof(*lb));
	if (!la || !lb) {
		rc = MM_ENOMEM;
		goto out;
	}
	na = split(a, an, la, cap);
	nb = split(b, bn, lb, cap);
	while (pre < na && pre < nb && la[pre].n == lb[pre].n && !memcmp(la[pre].p, lb[pre].p, la[pre].n))
		pre++;
	while (suf < na - pre && suf < nb - pre && la[na - 1 - suf].n == lb[nb - 1 - suf].n &&
	       !memcmp(la[na - 1 - suf].p, lb[nb - 1 - suf].p, la[na - 1 - suf].n))
		suf++;
	if (pre == na && pre == nb)
		goto out;
	mm_buf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", pre + 1, na - pre - suf, pre + 1, nb - pre - suf);
	for (i = pre; i < na - suf && !cut; i++) {
		if (out->len - start + la[i].n + 2 > max) {
			cut = 1;
			break;
		}
		mm_buf_addc(out, '-');
		mm_buf_add(out, la[i].p, la[i].n);
		mm_buf_addc(out, '\n');
	}
	for (i = pre; i < nb - suf && !cut; i++) {
		if (out->len - start + lb[i].n + 2 > max) {
			cut = 1;
			break;
		}
		mm_buf_addc(out, '+');
		mm_buf_add(out, lb[i].p, lb[i].n);
		mm_buf_addc(out, '\n');
	}
	if (cut)
		mm_buf_addz(out, "... (cut)\n");
out:
	mm_free(la);
	mm_free(lb);
	return rc;
}

/* ---- the database ------------------------------------------------------------ */

static const char fim_schema_sql[] =
	"CREATE TABLE IF NOT EXISTS agent_schema(module TEXT PRIMARY KEY, version INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS agent_fim(path TEXT PRIMARY KEY, sha256 TEXT, mode INTEGER,"
	" uid INTEGER, gid INTEGER, size INTEGER, ino INTEGER, mtime_ns INTEGER, ctime_ns INTEGER,"
	" text BLOB);"
	"CREATE TABLE IF NOT EXISTS agent_fim_changes(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time_ms INTEGER NOT NULL, path TEXT NOT NULL, change TEXT NOT NULL, old_sha256 TEXT,"
	" new_sha256 TEXT, detail TEXT, diff TEXT, owner TEXT);"
	"INSERT OR IGNORE INTO agent_schema(module, version) VALUES('fim', 1);";

static int db_open(sqlite3 **db, const char *path, struct mm_err *err)
{
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		mm_err_set(err, MM_EDB, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
		sqlite3_close(*db);
		*db = NULL;
		return MM_EDB;
	}
	sqlite3_busy_timeout(*db, 10000);
	if (sqlite3_exec(*db, fim_schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		mm_err_set(err, MM_EDB, "%s: %s", path, sqlite3_errmsg(*db));
		sqlite3_close(*db);
		*db = NULL;
		return MM_EDB;
	}
	return 0;
}

static int load_base(sqlite3 *db, struct flist *l, int *have)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;
	*have = 0;
	if (sqlite3_prepare_v2(db, "SELECT path, sha256, mode, uid, gid, size, ino, mtime_ns, ctime_ns,"
				   " text FROM agent_fim ORDER BY path", -1, &s, NULL) != SQLITE_OK)
		return MM_EDB;
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct fent *e = flist_add(l);
		const char *sha = (const char *)sqlite3_column_text(s, 1);
		const void *t = sqlite3_column_blob(s, 9);
		int tn = sqlite3_column_bytes(s, 9);
		*have = 1;
		if (!e || !(e->path = mm_strdup((const char *)sqlite3_column_text(s, 0)))) {
			rc = MM_ENOMEM;
			break;
		}
		snprintf(e->sha, sizeof(e->sha), "%s", sha ? sha : "");
		e->mode = (uint32_t)sqlite3_column_int64(s, 2);
		e->uid = (uint32_t)sqlite3_column_int64(s, 3);
		e->gid = (uint32_t)sqlite3_column_int64(s, 4);
		e->size = (uint64_t)sqlite3_column_int64(s, 5);
		e->ino = (uint64_t)sqlite3_column_int64(s, 6);
		e->mtime_ns = sqlite3_column_int64(s, 7);
		e->ctime_ns = sqlite3_column_int64(s, 8);
		if (t && tn >= 0 && (e->text = mm_malloc((size_t)tn + 1))) {
			memcpy(e->text, t, (size_t)tn);
			e->text[tn] = '\0';
			e->textn = (size_t)tn;
		}
	}
	sqlite3_finalize(s);
	/* a baseline of zero files is still a baseline once recorded */
	if (!*have) {
		if (sqlite3_prepare_v2(db, "SELECT version FROM agent_schema WHERE module='fim.base'", -1,
				       &s, NULL) == SQLITE_OK) {
			if (sqlite3_step(s) == SQLITE_ROW)
				*have = 1;
			sqlite3_finalize(s);
		}
	}
	/* the SQL order is the byte order strcmp uses only for ASCII; sort */
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), fent_cmp);
	return rc;
}

static int store(sqlite3 *db, const struct flist *cur, const struct mm_fim_change *ch, size_t nch)
{
	sqlite3_stmt *ins = NULL, *chs = NULL;
	size_t i;
	int ok = 0;
	int64_t now = mm_now_ms();
	if (sqlite3_exec(db, "BEGIN IMMEDIATE; DELETE FROM agent_fim;"
			     "INSERT OR REPLACE INTO agent_schema(module, version) VALUES('fim.base', 1);",
			 NULL, NULL, NULL) != SQLITE_OK)
		return MM_EDB;
	if (sqlite3_prepare_v2(db, "INSERT INTO agent_fim VALUES(?,?,?,?,?,?,?,?,?,?)", -1, &ins,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO agent_fim_changes(time_ms, path, change, old_sha256,"
				   " new_sha256, detail, diff, owner) VALUES(?,?,?,?,?,?,?,?)",
			       -1, &chs, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < cur->n; i++) {
		const struct fent *e = &cur->v[i];
		sqlite3_bind_text(ins, 1, e->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, e->sha, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, e->mode);
		sqlite3_bind_int64(ins, 4, e->uid);
		sqlite3_bind_int64(ins, 5, e->gid);
		sqlite3_bind_int64(ins, 6, (int64_t)e->size);
		sqlite3_bind_int64(ins, 7, (int64_t)e->ino);
		sqlite3_bind_int64(ins, 8, e->mtime_ns);
		sqlite3_bind_int64(ins, 9, e->ctime_ns);
		if (e->text)
			sqlite3_bind_blob(ins, 10, e->text, (int)e->textn, SQLITE_STATIC);
		else
			sqlite3_bind_null(ins, 10);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto out;
		sqlite3_reset(ins);
	}
	for (i = 0; i < nch; i++) {
		sqlite3_bind_int64(chs, 1, now);
		sqlite3_bind_text(chs, 2, ch[i].path, -1, SQLITE_STATIC);
		sqlite3_bind_text(chs, 3, ch[i].change, -1, SQLITE_STATIC);
		sqlite3_bind_text(chs, 4, ch[i].old_sha256, -1, SQLITE_STATIC);
		sqlite3_bind_text(chs, 5, ch[i].new_sha256, -1, SQLITE_STATIC);
		sqlite3_bind_text(chs, 6, ch[i].detail, -1, SQLITE_STATIC);
		sqlite3_bind_text(chs, 7, ch[i].diff, -1, SQLITE_STATIC);
		sqlite3_bind_text(chs, 8, ch[i].owner, -1, SQLITE_STATIC);
		if (sqlite3_step(chs) != SQLITE_DONE)
			goto out;
		sqlite3_reset(chs);
	}
	{
		char sql[160];
		snprintf(sql, sizeof(sql),
			 "DELETE FROM agent_fim_changes WHERE id <= (SELECT MAX(id) FROM agent_fim_changes) - %d",
			 FIM_CHANGES_KEEP);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			goto out;
	}
	ok = 1;
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(chs);
	sqlite3_exec(db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	return ok ? 0 : MM_EDB;
}

/* ---- the scan ------------------------------------------------------------ */

struct pending {
	struct mm_fim_change c;
	char detail[80];
	char owner[32];
	char *diff;			/* owned */
};

int mm_fim_scan(const char *db_path, const char *root, mm_fim_change_fn fn,
		int (*flush)(void *ctx), void *ctx, struct mm_fim_counts *cnt, struct mm_err *err)
{
	sqlite3 *db = NULL;
	struct flist base = { 0 }, cur = { 0 };
	struct walk w;
	struct pending *pend = NULL;
	struct mm_fim_change *chv = NULL;
	size_t npend = 0, cappend = 0, i;
	int have = 0, rc;

	memset(cnt, 0, sizeof(*cnt));
	memset(&w, 0, sizeof(w));
	w.root = root ? root : "";
	if (!realpath(w.root[0] ? w.root : "/", w.rootreal))
		snprintf(w.rootreal, sizeof(w.rootreal), "/");
	if ((rc = db_open(&db, db_path, err)))
		return rc;
	if ((rc = load_base(db, &base, &have))) {
		mm_err_set(err, rc, "fim baseline: %s", mm_strerror(rc));
		goto out;
	}
	w.cur = &cur;
	w.base = &base;
	walk_all(&w);
	if (cur.n) {
		size_t k = 0;
		qsort(cur.v, cur.n, sizeof(*cur.v), fent_cmp);
		/* a path twice (two accounts sharing a home) is kept once */
		for (i = 0; i < cur.n; i++) {
			if (k && !strcmp(cur.v[k - 1].path, cur.v[i].path)) {
				mm_free(cur.v[i].path);
				mm_free(cur.v[i].text);
				continue;
			}
			cur.v[k++] = cur.v[i];
		}
		cur.n = k;
	}
	cnt->files = cur.n;
	cnt->hashed = w.hashed;
	cnt->baseline_only = !have;
#define PUSH(P, CH, OLD, NEW, UID)                                                   \
	do {                                                                         \
		struct pending *q_;                                                  \
		if (npend == cappend) {                                              \
			size_t nc_ = cappend ? cappend * 2 : 16;                     \
			struct pending *nv_ = mm_realloc(pend, nc_ * sizeof(*nv_));  \
			if (!nv_) {                                                  \
				rc = mm_err_set(err, MM_ENOMEM, "out of memory");    \
				goto out;                                            \
			}                                                            \
			pend = nv_;                                                  \
			cappend = nc_;                                               \
		}                                                                    \
		q_ = &pend[npend++];                                                 \
		memset(q_, 0, sizeof(*q_));                                          \
		q_->c.path = (P);                                                    \
		q_->c.change = (CH);                                                 \
		q_->c.old_sha256 = (OLD);                                            \
		q_->c.new_sha256 = (NEW);                                            \
		q_->c.detail = q_->detail;                                           \
		q_->c.diff = "";                                                     \
		snprintf(q_->owner, sizeof(q_->owner), "%u", (unsigned)(UID));       \
		q_->c.owner = q_->owner;                                             \
	} while (0)
	if (have) {
		for (i = 0; i < cur.n; i++) {
			struct fent *e = &cur.v[i], *b = flist_find(&base, e->path);
			if (!b) {
				PUSH(e->path, "created", "", e->sha, e->uid);
				continue;
			}
			b->seen = 1;
			if (strcmp(b->sha, e->sha) || (S_ISLNK(b->mode) != S_ISLNK(e->mode))) {
				PUSH(e->path, "modified", b->sha, e->sha, e->uid);
				if (b->text && e->text) {
					struct mm_buf db_;
					mm_buf_init(&db_, MM_FIM_DIFF_MAX + 64);
					if (!mm_fim_diff(&db_, b->text, b->textn, e->text, e->textn,
							 MM_FIM_DIFF_MAX) && db_.len) {
						pend[npend - 1].diff = mm_strndup(db_.p, db_.len);
						if (pend[npend - 1].diff)
							pend[npend - 1].c.diff = pend[npend - 1].diff;
					}
					mm_buf_free(&db_);
				}
			} else if (b->mode != e->mode) {
				PUSH(e->path, "mode", b->sha, e->sha, e->uid);
				snprintf(pend[npend - 1].detail, sizeof(pend[0].detail), "mode %o->%o",
					 b->mode, e->mode);
			} else if (b->uid != e->uid || b->gid != e->gid) {
				PUSH(e->path, "owner", b->sha, e->sha, e->uid);
				snprintf(pend[npend - 1].detail, sizeof(pend[0].detail),
					 "owner %u:%u->%u:%u", b->uid, b->gid, e->uid, e->gid);
			}
		}
		for (i = 0; i < base.n; i++)
			if (!base.v[i].seen)
				PUSH(base.v[i].path, "deleted", base.v[i].sha, "", base.v[i].uid);
	}
#undef PUSH
	for (i = 0; i < npend; i++)
		if ((rc = fn(ctx, &pend[i].c))) {
			mm_err_set(err, rc, "fim: %s", mm_strerror(rc));
			goto out;
		}
	cnt->changes = npend;
	if (flush && (rc = flush(ctx))) {
		mm_err_set(err, rc, "fim: %s", mm_strerror(rc));
		goto out;
	}
	if (npend && !(chv = mm_calloc(npend, sizeof(*chv)))) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < npend; i++)
		chv[i] = pend[i].c;
	if ((rc = store(db, &cur, chv, npend)))
		mm_err_set(err, rc, "%s: fim baseline: %s", db_path, sqlite3_errmsg(db));
out:
	for (i = 0; i < npend; i++)
		mm_free(pend[i].diff);
	mm_free(pend);
	mm_free(chv);
	flist_free(&base);
	flist_free(&cur);
	sqlite3_close(db);
	return rc;
}

int mm_fim_recent(const char *db_path, size_t max, mm_fim_change_fn fn, void *ctx,
		  struct mm_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc = 0;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 0; /* no database: no changes */
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "SELECT path, change, old_sha256, new_sha256, detail, diff, owner"
				   " FROM agent_fim_changes ORDER BY id DESC LIMIT ?", -1, &s, NULL) !=
	    SQLITE_OK)
		goto out; /* no table yet: no changes */
	sqlite3_bind_int64(s, 1, (int64_t)max);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct mm_fim_change c;
#define COL(i) ((const char *)sqlite3_column_text(s, i) ? (const char *)sqlite3_column_text(s, i) : "")
		c.path = COL(0);
		c.change = COL(1);
		c.old_sha256 = COL(2);
		c.new_sha256 = COL(3);
		c.detail = COL(4);
		c.diff = COL(5);
		c.owner = COL(6);
#undef COL
		if ((rc = fn(ctx, &c))) {
			mm_err_set(err, rc, "fim: %s", mm_strerror(rc));
			break;
		}
	}
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* ---- the inotify watch ------------------------------------------------------ */

/* What a watched directory's events mean: any entry is watched (a cron
 * or unit folder), or only the entries named in names[] (the folders of
 * single watched files: /etc, /root, a home, its .ssh). */
enum { W_ANY = 1, W_NAMED = 2 };

static const char *const names[] = {
	"passwd", "shadow", "group", "gshadow", "sudoers", "crontab", "ld.so.preload",
	"anacrontab", ".bashrc", ".profile", ".bash_profile", "authorized_keys",
	"authorized_keys2", ".ssh"
};

struct wslot {
	int wd;
	uint8_t kind;
};

struct mm_fim_watch {
	int fd;
	char root[PATH_MAX];
	struct wslot *v;
	size_t n, max;
	struct mm_fim_watch_stats st;
};

#define WATCH_MASK                                                                               \
	(IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM |        \
	 IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

static struct wslot *wslot_find(struct mm_fim_watch *w, int wd)
{
	size_t i;
	for (i = 0; i < w->n; i++)
		if (w->v[i].wd == wd)
			return &w->v[i];
	return NULL;
}

/* Watch host folder hp (root + hp) with kind; a folder watched already
 * (inotify gives its wd again) keeps the wider kind. */
static void watch_dir(struct mm_fim_watch *w, const char *hp, uint8_t kind)
{
	char real[PATH_MAX];
	struct wslot *s;
	int wd;
	if ((size_t)snprintf(real, sizeof(real), "%s%s", w->root, hp) >= sizeof(real))
		return;
	wd = inotify_add_watch(w->fd, real, WATCH_MASK);
	if (wd < 0) {
		/* absent (or a symlink: IN_DONT_FOLLOW) is fine; out of
		 * watches (max_user_watches) leaves it to the rescan */
		if (errno == ENOSPC)
			w->st.limited = 1;
		return;
	}
	if ((s = wslot_find(w, wd))) {
		if (kind == W_ANY)
			s->kind = W_ANY;
		return;
	}
	if (w->n >= w->max) {
		inotify_rm_watch(w->fd, wd);
		w->st.limited = 1;
		return;
	}
	w->v[w->n].wd = wd;
	w->v[w->n].kind = kind;
	w->n++;
}

/* The parent folder of host path p into out. */
static void parent_of(const char *p, char *out, size_t cap)
{
	const char *s = strrchr(p, '/');
	size_t k = s && s != p ? (size_t)(s - p) : 1;
	if (k >= cap)
		k = cap - 1;
	memcpy(out, p, k);
	out[k] = '\0';
}

/* A systemd unit folder and its *.wants folders. */
static void watch_units(struct mm_fim_watch *w, const char *hp)
{
	char real[PATH_MAX];
	DIR *d;
	struct dirent *de;
	watch_dir(w, hp, W_ANY);
	snprintf(real, sizeof(real), "%s%s", w->root, hp);
	if (!(d = opendir(real)))
		return;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char child[PATH_MAX];
		if (de->d_type != DT_DIR || l <= 6 || strcmp(de->d_name + l - 6, ".wants"))
			continue;
		snprintf(child, sizeof(child), "%s/%s", hp, de->d_name);
		watch_dir(w, child, W_ANY);
	}
	closedir(d);
}

int mm_fim_watch_refresh(struct mm_fim_watch *w)
{
	struct walk wk;
	struct mm_accounts acc = { 0 };
	char dir[PATH_MAX];
	size_t i;
	if (!w)
		return 0;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		parent_of(files[i], dir, sizeof(dir));
		watch_dir(w, dir, W_NAMED);
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		watch_dir(w, dirs[i], W_ANY);
	for (i = 0; i < sizeof(unitdirs) / sizeof(unitdirs[0]); i++)
		watch_units(w, unitdirs[i]);
	memset(&wk, 0, sizeof(wk));
	wk.root = w->root;
	if (!realpath(w->root[0] ? w->root : "/", wk.rootreal))
		snprintf(wk.rootreal, sizeof(wk.rootreal), "/");
	if (!mm_accounts_load(&acc, w->root)) {
		for (i = 0; i < acc.n; i++) {
			const char *h = acc.v[i].home;
			if (h[0] != '/' || !h[1] || !strcmp(h, "/root") || strstr(h, "/../") ||
			    !home_inside(&wk, h))
				continue;
			watch_dir(w, h, W_NAMED);
			snprintf(dir, sizeof(dir), "%s/.ssh", h);
			watch_dir(w, dir, W_NAMED);
		}
	}
	mm_accounts_free(&acc);
	w->st.watches = w->n;
	return (int)w->n;
}

int mm_fim_watch_open(struct mm_fim_watch **out, const char *root, size_t max_watches,
		      struct mm_err *err)
{
	struct mm_fim_watch *w;
	*out = NULL;
	if (!max_watches || max_watches > MM_FIM_MAX_WATCHES)
		max_watches = MM_FIM_MAX_WATCHES;
	if (!(w = mm_calloc(1, sizeof(*w))) || !(w->v = mm_calloc(max_watches, sizeof(*w->v)))) {
		if (w)
			mm_free(w);
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	}
	w->max = max_watches;
	snprintf(w->root, sizeof(w->root), "%s", root ? root : "");
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		int e = errno;
		mm_free(w->v);
		mm_free(w);
		return mm_err_set(err, MM_EIO, "inotify: %s", strerror(e));
	}
	mm_fim_watch_refresh(w);
	*out = w;
	return 0;
}

static int named(const char *n)
{
	size_t i;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(n, names[i]))
			return 1;
	return 0;
}

int mm_fim_watch_read(struct mm_fim_watch *w)
{
	/* aligned as inotify(7) asks */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int hit = 0;
	if (!w)
		return 0;
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		const char *p;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return MM_EIO;
		}
		if (n == 0)
			break;
		for (p = buf; p + sizeof(struct inotify_event) <= buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(const void *)p;
			struct wslot *s;
			p += sizeof(*ev) + ev->len;
			w->st.events++;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events were lost: rescan everything */
				w->st.overflows++;
				hit = 1;
				continue;
			}
			if (!(s = wslot_find(w, ev->wd)))
				continue;
			if (ev->mask & IN_IGNORED) {
				/* the folder is gone (or unwatched): free its slot;
				 * the refresh after the cycle watches a new one */
				*s = w->v[--w->n];
				w->st.watches = w->n;
				hit = 1;
				continue;
			}
			if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) || s->kind == W_ANY ||
			    (ev->len && named(ev->name)))
				hit = 1;
		}
	}
	if (hit)
		w->st.wakes++;
	return hit;
}

int mm_fim_watch_wait(struct mm_fim_watch *w, int timeout_ms)
{
	int64_t end = mm_now_ms() + timeout_ms, left;
	if (!w)
		return 0;
	/* events on paths nobody watches (the rest of /etc) are drained and
	 * the wait goes on: the caller's loop keeps its pace */
	while ((left = end - mm_now_ms()) > 0) {
		struct pollfd pf;
		int r;
		pf.fd = w->fd;
		pf.events = POLLIN;
		pf.revents = 0;
		r = poll(&pf, 1, (int)left);
		if (r <= 0)
			return 0; /* timeout, or a signal: the caller's loop decides */
		if ((r = mm_fim_watch_read(w)) != 0)
			return r;
	}
	return 0;
}

void mm_fim_watch_get_stats(const struct mm_fim_watch *w, struct mm_fim_watch_stats *st)
{
	if (w)
		*st = w->st;
	else
		memset(st, 0, sizeof(*st));
}

void mm_fim_watch_free(struct mm_fim_watch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	mm_free(w->v);
	mm_free(w);
}
