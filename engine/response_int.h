/*
 * response_int.h: what the response_*.c and incident.c files share and
 * nobody else needs.
 *
 * Redis layout (B = <prefix>{resp}:, one hash tag so every script touches
 * one slot):
 *   B seq            counter of incident ids
 *   B open           hash: incident key -> id of its open incident
 *   B i:<id>         hash: the incident (fields below)
 *   B tl:<id>        list: its timeline, one JSON object per entry
 *   B pc:<id>        set: "<channel>\t<user>" paged so far (user "" for a
 *                    channel paged without users), for ack/resolve/updates
 *   B idx:<state>    zsets of incident ids by creation time
 *   B due            zset of timers by due time: r|<id>|<playbook> (a
 *                    run's next step), e|<id> (escalation), u|<id>
 *                    (update page), p|<id> (repeat page), a|<id> (auto
 *                    resolve)
 *   B sil            hash: silence id -> silence JSON
 *   B ap:<aid>       hash: an approval; B apidx zset of approval ids
 *   B ob:<instance>  hash: notification id -> item JSON (the outbox)
 * Incident fields: id key state created updated last_alert alerts
 * silenced rule_id title level kind urgency group alert (the first alert)
 * last_id pbs (playbooks started, ','-separated) r:<pb> (run record)
 * ra:<pb> (the run's alert) ap:<pb> (its pending approval) summary
 * esc_policy esc_start esc_next pages last_page alerts_at_page acked_by
 * acked_at resolved_by resolved_at note sent failed tl_n tl_alerts folded.
 */
#ifndef VG_RESPONSE_INT_H
#define VG_RESPONSE_INT_H

#include <pthread.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/util.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "execstep.h"
#include "log.h"
#include "notify.h"
#include "oncall.h"
#include "playbook.h"
#include "redis.h"
#include "response.h"

#define RESP_DEFAULT_PB "vigil-default"  /* the default_policy playbook */
#define RESP_DEAD_RULE "vigil-notification-dead-letter"
#define RESP_LEASE_MS 60000      /* a claimed timer comes back after this */
#define RESP_TL_ALERTS 100       /* alert entries per incident timeline */
#define RESP_TL_MAX 2000         /* entries per timeline */
#define RESP_OUT_MAX 2048        /* step output bytes kept in the timeline */

/* ---- Redis scripts (response_lua.c) ---- */

enum {
	SCR_ADD, SCR_CLAIM, SCR_COMMIT, SCR_STATE, SCR_LIST, SCR_GET,
	SCR_APPROVE, SCR_BLOCK, SCR_APLIST, SCR_N
};
extern const char *const resp_lua[SCR_N];

/* ---- an incident as read from Redis (HGETALL) ---- */

struct ivw {
	char **kv;               /* name, value, name, value ... (owned) */
	size_t n;                /* pairs */
};

int ivw_from_reply(struct ivw *v, const redisReply *rep);
void ivw_clear(struct ivw *v);
const char *ivw_get(const struct ivw *v, const char *name);
int64_t ivw_int(const struct ivw *v, const char *name);

/* ---- silences (response_silence.c) ---- */

struct sil_field {
	char *name;
	char **values;
	size_t nvalues;
};

struct silence {
	char id[40];
	char **rules;            /* rule ids or titles */
	size_t nrules;
	unsigned levels;         /* bit per level; 0: any */
	char **tags;
	size_t ntags;
	struct sil_field *fields;
	size_t nfields;
	int64_t starts_ms, ends_ms, created_ms;
	char *author, *comment;
};

/* Parse a silence from JSON (the API's body or the stored form). New
 * ones (fresh: 1) get id and created_ms from now_ms, and must end in the
 * future. Returns 0, or -1 with why. */
int silence_parse(const char *json, size_t len, int fresh, int64_t now_ms,
    struct silence *s, char *why, size_t whylen);
void silence_clear(struct silence *s);
/* The stored / listed form; with now_ms > 0 a "state" is added. */
void silence_json(const struct silence *s, int64_t now_ms, struct buf *out);
/* Does s hold the alert at now_ms? */
int silence_matches(const struct silence *s, const json_t *alert,
    int64_t now_ms);

/* A field of an alert: the correlation group's value, else the event's
 * (dotted name, nested objects). The JSON value or NULL; borrowed. */
const json_t *resp_alert_field(const json_t *alert, const char *name);
/* A scalar as text into out (strings as they are, numbers formatted,
 * arrays: their first scalar); 0, or -1 for none. */
int resp_scalar(const json_t *v, char *out, size_t cap);
int resp_level(const char *s);   /* 0..4; -1 unknown */

/* The incident key (and the summary's tail) of an alert whose rule chose
 * one with vigil.incident_key; 0 when its rule did not. response_keys.c */
int resp_rule_key(const struct response *r, const json_t *alert,
    const char *rule_id, struct buf *key, struct buf *tail);
void resp_rule_keys_free(struct response *r);

/* ---- requests to Redis whose answer may outlive the response ---- */

struct rlife {
	struct response *r;      /* NULL once freed */
	size_t refs;
};

struct rq;
typedef void (*rq_fn)(struct response *r, struct rq *q,
    const redisReply *rep);

struct rq {
	struct rlife *life;
	rq_fn fn;
	void *arg;
	response_reply_cb cb;    /* API callers */
	void *cbarg;
	rq_fn then;              /* commit_send's caller */
	void (*done)(void *, int); /* the outbox store's callback */
	void *darg;
	char *s1, *s2, *s3;      /* owned strings */
	long n;
	struct pitems *items;    /* outbox items to send once committed */
};

struct rq *rq_new(struct response *r, rq_fn fn, void *arg);
/* The callback for rds_cmd / rds_evalsha: runs q->fn unless the response
 * is gone, then frees q. */
void rq_reply_cb(void *arg, const struct redisReply *rep);

/* ---- string vectors ---- */

struct svec {
	char **v;
	size_t n, cap;
};

void svec_add(struct svec *s, const char *str);
void svec_addn(struct svec *s, const char *str, size_t len);
void svec_addi(struct svec *s, int64_t v);
void svec_free(struct svec *s);

/* ---- a commit: one atomic change of an incident (SCR_COMMIT) ---- */

struct pitem {
	struct notify_item it;
	char *json;
};

struct pitems {
	struct pitem *v;
	size_t n;
};

void pitems_free(struct pitems *p);

struct commit {
	char *id;
	char *guard_field;
	char guard_op;           /* 0 none, '=' equal, '!' not equal */
	char *guard_value;
	struct svec sets, dels, incrs, dues, tls, pcs;
	struct pitems *items;    /* owned until sent */
};

void commit_init(struct commit *c, const char *id);
void commit_set(struct commit *c, const char *field, const char *value);
void commit_seti(struct commit *c, const char *field, int64_t value);
void commit_del(struct commit *c, const char *field);
void commit_incr(struct commit *c, const char *field, int64_t by);
/* score < 0: remove the member */
void commit_due(struct commit *c, const char *member, int64_t score);
/* One timeline entry: "ts" (now), "type", then members (a JSON object's
 * members, may be NULL or ""), e.g. "\"by\":\"alice\"". */
void commit_tl(struct commit *c, const char *type, const char *members);
void commit_paged(struct commit *c, const char *channel, const char *user);
void commit_guard(struct commit *c, const char *field, char op,
    const char *value);
/* Take item it (and its stored JSON) to be written with HSETNX. */
void commit_item(struct commit *c, struct notify_item *it);
/*
 * Send c (cleared). When Redis answers, the items that were new are handed
 * to the sender, then fn runs (if not NULL) with the reply: {1, new item
 * ids...} done, {0} guard failed, {-1} no such incident, NULL when Redis
 * could not be asked. Returns 0, or -1 when the command was refused (fn
 * never runs).
 */
int commit_send(struct response *r, struct commit *c, rq_fn fn, void *arg);
/* The same with a tag (copied; q->s3 in fn) and a number (q->n). */
int commit_send_tag(struct response *r, struct commit *c, rq_fn fn,
    const char *tag, long n);
void commit_clear(struct commit *c);
/* The status of a commit reply: 1, 0, -1, or -2 for an error / none. */
int commit_status(const redisReply *rep);

/* ---- a playbook run as stored (incident field r:<playbook>) ---- */

struct runrec {
	struct playbook_run run;
	int64_t started_ms;      /* the current step's attempt began; 0: not */
	char approval[40];       /* its approval id (approve steps) or "" */
};

void runrec_format(const struct runrec *rr, char *out, size_t cap);
int runrec_parse(const char *s, struct runrec *rr);

/* ---- the service ---- */

struct wild {
	int kind;                /* -1 any, 0 detection, 1 correlation */
	int min_level;
	unsigned levels;
};

struct resp_stats {
	uint64_t submitted, filtered, queue_dropped, invalid;
	uint64_t taken, silenced, below_level;
	uint64_t incidents_created, acked, resolved, auto_resolved;
	uint64_t steps_ok, steps_failed, pages, dead_letters;
	uint64_t redis_errors, commits_stale;
};

struct job;

struct response {
	struct response_conf c;
	const struct config *cfg;
	const struct config_response *rc;
	struct event_base *base;
	struct rds *rds;
	struct rlife *life;
	char *prefix;
	char *B;                 /* prefix + "{resp}:" */
	char *k_seq, *k_outbox;
	char *instance;
	int scr[SCR_N];

	struct oncall *oc;
	struct notify_channels *chans;
	struct execstep_policy *xp;
	struct playbook_set *pbs;
	struct playbook_set *dflt; /* default_policy as a playbook, or NULL */
	struct notify *notify;
	struct notify_store store;
	struct notify_xfer *xfer;

	/* the cheap filter: read by submitting threads, immutable */
	char **names;            /* JSON-escaped rule ids and titles that
	                            playbooks name, sorted */
	size_t nnames;
	struct wild *wild;       /* playbooks that name no rule */
	size_t nwild;
	/* incident keys the rules choose (response_keys.c), by rule id */
	struct rkey *rkeys;
	size_t nrkeys;

	/* the queue */
	pthread_mutex_t mu;
	struct buf q;
	size_t qn;
	int armed;
	struct event *qev;
	struct event *qtimer;    /* a paced drain */
	int64_t last_drain_ms;   /* monotonic */
	struct buf work;
	/* hashes of incident keys whose timeline holds all the alert entries
	 * it keeps: their batches send none (0: empty slot) */
	uint64_t *full;
	size_t nfull;

	struct silence *sil;
	size_t nsil;
	int sil_loaded;
	int sil_loading;
	struct event *sil_timer;

	struct event *due_timer;
	int polling;
	int repoll;
	int resumed;

	struct job *jobs;
	size_t njobs;
	struct job *zombies;     /* ended, waiting for their last reply */
	struct resp_stats st;
	uint64_t submitted_atomic, filtered_atomic, dropped_atomic;
	struct log_rl rl_redis;

	void *api;
	void (*api_free)(void *);

	/* fault injection for tests (VIGIL_FAULT=kill-after-store): die by
	 * SIGKILL once a page is stored and before it is sent */
	int fault_kill_after_store;
};

/* response_store.c */
void resp_poll_cb(evutil_socket_t fd, short what, void *arg);
void resp_sil_cb(evutil_socket_t fd, short what, void *arg);
void resp_store_save(void *ctx, const struct notify_item *it,
    void (*done)(void *arg, int status), void *arg);
void resp_store_finish(void *ctx, const struct notify_item *it);
/* Read the outbox and hand its items to the sender; then the queue and
 * the poller start. */
void resp_outbox_resume(struct response *r);

/* response.c */
void resp_kick_poll(struct response *r);
void resp_raise_dead_letter(struct response *r, const struct notify_item *it,
    const char *detail);
int resp_cmd(struct response *r, struct rq *q, int argc, const char **argv,
    const size_t *lens);
int resp_eval(struct response *r, int script, struct rq *q, int argc,
    const char **argv, const size_t *lens);
/* Evaluate script with KEYS[1] = B seq (the slot of every response key)
 * and ARGV from v. */
int resp_eval_vec(struct response *r, int script, struct rq *q,
    const struct svec *v);
char *resp_key(const struct response *r, const char *what, const char *id);
void resp_redis_error(struct response *r, const char *what,
    const redisReply *rep);
/* Incident link, or NULL when response.url is "". Owned. */
char *resp_url(const struct response *r, const char *id);

/* response_page.c: pages and escalation */
#define MAX_TARGETS 64
#define MAX_USERS 32

/* Whom a page goes to: per channel, the users it names (none: the
 * channel's own recipients). */
struct target {
	const char *channel;
	const struct oncall_user *users[MAX_USERS];
	size_t nusers;
};

struct targets {
	struct target v[MAX_TARGETS];
	size_t n;
};

struct target *page_target(struct targets *t, const char *channel);
void page_target_user(struct targets *t, const char *channel,
    const struct oncall_user *u);
/*
 * Queue a notification to every target in commit c: items with ids from
 * seed + channel, the paged set, and a timeline entry each. Returns how
 * many items.
 */
size_t page_add(struct response *r, struct commit *c, const struct ivw *inc,
    const char *seed, enum notify_event ev, const char *summary,
    const char *const *details, size_t ndetails, const char *alert_json,
    const struct targets *t, const char *why);
/* Timer members: page escalation step, update or repeat, auto-resolve. */
void page_escalate(struct response *r, const char *id);
void page_update(struct response *r, const char *id, int repeat);
void page_auto_resolve(struct response *r, const char *id);
/* "<kind>|<id>[|<playbook>]", owned */
char *resp_member(char kind, const char *id, const char *pb);
/* Remove a timer of incident id. */
void resp_drop_due(struct response *r, const char *id, const char *member);
/* A commit whose reply nobody waits for. */
void resp_commit_async(struct response *r, struct commit *c);
/* ,"name":"value" (JSON-escaped) after the members already in b */
void resp_jmember(struct buf *b, const char *name, const char *v);

/* response_run.c: playbook runs */
/* A claimed or new due timer member ("r|...", "e|...", ...). */
void run_due(struct response *r, const char *member);
/* Start driving run pb of incident id (its due timer is ours). */
void run_start(struct response *r, const char *id, const char *pb);
void run_cancel_incident(struct response *r, const char *id);
void run_free_all(struct response *r);
/* Pages to the channels recorded in an incident's pc set: ack / resolve
 * follow-ups. pc: the members. */
void page_followup(struct response *r, const struct ivw *inc,
    enum notify_event ev, char **pc, size_t npc, const char *by);
/* notify results */
void run_notify_result(void *arg, const struct notify_item *it,
    enum notify_class c, const char *detail);
/* A deterministic notification id (UUID form) for seed. */
void resp_item_id(const char *seed, char out[40]);
/* Check an approval's group membership. */
int resp_in_group(const struct response *r, const char *group,
    const char *user);

/* incident.c: the API's views */
void incident_json(struct buf *out, const struct ivw *v,
    const redisReply *timeline, int full);

#endif
