/* finding.h - mamori's in-memory finding: one GuardDuty finding.
 *
 * A finding owns all its strings (fixed arrays, truncated if longer), so
 * it can be copied with memcpy and outlives the records behind it. It is
 * keyed by (type, resource, threat list): repeated activity of the same
 * kind on the same resource against the same indicator updates one
 * finding (count, eventFirstSeen, eventLastSeen, evidence sample).
 * The list entry that matched (indicator) is detail, not identity. */
#ifndef MM_FINDING_H
#define MM_FINDING_H

#include <stdint.h>

#include "core/buf.h"
#include "core/ip.h"

#define MM_EVIDENCE_MAX 8
#define MM_API_CALLS_MAX 8

/* One API name behind an AWS_API_CALL finding (additionalInfo.apiCalls). */
struct mm_api_call {
	char name[64];
	uint64_t count;
	int64_t first_ms, last_ms;
};

enum mm_res_type { MM_RES_INSTANCE = 0, MM_RES_ACCESSKEY };
enum mm_action_type {
	MM_ACTION_NETWORK_CONNECTION = 0,
	MM_ACTION_DNS_REQUEST,
	MM_ACTION_AWS_API_CALL
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
	char access_key_id[32];	/* AccessKey */
	char principal_id[128];
	char user_name[128];
	char user_type[32];	/* userIdentity.type */

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
	/* the APIs merged into this finding: the MM_API_CALLS_MAX smallest
	 * names (a total order, so merging is exact in any order) */
	struct mm_api_call apis[MM_API_CALLS_MAX];
	int napis;

	enum mm_role role;
	uint64_t count;
	int64_t first_seen_ms, last_seen_ms;
	/* The record whose details (remote address, port, domain...) the
	 * finding shows: the latest by event time, ties broken by (file,
	 * line) so the result does not depend on thread scheduling. file is
	 * borrowed from the scan (NULL for a finding loaded from the store). */
	const char *detail_file;
	uint64_t detail_line;

	/* evidence */
	char disc[64];		/* aggregation discriminator (part of the key and id):
				 * the threat list's name for list findings, "" for most */
	char threat_list[64];	/* list name (file base name; longer names are cut) */
	char threat_name[64];	/* category word: "mining", "c2", "tor", ... */
	char indicator[64];	/* the list entry that matched last (detail, not key) */
	int nevidence;
	struct mm_evidence ev[MM_EVIDENCE_MAX];

	int64_t created_at_ms, updated_at_ms;
	int archived;
};

/* Static facts about a finding type. */
struct mm_ftype {
	const char *type;
	double severity;
	enum mm_action_type action;
	const char *title;	/* fixed title text */
	const char *description; /* printf-style, see finding/types.c */
};

/* NULL for an unknown type. */
const struct mm_ftype *mm_ftype_get(const char *type);
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
			uint64_t line);
/* Count one call of API name at time_ms in f->apis. */
void mm_finding_add_api(struct mm_finding *f, const char *name, size_t n, int64_t time_ms);
/* The whole mergeable state of a finding as bytes (the store keeps it so
 * a later flush or run merges exactly, details and evidence included).
 * The version changes whenever struct mm_finding does; a blob of another
 * version is not unpacked (MM_EFORMAT) and the caller falls back. */
#define MM_FINDING_STATE_VERSION ((int)(1000 + sizeof(struct mm_finding) % 100000))
int mm_finding_pack(const struct mm_finding *f, struct mm_buf *out);
/* 0, or MM_EFORMAT for bytes that are not a packed finding of this build. */
int mm_finding_unpack(struct mm_finding *f, const void *blob, size_t n);
/* Add one evidence record keeping the bounded earliest-first sample. */
void mm_finding_add_evidence(struct mm_finding *f, const char *file, uint64_t line,
			     uint64_t offset, int64_t time_ms);

#endif
