/* fuzz_config.c - libFuzzer target for the YAML config loader.
 *
 * The input is loaded against the registry and against a fuzz-only
 * detector table with params of every kind (counts, decimals, a bool).
 * Whatever loads must show as YAML that loads back to the same values
 * and shows the same text again: `mamori config show` is always a valid
 * config. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static const struct mm_detector_def probe = {
	.name = "probe",
	.params = (const struct mm_param[]){
		{"min_ports", 3, 1, 1000, "ports", "distinct ports"},
		{"window_minutes", 10, 0.5, 1440, "minutes", "window"},
		{"ratio", 0.25, -1, 1e12, "", "a ratio\nwith a newline in its reason"},
		{"strict", 0, 0, 1, "bool", "a switch"},
		{0},
	},
};
static const struct mm_detector_def plain = {.name = "plain"};
static const struct mm_detector_def *const dets[] = {&probe, &plain, NULL};

static char *show(const struct mm_config *cfg, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		abort();
	mm_config_show(cfg, f);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_config *a = NULL, *b = NULL;
	struct mm_err err;
	char *sa = NULL, *sb = NULL;
	size_t na = 0, nb = 0;
	double pa[MM_PARAMS_MAX], pb[MM_PARAMS_MAX];

	if (mm_config_load_mem(&a, "fuzz", (const char *)data, size, &err) == 0) {
		sa = show(a, &na);
		free(sa);
		mm_config_free(a);
		a = NULL;
	}
	if (mm_config_parse(&a, "fuzz", (const char *)data, size, dets, &err))
		return 0;
	sa = show(a, &na);
	if (mm_config_parse(&b, "fuzz", sa, na, dets, &err)) {
		fprintf(stderr, "show output does not load back: %s\n%s", err.msg, sa);
		abort();
	}
	sb = show(b, &nb);
	mm_config_params(a, &probe, pa);
	mm_config_params(b, &probe, pb);
	if (na != nb || memcmp(sa, sb, na) || memcmp(pa, pb, 4 * sizeof(double)) ||
	    mm_config_enabled(a, "plain") != mm_config_enabled(b, "plain"))
		abort();
	free(sa);
	free(sb);
	mm_config_free(a);
	mm_config_free(b);
	return 0;
}
