/*
 * detect_value.c: Sigma string values and the modifiers that transform
 * them: wildcard and escape parsing, base64, base64offset, UTF-16 and
 * windash. Load time only; the results are plain byte strings with
 * wildcard tokens, which detect_sel.c turns into patterns.
 */
#include "detect_int.h"

#include <stdlib.h>
#include <string.h>

#define WINDASH_MAX_VARIANTS 3125 /* five dashes in one value */

/* ---- Sigma strings ---- */

void detect_sstr_parse(const char *s, size_t len, struct sstr *out)
{
	out->t = vg_malloc((len + 1) * sizeof(*out->t));
	out->n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' && i + 1 < len && (s[i + 1] == '*' ||
		    s[i + 1] == '?' || s[i + 1] == '\\')) {
			/* \* \? \\ are the escaped characters; any other
			 * backslash is itself */
			out->t[out->n++] = (unsigned char)s[++i];
		} else if (c == '*') {
			out->t[out->n++] = TOK_STAR;
		} else if (c == '?') {
			out->t[out->n++] = TOK_QMARK;
		} else {
			out->t[out->n++] = c;
		}
	}
}

static void sstr_from_bytes(struct sstr *out, const unsigned char *b, size_t n)
{
	out->t = vg_malloc((n + 1) * sizeof(*out->t));
	for (size_t i = 0; i < n; i++)
		out->t[i] = b[i];
	out->n = (uint32_t)n;
}

int detect_sstr_has_wild(const struct sstr *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->t[i] >= 256)
			return 1;
	}
	return 0;
}

void detect_slist_push(struct slist *l, struct sstr s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = vg_realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = s;
}

void detect_slist_free(struct slist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].t);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding; out holds 4 * ((n + 2) / 3) bytes. */
static size_t b64_encode(const unsigned char *in, size_t n, unsigned char *out)
{
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = (unsigned char)b64chars[v >> 18];
		out[o++] = (unsigned char)b64chars[(v >> 12) & 63];
		out[o++] = (unsigned char)b64chars[(v >> 6) & 63];
		out[o++] = (unsigned char)b64chars[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = (unsigned char)b64chars[v >> 18];
		out[o++] = (unsigned char)b64chars[(v >> 12) & 63];
		out[o++] = i + 1 < n ? (unsigned char)b64chars[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

static unsigned char *sstr_bytes(const struct sstr *s)
{
	unsigned char *b = vg_malloc(s->n + 1);

	for (uint32_t i = 0; i < s->n; i++)
		b[i] = (unsigned char)s->t[i];
	return b;
}

void detect_xf_base64(const struct sstr *in, struct slist *out)
{
	unsigned char *b = sstr_bytes(in);
	unsigned char *e = vg_malloc(4 * ((in->n + 2) / 3) + 4);
	struct sstr s;

	sstr_from_bytes(&s, e, b64_encode(b, in->n, e));
	detect_slist_push(out, s);
	free(b);
	free(e);
}

/*
 * The value may sit at any of three byte offsets of the encoded text; for
 * each, encode it behind 0..2 filler bytes and keep only the characters
 * that depend on the value alone (drop those mixed with the filler before
 * or with unknown bytes after).
 */
void detect_xf_base64offset(const struct sstr *in, struct slist *out)
{
	static const size_t start[3] = { 0, 2, 3 };
	unsigned char *b = vg_malloc(in->n + 3);
	unsigned char *e = vg_malloc(4 * ((in->n + 4) / 3) + 4);

	for (size_t shift = 0; shift < 3; shift++) {
		size_t n = in->n + shift, elen, end;
		struct sstr s;

		memset(b, ' ', shift);
		for (uint32_t i = 0; i < in->n; i++)
			b[shift + i] = (unsigned char)in->t[i];
		elen = b64_encode(b, n, e);
		switch (n % 3) {
		case 0:
			end = elen;
			break;
		case 1:
			end = elen - 3;
			break;
		default:
			end = elen - 2;
			break;
		}
		if (end < start[shift])
			end = start[shift];
		sstr_from_bytes(&s, e + start[shift], end - start[shift]);
		detect_slist_push(out, s);
	}
	free(b);
	free(e);
}

/* Decode one UTF-8 character; -1 if invalid. */
static long utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];
	long cp;
	size_t len, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xC2 && c < 0xE0) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c < 0xF0) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c < 0xF5) {
		len = 4;
		cp = c & 0x07;
	} else {
		return -1;
	}
	if (*i + len > n)
		return -1;
	for (k = 1; k < len; k++) {
		if ((s[*i + k] & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (s[*i + k] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*i += len;
	return cp;
}

int detect_xf_utf16(const struct sstr *in, int be, int bom, struct slist *out)
{
	unsigned char *b = sstr_bytes(in);
	unsigned char *e = vg_malloc(in->n * 4 + 2);
	size_t i = 0, o = 0;
	struct sstr s;

	if (bom) { /* byte order mark, then little endian */
		e[o++] = 0xFF;
		e[o++] = 0xFE;
	}
	while (i < in->n) {
		long cp = utf8_next(b, in->n, &i);
		unsigned units[2], nu = 0;

		if (cp < 0) {
			free(b);
			free(e);
			return -1;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			units[nu++] = 0xD800 | (unsigned)(cp >> 10);
			units[nu++] = 0xDC00 | (unsigned)(cp & 0x3FF);
		} else {
			units[nu++] = (unsigned)cp;
		}
		for (unsigned u = 0; u < nu; u++) {
			e[o++] = (unsigned char)(be ? units[u] >> 8 : units[u] & 0xFF);
			e[o++] = (unsigned char)(be ? units[u] & 0xFF : units[u] >> 8);
		}
	}
	sstr_from_bytes(&s, e, o);
	detect_slist_push(out, s);
	free(b);
	free(e);
	return 0;
}

static int is_word(uint16_t t)
{
	if (t >= 256)
		return 0;
	return (t >= 'a' && t <= 'z') || (t >= 'A' && t <= 'Z') ||
	    (t >= '0' && t <= '9') || t == '_' || t >= 0x80;
}

/*
 * Windows accepts -, /, en dash, em dash and horizontal bar in front of a
 * command line flag: a dash or slash that starts a word (not preceded by a
 * word character, followed by one) takes each of the five forms.
 */
int detect_xf_windash(const struct sstr *in, struct slist *out)
{
	static const char *const dashes[5] = { "-", "/", "\xe2\x80\x93",
	    "\xe2\x80\x94", "\xe2\x80\x95" };
	uint32_t pos[16], npos = 0;
	size_t variants = 1;

	for (uint32_t i = 0; i < in->n; i++) {
		if ((in->t[i] == '-' || in->t[i] == '/') &&
		    (i == 0 || !is_word(in->t[i - 1])) &&
		    i + 1 < in->n && is_word(in->t[i + 1])) {
			if (npos == VG_ARRAY_LEN(pos))
				return -1;
			pos[npos++] = i;
			variants *= 5;
			if (variants > WINDASH_MAX_VARIANTS)
				return -1;
		}
	}
	for (size_t v = 0; v < variants; v++) {
		struct sstr s;
		size_t code = v;
		uint32_t p = 0;

		s.t = vg_malloc((in->n + 2 * npos + 1) * sizeof(*s.t));
		s.n = 0;
		for (uint32_t i = 0; i < in->n; i++) {
			if (p < npos && pos[p] == i) {
				const char *d = dashes[code % 5];

				code /= 5;
				p++;
				while (*d)
					s.t[s.n++] = (unsigned char)*d++;
			} else {
				s.t[s.n++] = in->t[i];
			}
		}
		detect_slist_push(out, s);
	}
	return 0;
}
