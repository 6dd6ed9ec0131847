/*
 * detect_cond.c: the Sigma condition language, parsed into a tree over the
 * rule's selections:
 *
 *   expr  := and ('or' and)*
 *   and   := not ('and' not)*
 *   not   := 'not' not | prim
 *   prim  := '(' expr ')' | quant | IDENT
 *   quant := ('1' | N | 'any' | 'all') 'of' (PATTERN | 'them')
 *
 * Keywords are case-insensitive; PATTERN may hold `*` wildcards; `them`
 * leaves out identifiers starting with `_`. A list of conditions is their
 * OR. The old aggregation syntax (`| count() ...`) and `near` are rejected:
 * correlations express them now.
 */
#include "detect_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COND_MAX_DEPTH 64

struct tok {
	const char *s;
	size_t len;
	size_t off;
};

struct cparse {
	struct dload *dl;
	const struct ynode *node;
	const struct sel *sels;
	uint32_t nsels;
	struct tok *toks;
	size_t ntoks, pos;
	int failed;
	int depth;
};

static void cerr(struct cparse *cp, size_t off, const char *fmt, ...)
    VG_PRINTF(3, 4);

static void cerr(struct cparse *cp, size_t off, const char *fmt, ...)
{
	const struct ynode *n = cp->node;
	char msg[512];
	va_list ap;

	if (cp->failed)
		return; /* one error per condition: the rest would cascade */
	cp->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dl_error_at(cp->dl, n->file, n->line,
	    n->col + (n->quoted ? 1 : 0) + (int)off, "%s", msg);
}

static int tok_is(const struct tok *t, const char *kw)
{
	size_t n = strlen(kw);

	return t != NULL && t->len == n && strncasecmp(t->s, kw, n) == 0;
}

static struct tok *peek(struct cparse *cp)
{
	return cp->pos < cp->ntoks ? &cp->toks[cp->pos] : NULL;
}

static void tokenize(struct cparse *cp, const char *s, size_t len)
{
	size_t i = 0, cap = 0;

	while (i < len) {
		size_t b;

		if (isspace((unsigned char)s[i])) {
			i++;
			continue;
		}
		b = i;
		if (s[i] == '(' || s[i] == ')' || s[i] == '|') {
			i++;
		} else {
			while (i < len && !isspace((unsigned char)s[i]) &&
			    s[i] != '(' && s[i] != ')' && s[i] != '|')
				i++;
		}
		if (cp->ntoks == cap) {
			cap = cap ? cap * 2 : 16;
			cp->toks = vg_realloc(cp->toks, cap * sizeof(*cp->toks));
		}
		cp->toks[cp->ntoks].s = s + b;
		cp->toks[cp->ntoks].len = i - b;
		cp->toks[cp->ntoks].off = b;
		cp->ntoks++;
	}
}

static struct cnode *cn_new(int op)
{
	struct cnode *cn = vg_calloc(1, sizeof(*cn));

	cn->op = (uint8_t)op;
	return cn;
}

static void cn_add(struct cnode *cn, struct cnode *kid)
{
	if ((cn->n & (cn->n - 1)) == 0)
		cn->kids = vg_realloc(cn->kids, (cn->n ? cn->n * 2 : 1) *
		    sizeof(*cn->kids));
	cn->kids[cn->n++] = kid;
}

void detect_cnode_free(struct cnode *cn)
{
	if (cn == NULL)
		return;
	for (uint32_t i = 0; i < cn->n; i++)
		detect_cnode_free(cn->kids[i]);
	free(cn->kids);
	free(cn->text);
	free(cn);
}

static int is_keyword(const struct tok *t)
{
	return tok_is(t, "and") || tok_is(t, "or") || tok_is(t, "not") ||
	    tok_is(t, "of") || tok_is(t, "them") || tok_is(t, "(") ||
	    tok_is(t, ")") || tok_is(t, "|");
}

/* `*` matches any run of characters. */
static int wild_match(const char *p, size_t pn, const char *s)
{
	size_t pi = 0, si = 0, sn = strlen(s), star_p = (size_t)-1, star_s = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star_p = pi++;
			star_s = si;
		} else if (pi < pn && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star_p != (size_t)-1) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return 0;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static struct cnode *parse_or(struct cparse *cp);

static struct cnode *sel_ref(struct cparse *cp, const struct tok *t)
{
	for (uint32_t i = 0; i < cp->nsels; i++) {
		if (strlen(cp->sels[i].name) == t->len &&
		    memcmp(cp->sels[i].name, t->s, t->len) == 0) {
			struct cnode *cn = cn_new(CN_SEL);

			cn->sel = i;
			return cn;
		}
	}
	if (memchr(t->s, '*', t->len) != NULL)
		cerr(cp, t->off, "'%.*s': identifier patterns need '1 of' or "
		    "'all of'", (int)t->len, t->s);
	else
		cerr(cp, t->off, "unknown search identifier '%.*s'", (int)t->len, t->s);
	return NULL;
}

static struct cnode *parse_quant(struct cparse *cp, const struct tok *q)
{
	struct tok *of = NULL, *what = NULL;
	struct cnode *cn;
	uint32_t k = 0;
	int them;

	cp->pos++; /* the quantifier */
	of = peek(cp);
	cp->pos++;
	what = peek(cp);
	if (what == NULL || (is_keyword(what) && !tok_is(what, "them"))) {
		cerr(cp, what ? what->off : of->off + of->len,
		    "expected a search identifier pattern or 'them' after '%.*s'", (int)of->len, of->s);
		return NULL;
	}
	cp->pos++;
	if (tok_is(q, "all")) {
		k = 0;
	} else if (tok_is(q, "any")) {
		k = 1;
	} else {
		char *end;
		long v = strtol(q->s, &end, 10);

		if (end != q->s + q->len || v < 1 || v > 100000) {
			cerr(cp, q->off, "bad quantifier '%.*s'", (int)q->len, q->s);
			return NULL;
		}
		k = (uint32_t)v;
	}
	them = tok_is(what, "them");
	cn = cn_new(CN_OF);
	cn->k = k;
	cn->text = vg_malloc(q->len + what->len + 8);
	snprintf(cn->text, q->len + what->len + 8, "%.*s of %.*s", (int)q->len,
	    q->s, (int)what->len, what->s);
	for (uint32_t i = 0; i < cp->nsels; i++) {
		const char *name = cp->sels[i].name;
		struct cnode *kid;

		if (them ? name[0] == '_' : !wild_match(what->s, what->len, name))
			continue;
		kid = cn_new(CN_SEL);
		kid->sel = i;
		cn_add(cn, kid);
	}
	if (cn->n == 0) {
		cerr(cp, what->off, "'%.*s' matches no search identifier", (int)what->len, what->s);
		detect_cnode_free(cn);
		return NULL;
	}
	if (k > cn->n) {
		cerr(cp, q->off, "'%.*s of' can never hold: too few search "
		    "identifiers match", (int)q->len, q->s);
		detect_cnode_free(cn);
		return NULL;
	}
	return cn;
}

static struct cnode *parse_prim(struct cparse *cp)
{
	struct tok *t = peek(cp), *n2;
	struct cnode *cn;

	if (t == NULL) {
		const struct tok *last = cp->ntoks ? &cp->toks[cp->ntoks - 1] : NULL;

		cerr(cp, last ? last->off + last->len : 0,
		    "condition ends too early");
		return NULL;
	}
	if (tok_is(t, "(")) {
		cp->pos++;
		if ((cn = parse_or(cp)) == NULL)
			return NULL;
		t = peek(cp);
		if (!tok_is(t, ")")) {
			detect_cnode_free(cn);
			cerr(cp, t ? t->off : cp->toks[cp->ntoks - 1].off +
			    cp->toks[cp->ntoks - 1].len,
			    "expected ')'");
			return NULL;
		}
		cp->pos++;
		return cn;
	}
	if (tok_is(t, "|")) {
		cerr(cp, t->off, "aggregation expressions ('| count() ...') are "
		    "not supported; write a correlation rule");
		return NULL;
	}
	n2 = cp->pos + 1 < cp->ntoks ? &cp->toks[cp->pos + 1] : NULL;
	if (tok_is(n2, "of"))
		return parse_quant(cp, t);
	if (tok_is(t, "near")) {
		cerr(cp, t->off, "'%.*s' is not supported; write a temporal "
		    "correlation rule", (int)t->len, t->s);
		return NULL;
	}
	if (is_keyword(t)) {
		cerr(cp, t->off, "unexpected '%.*s'", (int)t->len, t->s);
		return NULL;
	}
	cp->pos++;
	return sel_ref(cp, t);
}

static struct cnode *parse_not(struct cparse *cp)
{
	struct cnode *cn, *kid;

	if (tok_is(peek(cp), "not")) {
		if (++cp->depth > COND_MAX_DEPTH) {
			cerr(cp, peek(cp)->off, "condition nested too deeply");
			return NULL;
		}
		cp->pos++;
		if ((kid = parse_not(cp)) == NULL)
			return NULL;
		cp->depth--;
		cn = cn_new(CN_NOT);
		cn_add(cn, kid);
		return cn;
	}
	return parse_prim(cp);
}

static struct cnode *parse_bin(struct cparse *cp, int op)
{
	struct cnode *first, *cn, *kid;
	const char *kw = op == CN_OR ? "or" : "and";

	if (++cp->depth > COND_MAX_DEPTH) {
		cerr(cp, peek(cp) ? peek(cp)->off : 0,
		    "condition nested too deeply");
		return NULL;
	}
	first = op == CN_OR ? parse_bin(cp, CN_AND) : parse_not(cp);
	if (first == NULL)
		return NULL;
	if (!tok_is(peek(cp), kw)) {
		cp->depth--;
		return first;
	}
	cn = cn_new(op);
	cn_add(cn, first);
	while (tok_is(peek(cp), kw)) {
		cp->pos++;
		kid = op == CN_OR ? parse_bin(cp, CN_AND) : parse_not(cp);
		if (kid == NULL) {
			detect_cnode_free(cn);
			return NULL;
		}
		cn_add(cn, kid);
	}
	cp->depth--;
	return cn;
}

static struct cnode *parse_or(struct cparse *cp)
{
	return parse_bin(cp, CN_OR);
}

static struct cnode *parse_one(struct dload *dl, const struct ynode *node,
    const struct sel *sels, uint32_t nsels)
{
	struct cparse cp = { 0 };
	struct cnode *cn;

	cp.dl = dl;
	cp.node = node;
	cp.sels = sels;
	cp.nsels = nsels;
	if (node->kind != YN_SCALAR) {
		dl_error(dl, node, "a condition must be a string, not %s",
		    ytree_kind_name(node));
		return NULL;
	}
	tokenize(&cp, node->str, node->len);
	if (cp.ntoks == 0) {
		dl_error(dl, node, "empty condition");
		free(cp.toks);
		return NULL;
	}
	cn = parse_or(&cp);
	if (cn != NULL && cp.pos < cp.ntoks) {
		struct tok *t = &cp.toks[cp.pos];

		if (tok_is(t, "|"))
			cerr(&cp, t->off, "aggregation expressions ('| count() "
			    "...') are not supported; write a correlation rule");
		else
			cerr(&cp, t->off, "unexpected '%.*s'", (int)t->len, t->s);
		detect_cnode_free(cn);
		cn = NULL;
	}
	free(cp.toks);
	return cn;
}

struct cnode *detect_cond_compile(struct dload *dl, const struct ynode *cond,
    const struct sel *sels, uint32_t nsels)
{
	struct cnode *cn, *kid;

	if (cond == NULL || ytree_is_null(cond)) {
		dl_error(dl, cond, "the detection has no condition");
		return NULL;
	}
	if (cond->kind != YN_SEQ)
		return parse_one(dl, cond, sels, nsels);
	if (cond->n == 0) {
		dl_error(dl, cond, "empty condition list");
		return NULL;
	}
	/* a list of conditions: any of them */
	cn = cn_new(CN_OR);
	for (size_t i = 0; i < cond->n; i++) {
		if ((kid = parse_one(dl, cond->items[i], sels, nsels)) == NULL) {
			detect_cnode_free(cn);
			return NULL;
		}
		cn_add(cn, kid);
	}
	if (cn->n == 1) {
		kid = cn->kids[0];
		cn->n = 0;
		detect_cnode_free(cn);
		return kid;
	}
	return cn;
}
