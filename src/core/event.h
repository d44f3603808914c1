/* event.h - the normalised event every parser produces.
 *
 * Every mm_str in an event is BORROWED: it points into the input buffer
 * or into the per-record scratch arena, and is valid only until the
 * pipeline moves to the next record. Detectors that keep anything copy it.
 * Absent fields are empty slices (AWS's "-" is turned into empty). */
#ifndef MM_EVENT_H
#define MM_EVENT_H

#include <stdint.h>

#include "core/common.h"
#include "core/ip.h"

enum mm_ev_kind {
	MM_EV_NONE = 0,
	MM_EV_FLOW,	/* VPC Flow Logs record */
	MM_EV_DNS,	/* Route 53 Resolver query log record */
	MM_EV_API,	/* CloudTrail record */
	MM_EV_HOST	/* a host event: an auth/cron log line, or what a host
			 * agent's collector saw (process, socket, file, account) */
};

/* Where a record came from: file is borrowed from the pipeline (one
 * string per input file), line is 1-based, offset is the byte offset of
 * the record's start in the (decompressed) stream. */
struct mm_loc {
	const char *file;
	uint64_t line;
	uint64_t offset;
};

enum mm_action { MM_ACT_NONE = 0, MM_ACT_ACCEPT, MM_ACT_REJECT };
enum mm_logst { MM_LOGST_NONE = 0, MM_LOGST_OK, MM_LOGST_NODATA, MM_LOGST_SKIPDATA };
enum mm_fdir { MM_FDIR_UNKNOWN = 0, MM_FDIR_INGRESS, MM_FDIR_EGRESS };

struct mm_flow {
	uint8_t version;
	uint8_t has_addrs;	/* src/dst present (not NODATA/SKIPDATA) */
	uint8_t has_ports;
	uint8_t has_pkt_addrs;
	uint8_t proto;		/* IANA protocol number; 0 if absent */
	enum mm_action action;
	enum mm_logst status;
	enum mm_fdir fdir;	/* v5 flow-direction, if logged */
	int tcp_flags;		/* -1 if absent */
	uint16_t sport, dport;
	struct mm_ip src, dst;
	struct mm_ip pkt_src, pkt_dst;
	uint64_t packets, bytes;
	int64_t start, end;	/* seconds since epoch (as AWS logs them) */
	struct mm_str account;
	struct mm_str eni;	/* interface-id */
	struct mm_str instance_id;
	struct mm_str vpc_id, subnet_id, region, az_id;
	struct mm_str pkt_src_service, pkt_dst_service;
	struct mm_str ecs_cluster_name, ecs_task_id;
	struct mm_str reject_reason;
	uint8_t traffic_path;	/* v5 traffic-path (1-8); 0 if absent */
};

struct mm_dns {
	int64_t time_ms;	/* query_timestamp */
	struct mm_str account, region, vpc_id;
	struct mm_str qname;	/* as logged, e.g. "pool.example.com." */
	struct mm_str qtype, qclass, rcode, transport;
	struct mm_ip src;
	uint8_t has_src;
	uint16_t sport;
	struct mm_str instance_id;	/* srcids.instance */
	struct mm_str resource_id;	/* srcids.resolver_endpoint etc. */
	struct mm_str answers;		/* raw JSON array text */
	struct mm_str firewall_action;	/* firewall_rule_action if logged */
};

/* CloudTrail userIdentity. type is one of Root, IAMUser, AssumedRole,
 * Role, FederatedUser, Directory, AWSAccount, AWSService,
 * IdentityCenterUser, SAMLUser, WebIdentityUser, Unknown. */
struct mm_identity {
	struct mm_str type, principal_id, arn, account_id, access_key_id;
	struct mm_str user_name, invoked_by, identity_provider;
	struct mm_str issuer_type, issuer_arn, issuer_user_name, issuer_principal_id;
	int mfa;	/* sessionContext.attributes.mfaAuthenticated: -1, 0, 1 */
};

struct mm_json_val;

struct mm_api {
	int64_t time_ms;	/* eventTime */
	struct mm_str event_version, event_source, event_name, event_type, event_id;
	struct mm_str region, account;	/* awsRegion, recipientAccountId */
	struct mm_str source_ip_raw;	/* sourceIPAddress as logged */
	struct mm_ip source_ip;
	uint8_t has_source_ip;		/* source_ip_raw was an address */
	int read_only;			/* -1 absent, 0, 1 */
	struct mm_str user_agent, error_code, error_message;
	struct mm_str request_parameters;	/* raw JSON value or empty */
	struct mm_str response_elements;	/* raw JSON value or empty */
	struct mm_identity who;
	/* The record's top-level members as the parser read them (keys as
	 * written, values), in the event's scratch arena, so Sigma reads a
	 * record's other fields without indexing it again: top_p is the
	 * object's first byte and top_n its length; top_p NULL when the
	 * parser did not keep them (more than MM_CT_TOP_MAX members, the
	 * arena full, an event not parsed from a record). */
	const char *top_p;
	size_t top_n;
	int ntop;
	const struct mm_str *top_keys;
	const struct mm_json_val *top_vals;
};

/* What a host event says happened. Log-derived kinds come from
 * parse/syslog (auth/secure and cron logs, as rsyslog or journald write
 * them); the others from the host agent's collectors (src/agent). */
enum mm_host_what {
	MM_HOST_NONE = 0,
	/* auth/secure log */
	MM_HOST_LOGIN_FAIL,	/* sshd: Failed password/publickey, Invalid user, auth failure */
	MM_HOST_LOGIN_OK,	/* sshd: Accepted password/publickey/... */
	MM_HOST_SUDO,		/* sudo: user ran command as run_as */
	MM_HOST_SU,		/* su: session opened for target by user */
	MM_HOST_USER_ADD,	/* useradd/adduser: new user (or group) */
	MM_HOST_USER_MOD,	/* usermod/chsh/gpasswd: account changed */
	MM_HOST_USER_DEL,	/* userdel */
	MM_HOST_PASSWD,		/* passwd/chpasswd: password changed */
	/* cron log */
	MM_HOST_CRON_CMD,	/* CROND/CRON ran command for user */
	MM_HOST_CRONTAB,	/* crontab: REPLACE/BEGIN EDIT/DELETE for user */
	/* host agent collectors */
	MM_HOST_PROC,		/* a running process (with exe, hash, CPU, lineage) */
	MM_HOST_SOCK,		/* a socket of a process (local/remote, state) */
	MM_HOST_FILE,		/* a watched file changed (FIM) */
	MM_HOST_ACCOUNT,	/* the account table changed (new user, uid 0, shell) */
	/* any log line the kinds above do not cover (every program's) */
	MM_HOST_LINE		/* program, pid, host and message; for Sigma keywords */
};

/* A host event. Fields a kind does not have are empty / 0. */
struct mm_host {
	enum mm_host_what what;
	int64_t time_ms;		/* event time (syslog stamp resolved to a year) */
	struct mm_str host;		/* syslog hostname or the agent's host name */
	struct mm_str instance_id;	/* when known: agent metadata, folder, --host */
	struct mm_str program;		/* "sshd", "CRON", "sudo", ... */
	int64_t pid;			/* the logging program's or the process's */
	struct mm_str user;		/* login user, cron user, process user */
	struct mm_str target_user;	/* sudo/su run-as, useradd's new name */
	struct mm_str method;		/* "password", "publickey", ... */
	uint8_t invalid_user;		/* sshd said the user does not exist */
	uint8_t has_remote, has_local;
	uint8_t proto;			/* IANA number (SOCK) */
	uint16_t rport, lport;
	struct mm_ip remote, local;
	struct mm_str state;		/* SOCK: "ESTABLISHED", "LISTEN", ... */
	struct mm_str command;		/* cron CMD, sudo COMMAND, process cmdline */
	/* PROC and SOCK: the process */
	struct mm_str exe;		/* executable path (" (deleted)" stripped) */
	struct mm_str name;		/* comm */
	struct mm_str sha256;		/* of the executable, hex; may be empty */
	struct mm_str lineage;		/* parent chain "pid:name:exe;..." nearest first */
	int64_t ppid;
	uint8_t exe_deleted;
	uint32_t cpu_permille;		/* CPU share over the sample interval, 1000 = one core */
	int64_t start_ms;		/* process start time */
	/* FILE (and ACCOUNT): what changed */
	struct mm_str path;
	struct mm_str change;		/* "created", "modified", "deleted", "mode", "owner" */
	struct mm_str old_sha256, new_sha256;
	struct mm_str diff;		/* bounded unified diff of a text file; may be empty */
	/* log-derived kinds (LINE and the auth/cron ones): the message after
	 * "prog[pid]: " (journald's MESSAGE), "message repeated" unwrapped */
	struct mm_str message;
};

struct mm_event {
	enum mm_ev_kind kind;
	struct mm_loc loc;
	/* The record as read (borrowed, like every slice here): the line, or
	 * a CloudTrail record's JSON object, so a rule engine can read any
	 * field the normalised view leaves out. Empty when a driver feeds
	 * events it built itself. */
	struct mm_str raw;
	union {
		struct mm_flow flow;
		struct mm_dns dns;
		struct mm_api api;
		struct mm_host host;
	} u;
};

#endif
