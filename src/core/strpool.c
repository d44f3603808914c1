/* strpool.c - reference-counted strings, in shards. In a shard, entries
 * live in chunks that never move (an id one holds is read without a
 * lock), an open-addressing index finds an entry by its text, and
 * released ids are chained into a free list for reuse. */
#include "core/strpool.h"

#include <pthread.h>
#include <string.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/mem.h"

#define CHUNK_BITS 12
#define CHUNK (1u << CHUNK_BITS)
/* Shards, each with its own lock, index and entries, chosen by the
 * string's hash: the workers' gets and puts (several per new ctbase
 * detail) rarely meet on one lock. One lock for the whole pool was
 * contended: ~8% of a two-worker CloudTrail scan's CPU went to futex
 * waits and wakes on it (perf, bench CloudTrail set). An id is
 * (local id << SHARD_BITS) | shard. */
#define SHARD_BITS 4
#define NSHARDS (1u << SHARD_BITS)
#define MAX_CHUNKS (1u << 12) /* local ids up to 2^24 a shard: ids < 2^28 */
#define TOMB UINT32_MAX	      /* an index slot whose entry was released */

struct ent {
	char *s;	/* NULL: free */
	uint64_t h;
	uint32_t n;
	uint32_t refs;	/* free: the next free local id (0: none) */
};

struct shard {
	pthread_mutex_t lock;
	struct ent *chunks[MAX_CHUNKS];
	uint32_t next_id;	/* local ids from here were never handed out (0: 1) */
	uint32_t free_head;
	uint32_t *idx;		/* local ids; 0 empty, TOMB released */
	size_t icap, iused;	/* iused: live ids and tombstones */
	size_t nlive, live_bytes, nchunks;
} __attribute__((aligned(64)));

static struct shard shards[NSHARDS];
static pthread_once_t shards_once = PTHREAD_ONCE_INIT;

static void shards_init(void)
{
	unsigned i;
	for (i = 0; i < NSHARDS; i++) {
		pthread_mutex_init(&shards[i].lock, NULL);
		shards[i].next_id = 1;
	}
}

static struct shard *shard_of_id(uint32_t id)
{
	return &shards[id & (NSHARDS - 1)];
}

static struct ent *at(const struct shard *sh, uint32_t k)
{
	return &sh->chunks[k >> CHUNK_BITS][k & (CHUNK - 1)];
}

static uint64_t hash_of(const char *s, size_t n)
{
	return mm_hash_fast(s, n, 0x73747270);
}

/* The shard of a hash: its top bits (the index uses the low ones). */
static struct shard *shard_of_hash(uint64_t h)
{
	return &shards[h >> (64 - SHARD_BITS)];
}

/* A fresh index of ncap slots holding every live id (tombstones go). */
static int reindex(struct shard *sh, size_t ncap)
{
	uint32_t *ni = mm_calloc(ncap, sizeof(*ni)), k;
	if (!ni)
		return MM_ENOMEM;
	for (k = 1; k < sh->next_id; k++) {
		const struct ent *e = at(sh, k);
		size_t j;
		if (!e->s)
			continue;
		for (j = e->h & (ncap - 1); ni[j]; j = (j + 1) & (ncap - 1))
			;
		ni[j] = k;
	}
	mm_free(sh->idx);
	sh->idx = ni;
	sh->icap = ncap;
	sh->iused = sh->nlive;
	return 0;
}

/* An unused local id with its chunk in place, or 0. */
static uint32_t new_id(struct shard *sh)
{
	uint32_t k = sh->free_head;
	if (k) {
		sh->free_head = at(sh, k)->refs;
		return k;
	}
	if ((sh->next_id >> CHUNK_BITS) >= MAX_CHUNKS)
		return 0;
	if (!sh->chunks[sh->next_id >> CHUNK_BITS]) {
		if (!(sh->chunks[sh->next_id >> CHUNK_BITS] = mm_calloc(CHUNK, sizeof(struct ent))))
			return 0;
		sh->nchunks++;
	}
	return sh->next_id++;
}

/* mm_sp_get's work in sh (the shard of h), with its lock held. */
static int get_locked(struct shard *sh, uint64_t h, const char *s, size_t n, uint32_t *id)
{
	size_t j, tomb = SIZE_MAX;
	uint32_t k, sno = (uint32_t)(sh - shards);
	struct ent *e;
	char *p;

	/* at most half full, tombstones counted: a probe always ends */
	if ((sh->iused + 1) * 2 > sh->icap &&
	    reindex(sh, sh->icap == 0                     ? 256
			: (sh->nlive + 1) * 4 > sh->icap ? sh->icap * 2
							 : sh->icap))
		return MM_ENOMEM;
	for (j = h & (sh->icap - 1); (k = sh->idx[j]); j = (j + 1) & (sh->icap - 1)) {
		if (k == TOMB) {
			if (tomb == SIZE_MAX)
				tomb = j;
			continue;
		}
		e = at(sh, k);
		if (e->h == h && e->n == n && memcmp(e->s, s, n) == 0) {
			if (e->refs < UINT32_MAX)
				e->refs++; /* saturated: never freed, still right */
			*id = k << SHARD_BITS | sno;
			return 0;
		}
	}
	if (!(k = new_id(sh)) || !(p = mm_malloc(n + 1))) {
		if (k) {
			at(sh, k)->refs = sh->free_head;
			sh->free_head = k;
		}
		return MM_ENOMEM;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	e = at(sh, k);
	e->s = p;
	e->h = h;
	e->n = (uint32_t)n;
	e->refs = 1;
	if (tomb != SIZE_MAX)
		j = tomb;
	else
		sh->iused++;
	sh->idx[j] = k;
	sh->nlive++;
	sh->live_bytes += n + 1;
	*id = k << SHARD_BITS | sno;
	return 0;
}

static void put_locked(struct shard *sh, uint32_t id)
{
	uint32_t k = id >> SHARD_BITS;
	struct ent *e = at(sh, k);
	size_t j;

	if (!e->s || e->refs == UINT32_MAX || --e->refs)
		return;
	for (j = e->h & (sh->icap - 1); sh->idx[j] != k; j = (j + 1) & (sh->icap - 1))
		;
	sh->idx[j] = TOMB;
	sh->live_bytes -= (size_t)e->n + 1;
	sh->nlive--;
	mm_free(e->s);
	e->s = NULL;
	e->refs = sh->free_head;
	sh->free_head = k;
}

int mm_sp_get(const char *s, size_t n, uint32_t *id)
{
	struct shard *sh;
	uint64_t h;
	int rc;

	*id = 0;
	if (!n)
		return 0;
	if (n >= UINT32_MAX)
		return MM_ENOMEM;
	pthread_once(&shards_once, shards_init);
	h = hash_of(s, n);
	sh = shard_of_hash(h);
	pthread_mutex_lock(&sh->lock);
	rc = get_locked(sh, h, s, n, id);
	pthread_mutex_unlock(&sh->lock);
	return rc;
}

int mm_sp_get_n(const char *const *s, const size_t *n, size_t k, uint32_t *ids)
{
	size_t i;
	int rc = 0;
	for (i = 0; i < k && !rc; i++)
		rc = mm_sp_get(s[i], n[i], &ids[i]);
	if (rc)
		while (i--)
			mm_sp_put(ids[i]), ids[i] = 0;
	return rc;
}

void mm_sp_put(uint32_t id)
{
	struct shard *sh;
	if (!id)
		return;
	sh = shard_of_id(id);
	pthread_mutex_lock(&sh->lock);
	put_locked(sh, id);
	pthread_mutex_unlock(&sh->lock);
}

void mm_sp_put_n(const uint32_t *ids, size_t k)
{
	size_t i;
	for (i = 0; i < k; i++)
		mm_sp_put(ids[i]);
}

const char *mm_sp_str(uint32_t id)
{
	return id ? at(shard_of_id(id), id >> SHARD_BITS)->s : "";
}

size_t mm_sp_len(uint32_t id)
{
	return id ? at(shard_of_id(id), id >> SHARD_BITS)->n : 0;
}

void mm_sp_stats(size_t *strings, size_t *bytes)
{
	unsigned i;
	*strings = *bytes = 0;
	pthread_once(&shards_once, shards_init);
	for (i = 0; i < NSHARDS; i++) {
		struct shard *sh = &shards[i];
		pthread_mutex_lock(&sh->lock);
		*strings += sh->nlive;
		*bytes += sh->live_bytes + sh->nchunks * CHUNK * sizeof(struct ent) +
			  sh->icap * sizeof(*sh->idx);
		pthread_mutex_unlock(&sh->lock);
	}
}
