/* flowlog.c - VPC Flow Logs parser: the hottest path in mamori.
 *
 * One pass over the bytes splits the line into at most MM_FLOW_MAX_FIELDS
 * slices; a second, tiny pass over those slices dispatches on the field id
 * of each column (from the header, or from AWS's documented all-fields
 * order chosen by the field count). Integers and IPv4 addresses are parsed
 * by hand; nothing allocates. Everything the event keeps is a slice of
 * the caller's line (or of the scratch arena, for a CloudWatch message
 * that needed unescaping). See docs/internals/flowlog.md. */
#include "parse/flowlog.h"

#include <string.h>

#include "core/json.h"

/* Field ids. VPC ids 1..40 are numbered in AWS's all-fields order, so the
 * headerless layout for a field count k is simply ids 1..k. */
enum {
	F_OTHER = 0,	/* never produced: every name has an id */
	F_VERSION, F_ACCOUNT, F_ENI, F_SRCADDR, F_DSTADDR, F_SRCPORT, F_DSTPORT,
	F_PROTOCOL, F_PACKETS, F_BYTES, F_START, F_END, F_ACTION, F_LOGSTATUS,
	/* v3 */
	F_VPC, F_SUBNET, F_INSTANCE, F_TCPFLAGS, F_TYPE, F_PKTSRC, F_PKTDST,
	/* v4 */
	F_REGION, F_AZ, F_SUBLOC_TYPE, F_SUBLOC_ID,
	/* v5 */
	F_PKTSRC_SVC, F_PKTDST_SVC, F_FDIR, F_TPATH,
	/* v7 (ECS) */
	F_ECS_CLUSTER_ARN, F_ECS_CLUSTER_NAME, F_ECS_CI_ARN, F_ECS_CI_ID, F_ECS_CONTAINER_ID,
	F_ECS_CONTAINER2_ID, F_ECS_SERVICE, F_ECS_TASKDEF_ARN, F_ECS_TASK_ARN, F_ECS_TASK_ID,
	/* v8 */
	F_REJECT_REASON,
	/* Transit Gateway only */
	F_RESOURCE_TYPE, F_TGW_ID, F_TGW_ATTACH, F_TGW_SRC_VPC_ACCOUNT, F_TGW_DST_VPC_ACCOUNT,
	F_TGW_SRC_VPC, F_TGW_DST_VPC, F_TGW_SRC_SUBNET, F_TGW_DST_SUBNET, F_TGW_SRC_ENI,
	F_TGW_DST_ENI, F_TGW_SRC_AZ, F_TGW_DST_AZ, F_TGW_PAIR_ATTACH, F_LOST_NOROUTE,
	F_LOST_BLACKHOLE, F_LOST_MTU, F_LOST_TTL,
	F__COUNT
};

/* Duplicate detection uses a 64-bit mask. */
_Static_assert(F__COUNT <= 64, "field ids must fit a uint64_t mask");
_Static_assert(F__COUNT <= 256, "field ids must fit uint8_t");

static const char *const fnames[F__COUNT] = {
	[F_OTHER] = "",
	[F_VERSION] = "version",
	[F_ACCOUNT] = "account-id",
	[F_ENI] = "interface-id",
	[F_SRCADDR] = "srcaddr",
	[F_DSTADDR] = "dstaddr",
	[F_SRCPORT] = "srcport",
	[F_DSTPORT] = "dstport",
	[F_PROTOCOL] = "protocol",
	[F_PACKETS] = "packets",
	[F_BYTES] = "bytes",
	[F_START] = "start",
	[F_END] = "end",
	[F_ACTION] = "action",
	[F_LOGSTATUS] = "log-status",
	[F_VPC] = "vpc-id",
	[F_SUBNET] = "subnet-id",
	[F_INSTANCE] = "instance-id",
	[F_TCPFLAGS] = "tcp-flags",
	[F_TYPE] = "type",
	[F_PKTSRC] = "pkt-srcaddr",
	[F_PKTDST] = "pkt-dstaddr",
	[F_REGION] = "region",
	[F_AZ] = "az-id",
	[F_SUBLOC_TYPE] = "sublocation-type",
	[F_SUBLOC_ID] = "sublocation-id",
	[F_PKTSRC_SVC] = "pkt-src-aws-service",
	[F_PKTDST_SVC] = "pkt-dst-aws-service",
	[F_FDIR] = "flow-direction",
	[F_TPATH] = "traffic-path",
	[F_ECS_CLUSTER_ARN] = "ecs-cluster-arn",
	[F_ECS_CLUSTER_NAME] = "ecs-cluster-name",
	[F_ECS_CI_ARN] = "ecs-container-instance-arn",
	[F_ECS_CI_ID] = "ecs-container-instance-id",
	[F_ECS_CONTAINER_ID] = "ecs-container-id",
	[F_ECS_CONTAINER2_ID] = "ecs-second-container-id",
	[F_ECS_SERVICE] = "ecs-service-name",
	[F_ECS_TASKDEF_ARN] = "ecs-task-definition-arn",
	[F_ECS_TASK_ARN] = "ecs-task-arn",
	[F_ECS_TASK_ID] = "ecs-task-id",
	[F_REJECT_REASON] = "reject-reason",
	[F_RESOURCE_TYPE] = "resource-type",
	[F_TGW_ID] = "tgw-id",
	[F_TGW_ATTACH] = "tgw-attachment-id",
	[F_TGW_SRC_VPC_ACCOUNT] = "tgw-src-vpc-account-id",
	[F_TGW_DST_VPC_ACCOUNT] = "tgw-dst-vpc-account-id",
	[F_TGW_SRC_VPC] = "tgw-src-vpc-id",
	[F_TGW_DST_VPC] = "tgw-dst-vpc-id",
	[F_TGW_SRC_SUBNET] = "tgw-src-subnet-id",
	[F_TGW_DST_SUBNET] = "tgw-dst-subnet-id",
	[F_TGW_SRC_ENI] = "tgw-src-eni",
	[F_TGW_DST_ENI] = "tgw-dst-eni",
	[F_TGW_SRC_AZ] = "tgw-src-az-id",
	[F_TGW_DST_AZ] = "tgw-dst-az-id",
	[F_TGW_PAIR_ATTACH] = "tgw-pair-attachment-id",
	[F_LOST_NOROUTE] = "packets-lost-no-route",
	[F_LOST_BLACKHOLE] = "packets-lost-blackhole",
	[F_LOST_MTU] = "packets-lost-mtu-exceeded",
	[F_LOST_TTL] = "packets-lost-ttl-expired",
};

/* AWS's all-fields order for VPC flow logs (v2..v8): ids 1..40. */
static const uint8_t vpc_all[40] = {
	1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
	21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
};
_Static_assert(F_REJECT_REASON == 40, "vpc_all assumes ids 1..40 in AWS order");

/* Transit Gateway flow logs' default format (36 fields). */
#define TGW_NFIELDS 36
static const uint8_t tgw_default[TGW_NFIELDS] = {
	F_VERSION, F_RESOURCE_TYPE, F_ACCOUNT, F_TGW_ID, F_TGW_ATTACH,
	F_TGW_SRC_VPC_ACCOUNT, F_TGW_DST_VPC_ACCOUNT, F_TGW_SRC_VPC, F_TGW_DST_VPC,
	F_TGW_SRC_SUBNET, F_TGW_DST_SUBNET, F_TGW_SRC_ENI, F_TGW_DST_ENI, F_TGW_SRC_AZ,
	F_TGW_DST_AZ, F_TGW_PAIR_ATTACH, F_SRCADDR, F_DSTADDR, F_SRCPORT, F_DSTPORT,
	F_PROTOCOL, F_PACKETS, F_BYTES, F_START, F_END, F_LOGSTATUS, F_TYPE,
	F_LOST_NOROUTE, F_LOST_BLACKHOLE, F_LOST_MTU, F_LOST_TTL, F_TCPFLAGS, F_REGION,
	F_FDIR, F_PKTSRC_SVC, F_PKTDST_SVC,
};

/* A split line: borrowed slices into the caller's bytes. */
struct fields {
	int n;
	const char *p[MM_FLOW_MAX_FIELDS];
	uint32_t len[MM_FLOW_MAX_FIELDS];
};

/* Separators are blanks and every other control byte (CR, LF, NUL...):
 * one compare per byte, and a control byte inside a field could never be
 * part of a valid value anyway. */
static inline int is_sp(char c)
{
	return (unsigned char)c <= ' ';
}

/* Trim surrounding whitespace in place. */
static void trim(const char **pp, size_t *pn)
{
	const char *p = *pp;
	size_t n = *pn;
	while (n && is_sp(*p)) {
		p++;
		n--;
	}
	while (n && is_sp(p[n - 1]))
		n--;
	*pp = p;
	*pn = n;
}

/* First separator at or after p, or end. Eight bytes at a time on
 * little-endian machines: (x - 0x21..) & ~x & 0x80.. flags bytes below
 * 0x21; a borrow can only create false flags ABOVE a true one, so the
 * lowest flag is exact. memchr loses here: fields average under 10 bytes
 * and it finds only one byte value. */
static inline const char *field_end(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - p >= 8) {
		uint64_t x, m;
		memcpy(&x, p, 8);
		m = (x - 0x2121212121212121ULL) & ~x & 0x8080808080808080ULL;
		if (m)
			return p + (__builtin_ctzll(m) >> 3);
		p += 8;
	}
#endif
	while (p < end && !is_sp(*p))
		p++;
	return p;
}

/* Split on runs of separators. Returns 0, or -1 when there are more than
 * MM_FLOW_MAX_FIELDS fields (f->n is then MM_FLOW_MAX_FIELDS). */
static int split(const char *p, size_t n, struct fields *f)
{
	const char *end = p + n, *s;
	int nf = 0;

	for (;;) {
		while (p < end && is_sp(*p))
			p++;
		if (p == end)
			break;
		if (MM_UNLIKELY(nf == MM_FLOW_MAX_FIELDS)) {
			f->n = nf;
			return -1;
		}
		s = p;
		p = field_end(p, end);
		f->p[nf] = s;
		f->len[nf] = (uint32_t)(p - s);
		nf++;
	}
	f->n = nf;
	return 0;
}

/* Field name (accepting the "${name}" form copied from AWS docs) -> id, or
 * -1. Only header lines come here, so a linear scan is fine. */
static int field_id(const char *p, size_t n)
{
	int i;
	if (n > 3 && p[0] == '$' && p[1] == '{' && p[n - 1] == '}') {
		p += 2;
		n -= 3;
	}
	for (i = 1; i < F__COUNT; i++)
		if (strlen(fnames[i]) == n && memcmp(fnames[i], p, n) == 0)
			return i;
	return -1;
}

static inline int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Could this token start a header line? Record values never equal a field
 * name in practice (see the design note for the one theoretical case). */
static int looks_like_name(const char *p, size_t n)
{
	return n && (is_alpha(p[0]) || p[0] == '$') && field_id(p, n) >= 0;
}

/* Copy at most 64 bytes of v into out for an error message, replacing
 * control and non-ASCII bytes so hostile input cannot drive a terminal. */
static const char *show(char out[72], const char *v, size_t n)
{
	size_t i, k = n > 64 ? 64 : n;
	for (i = 0; i < k; i++) {
		unsigned char c = (unsigned char)v[i];
		out[i] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	if (n > k) {
		out[k++] = '.';
		out[k++] = '.';
		out[k++] = '.';
	}
	out[k] = '\0';
	return out;
}

static int bad_field(struct mm_err *err, int id, const char *v, size_t n)
{
	char buf[72];
	return mm_err_set(err, MM_EPARSE, "bad %s '%s'", fnames[id], show(buf, v, n));
}

/* Build fmt from split header tokens; fmt is untouched on failure. */
static int fmt_from_fields(struct mm_flow_fmt *fmt, const struct fields *f, struct mm_err *err)
{
	struct mm_flow_fmt tmp;
	uint64_t seen = 0;
	char buf[72];
	int i;

	memset(&tmp, 0, sizeof(tmp));
	if (f->n == 0)
		return mm_err_set(err, MM_EPARSE, "empty flow log header");
	for (i = 0; i < f->n; i++) {
		int id = field_id(f->p[i], f->len[i]);
		if (id < 0)
			return mm_err_set(err, MM_EPARSE, "unknown flow log field '%s'",
					  show(buf, f->p[i], f->len[i]));
		if (seen & ((uint64_t)1 << id))
			return mm_err_set(err, MM_EPARSE, "duplicate flow log field '%s'",
					  fnames[id]);
		seen |= (uint64_t)1 << id;
		if (id >= F_RESOURCE_TYPE)
			tmp.tgw = 1;
		tmp.field[i] = (uint8_t)id;
	}
	tmp.nfields = f->n;
	*fmt = tmp;
	return 0;
}

int mm_flow_fmt_header(struct mm_flow_fmt *fmt, const char *line, size_t n, struct mm_err *err)
{
	struct fields f;

	if (n > MM_FLOW_MAX_LINE)
		return mm_err_set(err, MM_EPARSE, "flow log header longer than %d bytes",
				  MM_FLOW_MAX_LINE);
	trim(&line, &n);
	if (split(line, n, &f))
		return mm_err_set(err, MM_EPARSE, "flow log header has more than %d fields",
				  MM_FLOW_MAX_FIELDS);
	return fmt_from_fields(fmt, &f, err);
}

void mm_flow_fmt_auto(struct mm_flow_fmt *fmt)
{
	memset(fmt, 0, sizeof(*fmt));
}

/* Unsigned decimal, at most max. Leading zeros are allowed (AWS never
 * writes them, but they are harmless). 0 or -1. */
static inline int parse_u64(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (MM_UNLIKELY(n == 0 || n > 20))
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)p[i] - '0';
		if (MM_UNLIKELY(d > 9))
			return -1;
		/* only a 20-digit number can overflow */
		if (MM_UNLIKELY(i == 19) && v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Dotted-quad fast path; anything else (IPv6, odd forms) goes to
 * mm_ip_parse, which also gives the final verdict on bad input. The event
 * was zeroed, so only v6 and b[0..3] need writing. */
static inline int parse_ip(const char *p, size_t n, struct mm_ip *ip)
{
	unsigned part = 0, v = 0, digits = 0;
	uint8_t b[4];
	size_t i;

	if (n < 7 || n > 15)
		return mm_ip_parse(p, n, ip);
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)p[i] - '0';
		if (d <= 9) {
			v = v * 10 + d;
			if (++digits > 3 || v > 255)
				return mm_ip_parse(p, n, ip);
		} else if (p[i] == '.' && digits && part < 3) {
			b[part++] = (uint8_t)v;
			v = 0;
			digits = 0;
		} else {
			return mm_ip_parse(p, n, ip);
		}
	}
	if (part != 3 || !digits)
		return mm_ip_parse(p, n, ip);
	b[3] = (uint8_t)v;
	ip->v6 = 0;
	memcpy(ip->b, b, 4);
	return 0;
}

static inline int eq(const char *p, size_t n, const char *lit, size_t litn)
{
	return n == litn && memcmp(p, lit, n) == 0;
}
#define EQ(p, n, lit) eq((p), (n), lit, sizeof(lit) - 1)

/* Fill ev->u.flow from split fields laid out as ids[0..f->n). */
static int fill(const uint8_t *ids, const struct fields *f, struct mm_event *ev,
		struct mm_err *err)
{
	struct mm_flow *fl = &ev->u.flow;
	struct mm_str tgw_eni = MM_STR_NULL, tgw_vpc = MM_STR_NULL;
	struct mm_str tgw_subnet = MM_STR_NULL, tgw_az = MM_STR_NULL;
	unsigned have = 0;	/* bit 0 src, 1 dst, 2 sport, 3 dport, 4 pkt src, 5 pkt dst */
	uint64_t u;
	int i;

	ev->kind = MM_EV_FLOW;
	memset(fl, 0, sizeof(*fl));
	fl->tcp_flags = -1;

	for (i = 0; i < f->n; i++) {
		const char *v = f->p[i];
		size_t n = f->len[i];
		int id = ids[i];

		if (n == 1 && v[0] == '-')
			continue;	/* absent: the zeroed defaults stand */
		switch (id) {
		case F_VERSION:
			if (parse_u64(v, n, 255, &u))
				return bad_field(err, id, v, n);
			fl->version = (uint8_t)u;
			break;
		case F_ACCOUNT:
			fl->account = mm_str_make(v, n);
			break;
		case F_ENI:
			fl->eni = mm_str_make(v, n);
			break;
		case F_SRCADDR:
			if (parse_ip(v, n, &fl->src))
				return bad_field(err, id, v, n);
			have |= 1;
			break;
		case F_DSTADDR:
			if (parse_ip(v, n, &fl->dst))
				return bad_field(err, id, v, n);
			have |= 2;
			break;
		case F_SRCPORT:
			if (parse_u64(v, n, 65535, &u))
				return bad_field(err, id, v, n);
			fl->sport = (uint16_t)u;
			have |= 4;
			break;
		case F_DSTPORT:
			if (parse_u64(v, n, 65535, &u))
				return bad_field(err, id, v, n);
			fl->dport = (uint16_t)u;
			have |= 8;
			break;
		case F_PROTOCOL:
			if (parse_u64(v, n, 255, &u))
				return bad_field(err, id, v, n);
			fl->proto = (uint8_t)u;
			break;
		case F_PACKETS:
			if (parse_u64(v, n, UINT64_MAX, &fl->packets))
				return bad_field(err, id, v, n);
			break;
		case F_BYTES:
			if (parse_u64(v, n, UINT64_MAX, &fl->bytes))
				return bad_field(err, id, v, n);
			break;
		case F_START:
			if (parse_u64(v, n, MM_FLOW_MAX_TIME, &u))
				return bad_field(err, id, v, n);
			fl->start = (int64_t)u;
			break;
		case F_END:
			if (parse_u64(v, n, MM_FLOW_MAX_TIME, &u))
				return bad_field(err, id, v, n);
			fl->end = (int64_t)u;
			break;
		case F_ACTION:
			if (EQ(v, n, "ACCEPT"))
				fl->action = MM_ACT_ACCEPT;
			else if (EQ(v, n, "REJECT"))
				fl->action = MM_ACT_REJECT;
			else
				return bad_field(err, id, v, n);
			break;
		case F_LOGSTATUS:
			if (EQ(v, n, "OK"))
				fl->status = MM_LOGST_OK;
			else if (EQ(v, n, "NODATA"))
				fl->status = MM_LOGST_NODATA;
			else if (EQ(v, n, "SKIPDATA"))
				fl->status = MM_LOGST_SKIPDATA;
			else
				return bad_field(err, id, v, n);
			break;
		case F_VPC:
			fl->vpc_id = mm_str_make(v, n);
			break;
		case F_SUBNET:
			fl->subnet_id = mm_str_make(v, n);
			break;
		case F_INSTANCE:
			fl->instance_id = mm_str_make(v, n);
			break;
		case F_TCPFLAGS:
			/* a bitmask; AWS logs the OR of the 8-bit flags */
			if (parse_u64(v, n, 65535, &u))
				return bad_field(err, id, v, n);
			fl->tcp_flags = (int)u;
			break;
		case F_PKTSRC:
			if (parse_ip(v, n, &fl->pkt_src))
				return bad_field(err, id, v, n);
			have |= 16;
			break;
		case F_PKTDST:
			if (parse_ip(v, n, &fl->pkt_dst))
				return bad_field(err, id, v, n);
			have |= 32;
			break;
		case F_REGION:
			fl->region = mm_str_make(v, n);
			break;
		case F_AZ:
			fl->az_id = mm_str_make(v, n);
			break;
		case F_PKTSRC_SVC:
			fl->pkt_src_service = mm_str_make(v, n);
			break;
		case F_PKTDST_SVC:
			fl->pkt_dst_service = mm_str_make(v, n);
			break;
		case F_FDIR:
			if (EQ(v, n, "ingress"))
				fl->fdir = MM_FDIR_INGRESS;
			else if (EQ(v, n, "egress"))
				fl->fdir = MM_FDIR_EGRESS;
			else
				return bad_field(err, id, v, n);
			break;
		case F_TPATH:
			if (parse_u64(v, n, 255, &u))
				return bad_field(err, id, v, n);
			fl->traffic_path = (uint8_t)u;
			break;
		case F_ECS_CLUSTER_NAME:
			fl->ecs_cluster_name = mm_str_make(v, n);
			break;
		case F_ECS_TASK_ID:
			fl->ecs_task_id = mm_str_make(v, n);
			break;
		case F_REJECT_REASON:
			fl->reject_reason = mm_str_make(v, n);
			break;
		case F_TGW_SRC_ENI:
			tgw_eni = mm_str_make(v, n);
			break;
		case F_TGW_SRC_VPC:
			tgw_vpc = mm_str_make(v, n);
			break;
		case F_TGW_SRC_SUBNET:
			tgw_subnet = mm_str_make(v, n);
			break;
		case F_TGW_SRC_AZ:
			tgw_az = mm_str_make(v, n);
			break;
		case F_LOST_NOROUTE:
		case F_LOST_BLACKHOLE:
		case F_LOST_MTU:
		case F_LOST_TTL:
			if (parse_u64(v, n, UINT64_MAX, &u))
				return bad_field(err, id, v, n);
			break;
		default:
			/* known but not kept: type, sublocation-*, other ECS/TGW ids */
			break;
		}
	}
	/* Transit Gateway records name the source side's ENI/VPC/subnet/AZ;
	 * they stand in for the VPC fields so enrichment finds an owner. */
	if (!fl->eni.n)
		fl->eni = tgw_eni;
	if (!fl->vpc_id.n)
		fl->vpc_id = tgw_vpc;
	if (!fl->subnet_id.n)
		fl->subnet_id = tgw_subnet;
	if (!fl->az_id.n)
		fl->az_id = tgw_az;
	fl->has_addrs = (have & 3) == 3;
	fl->has_ports = (have & 12) == 12;
	fl->has_pkt_addrs = (have & 48) == 48;
	return 0;
}

static inline int starts(const char *p, size_t n, const char *lit, size_t litn)
{
	return n >= litn && memcmp(p, lit, litn) == 0;
}
#define STARTS(p, n, lit) starts((p), (n), lit, sizeof(lit) - 1)

/* Headerless layout by field count, or NULL. */
static const uint8_t *auto_layout(const struct fields *f)
{
	switch (f->n) {
	case 14:
	case 21:
	case 25:
	case 29:
	case 39:
	case 40:
		return vpc_all;
	case TGW_NFIELDS:
		/* resource-type is "-" or a word (TransitGateway, VPC...),
		 * then account-id and a tgw- id */
		if (STARTS(f->p[3], f->len[3], "tgw-") ||
		    (f->len[3] == 1 && f->p[3][0] == '-'))
			return tgw_default;
		return NULL;
	default:
		return NULL;
	}
}

static int parse_line(struct mm_flow_fmt *fmt, const char *line, size_t n,
		      struct mm_arena *scratch, struct mm_event *ev, struct mm_err *err,
		      int depth);

/* CloudWatch Logs export: {"message":"<flow line>", ...}. */
static int parse_wrapped(struct mm_flow_fmt *fmt, const char *line, size_t n,
			 struct mm_arena *scratch, struct mm_event *ev, struct mm_err *err)
{
	struct mm_json_val root, msg;
	struct mm_arena none;
	struct mm_str s;
	size_t used;
	int rc;

	rc = mm_json_value(line, n, &root, &used);
	if (rc || root.type != MM_JSON_OBJECT)
		return mm_err_set(err, MM_EPARSE, "bad CloudWatch wrapper: not a JSON object");
	while (used < n && is_sp(line[used]))
		used++;
	if (used != n)
		return mm_err_set(err, MM_EPARSE, "bad CloudWatch wrapper: data after the object");
	rc = mm_json_get(&root, "message", &msg);
	if (rc < 0)
		return mm_err_set(err, MM_EPARSE, "bad CloudWatch wrapper: malformed JSON");
	if (rc == 0)
		return mm_err_set(err, MM_EPARSE, "CloudWatch wrapper has no \"message\"");
	if (msg.type != MM_JSON_STRING)
		return mm_err_set(err, MM_EPARSE, "CloudWatch \"message\" is not a string");
	if (!scratch) {
		/* no arena: only escape-free messages (the usual case) work */
		mm_arena_init(&none, NULL, 0);
		scratch = &none;
	}
	rc = mm_json_str(&msg, scratch, &s);
	if (rc == MM_ETOOBIG)
		return mm_err_set(err, MM_EPARSE, "CloudWatch \"message\" too big for scratch");
	if (rc)
		return mm_err_set(err, MM_EPARSE, "bad CloudWatch \"message\" string");
	return parse_line(fmt, s.p, s.n, scratch, ev, err, 1);
}

/* ---- fast path: the default version 2 layout ------------------------
 *
 * Most flow logs use AWS's default 14-field format. For those lines one
 * fused pass reads each field while finding its end, instead of
 * splitting the line first and parsing the pieces after. Anything it does
 * not expect (IPv6, tabs, several spaces, a bad value) makes it give up
 * and the general path parses the line and gives the error, so both
 * paths accept exactly the same lines with the same results.
 *
 * Numbers are read eight bytes at a time (count the leading digits of a
 * word, then convert them with three multiplies), addresses by an
 * unrolled dotted-quad reader, and "ACCEPT OK" / "REJECT OK" by one
 * compare. Each of these hands anything unusual (a '-', a line's last
 * bytes, 16+ digits) to a byte-at-a-time version with the same contract. */

/* Digits up to the next single space (or the end): 0 ok, 1 "-", -1 not
 * for the fast path. Byte at a time: the tail of a line, "-", and
 * whatever the word-at-a-time version below does not take. */
static int fnum_slow(const char **pp, const char *end, uint64_t max, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int nd = 0;

	if (p < end && *p == '-' && (p + 1 == end || p[1] == ' ')) {
		*pp = p + 1 < end ? p + 2 : p + 1;
		return 1;
	}
	while (p < end) {
		unsigned d = (unsigned)(unsigned char)*p - '0';
		if (d > 9)
			break;
		v = v * 10 + d;
		p++;
		if (++nd > 18)
			return -1; /* long numbers: the general path checks overflow */
	}
	if (!nd || v > max || (p < end && *p != ' '))
		return -1;
	*out = v;
	*pp = p < end ? p + 1 : p;
	return 0;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline uint64_t load8(const char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
	return x;
}

/* How many of the eight bytes of x (first byte lowest) are ASCII digits
 * before the first one that is not (8: all are). A byte is a digit iff its
 * high nibble is 3 and adding 6 keeps it 3; the carry of +6 out of a byte
 * >= 0xFA can only disturb bytes after that non-digit, which do not count. */
static inline unsigned digits8(uint64_t x)
{
	uint64_t y = (x & 0xF0F0F0F0F0F0F0F0ULL) |
		     (((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4);
	uint64_t z = y ^ 0x3333333333333333ULL;	/* non-zero byte: not a digit */
	uint64_t m = (((z & 0x7F7F7F7F7F7F7F7FULL) + 0x7F7F7F7F7F7F7F7FULL) | z) &
		     0x8080808080808080ULL;
	return m ? (unsigned)__builtin_ctzll(m) >> 3 : 8;
}

/* The value of eight ASCII digits, first byte most significant: pairs,
 * then quads, then the whole, each step one multiply. */
static inline uint64_t conv8(uint64_t x)
{
	x = ((x & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
	x = ((x & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
	return ((x & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
}

/* The first k (1..8) digits of x: shifting left drops the bytes after
 * them and leaves zero bytes in front, which read as leading zeros. */
static inline uint64_t convk(uint64_t x, unsigned k)
{
	return conv8(x << (64 - 8 * k));
}

static const uint64_t pow10_8[9] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
};

/* fnum_slow's contract, eight bytes at a time for numbers of up to 16
 * digits with at least 8 readable bytes from their start (every field
 * but the last two of a line). Same results: the digits are the same,
 * and anything else goes to fnum_slow. */
static inline __attribute__((always_inline)) int fnum(const char **pp, const char *end, uint64_t max,
						     uint64_t *out)
{
	const char *p = *pp;
	uint64_t x, v;
	unsigned k;

	if (MM_UNLIKELY(end - p < 8))
		return fnum_slow(pp, end, max, out);
	x = load8(p);
	k = digits8(x);
	if (MM_LIKELY(k < 8)) {
		if (MM_UNLIKELY(k == 0))
			return fnum_slow(pp, end, max, out);	/* "-" or not a number */
		v = convk(x, k);
		p += k;			/* inside the eight bytes: p < end */
	} else {
		v = conv8(x);
		p += 8;
		/* ten digits and a space: epoch seconds, the usual long number */
		if (MM_LIKELY(end - p >= 3)) {
			unsigned d8 = (unsigned)(unsigned char)p[0] - '0';
			unsigned d9 = (unsigned)(unsigned char)p[1] - '0';
			if (MM_LIKELY(d8 <= 9 && d9 <= 9 && p[2] == ' ')) {
				v = v * 100 + d8 * 10 + d9;
				p += 2;
				goto sep;
			}
		}
		if (MM_UNLIKELY(end - p < 8))
			return fnum_slow(pp, end, max, out);
		x = load8(p);
		k = digits8(x);
		if (MM_UNLIKELY(k == 8))
			return fnum_slow(pp, end, max, out);	/* 16+ digits */
		if (k)
			v = v * pow10_8[k] + convk(x, k);
		p += k;
	}
sep:
	if (MM_UNLIKELY(*p != ' ' || v > max))
		return -1;
	*out = v;
	*pp = p + 1;
	return 0;
}
#else
#define fnum fnum_slow
#endif

/* fnum for fields that are usually one digit (version, protocol 6): that
 * case costs a compare, anything else goes to fnum. */
static inline __attribute__((always_inline)) int fnum_small(const char **pp, const char *end,
							    uint64_t max, uint64_t *out)
{
	const char *p = *pp;
	unsigned d;

	if (MM_LIKELY(end - p >= 2 && p[1] == ' ')) {
		d = (unsigned)(unsigned char)p[0] - '0';
		if (MM_LIKELY(d <= 9 && d <= max)) {
			*out = d;
			*pp = p + 2;
			return 0;
		}
	}
	return fnum(pp, end, max, out);
}

/* A token up to the next single space. */
static inline int fstr(const char **pp, const char *end, struct mm_str *out)
{
	const char *p = *pp, *s = p;
	/* eight bytes at a time to the first byte <= ' ' */
	while (end - p >= 8) {
		uint64_t x, m;
		memcpy(&x, p, 8);
		m = (x - 0x2121212121212121ULL) & ~x & 0x8080808080808080ULL;
		if (m) {
			p += __builtin_ctzll(m) >> 3;
			goto found;
		}
		p += 8;
	}
	while (p < end && (unsigned char)*p > ' ')
		p++;
found:
	if (p < end && *p != ' ')
		return -1; /* a control byte or tab: the general path decides */
	if (p == s)
		return -1;
	if (p - s == 1 && *s == '-')
		*out = MM_STR_NULL;
	else
		*out = mm_str_make(s, (size_t)(p - s));
	*pp = p < end ? p + 1 : p;
	return 0;
}

/* Dotted quad up to the next single space: 0 ok, 1 "-", -1 other.
 * Byte at a time: near the end of the line, and for "-". */
static int fip_slow(const char **pp, const char *end, struct mm_ip *ip)
{
	const char *p = *pp;
	unsigned part = 0, v = 0, nd = 0;
	uint8_t b[4];

	if (p < end && *p == '-' && (p + 1 == end || p[1] == ' ')) {
		*pp = p + 1 < end ? p + 2 : p + 1;
		return 1;
	}
	for (; p < end && *p != ' '; p++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';
		if (d <= 9) {
			v = v * 10 + d;
			if (++nd > 3 || v > 255)
				return -1;
		} else if (*p == '.' && nd && part < 3) {
			b[part++] = (uint8_t)v;
			v = 0;
			nd = 0;
		} else {
			return -1;
		}
	}
	if (part != 3 || !nd)
		return -1;
	b[3] = (uint8_t)v;
	ip->v6 = 0;
	memcpy(ip->b, b, 4);
	*pp = p < end ? p + 1 : p;
	return 0;
}

/* One to three digits at *pp, at most 255; at least 3 bytes readable.
 * 0 and *pp past them, or -1. */
static inline int octet(const char **pp, unsigned *out)
{
	const unsigned char *p = (const unsigned char *)*pp;
	unsigned d0 = p[0] - (unsigned)'0', d1 = p[1] - (unsigned)'0', d2;

	if (MM_UNLIKELY(d0 > 9))
		return -1;
	if (d1 > 9) {
		*out = d0;
		*pp += 1;
		return 0;
	}
	d2 = p[2] - (unsigned)'0';
	if (d2 > 9) {
		*out = d0 * 10 + d1;
		*pp += 2;
		return 0;
	}
	*out = d0 * 100 + d1 * 10 + d2;
	*pp += 3;
	return *out > 255 ? -1 : 0;
}

/* fip_slow's contract with no bounds checks inside the address: with 16
 * readable bytes a dotted quad (at most 15) and the byte after it fit.
 * Takes exactly the quads fip_slow takes (1-3 digits a part, leading
 * zeros allowed, each <= 255); other input gives -1 (IPv6, odd forms)
 * and the general path decides, or goes to fip_slow ("-"). */
static inline __attribute__((always_inline)) int fip(const char **pp, const char *end,
						    struct mm_ip *ip)
{
	const char *p = *pp;
	unsigned a, b, c, d;

	if (MM_UNLIKELY(end - p < 16 || *p == '-'))
		return fip_slow(pp, end, ip);
	if (octet(&p, &a) || *p++ != '.' || octet(&p, &b) || *p++ != '.' || octet(&p, &c) ||
	    *p++ != '.' || octet(&p, &d) || *p != ' ')
		return -1;
	ip->v6 = 0;
	ip->b[0] = (uint8_t)a;
	ip->b[1] = (uint8_t)b;
	ip->b[2] = (uint8_t)c;
	ip->b[3] = (uint8_t)d;
	*pp = p + 1;
	return 0;
}

/* Tests set this to compare the fast path with the general one. */
int mm__flow_no_fast_path;

/* 0 parsed into ev; -1 not handled (nothing is assumed about ev). */
static int fast_v2(const char *p, const char *end, struct mm_event *ev)
{
	struct mm_flow *fl = &ev->u.flow;
	struct mm_str t;
	uint64_t u;
	int r, have = 0;

	ev->kind = MM_EV_FLOW;
	memset(fl, 0, sizeof(*fl));
	fl->tcp_flags = -1;
	if ((r = fnum_small(&p, end, 255, &u)) < 0)
		return -1;
	if (!r)
		fl->version = (uint8_t)u;
	if (fstr(&p, end, &fl->account) || fstr(&p, end, &fl->eni))
		return -1;
	if ((r = fip(&p, end, &fl->src)) < 0)
		return -1;
	have |= !r;
	if ((r = fip(&p, end, &fl->dst)) < 0)
		return -1;
	have |= !r << 1;
	if ((r = fnum(&p, end, 65535, &u)) < 0)
		return -1;
	if (!r) {
		fl->sport = (uint16_t)u;
		have |= 4;
	}
	if ((r = fnum(&p, end, 65535, &u)) < 0)
		return -1;
	if (!r) {
		fl->dport = (uint16_t)u;
		have |= 8;
	}
	if ((r = fnum_small(&p, end, 255, &u)) < 0)
		return -1;
	if (!r)
		fl->proto = (uint8_t)u;
	if (fnum(&p, end, UINT64_MAX, &fl->packets) < 0 || fnum(&p, end, UINT64_MAX, &fl->bytes) < 0)
		return -1;
	if ((r = fnum(&p, end, MM_FLOW_MAX_TIME, &u)) < 0)
		return -1;
	if (!r)
		fl->start = (int64_t)u;
	if ((r = fnum(&p, end, MM_FLOW_MAX_TIME, &u)) < 0)
		return -1;
	if (!r)
		fl->end = (int64_t)u;
	/* the usual action and status, without finding the token's end */
	if (end - p == 9 && memcmp(p, "ACCEPT OK", 9) == 0) {
		fl->action = MM_ACT_ACCEPT;
		fl->status = MM_LOGST_OK;
		goto done;
	}
	if (end - p == 9 && memcmp(p, "REJECT OK", 9) == 0) {
		fl->action = MM_ACT_REJECT;
		fl->status = MM_LOGST_OK;
		goto done;
	}
	if (fstr(&p, end, &t))
		return -1;
	if (t.n == 6 && memcmp(t.p, "ACCEPT", 6) == 0)
		fl->action = MM_ACT_ACCEPT;
	else if (t.n == 6 && memcmp(t.p, "REJECT", 6) == 0)
		fl->action = MM_ACT_REJECT;
	else if (t.n)
		return -1;
	if (fstr(&p, end, &t) || p != end || end[-1] == ' ')
		return -1;
	if (t.n == 2 && memcmp(t.p, "OK", 2) == 0)
		fl->status = MM_LOGST_OK;
	else if (t.n == 6 && memcmp(t.p, "NODATA", 6) == 0)
		fl->status = MM_LOGST_NODATA;
	else if (t.n == 8 && memcmp(t.p, "SKIPDATA", 8) == 0)
		fl->status = MM_LOGST_SKIPDATA;
	else if (t.n)
		return -1;
done:
	fl->has_addrs = (have & 3) == 3;
	fl->has_ports = (have & 12) == 12;
	return 0;
}

static int parse_line(struct mm_flow_fmt *fmt, const char *line, size_t n,
		      struct mm_arena *scratch, struct mm_event *ev, struct mm_err *err,
		      int depth)
{
	struct fields f;
	const uint8_t *ids;

	if (MM_UNLIKELY(n > MM_FLOW_MAX_LINE))
		return mm_err_set(err, MM_EPARSE, "flow log line longer than %d bytes",
				  MM_FLOW_MAX_LINE);
	trim(&line, &n);
	if (MM_UNLIKELY(n == 0))
		return mm_err_set(err, MM_ESKIP, "empty line");
	if (MM_UNLIKELY(line[0] == '{')) {
		if (depth)
			return mm_err_set(err, MM_EPARSE, "CloudWatch wrapper inside a wrapper");
		return parse_wrapped(fmt, line, n, scratch, ev, err);
	}
	/* the default layout (header-declared or headerless 14 fields) */
	if (!mm__flow_no_fast_path && line[0] >= '0' && line[0] <= '9' &&
	    (!fmt || fmt->nfields == 0 ||
	     (fmt->nfields == 14 && !fmt->tgw && memcmp(fmt->field, vpc_all, 14) == 0)) &&
	    fast_v2(line, line + n, ev) == 0)
		return 0;
	if (MM_UNLIKELY(split(line, n, &f)))
		return mm_err_set(err, MM_EPARSE, "flow log record has more than %d fields",
				  MM_FLOW_MAX_FIELDS);

	/* Records in AWS's layouts start with a digit or '-': only other
	 * first bytes pay for the header check. */
	if (MM_UNLIKELY(!(line[0] >= '0' && line[0] <= '9')) && looks_like_name(f.p[0], f.len[0])) {
		struct mm_flow_fmt tmp;
		int rc = fmt_from_fields(fmt ? fmt : &tmp, &f, err);
		if (rc)
			return rc;
		return mm_err_set(err, MM_ESKIP, "flow log header line");
	}

	if (fmt && fmt->nfields > 0) {
		if (MM_UNLIKELY(f.n != fmt->nfields))
			return mm_err_set(err, MM_EPARSE,
					  "flow log record has %d fields, header has %d", f.n,
					  fmt->nfields);
		ids = fmt->field;
	} else {
		ids = auto_layout(&f);
		if (MM_UNLIKELY(!ids))
			return mm_err_set(err, MM_EPARSE,
					  "flow log record has %d fields; without a header "
					  "expected 14, 21, 25, 29, 36 (Transit Gateway), 39 or 40",
					  f.n);
	}
	return fill(ids, &f, ev, err);
}

int mm_flow_parse(struct mm_flow_fmt *fmt, const char *line, size_t n, struct mm_arena *scratch,
		  struct mm_event *ev, struct mm_err *err)
{
	return parse_line(fmt, line, n, scratch, ev, err, 0);
}

/* Does a headerless record look like one of AWS's default layouts? */
static int record_looks_right(const struct fields *f)
{
	uint64_t ver;
	const char *eni;
	size_t en;

	if (f->n < 14 || parse_u64(f->p[0], f->len[0], 10, &ver) || ver < 2)
		return 0;
	if (f->n == TGW_NFIELDS)
		return STARTS(f->p[3], f->len[3], "tgw-");
	if (auto_layout(f) != vpc_all)
		return 0;
	eni = f->p[2];
	en = f->len[2];
	if (!(EQ(eni, en, "-") || STARTS(eni, en, "eni-")))
		return 0;
	if (!(EQ(f->p[12], f->len[12], "ACCEPT") || EQ(f->p[12], f->len[12], "REJECT") ||
	      EQ(f->p[12], f->len[12], "-")))
		return 0;
	return EQ(f->p[13], f->len[13], "OK") || EQ(f->p[13], f->len[13], "NODATA") ||
	       EQ(f->p[13], f->len[13], "SKIPDATA") || EQ(f->p[13], f->len[13], "-");
}

/* {"message":"2 ..." or {"message":"version ...": a CloudWatch export of a
 * flow line. Other JSON with a "message" key (CloudTrail, app logs) has no
 * flow record or header at the start of the string. */
static int wrapped_looks_right(const char *p, size_t n)
{
	const char *end = p + n, *m = memmem(p, n, "\"message\"", 9);
	const char *s;

	if (!m)
		return 0;
	m += 9;
	while (m < end && is_sp(*m))
		m++;
	if (m == end || *m++ != ':')
		return 0;
	while (m < end && is_sp(*m))
		m++;
	if (m == end || *m++ != '"')
		return 0;
	for (s = m; s < end && s - m < 3 && *s >= '0' && *s <= '9'; s++)
		;
	if (s > m && s < end && *s == ' ')
		return 1;	/* a version number, then the record */
	for (s = m; s < end && *s != ' ' && *s != '"'; s++)
		;
	return looks_like_name(m, (size_t)(s - m));
}

int mm_flow_classify(const char *line, size_t n)
{
	struct fields f;
	int i;

	if (n > MM_FLOW_MAX_LINE)
		n = MM_FLOW_MAX_LINE;	/* judge by the prefix; parse will refuse */
	trim(&line, &n);
	if (n == 0)
		return MM_FLOW_LINE_NONE;
	if (line[0] == '{')
		return wrapped_looks_right(line, n) ? MM_FLOW_LINE_WRAPPED : MM_FLOW_LINE_NONE;
	if (split(line, n, &f))
		return MM_FLOW_LINE_NONE;
	if (looks_like_name(f.p[0], f.len[0])) {
		for (i = 1; i < f.n; i++)
			if (field_id(f.p[i], f.len[i]) < 0)
				return MM_FLOW_LINE_NONE;
		return MM_FLOW_LINE_HEADER;
	}
	return record_looks_right(&f) ? MM_FLOW_LINE_RECORD : MM_FLOW_LINE_NONE;
}
