/* run.h - `mamori agent` (run) and `mamori agent triage`: the handlers
 * the subcommand table in cli/agent.c dispatches to, and the hook the
 * shipping helper fills.
 *
 * Spool: each cycle's collector events go to <db>.agent/NNNNNN.hostevents.jsonl
 * (written to a dot-named temporary file, fsync'd, renamed: a file of
 * that name is always whole). The spool files and the followed logs are
 * fed through the scan pipeline, whose per-file progress (committed in
 * the same transaction as the findings) makes a restart - even after
 * kill -9 - read each byte exactly once. Spool files read to their end
 * are removed after the commit. */
#ifndef MM_AGENT_RUN_H
#define MM_AGENT_RUN_H

#include <stddef.h>

#include "core/err.h"

int mm_agent_run_main(int argc, char **argv);
int mm_agent_triage_main(int argc, char **argv);

/* --server URL: instead of feeding the local pipeline, hand the spool
 * files (whole, canonical paths) and followed logs to the shipper. NULL
 * until the shipping code (agent/ship.c) sets it; `--server` is refused
 * while it is NULL. Returns 0 when the files are safely queued (the
 * agent then removes its spool files), negative with err set otherwise. */
extern int (*mm_agent_ship_fn)(const char *server, const char *const *files, size_t n,
			       struct mm_err *err);

#endif
