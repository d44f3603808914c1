/* log.h - messages to the user on stderr, and located record errors.
 *
 * Located errors ("file:line: reason") are rate-limited per process: the
 * first MM_LOG_ERR_LIMIT are printed, then one line says how many more
 * were suppressed; all of them are counted by the caller's stats anyway.
 * Thread-safe. */
#ifndef MM_LOG_H
#define MM_LOG_H

#include <stdint.h>

#define MM_LOG_ERR_LIMIT 50

enum mm_log_level { MM_LOG_QUIET = 0, MM_LOG_NORMAL = 1, MM_LOG_VERBOSE = 2 };

void mm_log_set_level(enum mm_log_level lvl);
enum mm_log_level mm_log_get_level(void);
/* "mamori: warning: ..." */
void mm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "mamori: error: ..." (never suppressed) */
void mm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mm_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "file:line: reason" for one bad record (rate-limited). */
void mm_log_record_error(const char *file, uint64_t line, const char *reason);
/* Number of record errors suppressed so far (printed in summaries). */
uint64_t mm_log_suppressed(void);
void mm_log_reset(void);

#endif
