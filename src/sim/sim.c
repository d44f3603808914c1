/* sim.c - the estate simulator: writes an AWS estate's logs as AWS
 * delivers them to S3, with attacks and benign look-alikes injected, and
 * truth.json saying which findings a correct scan must produce.
 *
 * Everything comes from our own PRNG (xoshiro256** seeded by splitmix64):
 * one stream builds the estate (ids, keys, jitter of attack windows), and
 * each hour of logs has its own stream derived from (seed, hour), so the
 * output is byte-identical for the same arguments and one hour's volume
 * does not shift the next hour's randomness.
 *
 * Address plan (checked against every bundled list under shared/data/intel
 * so neither benign traffic nor our threats collide with them):
 *   benign  24.56.0.0/16 web clients, 81.2.69.160/28 office,
 *           89.187.160.0/19 internet probes, 151.101/16 140.82.112/20
 *           185.199.108/22 mirrors, 3.5.0.0/19 52.94/16 AWS endpoints,
 *           3.82/16 our public IPs, 87.120.36/24 unlisted partner
 *   threat  38.132.99/24 mining, 66.42.71/24 c2, 92.38.135/24 tor relays,
 *           139.59.12/24 tor exits, 154.16.49/24 custom, 172.96.13/24
 *           blackhole, 193.29.56/24 droppoint
 * Each hour's records go to one buffer per output file; a buffer is
 * compressed and written when the hour is done (no malloc per record). */
#include "sim/sim.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/mtime.h"

#define ACCOUNT "123456789012"
#define REGION "us-east-1"
#define SIM_BUF_MAX ((size_t)1 << 30)
#define SIM_PATH_MAX 1024
#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define HOUR 3600
#define OFFICE_IP(r) IP4(81, 2, 69, 160 + rnd((r), 16))
#define NAT_IP IP4(3, 82, 200, 10)

/* ---- PRNG ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	int i;
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n); 0 when n is 0. */
static uint32_t rnd(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static void rnd_chars(struct rng *r, char *out, int n, const char *alpha)
{
	size_t k = strlen(alpha);
	int i;
	for (i = 0; i < n; i++)
		out[i] = alpha[rnd(r, (uint32_t)k)];
	out[n] = '\0';
}

static const char HEX[] = "0123456789abcdef";
static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* ---- time ---- */

struct civil {
	int y, mo, d, h, mi, s;
};

static void civil_of(int64_t t, struct civil *c)
{
	/* Howard Hinnant's civil_from_days */
	int64_t z = (t >= 0 ? t : t - 86399) / 86400, era, sod = t - z * 86400;
	unsigned doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->d = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->mo = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->y = (int)(yoe + era * 400 + (c->mo <= 2));
	c->h = (int)(sod / 3600);
	c->mi = (int)(sod / 60 % 60);
	c->s = (int)(sod % 60);
}

/* "2024-03-04T10:00:00Z" */
static char *iso(int64_t t, char *buf)
{
	struct civil c;
	civil_of(t, &c);
	snprintf(buf, 24, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.y, c.mo, c.d, c.h, c.mi, c.s);
	return buf;
}

static char *fmt_ip(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

/* ---- the estate ---- */

enum kind {
	K_WEB, K_APP, K_DB, K_BASTION, K_WORKER,
	K_MINER, K_C2, K_TORCLIENT, K_TORRELAY, K_CUSTIP, K_BLACKHOLE, K_DROP, K_CUSTDNS,
	K_LOOKALIKE,
	/* network behaviours (unit 0, --attacks network): attackers ... */
	K_NPU, K_SPAM, K_VOL, K_RESOLV, K_DOH, K_DOT,
	K_PROBE_ES, K_PROBE_DB, K_EMR, K_PSCAN, K_PSWEEP,
	K_SSH_T, K_RDP_T, K_WINRM_T, K_SSH_A, K_RDP_A, K_WINRM_A,
	K_DOS_TCP, K_DOS_UDP, K_DOS_UDPTCP, K_DOS_PROTO, K_DOS_DNS,
	K_EXFIL, K_DGA, K_REBIND,
	/* ... and their benign look-alikes */
	K_RESOLV_LA, K_BACKUP, K_RELAY, K_CDN, K_MONITOR, K_DNS_LA,
	/* list-driven DNS types (--attacks dnslists) */
	K_DNSLIST,
	K__N
};
#define K_NET_FIRST K_NPU

/* The vpc index matters for flow records: VPC 1 aggregates over 10
 * minutes (v2), VPC 2 over 1 minute (v5). Floods go to VPC 2 so each
 * record is one minute of one flow, as AWS writes them. */

static const struct kinfo {
	const char *name, *role, *itype, *profile;
	int vpc, pub, subnet, applike;
	int web;	/* background: serves HTTPS to the internet */
} KINFO[K__N] = {
	[K_WEB] = {"web", "web", "t3.medium", "web-role", 0, 1, 0, 0},
	[K_APP] = {"app", "app", "m5.large", "app-role", 0, 0, 1, 1},
	[K_DB] = {"db", "database", "r5.large", NULL, 0, 0, 1, 0},
	[K_BASTION] = {"bastion", "bastion", "t3.micro", NULL, 0, 1, 0, 0},
	[K_WORKER] = {"worker", "worker", "c5.large", "worker-role", 1, 0, 0, 0},
	[K_MINER] = {"build-runner-tmp", "ci", "c5.4xlarge", NULL, 0, 0, 1, 0},
	[K_C2] = {"legacy-reports", "app", "t2.medium", "app-role", 0, 0, 1, 1},
	[K_TORCLIENT] = {"etl-scratch", "worker", "c5.large", "worker-role", 1, 0, 0, 0},
	[K_TORRELAY] = {"media-relay", "web", "t3.large", "web-role", 0, 1, 0, 0},
	[K_CUSTIP] = {"partner-sync", "worker", "t3.medium", "worker-role", 1, 0, 0, 0},
	[K_BLACKHOLE] = {"qa-sandbox", "app", "t3.small", "app-role", 0, 0, 1, 1},
	[K_DROP] = {"export-batch", "worker", "m5.xlarge", "worker-role", 1, 0, 0, 0},
	[K_CUSTDNS] = {"crm-gateway", "worker", "t3.medium", "worker-role", 1, 0, 0, 0},
	[K_LOOKALIKE] = {"lab-test", "app", "t3.small", "app-role", 0, 0, 1, 1},
	[K_NPU] = {"shop-web", "web", "t3.medium", "web-role", 0, 1, 0, 0, 1},
	[K_SPAM] = {"newsletter-app", "app", "m5.large", "app-role", 0, 0, 1, 1},
	[K_VOL] = {"analytics-etl", "worker", "m5.xlarge", "worker-role", 1, 0, 0, 0},
	[K_RESOLV] = {"legacy-agent", "worker", "t3.medium", "worker-role", 1, 0, 0, 0},
	[K_DOH] = {"vdi-desktop", "app", "t3.large", "app-role", 0, 0, 1, 1},
	[K_DOT] = {"iot-gateway", "worker", "t3.medium", "worker-role", 1, 0, 0, 0},
	[K_PROBE_ES] = {"search-es", "search", "r5.large", NULL, 0, 1, 0, 0},
	[K_PROBE_DB] = {"reports-mysql", "database", "r5.large", NULL, 1, 1, 0, 0},
	[K_EMR] = {"emr-master", "emr", "m5.xlarge", NULL, 1, 1, 0, 0},
	[K_PSCAN] = {"ci-runner-7", "ci", "c5.large", NULL, 0, 0, 1, 0},
	[K_PSWEEP] = {"cache-warmer", "worker", "c5.large", "worker-role", 1, 0, 0, 0},
	[K_SSH_T] = {"sftp-gateway", "sftp", "t3.medium", NULL, 0, 1, 0, 0},
	[K_RDP_T] = {"win-jump", "windows", "m5.large", NULL, 1, 1, 0, 0},
	[K_WINRM_T] = {"win-mgmt", "windows", "m5.large", NULL, 0, 1, 0, 0},
	[K_SSH_A] = {"batch-07", "worker", "c5.large", "worker-role", 1, 0, 0, 0},
	[K_RDP_A] = {"win-build", "windows", "m5.large", NULL, 0, 0, 1, 0},
	[K_WINRM_A] = {"ops-tools", "worker", "t3.medium", "worker-role", 1, 0, 0, 0},
	[K_DOS_TCP] = {"render-01", "worker", "c5.2xlarge", "worker-role", 1, 0, 0, 0},
	[K_DOS_UDP] = {"render-02", "worker", "c5.2xlarge", "worker-role", 1, 0, 0, 0},
	[K_DOS_UDPTCP] = {"render-03", "worker", "c5.2xlarge", "worker-role", 1, 0, 0, 0},
	[K_DOS_PROTO] = {"render-04", "worker", "c5.2xlarge", "worker-role", 1, 0, 0, 0},
	[K_DOS_DNS] = {"dns-cache", "dns", "t3.medium", NULL, 1, 0, 0, 0},
	[K_EXFIL] = {"hr-portal", "app", "t3.medium", "app-role", 0, 0, 1, 1},
	[K_DGA] = {"kiosk-05", "worker", "t3.small", "worker-role", 1, 0, 0, 0},
	[K_REBIND] = {"pdf-render", "app", "t3.medium", "app-role", 0, 0, 1, 1},
	[K_RESOLV_LA] = {"vpn-gateway", "vpn", "t3.medium", NULL, 1, 0, 0, 0},
	[K_BACKUP] = {"db-backup", "backup", "m5.large", NULL, 0, 0, 1, 0},
	[K_RELAY] = {"mail-relay", "mail", "t3.medium", NULL, 0, 0, 1, 0},
	[K_CDN] = {"cdn-origin", "web", "c5.xlarge", "web-role", 0, 1, 0, 0, 1},
	[K_MONITOR] = {"uptime-probe", "monitoring", "t3.small", NULL, 1, 0, 0, 0},
	[K_DNS_LA] = {"k8s-node-03", "worker", "m5.large", "worker-role", 1, 0, 0, 0},
	[K_DNSLIST] = {"dev-workstation", "app", "t3.large", "app-role", 0, 0, 1, 1},
};

static const enum kind UNIT_KINDS[] = {K_WEB, K_WEB, K_WEB, K_APP, K_APP, K_APP,
				       K_DB, K_BASTION, K_WORKER, K_WORKER, K_WORKER, K_WORKER};

struct inst {
	char id[24], eni[24], name[40], mac[24], eni_attach[40];
	enum kind kind;
	int vpc, subnet, unit, db;	/* db: index of its unit's database */
	uint32_t ip, pub;
	int64_t launch;			/* epoch seconds */
	int in_inventory;
};

struct vpc {
	char id[24], fl[24], subnet[2][32];
	const char *cidr, *subnet_cidr[2];
	int custom, window;
};

struct user {
	const char *name;
	char key[24], pid[24];
};

enum user_ix {
	U_ALICE, U_BOB, U_CI, U_BACKUP, U_REPORTS, U_CAROL, U_DAVE, U_ETL, U_ERIN, U_SCANNER, U__N
};
static const char *const USER_NAMES[U__N] = {
	"alice", "bob", "ci-deploy", "svc-backup", "svc-reports",
	"carol", "dave", "svc-etl", "erin", "sec-scanner"};

/* Expected findings, in truth.json order. */
enum exp_ix {
	E_MINE, E_MINE_DNS, E_C2, E_C2_DNS, E_TORC, E_TORR, E_CUSTIP, E_BH, E_BH_DNS,
	E_DROP, E_DROP_DNS, E_CUSTDNS, E_IAM_MAL, E_RECON_MAL, E_IAM_MAL_CUST,
	E_RECON_MAL_CUST, E_IAM_TOR, E_RECON_TOR, E__N
};

static const struct expdef {
	const char *type, *dir, *indicator;
	enum kind kind;		/* K__N: an access key */
	enum user_ix user;
} EXP[E__N] = {
	[E_MINE] = {"CryptoCurrency:EC2/BitcoinTool.B", "OUTBOUND", "38.132.99.20", K_MINER, 0},
	[E_MINE_DNS] = {"CryptoCurrency:EC2/BitcoinTool.B!DNS", NULL, "xmrpool-relay.net", K_MINER, 0},
	[E_C2] = {"Backdoor:EC2/C&CActivity.B", "OUTBOUND", "66.42.71.15", K_C2, 0},
	[E_C2_DNS] = {"Backdoor:EC2/C&CActivity.B!DNS", NULL, "gate-update.net", K_C2, 0},
	[E_TORC] = {"UnauthorizedAccess:EC2/TorClient", "OUTBOUND", "92.38.135.17", K_TORCLIENT, 0},
	[E_TORR] = {"UnauthorizedAccess:EC2/TorRelay", NULL, "92.38.135.11", K_TORRELAY, 0},
	[E_CUSTIP] = {"UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "OUTBOUND", "154.16.49.77",
		      K_CUSTIP, 0},
	[E_BH] = {"Trojan:EC2/BlackholeTraffic", "OUTBOUND", "172.96.13.32/28", K_BLACKHOLE, 0},
	[E_BH_DNS] = {"Trojan:EC2/BlackholeTraffic!DNS", NULL, "blackhole-sink.org", K_BLACKHOLE, 0},
	[E_DROP] = {"Trojan:EC2/DropPoint", "OUTBOUND", "193.29.56.44", K_DROP, 0},
	[E_DROP_DNS] = {"Trojan:EC2/DropPoint!DNS", NULL, "drop-vault.net", K_DROP, 0},
	[E_CUSTDNS] = {"Impact:EC2/MaliciousDomainRequest.Custom", NULL, "badactor-portal.com",
		       K_CUSTDNS, 0},
	[E_IAM_MAL] = {"UnauthorizedAccess:IAMUser/MaliciousIPCaller", NULL, "66.42.71.128/28", K__N,
		       U_BACKUP},
	[E_RECON_MAL] = {"Recon:IAMUser/MaliciousIPCaller", NULL, "66.42.71.128/28", K__N, U_REPORTS},
	[E_IAM_MAL_CUST] = {"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", NULL,
			    "154.16.49.160/27", K__N, U_CAROL},
	[E_RECON_MAL_CUST] = {"Recon:IAMUser/MaliciousIPCaller.Custom", NULL, "154.16.49.160/27", K__N,
			      U_DAVE},
	[E_IAM_TOR] = {"UnauthorizedAccess:IAMUser/TorIPCaller", NULL, "139.59.12.25", K__N, U_ETL},
	[E_RECON_TOR] = {"Recon:IAMUser/TorIPCaller", NULL, "139.59.12.26", K__N, U_ERIN},
};

/* Network-behaviour findings, in truth.json order after the threat-list
 * ones. Baseline entries need a learned baseline (7 days of an ENI's
 * data): they are injected on day 9 and only when --days >= 9. The others
 * happen inside the first min(days, 6) days, while every ENI is still
 * learning, so their new ports and volumes never make a second,
 * "unusual" finding however long the run is. Optional entries may or may
 * not fire (GuardDuty and the contract leave it open); when they do they
 * must fit like the others. */
enum nexp_ix {
	N_NPU, N_SPAM, N_VOL, N_RESOLV, N_DOH, N_DOT, N_DOT_NPU,
	N_PROBE_ES, N_PROBE_DB, N_EMR, N_EMR_PP, N_PSCAN, N_PSWEEP,
	N_SSH_T, N_RDP_T, N_WINRM_T, N_SSH_A, N_RDP_A, N_WINRM_A,
	N_DOS_TCP, N_DOS_UDP, N_DOS_UDPTCP, N_DOS_PROTO, N_DOS_DNS,
	N_EXFIL, N_DGA, N_REBIND,
	N_ABUSED, N_BITCOIN, N_MALICIOUS, N_SUSPICIOUS, N_DRIVEBY, N_PHISHING, N_DGA_C, N__N
};

static const struct nexpdef {
	const char *type, *role, *dir, *indicator;
	enum kind kind;
	int baseline, optional;
	int dnslist;	/* --attacks dnslists: a query for a domain on that list */
} NEXP[N__N] = {
	[N_NPU] = {"Behavior:EC2/NetworkPortUnusual", "ACTOR", "OUTBOUND", "tcp/6667 185.117.88.30", K_NPU, 1, 0},
	[N_SPAM] = {"Backdoor:EC2/Spambot", "ACTOR", "OUTBOUND", "tcp/25 to 40 MX hosts", K_SPAM, 1, 0},
	[N_VOL] = {"Behavior:EC2/TrafficVolumeUnusual", "ACTOR", NULL, "3 GB in an hour to 195.154.88.30", K_VOL, 1, 0},
	[N_RESOLV] = {"DefenseEvasion:EC2/UnusualDNSResolver", "ACTOR", NULL, "udp/53 77.88.8.8", K_RESOLV, 1, 0},
	[N_DOH] = {"DefenseEvasion:EC2/UnusualDoHActivity", "ACTOR", NULL, "tcp/443 1.1.1.1", K_DOH, 1, 0},
	[N_DOT] = {"DefenseEvasion:EC2/UnusualDoTActivity", "ACTOR", NULL, "tcp/853 9.9.9.9", K_DOT, 1, 0},
	[N_DOT_NPU] = {"Behavior:EC2/NetworkPortUnusual", "ACTOR", "OUTBOUND", "tcp/853 9.9.9.9 (optional: a new port too)", K_DOT, 1, 1},
	[N_PROBE_ES] = {"Recon:EC2/PortProbeUnprotectedPort", "TARGET", NULL, "tcp/9200 from 6 hosts", K_PROBE_ES, 0, 0},
	[N_PROBE_DB] = {"Recon:EC2/PortProbeUnprotectedPort", "TARGET", NULL, "tcp/3306 from 5 hosts", K_PROBE_DB, 0, 0},
	[N_EMR] = {"Recon:EC2/PortProbeEMRUnprotectedPort", "TARGET", NULL, "tcp/8088 from 5 hosts", K_EMR, 0, 0},
	[N_EMR_PP] = {"Recon:EC2/PortProbeUnprotectedPort", "TARGET", NULL, "tcp/8088 (optional: the generic type too)", K_EMR, 0, 1},
	[N_PSCAN] = {"Recon:EC2/Portscan", "ACTOR", "OUTBOUND", "200 ports of 5.161.77.10", K_PSCAN, 0, 0},
	[N_PSWEEP] = {"Impact:EC2/PortSweep", "ACTOR", "OUTBOUND", "tcp/6379 on 300 hosts", K_PSWEEP, 0, 0},
	[N_SSH_T] = {"UnauthorizedAccess:EC2/SSHBruteForce", "TARGET", "INBOUND", "116.105.215.80", K_SSH_T, 0, 0},
	[N_RDP_T] = {"UnauthorizedAccess:EC2/RDPBruteForce", "TARGET", "INBOUND", "91.191.209.22", K_RDP_T, 0, 0},
	[N_WINRM_T] = {"Impact:EC2/WinRMBruteForce", "TARGET", "INBOUND", "185.224.128.17", K_WINRM_T, 0, 0},
	[N_SSH_A] = {"UnauthorizedAccess:EC2/SSHBruteForce", "ACTOR", "OUTBOUND", "159.65.140.21", K_SSH_A, 0, 0},
	[N_RDP_A] = {"UnauthorizedAccess:EC2/RDPBruteForce", "ACTOR", "OUTBOUND", "20.115.60.12", K_RDP_A, 0, 0},
	[N_WINRM_A] = {"Impact:EC2/WinRMBruteForce", "ACTOR", "OUTBOUND", "52.160.80.33", K_WINRM_A, 0, 0},
	[N_DOS_TCP] = {"Backdoor:EC2/DenialOfService.Tcp", "ACTOR", "OUTBOUND", "tcp/80 51.89.14.120", K_DOS_TCP, 0, 0},
	[N_DOS_UDP] = {"Backdoor:EC2/DenialOfService.Udp", "ACTOR", "OUTBOUND", "udp/27015 144.76.40.8", K_DOS_UDP, 0, 0},
	[N_DOS_UDPTCP] = {"Backdoor:EC2/DenialOfService.UdpOnTcpPorts", "ACTOR", "OUTBOUND", "udp/80 5.9.120.77", K_DOS_UDPTCP, 0, 0},
	[N_DOS_PROTO] = {"Backdoor:EC2/DenialOfService.UnusualProtocol", "ACTOR", "OUTBOUND", "proto 47 (GRE) 88.99.60.2", K_DOS_PROTO, 0, 0},
	[N_DOS_DNS] = {"Backdoor:EC2/DenialOfService.Dns", "ACTOR", "OUTBOUND", "udp 53->53 185.60.216.35", K_DOS_DNS, 0, 0},
	[N_EXFIL] = {"Trojan:EC2/DNSDataExfiltration", "ACTOR", NULL, "cdn-metrics-sync.com", K_EXFIL, 0, 0},
	[N_DGA] = {"Trojan:EC2/DGADomainRequest.B", "ACTOR", NULL, "40 generated domains", K_DGA, 0, 0},
	[N_REBIND] = {"UnauthorizedAccess:EC2/MetadataDNSRebind", "ACTOR", NULL, "c2fd1a.rebind-lab.net", K_REBIND, 0, 0},
	[N_ABUSED] = {"Impact:EC2/AbusedDomainRequest.Reputation", "ACTOR", NULL, "myhome.dyn-home-sim.net", K_DNSLIST, 0, 0, 1},
	[N_BITCOIN] = {"Impact:EC2/BitcoinDomainRequest.Reputation", "ACTOR", NULL, "seed.btc-node-sim.org", K_DNSLIST, 0, 0, 1},
	[N_MALICIOUS] = {"Impact:EC2/MaliciousDomainRequest.Reputation", "ACTOR", NULL, "cdn.malware-drop-sim.com", K_DNSLIST, 0, 0, 1},
	[N_SUSPICIOUS] = {"Impact:EC2/SuspiciousDomainRequest.Reputation", "ACTOR", NULL, "free-vpn-sim.xyz", K_DNSLIST, 0, 0, 1},
	[N_DRIVEBY] = {"Trojan:EC2/DriveBySourceTraffic!DNS", "ACTOR", NULL, "ek-landing-sim.info", K_DNSLIST, 0, 0, 1},
	[N_PHISHING] = {"Trojan:EC2/PhishingDomainRequest!DNS", "ACTOR", NULL, "account.secure-login-sim.com", K_DNSLIST, 0, 0, 1},
	[N_DGA_C] = {"Trojan:EC2/DGADomainRequest.C!DNS", "ACTOR", NULL, "qxvbtzkwplmnrs.biz", K_DNSLIST, 0, 0, 1},
};

/* The lists of --attacks dnslists: file, scan category, contents. */
static const struct {
	const char *file, *cat, *text;
} DNSLISTS[] = {
	{"intel/abused.txt", "abused", "myhome.dyn-home-sim.net\n"},
	{"intel/bitcoin.txt", "bitcoin", "btc-node-sim.org\n"},
	{"intel/malicious.txt", "malicious", "malware-drop-sim.com\n"},
	{"intel/suspicious.txt", "suspicious", "free-vpn-sim.xyz\n"},
	{"intel/driveby.txt", "driveby", "ek-landing-sim.info\n"},
	{"intel/phishing.txt", "phishing", "secure-login-sim.com\n"},
	{"intel/dga.txt", "dga", "qxvbtzkwplmnrs.biz\n"},
};

/* Where benign software goes: package mirrors and AWS endpoints. */
static const struct dest {
	const char *name;
	uint32_t ip;
	int spread;	/* answers vary in the last octet by up to this */
} DESTS[] = {
	{"deb.debian.org", IP4(151, 101, 2, 132), 0},
	{"security.debian.org", IP4(151, 101, 66, 132), 0},
	{"github.com", IP4(140, 82, 112, 3), 2},
	{"api.github.com", IP4(140, 82, 112, 6), 0},
	{"objects.githubusercontent.com", IP4(185, 199, 108, 133), 3},
	{"pypi.org", IP4(151, 101, 0, 223), 0},
	{"files.pythonhosted.org", IP4(151, 101, 64, 223), 0},
	{"registry.npmjs.org", IP4(151, 101, 128, 162), 0},
	{"s3.amazonaws.com", IP4(3, 5, 0, 10), 200},
	{"s3.us-east-1.amazonaws.com", IP4(3, 5, 8, 20), 200},
	{"ec2.us-east-1.amazonaws.com", IP4(52, 94, 224, 10), 100},
	{"sts.amazonaws.com", IP4(52, 94, 236, 248), 4},
	{"ssm.us-east-1.amazonaws.com", IP4(52, 94, 232, 20), 30},
	{"logs.us-east-1.amazonaws.com", IP4(52, 94, 240, 30), 30},
	{"monitoring.us-east-1.amazonaws.com", IP4(52, 94, 244, 40), 30},
	{"dynamodb.us-east-1.amazonaws.com", IP4(52, 94, 0, 50), 100},
};

struct sim {
	const struct mm_sim_opts *o;
	struct mm_err *err;
	int rc;			/* sticky first error of the buffer writers */
	struct rng est;		/* estate stream */
	struct rng r;		/* current hour's stream */
	int64_t t0, t1;		/* run window, epoch seconds */
	struct vpc vpc[2];
	struct inst *inst;
	int ninst, cap_inst, npub;
	int ix[K__N];		/* first instance of each kind (unit 0) */
	char sg[K__N][24];
	struct user users[U__N];
	char profile_id[3][24];
	/* attack schedule (epoch seconds) */
	int64_t a0[E__N], a1[E__N];
	int64_t launch;		/* RunInstances */
	/* observed event-time window of each expected finding */
	int64_t first[E__N], last[E__N];
	int intel, net, dnsl;	/* --attacks */
	int ctr;		/* --attacks ctrules: its state is in ctr_* below */
	int base_ok;		/* the run is long enough for baseline behaviours */
	int64_t n0[N__N];	/* network attack start (epoch seconds) */
	int64_t nfirst[N__N], nlast[N__N];
	struct mm_buf flow[2], dns[2], ct, tmp;
	int nct;		/* records in ct */
	unsigned char *z;
	size_t zcap;
	struct mm_sim_stats st;
	char attacks_str[48];	/* truth's "attacks" */
	/* --attacks ctrules (the "CloudTrail single-record rules" block) */
	struct user ctr_users[24];
	int64_t ctr_t[24];	/* when each positive / look-alike record happens */
	/* --attacks iam (the "principal baselines and sequences" block) */
	int iam;
	struct user iam_users[8];
	char iam_key[24];	/* the stolen instance-role session's key */
	int64_t iam_t0;		/* the attack day (day 9) */
	int64_t iam_first[16], iam_last[16];
};

static void add(struct sim *s, struct mm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add(struct sim *s, struct mm_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[16384];
	int n;

	if (s->rc)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof small) {
		s->rc = mm_err_set(s->err, MM_ETOOBIG, "sim: record too long");
		return;
	}
	if (mm_buf_add(b, small, (size_t)n))
		s->rc = mm_err_set(s->err, MM_ENOMEM, "sim: out of memory for an output buffer");
}

static void ntrack(struct sim *s, enum nexp_ix e, int64_t a, int64_t b)
{
	if (!s->nfirst[e] || a < s->nfirst[e])
		s->nfirst[e] = a;
	if (b > s->nlast[e])
		s->nlast[e] = b;
}

static void track(struct sim *s, enum exp_ix e, int64_t a, int64_t b)
{
	if (!s->first[e] || a < s->first[e])
		s->first[e] = a;
	if (b > s->last[e])
		s->last[e] = b;
}

/* ---- files ---- */

static int mkdirs(char *path, struct mm_err *err)
{
	char *p;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			int e = errno;
			*p = '/';
			return mm_err_set(err, MM_EIO, "cannot create %s: %s", path, strerror(e));
		}
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return mm_err_set(err, MM_EIO, "cannot create %s: %s", path, strerror(errno));
	return 0;
}

static int write_file(struct sim *s, const char *path, const void *p, size_t n)
{
	FILE *f;
	char dir[SIM_PATH_MAX];
	char *slash;
	int rc = 0;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if ((rc = mkdirs(dir, s->err)))
			return rc;
	}
	f = fopen(path, "wb");
	if (!f)
		return mm_err_set(s->err, MM_EIO, "cannot write %s: %s", path, strerror(errno));
	if (n && fwrite(p, 1, n, f) != n)
		rc = mm_err_set(s->err, MM_EIO, "cannot write %s: %s", path, strerror(errno));
	if (fclose(f) && !rc)
		rc = mm_err_set(s->err, MM_EIO, "cannot write %s: %s", path, strerror(errno));
	if (!rc)
		s->st.files++;
	return rc;
}

static voidpf zalloc_fn(voidpf opaque, uInt items, uInt size) { return mm_calloc(items, size); }
static void zfree_fn(voidpf opaque, voidpf p) { mm_free(p); }

/* gzip (deterministic: mtime 0) and write. */
static int write_gz(struct sim *s, const char *path, const char *data, size_t n)
{
	z_stream z;
	size_t bound;
	int rc;

	memset(&z, 0, sizeof z);
	z.zalloc = zalloc_fn;
	z.zfree = zfree_fn;
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return mm_err_set(s->err, MM_ENOMEM, "sim: zlib init failed");
	bound = deflateBound(&z, (uLong)n) + 64;
	if (bound > s->zcap) {
		unsigned char *nz = mm_realloc(s->z, bound);
		if (!nz) {
			deflateEnd(&z);
			return mm_err_set(s->err, MM_ENOMEM, "sim: out of memory");
		}
		s->z = nz;
		s->zcap = bound;
	}
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)n;
	z.next_out = s->z;
	z.avail_out = (uInt)s->zcap;
	rc = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (rc != Z_STREAM_END)
		return mm_err_set(s->err, MM_EIO, "sim: deflate failed for %s", path);
	s->st.bytes_raw += n;
	s->st.bytes_gz += z.total_out;
	return write_file(s, path, s->z, z.total_out);
}

/* ".../YYYY/MM/DD" prefix and "YYYYMMDDTHHmmZ" stamp of t. */
static void datepath(int64_t t, char *ymd, char *stamp)
{
	struct civil c;
	civil_of(t, &c);
	snprintf(ymd, 16, "%04d/%02d/%02d", c.y, c.mo, c.d);
	snprintf(stamp, 16, "%04d%02d%02dT%02d%02dZ", c.y, c.mo, c.d, c.h, c.mi);
}

/* ---- flow records ---- */

enum { ST_OK = 0, ST_NODATA, ST_SKIPDATA };

struct rec {
	uint32_t src, dst;
	int sport, dport, proto, flags, reject, status, ingress;
	uint64_t packets, bytes;
	int64_t start, end;
};

static const char FLOW_V2_HEADER[] = "version account-id interface-id srcaddr dstaddr srcport dstport "
				     "protocol packets bytes start end action log-status\n";
static const char FLOW_V5_HEADER[] =
	"version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport "
	"dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags "
	"log-status flow-direction traffic-path\n";

static void flow_emit(struct sim *s, const struct inst *in, const struct rec *r)
{
	const struct vpc *v = &s->vpc[in->vpc];
	struct mm_buf *b = &s->flow[in->vpc];
	char a[16], d[16];

	s->st.flow_records++;
	if (r->status != ST_OK) {
		const char *st = r->status == ST_NODATA ? "NODATA" : "SKIPDATA";
		if (v->custom)
			add(s, b, "5 %s %s %s %s %s - - - - - - - - - - %lld %lld - - %s - -\n", v->id,
			    v->subnet[in->subnet], in->id, in->eni, ACCOUNT, (long long)r->start,
			    (long long)r->end, st);
		else
			add(s, b, "2 %s %s - - - - - - - %lld %lld - %s\n", ACCOUNT, in->eni,
			    (long long)r->start, (long long)r->end, st);
		return;
	}
	fmt_ip(r->src, a);
	fmt_ip(r->dst, d);
	if (v->custom) {
		/* traffic-path is logged for egress only: 1 inside the VPC, 8 through the IGW/NAT */
		int local = (r->dst >> 16) == IP4(10, 0, 0, 0) >> 16 ||
			    (r->dst >> 16) == IP4(10, 1, 0, 0) >> 16;
		char tp[4] = "-";
		if (!r->ingress)
			snprintf(tp, sizeof tp, "%d", local ? 1 : 8);
		add(s, b, "5 %s %s %s %s %s IPv4 %s %s %d %d %s %s %d %llu %llu %lld %lld %s %d OK %s %s\n",
		    v->id, v->subnet[in->subnet], in->id, in->eni, ACCOUNT, a, d, r->sport, r->dport, a,
		    d, r->proto, (unsigned long long)r->bytes, (unsigned long long)r->packets,
		    (long long)r->start, (long long)r->end, r->reject ? "REJECT" : "ACCEPT", r->flags,
		    r->ingress ? "ingress" : "egress", tp);
	} else {
		add(s, b, "2 %s %s %s %s %d %d %d %llu %llu %lld %lld %s OK\n", ACCOUNT, in->eni, a, d,
		    r->sport, r->dport, r->proto, (unsigned long long)r->packets,
		    (unsigned long long)r->bytes, (long long)r->start, (long long)r->end,
		    r->reject ? "REJECT" : "ACCEPT");
	}
}

static int eph(struct sim *s) { return 32768 + (int)rnd(&s->r, 28232); }

/* Aggregation window of t for in's flow log: [*ws, *we). */
static void window_of(const struct sim *s, const struct inst *in, int64_t t, int64_t *ws, int64_t *we)
{
	int w = s->vpc[in->vpc].window;
	*ws = t - t % w;
	*we = *ws + w;
}

/* Packets and bytes of one direction of a connection as a flow log
 * counts them (IP and transport headers included). TCP: the data in
 * 1448-byte segments, one delayed ACK per two of the peer's segments, and
 * the handshake and FIN packets (4 for the initiator: SYN, ACK, FIN, last
 * ACK; 3 for the responder), 52 header bytes a packet (IP + TCP with
 * timestamps). So even a tiny HTTPS request is 6+ packets: only scanners
 * and refused connections produce the 1-3 packet records probes have.
 * UDP: one datagram per 1400 bytes, 28 header bytes. */
static void dir_count(struct sim *s, int proto, uint64_t data, uint64_t peer, int initiator,
		      uint64_t *pk, uint64_t *by)
{
	uint64_t n;
	if (proto != 6) {
		n = data / 1400 + 1;
		*pk = n;
		*by = data + 28 * n;
		return;
	}
	n = (data + 1447) / 1448 + ((peer + 1447) / 1448 + 1) / 2 + (initiator ? 4 : 3) +
	    rnd(&s->r, 2);
	*pk = n;
	*by = data + 52 * n + 8;	/* SYN options */
}

/* One connection as in's ENI logs it: the request record and the
 * response record. out: in initiated it. req/resp are payload bytes; a
 * TCP connection with no response (resp 0) is SYNs only, without a
 * response record. Returns the record window end. */
static int64_t conn(struct sim *s, const struct inst *in, uint32_t remote, int lport, int rport,
		    int out, int proto, int64_t t, uint64_t req, uint64_t resp)
{
	struct rec q, p;
	int64_t ws, we;

	window_of(s, in, t, &ws, &we);
	memset(&q, 0, sizeof q);
	q.proto = proto;
	q.start = t;
	q.end = we - rnd(&s->r, 5);
	if (q.end <= q.start)
		q.end = q.start + 1;
	q.src = out ? in->ip : remote;
	q.dst = out ? remote : in->ip;
	q.sport = out ? lport : rport;
	q.dport = out ? rport : lport;
	q.flags = proto == 6 ? 3 : 0;
	q.ingress = !out;
	if (proto == 6 && !resp) {
		q.packets = 1 + rnd(&s->r, 3);	/* SYN and its retransmissions */
		q.bytes = 60 * q.packets;
		q.flags = 2;
		flow_emit(s, in, &q);
		return q.end;
	}
	dir_count(s, proto, req, resp, 1, &q.packets, &q.bytes);
	p = q;
	p.src = q.dst;
	p.dst = q.src;
	p.sport = q.dport;
	p.dport = q.sport;
	dir_count(s, proto, resp, req, 0, &p.packets, &p.bytes);
	p.flags = proto == 6 ? 19 : 0;
	p.ingress = out;
	flow_emit(s, in, &q);
	flow_emit(s, in, &p);
	return q.end;
}

/* a connects to b inside the VPC: both ENIs log both directions. */
static void conn_internal(struct sim *s, const struct inst *a, const struct inst *b, int port,
			  int64_t t, uint64_t req, uint64_t resp)
{
	int sp = eph(s);
	conn(s, a, b->ip, sp, port, 1, 6, t, req, resp);
	conn(s, b, a->ip, port, sp, 0, 6, t, req, resp);
}

static void probe(struct sim *s, const struct inst *in, uint32_t from, int dport, int64_t t)
{
	struct rec q;
	int64_t ws, we;
	window_of(s, in, t, &ws, &we);
	memset(&q, 0, sizeof q);
	q.src = from;
	q.dst = in->ip;
	q.sport = eph(s);
	q.dport = dport;
	q.proto = 6;
	q.flags = 2;
	q.reject = 1;
	q.ingress = 1;
	q.packets = 1 + rnd(&s->r, 2);
	q.bytes = 40 * q.packets + 4 * rnd(&s->r, 2);
	q.start = t;
	q.end = we;
	flow_emit(s, in, &q);
}

static void nodata(struct sim *s, const struct inst *in, int64_t t, int status)
{
	struct rec q;
	int64_t ws, we;
	window_of(s, in, t, &ws, &we);
	memset(&q, 0, sizeof q);
	q.status = status;
	q.start = ws;
	q.end = we;
	flow_emit(s, in, &q);
}

/* ---- DNS ---- */

/* One resolver log line; answers is the JSON array. */
static void dns_emit_raw(struct sim *s, const struct inst *in, int64_t t, const char *qname,
			 const char *qtype, const char *ans, const char *rcode)
{
	struct mm_buf *b = &s->dns[in->vpc];
	char ts[24], src[16], ids[64] = "{}";

	s->st.dns_records++;
	/* The C2 instance's resolver logs miss srcids for every other query:
	 * the scanner must map srcaddr -> instance through the inventory. */
	if (!(in->kind == K_C2 && rnd(&s->r, 2) == 0))
		snprintf(ids, sizeof ids, "{\"instance\":\"%s\"}", in->id);
	add(s, b,
	    "{\"version\":\"1.100000\",\"account_id\":\"%s\",\"region\":\"%s\",\"vpc_id\":\"%s\","
	    "\"query_timestamp\":\"%s\",\"query_name\":\"%s.\",\"query_type\":\"%s\","
	    "\"query_class\":\"IN\",\"rcode\":\"%s\",\"answers\":%s,\"srcaddr\":\"%s\","
	    "\"srcport\":\"%d\",\"transport\":\"UDP\",\"srcids\":%s}\n",
	    ACCOUNT, REGION, s->vpc[in->vpc].id, iso(t, ts), qname, qtype, rcode, ans,
	    fmt_ip(in->ip, src), eph(s), ids);
}

static void dns_emit(struct sim *s, const struct inst *in, int64_t t, const char *qname,
		     const char *qtype, uint32_t answer, const char *rcode)
{
	char ans[160] = "[]", a[16];
	if (answer)
		snprintf(ans, sizeof ans, "[{\"Rdata\":\"%s\",\"Type\":\"%s\",\"Class\":\"IN\"}]",
			 fmt_ip(answer, a), qtype);
	dns_emit_raw(s, in, t, qname, qtype, ans, rcode);
}

static void dns_background(struct sim *s, const struct inst *in, int64_t hs, int n)
{
	int i;
	for (i = 0; i < n; i++) {
		const struct dest *d = &DESTS[rnd(&s->r, MM_ARRAY_LEN(DESTS))];
		int64_t t = hs + rnd(&s->r, HOUR);
		uint32_t ip = d->ip + (d->spread ? rnd(&s->r, (uint32_t)d->spread) : 0);
		if (rnd(&s->r, 10) == 0)
			dns_emit(s, in, t, d->name, "AAAA", 0, "NOERROR");
		else
			dns_emit(s, in, t, d->name, "A", ip, "NOERROR");
	}
}

/* ---- CloudTrail ---- */

static void uuid(struct sim *s, char *out)
{
	char h[33];
	rnd_chars(&s->r, h, 32, HEX);
	snprintf(out, 37, "%.8s-%.4s-4%.3s-a%.3s-%.12s", h, h + 8, h + 12, h + 15, h + 18);
}

static const char UA_CLI[] = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off";
static const char UA_SDK[] = "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8";
static const char UA_CONSOLE[] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";

/* One record. ident is the userIdentity JSON, req/resp raw JSON or NULL. */
static void ct(struct sim *s, int64_t t, const char *ident, const char *ip, const char *src,
	       const char *name, const char *ua, const char *req, const char *resp, int ro, int data)
{
	char ts[24], eid[40], rid[40];
	uuid(s, eid);
	uuid(s, rid);
	s->st.ct_records++;
	add(s, &s->ct,
	    "%s{\"eventVersion\":\"1.09\",\"userIdentity\":%s,\"eventTime\":\"%s\",\"eventSource\":\"%s\","
	    "\"eventName\":\"%s\",\"awsRegion\":\"%s\",\"sourceIPAddress\":\"%s\",\"userAgent\":\"%s\","
	    "\"requestParameters\":%s,\"responseElements\":%s,\"requestID\":\"%s\",\"eventID\":\"%s\","
	    "\"readOnly\":%s,\"eventType\":\"AwsApiCall\",\"managementEvent\":%s,"
	    "\"recipientAccountId\":\"%s\",\"eventCategory\":\"%s\"}",
	    s->nct ? ",\n" : "", ident, iso(t, ts), src, name, REGION, ip, ua, req ? req : "null",
	    resp ? resp : "null", rid, eid, ro ? "true" : "false", data ? "false" : "true", ACCOUNT,
	    data ? "Data" : "Management");
	s->nct++;
}

static void ident_user(const struct user *u, int with_key, char *out, size_t cap)
{
	snprintf(out, cap,
		 "{\"type\":\"IAMUser\",\"principalId\":\"%s\",\"arn\":\"arn:aws:iam::%s:user/%s\","
		 "\"accountId\":\"%s\"%s%s%s,\"userName\":\"%s\"}",
		 u->pid, ACCOUNT, u->name, ACCOUNT, with_key ? ",\"accessKeyId\":\"" : "",
		 with_key ? u->key : "", with_key ? "\"" : "", u->name);
}

static void ident_role(struct sim *s, const char *role, const char *session, char *out, size_t cap)
{
	char key[21], cd[24];
	unsigned pidx = (unsigned)(mm_hash(role, strlen(role), 7) % 3);
	rnd_chars(&s->r, key + 4, 16, B32);
	memcpy(key, "ASIA", 4);
	snprintf(out, cap,
		 "{\"type\":\"AssumedRole\",\"principalId\":\"%s:%s\",\"arn\":\"arn:aws:sts::%s:assumed-role/%s/%s\","
		 "\"accountId\":\"%s\",\"accessKeyId\":\"%s\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\","
		 "\"principalId\":\"%s\",\"arn\":\"arn:aws:iam::%s:role/%s\",\"accountId\":\"%s\",\"userName\":\"%s\"},"
		 "\"attributes\":{\"creationDate\":\"%s\",\"mfaAuthenticated\":\"false\"}}}",
		 s->profile_id[pidx], session, ACCOUNT, role, session, ACCOUNT, key, s->profile_id[pidx],
		 ACCOUNT, role, ACCOUNT, role, iso(s->t0, cd));
}

/* A call with an IAM user's access key. */
static void ct_key(struct sim *s, int64_t t, enum user_ix u, uint32_t ip, const char *src,
		   const char *name, const char *req, int ro)
{
	char id[512], a[16];
	ident_user(&s->users[u], 1, id, sizeof id);
	ct(s, t, id, fmt_ip(ip, a), src, name, rnd(&s->r, 2) ? UA_CLI : UA_SDK, req, NULL, ro, 0);
}

/* ---- building the estate ---- */

static int add_inst(struct sim *s, enum kind k, int unit, int *counter)
{
	static const uint32_t base[2][2] = {{IP4(10, 0, 0, 10), IP4(10, 0, 16, 10)},
					    {IP4(10, 1, 0, 10), IP4(10, 1, 16, 10)}};
	const struct kinfo *ki = &KINFO[k];
	struct inst *in;
	char h[32];

	if (s->ninst == s->cap_inst) {
		int ncap = s->cap_inst ? s->cap_inst * 2 : 64;
		struct inst *n = mm_realloc(s->inst, (size_t)ncap * sizeof *n);
		if (!n)
			return mm_err_set(s->err, MM_ENOMEM, "sim: out of memory");
		s->inst = n;
		s->cap_inst = ncap;
	}
	in = &s->inst[s->ninst];
	memset(in, 0, sizeof *in);
	in->kind = k;
	in->unit = unit;
	in->vpc = ki->vpc;
	in->subnet = ki->subnet;
	in->db = -1;
	rnd_chars(&s->est, h, 17, HEX);
	snprintf(in->id, sizeof in->id, "i-%.17s", h);
	rnd_chars(&s->est, h, 17, HEX);
	snprintf(in->eni, sizeof in->eni, "eni-%.17s", h);
	rnd_chars(&s->est, h, 17, HEX);
	snprintf(in->eni_attach, sizeof in->eni_attach, "eni-attach-%.17s", h);
	rnd_chars(&s->est, h, 10, HEX);
	snprintf(in->mac, sizeof in->mac, "0e:%c%c:%c%c:%c%c:%c%c:%c%c", h[0], h[1], h[2], h[3], h[4],
		 h[5], h[6], h[7], h[8], h[9]);
	in->ip = base[in->vpc][in->subnet] + (uint32_t)counter[in->vpc * 2 + in->subnet]++;
	if (ki->pub) {
		in->pub = IP4(3, 82, 16 + s->npub / 250, 2 + s->npub % 250);
		s->npub++;
	}
	if (k < K_MINER)
		snprintf(in->name, sizeof in->name, "%s-%02d", ki->name,
			 counter[4 + k]++ + 1);
	else
		snprintf(in->name, sizeof in->name, "%s", ki->name);
	in->launch = s->t0 - 86400 * (int64_t)(3 + rnd(&s->est, 200)) - rnd(&s->est, 86400);
	in->in_inventory = k != K_MINER;
	if (k < K__N && s->ix[k] < 0)
		s->ix[k] = s->ninst;
	s->ninst++;
	return 0;
}

static int build_estate(struct sim *s)
{
	int counter[4 + K__N] = {0};
	int u, i, k, rc;
	char h[32];

	for (i = 0; i < K__N; i++)
		s->ix[i] = -1;
	for (i = 0; i < 2; i++) {
		struct vpc *v = &s->vpc[i];
		rnd_chars(&s->est, h, 17, HEX);
		snprintf(v->id, sizeof v->id, "vpc-%.17s", h);
		rnd_chars(&s->est, h, 17, HEX);
		snprintf(v->fl, sizeof v->fl, "fl-%.17s", h);
		for (k = 0; k < 2; k++) {
			rnd_chars(&s->est, h, 17, HEX);
			snprintf(v->subnet[k], sizeof v->subnet[k], "subnet-%.17s", h);
		}
		v->custom = i == 1;
		v->window = i == 1 ? 60 : 600;
	}
	s->vpc[0].cidr = "10.0.0.0/16";
	s->vpc[0].subnet_cidr[0] = "10.0.0.0/20";
	s->vpc[0].subnet_cidr[1] = "10.0.16.0/20";
	s->vpc[1].cidr = "10.1.0.0/16";
	s->vpc[1].subnet_cidr[0] = "10.1.0.0/20";
	s->vpc[1].subnet_cidr[1] = "10.1.16.0/20";
	for (k = 0; k < K__N; k++) {
		rnd_chars(&s->est, h, 17, HEX);
		snprintf(s->sg[k], sizeof s->sg[k], "sg-%.17s", h);
	}
	for (k = 0; k < 3; k++) {
		rnd_chars(&s->est, h + 4, 17, B32);
		memcpy(h, "AROA", 4);
		snprintf(s->profile_id[k], sizeof s->profile_id[k], "%.21s", h);
	}
	for (k = 0; k < U__N; k++) {
		struct user *us = &s->users[k];
		us->name = USER_NAMES[k];
		memcpy(us->key, "AKIA", 4);
		rnd_chars(&s->est, us->key + 4, 16, B32);
		memcpy(us->pid, "AIDA", 4);
		rnd_chars(&s->est, us->pid + 4, 17, B32);
	}
	for (u = 0; u < s->o->scale; u++) {
		int db = -1, first = s->ninst;
		for (i = 0; i < (int)MM_ARRAY_LEN(UNIT_KINDS); i++) {
			if (UNIT_KINDS[i] == K_DB)
				db = s->ninst;
			if ((rc = add_inst(s, UNIT_KINDS[i], u, counter)))
				return rc;
		}
		if (u == 0 && s->intel)
			for (k = K_MINER; k < K_NET_FIRST; k++)
				if ((rc = add_inst(s, (enum kind)k, u, counter)))
					return rc;
		for (i = first; i < s->ninst; i++)
			s->inst[i].db = db;
	}
	/* after every unit, so the threat-list estate keeps its ids */
	for (k = K_NET_FIRST; k < K__N; k++) {
		if (k == K_DNSLIST ? !s->dnsl : !s->net)
			continue;
		if ((rc = add_inst(s, (enum kind)k, 0, counter)))
			return rc;
		s->inst[s->ninst - 1].db = s->inst[0].db;
	}
	return 0;
}

/* Round to the minute plus up to jitter minutes of the estate stream.
 * frac is of the run, but of at most its first 10 days: every threat-list
 * attack then starts before day 7, while each ENI still learns its
 * baseline, so its new ports and volumes never add a network finding
 * however long the run. */
static int64_t at(struct sim *s, double frac, int jitter_min)
{
	int64_t span = s->t1 - s->t0 < 10 * 86400 ? s->t1 - s->t0 : 10 * 86400;
	int64_t t = s->t0 + (int64_t)((double)span * frac);
	return t - t % 60 + 60 * (int64_t)rnd(&s->est, (uint32_t)jitter_min + 1);
}

static void schedule(struct sim *s)
{
	int i;
	s->launch = at(s, 0.25, 20);
	if (s->ix[K_MINER] >= 0)
		s->inst[s->ix[K_MINER]].launch = s->launch;
	s->a0[E_MINE] = s->launch + 600;
	s->a1[E_MINE] = at(s, 0.70, 10);
	s->a0[E_C2] = at(s, 0.30, 30);
	s->a1[E_C2] = at(s, 0.60, 30);
	s->a0[E_TORC] = at(s, 0.40, 30);
	s->a1[E_TORC] = s->a0[E_TORC] + 3 * HOUR;
	s->a0[E_TORR] = at(s, 0.50, 30);
	s->a1[E_TORR] = at(s, 0.85, 30);
	s->a0[E_CUSTIP] = at(s, 0.35, 30);
	s->a1[E_CUSTIP] = s->a0[E_CUSTIP] + HOUR;
	s->a0[E_BH] = at(s, 0.55, 30);
	s->a1[E_BH] = s->a0[E_BH] + 2 * HOUR;
	s->a0[E_DROP] = at(s, 0.62, 30);
	s->a1[E_DROP] = s->a0[E_DROP] + HOUR;
	s->a0[E_CUSTDNS] = at(s, 0.66, 30);
	s->a1[E_CUSTDNS] = s->a0[E_CUSTDNS] + HOUR;
	/* DNS twins share the flow windows; IAM bursts 45 minutes apart */
	s->a0[E_MINE_DNS] = s->a0[E_MINE];
	s->a1[E_MINE_DNS] = s->a1[E_MINE];
	s->a0[E_C2_DNS] = s->a0[E_C2];
	s->a1[E_C2_DNS] = s->a1[E_C2];
	s->a0[E_BH_DNS] = s->a0[E_BH];
	s->a1[E_BH_DNS] = s->a1[E_BH];
	s->a0[E_DROP_DNS] = s->a0[E_DROP];
	s->a1[E_DROP_DNS] = s->a1[E_DROP];
	for (i = E_IAM_MAL; i <= E_RECON_TOR; i++) {
		s->a0[i] = at(s, 0.20, 10) + (i - E_IAM_MAL) * 45 * 60;
		s->a1[i] = s->a0[i] + 10 * 60;
	}
}

/* Event times t = a0 + k*period (+ jitter) that fall inside [hs, hs+HOUR)
 * and [a0, a1). Iterate with: for (t = first(...); t; t = next(...)). */
static int64_t periodic_first(int64_t a0, int64_t a1, int64_t period, int64_t hs)
{
	int64_t t = a0;
	if (hs > a0)
		t = a0 + (hs - a0 + period - 1) / period * period;
	return t < a1 && t < hs + HOUR ? t : 0;
}

static int64_t periodic_next(int64_t t, int64_t a1, int64_t period, int64_t hs)
{
	t += period;
	return t < a1 && t < hs + HOUR ? t : 0;
}

#define EACH(t, e, period, hs)                                                      \
	for (int64_t t = periodic_first(s->a0[e], s->a1[e], (period), (hs)); t;    \
	     t = periodic_next(t, s->a1[e], (period), (hs)))

/* ---- one hour of logs ---- */

static const struct inst *pick_kind(struct sim *s, enum kind k, int unit)
{
	int i;
	for (i = 0; i < s->ninst; i++)
		if (s->inst[i].kind == k && s->inst[i].unit == unit)
			return &s->inst[i];
	return NULL;
}

static void background(struct sim *s, const struct inst *in, int64_t hs)
{
	struct civil c;
	int i, n;
	const struct dest *d;

	if (in->launch > hs)
		return;
	civil_of(hs, &c);
	switch (KINFO[in->kind].web ? K_WEB : in->kind) {
	case K_WEB:
		n = 50 + (int)rnd(&s->r, 40);
		for (i = 0; i < n; i++) {
			uint32_t client = IP4(24, 56, rnd(&s->r, 256), 1 + rnd(&s->r, 254));
			int port = rnd(&s->r, 100) < 85 ? 443 : 80;
			conn(s, in, client, port, eph(s), 0, 6, hs + rnd(&s->r, HOUR),
			     400 + rnd(&s->r, 2500), 2000 + rnd(&s->r, 60000));
		}
		/* benign: Tor users browsing the first web server through exits */
		if (in == &s->inst[s->ix[K_WEB]]) {
			n = 2 + (int)rnd(&s->r, 4);
			for (i = 0; i < n; i++)
				conn(s, in, IP4(139, 59, 12, 21 + rnd(&s->r, 8)), 443, eph(s), 0, 6,
				     hs + rnd(&s->r, HOUR), 600 + rnd(&s->r, 2000),
				     5000 + rnd(&s->r, 80000));
		}
		/* the other web tiers also call out, on 443 only */
		if (in->kind != K_WEB) {
			n = 2 + (int)rnd(&s->r, 4);
			for (i = 0; i < n; i++) {
				d = &DESTS[rnd(&s->r, MM_ARRAY_LEN(DESTS))];
				conn(s, in, d->ip + (d->spread ? rnd(&s->r, (uint32_t)d->spread) : 0), eph(s),
				     443, 1, 6, hs + rnd(&s->r, HOUR), 500 + rnd(&s->r, 4000),
				     1000 + rnd(&s->r, 200000));
			}
		}
		dns_background(s, in, hs, 2 + (int)rnd(&s->r, 3));
		break;
	case K_DB:
		if (rnd(&s->r, 4) == 0)
			dns_background(s, in, hs, 1);
		break;
	case K_BASTION:
		if (c.h >= 8 && c.h < 18) {
			n = (int)rnd(&s->r, 4);
			for (i = 0; i < n; i++) {
				int64_t t = hs + rnd(&s->r, HOUR);
				const struct inst *app = pick_kind(s, K_APP, in->unit);
				conn(s, in, OFFICE_IP(&s->r), 22, eph(s), 0, 6, t, 3000 + rnd(&s->r, 40000),
				     5000 + rnd(&s->r, 90000));
				if (app)
					conn_internal(s, in, app, 22, t + 30, 2000 + rnd(&s->r, 20000),
						      4000 + rnd(&s->r, 50000));
			}
			dns_background(s, in, hs, 1 + (int)rnd(&s->r, 2));
		} else {
			/* a quiet bastion at night: every window NODATA */
			for (i = 0; i < HOUR; i += s->vpc[in->vpc].window)
				nodata(s, in, hs + i, ST_NODATA);
		}
		break;
	default:
		if (KINFO[in->kind].applike && in->db >= 0) {
			n = 12 + (int)rnd(&s->r, 12);
			for (i = 0; i < n; i++)
				conn_internal(s, in, &s->inst[in->db], 5432, hs + rnd(&s->r, HOUR),
					      300 + rnd(&s->r, 3000), 500 + rnd(&s->r, 40000));
		}
		n = (KINFO[in->kind].applike ? 4 : 10) + (int)rnd(&s->r, 12);
		for (i = 0; i < n; i++) {
			d = &DESTS[rnd(&s->r, MM_ARRAY_LEN(DESTS))];
			conn(s, in, d->ip + (d->spread ? rnd(&s->r, (uint32_t)d->spread) : 0), eph(s), 443,
			     1, 6, hs + rnd(&s->r, HOUR), 500 + rnd(&s->r, 4000),
			     1000 + rnd(&s->r, 200000));
		}
		dns_background(s, in, hs, 4 + (int)rnd(&s->r, 6));
		break;
	}
}

static void attacks_net(struct sim *s, int64_t hs)
{
	const struct inst *in;
	int64_t e;
	int i;

	/* miner: a long-lived stratum session, logged every window */
	in = &s->inst[s->ix[K_MINER]];
	EACH(t, E_MINE, 600, hs) {
		int port = (t / 600) % 6 == 0 ? 14444 : 3333;
		e = conn(s, in, IP4(38, 132, 99, 20), 41000 + (int)((t / 3600) % 1000), port, 1, 6, t,
			 20000 + rnd(&s->r, 40000), 10000 + rnd(&s->r, 30000));
		track(s, E_MINE, t, e);
	}
	EACH(t, E_MINE_DNS, 6 * HOUR, hs) {
		dns_emit(s, in, t + 5, "eu1.xmrpool-relay.net", "A", IP4(38, 132, 99, 20), "NOERROR");
		track(s, E_MINE_DNS, t + 5, t + 5);
		if (t == s->a0[E_MINE_DNS]) {
			dns_emit(s, in, t + 9, "xmrpool-relay.net", "A", IP4(38, 132, 99, 20), "NOERROR");
			track(s, E_MINE_DNS, t + 9, t + 9);
		}
	}
	/* C2 beacon every 5 minutes (+ jitter), small and regular */
	in = &s->inst[s->ix[K_C2]];
	EACH(t, E_C2, 300, hs) {
		int64_t tt = t + (int64_t)(mm_hash_mix((uint64_t)t ^ s->o->seed) % 20);
		e = conn(s, in, IP4(66, 42, 71, 15), eph(s), 443, 1, 6, tt, 300 + rnd(&s->r, 200),
			 200 + rnd(&s->r, 150));
		track(s, E_C2, tt, e);
	}
	EACH(t, E_C2_DNS, 1800, hs) {
		dns_emit(s, in, t, "gate-update.net", "A", IP4(66, 42, 71, 15), "NOERROR");
		track(s, E_C2_DNS, t, t);
	}
	/* Tor client: out to non-exit relays on 9001 and 443 */
	in = &s->inst[s->ix[K_TORCLIENT]];
	EACH(t, E_TORC, 120, hs) {
		e = conn(s, in, IP4(92, 38, 135, 17 + rnd(&s->r, 3)), eph(s), rnd(&s->r, 3) ? 9001 : 443,
			 1, 6, t, 3000 + rnd(&s->r, 20000), 8000 + rnd(&s->r, 60000));
		track(s, E_TORC, t, e);
	}
	/* Tor relay: accepts relays on its ORPort 9001 and extends circuits out */
	in = &s->inst[s->ix[K_TORRELAY]];
	EACH(t, E_TORR, 600, hs) {
		for (i = 0; i < 3; i++) {
			e = conn(s, in, IP4(92, 38, 135, 11 + i), 9001, eph(s), 0, 6, t + i * 7,
				 200000 + rnd(&s->r, 800000), 200000 + rnd(&s->r, 800000));
			track(s, E_TORR, t + i * 7, e);
		}
		e = conn(s, in, IP4(92, 38, 135, 14 + rnd(&s->r, 3)), eph(s), 9001, 1, 6, t + 30,
			 100000 + rnd(&s->r, 500000), 100000 + rnd(&s->r, 500000));
		track(s, E_TORR, t + 30, e);
	}
	/* custom-list IP */
	in = &s->inst[s->ix[K_CUSTIP]];
	EACH(t, E_CUSTIP, 600, hs) {
		e = conn(s, in, IP4(154, 16, 49, 77), eph(s), 8443, 1, 6, t, 900 + rnd(&s->r, 900),
			 2000 + rnd(&s->r, 3000));
		track(s, E_CUSTIP, t, e);
	}
	/* black hole: a listed /28, with its DNS name */
	in = &s->inst[s->ix[K_BLACKHOLE]];
	EACH(t, E_BH, 900, hs) {
		e = conn(s, in, IP4(172, 96, 13, 40), eph(s), 80, 1, 6, t, 120 + rnd(&s->r, 60), 0);
		track(s, E_BH, t, e);
	}
	EACH(t, E_BH_DNS, 1800, hs) {
		dns_emit(s, in, t, "blackhole-sink.org", "A", IP4(172, 96, 13, 40), "NOERROR");
		track(s, E_BH_DNS, t, t);
	}
	/* drop point: large uploads (20-80 MB in a minute: under 60k packets,
	 * an upload's rate, not a flood's) */
	in = &s->inst[s->ix[K_DROP]];
	EACH(t, E_DROP, 300, hs) {
		e = conn(s, in, IP4(193, 29, 56, 44), eph(s), 443, 1, 6, t,
			 20000000 + (uint64_t)rnd(&s->r, 60000000), 40000 + rnd(&s->r, 20000));
		track(s, E_DROP, t, e);
	}
	EACH(t, E_DROP_DNS, 1800, hs) {
		dns_emit(s, in, t, "drop-vault.net", "A", IP4(193, 29, 56, 44), "NOERROR");
		track(s, E_DROP_DNS, t, t);
	}
	/* custom-list domain; the address it resolves to is not listed */
	in = &s->inst[s->ix[K_CUSTDNS]];
	EACH(t, E_CUSTDNS, 900, hs) {
		dns_emit(s, in, t, "badactor-portal.com", "A", IP4(87, 120, 36, 50), "NOERROR");
		track(s, E_CUSTDNS, t, t);
		conn(s, in, IP4(87, 120, 36, 50), eph(s), 443, 1, 6, t + 2, 2000, 9000);
	}
}

/* Benign look-alikes: every 2 hours, all run long. */
static void lookalikes(struct sim *s, int64_t hs)
{
	const struct inst *in = &s->inst[s->ix[K_LOOKALIKE]];
	const struct inst *web2 = pick_kind(s, K_WEB, 0) + 1;
	int64_t t = hs + rnd(&s->r, HOUR - 600);

	if ((hs / HOUR) % 2)
		return;
	conn(s, in, IP4(38, 132, 99, 21), eph(s), 443, 1, 6, t, 800, 4000);	/* neighbour of .20 */
	conn(s, in, IP4(38, 132, 99, 96), eph(s), 443, 1, 6, t + 60, 800, 4000);	/* past .64/27 */
	conn(s, in, IP4(66, 42, 71, 144), eph(s), 443, 1, 6, t + 120, 800, 4000);	/* past .128/28 */
	conn(s, in, IP4(66, 42, 71, 200), eph(s), 443, 1, 6, t + 180, 900, 7000);	/* trusted + c2 */
	dns_emit(s, in, t + 10, "xxmrpool-relay.net", "A", 0, "NXDOMAIN");
	dns_emit(s, in, t + 20, "minexmr-sim.net", "A", IP4(87, 120, 36, 60), "NOERROR");
	dns_emit(s, in, t + 30, "xgate-update.net", "A", 0, "NXDOMAIN");
	/* blocked probes from a listed C2 range at the second web server */
	if ((hs / HOUR) % 6 == 0)
		probe(s, web2, IP4(66, 42, 71, 130), rnd(&s->r, 2) ? 22 : 3389, t + 300);
}

/* ---- network behaviours (--attacks network) ---- */

/* Start times. Behaviours needing a baseline: day 9 (index 8) at the
 * given hour + 5..15 min. The others: inside the first min(days, 6) days
 * (every ENI still learning), at the hour holding frac of that span, +5..15
 * min. Every attack ends within its hour, so one hour's files hold it. */
static void schedule_net(struct sim *s)
{
	static const double frac[N__N] = {
		[N_PROBE_ES] = 0.15, [N_PROBE_DB] = 0.22, [N_EMR] = 0.28, [N_PSCAN] = 0.33,
		[N_PSWEEP] = 0.38, [N_SSH_T] = 0.42, [N_RDP_T] = 0.46, [N_WINRM_T] = 0.50,
		[N_SSH_A] = 0.54, [N_RDP_A] = 0.58, [N_WINRM_A] = 0.62, [N_DOS_TCP] = 0.66,
		[N_DOS_UDP] = 0.70, [N_DOS_UDPTCP] = 0.74, [N_DOS_PROTO] = 0.78, [N_DOS_DNS] = 0.82,
		[N_EXFIL] = 0.86, [N_DGA] = 0.90, [N_REBIND] = 0.12, [N_ABUSED] = 0.48,
		[N_BITCOIN] = 0.48, [N_MALICIOUS] = 0.48, [N_SUSPICIOUS] = 0.48, [N_DRIVEBY] = 0.48,
		[N_PHISHING] = 0.48, [N_DGA_C] = 0.48};
	static const int hour[N__N] = {[N_NPU] = 10, [N_SPAM] = 11, [N_VOL] = 13,
				       [N_RESOLV] = 14, [N_DOH] = 15, [N_DOT] = 16};
	int64_t span = s->t1 - s->t0 < 6 * 86400 ? s->t1 - s->t0 : 6 * 86400;
	int e;

	s->base_ok = s->o->days >= 9;
	for (e = 0; e < N__N; e++) {
		int64_t t;
		if (NEXP[e].optional)
			continue;
		if (NEXP[e].baseline) {
			t = s->t0 + 8 * 86400 + hour[e] * HOUR;
		} else {
			t = s->t0 + (int64_t)((double)span * frac[e]);
			t -= t % HOUR;
		}
		s->n0[e] = t + 300 + 60 * (int64_t)rnd(&s->est, 11);
	}
	s->n0[N_DOT_NPU] = s->n0[N_DOT];
	s->n0[N_EMR_PP] = s->n0[N_EMR];
}

static void rawrec(struct sim *s, const struct inst *in, uint32_t src, uint32_t dst, int sp, int dp,
		   int proto, uint64_t pk, uint64_t by, int64_t start, int64_t end, int flags,
		   int ingress)
{
	struct rec q;
	memset(&q, 0, sizeof q);
	q.src = src;
	q.dst = dst;
	q.sport = sp;
	q.dport = dp;
	q.proto = proto;
	q.packets = pk;
	q.bytes = by;
	q.start = start;
	q.end = end > start ? end : start + 1;
	q.flags = proto == 6 ? flags : 0;
	q.ingress = ingress;
	flow_emit(s, in, &q);
}

static int64_t win_end(const struct sim *s, const struct inst *in, int64_t t)
{
	int64_t ws, we;
	window_of(s, in, t, &ws, &we);
	return we;
}

/* A port probe of an open port: the prober's SYN and RST (sometimes an
 * ACK too) in, our SYN-ACK out; all ACCEPTed. */
static int64_t probe_open(struct sim *s, const struct inst *in, uint32_t from, int port, int64_t t)
{
	int sp = 1024 + (int)rnd(&s->r, 60000), n = 2 + (int)rnd(&s->r, 2);
	int64_t we = win_end(s, in, t);
	rawrec(s, in, from, in->ip, sp, port, 6, (uint64_t)n, 44 + 40 * (uint64_t)(n - 1), t, we - 1, 6, 1);
	rawrec(s, in, in->ip, from, port, sp, 6, 1, 44, t, we - 1, 18, 0);
	return we - 1;
}

/* MX hosts (Microsoft, Google, Yahoo mail exchangers' ranges): distinct
 * for distinct i < 256. */
static uint32_t mx_ip(int i)
{
	switch (i % 4) {
	case 0: return IP4(104, 47, i / 4, 36 + i % 7);
	case 1: return IP4(142, 250, i / 4, 26 + i % 3);
	case 2: return IP4(67, 195, i / 4, 10 + i % 5);
	default: return IP4(98, 136, i / 4, 96 + i % 9);
	}
}

static const uint32_t PROBERS[6] = {IP4(102, 129, 224, 17), IP4(109, 205, 213, 44),
				    IP4(176, 111, 174, 90), IP4(194, 180, 49, 12),
				    IP4(80, 94, 95, 33), IP4(45, 128, 232, 71)};

static int in_hour(int64_t t, int64_t hs) { return t >= hs && t < hs + HOUR; }

static const struct inst *net_inst(struct sim *s, enum kind k) { return &s->inst[s->ix[k]]; }

/* Brute force: n attempts 6 s apart between in and remote on port; each
 * is one short, ACCEPTed TCP connection (key exchange and a failed
 * login), as hydra/ncrack/crowbar produce. */
static void brute(struct sim *s, enum nexp_ix e, int out, uint32_t remote, int port, int n)
{
	const struct inst *in = net_inst(s, NEXP[e].kind);
	int i;
	for (i = 0; i < n; i++) {
		int64_t t = s->n0[e] + 6 * i + rnd(&s->r, 3), end;
		uint64_t req = port == 22 ? 1400 + rnd(&s->r, 600) : port == 3389 ? 2500 + rnd(&s->r, 2000) : 1500 + rnd(&s->r, 600);
		uint64_t resp = port == 22 ? 2200 + rnd(&s->r, 600) : port == 3389 ? 3500 + rnd(&s->r, 2000) : 600 + rnd(&s->r, 400);
		end = conn(s, in, remote, out ? eph(s) : port, out ? port : eph(s), out, 6, t, req, resp);
		ntrack(s, e, t, end);
	}
}

/* A flood: nflow flows (fixed source ports, as flooding threads keep
 * their socket) for minutes one-minute records each (VPC 2 logs per
 * minute), pps packets per second in all. */
static void flood(struct sim *s, enum nexp_ix e, uint32_t victim, int sport, int dport, int proto,
		  int payload, int minutes, int pps)
{
	const struct inst *in = net_inst(s, NEXP[e].kind);
	const int nflow = sport ? 1 : 8;	/* a fixed 5-tuple is one flow */
	int m, f;
	for (m = 0; m < minutes; m++) {
		int64_t ms = s->n0[e] - s->n0[e] % 60 + 60 * m;
		for (f = 0; f < nflow; f++) {
			uint64_t pk = (uint64_t)pps * 60 / nflow * (90 + rnd(&s->r, 21)) / 100;
			int sp = sport ? sport : (proto == 6 || proto == 17 ? 40000 + f * 97 : 0);
			int dp = proto == 6 || proto == 17 ? dport : 0;
			int64_t st = ms + (m ? 0 : rnd(&s->r, 3));
			rawrec(s, in, in->ip, victim, sp, dp, proto, pk,
			       pk * (uint64_t)(payload + (proto == 6 ? 40 : proto == 17 ? 28 : 24)), st,
			       ms + 59, 2, 0);
			if (proto == 17 && sport == 53)	/* the spoofed queries coming in */
				rawrec(s, in, victim, in->ip, dport, 53, 17, pk, pk * 64, st, ms + 59, 0, 1);
			ntrack(s, e, st, ms + 59);
		}
	}
}

static void dga_name(struct rng *r, char *out, size_t cap)
{
	static const char *const tld[] = {"com", "net", "org", "info", "biz", "ru"};
	static const char cons[] = "bcdfghjklmnpqrstvwxz";
	char lab[24];
	int n = 11 + (int)rnd(r, 8), i;
	for (i = 0; i < n; i++) {
		unsigned k = rnd(r, 10);
		lab[i] = k < 6 ? cons[rnd(r, 20)] : k < 8 ? "aeiouy"[rnd(r, 6)] : (char)('0' + rnd(r, 10));
	}
	lab[0] = cons[rnd(r, 20)];
	lab[n] = '\0';
	snprintf(out, cap, "%s.%s", lab, tld[rnd(r, MM_ARRAY_LEN(tld))]);
}

static void attack_one(struct sim *s, enum nexp_ix e, int64_t hs)
{
	const struct inst *in = net_inst(s, NEXP[e].kind);
	int64_t t0 = s->n0[e], t, end;
	char name[160], lab[80], ans[160];
	int i, j, n;

	if (e == N_NPU) {
		/* an IRC bot: one session to 6667 kept for two hours, logged
		 * every window, reconnecting once */
		for (t = t0; t < t0 + 2 * HOUR; t += 600) {
			if (!in_hour(t, hs))
				continue;
			end = conn(s, in, IP4(185, 117, 88, 30), t < t0 + HOUR ? 45123 : 45871, 6667, 1, 6, t,
				   1500 + rnd(&s->r, 4000), 3000 + rnd(&s->r, 8000));
			ntrack(s, e, t, end);
		}
		return;
	}
	if (!in_hour(t0, hs))
		return;
	switch (e) {
	case N_SPAM:	/* 40 MX hosts on 25 within 40 minutes, 1-3 messages each */
		for (i = 0; i < 40; i++)
			for (j = 0, n = 1 + (int)rnd(&s->r, 3), t = t0 + i * 60; j < n; j++, t += 7) {
				end = conn(s, in, mx_ip(i), eph(s), 25, 1, 6, t, 4000 + rnd(&s->r, 30000),
					   400 + rnd(&s->r, 400));
				ntrack(s, e, t, end);
			}
		break;
	case N_VOL:	/* 2.5 GB in 45 minutes to one host: ~640 packets/s */
		for (i = 0; i < 45; i++) {
			t = t0 + i * 60;
			end = conn(s, in, IP4(195, 154, 88, 30), 51234, 443, 1, 6, t,
				   53000000 + rnd(&s->r, 6000000), 20000 + rnd(&s->r, 9000));
			ntrack(s, e, t, end);
		}
		break;
	case N_RESOLV:	/* malware with its own resolver */
		for (i = 0; i < 16; i++) {
			t = t0 + i * 150 + rnd(&s->r, 60);
			end = conn(s, in, IP4(77, 88, 8, 8), eph(s), 53, 1, 17, t, 30 + rnd(&s->r, 30),
				   60 + rnd(&s->r, 200));
			ntrack(s, e, t, end);
		}
		break;
	case N_DOH:
	case N_DOT:
		for (i = 0; i < 12; i++) {
			t = t0 + i * 200 + rnd(&s->r, 60);
			end = conn(s, in, e == N_DOH ? IP4(1, 1, 1, 1) : IP4(9, 9, 9, 9), eph(s),
				   e == N_DOH ? 443 : 853, 1, 6, t, 900 + rnd(&s->r, 2000),
				   1500 + rnd(&s->r, 4000));
			ntrack(s, e, t, end);
		}
		break;
	case N_PROBE_ES:
	case N_PROBE_DB:
	case N_EMR: {
		int port = e == N_PROBE_ES ? 9200 : e == N_PROBE_DB ? 3306 : 8088;
		n = e == N_PROBE_ES ? 6 : 5;
		for (i = 0; i < n; i++) {
			t = t0 + i * 420 + rnd(&s->r, 120);
			end = probe_open(s, in, PROBERS[(i + e) % 6], port, t);
			ntrack(s, e, t, end);
		}
		break;
	}
	case N_PSCAN:	/* nmap -sS: 200 ports in 3 minutes, RST from a third, 3 open */
		for (i = 0; i < 200; i++) {
			int port = 1 + (i * 37) % 1024, sp = 61000 + (int)rnd(&s->r, 200);
			uint32_t tgt = IP4(5, 161, 77, 10);
			int64_t we;
			t = t0 + i * 9 / 10;
			we = win_end(s, in, t);
			if (port == 22 || port == 80 || port == 443) {
				rawrec(s, in, in->ip, tgt, sp, port, 6, 2, 84, t, we - 1, 6, 0);
				rawrec(s, in, tgt, in->ip, port, sp, 6, 1, 44, t, we - 1, 18, 1);
			} else {
				rawrec(s, in, in->ip, tgt, sp, port, 6, 1, 44, t, we - 1, 2, 0);
				if (i % 3 == 0)
					rawrec(s, in, tgt, in->ip, port, sp, 6, 1, 40, t, we - 1, 4, 1);
			}
			ntrack(s, e, t, we - 1);
		}
		break;
	case N_PSWEEP:	/* Redis hunting: 6379 on 300 hosts in 5 minutes */
		for (i = 0; i < 300; i++) {
			uint32_t h = IP4(35, 180 + i % 60, (i * 7) % 256, 1 + (i * 31) % 254);
			int sp = eph(s);
			int64_t we;
			t = t0 + i;
			we = win_end(s, in, t);
			if (i % 10 == 0) {
				rawrec(s, in, in->ip, h, sp, 6379, 6, 2, 84, t, we - 1, 6, 0);
				rawrec(s, in, h, in->ip, 6379, sp, 6, 1, 44, t, we - 1, 18, 1);
			} else {
				rawrec(s, in, in->ip, h, sp, 6379, 6, 1 + rnd(&s->r, 2), 60, t, we - 1, 2, 0);
			}
			ntrack(s, e, t, we - 1);
		}
		break;
	case N_SSH_T: brute(s, e, 0, IP4(116, 105, 215, 80), 22, 150); break;
	case N_RDP_T: brute(s, e, 0, IP4(91, 191, 209, 22), 3389, 150); break;
	case N_WINRM_T: brute(s, e, 0, IP4(185, 224, 128, 17), 5985, 150); break;
	case N_SSH_A: brute(s, e, 1, IP4(159, 65, 140, 21), 22, 150); break;
	case N_RDP_A: brute(s, e, 1, IP4(20, 115, 60, 12), 3389, 150); break;
	case N_WINRM_A: brute(s, e, 1, IP4(52, 160, 80, 33), 5985, 150); break;
	case N_DOS_TCP: flood(s, e, IP4(51, 89, 14, 120), 0, 80, 6, 0, 5, 4000); break;
	case N_DOS_UDP: flood(s, e, IP4(144, 76, 40, 8), 0, 27015, 17, 1000, 5, 3000); break;
	case N_DOS_UDPTCP: flood(s, e, IP4(5, 9, 120, 77), 0, 80, 17, 1000, 5, 3000); break;
	case N_DOS_PROTO: flood(s, e, IP4(88, 99, 60, 2), 0, 0, 47, 548, 5, 3000); break;
	case N_DOS_DNS: flood(s, e, IP4(185, 60, 216, 35), 53, 53, 17, 1200, 5, 3000); break;
	case N_EXFIL:	/* a DNS tunnel: 150 TXT queries, 48-60 char base32 labels */
		for (i = 0; i < 150; i++) {
			n = 48 + (int)rnd(&s->r, 13);
			rnd_chars(&s->r, lab, n, "abcdefghijklmnopqrstuvwxyz234567");
			snprintf(name, sizeof name, "%s.%04x.t.cdn-metrics-sync.com", lab, i);
			t = t0 + i * 12;
			rnd_chars(&s->r, lab, 16, "abcdefghijklmnopqrstuvwxyz234567");
			snprintf(ans, sizeof ans, "[{\"Rdata\":\"\\\"%s\\\"\",\"Type\":\"TXT\",\"Class\":\"IN\"}]", lab);
			dns_emit_raw(s, in, t, name, "TXT", ans, "NOERROR");
			ntrack(s, e, t, t);
		}
		break;
	case N_DGA:	/* 40 generated domains in 20 minutes, 36 NXDOMAIN */
		for (i = 0; i < 40; i++) {
			dga_name(&s->r, name, sizeof name);
			t = t0 + i * 30;
			if (i % 10 == 7)
				dns_emit(s, in, t, name, "A", IP4(87, 120, 36, 91), "NOERROR");
			else
				dns_emit(s, in, t, name, "A", 0, "NXDOMAIN");
			ntrack(s, e, t, t);
		}
		break;
	case N_REBIND:
		for (i = 0; i < 3; i++) {
			t = t0 + i * 240;
			dns_emit(s, in, t, "c2fd1a.rebind-lab.net", "A", IP4(169, 254, 169, 254), "NOERROR");
			ntrack(s, e, t, t);
		}
		break;
	default:
		if (NEXP[e].dnslist)	/* two lookups of the listed name, 5 min apart */
			for (i = 0; i < 2; i++) {
				t = t0 + (e - N_ABUSED) * 60 + i * 300;
				if (e == N_DGA_C)
					dns_emit(s, in, t, NEXP[e].indicator, "A", 0, "NXDOMAIN");
				else
					dns_emit(s, in, t, NEXP[e].indicator, "A", IP4(87, 120, 36, 70 + e - N_ABUSED),
						 "NOERROR");
				ntrack(s, e, t, t);
			}
		break;
	}
}

/* The entry is injected and expected in this run. */
static int nexp_on(const struct sim *s, int e)
{
	return (NEXP[e].dnslist ? s->dnsl : s->net) && (!NEXP[e].baseline || s->base_ok);
}

static void attacks_netbeh(struct sim *s, int64_t hs)
{
	int e;
	for (e = 0; e < N__N; e++)
		if (!NEXP[e].optional && nexp_on(s, e))
			attack_one(s, (enum nexp_ix)e, hs);
}

/* Real, valid domains that look random-ish: a DGA score must not fire. */
static const char *const ODD_DOMAINS[] = {
	"qq.com", "vk.com", "bbc.co.uk", "ycombinator.com", "jsdelivr.net", "unpkg.com", "gstatic.com",
	"ggpht.com", "ytimg.com", "fbcdn.net", "akamaized.net", "msftncsi.com", "xboxlive.com",
	"hcaptcha.com", "zdassets.com", "sentry.io", "pendo.io", "wsj.com", "nyt.com", "xkcd.com",
	"twimg.com", "licdn.com", "mzstatic.com", "cdninstagram.com", "aadcdn.msftauth.net"};

/* Benign look-alikes of the network behaviours, every hour they apply. */
static void lookalikes_net(struct sim *s, int64_t hs)
{
	const struct inst *in;
	struct civil c;
	int64_t t;
	int i, n;
	char name[160], lab[64];

	civil_of(hs, &c);
	/* announced resolver change: 8.8.8.8 until day 9 09:00, then the
	 * resolvers in its mamori:dns-resolver tag */
	in = net_inst(s, K_RESOLV_LA);
	n = 4 + (int)rnd(&s->r, 5);
	for (i = 0; i < n; i++) {
		t = hs + rnd(&s->r, HOUR);
		uint32_t res = IP4(8, 8, 8, 8);
		if (s->base_ok && t >= s->t0 + 8 * 86400 + 9 * HOUR)
			res = rnd(&s->r, 2) ? IP4(1, 1, 1, 1) : IP4(1, 0, 0, 1);
		conn(s, in, res, eph(s), 53, 1, 17, t, 30 + rnd(&s->r, 30), 60 + rnd(&s->r, 200));
	}
	/* the malware's resolver-to-be is used by its host only on its day;
	 * its usual resolver every hour */
	in = net_inst(s, K_RESOLV);
	n = 3 + (int)rnd(&s->r, 4);
	for (i = 0; i < n; i++)
		conn(s, in, IP4(87, 120, 36, 53), eph(s), 53, 1, 17, hs + rnd(&s->r, HOUR), 30 + rnd(&s->r, 30),
		     60 + rnd(&s->r, 200));
	/* nightly backup: ~3 GB 02:05-03:15 to the same offsite host, one
	 * connection, ~500 packets/s: big but regular */
	in = net_inst(s, K_BACKUP);
	if (c.h == 2 || c.h == 3) {
		int64_t day = hs - hs % 86400, b0 = day + 2 * HOUR + 300, b1 = day + 3 * HOUR + 900, ws;
		uint64_t total = 2600000000ULL + mm_hash_mix((uint64_t)day ^ s->o->seed) % 700000000ULL;
		for (ws = b0 - b0 % 600; ws < b1; ws += 600) {
			int64_t st = ws > b0 ? ws : b0, en = ws + 600 < b1 ? ws + 600 : b1;
			if (!in_hour(st, hs))
				continue;
			conn(s, in, IP4(79, 127, 200, 10), 50022, 443, 1, 6, st,
			     total * (uint64_t)(en - st) / (uint64_t)(b1 - b0), 30000 + rnd(&s->r, 20000));
		}
	}
	/* mail relay: its smarthost and a few MX hosts on 25, every hour */
	in = net_inst(s, K_RELAY);
	n = 2 + (int)rnd(&s->r, 4);
	for (i = 0; i < n; i++)
		conn(s, in, IP4(87, 120, 36, 25), eph(s), 25, 1, 6, hs + rnd(&s->r, HOUR), 3000 + rnd(&s->r, 40000),
		     400 + rnd(&s->r, 300));
	n = 3 + (int)rnd(&s->r, 4);
	for (i = 0; i < n; i++)
		conn(s, in, mx_ip(40 + (int)rnd(&s->r, 24)), eph(s), 25, 1, 6, hs + rnd(&s->r, HOUR),
		     3000 + rnd(&s->r, 40000), 400 + rnd(&s->r, 300));
	/* CDN-fronted origin: many CloudFront edges, real HTTPS sessions */
	in = net_inst(s, K_CDN);
	n = 150 + (int)rnd(&s->r, 100);
	for (i = 0; i < n; i++) {
		uint32_t edge = rnd(&s->r, 3) ? IP4(130, 176, rnd(&s->r, 256), 1 + rnd(&s->r, 254))
					      : IP4(64, 252, 64 + rnd(&s->r, 64), 1 + rnd(&s->r, 254));
		conn(s, in, edge, 443, eph(s), 0, 6, hs + rnd(&s->r, HOUR), 2000 + rnd(&s->r, 20000),
		     20000 + rnd(&s->r, 500000));
	}
	/* monitoring: 20 partner hosts on 443, 80 and 22 once a day */
	if (c.h == 6) {
		in = net_inst(s, K_MONITOR);
		for (i = 0; i < 20; i++) {
			uint32_t h = IP4(87, 120, 36, 100 + i);
			t = hs + 60 + i * 3;
			conn(s, in, h, eph(s), 443, 1, 6, t, 500, 4000 + rnd(&s->r, 2000));
			conn(s, in, h, eph(s), 80, 1, 6, t + 1, 300, 400);
			conn(s, in, h, eph(s), 22, 1, 6, t + 2, 40, 60);
		}
	}
	/* trusted scanner (trusted.txt) sweeps the bastion at 12:30 daily:
	 * 50 ports from each of 4 addresses (only 22 open) and an SSH
	 * password audit of 30 logins */
	in = &s->inst[s->ix[K_BASTION]];
	if (c.h == 12) {
		for (i = 0; i < 4; i++)
			for (int k = 0; k < 50; k++) {
				int port = k == 0 ? 22 : 23 + (k * 53 + i * 211) % 1000;
				uint32_t src = IP4(147, 75, 90, 2 + i);
				t = hs + 1800 + k * 2 + i;
				if (port == 22)
					probe_open(s, in, src, 22, t);
				else
					probe(s, in, src, port, t);
			}
		for (i = 0; i < 30; i++)
			conn(s, in, IP4(147, 75, 90, 2), 22, eph(s), 0, 6, hs + 2000 + i * 10, 1400 + rnd(&s->r, 600),
			     2200 + rnd(&s->r, 600));
	}
	/* the admin from home: two failed logins at 10, sessions at 10 and 15 */
	if (c.h == 10 || c.h == 15) {
		uint32_t home = IP4(73, 162, 40, 17);
		t = hs + 600 + rnd(&s->r, 1200);
		if (c.h == 10)
			for (i = 0; i < 2; i++)
				conn(s, in, home, 22, eph(s), 0, 6, t - 60 + i * 20, 1500, 2400);
		conn(s, in, home, 22, eph(s), 0, 6, t, 20000 + rnd(&s->r, 200000), 50000 + rnd(&s->r, 900000));
	}
	/* DNS that is long, odd or points at the metadata address, benignly */
	in = net_inst(s, K_DNS_LA);
	n = 40 + (int)rnd(&s->r, 20);
	for (i = 0; i < n; i++) {
		static const char *const stacks[] = {"assets", "logs", "artifacts", "cdk-hnb659fds"};
		rnd_chars(&s->r, lab, 12, "abcdefghijklmnopqrstuvwxyz0123456789");
		snprintf(name, sizeof name, "prodstack-%sbucket%08x-%s.s3.us-east-1.amazonaws.com",
			 stacks[rnd(&s->r, 4)], (unsigned)(rng_next(&s->r) >> 32), lab);
		dns_emit(s, in, hs + rnd(&s->r, HOUR), name, "A", IP4(3, 5, 0, 10) + rnd(&s->r, 200), "NOERROR");
	}
	for (i = 0; i < 8; i++) {
		rnd_chars(&s->r, lab, 14, "abcdefghijklmnopqrstuvwxyz0123456789");
		snprintf(name, sizeof name, "d%s.cloudfront.net", lab);
		dns_emit(s, in, hs + rnd(&s->r, HOUR), name, "A", IP4(130, 176, rnd(&s->r, 256), 1 + rnd(&s->r, 254)), "NOERROR");
		snprintf(name, sizeof name, "%u.%u.56.24.in-addr.arpa", 1 + rnd(&s->r, 254), rnd(&s->r, 256));
		dns_emit_raw(s, in, hs + rnd(&s->r, HOUR), name, "PTR", "[]", "NXDOMAIN");
	}
	for (i = 0; i < 3; i++) {
		rnd_chars(&s->r, lab, 32, HEX);
		snprintf(name, sizeof name, "_acme-challenge.%s.acme-corp.com", lab);
		dns_emit_raw(s, in, hs + rnd(&s->r, HOUR), name, "TXT", "[]", "NXDOMAIN");
	}
	for (i = 0; i < 12; i++)
		dns_emit(s, in, hs + rnd(&s->r, HOUR), ODD_DOMAINS[rnd(&s->r, MM_ARRAY_LEN(ODD_DOMAINS))], "A",
			 IP4(151, 101, rnd(&s->r, 256), 1 + rnd(&s->r, 254)), "NOERROR");
	dns_emit(s, in, hs + rnd(&s->r, HOUR), "instance-data.ec2.internal", "A", IP4(169, 254, 169, 254),
		 "NOERROR");
	/* the parent of a listed name and a near miss: not on any list */
	if (s->dnsl && (hs / HOUR) % 6 == 0) {
		dns_emit(s, in, hs + 120, "dyn-home-sim.net", "A", IP4(87, 120, 36, 80), "NOERROR");
		dns_emit(s, in, hs + 180, "xsecure-login-sim.com", "A", 0, "NXDOMAIN");
	}
}

static void cloudtrail_hour(struct sim *s, int64_t hs)
{
	char id[1024], req[1024], a[16];
	struct civil c;
	int i, n;

	civil_of(hs, &c);
	/* AWS services acting for us */
	snprintf(id, sizeof id, "{\"type\":\"AWSService\",\"invokedBy\":\"ec2.amazonaws.com\"}");
	snprintf(req, sizeof req,
		 "{\"roleArn\":\"arn:aws:iam::%s:role/worker-role\",\"roleSessionName\":\"%s\"}",
		 ACCOUNT, s->inst[s->ix[K_WORKER]].id);
	ct(s, hs + rnd(&s->r, HOUR), id, "ec2.amazonaws.com", "sts.amazonaws.com", "AssumeRole",
	   "ec2.amazonaws.com", req, NULL, 0, 0);
	ident_role(s, "AWSServiceRoleForConfig", "AWSConfig-Describe", id, sizeof id);
	ct(s, hs + rnd(&s->r, HOUR), id, "AWS Internal", "ec2.amazonaws.com", "DescribeInstances",
	   "AWS Internal", "{\"instancesSet\":{},\"filterSet\":{}}", NULL, 1, 0);
	/* instance roles */
	n = 3 + (int)rnd(&s->r, 6);
	for (i = 0; i < n; i++) {
		const struct inst *in = &s->inst[rnd(&s->r, (uint32_t)s->ninst)];
		const char *role = KINFO[in->kind].profile;
		if (!role || !in->in_inventory)
			continue;
		ident_role(s, role, in->id, id, sizeof id);
		if (rnd(&s->r, 2)) {
			snprintf(req, sizeof req,
				 "{\"bucketName\":\"acme-%s-data\",\"Host\":\"acme-%s-data.s3.us-east-1.amazonaws.com\",\"key\":\"batch/%04d.json\"}",
				 KINFO[in->kind].role, KINFO[in->kind].role, (int)rnd(&s->r, 10000));
			ct(s, hs + rnd(&s->r, HOUR), id, fmt_ip(in->pub ? in->pub : NAT_IP, a),
			   "s3.amazonaws.com", rnd(&s->r, 3) ? "GetObject" : "PutObject", UA_SDK, req,
			   NULL, 0, 1);
		} else {
			ct(s, hs + rnd(&s->r, HOUR), id, fmt_ip(in->pub ? in->pub : NAT_IP, a),
			   "ec2.amazonaws.com", "DescribeInstances", UA_SDK,
			   "{\"instancesSet\":{},\"filterSet\":{}}", NULL, 1, 0);
		}
	}
	/* people, in office hours, from the office */
	if (c.h == 9) {
		ident_user(&s->users[U_ALICE], 0, id, sizeof id);
		ct(s, hs + 60 + rnd(&s->r, 600), id, fmt_ip(OFFICE_IP(&s->r), a), "signin.amazonaws.com",
		   "ConsoleLogin", UA_CONSOLE, NULL, "{\"ConsoleLogin\":\"Success\"}", 0, 0);
	}
	if (c.h >= 9 && c.h < 18) {
		static const char *const calls[] = {"DescribeInstances", "ListBuckets", "DescribeSecurityGroups",
						    "GetBucketPolicy", "DescribeVpcs"};
		static const char *const srcs[] = {"ec2.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com",
						   "s3.amazonaws.com", "ec2.amazonaws.com"};
		n = 2 + (int)rnd(&s->r, 5);
		for (i = 0; i < n; i++) {
			unsigned k = rnd(&s->r, 5);
			enum user_ix u = (enum user_ix)rnd(&s->r, U__N - 1); /* not sec-scanner */
			ct_key(s, hs + rnd(&s->r, HOUR), u, OFFICE_IP(&s->r), srcs[k], calls[k], NULL, 1);
		}
	}
	if (hs == s->t0 + 10 * HOUR) {	/* benign admin work from the office */
		ct_key(s, hs + 300, U_ALICE, OFFICE_IP(&s->r), "iam.amazonaws.com", "CreateUser",
		       "{\"userName\":\"frank\"}", 0);
		ct_key(s, hs + 360, U_ALICE, OFFICE_IP(&s->r), "iam.amazonaws.com", "AttachUserPolicy",
		       "{\"userName\":\"frank\",\"policyArn\":\"arn:aws:iam::aws:policy/ReadOnlyAccess\"}", 0);
	}
	/* the security scanner: trusted address that is also on c2.txt */
	if (c.h == 2 || c.h == 14) {
		uint32_t ip = IP4(66, 42, 71, 200);
		ct_key(s, hs + 120, U_SCANNER, ip, "iam.amazonaws.com", "ListUsers", NULL, 1);
		ct_key(s, hs + 180, U_SCANNER, ip, "ec2.amazonaws.com", "DescribeInstances", NULL, 1);
		ct_key(s, hs + 240, U_SCANNER, ip, "s3.amazonaws.com", "PutObject",
		       "{\"bucketName\":\"acme-security-reports\",\"key\":\"scan.json\"}", 0);
	}
}

static void runinstances(struct sim *s)
{
	const struct inst *in = &s->inst[s->ix[K_MINER]];
	const struct vpc *v = &s->vpc[in->vpc];
	char id[512], req[1024], a[16], h[32];
	struct mm_buf *b = &s->tmp;
	char res[20], cts[40];

	mm_buf_reset(b);
	rnd_chars(&s->est, h, 17, HEX);
	snprintf(res, sizeof res, "r-%.17s", h);
	uuid(s, cts);
	fmt_ip(in->ip, a);
	add(s, b,
	    "{\"groupSet\":{},\"instancesSet\":{\"items\":[{\"amiLaunchIndex\":0,\"architecture\":\"x86_64\","
	    "\"blockDeviceMapping\":{},\"clientToken\":\"%s\",\"ebsOptimized\":false,\"enaSupport\":true,"
	    "\"groupSet\":{\"items\":[{\"groupId\":\"%s\",\"groupName\":\"ci-sg\"}]},\"hypervisor\":\"xen\","
	    "\"imageId\":\"ami-0c7217cdde317cfec\",\"instanceId\":\"%s\",\"instanceState\":{\"code\":0,\"name\":\"pending\"},"
	    "\"instanceType\":\"%s\",\"launchTime\":%lld,\"monitoring\":{\"state\":\"disabled\"},"
	    "\"networkInterfaceSet\":{\"items\":[{\"attachment\":{\"attachTime\":%lld,\"attachmentId\":\"%s\","
	    "\"deleteOnTermination\":true,\"deviceIndex\":0,\"networkCardIndex\":0,\"status\":\"attaching\"},"
	    "\"groupSet\":{\"items\":[{\"groupId\":\"%s\",\"groupName\":\"ci-sg\"}]},\"interfaceType\":\"interface\","
	    "\"ipv6AddressesSet\":{},\"macAddress\":\"%s\",\"networkInterfaceId\":\"%s\",\"ownerId\":\"%s\","
	    "\"privateDnsName\":\"ip-%u-%u-%u-%u.ec2.internal\",\"privateIpAddress\":\"%s\","
	    "\"privateIpAddressesSet\":{\"item\":[{\"primary\":true,\"privateDnsName\":\"ip-%u-%u-%u-%u.ec2.internal\","
	    "\"privateIpAddress\":\"%s\"}]},\"sourceDestCheck\":true,\"status\":\"in-use\",\"subnetId\":\"%s\","
	    "\"tagSet\":{},\"vpcId\":\"%s\"}]},\"placement\":{\"availabilityZone\":\"us-east-1a\",\"tenancy\":\"default\"},"
	    "\"privateDnsName\":\"ip-%u-%u-%u-%u.ec2.internal\",\"privateIpAddress\":\"%s\",\"productCodes\":{},"
	    "\"rootDeviceName\":\"/dev/xvda\",\"rootDeviceType\":\"ebs\",\"sourceDestCheck\":true,"
	    "\"stateReason\":{\"code\":\"pending\",\"message\":\"pending\"},\"subnetId\":\"%s\","
	    "\"tagSet\":{\"items\":[{\"key\":\"Name\",\"value\":\"%s\"},{\"key\":\"Role\",\"value\":\"ci\"}]},"
	    "\"virtualizationType\":\"hvm\",\"vpcId\":\"%s\"}]},\"ownerId\":\"%s\",\"requestId\":\"%s\",\"reservationId\":\"%s\"}",
	    cts, s->sg[K_MINER], in->id, KINFO[K_MINER].itype, (long long)s->launch * 1000,
	    (long long)s->launch * 1000, in->eni_attach, s->sg[K_MINER], in->mac, in->eni, ACCOUNT,
	    in->ip >> 24, (in->ip >> 16) & 255, (in->ip >> 8) & 255, in->ip & 255, a, in->ip >> 24,
	    (in->ip >> 16) & 255, (in->ip >> 8) & 255, in->ip & 255, a, v->subnet[in->subnet], v->id,
	    in->ip >> 24, (in->ip >> 16) & 255, (in->ip >> 8) & 255, in->ip & 255, a,
	    v->subnet[in->subnet], in->name, v->id, ACCOUNT, cts, res);
	snprintf(req, sizeof req,
		 "{\"instancesSet\":{\"items\":[{\"imageId\":\"ami-0c7217cdde317cfec\",\"minCount\":1,\"maxCount\":1}]},"
		 "\"instanceType\":\"%s\",\"blockDeviceMapping\":{},\"monitoring\":{\"enabled\":false},"
		 "\"disableApiTermination\":false,\"disableApiStop\":false,\"clientToken\":\"%s\","
		 "\"tagSpecificationSet\":{\"items\":[{\"resourceType\":\"instance\",\"tags\":[{\"key\":\"Name\","
		 "\"value\":\"%s\"},{\"key\":\"Role\",\"value\":\"ci\"}]}]}}",
		 KINFO[K_MINER].itype, cts, in->name);
	ident_user(&s->users[U_BOB], 1, id, sizeof id);
	if (!s->rc)
		ct(s, s->launch, id, fmt_ip(IP4(81, 2, 69, 165), a), "ec2.amazonaws.com", "RunInstances",
		   UA_CLI, req, b->p, 0, 0);
}

/* The IAM attack bursts falling in this hour. */
static void attacks_iam(struct sim *s, int64_t hs)
{
	static const struct {
		enum exp_ix e;
		uint32_t ip;
		const char *src[3], *call[3], *req[3];
		int ro;
	} B[] = {
		{E_IAM_MAL, IP4(66, 42, 71, 140), {"iam.amazonaws.com", "iam.amazonaws.com", "iam.amazonaws.com"},
		 {"CreateUser", "AttachUserPolicy", "CreateAccessKey"},
		 {"{\"userName\":\"backup-admin2\"}",
		  "{\"userName\":\"backup-admin2\",\"policyArn\":\"arn:aws:iam::aws:policy/AdministratorAccess\"}",
		  "{\"userName\":\"backup-admin2\"}"}, 0},
		{E_RECON_MAL, IP4(66, 42, 71, 140), {"iam.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com"},
		 {"ListUsers", "ListBuckets", "DescribeInstances"}, {NULL, NULL, NULL}, 1},
		{E_IAM_MAL_CUST, IP4(154, 16, 49, 170), {"iam.amazonaws.com", "iam.amazonaws.com", "iam.amazonaws.com"},
		 {"CreateUser", "PutUserPolicy", "CreateLoginProfile"},
		 {"{\"userName\":\"carol2\"}", "{\"userName\":\"carol2\",\"policyName\":\"all\"}",
		  "{\"userName\":\"carol2\",\"passwordResetRequired\":false}"}, 0},
		{E_RECON_MAL_CUST, IP4(154, 16, 49, 170), {"iam.amazonaws.com", "ec2.amazonaws.com", "s3.amazonaws.com"},
		 {"ListRoles", "DescribeSecurityGroups", "GetBucketAcl"},
		 {NULL, NULL, "{\"bucketName\":\"acme-app-data\"}"}, 1},
		{E_IAM_TOR, IP4(139, 59, 12, 25), {"iam.amazonaws.com", "iam.amazonaws.com", "ec2.amazonaws.com"},
		 {"CreateAccessKey", "AttachUserPolicy", "AuthorizeSecurityGroupIngress"},
		 {"{\"userName\":\"svc-etl\"}",
		  "{\"userName\":\"svc-etl\",\"policyArn\":\"arn:aws:iam::aws:policy/AdministratorAccess\"}",
		  "{\"groupId\":\"sg-0123456789abcdef0\",\"ipPermissions\":{}}"}, 0},
		{E_RECON_TOR, IP4(139, 59, 12, 26), {"s3.amazonaws.com", "ec2.amazonaws.com", "iam.amazonaws.com"},
		 {"ListBuckets", "DescribeInstances", "GetAccountAuthorizationDetails"}, {NULL, NULL, NULL}, 1},
	};
	size_t i;
	int k;

	for (i = 0; i < MM_ARRAY_LEN(B); i++) {
		int64_t t0 = s->a0[B[i].e];
		if (t0 < hs || t0 >= hs + HOUR)
			continue;
		for (k = 0; k < 3; k++) {
			int64_t t = t0 + k * 200;
			ct_key(s, t, EXP[B[i].e].user, B[i].ip, B[i].src[k], B[i].call[k], B[i].req[k],
			       B[i].ro);
			track(s, B[i].e, t, t);
		}
	}
}

/* ==== CloudTrail single-record rules (--attacks ctrules) ==================
 * GuardDuty's one-record CloudTrail types (detector ctrules): each is
 * raised once, by its own IAM user, at a fixed time of the first day
 * (13:00 UTC plus 6 minutes per type), and a benign look-alike of each
 * follows from other users at 15:00 (a trail updated without stopping, a
 * policy for one partner account, logging re-pointed to another bucket,
 * a tightened password policy, agents on Ubuntu and Debian, Bedrock
 * logging kept on). The block has its own PRNG stream (keys, jitter,
 * record ids), so adding it leaves every other record, id and file name
 * as it was. Other CloudTrail-side attack groups go in blocks of their
 * own after this one. */

enum ctr_ix {
	R_TRAIL, R_PWPOL, R_S3LOG, R_ACCT_BPA, R_BKT_BPA, R_ANON, R_PUBLIC, R_KALI, R_PARROT,
	R_PENTOO, R_BEDROCK, R__N
};
enum ctr_benign { CB_TRAIL, CB_PW, CB_S3, CB_POLICY, CB_AGENT, CB_BEDROCK, CB__N };

#define CTR_XMLNS "\"xmlns\":\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define CTR_BPA(v)                                                                               \
	"{\"PublicAccessBlockConfiguration\":{" CTR_XMLNS ",\"BlockPublicAcls\":" v                \
	",\"IgnorePublicAcls\":" v ",\"BlockPublicPolicy\":" v ",\"RestrictPublicBuckets\":" v "}"
#define CTR_GRANTEE "\"xmlns:xsi\":\"http://www.w3.org/2001/XMLSchema-instance\"}"
#define CTR_OWNER "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

static const char UA_KALI[] =
	"aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 "
	"lang/python#3.11.8 md/pyimpl#CPython md/distrib#kali.2024 cfg/retry-mode#standard "
	"md/installer#exe md/prompt#off md/command#sts.get-caller-identity";
static const char UA_PARROT[] = "Boto3/1.28.57 Python/3.11.2 Linux/6.5.0-13parrot1-amd64 Botocore/1.31.57";
static const char UA_PENTOO[] =
	"aws-cli/2.11.0 Python/3.11.3 Linux/6.1.19-pentoo exe/x86_64.pentoo.2023 prompt/off "
	"command/ec2.describe-instances";
static const char UA_DEBIAN[] =
	"aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0-18-amd64 exe/x86_64.debian.12 prompt/off";
static const char UA_KALI_NAMED_TOOL[] =
	"kali-inventory/1.4 Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0-1016-aws "
	"md/distrib#ubuntu.22";

/* user: the caller (its own key); bucket: the S3Bucket resource, NULL for
 * an AccessKey one. */
static const struct ctrdef {
	const char *type, *user, *bucket, *src, *name, *ua, *req, *indicator;
} CTR[R__N] = {
	[R_TRAIL] = {"Stealth:IAMUser/CloudTrailLoggingDisabled", "build-agent", NULL,
		     "cloudtrail.amazonaws.com", "StopLogging", NULL,
		     "{\"name\":\"arn:aws:cloudtrail:us-east-1:" ACCOUNT ":trail/org-trail\"}",
		     "StopLogging org-trail"},
	[R_PWPOL] = {"Stealth:IAMUser/PasswordPolicyChange", "helpdesk-lead", NULL, "iam.amazonaws.com",
		     "UpdateAccountPasswordPolicy", NULL,
		     "{\"minimumPasswordLength\":8,\"requireNumbers\":true,\"allowUsersToChangePassword\":true}",
		     "length 8, numbers only"},
	[R_S3LOG] = {"Stealth:S3/ServerAccessLoggingDisabled", "web-publisher", "acme-web-assets",
		     "s3.amazonaws.com", "PutBucketLogging", NULL,
		     "{\"BucketLoggingStatus\":{" CTR_XMLNS "},\"Host\":\"acme-web-assets.s3.us-east-1."
		     "amazonaws.com\",\"bucketName\":\"acme-web-assets\",\"logging\":\"\"}",
		     "empty BucketLoggingStatus"},
	[R_ACCT_BPA] = {"Policy:S3/AccountBlockPublicAccessDisabled", "platform-ops", NULL,
			"s3.amazonaws.com", "PutAccountPublicAccessBlock", NULL,
			CTR_BPA("false") ",\"x-amz-account-id\":\"" ACCOUNT "\"}", "all four settings off"},
	[R_BKT_BPA] = {"Policy:S3/BucketBlockPublicAccessDisabled", "data-loader", "acme-data-lake",
		       "s3.amazonaws.com", "DeleteBucketPublicAccessBlock", NULL,
		       "{\"bucketName\":\"acme-data-lake\",\"Host\":\"acme-data-lake.s3.us-east-1."
		       "amazonaws.com\",\"publicAccessBlock\":\"\"}",
		       "DeleteBucketPublicAccessBlock"},
	[R_ANON] = {"Policy:S3/BucketAnonymousAccessGranted", "share-bot", "acme-data-lake",
		    "s3.amazonaws.com", "PutBucketPolicy", NULL,
		    "{\"bucketPolicy\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Public\","
		    "\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
		    "\"arn:aws:s3:::acme-data-lake/*\"}]},\"bucketName\":\"acme-data-lake\",\"Host\":"
		    "\"acme-data-lake.s3.us-east-1.amazonaws.com\",\"policy\":\"\"}",
		    "Principal * s3:GetObject"},
	[R_PUBLIC] = {"Policy:S3/BucketPublicAccessGranted", "press-team", "acme-press-kit",
		      "s3.amazonaws.com", "PutBucketAcl", NULL,
		      "{\"bucketName\":\"acme-press-kit\",\"Host\":\"acme-press-kit.s3.us-east-1."
		      "amazonaws.com\",\"acl\":\"\",\"AccessControlPolicy\":{\"AccessControlList\":"
		      "{\"Grant\":[{\"Grantee\":{\"xsi:type\":\"CanonicalUser\",\"ID\":\"" CTR_OWNER
		      "\"," CTR_GRANTEE ",\"Permission\":\"FULL_CONTROL\"},{\"Grantee\":{\"xsi:type\":"
		      "\"Group\",\"URI\":\"http://acs.amazonaws.com/groups/global/AuthenticatedUsers\","
		      CTR_GRANTEE ",\"Permission\":\"READ\"}]},\"Owner\":{\"ID\":\"" CTR_OWNER "\"},"
		      CTR_XMLNS "}}",
		      "AuthenticatedUsers READ"},
	[R_KALI] = {"PenTest:IAMUser/KaliLinux", "contractor-kim", NULL, "sts.amazonaws.com",
		    "GetCallerIdentity", UA_KALI, NULL, "md/distrib#kali.2024"},
	[R_PARROT] = {"PenTest:IAMUser/ParrotLinux", "vendor-audit", NULL, "iam.amazonaws.com",
		      "ListUsers", UA_PARROT, NULL, "Linux/6.5.0-13parrot1-amd64"},
	[R_PENTOO] = {"PenTest:IAMUser/PentooLinux", "qa-lab", NULL, "ec2.amazonaws.com",
		      "DescribeInstances", UA_PENTOO, "{\"instancesSet\":{},\"filterSet\":{}}",
		      "Linux/6.1.19-pentoo"},
	[R_BEDROCK] = {"DefenseEvasion:IAMUser/BedrockLoggingDisabled", "ml-platform", NULL,
		       "bedrock.amazonaws.com", "DeleteModelInvocationLoggingConfiguration", NULL, NULL,
		       "DeleteModelInvocationLoggingConfiguration"},
};

/* The look-alikes: who, what they look like, the records (up to 3). */
static const struct ctrbenign {
	const char *user, *bucket, *what;
	struct {
		const char *src, *name, *ua, *req;
	} rec[3];
} CTRB[CB__N] = {
	[CB_TRAIL] = {"trail-admin", NULL,
		      "org-trail re-pointed to another bucket, still multi-region with global events; data events added with management events kept",
		      {{"cloudtrail.amazonaws.com", "UpdateTrail", NULL,
			"{\"name\":\"org-trail\",\"s3BucketName\":\"acme-trail-archive\",\"isMultiRegionTrail\":true,"
			"\"includeGlobalServiceEvents\":true,\"enableLogFileValidation\":true}"},
		       {"cloudtrail.amazonaws.com", "PutEventSelectors", NULL,
			"{\"trailName\":\"org-trail\",\"eventSelectors\":[{\"readWriteType\":\"All\","
			"\"includeManagementEvents\":true,\"dataResources\":[{\"type\":\"AWS::S3::Object\","
			"\"values\":[\"arn:aws:s3:::acme-data-lake/\"]}]}]}"}}},
	[CB_PW] = {"iam-admin", NULL, "password policy tightened: 16 characters, all four classes, reuse prevention 24",
		   {{"iam.amazonaws.com", "UpdateAccountPasswordPolicy", NULL,
		     "{\"minimumPasswordLength\":16,\"requireSymbols\":true,\"requireNumbers\":true,"
		     "\"requireUppercaseCharacters\":true,\"requireLowercaseCharacters\":true,"
		     "\"allowUsersToChangePassword\":true,\"passwordReusePrevention\":24}"}}},
	[CB_S3] = {"storage-admin", "acme-web-assets",
		   "acme-web-assets access logs re-pointed to acme-logs-archive; Block Public Access turned fully on for the bucket and the account",
		   {{"s3.amazonaws.com", "PutBucketLogging", NULL,
		     "{\"BucketLoggingStatus\":{\"LoggingEnabled\":{\"TargetBucket\":\"acme-logs-archive\","
		     "\"TargetPrefix\":\"web/\"}," CTR_XMLNS "},\"Host\":\"acme-web-assets.s3.us-east-1."
		     "amazonaws.com\",\"bucketName\":\"acme-web-assets\",\"logging\":\"\"}"},
		    {"s3.amazonaws.com", "PutBucketPublicAccessBlock", NULL,
		     CTR_BPA("true") ",\"bucketName\":\"acme-web-assets\",\"Host\":\"acme-web-assets.s3."
		     "us-east-1.amazonaws.com\",\"publicAccessBlock\":\"\"}"},
		    {"s3.amazonaws.com", "PutAccountPublicAccessBlock", NULL,
		     CTR_BPA("true") ",\"x-amz-account-id\":\"" ACCOUNT "\"}"}}},
	[CB_POLICY] = {"partner-admin", "acme-partner-share",
		       "acme-partner-share shared with one partner account (bucket policy) and one canonical user (ACL)",
		       {{"s3.amazonaws.com", "PutBucketPolicy", NULL,
			 "{\"bucketPolicy\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Partner\","
			 "\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},"
			 "\"Action\":[\"s3:GetObject\",\"s3:ListBucket\"],\"Resource\":[\"arn:aws:s3:::"
			 "acme-partner-share\",\"arn:aws:s3:::acme-partner-share/*\"]}]},\"bucketName\":"
			 "\"acme-partner-share\",\"Host\":\"acme-partner-share.s3.us-east-1.amazonaws.com\","
			 "\"policy\":\"\"}"},
			{"s3.amazonaws.com", "PutBucketAcl", NULL,
			 "{\"bucketName\":\"acme-partner-share\",\"Host\":\"acme-partner-share.s3.us-east-1."
			 "amazonaws.com\",\"acl\":\"\",\"AccessControlPolicy\":{\"AccessControlList\":"
			 "{\"Grant\":[{\"Grantee\":{\"xsi:type\":\"CanonicalUser\",\"ID\":\"be4c2c1f7e9d4a0f"
			 "2b6c8d1e3f5a7b9c0d2e4f6a8b0c1d3e5f7a9b1c3d5e7f90\"," CTR_GRANTEE ",\"Permission\":"
			 "\"READ\"}]},\"Owner\":{\"ID\":\"" CTR_OWNER "\"}," CTR_XMLNS "}}"}}},
	[CB_AGENT] = {"dev-ubuntu", NULL,
		      "calls from Ubuntu and Debian agents and from a tool named kali-inventory",
		      {{"sts.amazonaws.com", "GetCallerIdentity", UA_CLI, NULL},
		       {"ec2.amazonaws.com", "DescribeInstances", UA_DEBIAN,
			"{\"instancesSet\":{},\"filterSet\":{}}"},
		       {"iam.amazonaws.com", "ListUsers", UA_KALI_NAMED_TOOL, NULL}}},
	[CB_BEDROCK] = {"ml-admin", NULL, "Bedrock invocation logging configured to S3 with text delivery on",
			{{"bedrock.amazonaws.com", "PutModelInvocationLoggingConfiguration", NULL,
			  "{\"loggingConfig\":{\"s3Config\":{\"bucketName\":\"acme-bedrock-logs\","
			  "\"keyPrefix\":\"invocations/\"},\"textDataDeliveryEnabled\":true,"
			  "\"imageDataDeliveryEnabled\":false,\"embeddingDataDeliveryEnabled\":false}}"}}},
};

/* Keys and times, from the block's own stream. Users 0..R__N-1 raise the
 * types; R__N.. are the look-alikes. */
static void ctr_setup(struct sim *s)
{
	struct rng r;
	int i;

	rng_seed(&r, s->o->seed ^ 0x637472756c6573ULL); /* "ctrules" */
	for (i = 0; i < R__N + CB__N; i++) {
		struct user *u = &s->ctr_users[i];
		u->name = i < R__N ? CTR[i].user : CTRB[i - R__N].user;
		memcpy(u->key, "AKIA", 4);
		rnd_chars(&r, u->key + 4, 16, B32);
		memcpy(u->pid, "AIDA", 4);
		rnd_chars(&r, u->pid + 4, 17, B32);
		s->ctr_t[i] = i < R__N ? s->t0 + 13 * HOUR + i * 360 + rnd(&r, 120)
				       : s->t0 + 15 * HOUR + (i - R__N) * 600 + rnd(&r, 120);
	}
}

static void ctr_call(struct sim *s, int64_t t, const struct user *u, const char *src,
		     const char *name, const char *ua, const char *req)
{
	char id[512], ub[320];
	int s3 = !strcmp(src, "s3.amazonaws.com");
	ident_user(u, 1, id, sizeof id);
	if (!ua)
		ua = UA_CLI;
	/* S3 logs the agent in brackets */
	snprintf(ub, sizeof ub, "%s%s%s", s3 ? "[" : "", ua, s3 ? "]" : "");
	ct(s, t, id, "198.51.100.77", src, name, ub, req, NULL, 0, 0);
}

/* This hour's records of the block. */
static void ctr_hour(struct sim *s, int64_t hs)
{
	struct rng saved = s->r;
	int i, k, any = 0;

	for (i = 0; i < R__N + CB__N; i++)
		any |= in_hour(s->ctr_t[i], hs);
	if (!any)
		return;
	rng_seed(&s->r, s->o->seed ^ mm_hash_mix((uint64_t)hs + 0x637472ULL));
	for (i = 0; i < R__N; i++)
		if (in_hour(s->ctr_t[i], hs))
			ctr_call(s, s->ctr_t[i], &s->ctr_users[i], CTR[i].src, CTR[i].name, CTR[i].ua,
				 CTR[i].req);
	for (i = 0; i < CB__N; i++)
		for (k = 0; k < 3 && CTRB[i].rec[k].src; k++)
			if (in_hour(s->ctr_t[R__N + i], hs))
				ctr_call(s, s->ctr_t[R__N + i] + k * 60, &s->ctr_users[R__N + i],
					 CTRB[i].rec[k].src, CTRB[i].rec[k].name, CTRB[i].rec[k].ua,
					 CTRB[i].rec[k].req);
	s->r = saved;
}

/* truth.json: the expected entries (after the others) and the benign ones. */
static void ctr_truth_expected(struct sim *s, struct mm_buf *b)
{
	char f[24], res[128];
	int i;

	for (i = 0; i < R__N; i++) {
		const struct ctrdef *e = &CTR[i];
		if (e->bucket)
			snprintf(res, sizeof res, "s3:%s/%s", e->bucket, s->ctr_users[i].key);
		else
			snprintf(res, sizeof res, "%s", s->ctr_users[i].key);
		add(s, b,
		    "%s{\"type\":\"%s\",\"resourceType\":\"%s\",\"resource\":\"%s\",\"role\":\"TARGET\","
		    "\"indicator\":\"%s\",\"firstSeen\":\"%s\",\"lastSeen\":\"%s\",\"what\":\"%s\"}",
		    s->st.expected ? ",\n" : "", e->type, e->bucket ? "S3Bucket" : "AccessKey", res,
		    e->indicator, iso(s->ctr_t[i], f), f, e->user);
		s->st.expected++;
	}
}

static void ctr_truth_benign(struct sim *s, struct mm_buf *b, int first)
{
	char res[128];
	int i;

	for (i = 0; i < CB__N; i++) {
		const struct user *u = &s->ctr_users[R__N + i];
		if (CTRB[i].bucket)
			snprintf(res, sizeof res, "s3:%s/%s", CTRB[i].bucket, u->key);
		else
			snprintf(res, sizeof res, "%s", u->key);
		add(s, b, "%s{\"what\":\"%s: %s\",\"resource\":\"%s\"}", first && !i ? "" : ",\n",
		    u->name, CTRB[i].what, res);
	}
}
/* ==== end of the CloudTrail single-record rules block ==================== */

/* ==== principal baselines and attack sequences (--attacks iam) ===========
 * Per-principal CloudTrail behaviour (detector ctbase) and the sequence
 * it ends in (detector sequence). Seven people and tools keep a routine
 * from day 1; on day 9, after the week's baseline, a developer's key is
 * used from a VPS with another tool (a burst of reads, secrets, trail
 * stopped, an admin user made), another's console password is used from
 * abroad while she works, and the worker instance's role credentials are
 * used from outside AWS. The look-alikes are the issue's: an admin on two
 * home ISPs (and a new API from one of them), a CI user from a fixed
 * address (and a new API), a traveller's one console login abroad, a
 * security tool that lists everything every hour. The block has its own
 * PRNG stream, so the other sets' records are as they were. It needs the
 * baseline: only with --days >= 9. */

enum iam_user { IU_DEV, IU_JUDY, IU_KATE, IU_IVAN, IU_CI, IU_AUDIT, IU__N };
static const char *const IAM_NAMES[IU__N] = {"henry-dev", "judy-ops", "kate-sales", "ivan-admin",
					     "ci-terraform", "sec-audit"};

enum iam_exp {
	IX_DISC, IX_CRED, IX_EVADE, IX_PERSIST, IX_PRIVESC, IX_TRAIL, IX_SEQ, IX_LOGIN, IX_EXFIL, IX__N
};
static const struct iamexp {
	const char *type, *indicator;
	int user;	/* IU_*, or -1: the instance role's stolen session */
} IAMX[IX__N] = {
	[IX_DISC] = {"Discovery:IAMUser/AnomalousBehavior", "14 new reads from 45.137.21.9 with Boto3", IU_DEV},
	[IX_CRED] = {"CredentialAccess:IAMUser/AnomalousBehavior", "ListSecrets, GetSecretValue", IU_DEV},
	[IX_EVADE] = {"DefenseEvasion:IAMUser/AnomalousBehavior", "StopLogging org-trail", IU_DEV},
	[IX_PERSIST] = {"Persistence:IAMUser/AnomalousBehavior", "CreateUser, CreateAccessKey support-svc", IU_DEV},
	[IX_PRIVESC] = {"PrivilegeEscalation:IAMUser/AnomalousBehavior", "AttachUserPolicy AdministratorAccess", IU_DEV},
	[IX_TRAIL] = {"Stealth:IAMUser/CloudTrailLoggingDisabled", "StopLogging org-trail", IU_DEV},
	[IX_SEQ] = {"AttackSequence:IAM/CompromisedCredentials", "discovery, credential access, evasion, persistence", IU_DEV},
	[IX_LOGIN] = {"UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", "console sign-in from 5.188.62.14 while at the office", IU_JUDY},
	[IX_EXFIL] = {"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "worker-role session used from 185.243.115.84", -1},
};

#define IAM_VPS IP4(45, 137, 21, 9)
#define IAM_ABROAD IP4(5, 188, 62, 14)
#define IAM_HOTEL IP4(94, 23, 41, 7)
#define IAM_EXFIL_IP IP4(185, 243, 115, 84)
#define IAM_CI_IP IP4(52, 44, 10, 20)
#define IAM_AUDIT_IP IP4(34, 229, 7, 1)
#define IAM_ISP(day, r) ((day) % 2 ? IP4(92, 41, 7, 50 + rnd((r), 4)) : IP4(86, 14, 22, 10 + rnd((r), 4)))

static const char UA_PACU[] =
	"Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#5.15.0-91-generic md/arch#x86_64 "
	"lang/python#3.10.12 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57";
static const char UA_TF[] =
	"APN/1.0 HashiCorp/1.0 Terraform/1.6.6 (+https://www.terraform.io) terraform-provider-aws/5.31.0 "
	"(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5";
static const char UA_CLI1[] = "aws-cli/1.18.69 Python/2.7.18 Linux/4.19.0-25-amd64 botocore/1.17.12";

static void iam_setup(struct sim *s)
{
	struct rng r;
	int i;

	rng_seed(&r, s->o->seed ^ 0x69616d73696dULL); /* "iamsim" */
	for (i = 0; i < IU__N; i++) {
		struct user *u = &s->iam_users[i];
		u->name = IAM_NAMES[i];
		memcpy(u->key, "AKIA", 4);
		rnd_chars(&r, u->key + 4, 16, B32);
		memcpy(u->pid, "AIDA", 4);
		rnd_chars(&r, u->pid + 4, 17, B32);
	}
	memcpy(s->iam_key, "ASIA", 4);
	rnd_chars(&r, s->iam_key + 4, 16, B32);
	s->iam_t0 = s->t0 + 8 * 86400;
	for (i = 0; i < IX__N; i++) {
		s->iam_first[i] = INT64_MAX;
		s->iam_last[i] = INT64_MIN;
	}
}

static void iam_track(struct sim *s, int e, int64_t t)
{
	if (t < s->iam_first[e])
		s->iam_first[e] = t;
	if (t > s->iam_last[e])
		s->iam_last[e] = t;
}

/* A call by u (with its key unless key is 0). */
static void iam_call(struct sim *s, int64_t t, int u, int key, uint32_t ip, const char *src,
		     const char *name, const char *ua, const char *req, const char *resp, int ro)
{
	char id[512], a[16];
	ident_user(&s->iam_users[u], key, id, sizeof id);
	ct(s, t, id, fmt_ip(ip, a), src, name, ua, req, resp, ro, 0);
}

static void iam_login(struct sim *s, int64_t t, int u, uint32_t ip)
{
	iam_call(s, t, u, 0, ip, "signin.amazonaws.com", "ConsoleLogin", UA_CONSOLE, NULL,
		 "{\"ConsoleLogin\":\"Success\"}", 0);
}

/* What sec-audit lists every hour (and the burst's reads: all new for
 * henry-dev, whose routine is the first four of DEV_CALLS). */
static const struct {
	const char *src, *name;
} AUDIT_CALLS[] = {
	{"iam.amazonaws.com", "ListUsers"}, {"iam.amazonaws.com", "ListRoles"},
	{"iam.amazonaws.com", "ListPolicies"}, {"iam.amazonaws.com", "ListGroups"},
	{"iam.amazonaws.com", "GetAccountPasswordPolicy"}, {"ec2.amazonaws.com", "DescribeInstances"},
	{"ec2.amazonaws.com", "DescribeSecurityGroups"}, {"ec2.amazonaws.com", "DescribeVpcs"},
	{"ec2.amazonaws.com", "DescribeSubnets"}, {"ec2.amazonaws.com", "DescribeVolumes"},
	{"s3.amazonaws.com", "ListBuckets"}, {"s3.amazonaws.com", "GetBucketAcl"},
	{"cloudtrail.amazonaws.com", "DescribeTrails"}, {"config.amazonaws.com", "DescribeConfigRules"},
	{"guardduty.amazonaws.com", "ListDetectors"},
}, DEV_CALLS[] = {
	{"ec2.amazonaws.com", "DescribeInstances"}, {"s3.amazonaws.com", "ListBuckets"},
	{"logs.amazonaws.com", "DescribeLogGroups"}, {"cloudformation.amazonaws.com", "DescribeStacks"},
}, BURST[] = {
	{"sts.amazonaws.com", "GetCallerIdentity"}, {"iam.amazonaws.com", "ListUsers"},
	{"iam.amazonaws.com", "ListRoles"}, {"iam.amazonaws.com", "ListPolicies"},
	{"iam.amazonaws.com", "ListGroups"}, {"iam.amazonaws.com", "ListAccessKeys"},
	{"iam.amazonaws.com", "GetAccountAuthorizationDetails"}, {"iam.amazonaws.com", "GetAccountSummary"},
	{"ec2.amazonaws.com", "DescribeSecurityGroups"}, {"ec2.amazonaws.com", "DescribeVpcs"},
	{"ec2.amazonaws.com", "DescribeSnapshots"}, {"lambda.amazonaws.com", "ListFunctions20150331"},
	{"rds.amazonaws.com", "DescribeDBInstances"}, {"cloudtrail.amazonaws.com", "DescribeTrails"},
};

/* The routines: who acts this hour, from where, with what. */
static void iam_routine(struct sim *s, int64_t hs, int day, int h)
{
	const int attack_day = hs >= s->iam_t0 && hs < s->iam_t0 + 86400;
	size_t i;
	int k;

	/* henry-dev: office hours, the CLI, four calls */
	if (h >= 9 && h < 17)
		for (k = 0; k < 3; k++) {
			i = rnd(&s->r, MM_ARRAY_LEN(DEV_CALLS));
			iam_call(s, hs + rnd(&s->r, HOUR), IU_DEV, 1, OFFICE_IP(&s->r), DEV_CALLS[i].src,
				 DEV_CALLS[i].name, UA_CLI, NULL, NULL, 1);
		}
	/* judy-ops: signs in at 9, works in the console until noon */
	if (h == 9)
		iam_login(s, hs + 60 + rnd(&s->r, 240), IU_JUDY, OFFICE_IP(&s->r));
	if (h >= 9 && h < 12)
		iam_call(s, hs + 600 + rnd(&s->r, 2400), IU_JUDY, 1, OFFICE_IP(&s->r), "ec2.amazonaws.com",
			 "DescribeInstances", UA_CONSOLE, NULL, NULL, 1);
	/* kate-sales: signs in at 8 at the office; on day 9 she travels: no
	 * office, one sign-in from a hotel abroad at 19:00 */
	if (!attack_day) {
		if (h == 8)
			iam_login(s, hs + 60 + rnd(&s->r, 600), IU_KATE, OFFICE_IP(&s->r));
		if (h >= 8 && h < 11)
			iam_call(s, hs + 900 + rnd(&s->r, 1800), IU_KATE, 1, OFFICE_IP(&s->r),
				 "s3.amazonaws.com", "ListBuckets", UA_CONSOLE, NULL, NULL, 1);
	} else if (h == 19) {
		iam_login(s, hs + 300 + rnd(&s->r, 600), IU_KATE, IAM_HOTEL);
		iam_call(s, hs + 1500, IU_KATE, 1, IAM_HOTEL, "s3.amazonaws.com", "ListBuckets", UA_CONSOLE,
			 NULL, NULL, 1);
	}
	/* ivan-admin: evenings from home, ISP A on even days, B on odd days;
	 * on day 9 he also creates a role (new APIs, usual network and tool) */
	if (h == 20 || h == 21) {
		static const char *const calls[] = {"ListUsers", "GetUser", "ListAttachedUserPolicies",
						    "ListAccessKeys"};
		for (k = 0; k < 2; k++)
			iam_call(s, hs + rnd(&s->r, HOUR), IU_IVAN, 1, IAM_ISP(day, &s->r), "iam.amazonaws.com",
				 calls[rnd(&s->r, 4)], UA_CLI, NULL, NULL, 1);
		if (attack_day && h == 20) {
			uint32_t ip = IAM_ISP(day, &s->r);
			iam_call(s, hs + 1800, IU_IVAN, 1, ip, "iam.amazonaws.com", "CreateRole", UA_CLI,
				 "{\"roleName\":\"reporting-reader\",\"assumeRolePolicyDocument\":\"{}\"}", NULL, 0);
			iam_call(s, hs + 1860, IU_IVAN, 1, ip, "iam.amazonaws.com", "AttachRolePolicy", UA_CLI,
				 "{\"roleName\":\"reporting-reader\",\"policyArn\":\"arn:aws:iam::aws:policy/ReadOnlyAccess\"}",
				 NULL, 0);
		}
	}
	/* ci-terraform: every hour from the CI runner's fixed address; on day
	 * 9 at noon it creates a launch template (new API, same runner) */
	iam_call(s, hs + 120 + rnd(&s->r, 60), IU_CI, 1, IAM_CI_IP, "ec2.amazonaws.com", "DescribeInstances",
		 UA_TF, NULL, NULL, 1);
	iam_call(s, hs + 200 + rnd(&s->r, 60), IU_CI, 1, IAM_CI_IP, "ec2.amazonaws.com", "CreateTags", UA_TF,
		 "{\"resourcesSet\":{},\"tagSet\":{}}", NULL, 0);
	iam_call(s, hs + 300 + rnd(&s->r, 60), IU_CI, 1, IAM_CI_IP, "lambda.amazonaws.com",
		 "UpdateFunctionCode20150331v2", UA_TF, "{\"functionName\":\"api-handler\"}", NULL, 0);
	if (attack_day && h == 12)
		iam_call(s, hs + 400, IU_CI, 1, IAM_CI_IP, "ec2.amazonaws.com", "CreateLaunchTemplate", UA_TF,
			 "{\"CreateLaunchTemplateRequest\":{\"LaunchTemplateName\":\"web-v2\"}}", NULL, 0);
	/* sec-audit: lists everything, every hour, from its fixed address */
	for (i = 0; i < MM_ARRAY_LEN(AUDIT_CALLS); i++)
		iam_call(s, hs + 300 + (int64_t)i * 7, IU_AUDIT, 1, IAM_AUDIT_IP, AUDIT_CALLS[i].src,
			 AUDIT_CALLS[i].name, UA_SDK, NULL, NULL, 1);
}

/* The attacks of day 9. */
static void iam_attacks(struct sim *s, int64_t hs)
{
	int64_t t;
	size_t i;

	if (hs == s->iam_t0 + 3 * HOUR) {
		/* henry-dev's key from a VPS with another tool */
		t = hs + 60;
		for (i = 0; i < MM_ARRAY_LEN(BURST); i++, t += 50) {
			iam_call(s, t, IU_DEV, 1, IAM_VPS, BURST[i].src, BURST[i].name, UA_PACU, NULL, NULL, 1);
			iam_track(s, IX_DISC, t);
		}
		t = hs + 20 * 60;
		iam_call(s, t, IU_DEV, 1, IAM_VPS, "secretsmanager.amazonaws.com", "ListSecrets", UA_PACU, NULL,
			 NULL, 1);
		iam_track(s, IX_CRED, t);
		iam_call(s, t + 40, IU_DEV, 1, IAM_VPS, "secretsmanager.amazonaws.com", "GetSecretValue",
			 UA_PACU, "{\"secretId\":\"prod/db/master\"}", NULL, 1);
		iam_track(s, IX_CRED, t + 40);
		t = hs + 25 * 60;
		iam_call(s, t, IU_DEV, 1, IAM_VPS, "cloudtrail.amazonaws.com", "StopLogging", UA_PACU,
			 "{\"name\":\"arn:aws:cloudtrail:" REGION ":" ACCOUNT ":trail/org-trail\"}", NULL, 0);
		iam_track(s, IX_EVADE, t);
		iam_track(s, IX_TRAIL, t);
		t = hs + 30 * 60;
		iam_call(s, t, IU_DEV, 1, IAM_VPS, "iam.amazonaws.com", "CreateUser", UA_PACU,
			 "{\"userName\":\"support-svc\"}", NULL, 0);
		iam_track(s, IX_PERSIST, t);
		iam_call(s, t + 60, IU_DEV, 1, IAM_VPS, "iam.amazonaws.com", "AttachUserPolicy", UA_PACU,
			 "{\"userName\":\"support-svc\",\"policyArn\":\"arn:aws:iam::aws:policy/AdministratorAccess\"}",
			 NULL, 0);
		iam_track(s, IX_PRIVESC, t + 60);
		iam_call(s, t + 120, IU_DEV, 1, IAM_VPS, "iam.amazonaws.com", "CreateAccessKey", UA_PACU,
			 "{\"userName\":\"support-svc\"}", NULL, 0);
		iam_track(s, IX_PERSIST, t + 120);
		for (i = 0; i < IX__N; i++)
			if (IAMX[i].user == IU_DEV && i != IX_SEQ && s->iam_first[i] != INT64_MAX) {
				iam_track(s, IX_SEQ, s->iam_first[i]);
				iam_track(s, IX_SEQ, s->iam_last[i]);
			}
	}
	if (hs == s->iam_t0 + 4 * HOUR) {
		/* the worker's instance-role credentials, used from outside AWS */
		char id[1024], cd[24], a[16];
		static const char *const calls[][2] = {{"ec2.amazonaws.com", "DescribeInstances"},
						       {"s3.amazonaws.com", "ListBuckets"},
						       {"iam.amazonaws.com", "ListAttachedRolePolicies"}};
		const char *role = KINFO[K_WORKER].profile, *iid = s->inst[s->ix[K_WORKER]].id;
		unsigned pidx = (unsigned)(mm_hash(role, strlen(role), 7) % 3);
		snprintf(id, sizeof id,
			 "{\"type\":\"AssumedRole\",\"principalId\":\"%s:%s\",\"arn\":\"arn:aws:sts::%s:assumed-role/%s/%s\","
			 "\"accountId\":\"%s\",\"accessKeyId\":\"%s\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\","
			 "\"principalId\":\"%s\",\"arn\":\"arn:aws:iam::%s:role/%s\",\"accountId\":\"%s\",\"userName\":\"%s\"},"
			 "\"attributes\":{\"creationDate\":\"%s\",\"mfaAuthenticated\":\"false\"},"
			 "\"ec2RoleDelivery\":\"2.0\"}}",
			 s->profile_id[pidx], iid, ACCOUNT, role, iid, ACCOUNT, s->iam_key, s->profile_id[pidx],
			 ACCOUNT, role, ACCOUNT, role, iso(hs - 2 * HOUR, cd));
		for (i = 0; i < 3; i++) {
			t = hs + 600 + (int64_t)i * 120;
			ct(s, t, id, fmt_ip(IAM_EXFIL_IP, a), calls[i][0], calls[i][1], UA_CLI1, NULL, NULL, 1, 0);
			iam_track(s, IX_EXFIL, t);
		}
	}
	if (hs == s->iam_t0 + 10 * HOUR) {
		/* judy-ops's password, used from abroad while she works */
		t = hs + 20 * 60;
		iam_login(s, t, IU_JUDY, IAM_ABROAD);
		iam_track(s, IX_LOGIN, t);
	}
}

static void iam_hour(struct sim *s, int64_t hs)
{
	struct rng saved = s->r;
	struct civil c;
	int day = (int)((hs - s->t0) / 86400);

	civil_of(hs, &c);
	rng_seed(&s->r, s->o->seed ^ mm_hash_mix((uint64_t)hs + 0x69616dULL));
	iam_routine(s, hs, day, c.h);
	iam_attacks(s, hs);
	s->r = saved;
}

/* The resource an expected entry names: the user's key, the stolen
 * session's key, or (sign-ins carry no key) the user's principal id. */
static const char *iam_res(const struct sim *s, int e)
{
	if (IAMX[e].user < 0)
		return s->iam_key;
	/* a sequence is the principal's, a sign-in has no key */
	return e == IX_LOGIN || e == IX_SEQ ? s->iam_users[IAMX[e].user].pid
					     : s->iam_users[IAMX[e].user].key;
}

/* The intel set's IAM bursts that change the account (a listed caller
 * making users, keys, policies, opening a security group) are attack
 * sequences too: a threat-listed caller (initial access) then
 * persistence and privilege escalation within minutes. The bursts that
 * only list things are not (discovery alone harms nothing). */
static void intel_seq_truth(struct sim *s, struct mm_buf *b)
{
	static const enum exp_ix E[] = {E_IAM_MAL, E_IAM_MAL_CUST, E_IAM_TOR};
	char f[24], l[24];
	size_t i;

	for (i = 0; i < MM_ARRAY_LEN(E); i++) {
		add(s, b,
		    "%s{\"type\":\"AttackSequence:IAM/CompromisedCredentials\",\"resourceType\":\"AccessKey\","
		    "\"resource\":\"%s\",\"role\":\"TARGET\",\"indicator\":\"%s then new users, keys or policies\","
		    "\"firstSeen\":\"%s\",\"lastSeen\":\"%s\",\"what\":\"%s\"}",
		    s->st.expected ? ",\n" : "", s->users[EXP[E[i]].user].pid, EXP[E[i]].indicator,
		    iso(s->first[E[i]], f), iso(s->last[E[i]], l), s->users[EXP[E[i]].user].name);
		s->st.expected++;
	}
}

static void iam_truth_expected(struct sim *s, struct mm_buf *b)
{
	char f[24], l[24];
	int i;

	for (i = 0; i < IX__N; i++) {
		if (s->iam_first[i] == INT64_MAX)
			continue;
		add(s, b,
		    "%s{\"type\":\"%s\",\"resourceType\":\"AccessKey\",\"resource\":\"%s\",\"role\":\"TARGET\","
		    "\"indicator\":\"%s\",\"firstSeen\":\"%s\",\"lastSeen\":\"%s\",\"what\":\"%s\"}",
		    s->st.expected ? ",\n" : "", IAMX[i].type, iam_res(s, i), IAMX[i].indicator,
		    iso(s->iam_first[i], f), iso(s->iam_last[i], l),
		    IAMX[i].user < 0 ? "worker-role" : IAM_NAMES[IAMX[i].user]);
		s->st.expected++;
	}
}

static void iam_truth_benign(struct sim *s, struct mm_buf *b, int first)
{
	static const struct {
		int u;
		const char *what;
	} B[] = {
		{IU_IVAN, "admin on two home ISPs (alternate days), creates a role on day 9 from one of them"},
		{IU_CI, "CI user from a fixed address with Terraform every hour, a new API on day 9"},
		{IU_KATE, "traveller: one console sign-in from a hotel abroad on day 9, nothing from home that day"},
		{IU_AUDIT, "security tool listing IAM, EC2, S3, CloudTrail, Config and GuardDuty every hour"},
	};
	size_t i;

	for (i = 0; i < MM_ARRAY_LEN(B); i++)
		add(s, b, "%s{\"what\":\"%s: %s\",\"resource\":\"%s\"}", first && !i ? "" : ",\n",
		    IAM_NAMES[B[i].u], B[i].what, s->iam_users[B[i].u].key);
}
/* ==== end of the principal baselines and sequences block ================= */

static int flush_hour(struct sim *s, int64_t hs)
{
	char path[SIM_PATH_MAX], ymd[16], stamp[16], h8[9], r16[17];
	int i, rc;

	for (i = 0; i < 2; i++) {
		datepath(hs + 300, ymd, stamp);
		rnd_chars(&s->r, h8, 8, HEX);
		snprintf(path, sizeof path, "%s/AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%s.log.gz",
			 s->o->out_dir, ACCOUNT, REGION, ymd, ACCOUNT, REGION, s->vpc[i].fl, stamp, h8);
		if ((rc = write_gz(s, path, s->flow[i].p, s->flow[i].len)))
			return rc;
		if (s->dns[i].len) {
			datepath(hs + 600, ymd, stamp);
			rnd_chars(&s->r, h8, 8, HEX);
			snprintf(path, sizeof path,
				 "%s/AWSLogs/%s/vpcdnsquerylogs/%s/%s/%s_vpcdnsquerylogs_%s_%s_%s.log.gz",
				 s->o->out_dir, ACCOUNT, s->vpc[i].id, ymd, ACCOUNT, s->vpc[i].id, stamp, h8);
			if ((rc = write_gz(s, path, s->dns[i].p, s->dns[i].len)))
				return rc;
		}
	}
	if (s->nct) {
		add(s, &s->ct, "]}\n");
		if (s->rc)
			return s->rc;
		datepath(hs + 3300, ymd, stamp);
		rnd_chars(&s->r, r16, 16, ALNUM);
		snprintf(path, sizeof path, "%s/AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz",
			 s->o->out_dir, ACCOUNT, REGION, ymd, ACCOUNT, REGION, stamp, r16);
		if ((rc = write_gz(s, path, s->ct.p, s->ct.len)))
			return rc;
	}
	return 0;
}

static int gen_hour(struct sim *s, int64_t hs)
{
	int i;

	rng_seed(&s->r, s->o->seed ^ mm_hash_mix((uint64_t)hs + 0x5157ULL));
	for (i = 0; i < 2; i++) {
		mm_buf_reset(&s->flow[i]);
		mm_buf_reset(&s->dns[i]);
		add(s, &s->flow[i], "%s", s->vpc[i].custom ? FLOW_V5_HEADER : FLOW_V2_HEADER);
	}
	mm_buf_reset(&s->ct);
	s->nct = 0;
	add(s, &s->ct, "{\"Records\":[");
	for (i = 0; i < s->ninst; i++)
		background(s, &s->inst[i], hs);
	/* internet background: blocked probes on SSH/RDP/telnet */
	{
		int n = 6 + (int)rnd(&s->r, 8);
		static const int ports[] = {22, 3389, 23};
		for (i = 0; i < n; i++) {
			const struct inst *in = &s->inst[rnd(&s->r, (uint32_t)s->ninst)];
			if (!in->pub)
				continue;
			probe(s, in, IP4(89, 187, 160 + rnd(&s->r, 32), 1 + rnd(&s->r, 254)),
			      ports[rnd(&s->r, 3)], hs + rnd(&s->r, HOUR));
		}
	}
	/* a delivery gap now and then */
	if ((hs / HOUR) % 12 == 5)
		nodata(s, &s->inst[s->ix[K_WEB]], hs + rnd(&s->r, HOUR), ST_SKIPDATA);
	if (s->intel) {
		attacks_net(s, hs);
		lookalikes(s, hs);
	}
	if (s->net || s->dnsl)
		attacks_netbeh(s, hs);
	if (s->net)
		lookalikes_net(s, hs);
	cloudtrail_hour(s, hs);
	if (s->intel) {
		attacks_iam(s, hs);
		if (s->launch >= hs && s->launch < hs + HOUR)
			runinstances(s);
	}
	if (s->ctr)
		ctr_hour(s, hs);
	if (s->iam)
		iam_hour(s, hs);
	if (s->rc)
		return s->rc;
	return flush_hour(s, hs);
}

/* ---- inventory, lists, options, truth ---- */

static void inv_instance(struct sim *s, struct mm_buf *b, const struct inst *in, int first)
{
	const struct vpc *v = &s->vpc[in->vpc];
	const struct kinfo *ki = &KINFO[in->kind];
	char ip[16], pub[16], lt[24], assoc[256] = "", pubf[200] = "", prof[200] = "", tags[256] = "";
	unsigned o1 = in->ip >> 24, o2 = (in->ip >> 16) & 255, o3 = (in->ip >> 8) & 255, o4 = in->ip & 255;

	fmt_ip(in->ip, ip);
	iso(in->launch, lt);
	lt[19] = '\0';	/* describe-instances prints "+00:00" */
	if (in->pub) {
		fmt_ip(in->pub, pub);
		snprintf(assoc, sizeof assoc,
			 "\"Association\":{\"IpOwnerId\":\"amazon\",\"PublicDnsName\":\"ec2-%u-%u-%u-%u.compute-1.amazonaws.com\",\"PublicIp\":\"%s\"},",
			 in->pub >> 24, (in->pub >> 16) & 255, (in->pub >> 8) & 255, in->pub & 255, pub);
		snprintf(pubf, sizeof pubf,
			 "\"PublicDnsName\":\"ec2-%u-%u-%u-%u.compute-1.amazonaws.com\",\"PublicIpAddress\":\"%s\",",
			 in->pub >> 24, (in->pub >> 16) & 255, (in->pub >> 8) & 255, in->pub & 255, pub);
	} else {
		snprintf(pubf, sizeof pubf, "\"PublicDnsName\":\"\",");
	}
	/* an EMR master carries EMR's tags; the VPN gateway announces the
	 * resolvers it is about to switch to */
	if (in->kind == K_EMR)
		snprintf(tags, sizeof tags,
			 ",{\"Key\":\"aws:elasticmapreduce:instance-group-role\",\"Value\":\"MASTER\"},"
			 "{\"Key\":\"aws:elasticmapreduce:job-flow-id\",\"Value\":\"j-%.13s\"}",
			 in->eni + 4);
	else if (in->kind == K_RESOLV_LA)
		snprintf(tags, sizeof tags, ",{\"Key\":\"mamori:dns-resolver\",\"Value\":\"1.1.1.1,1.0.0.1\"}");
	if (ki->profile)
		snprintf(prof, sizeof prof,
			 "\"IamInstanceProfile\":{\"Arn\":\"arn:aws:iam::%s:instance-profile/%s\",\"Id\":\"AIPA%.17s\"},",
			 ACCOUNT, ki->profile, s->profile_id[in->kind % 3] + 4);
	add(s, b,
	    "%s{\"Groups\":[],\"Instances\":[{\"AmiLaunchIndex\":0,\"ImageId\":\"ami-0c7217cdde317cfec\","
	    "\"InstanceId\":\"%s\",\"InstanceType\":\"%s\",\"KeyName\":\"ops-2024\",\"LaunchTime\":\"%s+00:00\","
	    "\"Monitoring\":{\"State\":\"disabled\"},\"Placement\":{\"AvailabilityZone\":\"us-east-1%c\","
	    "\"GroupName\":\"\",\"Tenancy\":\"default\"},\"PrivateDnsName\":\"ip-%u-%u-%u-%u.ec2.internal\","
	    "\"PrivateIpAddress\":\"%s\",\"ProductCodes\":[],%s\"State\":{\"Code\":16,\"Name\":\"running\"},"
	    "\"SubnetId\":\"%s\",\"VpcId\":\"%s\",\"Architecture\":\"x86_64\",%s"
	    "\"NetworkInterfaces\":[{%s\"Attachment\":{\"AttachTime\":\"%s+00:00\",\"AttachmentId\":\"%s\","
	    "\"DeleteOnTermination\":true,\"DeviceIndex\":0,\"Status\":\"attached\",\"NetworkCardIndex\":0},"
	    "\"Description\":\"\",\"Groups\":[{\"GroupName\":\"%s-sg\",\"GroupId\":\"%s\"}],\"Ipv6Addresses\":[],"
	    "\"MacAddress\":\"%s\",\"NetworkInterfaceId\":\"%s\",\"OwnerId\":\"%s\","
	    "\"PrivateDnsName\":\"ip-%u-%u-%u-%u.ec2.internal\",\"PrivateIpAddress\":\"%s\","
	    "\"PrivateIpAddresses\":[{%s\"Primary\":true,\"PrivateDnsName\":\"ip-%u-%u-%u-%u.ec2.internal\","
	    "\"PrivateIpAddress\":\"%s\"}],\"SourceDestCheck\":true,\"Status\":\"in-use\",\"SubnetId\":\"%s\","
	    "\"VpcId\":\"%s\",\"InterfaceType\":\"interface\"}],\"RootDeviceName\":\"/dev/xvda\","
	    "\"RootDeviceType\":\"ebs\",\"SecurityGroups\":[{\"GroupName\":\"%s-sg\",\"GroupId\":\"%s\"}],"
	    "\"SourceDestCheck\":true,\"Tags\":[{\"Key\":\"Name\",\"Value\":\"%s\"},{\"Key\":\"Role\",\"Value\":\"%s\"}%s],"
	    "\"VirtualizationType\":\"hvm\"}],\"OwnerId\":\"%s\",\"ReservationId\":\"r-%.17s\"}",
	    first ? "" : ",\n", in->id, ki->itype, lt, 'a' + in->subnet, o1, o2, o3, o4, ip, pubf,
	    v->subnet[in->subnet], v->id, prof, assoc, lt, in->eni_attach, ki->role, s->sg[in->kind],
	    in->mac, in->eni, ACCOUNT, o1, o2, o3, o4, ip, assoc, o1, o2, o3, o4, ip,
	    v->subnet[in->subnet], v->id, ki->role, s->sg[in->kind], in->name, ki->role, tags, ACCOUNT,
	    in->id + 2);
}

static int write_text(struct sim *s, const char *rel, const char *text)
{
	char path[SIM_PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", s->o->out_dir, rel);
	return write_file(s, path, text, strlen(text));
}

static int write_inventory(struct sim *s)
{
	struct mm_buf *b = &s->tmp;
	int i, first = 1;

	mm_buf_reset(b);
	add(s, b, "{\"Reservations\":[\n");
	for (i = 0; i < s->ninst; i++) {
		if (!s->inst[i].in_inventory)
			continue;
		inv_instance(s, b, &s->inst[i], first);
		first = 0;
	}
	add(s, b, "\n]}\n");
	return s->rc ? s->rc : write_text(s, "inventory.json", b->p);
}

static const struct {
	const char *file, *text;
} LISTS[] = {
	{"intel/mining.txt", "38.132.99.20\n38.132.99.64/27\nxmrpool-relay.net\nstratum.minexmr-sim.net\n"},
	{"intel/c2.txt", "66.42.71.15\n66.42.71.128/28\n66.42.71.200\ngate-update.net\n"},
	{"intel/tor.txt", "92.38.135.11\n92.38.135.12\n92.38.135.13\n92.38.135.14\n92.38.135.15\n"
			  "92.38.135.16\n92.38.135.17\n92.38.135.18\n92.38.135.19\n139.59.12.20/30\n"
			  "139.59.12.24\n139.59.12.25\n139.59.12.26\n139.59.12.27\n139.59.12.28\n"},
	{"intel/torexit.txt", "139.59.12.20/30\n139.59.12.24\n139.59.12.25\n139.59.12.26\n139.59.12.27\n"
			      "139.59.12.28\n"},
	{"intel/blackhole.txt", "172.96.13.5\n172.96.13.32/28\nblackhole-sink.org\n"},
	{"intel/droppoint.txt", "193.29.56.44\ndrop-vault.net\nexfil-bucket.info\n"},
	{"intel/custom.txt", "154.16.49.77\n154.16.49.160/27\nbadactor-portal.com\n"},
	{"intel/trusted.txt", "66.42.71.200\n81.2.69.160/28\n147.75.90.0/29\n"},
	/* Paths are relative to the simulation directory: the scanner
	 * resolves them against the directory holding scan.args. */
	{"scan.args", "--no-default-lists\n--inventory\ninventory.json\n"
		      "--threat-list\nmining=intel/mining.txt\n--threat-list\nc2=intel/c2.txt\n"
		      "--threat-list\ntor=intel/tor.txt\n--threat-list\ntorexit=intel/torexit.txt\n"
		      "--threat-list\nblackhole=intel/blackhole.txt\n--threat-list\ndroppoint=intel/droppoint.txt\n"
		      "--threat-list\ncustom=intel/custom.txt\n--trusted-ips\nintel/trusted.txt\n"},
};

static int write_digest(struct sim *s)
{
	char path[SIM_PATH_MAX], ymd[16], stamp[16], a[24], b[24], body[2048];
	int64_t t = s->t0 + HOUR;

	datepath(t, ymd, stamp);
	snprintf(body, sizeof body,
		 "{\"awsAccountId\":\"%s\",\"digestStartTime\":\"%s\",\"digestEndTime\":\"%s\","
		 "\"digestS3Bucket\":\"acme-trail\",\"digestS3Object\":\"AWSLogs/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_mgmt-trail_%s_%s.json.gz\","
		 "\"digestPublicKeyFingerprint\":\"47aaa19f7eec22e9bd0b5e58cfade8cb\",\"digestSignatureAlgorithm\":\"SHA256withRSA\","
		 "\"newestEventTime\":\"%s\",\"oldestEventTime\":\"%s\",\"previousDigestS3Bucket\":null,"
		 "\"previousDigestS3Object\":null,\"previousDigestHashValue\":null,\"previousDigestHashAlgorithm\":null,"
		 "\"previousDigestSignature\":null,\"logFiles\":[]}\n",
		 ACCOUNT, iso(s->t0, a), iso(t, b), ACCOUNT, REGION, ymd, ACCOUNT, REGION, REGION, stamp,
		 b, a);
	snprintf(path, sizeof path,
		 "%s/AWSLogs/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_mgmt-trail_%s_%s.json.gz",
		 s->o->out_dir, ACCOUNT, REGION, ymd, ACCOUNT, REGION, REGION, stamp);
	return write_gz(s, path, body, strlen(body));
}

/* "intel,network,dnslists,ctrules,iam" for the sets in use. */
static const char *attacks_name(struct sim *s)
{
	static const char *const names[] = {"intel", "network", "dnslists", "ctrules", "iam"};
	int on[5] = {s->intel, s->net, s->dnsl, s->ctr, s->iam}, i;
	size_t n = 0;

	s->attacks_str[0] = '\0';
	for (i = 0; i < 5; i++)
		if (on[i])
			n += (size_t)snprintf(s->attacks_str + n, sizeof s->attacks_str - n, "%s%s",
					      n ? "," : "", names[i]);
	return s->attacks_str;
}

static int write_truth(struct sim *s)
{
	struct mm_buf *b = &s->tmp;
	char f[24], l[24], ip[16];
	int i;

	mm_buf_reset(b);
	add(s, b, "{\"seed\":%llu,\"days\":%d,\"scale\":%d,\"start\":\"%.10s\",\"account\":\"%s\",\"region\":\"%s\",\n"
	    "\"attacks\":\"%s\",\"baselineBehaviours\":%s,\n\"expected\":[\n",
	    (unsigned long long)s->o->seed, s->o->days, s->o->scale, iso(s->t0, f), ACCOUNT, REGION,
	    attacks_name(s), s->net && s->base_ok ? "true" : "false");
	for (i = 0; s->intel && i < E__N; i++) {
		const struct expdef *e = &EXP[i];
		int key = e->kind == K__N;
		add(s, b,
		    "%s{\"type\":\"%s\",\"resourceType\":\"%s\",\"resource\":\"%s\",\"role\":\"%s\",%s%s%s"
		    "\"indicator\":\"%s\",\"firstSeen\":\"%s\",\"lastSeen\":\"%s\",\"what\":\"%s\"}",
		    i ? ",\n" : "", e->type, key ? "AccessKey" : "Instance",
		    key ? s->users[e->user].key : s->inst[s->ix[e->kind]].id, key ? "TARGET" : "ACTOR",
		    e->dir ? "\"direction\":\"" : "", e->dir ? e->dir : "", e->dir ? "\"," : "",
		    e->indicator, iso(s->first[i], f), iso(s->last[i], l),
		    key ? s->users[e->user].name : s->inst[s->ix[e->kind]].name);
		s->st.expected++;
	}
	for (i = 0; i < N__N; i++) {
		const struct nexpdef *e = &NEXP[i];
		int w = i == N_DOT_NPU ? N_DOT : i == N_EMR_PP ? N_EMR : i;
		if (!nexp_on(s, i))
			continue;
		add(s, b,
		    "%s{\"type\":\"%s\",\"resourceType\":\"Instance\",\"resource\":\"%s\",\"role\":\"%s\",%s%s%s"
		    "\"indicator\":\"%s\",\"firstSeen\":\"%s\",\"lastSeen\":\"%s\",\"what\":\"%s\"%s}",
		    s->st.expected ? ",\n" : "", e->type, s->inst[s->ix[e->kind]].id, e->role,
		    e->dir ? "\"direction\":\"" : "", e->dir ? e->dir : "", e->dir ? "\"," : "",
		    e->indicator, iso(s->nfirst[w], f), iso(s->nlast[w], l), s->inst[s->ix[e->kind]].name,
		    e->optional ? ",\"optional\":true" : "");
		s->st.expected++;
	}
	if (s->ctr)
		ctr_truth_expected(s, b);
	if (s->intel)
		intel_seq_truth(s, b);
	if (s->iam)
		iam_truth_expected(s, b);
	add(s, b, "\n],\n\"benign\":[\n");
	if (s->intel) {
		const struct inst *la = &s->inst[s->ix[K_LOOKALIKE]];
		const struct inst *w1 = &s->inst[s->ix[K_WEB]];
		const struct inst *w2 = w1 + 1;
		const struct {
			const char *what, *res;
		} B[] = {
			{"connects to 38.132.99.21, the neighbour of listed mining IP 38.132.99.20", la->id},
			{"connects to 38.132.99.96, one past the end of listed 38.132.99.64/27", la->id},
			{"connects to 66.42.71.144, one past the end of listed 66.42.71.128/28", la->id},
			{"connects to 66.42.71.200: on c2.txt but also on trusted.txt (trusted wins)", la->id},
			{"DNS xxmrpool-relay.net and xgate-update.net: 'x' + a listed domain", la->id},
			{"DNS minexmr-sim.net: the parent of listed stratum.minexmr-sim.net", la->id},
			{"inbound HTTPS from Tor exit relays 139.59.12.21-28 (Tor users browsing)", w1->id},
			{"REJECTed inbound SSH/RDP from 66.42.71.130 (in listed c2 66.42.71.128/28)", w2->id},
			{"CloudTrail calls (ListUsers, DescribeInstances, PutObject) from trusted 66.42.71.200, also on c2.txt",
			 s->users[U_SCANNER].key},
			{"AWS service calls with sourceIPAddress ec2.amazonaws.com and AWS Internal", ""},
			{"REJECTed SSH/RDP/telnet probes from unlisted 89.187.160.0/19", ""},
			{"RunInstances from the office launching the miner instance (no finding on the call)",
			 s->users[U_BOB].key},
		};
		for (i = 0; i < (int)MM_ARRAY_LEN(B); i++)
			add(s, b, "%s{\"what\":\"%s\",\"resource\":\"%s\"}", i ? ",\n" : "", B[i].what,
			    B[i].res);
	}
	if (s->net) {
		const char *bastion = s->inst[s->ix[K_BASTION]].id;
		const struct {
			const char *what, *res;
		} B[] = {
			{"nightly backup: ~3 GB 02:05-03:15 UTC every night to 79.127.200.10:443, ~500 packets/s (big but regular)",
			 s->inst[s->ix[K_BACKUP]].id},
			{"mail relay: tcp/25 to its smarthost 87.120.36.25 and 3-6 MX hosts an hour, since the first day",
			 s->inst[s->ix[K_RELAY]].id},
			{"CDN-fronted origin: 150-250 HTTPS sessions an hour from CloudFront edges (many peers, multi-packet)",
			 s->inst[s->ix[K_CDN]].id},
			{"trusted scanner 147.75.90.0/29 (trusted.txt): daily 12:30 SYN scan of 50 ports from 4 addresses and 30 SSH logins",
			 bastion},
			{"admin SSH from home 73.162.40.17: sessions at 10 and 15 UTC, two failed logins a day", bastion},
			{"monitoring probe: 20 partner hosts 87.120.36.100-119 on 443, 80 and 22 once a day at 06:00",
			 s->inst[s->ix[K_MONITOR]].id},
			{s->base_ok ? "resolver change 8.8.8.8 -> 1.1.1.1/1.0.0.1 on day 9 at 09:00, announced in tag mamori:dns-resolver"
				    : "public resolver 8.8.8.8 used every hour since the first day (tag mamori:dns-resolver announces 1.1.1.1,1.0.0.1)",
			 s->inst[s->ix[K_RESOLV_LA]].id},
			{"DNS: 40-60 long S3 bucket names an hour, CloudFront names, PTR, 3 _acme-challenge names, real odd-looking domains, instance-data.ec2.internal -> 169.254.169.254",
			 s->inst[s->ix[K_DNS_LA]].id},
		};
		for (i = 0; i < (int)MM_ARRAY_LEN(B); i++)
			add(s, b, "%s{\"what\":\"%s\",\"resource\":\"%s\"}", i || s->intel ? ",\n" : "",
			    B[i].what, B[i].res);
		if (s->dnsl)
			add(s, b, ",\n{\"what\":\"DNS dyn-home-sim.net (parent of listed myhome.dyn-home-sim.net) and xsecure-login-sim.com every 6 hours\",\"resource\":\"%s\"}",
			    s->inst[s->ix[K_DNS_LA]].id);
	}
	if (s->ctr)
		ctr_truth_benign(s, b, !s->intel && !s->net);
	if (s->iam)
		iam_truth_benign(s, b, !s->intel && !s->net && !s->ctr);
	add(s, b, "\n],\n\"instances\":{");
	for (i = 0; i < s->ninst; i++)
		add(s, b, "%s\"%s\":{\"name\":\"%s\",\"kind\":\"%s\",\"eni\":\"%s\",\"ip\":\"%s\",\"inInventory\":%s}",
		    i ? ",\n" : "\n", s->inst[i].id, s->inst[i].name, KINFO[s->inst[i].kind].name,
		    s->inst[i].eni, fmt_ip(s->inst[i].ip, ip), s->inst[i].in_inventory ? "true" : "false");
	add(s, b, "}}\n");
	return s->rc ? s->rc : write_text(s, "truth.json", b->p);
}

/* ---- entry ---- */

void mm_sim_opts_init(struct mm_sim_opts *o)
{
	memset(o, 0, sizeof *o);
	o->days = 2;
	o->scale = 1;
	o->seed = 1;
	o->start_day = mm_days_from_civil(2024, 3, 4);
	o->attacks = MM_SIM_ATTACKS_ALL;
}

/* 0 when dir is missing or empty, MM_EEXISTS when it has entries,
 * MM_EIO when it is not a readable directory. */
static int check_out_dir(const char *dir, struct mm_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		return mm_err_set(err, MM_EIO, "cannot use %s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			rc = mm_err_set(err, MM_EEXISTS, "%s is not empty (use --force to write into it)", dir);
			break;
		}
	}
	closedir(d);
	return rc;
}

int mm_sim_generate(const struct mm_sim_opts *o, struct mm_sim_stats *st, struct mm_err *err)
{
	struct sim *s = NULL;
	char dir[SIM_PATH_MAX];
	size_t i;
	int64_t hs;
	int k, rc = 0;

	if (!o->out_dir || !o->out_dir[0] || strlen(o->out_dir) > 512)
		return mm_err_set(err, MM_EINVAL, "sim: an output directory is required (at most 512 bytes)");
	if (o->days < 1 || o->days > MM_SIM_MAX_DAYS)
		return mm_err_set(err, MM_EINVAL, "sim: days must be 1..%d", MM_SIM_MAX_DAYS);
	if (o->scale < 1 || o->scale > MM_SIM_MAX_SCALE)
		return mm_err_set(err, MM_EINVAL, "sim: scale must be 1..%d", MM_SIM_MAX_SCALE);
	if (o->attacks < 0 || o->attacks > MM_SIM_ATTACKS_ALL)
		return mm_err_set(err, MM_EINVAL, "sim: bad attack set");
	if (o->start_day < 0 || o->start_day > 100000)
		return mm_err_set(err, MM_EINVAL, "sim: start date out of range");
	if (!o->force && (rc = check_out_dir(o->out_dir, err)))
		return rc;
	snprintf(dir, sizeof dir, "%s", o->out_dir);
	if ((rc = mkdirs(dir, err)))
		return rc;
	s = mm_calloc(1, sizeof *s);
	if (!s)
		return mm_err_set(err, MM_ENOMEM, "sim: out of memory");
	s->o = o;
	s->err = err;
	s->intel = !o->attacks || (o->attacks & MM_SIM_ATTACKS_INTEL);
	s->net = !o->attacks || (o->attacks & MM_SIM_ATTACKS_NETWORK);
	s->dnsl = !!(o->attacks & MM_SIM_ATTACKS_DNSLISTS);
	s->ctr = !!(o->attacks & MM_SIM_ATTACKS_CTRULES);
	/* the block needs the week's baseline before day 9 */
	s->iam = !!(o->attacks & MM_SIM_ATTACKS_IAM) && o->days >= 9;
	s->t0 = o->start_day * 86400;
	s->t1 = s->t0 + (int64_t)o->days * 86400;
	for (k = 0; k < 2; k++) {
		mm_buf_init(&s->flow[k], SIM_BUF_MAX);
		mm_buf_init(&s->dns[k], SIM_BUF_MAX);
	}
	mm_buf_init(&s->ct, SIM_BUF_MAX);
	mm_buf_init(&s->tmp, SIM_BUF_MAX);
	rng_seed(&s->est, o->seed);
	if ((rc = build_estate(s)))
		goto out;
	schedule(s);
	if (s->net || s->dnsl)
		schedule_net(s);
	if (s->ctr)
		ctr_setup(s);
	if (s->iam)
		iam_setup(s);
	for (hs = s->t0; hs < s->t1; hs += HOUR)
		if ((rc = gen_hour(s, hs)))
			goto out;
	if ((rc = write_digest(s)) || (rc = write_inventory(s)))
		goto out;
	for (i = 0; i < MM_ARRAY_LEN(LISTS); i++) {
		const char *text = LISTS[i].text;
		if (s->dnsl && !strcmp(LISTS[i].file, "scan.args")) {
			size_t j;
			mm_buf_reset(&s->tmp);
			add(s, &s->tmp, "%s", text);
			for (j = 0; j < MM_ARRAY_LEN(DNSLISTS); j++)
				add(s, &s->tmp, "--threat-list\n%s=%s\n", DNSLISTS[j].cat, DNSLISTS[j].file);
			if (s->rc) {
				rc = s->rc;
				goto out;
			}
			text = s->tmp.p;
		}
		if ((rc = write_text(s, LISTS[i].file, text)))
			goto out;
	}
	for (i = 0; s->dnsl && i < MM_ARRAY_LEN(DNSLISTS); i++)
		if ((rc = write_text(s, DNSLISTS[i].file, DNSLISTS[i].text)))
			goto out;
	for (k = 0; s->intel && k < E__N; k++)
		if (!s->first[k]) {
			rc = mm_err_set(err, MM_EINVAL, "sim: attack %s produced no records (run too short?)",
					EXP[k].type);
			goto out;
		}
	for (k = 0; k < N__N; k++)
		if (!NEXP[k].optional && nexp_on(s, k) && !s->nfirst[k]) {
			rc = mm_err_set(err, MM_EINVAL, "sim: attack %s produced no records", NEXP[k].type);
			goto out;
		}
	if ((rc = write_truth(s)))
		goto out;
	s->st.instances = s->ninst;
	if (st)
		*st = s->st;
out:
	if (!rc && s->rc)
		rc = s->rc;
	for (k = 0; k < 2; k++) {
		mm_buf_free(&s->flow[k]);
		mm_buf_free(&s->dns[k]);
	}
	mm_buf_free(&s->ct);
	mm_buf_free(&s->tmp);
	mm_free(s->z);
	mm_free(s->inst);
	mm_free(s);
	return rc;
}
