/* users.c - the account collector (see users.h). */
#include "agent/users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/file.h"
#include "core/mem.h"

static void cpy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int mm_accounts_parse(struct mm_accounts *a, const char *text, size_t n)
{
	const char *p = text, *end = text + n;
	a->n = 0;
	while (p < end && a->n < MM_USERS_MAX) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *f[7], *q;
		size_t flen[7];
		int nf = 0;
		struct mm_account acc;
		char num[16], *e;
		unsigned long v;
		if (!eol)
			eol = end;
		for (q = p; nf < 7;) {
			const char *c = memchr(q, ':', (size_t)(eol - q));
			f[nf] = q;
			flen[nf] = c ? (size_t)(c - q) : (size_t)(eol - q);
			nf++;
			if (!c)
				break;
			q = c + 1;
		}
		p = eol + 1;
		if (nf != 7 || !flen[0] || f[0][0] == '#' || f[0][0] == '+' || f[0][0] == '-')
			continue;
		memset(&acc, 0, sizeof(acc));
		cpy(acc.name, sizeof(acc.name), f[0], flen[0]);
		cpy(num, sizeof(num), f[2], flen[2]);
		v = strtoul(num, &e, 10);
		if (!flen[2] || *e || v > 0xffffffffUL)
			continue;
		acc.uid = (uint32_t)v;
		cpy(num, sizeof(num), f[3], flen[3]);
		v = strtoul(num, &e, 10);
		acc.gid = *e ? 0 : (uint32_t)v;
		cpy(acc.home, sizeof(acc.home), f[5], flen[5]);
		cpy(acc.shell, sizeof(acc.shell), f[6], flen[6]);
		if (acc.shell[0] && acc.shell[strlen(acc.shell) - 1] == '\r')
			acc.shell[strlen(acc.shell) - 1] = '\0';
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 64;
			struct mm_account *nv = mm_realloc(a->v, nc * sizeof(*nv));
			if (!nv)
				return MM_ENOMEM;
			a->v = nv;
			a->cap = nc;
		}
		a->v[a->n++] = acc;
	}
	return 0;
}

int mm_accounts_load(struct mm_accounts *a, const char *root)
{
	char path[1024];
	size_t n;
	char *txt;
	int rc;
	snprintf(path, sizeof(path), "%s/etc/passwd", root && *root ? root : "");
	txt = mm_file_read(path, MM_USERS_FILE_MAX, &n);
	rc = mm_accounts_parse(a, txt ? txt : "", n);
	mm_free(txt);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/etc/shadow", root && *root ? root : "");
	if ((txt = mm_file_read(path, MM_USERS_FILE_MAX, &n))) {
		const char *p = txt, *end = txt + n;
		while (p < end) {
			const char *eol = memchr(p, '\n', (size_t)(end - p)), *c;
			size_t i;
			if (!eol)
				eol = end;
			if ((c = memchr(p, ':', (size_t)(eol - p))))
				for (i = 0; i < a->n; i++)
					if (strlen(a->v[i].name) == (size_t)(c - p) &&
					    !memcmp(a->v[i].name, p, (size_t)(c - p)))
						a->v[i].in_shadow = 1;
			p = eol + 1;
		}
		mm_free(txt);
	}
	return 0;
}

void mm_accounts_free(struct mm_accounts *a)
{
	mm_free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

const struct mm_account *mm_accounts_by_name(const struct mm_accounts *a, const char *name)
{
	size_t i;
	for (i = 0; a && i < a->n; i++)
		if (!strcmp(a->v[i].name, name))
			return &a->v[i];
	return NULL;
}

const char *mm_accounts_uname(void *ctx, uint32_t uid)
{
	const struct mm_accounts *a = ctx;
	size_t i;
	for (i = 0; a && i < a->n; i++)
		if (a->v[i].uid == uid)
			return a->v[i].name;
	return NULL;
}

int mm_shell_is_login(const char *shell)
{
	const char *base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	if (!*base)
		return 0;
	return strcmp(base, "nologin") && strcmp(base, "false") && strcmp(base, "sync") &&
	       strcmp(base, "shutdown") && strcmp(base, "halt") && strcmp(base, "true");
}

static int is_uid0_extra(const struct mm_account *a)
{
	return a->uid == 0 && strcmp(a->name, "root");
}

int mm_accounts_diff(const struct mm_accounts *before, const struct mm_accounts *now,
		     mm_account_change_fn fn, void *ctx)
{
	size_t i;
	int rc;
	for (i = 0; i < now->n; i++) {
		const struct mm_account *a = &now->v[i];
		const struct mm_account *b = mm_accounts_by_name(before, a->name);
		if (before && !b && (rc = fn(ctx, a, "created")))
			return rc;
		if (is_uid0_extra(a) && (!b || !is_uid0_extra(b)) && (rc = fn(ctx, a, "uid0")))
			return rc;
		if (b && mm_shell_is_login(a->shell) && !mm_shell_is_login(b->shell) &&
		    (rc = fn(ctx, a, "shell")))
			return rc;
	}
	for (i = 0; before && i < before->n; i++)
		if (!mm_accounts_by_name(now, before->v[i].name) &&
		    (rc = fn(ctx, &before->v[i], "deleted")))
			return rc;
	return 0;
}
