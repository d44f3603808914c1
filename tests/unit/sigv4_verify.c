/* sigv4_verify.c - test driver (not installed, not a mamori command): read
 * one raw HTTP/1.1 request, as a client put it on the wire, and verify its
 * AWS Signature Version 4 against the access keys of a mamori database
 * (src/serve/sigv4.c with src/serve/keys.c as the lookup). tests/golden/
 * keys.sh feeds it requests signed by botocore, the AWS CLI's signer, to
 * show the two agree.
 *
 *   sigv4-verify --db FILE [--service NAME] [--now-ms MS] REQUEST-FILE
 *
 * Prints "ok KEYID" (exit 0) or "fail TYPE: message" (exit 1); exit 2 on
 * a usage error or a file that is not an HTTP request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mtime.h"
#include "serve/keys.h"
#include "serve/sigv4.h"

#define MAX_REQ (1 << 20)
#define MAX_HDR 128

static int usage(void)
{
	fputs("usage: sigv4-verify --db FILE [--service NAME] [--now-ms MS] REQUEST-FILE\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *db = NULL, *service = "guardduty", *file = NULL;
	int64_t now = mm_now_ms();
	static char buf[MAX_REQ + 1];
	struct mm_http_header h[MAX_HDR];
	struct mm_sigv4_req r;
	struct mm_keys *k = NULL;
	struct mm_err err;
	enum mm_sigv4_fail why;
	char id[64], *p, *end, *eol, *target, *sp, *q;
	size_t n, nh = 0, clen = (size_t)-1;
	FILE *f;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			db = argv[++i];
		else if (!strcmp(argv[i], "--service") && i + 1 < argc)
			service = argv[++i];
		else if (!strcmp(argv[i], "--now-ms") && i + 1 < argc)
			now = strtoll(argv[++i], NULL, 10);
		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			return usage();
	}
	if (!db || !file)
		return usage();
	if (!(f = fopen(file, "rb"))) {
		fprintf(stderr, "sigv4-verify: cannot read %s\n", file);
		return 2;
	}
	n = fread(buf, 1, MAX_REQ, f);
	fclose(f);
	buf[n] = '\0';
	end = buf + n;

	/* request line: METHOD TARGET HTTP/1.x */
	memset(&r, 0, sizeof(r));
	if (!(eol = strstr(buf, "\r\n")))
		goto bad;
	*eol = '\0';
	if (!(sp = strchr(buf, ' ')))
		goto bad;
	*sp = '\0';
	r.method = buf;
	target = sp + 1;
	if (!(sp = strchr(target, ' ')))
		goto bad;
	*sp = '\0';
	if ((q = strchr(target, '?'))) {
		*q = '\0';
		r.query = q + 1;
	}
	r.path = target;
	/* headers until the empty line */
	for (p = eol + 2; p < end; p = eol + 2) {
		char *colon;
		if (!(eol = strstr(p, "\r\n")))
			goto bad;
		*eol = '\0';
		if (eol == p)
			break;
		if (nh == MAX_HDR || !(colon = strchr(p, ':')))
			goto bad;
		*colon = '\0';
		h[nh].name = p;
		h[nh].value = colon + 1;	/* untrimmed: the verifier trims */
		if (!strcasecmp(p, "content-length"))
			clen = (size_t)strtoull(colon + 1, NULL, 10);
		nh++;
	}
	p = eol + 2;
	r.body = p;
	r.body_len = p <= end ? (size_t)(end - p) : 0;
	if (clen != (size_t)-1 && clen < r.body_len)
		r.body_len = clen;
	r.headers = h;
	r.nheaders = nh;
	r.now_ms = now;
	r.service = service;

	mm_err_clear(&err);
	if (mm_keys_open(&k, db, &err) || mm_keys_check(k, &err)) {
		fprintf(stderr, "sigv4-verify: %s\n", err.msg);
		mm_keys_close(k);
		return 2;
	}
	rc = mm_sigv4_verify(&r, mm_keys_secret, k, id, sizeof(id), &why, &err);
	if (rc == 0) {
		mm_keys_touch(k, id, now);
		printf("ok %s\n", id);
	} else {
		printf("fail %s: %s\n", mm_sigv4_fail_type(why), err.msg);
	}
	mm_keys_close(k);
	return rc == 0 ? 0 : 1;
bad:
	fprintf(stderr, "sigv4-verify: %s is not an HTTP request\n", file);
	return 2;
}
