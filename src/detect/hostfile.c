/* hostfile.c - Runtime findings from the host agent's file integrity
 * events (MM_HOST_FILE); docs/finding-types.md has the logic in prose.
 *
 *  - Persistence:Runtime/AuthorizedKeysModified: any change (created,
 *    modified, deleted, mode, owner) to a path ending in
 *    /.ssh/authorized_keys or /.ssh/authorized_keys2. The keys the
 *    agent's bounded diff adds ("+" lines) are named in
 *    additionalInfo.addedKeys: type, SHA256 fingerprint (as ssh-keygen -l
 *    prints it) and comment; removed keys are counted.
 *  - Persistence:Runtime/WatchedFileModified: any other watched file,
 *    severity by class: account, privilege and loader files (/etc/passwd,
 *    shadow, group, gshadow, sudoers and sudoers.d, ld.so.preload) High;
 *    binaries in the system directories, systemd units and crontabs
 *    Medium; everything else (dotfiles such as ~/.bashrc) Low.
 *    Crontab and systemd unit changes also reach detect/hostcmd.c, which
 *    judges their content (Persistence:Runtime/SuspiciousCommand).
 *
 * One finding per (host, file): the path's hash is the discriminator. A
 * function of single events: no state. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "core/hash.h"
#include "detect/detect.h"
#include "detect/hostproc.h"

static const char *const types[] = {
	"Persistence:Runtime/AuthorizedKeysModified",
	"Persistence:Runtime/WatchedFileModified",
	NULL,
};

#define MAX_KEYS 3	/* added keys named in additionalInfo */

static int ends(struct mm_str s, const char *z)
{
	size_t n = strlen(z);
	return s.n >= n && memcmp(s.p + s.n - n, z, n) == 0;
}

/* The severity of a watched path's class. */
static double path_severity(struct mm_str p)
{
	static const char *const high[] = {"/etc/passwd", "/etc/shadow", "/etc/group",
					   "/etc/gshadow", "/etc/sudoers", "/etc/ld.so.preload",
					   NULL};
	int i;
	for (i = 0; high[i]; i++)
		if (mm_str_eqz(p, high[i]))
			return 8.0;
	if (mm_str_starts(p, "/etc/sudoers.d/"))
		return 8.0;
	if (mm_str_starts(p, "/usr/bin/") || mm_str_starts(p, "/usr/sbin/") ||
	    mm_str_starts(p, "/bin/") || mm_str_starts(p, "/sbin/") ||
	    mm_str_starts(p, "/usr/local/bin/") || mm_str_starts(p, "/usr/local/sbin/"))
		return 5.0;
	if (mm_str_starts(p, "/etc/systemd/") || mm_str_starts(p, "/lib/systemd/system/") ||
	    mm_str_starts(p, "/usr/lib/systemd/system/") || mm_str_starts(p, "/var/spool/cron/") ||
	    mm_str_eqz(p, "/etc/crontab") || mm_str_starts(p, "/etc/cron."))
		return 5.0;
	return 2.0;
}

/* One "+" line of an authorized_keys diff into the JSON array b:
 * {"type","fingerprint","comment"}. 1 when a key was found. */
static int added_key(const char *s, size_t n, struct mm_buf *b, int first)
{
	const char *p = s, *end = s + n, *t0 = NULL, *t1 = NULL, *k0, *k1, *c0;
	unsigned char raw[8192], dig[32];
	char fp[64];
	int len;
	unsigned dl = 0;

	/* [options] keytype base64 [comment]: the type is the first token
	 * that names one (options may hold spaces inside quotes; rare) */
	while (p < end) {
		const char *q;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		q = p;
		while (q < end && *q != ' ' && *q != '\t')
			q++;
		if ((q - p > 4 && !memcmp(p, "ssh-", 4)) || (q - p > 6 && !memcmp(p, "ecdsa-", 6)) ||
		    (q - p > 3 && !memcmp(p, "sk-", 3))) {
			t0 = p;
			t1 = q;
			break;
		}
		p = q;
	}
	if (!t0)
		return 0;
	k0 = t1;
	while (k0 < end && (*k0 == ' ' || *k0 == '\t'))
		k0++;
	k1 = k0;
	while (k1 < end && *k1 != ' ' && *k1 != '\t')
		k1++;
	c0 = k1;
	while (c0 < end && (*c0 == ' ' || *c0 == '\t'))
		c0++;
	fp[0] = '\0';
	if (k1 > k0 && (size_t)(k1 - k0) <= sizeof(raw) / 4 * 3 && (k1 - k0) % 4 == 0) {
		len = EVP_DecodeBlock(raw, (const unsigned char *)k0, (int)(k1 - k0));
		if (len > 0) {
			/* EVP_DecodeBlock counts the '=' padding as zero bytes */
			if (k1[-1] == '=')
				len--;
			if (k1[-2] == '=')
				len--;
			if (EVP_Digest(raw, (size_t)len, dig, &dl, EVP_sha256(), NULL) && dl == 32) {
				unsigned char e[48];
				int el = EVP_EncodeBlock(e, dig, 32);
				while (el > 0 && e[el - 1] == '=')
					el--;
				snprintf(fp, sizeof(fp), "SHA256:%.*s", el, (const char *)e);
			}
		}
	}
	if (!first)
		mm_buf_addc(b, ',');
	mm_buf_addz(b, "{\"type\":");
	mm_buf_json_str(b, t0, (size_t)(t1 - t0));
	mm_buf_addz(b, ",\"fingerprint\":");
	mm_buf_json_str(b, fp, strlen(fp));
	mm_buf_addz(b, ",\"comment\":");
	mm_buf_json_str(b, c0, (size_t)(end - c0));
	mm_buf_addc(b, '}');
	return 1;
}

static void key_diff(struct mm_finding *f, struct mm_str diff)
{
	const char *p = diff.p, *end = diff.p + diff.n;
	struct mm_buf b;
	int added = 0, removed = 0;

	mm_buf_init(&b, 600);
	mm_buf_addc(&b, '[');
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n >= 1 && p[0] == '+' && !(n >= 3 && !memcmp(p, "+++", 3))) {
			size_t at = b.len;
			if (added < MAX_KEYS && added_key(p + 1, n - 1, &b, added == 0)) {
				if (b.len >= b.max - 4) { /* did not fit: leave it out */
					b.len = at;
					b.p[at] = '\0';
				} else {
					added++;
				}
			}
		} else if (n >= 1 && p[0] == '-' && !(n >= 3 && !memcmp(p, "---", 3))) {
			removed++;
		}
		p = nl ? nl + 1 : end;
	}
	mm_buf_addc(&b, ']');
	if (added && b.p)
		mm_finding_info_json(f, "addedKeys", b.p);
	if (removed)
		mm_finding_info_num(f, "removedLines", removed);
	mm_buf_free(&b);
}

static void on_event(void *st, struct mm_detect_ctx *c, const struct mm_event *ev)
{
	const struct mm_host *h = &ev->u.host;
	int keys, latest;
	char res[80], disc[24], tmp[512];
	struct mm_finding *f;

	(void)st;
	if (ev->kind != MM_EV_HOST || h->what != MM_HOST_FILE || !h->path.n)
		return;
	keys = ends(h->path, "/.ssh/authorized_keys") || ends(h->path, "/.ssh/authorized_keys2");
	mm_host_resource(h, res, sizeof(res));
	snprintf(disc, sizeof(disc), "%016llx",
		 (unsigned long long)mm_hash(h->path.p, h->path.n, 0x66696c65ULL));
	f = mm_emit(c, keys ? types[0] : types[1], mm_str_c(""), mm_str_c(res), disc, ev,
		    h->time_ms, h->time_ms, &latest);
	if (!f || !latest)
		return;
	mm_host_fill_proc(f, h);
	if (!keys)
		f->severity = path_severity(h->path);
	mm_finding_info_clear(f);
	mm_str_copy(tmp, sizeof(tmp), h->path);
	mm_finding_info_str(f, "filePath", tmp);
	if (h->change.n) {
		mm_str_copy(tmp, sizeof(tmp), h->change);
		mm_finding_info_str(f, "fileOperation", tmp);
	}
	if (h->new_sha256.n) {
		mm_str_copy(tmp, sizeof(tmp), h->new_sha256);
		mm_finding_info_str(f, "newSha256", tmp);
	}
	if (h->old_sha256.n) {
		mm_str_copy(tmp, sizeof(tmp), h->old_sha256);
		mm_finding_info_str(f, "oldSha256", tmp);
	}
	if (keys && h->diff.n)
		key_diff(f, h->diff);
}

const struct mm_detector_def mm_det_hostfile = {
	.name = "hostfile",
	.kinds = MM_KIND_BIT(MM_EV_HOST),
	.types = types,
	.on_event = on_event,
};
