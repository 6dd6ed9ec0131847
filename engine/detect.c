/*
 * detect.c: the ruleset and the per-event entry points. An event is first
 * matched against the logsource condition of each mapping entry in use
 * (once per event, shared by every group that needs it); only the rules of
 * the groups whose entries all passed are evaluated, with short-circuiting
 * conditions. Matches come back in load order.
 *
 * Loading lives in detect_load.c, selections in detect_sel.c, conditions
 * in detect_cond.c, matching in detect_match.c, explanations in
 * detect_explain.c, mappings in detect_map.c.
 */
#include "detect_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RE_MATCH_LIMIT 200000u  /* backtracking steps per regex match */
#define RE_DEPTH_LIMIT 10000u
#define RE_JIT_STACK_MAX (512u * 1024u)

struct ruleset *detect_ruleset_new(void)
{
	struct ruleset *rs = vg_calloc(1, sizeof(struct ruleset));

	atomic_init(&rs->refs, 1);
	return rs;
}

/*
 * Can a hit of the scan answer fc (fcond.wholeeq)? The scan records in
 * lseen the value (entry) each literal was last found in, whether it
 * looked the value up whole or scanned it (for its field or for
 * keywords), in the value's own text (a number's canonical text is
 * scanned too: detect_match.c's whole_hit takes strings only): a literal
 * found in a string value of its own length is that value, folded, which
 * is what an uncased equality with that literal compares.
 */
static int fc_wholeeq(const struct ruleset *rs, const struct fcond *fc)
{
	const struct prefilter *pf = &rs->pf;

	if (!fc->plain || !fc->tagged || fc->cased || fc->all || fc->never ||
	    fc->keyword || fc->lits == NULL || fc->nfields == 0)
		return 0;
	for (uint32_t k = 0; k < fc->npats; k++) {
		const struct pat *p = &fc->pats[k];
		uint32_t l = fc->lits[k];

		if (p->kind != PK_EQ || p->isnum || l == 0 || l > pf->nlits ||
		    pf->llen[l - 1] != p->len ||
		    memcmp(pf->ltext + pf->loff[l - 1], p->s, p->len) != 0)
			return 0;
	}
	return 1;
}

/* The literal of each pattern of fc, once the index has given them, and
 * whether the short path evaluates it. */
static void sn_lits(const struct ruleset *rs, struct snode *sn)
{
	if (sn == NULL)
		return;
	for (uint32_t i = 0; i < sn->n; i++)
		sn_lits(rs, sn->kids[i]);
	if (sn->fc != NULL)
		sn->fc->plain = (uint8_t)detect_fc_plain(sn->fc);
	if (sn->fc != NULL && sn->fc->npats > 0 && sn->fc->lits == NULL) {
		struct fcond *fc = sn->fc;

		fc->lits = vg_malloc(fc->npats * sizeof(*fc->lits));
		for (uint32_t k = 0; k < fc->npats; k++)
			fc->lits[k] = fc->pats[k].lit;
	}
	if (sn->fc != NULL) {
		detect_fc_cset(sn->fc);
		sn->fc->wholeeq = (uint8_t)fc_wholeeq(rs, sn->fc);
	}
}

/*
 * Packing. A rule's evaluation walks a condition node, its kids, a
 * selection's nodes, a field condition, its field ids, literals and
 * patterns: separately allocated, each is a cache miss of its own on
 * nearly every evaluation (thousands of rules do not stay cached). Once
 * the index has annotated them, they are copied into one block per rule in
 * the order evaluation visits them, and the originals freed; the strings
 * a pattern compares come along, the rest (regex code, globs, names for
 * explanations) stays where it is.
 */
struct pk {
	char *base;    /* NULL: only measure */
	size_t off;
	uint8_t *done; /* per selection: placed (its root in roots) */
	struct snode **roots;
};

static void *pk_take(struct pk *k, const void *src, size_t n)
{
	size_t at = (k->off + 7) & ~(size_t)7;

	k->off = at + n;
	if (k->base == NULL || n == 0)
		return NULL;
	memcpy(k->base + at, src, n);
	return k->base + at;
}

/* A pattern string of len bytes and its NUL. */
static char *pk_str(struct pk *k, const char *s, size_t len)
{
	size_t at = k->off;

	if (s == NULL)
		return NULL;
	k->off += len + 1;
	if (k->base == NULL)
		return NULL;
	memcpy(k->base + at, s, len);
	k->base[at + len] = '\0';
	return k->base + at;
}

static struct fcond *pk_fc(struct pk *k, const struct fcond *fc)
{
	struct fcond *d = pk_take(k, fc, sizeof(*fc));
	uint32_t *fields = pk_take(k, fc->fields, fc->nfields * sizeof(*fields));
	uint32_t *lits = pk_take(k, fc->lits,
	    fc->lits != NULL ? fc->npats * sizeof(*lits) : 0);
	struct pat *pats = pk_take(k, fc->pats, fc->npats * sizeof(*pats));

	for (uint32_t i = 0; i < fc->npats; i++) {
		char *ps = pk_str(k, fc->pats[i].s, fc->pats[i].len);
		char *rl = pk_str(k, fc->pats[i].relit, fc->pats[i].relen);

		if (pats != NULL) {
			pats[i].s = ps;
			pats[i].relit = rl;
		}
	}
	if (d != NULL) {
		d->fields = fc->nfields > 0 ? fields : NULL;
		d->lits = fc->lits != NULL && fc->npats > 0 ? lits : NULL;
		d->pats = fc->npats > 0 ? pats : NULL;
	}
	return d;
}

static struct snode *pk_sn(struct pk *k, const struct snode *sn)
{
	struct snode *d = pk_take(k, sn, sizeof(*sn));
	struct snode **kids = pk_take(k, sn->kids, sn->n * sizeof(*kids));
	struct fcond *fc = NULL;

	for (uint32_t i = 0; i < sn->n; i++) {
		struct snode *c = pk_sn(k, sn->kids[i]);

		if (kids != NULL)
			kids[i] = c;
	}
	if (sn->fc != NULL)
		fc = pk_fc(k, sn->fc);
	if (d != NULL) {
		d->kids = sn->n > 0 ? kids : NULL;
		d->fc = fc;
	}
	return d;
}

static struct cnode *pk_cn(struct pk *k, const struct rule_impl *ri,
    const struct cnode *cn)
{
	struct cnode *d = pk_take(k, cn, sizeof(*cn));
	struct cnode **kids = pk_take(k, cn->kids, cn->n * sizeof(*kids));

	if (cn->op == CN_SEL && cn->sel < ri->nsels && !k->done[cn->sel]) {
		/* the selection right after the node that reads it */
		k->done[cn->sel] = 1;
		k->roots[cn->sel] = ri->sels[cn->sel].root != NULL ?
		    pk_sn(k, ri->sels[cn->sel].root) : NULL;
	}
	for (uint32_t i = 0; i < cn->n; i++) {
		struct cnode *c = pk_cn(k, ri, cn->kids[i]);

		if (kids != NULL)
			kids[i] = c;
	}
	if (d != NULL)
		d->kids = cn->n > 0 ? kids : NULL;
	return d;
}

/* Lay out (base NULL: measure) ri's sels and cond; returns the cond. */
static struct cnode *pk_rule(struct pk *k, const struct rule_impl *ri,
    struct sel **sels)
{
	struct cnode *cond;

	memset(k->done, 0, ri->nsels);
	*sels = pk_take(k, ri->sels, ri->nsels * sizeof(**sels));
	cond = ri->cond != NULL ? pk_cn(k, ri, ri->cond) : NULL;
	for (uint32_t i = 0; i < ri->nsels; i++) {
		if (!k->done[i]) {
			k->done[i] = 1;
			k->roots[i] = ri->sels[i].root != NULL ?
			    pk_sn(k, ri->sels[i].root) : NULL;
		}
		if (*sels != NULL)
			(*sels)[i].root = k->roots[i];
	}
	return cond;
}

/* Free the nodes of an original that was packed, not what they own. */
static void orig_sn_free(struct snode *sn)
{
	if (sn == NULL)
		return;
	for (uint32_t i = 0; i < sn->n; i++)
		orig_sn_free(sn->kids[i]);
	free(sn->kids);
	if (sn->fc != NULL) {
		for (uint32_t i = 0; i < sn->fc->npats; i++) {
			free(sn->fc->pats[i].s);
			free(sn->fc->pats[i].relit);
		}
		free(sn->fc->pats);
		free(sn->fc->fields);
		free(sn->fc->lits);
		free(sn->fc);
	}
	free(sn);
}

static void orig_cn_free(struct cnode *cn)
{
	if (cn == NULL)
		return;
	for (uint32_t i = 0; i < cn->n; i++)
		orig_cn_free(cn->kids[i]);
	free(cn->kids);
	free(cn);
}

static void rule_pack(struct rule_impl *ri)
{
	struct pk k = { 0 };
	struct sel *sels;
	struct cnode *cond;

	if (ri->pack != NULL || ri->nsels == 0)
		return;
	k.done = vg_malloc(ri->nsels);
	k.roots = vg_calloc(ri->nsels, sizeof(*k.roots));
	pk_rule(&k, ri, &sels);
	k.base = vg_malloc(k.off > 0 ? k.off : 1);
	k.off = 0;
	cond = pk_rule(&k, ri, &sels);
	for (uint32_t i = 0; i < ri->nsels; i++)
		orig_sn_free(ri->sels[i].root);
	free(ri->sels);
	orig_cn_free(ri->cond);
	ri->sels = sels;
	ri->cond = cond;
	ri->pack = k.base;
	free(k.done);
	free(k.roots);
}

static void pk_sn_free(struct snode *sn)
{
	if (sn == NULL)
		return;
	for (uint32_t i = 0; i < sn->n; i++)
		pk_sn_free(sn->kids[i]);
	if (sn->fc != NULL) {
		for (uint32_t i = 0; i < sn->fc->npats; i++) {
			struct pat *p = &sn->fc->pats[i];

			free(p->tok);
			free(p->refs);
			free(p->shown);
			pcre2_code_free(p->re);
		}
		free(sn->fc->name);
		free(sn->fc->key);
		free(sn->fc->cs);
	}
}

static void pk_cn_free(struct cnode *cn)
{
	if (cn == NULL)
		return;
	for (uint32_t i = 0; i < cn->n; i++)
		pk_cn_free(cn->kids[i]);
	free(cn->text);
}

void detect_pack_sn_free(struct snode *sn)
{
	pk_sn_free(sn);
}

/* Collect the fields of a presence-only condition into m->tfield; -1 if
 * it asks anything else or names too many fields. */
static int truth_fields(struct map_ls *m, const struct snode *sn)
{
	if (sn->kind == SN_FC) {
		const struct fcond *fc = sn->fc;

		if (fc->kind != FC_EXISTS)
			return -1;
		for (uint32_t f = 0; f < fc->nfields; f++) {
			uint8_t j;

			for (j = 0; j < m->ntf && m->tfield[j] != fc->fields[f]; j++)
				;
			if (j == m->ntf) {
				if (m->ntf == MAP_TRUTH_FIELDS)
					return -1;
				m->tfield[m->ntf++] = fc->fields[f];
			}
		}
		return 0;
	}
	if (sn->kind != SN_AND && sn->kind != SN_OR)
		return -1;
	for (uint32_t i = 0; i < sn->n; i++) {
		if (truth_fields(m, sn->kids[i]) < 0)
			return -1;
	}
	return 0;
}

/* The answer of a presence-only condition when exactly the fields of
 * bits b (of m->tfield) are present: as detect_sn_eval computes it. */
static int truth_eval(const struct map_ls *m, const struct snode *sn,
    unsigned b)
{
	if (sn->kind == SN_FC) {
		const struct fcond *fc = sn->fc;
		int r = 0;

		for (uint32_t f = 0; f < fc->nfields && !r; f++) {
			for (uint8_t j = 0; j < m->ntf; j++) {
				if (m->tfield[j] == fc->fields[f])
					r = (b >> j & 1) != 0;
			}
		}
		r = r == fc->want;
		return fc->neg ? !r : r;
	}
	for (uint32_t i = 0; i < sn->n; i++) {
		int r = truth_eval(m, sn->kids[i], b);

		if (sn->kind == SN_AND && !r)
			return 0;
		if (sn->kind == SN_OR && r)
			return 1;
	}
	return sn->kind == SN_AND;
}

/* A presence-only entry condition becomes a table of its answers. */
static void map_truth(struct map_ls *m)
{
	m->ntf = 0;
	m->truth = 0;
	if (m->cond == NULL || truth_fields(m, m->cond) < 0) {
		m->ntf = 0;
		return;
	}
	for (uint8_t j = 0; j < m->ntf; j++) {
		if (m->tfield[j] == FIELD_NONE || m->tfield[j] >= FIELD_MAX) {
			m->ntf = 0; /* no id to look up: evaluated as it is */
			return;
		}
	}
	if (m->ntf == 0)
		return; /* names no field: evaluated as it is */
	for (unsigned b = 0; b < 1u << m->ntf; b++) {
		if (truth_eval(m, m->cond, b))
			m->truth |= 1ull << b;
	}
}

/* A mapping entry's condition, evaluated for most events, likewise. */
static void map_pack(struct map_ls *m)
{
	struct pk k = { 0 };
	struct snode *cond;

	if (m->cond == NULL || m->pack != NULL)
		return;
	pk_sn(&k, m->cond);
	k.base = vg_malloc(k.off > 0 ? k.off : 1);
	k.off = 0;
	cond = pk_sn(&k, m->cond);
	orig_sn_free(m->cond);
	m->cond = cond;
	m->pack = k.base;
}

void detect_pack_free(struct rule_impl *ri)
{
	for (uint32_t i = 0; i < ri->nsels; i++) {
		free(ri->sels[i].name);
		free(ri->sels[i].filter);
		pk_sn_free(ri->sels[i].root);
	}
	pk_cn_free(ri->cond);
	free(ri->pack);
	ri->pack = NULL;
	ri->sels = NULL;
	ri->cond = NULL;
	ri->nsels = 0;
}

/* A rule whose condition is one selection that is a wholeeq condition,
 * or an AND of a few: its conditions, for detect_weq_and. */
static void rule_weq(const struct rule_impl *ri, struct rule_eval *re)
{
	const struct snode *sn;

	re->nweq = 0;
	if (ri->cond == NULL || ri->cond->op != CN_SEL || ri->cond->sel >= ri->nsels)
		return;
	sn = ri->sels[ri->cond->sel].root;
	if (sn == NULL)
		return;
	if (sn->kind == SN_FC) {
		if (sn->fc->wholeeq && !sn->fc->neg)
			re->weq[re->nweq++] = sn->fc;
		return;
	}
	if (sn->kind != SN_AND || sn->n == 0 || sn->n > WEQ_MAX)
		return;
	for (uint32_t i = 0; i < sn->n; i++) {
		const struct snode *k = sn->kids[i];

		if (k->kind != SN_FC || !k->fc->wholeeq || k->fc->neg) {
			re->nweq = 0;
			return;
		}
		re->weq[re->nweq++] = k->fc;
	}
}

void detect_ruleset_finish(struct ruleset *rs)
{
	detect_index_build(rs);
	for (size_t r = 0; r < rs->nrules; r++) {
		struct rule_impl *ri = rs->rules[r]->impl;

		for (uint32_t i = 0; i < ri->nsels; i++)
			sn_lits(rs, ri->sels[i].root);
		rule_pack(ri);
	}
	for (size_t e = 0; e < rs->nmls; e++) {
		sn_lits(rs, rs->mls[e].cond);
		map_pack(&rs->mls[e]);
		map_truth(&rs->mls[e]);
	}
	free(rs->act);
	rs->nact = FIELD_MAX; /* every id: the scan reads act[id] unchecked */
	rs->act = vg_calloc(rs->nact, 1);
	for (uint32_t f = 0; f < rs->pf.nscan; f++)
		rs->act[f] = rs->pf.scan[f];
	if (rs->pf.keywords)
		rs->act[F_MESSAGE] |= ACT_KW;
	free(rs->needf_ids);
	rs->needf_ids = NULL;
	rs->nneedf_ids = 0;
	/* FIELD_NONE, never in an event's index, is left out (any_needed
	 * reads the index unchecked) */
	for (uint32_t f = 1; f < rs->nneedf && f < FIELD_MAX; f++)
		rs->nneedf_ids += rs->needf[f] != 0;
	if (rs->nneedf_ids <= NEEDF_IDS_MAX) {
		rs->needf_ids = vg_malloc((rs->nneedf_ids + 1) *
		    sizeof(*rs->needf_ids));
		rs->nneedf_ids = 0;
		for (uint32_t f = 1; f < rs->nneedf && f < FIELD_MAX; f++) {
			if (rs->needf[f])
				rs->needf_ids[rs->nneedf_ids++] = f;
		}
	}
	free(rs->reval);
	rs->reval = vg_calloc(rs->nrules > 0 ? rs->nrules : 1, sizeof(*rs->reval));
	for (size_t r = 0; r < rs->nrules; r++) {
		const struct rule_impl *ri = rs->rules[r]->impl;
		struct rule_eval *re = &rs->reval[ri->index];

		re->cond = ri->cond;
		re->sels = ri->sels;
		re->need = ri->need;
		re->nneed = ri->nneed;
		re->group = ri->group;
		rule_weq(ri, re);
	}
}

void detect_keep_correlation(struct ruleset *rs, const struct ynode *root,
    const char *file)
{
	char *f = vg_strdup(file ? file : "");

	rs->corr = vg_realloc(rs->corr, (rs->ncorr + 1) * sizeof(*rs->corr));
	rs->corr_files = vg_realloc(rs->corr_files,
	    (rs->ncorr + 1) * sizeof(*rs->corr_files));
	rs->corr[rs->ncorr] = detect_ynode_copy_in(root, f);
	rs->corr_files[rs->ncorr] = f;
	rs->ncorr++;
}

const struct ruleset *detect_ruleset_ref(const struct ruleset *rs)
{
	if (rs != NULL)
		atomic_fetch_add_explicit(&((struct ruleset *)rs)->refs, 1,
		    memory_order_relaxed);
	return rs;
}

static void ruleset_destroy(struct ruleset *rs);

void detect_ruleset_unref(const struct ruleset *crs)
{
	struct ruleset *rs = (struct ruleset *)crs;

	/* release: this thread's reads of rs happen before the free */
	if (rs != NULL && atomic_fetch_sub_explicit(&rs->refs, 1,
	    memory_order_acq_rel) == 1)
		ruleset_destroy(rs);
}

void detect_free(struct ruleset *rs)
{
	detect_ruleset_unref(rs);
}

static void ruleset_destroy(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->nrules; i++)
		detect_rule_free(rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->ngroups; i++) {
		free(rs->groups[i].entries);
		free(rs->groups[i].rules);
		free(rs->groups[i].always);
		free(rs->groups[i].need);
	}
	detect_index_free(&rs->pf);
	free(rs->reval);
	free(rs->act);
	free(rs->needf_ids);
	free(rs->groups);
	free(rs->agroups);
	free(rs->needf);
	detect_map_free(rs);
	for (size_t i = 0; i < rs->ncorr; i++) {
		detect_ynode_free(rs->corr[i]);
		free(rs->corr_files[i]);
	}
	free(rs->corr);
	free(rs->corr_files);
	free(rs);
}

size_t detect_rule_count(const struct ruleset *rs)
{
	return rs ? rs->nrules : 0;
}

const struct rule *detect_rule(const struct ruleset *rs, size_t i)
{
	return rs && i < rs->nrules ? rs->rules[i] : NULL;
}

const struct ynode *detect_rule_vigil(const struct rule *r)
{
	return r && r->impl ? r->impl->vigil : NULL;
}

size_t detect_correlation_count(const struct ruleset *rs)
{
	return rs ? rs->ncorr : 0;
}

const struct ynode *detect_correlation_doc(const struct ruleset *rs, size_t i)
{
	return rs && i < rs->ncorr ? rs->corr[i] : NULL;
}

const char *detect_correlation_file(const struct ruleset *rs, size_t i)
{
	return rs && i < rs->ncorr ? rs->corr_files[i] : NULL;
}

struct detect_ctx *detect_ctx_new(const struct ruleset *rs)
{
	struct detect_ctx *ctx = vg_calloc(1, sizeof(*ctx));

	ctx->rs = detect_ruleset_ref(rs);
	ctx->matches = vg_calloc(rs->nrules + 1, sizeof(*ctx->matches));
	ctx->group_ok = vg_calloc(rs->nmls + 1, 1);
	ctx->group_ep = vg_calloc(rs->nmls + 1, sizeof(*ctx->group_ep));
	ctx->gstate = vg_calloc(rs->ngroups + 1, 1);
	ctx->gstate_ep = vg_calloc(rs->ngroups + 1, sizeof(*ctx->gstate_ep));
	ctx->rstamp = vg_calloc(rs->nrules + 1, sizeof(*ctx->rstamp));
	ctx->rmask = vg_calloc(rs->nrules + 1, 1);
	ctx->cands = vg_calloc(rs->nrules + 1, sizeof(*ctx->cands));
	ctx->lseen = vg_calloc(rs->pf.nlits + 1, sizeof(*ctx->lseen));
	ctx->vslots = vg_calloc(1u << VC_SLOTS_LOG, sizeof(*ctx->vslots));
	ctx->vring = vg_malloc(VC_RING);
	ctx->vstat = vg_calloc(rs->pf.nscan + 2, sizeof(*ctx->vstat));
	ctx->vfound = vg_malloc(VC_FOUND_MAX * sizeof(*ctx->vfound));
	ctx->vwords = vg_malloc(VC_WORDS * sizeof(*ctx->vwords));
	ctx->vstamp = vg_calloc(rs->pf.nlits + 1, sizeof(*ctx->vstamp));
	ctx->md = pcre2_match_data_create(1, NULL);
	ctx->mctx = pcre2_match_context_create(NULL);
	ctx->jit = pcre2_jit_stack_create(32 * 1024, RE_JIT_STACK_MAX, NULL);
	if (ctx->md == NULL || ctx->mctx == NULL) {
		fprintf(stderr, "vigil: out of memory for PCRE2 match data\n");
		abort();
	}
	pcre2_set_match_limit(ctx->mctx, RE_MATCH_LIMIT);
	pcre2_set_depth_limit(ctx->mctx, RE_DEPTH_LIMIT);
	if (ctx->jit != NULL)
		pcre2_jit_stack_assign(ctx->mctx, NULL, ctx->jit);
	buf_init(&ctx->tmp);
	return ctx;
}

void detect_ctx_free(struct detect_ctx *ctx)
{
	if (ctx == NULL)
		return;
	free(ctx->matches);
	free(ctx->group_ok);
	free(ctx->group_ep);
	free(ctx->gstate);
	free(ctx->gstate_ep);
	free(ctx->rstamp);
	free(ctx->rmask);
	free(ctx->cands);
	free(ctx->lseen);
	free(ctx->vslots);
	free(ctx->vring);
	free(ctx->vstat);
	free(ctx->vfound);
	free(ctx->vwords);
	free(ctx->vstamp);
	pcre2_match_data_free(ctx->md);
	pcre2_match_context_free(ctx->mctx);
	pcre2_jit_stack_free(ctx->jit);
	free(ctx->fold);
	free(ctx->vfold);
	buf_free(&ctx->tmp);
	detect_ruleset_unref(ctx->rs);
	free(ctx);
}

const struct ruleset *detect_ctx_ruleset(const struct detect_ctx *ctx)
{
	return ctx ? ctx->rs : NULL;
}

const struct rule *detect_ctx_regex_limit_rule(const struct detect_ctx *ctx)
{
	return ctx ? ctx->re_limit_rule : NULL;
}

/* ---- the running ruleset, swapped whole on reload ---- */

struct detect_live {
	pthread_mutex_t lock;      /* guards cur against a swap while a
	                              worker takes its reference */
	const struct ruleset *cur; /* holds one reference */
	atomic_uint_fast64_t gen;
};

struct detect_live *detect_live_new(const struct ruleset *rs)
{
	struct detect_live *l = vg_calloc(1, sizeof(*l));

	pthread_mutex_init(&l->lock, NULL);
	l->cur = rs;
	atomic_init(&l->gen, 1);
	return l;
}

void detect_live_free(struct detect_live *l)
{
	if (l == NULL)
		return;
	detect_ruleset_unref(l->cur);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

uint64_t detect_live_swap(struct detect_live *l, const struct ruleset *rs)
{
	const struct ruleset *old;
	uint64_t gen;

	pthread_mutex_lock(&l->lock);
	old = l->cur;
	l->cur = rs;
	gen = atomic_fetch_add_explicit(&l->gen, 1, memory_order_release) + 1;
	pthread_mutex_unlock(&l->lock);
	/* workers still running on old hold their own references */
	detect_ruleset_unref(old);
	return gen;
}

uint64_t detect_live_gen(const struct detect_live *l)
{
	return atomic_load_explicit(&((struct detect_live *)l)->gen,
	    memory_order_acquire);
}

const struct ruleset *detect_live_get(struct detect_live *l, uint64_t *gen)
{
	const struct ruleset *rs;

	pthread_mutex_lock(&l->lock);
	rs = detect_ruleset_ref(l->cur);
	if (gen != NULL)
		*gen = atomic_load_explicit(&l->gen, memory_order_relaxed);
	pthread_mutex_unlock(&l->lock);
	return rs;
}

int detect_ctx_refresh(struct detect_ctx **ctx, struct detect_live *l,
    uint64_t *gen)
{
	const struct ruleset *rs;

	if (*ctx != NULL && detect_live_gen(l) == *gen)
		return 0;
	rs = detect_live_get(l, gen);
	if (*ctx != NULL && (*ctx)->rs == rs) {
		detect_ruleset_unref(rs);
		return 0;
	}
	detect_ctx_free(*ctx); /* drops the old set, freed with its last user */
	*ctx = detect_ctx_new(rs);
	detect_ruleset_unref(rs); /* the context holds its own */
	return 1;
}

uint64_t detect_ctx_regex_limit_hits(const struct detect_ctx *ctx)
{
	return ctx ? ctx->re_limit_hits : 0;
}

/* Mapping entry e's answer for ev, evaluated and kept for the event. */
static int __attribute__((noinline)) entry_eval(struct detect_ctx *ctx,
    const struct vg_event *ev, uint32_t e)
{
	uint8_t *st = &ctx->group_ok[e];
	const struct map_ls *m = &ctx->rs->mls[e];

	ctx->group_ep[e] = ctx->epoch;
	if (m->ntf > 0) {
		/* presence only: which of its fields are there (their ids
		 * are real ones, map_truth: the event's index directly) */
		const uint32_t *stamp = ev->stamp;
		const uint32_t gen = ev->gen;
		unsigned b = 0;

		for (uint8_t j = 0; j < m->ntf; j++)
			b |= (unsigned)(stamp[m->tfield[j]] == gen) << j;
		*st = (m->truth >> b & 1) ? 1 : 2;
	} else {
		*st = m->cond == NULL || detect_sn_eval(ctx, ev, m->cond) ?
		    1 : 2;
	}
	return *st == 1;
}

/* Does mapping entry e accept ev? (cached per event: the kept answer in
 * line, the evaluation a call) */
static inline int entry_ok(struct detect_ctx *ctx, const struct vg_event *ev,
    uint32_t e)
{
	/* epoch 0: a context that never started an event keeps nothing */
	if (ctx->group_ep[e] != ctx->epoch || ctx->epoch == 0)
		return entry_eval(ctx, ev, e);
	return ctx->group_ok[e] == 1;
}

int detect_entry_ok(struct detect_ctx *ctx, const struct vg_event *ev,
    uint32_t e)
{
	return entry_ok(ctx, ev, e);
}

static int group_passes(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct lsgroup *g)
{
	for (uint32_t i = 0; i < g->nentries; i++) {
		if (!entry_ok(ctx, ev, g->entries[i]))
			return 0;
	}
	return 1;
}

static int cmp_index(const void *a, const void *b)
{
	uint32_t x = (*(const struct rule *const *)a)->impl->index;
	uint32_t y = (*(const struct rule *const *)b)->impl->index;

	return x < y ? -1 : x > y;
}

/* Has ev one of the fields r cannot match without (or is none known)? */
static inline int need_present(const struct rule_eval *re,
    const struct vg_event *ev)
{
	if (re->need == NULL)
		return 1;
	for (uint32_t i = 0; i < re->nneed; i++) {
		if (vg_event_first(ev, re->need[i]) != FENT_END)
			return 1;
	}
	return 0;
}

/* Might ev hold a field that a rule evaluated for every event needs? One
 * pass over its entries and a small table, instead of a lookup in the
 * event's index per field each group needs (a syslog line has none). */
static int any_needed(const struct ruleset *rs, const struct vg_event *ev)
{
	if (rs->need_any)
		return 1;
	if (rs->needf_ids != NULL) {
		/* a few such fields (real ids, below nneedf): their index
		 * entries */
		const uint32_t *stamp = ev->stamp;
		const uint32_t gen = ev->gen;

		for (uint32_t k = 0; k < rs->nneedf_ids; k++) {
			if (stamp[rs->needf_ids[k]] == gen)
				return 1;
		}
		return 0;
	}
	for (uint32_t e = 0; e < ev->n; e++) {
		uint32_t id = ev->ents[e].id;

		if (id < rs->nneedf && rs->needf[id])
			return 1;
	}
	return 0;
}

/* Load order; matches are few, so insertion sort unless they are not. */
static void sort_by_index(const struct rule **v, size_t n)
{
	if (n > 16) {
		qsort(v, n, sizeof(*v), cmp_index);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		const struct rule *x = v[i];
		size_t j = i;

		while (j > 0 && v[j - 1]->impl->index > x->impl->index) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

/* group_passes of group gi, kept for this event */
static int __attribute__((noinline)) group_eval(struct detect_ctx *ctx,
    const struct vg_event *ev, uint32_t gi)
{
	ctx->gstate_ep[gi] = ctx->epoch;
	ctx->gstate[gi] = group_passes(ctx, ev, &ctx->rs->groups[gi]) ? 1 : 2;
	return ctx->gstate[gi] == 1;
}

/* group_passes, cached per group for this event (the kept answer in line,
 * the evaluation a call) */
static inline int group_ok(struct detect_ctx *ctx, const struct vg_event *ev,
    uint32_t gi)
{
	if (ctx->gstate_ep[gi] != ctx->epoch || ctx->epoch == 0)
		return group_eval(ctx, ev, gi);
	return ctx->gstate[gi] == 1;
}

static void new_event(const struct ruleset *rs, struct detect_ctx *ctx)
{
	ctx->events++;
	if (++ctx->epoch == 0) {
		/* wrapped: old stamps could look current */
		memset(ctx->rstamp, 0, rs->nrules * sizeof(*ctx->rstamp));
		memset(ctx->lseen, 0, rs->pf.nlits * sizeof(*ctx->lseen));
		memset(ctx->group_ep, 0, rs->nmls * sizeof(*ctx->group_ep));
		memset(ctx->gstate_ep, 0, rs->ngroups * sizeof(*ctx->gstate_ep));
		ctx->epoch = 1;
		ctx->scanned = 0;
		ctx->vepoch = 0;
	}
}

size_t detect_event(const struct ruleset *rs, struct detect_ctx *ctx,
    const struct vg_event *ev, const struct rule *const **matches)
{
	size_t n = 0;

	new_event(rs, ctx);
	detect_index_scan(rs, ctx, ev);
	/* rules the prefilter cannot vouch for */
	for (uint32_t a = 0; a < rs->nagroups && (a > 0 || any_needed(rs, ev));
	    a++) {
		uint32_t gi = rs->agroups[a];
		const struct lsgroup *g = &rs->groups[gi];
		uint32_t k;

		/* the fields first (cheap), then the logsource */
		if (g->need != NULL) {
			for (k = 0; k < g->nneed; k++) {
				if (vg_event_first(ev, g->need[k]) != FENT_END)
					break;
			}
			if (k == g->nneed)
				continue;
		}
		for (k = 0; k < g->nalways; k++) {
			if (need_present(&rs->reval[g->always[k]], ev))
				break;
		}
		if (k == g->nalways || !group_ok(ctx, ev, gi))
			continue;
		for (; k < g->nalways; k++) {
			const struct rule_eval *re = &rs->reval[g->always[k]];

			if (!need_present(re, ev))
				continue;
			ctx->cur = rs->rules[g->always[k]];
			if (detect_cond_eval(ctx, ev, re->sels, re->cond))
				ctx->matches[n++] = ctx->cur;
		}
	}
	/* rules whose literals the event holds */
	for (size_t i = 0; i < ctx->ncands; i++) {
		const struct rule_eval *re = &rs->reval[ctx->cands[i]];

		if (!group_ok(ctx, ev, re->group))
			continue;
		ctx->cur = rs->rules[ctx->cands[i]];
		if (re->nweq > 0) {
			/* equalities the scan's hits answer, mostly */
			int w = detect_weq_and(ctx, ev, re);

			if (w >= 0) {
				if (w)
					ctx->matches[n++] = ctx->cur;
				continue;
			}
		}
		if (detect_cond_eval(ctx, ev, re->sels, re->cond))
			ctx->matches[n++] = ctx->cur;
	}
	ctx->cur = NULL;
	sort_by_index(ctx->matches, n);
	ctx->nmatches = n;
	*matches = ctx->matches;
	return n;
}

void detect_explain(const struct ruleset *rs, struct detect_ctx *ctx,
    const struct vg_event *ev, struct buf *out)
{
	const struct rule **list = vg_malloc((rs->nrules + 1) * sizeof(*list));
	size_t n = 0;

	/* the rules of the event's logsource(s), in load order */
	new_event(rs, ctx);
	for (uint32_t gi = 0; gi < rs->ngroups; gi++) {
		const struct lsgroup *g = &rs->groups[gi];

		if (!group_ok(ctx, ev, gi))
			continue;
		for (uint32_t k = 0; k < g->nrules; k++)
			list[n++] = rs->rules[g->rules[k]];
	}
	sort_by_index(list, n);
	buf_addc(out, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(out, ',');
		ctx->cur = list[i];
		detect_explain_rule(ctx, ev, list[i], out);
		ctx->cur = NULL;
	}
	buf_addc(out, ']');
	free(list);
}
