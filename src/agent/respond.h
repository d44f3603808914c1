/* respond.h - containment on a Linux host: `mamori agent respond`.
 *
 * Five actions (kill, quarantine, block, lock-user, remove-cron), each
 * dry-run unless opts.yes, each recorded (dry or real) as one JSON line
 * in the audit log AND one row of the table respond_actions in the
 * database, under an action id ("r-" + 16 hex). What an undo needs (the
 * quarantined file's hash and origin, the shadow fields it changed, the
 * crontab lines it removed) is in the row's detail JSON; mm_respond_undo
 * reads it back. docs/respond.md is the safety model.
 *
 * Path-based actions resolve their paths beneath opts.root ("/" when
 * NULL) without following any symlink (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, else a component walk with O_NOFOLLOW). With a
 * root, lock-user edits <root>/etc/shadow itself (atomic rewrite)
 * instead of running usermod, and block is unaffected (it is never
 * path-based). Nothing read from the host is ever executed: external
 * programs (nft, usermod, loginctl) run by execve with an argv built
 * from validated values, never through a shell. */
#ifndef MM_RESPOND_H
#define MM_RESPOND_H

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

struct mm_finding;

#define MM_RESPOND_ID_LEN 18		/* "r-" + 16 hex */
#define MM_RESPOND_MAX_ALLOW 16		/* --allow-root values */
#define MM_RESPOND_PATH_MAX 1024
#define MM_RESPOND_FILE_MAX (64u << 20) /* crontab/shadow/passwd read whole: 64 MiB cap */
#define MM_RESPOND_CRON_MAX (1u << 20)  /* a crontab larger than 1 MiB is refused */

enum mm_respond_action {
	MM_RESPOND_KILL = 1,
	MM_RESPOND_QUARANTINE,
	MM_RESPOND_BLOCK,
	MM_RESPOND_LOCK_USER,
	MM_RESPOND_REMOVE_CRON,
};

/* The action's word ("kill", "lock-user", ...) and back; 0 unknown. */
const char *mm_respond_action_name(int action);
int mm_respond_action_parse(const char *word);

/* Settings of one run. Strings borrowed. */
struct mm_respond_opts {
	int yes;			/* act; else dry-run: say what would be done */
	int force;			/* lock-user: allow uid 0 */
	int kill_sessions;		/* lock-user: also end the user's sessions */
	const char *root;		/* test tree for path-based actions; NULL = "/" */
	const char *quarantine_dir;	/* NULL: <root>/var/lib/mamori/quarantine */
	const char *audit_log;		/* NULL: <root>/var/log/mamori/audit.log */
	const char *db;			/* the database (required) */
	const char *nft;		/* the nft program; NULL: "nft" on a fixed PATH */
	const char *allow[MM_RESPOND_MAX_ALLOW]; /* quarantine: allowed roots; none = defaults */
	int nallow;
	int grace_ms;			/* kill: SIGTERM -> SIGKILL; 0 = 5000 */
	int64_t block_s;		/* block: timeout in seconds; 0 = no timeout */
	const char *reason;		/* free text stored with the action ("finding <id>") */
	FILE *out;			/* what was / would be done; NULL = stdout */
};

/* One action: the CLI's words after the action word. kill: {PID};
 * quarantine: {PATH}; block: {IP}; lock-user: {NAME}; remove-cron:
 * {USER, PATTERN}. On success id (MM_RESPOND_ID_LEN+1 bytes) is the
 * recorded action's id. A refusal (pid 1, symlink, root without
 * --force, ...) is MM_EINVAL with the reason in err, and is recorded
 * too (result "refused"). */
int mm_respond_do(const struct mm_respond_opts *o, int action, const char *const *args, int nargs,
		  char id[MM_RESPOND_ID_LEN + 1], struct mm_err *err);

/* Undo the recorded action id (recorded as done, not undone yet):
 * quarantine -> restore after a hash check; block -> delete the set
 * element; lock-user -> put the previous shadow fields back; remove-cron
 * -> reinsert the lines. kill: MM_EINVAL ("a killed process cannot be
 * brought back"). Dry-run unless o->yes. The undo is itself recorded
 * (action "undo"). */
int mm_respond_undo(const struct mm_respond_opts *o, const char *id, struct mm_err *err);

/* The history (newest last) as text lines or JSON lines (json != 0). */
int mm_respond_list(const struct mm_respond_opts *o, int json, FILE *out, struct mm_err *err);

/* ---- automatic response (the config file's `respond:` section) ----------
 * Off by default. A rule: finding type (exact, or a prefix ending in
 * '*') -> action; the action's target comes from the finding: kill ->
 * proc.pid, quarantine -> proc.exe, block -> the remote IP, lock-user ->
 * proc.user. remove-cron has no target in a finding and is not allowed
 * in a rule. */
#define MM_RESPOND_MAX_RULES 32
struct mm_respond_rule {
	char type[96];
	int action;		/* enum mm_respond_action */
	int64_t block_s;	/* block: `for:` (seconds); 0 = none */
};
struct mm_respond_rules {
	int enabled;		/* `enabled: true`; default off */
	int act;		/* `mode: act`; default dry-run (audited only) */
	int nrules;
	struct mm_respond_rule rule[MM_RESPOND_MAX_RULES];
};

/* Apply every rule of rules that matches f (borrowed). o gives the
 * store, audit log and root; o->yes is replaced by rules->act. Returns
 * the number of actions taken (dry or real, refused ones included),
 * or a negative error when recording failed. rules NULL or not enabled:
 * 0. A rule whose target the finding lacks is skipped. */
int mm_respond_auto(const struct mm_respond_rules *rules, const struct mm_finding *f,
		    const struct mm_respond_opts *o, struct mm_err *err);

/* "1h", "30m", "90s", "2d", "3600" -> seconds. 0 or MM_EINVAL. */
int mm_respond_parse_duration(const char *s, int64_t *out);

/* Open path (relative to dirfd's tree, leading '/' allowed) beneath
 * dirfd without following any symlink and without leaving it ("..").
 * flags as openat's (O_NOFOLLOW added). Returns an fd or -errno
 * (-ELOOP for a symlink, -EXDEV for an escape). Exposed for tests. */
int mm_respond_open_beneath(int dirfd, const char *path, int flags, int mode);

/* ---- the file edits, pure (no I/O; exposed for tests and fuzzing) ----- */
struct mm_buf;
/* The lines of crontab text b[0..n) that contain pat (fixed text, not
 * empty) are left out of kept (reset first; NUL-terminated) and appended
 * to removed as a JSON array [{"line":N,"text":"..."}] (N 0-based);
 * *nrem counts them; each is printed to say (may be NULL). 0 or
 * MM_ENOMEM/MM_ETOOBIG (a buffer's cap). */
int mm_respond_cron_filter(const char *b, size_t n, const char *pat, struct mm_buf *kept,
			   struct mm_buf *removed, size_t *nrem, FILE *say);
/* The inverse: crontab text b[0..n) with the lines of the JSON array
 * removed[0..rn) put back at their line numbers (in order; past the
 * end: appended), into out (reset first). merge(filter(x)) == x. 0,
 * MM_EPARSE (not such an array), MM_ETOOBIG, MM_ENOMEM. */
int mm_respond_cron_merge(const char *b, size_t n, const char *removed, size_t rn,
			  struct mm_buf *out, FILE *say);
/* The /etc/shadow text b[0..n): name's entry found, *was_locked (its
 * password field starts with '!') and its expire field (into
 * old_expire, cap bytes) read; with out, the whole text with that entry
 * changed goes to out (reset first): pw +1 prefixes '!' unless there,
 * 0 leaves the field, -1 drops one leading '!'; the expire field set to
 * expire. Only day numbers (digits, at most 15, or empty) are read or
 * written: anything else is MM_EINVAL (never written). MM_ENOTFOUND
 * when name has no entry. */
int mm_respond_shadow_edit(const char *b, size_t n, const char *name, int pw, const char *expire,
			   int *was_locked, char *old_expire, size_t cap, struct mm_buf *out);

#endif
