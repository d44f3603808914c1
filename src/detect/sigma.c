/* sigma.c - the `sigma` detector: the Sigma rules a scan was given
 * (`mamori scan --rules DIR`, src/sigma) evaluated on every CloudTrail
 * event, and their correlation rules; docs/finding-types.md ("Sigma
 * rules") has the logic and the reasons in prose.
 *
 * A detection rule that matches raises one finding per (rule, principal):
 * type `<ThreatPurpose>:IAMUser/SigmaRule` with the threat purpose taken
 * from the rule's first ATT&CK tactic tag that GuardDuty has a word for
 * (UnauthorizedAccess when none), severity from the rule's level, the
 * caller's access key as the resource, the rule's id as discriminator,
 * and service.additionalInfo.sigma naming the rule (id, title, level,
 * author, license, first reference, tags: the Detection Rule License
 * asks that a rule's matches name its author). The aggregator counts; no
 * state.
 *
 * A correlation rule (event_count, value_count, temporal,
 * temporal_ordered) keeps, per group (correlation, principal, group-by
 * values), the matched events of the rules it names: event time, which
 * rule, a hash of the counted value, where the record is. At each finish
 * (on the merged state) a window of `timespan` starting at each event
 * satisfies the condition or not; every event in a satisfying window is
 * "in" the correlation. That is monotone - more events only add
 * satisfying windows, since only gt/gte conditions run - so an event once
 * in stays in, and the finding counts the events in: each finish reports
 * those not reported yet, and findings add up to the same whether events
 * came in one batch, many batches, any thread split or two scans.
 * Merge concatenates the groups' events (exact). Bounds: max_groups
 * groups (new ones beyond are not tracked), max_group_events events per
 * group (the latest kept: the earliest are dropped), and at finish
 * events older than their group's newest minus (timespan + late_minutes)
 * are forgotten, and groups that quiet behind the newest event of all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "detect/blob.h"
#include "detect/detect.h"
#include "parse/cloudtrail.h"
#include "sigma/sigma.h"

enum { P_MAX_GROUPS, P_MAX_EVENTS, P_LATE };

static const struct mm_param params[] = {
	{"max_groups", 20000, 100, 1000000, "groups",
	 "correlation groups (correlation, principal, group-by values) tracked at once: an estate "
	 "has hundreds to a few thousand principals; bounds memory (~1 KB a group plus its events) "
	 "when a group-by field takes many values; new groups beyond it are not tracked"},
	{"max_group_events", 512, 16, 65536, "events",
	 "matched events one correlation group keeps (the latest by event time; ~50 bytes each): "
	 "correlation thresholds in published rules are tens of events, and a condition above this "
	 "can still be met by the latest ones; a flood beyond it drops the earliest"},
	{"late_minutes", 1440, 0, 10080, "minutes",
	 "how far out of event-time order a group's events may arrive (files read in any order, "
	 "scans split by day) and still meet the events they correlate with; events older than "
	 "their group's newest minus (timespan + this) are forgotten at each flush"},
	{NULL, 0, 0, 0, NULL, NULL},
};

#define MAX_HITS 256
/* (rule, principal) entries of a worker: 1,384 bytes each, and its API list */
#define LOCAL_MAX 4096
#define SHARDS 16
#define MAX_KEY 128
#define MAX_GVAL 1024
#define MAX_FILE 1024		/* file names in a saved evidence reference */
#define BLOB_MAGIC 0x53		/* 'S' */
#define MIN_MS (-62135596800000LL)	/* 0001-01-01: loaded times are of years 1-9999 */
#define MAX_MS 253402300799999LL	/* 9999-12-31 */

/* ---- type, severity, rule metadata ------------------------------------ */

/* ATT&CK tactic (tag attack.<tactic>, '-' or '_') -> GuardDuty's threat
 * purpose word. Tactics GuardDuty has no purpose for (collection,
 * lateral movement, resource development) fall to UnauthorizedAccess. */
static const struct {
	const char *tactic, *type, *rtype; /* rtype: on a host event */
} tactic_types[] = {
	{"initial_access", "InitialAccess:IAMUser/SigmaRule", "InitialAccess:Runtime/SigmaRule"},
	{"execution", "Execution:IAMUser/SigmaRule", "Execution:Runtime/SigmaRule"},
	{"persistence", "Persistence:IAMUser/SigmaRule", "Persistence:Runtime/SigmaRule"},
	{"privilege_escalation", "PrivilegeEscalation:IAMUser/SigmaRule", "PrivilegeEscalation:Runtime/SigmaRule"},
	{"defense_evasion", "DefenseEvasion:IAMUser/SigmaRule", "DefenseEvasion:Runtime/SigmaRule"},
	{"defense_impairment", "DefenseEvasion:IAMUser/SigmaRule", "DefenseEvasion:Runtime/SigmaRule"},
	{"stealth", "Stealth:IAMUser/SigmaRule", "Stealth:Runtime/SigmaRule"},
	{"credential_access", "CredentialAccess:IAMUser/SigmaRule", "CredentialAccess:Runtime/SigmaRule"},
	{"discovery", "Discovery:IAMUser/SigmaRule", "Discovery:Runtime/SigmaRule"},
	{"reconnaissance", "Recon:IAMUser/SigmaRule", "Recon:Runtime/SigmaRule"},
	{"exfiltration", "Exfiltration:IAMUser/SigmaRule", "Exfiltration:Runtime/SigmaRule"},
	{"impact", "Impact:IAMUser/SigmaRule", "Impact:Runtime/SigmaRule"},
	{"command_and_control", "Backdoor:IAMUser/SigmaRule", "Backdoor:Runtime/SigmaRule"},
};
#define FALLBACK_TYPE "UnauthorizedAccess:IAMUser/SigmaRule"
#define FALLBACK_RTYPE "UnauthorizedAccess:Runtime/SigmaRule"

static const char *const types[] = {
	"InitialAccess:IAMUser/SigmaRule",  "Execution:IAMUser/SigmaRule",
	"Persistence:IAMUser/SigmaRule",    "PrivilegeEscalation:IAMUser/SigmaRule",
	"DefenseEvasion:IAMUser/SigmaRule", "Stealth:IAMUser/SigmaRule",
	"CredentialAccess:IAMUser/SigmaRule", "Discovery:IAMUser/SigmaRule",
	"Recon:IAMUser/SigmaRule",          "Exfiltration:IAMUser/SigmaRule",
	"Impact:IAMUser/SigmaRule",         "Backdoor:IAMUser/SigmaRule",
	FALLBACK_TYPE,
	"InitialAccess:Runtime/SigmaRule",  "Execution:Runtime/SigmaRule",
	"Persistence:Runtime/SigmaRule",    "PrivilegeEscalation:Runtime/SigmaRule",
	"DefenseEvasion:Runtime/SigmaRule", "Stealth:Runtime/SigmaRule",
	"CredentialAccess:Runtime/SigmaRule", "Discovery:Runtime/SigmaRule",
	"Recon:Runtime/SigmaRule",          "Exfiltration:Runtime/SigmaRule",
	"Impact:Runtime/SigmaRule",         "Backdoor:Runtime/SigmaRule",
	FALLBACK_RTYPE,                     NULL,
};

/* The type a rule's tags give, or NULL when no tag names a tactic; the
 * Runtime one for a rule on host events. */
static const char *tag_type(const struct mm_sigma_rule *r, int host)
{
	int t, k;
	for (t = 0; t < r->ntags; t++) {
		const char *tag = r->tags[t];
		char norm[64];
		size_t i;
		if (strncmp(tag, "attack.", 7) || strlen(tag + 7) >= sizeof(norm))
			continue;
		for (i = 0; tag[7 + i]; i++)
			norm[i] = tag[7 + i] == '-' ? '_' : tag[7 + i];
		norm[i] = '\0';
		for (k = 0; k < (int)MM_ARRAY_LEN(tactic_types); k++)
			if (!strcmp(norm, tactic_types[k].tactic))
				return host ? tactic_types[k].rtype : tactic_types[k].type;
	}
	return NULL;
}

/* Sigma level -> GuardDuty severity: informational 1, low 2, medium 5,
 * high 8, critical 9 (GuardDuty: Low 1-3.9, Medium 4-6.9, High 7-8.9,
 * Critical 9-10); no or an unknown level, 0. */
static double level_sev(const char *level)
{
	if (!level)
		return 0;
	if (!strcmp(level, "informational"))
		return 1;
	if (!strcmp(level, "low"))
		return 2;
	if (!strcmp(level, "medium"))
		return 5;
	if (!strcmp(level, "high"))
		return 8;
	if (!strcmp(level, "critical"))
		return 9;
	return 0;
}

/* A correlation's type and severity fall back to the rules it names
 * (the spec lets only the outermost rule carry metadata, but rules in
 * the wild tag their base rules). */
/* Is r a rule on host events (a correlation: its first rule is)? */
static int host_rule(const struct mm_sigma_set *set, const struct mm_sigma_rule *r)
{
	if (r->corr)
		return r->corr->nrules > 0 && r->corr->rule[0] >= 0 && r->corr->rule[0] < set->n &&
		       set->r[r->corr->rule[0]]->src != MM_SIGMA_SRC_CLOUDTRAIL;
	return r->src != MM_SIGMA_SRC_CLOUDTRAIL;
}

static const char *rule_type(const struct mm_sigma_set *set, const struct mm_sigma_rule *r)
{
	int host = host_rule(set, r);
	const char *t = tag_type(r, host);
	int k;
	for (k = 0; !t && r->corr && k < r->corr->nrules; k++)
		t = tag_type(set->r[r->corr->rule[k]], host);
	return t ? t : host ? FALLBACK_RTYPE : FALLBACK_TYPE;
}

static double rule_sev(const struct mm_sigma_set *set, const struct mm_sigma_rule *r)
{
	double s = level_sev(r->level);
	int k;
	for (k = 0; !s && r->corr && k < r->corr->nrules; k++)
		s = MM_MAX(s, level_sev(set->r[r->corr->rule[k]]->level));
	return s ? s : 5;
}

/* The rule's identity: its id, else "title:" and a hash of the title. */
static const char *rule_key(const struct mm_sigma_rule *r, char *buf, size_t cap)
{
	const char *t = r->title ? r->title : r->file;
	if (r->id && strlen(r->id) < cap)
		return r->id;
	snprintf(buf, cap, "title:%016llx", (unsigned long long)mm_hash(t, strlen(t), 0x5167));
	return buf;
}

/* Append z cut to at most max bytes, not inside a UTF-8 sequence. */
static int esc_cut(struct mm_buf *b, const char *z, size_t max)
{
	size_t n = strlen(z);
	if (n > max) {
		n = max;
		while (n && ((unsigned char)z[n] & 0xc0) == 0x80)
			n--;
	}
	return mm_buf_json_str(b, z, n);
}

/* service.additionalInfo.sigma: what names the rule (DRL attribution),
 * the most useful first; tags while they fit. group: the correlation
 * group's values (NULL for a detection rule). */
static void set_info(struct mm_finding *f, const struct mm_sigma_set *set,
                     const struct mm_sigma_rule *r, const char *group, struct mm_buf *b)
{
	static const char *const ctypes[] = {"event_count", "value_count", "temporal",
	                                     "temporal_ordered"};
	char kb[40];
	size_t keep;
	int t, rc = 0;
	mm_buf_reset(b);
	rc = mm_buf_addz(b, "{\"id\":");
	rc = rc ? rc : esc_cut(b, rule_key(r, kb, sizeof(kb)), 64);
	rc = rc ? rc : mm_buf_addz(b, ",\"title\":");
	rc = rc ? rc : esc_cut(b, r->title ? r->title : "", 160);
	if (r->level) {
		rc = rc ? rc : mm_buf_addz(b, ",\"level\":");
		rc = rc ? rc : esc_cut(b, r->level, 16);
	}
	rc = rc ? rc : mm_buf_addz(b, ",\"author\":");
	rc = rc ? rc : esc_cut(b, r->author ? r->author : "unknown", 120);
	if (r->license) {
		rc = rc ? rc : mm_buf_addz(b, ",\"license\":");
		rc = rc ? rc : esc_cut(b, r->license, 40);
	}
	if (r->reference && strlen(r->reference) <= 200) {	/* a cut address would mislead */
		rc = rc ? rc : mm_buf_addz(b, ",\"reference\":");
		rc = rc ? rc : mm_buf_json_strz(b, r->reference);
	}
	if (r->corr) {
		rc = rc ? rc : mm_buf_addz(b, ",\"correlation\":");
		rc = rc ? rc : mm_buf_json_strz(b, ctypes[r->corr->type]);
		if (group && r->corr->ngroup) {
			rc = rc ? rc : mm_buf_addz(b, ",\"group\":");
			rc = rc ? rc : esc_cut(b, group, 100);
		}
	}
	if (rc)
		return;
	keep = b->len;
	if (r->ntags && mm_buf_addz(b, ",\"tags\":[") == 0) {
		for (t = 0; t < r->ntags; t++) {
			size_t at = b->len;
			if ((t && mm_buf_addc(b, ',')) || esc_cut(b, r->tags[t], 48) ||
			    b->len > 680) {
				b->len = at;
				break;
			}
		}
		if (mm_buf_addc(b, ']'))
			b->len = keep;
	}
	b->p[b->len] = '\0';
	if (mm_buf_addc(b, '}'))
		return;
	mm_finding_info_clear(f);
	mm_finding_info_json(f, "sigma", b->p);
}

/* ---- state ------------------------------------------------------------- */

/* One matched event of a correlation group. */
struct gev {
	int64_t t;
	uint64_t vh;		/* value_count: hash of the counted value (0: none) */
	struct mm_evref ref;
	uint8_t pos;		/* which of the correlation's rules */
	uint8_t in;		/* in a satisfying window, reported */
};

/* The latest matched event's details (what the finding shows), each as
 * long as the finding's field: a finding from a worker's table reads as
 * one emitted directly (a single thread) does. */
struct gdet {
	struct mm_evref ref;
	char region[32], api[128], source[64], ip[48], ua[256], user[128], utype[32], pid[128],
	    err[64];
};
#define SAME_SIZE(a, b) _Static_assert(sizeof(((struct gdet *)0)->a) == \
					   sizeof(((struct mm_finding *)0)->b), #a " as " #b)
SAME_SIZE(region, region);
SAME_SIZE(api, api);
SAME_SIZE(source, service_name);
SAME_SIZE(ua, user_agent);
SAME_SIZE(user, user_name);
SAME_SIZE(utype, user_type);
SAME_SIZE(pid, principal_id);
SAME_SIZE(err, error_code);
#undef SAME_SIZE

struct grp {
	uint64_t h;
	char corr[MAX_KEY];	/* the correlation's id (or title key) */
	char principal[128], account[32];
	char *gval;		/* group-by values, '\x1f' between them (owned) */
	int ci;			/* its index in the set; -1: not resolved yet */
	struct gev *e;
	uint32_t n, cap;
	int has_d;
	struct gdet d;
	int64_t newest;
};

struct state {
	struct mm_sigma_scratch sc;
	int sc_state;		/* 0 not yet, 1 ready, -1 out of memory */
	struct grp **g;
	size_t n, cap;
	uint32_t *slot;		/* index + 1 into g; 0 empty */
	size_t nslots;
	uint32_t ev_cap;	/* max_group_events as last seen */
	/* detection rules' matches of this batch, per (rule, principal) */
	struct hit **hits_t;
	size_t nhit, caphit;
	struct hslot {
		uint64_t h;
		uint32_t idx;	/* into hits_t + 1; 0 empty */
	} *hslot;
	size_t nhslots;
	const char *ref_src, *ref_file;	/* the file evidence cites, interned */
	uint64_t drop_groups, drop_events, warned;
	struct mm_buf info;
	int hits[MAX_HITS];
	char *view;		/* a host event's view (correlation fields), lazily */
	uint64_t *tmp;		/* finish: value hashes of a window */
	size_t ntmp;
};

static uint64_t grp_hash(const char *corr, const char *principal, const char *account,
                         const char *gval)
{
	uint64_t h = mm_hash(corr, strlen(corr), 1);
	h = mm_hash(principal, strlen(principal), h);
	h = mm_hash(account, strlen(account), h);
	return mm_hash(gval, strlen(gval), h);
}

static void grp_free(struct grp *g)
{
	if (!g)
		return;
	mm_free(g->gval);
	mm_free(g->e);
	mm_free(g);
}

struct hit;
static void hit_free(struct hit *e);

static void hits_clear(struct state *s)
{
	size_t i;
	for (i = 0; i < s->nhit; i++)
		hit_free(s->hits_t[i]);
	s->nhit = 0;
	if (s->hslot)
		memset(s->hslot, 0, s->nhslots * sizeof(*s->hslot));
}

static void *state_new(void)
{
	struct state *s = mm_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ev_cap = (uint32_t)params[P_MAX_EVENTS].def;
	mm_buf_init(&s->info, 760);
	return s;
}

static void state_free(void *st)
{
	struct state *s = st;
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		grp_free(s->g[i]);
	mm_free(s->g);
	mm_free(s->slot);
	mm_free(s->tmp);
	mm_free(s->view);
	mm_buf_free(&s->info);
	hits_clear(s);
	mm_free(s->hits_t);
	mm_free(s->hslot);
	if (s->sc_state == 1)
		mm_sigma_scratch_free(&s->sc);
	mm_free(s);
}

static int rehash(struct state *s, size_t nslots)
{
	uint32_t *ns = mm_calloc(nslots, sizeof(*ns));
	size_t i;
	if (!ns)
		return MM_ENOMEM;
	for (i = 0; i < s->n; i++) {
		size_t j = s->g[i]->h & (nslots - 1);
		while (ns[j])
			j = (j + 1) & (nslots - 1);
		ns[j] = (uint32_t)i + 1;
	}
	mm_free(s->slot);
	s->slot = ns;
	s->nslots = nslots;
	return 0;
}

static struct grp *grp_find(struct state *s, uint64_t h, const char *corr, const char *principal,
			    const char *account, const char *gval)
{
	size_t j;
	if (!s->nslots)
		return NULL;
	for (j = h & (s->nslots - 1); s->slot[j]; j = (j + 1) & (s->nslots - 1)) {
		struct grp *g = s->g[s->slot[j] - 1];
		if (g->h == h && !strcmp(g->corr, corr) && !strcmp(g->principal, principal) &&
		    !strcmp(g->account, account) && !strcmp(g->gval, gval))
			return g;
	}
	return NULL;
}

/* Insert g (taking it); MM_ENOMEM leaves it with the caller. */
static int grp_insert(struct state *s, struct grp *g)
{
	size_t j;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct grp **ng = mm_realloc(s->g, cap * sizeof(*ng));
		if (!ng)
			return MM_ENOMEM;
		s->g = ng;
		s->cap = cap;
	}
	if ((s->n + 1) * 2 > s->nslots && rehash(s, s->nslots ? 2 * s->nslots : 128))
		return MM_ENOMEM;
	s->g[s->n] = g;
	for (j = g->h & (s->nslots - 1); s->slot[j]; j = (j + 1) & (s->nslots - 1))
		;
	s->slot[j] = (uint32_t)++s->n;
	return 0;
}

static struct grp *grp_new(const char *corr, const char *principal, const char *account,
                           const char *gval)
{
	struct grp *g = mm_calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	snprintf(g->corr, sizeof(g->corr), "%s", corr);
	snprintf(g->principal, sizeof(g->principal), "%s", principal);
	snprintf(g->account, sizeof(g->account), "%s", account);
	if (!(g->gval = mm_malloc(strlen(gval) + 1))) {
		mm_free(g);
		return NULL;
	}
	strcpy(g->gval, gval);
	g->h = grp_hash(g->corr, g->principal, g->account, g->gval);
	g->ci = -1;
	return g;
}

/* Events by (time, rule, file, line): the order windows are read in. */
static int gev_cmp(const void *pa, const void *pb)
{
	const struct gev *a = pa, *b = pb;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	if (mm_evref_before(&a->ref, &b->ref))
		return -1;
	return mm_evref_before(&b->ref, &a->ref);
}

/* Keep the cap latest events of g (by time, file, line): the same set
 * whatever order they were added in. */
static void grp_trim(struct state *s, struct grp *g, uint32_t cap)
{
	if (g->n <= cap)
		return;
	qsort(g->e, g->n, sizeof(*g->e), gev_cmp);
	s->drop_events += g->n - cap;
	memmove(g->e, g->e + (g->n - cap), cap * sizeof(*g->e));
	g->n = cap;
}

static int grp_add(struct state *s, struct grp *g, const struct gev *e)
{
	if (g->n == g->cap) {
		uint32_t cap = g->cap ? 2 * g->cap : 8;
		struct gev *ne = mm_realloc(g->e, cap * sizeof(*ne));
		if (!ne)
			return MM_ENOMEM;
		g->e = ne;
		g->cap = cap;
	}
	g->e[g->n++] = *e;
	if (e->t > g->newest || g->n == 1)
		g->newest = e->t;
	/* trimming at twice the cap keeps the sort rare */
	if (g->n >= 2 * s->ev_cap)
		grp_trim(s, g, s->ev_cap);
	return 0;
}

/* ---- per event ------------------------------------------------------- */

static void take_details(struct gdet *d, const struct mm_api *a, const struct mm_evref *ref)
{
	d->ref = *ref;
	mm_str_copy(d->region, sizeof(d->region), a->region);
	mm_str_copy(d->api, sizeof(d->api), a->event_name);
	mm_str_copy(d->source, sizeof(d->source), a->event_source);
	mm_str_copy(d->ip, sizeof(d->ip), a->has_source_ip ? a->source_ip_raw : mm_str_make("", 0));
	mm_str_copy(d->ua, sizeof(d->ua), a->user_agent);
	mm_str_copy(d->user, sizeof(d->user),
	            a->who.user_name.n ? a->who.user_name : a->who.issuer_user_name);
	mm_str_copy(d->utype, sizeof(d->utype), a->who.type);
	mm_str_copy(d->pid, sizeof(d->pid), a->who.principal_id);
	mm_str_copy(d->err, sizeof(d->err), a->error_code);
}

/* The finding's action details from a kept record's. */
static void set_details(struct mm_finding *f, const struct gdet *d)
{
	struct mm_api a;
	memset(&a, 0, sizeof(a));
	a.region = mm_str_c(d->region);
	a.event_name = mm_str_c(d->api);
	a.event_source = mm_str_c(d->source);
	a.source_ip_raw = mm_str_c(d->ip);
	a.has_source_ip = d->ip[0] && !mm_ip_parse(d->ip, strlen(d->ip), &a.source_ip);
	a.user_agent = mm_str_c(d->ua);
	a.error_code = mm_str_c(d->err);
	a.who.principal_id = mm_str_c(d->pid);
	a.who.type = mm_str_c(d->utype);
	a.who.user_name = mm_str_c(d->user);
	mm_finding_set_api(f, &a);
}

/* ---- detection rules' matches ---------------------------------------------
 *
 * A noisy rule matches on a large share of all events (the SigmaHQ rule
 * for any assumed-role call does on half of them), so a match must not
 * take the batch's finding table lock and look the finding up each time.
 * Each worker counts its matches per (rule, principal) in a small table
 * of its own - count, times, the earliest evidence and the latest record
 * with its details, the APIs - and finish turns each entry into one
 * mm_emit_refs: the same finding, exactly (counts add, times widen,
 * evidence keeps the earliest, details come from the latest record), in
 * one locked step per flush. A worker whose table is full emits directly. */

struct hit {
	/* what every match reads or writes first, together */
	int rule;
	uint8_t nref, worst;	/* refs kept; the latest of them */
	uint64_t h, count;
	int64_t first, last;
	char account[32], principal[128];
	struct mm_evref refs[MM_EVIDENCE_MAX];
	struct gdet d;		/* the latest record: d.ref */
	int napis, capapis;
	struct mm_api_call *apis; /* the smallest names, as a finding keeps (at most
				   * MM_API_CALLS_MAX; made as they come: most
				   * rules name one API, so most entries hold one) */
};

static void hit_free(struct hit *e)
{
	if (e) {
		mm_free(e->apis);
		mm_free(e);
	}
}

static uint64_t hit_hash(int rule, const char *principal, const char *account)
{
	uint64_t h = mm_hash(principal, strlen(principal), (uint64_t)rule + 1);
	h = mm_hash(account, strlen(account), h);
	return h ? h : 1;
}

/* Count one call of API c into the entry, keeping the smallest names. */
static void hit_api(struct hit *e, const struct mm_api_call *c)
{
	int i, k;
	for (i = 0; i < e->napis; i++) {
		if (!(k = strcmp(e->apis[i].name, c->name))) {
			e->apis[i].count += c->count;
			e->apis[i].first_ms = MM_MIN(e->apis[i].first_ms, c->first_ms);
			e->apis[i].last_ms = MM_MAX(e->apis[i].last_ms, c->last_ms);
			return;
		}
		if (k > 0)
			break;
	}
	if (e->napis == e->capapis && e->capapis < MM_API_CALLS_MAX) {
		int nc = e->capapis ? MM_MIN(2 * e->capapis, MM_API_CALLS_MAX) : 1;
		struct mm_api_call *na = mm_realloc(e->apis, (size_t)nc * sizeof(*na));
		if (na) {
			e->apis = na;
			e->capapis = nc;
		}
	}
	if (i >= e->capapis)
		return;	/* not among the smallest (or no memory for it) */
	if (e->napis < e->capapis)
		e->napis++;
	memmove(&e->apis[i + 1], &e->apis[i], (size_t)(e->napis - 1 - i) * sizeof(e->apis[0]));
	e->apis[i] = *c;
}

/* The entry for (rule, principal, account) in s's table, created empty;
 * NULL when the table holds cap entries already or out of memory. */
static struct hit *hit_get(struct state *s, int rule, const char *principal, const char *account,
                           size_t cap)
{
	uint64_t h = hit_hash(rule, principal, account);
	size_t j;
	struct hit *e;
	if ((s->nhit + 1) * 2 > s->nhslots) {
		size_t ns = s->nhslots ? 2 * s->nhslots : 256, i;
		struct hslot *sl;
		if (s->nhit >= cap || !(sl = mm_calloc(ns, sizeof(*sl))))
			return NULL;
		for (i = 0; i < s->nhit; i++) {
			for (j = s->hits_t[i]->h & (ns - 1); sl[j].idx; j = (j + 1) & (ns - 1))
				;
			sl[j].h = s->hits_t[i]->h;
			sl[j].idx = (uint32_t)i + 1;
		}
		mm_free(s->hslot);
		s->hslot = sl;
		s->nhslots = ns;
	}
	/* the slots hold the hashes: a probe reads no entry until one agrees */
	for (j = h & (s->nhslots - 1); s->hslot[j].idx; j = (j + 1) & (s->nhslots - 1)) {
		if (s->hslot[j].h != h)
			continue;
		e = s->hits_t[s->hslot[j].idx - 1];
		if (e->rule == rule && !strcmp(e->principal, principal) &&
		    !strcmp(e->account, account))
			return e;
	}
	if (s->nhit >= cap)
		return NULL;
	if (s->nhit == s->caphit) {
		size_t nc = s->caphit ? 2 * s->caphit : 64;
		struct hit **nt = mm_realloc(s->hits_t, nc * sizeof(*nt));
		if (!nt)
			return NULL;
		s->hits_t = nt;
		s->caphit = nc;
	}
	if (!(e = mm_calloc(1, sizeof(*e))))
		return NULL;
	e->h = h;
	e->rule = rule;
	snprintf(e->principal, sizeof(e->principal), "%s", principal);
	snprintf(e->account, sizeof(e->account), "%s", account);
	s->hits_t[s->nhit] = e;
	s->hslot[j].h = h;
	s->hslot[j].idx = (uint32_t)++s->nhit;
	return e;
}

/* Keep ref among the entry's MM_EVIDENCE_MAX earliest (the same set as
 * mm_evref_keep), comparing first with the latest kept: records mostly
 * come in time order, and then that one compare is all. */
static void hit_keep(struct hit *e, const struct mm_evref *r)
{
	int i;
	if (e->nref == MM_EVIDENCE_MAX) {
		if (!mm_evref_before(r, &e->refs[e->worst]))
			return;
		e->refs[e->worst] = *r;
	} else
		e->refs[e->nref++] = *r;
	for (i = 1, e->worst = 0; i < e->nref; i++)
		if (mm_evref_before(&e->refs[e->worst], &e->refs[i]))
			e->worst = (uint8_t)i;
}

/* Fold entry o (of another worker) into e, the same key. */
static void hit_merge(struct hit *e, const struct hit *o)
{
	int i;
	if (!e->count || o->first < e->first)
		e->first = o->first;
	if (!e->count || o->last > e->last)
		e->last = o->last;
	for (i = 0; i < o->nref; i++)
		hit_keep(e, &o->refs[i]);
	if (!e->count || mm_evref_before(&e->d.ref, &o->d.ref))
		e->d = o->d;
	for (i = 0; i < o->napis; i++)
		hit_api(e, &o->apis[i]);
	e->count += o->count;
}

/* The interned name of the file evidence cites (one intern per file, not
 * per match: interning takes a process-wide lock). */
static const char *ref_file(struct state *s, const struct mm_detect_ctx *c,
                            const struct mm_event *ev)
{
	const char *file = c->file && c->file->rel ? c->file->rel : ev->loc.file;
	if (file != s->ref_src || !s->ref_file) {
		struct mm_evref r;
		mm_evref_take(&r, c, ev, 0);
		s->ref_src = file;
		s->ref_file = r.file;
	}
	return s->ref_file;
}

static void emit_direct(struct state *s, struct mm_detect_ctx *c, const struct mm_sigma_set *set,
                        int ri, const struct mm_event *ev)
{
	const struct mm_sigma_rule *r = set->r[ri];
	const struct mm_api *a = &ev->u.api;
	struct mm_finding *f;
	char kb[40];
	int latest;
	f = mm_emit(c, rule_type(set, r), a->account.n ? a->account : a->who.account_id,
	            mm_api_principal(a), rule_key(r, kb, sizeof(kb)), ev, a->time_ms, a->time_ms,
	            &latest);
	if (!f)
		return;
	f->severity = rule_sev(set, r);
	mm_finding_add_api(f, a->event_name.p, a->event_name.n, a->time_ms);
	if (!latest)
		return;
	f->role = MM_ROLE_TARGET;
	mm_finding_set_api(f, a);
	if (!f->info[0])
		set_info(f, set, r, NULL, &s->info);
}

static void emit_rule(struct state *s, struct mm_detect_ctx *c, const struct mm_sigma_set *set,
                      int ri, const struct mm_event *ev)
{
	const struct mm_api *a = &ev->u.api;
	char principal[128], account[32];
	struct mm_api_call call;
	struct mm_evref ref;
	struct hit *e;
	mm_str_copy(principal, sizeof(principal), mm_api_principal(a));
	if (!principal[0])
		return;
	mm_str_copy(account, sizeof(account), a->account.n ? a->account : a->who.account_id);
	if (!(e = hit_get(s, ri, principal, account, LOCAL_MAX))) {
		emit_direct(s, c, set, ri, ev);
		return;
	}
	ref.file = ref_file(s, c, ev);
	ref.line = ev->loc.line;
	ref.offset = ev->loc.offset;
	ref.time_ms = a->time_ms;
	if (!e->count || a->time_ms < e->first)
		e->first = a->time_ms;
	if (!e->count || a->time_ms > e->last)
		e->last = a->time_ms;
	hit_keep(e, &ref);
	if (!e->count || mm_evref_before(&e->d.ref, &ref))
		take_details(&e->d, a, &ref);
	mm_str_copy(call.name, sizeof(call.name), a->event_name);
	call.count = 1;
	call.first_ms = call.last_ms = a->time_ms;
	hit_api(e, &call);
	e->count++;
}

/* Finish: one finding per entry, the table emptied. */
static void emit_hits(struct state *s, struct mm_detect_ctx *c, const struct mm_sigma_set *set)
{
	size_t i;
	int k, n, latest;
	for (i = 0; i < s->nhit; i++) {
		struct hit *e = s->hits_t[i];
		const struct mm_sigma_rule *r;
		struct mm_evref refs[MM_EVIDENCE_MAX + 1];
		struct mm_finding *f;
		char kb[40];
		mm_emit_done(c); /* the last hit's finding may be packed */
		if (!set || e->rule >= set->n)
			continue;
		r = set->r[e->rule];
		memcpy(refs, e->refs, sizeof(e->refs[0]) * e->nref);
		n = e->nref;
		for (k = 0;
		     k < n && (refs[k].file != e->d.ref.file || refs[k].line != e->d.ref.line); k++)
			;
		if (k == n)	/* the latest is not among the earliest: cite it too */
			refs[n++] = e->d.ref;
		f = mm_emit_refs(c, rule_type(set, r), mm_str_c(e->account), mm_str_c(e->principal),
				 rule_key(r, kb, sizeof(kb)), refs, n, e->first, e->last, &latest);
		if (!f)
			continue;
		f->count += e->count - 1;	/* the finding counts the matching records */
		f->severity = rule_sev(set, r);
		for (k = 0; k < e->napis; k++) {
			int j;
			mm_finding_add_api(f, e->apis[k].name, strlen(e->apis[k].name),
			                   e->apis[k].first_ms);
			for (j = 0; j < f->napis; j++)
				if (!strcmp(f->apis[j].name, e->apis[k].name)) {
					f->apis[j].count += e->apis[k].count - 1;
					f->apis[j].last_ms =
					    MM_MAX(f->apis[j].last_ms, e->apis[k].last_ms);
				}
		}
		if (!latest)
			continue;
		f->role = MM_ROLE_TARGET;
		set_details(f, &e->d);
		if (!f->info[0])
			set_info(f, set, r, NULL, &s->info);
	}
	hits_clear(s);
}

/* ---- host events ------------------------------------------------------ */

/* The entity a host event's findings are on: the instance id when
 * known, else the host name (docs/internals/sigma.md). */
static struct mm_str host_entity(const struct mm_host *h)
{
	return h->instance_id.n ? h->instance_id : h->host.n ? h->host : mm_str_c("unknown-host");
}

/* A finding on a host event: the Runtime resource, the process (and the
 * remote side, when the event has one) from the event. */
static void emit_host(struct state *s, struct mm_detect_ctx *c, const struct mm_sigma_set *set,
                      int ri, const struct mm_event *ev)
{
	const struct mm_sigma_rule *r = set->r[ri];
	const struct mm_host *h = &ev->u.host;
	struct mm_process *p;
	struct mm_finding *f;
	char kb[40];
	int latest;
	f = mm_emit(c, rule_type(set, r), mm_str_make("", 0), host_entity(h), rule_key(r, kb, sizeof(kb)),
	            ev, h->time_ms, h->time_ms, &latest);
	if (!f)
		return;
	f->res_type = MM_RES_RUNTIME;
	f->severity = rule_sev(set, r);
	if (!latest)
		return;
	f->role = MM_ROLE_TARGET;
	p = &f->proc;
	memset(p, 0, sizeof(*p));
	mm_str_copy(p->name, sizeof(p->name), h->name.n ? h->name : h->program);
	mm_str_copy(p->exe, sizeof(p->exe), h->exe);
	p->pid = h->pid;
	p->ppid = h->ppid;
	mm_str_copy(p->user, sizeof(p->user), h->user);
	mm_str_copy(p->cmdline, sizeof(p->cmdline), h->command);
	mm_str_copy(p->host, sizeof(p->host), h->host);
	if (h->instance_id.n)
		mm_str_copy(f->instance_id, sizeof(f->instance_id), h->instance_id);
	f->has_remote_ip = h->has_remote;
	f->has_local_ip = h->has_local;
	if (h->has_remote) {
		f->remote_ip = h->remote;
		f->remote_port = h->rport;
	}
	if (h->has_local) {
		f->local_ip = h->local;
		f->local_port = h->lport;
	}
	snprintf(f->protocol, sizeof(f->protocol), "%s",
	         h->proto == 6 ? "TCP" : h->proto == 17 ? "UDP" : "");
	if (!f->info[0])
		set_info(f, set, r, NULL, &s->info);
}

/* ---- correlation: adding a matched event -------------------------------- */

static void corr_add(struct state *s, struct mm_detect_ctx *c, const struct mm_sigma_set *set,
                     int ci, int ri, const struct mm_event *ev, struct mm_str rec)
{
	const struct mm_sigma_rule *cr = set->r[ci];
	const struct mm_sigma_corr *co = cr->corr;
	const struct mm_api *a = ev->kind == MM_EV_API ? &ev->u.api : NULL;
	int64_t t = a ? a->time_ms : ev->u.host.time_ms;
	char corr[MAX_KEY], principal[128], account[32], gval[MAX_GVAL], kb[40];
	struct gev e;
	struct grp *g;
	size_t k = 0;
	int pos, i;
	uint64_t h;
	for (pos = 0; pos < co->nrules && co->rule[pos] != ri; pos++)
		;
	if (pos == co->nrules)
		return;
	mm_str_copy(principal, sizeof(principal), a ? mm_api_principal(a) : host_entity(&ev->u.host));
	if (!principal[0])
		return;
	mm_str_copy(account, sizeof(account),
	            !a ? mm_str_make("", 0) : a->account.n ? a->account : a->who.account_id);
	if (!account[0] && c->file)
		snprintf(account, sizeof(account), "%s", c->file->account);
	snprintf(corr, sizeof(corr), "%s", rule_key(cr, kb, sizeof(kb)));
	gval[0] = '\0';
	for (i = 0; i < co->ngroup && k + 2 < sizeof(gval); i++) {
		char v[256];
		mm_sigma_field_text(rec, co->gfield[i][pos], &s->sc, v, sizeof(v));
		k += (size_t)snprintf(gval + k, sizeof(gval) - k, "%s%s", i ? "\x1f" : "", v);
		if (k >= sizeof(gval))
			k = sizeof(gval) - 1;
	}
	memset(&e, 0, sizeof(e));
	e.t = t;
	e.pos = (uint8_t)pos;
	if (co->type == MM_SIGMA_VALUE_COUNT) {
		char v[512];
		uint64_t vh = 0x9e37;
		int got = 0;
		for (i = 0; i < co->nfield; i++) {
			got += mm_sigma_field_text(rec, co->field[i], &s->sc, v, sizeof(v)) > 0;
			vh = mm_hash(v, strlen(v) + 1, vh);
		}
		e.vh = got ? (vh ? vh : 1) : 0;
	}
	mm_evref_take(&e.ref, c, ev, t);
	h = grp_hash(corr, principal, account, gval);
	if (!(g = grp_find(s, h, corr, principal, account, gval))) {
		if (s->n >= (size_t)c->params[P_MAX_GROUPS]) {
			s->drop_groups++;
			return;
		}
		if (!(g = grp_new(corr, principal, account, gval)) || grp_insert(s, g)) {
			grp_free(g);
			s->drop_events++;
			return;
		}
		g->ci = ci;
	}
	if (grp_add(s, g, &e)) {
		s->drop_events++;
		return;
	}
	if (a && (!g->has_d || mm_evref_before(&g->d.ref, &e.ref))) {
		g->has_d = 1;
		take_details(&g->d, a, &e.ref);
	}
}

static void on_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	struct state *s = st;
	const struct mm_sigma_set *set = c->sigma;
	const struct mm_api *a = &ev->u.api;
	struct mm_str rec = ev->raw;
	int n, i, k;
	if (!set || !set->built || !s || (ev->kind == MM_EV_API && !ev->raw.n))
		return;
	if (s->sc_state == 0)
		s->sc_state = mm_sigma_scratch_init(&s->sc, MM_CT_MAX_RECORD) ? -1 : 1;
	if (s->sc_state < 0)
		return;
	s->ev_cap = (uint32_t)c->params[P_MAX_EVENTS];
	if (ev->kind == MM_EV_HOST)
		n = mm_sigma_set_match_host(set, ev, &s->sc, s->hits, MAX_HITS);
	else
		n = mm_sigma_set_match(set, a, ev->raw, &s->sc, s->hits, MAX_HITS);
	for (i = 0; i < n && i < MAX_HITS; i++) {
		int ri = s->hits[i];
		if (set->r[ri]->emit)
			ev->kind == MM_EV_HOST ? emit_host(s, c, set, ri, ev) : emit_rule(s, c, set, ri, ev);
		if (set->ncorr_of[ri] && ev->kind == MM_EV_HOST && !s->view) {
			/* group-by and counted fields come from the event's view */
			if (!(s->view = mm_malloc(MM_SIGMA_HOST_VIEW_MAX)))
				continue;
		}
		if (set->ncorr_of[ri] && ev->kind == MM_EV_HOST)
			rec = mm_str_make(s->view, mm_sigma_host_view(ev, s->view, MM_SIGMA_HOST_VIEW_MAX));
		for (k = 0; k < set->ncorr_of[ri]; k++)
			corr_add(s, c, set, set->corr_of[ri][k], ri, ev, rec);
	}
}

/* ---- merge ------------------------------------------------------------ */

static int merge(void *dstv, void *srcv)
{
	struct state *d = dstv, *s = srcv;
	size_t i;
	uint32_t j;
	d->drop_groups += s->drop_groups;
	d->drop_events += s->drop_events;
	d->ev_cap = s->ev_cap;
	for (i = 0; i < s->nhit; i++) {
		const struct hit *o = s->hits_t[i];
		/* the merged table may hold every worker's: no cap */
		struct hit *e = hit_get(d, o->rule, o->principal, o->account, (size_t)-1);
		if (!e)
			return MM_ENOMEM;
		hit_merge(e, o);
	}
	for (i = 0; i < s->n; i++) {
		struct grp *g = s->g[i],
		           *t = grp_find(d, g->h, g->corr, g->principal, g->account, g->gval);
		if (!t) {
			if (grp_insert(d, g))
				return MM_ENOMEM;
			s->g[i] = NULL;
			continue;
		}
		for (j = 0; j < g->n; j++)
			if (grp_add(d, t, &g->e[j]))
				return MM_ENOMEM;
		if (g->has_d && (!t->has_d || mm_evref_before(&t->d.ref, &g->d.ref))) {
			t->has_d = 1;
			t->d = g->d;
		}
		if (t->ci < 0)
			t->ci = g->ci;
	}
	/* what moved is the destination's now; the caller frees the rest */
	for (i = 0, j = 0; i < s->n; i++)
		if (s->g[i])
			s->g[j++] = s->g[i];
	s->n = j;
	return 0;
}

/* ---- finish ------------------------------------------------------------ */

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return (a > b) - (a < b);
}

/* Does the window e[i..j) satisfy the correlation? */
static int window_ok(struct state *s, const struct mm_sigma_corr *co, const struct gev *e,
                     uint32_t i, uint32_t j)
{
	uint32_t k, n = 0;
	uint64_t distinct = 0;
	switch (co->type) {
	case MM_SIGMA_EVENT_COUNT:
		return j - i >= co->min;
	case MM_SIGMA_VALUE_COUNT:
		if (j - i < co->min)
			return 0;
		for (k = i; k < j; k++)
			if (e[k].vh)
				s->tmp[n++] = e[k].vh;
		qsort(s->tmp, n, sizeof(*s->tmp), cmp_u64);
		for (k = 0; k < n; k++)
			distinct += !k || s->tmp[k] != s->tmp[k - 1];
		return distinct >= co->min;
	case MM_SIGMA_TEMPORAL: {
		uint32_t mask = 0;
		for (k = i; k < j; k++)
			mask |= 1u << e[k].pos;
		return (uint64_t)__builtin_popcount(mask) >= co->min;
	}
	case MM_SIGMA_TEMPORAL_ORDERED: {
		/* the first min rules in the order named, at non-decreasing
		 * times (events of one second count as in order: CloudTrail
		 * times are to the second); greedy earliest is optimal */
		uint64_t next = 0;
		for (k = i; k < j && next < co->min; k++)
			if (e[k].pos == next)
				next++;
		return next >= co->min;
	}
	}
	return 0;
}

/* The correlation rule of a group loaded from the store: by its key. */
static int resolve_group(const struct mm_sigma_set *set, const struct grp *g)
{
	char kb[40];
	int i;
	if (g->ci >= 0 && g->ci < set->n && set->r[g->ci]->corr &&
	    !strcmp(rule_key(set->r[g->ci], kb, sizeof(kb)), g->corr))
		return g->ci;
	for (i = 0; i < set->n; i++)
		if (set->r[i]->corr && set->r[i]->status == MM_SIGMA_OK &&
		    !strcmp(rule_key(set->r[i], kb, sizeof(kb)), g->corr))
			return i;
	return -1;
}

static void emit_group(struct state *s, struct mm_detect_ctx *c, const struct mm_sigma_set *set,
                       struct grp *g, const struct mm_sigma_rule *cr)
{
	const struct mm_sigma_corr *co = cr->corr;
	struct mm_evref refs[MM_EVIDENCE_MAX + 1];
	uint8_t nref = 0;
	int32_t *cover;
	uint32_t i, j = 0, delta = 0;
	int64_t first = 0, last = 0;
	int latest, have_last = 0, depth = 0;
	struct mm_evref lastref;
	struct mm_finding *f;
	char kb[40], gtxt[MAX_GVAL];
	if (!g->n)
		return;
	qsort(g->e, g->n, sizeof(*g->e), gev_cmp);
	if (s->ntmp < g->n) {
		uint64_t *nt = mm_realloc(s->tmp, g->n * sizeof(*nt));
		if (!nt)
			return;
		s->tmp = nt;
		s->ntmp = g->n;
	}
	if (!(cover = mm_calloc(g->n + 1, sizeof(*cover))))
		return;
	for (i = 0; i < g->n; i++) {
		while (j < g->n && g->e[j].t - g->e[i].t <= co->timespan_ms)
			j++;
		if (window_ok(s, co, g->e, i, j)) {
			cover[i]++;
			cover[j]--;
		}
	}
	memset(&lastref, 0, sizeof(lastref));
	for (i = 0; i < g->n; i++) {
		struct gev *e = &g->e[i];
		depth += cover[i];
		if (!depth || e->in)
			continue;
		e->in = 1;
		if (!delta++ || e->t < first)
			first = e->t;
		if (e->t > last || delta == 1)
			last = e->t;
		mm_evref_keep(refs, &nref, MM_EVIDENCE_MAX, &e->ref);
		if (!have_last || mm_evref_before(&lastref, &e->ref)) {
			lastref = e->ref;
			have_last = 1;
		}
	}
	mm_free(cover);
	if (!delta)
		return;
	for (i = 0; i < nref && mm_evref_before(&refs[i], &lastref); i++)
		;
	if (i == nref)	/* the latest is not among the earliest kept: cite it too */
		refs[nref++] = lastref;
	f = mm_emit_refs(c, rule_type(set, cr), mm_str_c(g->account), mm_str_c(g->principal),
			 rule_key(cr, kb, sizeof(kb)), refs, nref, first, last, &latest);
	if (!f)
		return;
	f->count += delta - 1;	/* the finding counts the events in the correlation */
	f->severity = rule_sev(set, cr);
	if (host_rule(set, cr))
		f->res_type = MM_RES_RUNTIME;
	if (!latest)
		return;
	f->role = MM_ROLE_TARGET;
	if (host_rule(set, cr)) {
		snprintf(f->proc.host, sizeof(f->proc.host), "%s", g->principal);
	} else if (g->has_d) {
		set_details(f, &g->d);
		mm_finding_add_api(f, g->d.api, strlen(g->d.api), g->d.ref.time_ms);
	}
	snprintf(gtxt, sizeof(gtxt), "%s", g->gval);
	for (i = 0; gtxt[i]; i++)
		if (gtxt[i] == '\x1f')
			gtxt[i] = ',';
	set_info(f, set, cr, gtxt, &s->info);
}

static void finish(void *st, struct mm_detect_ctx *c)
{
	struct state *s = st;
	const struct mm_sigma_set *set = c->sigma;
	int64_t late = (int64_t)c->params[P_LATE] * 60000, newest = INT64_MIN;
	size_t i, o = 0;
	s->ev_cap = (uint32_t)c->params[P_MAX_EVENTS];
	/* the detection rules' findings of the batch, now whole */
	emit_hits(s, c, set);
	for (i = 0; i < s->n; i++) {
		struct grp *g = s->g[i];
		grp_trim(s, g, s->ev_cap);
		if (g->n && g->newest > newest)
			newest = g->newest;
		if (!set || !set->built || (g->ci = resolve_group(set, g)) < 0)
			continue;
		emit_group(s, c, set, g, set->r[g->ci]);
		mm_emit_done(c);
	}
	if (s->drop_groups + s->drop_events > s->warned) {
		mm_warn(
		    "sigma: %llu correlation events not kept: a bound was hit (max_groups groups, "
		    "max_group_events events a group, or out of memory)",
		    (unsigned long long)(s->drop_groups + s->drop_events - s->warned));
		s->warned = s->drop_groups + s->drop_events;
	}
	/* forget what can no longer meet new events: per group, events more
	 * than (timespan + late) behind its newest; groups that far behind
	 * the newest event of all. A group whose correlation is not loaded
	 * (this run has other rules) keeps its timespan unknown: 0. A scan
	 * without rules leaves the state as it was. */
	for (i = 0; set && i < s->n; i++) {
		struct grp *g = s->g[i];
		int64_t span = set && g->ci >= 0 ? set->r[g->ci]->corr->timespan_ms : 0;
		int64_t from = g->newest - span - late;
		uint32_t j, k = 0;
		for (j = 0; j < g->n; j++)
			if (g->e[j].t >= from)
				g->e[k++] = g->e[j];
		g->n = k;
		if (!g->n || g->newest < newest - span - late) {
			grp_free(g);
			continue;
		}
		s->g[o++] = g;
	}
	if (set && o != s->n) {
		s->n = o;
		rehash(s, s->nslots);	/* same size: cannot need more room */
	}
}

/* ---- save / load ------------------------------------------------------
 *
 * Sixteen rows ("shard-00".."shard-0f", every one written each time, so a
 * group that was forgotten leaves no row behind), each: u8 magic 'S',
 * u32 groups, then per group: corr key, principal, account (u8-length
 * strings), group values (u16), u8 has-details, details (a reference and
 * nine u8-length strings), u32 events, then per event: i64 time, u64
 * value hash, u8 rule position, u8 in, reference. */

static int put_group(struct mm_buf *b, const struct grp *g)
{
	const struct gdet *d = &g->d;
	const char *strs[] = {d->region, d->api,   d->source, d->ip, d->ua,
	                      d->user,   d->utype, d->pid,    d->err};
	size_t k;
	uint32_t j;
	int rc = mm_blob_put_str(b, g->corr, 1, MAX_KEY - 1);
	rc = rc ? rc : mm_blob_put_str(b, g->principal, 1, sizeof(g->principal) - 1);
	rc = rc ? rc : mm_blob_put_str(b, g->account, 1, sizeof(g->account) - 1);
	rc = rc ? rc : mm_blob_put_str(b, g->gval, 2, MAX_GVAL - 1);
	rc = rc ? rc : mm_blob_put_u(b, (uint64_t)g->has_d, 1);
	rc = rc ? rc : mm_blob_put_ref(b, &d->ref, MAX_FILE);
	for (k = 0; k < MM_ARRAY_LEN(strs); k++)
		rc = rc ? rc : mm_blob_put_str(b, strs[k], 1, 255);
	rc = rc ? rc : mm_blob_put_u(b, g->n, 4);
	for (j = 0; j < g->n && !rc; j++) {
		const struct gev *e = &g->e[j];
		rc = mm_blob_put_u(b, (uint64_t)e->t, 8);
		rc = rc ? rc : mm_blob_put_u(b, e->vh, 8);
		rc = rc ? rc : mm_blob_put_u(b, e->pos, 1);
		rc = rc ? rc : mm_blob_put_u(b, e->in, 1);
		rc = rc ? rc : mm_blob_put_ref(b, &e->ref, MAX_FILE);
	}
	return rc;
}

static int save(void *st, int (*put)(void *pctx, const char *entity, const void *blob, size_t n),
                void *pctx)
{
	struct state *s = st;
	struct mm_buf b;
	int sh, rc = 0;
	mm_buf_init(&b, 64u << 20);
	for (sh = 0; sh < SHARDS && !rc; sh++) {
		char ent[16];
		size_t i, cnt_at;
		uint32_t cnt = 0;
		mm_buf_reset(&b);
		rc = mm_blob_put_u(&b, BLOB_MAGIC, 1);
		cnt_at = b.len;
		rc = rc ? rc : mm_blob_put_u(&b, 0, 4);
		for (i = 0; i < s->n && !rc; i++) {
			size_t at = b.len;
			if ((s->g[i]->h & (SHARDS - 1)) != (uint64_t)sh)
				continue;
			rc = put_group(&b, s->g[i]);
			if (rc == MM_ETOOBIG) {
				/* a shard over 64 MB: the group is not kept */
				b.len = at;
				rc = 0;
				s->drop_groups++;
				continue;
			}
			cnt++;
		}
		if (rc)
			break;
		mm_le_put((unsigned char *)b.p + cnt_at, cnt, 4);
		snprintf(ent, sizeof(ent), "shard-%02x", sh);
		rc = put(pctx, ent, b.p, b.len);
	}
	mm_buf_free(&b);
	return rc;
}

/* One group from r, or NULL (r->bad set on a malformed one, else out of
 * memory). */
static struct grp *get_group(struct mm_blob_rd *r)
{
	char corr[MAX_KEY], principal[128], account[32], gval[MAX_GVAL];
	struct gdet d;
	char *strs[9];
	size_t sizes[9], k;
	struct grp *g;
	uint32_t n, j;
	int has_d;
	memset(&d, 0, sizeof(d));
	strs[0] = d.region, sizes[0] = sizeof(d.region);
	strs[1] = d.api, sizes[1] = sizeof(d.api);
	strs[2] = d.source, sizes[2] = sizeof(d.source);
	strs[3] = d.ip, sizes[3] = sizeof(d.ip);
	strs[4] = d.ua, sizes[4] = sizeof(d.ua);
	strs[5] = d.user, sizes[5] = sizeof(d.user);
	strs[6] = d.utype, sizes[6] = sizeof(d.utype);
	strs[7] = d.pid, sizes[7] = sizeof(d.pid);
	strs[8] = d.err, sizes[8] = sizeof(d.err);
	mm_blob_get_str(r, corr, sizeof(corr), 1);
	mm_blob_get_str(r, principal, sizeof(principal), 1);
	mm_blob_get_str(r, account, sizeof(account), 1);
	mm_blob_get_str(r, gval, sizeof(gval), 2);
	has_d = (int)mm_blob_get_u(r, 1);
	mm_blob_get_ref(r, &d.ref, MAX_FILE);
	for (k = 0; k < 9; k++)
		mm_blob_get_str(r, strs[k], sizes[k], 1);
	n = (uint32_t)mm_blob_get_u(r, 4);
	if (r->bad || has_d > 1 || !corr[0] || !principal[0] ||
	    n > (uint32_t)params[P_MAX_EVENTS].max || (size_t)(r->end - r->p) / 34 < n) {
		r->bad = 1;
		return NULL;
	}
	if (!(g = grp_new(corr, principal, account, gval)))
		return NULL;
	g->has_d = has_d;
	g->d = d;
	if (n && !(g->e = mm_malloc(n * sizeof(*g->e)))) {
		grp_free(g);
		return NULL;
	}
	g->cap = n;
	for (j = 0; j < n; j++) {
		struct gev *e = &g->e[j];
		uint64_t pos, in;
		e->t = (int64_t)mm_blob_get_u(r, 8);
		e->vh = mm_blob_get_u(r, 8);
		pos = mm_blob_get_u(r, 1);
		in = mm_blob_get_u(r, 1);
		mm_blob_get_ref(r, &e->ref, MAX_FILE);
		/* times are those of years 1-9999 (so window arithmetic never overflows) */
		if (r->bad || pos >= MM_SIGMA_CORR_RULES || in > 1 || e->t < MIN_MS || e->t > MAX_MS) {
			r->bad = 1;
			grp_free(g);
			return NULL;
		}
		e->pos = (uint8_t)pos;
		e->in = (uint8_t)in;
		if (!j || e->t > g->newest)
			g->newest = e->t;
		g->n++;
	}
	return g;
}

/* Merge one loaded group into s (taking it). */
static int keep_group(struct state *s, struct grp *g)
{
	struct grp *t = grp_find(s, g->h, g->corr, g->principal, g->account, g->gval);
	uint32_t j;
	int rc = 0;
	if (!t) {
		if ((rc = grp_insert(s, g)))
			grp_free(g);
		return rc;
	}
	for (j = 0; j < g->n && !rc; j++)
		rc = grp_add(s, t, &g->e[j]);
	if (g->has_d && (!t->has_d || mm_evref_before(&t->d.ref, &g->d.ref))) {
		t->has_d = 1;
		t->d = g->d;
	}
	grp_free(g);
	return rc;
}

static int load(void *st, const char *entity, int version, const void *blob, size_t n)
{
	struct state *s = st;
	struct mm_blob_rd r;
	const unsigned char *start;
	uint32_t cnt, i;
	int rc = 0;
	(void)entity;
	if (version != 1)
		return MM_EFORMAT;
	mm_blob_rd_init(&r, blob, n);
	if (mm_blob_get_u(&r, 1) != BLOB_MAGIC)
		return MM_EFORMAT;
	cnt = (uint32_t)mm_blob_get_u(&r, 4);
	if (r.bad)
		return MM_EFORMAT;
	/* read the whole row once before keeping any of it: a malformed row
	 * leaves the state as it was */
	start = r.p;
	for (i = 0; i < cnt; i++) {
		struct grp *g = get_group(&r);
		if (!g)
			return r.bad ? MM_EFORMAT : MM_ENOMEM;
		grp_free(g);
	}
	if (r.p != r.end)
		return MM_EFORMAT;
	r.p = start;
	for (i = 0; i < cnt && !rc; i++) {
		struct grp *g = get_group(&r);
		rc = g ? keep_group(s, g) : MM_ENOMEM;
	}
	return rc;
}

const struct mm_detector_def mm_det_sigma = {
	.name = "sigma",
	.kinds = MM_KIND_BIT(MM_EV_API) | MM_KIND_BIT(MM_EV_HOST),
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
