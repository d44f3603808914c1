/* apitactic.h - which attack tactic a CloudTrail API call serves.
 *
 * GuardDuty's <Tactic>:IAMUser/AnomalousBehavior types and its attack
 * sequences both start from one question: is this API one an adversary
 * uses for credential access, defence evasion, discovery, ... ? The
 * answer is one table (apitactic.c), shared by the per-principal
 * baselines and the sequence detector, so both name the same calls. The
 * table holds GuardDuty's own examples per type (its finding-type
 * reference) and the AWS techniques of MITRE ATT&CK's cloud matrix;
 * read-only management calls not in it (List*, Describe*, Get*, ...)
 * count as discovery, data-plane reads (GetObject, GetItem, Decrypt...)
 * as nothing: they are the workload, not reconnaissance. */
#ifndef MM_APITACTIC_H
#define MM_APITACTIC_H

#include "core/common.h"

enum mm_tactic {
	MM_TAC_NONE = 0,
	MM_TAC_CREDENTIAL_ACCESS,
	MM_TAC_DEFENSE_EVASION,
	MM_TAC_DISCOVERY,
	MM_TAC_EXFILTRATION,
	MM_TAC_IMPACT,
	MM_TAC_INITIAL_ACCESS,
	MM_TAC_PERSISTENCE,
	MM_TAC_PRIVILEGE_ESCALATION,
	MM_TAC__N
};

/* The tactic of the API (eventSource, eventName); read_only is the
 * record's readOnly (-1 when absent). MM_TAC_NONE when it serves none. */
enum mm_tactic mm_api_tactic(struct mm_str source, struct mm_str name, int read_only);

/* GuardDuty's word for t, as in "Discovery:IAMUser/AnomalousBehavior"
 * ("CredentialAccess", ...; "" for MM_TAC_NONE). */
const char *mm_tactic_name(enum mm_tactic t);

#endif
