/* output.c - GuardDuty finding JSON and the finding printers.
 *
 * mm_finding_to_json writes exactly the shape AWS GuardDuty emits
 * (schemaVersion "2.0", camelCase, AWS's key order), so tools that read
 * GuardDuty findings read ours. The one addition is service.mamoriEvidence,
 * the records behind the finding (file, line, offset, time); GuardDuty
 * consumers ignore unknown keys.
 *
 * The writer appends to the caller's buffer through a small sticky-error
 * helper (struct jw): the first failed append stops all later ones and on
 * failure the buffer is cut back to where it was, so a caller never sees
 * half a finding. No allocation besides the buffer's own growth. */
#include "finding/output.h"

#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/mtime.h"

/* ---- sticky JSON writer ---- */

struct jw {
	struct mm_buf *b;
	int rc;
};

static void jw_raw(struct jw *w, const char *z)
{
	if (!w->rc)
		w->rc = mm_buf_addz(w->b, z);
}

static void jw_str(struct jw *w, const char *z)
{
	if (!w->rc)
		w->rc = mm_buf_json_strz(w->b, z);
}

/* ,"key": (leading comma unless first). Keys are our own constants,
 * plain ASCII: no escaping needed, one append. */
static void jw_key(struct jw *w, const char *key, int first)
{
	char tmp[64];
	size_t n = strlen(key);

	if (w->rc)
		return;
	if (n + 4 > sizeof(tmp)) {
		w->rc = MM_EINVAL;
		return;
	}
	tmp[0] = ',';
	tmp[1] = '"';
	memcpy(tmp + 2, key, n);
	tmp[n + 2] = '"';
	tmp[n + 3] = ':';
	w->rc = first ? mm_buf_add(w->b, tmp + 1, n + 3) : mm_buf_add(w->b, tmp, n + 4);
}

static void jw_kstr(struct jw *w, const char *key, const char *val, int first)
{
	jw_key(w, key, first);
	jw_str(w, val);
}

static void jw_kint(struct jw *w, const char *key, long long v, int first)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	/* by hand: printf is most of the writer's time otherwise */
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	jw_key(w, key, first);
	if (!w->rc)
		w->rc = mm_buf_add(w->b, tmp + i, sizeof(tmp) - i);
}

static void jw_kbool(struct jw *w, const char *key, int v, int first)
{
	jw_key(w, key, first);
	jw_raw(w, v ? "true" : "false");
}

static void jw_ktime(struct jw *w, const char *key, int64_t ms, int first)
{
	char t[MM_TIME_STRLEN];
	jw_kstr(w, key, mm_time_format_iso(ms, t), first);
}

/* ---- pieces ---- */

static const struct {
	uint16_t port;
	const char *name;
} port_names[] = {
	{20, "FTP-DATA"}, {21, "FTP"},	 {22, "SSH"},	    {23, "TELNET"},	{25, "SMTP"},
	{53, "DNS"},	  {80, "HTTP"},	 {110, "POP3"},	    {123, "NTP"},	{143, "IMAP"},
	{389, "LDAP"},	  {443, "HTTPS"}, {445, "SMB"},	    {465, "SMTPS"},	{587, "SMTP"},
	{993, "IMAPS"},	  {995, "POP3S"}, {1433, "MSSQL"},  {3306, "MYSQL"},	{3389, "RDP"},
	{5432, "POSTGRESQL"}, {6379, "REDIS"}, {6667, "IRC"}, {8080, "HTTP"},	{8443, "HTTPS"},
};

/* GuardDuty's portName for a port: a service name or "Unknown". */
static const char *port_name(uint16_t port)
{
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(port_names); i++)
		if (port_names[i].port == port)
			return port_names[i].name;
	return "Unknown";
}

/* Stable 32-hex detector id from (account, region): GuardDuty has one
 * detector per account and region; ours is derived so every run, on any
 * machine, names the same detector. */
static void detector_id(const struct mm_finding *f, char out[33])
{
	char key[80];
	int n = snprintf(key, sizeof(key), "%s/%s", f->account, f->region);

	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(key))
		n = sizeof(key) - 1;
	mm_hash_hex128(key, (size_t)n, 0x6465746563746f72ULL, out);	/* "detector" */
}

/* Value of a {token} in a title/description template, or NULL when the
 * token is not one we know (then it is copied literally). */
static const char *token_value(const struct mm_finding *f, const char *tok, size_t n, char *tmp,
			       size_t cap)
{
#define TOK(s) (n == sizeof(s) - 1 && memcmp(tok, s, n) == 0)
	if (TOK("instance"))
		return f->instance_id[0] ? f->instance_id
		       : f->eni[0]	  ? f->eni
		       : f->local_ip_key[0] ? f->local_ip_key
					    : "(unknown)";
	if (TOK("ip")) {
		if (!f->has_remote_ip)
			return "(unknown)";
		return cap >= MM_IP_STRLEN ? mm_ip_format(&f->remote_ip, tmp) : "";
	}
	if (TOK("port")) {
		snprintf(tmp, cap, "%u", (unsigned)f->remote_port);
		return tmp;
	}
	if (TOK("domain"))
		return f->domain;
	if (TOK("api"))
		return f->api;
	if (TOK("service"))
		return f->service_name;
	if (TOK("user"))
		return f->user_name[0] ? f->user_name : f->principal_id;
	if (TOK("key"))
		return f->access_key_id;
	if (TOK("list"))
		return f->threat_list;
#undef TOK
	return NULL;
}

/* Append the JSON string for template tpl with tokens substituted. */
static void jw_template(struct jw *w, const struct mm_finding *f, const char *tpl)
{
	const char *p = tpl, *run = tpl;
	char tmp[64];

	jw_raw(w, "\"");
	while (*p && !w->rc) {
		const char *close, *val;
		if (*p != '{') {
			p++;
			continue;
		}
		close = strchr(p + 1, '}');
		/* tokens are short words; anything else is literal text */
		if (!close || close - p > 16) {
			p++;
			continue;
		}
		val = token_value(f, p + 1, (size_t)(close - p - 1), tmp, sizeof(tmp));
		if (!val) {
			p++;
			continue;
		}
		w->rc = mm_buf_json_esc(w->b, run, (size_t)(p - run));
		if (!w->rc)
			w->rc = mm_buf_json_esc(w->b, val, strlen(val));
		p = close + 1;
		run = p;
	}
	if (!w->rc)
		w->rc = mm_buf_json_esc(w->b, run, strlen(run));
	jw_raw(w, "\"");
}

static void jw_ip(struct jw *w, const struct mm_ip *ip, int first)
{
	char t[MM_IP_STRLEN];
	jw_kstr(w, ip->v6 ? "ipAddressV6" : "ipAddressV4", mm_ip_format(ip, t), first);
}

/* remoteIpDetails: the address; organization, country, city and
 * geoLocation stay empty objects until an ASN/geo source fills them,
 * rather than invented values. */
static void jw_remote_ip(struct jw *w, const struct mm_finding *f, int first)
{
	jw_key(w, "remoteIpDetails", first);
	jw_raw(w, "{");
	if (f->has_remote_ip) {
		jw_ip(w, &f->remote_ip, 1);
		jw_raw(w, ",");
	}
	jw_raw(w, "\"organization\":{},\"country\":{},\"city\":{},\"geoLocation\":{}}");
}

static void jw_port(struct jw *w, const char *key, uint16_t port, int first)
{
	jw_key(w, key, first);
	jw_raw(w, "{");
	jw_kint(w, "port", port, 1);
	jw_kstr(w, "portName", port_name(port), 0);
	jw_raw(w, "}");
}

static void jw_resource(struct jw *w, const struct mm_finding *f, const struct mm_inventory *inv)
{
	const struct mm_instance *inst = NULL;

	jw_raw(w, "{");
	if (f->res_type == MM_RES_ACCESSKEY) {
		jw_kstr(w, "resourceType", "AccessKey", 1);
		jw_key(w, "accessKeyDetails", 0);
		jw_raw(w, "{");
		jw_kstr(w, "accessKeyId", f->access_key_id, 1);
		jw_kstr(w, "principalId", f->principal_id, 0);
		jw_kstr(w, "userName", f->user_name, 0);
		jw_kstr(w, "userType", f->user_type, 0);
		jw_raw(w, "}}");
		return;
	}
	jw_kstr(w, "resourceType", "Instance", 1);
	jw_key(w, "instanceDetails", 0);
	if (inv && f->instance_id[0])
		inst = mm_inventory_by_id(inv, f->instance_id, strlen(f->instance_id));
	if (inv && !inst && f->eni[0])
		inst = mm_inventory_by_eni(inv, f->eni, strlen(f->eni));
	if (inst || (!f->instance_id[0] && f->eni[0])) {
		if (!w->rc)
			w->rc = mm_instance_to_json(inst, f->eni[0] ? f->eni : NULL, w->b);
	} else {
		/* Not in the inventory: name what the logs told us. */
		int first = 1;
		jw_raw(w, "{");
		if (f->instance_id[0]) {
			jw_kstr(w, "instanceId", f->instance_id, 1);
			first = 0;
		}
		if (f->eni[0] || f->local_ip_key[0]) {
			jw_key(w, "networkInterfaces", first);
			jw_raw(w, "[{");
			if (f->eni[0])
				jw_kstr(w, "networkInterfaceId", f->eni, 1);
			if (f->local_ip_key[0])
				jw_kstr(w, "privateIpAddress", f->local_ip_key, !f->eni[0]);
			jw_raw(w, "}]");
		}
		jw_raw(w, "}");
	}
	jw_raw(w, "}");
}

static void jw_action(struct jw *w, const struct mm_finding *f)
{
	static const char *const dir[] = {"UNKNOWN", "INBOUND", "OUTBOUND"};

	jw_raw(w, "{");
	switch (f->action) {
	case MM_ACTION_NETWORK_CONNECTION:
		jw_kstr(w, "actionType", "NETWORK_CONNECTION", 1);
		jw_key(w, "networkConnectionAction", 0);
		jw_raw(w, "{");
		jw_kstr(w, "connectionDirection",
			(unsigned)f->direction < MM_ARRAY_LEN(dir) ? dir[f->direction] : "UNKNOWN", 1);
		jw_remote_ip(w, f, 0);
		jw_port(w, "remotePortDetails", f->remote_port, 0);
		jw_port(w, "localPortDetails", f->local_port, 0);
		if (f->has_local_ip) {
			jw_key(w, "localIpDetails", 0);
			jw_raw(w, "{");
			jw_ip(w, &f->local_ip, 1);
			jw_raw(w, "}");
		}
		jw_kstr(w, "protocol", f->protocol[0] ? f->protocol : "Unknown", 0);
		jw_kbool(w, "blocked", f->blocked, 0);
		jw_raw(w, "}");
		break;
	case MM_ACTION_DNS_REQUEST:
		jw_kstr(w, "actionType", "DNS_REQUEST", 1);
		jw_key(w, "dnsRequestAction", 0);
		jw_raw(w, "{");
		jw_kstr(w, "domain", f->domain, 1);
		jw_kstr(w, "protocol", f->protocol[0] ? f->protocol : "UDP", 0);
		jw_kbool(w, "blocked", f->blocked, 0);
		jw_raw(w, "}");
		break;
	case MM_ACTION_AWS_API_CALL:
	default:
		jw_kstr(w, "actionType", "AWS_API_CALL", 1);
		jw_key(w, "awsApiCallAction", 0);
		jw_raw(w, "{");
		jw_kstr(w, "api", f->api, 1);
		jw_kstr(w, "serviceName", f->service_name, 0);
		jw_kstr(w, "callerType", f->caller_type[0] ? f->caller_type : "Remote IP", 0);
		if (f->has_remote_ip)
			jw_remote_ip(w, f, 0);
		if (f->error_code[0])
			jw_kstr(w, "errorCode", f->error_code, 0);
		if (f->user_agent[0])
			jw_kstr(w, "userAgent", f->user_agent, 0);
		jw_raw(w, "}");
		break;
	}
	jw_raw(w, "}");
}

/* additionalInfo: GuardDuty repeats its members as a JSON string in
 * "value". We build that inner object in a bounded buffer, then write it
 * escaped; list and threat names are bounded by struct mm_finding. */
static void jw_additional(struct jw *w, const struct mm_finding *f)
{
	char mem[1024];
	struct mm_buf inner;
	int rc = 0;

	jw_raw(w, "{");
	if (f->threat_list[0]) {
		/* AWS's order: threatName, then threatListName */
		if (f->threat_name[0])
			jw_kstr(w, "threatName", f->threat_name, 1);
		jw_kstr(w, "threatListName", f->threat_list, !f->threat_name[0]);
		jw_raw(w, ",");
	}
	/* A fixed stack buffer, not mm_buf's heap: build by hand. */
	inner.p = mem;
	inner.cap = sizeof(mem);
	inner.len = 0;
	inner.max = sizeof(mem) - 1;
	mem[0] = '\0';
	if (f->threat_list[0]) {
		rc = mm_buf_addc(&inner, '{');
		if (!rc && f->threat_name[0]) {
			rc = mm_buf_addz(&inner, "\"threatName\":");
			if (!rc)
				rc = mm_buf_json_strz(&inner, f->threat_name);
			if (!rc)
				rc = mm_buf_addc(&inner, ',');
		}
		if (!rc)
			rc = mm_buf_addz(&inner, "\"threatListName\":");
		if (!rc)
			rc = mm_buf_json_strz(&inner, f->threat_list);
		if (!rc)
			rc = mm_buf_addc(&inner, '}');
	} else {
		rc = mm_buf_addz(&inner, "{}");
	}
	if (rc && !w->rc)
		w->rc = rc;
	jw_kstr(w, "value", mem, 1);
	jw_kstr(w, "type", "default", 0);
	jw_raw(w, "}");
}

static void jw_service(struct jw *w, const struct mm_finding *f, const char *det)
{
	int i;

	jw_raw(w, "{");
	jw_kstr(w, "serviceName", "guardduty", 1);
	jw_kstr(w, "detectorId", det, 0);
	jw_key(w, "action", 0);
	jw_action(w, f);
	jw_kstr(w, "resourceRole", f->role == MM_ROLE_TARGET ? "TARGET" : "ACTOR", 0);
	jw_key(w, "additionalInfo", 0);
	jw_additional(w, f);
	if (f->threat_list[0]) {
		jw_key(w, "evidence", 0);
		jw_raw(w, "{\"threatIntelligenceDetails\":[{");
		jw_key(w, "threatNames", 1);
		jw_raw(w, "[");
		if (f->threat_name[0])
			jw_str(w, f->threat_name);
		jw_raw(w, "]");
		jw_kstr(w, "threatListName", f->threat_list, 0);
		jw_raw(w, "}]}");
	}
	jw_key(w, "mamoriEvidence", 0);
	jw_raw(w, "[");
	for (i = 0; i < f->nevidence && i < MM_EVIDENCE_MAX; i++) {
		const struct mm_evidence *e = &f->ev[i];
		char t[MM_TIME_STRLEN];
		if (i)
			jw_raw(w, ",");
		jw_raw(w, "{");
		jw_key(w, "file", 1);
		if (!w->rc)
			w->rc = mm_buf_json_strz(w->b, e->file ? e->file : "");
		jw_kint(w, "line", (long long)e->line, 0);
		jw_kint(w, "offset", (long long)e->offset, 0);
		jw_kstr(w, "time", mm_time_format_iso(e->time_ms, t), 0);
		jw_raw(w, "}");
	}
	jw_raw(w, "]");
	jw_ktime(w, "eventFirstSeen", f->first_seen_ms, 0);
	jw_ktime(w, "eventLastSeen", f->last_seen_ms, 0);
	jw_kbool(w, "archived", f->archived, 0);
	jw_kint(w, "count", (long long)f->count, 0);
	jw_raw(w, "}");
}

int mm_finding_to_json(const struct mm_finding *f, const struct mm_inventory *inv,
		       struct mm_buf *out)
{
	const struct mm_ftype *ft = mm_ftype_get(f->type);
	struct jw w = {out, 0};
	size_t start = out->len;
	char det[33];

	detector_id(f, det);
	jw_raw(&w, "{");
	jw_kstr(&w, "schemaVersion", "2.0", 1);
	jw_kstr(&w, "accountId", f->account, 0);
	jw_kstr(&w, "region", f->region, 0);
	jw_kstr(&w, "partition", "aws", 0);
	jw_kstr(&w, "id", f->id, 0);
	jw_key(&w, "arn", 0);
	if (!w.rc)
		w.rc = mm_buf_addc(out, '"');
	/* account, region and id are plain words, but escape anyway */
	jw_raw(&w, "arn:aws:guardduty:");
	if (!w.rc)
		w.rc = mm_buf_json_esc(out, f->region, strlen(f->region));
	jw_raw(&w, ":");
	if (!w.rc)
		w.rc = mm_buf_json_esc(out, f->account, strlen(f->account));
	jw_raw(&w, ":detector/");
	jw_raw(&w, det);
	jw_raw(&w, "/finding/");
	if (!w.rc)
		w.rc = mm_buf_json_esc(out, f->id, strlen(f->id));
	jw_raw(&w, "\"");
	jw_kstr(&w, "type", f->type, 0);
	jw_key(&w, "resource", 0);
	jw_resource(&w, f, inv);
	jw_key(&w, "service", 0);
	jw_service(&w, f, det);
	jw_key(&w, "severity", 0);
	if (!w.rc)
		w.rc = mm_buf_printf(out, "%.10g", f->severity);	/* 8, not 8.0 */
	jw_ktime(&w, "createdAt", f->created_at_ms, 0);
	jw_ktime(&w, "updatedAt", f->updated_at_ms, 0);
	jw_key(&w, "title", 0);
	jw_template(&w, f, ft ? ft->title : f->type);
	jw_key(&w, "description", 0);
	jw_template(&w, f, ft ? ft->description : f->type);
	jw_raw(&w, "}");
	if (w.rc) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
	}
	return w.rc;
}

/* ---- printers ---- */

int mm_outfmt_parse(const char *word, enum mm_outfmt *out)
{
	if (!word)
		return MM_EINVAL;
	if (strcmp(word, "table") == 0)
		*out = MM_OUT_TABLE;
	else if (strcmp(word, "json") == 0 || strcmp(word, "jsonl") == 0)
		*out = MM_OUT_JSON;
	else if (strcmp(word, "guardduty") == 0)
		*out = MM_OUT_GUARDDUTY;
	else
		return MM_EINVAL;
	return 0;
}

#define COL_ID 12
#define COL_SEV 8
#define COL_RES 21
#define COL_COUNT 7

/* The TYPE column is as wide as the longest known type, so every row of
 * known types lines up while streaming; a longer (unknown) type is
 * printed whole and pushes only its own row. */
static int type_width(void)
{
	const struct mm_ftype *t = mm_ftype_all();
	size_t w = 4;
	for (; t && t->type; t++)
		if (strlen(t->type) > w)
			w = strlen(t->type);
	return (int)w;
}

static void table_header(struct mm_printer *p)
{
	fprintf(p->out, "%-*s  %-*s  %-*s  %-*s  %*s  %s\n", COL_ID, "ID", COL_SEV, "SEVERITY",
		type_width(), "TYPE", COL_RES, "RESOURCE", COL_COUNT, "COUNT", "LAST SEEN");
}

static const char *sev_color(double sev)
{
	if (sev >= 7.0)
		return "\033[1;31m";
	if (sev >= 4.0)
		return "\033[33m";
	return "\033[36m";
}

void mm_printer_begin(struct mm_printer *p, FILE *out, enum mm_outfmt fmt, int color)
{
	p->out = out;
	p->fmt = fmt;
	p->color = color;
	p->n = 0;
	if (fmt == MM_OUT_GUARDDUTY)
		fputs("{\"findings\":[", out);
}

int mm_printer_row(struct mm_printer *p, const struct mm_finding_row *row)
{
	char t[MM_TIME_STRLEN];
	const char *label;
	int rc = 0;

	switch (p->fmt) {
	case MM_OUT_JSON:
		if (fputs(row->json, p->out) == EOF || fputc('\n', p->out) == EOF)
			rc = MM_EIO;
		break;
	case MM_OUT_GUARDDUTY:
		if ((p->n && fputc(',', p->out) == EOF) || fputs(row->json, p->out) == EOF)
			rc = MM_EIO;
		break;
	case MM_OUT_TABLE:
	default:
		if (p->n == 0)
			table_header(p);
		label = mm_severity_label(row->severity);
		mm_time_format_iso(row->last_seen_ms, t);
		/* "2022-11-22T12:22:20.000Z" -> "2022-11-22T12:22:20Z" */
		if (strlen(t) == 24) {
			t[19] = 'Z';
			t[20] = '\0';
		}
		fprintf(p->out, "%-*.*s  ", COL_ID, COL_ID, row->id);
		if (p->color)
			fprintf(p->out, "%s%-*s\033[0m  ", sev_color(row->severity), COL_SEV, label);
		else
			fprintf(p->out, "%-*s  ", COL_SEV, label);
		if (fprintf(p->out, "%-*s  %-*s  %*llu  %s%s\n", type_width(), row->type, COL_RES,
			    row->resource, COL_COUNT, (unsigned long long)row->count, t,
			    row->archived ? " (archived)" : "") < 0)
			rc = MM_EIO;
		break;
	}
	p->n++;
	return rc;
}

void mm_printer_end(struct mm_printer *p)
{
	if (p->fmt == MM_OUT_GUARDDUTY)
		fputs("]}\n", p->out);
	else if (p->fmt == MM_OUT_TABLE && p->n == 0)
		fputs("No findings.\n", p->out);
	fflush(p->out);
}
