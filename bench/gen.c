/* gen.c - deterministic generator of the benchmark inputs (bench/run.sh).
 *
 * Writes, under OUTDIR, synthetic but realistic AWS logs as AWS delivers
 * them to S3, plus the lists the jobs match against:
 *   flows/NAME.log  VPC Flow Logs, default v2 format with its header line,
 *                   20 files; ~50k ENIs (10.x addresses) talking to public
 *                   addresses; ACCEPT/REJECT, NODATA/SKIPDATA records
 *   threats.txt     100k-entry GuardDuty TXT threat list: IPs and CIDRs
 *                   (/8-/31, mostly /24-/32); a small fraction of flows and
 *                   CloudTrail calls come from / go to listed addresses
 *   ct/NAME.json    CloudTrail S3 objects {"Records":[...]}, 5-10k records
 *                   each, ~1.2 KB a record, varied userIdentity types and
 *                   requestParameters shapes
 *   dns/NAME.log    Route 53 Resolver query logs (one JSON object a line)
 *   domains.txt     10k-entry domain list (GuardDuty TXT, domains only)
 *   manifest.tsv    kind, path, records, bytes for every data file
 * The .gz copies are made by run.sh (gzip, both cores) from these files.
 *
 * Everything comes from one seeded PRNG, so the same seed and scale give
 * byte-identical output. This is a standalone tool, not part of the
 * mamori library: it uses stdio and plain malloc on purpose so it builds
 * with nothing but a C compiler (cc -O2 bench/gen.c -o gen).
 *
 * usage: gen OUTDIR [--scale N] [--seed S] [--ct-typical]
 *   --scale N     divide every record count by N (run.sh --quick uses 10)
 *   --ct-typical  only the threat list and CloudTrail, with callers as real
 *                 accounts have them: a principal calls from its own address
 *                 (1 call in 2000 from anywhere, not 1 in 10) with its own
 *                 user agent (1 call in 20 another, not any of 8 each call).
 *                 The default set is the stress case: every principal roams
 *                 the internet, so the per-principal baselines hold tens of
 *                 thousands of networks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FLOW_LINES 10000000L
#define FLOW_FILES 20
#define N_ENI 50000
#define N_ACCT 8
#define N_THREAT 100000
#define N_POPULAR 5000
#define CT_RECORDS 1000000L
#define N_IDENT 2000
#define DNS_LINES 5000000L
#define DNS_FILES 20
#define N_DOMAIN 10000
#define N_BENIGN_NAMES 20000
#define T0 1704067200L /* 2024-01-01T00:00:00Z */

/* Hit rates: the share of records aimed at a listed indicator. Random
 * public addresses also land in listed /24s by chance (~0.2%). */
#define FLOW_HIT_PPM 3000
#define CT_HIT_PPM 2000
#define DNS_HIT_PPM 3000

static uint64_t g_rs;

/* xorshift64*: fast, deterministic, good enough for synthetic data. */
static inline uint64_t rnd(void)
{
	g_rs ^= g_rs >> 12;
	g_rs ^= g_rs << 25;
	g_rs ^= g_rs >> 27;
	return g_rs * 2685821657736338717ULL;
}

static inline uint32_t uni(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

/* Skewed pick in [0,n): low indexes much more popular (u^3). */
static inline uint32_t skew(uint32_t n)
{
	double u = (double)(rnd() >> 11) / 9007199254740992.0;
	uint32_t i = (uint32_t)(u * u * u * n);
	return i < n ? i : n - 1;
}

static inline int chance_ppm(uint32_t ppm)
{
	return uni(1000000) < ppm;
}

static void die(const char *what)
{
	fprintf(stderr, "gen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die(path);
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	return f;
}

static FILE *g_manifest;

static void close_out(FILE *f, const char *kind, const char *path, long records)
{
	long bytes = ftell(f);
	if (fclose(f) != 0)
		die(path);
	fprintf(g_manifest, "%s\t%s\t%ld\t%ld\n", kind, path, records, bytes);
}

static void mkdir_p(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die(path);
}

static void hex(char *out, int n)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < n; i++)
		out[i] = digits[uni(16)];
	out[n] = 0;
}

static void alnum_upper(char *out, int n)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	for (int i = 0; i < n; i++)
		out[i] = digits[uni(32)];
	out[n] = 0;
}

static void fmt_ip(char *out, uint32_t ip)
{
	sprintf(out, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void fmt_time(char *out, long t)
{
	long d = t / 86400, s = t % 86400;
	/* civil-from-days (Howard Hinnant), valid for our 2024 range */
	long z = d + 719468, era = z / 146097, doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153, dd = doy - (153 * mp + 2) / 5 + 1;
	long m = mp < 10 ? mp + 3 : mp - 9;
	sprintf(out, "%04ld-%02ld-%02ldT%02ld:%02ld:%02ldZ", y + (m <= 2), m, dd, s / 3600,
		(s / 60) % 60, s % 60);
}

/* ---- address space --------------------------------------------------- */

/* Benign public addresses avoid first octets 1-9 (reserved for the list's
 * big CIDRs, so /8-/16 entries only match deliberate hits) and private,
 * CGNAT, loopback, link-local and multicast space. */
static uint32_t rand_public(void)
{
	for (;;) {
		uint32_t a = 11 + uni(213); /* 11..223 */
		if (a == 100 || a == 127 || a == 169 || a == 172 || a == 192)
			continue;
		return (a << 24) | (uni(1u << 24));
	}
}

struct cidr {
	uint32_t net;
	uint8_t len;
};

static struct cidr g_threat[N_THREAT];
static uint32_t g_popular[N_POPULAR];
static char g_acct[N_ACCT][13];

static uint32_t in_cidr(const struct cidr *c)
{
	uint32_t host = c->len >= 32 ? 0 : (uint32_t)(rnd() & ((1ULL << (32 - c->len)) - 1));
	return c->net | host;
}

static uint32_t threat_addr(void)
{
	return in_cidr(&g_threat[uni(N_THREAT)]);
}

static uint32_t threat_single_addr(void)
{
	for (;;) {
		const struct cidr *c = &g_threat[uni(N_THREAT)];
		if (c->len == 32)
			return c->net;
	}
}

static void gen_threats(const char *dir)
{
	char path[4096], ip[16];
	snprintf(path, sizeof path, "%s/threats.txt", dir);
	FILE *f = open_out(path);
	for (int i = 0; i < N_THREAT; i++) {
		uint32_t r = uni(1000), len, base;
		if (r < 600)
			len = 32;
		else if (r < 850)
			len = 24;
		else if (r < 920)
			len = 25 + uni(7); /* /25-/31 */
		else if (r < 990)
			len = 17 + uni(7); /* /17-/23 */
		else if (r < 998)
			len = 12 + uni(5); /* /12-/16 */
		else
			len = 8 + uni(4); /* /8-/11 */
		/* Short prefixes live in 1-9.x so they do not swallow benign
		 * traffic; /17-/23 are also kept there to keep the random hit
		 * rate realistic (a few per mille, as in real estates). */
		if (len <= 23)
			base = ((1 + uni(9)) << 24) | uni(1u << 24);
		else
			base = rand_public();
		uint32_t mask = len == 0 ? 0 : ~0u << (32 - len);
		g_threat[i].net = base & mask;
		g_threat[i].len = (uint8_t)len;
		fmt_ip(ip, g_threat[i].net);
		if (len == 32 && uni(20) != 0)
			fprintf(f, "%s\n", ip);
		else
			fprintf(f, "%s/%u\n", ip, len);
	}
	close_out(f, "list", path, N_THREAT);
}

/* ---- VPC Flow Logs ------------------------------------------------------ */

struct eni {
	char id[22];
	uint32_t ip;
	uint8_t acct;
};

static struct eni g_eni[N_ENI];

static char *put_u(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_ip(char *p, uint32_t ip)
{
	p = put_u(p, ip >> 24);
	*p++ = '.';
	p = put_u(p, (ip >> 16) & 255);
	*p++ = '.';
	p = put_u(p, (ip >> 8) & 255);
	*p++ = '.';
	return put_u(p, ip & 255);
}

static char *put_s(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

static uint32_t out_port(int *proto)
{
	uint32_t r = uni(1000);
	*proto = 6;
	if (r < 550)
		return 443;
	if (r < 700)
		return 80;
	if (r < 750) {
		*proto = 17;
		return 53;
	}
	if (r < 780) {
		*proto = 17;
		return 123;
	}
	if (r < 810)
		return 22;
	if (r < 830)
		return 3306;
	if (r < 850)
		return 5432;
	if (r < 880)
		return 8080;
	if (r < 890)
		return 25;
	if (r < 892)
		return 6667;
	if (r < 895)
		return 3333; /* stratum */
	return 1024 + uni(64512);
}

static uint32_t in_port(int *reject)
{
	uint32_t r = uni(1000);
	*reject = 0;
	if (r < 400)
		return 443;
	if (r < 550)
		return 80;
	if (r < 700) {
		*reject = uni(2);
		return 22;
	}
	if (r < 750) {
		*reject = 1;
		return 3389;
	}
	*reject = uni(10) < 8; /* scanners on random ports, mostly blocked */
	return 1 + uni(65535);
}

static void gen_flows(const char *dir, long lines)
{
	char path[4096], flid[18], h[9];
	for (int i = 0; i < N_ENI; i++) {
		strcpy(g_eni[i].id, "eni-");
		hex(g_eni[i].id + 4, 17);
		uint32_t sub = (uint32_t)i / 250;
		g_eni[i].ip = (10u << 24) | (sub << 8) | ((uint32_t)i % 250 + 4);
		g_eni[i].acct = (uint8_t)(i % N_ACCT);
	}
	snprintf(path, sizeof path, "%s/flows", dir);
	mkdir_p(path);
	long per = lines / FLOW_FILES;
	char *buf = malloc(1 << 16);
	if (!buf)
		die("malloc");
	for (int fi = 0; fi < FLOW_FILES; fi++) {
		long win = T0 + fi * 300L;
		char ts[32];
		fmt_time(ts, win);
		/* 20240101T0005Z from 2024-01-01T00:05:00Z */
		char stamp[16] = { ts[0], ts[1], ts[2], ts[3], ts[5], ts[6], ts[8], ts[9], 'T',
				   ts[11], ts[12], ts[14], ts[15], 'Z', 0 };
		hex(flid, 17);
		hex(h, 8);
		snprintf(path, sizeof path, "%s/flows/%s_vpcflowlogs_us-east-1_fl-%s_%s_%s.log",
			 dir, g_acct[fi % N_ACCT], flid, stamp, h);
		FILE *f = open_out(path);
		fputs("version account-id interface-id srcaddr dstaddr srcport dstport protocol "
		      "packets bytes start end action log-status\n", f);
		long n = fi == FLOW_FILES - 1 ? lines - per * (FLOW_FILES - 1) : per;
		for (long k = 0; k < n; k++) {
			const struct eni *e = &g_eni[skew(N_ENI)];
			long start = win + uni(300) - 60, end = start + 60 + uni(5);
			char *p = buf;
			p = put_s(p, "2 ");
			p = put_s(p, g_acct[e->acct]);
			*p++ = ' ';
			p = put_s(p, e->id);
			uint32_t r = uni(1000);
			if (r < 25) {
				p = put_s(p, " - - - - - - - ");
				p = put_u(p, (uint64_t)start);
				*p++ = ' ';
				p = put_u(p, (uint64_t)end);
				p = put_s(p, r < 22 ? " - NODATA\n" : " - SKIPDATA\n");
				fwrite(buf, 1, (size_t)(p - buf), f);
				continue;
			}
			uint32_t remote;
			if (chance_ppm(FLOW_HIT_PPM))
				remote = threat_addr();
			else if (uni(10) < 7)
				remote = g_popular[skew(N_POPULAR)];
			else
				remote = rand_public();
			int proto = 6, reject = 0;
			uint32_t sip, dip, sport, dport;
			if (uni(100) < 65) {
				sip = e->ip;
				dip = remote;
				sport = 32768 + uni(28232);
				dport = out_port(&proto);
				reject = uni(200) == 0;
			} else {
				sip = remote;
				dip = e->ip;
				sport = 1024 + uni(64512);
				dport = in_port(&reject);
			}
			if (uni(100) == 0) {
				proto = 1;
				sport = dport = 0;
			}
			uint32_t pk = 1 + (reject ? uni(3) : skew(2000));
			uint64_t by = (uint64_t)pk * (40 + uni(1400));
			*p++ = ' ';
			p = put_ip(p, sip);
			*p++ = ' ';
			p = put_ip(p, dip);
			*p++ = ' ';
			p = put_u(p, sport);
			*p++ = ' ';
			p = put_u(p, dport);
			*p++ = ' ';
			p = put_u(p, (uint64_t)proto);
			*p++ = ' ';
			p = put_u(p, pk);
			*p++ = ' ';
			p = put_u(p, by);
			*p++ = ' ';
			p = put_u(p, (uint64_t)start);
			*p++ = ' ';
			p = put_u(p, (uint64_t)end);
			p = put_s(p, reject ? " REJECT OK\n" : " ACCEPT OK\n");
			fwrite(buf, 1, (size_t)(p - buf), f);
		}
		close_out(f, "flows", path, n); /* records, not the header */
	}
	free(buf);
}

/* ---- CloudTrail ---------------------------------------------------------- */

enum id_type { ID_ROLE, ID_USER, ID_SERVICE, ID_ROOT, ID_FED, ID_ACCOUNT };

struct ident {
	enum id_type type;
	char acct[13];
	char name[40];
	char pid[22];	/* AROA.../AIDA... principal id */
	char key[21];	/* AKIA.../ASIA... */
	char session[32];
	char service[40];
	uint32_t home_ip;
};

static struct ident g_ident[N_IDENT];

static const char *const g_roles[] = { "ci-deploy", "eks-node", "lambda-exec", "admin",
				       "readonly-audit", "data-pipeline", "OrganizationAccountAccessRole",
				       "AWSReservedSSO_PowerUserAccess_3f2a", "backup", "terraform" };
static const char *const g_users[] = { "alice", "bob", "carol", "dave", "erin", "frank",
				       "svc-monitoring", "svc-backup", "jenkins", "grafana" };
static const char *const g_services[] = { "ec2.amazonaws.com", "lambda.amazonaws.com",
					  "autoscaling.amazonaws.com", "cloudformation.amazonaws.com",
					  "elasticloadbalancing.amazonaws.com", "config.amazonaws.com" };
static const char *const g_agents[] = {
	"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-cloud-amd64 exe/x86_64.debian.12 prompt/off command/ec2.describe-instances",
	"Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.34",
	"aws-sdk-go-v2/1.24.1 os/linux lang/go#1.21.6 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.142.0",
	"AWS Internal",
	"console.amazonaws.com",
	"Terraform/1.6.6 (+https://www.terraform.io) terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"aws-sdk-java/2.21.46 Linux/5.10.205 OpenJDK_64-Bit_Server_VM/17.0.9+9-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/adaptive",
};

struct ev {
	const char *name;
	const char *source; /* without .amazonaws.com */
	int read_only;
	int weight;
};

static const struct ev g_events[] = {
	{ "DescribeInstances", "ec2", 1, 120 },	   { "DescribeSecurityGroups", "ec2", 1, 40 },
	{ "DescribeVolumes", "ec2", 1, 30 },	   { "RunInstances", "ec2", 0, 6 },
	{ "TerminateInstances", "ec2", 0, 4 },	   { "AuthorizeSecurityGroupIngress", "ec2", 0, 3 },
	{ "CreateKeyPair", "ec2", 0, 1 },	   { "GetObject", "s3", 1, 120 },
	{ "PutObject", "s3", 0, 60 },		   { "ListBuckets", "s3", 1, 20 },
	{ "GetBucketAcl", "s3", 1, 25 },	   { "PutBucketPolicy", "s3", 0, 1 },
	{ "AssumeRole", "sts", 1, 90 },		   { "GetCallerIdentity", "sts", 1, 40 },
	{ "GetSessionToken", "sts", 1, 5 },	   { "Decrypt", "kms", 1, 90 },
	{ "GenerateDataKey", "kms", 1, 40 },	   { "ListUsers", "iam", 1, 10 },
	{ "GetUser", "iam", 1, 10 },		   { "CreateAccessKey", "iam", 0, 2 },
	{ "AttachUserPolicy", "iam", 0, 1 },	   { "ListRoles", "iam", 1, 10 },
	{ "Invoke", "lambda", 0, 40 },		   { "ListFunctions20150331", "lambda", 1, 8 },
	{ "DescribeTrails", "cloudtrail", 1, 8 }, { "LookupEvents", "cloudtrail", 1, 6 },
	{ "StopLogging", "cloudtrail", 0, 1 },	   { "ListDetectors", "guardduty", 1, 5 },
	{ "GetSecretValue", "secretsmanager", 1, 30 }, { "ConsoleLogin", "signin", 0, 4 },
	{ "PutLogEvents", "logs", 0, 60 },	   { "CreateLogStream", "logs", 0, 10 },
};
#define N_EVENTS (sizeof g_events / sizeof g_events[0])

static int g_event_total;

static const struct ev *pick_event(void)
{
	int r = (int)uni((uint32_t)g_event_total);
	for (size_t i = 0; i < N_EVENTS; i++) {
		r -= g_events[i].weight;
		if (r < 0)
			return &g_events[i];
	}
	return &g_events[0];
}

static void gen_idents(void)
{
	for (int i = 0; i < N_IDENT; i++) {
		struct ident *d = &g_ident[i];
		uint32_t r = uni(100);
		d->type = r < 55 ? ID_ROLE : r < 77 ? ID_USER : r < 90 ? ID_SERVICE
			: r < 92 ? ID_ROOT : r < 95 ? ID_FED : ID_ACCOUNT;
		strcpy(d->acct, g_acct[uni(N_ACCT)]);
		if (d->type == ID_ROLE)
			strcpy(d->name, g_roles[uni(10)]);
		else
			snprintf(d->name, sizeof d->name, "%s%u", g_users[uni(10)], uni(50));
		memcpy(d->pid, d->type == ID_ROLE ? "AROA" : "AIDA", 4);
		alnum_upper(d->pid + 4, 17);
		memcpy(d->key, d->type == ID_USER ? "AKIA" : "ASIA", 4);
		alnum_upper(d->key + 4, 16);
		snprintf(d->session, sizeof d->session, "i-%08x%09x", uni(0xffffffffu), uni(0xfffffffu));
		strcpy(d->service, g_services[uni(6)]);
		d->home_ip = uni(4) == 0 ? ((10u << 24) | uni(1u << 24)) : rand_public();
	}
}

static void ct_identity(FILE *f, const struct ident *d, const char *ctime)
{
	switch (d->type) {
	case ID_ROLE:
		fprintf(f, "{\"type\":\"AssumedRole\",\"principalId\":\"%s:%s\",\"arn\":\"arn:aws:sts::%s:assumed-role/%s/%s\","
			"\"accountId\":\"%s\",\"accessKeyId\":\"%s\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\","
			"\"principalId\":\"%s\",\"arn\":\"arn:aws:iam::%s:role/%s\",\"accountId\":\"%s\",\"userName\":\"%s\"},"
			"\"webIdFederationData\":{},\"attributes\":{\"creationDate\":\"%s\",\"mfaAuthenticated\":\"false\"},"
			"\"ec2RoleDelivery\":\"2.0\"}}",
			d->pid, d->session, d->acct, d->name, d->session, d->acct, d->key, d->pid, d->acct, d->name,
			d->acct, d->name, ctime);
		break;
	case ID_USER:
		fprintf(f, "{\"type\":\"IAMUser\",\"principalId\":\"%s\",\"arn\":\"arn:aws:iam::%s:user/%s\",\"accountId\":\"%s\","
			"\"accessKeyId\":\"%s\",\"userName\":\"%s\",\"sessionContext\":{\"attributes\":{\"creationDate\":\"%s\","
			"\"mfaAuthenticated\":\"%s\"}}}",
			d->pid, d->acct, d->name, d->acct, d->key, d->name, ctime, uni(2) ? "true" : "false");
		break;
	case ID_SERVICE:
		fprintf(f, "{\"type\":\"AWSService\",\"invokedBy\":\"%s\"}", d->service);
		break;
	case ID_ROOT:
		fprintf(f, "{\"type\":\"Root\",\"principalId\":\"%s\",\"arn\":\"arn:aws:iam::%s:root\",\"accountId\":\"%s\","
			"\"accessKeyId\":\"%s\",\"sessionContext\":{\"attributes\":{\"creationDate\":\"%s\",\"mfaAuthenticated\":\"true\"}}}",
			d->acct, d->acct, d->acct, d->key, ctime);
		break;
	case ID_FED:
		fprintf(f, "{\"type\":\"FederatedUser\",\"principalId\":\"%s:%s\",\"arn\":\"arn:aws:sts::%s:federated-user/%s\","
			"\"accountId\":\"%s\",\"accessKeyId\":\"%s\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"IAMUser\","
			"\"principalId\":\"%s\",\"arn\":\"arn:aws:iam::%s:user/sso-broker\",\"accountId\":\"%s\",\"userName\":\"sso-broker\"},"
			"\"attributes\":{\"creationDate\":\"%s\",\"mfaAuthenticated\":\"false\"}}}",
			d->acct, d->name, d->acct, d->name, d->acct, d->key, d->pid, d->acct, d->acct, ctime);
		break;
	case ID_ACCOUNT:
		fprintf(f, "{\"type\":\"AWSAccount\",\"principalId\":\"%s\",\"accountId\":\"%s\"}", d->pid,
			g_acct[uni(N_ACCT)]);
		break;
	}
}

static void ct_params(FILE *f, const struct ev *e, const struct ident *d)
{
	const char *n = e->name;
	char h[18];
	hex(h, 17);
	if (!strcmp(n, "DescribeInstances"))
		fprintf(f, "{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-%s\"}]},\"filterSet\":{}}", h);
	else if (!strcmp(n, "DescribeSecurityGroups") || !strcmp(n, "DescribeVolumes"))
		fprintf(f, "{\"maxResults\":%u,\"filterSet\":{\"items\":[{\"name\":\"vpc-id\",\"valueSet\":{\"items\":[{\"value\":\"vpc-%.8s\"}]}}]}}",
			100 + uni(900), h);
	else if (!strcmp(n, "RunInstances"))
		fprintf(f, "{\"instancesSet\":{\"items\":[{\"imageId\":\"ami-%s\",\"minCount\":1,\"maxCount\":%u}]},"
			"\"instanceType\":\"%s\",\"blockDeviceMapping\":{},\"monitoring\":{\"enabled\":false},"
			"\"disableApiTermination\":false,\"clientToken\":\"%.8s-%.4s-4%.3s-a%.3s-%.12s\"}",
			h, 1 + uni(4), uni(2) ? "t3.micro" : "c5.4xlarge", h, h + 8, h + 1, h + 4, h + 5);
	else if (!strcmp(n, "TerminateInstances"))
		fprintf(f, "{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-%s\"}]}}", h);
	else if (!strcmp(n, "AuthorizeSecurityGroupIngress"))
		fprintf(f, "{\"groupId\":\"sg-%s\",\"ipPermissions\":{\"items\":[{\"ipProtocol\":\"tcp\",\"fromPort\":22,\"toPort\":22,"
			"\"groups\":{},\"ipRanges\":{\"items\":[{\"cidrIp\":\"0.0.0.0/0\"}]},\"ipv6Ranges\":{},\"prefixListIds\":{}}]}}", h);
	else if (!strcmp(n, "CreateKeyPair"))
		fprintf(f, "{\"keyName\":\"key-%.8s\",\"keyType\":\"rsa\",\"keyFormat\":\"pem\"}", h);
	else if (!strcmp(n, "GetObject") || !strcmp(n, "PutObject") || !strcmp(n, "GetBucketAcl") ||
		 !strcmp(n, "PutBucketPolicy"))
		fprintf(f, "{\"bucketName\":\"data-%.6s-%s\",\"Host\":\"data-%.6s-%s.s3.us-east-1.amazonaws.com\",\"key\":\"logs/2024/01/01/%s.parquet\"}",
			h, d->acct, h, d->acct, h);
	else if (!strcmp(n, "ListBuckets") || !strcmp(n, "GetCallerIdentity") || !strcmp(n, "ListDetectors") ||
		 !strcmp(n, "ListUsers") || !strcmp(n, "ListRoles") || !strcmp(n, "ConsoleLogin") ||
		 !strcmp(n, "ListFunctions20150331") || !strcmp(n, "GetSessionToken"))
		fputs("null", f);
	else if (!strcmp(n, "AssumeRole"))
		fprintf(f, "{\"roleArn\":\"arn:aws:iam::%s:role/%s\",\"roleSessionName\":\"%s\",\"durationSeconds\":3600}",
			d->acct, g_roles[uni(10)], d->session);
	else if (!strcmp(n, "Decrypt") || !strcmp(n, "GenerateDataKey"))
		fprintf(f, "{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"keyId\":\"arn:aws:kms:us-east-1:%s:key/%.8s-%.4s-%.4s-%.4s-%.12s\","
			"\"encryptionContext\":{\"aws:lambda:FunctionArn\":\"arn:aws:lambda:us-east-1:%s:function:fn-%.6s\"}}",
			d->acct, h, h + 2, h + 4, h + 6, h + 5, d->acct, h);
	else if (!strcmp(n, "GetUser") || !strcmp(n, "CreateAccessKey"))
		fprintf(f, "{\"userName\":\"%s\"}", d->name);
	else if (!strcmp(n, "AttachUserPolicy"))
		fprintf(f, "{\"userName\":\"%s\",\"policyArn\":\"arn:aws:iam::aws:policy/AdministratorAccess\"}", d->name);
	else if (!strcmp(n, "Invoke"))
		fprintf(f, "{\"functionName\":\"arn:aws:lambda:us-east-1:%s:function:fn-%.6s\",\"invocationType\":\"RequestResponse\"}",
			d->acct, h);
	else if (!strcmp(n, "DescribeTrails") || !strcmp(n, "StopLogging"))
		fprintf(f, "{\"name\":\"arn:aws:cloudtrail:us-east-1:%s:trail/org-trail\"}", d->acct);
	else if (!strcmp(n, "LookupEvents"))
		fprintf(f, "{\"maxResults\":50,\"lookupAttributes\":[{\"attributeKey\":\"EventName\",\"attributeValue\":\"ConsoleLogin\"}]}");
	else if (!strcmp(n, "GetSecretValue"))
		fprintf(f, "{\"secretId\":\"arn:aws:secretsmanager:us-east-1:%s:secret:prod/db-%.6s\"}", d->acct, h);
	else if (!strcmp(n, "PutLogEvents") || !strcmp(n, "CreateLogStream"))
		fprintf(f, "{\"logGroupName\":\"/aws/lambda/fn-%.6s\",\"logStreamName\":\"2024/01/01/[$LATEST]%s\"}", h, h);
	else
		fputs("{}", f);
}

static int g_ct_typical;	/* --ct-typical */

static void ct_record(FILE *f, long t)
{
	const struct ident *d = &g_ident[skew(N_IDENT)];
	const struct ev *e = pick_event();
	char ts[32], cts[32], ip[64], eid[37], rid[37], h[33];
	fmt_time(ts, t);
	fmt_time(cts, t - 60 - uni(3600));
	hex(h, 32);
	snprintf(eid, sizeof eid, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
	hex(h, 32);
	snprintf(rid, sizeof rid, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
	if (d->type == ID_SERVICE)
		strcpy(ip, d->service);
	else if (chance_ppm(CT_HIT_PPM))
		fmt_ip(ip, threat_single_addr());
	else if (g_ct_typical ? uni(2000) == 0 : uni(10) == 0)
		fmt_ip(ip, rand_public());
	else
		fmt_ip(ip, d->home_ip);
	const char *agent = d->type == ID_SERVICE ? d->service
				: g_agents[g_ct_typical && uni(20) ? (int)((d - g_ident) % 8) : (int)uni(8)];
	fprintf(f, "{\"eventVersion\":\"1.09\",\"userIdentity\":");
	ct_identity(f, d, cts);
	fprintf(f, ",\"eventTime\":\"%s\",\"eventSource\":\"%s.amazonaws.com\",\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\","
		"\"sourceIPAddress\":\"%s\",\"userAgent\":\"%s\",\"requestParameters\":",
		ts, e->source, e->name, ip, agent);
	ct_params(f, e, d);
	if (!e->read_only && uni(3) == 0)
		fprintf(f, ",\"responseElements\":{\"requestId\":\"%s\",\"_return\":true}", rid);
	else
		fputs(",\"responseElements\":null", f);
	if (uni(50) == 0)
		fputs(",\"errorCode\":\"AccessDenied\",\"errorMessage\":\"User is not authorized to perform this operation\"", f);
	fprintf(f, ",\"requestID\":\"%s\",\"eventID\":\"%s\",\"readOnly\":%s,\"eventType\":\"AwsApiCall\","
		"\"managementEvent\":%s,\"recipientAccountId\":\"%s\",\"eventCategory\":\"%s\","
		"\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\","
		"\"clientProvidedHostHeader\":\"%s.us-east-1.amazonaws.com\"}}",
		rid, eid, e->read_only ? "true" : "false",
		strcmp(e->source, "s3") && strcmp(e->name, "Invoke") ? "true" : "false", d->acct,
		strcmp(e->source, "s3") && strcmp(e->name, "Invoke") ? "Management" : "Data", e->source);
}

static void gen_cloudtrail(const char *dir, long records)
{
	char path[4096], h[17];
	for (size_t i = 0; i < N_EVENTS; i++)
		g_event_total += g_events[i].weight;
	gen_idents();
	snprintf(path, sizeof path, "%s/ct", dir);
	mkdir_p(path);
	long done = 0, t = T0;
	for (int fi = 0; done < records; fi++) {
		long n = 5000 + uni(5001);
		if (n > records - done)
			n = records - done;
		char ts[32];
		fmt_time(ts, t);
		char stamp[16] = { ts[0], ts[1], ts[2], ts[3], ts[5], ts[6], ts[8], ts[9], 'T',
				   ts[11], ts[12], ts[14], ts[15], 'Z', 0 };
		hex(h, 16);
		snprintf(path, sizeof path, "%s/ct/%s_CloudTrail_us-east-1_%s_%s.json", dir,
			 g_acct[fi % N_ACCT], stamp, h);
		FILE *f = open_out(path);
		fputs("{\"Records\":[", f);
		for (long k = 0; k < n; k++) {
			if (k)
				fputc(',', f);
			ct_record(f, t + uni(300));
		}
		fputs("]}\n", f);
		close_out(f, "ct", path, n);
		done += n;
		t += 300;
	}
}

/* ---- Route 53 Resolver query logs ----------------------------------------- */

static char g_domains[N_DOMAIN][40];
static char g_benign[N_BENIGN_NAMES][64];

static void rand_label(char *out, int min, int max)
{
	static const char *const syl[] = { "ka", "zu", "mi", "ro", "te", "la", "xo", "pe", "qu", "ni",
					   "do", "va", "ri", "bo", "se", "gy", "fa", "wo", "hu", "je" };
	int n = min + (int)uni((uint32_t)(max - min + 1));
	out[0] = 0;
	for (int i = 0; i < n; i++)
		strcat(out, syl[uni(20)]);
	if (uni(3) == 0) {
		size_t l = strlen(out);
		out[l] = (char)('0' + uni(10));
		out[l + 1] = 0;
	}
}

static void gen_domains(const char *dir)
{
	static const char *const tld[] = { "xyz", "top", "ru", "net", "com", "info", "cc", "io", "pw", "su" };
	static const char *const pre[] = { "pool.", "xmr.", "c2.", "update.", "cdn.", "mine." };
	char path[4096], lab[32];
	snprintf(path, sizeof path, "%s/domains.txt", dir);
	FILE *f = open_out(path);
	for (int i = 0; i < N_DOMAIN; i++) {
		rand_label(lab, 2, 5);
		/* a tenth are subdomain-level entries, as in real lists */
		snprintf(g_domains[i], sizeof g_domains[i], "%s%s.%s", uni(10) == 0 ? pre[uni(6)] : "", lab,
			 tld[uni(10)]);
		fprintf(f, "%s\n", g_domains[i]);
	}
	close_out(f, "list", path, N_DOMAIN);
	static const char *const base[] = { "amazonaws.com", "ec2.internal", "github.com", "googleapis.com",
					    "docker.io", "debian.org", "ubuntu.com", "cloudfront.net",
					    "datadoghq.com", "slack.com", "pypi.org", "npmjs.org" };
	static const char *const sub[] = { "api", "www", "s3", "sts", "ecr", "logs", "registry",
					   "deb", "security", "cdn", "auth", "metrics" };
	for (int i = 0; i < N_BENIGN_NAMES; i++) {
		uint32_t r = uni(10);
		if (r < 5)
			snprintf(g_benign[i], sizeof g_benign[i], "%s.%s.", sub[uni(12)], base[uni(12)]);
		else if (r < 7)
			snprintf(g_benign[i], sizeof g_benign[i], "ip-10-%u-%u-%u.ec2.internal.", uni(256),
				 uni(256), uni(256));
		else {
			rand_label(lab, 2, 4);
			snprintf(g_benign[i], sizeof g_benign[i], "%s.%s-shop.com.", sub[uni(12)], lab);
		}
	}
}

static void gen_dns(const char *dir, long lines)
{
	char path[4096], h[18];
	static const char *const qtype[] = { "A", "A", "A", "AAAA", "AAAA", "PTR", "TXT", "CNAME" };
	snprintf(path, sizeof path, "%s/dns", dir);
	mkdir_p(path);
	long per = lines / DNS_FILES;
	for (int fi = 0; fi < DNS_FILES; fi++) {
		long win = T0 + fi * 300L;
		char ts[32], vpc[18], name[128], sip[16], aip[16];
		fmt_time(ts, win);
		char stamp[16] = { ts[0], ts[1], ts[2], ts[3], ts[5], ts[6], ts[8], ts[9], 'T',
				   ts[11], ts[12], ts[14], ts[15], 'Z', 0 };
		hex(vpc, 17);
		hex(h, 8);
		const char *acct = g_acct[fi % N_ACCT];
		snprintf(path, sizeof path, "%s/dns/%s_vpcdnsquerylogs_vpc-%s_%s_%s.log", dir, acct, vpc, stamp, h);
		FILE *f = open_out(path);
		long n = fi == DNS_FILES - 1 ? lines - per * (DNS_FILES - 1) : per;
		for (long k = 0; k < n; k++) {
			fmt_time(ts, win + uni(300));
			if (chance_ppm(DNS_HIT_PPM)) {
				char lab[32];
				rand_label(lab, 1, 3);
				/* half exact, half a subdomain of a listed domain */
				if (uni(2))
					snprintf(name, sizeof name, "%s.%s.", lab, g_domains[uni(N_DOMAIN)]);
				else
					snprintf(name, sizeof name, "%s.", g_domains[uni(N_DOMAIN)]);
			} else {
				strcpy(name, g_benign[skew(N_BENIGN_NAMES)]);
			}
			const struct eni *e = &g_eni[skew(N_ENI)];
			fmt_ip(sip, e->ip);
			const char *qt = qtype[uni(8)];
			uint32_t r = uni(100);
			const char *rcode = r < 90 ? "NOERROR" : r < 98 ? "NXDOMAIN" : "SERVFAIL";
			fprintf(f, "{\"version\":\"1.100000\",\"account_id\":\"%s\",\"region\":\"us-east-1\",\"vpc_id\":\"vpc-%s\","
				"\"query_timestamp\":\"%s\",\"query_name\":\"%s\",\"query_type\":\"%s\",\"query_class\":\"IN\","
				"\"rcode\":\"%s\",\"answers\":[", acct, vpc, ts, name, qt, rcode);
			if (r < 90) {
				int na = 1 + (int)uni(3);
				for (int a = 0; a < na; a++) {
					fmt_ip(aip, g_popular[uni(N_POPULAR)]);
					fprintf(f, "%s{\"Rdata\":\"%s\",\"Type\":\"A\",\"Class\":\"IN\"}", a ? "," : "", aip);
				}
			}
			fprintf(f, "],\"srcaddr\":\"%s\",\"srcport\":\"%u\",\"transport\":\"%s\",\"srcids\":{\"instance\":\"i-%.17s\"}}\n",
				sip, 1024 + uni(64512), uni(20) ? "UDP" : "TCP", e->id + 4);
		}
		close_out(f, "dns", path, n);
	}
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	long scale = 1;
	uint64_t seed = 0x6d616d6f7269ULL; /* "mamori" */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--scale") && i + 1 < argc)
			scale = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ct-typical"))
			g_ct_typical = 1;
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else {
			fprintf(stderr, "usage: gen OUTDIR [--scale N] [--seed S] [--ct-typical]\n");
			return 2;
		}
	}
	if (!dir || scale < 1 || scale > 100000) {
		fprintf(stderr, "usage: gen OUTDIR [--scale N] [--seed S] [--ct-typical]\n");
		return 2;
	}
	g_rs = seed ? seed : 1;
	mkdir_p(dir);
	char path[4096];
	snprintf(path, sizeof path, "%s/manifest.tsv", dir);
	g_manifest = open_out(path);
	for (int i = 0; i < N_ACCT; i++)
		snprintf(g_acct[i], sizeof g_acct[i], "%012llu", (unsigned long long)(rnd() % 1000000000000ULL));
	for (int i = 0; i < N_POPULAR; i++)
		g_popular[i] = rand_public();
	gen_threats(dir);
	if (g_ct_typical) {
		gen_cloudtrail(dir, CT_RECORDS / scale);
	} else {
		gen_flows(dir, FLOW_LINES / scale);
		gen_cloudtrail(dir, CT_RECORDS / scale);
		gen_domains(dir);
		gen_dns(dir, DNS_LINES / scale);
	}
	if (fclose(g_manifest) != 0)
		die("manifest");
	return 0;
}
