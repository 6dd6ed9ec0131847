/*
 * detect_index.c: the literal prefilter that keeps the cost of an event
 * from growing with the number of rules.
 *
 * At load time each rule's condition is reduced to a set of (literal,
 * field) atoms such that the rule cannot match unless one of its literals
 * occurs, case-folded, in a value of the atom's field: AND keeps the child
 * with the most selective set, OR unions its children, NOT and anything
 * that is not a plain literal (regex, cidr, numbers, exists, null, neq)
 * gives up. Rules with a set are "indexed"; the others are always
 * evaluated. The literals go into one Aho-Corasick automaton (transitions
 * from the root in a table, the rest as sorted edge lists).
 *
 * Per event, the values of the fields that some atom names (and, for
 * keywords, the message or every string value) are scanned once, folded
 * on the fly; each literal found stamps the rules it vouches for in that
 * field. Never allocates per event.
 */
#include "detect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct atom {
	char *lit;              /* folded, owned */
	uint32_t len;
	const struct fcond *fc;
};

struct aset {
	struct atom *v;
	size_t n, cap;
	int none;               /* no literal can vouch for it */
	double score;           /* rough chance that some literal shows up */
};

static void aset_free(struct aset *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].lit);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static void aset_none(struct aset *a)
{
	aset_free(a);
	a->none = 1;
}

/* How often a literal of this length turns up by chance, roughly. */
static double lit_weight(uint32_t len)
{
	static const double w[] = { 1, 1, 0.5, 0.25, 0.12, 0.08, 0.05, 0.04, 0.03 };

	return len < VG_ARRAY_LEN(w) ? w[len] : 0.02;
}

static void aset_add(struct aset *a, char *lit, uint32_t len,
    const struct fcond *fc)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->v = vg_realloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n].lit = lit;
	a->v[a->n].len = len;
	a->v[a->n].fc = fc;
	a->n++;
	a->score += lit_weight(len);
}

/* Move every atom of b into a (a takes b's none). */
static void aset_union(struct aset *a, struct aset *b)
{
	if (a->none || b->none) {
		aset_none(a);
		aset_free(b);
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		aset_add(a, b->v[i].lit, b->v[i].len, b->v[i].fc);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* Keep in best whichever of best and b is more selective. */
static void aset_best(struct aset *best, struct aset *b, int *have)
{
	if (b->none) {
		aset_free(b);
		return;
	}
	if (!*have || b->score < best->score) {
		aset_free(best);
		*best = *b;
		*have = 1;
	} else {
		aset_free(b);
	}
}

/* The canonical text of an integral number ("4688"); 0 if not one. */
static int int_text(double num, char out[32])
{
	if (!(num > -1e15 && num < 1e15) || num != (double)(long long)num)
		return 0;
	snprintf(out, 32, "%lld", (long long)num);
	return 1;
}

/* The literal a value must hold for p to match it; NULL if none. */
static char *pat_literal(const struct pat *p, uint32_t *len)
{
	char *lit;

	switch (p->kind) {
	case PK_EQ:
		if (p->isnum) {
			/* numbers compare by value too: usable when the rule
			 * wrote the integer plainly, as the scan writes V_NUMs */
			char canon[32];

			if (!int_text(p->num, canon) || strcmp(canon, p->s) != 0)
				return NULL;
		}
		/* fall through */
	case PK_PREFIX:
	case PK_SUFFIX:
	case PK_CONTAINS:
		if (p->len == 0)
			return NULL;
		lit = vg_malloc(p->len + 1);
		for (uint32_t i = 0; i < p->len; i++)
			lit[i] = (char)vg_lower((unsigned char)p->s[i]);
		*len = p->len;
		return lit;
	case PK_GLOB: {
		uint32_t best = 0, bestlen = 0, run = 0;

		for (uint32_t i = 0; i <= p->ntok; i++) {
			if (i < p->ntok && p->tok[i] < 256) {
				run++;
				continue;
			}
			if (run > bestlen) {
				bestlen = run;
				best = i - run;
			}
			run = 0;
		}
		if (bestlen == 0)
			return NULL;
		lit = vg_malloc(bestlen + 1);
		for (uint32_t i = 0; i < bestlen; i++)
			lit[i] = (char)vg_lower((unsigned char)p->tok[best + i]);
		*len = bestlen;
		return lit;
	}
	}
	return NULL;
}

/* ---- literals a regex needs ---- */

struct rex {
	int caseless;
	const char *s;
	size_t n, i;
	char run[256];
	size_t rl;
	char best[256];
	size_t bl;
};

static void rex_end(struct rex *x)
{
	if (x->rl > x->bl) {
		memcpy(x->best, x->run, x->rl);
		x->bl = x->rl;
	}
	x->rl = 0;
}

static void rex_add(struct rex *x, unsigned char c)
{
	/* caseless UTF-8 matching folds beyond ASCII: k and s also match
	 * the Kelvin sign and the long s */
	if (c >= 0x80 || (x->caseless && (vg_lower(c) == 'k' || vg_lower(c) == 's'))) {
		rex_end(x);
		return;
	}
	if (x->rl == sizeof(x->run))
		rex_end(x);
	x->run[x->rl++] = (char)vg_lower(c);
}

/* Skip a [...] class starting at x->i; -1 if it does not end. */
static int rex_skip_class(struct rex *x)
{
	size_t i = x->i + 1;

	if (i < x->n && x->s[i] == '^')
		i++;
	if (i < x->n && x->s[i] == ']')
		i++;
	while (i < x->n && x->s[i] != ']') {
		if (x->s[i] == '\\')
			i++;
		else if (x->s[i] == '[' && i + 1 < x->n && x->s[i + 1] == ':') {
			const char *e = memmem(x->s + i + 2, x->n - i - 2, ":]", 2);

			if (e == NULL)
				return -1;
			i = (size_t)(e - x->s) + 1;
		}
		i++;
	}
	if (i >= x->n)
		return -1;
	x->i = i + 1;
	return 0;
}

/* Skip a (...) group starting at x->i; -1 if unbalanced or verbose. */
static int rex_skip_group(struct rex *x)
{
	size_t i = x->i;
	int depth = 0;

	if (i + 1 < x->n && x->s[i + 1] == '?') {
		/* inline options: x (extended) changes what spaces mean */
		for (size_t k = i + 2; k < x->n && x->s[k] != ')' && x->s[k] != ':'; k++) {
			if (x->s[k] == 'x')
				return -1;
		}
	}
	while (i < x->n) {
		char c = x->s[i];

		if (c == '\\') {
			i += 2;
			continue;
		}
		if (c == '[') {
			x->i = i;
			if (rex_skip_class(x) < 0)
				return -1;
			i = x->i;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0) {
			x->i = i + 1;
			return 0;
		}
		i++;
	}
	return -1;
}

/* Length of a {n}, {n,}, {n,m} quantifier at i and its minimum; 0 if none. */
static size_t rex_brace(const struct rex *x, size_t i, long *min)
{
	size_t k = i + 1;
	int digits = 0;

	*min = 0;
	while (k < x->n && x->s[k] >= '0' && x->s[k] <= '9') {
		*min = *min * 10 + (x->s[k] - '0');
		if (*min > 100000)
			*min = 100000;
		k++;
		digits++;
	}
	if (!digits)
		return 0;
	if (k < x->n && x->s[k] == ',') {
		k++;
		while (k < x->n && x->s[k] >= '0' && x->s[k] <= '9')
			k++;
	}
	if (k >= x->n || x->s[k] != '}')
		return 0;
	return k - i + 1;
}

/*
 * The longest literal that every match of one alternation branch
 * s[b..e) contains, folded; 0 and nothing when there is none or the
 * regex uses something this reader does not follow.
 */
static int rex_branch(const char *s, size_t b, size_t e, int caseless,
    char *out, size_t *outlen)
{
	struct rex x = { 0 };
	int last_lit = 0;

	x.caseless = caseless;
	x.s = s;
	x.n = e;
	x.i = b;
	while (x.i < x.n) {
		unsigned char c = (unsigned char)s[x.i];

		if (c == '\\') {
			unsigned char d;

			if (x.i + 1 >= x.n)
				return 0;
			d = (unsigned char)s[x.i + 1];
			if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
			    (d >= '0' && d <= '9')) {
				/* classes and assertions end a run; other
				 * escapes (\x, \p, \Q, backrefs) are not followed */
				if (strchr("dDwWsShHvVbBAzZGtnrfe", d) == NULL)
					return 0;
				rex_end(&x);
				last_lit = 0;
			} else {
				rex_add(&x, d);
				last_lit = 1;
			}
			x.i += 2;
			continue;
		}
		switch (c) {
		case '.':
		case '^':
		case '$':
			rex_end(&x);
			last_lit = 0;
			x.i++;
			continue;
		case '[':
			rex_end(&x);
			last_lit = 0;
			if (rex_skip_class(&x) < 0)
				return 0;
			continue;
		case '(':
			rex_end(&x);
			last_lit = 0;
			if (rex_skip_group(&x) < 0)
				return 0;
			continue;
		case ')':
			return 0;
		case '*':
		case '?':
		case '+':
		case '{': {
			long min = c == '+' ? 1 : 0;
			size_t qlen = 1;

			if (c == '{' && (qlen = rex_brace(&x, x.i, &min)) == 0) {
				rex_add(&x, c); /* not a quantifier: a plain brace */
				last_lit = 1;
				x.i++;
				continue;
			}
			/* the atom before may be absent (min 0) or repeated */
			if (last_lit && min == 0 && x.rl > 0)
				x.rl--;
			rex_end(&x);
			last_lit = 0;
			x.i += qlen;
			if (x.i < x.n && (s[x.i] == '?' || s[x.i] == '+'))
				x.i++; /* lazy or possessive */
			continue;
		}
		default:
			rex_add(&x, c);
			last_lit = 1;
			x.i++;
			continue;
		}
	}
	rex_end(&x);
	if (x.bl == 0)
		return 0;
	memcpy(out, x.best, x.bl);
	*outlen = x.bl;
	return 1;
}

/* Does the regex match without case anywhere (flag or inline (?i))? */
static int rex_caseless(const struct pat *p)
{
	uint32_t opts = 0;
	const char *q = p->shown;

	pcre2_pattern_info(p->re, PCRE2_INFO_ALLOPTIONS, &opts);
	if (opts & PCRE2_CASELESS)
		return 1;
	while ((q = strstr(q, "(?")) != NULL) {
		for (q += 2; *q && *q != ')' && *q != ':'; q++) {
			if (*q == 'i')
				return 1;
		}
	}
	return 0;
}

/* Atoms of a regex: one literal per top-level alternative. */
static int rex_atoms(const struct pat *p, const struct fcond *fc,
    struct aset *out)
{
	const char *s = p->shown;
	size_t n = strlen(s), b = 0, i = 0;
	int depth = 0, caseless = rex_caseless(p);
	char lit[256];
	size_t len;

	for (;; i++) {
		if (i == n || (s[i] == '|' && depth == 0)) {
			if (!rex_branch(s, b, i, caseless, lit, &len))
				return -1;
			aset_add(out, vg_strndup(lit, len), (uint32_t)len, fc);
			if (i == n)
				return 0;
			b = i + 1;
			continue;
		}
		if (s[i] == '\\') {
			i++;
			if (i == n)
				return -1;
		} else if (s[i] == '[') {
			struct rex x = { 0 };

			x.s = s;
			x.n = n;
			x.i = i;
			if (rex_skip_class(&x) < 0)
				return -1;
			i = x.i - 1;
		} else if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')') {
			depth--;
		}
	}
}

/* Add the literals a value needs for p to match it; -1 if none. */
static int pat_atoms(const struct pat *p, const struct fcond *fc,
    struct aset *out)
{
	uint32_t len;
	char *lit;

	if (p->kind == PK_RE)
		return rex_atoms(p, fc, out);
	if ((lit = pat_literal(p, &len)) == NULL)
		return -1;
	aset_add(out, lit, len, fc);
	return 0;
}

static void fc_atoms(const struct fcond *fc, struct aset *out)
{
	memset(out, 0, sizeof(*out));
	if (fc->neg || fc->kind != FC_VALUES || fc->tpart != TP_NONE ||
	    (!fc->keyword && fc->nfields == 0)) {
		out->none = 1;
		return;
	}
	if (fc->all) {
		/* every group must match: any one group's literals will do */
		int have = 0;

		for (uint32_t k = 0, e; k < fc->npats; k = e) {
			struct aset a = { 0 };

			e = detect_grp_end(fc, k);
			for (uint32_t j = k; j < e && !a.none; j++) {
				if (pat_atoms(&fc->pats[j], fc, &a) < 0)
					aset_none(&a);
			}
			aset_best(out, &a, &have);
		}
		if (!have)
			out->none = 1;
		return;
	}
	for (uint32_t k = 0; k < fc->npats; k++) {
		if (pat_atoms(&fc->pats[k], fc, out) < 0) {
			aset_none(out);
			return;
		}
	}
}

static void sn_atoms(const struct snode *sn, struct aset *out)
{
	struct aset a;
	int have = 0;

	memset(out, 0, sizeof(*out));
	switch (sn->kind) {
	case SN_FC:
		fc_atoms(sn->fc, out);
		return;
	case SN_AND:
		for (uint32_t i = 0; i < sn->n; i++) {
			sn_atoms(sn->kids[i], &a);
			aset_best(out, &a, &have);
		}
		if (!have)
			out->none = 1;
		return;
	case SN_OR:
		for (uint32_t i = 0; i < sn->n && !out->none; i++) {
			sn_atoms(sn->kids[i], &a);
			aset_union(out, &a);
		}
		return;
	}
}

static void cn_atoms(const struct rule_impl *ri, const struct cnode *cn,
    struct aset *out)
{
	struct aset a;
	int have = 0;

	memset(out, 0, sizeof(*out));
	switch (cn->op) {
	case CN_SEL:
		sn_atoms(ri->sels[cn->sel].root, out);
		return;
	case CN_NOT:
		out->none = 1;
		return;
	case CN_AND:
	case CN_OF:
	case CN_OR:
		break;
	}
	if (cn->op == CN_AND || (cn->op == CN_OF && cn->k == 0)) {
		/* all of them hold: the most selective one will do */
		for (uint32_t i = 0; i < cn->n; i++) {
			cn_atoms(ri, cn->kids[i], &a);
			aset_best(out, &a, &have);
		}
		if (!have)
			out->none = 1;
		return;
	}
	/* at least one of them holds */
	for (uint32_t i = 0; i < cn->n && !out->none; i++) {
		cn_atoms(ri, cn->kids[i], &a);
		aset_union(out, &a);
	}
}

/* ---- building the automaton ---- */

struct edge_map {          /* (node, byte) -> child, open addressing */
	uint64_t *keys;        /* node << 8 | byte, + 1 (0 = empty) */
	uint32_t *vals;
	size_t cap;
};

static size_t em_slot(const struct edge_map *m, uint64_t key)
{
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (m->cap - 1);

	while (m->keys[i] != 0 && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static uint32_t em_get(const struct edge_map *m, uint32_t node, uint8_t c)
{
	size_t i = em_slot(m, ((uint64_t)node << 8 | c) + 1);

	return m->keys[i] ? m->vals[i] : 0;
}

struct posting {
	uint32_t lit, rule, field;
};

static int cmp_posting(const void *a, const void *b)
{
	const struct posting *x = a, *y = b;

	if (x->lit != y->lit)
		return x->lit < y->lit ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return x->field < y->field ? -1 : x->field > y->field;
}

struct edge {
	uint32_t from, to;
	uint8_t c;
};

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return (int)x->c - (int)y->c;
}

void detect_index_build(struct ruleset *rs)
{
	struct prefilter *pf = &rs->pf;
	struct aset *sets = vg_calloc(rs->nrules + 1, sizeof(*sets));
	struct posting *posts = NULL;
	size_t nposts = 0, capposts = 0, chars = 0;
	struct edge_map em = { 0 };
	struct edge *edges = NULL;
	size_t nedges = 0;
	uint32_t *outs, *queue, nnodes = 1, nlits = 0, maxfield = 0;

	/* 1. each rule's atoms; the rules without go to their group's always */
	for (size_t r = 0; r < rs->nrules; r++) {
		struct rule_impl *ri = rs->rules[r]->impl;
		struct lsgroup *g = &rs->groups[ri->group];

		cn_atoms(ri, ri->cond, &sets[r]);
		ri->indexed = !sets[r].none && sets[r].n > 0;
		if (!ri->indexed) {
			g->always = vg_realloc(g->always, (g->nalways + 1) *
			    sizeof(*g->always));
			g->always[g->nalways++] = (uint32_t)r;
			continue;
		}
		pf->nindexed++;
		for (size_t i = 0; i < sets[r].n; i++)
			chars += sets[r].v[i].len;
	}
	/* 2. the trie of distinct literals, and the postings */
	for (em.cap = 1024; em.cap < chars * 2 + 2; em.cap *= 2)
		;
	em.keys = vg_calloc(em.cap, sizeof(*em.keys));
	em.vals = vg_calloc(em.cap, sizeof(*em.vals));
	outs = vg_calloc(chars + 2, sizeof(*outs));
	for (size_t r = 0; r < rs->nrules; r++) {
		for (size_t i = 0; i < sets[r].n; i++) {
			const struct atom *a = &sets[r].v[i];
			uint32_t node = 0, lit;

			for (uint32_t k = 0; k < a->len; k++) {
				uint8_t c = (uint8_t)a->lit[k];
				uint64_t key = ((uint64_t)node << 8 | c) + 1;
				size_t slot = em_slot(&em, key);

				if (em.keys[slot] == 0) {
					em.keys[slot] = key;
					em.vals[slot] = nnodes;
					if ((nedges & (nedges - 1)) == 0)
						edges = vg_realloc(edges, (nedges ? nedges * 2 : 1) *
						    sizeof(*edges));
					edges[nedges].from = node;
					edges[nedges].to = nnodes;
					edges[nedges].c = c;
					nedges++;
					nnodes++;
				}
				node = em.vals[slot];
			}
			if (outs[node] == 0)
				outs[node] = ++nlits;
			lit = outs[node] - 1;
			for (uint32_t f = 0; f < (a->fc->keyword ? 1 : a->fc->nfields); f++) {
				uint32_t field = a->fc->keyword ? FIELD_NONE : a->fc->fields[f];

				if (nposts == capposts) {
					capposts = capposts ? capposts * 2 : 256;
					posts = vg_realloc(posts, capposts * sizeof(*posts));
				}
				posts[nposts].lit = lit;
				posts[nposts].rule = (uint32_t)r;
				posts[nposts].field = field;
				nposts++;
				if (field > maxfield)
					maxfield = field;
				if (a->fc->keyword)
					pf->keywords = 1;
			}
		}
		aset_free(&sets[r]);
	}
	free(sets);
	/* 3. compact: edges by node, postings by literal */
	if (nedges > 0)
		qsort(edges, nedges, sizeof(*edges), cmp_edge);
	pf->nnodes = nnodes;
	pf->eoff = vg_calloc(nnodes + 1, sizeof(*pf->eoff));
	pf->elabel = vg_malloc(nedges + 1);
	pf->etarget = vg_malloc((nedges + 1) * sizeof(*pf->etarget));
	for (size_t i = 0; i < nedges; i++) {
		pf->eoff[edges[i].from + 1]++;
		pf->elabel[i] = edges[i].c;
		pf->etarget[i] = edges[i].to;
		if (edges[i].from == 0)
			pf->root[edges[i].c] = edges[i].to;
	}
	for (uint32_t n = 0; n < nnodes; n++)
		pf->eoff[n + 1] += pf->eoff[n];
	pf->out = vg_calloc(nnodes, sizeof(*pf->out));
	memcpy(pf->out, outs, nnodes * sizeof(*outs));
	free(outs);
	/* 4. failure and dictionary links, breadth first */
	pf->fail = vg_calloc(nnodes, sizeof(*pf->fail));
	pf->dict = vg_calloc(nnodes, sizeof(*pf->dict));
	queue = vg_malloc((nnodes + 1) * sizeof(*queue));
	{
		size_t qh = 0, qt = 0;

		for (uint32_t i = pf->eoff[0]; i < pf->eoff[1]; i++)
			queue[qt++] = pf->etarget[i]; /* depth 1: fail to root */
		while (qh < qt) {
			uint32_t n = queue[qh++];

			for (uint32_t i = pf->eoff[n]; i < pf->eoff[n + 1]; i++) {
				uint32_t child = pf->etarget[i], f = pf->fail[n], t;
				uint8_t c = pf->elabel[i];

				for (;;) {
					t = em_get(&em, f, c);
					if (t != 0 || f == 0)
						break;
					f = pf->fail[f];
				}
				pf->fail[child] = t;
				pf->dict[child] = pf->out[t] ? t : pf->dict[t];
				queue[qt++] = child;
			}
		}
	}
	free(queue);
	free(edges);
	free(em.keys);
	free(em.vals);
	if (nposts > 0)
		qsort(posts, nposts, sizeof(*posts), cmp_posting);
	pf->nlits = nlits;
	pf->poff = vg_calloc(nlits + 1, sizeof(*pf->poff));
	pf->prule = vg_malloc((nposts + 1) * sizeof(*pf->prule));
	pf->pfield = vg_malloc((nposts + 1) * sizeof(*pf->pfield));
	for (size_t i = 0; i < nposts; i++) {
		pf->poff[posts[i].lit + 1]++;
		pf->prule[i] = posts[i].rule;
		pf->pfield[i] = posts[i].field;
	}
	for (uint32_t l = 0; l < nlits; l++)
		pf->poff[l + 1] += pf->poff[l];
	pf->nscan = maxfield + 1;
	pf->scan = vg_calloc(pf->nscan, 1);
	for (size_t i = 0; i < nposts; i++) {
		if (posts[i].field != FIELD_NONE)
			pf->scan[posts[i].field] = 1;
	}
	free(posts);
}

void detect_index_free(struct prefilter *pf)
{
	free(pf->fail);
	free(pf->out);
	free(pf->dict);
	free(pf->eoff);
	free(pf->elabel);
	free(pf->etarget);
	free(pf->poff);
	free(pf->prule);
	free(pf->pfield);
	free(pf->scan);
	memset(pf, 0, sizeof(*pf));
}

/* ---- per event ---- */

static uint32_t step(const struct prefilter *pf, uint32_t s, uint8_t c)
{
	for (;;) {
		if (s == 0)
			return pf->root[c];
		for (uint32_t i = pf->eoff[s]; i < pf->eoff[s + 1]; i++) {
			if (pf->elabel[i] == c)
				return pf->etarget[i];
			if (pf->elabel[i] > c)
				break;
		}
		s = pf->fail[s];
	}
}

/* Literal l was found in entry e of field `field` (kw: keywords look here). */
static void hit(const struct prefilter *pf, struct detect_ctx *ctx,
    uint32_t l, uint32_t e, uint32_t field, int kw)
{
	if (ctx->lepoch[l] == ctx->epoch && ctx->lentry[l] == e)
		return; /* already handled for this value */
	ctx->lepoch[l] = ctx->epoch;
	ctx->lentry[l] = e;
	for (uint32_t i = pf->poff[l]; i < pf->poff[l + 1]; i++) {
		uint32_t r = pf->prule[i];

		if (pf->pfield[i] != field && !(kw && pf->pfield[i] == FIELD_NONE))
			continue;
		if (ctx->rstamp[r] != ctx->epoch) {
			ctx->rstamp[r] = ctx->epoch;
			ctx->cands[ctx->ncands++] = r;
		}
	}
}

static void scan_value(const struct prefilter *pf, struct detect_ctx *ctx,
    const char *text, uint32_t len, uint32_t e, uint32_t field, int kw)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i < len; i++) {
		s = step(pf, s, vg_lower((unsigned char)text[i]));
		for (uint32_t o = pf->out[s] ? s : pf->dict[s]; o != 0; o = pf->dict[o])
			hit(pf, ctx, pf->out[o] - 1, e, field, kw);
	}
}

void detect_index_scan(const struct ruleset *rs, struct detect_ctx *ctx,
    const struct vg_event *ev)
{
	const struct prefilter *pf = &rs->pf;
	int has_msg = vg_event_first(ev, F_MESSAGE) != FENT_END;

	ctx->ncands = 0;
	if (pf->nindexed == 0)
		return;
	for (uint32_t e = 0; e < ev->n; e++) {
		const struct fent *f = &ev->ents[e];
		int named, kw;

		if (f->dead || f->v.kind == V_NULL)
			continue;
		/* mirror what the matchers look at: the field's values, and
		 * for keywords the message or, without one, every string */
		named = f->id < pf->nscan && pf->scan[f->id];
		kw = pf->keywords && (has_msg ? f->id == F_MESSAGE :
		    f->v.kind == V_STR);
		if (!named && !kw)
			continue;
		scan_value(pf, ctx, f->v.s, f->v.len, e, named ? f->id : UINT32_MAX, kw);
		if (f->v.kind == V_NUM) {
			/* 4688 matches a number whatever its text ("4688.0") */
			char canon[32];

			if (int_text(f->v.num, canon))
				scan_value(pf, ctx, canon, (uint32_t)strlen(canon), e,
				    named ? f->id : UINT32_MAX, kw);
		}
	}
}
