/* test_roles.c - console roles: the table of what each GuardDuty
 * operation needs (src/serve/roles.c), users' roles in the database
 * (default admin for the first user, analyst after; set-role; a database
 * from before roles gets the column with its users as admin); read-only
 * API keys (src/serve/keys.c: the flag, a table from before it). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmtest.h"
#include "serve/keys.h"
#include "serve/roles.h"
#include "serve/users.h"

#define D "/detector/0123456789abcdef0123456789abcdef"

MM_TEST(role_names)
{
	CHECK_EQ_INT(mm_access_parse("viewer"), MM_ACCESS_VIEWER);
	CHECK_EQ_INT(mm_access_parse("analyst"), MM_ACCESS_ANALYST);
	CHECK_EQ_INT(mm_access_parse("admin"), MM_ACCESS_ADMIN);
	CHECK_EQ_INT(mm_access_parse("Admin"), MM_ACCESS_NONE);
	CHECK_EQ_INT(mm_access_parse("root"), MM_ACCESS_NONE);
	CHECK_EQ_INT(mm_access_parse(NULL), MM_ACCESS_NONE);
	CHECK_EQ_STR(mm_access_name(MM_ACCESS_ANALYST), "analyst");
	CHECK_EQ_STR(mm_access_name((enum mm_access)7), "none");
}

MM_TEST(gd_operation_table)
{
	const char *w = NULL;
	/* reads, including GuardDuty's reads through POST */
	CHECK_EQ_INT(mm_access_gd("GET", "/detector", &w), MM_ACCESS_VIEWER);
	CHECK_EQ_INT(mm_access_gd("GET", D "/filter/x", &w), MM_ACCESS_VIEWER);
	CHECK_EQ_INT(mm_access_gd("GET", D "/threatintelset", &w), MM_ACCESS_VIEWER);
	CHECK_EQ_INT(mm_access_gd("POST", D "/findings", &w), MM_ACCESS_VIEWER);
	CHECK_EQ_INT(mm_access_gd("POST", D "/findings/get", &w), MM_ACCESS_VIEWER);
	CHECK_EQ_INT(mm_access_gd("POST", D "/findings/statistics", &w), MM_ACCESS_VIEWER);
	/* triage */
	CHECK_EQ_INT(mm_access_gd("POST", D "/findings/archive", &w), MM_ACCESS_ANALYST);
	CHECK(strstr(w, "archiv") != NULL);
	CHECK_EQ_INT(mm_access_gd("POST", D "/findings/unarchive", &w), MM_ACCESS_ANALYST);
	CHECK_EQ_INT(mm_access_gd("POST", D "/findings/feedback", &w), MM_ACCESS_ANALYST);
	CHECK_EQ_INT(mm_access_gd("POST", D "/filter", &w), MM_ACCESS_ANALYST);
	CHECK_EQ_INT(mm_access_gd("POST", D "/filter/x", &w), MM_ACCESS_ANALYST);
	CHECK_EQ_INT(mm_access_gd("DELETE", D "/filter/x", &w), MM_ACCESS_ANALYST);
	/* configuration */
	CHECK_EQ_INT(mm_access_gd("POST", D "/threatintelset", &w), MM_ACCESS_ADMIN);
	CHECK(strstr(w, "threat intel") != NULL);
	CHECK_EQ_INT(mm_access_gd("DELETE", D "/ipset/abc", &w), MM_ACCESS_ADMIN);
	CHECK_EQ_INT(mm_access_gd("POST", D "/ipset/abc", &w), MM_ACCESS_ADMIN);
	CHECK_EQ_INT(mm_access_gd("POST", D "/findings/create", &w), MM_ACCESS_ADMIN);
	/* unknown writes need admin; look-alikes are not reads */
	CHECK_EQ_INT(mm_access_gd("POST", "/detector", &w), MM_ACCESS_ADMIN);
	CHECK_EQ_INT(mm_access_gd("PUT", D "/findings/get", &w), MM_ACCESS_ADMIN);
	CHECK_EQ_INT(mm_access_gd("POST", D "/findings/getx", &w), MM_ACCESS_ADMIN);
	CHECK_EQ_INT(mm_access_gd("POST", D "/whatever", &w), MM_ACCESS_ADMIN);
	CHECK_EQ_INT(mm_access_gd("DELETE", D, NULL), MM_ACCESS_ADMIN);
}

static char dir[512], db[600];

static void mkdb(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/mm-roles-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/r.db", dir);
}

static void rmdb(void)
{
	unlink(db);
	rmdir(dir);
}

struct seen {
	char roles[512];
};

static int each(void *ctx, const struct mm_user_row *r)
{
	struct seen *s = ctx;
	size_t n = strlen(s->roles);
	snprintf(s->roles + n, sizeof(s->roles) - n, "%s=%s ", r->name, r->role);
	return 0;
}

MM_TEST(user_roles_default_and_set)
{
	struct mm_users *u = NULL;
	struct mm_err err;
	struct seen s = {""};
	mkdb();
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_users_open(&u, db, &err), 0);
	CHECK_EQ_INT(mm_users_add(u, "first", "long enough", 11, 1000, &err), 0);
	CHECK_EQ_INT(mm_users_add(u, "second", "long enough", 11, 1000, &err), 0);
	CHECK_EQ_INT(mm_users_add_role(u, "third", "long enough", 11, "viewer", 1000, &err), 0);
	CHECK_EQ_INT(mm_users_add_role(u, "fourth", "long enough", 11, "root", 1000, &err), MM_EINVAL);
	CHECK_EQ_INT(mm_users_role(u, "first", &err), MM_ACCESS_ADMIN);
	CHECK_EQ_INT(mm_users_role(u, "second", &err), MM_ACCESS_ANALYST);
	CHECK_EQ_INT(mm_users_role(u, "third", &err), MM_ACCESS_VIEWER);
	CHECK_EQ_INT(mm_users_role(u, "fourth", &err), 0);
	CHECK_EQ_INT(mm_users_set_role(u, "third", "admin", &err), 1);
	CHECK_EQ_INT(mm_users_role(u, "third", &err), MM_ACCESS_ADMIN);
	CHECK_EQ_INT(mm_users_set_role(u, "nobody", "admin", &err), 0);
	CHECK_EQ_INT(mm_users_set_role(u, "third", "superuser", &err), MM_EINVAL);
	CHECK_EQ_INT(mm_users_each(u, 2000, each, &s, &err), 0);
	CHECK_EQ_STR(s.roles, "first=admin second=analyst third=admin ");
	mm_users_close(u);
	rmdb();
}

MM_TEST(users_from_before_roles_become_admin)
{
	struct mm_users *u = NULL;
	struct mm_err err;
	sqlite3 *h = NULL;
	mkdb();
	/* the table as it was before roles */
	CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(h,
				  "CREATE TABLE console_users(name TEXT PRIMARY KEY, pw TEXT NOT NULL,"
				  " created_at INTEGER NOT NULL, failures INTEGER NOT NULL,"
				  " retry_at INTEGER NOT NULL, last_signin INTEGER NOT NULL);"
				  "INSERT INTO console_users VALUES ('old', 'x', 1, 0, 0, 0);",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(h);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_users_open(&u, db, &err), 0);
	CHECK_EQ_INT(mm_users_role(u, "old", &err), MM_ACCESS_ADMIN);
	/* not the first user: analyst by default */
	CHECK_EQ_INT(mm_users_add(u, "new", "long enough", 11, 1000, &err), 0);
	CHECK_EQ_INT(mm_users_role(u, "new", &err), MM_ACCESS_ANALYST);
	mm_users_close(u);
	/* opening again does not migrate twice */
	CHECK_EQ_INT(mm_users_open(&u, db, &err), 0);
	CHECK_EQ_INT(mm_users_role(u, "old", &err), MM_ACCESS_ADMIN);
	mm_users_close(u);
	rmdb();
}

static int list_ro(void *ctx, const struct mm_key_info *ki)
{
	int *n = ctx;
	*n = *n * 10 + (ki->read_only ? 2 : 1);
	return 0;
}

MM_TEST(read_only_keys)
{
	struct mm_keys *k = NULL;
	struct mm_err err;
	char id[MM_KEYS_ID_LEN + 1], id2[MM_KEYS_ID_LEN + 1], sec[MM_KEYS_SECRET_LEN + 1];
	char p[700];
	sqlite3 *h = NULL;
	int seen = 0;
	mkdb();
	unsetenv(MM_KEYS_ENV);
	/* a table from before read-only keys: its key stays writable */
	CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(h,
				  "CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL"
				  " UNIQUE, secret BLOB NOT NULL, created_at INTEGER NOT NULL,"
				  " last_used_at INTEGER, active INTEGER NOT NULL DEFAULT 1)",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(h);
	mm_err_clear(&err);
	CHECK_EQ_INT(mm_keys_open(&k, db, &err), 0);
	CHECK_EQ_INT(mm_keys_create(k, "writer", id, sec, &err), 0);
	CHECK_EQ_INT(mm_keys_create(k, "reader", id2, sec, &err), 0);
	CHECK_EQ_INT(mm_keys_read_only(k, id), 0);
	CHECK_EQ_INT(mm_keys_set_read_only(k, id2, 1, &err), 1);
	CHECK_EQ_INT(mm_keys_read_only(k, id2), 1);
	CHECK_EQ_INT(mm_keys_read_only(k, id), 0);
	CHECK_EQ_INT(mm_keys_read_only(k, "AKIANOSUCHKEY0000000"), 0);
	CHECK_EQ_INT(mm_keys_set_read_only(k, "AKIANOSUCHKEY0000000", 1, &err), 0);
	CHECK_EQ_INT(mm_keys_list(k, list_ro, &seen, &err), 0);
	CHECK_EQ_INT(seen, 12);	/* writer, then reader (read-only) */
	mm_keys_close(k);
	snprintf(p, sizeof(p), "%s.key", db);
	unlink(p);
	rmdb();
}
