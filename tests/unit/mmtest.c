/* mmtest.c - runner for MM_TEST tests: fork per test, summary line.
 *
 * The table is fixed (MMTEST_MAX entries); registering more is a failure of
 * the run, never a silent drop. A test that needs ../shared/data (through
 * mmtest_shared_data) is skipped, not failed, where that folder is absent:
 * a fresh clone has only the repository. */
#include "mmtest.h"

#include <setjmp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MMTEST_MAX
#define MMTEST_MAX 1024
#endif
/* a forked test that skips exits with this (automake's "skipped" code) */
#define MMTEST_SKIP_EXIT 77

static struct {
	const char *name;
	mmtest_fn fn;
} tests[MMTEST_MAX];
static int ntests;
static int dropped;		  /* registrations past MMTEST_MAX */
static const char *first_dropped; /* the first of them, for the message */
static int current = -1;	  /* index of the running test */
static int forked;		  /* running in a child process */
static jmp_buf skip_jmp;	  /* MMTEST_NOFORK: where mmtest_skip returns */
int mmtest_failures;

void mmtest_register(const char *name, mmtest_fn fn)
{
	if (ntests >= MMTEST_MAX) {
		if (!dropped++)
			first_dropped = name;
		return;
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void mmtest_skip(const char *why)
{
	fprintf(stderr, "skip %s: %s\n", current >= 0 ? tests[current].name : "?", why);
	fflush(NULL);
	if (forked)
		_exit(MMTEST_SKIP_EXIT);
	longjmp(skip_jmp, 1);
}

const char *mmtest_shared_data(void)
{
	const char *e = getenv("MM_SHARED_DATA");
	const char *d = e && *e ? e : "../shared/data";
	struct stat st;

	if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
		mmtest_skip("../shared/data absent");
	return d;
}

enum { RUN_FAIL, RUN_PASS, RUN_SKIP };

static int run_one(int i)
{
	pid_t pid;
	int st;

	current = i;
	if (getenv("MMTEST_NOFORK")) {
		forked = 0;
		mmtest_failures = 0;
		if (setjmp(skip_jmp))
			return RUN_SKIP;
		tests[i].fn();
		return mmtest_failures == 0 ? RUN_PASS : RUN_FAIL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return RUN_FAIL;
	if (pid == 0) {
		forked = 1;
		mmtest_failures = 0;
		tests[i].fn();
		fflush(NULL);
		_exit(mmtest_failures ? 1 : 0);
	}
	if (waitpid(pid, &st, 0) < 0)
		return RUN_FAIL;
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "  %s: killed by signal %d\n", tests[i].name, WTERMSIG(st));
		return RUN_FAIL;
	}
	if (!WIFEXITED(st))
		return RUN_FAIL;
	if (WEXITSTATUS(st) == MMTEST_SKIP_EXIT)
		return RUN_SKIP;
	return WEXITSTATUS(st) == 0 ? RUN_PASS : RUN_FAIL;
}

int mmtest_row(const struct mmtest_rows *r, const char *entity)
{
	int i;
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->entity[i], entity))
			return i;
	return -1;
}

int mmtest_put_row(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct mmtest_rows *r = pctx;
	int i = mmtest_row(r, entity);
	if (strlen(entity) >= sizeof(r->entity[0]))
		return -1;
	if (i < 0) {
		if (r->n == MMTEST_ROWS_MAX)
			return -1;
		i = r->n++;
		snprintf(r->entity[i], sizeof(r->entity[i]), "%s", entity);
	} else {
		free(r->blob[i]);
	}
	if (!(r->blob[i] = malloc(n ? n : 1)))
		abort();
	if (n)
		memcpy(r->blob[i], blob, n);
	r->len[i] = n;
	return 0;
}

void mmtest_rows_free(struct mmtest_rows *r)
{
	int i;
	for (i = 0; i < r->n; i++)
		free(r->blob[i]);
	memset(r, 0, sizeof(*r));
}

int main(int argc, char **argv)
{
	int i, passed = 0, failed = 0, skipped = 0;
	const char *only = argc > 1 ? argv[1] : NULL;

	if (dropped) {
		/* each test that could not be registered is a failure */
		fprintf(stderr,
			"FAIL mmtest: %d tests registered past the runner's capacity of %d "
			"(first: %s); raise MMTEST_MAX\n",
			dropped, MMTEST_MAX, first_dropped);
		failed += dropped;
	}
	for (i = 0; i < ntests; i++) {
		if (only && !strstr(tests[i].name, only))
			continue;
		switch (run_one(i)) {
		case RUN_PASS:
			passed++;
			break;
		case RUN_SKIP:
			skipped++;
			break;
		default:
			failed++;
			fprintf(stderr, "FAIL %s\n", tests[i].name);
		}
	}
	fflush(stderr);
	printf("%s: %d passed, %d failed, %d skipped\n", argv[0], passed, failed, skipped);
	return failed ? 1 : 0;
}

int mmtest_capture_stderr(void (*fn)(void), char *text, size_t cap)
{
	char path[] = "/tmp/mmtest_errXXXXXX";
	int fd = mkstemp(path), saved = dup(2), lines = 0;
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	if (f) {
		n = fread(text, 1, cap - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	unlink(path);
	for (n = 0; text[n]; n++)
		lines += text[n] == '\n';
	return lines;
}
