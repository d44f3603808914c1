/* test_spool.c - syslog frames into the log line they carry. */
#include <string.h>

#include "mmtest.h"
#include "serve/spool.h"

static void split(const char *frame, char *tag, char *msg)
{
	const char *m;
	size_t n;
	mm_syslog_split(frame, strlen(frame), tag, 33, &m, &n);
	memcpy(msg, m, n);
	msg[n] = '\0';
}

MM_TEST(rfc3164_tag_and_message)
{
	char tag[33], msg[256];
	split("<14>Dec  5 16:00:00 ip-10-0-1-5 vpcflow[123]: 2 1234 eni-1 a b", tag, msg);
	CHECK_EQ_STR(tag, "vpcflow");
	CHECK_EQ_STR(msg, "2 1234 eni-1 a b");
	split("<86>Dec 15 09:01:02 host sshd: Accepted password for root\n", tag, msg);
	CHECK_EQ_STR(tag, "sshd");
	CHECK_EQ_STR(msg, "Accepted password for root");
	/* a local client sends no timestamp or host */
	split("<13>cloudtrail: {\"eventVersion\":\"1.08\"}", tag, msg);
	CHECK_EQ_STR(tag, "cloudtrail");
	CHECK_EQ_STR(msg, "{\"eventVersion\":\"1.08\"}");
}

MM_TEST(rfc5424_app_name_structured_data_bom)
{
	char tag[33], msg[256];
	split("<165>1 2026-12-05T16:00:00.003Z host.example flowtcp 42 ID47 - 2 123 eni-2", tag, msg);
	CHECK_EQ_STR(tag, "flowtcp");
	CHECK_EQ_STR(msg, "2 123 eni-2");
	split("<165>1 2026-12-05T16:00:00Z h app - - [ex@32473 a=\"x]y\" b=\"\\\"]\"][z@1 c=\"d\"] "
	      "\xEF\xBB\xBFthe line", tag, msg);
	CHECK_EQ_STR(tag, "app");
	CHECK_EQ_STR(msg, "the line");
	/* NILVALUE app-name: the default tag */
	split("<165>1 2026-12-05T16:00:00Z h - - - - body", tag, msg);
	CHECK_EQ_STR(tag, "syslog");
	CHECK_EQ_STR(msg, "body");
}

MM_TEST(hostile_or_bare_frames)
{
	char tag[33], msg[256];
	/* no PRI: the whole line */
	split("2 123456789012 eni-3 x y", tag, msg);
	CHECK_EQ_STR(tag, "syslog");
	CHECK_EQ_STR(msg, "2 123456789012 eni-3 x y");
	/* a tag that is a path, or too long, is never a file name */
	split("<14>../../etc/passwd: x", tag, msg);
	CHECK_EQ_STR(tag, "syslog");
	split("<14>..: x", tag, msg);
	CHECK_EQ_STR(tag, "syslog");
	split("<14>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: x", tag, msg);
	CHECK_EQ_STR(tag, "syslog");
	/* truncated headers do not read past the frame */
	split("<14", tag, msg);
	CHECK_EQ_STR(tag, "syslog");
	split("<14>1 2026", tag, msg);
	CHECK_EQ_STR(tag, "syslog");
	split("<14>1 a b c d e [unterminated", tag, msg);
	CHECK_EQ_STR(tag, "c");
	CHECK_EQ_STR(msg, "");
}
