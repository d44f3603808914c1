/* ctwrap.h - CloudTrail events inside the wrappers users actually have,
 * besides the S3 {"Records":[...]} file (parse/cloudtrail.h keeps that
 * fast path) and one event a line:
 *
 *   - a bare JSON array of events, compact or pretty-printed;
 *   - a JSON stream: values one after another (JSON lines, `jq .` output,
 *     one pretty-printed event, concatenated documents), each value any
 *     of the shapes here, arrays and wrapper objects nested up to
 *     MM_CTW_MAX_NEST deep;
 *   - `aws cloudtrail lookup-events` output {"Events":[{..., "CloudTrailEvent":
 *     "<the event as a JSON string>"}], "NextToken":...}, pages appended;
 *   - EventBridge events {"detail-type":"AWS API Call via CloudTrail",
 *     ..., "detail":{<the event>}} (any detail-type "... via CloudTrail";
 *     other EventBridge events are skipped, MM_ESKIP);
 *   - CloudTrail Lake `aws cloudtrail get-query-results` output
 *     {"QueryStatus":..., "QueryResultRows":[[{"eventVersion":"..."},
 *     {"userIdentity":"{type=IAMUser, principalid=...}"}, ...], ...]}: the
 *     record is rebuilt from the row's columns (names matched without
 *     regard to case; struct values in Lake's "{key=value, ...}" rendering
 *     or as JSON text).
 *
 * A wrapper object is told by its first key (Records, Events,
 * QueryResultRows, QueryStatus, QueryStatistics, NextToken, ErrorMessage),
 * an EventBridge event or a lookup-events Event by its keys once the bare
 * event parse failed. The event handed out is the same struct mm_event
 * whatever the wrapper.
 *
 * ev->raw: the record's own JSON. It points into the input when the record
 * is there as text (a bare event, an EventBridge detail); a lookup-events
 * string is decoded, and a Lake row rebuilt, into the scratch arena, so raw
 * and every slice of the event live until the arena is reset (the next
 * record). Such records are bounded by the arena's room (the pipeline's is
 * 1 MiB; AWS caps an event at 256 KB). */
#ifndef MM_CTWRAP_H
#define MM_CTWRAP_H

#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/event.h"

#define MM_CTW_MAX_NEST 6	/* stream > array > wrapper > array > ... */

/* One item that should hold one CloudTrail event, the object at p
 * (p[0] == '{'), ending at or before end: a bare event, an EventBridge
 * "... via CloudTrail" event or a lookup-events Event. 0 with *ev (raw
 * set) and *after past the object; MM_ESKIP for an EventBridge event not
 * from CloudTrail (*after set); MM_EPARSE with a reason (*after past the
 * object when it was well-formed JSON, NULL when it was not); MM_ETRUNC
 * when the input ends inside the object (*after NULL). */
int mm_ctw_parse_item(const char *p, const char *end, struct mm_arena *scratch,
		      struct mm_event *ev, struct mm_err *err, const char **after);
/* The same, also telling where the record starts in the input (*rec, set
 * whenever *after is): the object itself, its EventBridge detail, or the opening
 * quote of its CloudTrailEvent string (ev->raw is then the decoded copy). */
int mm_ctw_parse_item_at(const char *p, const char *end, struct mm_arena *scratch,
			 struct mm_event *ev, struct mm_err *err, const char **after,
			 const char **rec);

/* One CloudTrail Lake result row at p (p[0] == '['), rebuilt into a
 * record in scratch and parsed. Returns as mm_ctw_parse_item. */
int mm_ctw_parse_row(const char *p, const char *end, struct mm_arena *scratch,
		     struct mm_event *ev, struct mm_err *err, const char **after);

struct mm_ctw_level {
	uint8_t kind;	/* stream, array, wrapper object */
	uint8_t rows;	/* an array of Lake rows */
	uint8_t first;	/* no element taken yet */
};

/* Iterator over a whole document held in memory (buf borrowed; it must
 * outlive the iterator). Caller-allocated; never allocates. */
struct mm_ctw {
	const char *buf, *p, *end;
	uint64_t line;		/* 1-based line of line_at */
	const char *line_at;
	int depth;		/* levels in use (>= 1 until done) */
	int done;
	struct mm_ctw_level lv[MM_CTW_MAX_NEST];
};

void mm_ctw_init(struct mm_ctw *w, const char *buf, size_t n);
/* Next event: 1 with *ev (scratch reset first; ev->raw set), *line and
 * *offset where the record starts in buf (an EventBridge detail, a
 * lookup-events CloudTrailEvent string, a Lake row); 0 at the end;
 * MM_ESKIP for an item skipped (a non-CloudTrail EventBridge event; call
 * again); MM_EPARSE for a bad record, err saying why and *line and *offset
 * where (the iterator has moved past it or resynchronised; call again);
 * MM_ETRUNC when the document ends early (stop). */
int mm_ctw_next_event(struct mm_ctw *w, struct mm_arena *scratch, struct mm_event *ev,
		      uint64_t *line, uint64_t *offset, struct mm_err *err);
/* Bytes of buf consumed so far (after the last record handed out). */
static inline uint64_t mm_ctw_offset(const struct mm_ctw *w) { return (uint64_t)(w->p - w->buf); }

/* Does a stream that starts at head (n bytes, first non-blank byte at
 * head[0] being '{' or '[') hold one of the shapes above rather than one
 * compact event a line? Decided from the first key and the first line's
 * shape; 1 or 0. */
int mm_ctw_detect(const char *head, size_t n);

#endif
