/*
 * detect_index.c: the literal prefilter that keeps the cost of an event
 * from growing with the number of rules, its load-time half.
 *
 * Each rule's condition is reduced to the literals it cannot match without,
 * as (literal, field) atoms: AND keeps the child with the most selective
 * set, OR unions its children, NOT and anything that is not a plain literal
 * (cidr, numbers, exists, null, neq, regexes without one) gives up; a regex
 * gives the strings one of which every match holds (a literal run, or a few
 * strings where small classes follow a byte). A rule that is an AND of parts
 * keeps the sets of its two most selective parts and needs a literal of each
 * (each value of a |all condition is a part). Rules with a set are
 * "indexed"; the others are always evaluated (their logsource's answer is
 * kept per event, so a rule of another logsource costs a lookup; indexing
 * them by the literals their mapping entries need saved 0.4% on Windows
 * events and cost 3.7% on the shipped Linux rules, whose programs' names
 * then had to be looked up). The distinct literals get postings (rule,
 * field, which set), a gate (the first mapping entry of each rule's group,
 * so a literal only other products need is dropped early) and the fields
 * they are looked for in; patterns are tagged with the literal that every
 * value they match holds, so a literal the scan did not see rules them out.
 * Finding the literals in an event is detect_scan.c.
 */
#include "detect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct atom {
	char *lit;              /* folded, owned */
	uint32_t len;
	uint8_t at;             /* PF_AT_* the pattern needs it at */
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

static void aset_add(struct aset *a, char *lit, uint32_t len, uint8_t at,
    const struct fcond *fc)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->v = vg_realloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n].lit = lit;
	a->v[a->n].len = len;
	a->v[a->n].at = at;
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
		aset_add(a, b->v[i].lit, b->v[i].len, b->v[i].at, b->v[i].fc);
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
int detect_int_text(double num, char out[32])
{
	char tmp[24];
	unsigned long long u;
	size_t n = 0, o = 0;

	if (!(num > -1e15 && num < 1e15) || num != (double)(long long)num)
		return 0;
	/* digits backwards: every numeric field of every event comes here */
	u = num < 0 ? (unsigned long long)-(long long)num : (unsigned long long)num;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (num < 0)
		out[o++] = '-';
	while (n > 0)
		out[o++] = tmp[--n];
	out[o] = '\0';
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

			if (!detect_int_text(p->num, canon) || strcmp(canon, p->s) != 0)
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
			if (d != '\0' && strchr("tnrfe", d) != NULL) {
				/* a control character: one byte of the run (the
				 * padding rule's newlines) */
				rex_add(&x, d == 't' ? '\t' : d == 'n' ? '\n' :
				    d == 'r' ? '\r' : d == 'f' ? '\f' : 0x1b);
				last_lit = 1;
			} else if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
			    (d >= '0' && d <= '9')) {
				/* classes and assertions end a run; other
				 * escapes (\x, \p, \Q, backrefs) are not followed */
				if (strchr("dDwWsShHvVbBAzZG", d) == NULL)
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

/* ---- literal sets a regex needs ---- */

/*
 * A branch of a regex is read as a sequence of single-byte elements: a
 * literal byte, or a small class ([ "'], \d, \w) taken as the set of its
 * folded bytes. Elements written next to each other are next to each other
 * in every match, so any window of consecutive elements holds, in every
 * match, one of the strings of its cross product: `\.[ "']` needs one of
 * ". ", ".\"" and ".'", where the longest plain run (a single byte) would
 * vouch for nothing. Windows whose product stays within RS_CAP strings
 * slide along the branch; the one least likely to turn up by chance is
 * kept. A quantified element ends a window: with a minimum of 0 it is left
 * out, otherwise its last repetition starts the next window (`\w+`` needs
 * a word byte before the backtick). Groups, dots, anchors, negated or big
 * classes and bytes beyond ASCII end a window; escapes this reader does not
 * follow give the branch up. Without case, a class with k or s is not
 * expanded (UTF-8 folding matches the Kelvin sign and the long s).
 */
#define RS_CAP 64        /* strings of a window's product, at most */
#define RS_LEN 64        /* elements of a window, at most */

struct relem {
	uint8_t n;             /* distinct folded bytes, 1..RS_CAP */
	uint8_t b[RS_CAP];
};

struct rset {
	int caseless;
	struct relem win[RS_LEN];
	uint32_t nwin;
	uint64_t prod;         /* product of the window's n */
	struct relem best[RS_LEN];
	uint32_t nbest;
	double bscore;         /* count * lit_weight(len) of best */
};

/* Add byte c to a class being read; -1 if it cannot be expanded. */
static int relem_add(struct relem *e, unsigned c, int caseless)
{
	c = vg_lower((unsigned char)c);
	if (c >= 0x80 || (caseless && (c == 'k' || c == 's')))
		return -1;
	for (uint32_t i = 0; i < e->n; i++) {
		if (e->b[i] == c)
			return 0;
	}
	if (e->n == RS_CAP)
		return -1;
	e->b[e->n++] = (uint8_t)c;
	return 0;
}

static int relem_range(struct relem *e, unsigned lo, unsigned hi, int caseless)
{
	for (unsigned c = lo; c <= hi; c++) {
		if (relem_add(e, c, caseless) < 0)
			return -1;
	}
	return 0;
}

/* The bytes of a class escape (\d, \w, \s) or of an escaped literal;
 * -1 if none this reader expands, -2 if the branch must be given up. */
static int relem_escape(struct relem *e, unsigned char d, int caseless)
{
	switch (d) {
	case 'd':
		return relem_range(e, '0', '9', caseless);
	case 'w':
		if (relem_range(e, 'a', 'z', caseless) < 0 ||
		    relem_range(e, '0', '9', caseless) < 0)
			return -1;
		return relem_add(e, '_', caseless);
	case 's':
		/* space, \t \n \v \f \r */
		if (relem_add(e, ' ', caseless) < 0)
			return -1;
		return relem_range(e, '\t', '\r', caseless);
	case 't': return relem_add(e, '\t', caseless);
	case 'n': return relem_add(e, '\n', caseless);
	case 'r': return relem_add(e, '\r', caseless);
	case 'f': return relem_add(e, '\f', caseless);
	case 'e': return relem_add(e, 0x1b, caseless);
	}
	if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9'))
		return strchr("DWSHhVvbBAzZG", d) != NULL ? -1 : -2;
	return relem_add(e, d, caseless);
}

/* Read the class at s[*i] ('['); -1: not expandable (skipped), -2: give
 * up the branch. */
static int relem_class(const char *s, size_t n, size_t *i, struct relem *e,
    int caseless)
{
	struct rex x = { 0 };
	size_t k = *i + 1, end;
	int ok = 0;

	x.s = s;
	x.n = n;
	x.i = *i;
	if (rex_skip_class(&x) < 0)
		return -2;
	end = x.i - 1;         /* the closing ']' */
	*i = x.i;
	if (s[k] == '^')
		return -1;
	while (k < end && ok == 0) {
		unsigned lo = (unsigned char)s[k];

		if (lo == '[' && k + 1 < end && s[k + 1] == ':')
			return -1;  /* POSIX classes */
		if (lo == '\\') {
			if (k + 1 >= end)
				return -2;
			lo = (unsigned char)s[k + 1];
			if (strchr("tnrfe", (int)lo) == NULL &&
			    ((lo >= 'a' && lo <= 'z') || (lo >= 'A' && lo <= 'Z') ||
			    (lo >= '0' && lo <= '9'))) {
				ok = relem_escape(e, (unsigned char)lo, caseless);
				k += 2;
				continue;
			}
			lo = lo == 't' ? '\t' : lo == 'n' ? '\n' : lo == 'r' ? '\r' :
			    lo == 'f' ? '\f' : lo == 'e' ? 0x1b : lo;
			k += 2;
		} else {
			k++;
		}
		if (k + 1 < end && s[k] == '-') {
			unsigned hi = (unsigned char)s[k + 1];

			if (hi == '\\' || hi < lo)
				return -1;
			ok = relem_range(e, lo, hi, caseless);
			k += 2;
			continue;
		}
		ok = relem_add(e, lo, caseless);
	}
	if (ok == 0 && e->n == 0)
		return -1;
	return ok;
}

static double rset_score(uint64_t count, uint32_t len)
{
	return (double)count * lit_weight(len);
}

/* The window as it stands is a candidate. */
static void rset_consider(struct rset *r)
{
	double sc;

	if (r->nwin < LIT_MIN)
		return;
	sc = rset_score(r->prod, r->nwin);
	/* ties: the longer window (fewer chance hits) */
	if (r->nbest == 0 || sc < r->bscore ||
	    (sc == r->bscore && r->nwin > r->nbest)) {
		memcpy(r->best, r->win, r->nwin * sizeof(*r->win));
		r->nbest = r->nwin;
		r->bscore = sc;
	}
}

static void rset_break(struct rset *r)
{
	r->nwin = 0;
	r->prod = 1;
}

/* Append an element, dropping elements in front while the product is
 * too big. */
static void rset_push(struct rset *r, const struct relem *e)
{
	if (r->nwin == RS_LEN) {
		r->prod /= r->win[0].n;
		memmove(r->win, r->win + 1, (r->nwin - 1) * sizeof(*r->win));
		r->nwin--;
	}
	r->win[r->nwin++] = *e;
	r->prod *= e->n;
	while (r->prod > RS_CAP) {
		r->prod /= r->win[0].n;
		memmove(r->win, r->win + 1, (r->nwin - 1) * sizeof(*r->win));
		r->nwin--;
	}
	rset_consider(r);
}

/* The quantifier at s[*i], if any: 0 none (or {1}), 1 a minimum of 0, 2
 * a minimum of 1 or more; *i moves past it. */
static int rset_quant(const char *s, size_t n, size_t *i)
{
	struct rex x = { 0 };
	size_t q = *i, qlen = 1;
	long min = 0;
	int exact1 = 0;

	if (q >= n)
		return 0;
	x.s = s;
	x.n = n;
	if (s[q] == '*' || s[q] == '?')
		min = 0;
	else if (s[q] == '+')
		min = 1;
	else if (s[q] == '{' && (qlen = rex_brace(&x, q, &min)) > 0)
		exact1 = min == 1 && s[q + qlen - 2] == '1' && s[q + 1] == '1' &&
		    qlen == 3;
	else
		return 0;
	q += qlen;
	if (q < n && (s[q] == '?' || s[q] == '+'))
		q++; /* lazy or possessive */
	*i = q;
	if (exact1)
		return 0;
	return min == 0 ? 1 : 2;
}

/*
 * The literal set of branch s[b..e): 0 and its strings added to out (as
 * rex_atoms would) when a window of LIT_MIN elements or more was found, -1
 * otherwise.
 */
static int rex_branch_set(const char *s, size_t b, size_t e, int caseless,
    const struct fcond *fc, struct aset *out)
{
	struct rset *r = vg_calloc(1, sizeof(*r));
	size_t i = b;
	uint32_t idx[RS_LEN];
	uint64_t total = 1;
	int rc = -1;

	r->caseless = caseless;
	rset_break(r);
	while (i < e) {
		struct relem el;
		unsigned char c = (unsigned char)s[i];
		int got = 0, q;

		memset(&el, 0, sizeof(el));
		if (c == '\\') {
			if (i + 1 >= e)
				goto done;
			got = relem_escape(&el, (unsigned char)s[i + 1], caseless);
			if (got == -2)
				goto done;
			i += 2;
		} else if (c == '[') {
			got = relem_class(s, e, &i, &el, caseless);
			if (got == -2)
				goto done;
		} else if (c == '(') {
			struct rex x = { 0 };

			x.s = s;
			x.n = e;
			x.i = i;
			if (rex_skip_group(&x) < 0)
				goto done;
			i = x.i;
			got = -1;
		} else if (c == ')') {
			goto done;
		} else if (c == '.' || c == '^' || c == '$' || c == '*' ||
		    c == '+' || c == '?') {
			/* a quantifier here follows something that ended a
			 * window already */
			i++;
			got = -1;
		} else if (c == '{') {
			long min;
			struct rex x = { 0 };
			size_t qlen;

			x.s = s;
			x.n = e;
			qlen = rex_brace(&x, i, &min);
			if (qlen > 0) {
				i += qlen;
				got = -1;
			} else {
				got = relem_add(&el, c, caseless);
				i++;
			}
		} else {
			got = relem_add(&el, c, caseless);
			i++;
		}
		q = rset_quant(s, e, &i);
		if (got < 0 || q == 1) {
			rset_break(r);
			continue;
		}
		rset_push(r, &el);
		if (q == 2) {
			/* its last repetition is next to what follows */
			rset_break(r);
			rset_push(r, &el);
		}
	}
	if (r->nbest == 0)
		goto done;
	/* expand the best window's product */
	for (uint32_t k = 0; k < r->nbest; k++) {
		idx[k] = 0;
		total *= r->best[k].n;
	}
	for (uint64_t t = 0; t < total; t++) {
		char *lit = vg_malloc(r->nbest + 1);

		for (uint32_t k = 0; k < r->nbest; k++)
			lit[k] = (char)r->best[k].b[idx[k]];
		lit[r->nbest] = '\0';
		aset_add(out, lit, r->nbest, 0, fc);
		/* next index, last element fastest */
		for (uint32_t k = r->nbest; k-- > 0;) {
			if (++idx[k] < r->best[k].n)
				break;
			idx[k] = 0;
		}
	}
	rc = 0;
done:
	free(r);
	return rc;
}

/* Atoms of a regex: a literal set per top-level alternative. */
static int rex_atoms(const struct pat *p, const struct fcond *fc,
    struct aset *out)
{
	const char *s = p->shown;
	size_t n = strlen(s), b = 0, i = 0;
	int depth = 0, caseless = rex_caseless(p);

	for (;; i++) {
		if (i == n || (s[i] == '|' && depth == 0)) {
			if (rex_branch_set(s, b, i, caseless, fc, out) < 0)
				return -1;
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

/*
 * The longest literal that every match of the regex p holds, kept on p for
 * the matcher to look for before running the regex. Unlike an index atom
 * it may be a single byte: one memchr for the backtick of an obfuscation
 * rule spares the regex on nearly every command line. Not with top-level
 * alternation (each branch would need its own).
 */
static void rex_need(struct pat *p)
{
	const char *s = p->shown;
	size_t n = strlen(s), len;
	int depth = 0;
	char lit[256];

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			i++;
		} else if (s[i] == '[') {
			struct rex x = { 0 };

			x.s = s;
			x.n = n;
			x.i = i;
			if (rex_skip_class(&x) < 0)
				return;
			i = x.i - 1;
		} else if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')') {
			depth--;
		} else if (s[i] == '|' && depth == 0) {
			return;
		}
	}
	if (!rex_branch(s, 0, n, rex_caseless(p), lit, &len))
		return;
	free(p->relit);
	p->relit = vg_strndup(lit, len);
	p->relen = (uint32_t)len;
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
	if (len < LIT_MIN) {
		free(lit);
		return -1;
	}
	/* where the literal must be: the whole value, its start or end (a
	 * number's canonical text is scanned as a value of its own) */
	aset_add(out, lit, len, fc->keyword ? 0 :
	    p->kind == PK_EQ ? PF_AT_START | PF_AT_END :
	    p->kind == PK_PREFIX ? PF_AT_START :
	    p->kind == PK_SUFFIX ? PF_AT_END : 0, fc);
	return 0;
}

/* The atoms of group [k, e) of fc's patterns (a |all value), in a. */
static void grp_atoms(const struct fcond *fc, uint32_t k, uint32_t e,
    struct aset *a)
{
	for (uint32_t j = k; j < e && !a->none; j++) {
		if (pat_atoms(&fc->pats[j], fc, a) < 0)
			aset_none(a);
	}
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
			grp_atoms(fc, k, e, &a);
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

/* ---- fields a rule cannot match without ---- */

/*
 * A set of event fields of which at least one must be present for a
 * condition to hold, as the literal sets are built: AND keeps its
 * smallest child's set, OR (and "1 of") the union, NOT, absence, null,
 * neq and keywords give up. It lets a rule the prefilter cannot index
 * skip the events that lack all its fields, its logsource unchecked.
 */
struct fset {
	uint32_t *v;
	uint32_t n;
	int none;
};

static void fset_union(struct fset *a, struct fset *b)
{
	if (a->none || b->none) {
		free(a->v);
		free(b->v);
		memset(a, 0, sizeof(*a));
		a->none = 1;
		return;
	}
	a->v = vg_realloc(a->v, (a->n + b->n + 1) * sizeof(*a->v));
	memcpy(a->v + a->n, b->v, b->n * sizeof(*b->v));
	a->n += b->n;
	free(b->v);
}

/* Keep in best the smaller of best and b (a set that gave up is never
 * kept). */
static void fset_best(struct fset *best, struct fset *b, int *have)
{
	if (b->none) {
		free(b->v);
		return;
	}
	if (!*have || b->n < best->n) {
		free(best->v);
		*best = *b;
		*have = 1;
	} else {
		free(b->v);
	}
}

/* The fields a value of fc must be in (or fc gives up). */
static void fc_fields(const struct fcond *fc, struct fset *out)
{
	memset(out, 0, sizeof(*out));
	if (fc->neg || fc->keyword || fc->nfields == 0 ||
	    fc->kind == FC_NULL || (fc->kind == FC_EXISTS && !fc->want)) {
		out->none = 1;
		return;
	}
	/* a value must match (or the field exist): it is there */
	out->v = vg_malloc(fc->nfields * sizeof(*out->v));
	memcpy(out->v, fc->fields, fc->nfields * sizeof(*out->v));
	out->n = fc->nfields;
}

/* ---- one walk for both ---- */

/*
 * The literal sets and the field sets are built from a condition alike:
 * a field condition gives its own, AND keeps its children's best, OR (and
 * "1 of") their union, NOT gives up, and so does an empty alternative.
 * The walk is written once over these operations.
 */
union anyset {
	struct aset a;
	struct fset f;
};

struct set_ops {
	void (*leaf)(const struct fcond *fc, union anyset *out);
	void (*best)(union anyset *best, union anyset *b, int *have);
	void (*join)(union anyset *a, union anyset *b);
	int (*none)(const union anyset *s);
	void (*give_up)(union anyset *s);
};

static void sn_walk(const struct set_ops *ops, const struct snode *sn,
    union anyset *out)
{
	union anyset a;
	int have = 0;

	memset(out, 0, sizeof(*out));
	switch (sn->kind) {
	case SN_FC:
		ops->leaf(sn->fc, out);
		return;
	case SN_AND:
		for (uint32_t i = 0; i < sn->n; i++) {
			sn_walk(ops, sn->kids[i], &a);
			ops->best(out, &a, &have);
		}
		if (!have)
			ops->give_up(out);
		return;
	case SN_OR:
		for (uint32_t i = 0; i < sn->n && !ops->none(out); i++) {
			sn_walk(ops, sn->kids[i], &a);
			ops->join(out, &a);
		}
		if (sn->n == 0)
			ops->give_up(out);
		return;
	}
	ops->give_up(out);
}

static void cn_walk(const struct set_ops *ops, const struct rule_impl *ri,
    const struct cnode *cn, union anyset *out)
{
	union anyset a;
	int have = 0;

	memset(out, 0, sizeof(*out));
	switch (cn->op) {
	case CN_SEL:
		sn_walk(ops, ri->sels[cn->sel].root, out);
		return;
	case CN_NOT:
		ops->give_up(out);
		return;
	case CN_AND:
	case CN_OF:
	case CN_OR:
		break;
	}
	if (cn->op == CN_AND || (cn->op == CN_OF && cn->k == 0)) {
		/* all of them hold: the best one will do */
		for (uint32_t i = 0; i < cn->n; i++) {
			cn_walk(ops, ri, cn->kids[i], &a);
			ops->best(out, &a, &have);
		}
		if (!have)
			ops->give_up(out);
		return;
	}
	/* at least one of them holds */
	for (uint32_t i = 0; i < cn->n && !ops->none(out); i++) {
		cn_walk(ops, ri, cn->kids[i], &a);
		ops->join(out, &a);
	}
	if (cn->n == 0)
		ops->give_up(out);
}

static void atoms_leaf(const struct fcond *fc, union anyset *out)
{
	fc_atoms(fc, &out->a);
}

static void atoms_best(union anyset *best, union anyset *b, int *have)
{
	aset_best(&best->a, &b->a, have);
}

static void atoms_join(union anyset *a, union anyset *b)
{
	aset_union(&a->a, &b->a);
}

static int atoms_none(const union anyset *s)
{
	return s->a.none;
}

static void atoms_give_up(union anyset *s)
{
	aset_none(&s->a);
}

static const struct set_ops atom_ops = {
	atoms_leaf, atoms_best, atoms_join, atoms_none, atoms_give_up,
};

static void fields_leaf(const struct fcond *fc, union anyset *out)
{
	fc_fields(fc, &out->f);
}

static void fields_best(union anyset *best, union anyset *b, int *have)
{
	fset_best(&best->f, &b->f, have);
}

static void fields_join(union anyset *a, union anyset *b)
{
	fset_union(&a->f, &b->f);
}

static int fields_none(const union anyset *s)
{
	return s->f.none;
}

static void fields_give_up(union anyset *s)
{
	free(s->f.v);
	memset(&s->f, 0, sizeof(s->f));
	s->f.none = 1;
}

static const struct set_ops field_ops = {
	fields_leaf, fields_best, fields_join, fields_none, fields_give_up,
};

static void sn_atoms(const struct snode *sn, struct aset *out)
{
	union anyset u;

	sn_walk(&atom_ops, sn, &u);
	*out = u.a;
}

static void cn_atoms(const struct rule_impl *ri, const struct cnode *cn,
    struct aset *out)
{
	union anyset u;

	cn_walk(&atom_ops, ri, cn, &u);
	*out = u.a;
}

static void cn_fields(const struct rule_impl *ri, const struct cnode *cn,
    struct fset *out)
{
	union anyset u;

	cn_walk(&field_ops, ri, cn, &u);
	*out = u.f;
}

/* ---- two conjuncts ---- */

/*
 * A rule that is an AND of parts (selections, or the fields of a map) can
 * need a literal from each of two parts: "GET" in the method and one of
 * forty keywords in the message, rather than "GET" alone, which every
 * request holds. The parts' sets are gathered here; the two most
 * selective are kept.
 */
struct conj {
	struct aset v[2];      /* best, second best */
	int n;
};

static void conj_add(struct conj *c, struct aset *a)
{
	if (a->none || a->n == 0) {
		aset_free(a);
		return;
	}
	if (c->n < 2) {
		c->v[c->n++] = *a;
	} else if (a->score < c->v[1].score) {
		aset_free(&c->v[1]);
		c->v[1] = *a;
	} else {
		aset_free(a);
		return;
	}
	if (c->n == 2 && c->v[1].score < c->v[0].score) {
		struct aset t = c->v[0];

		c->v[0] = c->v[1];
		c->v[1] = t;
	}
}

/* Copy the atoms of b into a. */
static void aset_copy(struct aset *a, const struct aset *b)
{
	for (size_t i = 0; i < b->n; i++)
		aset_add(a, vg_strndup(b->v[i].lit, b->v[i].len), b->v[i].len,
		    b->v[i].at, b->v[i].fc);
}

/*
 * The two sets of an alternative whose branches' sets are in kids[]: a
 * match holds one branch, so it holds a literal of that branch's best set
 * and one of its second best (the only set, for a branch of one part).
 * The union of the best sets is needed, and so is the union of the second
 * best: "\windows\ in the image and a traversal in the command line, or
 * .exe\..\ in the command line" needs both, not the image alone.
 */
static void or_conj(struct conj *kids, uint32_t n, struct conj *c)
{
	struct aset x = { 0 }, y = { 0 };
	int two = 0, none = n == 0;

	for (uint32_t i = 0; i < n; i++) {
		none |= kids[i].n == 0;
		two |= kids[i].n == 2;
	}
	for (uint32_t i = 0; i < n && !none; i++) {
		aset_copy(&x, &kids[i].v[0]);
		aset_copy(&y, &kids[i].v[kids[i].n - 1]);
	}
	for (uint32_t i = 0; i < n; i++) {
		for (int k = 0; k < kids[i].n; k++)
			aset_free(&kids[i].v[k]);
	}
	free(kids);
	if (none) {
		aset_free(&x);
		aset_free(&y);
		return;
	}
	conj_add(c, &x);
	if (two)
		conj_add(c, &y);
	else
		aset_free(&y);
}

/*
 * A |all condition needs every one of its values: each value's literals
 * are a part of its own ("\svchost.exe" and "termsvcs" in the parent's
 * command line), not one set for the whole condition. 0 when fc is not
 * such a condition (fc_atoms takes it).
 */
static int fc_all_conj(const struct fcond *fc, struct conj *c)
{
	if (!fc->all || fc->ngrp < 2 || fc->neg || fc->kind != FC_VALUES ||
	    fc->tpart != TP_NONE || (!fc->keyword && fc->nfields == 0))
		return 0;
	for (uint32_t k = 0, e; k < fc->npats; k = e) {
		struct aset a = { 0 };

		e = detect_grp_end(fc, k);
		grp_atoms(fc, k, e, &a);
		conj_add(c, &a);
	}
	return 1;
}

static void sn_conj(const struct snode *sn, struct conj *c)
{
	struct aset a;

	if (sn->kind == SN_AND) {
		for (uint32_t i = 0; i < sn->n; i++)
			sn_conj(sn->kids[i], c);
		return;
	}
	if (sn->kind == SN_OR) {
		struct conj *kids = vg_calloc(sn->n + 1, sizeof(*kids));

		for (uint32_t i = 0; i < sn->n; i++)
			sn_conj(sn->kids[i], &kids[i]);
		or_conj(kids, sn->n, c);
		return;
	}
	if (sn->kind == SN_FC && fc_all_conj(sn->fc, c))
		return;
	sn_atoms(sn, &a);
	conj_add(c, &a);
}

static void cn_conj(const struct rule_impl *ri, const struct cnode *cn,
    struct conj *c)
{
	struct aset a;

	if (cn->op == CN_AND || (cn->op == CN_OF && cn->k == 0)) {
		for (uint32_t i = 0; i < cn->n; i++)
			cn_conj(ri, cn->kids[i], c);
		return;
	}
	if (cn->op == CN_SEL) {
		sn_conj(ri->sels[cn->sel].root, c);
		return;
	}
	if (cn->op == CN_OR || cn->op == CN_OF) {
		/* at least one of them holds ("1 of", or more) */
		struct conj *kids = vg_calloc(cn->n + 1, sizeof(*kids));

		for (uint32_t i = 0; i < cn->n; i++)
			cn_conj(ri, cn->kids[i], &kids[i]);
		or_conj(kids, cn->n, c);
		return;
	}
	cn_atoms(ri, cn, &a);
	conj_add(c, &a);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A group's need: the distinct fields its always-evaluated rules need,
 * unless one of them needs none. */
static void group_need(const struct ruleset *rs, struct lsgroup *g)
{
	uint32_t n = 0, k = 0;

	free(g->need);
	g->need = NULL;
	g->nneed = 0;
	for (uint32_t i = 0; i < g->nalways; i++) {
		const struct rule_impl *ri = rs->rules[g->always[i]]->impl;

		if (ri->need == NULL)
			return;
		n += ri->nneed;
	}
	g->need = vg_malloc((n + 1) * sizeof(*g->need));
	for (uint32_t i = 0; i < g->nalways; i++) {
		const struct rule_impl *ri = rs->rules[g->always[i]]->impl;

		memcpy(g->need + k, ri->need, ri->nneed * sizeof(*ri->need));
		k += ri->nneed;
	}
	qsort(g->need, n, sizeof(*g->need), cmp_u32);
	for (uint32_t i = 0; i < n; i++) {
		if (i == 0 || g->need[i] != g->need[g->nneed - 1])
			g->need[g->nneed++] = g->need[i];
	}
}

/* ---- building ---- */

struct posting {
	uint32_t lit, rule, field;
	uint8_t at;
};

static void mark_needf(struct ruleset *rs, const uint32_t *ids, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = ids[i];

		if (id >= rs->nneedf) {
			rs->needf = vg_realloc(rs->needf, id + 1);
			memset(rs->needf + rs->nneedf, 0, id + 1 - rs->nneedf);
			rs->nneedf = id + 1;
		}
		rs->needf[id] = 1;
	}
}

/* The fields of which an event must hold one for some rule evaluated
 * for every event to need a look (or need_any: one needs none). A rule
 * that needs no field of its own ("not 1 of filter_*") needs those its
 * logsource's mapping conditions cannot hold without: a syslog line has
 * no Windows channel. */
static void always_need(struct ruleset *rs)
{
	free(rs->needf);
	rs->needf = NULL;
	rs->nneedf = 0;
	rs->need_any = 0;
	for (uint32_t a = 0; a < rs->nagroups; a++) {
		const struct lsgroup *g = &rs->groups[rs->agroups[a]];

		for (uint32_t k = 0; k < g->nalways; k++) {
			const struct rule_impl *ri = rs->rules[g->always[k]]->impl;

			if (ri->need == NULL) {
				struct fset best = { 0 };
				int have = 0;

				/* every entry must pass: any one's fields will do */
				for (uint32_t i = 0; i < g->nentries; i++) {
					const struct snode *c = rs->mls[g->entries[i]].cond;
					union anyset u;

					if (c == NULL)
						continue;
					sn_walk(&field_ops, c, &u);
					fset_best(&best, &u.f, &have);
				}
				if (have && best.n > 0)
					mark_needf(rs, best.v, best.n);
				else
					rs->need_any = 1;
				free(best.v);
				continue;
			}
			mark_needf(rs, ri->need, ri->nneed);
		}
	}
}

static int cmp_posting(const void *a, const void *b)
{
	const struct posting *x = a, *y = b;

	if (x->lit != y->lit)
		return x->lit < y->lit ? -1 : 1;
	if (x->field != y->field)
		return x->field < y->field ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Distinct literals: a hash set of their folded bytes. */
struct litset {
	uint32_t *slot;        /* literal id + 1, 0 empty */
	uint32_t cap, n, capl;
	char *text;
	size_t ntext, captext;
	uint32_t *off, *len;
};

static uint64_t lit_hash(const char *s, uint32_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static uint32_t lit_id(struct litset *L, const char *s, uint32_t n)
{
	uint32_t i;

	if (L->n * 2 >= L->cap) {
		uint32_t cap = L->cap ? L->cap * 2 : 1024, *t = vg_calloc(cap, sizeof(*t));

		for (uint32_t k = 0; k < L->cap; k++) {
			uint32_t id = L->slot[k];

			if (id == 0)
				continue;
			i = (uint32_t)lit_hash(L->text + L->off[id - 1], L->len[id - 1]) & (cap - 1);
			while (t[i] != 0)
				i = (i + 1) & (cap - 1);
			t[i] = id;
		}
		free(L->slot);
		L->slot = t;
		L->cap = cap;
	}
	for (i = (uint32_t)lit_hash(s, n) & (L->cap - 1); L->slot[i] != 0;
	    i = (i + 1) & (L->cap - 1)) {
		uint32_t id = L->slot[i] - 1;

		if (L->len[id] == n && memcmp(L->text + L->off[id], s, n) == 0)
			return id;
	}
	if (L->n == L->capl) {
		L->capl = L->capl ? L->capl * 2 : 256;
		L->off = vg_realloc(L->off, L->capl * sizeof(*L->off));
		L->len = vg_realloc(L->len, L->capl * sizeof(*L->len));
	}
	while (L->ntext + n + 1 > L->captext) {
		L->captext = L->captext ? L->captext * 2 : 4096;
		L->text = vg_realloc(L->text, L->captext);
	}
	memcpy(L->text + L->ntext, s, n);
	L->off[L->n] = (uint32_t)L->ntext;
	L->len[L->n] = n;
	L->ntext += n;
	L->slot[i] = ++L->n;
	return L->n - 1;
}

/* The id of a literal, or UINT32_MAX when no rule needs it. */
static uint32_t lit_find(const struct litset *L, const char *s, uint32_t n)
{
	if (L->cap == 0)
		return UINT32_MAX;
	for (uint32_t i = (uint32_t)lit_hash(s, n) & (L->cap - 1); L->slot[i] != 0;
	    i = (i + 1) & (L->cap - 1)) {
		uint32_t id = L->slot[i] - 1;

		if (L->len[id] == n && memcmp(L->text + L->off[id], s, n) == 0)
			return id;
	}
	return UINT32_MAX;
}

/* The (literal, field) pairs the scan looks for, for its bitmaps. */
struct wlist {
	struct pf_where *v;
	size_t n, cap;
};

static void where_add(struct wlist *w, uint32_t lit, uint32_t field)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 1024;
		w->v = vg_realloc(w->v, w->cap * sizeof(*w->v));
	}
	w->v[w->n].lit = lit;
	w->v[w->n].field = field;
	w->n++;
}

/*
 * Give each pattern the literal it needs, when the scan looks for that
 * literal in every field the pattern reads: then a literal the scan did
 * not see rules the pattern out without comparing (a keyword list of a
 * hundred strings costs the few that occur).
 */
static void tag_fc(struct prefilter *pf, const struct litset *L,
    struct fcond *fc, uint64_t gate, struct wlist *w)
{
	fc->tagged = 0;
	if (fc->kind != FC_VALUES || fc->tpart != TP_NONE)
		return;
	for (uint32_t k = 0; k < fc->npats; k++) {
		struct pat *p = &fc->pats[k];
		uint32_t len, id;
		uint8_t kind;
		int ok = 1;
		char *lit;

		if (p->kind == PK_RE)
			rex_need(p);
		if (p->kind == PK_RE || (lit = pat_literal(p, &len)) == NULL)
			continue;
		id = lit_find(L, lit, len);
		free(lit);
		if (id == UINT32_MAX)
			continue;
		kind = len < 4 ? PF_SHORT : PF_LONG;
		if (fc->keyword)
			ok = (pf->kwscan & kind) != 0;
		for (uint32_t f = 0; !fc->keyword && f < fc->nfields && ok; f++)
			ok = fc->fields[f] < pf->nscan && (pf->scan[fc->fields[f]] & kind);
		if (ok && (fc->keyword || fc->nfields > 0)) {
			p->lit = id + 1;
			/* its hits in these fields must be seen */
			pf->lits[id].gates |= gate;
			if (fc->keyword) {
				pf->lits[id].fields |= FIELD_KW;
				where_add(w, id, FIELD_NONE);
			}
			for (uint32_t f = 0; f < fc->nfields; f++) {
				pf->lits[id].fields |= field_bit(fc->fields[f]);
				where_add(w, id, fc->fields[f]);
				/* the scan must find it inside values there */
				if (p->kind != PK_EQ)
					pf->scan[fc->fields[f]] |= PF_PART;
			}
		}
	}
	fc->tagged = fc->npats > 0;
	for (uint32_t k = 0; k < fc->npats && fc->tagged; k++)
		fc->tagged = fc->pats[k].lit != 0;
}

static void tag_sn(struct prefilter *pf, const struct litset *L,
    struct snode *sn, uint64_t gate, struct wlist *w)
{
	if (sn->kind == SN_FC)
		tag_fc(pf, L, sn->fc, gate, w);
	for (uint32_t i = 0; i < sn->n; i++)
		tag_sn(pf, L, sn->kids[i], gate, w);
}



/* The gate bit of a group: its first mapping entry, if it has one. */
static uint64_t group_gate(struct prefilter *pf, const struct lsgroup *g)
{
	uint32_t b;

	if (g->nentries == 0)
		return GATE_ALWAYS;
	for (b = 0; b < pf->ngates; b++) {
		if (pf->gate_entry[b] == g->entries[0])
			return 1ull << b;
	}
	if (pf->ngates == VG_ARRAY_LEN(pf->gate_entry))
		return GATE_ALWAYS;
	pf->gate_entry[pf->ngates] = g->entries[0];
	return 1ull << pf->ngates++;
}

void detect_index_build(struct ruleset *rs)
{
	struct prefilter *pf = &rs->pf;
	struct conj *sets = vg_calloc(rs->nrules + 1, sizeof(*sets));
	struct posting *posts = NULL;
	size_t nposts = 0, capposts = 0;
	struct litset L = { 0 };
	struct wlist w = { 0 };
	uint32_t maxfield = 0;

	/* 1. each rule's literal sets; rules without go to their group's always */
	pf->rneed = vg_calloc(rs->nrules + 1, 1);
	for (size_t r = 0; r < rs->nrules; r++) {
		struct rule_impl *ri = rs->rules[r]->impl;
		struct lsgroup *g = &rs->groups[ri->group];

		cn_conj(ri, ri->cond, &sets[r]);
		ri->indexed = sets[r].n > 0;
		if (!ri->indexed) {
			struct fset fs;

			g->always = vg_realloc(g->always, (g->nalways + 1) *
			    sizeof(*g->always));
			g->always[g->nalways++] = (uint32_t)r;
			cn_fields(ri, ri->cond, &fs);
			free(ri->need);
			ri->need = NULL;
			ri->nneed = 0;
			if (!fs.none && fs.n > 0) {
				ri->need = fs.v;
				ri->nneed = fs.n;
			} else {
				free(fs.v);
			}
			continue;
		}
		pf->rneed[r] = sets[r].n == 2 ? 3 : 1;
		pf->nindexed++;
	}
	rs->agroups = vg_malloc((rs->ngroups + 1) * sizeof(*rs->agroups));
	for (size_t gi = 0; gi < rs->ngroups; gi++) {
		if (rs->groups[gi].nalways > 0) {
			rs->agroups[rs->nagroups++] = (uint32_t)gi;
			group_need(rs, &rs->groups[gi]);
		}
	}
	always_need(rs);
	/* 2. distinct literals and the postings */
	for (size_t r = 0; r < rs->nrules; r++) {
		for (int k = 0; k < sets[r].n; k++) {
			for (size_t i = 0; i < sets[r].v[k].n; i++) {
				const struct atom *a = &sets[r].v[k].v[i];
				uint32_t lit = lit_id(&L, a->lit, a->len);

				for (uint32_t f = 0; f < (a->fc->keyword ? 1 : a->fc->nfields); f++) {
					uint32_t field = a->fc->keyword ? FIELD_NONE :
					    a->fc->fields[f];

					if (nposts == capposts) {
						capposts = capposts ? capposts * 2 : 256;
						posts = vg_realloc(posts, capposts * sizeof(*posts));
					}
					posts[nposts].lit = lit;
					posts[nposts].rule = (uint32_t)r << 1 | (uint32_t)k;
					posts[nposts].field = field;
					posts[nposts].at = a->at;
					nposts++;
					if (field > maxfield)
						maxfield = field;
					if (a->fc->keyword)
						pf->keywords = 1;
				}
			}
			aset_free(&sets[r].v[k]);
		}
	}
	free(sets);
	pf->nlits = L.n;
	pf->ltext = L.text ? L.text : vg_calloc(1, 1);
	pf->loff = L.off ? L.off : vg_calloc(1, sizeof(*pf->loff));
	pf->llen = L.len ? L.len : vg_calloc(1, sizeof(*pf->llen));
	/* 3. the two ways to find them (detect_scan.c) */
	detect_scan_build(pf);
	/* 4. postings by literal */
	if (nposts > 0)
		qsort(posts, nposts, sizeof(*posts), cmp_posting);
	pf->lits = vg_calloc(pf->nlits + 1, sizeof(*pf->lits));
	pf->prule = vg_malloc((nposts + 1) * sizeof(*pf->prule));
	pf->pfield = vg_malloc((nposts + 1) * sizeof(*pf->pfield));
	pf->pat = vg_malloc(nposts + 1);
	for (size_t i = 0; i < nposts; i++) {
		struct pf_lit *lt = &pf->lits[posts[i].lit];

		if (lt->pend == 0)
			lt->poff = (uint32_t)i;
		lt->pend = (uint32_t)i + 1;
		pf->prule[i] = posts[i].rule;
		pf->pfield[i] = posts[i].field;
		pf->pat[i] = posts[i].at;
		where_add(&w, posts[i].lit, posts[i].field);
	}
	pf->nscan = maxfield + 1;
	pf->scan = vg_calloc(pf->nscan, 1);
	for (size_t i = 0; i < nposts; i++) {
		uint8_t how = pf->llen[posts[i].lit] < 4 ? PF_SHORT : PF_LONG;

		if (posts[i].field != FIELD_NONE)
			pf->scan[posts[i].field] |= how |
			    (posts[i].at == (PF_AT_START | PF_AT_END) ? 0 : PF_PART);
		else
			pf->kwscan |= how;
	}
	free(posts);
	/* 5. the gates of the rules each literal serves */
	for (uint32_t l = 0; l < pf->nlits; l++) {
		struct pf_lit *lt = &pf->lits[l];

		for (uint32_t i = lt->poff; i < lt->pend; i++) {
			const struct rule *r = rs->rules[pf->prule[i] >> 1];

			lt->gates |= group_gate(pf, &rs->groups[r->impl->group]);
			lt->fields |= field_bit(pf->pfield[i]);
		}
	}
	/* 6. patterns that a missing literal rules out */
	for (size_t r = 0; r < rs->nrules; r++) {
		struct rule_impl *ri = rs->rules[r]->impl;
		uint64_t gate = group_gate(pf, &rs->groups[ri->group]);

		for (uint32_t k = 0; k < ri->nsels; k++)
			tag_sn(pf, &L, ri->sels[k].root, gate, &w);
	}
	for (uint32_t a = 0; a < pf->nlong; a++)
		pf->anc[a].fields = pf->lits[pf->anc[a].lit].fields;
	/* 7. the bitmaps, per class of field */
	detect_scan_mark(pf, w.v, w.n);
	free(w.v);
	free(L.slot);
}

void detect_index_free(struct prefilter *pf)
{
	free(pf->pairs);
	free(pf->kwpairs);
	free(pf->cls);
	free(pf->first);
	free(pf->kwfirst);
	free(pf->skey);
	free(pf->sval);
	free(pf->bits);
	free(pf->gtab);
	free(pf->anc);
	free(pf->ltext);
	free(pf->loff);
	free(pf->llen);
	free(pf->lits);
	free(pf->prule);
	free(pf->rneed);
	free(pf->pfield);
	free(pf->pat);
	free(pf->scan);
	free(pf->xlen);
	free(pf->fbit);
	free(pf->xslot);
	memset(pf, 0, sizeof(*pf));
}
