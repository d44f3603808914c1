/* sample.h - GuardDuty's sample findings (CreateSampleFindings): one
 * finding of a type with placeholder resources, marked
 * service.additionalInfo.sample = true, for trying notifications,
 * suppression rules and the console without an attack. */
#ifndef MM_SAMPLE_H
#define MM_SAMPLE_H

#include <stdint.h>

#include "finding/finding.h"

/* Fill f as a sample of type t at now_ms (id made). */
void mm_sample_finding(const struct mm_ftype *t, int64_t now_ms, struct mm_finding *f);

#endif
