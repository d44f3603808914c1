/* test_format.c - format detection: a damaged first line (binary garbage,
 * a record cut short) does not hide the good lines after it; a header
 * line still decides; whole-document shapes keep being decided by the
 * stream's start; the look-ahead is bounded. */
#include <stdlib.h>

#include "core/mem.h"
#include "mmtest.h"
#include "parse/format.h"

#define FLOW_REC "2 123456789012 eni-0bad00000000000a1 10.1.2.3 198.51.100.23 41000 22 6 10 840 " \
		 "1714557600 1714557660 ACCEPT OK\n"
#define FLOW_HDR "version account-id interface-id srcaddr dstaddr srcport dstport protocol " \
		 "packets bytes start end action log-status\n"
#define DNS_REC "{\"version\":\"1.100000\",\"account_id\":\"123456789012\",\"region\":\"us-east-1\"," \
		"\"vpc_id\":\"vpc-1\",\"query_timestamp\":\"2024-05-01T10:00:00Z\",\"query_name\":"    \
		"\"www.example.\",\"query_type\":\"A\",\"query_class\":\"IN\",\"rcode\":\"NOERROR\","  \
		"\"answers\":[],\"srcaddr\":\"10.1.2.3\",\"srcport\":\"5353\",\"transport\":\"UDP\","  \
		"\"srcids\":{\"instance\":\"i-0bad0000000000001\"}}\n"
#define CT_REC "{\"eventVersion\":\"1.08\",\"eventTime\":\"2021-01-01T00:00:00Z\",\"eventSource\":" \
	       "\"ec2.amazonaws.com\",\"eventName\":\"RunInstances\"}\n"

/* detect from an exact-size heap copy (ASan sees over-reads) */
static enum mm_format det(const char *s, size_t n, enum mm_source forced)
{
	char *b = mm_malloc(n ? n : 1);
	enum mm_format f;
	memcpy(b, s, n);
	f = mm_format_detect("x.log", b, n, forced);
	mm_free(b);
	return f;
}

#define DET(s) det(s, sizeof(s) - 1, MM_SRC_AUTO)

MM_TEST(clean_heads)
{
	CHECK_EQ_INT(DET(FLOW_HDR FLOW_REC), MM_FMT_FLOW);
	CHECK_EQ_INT(DET(FLOW_REC FLOW_REC), MM_FMT_FLOW);
	CHECK_EQ_INT(DET(DNS_REC DNS_REC), MM_FMT_DNS);
	CHECK_EQ_INT(DET(CT_REC CT_REC), MM_FMT_CT_LINES);
	CHECK_EQ_INT(DET("{\n  \"Records\": [\n" CT_REC "]}\n"), MM_FMT_CT_DOC);
	CHECK_EQ_INT(DET(" \n\r\n\t"), MM_FMT_EMPTY);
	CHECK_EQ_INT(DET("hello world\nthis is prose\n"), MM_FMT_UNKNOWN);
	/* a custom header (fields in another order) is a flow line itself */
	CHECK_EQ_INT(DET("srcaddr dstaddr action\n10.0.0.1 10.0.0.2 ACCEPT\n"), MM_FMT_FLOW);
}

MM_TEST(damaged_first_line_does_not_hide_the_rest)
{
	/* binary garbage */
	CHECK_EQ_INT(DET("\x01\xff\xfe garbage \x7f\x80\n" FLOW_REC FLOW_REC), MM_FMT_FLOW);
	CHECK_EQ_INT(DET("\x1f\x8b\x08\x00\x00\n" FLOW_HDR FLOW_REC), MM_FMT_FLOW);
	/* a record cut short (a file appended to while being copied) */
	CHECK_EQ_INT(DET("2 123456789012 eni-0a\n" FLOW_REC), MM_FMT_FLOW);
	CHECK_EQ_INT(DET("{\"version\":\"1.1000\",\"account_id\":\"1234\n" DNS_REC), MM_FMT_DNS);
	CHECK_EQ_INT(DET("{\"eventVer\n" CT_REC), MM_FMT_CT_LINES);
	CHECK_EQ_INT(DET("@@@@\n\n   \n" CT_REC), MM_FMT_CT_LINES);
	/* forced source: the first line of that family decides */
	CHECK_EQ_INT(det("garbage\n" CT_REC, sizeof("garbage\n" CT_REC) - 1, MM_SRC_CLOUDTRAIL),
		     MM_FMT_CT_LINES);
}

MM_TEST(look_ahead_is_bounded_and_whole_lines_only)
{
	char b[4096];
	size_t n = 0;
	int i;

	for (i = 0; i < MM_FORMAT_HEAD_LINES; i++)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "junk line %d\n", i);
	n += (size_t)snprintf(b + n, sizeof(b) - n, "%s", FLOW_REC);
	CHECK_EQ_INT(det(b, n, MM_SRC_AUTO), MM_FMT_UNKNOWN);
	/* one junk line fewer: the record is within reach */
	CHECK_EQ_INT(det(b + strlen("junk line 0\n"), n - strlen("junk line 0\n"), MM_SRC_AUTO),
		     MM_FMT_FLOW);
	/* after a damaged first line, a last line the head cut short does not count */
	CHECK_EQ_INT(DET("garbage\n2 123456789012 eni-0bad00000000000a1 10.1.2.3 198.51.100.23 41000 22 6"),
		     MM_FMT_UNKNOWN);
	/* but a whole head that is one unterminated line does (a one-line file) */
	CHECK_EQ_INT(det(FLOW_REC, sizeof(FLOW_REC) - 2, MM_SRC_AUTO), MM_FMT_FLOW);
}
