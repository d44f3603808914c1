/* format.h - which log format a file holds, decided from its first bytes
 * (content first; the S3 key's service folder only breaks ties). */
#ifndef MM_FORMAT_H
#define MM_FORMAT_H

#include <stddef.h>

enum mm_format {
	MM_FMT_UNKNOWN = 0,
	MM_FMT_EMPTY,		/* nothing but whitespace */
	MM_FMT_FLOW,		/* VPC Flow Logs (plain or CloudWatch-wrapped lines) */
	MM_FMT_DNS,		/* Route 53 Resolver query logs */
	MM_FMT_CT_DOC,		/* CloudTrail S3 file {"Records":[...]} */
	MM_FMT_CT_LINES,	/* CloudTrail, one event a line */
	MM_FMT_CT_DIGEST,	/* CloudTrail digest (skipped) */
	MM_FMT_CT_STREAM,	/* CloudTrail in another wrapper: an array, pretty-printed
				 * JSON, lookup-events, EventBridge, Lake (parse/ctwrap.h) */
	MM_FMT_HOSTJSON		/* host events, JSON lines (parse/hostjson.h) */
};

/* Source families for --source. */
enum mm_source { MM_SRC_AUTO = 0, MM_SRC_FLOW, MM_SRC_CLOUDTRAIL, MM_SRC_DNS };

const char *mm_format_name(enum mm_format f);
/* "flow", "cloudtrail", "dns"; 0 or MM_EINVAL. */
int mm_source_parse(const char *word, enum mm_source *out);
/* Lines of the head looked at: the first that is recognisably one
 * format decides, so a damaged first line does not hide the rest. */
#define MM_FORMAT_HEAD_LINES 16

/* Decide from the first bytes of the (decompressed) stream (give it a
 * few lines: mm_lines_peek fills up to MM_FORMAT_HEAD_LINES). A
 * {"Records":...} document or a digest is decided by the stream's start;
 * line formats by the first of the first MM_FORMAT_HEAD_LINES lines that
 * is recognisably one (a flow log header line counts: it is a flow
 * line). With a forced source, only the shape within that family is
 * decided. */
enum mm_format mm_format_detect(const char *path, const char *head, size_t n,
				enum mm_source forced);

#endif
