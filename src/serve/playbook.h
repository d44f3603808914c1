/* playbook.h - what an incident responder does about a finding, by
 * finding-type family: the console shows it beside the finding's detail.
 *
 * Families are chosen from the type (and, for the types GuardDuty raises
 * both ways, the resource's role: an instance that is the ACTOR of SSH
 * brute force is itself compromised; one that is the TARGET is being
 * attacked). The steps are plain text, some with shell or AWS CLI
 * commands; they are advice, never run by mamori. */
#ifndef MM_PLAYBOOK_H
#define MM_PLAYBOOK_H

#include "core/buf.h"

struct mm_playbook {
	const char *family;	/* short id: "ec2-compromise", ... */
	const char *title;
	const char *const *steps;	/* NULL-terminated */
};

/* The playbook for a finding type and its service.resourceRole ("ACTOR",
 * "TARGET" or NULL). Never NULL: unknown types get the generic one. */
const struct mm_playbook *mm_playbook_for(const char *type, const char *role);
/* Append {"family":..,"title":..,"steps":[..]} to out. 0 or MM_ENOMEM/MM_ETOOBIG. */
int mm_playbook_json(const struct mm_playbook *pb, struct mm_buf *out);

#endif
