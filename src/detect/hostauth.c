/* hostauth.c - SSH brute force against a host, and a login that
 * succeeded from an address that was brute-forcing it, from the
 * auth/secure log (parse/syslog.h):
 *   UnauthorizedAccess:Runtime/SSHBruteForce            (Low, TARGET)
 *   InitialAccess:Runtime/SuccessfulLoginAfterBruteForce (High)
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
 * Which sshd lines count as one attempt: "Failed <method> for <user>"
 * (a valid user), "Invalid user" (the invalid user's attempt; its own
 * "Failed ... for invalid user" line is the same attempt and is not
 * counted again) and the preauth "Connection closed / Disconnected"
 * lines (a key-only bot leaves nothing else). pam_unix's
 * "authentication failure" repeats the Failed line and is not counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"
#include "detect/detect.h"

#define T_BRUTE "UnauthorizedAccess:Runtime/SSHBruteForce"
#define T_AFTER "InitialAccess:Runtime/SuccessfulLoginAfterBruteForce"

#define MAX_KEYS 65536
#define MAX_FAILS 4096
#define MAX_OK 16

enum { P_MIN_FAILS, P_WINDOW, P_AFTER_WINDOW };

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
	struct ok_login ok[MAX_OK];
	uint8_t nok;
	char last_user[32];
};

struct state {
	struct key **keys;		/* open addressing, power of two */
	size_t nkeys, cap;
	uint64_t keys_dropped;
};

static void *state_new(void)
{
	struct state *s = mm_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = 64;
	s->keys = mm_calloc(s->cap, sizeof(*s->keys));
	if (!s->keys) {
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
	mm_free(s);
}

static uint64_t key_hash(const char *entity, const struct mm_ip *ip)
{
	return mm_hash(entity, strlen(entity), mm_hash(ip, sizeof(*ip), 0x55));
}

static int grow(struct state *s)
{
	size_t ncap = s->cap * 2, i;
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
		if (h->user.n)
			mm_str_copy(k->last_user, sizeof(k->last_user), h->user);
	} else {
		struct ok_login o;
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
		if (sk->last_user[0] && !dk->last_user[0])
			memcpy(dk->last_user, sk->last_user, sizeof(dk->last_user));
	}
	d->keys_dropped += s->keys_dropped;
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

	if (k->nfails < need || need == 0)
		return;
	qsort(k->fails, k->nfails, sizeof(*k->fails), cmp_ref);
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
	if (best < need)
		return;
	total = k->nfails + k->dropped;
	bf_first = k->fails[0].time_ms;
	bf_last = k->fails[k->nfails - 1].time_ms;
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
			fill(f, k, k->last_user);
			mm_finding_info_clear(f);
			mm_finding_info_num(f, "failedAttempts", (double)total);
			mm_finding_info_num(f, "peakAttemptsInWindow", (double)best);
		}
	}
	for (m = 0; m < k->nok; m++) {
		struct ok_login *o = &k->ok[m];
		struct mm_evref refs[2];
		if (o->reported || o->ref.time_ms < k->fails[best_lo].time_ms ||
		    o->ref.time_ms > bf_last + after)
			continue;
		refs[0] = k->fails[best_hi];
		refs[1] = o->ref;
		f = mm_emit_refs(c, T_AFTER, mm_str_c(""), mm_str_c(k->entity), disc, refs, 2,
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

static void finish(void *state, struct mm_detect_ctx *c)
{
	struct state *s = state;
	size_t i;
	for (i = 0; i < s->cap; i++)
		if (s->keys[i])
			finish_key(s->keys[i], c);
}

static const char *const types[] = {T_BRUTE, T_AFTER, NULL};

const struct mm_detector_def mm_det_hostauth = {
	.name = "hostauth",
	.kinds = MM_KIND_BIT(MM_EV_HOST),
	.types = types,
	.params = params,
	.state_new = state_new,
	.state_free = state_free,
	.on_event = on_event,
	.merge = merge,
	.finish = finish,
};
