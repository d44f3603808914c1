/* util.c - small parsers shared by the subcommands (cli.h).
 *
 * Severity words map to the bottom of GuardDuty's bands (High 7.0-8.9,
 * Medium 4.0-6.9, Low 1.0-3.9) because every caller uses them as a
 * minimum ("--severity high" = at least high). */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stdio.h>

#include "config/config.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "intel/intel.h"

int mm_cli_parse_severity(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return MM_EINVAL;
	if (strcasecmp(s, "high") == 0) {
		*out = 7.0;
		return 0;
	}
	if (strcasecmp(s, "medium") == 0 || strcasecmp(s, "med") == 0) {
		*out = 4.0;
		return 0;
	}
	if (strcasecmp(s, "low") == 0) {
		*out = 1.0;
		return 0;
	}
	if (!(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return MM_EINVAL;	/* no sign, no "inf"/"nan" */
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0.0 && v <= 10.0))
		return MM_EINVAL;
	*out = v;
	return 0;
}

int mm_cli_parse_since(const char *s, long long *out_ms)
{
	size_t n, i;
	int64_t ms;
	long long num = 0, unit;

	if (!s)
		return MM_EINVAL;
	n = strlen(s);
	if (n == 0 || n > 64)
		return MM_EINVAL;
	/* Relative: digits followed by one unit letter. Bounded to 100 years
	 * so the multiplication cannot overflow. */
	for (i = 0; i < n && isdigit((unsigned char)s[i]); i++) {
		num = num * 10 + (s[i] - '0');
		if (num > 100LL * 366 * 24 * 3600)
			return MM_EINVAL;
	}
	if (i > 0 && i == n - 1 && !isdigit((unsigned char)s[n - 1]) && n < 20) {
		switch (s[n - 1]) {
		case 's': unit = 1000LL; break;
		case 'm': unit = 60LL * 1000; break;
		case 'h': unit = 3600LL * 1000; break;
		case 'd': unit = 86400LL * 1000; break;
		case 'w': unit = 7LL * 86400 * 1000; break;
		default: return MM_EINVAL;
		}
		if (num * (unit / 1000) > 100LL * 366 * 86400)
			return MM_EINVAL;
		*out_ms = (long long)mm_now_ms() - num * unit;
		return 0;
	}
	if (mm_time_parse_iso(s, n, &ms))
		return MM_EINVAL;
	*out_ms = (long long)ms;
	return 0;
}

/* ---- --options-file --------------------------------------------------- */

/* Words read so far from all files (a growable owned array). */
struct words {
	char **w;
	int n, cap;
};

static int words_push(struct words *ws, char *w, struct mm_err *err)
{
	if (ws->n == ws->cap) {
		int ncap = ws->cap ? ws->cap * 2 : 16;
		char **nw = mm_realloc(ws->w, (size_t)ncap * sizeof(*nw));
		if (!nw) {
			mm_free(w);
			return mm_err_set(err, MM_ENOMEM, "out of memory");
		}
		ws->w = nw;
		ws->cap = ncap;
	}
	ws->w[ws->n++] = w;
	return 0;
}

/* dir + "/" + p unless p is absolute or dir is empty; caller frees. */
static char *resolve_rel(const char *dir, const char *p)
{
	size_t n;
	char *out;

	if (p[0] == '/' || !dir[0])
		return mm_strdup(p);
	n = strlen(dir) + strlen(p) + 2;
	out = mm_malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", dir, p);
	return out;
}

/* prefix (n bytes) + resolved value; caller frees. */
static char *with_prefix(const char *prefix, size_t n, const char *dir, const char *val)
{
	char *rp = resolve_rel(dir, val), *w = NULL;
	size_t m;

	if (!rp)
		return NULL;
	m = n + strlen(rp) + 1;
	w = mm_malloc(m);
	if (w)
		snprintf(w, m, "%.*s%s", (int)n, prefix, rp);
	mm_free(rp);
	return w;
}

/* 1: the option's value is a path; 2: a [CAT=]PATH list; 0: neither. */
static int path_opt(const char *w, size_t n)
{
	static const char *const paths[] = {"--db", "--inventory", "--trusted-ips", "--config", "--geo",
						   "--geoip"};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strlen(paths[i]) == n && memcmp(w, paths[i], n) == 0)
			return 1;
	if (n == 13 && memcmp(w, "--threat-list", 13) == 0)
		return 2;
	return 0;
}

/* The value word of a path option, resolved against dir. */
static char *resolve_value(int kind, const char *dir, const char *v)
{
	const char *eq = kind == 2 ? strchr(v, '=') : NULL;
	enum mm_intel_cat cat;
	char word[32];

	/* CAT=PATH when the part before '=' is a category (as scan reads it) */
	if (eq && (size_t)(eq - v) < sizeof(word)) {
		snprintf(word, sizeof(word), "%.*s", (int)(eq - v), v);
		if (mm_intel_cat_parse(word, &cat) == 0)
			return with_prefix(v, (size_t)(eq - v) + 1, dir, eq + 1);
	}
	return resolve_rel(dir, v);
}

static int read_file(const char *path, struct words *ws, int *total, struct mm_err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, dir[PATH_MAX];
	const char *slash;
	int prev = 0, rc = 0;
	unsigned long lineno = 0;

	if (!f)
		return mm_err_set(err, MM_EIO, "cannot open options file %s: %s", path,
				  strerror(errno));
	line = mm_malloc(MM_CLI_MAX_WORD + 2);
	if (!line) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	while (fgets(line, MM_CLI_MAX_WORD + 2, f)) {
		size_t n = strlen(line);
		char *w, *s = line, *eq;

		lineno++;
		if (n && line[n - 1] != '\n' && !feof(f)) {
			rc = mm_err_set(err, MM_EINVAL, "%s:%lu: line longer than %d bytes", path,
					lineno, MM_CLI_MAX_WORD);
			goto out;
		}
		while (n && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		if (++*total > MM_CLI_MAX_FILE_WORDS) {
			rc = mm_err_set(err, MM_EINVAL,
					"%s:%lu: more than %d words in the options files together", path,
					lineno, MM_CLI_MAX_FILE_WORDS);
			goto out;
		}
		eq = strchr(s, '=');
		if (prev)
			w = resolve_value(prev, dir, s);
		else if (s[0] == '-' && eq && path_opt(s, (size_t)(eq - s)))
			w = with_prefix(s, (size_t)(eq - s) + 1, dir, eq + 1);
		else
			w = mm_strdup(s);
		if (!w) {
			rc = mm_err_set(err, MM_ENOMEM, "out of memory");
			goto out;
		}
		/* the option named on this line takes the next line as its value */
		prev = prev ? 0 : path_opt(s, strlen(s));
		if ((rc = words_push(ws, w, err)))
			goto out;
	}
	if (ferror(f))
		rc = mm_err_set(err, MM_EIO, "%s: read error", path);
out:
	mm_free(line);
	fclose(f);
	return rc;
}

void mm_cli_args_free(struct mm_cli_args *a)
{
	int i;

	for (i = 0; i < a->nowned; i++)
		mm_free(a->owned[i]);
	mm_free(a->owned);
	mm_free(a->argv);
	memset(a, 0, sizeof(*a));
}

int mm_cli_splice_options(int argc, char **argv, struct mm_cli_args *out, struct mm_err *err)
{
	struct words ws = {NULL, 0, 0};
	const char *files[MM_CLI_MAX_OPTFILES];
	int nfiles = 0, total = 0, i, k = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	for (i = 1; i < argc; i++) {
		const char *f = NULL;
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--options-file")) {
			if (i + 1 >= argc)
				break; /* getopt reports the missing value */
			f = argv[++i];
		} else if (!strncmp(argv[i], "--options-file=", 15)) {
			f = argv[i] + 15;
		}
		if (!f)
			continue;
		if (nfiles >= MM_CLI_MAX_OPTFILES) {
			rc = mm_err_set(err, MM_EINVAL, "more than %d --options-file",
					MM_CLI_MAX_OPTFILES);
			goto fail;
		}
		files[nfiles++] = f;
	}
	for (i = 0; i < nfiles; i++)
		if ((rc = read_file(files[i], &ws, &total, err)))
			goto fail;
	out->argv = mm_calloc((size_t)argc + (size_t)ws.n + 1, sizeof(char *));
	if (!out->argv) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto fail;
	}
	if (argc > 0)
		out->argv[k++] = argv[0];
	for (i = 0; i < ws.n; i++)
		out->argv[k++] = ws.w[i];
	for (i = 1; i < argc; i++)
		out->argv[k++] = argv[i];
	out->argv[k] = NULL;
	out->argc = k;
	out->owned = ws.w;
	out->nowned = ws.n;
	return 0;
fail:
	for (i = 0; i < ws.n; i++)
		mm_free(ws.w[i]);
	mm_free(ws.w);
	memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- --config ------------------------------------------------------------ */

int mm_cli_load_config(const char *cmd, const char *path, struct mm_config **out)
{
	struct mm_err err;
	int rc;

	*out = NULL;
	if (!path) {
		path = getenv("MAMORI_CONFIG");
		if (path && !*path)
			path = NULL;
	}
	if (!path)
		return MM_EXIT_OK;
	mm_err_clear(&err);
	if ((rc = mm_config_load(out, path, &err))) {
		fprintf(stderr, "mamori %s: %s\n", cmd, err.msg[0] ? err.msg : mm_strerror(rc));
		return rc == MM_ENOMEM ? MM_EXIT_ERROR : MM_EXIT_USAGE;
	}
	return MM_EXIT_OK;
}
