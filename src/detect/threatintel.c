/* threatintel.c - threat-intelligence detectors for flows, DNS queries
 * and CloudTrail API calls (docs/finding-types.md has the logic and the
 * reasons in prose).
 *
 * Flows: the local side is the ENI's own address (inventory), else the
 * private one, else the logged flow-direction. The remote address is
 * checked against the trusted set (trusted beats threat), then the
 * threat lists. Who opened the connection decides direction and role:
 * mining/C2/black-hole/drop-point findings need the instance to have
 * opened it (accepted or not: a blocked attempt still shows the
 * malware); custom-list findings also cover accepted inbound traffic
 * (role TARGET); inbound traffic that was REJECTed never fires (blocked
 * probes are internet noise). Tor: the instance opening connections to a
 * relay is a Tor client; a non-exit relay opening connections to the
 * instance (relays only connect to relays) means the instance relays.
 * Inbound from exit relays is Tor users visiting a service: no finding. */
#include <stdio.h>
#include <string.h>

#include "detect/detect.h"

static const char *const flow_type[MM_CAT__COUNT] = {
	[MM_CAT_CUSTOM] = "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
	[MM_CAT_MINING] = "CryptoCurrency:EC2/BitcoinTool.B",
	[MM_CAT_C2] = "Backdoor:EC2/C&CActivity.B",
	[MM_CAT_BLACKHOLE] = "Trojan:EC2/BlackholeTraffic",
	[MM_CAT_DROPPOINT] = "Trojan:EC2/DropPoint",
};

static const char *const dns_type[MM_CAT__COUNT] = {
	[MM_CAT_CUSTOM] = "Impact:EC2/MaliciousDomainRequest.Custom",
	[MM_CAT_MINING] = "CryptoCurrency:EC2/BitcoinTool.B!DNS",
	[MM_CAT_C2] = "Backdoor:EC2/C&CActivity.B!DNS",
	[MM_CAT_BLACKHOLE] = "Trojan:EC2/BlackholeTraffic!DNS",
	[MM_CAT_DROPPOINT] = "Trojan:EC2/DropPoint!DNS",
	/* domain reputation lists: DNS only (GuardDuty has no flow or API
	 * twin of these; an address on such a list is ignored) */
	[MM_CAT_ABUSED] = "Impact:EC2/AbusedDomainRequest.Reputation",
	[MM_CAT_BITCOIN] = "Impact:EC2/BitcoinDomainRequest.Reputation",
	[MM_CAT_MALICIOUS] = "Impact:EC2/MaliciousDomainRequest.Reputation",
	[MM_CAT_SUSPICIOUS] = "Impact:EC2/SuspiciousDomainRequest.Reputation",
	[MM_CAT_DRIVEBY] = "Trojan:EC2/DriveBySourceTraffic!DNS",
	[MM_CAT_PHISHING] = "Trojan:EC2/PhishingDomainRequest!DNS",
	[MM_CAT_DGA] = "Trojan:EC2/DGADomainRequest.C!DNS",
};

/* Categories that only name domains: their entries never match a flow
 * or an API caller (dns_type above has their findings). */
static int cat_dns_only(enum mm_intel_cat c)
{
	return c >= MM_CAT_ABUSED && c <= MM_CAT_DGA;
}

void mm_file_ctx_from_path(struct mm_file_ctx *fc, const char *path)
{
	const char *p = strstr(path, "AWSLogs/");
	fc->path = path;
	fc->rel = path;
	fc->account[0] = fc->region[0] = '\0';
	if (!p)
		return;
	p += 8;
	{
		const char *slash = strchr(p, '/'), *svc, *reg, *end;
		size_t n;
		if (!slash)
			return;
		n = (size_t)(slash - p);
		if (n >= 1 && n < sizeof(fc->account))
			snprintf(fc->account, sizeof(fc->account), "%.*s", (int)n, p);
		svc = slash + 1;
		slash = strchr(svc, '/');
		if (!slash)
			return;
		/* vpcflowlogs/<region>/, CloudTrail/<region>/; DNS logs carry
		 * the vpc id here and the region in each record */
		if (strncmp(svc, "vpcflowlogs/", 12) && strncmp(svc, "CloudTrail/", 11))
			return;
		reg = slash + 1;
		end = strchr(reg, '/');
		if (!end)
			return;
		n = (size_t)(end - reg);
		if (n >= 1 && n < sizeof(fc->region))
			snprintf(fc->region, sizeof(fc->region), "%.*s", (int)n, reg);
	}
}

enum mm_dir mm_flow_initiator(uint8_t proto, uint16_t lport, uint16_t rport, int src_is_local,
			      int prefer_outbound)
{
	int lw, rw, le, re;

	if (proto != 6 && proto != 17 && proto != 132)
		return src_is_local ? MM_DIR_OUTBOUND : MM_DIR_INBOUND; /* ICMP etc: sender */
	lw = lport < 1024;
	rw = rport < 1024;
	if (lw != rw)
		return lw ? MM_DIR_INBOUND : MM_DIR_OUTBOUND;
	/* ephemeral ranges: Linux 32768-60999, Windows/IANA 49152-65535 */
	le = lport >= 32768;
	re = rport >= 32768;
	if (le != re)
		return le ? MM_DIR_OUTBOUND : MM_DIR_INBOUND;
	if (prefer_outbound)
		return MM_DIR_OUTBOUND;
	if (lport == rport)
		return src_is_local ? MM_DIR_OUTBOUND : MM_DIR_INBOUND;
	return lport > rport ? MM_DIR_OUTBOUND : MM_DIR_INBOUND;
}

const char *mm_proto_name(uint8_t p, char *buf)
{
	switch (p) {
	case 6: return "TCP";
	case 17: return "UDP";
	case 1: return "ICMP";
	case 58: return "ICMPv6";
	case 132: return "SCTP";
	default: snprintf(buf, 8, "%u", p); return buf;
	}
}

/* mm_intel_match_ip through the per-thread miss memo. */
static int match_ip(struct mm_detect_ctx *d, const struct mm_ip *ip, uint16_t port,
		    struct mm_intel_hit *hits, int max)
{
	uint64_t key = 0;
	size_t slot = 0;
	int n;

	if (d->memo && !ip->v6) {
		key = (((uint64_t)mm_ip_v4(ip) << 16) | port) + 1;
		slot = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 51) & (MM_IPMEMO_SLOTS - 1);
		if (d->memo->key[slot] == key)
			return 0;
	}
	n = mm_intel_match_ip(d->intel, ip, port, hits, max);
	if (n == 0 && key)
		d->memo->key[slot] = key;
	return n;
}

/* The inventory's record of this ENI, or NULL. */
static const struct mm_netif *eni_nif(const struct mm_inventory *inv, struct mm_str eni)
{
	const struct mm_instance *inst;

	if (!inv || !eni.n || mm_inventory_count(inv) == 0)
		return NULL;
	inst = mm_inventory_by_eni(inv, eni.p, eni.n);
	return inst ? mm_instance_nif(inst, eni.p, eni.n) : NULL;
}

/* Does addr belong to the interface? */
static int nif_owns(const struct mm_netif *nif, const struct mm_ip *addr)
{
	int i;
	for (i = 0; i < nif->nprivate; i++)
		if (mm_ip_eq(&nif->private_ips[i], addr))
			return 1;
	for (i = 0; i < nif->nipv6; i++)
		if (mm_ip_eq(&nif->ipv6[i], addr))
			return 1;
	return nif->has_public_ip && mm_ip_eq(&nif->public_ip, addr);
}

int mm_flow_src_is_local(const struct mm_detect_ctx *d, const struct mm_flow *f)
{
	const struct mm_netif *nif = eni_nif(d->inv, f->eni);
	int sp, dp;

	if (nif && nif_owns(nif, &f->src))
		return 1;
	if (nif && nif_owns(nif, &f->dst))
		return 0;
	sp = mm_ip_is_private(&f->src);
	dp = mm_ip_is_private(&f->dst);
	if (sp != dp)
		return sp;
	if (f->fdir == MM_FDIR_EGRESS)
		return 1;
	if (f->fdir == MM_FDIR_INGRESS)
		return 0;
	return -1;
}

/* Count one list hit; *out is the finding when this record is its latest
 * (the caller then sets the details), else NULL. */
static void add_hit(struct mm_detect_ctx *d, const char *type, struct mm_str acct,
		    struct mm_str res, const struct mm_intel_hit *hit, const struct mm_event *ev,
		    int64_t first, int64_t last, struct mm_finding **out)
{
	int latest;
	struct mm_finding *f = mm_emit(d, type, acct, res, hit->list_name, ev, first, last, &latest);

	*out = NULL;
	if (!f)
		return;
	if (ev->kind == MM_EV_API)
		mm_finding_add_api(f, ev->u.api.event_name.p, ev->u.api.event_name.n, first);
	if (!latest)
		return;
	*out = f;
	snprintf(f->threat_list, sizeof(f->threat_list), "%s", hit->list_name);
	snprintf(f->threat_name, sizeof(f->threat_name), "%s", mm_intel_cat_name(hit->cat));
	snprintf(f->indicator, sizeof(f->indicator), "%s", hit->indicator);
}

static void detect_flow(struct mm_detect_ctx *d, const struct mm_event *ev)
{
	const struct mm_flow *fl = &ev->u.flow;
	struct mm_intel_hit hits[MM_INTEL_MAX_HITS];
	const struct mm_ip *local, *remote;
	uint16_t lport, rport;
	int sl, nh, i, is_exit = 0, tor_done = 0, listed_port = 0;
	struct mm_str res;
	enum mm_dir dir;
	int64_t first = fl->start * 1000, last = fl->end * 1000;
	char pbuf[8];

	d->st.flows++;
	if (!fl->has_addrs)
		return;
	sl = mm_flow_src_is_local(d, fl);
	if (sl < 0) {
		/* both public or both private, no inventory: the listed side is remote */
		struct mm_intel_hit h;
		if (match_ip(d, &fl->dst, fl->dport, &h, 1) > 0)
			sl = 1;
		else if (match_ip(d, &fl->src, fl->sport, &h, 1) > 0)
			sl = 0;
		else
			return;
	}
	local = sl ? &fl->src : &fl->dst;
	remote = sl ? &fl->dst : &fl->src;
	lport = sl ? fl->sport : fl->dport;
	rport = sl ? fl->dport : fl->sport;
	nh = match_ip(d, remote, fl->has_ports ? rport : 0, hits, MM_INTEL_MAX_HITS);
	if (nh <= 0)
		return;
	if (mm_intel_trusted(d->intel, remote)) {
		d->st.trusted_skips++;
		return;
	}
	for (i = 0; i < nh; i++) {
		if (hits[i].cat == MM_CAT_TOREXIT)
			is_exit = 1;
		if (strchr(hits[i].indicator, ']') || (strchr(hits[i].indicator, ':') &&
						       !remote->v6))
			listed_port = 1; /* an IP:port entry matched: remote is the server */
	}
	/* Traffic seen on a middlebox interface (NAT gateway, load balancer,
	 * endpoint) carries the instance's own address as the local side:
	 * when the inventory says that address belongs to an instance on
	 * another interface, the finding belongs to that instance. */
	res = fl->eni.n ? fl->eni : fl->instance_id;
	if (d->inv && fl->eni.n) {
		const struct mm_instance *owner = mm_inventory_by_ip(d->inv, local);
		if (owner && !mm_instance_nif(owner, fl->eni.p, fl->eni.n))
			res = mm_str_c(owner->instance_id);
	}
	for (i = 0; i < nh; i++) {
		enum mm_intel_cat c = hits[i].cat;
		const char *type = NULL;
		enum mm_role role = MM_ROLE_ACTOR;
		struct mm_finding *f = NULL;

		dir = mm_flow_initiator(fl->proto, lport, rport, sl,
					listed_port || (c != MM_CAT_CUSTOM && c != MM_CAT_TOR &&
							c != MM_CAT_TOREXIT));
		if (dir == MM_DIR_INBOUND && fl->action == MM_ACT_REJECT)
			continue; /* blocked inbound attempt */
		if (c == MM_CAT_TOR || c == MM_CAT_TOREXIT) {
			if (tor_done)
				continue;
			if (dir == MM_DIR_OUTBOUND)
				type = "UnauthorizedAccess:EC2/TorClient";
			else if (!is_exit && fl->action != MM_ACT_REJECT)
				type = "UnauthorizedAccess:EC2/TorRelay";
			tor_done = 1; /* one Tor finding per record, whichever list says so */
		} else if (c == MM_CAT_CUSTOM) {
			type = flow_type[c];
			role = dir == MM_DIR_OUTBOUND ? MM_ROLE_ACTOR : MM_ROLE_TARGET;
		} else if (flow_type[c] && dir == MM_DIR_OUTBOUND) {
			type = flow_type[c];
		}
		if (!type)
			continue;
		add_hit(d, type, d->file && d->file->account[0] ? mm_str_c(d->file->account) : fl->account,
			res, &hits[i], ev, first, last, &f);
		if (!f)
			continue;
		if (!f->instance_id[0] && fl->instance_id.n)
			mm_str_copy(f->instance_id, sizeof(f->instance_id), fl->instance_id);
		if (!f->region[0] && fl->region.n)
			mm_str_copy(f->region, sizeof(f->region), fl->region);
		f->role = role;
		f->direction = dir;
		f->has_remote_ip = 1;
		f->remote_ip = *remote;
		f->has_local_ip = 1;
		f->local_ip = *local;
		f->remote_port = fl->has_ports ? rport : 0;
		f->local_port = fl->has_ports ? lport : 0;
		f->blocked = fl->action == MM_ACT_REJECT;
		snprintf(f->protocol, sizeof(f->protocol), "%s", mm_proto_name(fl->proto, pbuf));
		snprintf(f->caller_type, sizeof(f->caller_type), "Remote IP");
	}
}

static void detect_dns(struct mm_detect_ctx *d, const struct mm_event *ev)
{
	const struct mm_dns *q = &ev->u.dns;
	struct mm_intel_hit hits[MM_INTEL_MAX_HITS];
	int nh, i;
	char rkey[64], ipbuf[MM_IP_STRLEN];
	struct mm_str res;

	d->st.dns++;
	nh = mm_intel_match_domain(d->intel, q->qname.p, q->qname.n, hits, MM_INTEL_MAX_HITS);
	if (nh <= 0)
		return;
	if (q->instance_id.n) {
		res = q->instance_id;
	} else if (q->has_src) {
		snprintf(rkey, sizeof(rkey), "ip:%s", mm_ip_format(&q->src, ipbuf));
		res = mm_str_c(rkey);
	} else {
		return; /* no way to name the resource */
	}
	for (i = 0; i < nh; i++) {
		const char *type = dns_type[hits[i].cat];
		struct mm_finding *f = NULL;
		if (!type)
			continue;
		add_hit(d, type, d->file && d->file->account[0] ? mm_str_c(d->file->account) : q->account,
			res, &hits[i], ev, q->time_ms, q->time_ms, &f);
		if (f)
			mm_finding_set_dns(f, q);
	}
}

static void detect_api(struct mm_detect_ctx *d, const struct mm_event *ev)
{
	const struct mm_api *a = &ev->u.api;
	struct mm_intel_hit hits[MM_INTEL_MAX_HITS];
	int nh, i, recon, tor_done = 0;
	struct mm_str res;

	d->st.api++;
	if (!a->has_source_ip)
		return; /* AWS service or internal caller */
	nh = match_ip(d, &a->source_ip, 0, hits, MM_INTEL_MAX_HITS);
	if (nh <= 0)
		return;
	if (mm_intel_trusted(d->intel, &a->source_ip)) {
		d->st.trusted_skips++;
		return;
	}
	res = mm_api_principal(a);
	if (!res.n)
		return;
	recon = mm_api_is_recon(a->event_name.p, a->event_name.n);
	for (i = 0; i < nh; i++) {
		const char *type;
		struct mm_finding *f = NULL;
		if (cat_dns_only(hits[i].cat))
			continue;
		switch (hits[i].cat) {
		case MM_CAT_SCANNER:
			continue; /* a scanner list labels probes (netscan), nothing else */
		case MM_CAT_TOR:
		case MM_CAT_TOREXIT:
			if (tor_done++)
				continue;
			type = recon ? "Recon:IAMUser/TorIPCaller" : "UnauthorizedAccess:IAMUser/TorIPCaller";
			break;
		case MM_CAT_CUSTOM:
			type = recon ? "Recon:IAMUser/MaliciousIPCaller.Custom"
				     : "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom";
			break;
		default:
			type = recon ? "Recon:IAMUser/MaliciousIPCaller"
				     : "UnauthorizedAccess:IAMUser/MaliciousIPCaller";
		}
		add_hit(d, type, a->account.n ? a->account : a->who.account_id, res, &hits[i], ev,
			a->time_ms, a->time_ms, &f);
		if (!f)
			continue;
		f->role = MM_ROLE_TARGET;
		mm_finding_set_api(f, a);
	}
}

static void on_event(void *state, struct mm_detect_ctx *d, const struct mm_event *ev)
{
	(void)state;
	switch (ev->kind) {
	case MM_EV_FLOW:
		detect_flow(d, ev);
		break;
	case MM_EV_DNS:
		detect_dns(d, ev);
		break;
	case MM_EV_API:
		detect_api(d, ev);
		break;
	default:
		break;
	}
}

/* A run of flow records: the /24 bitmap word and the miss memo's slot
 * of each record's addresses are requested before detect_flow reads
 * them one record at a time (with a 100k-entry list the bitmap is 2 MiB,
 * out of cache: its load was ~90% of the lookup). Loads only. */
static void prefetch(void *state, struct mm_detect_ctx *d, const struct mm_event *evs, int n)
{
	int k;
	(void)state;
	for (k = 0; k < n; k++) {
		const struct mm_flow *fl = &evs[k].u.flow;
		if (evs[k].kind != MM_EV_FLOW || !fl->has_addrs)
			continue;
		mm_intel_prefetch_ip(d->intel, &fl->src);
		mm_intel_prefetch_ip(d->intel, &fl->dst);
		if (d->memo && !fl->dst.v6) {
			uint64_t key = (((uint64_t)mm_ip_v4(&fl->dst) << 16) | fl->dport) + 1;
			__builtin_prefetch(&d->memo->key[(size_t)((key * 0x9e3779b97f4a7c15ULL) >> 51) &
							 (MM_IPMEMO_SLOTS - 1)]);
		}
	}
}

static const char *const types[] = {
	"CryptoCurrency:EC2/BitcoinTool.B",
	"Backdoor:EC2/C&CActivity.B",
	"UnauthorizedAccess:EC2/TorClient",
	"UnauthorizedAccess:EC2/TorRelay",
	"UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
	"Trojan:EC2/BlackholeTraffic",
	"Trojan:EC2/DropPoint",
	"CryptoCurrency:EC2/BitcoinTool.B!DNS",
	"Backdoor:EC2/C&CActivity.B!DNS",
	"Impact:EC2/MaliciousDomainRequest.Custom",
	"Trojan:EC2/BlackholeTraffic!DNS",
	"Trojan:EC2/DropPoint!DNS",
	"Impact:EC2/AbusedDomainRequest.Reputation",
	"Impact:EC2/BitcoinDomainRequest.Reputation",
	"Impact:EC2/MaliciousDomainRequest.Reputation",
	"Impact:EC2/SuspiciousDomainRequest.Reputation",
	"Trojan:EC2/DriveBySourceTraffic!DNS",
	"Trojan:EC2/PhishingDomainRequest!DNS",
	"Trojan:EC2/DGADomainRequest.C!DNS",
	"UnauthorizedAccess:IAMUser/MaliciousIPCaller",
	"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
	"Recon:IAMUser/MaliciousIPCaller",
	"Recon:IAMUser/MaliciousIPCaller.Custom",
	"UnauthorizedAccess:IAMUser/TorIPCaller",
	"Recon:IAMUser/TorIPCaller",
	NULL,
};

/* An instance that relays Tor also connects out to relays: it is
 * reported as the relay it is, not also as a client. */
static const struct mm_supersede supersedes[] = {
	{"UnauthorizedAccess:EC2/TorClient", "UnauthorizedAccess:EC2/TorRelay"},
	{NULL, NULL},
};

const struct mm_detector_def mm_det_threatintel = {
	.name = "threatintel",
	.kinds = MM_KIND_BIT(MM_EV_FLOW) | MM_KIND_BIT(MM_EV_DNS) | MM_KIND_BIT(MM_EV_API),
	.types = types,
	.supersedes = supersedes,
	.on_event = on_event,
	.prefetch = prefetch,
};
