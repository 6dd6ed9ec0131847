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
    struct event *ev);

#endif
