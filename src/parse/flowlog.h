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

/* Build a format from a header line. Unknown field names are an error
 * (MM_EPARSE with the name in err). Never allocates. */
int mm_flow_fmt_header(struct mm_flow_fmt *fmt, const char *line, size_t n, struct mm_err *err);
/* The "decide by field count" format. */
void mm_flow_fmt_auto(struct mm_flow_fmt *fmt);

/* Parse one record line into ev (kind MM_EV_FLOW; loc is left for the
 * caller). A wrapped CloudWatch line is unwrapped into scratch first.
 * Returns 0, MM_ESKIP for a header line met mid-file (the caller may pass
 * a fresh fmt; fmt is updated in place when it is not const-auto), or
 * MM_EPARSE with a reason in err. */
int mm_flow_parse(struct mm_flow_fmt *fmt, const char *line, size_t n, struct mm_arena *scratch,
		  struct mm_event *ev, struct mm_err *err);

#endif
