/* fuzz_criteria.c - libFuzzer target for GuardDuty FindingCriteria (the
 * API's ListFindings/filters input): compile any bytes; what compiles is
 * matched against a finding, and the bytes are also tried as a sort
 * attribute path and as a finding to match. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/criteria.h"

static const char F[] =
	"{\"schemaVersion\":\"2.0\",\"id\":\"abc\",\"type\":\"Recon:EC2/Portscan\",\"severity\":5,"
	"\"updatedAt\":\"2024-01-02T03:04:05.000Z\",\"resource\":{\"instanceDetails\":{"
	"\"networkInterfaces\":[{\"privateIpAddress\":\"10.0.0.1\"},[1,[2,{\"a\":null}]]]}},"
	"\"service\":{\"archived\":false,\"count\":3}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_criteria *c = NULL;
	struct mm_err err;
	char path[MM_CRIT_MAX_PATH], str[64];
	double num;
	size_t n = size < sizeof(path) - 1 ? size : sizeof(path) - 1;

	mm_err_clear(&err);
	if (mm_criteria_compile((const char *)data, size, &c, &err) == 0) {
		mm_criteria_match(c, F, sizeof(F) - 1);
		/* the input as a finding too */
		mm_criteria_match(c, (const char *)data, size);
		mm_criteria_free(c);
	}
	memcpy(path, data, n);
	path[n] = '\0';
	mm_criteria_sort_key(path, F, sizeof(F) - 1, &num, str, sizeof(str));
	static const char G[] = "{\"criterion\":{\"service.count\":{\"gte\":1},"
				"\"type\":{\"matches\":[\"*a*b*c*\"]}}}";
	if (mm_criteria_compile(G, sizeof(G) - 1, &c, &err) == 0) {
		mm_criteria_match(c, (const char *)data, size);
		mm_criteria_free(c);
	}
	return 0;
}
