/* sigma.h - Sigma detection rules, loaded from YAML (libyaml) and
 * evaluated natively on an event's raw JSON record.
 *
 * A rule is loaded once (mm_sigma_load): its detection section is compiled
 * into selections (field matchers with their values already transformed by
 * the modifiers: wildcards, base64, windash, compiled regexes, parsed CIDRs)
 * and its condition into a small tree. Matching (mm_sigma_match) walks the
 * raw record with core/json.h and never allocates: strings that need
 * unescaping go to the caller's scratch arena.
 *
 * Every rule comes back with a status: OK (it can run), UNSUPPORTED (valid
 * Sigma that mamori cannot run, with the reason: a modifier not
 * implemented, a log source mamori does not read, a correlation rule), or
 * BROKEN (not valid Sigma: YAML errors, an undefined selection in the
 * condition, a bad regex or CIDR, an unknown modifier), with the reason as
 * "file:line: what". Nothing is dropped silently. See
 * docs/internals/sigma.md for the semantics and their limits. */
#ifndef MM_SIGMA_H
#define MM_SIGMA_H

#include <stddef.h>

#include "core/arena.h"
#include "core/common.h"

#define MM_SIGMA_MAX_FILE (1u << 20)	/* bytes in one rule file */
#define MM_SIGMA_MAX_BYTES (8u << 20)	/* memory one compiled rule may take */
#define MM_SIGMA_MAX_SELECTIONS 64	/* named selections in a detection */
#define MM_SIGMA_MAX_NODES 512		/* condition tree nodes */
#define MM_SIGMA_MAX_VALUES 1024	/* values of one field, after expansion */
#define MM_SIGMA_MAX_LEAVES 256		/* values of one field in one event */
#define MM_SIGMA_MAX_SEGS 16		/* parts of a dotted field name */
#define MM_SIGMA_MAX_TAGS 64

enum mm_sigma_status {
	MM_SIGMA_OK = 0,
	MM_SIGMA_UNSUPPORTED,
	MM_SIGMA_BROKEN
};

struct mm__sigma_det;	/* the compiled detection (sigma.c) */

/* A loaded rule. Every string is owned by the rule (NUL-terminated, NULL
 * when the rule does not say). */
struct mm_sigma_rule {
	enum mm_sigma_status status;
	char reason[512];	/* "file:line: why" when not OK */
	char *file;
	char *title, *id, *status_text, *level, *description, *author;
	char *product, *service, *category;
	char **tags;
	int ntags;
	int line;		/* line of the title */
	struct mm__sigma_det *det;	/* NULL unless status is OK */
	void *pool;		/* every allocation of the rule, freed at once */
	size_t bytes;
};

/* Load one rule from the n bytes of buf; name labels the reasons (a file
 * path). Returns NULL only when out of memory; otherwise a rule whose
 * status says whether it can run. Caller frees with mm_sigma_free. */
struct mm_sigma_rule *mm_sigma_load(const char *name, const char *buf, size_t n);
/* Read path (at most MM_SIGMA_MAX_FILE bytes) and load it; an unreadable
 * or oversized file gives a BROKEN rule saying so. NULL only when out of
 * memory. */
struct mm_sigma_rule *mm_sigma_load_file(const char *path);
void mm_sigma_free(struct mm_sigma_rule *r);

const char *mm_sigma_status_name(enum mm_sigma_status s);

/* Scratch for matching: an arena the size of the largest record, for
 * unescaped strings and NUL-terminated regex subjects. Caller-owned. */
struct mm_sigma_scratch {
	struct mm_arena arena;
	char *mem;
	void *cache;	/* per-event field cache (sigma.c) */
};
int mm_sigma_scratch_init(struct mm_sigma_scratch *s, size_t cap);
void mm_sigma_scratch_free(struct mm_sigma_scratch *s);

/* Does rule r (status OK) match the event whose raw record is the JSON
 * object raw (borrowed)? 1 yes, 0 no, MM_EPARSE when raw is not a JSON
 * object. A rule that is not OK never matches (0). */
int mm_sigma_match(const struct mm_sigma_rule *r, struct mm_str raw, struct mm_sigma_scratch *s);
/* Several rules on one record: the record is scanned once and each field
 * is looked up once for all of them. hit[i] is set to 1 for each rule that
 * matches, 0 otherwise. Returns the number of matching rules, or
 * MM_EPARSE when raw is not a JSON object (hit all 0). */
int mm_sigma_match_many(const struct mm_sigma_rule *const *rules, int n, struct mm_str raw,
			struct mm_sigma_scratch *s, uint8_t *hit);

#endif
