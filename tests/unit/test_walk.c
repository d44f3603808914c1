/* test_walk.c - folder expansion: files reached by two names are listed
 * once, link loops end, links never lead out of the roots given, an
 * unreadable or too-deep folder is counted and the rest is walked, and
 * each file knows its root. Each test works in its own temp folder. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/walk.h"
#include "mmtest.h"

static char top[PATH_MAX];

/* a fresh canonical temp folder in top */
static void mktop(void)
{
	char t[] = "/tmp/mmtest_walkXXXXXX";
	char *r;
	CHECK(mkdtemp(t) != NULL);
	r = realpath(t, NULL);
	snprintf(top, sizeof(top), "%s", r ? r : t);
	free(r);
}

static void rmtop(void)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s; rm -rf %s", top, top);
	CHECK_EQ_INT(system(cmd), 0);
}

/* top/rel as a string */
static const char *at(const char *rel)
{
	static char b[4][PATH_MAX];
	static int k;
	k = (k + 1) % 4;
	snprintf(b[k], sizeof(b[k]), "%s/%s", top, rel);
	return b[k];
}

static void mkd(const char *rel) { CHECK_EQ_INT(mkdir(at(rel), 0755), 0); }

static void mkf(const char *rel)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ_INT(write(fd, "x\n", 2), 2);
		close(fd);
	}
}

static int has_path(const struct mm_filelist *fl, const char *p)
{
	size_t i;
	for (i = 0; i < fl->n; i++)
		if (strcmp(fl->paths[i], p) == 0)
			return 1;
	return 0;
}

static void walk1(struct mm_filelist *fl, const char *root)
{
	struct mm_err e;
	mm_filelist_init(fl);
	CHECK_EQ_INT(mm_walk_add(fl, root, &e), 0);
	mm_filelist_sort(fl);
}

MM_TEST(file_reached_by_two_names_is_listed_once)
{
	struct mm_filelist fl;

	mktop();
	mkd("a");
	mkf("a/x.log");
	CHECK_EQ_INT(symlink(at("a/x.log"), at("a/soft.log")), 0);
	CHECK_EQ_INT(symlink("x.log", at("a/rel.log")), 0);
	CHECK_EQ_INT(link(at("a/x.log"), at("a/hard.log")), 0);
	walk1(&fl, at("a"));
	CHECK_EQ_INT(fl.n, 1);
	if (fl.n == 1)
		CHECK(strstr(fl.paths[0], "/a/hard.log") || strstr(fl.paths[0], "/a/x.log"));
	CHECK_EQ_INT(fl.links_skipped, 0);
	CHECK_EQ_INT(fl.unreadable, 0);
	mm_filelist_free(&fl);
	rmtop();
}

MM_TEST(link_loops_end)
{
	struct mm_filelist fl;

	mktop();
	mkd("a");
	mkd("a/sub");
	mkf("a/sub/y.log");
	CHECK_EQ_INT(symlink("..", at("a/sub/up")), 0);
	CHECK_EQ_INT(symlink(at("a"), at("a/self")), 0);
	CHECK_EQ_INT(symlink("loop2", at("a/loop1")), 0);
	CHECK_EQ_INT(symlink("loop1", at("a/loop2")), 0);
	walk1(&fl, at("a"));
	CHECK_EQ_INT(fl.n, 1);
	CHECK(has_path(&fl, at("a/sub/y.log")));
	CHECK_EQ_INT(fl.links_skipped, 2); /* the two-link cycle resolves to nothing */
	mm_filelist_free(&fl);
	rmtop();
}

MM_TEST(links_never_lead_out_of_the_roots)
{
	struct mm_filelist fl;
	struct mm_err e;
	const char *two[2];

	mktop();
	mkd("a");
	mkd("out");
	mkd("out/d");
	mkf("a/in.log");
	mkf("out/secret.log");
	mkf("out/d/z.log");
	CHECK_EQ_INT(symlink(at("out/secret.log"), at("a/leak.log")), 0);
	CHECK_EQ_INT(symlink(at("out/d"), at("a/leakdir")), 0);
	CHECK_EQ_INT(symlink(at("missing"), at("a/dangling")), 0);
	walk1(&fl, at("a"));
	CHECK_EQ_INT(fl.n, 1);
	CHECK(has_path(&fl, at("a/in.log")));
	CHECK(!has_path(&fl, at("out/secret.log")));
	CHECK_EQ_INT(fl.links_skipped, 3);
	mm_filelist_free(&fl);

	/* with the other folder given too, the link is inside the roots: its
	 * target is listed once, under its own name and root */
	two[0] = at("a");
	two[1] = at("out");
	mm_filelist_init(&fl);
	CHECK_EQ_INT(mm_walk_paths(&fl, two, 2, &e), 0);
	mm_filelist_sort(&fl);
	CHECK_EQ_INT(fl.n, 3);
	CHECK_EQ_INT(fl.nroots, 2);
	CHECK_EQ_INT(fl.links_skipped, 1); /* the dangling one */
	CHECK(has_path(&fl, at("out/secret.log")));
	CHECK(has_path(&fl, at("out/d/z.log")));
	mm_filelist_free(&fl);
	rmtop();
}

MM_TEST(unreadable_and_too_deep_folders_are_counted)
{
	struct mm_filelist fl;
	char rel[PATH_MAX] = "a";
	int i;

	mktop();
	mkd("a");
	mkf("a/top.log");
	/* deeper than the limit: a warning, the rest is walked */
	for (i = 0; i <= MM_WALK_MAX_DEPTH + 1; i++) {
		strcat(rel, "/d");
		mkd(rel);
	}
	strcat(rel, "/deep.log");
	mkf(rel);
	walk1(&fl, at("a"));
	CHECK_EQ_INT(fl.n, 1);
	CHECK(has_path(&fl, at("a/top.log")));
	CHECK_EQ_INT(fl.unreadable, 1);
	mm_filelist_free(&fl);

	/* a folder without permissions; as root, permissions do not stop
	 * reads, so only the too-deep case above can be checked */
	mkd("a/locked");
	mkf("a/locked/hidden.log");
	CHECK_EQ_INT(chmod(at("a/locked"), 0), 0);
	walk1(&fl, at("a"));
	if (geteuid() != 0) {
		CHECK_EQ_INT(fl.unreadable, 2);
		CHECK_EQ_INT(fl.n, 1);
	} else {
		CHECK_EQ_INT(fl.unreadable, 1);
		CHECK_EQ_INT(fl.n, 2);
	}
	CHECK(has_path(&fl, at("a/top.log")));
	mm_filelist_free(&fl);
	rmtop();
}

MM_TEST(each_file_knows_its_root)
{
	struct mm_filelist fl;
	struct mm_err e;
	const char *paths[4];
	size_t i;

	mktop();
	mkd("a");
	mkd("a/b");
	mkd("c");
	mkf("a/b/one.log");
	mkf("c/two.log");
	paths[0] = at("a");
	paths[1] = at("c/two.log");
	paths[2] = "-";
	paths[3] = at("a/"); /* the same root again */
	mm_filelist_init(&fl);
	CHECK_EQ_INT(mm_walk_paths(&fl, paths, 4, &e), 0);
	mm_filelist_sort(&fl);
	CHECK_EQ_INT(fl.n, 3);
	CHECK_EQ_INT(fl.nroots, 2);
	for (i = 0; i < fl.n; i++) {
		if (strcmp(fl.paths[i], "-") == 0) {
			CHECK(fl.root_of[i] == MM_WALK_NO_ROOT);
			CHECK_EQ_STR(mm_filelist_rel(&fl, i), "-");
		} else if (strstr(fl.paths[i], "one.log")) {
			CHECK_EQ_STR(fl.roots[fl.root_of[i]], at("a"));
			CHECK_EQ_STR(mm_filelist_rel(&fl, i), "b/one.log");
		} else {
			CHECK_EQ_STR(fl.roots[fl.root_of[i]], at("c/two.log"));
			CHECK_EQ_STR(mm_filelist_rel(&fl, i), "two.log");
		}
	}
	/* a missing path is an error naming it */
	paths[0] = "/nonexistent-dir-xyz";
	CHECK_EQ_INT(mm_walk_paths(&fl, paths, 1, &e), MM_EIO);
	CHECK(strstr(e.msg, "/nonexistent-dir-xyz") != NULL);
	mm_filelist_free(&fl);
	rmtop();
}

/* ---- the rest of the command line's inputs: --options-file ----------- */

#include "cli/cli.h"

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

MM_TEST(options_file_words_come_before_the_command_line)
{
	struct mm_cli_args a;
	struct mm_err e;
	char *argv[8], want[PATH_MAX + 32];

	mktop();
	put("opts", "# scan options\n--db\nrel.db\n  --format  \njson\n\n--strict\n--threat-list\n"
		    "c2=lists/x.txt\n--threat-list\nother/y.txt\n--inventory=inv.json\n--db=/abs.db\n");
	argv[0] = "scan";
	argv[1] = "--options-file";
	argv[2] = (char *)at("opts");
	argv[3] = "--format";
	argv[4] = "table";
	argv[5] = "logs";
	argv[6] = NULL;
	CHECK_EQ_INT(mm_cli_splice_options(6, argv, &a, &e), 0);
	CHECK_EQ_INT(a.argc, 1 + 11 + 5);
	CHECK_EQ_INT(a.nowned, 11);
	if (a.argc == 17) {
		CHECK_EQ_STR(a.argv[0], "scan");
		CHECK_EQ_STR(a.argv[1], "--db");
		snprintf(want, sizeof(want), "%s/rel.db", top);
		CHECK_EQ_STR(a.argv[2], want);
		CHECK_EQ_STR(a.argv[3], "--format");
		CHECK_EQ_STR(a.argv[4], "json");
		CHECK_EQ_STR(a.argv[5], "--strict");
		snprintf(want, sizeof(want), "c2=%s/lists/x.txt", top);
		CHECK_EQ_STR(a.argv[7], want);
		snprintf(want, sizeof(want), "%s/other/y.txt", top);
		CHECK_EQ_STR(a.argv[9], want);
		snprintf(want, sizeof(want), "--inventory=%s/inv.json", top);
		CHECK_EQ_STR(a.argv[10], want);
		CHECK_EQ_STR(a.argv[11], "--db=/abs.db");
		/* the command line last: its --format wins */
		CHECK_EQ_STR(a.argv[12], "--options-file");
		CHECK_EQ_STR(a.argv[14], "--format");
		CHECK_EQ_STR(a.argv[15], "table");
		CHECK_EQ_STR(a.argv[16], "logs");
		CHECK(a.argv[17] == NULL && a.argv[16] != NULL);
	}
	mm_cli_args_free(&a);

	/* without an options file: the command line as it is */
	CHECK_EQ_INT(mm_cli_splice_options(1, argv, &a, &e), 0);
	CHECK_EQ_INT(a.argc, 1);
	mm_cli_args_free(&a);
	rmtop();
}

MM_TEST(options_file_word_limit_counts_the_files_words)
{
	struct mm_cli_args a;
	struct mm_err e;
	char *argv[400], big[4096] = "";
	int i;

	mktop();
	for (i = 0; i < MM_CLI_MAX_FILE_WORDS / 2 + 1; i++)
		strcat(big, "--strict\n");
	put("half1", big);
	put("half2", big);
	put("small", "--strict\n");
	/* two files that together pass the limit: a clear error */
	argv[0] = "scan";
	argv[1] = "--options-file";
	argv[2] = (char *)at("half1");
	{
		static char opt[PATH_MAX + 32];
		snprintf(opt, sizeof(opt), "--options-file=%s", at("half2"));
		argv[3] = opt;
	}
	CHECK(mm_cli_splice_options(4, argv, &a, &e) == MM_EINVAL);
	CHECK(strstr(e.msg, "half2") != NULL);
	CHECK(strstr(e.msg, "more than 256 words") != NULL);
	CHECK(a.argv == NULL && a.nowned == 0);
	mm_cli_args_free(&a);
	/* a long command line does not count against the files' limit */
	argv[1] = "--options-file";
	argv[2] = (char *)at("small");
	for (i = 3; i < 390; i++)
		argv[i] = "x.log";
	CHECK_EQ_INT(mm_cli_splice_options(390, argv, &a, &e), 0);
	CHECK_EQ_INT(a.argc, 391);
	mm_cli_args_free(&a);
	/* missing file, over-long line, too many files */
	argv[2] = "/nonexistent/opts";
	CHECK_EQ_INT(mm_cli_splice_options(3, argv, &a, &e), MM_EIO);
	CHECK(strstr(e.msg, "/nonexistent/opts") != NULL);
	{
		static char line[MM_CLI_MAX_WORD + 100];
		memset(line, 'a', sizeof(line) - 2);
		line[sizeof(line) - 2] = '\n';
		put("long", line);
	}
	argv[2] = (char *)at("long");
	CHECK_EQ_INT(mm_cli_splice_options(3, argv, &a, &e), MM_EINVAL);
	CHECK(strstr(e.msg, "line longer") != NULL);
	for (i = 1; i <= 2 * (MM_CLI_MAX_OPTFILES + 1); i += 2) {
		argv[i] = "--options-file";
		argv[i + 1] = (char *)at("small");
	}
	CHECK_EQ_INT(mm_cli_splice_options(1 + 2 * (MM_CLI_MAX_OPTFILES + 1), argv, &a, &e),
		     MM_EINVAL);
	rmtop();
}
