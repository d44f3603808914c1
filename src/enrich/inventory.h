/* inventory.h - what we know about instances: ENI -> instance, the
 * instance's addresses, tags and launch details.
 *
 * Sources: `aws ec2 describe-instances` JSON (--inventory FILE), the
 * responseElements of CloudTrail RunInstances records seen in the input,
 * and instanceDetails JSON previously stored (so a later scan still knows
 * an instance launched in an earlier one). Later information about the
 * same instance replaces earlier fields that it sets.
 *
 * Not thread-safe for writers: each scan thread keeps its own inventory
 * and the pipeline merges them (mm_inventory_merge) before resolving
 * findings. Lookups on a built inventory are read-only. */
#ifndef MM_INVENTORY_H
#define MM_INVENTORY_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/ip.h"

#define MM_INV_MAX_TAGS 50
#define MM_INV_MAX_NIFS 8
#define MM_INV_MAX_IPS 8
#define MM_INV_MAX_SGS 8
#define MM_INV_MAX_INSTANCES 1000000

struct mm_tag {
	char key[128];
	char value[256];
};

struct mm_netif {
	char eni[32];
	char subnet_id[32];
	char vpc_id[32];
	char private_dns[128];
	char public_dns[128];
	uint8_t has_public_ip;
	struct mm_ip public_ip;
	int nprivate;
	struct mm_ip private_ips[MM_INV_MAX_IPS];	/* [0] is the primary */
	int nipv6;
	struct mm_ip ipv6[MM_INV_MAX_IPS];
	int nsg;
	char sg_id[MM_INV_MAX_SGS][32];
	char sg_name[MM_INV_MAX_SGS][128];
};

struct mm_instance {
	char instance_id[32];
	char instance_type[32];
	char image_id[32];
	char launch_time[32];	/* ISO 8601 as GuardDuty prints it */
	char az[32];
	char state[16];
	char platform[32];
	char iam_profile_arn[256];
	char iam_profile_id[64];
	char account[32];
	int ntags;
	struct mm_tag tags[MM_INV_MAX_TAGS];
	int nnif;
	struct mm_netif nifs[MM_INV_MAX_NIFS];
};

struct mm_inventory;	/* opaque */

int mm_inventory_new(struct mm_inventory **out);
void mm_inventory_free(struct mm_inventory *inv);
/* Lower the instance cap (default and ceiling MM_INV_MAX_INSTANCES).
 * Adding a new instance past the cap fails with MM_ETOOBIG; updates to
 * known instances still work. */
void mm_inventory_set_max(struct mm_inventory *inv, size_t max);

/* Load describe-instances output ({"Reservations":[{"Instances":[...]}]})
 * from a file. 0, or MM_EIO / MM_EPARSE with "path: reason" in err. */
int mm_inventory_load_file(struct mm_inventory *inv, const char *path, struct mm_err *err);
int mm_inventory_load_describe(struct mm_inventory *inv, const char *buf, size_t n,
			       struct mm_err *err);
/* Learn from a CloudTrail event: RunInstances responseElements (other
 * events are ignored, returning 0). */
int mm_inventory_add_event(struct mm_inventory *inv, const struct mm_event *ev, struct mm_err *err);
/* Add one instance (copied). */
int mm_inventory_put(struct mm_inventory *inv, const struct mm_instance *inst);
/* Copy every instance of src into dst. */
int mm_inventory_merge(struct mm_inventory *dst, const struct mm_inventory *src);

/* Lookups return a borrowed pointer valid until the next write, or NULL. */
const struct mm_instance *mm_inventory_by_id(const struct mm_inventory *inv, const char *id,
					     size_t n);
const struct mm_instance *mm_inventory_by_eni(const struct mm_inventory *inv, const char *eni,
					      size_t n);
/* The instance owning a private (or public) address, if exactly known. */
const struct mm_instance *mm_inventory_by_ip(const struct mm_inventory *inv,
					     const struct mm_ip *ip);
/* The interface record for eni within inst, or NULL. */
const struct mm_netif *mm_instance_nif(const struct mm_instance *inst, const char *eni, size_t n);
size_t mm_inventory_count(const struct mm_inventory *inv);
/* Iterate: i from 0 while the result is non-NULL. */
const struct mm_instance *mm_inventory_at(const struct mm_inventory *inv, size_t i);

/* GuardDuty's resource.instanceDetails object for inst, appended to out
 * (networkInterfaces, tags, launchTime, imageId, ...). If eni is not
 * NULL and inst is NULL, a minimal object naming only that interface is
 * written. */
int mm_instance_to_json(const struct mm_instance *inst, const char *eni, struct mm_buf *out);
/* Re-load an instanceDetails object written by mm_instance_to_json. */
int mm_inventory_add_details_json(struct mm_inventory *inv, const char *buf, size_t n,
				  struct mm_err *err);

#endif
