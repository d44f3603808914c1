/* test_ship.c - the client's offset bookkeeping (agent/ship.c): 409
 * re-alignment, the server's answer, the state file across a restart,
 * mm_ship_pending and the remove rule, the key file, a server that is
 * away (retry with backoff, the backlog bound). The HTTP exchange itself
 * is tested end to end in tests/golden/ship.sh. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ship.h"
#include "mmtest.h"

static char root[64];

static void mk_root(void)
{
	char tmpl[] = "/tmp/mm-ship-XXXXXX";
	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(root, sizeof(root), "%s", tmpl);
}

static void cleanup(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd)) {
	}
}

static void write_file(const char *path, const char *s, const char *mode)
{
	FILE *f = fopen(path, mode);
	CHECK(f != NULL);
	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

MM_TEST(resync_moves_inside_the_file_at_line_starts)
{
	char p[128];
	struct mm_ship_pos pos;
	int fd;
	mk_root();
	snprintf(p, sizeof(p), "%s/f", root);
	write_file(p, "aaa\nbbb\nccc\n", "w"); /* 12 bytes */
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0);
	/* the server has less than we thought (its spool was lost): resend */
	pos = (struct mm_ship_pos){108, 8};
	CHECK_EQ_INT(mm_ship_resync(&pos, 104, fd, 12), 1);
	CHECK(pos.stream == 104 && pos.foff == 4);
	/* the server has more (our state was lost): skip what it has */
	pos = (struct mm_ship_pos){100, 0};
	CHECK_EQ_INT(mm_ship_resync(&pos, 108, fd, 12), 1);
	CHECK(pos.stream == 108 && pos.foff == 8);
	/* not a line start of ours: keep our place, take the server's offset */
	pos = (struct mm_ship_pos){100, 0};
	CHECK_EQ_INT(mm_ship_resync(&pos, 106, fd, 12), 0);
	CHECK(pos.stream == 106 && pos.foff == 0);
	/* beyond the file, or before its start: re-based */
	pos = (struct mm_ship_pos){100, 4};
	CHECK_EQ_INT(mm_ship_resync(&pos, 200, fd, 12), 0);
	CHECK(pos.stream == 200 && pos.foff == 4);
	pos = (struct mm_ship_pos){100, 4};
	CHECK_EQ_INT(mm_ship_resync(&pos, 50, fd, 12), 0);
	CHECK(pos.stream == 50 && pos.foff == 4);
	/* back to the file's start */
	pos = (struct mm_ship_pos){100, 4};
	CHECK_EQ_INT(mm_ship_resync(&pos, 96, fd, 12), 1);
	CHECK(pos.stream == 96 && pos.foff == 0);
	close(fd);
	cleanup();
}

MM_TEST(parse_reply)
{
	uint64_t off = 7;
	CHECK_EQ_INT(mm_ship_parse_reply("{\"offset\":42,\"written\":3}", 26, &off), 0);
	CHECK(off == 42);
	CHECK_EQ_INT(mm_ship_parse_reply("{\"message\":\"x\",\"__type\":\"T\",\"offset\": 0}", 41,
					 &off),
		     0);
	CHECK(off == 0);
	CHECK_EQ_INT(mm_ship_parse_reply("{\"offset\":}", 11, &off), MM_EPARSE);
	CHECK_EQ_INT(mm_ship_parse_reply("{\"offset\":12345678901234567890}", 31, &off), MM_EPARSE);
	CHECK_EQ_INT(mm_ship_parse_reply("{\"offset\":4", 8, &off), MM_EPARSE); /* bounded by n */
	CHECK_EQ_INT(mm_ship_parse_reply("", 0, &off), MM_EPARSE);
}

MM_TEST(load_key)
{
	char p[128], id[64], secret[64];
	struct mm_err err;
	mk_root();
	snprintf(p, sizeof(p), "%s/key.env", root);
	write_file(p, "# from mamori keys create\nexport AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n"
		      "AWS_SECRET_ACCESS_KEY=\"abc/def+ghi\"\n", "w");
	CHECK_EQ_INT(mm_ship_load_key(p, id, sizeof(id), secret, sizeof(secret), &err), 0);
	CHECK_EQ_STR(id, "AKIAABCDEFGHIJKLMNOP");
	CHECK_EQ_STR(secret, "abc/def+ghi");
	write_file(p, "AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n", "w");
	CHECK_EQ_INT(mm_ship_load_key(p, id, sizeof(id), secret, sizeof(secret), &err),
		     MM_ENOTFOUND);
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	CHECK_EQ_INT(mm_ship_load_key(NULL, id, sizeof(id), secret, sizeof(secret), &err), 0);
	CHECK_EQ_STR(id, "AKIAENV");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	CHECK_EQ_INT(mm_ship_load_key(NULL, id, sizeof(id), secret, sizeof(secret), &err),
		     MM_ENOTFOUND);
	cleanup();
}

static struct mm_ship *open_ship(const char *state, uint64_t cap)
{
	struct mm_ship_opts o;
	struct mm_ship *s = NULL;
	struct mm_err err;
	memset(&o, 0, sizeof(o));
	o.server = "http://127.0.0.1:1"; /* nobody listens: the server is away */
	o.key_id = "AKIAABCDEFGHIJKLMNOP";
	o.secret = "secret";
	o.host = "web-1";
	o.state_path = state;
	o.spool_cap = cap;
	o.timeout_ms = 2000;
	CHECK_EQ_INT(mm_ship_open(&s, &o, &err), 0);
	return s;
}

MM_TEST(state_pending_and_the_remove_rule)
{
	char p[128], q[128], st[128], line[512];
	struct mm_ship *s;
	struct mm_err err;
	struct stat sb;
	FILE *f;
	mk_root();
	snprintf(p, sizeof(p), "%s/a.hostevents.jsonl", root);
	snprintf(q, sizeof(q), "%s/other/a.hostevents.jsonl", root);
	snprintf(st, sizeof(st), "%s/ship.state", root);
	write_file(p, "{\"x\":1}\n{\"x\":2}\n", "w"); /* 16 bytes */
	CHECK_EQ_INT(stat(p, &sb), 0);
	/* a state that says all 16 bytes were acknowledged at stream 116 */
	f = fopen(st, "w");
	CHECK(f != NULL);
	fprintf(f, "mamori-ship-state 1\n116 16 %llu %llu a.hostevents.jsonl %s\n",
		(unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino, p);
	fclose(f);
	s = open_ship(st, 0);
	CHECK_EQ_INT(mm_ship_pending(s, p), -1); /* not added */
	CHECK_EQ_INT(mm_ship_add(s, p, NULL, &err), 0);
	CHECK_EQ_INT(mm_ship_add(s, p, NULL, &err), 0); /* again: same */
	CHECK_EQ_INT(mm_ship_add(s, q, NULL, &err), MM_EEXISTS); /* same source name */
	CHECK_EQ_INT(mm_ship_add(s, "/x/y.log.gz", NULL, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_ship_pending(s, p), 0); /* shipped: may be deleted */
	write_file(p, "{\"x\":3}\n", "a");
	CHECK_EQ_INT(mm_ship_pending(s, p), 1); /* new bytes: must not be deleted */
	CHECK_EQ_INT(mm_ship_remove(s, p, &err), MM_EBUSY);
	/* the server is away: retry, backoff grows, nothing acknowledged */
	CHECK_EQ_INT(mm_ship_cycle(s, &err), MM_SHIP_RETRY);
	CHECK(mm_ship_retry_ms(s) >= MM_SHIP_BACKOFF_MIN_MS);
	CHECK_EQ_INT(mm_ship_cycle(s, &err), MM_SHIP_RETRY);
	CHECK(mm_ship_retry_ms(s) >= 2 * MM_SHIP_BACKOFF_MIN_MS);
	CHECK_EQ_INT(mm_ship_pending(s, p), 1);
	mm_ship_close(s);
	/* the state written back is what was acknowledged */
	f = fopen(st, "r");
	CHECK(f != NULL);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_EQ_STR(line, "mamori-ship-state 1\n");
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK(!strncmp(line, "116 16 ", 7));
	fclose(f);
	/* a restart resumes there; a backlog over the cap is reported */
	s = open_ship(st, 4);
	CHECK_EQ_INT(mm_ship_add(s, p, NULL, &err), 0);
	CHECK_EQ_INT(mm_ship_pending(s, p), 1);
	CHECK_EQ_INT(mm_ship_cycle(s, &err), MM_SHIP_OVER_CAP);
	{
		struct mm_ship_counts c;
		mm_ship_counts(s, &c);
		CHECK(c.backlog == 8 && c.over_cap && c.failures >= 1);
	}
	/* deleted too early: its bytes are still shipped through the open
	 * file while this process lives (and pending says so) */
	CHECK_EQ_INT(unlink(p), 0);
	CHECK_EQ_INT(mm_ship_pending(s, p), 1);
	CHECK_EQ_INT(mm_ship_remove(s, p, &err), MM_EBUSY);
	mm_ship_close(s);
	/* after a restart they are gone: nothing pending, removable */
	s = open_ship(st, 0);
	CHECK_EQ_INT(mm_ship_add(s, p, NULL, &err), 0);
	CHECK_EQ_INT(mm_ship_cycle(s, &err), MM_SHIP_DONE);
	CHECK_EQ_INT(mm_ship_pending(s, p), 0);
	CHECK_EQ_INT(mm_ship_remove(s, p, &err), 0);
	mm_ship_close(s);
	cleanup();
}

MM_TEST(bad_state_file_refused)
{
	char st[128];
	struct mm_ship_opts o;
	struct mm_ship *s = NULL;
	struct mm_err err;
	mk_root();
	snprintf(st, sizeof(st), "%s/ship.state", root);
	write_file(st, "something else\n", "w");
	memset(&o, 0, sizeof(o));
	o.server = "http://127.0.0.1:1";
	o.key_id = "AKIAABCDEFGHIJKLMNOP";
	o.secret = "secret";
	o.state_path = st;
	CHECK_EQ_INT(mm_ship_open(&s, &o, &err), MM_EPARSE);
	o.server = "ftp://x";
	CHECK_EQ_INT(mm_ship_open(&s, &o, &err), MM_EINVAL);
	o.server = "http://127.0.0.1:1";
	o.host = "../etc";
	CHECK_EQ_INT(mm_ship_open(&s, &o, &err), MM_EINVAL);
	cleanup();
}
