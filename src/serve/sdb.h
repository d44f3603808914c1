/* sdb.h - what `mamori serve` keeps beside the findings, in the same
 * SQLite file: the detector's id, suppression/notification filters,
 * feedback, and the archive flag the API sets on findings.
 *
 * Its own connection (the scan pipeline writes through another one; both
 * use BEGIN IMMEDIATE / single statements, so SQLite serialises writers
 * and a busy timeout waits out a flush). Tables are created if missing:
 *   serve_meta(key PRIMARY KEY, value)        detector id, created time
 *   filters(name PRIMARY KEY, description, action, rank, criteria JSON,
 *           tags JSON, created_at, updated_at)
 *   feedback(finding_id, feedback, comments, at)
 *   threat_sets(id PRIMARY KEY, kind, name, format, location, status,
 *               tags JSON, file, error, created_at, updated_at)
 *   idempotency(op, token, request hash, response JSON, at;
 *               PRIMARY KEY(op, token))  Create* clientTokens
 * Prepared statements only; every value is bound. Thread-safe (one
 * mutex around the connection). */
#ifndef MM_SDB_H
#define MM_SDB_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct mm_sdb;

#define MM_SDB_ID_LEN 32	/* detector id: 32 lowercase hex, as GuardDuty's */

struct mm_filter_row {
	const char *name, *description, *action, *criteria, *tags;
	long rank;
	int64_t created_ms, updated_ms;
};
typedef int (*mm_filter_cb)(void *ctx, const struct mm_filter_row *row);

int mm_sdb_open(struct mm_sdb **out, const char *path, struct mm_err *err);
void mm_sdb_close(struct mm_sdb *db);
/* The detector id (created once per database) and when. */
const char *mm_sdb_detector_id(const struct mm_sdb *db);
int64_t mm_sdb_created_ms(const struct mm_sdb *db);

/* Set a stored finding's archived flag (column and the JSON's
 * service.archived) and its updatedAt. 1 changed, 0 no such finding. */
int mm_sdb_archive(struct mm_sdb *db, const char *finding_id, int archived, int64_t now_ms,
		   struct mm_err *err);
int mm_sdb_feedback(struct mm_sdb *db, const char *finding_id, const char *feedback,
		    const char *comments, int64_t now_ms, struct mm_err *err);

/* create: MM_EEXISTS if the name is taken; update (create == 0):
 * MM_ENOTFOUND if not. NULL fields keep the old value on update. */
int mm_sdb_filter_put(struct mm_sdb *db, int create, const struct mm_filter_row *f,
		      struct mm_err *err);
/* 1 found (cb called), 0 not. */
int mm_sdb_filter_get(struct mm_sdb *db, const char *name, mm_filter_cb cb, void *ctx,
		      struct mm_err *err);
/* Every filter, by rank then name. */
int mm_sdb_filter_each(struct mm_sdb *db, mm_filter_cb cb, void *ctx, struct mm_err *err);
/* 1 deleted, 0 none. */
int mm_sdb_filter_del(struct mm_sdb *db, const char *name, struct mm_err *err);
/* Bumped by every filter change (the daemon recompiles its suppression
 * rules when it moves). */
uint64_t mm_sdb_filter_gen(struct mm_sdb *db);

/* Threat intel sets (kind "threatintel") and IP sets (kind "ipset", the
 * trusted addresses) created through the API. file is the list as mamori
 * loads it (TXT; converted from the set's format when it was created or
 * updated); status ACTIVE, INACTIVE or ERROR (error says why). */
struct mm_set_row {
	const char *id, *kind, *name, *format, *location, *status, *tags, *file, *error;
	int64_t created_ms, updated_ms;
};
typedef int (*mm_set_cb)(void *ctx, const struct mm_set_row *row);
/* Insert (MM_EEXISTS when kind+name is taken) or replace by id. */
int mm_sdb_set_put(struct mm_sdb *db, int create, const struct mm_set_row *s, struct mm_err *err);
/* 1 found (cb called), 0 not. */
int mm_sdb_set_get(struct mm_sdb *db, const char *kind, const char *id, mm_set_cb cb, void *ctx,
		   struct mm_err *err);
/* Every set of kind (NULL: all kinds), by creation. */
int mm_sdb_set_each(struct mm_sdb *db, const char *kind, mm_set_cb cb, void *ctx,
		    struct mm_err *err);
/* 1 deleted, 0 none. */
int mm_sdb_set_del(struct mm_sdb *db, const char *kind, const char *id, struct mm_err *err);
/* Bumped by every set change (the daemon reloads its lists). */
uint64_t mm_sdb_set_gen(struct mm_sdb *db);

/* clientToken idempotency: the answer given to the first Create* call
 * with this token, and a hash of that request. get: 1 found (req_hash
 * filled, the response appended to response), 0 not, negative error.
 * put keeps the first record of a token (a racing second is ignored). */
int mm_sdb_idem_get(struct mm_sdb *db, const char *op, const char *token, char *req_hash,
		    size_t hcap, struct mm_buf *response, struct mm_err *err);
int mm_sdb_idem_put(struct mm_sdb *db, const char *op, const char *token, const char *req_hash,
		    const char *response, struct mm_err *err);

#endif
