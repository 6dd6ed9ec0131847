/*
 * decode_regex.c: the two text chores of compiling a decoder pattern.
 *
 * PCRE2 group names are [A-Za-z0-9_] only, while vigil's fields are
 * dotted, so a group written (?<source.ip>...) is renamed (?<source_ip>...)
 * before compilation, and references to it (\k<source.ip>, (?&source.ip),
 * (?P=source.ip)...) with it. The rename keeps every offset, so PCRE2's
 * error offsets are offsets in the pattern as written; decode_scalar_pos
 * turns such an offset into the line and column of the YAML source.
 * Literal text (escapes, \Q...\E, character classes, comments) is left
 * alone. Load time only.
 */
#include "decode_int.h"

#include <stdlib.h>
#include <string.h>

#include "ytree.h"

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static unsigned hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return 0;
}

/* Byte length of code point cp in UTF-8. */
static size_t utf8_len(unsigned long cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Length of the YAML line break at p (\n, \r\n, \r, NEL, LS, PS), or 0. */
static size_t line_break(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;

	if (p >= end)
		return 0;
	if (*u == '\n')
		return 1;
	if (*u == '\r')
		return p + 1 < end && u[1] == '\n' ? 2 : 1;
	if (*u == 0xC2 && p + 1 < end && u[1] == 0x85)
		return 2;
	if (*u == 0xE2 && p + 2 < end && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9))
		return 3;
	return 0;
}

/* Start of the line after the one p is in, or NULL at the end. */
static const char *next_line(const char *p, const char *end)
{
	size_t b;

	for (; p < end; p++) {
		if ((b = line_break(p, end)) != 0)
			return p + b;
	}
	return NULL;
}

/*
 * Line and column in the source of byte `off` of scalar sn's value, so a
 * regex error points at the offending character. Handles one-line plain,
 * single- and double-quoted scalars and literal (|) blocks; anything else
 * points at the scalar's start.
 */
void decode_scalar_pos(const char *src, size_t srclen, const struct ynode *sn,
    size_t off, int *line, int *col)
{
	const char *end = src + srclen, *lp = src, *q, *i;
	size_t v = 0, base;
	int l = sn->line, c = 0;

	*line = sn->line;
	*col = sn->col;
	if (src == NULL || sn->kind != YN_SCALAR || off > sn->len)
		return;
	for (int ln = 1; ln < sn->line; ln++) {
		if ((lp = next_line(lp, end)) == NULL)
			return;
	}
	/* libyaml counts columns in characters; walk them as UTF-8 */
	q = lp;
	for (int k = 1; k < sn->col && q < end; k++) {
		q++;
		while (q < end && ((unsigned char)*q & 0xC0) == 0x80)
			q++;
	}
	if (q >= end)
		return;
	base = (size_t)(q - lp) + 1;
	if (!sn->quoted) {
		if (off > (size_t)(end - q))
			return;
		for (i = q; i < q + off; i++) {
			if (line_break(i, end))
				return;
		}
		c = (int)(base + off);
	} else if (*q == '\'' || *q == '"') {
		char quote = *q;

		for (i = q + 1; v < off; v++) {
			if (i >= end || line_break(i, end))
				return;
			if (quote == '\'' && *i == '\'') {
				if (i + 1 < end && i[1] == '\'')
					i += 2;
				else
					return;
			} else if (quote == '"' && *i == '\\' && i + 1 < end) {
				if (i[1] == 'x') {
					i += 4;
				} else if (i[1] == 'u' || i[1] == 'U') {
					size_t nd = i[1] == 'u' ? 4 : 8;
					unsigned long cp = 0;

					for (size_t h = 0; h < nd && i + 2 + h < end; h++)
						cp = cp * 16 + hex_val(i[2 + h]);
					v += utf8_len(cp) - 1;
					i += 2 + nd;
				} else {
					i += 2;
				}
			} else if (quote == '"' && *i == '"') {
				return;
			} else {
				i++;
			}
		}
		c = (int)(base + (size_t)(i - q));
	} else if (*q == '|') {
		/* literal block: value line k is source line sn->line + 1 + k */
		const char *val = sn->str, *ls = val, *sl = lp;
		int k = 0, srcind = 0, valind = 0;

		for (size_t j = 0; j < off; j++) {
			if (val[j] == '\n') {
				k++;
				ls = val + j + 1;
			}
		}
		for (int m = 0; m <= k; m++) {
			if ((sl = next_line(sl, end)) == NULL)
				return;
		}
		while (sl + srcind < end && sl[srcind] == ' ')
			srcind++;
		while (ls[valind] == ' ')
			valind++;
		l = sn->line + 1 + k;
		c = srcind - valind + (int)(val + off - ls) + 1;
	}
	/* a source the walk above misread (tabs, odd breaks): keep the
	 * scalar's own position */
	if (c >= 1 && l >= 1) {
		*line = l;
		*col = c;
	}
}

/* Copy the name at p[k..) up to `term`, turning '.' into '_' in out;
 * record it in defs when it is a definition. Returns where it ended. */
static size_t scan_name(const char *p, size_t n, char *out, size_t k, char term,
    struct gdef **defs, size_t *ndefs)
{
	size_t start = k;

	while (k < n && p[k] != term &&
	    (is_alnum((unsigned char)p[k]) || p[k] == '_' || p[k] == '.')) {
		if (p[k] == '.')
			out[k] = '_';
		k++;
	}
	if (defs != NULL && k > start) {
		*defs = vg_realloc(*defs, (*ndefs + 1) * sizeof(**defs));
		(*defs)[*ndefs].off = start;
		(*defs)[*ndefs].len = k - start;
		(*ndefs)++;
	}
	return k;
}

/* Index just past the character class that starts at p[i] == '['. */
static size_t skip_class(const char *p, size_t n, size_t i)
{
	size_t k = i + 1;

	if (k < n && p[k] == '^')
		k++;
	if (k < n && p[k] == ']')
		k++; /* a leading ']' is literal */
	while (k < n) {
		if (p[k] == '\\') {
			k += 2;
		} else if (p[k] == '[' && k + 1 < n && p[k + 1] == ':') {
			const char *e = memmem(p + k + 2, n - k - 2, ":]", 2);

			k = e ? (size_t)(e - p) + 2 : n;
		} else if (p[k] == ']') {
			return k + 1;
		} else {
			k++;
		}
	}
	return n;
}

/*
 * out = p with '.' turned into '_' inside group names (definitions and
 * references), same length; defs lists where each group is defined.
 * Literal text (escapes, \Q..\E, classes, comments) is left alone.
 */
void decode_rewrite_names(const char *p, size_t n, char *out,
    struct gdef **defs, size_t *ndefs)
{
	size_t i = 0, j;

	memcpy(out, p, n);
	out[n] = '\0';
	while (i < n) {
		if (p[i] == '\\') {
			if (i + 1 < n && p[i + 1] == 'Q') {
				const char *e = memmem(p + i + 2, n - i - 2, "\\E", 2);

				i = e ? (size_t)(e - p) + 2 : n;
			} else if (i + 2 < n && p[i + 1] == 'k' &&
			    (p[i + 2] == '<' || p[i + 2] == '\'' || p[i + 2] == '{')) {
				char t = p[i + 2] == '<' ? '>' : p[i + 2] == '{' ? '}' : '\'';

				i = scan_name(p, n, out, i + 3, t, NULL, NULL);
			} else if (i + 3 < n && p[i + 1] == 'g' && p[i + 2] == '{' &&
			    !(p[i + 3] >= '0' && p[i + 3] <= '9') && p[i + 3] != '-' &&
			    p[i + 3] != '+') {
				i = scan_name(p, n, out, i + 3, '}', NULL, NULL);
			} else {
				i += 2;
			}
			continue;
		}
		if (p[i] == '[') {
			i = skip_class(p, n, i);
			continue;
		}
		if (p[i] != '(' || i + 2 >= n || p[i + 1] != '?') {
			i++;
			continue;
		}
		j = i + 2;
		if (p[j] == '#') {
			const char *e = memchr(p + j, ')', n - j);

			i = e ? (size_t)(e - p) + 1 : n;
		} else if (p[j] == '<' && j + 1 < n && p[j + 1] != '=' &&
		    p[j + 1] != '!') {
			i = scan_name(p, n, out, j + 1, '>', defs, ndefs);
		} else if (p[j] == '\'') {
			i = scan_name(p, n, out, j + 1, '\'', defs, ndefs);
		} else if (p[j] == 'P' && j + 1 < n && p[j + 1] == '<') {
			i = scan_name(p, n, out, j + 2, '>', defs, ndefs);
		} else if (p[j] == 'P' && j + 1 < n && (p[j + 1] == '=' || p[j + 1] == '>')) {
			i = scan_name(p, n, out, j + 2, ')', NULL, NULL);
		} else if (p[j] == '&') {
			i = scan_name(p, n, out, j + 1, ')', NULL, NULL);
		} else if (p[j] == '(' && j + 1 < n) {
			j++;
			if (p[j] == '<')
				i = scan_name(p, n, out, j + 1, '>', NULL, NULL);
			else if (p[j] == '\'')
				i = scan_name(p, n, out, j + 1, '\'', NULL, NULL);
			else if (p[j] == 'R' && j + 1 < n && p[j + 1] == '&')
				i = scan_name(p, n, out, j + 2, ')', NULL, NULL);
			else if (!(p[j] >= '0' && p[j] <= '9') && p[j] != '?' &&
			    p[j] != '*' && p[j] != '+' && p[j] != '-')
				i = scan_name(p, n, out, j, ')', NULL, NULL);
			else
				i = j;
		} else {
			i = j;
		}
	}
}
