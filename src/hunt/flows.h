/* flows.h - the hunt: the VPC Flow Log records behind an instance, an
 * interface or a finding, filtered, as rows or as summaries.
 *
 * It reads the same inputs as `mamori scan` (files, folders in the S3
 * layout, .gz) through the same walk, reader and flow-log parser, on one
 * worker thread per core (files are the unit of work), and keeps nothing
 * between runs: no index. Files whose S3 key says they hold other
 * sources (CloudTrail, Route 53) or whose key time lies outside the
 * window (mm_flows_prune) are skipped without being opened.
 *
 * Results never depend on the thread count: rows are sorted by (start,
 * file, line) and cut to the earliest `limit`; summaries are sums,
 * minimums and maximums, merged from every worker, then sorted. */
#ifndef MM_FLOWS_H
#define MM_FLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "core/ip.h"
#include "input/walk.h"

struct mm_inventory;

#define MM_FLOWS_MAX_TARGETS 64		/* ENIs + instance ids in one query */
#define MM_FLOWS_MAX_ROWS 20000000	/* rows held with --limit 0 (~3 GB) */
#define MM_FLOWS_MAX_GROUPS 4000000	/* summary groups (~400 MB) */
/* Key-time pruning: a file is skipped when its S3 key time (the stamp in
 * the file name, else the date folder's day) lies more than
 * MM_FLOWS_SLACK_S outside the window. AWS publishes flow-log files every
 * 5 minutes holding about the previous 5 minutes (records aggregate over
 * at most 10), but delivery can lag and other writers stamp a file with
 * the start of the hour it holds (mamori sim does): two hours either way
 * keeps every record while still skipping the other days of a month. */
#define MM_FLOWS_SLACK_S 7200

enum mm_flows_mode {
	MM_FLOWS_ROWS = 0,	/* the records themselves */
	MM_FLOWS_TALKERS,	/* one group per remote address */
	MM_FLOWS_PORTS,		/* one group per (direction, protocol, service port) */
	MM_FLOWS_BYTES		/* one group per hour of record start */
};

/* What to look for. Every filter left at its "any" value matches all. */
struct mm_flows_query {
	/* A record is wanted when its interface-id is one of enis[] or its
	 * instance-id (flow logs v3+) one of instances[]; both empty: every
	 * record. Copied strings, NUL-terminated. */
	char enis[MM_FLOWS_MAX_TARGETS][32];
	size_t nenis;
	char instances[MM_FLOWS_MAX_TARGETS][32];
	size_t ninstances;
	/* [since, until) in epoch ms: a record is in it when its capture
	 * window [start, end] overlaps it. has_* 0 = open on that side. */
	int has_since, has_until;
	int64_t since_ms, until_ms;
	/* the remote side is in remote/remote_len (has_remote) */
	int has_remote;
	struct mm_ip remote;
	int remote_len;
	int port;		/* either side's port, -1 any */
	int local_port;		/* -1 any */
	int remote_port;	/* -1 any */
	int proto;		/* IANA number, -1 any */
	enum mm_action action;	/* MM_ACT_NONE = any */
	/* Borrowed, may be NULL: maps each instances[] target to its
	 * interfaces, and tells which side of a record is the interface's
	 * own address (else the private one, else the logged flow-direction,
	 * else the source). When an instance target is not in it,
	 * mm_flows_run first reads the CloudTrail files among the inputs and
	 * adds the instances their RunInstances responses name (as scan
	 * learns them). */
	struct mm_inventory *inv;
	enum mm_flows_mode mode;
	size_t limit;		/* rows: keep the earliest N (0 = all, up to MM_FLOWS_MAX_ROWS) */
	int no_prune;		/* open every file, whatever its key says */
	int threads;		/* 0 = one per online CPU */
	int progress;		/* a progress line on stderr */
};

/* Zero every filter to "any" (ports and protocol -1). */
void mm_flows_query_init(struct mm_flows_query *q);
/* Add an ENI / instance id to the targets: 0, MM_EINVAL (empty or
 * longer than 31 bytes), MM_ETOOBIG (more than MM_FLOWS_MAX_TARGETS). A
 * target already present is not added twice. */
int mm_flows_add_eni(struct mm_flows_query *q, const char *eni);
int mm_flows_add_instance(struct mm_flows_query *q, const char *id);

/* One matching record, copied out of its line. */
struct mm_flow_row {
	int64_t start, end;		/* seconds, as logged */
	uint64_t packets, bytes;
	uint64_t line;			/* 1-based line in its file */
	uint32_t file;			/* index into mm_flows_result.files */
	uint16_t sport, dport;
	uint8_t proto, action, status, has_addrs, has_ports;
	int8_t src_local;		/* 1 src is the interface, 0 dst is, -1 unknown */
	struct mm_ip src, dst;
	char eni[32], instance[24], account[16];
};

/* One summary group: the key fields its mode uses, the rest zero. */
struct mm_flows_group {
	struct mm_ip remote;		/* talkers */
	uint8_t dir;			/* ports: enum mm_dir of who opened it */
	uint8_t proto;			/* ports */
	uint16_t port;			/* ports: the service (server) port */
	int64_t hour;			/* bytes: epoch seconds of the hour */
	uint64_t flows, packets, bytes;
	uint64_t bytes_out, bytes_in;	/* sent / received by the interface */
	uint64_t accepts, rejects;
	int64_t first, last;		/* earliest start, latest end (seconds) */
};

struct mm_flows_result {
	struct mm_flow_row *rows;	/* owned, sorted by (start, file, line) */
	size_t nrows;
	struct mm_flows_group *groups;	/* owned, sorted (bytes desc; hours asc) */
	size_t ngroups;
	struct mm_filelist files;	/* the walked inputs; rows name them by index */
	uint64_t matched;		/* records that passed every filter (rows may be cut) */
	uint64_t records;		/* flow records read (with up to 8 targets, lines
					 * holding none of their ids are counted here
					 * without being parsed) */
	uint64_t bad_records;		/* malformed lines parsed (reported as file:line) */
	uint64_t files_read, files_pruned, files_other, files_failed;
	uint64_t instances_learned;	/* from RunInstances in the input */
	size_t instances_unknown;	/* instance targets no inventory knew */
	uint64_t bytes_in;		/* bytes read from disk */
	double seconds;
};

/* Walk paths, map instance targets to their interfaces (learning from
 * CloudTrail RunInstances in the input if the inventory lacks one; an
 * instance still unknown is warned about and matched by the records'
 * instance-id only), read every flow-log file the query may need and fill res
 * (call mm_flows_result_free afterwards, also on failure). 0, or a
 * negative MM_E... with err set: a missing path (MM_EIO), out of memory,
 * MM_ETOOBIG past MM_FLOWS_MAX_ROWS / MM_FLOWS_MAX_GROUPS (err says to
 * narrow the query). Unreadable files and malformed records are counted
 * and reported on stderr, not fatal. */
int mm_flows_run(const struct mm_flows_query *q, const char *const *paths, size_t npaths,
		 struct mm_flows_result *res, struct mm_err *err);
void mm_flows_result_free(struct mm_flows_result *res);

/* The time an S3 key puts on a file: the delivery stamp in an AWS flow
 * log file name (..._20240304T2105Z_hash.log.gz) as [t, t], else the
 * date folder (AWSLogs/<acct>/vpcflowlogs/<region>/YYYY/MM/DD/) as the
 * day [00:00, 24:00), in epoch seconds. 1 when the path says, 0 not. */
int mm_flows_key_time(const char *path, int64_t *lo, int64_t *hi);
/* 1 when the file can be skipped unopened: its S3 key names a service
 * that is not flow logs (CloudTrail, Route 53 query logs), or (unless
 * no_prune) its key time shows it cannot hold a record of the window. */
int mm_flows_prune(const struct mm_flows_query *q, const char *path);
/* 1 when the record passes every filter of q; *src_local is set to
 * which side is the interface (see mm_flow_row.src_local). */
int mm_flows_match(const struct mm_flows_query *q, const struct mm_flow *f, int *src_local);

#endif
