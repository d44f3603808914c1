/* store.h - the findings store (SQLite by default).
 *
 * One SQLite file in WAL mode. Tables: findings (indexed columns for
 * type, severity, resource, first/last seen, updated, archived, held,
 * plus the full GuardDuty JSON), files (what was scanned and how far, so
 * a rescan does not count twice), inventory (instanceDetails JSON per
 * instance), detector_state (each detector's state per entity).
 * The schema is versioned (PRAGMA user_version) and upgraded in place on
 * a read-write open; docs/internals/store.md lists the versions.
 * A store handle is used by one thread at a time. */
#ifndef MM_STORE_H
#define MM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "finding/finding.h"

struct mm_store;	/* opaque */

/* Bounds on what callers store (longer is MM_EINVAL / MM_ETOOBIG). */
#define MM_STORE_DETECTOR_MAX 64	/* detector name, bytes */
#define MM_STORE_ENTITY_MAX 512		/* state entity key, bytes */
#define MM_STORE_STATE_MAX (1 << 20)	/* one state blob, bytes */

/* Open or create read-write; *out is the caller's, freed by
 * mm_store_close. Creates parent directories? No: the caller's path must
 * be in an existing directory (the error says so). A new file (and its
 * -wal/-shm) is created mode 0600; an existing file's mode is left alone.
 * An older schema is upgraded in place, one transaction per step; a file
 * from a newer mamori is refused untouched (MM_EDB, "written by a newer
 * mamori (schema N, this build knows M)"). */
int mm_store_open(struct mm_store **out, const char *path, struct mm_err *err);
/* Open an existing file read-only, for users who may not write it. Never
 * migrates or writes: an older schema is read as it is (a schema 1 file
 * has no held findings and no detector state; listing works). If the
 * file is in WAL mode and its -shm cannot be created, and no -wal file
 * exists, it is read as immutable; with a -wal present that would miss
 * recent commits, so it fails with a message that says so. A file with
 * no tables yet, or a newer schema, is MM_EDB with a clear message.
 * Every write through the handle fails with MM_EDB. */
int mm_store_open_ro(struct mm_store **out, const char *path, struct mm_err *err);
/* The file's schema version (current after mm_store_open; possibly
 * older after mm_store_open_ro). */
int mm_store_schema(const struct mm_store *st);
/* Close and free (NULL is fine); releases the scan lock if held. */
void mm_store_close(struct mm_store *st);
/* Take the exclusive scan lock: flock(LOCK_EX) on the side file
 * "<db>.lock" (created 0600, left in place; holds the holder's pid).
 * Two scans of one database would otherwise both count the same new log
 * lines. wait_ms 0 tries once; otherwise it polls until wait_ms has
 * passed. 0 when held (also if this handle holds it already); MM_EBUSY
 * with "<db> is in use by another mamori process (pid N); wait for it,
 * or pass --wait SECONDS"; MM_EIO if the lock file cannot be opened.
 * Held until mm_store_close. flock is advisory and per host: it does not
 * guard a database on a network filesystem shared by two hosts. */
int mm_store_lock(struct mm_store *st, int wait_ms, struct mm_err *err);
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
 * from the stored finding with f->id. 1 found, 0 not, negative error.
 * Held findings are found too, so activity seen before and after the
 * instance became known merges into one finding. */
int mm_store_finding_load_state(struct mm_store *st, struct mm_finding *f);
/* Insert or replace the finding f whose full GuardDuty JSON is json
 * (borrowed). Same as mm_store_finding_put_held(st, f, json, 0, err). */
int mm_store_finding_put(struct mm_store *st, const struct mm_finding *f, const char *json,
			 struct mm_err *err);
/* Insert or replace, held back (held != 0) or not. A held finding is one
 * the pipeline cannot yet attribute to a known instance: it is stored
 * (and merged into by load_state/put) but never listed by
 * mm_store_findings (not even with include_archived) nor found by
 * mm_store_finding_by_id. Putting it again with held 0 releases it. */
int mm_store_finding_put_held(struct mm_store *st, const struct mm_finding *f, const char *json,
			      int held, struct mm_err *err);
/* The columns the store indexes out of a finding's JSON: severity,
 * updatedAt, createdAt, accountId, region, the instance id and the
 * access key id. mm_store_jcols_of reads json only (no store), so a
 * thread that renders findings can find them while another one writes;
 * the values point into json. */
#define MM_STORE_JCOLS 7
struct mm_store_jcols {
	int found[MM_STORE_JCOLS];
	struct mm_json_val val[MM_STORE_JCOLS];
};
void mm_store_jcols_of(const char *json, struct mm_store_jcols *jc);
/* mm_store_finding_put_held with jc found from this json beforehand
 * (NULL: found here). */
int mm_store_finding_put_jc(struct mm_store *st, const struct mm_finding *f, const char *json,
			    int held, const struct mm_store_jcols *jc, struct mm_err *err);
/* Delete the finding with exactly this id, held or not. 1 deleted, 0 no
 * such finding, negative error. */
int mm_store_finding_delete(struct mm_store *st, const char *id, struct mm_err *err);

/* A stored finding as listed. Strings are borrowed for the callback. */
struct mm_finding_row {
	const char *id, *type, *resource, *json;
	double severity;
	uint64_t count;
	int64_t first_seen_ms, last_seen_ms, updated_ms;
	int archived;
	int held;		/* only ever set in mm_store_held_each */
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
/* One finding by id (or unique id prefix of >= 6 chars). 1/0/negative.
 * Held findings are not found. */
int mm_store_finding_by_id(struct mm_store *st, const char *id, mm_finding_row_cb cb, void *ctx,
			   struct mm_err *err);
/* Call cb for every held finding (in id order); a non-zero return from
 * cb stops and is returned. cb must not write the findings table while
 * the walk runs (collect the ids, then put or delete). */
int mm_store_held_each(struct mm_store *st, mm_finding_row_cb cb, void *ctx, struct mm_err *err);

int mm_store_inventory_put(struct mm_store *st, const char *instance_id, const char *json,
			   struct mm_err *err);
typedef int (*mm_inventory_row_cb)(void *ctx, const char *instance_id, const char *json);
int mm_store_inventory_each(struct mm_store *st, mm_inventory_row_cb cb, void *ctx,
			    struct mm_err *err);

/* Detector state: one opaque blob per (detector, entity), with the
 * version of the detector's state layout that wrote it. A detector that
 * reads a version it does not know (older layout it cannot convert, or
 * written by a newer mamori) must discard that row and start the entity
 * afresh; the store does not interpret blobs, it only returns the
 * version. Names and blobs are bounded by MM_STORE_*_MAX.
 *
 * put inserts or replaces, stamping updated_ms with the time now; it is
 * meant to run inside the caller's transaction (mm_store_begin ...
 * commit), with the findings of the same batch, so state and findings
 * never disagree after a crash. Outside one it commits on its own.
 * del: 1 deleted, 0 no such row, negative error.
 * each calls cb for every entity of detector in entity order, with the
 * entity and blob borrowed for the call (blob is never NULL; n may be
 * 0). A non-zero return from cb stops and is returned. cb must not write
 * detector_state while the walk runs. On a read-only schema 1 file there
 * is no state: each calls cb never. */
typedef int (*mm_state_row_cb)(void *ctx, const char *entity, int version, const void *blob,
			       size_t n);
int mm_store_state_put(struct mm_store *st, const char *detector, const char *entity, int version,
		       const void *blob, size_t n, struct mm_err *err);
int mm_store_state_del(struct mm_store *st, const char *detector, const char *entity,
		       struct mm_err *err);
int mm_store_state_each(struct mm_store *st, const char *detector, mm_state_row_cb cb, void *ctx,
			struct mm_err *err);
/* Delete every row of detector (before a save that writes its whole
 * state again). 0 or a negative error. */
int mm_store_state_clear(struct mm_store *st, const char *detector, struct mm_err *err);

/* The default database path: $MAMORI_DB, else ./mamori.db. */
const char *mm_store_default_path(void);

/* One state row: 1 with *version and the bytes appended to out (out may
 * be NULL: only whether it exists), 0 none, negative error. */
int mm_store_state_get(struct mm_store *st, const char *detector, const char *entity, int *version,
		       struct mm_buf *out, struct mm_err *err);
/* Is there a finding of this type on this resource key (held ones too: a
 * held relay still supersedes a held client on the same interface)?
 * 1/0/negative. */
int mm_store_has_finding(struct mm_store *st, const char *type, const char *resource,
			 struct mm_err *err);
/* Delete every finding of this type on this resource key, with its
 * aggregation state ("finding" rows). Number deleted, or negative. */
int mm_store_delete_findings(struct mm_store *st, const char *type, const char *resource,
			     struct mm_err *err);
/* A remembered file with this content hash and at most this size (a
 * file renamed or a tree moved, possibly grown since: a log rotated by
 * rename while its writer still appends); the biggest such: 1 with its
 * path (cut to cap) and state, 0 none, negative error. */
int mm_store_file_by_content(struct mm_store *st, uint64_t head_hash, uint64_t size,
			     char *path, size_t cap, struct mm_file_state *fs);


/* ---- the GuardDuty API's queries (schema 3) -------------------------
 * Conditions pushed down to SQL on indexed columns, an optional row
 * matcher run inside the query (the API's exact JSON criteria), an
 * order with a keyset cursor, and grouped counts for statistics. Every
 * value is bound; column names come from a fixed table. On a file older
 * than schema 3 (read-only open) they are MM_EDB. */
enum mm_fcol {
	MM_FCOL_TYPE,		/* column type */
	MM_FCOL_SEVERITY,	/* the JSON's severity (number) */
	MM_FCOL_UPDATED,	/* the JSON's updatedAt (ISO text) */
	MM_FCOL_CREATED,	/* the JSON's createdAt (ISO text) */
	MM_FCOL_ARCHIVED,	/* column archived (0/1) */
	MM_FCOL_ACCOUNT,	/* accountId */
	MM_FCOL_REGION,		/* region */
	MM_FCOL_INSTANCE,	/* resource.instanceDetails.instanceId */
	MM_FCOL_AKID,		/* resource.accessKeyDetails.accessKeyId */
	MM_FCOL_N
};
enum mm_fop { MM_FOP_IN, MM_FOP_NOTIN, MM_FOP_GT, MM_FOP_GTE, MM_FOP_LT, MM_FOP_LTE };
#define MM_FQ_MAX_VALS 160	/* values in one IN list */
/* One condition: IN / NOT IN (n values; NOT IN also holds when the value
 * is absent) or a comparison with value 0. Numeric columns (severity,
 * archived) read num[], the others txt[] (borrowed). */
struct mm_fcond {
	enum mm_fcol col;
	enum mm_fop op;
	int n;
	const char *txt[MM_FQ_MAX_VALS];
	double num[MM_FQ_MAX_VALS];
};
/* 1 keeps the row, 0 drops it (negative: drop; the query fails). */
typedef int (*mm_fq_match_fn)(void *ctx, const char *json, size_t n);
struct mm_fquery {
	const struct mm_fcond *c;	/* borrowed, nc of them, ANDed */
	int nc;
	mm_fq_match_fn match;		/* NULL: no row matcher */
	void *match_ctx;
	/* order: sort < 0 is last_seen DESC, id ASC (mm_store_findings's);
	 * else MM_FCOL_SEVERITY/UPDATED/CREATED in direction desc, ties by
	 * id in the same direction. phase 0 lists the rows that have the
	 * key, phase 1 those that lack it (absent keys sort last), by id. */
	int sort, desc, phase;
	/* keyset cursor: start after this row (after_id NULL: from the top) */
	const char *after_id;
	double after_num;		/* severity key */
	const char *after_txt;		/* updated/created key */
	int64_t after_ms;		/* last_seen (default order) */
	long limit;			/* 0: none */
	int want_json;			/* fill mm_fq_row.json */
};
struct mm_fq_row {
	const char *id;
	const char *json;		/* only with want_json */
	int has_key;
	double key_num;
	const char *key_txt;
	int64_t last_seen_ms;
};
typedef int (*mm_fq_row_cb)(void *ctx, const struct mm_fq_row *row);
int mm_store_fquery(struct mm_store *st, const struct mm_fquery *q, mm_fq_row_cb cb, void *ctx,
		    struct mm_err *err);

/* Grouped counts over the rows q selects (its order and cursor are not
 * used; limit caps the groups). Groups by the real columns: SEVERITY
 * (severity), FINDING_TYPE (type), ACCOUNT (account), RESOURCE
 * (resource key, with its account), DATE (UTC day of created_at, per
 * severity). Ordered by count (desc or not), then key. last_ms is the
 * newest updated_at of the group. */
enum mm_fgroup { MM_FG_SEVERITY, MM_FG_TYPE, MM_FG_ACCOUNT, MM_FG_RESOURCE, MM_FG_DATE };
struct mm_fq_group {
	const char *key;	/* type, account, resource key or YYYY-MM-DD */
	const char *account;	/* RESOURCE: the resource's account */
	double severity;	/* SEVERITY, DATE */
	long long count;
	int64_t last_ms;
};
typedef int (*mm_fq_group_cb)(void *ctx, const struct mm_fq_group *g);
int mm_store_fgroup(struct mm_store *st, const struct mm_fquery *q, enum mm_fgroup by, int desc,
		    mm_fq_group_cb cb, void *ctx, struct mm_err *err);

/* Let SQLite keep up to kib KiB of pages in memory (its default is
 * ~2 MiB). A flush writes one transaction of tens of MB: with the small
 * cache dirty pages spill to the WAL mid-transaction and btree pages are
 * read back with pread again and again. Pages are allocated as used, so
 * a small database costs nothing. kib 1..1048576; 0, MM_EINVAL or
 * MM_EDB (also when SQLite did not take it). */
int mm_store_cache_kib(struct mm_store *st, int kib, struct mm_err *err);
/* Commits through st no longer copy the WAL into the main file
 * (SQLite's wal_autocheckpoint, by default at every commit that leaves
 * the WAL over 1000 pages): the caller checkpoints itself, with
 * mm_store_checkpoint on this or another handle. Closing the last handle
 * of a file still checkpoints it and removes the WAL. 0 or MM_EDB. */
int mm_store_autocheckpoint_off(struct mm_store *st, struct mm_err *err);
/* Copy what is committed in the WAL into the main file (a PASSIVE
 * checkpoint: it never waits for readers or a writer, and copies what
 * they allow; the next write transaction then starts the WAL again from
 * its beginning). Safe from a handle on another thread while st's owner
 * reads or writes. 0 or MM_EDB. */
int mm_store_checkpoint(struct mm_store *st, struct mm_err *err);
/* The same on a handle of its own to the existing file path, opened and
 * closed here (never creates a file): for a thread other than the
 * owner's, while the owner's handle stays open. 0, MM_EDB (the file is
 * gone, or SQLite failed) or MM_ENOMEM. */
int mm_store_checkpoint_file(const char *path, struct mm_err *err);
/* The path st was opened with (borrowed, valid until mm_store_close). */
const char *mm_store_path(const struct mm_store *st);

#endif
