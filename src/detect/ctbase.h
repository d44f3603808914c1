/* ctbase.h - what the per-principal CloudTrail baselines (ctbase.c)
 * expose besides their detector: the user-agent family they learn,
 * for tests and for other CloudTrail detectors that want the same
 * normalisation. */
#ifndef MM_CTBASE_H
#define MM_CTBASE_H

#include <stddef.h>

#include "core/common.h"

/* The tool family of a user agent into out (cap bytes, NUL-terminated,
 * cut to fit, safe inside a JSON string): "aws-cli/2", "Boto3/1",
 * "Terraform/1", "browser" (console and browsers), "AWS Internal",
 * "none" for an empty one, else the first token as name/major. */
void mm__ctbase_ua_family(struct mm_str ua, char *out, size_t cap);

#endif
