/* test_agg.c - the finding table: findings kept packed, opened for a
 * caller, packed again by mm_agg_release without losing a byte that
 * matters; rekey's walk (only what its fix changed is packed again); spent findings; the
 * memory it reports. */
#include <stdio.h>
#include <string.h>

#include "core/intern.h"
#include "finding/agg.h"
#include "mmtest.h"

#define TYPE_IP "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"
#define TYPE_API "Discovery:IAMUser/AnomalousBehavior"

/* Finding k of a table: its resource and details all depend on k, so a
 * finding packed and opened again shows whether anything was lost. */
static struct mm_finding *add(struct mm_agg *a, int k, int *created)
{
	char res[32], ua[64];
	struct mm_finding *f;

	snprintf(res, sizeof(res), "eni-%08d", k);
	f = mm_agg_get(a, TYPE_IP, "123456789012", res, strlen(res), "custom", created);
	if (!f)
		return NULL;
	snprintf(ua, sizeof(ua), "agent/%d", k);
	snprintf(f->user_agent, sizeof(f->user_agent), "%s", ua);
	f->count += (uint64_t)k + 1;
	f->remote_port = (uint16_t)(k % 65536);
	f->first_seen_ms = 1000LL * k;
	f->last_seen_ms = 1000LL * k + 5;
	f->detail_file = mm_intern("flows.log", 9);
	f->detail_line = (uint64_t)k;
	return f;
}

/* n new findings from k0 on, a release after each */
static void churn(struct mm_agg *a, int k0, int n)
{
	int k, created;
	for (k = k0; k < k0 + n; k++) {
		add(a, k, &created);
		mm_agg_release(a);
	}
}

static int same(const struct mm_finding *f, int k, uint64_t count)
{
	char res[32], ua[64];
	snprintf(res, sizeof(res), "eni-%08d", k);
	snprintf(ua, sizeof(ua), "agent/%d", k);
	return !strcmp(f->eni, res) && !strcmp(f->type, TYPE_IP) && !strcmp(f->user_agent, ua) &&
	       f->count == count && f->remote_port == (uint16_t)(k % 65536) &&
	       f->first_seen_ms == 1000LL * k && f->last_seen_ms == 1000LL * k + 5 &&
	       f->detail_file && !strcmp(f->detail_file, "flows.log") &&
	       f->detail_line == (uint64_t)k && f->severity > 0;
}

/* Many more findings than stay open: each one packed and opened again
 * (by key, by index, as a copy) holds what was written, and a second
 * write through a reopened pointer is kept too. */
MM_TEST(findings_packed_and_opened_again_keep_what_was_written)
{
	struct mm_agg *a;
	struct mm_finding copy;
	const int n = 3000;
	int k, created, bad = 0;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	for (k = 0; k < n; k++) {
		CHECK(add(a, k, &created) != NULL);
		CHECK_EQ_INT(created, 1);
		mm_agg_release(a);
	}
	CHECK_EQ_INT((int)mm_agg_count(a), n);
	/* by key: found (not created), the count adds */
	for (k = 0; k < n; k++) {
		struct mm_finding *f = add(a, k, &created);
		bad |= !f || created || !same(f, k, 2 * ((uint64_t)k + 1));
		mm_agg_release(a);
	}
	CHECK_EQ_INT(bad, 0);
	/* by index and as a copy, in another order */
	for (k = n - 1; k >= 0; k--) {
		struct mm_finding *f = mm_agg_at(a, (size_t)k);
		bad |= !f || !same(f, k, 2 * ((uint64_t)k + 1));
		bad |= mm_agg_read(a, (size_t)k, &copy) != 0 || !same(&copy, k, 2 * ((uint64_t)k + 1));
		mm_agg_release(a);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(mm_agg_at(a, (size_t)n) == NULL);
	CHECK(mm_agg_read(a, (size_t)n, &copy) != 0);
	mm_agg_free(a);
}

/* Packed, a finding takes a few hundred bytes, not its ~3.7 KB struct;
 * what stays open is bounded by the release, not by the table. */
MM_TEST(the_table_holds_packed_bytes_and_a_bounded_open_set)
{
	struct mm_agg *a;
	struct mm_agg_stats as;
	int k, created;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	for (k = 0; k < 5000; k++) {
		CHECK(add(a, k, &created) != NULL);
		mm_agg_release(a);
	}
	mm_agg_stats(a, &as);
	CHECK(as.packed > 0);
	CHECK(as.packed / 5000 < sizeof(struct mm_finding) / 4);
	CHECK(as.open_hw < 1000);
	mm_agg_free(a);
}

/* A finding asked for again and again stays open across sweeps (the
 * hot one of a scan is not unpacked per record), one left alone is
 * packed by the sweep after next. A sweep comes with a release once
 * KEEP_OPEN (256) more findings were opened since the last one. */
MM_TEST(the_release_packs_what_was_not_used_since_the_last_one)
{
	struct mm_agg *a;
	struct mm_agg_stats as;
	size_t packed0;
	int k, created, round;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	for (k = 0; k < 1000; k++)
		CHECK(add(a, k, &created) != NULL);
	mm_agg_release(a); /* all used: none packed */
	mm_agg_stats(a, &as);
	packed0 = as.packed;
	CHECK_EQ_INT((int)packed0, 0);
	for (round = 0; round < 3; round++) {
		/* finding 7 again, and 300 new ones */
		CHECK(add(a, 7, &created) != NULL);
		CHECK_EQ_INT(created, 0);
		for (k = 0; k < 300; k++)
			CHECK(add(a, 1000 + round * 300 + k, &created) != NULL);
		mm_agg_release(a);
	}
	mm_agg_stats(a, &as);
	CHECK(as.packed > 0);
	CHECK(as.unpacks == 0);
	{
		/* 7 never left: its count went up 4 times, never through a pack */
		struct mm_finding copy;
		CHECK_EQ_INT(mm_agg_read(a, 7, &copy), 0);
		CHECK_EQ_INT((int)copy.count, 4 * 8);
		/* 8 was packed, and reads back as written */
		CHECK_EQ_INT(mm_agg_read(a, 8, &copy), 0);
		CHECK(same(&copy, 8, 9));
	}
	mm_agg_free(a);
}

/* Findings asked for in turn, a release after each (a detector's turn
 * per record), stay open while they are a few hundred: a sweep comes
 * only after KEEP_OPEN more were opened, so a release after every record
 * does not pack what the next record asks for again. */
MM_TEST(findings_used_in_turn_stay_open_across_releases)
{
	struct mm_agg *a;
	struct mm_agg_stats as;
	int k, created, round, bad = 0;
	uint64_t unpacks0;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	for (k = 0; k < 400; k++) {
		CHECK(add(a, k, &created) != NULL);
		mm_agg_release(a);
	}
	mm_agg_stats(a, &as);
	unpacks0 = as.unpacks;
	for (round = 0; round < 5; round++)
		for (k = 0; k < 400; k++) {
			bad |= add(a, k, &created) == NULL || created;
			mm_agg_release(a);
		}
	CHECK_EQ_INT(bad, 0);
	mm_agg_stats(a, &as);
	CHECK_EQ_INT((int)(as.unpacks - unpacks0), 0);
	mm_agg_free(a);
}

/* However many were asked for since the last sweep, a release leaves a
 * bounded number open: the rest are packed, used or not. */
MM_TEST(a_release_bounds_the_open_set_even_when_all_were_used)
{
	struct mm_agg *a;
	struct mm_agg_stats as;
	struct mm_finding copy;
	int k, created;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	for (k = 0; k < 2500; k++)
		CHECK(add(a, k, &created) != NULL);
	mm_agg_release(a);
	mm_agg_stats(a, &as);
	CHECK_EQ_INT((int)as.open_hw, 2500);
	CHECK(as.packs >= 2500 - 2048);
	CHECK(as.packs < 2500 - 1024);
	for (k = 0; k < 2500; k += 499) {
		CHECK_EQ_INT(mm_agg_read(a, (size_t)k, &copy), 0);
		CHECK(same(&copy, k, (uint64_t)k + 1));
	}
	mm_agg_free(a);
}

/* A pointer handed out stays valid, and keeps what is written through
 * it, however many other findings are opened before the release. */
MM_TEST(pointers_stay_valid_until_the_release)
{
	struct mm_agg *a;
	struct mm_finding *first, copy;
	int k, created;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	first = add(a, 0, &created);
	CHECK(first != NULL);
	for (k = 1; k < 2000; k++)
		CHECK(add(a, k, &created) != NULL);
	first->count = 77; /* written after 1999 other opens */
	snprintf(first->domain, sizeof(first->domain), "%s", "late.example.com");
	mm_agg_release(a);
	CHECK_EQ_INT(mm_agg_read(a, 0, &copy), 0);
	CHECK_EQ_INT((int)copy.count, 77);
	CHECK_EQ_STR(copy.domain, "late.example.com");
	mm_agg_free(a);
}

/* A text field rewritten shorter after a pack: the old tail does not
 * come back, and a finding grown past its packed size keeps all of it. */
MM_TEST(a_finding_rewritten_shorter_or_longer_reads_back_as_written)
{
	struct mm_agg *a;
	struct mm_finding *f, copy;
	struct mm_agg_stats as;
	char big[200];
	int created;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	f = mm_agg_get(a, TYPE_API, "123456789012", "AKIAEXAMPLE", 11, "", &created);
	CHECK(f != NULL);
	snprintf(f->user_agent, sizeof(f->user_agent), "%s", "a-rather-long-user-agent/1.0");
	churn(a, 0, 1200); /* past the open set: packed */
	f = mm_agg_at(a, 0);
	CHECK(f != NULL);
	snprintf(f->user_agent, sizeof(f->user_agent), "%s", "short");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(f->domain, sizeof(f->domain), "%s", big);
	mm_finding_add_api(f, "ListBuckets", 11, 1000);
	/* the first sweep keeps what was used since the last one open, the
	 * second packs what was not used since */
	churn(a, 1200, 1200);
	mm_agg_stats(a, &as);
	CHECK(as.unpacks == 1);
	CHECK_EQ_INT(mm_agg_read(a, 0, &copy), 0);
	CHECK_EQ_STR(copy.user_agent, "short");
	CHECK_EQ_INT((int)strnlen(copy.user_agent + 6, sizeof(copy.user_agent) - 6), 0);
	CHECK_EQ_STR(copy.domain, big);
	CHECK_EQ_INT(copy.napis, 1);
	CHECK_EQ_STR(copy.apis[0].name, "ListBuckets");
	mm_agg_free(a);
}

struct fix_log {
	int calls;
};

static int fix_to_instance(struct mm_finding *f, size_t i, void *ctx)
{
	struct fix_log *l = ctx;
	l->calls++;
	(void)i;
	/* every ENI of an even number is instance i-even */
	if (f->eni[0] && (f->eni[strlen(f->eni) - 1] - '0') % 2 == 0) {
		snprintf(f->instance_id, sizeof(f->instance_id), "%s", "i-0000even");
		return 1;
	}
	return 0;
}

/* rekey calls the fix on every finding, then merges the ones whose keys
 * became equal into the first (counts add, the rest dead), over packed
 * findings. */
MM_TEST(rekey_fixes_each_finding_then_merges_equal_keys)
{
	struct mm_agg *a;
	struct fix_log log = {0};
	uint64_t want = 0;
	size_t i, live = 0;
	int k, created;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	for (k = 0; k < 600; k++) {
		CHECK(add(a, k, &created) != NULL);
		if (k % 2 == 0)
			want += (uint64_t)k + 1;
		mm_agg_release(a);
	}
	CHECK_EQ_INT(mm_agg_rekey(a, fix_to_instance, &log), 0);
	CHECK_EQ_INT(log.calls, 600);
	for (i = 0; i < mm_agg_count(a); i++) {
		struct mm_finding *f = mm_agg_at(a, i);
		CHECK(f != NULL);
		if (f->archived >= 0) {
			live++;
			if (!strcmp(f->instance_id, "i-0000even"))
				CHECK_EQ_INT((int)f->count, (int)want);
		}
		mm_agg_release(a);
	}
	CHECK_EQ_INT((int)live, 301); /* 300 odd ENIs and one instance */
	/* the key now finds the merged one */
	{
		struct mm_finding *f =
			mm_agg_get(a, TYPE_IP, "123456789012", "i-0000even", 10, "custom", &created);
		CHECK(f != NULL);
		CHECK_EQ_INT(created, 0);
		CHECK_EQ_INT((int)f->count, (int)want);
	}
	mm_agg_free(a);
}

/* clear forgets every finding (packed or open) and the table is usable. */
MM_TEST(clear_forgets_everything_and_the_table_goes_on)
{
	struct mm_agg *a;
	int k, created;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	for (k = 0; k < 700; k++)
		CHECK(add(a, k, &created) != NULL);
	mm_agg_release(a);
	CHECK(add(a, 1, &created) != NULL); /* one open at the clear */
	mm_agg_clear(a);
	CHECK_EQ_INT((int)mm_agg_count(a), 0);
	CHECK(add(a, 5, &created) != NULL);
	CHECK_EQ_INT(created, 1);
	mm_agg_release(a);
	CHECK(same(mm_agg_at(a, 0), 5, 6));
	mm_agg_free(a);
}

/* A spent finding (the writer's: stored, the table cleared next) closes
 * without being packed again: a change made after it was opened is not
 * kept, while one never packed yet is packed as usual, so not lost. */
MM_TEST(spent_findings_close_without_packing)
{
	struct mm_agg *a;
	struct mm_finding copy, *f;
	const int n = 2000;
	int k, created, bad = 0;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	for (k = 0; k < n; k++) {
		CHECK(add(a, k, &created) != NULL);
		mm_agg_release(a);
	}
	/* every one opened, changed, spent, released */
	for (k = 0; k < n; k++) {
		f = mm_agg_at(a, (size_t)k);
		bad |= !f;
		if (f)
			f->count += 1000;
		mm_agg_spent(a, (size_t)k);
		mm_agg_release(a);
	}
	CHECK_EQ_INT(bad, 0);
	/* each was packed before it was opened: its bytes from then stay
	 * (the few still open at the end show the change until closed) */
	{
		int old = 0, changed = 0;
		for (k = 0; k < n; k++) {
			bad |= mm_agg_read(a, (size_t)k, &copy) != 0;
			if (same(&copy, k, (uint64_t)k + 1))
				old++;
			else if (same(&copy, k, (uint64_t)k + 1 + 1000))
				changed++;
			else
				bad = 1;
		}
		CHECK_EQ_INT(bad, 0);
		CHECK(old >= n - 1024);
		CHECK_EQ_INT(old + changed, n);
	}
	/* a new finding (never packed) spent at once is packed when closed */
	CHECK((f = add(a, n, &created)) != NULL);
	CHECK_EQ_INT(created, 1);
	mm_agg_spent(a, (size_t)n);
	for (k = 0; k < n; k++) {
		bad |= mm_agg_at(a, (size_t)k) == NULL;
		mm_agg_release(a);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(mm_agg_read(a, (size_t)n, &copy), 0);
	CHECK(same(&copy, n, (uint64_t)n + 1));
	/* without spent, the change is kept, as always */
	mm_agg_clear(a);
	for (k = 0; k < n; k++) {
		CHECK(add(a, k, &created) != NULL);
		mm_agg_release(a);
	}
	for (k = 0; k < n; k++) {
		if ((f = mm_agg_at(a, (size_t)k)))
			f->count += 1000;
		mm_agg_release(a);
	}
	for (k = 0; k < n; k++)
		bad |= mm_agg_read(a, (size_t)k, &copy) != 0 || !same(&copy, k, (uint64_t)k + 1 + 1000);
	CHECK_EQ_INT(bad, 0);
	mm_agg_free(a);
}

/* A fix that says it changed nothing: rekey closes those findings
 * without packing them again (their bytes are what they were), so a
 * change it did not own up to is not kept - which shows the pack was
 * skipped. One that owns up is kept (the test above). */
static int fix_quietly(struct mm_finding *f, size_t i, void *ctx)
{
	(void)i;
	(void)ctx;
	snprintf(f->user_agent, sizeof(f->user_agent), "%s", "changed");
	return 0;
}

MM_TEST(rekey_packs_only_what_the_fix_changed)
{
	struct mm_agg *a;
	struct mm_finding copy;
	const int n = 900;
	int k, created, kept = 0, bad = 0;

	CHECK_EQ_INT(mm_agg_new(&a, 100000), 0);
	for (k = 0; k < n; k++) {
		CHECK(add(a, k, &created) != NULL);
		mm_agg_release(a);
	}
	CHECK_EQ_INT(mm_agg_rekey(a, fix_quietly, NULL), 0);
	/* walk the table by reading copies: the ones rekey closed show their
	 * bytes from before; the few still open show the change */
	for (k = 0; k < n; k++) {
		bad |= mm_agg_read(a, (size_t)k, &copy) != 0;
		if (same(&copy, k, (uint64_t)k + 1))
			kept++;
		else if (strcmp(copy.user_agent, "changed") != 0)
			bad = 1;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(kept >= n - 300);
	/* the index still finds every one by its key */
	for (k = 0; k < n; k++) {
		char res[32];
		snprintf(res, sizeof(res), "eni-%08d", k);
		bad |= mm_agg_get(a, TYPE_IP, "123456789012", res, strlen(res), "custom",
				  &created) == NULL || created;
		mm_agg_release(a);
	}
	CHECK_EQ_INT(bad, 0);
	mm_agg_free(a);
}
