/*
 * test_event.c: the inline adder (vg_event_push), vg_event_reserve,
 * vg_event_reset's shortcut and the arena's inline copy and allocation.
 */
#include "unit.h"
#include "../../engine/arena.h"
#include "../../engine/event.h"

/* Every length the inline copy treats apart (0..3 bytewise, 4..7 and 8..16
 * in overlapping words, longer by memcpy) comes back whole and ends in a
 * NUL; a copy that does not fit the chunk goes to a new one. */
TEST(arena_strdup_in_lengths_and_chunks)
{
	static const char src[] = "0123456789abcdefghijklmnopqrstuvwxyz0123456789";
	struct arena a;
	char *p, *q;

	arena_init(&a, 64);
	for (size_t n = 0; n < sizeof(src); n++) {
		p = arena_strdup_in(&a, src, n);
		CHECK(memcmp(p, src, n) == 0);
		CHECK_INT(p[n], '\0');
	}
	/* bigger than a chunk */
	p = arena_strdup_in(&a, src, sizeof(src) - 1);
	CHECK_STR(p, src);
	arena_reset(&a);
	p = arena_strdup_in(&a, "abc", 3);
	CHECK_STR(p, "abc");
	/* 47 and 17 bytes (NULs counted) fill the 64 exactly; then a new chunk */
	arena_reset(&a);
	p = arena_strdup_in(&a, src, 46);
	CHECK(memcmp(p, src, 46) == 0);
	q = arena_strdup_in(&a, "0123456789abcdef", 16);
	CHECK_STR(q, "0123456789abcdef");
	CHECK_INT(q - p, 47); /* in place: exactly the room left */
	p = arena_strdup_in(&a, "", 0); /* no room for its NUL: a new chunk */
	CHECK_STR(p, "");
	CHECK(p < q || p >= q + 17);
	p = arena_strdup_in(&a, "x", 1);
	CHECK_STR(p, "x");
	arena_destroy(&a);
}

/* arena_copy_short writes exactly n bytes, for every n it treats apart. */
TEST(arena_copy_short_writes_n_bytes)
{
	static const char src[] = "abcdefghijklmnopqrstuvwxyz";
	char d[40];

	for (size_t n = 0; n <= 20; n++) {
		memset(d, '#', sizeof(d));
		arena_copy_short(d + 4, src, n);
		CHECK(memcmp(d + 4, src, n) == 0);
		for (size_t i = 0; i < sizeof(d); i++)
			if (i < 4 || i >= 4 + n)
				CHECK_INT(d[i], '#');
	}
}

/* arena_alloc_in: aligned to 8 like arena_alloc, in place while the chunk
 * has room, from a new chunk after. */
TEST(arena_alloc_in_aligns_and_grows)
{
	struct arena a;
	char *p, *q;

	arena_init(&a, 64);
	p = arena_strdup_in(&a, "abc", 3); /* 4 bytes: the next is at 8 */
	q = arena_alloc_in(&a, 32);
	CHECK(((uintptr_t)q & 7) == 0);
	CHECK_INT(q - p, 8);
	memset(q, 'x', 32);
	CHECK_STR(p, "abc");
	p = arena_alloc_in(&a, 24); /* 40 + 24: exactly full */
	CHECK_INT(p - q, 32);
	q = arena_alloc_in(&a, 1); /* no room: a new chunk */
	CHECK(q < p || q >= p + 24);
	CHECK(((uintptr_t)q & 7) == 0);
	q = arena_alloc_in(&a, 100); /* bigger than a chunk */
	memset(q, 'y', 100);
	arena_reset(&a);
	CHECK(arena_alloc_in(&a, 8) == (void *)a.first->data);
	arena_destroy(&a);
}

/* vg_event_push makes the entries vg_event_add_ref makes (but for the
 * name, given): chained after the field's earlier values, the kind and
 * number kept, the text referenced; past the entries' capacity too. */
TEST(event_push)
{
	static const char port_txt[] = "22";
	struct vg_event *ev = vg_event_new();
	uint32_t user = field_intern("user.name", 9);
	uint32_t port = field_intern("source.port", 11);
	const char *un = field_name(user);
	uint32_t unl = field_name_len(user);
	uint32_t i;
	int n;

	vg_event_add(ev, user, "root", 4);
	CHECK_INT(vg_event_push(ev, user, un, unl, "bob", 3, V_STR, 0), 1);
	CHECK_INT(vg_event_push(ev, port, field_name(port), field_name_len(port),
	    port_txt, 2, V_NUM, 22), 2);
	CHECK_INT(ev->n, 3);
	CHECK_STR(vg_event_str(ev, user), "root");
	i = vg_event_first(ev, user);
	CHECK_INT(ev->ents[i].next, 1);
	CHECK_STR(ev->ents[1].v.s, "bob");
	CHECK_INT(ev->ents[1].v.len, 3);
	CHECK_INT(ev->ents[1].next, FENT_END);
	CHECK_INT(ev->ents[1].dead, 0);
	CHECK(ev->ents[1].name == un);
	CHECK_INT(ev->ents[1].name_len, 9);
	CHECK(vg_event_get(ev, port)->s == port_txt);
	CHECK_INT(vg_event_get(ev, port)->kind, V_NUM);
	CHECK(vg_event_get(ev, port)->num == 22);
	/* a name not interned: no index, kept in order */
	vg_event_push(ev, FIELD_NONE, "x.y", 3, "v", 1, V_STR, 0);
	CHECK_INT(ev->ents[3].id, FIELD_NONE);
	CHECK_INT(ev->ents[3].next, FENT_END);
	/* past the capacity (64 at first) */
	for (int k = 0; k < 120; k++)
		vg_event_push(ev, user, un, unl, "u", 1, V_STR, 0);
	CHECK_INT(ev->n, 124);
	CHECK(ev->cap >= 124);
	n = 0;
	for (i = vg_event_first(ev, user); i != FENT_END; i = ev->ents[i].next) {
		CHECK(!ev->ents[i].dead);
		n++;
	}
	CHECK_INT(n, 122);
	vg_event_add(ev, user, "last", 4);
	CHECK_INT(ev->ents[ev->n - 2].next, ev->n - 1);
	/* room made ahead: the entries stay where they are */
	{
		struct fent *at = vg_event_reserve(ev, 200);

		CHECK(at == ev->ents + ev->n);
		CHECK(ev->cap - ev->n >= 200);
	}
	vg_event_reset(ev);
	CHECK(vg_event_str(ev, user) == NULL);
	vg_event_push(ev, user, un, unl, "again", 5, V_STR, 0);
	CHECK_STR(vg_event_str(ev, user), "again");
	CHECK_INT(ev->ents[vg_event_first(ev, user)].next, FENT_END);
	vg_event_free(ev);
}

/* vg_event_reset keeps the first arena chunk whether or not the event
 * needed more; the values after it come from the start again. */
TEST(event_reset_after_big_values)
{
	struct vg_event *ev = vg_event_new();
	char big[40000];
	const char *a, *b;

	memset(big, 'x', sizeof(big));
	vg_event_add(ev, F_MESSAGE, "small", 5);
	a = vg_event_str(ev, F_MESSAGE);
	vg_event_reset(ev);
	vg_event_add(ev, F_MESSAGE, "small", 5);
	CHECK(vg_event_str(ev, F_MESSAGE) == a);
	vg_event_add(ev, F_MESSAGE, big, sizeof(big));
	CHECK_INT(ev->ents[1].v.len, sizeof(big));
	vg_event_reset(ev);
	vg_event_add(ev, F_MESSAGE, "again", 5);
	b = vg_event_str(ev, F_MESSAGE);
	CHECK(b == a);
	CHECK_STR(b, "again");
	vg_event_free(ev);
}

int main(void)
{
	RUN(arena_strdup_in_lengths_and_chunks);
	RUN(arena_copy_short_writes_n_bytes);
	RUN(arena_alloc_in_aligns_and_grows);
	RUN(event_push);
	RUN(event_reset_after_big_values);
	return unit_done();
}
