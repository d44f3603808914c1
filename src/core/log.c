/* log.c - stderr messages with a rate limit on per-record errors. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static enum mm_log_level level = MM_LOG_NORMAL;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t printed, suppressed;

void mm_log_set_level(enum mm_log_level lvl) { level = lvl; }
enum mm_log_level mm_log_get_level(void) { return level; }

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&lock);
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&lock);
}

void mm_warn(const char *fmt, ...)
{
	va_list ap;
	if (level < MM_LOG_NORMAL)
		return;
	va_start(ap, fmt);
	vmsg("mamori: warning: ", fmt, ap);
	va_end(ap);
}

void mm_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("mamori: error: ", fmt, ap);
	va_end(ap);
}

void mm_info(const char *fmt, ...)
{
	va_list ap;
	if (level < MM_LOG_NORMAL)
		return;
	va_start(ap, fmt);
	vmsg("mamori: ", fmt, ap);
	va_end(ap);
}

void mm_debug(const char *fmt, ...)
{
	va_list ap;
	if (level < MM_LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	vmsg("mamori: debug: ", fmt, ap);
	va_end(ap);
}

void mm_log_record_error(const char *file, uint64_t line, const char *reason)
{
	pthread_mutex_lock(&lock);
	if (printed < MM_LOG_ERR_LIMIT) {
		printed++;
		if (level >= MM_LOG_NORMAL)
			fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)line, reason);
	} else {
		suppressed++;
	}
	pthread_mutex_unlock(&lock);
}

uint64_t mm_log_suppressed(void)
{
	uint64_t n;
	pthread_mutex_lock(&lock);
	n = suppressed;
	pthread_mutex_unlock(&lock);
	return n;
}

void mm_log_reset(void)
{
	pthread_mutex_lock(&lock);
	printed = suppressed = 0;
	pthread_mutex_unlock(&lock);
}
