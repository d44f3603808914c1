/* hostjson.h - the JSON-lines format of host events (the host agent's
 * spool files, *.hostevents.jsonl): one JSON object a line, at most
 * MM_HOSTJSON_MAX_LINE bytes, with "mamori_host_event":1, "time", "what"
 * and "host" required and struct mm_host's members by name optional
 * (docs/internals/hostjson.md). The writer and the parser are a pair:
 * what mm_hostjson_write writes, mm_hostjson_parse reads back. */
#ifndef MM_HOSTJSON_H
#define MM_HOSTJSON_H

#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"

#define MM_HOSTJSON_MAX_LINE (64u << 10)

/* 1 if the line carries "mamori_host_event":1 (cheap check), else 0. */
int mm_hostjson_looks_like(const char *line, size_t n);
/* Parse one line (no '\n') into ev (kind MM_EV_HOST; ev->raw is the
 * line). Strings are slices of the line, or unescaped into scratch.
 * 0; MM_EPARSE with a reason; MM_ESKIP for a "what" this version does
 * not know (a newer agent's kind: skipped, not an error). */
int mm_hostjson_parse(const char *line, size_t n, struct mm_arena *scratch, struct mm_event *ev,
		      struct mm_err *err);
/* Append ev's host event to out as one line ending in '\n'. Every string
 * is JSON-escaped (invalid UTF-8 becomes U+FFFD) and cut to a per-field
 * budget at a character boundary, so a line never exceeds
 * MM_HOSTJSON_MAX_LINE. 0, MM_EINVAL (not a host event / no such what),
 * or MM_ETOOBIG/MM_ENOMEM from out (out is then left as it was). */
int mm_hostjson_write(struct mm_buf *out, const struct mm_event *ev);

/* "login_fail", ... for a what; NULL for MM_HOST_NONE/unknown. */
const char *mm_host_what_name(enum mm_host_what w);
/* The what for a name, or MM_HOST_NONE. */
enum mm_host_what mm_host_what_parse(const char *s, size_t n);

#endif
