/* route53.h - Route 53 Resolver query log records (JSON, one a line, as
 * delivered to S3, CloudWatch Logs or Firehose; the CloudWatch
 * {"message": "..."} wrapping is unwrapped too). Version 1.000000 and
 * 1.100000 (srcids, firewall fields). Never allocates. */
#ifndef MM_ROUTE53_H
#define MM_ROUTE53_H

#include "core/arena.h"
#include "core/err.h"
#include "core/event.h"

#define MM_DNS_MAX_LINE (64u << 10)

/* 1 if the line looks like a Resolver query log record (cheap check on
 * its keys), else 0. */
int mm_dns_looks_like(const char *line, size_t n);
/* Parse one line into ev (kind MM_EV_DNS). 0 or MM_EPARSE with reason. */
int mm_dns_parse(const char *line, size_t n, struct mm_arena *scratch, struct mm_event *ev,
		 struct mm_err *err);

#endif
