/* sequence.c - AttackSequence:IAM/CompromisedCredentials: the findings
 * and API calls of one principal chain into an attack story.
 *
 * GuardDuty's Extended Threat Detection correlates, per principal and
 * over a 24-hour rolling window, its own findings with "weak signals"
 * (API calls that are harmless alone) and raises one Critical finding
 * whose service.detection.sequence lists them. We do the same with what
 * mamori sees:
 *
 *   signals  CloudTrail calls of the principal, classified by the shared
 *            table detect/apitactic.h (discovery, persistence, ...),
 *            counted per (API, window-sized time bucket) in on_event;
 *   members  the findings other detectors raised on the principal in
 *            the batch, read from the batch's finding table in finish
 *            (mm_agg_count/mm_agg_read) and remembered in this state, so a
 *            member of an earlier scan still counts (two scans = one).
 *
 * A member's stage is its type's ThreatPurpose (the word before ':'):
 * UnauthorizedAccess/InitialAccess/PenTest -> initial access (and the
 * caller-based Recon:IAMUser/...IPCaller types too: what they show is who
 * holds the key, not what it did - the API signals tell that),
 * Recon/Discovery -> discovery, Stealth/DefenseEvasion -> defence evasion,
 * Persistence, PrivilegeEscalation, CredentialAccess, Exfiltration and
 * Impact as named. Policy types (root use, S3 public access settings)
 * are not members: an administrator's routine work raises them.
 *
 * The rule, for one principal, in some window of window_hours: one
 * harmful stage (anything past initial access and discovery) is there,
 * and either the findings alone cover min_finding_stages distinct
 * stages past initial access, or the findings and signals together cover min_stages distinct
 * stages and one finding is at least anchor_severity (see
 * docs/finding-types.md for why). Signals alone never fire: GuardDuty
 * calls them weak.
 *
 * The principal is CloudTrail's userIdentity.principalId within the
 * account (recipientAccountId, else the caller's): stable for an IAM
 * user across its access keys (AIDA...), and for a role session
 * "AROA...:<session name>" across the temporary keys (ASIA...) the
 * session renews - the session name is the instance id for an instance
 * role, the person for SSO. Findings are mapped to it by their own
 * principal_id (set from the records behind them, mm_finding_set_api),
 * never by the access key, which changes per STS session.
 *
 * Engine contract relied on: the pipeline calls each detector's finish
 * in registry order on the batch's one finding table (engine/pipeline.c,
 * mm_pipeline_flush), so this detector, registered last, sees what every
 * other detector emitted in the batch, including from their finish.
 * Findings spilled to the store during a very large batch (the table's
 * cap, 50 000) are read just before they leave (on_spill).
 *
 * Bounds: SEQ_MAX_SIGS API buckets and SEQ_MAX_MEMBERS findings per
 * principal (the oldest give way), SEQ_MAX_PRINCIPALS principals (new
 * ones are not tracked past it), items older than retention_days before
 * the principal's newest are forgotten. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/intern.h"
#include "core/mem.h"
#include "detect/apitactic.h"
#include "detect/blob.h"
#include "detect/detect.h"

#define TYPE "AttackSequence:IAM/CompromisedCredentials"

#define SEQ_MAX_SIGS 128
#define SEQ_MAX_MEMBERS 16
#define SEQ_MAX_PRINCIPALS 100000
#define SEQ_IPS 4	/* source addresses kept per signal and per member */
#define NSHARDS 16
#define BLOB_MAX ((size_t)32 << 20)
#define REF_MAX 1024	/* a stored evidence file name */
#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)

enum { P_WINDOW, P_MIN_STAGES, P_MIN_FSTAGES, P_ANCHOR, P_RETENTION };

/* the calls of one API in one window-sized bucket */
struct sig {
	const char *name;	/* "iam:ListUsers": eventSource's first label and
				 * eventName, interned (lives for the process) */
	uint64_t kh;		/* name_hash() of the two */
	uint8_t tactic;
	uint64_t rcount;	/* its count when a sequence finding last
				 * showed it; 0: not yet in one */
	int64_t bucket;		/* time / window */
	uint64_t count;
	int64_t first, last;
	struct mm_evref ref;	/* the earliest record */
	uint8_t nip;
	uint64_t iph[SEQ_IPS];	/* its source addresses: the smallest hashes */
};

/* a finding on the principal */
struct mem {
	char id[33];
	char type[96];
	uint8_t tactic, sev10;
	uint64_t rcount;	/* as struct sig's */
	uint64_t count;
	int64_t first, last;
	struct mm_evref ref, lref;	/* earliest and latest record */
	uint8_t nip;
	uint64_t iph[SEQ_IPS];	/* the addresses it was seen from */
};

struct prin {
	uint64_t h;
	char acct[16];
	char pid[128];
	uint8_t dirty;		/* touched since the last finish */
	uint8_t alen, plen;	/* of acct and pid */
	int nsig, capsig, nmem, capmem;
	struct sig *sig;
	uint64_t *sk;		/* sig_key() of each signal: the search reads
				 * 8 bytes a signal, not a signal's cache lines */
	struct mem *mem;	/* capmem, grown as members come (1, 2, 4... up to
				 * SEQ_MAX_MEMBERS of 272 bytes: most principals
				 * with members have one or two) */
	/* details for the finding, from the latest member */
	int64_t ctx_ms;
	char ctx_id[33];
	char uname[64], utype[24], cred[24], region[24];
	struct mm_ip ip;
	uint8_t has_ip;
};

struct state {
	struct prin **v;
	size_t n, cap;
	uint32_t *slots;	/* index + 1; 0 = empty */
	size_t nslots;		/* power of two, > 2n */
	uint64_t dropped;	/* principals not tracked: the cap */
};

/* ---- table ---------------------------------------------------------------- */

static uint64_t key_hash(const char *acct, size_t an, const char *pid, size_t pn)
{
	return mm_hash(pid, pn, mm_hash(acct, an, 0x5e9));
}

/* Rebuild the index into nslots slots (a power of two above 2n); the
 * same size rebuilds in place, so it cannot fail. */
static int reindex(struct state *s, size_t nslots)
{
	uint32_t *ns = s->slots;
	size_t i;
	if (nslots != s->nslots && !(ns = mm_calloc(nslots, sizeof(*ns))))
		return MM_ENOMEM;
	if (ns == s->slots)
		memset(ns, 0, nslots * sizeof(*ns));
	for (i = 0; i < s->n; i++) {
		size_t j = s->v[i]->h & (nslots - 1);
		while (ns[j])
			j = (j + 1) & (nslots - 1);
		ns[j] = (uint32_t)(i + 1);
	}
	if (ns != s->slots)
		mm_free(s->slots);
	s->slots = ns;
	s->nslots = nslots;
	return 0;
}

/* Put p (absent from s, under s's cap) into s; j is the empty slot its
 * lookup ended on. 0, or MM_ENOMEM. */
static int prin_put(struct state *s, struct prin *p, size_t j)
{
	if ((s->n + 1) * 2 > s->nslots) {
		if (reindex(s, s->nslots * 2))
			return MM_ENOMEM;
		for (j = p->h & (s->nslots - 1); s->slots[j]; j = (j + 1) & (s->nslots - 1))
			;
	}
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct prin **nv = mm_realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return MM_ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n] = p;
	s->slots[j] = (uint32_t)(s->n + 1);
	s->n++;
	return 0;
}

/* The principal (acct, pid), created when create is set; NULL when not
 * found, at the cap or out of memory. */
static struct prin *prin_get(struct state *s, const char *acct, size_t an, const char *pid,
			     size_t pn, int create)
{
	uint64_t h = key_hash(acct, an, pid, pn);
	size_t j;
	struct prin *p;

	if (an >= sizeof(p->acct) || pn >= sizeof(p->pid) || !pn)
		return NULL;
	for (j = h & (s->nslots - 1); s->slots[j]; j = (j + 1) & (s->nslots - 1)) {
		p = s->v[s->slots[j] - 1];
		if (p->h == h && p->alen == an && p->plen == pn && !memcmp(p->pid, pid, pn) &&
		    !memcmp(p->acct, acct, an))
			return p;
	}
	if (!create)
		return NULL;
	if (s->n >= SEQ_MAX_PRINCIPALS) {
		s->dropped++;
		return NULL;
	}
	if (!(p = mm_calloc(1, sizeof(*p))))
		return NULL;
	p->h = h;
	memcpy(p->acct, acct, an);
	memcpy(p->pid, pid, pn);
	p->alen = (uint8_t)an;
	p->plen = (uint8_t)pn;
	if (prin_put(s, p, j)) {
		mm_free(p);
		return NULL;
	}
	return p;
}

static void *state_new(void)
{
	struct state *s = mm_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->nslots = 64;
	if (!(s->slots = mm_calloc(s->nslots, sizeof(*s->slots)))) {
		mm_free(s);
		return NULL;
	}
	return s;
}

static void prin_free(struct prin *p)
{
	if (!p)
		return;
	mm_free(p->sig);
	mm_free(p->sk);
	mm_free(p->mem);
	mm_free(p);
}

static void state_free(void *st)
{
	struct state *s = st;
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		prin_free(s->v[i]);
	mm_free(s->v);
	mm_free(s->slots);
	mm_free(s);
}

/* ---- items ---------------------------------------------------------------- */

/* Add address hash h to the set iph[0..*n): the SEQ_IPS smallest
 * distinct hashes, sorted - a bottom-k sketch, the same whatever order
 * addresses come in, merged exactly. */
static void ips_add(uint64_t *iph, uint8_t *n, uint64_t h)
{
	int i, j;
	for (i = 0; i < *n && iph[i] < h; i++)
		;
	if (i < *n && iph[i] == h)
		return;
	if (i == SEQ_IPS)
		return;
	j = *n < SEQ_IPS ? *n : SEQ_IPS - 1;
	for (; j > i; j--)
		iph[j] = iph[j - 1];
	iph[i] = h;
	if (*n < SEQ_IPS)
		(*n)++;
}

/* The key hash of a signal's (service, API). */
static uint64_t name_hash(const char *svc, size_t sn, const char *api, size_t an)
{
	return mm_hash(api, an, mm_hash(svc, sn, 0x5e9));
}

/* The hash of a source address (no address: the AWS-internal caller). */
static uint64_t ip_hash(const struct mm_ip *ip, int has)
{
	return has ? mm_hash(ip, sizeof(*ip), 0x1d) : 1;
}

/* Is item time range a (its last, then name) older than b's? The order
 * in which full lists give way. */
static int sig_older(const struct sig *a, const struct sig *b)
{
	if (a->last != b->last)
		return a->last < b->last;
	return strcmp(a->name, b->name) < 0;
}

/* Are a and b the same stage (tactic) in the same window (bucket)? */
static int same_stage(const struct sig *a, const struct sig *b)
{
	return a->tactic == b->tactic && a->bucket == b->bucket;
}

/* The addresses of src join dst's (what links a signal to findings). */
static void ips_join(struct sig *dst, const struct sig *src)
{
	int k;
	for (k = 0; k < src->nip; k++)
		ips_add(dst->iph, &dst->nip, src->iph[k]);
}

/* Is the interned name "svc:api"? */
static int name_is(const char *name, struct mm_str svc, struct mm_str api)
{
	return !memcmp(name, svc.p, svc.n) && name[svc.n] == ':' &&
	       !memcmp(name + svc.n + 1, api.p, api.n) && name[svc.n + 1 + api.n] == '\0';
}

static uint64_t sig_key(int64_t bucket, uint64_t kh)
{
	return kh ^ (uint64_t)bucket * 0x9e3779b97f4a7c15ULL;
}

static void sig_put(struct prin *p, int i, const struct sig *q)
{
	p->sig[i] = *q;
	p->sk[i] = sig_key(q->bucket, q->kh);
}

/* The signal of (bucket, kh) whose name is svc:api (interned, or NULL:
 * compared as text), or -1. From the end: the latest buckets are there. */
static int sig_find(const struct prin *p, int64_t bucket, uint64_t kh, const char *iname,
		    struct mm_str svc, struct mm_str api)
{
	uint64_t k = sig_key(bucket, kh);
	int i;
	for (i = p->nsig - 1; i >= 0; i--) {
		const struct sig *g;
		if (p->sk[i] != k)
			continue;
		g = &p->sig[i];
		if (g->bucket != bucket || g->kh != kh)
			continue;
		/* names are interned: equal strings are one pointer */
		if (iname ? g->name == iname : name_is(g->name, svc, api))
			return i;
	}
	return -1;
}

/* Add q (one API bucket) into p: counts add, times widen; a full list
 * gives way by redundancy, then age (below). */
static void sig_add(struct prin *p, const struct sig *q)
{
	struct sig *g;
	int i, old = 0;

	if ((i = sig_find(p, q->bucket, q->kh, q->name, mm_str_make(NULL, 0),
			  mm_str_make(NULL, 0))) >= 0) {
		g = &p->sig[i];
		g->count += q->count;
		if (q->first < g->first)
			g->first = q->first;
		if (q->last > g->last)
			g->last = q->last;
		if (mm_evref_before(&q->ref, &g->ref))
			g->ref = q->ref;
		if (q->rcount > g->rcount)
			g->rcount = q->rcount;
		for (i = 0; i < q->nip; i++)
			ips_add(g->iph, &g->nip, q->iph[i]);
		return;
	}
	if (p->nsig == p->capsig && p->capsig < SEQ_MAX_SIGS) {
		int nc = p->capsig ? p->capsig * 2 : 4;
		struct sig *ns = mm_realloc(p->sig, (size_t)nc * sizeof(*ns));
		uint64_t *nk;
		if (ns)
			p->sig = ns;
		if (ns && (nk = mm_realloc(p->sk, (size_t)nc * sizeof(*nk)))) {
			p->sk = nk;
			p->capsig = nc;
		}
	}
	if (p->nsig < p->capsig) {
		sig_put(p, p->nsig++, q);
		return;
	}
	if (!p->nsig)
		return;
	/* Full. What the rule reads of a signal is its stage (tactic), its
	 * window (bucket) and the addresses it links to findings by, so the
	 * one to lose first is a signal whose stage and window another also
	 * holds (the oldest such, q included), and its addresses join that
	 * other's. A principal's daily routine of Describe and List calls
	 * then takes one slot a day, and a long batch (a month of
	 * CloudTrail in one scan) keeps the early days' stages, linked as
	 * they were, until finish judges them. Only when every entry is a
	 * stage and window of its own does the oldest give way. */
	{
		int victim = -1, vcov = -2, qcov = -1, j;	/* vcov -1: q */
		for (i = 0; i < p->nsig; i++) {
			const struct sig *a = &p->sig[i];
			int cov = same_stage(a, q) ? -1 : -2;
			if (cov == -1 && qcov < 0)
				qcov = i;
			for (j = 0; j < p->nsig && cov == -2; j++)
				if (j != i && same_stage(&p->sig[j], a))
					cov = j;
			if (cov != -2 && (victim < 0 || sig_older(a, &p->sig[victim]))) {
				victim = i;
				vcov = cov;
			}
		}
		if (qcov >= 0 && (victim < 0 || sig_older(q, &p->sig[victim]))) {
			ips_join(&p->sig[qcov], q); /* q is the oldest such */
			return;
		}
		if (victim >= 0) {
			struct sig gone = p->sig[victim];
			sig_put(p, victim, q);
			ips_join(vcov == -1 ? &p->sig[victim] : &p->sig[vcov], &gone);
			return;
		}
	}
	for (i = 1; i < p->nsig; i++)
		if (sig_older(&p->sig[i], &p->sig[old]))
			old = i;
	if (sig_older(&p->sig[old], q))
		sig_put(p, old, q);
}

static int mem_older(const struct mem *a, const struct mem *b)
{
	if (a->last != b->last)
		return a->last < b->last;
	return strcmp(a->id, b->id) < 0;
}

/* A community Sigma rule of level low or informational (severity below
 * Medium) is not a member: such rules say "notable, rarely an incident"
 * ("AWS STS AssumeRole Misuse" matches every call of every role
 * session), so they make no stage of a story; the call itself is still a
 * signal when the API table gives it a tactic. mem_add refuses them, so
 * none is kept, also from the state an older build saved. */
static int weak_member(const char *type, double severity)
{
	static const char suffix[] = "/SigmaRule";
	size_t n = strlen(type);
	return severity < 5 && n >= sizeof(suffix) - 1 &&
	       memcmp(type + n - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1) == 0;
}

/* Add member q into p (same id: counts add, times widen). */
static void mem_add(struct prin *p, const struct mem *q)
{
	struct mem *m;
	int i, old = 0;

	if (weak_member(q->type, q->sev10 / 10.0))
		return;
	for (i = 0; i < p->nmem; i++) {
		m = &p->mem[i];
		if (!strcmp(m->id, q->id)) {
			m->count += q->count;
			if (q->first < m->first)
				m->first = q->first;
			if (q->last > m->last)
				m->last = q->last;
			if (mm_evref_before(&q->ref, &m->ref))
				m->ref = q->ref;
			if (mm_evref_before(&m->lref, &q->lref))
				m->lref = q->lref;
			if (q->sev10 > m->sev10)
				m->sev10 = q->sev10;
			if (q->rcount > m->rcount)
				m->rcount = q->rcount;
			for (i = 0; i < q->nip; i++)
				ips_add(m->iph, &m->nip, q->iph[i]);
			return;
		}
	}
	if (p->nmem < SEQ_MAX_MEMBERS) {
		if (p->nmem == p->capmem) {
			int nc = p->capmem ? p->capmem * 2 : 1;
			struct mem *nm;
			if (nc > SEQ_MAX_MEMBERS)
				nc = SEQ_MAX_MEMBERS;
			if (!(nm = mm_realloc(p->mem, (size_t)nc * sizeof(*nm))))
				return;
			p->mem = nm;
			p->capmem = nc;
		}
		p->mem[p->nmem++] = *q;
		return;
	}
	for (i = 1; i < p->nmem; i++)
		if (mem_older(&p->mem[i], &p->mem[old]))
			old = i;
	if (mem_older(&p->mem[old], q))
		p->mem[old] = *q;
}

/* The finding details of the member at (t, id) when it is the latest. */
static int ctx_later(const struct prin *p, int64_t t, const char *id)
{
	return t > p->ctx_ms || (t == p->ctx_ms && strcmp(id, p->ctx_id) > 0);
}

static void ctx_take(struct prin *dst, const struct prin *src)
{
	dst->ctx_ms = src->ctx_ms;
	memcpy(dst->ctx_id, src->ctx_id, sizeof(dst->ctx_id));
	memcpy(dst->uname, src->uname, sizeof(dst->uname));
	memcpy(dst->utype, src->utype, sizeof(dst->utype));
	memcpy(dst->cred, src->cred, sizeof(dst->cred));
	memcpy(dst->region, src->region, sizeof(dst->region));
	dst->ip = src->ip;
	dst->has_ip = src->has_ip;
}

/* Merge principal q into s (exact: adds, widens, ORs). */
static int prin_merge(struct state *s, const struct prin *q)
{
	struct prin *p = prin_get(s, q->acct, strlen(q->acct), q->pid, strlen(q->pid), 1);
	int i;

	if (!p)
		return s->n >= SEQ_MAX_PRINCIPALS ? 0 : MM_ENOMEM;
	for (i = 0; i < q->nsig; i++)
		sig_add(p, &q->sig[i]);
	for (i = 0; i < q->nmem; i++)
		mem_add(p, &q->mem[i]);
	if (q->ctx_id[0] && ctx_later(p, q->ctx_ms, q->ctx_id))
		ctx_take(p, q);
	p->dirty |= q->dirty;
	return 0;
}

/* ---- events --------------------------------------------------------------- */

static void on_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	struct state *s = st;
	const struct mm_api *a = &ev->u.api;
	struct mm_str acct, svc = a->event_source;
	enum mm_tactic t;
	struct prin *p;
	struct sig q;
	int64_t w;
	const char *dot;
	uint64_t iph, kh;
	int64_t b;
	char name[80];
	int i;

	if (!a->who.principal_id.n || !a->event_name.n || a->time_ms <= 0)
		return;
	t = mm_api_tactic(a->event_source, a->event_name, a->read_only);
	if (t == MM_TAC_NONE)
		return;
	acct = a->account.n ? a->account : a->who.account_id;
	p = prin_get(s, acct.p, acct.n, a->who.principal_id.p, a->who.principal_id.n, 1);
	if (!p)
		return;
	p->dirty = 1;
	w = (int64_t)(c->params[P_WINDOW] * HOUR_MS);
	if (w <= 0)
		w = DAY_MS;
	if ((dot = memchr(svc.p, '.', svc.n)))
		svc.n = (size_t)(dot - svc.p);
	iph = ip_hash(&a->source_ip, a->has_source_ip);
	kh = name_hash(svc.p, svc.n, a->event_name.p, a->event_name.n);
	b = a->time_ms / w;
	/* the common case: a bucket we have, found by hash without copying */
	if ((i = sig_find(p, b, kh, NULL, svc, a->event_name)) >= 0) {
		struct sig *g = &p->sig[i];
		struct mm_evref r;
		g->count++;
		if (a->time_ms < g->first)
			g->first = a->time_ms;
		if (a->time_ms > g->last)
			g->last = a->time_ms;
		if (a->time_ms <= g->ref.time_ms) {
			mm_evref_take(&r, c, ev, a->time_ms);
			if (mm_evref_before(&r, &g->ref))
				g->ref = r;
		}
		ips_add(g->iph, &g->nip, iph);
		return;
	}
	/* a new (API, bucket): name it once */
	if (svc.n > 23 || a->event_name.n > 47)
		return; /* longer than any AWS service or API name */
	memset(&q, 0, sizeof(q));
	snprintf(name, sizeof(name), "%.*s:%.*s", (int)svc.n, svc.p, (int)a->event_name.n,
		 a->event_name.p);
	q.name = mm_intern(name, strlen(name));
	q.kh = kh;
	q.tactic = (uint8_t)t;
	q.bucket = b;
	q.count = 1;
	q.first = q.last = a->time_ms;
	mm_evref_take(&q.ref, c, ev, a->time_ms);
	ips_add(q.iph, &q.nip, iph);
	sig_add(p, &q);
}

/* Each of src's principals leaves it as it is merged: moved whole when
 * dst has none of that key (merging it into a new one makes the same),
 * else merged and freed at once, so the merge's peak is not both
 * states in full plus the growth. */
static int merge(void *dst, void *src)
{
	struct state *d = dst, *s = src;
	size_t i;
	int rc = 0;
	for (i = 0; i < s->n && !rc; i++) {
		struct prin *q = s->v[i];
		uint64_t h = q->h;
		size_t j;
		int found = 0;
		for (j = h & (d->nslots - 1); d->slots[j]; j = (j + 1) & (d->nslots - 1)) {
			const struct prin *p = d->v[d->slots[j] - 1];
			if (p->h == h && p->alen == q->alen && p->plen == q->plen &&
			    !memcmp(p->pid, q->pid, q->plen) && !memcmp(p->acct, q->acct, q->alen)) {
				found = 1;
				break;
			}
		}
		if (!found && d->n < SEQ_MAX_PRINCIPALS) {
			if ((rc = prin_put(d, q, j)))
				break;
		} else {
			rc = prin_merge(d, q);
			prin_free(q);
		}
		s->v[i] = NULL;
	}
	/* src keeps what was not merged (after a failure), indexed again */
	{
		size_t k = 0;
		for (i = 0; i < s->n; i++)
			if (s->v[i])
				s->v[k++] = s->v[i];
		s->n = k;
		if (reindex(s, s->nslots) && !rc)
			rc = MM_ENOMEM;
	}
	d->dropped += s->dropped;
	return rc;
}

/* ---- members -------------------------------------------------------------- */

/* The stage a finding type stands for (see the top), or MM_TAC_NONE. */
static enum mm_tactic type_tactic(const char *type)
{
	static const struct {
		const char *purpose;
		enum mm_tactic t;
	} map[] = {
		{"UnauthorizedAccess", MM_TAC_INITIAL_ACCESS},
		{"InitialAccess", MM_TAC_INITIAL_ACCESS},
		{"PenTest", MM_TAC_INITIAL_ACCESS},
		{"Recon", MM_TAC_DISCOVERY},
		{"Discovery", MM_TAC_DISCOVERY},
		{"Stealth", MM_TAC_DEFENSE_EVASION},
		{"DefenseEvasion", MM_TAC_DEFENSE_EVASION},
		{"Persistence", MM_TAC_PERSISTENCE},
		{"PrivilegeEscalation", MM_TAC_PRIVILEGE_ESCALATION},
		{"CredentialAccess", MM_TAC_CREDENTIAL_ACCESS},
		{"Exfiltration", MM_TAC_EXFILTRATION},
		{"Impact", MM_TAC_IMPACT},
	};
	const char *colon = strchr(type, ':');
	size_t i, n;

	if (!colon)
		return MM_TAC_NONE;
	n = (size_t)(colon - type);
	for (i = 0; i < MM_ARRAY_LEN(map); i++)
		if (strlen(map[i].purpose) == n && !memcmp(type, map[i].purpose, n)) {
			/* a known-bad caller: the key is in other hands */
			if (map[i].t == MM_TAC_DISCOVERY && strstr(colon, "IPCaller"))
				return MM_TAC_INITIAL_ACCESS;
			return map[i].t;
		}
	return MM_TAC_NONE;
}

static int is_hex_id(const char *id)
{
	size_t i;
	for (i = 0; i < 32; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return id[32] == '\0';
}

static void ref_of(struct mm_evref *r, const char *file, uint64_t line, uint64_t off, int64_t t)
{
	r->file = mm_intern(file ? file : "", file ? strlen(file) : 0);
	r->line = line;
	r->offset = off;
	r->time_ms = t;
}

/* Record the batch's findings on principals (AccessKey or S3Bucket with
 * a principal) as members. */
static void take_members(struct state *s, struct mm_detect_ctx *c)
{
	size_t i, n = mm_agg_count(c->agg);
	struct mm_finding idf;
	const char *id;

	for (i = 0; i < n; i++) {
		/* a copy: the table keeps its findings packed (finding/agg.h),
		 * and opening every one would unpack them all at once */
		const struct mm_finding *f = &idf;
		struct prin *p;
		struct mem m;
		enum mm_tactic t;

		if (mm_agg_read(c->agg, i, &idf) || f->archived < 0 || !f->principal_id[0] ||
		    (f->res_type != MM_RES_ACCESSKEY && f->res_type != MM_RES_S3BUCKET))
			continue;
		/* (mem_add refuses a weak member too; refused here, it does not
		 * make a principal) */
		if ((t = type_tactic(f->type)) == MM_TAC_NONE ||
		    weak_member(f->type, f->severity))
			continue;
		/* ids are made when the flush writes: the same function of
		 * the key, on the copy (the table is not ours to change) */
		if (!f->id[0])
			mm_finding_make_id(&idf);
		id = f->id;
		p = prin_get(s, f->account, strlen(f->account), f->principal_id,
			     strlen(f->principal_id), 1);
		if (!p)
			continue;
		memset(&m, 0, sizeof(m));
		snprintf(m.id, sizeof(m.id), "%s", id);
		snprintf(m.type, sizeof(m.type), "%s", f->type);
		m.tactic = (uint8_t)t;
		m.sev10 = (uint8_t)(f->severity < 0 ? 0 : f->severity > 25 ? 250 : f->severity * 10 + 0.5);
		m.count = f->count ? f->count : 1;
		m.first = f->first_seen_ms;
		m.last = f->last_seen_ms;
		if (f->nevidence > 0)
			ref_of(&m.ref, f->ev[0].file, f->ev[0].line, f->ev[0].offset, f->ev[0].time_ms);
		else
			ref_of(&m.ref, NULL, 0, 0, m.first);
		ref_of(&m.lref, f->detail_file, f->detail_line, 0, m.last);
		ips_add(m.iph, &m.nip, ip_hash(&f->remote_ip, f->has_remote_ip));
		mem_add(p, &m);
		p->dirty = 1;
		if (ctx_later(p, m.last, m.id)) {
			p->ctx_ms = m.last;
			memcpy(p->ctx_id, m.id, sizeof(p->ctx_id));
			snprintf(p->uname, sizeof(p->uname), "%s", f->user_name);
			snprintf(p->utype, sizeof(p->utype), "%s", f->user_type);
			snprintf(p->cred, sizeof(p->cred), "%s", f->access_key_id);
			snprintf(p->region, sizeof(p->region), "%s", f->region);
			p->ip = f->remote_ip;
			p->has_ip = f->has_remote_ip;
		}
	}
}

/* A spill mid-batch takes findings out of the table before finish: read
 * them now (into this worker's state; merged at the flush, by id, so a
 * finding seen in parts - before and after a spill - adds up exactly). */
static void on_spill(void *st, struct mm_detect_ctx *c)
{
	take_members(st, c);
}

/* ---- the rule ------------------------------------------------------------- */

/* One item of the story: a member or a signal, seen through one view. */
struct item {
	int64_t first, last;
	uint8_t tactic, is_mem, sev10;
	uint64_t count, *rcount;
	int qualified;
	const struct mm_evref *ref, *lref;
	const void *src;
};

/* the stages past access and discovery */
#define HARM (~((1u << MM_TAC_NONE) | (1u << MM_TAC_INITIAL_ACCESS) | (1u << MM_TAC_DISCOVERY)))

static int popcount(unsigned m)
{
	int n = 0;
	for (; m; m &= m - 1)
		n++;
	return n;
}

/* Do two references name one record? (Neither is before the other.) */
static int same_record(const struct mm_evref *a, const struct mm_evref *b)
{
	return !mm_evref_before(a, b) && !mm_evref_before(b, a);
}

/* The records behind the items of one window and the stages each shows. */
struct calls {
	const struct mm_evref *rec[2 * (SEQ_MAX_SIGS + SEQ_MAX_MEMBERS)];
	unsigned tac[2 * (SEQ_MAX_SIGS + SEQ_MAX_MEMBERS)];
	int n;
	int owner[MM_TAC__N];	/* the record a stage is given to; -1 none */
};

static void calls_add(struct calls *k, const struct mm_evref *r, unsigned tactic)
{
	int i;
	for (i = 0; i < k->n; i++)
		if (same_record(k->rec[i], r))
			break;
	if (i == k->n) {
		k->rec[k->n] = r;
		k->tac[k->n++] = 0;
	}
	k->tac[i] |= 1u << tactic;
}

/* Give record r a stage of its own, moving others' stages along (one
 * augmenting path of a bipartite matching). */
static int calls_give(struct calls *k, int r, unsigned *seen)
{
	int t;
	for (t = 0; t < MM_TAC__N; t++) {
		if (!(k->tac[r] & ~*seen & (1u << t)))
			continue;
		*seen |= 1u << t;
		if (k->owner[t] < 0 || calls_give(k, k->owner[t], seen)) {
			k->owner[t] = r;
			return 1;
		}
	}
	return 0;
}

/* How many distinct stages the items in [t, t+w] show when one record
 * counts for one stage, however many findings and rules it raised (one
 * failed console login matching two Sigma rules of two tactics is one
 * call, not a story); stops at need. members: only the findings past
 * initial access (the findings-only rule). A record is known by the
 * item's earliest reference, and by its latest when it counts more
 * than one; the other records of a signal counted twice are not known,
 * so this can only undercount them. */
static int stages_by_call(const struct item *it, int n, int64_t t, int64_t w, int members,
			  int need)
{
	struct calls k;
	int i, got = 0;

	k.n = 0;
	for (i = 0; i < n; i++) {
		if (it[i].first > t + w || it[i].last < t)
			continue;
		if (members && (!it[i].is_mem || it[i].tactic == MM_TAC_INITIAL_ACCESS))
			continue;
		calls_add(&k, it[i].ref, it[i].tactic);
		if (it[i].is_mem && it[i].count > 1 && !same_record(it[i].ref, it[i].lref))
			calls_add(&k, it[i].lref, it[i].tactic);
	}
	for (i = 0; i < MM_TAC__N; i++)
		k.owner[i] = -1;
	for (i = 0; i < k.n && got < need; i++) {
		unsigned seen = 0;
		got += calls_give(&k, i, &seen);
	}
	return got;
}

/* Mark every item that lies in a window of w ms in which the rule holds;
 * returns how many are marked. A window [t, t+w] holds the items with
 * first <= t+w and last >= t; the windows worth trying start at an
 * item's last time (moving a window's start up to the smallest last of
 * what it holds loses nothing), so n windows are tried. */
static int qualify(struct item *it, int n, int64_t w, const double *params)
{
	int i, j, marked = 0;
	int min_stages = (int)params[P_MIN_STAGES], min_fst = (int)params[P_MIN_FSTAGES];
	int anchor10 = (int)(params[P_ANCHOR] * 10 + 0.5);

	for (i = 0; i < n; i++) {
		int64_t t = it[i].last;
		unsigned all = 0, fnd = 0;
		int anchored = 0;
		for (j = 0; j < n; j++) {
			if (it[j].first > t + w || it[j].last < t)
				continue;
			all |= 1u << it[j].tactic;
			if (it[j].is_mem) {
				/* initial access says who holds the key (a listed
				 * or Tor caller, a pentest tool, a new place), not
				 * what was done: it does not make a findings-only
				 * story (one listed StopLogging is two findings
				 * of one call) */
				if (it[j].tactic != MM_TAC_INITIAL_ACCESS)
					fnd |= 1u << it[j].tactic;
				anchored |= it[j].sev10 >= anchor10;
			}
		}
		/* a story ends in harm: looking around from a bad place is
		 * two stages (access, discovery) and no more */
		if (!(all & HARM) ||
		    (popcount(fnd) < min_fst && (popcount(all) < min_stages || !anchored)))
			continue;
		/* the stages must come from as many calls */
		if (!(popcount(fnd) >= min_fst && stages_by_call(it, n, t, w, 1, min_fst) >= min_fst) &&
		    !(popcount(all) >= min_stages && anchored &&
		      stages_by_call(it, n, t, w, 0, min_stages) >= min_stages))
			continue;
		for (j = 0; j < n; j++)
			if (!it[j].qualified && it[j].first <= t + w && it[j].last >= t) {
				it[j].qualified = 1;
				marked++;
			}
	}
	return marked;
}

/* Order of the signals shown: by first time, then members first, then
 * by name. */
static int item_cmp(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	const char *na, *nb;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->is_mem != b->is_mem)
		return a->is_mem ? -1 : 1;
	na = a->is_mem ? ((const struct mem *)a->src)->id : ((const struct sig *)a->src)->name;
	nb = b->is_mem ? ((const struct mem *)b->src)->id : ((const struct sig *)b->src)->name;
	return strcmp(na, nb);
}

/* Fill f's sequence from the qualified items it[0..n) (sorted by time):
 * every member, then one signal per stage not shown yet, then the
 * earliest of the rest, up to MM_SEQ_SIGNALS_MAX, kept in time order. */
static void fill_seq(struct mm_finding *f, const struct prin *p, const struct item *it, int n)
{
	uint8_t pick[SEQ_MAX_SIGS + SEQ_MAX_MEMBERS];
	unsigned shown = 0;
	int i, k = 0, pass;

	memset(pick, 0, sizeof(pick));
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < n && k < MM_SEQ_SIGNALS_MAX; i++) {
			if (pick[i] || !it[i].qualified)
				continue;
			if (pass == 0 && !it[i].is_mem)
				continue;
			if (pass == 1 && (shown & (1u << it[i].tactic)))
				continue;
			pick[i] = 1;
			shown |= 1u << it[i].tactic;
			k++;
		}
	memset(&f->seq, 0, sizeof(f->seq));
	snprintf(f->seq.cred, sizeof(f->seq.cred), "%s", p->cred);
	for (i = 0; i < n; i++) {
		struct mm_seq_signal *g;
		if (!pick[i])
			continue;
		g = &f->seq.sig[f->seq.nsig++];
		g->first_ms = it[i].first;
		g->last_ms = it[i].last;
		g->tactic = it[i].tactic;
		if (it[i].is_mem) {
			const struct mem *m = it[i].src;
			g->kind = MM_SEQ_FINDING;
			g->thash = mm_ftype_hash(m->type);
			g->sev10 = m->sev10;
			g->count = (uint32_t)(m->count > UINT32_MAX ? UINT32_MAX : m->count);
			snprintf(g->name, sizeof(g->name), "%s", m->id);
		} else {
			const struct sig *q = it[i].src;
			g->kind = MM_SEQ_API;
			g->count = (uint32_t)(q->count > UINT32_MAX ? UINT32_MAX : q->count);
			snprintf(g->name, sizeof(g->name), "%s", q->name);
		}
	}
}

/* The stages of the qualified items as additionalInfo.sequenceStages. */
static void add_info(struct mm_finding *f, const struct item *it, int n, int nmem, int nsig)
{
	char js[256];
	unsigned seen = 0;
	size_t k = 0;
	int i;

	js[k++] = '[';
	for (i = 0; i < n; i++) {
		const char *name = mm_tactic_name((enum mm_tactic)it[i].tactic);
		if (!it[i].qualified || (seen & (1u << it[i].tactic)) ||
		    k + strlen(name) + 4 >= sizeof(js))
			continue;
		seen |= 1u << it[i].tactic;
		k += (size_t)snprintf(js + k, sizeof(js) - k, "%s\"%s\"", k > 1 ? "," : "", name);
	}
	js[k++] = ']';
	js[k] = '\0';
	mm_finding_info_clear(f);
	mm_finding_info_json(f, "sequenceStages", js);
	mm_finding_info_num(f, "sequenceFindings", nmem);
	mm_finding_info_num(f, "sequenceApiSignals", nsig);
}

/* Evaluate principal p; emit (or add to) its sequence finding when new
 * items qualify. */
static void judge(struct prin *p, struct mm_detect_ctx *c, int64_t w)
{
	struct item it[SEQ_MAX_SIGS + SEQ_MAX_MEMBERS];
	struct mm_evref refs[MM_EVIDENCE_MAX];
	const struct mm_evref *latest = NULL;
	uint8_t nref = 0;
	int i, n = 0, fresh = 0, changed = 0, nmem = 0, nsig = 0;
	int64_t first = INT64_MAX, last = INT64_MIN;
	char res[32], disc[64];
	const char *colon;
	struct mm_finding *f;
	int is_latest;

	uint64_t mip[SEQ_MAX_MEMBERS * SEQ_IPS];
	int nmip = 0, j, k;

	if (!p->nmem)
		return;
	for (i = 0; i < p->nmem; i++)
		for (j = 0; j < p->mem[i].nip; j++)
			mip[nmip++] = p->mem[i].iph[j];
	for (i = 0; i < p->nmem; i++) {
		struct mem *m = &p->mem[i];
		it[n] = (struct item){m->first, m->last, m->tactic, 1, m->sev10, m->count, &m->rcount, 0,
				      &m->ref, &m->lref, m};
		n++;
	}
	for (i = 0; i < p->nsig; i++) {
		struct sig *g = &p->sig[i];
		int linked = 0;
		/* a signal joins the story when it came from an address one of
		 * the principal's findings came from: the same hands, not the
		 * owner's routine work from the office the same day */
		for (j = 0; j < g->nip && !linked; j++)
			for (k = 0; k < nmip && !linked; k++)
				linked = g->iph[j] == mip[k];
		if (!linked)
			continue;
		it[n] = (struct item){g->first, g->last, g->tactic, 0, 0, g->count, &g->rcount, 0,
				      &g->ref, &g->ref, g};
		n++;
	}
	if (!qualify(it, n, w, c->params))
		return;
	qsort(it, (size_t)n, sizeof(it[0]), item_cmp);
	for (i = 0; i < n; i++) {
		if (!it[i].qualified)
			continue;
		nmem += it[i].is_mem;
		nsig += !it[i].is_mem;
		if (!latest || mm_evref_before(latest, it[i].lref))
			latest = it[i].lref;
		if (*it[i].rcount == it[i].count)
			continue; /* shown as it is */
		if (!*it[i].rcount)
			fresh++; /* new in the story; else it grew */
		if (it[i].first < first)
			first = it[i].first;
		if (it[i].last > last)
			last = it[i].last;
		mm_evref_keep(refs, &nref, MM_EVIDENCE_MAX - 1, it[i].ref);
		changed++;
	}
	if (!changed)
		return;
	/* the latest record of the whole story names the details, so the
	 * emission that knows most of it wins a merge */
	refs[nref++] = *latest;
	colon = strchr(p->pid, ':');
	snprintf(res, sizeof(res), "%.*s", (int)(colon ? colon - p->pid : (long)strlen(p->pid)),
		 p->pid);
	snprintf(disc, sizeof(disc), "%s", colon ? colon + 1 : "");
	f = mm_emit_refs(c, TYPE, mm_str_c(p->acct), mm_str_c(res), disc, refs, nref, first, last,
			 &is_latest);
	if (!f)
		return;
	/* count: the members and signals this story links, each once (an
	 * emission for items that only grew adds nothing: its times and
	 * details are what it brings) */
	f->count = f->count + (uint64_t)fresh - 1;
	for (i = 0; i < n; i++)
		if (it[i].qualified)
			*it[i].rcount = it[i].count;
	if (!is_latest)
		return;
	/* like GuardDuty's IAM findings: the principal is what was hit */
	f->role = MM_ROLE_TARGET;
	snprintf(f->principal_id, sizeof(f->principal_id), "%s", p->pid);
	snprintf(f->user_name, sizeof(f->user_name), "%s", p->uname);
	snprintf(f->user_type, sizeof(f->user_type), "%s", p->utype);
	if (p->region[0])
		snprintf(f->region, sizeof(f->region), "%s", p->region);
	f->remote_ip = p->ip;
	f->has_remote_ip = p->has_ip;
	fill_seq(f, p, it, n);
	add_info(f, it, n, nmem, nsig);
}

/* Forget what is older than the retention before p's newest item. */
static void prune(struct prin *p, int64_t keep_ms)
{
	int64_t newest = INT64_MIN;
	int i, k;

	for (i = 0; i < p->nsig; i++)
		if (p->sig[i].last > newest)
			newest = p->sig[i].last;
	for (i = 0; i < p->nmem; i++)
		if (p->mem[i].last > newest)
			newest = p->mem[i].last;
	for (i = k = 0; i < p->nsig; i++)
		if (p->sig[i].last >= newest - keep_ms) {
			p->sk[k] = p->sk[i];
			p->sig[k++] = p->sig[i];
		}
	p->nsig = k;
	for (i = k = 0; i < p->nmem; i++)
		if (p->mem[i].last >= newest - keep_ms)
			p->mem[k++] = p->mem[i];
	p->nmem = k;
}

static void finish(void *st, struct mm_detect_ctx *c)
{
	struct state *s = st;
	int64_t w = (int64_t)(c->params[P_WINDOW] * HOUR_MS);
	int64_t keep = (int64_t)(c->params[P_RETENTION] * DAY_MS);
	size_t i, k;

	if (w <= 0)
		w = DAY_MS;
	if (keep < w)
		keep = w;
	take_members(s, c);
	for (i = 0; i < s->n; i++) {
		struct prin *p = s->v[i];
		if (!p->dirty)
			continue;
		judge(p, c, w);
		mm_emit_done(c);
		prune(p, keep);
		p->dirty = 0;
	}
	/* principals with nothing left go */
	for (i = k = 0; i < s->n; i++) {
		if (!s->v[i]->nsig && !s->v[i]->nmem) {
			prin_free(s->v[i]);
			continue;
		}
		s->v[k++] = s->v[i];
	}
	if (k != s->n) {
		s->n = k;
		reindex(s, s->nslots); /* same size: in place */
	}
}

/* ---- save / load ----------------------------------------------------------
 *
 * NSHARDS rows "shard-00".."shard-15", all rewritten at every save. A row:
 * "MMSQ", u8 version 1, u8 shard, u32 principals, then per principal:
 * str1 account, str1 principal id, str1 user name, str1 user type, str1
 * access key, str1 region, ip, u8 has_ip, i64 ctx time, str1 ctx id, u8
 * signals, u8 members; a signal: str1 service, str1 API, u8 tactic, u8
 * rcount, i64 bucket, u64 count, i64 first, i64 last, ref, ips; a
 * member: str1 id, str1 type, u8 sev10, u64 rcount, u64 count, i64
 * first, i64 last, ref, ref, ips (its stage is recomputed from the
 * type); ips: u8 n (1..SEQ_IPS), n u64 address hashes, increasing. A principal
 * that does not fit a row's BLOB_MAX is left out. */

static int put_ips(struct mm_buf *b, const uint64_t *iph, uint8_t n)
{
	int i, rc = mm_blob_put_u(b, n, 1);
	for (i = 0; i < n && !rc; i++)
		rc = mm_blob_put_u(b, iph[i], 8);
	return rc;
}

/* u8 count (1..SEQ_IPS), then the hashes, strictly increasing. */
static void get_ips(struct mm_blob_rd *r, uint64_t *iph, uint8_t *n)
{
	int i;
	*n = (uint8_t)mm_blob_get_u(r, 1);
	if (*n < 1 || *n > SEQ_IPS) {
		r->bad = 1;
		*n = 0;
		return;
	}
	for (i = 0; i < *n; i++) {
		iph[i] = mm_blob_get_u(r, 8);
		if (i && iph[i] <= iph[i - 1])
			r->bad = 1;
	}
}

static int put_prin(struct mm_buf *b, const struct prin *p)
{
	int i, rc;
	rc = mm_blob_put_str(b, p->acct, 1, sizeof(p->acct) - 1);
	rc = rc ? rc : mm_blob_put_str(b, p->pid, 1, sizeof(p->pid) - 1);
	rc = rc ? rc : mm_blob_put_str(b, p->uname, 1, sizeof(p->uname) - 1);
	rc = rc ? rc : mm_blob_put_str(b, p->utype, 1, sizeof(p->utype) - 1);
	rc = rc ? rc : mm_blob_put_str(b, p->cred, 1, sizeof(p->cred) - 1);
	rc = rc ? rc : mm_blob_put_str(b, p->region, 1, sizeof(p->region) - 1);
	rc = rc ? rc : mm_blob_put_ip(b, &p->ip);
	rc = rc ? rc : mm_blob_put_u(b, p->has_ip, 1);
	rc = rc ? rc : mm_blob_put_u(b, (uint64_t)p->ctx_ms, 8);
	rc = rc ? rc : mm_blob_put_str(b, p->ctx_id, 1, sizeof(p->ctx_id) - 1);
	rc = rc ? rc : mm_blob_put_u(b, (uint64_t)p->nsig, 1);
	rc = rc ? rc : mm_blob_put_u(b, (uint64_t)p->nmem, 1);
	for (i = 0; i < p->nsig && !rc; i++) {
		const struct sig *g = &p->sig[i];
		rc = mm_blob_put_str(b, g->name, 1, 80);
		rc = rc ? rc : mm_blob_put_u(b, g->tactic, 1);
		rc = rc ? rc : mm_blob_put_u(b, g->rcount, 8);
		rc = rc ? rc : mm_blob_put_u(b, (uint64_t)g->bucket, 8);
		rc = rc ? rc : mm_blob_put_u(b, g->count, 8);
		rc = rc ? rc : mm_blob_put_u(b, (uint64_t)g->first, 8);
		rc = rc ? rc : mm_blob_put_u(b, (uint64_t)g->last, 8);
		rc = rc ? rc : mm_blob_put_ref(b, &g->ref, REF_MAX);
		rc = rc ? rc : put_ips(b, g->iph, g->nip);
	}
	for (i = 0; i < p->nmem && !rc; i++) {
		const struct mem *m = &p->mem[i];
		rc = mm_blob_put_str(b, m->id, 1, sizeof(m->id) - 1);
		rc = rc ? rc : mm_blob_put_str(b, m->type, 1, sizeof(m->type) - 1);
		rc = rc ? rc : mm_blob_put_u(b, m->sev10, 1);
		rc = rc ? rc : mm_blob_put_u(b, m->rcount, 8);
		rc = rc ? rc : mm_blob_put_u(b, m->count, 8);
		rc = rc ? rc : mm_blob_put_u(b, (uint64_t)m->first, 8);
		rc = rc ? rc : mm_blob_put_u(b, (uint64_t)m->last, 8);
		rc = rc ? rc : mm_blob_put_ref(b, &m->ref, REF_MAX);
		rc = rc ? rc : mm_blob_put_ref(b, &m->lref, REF_MAX);
		rc = rc ? rc : put_ips(b, m->iph, m->nip);
	}
	return rc;
}

static int save(void *st, int (*putrow)(void *pctx, const char *entity, const void *blob, size_t n),
		void *pctx)
{
	struct state *s = st;
	struct mm_buf b;
	int sh, rc = 0;
	size_t i;

	mm_buf_init(&b, BLOB_MAX);
	for (sh = 0; sh < NSHARDS && !rc; sh++) {
		char ent[16];
		uint32_t np = 0;
		size_t at;
		mm_buf_reset(&b);
		rc = mm_buf_add(&b, "MMSQ", 4);
		rc = rc ? rc : mm_blob_put_u(&b, 1, 1);
		rc = rc ? rc : mm_blob_put_u(&b, (uint64_t)sh, 1);
		at = b.len;
		rc = rc ? rc : mm_blob_put_u(&b, 0, 4);
		for (i = 0; i < s->n && !rc; i++) {
			size_t before = b.len;
			if ((int)(s->v[i]->h % NSHARDS) != sh)
				continue;
			rc = put_prin(&b, s->v[i]);
			if (rc == MM_ETOOBIG) {
				b.len = before; /* does not fit: left out (documented) */
				rc = 0;
				continue;
			}
			np++;
		}
		if (rc)
			break;
		mm_le_put((unsigned char *)b.p + at, np, 4);
		snprintf(ent, sizeof(ent), "shard-%02d", sh);
		rc = putrow(pctx, ent, b.p, b.len);
	}
	mm_buf_free(&b);
	return rc;
}

/* Read one principal into q (signals into qs). r->bad on anything out of
 * shape. */
static void get_prin(struct mm_blob_rd *r, struct prin *q, struct sig *qs, struct mem *qm)
{
	char name[81], *colon;
	int i;
	memset(q, 0, sizeof(*q));
	mm_blob_get_str(r, q->acct, sizeof(q->acct), 1);
	mm_blob_get_str(r, q->pid, sizeof(q->pid), 1);
	mm_blob_get_str(r, q->uname, sizeof(q->uname), 1);
	mm_blob_get_str(r, q->utype, sizeof(q->utype), 1);
	mm_blob_get_str(r, q->cred, sizeof(q->cred), 1);
	mm_blob_get_str(r, q->region, sizeof(q->region), 1);
	mm_blob_get_ip(r, &q->ip);
	q->has_ip = (uint8_t)mm_blob_get_u(r, 1);
	q->ctx_ms = (int64_t)mm_blob_get_u(r, 8);
	mm_blob_get_str(r, q->ctx_id, sizeof(q->ctx_id), 1);
	q->nsig = (int)mm_blob_get_u(r, 1);
	q->nmem = (int)mm_blob_get_u(r, 1);
	if (!q->pid[0] || q->has_ip > 1 || q->nsig > SEQ_MAX_SIGS || q->nmem > SEQ_MAX_MEMBERS)
		r->bad = 1;
	if (r->bad)
		return;
	q->sig = qs;
	q->capsig = q->nsig;
	q->mem = qm;
	q->alen = (uint8_t)strlen(q->acct);
	q->plen = (uint8_t)strlen(q->pid);
	for (i = 0; i < q->nsig && !r->bad; i++) {
		struct sig *g = &qs[i];
		memset(g, 0, sizeof(*g));
		mm_blob_get_str(r, name, sizeof(name), 1);
		colon = strchr(name, ':');
		if (!colon || colon == name || colon - name > 23 || !colon[1] ||
		    strlen(colon + 1) > 47) {
			r->bad = 1;
			break;
		}
		g->name = mm_intern(name, strlen(name));
		g->kh = name_hash(name, (size_t)(colon - name), colon + 1, strlen(colon + 1));
		g->tactic = (uint8_t)mm_blob_get_u(r, 1);
		g->rcount = mm_blob_get_u(r, 8);
		g->bucket = (int64_t)mm_blob_get_u(r, 8);
		g->count = mm_blob_get_u(r, 8);
		g->first = (int64_t)mm_blob_get_u(r, 8);
		g->last = (int64_t)mm_blob_get_u(r, 8);
		mm_blob_get_ref(r, &g->ref, REF_MAX);
		get_ips(r, g->iph, &g->nip);
		if (g->tactic == MM_TAC_NONE || g->tactic >= MM_TAC__N ||
		    g->rcount > g->count || !g->count || g->first > g->last)
			r->bad = 1;
	}
	for (i = 0; i < q->nmem && !r->bad; i++) {
		struct mem *m = &q->mem[i];
		memset(m, 0, sizeof(*m));
		mm_blob_get_str(r, m->id, sizeof(m->id), 1);
		mm_blob_get_str(r, m->type, sizeof(m->type), 1);
		m->sev10 = (uint8_t)mm_blob_get_u(r, 1);
		m->rcount = mm_blob_get_u(r, 8);
		m->count = mm_blob_get_u(r, 8);
		m->first = (int64_t)mm_blob_get_u(r, 8);
		m->last = (int64_t)mm_blob_get_u(r, 8);
		mm_blob_get_ref(r, &m->ref, REF_MAX);
		mm_blob_get_ref(r, &m->lref, REF_MAX);
		get_ips(r, m->iph, &m->nip);
		m->tactic = (uint8_t)type_tactic(m->type);
		/* a type this build does not know still counts by its
		 * ThreatPurpose (another build's detectors raised it) */
		if (r->bad || !is_hex_id(m->id) || m->tactic == MM_TAC_NONE || m->rcount > m->count ||
		    !m->count || m->first > m->last)
			r->bad = 1;
	}
}

static int load(void *st, const char *entity, int version, const void *blob, size_t n)
{
	struct state *s = st;
	struct mm_blob_rd r;
	const unsigned char *magic;
	struct prin *q = NULL;
	struct sig *qs = NULL;
	struct mem *qm = NULL;
	uint64_t np, i;
	int rc = MM_EFORMAT;

	(void)entity;
	if (version != 1)
		return MM_EFORMAT;
	mm_blob_rd_init(&r, blob, n);
	magic = mm_blob_get_bytes(&r, 4);
	if (!magic || memcmp(magic, "MMSQ", 4) || mm_blob_get_u(&r, 1) != 1)
		return MM_EFORMAT;
	mm_blob_get_u(&r, 1); /* shard: informative */
	np = mm_blob_get_u(&r, 4);
	if (r.bad)
		return MM_EFORMAT;
	q = mm_malloc(sizeof(*q));
	qs = mm_malloc(SEQ_MAX_SIGS * sizeof(*qs));
	qm = mm_malloc(SEQ_MAX_MEMBERS * sizeof(*qm));
	if (!q || !qs || !qm) {
		rc = MM_ENOMEM;
		goto out;
	}
	/* a row is applied whole or not at all: read it all first */
	for (i = 0; i < np && !r.bad; i++)
		get_prin(&r, q, qs, qm);
	if (r.bad || r.p != r.end)
		goto out;
	mm_blob_rd_init(&r, blob, n);
	mm_blob_get_bytes(&r, 4 + 1 + 1 + 4);
	for (i = 0; i < np; i++) {
		get_prin(&r, q, qs, qm);
		if ((rc = prin_merge(s, q)))
			goto out;
	}
	rc = 0;
out:
	mm_free(q);
	mm_free(qs);
	mm_free(qm);
	return rc;
}

/* ---- registration --------------------------------------------------------- */

static const struct mm_param params[] = {
	{"window_hours", 24, 1, 168, "hours",
	 "GuardDuty correlates an attack sequence's signals over a 24-hour rolling window; "
	 "intrusions with stolen keys run from first use to impact within hours"},
	{"min_stages", 3, 2, 8, "tactics",
	 "a story needs a beginning, a middle and an end: access, then discovery, then one harmful "
	 "step (evasion, persistence, escalation, exfiltration, impact); two stages are what any "
	 "admin session shows"},
	{"min_finding_stages", 2, 1, 8, "tactics",
	 "two findings of different tactics past initial access on one principal within the window "
	 "are a story by themselves (an anomaly, then logging disabled): each is already suspicious "
	 "alone; initial-access findings (a listed caller) say who acts, not what was done"},
	{"anchor_severity", 5, 1, 10, "severity",
	 "with API signals making up the stages, one finding of GuardDuty's Medium default (5) "
	 "must say the principal is suspicious: a threat-listed caller, a pentest distribution, "
	 "an anomaly; Low findings (logging off, root use) are an admin's routine"},
	{"retention_days", 7, 1, 90, "days",
	 "how long members and signals are kept before the principal's newest one: late files "
	 "of a week still join their story; never shorter than the window"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static const char *const types[] = {TYPE, NULL};

const struct mm_detector_def mm_det_sequence = {
	.name = "sequence",
	.kinds = MM_KIND_BIT(MM_EV_API),
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
	.on_spill = on_spill,
};
