/* mmtest_selftest.c - the runner's own checks, run by tests/golden/run.sh
 * (harness_*). Built with MMTEST_MAX=2 and three tests: the third cannot be
 * registered, and that must fail the run, not vanish. The first needs
 * ../shared/data: where MM_SHARED_DATA names no folder it must be skipped
 * (counted as such), where it names one it runs and fails on purpose.
 * Not a unit test of mamori: no test_ prefix. */
#include "mmtest.h"

MM_TEST(needs_shared_data)
{
	const char *d = mmtest_shared_data();
	fprintf(stderr, "  reached with %s\n", d);
	CHECK(0); /* only reached when the folder exists */
}

MM_TEST(passes)
{
	CHECK(1);
}

MM_TEST(past_capacity)
{
	CHECK(1);
}
