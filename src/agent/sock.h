/* sock.h - the socket collector: /proc/net/{tcp,tcp6,udp,udp6} parsed
 * and mapped to the processes holding them through /proc/PID/fd links
 * "socket:[INODE]" (the `netstat -antp` view).
 *
 * Also records which of a process's fds 0, 1 and 2 are sockets
 * (mm_proc.stdio_sock): a shell whose stdin/stdout is a TCP socket is the
 * shape of a reverse shell (docs/agent.md: how SOCK events say so).
 *
 * Bounds: at most MM_SOCK_MAX sockets, MM_SOCK_FD_MAX fds looked at per
 * process. Processes that exit mid-walk are skipped. */
#ifndef MM_AGENT_SOCK_H
#define MM_AGENT_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "agent/proc.h"
#include "core/ip.h"

#define MM_SOCK_MAX 65536
#define MM_SOCK_FD_MAX 4096

enum mm_tcp_state {
	MM_TCP_ESTABLISHED = 1, MM_TCP_SYN_SENT, MM_TCP_SYN_RECV, MM_TCP_FIN_WAIT1,
	MM_TCP_FIN_WAIT2, MM_TCP_TIME_WAIT, MM_TCP_CLOSE, MM_TCP_CLOSE_WAIT, MM_TCP_LAST_ACK,
	MM_TCP_LISTEN, MM_TCP_CLOSING
};

struct mm_sock {
	uint8_t proto;			/* 6 TCP, 17 UDP */
	uint8_t state;			/* enum mm_tcp_state (UDP: 7 unconnected, 1 connected) */
	uint16_t lport, rport;
	struct mm_ip local, remote;
	uint64_t inode;
	int pid;			/* 0 when no process we could see holds it */
	int fd;				/* the fd of pid holding it (-1 unknown) */
};

struct mm_sock_table {
	struct mm_sock *v;
	size_t n, cap;
};

/* Parse the four tables under proc_dir/net ("/proc/net"); t is emptied
 * first. Missing tables (no IPv6) are skipped. 0 or MM_ENOMEM. */
int mm_sock_read(struct mm_sock_table *t, const char *proc_dir);
/* Parse one table's text (exposed for tests and fuzzing): proto 6/17,
 * v6 0/1. Malformed lines are skipped. 0 or MM_ENOMEM. */
int mm_sock_parse(struct mm_sock_table *t, const char *text, size_t n, uint8_t proto, int v6);
/* Walk proc_dir/PID/fd of every process in procs: set each socket's pid
 * and fd, and procs' stdio_sock bits. 0 or MM_ENOMEM. */
int mm_sock_map(struct mm_sock_table *t, struct mm_proc_table *procs, const char *proc_dir);
/* The socket with this inode, NULL if none. Borrowed. */
const struct mm_sock *mm_sock_find(const struct mm_sock_table *t, uint64_t inode);
void mm_sock_table_free(struct mm_sock_table *t);
/* "ESTABLISHED", "LISTEN", ... (UDP: "UNCONN" for 7). */
const char *mm_sock_state_name(uint8_t proto, uint8_t state);

#endif
