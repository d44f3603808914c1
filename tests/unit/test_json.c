/* test_json.c - the JSON scanner: an RFC 8259 table of valid and invalid
 * documents, iteration, lookups, unescaping (surrogates included), integer
 * conversion, depth and bounds. Inputs are copied into exact-size heap
 * buffers so ASan catches any read past the end. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/err.h"
#include "core/json.h"
#include "core/mem.h"
#include "mmtest.h"

/* scan s from an exact-size copy; returns the code, *used bytes used */
static int scan(const char *s, size_t n, struct mm_json_val *v, size_t *used)
{
	char *b = mm_malloc(n ? n : 1);
	int rc;
	memcpy(b, s, n);
	rc = mm_json_scan(b, n, v, used, NULL);
	mm_free(b);
	return rc;
}

/* whole document valid: one value, then only whitespace */
static int doc_ok(const char *s)
{
	struct mm_json_val v;
	size_t used = 0, n = strlen(s);
	int rc = scan(s, n, &v, &used);
	size_t i;
	if (rc)
		return rc;
	for (i = used; i < n; i++)
		if (!strchr(" \t\r\n", s[i]))
			return MM_EPARSE;
	return 0;
}

MM_TEST(rfc8259_valid)
{
	static const char *ok[] = {
		"{}", "[]", " \t\r\n{} ", "0", "-0", "1", "-12", "1.5", "1e5", "1E+5", "1e-05",
		"-0.0e0", "123456789012345678901234567890", "\"\"", "\"a\"", "true", "false",
		"null", "[1,2,3]", "[ 1 , [ ] , { } ]", "{\"a\":1}", "{ \"a\" : [ true , null ] }",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u20AC\"",
		"\"\\ud83d\\ude00\"", "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"",
		"{\"a\":{\"b\":{\"c\":[[[]]]}}}", "{\"\":\"\"}", "[\"\\u0000\"]",
		"{\"a\":1,\"a\":2}",
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(ok); i++) {
		int rc = doc_ok(ok[i]);
		if (rc)
			fprintf(stderr, "  valid case %zu <%s> gave %d\n", i, ok[i], rc);
		CHECK_EQ_INT(rc, 0);
	}
}

MM_TEST(rfc8259_invalid)
{
	static const char *bad[] = {
		"", " ", "{", "[", "}", "]", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{a:1}", "{'a':1}",
		"[1,]", "{\"a\":1,}", "[,1]", "[1 2]", "01", "-", "+1", ".5", "1.", "1.e5", "1e",
		"1e+", "0x10", "tru", "truex", "nul", "NaN", "Infinity", "\"abc", "\"a\\\"",
		"\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"tab\there\"", "\"nl\nhere\"",
		"\"\x01\"", "\"\xff\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
		"\"\xf5\x80\x80\x80\"", "[\"a\"", "{\"a\":[1,2}", "[1}", "{\"a\":1]",
		"{\"a\":tru}", "[1]x", "{} {}", "\"\\", "[-]", "[1.2.3]",
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(bad); i++) {
		int rc = doc_ok(bad[i]);
		if (rc == 0)
			fprintf(stderr, "  invalid case %zu <%s> accepted\n", i, bad[i]);
		CHECK(rc < 0);
	}
}

MM_TEST(trunc_vs_parse)
{
	struct mm_json_val v;
	size_t used;
	CHECK_EQ_INT(scan("{\"a\":[1,2", 9, &v, &used), MM_ETRUNC);
	CHECK_EQ_INT(scan("\"abc", 4, &v, &used), MM_ETRUNC);
	CHECK_EQ_INT(scan("[1,x]", 5, &v, &used), MM_EPARSE);
	/* the public mm_json_value folds truncation into MM_EPARSE */
	CHECK_EQ_INT(mm_json_value("[1", 2, &v, &used), MM_EPARSE);
	/* error offset points at the bad byte */
	{
		size_t at = 0;
		CHECK_EQ_INT(mm_json_scan("[1, 2, @]", 9, &v, &used, &at), MM_EPARSE);
		CHECK_EQ_INT(at, 7);
	}
}

MM_TEST(value_slice_and_types)
{
	struct mm_json_val v;
	size_t used = 0;
	const char *s = "  {\"a\": 1}  trailing";
	CHECK_EQ_INT(mm_json_value(s, strlen(s), &v, &used), 0);
	CHECK_EQ_INT(v.type, MM_JSON_OBJECT);
	CHECK_EQ_INT(v.n, 8);
	CHECK_EQ_INT(used, 10);
	CHECK(v.p == s + 2);
	CHECK_EQ_INT(mm_json_value("\"x\"", 3, &v, &used), 0);
	CHECK_EQ_INT(v.type, MM_JSON_STRING);
	CHECK_EQ_INT(mm_json_value("-3.5e2,", 7, &v, &used), 0);
	CHECK_EQ_INT(v.type, MM_JSON_NUMBER);
	CHECK_EQ_INT(v.n, 6);
	CHECK_EQ_INT(mm_json_value("null", 4, &v, &used), 0);
	CHECK_EQ_INT(v.type, MM_JSON_NULL);
	CHECK_EQ_INT(mm_json_value("false]", 6, &v, &used), 0);
	CHECK_EQ_INT(v.type, MM_JSON_FALSE);
}

static int nest(int depth, int obj)
{
	char *b = mm_malloc((size_t)depth * 6 + 8);
	size_t n = 0;
	int i, rc;
	struct mm_json_val v;
	size_t used;
	for (i = 0; i < depth; i++) {
		if (obj) {
			memcpy(b + n, "{\"a\":", 5);
			n += 5;
		} else
			b[n++] = '[';
	}
	b[n++] = '1';
	for (i = 0; i < depth; i++)
		b[n++] = obj ? '}' : ']';
	rc = mm_json_scan(b, n, &v, &used, NULL);
	mm_free(b);
	return rc;
}

MM_TEST(depth_limit)
{
	CHECK_EQ_INT(nest(MM_JSON_MAX_DEPTH, 0), 0);
	CHECK_EQ_INT(nest(MM_JSON_MAX_DEPTH, 1), 0);
	CHECK_EQ_INT(nest(MM_JSON_MAX_DEPTH + 1, 0), MM_EDEPTH);
	CHECK_EQ_INT(nest(MM_JSON_MAX_DEPTH + 1, 1), MM_EDEPTH);
	CHECK_EQ_INT(nest(100000, 0), MM_EDEPTH);
}

MM_TEST(iterate_object)
{
	const char *s = "{ \"a\" : 1 , \"b\":[1,{\"x\":2}], \"c\":\"s\", \"d\":null }";
	struct mm_json_val v, m;
	struct mm_json_iter it;
	struct mm_str k;
	int n = 0, rc;
	CHECK_EQ_INT(mm_json_value(s, strlen(s), &v, NULL), 0);
	CHECK_EQ_INT(mm_json_iter_init(&it, &v), 0);
	while ((rc = mm_json_iter_next(&it, &k, &m)) == 1) {
		n++;
		if (n == 1) {
			CHECK_EQ_SLICE(k, "a");
			CHECK_EQ_INT(m.type, MM_JSON_NUMBER);
		}
		if (n == 2) {
			CHECK_EQ_SLICE(k, "b");
			CHECK_EQ_SLICE(mm_str_make(m.p, m.n), "[1,{\"x\":2}]");
		}
		if (n == 4)
			CHECK_EQ_INT(m.type, MM_JSON_NULL);
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(n, 4);
	CHECK(it.p == s + strlen(s));
	/* again after the end: still 0 */
	CHECK_EQ_INT(mm_json_iter_next(&it, &k, &m), 0);
	/* a scalar cannot be iterated */
	CHECK_EQ_INT(mm_json_value("1", 1, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_iter_init(&it, &v), MM_EINVAL);
}

/* The scanner tells mm_json_str which strings hold no escape (plain), so
 * their text is the slice between the quotes without a second look; an
 * escaped string, or a value that is no string, is never plain, and the
 * strings of an iterated member are judged one by one. */
MM_TEST(plain_strings_are_marked_by_the_scanner)
{
	const char *s = "{\"a\":\"x\",\"b\":\"y\\\"z\",\"c\":[\"q\"],\"d\":\"\\u0041\",\"e\":\"\",\"f\":1}";
	const char *want[] = {"x", "y\"z", "[\"q\"]", "A", "", "1"};
	const int plain[] = {1, 0, 0, 0, 1, 0};
	char mem[256];
	struct mm_arena a;
	struct mm_json_val v, m;
	struct mm_json_iter it;
	struct mm_str k, t;
	int n = 0;
	mm_arena_init(&a, mem, sizeof(mem));
	CHECK_EQ_INT(mm_json_value(s, strlen(s), &v, NULL), 0);
	CHECK_EQ_INT(v.plain, 0);
	CHECK_EQ_INT(mm_json_iter_init(&it, &v), 0);
	while (n < 6 && mm_json_iter_next(&it, &k, &m) == 1) {
		CHECK_EQ_INT(m.plain, plain[n]);
		CHECK_EQ_INT(mm_json_str(&m, &a, &t), 0);
		CHECK_EQ_SLICE(t, want[n]);
		n++;
	}
	CHECK_EQ_INT(n, 6);
	CHECK_EQ_INT(mm_json_value("\"p\"", 3, &v, NULL), 0);
	CHECK_EQ_INT(v.plain, 1);
	CHECK_EQ_INT(mm_json_value(" \"a\\nb\" ", 8, &v, NULL), 0);
	CHECK_EQ_INT(v.plain, 0);
	CHECK_EQ_INT(mm_json_str(&v, &a, &t), 0);
	CHECK_EQ_SLICE(t, "a\nb");
}

MM_TEST(iterate_array_and_bad_members)
{
	struct mm_json_val v, m;
	struct mm_json_iter it;
	struct mm_str k;
	int n = 0, rc;
	v.type = MM_JSON_ARRAY;
	v.p = "[1, \"two\", [3]]";
	v.n = strlen(v.p);
	CHECK_EQ_INT(mm_json_iter_init(&it, &v), 0);
	while ((rc = mm_json_iter_next(&it, &k, &m)) == 1) {
		CHECK(k.p == NULL);
		n++;
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(n, 3);
	/* iteration validates what it walks, even unscanned input */
	v.type = MM_JSON_OBJECT;
	v.p = "{\"a\":1 \"b\":2}";
	v.n = strlen(v.p);
	CHECK_EQ_INT(mm_json_iter_init(&it, &v), 0);
	CHECK_EQ_INT(mm_json_iter_next(&it, &k, &m), 1);
	CHECK_EQ_INT(mm_json_iter_next(&it, &k, &m), MM_EPARSE);
	v.p = "{\"a\":[1,}";
	v.n = strlen(v.p);
	CHECK_EQ_INT(mm_json_iter_init(&it, &v), 0);
	CHECK(mm_json_iter_next(&it, &k, &m) < 0);
	v.p = "{\"a\":1";
	v.n = strlen(v.p);
	CHECK_EQ_INT(mm_json_iter_init(&it, &v), 0);
	CHECK_EQ_INT(mm_json_iter_next(&it, &k, &m), 1);
	CHECK_EQ_INT(mm_json_iter_next(&it, &k, &m), MM_EPARSE);
}

MM_TEST(get_and_path)
{
	const char *s = "{\"userIdentity\":{\"type\":\"IAMUser\",\"sessionContext\":{\"attributes\":"
			"{\"mfaAuthenticated\":\"true\"}}},\"e\\u0076ent\":7}";
	struct mm_json_val v, o;
	CHECK_EQ_INT(mm_json_value(s, strlen(s), &v, NULL), 0);
	CHECK_EQ_INT(mm_json_path(&v, "userIdentity.sessionContext.attributes.mfaAuthenticated", &o), 1);
	CHECK_EQ_SLICE(mm_str_make(o.p, o.n), "\"true\"");
	CHECK_EQ_INT(mm_json_path(&v, "userIdentity.nope", &o), 0);
	CHECK_EQ_INT(mm_json_path(&v, "userIdentity.type.deeper", &o), 0);
	/* escaped key matches its unescaped form */
	CHECK_EQ_INT(mm_json_get(&v, "event", &o), 1);
	CHECK_EQ_INT(mm_json_get(&v, "even", &o), 0);
	CHECK(mm_json_key_eq(mm_str_c("a\\u0062c"), "abc"));
	CHECK(!mm_json_key_eq(mm_str_c("a\\u0062c"), "abd"));
	CHECK(!mm_json_key_eq(mm_str_c("a\\u0062c"), "ab"));
	CHECK(!mm_json_key_eq(mm_str_c("abc"), "abcd"));
	CHECK(mm_json_key_eq(mm_str_c(""), ""));
}

MM_TEST(str_unescape)
{
	char mem[256];
	struct mm_arena a;
	struct mm_json_val v;
	struct mm_str s;
	const char *in;
	mm_arena_init(&a, mem, sizeof(mem));

	in = "\"plain\"";
	CHECK_EQ_INT(mm_json_value(in, strlen(in), &v, NULL), 0);
	CHECK_EQ_INT(mm_json_str(&v, &a, &s), 0);
	CHECK_EQ_SLICE(s, "plain");
	CHECK(s.p == in + 1);	/* no copy */
	CHECK_EQ_INT(a.used, 0);

	in = "\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\u20ac\\ud83d\\ude00\"";
	CHECK_EQ_INT(mm_json_value(in, strlen(in), &v, NULL), 0);
	CHECK_EQ_INT(mm_json_str(&v, &a, &s), 0);
	CHECK_EQ_SLICE(s, "a\"b\\c/d\n\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");

	/* lone/mismatched surrogates are valid grammar but not valid text */
	v.type = MM_JSON_STRING;
	v.p = "\"\\ud83d\"";
	v.n = strlen(v.p);
	CHECK_EQ_INT(mm_json_str(&v, &a, &s), MM_EPARSE);
	v.p = "\"\\ude00\\ud83d\"";
	v.n = strlen(v.p);
	CHECK_EQ_INT(mm_json_str(&v, &a, &s), MM_EPARSE);
	v.p = "\"\\ud83dx\\ude00\"";
	v.n = strlen(v.p);
	CHECK_EQ_INT(mm_json_str(&v, &a, &s), MM_EPARSE);
	v.p = "\"\\ud83d\\u0041\"";
	v.n = strlen(v.p);
	CHECK_EQ_INT(mm_json_str(&v, &a, &s), MM_EPARSE);

	/* null is empty, numbers give their text */
	CHECK_EQ_INT(mm_json_value("null", 4, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_str(&v, &a, &s), 0);
	CHECK_EQ_INT(s.n, 0);
	CHECK_EQ_INT(mm_json_value("42", 2, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_str(&v, &a, &s), 0);
	CHECK_EQ_SLICE(s, "42");

	/* a full arena is MM_ETOOBIG, not an overflow */
	{
		char small[8];
		struct mm_arena sa;
		mm_arena_init(&sa, small, sizeof(small));
		in = "\"0123456789\\n0123456789\"";
		CHECK_EQ_INT(mm_json_value(in, strlen(in), &v, NULL), 0);
		CHECK_EQ_INT(mm_json_str(&v, &sa, &s), MM_ETOOBIG);
	}
}

MM_TEST(ints)
{
	struct mm_json_val v;
	int64_t x = 0;
	CHECK_EQ_INT(mm_json_value("48701", 5, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_int(&v, &x), 0);
	CHECK_EQ_INT(x, 48701);
	CHECK_EQ_INT(mm_json_value("\"53\"", 4, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_int(&v, &x), 0);
	CHECK_EQ_INT(x, 53);
	CHECK_EQ_INT(mm_json_value("-9223372036854775808", 20, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_int(&v, &x), 0);
	CHECK(x == INT64_MIN);
	CHECK_EQ_INT(mm_json_value("9223372036854775808", 19, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_int(&v, &x), MM_EPARSE);
	CHECK_EQ_INT(mm_json_value("1.5", 3, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_int(&v, &x), MM_EPARSE);
	CHECK_EQ_INT(mm_json_value("\"12a\"", 5, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_int(&v, &x), MM_EPARSE);
	CHECK_EQ_INT(mm_json_value("\"\"", 2, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_int(&v, &x), MM_EPARSE);
	CHECK_EQ_INT(mm_json_value("true", 4, &v, NULL), 0);
	CHECK_EQ_INT(mm_json_int(&v, &x), MM_EPARSE);
}

/* long strings exercise the 16-byte scanner and its tail */
MM_TEST(long_strings_every_length)
{
	char buf[80];
	size_t len;
	for (len = 0; len < 60; len++) {
		struct mm_json_val v;
		size_t used;
		buf[0] = '"';
		memset(buf + 1, 'x', len);
		buf[len + 1] = '"';
		CHECK_EQ_INT(scan(buf, len + 2, &v, &used), 0);
		CHECK_EQ_INT(v.n, len + 2);
		/* a control byte anywhere is rejected */
		if (len > 0) {
			buf[1 + len / 2] = '\x1f';
			CHECK_EQ_INT(scan(buf, len + 2, &v, &used), MM_EPARSE);
			buf[1 + len / 2] = '\\';
			CHECK(scan(buf, len + 2, &v, &used) < 0);
		}
		/* missing closing quote */
		memset(buf + 1, 'x', len);
		CHECK_EQ_INT(scan(buf, len + 1, &v, &used), MM_ETRUNC);
	}
}

/* ---- writing: any bytes give valid JSON; terminal-safe log text ---- */

#include "core/buf.h"
#include "core/log.h"

static int escaped_ok(const char *s, size_t n, struct mm_buf *b)
{
	struct mm_json_val v;
	size_t used = 0;
	mm_buf_reset(b);
	if (mm_buf_addc(b, '"') || mm_json_escape(b, s, n) || mm_buf_addc(b, '"'))
		return 0;
	return mm_json_scan(b->p, b->len, &v, &used, NULL) == 0 && used == b->len &&
	       v.type == MM_JSON_STRING;
}

MM_TEST(json_escape_any_bytes_is_valid_json)
{
	struct mm_buf b;
	char s[64];
	unsigned x = 7;
	int i, j;

	mm_buf_init(&b, 1 << 16);
	CHECK(escaped_ok("a\"b\\c\n\x01\x7f", 8, &b));
	CHECK_EQ_STR(b.p, "\"a\\\"b\\\\c\\n\\u0001\\u007f\"");
	/* invalid UTF-8: stray continuation, overlong, surrogate, cut short */
	CHECK(escaped_ok("x\x80y\xc0\xafz\xed\xa0\x80w\xe2\x82", 12, &b));
	CHECK_EQ_STR(b.p, "\"x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdw"
			  "\xef\xbf\xbd\xef\xbf\xbd\"");
	/* valid multi-byte text is kept as it is */
	CHECK(escaped_ok("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, &b));
	CHECK_EQ_STR(b.p, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	for (i = 0; i < 20000; i++) {
		for (j = 0; j < (int)sizeof(s); j++) {
			x = x * 1103515245u + 12345u;
			s[j] = (char)(x >> 16);
		}
		if (!escaped_ok(s, (size_t)(x % sizeof(s)), &b)) {
			CHECK(!"random bytes escaped to invalid JSON");
			break;
		}
	}
	mm_buf_free(&b);
}

MM_TEST(log_safe_neutralises_terminal_controls)
{
	char out[128];

	CHECK_EQ_STR(mm_log_safe("plain/path.log", out, sizeof(out)), "plain/path.log");
	CHECK_EQ_STR(mm_log_safe("a\x1b[31mred\n", out, sizeof(out)), "a\\x1b[31mred\\x0a");
	CHECK_EQ_STR(mm_log_safe("bad\xff\xfe", out, sizeof(out)), "bad\\xff\\xfe");
	CHECK_EQ_STR(mm_log_safe("caf\xc3\xa9", out, sizeof(out)), "caf\xc3\xa9");
	/* C1 CSI and a right-to-left override */
	CHECK_EQ_STR(mm_log_safe("x\xc2\x9by\xe2\x80\xaez", out, sizeof(out)),
		     "x\\xc2\\x9by\\xe2\\x80\\xaez");
	CHECK_EQ_STR(mm_log_safe(NULL, out, sizeof(out)), "");
	/* bounded: cut at a whole escape, always terminated */
	CHECK_EQ_STR(mm_log_safe("ab\x01\x02", out, 7), "ab\\x01");
	CHECK_EQ_STR(mm_log_safe("\xc3\xa9\xc3\xa9", out, 4), "\xc3\xa9");
}

static void log_many(void)
{
	int i;
	mm_log_reset();
	for (i = 0; i < MM_LOG_ERR_LIMIT + 5; i++)
		mm_log_record_error("f\x1b.log", (uint64_t)i + 1, "bad\x07");
	/* a file's stream error is printed even after the budget is spent */
	mm_log_located("f.log.gz: offset 42: corrupt gzip data (bad deflate data)");
	mm_warn("%s: cannot open folder", "dir\nname");
}

MM_TEST(log_budget_sanitising_and_located)
{
	static char text[16384];

	mmtest_capture_stderr(log_many, text, sizeof(text));
	CHECK(strstr(text, "f\\x1b.log:1: bad\\x07\n") != NULL);
	CHECK(strstr(text, "f\\x1b.log:50: ") != NULL);
	CHECK(strstr(text, "f\\x1b.log:51: ") == NULL);
	CHECK_EQ_INT(mm_log_suppressed(), 5);
	CHECK(strstr(text, "f.log.gz: offset 42: corrupt gzip data (bad deflate data)\n") != NULL);
	CHECK(strstr(text, "mamori: warning: dir\\x0aname: cannot open folder\n") != NULL);
	CHECK(strchr(text, '\x1b') == NULL);
	mm_log_reset();
}

/* mm_buf_printf formats into the room the buffer has, grows it for a
 * longer text, and refuses one past the buffer's max with the buffer as
 * it was (its text and terminator). */
MM_TEST(buf_printf_fits_grows_and_caps)
{
	struct mm_buf b;
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mm_buf_init(&b, 1000);
	CHECK_EQ_INT(mm_buf_printf(&b, "%d-%s", 42, "a"), 0); /* no room yet: grows */
	CHECK_EQ_STR(b.p, "42-a");
	CHECK_EQ_INT(mm_buf_printf(&b, ",%u", 7u), 0); /* fits the room */
	CHECK_EQ_STR(b.p, "42-a,7");
	CHECK_EQ_INT((int)b.len, 6);
	CHECK_EQ_INT(mm_buf_printf(&b, "%s", big), 0); /* past the room: measured, grown */
	CHECK_EQ_INT((int)b.len, 6 + 599);
	CHECK(memcmp(b.p, "42-a,7xxx", 9) == 0);
	CHECK_EQ_INT(b.p[b.len], '\0');
	CHECK_EQ_INT(mm_buf_printf(&b, "%s", big), MM_ETOOBIG); /* past max */
	CHECK_EQ_INT((int)b.len, 605);
	CHECK_EQ_INT(b.p[b.len], '\0');
	/* a short text that fits the room but not the max */
	b.max = 606;
	CHECK_EQ_INT(mm_buf_printf(&b, "ab"), MM_ETOOBIG);
	CHECK_EQ_INT((int)b.len, 605);
	CHECK_EQ_INT(b.p[b.len], '\0');
	CHECK_EQ_INT(mm_buf_printf(&b, "a"), 0);
	CHECK_EQ_INT((int)b.len, 606);
	mm_buf_free(&b);
}

/* The iterator says which keys hold escapes, key by key, so a parser
 * decodes only those (and skips its search of every other key). */
MM_TEST(iterator_marks_escaped_keys)
{
	const char *s = "{\"a\":1,\"b\\u0063\":{\"x\\\\y\":2,\"z\":3},\"d\":4}";
	struct mm_json_val v, m;
	struct mm_json_iter it, ch;
	struct mm_str k;
	CHECK_EQ_INT(mm_json_value(s, strlen(s), &v, NULL), 0);
	CHECK_EQ_INT(mm_json_iter_init(&it, &v), 0);
	CHECK_EQ_INT(it.key_esc, 0);
	CHECK_EQ_INT(mm_json_iter_next(&it, &k, &m), 1);
	CHECK_EQ_INT(it.key_esc, 0);
	CHECK_EQ_INT(mm_json_iter_key(&it, &k), 1);
	CHECK_EQ_SLICE(k, "b\\u0063");
	CHECK_EQ_INT(it.key_esc, 1);
	CHECK_EQ_INT(mm_json_iter_enter(&it, &ch), 0);
	CHECK_EQ_INT(ch.key_esc, 0);
	CHECK_EQ_INT(mm_json_iter_next(&ch, &k, &m), 1);
	CHECK_EQ_INT(ch.key_esc, 1);
	CHECK_EQ_INT(mm_json_iter_next(&ch, &k, &m), 1);
	CHECK_EQ_INT(ch.key_esc, 0);
	CHECK_EQ_INT(mm_json_iter_next(&ch, &k, &m), 0);
	CHECK_EQ_INT(mm_json_iter_leave(&it, &ch), 0);
	CHECK_EQ_INT(mm_json_iter_next(&it, &k, &m), 1);
	CHECK_EQ_SLICE(k, "d");
	CHECK_EQ_INT(it.key_esc, 0);
}

/* ---- the iterator's compact fast path ---------------------------------- */

/* Walk every member of v, recursing into containers; 0 when all of it
 * iterates, else the first error (-100: a string marked plain holds a
 * byte that needs decoding or checking; -101: a container's iteration
 * ended away from its last byte). Keys and scalar values are appended
 * to out as "key=value;". Plain means nothing to decode: UTF-8 is
 * plain, an escape is not. */
static int walk_all(const struct mm_json_val *v, struct mm_buf *out, int top)
{
	struct mm_json_iter it;
	struct mm_json_val m;
	struct mm_str k;
	size_t i;
	int rc;

	if (mm_json_iter_init(&it, v))
		return MM_EINVAL;
	while ((rc = mm_json_iter_next(&it, &k, &m)) == 1) {
		if (k.p) {
			mm_buf_add(out, k.p, k.n);
			mm_buf_add(out, "=", 1);
		}
		if (m.type == MM_JSON_OBJECT || m.type == MM_JSON_ARRAY) {
			if ((rc = walk_all(&m, out, 0)))
				return rc;
		} else {
			mm_buf_add(out, m.p, m.n);
			for (i = 1; m.plain && i + 1 < m.n; i++) {
				unsigned char c = (unsigned char)m.p[i];
				if (c == '"' || c == '\\' || c < 0x20)
					return -100;
			}
		}
		mm_buf_add(out, ";", 1);
	}
	if (rc)
		return rc;
	if (!top && it.p != v->p + v->n)
		return -101;
	if (top)	/* only whitespace after the record */
		for (i = (size_t)(it.p - v->p); i < v->n; i++)
			if (!strchr(" \t\r\n", v->p[i]))
				return MM_EPARSE;
	return 0;
}

/* Walk a record from an exact-size heap copy of s[0..n). */
static int walk_copy(const char *s, size_t n, struct mm_buf *out)
{
	char *b = mm_malloc(n ? n : 1);
	struct mm_json_val v;
	int rc;
	memcpy(b, s, n);
	v.type = MM_JSON_OBJECT;
	v.plain = 0;
	v.p = b;
	v.n = n;
	rc = n && b[0] == '{' ? walk_all(&v, out, 1) : MM_EPARSE;
	mm_free(b);
	return rc;
}

/* s with a space after every ',', ':', '{' and '[' outside strings: the
 * same document, which the fast path (compact JSON only) leaves to the
 * full one. */
static char *spaced(const char *s)
{
	size_t n = strlen(s), i, j = 0;
	char *o = mm_malloc(2 * n + 1);
	int in = 0;
	for (i = 0; i < n; i++) {
		o[j++] = s[i];
		if (in && s[i] == '\\' && i + 1 < n)
			o[j++] = s[++i];
		else if (s[i] == '"')
			in = !in;
		else if (!in && strchr(",:{[", s[i]))
			o[j++] = ' ';
	}
	o[j] = '\0';
	return o;
}

/* Compact records as AWS writes them, long enough that keys and string
 * values take the iterator's inline path (keys up to 32 bytes, strings
 * up to 64), next to every kind of value it must leave to the full
 * path. At every offset, each hostile byte and a cut there: iterating
 * every member fails exactly when the whole-document scanner says the
 * record is not valid JSON, strings marked plain hold nothing to decode,
 * and the valid record yields the same keys and values as its spaced
 * copy, which never takes the inline path. */
MM_TEST(iterator_fast_path_agrees_with_the_scanner)
{
	static const char *recs[] = {
		"{\"version\":\"1.100000\",\"account_id\":\"163623026341\",\"region\":\"us-east-1\","
		"\"vpc_id\":\"vpc-68ef43cac1b76da5f\",\"query_timestamp\":\"2024-01-01T01:03:54Z\","
		"\"query_name\":\"www.pedofa9-shop.com.\",\"query_type\":\"TXT\",\"query_class\":\"IN\","
		"\"rcode\":\"NOERROR\",\"answers\":[{\"Rdata\":\"143.169.120.160\",\"Type\":\"A\","
		"\"Class\":\"IN\"}],\"srcaddr\":\"10.0.16.84\",\"srcport\":\"9205\",\"transport\":\"UDP\","
		"\"srcids\":{\"instance\":\"i-2757e2a0ec2d7cef5\"}}",
		"{\"k\":\"\",\"kk\":\"a\",\"exactly_fifteen\":\"0123456789abcde\","
		"\"exactly_sixteen_\":\"0123456789abcdef\",\"a_key_of_thirty_one_bytes_long_\":1,"
		"\"a_key_of_thirty_two_bytes_long__\":-2.5e3,\"a_key_of_thirty_three_bytes_long_\":true,"
		"\"s31\":\"0123456789012345678901234567890\",\"s32\":\"01234567890123456789012345678901\","
		"\"s47\":\"01234567890123456789012345678901234567890123456\","
		"\"s63\":\"012345678901234567890123456789012345678901234567890123456789012\","
		"\"s64\":\"0123456789012345678901234567890123456789012345678901234567890123\","
		"\"s80\":\"01234567890123456789012345678901234567890123456789012345678901234567890123456789\","
		"\"esc\":\"a\\\"b\\\\c\\u00e9d\\n\",\"k\\u0065y\":\"v\",\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac\","
		"\"nul\":null,\"f\":false,\"arr\":[\"x\",1,{\"deep\":[[],{}]},\"a longer string in an array\"],"
		"\"userIdentity\":{\"type\":\"AssumedRole\",\"principalId\":\"AROAEXAMPLE:session\","
		"\"arn\":\"arn:aws:sts::123456789012:assumed-role/Admin/session-name-of-some-length\"},"
		"\"end\":\"x\"}",
	};
	static const unsigned char bad[] = {'"', '\\', 0x01, 0x1f, 0x7f, 0x80, 0xc3, 0xff, ' ', ',',
					    ':', '}', ']', '{', '[', '0', 'a', 'u'};
	struct mm_buf o1, o2;
	size_t r, i, j, n;
	int checked = 0, failed = 0;

	mm_buf_init(&o1, 1 << 20);
	mm_buf_init(&o2, 1 << 20);
	for (r = 0; r < MM_ARRAY_LEN(recs); r++) {
		char *sp = spaced(recs[r]), *d;
		n = strlen(recs[r]);
		CHECK_EQ_INT(doc_ok(recs[r]), 0);
		mm_buf_reset(&o1);
		mm_buf_reset(&o2);
		CHECK_EQ_INT(walk_copy(recs[r], n, &o1), 0);
		CHECK_EQ_INT(walk_copy(sp, strlen(sp), &o2), 0);
		CHECK(o1.len > 100 && o1.len == o2.len && memcmp(o1.p, o2.p, o1.len) == 0);
		mm_free(sp);
		d = mm_malloc(n + 1);
		for (i = 0; i <= n; i++) {
			for (j = 0; j <= MM_ARRAY_LEN(bad); j++) {
				size_t dn = n;
				int want, got;
				memcpy(d, recs[r], n + 1);
				if (j == MM_ARRAY_LEN(bad))
					dn = i;	/* cut at i */
				else if (i < n)
					d[i] = (char)bad[j];
				else
					continue;
				d[dn] = '\0';
				want = doc_ok(d) == 0 && dn && d[0] == '{';
				mm_buf_reset(&o1);
				got = walk_copy(d, dn, &o1);
				if (got == -100 || got == -101 || (got == 0) != want) {
					if (!failed++)
						fprintf(stderr, "record %zu, offset %zu, %s 0x%02x: walk %d, "
								"scanner says %s\n", r, i,
							j == MM_ARRAY_LEN(bad) ? "cut" : "byte",
							j == MM_ARRAY_LEN(bad) ? 0 : bad[j], got,
							want ? "valid" : "invalid");
				}
				checked++;
			}
		}
		mm_free(d);
	}
	CHECK_EQ_INT(failed, 0);
	CHECK(checked > 10000);
	mm_buf_free(&o1);
	mm_buf_free(&o2);
}
