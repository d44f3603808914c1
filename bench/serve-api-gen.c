/* serve-api-gen.c - fill a mamori database with N findings for
 * bench/serve-api.py: GuardDuty JSON rendered by mamori itself
 * (finding/output.c) from sample findings of every type, with a fixed
 * seed: 20 accounts, 5 regions, 5000 instances, 1000 access keys,
 * severities 2/5/8, times over 90 days, a fifth archived. Prints the
 * insert rate. With "noidx" the API's schema 3 indexes are dropped first
 * (the cost of a put before them, for comparison).
 *
 *   cc -Isrc bench/serve-api-gen.c build/libmamori.a $(LDLIBS) -o gen
 *   gen DB N [noidx] */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "finding/finding.h"
#include "finding/output.h"
#include "serve/sample.h"
#include "store/store.h"

#define T0 1757000000000LL

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

int main(int argc, char **argv)
{
	static const char *const regions[] = {"us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
					      "ap-northeast-1"};
	static const double sevs[] = {2, 5, 8};
	const struct mm_ftype *all = mm_ftype_all();
	struct mm_store *st = NULL;
	struct mm_finding *f;
	struct mm_buf js;
	struct mm_err err;
	struct timespec a, b;
	long n, i;
	int nt = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s DB N [noidx]\n", argv[0]);
		return 2;
	}
	n = atol(argv[2]);
	while (all[nt].type)
		nt++;
	mm_err_clear(&err);
	if (mm_store_open(&st, argv[1], &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (argc > 3 && !strcmp(argv[3], "noidx")) {
		sqlite3 *h = NULL;
		mm_store_close(st);	/* created at schema 3: drop its indexes, keep the version */
		if (sqlite3_open(argv[1], &h) != SQLITE_OK ||
		    sqlite3_exec(h, "DROP INDEX findings_j_severity; DROP INDEX findings_j_updated;"
				 "DROP INDEX findings_j_created; DROP INDEX findings_j_account;"
				 "DROP INDEX findings_j_region; DROP INDEX findings_j_instance;"
				 "DROP INDEX findings_j_akid;", NULL, NULL, NULL) != SQLITE_OK) {
			fprintf(stderr, "dropping indexes: %s\n", sqlite3_errmsg(h));
			return 1;
		}
		sqlite3_close(h);
		if (mm_store_open(&st, argv[1], &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	}
	f = mm_calloc(1, sizeof(*f));
	mm_buf_init(&js, 1 << 20);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		if (i % 5000 == 0)
			mm_store_begin(st, &err);
		mm_sample_finding(&all[rnd((unsigned)nt)], T0, f);
		snprintf(f->account, sizeof(f->account), "%012u", 100000000 + rnd(20) * 7919);
		snprintf(f->region, sizeof(f->region), "%s", regions[rnd(5)]);
		f->severity = sevs[rnd(3)];
		if (f->instance_id[0])
			snprintf(f->instance_id, sizeof(f->instance_id), "i-%017x", rnd(5000));
		if (f->access_key_id[0])
			snprintf(f->access_key_id, sizeof(f->access_key_id), "AKIA%016u", rnd(1000));
		f->created_at_ms = T0 + (long long)rnd(86400 * 90) * 1000 + rnd(1000);
		f->updated_at_ms = f->created_at_ms + (long long)rnd(86400) * 1000;
		f->first_seen_ms = f->created_at_ms;
		f->last_seen_ms = f->updated_at_ms;
		f->archived = rnd(5) == 0;
		snprintf(f->id, sizeof(f->id), "%08lx%08x%08x%08x", i, rnd(1u << 31), rnd(1u << 31),
			 rnd(1u << 31));
		mm_buf_reset(&js);
		if (mm_finding_to_json(f, NULL, &js) || mm_store_finding_put(st, f, js.p, &err)) {
			fprintf(stderr, "put: %s\n", err.msg);
			return 1;
		}
		if (i % 5000 == 4999 || i == n - 1)
			mm_store_commit(st, &err);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%ld findings in %.2f s: %.0f puts/s\n", n,
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
	       (double)n / ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9));
	mm_buf_free(&js);
	mm_free(f);
	mm_store_close(st);
	return 0;
}
