/* hostproc.h - helpers the host-agent detectors share (hostproc.c,
 * hostfile.c): the Runtime resource key of a host event and the process
 * of a Runtime finding filled from an event. Everything is borrowed. */
#ifndef MM_DETECT_HOSTPROC_H
#define MM_DETECT_HOSTPROC_H

#include <stddef.h>

#include "core/event.h"
#include "finding/finding.h"

/* The resource key of a host event's Runtime finding into buf: the
 * instance id when known, else "host:NAME" (finding/agg.c). */
void mm_host_resource(const struct mm_host *h, char *buf, size_t cap);
/* f->proc (and instance id) from the event: name, exe, sha256, pid, ppid,
 * user, cmdline, host, start, lineage. */
void mm_host_fill_proc(struct mm_finding *f, const struct mm_host *h);
/* Is the path under a directory the system's package manager owns
 * (/usr/bin, /usr/sbin, /usr/lib*, /usr/libexec, /usr/share, /usr/games,
 * /bin, /sbin, /lib*, /snap)? /usr/local and /opt are not. */
int mm_host_system_path(struct mm_str path);
/* The last path component. */
struct mm_str mm_host_basename(struct mm_str path);

#endif
