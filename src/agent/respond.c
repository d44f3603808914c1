/* respond.c - containment actions of `mamori agent respond` (respond.h).
 *
 * Every action follows one shape: validate and resolve the target (a
 * refusal is recorded too), describe what will change, and only with
 * opts.yes change it; then write the record to the audit log and the
 * database. The detail JSON of a record holds what its undo needs.
 *
 * Safety choices (docs/respond.md says why):
 * - kill signals through a pidfd (pidfd_open + pidfd_send_signal), so a
 *   pid recycled between look-up and signal is never hit; what was read
 *   from /proc is trusted only if the pidfd still names a live process
 *   after the read.
 * - files are reached beneath a directory fd without following symlinks
 *   (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, else a walk with
 *   O_NOFOLLOW per component); quarantine never deletes (rename, or
 *   copy + fsync + unlink of the checked inode across filesystems).
 * - external programs run by execve with a fixed PATH and argv built
 *   from validated values; no shell ever sees a value. */
#include "agent/respond.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/ip.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "finding/finding.h"

#define DETAIL_MAX (4u << 20)
#define CMDLINE_MAX 4096
#define RUN_ERR_MAX 400
#define EXEC_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const ACTION_NAMES[] = {
	NULL, "kill", "quarantine", "block", "lock-user", "remove-cron",
};

const char *mm_respond_action_name(int action)
{
	if (action >= MM_RESPOND_KILL && action <= MM_RESPOND_REMOVE_CRON)
		return ACTION_NAMES[action];
	return "?";
}

int mm_respond_action_parse(const char *word)
{
	int i;
	for (i = MM_RESPOND_KILL; i <= MM_RESPOND_REMOVE_CRON; i++)
		if (!strcmp(word, ACTION_NAMES[i]))
			return i;
	return 0;
}

int mm_respond_parse_duration(const char *s, int64_t *out)
{
	char *end;
	long long v;
	int64_t mul = 1;
	if (!s || !isdigit((unsigned char)s[0]))
		return MM_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 0 || v > 366LL * 86400)
		return MM_EINVAL;
	if (*end == 's')
		mul = 1, end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	if (*end || v * mul > 366LL * 86400)
		return MM_EINVAL;
	*out = v * mul;
	return 0;
}

/* ---- the record of one action ------------------------------------------- */

struct rec {
	char id[MM_RESPOND_ID_LEN + 1];
	const char *action;	/* "kill", ..., "undo" */
	char target[MM_RESPOND_PATH_MAX];
	int dry;
	const char *result;	/* "done", "dry-run", "refused", "failed", "no-match" */
	char message[512];
	struct mm_buf detail;	/* JSON object members, without braces */
};

static void rec_init(struct rec *r, const char *action, const char *target, int dry)
{
	uint8_t rnd[8];
	int i;
	memset(r, 0, sizeof(*r));
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		uint64_t t = (uint64_t)mm_now_ms() ^ ((uint64_t)getpid() << 32);
		memcpy(rnd, &t, 8);
	}
	r->id[0] = 'r';
	r->id[1] = '-';
	for (i = 0; i < 8; i++)
		snprintf(r->id + 2 + 2 * i, 3, "%02x", rnd[i]);
	r->action = action;
	snprintf(r->target, sizeof(r->target), "%s", target ? target : "");
	r->dry = dry;
	r->result = dry ? "dry-run" : "done";
	mm_buf_init(&r->detail, DETAIL_MAX);
}

/* ,"key":"value" into the detail */
static void d_str(struct rec *r, const char *k, const char *v)
{
	mm_buf_printf(&r->detail, "%s\"%s\":", r->detail.len ? "," : "", k);
	mm_buf_json_strz(&r->detail, v ? v : "");
}

static void d_int(struct rec *r, const char *k, long long v)
{
	mm_buf_printf(&r->detail, "%s\"%s\":%lld", r->detail.len ? "," : "", k, v);
}

/* ---- the database: the table respond_actions, own migrations ------------ */

/* The steps of respond's own schema, recorded in respond_meta (the
 * store's PRAGMA user_version belongs to store/sqlite.c). A new schema
 * is a new line, never an edit of a shipped one. */
static const struct {
	int to;
	const char *sql;
} MIGRATIONS[] = {
	{1, "CREATE TABLE IF NOT EXISTS respond_actions(id TEXT PRIMARY KEY, at INTEGER NOT NULL,"
	    " action TEXT NOT NULL, target TEXT NOT NULL, dry INTEGER NOT NULL,"
	    " result TEXT NOT NULL, message TEXT, reason TEXT, detail TEXT NOT NULL,"
	    " undone_by TEXT);"
	    "CREATE INDEX IF NOT EXISTS respond_actions_at ON respond_actions(at);"},
};
#define NMIGRATIONS ((int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0])))

static int db_fail(sqlite3 *db, struct mm_err *err, const char *what, const char *path)
{
	return mm_err_set(err, MM_EDB, "%s: %s (database %s)", what,
			  db ? sqlite3_errmsg(db) : "no handle", path);
}

static int db_open(const struct mm_respond_opts *o, sqlite3 **out, struct mm_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int v = 0, i, rc = MM_EDB;
	mode_t old;

	*out = NULL;
	if (!o->db || !o->db[0])
		return mm_err_set(err, MM_EINVAL, "no database: give --db FILE");
	old = umask(077);
	i = sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	umask(old);
	if (i != SQLITE_OK) {
		rc = db_fail(db, err, "opening", o->db);
		goto out;
	}
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
			 "CREATE TABLE IF NOT EXISTS respond_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);",
			 NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "preparing the respond tables", o->db);
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT value FROM respond_meta WHERE key = 'schema'", -1, &s,
			       NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "reading the respond schema", o->db);
		goto out;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (v > NMIGRATIONS) {
		rc = mm_err_set(err, MM_EDB, "database %s: respond tables written by a newer mamori "
				"(schema %d, this build knows %d)", o->db, v, NMIGRATIONS);
		goto out;
	}
	for (i = 0; i < NMIGRATIONS; i++) {
		char sql[64];
		if (MIGRATIONS[i].to <= v)
			continue;
		snprintf(sql, sizeof(sql),
			 "INSERT OR REPLACE INTO respond_meta VALUES('schema','%d');", MIGRATIONS[i].to);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, MIGRATIONS[i].sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			rc = db_fail(db, err, "upgrading the respond tables", o->db);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
	}
	*out = db;
	db = NULL;
	rc = 0;
out:
	sqlite3_close(db);
	return rc;
}

/* mkdir -p of path's parent directories, mode 0700 for the ones made */
static void mkparents(const char *path)
{
	char b[MM_RESPOND_PATH_MAX];
	char *p;
	if (snprintf(b, sizeof(b), "%s", path) >= (int)sizeof(b))
		return;
	for (p = b + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(b, 0700);
		*p = '/';
	}
}

static const char *audit_path(const struct mm_respond_opts *o, char *b, size_t cap)
{
	if (o->audit_log)
		return o->audit_log;
	snprintf(b, cap, "%s/var/log/mamori/audit.log", o->root ? o->root : "");
	return b;
}

/* The record to the audit log (one JSON line, O_APPEND, 0600) and the
 * database. Both are attempted; the first failure is returned. */
static int rec_write(const struct mm_respond_opts *o, struct rec *r, struct mm_err *err)
{
	struct mm_buf line;
	char ab[MM_RESPOND_PATH_MAX], ts[MM_TIME_STRLEN];
	const char *ap = audit_path(o, ab, sizeof(ab));
	int64_t now = mm_now_ms();
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int fd = -1, rc = 0, rc2;
	struct passwd *pw = getpwuid(getuid());

	mm_buf_init(&line, DETAIL_MAX + 8192);
	mm_buf_printf(&line, "{\"time\":\"%s\",\"id\":\"%s\",\"action\":\"%s\",\"target\":",
		      mm_time_format_iso(now, ts), r->id, r->action);
	mm_buf_json_strz(&line, r->target);
	mm_buf_printf(&line, ",\"dry_run\":%s,\"result\":\"%s\",\"message\":", r->dry ? "true" : "false",
		      r->result);
	mm_buf_json_strz(&line, r->message);
	mm_buf_addz(&line, ",\"reason\":");
	mm_buf_json_strz(&line, o->reason ? o->reason : "");
	mm_buf_printf(&line, ",\"uid\":%u,\"user\":", (unsigned)getuid());
	mm_buf_json_strz(&line, pw ? pw->pw_name : "");
	mm_buf_printf(&line, ",\"pid\":%d,\"detail\":{%s}}\n", (int)getpid(),
		      r->detail.p ? r->detail.p : "");
	if (!line.p || line.p[line.len - 1] != '\n') {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory writing the audit record");
		goto out;
	}
	mkparents(ap);
	fd = open(ap, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, line.p, line.len) != (ssize_t)line.len || fsync(fd) != 0)
		rc = mm_err_set(err, MM_EIO, "cannot write the audit log %s: %s; give --audit-log FILE",
				ap, strerror(errno));
	if ((rc2 = db_open(o, &db, rc ? NULL : err))) {
		rc = rc ? rc : rc2;
		goto out;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO respond_actions(id, at, action, target, dry, result,"
			       " message, reason, detail) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = rc ? rc : db_fail(db, err, "recording the action", o->db);
		goto out;
	}
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, r->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->target, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, r->dry);
	sqlite3_bind_text(s, 6, r->result, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->message, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, o->reason ? o->reason : "", -1, SQLITE_STATIC);
	mm_buf_addz(&r->detail, "");
	sqlite3_bind_text(s, 9, r->detail.p ? r->detail.p : "", -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = rc ? rc : db_fail(db, err, "recording the action", o->db);
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	if (fd >= 0)
		close(fd);
	mm_buf_free(&line);
	return rc;
}

/* Before acting: the audit log and the database can be written, so an
 * action is never taken that could not be recorded. */
static int preflight(const struct mm_respond_opts *o, struct mm_err *err)
{
	char ab[MM_RESPOND_PATH_MAX];
	const char *ap = audit_path(o, ab, sizeof(ab));
	sqlite3 *db = NULL;
	int fd, rc;
	mkparents(ap);
	fd = open(ap, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return mm_err_set(err, MM_EIO, "cannot write the audit log %s: %s; give --audit-log "
				  "FILE (nothing was done)", ap, strerror(errno));
	close(fd);
	if ((rc = db_open(o, &db, err)))
		return rc;
	sqlite3_close(db);
	return 0;
}

/* Record a refusal or failure (code with err's text) and return code. */
static int rec_refuse(const struct mm_respond_opts *o, struct rec *r, const char *result, int code,
		      struct mm_err *err)
{
	struct mm_err e2;
	r->result = result;
	snprintf(r->message, sizeof(r->message), "%s", err ? err->msg : "");
	mm_err_clear(&e2);
	rec_write(o, r, &e2);
	return code;
}

/* ---- helpers: hashing, files, programs ----------------------------------- */

/* SHA-256 of fd's content from offset 0 as 64 hex into hex. */
static int sha256_fd(int fd, char hex[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[32], *b = NULL;
	unsigned mdlen = 0, i;
	ssize_t n;
	off_t off = 0;
	int rc = MM_EIO;
	if (!c || !(b = mm_malloc(1 << 16)) || !EVP_DigestInit_ex(c, EVP_sha256(), NULL))
		goto out;
	while ((n = pread(fd, b, 1 << 16, off)) > 0) {
		EVP_DigestUpdate(c, b, (size_t)n);
		off += n;
	}
	if (n < 0 || !EVP_DigestFinal_ex(c, md, &mdlen) || mdlen != 32)
		goto out;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	mm_free(b);
	EVP_MD_CTX_free(c);
	return rc;
}

/* The component walk openat2 replaces: each component with O_NOFOLLOW
 * (directories O_DIRECTORY), ".." refused. */
static int walk_beneath(int dirfd, const char *path, int flags, int mode)
{
	char comp[256];
	const char *p = path, *e;
	int cur = dirfd, fd;
	size_t n;
	for (;;) {
		while (*p == '/')
			p++;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		while (e && e[1] == '/')
			e++;
		if (n == 0 || n >= sizeof(comp)) {
			fd = -EINVAL;
			break;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (!strcmp(comp, "..")) {
			fd = -EXDEV;
			break;
		}
		if (e && e[1]) {
			fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				fd = errno == ENOTDIR ? -ELOOP : -errno;
				break;
			}
			if (cur != dirfd)
				close(cur);
			cur = fd;
			p = e + 1;
			continue;
		}
		fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0)
			fd = -errno;
		break;
	}
	if (cur != dirfd)
		close(cur);
	return fd;
}

int mm_respond_open_beneath(int dirfd, const char *path, int flags, int mode)
{
	struct open_how how;
	const char *p = path;
	int fd;
	while (*p == '/')
		p++;
	if (!*p) {
		fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC);
	how.mode = (flags & O_CREAT) ? (uint64_t)mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, dirfd, p, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS && errno != EPERM) /* EPERM: a seccomp filter that blocks openat2 */
		return -errno;
	return walk_beneath(dirfd, p, flags, mode);
}

/* Why a beneath-open failed (-errno), for messages. */
static const char *why(int neg)
{
	if (neg == -ELOOP || neg == -ENOTDIR)
		return "a symlink (or a non-directory) on the way (refused)";
	if (neg == -EXDEV)
		return "it leaves the root (refused)";
	return strerror(-neg);
}

/* The directory of path (beneath rootfd) as an fd, and its last
 * component in leaf. -errno on failure. */
static int open_parent(int rootfd, const char *path, char *leaf, size_t cap)
{
	char dir[MM_RESPOND_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	if (!slash || !slash[1] || strlen(slash + 1) >= cap)
		return -EINVAL;
	snprintf(leaf, cap, "%s", slash + 1);
	if (!strcmp(leaf, "..") || !strcmp(leaf, "."))
		return -EINVAL;
	n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return mm_respond_open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
}

static int open_root(const struct mm_respond_opts *o, struct mm_err *err)
{
	const char *r = o->root ? o->root : "/";
	int fd = open(r, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		mm_err_set(err, MM_EIO, "cannot open the root %s: %s", r, strerror(errno));
	return fd;
}

/* The whole of a regular file (beneath dirfd's path) into b. */
static int read_all(int fd, struct mm_buf *b, size_t max)
{
	char tmp[8192];
	ssize_t n;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		if (b->len + (size_t)n > max || mm_buf_add(b, tmp, (size_t)n))
			return MM_ETOOBIG;
	}
	if (n < 0)
		return MM_EIO;
	return mm_buf_addz(b, "");
}

/* Replace leaf in dirfd by data, atomically: a temp file beside it with
 * the old file's mode and owner, fsync, rename, fsync the directory. */
static int rewrite_at(int dirfd, const char *leaf, const struct stat *old, const char *data,
		      size_t n, struct mm_err *err)
{
	char tmp[300];
	int fd, rc = 0;
	snprintf(tmp, sizeof(tmp), ".%s.mamori-%d", leaf, (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return mm_err_set(err, MM_EIO, "cannot create %s: %s", tmp, strerror(errno));
	if ((n && write(fd, data, n) != (ssize_t)n) || fchmod(fd, old->st_mode & 07777) ||
	    (geteuid() == 0 && fchown(fd, old->st_uid, old->st_gid)) || fsync(fd))
		rc = mm_err_set(err, MM_EIO, "cannot write %s: %s", tmp, strerror(errno));
	close(fd);
	if (!rc && renameat(dirfd, tmp, dirfd, leaf))
		rc = mm_err_set(err, MM_EIO, "cannot replace %s: %s", leaf, strerror(errno));
	if (rc)
		unlinkat(dirfd, tmp, 0);
	else
		fsync(dirfd);
	return rc;
}

/* Read the regular file path (beneath rootfd) whole; *dirfd and leaf
 * name it for rewrite_at. */
static int load_file(int rootfd, const char *path, size_t max, struct mm_buf *b, int *dirfd,
		     char *leaf, size_t cap, struct stat *sb, struct mm_err *err)
{
	int fd, rc;
	*dirfd = open_parent(rootfd, path, leaf, cap);
	if (*dirfd < 0)
		return mm_err_set(err, MM_EINVAL, "cannot open the folder of %s: %s", path,
				  why(*dirfd));
	fd = openat(*dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return mm_err_set(err, errno == ENOENT ? MM_ENOTFOUND : MM_EINVAL, "cannot open %s: %s",
				  path, errno == ELOOP ? "it is a symlink (refused)" : strerror(errno));
	if (fstat(fd, sb) || !S_ISREG(sb->st_mode)) {
		close(fd);
		return mm_err_set(err, MM_EINVAL, "%s is not a regular file (refused)", path);
	}
	rc = read_all(fd, b, max);
	close(fd);
	if (rc)
		return mm_err_set(err, rc, "cannot read %s: %s", path, mm_strerror(rc));
	return 0;
}

/* Run argv[0] (an absolute path) with argv, no shell, fixed PATH;
 * stdout to /dev/null, the start of stderr into err on failure. */
static int run_prog(char *const argv[], struct mm_err *err)
{
	char *envp[] = {EXEC_PATH, "LC_ALL=C", NULL};
	char eb[RUN_ERR_MAX + 1];
	int p[2], st = 0;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return mm_err_set(err, MM_EIO, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return mm_err_set(err, MM_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int dn = open("/dev/null", O_RDWR);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 1);
		}
		dup2(p[1], 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(p[1]);
	while (got < RUN_ERR_MAX && (n = read(p[0], eb + got, (size_t)(RUN_ERR_MAX - got))) > 0)
		got += n;
	close(p[0]);
	eb[got] = '\0';
	while (got > 0 && (eb[got - 1] == '\n' || eb[got - 1] == ' '))
		eb[--got] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	return mm_err_set(err, MM_EIO, "%s failed (%s %d)%s%s", argv[0],
			  WIFEXITED(st) ? "exit" : "signal",
			  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), got ? ": " : "", eb);
}

/* An absolute path of program name in the fixed PATH dirs, or NULL. */
static const char *find_prog(const char *name, char *b, size_t cap)
{
	static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL};
	int i;
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? name : NULL;
	for (i = 0; dirs[i]; i++) {
		snprintf(b, cap, "%s/%s", dirs[i], name);
		if (access(b, X_OK) == 0)
			return b;
	}
	return NULL;
}

static void say_argv(FILE *out, const char *prefix, char *const argv[])
{
	int i;
	fputs(prefix, out);
	for (i = 0; argv[i]; i++)
		fprintf(out, i ? " '%s'" : "%s", argv[i]);
	fputc('\n', out);
}

static FILE *outf(const struct mm_respond_opts *o)
{
	return o->out ? o->out : stdout;
}

/* ---- kill --------------------------------------------------------------- */

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#define PF_KTHREAD_FLAG 0x00200000u

static int pidfd_sig(int pfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
}

/* Wait up to ms for the pidfd to report the exit. 1 exited, 0 not. */
static int pidfd_wait(int pfd, int ms)
{
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	int64_t end = mm_now_ms() + ms;
	for (;;) {
		int64_t left = end - mm_now_ms();
		int r;
		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			return pidfd_sig(pfd, 0) != 0 && errno == ESRCH;
		if (errno != EINTR)
			return 0;
	}
}

static int do_kill(const struct mm_respond_opts *o, const char *arg, struct rec *r,
		   struct mm_err *err)
{
	char path[64], exe[MM_RESPOND_PATH_MAX], cmd[CMDLINE_MAX], st[1024], hex[65] = "";
	char user[64] = "";
	long pid;
	char *end;
	int pfd = -1, fd, rc = 0, uid = -1;
	ssize_t n;
	unsigned long flags = 0;
	FILE *out = outf(o);

	errno = 0;
	pid = strtol(arg, &end, 10);
	if (errno || *end || end == arg || pid <= 0 || pid > 4194304)
		return rec_refuse(o, r, "refused", MM_EINVAL,
				  (mm_err_set(err, MM_EINVAL, "'%s' is not a process id", arg), err));
	if (pid == 1)
		return rec_refuse(o, r, "refused", MM_EINVAL,
				  (mm_err_set(err, MM_EINVAL, "pid 1 is init: refusing to kill it"), err));
	if (pid == getpid() || pid == getppid())
		return rec_refuse(o, r, "refused", MM_EINVAL,
				  (mm_err_set(err, MM_EINVAL, "pid %ld is this agent (or its parent): "
					      "refusing to kill it", pid), err));
	pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pfd < 0) {
		rc = rec_refuse(o, r, "failed", errno == ESRCH ? MM_ENOTFOUND : MM_EIO,
				(mm_err_set(err, errno == ESRCH ? MM_ENOTFOUND : MM_EIO,
					    "no process %ld (%s)", pid, strerror(errno)), err));
		goto out;
	}
	/* the /proc reads below name the pidfd's process only if it is
	 * still alive after them (checked next) */
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, st, sizeof(st) - 1);
		close(fd);
		st[n > 0 ? n : 0] = '\0';
		{
			char *rp = strrchr(st, ')');
			/* after "pid (comm)": state ppid pgrp session tty tpgid flags */
			if (rp && sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
				flags = 0;
		}
	}
	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (sha256_fd(fd, hex))
			hex[0] = '\0';
		close(fd);
	}
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	cmd[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		ssize_t i;
		n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (n < 0)
			n = 0;
		while (n > 0 && cmd[n - 1] == '\0')
			n--;
		for (i = 0; i < n; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[n] = '\0';
	}
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	{
		FILE *f = fopen(path, "re");
		char line[256];
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "Uid:", 4)) {
				uid = atoi(line + 4);
				break;
			}
		if (f)
			fclose(f);
		if (uid >= 0) {
			struct passwd *pw = getpwuid((uid_t)uid);
			snprintf(user, sizeof(user), "%s", pw ? pw->pw_name : "");
		}
	}
	if (pidfd_sig(pfd, 0) != 0) {
		rc = rec_refuse(o, r, "failed", MM_ENOTFOUND,
				(mm_err_set(err, MM_ENOTFOUND, "process %ld exited before it was "
					    "signalled", pid), err));
		goto out;
	}
	d_int(r, "pid", pid);
	d_str(r, "exe", exe);
	d_str(r, "cmdline", cmd);
	d_int(r, "uid", uid);
	d_str(r, "user", user);
	d_str(r, "exe_sha256", hex);
	if (flags & PF_KTHREAD_FLAG) {
		rc = rec_refuse(o, r, "refused", MM_EINVAL,
				(mm_err_set(err, MM_EINVAL, "pid %ld is a kernel thread: refusing", pid),
				 err));
		goto out;
	}
	fprintf(out, "%s pid %ld: exe %s, user %s (uid %d), sha256 %s\n  cmdline: %s\n",
		r->dry ? "would kill" : "killing", pid, exe[0] ? exe : "(unknown)", user, uid,
		hex[0] ? hex : "(unreadable)", cmd);
	fprintf(out, "  SIGTERM, then SIGKILL after %d ms\n", o->grace_ms > 0 ? o->grace_ms : 5000);
	if (r->dry)
		goto rec;
	if (pidfd_sig(pfd, SIGTERM) != 0) {
		rc = rec_refuse(o, r, "failed", MM_EIO,
				(mm_err_set(err, MM_EIO, "SIGTERM to %ld: %s", pid, strerror(errno)), err));
		goto out;
	}
	if (pidfd_wait(pfd, o->grace_ms > 0 ? o->grace_ms : 5000)) {
		d_str(r, "signal", "SIGTERM");
		snprintf(r->message, sizeof(r->message), "exited on SIGTERM");
	} else {
		pidfd_sig(pfd, SIGKILL);
		if (!pidfd_wait(pfd, 5000)) {
			rc = rec_refuse(o, r, "failed", MM_EIO,
					(mm_err_set(err, MM_EIO, "pid %ld still alive after SIGKILL", pid),
					 err));
			goto out;
		}
		d_str(r, "signal", "SIGKILL");
		snprintf(r->message, sizeof(r->message), "exited on SIGKILL");
	}
	fprintf(out, "  %s\n", r->message);
rec:
	rc = rec_write(o, r, err);
out:
	if (pfd >= 0)
		close(pfd);
	return rc;
}

/* ---- quarantine ---------------------------------------------------------- */

static const char *const DEFAULT_ALLOW[] = {
	"/tmp", "/var/tmp", "/dev/shm", "/home", "/root", "/opt", "/srv", "/var/www", "/run/user",
	"/usr/local", NULL,
};

/* path normalised: absolute, no "." / ".." / empty components. */
static int norm_path(const char *in, char *out, size_t cap)
{
	const char *p = in, *e;
	size_t k = 0, n;
	if (in[0] != '/')
		return MM_EINVAL;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return MM_EINVAL;
		if (k + n + 2 > cap)
			return MM_ETOOBIG;
		out[k++] = '/';
		memcpy(out + k, p, n);
		k += n;
		p += n;
	}
	if (!k)
		return MM_EINVAL;
	out[k] = '\0';
	return 0;
}

static int allowed(const struct mm_respond_opts *o, const char *path)
{
	int i;
	for (i = 0; i < (o->nallow ? o->nallow : 64); i++) {
		const char *a = o->nallow ? o->allow[i] : DEFAULT_ALLOW[i];
		size_t n;
		if (!a)
			break;
		n = strlen(a);
		while (n > 1 && a[n - 1] == '/')
			n--;
		if (!strncmp(path, a, n) && (path[n] == '/' || (n == 1 && a[0] == '/')))
			return 1;
	}
	return 0;
}

static const char *qdir_path(const struct mm_respond_opts *o, char *b, size_t cap)
{
	if (o->quarantine_dir)
		return o->quarantine_dir;
	snprintf(b, cap, "%s/var/lib/mamori/quarantine", o->root ? o->root : "");
	return b;
}

/* The quarantine folder: made 0700 when missing, must be ours and a
 * real directory; its permissions are tightened to 0700. */
static int open_qdir(const char *q, int create, struct mm_err *err)
{
	struct stat sb;
	int fd;
	if (create) {
		char b[MM_RESPOND_PATH_MAX + 2];
		snprintf(b, sizeof(b), "%s/", q);
		mkparents(b);
	}
	fd = open(q, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mm_err_set(err, MM_EIO, "cannot open the quarantine folder %s: %s", q,
				  strerror(errno));
	if (fstat(fd, &sb) || sb.st_uid != geteuid()) {
		close(fd);
		return mm_err_set(err, MM_EINVAL, "the quarantine folder %s is not owned by uid %u "
				  "(refused)", q, (unsigned)geteuid());
	}
	if ((sb.st_mode & 07777) != 0700 && fchmod(fd, 0700)) {
		close(fd);
		return mm_err_set(err, MM_EIO, "cannot make %s mode 0700: %s", q, strerror(errno));
	}
	return fd;
}

/* copy src (an fd) to a new file name in dirfd, mode 000, fsynced */
static int copy_to(int src, int dirfd, const char *name, struct mm_err *err)
{
	char b[1 << 15];
	ssize_t n;
	off_t off = 0;
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return mm_err_set(err, MM_EIO, "cannot create %s: %s", name, strerror(errno));
	while ((n = pread(src, b, sizeof(b), off)) > 0) {
		if (write(fd, b, (size_t)n) != n)
			break;
		off += n;
	}
	if (n != 0 || fsync(fd)) {
		close(fd);
		unlinkat(dirfd, name, 0);
		return mm_err_set(err, MM_EIO, "cannot copy into %s: %s", name, strerror(errno));
	}
	close(fd);
	fsync(dirfd);
	return 0;
}

static int do_quarantine(const struct mm_respond_opts *o, const char *arg, struct rec *r,
			 struct mm_err *err)
{
	char path[MM_RESPOND_PATH_MAX], leaf[256], hex[65], qb[MM_RESPOND_PATH_MAX];
	const char *q = qdir_path(o, qb, sizeof(qb));
	struct stat sb, sb2;
	int rootfd = -1, pfd = -1, fd = -1, qfd = -1, rc = 0;
	FILE *out = outf(o);

	if (norm_path(arg, path, sizeof(path)))
		return rec_refuse(o, r, "refused", MM_EINVAL,
				  (mm_err_set(err, MM_EINVAL, "'%s' is not an absolute path without "
					      "'.' or '..' (refused)", arg), err));
	if (!allowed(o, path))
		return rec_refuse(o, r, "refused", MM_EINVAL,
				  (mm_err_set(err, MM_EINVAL, "%s is outside the allowed roots (refused; "
					      "add --allow-root DIR)", path), err));
	if ((rootfd = open_root(o, err)) < 0)
		return rec_refuse(o, r, "failed", MM_EIO, err);
	pfd = open_parent(rootfd, path, leaf, sizeof(leaf));
	if (pfd < 0) {
		rc = rec_refuse(o, r, "refused", MM_EINVAL,
				(mm_err_set(err, MM_EINVAL, "cannot open the folder of %s: %s", path,
					    why(pfd)), err));
		goto out;
	}
	if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW)) {
		rc = rec_refuse(o, r, "failed", MM_ENOTFOUND,
				(mm_err_set(err, MM_ENOTFOUND, "%s: %s", path, strerror(errno)), err));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = rec_refuse(o, r, "refused", MM_EINVAL,
				(mm_err_set(err, MM_EINVAL, "%s is %s, not a regular file (refused)", path,
					    S_ISLNK(sb.st_mode) ? "a symlink" : S_ISDIR(sb.st_mode)
					    ? "a directory" : "special"), err));
		goto out;
	}
	fd = openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb2) || sb2.st_ino != sb.st_ino || sb2.st_dev != sb.st_dev ||
	    sha256_fd(fd, hex)) {
		rc = rec_refuse(o, r, "failed", MM_EIO,
				(mm_err_set(err, MM_EIO, "cannot read %s to hash it", path), err));
		goto out;
	}
	d_str(r, "original", path);
	d_str(r, "root", o->root ? o->root : "/");
	d_str(r, "quarantine_dir", q);
	d_str(r, "stored", r->id);
	d_str(r, "sha256", hex);
	d_int(r, "mode", sb.st_mode & 07777);
	d_int(r, "uid", sb.st_uid);
	d_int(r, "gid", sb.st_gid);
	d_int(r, "size", sb.st_size);
	d_int(r, "mtime_s", sb.st_mtim.tv_sec);
	d_int(r, "mtime_ns", sb.st_mtim.tv_nsec);
	fprintf(out, "%s %s%s (sha256 %s, mode %04o, uid %u, %lld bytes)\n  -> %s/%s (mode 000)\n",
		r->dry ? "would quarantine" : "quarantining", o->root ? o->root : "", path, hex,
		(unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid, (long long)sb.st_size, q, r->id);
	if (r->dry)
		goto rec;
	if ((qfd = open_qdir(q, 1, err)) < 0) {
		rc = rec_refuse(o, r, "failed", MM_EIO, err);
		goto out;
	}
	if (renameat2(pfd, leaf, qfd, r->id, RENAME_NOREPLACE) == 0) {
		d_str(r, "moved", "rename");
	} else if (errno == EXDEV) {
		if ((rc = copy_to(fd, qfd, r->id, err))) {
			rc = rec_refuse(o, r, "failed", rc, err);
			goto out;
		}
		/* unlink only the inode that was copied */
		if (fstatat(pfd, leaf, &sb2, AT_SYMLINK_NOFOLLOW) || sb2.st_ino != sb.st_ino ||
		    sb2.st_dev != sb.st_dev || unlinkat(pfd, leaf, 0)) {
			unlinkat(qfd, r->id, 0);
			rc = rec_refuse(o, r, "failed", MM_EIO,
					(mm_err_set(err, MM_EIO, "%s changed while it was copied; left "
						    "in place", path), err));
			goto out;
		}
		fsync(pfd);
		d_str(r, "moved", "copy");
	} else {
		rc = rec_refuse(o, r, "failed", MM_EIO,
				(mm_err_set(err, MM_EIO, "cannot move %s: %s", path, strerror(errno)), err));
		goto out;
	}
	fchmodat(qfd, r->id, 0, 0);
	fsync(qfd);
	{
		/* the manifest beside the files: readable without the database */
		char ts[MM_TIME_STRLEN];
		struct mm_buf m;
		int mfd = openat(qfd, "manifest.jsonl",
				 O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		mm_buf_init(&m, DETAIL_MAX + 256);
		mm_buf_printf(&m, "{\"time\":\"%s\",\"id\":\"%s\",%s}\n",
			      mm_time_format_iso(mm_now_ms(), ts), r->id, r->detail.p);
		if (mfd < 0 || !m.p || write(mfd, m.p, m.len) != (ssize_t)m.len || fsync(mfd))
			fprintf(stderr, "mamori agent respond: warning: cannot append to %s/manifest.jsonl\n", q);
		if (mfd >= 0)
			close(mfd);
		mm_buf_free(&m);
	}
	snprintf(r->message, sizeof(r->message), "moved to %s/%s", q, r->id);
	fprintf(out, "  %s\n", r->message);
rec:
	rc = rec_write(o, r, err);
out:
	if (fd >= 0)
		close(fd);
	if (qfd >= 0)
		close(qfd);
	if (pfd >= 0)
		close(pfd);
	if (rootfd >= 0)
		close(rootfd);
	return rc;
}

/* ---- block (nftables) ---------------------------------------------------- */

static int nft_prog(const struct mm_respond_opts *o, char *b, size_t cap, const char **out)
{
	*out = find_prog(o->nft ? o->nft : "nft", b, cap);
	return *out ? 0 : MM_ENOTFOUND;
}

/* The table inet mamori with its sets and chains, made once: the rules
 * are added only when the table is new, so they are never doubled. */
static int nft_ensure(const char *nft, struct mm_err *err)
{
	char *list[] = {(char *)nft, "list", "table", "inet", "mamori", NULL};
	char *const steps[][10] = {
		{(char *)nft, "add", "table", "inet", "mamori", NULL},
		{(char *)nft, "add", "set", "inet", "mamori", "blocked4",
		 "{ type ipv4_addr ; flags timeout ; }", NULL},
		{(char *)nft, "add", "set", "inet", "mamori", "blocked6",
		 "{ type ipv6_addr ; flags timeout ; }", NULL},
		{(char *)nft, "add", "chain", "inet", "mamori", "input",
		 "{ type filter hook input priority -10 ; policy accept ; }", NULL},
		{(char *)nft, "add", "chain", "inet", "mamori", "output",
		 "{ type filter hook output priority -10 ; policy accept ; }", NULL},
		{(char *)nft, "add", "rule", "inet", "mamori", "input", "ip", "saddr", "@blocked4", NULL},
		{(char *)nft, "add", "rule", "inet", "mamori", "input", "ip6", "saddr", "@blocked6", NULL},
		{(char *)nft, "add", "rule", "inet", "mamori", "output", "ip", "daddr", "@blocked4", NULL},
		{(char *)nft, "add", "rule", "inet", "mamori", "output", "ip6", "daddr", "@blocked6", NULL},
	};
	struct mm_err e2;
	size_t i;
	int rc;
	if (run_prog(list, &e2) == 0)
		return 0;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char *argv[12];
		int k;
		for (k = 0; steps[i][k]; k++)
			argv[k] = steps[i][k];
		if (i >= 5)
			argv[k++] = "drop";
		argv[k] = NULL;
		if ((rc = run_prog(argv, err)))
			return rc;
	}
	return 0;
}

static int nft_element(const char *nft, const char *verb, const struct mm_ip *ip, int64_t secs,
		       int run, FILE *say, struct mm_err *err)
{
	char a[MM_IP_STRLEN], el[MM_IP_STRLEN + 64];
	char *argv[] = {(char *)nft, (char *)verb, "element", "inet", "mamori",
			ip->v6 ? "blocked6" : "blocked4", el, NULL};
	mm_ip_format(ip, a);
	if (secs > 0 && !strcmp(verb, "add"))
		snprintf(el, sizeof(el), "{ %s timeout %llds }", a, (long long)secs);
	else
		snprintf(el, sizeof(el), "{ %s }", a);
	if (say)
		say_argv(say, run ? "  running: " : "  would run: ", argv);
	return run ? run_prog(argv, err) : 0;
}

static int do_block(const struct mm_respond_opts *o, const char *arg, struct rec *r,
		    struct mm_err *err)
{
	char nb[256], a[MM_IP_STRLEN];
	const char *nft = NULL;
	struct mm_ip ip;
	FILE *out = outf(o);
	int rc;
	static const uint8_t zero[16];

	if (mm_ip_parse(arg, strlen(arg), &ip) || !memcmp(ip.b, zero, 16))
		return rec_refuse(o, r, "refused", MM_EINVAL,
				  (mm_err_set(err, MM_EINVAL, "'%s' is not a single IP address to block",
					      arg), err));
	mm_ip_format(&ip, a);
	snprintf(r->target, sizeof(r->target), "%s", a);
	d_str(r, "ip", a);
	d_str(r, "set", ip.v6 ? "blocked6" : "blocked4");
	d_int(r, "timeout_s", o->block_s);
	fprintf(out, "%s %s in and out (nftables table inet mamori, set %s, %s)\n",
		r->dry ? "would block" : "blocking", a, ip.v6 ? "blocked6" : "blocked4",
		o->block_s ? "timed" : "until unblocked");
	if (nft_prog(o, nb, sizeof(nb), &nft)) {
		if (r->dry) {
			fprintf(out, "  (nft is not installed: the action would fail)\n");
			return rec_write(o, r, err);
		}
		return rec_refuse(o, r, "failed", MM_ENOTFOUND,
				  (mm_err_set(err, MM_ENOTFOUND, "nft not found (install nftables)"), err));
	}
	if (!r->dry && (rc = nft_ensure(nft, err)))
		return rec_refuse(o, r, "failed", rc, err);
	if ((rc = nft_element(nft, "add", &ip, o->block_s, !r->dry, out, err)))
		return rec_refuse(o, r, "failed", rc, err);
	return rec_write(o, r, err);
}

/* ---- lock-user ----------------------------------------------------------- */

static int valid_name(const char *s)
{
	size_t i, n = strlen(s);
	if (n == 0 || n > 32 || s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.' &&
		    !(s[i] == '$' && i == n - 1))
			return 0;
	return 1;
}

/* Line of file b whose first ':' field is name: [*ls, *le). 1 found. */
static int find_entry(const char *b, size_t n, const char *name, size_t *ls, size_t *le)
{
	size_t i = 0, nl = strlen(name);
	while (i < n) {
		const char *e = memchr(b + i, '\n', n - i);
		size_t end = e ? (size_t)(e - b) : n;
		if (end - i > nl && !memcmp(b + i, name, nl) && b[i + nl] == ':') {
			*ls = i;
			*le = end;
			return 1;
		}
		i = end + 1;
	}
	return 0;
}

/* field k (0-based, ':' separated) of line [s, e): its bounds */
static int field(const char *b, size_t s, size_t e, int k, size_t *fs, size_t *fe)
{
	size_t i = s;
	int f = 0;
	while (f < k) {
		const char *c = memchr(b + i, ':', e - i);
		if (!c)
			return 0;
		i = (size_t)(c - b) + 1;
		f++;
	}
	*fs = i;
	{
		const char *c = memchr(b + i, ':', e - i);
		*fe = c ? (size_t)(c - b) : e;
	}
	return 1;
}

int mm_respond_shadow_edit(const char *b, size_t n, const char *name, int pw, const char *expire,
			   int *was_locked, char *old_expire, size_t cap, struct mm_buf *out)
{
	size_t ls, le, ps, pe, es, ee, i;
	int rc;
	if (!find_entry(b, n, name, &ls, &le) || !field(b, ls, le, 1, &ps, &pe) ||
	    !field(b, ls, le, 7, &es, &ee) || ee <= pe)
		return MM_ENOTFOUND;
	/* the expire field is a day number or empty; anything else (or a
	 * value from a record that is not one) is never written */
	if (ee - es >= cap || ee - es > 15)
		return MM_EINVAL;
	for (i = es; i < ee; i++)
		if (b[i] < '0' || b[i] > '9')
			return MM_EINVAL;
	for (i = 0; expire[i]; i++)
		if (expire[i] < '0' || expire[i] > '9' || i >= 15)
			return MM_EINVAL;
	*was_locked = pe > ps && b[ps] == '!';
	memcpy(old_expire, b + es, ee - es);
	old_expire[ee - es] = '\0';
	if (!out)
		return 0;
	mm_buf_reset(out);
	mm_buf_add(out, b, ps);
	if (pw > 0 && !*was_locked)
		mm_buf_addc(out, '!');
	if (pw < 0 && *was_locked)
		ps++;
	mm_buf_add(out, b + ps, pe - ps);
	mm_buf_add(out, b + pe, es - pe);
	mm_buf_addz(out, expire);
	rc = mm_buf_add(out, b + ee, n - ee);
	return rc ? rc : (out->p ? 0 : mm_buf_addz(out, ""));
}

/* The shadow entry of name beneath rootfd through mm_respond_shadow_edit;
 * with write_it, the file is rewritten atomically. */
static int shadow_set(int rootfd, const char *name, int pw, const char *expire, int *was_locked,
		      char *old_expire, size_t cap, int write_it, struct mm_err *err)
{
	struct mm_buf b, nb;
	char leaf[64];
	struct stat sb;
	int dfd = -1, rc;

	mm_buf_init(&b, MM_RESPOND_FILE_MAX);
	mm_buf_init(&nb, MM_RESPOND_FILE_MAX + 64);
	if ((rc = load_file(rootfd, "/etc/shadow", MM_RESPOND_FILE_MAX, &b, &dfd, leaf,
			    sizeof(leaf), &sb, err)))
		goto out;
	rc = mm_respond_shadow_edit(b.p, b.len, name, pw, expire, was_locked, old_expire, cap,
				    write_it ? &nb : NULL);
	if (rc == MM_ENOTFOUND) {
		mm_err_set(err, rc, "no entry for %s in /etc/shadow", name);
		goto out;
	}
	if (rc) {
		mm_err_set(err, rc, "the /etc/shadow entry of %s (or the expire value '%s') is not "
			   "what mamori writes back: left alone", name, expire);
		goto out;
	}
	if (write_it)
		rc = rewrite_at(dfd, leaf, &sb, nb.p, nb.len, err);
out:
	if (dfd >= 0)
		close(dfd);
	mm_buf_free(&b);
	mm_buf_free(&nb);
	return rc;
}

static int do_lock_user(const struct mm_respond_opts *o, const char *name, struct rec *r,
			struct mm_err *err)
{
	struct mm_buf pw;
	char leaf[64], old_exp[32] = "", pb[256];
	struct stat sb;
	size_t ls, le, us, ue;
	long uid;
	int rootfd = -1, dfd = -1, rc = 0, was_locked = 0;
	FILE *out = outf(o);

	mm_buf_init(&pw, MM_RESPOND_FILE_MAX);
	if (!valid_name(name)) {
		rc = rec_refuse(o, r, "refused", MM_EINVAL,
				(mm_err_set(err, MM_EINVAL, "'%s' is not a user name", name), err));
		goto out;
	}
	if ((rootfd = open_root(o, err)) < 0) {
		rc = rec_refuse(o, r, "failed", MM_EIO, err);
		goto out;
	}
	if ((rc = load_file(rootfd, "/etc/passwd", MM_RESPOND_FILE_MAX, &pw, &dfd, leaf,
			    sizeof(leaf), &sb, err))) {
		rc = rec_refuse(o, r, "failed", rc, err);
		goto out;
	}
	if (!find_entry(pw.p, pw.len, name, &ls, &le) || !field(pw.p, ls, le, 2, &us, &ue)) {
		rc = rec_refuse(o, r, "refused", MM_ENOTFOUND,
				(mm_err_set(err, MM_ENOTFOUND, "no user %s in /etc/passwd", name), err));
		goto out;
	}
	uid = strtol(pw.p + us, NULL, 10);
	d_str(r, "user", name);
	d_int(r, "uid", uid);
	if (uid == 0 && !o->force) {
		rc = rec_refuse(o, r, "refused", MM_EINVAL,
				(mm_err_set(err, MM_EINVAL, "%s has uid 0: refusing to lock a root account "
					    "without --force", name), err));
		goto out;
	}
	if ((rc = shadow_set(rootfd, name, 1, "1", &was_locked, old_exp, sizeof(old_exp), 0, err))) {
		rc = rec_refuse(o, r, "failed", rc, err);
		goto out;
	}
	d_int(r, "was_locked", was_locked);
	d_str(r, "old_expire", old_exp);
	d_str(r, "method", o->root ? "shadow" : "usermod");
	d_str(r, "root", o->root ? o->root : "/");
	fprintf(out, "%s user %s (uid %ld): password %s, account expired (was: expire '%s')%s\n",
		r->dry ? "would lock" : "locking", name, uid,
		was_locked ? "already locked" : "locked with '!'", old_exp,
		o->kill_sessions ? ", sessions ended" : "");
	if (o->root) {
		fprintf(out, "  %s %s/etc/shadow directly (--root)\n", r->dry ? "would edit" : "editing",
			o->root);
		if (!r->dry && (rc = shadow_set(rootfd, name, 1, "1", &was_locked, old_exp,
						sizeof(old_exp), 1, err))) {
			rc = rec_refuse(o, r, "failed", rc, err);
			goto out;
		}
		if (o->kill_sessions)
			fprintf(out, "  (--kill-sessions is not applied with --root)\n");
	} else {
		const char *um = find_prog("usermod", pb, sizeof(pb));
		char *argv[] = {(char *)(um ? um : "usermod"), "-L", "-e", "1", (char *)name, NULL};
		say_argv(out, r->dry ? "  would run: " : "  running: ", argv);
		if (!r->dry && (rc = run_prog(argv, err))) {
			rc = rec_refuse(o, r, "failed", rc, err);
			goto out;
		}
		if (o->kill_sessions) {
			char lb[256];
			const char *lc = find_prog("loginctl", lb, sizeof(lb));
			char *kv[] = {(char *)(lc ? lc : "loginctl"), "terminate-user", (char *)name, NULL};
			struct mm_err e2;
			say_argv(out, r->dry ? "  would run: " : "  running: ", kv);
			if (!r->dry && run_prog(kv, &e2))
				fprintf(out, "  (ending sessions failed: %s)\n", e2.msg);
		}
	}
	rc = rec_write(o, r, err);
out:
	if (dfd >= 0)
		close(dfd);
	if (rootfd >= 0)
		close(rootfd);
	mm_buf_free(&pw);
	return rc;
}

/* ---- remove-cron --------------------------------------------------------- */

static const char *const CRON_SPOOLS[] = {"/var/spool/cron/crontabs/", "/var/spool/cron/", NULL};

/* The crontab of user beneath rootfd: path into p. 0 found. */
static int cron_find(int rootfd, const char *user, char *p, size_t cap)
{
	int i;
	for (i = 0; CRON_SPOOLS[i]; i++) {
		int fd;
		snprintf(p, cap, "%s%s", CRON_SPOOLS[i], user);
		fd = mm_respond_open_beneath(rootfd, p, O_RDONLY | O_NONBLOCK, 0);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (fd == -ELOOP || fd == -ENOTDIR)
			return MM_EINVAL;
	}
	return MM_ENOTFOUND;
}

static int utf8_ok(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		int k = mm_utf8_seq(p + i, n - i);
		if (k <= 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

static int unhex(const char *h, size_t n, char *out, size_t *on)
{
	size_t i;
	if (n % 2)
		return MM_EPARSE;
	for (i = 0; i < n; i += 2) {
		int v = 0, k;
		for (k = 0; k < 2; k++) {
			char c = h[i + k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else
				return MM_EPARSE;
		}
		out[i / 2] = (char)v;
	}
	*on = n / 2;
	return 0;
}

int mm_respond_cron_filter(const char *b, size_t n, const char *pat, struct mm_buf *kept,
			   struct mm_buf *removed, size_t *nrem, FILE *say)
{
	size_t i = 0, lineno = 0, pn = strlen(pat);
	int rc = 0;
	*nrem = 0;
	mm_buf_reset(kept);
	rc |= mm_buf_addc(removed, '[');
	while (i < n) {
		const char *e = memchr(b + i, '\n', n - i);
		size_t end = e ? (size_t)(e - b) + 1 : n;
		if (pn && memmem(b + i, end - i, pat, pn)) {
			rc |= mm_buf_printf(removed, "%s{\"line\":%zu,\"text\":", *nrem ? "," : "",
					    lineno);
			rc |= mm_buf_json_str(removed, b + i, end - i);
			if (!utf8_ok(b + i, end - i)) {
				/* JSON text would turn the bad bytes into U+FFFD:
				 * the exact bytes for the undo */
				size_t j;
				rc |= mm_buf_addz(removed, ",\"hex\":\"");
				for (j = i; j < end; j++)
					rc |= mm_buf_printf(removed, "%02x", (unsigned char)b[j]);
				rc |= mm_buf_addc(removed, '"');
			}
			rc |= mm_buf_addc(removed, '}');
			if (say)
				fprintf(say, "  %zu: %.*s%s", lineno + 1, (int)(end - i), b + i,
					e ? "" : "\n");
			(*nrem)++;
		} else {
			rc |= mm_buf_add(kept, b + i, end - i);
		}
		lineno++;
		i = end;
	}
	rc |= mm_buf_addc(removed, ']');
	rc |= mm_buf_addz(kept, "");
	return rc ? MM_ENOMEM : 0;
}

static int do_remove_cron(const struct mm_respond_opts *o, const char *user, const char *pat,
			  struct rec *r, struct mm_err *err)
{
	struct mm_buf b, nb;
	char path[256], leaf[64];
	struct stat sb;
	size_t nrem = 0;
	int rootfd = -1, dfd = -1, rc = 0;
	FILE *out = outf(o);

	mm_buf_init(&b, MM_RESPOND_CRON_MAX + 1);
	mm_buf_init(&nb, MM_RESPOND_CRON_MAX + 1);
	snprintf(r->target, sizeof(r->target), "%s %s", user, pat);
	if (!valid_name(user) || !pat[0] || strchr(pat, '\n')) {
		rc = rec_refuse(o, r, "refused", MM_EINVAL,
				(mm_err_set(err, MM_EINVAL, "give a user name and a non-empty one-line "
					    "pattern"), err));
		goto out;
	}
	if ((rootfd = open_root(o, err)) < 0) {
		rc = rec_refuse(o, r, "failed", MM_EIO, err);
		goto out;
	}
	if ((rc = cron_find(rootfd, user, path, sizeof(path)))) {
		rc = rec_refuse(o, r, rc == MM_EINVAL ? "refused" : "failed", rc,
				(mm_err_set(err, rc, rc == MM_EINVAL ? "the crontab of %s is a symlink "
					    "or behind one (refused)" : "no crontab for %s in the "
					    "cron spool", user), err));
		goto out;
	}
	if ((rc = load_file(rootfd, path, MM_RESPOND_CRON_MAX, &b, &dfd, leaf, sizeof(leaf), &sb,
			    err))) {
		rc = rec_refuse(o, r, "failed", rc, err);
		goto out;
	}
	d_str(r, "user", user);
	d_str(r, "pattern", pat);
	d_str(r, "file", path);
	d_str(r, "root", o->root ? o->root : "/");
	mm_buf_printf(&r->detail, ",\"removed\":");
	fprintf(out, "%s lines of %s%s containing '%s':\n", r->dry ? "would remove" : "removing",
		o->root ? o->root : "", path, pat);
	if ((rc = mm_respond_cron_filter(b.p, b.len, pat, &nb, &r->detail, &nrem, out))) {
		rc = rec_refuse(o, r, "failed", rc,
				(mm_err_set(err, rc, "out of memory filtering %s", path), err));
		goto out;
	}
	if (!nrem) {
		r->result = "no-match";
		snprintf(r->message, sizeof(r->message), "no line contains the pattern");
		fprintf(out, "  (none: nothing to do)\n");
		rc = rec_write(o, r, err);
		goto out;
	}
	if (!r->dry && (rc = rewrite_at(dfd, leaf, &sb, nb.p ? nb.p : "", nb.len, err))) {
		rc = rec_refuse(o, r, "failed", rc, err);
		goto out;
	}
	snprintf(r->message, sizeof(r->message), "%zu line(s)", nrem);
	rc = rec_write(o, r, err);
out:
	if (dfd >= 0)
		close(dfd);
	if (rootfd >= 0)
		close(rootfd);
	mm_buf_free(&b);
	mm_buf_free(&nb);
	return rc;
}

int mm_respond_do(const struct mm_respond_opts *o, int action, const char *const *args, int nargs,
		  char id[MM_RESPOND_ID_LEN + 1], struct mm_err *err)
{
	struct rec r;
	int rc, need = action == MM_RESPOND_REMOVE_CRON ? 2 : 1;

	mm_err_clear(err);
	if (action < MM_RESPOND_KILL || action > MM_RESPOND_REMOVE_CRON)
		return mm_err_set(err, MM_EINVAL, "unknown action");
	if (nargs != need)
		return mm_err_set(err, MM_EINVAL, "%s takes %s", mm_respond_action_name(action),
				  need == 2 ? "USER PATTERN" : "one argument");
	if ((rc = preflight(o, err)))
		return rc;
	rec_init(&r, mm_respond_action_name(action), args[0], !o->yes);
	if (id)
		memcpy(id, r.id, sizeof(r.id));
	switch (action) {
	case MM_RESPOND_KILL:
		rc = do_kill(o, args[0], &r, err);
		break;
	case MM_RESPOND_QUARANTINE:
		rc = do_quarantine(o, args[0], &r, err);
		break;
	case MM_RESPOND_BLOCK:
		rc = do_block(o, args[0], &r, err);
		break;
	case MM_RESPOND_LOCK_USER:
		rc = do_lock_user(o, args[0], &r, err);
		break;
	default:
		rc = do_remove_cron(o, args[0], args[1], &r, err);
		break;
	}
	if (!rc && r.dry)
		fprintf(outf(o), "dry run (action %s recorded): nothing changed; add --yes to act\n", r.id);
	else if (!rc)
		fprintf(outf(o), action == MM_RESPOND_KILL ? "done: action %s (a kill cannot be undone)\n"
			: "done: action %s (undo: mamori agent respond undo %s)\n", r.id, r.id);
	mm_buf_free(&r.detail);
	return rc;
}

/* ---- undo ---------------------------------------------------------------- */

/* string member key of obj into dst (cap bytes); "" when missing */
static int jstr(const struct mm_json_val *obj, const char *key, char *dst, size_t cap)
{
	struct mm_json_val v;
	size_t n;
	dst[0] = '\0';
	if (mm_json_get(obj, key, &v) != 1 || v.type != MM_JSON_STRING || v.n < 2 || v.n - 2 >= cap)
		return MM_EINVAL;
	if (mm_json_unescape(v.p + 1, v.n - 2, dst, &n))
		return MM_EPARSE;
	dst[n] = '\0';
	return 0;
}

static int64_t jint(const struct mm_json_val *obj, const char *key)
{
	struct mm_json_val v;
	int64_t x = 0;
	if (mm_json_get(obj, key, &v) == 1)
		mm_json_int(&v, &x);
	return x;
}

/* o with the root the action was recorded under (when it recorded one):
 * an undo works on the files the action changed, whatever --root says */
static void recorded_root(const struct mm_json_val *d, const struct mm_respond_opts *o,
			  struct mm_respond_opts *o2, char *root, size_t cap)
{
	*o2 = *o;
	if (jstr(d, "root", root, cap) == 0 && root[0])
		o2->root = strcmp(root, "/") ? root : NULL;
}

static int undo_quarantine(const struct mm_respond_opts *o, const struct mm_json_val *d,
			   struct rec *r, struct mm_err *err)
{
	char orig[MM_RESPOND_PATH_MAX], q[MM_RESPOND_PATH_MAX], stored[32], want[65], hex[65];
	char root[MM_RESPOND_PATH_MAX], leaf[256];
	struct mm_respond_opts o2 = *o;
	struct timespec ts[2];
	int qfd = -1, fd = -1, rootfd = -1, pfd = -1, rc = 0;
	FILE *out = outf(o);

	if (jstr(d, "original", orig, sizeof(orig)) || jstr(d, "quarantine_dir", q, sizeof(q)) ||
	    jstr(d, "stored", stored, sizeof(stored)) || jstr(d, "sha256", want, sizeof(want)) ||
	    jstr(d, "root", root, sizeof(root)) || strchr(stored, '/'))
		return mm_err_set(err, MM_EPARSE, "the record's detail is incomplete");
	o2.root = strcmp(root, "/") ? root : NULL;
	d_str(r, "original", orig);
	d_str(r, "stored", stored);
	fprintf(out, "%s %s/%s -> %s%s (mode %04o, after checking sha256 %s)\n",
		r->dry ? "would restore" : "restoring", q, stored, o2.root ? o2.root : "", orig,
		(unsigned)jint(d, "mode"), want);
	if ((qfd = open_qdir(q, 0, err)) < 0)
		return MM_EIO;
	/* readable for the check even when not root; 000 again on mismatch */
	fchmodat(qfd, stored, 0400, 0);
	fd = openat(qfd, stored, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || sha256_fd(fd, hex) || strcmp(hex, want)) {
		fchmodat(qfd, stored, 0, 0);
		rc = mm_err_set(err, MM_EINVAL, "%s/%s %s: not restored", q, stored,
				fd < 0 ? "is missing" : "does not match the recorded sha256");
		goto out;
	}
	if (r->dry) {
		fchmodat(qfd, stored, 0, 0);
		goto out;
	}
	if ((rootfd = open_root(&o2, err)) < 0) {
		rc = MM_EIO;
		goto out;
	}
	pfd = open_parent(rootfd, orig, leaf, sizeof(leaf));
	if (pfd < 0) {
		fchmodat(qfd, stored, 0, 0);
		rc = mm_err_set(err, MM_EIO, "cannot open the folder of %s: %s", orig,
				why(pfd));
		goto out;
	}
	if (renameat2(qfd, stored, pfd, leaf, RENAME_NOREPLACE)) {
		if (errno != EXDEV) {
			fchmodat(qfd, stored, 0, 0);
			rc = mm_err_set(err, MM_EIO, "cannot put back %s: %s", orig,
					errno == EEXIST ? "a file of that name exists now" : strerror(errno));
			goto out;
		}
		if ((rc = copy_to(fd, pfd, leaf, err)))
			goto out;
		unlinkat(qfd, stored, 0);
	}
	fchmodat(pfd, leaf, (mode_t)jint(d, "mode"), 0);
	if (geteuid() == 0 &&
	    fchownat(pfd, leaf, (uid_t)jint(d, "uid"), (gid_t)jint(d, "gid"), AT_SYMLINK_NOFOLLOW))
		fprintf(stderr, "mamori agent respond: warning: cannot restore the owner of %s\n", orig);
	if (geteuid() == 0)
		fchmodat(pfd, leaf, (mode_t)jint(d, "mode"), 0); /* chown clears setuid bits */
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = (time_t)jint(d, "mtime_s");
	ts[1].tv_nsec = (long)jint(d, "mtime_ns");
	utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
	fsync(pfd);
	snprintf(r->message, sizeof(r->message), "restored %s (sha256 checked)", orig);
out:
	if (fd >= 0)
		close(fd);
	if (qfd >= 0)
		close(qfd);
	if (pfd >= 0)
		close(pfd);
	if (rootfd >= 0)
		close(rootfd);
	return rc;
}

static int undo_block(const struct mm_respond_opts *o, const struct mm_json_val *d, struct rec *r,
		      struct mm_err *err)
{
	char a[MM_IP_STRLEN + 2], nb[256];
	const char *nft = NULL;
	struct mm_ip ip;
	if (jstr(d, "ip", a, sizeof(a)) || mm_ip_parse(a, strlen(a), &ip))
		return mm_err_set(err, MM_EPARSE, "the record's detail has no address");
	d_str(r, "ip", a);
	fprintf(outf(o), "%s %s\n", r->dry ? "would unblock" : "unblocking", a);
	if (nft_prog(o, nb, sizeof(nb), &nft))
		return r->dry ? 0 : mm_err_set(err, MM_ENOTFOUND, "nft not found (install nftables)");
	return nft_element(nft, "delete", &ip, 0, !r->dry, outf(o), err);
}

static int undo_lock(const struct mm_respond_opts *oc, const struct mm_json_val *d, struct rec *r,
		     struct mm_err *err)
{
	struct mm_respond_opts o2 = *oc;
	const struct mm_respond_opts *o = &o2;
	char rootb[MM_RESPOND_PATH_MAX];
	char name[64], old_exp[32], method[16], pb[256];
	int was_locked = (int)jint(d, "was_locked"), cur_locked = 0, rootfd, rc;
	char cur_exp[32];
	FILE *out = outf(o);
	recorded_root(d, oc, &o2, rootb, sizeof(rootb));
	if (jstr(d, "user", name, sizeof(name)) || !valid_name(name) ||
	    jstr(d, "method", method, sizeof(method)))
		return mm_err_set(err, MM_EPARSE, "the record's detail has no user");
	jstr(d, "old_expire", old_exp, sizeof(old_exp));
	d_str(r, "user", name);
	fprintf(out, "%s user %s: password %s, expire back to '%s'\n",
		r->dry ? "would unlock" : "unlocking", name,
		was_locked ? "stays locked (it was before)" : "unlocked", old_exp);
	if (!strcmp(method, "shadow")) {
		if (!o->root)
			return mm_err_set(err, MM_EINVAL, "this action edited a test root's shadow file: "
					  "give the same --root");
		if ((rootfd = open_root(o, err)) < 0)
			return MM_EIO;
		fprintf(out, "  %s %s/etc/shadow directly (--root)\n", r->dry ? "would edit" : "editing",
			o->root);
		rc = shadow_set(rootfd, name, was_locked ? 0 : -1, old_exp, &cur_locked, cur_exp,
				sizeof(cur_exp), !r->dry, err);
		close(rootfd);
		return rc;
	} else {
		const char *um = find_prog("usermod", pb, sizeof(pb));
		char *argv[] = {(char *)(um ? um : "usermod"), "-U", "-e", old_exp, name, NULL};
		if (was_locked)
			argv[1] = "-e", argv[2] = old_exp, argv[3] = name, argv[4] = NULL;
		say_argv(out, r->dry ? "  would run: " : "  running: ", argv);
		return r->dry ? 0 : run_prog(argv, err);
	}
}

int mm_respond_cron_merge(const char *b, size_t n, const char *removed, size_t rn,
			  struct mm_buf *out, FILE *say)
{
	struct mm_json_val arr, el, tv;
	struct mm_json_iter it;
	struct mm_str k;
	size_t i = 0, lineno = 0, used;
	int rc = 0, got;
	char *text = NULL;

	mm_buf_reset(out);
	if (mm_json_value(removed, rn, &arr, &used) || arr.type != MM_JSON_ARRAY)
		return MM_EPARSE;
	if (!(text = mm_malloc(rn + 1)))
		return MM_ENOMEM;
	mm_json_iter_init(&it, &arr);
	got = mm_json_iter_next(&it, &k, &el);
	/* the removed lines at their old line numbers, in order */
	for (;;) {
		size_t want = 0, tn = 0;
		int64_t w = 0;
		struct mm_json_val lv;
		if (got == 1) {
			if (el.type != MM_JSON_OBJECT || mm_json_get(&el, "line", &lv) != 1 ||
			    mm_json_int(&lv, &w) || w < 0 || mm_json_get(&el, "text", &tv) != 1 ||
			    tv.type != MM_JSON_STRING || mm_json_unescape(tv.p + 1, tv.n - 2, text, &tn)) {
				rc = MM_EPARSE;
				goto out;
			}
			if (mm_json_get(&el, "hex", &tv) == 1 &&
			    (tv.type != MM_JSON_STRING || unhex(tv.p + 1, tv.n - 2, text, &tn))) {
				rc = MM_EPARSE;
				goto out;
			}
			want = (size_t)w;
		}
		if (got == 1 && (lineno >= want || i >= n)) {
			if (out->len && out->p[out->len - 1] != '\n')
				rc |= mm_buf_addc(out, '\n');
			rc |= mm_buf_add(out, text, tn);
			if (say)
				fprintf(say, "  %zu: %.*s%s", want + 1, (int)tn, text,
					tn && text[tn - 1] == '\n' ? "" : "\n");
			lineno++;
			got = mm_json_iter_next(&it, &k, &el);
			continue;
		}
		if (got < 0) {
			rc = MM_EPARSE;
			goto out;
		}
		if (i >= n)
			break;
		{
			const char *e = memchr(b + i, '\n', n - i);
			size_t end = e ? (size_t)(e - b) + 1 : n;
			rc |= mm_buf_add(out, b + i, end - i);
			i = end;
			lineno++;
		}
	}
	rc |= mm_buf_addz(out, "");
	if (rc)
		rc = MM_ETOOBIG;
out:
	mm_free(text);
	return rc;
}

static int undo_cron(const struct mm_respond_opts *oc, const struct mm_json_val *d, struct rec *r,
		     struct mm_err *err)
{
	struct mm_respond_opts o2 = *oc;
	const struct mm_respond_opts *o = &o2;
	char rootb[MM_RESPOND_PATH_MAX];
	struct mm_buf b, nb;
	struct mm_json_val arr;
	char path[256], leaf[64];
	struct stat sb;
	int rootfd = -1, dfd = -1, rc;
	FILE *out = outf(o);

	recorded_root(d, oc, &o2, rootb, sizeof(rootb));
	mm_buf_init(&b, MM_RESPOND_CRON_MAX + 1);
	mm_buf_init(&nb, 2 * MM_RESPOND_CRON_MAX + 1);
	if (jstr(d, "file", path, sizeof(path)) || mm_json_get(d, "removed", &arr) != 1 ||
	    arr.type != MM_JSON_ARRAY) {
		rc = mm_err_set(err, MM_EPARSE, "the record's detail has no removed lines");
		goto out;
	}
	d_str(r, "file", path);
	if ((rootfd = open_root(o, err)) < 0) {
		rc = MM_EIO;
		goto out;
	}
	if ((rc = load_file(rootfd, path, MM_RESPOND_CRON_MAX, &b, &dfd, leaf, sizeof(leaf), &sb,
			    err)))
		goto out;
	fprintf(out, "%s lines to %s%s:\n", r->dry ? "would put back" : "putting back",
		o->root ? o->root : "", path);
	if ((rc = mm_respond_cron_merge(b.p, b.len, arr.p, arr.n, &nb, out))) {
		mm_err_set(err, rc, "the removed lines are malformed or too many");
		goto out;
	}
	rc = r->dry ? 0 : rewrite_at(dfd, leaf, &sb, nb.p, nb.len, err);
out:
	if (dfd >= 0)
		close(dfd);
	if (rootfd >= 0)
		close(rootfd);
	mm_buf_free(&b);
	mm_buf_free(&nb);
	return rc;
}

int mm_respond_undo(const struct mm_respond_opts *o, const char *id, struct mm_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct mm_json_val d;
	struct mm_buf detail;
	char action[32] = "", result[16] = "";
	int dry = 1, rc = 0, undone = 0;
	struct rec r;
	size_t used;

	mm_err_clear(err);
	mm_buf_init(&detail, DETAIL_MAX + 4);
	rec_init(&r, "undo", id, !o->yes);
	if ((rc = preflight(o, err)) || (rc = db_open(o, &db, err)))
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT action, dry, result, detail, undone_by FROM respond_actions"
			       " WHERE id = ?1", -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "reading the action", o->db);
		goto out;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = mm_err_set(err, MM_ENOTFOUND, "no action %s in %s (see mamori agent respond list)",
				id, o->db);
		goto out;
	}
	snprintf(action, sizeof(action), "%s", (const char *)sqlite3_column_text(s, 0));
	dry = sqlite3_column_int(s, 1);
	snprintf(result, sizeof(result), "%s", (const char *)sqlite3_column_text(s, 2));
	mm_buf_printf(&detail, "{%s}", (const char *)sqlite3_column_text(s, 3));
	undone = sqlite3_column_type(s, 4) != SQLITE_NULL;
	sqlite3_finalize(s);
	s = NULL;
	d_str(&r, "undoes", id);
	d_str(&r, "undoes_action", action);
	if (dry || strcmp(result, "done")) {
		rc = mm_err_set(err, MM_EINVAL, "action %s was %s: nothing to undo", id,
				dry ? "a dry run" : result);
		goto out;
	}
	if (undone) {
		rc = mm_err_set(err, MM_EINVAL, "action %s was undone already", id);
		goto out;
	}
	if (!detail.p || mm_json_value(detail.p, detail.len, &d, &used)) {
		rc = mm_err_set(err, MM_EPARSE, "the record of %s is malformed", id);
		goto out;
	}
	switch (mm_respond_action_parse(action)) {
	case MM_RESPOND_KILL:
		rc = mm_err_set(err, MM_EINVAL, "action %s killed a process: a killed process cannot be "
				"brought back (nothing to undo)", id);
		goto out;
	case MM_RESPOND_QUARANTINE:
		rc = undo_quarantine(o, &d, &r, err);
		break;
	case MM_RESPOND_BLOCK:
		rc = undo_block(o, &d, &r, err);
		break;
	case MM_RESPOND_LOCK_USER:
		rc = undo_lock(o, &d, &r, err);
		break;
	case MM_RESPOND_REMOVE_CRON:
		rc = undo_cron(o, &d, &r, err);
		break;
	default:
		rc = mm_err_set(err, MM_EINVAL, "action %s (%s) cannot be undone", id, action);
		goto out;
	}
	if (rc)
		goto out;
	if (!r.dry) {
		if (sqlite3_prepare_v2(db, "UPDATE respond_actions SET undone_by = ?2 WHERE id = ?1", -1,
				       &s, NULL) != SQLITE_OK) {
			rc = db_fail(db, err, "marking the action undone", o->db);
			goto out;
		}
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, r.id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			rc = db_fail(db, err, "marking the action undone", o->db);
			goto out;
		}
	}
	sqlite3_finalize(s);
	s = NULL;
	sqlite3_close(db);
	db = NULL;
	rc = rec_write(o, &r, err);
	if (!rc)
		fprintf(outf(o), r.dry ? "dry run (recorded as %s): nothing changed; add --yes to undo\n"
				       : "done: undo recorded as %s\n", r.id);
out:
	if (rc && rc != MM_ENOTFOUND) {
		sqlite3_finalize(s);
		s = NULL;
		sqlite3_close(db);
		db = NULL;
		rec_refuse(o, &r, rc == MM_EINVAL ? "refused" : "failed", rc, err);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	mm_buf_free(&detail);
	mm_buf_free(&r.detail);
	return rc;
}

int mm_respond_list(const struct mm_respond_opts *o, int json, FILE *out, struct mm_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc;
	if ((rc = db_open(o, &db, err)))
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT id, at, action, target, dry, result, message, reason,"
			       " detail, undone_by FROM respond_actions ORDER BY at, rowid", -1, &s,
			       NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "listing the actions", o->db);
		goto out;
	}
	if (!json)
		fprintf(out, "%-18s  %-24s  %-11s  %-8s  %-9s  %s\n", "ID", "TIME", "ACTION", "DRY",
			"RESULT", "TARGET");
	while (sqlite3_step(s) == SQLITE_ROW) {
		char ts[MM_TIME_STRLEN];
		const char *undone = (const char *)sqlite3_column_text(s, 9);
		mm_time_format_iso(sqlite3_column_int64(s, 1), ts);
		if (json) {
			struct mm_buf b;
			int c;
			static const char *const names[] = {"id", "time", "action", "target", "dry_run",
							    "result", "message", "reason", "detail",
							    "undone_by"};
			mm_buf_init(&b, DETAIL_MAX + 8192);
			mm_buf_addc(&b, '{');
			for (c = 0; c < 10; c++) {
				const char *v = (const char *)sqlite3_column_text(s, c);
				mm_buf_printf(&b, "%s\"%s\":", c ? "," : "", names[c]);
				if (c == 1)
					mm_buf_json_strz(&b, ts);
				else if (c == 4)
					mm_buf_addz(&b, sqlite3_column_int(s, 4) ? "true" : "false");
				else if (c == 8)
					mm_buf_printf(&b, "{%s}", v ? v : "");
				else if (c == 9 && !v)
					mm_buf_addz(&b, "null");
				else
					mm_buf_json_strz(&b, v ? v : "");
			}
			if (!mm_buf_addz(&b, "}\n"))
				fputs(b.p, out);
			mm_buf_free(&b);
		} else {
			fprintf(out, "%-18s  %-24s  %-11s  %-8s  %-9s  %s%s%s%s\n",
				(const char *)sqlite3_column_text(s, 0), ts,
				(const char *)sqlite3_column_text(s, 2),
				sqlite3_column_int(s, 4) ? "dry-run" : "real",
				(const char *)sqlite3_column_text(s, 5),
				(const char *)sqlite3_column_text(s, 3), undone ? "  (undone by " : "",
				undone ? undone : "", undone ? ")" : "");
		}
	}
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* ---- automatic response -------------------------------------------------- */

static int type_match(const char *pat, const char *type)
{
	size_t n = strlen(pat);
	if (n && pat[n - 1] == '*')
		return !strncmp(pat, type, n - 1);
	return !strcmp(pat, type);
}

int mm_respond_auto(const struct mm_respond_rules *rules, const struct mm_finding *f,
		    const struct mm_respond_opts *o, struct mm_err *err)
{
	struct mm_respond_opts o2;
	char reason[128], arg[MM_RESPOND_PATH_MAX];
	int i, n = 0, rc;

	if (!rules || !rules->enabled || !f)
		return 0;
	for (i = 0; i < rules->nrules; i++) {
		const struct mm_respond_rule *ru = &rules->rule[i];
		const char *args[1] = {arg};
		char id[MM_RESPOND_ID_LEN + 1];
		struct mm_err e2;
		if (!type_match(ru->type, f->type))
			continue;
		arg[0] = '\0';
		switch (ru->action) {
		case MM_RESPOND_KILL:
			if (mm_finding_has_proc(f) && f->proc.pid > 1)
				snprintf(arg, sizeof(arg), "%lld", (long long)f->proc.pid);
			break;
		case MM_RESPOND_QUARANTINE:
			if (mm_finding_has_proc(f) && f->proc.exe[0] == '/')
				snprintf(arg, sizeof(arg), "%s", f->proc.exe);
			break;
		case MM_RESPOND_BLOCK:
			if (f->has_remote_ip)
				mm_ip_format(&f->remote_ip, arg);
			break;
		case MM_RESPOND_LOCK_USER:
			if (mm_finding_has_proc(f))
				snprintf(arg, sizeof(arg), "%s", f->proc.user);
			break;
		default:
			break;
		}
		if (!arg[0])
			continue;	/* the finding does not name a target for this action */
		o2 = *o;
		o2.yes = rules->act;
		o2.force = 0;
		if (ru->action == MM_RESPOND_BLOCK && ru->block_s)
			o2.block_s = ru->block_s;
		snprintf(reason, sizeof(reason), "auto: finding %s (%s)", f->id, f->type);
		o2.reason = reason;
		rc = mm_respond_do(&o2, ru->action, args, 1, id, &e2);
		n++;
		/* a refusal is recorded and not an error of the agent; a
		 * recording failure is */
		if (rc && rc != MM_EINVAL && rc != MM_ENOTFOUND && rc != MM_EIO) {
			*err = e2;
			return rc;
		}
	}
	return n;
}
