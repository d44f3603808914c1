/* test_mem.c - scan's choice of glibc's huge pages by its inputs: off
 * only when the inputs are CloudTrail only, told by their names (or
 * those of what folders hold, breadth first); anything flow-like,
 * unnamed, unreadable or stdin keeps them. Each test works in its own
 * temp folder. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "mmtest.h"

int mm__mem_want_thp(const char *const *paths, size_t npaths);

static char top[PATH_MAX];

static void mktop(void)
{
	char t[] = "/tmp/mmtest_memXXXXXX";
	CHECK(mkdtemp(t) != NULL);
	snprintf(top, sizeof(top), "%s", t);
}

static void rmtop(void)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	CHECK_EQ_INT(system(cmd), 0);
}

/* top/rel, made: a folder when rel ends in '/', else an empty file (and
 * its folder) */
static const char *mk(const char *rel)
{
	static char b[8][PATH_MAX];
	static int k;
	char *p = b[k++ % 8];
	size_t n;
	snprintf(p, PATH_MAX, "%s/%s", top, rel);
	n = strlen(p);
	if (p[n - 1] == '/') {
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "mkdir -p %s", p);
		CHECK_EQ_INT(system(cmd), 0);
	} else {
		char cmd[PATH_MAX + 32];
		FILE *f;
		snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname %s)\"", p);
		CHECK_EQ_INT(system(cmd), 0);
		f = fopen(p, "w");
		CHECK(f != NULL);
		if (f)
			fclose(f);
	}
	return p;
}

static int want(const char *a, const char *b)
{
	const char *v[2] = {a, b};
	return mm__mem_want_thp(v, b ? 2 : 1);
}

#define CT_NAME "111122223333_CloudTrail_us-east-1_20240101T0020Z_0be6cfc58ac6965f.json.gz"
#define FLOW_NAME "111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d_20240101T0000Z_1a2b3c4d.log.gz"

MM_TEST(cloudtrail_files_only_turn_them_off)
{
	mktop();
	CHECK_EQ_INT(want(mk("a/" CT_NAME), NULL), 0);
	CHECK_EQ_INT(want(mk(CT_NAME), mk("b/" CT_NAME)), 0);
	/* with a flow log, or alone a flow log: on */
	CHECK_EQ_INT(want(mk(CT_NAME), mk(FLOW_NAME)), 1);
	CHECK_EQ_INT(want(mk(FLOW_NAME), NULL), 1);
	rmtop();
}

MM_TEST(folders_are_looked_into_breadth_first)
{
	const char *root;
	mktop();
	/* AWS's layout: the service is named a few levels down */
	mk("logs/AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/01/");
	mk("logs/AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/01/" CT_NAME);
	root = mk("logs/");
	CHECK_EQ_INT(want(root, NULL), 0);
	/* a flow-log folder beside it turns them on */
	mk("logs/AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/01/01/");
	mk("logs/AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/01/01/" FLOW_NAME);
	CHECK_EQ_INT(want(root, NULL), 1);
	rmtop();
}

MM_TEST(unknown_names_stdin_and_missing_paths_keep_them)
{
	mktop();
	CHECK_EQ_INT(want(mk("events.json"), NULL), 1);
	CHECK_EQ_INT(want(mk("x/records.log"), NULL), 1);
	CHECK_EQ_INT(want("-", NULL), 1);
	CHECK_EQ_INT(want(mk(CT_NAME), "-"), 1);
	CHECK_EQ_INT(want("/nonexistent/mamori/" CT_NAME, NULL), 1);
	/* a Sigma rule named after flow logs is not a flow log */
	mk("r/" CT_NAME);
	mk("r/aws_cloudtrail_vpc_flow_logs_deleted.yml");
	CHECK_EQ_INT(want(mk("r/"), NULL), 0);
	rmtop();
}
