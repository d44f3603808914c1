/* place.h - the AWS account and region a host's findings name when its
 * logs do not say (syslog lines, journald, the agent's host events).
 *
 * A folder of host logs may carry a place file, MM_PLACE_FILE, one JSON
 * object: {"accountId":"123456789012","region":"eu-west-1"} (either may
 * be left out). `mamori serve` writes one into SPOOL/agent/HOST/ when an
 * agent's upload names its account and region (docs/agent-ship.md);
 * a user may write one next to host logs copied off a machine. The
 * pipeline reads it before the folder's files, so every finding from
 * them names the account; and it remembers instance -> place (struct
 * mm_places, kept in the store) so a finding made later from saved
 * state, with no file at hand, names the same account: a finding's id
 * includes its account, so the account must not change under it. */
#ifndef MM_PLACE_H
#define MM_PLACE_H

#include <stddef.h>

#include "core/err.h"

#define MM_PLACE_FILE ".mamori-place"
#define MM_PLACE_FILE_MAX 4096		/* bytes of a place file read at most */
#define MM_PLACES_MAX 65536		/* instances remembered */
#define MM_PLACE_REGION_MAX 24		/* "ap-southeast-7", "us-gov-west-1", ... */

struct mm_place {
	char account[13];	/* 12 digits, or "" */
	char region[MM_PLACE_REGION_MAX + 1];	/* or "" */
};

/* 1 when s[0..n) is an AWS account id (12 digits). */
int mm_place_account_ok(const char *s, size_t n);
/* 1 when s[0..n) may be a region name: 1..MM_PLACE_REGION_MAX of a-z,
 * 0-9 and '-', starting with a letter. */
int mm_place_region_ok(const char *s, size_t n);

/* A place file's bytes into *out. 0; MM_EPARSE with the reason (not a
 * JSON object, a member of the wrong type or form). Unknown members are
 * ignored (a newer writer's). Exposed for tests and fuzzing. */
int mm_place_parse(const char *buf, size_t n, struct mm_place *out, struct mm_err *err);
/* *p as a place file's line (with '\n') into buf. */
void mm_place_format(const struct mm_place *p, char *buf, size_t cap);
/* Read dir/MM_PLACE_FILE: 1 read and valid, 0 no such file, MM_EPARSE /
 * MM_EIO with "path: reason" in err. */
int mm_place_read_dir(const char *dir, struct mm_place *out, struct mm_err *err);
/* Write dir/MM_PLACE_FILE when it does not already say *p (a member left
 * empty in *p keeps what the file said): a temporary file, fsynced,
 * renamed over, the folder fsynced. 0 or MM_EIO. */
int mm_place_write_dir(const char *dir, const struct mm_place *p, struct mm_err *err);

/* instance id -> place, shared by the pipeline's threads (a mutex: it
 * is asked once per file and once per finding written, not per record). */
struct mm_places;

int mm_places_new(struct mm_places **out);
void mm_places_free(struct mm_places *ps);
/* Remember instance's place; a member left empty in *p keeps what was
 * known. 1 when that changed anything, 0 when not, MM_ETOOBIG past
 * MM_PLACES_MAX instances, MM_EINVAL for an empty or over-long id. */
int mm_places_put(struct mm_places *ps, const char *instance, const struct mm_place *p);
/* 1 and *out when instance has a place, else 0. */
int mm_places_get(struct mm_places *ps, const char *instance, struct mm_place *out);
/* Call fn for each place changed since the last mm_places_clean; stops
 * at fn's first non-zero, which it returns. */
int mm_places_each_changed(struct mm_places *ps,
			   int (*fn)(void *ctx, const char *instance, const struct mm_place *p),
			   void *ctx);
/* Mark every place saved (after the commit that wrote them). */
void mm_places_clean(struct mm_places *ps);

#endif
