/* mmtest_overflow.c - the runner's own check: built with MMTEST_MAX=2 and
 * three tests, it must fail the run (tests/golden/run.sh harness_*), not
 * drop the third silently. Not a unit test of mamori: no test_ prefix. */
#include "mmtest.h"

MM_TEST(one)
{
	CHECK(1);
}

MM_TEST(two)
{
	CHECK(1);
}

MM_TEST(three)
{
	CHECK(1);
}
