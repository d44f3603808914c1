/* listfmt.h - lists as GuardDuty takes them: fetch from a location, and
 * convert any of GuardDuty's list formats into what mm_intel_load reads
 * (one indicator a line: address, CIDR or domain).
 *
 * Formats (GuardDuty's names): TXT, STIX, OTX_CSV, ALIEN_VAULT,
 * PROOF_POINT, FIRE_EYE. docs/internals/listfmt.md describes what each
 * looks like and what is taken from it. */
#ifndef MM_LISTFMT_H
#define MM_LISTFMT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define MM_LIST_MAX_BYTES (256u << 20)	/* a list document, fetched or converted */
#define MM_LIST_FETCH_TIMEOUT_S 60

/* Read location into out: a local path, file:///path, or http(s)://
 * (libcurl; redirects followed, at most MM_LIST_MAX_BYTES, a timeout of
 * MM_LIST_FETCH_TIMEOUT_S, a non-2xx status is an error). s3:// locations
 * are refused with a message saying to give an https:// URL or a path.
 * 0 or MM_EIO/MM_ETOOBIG/MM_EINVAL with the reason in err. */
int mm_list_fetch(const char *location, struct mm_buf *out, struct mm_err *err);

/* Convert a document in format (a GuardDuty format name) into one
 * indicator a line appended to out; *count = indicators written.
 * Unknown format: MM_EINVAL. A document with no indicator at all is
 * MM_EPARSE ("no addresses or domains found in this STIX document"), so
 * a wrong format choice is caught when the set is created. */
int mm_listfmt_to_txt(const char *format, const char *buf, size_t n, struct mm_buf *out,
		      uint64_t *count, struct mm_err *err);

/* What a conversion took and left. */
struct mm_listfmt_stats {
	uint64_t written;	/* indicators written to out (= *count above) */
	uint64_t skipped;	/* values that are not an address, CIDR or domain
				 * mm_intel_load would take: file hashes, e-mail
				 * addresses, URLs with a path on a named host,
				 * patterns other than equality, malformed entries */
};

/* Same as mm_listfmt_to_txt, with both counts in st (overwritten; never
 * NULL). buf is borrowed; out is appended to (on failure it may hold part
 * of the list: the caller discards it). */
int mm_listfmt_convert(const char *format, const char *buf, size_t n, struct mm_buf *out,
		       struct mm_listfmt_stats *st, struct mm_err *err);

#endif
