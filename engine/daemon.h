/*
 * daemon.h: vigild's run loop: binds the configured inputs, feeds what
 * arrives through the pipeline, writes alerts to the configured outputs,
 * serves /healthz and /metrics, and handles signals (TERM/INT: drain and
 * stop; HUP: reopen the alerts file).
 */
#ifndef VG_DAEMON_H
#define VG_DAEMON_H

#include "config.h"
#include "decode.h"
#include "detect.h"

/* Runs until SIGTERM/SIGINT; 0 on a clean stop, -1 if start-up failed.
 * Borrows everything. */
int daemon_run(const struct config *cfg, const struct decode_set *dec,
    const struct ruleset *rules);

#endif
