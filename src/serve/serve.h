/* serve.h - `mamori serve`: the live daemon.
 *
 * One ingest thread follows the given files and folders (new files, and
 * files that grew, are fed to the same pipeline `scan` uses, then
 * flushed: one transaction per poll that read anything), and an HTTP
 * listener serves GuardDuty's API (serve/api.h), /metrics (Prometheus
 * text) and /healthz. Restart safety is the pipeline's: file progress is
 * committed with the findings and detector state it produced, so a kill
 * at any point resumes where the last commit stopped, reading nothing
 * twice. The database's scan lock is held for the daemon's lifetime (a
 * `mamori scan` of the same database exits 5 meanwhile).
 *
 * Reloads (SIGHUP; threat intel sets and IP sets changed through the
 * API): the new options are built aside; between two polls (nothing is
 * pending then: every poll ends in a commit) the pipeline is closed and
 * opened again with them, which reloads every list and rule and reads
 * the detectors' state back from the store, so no state is lost. If the
 * new options cannot be opened, the old ones are opened again. */
#ifndef MM_SERVE_H
#define MM_SERVE_H

#include "core/err.h"
#include "engine/pipeline.h"
#include "serve/notify.h"

#define MM_SERVE_MAX_FOLLOW 64

/* SIGHUP: build the pipeline options again from their sources (the
 * config file, Sigma rules) into *out, aside from the running ones; 0, or
 * an error (err says why) and the daemon keeps running as it was. Then,
 * once the daemon reopened its pipeline with them or gave up, done(ok)
 * frees whichever of the two option sets is no longer used. */
struct mm_serve_reload {
	int (*prepare)(void *ctx, struct mm_pipeline_opts *out, struct mm_err *err);
	void (*done)(void *ctx, int ok);
	/* after a prepare that succeeded, before done: the notification sinks
	 * of the new configuration into *out (NULL: sinks are not reloaded).
	 * 0, or an error and the running sinks stay. The daemon swaps to them
	 * when they differ: the outbox stays in the database, so queued
	 * deliveries of a kept sink (same name) continue and those of a
	 * removed sink become dead letters ("sink removed"). Settings that
	 * need a restart (listen, TLS files, follow) are the callback's to
	 * compare and log. */
	int (*sinks)(void *ctx, struct mm_notify_conf *out, struct mm_err *err);
	void *ctx;
};

struct mm_serve_opts {
	struct mm_pipeline_opts p;	/* db_path must be set */
	const char *follow[MM_SERVE_MAX_FOLLOW];
	int nfollow;
	const char *listen;		/* "127.0.0.1:8080" */
	const char *tls_cert, *tls_key;	/* both or neither */
	int poll_ms;			/* follow interval; 0 = 1000 */
	/* where to write "http://HOST:PORT DETECTOR_ID" once listening (tests
	 * and scripts that pass port 0); NULL = nowhere */
	const char *ready_file;
	struct mm_serve_reload reload;	/* prepare NULL: SIGHUP only reloads the lists */
	/* stream sources, written into spool files the daemon follows
	 * (serve/spool.h) */
	const char *syslog_udp, *syslog_tcp;	/* "HOST:PORT" or NULL */
	int stdin_src;
	const char *spool_dir;		/* NULL = "<db>.spool" */
	const struct mm_notify_conf *notify;	/* sinks (serve/notify.h); NULL = none */
};

/* Run until SIGINT/SIGTERM (then finish the current poll's flush and
 * return 0), or fail to start (negative, err set). */
int mm_serve_run(const struct mm_serve_opts *o, struct mm_err *err);

#endif
