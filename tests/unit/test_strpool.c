/* test_strpool.c - the reference-counted string pool. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/strpool.h"
#include "mmtest.h"

static uint32_t get(const char *s)
{
	uint32_t id = 0;
	CHECK_EQ_INT(mm_sp_get(s, strlen(s), &id), 0);
	return id;
}

static size_t live(void)
{
	size_t n, b;
	mm_sp_stats(&n, &b);
	return n;
}

MM_TEST(same_text_same_id_until_the_last_holder_goes)
{
	size_t base = live();
	uint32_t a = get("aws-cli/2"), b = get("aws-cli/2"), c = get("Boto3/1"), e = get("");
	CHECK(a != 0);
	CHECK_EQ_INT((int)a, (int)b);
	CHECK(c != a);
	CHECK_EQ_INT((int)e, 0);
	CHECK_EQ_STR(mm_sp_str(e), "");
	CHECK_EQ_STR(mm_sp_str(a), "aws-cli/2");
	CHECK_EQ_INT((int)mm_sp_len(a), 9);
	CHECK_EQ_INT((int)(live() - base), 2);
	mm_sp_put(a);
	CHECK_EQ_STR(mm_sp_str(b), "aws-cli/2"); /* one holder left */
	mm_sp_put(b);
	mm_sp_put(c);
	mm_sp_put(0);
	CHECK_EQ_INT((int)live(), (int)base);
	/* a released id is reused, and the text found again afterwards */
	c = get("Boto3/1");
	CHECK_EQ_STR(mm_sp_str(c), "Boto3/1");
	CHECK_EQ_INT((int)get("Boto3/1"), (int)c);
	mm_sp_put(c);
	mm_sp_put(c);
	CHECK_EQ_INT((int)live(), (int)base);
}

/* Text with NULs and prefixes of each other are different strings. */
MM_TEST(lengths_and_bytes_tell_strings_apart)
{
	uint32_t a = 0, b = 0, c = 0;
	CHECK_EQ_INT(mm_sp_get("ab\0c", 4, &a), 0);
	CHECK_EQ_INT(mm_sp_get("ab", 2, &b), 0);
	CHECK_EQ_INT(mm_sp_get("ab\0d", 4, &c), 0);
	CHECK(a != b && a != c && b != c);
	CHECK_EQ_INT((int)mm_sp_len(a), 4);
	CHECK(memcmp(mm_sp_str(c), "ab\0d", 5) == 0);
	mm_sp_put(a);
	mm_sp_put(b);
	mm_sp_put(c);
}

/* Many strings in and out (the index grows, tombstones are swept): each
 * id keeps its text, and nothing is left after the last put. */
MM_TEST(churn_keeps_every_held_text)
{
	static uint32_t ids[20000];
	char buf[32];
	size_t base = live();
	int i, round;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 20000; i++) {
			snprintf(buf, sizeof(buf), "10.%d.%d.%d", round, i / 256, i % 256);
			ids[i] = get(buf);
		}
		for (i = 0; i < 20000; i += 2)
			mm_sp_put(ids[i]);
		for (i = 1; i < 20000; i += 2) {
			snprintf(buf, sizeof(buf), "10.%d.%d.%d", round, i / 256, i % 256);
			CHECK_EQ_STR(mm_sp_str(ids[i]), buf);
			CHECK_EQ_INT((int)get(buf), (int)ids[i]);
			mm_sp_put(ids[i]);
			mm_sp_put(ids[i]);
		}
	}
	CHECK_EQ_INT((int)live(), (int)base);
}

/* Two threads getting and putting the same and different texts. */
static void *worker(void *arg)
{
	int t = *(int *)arg, i, bad = 0;
	char buf[32];
	for (i = 0; i < 20000; i++) {
		uint32_t a, b;
		snprintf(buf, sizeof(buf), "shared-%d", i % 97);
		a = get(buf);
		snprintf(buf, sizeof(buf), "own-%d-%d", t, i % 1000);
		b = get(buf);
		bad |= strcmp(mm_sp_str(b), buf) != 0;
		snprintf(buf, sizeof(buf), "shared-%d", i % 97);
		bad |= strcmp(mm_sp_str(a), buf) != 0;
		mm_sp_put(a);
		mm_sp_put(b);
	}
	*(int *)arg = bad;
	return NULL;
}

MM_TEST(threads_share_the_pool)
{
	pthread_t th[2];
	int arg[2] = {0, 1}, i;
	size_t base = live();
	for (i = 0; i < 2; i++)
		CHECK_EQ_INT(pthread_create(&th[i], NULL, worker, &arg[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ_INT(arg[0], 0);
	CHECK_EQ_INT(arg[1], 0);
	CHECK_EQ_INT((int)live(), (int)base);
}

/* k strings under one lock: the same ids as one by one, empty ones 0,
 * and all of them let go by put_n. */
MM_TEST(batches_get_and_put_as_singles)
{
	const char *s[4] = {"AKIA1", "", "iam.amazonaws.com", "AKIA1"};
	size_t n[4] = {5, 0, 17, 5}, base = live();
	uint32_t ids[4];
	CHECK_EQ_INT(mm_sp_get_n(s, n, 4, ids), 0);
	CHECK(ids[0] != 0);
	CHECK_EQ_INT((int)ids[1], 0);
	CHECK_EQ_INT((int)ids[3], (int)ids[0]);
	CHECK_EQ_STR(mm_sp_str(ids[2]), "iam.amazonaws.com");
	CHECK_EQ_INT((int)(live() - base), 2);
	mm_sp_put_n(ids, 4);
	CHECK_EQ_INT((int)live(), (int)base);
}
