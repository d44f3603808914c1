/* strpool.c - reference-counted strings. Entries live in chunks that
 * never move (an id one holds is read without the lock), an
 * open-addressing index finds an entry by its text, and released ids
 * are chained into a free list for reuse. */
#include "core/strpool.h"

#include <pthread.h>
#include <string.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/mem.h"

#define CHUNK_BITS 12
#define CHUNK (1u << CHUNK_BITS)
#define MAX_CHUNKS (1u << 16) /* ids up to 2^28 */
#define TOMB UINT32_MAX	      /* an index slot whose entry was released */

struct ent {
	char *s;	/* NULL: free */
	uint64_t h;
	uint32_t n;
	uint32_t refs;	/* free: the next free id (0: none) */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ent *chunks[MAX_CHUNKS];
static uint32_t next_id = 1;	/* ids from here were never handed out */
static uint32_t free_head;
static uint32_t *idx;		/* ids; 0 empty, TOMB released */
static size_t icap, iused;	/* iused: live ids and tombstones */
static size_t nlive, live_bytes, nchunks;

static struct ent *at(uint32_t id)
{
	return &chunks[id >> CHUNK_BITS][id & (CHUNK - 1)];
}

static uint64_t hash_of(const char *s, size_t n)
{
	return mm_hash_fast(s, n, 0x73747270);
}

/* A fresh index of ncap slots holding every live id (tombstones go). */
static int reindex(size_t ncap)
{
	uint32_t *ni = mm_calloc(ncap, sizeof(*ni)), id;
	if (!ni)
		return MM_ENOMEM;
	for (id = 1; id < next_id; id++) {
		const struct ent *e = at(id);
		size_t j;
		if (!e->s)
			continue;
		for (j = e->h & (ncap - 1); ni[j]; j = (j + 1) & (ncap - 1))
			;
		ni[j] = id;
	}
	mm_free(idx);
	idx = ni;
	icap = ncap;
	iused = nlive;
	return 0;
}

/* An unused id with its chunk in place, or 0. */
static uint32_t new_id(void)
{
	uint32_t id = free_head;
	if (id) {
		free_head = at(id)->refs;
		return id;
	}
	if ((next_id >> CHUNK_BITS) >= MAX_CHUNKS)
		return 0;
	if (!chunks[next_id >> CHUNK_BITS]) {
		if (!(chunks[next_id >> CHUNK_BITS] = mm_calloc(CHUNK, sizeof(struct ent))))
			return 0;
		nchunks++;
	}
	return next_id++;
}

/* mm_sp_get with the lock held. */
static int get_locked(const char *s, size_t n, uint32_t *id)
{
	uint64_t h;
	size_t j, tomb = SIZE_MAX;
	uint32_t k;
	struct ent *e;
	char *p;

	*id = 0;
	if (!n)
		return 0;
	if (n >= UINT32_MAX)
		return MM_ENOMEM;
	h = hash_of(s, n);
	/* at most half full, tombstones counted: a probe always ends */
	if ((iused + 1) * 2 > icap &&
	    reindex(icap == 0 ? 1024 : (nlive + 1) * 4 > icap ? icap * 2 : icap))
		return MM_ENOMEM;
	for (j = h & (icap - 1); (k = idx[j]); j = (j + 1) & (icap - 1)) {
		if (k == TOMB) {
			if (tomb == SIZE_MAX)
				tomb = j;
			continue;
		}
		e = at(k);
		if (e->h == h && e->n == n && memcmp(e->s, s, n) == 0) {
			if (e->refs < UINT32_MAX)
				e->refs++; /* saturated: never freed, still right */
			*id = k;
			return 0;
		}
	}
	if (!(k = new_id()) || !(p = mm_malloc(n + 1))) {
		if (k) {
			at(k)->refs = free_head;
			free_head = k;
		}
		return MM_ENOMEM;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	e = at(k);
	e->s = p;
	e->h = h;
	e->n = (uint32_t)n;
	e->refs = 1;
	if (tomb != SIZE_MAX)
		j = tomb;
	else
		iused++;
	idx[j] = k;
	nlive++;
	live_bytes += n + 1;
	*id = k;
	return 0;
}

static void put_locked(uint32_t id)
{
	struct ent *e;
	size_t j;

	if (!id)
		return;
	e = at(id);
	if (!e->s || e->refs == UINT32_MAX || --e->refs)
		return;
	for (j = e->h & (icap - 1); idx[j] != id; j = (j + 1) & (icap - 1))
		;
	idx[j] = TOMB;
	live_bytes -= (size_t)e->n + 1;
	nlive--;
	mm_free(e->s);
	e->s = NULL;
	e->refs = free_head;
	free_head = id;
}

int mm_sp_get(const char *s, size_t n, uint32_t *id)
{
	int rc;
	*id = 0;
	if (!n)
		return 0;
	pthread_mutex_lock(&lock);
	rc = get_locked(s, n, id);
	pthread_mutex_unlock(&lock);
	return rc;
}

int mm_sp_get_n(const char *const *s, const size_t *n, size_t k, uint32_t *ids)
{
	size_t i;
	int rc = 0;
	pthread_mutex_lock(&lock);
	for (i = 0; i < k && !rc; i++)
		rc = get_locked(s[i], n[i], &ids[i]);
	if (rc)
		while (i--)
			put_locked(ids[i]), ids[i] = 0;
	pthread_mutex_unlock(&lock);
	return rc;
}

void mm_sp_put(uint32_t id)
{
	if (!id)
		return;
	pthread_mutex_lock(&lock);
	put_locked(id);
	pthread_mutex_unlock(&lock);
}

void mm_sp_put_n(const uint32_t *ids, size_t k)
{
	size_t i;
	for (i = 0; i < k && !ids[i]; i++)
		;
	if (i == k)
		return;
	pthread_mutex_lock(&lock);
	for (; i < k; i++)
		put_locked(ids[i]);
	pthread_mutex_unlock(&lock);
}

const char *mm_sp_str(uint32_t id)
{
	return id ? at(id)->s : "";
}

size_t mm_sp_len(uint32_t id)
{
	return id ? at(id)->n : 0;
}

void mm_sp_stats(size_t *strings, size_t *bytes)
{
	pthread_mutex_lock(&lock);
	*strings = nlive;
	*bytes = live_bytes + nchunks * CHUNK * sizeof(struct ent) + icap * sizeof(*idx);
	pthread_mutex_unlock(&lock);
}
