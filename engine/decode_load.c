/*
 * decode_load.c: reads decoder files (parsers/ folder, *.yml; format in
 * parsers/README.md) into the compiled tree of decode_int.h and builds the
 * program index.
 *
 * Every problem is reported with file:line:col and the loader keeps going:
 * a top-level decoder with any error (in itself or in a child) is skipped
 * whole and its decoders are counted as rejected; a file that cannot be
 * read or parsed counts as one rejected decoder, so `vigil check` fails on
 * it. Group names with dots are renamed for PCRE2 by decode_regex.c.
 * Patterns are compiled without UTF: messages are bytes and invalid UTF-8
 * can never make a match fail with an error. A pattern that compiles as
 * written is compiled again leaner when that keeps its matches (scratch
 * groups not capturing, no start-up checks for an anchored one), and one
 * that is nothing but the texts of its pre-check is marked to skip PCRE2.
 *
 * Load time only, one thread.
 */
#include "decode_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ytree.h"

/* Serial numbers of loaded sets (decode_set.serial). */
static atomic_uint_least64_t set_serial;

/* A decoder name seen while loading, for duplicate detection. */
struct lname {
	char *name;       /* NULL: empty slot */
	char *where;      /* "file:line:col" of its definition */
	uint32_t hash;
};

struct pend {
	const char *name; /* borrowed from the YAML tree */
	int line, col;
};

struct loader {
	struct decode_set *set;
	struct vg_diag *d;
	const char *file;
	const char *src;        /* the file's text, for error columns */
	size_t srclen;
	int errors;             /* errors in the current top-level decoder */
	struct lname *names;    /* accepted decoders' names */
	uint32_t nmask, nnames;
	struct pend *pend;      /* names in the current top-level decoder */
	size_t npend, cappend;
	size_t captops;
};

static const char *const decoder_keys[] = {
	"name", "description", "programs", "field", "patterns", "fields",
	"types", "children",
};

static VG_PRINTF(4, 5) void lerr_at(struct loader *L, int line, int col,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	L->errors++;
	vg_diag_error(L->d, L->file, line, col, "%s", msg);
}

#define lerr(L, n, ...) lerr_at((L), (n)->line, (n)->col, __VA_ARGS__)

static VG_PRINTF(3, 4) void lwarn(struct loader *L, const struct ynode *n,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vg_diag_warn(L->d, L->file, n->line, n->col, "%s", msg);
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/*
 * A field name vigil accepts from a decoder: dotted segments of letters,
 * digits, '_' and '-', starting with a letter or '@' (for @timestamp).
 */
static int valid_field(const char *s, size_t n)
{
	size_t seg = 0;

	if (n == 0 || n > 255 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '@'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (seg == 0)
				return 0;
			seg = 0;
		} else if (is_alnum(c) || c == '_' || c == '-' || (c == '@' && i == 0)) {
			seg++;
		} else {
			return 0;
		}
	}
	return seg > 0;
}

static int valid_decoder_name(const char *s, size_t n)
{
	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_alnum(c) && strchr("._:/+-", c) == NULL)
			return 0;
	}
	return 1;
}

static int is_text(const struct ynode *n)
{
	return n != NULL && n->kind == YN_SCALAR && !(ytree_is_null(n));
}

/* Report unknown and duplicate keys of a map. */
static void check_keys(struct loader *L, const struct ynode *map,
    const char *const *allowed, size_t nallowed, const char *what)
{
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];
		size_t a;

		if (k->kind != YN_SCALAR) {
			lerr(L, k, "%s keys must be strings, not %s", what,
			    ytree_kind_name(k));
			continue;
		}
		for (size_t j = 0; j < i; j += 2) {
			if (map->items[j]->kind == YN_SCALAR &&
			    strcmp(map->items[j]->str, k->str) == 0) {
				lerr(L, k, "duplicate key '%s' (first at line %d)",
				    k->str, map->items[j]->line);
				break;
			}
		}
		if (allowed == NULL)
			continue;
		for (a = 0; a < nallowed; a++) {
			if (strcmp(k->str, allowed[a]) == 0)
				break;
		}
		if (a == nallowed) {
			char list[256] = "";
			size_t used = 0;

			for (a = 0; a < nallowed && used < sizeof(list); a++)
				used += (size_t)snprintf(list + used,
				    sizeof(list) - used, "%s%s", a ? ", " : "",
				    allowed[a]);
			lerr(L, k, "unknown key '%s' in %s (expected %s)", k->str,
			    what, list);
		}
	}
}

static int type_of(const struct dnode *node, uint32_t field)
{
	for (size_t i = 0; i < node->ntypes; i++) {
		if (node->types[i].field == field)
			return node->types[i].type;
	}
	return DT_STRING;
}

/*
 * Whether '|' appears outside every group, class and escape: then a
 * leading "^lit" binds to the first branch only. -1 when the pattern has
 * constructs this scan does not follow (\Q..\E, comments, POSIX classes,
 * unbalanced parentheses): no prefix then.
 */
static int top_level_bar(const char *p, size_t n)
{
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\\') {
			if (i + 1 < n && (p[i + 1] == 'Q' || p[i + 1] == 'E'))
				return -1;
			i++;
		} else if (c == '[') {
			/* a class: ']' right after '[' or "[^" is literal */
			i++;
			if (i < n && p[i] == '^')
				i++;
			if (i < n && p[i] == ']')
				i++;
			for (; i < n && p[i] != ']'; i++) {
				if (p[i] == '\\')
					i++;
				else if (p[i] == '[' && i + 1 < n &&
				    (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '='))
					return -1;
			}
			if (i >= n)
				return -1;
		} else if (c == '(') {
			if (i + 2 < n && p[i + 1] == '?' && p[i + 2] == '#')
				return -1;
			depth++;
		} else if (c == ')') {
			if (--depth < 0)
				return -1;
		} else if (c == '|' && depth == 0) {
			return 1;
		}
	}
	return depth == 0 ? 0 : -1;
}

size_t decode_literal_prefix(const char *p, size_t n, char *out, size_t max)
{
	size_t i = 1, len = 0;

	if (n < 2 || p[0] != '^' || top_level_bar(p, n) != 0)
		return 0;
	while (i < n && len < max) {
		char c = p[i];
		size_t step = 1;

		if (c == '\\') {
			/* an escaped punctuation byte is itself; \d, \x41, \K... end it */
			if (i + 1 >= n || is_alnum((unsigned char)p[i + 1]) ||
			    (unsigned char)p[i + 1] < 0x20 || (unsigned char)p[i + 1] >= 0x7f)
				break;
			c = p[i + 1];
			step = 2;
		} else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f ||
		    strchr("^$.|?*+()[]{}", c) != NULL) {
			break;
		}
		/* a quantified byte may be absent or repeated: not part of it */
		if (i + step < n && strchr("?*+{", p[i + step]) != NULL)
			break;
		out[len++] = c;
		i += step;
	}
	return len;
}

/* The byte a plain literal at p[i] stands for (a byte that is not a
 * metacharacter, or an escaped punctuation byte) and the pattern bytes it
 * takes; 0 when p[i] is anything else. */
static int literal_at(const char *p, size_t n, size_t i, char *c, size_t *step)
{
	unsigned char b = (unsigned char)p[i];

	if (b == '\\') {
		if (i + 1 >= n || is_alnum((unsigned char)p[i + 1]) ||
		    (unsigned char)p[i + 1] < 0x20 || (unsigned char)p[i + 1] >= 0x7f)
			return 0;
		*c = p[i + 1];
		*step = 2;
		return 1;
	}
	if (b < 0x20 || b >= 0x7f || strchr("^$.|?*+()[]{}", b) != NULL)
		return 0;
	*c = (char)b;
	*step = 1;
	return 1;
}

static int quantifier_at(const char *p, size_t n, size_t i)
{
	return i < n && strchr("?*+{", p[i]) != NULL;
}

/* Length of a group opener at p[i] == '(' that only groups or captures:
 * "(", "(?:", "(?<name>", "(?P<name>", "(?'name'"; 0 for the others
 * (options, lookaround, atomic, verbs...). */
static size_t group_opener(const char *p, size_t n, size_t i)
{
	size_t j, start;
	char close;

	if (i + 1 < n && p[i + 1] != '?' && p[i + 1] != '*')
		return 1;
	if (i + 2 >= n || p[i + 1] != '?')
		return 0;
	if (p[i + 2] == ':')
		return 3;
	if (p[i + 2] == '<') {
		j = i + 3;
		close = '>';
	} else if (p[i + 2] == '\'') {
		j = i + 3;
		close = '\'';
	} else if (p[i + 2] == 'P' && i + 3 < n && p[i + 3] == '<') {
		j = i + 4;
		close = '>';
	} else {
		return 0;
	}
	for (start = j; j < n && (is_alnum((unsigned char)p[j]) || p[j] == '_' ||
	    p[j] == '.'); j++)
		;
	if (j == start || j >= n || p[j] != close)
		return 0; /* (?<= and (?<! end here too */
	return j + 1 - i;
}

size_t decode_literal_prefixes(const char *p, size_t n,
    char out[][DECODE_PREFIX_MAX], uint8_t *lens, size_t max)
{
	char ga[DECODE_ALTS_MAX][DECODE_PREFIX_MAX];
	uint8_t glen[DECODE_ALTS_MAX];
	size_t cnt = 1, i = 1;
	char c;
	size_t step;

	if (max == 0 || n < 2 || p[0] != '^' || top_level_bar(p, n) != 0)
		return 0;
	if (max > DECODE_ALTS_MAX)
		max = DECODE_ALTS_MAX;
	lens[0] = 0;
	while (i < n) {
		if (p[i] == '(') {
			size_t j = i + group_opener(p, n, i), na = 0;
			char tmp[DECODE_ALTS_MAX][DECODE_PREFIX_MAX];
			uint8_t tlen[DECODE_ALTS_MAX];
			size_t nt = 0;

			if (j == i)
				break;
			glen[0] = 0;
			for (;;) {
				if (j >= n) {
					na = 0;
					break;
				}
				if (p[j] == ')') {
					na++;
					break;
				}
				if (p[j] == '|') {
					if (++na >= max) {
						na = 0;
						break;
					}
					glen[na] = 0;
					j++;
					continue;
				}
				if (!literal_at(p, n, j, &c, &step) ||
				    quantifier_at(p, n, j + step)) {
					na = 0;
					break;
				}
				if (glen[na] < DECODE_PREFIX_MAX)
					ga[na][glen[na]++] = c;
				j += step;
			}
			/* not all literal, unclosed, quantified, or too many */
			if (na == 0 || quantifier_at(p, n, j + 1) || cnt * na > max)
				break;
			for (size_t e = 0; e < cnt; e++) {
				for (size_t a = 0; a < na; a++) {
					size_t l = lens[e];

					memcpy(tmp[nt], out[e], l);
					for (size_t k = 0; k < glen[a] && l < DECODE_PREFIX_MAX; k++)
						tmp[nt][l++] = ga[a][k];
					tlen[nt++] = (uint8_t)l;
				}
			}
			for (size_t e = 0; e < nt; e++) {
				memcpy(out[e], tmp[e], tlen[e]);
				lens[e] = tlen[e];
			}
			cnt = nt;
			i = j + 1;
			continue;
		}
		if (!literal_at(p, n, i, &c, &step) || quantifier_at(p, n, i + step))
			break;
		for (size_t e = 0; e < cnt; e++) {
			if (lens[e] < DECODE_PREFIX_MAX)
				out[e][lens[e]++] = c;
		}
		i += step;
	}
	for (size_t e = 0; e < cnt; e++) {
		if (lens[e] == 0)
			return 0; /* every subject starts with "" */
	}
	return cnt;
}

int decode_first_bytes(const char *p, size_t n, uint8_t set[32])
{
	size_t i = 2;
	int any = 0;

	memset(set, 0, 32);
	if (n < 4 || p[0] != '^' || p[1] != '[' || p[2] == '^' ||
	    top_level_bar(p, n) != 0)
		return 0;
	while (i < n && (p[i] != ']' || !any)) {
		unsigned char a = (unsigned char)p[i], b = a;

		if (a == '\\' || a == '[')
			return 0; /* escapes and POSIX classes: not followed */
		if (i + 2 < n && p[i + 1] == '-' && p[i + 2] != ']') {
			b = (unsigned char)p[i + 2];
			if (b == '\\' || b == '[' || b < a)
				return 0;
			i += 3;
		} else {
			i++;
		}
		for (unsigned c = a; c <= b; c++)
			set[c >> 3] |= (uint8_t)(1u << (c & 7));
		any = 1;
	}
	/* the class may be absent or its end is not seen */
	if (i >= n || (i + 1 < n && strchr("?*{", p[i + 1]) != NULL))
		return 0;
	return 1;
}

/*
 * Pattern rw[0..n) with its scratch groups (a name with '_' first:
 * matched, never kept) made non-capturing, which spares PCRE2 their
 * bookkeeping (~28 instructions per group and match), into out (n + 1
 * bytes); returns its length, or 0 to keep the pattern as written: when
 * it has no scratch group, or when anything in its text may refer to a
 * group by number or name (backreferences, subroutine calls, conditions,
 * recursion, branch resets; verbs too), as the groups after a removed
 * one are renumbered. defs lists the group definitions, in text order;
 * orig is the pattern as written (rw has '_' for '.' in group names, so
 * a name's first byte is read there).
 */
static size_t strip_scratch_groups(const char *orig, const char *rw,
    size_t n, const struct gdef *defs, size_t ndefs, char *out)
{
	static const char *const refs[] = {
		"\\g", "\\k", "(?P=", "(?P>", "(?&", "(?(", "(?R", "(?|", "(?+",
		"(*",
	};
	size_t o = 0, at = 0, nscratch = 0;

	for (size_t k = 0; k < ndefs; k++)
		nscratch += orig[defs[k].off] == '_';
	if (nscratch == 0)
		return 0;
	for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
		if (memmem(rw, n, refs[r], strlen(refs[r])) != NULL)
			return 0;
	}
	for (size_t i = 0; i + 2 < n; i++) {
		/* \1 (or an octal escape: kept too), (?1), (?-1) */
		if (rw[i] == '\\' && rw[i + 1] >= '1' && rw[i + 1] <= '9')
			return 0;
		if (rw[i] == '(' && rw[i + 1] == '?' &&
		    ((rw[i + 2] >= '0' && rw[i + 2] <= '9') || rw[i + 2] == '-'))
			return 0;
	}
	if (n >= 2 && rw[n - 2] == '\\' && rw[n - 1] >= '1' && rw[n - 1] <= '9')
		return 0;
	for (size_t k = 0; k < ndefs; k++) {
		size_t name = defs[k].off, end = name + defs[k].len, open;

		if (orig[name] != '_')
			continue;
		if (name >= 3 && (rw[name - 1] == '<' || rw[name - 1] == '\'') &&
		    rw[name - 2] == '?' && rw[name - 3] == '(')
			open = name - 3;
		else if (name >= 4 && rw[name - 1] == '<' && rw[name - 2] == 'P' &&
		    rw[name - 3] == '?' && rw[name - 4] == '(')
			open = name - 4;
		else
			return 0;
		if (open < at || end >= n || rw[end] != (rw[name - 1] == '\'' ?
		    '\'' : '>'))
			return 0;
		memcpy(out + o, rw + at, open - at);
		o += open - at;
		memcpy(out + o, "(?:", 3);
		o += 3;
		at = end + 1;
	}
	memcpy(out + o, rw + at, n - at);
	o += n - at;
	out[o] = '\0';
	return o;
}

/*
 * An anchored pattern (every branch starts with ^) is tried at the
 * subject's start only, so PCRE2's start-up checks (a minimum length, a
 * required byte searched for before matching) repeat work for every
 * subject that matches, which most do once the pre-checks let them
 * through: without them a run costs ~33 instructions less. Those checks
 * change outcomes only through backtracking verbs ((*COMMIT), (*MARK) ...)
 * and callouts, so a pattern whose text may hold either keeps them, as
 * does an unanchored pattern (for which they find where to start).
 */
static int start_checks_removable(const pcre2_code *code, const char *rw,
    size_t n)
{
	uint32_t opts = 0;

	return pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts) == 0 &&
	    (opts & PCRE2_ANCHORED) && memmem(rw, n, "(*", 2) == NULL &&
	    memmem(rw, n, "(?C", 3) == NULL;
}

/*
 * code (compiled from rw[0..n), orig as rewritten by
 * decode_rewrite_names) compiled again without its
 * scratch groups (strip_scratch_groups, into buf: n + 1 bytes) and
 * without the start-up checks (start_checks_removable), whichever apply;
 * the same matches, less PCRE2 work per run. Returns code, or its
 * replacement (code then freed).
 */
static pcre2_code *lean_code(pcre2_code *code, const char *orig,
    const char *rw, size_t n, const struct gdef *defs, size_t ndefs,
    char *buf)
{
	size_t m = strip_scratch_groups(orig, rw, n, defs, ndefs, buf);
	uint32_t nso = start_checks_removable(code, rw, n) ?
	    PCRE2_NO_START_OPTIMIZE : 0, opts = 0;
	pcre2_code *lean;
	int ec;
	PCRE2_SIZE eo;

	if (m == 0 && nso == 0)
		return code;
	lean = pcre2_compile((PCRE2_SPTR)(m > 0 ? buf : rw), m > 0 ? m : n,
	    PCRE2_NEVER_UTF | nso, &ec, &eo, NULL);
	if (lean == NULL)
		return code;
	if (nso != 0 && (pcre2_pattern_info(lean, PCRE2_INFO_ALLOPTIONS,
	    &opts) != 0 || !(opts & PCRE2_ANCHORED))) {
		pcre2_code_free(lean);
		return code;
	}
	pcre2_code_free(code);
	return lean;
}

/* A byte that stands for itself in a pattern (outside a class). */
static int plain_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && strchr("\\^$.|?*+()[]{}", c) == NULL;
}

/* A byte that a backslash makes stand for itself: ASCII punctuation. */
static int escaped_punct(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !is_alnum(c);
}

/* The byte that p[*i] (and a backslash's next byte) stands for, with *i
 * on its last byte; 0 when it is not one of those. */
static int literal_byte(const char *p, size_t n, size_t *i, unsigned char *out)
{
	unsigned char c = (unsigned char)p[*i];

	if (c == '\\') {
		if (*i + 1 >= n || !escaped_punct((unsigned char)p[*i + 1]))
			return 0;
		c = (unsigned char)p[++*i];
	} else if (!plain_byte(c)) {
		return 0;
	}
	*out = c;
	return 1;
}

/*
 * Whether pattern p[0..n) matches exactly the subjects pat's pre-check
 * lets through, so that PCRE2 need not run: '^' then bytes that stand for
 * themselves, escaped punctuation and unquantified (?:a|b) groups of
 * those, spelling the very texts of the pre-check (none cut short), or
 * '^' and one class of letters and digits. Such a pattern has no groups,
 * and nothing after its text matters (no '$').
 */
static int precheck_is_match(const char *p, size_t n, const struct dpat *pat)
{
	char texts[DECODE_ALTS_MAX][DECODE_PREFIX_MAX];
	size_t lens[DECODE_ALTS_MAX], nt = 1, i = 1;

	if (n < 2 || p[0] != '^')
		return 0;
	if (p[1] == '[') {
		for (i = 2; i < n && is_alnum((unsigned char)p[i]); i++)
			;
		return pat->has_first && i > 2 && i + 1 == n && p[i] == ']';
	}
	lens[0] = 0;
	while (i < n) {
		char alt[DECODE_ALTS_MAX][DECODE_PREFIX_MAX];
		size_t alen[DECODE_ALTS_MAX], na = 1, nn;

		alen[0] = 0;
		if (p[i] == '(') {
			/* (?:a|b|...) of plain or escaped bytes */
			if (i + 2 >= n || p[i + 1] != '?' || p[i + 2] != ':')
				return 0;
			for (i += 3; i < n && p[i] != ')'; i++) {
				unsigned char c;

				if (p[i] == '|') {
					if (na == DECODE_ALTS_MAX)
						return 0;
					alen[na++] = 0;
					continue;
				}
				if (!literal_byte(p, n, &i, &c))
					return 0;
				if (alen[na - 1] == DECODE_PREFIX_MAX)
					return 0;
				alt[na - 1][alen[na - 1]++] = (char)c;
			}
			if (i >= n)
				return 0;
			i++;
		} else {
			unsigned char c;

			if (!literal_byte(p, n, &i, &c))
				return 0;
			alt[0][0] = (char)c;
			alen[0] = 1;
			i++;
		}
		/* texts x alt, in order */
		if (nt * na > DECODE_ALTS_MAX)
			return 0;
		nn = 0;
		for (size_t t = 0; t < nt; t++) {
			for (size_t a = 0; a < na; a++) {
				if (lens[t] + alen[a] > DECODE_PREFIX_MAX)
					return 0;
				nn++;
			}
		}
		for (size_t t = nt; t-- > 0;) {
			for (size_t a = na; a-- > 0;) {
				size_t k = t * na + a;

				memmove(texts[k], texts[t], lens[t]);
				memcpy(texts[k] + lens[t], alt[a], alen[a]);
				lens[k] = lens[t] + alen[a];
			}
		}
		nt = nn;
	}
	/* the same texts as the pre-check, which PCRE2 would then confirm */
	if (pat->nalts == 0)
		return nt == 1 && pat->pfxlen == lens[0] && lens[0] > 0 &&
		    memcmp(pat->pfx, texts[0], lens[0]) == 0;
	if (pat->nalts != nt)
		return 0;
	for (size_t t = 0; t < nt; t++) {
		if (lens[t] == 0 || pat->altlen[t] != lens[t] ||
		    memcmp(pat->alt[t], texts[t], lens[t]) != 0)
			return 0;
	}
	return 1;
}

/* Compile one pattern of node into out; errors go to L. */
static void compile_pattern(struct loader *L, struct dnode *node,
    const struct ynode *pn, struct dpat *out)
{
	struct gdef *defs = NULL;
	size_t ndefs = 0;
	char *rw = NULL, *stripped = NULL, sbuf[1024];
	pcre2_code *code;
	int ec, line, col;
	PCRE2_SIZE eo;
	uint32_t capcount = 0, namecount = 0, esize = 0;
	PCRE2_SPTR table = NULL;

	memset(out, 0, sizeof(*out));
	if (pn->kind != YN_SCALAR || pn->len == 0 || (!pn->quoted && ytree_is_null(pn))) {
		lerr(L, pn, "a pattern must be a non-empty string, not %s",
		    pn->kind == YN_SCALAR ? "empty" : ytree_kind_name(pn));
		return;
	}
	rw = vg_malloc(pn->len + 1);
	decode_rewrite_names(pn->str, pn->len, rw, &defs, &ndefs);
	for (size_t a = 0; a < ndefs; a++) {
		for (size_t b = a + 1; b < ndefs; b++) {
			if (defs[a].len == defs[b].len &&
			    memcmp(rw + defs[a].off, rw + defs[b].off, defs[a].len) == 0 &&
			    memcmp(pn->str + defs[a].off, pn->str + defs[b].off,
			    defs[a].len) != 0) {
				decode_scalar_pos(L->src, L->srclen, pn, defs[b].off, &line, &col);
				lerr_at(L, line, col, "group names '%.*s' and '%.*s' "
				    "collide ('.' and '_' are the same in group names)",
				    (int)defs[a].len, pn->str + defs[a].off,
				    (int)defs[b].len, pn->str + defs[b].off);
				goto done;
			}
		}
	}
	code = pcre2_compile((PCRE2_SPTR)rw, pn->len, PCRE2_NEVER_UTF, &ec, &eo,
	    NULL);
	if (code == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		decode_scalar_pos(L->src, L->srclen, pn, eo, &line, &col);
		lerr_at(L, line, col, "bad pattern: %s (at offset %zu)",
		    (const char *)msg, (size_t)eo);
		goto done;
	}
	if (pn->len >= sizeof(sbuf))
		stripped = vg_malloc(pn->len + 1);
	code = lean_code(code, pn->str, rw, pn->len, defs, ndefs,
	    stripped != NULL ? stripped : sbuf);
	out->code = code;
	out->pfxlen = (uint32_t)decode_literal_prefix(pn->str, pn->len, out->pfx,
	    sizeof(out->pfx));
	out->nalts = (uint32_t)decode_literal_prefixes(pn->str, pn->len, out->alt,
	    out->altlen, DECODE_ALTS_MAX);
	if (out->nalts == 1) {
		/* one text, through single-branch groups: a longer prefix */
		memcpy(out->pfx, out->alt[0], out->altlen[0]);
		out->pfxlen = out->altlen[0];
		out->nalts = 0;
	} else if (out->nalts > 1) {
		out->pfxlen = 0;
	}
	if (out->pfxlen == 0 && out->nalts == 0)
		out->has_first = decode_first_bytes(pn->str, pn->len, out->first);
	out->exact = precheck_is_match(pn->str, pn->len, out);
	/* no JIT (unsupported CPU, no executable memory): the interpreter */
	out->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &capcount);
	pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &namecount);
	pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &esize);
	pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
	out->caps = namecount ? vg_calloc(namecount, sizeof(*out->caps)) : NULL;
	for (uint32_t e = 0; e < namecount; e++) {
		PCRE2_SPTR ent = table + (size_t)e * esize;
		const char *nm = (const char *)ent + 2, *orig = nm;
		size_t nlen = strlen(nm), where = 0;
		uint32_t fid;

		for (size_t k = 0; k < ndefs; k++) {
			if (defs[k].len == nlen &&
			    memcmp(rw + defs[k].off, nm, nlen) == 0) {
				orig = pn->str + defs[k].off;
				where = defs[k].off;
				break;
			}
		}
		if (orig[0] == '_')
			continue; /* scratch group: matched, not kept */
		if (!valid_field(orig, nlen)) {
			decode_scalar_pos(L->src, L->srclen, pn, where, &line, &col);
			lerr_at(L, line, col, "group '%.*s' does not name a valid "
			    "field (dotted name, or '_' first for a group that is "
			    "not kept)", (int)nlen, orig);
			continue;
		}
		if ((fid = field_intern(orig, nlen)) == FIELD_NONE) {
			lerr(L, pn, "too many field names");
			continue;
		}
		out->caps[out->ncaps].group = ((uint32_t)ent[0] << 8) | ent[1];
		out->caps[out->ncaps].field = fid;
		out->caps[out->ncaps].type = (uint8_t)type_of(node, fid);
		out->caps[out->ncaps].name = field_name(fid);
		out->caps[out->ncaps].name_len = field_name_len(fid);
		out->ncaps++;
	}
	if (capcount > L->set->max_groups)
		L->set->max_groups = capcount;
	L->set->npatterns++;
	L->set->njit += out->jit != 0;
done:
	free(defs);
	free(rw);
	free(stripped);
}

static uint32_t field_of(struct loader *L, const struct ynode *k)
{
	uint32_t fid;

	if (k->kind != YN_SCALAR || !valid_field(k->str, k->len)) {
		lerr(L, k, "'%s' is not a valid field name",
		    k->kind == YN_SCALAR ? k->str : ytree_kind_name(k));
		return FIELD_NONE;
	}
	if ((fid = field_intern(k->str, k->len)) == FIELD_NONE)
		lerr(L, k, "too many field names");
	return fid;
}

/* types: {field: number|string|lowercase}; adds to node->types (which
 * holds the inherited ones already). */
static void parse_types(struct loader *L, struct dnode *node,
    const struct ynode *tn)
{
	if (tn->kind != YN_MAP) {
		lerr(L, tn, "types must be a map of field: type, not %s",
		    ytree_kind_name(tn));
		return;
	}
	check_keys(L, tn, NULL, 0, "types");
	for (size_t i = 0; i + 1 < tn->n; i += 2) {
		const struct ynode *k = tn->items[i], *v = tn->items[i + 1];
		uint32_t fid = field_of(L, k);
		int type;
		size_t j;

		if (fid == FIELD_NONE)
			continue;
		if (ytree_is_str(v, "number"))
			type = DT_NUMBER;
		else if (ytree_is_str(v, "string"))
			type = DT_STRING;
		else if (ytree_is_str(v, "lowercase"))
			type = DT_LOWER;
		else {
			lerr(L, v, "unknown type '%s' for '%s' (expected number, "
			    "string or lowercase)", v->kind == YN_SCALAR ? v->str :
			    ytree_kind_name(v), k->str);
			continue;
		}
		for (j = 0; j < node->ntypes; j++) {
			if (node->types[j].field == fid)
				break;
		}
		if (j == node->ntypes) {
			node->types = vg_realloc(node->types,
			    (node->ntypes + 1) * sizeof(*node->types));
			node->ntypes++;
		}
		node->types[j].field = fid;
		node->types[j].type = (uint8_t)type;
	}
}

static void add_const(struct loader *L, struct dnode *node, uint32_t fid,
    const struct ynode *v)
{
	struct dconst *c;
	int type = type_of(node, fid);

	if (!is_text(v)) {
		lerr(L, v, "a field value must be a string or number, not %s",
		    v->kind == YN_SCALAR ? "empty" : ytree_kind_name(v));
		return;
	}
	node->own = vg_realloc(node->own, (node->nown + 1) * sizeof(*node->own));
	c = &node->own[node->nown];
	memset(c, 0, sizeof(*c));
	if (type == DT_NUMBER && decode_parse_num(v->str, v->len, &c->num) < 0) {
		lerr(L, v, "'%s' is not a number (its field is typed number)",
		    v->str);
		return;
	}
	c->field = fid;
	c->is_num = type == DT_NUMBER;
	c->s = vg_strndup(v->str, v->len);
	c->len = (uint32_t)v->len;
	if (type == DT_LOWER) {
		for (char *p = (char *)c->s; *p; p++)
			*p = (char)vg_lower((unsigned char)*p);
	}
	node->nown++;
}

/* fields: {field: value | [values]}; then the effective list. */
static void parse_fields(struct loader *L, struct dnode *node,
    const struct ynode *fn)
{
	if (fn->kind != YN_MAP) {
		lerr(L, fn, "fields must be a map of field: value, not %s",
		    ytree_kind_name(fn));
		return;
	}
	check_keys(L, fn, NULL, 0, "fields");
	for (size_t i = 0; i + 1 < fn->n; i += 2) {
		const struct ynode *k = fn->items[i], *v = fn->items[i + 1];
		uint32_t fid = field_of(L, k);

		if (fid == FIELD_NONE)
			continue;
		if (v->kind == YN_SEQ) {
			if (v->n == 0)
				lerr(L, v, "field '%s' has an empty list", k->str);
			for (size_t j = 0; j < v->n; j++)
				add_const(L, node, fid, v->items[j]);
		} else {
			add_const(L, node, fid, v);
		}
	}
}

/* Ancestors' constants that node does not redefine, then node's own. */
static void build_eff(struct dnode *node, const struct dnode *parent)
{
	size_t n = 0, cap = node->nown + (parent ? parent->neff : 0);

	node->eff = cap ? vg_malloc(cap * sizeof(*node->eff)) : NULL;
	for (size_t i = 0; parent != NULL && i < parent->neff; i++) {
		size_t j;

		for (j = 0; j < node->nown; j++) {
			if (node->own[j].field == parent->eff[i].field)
				break;
		}
		if (j == node->nown)
			node->eff[n++] = parent->eff[i];
	}
	for (size_t i = 0; i < node->nown; i++)
		node->eff[n++] = node->own[i];
	node->neff = n;
	node->eff_ents = n ? vg_calloc(n, sizeof(*node->eff_ents)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct dconst *c = &node->eff[i];
		struct fent *e = &node->eff_ents[i];

		e->id = c->field;
		e->next = FENT_END;
		e->name = field_name(c->field);
		e->name_len = field_name_len(c->field);
		e->v.s = c->s;
		e->v.len = c->len;
		e->v.kind = c->is_num ? V_NUM : V_STR;
		e->v.num = c->is_num ? c->num : 0;
	}
}

/* Does node or a descendant produce field fid? */
static int produces(const struct dnode *node, uint32_t fid)
{
	for (size_t i = 0; i < node->npats; i++) {
		for (uint32_t j = 0; j < node->pats[i].ncaps; j++) {
			if (node->pats[i].caps[j].field == fid)
				return 1;
		}
	}
	for (size_t i = 0; i < node->nown; i++) {
		if (node->own[i].field == fid)
			return 1;
	}
	for (size_t i = 0; i < node->nkids; i++) {
		if (produces(node->kids[i], fid))
			return 1;
	}
	return 0;
}

static uint32_t count_nodes(const struct dnode *n)
{
	uint32_t c = 1;

	for (size_t i = 0; n != NULL && i < n->nkids; i++)
		c += count_nodes(n->kids[i]);
	return c;
}

static struct lname *name_slot(struct loader *L, const char *s, uint32_t h)
{
	uint32_t i;

	if (L->names == NULL)
		return NULL;
	for (i = h & L->nmask;; i = (i + 1) & L->nmask) {
		if (L->names[i].name == NULL || (L->names[i].hash == h &&
		    strcmp(L->names[i].name, s) == 0))
			return &L->names[i];
	}
}

static void name_add(struct loader *L, const char *s, const char *where)
{
	uint32_t h = decode_hash(s, strlen(s));
	struct lname *e;

	if (L->names == NULL || (L->nnames + 1) * 2 > L->nmask + 1) {
		struct lname *old = L->names;
		uint32_t oldn = old ? L->nmask + 1 : 0;

		L->nmask = oldn ? oldn * 2 - 1 : 63;
		L->names = vg_calloc(L->nmask + 1, sizeof(*L->names));
		for (uint32_t i = 0; i < oldn; i++) {
			if (old[i].name != NULL)
				*name_slot(L, old[i].name, old[i].hash) = old[i];
		}
		free(old);
	}
	e = name_slot(L, s, h);
	e->name = vg_strdup(s);
	e->where = vg_strdup(where);
	e->hash = h;
	L->nnames++;
}

static void parse_name(struct loader *L, struct dnode *node,
    const struct ynode *map)
{
	const struct ynode *nn = ytree_get(map, "name");
	struct lname *e;

	if (nn == NULL) {
		lerr(L, map, "decoder has no name");
		return;
	}
	if (!is_text(nn) || !valid_decoder_name(nn->str, nn->len)) {
		lerr(L, nn, "a decoder name is letters, digits and ._:/+- "
		    "(at most 128)");
		return;
	}
	node->name = vg_strndup(nn->str, nn->len);
	e = name_slot(L, nn->str, decode_hash(nn->str, nn->len));
	if (e != NULL && e->name != NULL) {
		lerr(L, nn, "duplicate decoder name '%s' (first defined at %s)",
		    nn->str, e->where);
		return;
	}
	for (size_t i = 0; i < L->npend; i++) {
		if (strcmp(L->pend[i].name, nn->str) == 0) {
			lerr(L, nn, "duplicate decoder name '%s' (first defined at "
			    "line %d)", nn->str, L->pend[i].line);
			return;
		}
	}
	if (L->npend == L->cappend) {
		L->cappend = L->cappend ? L->cappend * 2 : 16;
		L->pend = vg_realloc(L->pend, L->cappend * sizeof(*L->pend));
	}
	L->pend[L->npend].name = nn->str;
	L->pend[L->npend].line = nn->line;
	L->pend[L->npend].col = nn->col;
	L->npend++;
}

static void parse_programs(struct loader *L, struct dnode *node,
    const struct ynode *pn)
{
	const struct ynode *one = pn;
	size_t n = pn->kind == YN_SEQ ? pn->n : 1;

	if (pn->kind == YN_SEQ && pn->n == 0) {
		lerr(L, pn, "programs is empty (leave it out to apply to every "
		    "program)");
		return;
	}
	node->progs = vg_calloc(n, sizeof(*node->progs));
	for (size_t i = 0; i < n; i++) {
		if (pn->kind == YN_SEQ)
			one = pn->items[i];
		if (!is_text(one) || strpbrk(one->str, " \t\r\n") != NULL) {
			lerr(L, one, "a program is a name or a glob without spaces");
			continue;
		}
		node->progs[node->nprogs++] = vg_strndup(one->str, one->len);
	}
}

/* node->prefirst and firsts: the bytes a subject that passes the pre-check
 * of one of node's patterns can start with. */
static void node_firsts(struct dnode *node)
{
	memset(node->firsts, 0, sizeof(node->firsts));
	node->prefirst = node->npats > 0;
	for (size_t i = 0; i < node->npats && node->prefirst; i++) {
		const struct dpat *p = &node->pats[i];

		if (p->pfxlen > 0) {
			node->firsts[(unsigned char)p->pfx[0] >> 3] |=
			    (uint8_t)(1u << ((unsigned char)p->pfx[0] & 7));
		} else if (p->nalts > 0) {
			for (uint32_t a = 0; a < p->nalts; a++)
				node->firsts[(unsigned char)p->alt[a][0] >> 3] |=
				    (uint8_t)(1u << ((unsigned char)p->alt[a][0] & 7));
		} else if (p->has_first) {
			for (size_t b = 0; b < 32; b++)
				node->firsts[b] |= p->first[b];
		} else {
			node->prefirst = 0;
		}
	}
}

static struct dnode *parse_decoder(struct loader *L, const struct ynode *map,
    const struct dnode *parent, int depth)
{
	struct dnode *node;
	const struct ynode *pn, *tn, *fn, *kn;

	if (map->kind != YN_MAP) {
		lerr(L, map, "a decoder is a map, not %s", ytree_kind_name(map));
		return NULL;
	}
	node = vg_calloc(1, sizeof(*node));
	check_keys(L, map, decoder_keys, VG_ARRAY_LEN(decoder_keys), "decoder");
	parse_name(L, node, map);
	if ((pn = ytree_get(map, "programs")) != NULL) {
		if (parent != NULL)
			lerr(L, pn, "programs is only allowed on top-level decoders "
			    "(children apply to their parent's programs)");
		else if (!ytree_is_null(pn))
			parse_programs(L, node, pn);
	}
	node->field = parent ? parent->field : F_MESSAGE;
	if ((fn = ytree_get(map, "field")) != NULL) {
		uint32_t fid = field_of(L, fn);

		if (fid != FIELD_NONE)
			node->field = fid;
	}
	if (parent != NULL && parent->ntypes > 0) {
		node->types = vg_malloc(parent->ntypes * sizeof(*node->types));
		memcpy(node->types, parent->types,
		    parent->ntypes * sizeof(*node->types));
		node->ntypes = parent->ntypes;
	}
	if ((tn = ytree_get(map, "types")) != NULL)
		parse_types(L, node, tn);
	if ((fn = ytree_get(map, "fields")) != NULL)
		parse_fields(L, node, fn);
	build_eff(node, parent);
	if ((pn = ytree_get(map, "patterns")) != NULL) {
		size_t n = pn->kind == YN_SEQ ? pn->n : 1;

		if (pn->kind == YN_SEQ && pn->n == 0)
			lerr(L, pn, "patterns is empty");
		node->pats = vg_calloc(n, sizeof(*node->pats));
		for (size_t i = 0; i < n; i++) {
			compile_pattern(L, node, pn->kind == YN_SEQ ? pn->items[i] : pn,
			    &node->pats[node->npats]);
			if (node->pats[node->npats].code != NULL)
				node->npats++;
		}
	}
	node_firsts(node);
	if ((kn = ytree_get(map, "children")) != NULL) {
		if (kn->kind != YN_SEQ || kn->n == 0) {
			lerr(L, kn, "children must be a non-empty list of decoders");
		} else if (depth + 1 >= DECODE_MAX_DEPTH) {
			lerr(L, kn, "decoders nested too deeply (at most %d levels)",
			    DECODE_MAX_DEPTH);
		} else {
			node->kids = vg_calloc(kn->n, sizeof(*node->kids));
			for (size_t i = 0; i < kn->n; i++) {
				struct dnode *k = parse_decoder(L, kn->items[i], node,
				    depth + 1);

				if (k != NULL)
					node->kids[node->nkids++] = k;
			}
		}
	}
	if (pn == NULL && kn == NULL)
		lerr(L, map, "decoder '%s' has neither patterns nor children",
		    node->name ? node->name : "?");
	if (tn != NULL && tn->kind == YN_MAP) {
		for (size_t i = 0; i + 1 < tn->n; i += 2) {
			const struct ynode *k = tn->items[i];
			uint32_t fid;

			if (k->kind != YN_SCALAR ||
			    (fid = field_lookup(k->str, k->len)) == FIELD_NONE)
				continue;
			if (!produces(node, fid))
				lwarn(L, k, "types: no group or field of decoder '%s' "
				    "or its children produces '%s'",
				    node->name ? node->name : "?", k->str);
		}
	}
	return node;
}

static void add_top(struct loader *L, struct dnode *top)
{
	struct decode_set *set = L->set;
	char where[600];

	if (set->ntops == L->captops) {
		L->captops = L->captops ? L->captops * 2 : 32;
		set->tops = vg_realloc(set->tops, L->captops * sizeof(*set->tops));
	}
	top->index = (uint32_t)set->ntops;
	set->tops[set->ntops++] = top;
	for (size_t i = 0; i < L->npend; i++) {
		snprintf(where, sizeof(where), "%s:%d:%d", L->file, L->pend[i].line,
		    L->pend[i].col);
		name_add(L, L->pend[i].name, where);
	}
}

static void load_doc(struct loader *L, const struct ynode *root,
    struct decode_stats *st)
{
	static const char *const root_keys[] = { "decoders" };
	const struct ynode *decs;

	if (root == NULL)
		return; /* an empty document */
	L->errors = 0;
	if (root->kind != YN_MAP) {
		lerr(L, root, "a decoder file is a map with a 'decoders' list, "
		    "not %s", ytree_kind_name(root));
		st->rejected++;
		return;
	}
	check_keys(L, root, root_keys, VG_ARRAY_LEN(root_keys), "decoder file");
	if ((decs = ytree_get(root, "decoders")) == NULL)
		lerr(L, root, "no 'decoders' list in this file");
	else if (!ytree_is_null(decs) && decs->kind != YN_SEQ)
		lerr(L, decs, "decoders must be a list, not %s",
		    ytree_kind_name(decs));
	if (L->errors) {
		st->rejected++;
		return;
	}
	for (size_t i = 0; decs->kind == YN_SEQ && i < decs->n; i++) {
		struct dnode *top;
		uint32_t n;

		L->errors = 0;
		L->npend = 0;
		top = parse_decoder(L, decs->items[i], NULL, 0);
		n = count_nodes(top);
		if (L->errors > 0 || top == NULL) {
			decode_node_free(top);
			st->rejected += (int)n;
			continue;
		}
		add_top(L, top);
		L->set->ndecoders += n;
		st->loaded += (int)n;
	}
}

static void load_file(struct loader *L, const char *path,
    struct decode_stats *st)
{
	struct vg_err err = { 0 };
	struct ydoc *docs = NULL;
	size_t ndocs = 0, len = 0;
	char *buf;

	st->files++;
	L->file = path;
	if ((buf = vg_read_file(path, &len)) == NULL) {
		vg_diag_error(L->d, path, 0, 0, "cannot read: %s", strerror(errno));
		st->rejected++;
		return;
	}
	L->src = buf;
	L->srclen = len;
	if (ytree_parse(path, buf, len, &docs, &ndocs, &err) < 0) {
		vg_diag_err(L->d, &err);
		st->rejected++;
	} else {
		for (size_t i = 0; i < ndocs; i++)
			load_doc(L, docs[i].root, st);
	}
	ytree_free_docs(docs, ndocs);
	free(buf);
	L->src = NULL;
	L->srclen = 0;
}

static int is_glob(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

static void build_index(struct decode_set *set)
{
	size_t nexact = 0, slots = 8;

	for (size_t t = 0; t < set->ntops; t++) {
		for (size_t i = 0; i < set->tops[t]->nprogs; i++)
			nexact += !is_glob(set->tops[t]->progs[i]);
	}
	while (slots < nexact * 2)
		slots *= 2;
	set->progs = vg_calloc(slots, sizeof(*set->progs));
	set->progmask = (uint32_t)slots - 1;
	for (size_t t = 0; t < set->ntops; t++) {
		struct dnode *top = set->tops[t];

		if (top->nprogs == 0) {
			set->generic = vg_realloc(set->generic,
			    (set->ngeneric + 1) * sizeof(*set->generic));
			set->generic[set->ngeneric++] = top;
			continue;
		}
		for (size_t i = 0; i < top->nprogs; i++) {
			const char *name = top->progs[i];
			size_t len = strlen(name);
			struct dprog *p;

			if (is_glob(name)) {
				set->globs = vg_realloc(set->globs,
				    (set->nglobs + 1) * sizeof(*set->globs));
				set->globs[set->nglobs].pat = name;
				set->globs[set->nglobs].top = top;
				set->nglobs++;
				continue;
			}
			if ((p = decode_prog_find(set, name, len)) == NULL) {
				uint32_t h = decode_hash(name, len), k;

				for (k = h & set->progmask; set->progs[k].name != NULL;
				    k = (k + 1) & set->progmask)
					;
				p = &set->progs[k];
				p->name = vg_strndup(name, len);
				p->len = (uint32_t)len;
				p->hash = h;
			}
			if (p->n > 0 && p->list[p->n - 1] == top)
				continue; /* the same name twice in one decoder */
			p->list = vg_realloc(p->list, (p->n + 1) * sizeof(*p->list));
			p->list[p->n++] = top;
		}
	}
}

struct decode_set *decode_load(const char *const *paths, size_t npaths,
    struct vg_diag *d, struct decode_stats *st)
{
	struct vg_diag quiet;
	struct decode_stats local;
	struct loader L;
	char **files;
	size_t nfiles = 0;
	int before;

	if (d == NULL) {
		vg_diag_init(&quiet, NULL);
		d = &quiet;
	}
	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof(*st));
	memset(&L, 0, sizeof(L));
	field_init();
	L.set = vg_calloc(1, sizeof(*L.set));
	L.set->serial = atomic_fetch_add_explicit(&set_serial, 1,
	    memory_order_relaxed) + 1;
	L.d = d;
	before = d->errors;
	files = vg_list_yaml(paths, npaths, &nfiles, d);
	st->rejected += d->errors - before; /* unreadable paths */
	for (size_t i = 0; i < nfiles; i++)
		load_file(&L, files[i], st);
	vg_free_list(files, nfiles);
	build_index(L.set);
	for (uint32_t i = 0; L.names != NULL && i <= L.nmask; i++) {
		free(L.names[i].name);
		free(L.names[i].where);
	}
	free(L.names);
	free(L.pend);
	return L.set;
}
