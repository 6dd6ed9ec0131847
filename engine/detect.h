/*
 * detect.h: Sigma detection rules, compiled once into matchers over interned
 * field ids, grouped by logsource. A ruleset is immutable once loaded and
 * shared by all workers (swapped whole on reload); each worker owns a
 * detect_ctx with its scratch space (PCRE2 match data, match list).
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
 * names the feature, never evaluated wrongly. Returns an owned ruleset
 * holding the rules that compiled. Load-time only (one thread).
 */
struct ruleset *detect_load(const struct detect_opts *o, struct vg_diag *d,
    struct detect_stats *st);
void detect_free(struct ruleset *rs);
size_t detect_rule_count(const struct ruleset *rs);
const struct rule *detect_rule(const struct ruleset *rs, size_t i);

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

/* Regex matches cut short by the match or depth limit (counted as no
 * match) since ctx was made. Worker that owns ctx. */
uint64_t detect_ctx_regex_limit_hits(const struct detect_ctx *ctx);

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

#endif
