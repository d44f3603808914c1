/* log.c - stderr messages with a rate limit on per-record errors, and
 * sanitising of text from outside before it reaches a terminal. */
#include "core/log.h"

#include <pthread.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"

static enum mm_log_level level = MM_LOG_NORMAL;
static int json_lines;	/* mm_log_set_json: one JSON object a line */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t printed, suppressed;

void mm_log_set_level(enum mm_log_level lvl) { level = lvl; }
enum mm_log_level mm_log_get_level(void) { return level; }

/* Does the valid sequence at u (len bytes) encode a character a terminal
 * may act on: a C1 control or a bidi override/isolate? */
static int risky_char(const unsigned char *u, int len)
{
	if (len == 2)
		return u[0] == 0xc2 && u[1] < 0xa0; /* U+0080-U+009F */
	if (len == 3 && u[0] == 0xe2 && u[1] == 0x80)
		return u[2] >= 0xaa && u[2] <= 0xae; /* U+202A-U+202E */
	if (len == 3 && u[0] == 0xe2 && u[1] == 0x81)
		return u[2] >= 0xa6 && u[2] <= 0xa9; /* U+2066-U+2069 */
	return 0;
}

char *mm_log_safe(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, k = 0, n;

	if (cap == 0)
		return out;
	n = s ? strlen(s) : 0;
	while (i < n) {
		const unsigned char *u = (const unsigned char *)s + i;
		int len = u[0] >= 0x20 && u[0] < 0x7f ? 1 : mm_utf8_seq(s + i, n - i);

		if (len > 1 && risky_char(u, len))
			len = 0;
		if (u[0] < 0x20 || u[0] == 0x7f)
			len = 0;
		if (len > 0) {
			if (k + (size_t)len >= cap)
				break;
			memcpy(out + k, u, (size_t)len);
			k += (size_t)len;
			i += (size_t)len;
			continue;
		}
		if (k + 4 >= cap)
			break;
		out[k++] = '\\';
		out[k++] = 'x';
		out[k++] = hex[u[0] >> 4];
		out[k++] = hex[u[0] & 15];
		i++;
	}
	out[k] = '\0';
	return out;
}

#define MSG_MAX 2048

void mm_log_set_json(int on) { json_lines = on; }

/* s (already through mm_log_safe: no control bytes) as a JSON string's
 * inside: only '"' and '\\' need escaping. */
static void json_str(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', stderr);
		fputc(*s, stderr);
	}
}

/* {"time":"...","level":"...", then the caller's members; lock held */
static void json_head(const char *lvl)
{
	struct timespec ts;
	struct tm tm;
	char t[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"", t, ts.tv_nsec / 1000000, lvl);
}

static void vmsg(const char *prefix, const char *lvl, const char *fmt, va_list ap)
{
	char raw[MSG_MAX], safe[MSG_MAX * 2];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	mm_log_safe(raw, safe, sizeof(safe));
	pthread_mutex_lock(&lock);
	if (json_lines) {
		json_head(lvl);
		fputs(",\"msg\":\"", stderr);
		json_str(safe);
		fputs("\"}\n", stderr);
	} else {
		fputs(prefix, stderr);
		fputs(safe, stderr);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&lock);
}

void mm_warn(const char *fmt, ...)
{
	va_list ap;
	if (level < MM_LOG_NORMAL)
		return;
	va_start(ap, fmt);
	vmsg("mamori: warning: ", "warning", fmt, ap);
	va_end(ap);
}

void mm_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("mamori: error: ", "error", fmt, ap);
	va_end(ap);
}

void mm_info(const char *fmt, ...)
{
	va_list ap;
	if (level < MM_LOG_NORMAL)
		return;
	va_start(ap, fmt);
	vmsg("mamori: ", "info", fmt, ap);
	va_end(ap);
}

void mm_debug(const char *fmt, ...)
{
	va_list ap;
	if (level < MM_LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	vmsg("mamori: debug: ", "debug", fmt, ap);
	va_end(ap);
}

/* Take one unit of the record-error budget: 1 if the caller may print. */
static int budget_take(void)
{
	int ok;
	pthread_mutex_lock(&lock);
	ok = printed < MM_LOG_ERR_LIMIT;
	if (ok)
		printed++;
	else
		suppressed++;
	pthread_mutex_unlock(&lock);
	return ok;
}

static void located(const char *file, uint64_t line, const char *reason)
{
	char f[MSG_MAX], r[MSG_MAX];

	if (level < MM_LOG_NORMAL)
		return;
	mm_log_safe(file, f, sizeof(f));
	mm_log_safe(reason, r, sizeof(r));
	pthread_mutex_lock(&lock);
	if (json_lines) {
		json_head("error");
		fputs(",\"file\":\"", stderr);
		json_str(f);
		fprintf(stderr, "\",\"line\":%llu,\"msg\":\"", (unsigned long long)line);
		json_str(r);
		fputs("\"}\n", stderr);
	} else {
		fprintf(stderr, "%s:%llu: %s\n", f, (unsigned long long)line, r);
	}
	pthread_mutex_unlock(&lock);
}

void mm_log_record_error(const char *file, uint64_t line, const char *reason)
{
	if (budget_take())
		located(file, line, reason);
}

void mm_log_list_error(const char *file, uint64_t line, const char *reason)
{
	located(file, line, reason);
}

void mm_log_located(const char *msg)
{
	char m[MSG_MAX];

	if (level < MM_LOG_NORMAL)
		return;
	mm_log_safe(msg, m, sizeof(m));
	pthread_mutex_lock(&lock);
	if (json_lines) {
		json_head("error");
		fputs(",\"msg\":\"", stderr);
		json_str(m);
		fputs("\"}\n", stderr);
	} else {
		fprintf(stderr, "%s\n", m);
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
