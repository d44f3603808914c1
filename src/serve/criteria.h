/* criteria.h - GuardDuty's FindingCriteria, compiled once and matched on
 * stored findings' JSON.
 *
 * The API's ListFindings, GetFindingsStatistics and filters (suppression
 * rules) all take
 *   {"criterion": {"FIELD": {"eq": ["a","b"], "gte": 7, ...}, ...}}
 * FIELD is a dotted path into the finding JSON ("type", "severity",
 * "service.archived", "resource.instanceDetails.instanceId"); an array on
 * the way fans out, so a condition holds when ANY element's value does
 * (GuardDuty's behaviour for networkInterfaces, tags and the like).
 * Conditions on one field and across fields are ANDed. Operators, as in
 * botocore's model: eq / equals (value is one of the list), neq /
 * notEquals (value is none of them; also true when the field is absent),
 * gt gte lt lte / greaterThan greaterThanOrEqual lessThan lessThanOrEqual
 * (numbers; ISO-8601 time strings compare as epoch milliseconds, the unit
 * GuardDuty's time criteria use), matches / notMatches (glob: '*' any run,
 * '?' one character). Numbers compare as numbers when both sides are
 * numeric ("8" eq 8.0). */
#ifndef MM_CRITERIA_H
#define MM_CRITERIA_H

#include <stddef.h>

#include "core/err.h"

#define MM_CRIT_MAX_CONDS 64	/* conditions in one criteria object */
#define MM_CRIT_MAX_VALUES 50	/* values in one eq/neq/matches list (GuardDuty's cap) */
#define MM_CRIT_MAX_PATH 256	/* bytes in a field path */

struct mm_criteria;	/* opaque */

/* Compile a FindingCriteria JSON object (the value of "findingCriteria"),
 * e.g. {"criterion": {...}}. An empty object or "criterion": {} matches
 * everything. MM_EINVAL with the reason in err ("criterion 'severity':
 * 'gte' takes a number") for anything else GuardDuty would refuse. */
int mm_criteria_compile(const char *json, size_t n, struct mm_criteria **out, struct mm_err *err);
void mm_criteria_free(struct mm_criteria *c);
/* 1 if the finding (its GuardDuty JSON) satisfies every condition, 0 if
 * not, negative if the finding JSON is malformed. */
int mm_criteria_match(const struct mm_criteria *c, const char *json, size_t n);
/* Number of conditions (0: matches all). */
size_t mm_criteria_count(const struct mm_criteria *c);

/* A sort key for attribute path (SortCriteria.attributeName) taken from
 * the finding JSON: numbers (and ISO times, as epoch ms) as *num with
 * return 1, anything else copied into str (truncated) with return 2, 0
 * when the field is absent, negative on malformed JSON. */
int mm_criteria_sort_key(const char *path, const char *json, size_t n, double *num, char *str,
			 size_t cap);


/* The compiled conditions, read back for pushing them down to SQL
 * (the API's indexed columns). Operators as compiled (synonyms folded). */
enum mm_crit_op {
	MM_CRIT_EQ, MM_CRIT_NEQ, MM_CRIT_GT, MM_CRIT_GTE, MM_CRIT_LT, MM_CRIT_LTE, MM_CRIT_MATCH,
	MM_CRIT_NOMATCH
};
struct mm_crit_cond {
	const char *path;		/* borrowed from c */
	enum mm_crit_op op;
	double num;			/* gt/gte/lt/lte */
	const char *const *vals;	/* eq/neq/matches lists, borrowed */
	int nvals;
};
/* Condition i (< mm_criteria_count) into *out. */
void mm_criteria_cond(const struct mm_criteria *c, size_t i, struct mm_crit_cond *out);

#endif
