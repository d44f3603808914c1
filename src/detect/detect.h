/* detect.h - the detector registry, the context a detector runs in, and
 * the bounded finding aggregator.
 *
 * A detector family is one file under src/detect/ that defines one
 * struct mm_detector_def and one line in the registry (registry.c). The
 * engine (src/engine/pipeline.c) owns everything else: it gives every
 * worker thread its own instance of each detector's state, calls
 * on_event for the event kinds the detector asked for, and at each flush
 * merges the workers' states into the pipeline's own (merge must be
 * exact: the result cannot depend on how files were split among
 * threads), then calls finish on the merged state.
 *
 * Findings go into the batch's one aggregator through mm_emit (locked on
 * a match, so each finding is held once whatever the thread count); it
 * aggregates exactly (counts add, times widen, details come from the
 * latest record by (event time, file, line)), so arrival order between
 * threads never shows. So a detector
 * whose findings are a function of single events needs no state at all
 * (threat intel, root credential use), and one that counts per entity
 * keeps a table keyed by the entity (ENI/instance for flows and DNS,
 * principal for CloudTrail, host for host events) in its state, with a
 * merge that adds the tables.
 *
 * Time is event time only: a replay of old logs yields the same findings
 * as live processing did. Files are read in any order, so a detector
 * must not assume events arrive sorted; see docs/ARCHITECTURE.md. */
#ifndef MM_DETECT_H
#define MM_DETECT_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/event.h"
#include "enrich/inventory.h"
#include "finding/agg.h"
#include "finding/finding.h"
#include "intel/intel.h"

struct mm_geo;
struct mm_sigma_set;

/* ---- the context a detector runs in ------------------------------------- */

/* Defaults for a file: the account and region in its S3 key (may be empty). */
struct mm_file_ctx {
	const char *path;	/* as the scan names it (canonical) */
	const char *rel;	/* relative to the scanned root: evidence paths */
	char account[32];
	char region[32];
};
/* Fill account/region from an S3-layout path
 * (.../AWSLogs/<account>/<service>/<region>/...); rel = path. */
void mm_file_ctx_from_path(struct mm_file_ctx *fc, const char *path);

struct mm_detect_stats {
	uint64_t flows, dns, api;
	uint64_t matches, trusted_skips;
};

/* Per-thread memo of IPv4 (address, port) pairs known to match no list.
 * Traffic is dominated by a few busy remote endpoints, so most lookups
 * repeat; a hit here is one L1/L2 access instead of the intel set's
 * two or three dependent cache misses. Only misses are cached, so it can
 * never hide a threat. */
#define MM_IPMEMO_SLOTS 8192
struct mm_ipmemo {
	uint64_t key[MM_IPMEMO_SLOTS];	/* (ip << 16 | port) + 1; 0 = empty */
};

/* What a detector sees besides its own state. One per worker thread;
 * everything borrowed is read-only while workers run. */
struct mm_detect_ctx {
	const struct mm_intel *intel;		/* borrowed */
	const struct mm_geo *geo;		/* borrowed: IP owner, inside AWS; may be NULL */
	const struct mm_sigma_set *sigma;	/* borrowed: the scan's Sigma rules; may be NULL */
	const struct mm_inventory *inv;		/* borrowed, may be empty */
	struct mm_inventory *learned;		/* this worker's: RunInstances */
	struct mm_agg *agg;			/* the batch's findings (shared) */
	/* The table is shared by the workers: mm_emit takes agg_lock (when
	 * set) and the pipeline releases it after the event's detectors ran,
	 * so a detector may set details on what mm_emit returned. Locking
	 * happens on matches only, never per record. */
	pthread_mutex_t *agg_lock;		/* NULL: one thread (tests) */
	int locked;
	const struct mm_file_ctx *file;		/* current file */
	struct mm_ipmemo *memo;			/* this worker's, may be NULL */
	/* The running detector's tunables, in the order of its params table
	 * (set by the engine before each hook; the config file's values or
	 * the defaults). NULL only for a detector without params. */
	const double *params;
	struct mm_detect_stats st;
};

/* Add one occurrence of (type, resource, disc) seen in ev between first
 * and last (event time, ms): count, times and evidence. Returns the
 * finding (NULL when the table is full); *latest is 1 when this record
 * is the latest one seen for it, and only then may the caller set the
 * detail fields (so details never depend on reading order). The account
 * is acct, else the file's S3 key's; the region the file key's. */
struct mm_finding *mm_emit(struct mm_detect_ctx *c, const char *type, struct mm_str acct,
			   struct mm_str resource, const char *disc, const struct mm_event *ev,
			   int64_t first, int64_t last, int *latest);

/* The detector holds no finding mm_emit returned any more: outside a
 * worker's locked turn (finish), the table may pack what it opened. A
 * finish that emits for many entities calls it between them, so the
 * findings opened at the flush stay a few hundred (finding/agg.h). */
void mm_emit_done(struct mm_detect_ctx *c);

/* A record a detector keeps in its state to cite later, when it emits
 * from finish (a threshold crossed over many records): where it is and
 * its event time. file is interned (lives for the process). */
struct mm_evref {
	const char *file;
	uint64_t line, offset;
	int64_t time_ms;
};
/* Remember ev (seen in c's current file) at time_ms. */
void mm_evref_take(struct mm_evref *r, const struct mm_detect_ctx *c, const struct mm_event *ev,
		   int64_t time_ms);
/* Is a earlier than b by (time, file, line)? Keeps samples order-free.
 * Inline: detectors call it per record (Sigma hits, ctbase items), and
 * it almost always decides on the time. */
static inline int mm_evref_before(const struct mm_evref *a, const struct mm_evref *b)
{
	int k;
	if (a->time_ms != b->time_ms)
		return a->time_ms < b->time_ms;
	if (a->file != b->file && (k = strcmp(a->file ? a->file : "", b->file ? b->file : "")))
		return k < 0;
	if (a->line != b->line)
		return a->line < b->line;
	return a->offset < b->offset; /* one-line CloudTrail documents */
}
/* Keep the cap earliest of the records offered, by mm_evref_before, in
 * refs[0..*n) (unsorted): the sample then does not depend on the order
 * they came in. */
void mm_evref_keep(struct mm_evref *refs, uint8_t *n, int cap, const struct mm_evref *r);
/* mm_emit for a finding whose records are refs[0..n) (n >= 1; the
 * latest one gives the detail location): one occurrence, every ref in
 * the evidence sample. Used from finish, where no event is at hand. */
struct mm_finding *mm_emit_refs(struct mm_detect_ctx *c, const char *type, struct mm_str acct,
				struct mm_str resource, const char *disc,
				const struct mm_evref *refs, int n, int64_t first, int64_t last,
				int *latest);

/* ---- tunables ------------------------------------------------------------ */

/* One threshold a detector reads: its name in the config file (under the
 * detector's name: `portprobe: {min_ports: 3}`), its built-in default,
 * the accepted range, a unit word and why the default is what it is
 * (`mamori config show` prints all of it; docs/finding-types.md says the
 * same at length). */
#define MM_PARAMS_MAX 32	/* per detector */
struct mm_param {
	const char *name;
	double def, min, max;
	const char *unit;	/* "flows", "seconds", "bytes", "bool", ... */
	const char *reason;
};

/* ---- the registry -------------------------------------------------------- */

#define MM_KIND_BIT(k) (1u << (k))
/* flow records the engine hands on_batch at once, at most */
#define MM_DETECT_BATCH 32

/* Flush-time rule a detector declares: a finding of type `dropped` is not
 * reported on a resource that has a finding of type `by` (same account).
 * The engine applies it across the batch and the store. */
struct mm_supersede {
	const char *dropped, *by;
};

struct mm_detector_def {
	const char *name;		/* stable: keys its stored state */
	unsigned kinds;			/* MM_KIND_BIT(MM_EV_...) it wants */
	int state_version;		/* of what save writes; 0 = no stored state */
	int state_version_min;		/* the oldest version load still takes
					 * (0: state_version only); rows of other
					 * versions are discarded (relearned) */
	const char *const *types;	/* finding types it emits, NULL-terminated */
	const struct mm_supersede *supersedes; /* NULL-terminated or NULL */
	const struct mm_param *params;	/* terminated by name == NULL, or NULL */

	/* All hooks may be NULL. state_new returns NULL on out of memory. */
	void *(*state_new)(void);
	void (*state_free)(void *state);
	void (*on_event)(void *state, struct mm_detect_ctx *c, const struct mm_event *ev);
	/* Optional: the same for evs[0..n) in order (n <= MM_DETECT_BATCH),
	 * exactly as n on_event calls would. The engine hands flow records
	 * in such runs so a detector can load (prefetch) the per-entity state
	 * of the next records while it works on this one: with tens of
	 * thousands of ENIs that state is out of cache, and one record at a
	 * time waits for each miss in turn. Findings must not be emitted
	 * here (only from finish), so the table's spill check per event is
	 * not needed. */
	void (*on_batch)(void *state, struct mm_detect_ctx *c, const struct mm_event *evs, int n);
	/* Merge src into dst exactly; src is freed by the caller after. */
	int (*merge)(void *dst, void *src);
	/* After the merge of a batch: emit what the merged state shows. */
	void (*finish)(void *state, struct mm_detect_ctx *c);
	/* Persist / restore per-entity state (store's detector_state). save
	 * calls put once per entity; load is called once per stored row. */
	int (*save)(void *state, int (*put)(void *pctx, const char *entity, const void *blob,
					    size_t n),
		    void *pctx);
	int (*load)(void *state, const char *entity, int version, const void *blob, size_t n);
	/* The batch's findings (c->agg) are about to be spilled to the store
	 * mid-batch and leave the table: a detector that reads them in
	 * finish (sequence) reads these here, into its worker's state. Called
	 * by the worker that spills, with the table locked. May be NULL. */
	void (*on_spill)(void *state, struct mm_detect_ctx *c);
	/* 1: save puts every entity the state holds (the whole state, not
	 * only what changed), so the engine may pack the entities' blobs
	 * into few rows and replace all of the detector's rows at each save
	 * (one SQLite row per ENI was most of the flush for 50k ENIs).
	 * load is still called once per entity, and rows of one entity each
	 * (older databases) still load. 0 (the default): one row per put. */
	int state_packed;
	/* Optional, for a detector with on_event only: called with a run of
	 * flow records (n <= MM_DETECT_BATCH) just before on_event goes
	 * through them one by one. It may only load (prefetch) what those
	 * calls will read - never change state or emit - so the misses of a
	 * run overlap and the findings are on_event's. */
	void (*prefetch)(void *state, struct mm_detect_ctx *c, const struct mm_event *evs, int n);
};

/* The registry, NULL-terminated (registry.c). */
extern const struct mm_detector_def *const mm_detectors[];
/* The registered detector by name, or NULL. */
const struct mm_detector_def *mm_detector_by_name(const char *name);

/* Number of params d declares. */
int mm_detector_nparams(const struct mm_detector_def *d);
/* d's defaults into out[0..mm_detector_nparams(d)). */
void mm_detector_defaults(const struct mm_detector_def *d, double *out);

/* Run every registered stateless detector on one event, with default
 * params (tests, fuzzing; the pipeline dispatches itself, with states). */
void mm_detect_event(struct mm_detect_ctx *c, const struct mm_event *ev);

/* The families (each defined in its own file). */
extern const struct mm_detector_def mm_det_threatintel;
extern const struct mm_detector_def mm_det_rootcred;
extern const struct mm_detector_def mm_det_netbase;
extern const struct mm_detector_def mm_det_netscan;
extern const struct mm_detector_def mm_det_brute;
extern const struct mm_detector_def mm_det_dos;
extern const struct mm_detector_def mm_det_dnsbehav;
extern const struct mm_detector_def mm_det_ctrules;
extern const struct mm_detector_def mm_det_ctbase;
extern const struct mm_detector_def mm_det_sigma;
extern const struct mm_detector_def mm_det_sequence;
extern const struct mm_detector_def mm_det_hostauth;
extern const struct mm_detector_def mm_det_hostcmd;
extern const struct mm_detector_def mm_det_hostproc;
extern const struct mm_detector_def mm_det_hostfile;

/* ---- helpers shared by detectors ---------------------------------------- */

/* Connection initiator for a flow record, from the local and remote
 * ports: the well-known/registered port is the server's; ambiguous cases
 * fall back to prefer_outbound (the remote is a known server) or to the
 * higher port being the client. Exposed for tests. */
enum mm_dir mm_flow_initiator(uint8_t proto, uint16_t lport, uint16_t rport, int src_is_local,
			      int prefer_outbound);

/* Which side of a flow record is the instance: 1 if src is the local
 * side, 0 if dst is, -1 if it cannot be told (the ENI's addresses from
 * the inventory, else the private side, else the logged flow-direction). */
int mm_flow_src_is_local(const struct mm_detect_ctx *d, const struct mm_flow *f);

/* GuardDuty's protocol name ("TCP", "UDP", "ICMP", ...; else the number
 * written into buf of at least 8 bytes). Returns the name. */
const char *mm_proto_name(uint8_t p, char *buf);

/* API names GuardDuty's Recon:IAMUser types cover (List*, Describe*, Get*). */
int mm_api_is_recon(const char *name, size_t n);

/* The principal an API call is attributed to: access key id, else
 * principal id, else ARN (empty when none). */
struct mm_str mm_api_principal(const struct mm_api *a);

/* Fill the AccessKey resource and API call details of f from a. */
void mm_finding_set_api(struct mm_finding *f, const struct mm_api *a);

/* mm_emit for a finding about one CloudTrail call (ev, kind API) at its
 * event time, in the call's account: counts the API in apiCalls and, when
 * ev is the latest record, sets role TARGET and the call's details
 * (mm_finding_set_api). The single-record CloudTrail detectors' emit. */
struct mm_finding *mm_emit_api(struct mm_detect_ctx *c, const char *type, struct mm_str resource,
			       const char *disc, const struct mm_event *ev, int *latest);

/* Fill a DNS_REQUEST finding's details from the query q: region, role
 * ACTOR, outbound, the name asked (without the final dot), transport,
 * blocked (DNS Firewall BLOCK), the asking address, caller "Domain". */
void mm_finding_set_dns(struct mm_finding *f, const struct mm_dns *q);

#endif
