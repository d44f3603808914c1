/* ctrules.h - the request-parameter and user-agent readers of the
 * ctrules detector (src/detect/ctrules.c), exposed for its unit test and
 * fuzz target. All take borrowed bytes, never allocate and never read
 * past n; malformed JSON reads as "grants nothing". */
#ifndef MM_CTRULES_H
#define MM_CTRULES_H

#include <stddef.h>

/* Who a bucket policy or ACL opens the bucket to. */
enum mm_ct_grant {
	MM_CT_GRANT_NONE = 0,
	MM_CT_GRANT_AUTHENTICATED, /* every authenticated AWS user */
	MM_CT_GRANT_ANONYMOUS      /* anyone on the internet */
};

/* The widest grant of a bucket policy document (PutBucketPolicy's
 * requestParameters.bucketPolicy, an object or a JSON string holding
 * one): an Allow statement to Principal "*" / {"AWS":"*"} (or with
 * NotPrincipal) whose Condition, if any, names none of the keys that S3
 * itself counts as making a policy non-public (aws:SourceIp,
 * aws:SourceVpc, aws:PrincipalAccount, ...). */
enum mm_ct_grant mm_ct_policy_grant(const char *json, size_t n);

/* The widest grant of PutBucketAcl's requestParameters (the whole
 * object): ACL grants to the AllUsers / AuthenticatedUsers groups,
 * canned x-amz-acl public-read(-write) / authenticated-read, and
 * x-amz-grant-* headers naming those groups. */
enum mm_ct_grant mm_ct_acl_grant(const char *json, size_t n);

/* Penetration-testing distribution named by an AWS SDK/CLI user agent:
 * the kernel release after "Linux/" or "os/linux#" (6.5.0-kali3-amd64,
 * 6.5.0-13parrot1-amd64, 6.6.30-pentoo), or the distribution id in
 * "md/distrib#kali.2024", "exe/x86_64.kali.2023", "source/...".
 * 0 none, 1 Kali, 2 Parrot, 3 Pentoo. The word elsewhere (a tool name,
 * a path) does not count. */
int mm_ct_pentest_distro(const char *ua, size_t n);

#endif
