/* sim.h - the estate simulator (`mamori sim`) and its verifier.
 *
 * The generator writes an AWS estate's logs exactly as AWS delivers them
 * to S3 (VPC Flow Logs, Route 53 Resolver query logs, CloudTrail, one
 * CloudTrail digest), plus the inventory, threat lists, the scan options
 * to use and truth.json: every finding a correct scan must produce and the
 * benign look-alikes that must produce none. Output is a pure function of
 * (seed, days, scale, start): its own PRNG, never the clock or rand().
 *
 * The verifier compares findings (from the store or a JSON Lines file of
 * GuardDuty findings) with truth.json. See docs/internals/sim.md. */
#ifndef MM_SIM_H
#define MM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

#define MM_SIM_MAX_DAYS 60
#define MM_SIM_MAX_SCALE 100

struct mm_sim_opts {
	const char *out_dir;	/* borrowed */
	int days;		/* 1..MM_SIM_MAX_DAYS */
	int scale;		/* 1..MM_SIM_MAX_SCALE */
	uint64_t seed;
	int64_t start_day;	/* days since the epoch (UTC midnight of --start) */
	int force;		/* write into a non-empty out_dir */
	int attacks;		/* MM_SIM_ATTACKS_* bits; 0 = MM_SIM_ATTACKS_ALL */
};

/* Which attacks (and their look-alikes) to inject: the threat-list ones
 * (flow, DNS and CloudTrail against the intel lists), the network
 * behaviours (baselines, probes, scans, brute force, DoS, DNS analysis)
 * and the list-driven DNS types (abused, bitcoin, malicious, suspicious,
 * driveby, phishing, dga lists the simulator writes; scan.args names
 * them) and the single-record CloudTrail rules (logging disabled,
 * password policy, S3 buckets opened, PenTest agents, Bedrock logging)
 * and the principal baselines with the attack sequence they end in
 * (anomalous API use, a console sign-in from abroad during work, an
 * instance's role used outside AWS; only with --days >= 9). ALL is all
 * five. */
#define MM_SIM_ATTACKS_INTEL 1
#define MM_SIM_ATTACKS_NETWORK 2
#define MM_SIM_ATTACKS_DNSLISTS 4
#define MM_SIM_ATTACKS_CTRULES 8
#define MM_SIM_ATTACKS_IAM 16
#define MM_SIM_ATTACKS_ALL 31

struct mm_sim_stats {
	uint64_t flow_records, dns_records, ct_records;
	uint64_t files, bytes_raw, bytes_gz;
	int instances, expected;
};

/* Defaults: days 2, scale 1, seed 1, start 2024-03-04, no force, all
 * attacks. */
void mm_sim_opts_init(struct mm_sim_opts *o);

/* Write the estate into o->out_dir (created if missing). Refuses a
 * non-empty existing directory (MM_EEXISTS) unless o->force; with force,
 * files are overwritten but nothing is deleted. st may be NULL.
 * 0, MM_EINVAL (bad options), MM_EEXISTS, MM_EIO, MM_ENOMEM; detail in err. */
int mm_sim_generate(const struct mm_sim_opts *o, struct mm_sim_stats *st, struct mm_err *err);

/* ---- verifier ---- */

/* One finding as the verifier sees it (all copied, owned by the set). */
struct mm_sim_found {
	char type[96];
	char resource[128];	/* instance id, ENI, "ip:ADDR" or access key id */
	char role[16];		/* "ACTOR" / "TARGET" / "" */
	char direction[16];	/* "INBOUND" / "OUTBOUND" / "" */
	int64_t first_ms, last_ms;
	int used;		/* matched an expected entry */
};

/* Growable list, capped at MM_SIM_MAX_FOUND. Zero-initialise, free with
 * mm_sim_found_free. */
#define MM_SIM_MAX_FOUND 1000000
struct mm_sim_found_set {
	struct mm_sim_found *v;
	size_t n, cap;
};

void mm_sim_found_free(struct mm_sim_found_set *s);
/* Add one GuardDuty finding given as JSON (borrowed). resource overrides
 * the resource read from the JSON when not NULL (the store's column).
 * MM_EPARSE when the JSON is not a finding. */
int mm_sim_found_add_json(struct mm_sim_found_set *s, const char *json, size_t n,
			  const char *resource, struct mm_err *err);
/* Load a JSON Lines file of GuardDuty findings (blank lines skipped;
 * lines up to 1 MiB). */
int mm_sim_found_load_jsonl(struct mm_sim_found_set *s, const char *path, struct mm_err *err);
/* Load every finding (archived too) from a mamori SQLite store. */
int mm_sim_found_load_db(struct mm_sim_found_set *s, const char *db_path, struct mm_err *err);

/* Check the findings against truth.json: one line per check to out
 * ("ok ...", "MISSING ...", "MISMATCH ...", "UNEXPECTED ..." - with
 * "on look-alike: WHAT" when the resource is one of truth's benign
 * entries) and the final "N passed, N failed". Expected entries marked
 * "optional" may be absent; when present they must fit like the others.
 * Marks s->v[i].used. Returns 0 and sets
 * *failed (0 = all passed), or a negative code if truth.json is unusable. */
int mm_sim_verify(const char *truth_path, struct mm_sim_found_set *s, FILE *out, int *passed,
		  int *failed, struct mm_err *err);

#endif
