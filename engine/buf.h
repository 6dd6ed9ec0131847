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
/* NUL-terminate (not counted in len) and return the data. */
const char *buf_cstr(struct buf *b);

#endif
