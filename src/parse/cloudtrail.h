/* cloudtrail.h - CloudTrail records: S3 log files ({"Records":[...]}),
 * one event per line (CloudTrail Lake / EventBridge exports / CloudWatch),
 * and digest files (recognised so they can be skipped).
 *
 * Records are parsed on demand with core/json.h: nothing is allocated;
 * strings that needed unescaping go to the scratch arena. */
#ifndef MM_CLOUDTRAIL_H
#define MM_CLOUDTRAIL_H

#include "core/arena.h"
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"

#define MM_CT_MAX_RECORD (4u << 20)	/* one event; AWS caps events at 256 KB */

/* Parse one CloudTrail event object (the value, already scanned) into ev
 * (kind MM_EV_API). 0 or MM_EPARSE with a reason. Unknown userIdentity
 * types are kept as they are. */
int mm_ct_parse_value(const struct mm_json_val *obj, struct mm_arena *scratch, struct mm_event *ev,
		      struct mm_err *err);
/* Parse the event object that starts at p (p[0] == '{') and ends at or
 * before end, in one pass; *after is set past its closing brace. The
 * building block of the wrappers in parse/ctwrap.h. */
int mm_ct_parse_at(const char *p, const char *end, struct mm_arena *scratch, struct mm_event *ev,
		   struct mm_err *err, const char **after);
/* Parse one line holding one event object, or one wrapped event
 * (parse/ctwrap.h: an EventBridge "... via CloudTrail" event, a
 * lookup-events Event with its CloudTrailEvent string). Sets ev->raw to
 * the record's own JSON (the object on the line, the EventBridge detail,
 * or the decoded string in scratch). */
int mm_ct_parse_line(const char *line, size_t n, struct mm_arena *scratch, struct mm_event *ev,
		     struct mm_err *err);

/* Whether the parses on this thread keep the record's top-level members
 * in the event (api->top_keys, for the Sigma matcher; on by default).
 * A thread whose events meet no Sigma rule turns it off: the matcher
 * walks a record without them, so this only saves the copying. */
void mm_ct_keep_top(int on);

/* Iterator over the Records array of an S3 CloudTrail file held whole in
 * memory (buf is borrowed and must outlive the iterator). */
struct mm_ct_doc {
	const char *buf, *p, *end;
	uint64_t line;		/* 1-based line of p */
	const char *line_at;	/* position line was counted to */
	const char *nl;		/* no newline in [line_at, nl): nl is the next one or
				 * where the search stopped; NULL: not looked for */
	const char *pf;		/* bytes before this were prefetched */
	int state;
};

/* 0, or MM_EFORMAT if buf is not {"Records":[...]}. */
int mm_ct_doc_init(struct mm_ct_doc *d, const char *buf, size_t n, struct mm_err *err);
/* Next record: 1 with *rec, *line (line where the record starts) and
 * *offset (byte offset), 0 at the end, MM_EPARSE for a malformed element
 * (err says why, *line and *offset where; the iterator has resynchronised to
 * the next record if it could, so call again), MM_ETRUNC when the
 * document ends early (the records before were returned). */
int mm_ct_doc_next(struct mm_ct_doc *d, struct mm_json_val *rec, uint64_t *line, uint64_t *offset,
		   struct mm_err *err);

/* Next record, parsed: like mm_ct_doc_next followed by
 * mm_ct_parse_value, but in one pass over the record's bytes. 1 with *ev
 * filled (scratch reset first), 0 at the end, MM_EPARSE for a malformed
 * or invalid record (err says why; call again), MM_ETRUNC at an early
 * end. */
int mm_ct_doc_next_event(struct mm_ct_doc *d, struct mm_arena *scratch, struct mm_event *ev,
			 uint64_t *line, uint64_t *offset, struct mm_err *err);

/* True if a JSON document (or its first line) is a CloudTrail digest
 * file, which carries hashes, not events. */
int mm_ct_is_digest(const char *buf, size_t n);

/* Most top-level members the parser keeps for a record (struct mm_api's
 * top_*): Sigma reads a record's other fields through them instead of
 * indexing the record a second time. */
#define MM_CT_TOP_MAX 128

#endif
