/* cloudtrail.c - CloudTrail events into struct mm_api.
 *
 * One pass per record: the record's top-level members are walked once with
 * the on-demand iterator (which validates as it goes), dispatched on key
 * length then bytes, and strings are handed out as slices of the input
 * (copied into the scratch arena only when they carry escapes).
 * requestParameters/responseElements stay raw JSON: detectors that need
 * them scan them on demand.
 *
 * The S3 document iterator (mm_ct_doc_*) walks {"Records":[...]} element
 * by element, counts lines only over bytes it passes, and resynchronises
 * after a damaged element so the good records around it still come out. */
#include "parse/cloudtrail.h"

#include <string.h>

#include "core/ip.h"
#include "parse/ctwrap.h"
#include "parse/jsonrec.h"

/* Short names for parse/jsonrec.h's helpers: the dispatch below stays
 * one line a key. */
#define KEY MM__KEY
#define norm_key mm__json_norm_key
#define get_str mm__json_str_field
#define ws mm__json_ws

/* "true"/"false" as a literal or a string: 1/0, anything else -1 */
static int get_bool(const struct mm_json_val *v)
{
	if (v->type == MM_JSON_TRUE)
		return 1;
	if (v->type == MM_JSON_FALSE)
		return 0;
	if (v->type == MM_JSON_STRING) {
		if (v->n == 6 && memcmp(v->p, "\"true\"", 6) == 0)
			return 1;
		if (v->n == 7 && memcmp(v->p, "\"false\"", 7) == 0)
			return 0;
	}
	return -1;
}

static struct mm_str raw_val(const struct mm_json_val *v)
{
	if (v->type == MM_JSON_NULL)
		return mm_str_make("", 0);
	return mm_str_make(v->p, v->n);
}

static int iter_fail(int rc, const char *where, struct mm_err *err)
{
	if (rc == MM_EDEPTH)
		return mm_err_set(err, MM_EPARSE, "%s: nested deeper than %d", where,
				  MM_JSON_MAX_DEPTH);
	return mm_err_set(err, MM_EPARSE, "%s: malformed JSON", where);
}

/* The identity walkers run on iterators entered in place (core/json.h's
 * on-demand descent), so userIdentity is scanned once, not twice. */
static int walk_fail(int rc, const char *where, struct mm_err *err)
{
	return rc < 0 && err && err->code ? rc : iter_fail(rc, where, err);
}

/* Descend into the value at it if it is an object, run fn on it, and move
 * past it; anything else is scanned and skipped. */
#define WALK_CHILD(it, fn, ...)                                                    \
	do {                                                                       \
		struct mm_json_iter ch_;                                           \
		if ((it)->p < (it)->end && *(it)->p == '{') {                      \
			rc = mm_json_iter_enter((it), &ch_);                       \
			if (!rc)                                                   \
				rc = fn(&ch_, __VA_ARGS__);                        \
			if (!rc)                                                   \
				rc = mm_json_iter_leave((it), &ch_);               \
		} else {                                                           \
			struct mm_json_val sk_;                                    \
			rc = mm_json_iter_value((it), &sk_);                       \
			rc = rc == 1 ? 0 : rc;                                     \
		}                                                                  \
	} while (0)

/* An object member we do not keep, entered in place: walk it to its end. */
static int walk_skip(struct mm_json_iter *it, struct mm_err *err)
{
	struct mm_json_val v;
	int rc;
	while ((rc = mm_json_iter_next(it, NULL, &v)) == 1)
		;
	return rc;
}

static int walk_issuer(struct mm_json_iter *it, struct mm_arena *a, struct mm_identity *w,
		       struct mm_err *err)
{
	struct mm_str k;
	struct mm_json_val v;
	char kb[64];
	int rc;

	while ((rc = mm_json_iter_next(it, &k, &v)) == 1) {
		if (it->key_esc)
			k = norm_key(k, kb, sizeof(kb));
		rc = 0;
		if (KEY(k, "type"))
			rc = get_str(&v, a, &w->issuer_type, "sessionIssuer.type", err);
		else if (KEY(k, "arn"))
			rc = get_str(&v, a, &w->issuer_arn, "sessionIssuer.arn", err);
		else if (KEY(k, "userName"))
			rc = get_str(&v, a, &w->issuer_user_name, "sessionIssuer.userName", err);
		else if (KEY(k, "principalId"))
			rc = get_str(&v, a, &w->issuer_principal_id, "sessionIssuer.principalId", err);
		if (rc)
			return rc;
	}
	return rc ? iter_fail(rc, "sessionIssuer", err) : 0;
}

static int walk_attributes(struct mm_json_iter *it, struct mm_identity *w, struct mm_err *err)
{
	struct mm_str k;
	struct mm_json_val v;
	char kb[64];
	int rc;

	while ((rc = mm_json_iter_next(it, &k, &v)) == 1) {
		if (it->key_esc)
			k = norm_key(k, kb, sizeof(kb));
		if (KEY(k, "mfaAuthenticated"))
			w->mfa = get_bool(&v);
	}
	return rc ? iter_fail(rc, "sessionContext.attributes", err) : 0;
}

static int walk_session(struct mm_json_iter *it, struct mm_arena *a, struct mm_identity *w,
			struct mm_err *err)
{
	struct mm_str k;
	char kb[64];
	int rc;

	while ((rc = mm_json_iter_key(it, &k)) == 1) {
		if (it->key_esc)
			k = norm_key(k, kb, sizeof(kb));
		if (KEY(k, "sessionIssuer"))
			WALK_CHILD(it, walk_issuer, a, w, err);
		else if (KEY(k, "attributes"))
			WALK_CHILD(it, walk_attributes, w, err);
		else
			WALK_CHILD(it, walk_skip, err);
		if (rc)
			return walk_fail(rc, "sessionContext", err);
	}
	return rc ? iter_fail(rc, "sessionContext", err) : 0;
}

static int walk_identity(struct mm_json_iter *it, struct mm_arena *a, struct mm_identity *w,
			 struct mm_err *err)
{
	struct mm_str k;
	struct mm_json_val v;
	char kb[64];
	int rc;

	while ((rc = mm_json_iter_key(it, &k)) == 1) {
		if (it->key_esc)
			k = norm_key(k, kb, sizeof(kb));
		if (KEY(k, "sessionContext")) {
			WALK_CHILD(it, walk_session, a, w, err);
			if (rc)
				return walk_fail(rc, "userIdentity", err);
			continue;
		}
		rc = mm_json_iter_value(it, &v);
		if (rc != 1)
			return iter_fail(rc, "userIdentity", err);
		rc = 0;
		switch (k.n) {
		case 3:
			if (KEY(k, "arn"))
				rc = get_str(&v, a, &w->arn, "userIdentity.arn", err);
			break;
		case 4:
			if (KEY(k, "type"))
				rc = get_str(&v, a, &w->type, "userIdentity.type", err);
			break;
		case 8:
			if (KEY(k, "userName"))
				rc = get_str(&v, a, &w->user_name, "userIdentity.userName", err);
			break;
		case 9:
			if (KEY(k, "accountId"))
				rc = get_str(&v, a, &w->account_id, "userIdentity.accountId", err);
			else if (KEY(k, "invokedBy"))
				rc = get_str(&v, a, &w->invoked_by, "userIdentity.invokedBy", err);
			break;
		case 11:
			if (KEY(k, "principalId"))
				rc = get_str(&v, a, &w->principal_id, "userIdentity.principalId", err);
			else if (KEY(k, "accessKeyId"))
				rc = get_str(&v, a, &w->access_key_id, "userIdentity.accessKeyId",
					     err);
			break;
		case 16:
			if (KEY(k, "identityProvider"))
				rc = get_str(&v, a, &w->identity_provider,
					     "userIdentity.identityProvider", err);
			break;
		default:
			break;
		}
		if (rc)
			return rc;
	}
	return rc ? iter_fail(rc, "userIdentity", err) : 0;
}

struct time_field {
	struct mm_json_val v;
	int have;
};

/* One top-level member of a record: 0 handled, 1 not a key we keep,
 * negative on a bad value. Dispatch on length first: most keys are told
 * apart by it and one memcmp. */
static int field(struct mm_api *api, struct mm_str k, const struct mm_json_val *vp,
		 struct mm_arena *a, struct time_field *tf, struct mm_err *err)
{
	const struct mm_json_val v = *vp;
	int rc = 1;

	switch (k.n) {
	case 7:
		if (KEY(k, "eventID"))
			rc = get_str(&v, a, &api->event_id, "eventID", err);
		break;
	case 8:
		if (KEY(k, "readOnly")) {
			api->read_only = get_bool(&v);
			rc = 0;
		}
		break;
	case 9:
		if (KEY(k, "eventName")) {
			if (v.type != MM_JSON_STRING)
				return mm_err_set(err, MM_EPARSE, "eventName is not a string");
			rc = get_str(&v, a, &api->event_name, "eventName", err);
		} else if (KEY(k, "eventTime")) {
			tf->v = v;
			tf->have = 1;
			rc = 0;
		} else if (KEY(k, "eventType"))
			rc = get_str(&v, a, &api->event_type, "eventType", err);
		else if (KEY(k, "awsRegion"))
			rc = get_str(&v, a, &api->region, "awsRegion", err);
		else if (KEY(k, "userAgent"))
			rc = get_str(&v, a, &api->user_agent, "userAgent", err);
		else if (KEY(k, "errorCode"))
			rc = get_str(&v, a, &api->error_code, "errorCode", err);
		break;
	case 11:
		if (KEY(k, "eventSource")) {
			if (v.type != MM_JSON_STRING)
				return mm_err_set(err, MM_EPARSE,
						  "eventSource is not a string");
			rc = get_str(&v, a, &api->event_source, "eventSource", err);
		}
		break;
	case 12:
		if (KEY(k, "eventVersion"))
			rc = get_str(&v, a, &api->event_version, "eventVersion", err);
		else if (KEY(k, "userIdentity")) {
			/* objects are walked in place by parse_obj */
			rc = v.type == MM_JSON_NULL ? 0
						    : mm_err_set(err, MM_EPARSE,
								 "userIdentity: expected an object");
		}
		else if (KEY(k, "errorMessage"))
			rc = get_str(&v, a, &api->error_message, "errorMessage", err);
		break;
	case 15:
		if (KEY(k, "sourceIPAddress"))
			rc = get_str(&v, a, &api->source_ip_raw, "sourceIPAddress", err);
		break;
	case 16:
		if (KEY(k, "responseElements")) {
			api->response_elements = raw_val(&v);
			rc = 0;
		}
		break;
	case 17:
		if (KEY(k, "requestParameters")) {
			api->request_parameters = raw_val(&v);
			rc = 0;
		}
		break;
	case 18:
		if (KEY(k, "recipientAccountId"))
			rc = get_str(&v, a, &api->account, "recipientAccountId", err);
		break;
	default:
		break;
	}
	return rc;
}

/* The members of the record parse_obj is reading on this thread (ntop
 * -1: too many to keep); copied into the event's arena when the record
 * parses (keep_top). */
static __thread struct {
	int ntop;
	struct mm_str k[MM_CT_TOP_MAX];
	struct mm_json_val v[MM_CT_TOP_MAX];
} t_top;
static __thread int t_top_off;	/* mm_ct_keep_top(0) */

void mm_ct_keep_top(int on)
{
	t_top_off = !on;
}

static void top_add(struct mm_str k, const struct mm_json_val *v)
{
	if (t_top.ntop < 0)
		return;
	if (t_top.ntop == MM_CT_TOP_MAX) {
		t_top.ntop = -1;
		return;
	}
	t_top.k[t_top.ntop] = k;
	t_top.v[t_top.ntop++] = *v;
}

/* The parsed record's members into the event (struct mm_api's top_*):
 * left out, not an error, when there were too many or the arena is full. */
static void keep_top(struct mm_api *api, struct mm_arena *a, const char *p, size_t n)
{
	struct mm_str *k;
	struct mm_json_val *v;
	size_t m = t_top.ntop > 0 ? (size_t)t_top.ntop : 0;

	if (t_top.ntop < 0 || !(k = mm_arena_alloc(a, sizeof(*k) * m + 1)) ||
	    !(v = mm_arena_alloc(a, sizeof(*v) * m + 1)))
		return;
	memcpy(k, t_top.k, sizeof(*k) * m);
	memcpy(v, t_top.v, sizeof(*v) * m);
	api->top_keys = k;
	api->top_vals = v;
	api->ntop = (int)m;
	api->top_n = n;
	api->top_p = p;
}

/* Walk the object starting at p (p[0] == '{') and ending at or before
 * end; *after is set past its closing brace. */
static int parse_obj(const char *p, const char *end, struct mm_arena *a, struct mm_event *ev,
		     struct mm_err *err, const char **after)
{
	struct mm_api *api = &ev->u.api;
	struct mm_json_val obj, v;
	struct time_field tf;
	struct mm_json_iter it;
	struct mm_str k;
	char kb[64];
	int rc;

	memset(api, 0, sizeof(*api));
	ev->kind = MM_EV_API;
	api->read_only = -1;
	api->who.mfa = -1;
	obj.type = MM_JSON_OBJECT;
	obj.p = p;
	obj.n = (size_t)(end - p);
	tf.have = 0;
	tf.v.type = MM_JSON_INVALID;
	t_top.ntop = t_top_off ? -1 : 0;
	if (mm_json_iter_init(&it, &obj))
		return mm_err_set(err, MM_EPARSE, "record is not a JSON object");
	while ((rc = mm_json_iter_key(&it, &k)) == 1) {
		/* the key as a JSON reader reads it ("user\u0049dentity" too) */
		struct mm_str nk = it.key_esc ? norm_key(k, kb, sizeof(kb)) : k;
		if (nk.n == 12 && it.p < it.end && *it.p == '{' && memcmp(nk.p, "userIdentity", 12) == 0) {
			const char *at = it.p;
			mm_err_clear(err);
			WALK_CHILD(&it, walk_identity, a, &api->who, err);
			if (rc)
				return walk_fail(rc, "userIdentity", err);
			v.type = MM_JSON_OBJECT;
			v.p = at;
			v.n = (size_t)(it.p - at);
			top_add(k, &v);
			continue;
		}
		rc = mm_json_iter_value(&it, &v);
		if (rc != 1)
			break;
		top_add(k, &v);
		rc = field(api, nk, &v, a, &tf, err);
		if (rc < 0)
			return rc;
	}
	if (rc)
		return iter_fail(rc, "record", err);
	*after = it.p;
	if (!tf.have)
		return mm_err_set(err, MM_EPARSE, "missing eventTime");
	if ((rc = mm__json_time_field(&tf.v, "eventTime", &api->time_ms, err)))
		return rc;
	if (api->event_name.n == 0)
		return mm_err_set(err, MM_EPARSE, "missing eventName");
	if (api->event_source.n == 0)
		return mm_err_set(err, MM_EPARSE, "missing eventSource");
	if (api->account.n == 0)
		api->account = api->who.account_id;
	if (api->source_ip_raw.n &&
	    mm_ip_parse(api->source_ip_raw.p, api->source_ip_raw.n, &api->source_ip) == 0)
		api->has_source_ip = 1;
	keep_top(api, a, p, (size_t)(it.p - p));
	return 0;
}

int mm_ct_parse_at(const char *p, const char *end, struct mm_arena *scratch, struct mm_event *ev,
		   struct mm_err *err, const char **after)
{
	if (p >= end || *p != '{')
		return mm_err_set(err, MM_EPARSE, "record is not a JSON object");
	return parse_obj(p, end, scratch, ev, err, after);
}

int mm_ct_parse_value(const struct mm_json_val *obj, struct mm_arena *scratch, struct mm_event *ev,
		      struct mm_err *err)
{
	const char *after;
	if (!obj || obj->type != MM_JSON_OBJECT || obj->n < 2)
		return mm_err_set(err, MM_EPARSE, "record is not a JSON object");
	return parse_obj(obj->p, obj->p + obj->n, scratch, ev, err, &after);
}

int mm_ct_parse_line(const char *line, size_t n, struct mm_arena *scratch, struct mm_event *ev,
		     struct mm_err *err)
{
	const char *p = line, *end = line + n, *after = NULL;
	int rc;

	if (n > MM_CT_MAX_RECORD)
		return mm_err_set(err, MM_EPARSE, "record longer than %u bytes", MM_CT_MAX_RECORD);
	p = ws(p, end);
	if (p >= end || *p != '{')
		return mm_err_set(err, MM_EPARSE, "line is not a JSON object");
	/* single pass: the iterator finds the record's end as it parses */
	rc = parse_obj(p, end, scratch, ev, err, &after);
	if (rc == 0) {
		ev->raw = mm_str_make(p, (size_t)(after - p));
	} else {
		/* not a bare event: perhaps a wrapped one (EventBridge, a
		 * lookup-events Event). Only failures pay for the second look;
		 * a record that is no wrapper keeps its own reason. */
		mm_arena_reset(scratch);
		rc = mm_ctw_parse_item(p, end, scratch, ev, err, &after);
		if (rc)
			return rc == MM_ESKIP ? MM_ESKIP : MM_EPARSE;
	}
	if (ws(after, end) < end)
		return mm_err_set(err, MM_EPARSE, "trailing bytes after the record");
	return 0;
}

/* ---- the S3 document: {"Records":[ {...}, ... ]} ---- */

enum { DOC_FIRST = 0, DOC_NEXT, DOC_END, DOC_DONE };

#define CT_PREFETCH 4096	/* bytes ahead of the record being parsed */

#define count_nl mm__json_count_nl

/* The newline search's step: past the record at hand by at most this. */
#define NL_STEP ((size_t)64 << 10)

/* Bring d->line up to position q (q never moves backwards). d->nl: there
 * is no newline in [line_at, nl), and nl is the next one or the end of
 * what was searched. An S3 object is one line: searched once, counting
 * up to every record would read each record twice more; searched in
 * steps, not to the end at once, which read (and so paged in) all of a
 * mapped document before its first record was parsed. */
static uint64_t line_at(struct mm_ct_doc *d, const char *q)
{
	if (q <= d->line_at)
		return d->line;
	if (!d->nl || d->nl < d->line_at)
		d->nl = d->line_at;
	while (d->nl < q && d->nl < d->end) {
		size_t span = MM_MIN(MM_MAX((size_t)(q - d->nl), NL_STEP), (size_t)(d->end - d->nl));
		const char *f = memchr(d->nl, '\n', span);
		if (f) {
			d->nl = f;
			break;
		}
		d->nl += span;
	}
	if (q <= d->nl) {
		d->line_at = q;
		return d->line;
	}
	d->nl = NULL;
	return mm__json_line_at(&d->line, &d->line_at, q);
}

int mm_ct_doc_init(struct mm_ct_doc *d, const char *buf, size_t n, struct mm_err *err)
{
	const char *p = buf, *end = buf + n, *q;
	struct mm_json_val v;
	size_t used;
	int esc = 0;

	memset(d, 0, sizeof(*d));
	d->buf = buf;
	d->end = end;
	d->line = 1;
	d->line_at = buf;
	d->state = DOC_DONE;
	p = ws(p, end);
	if (p >= end || *p != '{')
		return mm_err_set(err, MM_EFORMAT, "not a CloudTrail document: no '{'");
	p = ws(p + 1, end);
	/* members before "Records" (none in AWS's files) are skipped */
	for (;;) {
		if (p >= end || *p != '"')
			return mm_err_set(err, MM_EFORMAT, "not a CloudTrail document: no Records");
		q = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (!q)
			return mm_err_set(err, MM_EFORMAT, "not a CloudTrail document: no Records");
		esc = (size_t)(q - p - 1) == 7 && memcmp(p + 1, "Records", 7) == 0;
		p = ws(q + 1, end);
		if (p >= end || *p != ':')
			return mm_err_set(err, MM_EFORMAT, "not a CloudTrail document: bad key");
		p = ws(p + 1, end);
		if (esc)
			break;
		if (mm_json_scan(p, (size_t)(end - p), &v, &used, NULL))
			return mm_err_set(err, MM_EFORMAT, "not a CloudTrail document: bad member");
		p = ws(p + used, end);
		if (p >= end || *p != ',')
			return mm_err_set(err, MM_EFORMAT, "not a CloudTrail document: no Records");
		p = ws(p + 1, end);
	}
	if (p >= end || *p != '[')
		return mm_err_set(err, MM_EFORMAT, "not a CloudTrail document: Records is not an array");
	d->p = p + 1;
	d->state = DOC_FIRST;
	return 0;
}

/* Does a record-looking object start at p? It must scan as an object,
 * be followed by ',' or ']' and carry an eventTime or eventVersion key. */
static int good_start(const char *p, const char *end)
{
	struct mm_json_val v, m;
	size_t used;
	const char *q;
	size_t lim = (size_t)(end - p);
	if (lim > MM_CT_MAX_RECORD)
		lim = MM_CT_MAX_RECORD;
	if (mm_json_scan(p, lim, &v, &used, NULL) || v.type != MM_JSON_OBJECT)
		return 0;
	q = ws(p + used, end);
	if (q < end && *q != ',' && *q != ']')
		return 0;
	return mm_json_get(&v, "eventTime", &m) == 1 || mm_json_get(&v, "eventVersion", &m) == 1;
}

/* After damage at from: find the next `,` + `{` that starts a record. */
static const char *resync(const char *from, const char *end)
{
	const char *p = from;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *b;
		if (!c)
			return NULL;
		b = ws(c + 1, end);
		if (b < end && *b == '{' && good_start(b, end))
			return c;
		p = c + 1;
	}
	return NULL;
}

int mm_ct_doc_next(struct mm_ct_doc *d, struct mm_json_val *rec, uint64_t *line, uint64_t *offset,
		   struct mm_err *err)
{
	const char *p, *end = d->end, *r;
	struct mm_json_val v;
	size_t used = 0, at = 0, lim;
	int rc;

	if (d->state == DOC_DONE)
		return 0;
	p = ws(d->p, end);
	if (d->state == DOC_END) {
		/* after ']': the closing brace (other members are skipped) */
		d->state = DOC_DONE;
		while (p < end && *p == ',') {
			const char *q = ws(p + 1, end);
			if (q < end && *q == '"' && (q = memchr(q + 1, '"', (size_t)(end - q - 1))) &&
			    (q = ws(q + 1, end)) < end && *q == ':' &&
			    mm_json_scan(q + 1, (size_t)(end - q - 1), &v, &used, NULL) == 0)
				p = ws(q + 1 + used, end);
			else
				break;
		}
		if (p < end && *p == '}')
			return 0;
		*line = line_at(d, p);
		*offset = (size_t)(p - d->buf);
		if (p >= end)
			return mm_err_set(err, MM_ETRUNC, "line %llu: document ends before '}'",
					  (unsigned long long)*line);
		return mm_err_set(err, MM_EPARSE, "line %llu: expected '}' after Records",
				  (unsigned long long)*line);
	}
	if (p >= end)
		goto trunc;
	if (d->state == DOC_NEXT) {
		if (*p == ']') {
			d->p = p + 1;
			d->state = DOC_END;
			return mm_ct_doc_next(d, rec, line, offset, err);
		}
		if (*p != ',') {
			r = p;
			rc = MM_EPARSE;
			at = 0;
			*line = line_at(d, p);
			*offset = (size_t)(p - d->buf);
			mm_err_set(err, MM_EPARSE, "line %llu: expected ',' or ']' between records",
				   (unsigned long long)*line);
			goto resynchronise;
		}
		p = ws(p + 1, end);
		if (p >= end)
			goto trunc;
	} else if (*p == ']') {
		d->p = p + 1;
		d->state = DOC_END;
		return mm_ct_doc_next(d, rec, line, offset, err);
	}
	r = p;
	*line = line_at(d, r);
	*offset = (size_t)(r - d->buf);
	lim = MM_MIN((size_t)(end - r), (size_t)MM_CT_MAX_RECORD);
	rc = mm_json_scan(r, lim, &v, &used, &at);
	if (rc == MM_ETRUNC && lim < (size_t)(end - r)) {
		rc = MM_EPARSE;
		mm_err_set(err, MM_EPARSE, "line %llu: record larger than %u bytes",
			   (unsigned long long)*line, MM_CT_MAX_RECORD);
		goto resynchronise;
	}
	if (rc == MM_ETRUNC)
		goto trunc_at;
	if (rc == 0 && v.type != MM_JSON_OBJECT) {
		rc = MM_EPARSE;
		at = 0;
		mm_err_set(err, MM_EPARSE, "line %llu: record is not a JSON object",
			   (unsigned long long)*line);
		goto resynchronise;
	}
	if (rc) {
		uint64_t eline = *line + count_nl(r, r + at);
		mm_err_set(err, MM_EPARSE, "line %llu: malformed record (%s at line %llu, byte %llu)",
			   (unsigned long long)*line,
			   rc == MM_EDEPTH ? "nested too deeply" : "bad JSON",
			   (unsigned long long)eline, (unsigned long long)(*offset + at));
		/* one bad record, whatever the reason (MM_EDEPTH too): the
		 * caller counts it and goes on to the next */
		rc = MM_EPARSE;
		goto resynchronise;
	}
	*rec = v;
	d->p = r + used;
	d->state = DOC_NEXT;
	return 1;

resynchronise:
	{
		const char *c = resync(r + at, end);
		if (c) {
			d->p = c;	/* at the ',' before the next good record */
			d->state = DOC_NEXT;
		} else {
			d->state = DOC_DONE;
		}
	}
	return rc;
trunc:
	r = p;
	*line = line_at(d, r);
	*offset = (size_t)(r - d->buf);
trunc_at:
	d->state = DOC_DONE;
	return mm_err_set(err, MM_ETRUNC, "line %llu: document ends inside the Records array",
			  (unsigned long long)*line);
}

int mm_ct_is_digest(const char *buf, size_t n)
{
	struct mm_json_val obj, v;
	struct mm_json_iter it;
	struct mm_str k;
	const char *p = buf, *end = buf + n, *q;

	p = ws(p, end);
	if (p >= end || *p != '{')
		return 0;
	q = ws(p + 1, end);
	if ((size_t)(end - q) >= 9 && memcmp(q, "\"Records\"", 9) == 0)
		return 0;	/* an S3 event file: do not scan its records */
	obj.type = MM_JSON_OBJECT;
	obj.p = p;
	obj.n = (size_t)(end - p);
	if (mm_json_iter_init(&it, &obj))
		return 0;
	/* keys are checked as they come: a Records document says so in its
	 * first key, before any record is scanned */
	while (mm_json_iter_next(&it, &k, &v) == 1) {
		if (KEY(k, "digestStartTime") || KEY(k, "digestS3Object") ||
		    KEY(k, "digestPublicKeyFingerprint") || KEY(k, "digestEndTime"))
			return 1;
		if (KEY(k, "Records") || KEY(k, "eventVersion") || KEY(k, "eventTime"))
			return 0;
	}
	return 0;
}

/* One pass per record: parse the event straight from the document
 * instead of finding its end first and parsing it again (that doubled
 * the cost of S3 files). Anything unusual - a separator problem, a
 * malformed or invalid record - falls back to mm_ct_doc_next, which
 * reports and resynchronises exactly as before. */
int mm_ct_doc_next_event(struct mm_ct_doc *d, struct mm_arena *scratch, struct mm_event *ev,
			 uint64_t *line, uint64_t *offset, struct mm_err *err)
{
	const char *p, *end = d->end, *after = NULL, *saved_p = d->p;
	int saved_state = d->state, rc;
	struct mm_json_val v;
	struct mm_err scratch_err;

	if (d->state != DOC_FIRST && d->state != DOC_NEXT)
		goto slow;
	p = ws(d->p, end);
	if (d->state == DOC_NEXT) {
		if (p >= end || *p != ',')
			goto slow;
		p = ws(p + 1, end);
	}
	if (p >= end || *p != '{')
		goto slow;
	/* the records ahead are asked for while this one is parsed: a mapped
	 * document comes from memory a page at a time, where the hardware's
	 * prefetch stops, and the string scanner otherwise waits on it */
	{
		const char *q = d->pf > p ? d->pf : p,
			   *to = (size_t)(end - p) > CT_PREFETCH ? p + CT_PREFETCH : end;
		for (; q < to; q += 64)
			__builtin_prefetch(q);
		d->pf = q;
	}
	mm_arena_reset(scratch);
	if (parse_obj(p, p + MM_MIN((size_t)(end - p), (size_t)MM_CT_MAX_RECORD), scratch, ev,
		      &scratch_err, &after) == 0) {
		*line = line_at(d, p);
		*offset = (size_t)(p - d->buf);
		d->p = after;
		d->state = DOC_NEXT;
		return 1;
	}
slow:
	d->p = saved_p;
	d->state = saved_state;
	rc = mm_ct_doc_next(d, &v, line, offset, err);
	if (rc != 1)
		return rc;
	mm_arena_reset(scratch);
	rc = mm_ct_parse_value(&v, scratch, ev, err);
	return rc ? MM_EPARSE : 1;
}
