/*
 * notify.h: notification channels (the `channels` key of vigil.yml; format
 * in playbooks/README.md) and the sender with its outbox.
 *
 * Channel types: a generic JSON webhook (versioned payload), a Slack
 * compatible incoming webhook, the PagerDuty Events API v2 (trigger,
 * acknowledge and resolve sharing a dedup_key), e-mail over SMTP, and exec
 * (an allow-listed program with the payload on stdin). HTTP(S) and SMTP go
 * through libcurl's multi interface on the caller's libevent loop: nothing
 * here blocks.
 *
 * A notification is first turned into a self-contained item (the channel's
 * name and the versioned JSON payload) and handed to the store, then sent;
 * the channel-specific body (Slack text, PagerDuty event, e-mail) is made
 * from the payload at each attempt, so secrets never sit in the store and
 * a resumed item sends the very same message. Results are classified:
 *   done    2xx; SMTP accepted; exec exit 0
 *   retry   429, 408, 5xx, connection failures and timeouts; SMTP 4xx;
 *           exec exit 75 (EX_TEMPFAIL), timeout or signal
 *   dead    any other 4xx or 3xx; SMTP 5xx; other exec exits; no recipient
 * Retries back off exponentially (with jitter, honouring Retry-After) until
 * the channel's attempt or age limit, after which the item is dead.
 *
 * Storage is a seam: struct notify_store is called to persist an item
 * before its first attempt and after every change, so a Redis-backed store
 * can resume pending items after a restart (notify_resume). Without a store
 * the outbox lives in memory only.
 *
 * A struct notify belongs to its loop's thread. Channel sets are immutable
 * once loaded.
 */
#ifndef VG_NOTIFY_H
#define VG_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vg.h"

struct ynode;
struct event_base;
struct execstep_policy;
struct oncall_user;

/* ---- channels ---- */

enum notify_type {
	NOTIFY_WEBHOOK, NOTIFY_SLACK, NOTIFY_PAGERDUTY, NOTIFY_EMAIL, NOTIFY_EXEC,
};

enum notify_tls { NOTIFY_TLS_ON, NOTIFY_TLS_TRY, NOTIFY_TLS_OFF };

struct notify_retry {
	int64_t initial_ms;      /* first delay (1 s) */
	int64_t max_ms;          /* largest delay (5 min) */
	unsigned attempts;       /* attempts in all (12) */
	int64_t max_age_ms;      /* give up this long after creation (24 h) */
};

struct notify_channel {
	char *name;
	enum notify_type type;
	char *url;               /* webhook, slack, pagerduty; smtp(s):// */
	char **headers;          /* "Name: value" (webhook) */
	size_t nheaders;
	char *secret;            /* webhook: HMAC-SHA256 signing key */
	char *routing_key;       /* pagerduty */
	char *from;              /* email */
	char **to;               /* email: fixed recipients */
	size_t nto;
	char *username, *password; /* smtp auth */
	enum notify_tls starttls;  /* smtp:// only */
	char *ca_file;           /* extra CA bundle for TLS */
	char **argv;             /* exec: program and literal arguments */
	size_t nargv;
	int64_t timeout_ms;      /* one attempt (10 s) */
	struct notify_retry retry;
	int line;
};

struct notify_channels {
	struct notify_channel *v;
	size_t n;
};

struct notify_load_opts {
	/* exec channels are only accepted with a policy */
	const struct execstep_policy *exec;
};

/*
 * Read the `channels` tree (a map of names to channels, or a list of
 * channels with a name each; NULL: none). Secret files (*_file keys) are
 * read now, relative to the configuration file's folder. Every problem is
 * reported to d with file:line:col; NULL when there was any. Load time only.
 */
struct notify_channels *notify_channels_load(const struct ynode *tree,
    const struct notify_load_opts *o, struct vg_diag *d);
/* The same from YAML text whose root is the channels map or list. */
struct notify_channels *notify_channels_load_buffer(const char *name,
    const char *buf, size_t len, const struct notify_load_opts *o,
    struct vg_diag *d);
void notify_channels_free(struct notify_channels *c);
const struct notify_channel *notify_channel(const struct notify_channels *c,
    const char *name);
/* For playbook_opts.channel_exists: ctx is a struct notify_channels. */
int notify_channel_exists(void *ctx, const char *name);
const char *notify_type_name(enum notify_type t);

/* ---- messages and items ---- */

enum notify_event { NOTIFY_TRIGGER, NOTIFY_ACKNOWLEDGE, NOTIFY_RESOLVE };

/* What the caller wants said. Everything is borrowed. */
struct notify_msg {
	enum notify_event event;
	const char *incident_id;
	const char *dedup_key;   /* NULL: incident_id */
	const char *summary;
	const char *severity;    /* rule level (informational .. critical) */
	int urgency_high;
	const char *source;      /* host the alert is about; NULL: "vigil" */
	const char *url;         /* link to the incident; may be NULL */
	int64_t ts_ms;
	const char *const *details; /* name, value, name, value ... */
	size_t ndetails;
	const struct oncall_user *const *to; /* whom it pages; may be 0 */
	size_t nto;
	const char *alert_json;  /* the alert, embedded as is; may be NULL */
};

enum notify_state { NOTIFY_PENDING, NOTIFY_SENDING, NOTIFY_DONE, NOTIFY_DEAD };
enum notify_class { NOTIFY_OK, NOTIFY_RETRY, NOTIFY_FAIL };

/* One notification to one channel: what the outbox stores. */
struct notify_item {
	char id[40];             /* unique; also the e-mail Message-ID */
	char *channel;
	enum notify_event event;
	char *payload;           /* the versioned JSON payload */
	char **rcpt;             /* e-mail addresses of the recipients */
	size_t nrcpt;
	int64_t created_ms;
	int64_t next_ms;         /* next attempt, wall clock */
	unsigned attempts;       /* made so far */
	enum notify_state state;
	long last_status;        /* HTTP or SMTP status, exit code; 0 */
	char last_error[256];
};

/*
 * Build the item for msg on channel ch (id from alert_new_id style UUIDv7,
 * created and next at now_ms). Returns 0, or -1 with err. The item owns its
 * strings (free with notify_item_clear).
 */
int notify_item_make(const struct notify_channel *ch,
    const struct notify_msg *m, int64_t now_ms, struct notify_item *it,
    struct vg_err *err);
void notify_item_clear(struct notify_item *it);
/* The item as one JSON object (the stored form) and back. */
void notify_item_to_json(const struct notify_item *it, struct buf *out);
int notify_item_from_json(const char *s, size_t len, struct notify_item *it,
    struct vg_err *err);

/* A rendered attempt: what goes on the wire for it->channel. */
struct notify_req {
	char *url;
	char **headers;          /* "Name: value" */
	size_t nheaders;
	char *body;              /* HTTP body, e-mail message or exec stdin */
	size_t body_len;
	char *mail_from;         /* SMTP envelope */
	char **rcpt;
	size_t nrcpt;
};

/* Render item it for channel ch at now_ms (signature time, e-mail Date).
 * Returns 0, or -1 with err (a dead letter: nothing to send). */
int notify_render(const struct notify_channel *ch,
    const struct notify_item *it, int64_t now_ms, struct notify_req *out,
    struct vg_err *err);
void notify_req_clear(struct notify_req *r);

/* Classify an HTTP attempt (curl result code, status or 0). */
enum notify_class notify_classify_http(int curl_code, long status);
/* ... an SMTP attempt (curl result code, last SMTP reply code or 0). */
enum notify_class notify_classify_smtp(int curl_code, long reply);
/* ... an exec attempt. */
enum notify_class notify_classify_exec(int started, int exit_code,
    int timed_out);

/*
 * Delay before attempt number `attempts` + 1 after a retryable failure:
 * initial * 2^(attempts-1) capped at max, scaled into [1/2, 1] by jitter
 * (0..1), at least retry_after_ms (capped at one hour).
 */
int64_t notify_backoff(const struct notify_retry *r, unsigned attempts,
    double jitter, int64_t retry_after_ms);

/* ---- the sender ---- */

struct notify_store {
	/* Persist it (new or changed); call done(arg, 0) once durable, or
	 * done(arg, -1) when it could not be stored (the attempt waits for a
	 * later save). May call done before returning. */
	void (*save)(void *ctx, const struct notify_item *it,
	    void (*done)(void *arg, int status), void *arg);
	/* It is over (done or dead); the store may archive or drop it. */
	void (*finish)(void *ctx, const struct notify_item *it);
	void *ctx;
};

/* Every attempt's outcome, for the incident timeline and metrics; detail
 * says what happened ("HTTP 503", "SMTP 250", "exit 0"). it is borrowed. */
typedef void (*notify_result_cb)(void *arg, const struct notify_item *it,
    enum notify_class c, const char *detail);

struct notify_conf {
	struct event_base *base;
	const struct notify_channels *channels; /* borrowed; outlives n */
	const struct execstep_policy *exec;     /* for exec channels */
	const struct notify_store *store;       /* NULL: memory only */
	notify_result_cb on_result;
	void *arg;
	size_t max_inflight;     /* attempts at once (64) */
};

struct notify_stats {
	uint64_t queued, attempts, delivered, retried, dead;
	size_t pending, inflight;
};

struct notify;

struct notify *notify_new(const struct notify_conf *c, struct vg_err *err);
/* Stop every attempt (items stay in the store as they were) and free. */
void notify_free(struct notify *n);

/*
 * Queue msg for the named channel: make the item, store it, send it.
 * id_out (may be NULL) gets the item's id. Returns 0, or -1 with err (no
 * such channel). Loop thread.
 */
int notify_send(struct notify *n, const char *channel,
    const struct notify_msg *m, char id_out[40], struct vg_err *err);
/* Take back an item read from the store after a restart; it is sent at
 * its next_ms. Copies it. */
int notify_resume(struct notify *n, const struct notify_item *it,
    struct vg_err *err);
const struct notify_stats *notify_stats(const struct notify *n);
/* Pending plus in flight: 0 when the outbox is empty. */
size_t notify_outstanding(const struct notify *n);
/* Prometheus lines: vigil_notifications_total{channel,result} and the
 * outbox gauge. */
void notify_metrics(const struct notify *n, struct buf *out);

#endif
