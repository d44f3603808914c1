/* run.h - `mamori agent` (run) and `mamori agent triage`: the handlers
 * the subcommand table in cli/agent.c dispatches to.
 *
 * Spool: each cycle's collector events go to <db>.agent/NNNNNN.hostevents.jsonl
 * (written to a dot-named temporary file, fsync'd, renamed: a file of
 * that name is always whole). The spool files and the followed logs are
 * fed through the scan pipeline, whose per-file progress (committed in
 * the same transaction as the findings) makes a restart - even after
 * kill -9 - read each byte exactly once. Spool files read to their end
 * are removed after the commit.
 *
 * --server URL (src/cli/agent_run.c over agent/ship.h): the cycle's
 * events are appended, whole lines fsync'd, to one queue file
 * <db>.agent/ship/hostevents.jsonl and shipped with the followed logs to
 * a central `mamori serve`; nothing is detected locally. The queue file
 * is replaced by an empty one only when mm_ship_pending() says the
 * server acknowledged all of it (ship.h's RULE). */
#ifndef MM_AGENT_RUN_H
#define MM_AGENT_RUN_H

int mm_agent_run_main(int argc, char **argv);
int mm_agent_triage_main(int argc, char **argv);

#endif
