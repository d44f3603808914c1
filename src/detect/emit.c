/* emit.c - how detectors add findings, and helpers several detector
 * families share. */
#include <stdio.h>
#include <string.h>

#include "core/intern.h"
#include "detect/detect.h"

/* mm_emit, citing ev as seen at ev_ms */
static struct mm_finding *emit_at(struct mm_detect_ctx *c, const char *type, struct mm_str acct,
				  struct mm_str resource, const char *disc,
				  const struct mm_event *ev, int64_t ev_ms, int64_t first,
				  int64_t last, int *latest)
{
	char rkey[256], account[32];
	const char *file = c->file && c->file->rel ? c->file->rel : ev->loc.file;
	struct mm_finding *f;
	int created;

	mm_str_copy(rkey, sizeof(rkey), resource);
	if (acct.n)
		mm_str_copy(account, sizeof(account), acct);
	else
		snprintf(account, sizeof(account), "%s", c->file ? c->file->account : "");
	*latest = 0;
	if (c->agg_lock && !c->locked) {
		pthread_mutex_lock(c->agg_lock); /* released by the pipeline */
		c->locked = 1;
	}
	f = mm_agg_get(c->agg, type, account, rkey, strlen(rkey), disc, &created);
	if (!f)
		return NULL;
	*latest = 1;
	c->st.matches++;
	/* the sample is the earliest by (time, file, line) whatever the
	 * arrival order: a later record at the same time may still belong */
	if (f->nevidence < MM_EVIDENCE_MAX || ev_ms <= f->ev[MM_EVIDENCE_MAX - 1].time_ms)
		mm_finding_add_evidence(f, file, ev->loc.line, ev->loc.offset, ev_ms);
	if (created) {
		f->first_seen_ms = first;
		f->last_seen_ms = last;
		f->detail_file = file;
		f->detail_line = ev->loc.line;
		f->detail_offset = ev->loc.offset;
		f->count = 1;
		if (c->file)
			snprintf(f->region, sizeof(f->region), "%s", c->file->region);
		return f;
	}
	f->count++;
	if (first < f->first_seen_ms)
		f->first_seen_ms = first;
	if (!mm_finding_is_later(f, last, file, ev->loc.line, ev->loc.offset)) {
		*latest = 0; /* not later than what we hold: keep the latest details */
		return f;
	}
	f->last_seen_ms = last;
	f->detail_file = file;
	f->detail_line = ev->loc.line;
	f->detail_offset = ev->loc.offset;
	return f;
}

struct mm_finding *mm_emit(struct mm_detect_ctx *c, const char *type, struct mm_str acct,
			   struct mm_str resource, const char *disc, const struct mm_event *ev,
			   int64_t first, int64_t last, int *latest)
{
	return emit_at(c, type, acct, resource, disc, ev, first, first, last, latest);
}

void mm_evref_take(struct mm_evref *r, const struct mm_detect_ctx *c, const struct mm_event *ev,
		   int64_t time_ms)
{
	const char *file = c->file && c->file->rel ? c->file->rel : ev->loc.file;
	r->file = mm_intern(file ? file : "", file ? strlen(file) : 0);
	r->line = ev->loc.line;
	r->offset = ev->loc.offset;
	r->time_ms = time_ms;
}

void mm_evref_keep(struct mm_evref *refs, uint8_t *n, int cap, const struct mm_evref *r)
{
	int i, worst = 0;
	if (*n < cap) {
		refs[(*n)++] = *r;
		return;
	}
	for (i = 1; i < cap; i++)
		if (mm_evref_before(&refs[worst], &refs[i]))
			worst = i;
	if (mm_evref_before(r, &refs[worst]))
		refs[worst] = *r;
}

struct mm_finding *mm_emit_refs(struct mm_detect_ctx *c, const char *type, struct mm_str acct,
				struct mm_str resource, const char *disc,
				const struct mm_evref *refs, int n, int64_t first, int64_t last,
				int *latest)
{
	const struct mm_file_ctx *saved = c->file;
	struct mm_event ev;
	struct mm_finding *f;
	int i, last_i = 0;

	for (i = 1; i < n; i++)
		if (mm_evref_before(&refs[last_i], &refs[i]))
			last_i = i;
	memset(&ev, 0, sizeof(ev));
	ev.loc.file = n ? refs[last_i].file : "";
	ev.loc.line = n ? refs[last_i].line : 0;
	ev.loc.offset = n ? refs[last_i].offset : 0;
	c->file = NULL; /* refs already name the file as evidence shows it */
	f = emit_at(c, type, acct, resource, disc, &ev, n ? refs[last_i].time_ms : first, first,
		    last, latest);
	c->file = saved;
	if (!f)
		return NULL;
	for (i = 0; i < n; i++)
		if (i != last_i && (f->nevidence < MM_EVIDENCE_MAX ||
				    refs[i].time_ms <= f->ev[MM_EVIDENCE_MAX - 1].time_ms))
			mm_finding_add_evidence(f, refs[i].file, refs[i].line, refs[i].offset,
						refs[i].time_ms);
	return f;
}

int mm_api_is_recon(const char *name, size_t n)
{
	return (n > 4 && memcmp(name, "List", 4) == 0) ||
	       (n > 8 && memcmp(name, "Describe", 8) == 0) || (n > 3 && memcmp(name, "Get", 3) == 0);
}

struct mm_str mm_api_principal(const struct mm_api *a)
{
	struct mm_str res = a->who.access_key_id.n ? a->who.access_key_id : a->who.principal_id;
	return res.n ? res : a->who.arn;
}

void mm_finding_set_api(struct mm_finding *f, const struct mm_api *a)
{
	if (a->region.n)
		mm_str_copy(f->region, sizeof(f->region), a->region);
	if (a->has_source_ip) {
		f->has_remote_ip = 1;
		f->remote_ip = a->source_ip;
		snprintf(f->caller_type, sizeof(f->caller_type), "Remote IP");
	} else {
		f->has_remote_ip = 0;
		snprintf(f->caller_type, sizeof(f->caller_type), "AWS Service");
	}
	mm_str_copy(f->api, sizeof(f->api), a->event_name);
	mm_str_copy(f->service_name, sizeof(f->service_name), a->event_source);
	mm_str_copy(f->user_agent, sizeof(f->user_agent), a->user_agent);
	mm_str_copy(f->error_code, sizeof(f->error_code), a->error_code);
	mm_str_copy(f->principal_id, sizeof(f->principal_id), a->who.principal_id);
	mm_str_copy(f->user_type, sizeof(f->user_type), a->who.type);
	if (a->who.user_name.n)
		mm_str_copy(f->user_name, sizeof(f->user_name), a->who.user_name);
	else if (a->who.issuer_user_name.n)
		mm_str_copy(f->user_name, sizeof(f->user_name), a->who.issuer_user_name);
}

struct mm_finding *mm_emit_api(struct mm_detect_ctx *c, const char *type, struct mm_str resource,
			       const char *disc, const struct mm_event *ev, int *latest)
{
	const struct mm_api *a = &ev->u.api;
	struct mm_finding *f;

	f = mm_emit(c, type, a->account.n ? a->account : a->who.account_id, resource, disc, ev,
		    a->time_ms, a->time_ms, latest);
	if (!f)
		return NULL;
	mm_finding_add_api(f, a->event_name.p, a->event_name.n, a->time_ms);
	if (*latest) {
		f->role = MM_ROLE_TARGET;
		mm_finding_set_api(f, a);
	}
	return f;
}

void mm_finding_set_dns(struct mm_finding *f, const struct mm_dns *q)
{
	struct mm_str dn = q->qname;

	if (q->region.n)
		mm_str_copy(f->region, sizeof(f->region), q->region);
	f->role = MM_ROLE_ACTOR;
	f->direction = MM_DIR_OUTBOUND;
	if (dn.n && dn.p[dn.n - 1] == '.')
		dn.n--;
	mm_str_copy(f->domain, sizeof(f->domain), dn);
	if (q->transport.n)
		mm_str_copy(f->protocol, sizeof(f->protocol), q->transport);
	else
		snprintf(f->protocol, sizeof(f->protocol), "UDP");
	f->blocked = mm_str_eqz(q->firewall_action, "BLOCK");
	if (q->has_src) {
		f->has_local_ip = 1;
		f->local_ip = q->src;
	}
	snprintf(f->caller_type, sizeof(f->caller_type), "Domain");
}

void mm_emit_done(struct mm_detect_ctx *c)
{
	/* a worker's turn ends in the pipeline, which releases under the lock */
	if (c->agg && !c->agg_lock)
		mm_agg_release(c->agg);
}
