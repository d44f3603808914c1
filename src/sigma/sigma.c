/* sigma.c - load a Sigma rule (sigma.h) and match it on raw JSON records.
 *
 * Loading uses libyaml's document API: rules are small (capped at
 * MM_SIGMA_MAX_FILE), and a node tree with marks lets every error name its
 * line. libyaml allocates with the C library's malloc; everything the
 * compiled rule keeps goes through mm_malloc in one pool per rule, capped
 * at MM_SIGMA_MAX_BYTES, so hostile rules are bounded.
 *
 * Matching follows the Sigma specification (v2): values compare
 * case-insensitively (ASCII) with the wildcards * and ?, a list of values
 * is OR (AND with |all), a map is the AND of its fields, a list of maps
 * the OR of them. A dotted field name walks nested objects, and any
 * array on the way (a field that is a list matches when one element
 * does). Regular expressions are POSIX extended (regcomp): the spec
 * limits `re` to the metacharacters . ^ $ * + ? {n,m} [..] | ( ), which
 * ERE has; anything beyond (\d, lookaround, (?i) ...) is reported
 * unsupported at load rather than misread. */
#include "sigma/sigma.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include <dirent.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/ip.h"
#include "core/json.h"
#include "core/event.h"
#include "core/mem.h"
#include "parse/cloudtrail.h"

/* ---- the compiled form ---------------------------------------------------- */

enum vop {
	V_GLOB = 0,	/* pattern with wildcards */
	V_RE,
	V_CIDR,
	V_EXISTS,
	V_NULL,
	V_FIELDREF,
	V_LT, V_LTE, V_GT, V_GTE
};

struct val {
	uint8_t op;
	uint8_t flag;		/* V_EXISTS: wanted; V_GLOB: no wildcard at all */
	uint8_t shape;		/* V_GLOB: 1 "*lit*", 2 "lit*", 3 "*lit" (lit without
				 * wildcards: a substring, prefix or suffix test), 0 other */
	char *s;		/* V_GLOB: bytes (wild marks which are * / ?); V_FIELDREF: field */
	uint8_t *wild;		/* 0 literal, '*' or '?' */
	size_t n;
	regex_t *re;
	struct mm_ip net;
	int plen;
	double num;
	char **segs;		/* V_FIELDREF: the other field's parts */
	int nsegs;
};

struct fmatch {
	char **segs;		/* dotted field name split; nsegs 0 = keyword */
	int nsegs;
	char *name;		/* the dotted name, and its hash: the per-event cache key */
	uint64_t h;
	uint8_t all, neq, cased;
	uint8_t fast;		/* a field the CloudTrail parser reads (fast_fields + 1), 0 none */
	struct val *v;
	int nv;
};

struct alt {
	struct fmatch *f;	/* AND */
	int nf;
};

struct sel {
	char *name;
	struct alt *a;		/* OR */
	int na;
};

enum cop { C_SEL, C_AND, C_OR, C_NOT, C_ONE, C_ALL };

struct cnode {
	uint8_t op;
	int a, b;		/* children (C_AND/C_OR/C_NOT), selection (C_SEL) */
	uint64_t set;		/* C_ONE/C_ALL: selections, one bit each */
};

struct mm__sigma_det {
	struct sel *sel;
	int nsel;
	struct cnode *node;
	int nnode;
	int root;
	regex_t **res;		/* for regfree */
	int nres, capres;
	/* Prefilter: when the rule can only match events whose eventName is
	 * one of these literal values (see find_gate), a many-rules match
	 * skips it on any other event with one compare per value. ngate 0 =
	 * no gate. Borrowed from the values above. */
	const struct val **gate;
	int ngate;
	/* the gate the set's index files the rule under: on the field of
	 * gate_fields whose kind is ikind */
	const struct val **igate;
	int nigate;
	char ikind;
};

/* ---- the per-rule pool ------------------------------------------------------ */

struct blk {
	struct blk *next;
	max_align_t pad[];
};

struct ld {
	struct mm_sigma_rule *r;
	yaml_document_t *doc;
	int oom;
	int toobig;
};

static void *ralloc(struct ld *L, size_t n)
{
	struct blk *b;
	if (L->oom || L->toobig)
		return NULL;
	if (n > MM_SIGMA_MAX_BYTES || L->r->bytes + n > MM_SIGMA_MAX_BYTES) {
		L->toobig = 1;
		return NULL;
	}
	b = mm_calloc(1, sizeof(*b) + n);
	if (!b) {
		L->oom = 1;
		return NULL;
	}
	b->next = L->r->pool;
	L->r->pool = b;
	L->r->bytes += n;
	return b->pad;
}

static char *rdup(struct ld *L, const char *s, size_t n)
{
	char *d = ralloc(L, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

const char *mm_sigma_status_name(enum mm_sigma_status s)
{
	switch (s) {
	case MM_SIGMA_OK: return "ok";
	case MM_SIGMA_UNSUPPORTED: return "unsupported";
	default: return "broken";
	}
}

/* First verdict wins (broken beats unsupported: a broken rule is a bug to
 * fix whatever else it lacks). Returns -1 so callers can bail out. */
static int verdict(struct ld *L, enum mm_sigma_status st, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int verdict(struct ld *L, enum mm_sigma_status st, const yaml_node_t *at, const char *fmt, ...)
{
	struct mm_sigma_rule *r = L->r;
	char msg[400];
	va_list ap;
	if (r->status == MM_SIGMA_BROKEN || (st == MM_SIGMA_UNSUPPORTED && r->status != MM_SIGMA_OK))
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->status = st;
	if (at)
		snprintf(r->reason, sizeof(r->reason), "%s:%lu: %s", r->file, (unsigned long)at->start_mark.line + 1, msg);
	else
		snprintf(r->reason, sizeof(r->reason), "%s: %s", r->file, msg);
	return -1;
}
#define BROKEN(L, at, ...) verdict(L, MM_SIGMA_BROKEN, at, __VA_ARGS__)
#define UNSUP(L, at, ...) verdict(L, MM_SIGMA_UNSUPPORTED, at, __VA_ARGS__)

/* ---- YAML helpers --------------------------------------------------------- */

static yaml_node_t *node(struct ld *L, int i) { return yaml_document_get_node(L->doc, i); }

static const char *sval(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static int is_null(const yaml_node_t *n)
{
	const char *s;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = sval(n);
	return !*s || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL") || !strcmp(s, "~");
}

static yaml_node_t *map_get(struct ld *L, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp(sval(k), key))
			return node(L, p->value);
	}
	return NULL;
}

/* a scalar metadata field: owned copy, or NULL (wrong shape is broken) */
static char *meta(struct ld *L, yaml_node_t *top, const char *key)
{
	yaml_node_t *v = map_get(L, top, key);
	if (!v || is_null(v))
		return NULL;
	if (v->type != YAML_SCALAR_NODE) {
		BROKEN(L, v, "'%s' must be a text", key);
		return NULL;
	}
	return rdup(L, sval(v), v->data.scalar.length);
}

/* ---- fields the CloudTrail parser has already read ---------------------------
 *
 * When a scan evaluates a rule (mm_sigma_set_match with the event's
 * struct mm_api), these fields are taken from the parsed event instead
 * of the record: the parser stores exactly what a lookup would give
 * (the string unescaped, a number or boolean as its text), so the
 * record is only scanned when a rule reads some other field. An empty
 * value (absent, null or "") is looked up in the record, which tells
 * those apart. */
static const char *const fast_fields[] = {
	"eventName", "eventSource", "eventType", "awsRegion", "userAgent", "errorCode", "errorMessage",
	"eventID", "eventVersion", "sourceIPAddress", "recipientAccountId",
	"userIdentity.type", "userIdentity.arn", "userIdentity.userName", "userIdentity.accountId",
	"userIdentity.invokedBy", "userIdentity.principalId", "userIdentity.accessKeyId",
	"userIdentity.identityProvider", "userIdentity.sessionContext.sessionIssuer.type",
	"userIdentity.sessionContext.sessionIssuer.arn", "userIdentity.sessionContext.sessionIssuer.userName",
	"userIdentity.sessionContext.sessionIssuer.principalId",
};

static struct mm_str fast_value(const struct mm_api *a, int id)
{
	const struct mm_identity *w = &a->who;
	switch (id - 1) {
	case 0: return a->event_name;
	case 1: return a->event_source;
	case 2: return a->event_type;
	case 3: return a->region;
	case 4: return a->user_agent;
	case 5: return a->error_code;
	case 6: return a->error_message;
	case 7: return a->event_id;
	case 8: return a->event_version;
	case 9: return a->source_ip_raw;
	case 10: return a->account;
	case 11: return w->type;
	case 12: return w->arn;
	case 13: return w->user_name;
	case 14: return w->account_id;
	case 15: return w->invoked_by;
	case 16: return w->principal_id;
	case 17: return w->access_key_id;
	case 18: return w->identity_provider;
	case 19: return w->issuer_type;
	case 20: return w->issuer_arn;
	case 21: return w->issuer_user_name;
	case 22: return w->issuer_principal_id;
	default: return mm_str_make("", 0);
	}
}

/* ---- values and modifiers ----------------------------------------------- */

/* A value under construction: bytes with a wildcard mark per byte. */
struct pv {
	char *s;
	uint8_t *w;
	size_t n;
};

static int pv_make(struct ld *L, struct pv *p, size_t n)
{
	p->s = ralloc(L, n + 1);
	p->w = ralloc(L, n + 1);
	p->n = n;
	return p->s && p->w ? 0 : -1;
}

/* Sigma's escaping: \* \? \\ are literals; a backslash before anything
 * else is itself literal; bare * and ? are wildcards. */
static int pv_from_sigma(struct ld *L, const char *s, size_t n, struct pv *out)
{
	size_t i, k = 0;
	if (pv_make(L, out, n))
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];
		uint8_t w = 0;
		if (c == '\\' && i + 1 < n && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\'))
			c = s[++i];
		else if (c == '*' || c == '?')
			w = (uint8_t)c;
		out->s[k] = c;
		out->w[k++] = w;
	}
	out->n = k;
	return 0;
}

static int pv_has_wild(const struct pv *p)
{
	size_t i;
	for (i = 0; i < p->n; i++)
		if (p->w[i])
			return 1;
	return 0;
}

/* pre/post '*' around p (contains, startswith, endswith) */
static int pv_wrap(struct ld *L, struct pv *p, int pre, int post)
{
	struct pv q;
	size_t k = 0;
	pre = pre && !(p->n && p->w[0] == '*');
	post = post && !(p->n && p->w[p->n - 1] == '*');
	if (pv_make(L, &q, p->n + 2))
		return -1;
	if (pre) {
		q.s[k] = '*';
		q.w[k++] = '*';
	}
	memcpy(q.s + k, p->s, p->n);
	memcpy(q.w + k, p->w, p->n);
	k += p->n;
	if (post) {
		q.s[k] = '*';
		q.w[k++] = '*';
	}
	q.n = k;
	*p = q;
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_enc(const unsigned char *in, size_t n, char *out)
{
	size_t i, k = 0;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[k++] = b64[v >> 18];
		out[k++] = b64[(v >> 12) & 63];
		out[k++] = b64[(v >> 6) & 63];
		out[k++] = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[k++] = b64[v >> 18];
		out[k++] = b64[(v >> 12) & 63];
		out[k++] = '=';
		out[k++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[k++] = b64[v >> 18];
		out[k++] = b64[(v >> 12) & 63];
		out[k++] = b64[(v >> 6) & 63];
		out[k++] = '=';
	}
	return k;
}

static int pv_literal(struct ld *L, const char *s, size_t n, struct pv *out)
{
	if (pv_make(L, out, n))
		return -1;
	memcpy(out->s, s, n);
	memset(out->w, 0, n);
	return 0;
}

/* base64 (one value) or base64offset (three: the value shifted by 0, 1 and
 * 2 bytes, with the characters that depend on the neighbours cut off, as
 * pySigma does) */
static int pv_base64(struct ld *L, struct pv *in, int offset, struct pv *out, int *nout)
{
	static const int start[3] = {0, 2, 3};
	static const int endcut[3] = {0, 3, 2};
	char *tmp, *enc;
	int i;
	tmp = ralloc(L, in->n + 3);
	enc = ralloc(L, (in->n + 3) / 3 * 4 + 8);
	if (!tmp || !enc)
		return -1;
	if (!offset) {
		size_t k = b64_enc((const unsigned char *)in->s, in->n, enc);
		*nout = 1;
		return pv_literal(L, enc, k, &out[0]);
	}
	for (i = 0; i < 3; i++) {
		size_t k, a, e;
		memset(tmp, ' ', (size_t)i);
		memcpy(tmp + i, in->s, in->n);
		k = b64_enc((const unsigned char *)tmp, in->n + (size_t)i, enc);
		a = (size_t)start[i];
		e = endcut[(in->n + (size_t)i) % 3];
		if (k < a + e) {
			*nout = i;
			return 0;
		}
		if (pv_literal(L, enc + a, k - a - e, &out[i]))
			return -1;
	}
	*nout = 3;
	return 0;
}

static int is_word(unsigned char c) { return isalnum(c) || c == '_'; }

/* windash: every '-' or '/' that starts a word (pySigma's \B[-/]\b) in
 * every combination of - / en dash, em dash, horizontal bar */
static const char *const dashes[5] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};

static int pv_windash(struct ld *L, const yaml_node_t *at, struct pv *in, struct pv *out, int cap, int *nout)
{
	size_t pos[8];
	int np = 0, combos = 1, c, j;
	size_t i;
	for (i = 0; i < in->n; i++) {
		if (in->w[i] || (in->s[i] != '-' && in->s[i] != '/'))
			continue;
		if (i > 0 && is_word((unsigned char)in->s[i - 1]))
			continue;
		if (i + 1 >= in->n || !is_word((unsigned char)in->s[i + 1]))
			continue;
		if (np == 4)
			return UNSUP(L, at, "windash: more than 4 dashes in one value");
		pos[np++] = i;
		combos *= 5;
	}
	if (combos > cap)
		return BROKEN(L, at, "too many values after windash (limit %d)", MM_SIGMA_MAX_VALUES);
	for (c = 0; c < combos; c++) {
		struct pv *o = &out[c];
		int sel = c;
		size_t k = 0, p = 0;
		if (pv_make(L, o, in->n + 2 * (size_t)np))
			return -1;
		for (i = 0; i < in->n; i++) {
			if (p < (size_t)np && pos[p] == i) {
				const char *d = dashes[sel % 5];
				sel /= 5;
				p++;
				for (j = 0; d[j]; j++) {
					o->s[k] = d[j];
					o->w[k++] = 0;
				}
				continue;
			}
			o->s[k] = in->s[i];
			o->w[k++] = in->w[i];
		}
		o->n = k;
	}
	*nout = combos;
	return 0;
}

/* Split a dotted field name into parts. */
static int split_field(struct ld *L, const yaml_node_t *at, const char *f, size_t n, char ***segs, int *nsegs)
{
	char *parts[MM_SIGMA_MAX_SEGS];
	int k = 0;
	size_t i, start = 0;
	for (i = 0; i <= n; i++) {
		if (i < n && f[i] != '.')
			continue;
		if (i == start)
			return BROKEN(L, at, "field name '%.*s' has an empty part", (int)n, f);
		if (k == MM_SIGMA_MAX_SEGS)
			return UNSUP(L, at, "field name '%.*s' has more than %d parts", (int)n, f, MM_SIGMA_MAX_SEGS);
		if (!(parts[k++] = rdup(L, f + start, i - start)))
			return -1;
		start = i + 1;
	}
	*segs = ralloc(L, sizeof(char *) * (size_t)k);
	if (!*segs)
		return -1;
	memcpy(*segs, parts, sizeof(char *) * (size_t)k);
	*nsegs = k;
	return 0;
}

/* Modifiers, as the spec lists them. Anything else is broken. */
enum {
	M_CONTAINS = 1 << 0, M_STARTS = 1 << 1, M_ENDS = 1 << 2, M_ALL = 1 << 3,
	M_RE = 1 << 4, M_CIDR = 1 << 5, M_B64 = 1 << 6, M_B64OFF = 1 << 7,
	M_EXISTS = 1 << 8, M_WINDASH = 1 << 9, M_FIELDREF = 1 << 10, M_CASED = 1 << 11,
	M_NEQ = 1 << 12, M_LT = 1 << 13, M_LTE = 1 << 14, M_GT = 1 << 15, M_GTE = 1 << 16,
	M_RE_I = 1 << 17, M_RE_M = 1 << 18, M_RE_S = 1 << 19
};
static const struct { const char *name; int bit; } mods[] = {
	{"contains", M_CONTAINS}, {"startswith", M_STARTS}, {"endswith", M_ENDS}, {"all", M_ALL},
	{"re", M_RE}, {"cidr", M_CIDR}, {"base64", M_B64}, {"base64offset", M_B64OFF},
	{"exists", M_EXISTS}, {"windash", M_WINDASH}, {"fieldref", M_FIELDREF}, {"cased", M_CASED},
	{"neq", M_NEQ}, {"lt", M_LT}, {"lte", M_LTE}, {"gt", M_GT}, {"gte", M_GTE},
	{"i", M_RE_I}, {"m", M_RE_M}, {"s", M_RE_S},
};
static const char *const unsupported_mods[] = {
	"utf16le", "utf16be", "utf16", "wide", "expand",
	"minute", "hour", "day", "week", "month", "year",
};

/* A regex the spec allows (ERE metacharacters only); anything that POSIX
 * would read differently from PCRE is refused. */
static const char *re_unsupported(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\') {
			char c = s[1];
			if (!c)
				return "ends with a backslash";
			if (isalnum((unsigned char)c))
				return "uses a PCRE escape (\\d, \\w, \\s, \\b, ...) that POSIX regex reads differently";
			s++;
		} else if (*s == '(' && s[1] == '?') {
			return "uses a (?...) group (flags, lookaround, non-capturing): not in the Sigma regex flavour";
		}
	}
	return NULL;
}

/* A run of literal bytes every match of regex re must contain (the
 * longest such run outside groups and classes), so a match can first look
 * for it with memmem and skip regexec, which is costly in glibc. Returns
 * its length (0: none usable: alternation, groups, or no run of 3). out
 * holds cap bytes. */
static size_t re_literal(const char *re, char *out, size_t cap)
{
	char run[256];
	size_t n = 0, best = 0;
	const char *p;
	if (strchr(re, '|') || strchr(re, '('))
		return 0;
	for (p = re;; p++) {
		char c = *p;
		int lit = 1;
		if (c == '\\' && p[1]) {
			c = *++p;	/* escaped punctuation (letters were refused) */
		} else if (!c || c == '.' || c == '^' || c == '$' || c == '[' || c == '+' || c == '*' ||
			   c == '?' || c == '{') {
			lit = 0;
			/* a quantifier that allows zero takes the last byte away */
			if ((c == '*' || c == '?' || c == '{') && n)
				n--;
		}
		if (lit && n < sizeof(run)) {
			run[n++] = c;
			continue;
		}
		if (n > best && n <= cap) {
			memcpy(out, run, n);
			best = n;
		}
		n = 0;
		if (!c)
			break;
		if (c == '[') {
			/* skip the class: a ']' first (after an optional '^') is a member */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']')
				p++;
			if (!*p)
				break;
		} else if (c == '{') {
			while (*p && *p != '}')
				p++;
			if (!*p)
				break;
		}
	}
	return best >= 3 ? best : 0;
}

/* The shape of a pattern whose only wildcards are a leading and/or a
 * trailing '*' (what contains, startswith and endswith make): see
 * struct val. */
static uint8_t glob_shape(const struct val *v)
{
	size_t i, a, b;
	int lead, trail;
	if (v->n < 2)
		return 0;
	lead = v->wild[0] == '*';
	trail = v->wild[v->n - 1] == '*';
	if (!lead && !trail)
		return 0;
	a = lead ? 1 : 0;
	b = trail ? v->n - 1 : v->n;
	for (i = a; i < b; i++)
		if (v->wild[i])
			return 0;
	return lead && trail ? 1 : trail ? 2 : 3;
}

static int fill_values(struct ld *L, struct fmatch *fm, const yaml_node_t *keynode, int mask,
		       const char *order[], int norder, yaml_node_t **vals, int nvals, const char *field,
		       struct pv *cur, struct pv *nxt)
{
	int i, j, k, nv = 0;
	for (i = 0; i < nvals; i++) {
		const yaml_node_t *vn = vals[i];
		struct val *v;
		int ncur = 1, o;
		if (vn->type != YAML_SCALAR_NODE)
			return BROKEN(L, vn, "a value of '%s' must be a text or number, not a %s", field,
				      vn->type == YAML_MAPPING_NODE ? "map" : "list");
		if (is_null(vn)) {
			if (mask & ~(M_ALL | M_NEQ | M_CASED))
				return BROKEN(L, vn, "null value of '%s' with a modifier", field);
			if (nv >= MM_SIGMA_MAX_VALUES)
				return BROKEN(L, vn, "more than %d values", MM_SIGMA_MAX_VALUES);
			fm->v[nv++].op = V_NULL;
			continue;
		}
		if (mask & M_EXISTS) {
			const char *s = sval(vn);
			v = &fm->v[nv++];
			v->op = V_EXISTS;
			if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes"))
				v->flag = 1;
			else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no"))
				v->flag = 0;
			else
				return BROKEN(L, vn, "exists wants true or false, not '%s'", s);
			continue;
		}
		if (mask & M_FIELDREF) {
			v = &fm->v[nv++];
			v->op = V_FIELDREF;
			if (split_field(L, vn, sval(vn), vn->data.scalar.length, &v->segs, &v->nsegs))
				return -1;
			continue;
		}
		if (mask & (M_LT | M_LTE | M_GT | M_GTE)) {
			char *end;
			double d;
			errno = 0;
			d = strtod(sval(vn), &end);
			if (end == sval(vn) || *end || errno)
				return BROKEN(L, vn, "'%s' is not a number", sval(vn));
			v = &fm->v[nv++];
			v->op = mask & M_LT ? V_LT : mask & M_LTE ? V_LTE : mask & M_GT ? V_GT : V_GTE;
			v->num = d;
			continue;
		}
		if (mask & M_CIDR) {
			v = &fm->v[nv++];
			v->op = V_CIDR;
			if (mm_cidr_parse(sval(vn), vn->data.scalar.length, &v->net, &v->plen))
				return BROKEN(L, vn, "'%s' is not a CIDR range", sval(vn));
			continue;
		}
		if (mask & M_RE) {
			int fl = REG_EXTENDED | REG_NOSUB, rc;
			const char *why = re_unsupported(sval(vn));
			if (why)
				return UNSUP(L, vn, "regex '%s' %s", sval(vn), why);
			if (mask & M_RE_I)
				fl |= REG_ICASE;
			if (mask & M_RE_M)
				fl |= REG_NEWLINE;
			v = &fm->v[nv++];
			v->op = V_RE;
			v->re = mm_calloc(1, sizeof(regex_t));
			if (!v->re) {
				L->oom = 1;
				return -1;
			}
			rc = regcomp(v->re, sval(vn), fl);
			if (rc) {
				char eb[128];
				regerror(rc, v->re, eb, sizeof(eb));
				mm_free(v->re);
				v->re = NULL;
				return BROKEN(L, vn, "regex '%s': %s", sval(vn), eb);
			}
			if (L->r->det->nres == L->r->det->capres) {
				int cap = L->r->det->capres ? 2 * L->r->det->capres : 8;
				regex_t **nr = mm_realloc(L->r->det->res, sizeof(*nr) * (size_t)cap);
				if (!nr) {
					regfree(v->re);
					mm_free(v->re);
					L->oom = 1;
					return -1;
				}
				L->r->det->res = nr;
				L->r->det->capres = cap;
			}
			L->r->det->res[L->r->det->nres++] = v->re;
			{
				char lit[128];
				size_t ln = re_literal(sval(vn), lit, sizeof(lit));
				if (ln && !(v->s = rdup(L, lit, ln)))
					return -1;
				v->n = ln;
				v->flag = !!(mask & M_RE_I);
			}
			continue;
		}
		/* a string value through its transformations, in the order written */
		if (pv_from_sigma(L, sval(vn), vn->data.scalar.length, &cur[0]))
			return -1;
		for (o = 0; o < norder; o++) {
			int nn = 0;
			if (!strcmp(order[o], "windash")) {
				for (j = 0; j < ncur; j++) {
					int got = 0;
					if (pv_windash(L, vn, &cur[j], nxt + nn, MM_SIGMA_MAX_VALUES - nn, &got))
						return -1;
					nn += got;
				}
			} else if (!strcmp(order[o], "base64") || !strcmp(order[o], "base64offset")) {
				for (j = 0; j < ncur; j++) {
					int got = 0;
					if (pv_has_wild(&cur[j]))
						return UNSUP(L, vn, "wildcards under %s", order[o]);
					if (nn + 3 > MM_SIGMA_MAX_VALUES)
						return BROKEN(L, vn, "more than %d values", MM_SIGMA_MAX_VALUES);
					if (pv_base64(L, &cur[j], order[o][6] == 'o', nxt + nn, &got))
						return -1;
					nn += got;
				}
			} else {
				int pre = !strcmp(order[o], "contains") || !strcmp(order[o], "endswith");
				int post = !strcmp(order[o], "contains") || !strcmp(order[o], "startswith");
				if (!pre && !post)
					continue;
				for (j = 0; j < ncur; j++)
					if (pv_wrap(L, &cur[j], pre, post))
						return -1;
				continue;
			}
			memcpy(cur, nxt, sizeof(struct pv) * (size_t)nn);
			ncur = nn;
		}
		if (nv + ncur > MM_SIGMA_MAX_VALUES)
			return BROKEN(L, vn, "more than %d values after modifiers", MM_SIGMA_MAX_VALUES);
		for (k = 0; k < ncur; k++) {
			v = &fm->v[nv++];
			v->op = V_GLOB;
			v->s = cur[k].s;
			v->wild = cur[k].w;
			v->n = cur[k].n;
			v->flag = !pv_has_wild(&cur[k]);
			v->shape = glob_shape(v);
		}
	}
	fm->nv = nv;
	if (!nv)
		return BROKEN(L, keynode, "'%s' has an empty list of values", field);
	return 0;
}

/* the values of one field, compiled into fm->v (pool memory, exact size);
 * the working lists are temporary so a field costs what it holds */
static int compile_values(struct ld *L, struct fmatch *fm, const yaml_node_t *keynode, int mask,
			  const char *order[], int norder, yaml_node_t **vals, int nvals, const char *field)
{
	struct pv *cur = mm_calloc(MM_SIGMA_MAX_VALUES, sizeof(*cur));
	struct pv *nxt = mm_calloc(MM_SIGMA_MAX_VALUES, sizeof(*nxt));
	struct val *tv = mm_calloc(MM_SIGMA_MAX_VALUES, sizeof(*tv));
	int rc = -1;
	if (!cur || !nxt || !tv) {
		L->oom = 1;
		goto out;
	}
	fm->v = tv;
	rc = fill_values(L, fm, keynode, mask, order, norder, vals, nvals, field, cur, nxt);
	fm->v = NULL;
	if (rc == 0) {
		fm->v = ralloc(L, sizeof(*tv) * (size_t)fm->nv);
		if (fm->v)
			memcpy(fm->v, tv, sizeof(*tv) * (size_t)fm->nv);
		else
			rc = -1;
	}
	if (rc)
		fm->nv = 0;
out:
	mm_free(cur);
	mm_free(nxt);
	mm_free(tv);
	return rc;
}

/* One "field|mod|mod: value(s)" entry of a selection map (or, with key
 * NULL, a keyword list). */
static int compile_field(struct ld *L, struct fmatch *fm, yaml_node_t *kn, yaml_node_t *vn)
{
	const char *key = kn ? sval(kn) : "";
	const char *bar = strchr(key, '|');
	size_t flen = bar ? (size_t)(bar - key) : strlen(key);
	const char *order[16];
	int norder = 0, mask = 0, i, nvals = 0;
	yaml_node_t **vals;
	char field[256];
	snprintf(field, sizeof(field), "%.*s", (int)flen, key);
	while (bar) {
		const char *m = bar + 1;
		size_t ml;
		int bit = 0, idx = 0;
		bar = strchr(m, '|');
		ml = bar ? (size_t)(bar - m) : strlen(m);
		for (i = 0; i < (int)MM_ARRAY_LEN(mods); i++)
			if (strlen(mods[i].name) == ml && !memcmp(mods[i].name, m, ml)) {
				bit = mods[i].bit;
				idx = i;
			}
		if (!bit) {
			for (i = 0; i < (int)MM_ARRAY_LEN(unsupported_mods); i++)
				if (strlen(unsupported_mods[i]) == ml && !memcmp(unsupported_mods[i], m, ml))
					return UNSUP(L, kn, "modifier '%.*s' is not implemented", (int)ml, m);
			return BROKEN(L, kn, "unknown modifier '%.*s'", (int)ml, m);
		}
		if ((bit & (M_RE_I | M_RE_M | M_RE_S)) && !(mask & M_RE))
			return BROKEN(L, kn, "modifier '%.*s' only follows 're'", (int)ml, m);
		if (norder == (int)MM_ARRAY_LEN(order))
			return BROKEN(L, kn, "too many modifiers");
		mask |= bit;
		order[norder++] = mods[idx].name;
	}
	/* without REG_NEWLINE POSIX '.' already crosses lines (re|s) */
	if ((mask & M_RE_S) && (mask & M_RE_M))
		return UNSUP(L, kn, "'re|m|s' together: POSIX regex cannot have ^/$ at lines and '.' across them");
	{
		int kinds = !!(mask & M_RE) + !!(mask & M_CIDR) + !!(mask & M_EXISTS) + !!(mask & M_FIELDREF) +
			    !!(mask & (M_LT | M_LTE | M_GT | M_GTE));
		int strmods = mask & (M_CONTAINS | M_STARTS | M_ENDS | M_B64 | M_B64OFF | M_WINDASH);
		if (kinds > 1 || (kinds && strmods))
			return BROKEN(L, kn, "modifiers of '%s' cannot be combined", key);
		if ((mask & M_FIELDREF) && (mask & M_CASED))
			return UNSUP(L, kn, "fieldref with cased");
	}
	fm->all = !!(mask & M_ALL);
	fm->neq = !!(mask & M_NEQ);
	fm->cased = !!(mask & M_CASED);
	if (kn && !flen && (mask & (M_CIDR | M_EXISTS | M_FIELDREF | M_NEQ | M_LT | M_LTE | M_GT | M_GTE)))
		return UNSUP(L, kn, "keywords with '%s': only string modifiers apply to keywords", key);
	if ((!kn || !flen) && !(mask & M_RE)) {
		/* a keyword ("|all" etc. included) is found anywhere in the
		 * record: implied wildcards */
		if (norder == (int)MM_ARRAY_LEN(order))
			return BROKEN(L, kn ? kn : vn, "too many modifiers");
		order[norder++] = "contains";
	}
	if (kn && flen && split_field(L, kn, key, flen, &fm->segs, &fm->nsegs))
		return -1;
	if (kn && flen) {
		if (!(fm->name = rdup(L, key, flen)))
			return -1;
		fm->h = mm_hash(key, flen, 0x5167);
	}
	if (vn->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;
		size_t cnt = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
		if (cnt > MM_SIGMA_MAX_VALUES)
			return BROKEN(L, vn, "more than %d values", MM_SIGMA_MAX_VALUES);
		vals = ralloc(L, sizeof(*vals) * (cnt + 1));
		if (!vals)
			return -1;
		for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
			vals[nvals] = node(L, *it);
			/* the spec: null is its own type and cannot be in a list */
			if (kn && vals[nvals] && is_null(vals[nvals]))
				return BROKEN(L, vals[nvals], "null cannot be part of a list of values ('%s')", key);
			nvals++;
		}
	} else {
		vals = ralloc(L, sizeof(*vals));
		if (!vals)
			return -1;
		vals[nvals++] = vn;
	}
	if (fm->all && (mask & (M_EXISTS)))
		return BROKEN(L, kn, "all with exists");
	if (kn && flen && !(mask & M_FIELDREF))
		for (i = 0; i < (int)MM_ARRAY_LEN(fast_fields); i++)
			if (strlen(fast_fields[i]) == flen && !memcmp(fast_fields[i], key, flen))
				fm->fast = (uint8_t)(i + 1);
	return compile_values(L, fm, kn ? kn : vn, mask, order, norder, vals, nvals, kn ? field : "keywords");
}

static int compile_map(struct ld *L, struct alt *a, yaml_node_t *m)
{
	yaml_node_pair_t *p;
	size_t cnt = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	if (!cnt)
		return BROKEN(L, m, "an empty selection map");
	if (cnt > 256)
		return UNSUP(L, m, "more than 256 fields in one map");
	a->f = ralloc(L, sizeof(struct fmatch) * cnt);
	if (!a->f)
		return -1;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return BROKEN(L, m, "a selection key must be a field name");
		if (v->type == YAML_MAPPING_NODE)
			return BROKEN(L, v, "the value of '%s' is a map", sval(k));
		if (compile_field(L, &a->f[a->nf++], k, v))
			return -1;
	}
	return 0;
}

static int compile_sel(struct ld *L, struct sel *s, yaml_node_t *kn, yaml_node_t *vn)
{
	s->name = rdup(L, sval(kn), kn->data.scalar.length);
	if (!s->name)
		return -1;
	if (vn->type == YAML_MAPPING_NODE) {
		s->a = ralloc(L, sizeof(struct alt));
		if (!s->a)
			return -1;
		s->na = 1;
		return compile_map(L, &s->a[0], vn);
	}
	if (vn->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;
		size_t cnt = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
		int maps = 0, scalars = 0;
		if (!cnt)
			return BROKEN(L, vn, "selection '%s' is an empty list", s->name);
		for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
			yaml_node_t *e = node(L, *it);
			maps += e && e->type == YAML_MAPPING_NODE;
			scalars += e && e->type == YAML_SCALAR_NODE;
		}
		if (scalars == (int)cnt) {
			/* keywords: one alternative whose one matcher has no field */
			s->a = ralloc(L, sizeof(struct alt));
			if (!s->a || !(s->a->f = ralloc(L, sizeof(struct fmatch))))
				return -1;
			s->na = 1;
			s->a->nf = 1;
			return compile_field(L, s->a->f, NULL, vn);
		}
		if (maps != (int)cnt)
			return UNSUP(L, vn, "selection '%s' mixes maps with other values", s->name);
		if (cnt > 256)
			return UNSUP(L, vn, "more than 256 maps in selection '%s'", s->name);
		s->a = ralloc(L, sizeof(struct alt) * cnt);
		if (!s->a)
			return -1;
		for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++)
			if (compile_map(L, &s->a[s->na++], node(L, *it)))
				return -1;
		return 0;
	}
	if (is_null(vn))
		return BROKEN(L, vn, "selection '%s' is empty", s->name);
	/* one keyword */
	s->a = ralloc(L, sizeof(struct alt));
	if (!s->a || !(s->a->f = ralloc(L, sizeof(struct fmatch))))
		return -1;
	s->na = 1;
	s->a->nf = 1;
	return compile_field(L, s->a->f, NULL, vn);
}

/* ---- the condition ---------------------------------------------------------- */

struct cp {
	struct ld *L;
	const yaml_node_t *at;
	struct mm__sigma_det *d;
	const char *s;		/* the condition text */
	char tok[128];
	int tlen;
	int depth;
};

/* next token: ( ) or a word; returns its length, 0 at the end, -1 if too long */
static int lex(struct cp *c)
{
	const char *s = c->s;
	int n = 0;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '(' || *s == ')' || *s == '|') {
		c->tok[0] = *s;
		c->tok[1] = '\0';
		c->tlen = 1;
		return 1;
	}
	while (s[n] && !strchr(" \t\r\n()|", s[n])) {
		if (n == (int)sizeof(c->tok) - 1)
			return -1;
		c->tok[n] = s[n];
		n++;
	}
	c->tok[n] = '\0';
	c->tlen = n;
	return n;
}

static void take(struct cp *c)
{
	while (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r')
		c->s++;
	c->s += c->tlen;
}

static int newnode(struct cp *c, int op, int a, int b)
{
	struct mm__sigma_det *d = c->d;
	if (d->nnode == MM_SIGMA_MAX_NODES)
		return BROKEN(c->L, c->at, "condition too long (more than %d terms)", MM_SIGMA_MAX_NODES);
	d->node[d->nnode].op = (uint8_t)op;
	d->node[d->nnode].a = a;
	d->node[d->nnode].b = b;
	return d->nnode++;
}

static int glob_plain(const char *pat, const char *s)
{
	if (!*pat)
		return !*s;
	if (*pat == '*')
		return glob_plain(pat + 1, s) || (*s && glob_plain(pat, s + 1));
	return *s == *pat && glob_plain(pat + 1, s + 1);
}

static int cexpr(struct cp *c);

static int cfactor(struct cp *c)
{
	int n = lex(c), a, i;
	if (n < 0)
		return BROKEN(c->L, c->at, "condition: a word longer than %d characters", (int)sizeof(c->tok) - 1);
	if (!n)
		return BROKEN(c->L, c->at, "condition ends where a selection was expected");
	if (++c->depth > 64)
		return BROKEN(c->L, c->at, "condition nested too deeply");
	if (!strcmp(c->tok, "|"))
		return UNSUP(c->L, c->at, "aggregation in the condition ('| count() ...', Sigma 1.0): use a correlation rule");
	if (!strcmp(c->tok, "not")) {
		take(c);
		if ((a = cfactor(c)) < 0)
			return -1;
		c->depth--;
		return newnode(c, C_NOT, a, -1);
	}
	if (!strcmp(c->tok, "(")) {
		take(c);
		if ((a = cexpr(c)) < 0)
			return -1;
		if (lex(c) != 1 || strcmp(c->tok, ")"))
			return BROKEN(c->L, c->at, "condition: '(' without its ')'");
		take(c);
		c->depth--;
		return a;
	}
	if (!strcmp(c->tok, ")"))
		return BROKEN(c->L, c->at, "condition: ')' without its '('");
	if (!strcmp(c->tok, "and") || !strcmp(c->tok, "or"))
		return BROKEN(c->L, c->at, "condition: '%s' where a selection was expected", c->tok);
	if (!strcmp(c->tok, "1") || !strcmp(c->tok, "all") || !strcmp(c->tok, "any") ||
	    strspn(c->tok, "0123456789") == (size_t)c->tlen) {
		int isall = !strcmp(c->tok, "all");
		int isone = !strcmp(c->tok, "1") || !strcmp(c->tok, "any");
		char q[128];
		uint64_t set = 0;
		snprintf(q, sizeof(q), "%s", c->tok);
		take(c);
		if (lex(c) <= 0 || strcmp(c->tok, "of"))
			return BROKEN(c->L, c->at, "condition: '%s' must be followed by 'of'", q);
		take(c);
		if (!isall && !isone)
			return UNSUP(c->L, c->at, "condition: '%s of' (only '1 of' and 'all of' are Sigma)", q);
		if (lex(c) <= 0 || c->tlen == 1)
			return BROKEN(c->L, c->at, "condition: '%s of' without a pattern", q);
		take(c);
		for (i = 0; i < c->d->nsel; i++) {
			const char *nm = c->d->sel[i].name;
			if (!strcmp(c->tok, "them") ? nm[0] != '_' : glob_plain(c->tok, nm))
				set |= (uint64_t)1 << i;
		}
		if (!set)
			return BROKEN(c->L, c->at, "condition: '%s of %s' names no selection", q, c->tok);
		if ((a = newnode(c, isall ? C_ALL : C_ONE, -1, -1)) < 0)
			return -1;
		c->d->node[a].set = set;
		c->depth--;
		return a;
	}
	if (!strcmp(c->tok, "near"))
		return UNSUP(c->L, c->at, "condition: 'near' (Sigma 1.0 aggregation)");
	for (i = 0; i < c->d->nsel; i++)
		if (!strcmp(c->d->sel[i].name, c->tok))
			break;
	if (i == c->d->nsel)
		return BROKEN(c->L, c->at, "condition names '%s', which is not a selection", c->tok);
	take(c);
	c->depth--;
	return newnode(c, C_SEL, i, -1);
}

/* a chain of one binary operator: level 0 is `or` over `and` chains,
 * level 1 is `and` over factors (so `not` > `and` > `or`) */
static int cchain(struct cp *c, int level)
{
	const char *op = level ? "and" : "or";
	int a = level ? cfactor(c) : cchain(c, 1), b;
	while (a >= 0 && lex(c) > 0 && !strcmp(c->tok, op)) {
		take(c);
		if ((b = level ? cfactor(c) : cchain(c, 1)) < 0)
			return -1;
		a = newnode(c, level ? C_AND : C_OR, a, b);
	}
	return a;
}

static int cexpr(struct cp *c) { return cchain(c, 0); }

static int compile_condition(struct ld *L, struct mm__sigma_det *d, const yaml_node_t *cn)
{
	struct cp c = {L, cn, d, NULL, {0}, 0, 0};
	int root;
	if (cn->type != YAML_SCALAR_NODE || is_null(cn))
		return BROKEN(L, cn, "condition must be a text or a list of texts");
	c.s = sval(cn);
	if ((root = cexpr(&c)) < 0)
		return -1;
	if (lex(&c) != 0) {
		if (!strcmp(c.tok, "|"))
			return UNSUP(L, cn, "aggregation in the condition ('| count() ...', Sigma 1.0): use a correlation rule");
		return BROKEN(L, cn, "condition: unexpected '%s'", c.tok);
	}
	return root;
}


/* ---- correlation rules ---------------------------------------------------------- */

/* "5m", "90s", "1h", "2d": a number and one lowercase unit letter */
static int64_t parse_timespan(const char *t)
{
	char *end;
	long long v;
	int64_t unit;
	errno = 0;
	v = strtoll(t, &end, 10);
	if (end == t || errno || v <= 0 || v > 366LL * 86400 || !end[0] || end[1])
		return -1;
	switch (end[0]) {
	case 's': unit = 1000; break;
	case 'm': unit = 60000; break;
	case 'h': unit = 3600000; break;
	case 'd': unit = 86400000; break;
	default: return -1;
	}
	if (v * unit / 1000 > 366LL * 86400)
		return -1;
	return (int64_t)v * unit;
}

/* a list of texts (or one text) into out[0..*n), at most cap */
static int text_list(struct ld *L, yaml_node_t *v, const char *what, char **out, int *n, int cap)
{
	yaml_node_item_t *it;
	*n = 0;
	if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
		out[(*n)++] = rdup(L, sval(v), v->data.scalar.length);
		return out[0] ? 0 : -1;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return BROKEN(L, v, "%s must be a list of texts", what);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(L, *it);
		if (!e || e->type != YAML_SCALAR_NODE || is_null(e))
			return BROKEN(L, v, "%s must be a list of texts", what);
		if (*n == cap)
			return UNSUP(L, v, "more than %d %s", cap, what);
		if (!(out[(*n)++] = rdup(L, sval(e), e->data.scalar.length)))
			return -1;
	}
	return 0;
}

static int parse_count(struct ld *L, yaml_node_t *v, const char *key, uint64_t *out)
{
	char *end;
	long long x;
	if (v->type != YAML_SCALAR_NODE)
		return BROKEN(L, v, "condition '%s' must be a whole number", key);
	errno = 0;
	x = strtoll(sval(v), &end, 10);
	if (end == sval(v) || *end || errno || x < 0 || x > 1000000000)
		return BROKEN(L, v, "condition '%s' must be a whole number, not '%s'", key, sval(v));
	*out = (uint64_t)x;
	return 0;
}

static int load_corr(struct ld *L, yaml_node_t *top, yaml_node_t *cn)
{
	struct mm_sigma_corr *c;
	yaml_node_t *v;
	const char *t;
	if (cn->type != YAML_MAPPING_NODE)
		return BROKEN(L, cn, "correlation must be a map");
	if (!(c = L->r->corr = ralloc(L, sizeof(*c))))
		return -1;
	if (!(v = map_get(L, cn, "type")) || v->type != YAML_SCALAR_NODE)
		return BROKEN(L, cn, "correlation needs a type");
	t = sval(v);
	if (!strcmp(t, "event_count"))
		c->type = MM_SIGMA_EVENT_COUNT;
	else if (!strcmp(t, "value_count"))
		c->type = MM_SIGMA_VALUE_COUNT;
	else if (!strcmp(t, "temporal"))
		c->type = MM_SIGMA_TEMPORAL;
	else if (!strcmp(t, "temporal_ordered"))
		c->type = MM_SIGMA_TEMPORAL_ORDERED;
	else if (!strcmp(t, "value_sum") || !strcmp(t, "value_avg") || !strcmp(t, "value_percentile"))
		return UNSUP(L, v, "correlation type %s (Sigma 2.1 metrics): not implemented", t);
	else
		return BROKEN(L, v, "unknown correlation type '%s'", t);
	if (!(v = map_get(L, cn, "rules")))
		return BROKEN(L, cn, "correlation needs rules");
	c->rules_line = (int)v->start_mark.line + 1;
	if (text_list(L, v, "rules", c->ref, &c->nrules, MM_SIGMA_CORR_RULES))
		return -1;
	if (!c->nrules)
		return BROKEN(L, v, "correlation rules is empty");
	if ((v = map_get(L, cn, "group-by")) && !is_null(v) &&
	    text_list(L, v, "group-by fields", c->group, &c->ngroup, MM_SIGMA_CORR_GROUP))
		return -1;
	if (!(v = map_get(L, cn, "timespan")) || v->type != YAML_SCALAR_NODE)
		return BROKEN(L, cn, "correlation needs a timespan");
	if ((c->timespan_ms = parse_timespan(sval(v))) < 0)
		return BROKEN(L, v, "timespan '%s' is not a number and one of s, m, h, d (at most a year)",
			      sval(v));
	c->generate = 0;
	if ((v = map_get(L, cn, "generate")) || (v = map_get(L, top, "generate"))) {
		if (v->type == YAML_SCALAR_NODE && (!strcmp(sval(v), "true") || !strcmp(sval(v), "yes")))
			c->generate = 1;
		else if (v->type != YAML_SCALAR_NODE || (strcmp(sval(v), "false") && strcmp(sval(v), "no")))
			return BROKEN(L, v, "generate must be true or false");
	}
	if ((v = map_get(L, cn, "aliases")) && !is_null(v)) {
		yaml_node_pair_t *p, *q;
		int cnt = 0;
		if (v->type != YAML_MAPPING_NODE)
			return BROKEN(L, v, "aliases must be a map");
		for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
			yaml_node_t *m = node(L, p->value);
			if (!m || m->type != YAML_MAPPING_NODE)
				return BROKEN(L, v, "an alias must map rule names to fields");
			cnt += (int)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
		}
		if (cnt > MM_SIGMA_CORR_RULES * MM_SIGMA_CORR_GROUP)
			return UNSUP(L, v, "more than %d alias entries", MM_SIGMA_CORR_RULES * MM_SIGMA_CORR_GROUP);
		c->alias = ralloc(L, sizeof(char *) * (size_t)(cnt + 1));
		c->alias_rule = ralloc(L, sizeof(char *) * (size_t)(cnt + 1));
		c->alias_field = ralloc(L, sizeof(char *) * (size_t)(cnt + 1));
		if (!c->alias || !c->alias_rule || !c->alias_field)
			return -1;
		for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(L, p->key), *m = node(L, p->value);
			if (!k || k->type != YAML_SCALAR_NODE)
				return BROKEN(L, v, "an alias name must be a text");
			for (q = m->data.mapping.pairs.start; q < m->data.mapping.pairs.top; q++) {
				yaml_node_t *rk = node(L, q->key), *fv = node(L, q->value);
				if (!rk || !fv || rk->type != YAML_SCALAR_NODE || fv->type != YAML_SCALAR_NODE)
					return BROKEN(L, m, "alias '%s' must map rule names to field names", sval(k));
				c->alias[c->nalias] = rdup(L, sval(k), k->data.scalar.length);
				c->alias_rule[c->nalias] = rdup(L, sval(rk), rk->data.scalar.length);
				c->alias_field[c->nalias] = rdup(L, sval(fv), fv->data.scalar.length);
				if (!c->alias[c->nalias] || !c->alias_rule[c->nalias] || !c->alias_field[c->nalias])
					return -1;
				c->nalias++;
			}
		}
	}
	v = map_get(L, cn, "condition");
	if (v && !is_null(v)) {
		yaml_node_pair_t *p;
		int have = 0;
		if (v->type != YAML_MAPPING_NODE)
			return BROKEN(L, v, "correlation condition must be a map (gte: N ...)");
		for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(L, p->key), *x = node(L, p->value);
			uint64_t n;
			if (!k || !x || k->type != YAML_SCALAR_NODE)
				return BROKEN(L, v, "correlation condition keys are gt, gte, lt, lte, eq, neq, field");
			t = sval(k);
			if (!strcmp(t, "field")) {
				if (text_list(L, x, "condition fields", c->field, &c->nfield, MM_SIGMA_CORR_FIELDS))
					return -1;
				continue;
			}
			if (!strcmp(t, "gte") || !strcmp(t, "gt")) {
				if (parse_count(L, x, t, &n))
					return -1;
				if (have++)
					return UNSUP(L, x, "a range in a correlation condition");
				c->min = t[2] ? n : n + 1;
				continue;
			}
			if (!strcmp(t, "lt") || !strcmp(t, "lte") || !strcmp(t, "eq") || !strcmp(t, "neq")) {
				if (parse_count(L, x, t, &n))
					return -1;
				return UNSUP(L, k, "correlation condition '%s': a streaming detector cannot take a "
						   "finding back when more events arrive; only gt and gte run", t);
			}
			return BROKEN(L, k, "unknown correlation condition '%s'", t);
		}
		if (!have && c->type <= MM_SIGMA_VALUE_COUNT)
			return BROKEN(L, v, "correlation condition needs gte or gt");
	} else if (c->type <= MM_SIGMA_VALUE_COUNT)
		return BROKEN(L, cn, "an %s correlation needs a condition", c->type ? "value_count" : "event_count");
	if (c->type == MM_SIGMA_VALUE_COUNT && !c->nfield)
		return BROKEN(L, v, "a value_count correlation needs condition.field");
	if (c->type >= MM_SIGMA_TEMPORAL && !c->min)
		c->min = (uint64_t)c->nrules;
	if (c->type >= MM_SIGMA_TEMPORAL && c->min > (uint64_t)c->nrules)
		return BROKEN(L, v, "the condition asks for more rules than the correlation names");
	if (!c->min)
		c->min = 1;
	return 0;
}

/* ---- the rule ---------------------------------------------------------------- */

static int load_detection(struct ld *L, yaml_node_t *det)
{
	struct mm__sigma_det *d = L->r->det;
	yaml_node_pair_t *p;
	yaml_node_t *cond = NULL;
	if (det->type != YAML_MAPPING_NODE)
		return BROKEN(L, det, "detection must be a map");
	d->sel = ralloc(L, sizeof(struct sel) * MM_SIGMA_MAX_SELECTIONS);
	d->node = ralloc(L, sizeof(struct cnode) * MM_SIGMA_MAX_NODES);
	if (!d->sel || !d->node)
		return -1;
	for (p = det->data.mapping.pairs.start; p < det->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return BROKEN(L, det, "a detection key must be a name");
		if (!strcmp(sval(k), "condition")) {
			cond = v;
			continue;
		}
		if (!strcmp(sval(k), "timeframe")) {
			UNSUP(L, k, "timeframe in detection (Sigma 1.0 aggregation): use a correlation rule");
			continue;
		}
		if (d->nsel == MM_SIGMA_MAX_SELECTIONS)
			return UNSUP(L, k, "more than %d selections", MM_SIGMA_MAX_SELECTIONS);
		if (strspn(sval(k), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
			    k->data.scalar.length || !k->data.scalar.length)
			return BROKEN(L, k, "selection name '%s' has characters a condition cannot name", sval(k));
		if (compile_sel(L, &d->sel[d->nsel++], k, v) && L->r->status == MM_SIGMA_BROKEN)
			return -1;
		if (L->oom || L->toobig)
			return -1;
	}
	if (!cond)
		return BROKEN(L, det, "detection has no condition");
	if (cond->type == YAML_SEQUENCE_NODE) {
		/* several conditions (deprecated): any of them */
		yaml_node_item_t *it;
		int root = -1;
		if (cond->data.sequence.items.start == cond->data.sequence.items.top)
			return BROKEN(L, cond, "condition is an empty list");
		for (it = cond->data.sequence.items.start; it < cond->data.sequence.items.top; it++) {
			int one = compile_condition(L, d, node(L, *it));
			if (one < 0)
				return -1;
			if (root < 0)
				root = one;
			else {
				struct cp c = {L, cond, d, NULL, {0}, 0, 0};
				if ((root = newnode(&c, C_OR, root, one)) < 0)
					return -1;
			}
		}
		d->root = root;
		return 0;
	}
	if ((d->root = compile_condition(L, d, cond)) < 0)
		return -1;
	return 0;
}

/* Is fm a test of field `field` (its dotted name) against literal values
 * only (no wildcard, no neq, no all over several values)? */
static int literal_test(const struct fmatch *fm, const char *field)
{
	int v;
	if (!fm->name || strcmp(fm->name, field) || fm->neq || (fm->all && fm->nv > 1))
		return 0;
	for (v = 0; v < fm->nv; v++)
		if (fm->v[v].op != V_GLOB || !fm->v[v].flag)
			return 0;
	return 1;
}

/* The values of `field` one of which a match of selection sl requires:
 * every alternative tests field against literals (their union), else -1.
 * Appends to out (cap entries; -1 when they do not fit). */
static int sel_gate(const struct sel *sl, const char *field, const struct val **out, int cap)
{
	int a, f, v, n = 0;
	for (a = 0; a < sl->na; a++) {
		for (f = 0; f < sl->a[a].nf; f++)
			if (literal_test(&sl->a[a].f[f], field))
				break;
		if (f == sl->a[a].nf || n + sl->a[a].f[f].nv > cap)
			return -1;
		for (v = 0; v < sl->a[a].f[f].nv; v++)
			out[n++] = &sl->a[a].f[f].v[v];
	}
	return n;
}

/* The same for condition node n: `and` needs one side's values, `or` and
 * `1 of` the union of all sides' (each must have some), `all of` any
 * member's; `not` gives none. */
static int gate_of(const struct mm__sigma_det *d, int n, const char *field, const struct val **out, int cap)
{
	const struct cnode *c = &d->node[n];
	int i, k, m, total = 0;
	switch (c->op) {
	case C_SEL:
		return sel_gate(&d->sel[c->a], field, out, cap);
	case C_AND:
		return (k = gate_of(d, c->a, field, out, cap)) >= 0 ? k : gate_of(d, c->b, field, out, cap);
	case C_OR:
		if ((k = gate_of(d, c->a, field, out, cap)) < 0)
			return -1;
		return (m = gate_of(d, c->b, field, out + k, cap - k)) < 0 ? -1 : k + m;
	case C_ONE:
	case C_ALL:
		for (i = 0; i < d->nsel; i++) {
			if (!(c->set >> i & 1))
				continue;
			k = sel_gate(&d->sel[i], field, out + total, cap - total);
			if (c->op == C_ALL && k >= 0)
				return k;
			if (c->op == C_ONE && k < 0)
				return -1;
			total += k > 0 ? k : 0;
		}
		return c->op == C_ONE ? total : -1;
	default:
		return -1;
	}
}

/* A gate on `field`: the rule cannot match an event whose field is none
 * of *gate's values (borrowed from the compiled matchers); *ngate 0 = no
 * gate. */
static void find_gate(struct ld *L, struct mm__sigma_det *d, const char *field, const struct val ***gate,
		      int *ngate)
{
	const struct val **tmp = mm_malloc(sizeof(*tmp) * MM_SIGMA_MAX_VALUES);
	int n;
	*ngate = 0;
	if (!tmp) {
		L->oom = 1;
		return;
	}
	n = gate_of(d, d->root, field, tmp, MM_SIGMA_MAX_VALUES);
	if (n > 0 && (*gate = ralloc(L, sizeof(**gate) * (size_t)n))) {
		memcpy(*gate, tmp, sizeof(**gate) * (size_t)n);
		*ngate = n;
	}
	mm_free(tmp);
}

/* The fields an index can gate on: ones the CloudTrail parser already has
 * (so no lookup in the record), most selective first. */
static const struct {
	const char *field;
	char kind;
} gate_fields[] = {
	{"eventName", 'n'}, {"eventSource", 's'}, {"userAgent", 'u'}, {"userIdentity.type", 't'},
};

/* A product: linux rule's log source onto host events (r->src, r->svc),
 * or the reason mamori cannot run it. */
static void linux_source(struct ld *L, const yaml_node_t *v)
{
	static const struct {
		const char *name;
		uint8_t src, svc;
	} cats[] = {
		{"process_creation", MM_SIGMA_SRC_PROC, 0},
		{"network_connection", MM_SIGMA_SRC_NET, 0},
		{"file_event", MM_SIGMA_SRC_FILE, 0},
		{"file_change", MM_SIGMA_SRC_FILE, 0},
		{"file_delete", MM_SIGMA_SRC_FILE_DEL, 0},
	}, svcs[] = {
		{"syslog", MM_SIGMA_SRC_LINUX_LOG, MM_SIGMA_SVC_ANY},
		{"auth", MM_SIGMA_SRC_LINUX_LOG, MM_SIGMA_SVC_AUTH},
		{"sshd", MM_SIGMA_SRC_LINUX_LOG, MM_SIGMA_SVC_SSHD},
		{"sudo", MM_SIGMA_SRC_LINUX_LOG, MM_SIGMA_SVC_SUDO},
		{"cron", MM_SIGMA_SRC_LINUX_LOG, MM_SIGMA_SVC_CRON},
		{"vsftpd", MM_SIGMA_SRC_LINUX_LOG, MM_SIGMA_SVC_VSFTPD},
		{"clamav", MM_SIGMA_SRC_LINUX_LOG, MM_SIGMA_SVC_CLAMAV},
		{"guacamole", MM_SIGMA_SRC_LINUX_LOG, MM_SIGMA_SVC_GUACAMOLE},
	};
	struct mm_sigma_rule *r = L->r;
	size_t k;
	if (r->category) {
		for (k = 0; k < MM_ARRAY_LEN(cats); k++)
			if (!strcmp(r->category, cats[k].name)) {
				r->src = cats[k].src;
				return;
			}
		UNSUP(L, v, "logsource product=linux category=%s: mamori has no such Linux events (it has "
			    "process_creation, network_connection, file_event, file_delete and log lines)",
		      r->category);
		return;
	}
	if (!r->service) {
		r->src = MM_SIGMA_SRC_LINUX_LOG;
		r->svc = MM_SIGMA_SVC_ANY;
		return;
	}
	for (k = 0; k < MM_ARRAY_LEN(svcs); k++)
		if (!strcmp(r->service, svcs[k].name)) {
			r->src = svcs[k].src;
			r->svc = svcs[k].svc;
			return;
		}
	if (!strcmp(r->service, "auditd"))
		UNSUP(L, v, "logsource product=linux service=auditd: mamori does not read the audit log "
			    "(audit.log) yet");
	else
		UNSUP(L, v, "logsource product=linux service=%s: mamori reads the auth, sshd, sudo, cron, "
			    "vsftpd, clamav, guacamole and syslog lines, not %s's log",
		      r->service, r->service);
}

static void load_doc(struct ld *L)
{
	struct mm_sigma_rule *r = L->r;
	yaml_node_t *top = yaml_document_get_root_node(L->doc), *v, *det;
	if (!top)
		return (void)BROKEN(L, NULL, "empty file");
	if (top->type != YAML_MAPPING_NODE)
		return (void)BROKEN(L, top, "a rule must be a YAML map");
	r->title = meta(L, top, "title");
	if ((v = map_get(L, top, "title")))
		r->line = (int)v->start_mark.line + 1;
	r->id = meta(L, top, "id");
	r->status_text = meta(L, top, "status");
	r->level = meta(L, top, "level");
	r->description = meta(L, top, "description");
	r->author = meta(L, top, "author");
	if ((v = map_get(L, top, "tags")) && !is_null(v)) {
		yaml_node_item_t *it;
		if (v->type != YAML_SEQUENCE_NODE)
			return (void)BROKEN(L, v, "tags must be a list");
		r->tags = ralloc(L, sizeof(char *) * MM_SIGMA_MAX_TAGS);
		if (!r->tags)
			return;
		for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			yaml_node_t *t = node(L, *it);
			if (!t || t->type != YAML_SCALAR_NODE)
				return (void)BROKEN(L, v, "a tag must be a text");
			if (r->ntags == MM_SIGMA_MAX_TAGS)
				return (void)UNSUP(L, t, "more than %d tags", MM_SIGMA_MAX_TAGS);
			if (!(r->tags[r->ntags++] = rdup(L, sval(t), t->data.scalar.length)))
				return;
		}
	}
	r->name = meta(L, top, "name");
	r->license = meta(L, top, "license");
	if ((v = map_get(L, top, "references")) && v->type == YAML_SEQUENCE_NODE &&
	    v->data.sequence.items.start < v->data.sequence.items.top) {
		yaml_node_t *first = node(L, *v->data.sequence.items.start);
		if (first && first->type == YAML_SCALAR_NODE)
			r->reference = rdup(L, sval(first), first->data.scalar.length);
	}
	if ((v = map_get(L, top, "correlation"))) {
		if (!r->title && r->status != MM_SIGMA_BROKEN)
			return (void)BROKEN(L, top, "a rule needs a title");
		load_corr(L, top, v);
		return;
	}
	if (map_get(L, top, "filter"))
		return (void)UNSUP(L, map_get(L, top, "filter"), "Sigma filters: not yet");
	if (map_get(L, top, "action"))
		return (void)UNSUP(L, map_get(L, top, "action"), "rule collections ('action: global' ...): not yet");
	if (!r->title && r->status != MM_SIGMA_BROKEN)
		return (void)BROKEN(L, top, "a rule needs a title");
	if (!(v = map_get(L, top, "logsource")))
		return (void)BROKEN(L, top, "a rule needs a logsource");
	if (v->type != YAML_MAPPING_NODE)
		return (void)BROKEN(L, v, "logsource must be a map");
	r->product = meta(L, v, "product");
	r->service = meta(L, v, "service");
	r->category = meta(L, v, "category");
	if (!(det = map_get(L, top, "detection")))
		return (void)BROKEN(L, top, "a rule needs a detection");
	r->det = ralloc(L, sizeof(*r->det));
	if (!r->det)
		return;
	if (load_detection(L, det))
		return;
	if (r->status != MM_SIGMA_OK)
		return;
	find_gate(L, r->det, "eventName", &r->det->gate, &r->det->ngate);
	{
		size_t k;
		/* the index's gate: the first field that has one */
		for (k = 0; k < MM_ARRAY_LEN(gate_fields) && !r->det->nigate; k++) {
			find_gate(L, r->det, gate_fields[k].field, &r->det->igate, &r->det->nigate);
			r->det->ikind = gate_fields[k].kind;
		}
	}
	/* the log sources mamori reads (see docs/internals/sigma.md) */
	if (r->product && !strcmp(r->product, "linux"))
		linux_source(L, v);
	else if (!r->product || strcmp(r->product, "aws") || !r->service || strcmp(r->service, "cloudtrail"))
		UNSUP(L, v, "logsource product=%s service=%s category=%s: mamori reads no such events "
			    "(it reads product aws, service cloudtrail, and product linux)",
		      r->product ? r->product : "-", r->service ? r->service : "-",
		      r->category ? r->category : "-");
}

static void free_det(struct mm__sigma_det *d)
{
	int i;
	if (!d)
		return;
	for (i = 0; i < d->nres; i++) {
		regfree(d->res[i]);
		mm_free(d->res[i]);
	}
	mm_free(d->res);
	d->res = NULL;
	d->nres = 0;
}

void mm_sigma_free(struct mm_sigma_rule *r)
{
	struct blk *b, *n;
	if (!r)
		return;
	free_det(r->det);
	for (b = r->pool; b; b = n) {
		n = b->next;
		mm_free(b);
	}
	mm_free(r);
}

struct mm_sigma_rule *mm_sigma_load(const char *name, const char *buf, size_t n)
{
	struct mm_sigma_rule *r = mm_calloc(1, sizeof(*r));
	struct ld L = {r, NULL, 0, 0};
	yaml_parser_t p;
	yaml_document_t doc, doc2;
	int have_doc = 0, ok;
	if (!r)
		return NULL;
	if (!(r->file = rdup(&L, name ? name : "-", strlen(name ? name : "-")))) {
		mm_free(r);
		return NULL;
	}
	r->emit = 1;
	if (!yaml_parser_initialize(&p)) {
		mm_sigma_free(r);
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, n);
	ok = yaml_parser_load(&p, &doc);
	if (!ok) {
		BROKEN(&L, NULL, "YAML: %s", p.problem ? p.problem : "cannot parse");
		snprintf(r->reason, sizeof(r->reason), "%s:%lu: YAML: %s", r->file,
			 (unsigned long)p.problem_mark.line + 1, p.problem ? p.problem : "cannot parse");
		goto out;
	}
	have_doc = 1;
	L.doc = &doc;
	load_doc(&L);
	if (r->status != MM_SIGMA_BROKEN && yaml_parser_load(&p, &doc2)) {
		if (yaml_document_get_root_node(&doc2))
			UNSUP(&L, yaml_document_get_root_node(&doc2),
			      "several YAML documents (a correlation and its rules): load the file with "
			      "`rules check` or `scan --rules`");
		yaml_document_delete(&doc2);
	}
out:
	if (L.toobig)
		BROKEN(&L, NULL, "rule too large (over %u bytes compiled)", MM_SIGMA_MAX_BYTES);
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	if (L.oom) {
		mm_sigma_free(r);
		return NULL;
	}
	if (r->status != MM_SIGMA_OK) {
		free_det(r->det);
		r->det = NULL;
	}
	return r;
}


/* What every load ends with: the size verdict, and a rule that cannot
 * run keeps no compiled detection. NULL (rule freed) when out of memory. */
static struct mm_sigma_rule *load_end(struct ld *L)
{
	struct mm_sigma_rule *r = L->r;
	if (L->toobig)
		BROKEN(L, NULL, "rule too large (over %u bytes compiled)", MM_SIGMA_MAX_BYTES);
	if (L->oom) {
		mm_sigma_free(r);
		return NULL;
	}
	if (r->status != MM_SIGMA_OK) {
		free_det(r->det);
		r->det = NULL;
		r->corr = NULL;
	}
	return r;
}

int mm_sigma_load_docs(const char *name, const char *buf, size_t n,
		       int (*each)(void *ctx, struct mm_sigma_rule *r), void *ctx)
{
	yaml_parser_t p;
	int d, rc = 0;
	if (!name)
		name = "-";
	if (!yaml_parser_initialize(&p))
		return MM_ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, n);
	for (d = 0;; d++) {
		struct mm_sigma_rule *r = mm_calloc(1, sizeof(*r));
		struct ld L = {r, NULL, 0, 0};
		yaml_document_t doc;
		int ok, last = 0;
		if (!r || !(r->file = rdup(&L, name, strlen(name)))) {
			mm_free(r);
			rc = MM_ENOMEM;
			break;
		}
		r->emit = 1;
		r->doc = d;
		ok = yaml_parser_load(&p, &doc);
		if (!ok) {
			BROKEN(&L, NULL, "YAML");
			snprintf(r->reason, sizeof(r->reason), "%s:%lu: YAML: %s", r->file,
				 (unsigned long)p.problem_mark.line + 1, p.problem ? p.problem : "cannot parse");
			last = 1;
		} else {
			if (!yaml_document_get_root_node(&doc) && d > 0) {
				/* the end of the stream */
				yaml_document_delete(&doc);
				mm_sigma_free(r);
				break;
			}
			if (d == MM_SIGMA_MAX_DOCS) {
				BROKEN(&L, yaml_document_get_root_node(&doc), "more than %d YAML documents in one file",
				       MM_SIGMA_MAX_DOCS);
				last = 1;
			} else {
				L.doc = &doc;
				load_doc(&L);
				last = !yaml_document_get_root_node(&doc);
			}
			yaml_document_delete(&doc);
		}
		if (!(r = load_end(&L))) {
			rc = MM_ENOMEM;
			break;
		}
		if ((rc = each(ctx, r)) || last)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

struct mm_sigma_rule *mm_sigma_load_file(const char *path)
{
	struct mm_sigma_rule *r;
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	const char *why = NULL;
	if (!f)
		why = strerror(errno);
	else {
		buf = mm_malloc(MM_SIGMA_MAX_FILE + 1);
		if (!buf) {
			fclose(f);
			return NULL;
		}
		n = fread(buf, 1, MM_SIGMA_MAX_FILE + 1, f);
		if (ferror(f))
			why = strerror(errno);
		else if (n > MM_SIGMA_MAX_FILE)
			why = "larger than 1 MiB";
		fclose(f);
	}
	if (why) {
		mm_free(buf);
		r = mm_sigma_load(path, "", 0);
		if (r) {
			r->status = MM_SIGMA_BROKEN;
			snprintf(r->reason, sizeof(r->reason), "%s: cannot read: %s", path, why);
		}
		return r;
	}
	r = mm_sigma_load(path, buf, n);
	mm_free(buf);
	return r;
}

/* ---- matching ------------------------------------------------------------------ */

struct leaves {
	struct mm_json_val v[MM_SIGMA_MAX_LEAVES];
	int n;
};

/* Per-event cache of field values: rules loaded together mostly test the
 * same few fields (eventSource, eventName, userIdentity.type), so within
 * one mm_sigma_match_many call each dotted name is looked up in the record
 * once. Open addressing on the name's hash, name compared on a hit; when
 * full (or a field has too many values for the pool), lookups just bypass
 * the cache. */
#define CACHE_SLOTS 256
#define CACHE_POOL 8192
#define TOP_MAX 128
struct fcache {
	struct {
		uint64_t h;
		const char *name;	/* borrowed from a loaded rule; NULL = empty */
		int off, n;
	} slot[CACHE_SLOTS];
	int used;		/* slots filled */
	int pool_used;
	int on;			/* inside mm_sigma_match_many */
	struct mm_json_val pool[CACHE_POOL];
	/* the record's top-level members, read in one pass: a lookup starts
	 * here instead of walking the record again (ntop < 0: not indexed) */
	int ntop;
	struct mm_str topkey[TOP_MAX];
	struct mm_json_val topval[TOP_MAX];
	/* mm_sigma_set_match: the parsed event (fast fields), and the record
	 * indexed only when a rule first reads another field (prepped 0 not
	 * yet, 1 done, -1 not a JSON object) */
	const struct mm_api *api;
	struct mm_str raw;
	struct mm_json_val rec;
	int prepped;
	/* a host event: keywords search kw (the message), not the record,
	 * which is then the event's view, written into hv */
	int kwon;
	struct mm_str kw;
	char hv[MM_SIGMA_HOST_VIEW_MAX];
};

int mm_sigma_scratch_init(struct mm_sigma_scratch *s, size_t cap)
{
	s->mem = mm_malloc(cap);
	s->cache = mm_calloc(1, sizeof(struct fcache));
	if (!s->mem || !s->cache) {
		mm_free(s->mem);
		mm_free(s->cache);
		s->mem = NULL;
		s->cache = NULL;
		return MM_ENOMEM;
	}
	mm_arena_init(&s->arena, s->mem, cap);
	return 0;
}

void mm_sigma_scratch_free(struct mm_sigma_scratch *s)
{
	mm_free(s->mem);
	mm_free(s->cache);
	s->mem = NULL;
	s->cache = NULL;
}


/* Every value at the dotted path under v: arrays on the way (and at the
 * end) are walked, so a field that is a list yields its elements. */
static int collect(const struct mm_json_val *v, char **segs, int nsegs, struct leaves *out, int depth)
{
	struct mm_json_iter it;
	struct mm_str k;
	struct mm_json_val c;
	int rc;
	if (depth > MM_SIGMA_MAX_SEGS * 2)
		return 0;
	if (v->type == MM_JSON_ARRAY) {
		if (mm_json_iter_init(&it, v))
			return MM_EPARSE;
		while ((rc = mm_json_iter_next(&it, &k, &c)) == 1) {
			if (!nsegs) {
				if (out->n < MM_SIGMA_MAX_LEAVES)
					out->v[out->n++] = c;
			} else if ((rc = collect(&c, segs, nsegs, out, depth + 1)) < 0)
				return rc;
		}
		return rc;
	}
	if (!nsegs) {
		if (out->n < MM_SIGMA_MAX_LEAVES)
			out->v[out->n++] = *v;
		return 0;
	}
	if (v->type != MM_JSON_OBJECT)
		return 0;
	if (mm_json_iter_init(&it, v))
		return MM_EPARSE;
	while ((rc = mm_json_iter_next(&it, &k, &c)) == 1)
		if (mm_json_key_eq(k, segs[0]) && (rc = collect(&c, segs + 1, nsegs - 1, out, depth + 1)) < 0)
			return rc;
	return rc;
}

/* the text a value compares as: strings unescaped, anything else as written */
static int text_of(const struct mm_json_val *v, struct mm_sigma_scratch *s, struct mm_str *out)
{
	if (v->type == MM_JSON_OBJECT || v->type == MM_JSON_ARRAY) {
		*out = mm_str_make(v->p, v->n);
		return 0;
	}
	return mm_json_str(v, &s->arena, out);
}

static inline unsigned char fold(unsigned char c, int cased)
{
	/* ASCII only, as the spec's case-insensitivity (and without a
	 * locale lookup per byte) */
	return cased || c < 'A' || c > 'Z' ? c : (unsigned char)(c + 32);
}

static int eq_fold(const char *a, const char *b, size_t n, int cased)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (fold((unsigned char)a[i], cased) != fold((unsigned char)b[i], cased))
			return 0;
	return 1;
}

/* wildcard match: * any run, ? one UTF-8 character; iterative with one
 * backtrack point, so linear-ish and never recursive */
static int glob(const struct val *v, struct mm_str t, int cased)
{
	size_t pi = 0, ti = 0, star_p = (size_t)-1, star_t = 0;
	if (v->flag) {
		size_t i;
		if (t.n != v->n)
			return 0;
		for (i = 0; i < t.n; i++)
			if (fold((unsigned char)t.p[i], cased) != fold((unsigned char)v->s[i], cased))
				return 0;
		return 1;
	}
	if (v->shape) {
		/* contains / startswith / endswith: no backtracking needed */
		const char *lit = v->s + (v->shape != 2);
		size_t ln = v->n - (v->shape == 1 ? 2 : 1), i;
		unsigned char c0;
		if (t.n < ln)
			return 0;
		if (v->shape == 2)
			return eq_fold(t.p, lit, ln, cased);
		if (v->shape == 3)
			return eq_fold(t.p + t.n - ln, lit, ln, cased);
		if (!ln)
			return 1;
		c0 = fold((unsigned char)lit[0], cased);
		for (i = 0; i + ln <= t.n; i++)
			if (fold((unsigned char)t.p[i], cased) == c0 && eq_fold(t.p + i + 1, lit + 1, ln - 1, cased))
				return 1;
		return 0;
	}
	while (ti < t.n) {
		if (pi < v->n && v->wild[pi] == '*') {
			star_p = pi++;
			star_t = ti;
			continue;
		}
		if (pi < v->n && v->wild[pi] == '?') {
			int k = mm_utf8_seq(t.p + ti, t.n - ti);
			ti += k > 0 ? (size_t)k : 1;
			pi++;
			continue;
		}
		if (pi < v->n && fold((unsigned char)t.p[ti], cased) == fold((unsigned char)v->s[pi], cased)) {
			pi++;
			ti++;
			continue;
		}
		if (star_p == (size_t)-1)
			return 0;
		pi = star_p + 1;
		ti = ++star_t;
	}
	while (pi < v->n && v->wild[pi] == '*')
		pi++;
	return pi == v->n;
}

static int numval(struct mm_str t, double *out)
{
	char b[64], *end;
	if (!t.n || t.n >= sizeof(b))
		return 0;
	memcpy(b, t.p, t.n);
	b[t.n] = '\0';
	*out = strtod(b, &end);
	return *end == '\0';
}

/* Does t contain the n bytes of lit (ASCII case folded when icase)? */
static int has_literal(struct mm_str t, const char *lit, size_t n, int icase)
{
	size_t i, j;
	if (!icase) {
		/* memchr to each place of the first byte, then one memcmp:
		 * glibc's memmem (two-way, no SIMD) costs several times more
		 * on the short texts of a record */
		const char *p = t.p, *end = t.p + t.n;
		if (!n)
			return 1;
		while ((size_t)(end - p) >= n &&
		       (p = memchr(p, lit[0], (size_t)(end - p) - n + 1))) {
			if (!memcmp(p + 1, lit + 1, n - 1))
				return 1;
			p++;
		}
		return 0;
	}
	for (i = 0; i + n <= t.n; i++) {
		for (j = 0; j < n; j++)
			if (tolower((unsigned char)t.p[i + j]) != tolower((unsigned char)lit[j]))
				break;
		if (j == n)
			return 1;
	}
	return 0;
}

static int val_text(const struct val *v, struct mm_str t, const struct fmatch *fm, struct mm_sigma_scratch *s);

/* one value against one leaf */
static int val_leaf(const struct val *v, const struct mm_json_val *leaf, const struct fmatch *fm,
		    struct mm_sigma_scratch *s)
{
	struct mm_str t;
	size_t mark = s->arena.used;
	int r;
	if (leaf->type == MM_JSON_NULL || text_of(leaf, s, &t))
		return 0;
	r = val_text(v, t, fm, s);
	s->arena.used = mark;
	return r;
}

/* one value against one value's text */
static int val_text(const struct val *v, struct mm_str t, const struct fmatch *fm, struct mm_sigma_scratch *s)
{
	size_t mark = s->arena.used;
	int r = 0;
	double d;
	switch (v->op) {
	case V_GLOB:
		r = glob(v, t, fm->cased);
		break;
	case V_RE: {
		char *z;
		if (v->n && !has_literal(t, v->s, v->n, v->flag))
			break;
		z = mm_arena_alloc(&s->arena, t.n + 1);
		if (z) {
			memcpy(z, t.p, t.n);
			z[t.n] = '\0';
			r = regexec(v->re, z, 0, NULL, 0) == 0;
		}
		break;
	}
	case V_CIDR: {
		struct mm_ip ip;
		int i, bits = v->plen;
		if (mm_ip_parse(t.p, t.n, &ip) || ip.v6 != v->net.v6)
			break;
		for (i = 0; bits > 0; i++, bits -= 8) {
			uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
			if ((ip.b[i] & m) != (v->net.b[i] & m))
				break;
		}
		r = bits <= 0;
		break;
	}
	case V_LT: r = numval(t, &d) && d < v->num; break;
	case V_LTE: r = numval(t, &d) && d <= v->num; break;
	case V_GT: r = numval(t, &d) && d > v->num; break;
	case V_GTE: r = numval(t, &d) && d >= v->num; break;
	default: break;
	}
	s->arena.used = mark;
	return r;
}

static int str_ieq(struct mm_str a, struct mm_str b)
{
	size_t i;
	if (a.n != b.n)
		return 0;
	for (i = 0; i < a.n; i++)
		if (tolower((unsigned char)a.p[i]) != tolower((unsigned char)b.p[i]))
			return 0;
	return 1;
}

/* fieldref: some value of the field equals some value of the other */
static int fieldref(const struct val *v, const struct leaves *mine, const struct mm_json_val *rec,
		    struct mm_sigma_scratch *s)
{
	static __thread struct leaves other;
	int i, j;
	other.n = 0;
	if (collect(rec, v->segs, v->nsegs, &other, 0) < 0)
		return 0;
	for (i = 0; i < mine->n; i++)
		for (j = 0; j < other.n; j++) {
			struct mm_str a, b;
			size_t mark = s->arena.used;
			int eq = mine->v[i].type != MM_JSON_NULL && other.v[j].type != MM_JSON_NULL &&
				 !text_of(&mine->v[i], s, &a) && !text_of(&other.v[j], s, &b) && str_ieq(a, b);
			s->arena.used = mark;
			if (eq)
				return 1;
		}
	return 0;
}

static int present(const struct leaves *l)
{
	int i;
	for (i = 0; i < l->n; i++)
		if (l->v[i].type != MM_JSON_NULL)
			return 1;
	return 0;
}

/* The values of fm's field in rec, through the per-event cache when on. */
static int fetch(const struct fmatch *fm, const struct mm_json_val *rec, struct mm_sigma_scratch *s,
		 struct leaves *l)
{
	struct fcache *c = s->cache;
	unsigned i, k;
	int rc;
	if (!c || !c->on)
		return collect(rec, fm->segs, fm->nsegs, l, 0);
	for (i = 0; i < CACHE_SLOTS; i++) {
		k = (unsigned)(fm->h + i) & (CACHE_SLOTS - 1);
		if (!c->slot[k].name)
			break;
		if (c->slot[k].h == fm->h && !strcmp(c->slot[k].name, fm->name)) {
			memcpy(l->v, c->pool + c->slot[k].off, sizeof(l->v[0]) * (size_t)c->slot[k].n);
			l->n = c->slot[k].n;
			return 0;
		}
	}
	if (c->ntop >= 0) {
		int t;
		l->n = 0;
		for (t = 0; t < c->ntop; t++)
			if (mm_json_key_eq(c->topkey[t], fm->segs[0]) &&
			    (rc = collect(&c->topval[t], fm->segs + 1, fm->nsegs - 1, l, 1)) < 0)
				return rc;
	} else if ((rc = collect(rec, fm->segs, fm->nsegs, l, 0)) < 0)
		return rc;
	if (i < CACHE_SLOTS && c->used < CACHE_SLOTS / 2 && c->pool_used + l->n <= CACHE_POOL) {
		c->slot[k].h = fm->h;
		c->slot[k].name = fm->name;
		c->slot[k].off = c->pool_used;
		c->slot[k].n = l->n;
		memcpy(c->pool + c->pool_used, l->v, sizeof(l->v[0]) * (size_t)l->n);
		c->pool_used += l->n;
		c->used++;
	}
	return 0;
}

static int prep_record(struct fcache *c, struct mm_str raw, struct mm_json_val *rec);

/* The record, indexed on first use when the set path left it for later
 * (rec NULL); NULL when it is not a JSON object. */
static const struct mm_json_val *need_rec(const struct mm_json_val *rec, struct mm_sigma_scratch *s)
{
	struct fcache *c = s->cache;
	if (rec)
		return rec;
	if (!c)
		return NULL;
	if (!c->prepped)
		c->prepped = prep_record(c, c->raw, &c->rec) ? -1 : 1;
	return c->prepped > 0 ? &c->rec : NULL;
}

/* A fast field's matcher on its parsed, non-empty value t: one value,
 * present, so null never matches and exists is true. */
static int fast_match(const struct fmatch *fm, struct mm_str t, struct mm_sigma_scratch *s)
{
	int i, hit = fm->all;
	for (i = 0; i < fm->nv; i++) {
		const struct val *v = &fm->v[i];
		int one = v->op == V_NULL ? 0 : v->op == V_EXISTS ? v->flag == 1 : val_text(v, t, fm, s);
		if (fm->all && !one) {
			hit = 0;
			break;
		}
		if (!fm->all && one) {
			hit = 1;
			break;
		}
	}
	return fm->neq ? !hit : hit;
}

static int field_match(const struct fmatch *fm, const struct mm_json_val *rec, struct mm_sigma_scratch *s)
{
	static __thread struct leaves l;
	struct fcache *c = s->cache;
	int i, j, hit = fm->all;
	if (fm->fast && c && c->on && c->api) {
		struct mm_str t = fast_value(c->api, fm->fast);
		if (t.n)
			return fast_match(fm, t, s);
	}
	if (!(rec = need_rec(rec, s)))
		return 0;
	l.n = 0;
	if (!fm->nsegs && c && c->kwon) {
		/* keywords on a host event: its message (compared as raw text) */
		l.v[0].type = MM_JSON_OBJECT;
		l.v[0].p = c->kw.p;
		l.v[0].n = c->kw.n;
		l.n = c->kw.n > 0;
	} else if (!fm->nsegs) {
		/* keywords: anywhere in the record as written (compared as raw text) */
		l.v[0] = *rec;
		l.n = 1;
	} else if (fetch(fm, rec, s, &l) < 0)
		return 0;
	for (i = 0; i < fm->nv; i++) {
		const struct val *v = &fm->v[i];
		int one = 0;
		if (v->op == V_NULL)
			one = !present(&l);
		else if (v->op == V_EXISTS)
			one = (l.n > 0) == v->flag;
		else if (v->op == V_FIELDREF)
			one = fieldref(v, &l, rec, s);
		else
			for (j = 0; j < l.n && !one; j++)
				one = val_leaf(v, &l.v[j], fm, s);
		if (fm->all && !one) {
			hit = 0;
			break;
		}
		if (!fm->all && one) {
			hit = 1;
			break;
		}
	}
	return fm->neq ? !hit : hit;
}

static int sel_match(const struct sel *sl, const struct mm_json_val *rec, struct mm_sigma_scratch *s)
{
	int i, j;
	for (i = 0; i < sl->na; i++) {
		for (j = 0; j < sl->a[i].nf; j++)
			if (!field_match(&sl->a[i].f[j], rec, s))
				break;
		if (j == sl->a[i].nf)
			return 1;
	}
	return 0;
}

struct memo {
	uint64_t done, hit;
};

static int sel_memo(const struct mm__sigma_det *d, int i, const struct mm_json_val *rec,
		    struct mm_sigma_scratch *s, struct memo *m)
{
	uint64_t bit = (uint64_t)1 << i;
	if (!(m->done & bit)) {
		m->done |= bit;
		if (sel_match(&d->sel[i], rec, s))
			m->hit |= bit;
	}
	return !!(m->hit & bit);
}

static int eval(const struct mm__sigma_det *d, int n, const struct mm_json_val *rec, struct mm_sigma_scratch *s,
		struct memo *m)
{
	const struct cnode *c = &d->node[n];
	int i;
	switch (c->op) {
	case C_SEL: return sel_memo(d, c->a, rec, s, m);
	case C_AND: return eval(d, c->a, rec, s, m) && eval(d, c->b, rec, s, m);
	case C_OR: return eval(d, c->a, rec, s, m) || eval(d, c->b, rec, s, m);
	case C_NOT: return !eval(d, c->a, rec, s, m);
	case C_ONE:
		for (i = 0; i < d->nsel; i++)
			if ((c->set >> i & 1) && sel_memo(d, i, rec, s, m))
				return 1;
		return 0;
	case C_ALL:
		for (i = 0; i < d->nsel; i++)
			if ((c->set >> i & 1) && !sel_memo(d, i, rec, s, m))
				return 0;
		return 1;
	}
	return 0;
}

/* One rule, the plain way: the record validated, each field looked up by
 * walking it (no cache). mm_sigma_match_many must agree with this; the
 * unit tests and the fuzz target check that it does. */
int mm_sigma_match(const struct mm_sigma_rule *r, struct mm_str raw, struct mm_sigma_scratch *s)
{
	struct mm_json_val rec;
	struct memo m = {0, 0};
	size_t used;
	if (mm_json_value(raw.p, raw.n, &rec, &used) || rec.type != MM_JSON_OBJECT)
		return MM_EPARSE;
	if (!r || r->status != MM_SIGMA_OK || !r->det)
		return 0;
	mm_arena_reset(&s->arena);
	return eval(r->det, r->det->root, &rec, s, &m);
}

/* Index rec's top-level members and cut rec->n to where the object ends
 * (as mm_json_value would: bytes after it are not the record's); -1 when
 * there are too many members or rec is malformed (the caller then scans
 * the record the plain way). */
static int index_top(struct fcache *c, struct mm_json_val *rec)
{
	struct mm_json_iter it;
	struct mm_str k;
	struct mm_json_val v;
	int n = 0, rc;
	if (mm_json_iter_init(&it, rec))
		return -1;
	while ((rc = mm_json_iter_next(&it, &k, &v)) == 1) {
		if (n == TOP_MAX)
			return -1;
		c->topkey[n] = k;
		c->topval[n++] = v;
	}
	if (rc < 0)
		return -1;
	rec->n = (size_t)(it.p - rec->p);
	return n;
}

/* The event's eventName as text into name (1), or 0 when the gate cannot
 * be used for this event: no member index, no or several eventName
 * members, a value that is not a string, or a name longer than the
 * buffer. Not gating is always safe: the rule is then evaluated. */
static int event_name(struct fcache *c, struct mm_sigma_scratch *s, char *name, size_t *len)
{
	int t, seen = -1;
	struct mm_str txt;
	if (c->ntop < 0)
		return 0;
	for (t = 0; t < c->ntop; t++)
		if (mm_json_key_eq(c->topkey[t], "eventName")) {
			if (seen >= 0)
				return 0;
			seen = t;
		}
	if (seen < 0 || c->topval[seen].type != MM_JSON_STRING)
		return 0;
	mm_arena_reset(&s->arena);
	if (mm_json_str(&c->topval[seen], &s->arena, &txt) || txt.n > 127)
		return 0;
	memcpy(name, txt.p, txt.n);
	*len = txt.n;
	return 1;
}

static int gate_pass(const struct mm__sigma_det *d, const char *name, size_t n)
{
	int g;
	size_t i;
	for (g = 0; g < d->ngate; g++) {
		const struct val *v = d->gate[g];
		if (v->n != n)
			continue;
		for (i = 0; i < n; i++)
			if (tolower((unsigned char)v->s[i]) != tolower((unsigned char)name[i]))
				break;
		if (i == n)
			return 1;
	}
	return 0;
}

/* Make rec the record raw holds, ready for lookups through the cache c:
 * its members indexed (which validates it as it goes), the cache emptied
 * and on. MM_EPARSE when raw is not a JSON object. */
/* Empty the field cache for a new record and turn it on. Only the slots
 * used are cleared: the cost follows the fields read. */
static void cache_reset(struct fcache *c)
{
	int i;
	if (c->used)
		for (i = 0; i < CACHE_SLOTS; i++)
			c->slot[i].name = NULL;
	c->used = 0;
	c->pool_used = 0;
	c->on = 1;
}

static int prep_record(struct fcache *c, struct mm_str raw, struct mm_json_val *rec)
{
	size_t at = 0, used;
	while (at < raw.n && (raw.p[at] == ' ' || raw.p[at] == '\t' || raw.p[at] == '\r' || raw.p[at] == '\n'))
		at++;
	if (at == raw.n || raw.p[at] != '{')
		return MM_EPARSE;
	rec->type = MM_JSON_OBJECT;
	rec->p = raw.p + at;
	rec->n = raw.n - at;
	{
		/* the CloudTrail parser has read this record's members and
		 * kept them with its event: take them rather than scan the
		 * record again */
		const struct mm_api *api = c->api;
		int n = api && api->top_p == rec->p && api->top_n <= rec->n ? api->ntop : -1;
		if (n >= 0 && n <= TOP_MAX) {
			const struct mm_str *tk = api->top_keys;
			const struct mm_json_val *tv = api->top_vals;
#ifdef MM_CT_TOP_CHECK
			struct mm_json_val r2 = *rec;
			int i, n2 = index_top(c, &r2);
			if (n2 != n || r2.n != api->top_n)
				abort();
			for (i = 0; i < n; i++)
				if (c->topkey[i].p != tk[i].p || c->topkey[i].n != tk[i].n ||
				    c->topval[i].p != tv[i].p || c->topval[i].n != tv[i].n ||
				    c->topval[i].type != tv[i].type)
					abort();
#endif
			memcpy(c->topkey, tk, sizeof(*tk) * (size_t)n);
			memcpy(c->topval, tv, sizeof(*tv) * (size_t)n);
			c->ntop = n;
			rec->n = api->top_n;
			cache_reset(c);
			return 0;
		}
	}
	if ((c->ntop = index_top(c, rec)) < 0 &&
	    (mm_json_value(raw.p, raw.n, rec, &used) || rec->type != MM_JSON_OBJECT))
		return MM_EPARSE;
	cache_reset(c);
	return 0;
}

int mm_sigma_match_many(const struct mm_sigma_rule *const *rules, int n, struct mm_str raw,
			struct mm_sigma_scratch *s, uint8_t *hit)
{
	struct mm_json_val rec;
	struct fcache *c = s->cache;
	size_t used, namelen = 0;
	int i, nhit = 0, gated = 0;
	char name[128];
	memset(hit, 0, (size_t)(n > 0 ? n : 0));
	if (c) {
		c->api = NULL;
		if (prep_record(c, raw, &rec))
			return MM_EPARSE;
		gated = event_name(c, s, name, &namelen);
	} else if (mm_json_value(raw.p, raw.n, &rec, &used) || rec.type != MM_JSON_OBJECT)
		return MM_EPARSE;
	for (i = 0; i < n; i++) {
		struct memo m = {0, 0};
		const struct mm_sigma_rule *r = rules[i];
		if (!r || r->status != MM_SIGMA_OK || !r->det)
			continue;
		if (gated && r->det->ngate && !gate_pass(r->det, name, namelen))
			continue;
		mm_arena_reset(&s->arena);
		if (eval(r->det, r->det->root, &rec, s, &m)) {
			hit[i] = 1;
			nhit++;
		}
	}
	if (c)
		c->on = 0;
	return nhit;
}

/* ---- field text ------------------------------------------------------------------ */

int mm_sigma_field_text(struct mm_str raw, const char *field, struct mm_sigma_scratch *sc, char *out,
			size_t cap)
{
	static __thread struct leaves l;
	char name[256], *segs[MM_SIGMA_MAX_SEGS];
	struct mm_json_val rec;
	size_t used, k = 0, len = strlen(field);
	int nsegs = 0, i, nv = 0;
	char *p;
	if (cap)
		out[0] = '\0';
	if (!len || len >= sizeof(name) || mm_json_value(raw.p, raw.n, &rec, &used) || rec.type != MM_JSON_OBJECT)
		return 0;
	memcpy(name, field, len + 1);
	for (p = name; p && nsegs < MM_SIGMA_MAX_SEGS;) {
		char *dot = strchr(p, '.');
		segs[nsegs++] = p;
		if (dot)
			*dot = '\0';
		p = dot ? dot + 1 : NULL;
	}
	if (p)
		return 0;
	l.n = 0;
	if (collect(&rec, segs, nsegs, &l, 0) < 0)
		return 0;
	mm_arena_reset(&sc->arena);
	for (i = 0; i < l.n; i++) {
		struct mm_str t;
		size_t take;
		if (l.v[i].type == MM_JSON_NULL || text_of(&l.v[i], sc, &t))
			continue;
		if (nv++ && k + 1 < cap)
			out[k++] = ',';
		take = cap > k + 1 ? MM_MIN(t.n, cap - k - 1) : 0;
		memcpy(out + k, t.p, take);
		k += take;
	}
	if (cap)
		out[k < cap ? k : cap - 1] = '\0';
	return nv;
}

/* ---- rule sets ---------------------------------------------------------------------- */

void mm_sigma_set_init(struct mm_sigma_set *s)
{
	memset(s, 0, sizeof(*s));
}

/* The index: for each literal gate value (eventName 'n', else eventSource
 * 's'), lowercased and hashed with its kind, the rules it admits; rules
 * without a gate are always evaluated. A hash collision only adds
 * candidates (each is still evaluated in full), so values are not kept. */
struct sidx {
	struct {
		uint64_t h;	/* 0 = empty */
		int start, n;
	} *slot;
	size_t nslots;
	int *list;
	int *always;
	int nalways;
	int *host;	/* the rules for host events (never in the lists above) */
	int nhost;
	int ncand_max;	/* the most rules one event can be given */
	unsigned kinds;	/* bit i: some rule is gated on gate_fields[i] */
	/* per gate field, the lengths its values have (bit n for length n <
	 * 256; bit 255 also stands for every longer one): a value of another
	 * length cannot be in the index, so it is not hashed at all (most
	 * user agents, for one) */
	uint64_t lens[4][4];
};

static uint64_t gate_hash(char kind, const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;
	h = (h ^ (unsigned char)kind) * 0x100000001b3ULL;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i])) * 0x100000001b3ULL;
	h = mm_hash_mix(h);
	return h ? h : 1;
}

static void sidx_free(struct sidx *x)
{
	if (!x)
		return;
	mm_free(x->slot);
	mm_free(x->list);
	mm_free(x->always);
	mm_free(x->host);
	mm_free(x);
}

void mm_sigma_set_free(struct mm_sigma_set *s)
{
	int i;
	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		if (s->corr_of)
			mm_free(s->corr_of[i]);
		mm_sigma_free(s->r[i]);
	}
	mm_free(s->r);
	mm_free(s->corr_of);
	mm_free(s->ncorr_of);
	sidx_free(s->index);
	memset(s, 0, sizeof(*s));
}

static int set_take(void *ctx, struct mm_sigma_rule *r)
{
	struct mm_sigma_set *s = ctx;
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 64;
		struct mm_sigma_rule **nr = mm_realloc(s->r, sizeof(*nr) * (size_t)cap);
		if (!nr) {
			mm_sigma_free(r);
			return MM_ENOMEM;
		}
		s->r = nr;
		s->cap = cap;
	}
	s->r[s->n++] = r;
	return 0;
}

int mm_sigma_set_add_buf(struct mm_sigma_set *s, const char *name, const char *buf, size_t n)
{
	return mm_sigma_load_docs(name, buf, n, set_take, s);
}

#define MAX_RULE_FILES 100000
#define MAX_WALK_DEPTH 32

struct walk {
	struct mm_sigma_set *s;
	struct mm_err *err;
	int files, rc;
};

static void walk_fail(struct walk *w, int code, const char *fmt, const char *a, const char *b)
{
	if (!w->rc) {
		w->rc = code;
		mm_err_set(w->err, code, fmt, a, b);
	}
}

static int is_rule_name(const char *n)
{
	size_t l = strlen(n);
	return (l > 4 && !strcmp(n + l - 4, ".yml")) || (l > 5 && !strcmp(n + l - 5, ".yaml"));
}

static void add_file(struct walk *w, const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t n = 0;
	const char *why = NULL;
	int rc;
	if (w->files >= MAX_RULE_FILES) {
		walk_fail(w, MM_EIO, "more than %s rule files; %s and the rest not read", "100000", path);
		return;
	}
	w->files++;
	if (!(f = fopen(path, "rb")))
		why = strerror(errno);
	else {
		if (!(buf = mm_malloc(MM_SIGMA_MAX_FILE + 1))) {
			fclose(f);
			walk_fail(w, MM_ENOMEM, "%s%s", "out of memory", "");
			return;
		}
		n = fread(buf, 1, MM_SIGMA_MAX_FILE + 1, f);
		if (ferror(f))
			why = strerror(errno);
		else if (n > MM_SIGMA_MAX_FILE)
			why = "larger than 1 MiB";
		fclose(f);
	}
	if (why) {
		/* a rule file that cannot be read is a broken rule, named */
		struct mm_sigma_rule *r = mm_sigma_load(path, "", 0);
		mm_free(buf);
		if (!r) {
			walk_fail(w, MM_ENOMEM, "%s%s", "out of memory", "");
			return;
		}
		r->status = MM_SIGMA_BROKEN;
		snprintf(r->reason, sizeof(r->reason), "%s: cannot read: %s", path, why);
		if (set_take(w->s, r))
			walk_fail(w, MM_ENOMEM, "%s%s", "out of memory", "");
		return;
	}
	rc = mm_sigma_load_docs(path, buf, n, set_take, w->s);
	mm_free(buf);
	if (rc)
		walk_fail(w, rc, "%s%s", "out of memory", "");
}

static int skip_dot(const struct dirent *d) { return d->d_name[0] != '.'; }

static void walk_dir(struct walk *w, const char *path, int depth)
{
	struct dirent **ents = NULL;
	int n, i;
	if (depth > MAX_WALK_DEPTH) {
		walk_fail(w, MM_EIO, "%s: folders nested deeper than %s, not read", path, "32");
		return;
	}
	if ((n = scandir(path, &ents, skip_dot, alphasort)) < 0) {
		walk_fail(w, MM_EIO, "%s: %s", path, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		char sub[4096];
		struct stat cs;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name) >= (int)sizeof(sub))
			walk_fail(w, MM_EIO, "%s/%s: path too long", path, ents[i]->d_name);
		else if (!lstat(sub, &cs) && S_ISDIR(cs.st_mode))
			/* lstat: a symlinked folder inside is not followed, so a
			 * link back up cannot loop (the folders named are) */
			walk_dir(w, sub, depth + 1);
		else if (is_rule_name(ents[i]->d_name))
			add_file(w, sub);
		free(ents[i]);
	}
	free(ents);
}

int mm_sigma_set_add_path(struct mm_sigma_set *s, const char *path, struct mm_err *err)
{
	struct walk w = {s, err, 0, 0};
	struct stat st;
	if (stat(path, &st))
		return mm_err_set(err, MM_EIO, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		walk_dir(&w, path, 0);
		if (!w.rc && !w.files)
			return mm_err_set(err, MM_EIO, "%s: no rule files (*.yml, *.yaml) in it", path);
	} else
		add_file(&w, path);
	return w.rc;
}

static void set_verdict(struct mm_sigma_rule *r, enum mm_sigma_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_verdict(struct mm_sigma_rule *r, enum mm_sigma_status st, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	if (r->status != MM_SIGMA_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->status = st;
	snprintf(r->reason, sizeof(r->reason), "%s:%d: %s", r->file,
		 r->corr && r->corr->rules_line ? r->corr->rules_line : r->line, msg);
}

/* The rule a correlation's reference names: by name or id, in the same
 * file first (names are only unique per correlation), else anywhere. */
static int find_ref(const struct mm_sigma_set *s, int self, const char *ref)
{
	int pass, j;
	for (pass = 0; pass < 2; pass++)
		for (j = 0; j < s->n; j++) {
			const struct mm_sigma_rule *o = s->r[j];
			if (j == self || (!pass && strcmp(o->file, s->r[self]->file)))
				continue;
			if ((o->name && !strcmp(o->name, ref)) || (o->id && !strcmp(o->id, ref)))
				return j;
		}
	return -1;
}

static void resolve(struct mm_sigma_set *s, int i)
{
	struct mm_sigma_rule *r = s->r[i];
	struct mm_sigma_corr *c = r->corr;
	int k, g, a;
	for (k = 0; k < c->nrules; k++) {
		int j = find_ref(s, i, c->ref[k]);
		const struct mm_sigma_rule *o;
		if (j < 0)
			return set_verdict(r, MM_SIGMA_BROKEN, "correlation names '%s', which no loaded rule has as "
							 "its name or id", c->ref[k]);
		o = s->r[j];
		if (o->corr)
			return set_verdict(r, MM_SIGMA_UNSUPPORTED, "correlation names '%s', another correlation: "
							      "chained correlations are not implemented", c->ref[k]);
		if (o->status != MM_SIGMA_OK)
			return set_verdict(r, MM_SIGMA_UNSUPPORTED, "correlation names '%s', which cannot run (%s)",
					   c->ref[k], mm_sigma_status_name(o->status));
		for (g = 0; g < k; g++)
			if (c->rule[g] == j)
				return set_verdict(r, MM_SIGMA_BROKEN, "correlation names rule '%s' twice", c->ref[k]);
		c->rule[k] = j;
		for (g = 0; g < c->ngroup; g++) {
			c->gfield[g][k] = c->group[g];
			for (a = 0; a < c->nalias; a++)
				if (!strcmp(c->alias[a], c->group[g]) &&
				    ((o->name && !strcmp(c->alias_rule[a], o->name)) ||
				     !strcmp(c->alias_rule[a], c->ref[k])))
					c->gfield[g][k] = c->alias_field[a];
		}
	}
}

static int cmp_u64pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int build_index(struct mm_sigma_set *s)
{
	struct sidx *x = mm_calloc(1, sizeof(*x));
	uint64_t *pairs = NULL;
	size_t np = 0, cap = 0, i, nu = 0;
	int r, rc = MM_ENOMEM;
	if (!x)
		return MM_ENOMEM;
	if (!(x->always = mm_calloc((size_t)s->n + 1, sizeof(int))) ||
	    !(x->host = mm_calloc((size_t)s->n + 1, sizeof(int))))
		goto out;
	for (r = 0; r < s->n; r++) {
		const struct mm__sigma_det *d = s->r[r]->det;
		const struct val **gate;
		int ng, g;
		char kind;
		if (s->r[r]->status != MM_SIGMA_OK || !d)
			continue;
		if (s->r[r]->src != MM_SIGMA_SRC_CLOUDTRAIL) {
			x->host[x->nhost++] = r;
			continue;
		}
		if (d->nigate) {
			gate = d->igate, ng = d->nigate, kind = d->ikind;
		} else {
			x->always[x->nalways++] = r;
			continue;
		}
		for (g = 0; g < ng; g++) {
			if (np == cap) {
				size_t nc = cap ? 2 * cap : 256;
				uint64_t *pp = mm_realloc(pairs, nc * 2 * sizeof(uint64_t));
				if (!pp)
					goto out;
				pairs = pp;
				cap = nc;
			}
			pairs[2 * np] = gate_hash(kind, gate[g]->s, gate[g]->n);
			{
				int ki = (int)(strchr("nsut", kind) - "nsut");
				size_t ln = MM_MIN(gate[g]->n, 255);
				x->kinds |= 1u << ki;
				x->lens[ki][ln >> 6] |= (uint64_t)1 << (ln & 63);
			}
			pairs[2 * np + 1] = (uint64_t)r;
			np++;
		}
	}
	if (np)
		qsort(pairs, np, 2 * sizeof(uint64_t), cmp_u64pair);
	for (x->nslots = 16; x->nslots < 2 * np; x->nslots *= 2)
		;
	if (!(x->slot = mm_calloc(x->nslots, sizeof(*x->slot))) || !(x->list = mm_calloc(np + 1, sizeof(int))))
		goto out;
	for (i = 0; i < np; i++) {
		size_t j;
		/* the same rule twice under one value (a value listed twice) once */
		if (i && pairs[2 * i] == pairs[2 * i - 2] && pairs[2 * i + 1] == pairs[2 * i - 1])
			continue;
		if (!i || pairs[2 * i] != pairs[2 * i - 2]) {
			for (j = pairs[2 * i] & (x->nslots - 1); x->slot[j].h; j = (j + 1) & (x->nslots - 1))
				;
			x->slot[j].h = pairs[2 * i];
			x->slot[j].start = (int)nu;
		} else
			for (j = pairs[2 * i] & (x->nslots - 1); x->slot[j].h != pairs[2 * i]; j = (j + 1) & (x->nslots - 1))
				;
		x->slot[j].n++;
		x->list[nu++] = (int)pairs[2 * i + 1];
		if (x->slot[j].n + x->nalways > x->ncand_max)
			x->ncand_max = x->slot[j].n + x->nalways;
	}
	rc = 0;
out:
	mm_free(pairs);
	if (rc) {
		sidx_free(x);
		return rc;
	}
	s->index = x;
	return 0;
}

int mm_sigma_set_build(struct mm_sigma_set *s)
{
	int i, k;
	if (s->built)
		return 0;
	for (i = 0; i < s->n; i++)
		if (s->r[i]->corr && s->r[i]->status == MM_SIGMA_OK)
			resolve(s, i);
	if (!(s->corr_of = mm_calloc((size_t)s->n + 1, sizeof(int *))) ||
	    !(s->ncorr_of = mm_calloc((size_t)s->n + 1, sizeof(int))))
		return MM_ENOMEM;
	for (i = 0; i < s->n; i++) {
		const struct mm_sigma_corr *c = s->r[i]->corr;
		if (!c || s->r[i]->status != MM_SIGMA_OK)
			continue;
		s->ncorr++;
		for (k = 0; k < c->nrules; k++) {
			int j = c->rule[k];
			int *nl = mm_realloc(s->corr_of[j], sizeof(int) * (size_t)(s->ncorr_of[j] + 1));
			if (!nl)
				return MM_ENOMEM;
			s->corr_of[j] = nl;
			nl[s->ncorr_of[j]++] = i;
		}
	}
	/* a rule a correlation uses raises findings of its own only when one
	 * of the correlations naming it says generate */
	for (i = 0; i < s->n; i++) {
		if (!s->ncorr_of[i])
			continue;
		s->r[i]->emit = 0;
		for (k = 0; k < s->ncorr_of[i]; k++)
			if (s->r[s->corr_of[i][k]]->corr->generate)
				s->r[i]->emit = 1;
	}
	s->nok = s->nunsupported = s->nbroken = 0;
	for (i = 0; i < s->n; i++) {
		if (s->r[i]->status == MM_SIGMA_OK)
			s->nok++;
		else if (s->r[i]->status == MM_SIGMA_UNSUPPORTED)
			s->nunsupported++;
		else
			s->nbroken++;
	}
	if (build_index(s))
		return MM_ENOMEM;
	s->built = 1;
	return 0;
}

static const int *lookup(const struct sidx *x, char kind, struct mm_str v, int *n)
{
	uint64_t h;
	size_t j;
	*n = 0;
	if (!x->nslots)
		return NULL;
	h = gate_hash(kind, v.p, v.n);
	for (j = h & (x->nslots - 1); x->slot[j].h; j = (j + 1) & (x->nslots - 1))
		if (x->slot[j].h == h) {
			*n = x->slot[j].n;
			return x->list + x->slot[j].start;
		}
	return NULL;
}

#define NLISTS (MM_ARRAY_LEN(gate_fields) + 1)

/* The candidate lists for an event: one per gate field, then the ungated
 * rules. A gate field no rule uses is not hashed. */
static void lists_of(const struct sidx *x, const struct mm_api *a, const int **list, int *nl)
{
	const struct mm_str v[] = {a->event_name, a->event_source, a->user_agent, a->who.type};
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(gate_fields); i++) {
		size_t ln = MM_MIN(v[i].n, 255);
		nl[i] = 0;
		list[i] = NULL;
		if (x->lens[i][ln >> 6] >> (ln & 63) & 1)
			list[i] = lookup(x, gate_fields[i].kind, v[i], &nl[i]);
	}
	list[i] = x->always;
	nl[i] = x->nalways;
}

int mm_sigma_set_candidates(const struct mm_sigma_set *s, const struct mm_api *a)
{
	const int *list[NLISTS];
	int nl[NLISTS], n = 0;
	size_t l;
	if (!s->index)
		return 0;
	lists_of(s->index, a, list, nl);
	for (l = 0; l < NLISTS; l++)
		n += nl[l];
	return n;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int mm_sigma_set_match(const struct mm_sigma_set *s, const struct mm_api *a, struct mm_str raw,
		       struct mm_sigma_scratch *sc, int *hits, int cap)
{
	const struct sidx *x = s->index;
	const int *list[NLISTS];
	int nl[NLISTS], i, nhit = 0, any = 0;
	size_t l;
	struct fcache *c = sc->cache;
	if (!x || !c)
		return 0;
	lists_of(x, a, list, nl);
	for (l = 0; l < NLISTS; l++)
		any += nl[l];
	if (!any)
		return 0;	/* the common case: no rule could match */
	/* the record is indexed only if a rule reads a field the parser did
	 * not (need_rec) */
	cache_reset(c);
	c->api = a;
	c->raw = raw;
	c->prepped = 0;
	for (l = 0; l < NLISTS; l++)
		for (i = 0; i < nl[l]; i++) {
			const struct mm_sigma_rule *r = s->r[list[l][i]];
			struct memo m = {0, 0};
			mm_arena_reset(&sc->arena);
			if (eval(r->det, r->det->root, NULL, sc, &m)) {
				if (nhit < cap)
					hits[nhit] = list[l][i];
				nhit++;
			}
		}
	c->on = 0;
	c->api = NULL;
	if (nhit > 1)
		qsort(hits, (size_t)MM_MIN(nhit, cap), sizeof(int), cmp_int);
	return nhit;
}

/* ---- host events ------------------------------------------------------------------ */

/* The view's writer: a bounded buffer; a member that does not fit is
 * left out whole (the object stays valid). */
struct vw {
	char *p;
	size_t n, cap;
	int first;
};

static int vw_raw(struct vw *w, const char *z, size_t n)
{
	if (w->n + n + 2 > w->cap)	/* room for the closing brace */
		return -1;
	memcpy(w->p + w->n, z, n);
	w->n += n;
	return 0;
}

static void vw_str(struct vw *w, const char *key, const char *z, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t at = w->n, i;
	int bad = 0;
	if (!z || !n)
		return;	/* an absent field stays absent */
	if (n > MM_SIGMA_HOST_VALUE_MAX) {
		n = MM_SIGMA_HOST_VALUE_MAX;
		while (n && ((unsigned char)z[n] & 0xc0) == 0x80)
			n--;
	}
	bad |= vw_raw(w, w->first ? "\"" : ",\"", w->first ? 1 : 2);
	bad |= vw_raw(w, key, strlen(key));
	bad |= vw_raw(w, "\":\"", 3);
	for (i = 0; i < n && !bad; i++) {
		unsigned char c = (unsigned char)z[i];
		char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			bad |= vw_raw(w, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			bad |= vw_raw(w, e, 6);
		} else if (c >= 0x80) {
			/* valid UTF-8 as is; any other byte as U+00XX, so the
			 * view is always valid JSON */
			int l = mm_json_utf8_len((const unsigned char *)z + i,
						 (const unsigned char *)z + n);
			if (l > 0) {
				bad |= vw_raw(w, z + i, (size_t)l);
				i += (size_t)l - 1;
			} else {
				bad |= vw_raw(w, e, 6);
			}
		} else {
			bad |= vw_raw(w, (const char *)&c, 1);
		}
	}
	bad |= vw_raw(w, "\"", 1);
	if (bad)
		w->n = at;
	else
		w->first = 0;
}

static void vw_strs(struct vw *w, const char *key, struct mm_str v) { vw_str(w, key, v.p, v.n); }

static void vw_num(struct vw *w, const char *key, int64_t v)
{
	char b[32];
	size_t at = w->n;
	int n = snprintf(b, sizeof(b), "%lld", (long long)v);
	if (vw_raw(w, w->first ? "\"" : ",\"", w->first ? 1 : 2) || vw_raw(w, key, strlen(key)) ||
	    vw_raw(w, "\":", 2) || vw_raw(w, b, (size_t)n))
		w->n = at;
	else
		w->first = 0;
}

static void vw_ip(struct vw *w, const char *key, const struct mm_ip *ip)
{
	char b[MM_IP_STRLEN];
	mm_ip_format(ip, b);
	vw_str(w, key, b, strlen(b));
}

static const char *const what_names[] = {
	"", "login_fail", "login_ok", "sudo", "su", "user_add", "user_mod", "user_del", "passwd",
	"cron_cmd", "crontab", "proc", "sock", "file", "account", "line",
};

/* The first word of a command (the program it runs). */
static struct mm_str first_word(struct mm_str c)
{
	size_t i = 0, j;
	while (i < c.n && (c.p[i] == ' ' || c.p[i] == '\t'))
		i++;
	for (j = i; j < c.n && c.p[j] != ' ' && c.p[j] != '\t'; j++)
		;
	return mm_str_make(c.p + i, j - i);
}

/* sudo's "PWD=/dir ;" in its log line, else empty */
static struct mm_str sudo_pwd(struct mm_str raw)
{
	const char *p = raw.n > 4 ? memmem(raw.p, raw.n, "PWD=", 4) : NULL;
	size_t i, n;
	if (!p || (p > raw.p && p[-1] != ' '))
		return mm_str_make("", 0);
	p += 4;
	n = raw.n - (size_t)(p - raw.p);
	for (i = 0; i < n && p[i] != ';'; i++)
		;
	while (i && p[i - 1] == ' ')
		i--;
	return mm_str_make(p, i);
}

/* The nearest parent of a lineage "pid:name:exe;..." : its exe */
static struct mm_str parent_exe(struct mm_str lin)
{
	size_t i, end, colons = 0;
	for (end = 0; end < lin.n && lin.p[end] != ';'; end++)
		;
	for (i = 0; i < end && colons < 2; i++)
		if (lin.p[i] == ':')
			colons++;
	return colons == 2 ? mm_str_make(lin.p + i, end - i) : mm_str_make("", 0);
}

size_t mm_sigma_host_view(const struct mm_event *ev, char *out, size_t cap)
{
	const struct mm_host *h;
	struct vw w;
	int proc, sock;
	if (!ev || ev->kind != MM_EV_HOST || cap < 2)
		return 0;
	h = &ev->u.host;
	w.p = out;
	w.n = 0;
	w.cap = MM_MIN(cap, (size_t)MM_SIGMA_HOST_VIEW_MAX);
	w.first = 1;
	out[w.n++] = '{';
	if ((unsigned)h->what < MM_ARRAY_LEN(what_names))
		vw_str(&w, "what", what_names[h->what], strlen(what_names[h->what]));
	/* the host event's own members, named as in the JSON-lines format */
	vw_strs(&w, "host", h->host);
	vw_strs(&w, "instance_id", h->instance_id);
	vw_strs(&w, "program", h->program);
	if (h->pid)
		vw_num(&w, "pid", h->pid);
	vw_strs(&w, "user", h->user);
	vw_strs(&w, "target_user", h->target_user);
	vw_strs(&w, "method", h->method);
	if (h->invalid_user)
		vw_str(&w, "invalid_user", "true", 4);
	if (h->has_remote) {
		vw_ip(&w, "remote", &h->remote);
		if (h->rport)
			vw_num(&w, "rport", h->rport);
	}
	if (h->has_local) {
		vw_ip(&w, "local", &h->local);
		if (h->lport)
			vw_num(&w, "lport", h->lport);
	}
	if (h->proto)
		vw_num(&w, "proto", h->proto);
	vw_strs(&w, "state", h->state);
	vw_strs(&w, "command", h->command);
	vw_strs(&w, "exe", h->exe);
	vw_strs(&w, "name", h->name);
	vw_strs(&w, "sha256", h->sha256);
	vw_strs(&w, "lineage", h->lineage);
	if (h->ppid)
		vw_num(&w, "ppid", h->ppid);
	vw_strs(&w, "path", h->path);
	vw_strs(&w, "change", h->change);
	vw_strs(&w, "message", h->message);
	/* the Sigma taxonomy's names (docs/internals/sigma.md) */
	proc = h->what == MM_HOST_PROC;
	sock = h->what == MM_HOST_SOCK;
	if (proc || sock) {
		vw_strs(&w, "Image", h->exe);
		vw_strs(&w, "CommandLine", h->command);
		vw_strs(&w, "User", h->user);
		if (h->pid)
			vw_num(&w, "ProcessId", h->pid);
	}
	if (proc) {
		vw_strs(&w, "ParentImage", parent_exe(h->lineage));
		if (h->ppid)
			vw_num(&w, "ParentProcessId", h->ppid);
		vw_strs(&w, "Hashes", h->sha256);
	} else if (h->what == MM_HOST_CRON_CMD || h->what == MM_HOST_SUDO) {
		/* the command a cron job or sudo ran, as a process creation:
		 * Image is its first word as written (cron's is often not a
		 * path); sudo's runs as its target user, root by default */
		vw_strs(&w, "CommandLine", h->command);
		vw_strs(&w, "Image", first_word(h->command));
		if (h->what == MM_HOST_SUDO) {
			if (h->target_user.n)
				vw_strs(&w, "User", h->target_user);
			else
				vw_str(&w, "User", "root", 4);
			vw_strs(&w, "CurrentDirectory", sudo_pwd(ev->raw));
		} else
			vw_strs(&w, "User", h->user);
	} else if (h->what == MM_HOST_FILE)
		vw_strs(&w, "TargetFilename", h->path);
	if (sock) {
		/* outbound when the local side is an ephemeral port (Linux's
		 * default ip_local_port_range starts at 32768) and not listening */
		int out_ = h->has_remote && h->lport >= 32768 &&
			   !(h->state.n == 6 && !memcmp(h->state.p, "LISTEN", 6));
		if (h->has_remote) {
			vw_ip(&w, "DestinationIp", &h->remote);
			vw_num(&w, "DestinationPort", h->rport);
		}
		if (h->has_local) {
			vw_ip(&w, "SourceIp", &h->local);
			vw_num(&w, "SourcePort", h->lport);
		}
		vw_str(&w, "Initiated", out_ ? "true" : "false", out_ ? 4 : 5);
		if (h->proto == 6 || h->proto == 17)
			vw_str(&w, "Protocol", h->proto == 6 ? "tcp" : "udp", 3);
	}
	out[w.n++] = '}';
	return w.n;
}

static int prog_is(struct mm_str p, const char *const *names)
{
	for (; *names; names++)
		if (strlen(*names) == p.n && !strncasecmp(p.p, *names, p.n))
			return 1;
	return 0;
}

int mm_sigma_host_applies(const struct mm_sigma_rule *r, const struct mm_event *ev)
{
	static const char *const sshd[] = {"sshd", "sshd-session", "sshd-auth", NULL};
	static const char *const cron[] = {"cron", "crond", "crontab", "anacron", NULL};
	static const char *const vsftpd[] = {"vsftpd", NULL};
	static const char *const clamav[] = {"clamd", "freshclam", "clamav-milter", "clamonacc",
					     "clamdscan", "clamscan", NULL};
	static const char *const guac[] = {"guacd", "guacamole", NULL};
	static const char *const auth[] = {
	    "sshd", "sshd-session", "sshd-auth", "sudo", "su", "login", "useradd", "usermod", "userdel",
	    "groupadd", "groupmod", "groupdel", "adduser", "deluser", "passwd", "chpasswd", "chsh", "chfn",
	    "gpasswd", "newusers", "unix_chkpwd", "systemd-logind", "polkitd", "pkexec", "runuser", NULL};
	const struct mm_host *h;
	if (!r || !ev || ev->kind != MM_EV_HOST || r->status != MM_SIGMA_OK)
		return 0;
	h = &ev->u.host;
	switch (r->src) {
	case MM_SIGMA_SRC_PROC:
		return h->what == MM_HOST_PROC || h->what == MM_HOST_CRON_CMD || h->what == MM_HOST_SUDO;
	case MM_SIGMA_SRC_NET:
		return h->what == MM_HOST_SOCK;
	case MM_SIGMA_SRC_FILE:
		return h->what == MM_HOST_FILE &&
		       !(h->change.n == 7 && !memcmp(h->change.p, "deleted", 7));
	case MM_SIGMA_SRC_FILE_DEL:
		return h->what == MM_HOST_FILE && h->change.n == 7 && !memcmp(h->change.p, "deleted", 7);
	case MM_SIGMA_SRC_LINUX_LOG:
		/* log lines: what the auth and cron logs give, and the
		 * generic lines of every program */
		if ((h->what < MM_HOST_LOGIN_FAIL || h->what > MM_HOST_CRONTAB) &&
		    h->what != MM_HOST_LINE)
			return 0;
		switch (r->svc) {
		case MM_SIGMA_SVC_SSHD: return prog_is(h->program, sshd);
		case MM_SIGMA_SVC_SUDO: return prog_is(h->program, (const char *const[]){"sudo", NULL});
		case MM_SIGMA_SVC_CRON:
			return prog_is(h->program, cron) || h->what == MM_HOST_CRON_CMD ||
			       h->what == MM_HOST_CRONTAB;
		case MM_SIGMA_SVC_AUTH:
			return prog_is(h->program, auth) ||
			       (h->what >= MM_HOST_LOGIN_FAIL && h->what <= MM_HOST_PASSWD);
		case MM_SIGMA_SVC_VSFTPD: return prog_is(h->program, vsftpd);
		case MM_SIGMA_SVC_CLAMAV: return prog_is(h->program, clamav);
		case MM_SIGMA_SVC_GUACAMOLE: return prog_is(h->program, guac);
		default: return 1;
		}
	}
	return 0;
}

/* Make ev's view the record the cache serves and its message the
 * keywords' text; MM_EPARSE when the view cannot be made. */
static int host_prep(struct fcache *c, const struct mm_event *ev, struct mm_json_val *rec)
{
	size_t n = mm_sigma_host_view(ev, c->hv, sizeof(c->hv));
	if (!n || prep_record(c, mm_str_make(c->hv, n), rec))
		return MM_EPARSE;
	c->api = NULL;
	c->kwon = 1;
	/* keywords search the line as written; a JSON record (journald's,
	 * the agent's spool) has its text escaped, so its message instead */
	c->kw = ev->raw;
	if (ev->u.host.message.n && (!ev->raw.n || ev->raw.p[0] == '{'))
		c->kw = ev->u.host.message;
	return 0;
}

static void host_done(struct fcache *c)
{
	c->on = 0;
	c->kwon = 0;
	c->kw = mm_str_make("", 0);
}

int mm_sigma_match_host(const struct mm_sigma_rule *r, const struct mm_event *ev,
			struct mm_sigma_scratch *s)
{
	struct fcache *c = s->cache;
	struct mm_json_val rec;
	struct memo m = {0, 0};
	int hit;
	if (!c || !mm_sigma_host_applies(r, ev) || !r->det)
		return 0;
	if (host_prep(c, ev, &rec))
		return 0;
	mm_arena_reset(&s->arena);
	hit = eval(r->det, r->det->root, &rec, s, &m);
	host_done(c);
	return hit;
}

int mm_sigma_set_match_host(const struct mm_sigma_set *s, const struct mm_event *ev,
			    struct mm_sigma_scratch *sc, int *hits, int cap)
{
	const struct sidx *x = s->index;
	struct fcache *c = sc->cache;
	struct mm_json_val rec;
	int i, nhit = 0, prepped = 0;
	if (!x || !c || !x->nhost || !ev || ev->kind != MM_EV_HOST)
		return 0;
	for (i = 0; i < x->nhost; i++) {
		const struct mm_sigma_rule *r = s->r[x->host[i]];
		struct memo m = {0, 0};
		if (!mm_sigma_host_applies(r, ev))
			continue;
		if (!prepped) {
			if (host_prep(c, ev, &rec))
				return 0;
			prepped = 1;
		}
		mm_arena_reset(&sc->arena);
		if (eval(r->det, r->det->root, &rec, sc, &m)) {
			if (nhit < cap)
				hits[nhit] = x->host[i];
			nhit++;
		}
	}
	if (prepped)
		host_done(c);
	return nhit;
}
