/* test_fim_watch.c - the FIM inotify watch (agent/fim.h): a change to a
 * watched file or in a watched folder wakes it; a look-alike in a folder
 * watched for named files only does not; a folder created later is
 * watched after a refresh; the watch bound is honoured and reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/fim.h"
#include "mmtest.h"

static void put(const char *root, const char *rel, const char *text)
{
	char p[1024];
	FILE *f;
	snprintf(p, sizeof(p), "%s%s", root, rel);
	f = fopen(p, "a");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mk(const char *root, const char *rel)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s%s", root, rel);
	CHECK_EQ_INT(mkdir(p, 0755), 0);
}

static void rmtree(const char *dir)
{
	char cmd[1100];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

/* A test root: etc (passwd naming git's home), etc/cron.d, home/git. */
static void mkroot(char *dir)
{
	CHECK(mkdtemp(dir) != NULL);
	mk(dir, "/etc");
	mk(dir, "/etc/cron.d");
	mk(dir, "/home");
	mk(dir, "/home/git");
	put(dir, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ngit:x:998:998::/home/git:/bin/bash\n");
}

MM_TEST(watch_wakes_on_watched_paths_only)
{
	char dir[] = "/tmp/mm-fimw-XXXXXX";
	struct mm_fim_watch *w = NULL;
	struct mm_fim_watch_stats st;
	struct mm_err e;
	mkroot(dir);
	CHECK_EQ_INT(mm_fim_watch_open(&w, dir, 0, &e), 0);
	if (!w)
		return;
	mm_fim_watch_get_stats(w, &st);
	CHECK(st.watches >= 3); /* /etc, /etc/cron.d, /home/git */
	CHECK_EQ_INT(st.limited, 0);
	CHECK_EQ_INT(mm_fim_watch_wait(w, 0), 0);
	/* a named file in /etc */
	put(dir, "/etc/passwd", "evil:x:0:0::/:/bin/sh\n");
	CHECK_EQ_INT(mm_fim_watch_wait(w, 2000), 1);
	CHECK_EQ_INT(mm_fim_watch_read(w), 0); /* drained */
	/* look-alikes in /etc: not watched names */
	put(dir, "/etc/motd", "hello\n");
	put(dir, "/etc/passwd-", "backup\n");
	CHECK_EQ_INT(mm_fim_watch_wait(w, 300), 0);
	/* any entry of a cron folder */
	put(dir, "/etc/cron.d/updater", "* * * * * root id\n");
	CHECK_EQ_INT(mm_fim_watch_wait(w, 2000), 1);
	/* a home's .ssh created later: seen (named), then watched after a refresh */
	mk(dir, "/home/git/.ssh");
	CHECK_EQ_INT(mm_fim_watch_wait(w, 2000), 1);
	mm_fim_watch_refresh(w);
	put(dir, "/home/git/.ssh/known_hosts", "x\n");
	CHECK_EQ_INT(mm_fim_watch_wait(w, 300), 0);
	put(dir, "/home/git/.ssh/authorized_keys", "ssh-ed25519 AAAA x@y\n");
	CHECK_EQ_INT(mm_fim_watch_wait(w, 2000), 1);
	mm_fim_watch_get_stats(w, &st);
	CHECK(st.wakes >= 4 && st.events >= 6);
	mm_fim_watch_free(w);
	rmtree(dir);
}

MM_TEST(watch_bound_is_reported)
{
	char dir[] = "/tmp/mm-fimw-XXXXXX";
	struct mm_fim_watch *w = NULL;
	struct mm_fim_watch_stats st;
	struct mm_err e;
	mkroot(dir);
	CHECK_EQ_INT(mm_fim_watch_open(&w, dir, 1, &e), 0);
	if (!w)
		return;
	mm_fim_watch_get_stats(w, &st);
	CHECK_EQ_INT((int)st.watches, 1);
	CHECK_EQ_INT(st.limited, 1);
	/* still works for what it watches (the first folder: /etc) */
	put(dir, "/etc/shadow", "root:*:1::::::\n");
	CHECK_EQ_INT(mm_fim_watch_wait(w, 2000), 1);
	mm_fim_watch_free(w);
	mm_fim_watch_free(NULL);
	CHECK_EQ_INT(mm_fim_watch_wait(NULL, 0), 0);
	rmtree(dir);
}

MM_TEST(removed_folder_frees_its_watch)
{
	char dir[] = "/tmp/mm-fimw-XXXXXX";
	char p[1024];
	struct mm_fim_watch *w = NULL;
	struct mm_fim_watch_stats a, b;
	struct mm_err e;
	mkroot(dir);
	CHECK_EQ_INT(mm_fim_watch_open(&w, dir, 0, &e), 0);
	if (!w)
		return;
	mm_fim_watch_get_stats(w, &a);
	snprintf(p, sizeof(p), "%s/etc/cron.d", dir);
	CHECK_EQ_INT(rmdir(p), 0);
	CHECK_EQ_INT(mm_fim_watch_wait(w, 2000), 1);
	mm_fim_watch_read(w);
	mm_fim_watch_get_stats(w, &b);
	CHECK_EQ_INT((int)b.watches, (int)a.watches - 1);
	mm_fim_watch_free(w);
	rmtree(dir);
}
