/* mtime.h - event-time helpers. Times are int64 milliseconds since the
 * Unix epoch, UTC. mamori never uses the wall clock for detection. */
#ifndef MM_MTIME_H
#define MM_MTIME_H

#include <stddef.h>
#include <stdint.h>

#define MM_TIME_STRLEN 32

/* Parse ISO 8601 / RFC 3339: "2021-12-11T22:46:23Z", with optional
 * fractional seconds and "+hh:mm" offsets. 0 or MM_EPARSE. */
int mm_time_parse_iso(const char *s, size_t n, int64_t *ms);
/* "2022-11-17T09:33:19.000Z" (GuardDuty's form) into buf; returns buf. */
char *mm_time_format_iso(int64_t ms, char *buf);
/* Days since epoch for a civil date (proleptic Gregorian). */
int64_t mm_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Wall clock, ms. Only for createdAt/updatedAt bookkeeping, never for
 * detection windows. */
int64_t mm_now_ms(void);

#endif
