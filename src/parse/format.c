/* format.c - format detection from a file's first line(s). */
#include "parse/format.h"

#include <string.h>

#include "core/common.h"
#include "core/err.h"
#include "parse/cloudtrail.h"
#include "parse/ctwrap.h"
#include "parse/flowlog.h"
#include "parse/hostjson.h"
#include "parse/route53.h"

const char *mm_format_name(enum mm_format f)
{
	switch (f) {
	case MM_FMT_EMPTY: return "empty";
	case MM_FMT_FLOW: return "VPC flow logs";
	case MM_FMT_DNS: return "Route 53 resolver query logs";
	case MM_FMT_CT_DOC: return "CloudTrail (S3 file)";
	case MM_FMT_CT_LINES: return "CloudTrail (JSON lines)";
	case MM_FMT_CT_DIGEST: return "CloudTrail digest";
	case MM_FMT_CT_STREAM: return "CloudTrail (JSON document)";
	case MM_FMT_HOSTJSON: return "host events (JSON lines)";
	default: return "unknown";
	}
}

int mm_source_parse(const char *word, enum mm_source *out)
{
	if (!strcmp(word, "flow") || !strcmp(word, "vpcflow"))
		*out = MM_SRC_FLOW;
	else if (!strcmp(word, "cloudtrail"))
		*out = MM_SRC_CLOUDTRAIL;
	else if (!strcmp(word, "dns") || !strcmp(word, "route53"))
		*out = MM_SRC_DNS;
	else if (!strcmp(word, "auto"))
		*out = MM_SRC_AUTO;
	else
		return MM_EINVAL;
	return 0;
}

static int has(const char *p, size_t n, const char *needle)
{
	return memmem(p, n, needle, strlen(needle)) != NULL;
}

/* Does the head name a CloudTrail field or wrapper? (pretty-printed
 * documents spread a record over lines, so the whole head is looked at) */
static int ct_marked(const char *p, size_t n)
{
	return has(p, n, "\"eventVersion\"") || has(p, n, "\"eventSource\"") ||
	       has(p, n, "\"eventTime\"") || has(p, n, "\"CloudTrailEvent\"") ||
	       has(p, n, "\"EventId\"") || has(p, n, "via CloudTrail\"") ||
	       has(p, n, "\"QueryResultRows\"");
}

/* A *.hostevents.jsonl name (or .gz of one)? */
static int hostjson_name(const char *path)
{
	static const char suf[] = ".hostevents.jsonl";
	size_t n = path ? strlen(path) : 0, k = sizeof(suf) - 1;
	if (n > 3 && memcmp(path + n - 3, ".gz", 3) == 0)
		n -= 3;
	return n > k && memcmp(path + n - k, suf, k) == 0;
}

/* The verdict of one line (no '\n'), or MM_FMT_UNKNOWN. */
static enum mm_format line_format(const char *line, size_t ln, enum mm_source forced)
{
	while (ln && (line[0] == ' ' || line[0] == '\t'))
		line++, ln--;
	while (ln && (line[ln - 1] == '\r' || line[ln - 1] == ' ' || line[ln - 1] == '\t'))
		ln--;
	if (ln == 0)
		return MM_FMT_UNKNOWN;
	if (line[0] == '{') {
		if (forced == MM_SRC_FLOW)
			return MM_FMT_FLOW;
		if (forced == MM_SRC_DNS)
			return MM_FMT_DNS;
		if (forced == MM_SRC_CLOUDTRAIL)
			return MM_FMT_CT_LINES;
		if (mm_hostjson_looks_like(line, ln))
			return MM_FMT_HOSTJSON;
		if (mm_dns_looks_like(line, ln))
			return MM_FMT_DNS;
		if (has(line, ln, "\"eventVersion\"") ||
		    (has(line, ln, "\"eventSource\"") && has(line, ln, "\"eventName\"")))
			return MM_FMT_CT_LINES;
		if (mm_flow_classify(line, ln) != MM_FLOW_LINE_NONE)
			return MM_FMT_FLOW;
		return MM_FMT_UNKNOWN;
	}
	if (forced == MM_SRC_FLOW)
		return MM_FMT_FLOW;
	if (forced)
		return MM_FMT_UNKNOWN;
	if (mm_flow_classify(line, ln) != MM_FLOW_LINE_NONE)
		return MM_FMT_FLOW;
	return MM_FMT_UNKNOWN;
}

enum mm_format mm_format_detect(const char *path, const char *head, size_t n,
				enum mm_source forced)
{
	size_t i = 0, ln;
	const char *line, *nl;
	int k;

	if (n >= 3 && (unsigned char)head[0] == 0xef && (unsigned char)head[1] == 0xbb &&
	    (unsigned char)head[2] == 0xbf)
		i = 3; /* UTF-8 BOM */
	while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
		i++;
	if (i == n)
		return MM_FMT_EMPTY;
	line = head + i;

	/* the host agent's spool files say what they are by name */
	if (!forced && hostjson_name(path) && line[0] == '{')
		return MM_FMT_HOSTJSON;
	/* whole-document shapes are decided by the start of the stream */
	if (line[0] == '{') {
		size_t j = 1;
		/* {"Records":[ ... ]}: the first key decides */
		while (i + j < n && (line[j] == ' ' || line[j] == '\t' || line[j] == '\r' ||
				     line[j] == '\n'))
			j++;
		if (i + j + 9 <= n && memcmp(line + j, "\"Records\"", 9) == 0)
			return forced && forced != MM_SRC_CLOUDTRAIL ? MM_FMT_UNKNOWN : MM_FMT_CT_DOC;
		if (mm_ct_is_digest(line, n - i))
			return MM_FMT_CT_DIGEST;
	}
	/* an array, a pretty-printed document, lookup-events or Lake output:
	 * the walker of parse/ctwrap.h (one compact value a line stays a
	 * line format, which splits and streams) */
	if ((!forced || forced == MM_SRC_CLOUDTRAIL) && mm_ctw_detect(line, n - i) &&
	    (forced || ct_marked(line, n - i)))
		return MM_FMT_CT_STREAM;

	/* Line formats: the first line that says what it is wins, among the
	 * first MM_FORMAT_HEAD_LINES. A damaged first line (binary garbage,
	 * a record cut short) does not hide the good lines after it. The
	 * last line of the head counts only when no '\n' ends it and it is
	 * the first (the head may cut a line short, and a guess from half a
	 * line is worse than none). */
	for (k = 0; k < MM_FORMAT_HEAD_LINES && line < head + n; k++) {
		enum mm_format f;
		nl = memchr(line, '\n', (size_t)(head + n - line));
		ln = nl ? (size_t)(nl - line) : (size_t)(head + n - line);
		if (nl || k == 0) {
			f = line_format(line, ln, forced);
			if (f != MM_FMT_UNKNOWN)
				return f;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	(void)path;
	return MM_FMT_UNKNOWN;
}
