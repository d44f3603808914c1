/* test_notify.c - notifications (src/serve/notify.c): the EventBridge
 * envelope, Slack's blocks, the email, severity/type/frequency
 * decisions, the backoff schedule, and the outbox in the database
 * surviving close and open without sending twice. Deliveries against
 * real receivers are tests/golden/notify.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "finding/output.h"
#include "mmtest.h"
#include "serve/notify.h"
#include "store/store.h"

#define TYPE "Backdoor:EC2/C&CActivity.B"

static void mkfinding(struct mm_finding *f, const char *iid, double sev, int64_t updated)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->type, sizeof(f->type), "%s", TYPE);
	snprintf(f->account, sizeof(f->account), "123456789012");
	snprintf(f->region, sizeof(f->region), "eu-west-1");
	snprintf(f->instance_id, sizeof(f->instance_id), "%s", iid);
	snprintf(f->indicator, sizeof(f->indicator), "198.51.100.7");
	f->severity = sev;
	f->res_type = MM_RES_INSTANCE;
	f->action = MM_ACTION_NETWORK_CONNECTION;
	f->count = 4;
	f->first_seen_ms = 1700000000000;
	f->last_seen_ms = 1700000600000;
	f->created_at_ms = updated;
	f->updated_at_ms = updated;
	mm_finding_make_id(f);
}

static char *finding_json(const struct mm_finding *f)
{
	struct mm_buf b;
	mm_buf_init(&b, 1 << 20);
	if (mm_finding_to_json(f, NULL, &b)) {
		mm_buf_free(&b);
		return NULL;
	}
	return b.p;	/* the buffer's memory: freed with mm_free */
}

static int get(const struct mm_json_val *o, const char *path, struct mm_json_val *v)
{
	return mm_json_path(o, path, v) == 1;
}

MM_TEST(webhook_is_guardduty_eventbridge_event)
{
	struct mm_notify_conf c;
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o, v;
	struct mm_json_iter it;
	struct mm_str k;
	static const char *const keys[] = {"version", "id", "detail-type", "source", "account",
					   "time", "region", "resources", "detail"};
	size_t used, i = 0;
	char *js;

	memset(&c, 0, sizeof(c));
	c.sinks[0].kind = MM_SINK_WEBHOOK;
	mkfinding(&f, "i-0123456789abcdef0", 8, 1700000700123);
	js = finding_json(&f);
	CHECK(js != NULL);
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_notify_render(&c, &c.sinks[0], js, "i-0123456789abcdef0", &b), 0);
	CHECK_EQ_INT(mm_json_value(b.p, b.len, &o, &used), 0);
	/* the members in EventBridge's order */
	CHECK_EQ_INT(mm_json_iter_init(&it, &o), 0);
	while (mm_json_iter_next(&it, &k, &v) == 1 && i < 9)
		CHECK(mm_json_key_eq(k, keys[i++]));
	CHECK_EQ_INT((int)i, 9);
	CHECK(get(&o, "detail-type", &v) && v.n == 19 && !memcmp(v.p, "\"GuardDuty Finding\"", 19));
	CHECK(get(&o, "source", &v) && !memcmp(v.p, "\"aws.guardduty\"", 15));
	CHECK(get(&o, "account", &v) && !memcmp(v.p, "\"123456789012\"", 14));
	CHECK(get(&o, "region", &v) && !memcmp(v.p, "\"eu-west-1\"", 11));
	CHECK(get(&o, "time", &v) && !memcmp(v.p, "\"2023-11-14T22:25:00Z\"", 22));
	CHECK(get(&o, "resources", &v) && v.n == 2);
	/* detail is the finding as stored, byte for byte */
	CHECK(get(&o, "detail", &v) && v.n == strlen(js) && !memcmp(v.p, js, v.n));
	mm_buf_free(&b);
	mm_free(js);
}

MM_TEST(slack_blocks_header_fields_link)
{
	struct mm_notify_conf c;
	struct mm_finding f;
	struct mm_buf b;
	struct mm_json_val o, v;
	size_t used;
	char *js;

	memset(&c, 0, sizeof(c));
	c.sinks[0].kind = MM_SINK_SLACK;
	snprintf(c.console_url, sizeof(c.console_url), "https://mamori.example");
	mkfinding(&f, "i-0123456789abcdef0", 8, 1700000700123);
	js = finding_json(&f);
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_notify_render(&c, &c.sinks[0], js, "i-<x>&y", &b), 0);
	CHECK_EQ_INT(mm_json_value(b.p, b.len, &o, &used), 0);
	CHECK(get(&o, "text", &v));
	CHECK(strstr(b.p, "\"text\":\"[mamori] High Backdoor:EC2/C&CActivity.B on i-<x>&y\"") !=
	      NULL);
	/* header: colour word and level, then the type */
	CHECK(strstr(b.p, "{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"emoji\":true,"
			  "\"text\":\":red_circle: High severity: Backdoor:EC2/C&CActivity.B\"}}") !=
	      NULL);
	/* fields: mrkdwn, with Slack's escapes of & < > */
	CHECK(strstr(b.p, "*Type*\\nBackdoor:EC2/C&amp;CActivity.B") != NULL);
	CHECK(strstr(b.p, "*Resource*\\ni-&lt;x&gt;&amp;y") != NULL);
	CHECK(strstr(b.p, "*Account / Region*\\n123456789012 / eu-west-1") != NULL);
	CHECK(strstr(b.p, "*Count*\\n4") != NULL);
	CHECK(strstr(b.p, "*First seen*\\n2023-11-14T22:13:20.000Z") != NULL);
	CHECK(strstr(b.p, "*Severity*\\nHigh (8)") != NULL);
	{
		char want[200];
		snprintf(want, sizeof(want), "\"url\":\"https://mamori.example/#/finding/%s\"",
			 f.id);
		CHECK(strstr(b.p, want) != NULL);
	}
	/* no console: no button */
	c.console_url[0] = '\0';
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_notify_render(&c, &c.sinks[0], js, "i-1", &b), 0);
	CHECK(strstr(b.p, "\"actions\"") == NULL);
	CHECK_EQ_INT(mm_json_value(b.p, b.len, &o, &used), 0);
	/* not a finding */
	mm_buf_reset(&b);
	CHECK_EQ_INT(mm_notify_render(&c, &c.sinks[0], "{\"a\":1}", "i-1", &b), MM_EINVAL);
	CHECK_EQ_INT((int)b.len, 0);
	mm_buf_free(&b);
	mm_free(js);
}

MM_TEST(email_headers_subject_quoted_printable)
{
	struct mm_notify_conf c;
	struct mm_notify_sink *s;
	struct mm_finding f;
	struct mm_buf b;
	char *js, *body, *line;

	memset(&c, 0, sizeof(c));
	s = &c.sinks[0];
	s->kind = MM_SINK_EMAIL;
	snprintf(s->from, sizeof(s->from), "mamori@example.com\r\nBcc: evil@example.com");
	snprintf(s->to[0], sizeof(s->to[0]), "soc@example.com");
	snprintf(s->to[1], sizeof(s->to[1]), "oncall@example.com");
	s->nto = 2;
	mkfinding(&f, "i-0123456789abcdef0", 5, 1700000700123);
	js = finding_json(&f);
	mm_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(mm_notify_render(&c, s, js, "i-0123456789abcdef0", &b), 0);
	CHECK(strstr(b.p, "\r\nSubject: [mamori] Medium Backdoor:EC2/C&CActivity.B on "
			  "i-0123456789abcdef0\r\n") != NULL);
	CHECK(strstr(b.p, "To: soc@example.com, oncall@example.com\r\n") != NULL);
	/* a CR LF in a value cannot start a header of its own */
	CHECK(strstr(b.p, "\r\nBcc:") == NULL);
	CHECK(strstr(b.p, "Content-Transfer-Encoding: quoted-printable\r\n") != NULL);
	body = strstr(b.p, "\r\n\r\n");
	CHECK(body != NULL);
	if (!body)
		goto out;
	CHECK(strstr(body, "Count:       4") != NULL);
	/* every line within 76 characters, CRLF ended */
	for (line = body + 4; *line;) {
		char *e = strstr(line, "\r\n");
		CHECK(e != NULL);
		if (!e)
			break;
		CHECK(e - line <= 76);
		line = e + 2;
	}
	/* '=' is encoded: the JSON's "a=b"-free text still shows =3D nowhere
	 * unexpected, and soft breaks end in '=' */
	CHECK(strstr(body, "=\r\n") != NULL);
out:
	mm_buf_free(&b);
	mm_free(js);
}

MM_TEST(severity_types_frequency_backoff)
{
	struct mm_notify_sink s;
	struct mm_notify_conf c;
	double v;
	int fr;

	CHECK_EQ_INT(mm_notify_severity_parse("high", &v), 0);
	CHECK(v == 7);
	CHECK_EQ_INT(mm_notify_severity_parse("Medium", &v), 0);
	CHECK(v == 4);
	CHECK_EQ_INT(mm_notify_severity_parse("5.5", &v), 0);
	CHECK(v == 5.5);
	CHECK_EQ_INT(mm_notify_severity_parse("11", &v), MM_EINVAL);
	CHECK_EQ_INT(mm_notify_severity_parse("loud", &v), MM_EINVAL);

	memset(&s, 0, sizeof(s));
	CHECK(mm_notify_wants(&s, TYPE, 0.1));
	s.min_severity = 7;
	CHECK(!mm_notify_wants(&s, TYPE, 5));
	CHECK(mm_notify_wants(&s, TYPE, 7));
	snprintf(s.types[0], sizeof(s.types[0]), "Recon:*");
	snprintf(s.types[1], sizeof(s.types[1]), "Backdoor:*");
	s.ntypes = 2;
	CHECK(mm_notify_wants(&s, TYPE, 8));
	CHECK(!mm_notify_wants(&s, "UnauthorizedAccess:EC2/SSHBruteForce", 8));
	snprintf(s.types[1], sizeof(s.types[1]), "*/SSHBruteForce");
	CHECK(mm_notify_wants(&s, "UnauthorizedAccess:EC2/SSHBruteForce", 8));

	CHECK_EQ_INT(mm_notify_frequency_parse("FIFTEEN_MINUTES", &fr), 0);
	CHECK_EQ_INT(fr, 900);
	CHECK_EQ_INT(mm_notify_frequency_parse("ONE_HOUR", &fr), 0);
	CHECK_EQ_INT(fr, 3600);
	CHECK_EQ_INT(mm_notify_frequency_parse("SIX_HOURS", &fr), 0);
	CHECK_EQ_INT(fr, 21600);
	CHECK_EQ_INT(mm_notify_frequency_parse("one_hour", &fr), MM_EINVAL);
	CHECK_EQ_STR(mm_notify_frequency_name(3600), "ONE_HOUR");
	/* an update goes out once the period since the last one has passed */
	CHECK(!mm_notify_update_due(1000000, 1000000 - 899999, 900));
	CHECK(mm_notify_update_due(1000000, 1000000 - 900000, 900));
	CHECK(!mm_notify_update_due(10000000, 10000000 - 3599999, 3600));
	CHECK(mm_notify_update_due(30000000, 30000000 - 21600000, 21600));
	CHECK(mm_notify_update_due(1000000, 1000000 - 900000, 0)); /* default 15 min */

	memset(&c, 0, sizeof(c));
	CHECK(mm_notify_backoff_ms(&c, 1) == 1000);
	CHECK(mm_notify_backoff_ms(&c, 2) == 2000);
	CHECK(mm_notify_backoff_ms(&c, 3) == 4000);
	CHECK(mm_notify_backoff_ms(&c, 9) == 256000);
	CHECK(mm_notify_backoff_ms(&c, 10) == 300000);	/* capped */
	CHECK(mm_notify_backoff_ms(&c, 1000) == 300000);
	c.backoff_ms = 200;
	c.backoff_max_ms = 1000;
	CHECK(mm_notify_backoff_ms(&c, 3) == 800);
	CHECK(mm_notify_backoff_ms(&c, 4) == 1000);
}

/* ---- the outbox in the database ---------------------------------------- */

struct tmp {
	char dir[64], db[96];
};

static void cleanup(struct tmp *t)
{
	char p[160];
	static const char *const sfx[] = {"", "-wal", "-shm", ".lock"};
	size_t i;
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", t->db, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

static int put(struct mm_store *st, const struct mm_finding *f)
{
	struct mm_err err;
	char *js = finding_json(f);
	int rc = js ? mm_store_finding_put(st, f, js, &err) : MM_ENOMEM;
	mm_free(js);
	return rc;
}

static unsigned long long queued(struct mm_notify *n, unsigned long long *dropped)
{
	struct mm_notify_count c[MM_NOTIFY_MAX_SINKS];
	int k = mm_notify_counts(n, c, MM_NOTIFY_MAX_SINKS);
	if (dropped)
		*dropped = k ? c[0].dropped : 0;
	return k ? c[0].queued : 0;
}

MM_TEST(outbox_survives_close_open_and_never_doubles)
{
	struct tmp t;
	struct mm_store *st = NULL;
	struct mm_notify *n = NULL;
	struct mm_notify_conf *c = mm_calloc(1, sizeof(*c));
	struct mm_finding a, b, z;
	struct mm_err err;
	unsigned long long dropped;
	int64_t now = mm_now_ms();

	snprintf(t.dir, sizeof(t.dir), "/tmp/mm_notify_XXXXXX");
	if (!c || !mkdtemp(t.dir))
		mmtest_skip("no temporary directory");
	snprintf(t.db, sizeof(t.db), "%s/m.db", t.dir);
	/* a receiver that refuses: the row stays pending, its retry far off */
	c->nsinks = 1;
	snprintf(c->sinks[0].name, sizeof(c->sinks[0].name), "hook");
	snprintf(c->sinks[0].url, sizeof(c->sinks[0].url), "http://127.0.0.1:1/");
	c->sinks[0].kind = MM_SINK_WEBHOOK;
	c->sinks[0].max_attempts = 50;
	c->backoff_ms = 3600000;
	c->queue_max = 2;
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_store_open(&st, t.db, &err), 0);
	mkfinding(&a, "i-0aaaaaaaaaaaaaaa1", 8, now);
	mkfinding(&b, "i-0bbbbbbbbbbbbbbb2", 8, now);
	mkfinding(&z, "i-0ccccccccccccccc3", 8, now);
	z.archived = 1;	/* archived: never queued */
	CHECK_EQ_INT(put(st, &a), 0);
	CHECK_EQ_INT(put(st, &z), 0);

	CHECK_EQ_INT(mm_notify_open(&n, t.db, c, &err), 0);
	CHECK(n != NULL);
	CHECK_EQ_INT(mm_notify_flushed(n, now, &err), 0);
	CHECK_EQ_INT((int)queued(n, NULL), 1);
	/* the same flush processed again (a restart's re-read window): nothing new */
	CHECK_EQ_INT(mm_notify_flushed(n, now, &err), 0);
	CHECK_EQ_INT((int)queued(n, NULL), 1);
	mm_notify_close(n);
	n = NULL;

	/* reopened: the pending row is still there, and not queued twice */
	CHECK_EQ_INT(mm_notify_open(&n, t.db, c, &err), 0);
	CHECK_EQ_INT((int)queued(n, NULL), 1);
	CHECK_EQ_INT(mm_notify_flushed(n, now, &err), 0);
	CHECK_EQ_INT((int)queued(n, NULL), 1);

	/* an update of a within the period: held back, not queued */
	a.count = 9;
	a.updated_at_ms = now + 5;
	CHECK_EQ_INT(put(st, &a), 0);
	CHECK_EQ_INT(mm_notify_flushed(n, now + 5, &err), 0);
	CHECK_EQ_INT((int)queued(n, NULL), 1);

	/* a new finding fills the queue (max 2); a third is dropped and counted */
	b.updated_at_ms = now + 5;
	CHECK_EQ_INT(put(st, &b), 0);
	CHECK_EQ_INT(mm_notify_flushed(n, now + 5, &err), 0);
	CHECK_EQ_INT((int)queued(n, &dropped), 2);
	CHECK_EQ_INT((int)dropped, 0);
	mkfinding(&b, "i-0ddddddddddddddd4", 8, now + 10);
	CHECK_EQ_INT(put(st, &b), 0);
	CHECK_EQ_INT(mm_notify_flushed(n, now + 10, &err), 0);
	CHECK_EQ_INT((int)queued(n, &dropped), 2);
	CHECK_EQ_INT((int)dropped, 1);
	mm_notify_close(n);
	n = NULL;

	/* no sinks: nothing opened, and NULL is accepted everywhere */
	c->nsinks = 0;
	CHECK_EQ_INT(mm_notify_open(&n, t.db, c, &err), 0);
	CHECK(n == NULL);
	CHECK_EQ_INT(mm_notify_flushed(NULL, now, &err), 0);
	CHECK_EQ_INT(mm_notify_counts(NULL, NULL, 0), 0);
	mm_notify_close(NULL);

	/* an email sink whose password variable is unset is refused by name */
	c->nsinks = 1;
	c->sinks[0].kind = MM_SINK_EMAIL;
	snprintf(c->sinks[0].url, sizeof(c->sinks[0].url), "smtp://127.0.0.1:1");
	snprintf(c->sinks[0].from, sizeof(c->sinks[0].from), "a@example.com");
	snprintf(c->sinks[0].to[0], sizeof(c->sinks[0].to[0]), "b@example.com");
	c->sinks[0].nto = 1;
	snprintf(c->sinks[0].password_env, sizeof(c->sinks[0].password_env),
		 "MM_TEST_NO_SUCH_VARIABLE_17");
	CHECK(mm_notify_open(&n, t.db, c, &err) == MM_EINVAL);
	CHECK(strstr(err.msg, "MM_TEST_NO_SUCH_VARIABLE_17") != NULL);
	CHECK(n == NULL);

	mm_store_close(st);
	mm_free(c);
	cleanup(&t);
}
