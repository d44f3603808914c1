/* listfetch.c - read a list from a path or URL. */
#include "intel/listfmt.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t sink(char *p, size_t sz, size_t nm, void *ctx)
{
	struct mm_buf *b = ctx;
	size_t n = sz * nm;
	return mm_buf_add(b, p, n) ? 0 : n; /* 0 aborts the transfer (too big) */
}

static int fetch_url(const char *url, struct mm_buf *out, struct mm_err *err)
{
	CURL *c;
	CURLcode rc;
	long status = 0;
	char eb[CURL_ERROR_SIZE] = "";

	pthread_once(&curl_once, curl_init);
	if (!(c = curl_easy_init()))
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)MM_LIST_FETCH_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, eb);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mamori");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc == CURLE_WRITE_ERROR)
		return mm_err_set(err, MM_ETOOBIG, "%s: larger than %u MiB", url,
				  MM_LIST_MAX_BYTES >> 20);
	if (rc != CURLE_OK)
		return mm_err_set(err, MM_EIO, "%s: %s", url, eb[0] ? eb : curl_easy_strerror(rc));
	if (status < 200 || status > 299)
		return mm_err_set(err, MM_EIO, "%s: HTTP status %ld", url, status);
	return 0;
}

static int fetch_file(const char *path, struct mm_buf *out, struct mm_err *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	if (!f)
		return mm_err_set(err, MM_EIO, "cannot read %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (mm_buf_add(out, chunk, n)) {
			fclose(f);
			return mm_err_set(err, MM_ETOOBIG, "%s: larger than %u MiB", path,
					  MM_LIST_MAX_BYTES >> 20);
		}
	if (ferror(f)) {
		fclose(f);
		return mm_err_set(err, MM_EIO, "reading %s failed", path);
	}
	fclose(f);
	return 0;
}

int mm_list_fetch(const char *location, struct mm_buf *out, struct mm_err *err)
{
	if (!strncmp(location, "http://", 7) || !strncmp(location, "https://", 8))
		return fetch_url(location, out, err);
	if (!strncmp(location, "file://", 7))
		return fetch_file(location + 7, out, err);
	if (!strncmp(location, "s3://", 5))
		return mm_err_set(err, MM_EINVAL,
				  "%s: mamori does not read S3 itself; give an https:// URL "
				  "(a presigned one works) or a local path", location);
	if (strstr(location, "://"))
		return mm_err_set(err, MM_EINVAL, "%s: give a path, file://, http:// or https://",
				  location);
	return fetch_file(location, out, err);
}
