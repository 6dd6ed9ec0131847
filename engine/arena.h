/*
 * arena.h: per-event bump allocator. Everything an event owns (copied values,
 * decoded fields, flattened JSON names) comes from its arena, which is reset
 * after the event instead of freeing piece by piece. The first chunk is kept
 * across resets, so a steady stream of events allocates nothing.
 */
#ifndef VG_ARENA_H
#define VG_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A chunk; visible for the inline fast path of arena_strdup_in, which the
 * event's adders run for every field value. */
struct arena_chunk {
	struct arena_chunk *next; /* older chunk */
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_chunk *head;  /* current chunk */
	struct arena_chunk *first; /* kept on reset */
	size_t chunk_size;
};

void arena_init(struct arena *a, size_t chunk_size);
void arena_destroy(struct arena *a);
/* Forget every allocation; keeps the first chunk. */
void arena_reset(struct arena *a);
/* Aligned to 8; never NULL. */
void *arena_alloc(struct arena *a, size_t n);
/* Copy of s[0..n) with a NUL after it. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* arena_alloc, inlined where it runs per event: the bump in place when
 * the current chunk has room. */
static inline void *arena_alloc_in(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t off = (c->used + 7) & ~(size_t)7;

	if (n > c->size || off > c->size - n)
		return arena_alloc(a, n);
	c->used = off + n;
	return c->data + off;
}

/* memcpy for field values, most of them a few bytes long: overlapping
 * words up to 16 bytes, no call. */
static inline void arena_copy_short(char *d, const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n < 4) {
		/* 1 to 3 bytes: first, middle and last, overlapping */
		if (n != 0) {
			d[0] = s[0];
			d[n >> 1] = s[n >> 1];
			d[n - 1] = s[n - 1];
		}
	} else {
		memcpy(d, s, n);
	}
}

/* arena_strndup, inlined where it runs per field: the bump is done in
 * place when the current chunk has room, else arena_strndup does it. */
static inline char *arena_strdup_in(struct arena *a, const char *s, size_t n)
{
	struct arena_chunk *c = a->head;
	char *p;

	/* room for n + 1 bytes (c->used never exceeds c->size) */
	if (c->size - c->used <= n)
		return arena_strndup(a, s, n);
	p = (char *)c->data + c->used;
	c->used += n + 1;
	arena_copy_short(p, s, n);
	p[n] = '\0';
	return p;
}

#endif
