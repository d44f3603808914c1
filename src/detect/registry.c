/* registry.c - every detector family, in the order they run. Adding a
 * detector is a new file under src/detect/ plus one line here (see
 * docs/ARCHITECTURE.md, "Adding a detector"). Nothing else names one. */
#include <string.h>

#include "detect/detect.h"

const struct mm_detector_def *const mm_detectors[] = {
	&mm_det_threatintel,
	&mm_det_rootcred,
	&mm_det_netbase,
	&mm_det_netscan,
	&mm_det_brute,
	&mm_det_dos,
	&mm_det_dnsbehav,
	&mm_det_ctrules,
	&mm_det_ctbase,
	&mm_det_sigma,
	&mm_det_hostauth,
	&mm_det_hostcmd,
	&mm_det_hostproc,
	&mm_det_hostfile,
	/* last: its finish reads the findings every other detector made */
	&mm_det_sequence,
	NULL,
};

const struct mm_detector_def *mm_detector_by_name(const char *name)
{
	int i;
	for (i = 0; mm_detectors[i]; i++)
		if (strcmp(mm_detectors[i]->name, name) == 0)
			return mm_detectors[i];
	return NULL;
}

int mm_detector_nparams(const struct mm_detector_def *d)
{
	int n = 0;
	while (d->params && d->params[n].name)
		n++;
	return n;
}

void mm_detector_defaults(const struct mm_detector_def *d, double *out)
{
	int i, n = mm_detector_nparams(d);
	for (i = 0; i < n; i++)
		out[i] = d->params[i].def;
}

void mm_detect_event(struct mm_detect_ctx *c, const struct mm_event *ev)
{
	unsigned bit = MM_KIND_BIT(ev->kind);
	const double *saved = c->params;
	double p[MM_PARAMS_MAX];
	int i;
	for (i = 0; mm_detectors[i]; i++)
		if ((mm_detectors[i]->kinds & bit) && mm_detectors[i]->on_event &&
		    !mm_detectors[i]->state_new) {
			mm_detector_defaults(mm_detectors[i], p);
			c->params = p;
			mm_detectors[i]->on_event(NULL, c, ev);
		}
	c->params = saved;
}
