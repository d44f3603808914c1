/* fuzz_syslog.c - libFuzzer target for syslog frame splitting (what
 * `mamori serve --syslog-udp/--syslog-tcp` receives from anyone). The
 * message must lie inside the frame and the tag be a safe file name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tag[33];
	const char *msg;
	size_t n, i;
	mm_syslog_split((const char *)data, size, tag, sizeof(tag), &msg, &n);
	if (msg < (const char *)data || msg + n > (const char *)data + size)
		abort();
	if (!tag[0] || strlen(tag) > 32 || !strcmp(tag, ".") || !strcmp(tag, ".."))
		abort();
	for (i = 0; tag[i]; i++)
		if (tag[i] == '/')
			abort();
	return 0;
}
