/* fuzz_pipeline.c - format detection, line framing over a gzip-or-plain
 * stream, every line parser and the detectors, on arbitrary bytes: what
 * `mamori scan` does to one file, minus the store. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/log.h"
#include "detect/detect.h"
#include "input/reader.h"
#include "parse/cloudtrail.h"
#include "parse/flowlog.h"
#include "parse/format.h"
#include "parse/route53.h"

static struct mm_intel *intel;
static char scratch_mem[1 << 16];

static void init(void)
{
	static const char list[] = "10.0.0.0/8\n1.2.3.4\nexample.com\n198.51.100.0/24\n";
	struct mm_err e;
	mm_log_set_level(MM_LOG_QUIET);
	mm_intel_new(&intel);
	mm_intel_load_mem(intel, MM_CAT_C2, "c2", list, sizeof(list) - 1, NULL, &e);
	mm_intel_load_mem(intel, MM_CAT_TOR, "tor", list, sizeof(list) - 1, NULL, &e);
	mm_intel_load_mem(intel, MM_CAT_CUSTOM, "custom", list, sizeof(list) - 1, NULL, &e);
	mm_intel_build(intel, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_reader r;
	struct mm_lines l;
	struct mm_err e;
	struct mm_arena scratch;
	struct mm_flow_fmt ff;
	struct mm_detect_ctx d;
	struct mm_agg *agg = NULL;
	const char *head, *line;
	size_t headn, n;
	enum mm_format fmt;
	int fd, rc, guard = 0;
	char path[64];

	if (!intel)
		init();
	fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (mm_reader_open(&r, path, 0, &e)) {
		close(fd);
		return 0;
	}
	mm_lines_init(&l, &r, 1 << 17, 1 << 16, 0, 0);
	mm_lines_peek(&l, &head, &headn, &e);
	fmt = mm_format_detect(path, head, headn, MM_SRC_AUTO);
	mm_flow_fmt_auto(&ff);
	mm_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
	mm_agg_new(&agg, 64);
	memset(&d, 0, sizeof(d));
	d.intel = intel;
	d.agg = agg;
	while ((rc = mm_lines_next(&l, &line, &n, &e)) != 0 && guard++ < 100000) {
		struct mm_event ev;
		if (rc < 0) {
			if (rc == MM_ETOOBIG)
				continue;
			break;
		}
		mm_arena_reset(&scratch);
		memset(&ev, 0, sizeof(ev));
		switch (fmt) {
		case MM_FMT_DNS:
			rc = mm_dns_parse(line, n, &scratch, &ev, &e);
			break;
		case MM_FMT_CT_LINES:
		case MM_FMT_CT_DOC:
			rc = mm_ct_parse_line(line, n, &scratch, &ev, &e);
			break;
		default:
			rc = mm_flow_parse(&ff, line, n, &scratch, &ev, &e);
			break;
		}
		if (rc == 0) {
			ev.loc.file = "fuzz";
			mm_detect_event(&d, &ev);
		}
	}
	mm_agg_free(agg);
	mm_lines_free(&l);
	mm_reader_close(&r);
	close(fd);
	return 0;
}
