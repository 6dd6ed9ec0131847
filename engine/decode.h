/*
 * decode.h: program-specific decoders from the YAML files in parsers/. A decoder names the
 * programs it applies to (process.name), holds PCRE2 patterns (JIT-compiled)
 * whose named groups become ECS fields, constant fields to add, and optional
 * child decoders tried after the parent matched. Decoders are indexed by
 * program name, so an event is only tried against the decoders of its
 * program (and those that apply to any program).
 *
 * A decode_set is immutable once loaded and shared by all workers; each
 * worker owns a decode_ctx with its PCRE2 match data.
 */
#ifndef VG_DECODE_H
#define VG_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "vg.h"

struct decode_set;
struct decode_ctx;

struct decode_stats {
	int files;
	int loaded;   /* decoders compiled */
	int rejected; /* decoders with errors (skipped) */
};

/*
 * Load decoder files; each path is a file or a folder (its *.yml and *.yaml,
 * sorted by name). Every problem is reported to d with file:line:col; a bad
 * decoder is skipped and counted. Returns an owned set (possibly empty).
 * Load-time only (one thread).
 */
struct decode_set *decode_load(const char *const *paths, size_t npaths,
    struct vg_diag *d, struct decode_stats *st);
void decode_free(struct decode_set *set);
size_t decode_count(const struct decode_set *set);

struct decode_ctx *decode_ctx_new(const struct decode_set *set);
void decode_ctx_free(struct decode_ctx *ctx);

/*
 * Decode ev (its process.name and message) and add the fields of the first
 * decoder that matches (the deepest matching child wins). Sets and returns
 * ev->decoder (the decoder's name, owned by the set), or NULL if none
 * matched. Called by the worker that owns ctx.
 */
const char *decode_event(const struct decode_set *set, struct decode_ctx *ctx,
    struct vg_event *ev);

/*
 * Everything below was added after the first contract; none of it changes
 * the declarations above.
 *
 * Ownership of what decode_event adds: captured values are copied into the
 * event's arena; constant values (and ev->decoder) point into the set, so a
 * set must outlive every event decoded with it (the reload swaps sets
 * between events, never during one).
 */

/* Number of PCRE2 patterns in the set and how many of them are
 * JIT-compiled (the others run in the interpreter). */
size_t decode_pattern_count(const struct decode_set *set);
size_t decode_jit_count(const struct decode_set *set);

/* Per-worker counters; read them from the owning worker (or accept a torn
 * read from another thread). */
struct decode_ctx_stats {
	uint64_t events;       /* decode_event calls */
	uint64_t decoded;      /* events a decoder matched */
	uint64_t pattern_runs; /* pattern matches attempted */
	uint64_t limit_hits;   /* runs cut off by the match, depth, heap or JIT stack limit */
	uint64_t match_errors; /* other PCRE2 match failures (counted, skipped) */
	uint64_t pcre2_runs;   /* of pattern_runs, those given to PCRE2 (the
	                          others were decided by the literal pre-check:
	                          failed it, or passed it with a pattern that
	                          is nothing but the texts it tests) */
};

void decode_ctx_get_stats(const struct decode_ctx *ctx,
    struct decode_ctx_stats *out);
/* Shorthand for the limit_hits counter. */
uint64_t decode_ctx_limit_hits(const struct decode_ctx *ctx);

#define DECODE_MATCH_LIMIT 100000u /* default PCRE2 match limit per run */
#define DECODE_DEPTH_LIMIT 5000u   /* default backtracking depth (interpreter) */

/* Set the per-run limits of ctx; 0 keeps the default. A run that hits a
 * limit counts as no match for that pattern and is counted. */
void decode_ctx_set_limits(struct decode_ctx *ctx, uint32_t match_limit,
    uint32_t depth_limit);

#endif
