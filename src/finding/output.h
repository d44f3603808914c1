/* output.h - turning findings into what users read: GuardDuty JSON for
 * one finding, and the table / JSON Lines / {"findings":[...]} printers
 * shared by `mamori scan` and `mamori findings`. */
#ifndef MM_OUTPUT_H
#define MM_OUTPUT_H

#include <stdio.h>

#include "core/buf.h"
#include "enrich/inventory.h"
#include "finding/finding.h"
#include "store/store.h"

/* The complete GuardDuty finding JSON (one line, camelCase,
 * schemaVersion "2.0") for f, appended to out. inv (may be NULL) gives
 * resource.instanceDetails for the finding's instance or ENI. */
int mm_finding_to_json(const struct mm_finding *f, const struct mm_inventory *inv,
		       struct mm_buf *out);

enum mm_outfmt { MM_OUT_TABLE = 0, MM_OUT_JSON, MM_OUT_GUARDDUTY };
/* "table", "json", "guardduty"; 0 or MM_EINVAL. */
int mm_outfmt_parse(const char *word, enum mm_outfmt *out);

/* Streaming printer: begin, one call per row, end. Table output is
 * aligned columns (ID prefix, severity, type, resource, count, last
 * seen); json is one finding JSON a line; guardduty wraps them in
 * {"findings":[...]}. color: use ANSI colours for severity (terminals). */
struct mm_printer {
	FILE *out;
	enum mm_outfmt fmt;
	int color;
	unsigned long n;
};
void mm_printer_begin(struct mm_printer *p, FILE *out, enum mm_outfmt fmt, int color);
int mm_printer_row(struct mm_printer *p, const struct mm_finding_row *row);
void mm_printer_end(struct mm_printer *p);

#endif
