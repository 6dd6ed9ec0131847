/*
 * decode.c: the decoder stage at run time. An event's process.name picks
 * the top-level decoders to try (exact names through a hash table, then
 * glob names, then decoders for any program); a decoder's PCRE2 patterns
 * run on one field (message by default), its named groups become fields,
 * and its children refine the match. PCRE2 runs only when the subject
 * starts with the pattern's literal text (or one of its texts, through
 * groups of literal alternatives) or first-byte class, when the loader
 * found one, and not even then for a pattern that is nothing but those
 * texts; a child whose patterns all have such a pre-check is passed over
 * from the subject's first byte. A worker keeps, per busy program name,
 * the top-level decoders to try. The set is read-only here and shared
 * by every worker; everything mutable (match data, limits, counters) lives
 * in the worker's decode_ctx.
 *
 * Loading (YAML, compilation, the program index) is in decode_load.c.
 * This file does not allocate per event except from the event's arena.
 */
#include "decode_int.h"

#include <stdlib.h>
#include <string.h>

#define DECODE_HEAP_LIMIT_KIB 16384u      /* interpreter backtracking memory */
#define DECODE_JIT_STACK_MIN (32u * 1024)
#define DECODE_JIT_STACK_MAX (512u * 1024)

#define PROG_MEMO 16 /* sets of two ways */
#define MEMO_CANDS 6

/* A program name looked up in the set of that serial (0: unused), and the
 * answer (NULL: no decoder for that exact name); cand: the top-level
 * decoders to try for it, in order, each once (its exact ones, those of
 * the globs it matches, those for any program), when there are at most
 * MEMO_CANDS of them (all), else the lookup is walked as without it. */
struct prog_memo {
	uint64_t serial;
	const struct dprog *p;
	const struct dnode *cand[MEMO_CANDS];
	uint32_t len;
	uint8_t ncand, all;
	char name[26];
};

struct decode_ctx {
	pcre2_match_data *md;
	PCRE2_SIZE *ov;              /* md's ovector (fixed for md's life) */
	uint32_t md_pairs;           /* ovector pairs of md */
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	uint32_t *stamp;             /* per top-level decoder: tried in gen */
	size_t nstamp;
	uint32_t gen;
	struct decode_ctx_stats st;
	struct prog_memo memo[PROG_MEMO][2];
	uint8_t memo_old[PROG_MEMO]; /* the way to replace next: not the last hit */
};

uint32_t decode_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

struct dprog *decode_prog_find(const struct decode_set *set, const char *s,
    size_t len)
{
	uint32_t h, i;

	if (set->progs == NULL)
		return NULL;
	h = decode_hash(s, len);
	for (i = h & set->progmask;; i = (i + 1) & set->progmask) {
		struct dprog *p = &set->progs[i];

		if (p->name == NULL)
			return NULL;
		if (p->hash == h && p->len == len && memcmp(p->name, s, len) == 0)
			return p;
	}
}

/* Shell-style match of a program name: '*' any run, '?' one byte. */
int decode_glob(const char *pat, const char *s, size_t len)
{
	const char *star = NULL;
	size_t i = 0, resume = 0;

	while (i < len) {
		if (*pat == '*') {
			star = pat++;
			resume = i;
		} else if (*pat != '\0' && (*pat == '?' || *pat == s[i])) {
			pat++;
			i++;
		} else if (star != NULL) {
			pat = star + 1;
			i = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/*
 * A strict decimal number: -?D+(.D+)?([eE][+-]?D+)?. Hex, inf and nan are
 * text, not numbers, whatever strtod would say.
 */
int decode_parse_num(const char *s, size_t n, double *out)
{
	char tmp[64];
	size_t i = 0, d;
	uint64_t v = 0;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	if (s[0] == '-')
		i++;
	for (d = i; d < n && s[d] >= '0' && s[d] <= '9'; d++)
		v = v * 10 + (uint64_t)(s[d] - '0');
	if (d == i)
		return -1;
	if (d == n && d - i <= 15) { /* exact in a double: the common case */
		*out = s[0] == '-' ? -(double)v : (double)v;
		return 0;
	}
	i = d;
	if (i < n && s[i] == '.') {
		for (d = ++i; d < n && s[d] >= '0' && s[d] <= '9'; d++)
			;
		if (d == i)
			return -1;
		i = d;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; d < n && s[d] >= '0' && s[d] <= '9'; d++)
			;
		if (d == i)
			return -1;
		i = d;
	}
	if (i != n)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*out = strtod(tmp, NULL);
	return 0;
}

static void node_free(struct dnode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	for (size_t i = 0; i < n->npats; i++) {
		pcre2_code_free(n->pats[i].code);
		free(n->pats[i].caps);
	}
	free(n->pats);
	for (size_t i = 0; i < n->nown; i++)
		free((char *)n->own[i].s);
	free(n->own);
	free(n->eff);
	free(n->eff_ents);
	free(n->types);
	vg_free_list(n->progs, n->nprogs);
	free(n->name);
	free(n);
}

void decode_node_free(struct dnode *n)
{
	node_free(n);
}

void decode_free(struct decode_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->ntops; i++)
		node_free(set->tops[i]);
	free(set->tops);
	if (set->progs != NULL) {
		for (uint32_t i = 0; i <= set->progmask; i++) {
			free(set->progs[i].name);
			free(set->progs[i].list);
		}
		free(set->progs);
	}
	free(set->globs);
	free(set->generic);
	free(set);
}

size_t decode_count(const struct decode_set *set)
{
	return set ? set->ndecoders : 0;
}

size_t decode_pattern_count(const struct decode_set *set)
{
	return set ? set->npatterns : 0;
}

size_t decode_jit_count(const struct decode_set *set)
{
	return set ? set->njit : 0;
}

/* Grow ctx's match data and stamps when it meets a bigger set (a reload);
 * one allocation per reload, never per event. */
static void ctx_fit(struct decode_ctx *ctx, const struct decode_set *set)
{
	uint32_t pairs = set ? set->max_groups + 1 : 1;
	size_t ntops = set ? set->ntops : 0;

	if (ctx->md == NULL || pairs > ctx->md_pairs) {
		pcre2_match_data_free(ctx->md);
		ctx->md = pcre2_match_data_create(pairs, NULL);
		if (ctx->md == NULL)
			abort(); /* out of memory, as vg_malloc would */
		ctx->ov = pcre2_get_ovector_pointer(ctx->md);
		ctx->md_pairs = pairs;
	}
	if (ntops > ctx->nstamp) {
		ctx->stamp = vg_realloc(ctx->stamp, ntops * sizeof(*ctx->stamp));
		memset(ctx->stamp + ctx->nstamp, 0,
		    (ntops - ctx->nstamp) * sizeof(*ctx->stamp));
		ctx->nstamp = ntops;
	}
}

struct decode_ctx *decode_ctx_new(const struct decode_set *set)
{
	struct decode_ctx *ctx = vg_calloc(1, sizeof(*ctx));

	ctx->mctx = pcre2_match_context_create(NULL);
	if (ctx->mctx == NULL)
		abort();
	/* JIT stack bounded per worker: a pattern that needs more fails with
	 * PCRE2_ERROR_JIT_STACKLIMIT, which is counted like the match limit. */
	ctx->jstack = pcre2_jit_stack_create(DECODE_JIT_STACK_MIN,
	    DECODE_JIT_STACK_MAX, NULL);
	if (ctx->jstack != NULL)
		pcre2_jit_stack_assign(ctx->mctx, NULL, ctx->jstack);
	pcre2_set_heap_limit(ctx->mctx, DECODE_HEAP_LIMIT_KIB);
	decode_ctx_set_limits(ctx, 0, 0);
	ctx_fit(ctx, set);
	return ctx;
}

void decode_ctx_free(struct decode_ctx *ctx)
{
	if (ctx == NULL)
		return;
	pcre2_match_data_free(ctx->md);
	pcre2_match_context_free(ctx->mctx);
	pcre2_jit_stack_free(ctx->jstack);
	free(ctx->stamp);
	free(ctx);
}

void decode_ctx_set_limits(struct decode_ctx *ctx, uint32_t match_limit,
    uint32_t depth_limit)
{
	pcre2_set_match_limit(ctx->mctx,
	    match_limit ? match_limit : DECODE_MATCH_LIMIT);
	pcre2_set_depth_limit(ctx->mctx,
	    depth_limit ? depth_limit : DECODE_DEPTH_LIMIT);
}

void decode_ctx_get_stats(const struct decode_ctx *ctx,
    struct decode_ctx_stats *out)
{
	*out = ctx->st;
}

uint64_t decode_ctx_limit_hits(const struct decode_ctx *ctx)
{
	return ctx->st.limit_hits;
}

/* s[0..n) all digits: 1 and their value in *out (exact: n <= 15). */
static inline int digits_value(const char *s, size_t n, double *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - (unsigned)'0';

		if (d > 9)
			return 0;
		v = v * 10 + d;
	}
	*out = (double)v;
	return 1;
}

/*
 * Add the groups pat captured in subj[0..len) (a run that returned rc),
 * unset and empty ones skipped, each with its declared type: a number
 * (as vg_event_add_num), lowercased text or text, copied into the arena.
 * The entries are reserved at once and filled here as vg_event_push
 * would, with the event's index arrays, the ovector and the capture list
 * in locals: the byte copies into the arena may alias anything, so
 * vg_event_push would load them all again for every group.
 */
static void add_captures(const struct decode_ctx *ctx, struct vg_event *ev,
    const struct dpat *pat, const char *subj, size_t len, int rc)
{
	const struct dcap *caps = pat->caps;
	const uint32_t ncaps = pat->ncaps;
	const PCRE2_SIZE *ov = ctx->ov;
	/* rc == 0: the ovector was too small (ctx_fit prevents it), all of
	 * its pairs are set or unset */
	const uint32_t top = rc > 0 ? (uint32_t)rc : ctx->md_pairs;
	uint32_t *stamp, *first, *last, gen, at;
	struct fent *ents;

	if (ev->cap - ev->n < ncaps)
		(void)vg_event_reserve(ev, ncaps);
	ents = ev->ents;
	stamp = ev->stamp;
	first = ev->first;
	last = ev->last;
	gen = ev->gen;
	at = ev->n;
	for (uint32_t i = 0; i < ncaps; i++) {
		const struct dcap *c = &caps[i];
		const uint32_t g = c->group, f = c->field; /* f: never FIELD_NONE */
		PCRE2_SIZE a, b;
		const char *s;
		size_t n;
		char *t;
		struct fent *e;
		uint8_t kind = V_STR;
		double num = 0;

		if (g >= top)
			continue; /* past the highest group set: unset */
		a = ov[2 * g];
		b = ov[2 * g + 1];
		if (a == PCRE2_UNSET || b <= a || b > len)
			continue;
		s = subj + a;
		n = b - a;
		if (c->type == DT_LOWER) {
			t = arena_alloc_in(&ev->arena, n + 1);
			for (size_t k = 0; k < n; k++)
				t[k] = (char)vg_lower((unsigned char)s[k]);
			t[n] = '\0';
		} else {
			t = arena_strdup_in(&ev->arena, s, n);
			/* decode_parse_num's common case first, without the call */
			if (c->type == DT_NUMBER && ((n <= 15 &&
			    digits_value(s, n, &num)) ||
			    decode_parse_num(s, n, &num) == 0))
				kind = V_NUM;
			else
				num = 0;
		}
		e = &ents[at];
		e->id = f;
		e->next = FENT_END;
		e->name = c->name;
		e->name_len = c->name_len;
		e->dead = 0;
		e->v.s = t;
		e->v.len = (uint32_t)n;
		e->v.kind = kind;
		e->v.num = num;
		vg_event_link(ents, stamp, first, last, gen, f, at);
		at++;
	}
	ev->n = at;
}

/* Does subj start with one of pat's alternative prefixes? */
static int alts_match(const struct dpat *pat, const char *subj, size_t len)
{
	for (uint32_t a = 0; a < pat->nalts; a++) {
		if (len >= pat->altlen[a] &&
		    vg_same_bytes(subj, pat->alt[a], pat->altlen[a]))
			return 1;
	}
	return 0;
}

/*
 * Run n's patterns on its field; on the first match add the captured
 * groups (unset and empty groups are skipped) and return 1.
 */
static int node_match(struct decode_ctx *ctx, struct vg_event *ev,
    const struct dnode *n)
{
	const struct value *v = vg_event_get(ev, n->field);
	const char *subj;
	size_t len;

	if (v == NULL)
		return 0;
	/* adding fields may move ev->ents, so keep the text, not v */
	subj = v->s;
	len = v->len;
	for (size_t p = 0; p < n->npats; p++) {
		const struct dpat *pat = &n->pats[p];
		int rc;

		ctx->st.pattern_runs++;
		if (pat->pfxlen > 0 && (len < pat->pfxlen ||
		    !vg_same_bytes(subj, pat->pfx, pat->pfxlen)))
			continue; /* cannot match: no need to ask PCRE2 */
		if (pat->nalts > 0 && !alts_match(pat, subj, len))
			continue;
		if (pat->has_first && (len == 0 ||
		    !(pat->first[(unsigned char)subj[0] >> 3] &
		    (1u << ((unsigned char)subj[0] & 7)))))
			continue;
		if (pat->exact)
			return 1; /* the pre-check was the match; no groups */
		ctx->st.pcre2_runs++;
		if (pat->jit)
			rc = pcre2_jit_match(pat->code, (PCRE2_SPTR)subj, len, 0, 0,
			    ctx->md, ctx->mctx);
		else
			rc = pcre2_match(pat->code, (PCRE2_SPTR)subj, len, 0, 0,
			    ctx->md, ctx->mctx);
		if (rc < 0) {
			switch (rc) {
			case PCRE2_ERROR_NOMATCH:
				break;
			case PCRE2_ERROR_MATCHLIMIT:
			case PCRE2_ERROR_DEPTHLIMIT:
			case PCRE2_ERROR_HEAPLIMIT:
			case PCRE2_ERROR_JIT_STACKLIMIT:
				ctx->st.limit_hits++;
				break;
			default:
				ctx->st.match_errors++;
				break;
			}
			continue;
		}
		add_captures(ctx, ev, pat, subj, len, rc);
		return 1;
	}
	return 0;
}

/*
 * Whether node k cannot match, seen from its subject's first byte alone,
 * as node_match would find (its field absent, or every pattern refused by
 * its pre-check, each counted in pattern_runs), without the call.
 */
static inline int refused(struct decode_ctx *ctx, struct vg_event *ev,
    const struct dnode *k)
{
	const struct value *v = vg_event_get(ev, k->field);
	unsigned char c;

	if (v == NULL)
		return 1;
	if (v->len > 0) {
		c = (unsigned char)v->s[0];
		if (k->firsts[c >> 3] & (1u << (c & 7)))
			return 0;
	}
	ctx->st.pattern_runs += k->npats;
	return 1;
}

/*
 * The decoder that wins under n: a node whose patterns match is the
 * answer unless one of its children (tried in order) matches deeper; a
 * node without patterns only routes to its children.
 */
static const struct dnode *node_try(struct decode_ctx *ctx, struct vg_event *ev,
    const struct dnode *n)
{
	const struct dnode *w;

	if (n->npats > 0 && !node_match(ctx, ev, n))
		return NULL;
	for (size_t i = 0; i < n->nkids; i++) {
		if (n->kids[i]->prefirst && refused(ctx, ev, n->kids[i]))
			continue;
		if ((w = node_try(ctx, ev, n->kids[i])) != NULL)
			return w;
	}
	return n->npats > 0 ? n : NULL;
}

static const struct dnode *top_try(struct decode_ctx *ctx, struct vg_event *ev,
    const struct dnode *top)
{
	if (ctx->stamp[top->index] == ctx->gen)
		return NULL; /* listed under two of the event's program names */
	ctx->stamp[top->index] = ctx->gen;
	return node_try(ctx, ev, top);
}

static void memo_add(struct prog_memo *pm, const struct dnode *top)
{
	for (uint32_t k = 0; k < pm->ncand; k++) {
		if (pm->cand[k] == top)
			return; /* listed under the name and a glob: tried once */
	}
	if (pm->ncand == MEMO_CANDS)
		pm->all = 0;
	else
		pm->cand[pm->ncand++] = top;
}

/* pm answers for prog from now on (plen <= sizeof(pm->name)). */
static void memo_fill(struct prog_memo *pm, const struct decode_set *set,
    const char *prog, size_t plen)
{
	const struct dprog *p = decode_prog_find(set, prog, plen);

	memcpy(pm->name, prog, plen);
	pm->len = (uint32_t)plen;
	pm->serial = set->serial;
	pm->p = p;
	pm->ncand = 0;
	pm->all = 1;
	for (uint32_t i = 0; p != NULL && i < p->n; i++)
		memo_add(pm, p->list[i]);
	for (size_t i = 0; i < set->nglobs; i++) {
		if (decode_glob(set->globs[i].pat, prog, plen))
			memo_add(pm, set->globs[i].top);
	}
	for (size_t i = 0; i < set->ngeneric; i++)
		memo_add(pm, set->generic[i]);
}

/* A new stamp generation: no top-level decoder tried yet. */
static void next_gen(struct decode_ctx *ctx)
{
	if (++ctx->gen == 0) {
		memset(ctx->stamp, 0, ctx->nstamp * sizeof(*ctx->stamp));
		ctx->gen = 1;
	}
}

const char *decode_event(const struct decode_set *set, struct decode_ctx *ctx,
    struct vg_event *ev)
{
	const struct dnode *w = NULL;
	const struct value *pv;

	ev->decoder = NULL;
	ctx->st.events++;
	if (set == NULL || set->ntops == 0)
		return NULL;
	if (ctx->md == NULL || set->max_groups + 1 > ctx->md_pairs ||
	    set->ntops > ctx->nstamp)
		ctx_fit(ctx, set);
	pv = vg_event_get(ev, F_PROCESS_NAME);
	if (pv != NULL && pv->len > 0) {
		const char *prog = pv->s; /* arena text: stays put */
		size_t plen = pv->len;
		const struct dprog *p;

		/* a few programs log most lines: their answers are kept in a
		 * small two-way table indexed by the name's first two bytes, last
		 * byte and length (prog[1] is the NUL of a one-byte name), so
		 * that two busy programs landing in one set do not evict each
		 * other on every line */
		uint32_t set_i = (((uint32_t)(unsigned char)prog[0] |
		    (uint32_t)(unsigned char)prog[1] << 8 |
		    (uint32_t)(unsigned char)prog[plen - 1] << 16 |
		    (uint32_t)plen << 24) * 0x9E3779B1u) >> 28;
		struct prog_memo *pm = ctx->memo[set_i];

		if (pm[0].serial == set->serial && pm[0].len == plen &&
		    vg_same_bytes(pm[0].name, prog, plen)) {
			ctx->memo_old[set_i] = 1;
		} else if (pm[1].serial == set->serial && pm[1].len == plen &&
		    vg_same_bytes(pm[1].name, prog, plen)) {
			pm++;
			ctx->memo_old[set_i] = 0;
		} else if (plen <= sizeof(pm->name)) {
			pm += ctx->memo_old[set_i];
			ctx->memo_old[set_i] ^= 1;
			memo_fill(pm, set, prog, plen);
		} else {
			pm = NULL;
		}
		if (pm != NULL && pm->all) {
			/* the candidates, once each: no stamps needed */
			for (uint32_t i = 0; i < pm->ncand && w == NULL; i++)
				w = node_try(ctx, ev, pm->cand[i]);
		} else {
			p = pm != NULL ? pm->p : decode_prog_find(set, prog, plen);
			next_gen(ctx);
			if (p != NULL) {
				for (uint32_t i = 0; i < p->n && w == NULL; i++)
					w = top_try(ctx, ev, p->list[i]);
			}
			for (size_t i = 0; i < set->nglobs && w == NULL; i++) {
				if (decode_glob(set->globs[i].pat, prog, plen))
					w = top_try(ctx, ev, set->globs[i].top);
			}
			for (size_t i = 0; i < set->ngeneric && w == NULL; i++)
				w = top_try(ctx, ev, set->generic[i]);
		}
	} else {
		/* no program name: the decoders for any program (once each) */
		for (size_t i = 0; i < set->ngeneric && w == NULL; i++)
			w = node_try(ctx, ev, set->generic[i]);
	}
	if (w == NULL)
		return NULL;
	/* the constants, their text the node's */
	vg_event_add_ents(ev, w->eff_ents, (uint32_t)w->neff);
	ctx->st.decoded++;
	ev->decoder = w->name;
	return w->name;
}
