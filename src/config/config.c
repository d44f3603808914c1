/* config.c - the YAML configuration file (config.h), read with libyaml's
 * event parser.
 *
 * The schema is two levels deep: a mapping of sections, each a mapping
 * of setting: scalar. The loader walks libyaml's events against that
 * shape and stops at the first event that does not fit it, so nesting
 * depth, anchors and aliases (a "billion laughs" file) never get further
 * than one event; the file size (MM_CONFIG_MAX_BYTES) bounds what
 * libyaml itself holds, and names and values are bounded too. Every
 * error names the file, line and column of the offending event (1-based,
 * like compilers), the reason and what to write instead.
 *
 * Values are typed by YAML's own rules: only plain (unquoted) scalars
 * are numbers or booleans, so `enabled: "false"` is an error rather
 * than a truthy string. libyaml allocates with the C library's malloc
 * (it has no hook); everything this file keeps goes through mm_malloc. */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/mem.h"
#include "agent/respond.h"

/* One detector's section as the file gave it. */
struct section {
	int enabled;		/* 1 unless the file says false */
	int given;		/* the section appeared */
	uint64_t set;		/* bit i: param i given; bit 63: `enabled` given */
	double val[MM_PARAMS_MAX];
};
#define ENABLED_BIT (1ull << 63)

struct mm_config {
	const struct mm_detector_def *const *dets;	/* borrowed */
	int ndets;
	struct section *sec;				/* ndets of them, in dets order */
	uint32_t topset;				/* bit i: topsecs[i] given */
	struct mm_config_serve *serve;			/* the serve: section, NULL if none */
	char source[512];
	struct mm_respond_rules *respond;		/* the respond: section, NULL if none */
};

/* ---- the loader ---------------------------------------------------------- */

struct loader {
	yaml_parser_t p;
	const char *name;	/* for locations */
	const char *buf;	/* the whole input (reader errors are located in it) */
	size_t n;
	struct mm_config *cfg;
	struct mm_err *err;
};

/* ---- top-level sections that are not detectors ---------------------------
 *
 * The extension point for settings that belong to no detector (the
 * coming `serve:` section: listen address, database, ...). A section
 * here is parsed by its own hook, given the event that starts its value
 * (the hook consumes the whole value: for a mapping, through its
 * MAPPING_END), and printed by `config show` after the detectors. Its
 * state lives in struct mm_config. A name here must not be a detector's
 * (checked at load). Keep the table in the order `config show` prints. */
struct topsec {
	const char *name;
	int (*parse)(struct loader *L, yaml_event_t *value);
	void (*show)(const struct mm_config *cfg, FILE *out);
};
static int parse_serve(struct loader *L, yaml_event_t *value);
static void show_serve(const struct mm_config *cfg, FILE *out);
static int parse_respond(struct loader *L, yaml_event_t *value);
static void show_respond(const struct mm_config *cfg, FILE *out);
static const struct topsec topsecs[] = {
	{"serve", parse_serve, show_serve},
	{"respond", parse_respond, show_respond},
	{NULL, NULL, NULL},
};

/* printable copy of a scalar for messages: bounded, controls as '?' */
static const char *shown(const yaml_event_t *ev, char *b, size_t cap)
{
	const unsigned char *s = ev->data.scalar.value;
	size_t n = ev->data.scalar.length, i, k = 0;
	for (i = 0; i < n && k + 4 < cap; i++)
		b[k++] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
	if (i < n) {
		b[k++] = '.';
		b[k++] = '.';
		b[k++] = '.';
	}
	b[k] = '\0';
	return b;
}

/* "name:line:col: " + message; returns code */
static int fail_at(struct loader *L, int code, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(struct loader *L, int code, yaml_mark_t m, const char *fmt, ...)
{
	char msg[480];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mm_err_set(L->err, code, "%s:%lu:%lu: %s", L->name, (unsigned long)m.line + 1,
			  (unsigned long)m.column + 1, msg);
}

/* libyaml's own error, located at its mark */
static int yaml_fail(struct loader *L)
{
	yaml_parser_t *p = &L->p;
	yaml_mark_t m = p->problem_mark;
	const char *what = p->problem ? p->problem : "malformed YAML";

	if (p->error == YAML_MEMORY_ERROR)
		return mm_err_set(L->err, MM_ENOMEM, "%s: out of memory", L->name);
	if (p->error == YAML_READER_ERROR) {
		/* the reader has an offset, not a mark: count lines up to it */
		size_t i, off = p->problem_offset < L->n ? p->problem_offset : L->n;
		memset(&m, 0, sizeof(m));
		for (i = 0; i < off; i++) {
			if (L->buf[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		return fail_at(L, MM_EPARSE, m,
			       "not valid YAML text: %s; save the file as UTF-8 text without "
			       "control characters",
			       what);
	}
	if (p->context)
		return fail_at(L, MM_EPARSE, m,
			       "YAML syntax error: %s (%s at line %lu); check the indentation and "
			       "quoting there",
			       what, p->context, (unsigned long)p->context_mark.line + 1);
	return fail_at(L, MM_EPARSE, m,
		       "YAML syntax error: %s; check the indentation and quoting there", what);
}

/* Next event into ev (caller deletes it), refusing what a config never
 * needs: anchors, aliases and tags. */
static int next(struct loader *L, yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	if (!yaml_parser_parse(&L->p, ev))
		return yaml_fail(L);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		anchor = ev->data.alias.anchor;
		break;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		return 0;
	}
	if (anchor || tag) {
		int rc = fail_at(L, MM_EINVAL, ev->start_mark,
				 "YAML %s are not used in a mamori config; write the value out",
				 ev->type == YAML_ALIAS_EVENT ? "aliases (*name)"
				 : anchor		       ? "anchors (&name)"
							       : "tags (!name)");
		yaml_event_delete(ev);
		return rc;
	}
	return 0;
}

static const char *kind_word(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		return "a single value";
	default:
		return "nothing";
	}
}

static int is_plain(const yaml_event_t *ev)
{
	return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A YAML null: empty plain scalar, ~ or null. */
static int is_null(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	return is_plain(ev) && (n == 0 || (n == 1 && s[0] == '~') ||
				(n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) ||
					    !memcmp(s, "NULL", 4))));
}

static int scalar_is(const yaml_event_t *ev, const char *z)
{
	size_t n = strlen(z);
	return ev->data.scalar.length == n && memcmp(ev->data.scalar.value, z, n) == 0;
}

/* YAML 1.1 booleans: true/false, yes/no, on/off in any case. 0 or -1. */
static int parse_bool(const yaml_event_t *ev, int *out)
{
	static const char *const t[] = {"true", "yes", "on"}, *const f[] = {"false", "no", "off"};
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length, i;

	if (!is_plain(ev))
		return -1;
	for (i = 0; i < 3; i++) {
		if (n == strlen(t[i]) && strncasecmp(s, t[i], n) == 0) {
			*out = 1;
			return 0;
		}
		if (n == strlen(f[i]) && strncasecmp(s, f[i], n) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* A decimal number: [+-]digits[.digits][e[+-]digits], '_' allowed
 * between digits (10_000). No hex, no inf/nan. 0 or -1. */
static int parse_number(const yaml_event_t *ev, double *out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length, i = 0, k = 0;
	char b[MM_CONFIG_MAX_VALUE + 1], *end;
	int digits = 0;
	double v;

	if (!is_plain(ev) || n == 0 || n > MM_CONFIG_MAX_VALUE)
		return -1;
	if (s[i] == '+' || s[i] == '-')
		b[k++] = s[i++];
	for (; i < n; i++) {
		char c = s[i];
		if (isdigit((unsigned char)c)) {
			b[k++] = c;
			digits++;
		} else if (c == '_' && i > 0 && isdigit((unsigned char)s[i - 1]) && i + 1 < n &&
			   isdigit((unsigned char)s[i + 1])) {
			continue;
		} else {
			break;
		}
	}
	if (i < n && s[i] == '.') {
		b[k++] = s[i++];
		for (; i < n && isdigit((unsigned char)s[i]); i++, digits++)
			b[k++] = s[i];
	}
	if (!digits)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int ed = 0;
		b[k++] = s[i++];
		if (i < n && (s[i] == '+' || s[i] == '-'))
			b[k++] = s[i++];
		for (; i < n && isdigit((unsigned char)s[i]); i++, ed++)
			b[k++] = s[i];
		if (!ed)
			return -1;
	}
	if (i != n)
		return -1;
	b[k] = '\0';
	errno = 0;
	v = strtod(b, &end);
	if (*end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* Shortest text that reads back as v exactly. */
static const char *fmt_num(double v, char *b, size_t cap)
{
	snprintf(b, cap, "%.15g", v);
	if (strtod(b, NULL) != v)
		snprintf(b, cap, "%.17g", v);
	return b;
}

/* Edit distance, for "did you mean"; names are short (bounded by the
 * key cap), so two rows on the stack do. */
static size_t distance(const char *a, size_t na, const char *b, size_t nb)
{
	size_t row[MM_CONFIG_MAX_KEY + 1], i, j;
	if (na > MM_CONFIG_MAX_KEY || nb > MM_CONFIG_MAX_KEY)
		return (size_t)-1;
	for (j = 0; j <= nb; j++)
		row[j] = j;
	for (i = 1; i <= na; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (j = 1; j <= nb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[nb];
}

/* Collects "known: a, b, c" and the closest name to a typo. */
struct known {
	char list[300];
	size_t len;
	int full;
	const char *near;
	size_t near_d;
	const yaml_event_t *key;
};

static void known_init(struct known *k, const yaml_event_t *key)
{
	k->list[0] = '\0';
	k->len = 0;
	k->full = 0;
	k->near = NULL;
	k->near_d = (size_t)-1;
	k->key = key;
}

static void known_add(struct known *k, const char *name)
{
	size_t n = strlen(name), d;
	const char *sep = k->len ? ", " : "";
	if (!k->full && k->len + strlen(sep) + n + 6 < sizeof(k->list)) {
		k->len += (size_t)snprintf(k->list + k->len, sizeof(k->list) - k->len, "%s%s", sep,
					   name);
	} else if (!k->full) { /* room for ", ..." was kept */
		k->len += (size_t)snprintf(k->list + k->len, sizeof(k->list) - k->len, ", ...");
		k->full = 1;
	}
	d = distance((const char *)k->key->data.scalar.value, k->key->data.scalar.length, name, n);
	/* a near miss: at most 2 edits, and fewer than half the name */
	if (d <= 2 && d * 2 < n && d < k->near_d) {
		k->near = name;
		k->near_d = d;
	}
}

/* "; did you mean 'x'?" or "" */
static const char *known_hint(const struct known *k, char *b, size_t cap)
{
	if (!k->near)
		return "";
	snprintf(b, cap, "; did you mean '%s'?", k->near);
	return b;
}

/* A name (section or setting): a plain or quoted scalar within the cap. */
static int check_key(struct loader *L, const yaml_event_t *ev, const char *what)
{
	if (ev->type != YAML_SCALAR_EVENT)
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "a %s name must be a word, not %s; write `name: value` lines", what,
			       kind_word(ev));
	if (ev->data.scalar.length > MM_CONFIG_MAX_KEY)
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "%s name longer than %d bytes; no mamori %s is named like that "
			       "(see `mamori config show`)",
			       what, MM_CONFIG_MAX_KEY, what);
	return 0;
}

static const char *unit_of(const struct mm_param *pr)
{
	return pr->unit && pr->unit[0] ? pr->unit : "number";
}

/* The value of `enabled` in section sname, or of param pr. */
static int parse_value(struct loader *L, const char *sname, const char *key,
		       const struct mm_param *pr, const yaml_event_t *ev, double *out)
{
	char vb[MM_CONFIG_MAX_VALUE + 8], lo[32], hi[32], def[32];
	int b;

	if (ev->type != YAML_SCALAR_EVENT)
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "setting '%s' in section '%s' takes %s, not %s", key, sname,
			       pr ? "a number" : "true or false", kind_word(ev));
	if (!pr) {
		if (parse_bool(ev, &b) == 0) {
			*out = b;
			return 0;
		}
		if (is_null(ev))
			return fail_at(L, MM_EINVAL, ev->start_mark,
				       "setting 'enabled' in section '%s' has no value; write true "
				       "or false",
				       sname);
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "setting 'enabled' in section '%s' takes true or false (also yes/no, "
			       "on/off), not '%s'%s",
			       sname, shown(ev, vb, sizeof(vb)),
			       is_plain(ev) ? "" : "; write it without quotes");
	}
	fmt_num(pr->min, lo, sizeof(lo));
	fmt_num(pr->max, hi, sizeof(hi));
	fmt_num(pr->def, def, sizeof(def));
	if (is_null(ev))
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "setting '%s' in section '%s' has no value; give a number from %s "
			       "to %s (%s), or remove the line to keep the default %s",
			       key, sname, lo, hi, unit_of(pr), def);
	if (pr->unit && !strcmp(pr->unit, "bool") && parse_bool(ev, &b) == 0) {
		*out = b;
	} else if (parse_number(ev, out)) {
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "setting '%s' in section '%s' takes a number from %s to %s (%s), not "
			       "'%s'%s",
			       key, sname, lo, hi, unit_of(pr), shown(ev, vb, sizeof(vb)),
			       is_plain(ev) ? "" : "; write it without quotes");
	}
	if (pr->unit && !strcmp(pr->unit, "bool") && *out != 0 && *out != 1)
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "setting '%s' in section '%s' takes true or false (or 1/0), not '%s'",
			       key, sname, shown(ev, vb, sizeof(vb)));
	if (!(*out >= pr->min && *out <= pr->max))
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "setting '%s' in section '%s' is %s, out of range; use a value from "
			       "%s to %s (%s; default %s)",
			       key, sname, shown(ev, vb, sizeof(vb)), lo, hi, unit_of(pr), def);
	return 0;
}

/* The mapping of one detector's section, after its MAPPING_START. */
static int parse_detector(struct loader *L, int di)
{
	const struct mm_detector_def *d = L->cfg->dets[di];
	struct section *s = &L->cfg->sec[di];
	int np = mm_detector_nparams(d), rc = 0, i;
	yaml_event_t k, v;
	yaml_mark_t first[MM_PARAMS_MAX + 1];

	for (;;) {
		char kb[MM_CONFIG_MAX_KEY + 8];
		const struct mm_param *pr = NULL;
		uint64_t bit;
		double val = 0;
		int idx = -1;

		if ((rc = next(L, &k)))
			return rc;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return 0;
		}
		if ((rc = check_key(L, &k, "setting")))
			goto out_k;
		if (scalar_is(&k, "enabled")) {
			bit = ENABLED_BIT;
			idx = MM_PARAMS_MAX;
		} else {
			for (i = 0; i < np; i++)
				if (scalar_is(&k, d->params[i].name))
					break;
			if (i == np) {
				struct known kn;
				char hint[96];
				known_init(&kn, &k);
				known_add(&kn, "enabled");
				for (i = 0; i < np; i++)
					known_add(&kn, d->params[i].name);
				rc = fail_at(L, MM_EINVAL, k.start_mark,
					     "unknown setting '%s' in section '%s'%s (known: %s; see "
					     "`mamori config show`)",
					     shown(&k, kb, sizeof(kb)), d->name,
					     known_hint(&kn, hint, sizeof(hint)), kn.list);
				goto out_k;
			}
			pr = &d->params[i];
			bit = 1ull << i;
			idx = i;
		}
		if (s->set & bit) {
			rc = fail_at(L, MM_EINVAL, k.start_mark,
				     "duplicate setting '%s' in section '%s' (first given at line "
				     "%lu); keep one",
				     shown(&k, kb, sizeof(kb)), d->name,
				     (unsigned long)first[idx].line + 1);
			goto out_k;
		}
		first[idx] = k.start_mark;
		if ((rc = next(L, &v)))
			goto out_k;
		rc = parse_value(L, d->name, shown(&k, kb, sizeof(kb)), pr, &v, &val);
		yaml_event_delete(&v);
		if (rc)
			goto out_k;
		s->set |= bit;
		if (pr)
			s->val[idx] = val;
		else
			s->enabled = val != 0;
		yaml_event_delete(&k);
	}
out_k:
	yaml_event_delete(&k);
	return rc;
}

static int find_det(const struct mm_config *cfg, const char *name, size_t n)
{
	int i;
	for (i = 0; i < cfg->ndets; i++)
		if (strlen(cfg->dets[i]->name) == n && memcmp(cfg->dets[i]->name, name, n) == 0)
			return i;
	return -1;
}

/* The top-level mapping, after its MAPPING_START. */
static int parse_top(struct loader *L)
{
	struct mm_config *cfg = L->cfg;
	yaml_event_t k, v;
	int rc = 0, i;
	yaml_mark_t *firstdet = NULL, firsttop[MM_ARRAY_LEN(topsecs)];

	firstdet = mm_calloc((size_t)cfg->ndets + 1, sizeof(*firstdet));
	if (!firstdet)
		return mm_err_set(L->err, MM_ENOMEM, "out of memory");
	for (;;) {
		char kb[MM_CONFIG_MAX_KEY + 8];
		const char *key;
		size_t kn;
		int di, ti = -1;
		yaml_mark_t *first;

		if ((rc = next(L, &k)))
			goto out;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			goto out;
		}
		if ((rc = check_key(L, &k, "section")))
			goto out_k;
		key = (const char *)k.data.scalar.value;
		kn = k.data.scalar.length;
		di = find_det(cfg, key, kn);
		if (di < 0)
			for (i = 0; topsecs[i].name; i++)
				if (strlen(topsecs[i].name) == kn && !memcmp(topsecs[i].name, key, kn))
					ti = i;
		if (di < 0 && ti < 0) {
			struct known kw;
			char hint[96];
			known_init(&kw, &k);
			for (i = 0; i < cfg->ndets; i++)
				known_add(&kw, cfg->dets[i]->name);
			for (i = 0; topsecs[i].name; i++)
				known_add(&kw, topsecs[i].name);
			rc = fail_at(L, MM_EINVAL, k.start_mark,
				     "unknown section '%s'%s (known: %s; each detector is a section, "
				     "see `mamori config show`)",
				     shown(&k, kb, sizeof(kb)), known_hint(&kw, hint, sizeof(hint)),
				     kw.list);
			goto out_k;
		}
		first = di >= 0 ? &firstdet[di] : &firsttop[ti];
		if (di >= 0 ? cfg->sec[di].given : (int)(cfg->topset >> ti & 1)) {
			rc = fail_at(L, MM_EINVAL, k.start_mark,
				     "duplicate section '%s' (first given at line %lu); merge the two "
				     "into one",
				     shown(&k, kb, sizeof(kb)), (unsigned long)first->line + 1);
			goto out_k;
		}
		*first = k.start_mark;
		if ((rc = next(L, &v)))
			goto out_k;
		if (ti >= 0) {
			cfg->topset |= 1u << ti;
			rc = topsecs[ti].parse(L, &v);
		} else {
			cfg->sec[di].given = 1;
			if (v.type == YAML_MAPPING_START_EVENT)
				rc = parse_detector(L, di);
			else if (!is_null(&v)) /* `name:` alone: an empty section */
				rc = fail_at(L, MM_EINVAL, v.start_mark,
					     "section '%s' must be a mapping of setting: value, not %s "
					     "(e.g. `%s: {enabled: false}`)",
					     cfg->dets[di]->name, kind_word(&v), cfg->dets[di]->name);
		}
		yaml_event_delete(&v);
		if (rc)
			goto out_k;
		yaml_event_delete(&k);
	}
out_k:
	yaml_event_delete(&k);
out:
	mm_free(firstdet);
	return rc;
}

/* stream: at most one document, holding a mapping or nothing */
static int parse_stream(struct loader *L)
{
	yaml_event_t ev;
	int rc;

	if ((rc = next(L, &ev)))
		return rc;
	yaml_event_delete(&ev); /* STREAM_START */
	if ((rc = next(L, &ev)))
		return rc;
	if (ev.type == YAML_STREAM_END_EVENT) { /* empty or comments only */
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* DOCUMENT_START */
	if ((rc = next(L, &ev)))
		return rc;
	if (ev.type == YAML_MAPPING_START_EVENT) {
		rc = parse_top(L);
	} else if (!is_null(&ev)) {
		rc = fail_at(L, MM_EINVAL, ev.start_mark,
			     "a mamori config is a mapping of sections (one per detector, "
			     "`threatintel:` ...), not %s; see `mamori config show` for one",
			     kind_word(&ev));
	}
	yaml_event_delete(&ev);
	if (rc)
		return rc;
	if ((rc = next(L, &ev)))
		return rc;
	yaml_event_delete(&ev); /* DOCUMENT_END */
	if ((rc = next(L, &ev)))
		return rc;
	if (ev.type != YAML_STREAM_END_EVENT)
		rc = fail_at(L, MM_EINVAL, ev.start_mark,
			     "a second YAML document ('---'); a mamori config is one document: "
			     "merge them");
	yaml_event_delete(&ev);
	return rc;
}

static int config_new(struct mm_config **out, const struct mm_detector_def *const *dets,
		      struct mm_err *err)
{
	struct mm_config *cfg;
	int i, j;

	*out = NULL;
	if (!dets)
		dets = mm_detectors;
	cfg = mm_calloc(1, sizeof(*cfg));
	if (!cfg)
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	cfg->dets = dets;
	while (dets[cfg->ndets])
		cfg->ndets++;
	cfg->sec = mm_calloc((size_t)cfg->ndets + 1, sizeof(*cfg->sec));
	if (!cfg->sec) {
		mm_config_free(cfg);
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	}
	for (i = 0; i < cfg->ndets; i++) {
		cfg->sec[i].enabled = 1;
		if (mm_detector_nparams(dets[i]) > MM_PARAMS_MAX) {
			mm_config_free(cfg);
			return mm_err_set(err, MM_EINVAL, "detector %s: more than %d params",
					  dets[i]->name, MM_PARAMS_MAX);
		}
		mm_detector_defaults(dets[i], cfg->sec[i].val);
		/* a section name is a detector or a top-level section, never both */
		for (j = 0; topsecs[j].name; j++)
			if (!strcmp(topsecs[j].name, dets[i]->name)) {
				mm_config_free(cfg);
				return mm_err_set(err, MM_EINVAL,
						  "detector %s has a top-level section's name",
						  dets[i]->name);
			}
	}
	*out = cfg;
	return 0;
}

int mm_config_parse(struct mm_config **out, const char *name, const char *buf, size_t n,
		    const struct mm_detector_def *const *dets, struct mm_err *err)
{
	struct loader L;
	int rc;

	*out = NULL;
	if (n > MM_CONFIG_MAX_BYTES)
		return mm_err_set(err, MM_ETOOBIG,
				  "%s: larger than %u bytes; a mamori config is a few kilobytes: "
				  "is this the right file?",
				  name, MM_CONFIG_MAX_BYTES);
	memset(&L, 0, sizeof(L));
	if ((rc = config_new(&L.cfg, dets, err)))
		return rc;
	snprintf(L.cfg->source, sizeof(L.cfg->source), "%s", name);
	if (!yaml_parser_initialize(&L.p)) {
		mm_config_free(L.cfg);
		return mm_err_set(err, MM_ENOMEM, "out of memory");
	}
	L.name = name;
	L.buf = buf;
	L.n = n;
	L.err = err;
	yaml_parser_set_input_string(&L.p, (const unsigned char *)buf, n);
	rc = parse_stream(&L);
	yaml_parser_delete(&L.p);
	if (rc) {
		mm_config_free(L.cfg);
		return rc;
	}
	*out = L.cfg;
	return 0;
}

int mm_config_load_mem(struct mm_config **out, const char *name, const char *buf, size_t n,
		       struct mm_err *err)
{
	return mm_config_parse(out, name, buf, n, NULL, err);
}

int mm_config_load(struct mm_config **out, const char *path, struct mm_err *err)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	if (!path)
		return 0;
	if (!(f = fopen(path, "rb")))
		return mm_err_set(err, MM_EIO, "cannot open config file %s: %s", path,
				  strerror(errno));
	/* one byte more than the cap tells "too big" from "exactly the cap" */
	if (!(buf = mm_malloc(MM_CONFIG_MAX_BYTES + 1))) {
		rc = mm_err_set(err, MM_ENOMEM, "out of memory");
		goto out;
	}
	n = fread(buf, 1, MM_CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		rc = mm_err_set(err, MM_EIO, "cannot read config file %s: %s", path,
				strerror(errno));
		goto out;
	}
	rc = mm_config_parse(out, path, buf, n, NULL, err);
out:
	mm_free(buf);
	fclose(f);
	return rc;
}

void mm_config_free(struct mm_config *cfg)
{
	if (!cfg)
		return;
	mm_free(cfg->sec);
	mm_free(cfg->serve);
	mm_free(cfg->respond);
	mm_free(cfg);
}

/* ---- the serve: section ---------------------------------------------------
 *
 * A mapping of settings; `follow` and a sink's `types` and `to` are a
 * list or one value; `sinks` is a list of mappings. Only these shapes
 * are walked (event by event, like the rest of the loader), so the
 * depth stays bounded. Strings are bounded by the arrays they go to and
 * may hold no control characters. */

static int sv_scalar(struct loader *L, const yaml_event_t *ev, const char *what, char *out,
		     size_t cap)
{
	size_t n, i;
	if (ev->type != YAML_SCALAR_EVENT)
		return fail_at(L, MM_EINVAL, ev->start_mark, "'%s' takes a single value, not %s",
			       what, kind_word(ev));
	n = ev->data.scalar.length;
	if (is_null(ev) || n == 0)
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "'%s' has no value; give one or remove the line", what);
	if (n >= cap)
		return fail_at(L, MM_EINVAL, ev->start_mark, "'%s' is longer than %zu bytes", what,
			       cap - 1);
	for (i = 0; i < n; i++)
		if (ev->data.scalar.value[i] < 0x20 || ev->data.scalar.value[i] == 0x7f)
			return fail_at(L, MM_EINVAL, ev->start_mark,
				       "'%s' holds a control character; write it on one line", what);
	memcpy(out, ev->data.scalar.value, n);
	out[n] = '\0';
	return 0;
}

static int sv_int(struct loader *L, const yaml_event_t *ev, const char *what, double lo,
		  double hi, int *out)
{
	char vb[MM_CONFIG_MAX_VALUE + 8];
	double v;
	/* range first: a huge value does not fit the integer the check casts to */
	if (ev->type != YAML_SCALAR_EVENT || parse_number(ev, &v) || !(v >= lo && v <= hi) ||
	    v != floor(v))
		return fail_at(L, MM_EINVAL, ev->start_mark,
			       "'%s' takes a whole number from %.0f to %.0f, not %s", what, lo, hi,
			       ev->type == YAML_SCALAR_EVENT ? shown(ev, vb, sizeof(vb))
							     : kind_word(ev));
	*out = (int)v;
	return 0;
}

/* A list of strings (or one string) into out[0..max) of stride bytes;
 * ev is the value's first event (a list's SEQUENCE_START is consumed
 * through its SEQUENCE_END). */
static int sv_list(struct loader *L, const yaml_event_t *ev, const char *what, char *out,
		   size_t stride, int max, int *n)
{
	yaml_event_t e;
	int rc;
	*n = 0;
	if (ev->type == YAML_SCALAR_EVENT) {
		if ((rc = sv_scalar(L, ev, what, out, stride)))
			return rc;
		*n = 1;
		return 0;
	}
	if (ev->type != YAML_SEQUENCE_START_EVENT)
		return fail_at(L, MM_EINVAL, ev->start_mark, "'%s' takes a list of values, not %s",
			       what, kind_word(ev));
	for (;;) {
		if ((rc = next(L, &e)))
			return rc;
		if (e.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&e);
			return 0;
		}
		if (*n >= max)
			rc = fail_at(L, MM_EINVAL, e.start_mark, "'%s' holds more than %d values",
				     what, max);
		else
			rc = sv_scalar(L, &e, what, out + (size_t)*n * stride, stride);
		yaml_event_delete(&e);
		if (rc)
			return rc;
		(*n)++;
	}
}

/* Walks a mapping's keys (after its MAPPING_START) against names[]; for
 * each, next value event to cb(ctx, index, value). Unknown and duplicate
 * keys are errors. */
typedef int (*sv_cb)(struct loader *L, void *ctx, int idx, yaml_event_t *v);
static int sv_map(struct loader *L, const char *where, const char *const *names, sv_cb cb,
		  void *ctx)
{
	yaml_event_t k, v;
	yaml_mark_t first[32];
	uint32_t seen = 0;
	int rc, i;

	for (;;) {
		char kb[MM_CONFIG_MAX_KEY + 8];
		if ((rc = next(L, &k)))
			return rc;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return 0;
		}
		if ((rc = check_key(L, &k, "setting")))
			goto out_k;
		for (i = 0; names[i]; i++)
			if (scalar_is(&k, names[i]))
				break;
		if (!names[i]) {
			struct known kn;
			char hint[96];
			known_init(&kn, &k);
			for (i = 0; names[i]; i++)
				known_add(&kn, names[i]);
			rc = fail_at(L, MM_EINVAL, k.start_mark,
				     "unknown setting '%s' in %s%s (known: %s; see docs/notify.md)",
				     shown(&k, kb, sizeof(kb)), where,
				     known_hint(&kn, hint, sizeof(hint)), kn.list);
			goto out_k;
		}
		if (seen >> i & 1) {
			rc = fail_at(L, MM_EINVAL, k.start_mark,
				     "duplicate setting '%s' in %s (first given at line %lu); keep one",
				     names[i], where, (unsigned long)first[i].line + 1);
			goto out_k;
		}
		seen |= 1u << i;
		first[i] = k.start_mark;
		if ((rc = next(L, &v)))
			goto out_k;
		rc = cb(L, ctx, i, &v);
		yaml_event_delete(&v);
		if (rc)
			goto out_k;
		yaml_event_delete(&k);
	}
out_k:
	yaml_event_delete(&k);
	return rc;
}

static const char *const SINK_KEYS[] = {
	"name", "type", "url", "min_severity", "types", "frequency", "max_attempts", "from", "to",
	"user", "password_env", NULL,
};
enum { SK_NAME, SK_TYPE, SK_URL, SK_MINSEV, SK_TYPES, SK_FREQ, SK_ATTEMPTS, SK_FROM, SK_TO,
       SK_USER, SK_PWENV };

static const char *const SINK_KINDS[] = {NULL, "webhook", "slack", "email"};

static int sink_value(struct loader *L, void *ctx, int idx, yaml_event_t *v)
{
	struct mm_notify_sink *s = ctx;
	char b[MM_CONFIG_MAX_VALUE + 8];
	int rc, i;
	switch (idx) {
	case SK_NAME:
		if ((rc = sv_scalar(L, v, "name", s->name, sizeof(s->name))))
			return rc;
		if (strspn(s->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(s->name))
			return fail_at(L, MM_EINVAL, v->start_mark,
				       "sink name '%s': use letters, digits, '_', '.' and '-'",
				       s->name);
		return 0;
	case SK_TYPE:
		if ((rc = sv_scalar(L, v, "type", b, sizeof(b))))
			return rc;
		for (i = 1; i <= MM_SINK_EMAIL; i++)
			if (!strcmp(b, SINK_KINDS[i]))
				s->kind = (enum mm_sink_kind)i;
		if (!s->kind)
			return fail_at(L, MM_EINVAL, v->start_mark,
				       "sink type '%s': use webhook, slack or email", b);
		return 0;
	case SK_URL:
		return sv_scalar(L, v, "url", s->url, sizeof(s->url));
	case SK_MINSEV:
		if ((rc = sv_scalar(L, v, "min_severity", b, sizeof(b))))
			return rc;
		if (mm_notify_severity_parse(b, &s->min_severity))
			return fail_at(L, MM_EINVAL, v->start_mark,
				       "min_severity '%s': use low, medium, high, critical or a "
				       "number from 0 to 10",
				       b);
		return 0;
	case SK_TYPES:
		return sv_list(L, v, "types", &s->types[0][0], sizeof(s->types[0]),
			       MM_NOTIFY_MAX_TYPES, &s->ntypes);
	case SK_FREQ:
		if ((rc = sv_scalar(L, v, "frequency", b, sizeof(b))))
			return rc;
		if (mm_notify_frequency_parse(b, &s->frequency_s))
			return fail_at(L, MM_EINVAL, v->start_mark,
				       "frequency '%s': use FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS "
				       "(GuardDuty's findingPublishingFrequency)",
				       b);
		return 0;
	case SK_ATTEMPTS:
		return sv_int(L, v, "max_attempts", 1, 100, &s->max_attempts);
	case SK_FROM:
		return sv_scalar(L, v, "from", s->from, sizeof(s->from));
	case SK_TO:
		return sv_list(L, v, "to", &s->to[0][0], sizeof(s->to[0]), MM_NOTIFY_MAX_TO, &s->nto);
	case SK_USER:
		return sv_scalar(L, v, "user", s->user, sizeof(s->user));
	default:
		return sv_scalar(L, v, "password_env", s->password_env, sizeof(s->password_env));
	}
}

/* The sink is complete and consistent; located at its mapping. */
static int sink_check(struct loader *L, struct mm_notify_conf *nc, yaml_mark_t at)
{
	struct mm_notify_sink *s = &nc->sinks[nc->nsinks];
	const char *url = s->url;
	int i;
	if (!s->name[0] || !s->kind || !s->url[0])
		return fail_at(L, MM_EINVAL, at, "a sink needs name, type (webhook, slack or email) "
						 "and url; this one has no %s",
			       !s->name[0] ? "name" : !s->kind ? "type" : "url");
	for (i = 0; i < nc->nsinks; i++)
		if (!strcmp(nc->sinks[i].name, s->name))
			return fail_at(L, MM_EINVAL, at, "two sinks are named '%s'; names must differ",
				       s->name);
	if (s->kind == MM_SINK_EMAIL) {
		if (strncmp(url, "smtp://", 7) && strncmp(url, "smtps://", 8))
			return fail_at(L, MM_EINVAL, at,
				       "email sink '%s': url must be smtp://HOST:PORT or "
				       "smtps://HOST:PORT",
				       s->name);
		if (!s->from[0] || !s->nto)
			return fail_at(L, MM_EINVAL, at, "email sink '%s' needs from and to",
				       s->name);
	} else {
		if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
			return fail_at(L, MM_EINVAL, at, "sink '%s': url must be http:// or https://",
				       s->name);
		if (s->from[0] || s->nto || s->user[0] || s->password_env[0])
			return fail_at(L, MM_EINVAL, at,
				       "sink '%s': from, to, user and password_env are for email "
				       "sinks",
				       s->name);
	}
	if (!s->frequency_s)
		s->frequency_s = 900;
	if (!s->max_attempts)
		s->max_attempts = 8;
	nc->nsinks++;
	return 0;
}

static int parse_sinks(struct loader *L, struct mm_notify_conf *nc, const yaml_event_t *v)
{
	yaml_event_t e;
	int rc;
	if (v->type != YAML_SEQUENCE_START_EVENT)
		return fail_at(L, MM_EINVAL, v->start_mark,
			       "'sinks' takes a list of mappings (`- name: ...`), not %s",
			       kind_word(v));
	for (;;) {
		yaml_mark_t at;
		if ((rc = next(L, &e)))
			return rc;
		if (e.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&e);
			return 0;
		}
		at = e.start_mark;
		if (e.type != YAML_MAPPING_START_EVENT)
			rc = fail_at(L, MM_EINVAL, at, "a sink is a mapping (name, type, url, ...), "
						       "not %s",
				     kind_word(&e));
		else if (nc->nsinks >= MM_NOTIFY_MAX_SINKS)
			rc = fail_at(L, MM_EINVAL, at, "more than %d sinks", MM_NOTIFY_MAX_SINKS);
		yaml_event_delete(&e);
		if (rc)
			return rc;
		memset(&nc->sinks[nc->nsinks], 0, sizeof(nc->sinks[0]));
		if ((rc = sv_map(L, "a sink", SINK_KEYS, sink_value, &nc->sinks[nc->nsinks])) ||
		    (rc = sink_check(L, nc, at)))
			return rc;
	}
}

static const char *const SERVE_KEYS[] = {
	"listen", "follow", "poll_ms", "tls_cert", "tls_key", "console_url", "retry_base_ms",
	"retry_max_ms", "queue_max", "sinks", NULL,
};

static int serve_value(struct loader *L, void *ctx, int idx, yaml_event_t *v)
{
	struct mm_config_serve *sv = ctx;
	struct mm_notify_conf *nc = &sv->notify;
	int rc = 0;
	size_t n;
	switch (idx) {
	case 0:
		rc = sv_scalar(L, v, "listen", sv->listen, sizeof(sv->listen));
		break;
	case 1:
		rc = sv_list(L, v, "follow", &sv->follow[0][0], sizeof(sv->follow[0]),
			     MM_CONFIG_MAX_FOLLOW, &sv->nfollow);
		break;
	case 2:
		rc = sv_int(L, v, "poll_ms", 50, 600000, &sv->poll_ms);
		break;
	case 3:
		rc = sv_scalar(L, v, "tls_cert", sv->tls_cert, sizeof(sv->tls_cert));
		break;
	case 4:
		rc = sv_scalar(L, v, "tls_key", sv->tls_key, sizeof(sv->tls_key));
		break;
	case 5:
		if ((rc = sv_scalar(L, v, "console_url", nc->console_url, sizeof(nc->console_url))))
			break;
		/* links are URL/#/finding/ID */
		while ((n = strlen(nc->console_url)) > 0 && nc->console_url[n - 1] == '/')
			nc->console_url[n - 1] = '\0';
		if (!nc->console_url[0])
			rc = fail_at(L, MM_EINVAL, v->start_mark,
				     "'console_url' takes the console's URL (https://HOST[:PORT])");
		break;
	case 6:
		rc = sv_int(L, v, "retry_base_ms", 10, 3600000, &nc->backoff_ms);
		break;
	case 7:
		rc = sv_int(L, v, "retry_max_ms", 10, 86400000, &nc->backoff_max_ms);
		break;
	case 8:
		rc = sv_int(L, v, "queue_max", 1, 1000000, &nc->queue_max);
		break;
	default:
		rc = parse_sinks(L, nc, v);
		break;
	}
	if (!rc)
		sv->set |= 1u << idx;
	return rc;
}

static int parse_serve(struct loader *L, yaml_event_t *value)
{
	struct mm_config_serve *sv;
	if (!(sv = mm_calloc(1, sizeof(*sv))))
		return mm_err_set(L->err, MM_ENOMEM, "out of memory");
	L->cfg->serve = sv;
	if (is_null(value))
		return 0;
	if (value->type != YAML_MAPPING_START_EVENT)
		return fail_at(L, MM_EINVAL, value->start_mark,
			       "section 'serve' must be a mapping of setting: value, not %s", kind_word(value));
	return sv_map(L, "section 'serve'", SERVE_KEYS, serve_value, sv);
}

const struct mm_config_serve *mm_config_serve(const struct mm_config *cfg)
{
	return cfg ? cfg->serve : NULL;
}

/* s as a YAML double-quoted string (JSON's escapes are YAML's) */
static void dq(FILE *out, const char *s)
{
	struct mm_buf b;
	mm_buf_init(&b, 1u << 16);
	if (mm_buf_json_strz(&b, s) == 0)
		fputs(b.p, out);
	else
		fputs("\"\"", out);
	mm_buf_free(&b);
}

static void show_list(FILE *out, const char *indent, const char *key, const char *base,
		      size_t stride, int n)
{
	int i;
	fprintf(out, "%s%s: [", indent, key);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		dq(out, base + (size_t)i * stride);
	}
	fputs("]\n", out);
}

static void show_serve(const struct mm_config *cfg, FILE *out)
{
	const struct mm_config_serve *sv = cfg ? cfg->serve : NULL;
	const struct mm_notify_conf *nc;
	char nb[32];
	int i;

	if (!sv) {
		fputs("\n# serve: the daemon's settings and notification sinks (`mamori serve`;\n"
		      "# docs/notify.md): listen, follow, poll_ms, tls_cert, tls_key,\n"
		      "# console_url, retry_base_ms, retry_max_ms, queue_max, sinks. Not set.\n",
		      out);
		return;
	}
	nc = &sv->notify;
	fputs("\n# the daemon's settings and notification sinks (`mamori serve`; flags win)\n"
	      "serve:\n", out);
	if (!sv->set)
		fputs("  {}\n", out);
	if (sv->set & MM_SERVE_LISTEN) {
		fputs("  listen: ", out);
		dq(out, sv->listen);
		fputc('\n', out);
	}
	if (sv->set & MM_SERVE_FOLLOW)
		show_list(out, "  ", "follow", &sv->follow[0][0], sizeof(sv->follow[0]), sv->nfollow);
	if (sv->set & MM_SERVE_POLL)
		fprintf(out, "  poll_ms: %d\n", sv->poll_ms);
	if (sv->set & MM_SERVE_TLS_CERT) {
		fputs("  tls_cert: ", out);
		dq(out, sv->tls_cert);
		fputc('\n', out);
	}
	if (sv->set & MM_SERVE_TLS_KEY) {
		fputs("  tls_key: ", out);
		dq(out, sv->tls_key);
		fputc('\n', out);
	}
	if (sv->set & MM_SERVE_CONSOLE) {
		fputs("  console_url: ", out);
		dq(out, nc->console_url);
		fputc('\n', out);
	}
	if (sv->set & MM_SERVE_RETRY_BASE)
		fprintf(out, "  retry_base_ms: %d\n", nc->backoff_ms);
	if (sv->set & MM_SERVE_RETRY_MAX)
		fprintf(out, "  retry_max_ms: %d\n", nc->backoff_max_ms);
	if (sv->set & MM_SERVE_QUEUE)
		fprintf(out, "  queue_max: %d\n", nc->queue_max);
	if (sv->set & MM_SERVE_SINKS) {
		fputs("  sinks:", out);
		fputs(nc->nsinks ? "\n" : " []\n", out);
	}
	for (i = 0; i < nc->nsinks; i++) {
		const struct mm_notify_sink *s = &nc->sinks[i];
		fputs("    - name: ", out);
		dq(out, s->name);
		fprintf(out, "\n      type: %s\n      url: ", SINK_KINDS[s->kind]);
		dq(out, s->url);
		fprintf(out, "\n      min_severity: %s\n", fmt_num(s->min_severity, nb, sizeof(nb)));
		if (s->ntypes)
			show_list(out, "      ", "types", &s->types[0][0], sizeof(s->types[0]),
				  s->ntypes);
		fprintf(out, "      frequency: %s\n      max_attempts: %d\n",
			mm_notify_frequency_name(s->frequency_s), s->max_attempts);
		if (s->kind != MM_SINK_EMAIL)
			continue;
		fputs("      from: ", out);
		dq(out, s->from);
		fputc('\n', out);
		show_list(out, "      ", "to", &s->to[0][0], sizeof(s->to[0]), s->nto);
		if (s->user[0]) {
			fputs("      user: ", out);
			dq(out, s->user);
			fputc('\n', out);
		}
		if (s->password_env[0]) {
			fputs("      password_env: ", out);
			dq(out, s->password_env);
			fputc('\n', out);
		}
	}
}

/* ---- lookups --------------------------------------------------------------- */

void mm_config_params(const struct mm_config *cfg, const struct mm_detector_def *d, double *out)
{
	int di, i, j, np, cnp;
	const struct mm_detector_def *cd;

	mm_detector_defaults(d, out);
	if (!cfg || (di = find_det(cfg, d->name, strlen(d->name))) < 0)
		return;
	cd = cfg->dets[di];
	np = mm_detector_nparams(d);
	cnp = mm_detector_nparams(cd);
	/* by name: d may be another table's detector of the same name */
	for (i = 0; i < np; i++)
		for (j = 0; j < cnp; j++)
			if ((cfg->sec[di].set >> j & 1) && !strcmp(d->params[i].name, cd->params[j].name))
				out[i] = cfg->sec[di].val[j];
}

int mm_config_enabled(const struct mm_config *cfg, const char *detector)
{
	int di;
	if (!cfg || (di = find_det(cfg, detector, strlen(detector))) < 0)
		return 1;
	return cfg->sec[di].enabled;
}

const char *mm_config_source(const struct mm_config *cfg)
{
	return cfg ? cfg->source : "";
}

/* ---- show ------------------------------------------------------------------ */

/* text as "  # ..." comment lines of at most ~78 columns (newlines and
 * controls in it become spaces: a comment cannot end early) */
static void comment(FILE *out, const char *indent, const char *text)
{
	char line[96];
	size_t width = 78 - strlen(indent) - 2, k = 0;
	const char *p = text;

	while (*p) {
		const char *w;
		size_t n;
		while (*p && (unsigned char)*p <= ' ')
			p++;
		if (!*p)
			break;
		for (w = p; *p && (unsigned char)*p > ' '; p++)
			;
		n = (size_t)(p - w);
		if (n > width)
			n = width; /* one overlong word: cut */
		if (k && k + 1 + n > width) {
			fprintf(out, "%s# %.*s\n", indent, (int)k, line);
			k = 0;
		}
		if (k)
			line[k++] = ' ';
		memcpy(line + k, w, n);
		k += n;
	}
	if (k)
		fprintf(out, "%s# %.*s\n", indent, (int)k, line);
}

void mm_config_show(const struct mm_config *cfg, FILE *out)
{
	const struct mm_detector_def *const *dets = cfg ? cfg->dets : mm_detectors;
	char src[600];
	int i, j;

	fputs("# mamori configuration: the effective values (`mamori config show`).\n"
	      "# Every setting is optional: remove a line to get its built-in default.\n"
	      "# Values marked \"changed\" differ from the default.\n",
	      out);
	if (cfg && cfg->source[0]) {
		snprintf(src, sizeof(src), "Loaded from %s.", cfg->source);
		comment(out, "", src);
	} else {
		fputs("# Built-in defaults (no --config FILE, no $MAMORI_CONFIG).\n", out);
	}
	for (i = 0; dets[i]; i++) {
		const struct mm_detector_def *d = dets[i];
		const struct section *s = cfg ? &cfg->sec[i] : NULL;
		int np = mm_detector_nparams(d), en = s ? s->enabled : 1;

		fprintf(out, "\n%s:\n", d->name);
		fprintf(out, "  enabled: %s%s\n", en ? "true" : "false",
			en ? "" : "    # changed (default true)");
		for (j = 0; j < np; j++) {
			const struct mm_param *pr = &d->params[j];
			double v = s && (s->set >> j & 1) ? s->val[j] : pr->def;
			int isbool = pr->unit && !strcmp(pr->unit, "bool");
			char text[1024], vb[32], lo[32], hi[32], db[32];

			fmt_num(pr->def, db, sizeof(db));
			fmt_num(pr->min, lo, sizeof(lo));
			fmt_num(pr->max, hi, sizeof(hi));
			if (isbool)
				snprintf(text, sizeof(text), "%s (true or false; default %s)",
					 pr->reason ? pr->reason : "", pr->def != 0 ? "true" : "false");
			else
				snprintf(text, sizeof(text), "%s (%s; default %s, range %s to %s)",
					 pr->reason ? pr->reason : "", unit_of(pr),
					 db, lo, hi);
			comment(out, "  ", text);
			if (isbool)
				snprintf(vb, sizeof(vb), "%s", v != 0 ? "true" : "false");
			else
				fmt_num(v, vb, sizeof(vb));
			fprintf(out, "  %s: %s", pr->name, vb);
			if (v != pr->def)
				fprintf(out, "    # changed (default %s)",
					isbool ? (pr->def != 0 ? "true" : "false") : db);
			fputc('\n', out);
		}
	}
	for (i = 0; topsecs[i].name; i++)
		topsecs[i].show(cfg, out);
}

/* ---- the respond: section (automatic response rules, docs/respond.md) ----
 *
 *   respond:
 *     enabled: false              # the default: no automatic response
 *     mode: dry-run               # or act; dry-run records what it would do
 *     rules:
 *       - {type: "Impact:Runtime/CryptoMinerExecuted", action: kill}
 *       - {type: "Backdoor:Runtime/C&CActivity.B", action: block, for: 1h}
 */

static const char *const RESPOND_KEYS[] = {"enabled", "mode", "rules", NULL};
static const char *const RULE_KEYS[] = {"type", "action", "for", NULL};

static int rule_value(struct loader *L, void *ctx, int idx, yaml_event_t *v)
{
	struct mm_respond_rule *ru = ctx;
	char b[MM_CONFIG_MAX_VALUE + 8];
	int rc;
	if (idx == 0)
		return sv_scalar(L, v, "type", ru->type, sizeof(ru->type));
	if ((rc = sv_scalar(L, v, idx == 1 ? "action" : "for", b, sizeof(b))))
		return rc;
	if (idx == 1) {
		ru->action = mm_respond_action_parse(b);
		if (!ru->action || ru->action == MM_RESPOND_REMOVE_CRON)
			return fail_at(L, MM_EINVAL, v->start_mark,
				       "a rule's action is kill, quarantine, block or lock-user, not "
				       "'%s'", b);
		return 0;
	}
	if (mm_respond_parse_duration(b, &ru->block_s))
		return fail_at(L, MM_EINVAL, v->start_mark,
			       "'for' takes a duration like 30m, 1h or 2d (at most 366d), not '%s'", b);
	return 0;
}

static int parse_rules(struct loader *L, struct mm_respond_rules *rr, const yaml_event_t *v)
{
	yaml_event_t e;
	int rc;
	if (v->type != YAML_SEQUENCE_START_EVENT)
		return fail_at(L, MM_EINVAL, v->start_mark,
			       "'rules' takes a list of mappings (`- {type: ..., action: ...}`), not %s",
			       kind_word(v));
	for (;;) {
		struct mm_respond_rule *ru;
		yaml_mark_t at;
		if ((rc = next(L, &e)))
			return rc;
		if (e.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&e);
			return 0;
		}
		at = e.start_mark;
		if (e.type != YAML_MAPPING_START_EVENT)
			rc = fail_at(L, MM_EINVAL, at, "a rule is a mapping (type, action, for), not %s",
				     kind_word(&e));
		else if (rr->nrules >= MM_RESPOND_MAX_RULES)
			rc = fail_at(L, MM_EINVAL, at, "more than %d rules", MM_RESPOND_MAX_RULES);
		yaml_event_delete(&e);
		if (rc)
			return rc;
		ru = &rr->rule[rr->nrules];
		memset(ru, 0, sizeof(*ru));
		if ((rc = sv_map(L, "a respond rule", RULE_KEYS, rule_value, ru)))
			return rc;
		if (!ru->type[0] || !ru->action)
			return fail_at(L, MM_EINVAL, at, "a respond rule needs type and action");
		if (ru->block_s && ru->action != MM_RESPOND_BLOCK)
			return fail_at(L, MM_EINVAL, at, "'for' is for block rules only");
		rr->nrules++;
	}
}

static int respond_value(struct loader *L, void *ctx, int idx, yaml_event_t *v)
{
	struct mm_respond_rules *rr = ctx;
	char b[MM_CONFIG_MAX_VALUE + 8];
	int rc;
	if (idx == 0) {
		if (v->type != YAML_SCALAR_EVENT || parse_bool(v, &rr->enabled))
			return fail_at(L, MM_EINVAL, v->start_mark,
				       "'enabled' in section 'respond' takes true or false");
		return 0;
	}
	if (idx == 1) {
		if ((rc = sv_scalar(L, v, "mode", b, sizeof(b))))
			return rc;
		if (strcmp(b, "act") && strcmp(b, "dry-run"))
			return fail_at(L, MM_EINVAL, v->start_mark,
				       "'mode' in section 'respond' is dry-run or act, not '%s'", b);
		rr->act = !strcmp(b, "act");
		return 0;
	}
	return parse_rules(L, rr, v);
}

static int parse_respond(struct loader *L, yaml_event_t *value)
{
	struct mm_respond_rules *rr;
	if (!(rr = mm_calloc(1, sizeof(*rr))))
		return mm_err_set(L->err, MM_ENOMEM, "out of memory");
	L->cfg->respond = rr;
	if (is_null(value))
		return 0;
	if (value->type != YAML_MAPPING_START_EVENT)
		return fail_at(L, MM_EINVAL, value->start_mark,
			       "section 'respond' must be a mapping of setting: value, not %s",
			       kind_word(value));
	return sv_map(L, "section 'respond'", RESPOND_KEYS, respond_value, rr);
}

const struct mm_respond_rules *mm_config_respond(const struct mm_config *cfg)
{
	return cfg ? cfg->respond : NULL;
}

static void show_respond(const struct mm_config *cfg, FILE *out)
{
	const struct mm_respond_rules *rr = cfg ? cfg->respond : NULL;
	int i;
	if (!rr) {
		fputs("\n# respond: automatic response rules for `mamori agent` (docs/respond.md):\n"
		      "# enabled (default false), mode (dry-run or act), rules (type, action,\n"
		      "# for). Not set: no automatic response.\n",
		      out);
		return;
	}
	fputs("\n# automatic response rules for `mamori agent` (docs/respond.md)\n"
	      "respond:\n", out);
	fprintf(out, "  enabled: %s\n  mode: %s\n", rr->enabled ? "true" : "false",
		rr->act ? "act" : "dry-run");
	if (!rr->nrules)
		fputs("  rules: []\n", out);
	else
		fputs("  rules:\n", out);
	for (i = 0; i < rr->nrules; i++) {
		fputs("    - {type: ", out);
		dq(out, rr->rule[i].type);
		fprintf(out, ", action: %s", mm_respond_action_name(rr->rule[i].action));
		if (rr->rule[i].block_s)
			fprintf(out, ", for: %llds", (long long)rr->rule[i].block_s);
		fputs("}\n", out);
	}
}
