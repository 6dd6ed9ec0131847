/*
 * oncall.h: on-call schedules and escalation policies (the `oncall` key of
 * vigil.yml; format in playbooks/README.md), and the pure computations over
 * them: who is on call at an instant, and whom an escalation policy pages
 * when.
 *
 * Schedules are rotation layers in an IANA time zone: users take turns of a
 * fixed length of local wall-clock time, handing off at a local time of day,
 * so a daily 09:00 hand-off stays at 09:00 across daylight saving changes
 * (that turn is 23 or 25 hours long). A layer may be restricted to windows
 * (weekdays 09:00-17:00). Where several layers have someone on call, the
 * layer listed last wins; an override wins over every layer.
 *
 * Nothing here keeps state or reads the clock: callers pass instants (ms
 * since the epoch). Incidents remember how far their escalation got and ask
 * for the next page; that state lives with the incident, not here.
 *
 * A struct oncall is immutable once loaded; any thread may query it.
 */
#ifndef VG_ONCALL_H
#define VG_ONCALL_H

#include <stddef.h>
#include <stdint.h>

#include "vg.h"

struct ynode;
struct tz;

struct oncall_user {
	char *id;            /* key under users: */
	char *name;          /* display name; the id when not given */
	char *email;         /* NULL when not given (also slack, phone) */
	char *slack;         /* Slack member id, for <@mentions> */
	char *phone;
	char **channels;     /* channels this user is paged through */
	size_t nchannels;
	int line;
};

/* Part of each week a layer covers: days (bit 0 Sunday .. bit 6 Saturday)
 * from `from` to `to` seconds after local midnight; to <= from runs past
 * midnight into the next day. */
struct oncall_window {
	uint8_t days;
	int32_t from, to;
};

struct oncall_layer {
	char *name;
	size_t *users;       /* indexes into oncall.users, in turn order */
	size_t nusers;
	const struct tz *tz; /* borrowed from the oncall */
	int64_t start_local; /* first hand-off, local wall clock seconds */
	int64_t end_local;   /* INT64_MAX: no end */
	int64_t turn;        /* turn length, seconds of local wall clock */
	struct oncall_window *windows; /* none: always on */
	size_t nwindows;
};

struct oncall_override {
	size_t user;
	int64_t start, end;  /* UTC seconds, [start, end) */
};

struct oncall_schedule {
	char *name;
	const struct tz *tz;
	struct oncall_layer *layers;
	size_t nlayers;
	struct oncall_override *overrides;
	size_t noverrides;
};

struct oncall_step {
	size_t *schedules;   /* indexes into oncall.schedules */
	size_t nschedules;
	size_t *users;       /* indexes into oncall.users */
	size_t nusers;
	int64_t delay_ms;    /* after the previous step (the first: after the
	                        incident triggered) */
	char **channels;     /* override the users' own channels; may be 0 */
	size_t nchannels;
};

struct oncall_policy {
	char *name;
	struct oncall_step *steps;
	size_t nsteps;
	int repeat;          /* rounds after the first */
	int64_t repeat_delay_ms; /* after the last step, before the next round */
};

struct oncall_group {
	char *name;
	size_t *users;
	size_t nusers;
};

struct oncall {
	struct oncall_user *users;
	size_t nusers;
	struct oncall_schedule *schedules;
	size_t nschedules;
	struct oncall_policy *policies;
	size_t npolicies;
	struct oncall_group *groups;
	size_t ngroups;
	struct tz **zones;
	size_t nzones;
};

struct oncall_opts {
	const char *tzdir;   /* NULL: /usr/share/zoneinfo */
	/* when set, channel names are checked with it (1: exists) */
	int (*channel_exists)(void *ctx, const char *name);
	void *ctx;
};

/*
 * Read the `oncall` tree (NULL: nothing configured, an empty oncall).
 * Every problem is reported to d with file:line:col; NULL when there was
 * any. Borrows tree (everything is copied). Load time only.
 */
struct oncall *oncall_load(const struct ynode *tree,
    const struct oncall_opts *o, struct vg_diag *d);
/* The same from YAML text whose root is the oncall map; `name` names it. */
struct oncall *oncall_load_buffer(const char *name, const char *buf,
    size_t len, const struct oncall_opts *o, struct vg_diag *d);
void oncall_free(struct oncall *oc);

/* Lookups by name; NULL when absent. */
const struct oncall_user *oncall_user(const struct oncall *oc, const char *id);
const struct oncall_schedule *oncall_schedule(const struct oncall *oc,
    const char *name);
const struct oncall_policy *oncall_policy(const struct oncall *oc,
    const char *name);
const struct oncall_group *oncall_group(const struct oncall *oc,
    const char *name);

struct oncall_shift {
	const struct oncall_user *user;
	int layer;           /* index of the deciding layer; -1: an override */
	int64_t start_ms;    /* the answer holds from start to end (bounded */
	int64_t end_ms;      /* look-around; INT64_MIN/INT64_MAX: unbounded) */
};

/*
 * Who is on call for schedule s at t_ms. Returns 0 and fills *out, or -1
 * when nobody is (before the layers start, outside their windows); out's
 * span then says how long the gap lasts.
 */
int oncall_who(const struct oncall *oc, const struct oncall_schedule *s,
    int64_t t_ms, struct oncall_shift *out);

struct oncall_page {
	unsigned round;      /* 0 for the first pass through the steps */
	size_t step;
	int64_t at_ms;
};

/*
 * Page number n (0, 1, ...: round * nsteps + step) of policy p for an
 * incident that triggered at trigger_ms. Returns 0 and its time, or -1 when
 * the policy has no such page: escalation is over. Acknowledging stops the
 * caller from asking for more.
 */
int oncall_policy_page(const struct oncall_policy *p, int64_t trigger_ms,
    unsigned n, struct oncall_page *out);

/*
 * The users a step pages at at_ms: the on-call user of each of its
 * schedules, then its users, without duplicates. Writes up to max into out
 * and returns how many it wrote.
 */
size_t oncall_step_targets(const struct oncall *oc,
    const struct oncall_step *st, int64_t at_ms,
    const struct oncall_user **out, size_t max);

#endif
