/* proc.h - the process collector: what `ps`, `top` and `ls -l
 * /proc/PID/exe` tell, read from /proc.
 *
 * A snapshot is an array of struct mm_proc the caller owns (mm_proc_table,
 * freed with mm_proc_table_free). Every string is copied into the entry
 * (fixed, bounded fields: longer values are cut). A process that exits
 * while it is being read is skipped, never an error; kernel threads (no
 * exe) are kept with an empty exe.
 *
 * Bounds: at most MM_PROC_MAX processes a snapshot; cmdline cut at
 * MM_PROC_CMDLINE bytes; lineage at most MM_PROC_LINEAGE_DEPTH parents;
 * hashing reads at most a byte budget per cycle (the rest is hashed in
 * later cycles) and skips executables larger than MM_PROC_HASH_MAX_FILE. */
#ifndef MM_AGENT_PROC_H
#define MM_AGENT_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MM_PROC_MAX 16384
#define MM_PROC_CMDLINE 1024
#define MM_PROC_EXE 512
#define MM_PROC_LINEAGE 1024
#define MM_PROC_LINEAGE_DEPTH 8
#define MM_PROC_HASH_MAX_FILE (256ull << 20)
#define MM_PROC_HASH_CACHE 2048

struct mm_proc {
	int pid, ppid;
	uint32_t uid;			/* effective uid */
	char name[32];			/* comm */
	char user[64];			/* from the passwd table, else the uid in decimal */
	char exe[MM_PROC_EXE];		/* " (deleted)" stripped; empty for kernel threads */
	uint8_t exe_deleted;
	uint8_t stdio_sock;		/* bit i set: fd i (0, 1, 2) is a socket (sock.c fills) */
	uint64_t stdio_inode;		/* the socket of the lowest such fd (sock.c fills) */
	uint64_t stdio_inodes[3];	/* each stdio fd's socket inode, 0 if none */
	char cmdline[MM_PROC_CMDLINE];	/* NULs turned into spaces */
	uint64_t start_ticks;		/* stat field 22: identity with pid */
	int64_t start_ms;		/* wall clock (btime + start_ticks) */
	uint64_t cpu_ticks;		/* utime + stime */
	uint32_t cpu_permille;		/* over the interval (mm_proc_cpu); 1000 = one core */
	char sha256[65];		/* hex, empty when not (yet) hashed */
	char lineage[MM_PROC_LINEAGE];	/* "pid:name:exe;..." nearest parent first */
};

struct mm_proc_table {
	struct mm_proc *v;		/* sorted by pid after mm_proc_snapshot */
	size_t n, cap;
};

/* uid -> name lookup the collector uses (users.h builds one from a
 * passwd file); NULL or not found = the uid in decimal. */
typedef const char *(*mm_proc_username_fn)(void *ctx, uint32_t uid);

/* Read every process under proc_dir ("/proc"; tests may point elsewhere
 * for the failure paths). t is emptied first. 0, MM_ENOMEM, or MM_EIO
 * when proc_dir itself cannot be read. */
int mm_proc_snapshot(struct mm_proc_table *t, const char *proc_dir, mm_proc_username_fn uname,
		     void *uctx);
void mm_proc_table_free(struct mm_proc_table *t);
/* The entry for pid (binary search), NULL if absent. Borrowed. */
struct mm_proc *mm_proc_find(const struct mm_proc_table *t, int pid);
/* Fill now's cpu_permille from the ticks both snapshots saw of the same
 * process (same pid and start time) over interval_ms. */
void mm_proc_cpu(struct mm_proc_table *now, const struct mm_proc_table *before, int64_t interval_ms);
/* Fill lineage from ppid links within the snapshot. */
void mm_proc_lineage(struct mm_proc_table *t);

/* SHA-256 of executables through /proc/PID/exe (so deleted binaries hash
 * too), cached by (dev, inode, mtime, size). Caller-allocated; init never
 * allocates. */
struct mm_hashcache_ent {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	uint64_t used;			/* LRU clock */
	char hex[65];
};
struct mm_hashcache {
	struct mm_hashcache_ent *v;	/* MM_PROC_HASH_CACHE entries, allocated on first use */
	uint64_t clock;
	uint64_t hashed_bytes;		/* lifetime counters */
	uint64_t hits, misses, deferred;
};
void mm_hashcache_init(struct mm_hashcache *c);
void mm_hashcache_free(struct mm_hashcache *c);
/* Hash what the cache lacks, reading at most budget bytes in all
 * (executables that do not fit are left for a later cycle: `deferred`). */
void mm_proc_hash(struct mm_proc_table *t, struct mm_hashcache *c, const char *proc_dir,
		  uint64_t budget);
/* SHA-256 of an open file, as hex into out[65]. 0 or MM_EIO / MM_TOOBIG
 * (more than max bytes). Exposed for fim.c. */
int mm_sha256_fd(int fd, uint64_t max, char out[65]);

/* Boot time (seconds since the epoch) from proc_dir/stat; 0 if unknown. */
int64_t mm_proc_btime(const char *proc_dir);

#endif
