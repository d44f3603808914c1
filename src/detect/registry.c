/* registry.c - every detector family, in the order they run. Adding a
 * detector is a new file under src/detect/ plus one line here (see
 * docs/ARCHITECTURE.md, "Adding a detector"). Nothing else names one. */
#include <string.h>

#include "detect/detect.h"

const struct mm_detector_def *const mm_detectors[] = {
	&mm_det_threatintel,
	&mm_det_rootcred,
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

void mm_detect_event(struct mm_detect_ctx *c, const struct mm_event *ev)
{
	unsigned bit = MM_KIND_BIT(ev->kind);
	int i;
	for (i = 0; mm_detectors[i]; i++)
		if ((mm_detectors[i]->kinds & bit) && mm_detectors[i]->on_event &&
		    !mm_detectors[i]->state_new)
			mm_detectors[i]->on_event(NULL, c, ev);
}
