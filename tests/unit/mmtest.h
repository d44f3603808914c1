/* mmtest.h - a tiny unit-test harness.
 *
 * MM_TEST(name) { ... } registers a test. Each test runs in its own
 * forked process, so a crash fails that test and not the run. The binary
 * ends with "N passed, N failed, N skipped". Registering more tests than
 * the runner holds (MMTEST_MAX) fails the run. Set MMTEST_NOFORK=1 to
 * debug in-process. */
#ifndef MMTEST_H
#define MMTEST_H

#include <stdio.h>
#include <string.h>

typedef void (*mmtest_fn)(void);
void mmtest_register(const char *name, mmtest_fn fn);
extern int mmtest_failures;

#define MM_TEST(name)                                                              \
	static void mmtest_##name(void);                                           \
	__attribute__((constructor)) static void mmtest_reg_##name(void)           \
	{                                                                          \
		mmtest_register(#name, mmtest_##name);                             \
	}                                                                          \
	static void mmtest_##name(void)

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,   \
				__LINE__, #cond);                                  \
			mmtest_failures++;                                         \
		}                                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                         \
	do {                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                \
		if (_a != _b) {                                                    \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", \
				__FILE__, __LINE__, #a, _a, #b, _b);               \
			mmtest_failures++;                                         \
		}                                                                  \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                         \
	do {                                                                       \
		const char *_a = (a), *_b = (b);                                   \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                           \
			fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, _a ? _a : "(null)",        \
				_b ? _b : "(null)");                               \
			mmtest_failures++;                                         \
		}                                                                  \
	} while (0)

/* Compare a slice with a C string. */
#define CHECK_EQ_SLICE(s, z)                                                       \
	do {                                                                       \
		struct mm_str _s = (s);                                            \
		const char *_z = (z);                                              \
		if (_s.n != strlen(_z) || memcmp(_s.p, _z, _s.n) != 0) {           \
			fprintf(stderr, "  %s:%d: %s == \"%.*s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #s, (int)_s.n,                 \
				_s.p ? _s.p : "", _z);                             \
			mmtest_failures++;                                         \
		}                                                                  \
	} while (0)

/* Run fn with stderr sent to a temporary file; its text (cut to cap - 1
 * bytes) into text. Returns the number of lines written. */
int mmtest_capture_stderr(void (*fn)(void), char *text, size_t cap);

/* Path of shared/data (env MM_SHARED_DATA, else ../shared/data). Where
 * that folder is absent (a fresh clone), the calling test is skipped:
 * this does not return. */
const char *mmtest_shared_data(void);

/* End the running test as skipped ("skip NAME: why"; counted apart from
 * passed and failed). Does not return. */
void mmtest_skip(const char *why) __attribute__((noreturn));

/* A stand-in for the store's detector_state table, for save/load tests:
 * mmtest_put_row is a detector's save callback that keeps a copy of each
 * row in the order put (a row put again for the same entity replaces it,
 * as in the store). Start from {0}; mmtest_rows_free empties it again. */
#define MMTEST_ROWS_MAX 64
struct mmtest_rows {
	int n;
	char entity[MMTEST_ROWS_MAX][64];
	unsigned char *blob[MMTEST_ROWS_MAX];
	size_t len[MMTEST_ROWS_MAX];
};
/* 0, or -1 when the table is full or the name too long. */
int mmtest_put_row(void *pctx, const char *entity, const void *blob, size_t n);
void mmtest_rows_free(struct mmtest_rows *r);
/* Index of entity's row, or -1. */
int mmtest_row(const struct mmtest_rows *r, const char *entity);

#endif
