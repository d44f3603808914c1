/* mmtest.c - runner for MM_TEST tests: fork per test, summary line. */
#include "mmtest.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 1024

static struct {
	const char *name;
	mmtest_fn fn;
} tests[MAX_TESTS];
static int ntests;
int mmtest_failures;

void mmtest_register(const char *name, mmtest_fn fn)
{
	if (ntests < MAX_TESTS) {
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		ntests++;
	}
}

const char *mmtest_shared_data(void)
{
	const char *e = getenv("MM_SHARED_DATA");
	return e && *e ? e : "../shared/data";
}

static int run_one(int i)
{
	pid_t pid;
	int st;

	if (getenv("MMTEST_NOFORK")) {
		mmtest_failures = 0;
		tests[i].fn();
		return mmtest_failures == 0;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		mmtest_failures = 0;
		tests[i].fn();
		fflush(NULL);
		_exit(mmtest_failures ? 1 : 0);
	}
	if (waitpid(pid, &st, 0) < 0)
		return 0;
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "  %s: killed by signal %d\n", tests[i].name, WTERMSIG(st));
		return 0;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	int i, passed = 0, failed = 0;
	const char *only = argc > 1 ? argv[1] : NULL;

	for (i = 0; i < ntests; i++) {
		if (only && !strstr(tests[i].name, only))
			continue;
		if (run_one(i)) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "FAIL %s\n", tests[i].name);
		}
	}
	printf("%s: %d passed, %d failed\n", argv[0], passed, failed);
	return failed ? 1 : 0;
}
