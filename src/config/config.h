/* config.h - the one configuration file `scan` (and later `serve`)
 * read: YAML (libyaml), every key optional, built-in defaults for all.
 *
 *   # mamori.yaml
 *   learning_days: 7            # top-level settings (see config show)
 *   portprobe:                  # a detector's name (src/detect/registry.c)
 *     enabled: true             # every detector takes `enabled`
 *     min_ports: 3              # its params (struct mm_param)
 *
 * Unknown sections and keys, values out of range and malformed YAML are
 * errors located "file:line: reason" at load: a typo never silently
 * leaves a default in place. `mamori config show` prints the effective
 * values, each with its default, unit and reason. */
#ifndef MM_CONFIG_H
#define MM_CONFIG_H

#include <stdio.h>

#include "core/err.h"
#include "detect/detect.h"

struct mm_config;	/* opaque; read-only after load */

/* Load path (NULL: the built-in defaults only). */
int mm_config_load(struct mm_config **out, const char *path, struct mm_err *err);
/* Same, from memory (tests, fuzzing); name locates errors. */
int mm_config_load_mem(struct mm_config **out, const char *name, const char *buf, size_t n,
		       struct mm_err *err);
void mm_config_free(struct mm_config *cfg);

/* d's effective params into out[0..mm_detector_nparams(d)); cfg may be
 * NULL (defaults). */
void mm_config_params(const struct mm_config *cfg, const struct mm_detector_def *d, double *out);
/* 0 when the file says `<name>: {enabled: false}`; cfg may be NULL. */
int mm_config_enabled(const struct mm_config *cfg, const char *detector);

/* The effective configuration as YAML that mm_config_load accepts, each
 * value commented with its default, unit and reason. */
void mm_config_show(const struct mm_config *cfg, FILE *out);

#endif
