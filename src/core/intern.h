/* intern.h - a process-wide pool of interned strings.
 *
 * Used for strings that many long-lived objects repeat (the file paths in
 * findings' evidence): each distinct string is stored once and lives
 * until the process ends, so holders keep a plain `const char *` and
 * never free it. Thread-safe. Bounded: past MM_INTERN_MAX_BYTES the pool
 * returns a fixed "(path table full)" string instead of growing. */
#ifndef MM_INTERN_H
#define MM_INTERN_H

#include <stddef.h>

#define MM_INTERN_MAX_BYTES ((size_t)256 << 20)

/* The interned copy of s[0..n) (NUL-terminated). Never NULL: on memory
 * exhaustion or past the bound a static placeholder comes back. */
const char *mm_intern(const char *s, size_t n);

#endif
