/* intern.c - open-addressing set of strings in append-only blocks. */
#include "core/intern.h"

#include <pthread.h>
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"

#define BLOCK (64u << 10)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char **slots;	/* power-of-two table */
static size_t nslots, count, bytes;
static char *block;
static size_t block_left;
static const char full[] = "(path table full)";

static const char *store(const char *s, size_t n)
{
	char *p;
	if (n + 1 > block_left) {
		size_t sz = n + 1 > BLOCK ? n + 1 : BLOCK;
		block = mm_malloc(sz);
		if (!block) {
			block_left = 0;
			return NULL;
		}
		block_left = sz;
		bytes += sz;
	}
	p = block;
	memcpy(p, s, n);
	p[n] = '\0';
	block += n + 1;
	block_left -= n + 1;
	return p;
}

static int grow(void)
{
	size_t i, n = nslots ? nslots * 2 : 1024;
	const char **ns = mm_calloc(n, sizeof(*ns));
	if (!ns)
		return -1;
	for (i = 0; i < nslots; i++) {
		size_t j;
		if (!slots[i])
			continue;
		j = mm_hash(slots[i], strlen(slots[i]), 7) & (n - 1);
		while (ns[j])
			j = (j + 1) & (n - 1);
		ns[j] = slots[i];
	}
	mm_free(slots);
	slots = ns;
	nslots = n;
	return 0;
}

const char *mm_intern(const char *s, size_t n)
{
	const char *r = full;
	size_t j;

	pthread_mutex_lock(&lock);
	if ((count + 1) * 2 > nslots && (bytes > MM_INTERN_MAX_BYTES || grow()))
		goto out;
	j = mm_hash(s, n, 7) & (nslots - 1);
	while (slots[j]) {
		if (strncmp(slots[j], s, n) == 0 && slots[j][n] == '\0') {
			r = slots[j];
			goto out;
		}
		j = (j + 1) & (nslots - 1);
	}
	if (bytes > MM_INTERN_MAX_BYTES)
		goto out;
	r = store(s, n);
	if (!r) {
		r = full;
		goto out;
	}
	slots[j] = r;
	count++;
out:
	pthread_mutex_unlock(&lock);
	return r;
}
