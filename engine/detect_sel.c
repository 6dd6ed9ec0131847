/*
 * detect_sel.c: compiles Sigma search identifiers (selections) into trees of
 * field conditions: maps are AND, lists are OR, lists of strings are
 * keywords. Value modifiers are applied here, once: wildcards and escapes
 * are parsed, encodings (base64, base64offset, utf16*, wide) and windash
 * expand a value into its variants (detect_value.c), literals are
 * lowercased unless `cased`, regexes are compiled and JIT-compiled.
 * Anything vigil does not support is an error naming it, at the key or
 * value that uses it.
 *
 * Field names go through the rule's field mappings here; mapping conditions
 * (fm == NULL) use event field names as written.
 */
#include "detect_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum mod {
	M_CONTAINS = 1, M_STARTSWITH, M_ENDSWITH, M_ALL, M_CASED, M_EXISTS,
	M_RE, M_RE_I, M_RE_M, M_RE_S, M_CIDR, M_LT, M_LTE, M_GT, M_GTE, M_NEQ,
	M_FIELDREF, M_EXPAND, M_BASE64, M_BASE64OFF, M_UTF16LE, M_UTF16BE,
	M_UTF16, M_WIDE, M_WINDASH, M_MINUTE, M_HOUR, M_DAY, M_WEEK, M_MONTH,
	M_YEAR,
};

static const struct {
	const char *name;
	int mod;
} mod_names[] = {
	{ "contains", M_CONTAINS }, { "startswith", M_STARTSWITH },
	{ "endswith", M_ENDSWITH }, { "all", M_ALL }, { "cased", M_CASED },
	{ "exists", M_EXISTS }, { "re", M_RE }, { "i", M_RE_I },
	{ "m", M_RE_M }, { "s", M_RE_S }, { "cidr", M_CIDR }, { "lt", M_LT },
	{ "lte", M_LTE }, { "gt", M_GT }, { "gte", M_GTE }, { "neq", M_NEQ },
	{ "fieldref", M_FIELDREF }, { "expand", M_EXPAND },
	{ "base64", M_BASE64 }, { "base64offset", M_BASE64OFF },
	{ "utf16le", M_UTF16LE }, { "utf16be", M_UTF16BE },
	{ "utf16", M_UTF16 }, { "wide", M_WIDE }, { "windash", M_WINDASH },
	{ "minute", M_MINUTE }, { "hour", M_HOUR }, { "day", M_DAY },
	{ "week", M_WEEK }, { "month", M_MONTH }, { "year", M_YEAR },
};

struct mods {
	int pos;          /* M_CONTAINS, M_STARTSWITH, M_ENDSWITH or 0 */
	int all, cased, neq, expand, encoded;
	int type;         /* M_EXISTS, M_RE, M_CIDR, M_LT.., M_FIELDREF or 0 */
	int reflags;      /* PCRE2 options from i, m, s */
	int tpart;        /* enum time_part */
	int xf[16];       /* transformations, in order */
	int nxf;
};

static const char *mod_name(int m)
{
	for (size_t i = 0; i < VG_ARRAY_LEN(mod_names); i++) {
		if (mod_names[i].mod == m)
			return mod_names[i].name;
	}
	return "?";
}

/* Column of byte `off` of a scalar (plain or single-line quoted). */
static int scalar_col(const struct ynode *n, size_t off)
{
	return n->col + (n->quoted ? 1 : 0) + (int)off;
}

static int parse_mods(struct dload *dl, const struct ynode *key, size_t start,
    struct mods *m)
{
	const char *s = key->str;
	size_t i = start;
	int bad = 0;

	memset(m, 0, sizeof(*m));
	while (i < key->len && s[i] == '|') {
		size_t b = ++i, len;
		int mod = 0;

		while (i < key->len && s[i] != '|')
			i++;
		len = i - b;
		for (size_t k = 0; k < VG_ARRAY_LEN(mod_names); k++) {
			if (strlen(mod_names[k].name) == len &&
			    memcmp(mod_names[k].name, s + b, len) == 0) {
				mod = mod_names[k].mod;
				break;
			}
		}
		if (mod == 0) {
			dl_error_at(dl, key->file, key->line, scalar_col(key, b),
			    "unsupported modifier '%.*s'", (int)len, s + b);
			bad = 1;
			continue;
		}
		switch (mod) {
		case M_CONTAINS:
		case M_STARTSWITH:
		case M_ENDSWITH:
			if (m->pos != 0 && m->pos != mod) {
				dl_error_at(dl, key->file, key->line, scalar_col(key, b),
				    "modifier '%s' cannot be combined with '%s'",
				    mod_name(mod), mod_name(m->pos));
				bad = 1;
			}
			m->pos = mod;
			break;
		case M_ALL:
			m->all = 1;
			break;
		case M_CASED:
			m->cased = 1;
			break;
		case M_NEQ:
			m->neq = 1;
			break;
		case M_EXPAND:
			m->expand = 1;
			break;
		case M_RE_I:
		case M_RE_M:
		case M_RE_S:
			if (m->type != M_RE) {
				dl_error_at(dl, key->file, key->line, scalar_col(key, b),
				    "modifier '%s' must follow 're'", mod_name(mod));
				bad = 1;
			}
			m->reflags |= mod == M_RE_I ? PCRE2_CASELESS :
			    mod == M_RE_M ? PCRE2_MULTILINE : PCRE2_DOTALL;
			break;
		case M_BASE64:
		case M_BASE64OFF:
		case M_UTF16LE:
		case M_UTF16BE:
		case M_UTF16:
		case M_WIDE:
		case M_WINDASH:
			if (m->nxf == (int)VG_ARRAY_LEN(m->xf)) {
				dl_error_at(dl, key->file, key->line, scalar_col(key, b),
				    "too many modifiers");
				bad = 1;
				break;
			}
			m->xf[m->nxf++] = mod;
			if (mod != M_WINDASH)
				m->encoded = 1;
			break;
		case M_MINUTE:
		case M_HOUR:
		case M_DAY:
		case M_WEEK:
		case M_MONTH:
		case M_YEAR:
			if (m->tpart != TP_NONE) {
				dl_error_at(dl, key->file, key->line, scalar_col(key, b),
				    "only one time modifier may be used");
				bad = 1;
			}
			m->tpart = mod - M_MINUTE + TP_MINUTE;
			break;
		default: /* the type modifiers: one at most */
			if (m->type != 0) {
				dl_error_at(dl, key->file, key->line, scalar_col(key, b),
				    "modifier '%s' cannot be combined with '%s'",
				    mod_name(mod), mod_name(m->type));
				bad = 1;
			}
			m->type = mod;
			break;
		}
	}
	if (bad)
		return -1;
	/* combinations that have no meaning */
	if (m->type == M_EXISTS && (m->pos || m->all || m->cased || m->neq ||
	    m->nxf || m->expand || m->tpart)) {
		dl_error(dl, key, "modifier 'exists' cannot be combined with other modifiers");
		return -1;
	}
	if (m->type != 0 && m->type != M_EXISTS && m->type != M_LT &&
	    m->type != M_LTE && m->type != M_GT && m->type != M_GTE &&
	    (m->pos || m->nxf || m->expand)) {
		dl_error(dl, key, "modifier '%s' cannot be combined with '%s'",
		    mod_name(m->type), mod_name(m->pos ? m->pos :
		    m->nxf ? m->xf[0] : M_EXPAND));
		return -1;
	}
	if ((m->type >= M_LT && m->type <= M_GTE) && (m->pos || m->nxf ||
	    m->expand || m->cased)) {
		dl_error(dl, key, "modifier '%s' compares numbers and cannot be "
		    "combined with string modifiers", mod_name(m->type));
		return -1;
	}
	if (m->cased && (m->type == M_RE || m->type == M_CIDR)) {
		dl_error(dl, key, "modifier 'cased' has no meaning with '%s'",
		    mod_name(m->type));
		return -1;
	}
	if (m->tpart != TP_NONE && (m->pos || m->nxf || m->expand || m->cased ||
	    (m->type != 0 && !(m->type >= M_LT && m->type <= M_GTE)))) {
		dl_error(dl, key, "time modifiers can only be combined with lt, lte, gt, gte");
		return -1;
	}
	return 0;
}

/* ---- patterns ---- */

static struct pat *pat_push(struct fcond *fc, uint32_t *cap)
{
	struct pat *p;

	if (fc->npats == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		fc->pats = vg_realloc(fc->pats, *cap * sizeof(*fc->pats));
	}
	p = &fc->pats[fc->npats++];
	memset(p, 0, sizeof(*p));
	p->grp = fc->ngrp;
	return p;
}

/* Classify a Sigma string into the cheapest pattern kind. */
static void pat_from_sstr(struct pat *p, const struct sstr *in, int cased)
{
	uint32_t n = 0, stars = 0, qmarks = 0, i;
	uint16_t *t = vg_malloc((in->n + 1) * sizeof(*t));
	int lead, trail;

	for (i = 0; i < in->n; i++) {
		uint16_t c = in->t[i];

		if (c == TOK_STAR && n > 0 && t[n - 1] == TOK_STAR)
			continue; /* ** is * */
		if (c < 256 && !cased)
			c = vg_lower((unsigned char)c);
		stars += c == TOK_STAR;
		qmarks += c == TOK_QMARK;
		t[n++] = c;
	}
	lead = n > 0 && t[0] == TOK_STAR;
	trail = n > 0 && t[n - 1] == TOK_STAR;
	if (n == 1 && stars == 1) {
		p->kind = PK_ANY;
	} else if (qmarks == 0 && stars == (uint32_t)(lead + trail)) {
		uint32_t b = (uint32_t)lead, e = n - (uint32_t)trail;

		p->kind = lead && trail ? PK_CONTAINS : lead ? PK_SUFFIX :
		    trail ? PK_PREFIX : PK_EQ;
		p->len = e - b;
		p->s = vg_malloc(p->len + 1);
		for (i = b; i < e; i++)
			p->s[i - b] = (char)t[i];
		p->s[p->len] = '\0';
	} else {
		p->kind = PK_GLOB;
		p->tok = t;
		p->ntok = n;
		return;
	}
	free(t);
}

static int scalar_number(const struct ynode *v, double *out)
{
	char *end;
	const char *s = v->str;

	if (v->len == 0 || v->len > 64)
		return -1;
	if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+' ||
	    s[0] == '.'))
		return -1;
	for (size_t i = 0; i < v->len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
		    c == 'e' || c == 'E'))
			return -1; /* no hex, inf or nan */
	}
	errno = 0;
	*out = strtod(s, &end);
	if (end != s + v->len || errno != 0 || !isfinite(*out))
		return -1;
	return 0;
}

#define EXPAND_MAX 4096  /* values one |expand value may become */

/* Append the tokens of b to a. */
static void sstr_cat(struct sstr *a, const struct sstr *b)
{
	a->t = vg_realloc(a->t, (a->n + b->n + 1) * sizeof(*a->t));
	memcpy(a->t + a->n, b->t, b->n * sizeof(*b->t));
	a->n += b->n;
}

/*
 * |expand: every %name% of the value becomes each value of the
 * placeholder (all combinations when there are several); the text around
 * them is a Sigma string with `\%` for a plain percent. A placeholder with
 * no value ([]) makes no value. Fills out; -1 on error.
 */
static int do_expand(struct dload *dl, const struct ynode *v, struct slist *out)
{
	struct slist cur = { 0 }, next = { 0 };
	char *lit = vg_malloc(v->len + 1);
	size_t ll = 0, i = 0;
	struct sstr seg;

	seg.t = vg_calloc(1, sizeof(*seg.t));
	seg.n = 0;
	detect_slist_push(&cur, seg);
	while (i <= v->len) {
		const char *e = NULL;
		const struct placeholder *ph;

		if (i + 1 < v->len && v->str[i] == '\\' && v->str[i + 1] == '%') {
			lit[ll++] = '%';
			i += 2;
			continue;
		}
		if (i + 1 < v->len && v->str[i] == '\\' && v->str[i + 1] == '\\') {
			/* an escaped backslash stays one for the Sigma string,
			 * so `%dom%\\%user%` is DOM\user */
			lit[ll++] = '\\';
			lit[ll++] = '\\';
			i += 2;
			continue;
		}
		if (i < v->len && v->str[i] == '%')
			e = memchr(v->str + i + 1, '%', v->len - i - 1);
		if (i < v->len && (e == NULL || e == v->str + i + 1)) {
			lit[ll++] = v->str[i++]; /* a percent that starts nothing */
			continue;
		}
		/* end of a literal run: at a placeholder or the end */
		if (ll > 0) {
			detect_sstr_parse(lit, ll, &seg);
			for (size_t k = 0; k < cur.n; k++)
				sstr_cat(&cur.v[k], &seg);
			free(seg.t);
			ll = 0;
		}
		if (i == v->len)
			break;
		ph = detect_placeholder(dl->rs, v->str + i + 1,
		    (size_t)(e - (v->str + i + 1)));
		if (ph == NULL) {
			dl_error(dl, v, "expand: placeholder %.*s has no value (give it "
			    "one under 'placeholders:' in a rules file)",
			    (int)(e - (v->str + i) + 1), v->str + i);
			goto fail;
		}
		if (cur.n * ph->n > EXPAND_MAX) {
			dl_error(dl, v, "expand: more than %u values", EXPAND_MAX);
			goto fail;
		}
		for (size_t k = 0; k < cur.n; k++) {
			for (size_t j = 0; j < ph->n; j++) {
				struct sstr c;

				c.t = vg_malloc((cur.v[k].n + 1) * sizeof(*c.t));
				memcpy(c.t, cur.v[k].t, cur.v[k].n * sizeof(*c.t));
				c.n = cur.v[k].n;
				sstr_cat(&c, &ph->vals[j]);
				detect_slist_push(&next, c);
			}
		}
		detect_slist_free(&cur);
		cur = next;
		memset(&next, 0, sizeof(next));
		i = (size_t)(e - v->str) + 1;
	}
	free(lit);
	*out = cur;
	return 0;
fail:
	free(lit);
	detect_slist_free(&cur);
	return -1;
}

static int compile_regex(struct dload *dl, const struct ynode *v,
    const struct mods *m, struct pat *p)
{
	int errcode;
	PCRE2_SIZE erroff;
	char msg[256];
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (uint32_t)m->reflags;

	p->kind = PK_RE;
	p->re = pcre2_compile((PCRE2_SPTR)v->str, v->len, opts, &errcode,
	    &erroff, NULL);
	if (p->re == NULL) {
		pcre2_get_error_message(errcode, (PCRE2_UCHAR *)msg, sizeof(msg));
		dl_error_at(dl, v->file, v->line, scalar_col(v, erroff),
		    "re: %s at offset %zu", msg, (size_t)erroff);
		return -1;
	}
	p->jit = pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE) == 0;
	/* in characters, never more than bytes: a shorter value cannot match */
	if (pcre2_pattern_info(p->re, PCRE2_INFO_MINLENGTH, &p->remin) != 0)
		p->remin = 0;
	return 0;
}

static int compile_cidr(struct dload *dl, const struct ynode *v, struct pat *p)
{
	const char *slash = memchr(v->str, '/', v->len);
	size_t alen = slash ? (size_t)(slash - v->str) : v->len;
	int v4 = 0;
	long bits;

	p->kind = PK_CIDR;
	if (detect_addr_parse(v->str, alen, p->addr, &v4) < 0 ||
	    memchr(v->str, '%', alen) != NULL) {
		dl_error(dl, v, "cidr: '%s' is not an IP network", v->str);
		return -1;
	}
	if (slash != NULL) {
		char *end;

		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '\0' || bits < 0 ||
		    bits > (v4 ? 32 : 128) || slash[1] == '-' || slash[1] == '+') {
			dl_error(dl, v, "cidr: bad prefix length in '%s'", v->str);
			return -1;
		}
	} else {
		bits = v4 ? 32 : 128;
	}
	p->plen = (uint8_t)(v4 ? 96 + bits : bits);
	/* IPv4 networks live in ::ffff:0:0/96, and so do mapped ones */
	p->v4 = v4 || (p->plen >= 96 && p->addr[10] == 0xff && p->addr[11] == 0xff &&
	    memcmp(p->addr, "\0\0\0\0\0\0\0\0\0\0", 10) == 0);
	/* clear host bits so the match compares whole bytes safely */
	for (unsigned i = 0; i < 16; i++) {
		unsigned lo = i * 8;

		if (lo >= p->plen)
			p->addr[i] = 0;
		else if (lo + 8 > p->plen)
			p->addr[i] &= (uint8_t)(0xff << (8 - (p->plen - lo)));
	}
	return 0;
}

/* Apply transformations in order to one value; fills `out`. */
static int transform(struct dload *dl, const struct ynode *v,
    const struct mods *m, struct sstr *base, struct slist *out)
{
	struct slist cur = { 0 }, next = { 0 };

	detect_slist_push(&cur, *base);
	base->t = NULL;
	for (int x = 0; x < m->nxf; x++) {
		for (size_t i = 0; i < cur.n; i++) {
			int rc = 0;

			if (m->xf[x] != M_WINDASH && detect_sstr_has_wild(&cur.v[i])) {
				dl_error(dl, v, "%s: a value with wildcards cannot be "
				    "encoded (escape * and ? with a backslash)",
				    mod_name(m->xf[x]));
				goto fail;
			}
			switch (m->xf[x]) {
			case M_BASE64:
				detect_xf_base64(&cur.v[i], &next);
				break;
			case M_BASE64OFF:
				detect_xf_base64offset(&cur.v[i], &next);
				break;
			case M_UTF16LE:
			case M_WIDE:
			case M_UTF16BE:
			case M_UTF16:
				rc = detect_xf_utf16(&cur.v[i], m->xf[x] == M_UTF16BE,
				    m->xf[x] == M_UTF16, &next);
				break;
			case M_WINDASH:
				if (detect_xf_windash(&cur.v[i], &next) < 0) {
					dl_error(dl, v, "windash: too many dashes in one value");
					goto fail;
				}
				break;
			}
			if (rc < 0) {
				dl_error(dl, v, "%s: the value is not valid UTF-8",
				    mod_name(m->xf[x]));
				goto fail;
			}
		}
		detect_slist_free(&cur);
		cur = next;
		memset(&next, 0, sizeof(next));
	}
	*out = cur;
	return 0;
fail:
	detect_slist_free(&cur);
	detect_slist_free(&next);
	return -1;
}

static void wrap_pos(struct sstr *s, int pos)
{
	uint16_t *t = vg_malloc((s->n + 3) * sizeof(*t));
	uint32_t n = 0;

	if (pos == M_CONTAINS || pos == M_ENDSWITH)
		t[n++] = TOK_STAR;
	memcpy(t + n, s->t, s->n * sizeof(*t));
	n += s->n;
	if (pos == M_CONTAINS || pos == M_STARTSWITH)
		t[n++] = TOK_STAR;
	free(s->t);
	s->t = t;
	s->n = n;
}

static int compile_value1(struct dload *dl, struct fcond *fc,
    const struct ynode *v, const struct mods *m, const struct fieldmap *fm,
    uint32_t *cap);

/* One value of a field condition: one or more patterns, one group. */
static int compile_value(struct dload *dl, struct fcond *fc,
    const struct ynode *v, const struct mods *m, const struct fieldmap *fm,
    uint32_t *cap)
{
	int rc = compile_value1(dl, fc, v, m, fm, cap);

	fc->ngrp++;
	return rc;
}

static int compile_value1(struct dload *dl, struct fcond *fc,
    const struct ynode *v, const struct mods *m, const struct fieldmap *fm,
    uint32_t *cap)
{
	struct pat *p;
	struct sstr base;
	struct slist vals = { 0 }, bases = { 0 };
	double num;
	int isnum;

	if (v->kind != YN_SCALAR) {
		dl_error(dl, v, "a value must be a string or a number, not %s",
		    ytree_kind_name(v));
		return -1;
	}
	if (ytree_is_null(v)) {
		dl_error(dl, v, "null cannot be part of a list of values; "
		    "use a selection of its own");
		return -1;
	}
	if (m->tpart != TP_NONE || (m->type >= M_LT && m->type <= M_GTE)) {
		if (scalar_number(v, &num) < 0) {
			dl_error(dl, v, "'%s' is not a number", v->str);
			return -1;
		}
		p = pat_push(fc, cap);
		p->kind = m->type ? (m->type == M_LT ? PK_LT : m->type == M_LTE ?
		    PK_LTE : m->type == M_GT ? PK_GT : PK_GTE) : PK_EQ;
		p->isnum = 1;
		p->num = num;
		p->shown = vg_strdup(v->str);
		return 0;
	}
	switch (m->type) {
	case M_RE:
		p = pat_push(fc, cap);
		p->shown = vg_strdup(v->str);
		return compile_regex(dl, v, m, p);
	case M_CIDR:
		p = pat_push(fc, cap);
		p->shown = vg_strdup(v->str);
		return compile_cidr(dl, v, p);
	case M_FIELDREF:
		if (v->len == 0) {
			dl_error(dl, v, "fieldref: empty field name");
			return -1;
		}
		p = pat_push(fc, cap);
		p->kind = PK_REF;
		p->shown = vg_strdup(v->str);
		p->refs = detect_field_ids(fm, v->str, &p->nrefs);
		if (p->nrefs == 0) {
			dl_error(dl, v, "too many distinct field names (at most %u)",
			    FIELD_MAX - 1);
			return -1;
		}
		return 0;
	}
	isnum = !v->quoted && m->pos == 0 && m->nxf == 0 && !m->expand &&
	    !fc->keyword && scalar_number(v, &num) == 0;
	if (m->expand) {
		if (do_expand(dl, v, &bases) < 0)
			return -1;
		if (bases.n == 0 && fc->all)
			fc->never = 1; /* all of: one of them can never hold */
	} else {
		detect_sstr_parse(v->str, v->len, &base);
		detect_slist_push(&bases, base);
	}
	for (size_t b = 0; b < bases.n; b++) {
		if (transform(dl, v, m, &bases.v[b], &vals) < 0) {
			detect_slist_free(&bases);
			return -1;
		}
		for (size_t i = 0; i < vals.n; i++) {
			int pos = m->pos;

			if (pos == 0 && fc->keyword)
				pos = M_CONTAINS; /* keywords are found anywhere */
			if (pos != 0)
				wrap_pos(&vals.v[i], pos);
			p = pat_push(fc, cap);
			pat_from_sstr(p, &vals.v[i], fc->cased);
			p->shown = vg_strdup(v->str);
			if (isnum && p->kind == PK_EQ) {
				p->isnum = 1;
				p->num = num;
			}
		}
		detect_slist_free(&vals);
	}
	detect_slist_free(&bases);
	return 0;
}

/* Intern target t of a field mapping, each `*` in it standing for name. */
static uint32_t map_target(const char *t, const char *name)
{
	char buf[1024];
	size_t o = 0, nl = strlen(name);

	for (; *t != '\0'; t++) {
		if (*t == '*') {
			if (o + nl >= sizeof(buf))
				return FIELD_NONE;
			memcpy(buf + o, name, nl);
			o += nl;
		} else {
			if (o + 1 >= sizeof(buf))
				return FIELD_NONE;
			buf[o++] = *t;
		}
	}
	return field_intern(buf, o);
}

/*
 * Each mapping entry in order: its own entry for the name, else its `*`
 * entry; the first entry that has either decides. Unmapped names are used
 * as written.
 */
uint32_t *detect_field_ids(const struct fieldmap *fm, const char *name,
    uint32_t *n)
{
	uint32_t *ids = NULL, k = 0;

	for (size_t e = 0; fm != NULL && e < fm->n; e++) {
		const struct map_fields *mf = fm->mfs[e];
		size_t hit = mf->n, c = 0;

		for (size_t i = 0; i < mf->n; i++) {
			if (strcmp(mf->from[i], name) == 0) {
				hit = i;
				break;
			}
			if (hit == mf->n && strcmp(mf->from[i], "*") == 0)
				hit = i; /* unless the name has its own entry */
		}
		if (hit == mf->n)
			continue;
		while (mf->to[hit][c] != NULL)
			c++;
		ids = vg_malloc((c + 1) * sizeof(*ids));
		for (size_t j = 0; j < c; j++) {
			uint32_t id = map_target(mf->to[hit][j], name), d;

			for (d = 0; d < k && ids[d] != id; d++)
				;
			if (id != FIELD_NONE && d == k)
				ids[k++] = id;
		}
		*n = k;
		return ids;
	}
	ids = vg_malloc(sizeof(*ids));
	ids[0] = field_intern(name, strlen(name));
	*n = ids[0] != FIELD_NONE;
	return ids;
}

static void fcond_free(struct fcond *fc)
{
	if (fc == NULL)
		return;
	for (uint32_t i = 0; i < fc->npats; i++) {
		struct pat *p = &fc->pats[i];

		free(p->s);
		free(p->tok);
		free(p->refs);
		free(p->shown);
		free(p->relit);
		pcre2_code_free(p->re);
	}
	free(fc->pats);
	free(fc->lits);
	free(fc->cs);
	free(fc->fields);
	free(fc->name);
	free(fc->key);
	free(fc);
}

void detect_snode_free(struct snode *sn)
{
	if (sn == NULL)
		return;
	for (uint32_t i = 0; i < sn->n; i++)
		detect_snode_free(sn->kids[i]);
	free(sn->kids);
	fcond_free(sn->fc);
	free(sn);
}

static struct snode *sn_new(int kind)
{
	struct snode *sn = vg_calloc(1, sizeof(*sn));

	sn->kind = (uint8_t)kind;
	return sn;
}

static void sn_add(struct snode *sn, struct snode *kid)
{
	if ((sn->n & (sn->n - 1)) == 0)
		sn->kids = vg_realloc(sn->kids, (sn->n ? sn->n * 2 : 1) *
		    sizeof(*sn->kids));
	sn->kids[sn->n++] = kid;
}

/* One `key: value` of a map; key may be "" or "|mods" for keywords. */
static struct snode *compile_field(struct dload *dl, const struct ynode *key,
    const struct ynode *val, const struct fieldmap *fm)
{
	struct fcond *fc = vg_calloc(1, sizeof(*fc));
	struct snode *sn;
	const char *bar = memchr(key->str, '|', key->len);
	size_t nlen = bar ? (size_t)(bar - key->str) : key->len;
	struct mods m;
	uint32_t cap = 0;
	int bad = 0;

	fc->name = vg_strndup(key->str, nlen);
	fc->key = vg_strdup(key->str);
	fc->line = key->line;
	fc->col = key->col;
	fc->keyword = nlen == 0;
	if (parse_mods(dl, key, nlen, &m) < 0)
		goto fail;
	fc->all = (uint8_t)m.all;
	fc->neg = (uint8_t)m.neq;
	fc->tpart = (uint8_t)m.tpart;
	/* encoded text (base64 above all) is not case-folded */
	fc->cased = (uint8_t)(m.cased || m.encoded);
	if (fc->keyword && (m.type == M_EXISTS || m.type == M_FIELDREF ||
	    m.type == M_CIDR || (m.type >= M_LT && m.type <= M_GTE) ||
	    m.tpart)) {
		dl_error(dl, key, "modifier '%s' needs a field name",
		    m.tpart ? "time" : mod_name(m.type));
		goto fail;
	}
	if (!fc->keyword) {
		fc->fields = detect_field_ids(fm, fc->name, &fc->nfields);
		if (fc->nfields == 0) {
			dl_error(dl, key, "too many distinct field names (at most %u)",
			    FIELD_MAX - 1);
			goto fail;
		}
	}
	if (m.type == M_EXISTS) {
		int b;

		if (ytree_bool(val, &b) < 0) {
			dl_error(dl, val, "exists: the value must be true or false");
			goto fail;
		}
		fc->kind = FC_EXISTS;
		fc->want = (uint8_t)b;
		goto done;
	}
	if (val->kind == YN_SCALAR && ytree_is_null(val)) {
		if (fc->keyword || m.type || m.pos || m.all || m.nxf || m.expand ||
		    m.tpart) {
			dl_error(dl, val, "null cannot be combined with modifiers "
			    "or keywords");
			goto fail;
		}
		/* neq null: the field holds a value that is not null */
		fc->kind = FC_NULL;
		goto done;
	}
	fc->kind = FC_VALUES;
	if (val->kind == YN_SEQ) {
		if (val->n == 0) {
			dl_error(dl, val, "empty list of values");
			goto fail;
		}
		for (size_t i = 0; i < val->n; i++) {
			if (compile_value(dl, fc, val->items[i], &m, fm, &cap) < 0)
				bad = 1;
		}
	} else if (compile_value(dl, fc, val, &m, fm, &cap) < 0) {
		bad = 1;
	}
	if (bad)
		goto fail;
	if (fc->npats == 0)
		fc->never = 1; /* every value was a placeholder with no value */
done:
	sn = sn_new(SN_FC);
	sn->fc = fc;
	return sn;
fail:
	fcond_free(fc);
	return NULL;
}

static struct snode *compile_map(struct dload *dl, const struct ynode *map,
    const struct fieldmap *fm)
{
	struct snode *sn, *kid;
	int bad = 0;

	if (map->n == 0) {
		dl_error(dl, map, "empty selection");
		return NULL;
	}
	sn = sn_new(SN_AND);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];

		if (k->kind != YN_SCALAR) {
			dl_error(dl, k, "a field name must be a string");
			bad = 1;
			continue;
		}
		if ((kid = compile_field(dl, k, map->items[i + 1], fm)) == NULL)
			bad = 1;
		else
			sn_add(sn, kid);
	}
	if (bad) {
		detect_snode_free(sn);
		return NULL;
	}
	if (sn->n == 1) {
		kid = sn->kids[0];
		sn->n = 0;
		detect_snode_free(sn);
		return kid;
	}
	return sn;
}

/* Keywords of a list, gathered into one condition. */
static struct snode *compile_keywords(struct dload *dl,
    const struct ynode *const *items, size_t n)
{
	struct fcond *fc = vg_calloc(1, sizeof(*fc));
	struct mods m;
	struct snode *sn;
	uint32_t cap = 0;
	int bad = 0;

	memset(&m, 0, sizeof(m));
	fc->kind = FC_VALUES;
	fc->keyword = 1;
	fc->name = vg_strdup("");
	fc->key = vg_strdup("");
	fc->line = items[0]->line;
	fc->col = items[0]->col;
	for (size_t i = 0; i < n; i++) {
		if (ytree_is_null(items[i])) {
			dl_error(dl, items[i], "a keyword cannot be null");
			bad = 1;
		} else if (compile_value(dl, fc, items[i], &m, NULL, &cap) < 0) {
			bad = 1;
		}
	}
	if (bad) {
		fcond_free(fc);
		return NULL;
	}
	sn = sn_new(SN_FC);
	sn->fc = fc;
	return sn;
}

struct snode *detect_sel_compile(struct dload *dl, const struct ynode *val,
    const struct fieldmap *fm)
{
	struct snode *sn, *kid;
	const struct ynode **kw;
	size_t nkw = 0;
	int bad = 0;

	if (val == NULL) {
		dl_error(dl, NULL, "empty selection");
		return NULL;
	}
	switch (val->kind) {
	case YN_MAP:
		return compile_map(dl, val, fm);
	case YN_SCALAR:
		if (ytree_is_null(val)) {
			dl_error(dl, val, "empty selection");
			return NULL;
		}
		return compile_keywords(dl, (const struct ynode *const *)&val, 1);
	case YN_SEQ:
		break;
	}
	if (val->n == 0) {
		dl_error(dl, val, "empty selection");
		return NULL;
	}
	sn = sn_new(SN_OR);
	kw = vg_malloc(val->n * sizeof(*kw));
	for (size_t i = 0; i < val->n; i++) {
		const struct ynode *it = val->items[i];

		if (it->kind == YN_SCALAR) {
			kw[nkw++] = it;
		} else if (it->kind == YN_MAP) {
			if ((kid = compile_map(dl, it, fm)) == NULL)
				bad = 1;
			else
				sn_add(sn, kid);
		} else {
			dl_error(dl, it, "a list in a selection holds strings or "
			    "maps, not %s", ytree_kind_name(it));
			bad = 1;
		}
	}
	if (nkw > 0) {
		if ((kid = compile_keywords(dl, kw, nkw)) == NULL)
			bad = 1;
		else
			sn_add(sn, kid);
	}
	free(kw);
	if (bad) {
		detect_snode_free(sn);
		return NULL;
	}
	if (sn->n == 1) {
		kid = sn->kids[0];
		sn->n = 0;
		detect_snode_free(sn);
		return kid;
	}
	return sn;
}
