/* flowlog.h - VPC Flow Logs parser (versions 2-5 fields, custom formats,
 * Transit Gateway flow logs, ECS fields v7-v8, CloudWatch "message" wrap).
 *
 * A format maps column positions to fields. It comes from the file's
 * header line ("version account-id interface-id ...") or, for headerless
 * files, from the field count of the line (AWS's documented all-fields
 * order: 14 = v2 default, 21 = through v3, 25 = v4, 29 = v5, 39 = v7 ECS,
 * 40 = v8; Transit Gateway's default layout is recognised by its
 * resource-type column). Parsing never allocates: the event's slices
 * point into the line, or into the scratch arena for unwrapped
 * CloudWatch messages. */
#ifndef MM_FLOWLOG_H
#define MM_FLOWLOG_H

#include "core/arena.h"
#include "core/err.h"
#include "core/event.h"

/* start/end beyond this (9999-12-31T23:59:59Z, in epoch seconds) are not
 * times: the record is malformed (and milliseconds stay in int64_t). */
#define MM_FLOW_MAX_TIME 253402300799ULL

#define MM_FLOW_MAX_FIELDS 64
#define MM_FLOW_MAX_LINE 8192

struct mm_flow_fmt {
	int nfields;		/* 0 = not set: decide per line by field count */
	uint8_t field[MM_FLOW_MAX_FIELDS];	/* internal field ids */
	int tgw;		/* Transit Gateway layout */
};

/* What a line looks like: MM_FLOW_LINE_HEADER ("version ..."), _RECORD
 * (a flow record, headerless or after a header), _WRAPPED (a CloudWatch
 * {"message": "..."} line), or 0 (not a flow log line). Cheap; used by
 * format detection. */
enum { MM_FLOW_LINE_NONE = 0, MM_FLOW_LINE_HEADER, MM_FLOW_LINE_RECORD, MM_FLOW_LINE_WRAPPED };
int mm_flow_classify(const char *line, size_t n);

/* Build a format from a header line. Unknown or duplicate field names are
 * an error (MM_EPARSE with the name in err) and leave *fmt unchanged.
 * Never allocates. */
int mm_flow_fmt_header(struct mm_flow_fmt *fmt, const char *line, size_t n, struct mm_err *err);
/* The "decide by field count" format. */
void mm_flow_fmt_auto(struct mm_flow_fmt *fmt);

/* Parse one record line into ev (kind MM_EV_FLOW; loc is left for the
 * caller). line is borrowed and need not be NUL-terminated; surrounding
 * blanks and a trailing CR/LF are ignored; fields are separated by runs of
 * blanks. ev's slices point into line (or into scratch for a CloudWatch
 * message that had JSON escapes; scratch may be NULL, then only
 * escape-free messages unwrap). "-" fields are absent (empty / zero;
 * tcp_flags -1). has_addrs/has_ports/has_pkt_addrs say both ends were
 * logged (NODATA/SKIPDATA records normally have none; that is no error).
 * A header line (first token a field name, also "${name}") replaces *fmt
 * in place (fmt may be NULL: then the header is only validated) and
 * returns MM_ESKIP; a blank line returns MM_ESKIP too. Otherwise 0, or
 * MM_EPARSE with a reason in err ("bad srcport 'abc'", "flow log record
 * has 13 fields, header has 21", ...). fmt with nfields == 0 means auto:
 * the layout is chosen per line by the field count. Never allocates. */
int mm_flow_parse(struct mm_flow_fmt *fmt, const char *line, size_t n, struct mm_arena *scratch,
		  struct mm_event *ev, struct mm_err *err);

/* Internal (tests and fuzzing): non-zero forces the general parser, so a
 * differential test can check the default-layout fast path against it. */
extern int mm__flow_no_fast_path;

#endif
