/* ctrules.c - GuardDuty's single-event CloudTrail findings: logging
 * turned off, guard rails taken down, buckets opened, calls from a
 * penetration-testing distribution (docs/finding-types.md, "ctrules",
 * has each rule, its source in GuardDuty's reference and the reasons).
 *
 *   Stealth:IAMUser/CloudTrailLoggingDisabled   StopLogging, DeleteTrail,
 *       UpdateTrail turning off global-service events or multi-region,
 *       PutEventSelectors leaving no selector that logs write management
 *       events
 *   Stealth:IAMUser/PasswordPolicyChange        DeleteAccountPasswordPolicy,
 *       UpdateAccountPasswordPolicy setting a policy below the floor
 *   Stealth:S3/ServerAccessLoggingDisabled      PutBucketLogging without
 *       LoggingEnabled
 *   Policy:S3/AccountBlockPublicAccessDisabled  account-level Put (any of
 *       the four settings off) / Delete of Block Public Access
 *   Policy:S3/BucketBlockPublicAccessDisabled   the same on a bucket
 *   Policy:S3/BucketAnonymousAccessGranted      policy/ACL open to anyone
 *   Policy:S3/BucketPublicAccessGranted         ACL open to every
 *       authenticated AWS user
 *   PenTest:IAMUser/{Kali,Parrot,Pentoo}Linux   the caller's user agent
 *   DefenseEvasion:IAMUser/BedrockLoggingDisabled  Delete, or a Put that
 *       logs nothing, of Bedrock's model invocation logging
 *
 * Configuration changes count only when they succeeded (no errorCode): a
 * denied StopLogging left logging on. The PenTest types count failed
 * calls too (param pentest_failed_calls): the agent is the signal, and a
 * stolen key probed from Kali is mostly denied.
 *
 * No state: each finding is a function of one record, so the aggregator
 * does the counting (one finding per type and caller; per type, bucket
 * and caller for the S3 bucket types, whose resource is the bucket with
 * the caller's access key, as GuardDuty's). on_event filters on
 * eventSource/eventName before it reads requestParameters, and the
 * user-agent check is one pass over the agent, so it stays cheap on the
 * millions of records that match nothing. */
#include "detect/ctrules.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/json.h"
#include "detect/detect.h"

enum {
	T_TRAIL,
	T_PWPOL,
	T_S3LOG,
	T_ACCT_BPA,
	T_BKT_BPA,
	T_ANON,
	T_PUBLIC,
	T_KALI,
	T_PARROT,
	T_PENTOO,
	T_BEDROCK,
	T__N
};

static const char *const types[T__N + 1] = {
	[T_TRAIL] = "Stealth:IAMUser/CloudTrailLoggingDisabled",
	[T_PWPOL] = "Stealth:IAMUser/PasswordPolicyChange",
	[T_S3LOG] = "Stealth:S3/ServerAccessLoggingDisabled",
	[T_ACCT_BPA] = "Policy:S3/AccountBlockPublicAccessDisabled",
	[T_BKT_BPA] = "Policy:S3/BucketBlockPublicAccessDisabled",
	[T_ANON] = "Policy:S3/BucketAnonymousAccessGranted",
	[T_PUBLIC] = "Policy:S3/BucketPublicAccessGranted",
	[T_KALI] = "PenTest:IAMUser/KaliLinux",
	[T_PARROT] = "PenTest:IAMUser/ParrotLinux",
	[T_PENTOO] = "PenTest:IAMUser/PentooLinux",
	[T_BEDROCK] = "DefenseEvasion:IAMUser/BedrockLoggingDisabled",
	NULL,
};

enum { P_PENTEST_FAILED, P_PW_MIN_LEN, P_PW_MIN_CLASSES };

static const struct mm_param params[] = {
	[P_PENTEST_FAILED] =
		{"pentest_failed_calls", 1, 0, 1, "bool",
		 "GuardDuty's PenTest types describe the machine making the calls, not "
		 "their outcome; a stolen key probed from Kali is mostly denied"},
	[P_PW_MIN_LEN] = {"password_min_length", 14, 6, 128, "characters",
			  "a policy set below 14 characters (CIS AWS Foundations 1.8) reads as "
			  "weakened; one record does not show the policy it replaced"},
	[P_PW_MIN_CLASSES] =
		{"password_min_char_classes", 3, 0, 4, "classes",
		 "AWS's own default policy asks for 3 of upper, lower, digits, symbols; "
		 "a custom policy requiring fewer is weaker than having none"},
	{NULL, 0, 0, 0, NULL, NULL},
};

/* ---- JSON helpers (bounded, no allocation) ------------------------------- */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(const char *a, size_t n, const char *z)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!z[i] || lower((unsigned char)a[i]) != lower((unsigned char)z[i]))
			return 0;
	return z[n] == '\0';
}

/* The member key of obj, matched without regard to case: CloudTrail
 * logs S3's XML bodies in PascalCase and other services in camelCase. */
static int get(const struct mm_json_val *obj, const char *key, struct mm_json_val *out)
{
	struct mm_json_iter it;
	struct mm_str k;

	if (!obj || obj->type != MM_JSON_OBJECT || mm_json_iter_init(&it, obj))
		return 0;
	while (mm_json_iter_next(&it, &k, out) == 1)
		if (ieq(k.p, k.n, key))
			return 1;
	return 0;
}

/* The text of a string value (quotes off, escapes left: none of the
 * values compared here has one); empty for other types. */
static struct mm_str text(const struct mm_json_val *v)
{
	if (v->type != MM_JSON_STRING || v->n < 2)
		return MM_STR_NULL;
	return mm_str_make(v->p + 1, v->n - 2);
}

static int is_str(const struct mm_json_val *v, const char *z)
{
	struct mm_str s = text(v);
	return s.p && ieq(s.p, s.n, z);
}

/* JSON false or the string "false" (S3's XML bodies log as strings). */
static int is_false(const struct mm_json_val *v)
{
	return v->type == MM_JSON_FALSE || is_str(v, "false");
}

static int is_true(const struct mm_json_val *v)
{
	return v->type == MM_JSON_TRUE || is_str(v, "true");
}

/* Call fn on v, or on each element when v is an array (CloudTrail turns
 * one-element XML lists into a bare object). Stops at the first nonzero
 * result and returns it. */
static int each(const struct mm_json_val *v, int (*fn)(const struct mm_json_val *, void *),
		void *arg)
{
	struct mm_json_iter it;
	struct mm_json_val e;
	struct mm_str k;
	int r;

	if (v->type != MM_JSON_ARRAY)
		return fn(v, arg);
	if (mm_json_iter_init(&it, v))
		return 0;
	while (mm_json_iter_next(&it, &k, &e) == 1)
		if ((r = fn(&e, arg)))
			return r;
	return 0;
}

static int parse(const char *p, size_t n, struct mm_json_val *v)
{
	size_t used;
	return p && n && mm_json_value(p, n, v, &used) == 0;
}

/* ---- bucket policies ------------------------------------------------------ */

/* Condition keys that, per S3's definition of a public policy, tie a
 * grant to a fixed network, account, organisation or resource: a
 * statement conditioned on one of them is not public. */
static const char *const RESTRICTING[] = {
	"aws:SourceIp",     "aws:SourceVpc",         "aws:SourceVpce",
	"aws:SourceArn",    "aws:SourceAccount",     "aws:SourceOwner",
	"aws:SourceOrgID",  "aws:SourceOrgPaths",    "aws:PrincipalAccount",
	"aws:PrincipalArn", "aws:PrincipalOrgID",    "aws:PrincipalOrgPaths",
	"aws:userid",       "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
};

static int key_restricts(const struct mm_json_val *op, void *arg)
{
	struct mm_json_iter it;
	struct mm_json_val v;
	struct mm_str k;
	size_t i;

	(void)arg;
	if (op->type != MM_JSON_OBJECT || mm_json_iter_init(&it, op))
		return 0;
	while (mm_json_iter_next(&it, &k, &v) == 1)
		for (i = 0; i < MM_ARRAY_LEN(RESTRICTING); i++)
			if (ieq(k.p, k.n, RESTRICTING[i]))
				return 1;
	return 0;
}

/* Does a Condition block narrow who may use the grant? */
static int condition_restricts(const struct mm_json_val *cond)
{
	struct mm_json_iter it;
	struct mm_json_val op;
	struct mm_str k;

	if (cond->type != MM_JSON_OBJECT || mm_json_iter_init(&it, cond))
		return 0;
	while (mm_json_iter_next(&it, &k, &op) == 1)
		if (key_restricts(&op, NULL))
			return 1;
	return 0;
}

static int is_star(const struct mm_json_val *v, void *arg)
{
	(void)arg;
	return is_str(v, "*");
}

/* Principal "*", {"AWS": "*"}, {"AWS": [..., "*"]}, {"CanonicalUser": "*"}. */
static int principal_everyone(const struct mm_json_val *p)
{
	struct mm_json_val v;
	if (is_str(p, "*"))
		return 1;
	if (get(p, "AWS", &v) && each(&v, is_star, NULL))
		return 1;
	return get(p, "CanonicalUser", &v) && each(&v, is_star, NULL);
}

static int statement_public(const struct mm_json_val *st, void *arg)
{
	struct mm_json_val v;

	(void)arg;
	if (st->type != MM_JSON_OBJECT || !get(st, "Effect", &v) || !is_str(&v, "Allow"))
		return 0;
	/* Allow with NotPrincipal: everyone but the few named */
	if (!get(st, "NotPrincipal", &v) && !(get(st, "Principal", &v) && principal_everyone(&v)))
		return 0;
	return !(get(st, "Condition", &v) && condition_restricts(&v));
}

enum mm_ct_grant mm_ct_policy_grant(const char *json, size_t n)
{
	struct mm_json_val doc, st;
	char buf[8192];
	size_t dn;

	if (!parse(json, n, &doc))
		return MM_CT_GRANT_NONE;
	if (doc.type == MM_JSON_STRING) {
		/* a policy logged as the document's text */
		if (doc.n - 2 > sizeof(buf) || mm_json_unescape(doc.p + 1, doc.n - 2, buf, &dn) ||
		    !parse(buf, dn, &doc))
			return MM_CT_GRANT_NONE;
	}
	if (!get(&doc, "Statement", &st))
		return MM_CT_GRANT_NONE;
	return each(&st, statement_public, NULL) ? MM_CT_GRANT_ANONYMOUS : MM_CT_GRANT_NONE;
}

/* ---- ACLs ------------------------------------------------------------------ */

#define ALL_USERS  "acs.amazonaws.com/groups/global/AllUsers"
#define AUTH_USERS "acs.amazonaws.com/groups/global/AuthenticatedUsers"

static int contains(struct mm_str s, const char *z)
{
	size_t i, n = strlen(z);
	for (i = 0; s.n >= n && i <= s.n - n; i++)
		if (memcmp(s.p + i, z, n) == 0)
			return 1;
	return 0;
}

/* The grant a group URI (or a grant header naming one) stands for. */
static int grant_of_text(struct mm_str s)
{
	if (contains(s, ALL_USERS))
		return MM_CT_GRANT_ANONYMOUS;
	if (contains(s, AUTH_USERS))
		return MM_CT_GRANT_AUTHENTICATED;
	return MM_CT_GRANT_NONE;
}

static int widen(int *acc, int g)
{
	if (g > *acc)
		*acc = g;
	return *acc == MM_CT_GRANT_ANONYMOUS; /* nothing wider: stop */
}

static int grant_entry(const struct mm_json_val *g, void *arg)
{
	struct mm_json_val who, uri;
	if (!get(g, "Grantee", &who) || !get(&who, "URI", &uri))
		return 0;
	return widen(arg, grant_of_text(text(&uri)));
}

static int canned(const struct mm_json_val *v, void *arg)
{
	if (is_str(v, "public-read") || is_str(v, "public-read-write"))
		return widen(arg, MM_CT_GRANT_ANONYMOUS);
	if (is_str(v, "authenticated-read"))
		return widen(arg, MM_CT_GRANT_AUTHENTICATED);
	return 0;
}

static int header_grant(const struct mm_json_val *v, void *arg)
{
	return widen(arg, grant_of_text(text(v)));
}

enum mm_ct_grant mm_ct_acl_grant(const char *json, size_t n)
{
	struct mm_json_val rp, acp, acl, g, v;
	struct mm_json_iter it;
	struct mm_str k;
	int acc = MM_CT_GRANT_NONE;

	if (!parse(json, n, &rp) || rp.type != MM_JSON_OBJECT)
		return MM_CT_GRANT_NONE;
	if (get(&rp, "AccessControlPolicy", &acp) && get(&acp, "AccessControlList", &acl) &&
	    get(&acl, "Grant", &g) && each(&g, grant_entry, &acc))
		return MM_CT_GRANT_ANONYMOUS;
	if (mm_json_iter_init(&it, &rp))
		return acc;
	while (mm_json_iter_next(&it, &k, &v) == 1) {
		int stop = 0;
		if (ieq(k.p, k.n, "x-amz-acl"))
			stop = each(&v, canned, &acc);
		else if (k.n > 12 && ieq(k.p, 12, "x-amz-grant-"))
			stop = each(&v, header_grant, &acc);
		if (stop)
			break;
	}
	return acc;
}

/* ---- user agents ------------------------------------------------------------ */

static const char *const DISTROS[] = {"kali", "parrot", "pentoo"};

/* A kernel-release part naming a distribution: optional digits, the
 * name, optional digits ("kali3", "13parrot1", "pentoo"). */
static int kernel_part(const char *p, size_t n)
{
	size_t i = 0, d;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	for (d = 0; d < MM_ARRAY_LEN(DISTROS); d++) {
		size_t l = strlen(DISTROS[d]), j;
		if (n - i < l)
			continue;
		for (j = 0; j < l && lower((unsigned char)p[i + j]) == DISTROS[d][j]; j++)
			;
		if (j < l)
			continue;
		for (j = i + l; j < n && p[j] >= '0' && p[j] <= '9'; j++)
			;
		if (j == n)
			return (int)d + 1;
	}
	return 0;
}

/* Split s at any of seps and return the first distribution a part
 * names: by kernel_part when kernel, else by being exactly its name. */
static int parts(const char *p, size_t n, const char *seps, int kernel)
{
	size_t i = 0, d;
	while (i <= n) {
		size_t j = i;
		while (j < n && !strchr(seps, p[j]))
			j++;
		if (kernel) {
			int r = kernel_part(p + i, j - i);
			if (r)
				return r;
		} else {
			for (d = 0; d < MM_ARRAY_LEN(DISTROS); d++)
				if (ieq(p + i, j - i, DISTROS[d]))
					return (int)d + 1;
		}
		i = j + 1;
	}
	return 0;
}

static int token_distro(const char *p, size_t n)
{
	static const struct {
		const char *prefix;
		const char *seps;
		int kernel;
	} F[] = {
		{"linux/", "-._+", 1},                      /* Linux/6.5.0-kali3-amd64 */
		{"os/linux#", "-._+", 1},                   /* os/linux#6.5.0-kali3-amd64 */
		{"md/distrib#", ".", 0},                    /* md/distrib#kali.2024 */
		{"distrib/", ".", 0},     {"exe/", ".", 0}, /* exe/x86_64.kali.2023 */
		{"source/", ".", 0},
	};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(F); i++) {
		size_t l = strlen(F[i].prefix);
		if (n > l && ieq(p, l, F[i].prefix))
			return parts(p + l, n - l, F[i].seps, F[i].kernel);
	}
	return 0;
}

/* Does "kali", "parrot" or "pentoo" (any case) start at ua[i]? */
static int distro_at(const char *ua, size_t n, size_t i)
{
	int c = lower((unsigned char)ua[i]);
	return i + 4 <= n && ((c == 'k' && ieq(ua + i, 4, "kali")) ||
			      (c == 'p' && i + 6 <= n &&
			       (ieq(ua + i, 6, "parrot") || ieq(ua + i, 6, "pentoo"))));
}

/* Does any agent byte start one of the three names? Every record asks,
 * so 16 bytes at a time look for their first two letters ("ka", "pa",
 * "pe", either case) first: a lone 'p' or 'k' is in most agents
 * ("Python", "botocore", "exe/x86_64"), and testing each cost ~3% of a
 * CloudTrail scan. */
static int distro_hint(const char *ua, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	for (; i + 17 <= n; i += 16) {
		__m128i x = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(ua + i)),
					 _mm_set1_epi8(0x20));
		__m128i y = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(ua + i + 1)),
					 _mm_set1_epi8(0x20));
		__m128i ka = _mm_and_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('k')),
					   _mm_cmpeq_epi8(y, _mm_set1_epi8('a')));
		__m128i pae = _mm_and_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('p')),
					    _mm_or_si128(_mm_cmpeq_epi8(y, _mm_set1_epi8('a')),
							 _mm_cmpeq_epi8(y, _mm_set1_epi8('e'))));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(ka, pae));
		for (; m; m &= m - 1)
			if (distro_at(ua, n, i + (size_t)__builtin_ctz(m)))
				return 1;
	}
#endif
	for (; i < n; i++)
		if (distro_at(ua, n, i))
			return 1;
	return 0;
}

int mm_ct_pentest_distro(const char *ua, size_t n)
{
	size_t i = 0;

	/* one cheap pass first: most agents name none of the three */
	if (!distro_hint(ua, n))
		return 0;
	while (i < n) {
		size_t j;
		int r;
		while (i < n && strchr(" []();,", ua[i]))
			i++;
		j = i;
		while (j < n && !strchr(" []();,", ua[j]))
			j++;
		if (j > i && (r = token_distro(ua + i, j - i)))
			return r;
		i = j;
	}
	return 0;
}

/* ---- the rules ---------------------------------------------------------------- */

/* UpdateTrail: turning off global-service events (IAM, STS, CloudFront
 * go unlogged) or multi-region (other regions go unlogged). */
static int trail_narrowed(const struct mm_json_val *rp)
{
	struct mm_json_val v;
	return (get(rp, "includeGlobalServiceEvents", &v) && is_false(&v)) ||
	       (get(rp, "isMultiRegionTrail", &v) && is_false(&v));
}

/* One basic event selector that still logs write management events. */
static int selector_logs_writes(const struct mm_json_val *s, void *arg)
{
	struct mm_json_val v;
	(void)arg;
	if (get(s, "includeManagementEvents", &v) && is_false(&v))
		return 0;
	return !(get(s, "readWriteType", &v) && is_str(&v, "ReadOnly"));
}

static int is_management(const struct mm_json_val *v, void *arg)
{
	(void)arg;
	return is_str(v, "Management");
}

static int is_true_v(const struct mm_json_val *v, void *arg)
{
	(void)arg;
	return is_true(v);
}

/* One advanced selector that logs write management events: it selects
 * eventCategory Management and does not narrow it to readOnly true. */
static int adv_logs_writes(const struct mm_json_val *s, void *arg)
{
	struct mm_json_val fs, f, name, eq;
	struct mm_json_iter it;
	struct mm_str k;
	int mgmt = 0, ro = 0;

	(void)arg;
	if (!get(s, "fieldSelectors", &fs) || fs.type != MM_JSON_ARRAY ||
	    mm_json_iter_init(&it, &fs))
		return 0;
	while (mm_json_iter_next(&it, &k, &f) == 1) {
		if (!get(&f, "field", &name) || !get(&f, "equals", &eq))
			continue;
		if (is_str(&name, "eventCategory") && each(&eq, is_management, NULL))
			mgmt = 1;
		else if (is_str(&name, "readOnly") && each(&eq, is_true_v, NULL))
			ro = 1;
	}
	return mgmt && !ro;
}

/* PutEventSelectors leaving no selector that logs write management
 * events (the calls an intruder makes). */
static int selectors_drop_management(const struct mm_json_val *rp)
{
	struct mm_json_val v;
	if (get(rp, "advancedEventSelectors", &v) && v.type == MM_JSON_ARRAY)
		return !each(&v, adv_logs_writes, NULL);
	if (get(rp, "eventSelectors", &v) && v.type == MM_JSON_ARRAY)
		return !each(&v, selector_logs_writes, NULL);
	return 0;
}

/* UpdateAccountPasswordPolicy: an omitted setting is reset to AWS's
 * default (length 6, no character class required), so the record holds
 * the whole new policy. */
static int password_policy_weak(const struct mm_json_val *rp, const double *pm)
{
	static const char *const classes[] = {"requireSymbols", "requireNumbers",
					      "requireUppercaseCharacters",
					      "requireLowercaseCharacters"};
	struct mm_json_val v;
	int64_t len = 6;
	size_t i;
	int nc = 0;

	if (get(rp, "minimumPasswordLength", &v) && mm_json_int(&v, &len))
		len = 6;
	for (i = 0; i < MM_ARRAY_LEN(classes); i++)
		nc += get(rp, classes[i], &v) && is_true(&v);
	return (double)len < pm[P_PW_MIN_LEN] || (double)nc < pm[P_PW_MIN_CLASSES];
}

/* A Block Public Access configuration with any of its four settings off
 * (an omitted one is off: S3 stores what the call sent). */
static int bpa_off(const struct mm_json_val *rp)
{
	static const char *const keys[] = {"BlockPublicAcls", "IgnorePublicAcls",
					   "BlockPublicPolicy", "RestrictPublicBuckets"};
	struct mm_json_val cfg, v;
	size_t i;

	if (!get(rp, "PublicAccessBlockConfiguration", &cfg) || cfg.type != MM_JSON_OBJECT)
		return 0;
	for (i = 0; i < MM_ARRAY_LEN(keys); i++)
		if (!get(&cfg, keys[i], &v) || !is_true(&v))
			return 1;
	return 0;
}

/* PutBucketLogging with no LoggingEnabled: S3 stops writing access logs. */
static int bucket_logging_off(const struct mm_json_val *rp)
{
	struct mm_json_val st, le;
	if (!get(rp, "BucketLoggingStatus", &st) || st.type != MM_JSON_OBJECT)
		return 0;
	return !get(&st, "LoggingEnabled", &le) || le.type == MM_JSON_NULL ||
	       (le.type == MM_JSON_OBJECT && le.n <= 2);
}

/* Bedrock model invocation logging that delivers nothing: no
 * destination, or every data type off. */
static int bedrock_logging_off(const struct mm_json_val *rp)
{
	static const char *const kinds[] = {"textDataDeliveryEnabled", "imageDataDeliveryEnabled",
					    "embeddingDataDeliveryEnabled",
					    "videoDataDeliveryEnabled"};
	struct mm_json_val cfg, v;
	size_t i;
	int on = 0;

	if (!get(rp, "loggingConfig", &cfg) || cfg.type != MM_JSON_OBJECT)
		return 1;
	if (!get(&cfg, "s3Config", &v) && !get(&cfg, "cloudWatchConfig", &v))
		return 1;
	for (i = 0; i < MM_ARRAY_LEN(kinds); i++)
		on |= get(&cfg, kinds[i], &v) && is_true(&v);
	return !on;
}

/* ---- emitting ----------------------------------------------------------------- */

static void emit(struct mm_detect_ctx *c, const struct mm_event *ev, int t, struct mm_str bucket)
{
	const struct mm_api *a = &ev->u.api;
	struct mm_str who = mm_api_principal(a);
	struct mm_finding *f;
	char disc[64] = "";
	int latest;

	if (!who.n)
		return;
	/* a bucket type's resource is the bucket; the caller keeps findings
	 * apart (disc); the others' resource is the caller */
	if (bucket.n)
		mm_str_copy(disc, sizeof(disc), who);
	f = mm_emit_api(c, types[t], bucket.n ? bucket : who, disc, ev, &latest);
	if (f && latest && f->res_type == MM_RES_S3BUCKET)
		mm_str_copy(f->access_key_id, sizeof(f->access_key_id), a->who.access_key_id);
}

/* The calls the rules read, by service. `what` says which rule. */
enum call {
	C_STOP_TRAIL,
	C_UPDATE_TRAIL,
	C_SELECTORS,
	C_PW_DELETE,
	C_PW_UPDATE,
	C_ACCT_BPA_PUT,
	C_ACCT_BPA_DELETE,
	C_BPA_PUT,
	C_BPA_DELETE,
	C_S3_LOGGING,
	C_POLICY,
	C_ACL,
	C_BEDROCK_DELETE,
	C_BEDROCK_PUT
};

static const struct {
	const char *src, *name;
	enum call what;
} CALLS[] = {
	{"cloudtrail.amazonaws.com", "StopLogging", C_STOP_TRAIL},
	{"cloudtrail.amazonaws.com", "DeleteTrail", C_STOP_TRAIL},
	{"cloudtrail.amazonaws.com", "UpdateTrail", C_UPDATE_TRAIL},
	{"cloudtrail.amazonaws.com", "PutEventSelectors", C_SELECTORS},
	{"iam.amazonaws.com", "DeleteAccountPasswordPolicy", C_PW_DELETE},
	{"iam.amazonaws.com", "UpdateAccountPasswordPolicy", C_PW_UPDATE},
	{"s3.amazonaws.com", "PutAccountPublicAccessBlock", C_ACCT_BPA_PUT},
	{"s3.amazonaws.com", "DeleteAccountPublicAccessBlock", C_ACCT_BPA_DELETE},
	/* the S3 Control names; with a bucket they are the bucket's */
	{"s3.amazonaws.com", "PutPublicAccessBlock", C_ACCT_BPA_PUT},
	{"s3.amazonaws.com", "DeletePublicAccessBlock", C_ACCT_BPA_DELETE},
	{"s3.amazonaws.com", "PutBucketPublicAccessBlock", C_BPA_PUT},
	{"s3.amazonaws.com", "DeleteBucketPublicAccessBlock", C_BPA_DELETE},
	{"s3.amazonaws.com", "PutBucketLogging", C_S3_LOGGING},
	{"s3.amazonaws.com", "PutBucketPolicy", C_POLICY},
	{"s3.amazonaws.com", "PutBucketAcl", C_ACL},
	{"bedrock.amazonaws.com", "DeleteModelInvocationLoggingConfiguration", C_BEDROCK_DELETE},
	{"bedrock.amazonaws.com", "PutModelInvocationLoggingConfiguration", C_BEDROCK_PUT},
};

/* Which of CALLS this record is, or -1. Names start with S, D, U or P:
 * one byte turns most records (Describe*, Get*, List*, AssumeRole...)
 * away before any string compare. */
static int which_call(struct mm_str src, struct mm_str name)
{
	size_t i;
	char c0 = name.n ? name.p[0] : 0;

	if ((c0 != 'S' && c0 != 'D' && c0 != 'U' && c0 != 'P') || src.n < 16)
		return -1;
	if (mm_str_eqz(src, "s3-control.amazonaws.com"))
		src = mm_str_c("s3.amazonaws.com");
	for (i = 0; i < MM_ARRAY_LEN(CALLS); i++)
		if (CALLS[i].name[0] == c0 && mm_str_eqz(name, CALLS[i].name) &&
		    mm_str_eqz(src, CALLS[i].src))
			return (int)CALLS[i].what;
	return -1;
}

static void config_change(struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_api *a = &ev->u.api;
	struct mm_json_val rp, v;
	struct mm_str bucket = MM_STR_NULL;
	int what = which_call(a->event_source, a->event_name), have, g;

	if (what < 0)
		return;
	have = parse(a->request_parameters.p, a->request_parameters.n, &rp) &&
	       rp.type == MM_JSON_OBJECT;
	if (have && get(&rp, "bucketName", &v))
		bucket = text(&v);
	/* S3 Control's Put/DeletePublicAccessBlock on a bucket */
	if (bucket.n && what == C_ACCT_BPA_PUT &&
	    !mm_str_eqz(a->event_name, "PutAccountPublicAccessBlock"))
		what = C_BPA_PUT;
	if (bucket.n && what == C_ACCT_BPA_DELETE &&
	    !mm_str_eqz(a->event_name, "DeleteAccountPublicAccessBlock"))
		what = C_BPA_DELETE;
	switch (what) {
	case C_STOP_TRAIL:
		emit(c, ev, T_TRAIL, MM_STR_NULL);
		break;
	case C_UPDATE_TRAIL:
		if (have && trail_narrowed(&rp))
			emit(c, ev, T_TRAIL, MM_STR_NULL);
		break;
	case C_SELECTORS:
		if (have && selectors_drop_management(&rp))
			emit(c, ev, T_TRAIL, MM_STR_NULL);
		break;
	case C_PW_DELETE:
		emit(c, ev, T_PWPOL, MM_STR_NULL);
		break;
	case C_PW_UPDATE:
		if (have && password_policy_weak(&rp, c->params))
			emit(c, ev, T_PWPOL, MM_STR_NULL);
		break;
	case C_ACCT_BPA_DELETE:
		emit(c, ev, T_ACCT_BPA, MM_STR_NULL);
		break;
	case C_ACCT_BPA_PUT:
		if (have && bpa_off(&rp))
			emit(c, ev, T_ACCT_BPA, MM_STR_NULL);
		break;
	case C_BPA_DELETE:
		if (bucket.n)
			emit(c, ev, T_BKT_BPA, bucket);
		break;
	case C_BPA_PUT:
		if (bucket.n && bpa_off(&rp))
			emit(c, ev, T_BKT_BPA, bucket);
		break;
	case C_S3_LOGGING:
		if (bucket.n && bucket_logging_off(&rp))
			emit(c, ev, T_S3LOG, bucket);
		break;
	case C_POLICY:
		if (bucket.n && get(&rp, "bucketPolicy", &v) &&
		    mm_ct_policy_grant(v.p, v.n) == MM_CT_GRANT_ANONYMOUS)
			emit(c, ev, T_ANON, bucket);
		break;
	case C_ACL:
		/* the widest grant only: anonymous covers authenticated */
		g = bucket.n ? mm_ct_acl_grant(a->request_parameters.p, a->request_parameters.n)
			     : 0;
		if (g)
			emit(c, ev, g == MM_CT_GRANT_ANONYMOUS ? T_ANON : T_PUBLIC, bucket);
		break;
	case C_BEDROCK_DELETE:
		emit(c, ev, T_BEDROCK, MM_STR_NULL);
		break;
	case C_BEDROCK_PUT:
		if (have && bedrock_logging_off(&rp))
			emit(c, ev, T_BEDROCK, MM_STR_NULL);
		break;
	}
}

static void on_event(void *state, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_api *a = &ev->u.api;
	int d;

	(void)state;
	/* AWS acting for itself is not a caller GuardDuty judges */
	if (mm_str_eqz(a->event_type, "AwsServiceEvent") || mm_str_eqz(a->who.type, "AWSService"))
		return;
	if (!a->error_code.n)
		config_change(c, ev);
	if (a->user_agent.n && (!a->error_code.n || c->params[P_PENTEST_FAILED] != 0) &&
	    (d = mm_ct_pentest_distro(a->user_agent.p, a->user_agent.n)))
		emit(c, ev, T_KALI + d - 1, MM_STR_NULL);
}

const struct mm_detector_def mm_det_ctrules = {
	.name = "ctrules",
	.kinds = MM_KIND_BIT(MM_EV_API),
	.types = types,
	.params = params,
	.on_event = on_event,
};
