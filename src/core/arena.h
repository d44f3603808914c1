/* arena.h - fixed-capacity bump allocator for per-record scratch.
 *
 * The caller owns the backing memory (usually a per-thread array); the
 * arena never calls malloc. Parsers take strings that needed unescaping
 * from here and the pipeline resets it after each record, so the hot
 * path allocates nothing. */
#ifndef MM_ARENA_H
#define MM_ARENA_H

#include <stddef.h>

struct mm_arena {
	char *base;
	size_t used;
	size_t cap;
};

static inline void mm_arena_init(struct mm_arena *a, void *mem, size_t cap)
{
	a->base = mem;
	a->used = 0;
	a->cap = cap;
}

static inline void mm_arena_reset(struct mm_arena *a) { a->used = 0; }

/* n bytes, 8-byte aligned, or NULL when the arena is full. */
static inline void *mm_arena_alloc(struct mm_arena *a, size_t n)
{
	size_t at = (a->used + 7) & ~(size_t)7;
	if (at > a->cap || n > a->cap - at)
		return NULL;
	a->used = at + n;
	return a->base + at;
}

#endif
