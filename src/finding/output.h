/* output.h - turning findings into what users read: GuardDuty JSON for
 * one finding, and the output formats (table, JSON Lines,
 * {"findings":[...]}, EventBridge events) shared by `mamori scan` and
 * `mamori findings`.
 *
 * Rendering is pure: it reads the finding and what the caller passes,
 * never the inventory or the store. Enrichment (instanceDetails) happens
 * before rendering. */
#ifndef MM_OUTPUT_H
#define MM_OUTPUT_H

#include <stdio.h>

#include "core/buf.h"
#include "enrich/inventory.h"
#include "finding/finding.h"
#include "geo/geo.h"
#include "store/store.h"

/* The complete GuardDuty finding JSON (one line, camelCase,
 * schemaVersion "2.0") for f, appended to out.
 *
 * instance_details_json (borrowed, may be NULL) is the resource's
 * instanceDetails object as mm_instance_to_json wrote it; it is copied
 * as it stands except that an "instanceState":"pending" member is left
 * out (a state learned from RunInstances is not the state now). NULL:
 * instanceDetails names only what the logs told (instance id, ENI,
 * address). Ignored for AccessKey and S3Bucket resources.
 *
 * 0, or MM_ENOMEM / MM_ETOOBIG from out; on failure out is cut back to
 * its length on entry. Every string from the finding is written as valid
 * JSON: control characters escaped, invalid UTF-8 replaced by U+FFFD. */
int mm_finding_to_json(const struct mm_finding *f, const char *instance_details_json,
		       struct mm_buf *out);
/* The same, with every remoteIpDetails enriched from geo (borrowed, may
 * be NULL: no organization/country objects at all): organization {asn,
 * asnOrg, isp, org} and country {countryCode, countryName}, each only
 * when geo knows the address. */
int mm_finding_to_json_geo(const struct mm_finding *f, const char *instance_details_json,
			   const struct mm_geo *geo, struct mm_buf *out);

/* Append s[0..n) as the inside of a JSON string, as findings write text:
 * '"', '\\' and control characters escaped, each byte that does not
 * start well-formed UTF-8 replaced by U+FFFD. 0, or MM_ETOOBIG /
 * MM_ENOMEM with the buffer's text cut at a character's edge. */
int mm_finding_json_text(struct mm_buf *b, const char *s, size_t n);

/* The registrable domain of name: its last label before the public
 * suffix plus the suffix ("pool.minexmr.com" -> "minexmr.com",
 * "a.b.example.co.uk" -> "example.co.uk"), GuardDuty's
 * dnsRequestAction.domainWithSuffix. A trailing dot is dropped. The
 * public suffix is the last label unless the last two are one of a small
 * built-in list of multi-label suffixes (co.uk, com.au, ...): not the
 * full Public Suffix List, so private suffixes (github.io, ...) and rare
 * country second levels count as registrable. Written to out (cap bytes,
 * cut if longer); returns out. */
const char *mm_domain_with_suffix(const char *name, char *out, size_t cap);

/* ---- output formats ---- */

enum mm_outfmt { MM_OUT_TABLE = 0, MM_OUT_JSON, MM_OUT_GUARDDUTY, MM_OUT_EVENTBRIDGE };
/* A format by name ("table", "json" or "jsonl", "guardduty",
 * "eventbridge"); 0 or MM_EINVAL. */
int mm_outfmt_parse(const char *word, enum mm_outfmt *out);
/* The format names joined by ", " for usage text ("table, json, ..."). */
const char *mm_outfmt_names(void);

/* Streaming printer: begin, one call per row, end. Each format is one
 * entry of the table in output.c (name + begin/row/end hooks):
 *   table        aligned columns (ID prefix, severity, type, resource,
 *                count, last seen); color: ANSI colours for severity
 *   json         one finding JSON a line (JSON Lines)
 *   guardduty    {"findings":[...]}
 *   eventbridge  one EventBridge event a line, the finding as "detail"
 *                (mm_eventbridge_event). */
struct mm_printer {
	FILE *out;
	enum mm_outfmt fmt;
	int color;
	unsigned long n;
};
void mm_printer_begin(struct mm_printer *p, FILE *out, enum mm_outfmt fmt, int color);
int mm_printer_row(struct mm_printer *p, const struct mm_finding_row *row);
void mm_printer_end(struct mm_printer *p);

/* The EventBridge event AWS sends for a finding, one line, appended to
 * out: {"version":"0","id":...,"detail-type":"GuardDuty Finding",
 * "source":"aws.guardduty","account":...,"time":...,"region":...,
 * "resources":[],"detail":<finding_json>}. account, region and time come
 * from the finding's accountId, region and updatedAt (to the second, as
 * EventBridge writes times); id is UUID-shaped and stable for (finding
 * id, updatedAt), so re-sending the same update gives the same event id.
 * finding_json (borrowed) must be one finding as mm_finding_to_json wrote
 * it. 0, MM_EINVAL (not such a finding), or an out error (out cut back). */
int mm_eventbridge_event(const char *finding_json, struct mm_buf *out);

#endif
