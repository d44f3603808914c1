/* triage.h - `mamori agent triage`: the evidence an incident responder
 * gathers by hand, packed into one tar.gz (ustar headers written here,
 * gzip by zlib): processes (CPU, exe hashes, lineage), sockets with pids,
 * crontabs, recent auth and cron log lines, logins from wtmp, accounts,
 * the FIM changes from the database, shell histories and dotfiles of
 * suspicious users, suspicious binaries' hashes (the binaries themselves
 * only when asked), and summary.txt.
 *
 * It never changes the host: every file is opened read-only with
 * O_NOFOLLOW, the database read-only; the bundle is created with O_EXCL
 * (an existing file is never overwritten).
 *
 * Bounds: MM_TRIAGE_FILE_MAX bytes of any one collected file (the tail of
 * a log), MM_TRIAGE_LOG_LINES lines of a log, MM_TRIAGE_BIN_MAX bytes of a
 * binary and MM_TRIAGE_BINS_TOTAL in all, MM_TRIAGE_WTMP_MAX login
 * records. */
#ifndef MM_AGENT_TRIAGE_H
#define MM_AGENT_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MM_TRIAGE_FILE_MAX (1u << 20)
#define MM_TRIAGE_LOG_LINES 2000
#define MM_TRIAGE_BIN_MAX (64ull << 20)
#define MM_TRIAGE_BINS_TOTAL (256ull << 20)
#define MM_TRIAGE_WTMP_MAX 1000
#define MM_TRIAGE_MAX_USERS 16

struct mm_triage_opts {
	const char *out;		/* the bundle's path (created, never overwritten) */
	const char *root;		/* files under it ("" = /) */
	const char *proc_dir;		/* "/proc" */
	const char *db_path;		/* FIM changes from it; NULL = none */
	const char *host;
	int include_binaries;
	int sample_ms;			/* CPU sample; 0 = 500 */
};

struct mm_triage_counts {
	uint64_t members, bytes, procs, socks, suspicious_procs, users, logins, fim_changes, binaries;
};

int mm_triage_write(const struct mm_triage_opts *o, struct mm_triage_counts *cnt,
		    struct mm_err *err);

/* A ustar header for a regular file (name cut to fit name+prefix) into
 * h[512]. 0, or MM_ETOOBIG for a name that cannot be fitted. Exposed for
 * tests. */
int mm_tar_header(unsigned char h[512], const char *name, uint64_t size, int64_t mtime,
		  unsigned mode);

#endif
