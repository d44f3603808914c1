/* store.h - the findings store (SQLite by default).
 *
 * One SQLite file in WAL mode. Tables: findings (indexed columns for
 * type, severity, resource, first/last seen, updated, archived, plus the
 * full GuardDuty JSON), files (what was scanned and how far, so a rescan
 * does not count twice), inventory (instanceDetails JSON per instance).
 * A store handle is used by one thread at a time. */
#ifndef MM_STORE_H
#define MM_STORE_H

#include <stdint.h>

#include "core/err.h"
#include "finding/finding.h"

struct mm_store;	/* opaque */

/* Open or create. Creates parent directories? No: the caller's path must
 * be in an existing directory (the error says so). */
int mm_store_open(struct mm_store **out, const char *path, struct mm_err *err);
void mm_store_close(struct mm_store *st);
int mm_store_begin(struct mm_store *st, struct mm_err *err);
int mm_store_commit(struct mm_store *st, struct mm_err *err);
int mm_store_rollback(struct mm_store *st);

/* How far a file was scanned. head_hash identifies the file's content
 * (hash of its first bytes) so a rotated file with the same name is
 * seen as new. offset/line: bytes and lines of the (decompressed) stream
 * consumed; complete: the file was read to its end (a .gz is only ever
 * recorded complete). */
struct mm_file_state {
	uint64_t size;
	int64_t mtime;
	uint64_t head_hash;
	uint64_t offset;
	uint64_t line;
	int complete;
};
/* 1 found (st filled), 0 not found, negative on error. */
int mm_store_file_get(struct mm_store *st, const char *path, struct mm_file_state *fs);
int mm_store_file_put(struct mm_store *st, const char *path, const struct mm_file_state *fs,
		      struct mm_err *err);

/* Fill f's count, first/last seen, created_at, archived and evidence
 * from the stored finding with f->id. 1 found, 0 not, negative error. */
int mm_store_finding_load_state(struct mm_store *st, struct mm_finding *f);
/* Insert or replace the finding f whose full GuardDuty JSON is json. */
int mm_store_finding_put(struct mm_store *st, const struct mm_finding *f, const char *json,
			 struct mm_err *err);

/* A stored finding as listed. Strings are borrowed for the callback. */
struct mm_finding_row {
	const char *id, *type, *resource, *json;
	double severity;
	uint64_t count;
	int64_t first_seen_ms, last_seen_ms, updated_ms;
	int archived;
};

struct mm_finding_filter {
	const char *type;	/* exact, or prefix ending in '*' ("Recon:*") */
	double min_severity;	/* 0 = any */
	const char *resource;	/* instance id, ENI or access key id */
	int64_t since_ms;	/* eventLastSeen >= since; 0 = any */
	int64_t updated_since_ms; /* updatedAt >= this; 0 = any */
	int include_archived;
	long limit;		/* 0 = no limit */
};

typedef int (*mm_finding_row_cb)(void *ctx, const struct mm_finding_row *row);
/* Call cb for each matching finding, newest eventLastSeen first (then id).
 * A non-zero return from cb stops and is returned. */
int mm_store_findings(struct mm_store *st, const struct mm_finding_filter *flt,
		      mm_finding_row_cb cb, void *ctx, struct mm_err *err);
/* One finding by id (or unique id prefix of >= 6 chars). 1/0/negative. */
int mm_store_finding_by_id(struct mm_store *st, const char *id, mm_finding_row_cb cb, void *ctx,
			   struct mm_err *err);

int mm_store_inventory_put(struct mm_store *st, const char *instance_id, const char *json,
			   struct mm_err *err);
typedef int (*mm_inventory_row_cb)(void *ctx, const char *instance_id, const char *json);
int mm_store_inventory_each(struct mm_store *st, mm_inventory_row_cb cb, void *ctx,
			    struct mm_err *err);

/* The default database path: $MAMORI_DB, else ./mamori.db. */
const char *mm_store_default_path(void);

#endif
