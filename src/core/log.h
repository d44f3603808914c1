/* log.h - messages to the user on stderr, and located record errors.
 *
 * Located errors ("file:line: reason") are rate-limited per process: the
 * first MM_LOG_ERR_LIMIT are printed, then one line says how many more
 * were suppressed; all of them are counted by the caller's stats anyway.
 * Threat-list problems have their own path (mm_log_list_error) so a bad
 * list never uses up the budget meant for the logs being scanned.
 *
 * Text from outside (file names, record bytes quoted in reasons) never
 * reaches the terminal raw: every message goes through mm_log_safe,
 * which turns control characters, C1 controls, bidi overrides and
 * invalid UTF-8 into \xNN escapes. Thread-safe. */
#ifndef MM_LOG_H
#define MM_LOG_H

#include <stdint.h>

#define MM_LOG_ERR_LIMIT 50
/* Bad lines shown per threat-list file (the rest are counted; the list
 * loader prints one line saying how many were not shown). */
#define MM_LOG_LIST_LIMIT 20

#include <stddef.h>

enum mm_log_level { MM_LOG_QUIET = 0, MM_LOG_NORMAL = 1, MM_LOG_VERBOSE = 2 };

void mm_log_set_level(enum mm_log_level lvl);
/* Daemons: every message as one JSON object a line on stderr,
 * {"time":"...Z","level":"info|warning|error|debug","msg":"..."} (located
 * record errors add "file" and "line"). Off: the usual text. */
void mm_log_set_json(int on);
enum mm_log_level mm_log_get_level(void);
/* "mamori: warning: ..." */
void mm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "mamori: error: ..." (never suppressed) */
void mm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mm_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "file:line: reason" for one bad record (rate-limited). */
void mm_log_record_error(const char *file, uint64_t line, const char *reason);
/* "list:line: reason" for one bad threat-list line. Not counted against
 * MM_LOG_ERR_LIMIT (the caller limits per list: MM_LOG_LIST_LIMIT). */
void mm_log_list_error(const char *file, uint64_t line, const char *reason);
/* A located message printed as it is (already "file: offset N: reason"
 * or "file:line: reason"), sanitised; for the one stream error a file can
 * end with (reader errors name their own place). Not rate-limited: at
 * most one a file, and it must not be lost behind the garbage lines a
 * corrupt stream may have produced before it. */
void mm_log_located(const char *msg);
/* Copy s into out (cap > 0 bytes, always NUL-terminated) with control
 * characters (< 0x20, 0x7f), C1 controls (U+0080-U+009F), bidi
 * overrides/isolates (U+202A-U+202E, U+2066-U+2069) and bytes that are
 * not valid UTF-8 written as \xNN; a backslash stays as it is. Cut at a
 * character boundary when out is too small. Returns out. */
char *mm_log_safe(const char *s, char *out, size_t cap);
/* Number of record errors suppressed so far (printed in summaries). */
uint64_t mm_log_suppressed(void);
void mm_log_reset(void);

#endif
