/*
 * arena.c: chunked bump allocator; see arena.h.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vg.h"

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c = vg_malloc(sizeof(*c) + size);

	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void arena_init(struct arena *a, size_t chunk_size)
{
	a->chunk_size = chunk_size ? chunk_size : 16384;
	a->first = a->head = chunk_new(a->chunk_size);
}

void arena_destroy(struct arena *a)
{
	struct arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = a->first = NULL;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c, *next;

	for (c = a->head; c != NULL && c != a->first; c = next) {
		next = c->next;
		free(c);
	}
	a->head = a->first;
	a->first->used = 0;
	a->first->next = NULL;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t off = (c->used + 7) & ~(size_t)7;
	void *p;

	if (n > c->size || off > c->size - n) {
		size_t size = n > a->chunk_size ? n : a->chunk_size;

		c = chunk_new(size);
		c->next = a->head;
		a->head = c;
		off = 0;
	}
	p = c->data + off;
	c->used = off + n;
	return p;
}

/* Strings need no alignment: the bump is done here, without the call,
 * when the current chunk has room (every field value of an event). */
char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	struct arena_chunk *c = a->head;
	char *p;

	if (n < c->size && c->used <= c->size - n - 1) {
		p = (char *)c->data + c->used;
		c->used += n + 1;
	} else {
		p = arena_alloc(a, n + 1);
	}

	arena_copy_short(p, s, n);
	p[n] = '\0';
	return p;
}
