/*
 * decode_int.h: the compiled decoder tree shared by decode.c (run time)
 * and decode_load.c (YAML loader). Private to the decode stage.
 */
#ifndef VG_DECODE_INT_H
#define VG_DECODE_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>

#include "decode.h"

#define DECODE_MAX_DEPTH 8 /* nesting of children */

enum dtype { DT_STRING = 0, DT_NUMBER, DT_LOWER };

/* One named group that becomes a field. */
struct dcap {
	uint32_t group;
	uint32_t field;
	uint8_t type; /* enum dtype */
	uint32_t name_len;
	const char *name; /* the field's interned name, for the event entry */
};

#define DECODE_PREFIX_MAX 24
#define DECODE_ALTS_MAX 8

struct dpat {
	pcre2_code *code;
	int jit;          /* JIT-compiled: run with pcre2_jit_match */
	struct dcap *caps;
	uint32_t ncaps;
	/* text every match starts with (anchored pattern): a subject that
	 * does not start with it is not given to PCRE2 */
	uint32_t pfxlen;
	char pfx[DECODE_PREFIX_MAX];
	/* else, when it starts with literal alternatives ("^(?:a|b)c"), the
	 * texts one of which every match starts with ("ac", "bc") */
	uint32_t nalts;
	uint8_t altlen[DECODE_ALTS_MAX];
	char alt[DECODE_ALTS_MAX][DECODE_PREFIX_MAX];
	/* else, when it starts with a class ("^[45]"), the bytes a match can
	 * start with (bit b of first[b / 8]) */
	int has_first;
	uint8_t first[32];
	/* the pre-check is the whole match (a pattern of literal texts
	 * only, or one class): PCRE2 is not asked */
	int exact;
};

/* A constant field value, prepared at load time. */
struct dconst {
	uint32_t field;
	const char *s;    /* NUL-terminated; owned by the node in `own` */
	uint32_t len;
	int is_num;
	double num;
};

struct dtypent {
	uint32_t field;
	uint8_t type;
};

struct dnode {
	char *name;
	uint32_t field;           /* the patterns run on this field's first value */
	uint32_t index;           /* top-level only: position in set->tops */
	struct dpat *pats;
	size_t npats;
	struct dnode **kids;
	size_t nkids;
	struct dconst *own;       /* this node's constants (owns the strings) */
	size_t nown;
	struct dconst *eff;       /* ancestors' constants not overridden, then own */
	size_t neff;
	struct fent *eff_ents;    /* eff as event entries, added at once */
	struct dtypent *types;    /* effective types (own and inherited) */
	size_t ntypes;
	/* every pattern has a pre-check (prefix, alternatives or first-byte
	 * class): then a subject whose first byte is not in firsts fails them
	 * all, and the parent need not try this node */
	int prefirst;
	uint8_t firsts[32];
	char **progs;             /* top-level only: program names and globs */
	size_t nprogs;
};

/* Top-level decoders for one exact program name. */
struct dprog {
	char *name;               /* NULL: empty slot */
	uint32_t len, hash;
	struct dnode **list;      /* in load order */
	uint32_t n;
};

struct dglob {
	const char *pat;          /* borrowed from the node's progs */
	struct dnode *top;
};

struct decode_set {
	struct dnode **tops;      /* every top-level decoder, in load order */
	size_t ntops;
	struct dprog *progs;      /* open addressing, progmask + 1 slots */
	uint32_t progmask;
	struct dglob *globs;
	size_t nglobs;
	struct dnode **generic;   /* decoders with no programs */
	size_t ngeneric;
	size_t ndecoders, npatterns, njit;
	uint32_t max_groups;      /* largest capture count of any pattern */
	uint64_t serial;          /* unique per loaded set: a worker's cache
	                             of lookups cannot mistake a new set for a
	                             freed one at the same address */
};

uint32_t decode_hash(const char *s, size_t len);
struct dprog *decode_prog_find(const struct decode_set *set, const char *s,
    size_t len);
int decode_glob(const char *pat, const char *s, size_t len);
int decode_parse_num(const char *s, size_t n, double *out);
void decode_node_free(struct dnode *n);
/* The literal text that every match of pattern p[0..n) (compiled without
 * options) starts with, when it is anchored by a leading '^': up to max
 * bytes into out; returns its length, 0 when there is none or the pattern
 * is not simple enough to tell. */
size_t decode_literal_prefix(const char *p, size_t n, char *out, size_t max);
/* decode_literal_prefix through groups of literal alternatives: the texts
 * (at most max, each up to DECODE_PREFIX_MAX bytes, into out and lens)
 * one of which every match of p[0..n) starts with; "^Failed (?<m>a|b) x"
 * gives "Failed a x" and "Failed b x". A group is followed only when it
 * is plain, (?:, or named, holds nothing but literal bytes and '|', is not
 * quantified, and the count of texts stays within max. Returns the count,
 * 0 when there is no prefix (or one of the texts would be empty). */
size_t decode_literal_prefixes(const char *p, size_t n,
    char out[][DECODE_PREFIX_MAX], uint8_t *lens, size_t max);
/* For a pattern anchored by "^[class]" (a plain class: bytes and ranges,
 * not negated, not optional): the bytes a match can start with, as bits
 * in set; returns 1, or 0 when the pattern does not tell. */
int decode_first_bytes(const char *p, size_t n, uint8_t set[32]);

/* A group name as written in a pattern: offset and length. */
struct gdef {
	size_t off, len;
};

struct ynode;

/* out (n + 1 bytes) = p with '.' turned into '_' inside group names;
 * *defs (owned, realloc'd) lists where each group is defined. */
void decode_rewrite_names(const char *p, size_t n, char *out,
    struct gdef **defs, size_t *ndefs);
/* Line and column in src of byte `off` of scalar sn's value (sn's own
 * position when the scalar's style does not allow it). */
void decode_scalar_pos(const char *src, size_t srclen, const struct ynode *sn,
    size_t off, int *line, int *col);

#endif
