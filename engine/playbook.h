/*
 * playbook.h: response playbooks (the YAML files under playbooks/; format in
 * playbooks/README.md).
 *
 * A playbook says which alerts it handles (rule ids or titles, tags, a
 * level, the alert kind, conditions on fields) and holds a graph of steps:
 * notify, exec, webhook, redis (blocklist), wait and approve, each with a
 * timeout, retries and on_success / on_failure branches. The graph must be
 * acyclic, so a run executes each step at most once (plus its retries).
 *
 * Step arguments are templates: `{{source.ip}}`, `{{alert.rule.title}}`...
 * are replaced by values of the alert (the fixed alert JSON of
 * ARCHITECTURE.md); each template yields exactly one string (an exec
 * argument stays one argument whatever the value holds), and values are
 * never expanded again. Alert metadata lives under `alert.` so that it never
 * collides with ECS fields such as rule.id, group.name or event.action.
 *
 * Containment steps (exec, webhook, redis) refuse to act on a protected
 * address: every value substituted into them, and every whole argument,
 * that is an IP address or network is checked against the protected list
 * (loopback and unspecified addresses always; `protected:` documents in
 * playbook files; the caller's list). A value that looks like an address but
 * is not a canonical one (`010.0.0.1`, `1.2.3`) is refused as well, since
 * the program receiving it might read it differently.
 *
 * This module is pure: it loads, matches, renders and advances a run's
 * state (struct playbook_run, plain data meant to be stored with the
 * incident). Performing a step (execstep, notify, Redis) and keeping timers
 * belongs to the caller.
 *
 * A loaded set is immutable; any thread may use it.
 */
#ifndef VG_PLAYBOOK_H
#define VG_PLAYBOOK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vg.h"

struct json_t;
struct oncall;
struct execstep_policy;

/* ---- templates ---- */

enum pb_ns {
	PB_LIT,        /* literal text */
	PB_ALERT,      /* alert.id, alert.kind, alert.count, alert.timestamp */
	PB_RULE,       /* alert.rule.id, .title, .level, .tags */
	PB_GROUP,      /* alert.group.<field>: the correlation group's value */
	PB_EVENT,      /* alert.event.<field>: the (last) event's value */
	PB_FIELD,      /* <field>: group first, then event */
	PB_INCIDENT,   /* incident.<key>: given by the caller */
	PB_PLAYBOOK,   /* playbook.name */
};

struct pb_seg {
	enum pb_ns ns;
	char *text;    /* PB_LIT: the text; else the name after the prefix */
	size_t len;
};

struct pb_tmpl {
	struct pb_seg *segs;
	size_t nsegs;
	int line, col;
};

/* What templates are filled from. */
struct pb_vars {
	const struct json_t *alert;  /* the alert object (borrowed) */
	const char *const *incident; /* key, value, key, value ... */
	size_t nincident;            /* pairs */
	const char *playbook;        /* playbook name */
};

/* ---- protected addresses ---- */

struct pb_net {
	int family;            /* 4 or 6 */
	uint8_t addr[16];
	int prefix;
};

/* ---- steps ---- */

enum pb_kind { PB_NOTIFY, PB_EXEC, PB_WEBHOOK, PB_REDIS, PB_WAIT, PB_APPROVE };

#define PB_END (-1)    /* branch: stop, the run completed */
#define PB_ABORT (-2)  /* branch: stop, the run failed */

enum pb_notify_action { PB_TRIGGER, PB_ACKNOWLEDGE, PB_RESOLVE };

struct pb_kv {
	char *name;
	struct pb_tmpl value;
};

/* A JSON body for webhooks: a template tree. */
struct pb_json {
	enum { PBJ_STR, PBJ_RAW, PBJ_OBJ, PBJ_ARR } type;
	struct pb_tmpl str;      /* PBJ_STR: rendered as a JSON string */
	char *raw;               /* PBJ_RAW: number, true, false, null */
	char **keys;             /* PBJ_OBJ */
	struct pb_json *items;   /* PBJ_OBJ values / PBJ_ARR items */
	size_t n;
};

struct pb_step {
	char *id;
	enum pb_kind kind;
	int line;
	int64_t timeout_ms;      /* 0: the kind's default */
	int retries;
	int64_t retry_delay_ms;  /* doubles on each retry */
	int on_success;          /* step index, PB_END or PB_ABORT */
	int on_failure;
	union {
		struct {
			char *policy;        /* escalation policy, or NULL */
			char **channels;     /* or channels */
			size_t nchannels;
			enum pb_notify_action action;
			struct pb_tmpl summary;
			struct pb_kv *details;
			size_t ndetails;
		} notify;
		struct {
			char *prog;          /* literal program name or path */
			struct pb_tmpl *args;
			size_t nargs;
			struct pb_kv *env;
			size_t nenv;
			int stdin_alert;     /* the alert JSON on stdin */
		} exec;
		struct {
			char *url;           /* literal */
			char *method;
			struct pb_kv *headers; /* literal values (templates with no
			                          variables) */
			size_t nheaders;
			struct pb_json *json;  /* NULL: the versioned alert payload */
		} webhook;
		struct {
			char *blocklist;     /* name; key <prefix>blocklist:<name> */
			int remove;          /* 0: add */
			struct pb_tmpl member;
			int64_t ttl_ms;
		} redis;
		struct {
			int64_t ms;
		} wait;
		struct {
			char *group;
			struct pb_tmpl summary;
		} approve;
	} u;
};

/* ---- playbooks ---- */

enum pb_level { PB_INFORMATIONAL, PB_LOW, PB_MEDIUM, PB_HIGH, PB_CRITICAL };

enum pb_cond_op { PB_EQ, PB_NE, PB_CIDR, PB_NOT_CIDR, PB_EXISTS, PB_CONTAINS };

struct pb_cond {
	char *field;
	enum pb_cond_op op;
	char **values;           /* PB_EQ, PB_NE, PB_CONTAINS */
	size_t nvalues;
	struct pb_net *nets;     /* PB_CIDR, PB_NOT_CIDR */
	size_t nnets;
	int exists;              /* PB_EXISTS */
};

struct playbook {
	char *name;
	char *description;
	char *file;
	int line;
	int enabled;
	/* match: every given criterion must hold; lists are any-of */
	char **rules;            /* rule ids or titles */
	size_t nrules;
	char **not_rules;        /* none of these rule ids or titles */
	size_t nnot_rules;
	char **tags;
	size_t ntags;
	int min_level;           /* -1: any */
	unsigned levels;         /* bit per enum pb_level when a list; 0: none */
	int kind;                /* -1 any, 0 detection, 1 correlation */
	struct pb_cond *conds;
	size_t nconds;
	/* incidents */
	char **group_by;         /* incident key fields; NULL: rule + group */
	size_t ngroup_by;
	int urgency_high;        /* -1: from the level (high, critical) */
	struct pb_step *steps;
	size_t nsteps;
};

struct playbook_set {
	struct playbook **pbs;
	size_t n;
	struct pb_net *protected;
	size_t nprotected;
};

struct playbook_opts {
	/* when set, names are checked against them */
	const struct oncall *oncall;            /* policies, approval groups */
	int (*channel_exists)(void *ctx, const char *name);
	void *ctx;
	size_t nchannels;        /* channels configured; with none (and no
	                            policies, no groups) names only warn */
	/* exec steps are only accepted with a policy, and their program must
	 * resolve in it */
	const struct execstep_policy *exec;
	/* protected addresses and networks from the configuration */
	const char *const *protected;
	size_t nprotected;
};

struct playbook_stats {
	int files;
	int loaded;
	int rejected;
};

/*
 * Load playbook files and folders (*.yml, *.yaml, recursively). Each
 * problem is reported to d as file:line:col; a playbook with an error is
 * skipped and counted as rejected, the others are kept. Returns an owned
 * set (never NULL). Load time only.
 */
struct playbook_set *playbook_load(const char *const *paths, size_t npaths,
    const struct playbook_opts *o, struct vg_diag *d,
    struct playbook_stats *st);
/* The same for YAML text named `name`. Borrows buf. */
struct playbook_set *playbook_load_buffer(const char *name, const char *buf,
    size_t len, const struct playbook_opts *o, struct vg_diag *d,
    struct playbook_stats *st);
void playbook_set_free(struct playbook_set *s);

const struct playbook *playbook_find(const struct playbook_set *s,
    const char *name);
const struct pb_step *playbook_step(const struct playbook *pb, const char *id);

/* Does pb handle this alert (a JSON object in the alert schema)? */
int playbook_matches(const struct playbook *pb, const struct json_t *alert);
/* The enabled playbooks that handle alert, in load order: up to max into
 * out; returns how many matched in all. */
size_t playbook_match(const struct playbook_set *s, const struct json_t *alert,
    const struct playbook **out, size_t max);

/*
 * Render a template into out (appended). strict: a variable without a value
 * is an error (containment steps); otherwise it renders as "". Returns 0,
 * or -1 with the reason in why.
 */
int playbook_render(const struct pb_tmpl *t, const struct pb_vars *v,
    int strict, struct buf *out, char *why, size_t whylen);

/* Is the address or network in s (a canonical IPv4/IPv6 address, with an
 * optional /prefix) inside or overlapping a protected network? 1 yes, 0 no,
 * -1 when s is not an address. */
int playbook_protected(const struct playbook_set *set, const char *s);

/* ---- performing a step: what the caller must do ---- */

struct pb_call {
	enum pb_kind kind;
	/* PB_EXEC */
	const char *prog;
	char **args;
	size_t nargs;
	char **env;              /* "NAME=value" */
	size_t nenv;
	/* PB_EXEC stdin, PB_WEBHOOK body */
	char *body;
	size_t body_len;
	/* PB_WEBHOOK */
	const char *url, *method;
	char **headers;          /* "Name: value" */
	size_t nheaders;
	/* PB_REDIS */
	char *key;               /* prefix + "blocklist:" + name */
	char *member;
	int remove;
	int64_t ttl_ms;
	/* PB_NOTIFY, PB_APPROVE */
	char *summary;
	char **details;          /* name, value, name, value ... */
	size_t ndetails;
	/* PB_WAIT, and every step's deadline (the step's timeout, else exec
	 * and webhook 30 s, redis 10 s, approve 1 h; 0: none) */
	int64_t wait_ms;
	int64_t timeout_ms;
};

/*
 * Render step st for the alert in v: templates filled (strictly for
 * containment steps), protected addresses refused. prefix is the Redis key
 * prefix ("vigil:"). Returns 0 and an owned call (free with
 * playbook_call_free), or -1 with the reason in why: the step fails
 * without being attempted.
 */
int playbook_prepare(const struct playbook_set *set, const struct playbook *pb,
    const struct pb_step *st, const struct pb_vars *v, const char *prefix,
    struct pb_call *out, char *why, size_t whylen);
void playbook_call_free(struct pb_call *c);

/* The alert's versioned webhook payload: {"version":1,"type":"vigil.alert",
 * "playbook":..., "step":..., "incident":{...}, "alert":{...}}. */
void playbook_payload(const struct pb_vars *v, const char *step,
    struct buf *out);

/* ---- a run ---- */

enum pb_outcome { PB_RUNNING, PB_COMPLETED, PB_FAILED };

/* Plain data, meant to be stored with the incident and read back. */
struct playbook_run {
	int step;                /* current step, or -1 when over */
	unsigned attempt;        /* 0: first try of the step */
	int64_t not_before_ms;   /* do not start the step before this */
	enum pb_outcome outcome;
	unsigned steps_run;      /* steps finished, for the timeline */
};

void playbook_run_init(struct playbook_run *r, const struct playbook *pb);
/* The step to perform now, or NULL when the run is over. */
const struct pb_step *playbook_run_step(const struct playbook_run *r,
    const struct playbook *pb);
/*
 * Report how the current step went (ok: 1 success, 0 failure, including a
 * timeout or a refusal). A failure with retries left repeats the step after
 * its retry delay (doubled each time, from now_ms); otherwise the run
 * follows on_success or on_failure. Returns the next step, or NULL when the
 * run is over (outcome then says how).
 */
const struct pb_step *playbook_run_report(struct playbook_run *r,
    const struct playbook *pb, int ok, int64_t now_ms);

const char *playbook_kind_name(enum pb_kind k);

#endif
