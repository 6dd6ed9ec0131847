/*
 * test_event.c: the event adders that fill entries in place
 * (vg_event_reserve / vg_event_commit) and the arena's inline copy.
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
	char *p;

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
	p = arena_strdup_in(&a, "0123456789abcdef", 16);
	CHECK_STR(p, "0123456789abcdef");
	p = arena_strdup_in(&a, "x", 1);
	CHECK_STR(p, "x");
	arena_destroy(&a);
}

static void fill(struct fent *e, uint32_t id, const char *s, uint8_t kind,
    double num)
{
	e->id = id;
	e->name = field_name(id);
	e->name_len = field_name_len(id);
	e->v.s = s;
	e->v.len = (uint32_t)strlen(s);
	e->v.kind = kind;
	e->v.num = num;
	e->next = 12345; /* set by vg_event_commit */
	e->dead = 1;
}

/* Entries filled in place read back as vg_event_add_ref's would: chained
 * after the field's earlier values, in order; only the k committed count,
 * and room is made past the entries' capacity. */
TEST(event_reserve_and_commit)
{
	struct vg_event *ev = vg_event_new();
	uint32_t user = field_intern("user.name", 9);
	uint32_t port = field_intern("source.port", 11);
	struct fent *e;
	uint32_t i;
	int n;

	vg_event_add(ev, user, "root", 4);
	e = vg_event_reserve(ev, 3);
	CHECK(e == ev->ents + 1);
	fill(&e[0], user, "bob", V_STR, 0);
	fill(&e[1], port, "22", V_NUM, 22);
	vg_event_commit(ev, 2); /* the third was reserved, not filled */
	CHECK_INT(ev->n, 3);
	CHECK_STR(vg_event_str(ev, user), "root");
	i = vg_event_first(ev, user);
	CHECK_INT(ev->ents[i].next, 1);
	CHECK_STR(ev->ents[ev->ents[i].next].v.s, "bob");
	CHECK_INT(ev->ents[1].next, FENT_END);
	CHECK_INT(ev->ents[1].dead, 0);
	CHECK_STR(ev->ents[1].name, "user.name");
	CHECK_INT(vg_event_get(ev, port)->kind, V_NUM);
	CHECK(vg_event_get(ev, port)->num == 22);
	CHECK_STR(vg_event_str(ev, port), "22");
	/* nothing committed: nothing added */
	(void)vg_event_reserve(ev, 5);
	vg_event_commit(ev, 0);
	CHECK_INT(ev->n, 3);
	/* past the capacity (64 at first) */
	for (int k = 0; k < 30; k++) {
		e = vg_event_reserve(ev, 4);
		for (int j = 0; j < 4; j++)
			fill(&e[j], user, "u", V_STR, 0);
		vg_event_commit(ev, 4);
	}
	CHECK_INT(ev->n, 123);
	n = 0;
	for (i = vg_event_first(ev, user); i != FENT_END; i = ev->ents[i].next) {
		CHECK(!ev->ents[i].dead);
		n++;
	}
	CHECK_INT(n, 122);
	vg_event_add(ev, user, "last", 4);
	CHECK_INT(ev->ents[ev->n - 2].next, ev->n - 1);
	vg_event_reset(ev);
	CHECK(vg_event_str(ev, user) == NULL);
	e = vg_event_reserve(ev, 1);
	fill(e, user, "again", V_STR, 0);
	vg_event_commit(ev, 1);
	CHECK_STR(vg_event_str(ev, user), "again");
	CHECK_INT(ev->ents[vg_event_first(ev, user)].next, FENT_END);
	vg_event_free(ev);
}

int main(void)
{
	RUN(arena_strdup_in_lengths_and_chunks);
	RUN(event_reserve_and_commit);
	return unit_done();
}
