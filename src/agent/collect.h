/* collect.h - one collection cycle of the host agent: the process,
 * socket and account collectors run, and what they saw becomes host
 * events (MM_EV_HOST: proc, sock, account) written as JSON lines with
 * mm_hostjson_write (parse/hostjson.h) into a caller's buffer.
 *
 * A struct mm_collector keeps what the previous cycle saw, so a daemon
 * reports each process and socket once when it appears (and a process
 * again every cycle its CPU share is at or above cpu_report_permille),
 * not every cycle. Accounts are compared with the previous cycle's
 * table, or with a saved passwd copy (mm_collector_opts.accounts_state)
 * so a restart still sees a change made while the agent was down.
 *
 * Which events are written, and why (docs/agent.md):
 *   proc  every user-space process new since the last cycle (a first
 *         cycle reports them all), and every cycle a process burns
 *         >= cpu_report_permille; kernel threads (no exe) are left out
 *   sock  every TCP ESTABLISHED/SYN_SENT/LISTEN socket and connected UDP
 *         socket new since the last cycle, with the process holding it
 *         (pid 0 when no visible process holds it; "path" is "fd:N", the
 *         holder's fd); and for a process whose fd 0, 1 or 2 is a TCP
 *         socket, one sock event for that process with "path":"fd:0,1,2"
 *         naming those fds (the reverse-shell shape)
 *   account  created, uid0, shell, deleted (users.h) in "change"
 *
 * Caller owns the collector (mm_collector_init / mm_collector_free). */
#ifndef MM_AGENT_COLLECT_H
#define MM_AGENT_COLLECT_H

#include <stdint.h>

#include "agent/proc.h"
#include "agent/sock.h"
#include "agent/users.h"
#include "core/buf.h"
#include "core/err.h"

struct mm_collector_opts {
	const char *proc_dir;		/* "/proc" */
	const char *root;		/* files (passwd) are read under it; "" = / */
	const char *host;		/* host name for events (required) */
	const char *instance_id;	/* or NULL */
	int sample_ms;			/* between the two CPU samples; 0 = 1000 */
	uint32_t cpu_report_permille;	/* 0 = 200 */
	uint64_t hash_budget;		/* bytes hashed per cycle; 0 = 256 MiB */
	const char *accounts_state;	/* file keeping the last passwd seen; NULL = none */
};

struct mm_collector_counts {
	uint64_t cycles, procs, socks, events_proc, events_sock, events_account;
};

struct mm_collector {
	struct mm_collector_opts o;
	struct mm_proc_table prev, cur;
	struct mm_sock_table socks;
	uint64_t *seen_inodes;		/* the previous cycle's reported-worthy sockets, sorted */
	size_t nseen;
	struct mm_hashcache hc;
	struct mm_accounts acc_prev, acc_cur;
	int have_acc_prev;
	int have_prev;			/* a cycle ran: prev holds its processes */
	struct mm_collector_counts n;
};

/* o is copied; its strings are borrowed and must outlive c. Never
 * allocates. */
void mm_collector_init(struct mm_collector *c, const struct mm_collector_opts *o);
void mm_collector_free(struct mm_collector *c);
/* One cycle: two process samples sample_ms apart, hashes, sockets,
 * accounts; events appended to out (JSON lines). 0, or MM_ENOMEM / MM_EIO
 * (proc_dir unreadable) with err set. */
int mm_collector_cycle(struct mm_collector *c, struct mm_buf *out, struct mm_err *err);

/* Append a FILE event for a FIM change (fim.h) to out. */
struct mm_fim_change;
int mm_collector_file_event(const struct mm_collector *c, struct mm_buf *out,
			    const struct mm_fim_change *ch);

/* Host identity: instance id from root/var/lib/cloud/data/instance-id,
 * else /sys/devices/virtual/dmi/id/board_asset_tag when it is an
 * "i-..." id; else empty. Writes into id (cap bytes). */
void mm_agent_instance_id(const char *root, char *id, size_t cap);

/* Account and region of the instance, from cloud-init's cache of its
 * metadata, root/run/cloud-init/instance-data.json (world-readable, read
 * without the network): the instance identity document's accountId
 * (ds.dynamic.instance-identity.document) and v1.region, else the
 * document's region. Each is left empty when absent or not an id (an
 * account is 12 digits; a region lowercase letters, digits and '-'). */
void mm_agent_instance_place(const char *root, char *account, size_t acap, char *region,
			     size_t rcap);

#endif
