/* fuzz_inventory.c - libFuzzer target for the instance inventory.
 *
 * The input is tried as describe-instances output, as a RunInstances
 * responseElements (with itself as requestParameters) and as a GuardDuty
 * instanceDetails object. Every instance learned is written back out
 * with mm_instance_to_json and re-read, which must succeed and give the
 * same JSON again (the writer and reader agree on everything). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "enrich/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_inventory *inv = NULL, *back = NULL;
	struct mm_event ev;
	struct mm_err err;
	struct mm_buf b, b2;
	const char *p = (const char *)data;
	size_t i;

	if (size > (1u << 20))
		return 0;
	if (mm_inventory_new(&inv) || mm_inventory_new(&back))
		abort();
	mm_inventory_set_max(inv, 64);
	mm_buf_init(&b, 1 << 22);
	mm_buf_init(&b2, 1 << 22);

	(void)mm_inventory_load_describe(inv, p, size, &err);
	memset(&ev, 0, sizeof(ev));
	ev.kind = MM_EV_API;
	ev.u.api.event_name = mm_str_c("RunInstances");
	ev.u.api.account = mm_str_c("123456789012");
	ev.u.api.response_elements = mm_str_make(p, size);
	ev.u.api.request_parameters = mm_str_make(p, size);
	(void)mm_inventory_add_event(inv, &ev, &err);
	(void)mm_inventory_add_details_json(inv, p, size, &err);

	for (i = 0; mm_inventory_at(inv, i); i++) {
		const struct mm_instance *in = mm_inventory_at(inv, i), *out;
		int j;
		if (mm_inventory_by_id(inv, in->instance_id, strlen(in->instance_id)) != in)
			abort();
		for (j = 0; j < in->nnif; j++) {
			const struct mm_netif *f = &in->nifs[j];
			(void)mm_inventory_by_eni(inv, f->eni, strlen(f->eni));
			if (f->nprivate)
				(void)mm_inventory_by_ip(inv, &f->private_ips[0]);
		}
		mm_buf_reset(&b);
		mm_buf_reset(&b2);
		if (mm_instance_to_json(in, NULL, &b))
			abort();
		if (mm_inventory_add_details_json(back, b.p, b.len, &err))
			abort();
		out = mm_inventory_by_id(back, in->instance_id, strlen(in->instance_id));
		if (!out || mm_instance_to_json(out, NULL, &b2) || strcmp(b.p, b2.p) != 0)
			abort();
		/* Fresh per instance so earlier ones cannot merge into it. */
		mm_inventory_free(back);
		if (mm_inventory_new(&back))
			abort();
	}
	mm_buf_reset(&b);
	if (size < 64 && mm_instance_to_json(NULL, "eni-1", &b))
		abort();
	mm_buf_free(&b);
	mm_buf_free(&b2);
	mm_inventory_free(inv);
	mm_inventory_free(back);
	return 0;
}
