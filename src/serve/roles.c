/* roles.c - the console's roles and what each operation needs (roles.h). */
#include "serve/roles.h"

#include <string.h>

#include "core/common.h"

static const char *const NAMES[] = {"none", "viewer", "analyst", "admin"};

enum mm_access mm_access_parse(const char *s)
{
	int i;
	for (i = 1; s && i < (int)MM_ARRAY_LEN(NAMES); i++)
		if (!strcmp(s, NAMES[i]))
			return (enum mm_access)i;
	return MM_ACCESS_NONE;
}

const char *mm_access_name(enum mm_access a)
{
	return (int)a >= 1 && (int)a < (int)MM_ARRAY_LEN(NAMES) ? NAMES[a] : NAMES[0];
}

/* The n-th segment of path (0: "detector") into out; 0 when absent. */
static int seg(const char *path, int n, char *out, size_t cap)
{
	const char *p = path;
	size_t len;
	int i;
	for (i = 0;; i++) {
		while (*p == '/')
			p++;
		if (!*p)
			return 0;
		len = strcspn(p, "/");
		if (i == n) {
			if (len >= cap)
				len = cap - 1;
			memcpy(out, p, len);
			out[len] = '\0';
			return 1;
		}
		p += len;
	}
}

/* POST operations that only read (GuardDuty reads through POST too). */
static const char *const POST_READS[] = {"get", "statistics"};

enum mm_access mm_access_gd(const char *method, const char *path, const char **what)
{
	char kind[32] = "", op[32] = "";
	const char *w = "changing the configuration";
	enum mm_access need = MM_ACCESS_ADMIN;
	int has_op;
	size_t i;

	if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		need = MM_ACCESS_VIEWER;
		w = "reading";
		goto out;
	}
	seg(path, 2, kind, sizeof(kind));
	has_op = seg(path, 3, op, sizeof(op));
	if (!strcmp(kind, "findings") && !strcmp(method, "POST")) {
		if (!has_op) {
			need = MM_ACCESS_VIEWER;	/* ListFindings */
			w = "reading";
			goto out;
		}
		for (i = 0; i < MM_ARRAY_LEN(POST_READS); i++)
			if (!strcmp(op, POST_READS[i])) {
				need = MM_ACCESS_VIEWER;
				w = "reading";
				goto out;
			}
		if (!strcmp(op, "archive") || !strcmp(op, "unarchive")) {
			need = MM_ACCESS_ANALYST;
			w = "archiving or unarchiving findings";
		} else if (!strcmp(op, "feedback")) {
			need = MM_ACCESS_ANALYST;
			w = "giving feedback on findings";
		} else if (!strcmp(op, "create")) {
			w = "creating sample findings";
		}
		goto out;
	}
	if (!strcmp(kind, "filter")) {
		need = MM_ACCESS_ANALYST;
		w = "changing filters (suppression rules)";
	} else if (!strcmp(kind, "threatintelset") || !strcmp(kind, "ipset")) {
		w = "changing threat intel sets and IP sets";
	}
out:
	if (what)
		*what = w;
	return need;
}
