/* finding.h - mamori's in-memory finding: one GuardDuty finding, and the
 * table of finding types it can be.
 *
 * A finding owns all its strings (fixed arrays, truncated if longer), so
 * it can be copied with memcpy and outlives the records behind it. It is
 * keyed by (type, resource, discriminator): repeated activity of the same
 * kind on the same resource updates one finding (count, eventFirstSeen,
 * eventLastSeen, evidence sample). The discriminator (disc) is whatever
 * else a detector says separates two findings - the threat list name for
 * intel findings - and is empty when nothing does. The list entry that
 * matched (indicator) is detail, not identity.
 *
 * The model is general: a resource is an Instance, an AccessKey, an
 * S3Bucket or an Instance seen from inside (Runtime: a host agent's
 * process); an action is a network connection, a DNS request, an AWS API
 * call or a port probe. finding/output.c renders each the way GuardDuty
 * does. */
#ifndef MM_FINDING_H
#define MM_FINDING_H

#include <stdint.h>

#include "core/buf.h"
#include "core/ip.h"

#define MM_EVIDENCE_MAX 8
#define MM_API_CALLS_MAX 8	/* service.additionalInfo.apiCalls entries kept */
#define MM_PROBES_MAX 8		/* portProbeDetails entries kept */
#define MM_CMDLINE_MAX 256	/* a process command line is cut to this (with NUL) */

/* resource.resourceType. RUNTIME renders as "Instance" plus
 * service.runtimeDetails (the process a host agent saw). */
enum mm_res_type { MM_RES_INSTANCE = 0, MM_RES_ACCESSKEY, MM_RES_S3BUCKET, MM_RES_RUNTIME };
/* service.action.actionType */
enum mm_action_type {
	MM_ACTION_NETWORK_CONNECTION = 0,
	MM_ACTION_DNS_REQUEST,
	MM_ACTION_AWS_API_CALL,
	MM_ACTION_PORT_PROBE,
	/* no action: an attack sequence (service.detection.sequence) */
	MM_ACTION_SEQUENCE
};
enum mm_role { MM_ROLE_ACTOR = 0, MM_ROLE_TARGET };
enum mm_dir { MM_DIR_UNKNOWN = 0, MM_DIR_INBOUND, MM_DIR_OUTBOUND };

/* One record behind a finding: where it is and when it happened. */
struct mm_evidence {
	const char *file;	/* interned (core/intern.h): lives for the process */
	uint64_t line;
	uint64_t offset;
	int64_t time_ms;
};

/* One API of an AWS_API_CALL finding that merged several
 * (service.additionalInfo.apiCalls). Times are event times in ms. */
struct mm_api_call {
	char name[64];
	uint64_t count;
	int64_t first_ms, last_ms;
};

/* One probed port of a PORT_PROBE finding (portProbeDetails[]). */
struct mm_port_probe {
	uint16_t local_port;
	uint8_t has_local_ip, has_remote_ip;
	struct mm_ip local_ip, remote_ip;
};

/* The process behind a Runtime finding, as a host agent reported it.
 * Every string is cut to its array; 0 means "unknown" for the numbers. */
struct mm_process {
	char name[64];
	char exe[256];		/* executablePath */
	int64_t pid, ppid;
	char user[32];
	char cmdline[MM_CMDLINE_MAX]; /* bounded: longer lines are cut */
	char host[64];		/* the agent's host name */
	/* appended for the host agent's detectors (detect/hostproc.c) */
	uint8_t sha256[32];	/* executableSha256; all zero: unknown */
	int64_t start_ms;	/* startTime; 0 unknown */
	char lineage[56];	/* parents "pid:name;..." nearest first (cut; the
				 * finding's size is bounded: no paths here) */
};

/* One signal of an attack sequence (service.detection.sequence.signals):
 * a member finding, or the calls of one API. Overlaid in the finding's
 * union (see struct mm_finding), so the set is small and fixed. */
#define MM_SEQ_SIGNALS_MAX 9
enum mm_seq_kind { MM_SEQ_FINDING = 1, MM_SEQ_API = 2 };
struct mm_seq_signal {
	int64_t first_ms, last_ms;
	uint32_t count;
	uint32_t thash;		/* FINDING: mm_ftype_hash() of its type */
	uint8_t kind;		/* enum mm_seq_kind */
	uint8_t tactic;		/* enum mm_tactic (detect/apitactic.h) */
	uint8_t sev10;		/* FINDING: its severity x 10 */
	char name[41];		/* FINDING: its id; API: "iam:CreateAccessKey" (cut) */
};
struct mm_seq {
	uint8_t nsig;		/* signals[0..nsig), in time order */
	char cred[24];		/* the latest access key the principal used */
	struct mm_seq_signal sig[MM_SEQ_SIGNALS_MAX];
};

/* additionalInfo members a detector adds (JSON member text): room for an
 * anomaly's profiledBehavior/unusualBehavior or a Sigma rule's id, title
 * and tags; zero-run encoding keeps the unused part out of the store. */
#define MM_INFO_MAX 768

struct mm_finding {
	char id[33];		/* 32 lowercase hex, stable for the key */
	char type[96];		/* "CryptoCurrency:EC2/BitcoinTool.B" */
	double severity;	/* GuardDuty's number: 8 high, 5 medium, 2 low */
	char account[32];
	char region[32];

	/* resource */
	enum mm_res_type res_type;
	char instance_id[32];	/* Instance: may be empty when only the ENI is known */
	char eni[32];		/* Instance: the interface the traffic used */
	char local_ip_key[MM_IP_STRLEN]; /* DNS without srcids: the asking address */
	char access_key_id[32];	/* AccessKey (and the caller of S3Bucket) */
	char principal_id[128];
	char user_name[128];
	char user_type[32];	/* userIdentity.type ("IAMUser", "Root", ...) */
	char bucket_name[64];	/* S3Bucket */

	/* service.action */
	enum mm_action_type action;
	enum mm_dir direction;
	char protocol[8];	/* "TCP", "UDP", "ICMP", ... */
	int blocked;
	uint8_t has_remote_ip, has_local_ip;
	struct mm_ip remote_ip, local_ip;
	uint16_t remote_port, local_port;
	char domain[256];
	char api[128];
	char service_name[64];	/* eventSource */
	char caller_type[32];	/* "Remote IP" / "Domain" / "AWS Service" */
	char error_code[64];
	char user_agent[256];
	/* What only one kind of finding has, overlaid: a finding's type fixes
	 * its action and resource, so at most one member is ever in use, and
	 * the overlay keeps a finding at ~3.6 KB instead of ~4.4 (the flows
	 * benchmark holds 22k of them). Read and write a member only for its
	 * kind: apis for AWS_API_CALL, probes for PORT_PROBE, proc for the
	 * Runtime resource, seq for an attack sequence (mm_finding_has_*
	 * below say which). */
	union {
		struct {
			int napis;	/* the APIs merged, at most MM_API_CALLS_MAX */
			struct mm_api_call apis[MM_API_CALLS_MAX];
		};
		struct {
			int nprobes;	/* the probed ports; 0 = use local_port/ips */
			struct mm_port_probe probes[MM_PROBES_MAX];
		};
		struct mm_process proc;	/* Runtime */
		struct mm_seq seq;	/* action MM_ACTION_SEQUENCE */
	};

	enum mm_role role;
	uint64_t count;
	int64_t first_seen_ms, last_seen_ms;
	/* The record whose details (remote address, port, domain...) the
	 * finding shows: the latest by event time, ties broken by (file,
	 * line) so the result does not depend on thread scheduling. file is
	 * borrowed from the scan (NULL for a finding loaded from the store). */
	const char *detail_file;
	uint64_t detail_line;
	uint64_t detail_offset;	/* breaks ties within a line (one-line CloudTrail documents) */

	/* Aggregation discriminator: part of the key and of the id (generic:
	 * the threat list name for intel findings, "" when not needed). */
	char disc[64];

	/* evidence */
	char threat_list[64];	/* list name (file base name; longer names are cut) */
	char threat_name[64];	/* category word: "mining", "c2", "tor", ... */
	char indicator[64];	/* the list entry that matched last (detail, not key) */
	int nevidence;
	struct mm_evidence ev[MM_EVIDENCE_MAX];
	/* More service.additionalInfo members a detector adds, as JSON member
	 * text without braces ("unusual":6667,"scanner":"x"): written only
	 * through mm_finding_info_* (always valid JSON; what does not fit is
	 * left out whole). Detail: set from the latest record, like ports. */
	char info[MM_INFO_MAX];

	int64_t created_at_ms, updated_at_ms;
	int archived;
};

/* Static facts about a finding type: one row of finding/types.c. The
 * title and description are templates whose {tokens} the renderer fills
 * from the finding (see finding/types.c for the tokens). */
struct mm_ftype {
	const char *type;
	double severity;	/* GuardDuty's default: 8 high, 5 medium, 2 low */
	enum mm_res_type res_type;
	enum mm_action_type action;
	const char *title;
	const char *description;
};

/* NULL for an unknown type. */
const struct mm_ftype *mm_ftype_get(const char *type);

/* Which overlaid member of a finding is in use (see struct mm_finding). */
static inline int mm_finding_has_apis(const struct mm_finding *f)
{
	return f->action == MM_ACTION_AWS_API_CALL && f->res_type != MM_RES_RUNTIME;
}
static inline int mm_finding_has_probes(const struct mm_finding *f)
{
	return f->action == MM_ACTION_PORT_PROBE && f->res_type != MM_RES_RUNTIME;
}
static inline int mm_finding_has_proc(const struct mm_finding *f)
{
	return f->res_type == MM_RES_RUNTIME;
}
static inline int mm_finding_has_seq(const struct mm_finding *f)
{
	return f->action == MM_ACTION_SEQUENCE && f->res_type != MM_RES_RUNTIME;
}
/* A type name's 32-bit hash (stable across builds, unlike a row number):
 * how a sequence names its member findings' types. */
uint32_t mm_ftype_hash(const char *type);
/* The table type whose mm_ftype_hash is h, or NULL. */
const struct mm_ftype *mm_ftype_by_hash(uint32_t h);
/* The table, terminated by an entry with type == NULL. */
const struct mm_ftype *mm_ftype_all(void);
/* "High" / "Medium" / "Low" for a severity number. */
const char *mm_severity_label(double sev);

/* Resource key text ("i-0abc", "eni-0abc", "ip:10.0.0.5", "AKIA...") into
 * buf of cap bytes. */
void mm_finding_resource_key(const struct mm_finding *f, char *buf, size_t cap);
/* Compute f->id from (type, account, resource key, threat list). */
void mm_finding_make_id(struct mm_finding *f);
/* Merge src into dst (same key): count adds, times widen, evidence keeps
 * the MM_EVIDENCE_MAX earliest records by (time, file, line). */
void mm_finding_merge(struct mm_finding *dst, const struct mm_finding *src);
/* Is the record (time, file, line) later than the one f's details come
 * from? The total order used to pick a finding's details. */
int mm_finding_is_later(const struct mm_finding *f, int64_t time_ms, const char *file,
			uint64_t line, uint64_t offset);
/* Count one call of API name at time_ms in f->apis. */
void mm_finding_add_api(struct mm_finding *f, const char *name, size_t n, int64_t time_ms);
/* The whole mergeable state of a finding as bytes (the store keeps it so
 * a later flush or run merges exactly, details and evidence included).
 * The version changes whenever struct mm_finding does; a blob of another
 * version is not unpacked (MM_EFORMAT) and the caller falls back. */
#define MM_FINDING_STATE_VERSION ((int)(1000 + sizeof(struct mm_finding) % 100000))
/* Zero the bytes after each text field's NUL (the overlaid member's
 * too; a field with no NUL gets one in its last byte): what
 * mm_finding_pack stores of f. */
void mm_finding_zero_tails(struct mm_finding *f);
int mm_finding_pack(const struct mm_finding *f, struct mm_buf *out);
/* 0, or MM_EFORMAT for bytes that are not a packed finding of this build. */
int mm_finding_unpack(struct mm_finding *f, const void *blob, size_t n);
/* f as bytes for this process's own memory (finding/agg.c keeps the
 * findings it holds so: ~3.7 KB -> a few hundred bytes): f's text tails
 * are zeroed in place, the evidence's file pointers kept as they are
 * (interned: they live for the process). Never stored or sent. */
int mm_finding_pack_mem(struct mm_finding *f, struct mm_buf *out);
/* 0, or MM_EFORMAT when blob is not exactly one mm_finding_pack_mem. */
int mm_finding_unpack_mem(struct mm_finding *f, const void *blob, size_t n);
/* Append one additionalInfo member (see info above); a member that does
 * not fit is left out. clear empties the list. */
void mm_finding_info_clear(struct mm_finding *f);
void mm_finding_info_str(struct mm_finding *f, const char *key, const char *val);
void mm_finding_info_num(struct mm_finding *f, const char *key, double val);
/* Add "key": json where json is one complete JSON value (object, array,
 * ...); it is checked and left out when invalid or when it does not fit. */
void mm_finding_info_json(struct mm_finding *f, const char *key, const char *json);
/* Add one evidence record keeping the bounded earliest-first sample. */
void mm_finding_add_evidence(struct mm_finding *f, const char *file, uint64_t line,
			     uint64_t offset, int64_t time_ms);

#endif
