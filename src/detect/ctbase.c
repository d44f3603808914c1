/* ctbase.c - per-principal CloudTrail baselines, learned in event time,
 * and the findings for calls that leave them:
 * <Tactic>:IAMUser/AnomalousBehavior (eight tactics),
 * UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B,
 * UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS /
 * .InsideAWS and the opt-in UnauthorizedAccess:IAMUser/UnusualASNCaller
 * (docs/finding-types.md has the rules and every threshold's reason;
 * docs/internals/ctbase.md the design).
 *
 * The principal is what stays the same across credentials: the IAM
 * user's ARN, for an assumed role the role (sessionIssuer ARN), never
 * the access key (an STS session's key changes every hour or so). Calls
 * AWS makes on a principal's behalf (invokedBy, a service name as the
 * source address, AwsServiceEvent), AWS service principals and
 * service-linked roles are not learned and never fire (GuardDuty's
 * policy). An EC2 instance-role session (principalId ".../i-...") is
 * also kept as its own entity: the public addresses its credentials
 * are used from.
 *
 * What is learned per principal: the first time (earliest record by
 * (time, file, line)) each item was seen and how often - networks (the
 * caller's ASN, else its /24 or /48 when there is no ASN data), user-agent
 * families, APIs (with the tactic of apitactic.h and the network and
 * agent of their first call), hours of day, regions, the places (country,
 * else network) of successful console logins - plus the distinct active
 * days and, per hour, the places the principal acted from.
 *
 * Order-free by construction, as netbase: the baseline is what was seen
 * before ready = max(first record + learning_days, the end of the
 * min_active_days-th active day); an item first seen at or after it is
 * new. Findings are judged at finish from the items' earliest records,
 * so files may come in any order, per-thread states merge exactly (min
 * of first records, sums of counts, unions of sets kept smallest-first)
 * and two scans with the state saved between them equal one scan.
 *
 * Bounds: max_items APIs per principal and a quarter of it for each other
 * kind (the earliest kept; past the cap an item is neither learned nor
 * reported), CB_DAYS active days, CB_ACT hours of places (the latest),
 * CB_MAX_ENTS principals (new ones past it are not tracked and counted).
 *
 * Cost per record: a cheap filter, one hash of the principal's ARN (a
 * one-entry cache skips the table for runs of one principal), one cached
 * geo lookup and one cached user-agent family, and six or seven probes of
 * the principal's item table; allocation and formatting only when an
 * item is new or earlier than the one held. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/hash.h"
#include "core/intern.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strpool.h"
#include "detect/apitactic.h"
#include "detect/blob.h"
#include "detect/ctbase.h"
#include "detect/detect.h"
#include "geo/geo.h"

#define CB_MAX_ENTS (1u << 17)
#define CB_NAME_MAX 200		/* principal ARNs longer than this are not tracked */
#define CB_DAYS 16		/* the smallest distinct active days kept */
#define CB_ACT 48		/* hours of places kept (the latest, by hour % CB_ACT) */
#define CB_PLACES 4		/* places per hour (the smallest keys) */
#define CB_LABEL 56
#define CB_GEO_SLOTS 512
#define CB_UA_SLOTS 256
#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL

/* item kinds: the top byte of the key (never 0, so 0 is empty) */
enum { K_NET = 1, K_CC, K_UA, K_API, K_HOUR, K_REGION, K_LOGIN, K_IADDR, K__N };
#define KEY(k, v) ((uint64_t)(k) << 56 | ((uint64_t)(v) & 0x00ffffffffffffffULL))
#define KIND(key) ((int)((key) >> 56))

/* item flags */
#define F_REPORTED 1u	/* fired (its type's finding); kept in the stored state */
#define F_V6 2u		/* K_IADDR: an IPv6 address */
#define F_DONE 4u	/* judged for good: its details are no longer kept */
#define F_OTHER 8u	/* K_LOGIN: another place acted within login_concurrent_hours,
			 * in an hour the ring has let go of since (act_add) */

/* params, in the table's order */
enum {
	P_LEARN,
	P_MIN_DAYS,
	P_NOVEL_H,
	P_DISC_MIN,
	P_DISC_WIN,
	P_LOGIN_H,
	P_MAX_ITEMS,
	P_ASN_CALLER,
	P__N
};

static const struct mm_param params[] = {
	{"learning_days", 7, 1, 90, "days",
	 "a principal has a baseline once its records span this long: a week holds the weekly "
	 "cycle of people and jobs (GuardDuty learns about that long before its anomaly findings)"},
	{"min_active_days", 3, 1, CB_DAYS, "days",
	 "and once it was active on this many distinct days: a principal seen once in a week "
	 "has no profile, everything it does would look new"},
	{"novelty_hours", 24, 1, 720, "hours",
	 "a network or user agent counts as new for a call when first seen at most this long "
	 "before it (after the baseline): a stolen key's session, not a user's new ISP of last "
	 "month"},
	{"discovery_min_apis", 10, 1, 1000, "APIs",
	 "Discovery fires on this many distinct new read APIs within discovery_window_seconds: "
	 "enumeration tools (Pacu, enumerate-iam, ScoutSuite) issue tens to hundreds, a person "
	 "opening an unfamiliar console page 3-8"},
	{"discovery_window_seconds", 3600, 60, 86400, "seconds",
	 "the burst window for discovery_min_apis: tools finish in minutes, an hour takes slow ones"},
	{"login_concurrent_hours", 1, 0, 24, "hours",
	 "ConsoleLoginSuccess.B needs activity from another place within this many hours of the "
	 "login from a new place (GuardDuty: logins worldwide at about the same time); a traveller's "
	 "first login abroad is hours from the last one at home"},
	{"max_items", 512, 16, 4096, "items",
	 "APIs kept per principal (a quarter of it for networks, agents, regions, logins): people "
	 "call a few hundred distinct APIs in a month, automation tens; the earliest are kept"},
	{"unusual_asn_caller", 0, 0, 1, "bool",
	 "UnusualASNCaller (retired by GuardDuty: any call from a new network) is opt-in: alone it "
	 "fires on every new ISP, VPN or hotel network"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static const char *const tactic_types[MM_TAC__N] = {
	[MM_TAC_CREDENTIAL_ACCESS] = "CredentialAccess:IAMUser/AnomalousBehavior",
	[MM_TAC_DEFENSE_EVASION] = "DefenseEvasion:IAMUser/AnomalousBehavior",
	[MM_TAC_DISCOVERY] = "Discovery:IAMUser/AnomalousBehavior",
	[MM_TAC_EXFILTRATION] = "Exfiltration:IAMUser/AnomalousBehavior",
	[MM_TAC_IMPACT] = "Impact:IAMUser/AnomalousBehavior",
	[MM_TAC_INITIAL_ACCESS] = "InitialAccess:IAMUser/AnomalousBehavior",
	[MM_TAC_PERSISTENCE] = "Persistence:IAMUser/AnomalousBehavior",
	[MM_TAC_PRIVILEGE_ESCALATION] = "PrivilegeEscalation:IAMUser/AnomalousBehavior",
};
#define T_LOGIN "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B"
#define T_OUTSIDE "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
#define T_INSIDE "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS"
#define T_ASN "UnauthorizedAccess:IAMUser/UnusualASNCaller"

/* The details of an item's first call, to write its finding from finish,
 * as a record gives them (each string cut to its field). */
struct cb_det {
	char akid[32], pid[128], user[64], utype[24], src[48], api[64], ua[128], region[24];
	char err[40];
	char acct[16], cc[3];
	struct mm_ip ip;
	uint8_t has_ip, aws;
};

/* The string fields of a det, in the order they are packed and stored. */
enum { D_AKID, D_PID, D_USER, D_UTYPE, D_SRC, D_API, D_UA, D_REGION, D_ERR, D_ACCT, D__N };
#define DF(f) {offsetof(struct cb_det, f), sizeof(((struct cb_det *)0)->f)}
static const struct {
	size_t off, cap;
} dfield[D__N] = {DF(akid), DF(pid),	DF(user),   DF(utype), DF(src),
		  DF(api),  DF(ua),	DF(region), DF(err),   DF(acct)};
#undef DF

/* A det as an item keeps it: its strings as ids in the process's shared
 * string pool (core/strpool.h), 64 bytes. Tens of thousands of items
 * hold one while a scan runs, and the same agent, principal, access key
 * and API names repeat on most of them (each copied, they took ~260
 * bytes and a malloc each: ~30 MB of the CloudTrail bench's peak). */
struct cb_pdet {
	struct mm_ip ip;
	uint8_t has_ip, aws;
	char cc[3];
	uint32_t s[D__N];
};

/* The item table's slot: everything a record of a known item reads and
 * writes, 16 bytes, so the common case (a later call of a known item)
 * touches one cache line and never the item itself. t is the first
 * record's time in whole seconds (floor, clamped to [0, UINT32_MAX]): a
 * record in a later second is later than the first; in the same second
 * the item's full ref decides. */
struct cb_hot {
	uint64_t key;	/* 0 = empty */
	uint32_t t;
	uint32_t count;
};

/* The rest of an item, in a dense array (the slot's ix says where): the
 * table keeps a quarter of its slots empty, the items do not. */
struct cb_item {
	uint64_t key;
	struct mm_evref ref;		/* the earliest record */
	uint64_t ctx_net, ctx_ua;	/* K_API: the first call's network and agent keys */
	uint8_t flags, tactic;
	uint32_t label;			/* what it is, for additionalInfo: an id in the
					 * shared string pool (0: none yet) */
	struct cb_pdet *det;		/* NULL once it cannot fire */
};

struct cb_act {		/* the places of one hour */
	uint32_t hour;	/* event time / 1 h + 1; 0 = empty */
	uint8_t n;
	uint64_t place[CB_PLACES];
};

/* What every record reads comes first (88 bytes, then the name: two
 * cache lines for a usual ARN, where the layout in the order of meaning
 * took five or six); the rarely read parts follow. */
struct cb_ent {
	uint64_t h;
	int64_t tmin, tmax;		/* ms; tmin > tmax: none yet */
	uint64_t last_place;		/* of the last act_add (see last_hour) */
	uint32_t nlen;
	uint32_t last_day;
	uint32_t last_hour;		/* act_add(last_hour, last_place) was done: again
					 * would change nothing (act only grows: later
					 * hours, smaller places), so it is skipped */
	uint32_t icap, nitems, ccap;	/* slots, items, room in it */
	uint8_t inst;			/* an instance-role session */
	uint8_t ndays;
	struct cb_hot *hot;		/* icap slots */
	uint16_t *ix;			/* icap: the slot's item in it (items < 2^16: the caps) */
	struct cb_item *it;		/* nitems of ccap, dense */
	char name[CB_NAME_MAX + 1];
	uint32_t nkind[K__N];
	int64_t kmax[K__N];		/* at a kind's cap: its latest first time (an upper bound) */
	uint64_t days[CB_DAYS];		/* day numbers + 1, the smallest, ascending */
	struct cb_act *act;		/* CB_ACT, made at the first act_add: an
					 * instance session has none (1.9 KB each) */
};

struct cb_geo {		/* one cached lookup */
	struct mm_ip ip;
	uint8_t used, aws;
	uint32_t asn;
	char cc[3];
	char org[32];
	uint64_t nk, place;	/* net_key() and place_of() of it */
};

struct cb_ua {
	uint64_t h;	/* hash of the whole user agent + 1; 0 = empty */
	uint64_t key;
	char label[CB_LABEL];
};

struct cb_state {
	size_t cap, n;
	struct cb_ent **t;
	uint64_t *th;		/* cap: t[j]'s hash, so a probe reads no entity until one agrees */
	struct cb_ent *recent;
	double p[P__N];
	uint64_t dropped, warned;	/* principals not tracked (CB_MAX_ENTS) */
	const char *raw_file, *int_file;
	struct cb_geo geo[CB_GEO_SLOTS];
	struct cb_ua ua[CB_UA_SLOTS];
};

/* ---- small helpers -------------------------------------------------------- */

static const double *state_params(struct cb_state *s, const struct mm_detect_ctx *c)
{
	if (c && c->params)
		memcpy(s->p, c->params, sizeof(s->p));
	return s->p;
}

/* Copy src into a label, keeping it a safe JSON string body: double
 * quotes become single ones, backslashes and control bytes spaces. */
static void label_set(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i, k = 0;
	for (i = 0; i < n && k + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[k++] = ch == '"' ? '\'' : (ch < 0x20 || ch == '\\' || ch >= 0x7f) ? ' ' : (char)ch;
	}
	dst[k] = '\0';
}

/* Where z (2 bytes or more) first occurs in s, or NULL. 16 bytes at a
 * time find the places of z's first two bytes, then one memcmp: it runs
 * once or twice a record (skip_call) on ARNs that hold a few ':' and
 * '/', where glibc's memmem (two-way, no SIMD) cost ~370 instructions a
 * call and a memchr to each ':' ~340. */
static const char *str_find(struct mm_str s, const char *z)
{
	size_t n = strlen(z), i = 0;
	const char *p = s.p;

	if (n < 2 || s.n < n)
		return NULL;
#if defined(__SSE2__)
	for (; i + 17 <= s.n && i + n <= s.n; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8(z[0])),
				      _mm_cmpeq_epi8(b, _mm_set1_epi8(z[1]))));
		for (; m; m &= m - 1) {
			size_t k = i + (size_t)__builtin_ctz(m);
			if (k + n <= s.n && memcmp(p + k + 2, z + 2, n - 2) == 0)
				return p + k;
		}
	}
#endif
	for (; i + n <= s.n; i++)
		if (p[i] == z[0] && memcmp(p + i + 1, z + 1, n - 1) == 0)
			return p + i;
	return NULL;
}

static int str_has(struct mm_str s, const char *z)
{
	return str_find(s, z) != NULL;
}

/* "name/version..." at p (n bytes) -> "name/major" into out. */
static void tool_major(const char *p, size_t n, char *out, size_t cap)
{
	size_t i = 0, j;
	char tmp[CB_LABEL];
	while (i < n && p[i] != '/' && p[i] != ' ')
		i++;
	if (i >= n || p[i] != '/') {
		label_set(out, cap, p, i);
		return;
	}
	j = i + 1;
	while (j < n && p[j] >= '0' && p[j] <= '9')
		j++;
	if (i > 32)
		i = 32;
	snprintf(tmp, sizeof(tmp), "%.*s/%.*s", (int)i, p, (int)(j - i - 1), p + i + 1);
	label_set(out, cap, tmp, strlen(tmp));
}

/* The tool family of a user agent, "name/major" (docs/internals/ctbase.md):
 * Terraform wherever it appears (its AWS provider puts other tokens
 * first), "browser" for the console and browsers, "AWS Internal", else
 * the first token: "aws-cli/2", "Boto3/1", "aws-sdk-go-v2/1"... */
void mm__ctbase_ua_family(struct mm_str ua, char *out, size_t cap)
{
	const char *p = ua.p, *t;
	size_t n = ua.n;

	while (n && (*p == '[' || *p == ' '))
		p++, n--;
	if (!n) {
		snprintf(out, cap, "none");
		return;
	}
	if ((t = str_find((struct mm_str){p, n}, "Terraform/"))) {
		tool_major(t, n - (size_t)(t - p), out, cap);
		return;
	}
	if ((n >= 8 && memcmp(p, "Mozilla/", 8) == 0) || str_has(ua, "console.amazonaws.com") ||
	    str_has(ua, "console.aws.amazon.com") || str_has(ua, "signin.amazonaws.com")) {
		snprintf(out, cap, "browser");
		return;
	}
	if (n >= 12 && memcmp(p, "AWS Internal", 12) == 0) {
		snprintf(out, cap, "AWS Internal");
		return;
	}
	tool_major(p, n, out, cap);
}

/* Not learned, never fires: what AWS does on a principal's behalf, AWS
 * service principals and service-linked roles (GuardDuty's policy). */
static int skip_call(const struct mm_api *a)
{
	if (a->who.invoked_by.n || !a->has_source_ip || mm_str_eqz(a->who.type, "AWSService") ||
	    mm_str_eqz(a->event_type, "AwsServiceEvent"))
		return 1;
	/* service-linked roles are only ever assumed */
	return mm_str_eqz(a->who.type, "AssumedRole") &&
	       (str_has(a->who.issuer_arn, ":role/aws-service-role/") ||
		str_has(a->who.arn, ":assumed-role/AWSServiceRoleFor"));
}

/* The stable principal of a call (empty: none): the role for an assumed
 * role (sessionIssuer ARN, else the session ARN without its session
 * name), else the ARN, else the principal id. */
static struct mm_str principal_of(const struct mm_api *a)
{
	struct mm_str s = a->who.arn;
	if (mm_str_eqz(a->who.type, "AssumedRole")) {
		if (a->who.issuer_arn.n)
			return a->who.issuer_arn;
		while (s.n && s.p[s.n - 1] != '/')
			s.n--;
		if (s.n)
			s.n--;
		if (s.n)
			return s;
		s = a->who.arn;
	}
	return s.n ? s : a->who.principal_id;
}

/* An EC2 instance-role session: principalId "AROA...:i-<hex>". */
static int instance_session(const struct mm_api *a)
{
	struct mm_str p = a->who.principal_id;
	const char *colon;
	size_t i;
	if (!p.n || !mm_str_eqz(a->who.type, "AssumedRole") || !(colon = memrchr(p.p, ':', p.n)))
		return 0;
	i = (size_t)(colon - p.p) + 1;
	if (p.n - i < 10 || p.p[i] != 'i' || p.p[i + 1] != '-')
		return 0;
	for (i += 2; i < p.n; i++)
		if (!((p.p[i] >= '0' && p.p[i] <= '9') || (p.p[i] >= 'a' && p.p[i] <= 'f')))
			return 0;
	return 1;
}

/* ---- entities and items --------------------------------------------------- */

static void pdet_free(struct cb_pdet *d);

#define LBL(it) mm_sp_str((it)->label)

/* What an item holds outside itself. */
static void item_release(struct cb_item *it)
{
	pdet_free(it->det);
	mm_sp_put(it->label);
	it->det = NULL;
	it->label = 0;
}

static void ent_free(struct cb_ent *e)
{
	uint32_t i;
	if (!e)
		return;
	for (i = 0; i < e->nitems; i++)
		item_release(&e->it[i]);
	mm_free(e->it);
	mm_free(e->hot);
	mm_free(e->ix);
	mm_free(e->act);
	mm_free(e);
}

static struct cb_ent *ent_new(uint64_t h, const char *name, size_t n, int inst)
{
	struct cb_ent *e = mm_calloc(1, sizeof(*e));
	int k;
	if (!e)
		return NULL;
	e->h = h;
	memcpy(e->name, name, n);
	e->nlen = (uint32_t)n;
	e->inst = (uint8_t)inst;
	e->tmin = INT64_MAX;
	e->tmax = INT64_MIN;
	for (k = 0; k < K__N; k++)
		e->kmax[k] = INT64_MAX;
	return e;
}

static int tab_grow(struct cb_state *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 256, i;
	struct cb_ent **nt = mm_calloc(ncap, sizeof(*nt));
	uint64_t *nh = mm_calloc(ncap, sizeof(*nh));
	if (!nt || !nh) {
		mm_free(nt);
		mm_free(nh);
		return MM_ENOMEM;
	}
	for (i = 0; i < s->cap; i++)
		if (s->t[i]) {
			size_t j = s->t[i]->h & (ncap - 1);
			while (nt[j])
				j = (j + 1) & (ncap - 1);
			nt[j] = s->t[i];
			nh[j] = s->t[i]->h;
		}
	mm_free(s->t);
	mm_free(s->th);
	s->t = nt;
	s->th = nh;
	s->cap = ncap;
	return 0;
}

/* The entity named name (n bytes, hash h), created when absent; NULL
 * when out of memory or at CB_MAX_ENTS (counted). */
static struct cb_ent *ent_get(struct cb_state *s, uint64_t h, const char *name, size_t n, int inst)
{
	size_t j;
	struct cb_ent *e;

	if (s->recent && s->recent->h == h && s->recent->inst == inst && s->recent->nlen == n &&
	    memcmp(s->recent->name, name, n) == 0)
		return s->recent;
	if ((s->n + 1) * 4 > s->cap * 3 && tab_grow(s))
		return NULL;
	for (j = h & (s->cap - 1); (e = s->t[j]); j = (j + 1) & (s->cap - 1))
		if (s->th[j] == h && e->inst == inst && e->nlen == n && !memcmp(e->name, name, n))
			return s->recent = e;
	if (s->n >= CB_MAX_ENTS || n > CB_NAME_MAX) {
		s->dropped++;
		return NULL;
	}
	if (!(e = ent_new(h, name, n, inst)))
		return NULL;
	s->t[j] = e;
	s->th[j] = h;
	s->n++;
	return s->recent = e;
}

/* Start loading the home slot of key in e's table: a record probes five
 * or six keys whose slots are independent cache misses, so asking for
 * all of them before the first probe overlaps the waits. */
static void slot_prefetch(const struct cb_ent *e, uint64_t key)
{
	if (e->icap)
		__builtin_prefetch(&e->hot[(uint32_t)mm_hash_mix(key) & (e->icap - 1)]);
}

static uint64_t ent_hash(const char *name, size_t n, int inst)
{
	return mm_hash_fast(name, n, inst ? 0x696e7374ULL : 0x7072696eULL);
}

/* The item in slot j. */
#define IT(e, j) (&(e)->it[(e)->ix[j]])

/* A time in ms as a slot's t: whole seconds, floor, clamped. */
static uint32_t hot_t(int64_t ms)
{
	if (ms <= 0)
		return 0;
	return ms / 1000 >= (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)(ms / 1000);
}

/* Is a record at ms (> 0) surely later than slot j's first record? */
static int hot_later(const struct cb_hot *h, int64_t ms)
{
	return ms / 1000 > (int64_t)h->t;
}

static int item_find(const struct cb_ent *e, uint64_t key)
{
	uint32_t j;
	if (!e->icap)
		return -1;
	for (j = (uint32_t)mm_hash_mix(key) & (e->icap - 1); e->hot[j].key;
	     j = (j + 1) & (e->icap - 1))
		if (e->hot[j].key == key)
			return (int)j;
	return -1;
}

/* Double the slots (the items stay where they are). Slots are re-placed
 * in slot order, so a table's layout depends only on what was put in it
 * and when. */
static int item_grow(struct cb_ent *e)
{
	uint32_t ncap = e->icap ? e->icap * 2 : 16, i;
	struct cb_hot *nh = mm_calloc(ncap, sizeof(*nh));
	uint16_t *nx = mm_calloc(ncap, sizeof(*nx));
	if (!nh || !nx) {
		mm_free(nh);
		mm_free(nx);
		return MM_ENOMEM;
	}
	for (i = 0; i < e->icap; i++)
		if (e->hot[i].key) {
			uint32_t j = (uint32_t)mm_hash_mix(e->hot[i].key) & (ncap - 1);
			while (nh[j].key)
				j = (j + 1) & (ncap - 1);
			nh[j] = e->hot[i];
			nx[j] = e->ix[i];
		}
	mm_free(e->hot);
	mm_free(e->ix);
	e->hot = nh;
	e->ix = nx;
	e->icap = ncap;
	return 0;
}

/* Room for one more item in the dense array (x1.5). */
static int item_room(struct cb_ent *e)
{
	uint32_t ncap;
	struct cb_item *nt;
	if (e->nitems < e->ccap)
		return 0;
	ncap = e->ccap < 8 ? 8 : e->ccap + e->ccap / 2;
	if (!(nt = mm_realloc(e->it, (size_t)ncap * sizeof(*nt))))
		return MM_ENOMEM;
	e->it = nt;
	e->ccap = ncap;
	return 0;
}

/* Remove slot j and its item (linear probing: shift the followers back;
 * the last item moves into the freed place of the dense array). */
static void item_del(struct cb_ent *e, uint32_t j)
{
	uint32_t i, k, m = e->icap - 1, c = e->ix[j], last = e->nitems - 1;
	e->nkind[KIND(e->hot[j].key)]--;
	item_release(&e->it[c]);
	if (c != last) {
		e->it[c] = e->it[last];
		e->ix[item_find(e, e->it[c].key)] = (uint16_t)c;
	}
	memset(&e->it[last], 0, sizeof(e->it[last]));
	e->nitems--;
	memset(&e->hot[j], 0, sizeof(e->hot[j]));
	e->ix[j] = 0;
	for (i = (j + 1) & m; e->hot[i].key; i = (i + 1) & m) {
		k = (uint32_t)mm_hash_mix(e->hot[i].key) & m;
		/* move slot i to the hole when its home is not in (j, i] */
		if ((j < i) ? (k <= j || k > i) : (k <= j && k > i)) {
			e->hot[j] = e->hot[i];
			e->ix[j] = e->ix[i];
			memset(&e->hot[i], 0, sizeof(e->hot[i]));
			e->ix[i] = 0;
			j = i;
		}
	}
}

static int kind_cap(int kind, const double *p)
{
	int cap = (int)p[P_MAX_ITEMS];
	return kind == K_API ? cap : cap / 4 > 4 ? cap / 4 : 4;
}

/* Is e's table full for kind? Then some of its items may have been out
 * of it for a while (evicted, or refused while later than every kept
 * one) and missed records, and which ones depends on the order records
 * came in: the kept items and their first records are order-free, their
 * counts are not. Full or not is order-free (more distinct keys than the
 * cap, whatever the order), so counts of a full kind are neither stored
 * nor read (top_labels). */
static int kind_full(const struct cb_ent *e, int kind, const double *p)
{
	return (int)e->nkind[kind] >= kind_cap(kind, p);
}

/* Is (ref, key) before (ref2, key2)? The total order the caps keep by. */
static int item_before(const struct mm_evref *r, uint64_t key, const struct mm_evref *r2,
		       uint64_t key2)
{
	if (mm_evref_before(r, r2))
		return 1;
	if (mm_evref_before(r2, r))
		return 0;
	return key < key2;
}

/* A slot for a new item key first seen at ref, or -1: at its kind's cap
 * the latest item of the kind is evicted when the new one is earlier,
 * else the new one is not kept (so the kept set is the earliest whatever
 * the order). -2: out of memory. The item is zeroed but for its key and
 * ref.time_ms; the slot's count is 0. */
static int item_slot(struct cb_ent *e, uint64_t key, const struct mm_evref *ref, const double *p)
{
	int kind = KIND(key);
	uint32_t j;
	struct cb_item *it;

	if ((int)e->nkind[kind] >= kind_cap(kind, p)) {
		int worst = -1;
		/* later than every kept one: cannot get in (no scan) */
		if (ref->time_ms > e->kmax[kind])
			return -1;
		for (j = 0; j < e->icap; j++)
			if (e->hot[j].key && KIND(e->hot[j].key) == kind &&
			    (worst < 0 || item_before(&IT(e, worst)->ref, IT(e, worst)->key,
						      &IT(e, j)->ref, e->hot[j].key)))
				worst = (int)j;
		if (worst < 0)
			return -1;
		if (!item_before(ref, key, &IT(e, worst)->ref, IT(e, worst)->key)) {
			e->kmax[kind] = IT(e, worst)->ref.time_ms;
			return -1;
		}
		item_del(e, (uint32_t)worst);
		e->kmax[kind] = INT64_MAX; /* unknown until the next scan */
	}
	if ((e->nitems + 1) * 4 > e->icap * 3 && item_grow(e))
		return -2;
	if (item_room(e))
		return -2;
	for (j = (uint32_t)mm_hash_mix(key) & (e->icap - 1); e->hot[j].key;
	     j = (j + 1) & (e->icap - 1))
		;
	e->hot[j].key = key;
	e->hot[j].t = hot_t(ref->time_ms);
	e->hot[j].count = 0;
	e->ix[j] = (uint16_t)e->nitems;
	it = &e->it[e->nitems];
	memset(it, 0, sizeof(*it));
	it->key = key;
	it->ref.time_ms = ref->time_ms;
	e->nitems++;
	e->nkind[kind]++;
	return (int)j;
}

/* Add v to the set[0..*n) that keeps the cap smallest values (unsorted):
 * the same set whatever the order values come in. */
/* Keep the cap smallest distinct values of a set, ascending: the order
 * is part of the stored state, so it must not depend on arrival (how
 * files were split among threads). */
static void keep_smallest(uint64_t *set, uint8_t *n, int cap, uint64_t v)
{
	int i = *n;
	while (i > 0 && set[i - 1] > v)
		i--;
	if (i > 0 && set[i - 1] == v)
		return;
	if (i >= cap)
		return; /* not among the smallest */
	if (*n < cap)
		(*n)++;
	memmove(&set[i + 1], &set[i], (size_t)(*n - 1 - i) * sizeof(*set));
	set[i] = v;
}

static void days_add(struct cb_ent *e, uint32_t d)
{
	keep_smallest(e->days, &e->ndays, CB_DAYS, d);
}

/* The ring lets go of hour b->hour: the logins still waiting for their
 * judgement whose window (w hours either side) holds that hour learn now
 * whether it saw another place, since judge_logins, which reads the
 * ring, will not find it there. So a long batch (weeks of CloudTrail in
 * one scan, judged at its end) decides as a live one flushed hourly. */
static void act_evicted(struct cb_ent *e, const struct cb_act *b, uint32_t w)
{
	uint32_t i;
	int k;
	if (!e->nkind[K_LOGIN])
		return;
	for (i = 0; i < e->nitems; i++) {
		struct cb_item *it = &e->it[i];
		uint64_t pl = it->key & 0x00ffffffffffffffULL;
		uint32_t h;
		if (KIND(it->key) != K_LOGIN || !it->det ||
		    (it->flags & (F_REPORTED | F_DONE | F_OTHER)))
			continue;
		h = (uint32_t)(it->ref.time_ms / HOUR_MS) + 1;
		if (b->hour + w < h || b->hour > h + w)
			continue;
		for (k = 0; k < b->n; k++)
			if (b->place[k] != pl)
				it->flags |= F_OTHER;
	}
}

static void act_add(struct cb_ent *e, uint32_t hour, uint64_t place, uint32_t w)
{
	struct cb_act *b;
	if (!e->act && !(e->act = mm_calloc(CB_ACT, sizeof(*e->act))))
		return;
	b = &e->act[hour % CB_ACT];
	if (b->hour > hour)
		return;
	if (b->hour < hour) {
		if (b->hour)
			act_evicted(e, b, w);
		b->hour = hour;
		b->n = 0;
	}
	keep_smallest(b->place, &b->n, CB_PLACES, place);
}

/* ---- the per-record path -------------------------------------------------- */

/* The network of a call: its ASN, else its /24 (/48). */
static uint64_t net_key(const struct cb_geo *g, char *label, size_t cap)
{
	struct mm_ip pfx = g->ip;
	char ipb[MM_IP_STRLEN];
	if (g->asn) {
		if (label)
			snprintf(label, cap, "asnNumber: %u asnOrg: %s", g->asn, g->org);
		return KEY(K_NET, g->asn);
	}
	if (pfx.v6)
		memset(pfx.b + 6, 0, 10);
	else
		pfx.b[3] = 0;
	if (label)
		snprintf(label, cap, "network: %s/%d", mm_ip_format(&pfx, ipb), pfx.v6 ? 48 : 24);
	return KEY(K_NET, mm_hash(pfx.b, 16, pfx.v6) | 1ULL << 55);
}

/* Where a call came from for console logins and concurrency: its country,
 * else its network (g->nk, set first). */
static uint64_t place_of(const struct cb_geo *g)
{
	if (g->cc[0])
		return (uint64_t)(unsigned char)g->cc[0] << 8 | (unsigned char)g->cc[1];
	return g->nk & 0x00ffffffffffffffULL;
}

/* The owner of the call's address, from the per-state cache. */
static const struct cb_geo *geo_of(struct cb_state *s, const struct mm_detect_ctx *c,
				   const struct mm_ip *ip)
{
	uint64_t h = mm_hash_fast(ip->b, ip->v6 ? 16 : 4, ip->v6);
	struct cb_geo *g = &s->geo[h & (CB_GEO_SLOTS - 1)];
	struct mm_geo_info gi;

	if (g->used && g->ip.v6 == ip->v6 && memcmp(g->ip.b, ip->b, 16) == 0)
		return g;
	memset(g, 0, sizeof(*g));
	g->ip = *ip;
	g->used = 1;
	if (c->geo && mm_geo_lookup(c->geo, ip, &gi)) {
		g->asn = gi.asn;
		g->aws = (uint8_t)(gi.aws != 0);
		memcpy(g->cc, gi.cc, 3);
		label_set(g->org, sizeof(g->org), gi.as_org, strlen(gi.as_org));
	}
	g->nk = net_key(g, NULL, 0);
	g->place = place_of(g);
	return g;
}

static const struct cb_ua *ua_of(struct cb_state *s, struct mm_str ua)
{
	uint64_t h = mm_hash_fast(ua.p, ua.n, 0x7561) | 1;
	struct cb_ua *u = &s->ua[h & (CB_UA_SLOTS - 1)];
	if (u->h != h) {
		u->h = h;
		mm__ctbase_ua_family(ua, u->label, sizeof(u->label));
		u->key = KEY(K_UA, mm_hash(u->label, strlen(u->label), 0x7561));
	}
	return u;
}

static void det_fill(struct cb_det *d, const struct mm_api *a, const struct cb_geo *g)
{
	memset(d, 0, sizeof(*d));
	mm_str_copy(d->akid, sizeof(d->akid), a->who.access_key_id);
	mm_str_copy(d->pid, sizeof(d->pid), a->who.principal_id);
	mm_str_copy(d->user, sizeof(d->user),
		    a->who.user_name.n ? a->who.user_name : a->who.issuer_user_name);
	mm_str_copy(d->utype, sizeof(d->utype), a->who.type);
	label_set(d->src, sizeof(d->src), a->event_source.p, a->event_source.n);
	label_set(d->api, sizeof(d->api), a->event_name.p, a->event_name.n);
	mm_str_copy(d->ua, sizeof(d->ua), a->user_agent);
	mm_str_copy(d->region, sizeof(d->region), a->region);
	mm_str_copy(d->err, sizeof(d->err), a->error_code);
	mm_str_copy(d->acct, sizeof(d->acct), a->account.n ? a->account : a->who.account_id);
	memcpy(d->cc, g->cc, 3);
	d->ip = a->source_ip;
	d->has_ip = a->has_source_ip;
	d->aws = g->aws;
}

/* String field f of a packed det. */
static const char *pdet_str(const struct cb_pdet *d, int f)
{
	return mm_sp_str(d->s[f]);
}

static void pdet_free(struct cb_pdet *d)
{
	if (!d)
		return;
	mm_sp_put_n(d->s, D__N);
	mm_free(d);
}

/* Pack x into old's place (NULL: a new one). NULL when out of memory
 * (old is then freed). */
static struct cb_pdet *pdet_pack(const struct cb_det *x, struct cb_pdet *old)
{
	const char *p[D__N];
	size_t n[D__N];
	uint32_t ns[D__N];
	struct cb_pdet *d = old ? old : mm_malloc(sizeof(*d));
	int f;

	if (!d)
		return NULL;
	for (f = 0; f < D__N; f++) {
		p[f] = (const char *)x + dfield[f].off;
		n[f] = strnlen(p[f], dfield[f].cap - 1);
	}
	if (mm_sp_get_n(p, n, D__N, ns)) {
		if (!old)
			memset(d->s, 0, sizeof(d->s));
		pdet_free(d);
		return NULL;
	}
	if (old)
		mm_sp_put_n(old->s, D__N);
	memcpy(d->s, ns, sizeof(d->s));
	d->ip = x->ip;
	d->has_ip = x->has_ip;
	d->aws = x->aws;
	memcpy(d->cc, x->cc, sizeof(d->cc));
	return d;
}

static void pdet_unpack(const struct cb_pdet *d, struct cb_det *x)
{
	int f;
	memset(x, 0, sizeof(*x));
	for (f = 0; f < D__N; f++) {
		size_t n = mm_sp_len(d->s[f]);
		if (n > dfield[f].cap - 1)
			n = dfield[f].cap - 1;
		memcpy((char *)x + dfield[f].off, mm_sp_str(d->s[f]), n);
	}
	memcpy(x->cc, d->cc, sizeof(x->cc));
	x->ip = d->ip;
	x->has_ip = d->has_ip;
	x->aws = d->aws;
}

struct rec {	/* what touch needs of the record at hand */
	struct cb_state *s;
	struct mm_detect_ctx *c;
	const struct mm_event *ev;
	const struct mm_api *a;
	const struct cb_geo *g;
	const double *p;
	struct mm_evref ref;
	int has_ref;
};

static const struct mm_evref *rec_ref(struct rec *r)
{
	if (!r->has_ref) {
		const char *file = r->c->file && r->c->file->rel ? r->c->file->rel : r->ev->loc.file;
		if (!file)
			file = "";
		if (file != r->s->raw_file) {
			r->s->raw_file = file;
			r->s->int_file = mm_intern(file, strlen(file));
		}
		r->ref.file = r->s->int_file;
		r->ref.line = r->ev->loc.line;
		r->ref.offset = r->ev->loc.offset;
		r->ref.time_ms = r->a->time_ms;
		r->has_ref = 1;
	}
	return &r->ref;
}

/* Count one occurrence of key in e. Returns the item when the record
 * became its first (the earliest seen: the caller then sets its context;
 * details are filled here when want_det), else NULL (a later record, or
 * not kept at the cap). A label is a function of the key, so callers
 * format one only for a new item (its label still empty): records read
 * out of order make an item earliest again and again. */
static struct cb_item *touch(struct rec *r, struct cb_ent *e, uint64_t key, int want_det)
{
	int j = item_find(e, key), fresh = 0;
	struct cb_item *it;

	if (j < 0) {
		j = item_slot(e, key, rec_ref(r), r->p);
		if (j < 0)
			return NULL;
		fresh = 1;
	}
	if (e->hot[j].count < UINT32_MAX)
		e->hot[j].count++;
	if (!fresh && hot_later(&e->hot[j], r->a->time_ms))
		return NULL;
	it = IT(e, j);
	if (!fresh && !mm_evref_before(rec_ref(r), &it->ref))
		return NULL;
	it->ref = *rec_ref(r);
	e->hot[j].t = hot_t(it->ref.time_ms);
	if (want_det && !(it->flags & F_DONE)) {
		struct cb_det x;
		det_fill(&x, r->a, r->g);
		it->det = pdet_pack(&x, it->det);
	}
	return it;
}

/* Set it's label to z[0..n), cleaned and cut as label_set does. Out
 * of memory: the label stays as it was. */
static void item_label(struct cb_item *it, const char *z, size_t n)
{
	char b[CB_LABEL];
	uint32_t id;
	if (!it)
		return;
	label_set(b, sizeof(b), z, n);
	if ((it->label && strcmp(mm_sp_str(it->label), b) == 0) || mm_sp_get(b, strlen(b), &id))
		return;
	mm_sp_put(it->label);
	it->label = id;
}

static void set_label(struct cb_item *it, const char *z)
{
	item_label(it, z, strlen(z));
}

static int login_success(const struct mm_api *a)
{
	return mm_str_eqz(a->event_name, "ConsoleLogin") && str_has(a->response_elements, "Success");
}

static void on_event(void *state, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	struct cb_state *s = state;
	const struct mm_api *a = &ev->u.api;
	struct rec r;
	struct mm_str who;
	struct cb_ent *e;
	const struct cb_ua *ua;
	struct cb_item *it;
	uint64_t nk, place, ph, hk, rk = 0, ak;
	uint32_t hour;
	char buf[CB_LABEL];
	int signin;

	if (skip_call(a) || a->time_ms <= 0)
		return;
	who = principal_of(a);
	if (!who.n)
		return;
	memset(&r, 0, sizeof(r));
	r.s = s;
	r.c = c;
	r.ev = ev;
	r.a = a;
	r.p = state_params(s, c);
	r.g = geo_of(s, c, &a->source_ip);
	hour = (uint32_t)(a->time_ms / HOUR_MS) + 1;
	/* the principal's entity is loaded while the session's is worked on */
	ph = ent_hash(who.p, who.n, 0);
	if (s->cap && s->t[ph & (s->cap - 1)])
		__builtin_prefetch(s->t[ph & (s->cap - 1)]);

	/* the instance-role session: the public addresses its keys are used from */
	if (instance_session(a) && !mm_ip_is_private(&a->source_ip) &&
	    (e = ent_get(s, ent_hash(a->who.arn.p, a->who.arn.n, 1), a->who.arn.p, a->who.arn.n,
			 1))) {
		char ipb[MM_IP_STRLEN];
		if (a->time_ms < e->tmin)
			e->tmin = a->time_ms;
		if (a->time_ms > e->tmax)
			e->tmax = a->time_ms;
		it = touch(&r, e, KEY(K_IADDR, mm_hash(a->source_ip.b, 16, a->source_ip.v6)), 1);
		if (it && !it->label) {
			set_label(it, mm_ip_format(&a->source_ip, ipb));
			if (a->source_ip.v6)
				it->flags |= F_V6;
		}
	}

	if (!(e = ent_get(s, ph, who.p, who.n, 0)))
		return;
	place = r.g->place;
	nk = r.g->nk;
	ua = ua_of(s, a->user_agent);
	hk = KEY(K_HOUR, (hour - 1) % 24);
	if (a->region.n)
		rk = KEY(K_REGION, mm_hash(a->region.p, a->region.n, 0x7267));
	ak = KEY(K_API, mm_hash(a->event_name.p, a->event_name.n,
				mm_hash(a->event_source.p, a->event_source.n, 0x617069)));
	slot_prefetch(e, nk);
	if (r.g->cc[0])
		slot_prefetch(e, KEY(K_CC, place));
	slot_prefetch(e, ua->key);
	slot_prefetch(e, hk);
	if (rk)
		slot_prefetch(e, rk);
	slot_prefetch(e, ak);
	if (a->time_ms < e->tmin)
		e->tmin = a->time_ms;
	if (a->time_ms > e->tmax)
		e->tmax = a->time_ms;
	if ((uint32_t)(a->time_ms / DAY_MS) + 1 != e->last_day) {
		e->last_day = (uint32_t)(a->time_ms / DAY_MS) + 1;
		days_add(e, e->last_day);
	}
	if (hour != e->last_hour || place != e->last_place) {
		act_add(e, hour, place, (uint32_t)r.p[P_LOGIN_H]);
		e->last_hour = hour;
		e->last_place = place;
	}

	/* a network's details serve only the opt-in UnusualASNCaller */
	if ((it = touch(&r, e, nk, r.p[P_ASN_CALLER] >= 1)) && !it->label) {
		net_key(r.g, buf, sizeof(buf));
		set_label(it, buf);
	}
	if (r.g->cc[0])
		set_label(touch(&r, e, KEY(K_CC, place), 0), r.g->cc);
	set_label(touch(&r, e, ua->key, 0), ua->label);
	if ((it = touch(&r, e, hk, 0)) && !it->label) {
		snprintf(buf, sizeof(buf), "%02u", (unsigned)((hour - 1) % 24));
		set_label(it, buf);
	}
	if (a->region.n && (it = touch(&r, e, rk, 0)))
		item_label(it, a->region.p, a->region.n);
	signin = mm_str_eqz(a->event_source, "signin.amazonaws.com") ||
		 mm_str_eqz(a->event_type, "AwsConsoleSignIn");
	if (signin) {
		/* a sign-in is no API use: only its place is learned */
		if (login_success(a) && (it = touch(&r, e, KEY(K_LOGIN, place), 1)) &&
		    !it->label) {
			if (!r.g->cc[0])
				net_key(r.g, buf, sizeof(buf));
			set_label(it, r.g->cc[0] ? r.g->cc : buf);
		}
		return;
	}
	{
		int j = item_find(e, ak);
		/* the common case, a later call of a known API, touches one count */
		if (j >= 0 && hot_later(&e->hot[j], a->time_ms)) {
			if (e->hot[j].count < UINT32_MAX)
				e->hot[j].count++;
			return;
		}
		if ((it = touch(&r, e, ak, 1))) {
			if (!it->label)
				item_label(it, a->event_name.p, a->event_name.n);
			it->ctx_net = nk;
			it->ctx_ua = ua->key;
			/* the earliest call's: readOnly is the record's */
			it->tactic = (uint8_t)mm_api_tactic(a->event_source, a->event_name,
							    a->read_only);
		}
	}
}

/* ---- judging at finish ---------------------------------------------------- */

/* When the principal's baseline is complete (ms), or INT64_MAX. */
static int64_t ready_at(const struct cb_ent *e, const double *p)
{
	uint64_t d[CB_DAYS], t;
	int i, j, n = e->ndays, need = (int)p[P_MIN_DAYS];
	int64_t r;
	if (e->tmin > e->tmax || n < need || need < 1)
		return INT64_MAX;
	memcpy(d, e->days, sizeof(d));
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && d[j - 1] > d[j]; j--)
			t = d[j], d[j] = d[j - 1], d[j - 1] = t;
	r = e->tmin + (int64_t)(p[P_LEARN] * DAY_MS);
	/* days hold day + 1: the end of day d[need-1]-1 is d[need-1] * DAY_MS */
	if ((int64_t)d[need - 1] * DAY_MS > r)
		r = (int64_t)d[need - 1] * DAY_MS;
	return r;
}

static const struct cb_item *item_get(const struct cb_ent *e, uint64_t key)
{
	int j = item_find(e, key);
	return j < 0 ? NULL : IT(e, j);
}

/* Was key (a network or agent) new at time t: first seen after the
 * baseline and at most novelty_hours before t? */
static int novel(const struct cb_ent *e, uint64_t key, int64_t t, int64_t ready, const double *p)
{
	const struct cb_item *it = item_get(e, key);
	return it && it->ref.time_ms >= ready &&
	       t - it->ref.time_ms <= (int64_t)(p[P_NOVEL_H] * HOUR_MS);
}

/* The finding fields a det gives, as the record they came from. */
static void det_api(struct mm_api *a, const struct cb_det *d, const struct cb_item *it)
{
	memset(a, 0, sizeof(*a));
	a->time_ms = it->ref.time_ms;
	a->who.access_key_id = mm_str_c(d->akid);
	a->who.principal_id = mm_str_c(d->pid);
	a->who.user_name = mm_str_c(d->user);
	a->who.type = mm_str_c(d->utype);
	a->event_source = mm_str_c(d->src);
	a->event_name = mm_str_c(d->api);
	a->user_agent = mm_str_c(d->ua);
	a->region = mm_str_c(d->region);
	a->error_code = mm_str_c(d->err);
	a->account = mm_str_c(d->acct);
	a->source_ip = d->ip;
	a->has_source_ip = d->has_ip;
}

/* Append ", "-separated labels of the top n baseline items (before
 * ready) of kind into b, at most max bytes: by count, ties by key; of a
 * full kind (kind_full: counts not exact) the earliest instead. */
static void top_labels(const struct cb_ent *e, int kind, int64_t ready, int n, const double *p,
		       char *b, size_t max)
{
	int full = kind_full(e, kind, p);
	int picked[4] = {-1, -1, -1, -1}, k;
	uint32_t j;
	size_t len = 0;
	b[0] = '\0';
	for (k = 0; k < n && k < 4; k++) {
		int best = -1, q, skip;
		for (j = 0; j < e->icap; j++) {
			const struct cb_hot *h = &e->hot[j];
			if (!h->key || KIND(h->key) != kind || IT(e, j)->ref.time_ms >= ready)
				continue;
			for (skip = 0, q = 0; q < k; q++)
				skip |= picked[q] == (int)j;
			if (skip)
				continue;
			if (best < 0 ||
			    (full ? item_before(&IT(e, j)->ref, h->key, &IT(e, best)->ref,
						e->hot[best].key)
				  : h->count > e->hot[best].count ||
					    (h->count == e->hot[best].count &&
					     h->key < e->hot[best].key)))
				best = (int)j;
		}
		if (best < 0)
			break;
		picked[k] = best;
		if (len + strlen(LBL(IT(e, best))) + 4 >= max)
			break;
		len += (size_t)snprintf(b + len, max - len, "%s%s", k ? " , " : "", LBL(IT(e, best)));
	}
}

/* Append a formatted piece to b (cap bytes, *len used) only when it fits
 * whole: 1, else 0 with b unchanged. */
static int bput(char *b, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int w;
	va_start(ap, fmt);
	w = vsnprintf(b + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= cap - *len) {
		b[*len] = '\0';
		return 0;
	}
	*len += (size_t)w;
	return 1;
}

/* additionalInfo of an AnomalousBehavior finding in GuardDuty's shape:
 * anomalies.anomalousAPIs, profiledBehavior (the principal's most used
 * networks, agents and APIs) and unusualBehavior (what was new), each
 * value cut so the whole fits MM_INFO_MAX. */
static void anomaly_info(struct mm_finding *f, const struct cb_ent *e,
			 const struct cb_item *const *grp, int ng, const struct cb_item *last,
			 int64_t ready, const double *p)
{
	char apis[160], names[64], pa[56], pn[80], pu[48], un[64] = "", uu[40] = "", js[760];
	size_t len = 0, nlen = 0;
	int i;
	const struct cb_item *n = item_get(e, last->ctx_net), *u = item_get(e, last->ctx_ua);

	/* GuardDuty's shape: "svc:[API:success , API:failure] , svc2:[...]",
	 * one bracket per service in order of first call; cut whole */
	apis[0] = names[0] = '\0';
	for (i = 0; i < ng; i++) {
		const char *src = grp[i]->det ? pdet_str(grp[i]->det, D_SRC) : "";
		int k, seen = 0;
		for (k = 0; k < i; k++)
			seen |= strcmp(grp[k]->det ? pdet_str(grp[k]->det, D_SRC) : "", src) == 0;
		if (seen)
			continue;
		if (!bput(apis, sizeof(apis), &len, "%s%s:[", i ? " , " : "", src))
			break;
		for (seen = 0, k = i; k < ng; k++) {
			const struct cb_pdet *d = grp[k]->det;
			if (strcmp(d ? pdet_str(d, D_SRC) : "", src) != 0)
				continue;
			if (!bput(apis, sizeof(apis), &len, "%s%s:%s", seen++ ? " , " : "",
				  LBL(grp[k]), d && d->s[D_ERR] ? "failure" : "success"))
				break;
		}
		if (!bput(apis, sizeof(apis), &len, "]"))
			break;
	}
	for (i = 0; i < ng; i++)
		if (!bput(names, sizeof(names), &nlen, "%s%s", i ? " , " : "", LBL(grp[i])))
			break;
	/* unusualBehavior first: what was new is the finding; the profile
	 * after it, shortened when the room runs out */
	if (n && novel(e, n->key, last->ref.time_ms, ready, p))
		snprintf(un, sizeof(un), "%s", LBL(n));
	if (u && novel(e, u->key, last->ref.time_ms, ready, p))
		snprintf(uu, sizeof(uu), "%s", LBL(u));
	len = (size_t)snprintf(js, sizeof(js),
			       "{\"unusualAPIsUserIdentityProfiling\":\"%s\","
			       "\"unusualASNsUserIdentityProfiling\":\"%s\","
			       "\"unusualUserAgentsUserIdentityProfiling\":\"%s\"",
			       names, un, uu);
	/* mamori's own members, in GuardDuty's naming: the call's country,
	 * hour of day or region when new (novelty_hours, as networks) */
	{
		uint32_t hod = (uint32_t)((last->ref.time_ms / HOUR_MS) % 24);
		const char *reg = last->det ? pdet_str(last->det, D_REGION) : "";
		const char *cc = last->det ? last->det->cc : "";
		if (cc[0] && cc[1] &&
		    novel(e, KEY(K_CC, (uint64_t)(unsigned char)cc[0] << 8 | (unsigned char)cc[1]),
			  last->ref.time_ms, ready, p))
			len += (size_t)snprintf(js + len, sizeof(js) - len,
						",\"unusualCountriesUserIdentityProfiling\":\"%.2s\"",
						cc);
		if (novel(e, KEY(K_HOUR, hod), last->ref.time_ms, ready, p))
			len += (size_t)snprintf(js + len, sizeof(js) - len,
						",\"unusualHoursUserIdentityProfiling\":\"%02u\"", hod);
		if (reg[0] && novel(e, KEY(K_REGION, mm_hash(reg, strlen(reg), 0x7267)),
				    last->ref.time_ms, ready, p))
			len += (size_t)snprintf(js + len, sizeof(js) - len,
						",\"unusualRegionsUserIdentityProfiling\":\"%s\"",
						LBL(item_get(e, KEY(K_REGION, mm_hash(reg, strlen(reg),
										      0x7267)))));
		snprintf(js + len, sizeof(js) - len, "}");
	}
	mm_finding_info_json(f, "unusualBehavior", js);
	snprintf(js, sizeof(js), "{\"anomalousAPIs\":\"%s\"}", apis);
	mm_finding_info_json(f, "anomalies", js);
	for (i = 3; i >= 1; i -= 2) {
		size_t before = strlen(f->info);
		top_labels(e, K_API, ready, i, p, pa, sizeof(pa));
		top_labels(e, K_NET, ready, i > 1 ? 2 : 1, p, pn, sizeof(pn));
		top_labels(e, K_UA, ready, i > 1 ? 2 : 1, p, pu, sizeof(pu));
		snprintf(js, sizeof(js),
			 "{\"frequentProfiledAPIsUserIdentityProfiling\":\"%s\","
			 "\"frequentProfiledASNsUserIdentityProfiling\":\"%s\","
			 "\"frequentProfiledUserAgentsUserIdentityProfiling\":\"%s\"}",
			 pa, pn, pu);
		mm_finding_info_json(f, "profiledBehavior", js);
		if (strlen(f->info) != before)
			break;
	}
}

/* Emit one finding occurrence for item it (its first call). */
static struct mm_finding *emit_item(struct mm_detect_ctx *c, const char *type,
				    const struct cb_item *it, int *latest)
{
	struct mm_api a;
	struct mm_finding *f;
	struct cb_det x;
	pdet_unpack(it->det, &x);
	det_api(&a, &x, it);
	f = mm_emit_refs(c, type, a.account, mm_api_principal(&a), "", &it->ref, 1,
			 it->ref.time_ms, it->ref.time_ms, latest);
	if (!f)
		return NULL;
	if (a.event_name.n)
		mm_finding_add_api(f, a.event_name.p, a.event_name.n, a.time_ms);
	if (*latest) {
		f->role = MM_ROLE_TARGET;
		mm_finding_set_api(f, &a);
	}
	return f;
}

static int cmp_item_time(const void *x, const void *y)
{
	const struct cb_item *a = *(const struct cb_item *const *)x;
	const struct cb_item *b = *(const struct cb_item *const *)y;
	if (mm_evref_before(&a->ref, &b->ref))
		return -1;
	if (mm_evref_before(&b->ref, &a->ref))
		return 1;
	return a->key < b->key ? -1 : a->key > b->key;
}

/* AnomalousBehavior: an API new for the principal (first called after
 * its baseline) whose first call came from a new network or with a new
 * agent; discovery only as a burst. */
static void judge_apis(struct mm_detect_ctx *c, struct cb_ent *e, int64_t ready, const double *p)
{
	struct cb_item **q = NULL, *grp[MM_TAC__N][16];
	int nq = 0, ngrp[MM_TAC__N], i, k;
	uint32_t j;

	for (k = 0; k < MM_TAC__N; k++)
		ngrp[k] = 0;
	if (!(q = mm_malloc(sizeof(*q) * (e->nkind[K_API] + 1))))
		return;
	for (j = 0; j < e->icap; j++) {
		struct cb_item *it;
		int64_t t;
		if (!e->hot[j].key)
			continue;
		it = IT(e, j);
		t = it->ref.time_ms;
		if (KIND(it->key) != K_API || !it->det || (it->flags & (F_REPORTED | F_DONE)))
			continue;
		if (t < ready || it->tactic == MM_TAC_NONE || it->tactic >= MM_TAC__N ||
		    !(novel(e, it->ctx_net, t, ready, p) || novel(e, it->ctx_ua, t, ready, p))) {
			it->flags |= F_DONE; /* its first call is fixed: it never qualifies */
			pdet_free(it->det);
			it->det = NULL;
			continue;
		}
		q[nq++] = it;
	}
	qsort(q, (size_t)nq, sizeof(*q), cmp_item_time);
	/* discovery: mark those in a window holding discovery_min_apis */
	{
		int lo = 0, n = 0, hi;
		struct cb_item **dq = mm_malloc(sizeof(*dq) * (size_t)(nq + 1));
		if (dq) {
			for (i = 0; i < nq; i++)
				if (q[i]->tactic == MM_TAC_DISCOVERY)
					dq[n++] = q[i];
			for (hi = 0; hi < n; hi++) {
				while (dq[hi]->ref.time_ms - dq[lo]->ref.time_ms >
				       (int64_t)(p[P_DISC_WIN] * 1000))
					lo++;
				if (hi - lo + 1 >= (int)p[P_DISC_MIN])
					for (k = lo; k <= hi; k++)
						dq[k]->flags |= 0x80; /* in a burst (cleared below) */
			}
			mm_free(dq);
		}
	}
	for (i = 0; i < nq; i++) {
		struct cb_item *it = q[i];
		int tac = it->tactic, latest;
		struct mm_finding *f;
		if (tac == MM_TAC_DISCOVERY && !(it->flags & 0x80))
			continue;
		it->flags &= (uint8_t)~0x80;
		f = emit_item(c, tactic_types[tac], it, &latest);
		it->flags |= F_REPORTED;
		if (ngrp[tac] < 16)
			grp[tac][ngrp[tac]++] = it;
		if (f && latest) {
			mm_finding_info_clear(f);
			anomaly_info(f, e, (const struct cb_item *const *)grp[tac], ngrp[tac], it,
				     ready, p);
		}
	}
	/* a discovery read that found no burst is done once records past
	 * its window came (in order, no window holding it can grow) */
	for (i = 0; i < nq; i++)
		if ((q[i]->flags & F_REPORTED) ||
		    e->tmax - q[i]->ref.time_ms > (int64_t)(p[P_DISC_WIN] * 1000)) {
			if (!(q[i]->flags & F_REPORTED))
				q[i]->flags |= F_DONE;
			pdet_free(q[i]->det);
			q[i]->det = NULL;
		}
	mm_free(q);
}

/* ConsoleLoginSuccess.B: the first successful console login from a place
 * (country, else network) not in the baseline, while the principal was
 * active from another place within login_concurrent_hours. */
static void judge_logins(struct mm_detect_ctx *c, struct cb_ent *e, int64_t ready, const double *p)
{
	uint32_t j, w = (uint32_t)p[P_LOGIN_H], maxh = (uint32_t)(e->tmax / HOUR_MS) + 1;
	for (j = 0; j < e->icap; j++) {
		struct cb_item *it;
		uint32_t h, hh;
		uint64_t pl;
		int other = 0, k, latest;
		struct mm_finding *f;
		if (!e->hot[j].key)
			continue;
		it = IT(e, j);
		pl = it->key & 0x00ffffffffffffffULL;
		if (KIND(it->key) != K_LOGIN || !it->det || (it->flags & (F_REPORTED | F_DONE)))
			continue;
		h = (uint32_t)(it->ref.time_ms / HOUR_MS) + 1;
		other = (it->flags & F_OTHER) != 0;
		for (hh = h > w ? h - w : 1; hh <= h + w; hh++) {
			const struct cb_act *b = e->act ? &e->act[hh % CB_ACT] : NULL;
			if (!b || b->hour != hh)
				continue;
			for (k = 0; k < b->n; k++)
				other |= b->place[k] != pl;
		}
		if (it->ref.time_ms >= ready && other) {
			f = emit_item(c, T_LOGIN, it, &latest);
			it->flags |= F_REPORTED;
			if (f && latest) {
				mm_finding_info_clear(f);
				mm_finding_info_str(f, "unusualLoginPlace", LBL(it));
			}
		} else if (it->ref.time_ms < ready || maxh > h + w + 1) {
			it->flags |= F_DONE; /* the window has passed (or baseline) */
		} else {
			continue; /* more of its window may come */
		}
		pdet_free(it->det);
		it->det = NULL;
	}
}

static void judge_asn(struct mm_detect_ctx *c, struct cb_ent *e, int64_t ready)
{
	uint32_t j;
	for (j = 0; j < e->icap; j++) {
		struct cb_item *it;
		struct mm_finding *f;
		int latest;
		if (!e->hot[j].key)
			continue;
		it = IT(e, j);
		if (KIND(it->key) != K_NET || !it->det || (it->flags & (F_REPORTED | F_DONE)))
			continue;
		if (it->ref.time_ms >= ready) {
			f = emit_item(c, T_ASN, it, &latest);
			it->flags |= F_REPORTED;
			if (f && latest) {
				mm_finding_info_clear(f);
				mm_finding_info_json(f, "unusualBehavior", "{}");
				mm_finding_info_str(f, "unusualASN", LBL(it));
			}
		} else {
			it->flags |= F_DONE;
		}
		pdet_free(it->det);
		it->det = NULL;
	}
}

/* Instance credentials: every public address but the session's first
 * (per family) fires, inside or outside AWS by the AWS ranges. */
static void judge_instance(struct mm_detect_ctx *c, struct cb_ent *e)
{
	int home[2] = {-1, -1}, haws[2] = {0, 0};
	uint32_t j;
	/* the home: the earliest address inside AWS (an instance's public
	 * address is EC2's, or its NAT gateway's), else the earliest. Not
	 * the earliest of all: when a day is read before the days it
	 * follows, a thief's call from outside can come before the
	 * instance's own first call of that day */
	for (j = 0; j < e->icap; j++) {
		const struct cb_item *it;
		int v6, aws;
		if (!e->hot[j].key)
			continue;
		it = IT(e, j);
		v6 = (it->flags & F_V6) != 0;
		aws = it->det && it->det->aws;
		if (KIND(it->key) == K_IADDR &&
		    (home[v6] < 0 || aws > haws[v6] ||
		     (aws == haws[v6] && item_before(&it->ref, it->key, &IT(e, home[v6])->ref,
						     IT(e, home[v6])->key)))) {
			home[v6] = (int)j;
			haws[v6] = aws;
		}
	}
	for (j = 0; j < e->icap; j++) {
		struct cb_item *it;
		struct mm_finding *f;
		int latest;
		if (!e->hot[j].key)
			continue;
		it = IT(e, j);
		if (KIND(it->key) != K_IADDR || (int)j == home[0] || (int)j == home[1] || !it->det ||
		    (it->flags & F_REPORTED))
			continue;
		f = emit_item(c, it->det->aws ? T_INSIDE : T_OUTSIDE, it, &latest);
		it->flags |= F_REPORTED;
		if (f && latest) {
			mm_finding_info_clear(f);
			mm_finding_info_str(f, "instanceHomeAddress",
					    home[(it->flags & F_V6) != 0] >= 0
						    ? LBL(IT(e, home[(it->flags & F_V6) != 0]))
						    : "");
		}
		pdet_free(it->det);
		it->det = NULL;
	}
}

static void finish(void *state, struct mm_detect_ctx *c)
{
	struct cb_state *s = state;
	const double *p = state_params(s, c);
	size_t i;

	if (s->dropped > s->warned) {
		mm_warn("ctbase: %llu records of principals past the %u tracked were not learned",
			(unsigned long long)(s->dropped - s->warned), CB_MAX_ENTS);
		s->warned = s->dropped;
	}
	if (mm_log_get_level() >= MM_LOG_VERBOSE) {
		size_t ne = 0, ni = 0, slots = 0, items = 0, dets = 0, nk[K__N] = {0};
		size_t b_ent = 0, b_tab = 0, b_it = 0, b_det = 0, sp_n, sp_b;
		mm_sp_stats(&sp_n, &sp_b);
		for (i = 0; i < s->cap; i++) {
			struct cb_ent *e = s->t[i];
			uint32_t j;
			if (!e)
				continue;
			ne++;
			ni += e->inst;
			slots += e->icap;
			items += e->nitems;
			b_ent += sizeof(*e) + (e->act ? CB_ACT * sizeof(*e->act) : 0);
			b_tab += e->icap * (sizeof(*e->hot) + sizeof(*e->ix));
			b_it += e->ccap * sizeof(*e->it);
			for (j = 0; j < e->nitems; j++) {
				const struct cb_pdet *d = e->it[j].det;
				nk[KIND(e->it[j].key)]++;
				if (!d)
					continue;
				dets++;
				b_det += sizeof(*d);
			}
		}
		mm_debug("ctbase: %zu entities (%zu instance sessions), %zu items in %zu slots, %zu "
			 "details; net %zu ua %zu api %zu hour %zu iaddr %zu; MB: entities %.1f, "
			 "tables %.1f, items %.1f, details %.1f; the shared string pool %zu strings, "
			 "%.1f MB (heap overhead not counted)",
			 ne, ni, items, slots, dets, nk[K_NET], nk[K_UA], nk[K_API], nk[K_HOUR],
			 nk[K_IADDR], b_ent / 1e6, b_tab / 1e6, b_it / 1e6, b_det / 1e6, sp_n,
			 sp_b / 1e6);
	}
	for (i = 0; i < s->cap; i++) {
		struct cb_ent *e = s->t[i];
		int64_t ready;
		uint32_t j;
		if (!e || e->tmin > e->tmax)
			continue;
		mm_emit_done(c); /* the last entity's findings may be packed */
		if (e->inst) {
			judge_instance(c, e);
			continue;
		}
		ready = ready_at(e, p);
		if (ready != INT64_MAX) {
			judge_apis(c, e, ready, p);
			judge_logins(c, e, ready, p);
			if (p[P_ASN_CALLER] >= 1)
				judge_asn(c, e, ready);
		}
		/* what is in the baseline never fires, nor a network while the
		 * opt-in is off: drop their details. Without a baseline yet
		 * every item keeps them: older logs read in a later scan (days
		 * scanned newest first, a backfill after live monitoring
		 * began) can put a baseline before any of them */
		for (j = 0; j < e->nitems; j++)
			if (e->it[j].det && ((ready != INT64_MAX && e->it[j].ref.time_ms < ready) ||
					     (KIND(e->it[j].key) == K_NET && p[P_ASN_CALLER] < 1))) {
				pdet_free(e->it[j].det);
				e->it[j].det = NULL;
				e->it[j].flags |= F_DONE;
			}
	}
}

/* ---- state, merge --------------------------------------------------------- */

static void *state_new(void)
{
	struct cb_state *s = mm_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	mm_detector_defaults(&mm_det_ctbase, s->p);
	return s;
}

static void state_free(void *state)
{
	struct cb_state *s = state;
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->cap; i++)
		ent_free(s->t[i]);
	mm_free(s->t);
	mm_free(s->th);
	mm_free(s);
}

/* Merge item src seen count times (its det moves) into e. */
static int item_merge(struct cb_ent *e, struct cb_item *src, uint32_t count, const double *p)
{
	int j = item_find(e, src->key);
	struct cb_item *d;
	uint32_t *n;
	if (j < 0) {
		j = item_slot(e, src->key, &src->ref, p);
		if (j == -2)
			return MM_ENOMEM;
		if (j < 0)
			return 0;
		d = IT(e, j);
		*d = *src;
		e->hot[j].t = hot_t(d->ref.time_ms);
		e->hot[j].count = count;
		src->det = NULL;
		src->label = 0;
		return 0;
	}
	d = IT(e, j);
	n = &e->hot[j].count;
	*n = *n + count < *n ? UINT32_MAX : *n + count;
	d->flags |= src->flags & (F_REPORTED | F_V6 | F_OTHER);
	if (mm_evref_before(&src->ref, &d->ref)) {
		struct cb_pdet *keep = d->det;
		uint8_t fl = d->flags;
		d->ref = src->ref;
		e->hot[j].t = hot_t(d->ref.time_ms);
		d->ctx_net = src->ctx_net;
		d->ctx_ua = src->ctx_ua;
		d->tactic = src->tactic;
		{
			uint32_t l = d->label; /* src's label goes with src */
			d->label = src->label;
			src->label = l;
		}
		d->det = src->det;
		d->flags = (uint8_t)(fl & ~F_DONE) | (src->flags & F_DONE);
		src->det = keep; /* freed with src */
		/* no F_DONE invented here: a record without details is one of
		 * a kind that never keeps them, and marking it would make the
		 * stored state depend on how files were split among threads */
	}
	return 0;
}

static int ent_merge(struct cb_ent *d, struct cb_ent *s, const double *p)
{
	uint32_t i;
	int k, rc;
	if (s->tmin < d->tmin)
		d->tmin = s->tmin;
	if (s->tmax > d->tmax)
		d->tmax = s->tmax;
	for (k = 0; k < s->ndays; k++)
		days_add(d, s->days[k]);
	for (k = 0; s->act && k < CB_ACT; k++) {
		const struct cb_act *b = &s->act[k];
		int m;
		for (m = 0; b->hour && m < b->n; m++)
			act_add(d, b->hour, b->place[m], (uint32_t)p[P_LOGIN_H]);
	}
	for (i = 0; i < s->icap; i++)
		if (s->hot[i].key && (rc = item_merge(d, IT(s, i), s->hot[i].count, p)))
			return rc;
	return 0;
}

static int merge(void *dst, void *src)
{
	struct cb_state *d = dst, *s = src;
	size_t i;
	int rc;
	d->dropped += s->dropped;
	if (!d->n) {
		/* merging into nothing is adopting: take src's table whole
		 * (its entities are what merging them one by one would make) */
		struct cb_ent **t = d->t;
		uint64_t *th = d->th;
		size_t cap = d->cap;
		d->t = s->t;
		d->th = s->th;
		d->cap = s->cap;
		d->n = s->n;
		s->t = t;
		s->th = th;
		s->cap = cap;
		s->n = 0;
		d->recent = s->recent = NULL;
		return 0;
	}
	/* each of src's entities leaves it as it is merged: moved whole
	 * when dst has none of that name (what merging it into a new one
	 * would make, as adopting above), else merged and freed at once,
	 * so the two states' peak is not both in full plus the growth */
	d->recent = s->recent = NULL;
	for (i = 0; i < s->cap; i++) {
		struct cb_ent *e = s->t[i], *t;
		size_t j;
		if (!e)
			continue;
		for (j = e->h & (d->cap - 1); (t = d->t[j]); j = (j + 1) & (d->cap - 1))
			if (d->th[j] == e->h && t->inst == e->inst && t->nlen == e->nlen &&
			    !memcmp(t->name, e->name, e->nlen))
				break;
		if (!t && d->n < CB_MAX_ENTS) {
			if ((d->n + 1) * 4 > d->cap * 3) {
				if (tab_grow(d))
					return MM_ENOMEM;
				for (j = e->h & (d->cap - 1); d->t[j]; j = (j + 1) & (d->cap - 1))
					;
			}
			d->t[j] = e;
			d->th[j] = e->h;
			d->n++;
		} else if (!t) {
			d->dropped++;	/* CB_MAX_ENTS: as ent_get, not tracked */
			ent_free(e);
		} else {
			if ((rc = ent_merge(t, e, d->p)))
				return rc;
			ent_free(e);
		}
		s->t[i] = NULL;
		s->th[i] = 0;
		s->n--;
	}
	d->recent = NULL;
	return 0;
}

/* ---- save / load ---------------------------------------------------------- */

/* Blob, little-endian, version 1 (state_version); one per principal,
 * entity = "p|" or "i|" (instance session) + the principal's ARN:
 *   "CB01" tmin:i64 tmax:i64 ndays:u8 ndays x day:u32
 *   nact:u8 nact x (hour:u32 n:u8 n x place:u64)
 *   nitems:u16 nitems x (key:u64 ref ctx_net:u64 ctx_ua:u64 count:u32
 *     flags:u8 tactic:u8 label:str8 hasdet:u8 [det])
 *   det = akid pid user utype src api ua region err acct cc (str8 each)
 *         ip has_ip:u8 aws:u8
 * ref is blob.h's (file name cut to CB_REF_FILE). Details are stored only
 * for items that may still fire. */
#define CB_MAGIC "CB01"
#define CB_REF_FILE 1024
#define CB_BLOB_MAX (4u << 20)

static int put_det(struct mm_buf *b, const struct cb_pdet *d)
{
	int rc = 0, f;
	for (f = 0; f < D__N; f++)
		rc |= mm_blob_put_str(b, pdet_str(d, f), 1, dfield[f].cap - 1);
	rc |= mm_blob_put_str(b, d->cc, 1, sizeof(d->cc) - 1);
	rc |= mm_blob_put_ip(b, &d->ip);
	rc |= mm_blob_put_u(b, d->has_ip, 1);
	rc |= mm_blob_put_u(b, d->aws, 1);
	return rc ? MM_ETOOBIG : 0;
}

static void get_det(struct mm_blob_rd *r, struct cb_det *d)
{
	int f;
	memset(d, 0, sizeof(*d));
	for (f = 0; f < D__N; f++)
		mm_blob_get_str(r, (char *)d + dfield[f].off, dfield[f].cap, 1);
	mm_blob_get_str(r, d->cc, sizeof(d->cc), 1);
	mm_blob_get_ip(r, &d->ip);
	d->has_ip = (uint8_t)mm_blob_get_u(r, 1);
	d->aws = (uint8_t)mm_blob_get_u(r, 1);
	if (d->has_ip > 1 || d->aws > 1)
		r->bad = 1;
}

/* qsort's comparator reads the entity being saved from here */
static _Thread_local const struct cb_ent *sort_e;
static int slot_key_cmp(const void *a, const void *b)
{
	uint64_t x = sort_e->hot[*(const uint32_t *)a].key;
	uint64_t y = sort_e->hot[*(const uint32_t *)b].key;
	return x < y ? -1 : x > y;
}

static int ent_save(const struct cb_ent *e, const double *p, struct mm_buf *b)
{
	uint32_t j, n = 0, *ord;
	int k, m, nact = 0, rc = 0;
	rc |= mm_buf_add(b, CB_MAGIC, 4);
	rc |= mm_blob_put_u(b, (uint64_t)e->tmin, 8);
	rc |= mm_blob_put_u(b, (uint64_t)e->tmax, 8);
	rc |= mm_blob_put_u(b, e->ndays, 1);
	for (k = 0; k < e->ndays; k++)
		rc |= mm_blob_put_u(b, e->days[k], 4);
	for (k = 0; e->act && k < CB_ACT; k++)
		nact += e->act[k].hour != 0;
	rc |= mm_blob_put_u(b, (uint64_t)nact, 1);
	for (k = 0; e->act && k < CB_ACT; k++) {
		if (!e->act[k].hour)
			continue;
		rc |= mm_blob_put_u(b, e->act[k].hour, 4);
		rc |= mm_blob_put_u(b, e->act[k].n, 1);
		for (m = 0; m < e->act[k].n; m++)
			rc |= mm_blob_put_u(b, e->act[k].place[m], 8);
	}
	rc |= mm_blob_put_u(b, e->nitems, 2);
	/* items by key: the slots' order depends on insertion order */
	ord = mm_malloc((e->nitems ? e->nitems : 1) * sizeof(*ord));
	if (!ord)
		return MM_ENOMEM;
	for (j = 0; j < e->icap; j++)
		if (e->hot[j].key && n < e->nitems)
			ord[n++] = j;
	sort_e = e;
	qsort(ord, n, sizeof(*ord), slot_key_cmp);
	for (k = 0; k < (int)n && !rc; k++) {
		const struct cb_item *it;
		j = ord[k];
		it = IT(e, j);
		rc |= mm_blob_put_u(b, it->key, 8);
		rc |= mm_blob_put_ref(b, &it->ref, CB_REF_FILE);
		rc |= mm_blob_put_u(b, it->ctx_net, 8);
		rc |= mm_blob_put_u(b, it->ctx_ua, 8);
		rc |= mm_blob_put_u(b, kind_full(e, KIND(it->key), p) ? 0 : e->hot[j].count, 4);
		rc |= mm_blob_put_u(b, it->flags, 1);
		rc |= mm_blob_put_u(b, it->tactic, 1);
		rc |= mm_blob_put_str(b, LBL(it), 1, CB_LABEL - 1);
		rc |= mm_blob_put_u(b, it->det != NULL, 1);
		if (it->det)
			rc |= put_det(b, it->det);
	}
	mm_free(ord);
	return rc ? MM_ETOOBIG : 0;
}

static int save(void *state, int (*put)(void *pctx, const char *entity, const void *blob, size_t n),
		void *pctx)
{
	struct cb_state *s = state;
	struct mm_buf b;
	char name[CB_NAME_MAX + 3];
	size_t i;
	int rc = 0;

	mm_buf_init(&b, CB_BLOB_MAX);
	for (i = 0; i < s->cap && !rc; i++) {
		struct cb_ent *e = s->t[i];
		if (!e || e->tmin > e->tmax)
			continue;
		mm_buf_reset(&b);
		if ((rc = ent_save(e, s->p, &b)) == MM_ENOMEM)
			break;
		if (rc) {
			rc = 0;
			continue; /* too big for a blob (cannot happen within the caps) */
		}
		snprintf(name, sizeof(name), "%c|%s", e->inst ? 'i' : 'p', e->name);
		rc = put(pctx, name, b.p, b.len);
	}
	mm_buf_free(&b);
	return rc;
}

/* Restore one principal's blob, merging into what is held. A malformed
 * blob is rejected whole: MM_EPARSE. */
static int load(void *state, const char *entity, int version, const void *blob, size_t n)
{
	struct cb_state *s = state;
	struct mm_blob_rd r;
	struct cb_ent *tmp = NULL, *e;
	const unsigned char *m;
	size_t en = strlen(entity);
	uint32_t k, ni, na;
	int rc = MM_EPARSE, inst;

	if (version != 1 || en < 3 || en - 2 > CB_NAME_MAX || entity[1] != '|' ||
	    (entity[0] != 'p' && entity[0] != 'i'))
		return MM_EPARSE;
	inst = entity[0] == 'i';
	mm_blob_rd_init(&r, blob, n);
	m = mm_blob_get_bytes(&r, 4);
	if (!m || memcmp(m, CB_MAGIC, 4))
		return MM_EPARSE;
	if (!(tmp = ent_new(0, entity + 2, en - 2, inst)))
		return MM_ENOMEM;
	tmp->tmin = (int64_t)mm_blob_get_u(&r, 8);
	tmp->tmax = (int64_t)mm_blob_get_u(&r, 8);
	if (tmp->tmin > tmp->tmax || tmp->tmin <= 0)
		goto out;
	k = (uint32_t)mm_blob_get_u(&r, 1);
	if (k > CB_DAYS)
		goto out;
	while (k--) {
		uint32_t d = (uint32_t)mm_blob_get_u(&r, 4);
		if (!d)
			goto out;
		days_add(tmp, d);
	}
	na = (uint32_t)mm_blob_get_u(&r, 1);
	if (na > CB_ACT)
		goto out;
	while (na--) {
		uint32_t hour = (uint32_t)mm_blob_get_u(&r, 4), pn = (uint32_t)mm_blob_get_u(&r, 1);
		if (!hour || pn > CB_PLACES || r.bad)
			goto out;
		while (pn--)
			act_add(tmp, hour, mm_blob_get_u(&r, 8), 0); /* no items yet */
	}
	ni = (uint32_t)mm_blob_get_u(&r, 2);
	if (r.bad || ni > 4096 + 7 * 1024)
		goto out;
	for (k = 0; k < ni; k++) {
		struct cb_item it;
		char lbl[CB_LABEL];
		uint32_t count;
		int j, kind;
		memset(&it, 0, sizeof(it));
		it.key = mm_blob_get_u(&r, 8);
		mm_blob_get_ref(&r, &it.ref, CB_REF_FILE);
		it.ctx_net = mm_blob_get_u(&r, 8);
		it.ctx_ua = mm_blob_get_u(&r, 8);
		count = (uint32_t)mm_blob_get_u(&r, 4);
		it.flags = (uint8_t)mm_blob_get_u(&r, 1);
		it.tactic = (uint8_t)mm_blob_get_u(&r, 1);
		mm_blob_get_str(&r, lbl, sizeof(lbl), 1);
		kind = KIND(it.key);
		if (r.bad || kind < K_NET || kind >= K__N || (kind == K_IADDR) != inst ||
		    it.tactic >= MM_TAC__N ||
		    (it.flags & ~(F_REPORTED | F_V6 | F_DONE | F_OTHER)) || item_find(tmp, it.key) >= 0)
			goto out;
		if (mm_blob_get_u(&r, 1)) {
			struct cb_det x;
			get_det(&r, &x);
			if (!(it.det = pdet_pack(&x, NULL))) {
				rc = MM_ENOMEM;
				goto out;
			}
		}
		j = r.bad ? -1 : item_slot(tmp, it.key, &it.ref, s->p);
		if (j == -2) {
			pdet_free(it.det);
			rc = MM_ENOMEM;
			goto out;
		}
		if (j < 0) {
			pdet_free(it.det);
			if (r.bad)
				goto out;
			continue; /* past a cap lowered since: the earliest stay */
		}
		*IT(tmp, j) = it;
		item_label(IT(tmp, j), lbl, strlen(lbl));
		tmp->hot[j].t = hot_t(it.ref.time_ms);
		tmp->hot[j].count = count;
	}
	if (r.bad || r.p != r.end)
		goto out;
	tmp->h = ent_hash(tmp->name, strlen(tmp->name), inst);
	e = ent_get(s, tmp->h, tmp->name, strlen(tmp->name), inst);
	if (!e) {
		rc = MM_ENOMEM;
		goto out;
	}
	rc = ent_merge(e, tmp, s->p);
out:
	ent_free(tmp);
	return rc;
}

static const char *const types[] = {
	"CredentialAccess:IAMUser/AnomalousBehavior",
	"DefenseEvasion:IAMUser/AnomalousBehavior",
	"Discovery:IAMUser/AnomalousBehavior",
	"Exfiltration:IAMUser/AnomalousBehavior",
	"Impact:IAMUser/AnomalousBehavior",
	"InitialAccess:IAMUser/AnomalousBehavior",
	"Persistence:IAMUser/AnomalousBehavior",
	"PrivilegeEscalation:IAMUser/AnomalousBehavior",
	T_LOGIN,
	T_OUTSIDE,
	T_INSIDE,
	T_ASN,
	NULL,
};

const struct mm_detector_def mm_det_ctbase = {
	.name = "ctbase",
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
};
