/* config.c - placeholder until the YAML loader lands: defaults only. */
#include "config/config.h"

#include <stdlib.h>

struct mm_config {
	int unused;
};

int mm_config_load(struct mm_config **out, const char *path, struct mm_err *err)
{
	*out = NULL;
	if (path)
		return mm_err_set(err, MM_EINVAL, "%s: config files are not read yet", path);
	return 0;
}

int mm_config_load_mem(struct mm_config **out, const char *name, const char *buf, size_t n,
		       struct mm_err *err)
{
	*out = NULL;
	return mm_err_set(err, MM_EINVAL, "%s: config files are not read yet", name);
}

void mm_config_free(struct mm_config *cfg)
{
	free(cfg);
}

void mm_config_params(const struct mm_config *cfg, const struct mm_detector_def *d, double *out)
{
	mm_detector_defaults(d, out);
}

int mm_config_enabled(const struct mm_config *cfg, const char *detector)
{
	return 1;
}

void mm_config_show(const struct mm_config *cfg, FILE *out)
{
}
