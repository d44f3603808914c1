/* keys.h - the API access keys `mamori serve` accepts (SigV4, sigv4.h).
 *
 * A key is an id shaped like AWS's ("AKIA" + 16 of A-Z2-7) and a 40-char
 * secret of [A-Za-z0-9+/], with a unique name, its creation time, the
 * last time it signed a request, and an active flag. They live in the
 * table api_keys of the mamori database, read and written through this
 * module's own SQLite connection (the store's schema is not touched).
 *
 * Secrets are encrypted at rest with AES-256-GCM under a master key:
 * $MAMORI_MASTER_KEY (64 hex characters) when set, else the file
 * `<db>.key` beside the database (64 hex characters; created mode 0600
 * when the first key is created; refused when group or others may read
 * it). Each row holds version, nonce, ciphertext and tag; the key id is
 * the associated data, so a secret cannot be moved to another row.
 * A master key that does not open the stored secrets is reported as such
 * (mm_keys_check), never used to produce garbage.
 *
 * A handle may be used from several threads: one mutex serialises its
 * connection. docs/internals/auth.md has the design. */
#ifndef MM_KEYS_H
#define MM_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MM_KEYS_ID_LEN 20	/* "AKIA" + 16 */
#define MM_KEYS_SECRET_LEN 40
#define MM_KEYS_NAME_MAX 64	/* bytes of a name */
#define MM_KEYS_MAX 10000	/* keys one database holds */
#define MM_KEYS_ENV "MAMORI_MASTER_KEY"
#define MM_KEYS_TOUCH_MS 60000	/* last_used_at is written at most this often per key */

struct mm_keys;	/* opaque */

/* One key as listed: never the secret. */
struct mm_key_info {
	char id[MM_KEYS_ID_LEN + 1];
	char name[MM_KEYS_NAME_MAX + 1];
	int64_t created_ms;
	int64_t last_used_ms;	/* 0: never */
	int active;
	int read_only;		/* reads only: writes get 403 AccessDeniedException */
};

/* Open the keys of the database at db_path; *out is the caller's, freed
 * by mm_keys_close. A missing database is created as `mamori scan` would
 * (mode 0600, the store's schema); the api_keys table is created if
 * absent. The master key is read now (MAMORI_MASTER_KEY, else <db>.key
 * if it exists): a malformed one, or a key file others may read, is
 * MM_EINVAL with what to do. A master key that does not decrypt the
 * stored secrets does not fail the open (keys can still be listed and
 * deleted): mm_keys_check reports it, and create / secret refuse. */
int mm_keys_open(struct mm_keys **out, const char *db_path, struct mm_err *err);
void mm_keys_close(struct mm_keys *k);

/* 0 when the master key opens the stored secrets (or none are stored);
 * else MM_EINVAL (wrong master key) or MM_ENOTFOUND (secrets stored, no
 * master key at all), with the reason and what to do in err. The server
 * calls it at start so a wrong key fails loudly there. */
int mm_keys_check(struct mm_keys *k, struct mm_err *err);

/* Create a key named name (1..MM_KEYS_NAME_MAX of [A-Za-z0-9._@+=,-], not
 * shaped like a key id): its id into id_out (MM_KEYS_ID_LEN + 1 bytes)
 * and its secret into secret_out (MM_KEYS_SECRET_LEN + 1 bytes; the only
 * time the secret leaves the database in clear). Creates <db>.key first
 * if there is no master key yet. MM_EINVAL (bad name; master key
 * problem), MM_EEXISTS (name taken), MM_ETOOBIG (MM_KEYS_MAX keys),
 * MM_EIO, MM_EDB. */
int mm_keys_create(struct mm_keys *k, const char *name, char *id_out, char *secret_out,
		   struct mm_err *err);

/* Call cb for each key, oldest first; a nonzero return from cb stops the
 * walk and is returned. The info is borrowed for the call. */
typedef int (*mm_keys_list_fn)(void *ctx, const struct mm_key_info *ki);
int mm_keys_list(struct mm_keys *k, mm_keys_list_fn cb, void *ctx, struct mm_err *err);

/* Delete the key whose id, else whose name, is id_or_name. 0,
 * MM_ENOTFOUND, MM_EDB. */
int mm_keys_delete(struct mm_keys *k, const char *id_or_name, struct mm_err *err);

/* Mark key id read-only (1) or not (0): 1 done, 0 no such key, negative
 * on a database error. A table from before read-only keys gets the
 * column at the open, every key writable. */
int mm_keys_set_read_only(struct mm_keys *k, const char *id, int read_only, struct mm_err *err);
/* 1 when key id is read-only, 0 when not (or unknown), negative on a
 * database error. Thread-safe. */
int mm_keys_read_only(struct mm_keys *k, const char *id);

/* An mm_sigv4_secret_fn (ctx is the struct mm_keys *): 0 and the secret
 * (NUL-terminated) in secret if id is a known active key; MM_ENOTFOUND
 * if not; MM_EINVAL if its secret does not decrypt (wrong master key),
 * MM_ETOOBIG if cap < MM_KEYS_SECRET_LEN + 1, MM_EDB. Thread-safe. */
int mm_keys_secret(void *k, const char *id, char *secret, size_t cap);

/* Record that id signed a request at now_ms (after a successful verify).
 * Writes at most once per MM_KEYS_TOUCH_MS per key and never waits for
 * the database: when another writer holds it, this use is not recorded.
 * Thread-safe. 0 or MM_EDB. */
int mm_keys_touch(struct mm_keys *k, const char *id, int64_t now_ms);

/* True when s is shaped like a key id ("AKIA" + 16 of A-Z2-7). */
int mm_keys_is_id(const char *s);

#endif
