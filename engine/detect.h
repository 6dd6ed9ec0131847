/*
 * detect.h: Sigma detection rules, compiled once into matchers over interned
 * field ids, grouped by logsource. A ruleset is immutable once loaded and
 * shared by all workers, reference-counted, and swapped whole on reload
 * (detect_live); each worker owns a detect_ctx with its scratch space
 * (PCRE2 match data, match list).
 *
 * Mapping documents (top-level `logsources:` and/or `fieldmappings:`, no
 * `detection:`) translate a rule's logsource into field conditions and
 * Sigma field names into ECS names; see rules/mappings/.
 */
#ifndef VG_DETECT_H
#define VG_DETECT_H

#include <stddef.h>

#include "buf.h"
#include "event.h"
#include "vg.h"

struct rule_impl; /* compiled detection, private to detect */
struct ynode;

struct rule {
	char *id;          /* Sigma id (UUID) or, when absent, path:line */
	char *name;        /* Sigma `name` (what correlations and filters may
	                      refer to), or NULL when absent */
	char *title;
	char *level;       /* informational, low, medium, high, critical */
	char *status;
	char **tags;
	size_t ntags;
	char *file;        /* where it was loaded from */
	int line;
	struct rule_impl *impl;
};

struct ruleset;
struct detect_ctx;

struct detect_opts {
	const char *const *rule_paths;    /* files or folders (recursive) */
	size_t nrule_paths;
	const char *const *mapping_paths; /* files or folders holding mapping
	                                     documents only; rule documents
	                                     found there are ignored */
	size_t nmapping_paths;
};

struct detect_stats {
	int files;
	int loaded;
	int rejected;
	int warnings;
	int correlations;  /* correlation documents kept for the correlation
	                      stage (neither loaded nor rejected here) */
};

/*
 * Load and compile. Every problem is reported to d as file:line:col; a rule
 * that uses something vigil does not support is rejected with an error that
 * names the feature, never evaluated wrongly. Returns a ruleset holding
 * the rules that compiled, with one reference owned by the caller. Runs in
 * any one thread, also while workers evaluate events against another
 * ruleset (a reload): it shares nothing with them but the field registry,
 * which is safe for that.
 */
struct ruleset *detect_load(const struct detect_opts *o, struct vg_diag *d,
    struct detect_stats *st);
/* Drop the caller's reference (detect_ruleset_unref); NULL is a no-op. */
void detect_free(struct ruleset *rs);

/*
 * References: a ruleset is freed when its last reference goes, so an old
 * set outlives a reload for as long as a worker still evaluates with it.
 * detect_load gives one, detect_ruleset_ref adds one, each detect_ctx holds
 * one for its life, a detect_live holds one for its current set. Atomic:
 * any thread. Both accept NULL.
 */
const struct ruleset *detect_ruleset_ref(const struct ruleset *rs);
void detect_ruleset_unref(const struct ruleset *rs);

/*
 * Hot reload. A detect_live holds the running ruleset; the reload thread
 * compiles a new one aside and swaps it in whole, workers move to it at
 * their next event, and the old one is freed by whichever thread drops its
 * last reference. Nothing on the per-event path takes a lock: a worker
 * reads one atomic generation number per event (or per batch).
 *
 * Reload thread (vigild on SIGHUP or POST /api/v1/reload):
 *
 *     struct detect_stats st;
 *     struct vg_diag d;                 (errors logged as file:line:col)
 *     struct ruleset *rs = detect_load(&opts, &d, &st);
 *     if (st.rejected > 0 || d.errors > 0) {
 *         detect_free(rs);              (the running set stays; count the
 *         return -1;                     failed reload for /metrics)
 *     }
 *     detect_live_swap(live, rs);       (takes the reference from detect_load)
 *
 * Each worker keeps its own context and the generation it was built for:
 *
 *     struct detect_ctx *ctx = NULL;
 *     uint64_t gen = 0;
 *     for each event:
 *         detect_ctx_refresh(&ctx, live, &gen);    (cheap when unchanged)
 *         n = detect_event(detect_ctx_ruleset(ctx), ctx, ev, &matches);
 *     detect_ctx_free(ctx);
 *
 * Matches (struct rule pointers) and the ruleset's strings stay valid
 * while the worker's ctx holds the set, i.e. until its next refresh that
 * switches: finish with an event's matches (alerts, correlation keyed by
 * rule id or name) before refreshing. Correlation state is kept by rule id,
 * so it survives a reload for rules whose id did not change.
 */
struct detect_live;

/* Takes the caller's reference to rs (not NULL; a set with no rules is
 * fine). */
struct detect_live *detect_live_new(const struct ruleset *rs);
/* Drops the reference to the current set; workers must be done with l. */
void detect_live_free(struct detect_live *l);
/* Publish rs (not NULL; taking the caller's reference) and release the
 * previous set; returns the new generation. Any thread; reloads are
 * serialised by a lock, which workers only take for a reference after a
 * swap. */
uint64_t detect_live_swap(struct detect_live *l, const struct ruleset *rs);
/* The current generation (1 for the first set, +1 per swap). Any thread,
 * lock-free. */
uint64_t detect_live_gen(const struct detect_live *l);
/* The current set with a new reference for the caller, and its generation
 * in *gen when gen is not NULL. Any thread. */
const struct ruleset *detect_live_get(struct detect_live *l, uint64_t *gen);
/*
 * Worker: when l's generation differs from *gen (or *ctx is NULL), replace
 * *ctx by a context for l's current set (freeing the old context and with
 * it, if it was the last user, the old set) and update *gen. Returns 1
 * when it switched, else 0. The thread that owns *ctx.
 */
int detect_ctx_refresh(struct detect_ctx **ctx, struct detect_live *l,
    uint64_t *gen);
/* The set ctx was made for (ctx holds a reference to it). */
const struct ruleset *detect_ctx_ruleset(const struct detect_ctx *ctx);
size_t detect_rule_count(const struct ruleset *rs);
const struct rule *detect_rule(const struct ruleset *rs, size_t i);

/* A worker's scratch space for rs; holds a reference to rs until freed. */
struct detect_ctx *detect_ctx_new(const struct ruleset *rs);
void detect_ctx_free(struct detect_ctx *ctx);

/*
 * Evaluate ev against every rule whose logsource it belongs to. Returns the
 * number of matching rules and points *matches at them (in load order;
 * valid until the next call with ctx). Worker that owns ctx.
 */
size_t detect_event(const struct ruleset *rs, struct detect_ctx *ctx,
    const struct vg_event *ev, const struct rule *const **matches);

/*
 * For `vigil logtest -v`: append a JSON array to out, one object per rule of
 * the event's logsource(s), saying whether it matched and, if not, which
 * selection failed on which field and value.
 */
void detect_explain(const struct ruleset *rs, struct detect_ctx *ctx,
    const struct vg_event *ev, struct buf *out);

/*
 * Load rules from memory as if read from a file called `name` (mapping
 * documents in buf are used as mappings); o, which may be NULL, adds rule
 * and mapping paths as detect_load does. Borrows buf. Load-time only.
 */
struct ruleset *detect_load_buffer(const char *name, const char *buf,
    size_t len, const struct detect_opts *o, struct vg_diag *d,
    struct detect_stats *st);

/*
 * Regex matches cut short by the PCRE2 match, depth or JIT stack limit
 * (a regex that would backtrack without bound: counted as no match, never
 * a stalled worker) since ctx was made, and the rule of the last one (or
 * NULL), so the caller can export the count and name the rule in a
 * rate-limited log line. Worker that owns ctx.
 */
uint64_t detect_ctx_regex_limit_hits(const struct detect_ctx *ctx);
const struct rule *detect_ctx_regex_limit_rule(const struct detect_ctx *ctx);

/* The rule's `vigil:` extension as YAML, or NULL; lives as long as rs. */
const struct ynode *detect_rule_vigil(const struct rule *r);

/*
 * Correlation documents (top-level `correlation:`) found while loading, in
 * load order, after rule collections are resolved. detect does not check
 * them (the correlation stage does) and counts them in
 * detect_stats.correlations, not as rules. The YAML nodes carry file, line
 * and column; detect_correlation_file is the file they came from. Both
 * live as long as rs. Any thread once loaded.
 */
size_t detect_correlation_count(const struct ruleset *rs);
const struct ynode *detect_correlation_doc(const struct ruleset *rs, size_t i);
const char *detect_correlation_file(const struct ruleset *rs, size_t i);

/*
 * The event fields that the Sigma field name means in the events of the
 * detection rule r of rs: r's logsource's field mappings applied as they
 * were to r's selections (the first mapping entry naming it, or that
 * entry's `*`; an unmapped name as written). An owned array of *n ids in
 * mapping order without duplicates (*n may be 0 when no target is a usable
 * name); free() it. Load-time only (engine/detect_fieldmap.c).
 */
uint32_t *detect_rule_field_ids(const struct ruleset *rs, const struct rule *r,
    const char *name, size_t *n);

#endif
