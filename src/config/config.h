/* config.h - the one configuration file `scan` (and later `serve`)
 * read: YAML (libyaml), every key optional, built-in defaults for all.
 *
 *   # mamori.yaml
 *   portprobe:                  # a detector's name (src/detect/registry.c)
 *     enabled: true             # every detector takes `enabled`
 *     min_ports: 3              # its params (struct mm_param)
 *
 * Top-level keys are sections: one per registered detector, plus the
 * few non-detector sections config.c's table of top-level sections
 * names (`serve:`, the daemon's settings and notification sinks). Unknown sections and keys,
 * duplicate keys, values out of range and malformed YAML are errors
 * located "file:line:column: reason" at load, and the load fails as a
 * whole: a typo never silently leaves a default in place. `mamori config
 * show` prints the effective values, each with its default, unit and
 * reason. docs/internals/config.md has the format and the precedence. */
#ifndef MM_CONFIG_H
#define MM_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"
#include "detect/detect.h"
#include "serve/notify.h"

#define MM_CONFIG_MAX_BYTES (1u << 20)	/* a config is a few kB: larger is the wrong file */
#define MM_CONFIG_MAX_KEY 64		/* bytes in a section or setting name */
#define MM_CONFIG_MAX_VALUE 64		/* bytes in a scalar value */

struct mm_config;	/* opaque; read-only after load */

/* Load path against the registry (mm_detectors). path NULL: *out = NULL,
 * which every function below reads as the built-in defaults. On failure
 * *out is NULL and err says where and why ("file:line:column: reason;
 * what to do"); the code is MM_EIO (unreadable), MM_ETOOBIG (over
 * MM_CONFIG_MAX_BYTES), MM_EPARSE (not YAML), MM_EINVAL (valid YAML but
 * not a valid config) or MM_ENOMEM. Caller frees *out. */
int mm_config_load(struct mm_config **out, const char *path, struct mm_err *err);
/* Same, from memory (tests, fuzzing); name locates errors. *out is never
 * NULL on success (an empty buffer is the defaults). */
int mm_config_load_mem(struct mm_config **out, const char *name, const char *buf, size_t n,
		       struct mm_err *err);
/* mm_config_load_mem against the detector table dets (NULL-terminated,
 * borrowed: must outlive the config; NULL = the registry). Its names
 * are the sections; show prints its detectors. Tests and fuzzing pass
 * their own table, like mm_pipeline_opts.detectors. */
int mm_config_parse(struct mm_config **out, const char *name, const char *buf, size_t n,
		    const struct mm_detector_def *const *dets, struct mm_err *err);
void mm_config_free(struct mm_config *cfg);

/* d's effective params into out[0..mm_detector_nparams(d)): the file's
 * value where it set one, else the default. d is matched by name, so a
 * detector the config was not loaded against gets its defaults. cfg may
 * be NULL (defaults). */
void mm_config_params(const struct mm_config *cfg, const struct mm_detector_def *d, double *out);
/* 0 when the file says `<name>: {enabled: false}`; cfg may be NULL. */
int mm_config_enabled(const struct mm_config *cfg, const char *detector);

/* The `serve:` section (`mamori serve`; docs/notify.md for the sinks):
 *
 *   serve:
 *     listen: 127.0.0.1:8600
 *     follow: [/var/log/flows, /var/log/cloudtrail]
 *     poll_ms: 1000
 *     tls_cert: /etc/mamori/cert.pem
 *     tls_key: /etc/mamori/key.pem
 *     console_url: https://mamori.example.com
 *     retry_base_ms: 1000        # first retry of a failed delivery
 *     retry_max_ms: 300000       # the backoff's cap
 *     queue_max: 10000           # pending notifications per sink
 *     sinks:
 *       - {name: ops, type: webhook, url: https://hooks.example.com/gd}
 *       - name: oncall
 *         type: email
 *         url: smtps://smtp.example.com:465
 *         from: mamori@example.com
 *         to: [oncall@example.com]
 *         user: mamori
 *         password_env: MAMORI_SMTP_PASSWORD   # the secret stays out of the file
 *         min_severity: high
 *         types: ["Backdoor:*", "CryptoCurrency:*"]
 *         frequency: ONE_HOUR
 *         max_attempts: 5
 *
 * Every key is optional; command-line flags win over the file. The
 * strings are arrays in the struct (copied with it). */
#define MM_CONFIG_MAX_FOLLOW 64
#define MM_CONFIG_PATH 1024
enum {
	MM_SERVE_LISTEN = 1 << 0, MM_SERVE_FOLLOW = 1 << 1, MM_SERVE_POLL = 1 << 2,
	MM_SERVE_TLS_CERT = 1 << 3, MM_SERVE_TLS_KEY = 1 << 4, MM_SERVE_CONSOLE = 1 << 5,
	MM_SERVE_RETRY_BASE = 1 << 6, MM_SERVE_RETRY_MAX = 1 << 7, MM_SERVE_QUEUE = 1 << 8,
	MM_SERVE_SINKS = 1 << 9
};
struct mm_config_serve {
	unsigned set;				/* MM_SERVE_* bits: what the file gave */
	char listen[128];
	char follow[MM_CONFIG_MAX_FOLLOW][MM_CONFIG_PATH];
	int nfollow;
	int poll_ms;
	char tls_cert[MM_CONFIG_PATH], tls_key[MM_CONFIG_PATH];
	struct mm_notify_conf notify;		/* console_url, retry timing, queue, sinks */
};
/* The file's serve: section, or NULL when it has none (or cfg is NULL).
 * Borrowed from cfg. */
const struct mm_config_serve *mm_config_serve(const struct mm_config *cfg);

/* The effective configuration as YAML that mm_config_load accepts: every
 * detector, `enabled`, every param with its value, each commented with
 * its reason, unit, default and range; values that differ from the
 * default are marked "# changed". cfg may be NULL (the defaults of the
 * registry). */
void mm_config_show(const struct mm_config *cfg, FILE *out);
/* The file cfg was loaded from ("" for the defaults); borrowed. */
const char *mm_config_source(const struct mm_config *cfg);

/* The `respond:` section (docs/respond.md): automatic response rules
 * for `mamori agent`, applied by mm_respond_auto (agent/respond.h).
 * NULL when the file has none or cfg is NULL (then: off). Borrowed. */
struct mm_respond_rules;
const struct mm_respond_rules *mm_config_respond(const struct mm_config *cfg);

#endif
