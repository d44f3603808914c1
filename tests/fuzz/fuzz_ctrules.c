/* fuzz_ctrules.c - libFuzzer target for the ctrules detector's readers:
 * the bucket-policy and ACL grant readers and the user-agent matcher on
 * the raw input (copied to an exact-size buffer so ASan sees any read
 * past the end), then the whole detector on a CloudTrail record whose
 * eventName is picked by the first byte and whose requestParameters and
 * userAgent are the rest of the input, when that makes a parseable
 * record. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "detect/ctrules.h"
#include "detect/detect.h"
#include "parse/cloudtrail.h"

static const struct {
	const char *src, *name;
} CALLS[] = {
	{"cloudtrail.amazonaws.com", "UpdateTrail"},
	{"cloudtrail.amazonaws.com", "PutEventSelectors"},
	{"iam.amazonaws.com", "UpdateAccountPasswordPolicy"},
	{"s3.amazonaws.com", "PutBucketLogging"},
	{"s3.amazonaws.com", "PutBucketPublicAccessBlock"},
	{"s3.amazonaws.com", "PutAccountPublicAccessBlock"},
	{"s3.amazonaws.com", "PutBucketPolicy"},
	{"s3.amazonaws.com", "PutBucketAcl"},
	{"bedrock.amazonaws.com", "PutModelInvocationLoggingConfiguration"},
};

static char arena_mem[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mm_agg *agg;
	struct mm_detect_ctx d;
	struct mm_arena ar;
	struct mm_event ev;
	struct mm_err err;
	double params[MM_PARAMS_MAX];
	char *buf, *line;
	size_t n, cap;
	int k;

	mm_log_set_level(MM_LOG_QUIET);
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	mm_ct_policy_grant(buf, size);
	mm_ct_acl_grant(buf, size);
	mm_ct_pentest_distro(buf, size);
	if (size < 1 || size > 8192) {
		free(buf);
		return 0;
	}
	/* byte 0 picks the call; the rest is requestParameters, and also the
	 * agent when it holds no quote or backslash */
	k = data[0] % (int)(sizeof(CALLS) / sizeof(CALLS[0]));
	cap = 2 * size + 1024;
	line = malloc(cap);
	if (!line || (!agg && mm_agg_new(&agg, 100))) {
		free(line);
		free(buf);
		return 0;
	}
	n = (size_t)snprintf(
		line, cap,
		"{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":"
		"\"AIDAFUZZ\",\"accountId\":\"111122223333\",\"accessKeyId\":\"AKIAFUZZ\"},"
		"\"eventTime\":\"2024-05-01T10:00:00Z\",\"eventSource\":\"%s\",\"eventName\":\"%"
		"s\","
		"\"userAgent\":\"%.*s\",\"requestParameters\":%.*s,\"eventType\":\"AwsApiCall\"}",
		CALLS[k].src, CALLS[k].name,
		memchr(buf + 1, '"', size - 1) || memchr(buf + 1, '\\', size - 1) ? 0
										  : (int)(size - 1),
		buf + 1, (int)(size - 1), buf + 1);
	mm_arena_init(&ar, arena_mem, sizeof(arena_mem));
	memset(&ev, 0, sizeof(ev));
	if (n < cap && mm_ct_parse_line(line, n, &ar, &ev, &err) == 0) {
		memset(&d, 0, sizeof(d));
		d.agg = agg;
		mm_detector_defaults(&mm_det_ctrules, params);
		d.params = params;
		ev.loc.file = "fuzz.json";
		ev.loc.line = 1;
		mm_det_ctrules.on_event(NULL, &d, &ev);
		if (mm_agg_count(agg) > 50) {
			mm_agg_free(agg);
			agg = NULL;
		}
	}
	free(line);
	free(buf);
	return 0;
}
