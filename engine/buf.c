/*
 * buf.c: growable buffer and JSON string escaping; see buf.h.
 *
 * JSON strings are most of every alert line, so the escaper copies 32 or
 * 16 (SSE2) or eight bytes at a time while none of them needs attention
 * (control bytes, '"', '\\', non-ASCII), the tail of a string through an
 * overlapping window, and writes into space reserved once per string;
 * strings of up to 32 bytes are done inline (buf.h).
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void buf_init(struct buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

void buf_free(struct buf *b)
{
	free(b->p);
	buf_init(b);
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 256;
	while (b->cap < need)
		b->cap *= 2;
	b->p = vg_realloc(b->p, b->cap);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

/* The byte at s[i] that needs attention (escape, UTF-8 check) or a plain
 * one: written at *dp; returns how many input bytes it took. */
static size_t put_one(char **dp, const unsigned char *s, size_t i, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = s[i];
	char *d = *dp;

	if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
		*d++ = (char)c;
		*dp = d;
		return 1;
	}
	if (c >= 0x80) {
		size_t l = utf8_len(s + i, n - i);

		if (l == 0) {
			memcpy(d, "\xEF\xBF\xBD", 3);
			*dp = d + 3;
			return 1;
		}
		memcpy(d, s + i, l);
		*dp = d + l;
		return l;
	}
	*d++ = '\\';
	switch (c) {
	case '"': *d++ = '"'; break;
	case '\\': *d++ = '\\'; break;
	case '\n': *d++ = 'n'; break;
	case '\r': *d++ = 'r'; break;
	case '\t': *d++ = 't'; break;
	default:
		memcpy(d, "u00", 3);
		d[3] = hex[c >> 4];
		d[4] = hex[c & 15];
		d += 5;
	}
	*dp = d;
	return 1;
}


/* n (1 to 15) bytes from s to d through two overlapping loads and stores
 * of 8, 4 or 1 byte, none outside s[0..n) and d[0..n). */
static inline void copy_short(char *d, const unsigned char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else {
		d[0] = (char)s[0];
		d[n >> 1] = (char)s[n >> 1];
		d[n - 1] = (char)s[n - 1];
	}
}

int buf_json_noavx2;

/* n (1 to 31) bytes from s to d, none outside s[0..n) and d[0..n). */
static inline void copy_short32(char *d, const unsigned char *s, size_t n)
{
	if (n >= 16) {
		memcpy(d, s, 16);
		memcpy(d + n - 16, s + n - 16, 16);
	} else {
		copy_short(d, s, n);
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Bit j set when byte j of the 32 at s needs attention (as
 * buf_json_mask16). */
static inline __attribute__((always_inline, target("avx2"))) unsigned
json_mask32(const unsigned char *s)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)s);
	__m256i m = _mm256_or_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v),
	    _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')),
	    _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))));

	return (unsigned)_mm256_movemask_epi8(m);
}

/*
 * buf_json_put for strings of 32 bytes or more with AVX2: 32 bytes a
 * step, and the tail through the window of the last 32 bytes: when the
 * whole window is clean, its bytes before the tail were copied as they
 * are, so the window is stored over them; else the clean part of the
 * tail up to the next byte that needs attention is copied.
 */
static __attribute__((noinline, target("avx2"))) char *json_put_avx2(char *d,
    const unsigned char *s, size_t n)
{
	size_t i = 0;

	*d++ = '"';
	while (n - i >= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
		unsigned m = json_mask32(s + i);

		_mm256_storeu_si256((__m256i *)(void *)d, v);
		if (m == 0) {
			d += 32;
			i += 32;
			continue;
		}
		d += __builtin_ctz(m);
		i += (size_t)__builtin_ctz(m);
		i += put_one(&d, s, i, n);
	}
	while (i < n) {
		size_t rem = n - i;
		unsigned w = json_mask32(s + n - 32), m = w >> (32 - rem);

		if (w == 0) {
			_mm256_storeu_si256((__m256i *)(void *)(d - (32 - rem)),
			    _mm256_loadu_si256((const __m256i *)(const void *)(s + n - 32)));
			d += rem;
			break;
		}
		if (m == 0) {
			copy_short32(d, s + i, rem);
			d += rem;
			break;
		}
		if (__builtin_ctz(m) > 0) {
			copy_short32(d, s + i, (size_t)__builtin_ctz(m));
			d += __builtin_ctz(m);
			i += (size_t)__builtin_ctz(m);
		}
		i += put_one(&d, s, i, n);
	}
	*d++ = '"';
	return d;
}

static inline int json_avx2(void)
{
	return !buf_json_noavx2 && __builtin_cpu_supports("avx2");
}
#endif

/*
 * Most values need no escaping at all: runs of plain bytes are found 32
 * (16, 8) at a time and copied whole; the output has room for
 * BUF_JSON_MAX(n), so a store past a run's end is overwritten by what
 * follows and never leaves the reserved space.
 */
static __attribute__((noinline)) char *json_put_sse(char *d,
    const unsigned char *s, size_t n)
{
	size_t i = 0;

	*d++ = '"';
#ifdef __SSE2__
	while (n - i >= 16) {
		unsigned m;

		if (n - i >= 32) {
			__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));

			m = buf_json_mask16(a) | buf_json_mask16(b) << 16;
			_mm_storeu_si128((__m128i *)(void *)d, a);
			_mm_storeu_si128((__m128i *)(void *)(d + 16), b);
			if (m == 0) {
				d += 32;
				i += 32;
				continue;
			}
		} else {
			m = buf_json_attention16(s + i);
			memcpy(d, s + i, 16);
			if (m == 0) {
				d += 16;
				i += 16;
				continue;
			}
		}
		d += __builtin_ctz(m);
		i += (size_t)__builtin_ctz(m);
		i += put_one(&d, s, i, n);
	}
	if (i < n && n >= 16 && (buf_json_attention16(s + n - 16) >> (16 - (n - i))) == 0) {
		copy_short(d, s + i, n - i);
		d += n - i;
		i = n;
	}
#endif
	while (i < n) {
		uint64_t w, w2;

		if (n - i >= 8) {
			memcpy(&w, s + i, 8);
			if (buf_json_attention8(w) == 0) {
				memcpy(d, &w, 8);
				d += 8;
				i += 8;
				continue;
			}
		} else if (n >= 8) {
			/* the last 8 bytes overlap what is done */
			memcpy(&w2, s + n - 8, 8);
			if ((buf_json_attention8(w2) >> (8 * (8 - (n - i)))) == 0) {
				memcpy(d, s + i, n - i);
				d += n - i;
				break;
			}
		}
		if (s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
			*d++ = (char)s[i++];
		else
			i += put_one(&d, s, i, n);
	}
	*d++ = '"';
	return d;
}

/* The AVX2 or the SSE2 path, chosen per call (a tail call). */
char *buf_json_put(char *d, const char *s, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (n >= 32 && json_avx2())
		return json_put_avx2(d, (const unsigned char *)s, n);
#endif
	return json_put_sse(d, (const unsigned char *)s, n);
}

void buf_json_str(struct buf *b, const char *s, size_t n)
{
	buf_reserve(b, BUF_JSON_MAX(n));
	b->len = (size_t)(buf_json_put_inline(b->p + b->len, s, n) - b->p);
}

const char *buf_cstr(struct buf *b)
{
	buf_reserve(b, 0);
	b->p[b->len] = '\0';
	return b->p;
}
