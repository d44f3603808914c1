/* hdr.h - one HTTP header as received (names in any case), shared by the
 * HTTP listener and the SigV4 verifier. */
#ifndef MM_HDR_H
#define MM_HDR_H

struct mm_http_header {
	const char *name, *value;
};

#endif
