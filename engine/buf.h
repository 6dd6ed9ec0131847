/*
 * buf.h: a growable byte buffer and the JSON string writer used by every
 * output (alerts, logtest, metrics). Appending never fails (allocation
 * aborts on exhaustion); the buffer is reused, not freed, between lines.
 */
#ifndef VG_BUF_H
#define VG_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "vg.h"

struct buf {
	char *p;
	size_t len, cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
static inline void buf_clear(struct buf *b) { b->len = 0; }
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) VG_PRINTF(2, 3);
/* Append s as a JSON string literal with quotes; invalid UTF-8 bytes are
 * replaced by U+FFFD so the output is always valid JSON. */
void buf_json_str(struct buf *b, const char *s, size_t n);
/* NUL-terminate (not counted in len) and return the data. */
const char *buf_cstr(struct buf *b);

#endif
