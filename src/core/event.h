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
	MM_EV_API	/* CloudTrail record */
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
	} u;
};

#endif
