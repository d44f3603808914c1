/* hostauth.c - SSH brute force against a host, and a login that
 * succeeded from an address that was brute-forcing it, from the
 * auth/secure log (parse/syslog.h):
 *   UnauthorizedAccess:Runtime/SSHBruteForce            (Low, TARGET)
 *   InitialAccess:Runtime/SuccessfulLoginAfterBruteForce (High)
 * and a login by a user never seen on the host, or from a network never
 * seen for that user there, once the host's learning period (in event
 * time, from its first login seen) is over; a network is the address's
 * ASN when the scan has ASN data (c->geo), else (no data, or an address
 * no AS announces) its /24 (IPv4) or /48 (IPv6):
 *   InitialAccess:Runtime/UnusualLogin                   (Medium)
 * The learned profile (per host: first login time, users, their
 * networks; bounded) is saved to the store, so day-by-day scans learn as
 * one scan does. Logins are collected per batch (pending) and replayed in
 * (time, file, line) order at finish, so the verdicts do not depend on
 * file order or threads.
 *
 * State: a table keyed by (host, remote address) holding the failed
 * attempts' times (with their records, to cite) and the accepted logins.
 * Workers fill their own tables; merge concatenates the lists, so the
 * merged state is the same whatever thread read which file; finish sorts
 * the times and slides the window. Everything is bounded: keys
 * (MAX_KEYS), attempts kept per key (MAX_FAILS, the earliest by time),
 * logins per key (MAX_OK). What was reported is remembered per key, so a
 * later flush adds only the new attempts to the finding.
 *
 * Between flushes and between runs (the table is saved as detector
 * state with the profiles) a key keeps what a later batch can still
 * need: its attempts within window_s of its newest (older ones are
 * counted in pruned), its logins within success_window_s, the earliest
 * attempt time, the densest window seen (its start and count) and the
 * brute force's bounds. So two runs over two halves of a log report
 * what one run over the whole does. A key whose newest record is more
 * than max(window_s, success_window_s) behind the newest record of the
 * whole table can meet nothing more and is forgotten: the table holds
 * the recent attackers, not every address ever seen.
 *
 * Which sshd lines count as one attempt: "Failed <method> for <user>"
 * (a valid user), "Invalid user" (the invalid user's attempt; its own
 * "Failed ... for invalid user" line is the same attempt and is not
 * counted again) and the preauth "Connection closed / Disconnected"
 * lines (a key-only bot leaves nothing else). pam_unix's
 * "authentication failure" repeats the Failed line and is not counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/mem.h"
#include "detect/blob.h"
#include "detect/detect.h"
#include "geo/geo.h"

#define T_BRUTE "UnauthorizedAccess:Runtime/SSHBruteForce"
#define T_AFTER "InitialAccess:Runtime/SuccessfulLoginAfterBruteForce"
#define T_UNUSUAL "InitialAccess:Runtime/UnusualLogin"

#define MAX_KEYS 16384
#define MAX_FAILS 1024
#define MAX_OK 16
#define MAX_HOSTS 16384		/* profiles */
#define MAX_USERS 32		/* per host */
#define MAX_NETS 8		/* per user */
#define MAX_PENDING 4096	/* logins per host per batch */
#define REF_FILE 512		/* a saved evidence file name, bytes (longer: cut) */
#define TIME_MAX ((int64_t)1 << 50) /* a loaded time's magnitude, ms (~35000 years) */

enum { P_MIN_FAILS, P_WINDOW, P_AFTER_WINDOW, P_LEARN };

static const struct mm_param params[] = {
	{"min_failures", 20, 3, 1000000, "attempts",
	 "Failed SSH authentications from one address against one host within window_s. Real "
	 "brute force runs tens to thousands of attempts an hour (one bot connection alone tries "
	 "up to sshd's MaxAuthTries=6); a person mistyping a password a few times, even on "
	 "several connections, stays well below 20."},
	{"window_s", 3600, 60, 86400 * 7, "seconds",
	 "The sliding window the attempts are counted in: an hour catches slow bots (one try a "
	 "minute) as well as fast ones."},
	{"success_window_s", 86400, 0, 86400 * 30, "seconds",
	 "How long after the last counted attempt of a brute force an accepted login from the same "
	 "address is taken as its success. A day: bots often come back later with the password "
	 "they found."},
	{"learning_s", 259200, 0, 86400 * 365, "seconds",
	 "UnusualLogin stays silent on a host until this long (event time) after the first login "
	 "seen on it: three days learn the users who log in daily (and a weekly-rotated secure "
	 "file, scanned alone, still has most of its week judged)."},
	{NULL, 0, 0, 0, NULL, NULL},
};

struct ok_login {
	struct mm_evref ref;
	char user[32];
	char method[24];
	uint16_t rport;
	uint8_t reported;
};

struct key {
	char entity[64];		/* instance id, else host name */
	char host[64];
	struct mm_ip ip;
	struct mm_evref *fails;		/* unsorted until finish */
	uint32_t nfails, cap;
	uint64_t dropped;		/* attempts past MAX_FAILS (counted, not kept) */
	uint64_t reported;		/* attempts already in a finding */
	uint64_t pruned;		/* attempts counted, then dropped as old */
	int64_t bf_first_ms, bf_last_ms; /* the brute force once the threshold was
					  * reached (0: not yet); survives pruning */
	int64_t first_ms;		/* earliest attempt ever (INT64_MAX: none);
					 * survives pruning */
	uint32_t peak;			/* most attempts in one window so far (its
					 * start is bf_first_ms once >= min_failures) */
	struct ok_login ok[MAX_OK];
	uint8_t nok;
};

/* An accepted login waiting for finish's replay. */
struct login {
	struct mm_evref ref;
	struct mm_ip ip;
	uint32_t asn;			/* its AS (0: no ASN data, or none announces it) */
	uint16_t rport;
	char user[32];
	char method[24];
};

/* A network a user logged in from: an AS, or a /24 or /48. */
struct pnet {
	uint32_t asn;			/* the AS; 0: ip is the network */
	struct mm_ip ip;		/* /24 or /48 network address (asn 0) */
};

struct puser {
	char name[32];
	uint8_t nnets;
	struct pnet nets[MAX_NETS];
};

/* One host's learned logins (UnusualLogin). */
struct profile {
	char entity[64];
	char host[64];
	int64_t first_ms;		/* earliest login seen; INT64_MAX = none yet */
	uint16_t nusers;
	struct puser users[MAX_USERS];
	struct login *pending;		/* this batch's logins, unsorted */
	uint32_t npending, cap;
};

struct state {
	struct key **keys;		/* open addressing, power of two */
	size_t nkeys, cap;
	uint64_t keys_dropped;
	struct profile **prof;		/* open addressing by entity */
	size_t nprof, pcap;
};

static void *state_new(void)
{
	struct state *s = mm_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = 64;
	s->keys = mm_calloc(s->cap, sizeof(*s->keys));
	s->pcap = 16;
	s->prof = mm_calloc(s->pcap, sizeof(*s->prof));
	if (!s->keys || !s->prof) {
		mm_free(s->keys);
		mm_free(s->prof);
		mm_free(s);
		return NULL;
	}
	return s;
}

static void state_free(void *p)
{
	struct state *s = p;
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->cap; i++)
		if (s->keys[i]) {
			mm_free(s->keys[i]->fails);
			mm_free(s->keys[i]);
		}
	mm_free(s->keys);
	for (i = 0; i < s->pcap; i++)
		if (s->prof[i]) {
			mm_free(s->prof[i]->pending);
			mm_free(s->prof[i]);
		}
	mm_free(s->prof);
	mm_free(s);
}

/* The profile of entity, created when create; NULL when absent or full. */
static struct profile *prof_get(struct state *s, const char *entity, int create)
{
	size_t j;
	struct profile *p;
	if (create && s->nprof * 2 >= s->pcap) {
		size_t ncap = s->pcap * 2, i;
		struct profile **np = mm_calloc(ncap, sizeof(*np));
		if (!np)
			return NULL;
		for (i = 0; i < s->pcap; i++)
			if (s->prof[i]) {
				size_t k = mm_hash(s->prof[i]->entity, strlen(s->prof[i]->entity), 7) &
					   (ncap - 1);
				while (np[k])
					k = (k + 1) & (ncap - 1);
				np[k] = s->prof[i];
			}
		mm_free(s->prof);
		s->prof = np;
		s->pcap = ncap;
	}
	j = mm_hash(entity, strlen(entity), 7) & (s->pcap - 1);
	while ((p = s->prof[j])) {
		if (!strcmp(p->entity, entity))
			return p;
		j = (j + 1) & (s->pcap - 1);
	}
	if (!create || s->nprof >= MAX_HOSTS)
		return NULL;
	p = mm_calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->entity, sizeof(p->entity), "%s", entity);
	p->first_ms = INT64_MAX;
	s->prof[j] = p;
	s->nprof++;
	return p;
}

static void add_pending(struct profile *p, const struct login *l)
{
	if (p->npending == p->cap) {
		uint32_t nc = p->cap ? p->cap * 2 : 8, i, worst = 0;
		struct login *nl;
		if (p->cap >= MAX_PENDING) {
			/* full: keep the earliest (order-free) */
			for (i = 1; i < p->npending; i++)
				if (mm_evref_before(&p->pending[worst].ref, &p->pending[i].ref))
					worst = i;
			if (mm_evref_before(&l->ref, &p->pending[worst].ref))
				p->pending[worst] = *l;
			return;
		}
		nl = mm_realloc(p->pending, nc * sizeof(*nl));
		if (!nl)
			return;
		p->pending = nl;
		p->cap = nc;
	}
	p->pending[p->npending++] = *l;
}

/* The network a login came from: /24 for IPv4, /48 for IPv6. */
static struct mm_ip net_of(const struct mm_ip *ip)
{
	struct mm_ip n = *ip;
	if (n.v6)
		memset(n.b + 6, 0, 10);
	else
		n.b[3] = 0;
	return n;
}

static uint64_t key_hash(const char *entity, const struct mm_ip *ip)
{
	return mm_hash(entity, strlen(entity), mm_hash(ip, sizeof(*ip), 0x55));
}

/* The keys into a new table of ncap slots (a power of two, > nkeys). */
static int rehash(struct state *s, size_t ncap)
{
	size_t i;
	struct key **nk = mm_calloc(ncap, sizeof(*nk));
	if (!nk)
		return MM_ENOMEM;
	for (i = 0; i < s->cap; i++)
		if (s->keys[i]) {
			size_t j = key_hash(s->keys[i]->entity, &s->keys[i]->ip) & (ncap - 1);
			while (nk[j])
				j = (j + 1) & (ncap - 1);
			nk[j] = s->keys[i];
		}
	mm_free(s->keys);
	s->keys = nk;
	s->cap = ncap;
	return 0;
}

static int grow(struct state *s)
{
	return rehash(s, s->cap * 2);
}

/* The key for (entity, ip), created when create; NULL when absent or full. */
static struct key *get(struct state *s, const char *entity, const struct mm_ip *ip, int create)
{
	size_t j;
	struct key *k;
	if (s->nkeys * 2 >= s->cap && create && grow(s))
		return NULL;
	j = key_hash(entity, ip) & (s->cap - 1);
	while ((k = s->keys[j])) {
		if (!strcmp(k->entity, entity) && mm_ip_eq(&k->ip, ip))
			return k;
		j = (j + 1) & (s->cap - 1);
	}
	if (!create)
		return NULL;
	if (s->nkeys >= MAX_KEYS) {
		s->keys_dropped++;
		return NULL;
	}
	k = mm_calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	snprintf(k->entity, sizeof(k->entity), "%s", entity);
	k->ip = *ip;
	k->first_ms = INT64_MAX;
	s->keys[j] = k;
	s->nkeys++;
	return k;
}

static void add_fail(struct key *k, const struct mm_evref *r)
{
	if (k->nfails == k->cap) {
		uint32_t nc = k->cap ? k->cap * 2 : 16;
		struct mm_evref *nf;
		if (k->cap >= MAX_FAILS) {
			/* full: keep the earliest MAX_FAILS (order-free) */
			uint32_t i, worst = 0;
			for (i = 1; i < k->nfails; i++)
				if (mm_evref_before(&k->fails[worst], &k->fails[i]))
					worst = i;
			k->dropped++;
			if (mm_evref_before(r, &k->fails[worst]))
				k->fails[worst] = *r;
			return;
		}
		nf = mm_realloc(k->fails, nc * sizeof(*nf));
		if (!nf) {
			k->dropped++;
			return;
		}
		k->fails = nf;
		k->cap = nc;
	}
	k->fails[k->nfails++] = *r;
}

static void add_ok(struct key *k, const struct ok_login *o)
{
	int i, worst = 0;
	if (k->nok < MAX_OK) {
		k->ok[k->nok++] = *o;
		return;
	}
	for (i = 1; i < k->nok; i++)
		if (mm_evref_before(&k->ok[worst].ref, &k->ok[i].ref))
			worst = i;
	if (mm_evref_before(&o->ref, &k->ok[worst].ref))
		k->ok[worst] = *o;
}

/* Is this LOGIN_FAIL line an attempt of its own (see the top comment)? */
static int counts(const struct mm_host *h)
{
	if (mm_str_eqz(h->method, "pam"))
		return 0;
	if (h->invalid_user && h->method.n && !mm_str_eqz(h->method, "preauth"))
		return 0;
	return 1;
}

static void on_event(void *state, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	struct state *s = state;
	const struct mm_host *h = &ev->u.host;
	char entity[64];
	struct key *k;
	struct mm_evref r;

	if (!s || !h->has_remote)
		return;
	if (h->what != MM_HOST_LOGIN_FAIL && h->what != MM_HOST_LOGIN_OK)
		return;
	if (h->what == MM_HOST_LOGIN_FAIL && !counts(h))
		return;
	mm_str_copy(entity, sizeof(entity),
		    h->instance_id.n ? h->instance_id : h->host.n ? h->host : mm_str_c("unknown-host"));
	k = get(s, entity, &h->remote, 1);
	if (!k)
		return;
	if (!k->host[0])
		mm_str_copy(k->host, sizeof(k->host), h->host);
	mm_evref_take(&r, c, ev, h->time_ms);
	if (h->what == MM_HOST_LOGIN_FAIL) {
		add_fail(k, &r);
	} else {
		struct ok_login o;
		struct profile *pr = prof_get(s, entity, 1);
		if (pr) {
			struct login l;
			memset(&l, 0, sizeof(l));
			l.ref = r;
			l.ip = h->remote;
			l.rport = h->rport;
			if (c->geo && (mm_geo_kinds(c->geo) & MM_GEO_ASN)) {
				struct mm_geo_info gi;
				if (mm_geo_lookup(c->geo, &h->remote, &gi) & MM_GEO_ASN)
					l.asn = gi.asn;
			}
			mm_str_copy(l.user, sizeof(l.user), h->user);
			mm_str_copy(l.method, sizeof(l.method), h->method);
			if (!pr->host[0])
				mm_str_copy(pr->host, sizeof(pr->host), h->host);
			add_pending(pr, &l);
		}
		memset(&o, 0, sizeof(o));
		o.ref = r;
		mm_str_copy(o.user, sizeof(o.user), h->user);
		mm_str_copy(o.method, sizeof(o.method), h->method);
		o.rport = h->rport;
		add_ok(k, &o);
	}
}

static int merge(void *dst, void *src)
{
	struct state *d = dst, *s = src;
	size_t i;
	uint32_t j;
	int m;
	for (i = 0; i < s->cap; i++) {
		struct key *sk = s->keys[i], *dk;
		if (!sk)
			continue;
		dk = get(d, sk->entity, &sk->ip, 1);
		if (!dk)
			continue;
		if (!dk->host[0])
			memcpy(dk->host, sk->host, sizeof(dk->host));
		for (j = 0; j < sk->nfails; j++)
			add_fail(dk, &sk->fails[j]);
		dk->dropped += sk->dropped;
		for (m = 0; m < sk->nok; m++)
			add_ok(dk, &sk->ok[m]);
	}
	d->keys_dropped += s->keys_dropped;
	for (i = 0; i < s->pcap; i++) {
		struct profile *sp = s->prof[i], *dp;
		if (!sp)
			continue;
		dp = prof_get(d, sp->entity, 1);
		if (!dp)
			continue;
		if (!dp->host[0])
			memcpy(dp->host, sp->host, sizeof(dp->host));
		for (j = 0; j < sp->npending; j++)
			add_pending(dp, &sp->pending[j]);
	}
	return 0;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct mm_evref *x = a, *y = b;
	if (mm_evref_before(x, y))
		return -1;
	if (mm_evref_before(y, x))
		return 1;
	return 0;
}

static void fill(struct mm_finding *f, const struct key *k, const char *user)
{
	f->role = MM_ROLE_TARGET;
	if (!f->instance_id[0] && strncmp(k->entity, "i-", 2) == 0)
		snprintf(f->instance_id, sizeof(f->instance_id), "%s", k->entity);
	f->has_remote_ip = 1;
	f->remote_ip = k->ip;
	f->direction = MM_DIR_INBOUND;
	f->local_port = 22;
	snprintf(f->protocol, sizeof(f->protocol), "TCP");
	memset(&f->proc, 0, sizeof(f->proc));
	snprintf(f->proc.name, sizeof(f->proc.name), "sshd");
	snprintf(f->proc.host, sizeof(f->proc.host), "%s", k->host);
	snprintf(f->proc.user, sizeof(f->proc.user), "%s", user);
	snprintf(f->user_name, sizeof(f->user_name), "%s", user);
}

static void finish_key(struct key *k, struct mm_detect_ctx *c)
{
	const double *p = c->params;
	uint32_t need = (uint32_t)p[P_MIN_FAILS], i, lo = 0, best_lo = 0, best_hi = 0, best = 0;
	int64_t win = (int64_t)(p[P_WINDOW] * 1000), after = (int64_t)(p[P_AFTER_WINDOW] * 1000);
	int64_t bf_first, bf_last;
	char disc[64];
	struct mm_finding *f;
	int latest, m;
	uint64_t total;

	if (k->nfails) {
		qsort(k->fails, k->nfails, sizeof(*k->fails), cmp_ref);
		if (k->fails[0].time_ms < k->first_ms)
			k->first_ms = k->fails[0].time_ms;
	}
	if (need == 0 || (k->nfails < need && !k->bf_first_ms))
		return;
	/* the densest window: its start and end bound the brute force */
	for (i = 0; i < k->nfails; i++) {
		while (k->fails[i].time_ms - k->fails[lo].time_ms > win)
			lo++;
		if (i - lo + 1 > best) {
			best = i - lo + 1;
			best_lo = lo;
			best_hi = i;
		}
	}
	if (best < need && !k->bf_first_ms)
		return;
	if (best < need) {
		/* below the threshold now (pruned), but a brute force was seen:
		 * its logins still count */
		best_lo = 0;
		best_hi = k->nfails ? k->nfails - 1 : 0;
	}
	if (!k->nfails)
		goto logins;
	total = k->nfails + k->dropped + k->pruned;
	bf_first = k->first_ms;	/* an earlier run's pruned attempts included */
	bf_last = k->fails[k->nfails - 1].time_ms;
	/* the brute force starts at the first of its densest windows: an
	 * earlier batch's window stays unless this one is denser (a window
	 * reaching back into it holds all of its attempts, kept by prune),
	 * so batches and runs agree with one pass over everything */
	if (best >= need &&
	    (best > k->peak || (best == k->peak && k->fails[best_lo].time_ms < k->bf_first_ms))) {
		k->peak = best;
		k->bf_first_ms = k->fails[best_lo].time_ms;
	}
	if (!k->bf_first_ms)
		k->bf_first_ms = k->fails[best_lo].time_ms;
	if (bf_last > k->bf_last_ms)
		k->bf_last_ms = bf_last;
	mm_ip_format(&k->ip, disc);
	if (total > k->reported) {
		struct mm_evref refs[MM_EVIDENCE_MAX];
		int n = 0;
		for (i = best_lo; i <= best_hi && n < MM_EVIDENCE_MAX; i++)
			refs[n++] = k->fails[i];
		f = mm_emit_refs(c, T_BRUTE, mm_str_c(""), mm_str_c(k->entity), disc, refs, n, bf_first,
				 bf_last, &latest);
		if (f) {
			f->count += (total - k->reported) - 1;
			k->reported = total;
			fill(f, k, ""); /* many users: none named (order-free) */
			mm_finding_info_clear(f);
			mm_finding_info_num(f, "failedAttempts", (double)total);
			mm_finding_info_num(f, "peakAttemptsInWindow",
					    (double)(best > k->peak ? best : k->peak));
		}
	}
logins:
	total = k->nfails + k->dropped + k->pruned;
	mm_ip_format(&k->ip, disc);
	for (m = 0; m < k->nok; m++) {
		struct ok_login *o = &k->ok[m];
		struct mm_evref refs[2];
		if (o->reported || o->ref.time_ms < k->bf_first_ms ||
		    o->ref.time_ms > k->bf_last_ms + after)
			continue;
		refs[0] = k->nfails ? k->fails[best_hi] : o->ref;
		refs[1] = o->ref;
		f = mm_emit_refs(c, T_AFTER, mm_str_c(""), mm_str_c(k->entity), disc, refs,
				 k->nfails ? 2 : 1,
				 o->ref.time_ms, o->ref.time_ms, &latest);
		if (!f)
			continue;
		o->reported = 1;
		fill(f, k, o->user);
		f->role = MM_ROLE_TARGET;
		f->remote_port = o->rport;
		mm_finding_info_clear(f);
		mm_finding_info_str(f, "user", o->user);
		mm_finding_info_str(f, "method", o->method);
		mm_finding_info_num(f, "failedAttemptsBefore", (double)total);
	}
}

/* Between flushes (serve, the agent) keep only what a later batch can
 * still need: attempts within window_s of the newest (older ones are
 * counted in pruned), logins within success_window_s of it. Bounds a
 * long-running pipeline's memory by the window, not by the uptime. */
static void prune_key(struct key *k, struct mm_detect_ctx *c)
{
	int64_t win = (int64_t)(c->params[P_WINDOW] * 1000);
	int64_t after = (int64_t)(c->params[P_AFTER_WINDOW] * 1000);
	int64_t newest = INT64_MIN;
	uint32_t i, j = 0;
	int m, n = 0;
	for (i = 0; i < k->nfails; i++)
		if (k->fails[i].time_ms > newest)
			newest = k->fails[i].time_ms;
	for (m = 0; m < k->nok; m++)
		if (k->ok[m].ref.time_ms > newest)
			newest = k->ok[m].ref.time_ms;
	if (newest == INT64_MIN)
		return;
	for (i = 0; i < k->nfails; i++) {
		if (k->fails[i].time_ms < newest - win)
			k->pruned++;
		else
			k->fails[j++] = k->fails[i];
	}
	k->nfails = j;
	for (m = 0; m < k->nok; m++)
		if (k->ok[m].ref.time_ms >= newest - after)
			k->ok[n++] = k->ok[m];
	k->nok = (uint8_t)n;
}

static int cmp_login(const void *a, const void *b)
{
	const struct login *x = a, *y = b;
	return cmp_ref(&x->ref, &y->ref);
}

/* Replay the batch's logins of one host against its profile, in order. */
static void finish_profile(struct profile *p, struct mm_detect_ctx *c)
{
	int64_t learn = (int64_t)(c->params[P_LEARN] * 1000);
	uint32_t i;

	if (!p->npending)
		return;
	qsort(p->pending, p->npending, sizeof(*p->pending), cmp_login);
	if (p->pending[0].ref.time_ms < p->first_ms)
		p->first_ms = p->pending[0].ref.time_ms;
	for (i = 0; i < p->npending; i++) {
		const struct login *l = &p->pending[i];
		struct mm_ip net = net_of(&l->ip);
		struct puser *u = NULL;
		int k, known_net = 0, known_asn = 0;
		for (k = 0; k < p->nusers; k++)
			if (!strcmp(p->users[k].name, l->user)) {
				u = &p->users[k];
				break;
			}
		/* known: its AS was seen, or its /24 (/48) was (learned before
		 * ASN data was there, or without an AS) */
		if (u)
			for (k = 0; k < u->nnets; k++) {
				if (l->asn && u->nets[k].asn == l->asn)
					known_net = known_asn = 1;
				else if (!u->nets[k].asn && mm_ip_eq(&u->nets[k].ip, &net))
					known_net = 1;
			}
		if ((!u || !known_net) && l->ref.time_ms >= p->first_ms + learn) {
			char disc[64], ipb[MM_IP_STRLEN], nw[MM_IP_STRLEN + 8];
			struct mm_finding *f;
			int latest;
			mm_ip_format(&net, ipb);
			if (l->asn) {
				snprintf(disc, sizeof(disc), "%s|AS%u", l->user, (unsigned)l->asn);
				snprintf(nw, sizeof(nw), "AS%u", (unsigned)l->asn);
			} else {
				snprintf(disc, sizeof(disc), "%s|%s", l->user, ipb);
				snprintf(nw, sizeof(nw), "%s/%d", ipb, net.v6 ? 48 : 24);
			}
			f = mm_emit_refs(c, T_UNUSUAL, mm_str_c(""), mm_str_c(p->entity), disc, &l->ref, 1,
					 l->ref.time_ms, l->ref.time_ms, &latest);
			if (f) {
				f->role = MM_ROLE_TARGET;
				if (!f->instance_id[0] && strncmp(p->entity, "i-", 2) == 0)
					snprintf(f->instance_id, sizeof(f->instance_id), "%s", p->entity);
				if (latest) {
					f->has_remote_ip = 1;
					f->remote_ip = l->ip;
					f->remote_port = l->rport;
					f->direction = MM_DIR_INBOUND;
					f->local_port = 22;
					snprintf(f->protocol, sizeof(f->protocol), "TCP");
					memset(&f->proc, 0, sizeof(f->proc));
					snprintf(f->proc.name, sizeof(f->proc.name), "sshd");
					snprintf(f->proc.host, sizeof(f->proc.host), "%s", p->host);
					snprintf(f->proc.user, sizeof(f->proc.user), "%s", l->user);
					snprintf(f->user_name, sizeof(f->user_name), "%s", l->user);
					mm_finding_info_clear(f);
					mm_finding_info_str(f, "user", l->user);
					mm_finding_info_str(f, "method", l->method);
					mm_finding_info_str(f, "unusual", u ? "network" : "user");
					mm_finding_info_str(f, "network", nw);
				}
			}
		}
		/* learn it (bounded: a full table learns no more) */
		if (!u && p->nusers < MAX_USERS) {
			u = &p->users[p->nusers++];
			memset(u, 0, sizeof(*u));
			snprintf(u->name, sizeof(u->name), "%s", l->user);
		}
		if (u && u->nnets < MAX_NETS && (l->asn ? !known_asn : !known_net)) {
			struct pnet *pn = &u->nets[u->nnets++];
			memset(pn, 0, sizeof(*pn));
			pn->asn = l->asn;
			if (!l->asn)
				pn->ip = net;
		}
	}
	p->npending = 0;
}

/* The newest event time a key holds (INT64_MIN: none). */
static int64_t key_newest(const struct key *k)
{
	int64_t t = k->bf_first_ms ? k->bf_last_ms : INT64_MIN;
	uint32_t i;
	int m;
	for (i = 0; i < k->nfails; i++)
		if (k->fails[i].time_ms > t)
			t = k->fails[i].time_ms;
	for (m = 0; m < k->nok; m++)
		if (k->ok[m].ref.time_ms > t)
			t = k->ok[m].ref.time_ms;
	return t;
}

/* Forget the keys whose newest record is more than max(window_s,
 * success_window_s) behind the table's newest: no attempt can share a
 * window with them and no login pair with them any more (in event-time
 * order). Keeps a table saved run after run to the recent attackers. */
static void expire(struct state *s, struct mm_detect_ctx *c)
{
	int64_t win = (int64_t)(c->params[P_WINDOW] * 1000);
	int64_t after = (int64_t)(c->params[P_AFTER_WINDOW] * 1000);
	int64_t newest = INT64_MIN, keep = win > after ? win : after;
	size_t i, gone = 0;

	for (i = 0; i < s->cap; i++)
		if (s->keys[i]) {
			int64_t t = key_newest(s->keys[i]);
			if (t > newest)
				newest = t;
		}
	if (newest == INT64_MIN)
		return;
	for (i = 0; i < s->cap; i++) {
		struct key *k = s->keys[i];
		if (k && key_newest(k) < newest - keep) {
			mm_free(k->fails);
			mm_free(k);
			s->keys[i] = NULL;
			gone++;
		}
	}
	if (!gone)
		return;
	/* open addressing: rehash the survivors into a table of the same
	 * size (the old one holds gaps a lookup would stop at) */
	s->nkeys -= gone;
	if (rehash(s, s->cap)) {
		/* out of memory: a table with gaps would lose lookups, so
		 * start an empty one (the attempts are relearned) */
		for (i = 0; i < s->cap; i++) {
			struct key *k = s->keys[i];
			if (k) {
				mm_free(k->fails);
				mm_free(k);
				s->keys[i] = NULL;
			}
		}
		s->nkeys = 0;
	}
}

static void finish(void *state, struct mm_detect_ctx *c)
{
	struct state *s = state;
	size_t i;
	for (i = 0; i < s->cap; i++)
		if (s->keys[i]) {
			finish_key(s->keys[i], c);
			prune_key(s->keys[i], c);
		}
	expire(s, c);
	for (i = 0; i < s->pcap; i++)
		if (s->prof[i])
			finish_profile(s->prof[i], c);
}

/* Rows (state_version 3), little-endian, all packed (state_packed: the
 * whole table is written at each save), a kind byte first:
 *
 * 1, a host's profile, row named by the host entity: first_ms i64, host
 * name (u8 length + bytes), nusers u16, then per user: name (u8 length
 * + bytes), nnets u8, nnets x (kind u8, 16 bytes): kind 0 an IPv4 /24,
 * 1 an IPv6 /48 (the address), 2 an AS (its number in the first 4
 * bytes). Versions 1 (before ASNs: kinds 0 and 1 only) and 2 are this
 * without the kind byte, one row per host, and still load.
 *
 * 2, one (host, address) key's attempts, row named "entity|address"
 * (the key is read from the blob): entity and host (u8 length +
 * bytes), address (blob.h), dropped, reported, pruned u64, first_ms,
 * bf_first_ms, bf_last_ms i64, peak u32, nfails u16 and that many
 * evidence references (blob.h, file names cut to REF_FILE bytes), nok
 * u8 and per login: reference, user and method (u8 length + bytes),
 * rport u16, reported u8. At most MAX_FAILS x ~540 bytes: a key fits a
 * row. */
static int save_profile(const struct profile *p,
			int (*put)(void *pctx, const char *entity, const void *blob, size_t n),
			void *pctx)
{
	unsigned char b[1 + 16 + 64 + MAX_USERS * (34 + MAX_NETS * 17)];
	size_t n = 0, L;
	int k, m;

	b[n++] = 1;
	for (k = 0; k < 8; k++)
		b[n++] = (unsigned char)((uint64_t)p->first_ms >> (8 * k));
	L = strlen(p->host);
	b[n++] = (unsigned char)L;
	memcpy(b + n, p->host, L);
	n += L;
	b[n++] = (unsigned char)(p->nusers & 0xff);
	b[n++] = (unsigned char)(p->nusers >> 8);
	for (k = 0; k < p->nusers; k++) {
		const struct puser *u = &p->users[k];
		L = strlen(u->name);
		b[n++] = (unsigned char)L;
		memcpy(b + n, u->name, L);
		n += L;
		b[n++] = u->nnets;
		for (m = 0; m < u->nnets; m++) {
			const struct pnet *pn = &u->nets[m];
			if (pn->asn) {
				b[n++] = 2;
				memset(b + n, 0, 16);
				for (L = 0; L < 4; L++)
					b[n + L] = (unsigned char)(pn->asn >> (8 * L));
			} else {
				b[n++] = pn->ip.v6;
				memcpy(b + n, pn->ip.b, 16);
			}
			n += 16;
		}
	}
	return put(pctx, p->entity, b, n);
}

static int save_key(const struct key *k, struct mm_buf *w,
		    int (*put)(void *pctx, const char *entity, const void *blob, size_t n),
		    void *pctx)
{
	char name[64 + 1 + MM_IP_STRLEN];
	uint32_t i;
	int m, rc;

	mm_buf_reset(w);
	rc = mm_blob_put_u(w, 2, 1);
	rc = rc ? rc : mm_blob_put_str(w, k->entity, 1, sizeof(k->entity) - 1);
	rc = rc ? rc : mm_blob_put_str(w, k->host, 1, sizeof(k->host) - 1);
	rc = rc ? rc : mm_blob_put_ip(w, &k->ip);
	rc = rc ? rc : mm_blob_put_u(w, k->dropped, 8);
	rc = rc ? rc : mm_blob_put_u(w, k->reported, 8);
	rc = rc ? rc : mm_blob_put_u(w, k->pruned, 8);
	rc = rc ? rc : mm_blob_put_u(w, (uint64_t)k->first_ms, 8);
	rc = rc ? rc : mm_blob_put_u(w, (uint64_t)k->bf_first_ms, 8);
	rc = rc ? rc : mm_blob_put_u(w, (uint64_t)k->bf_last_ms, 8);
	rc = rc ? rc : mm_blob_put_u(w, k->peak, 4);
	rc = rc ? rc : mm_blob_put_u(w, k->nfails, 2);
	for (i = 0; i < k->nfails && !rc; i++)
		rc = mm_blob_put_ref(w, &k->fails[i], REF_FILE);
	rc = rc ? rc : mm_blob_put_u(w, k->nok, 1);
	for (m = 0; m < k->nok && !rc; m++) {
		const struct ok_login *o = &k->ok[m];
		rc = mm_blob_put_ref(w, &o->ref, REF_FILE);
		rc = rc ? rc : mm_blob_put_str(w, o->user, 1, sizeof(o->user) - 1);
		rc = rc ? rc : mm_blob_put_str(w, o->method, 1, sizeof(o->method) - 1);
		rc = rc ? rc : mm_blob_put_u(w, o->rport, 2);
		rc = rc ? rc : mm_blob_put_u(w, o->reported, 1);
	}
	if (rc)
		return rc;
	mm_ip_format(&k->ip, name + snprintf(name, sizeof(name) - MM_IP_STRLEN, "%s|", k->entity));
	return put(pctx, name, w->p, w->len);
}

static int save(void *state, int (*put)(void *pctx, const char *entity, const void *blob, size_t n),
		void *pctx)
{
	struct state *s = state;
	struct mm_buf w;
	size_t i;
	int rc = 0;

	for (i = 0; i < s->pcap && !rc; i++)
		if (s->prof[i] && s->prof[i]->first_ms != INT64_MAX)
			rc = save_profile(s->prof[i], put, pctx);
	mm_buf_init(&w, (size_t)MAX_FAILS * (REF_FILE + 32) + 4096);
	for (i = 0; i < s->cap && !rc; i++)
		if (s->keys[i])
			rc = save_key(s->keys[i], &w, put, pctx);
	mm_buf_free(&w);
	return rc;
}

/* Restore one host's profile (replacing what is held for it). A
 * malformed blob is rejected whole: MM_EPARSE. */
static int load_profile(struct state *s, const char *entity, int version, const unsigned char *b,
			size_t n)
{
	struct profile tmp, *p;
	size_t at = 0, L;
	uint64_t v = 0;
	int k, m;

	if (n < 11 || strlen(entity) >= sizeof(tmp.entity))
		return MM_EPARSE;
	memset(&tmp, 0, sizeof(tmp));
	for (k = 0; k < 8; k++)
		v |= (uint64_t)b[at++] << (8 * k);
	tmp.first_ms = (int64_t)v;
	if (tmp.first_ms == INT64_MAX)
		return MM_EPARSE; /* "no login yet" is never saved */
	L = b[at++];
	if (L >= sizeof(tmp.host) || at + L + 2 > n)
		return MM_EPARSE;
	memcpy(tmp.host, b + at, L);
	at += L;
	tmp.nusers = (uint16_t)(b[at] | (b[at + 1] << 8));
	at += 2;
	if (tmp.nusers > MAX_USERS)
		return MM_EPARSE;
	for (k = 0; k < tmp.nusers; k++) {
		struct puser *u = &tmp.users[k];
		if (at >= n)
			return MM_EPARSE;
		L = b[at++];
		if (L >= sizeof(u->name) || at + L + 1 > n)
			return MM_EPARSE;
		memcpy(u->name, b + at, L);
		at += L;
		u->nnets = b[at++];
		if (u->nnets > MAX_NETS || at + (size_t)u->nnets * 17 > n)
			return MM_EPARSE;
		for (m = 0; m < u->nnets; m++) {
			struct pnet *pn = &u->nets[m];
			unsigned kind = b[at++];
			if (kind == 2 && version >= 2) {
				pn->asn = (uint32_t)b[at] | (uint32_t)b[at + 1] << 8 |
					  (uint32_t)b[at + 2] << 16 | (uint32_t)b[at + 3] << 24;
				if (!pn->asn)
					return MM_EPARSE;
			} else if (kind <= 1 || version == 1) {
				pn->ip.v6 = kind ? 1 : 0;
				memcpy(pn->ip.b, b + at, 16);
			} else {
				return MM_EPARSE;
			}
			at += 16;
		}
	}
	if (at != n)
		return MM_EPARSE;
	p = prof_get(s, entity, 1);
	if (!p)
		return MM_ENOMEM;
	p->first_ms = tmp.first_ms;
	memcpy(p->host, tmp.host, sizeof(p->host));
	p->nusers = tmp.nusers;
	memcpy(p->users, tmp.users, sizeof(p->users));
	return 0;
}

static int time_ok(int64_t t)
{
	return t > -TIME_MAX && t < TIME_MAX;
}

/* Restore one (host, address) key (replacing what is held for it);
 * the row's name is not read. Malformed: MM_EPARSE, nothing kept. */
static int load_key(struct state *s, const unsigned char *b, size_t n)
{
	struct mm_blob_rd r;
	struct key tmp, *k;
	struct mm_evref *fails = NULL;
	uint32_t i;
	int m, rc = MM_EPARSE;

	memset(&tmp, 0, sizeof(tmp));
	mm_blob_rd_init(&r, b, n);
	if (mm_blob_get_u(&r, 1) != 2)
		return MM_EPARSE;
	mm_blob_get_str(&r, tmp.entity, sizeof(tmp.entity), 1);
	mm_blob_get_str(&r, tmp.host, sizeof(tmp.host), 1);
	mm_blob_get_ip(&r, &tmp.ip);
	tmp.dropped = mm_blob_get_u(&r, 8);
	tmp.reported = mm_blob_get_u(&r, 8);
	tmp.pruned = mm_blob_get_u(&r, 8);
	tmp.first_ms = (int64_t)mm_blob_get_u(&r, 8);
	tmp.bf_first_ms = (int64_t)mm_blob_get_u(&r, 8);
	tmp.bf_last_ms = (int64_t)mm_blob_get_u(&r, 8);
	tmp.peak = (uint32_t)mm_blob_get_u(&r, 4);
	tmp.nfails = (uint32_t)mm_blob_get_u(&r, 2);
	if (r.bad || !tmp.entity[0] || tmp.nfails > MAX_FAILS ||
	    (tmp.first_ms != INT64_MAX && !time_ok(tmp.first_ms)) || !time_ok(tmp.bf_first_ms) ||
	    !time_ok(tmp.bf_last_ms))
		return MM_EPARSE;
	if (tmp.nfails && !(fails = mm_malloc(tmp.nfails * sizeof(*fails))))
		return MM_ENOMEM;
	for (i = 0; i < tmp.nfails; i++) {
		mm_blob_get_ref(&r, &fails[i], REF_FILE);
		if (r.bad || !time_ok(fails[i].time_ms))
			goto out;
	}
	tmp.nok = (uint8_t)mm_blob_get_u(&r, 1);
	if (r.bad || tmp.nok > MAX_OK)
		goto out;
	for (m = 0; m < tmp.nok; m++) {
		struct ok_login *o = &tmp.ok[m];
		uint64_t rep;
		mm_blob_get_ref(&r, &o->ref, REF_FILE);
		mm_blob_get_str(&r, o->user, sizeof(o->user), 1);
		mm_blob_get_str(&r, o->method, sizeof(o->method), 1);
		o->rport = (uint16_t)mm_blob_get_u(&r, 2);
		rep = mm_blob_get_u(&r, 1);
		if (r.bad || rep > 1 || !time_ok(o->ref.time_ms))
			goto out;
		o->reported = (uint8_t)rep;
	}
	if (r.p != r.end)
		goto out;
	k = get(s, tmp.entity, &tmp.ip, 1);
	if (!k) {
		rc = MM_ENOMEM; /* out of memory, or the table is full */
		goto out;
	}
	mm_free(k->fails);
	tmp.fails = fails;
	tmp.cap = tmp.nfails;
	*k = tmp;
	return 0;
out:
	mm_free(fails);
	return rc;
}

static int load(void *state, const char *entity, int version, const void *blob, size_t n)
{
	const unsigned char *b = blob;
	if (version == 1 || version == 2)
		return load_profile(state, entity, version, b, n);
	if (version != 3 || n < 1)
		return MM_EPARSE;
	if (b[0] == 1)
		return load_profile(state, entity, version, b + 1, n - 1);
	return load_key(state, b, n);
}

static const char *const types[] = {T_BRUTE, T_AFTER, T_UNUSUAL, NULL};

const struct mm_detector_def mm_det_hostauth = {
	.name = "hostauth",
	.kinds = MM_KIND_BIT(MM_EV_HOST),
	.state_version = 3,
	.state_version_min = 1,
	.state_packed = 1,
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
