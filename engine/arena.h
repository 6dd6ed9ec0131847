/*
 * arena.h: per-event bump allocator. Everything an event owns (copied values,
 * decoded fields, flattened JSON names) comes from its arena, which is reset
 * after the event instead of freeing piece by piece. The first chunk is kept
 * across resets, so a steady stream of events allocates nothing.
 */
#ifndef VG_ARENA_H
#define VG_ARENA_H

#include <stddef.h>

struct arena_chunk;

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

#endif
