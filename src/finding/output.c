/* output.c - GuardDuty finding JSON and the output formats.
 *
 * mm_finding_to_json writes exactly the shape AWS GuardDuty emits
 * (schemaVersion "2.0", camelCase, AWS's key order), so tools that read
 * GuardDuty findings read ours. mamori's one addition is
 * service.additionalInfo.evidence, the records behind the finding (file,
 * line, offset, time): additionalInfo is GuardDuty's free-form member and
 * consumers ignore keys they do not know.
 *
 * Rendering is pure: the finding plus, optionally, the instanceDetails
 * JSON the caller looked up before (enrichment is not the renderer's job).
 *
 * The writer appends to the caller's buffer through a small sticky-error
 * helper (struct jw): the first failed append stops all later ones and on
 * failure the buffer is cut back to where it was, so a caller never sees
 * half a finding. Every string from outside goes through jw_esc, which
 * escapes control characters and replaces invalid UTF-8 with U+FFFD, so
 * a file name with odd bytes cannot make the line invalid JSON. No
 * allocation besides the buffer's own growth.
 *
 * The output formats are one table (formats[] below): a name and
 * begin/row/end hooks. Adding a format is one entry. */
#include "finding/output.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/common.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/mtime.h"
#include "detect/apitactic.h"

/* ---- sticky JSON writer ---- */

struct jw {
	struct mm_buf *b;
	int rc;
	const struct mm_geo *geo;	/* borrowed, may be NULL */
};

/* The writer's result; on failure the buffer is cut back to its length
 * at start, so a caller never sees half a document. */
static int jw_end(struct jw *w, size_t start)
{
	if (w->rc) {
		w->b->len = start;
		if (w->b->p)
			w->b->p[start] = '\0';
	}
	return w->rc;
}

static void jw_raw(struct jw *w, const char *z)
{
	if (!w->rc)
		w->rc = mm_buf_addz(w->b, z);
}

/* Length of the well-formed UTF-8 sequence at s (n bytes available, s[0]
 * >= 0x80), or 0 if it is not one (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t k, i;

	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4;
	else
		return 0;
	if (n < k)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < k; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return k;
}

/* The escape for byte c at u (n bytes available) into out (6 bytes
 * room): 0 when the bytes are written as they are, else the escape's
 * length, with *used the input bytes it stands for. ASCII as
 * mm_json_escape writes it (DEL kept as it is); a byte that does not
 * start well-formed UTF-8 becomes U+FFFD. */
static size_t esc_one(const unsigned char *u, size_t n, char *out, size_t *used)
{
	size_t k;

	*used = 1;
	if (u[0] == 0x7f)
		return 0;
	if (u[0] < 0x80)
		return mm_json_escape_ascii(u[0], out);
	if ((k = utf8_seq(u, n))) {
		*used = k;
		return 0;
	}
	memcpy(out, "\xef\xbf\xbd", 3);
	return 3;
}

/* Where the next byte at or after i that needs a look is (n if none). */
static size_t esc_next(const unsigned char *u, size_t i, size_t n)
{
	return i + mm_json_plain_len((const char *)u + i, n - i);
}

/* Append s[0..n) as the inside of a JSON string: ", \ and control
 * characters escaped as core/buf.c does, each byte that does not start a
 * well-formed UTF-8 sequence replaced by U+FFFD. When the buffer can take
 * the worst case (6 bytes a byte) the text is written straight into it;
 * else run by run, each append checked. */
static int esc(struct mm_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, used, e;
	char tmp[6];
	int rc = 0;

	if (n <= (b->max >> 3) && mm_buf_reserve(b, n * 6) == 0) {
		char *o = b->p + b->len;
		while ((i = esc_next(u, i, n)) < n) {
			memcpy(o, s + run, i - run);
			o += i - run;
			e = esc_one(u + i, n - i, o, &used);
			if (!e)
				memcpy(o, s + i, used);
			o += e ? e : used;
			i += used;
			run = i;
		}
		memcpy(o, s + run, n - run);
		o += n - run;
		b->len = (size_t)(o - b->p);
		b->p[b->len] = '\0';
		return 0;
	}
	while (!rc && (i = esc_next(u, i, n)) < n) {
		if (!(e = esc_one(u + i, n - i, tmp, &used))) {
			i += used; /* well-formed UTF-8: part of the run */
			continue;
		}
		rc = mm_buf_add(b, s + run, i - run);
		if (!rc)
			rc = mm_buf_add(b, tmp, e);
		i += used;
		run = i;
	}
	if (!rc)
		rc = mm_buf_add(b, s + run, n - run);
	return rc;
}

int mm_finding_json_text(struct mm_buf *b, const char *s, size_t n)
{
	return esc(b, s, n);
}

static void jw_esc(struct jw *w, const char *s, size_t n)
{
	if (!w->rc)
		w->rc = esc(w->b, s, n);
}

static void jw_str(struct jw *w, const char *z)
{
	jw_raw(w, "\"");
	jw_esc(w, z, strlen(z));
	jw_raw(w, "\"");
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

/* ---- domainWithSuffix ---- */

/* Two-label public suffixes common enough to matter; see output.h for
 * what this list is not. Sorted by nothing: it is short. */
static const char *const multi_suffixes[] = {
	"co.uk",  "org.uk", "ac.uk",  "gov.uk", "me.uk",  "net.uk", "ltd.uk", "plc.uk", "sch.uk",
	"com.au", "net.au", "org.au", "edu.au", "gov.au", "id.au",  "co.nz",  "net.nz", "org.nz",
	"govt.nz", "ac.nz", "co.jp",  "ne.jp",  "or.jp",  "ac.jp",  "go.jp",  "gr.jp",  "com.br",
	"net.br", "org.br", "gov.br", "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "com.hk",
	"net.hk", "org.hk", "com.tw", "net.tw", "org.tw", "com.sg", "net.sg", "org.sg", "com.my",
	"net.my", "co.in",  "net.in", "org.in", "gov.in", "firm.in", "co.za", "org.za", "co.kr",
	"or.kr",  "ne.kr",  "com.mx", "net.mx", "org.mx", "com.ar", "net.ar", "com.tr", "net.tr",
	"org.tr", "com.ua", "net.ua", "co.il",  "org.il", "com.pl", "net.pl", "co.id",  "or.id",
	"web.id", "com.vn", "net.vn", "com.ph", "net.ph", "com.pk", "com.ng", "com.eg", "com.sa",
	"com.co", "com.pe", "com.ve", "com.ec", "co.th",  "in.th",  "com.bd", "com.np", "co.ke",
	"com.ru", "net.ru", "org.ru", "com.es", "com.gr", "com.pt", "co.at",  "or.at",  "com.cy",
};

const char *mm_domain_with_suffix(const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), dots[3] = {0, 0, 0}, nd = 0, i, start = 0, len;

	if (!cap)
		return out;
	if (n && name[n - 1] == '.')
		n--;
	/* positions of the last three dots */
	for (i = n; i-- > 0;) {
		if (name[i] == '.') {
			dots[nd++] = i;
			if (nd == 3)
				break;
		}
	}
	if (nd >= 2) {
		/* last two labels: name[dots[1]+1 .. n) */
		size_t sl = n - dots[1] - 1, j;
		int multi = 0;
		for (j = 0; j < MM_ARRAY_LEN(multi_suffixes); j++) {
			const char *m = multi_suffixes[j];
			if (strlen(m) == sl && strncasecmp(name + dots[1] + 1, m, sl) == 0) {
				multi = 1;
				break;
			}
		}
		if (multi)
			start = nd == 3 ? dots[2] + 1 : 0;
		else
			start = dots[1] + 1;
	}
	len = n - start;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, name + start, len);
	out[len] = '\0';
	return out;
}

/* ---- templates ---- */

/* The subject of an Instance or Runtime finding as titles name it. */
static const char *instance_name(const struct mm_finding *f)
{
	return f->instance_id[0]    ? f->instance_id
	       : f->eni[0]	    ? f->eni
	       : f->local_ip_key[0] ? f->local_ip_key
	       : mm_finding_has_proc(f) && f->proc.host[0] ? f->proc.host
							   : "(unknown)";
}

/* Value of a {token} in a title/description template (finding/types.c
 * lists them), or NULL when the token is not one we know (then it is
 * copied literally). */
static const char *token_value(const struct mm_finding *f, const char *tok, size_t n, char *tmp,
			       size_t cap)
{
#define TOK(s) (n == sizeof(s) - 1 && memcmp(tok, s, n) == 0)
	if (TOK("instance"))
		return instance_name(f);
	if (TOK("ip")) {
		if (!f->has_remote_ip)
			return "(unknown)";
		return cap >= MM_IP_STRLEN ? mm_ip_format(&f->remote_ip, tmp) : "";
	}
	if (TOK("port")) {
		snprintf(tmp, cap, "%u", (unsigned)f->remote_port);
		return tmp;
	}
	if (TOK("lport")) {
		snprintf(tmp, cap, "%u", (unsigned)f->local_port);
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
	if (TOK("usertype"))
		return f->user_type[0] ? f->user_type : "IAMUser";
	if (TOK("list"))
		return f->threat_list;
	if (TOK("bucket"))
		return f->bucket_name;
	if (TOK("process"))
		return mm_finding_has_proc(f) ? f->proc.name : "";
	if (TOK("host"))
		return mm_finding_has_proc(f) ? f->proc.host : "";
	if (TOK("actor") || TOK("target")) {
		/* the instance is the actor in role ACTOR, else the remote is */
		if (TOK("actor") == (f->role == MM_ROLE_ACTOR))
			return instance_name(f);
		if (!f->has_remote_ip)
			return "(unknown)";
		return cap >= MM_IP_STRLEN ? mm_ip_format(&f->remote_ip, tmp) : "";
	}
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
		jw_esc(w, run, (size_t)(p - run));
		jw_esc(w, val, strlen(val));
		p = close + 1;
		run = p;
	}
	jw_esc(w, run, strlen(run));
	jw_raw(w, "\"");
}

/* ---- resource ---- */

static void jw_ip(struct jw *w, const struct mm_ip *ip, int first)
{
	char t[MM_IP_STRLEN];
	jw_kstr(w, ip->v6 ? "ipAddressV6" : "ipAddressV4", mm_ip_format(ip, t), first);
}

/* remoteIpDetails: the address, and from the geo data (when there is
 * any) who owns it: organization {asn, asnOrg, isp, org} and country
 * {countryCode, countryName}. What the data does not know is left out,
 * never written as an empty object. ip-location-db names only the AS's
 * organisation, so isp and org repeat asnOrg unless a MaxMind ISP
 * database (--geoip) names them (GuardDuty's come from such a one). */
static void jw_remote_ip(struct jw *w, const struct mm_ip *ip, int has, int first)
{
	struct mm_geo_info gi;
	unsigned found = has ? mm_geo_lookup(w->geo, ip, &gi) : 0;

	jw_key(w, "remoteIpDetails", first);
	jw_raw(w, "{");
	if (has)
		jw_ip(w, ip, 1);
	if (found & MM_GEO_ASN) {
		char asn[16];
		snprintf(asn, sizeof(asn), "%u", gi.asn);
		jw_key(w, "organization", 0);
		jw_raw(w, "{");
		jw_kstr(w, "asn", asn, 1);
		jw_kstr(w, "asnOrg", gi.as_org, 0);
		jw_kstr(w, "isp", gi.isp, 0);
		jw_kstr(w, "org", gi.org, 0);
		jw_raw(w, "}");
	}
	if (found & MM_GEO_COUNTRY) {
		const char *name = mm_geo_country_name(gi.cc);
		jw_key(w, "country", 0);
		jw_raw(w, "{");
		jw_kstr(w, "countryCode", gi.cc, 1);
		if (name)
			jw_kstr(w, "countryName", name, 0);
		jw_raw(w, "}");
	}
	jw_raw(w, "}");
}

static void jw_local_ip(struct jw *w, const struct mm_ip *ip, int first)
{
	jw_key(w, "localIpDetails", first);
	jw_raw(w, "{");
	jw_ip(w, ip, 1);
	jw_raw(w, "}");
}

static void jw_port(struct jw *w, const char *key, uint16_t port, int first)
{
	jw_key(w, key, first);
	jw_raw(w, "{");
	jw_kint(w, "port", port, 1);
	jw_kstr(w, "portName", port_name(port), 0);
	jw_raw(w, "}");
}

/* The caller's instanceDetails object, without an "instanceState":
 * "pending" member: that state comes from a RunInstances record and says
 * nothing about the instance now. The object is mm_instance_to_json's,
 * compact, so the member is matched as text. */
static void jw_instance_json(struct jw *w, const char *js)
{
	static const char pend[] = "\"instanceState\":\"pending\"";
	const char *p = strstr(js, pend);
	size_t n = sizeof(pend) - 1;

	if (!p) {
		jw_raw(w, js);
		return;
	}
	if (p > js && p[-1] == ',') {
		p--;
		n++;
	} else if (p[n] == ',') {
		n++;
	}
	if (!w->rc)
		w->rc = mm_buf_add(w->b, js, (size_t)(p - js));
	jw_raw(w, p + n);
}

/* instanceDetails from what the logs told: instance id, interface,
 * asking address. */
static void jw_instance_from_logs(struct jw *w, const struct mm_finding *f)
{
	int first = 1;

	if (!f->instance_id[0] && f->eni[0]) {
		/* the shape mm_instance_to_json gives an interface alone */
		jw_raw(w, "{\"networkInterfaces\":[{");
		jw_kstr(w, "networkInterfaceId", f->eni, 1);
		jw_raw(w, "}]}");
		return;
	}
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

static void jw_access_key(struct jw *w, const struct mm_finding *f, int first)
{
	jw_key(w, "accessKeyDetails", first);
	jw_raw(w, "{");
	jw_kstr(w, "accessKeyId", f->access_key_id, 1);
	jw_kstr(w, "principalId", f->principal_id, 0);
	jw_kstr(w, "userName", f->user_name, 0);
	jw_kstr(w, "userType", f->user_type, 0);
	jw_raw(w, "}");
}

static void jw_resource(struct jw *w, const struct mm_finding *f, const char *inst_json)
{
	jw_raw(w, "{");
	if (mm_finding_has_seq(f)) {
		/* GuardDuty: the type only; who and what are in the sequence */
		jw_kstr(w, "resourceType", "AttackSequence", 1);
		jw_raw(w, "}");
		return;
	}
	switch (f->res_type) {
	case MM_RES_ACCESSKEY:
		jw_kstr(w, "resourceType", "AccessKey", 1);
		jw_access_key(w, f, 0);
		break;
	case MM_RES_S3BUCKET:
		/* GuardDuty: the caller's key, then the bucket(s) */
		jw_kstr(w, "resourceType", "S3Bucket", 1);
		if (f->access_key_id[0] || f->principal_id[0])
			jw_access_key(w, f, 0);
		jw_key(w, "s3BucketDetails", 0);
		jw_raw(w, "[{\"arn\":\"arn:aws:s3:::");
		jw_esc(w, f->bucket_name, strlen(f->bucket_name));
		jw_raw(w, "\"");
		jw_kstr(w, "name", f->bucket_name, 0);
		jw_kstr(w, "type", "Destination", 0);
		jw_raw(w, "}]");
		break;
	case MM_RES_RUNTIME:	/* an Instance; the process goes in service.runtimeDetails */
	case MM_RES_INSTANCE:
	default:
		jw_kstr(w, "resourceType", "Instance", 1);
		jw_key(w, "instanceDetails", 0);
		if (inst_json && inst_json[0] == '{')
			jw_instance_json(w, inst_json);
		else
			jw_instance_from_logs(w, f);
		break;
	}
	jw_raw(w, "}");
}

/* ---- service ---- */

static void jw_action(struct jw *w, const struct mm_finding *f)
{
	static const char *const dir[] = {"UNKNOWN", "INBOUND", "OUTBOUND"};
	char dws[256];
	int i;

	jw_raw(w, "{");
	switch (f->action) {
	case MM_ACTION_NETWORK_CONNECTION:
		jw_kstr(w, "actionType", "NETWORK_CONNECTION", 1);
		jw_key(w, "networkConnectionAction", 0);
		jw_raw(w, "{");
		jw_kstr(w, "connectionDirection",
			(unsigned)f->direction < MM_ARRAY_LEN(dir) ? dir[f->direction] : "UNKNOWN", 1);
		jw_remote_ip(w, &f->remote_ip, f->has_remote_ip, 0);
		jw_port(w, "remotePortDetails", f->remote_port, 0);
		jw_port(w, "localPortDetails", f->local_port, 0);
		if (f->has_local_ip)
			jw_local_ip(w, &f->local_ip, 0);
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
		jw_kstr(w, "domainWithSuffix", mm_domain_with_suffix(f->domain, dws, sizeof(dws)), 0);
		jw_raw(w, "}");
		break;
	case MM_ACTION_PORT_PROBE:
		jw_kstr(w, "actionType", "PORT_PROBE", 1);
		jw_key(w, "portProbeAction", 0);
		jw_raw(w, "{\"portProbeDetails\":[");
		if (f->nprobes <= 0) {
			/* one probe: the finding's own ports and addresses */
			jw_raw(w, "{");
			jw_port(w, "localPortDetails", f->local_port, 1);
			if (f->has_local_ip)
				jw_local_ip(w, &f->local_ip, 0);
			jw_remote_ip(w, &f->remote_ip, f->has_remote_ip, 0);
			jw_raw(w, "}");
		}
		for (i = 0; i < f->nprobes && i < MM_PROBES_MAX; i++) {
			const struct mm_port_probe *pp = &f->probes[i];
			jw_raw(w, i ? ",{" : "{");
			jw_port(w, "localPortDetails", pp->local_port, 1);
			if (pp->has_local_ip)
				jw_local_ip(w, &pp->local_ip, 0);
			jw_remote_ip(w, &pp->remote_ip, pp->has_remote_ip, 0);
			jw_raw(w, "}");
		}
		jw_raw(w, "]");
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
			jw_remote_ip(w, &f->remote_ip, 1, 0);
		if (f->error_code[0])
			jw_kstr(w, "errorCode", f->error_code, 0);
		if (f->user_agent[0])
			jw_kstr(w, "userAgent", f->user_agent, 0);
		jw_raw(w, "}");
		break;
	}
	jw_raw(w, "}");
}

/* Floor division to whole seconds (apiCalls times are epoch seconds). */
static long long secs(int64_t ms)
{
	return (long long)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
}

/* additionalInfo's GuardDuty members, without braces, into w. */
static void jw_additional_members(struct jw *w, const struct mm_finding *f)
{
	int first = 1, i;

	if (f->threat_list[0]) {
		/* AWS's order: threatName, then threatListName */
		if (f->threat_name[0]) {
			jw_kstr(w, "threatName", f->threat_name, first);
			first = 0;
		}
		jw_kstr(w, "threatListName", f->threat_list, first);
		first = 0;
	}
	if (mm_finding_has_apis(f) && f->napis > 0) {
		jw_key(w, "apiCalls", first);
		first = 0;
		jw_raw(w, "[");
		for (i = 0; i < f->napis && i < MM_API_CALLS_MAX; i++) {
			const struct mm_api_call *a = &f->apis[i];
			jw_raw(w, i ? ",{" : "{");
			jw_kstr(w, "name", a->name, 1);
			jw_kint(w, "count", (long long)a->count, 0);
			jw_kint(w, "firstSeen", secs(a->first_ms), 0);
			jw_kint(w, "lastSeen", secs(a->last_ms), 0);
			jw_raw(w, "}");
		}
		jw_raw(w, "]");
	}
	if (mm_finding_has_proc(f) && f->proc.host[0]) {
		jw_kstr(w, "hostName", f->proc.host, first);
		first = 0;
	}
	if (f->info[0]) {
		if (!first)
			jw_raw(w, ",");
		jw_raw(w, f->info);
	}
}

/* The records behind the finding: [{"file","line","offset","time"}].
 * The path is printed as stored: the scan decides relative or not. */
static void jw_evidence(struct jw *w, const struct mm_finding *f)
{
	int i;

	jw_raw(w, "[");
	for (i = 0; i < f->nevidence && i < MM_EVIDENCE_MAX; i++) {
		const struct mm_evidence *e = &f->ev[i];
		jw_raw(w, i ? ",{" : "{");
		jw_kstr(w, "file", e->file ? e->file : "", 1);
		jw_kint(w, "line", (long long)e->line, 0);
		jw_kint(w, "offset", (long long)e->offset, 0);
		jw_ktime(w, "time", e->time_ms, 0);
		jw_raw(w, "}");
	}
	jw_raw(w, "]");
}

/* additionalInfo: GuardDuty's members, our evidence, then "value" (the
 * members again as one JSON string, as GuardDuty writes it; the evidence
 * is not repeated there) and "type". The members are built once in a
 * bounded stack buffer: their sizes are bounded by struct mm_finding. */
static void jw_additional(struct jw *w, const struct mm_finding *f)
{
	char mem[4096];
	struct mm_buf inner;
	struct jw iw;

	inner.p = mem;
	inner.cap = sizeof(mem);
	inner.len = 0;
	inner.max = sizeof(mem) - 1;	/* never grows: TOOBIG, not realloc */
	mem[0] = '\0';
	iw.b = &inner;
	iw.rc = 0;
	jw_additional_members(&iw, f);
	if (iw.rc && !w->rc)
		w->rc = iw.rc;

	jw_raw(w, "{");
	jw_raw(w, mem);
	jw_key(w, "evidence", inner.len == 0);
	jw_evidence(w, f);
	jw_key(w, "value", 0);
	jw_raw(w, "\"{");
	jw_esc(w, mem, inner.len);
	jw_raw(w, "}\"");
	jw_kstr(w, "type", "default", 0);
	jw_raw(w, "}");
}

/* runtimeDetails for a Runtime finding: the process as GuardDuty's
 * Runtime Monitoring names it; the parent as the first lineage entry. */
static void jw_runtime(struct jw *w, const struct mm_finding *f)
{
	const struct mm_process *pr = &f->proc;
	size_t ln = strnlen(pr->lineage, sizeof(pr->lineage));

	jw_raw(w, "{\"process\":{");
	jw_kstr(w, "name", pr->name, 1);
	jw_kstr(w, "executablePath", pr->exe, 0);
	{
		static const uint8_t zero[sizeof(pr->sha256)];
		if (memcmp(pr->sha256, zero, sizeof(zero)) != 0) {
			char hex[2 * sizeof(pr->sha256) + 1];
			size_t i;
			for (i = 0; i < sizeof(pr->sha256); i++)
				snprintf(hex + 2 * i, 3, "%02x", pr->sha256[i]);
			jw_kstr(w, "executableSha256", hex, 0);
		}
	}
	if (pr->pid > 0)
		jw_kint(w, "pid", (long long)pr->pid, 0);
	if (pr->start_ms > 0)
		jw_ktime(w, "startTime", pr->start_ms, 0);
	if (pr->user[0])
		jw_kstr(w, "user", pr->user, 0);
	if (ln) {
		/* "pid:name;..." (or the agent's "pid:name:exe;...", nearest
		 * parent first) as GuardDuty's lineage objects; an entry cut
		 * short by the array keeps what it has */
		const char *p = pr->lineage, *end = pr->lineage + ln;
		int first = 1;
		jw_key(w, "lineage", 0);
		jw_raw(w, "[");
		while (p < end) {
			const char *e = memchr(p, ';', (size_t)(end - p));
			const char *c1, *c2;
			long long pid = 0;
			if (!e)
				e = end;
			c1 = memchr(p, ':', (size_t)(e - p));
			c2 = c1 ? memchr(c1 + 1, ':', (size_t)(e - c1 - 1)) : NULL;
			for (const char *q = p; c1 && q < c1 && *q >= '0' && *q <= '9' && pid < 100000000000LL; q++)
				pid = pid * 10 + (*q - '0');
			if (c1 && pid > 0) {
				jw_raw(w, first ? "{" : ",{");
				first = 0;
				jw_kint(w, "pid", pid, 1);
				jw_key(w, "name", 0);
				jw_raw(w, "\"");
				jw_esc(w, c1 + 1, (size_t)((c2 ? c2 : e) - c1 - 1));
				jw_raw(w, "\"");
				if (c2) {
					jw_key(w, "executablePath", 0);
					jw_raw(w, "\"");
					jw_esc(w, c2 + 1, (size_t)(e - c2 - 1));
					jw_raw(w, "\"");
				}
				jw_raw(w, "}");
			}
			p = e + 1;
		}
		jw_raw(w, "]");
	} else if (pr->ppid > 0) {
		jw_key(w, "lineage", 0);
		jw_raw(w, "[{");
		jw_kint(w, "pid", (long long)pr->ppid, 1);
		jw_raw(w, "}]");
	}
	jw_raw(w, "}");
	if (pr->cmdline[0]) {
		jw_key(w, "context", 0);
		jw_raw(w, "{");
		jw_kstr(w, "commandLineExample", pr->cmdline, 1);
		jw_raw(w, "}");
	}
	jw_raw(w, "}");
}

/* ---- attack sequence (service.detection.sequence) ---- */

/* A fixed-size string of the sequence (a hostile stored blob may lack
 * its NUL): at most cap bytes; key NULL: an array element. */
static void jw_kfix(struct jw *w, const char *key, const char *p, size_t cap, int first)
{
	if (key)
		jw_key(w, key, first);
	else if (!first)
		jw_raw(w, ",");
	jw_raw(w, "\"");
	jw_esc(w, p, strnlen(p, cap));
	jw_raw(w, "\"");
}

/* ATT&CK's name of a tactic: "DefenseEvasion" -> "Defense Evasion". */
static void jw_tactic(struct jw *w, unsigned t)
{
	const char *z = t < MM_TAC__N ? mm_tactic_name((enum mm_tactic)t) : "";
	char out[40];
	size_t k = 0;

	for (; *z && k < sizeof(out) - 2; z++) {
		if (k && *z >= 'A' && *z <= 'Z')
			out[k++] = ' ';
		out[k++] = *z;
	}
	out[k] = '\0';
	jw_str(w, out);
}

/* The principal as the sequence's actor id: user name, else principal id. */
static const char *seq_actor(const struct mm_finding *f)
{
	return f->user_name[0] ? f->user_name : f->principal_id;
}

static void jw_signal(struct jw *w, const struct mm_finding *f, const struct mm_seq_signal *g,
		      int first)
{
	const struct mm_ftype *ft;
	char ip[MM_IP_STRLEN];

	jw_raw(w, first ? "{" : ",{");
	if (g->kind == MM_SEQ_FINDING) {
		jw_kfix(w, "uid", g->name, sizeof(g->name), 1);
		jw_kstr(w, "type", "FINDING", 0);
		ft = mm_ftype_by_hash(g->thash);
		jw_kstr(w, "name", ft ? ft->type : "", 0);
	} else {
		jw_key(w, "uid", 1);
		jw_raw(w, "\"");
		jw_esc(w, g->name, strnlen(g->name, sizeof(g->name)));
		jw_raw(w, "@");
		jw_esc(w, f->id, strlen(f->id));
		jw_raw(w, "\"");
		jw_kstr(w, "type", "CLOUD_TRAIL", 0);
		jw_kfix(w, "name", g->name, sizeof(g->name), 0);
	}
	jw_ktime(w, "createdAt", g->first_ms, 0);
	jw_ktime(w, "updatedAt", g->last_ms, 0);
	jw_ktime(w, "firstSeenAt", g->first_ms, 0);
	jw_ktime(w, "lastSeenAt", g->last_ms, 0);
	if (g->kind == MM_SEQ_FINDING) {
		jw_key(w, "severity", 0);
		if (!w->rc)
			w->rc = mm_buf_printf(w->b, "%.10g", g->sev10 / 10.0);
	}
	jw_kint(w, "count", (long long)g->count, 0);
	jw_key(w, "resourceUids", 0);
	jw_raw(w, "[");
	if (f->seq.cred[0])
		jw_kfix(w, NULL, f->seq.cred, sizeof(f->seq.cred), 1);
	jw_raw(w, "]");
	jw_key(w, "actorIds", 0);
	jw_raw(w, "[");
	jw_str(w, seq_actor(f));
	jw_raw(w, "]");
	if (f->has_remote_ip) {
		jw_key(w, "endpointIds", 0);
		jw_raw(w, "[");
		jw_str(w, mm_ip_format(&f->remote_ip, ip));
		jw_raw(w, "]");
	}
	jw_key(w, "signalIndicators", 0);
	jw_raw(w, "[{\"key\":\"ATTACK_TACTIC\",\"values\":[");
	jw_tactic(w, g->tactic);
	jw_raw(w, "]}");
	if (g->kind == MM_SEQ_API && g->tactic != MM_TAC_DISCOVERY) {
		jw_raw(w, ",{\"key\":\"HIGH_RISK_API\",\"values\":[");
		jw_kfix(w, NULL, g->name, sizeof(g->name), 1);
		jw_raw(w, "]}");
	}
	jw_raw(w, "]}");
}

/* detection.sequence from f->seq: GuardDuty's Sequence object (uid,
 * description, actors, resources, endpoints, signals, sequenceIndicators). */
static void jw_sequence(struct jw *w, const struct mm_finding *f)
{
	const struct mm_seq *q = &f->seq;
	const char *utype = f->user_type[0] ? f->user_type : "IAMUser";
	unsigned seen = 0;
	int i, n = q->nsig < MM_SEQ_SIGNALS_MAX ? q->nsig : MM_SEQ_SIGNALS_MAX, any;
	char ip[MM_IP_STRLEN];

	jw_raw(w, "{");
	jw_kstr(w, "uid", f->id, 1);
	jw_key(w, "description", 0);
	jw_raw(w, "\"A sequence of actions involving multiple signals indicating a possible "
		  "credential compromise was observed for ");
	jw_esc(w, utype, strlen(utype));
	jw_raw(w, "/");
	jw_esc(w, seq_actor(f), strlen(seq_actor(f)));
	jw_raw(w, ".\"");
	/* the actor: the principal the story is about */
	jw_key(w, "actors", 0);
	jw_raw(w, "[{");
	jw_kstr(w, "id", seq_actor(f), 1);
	jw_key(w, "user", 0);
	jw_raw(w, "{");
	jw_kstr(w, "name", f->user_name, 1);
	jw_kstr(w, "uid", f->principal_id, 0);
	jw_kstr(w, "type", f->user_type, 0);
	if (q->cred[0])
		jw_kfix(w, "credentialUid", q->cred, sizeof(q->cred), 0);
	jw_kstr(w, "account", f->account, 0);
	jw_raw(w, "}}]");
	/* the resource: the credential it used last */
	jw_key(w, "resources", 0);
	jw_raw(w, "[");
	if (q->cred[0]) {
		jw_raw(w, "{");
		jw_kfix(w, "uid", q->cred, sizeof(q->cred), 1);
		jw_kfix(w, "name", q->cred, sizeof(q->cred), 0);
		jw_kstr(w, "accountId", f->account, 0);
		jw_kstr(w, "resourceType", "ACCESS_KEY", 0);
		jw_kstr(w, "region", f->region, 0);
		jw_kstr(w, "service", "IAM", 0);
		jw_raw(w, "}");
	}
	jw_raw(w, "]");
	jw_key(w, "endpoints", 0);
	jw_raw(w, "[");
	if (f->has_remote_ip) {
		jw_raw(w, "{");
		jw_kstr(w, "id", mm_ip_format(&f->remote_ip, ip), 1);
		jw_kstr(w, "ip", ip, 0);
		jw_raw(w, "}");
	}
	jw_raw(w, "]");
	jw_key(w, "signals", 0);
	jw_raw(w, "[");
	for (i = 0; i < n; i++)
		jw_signal(w, f, &q->sig[i], i == 0);
	jw_raw(w, "]");
	/* the tactics in the order the story reached them, then the
	 * non-discovery APIs */
	jw_key(w, "sequenceIndicators", 0);
	jw_raw(w, "[{\"key\":\"ATTACK_TACTIC\",\"values\":[");
	for (i = 0, any = 0; i < n; i++) {
		unsigned t = q->sig[i].tactic;
		if (t >= MM_TAC__N || t == MM_TAC_NONE || (seen & (1u << t)))
			continue;
		seen |= 1u << t;
		if (any++)
			jw_raw(w, ",");
		jw_tactic(w, t);
	}
	jw_raw(w, "]}");
	for (i = 0, any = 0; i < n; i++) {
		const struct mm_seq_signal *g = &q->sig[i];
		if (g->kind != MM_SEQ_API || g->tactic == MM_TAC_DISCOVERY)
			continue;
		jw_raw(w, any++ ? "," : ",{\"key\":\"HIGH_RISK_API\",\"values\":[");
		jw_kfix(w, NULL, g->name, sizeof(g->name), 1);
	}
	if (any)
		jw_raw(w, "]}");
	jw_raw(w, "]}");
}

static void jw_service(struct jw *w, const struct mm_finding *f, const char *det)
{
	jw_raw(w, "{");
	jw_kstr(w, "serviceName", "guardduty", 1);
	if (f->res_type == MM_RES_RUNTIME)
		jw_kstr(w, "featureName", "RuntimeMonitoring", 0);
	if (mm_finding_has_seq(f))
		jw_kstr(w, "featureName", "Correlation", 0);
	jw_kstr(w, "detectorId", det, 0);
	if (mm_finding_has_seq(f)) {
		/* a sequence has no action of its own: its signals have */
		jw_key(w, "detection", 0);
		jw_raw(w, "{\"sequence\":");
		jw_sequence(w, f);
		jw_raw(w, "}");
	} else if (f->res_type != MM_RES_RUNTIME || f->has_remote_ip) {
		/* a Runtime finding about a process or a file alone has no
		 * action: its runtimeDetails say what happened */
		jw_key(w, "action", 0);
		jw_action(w, f);
	}
	if (f->res_type == MM_RES_RUNTIME) {
		jw_key(w, "runtimeDetails", 0);
		jw_runtime(w, f);
	}
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
	jw_ktime(w, "eventFirstSeen", f->first_seen_ms, 0);
	jw_ktime(w, "eventLastSeen", f->last_seen_ms, 0);
	jw_kbool(w, "archived", f->archived, 0);
	jw_kint(w, "count", (long long)f->count, 0);
	jw_raw(w, "}");
}

int mm_finding_to_json(const struct mm_finding *f, const char *instance_details_json,
		       struct mm_buf *out)
{
	return mm_finding_to_json_geo(f, instance_details_json, NULL, out);
}

int mm_finding_to_json_geo(const struct mm_finding *f, const char *instance_details_json,
			   const struct mm_geo *geo, struct mm_buf *out)
{
	const struct mm_ftype *ft = mm_ftype_get(f->type);
	struct jw w = {out, 0, geo};
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
	/* account, region and id are plain words, but escape anyway */
	jw_raw(&w, "\"arn:aws:guardduty:");
	jw_esc(&w, f->region, strlen(f->region));
	jw_raw(&w, ":");
	jw_esc(&w, f->account, strlen(f->account));
	jw_raw(&w, ":detector/");
	jw_raw(&w, det);
	jw_raw(&w, "/finding/");
	jw_esc(&w, f->id, strlen(f->id));
	jw_raw(&w, "\"");
	jw_kstr(&w, "type", f->type, 0);
	jw_key(&w, "resource", 0);
	jw_resource(&w, f, instance_details_json);
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
	return jw_end(&w, start);
}

/* ---- EventBridge ---- */

/* The inside of a JSON string value that holds plain text (no escapes),
 * copied to buf of cap bytes; 0 or MM_EINVAL. */
static int plain_str(const struct mm_json_val *v, char *buf, size_t cap)
{
	if (v->type != MM_JSON_STRING || v->n < 2 || v->n - 2 >= cap ||
	    memchr(v->p, '\\', v->n))
		return MM_EINVAL;
	memcpy(buf, v->p + 1, v->n - 2);
	buf[v->n - 2] = '\0';
	return 0;
}

int mm_eventbridge_event(const char *finding_json, struct mm_buf *out)
{
	struct mm_json_val doc, acct, region, id, upd;
	struct jw w = {out, 0, NULL};
	size_t start = out->len, used;
	char key[160], hex[33], uuid[37], idz[100], t[MM_TIME_STRLEN];
	int kn;

	if (mm_json_value(finding_json, strlen(finding_json), &doc, &used) != 0 ||
	    doc.type != MM_JSON_OBJECT || mm_json_get(&doc, "accountId", &acct) != 1 ||
	    acct.type != MM_JSON_STRING || mm_json_get(&doc, "region", &region) != 1 ||
	    region.type != MM_JSON_STRING || mm_json_get(&doc, "id", &id) != 1 ||
	    mm_json_get(&doc, "updatedAt", &upd) != 1 || plain_str(&id, idz, sizeof(idz)) ||
	    plain_str(&upd, t, sizeof(t)))
		return MM_EINVAL;
	/* a UUID-shaped id, stable for (finding id, update time) */
	kn = snprintf(key, sizeof(key), "%s|%s", idz, t);
	if (kn < 0)
		kn = 0;
	if ((size_t)kn >= sizeof(key))
		kn = sizeof(key) - 1;
	mm_hash_hex128(key, (size_t)kn, 0x6576656e74627573ULL, hex);	/* "eventbus" */
	snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
	/* EventBridge times are to the second:
	 * "2022-11-22T12:22:20.934Z" -> "2022-11-22T12:22:20Z" */
	if (strlen(t) == 24 && t[19] == '.') {
		t[19] = 'Z';
		t[20] = '\0';
	}
	jw_raw(&w, "{\"version\":\"0\"");
	jw_kstr(&w, "id", uuid, 0);
	jw_kstr(&w, "detail-type", "GuardDuty Finding", 0);
	jw_kstr(&w, "source", "aws.guardduty", 0);
	/* account and region: already JSON strings in the finding */
	jw_key(&w, "account", 0);
	if (!w.rc)
		w.rc = mm_buf_add(out, acct.p, acct.n);
	jw_kstr(&w, "time", t, 0);
	jw_key(&w, "region", 0);
	if (!w.rc)
		w.rc = mm_buf_add(out, region.p, region.n);
	jw_raw(&w, ",\"resources\":[]");
	jw_key(&w, "detail", 0);
	if (!w.rc)
		w.rc = mm_buf_add(out, doc.p, doc.n);
	jw_raw(&w, "}");
	return jw_end(&w, start);
}

/* ---- output formats ---- */

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

static const char *sev_color(double sev)
{
	if (sev >= 7.0)
		return "\033[1;31m";
	if (sev >= 4.0)
		return "\033[33m";
	return "\033[36m";
}

static int table_row(struct mm_printer *p, const struct mm_finding_row *row)
{
	char t[MM_TIME_STRLEN];
	const char *label = mm_severity_label(row->severity);

	if (p->n == 0)
		fprintf(p->out, "%-*s  %-*s  %-*s  %-*s  %*s  %s\n", COL_ID, "ID", COL_SEV,
			"SEVERITY", type_width(), "TYPE", COL_RES, "RESOURCE", COL_COUNT, "COUNT",
			"LAST SEEN");
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
		return MM_EIO;
	return 0;
}

static void table_end(struct mm_printer *p)
{
	if (p->n == 0)
		fputs("No findings.\n", p->out);
}

static int jsonl_row(struct mm_printer *p, const struct mm_finding_row *row)
{
	if (fputs(row->json, p->out) == EOF || fputc('\n', p->out) == EOF)
		return MM_EIO;
	return 0;
}

static void guardduty_begin(struct mm_printer *p)
{
	fputs("{\"findings\":[", p->out);
}

static int guardduty_row(struct mm_printer *p, const struct mm_finding_row *row)
{
	if ((p->n && fputc(',', p->out) == EOF) || fputs(row->json, p->out) == EOF)
		return MM_EIO;
	return 0;
}

static void guardduty_end(struct mm_printer *p)
{
	fputs("]}\n", p->out);
}

/* Output is not a hot path: one buffer per event is fine. */
static int eventbridge_row(struct mm_printer *p, const struct mm_finding_row *row)
{
	struct mm_buf b;
	int rc;

	mm_buf_init(&b, (size_t)64 << 20);
	rc = mm_eventbridge_event(row->json, &b);
	if (!rc && (fputs(b.p, p->out) == EOF || fputc('\n', p->out) == EOF))
		rc = MM_EIO;
	mm_buf_free(&b);
	return rc;
}

/* The formats: one entry each. An alias (another name for a format) has
 * alias set and is left out of mm_outfmt_names. Hooks may be NULL. */
static const struct outfmt_def {
	const char *name;
	enum mm_outfmt fmt;
	int alias;
	void (*begin)(struct mm_printer *p);
	int (*row)(struct mm_printer *p, const struct mm_finding_row *row);
	void (*end)(struct mm_printer *p);
} formats[] = {
	{"table", MM_OUT_TABLE, 0, NULL, table_row, table_end},
	{"json", MM_OUT_JSON, 0, NULL, jsonl_row, NULL},
	{"jsonl", MM_OUT_JSON, 1, NULL, jsonl_row, NULL},
	{"guardduty", MM_OUT_GUARDDUTY, 0, guardduty_begin, guardduty_row, guardduty_end},
	{"eventbridge", MM_OUT_EVENTBRIDGE, 0, NULL, eventbridge_row, NULL},
};

/* The entry for fmt; an unknown value prints as a table. */
static const struct outfmt_def *outfmt_def(enum mm_outfmt fmt)
{
	size_t i;
	for (i = 0; i < MM_ARRAY_LEN(formats); i++)
		if (formats[i].fmt == fmt)
			return &formats[i];
	return &formats[0];
}

int mm_outfmt_parse(const char *word, enum mm_outfmt *out)
{
	size_t i;

	if (!word)
		return MM_EINVAL;
	for (i = 0; i < MM_ARRAY_LEN(formats); i++) {
		if (strcmp(word, formats[i].name) == 0) {
			*out = formats[i].fmt;
			return 0;
		}
	}
	return MM_EINVAL;
}

const char *mm_outfmt_names(void)
{
	static char names[256];
	size_t i, n = 0;

	if (names[0])
		return names;
	for (i = 0; i < MM_ARRAY_LEN(formats); i++) {
		int k;
		if (formats[i].alias)
			continue;
		k = snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "", formats[i].name);
		if (k < 0 || (size_t)k >= sizeof(names) - n)
			break;
		n += (size_t)k;
	}
	return names;
}

void mm_printer_begin(struct mm_printer *p, FILE *out, enum mm_outfmt fmt, int color)
{
	const struct outfmt_def *d = outfmt_def(fmt);

	p->out = out;
	p->fmt = d->fmt;
	p->color = color;
	p->n = 0;
	if (d->begin)
		d->begin(p);
}

int mm_printer_row(struct mm_printer *p, const struct mm_finding_row *row)
{
	int rc = outfmt_def(p->fmt)->row(p, row);
	p->n++;
	return rc;
}

void mm_printer_end(struct mm_printer *p)
{
	const struct outfmt_def *d = outfmt_def(p->fmt);
	if (d->end)
		d->end(p);
	fflush(p->out);
}
