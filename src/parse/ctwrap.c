/* ctwrap.c - CloudTrail events inside arrays, streams, lookup-events
 * output, EventBridge events and CloudTrail Lake results (see ctwrap.h).
 *
 * The slower path by design: the S3 {"Records":[...]} file keeps its own
 * one-pass iterator in cloudtrail.c. Here each item is first tried as a
 * bare event in one pass (mm_ct_parse_at); only when that fails is it
 * scanned again and looked at as a wrapper. The document walker keeps a
 * small stack of containers (a stream of values, arrays, wrapper objects)
 * and resynchronises after a damaged item so the good records around it
 * still come out, as the S3 iterator does. */
#include "parse/ctwrap.h"

#include <string.h>

#include "core/json.h"
#include "parse/cloudtrail.h"
#include "parse/jsonrec.h"

#define ws mm__json_ws
#define KEY MM__KEY

enum { LV_STREAM = 0, LV_ARRAY, LV_WRAP };

/* ---- writing into the scratch arena ---- */

/* A bounded writer over the arena's free room; committed with wr_done. */
struct wr {
	char *p;
	size_t n, cap;
	int full;
};

static void wr_init(struct wr *o, struct mm_arena *a, size_t want)
{
	size_t at = (a->used + 7) & ~(size_t)7;
	o->n = 0;
	o->full = 0;
	if (at >= a->cap) {
		o->p = NULL;
		o->cap = 0;
		return;
	}
	o->p = a->base + at;
	o->cap = MM_MIN(a->cap - at, want);
}

static void put(struct wr *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->n) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void putc1(struct wr *o, char c) { put(o, &c, 1); }

/* s as the inside of a JSON string */
static void put_esc(struct wr *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, from = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\' || c < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			put(o, s + from, i - from);
			if (c == '"' || c == '\\') {
				e[1] = (char)c;
				put(o, e, 2);
			} else {
				put(o, e, 6);
			}
			from = i + 1;
		}
	}
	put(o, s + from, n - from);
}

/* Mark the written bytes used in the arena. */
static void wr_done(struct wr *o, struct mm_arena *a)
{
	a->used = (size_t)(o->p - a->base) + o->n;
}

/* ---- CloudTrail field names, for Lake columns (lower-cased there) ---- */

static const char *const top_names[] = {
	"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
	"sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
	"responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "resources",
	"eventType", "apiVersion", "managementEvent", "recipientAccountId", "serviceEventDetails",
	"sharedEventID", "vpcEndpointId", "vpcEndpointAccountId", "eventCategory", "addendum",
	"sessionCredentialFromConsole", "edgeDeviceDetails", "tlsDetails", "insightDetails", NULL};

static const char *const ident_names[] = {
	"type", "principalId", "arn", "accountId", "accessKeyId", "userName", "sessionContext",
	"attributes", "creationDate", "mfaAuthenticated", "sessionIssuer", "webIdFederationData",
	"federatedProvider", "sourceIdentity", "ec2RoleDelivery", "ec2IssuedInVPC", "invokedBy",
	"identityProvider", "credentialId", "onBehalfOf", "userId", "identityStoreArn", "inScopeOf",
	"issuerType", "credentialsIssuedTo", NULL};

/* The canonical spelling of key k in names (any case), or NULL. */
static const char *canon(const char *const *names, const char *k, size_t n)
{
	int i;
	for (i = 0; names[i]; i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], k, n) == 0)
			return names[i];
	return NULL;
}

static void put_key(struct wr *o, const char *const *names, const char *k, size_t n)
{
	const char *c = names ? canon(names, k, n) : NULL;
	putc1(o, '"');
	if (c)
		put(o, c, n);
	else
		put_esc(o, k, n);
	put(o, "\":", 2);
}

/* A JSON value re-emitted; with names, object keys get their canonical
 * spelling at every level (userIdentity's subtree). */
static int emit_json(struct wr *o, const struct mm_json_val *v, const char *const *names)
{
	struct mm_json_iter it;
	struct mm_json_val c;
	struct mm_str k;
	int rc, first = 1;

	if (!names || (v->type != MM_JSON_OBJECT && v->type != MM_JSON_ARRAY)) {
		put(o, v->p, v->n);
		return 0;
	}
	if (mm_json_iter_init(&it, v))
		return MM_EPARSE;
	putc1(o, v->type == MM_JSON_OBJECT ? '{' : '[');
	while ((rc = mm_json_iter_next(&it, &k, &c)) == 1) {
		if (!first)
			putc1(o, ',');
		first = 0;
		if (v->type == MM_JSON_OBJECT) {
			/* escaped keys are copied as they are (none of ours has escapes) */
			if (memchr(k.p, '\\', k.n)) {
				putc1(o, '"');
				put(o, k.p, k.n);
				put(o, "\":", 2);
			} else {
				put_key(o, names, k.p, k.n);
			}
		}
		if ((rc = emit_json(o, &c, names)))
			return rc;
	}
	if (rc)
		return rc;
	putc1(o, v->type == MM_JSON_OBJECT ? '}' : ']');
	return 0;
}

/* ---- Lake's rendering of structs and maps: {key=value, key2={...}} ---- */

#define TRINO_MAX_DEPTH 16

static int ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == ':';
}

/* Does p start "key=" (a struct member)? */
static int at_member(const char *p, const char *e)
{
	const char *q = p;
	while (q < e && ident_char(*q))
		q++;
	return q > p && q < e && *q == '=';
}

/* End of a scalar value starting at p: the ", " before the next member or
 * the '}' closing the struct, brackets inside the value balanced. */
static const char *scalar_end(const char *p, const char *e)
{
	int d = 0;
	for (; p < e; p++) {
		char c = *p;
		if (c == '{' || c == '[' || c == '(')
			d++;
		else if (c == ']' || c == ')')
			d -= d > 0;
		else if (c == '}') {
			if (d == 0)
				return p;
			d--;
		} else if (c == ',' && d == 0 && p + 1 < e && p[1] == ' ' && at_member(p + 2, e))
			return p;
	}
	return e;
}

/* The struct at *pp ("{...}") as a JSON object; *pp moves past it. */
static int trino_obj(struct wr *o, const char **pp, const char *e, const char *const *names,
		     int depth)
{
	const char *p = *pp, *k, *v;
	int first = 1;

	if (depth > TRINO_MAX_DEPTH)
		return MM_EDEPTH;
	if (p >= e || *p != '{')
		return MM_EPARSE;
	p++;
	putc1(o, '{');
	for (;;) {
		while (p < e && *p == ' ')
			p++;
		if (p < e && *p == '}') {
			p++;
			break;
		}
		if (!first) {
			if (p >= e || *p != ',')
				return MM_EPARSE;
			p++;
			while (p < e && *p == ' ')
				p++;
		}
		k = p;
		while (p < e && ident_char(*p))
			p++;
		if (p == k || p >= e || *p != '=')
			return MM_EPARSE;
		if (!first)
			putc1(o, ',');
		first = 0;
		put_key(o, names, k, (size_t)(p - k));
		v = ++p;
		if (p < e && *p == '{' && (p + 1 < e && (p[1] == '}' || at_member(p + 1, e)))) {
			int rc = trino_obj(o, &p, e, names, depth + 1);
			if (rc)
				return rc;
			continue;
		}
		p = scalar_end(v, e);
		if (p - v == 4 && memcmp(v, "null", 4) == 0) {
			put(o, "null", 4);
		} else {
			putc1(o, '"');
			put_esc(o, v, (size_t)(p - v));
			putc1(o, '"');
		}
	}
	putc1(o, '}');
	*pp = p;
	return 0;
}

/* One Lake cell value (a JSON value, usually a string) as the record's
 * member value. A string holding JSON (an object or array) is inlined; one
 * in the "{key=value}" rendering becomes an object; any other string stays
 * a string. tmp holds the unescaped string (cap >= v->n). */
static int emit_cell(struct wr *o, const struct mm_json_val *v, const char *const *names,
		     char *tmp)
{
	struct mm_json_val inner;
	size_t n, used;
	const char *s, *e;

	if (v->type != MM_JSON_STRING)
		return emit_json(o, v, names);
	if (mm_json_unescape(v->p + 1, v->n - 2, tmp, &n))
		return MM_EPARSE;
	s = ws(tmp, tmp + n);
	e = tmp + n;
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r' || e[-1] == '\t'))
		e--;
	if (s < e && (*s == '{' || *s == '[')) {
		if (mm_json_value(s, (size_t)(e - s), &inner, &used) == 0 && used == (size_t)(e - s))
			return emit_json(o, &inner, names);
		if (*s == '{') {
			const char *q = s;
			struct wr save = *o;
			if (trino_obj(o, &q, e, names, 0) == 0 && q == e)
				return 0;
			*o = save;	/* not a struct after all: keep the text */
		}
	}
	put(o, v->p, v->n);
	return 0;
}

/* ---- items ---- */

/* The bytes after the '{' at p start with key k? (keys compared raw) */
static int first_key(const char *p, const char *end, struct mm_str *k)
{
	const char *q = ws(p + 1, end), *c;
	if (q >= end || *q != '"')
		return 0;
	c = memchr(q + 1, '"', (size_t)(end - q - 1));
	if (!c || c - q > 64)
		return 0;
	*k = mm_str_make(q + 1, (size_t)(c - q - 1));
	return 1;
}

static int is_wrapper_key(struct mm_str k)
{
	return KEY(k, "Records") || KEY(k, "Events") || KEY(k, "QueryResultRows") ||
	       KEY(k, "QueryStatus") || KEY(k, "QueryStatistics") || KEY(k, "NextToken") ||
	       KEY(k, "ErrorMessage");
}

/* A JSON string value containing "CloudTrail" (detail-types "AWS API Call
 * via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Service
 * Event via CloudTrail", "AWS Insight via CloudTrail"). */
static int via_cloudtrail(const struct mm_json_val *v)
{
	return v->type == MM_JSON_STRING && memmem(v->p, v->n, "via CloudTrail", 14) != NULL;
}

int mm_ctw_parse_item(const char *p, const char *end, struct mm_arena *scratch,
		      struct mm_event *ev, struct mm_err *err, const char **after)
{
	const char *rec;
	return mm_ctw_parse_item_at(p, end, scratch, ev, err, after, &rec);
}

int mm_ctw_parse_item_at(const char *p, const char *end, struct mm_arena *scratch,
			 struct mm_event *ev, struct mm_err *err, const char **after,
			 const char **rec)
{
	struct mm_json_val obj, v, detail, dtype, cte;
	struct mm_json_iter it;
	struct mm_str k;
	struct mm_err own;
	size_t used = 0, at = 0, lim = (size_t)(end - p);
	char kb[64];
	int rc, have_detail = 0, have_dtype = 0, have_cte = 0;

	*after = NULL;
	memset(&detail, 0, sizeof(detail));
	dtype = cte = detail;
	lim = MM_MIN(lim, (size_t)MM_CT_MAX_RECORD);
	mm_err_clear(&own);
	*rec = p;	/* the item itself unless it wraps the record */
	/* the common case: a bare event, one pass (skipped when the first key
	 * already says wrapper: EventBridge starts "version", a lookup-events
	 * Event "EventId") */
	if (!(first_key(p, p + lim, &k) && (KEY(k, "version") || KEY(k, "EventId"))) &&
	    mm_ct_parse_at(p, p + lim, scratch, ev, &own, after) == 0) {
		ev->raw = mm_str_make(p, (size_t)(*after - p));
		return 0;
	}
	*after = NULL;
	rc = mm_json_scan(p, lim, &obj, &used, &at);
	if (rc == MM_ETRUNC && lim < (size_t)(end - p))
		return mm_err_set(err, MM_EPARSE, "record larger than %u bytes", MM_CT_MAX_RECORD);
	if (rc == MM_ETRUNC) {
		/* the event's own reason (a line cut short is "malformed") */
		*err = own;
		if (!err->code)
			mm_err_set(err, MM_ETRUNC, "the input ends inside the record");
		return MM_ETRUNC;
	}
	if (rc) {
		*err = own;
		if (!err->code)
			mm_err_set(err, MM_EPARSE, "malformed JSON");
		return MM_EPARSE;
	}
	*after = p + used;
	if (obj.type != MM_JSON_OBJECT || mm_json_iter_init(&it, &obj))
		return mm_err_set(err, MM_EPARSE, "record is not a JSON object");
	while ((rc = mm_json_iter_next(&it, &k, &v)) == 1) {
		if (it.key_esc)	/* the key as a JSON reader reads it */
			k = mm__json_norm_key(k, kb, sizeof(kb));
		if (KEY(k, "detail")) {
			detail = v;
			have_detail = 1;
		} else if (KEY(k, "detail-type")) {
			dtype = v;
			have_dtype = 1;
		} else if (KEY(k, "CloudTrailEvent")) {
			cte = v;
			have_cte = 1;
		}
	}
	if (have_detail && have_dtype) {
		/* EventBridge: the CloudTrail record is the detail */
		if (!via_cloudtrail(&dtype))
			return mm_err_set(err, MM_ESKIP, "EventBridge event %.*s is not from CloudTrail",
					  (int)MM_MIN(dtype.n, 60), dtype.p);
		*rec = detail.p;
		if (detail.type != MM_JSON_OBJECT)
			return mm_err_set(err, MM_EPARSE, "EventBridge detail is not an object");
		const char *a2;
		mm_arena_reset(scratch);
		mm_err_clear(&own);
		if (mm_ct_parse_at(detail.p, detail.p + detail.n, scratch, ev, &own, &a2))
			return mm_err_set(err, MM_EPARSE, "EventBridge detail: %s", own.msg);
		ev->raw = mm_str_make(detail.p, detail.n);
		*rec = detail.p;
		return 0;
	}
	if (have_cte) {
		/* lookup-events: the record is the decoded CloudTrailEvent string */
		char *dec;
		const char *s, *e, *a2;
		size_t n;
		*rec = cte.p;
		if (cte.type != MM_JSON_STRING)
			return mm_err_set(err, MM_EPARSE, "CloudTrailEvent is not a string");
		mm_arena_reset(scratch);
		dec = mm_arena_alloc(scratch, cte.n);
		if (!dec)
			return mm_err_set(err, MM_EPARSE, "CloudTrailEvent longer than the %zu-byte scratch",
					  scratch->cap);
		if (mm_json_unescape(cte.p + 1, cte.n - 2, dec, &n))
			return mm_err_set(err, MM_EPARSE, "CloudTrailEvent: invalid string escape");
		s = ws(dec, dec + n);
		e = dec + n;
		mm_err_clear(&own);
		if (mm_ct_parse_at(s, e, scratch, ev, &own, &a2))
			return mm_err_set(err, MM_EPARSE, "CloudTrailEvent: %s", own.msg);
		if (ws(a2, e) < e)
			return mm_err_set(err, MM_EPARSE, "CloudTrailEvent: trailing bytes after the event");
		ev->raw = mm_str_make(s, (size_t)(a2 - s));
		*rec = cte.p;
		return 0;
	}
	/* no wrapper: the event's own reason */
	*err = own;
	if (!err->code)
		mm_err_set(err, MM_EPARSE, "not a CloudTrail event");
	return MM_EPARSE;
}

int mm_ctw_parse_row(const char *p, const char *end, struct mm_arena *scratch,
		     struct mm_event *ev, struct mm_err *err, const char **after)
{
	struct mm_json_val row, cell, v;
	struct mm_json_iter it, ci;
	struct mm_str k;
	struct mm_err own;
	struct wr o;
	size_t used = 0, at = 0, lim = MM_MIN((size_t)(end - p), (size_t)MM_CT_MAX_RECORD);
	char *tmp;
	const char *a2;
	int rc, first = 1;

	*after = NULL;
	rc = mm_json_scan(p, lim, &row, &used, &at);
	if (rc == MM_ETRUNC && lim < (size_t)(end - p))
		return mm_err_set(err, MM_EPARSE, "row larger than %u bytes", MM_CT_MAX_RECORD);
	if (rc == MM_ETRUNC)
		return mm_err_set(err, MM_ETRUNC, "the input ends inside the row");
	if (rc)
		return mm_err_set(err, MM_EPARSE, "malformed JSON in the row (byte %zu)", at);
	*after = p + used;
	if (row.type != MM_JSON_ARRAY)
		return mm_err_set(err, MM_EPARSE, "a Lake result row is not an array");
	mm_arena_reset(scratch);
	/* the unescape room is no longer than the row's longest string; the
	 * rebuilt record about the row's size (a {key=value} struct grows by
	 * its quotes: twice the row is ample; past the arena it is an error) */
	tmp = mm_arena_alloc(scratch, row.n);
	if (!tmp)
		return mm_err_set(err, MM_EPARSE, "row longer than the %zu-byte scratch", scratch->cap);
	wr_init(&o, scratch, 2 * row.n + 64);
	mm_json_iter_init(&it, &row);
	putc1(&o, '{');
	while ((rc = mm_json_iter_next(&it, NULL, &cell)) == 1) {
		if (cell.type != MM_JSON_OBJECT)
			return mm_err_set(err, MM_EPARSE, "a Lake result column is not an object");
		mm_json_iter_init(&ci, &cell);
		while ((rc = mm_json_iter_next(&ci, &k, &v)) == 1) {
			const char *c = canon(top_names, k.p, k.n);
			if (v.type == MM_JSON_NULL)
				continue;
			if (!first)
				putc1(&o, ',');
			first = 0;
			if (c)
				put_key(&o, NULL, c, k.n);
			else {
				putc1(&o, '"');
				put(&o, k.p, k.n);
				put(&o, "\":", 2);
			}
			rc = emit_cell(&o, &v, c && !strcmp(c, "userIdentity") ? ident_names : NULL,
				       tmp);
			if (rc)
				return mm_err_set(err, MM_EPARSE, "column %.*s: bad value",
						  (int)MM_MIN(k.n, 40), k.p);
		}
		if (rc)
			return mm_err_set(err, MM_EPARSE, "malformed Lake column");
	}
	putc1(&o, '}');
	if (o.full)
		return mm_err_set(err, MM_EPARSE, "rebuilt record larger than the scratch");
	wr_done(&o, scratch);
	mm_err_clear(&own);
	if (mm_ct_parse_at(o.p, o.p + o.n, scratch, ev, &own, &a2))
		return mm_err_set(err, MM_EPARSE, "Lake row: %s%s", own.msg,
				  strstr(own.msg, "missing") ? " (select whole records: SELECT *)" : "");
	ev->raw = mm_str_make(o.p, o.n);
	return 0;
}

/* ---- the document walker ---- */

/* Does a Lake result row start at p ('['): its first element a one-key
 * object whose key is a CloudTrail field? (rows outside their wrapper:
 * `jq '.QueryResultRows'`, `jq -c '.QueryResultRows[]'`) */
static int looks_like_row(const char *p, const char *end)
{
	struct mm_json_val k, v;
	size_t used;
	const char *q = ws(p + 1, end);
	if (q >= end || *q != '{')
		return 0;
	q = ws(q + 1, end);
	if (q >= end || *q != '"' ||
	    mm_json_scan(q, MM_MIN((size_t)(end - q), (size_t)256), &k, &used, NULL) ||
	    k.type != MM_JSON_STRING || !canon(top_names, k.p + 1, k.n - 2))
		return 0;
	q = ws(q + used, end);
	if (q >= end || *q != ':')
		return 0;
	q++;
	if (mm_json_scan(q, MM_MIN((size_t)(end - q), (size_t)MM_CT_MAX_RECORD), &v, &used, NULL))
		return 0;
	q = ws(q + used, end);
	return q < end && *q == '}';
}

static uint64_t line_of(struct mm_ctw *w, const char *q)
{
	return mm__json_line_at(&w->line, &w->line_at, q);
}

void mm_ctw_init(struct mm_ctw *w, const char *buf, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->p = buf;
	w->end = buf + n;
	w->line = 1;
	w->line_at = buf;
	w->depth = 1;
	w->lv[0].kind = LV_STREAM;
	w->lv[0].first = 1;
	/* a UTF-8 byte order mark */
	if (n >= 3 && (unsigned char)buf[0] == 0xef && (unsigned char)buf[1] == 0xbb &&
	    (unsigned char)buf[2] == 0xbf)
		w->p += 3;
}

static void push(struct mm_ctw *w, int kind, int rows)
{
	struct mm_ctw_level *l = &w->lv[w->depth++];
	l->kind = (uint8_t)kind;
	l->rows = (uint8_t)rows;
	l->first = 1;
}

/* After damage: the next top-level value, a '{' or '[' starting a line
 * after from. Nested containers are left. */
static void resync_top(struct mm_ctw *w, const char *from)
{
	const char *p = from;
	w->depth = 1;
	while (p < w->end) {
		const char *q = memchr(p, '\n', (size_t)(w->end - p));
		if (!q || q + 1 >= w->end)
			break;
		if (q[1] == '{' || q[1] == '[') {
			w->p = q + 1;
			return;
		}
		p = q + 1;
	}
	w->p = w->end;
	w->done = 1;
}

/* Is there a plausible element of the current array at p: a value that
 * scans whole, is followed by ',' or ']', and (an object) carries a key
 * of the shapes we read? */
static int good_element(const char *p, const char *end, int rows)
{
	struct mm_json_val v, m;
	size_t used;
	const char *q;
	if (mm_json_scan(p, MM_MIN((size_t)(end - p), (size_t)MM_CT_MAX_RECORD), &v, &used, NULL))
		return 0;
	q = ws(p + used, end);
	if (q < end && *q != ',' && *q != ']')
		return 0;
	if (rows)
		return v.type == MM_JSON_ARRAY;
	return v.type == MM_JSON_OBJECT &&
	       (mm_json_get(&v, "eventTime", &m) == 1 || mm_json_get(&v, "eventVersion", &m) == 1 ||
		mm_json_get(&v, "detail-type", &m) == 1 ||
		mm_json_get(&v, "CloudTrailEvent", &m) == 1);
}

/* After a damaged element of the innermost array: its next good element,
 * else the next top-level value. */
static void resync_array(struct mm_ctw *w, const char *from)
{
	const char *p = from;
	struct mm_ctw_level *l = &w->lv[w->depth - 1];
	if (l->kind == LV_ARRAY) {
		while (p < w->end) {
			const char *c = memchr(p, ',', (size_t)(w->end - p)), *b;
			if (!c)
				break;
			b = ws(c + 1, w->end);
			if (b < w->end && (*b == (l->rows ? '[' : '{')) &&
			    good_element(b, w->end, l->rows)) {
				w->p = c;	/* at the ',' before it */
				l->first = 0;
				return;
			}
			p = c + 1;
		}
	}
	resync_top(w, from);
}

static int located(struct mm_ctw *w, const char *at, uint64_t *line, uint64_t *offset)
{
	*line = line_of(w, at);
	*offset = (uint64_t)(at - w->buf);
	return 0;
}

/* One item at p in the innermost level; returns as mm_ctw_next_event. */
static int take_item(struct mm_ctw *w, const char *p, int row, struct mm_arena *scratch,
		     struct mm_event *ev, uint64_t *line, uint64_t *offset, struct mm_err *err)
{
	const char *after = NULL, *rec = p;
	int rc;

	located(w, p, line, offset);
	mm_arena_reset(scratch);
	rc = row ? mm_ctw_parse_row(p, w->end, scratch, ev, err, &after)
		 : mm_ctw_parse_item_at(p, w->end, scratch, ev, err, &after, &rec);
	if (rc == MM_ETRUNC) {
		w->done = 1;
		w->p = w->end;
		return mm_err_set(err, MM_ETRUNC, "the document ends inside this record");
	}
	if (!after) {
		/* malformed: resynchronise from just after its start */
		resync_array(w, p + 1);
		return MM_EPARSE;
	}
	w->p = after;
	/* the record's own start (an EventBridge detail, a CloudTrailEvent),
	 * for its error too */
	if (rec > p && rec < after)
		located(w, rec, line, offset);
	return rc ? rc : 1;
}

enum { ENTERED = 2, NOT_A_VALUE = 3 };	/* beside take_item's 1 and MM_E... */

/* The level's closing bracket at p? Then leave the level. */
static int leave(struct mm_ctw *w, const char *p, char close)
{
	if (*p != close)
		return 0;
	w->depth--;
	w->p = p + 1;
	return 1;
}

static int enter(struct mm_ctw *w, const char *p, int kind, int rows)
{
	push(w, kind, rows);
	w->p = p + 1;
	return ENTERED;
}

/* A value in the stream or in an array of items: an object (a wrapper is
 * entered, anything else taken as an item), a Lake row, or an array
 * (entered). ENTERED, NOT_A_VALUE, or take_item's answer. */
static int value(struct mm_ctw *w, const char *p, struct mm_arena *scratch, struct mm_event *ev,
		 uint64_t *line, uint64_t *offset, struct mm_err *err)
{
	struct mm_str k;
	if (*p == '{') {
		if (first_key(p, w->end, &k) && is_wrapper_key(k) && w->depth < MM_CTW_MAX_NEST)
			return enter(w, p, LV_WRAP, 0);
		return take_item(w, p, 0, scratch, ev, line, offset, err);
	}
	if (*p == '[' && looks_like_row(p, w->end))
		return take_item(w, p, 1, scratch, ev, line, offset, err);
	if (*p == '[' && w->depth < MM_CTW_MAX_NEST)
		return enter(w, p, LV_ARRAY, 0);
	return NOT_A_VALUE;
}

int mm_ctw_next_event(struct mm_ctw *w, struct mm_arena *scratch, struct mm_event *ev,
		      uint64_t *line, uint64_t *offset, struct mm_err *err)
{
	const char *p, *end = w->end;
	struct mm_json_val v;
	struct mm_str k;
	size_t used;
	int rc;

	for (;;) {
		struct mm_ctw_level *l;
		if (w->done)
			return 0;
		l = &w->lv[w->depth - 1];
		p = ws(w->p, end);
		switch (l->kind) {
		case LV_STREAM:
			if (p >= end) {
				w->p = end;
				w->done = 1;
				return 0;
			}
			l->first = 0;
			rc = value(w, p, scratch, ev, line, offset, err);
			if (rc == ENTERED)
				continue;
			if (rc != NOT_A_VALUE)
				return rc;
			located(w, p, line, offset);
			mm_err_set(err, MM_EPARSE, "expected a JSON object or array");
			resync_top(w, p + 1);
			return MM_EPARSE;
		case LV_ARRAY:
			if (p >= end)
				goto trunc;
			if (leave(w, p, ']'))
				continue;
			if (!l->first) {
				if (*p != ',') {
					located(w, p, line, offset);
					mm_err_set(err, MM_EPARSE, "expected ',' or ']' between records");
					resync_array(w, p);
					return MM_EPARSE;
				}
				p = ws(p + 1, end);
				if (p >= end)
					goto trunc;
			}
			l->first = 0;
			if (l->rows && *p == '[')
				return take_item(w, p, 1, scratch, ev, line, offset, err);
			if (!l->rows) {
				rc = value(w, p, scratch, ev, line, offset, err);
				if (rc == ENTERED)
					continue;
				if (rc != NOT_A_VALUE)
					return rc;
			}
			located(w, p, line, offset);
			if (mm_json_scan(p, MM_MIN((size_t)(end - p), (size_t)MM_CT_MAX_RECORD), &v,
					 &used, NULL) == 0) {
				/* a well-formed element of the wrong kind: skip it alone */
				mm_err_set(err, MM_EPARSE, "%s", l->rows ? "a Lake result row is not an array"
									 : "not a CloudTrail event");
				w->p = p + used;
				return MM_EPARSE;
			}
			mm_err_set(err, MM_EPARSE, "malformed JSON");
			resync_array(w, p + 1);
			return MM_EPARSE;
		default: /* LV_WRAP: members of a wrapper object */
			if (p >= end)
				goto trunc;
			if (leave(w, p, '}'))
				continue;
			if (!l->first) {
				if (*p != ',')
					goto bad_wrapper;
				p = ws(p + 1, end);
			}
			l->first = 0;
			if (p >= end)
				goto trunc;
			if (*p != '"' ||
			    mm_json_scan(p, MM_MIN((size_t)(end - p), (size_t)4096), &v, &used, NULL) ||
			    v.type != MM_JSON_STRING)
				goto bad_wrapper;
			k = mm_str_make(v.p + 1, v.n - 2);
			p = ws(p + used, end);
			if (p >= end)
				goto trunc;
			if (*p != ':')
				goto bad_wrapper;
			p = ws(p + 1, end);
			if (p < end && *p == '[' && w->depth < MM_CTW_MAX_NEST &&
			    (KEY(k, "Records") || KEY(k, "Events") || KEY(k, "QueryResultRows"))) {
				enter(w, p, LV_ARRAY, KEY(k, "QueryResultRows"));
				continue;
			}
			/* NextToken, QueryStatus, QueryStatistics...: skipped */
			{
				size_t lim = MM_MIN((size_t)(end - p), (size_t)MM_CT_MAX_RECORD);
				rc = mm_json_scan(p, lim, &v, &used, NULL);
				if (rc == MM_ETRUNC && lim == (size_t)(end - p))
					goto trunc;
				if (rc)
					goto bad_wrapper;
				w->p = p + used;
			}
			continue;
		bad_wrapper:
			located(w, p, line, offset);
			mm_err_set(err, MM_EPARSE, "malformed wrapper object");
			resync_top(w, p);
			return MM_EPARSE;
		}
	}
trunc:
	located(w, end, line, offset);
	w->done = 1;
	w->p = end;
	return mm_err_set(err, MM_ETRUNC, "the document ends early (inside %s)",
			  w->lv[w->depth - 1].kind == LV_WRAP ? "an object" : "an array");
}

/* ---- detection ---- */

int mm_ctw_detect(const char *head, size_t n)
{
	const char *end = head + n, *nl, *e;
	struct mm_str k;

	if (n == 0)
		return 0;
	if (head[0] == '[')
		return 1;
	if (head[0] != '{')
		return 0;
	if (first_key(head, end, &k) && is_wrapper_key(k) && !KEY(k, "Records"))
		return 1;
	/* one compact value a line ends its first line with '}'; a pretty
	 * one does not (a line too long for the head counts as compact) */
	nl = memchr(head, '\n', n);
	if (!nl)
		return 0;
	e = nl;
	while (e > head && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e > head && e[-1] == '}')
		return 0;
	/* a first line cut short, then one event a line: still lines */
	e = ws(nl + 1, end);
	return !(e < end && *e == '{');
}
