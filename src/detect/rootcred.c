/* rootcred.c - Policy:IAMUser/RootCredentialUsage: an API call made with
 * the account's root credentials (userIdentity.type "Root").
 *
 * GuardDuty raises it for any successful or failed API call by the root
 * user except what AWS does on the root's behalf (invokedBy an AWS
 * service; eventType AwsServiceEvent) and the console sign-in itself
 * (ConsoleLogin findings are their own type); it aggregates per root
 * credential (the access key of the session), listing the APIs in
 * additionalInfo.apiCalls. No state: the aggregator does the counting.
 * Severity Low (GuardDuty's); resource AccessKey with userName and
 * userType "Root", role TARGET like GuardDuty's other IAM findings. */
#include <stdio.h>
#include <string.h>

#include "detect/detect.h"

#define TYPE "Policy:IAMUser/RootCredentialUsage"

static void on_event(void *state, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_api *a = &ev->u.api;
	struct mm_finding *f;
	struct mm_str res;
	int latest;

	(void)state;
	if (!mm_str_eqz(a->who.type, "Root") || a->who.invoked_by.n)
		return;
	/* the console sign-in is ConsoleLogin's business, not an API use */
	if (mm_str_eqz(a->event_name, "ConsoleLogin") || mm_str_eqz(a->event_type, "AwsConsoleSignIn") ||
	    mm_str_eqz(a->event_type, "AwsServiceEvent"))
		return;
	res = mm_api_principal(a);
	if (!res.n)
		return;
	f = mm_emit_api(c, TYPE, res, "", ev, &latest);
	if (!f || !latest)
		return;
	if (!f->user_name[0])
		snprintf(f->user_name, sizeof(f->user_name), "Root");
}

static const char *const types[] = {TYPE, NULL};

const struct mm_detector_def mm_det_rootcred = {
	.name = "rootcred",
	.kinds = MM_KIND_BIT(MM_EV_API),
	.types = types,
	.on_event = on_event,
};
