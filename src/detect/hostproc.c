/* hostproc.c - Runtime findings from the host agent's process and socket
 * events (MM_HOST_PROC, MM_HOST_SOCK, and MM_HOST_FILE for executables
 * that changed); docs/finding-types.md has the logic and the reasons in
 * prose.
 *
 * From one event, in on_event (a function of the event alone):
 *  - a SOCK connection the process opened (mm_flow_initiator on the ports,
 *    as the flow detectors decide it) to an address on a threat list:
 *    mining -> CryptoCurrency:Runtime/BitcoinTool.B, c2 ->
 *    Backdoor:Runtime/C&CActivity.B, tor/torexit ->
 *    UnauthorizedAccess:Runtime/TorClient (trusted addresses never;
 *    IP:port entries match only their port);
 *  - Impact:Runtime/CryptoMinerExecuted for a known miner by name (the
 *    comm or the executable's base name equals one of a short list) or a
 *    miner's command line (stratum+tcp:// and kin, --donate-level ...);
 *  - Execution:Runtime/ReverseShell for a shell process holding an
 *    established TCP connection to a remote address: the agent reports
 *    the file descriptors that refer to the socket in the SOCK event's
 *    path as "fd:0,1,2"; a shell whose stdin, stdout or stderr is the
 *    socket fires; an interpreter (python, perl, ruby, php) fires only
 *    when the agent says its stdin or stdout is the socket; without the
 *    fd list a shell holding a TCP connection at all fires (shells do not
 *    open sockets) and an interpreter does not.
 * From the merged state, in finish (order-free):
 *  - CryptoMinerExecuted for sustained CPU (>= cpu_permille in >=
 *    cpu_samples PROC samples) from an executable in /tmp, /var/tmp,
 *    /dev/shm, a hidden directory or a deleted file, or from a process
 *    that connected to a mining-list address (the pid remembered);
 *  - Execution:Runtime/NewBinaryExecuted for a process whose executable
 *    (outside the package manager's directories) was first seen on the
 *    host after its learning window (learn_minutes from the host's first
 *    event), or whose SHA-256 differs from every one seen for that path
 *    in the window, or whose path had a FILE created/modified event
 *    before the process started.
 *
 * State, per host (the instance id, else the host name): the earliest
 * and latest event time, the (path, sha256) pairs of executables outside
 * the system directories with the time each was first seen, the earliest
 * FILE change time per path, and the processes worth a finding from
 * finish with their sample counts and a copy of the process. Merge takes
 * minima/maxima and adds counts (exact). Bounded: max_hosts hosts,
 * max_exes pairs, MAX_FCHG paths and MAX_PROCS processes a host (what
 * does not fit is not tracked); processes not seen for an hour of event
 * time are dropped at finish. */
#include "detect/hostproc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/hash.h"
#include "core/mem.h"
#include "detect/blob.h"
#include "detect/detect.h"

enum { P_CPU, P_SAMPLES, P_LEARN, P_LOOPBACK, P_MAX_HOSTS, P_MAX_EXES };

static const struct mm_param params[] = {
	{"cpu_permille", 500, 50, 64000, "permille",
	 "CPU share (1000 = one core) a sample must reach to count as mining: miners hold one or "
	 "more cores near 100%; half a core from a binary in /tmp for minutes is already no normal "
	 "workload"},
	{"cpu_samples", 3, 1, 1000, "samples",
	 "samples at or above cpu_permille before a process counts as sustained: the agent samples "
	 "about once a minute, so 3 is three minutes, past a build step or a short burst"},
	{"learn_minutes", 60, 0, 525600, "minutes",
	 "the first hour of a host's events is its baseline: binaries seen then are the host's own; "
	 "a binary first seen after it is new"},
	{"include_loopback", 0, 0, 1, "bool",
	 "a shell connected to a loopback address is a local tool (socat, test harnesses), not a "
	 "reverse shell; set 1 to count it (tests on one machine)"},
	{"max_hosts", 4096, 1, 1000000, "hosts", "hosts tracked at once (memory bound)"},
	{"max_exes", 2048, 16, 100000, "executables",
	 "executables (path, hash) remembered per host outside the system directories"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static const char *const types[] = {
	"CryptoCurrency:Runtime/BitcoinTool.B", "Impact:Runtime/CryptoMinerExecuted",
	"Backdoor:Runtime/C&CActivity.B",	"UnauthorizedAccess:Runtime/TorClient",
	"Execution:Runtime/ReverseShell",	"Execution:Runtime/NewBinaryExecuted",
	NULL,
};

#define T_MINER "Impact:Runtime/CryptoMinerExecuted"
#define T_NEWBIN "Execution:Runtime/NewBinaryExecuted"
#define MAX_PROCS 128
#define MAX_FCHG 256
#define MAX_REFS 4
#define PROC_IDLE_MS (3600 * 1000LL)

/* ---- helpers shared with hostfile.c ---- */

void mm_host_resource(const struct mm_host *h, char *buf, size_t cap)
{
	if (h->instance_id.n)
		snprintf(buf, cap, "%.*s", (int)MM_MIN(h->instance_id.n, 31), h->instance_id.p);
	else
		snprintf(buf, cap, "host:%.*s", (int)MM_MIN(h->host.n, 63), h->host.p);
}

/* The agent's "pid:name:exe;..." as "pid:name;..." in cap bytes: whole
 * entries only. */
static void lineage_short(char *out, size_t cap, struct mm_str l)
{
	const char *p = l.p, *end = l.p + l.n;
	size_t n = 0;
	out[0] = '\0';
	while (p < end) {
		const char *e = memchr(p, ';', (size_t)(end - p)), *c1, *c2;
		size_t k;
		if (!e)
			e = end;
		c1 = memchr(p, ':', (size_t)(e - p));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(e - c1 - 1)) : NULL;
		k = (size_t)((c2 ? c2 : e) - p);
		if (c1 && k && n + k + (n ? 1 : 0) < cap) {
			if (n)
				out[n++] = ';';
			memcpy(out + n, p, k);
			n += k;
			out[n] = '\0';
		} else if (c1) {
			break;
		}
		p = e + 1;
	}
}

void mm_host_fill_proc(struct mm_finding *f, const struct mm_host *h)
{
	struct mm_process *p = &f->proc;
	char host[sizeof(p->host)];
	/* a finding without an instance id is keyed by the host name the
	 * table put here: keep it */
	memcpy(host, p->host, sizeof(host));
	memset(p, 0, sizeof(*p));
	memcpy(p->host, host, sizeof(host));
	if (!p->host[0])
		mm_str_copy(p->host, sizeof(p->host), h->host);
	mm_str_copy(p->name, sizeof(p->name), h->name.n ? h->name : mm_host_basename(h->exe));
	mm_str_copy(p->exe, sizeof(p->exe), h->exe);
	mm_str_copy(p->user, sizeof(p->user), h->user);
	mm_str_copy(p->cmdline, sizeof(p->cmdline), h->command);
	if (h->sha256.n == 2 * sizeof(p->sha256)) {
		size_t i;
		for (i = 0; i < sizeof(p->sha256); i++) {
			int a = mm_hexval(h->sha256.p[2 * i]), b = mm_hexval(h->sha256.p[2 * i + 1]);
			if (a < 0 || b < 0) {
				memset(p->sha256, 0, sizeof(p->sha256));
				break;
			}
			p->sha256[i] = (uint8_t)(a << 4 | b);
		}
	}
	lineage_short(p->lineage, sizeof(p->lineage), h->lineage);
	p->pid = h->pid;
	p->ppid = h->ppid;
	p->start_ms = h->start_ms;
}

int mm_host_system_path(struct mm_str p)
{
	static const char *const dirs[] = {"/usr/bin/",	    "/usr/sbin/",   "/usr/lib/",
					   "/usr/lib32/",   "/usr/lib64/",  "/usr/libexec/",
					   "/usr/share/",   "/bin/",	    "/sbin/",
					   "/lib/",	    "/lib64/",	    "/lib32/",
					   "/usr/games/",   "/snap/",	    NULL};
	int i;
	for (i = 0; dirs[i]; i++)
		if (mm_str_starts(p, dirs[i]))
			return 1;
	return 0;
}

struct mm_str mm_host_basename(struct mm_str p)
{
	size_t i = p.n;
	while (i > 0 && p.p[i - 1] != '/')
		i--;
	return mm_str_make(p.p + i, p.n - i);
}

/* ---- what a process looks like ---- */

static int word_in(struct mm_str w, const char *const *list)
{
	int i;
	for (i = 0; list[i]; i++)
		if (w.n == strlen(list[i]) && strncasecmp(w.p, list[i], w.n) == 0)
			return 1;
	return 0;
}

static int has(struct mm_str s, const char *needle)
{
	return s.n && memmem(s.p, s.n, needle, strlen(needle)) != NULL;
}

static const char *const miner_names[] = {
	"xmrig",   "xmrig-notls", "xmrig-cuda", "xmr-stak", "xmr-stak-cpu", "minerd",
	"cpuminer", "cpuminer-multi", "cgminer", "bfgminer", "ethminer", "nbminer",
	"t-rex",   "phoenixminer", "lolminer", "kdevtmpfsi", "nanominer", "srbminer-multi",
	NULL,
};
static const char *const miner_markers[] = {
	"stratum+tcp://", "stratum+ssl://", "stratum+tls://", "stratum2+tcp://", "stratum1+tcp://",
	"--donate-level", "--cpu-max-threads-hint", "--randomx-mode", NULL,
};
static const char *const shells[] = {"sh",  "bash", "dash", "zsh", "ksh",	  "mksh",
				     "csh", "tcsh", "fish", "ash", "busybox", NULL};

/* 1 for a known miner by name, 2 by command line, else 0. */
static int miner_kind(const struct mm_host *h)
{
	int i;
	if (word_in(h->name, miner_names) || word_in(mm_host_basename(h->exe), miner_names))
		return 1;
	for (i = 0; miner_markers[i]; i++)
		if (has(h->command, miner_markers[i]))
			return 2;
	return 0;
}

static int is_interp(struct mm_str n)
{
	return mm_str_starts(n, "python") || mm_str_eqz(n, "perl") || mm_str_eqz(n, "ruby") ||
	       mm_str_starts(n, "php");
}

/* Does the "fd:0,1,2" list name one of fds 0..maxfd? -1 when absent. */
static int stdio_socket(struct mm_str path, int maxfd)
{
	size_t i = 3;
	if (!mm_str_starts(path, "fd:"))
		return -1;
	while (i < path.n) {
		long v = 0;
		int digits = 0;
		while (i < path.n && path.p[i] >= '0' && path.p[i] <= '9' && digits < 9)
			v = v * 10 + (path.p[i++] - '0'), digits++;
		if (digits && v <= maxfd)
			return 1;
		while (i < path.n && path.p[i] != ',')
			i++;
		i++;
	}
	return 0;
}

/* /tmp, /var/tmp, /dev/shm, a hidden directory, or deleted. */
static int suspicious_exe(const struct mm_host *h)
{
	size_t i = 0, k;
	if (h->exe_deleted)
		return 1;
	if (mm_str_starts(h->exe, "/tmp/") || mm_str_starts(h->exe, "/var/tmp/") ||
	    mm_str_starts(h->exe, "/dev/shm/"))
		return 1;
	/* a component starting with '.' that is not "." or "..": hidden */
	while (i < h->exe.n) {
		while (i < h->exe.n && h->exe.p[i] == '/')
			i++;
		k = i;
		while (k < h->exe.n && h->exe.p[k] != '/')
			k++;
		if (k > i && h->exe.p[i] == '.' &&
		    !(k - i == 1 || (k - i == 2 && h->exe.p[i + 1] == '.')))
			return 1;
		i = k;
	}
	return 0;
}

static int is_loopback(const struct mm_ip *ip)
{
	static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	if (!ip->v6)
		return (mm_ip_v4(ip) >> 24) == 127;
	return memcmp(ip->b, v6lo, 16) == 0;
}

/* ---- state ---- */

struct hp_pair {
	uint64_t ph, sh;	/* path and sha256 hashes (sh 0: no hash known) */
	int64_t first_ms;
};

struct hp_fchg {
	uint64_t ph;
	int64_t min_ms;		/* earliest created/modified */
};

enum { F_SUSP = 1, F_POOL = 2, F_R_NEWBIN = 4, F_R_MINER = 8, F_SYSTEM = 16 };

struct hp_proc {
	int64_t pid, start_ms;	/* the key */
	uint8_t flags;
	uint8_t nrefs;
	uint32_t hi;		/* samples at or above cpu_permille */
	int64_t first_ms, last_ms;	/* seen */
	int64_t hi_first, hi_last;	/* the samples */
	uint64_t ph, sh;
	struct mm_evref refs[MAX_REFS];	/* the earliest sightings */
	struct mm_evref snap_ref;	/* the event the copy is from (earliest) */
	struct mm_process snap;
};

struct hp_host {
	char id[72];		/* entity: instance id, else "host:NAME" */
	char host[64], inst[32];
	int64_t first_ms, last_ms;
	struct hp_pair *pairs;
	uint32_t npairs, cpairs;
	struct hp_fchg fchg[MAX_FCHG];
	uint32_t nfchg;
	struct hp_proc *procs;
	uint32_t nprocs, cprocs;
};

struct hp_state {
	struct hp_host **hosts;
	uint32_t n, cap;
};

static void *state_new(void) { return mm_calloc(1, sizeof(struct hp_state)); }

static void host_free(struct hp_host *h)
{
	if (!h)
		return;
	mm_free(h->pairs);
	mm_free(h->procs);
	mm_free(h);
}

static void state_free(void *st)
{
	struct hp_state *s = st;
	uint32_t i;
	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		host_free(s->hosts[i]);
	mm_free(s->hosts);
	mm_free(s);
}

static struct hp_host *host_get(struct hp_state *s, const char *id, uint32_t max)
{
	struct hp_host *h;
	uint32_t i;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->hosts[i]->id, id) == 0)
			return s->hosts[i];
	if (s->n >= max)
		return NULL;
	if (s->n == s->cap) {
		uint32_t nc = s->cap ? s->cap * 2 : 8;
		struct hp_host **nh = mm_realloc(s->hosts, nc * sizeof(*nh));
		if (!nh)
			return NULL;
		s->hosts = nh;
		s->cap = nc;
	}
	if (!(h = mm_calloc(1, sizeof(*h))))
		return NULL;
	snprintf(h->id, sizeof(h->id), "%s", id);
	h->first_ms = INT64_MAX;
	h->last_ms = INT64_MIN;
	s->hosts[s->n++] = h;
	return h;
}

static struct hp_pair *pair_get(struct hp_host *h, uint64_t ph, uint64_t sh, uint32_t max)
{
	uint32_t i;
	for (i = 0; i < h->npairs; i++)
		if (h->pairs[i].ph == ph && h->pairs[i].sh == sh)
			return &h->pairs[i];
	if (h->npairs >= max)
		return NULL;
	if (h->npairs == h->cpairs) {
		uint32_t nc = h->cpairs ? h->cpairs * 2 : 16;
		struct hp_pair *np = mm_realloc(h->pairs, nc * sizeof(*np));
		if (!np)
			return NULL;
		h->pairs = np;
		h->cpairs = nc;
	}
	h->pairs[h->npairs].ph = ph;
	h->pairs[h->npairs].sh = sh;
	h->pairs[h->npairs].first_ms = INT64_MAX;
	return &h->pairs[h->npairs++];
}

static struct hp_fchg *fchg_get(struct hp_host *h, uint64_t ph)
{
	uint32_t i;
	for (i = 0; i < h->nfchg; i++)
		if (h->fchg[i].ph == ph)
			return &h->fchg[i];
	if (h->nfchg >= MAX_FCHG)
		return NULL;
	h->fchg[h->nfchg].ph = ph;
	h->fchg[h->nfchg].min_ms = INT64_MAX;
	return &h->fchg[h->nfchg++];
}

static struct hp_proc *proc_get(struct hp_host *h, int64_t pid, int64_t start)
{
	uint32_t i;
	/* a start time of 0 is unknown (a SOCK event has none): it matches
	 * the pid's process, and a known start fills it in */
	for (i = 0; i < h->nprocs; i++)
		if (h->procs[i].pid == pid &&
		    (h->procs[i].start_ms == start || !start || !h->procs[i].start_ms)) {
			if (!h->procs[i].start_ms)
				h->procs[i].start_ms = start;
			return &h->procs[i];
		}
	if (h->nprocs >= MAX_PROCS)
		return NULL;
	if (h->nprocs == h->cprocs) {
		uint32_t nc = h->cprocs ? h->cprocs * 2 : 8;
		struct hp_proc *np = mm_realloc(h->procs, nc * sizeof(*np));
		if (!np)
			return NULL;
		h->procs = np;
		h->cprocs = nc;
	}
	memset(&h->procs[h->nprocs], 0, sizeof(h->procs[0]));
	h->procs[h->nprocs].pid = pid;
	h->procs[h->nprocs].start_ms = start;
	h->procs[h->nprocs].first_ms = INT64_MAX;
	h->procs[h->nprocs].last_ms = INT64_MIN;
	h->procs[h->nprocs].hi_first = INT64_MAX;
	h->procs[h->nprocs].hi_last = INT64_MIN;
	return &h->procs[h->nprocs++];
}

static uint64_t hstr(struct mm_str s) { return s.n ? mm_hash(s.p, s.n, 0x686f7374ULL) | 1 : 0; }

/* Merge one process into another (same key): exact. */
static void proc_merge(struct hp_proc *d, const struct hp_proc *q)
{
	int i;
	d->flags |= q->flags;
	d->hi += q->hi;
	d->first_ms = MM_MIN(d->first_ms, q->first_ms);
	d->last_ms = MM_MAX(d->last_ms, q->last_ms);
	d->hi_first = MM_MIN(d->hi_first, q->hi_first);
	d->hi_last = MM_MAX(d->hi_last, q->hi_last);
	if (q->snap_ref.file && (!d->snap_ref.file || mm_evref_before(&q->snap_ref, &d->snap_ref))) {
		d->snap_ref = q->snap_ref;
		d->snap = q->snap;
		d->ph = q->ph;
		d->sh = q->sh;
	}
	for (i = 0; i < q->nrefs; i++)
		mm_evref_keep(d->refs, &d->nrefs, MAX_REFS, &q->refs[i]);
}

/* The process a PROC/SOCK event names, noted in the host's table. */
static struct hp_proc *note_proc(struct hp_host *hs, struct mm_detect_ctx *c,
				 const struct mm_event *ev, uint8_t flags)
{
	const struct mm_host *h = &ev->u.host;
	struct hp_proc *p = proc_get(hs, h->pid, h->start_ms);
	struct mm_evref r;
	struct mm_finding tmp;

	if (!p)
		return NULL;
	mm_evref_take(&r, c, ev, h->time_ms);
	p->flags |= flags;
	if (h->exe.n && mm_host_system_path(h->exe))
		p->flags |= F_SYSTEM;
	p->first_ms = MM_MIN(p->first_ms, h->time_ms);
	p->last_ms = MM_MAX(p->last_ms, h->time_ms);
	mm_evref_keep(p->refs, &p->nrefs, MAX_REFS, &r);
	if (h->exe.n && (!p->snap_ref.file || mm_evref_before(&r, &p->snap_ref))) {
		memset(&tmp, 0, sizeof(tmp));
		tmp.res_type = MM_RES_RUNTIME;
		mm_str_copy(tmp.proc.host, sizeof(tmp.proc.host), h->host);
		mm_host_fill_proc(&tmp, h);
		p->snap = tmp.proc;
		p->snap_ref = r;
		p->ph = hstr(h->exe);
		p->sh = h->sha256.n ? hstr(h->sha256) : 0;
	}
	return p;
}

/* ---- per event ---- */

static struct mm_finding *emit(struct mm_detect_ctx *c, const char *type, const char *disc,
			       const struct mm_event *ev)
{
	const struct mm_host *h = &ev->u.host;
	char res[80];
	int latest;
	struct mm_finding *f;

	mm_host_resource(h, res, sizeof(res));
	f = mm_emit(c, type, mm_str_c(""), mm_str_c(res), disc, ev, h->time_ms, h->time_ms,
		    &latest);
	if (!f || !latest)
		return NULL;
	mm_host_fill_proc(f, h);
	mm_finding_info_clear(f);
	return f;
}

static void exe_disc(const struct mm_host *h, char *out, size_t cap)
{
	struct mm_str k = h->exe.n ? h->exe : h->name;
	snprintf(out, cap, "%016llx", (unsigned long long)hstr(k));
}

static void set_conn(struct mm_finding *f, const struct mm_host *h)
{
	char pb[8];
	f->has_remote_ip = 1;
	f->remote_ip = h->remote;
	f->remote_port = h->rport;
	if (h->has_local) {
		f->has_local_ip = 1;
		f->local_ip = h->local;
	}
	f->local_port = h->lport;
	f->direction = MM_DIR_OUTBOUND;
	snprintf(f->protocol, sizeof(f->protocol), "%s", mm_proto_name(h->proto ? h->proto : 6, pb));
	snprintf(f->caller_type, sizeof(f->caller_type), "Remote IP");
}

static int established(const struct mm_host *h)
{
	return !h->state.n || mm_str_eqz(h->state, "ESTABLISHED") || mm_str_eqz(h->state, "SYN_SENT") ||
	       mm_str_eqz(h->state, "ESTAB");
}

static void sock_intel(struct hp_state *s, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_host *h = &ev->u.host;
	struct mm_intel_hit hits[MM_INTEL_MAX_HITS];
	int nh, i, tor_done = 0, listed_port = 0;

	if (!c->intel || !h->has_remote || !established(h) || (h->proto && h->proto != 6 && h->proto != 17))
		return;
	nh = mm_intel_match_ip(c->intel, &h->remote, h->rport, hits, MM_INTEL_MAX_HITS);
	if (nh <= 0)
		return;
	if (mm_intel_trusted(c->intel, &h->remote)) {
		c->st.trusted_skips++;
		return;
	}
	for (i = 0; i < nh; i++)
		if (strchr(hits[i].indicator, ']') ||
		    (strchr(hits[i].indicator, ':') && !h->remote.v6))
			listed_port = 1;
	for (i = 0; i < nh; i++) {
		enum mm_intel_cat cat = hits[i].cat;
		const char *type = NULL;
		struct mm_finding *f;
		/* no local port known: the agent saw the process's own
		 * connection; else the ports decide, as for flows */
		enum mm_dir dir = !h->lport ? MM_DIR_OUTBOUND
					    : mm_flow_initiator(h->proto ? h->proto : 6, h->lport,
								h->rport, 1,
								listed_port || cat == MM_CAT_MINING ||
									cat == MM_CAT_C2);
		if (dir != MM_DIR_OUTBOUND)
			continue; /* a listed address connecting to us: not this process's doing */
		if (cat == MM_CAT_MINING)
			type = "CryptoCurrency:Runtime/BitcoinTool.B";
		else if (cat == MM_CAT_C2)
			type = "Backdoor:Runtime/C&CActivity.B";
		else if ((cat == MM_CAT_TOR || cat == MM_CAT_TOREXIT) && !tor_done)
			type = "UnauthorizedAccess:Runtime/TorClient", tor_done = 1;
		if (!type)
			continue;
		if (cat == MM_CAT_MINING && s) {
			/* remember the pid: sustained CPU from it is a miner (finish) */
			char id[80];
			struct hp_host *hs;
			mm_host_resource(h, id, sizeof(id));
			if ((hs = host_get(s, id, (uint32_t)c->params[P_MAX_HOSTS])))
				note_proc(hs, c, ev, F_POOL);
		}
		if (!(f = emit(c, type, hits[i].list_name, ev)))
			continue;
		set_conn(f, h);
		snprintf(f->threat_list, sizeof(f->threat_list), "%s", hits[i].list_name);
		snprintf(f->threat_name, sizeof(f->threat_name), "%s", mm_intel_cat_name(cat));
		snprintf(f->indicator, sizeof(f->indicator), "%s", hits[i].indicator);
	}
}

static void reverse_shell(struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_host *h = &ev->u.host;
	struct mm_str n = h->name.n ? h->name : mm_host_basename(h->exe);
	int shell = word_in(n, shells) || word_in(mm_host_basename(h->exe), shells);
	int interp = !shell && (is_interp(n) || is_interp(mm_host_basename(h->exe)));
	int fds;
	char disc[24];
	struct mm_finding *f;

	if ((!shell && !interp) || !h->has_remote || (h->proto && h->proto != 6) ||
	    !mm_str_eqz(h->state, "ESTABLISHED"))
		return;
	if (!c->params[P_LOOPBACK] && is_loopback(&h->remote))
		return;
	fds = stdio_socket(h->path, shell ? 2 : 1);
	if (fds == 0 || (fds < 0 && !shell))
		return;
	exe_disc(h, disc, sizeof(disc));
	if (!(f = emit(c, "Execution:Runtime/ReverseShell", disc, ev)))
		return;
	set_conn(f, h);
	if (h->path.n) {
		char fd[32];
		mm_str_copy(fd, sizeof(fd), h->path);
		mm_finding_info_str(f, "socketDescriptors", fd);
	}
}

static void miner_event(struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_host *h = &ev->u.host;
	int k = miner_kind(h);
	char disc[24];
	struct mm_finding *f;

	if (!k)
		return;
	exe_disc(h, disc, sizeof(disc));
	if (!(f = emit(c, T_MINER, disc, ev)))
		return;
	mm_finding_info_str(f, "minerSignal", k == 1 ? "name" : "commandLine");
	if (ev->u.host.what == MM_HOST_SOCK && h->has_remote)
		set_conn(f, h);
}

static void on_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	struct hp_state *s = st;
	const struct mm_host *h = &ev->u.host;
	struct hp_host *hs;
	char id[80];

	if (ev->kind != MM_EV_HOST)
		return;
	if (h->what != MM_HOST_PROC && h->what != MM_HOST_SOCK && h->what != MM_HOST_FILE)
		return;
	if (h->what == MM_HOST_SOCK) {
		sock_intel(s, c, ev);
		reverse_shell(c, ev);
	}
	if (h->what != MM_HOST_FILE)
		miner_event(c, ev);
	if (!s)
		return;
	mm_host_resource(h, id, sizeof(id));
	if (!(hs = host_get(s, id, (uint32_t)c->params[P_MAX_HOSTS])))
		return;
	if (!hs->host[0])
		mm_str_copy(hs->host, sizeof(hs->host), h->host);
	if (!hs->inst[0])
		mm_str_copy(hs->inst, sizeof(hs->inst), h->instance_id);
	hs->first_ms = MM_MIN(hs->first_ms, h->time_ms);
	hs->last_ms = MM_MAX(hs->last_ms, h->time_ms);
	if (h->what == MM_HOST_FILE) {
		struct hp_fchg *fc;
		if ((mm_str_eqz(h->change, "created") || mm_str_eqz(h->change, "modified")) &&
		    h->path.n && !mm_host_system_path(h->path) && (fc = fchg_get(hs, hstr(h->path))))
			fc->min_ms = MM_MIN(fc->min_ms, h->time_ms);
		return;
	}
	if (h->what == MM_HOST_PROC && h->exe.n && !mm_host_system_path(h->exe)) {
		struct hp_pair *pr = pair_get(hs, hstr(h->exe), h->sha256.n ? hstr(h->sha256) : 0,
					      (uint32_t)c->params[P_MAX_EXES]);
		struct hp_proc *p;
		uint8_t fl = suspicious_exe(h) ? F_SUSP : 0;
		if (pr)
			pr->first_ms = MM_MIN(pr->first_ms, h->time_ms);
		if ((p = note_proc(hs, c, ev, fl)) && h->cpu_permille >= c->params[P_CPU]) {
			p->hi++;
			p->hi_first = MM_MIN(p->hi_first, h->time_ms);
			p->hi_last = MM_MAX(p->hi_last, h->time_ms);
		}
	} else if (h->what == MM_HOST_PROC && h->cpu_permille >= c->params[P_CPU]) {
		/* a system binary: counted only if it holds a pool connection */
		uint32_t i;
		for (i = 0; i < hs->nprocs; i++) {
			struct hp_proc *p = &hs->procs[i];
			if (p->pid == h->pid &&
			    (p->start_ms == h->start_ms || !p->start_ms || !h->start_ms)) {
				p->hi++;
				p->hi_first = MM_MIN(p->hi_first, h->time_ms);
				p->hi_last = MM_MAX(p->hi_last, h->time_ms);
				p->last_ms = MM_MAX(p->last_ms, h->time_ms);
			}
		}
	}
}

/* ---- merge, finish ---- */

static int merge(void *dst, void *src)
{
	struct hp_state *d = dst, *s = src;
	uint32_t i, j;
	for (i = 0; i < s->n; i++) {
		struct hp_host *q = s->hosts[i], *h = host_get(d, q->id, UINT32_MAX);
		if (!h)
			return MM_ENOMEM;
		if (!h->host[0])
			memcpy(h->host, q->host, sizeof(h->host));
		if (!h->inst[0])
			memcpy(h->inst, q->inst, sizeof(h->inst));
		h->first_ms = MM_MIN(h->first_ms, q->first_ms);
		h->last_ms = MM_MAX(h->last_ms, q->last_ms);
		for (j = 0; j < q->npairs; j++) {
			struct hp_pair *p = pair_get(h, q->pairs[j].ph, q->pairs[j].sh, UINT32_MAX);
			if (!p)
				return MM_ENOMEM;
			p->first_ms = MM_MIN(p->first_ms, q->pairs[j].first_ms);
		}
		for (j = 0; j < q->nfchg; j++) {
			struct hp_fchg *f = fchg_get(h, q->fchg[j].ph);
			if (f)
				f->min_ms = MM_MIN(f->min_ms, q->fchg[j].min_ms);
		}
		for (j = 0; j < q->nprocs; j++) {
			struct hp_proc *p = proc_get(h, q->procs[j].pid, q->procs[j].start_ms);
			if (p)
				proc_merge(p, &q->procs[j]);
		}
	}
	return 0;
}

static void emit_proc(struct mm_detect_ctx *c, struct hp_host *h, struct hp_proc *p,
		      const char *type, int64_t first, int64_t last, const char *why)
{
	char res[80], disc[24];
	int latest;
	struct mm_finding *f;

	if (h->inst[0])
		snprintf(res, sizeof(res), "%s", h->inst);
	else
		snprintf(res, sizeof(res), "host:%s", h->host);
	snprintf(disc, sizeof(disc), "%016llx", (unsigned long long)p->ph);
	if (!p->nrefs)
		return;
	f = mm_emit_refs(c, type, mm_str_c(""), mm_str_c(res), disc, p->refs, p->nrefs, first,
			 last, &latest);
	if (!f || !latest)
		return;
	{
		char host[sizeof(f->proc.host)];
		memcpy(host, f->proc.host, sizeof(host));
		f->proc = p->snap;
		if (!h->inst[0])
			memcpy(f->proc.host, host, sizeof(host));
	}
	mm_finding_info_clear(f);
	mm_finding_info_str(f, "reason", why);
	if (p->hi)
		mm_finding_info_num(f, "highCpuSamples", p->hi);
}

/* How a process's executable is new: NULL when it is not. */
static const char *new_binary(const struct hp_host *h, const struct hp_proc *p, int64_t learn_end)
{
	int64_t path_first = INT64_MAX, this_first = INT64_MAX;
	int old_other = 0;
	uint32_t i;

	if (!p->ph || (p->flags & F_SYSTEM))
		return NULL;
	for (i = 0; i < h->nfchg; i++)
		if (h->fchg[i].ph == p->ph &&
		    h->fchg[i].min_ms <= (p->start_ms ? p->start_ms : p->first_ms))
			return "executable created or modified before the process started";
	for (i = 0; i < h->npairs; i++) {
		const struct hp_pair *q = &h->pairs[i];
		if (q->ph != p->ph)
			continue;
		path_first = MM_MIN(path_first, q->first_ms);
		if (q->sh == p->sh)
			this_first = q->first_ms;
		else if (q->sh && q->first_ms < learn_end)
			old_other = 1;
	}
	if (path_first == INT64_MAX)
		return NULL; /* not tracked (table full) */
	if (path_first >= learn_end)
		return "executable first seen after the host's baseline";
	if (p->sh && old_other && this_first >= learn_end)
		return "executable's SHA-256 changed after the host's baseline";
	return NULL;
}

static void finish(void *st, struct mm_detect_ctx *c)
{
	struct hp_state *s = st;
	uint32_t i, j;

	for (i = 0; i < s->n; i++) {
		struct hp_host *h = s->hosts[i];
		int64_t lw = (int64_t)(c->params[P_LEARN] * 60000.0);
		int64_t learn_end = h->first_ms > INT64_MAX - lw ? INT64_MAX : h->first_ms + lw;
		int64_t idle = h->last_ms < INT64_MIN + PROC_IDLE_MS ? INT64_MIN : h->last_ms - PROC_IDLE_MS;
		for (j = 0; j < h->nprocs; j++) {
			struct hp_proc *p = &h->procs[j];
			const char *why;
			if (!(p->flags & F_R_MINER) && p->hi >= c->params[P_SAMPLES] &&
			    (p->flags & (F_SUSP | F_POOL))) {
				emit_proc(c, h, p, T_MINER, p->hi_first, p->hi_last,
					  p->flags & F_POOL
						  ? "sustained CPU from a process connected to a mining pool"
						  : "sustained CPU from an executable in a temporary or hidden "
						    "directory, or deleted");
				p->flags |= F_R_MINER;
			}
			if (!(p->flags & F_R_NEWBIN) && (why = new_binary(h, p, learn_end))) {
				emit_proc(c, h, p, T_NEWBIN, p->first_ms, p->last_ms, why);
				p->flags |= F_R_NEWBIN;
			}
		}
		/* processes gone for an hour of event time leave */
		for (j = 0; j < h->nprocs;) {
			if (h->procs[j].last_ms < idle)
				h->procs[j] = h->procs[--h->nprocs];
			else
				j++;
		}
	}
}

/* ---- save / load ----
 * One row per host: str1 id, str1 host, str1 inst, i64 first, i64 last;
 * u32 npairs x {u64 ph, u64 sh, i64 first}; u16 nfchg x {u64 ph, i64 min};
 * u16 nprocs x {i64 pid, i64 start, u8 flags, u32 hi, i64 first, last,
 * hi_first, hi_last, u64 ph, sh, u8 nrefs x ref, ref snap_ref,
 * process: str1 name, str2 exe, str1 user, str2 cmdline, str1 host, 32 bytes sha256,
 * str1 lineage, i64 pid, ppid, start}. */

#define REF_MAX 1024

static int put_ref(struct mm_buf *b, const struct mm_evref *r)
{
	struct mm_evref z = {"", 0, 0, 0};
	return mm_blob_put_ref(b, r->file ? r : &z, REF_MAX);
}

static int save_host(const struct hp_host *h, struct mm_buf *b)
{
	uint32_t j;
	int rc = 0, k;
	rc |= mm_blob_put_str(b, h->id, 1, sizeof(h->id) - 1);
	rc |= mm_blob_put_str(b, h->host, 1, sizeof(h->host) - 1);
	rc |= mm_blob_put_str(b, h->inst, 1, sizeof(h->inst) - 1);
	rc |= mm_blob_put_u(b, (uint64_t)h->first_ms, 8);
	rc |= mm_blob_put_u(b, (uint64_t)h->last_ms, 8);
	rc |= mm_blob_put_u(b, h->npairs, 4);
	for (j = 0; j < h->npairs; j++) {
		rc |= mm_blob_put_u(b, h->pairs[j].ph, 8);
		rc |= mm_blob_put_u(b, h->pairs[j].sh, 8);
		rc |= mm_blob_put_u(b, (uint64_t)h->pairs[j].first_ms, 8);
	}
	rc |= mm_blob_put_u(b, h->nfchg, 2);
	for (j = 0; j < h->nfchg; j++) {
		rc |= mm_blob_put_u(b, h->fchg[j].ph, 8);
		rc |= mm_blob_put_u(b, (uint64_t)h->fchg[j].min_ms, 8);
	}
	rc |= mm_blob_put_u(b, h->nprocs, 2);
	for (j = 0; j < h->nprocs; j++) {
		const struct hp_proc *p = &h->procs[j];
		const struct mm_process *q = &p->snap;
		rc |= mm_blob_put_u(b, (uint64_t)p->pid, 8);
		rc |= mm_blob_put_u(b, (uint64_t)p->start_ms, 8);
		rc |= mm_blob_put_u(b, p->flags, 1);
		rc |= mm_blob_put_u(b, p->hi, 4);
		rc |= mm_blob_put_u(b, (uint64_t)p->first_ms, 8);
		rc |= mm_blob_put_u(b, (uint64_t)p->last_ms, 8);
		rc |= mm_blob_put_u(b, (uint64_t)p->hi_first, 8);
		rc |= mm_blob_put_u(b, (uint64_t)p->hi_last, 8);
		rc |= mm_blob_put_u(b, p->ph, 8);
		rc |= mm_blob_put_u(b, p->sh, 8);
		rc |= mm_blob_put_u(b, p->nrefs, 1);
		for (k = 0; k < p->nrefs; k++)
			rc |= put_ref(b, &p->refs[k]);
		rc |= mm_blob_put_u(b, p->snap_ref.file ? 1 : 0, 1);
		if (p->snap_ref.file)
			rc |= put_ref(b, &p->snap_ref);
		rc |= mm_blob_put_str(b, q->name, 1, sizeof(q->name) - 1);
		rc |= mm_blob_put_str(b, q->exe, 2, sizeof(q->exe) - 1);
		rc |= mm_blob_put_str(b, q->user, 1, sizeof(q->user) - 1);
		rc |= mm_blob_put_str(b, q->cmdline, 2, sizeof(q->cmdline) - 1);
		rc |= mm_blob_put_str(b, q->host, 1, sizeof(q->host) - 1);
		rc |= mm_buf_add(b, q->sha256, sizeof(q->sha256));
		rc |= mm_blob_put_str(b, q->lineage, 1, sizeof(q->lineage) - 1);
		rc |= mm_blob_put_u(b, (uint64_t)q->pid, 8);
		rc |= mm_blob_put_u(b, (uint64_t)q->ppid, 8);
		rc |= mm_blob_put_u(b, (uint64_t)q->start_ms, 8);
	}
	return rc ? MM_ETOOBIG : 0;
}

static int save(void *st, int (*put)(void *pctx, const char *entity, const void *blob, size_t n),
		void *pctx)
{
	struct hp_state *s = st;
	struct mm_buf b;
	uint32_t i;
	int rc = 0;

	mm_buf_init(&b, 64u << 20);
	for (i = 0; i < s->n && !rc; i++) {
		mm_buf_reset(&b);
		if ((rc = save_host(s->hosts[i], &b)))
			break;
		rc = put(pctx, s->hosts[i]->id, b.p, b.len);
	}
	mm_buf_free(&b);
	return rc;
}

static int load(void *st, const char *entity, int version, const void *blob, size_t n)
{
	struct hp_state *s = st;
	struct hp_state tmp;
	struct hp_host *h;
	struct mm_blob_rd r;
	uint32_t j, np, nf, npr;
	int k, rc;

	if (version != 1)
		return MM_EFORMAT;
	memset(&tmp, 0, sizeof(tmp));
	mm_blob_rd_init(&r, blob, n);
	/* into a state of its own, merged in once whole and sound */
	if (!(h = mm_calloc(1, sizeof(*h))))
		return MM_ENOMEM;
	mm_blob_get_str(&r, h->id, sizeof(h->id), 1);
	mm_blob_get_str(&r, h->host, sizeof(h->host), 1);
	mm_blob_get_str(&r, h->inst, sizeof(h->inst), 1);
	h->first_ms = (int64_t)mm_blob_get_u(&r, 8);
	h->last_ms = (int64_t)mm_blob_get_u(&r, 8);
	np = (uint32_t)mm_blob_get_u(&r, 4);
	if (r.bad || !h->id[0] || np > 1000000 || np * 24 > (size_t)(r.end - r.p))
		goto bad;
	if (np && !(h->pairs = mm_calloc(np, sizeof(*h->pairs))))
		goto nomem;
	h->cpairs = np;
	for (j = 0; j < np; j++) {
		h->pairs[j].ph = mm_blob_get_u(&r, 8);
		h->pairs[j].sh = mm_blob_get_u(&r, 8);
		h->pairs[j].first_ms = (int64_t)mm_blob_get_u(&r, 8);
		/* keys are unique in a sound row */
		for (k = 0; (uint32_t)k < j; k++)
			if (h->pairs[k].ph == h->pairs[j].ph && h->pairs[k].sh == h->pairs[j].sh)
				goto bad;
	}
	h->npairs = np;
	nf = (uint32_t)mm_blob_get_u(&r, 2);
	if (r.bad || nf > MAX_FCHG)
		goto bad;
	for (j = 0; j < nf; j++) {
		h->fchg[j].ph = mm_blob_get_u(&r, 8);
		h->fchg[j].min_ms = (int64_t)mm_blob_get_u(&r, 8);
		for (k = 0; (uint32_t)k < j; k++)
			if (h->fchg[k].ph == h->fchg[j].ph)
				goto bad;
	}
	h->nfchg = nf;
	npr = (uint32_t)mm_blob_get_u(&r, 2);
	if (r.bad || npr > MAX_PROCS)
		goto bad;
	if (npr && !(h->procs = mm_calloc(npr, sizeof(*h->procs))))
		goto nomem;
	h->cprocs = npr;
	for (j = 0; j < npr; j++) {
		struct hp_proc *p = &h->procs[j];
		struct mm_process *q = &p->snap;
		p->pid = (int64_t)mm_blob_get_u(&r, 8);
		p->start_ms = (int64_t)mm_blob_get_u(&r, 8);
		p->flags = (uint8_t)mm_blob_get_u(&r, 1);
		p->hi = (uint32_t)mm_blob_get_u(&r, 4);
		p->first_ms = (int64_t)mm_blob_get_u(&r, 8);
		p->last_ms = (int64_t)mm_blob_get_u(&r, 8);
		p->hi_first = (int64_t)mm_blob_get_u(&r, 8);
		p->hi_last = (int64_t)mm_blob_get_u(&r, 8);
		p->ph = mm_blob_get_u(&r, 8);
		p->sh = mm_blob_get_u(&r, 8);
		p->nrefs = (uint8_t)mm_blob_get_u(&r, 1);
		if (r.bad || p->nrefs > MAX_REFS)
			goto bad;
		for (k = 0; k < p->nrefs; k++)
			mm_blob_get_ref(&r, &p->refs[k], REF_MAX);
		if (mm_blob_get_u(&r, 1))
			mm_blob_get_ref(&r, &p->snap_ref, REF_MAX);
		mm_blob_get_str(&r, q->name, sizeof(q->name), 1);
		mm_blob_get_str(&r, q->exe, sizeof(q->exe), 2);
		mm_blob_get_str(&r, q->user, sizeof(q->user), 1);
		mm_blob_get_str(&r, q->cmdline, sizeof(q->cmdline), 2);
		mm_blob_get_str(&r, q->host, sizeof(q->host), 1);
		{
			const unsigned char *sb = mm_blob_get_bytes(&r, sizeof(q->sha256));
			if (sb)
				memcpy(q->sha256, sb, sizeof(q->sha256));
		}
		mm_blob_get_str(&r, q->lineage, sizeof(q->lineage), 1);
		q->pid = (int64_t)mm_blob_get_u(&r, 8);
		q->ppid = (int64_t)mm_blob_get_u(&r, 8);
		q->start_ms = (int64_t)mm_blob_get_u(&r, 8);
		if (r.bad)
			goto bad;
		for (k = 0; (uint32_t)k < j; k++)
			if (h->procs[k].pid == p->pid && h->procs[k].start_ms == p->start_ms)
				goto bad;
	}
	h->nprocs = npr;
	if (r.bad || r.p != r.end)
		goto bad;
	(void)entity;
	tmp.hosts = &h;
	tmp.n = tmp.cap = 1;
	rc = merge(s, &tmp);
	host_free(h);
	return rc;
bad:
	host_free(h);
	return MM_EFORMAT;
nomem:
	host_free(h);
	return MM_ENOMEM;
}

const struct mm_detector_def mm_det_hostproc = {
	.name = "hostproc",
	.kinds = MM_KIND_BIT(MM_EV_HOST),
	.state_version = 1,
	.types = types,
	.params = params,
	.state_new = state_new,
	.state_free = state_free,
	.on_event = on_event,
	.merge = merge,
	.finish = finish,
	.save = save,
	.load = load,
};
