/* route53.c - Route 53 Resolver query log records into struct mm_dns.
 *
 * One pass over the record's top-level members with the on-demand
 * iterator, dispatching on key length then bytes; strings are slices of
 * the line unless they carry escapes. A CloudWatch Logs export wraps the
 * record as {"message":"<escaped json>",...}: the message is unescaped
 * into the scratch arena and parsed the same way (one level only). */
#include "parse/route53.h"

#include <string.h>

#include "core/ip.h"
#include "core/json.h"
#include "parse/jsonrec.h"

#define KEY MM__KEY	/* short: the dispatch below stays one line a key */

/* What one pass collects besides the event's own fields. */
struct dns_ctx {
	struct mm_json_val ts, msg;
	struct mm_str srcaddr;
	int have_ts, have_msg, have_name;
};

static MM_ALWAYS_INLINE int get_str(const struct mm_json_val *v, struct mm_arena *a,
				     struct mm_str *out, const char *name, struct mm_err *err)
{
	int rc = mm__json_str_field(v, a, out, name, err);
	if (rc)
		return rc;
	if (mm_str_absent(*out))	/* AWS writes "-" for "none" */
		*out = mm_str_make("", 0);
	return 0;
}

static int parse_srcids(const struct mm_json_val *obj, struct mm_arena *a, struct mm_dns *d,
			struct mm_err *err)
{
	struct mm_json_iter it;
	struct mm_str k;
	struct mm_json_val v;
	char kb[64];
	int rc;

	if (obj->type == MM_JSON_NULL)
		return 0;
	if (obj->type != MM_JSON_OBJECT)
		return mm_err_set(err, MM_EPARSE, "srcids: expected an object");
	mm_json_iter_init(&it, obj);
	while ((rc = mm_json_iter_next(&it, &k, &v)) == 1) {
		rc = 0;
		if (it.key_esc)	/* the key as a JSON reader reads it */
			k = mm__json_norm_key(k, kb, sizeof(kb));
		if (KEY(k, "instance"))
			rc = get_str(&v, a, &d->instance_id, "srcids.instance", err);
		else if (KEY(k, "resolver_endpoint"))
			rc = get_str(&v, a, &d->resource_id, "srcids.resolver_endpoint", err);
		else if (d->resource_id.n == 0 && v.type == MM_JSON_STRING)
			/* other source kinds (resolver_network_interface, outpost)
			 * name the resource when no endpoint does */
			rc = get_str(&v, a, &d->resource_id, "srcids", err);
		if (rc)
			return rc;
	}
	return rc ? mm_err_set(err, MM_EPARSE, "srcids: malformed JSON") : 0;
}

/* One top-level member: 0 handled, 1 not ours, negative on a bad value. */
static MM_ALWAYS_INLINE int field(struct mm_dns *d, struct mm_str k, const struct mm_json_val *v,
				   struct mm_arena *a, struct dns_ctx *c, struct mm_err *err)
{
	int64_t port;

	switch (k.n) {
	case 5:
		if (KEY(k, "rcode"))
			return get_str(v, a, &d->rcode, "rcode", err);
		break;
	case 6:
		if (KEY(k, "region"))
			return get_str(v, a, &d->region, "region", err);
		if (KEY(k, "vpc_id"))
			return get_str(v, a, &d->vpc_id, "vpc_id", err);
		if (KEY(k, "srcids"))
			return parse_srcids(v, a, d, err);
		break;
	case 7:
		if (KEY(k, "answers")) {
			if (v->type != MM_JSON_ARRAY && v->type != MM_JSON_NULL)
				return mm_err_set(err, MM_EPARSE, "answers: expected an array");
			if (v->type == MM_JSON_ARRAY)
				d->answers = mm_str_make(v->p, v->n);
			return 0;
		}
		if (KEY(k, "srcaddr"))
			return get_str(v, a, &c->srcaddr, "srcaddr", err);
		if (KEY(k, "srcport")) {
			/* a string ("48701") or a number; "" and "-" mean none */
			if (v->type == MM_JSON_NULL ||
			    (v->type == MM_JSON_STRING && (v->n == 2 || (v->n == 3 && v->p[1] == '-'))))
				return 0;
			if (mm_json_int(v, &port) || port < 0 || port > 65535)
				return mm_err_set(err, MM_EPARSE, "srcport: not a port number");
			d->sport = (uint16_t)port;
			return 0;
		}
		if (KEY(k, "message")) {
			c->msg = *v;
			c->have_msg = 1;
			return 0;
		}
		break;
	case 9:
		if (KEY(k, "transport"))
			return get_str(v, a, &d->transport, "transport", err);
		break;
	case 10:
		if (KEY(k, "account_id"))
			return get_str(v, a, &d->account, "account_id", err);
		if (KEY(k, "query_name")) {
			if (v->type != MM_JSON_STRING)
				return mm_err_set(err, MM_EPARSE, "query_name is not a string");
			c->have_name = 1;
			return get_str(v, a, &d->qname, "query_name", err);
		}
		if (KEY(k, "query_type"))
			return get_str(v, a, &d->qtype, "query_type", err);
		break;
	case 11:
		if (KEY(k, "query_class"))
			return get_str(v, a, &d->qclass, "query_class", err);
		break;
	case 15:
		if (KEY(k, "query_timestamp")) {
			c->ts = *v;
			c->have_ts = 1;
			return 0;
		}
		break;
	case 20:
		if (KEY(k, "firewall_rule_action"))
			return get_str(v, a, &d->firewall_action, "firewall_rule_action", err);
		break;
	default:
		break;
	}
	return 1;
}

/* field for a key written with escapes (rare): out of line, so field
 * is inlined once, into the loop over members */
static MM_NOINLINE int field_esc(struct mm_dns *d, struct mm_str k, const struct mm_json_val *v,
				 struct mm_arena *a, struct dns_ctx *c, struct mm_err *err)
{
	return field(d, k, v, a, c, err);
}

static int parse_rec(const char *p, const char *end, struct mm_arena *a, struct mm_event *ev,
		     int nested, struct mm_err *err)
{
	struct mm_dns *d = &ev->u.dns;
	struct mm_json_val obj, v;
	struct mm_json_iter it;
	struct mm_str k;
	struct dns_ctx c;
	char kb[64];
	int rc;

	memset(d, 0, sizeof(*d));
	memset(&c, 0, sizeof(c));
	ev->kind = MM_EV_DNS;
	p = mm__json_ws(p, end);
	if (p >= end || *p != '{')
		return mm_err_set(err, MM_EPARSE, "line is not a JSON object");
	obj.type = MM_JSON_OBJECT;
	obj.p = p;
	obj.n = (size_t)(end - p);
	mm_json_iter_init(&it, &obj);
	while ((rc = mm_json_iter_next(&it, &k, &v)) == 1) {
		rc = field(d, k, &v, a, &c, err);
		if (rc == 1 && it.key_esc)
			rc = field_esc(d, mm__json_norm_key(k, kb, sizeof(kb)), &v, a, &c, err);
		if (rc < 0)
			return rc;
	}
	if (rc)
		return mm_err_set(err, MM_EPARSE, "%s",
				  rc == MM_EDEPTH ? "nested too deeply" : "malformed JSON");
	if (mm__json_ws(it.p, end) < end)
		return mm_err_set(err, MM_EPARSE, "trailing bytes after the record");
	if (!c.have_name && !c.have_ts && c.have_msg && !nested) {
		struct mm_str m;
		if (c.msg.type != MM_JSON_STRING)
			return mm_err_set(err, MM_EPARSE, "message is not a string");
		if ((rc = mm__json_str_field(&c.msg, a, &m, "message", err)))
			return rc;
		return parse_rec(m.p, m.p + m.n, a, ev, 1, err);
	}
	if (!c.have_ts)
		return mm_err_set(err, MM_EPARSE, "missing query_timestamp");
	if (!c.have_name)
		return mm_err_set(err, MM_EPARSE, "missing query_name");
	if ((rc = mm__json_time_field(&c.ts, "query_timestamp", &d->time_ms, err)))
		return rc;
	if (c.srcaddr.n && mm_ip_parse(c.srcaddr.p, c.srcaddr.n, &d->src) == 0)
		d->has_src = 1;
	return 0;
}

int mm_dns_parse(const char *line, size_t n, struct mm_arena *scratch, struct mm_event *ev,
		 struct mm_err *err)
{
	if (n > MM_DNS_MAX_LINE)
		return mm_err_set(err, MM_EPARSE, "line longer than %u bytes", MM_DNS_MAX_LINE);
	return parse_rec(line, line + n, scratch, ev, 0, err);
}

int mm_dns_looks_like(const char *line, size_t n)
{
	size_t i = 0;
	const char *s;

	if (!line)
		return 0;
	if (n > MM_DNS_MAX_LINE)
		n = MM_DNS_MAX_LINE;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= n || line[i] != '{')
		return 0;
	s = line + i;
	n -= i;
	if (memmem(s, n, "\"query_name\"", 12) && memmem(s, n, "\"query_timestamp\"", 17))
		return 1;
	/* CloudWatch wrapping: the keys are escaped inside "message" */
	return memmem(s, n, "\"message\"", 9) && memmem(s, n, "\\\"query_name\\\"", 14) &&
	       memmem(s, n, "\\\"query_timestamp\\\"", 19);
}
