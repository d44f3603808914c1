/* fuzz_sigv4.c - libFuzzer target for SigV4 verification (serve/sigv4.c).
 *
 * The input is a request in HTTP/1.1's text shape: "METHOD TARGET" on the
 * first line, "Name: value" lines, an empty line, the body. It is
 * verified as it is (any verdict, never a crash, a message always
 * NUL-terminated, a key id only on success). Then the same request,
 * stripped of its Authorization, X-Amz-Date and x-amz-content-sha256
 * and given a Host and a fixed X-Amz-Date, is signed with mm_sigv4_sign:
 * whatever the signer accepts must verify (one builder serves both, so a
 * difference is a parser bug, e.g. a header name that breaks the
 * Authorization value). Exact-size copies so ASan sees over-reads. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/sigv4.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DATE "20150830T123600Z"
#define NOW 1440938160000LL
#define MAXH 160

static int lookup(void *ctx, const char *id, char *secret, size_t cap)
{
	(void)ctx;
	if (!strcmp(id, "AKIDUNKNOWN"))
		return MM_ENOTFOUND;
	snprintf(secret, cap, "%s", SECRET);
	return 0;
}

static void check_result(int rc, enum mm_sigv4_fail why, const struct mm_err *err,
			 const char *id)
{
	if (strnlen(err->msg, sizeof(err->msg)) == sizeof(err->msg))
		abort();
	if (rc == 0 && (why != MM_SIGV4_OK || !id[0]))
		abort();
	if (rc != 0 && rc != MM_EINVAL && rc != MM_ENOMEM)
		abort();
	if (rc == MM_EINVAL && why == MM_SIGV4_OK)
		abort();
	if (strstr(err->msg, SECRET))
		abort();
	(void)mm_sigv4_fail_type(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *p, *end, *line, *sp, *q;
	struct mm_http_header h[MAXH], h2[MAXH];
	struct mm_sigv4_req r, r2;
	struct mm_err err;
	enum mm_sigv4_fail why;
	char id[64], auth[MM_SIGV4_AUTH_MAX];
	size_t nh = 0, n2 = 0, i;
	int rc, have_host = 0;

	if (size > 65536)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = buf + strlen(buf);
	memset(&r, 0, sizeof(r));
	/* request line */
	line = buf;
	p = strchr(line, '\n');
	if (p)
		*p++ = '\0';
	else
		p = end;
	if ((sp = strchr(line, '\r')))
		*sp = '\0';
	r.method = line;
	r.path = "/";
	if ((sp = strchr(line, ' '))) {
		*sp = '\0';
		r.path = sp + 1;
		if ((q = strchr(sp + 1, ' ')))
			*q = '\0';
		if ((q = strchr(sp + 1, '?'))) {
			*q = '\0';
			r.query = q + 1;
		}
	}
	/* headers */
	while (p < end && nh < MAXH) {
		char *colon, *nl = strchr(p, '\n');
		line = p;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : end;
		if ((sp = strchr(line, '\r')))
			*sp = '\0';
		if (!*line)
			break;
		if (!(colon = strchr(line, ':')))
			continue;
		*colon = '\0';
		h[nh].name = line;
		h[nh].value = colon + 1;
		nh++;
	}
	r.headers = h;
	r.nheaders = nh;
	r.body = p;
	r.body_len = (size_t)(end - p);
	r.now_ms = NOW;
	r.service = "service";

	mm_err_clear(&err);
	rc = mm_sigv4_verify(&r, lookup, NULL, id, sizeof(id), &why, &err);
	check_result(rc, why, &err, id);

	/* sign what the signer accepts; it must verify */
	if (r.query && (strstr(r.query, "X-Amz-") || strchr(r.query, '%')))
		goto out;	/* could read as the presigned form */
	for (i = 0; i < nh && n2 < MAXH - 2; i++) {
		if (!strcasecmp(h[i].name, "authorization") || !strcasecmp(h[i].name, "x-amz-date") ||
		    !strcasecmp(h[i].name, "x-amz-content-sha256"))
			continue;
		if (!strcasecmp(h[i].name, "host"))
			have_host = 1;
		h2[n2++] = h[i];
	}
	if (!have_host)
		h2[n2++] = (struct mm_http_header){"Host", "example.amazonaws.com"};
	h2[n2++] = (struct mm_http_header){"X-Amz-Date", DATE};
	r2 = r;
	r2.headers = h2;
	r2.nheaders = n2;
	if (mm_sigv4_sign(&r2, DATE, "us-east-1", "AKIDEXAMPLE", SECRET, auth, sizeof(auth), &err))
		goto out;
	if (n2 >= MAXH)
		goto out;
	h2[n2++] = (struct mm_http_header){"Authorization", auth};
	r2.nheaders = n2;
	if (n2 > MM_SIGV4_MAX_HEADERS)
		goto out;
	mm_err_clear(&err);
	rc = mm_sigv4_verify(&r2, lookup, NULL, id, sizeof(id), &why, &err);
	if (rc != 0) {
		fprintf(stderr, "signed request did not verify: %s\n", err.msg);
		abort();
	}
out:
	free(buf);
	return 0;
}
