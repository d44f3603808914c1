/* roles.h - who may do what in the console: the three roles of console
 * users (viewer, analyst, admin) and the table of which role each
 * operation needs, for the console's own endpoints and for GuardDuty's
 * operations the console routes through serve/api.h's mm_api_route.
 *
 *   viewer   reads everything (findings, statistics, filters, sets, the
 *            system page)
 *   analyst  + archive/unarchive, feedback, filters (suppression rules:
 *            create, update, delete), retry of dead letters
 *   admin    + threat intel sets and IP sets, sample findings
 *
 * Anything not in the table that is not a read needs admin. Pure
 * functions, no state. */
#ifndef MM_ROLES_H
#define MM_ROLES_H

enum mm_access { MM_ACCESS_NONE = 0, MM_ACCESS_VIEWER = 1, MM_ACCESS_ANALYST = 2,
		 MM_ACCESS_ADMIN = 3 };

/* "viewer", "analyst", "admin" -> the level; anything else MM_ACCESS_NONE. */
enum mm_access mm_access_parse(const char *s);
/* The name of a level ("viewer" ...), "none" for anything else. */
const char *mm_access_name(enum mm_access a);
/* The level a GuardDuty operation needs: method and path as the API sees
 * them ("/detector/ID/findings/archive"). *what (may be NULL) gets a short
 * description for the 403 message ("archiving findings"). */
enum mm_access mm_access_gd(const char *method, const char *path, const char **what);

#endif
