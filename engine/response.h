/*
 * response.h: vigil's response service: alerts become incidents in Redis,
 * playbooks run for them, and the on-call get paged.
 *
 * Worker threads hand alert JSON lines (the fixed schema of
 * ARCHITECTURE.md) to response_submit. A cheap scan there drops the
 * detections nobody wants (below response.min_level and matched by no
 * playbook) before they cost a lock or a Redis round trip; the rest is
 * queued and taken over by the response loop (vigild's main thread).
 *
 * Which alerts open incidents (the default, documented in vigil.yml):
 * every correlation alert, every alert an enabled playbook matches, and
 * detections at or above response.min_level (high). Alerts with the same
 * key join one open incident: the key is the rule id and the correlation
 * group values; or what the rule chose (vigil.incident_key, see
 * response_set_rules); or, when a matching playbook says group_by, the
 * playbook and those fields. An incident goes triggered -> acknowledged ->
 * resolved (by the API, or automatically after response.auto_resolve
 * without alerts) and keeps a typed, append-only timeline.
 *
 * Everything that must survive a restart or be shared by several vigild
 * processes lives in Redis under <prefix>{resp}: incidents, timelines, the
 * due timers (playbook steps, escalation, updates, auto-resolve), silences,
 * approvals and the notification outbox. Every change is one Lua script, so
 * that a timer is claimed by one process at a time (with a lease that
 * expires if that process dies) and a page's outbox items are written in
 * the same atomic step that advances the run or the escalation. Item ids
 * are derived from what they are (incident, step, page number, channel), so
 * doing a step again after a crash finds its items already queued and pages
 * nobody twice.
 *
 * Not here: the HTTP routing (api.c) and the alert pipeline itself.
 *
 * A struct response belongs to the thread running its event loop; only
 * response_submit may be called from other threads.
 */
#ifndef VG_RESPONSE_H
#define VG_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "vg.h"

struct event_base;
struct rds;
struct ruleset;

struct response_conf {
	const struct config *cfg;   /* borrowed; outlives the response */
	struct event_base *base;    /* the response loop */
	struct rds *rds;            /* borrowed; freed after the response */
	const char *instance;       /* names this process's outbox; NULL: the
	                               host name */
	/* Alerts the response raises itself (undeliverable notifications),
	 * as one JSON line, so that they reach the alert outputs too. May be
	 * NULL. Called on the loop thread. */
	void (*on_alert)(void *arg, const char *json, size_t len);
	void *arg;
};

struct response;

/*
 * Load the on-call schedules, channels, exec folders and playbooks the
 * configuration names (problems reported to d, which may be NULL) and
 * start the service on c->base. Returns NULL with err when anything is
 * wrong. Borrows c's pointers.
 */
struct response *response_new(const struct response_conf *c,
    struct vg_diag *d, struct vg_err *err);
/* Stop (running steps are cancelled, their timers stay in Redis for the
 * next start) and free. No reply callback runs after this. */
void response_free(struct response *r);

/*
 * Offer one alert JSON line (a trailing newline is ignored). Any thread.
 * Returns 1 when queued, 0 when the cheap filter dropped it (no incident
 * would be opened), -1 when the queue is full or the line is too long
 * (counted).
 */
int response_submit(struct response *r, const char *alert_json, size_t len);
/* The same for a buffer of whole alert lines (each ending in a newline),
 * taking the lock once for all of them. Returns how many were queued.
 * r may be NULL (nothing happens). Any thread. */
size_t response_submit_lines(struct response *r, const char *lines,
    size_t len);
/* The same for n lines the caller has cut: line i is lines[ends[i - 1]
 * .. ends[i]) (from 0 for the first), its newline included; none is
 * scanned past what the filter reads. */
size_t response_submit_ends(struct response *r, const char *lines,
    const size_t *ends, size_t n);

/*
 * Check what response_new would load (on-call, channels, exec folders,
 * playbooks); every problem goes to d. Returns the number of errors.
 * For vigild -t. Any thread.
 */
int response_check(const struct config *cfg, struct vg_diag *d);

/*
 * The incident keys rules choose (`vigil: {incident_key: [fields]}` or
 * `{incident_key: {name: N, fields: [...]}}` in a detection or
 * correlation rule), read from rs (copied; rs may go afterwards). Called
 * at start and after every rule reload; replaces what an earlier call
 * set. r or rs may be NULL. Loop thread.
 */
void response_set_rules(struct response *r, const struct ruleset *rs);

/* Prometheus lines (incidents, alerts taken and filtered, playbook steps,
 * notifications, the Redis connection). Loop thread. */
void response_metrics(struct response *r, struct buf *out);

/* ---- vigild's part (response_svc.c) ---- */

/*
 * Connect to Redis (redis_url; NULL or "": cfg's redis.url; that empty
 * too: start and supervise the embedded redis-server in cfg->data_dir)
 * and start the service on base. on_alert as in struct response_conf.
 * NULL with err on failure. Start-up only (may block while redis-server
 * starts); the loop thread.
 */
struct response_svc;
struct response_svc *response_svc_start(const struct config *cfg,
    struct event_base *base, const char *redis_url,
    void (*on_alert)(void *arg, const char *json, size_t len), void *arg,
    struct vg_err *err);
struct response *response_svc_response(const struct response_svc *s);
/* The embedded server's URL (for other modules to share), or NULL. */
const char *response_svc_redis_url(const struct response_svc *s);
/* Stop the service, the connection and the embedded server. NULL: no-op. */
void response_svc_stop(struct response_svc *s);

/* ---- the operations of the HTTP API (api.c) ---- */

/*
 * Each operation answers once through cb with an HTTP status and a JSON
 * body (borrowed for the call), either before returning (bad input) or
 * later from the loop. After response_free no callback runs. Loop thread.
 */
typedef void (*response_reply_cb)(void *arg, int status, const char *body,
    size_t len);

/* Incidents, newest first. state: NULL or "" (every state), "open"
 * (triggered and acknowledged), "triggered", "acknowledged", "resolved".
 * limit 1..1000. */
void response_incidents(struct response *r, const char *state, long limit,
    response_reply_cb cb, void *arg);
/* One incident with its timeline. */
void response_incident(struct response *r, const char *id,
    response_reply_cb cb, void *arg);
/* Acknowledge or resolve; by names who did (required), note may be NULL. */
void response_ack(struct response *r, const char *id, const char *by,
    const char *note, response_reply_cb cb, void *arg);
void response_resolve(struct response *r, const char *id, const char *by,
    const char *note, response_reply_cb cb, void *arg);

/* Silences: list (active, pending and recently expired), add (a JSON
 * object, see api.c), delete. */
void response_silences(struct response *r, response_reply_cb cb, void *arg);
void response_silence_add(struct response *r, const char *json, size_t len,
    response_reply_cb cb, void *arg);
void response_silence_delete(struct response *r, const char *id,
    response_reply_cb cb, void *arg);

/* Approvals of `approve` steps: the pending ones, and a decision by a
 * member of the step's group. */
void response_approvals(struct response *r, response_reply_cb cb, void *arg);
void response_approve(struct response *r, const char *id, int approve,
    const char *by, const char *comment, response_reply_cb cb, void *arg);

/* A slot for the HTTP layer's state, freed with free_fn by
 * response_free. */
void response_set_api(struct response *r, void *api, void (*free_fn)(void *));
void *response_api(const struct response *r);

#endif
