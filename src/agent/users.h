/* users.h - the account collector: /etc/passwd (and which names
 * /etc/shadow holds) under a root, and what changed between two reads:
 * new accounts, UID 0 held by a name other than root, accounts that
 * gained a login shell.
 *
 * Bounds: passwd and shadow read up to MM_USERS_FILE_MAX bytes, at most
 * MM_USERS_MAX accounts. Paths are opened without following a symlink
 * at the last component (O_NOFOLLOW). */
#ifndef MM_AGENT_USERS_H
#define MM_AGENT_USERS_H

#include <stddef.h>
#include <stdint.h>

#define MM_USERS_MAX 8192
#define MM_USERS_FILE_MAX (4u << 20)

struct mm_account {
	char name[64];
	uint32_t uid, gid;
	char home[256];
	char shell[128];
	uint8_t in_shadow;
};

struct mm_accounts {
	struct mm_account *v;
	size_t n, cap;
};

/* Parse passwd text (exposed for tests and fuzzing); a is emptied first.
 * Malformed lines are skipped. 0 or MM_ENOMEM. */
int mm_accounts_parse(struct mm_accounts *a, const char *text, size_t n);
/* Read root/etc/passwd and mark names root/etc/shadow holds. A missing
 * passwd gives an empty table (0). 0 or MM_ENOMEM. */
int mm_accounts_load(struct mm_accounts *a, const char *root);
void mm_accounts_free(struct mm_accounts *a);
const struct mm_account *mm_accounts_by_name(const struct mm_accounts *a, const char *name);
/* uid -> name (first holder), for mm_proc_snapshot; ctx is a struct
 * mm_accounts. NULL when unknown. */
const char *mm_accounts_uname(void *ctx, uint32_t uid);
/* 1 when shell lets someone log in (not nologin, false, sync, ...). */
int mm_shell_is_login(const char *shell);

/* What changed from before to now: fn(ctx, account, change) with change
 * "created" (a new name), "uid0" (a name other than root with uid 0 that
 * was not so before, or every such name when before is NULL), "shell"
 * (gained a login shell), "deleted" (a name gone). */
typedef int (*mm_account_change_fn)(void *ctx, const struct mm_account *acc, const char *change);
int mm_accounts_diff(const struct mm_accounts *before, const struct mm_accounts *now,
		     mm_account_change_fn fn, void *ctx);

#endif
