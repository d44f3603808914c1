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
 * docs/internals/sigma.md for the semantics and their limits.
 *
 * A rule set (struct mm_sigma_set) is what a scan runs: every document of
 * every rule file under some folders, correlation rules resolved against
 * the detection rules they name, and an index from the literal eventName
 * / eventSource values rules require to the rules, so an event is only
 * evaluated against the few rules it could match. */
#ifndef MM_SIGMA_H
#define MM_SIGMA_H

#include <stddef.h>

#include "core/arena.h"
#include "core/common.h"
#include "core/err.h"
#include "core/event.h"

#define MM_SIGMA_MAX_FILE (1u << 20)	/* bytes in one rule file */
#define MM_SIGMA_MAX_BYTES (8u << 20)	/* memory one compiled rule may take */
#define MM_SIGMA_MAX_SELECTIONS 64	/* named selections in a detection */
#define MM_SIGMA_MAX_NODES 512		/* condition tree nodes */
#define MM_SIGMA_MAX_VALUES 1024	/* values of one field, after expansion */
#define MM_SIGMA_MAX_LEAVES 256		/* values of one field in one event */
#define MM_SIGMA_MAX_SEGS 16		/* parts of a dotted field name */
#define MM_SIGMA_MAX_TAGS 64
#define MM_SIGMA_MAX_DOCS 256		/* YAML documents in one rule file */
#define MM_SIGMA_CORR_RULES 16		/* rules one correlation names */
#define MM_SIGMA_CORR_GROUP 8		/* group-by fields of a correlation */
#define MM_SIGMA_CORR_FIELDS 4		/* value_count fields */

enum mm_sigma_status {
	MM_SIGMA_OK = 0,
	MM_SIGMA_UNSUPPORTED,
	MM_SIGMA_BROKEN
};

struct mm__sigma_det;	/* the compiled detection (sigma.c) */

/* The events a rule's log source stands for (docs/internals/sigma.md has
 * the mapping of each onto host events). */
enum mm_sigma_src {
	MM_SIGMA_SRC_CLOUDTRAIL = 0,	/* product aws, service cloudtrail */
	MM_SIGMA_SRC_LINUX_LOG,		/* product linux, a log service (or none): log lines */
	MM_SIGMA_SRC_PROC,		/* product linux, category process_creation */
	MM_SIGMA_SRC_NET,		/* product linux, category network_connection */
	MM_SIGMA_SRC_FILE,		/* product linux, category file_event / file_change */
	MM_SIGMA_SRC_FILE_DEL		/* product linux, category file_delete */
};
/* MM_SIGMA_SRC_LINUX_LOG: which lines the service admits */
enum mm_sigma_svc {
	MM_SIGMA_SVC_ANY = 0,	/* syslog, or no service: every log line */
	MM_SIGMA_SVC_AUTH,	/* sshd, sudo, su, useradd, passwd, login, ... */
	MM_SIGMA_SVC_SSHD,
	MM_SIGMA_SVC_SUDO,
	MM_SIGMA_SVC_CRON,
	/* services whose programs log to syslog (their lines are generic
	 * MM_HOST_LINE events, admitted by program name) */
	MM_SIGMA_SVC_VSFTPD,	/* vsftpd (syslog_enable=YES) */
	MM_SIGMA_SVC_CLAMAV,	/* clamd, freshclam, clamav-milter, clamonacc */
	MM_SIGMA_SVC_GUACAMOLE	/* guacd */
};

enum mm_sigma_corr_type {
	MM_SIGMA_EVENT_COUNT = 0,
	MM_SIGMA_VALUE_COUNT,
	MM_SIGMA_TEMPORAL,
	MM_SIGMA_TEMPORAL_ORDERED
};

/* A correlation rule's correlation section (Sigma v2). Strings are the
 * rule's. The condition is kept as "count >= min" (gt N is gte N+1):
 * only conditions that more events can never make false are run, so a
 * finding once raised stays true whatever arrives later (lt, lte, eq,
 * neq and ranges are reported unsupported). */
struct mm_sigma_corr {
	enum mm_sigma_corr_type type;
	int nrules;
	char *ref[MM_SIGMA_CORR_RULES];		/* a rule's name or id, as written */
	int rule[MM_SIGMA_CORR_RULES];		/* index in the set (mm_sigma_set_build) */
	int ngroup;
	char *group[MM_SIGMA_CORR_GROUP];	/* group-by names as written */
	/* the field each referenced rule's events give for each group-by
	 * name (an alias resolved, else the name itself); set by build */
	const char *gfield[MM_SIGMA_CORR_GROUP][MM_SIGMA_CORR_RULES];
	int nfield;
	char *field[MM_SIGMA_CORR_FIELDS];	/* value_count: the values counted */
	int64_t timespan_ms;
	uint64_t min;
	int generate;		/* the referenced rules also raise their own findings */
	int rules_line;		/* line of `rules:` (reasons found at build) */
	/* aliases: alias name, rule name, field (parallel arrays) */
	int nalias;
	char **alias, **alias_rule, **alias_field;
};

/* A loaded rule. Every string is owned by the rule (NUL-terminated, NULL
 * when the rule does not say). */
struct mm_sigma_rule {
	enum mm_sigma_status status;
	char reason[512];	/* "file:line: why" when not OK */
	char *file;
	char *title, *id, *status_text, *level, *description, *author;
	char *product, *service, *category;
	char *name;		/* the correlation name other rules refer to it by */
	char *license;		/* the rule's license field, if it has one */
	char *reference;	/* its first reference (a URL) */
	char **tags;
	int ntags;
	int line;		/* line of the title */
	int doc;		/* 0-based YAML document of the file */
	struct mm__sigma_det *det;	/* NULL unless status is OK (detection rules) */
	struct mm_sigma_corr *corr;	/* a correlation rule: its section (else NULL) */
	int emit;		/* raises findings of its own (set: 0 when only a
				 * correlation without generate uses it) */
	void *pool;		/* every allocation of the rule, freed at once */
	size_t bytes;
	uint8_t src;		/* enum mm_sigma_src (meaningful when status is OK) */
	uint8_t svc;		/* enum mm_sigma_svc (src LINUX_LOG) */
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
/* Every YAML document of buf as a rule (a file may hold a correlation and
 * the rules it names): calls each(ctx, rule) for each in order, handing
 * over the rule (each frees it, or keeps it). A document that is not
 * valid YAML gives a BROKEN rule and ends the file. Returns 0, or
 * MM_ENOMEM (what was handed over stays handed over). */
int mm_sigma_load_docs(const char *name, const char *buf, size_t n,
		       int (*each)(void *ctx, struct mm_sigma_rule *r), void *ctx);

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

/* ---- rule sets ------------------------------------------------------------ */

struct mm_sigma_set {
	struct mm_sigma_rule **r;	/* every rule loaded, in load order (owned) */
	int n, cap;
	int nok, nunsupported, nbroken;	/* after build */
	int built;
	/* after build: the index (sigma.c) and, per rule, the correlations
	 * that name it (corr_of[i][0..ncorr_of[i])) */
	void *index;
	int **corr_of;
	int *ncorr_of;
	int ncorr;			/* OK correlation rules */
};

/* Caller-allocated; init never allocates. */
void mm_sigma_set_init(struct mm_sigma_set *s);
void mm_sigma_set_free(struct mm_sigma_set *s);
/* Load every rule document of path: a file, or every *.yml / *.yaml under
 * a folder (name order, symlinked folders inside not followed). 0, or
 * MM_EIO (unreadable path, no rule file at all; err says which) or
 * MM_ENOMEM. Rules that are not OK are kept in the set with their
 * verdict: the caller reports them after mm_sigma_set_build. */
int mm_sigma_set_add_path(struct mm_sigma_set *s, const char *path, struct mm_err *err);
/* Add the documents of one buffer (tests). */
int mm_sigma_set_add_buf(struct mm_sigma_set *s, const char *name, const char *buf, size_t n);
/* Resolve correlations (a name or id no rule has: broken; a rule that
 * cannot run or another correlation: unsupported), count the verdicts and
 * build the index. Once, after the last add. 0 or MM_ENOMEM. */
int mm_sigma_set_build(struct mm_sigma_set *s);

/* Run the set's detection rules on one CloudTrail event: a its parsed
 * fields, raw its JSON object. Only the rules the index admits for a's
 * eventName, eventSource, userAgent and userIdentity.type are evaluated;
 * fields the parser has read are taken from a (when not empty), the
 * record is scanned only for others. The set indexes of the matching
 * rules go to hits (at most cap, in set order); returns how many matched
 * (all of them, even past cap). A raw that is not a JSON object matches
 * what the parsed fields alone match. */
int mm_sigma_set_match(const struct mm_sigma_set *s, const struct mm_api *a, struct mm_str raw,
		       struct mm_sigma_scratch *sc, int *hits, int cap);
/* How many rules the index would evaluate for a: tests and the
 * measurements in docs/internals/sigma.md. */
int mm_sigma_set_candidates(const struct mm_sigma_set *s, const struct mm_api *a);

/* ---- host events ------------------------------------------------------------
 *
 * Linux rules run on host events (MM_EV_HOST) through a view of the event:
 * a JSON object holding the Sigma field names the event's kind gives
 * (Image, CommandLine, ParentImage, User, DestinationIp, TargetFilename,
 * ...; docs/internals/sigma.md has the table) and struct mm_host's own
 * members under their host-event JSON names (host, user, remote, ...), so
 * every matcher, modifier and correlation group-by works on it unchanged.
 * Keywords search the event's message: ev->raw, the log line as read. */

#define MM_SIGMA_HOST_VIEW_MAX (128u << 10)	/* bytes of a view */
#define MM_SIGMA_HOST_VALUE_MAX (32u << 10)	/* bytes of one value in it (cut beyond) */

/* Does rule r's log source cover host event ev (kind MM_EV_HOST)? */
int mm_sigma_host_applies(const struct mm_sigma_rule *r, const struct mm_event *ev);
/* Write ev's view (a JSON object) into out (cap bytes, at most
 * MM_SIGMA_HOST_VIEW_MAX used); returns its length (0 when ev is not a
 * host event or cap is under 2). Values that would not fit are left out. */
size_t mm_sigma_host_view(const struct mm_event *ev, char *out, size_t cap);
/* Does rule r (OK) match host event ev? 1, 0 (also when its log source
 * does not cover ev). */
int mm_sigma_match_host(const struct mm_sigma_rule *r, const struct mm_event *ev,
			struct mm_sigma_scratch *s);
/* The set's host rules on host event ev, as mm_sigma_set_match does for
 * CloudTrail: matching rule indexes into hits (set order, at most cap);
 * returns how many matched. CloudTrail rules are never run on host events
 * nor host rules on CloudTrail events. */
int mm_sigma_set_match_host(const struct mm_sigma_set *s, const struct mm_event *ev,
			    struct mm_sigma_scratch *sc, int *hits, int cap);

/* The values of the dotted field `field` in the JSON object raw, as text
 * (strings unescaped; several values, from arrays, joined by ","), into
 * out (cap bytes with the NUL; cut when longer). Returns the number of
 * values found (0: absent or null). */
int mm_sigma_field_text(struct mm_str raw, const char *field, struct mm_sigma_scratch *sc, char *out,
			size_t cap);

#endif
