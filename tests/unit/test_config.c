/* test_config.c - the YAML config loader (src/config/config.c) against a
 * test-only detector table: good files, every kind of error with its
 * located text, ranges, hostile input, `config show` loading back, and
 * `enabled: false` keeping a detector out of the pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/arena.h"
#include "core/mem.h"
#include "engine/pipeline.h"
#include "mmtest.h"
#include "parse/flowlog.h"
#include "store/store.h"

#define TTYPE "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"

/* what the probe detector saw as its params (written by worker threads,
 * read after the flush) */
static volatile double seen_params[3];
static volatile int seen_calls;

static void p_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	int latest;
	(void)st;
	seen_params[0] = c->params[0];
	seen_params[1] = c->params[1];
	seen_params[2] = c->params[2];
	seen_calls++;
	mm_emit(c, TTYPE, mm_str_c("123456789012"), ev->u.flow.eni, "probe", ev,
		ev->u.flow.start * 1000, ev->u.flow.end * 1000, &latest);
}

static const char *const types[] = {TTYPE, NULL};
enum { P_MIN_PORTS, P_WINDOW, P_STRICT };
static const struct mm_detector_def probe = {
	.name = "probe",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.types = types,
	.params = (const struct mm_param[]){
		{"min_ports", 3, 1, 1000, "ports", "distinct ports before a finding"},
		{"window_minutes", 10, 0.5, 1440, "minutes", "how long ports are counted"},
		{"strict", 0, 0, 1, "bool", "also count rejected flows"},
		{0},
	},
	.on_event = p_event,
};
static const struct mm_detector_def plain = {
	.name = "plain",
	.kinds = MM_KIND_BIT(MM_EV_FLOW),
	.types = types,
};
static const struct mm_detector_def *const dets[] = {&probe, &plain, NULL};

/* load text against dets; returns the code, err's message in msg */
static int load(const char *text, struct mm_config **cfg, char *msg, size_t cap)
{
	struct mm_err e;
	int rc;
	mm_err_clear(&e);
	rc = mm_config_parse(cfg, "t.yaml", text, strlen(text), dets, &e);
	snprintf(msg, cap, "%s", e.msg);
	if (rc)
		CHECK(*cfg == NULL);
	return rc;
}

/* the error text loading text gives (the test fails if it loads) */
static const char *error_of(const char *text)
{
	static char msg[512];
	struct mm_config *cfg = NULL;
	int rc = load(text, &cfg, msg, sizeof(msg));
	CHECK(rc != 0);
	if (rc == 0)
		mm_config_free(cfg);
	return msg;
}

#define CHECK_ERR(text, want)                                                      \
	do {                                                                       \
		const char *_m = error_of(text);                                   \
		if (!strstr(_m, want)) {                                           \
			fprintf(stderr, "  %s:%d: error \"%s\"\n    lacks \"%s\"\n",   \
				__FILE__, __LINE__, _m, want);                     \
			mmtest_failures++;                                         \
		}                                                                  \
	} while (0)

MM_TEST(good_file_sets_params_and_enabled)
{
	struct mm_config *cfg = NULL;
	char msg[512];
	double p[MM_PARAMS_MAX];
	CHECK_EQ_INT(load("# tuned\n"
			  "probe:\n"
			  "  min_ports: 5        # more\n"
			  "  window_minutes: 2.5\n"
			  "  strict: yes\n"
			  "plain: {enabled: off}\n",
			  &cfg, msg, sizeof(msg)),
		     0);
	CHECK_EQ_STR(msg, "");
	mm_config_params(cfg, &probe, p);
	CHECK(p[P_MIN_PORTS] == 5);
	CHECK(p[P_WINDOW] == 2.5);
	CHECK(p[P_STRICT] == 1);
	CHECK_EQ_INT(mm_config_enabled(cfg, "probe"), 1);
	CHECK_EQ_INT(mm_config_enabled(cfg, "plain"), 0);
	CHECK_EQ_INT(mm_config_enabled(cfg, "not-in-table"), 1);
	CHECK_EQ_STR(mm_config_source(cfg), "t.yaml");
	mm_config_free(cfg);
}

MM_TEST(defaults_for_unset_keys_empty_files_and_null_config)
{
	static const char *const empties[] = {"", "# only a comment\n", "~\n", "---\n", "probe:\n",
					      "probe: {}\n", "{}\n", "probe: ~\nplain: null\n"};
	double p[MM_PARAMS_MAX];
	size_t i;
	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		struct mm_config *cfg = NULL;
		char msg[512];
		CHECK_EQ_INT(load(empties[i], &cfg, msg, sizeof(msg)), 0);
		CHECK(cfg != NULL);
		mm_config_params(cfg, &probe, p);
		CHECK(p[P_MIN_PORTS] == 3 && p[P_WINDOW] == 10 && p[P_STRICT] == 0);
		CHECK_EQ_INT(mm_config_enabled(cfg, "plain"), 1);
		mm_config_free(cfg);
	}
	mm_config_params(NULL, &probe, p);
	CHECK(p[P_MIN_PORTS] == 3);
	CHECK_EQ_INT(mm_config_enabled(NULL, "probe"), 1);
	{
		struct mm_config *cfg = (struct mm_config *)1;
		struct mm_err e;
		CHECK_EQ_INT(mm_config_load(&cfg, NULL, &e), 0);
		CHECK(cfg == NULL);
	}
}

/* a detector of the same name from another table: matched by param name */
static const struct mm_detector_def probe2 = {
	.name = "probe",
	.params = (const struct mm_param[]){
		{"strict", 0, 0, 1, "bool", "r"},
		{"min_ports", 3, 1, 1000, "ports", "r"},
		{"extra", 7, 0, 9, "x", "r"},
		{0},
	},
};

MM_TEST(params_matched_by_name_for_another_table)
{
	struct mm_config *cfg = NULL;
	char msg[512];
	double p[MM_PARAMS_MAX];
	CHECK_EQ_INT(load("probe: {min_ports: 9, strict: true}\n", &cfg, msg, sizeof(msg)), 0);
	mm_config_params(cfg, &probe2, p);
	CHECK(p[0] == 1 && p[1] == 9 && p[2] == 7);
	mm_config_free(cfg);
}

MM_TEST(numbers_and_booleans)
{
	static const struct {
		const char *text;
		double want;
	} ok[] = {
		{"probe: {min_ports: 1_000}", 1000}, {"probe: {min_ports: +7}", 7},
		{"probe: {min_ports: 1e2}", 100},    {"probe: {min_ports: 12.0}", 12},
		{"probe: {min_ports: 1}", 1},	     {"probe: {strict: ON}", 1},
		{"probe: {strict: False}", 0},	     {"probe: {strict: 1}", 1},
	};
	size_t i;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct mm_config *cfg = NULL;
		char msg[512];
		double p[MM_PARAMS_MAX];
		CHECK_EQ_INT(load(ok[i].text, &cfg, msg, sizeof(msg)), 0);
		mm_config_params(cfg, &probe, p);
		if (strstr(ok[i].text, "strict"))
			CHECK(p[P_STRICT] == ok[i].want);
		else
			CHECK(p[P_MIN_PORTS] == ok[i].want);
		mm_config_free(cfg);
	}
	CHECK_ERR("probe: {min_ports: 0x10}", "t.yaml:1:20: setting 'min_ports' in section 'probe' "
					       "takes a number from 1 to 1000 (ports), not '0x10'");
	CHECK_ERR("probe: {min_ports: .inf}", "not '.inf'");
	CHECK_ERR("probe: {min_ports: 1__0}", "not '1__0'");
	CHECK_ERR("probe: {min_ports: '5'}", "not '5'; write it without quotes");
	CHECK_ERR("probe: {min_ports: yes}", "takes a number");
	/* a switch is 0 or 1: 0.5 would show as true and load back as 1 (fuzz_config found it) */
	CHECK_ERR("probe: {strict: 0.5}", "t.yaml:1:17: setting 'strict' in section 'probe' takes true "
					   "or false (or 1/0), not '0.5'");
	CHECK_ERR("plain: {enabled: maybe}",
		  "t.yaml:1:18: setting 'enabled' in section 'plain' takes true or false (also "
		  "yes/no, on/off), not 'maybe'");
	CHECK_ERR("plain: {enabled: \"false\"}", "write it without quotes");
	CHECK_ERR("plain: {enabled: }", "setting 'enabled' in section 'plain' has no value");
	CHECK_ERR("probe:\n  min_ports:\n",
		  "t.yaml:2:13: setting 'min_ports' in section 'probe' has no value; give a number "
		  "from 1 to 1000 (ports), or remove the line to keep the default 3");
	CHECK_ERR("probe:\n  min_ports: [1, 2]\n",
		  "t.yaml:2:14: setting 'min_ports' in section 'probe' takes a number, not a list");
	CHECK_ERR("probe:\n  min_ports: {a: 1}\n", "takes a number, not a mapping");
}

MM_TEST(range_checks_name_the_range)
{
	CHECK_ERR("probe:\n  min_ports: 5000\n",
		  "t.yaml:2:14: setting 'min_ports' in section 'probe' is 5000, out of range; use a "
		  "value from 1 to 1000 (ports; default 3)");
	CHECK_ERR("probe: {min_ports: 0}", "is 0, out of range; use a value from 1 to 1000");
	CHECK_ERR("probe: {min_ports: -3}", "is -3, out of range");
	CHECK_ERR("probe: {window_minutes: 0.25}", "use a value from 0.5 to 1440 (minutes");
	CHECK_ERR("probe: {strict: 2}", "takes true or false (or 1/0), not '2'");
	CHECK_ERR("probe: {min_ports: 1e400}", "not '1e400'"); /* not finite */
	{
		struct mm_config *cfg = NULL;
		char msg[512];
		double p[MM_PARAMS_MAX];
		CHECK_EQ_INT(load("probe: {min_ports: 1000, window_minutes: 0.5}", &cfg, msg,
				  sizeof(msg)),
			     0);
		mm_config_params(cfg, &probe, p);
		CHECK(p[P_MIN_PORTS] == 1000 && p[P_WINDOW] == 0.5);
		mm_config_free(cfg);
	}
}

MM_TEST(unknown_names_are_located_and_list_the_known_ones)
{
	CHECK_ERR("probe:\n  min_ports: 3\n  min_port: 4\n",
		  "t.yaml:3:3: unknown setting 'min_port' in section 'probe'; did you mean "
		  "'min_ports'? (known: enabled, min_ports, window_minutes, strict; see `mamori "
		  "config show`)");
	CHECK_ERR("probe: {colour: 4}", "t.yaml:1:9: unknown setting 'colour' in section 'probe' "
					 "(known: enabled, min_ports");
	CHECK_ERR("plane:\n  enabled: false\n",
		  "t.yaml:1:1: unknown section 'plane'; did you mean 'plain'? (known: probe, plain, serve, respond; "
		  "each detector is a section, see `mamori config show`)");
	CHECK_ERR("learning_days: 7\n", "t.yaml:1:1: unknown section 'learning_days' (known: "
					 "probe, plain, serve, respond;");
	CHECK_ERR("probe:\n  ? [a, b]\n  : 1\n", "t.yaml:2:5: a setting name must be a word, not a list");
}

MM_TEST(duplicates_are_errors)
{
	CHECK_ERR("probe: {min_ports: 3}\nplain: {}\nprobe: {strict: true}\n",
		  "t.yaml:3:1: duplicate section 'probe' (first given at line 1); merge the two "
		  "into one");
	CHECK_ERR("probe:\n  min_ports: 3\n  strict: on\n  min_ports: 4\n",
		  "t.yaml:4:3: duplicate setting 'min_ports' in section 'probe' (first given at "
		  "line 2); keep one");
	CHECK_ERR("plain:\n  enabled: false\n  enabled: true\n",
		  "t.yaml:3:3: duplicate setting 'enabled' in section 'plain' (first given at "
		  "line 2)");
}

MM_TEST(yaml_errors_carry_libyaml_marks)
{
	CHECK_ERR("probe:\n  min_ports: 3\n strict: 1\n",
		  "t.yaml:3:2: YAML syntax error: did not find expected key (while parsing a block "
		  "mapping at line 1)");
	CHECK_ERR("probe: {min_ports: \"3}\n", "t.yaml:2:1: YAML syntax error: found unexpected "
					       "end of stream (while scanning a quoted scalar at "
					       "line 1)");
	CHECK_ERR("probe:\n\tmin_ports: 3\n", "t.yaml:2:1: YAML syntax error:");
	CHECK_ERR("probe: {}\n---\nplain: {}\n", "t.yaml:2:1: a second YAML document ('---')");
	CHECK_ERR("- probe\n", "t.yaml:1:1: a mamori config is a mapping of sections");
	CHECK_ERR("probe: 5\n", "t.yaml:1:8: section 'probe' must be a mapping of setting: value, "
				"not a single value (e.g. `probe: {enabled: false}`)");
	CHECK_ERR("probe: {min_ports: !!int 3}", "t.yaml:1:20: YAML tags (!name) are not used");
	CHECK_ERR("probe: &a {min_ports: 3}\nplain: *a\n", "t.yaml:1:8: YAML anchors (&name)");
	CHECK_ERR("probe: {min_ports: 3}\nplain: *a\n", "t.yaml:2:8: YAML");
	/* a control byte: located by counting lines up to libyaml's offset */
	CHECK_ERR("probe:\n  min_ports: 3\x01\n", "t.yaml:2:15: not valid YAML text: control "
						  "characters are not allowed");
	CHECK_ERR("probe:\n  min_ports: \xff\n", "t.yaml:2:14: not valid YAML text:");
}

MM_TEST(hostile_input_is_bounded)
{
	size_t n = MM_CONFIG_MAX_BYTES + 1, i;
	char *big = malloc(n + 1), key[200];
	struct mm_config *cfg = NULL;
	struct mm_err e;
	CHECK(big != NULL);
	memset(big, ' ', n);
	big[n] = '\0';
	CHECK_EQ_INT(mm_config_parse(&cfg, "big.yaml", big, n, dets, &e), MM_ETOOBIG);
	CHECK(strstr(e.msg, "big.yaml: larger than 1048576 bytes") != NULL);
	/* deep nesting ends at the first event the schema does not allow */
	snprintf(big, n, "probe: ");
	for (i = 7; i < 500000; i++)
		big[i] = '[';
	big[i] = '\0';
	CHECK_EQ_INT(mm_config_parse(&cfg, "deep.yaml", big, i, dets, &e), MM_EINVAL);
	for (i = 0; i < 500000; i++)
		big[i] = i % 2 ? '{' : '[';
	CHECK(mm_config_parse(&cfg, "deep2.yaml", big, 500000, dets, &e) != 0);
	/* a billion laughs stops at its first anchor */
	snprintf(big, n, "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n");
	CHECK(mm_config_parse(&cfg, "lol.yaml", big, strlen(big), dets, &e) != 0);
	free(big);
	/* names are bounded */
	memset(key, 'k', 100);
	snprintf(key + 100, sizeof(key) - 100, ": 1\n");
	CHECK_ERR(key, "t.yaml:1:1: section name longer than 64 bytes");
	CHECK_ERR("probe:\n  kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: 1\n",
		  "t.yaml:2:3: setting name longer than 64 bytes");
	CHECK_ERR("probe: {min_ports: 1000000000000000000000000000000000000000000000000000000000000000000000}",
		  "takes a number");
	/* a NUL inside a quoted name is just an unknown name */
	CHECK_ERR("\"pro\\0be\": {}\n", "unknown section 'pro?be'");
}

MM_TEST(allocation_failures_fail_cleanly)
{
	const char *text = "probe: {min_ports: 5, strict: on}\nplain: {enabled: false}\n";
	long k;
	for (k = 0; k < 8; k++) {
		struct mm_config *cfg = NULL;
		struct mm_err e;
		int rc;
		mm_mem_fail_after(k);
		rc = mm_config_parse(&cfg, "t.yaml", text, strlen(text), dets, &e);
		mm_mem_fail_after(-1);
		CHECK(rc == 0 || rc == MM_ENOMEM);
		CHECK((rc == 0) == (cfg != NULL));
		mm_config_free(cfg);
	}
}

static char *show(const struct mm_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	mm_config_show(cfg, f);
	fclose(f);
	return buf;
}

MM_TEST(show_loads_back_with_the_same_values)
{
	struct mm_config *a = NULL, *b = NULL, *d = NULL;
	char msg[512], *sa, *sb, *sd;
	double pa[MM_PARAMS_MAX], pb[MM_PARAMS_MAX];
	CHECK_EQ_INT(load("probe: {min_ports: 17, window_minutes: 0.1e1, strict: true}\n"
			  "plain: {enabled: no}\n",
			  &a, msg, sizeof(msg)),
		     0);
	sa = show(a);
	CHECK_EQ_INT(load(sa, &b, msg, sizeof(msg)), 0);
	CHECK_EQ_STR(msg, "");
	mm_config_params(a, &probe, pa);
	mm_config_params(b, &probe, pb);
	CHECK(memcmp(pa, pb, 3 * sizeof(double)) == 0);
	CHECK_EQ_INT(mm_config_enabled(b, "plain"), 0);
	sb = show(b);
	CHECK_EQ_STR(sb, sa); /* a fixed point */
	/* every detector, enabled, every param, defaults and changes marked */
	CHECK(strstr(sa, "\nprobe:\n  enabled: true\n") != NULL);
	CHECK(strstr(sa, "\nplain:\n  enabled: false    # changed (default true)\n") != NULL);
	CHECK(strstr(sa, "  # distinct ports before a finding (ports; default 3, range 1 to 1000)\n"
			 "  min_ports: 17    # changed (default 3)\n") != NULL);
	CHECK(strstr(sa, "  window_minutes: 1    # changed (default 10)\n") != NULL);
	CHECK(strstr(sa, "  # also count rejected flows (true or false; default false)\n"
			 "  strict: true    # changed (default false)\n") != NULL);
	CHECK(strstr(sa, "# Loaded from t.yaml.\n") != NULL);
	/* the defaults: nothing marked changed, and they load back too */
	CHECK_EQ_INT(load("", &d, msg, sizeof(msg)), 0);
	sd = show(d);
	CHECK(strstr(sd, "changed (") == NULL);
	CHECK(strstr(sd, "  min_ports: 3\n") != NULL);
	mm_config_free(b);
	CHECK_EQ_INT(load(sd, &b, msg, sizeof(msg)), 0);
	mm_config_free(a);
	mm_config_free(b);
	mm_config_free(d);
	free(sa);
	free(sb);
	free(sd);
}

MM_TEST(show_without_config_prints_the_registry)
{
	char *s = show(NULL);
	int i;
	CHECK(strstr(s, "# Built-in defaults") != NULL);
	for (i = 0; mm_detectors[i]; i++) {
		char want[128];
		snprintf(want, sizeof(want), "\n%s:\n  enabled: true\n", mm_detectors[i]->name);
		CHECK(strstr(s, want) != NULL);
	}
	free(s);
}

/* a config name: lowercase letters, digits, '_' and '-', 1..MM_CONFIG_MAX_KEY */
static int good_name(const char *s)
{
	size_t n = strlen(s), i;
	if (n == 0 || n > MM_CONFIG_MAX_KEY)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

/* What the loader and `config show` rely on in every registered
 * detector's def (a detector added later is checked here too). */
MM_TEST(registry_detectors_are_configurable)
{
	int i, j, k;
	for (i = 0; mm_detectors[i]; i++) {
		const struct mm_detector_def *d = mm_detectors[i];
		int np = mm_detector_nparams(d);
		if (!good_name(d->name))
			fprintf(stderr, "  detector name '%s' is not a config section name\n", d->name);
		CHECK(good_name(d->name));
		CHECK(np <= MM_PARAMS_MAX);
		for (j = 0; j < i; j++)
			CHECK(strcmp(mm_detectors[j]->name, d->name) != 0);
		for (j = 0; j < np && j < MM_PARAMS_MAX; j++) {
			const struct mm_param *p = &d->params[j];
			int ok = good_name(p->name) && strcmp(p->name, "enabled") != 0 &&
				 p->min <= p->def && p->def <= p->max && p->unit && p->unit[0] &&
				 p->reason && p->reason[0];
			for (k = 0; k < j; k++)
				ok = ok && strcmp(d->params[k].name, p->name) != 0;
			if (!ok)
				fprintf(stderr, "  %s.%s: want a unique lowercase name (not 'enabled'), "
						"min <= default <= max, a unit and a reason\n",
					d->name, p->name);
			CHECK(ok);
		}
	}
	/* and their defaults show as a file that loads back */
	{
		struct mm_config *cfg = NULL;
		struct mm_err e;
		char *s = show(NULL);
		CHECK_EQ_INT(mm_config_load_mem(&cfg, "shown", s, strlen(s), &e), 0);
		mm_config_free(cfg);
		free(s);
	}
}

/* ---- the pipeline honours the config -------------------------------------- */

static void flow(struct mm_event *ev, const char *eni, long t)
{
	static char lines[8][256];
	static int k;
	static struct mm_flow_fmt fmt;
	static char mem[1 << 14];
	struct mm_arena a;
	struct mm_err e;
	char *l = lines[k++ % 8];
	mm_flow_fmt_auto(&fmt);
	mm_arena_init(&a, mem, sizeof(mem));
	snprintf(l, 256, "2 123456789012 %s 10.0.0.5 203.0.113.9 40001 443 6 10 840 %ld %ld ACCEPT OK",
		 eni, t, t + 60);
	CHECK_EQ_INT(mm_flow_parse(&fmt, l, strlen(l), &a, ev, &e), 0);
	ev->loc.file = "t.log";
	ev->loc.line = (uint64_t)t;
}

static int count_row(void *ctx, const struct mm_finding_row *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

/* run one flow through a pipeline of dets with cfg; findings stored */
static int findings_with(const char *text)
{
	char dir[64], db[80], msg[512];
	struct mm_config *cfg = NULL;
	struct mm_pipeline *p = NULL;
	struct mm_pipeline_opts o;
	struct mm_store *st;
	struct mm_finding_filter f;
	struct mm_event ev;
	struct mm_err e;
	int n = 0;

	snprintf(dir, sizeof(dir), "/tmp/mm_config_XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/t.db", dir);
	CHECK_EQ_INT(load(text, &cfg, msg, sizeof(msg)), 0);
	memset(&o, 0, sizeof(o));
	o.db_path = db;
	o.threads = 1;
	o.no_default_lists = 1;
	o.report_unknown_enis = 1;
	o.detectors = dets;
	o.config = cfg;
	CHECK_EQ_INT(mm_pipeline_open(&p, &o, &e), 0);
	flow(&ev, "eni-a", 1714557600);
	CHECK_EQ_INT(mm_pipeline_feed_event(p, &ev), 0);
	CHECK_EQ_INT(mm_pipeline_flush(p, &e), 0);
	mm_pipeline_close(p);
	mm_config_free(cfg);
	memset(&f, 0, sizeof(f));
	CHECK_EQ_INT(mm_store_open(&st, db, &e), 0);
	CHECK(mm_store_findings(st, &f, count_row, &n, &e) >= 0);
	mm_store_close(st);
	return n;
}

MM_TEST(enabled_false_keeps_the_detector_out_of_the_pipeline)
{
	seen_calls = 0;
	CHECK_EQ_INT(findings_with("probe: {min_ports: 42, window_minutes: 1.5}\n"), 1);
	CHECK(seen_calls == 1);
	/* the detector ran with the file's values */
	CHECK(seen_params[0] == 42 && seen_params[1] == 1.5 && seen_params[2] == 0);
	seen_calls = 0;
	CHECK_EQ_INT(findings_with("probe:\n  enabled: false\n  min_ports: 42\n"), 0);
	CHECK(seen_calls == 0);
	CHECK_EQ_INT(findings_with("plain: {enabled: false}\n"), 1);
}

/* ---- the serve: section ---------------------------------------------- */

MM_TEST(serve_section_parsed_and_shown)
{
	struct mm_config *cfg = NULL, *again = NULL;
	const struct mm_config_serve *sv;
	char msg[512], *text = NULL;
	size_t len = 0;
	FILE *f;
	CHECK_EQ_INT(load("serve:\n"
			  "  listen: 127.0.0.1:9000\n"
			  "  follow: [/logs/a, \"/logs/b c\"]\n"
			  "  poll_ms: 250\n"
			  "  console_url: https://m.example/\n"
			  "  retry_base_ms: 500\n"
			  "  sinks:\n"
			  "    - {name: ops, type: webhook, url: 'https://h.example/x'}\n"
			  "    - name: chat\n"
			  "      type: slack\n"
			  "      url: https://hooks.slack.com/services/T/B/X\n"
			  "      min_severity: medium\n"
			  "      types: [\"Backdoor:*\", \"Recon:*\"]\n"
			  "      frequency: SIX_HOURS\n"
			  "      max_attempts: 3\n"
			  "    - name: mail\n"
			  "      type: email\n"
			  "      url: smtps://smtp.example:465\n"
			  "      from: m@example.com\n"
			  "      to: soc@example.com\n"
			  "      user: m\n"
			  "      password_env: SMTP_PW\n"
			  "probe: {min_ports: 4}\n",
			  &cfg, msg, sizeof(msg)),
		     0);
	CHECK_EQ_STR(msg, "");
	sv = mm_config_serve(cfg);
	CHECK(sv != NULL);
	if (!sv)
		goto out;
	CHECK_EQ_STR(sv->listen, "127.0.0.1:9000");
	CHECK_EQ_INT(sv->nfollow, 2);
	CHECK_EQ_STR(sv->follow[1], "/logs/b c");
	CHECK_EQ_INT(sv->poll_ms, 250);
	CHECK_EQ_STR(sv->notify.console_url, "https://m.example");
	CHECK_EQ_INT(sv->notify.backoff_ms, 500);
	CHECK_EQ_INT(sv->notify.nsinks, 3);
	CHECK_EQ_INT(sv->notify.sinks[0].kind, MM_SINK_WEBHOOK);
	CHECK_EQ_INT(sv->notify.sinks[0].frequency_s, 900);
	CHECK_EQ_INT(sv->notify.sinks[0].max_attempts, 8);
	CHECK_EQ_INT(sv->notify.sinks[1].kind, MM_SINK_SLACK);
	CHECK(sv->notify.sinks[1].min_severity == 4);
	CHECK_EQ_INT(sv->notify.sinks[1].ntypes, 2);
	CHECK_EQ_STR(sv->notify.sinks[1].types[1], "Recon:*");
	CHECK_EQ_INT(sv->notify.sinks[1].frequency_s, 21600);
	CHECK_EQ_INT(sv->notify.sinks[1].max_attempts, 3);
	CHECK_EQ_INT(sv->notify.sinks[2].nto, 1);
	CHECK_EQ_STR(sv->notify.sinks[2].password_env, "SMTP_PW");
	/* show prints the section, and what it prints loads back the same */
	f = open_memstream(&text, &len);
	mm_config_show(cfg, f);
	fclose(f);
	CHECK(strstr(text, "serve:\n  listen: \"127.0.0.1:9000\"\n") != NULL);
	CHECK(strstr(text, "      frequency: SIX_HOURS\n") != NULL);
	CHECK(strstr(text, "      password_env: \"SMTP_PW\"\n") != NULL);
	CHECK_EQ_INT(load(text, &again, msg, sizeof(msg)), 0);
	CHECK_EQ_STR(msg, "");
	if (again) {
		CHECK_EQ_INT(mm_config_serve(again)->notify.nsinks, 3);
		CHECK_EQ_STR(mm_config_serve(again)->notify.sinks[1].types[0], "Backdoor:*");
	}
	free(text);
	mm_config_free(again);
out:
	mm_config_free(cfg);
	/* no section: NULL */
	CHECK_EQ_INT(load("probe: {min_ports: 4}\n", &cfg, msg, sizeof(msg)), 0);
	CHECK(mm_config_serve(cfg) == NULL);
	mm_config_free(cfg);
	CHECK(mm_config_serve(NULL) == NULL);
}

MM_TEST(serve_section_errors_located)
{
	CHECK_ERR("serve:\n  listn: x\n", "t.yaml:2:3: unknown setting 'listn' in section 'serve'; "
					  "did you mean 'listen'?");
	CHECK_ERR("serve: [1]\n", "t.yaml:1:8: section 'serve' must be a mapping");
	CHECK_ERR("serve:\n  poll_ms: 10\n", "t.yaml:2:12: 'poll_ms' takes a whole number from 50 "
					    "to 600000, not 10");
	CHECK_ERR("serve:\n  listen: a\n  listen: b\n", "t.yaml:3:3: duplicate setting 'listen'");
	CHECK_ERR("serve:\n  sinks:\n    - {name: a, type: webhok, url: 'http://x'}\n",
		  "t.yaml:3:23: sink type 'webhok': use webhook, slack or email");
	CHECK_ERR("serve:\n  sinks:\n    - {name: a, type: slack}\n",
		  "t.yaml:3:7: a sink needs name, type (webhook, slack or email) and url; this one "
		  "has no url");
	CHECK_ERR("serve:\n  sinks:\n    - {name: a, type: email, url: 'smtp://h', from: f}\n",
		  "email sink 'a' needs from and to");
	CHECK_ERR("serve:\n  sinks:\n    - {name: a, type: email, url: 'http://h', from: f, to: t}\n",
		  "url must be smtp://HOST:PORT or smtps://HOST:PORT");
	CHECK_ERR("serve:\n  sinks:\n    - {name: a, type: webhook, url: 'http://h', password_env: X}\n",
		  "are for email sinks");
	CHECK_ERR("serve:\n  sinks:\n    - {name: a, type: webhook, url: 'http://h'}\n"
		  "    - {name: a, type: webhook, url: 'http://i'}\n",
		  "t.yaml:4:7: two sinks are named 'a'");
	CHECK_ERR("serve:\n  sinks:\n    - {name: a, type: webhook, url: 'http://h', frequency: 1h}\n",
		  "frequency '1h': use FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS");
	CHECK_ERR("serve:\n  sinks:\n    - {name: a, type: webhook, url: 'http://h', min_severity: loud}\n",
		  "min_severity 'loud': use low, medium, high, critical");
	CHECK_ERR("serve:\n  sinks:\n    - {name: 'a b', type: webhook, url: 'http://h'}\n",
		  "sink name 'a b': use letters");
	CHECK_ERR("serve:\n  sinks: {name: a}\n", "'sinks' takes a list of mappings");
	CHECK_ERR("serve:\n  follow: [[a]]\n", "'follow' takes a single value, not a list");
	CHECK_ERR("serve:\n  console_url: \"\"\n", "'console_url' has no value");
	CHECK_ERR("serve:\n  sinks:\n    - {name: a, type: webhook, url: 'http://h', types: [&x a]}\n",
		  "anchors");
}
