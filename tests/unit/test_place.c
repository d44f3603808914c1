/* test_place.c - a host's account and region (engine/place.h): the
 * place file's parser on good and hostile text, reading and writing it
 * in a real folder, and the instance -> place table's rules (a member
 * left empty keeps what was known, changes are reported once, the bound). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/place.h"
#include "mmtest.h"

static int parse(const char *s, struct mm_place *p, struct mm_err *e)
{
	return mm_place_parse(s, strlen(s), p, e);
}

MM_TEST(place_ids_checked)
{
	CHECK(mm_place_account_ok("123456789012", 12));
	CHECK(!mm_place_account_ok("12345678901", 11));
	CHECK(!mm_place_account_ok("12345678901a", 12));
	CHECK(mm_place_region_ok("eu-west-1", 9));
	CHECK(mm_place_region_ok("us-gov-west-1", 13));
	CHECK(!mm_place_region_ok("", 0));
	CHECK(!mm_place_region_ok("EU-West-1", 9));
	CHECK(!mm_place_region_ok("-eu", 3));
	CHECK(!mm_place_region_ok("eu/west", 7));
	CHECK(!mm_place_region_ok("abcdefghijklmnopqrstuvwxy", 25));
}

MM_TEST(place_parse_good_and_partial)
{
	struct mm_place p;
	struct mm_err e;
	CHECK_EQ_INT(parse("{\"accountId\":\"123456789012\",\"region\":\"eu-west-1\"}\n", &p, &e), 0);
	CHECK_EQ_STR(p.account, "123456789012");
	CHECK_EQ_STR(p.region, "eu-west-1");
	/* either may be missing or empty; unknown members are a newer writer's */
	CHECK_EQ_INT(parse(" {\"region\":\"ap-south-2\",\"note\":{\"a\":[1]}} ", &p, &e), 0);
	CHECK_EQ_STR(p.account, "");
	CHECK_EQ_STR(p.region, "ap-south-2");
	CHECK_EQ_INT(parse("{\"accountId\":\"\"}", &p, &e), 0);
	CHECK_EQ_STR(p.account, "");
	CHECK_EQ_INT(parse("{}", &p, &e), 0);
}

MM_TEST(place_parse_hostile)
{
	static const char *const bad[] = {
		"",
		"accountId=123456789012",
		"[\"123456789012\"]",
		"{\"accountId\":123456789012}",
		"{\"accountId\":\"1234\"}",
		"{\"accountId\":\"12345678901\\u0032\"}",	/* an escape is no id */
		"{\"region\":\"eu-west-1\\\"x\"}",
		"{\"region\":\"../../etc\"}",
		"{\"region\":null}",
		"{\"accountId\":\"123456789012\"} {}",
		"{\"accountId\":\"123456789012\"",
	};
	struct mm_place p;
	struct mm_err e;
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &p, &e) != MM_EPARSE) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			CHECK(0);
		}
		CHECK(e.msg[0] != '\0');
	}
	CHECK_EQ_INT(parse("{\"accountId\":\"1234\"}", &p, &e), MM_EPARSE);
	CHECK(strstr(e.msg, "12-digit") != NULL);
}

/* path := text, then n bytes of more. 0 or -1. */
static int put_file(const char *path, const char *text, const char *more, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (n)
		fwrite(more, 1, n, f);
	return fclose(f) ? -1 : 0;
}

MM_TEST(place_read_write_folder)
{
	char dir[] = "/tmp/mm-test-place-XXXXXX", path[128], big[5000];
	struct mm_place p, q;
	struct mm_err e;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ_INT(mm_place_read_dir(dir, &p, &e), 0); /* none */
	memset(&p, 0, sizeof(p));
	snprintf(p.account, sizeof(p.account), "123456789012");
	CHECK_EQ_INT(mm_place_write_dir(dir, &p, &e), 0);
	CHECK_EQ_INT(mm_place_read_dir(dir, &q, &e), 1);
	CHECK_EQ_STR(q.account, "123456789012");
	CHECK_EQ_STR(q.region, "");
	/* a region alone keeps the account the file has */
	memset(&p, 0, sizeof(p));
	snprintf(p.region, sizeof(p.region), "eu-west-3");
	CHECK_EQ_INT(mm_place_write_dir(dir, &p, &e), 0);
	CHECK_EQ_INT(mm_place_read_dir(dir, &q, &e), 1);
	CHECK_EQ_STR(q.account, "123456789012");
	CHECK_EQ_STR(q.region, "eu-west-3");
	snprintf(path, sizeof(path), "%s/%s.tmp", dir, MM_PLACE_FILE);
	CHECK(access(path, F_OK) != 0); /* no temporary left */
	/* broken and oversized files are errors naming the file */
	snprintf(path, sizeof(path), "%s/%s", dir, MM_PLACE_FILE);
	CHECK(put_file(path, "{\"accountId\":42}", NULL, 0) == 0);
	CHECK_EQ_INT(mm_place_read_dir(dir, &q, &e), MM_EPARSE);
	CHECK(strstr(e.msg, MM_PLACE_FILE) != NULL);
	CHECK(strstr(e.msg, "accountId: expected a string") != NULL);
	memset(big, ' ', sizeof(big));
	CHECK(put_file(path, "{\"accountId\":\"123456789012\"}", big, sizeof(big)) == 0);
	CHECK_EQ_INT(mm_place_read_dir(dir, &q, &e), MM_EPARSE);
	CHECK(strstr(e.msg, "over") != NULL);
	/* a symlink there is not followed */
	unlink(path);
	CHECK(symlink("/etc/hostname", path) == 0);
	CHECK(mm_place_read_dir(dir, &q, &e) < 0);
	unlink(path);
	CHECK(rmdir(dir) == 0);
}

struct seen {
	int n;
	char last[32];
};

static int count_changed(void *ctx, const char *instance, const struct mm_place *p)
{
	struct seen *s = ctx;
	(void)p;
	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", instance);
	return 0;
}

MM_TEST(places_table_rules)
{
	struct mm_places *ps;
	struct mm_place p, q;
	struct seen s;
	char id[32];
	int i, rc = 0;

	CHECK_EQ_INT(mm_places_new(&ps), 0);
	CHECK_EQ_INT(mm_places_get(ps, "i-0abc", &q), 0);
	memset(&p, 0, sizeof(p));
	snprintf(p.account, sizeof(p.account), "123456789012");
	CHECK_EQ_INT(mm_places_put(ps, "i-0abc", &p), 1);
	CHECK_EQ_INT(mm_places_put(ps, "i-0abc", &p), 0); /* nothing new */
	memset(&p, 0, sizeof(p));
	snprintf(p.region, sizeof(p.region), "eu-west-1");
	CHECK_EQ_INT(mm_places_put(ps, "i-0abc", &p), 1);
	CHECK_EQ_INT(mm_places_get(ps, "i-0abc", &q), 1);
	CHECK_EQ_STR(q.account, "123456789012"); /* kept: the region came alone */
	CHECK_EQ_STR(q.region, "eu-west-1");
	memset(&p, 0, sizeof(p));
	CHECK_EQ_INT(mm_places_put(ps, "i-0empty", &p), 0); /* nothing to remember */
	CHECK_EQ_INT(mm_places_get(ps, "i-0empty", &q), 0);
	CHECK_EQ_INT(mm_places_put(ps, "", &p), MM_EINVAL);
	memset(&s, 0, sizeof(s));
	CHECK_EQ_INT(mm_places_each_changed(ps, count_changed, &s), 0);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_STR(s.last, "i-0abc");
	mm_places_clean(ps);
	memset(&s, 0, sizeof(s));
	mm_places_each_changed(ps, count_changed, &s);
	CHECK_EQ_INT(s.n, 0);
	/* the bound: new instances past it are refused, known ones updated */
	snprintf(p.account, sizeof(p.account), "210987654321");
	for (i = 1; i < MM_PLACES_MAX && !rc; i++) {
		snprintf(id, sizeof(id), "i-%08x", i);
		rc = mm_places_put(ps, id, &p) == 1 ? 0 : 1;
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(mm_places_put(ps, "i-0overflow", &p), MM_ETOOBIG);
	CHECK_EQ_INT(mm_places_put(ps, "i-0abc", &p), 1);
	CHECK_EQ_INT(mm_places_get(ps, "i-0abc", &q), 1);
	CHECK_EQ_STR(q.account, "210987654321");
	CHECK_EQ_INT(mm_places_get(ps, "i-0000beef", &q), 1);
	mm_places_free(ps);
}
