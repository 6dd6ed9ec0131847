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

/* buf_json_put with the common case inline: a string of 1 to 16 bytes
 * that needs no escaping is checked and copied through two overlapping
 * words. Same room, same bytes. */
static inline char *buf_json_put_inline(char *d, const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		if ((buf_json_attention8(a) | buf_json_attention8(b)) == 0) {
			d[0] = '"';
			memcpy(d + 1, &a, 8);
			memcpy(d + 1 + n - 8, &b, 8);
			d[n + 1] = '"';
			return d + n + 2;
		}
	} else if (n >= 4 && n < 8) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		if (buf_json_attention8((uint64_t)x | (uint64_t)y << 32) == 0) {
			d[0] = '"';
			memcpy(d + 1, &x, 4);
			memcpy(d + 1 + n - 4, &y, 4);
			d[n + 1] = '"';
			return d + n + 2;
		}
	}
	return buf_json_put(d, s, n);
}

/* NUL-terminate (not counted in len) and return the data. */
const char *buf_cstr(struct buf *b);

#endif
