/* verify.c - `mamori sim verify`: compare a scan's findings with the
 * simulator's truth.json.
 *
 * Every expected finding must exist with the same type and resource, and
 * every finding with that (type, resource) must have the expected role,
 * direction (when truth gives one) and an event-time window inside the
 * expected one widened by MM_SIM_SLACK_MS (flow records are aggregated
 * over up to 10 minutes and scanners may use start or end). An entry
 * marked "optional" may be absent. A finding no expected entry claims is
 * UNEXPECTED, labelled with the benign look-alike it landed on when its
 * resource is one. Several findings for one expected (type, resource) -
 * e.g. one per indicator - are accepted as one. */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/mtime.h"
#include "sim/sim.h"

#define MM_SIM_SLACK_MS (3600 * 1000LL)
#define MAX_FILE ((size_t)1 << 30)
#define MAX_LINE ((size_t)1 << 20)

void mm_sim_found_free(struct mm_sim_found_set *s)
{
	mm_free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* Copy the string at path in obj into dst (empty when absent). */
static int get_str(const struct mm_json_val *obj, const char *path, struct mm_arena *ar, char *dst,
		   size_t cap)
{
	struct mm_json_val v;
	struct mm_str str;
	int rc = mm_json_path(obj, path, &v);

	dst[0] = '\0';
	if (rc <= 0)
		return rc;
	if ((rc = mm_json_str(&v, ar, &str)))
		return rc;
	mm_str_copy(dst, cap, str);
	return 1;
}

static int get_time(const struct mm_json_val *obj, const char *path, struct mm_arena *ar, int64_t *ms)
{
	char buf[64];
	int rc = get_str(obj, path, ar, buf, sizeof buf);
	if (rc <= 0)
		return rc < 0 ? rc : MM_ENOTFOUND;
	return mm_time_parse_iso(buf, strlen(buf), ms);
}

int mm_sim_found_add_json(struct mm_sim_found_set *s, const char *json, size_t n,
			  const char *resource, struct mm_err *err)
{
	struct mm_json_val root, nifs, nif;
	struct mm_json_iter it;
	struct mm_sim_found f;
	char scratch[8192], rtype[32], tmp[96];
	struct mm_arena ar;
	size_t used;

	mm_arena_init(&ar, scratch, sizeof scratch);
	memset(&f, 0, sizeof f);
	if (mm_json_value(json, n, &root, &used) || root.type != MM_JSON_OBJECT)
		return mm_err_set(err, MM_EPARSE, "finding is not a JSON object");
	if (get_str(&root, "type", &ar, f.type, sizeof f.type) <= 0 || !f.type[0])
		return mm_err_set(err, MM_EPARSE, "finding has no type");
	get_str(&root, "service.resourceRole", &ar, f.role, sizeof f.role);
	get_str(&root, "service.action.networkConnectionAction.connectionDirection", &ar, f.direction,
		sizeof f.direction);
	if (get_time(&root, "service.eventFirstSeen", &ar, &f.first_ms) ||
	    get_time(&root, "service.eventLastSeen", &ar, &f.last_ms))
		return mm_err_set(err, MM_EPARSE, "finding %s has no eventFirstSeen/eventLastSeen", f.type);
	get_str(&root, "resource.resourceType", &ar, rtype, sizeof rtype);
	if (!strcmp(rtype, "S3Bucket")) {
		/* "s3:BUCKET/KEY": the bucket and the caller (the store's
		 * column holds only the bucket) */
		char bucket[64] = "", key[64] = "";
		if (mm_json_path(&root, "resource.s3BucketDetails", &nifs) == 1 &&
		    nifs.type == MM_JSON_ARRAY && !mm_json_iter_init(&it, &nifs) &&
		    mm_json_iter_next(&it, NULL, &nif) == 1)
			get_str(&nif, "name", &ar, bucket, sizeof bucket);
		get_str(&root, "resource.accessKeyDetails.accessKeyId", &ar, key, sizeof key);
		snprintf(f.resource, sizeof f.resource, "s3:%s/%s", bucket, key);
	} else if (resource) {
		snprintf(f.resource, sizeof f.resource, "%s", resource);
	} else {
		if (!strcmp(rtype, "AccessKey"))
			get_str(&root, "resource.accessKeyDetails.accessKeyId", &ar, f.resource,
				sizeof f.resource);
		else
			get_str(&root, "resource.instanceDetails.instanceId", &ar, f.resource,
				sizeof f.resource);
		if (!f.resource[0] &&
		    mm_json_path(&root, "resource.instanceDetails.networkInterfaces", &nifs) == 1 &&
		    nifs.type == MM_JSON_ARRAY && !mm_json_iter_init(&it, &nifs) &&
		    mm_json_iter_next(&it, NULL, &nif) == 1) {
			get_str(&nif, "networkInterfaceId", &ar, f.resource, sizeof f.resource);
			if (!f.resource[0] && get_str(&nif, "privateIpAddress", &ar, tmp, sizeof tmp) > 0)
				snprintf(f.resource, sizeof f.resource, "ip:%s", tmp);
		}
	}
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct mm_sim_found *nv;
		if (s->n >= MM_SIM_MAX_FOUND)
			return mm_err_set(err, MM_ETOOBIG, "more than %d findings", MM_SIM_MAX_FOUND);
		nv = mm_realloc(s->v, ncap * sizeof *nv);
		if (!nv)
			return mm_err_set(err, MM_ENOMEM, "out of memory");
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = f;
	return 0;
}

/* Whole file into a NUL-terminated buffer the caller frees. */
static int slurp(const char *path, char **out, size_t *n, struct mm_err *err)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL, *np;
	size_t len = 0, cap = 0, got;
	int rc = 0;

	*out = NULL;
	if (!f)
		return mm_err_set(err, MM_EIO, "cannot read %s", path);
	for (;;) {
		if (cap - len < 65536 + 1) {
			cap = cap ? cap * 2 : 131072;
			if (cap > MAX_FILE) {
				rc = mm_err_set(err, MM_ETOOBIG, "%s: larger than 1 GiB", path);
				goto out;
			}
			if (!(np = mm_realloc(p, cap))) {
				rc = mm_err_set(err, MM_ENOMEM, "out of memory");
				goto out;
			}
			p = np;
		}
		got = fread(p + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		rc = mm_err_set(err, MM_EIO, "cannot read %s", path);
out:
	fclose(f);
	if (rc) {
		mm_free(p);
		return rc;
	}
	p[len] = '\0';
	*out = p;
	*n = len;
	return 0;
}

int mm_sim_found_load_jsonl(struct mm_sim_found_set *s, const char *path, struct mm_err *err)
{
	char *buf = NULL, *p, *end, *nl;
	size_t n, lineno = 0;
	int rc;

	if ((rc = slurp(path, &buf, &n, err)))
		return rc;
	for (p = buf, end = buf + n; p < end; p = nl + 1) {
		size_t len;
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		len = (size_t)(nl - p);
		while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		if (!len)
			continue;
		if (len > MAX_LINE) {
			rc = mm_err_set(err, MM_ETOOBIG, "%s:%zu: line longer than 1 MiB", path, lineno);
			break;
		}
		if ((rc = mm_sim_found_add_json(s, p, len, NULL, err))) {
			char why[256];
			snprintf(why, sizeof why, "%.200s", err ? err->msg : "");
			rc = mm_err_set(err, rc, "%s:%zu: %s", path, lineno, why);
			break;
		}
	}
	mm_free(buf);
	return rc;
}

struct expect {
	char type[96], resource[128], role[16], direction[16], first_s[32], last_s[32];
	int64_t first_ms, last_ms;
	int optional;
};

static int parse_expect(const struct mm_json_val *v, struct mm_arena *ar, struct expect *e)
{
	memset(e, 0, sizeof *e);
	if (v->type != MM_JSON_OBJECT || get_str(v, "type", ar, e->type, sizeof e->type) <= 0 ||
	    get_str(v, "resource", ar, e->resource, sizeof e->resource) <= 0)
		return MM_EPARSE;
	get_str(v, "role", ar, e->role, sizeof e->role);
	get_str(v, "direction", ar, e->direction, sizeof e->direction);
	{
		struct mm_json_val o;
		e->optional = mm_json_get(v, "optional", &o) == 1 && o.type == MM_JSON_TRUE;
	}
	if (get_str(v, "firstSeen", ar, e->first_s, sizeof e->first_s) <= 0 ||
	    get_str(v, "lastSeen", ar, e->last_s, sizeof e->last_s) <= 0 ||
	    mm_time_parse_iso(e->first_s, strlen(e->first_s), &e->first_ms) ||
	    mm_time_parse_iso(e->last_s, strlen(e->last_s), &e->last_ms))
		return MM_EPARSE;
	return 0;
}

/* Why f does not fit e, into why; 0 when it fits. */
static int misfit(const struct expect *e, const struct mm_sim_found *f, char *why, size_t cap)
{
	char a[MM_TIME_STRLEN], b[MM_TIME_STRLEN];
	if (e->role[0] && strcmp(e->role, f->role)) {
		snprintf(why, cap, "role %s, expected %s", f->role[0] ? f->role : "(none)", e->role);
		return 1;
	}
	if (e->direction[0] && strcmp(e->direction, f->direction)) {
		snprintf(why, cap, "direction %s, expected %s", f->direction[0] ? f->direction : "(none)",
			 e->direction);
		return 1;
	}
	if (f->first_ms < e->first_ms - MM_SIM_SLACK_MS || f->last_ms > e->last_ms + MM_SIM_SLACK_MS ||
	    f->first_ms > f->last_ms) {
		snprintf(why, cap, "seen %s..%s, outside %s..%s (+-1h)", mm_time_format_iso(f->first_ms, a),
			 mm_time_format_iso(f->last_ms, b), e->first_s, e->last_s);
		return 1;
	}
	return 0;
}

/* The "what" of the first benign entry of truth whose resource is res
 * (truncated into out), or "" when none is. */
static void lookalike_of(const struct mm_json_val *root, const char *res, char *out, size_t cap)
{
	struct mm_json_val ben, v;
	struct mm_json_iter it;
	char scratch[4096], r[128];
	struct mm_arena ar;

	out[0] = '\0';
	if (!res[0] || mm_json_get(root, "benign", &ben) != 1 || ben.type != MM_JSON_ARRAY ||
	    mm_json_iter_init(&it, &ben))
		return;
	while (mm_json_iter_next(&it, NULL, &v) == 1) {
		mm_arena_init(&ar, scratch, sizeof scratch);
		if (v.type == MM_JSON_OBJECT && get_str(&v, "resource", &ar, r, sizeof r) > 0 &&
		    !strcmp(r, res)) {
			get_str(&v, "what", &ar, out, cap);
			return;
		}
	}
}

int mm_sim_verify(const char *truth_path, struct mm_sim_found_set *s, FILE *out, int *passed,
		  int *failed, struct mm_err *err)
{
	char *buf = NULL, scratch[4096], why[256];
	struct mm_json_val root, exp, v;
	struct mm_json_iter it;
	struct mm_arena ar;
	struct expect e;
	size_t n, used, i;
	int rc, ok = 0, bad = 0, r;

	if ((rc = slurp(truth_path, &buf, &n, err)))
		return rc;
	if (mm_json_value(buf, n, &root, &used) || root.type != MM_JSON_OBJECT ||
	    mm_json_get(&root, "expected", &exp) != 1 || exp.type != MM_JSON_ARRAY ||
	    mm_json_iter_init(&it, &exp)) {
		rc = mm_err_set(err, MM_EPARSE, "%s: not a truth file (no \"expected\" array)", truth_path);
		goto out;
	}
	while ((r = mm_json_iter_next(&it, NULL, &v)) == 1) {
		int nmatch = 0, nbad = 0;
		mm_arena_init(&ar, scratch, sizeof scratch);
		if (parse_expect(&v, &ar, &e)) {
			rc = mm_err_set(err, MM_EPARSE, "%s: an expected entry lacks type/resource/firstSeen/lastSeen",
					truth_path);
			goto out;
		}
		why[0] = '\0';
		for (i = 0; i < s->n; i++) {
			struct mm_sim_found *f = &s->v[i];
			if (strcmp(f->type, e.type) || strcmp(f->resource, e.resource))
				continue;
			f->used = 1;
			nmatch++;
			if (misfit(&e, f, why, sizeof why))
				nbad++;
		}
		if (!nmatch && e.optional) {
			fprintf(out, "ok %s %s (optional, not raised)\n", e.type, e.resource);
			ok++;
		} else if (!nmatch) {
			fprintf(out, "MISSING %s %s %s%s%s %s..%s\n", e.type, e.resource, e.role,
				e.direction[0] ? " " : "", e.direction, e.first_s, e.last_s);
			bad++;
		} else if (nbad) {
			fprintf(out, "MISMATCH %s %s: %s\n", e.type, e.resource, why);
			bad++;
		} else {
			fprintf(out, "ok %s %s%s\n", e.type, e.resource,
				nmatch > 1 ? " (several findings)" : "");
			ok++;
		}
	}
	if (r < 0) {
		rc = mm_err_set(err, MM_EPARSE, "%s: malformed \"expected\" array", truth_path);
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		char a[MM_TIME_STRLEN], b[MM_TIME_STRLEN], la[200];
		const struct mm_sim_found *f = &s->v[i];
		if (f->used)
			continue;
		lookalike_of(&root, f->resource, la, sizeof la);
		fprintf(out, "UNEXPECTED %s %s %s%s%s %s..%s%s%s\n", f->type, f->resource, f->role,
			f->direction[0] ? " " : "", f->direction, mm_time_format_iso(f->first_ms, a),
			mm_time_format_iso(f->last_ms, b), la[0] ? " on look-alike: " : "", la);
		bad++;
	}
	fprintf(out, "%d passed, %d failed\n", ok, bad);
	*passed = ok;
	*failed = bad;
out:
	mm_free(buf);
	return rc;
}
