/*
 * correlate.h: Sigma correlation rules over time, with state in Redis.
 *
 * Two halves:
 *  - correlate_load compiles the correlation documents that detect kept
 *    (event_count, value_count, temporal, temporal_ordered, value_sum,
 *    value_avg, value_percentile, value_median, plus vigil's absence and
 *    suppression) into an immutable struct corr_set, shared by all workers
 *    like the ruleset it refers to;
 *  - a struct correlator, one per worker (or per replay), is fed in order
 *    with the detection matches of each event and emits correlation alerts
 *    through a callback, asynchronously, from its libevent loop: the window
 *    state of every rule and group lives in Redis and is updated by Lua
 *    scripts (engine/correlate_lua.c), so several workers and processes
 *    sharing one Redis see one state and raise one alert.
 *
 * Semantics (windows on event time, allowed lateness, when each type fires,
 * absence, suppression, generate) are documented in rules/CORRELATION.md.
 */
#ifndef VG_CORRELATE_H
#define VG_CORRELATE_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "buf.h"
#include "detect.h"
#include "event.h"
#include "redis.h"
#include "vg.h"

struct corr_set;
struct correlator;
struct event_base;

struct correlate_load_stats {
	int loaded;
	int rejected;
	int warnings;
};

/*
 * Compile the correlation documents of rs (detect_correlation_doc). Every
 * problem is reported to d as file:line:col and the document is rejected
 * (so are correlations that refer to it). Borrows rs, which must outlive
 * the set: referenced rules are pointers into it. Returns an owned set,
 * never NULL (possibly empty). Load-time only (one thread).
 */
struct corr_set *correlate_load(const struct ruleset *rs, struct vg_diag *d,
    struct correlate_load_stats *st);
void correlate_set_free(struct corr_set *cs);

/* The compiled correlation rules (their struct rule, for listings). */
size_t correlate_rule_count(const struct corr_set *cs);
const struct rule *correlate_rule(const struct corr_set *cs, size_t i);

/*
 * Sigma `generate`: whether the detection alerts of r are emitted. A
 * detection rule that some correlation refers to is not emitted on its own
 * unless one of the correlations that refer to it says `generate: true`;
 * every other rule is. Any thread; O(1).
 */
int correlate_rule_generates(const struct corr_set *cs, const struct rule *r);
/* Whether some correlation refers to r (the pipeline may skip feeding
 * events whose matches all answer 0). Any thread; O(1). */
int correlate_wants(const struct corr_set *cs, const struct rule *r);

struct correlate_conf {
	const char *prefix;       /* Redis key prefix; NULL: "vigil:" */
	int64_t lateness_ms;      /* allowed lateness unless a rule sets
	                             vigil.lateness; < 0: default 10 s */
	uint32_t max_group_events; /* per-group cap unless a rule sets
	                              vigil.max_events; 0: 10000 */
	/*
	 * Replay: event time is the clock (every correlate_event and
	 * correlate_advance moves it forward and closes what is due), and when
	 * more than max_outstanding updates wait for Redis, correlate_event
	 * runs the loop itself until half are answered (the caller must own
	 * the loop and not be inside it). Otherwise (the daemon) the clock is
	 * the wall clock, read by the timer of correlate_start_timer, and
	 * nothing ever waits: a Redis outage fills the client's bounded
	 * buffer.
	 */
	int replay;
	size_t max_outstanding;   /* replay only; 0: 20000 */
	int64_t patience_ms;      /* replay: stop waiting for a Redis that
	                             gives no answer for this long (it is
	                             away or frozen) and go on, dropping and
	                             counting beyond the client's buffer;
	                             0: 10 s */
};

/* A correlation alert, valid during the callback only. */
struct correlate_alert {
	struct alert a;           /* kind ALERT_CORRELATION; ts_ms; group;
	                             count (see CORRELATION.md); ev: the event
	                             that completed it (arrival) or the last
	                             event of the window (close, absence);
	                             suppressed: folded by vigil.suppress */
	double value;             /* the aggregate the condition tested:
	                             distinct values, sum, average, percentile */
	int absence;              /* fired because an expected event did not
	                             come (vigil.absence) */
};

typedef void (*correlate_alert_cb)(void *arg, const struct correlate_alert *ca);

/*
 * A correlator over cs, writing through r (which it borrows; one client per
 * correlator, bound to the loop of the thread that feeds it). cb runs from
 * the loop for every emitted correlation alert (not for inner correlations
 * whose referrers do not generate them). Borrows cs and conf.
 */
struct correlator *correlate_new(const struct corr_set *cs, struct rds *r,
    const struct correlate_conf *conf, correlate_alert_cb cb, void *arg);
/* Free the client first (rds_free answers every outstanding update with
 * NULL, which releases what the correlator holds for it), then the
 * correlator. correlate_free(NULL) is a no-op. */
void correlate_free(struct correlator *c);

/*
 * Feed one event and the detection rules it matched (matches[0..n), in
 * detection order), at event time ts_ms. Rules no correlation refers to
 * are ignored; the event is copied only if some correlation wants it.
 * Borrows ev and matches for the call. The thread of c's loop, in event
 * order (ordering across workers is not needed: Redis serialises).
 */
void correlate_event(struct correlator *c, const struct vg_event *ev,
    int64_t ts_ms, const struct rule *const *matches, size_t n);

/*
 * Move the clock to now_ms: windows evaluated at their end (upper-bounded
 * conditions, averages, percentiles) and absences whose end plus lateness
 * is at or before the clock are closed, in Redis, and their alerts follow
 * asynchronously. Replay calls it with the time of every event (cheap
 * when nothing is due); the daemon's timer calls it with the wall clock.
 */
void correlate_advance(struct correlator *c, int64_t now_ms);

/* Daemon: advance to the wall clock every interval_ms (0: 1000) from the
 * loop of r. Returns 0, or -1. */
int correlate_start_timer(struct correlator *c, int64_t interval_ms);

/*
 * Replay, at the end of input: wait until every update, close and chained
 * update is answered and its alerts delivered. With expire_all, first
 * close every open window and absence as if time had run out (so pending
 * absences and end-evaluated windows fire). Runs the loop (the caller must
 * not be inside it); gives up after timeout_ms without progress. Returns 0
 * when everything was answered, -1 otherwise.
 */
int correlate_finish(struct correlator *c, int expire_all, int64_t timeout_ms);

struct correlate_stats {
	uint64_t events;      /* events fed that some correlation wanted */
	uint64_t updates;     /* window updates sent */
	uint64_t dropped;     /* updates Redis never got (client buffer full
	                         or refused) */
	uint64_t late;        /* events later than the allowed lateness */
	uint64_t no_group;    /* events without a group-by field */
	uint64_t no_value;    /* events without the condition field, or not
	                         a number where one is needed */
	uint64_t cap_drops;   /* oldest events dropped at a group's cap */
	uint64_t alerts;      /* correlation alerts emitted */
	uint64_t chained;     /* alerts fed to correlations that refer to
	                         their rule */
	uint64_t suppressed;  /* alerts folded by vigil.suppress */
	uint64_t closes;      /* windows and absences closed by the clock */
	uint64_t errors;      /* unexpected replies */
	uint64_t duplicates;  /* updates Redis had already applied (resent
	                         after a broken connection) */
};

const struct correlate_stats *correlate_stats(const struct correlator *c);
/* Updates sent and not yet answered. */
size_t correlate_outstanding(const struct correlator *c);
/*
 * Backpressure for a caller that stopped feeding c while Redis was behind:
 * cb(arg) runs once, when an answer brings correlate_outstanding(c) to low
 * or below. It runs inside the client's reply path: it must not feed c,
 * issue commands or free anything (defer that, e.g. with event_active).
 * One watch at a time: a later call replaces it; cb NULL cancels it.
 */
void correlate_watch_low(struct correlator *c, size_t low,
    void (*cb)(void *), void *arg);
/* Append Prometheus lines vigil_correlation_*_total. */
void correlate_metrics(const struct correlator *c, struct buf *out);
/* The same lines for stats summed by the caller (several workers). */
void correlate_stats_metrics(const struct correlate_stats *st, struct buf *out);

#endif
