/* fim.h - file integrity monitoring: a baseline (SHA-256, mode, uid,
 * gid, size, mtime) of watched paths under a root, kept in the mamori
 * database (table agent_fim, its own schema version in agent_schema) so a
 * restart compares against what the last run saw; each cycle rescans and
 * reports created / modified / deleted / mode / owner. Text files up to
 * MM_FIM_TEXT_MAX bytes keep their content (up to MM_FIM_KEEP_TOTAL bytes
 * in all) so a modification carries a bounded unified diff.
 *
 * The first run of a database only records the baseline (nothing to
 * compare with). Paths are walked with lstat and opened with O_NOFOLLOW:
 * a symlink is recorded as a link (its target text hashed), never
 * followed; a home directory whose real path leaves the root is skipped.
 *
 * Bounds: MM_FIM_MAX_FILES files, directories read one level deep (two
 * for systemd unit folders' *.wants), files over MM_FIM_HASH_MAX bytes
 * compared by size/mtime/inode only. Unchanged (size, mtime, inode,
 * ctime) files are not re-read. */
#ifndef MM_AGENT_FIM_H
#define MM_AGENT_FIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define MM_FIM_MAX_FILES 100000
#define MM_FIM_TEXT_MAX (64u << 10)
#define MM_FIM_KEEP_TOTAL (16u << 20)
#define MM_FIM_HASH_MAX (512ull << 20)
#define MM_FIM_DIFF_MAX 8192

struct mm_fim_change {
	const char *path;		/* host path ("/etc/passwd"), borrowed */
	const char *change;		/* created, modified, deleted, mode, owner */
	const char *old_sha256, *new_sha256;	/* hex or "" */
	const char *detail;		/* "mode 100644->100666", "owner 0:0->1000:1000" or "" */
	const char *diff;		/* bounded unified diff or "" */
	const char *owner;		/* the owning user's name (or uid) */
};

typedef int (*mm_fim_change_fn)(void *ctx, const struct mm_fim_change *c);

struct mm_fim_counts {
	uint64_t files, hashed, changes;
	int baseline_only;		/* this run recorded the first baseline */
};

/* One scan: walk the default watched paths under root ("" = /), compare
 * with the baseline in the database db_path, call fn for each change,
 * then flush(ctx) (NULL = none: the caller makes the changes durable, e.g.
 * writes its spool file), then store the new baseline (one transaction).
 * A failure of fn or flush stops the scan with the baseline unchanged, so
 * the change is seen again next time: a change is never lost, at worst
 * reported twice (a crash between flush and the baseline's commit).
 * 0, or MM_EDB / MM_ENOMEM with err set. */
int mm_fim_scan(const char *db_path, const char *root, mm_fim_change_fn fn,
		int (*flush)(void *ctx), void *ctx, struct mm_fim_counts *cnt, struct mm_err *err);

/* A unified diff of two texts: common leading and trailing lines kept
 * out, one hunk of the rest ("-" old, "+" new), cut at max bytes with a
 * "... (cut)" line. Appended to out. Exposed for tests. */
int mm_fim_diff(struct mm_buf *out, const char *a, size_t an, const char *b, size_t bn, size_t max);

/* The changes the database holds (recent first, at most max): the
 * triage bundle's FIM section. fn gets rows as changes (diff included). */
int mm_fim_recent(const char *db_path, size_t max, mm_fim_change_fn fn, void *ctx,
		  struct mm_err *err);

/* ---- inotify: prompt rescans in the daemon ----
 *
 * The daemon's periodic rescan (each cycle) stays the safety net; the
 * watch only wakes it early. It watches the folders of the watched paths
 * (the cron, sudoers.d, /usr/bin and unit folders for any entry; /etc,
 * /root, each home and its .ssh for the watched names only), at most
 * max_watches (MM_FIM_MAX_WATCHES). A folder that does not exist yet,
 * one inotify cannot watch (watch limit: ENOSPC, or the table full:
 * stats.limited) and any change lost to IN_Q_OVERFLOW are covered by the
 * next periodic rescan; an overflow also wakes the daemon. Symlinked
 * folders are not followed (as the walk does not follow them). */
#define MM_FIM_MAX_WATCHES 1024

struct mm_fim_watch;	/* opaque */

struct mm_fim_watch_stats {
	size_t watches;		/* folders watched now */
	int limited;		/* a folder could not be watched (limit) */
	uint64_t events, overflows, wakes;
};

/* Start watching under root ("" = /). *out owned by the caller
 * (mm_fim_watch_free). 0, or MM_EIO (no inotify: the caller keeps the
 * periodic rescan only) / MM_ENOMEM with err set. */
int mm_fim_watch_open(struct mm_fim_watch **out, const char *root, size_t max_watches,
		      struct mm_err *err);
/* Watch folders that appeared since (a new home, a .ssh, a unit's .wants):
 * call after each rescan. Returns the folders watched. */
int mm_fim_watch_refresh(struct mm_fim_watch *w);
/* Drain pending events without blocking: 1 when one touched a watched
 * path (or events were lost), 0 when none did, MM_EIO on a read error. */
int mm_fim_watch_read(struct mm_fim_watch *w);
/* Wait up to timeout_ms for events, then as mm_fim_watch_read. */
int mm_fim_watch_wait(struct mm_fim_watch *w, int timeout_ms);
void mm_fim_watch_get_stats(const struct mm_fim_watch *w, struct mm_fim_watch_stats *st);
void mm_fim_watch_free(struct mm_fim_watch *w);

#endif
