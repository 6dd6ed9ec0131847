/*
 * buf.h: a growable byte buffer and the JSON string writer used by every
 * output (alerts, logtest, metrics). Appending never fails (allocation
 * aborts on exhaustion); the buffer is reused, not freed, between lines.
 */
#ifndef VG_BUF_H
#define VG_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "vg.h"

struct buf {
	char *p;
	size_t len, cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
static inline void buf_clear(struct buf *b) { b->len = 0; }
/* Grow so that extra more bytes and a NUL fit. */
void buf_grow(struct buf *b, size_t extra);

static inline void buf_reserve(struct buf *b, size_t extra)
{
	if (b->cap - b->len <= extra)
		buf_grow(b, extra);
}

/* Appenders are inline: they run per byte run of every alert line. */
static inline void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void buf_addc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->p[b->len++] = c;
}

static inline void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...) VG_PRINTF(2, 3);
/* Append s as a JSON string literal with quotes; invalid UTF-8 bytes are
 * replaced by U+FFFD so the output is always valid JSON. */
void buf_json_str(struct buf *b, const char *s, size_t n);
/* Room buf_json_put may need for n bytes: quotes, 6 bytes a byte (\u00XX). */
#define BUF_JSON_MAX(n) (6 * (size_t)(n) + 2)
/* buf_json_str's bytes written at d, which has room for BUF_JSON_MAX(n);
 * returns the end of what was written. For callers that reserve once for
 * a whole line. */
char *buf_json_put(char *d, const char *s, size_t n);
/* Tests: nonzero keeps buf_json_put off its AVX2 path (strings of 32
 * bytes or more on a CPU that has it), for the SSE2 one. */
extern int buf_json_noavx2;
/* Nonzero when one of the 8 bytes of w needs attention in a JSON string
 * (a control byte, '"', '\\', or >= 0x80): the "has a byte less than n"
 * test (x - n*ones) & ~x & highs, for < 0x20 and for zero after an xor;
 * exact for the word as a whole (a borrow can only flag bytes above a
 * byte that is flagged rightly). */
static inline uint64_t buf_json_attention8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
	    ((bs - ones) & ~bs) | w) & (ones * 0x80);
}

#ifdef __SSE2__
/* Bit j set when byte j of v needs attention: a signed compare below 0x20
 * catches control bytes and (as negative) bytes >= 0x80. */
static inline unsigned buf_json_mask16(__m128i v)
{
	__m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

	return (unsigned)_mm_movemask_epi8(m);
}

/* The same for the 16 bytes at s. */
static inline unsigned buf_json_attention16(const void *s)
{
	return buf_json_mask16(_mm_loadu_si128((const __m128i *)s));
}
#endif

/*
 * buf_json_put with the common cases inline: a string of up to 32 bytes
 * that needs no escaping is checked and copied through two overlapping
 * loads and stores (three single bytes below 4), touching no byte outside
 * s[0..n) nor outside the room of the output. Same room, same bytes.
 */
#define BUF_ALWAYS_INLINE static inline __attribute__((always_inline))

BUF_ALWAYS_INLINE char *buf_json_put_inline(char *d, const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8) {
		if (n <= 16) {
			memcpy(&a, s, 8);
			memcpy(&b, s + n - 8, 8);
#ifdef __SSE2__
			if (buf_json_mask16(_mm_set_epi64x((long long)b, (long long)a)) == 0) {
#else
			if ((buf_json_attention8(a) | buf_json_attention8(b)) == 0) {
#endif
				d[0] = '"';
				memcpy(d + 1, &a, 8);
				memcpy(d + 1 + n - 8, &b, 8);
				d[n + 1] = '"';
				return d + n + 2;
			}
		}
#ifdef __SSE2__
		else if (n <= 32) {
			__m128i u = _mm_loadu_si128((const __m128i *)(const void *)s);
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));

			if ((buf_json_mask16(u) | buf_json_mask16(v)) == 0) {
				d[0] = '"';
				_mm_storeu_si128((__m128i *)(void *)(d + 1), u);
				_mm_storeu_si128((__m128i *)(void *)(d + 1 + n - 16), v);
				d[n + 1] = '"';
				return d + n + 2;
			}
		}
#endif
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
#ifdef __SSE2__
		/* the upper 8 bytes are zero: only the lower 8 count */
		if ((buf_json_mask16(_mm_cvtsi64_si128((long long)((uint64_t)x |
		    (uint64_t)y << 32))) & 0xff) == 0) {
#else
		if (buf_json_attention8((uint64_t)x | (uint64_t)y << 32) == 0) {
#endif
			d[0] = '"';
			memcpy(d + 1, &x, 4);
			memcpy(d + 1 + n - 4, &y, 4);
			d[n + 1] = '"';
			return d + n + 2;
		}
	} else if (n > 0) {
		/* first, middle and last byte: all of a string of 1 to 3; the
		 * word's other bytes are plain 'a' */
		unsigned char c0 = (unsigned char)s[0], c1 = (unsigned char)s[n >> 1];
		unsigned char c2 = (unsigned char)s[n - 1];

		if (buf_json_attention8(0x6161616161000000ULL | (uint64_t)c2 << 16 |
		    (uint64_t)c1 << 8 | c0) == 0) {
			d[0] = '"';
			d[1] = (char)c0;
			d[1 + (n >> 1)] = (char)c1;
			d[n] = (char)c2;
			d[n + 1] = '"';
			return d + n + 2;
		}
	} else {
		d[0] = d[1] = '"';
		return d + 2;
	}
	return buf_json_put(d, s, n);
}

/* NUL-terminate (not counted in len) and return the data. */
const char *buf_cstr(struct buf *b);

#endif
