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
	K_LOOKALIKE, K__N
};

static const struct kinfo {
	const char *name, *role, *itype, *profile;
	int vpc, pub, subnet, applike;
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
	struct mm_buf flow[2], dns[2], ct, tmp;
	int nct;		/* records in ct */
	unsigned char *z;
	size_t zcap;
	struct mm_sim_stats st;
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

/* One connection as in's ENI logs it: the request record and the
 * response record. out: in initiated it. Returns the record window end. */
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
	q.bytes = req;
	q.packets = req / 1200 + 1 + rnd(&s->r, 3);
	q.flags = proto == 6 ? 3 : 0;
	q.ingress = !out;
	p = q;
	p.src = q.dst;
	p.dst = q.src;
	p.sport = q.dport;
	p.dport = q.sport;
	p.bytes = resp;
	p.packets = resp / 1200 + 1 + rnd(&s->r, 3);
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

static void dns_emit(struct sim *s, const struct inst *in, int64_t t, const char *qname,
		     const char *qtype, uint32_t answer, const char *rcode)
{
	struct mm_buf *b = &s->dns[in->vpc];
	char ts[24], src[16], ans[160] = "[]", ids[64] = "{}", a[16];

	s->st.dns_records++;
	if (answer)
		snprintf(ans, sizeof ans, "[{\"Rdata\":\"%s\",\"Type\":\"%s\",\"Class\":\"IN\"}]",
			 fmt_ip(answer, a), qtype);
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
		if (u == 0)
			for (k = K_MINER; k < K__N; k++)
				if ((rc = add_inst(s, (enum kind)k, u, counter)))
					return rc;
		for (i = first; i < s->ninst; i++)
			s->inst[i].db = db;
	}
	return 0;
}

/* Round to the minute plus up to jitter minutes of the estate stream. */
static int64_t at(struct sim *s, double frac, int jitter_min)
{
	int64_t t = s->t0 + (int64_t)((double)(s->t1 - s->t0) * frac);
	return t - t % 60 + 60 * (int64_t)rnd(&s->est, (uint32_t)jitter_min + 1);
}

static void schedule(struct sim *s)
{
	int i;
	s->launch = at(s, 0.25, 20);
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
	switch (in->kind) {
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
	/* drop point: large uploads */
	in = &s->inst[s->ix[K_DROP]];
	EACH(t, E_DROP, 300, hs) {
		e = conn(s, in, IP4(193, 29, 56, 44), eph(s), 443, 1, 6, t,
			 50000000 + (uint64_t)rnd(&s->r, 150000000), 40000 + rnd(&s->r, 20000));
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
	attacks_net(s, hs);
	lookalikes(s, hs);
	cloudtrail_hour(s, hs);
	attacks_iam(s, hs);
	if (s->launch >= hs && s->launch < hs + HOUR)
		runinstances(s);
	if (s->rc)
		return s->rc;
	return flush_hour(s, hs);
}

/* ---- inventory, lists, options, truth ---- */

static void inv_instance(struct sim *s, struct mm_buf *b, const struct inst *in, int first)
{
	const struct vpc *v = &s->vpc[in->vpc];
	const struct kinfo *ki = &KINFO[in->kind];
	char ip[16], pub[16], lt[24], assoc[256] = "", pubf[200] = "", prof[200] = "";
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
	    "\"SourceDestCheck\":true,\"Tags\":[{\"Key\":\"Name\",\"Value\":\"%s\"},{\"Key\":\"Role\",\"Value\":\"%s\"}],"
	    "\"VirtualizationType\":\"hvm\"}],\"OwnerId\":\"%s\",\"ReservationId\":\"r-%.17s\"}",
	    first ? "" : ",\n", in->id, ki->itype, lt, 'a' + in->subnet, o1, o2, o3, o4, ip, pubf,
	    v->subnet[in->subnet], v->id, prof, assoc, lt, in->eni_attach, ki->role, s->sg[in->kind],
	    in->mac, in->eni, ACCOUNT, o1, o2, o3, o4, ip, assoc, o1, o2, o3, o4, ip,
	    v->subnet[in->subnet], v->id, ki->role, s->sg[in->kind], in->name, ki->role, ACCOUNT,
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
	{"intel/trusted.txt", "66.42.71.200\n81.2.69.160/28\n"},
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

static int write_truth(struct sim *s)
{
	struct mm_buf *b = &s->tmp;
	char f[24], l[24], ip[16];
	int i;

	mm_buf_reset(b);
	add(s, b, "{\"seed\":%llu,\"days\":%d,\"scale\":%d,\"start\":\"%.10s\",\"account\":\"%s\",\"region\":\"%s\",\n\"expected\":[\n",
	    (unsigned long long)s->o->seed, s->o->days, s->o->scale, iso(s->t0, f), ACCOUNT, REGION);
	for (i = 0; i < E__N; i++) {
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
	}
	add(s, b, "\n],\n\"benign\":[\n");
	{
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
	add(s, b, "\n],\n\"instances\":{");
	for (i = 0; i < s->ninst; i++)
		add(s, b, "%s\"%s\":{\"name\":\"%s\",\"eni\":\"%s\",\"ip\":\"%s\",\"inInventory\":%s}",
		    i ? ",\n" : "\n", s->inst[i].id, s->inst[i].name, s->inst[i].eni,
		    fmt_ip(s->inst[i].ip, ip), s->inst[i].in_inventory ? "true" : "false");
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
	for (hs = s->t0; hs < s->t1; hs += HOUR)
		if ((rc = gen_hour(s, hs)))
			goto out;
	if ((rc = write_digest(s)) || (rc = write_inventory(s)))
		goto out;
	for (i = 0; i < MM_ARRAY_LEN(LISTS); i++)
		if ((rc = write_text(s, LISTS[i].file, LISTS[i].text)))
			goto out;
	for (k = 0; k < E__N; k++)
		if (!s->first[k]) {
			rc = mm_err_set(err, MM_EINVAL, "sim: attack %s produced no records (run too short?)",
					EXP[k].type);
			goto out;
		}
	if ((rc = write_truth(s)))
		goto out;
	s->st.instances = s->ninst;
	s->st.expected = E__N;
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
