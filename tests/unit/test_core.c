/*
 * test_core.c: arena, field registry, events, buffers, time, YAML tree.
 */
#include <math.h>

#include "unit.h"
#include "../../engine/arena.h"
#include "../../engine/buf.h"
#include "../../engine/event.h"
#include "../../engine/vgtime.h"
#include "../../engine/ytree.h"

TEST(arena_grows_and_resets)
{
	struct arena a;
	char *p, *big;

	arena_init(&a, 64);
	p = arena_strndup(&a, "hello", 5);
	CHECK_STR(p, "hello");
	big = arena_alloc(&a, 1000);
	memset(big, 'x', 1000);
	CHECK(((uintptr_t)arena_alloc(&a, 3) & 7) == 0);
	arena_reset(&a);
	p = arena_strndup(&a, "again", 5);
	CHECK_STR(p, "again");
	arena_destroy(&a);
}

TEST(fields_intern_is_stable)
{
	uint32_t a = field_intern("source.ip", 9);
	uint32_t b = field_intern("source.ip", 9);

	CHECK(a != FIELD_NONE);
	CHECK_INT(a, b);
	CHECK_INT(field_lookup("source.ip", 9), a);
	CHECK_INT(field_lookup("no.such.field.xyz", 17), FIELD_NONE);
	CHECK_STR(field_name(a), "source.ip");
	CHECK_INT(field_lookup("message", 7), F_MESSAGE);
	CHECK_STR(field_name(F_TIMESTAMP), "@timestamp");
}

TEST(event_multi_values_and_reset)
{
	struct vg_event *ev = vg_event_new();
	uint32_t tag = field_intern("tags", 4);
	uint32_t i;
	int n = 0;

	vg_event_add(ev, tag, "a", 1);
	vg_event_add(ev, F_MESSAGE, "m", 1);
	vg_event_add(ev, tag, "b", 1);
	for (i = vg_event_first(ev, tag); i != FENT_END; i = ev->ents[i].next)
		n++;
	CHECK_INT(n, 2);
	CHECK_STR(vg_event_str(ev, tag), "a");
	vg_event_set(ev, tag, "c", 1);
	CHECK_STR(vg_event_str(ev, tag), "c");
	CHECK_INT(ev->ents[vg_event_first(ev, tag)].next, FENT_END);
	vg_event_add_named(ev, "custom.unknown_field", 20, "v", 1, V_STR, 0);
	CHECK_STR(ev->ents[ev->n - 1].name, "custom.unknown_field");
	CHECK_INT(ev->ents[ev->n - 1].id, FIELD_NONE);
	vg_event_reset(ev);
	CHECK(vg_event_str(ev, tag) == NULL);
	CHECK(vg_event_str(ev, F_MESSAGE) == NULL);
	vg_event_free(ev);
}

/* vg_event_add_ents: prepared entries, their text referenced, chained
 * with the values already there and after them, past the entries'
 * capacity; none is a no-op. */
TEST(event_add_ents)
{
	static const char num_txt[] = "42";
	struct vg_event *ev = vg_event_new();
	uint32_t tag = field_intern("tags", 4);
	struct fent pre[3];
	uint32_t i;
	int n = 0;

	memset(pre, 0, sizeof(pre));
	pre[0].id = tag;
	pre[0].name = field_name(tag);
	pre[0].name_len = 4;
	pre[0].next = 7;  /* set by the callee */
	pre[0].dead = 1;
	pre[0].v.s = "x";
	pre[0].v.len = 1;
	pre[1].id = F_PROCESS_PID;
	pre[1].name = field_name(F_PROCESS_PID);
	pre[1].name_len = field_name_len(F_PROCESS_PID);
	pre[1].v.s = num_txt;
	pre[1].v.len = 2;
	pre[1].v.kind = V_NUM;
	pre[1].v.num = 42;
	pre[2] = pre[0];
	pre[2].v.s = "y";
	vg_event_add(ev, tag, "a", 1);
	vg_event_add_ents(ev, pre, 0);
	CHECK_INT(ev->n, 1);
	for (int k = 0; k < 40; k++)
		vg_event_add_ents(ev, pre, 3);
	vg_event_add(ev, tag, "z", 1);
	CHECK_INT(ev->n, 122);
	for (i = vg_event_first(ev, tag); i != FENT_END; i = ev->ents[i].next) {
		CHECK(!ev->ents[i].dead);
		n++;
	}
	CHECK_INT(n, 82);
	CHECK_STR(vg_event_str(ev, tag), "a");
	CHECK_STR(ev->ents[ev->ents[vg_event_first(ev, tag)].next].v.s, "x");
	CHECK(vg_event_get(ev, F_PROCESS_PID)->s == num_txt);
	CHECK_INT(vg_event_get(ev, F_PROCESS_PID)->kind, V_NUM);
	CHECK(vg_event_get(ev, F_PROCESS_PID)->num == 42);
	CHECK_STR(ev->ents[ev->n - 1].v.s, "z");
	CHECK_INT(ev->ents[ev->n - 2].next, ev->n - 1);
	vg_event_free(ev);
}

TEST(buf_json_escapes)
{
	struct buf b;

	buf_init(&b);
	buf_json_str(&b, "a\"b\\c\n\x01\xff\xc3\xa9", 10);
	CHECK_STR(buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\xEF\xBF\xBD\xc3\xa9\"");
	buf_free(&b);
}

TEST(time_iso_round_trip)
{
	int64_t ms = 0;
	char out[32];

	CHECK_INT(vgtime_parse_iso("2026-11-23T00:00:05.123Z", 24, 0, &ms), 24);
	vgtime_format(ms, out);
	CHECK_STR(out, "2026-11-23T00:00:05.123Z");
	CHECK(vgtime_parse_iso("2026-11-23T01:00:05+01:00", 25, 0, &ms) == 25);
	vgtime_format(ms, out);
	CHECK_STR(out, "2026-11-23T00:00:05.000Z");
	CHECK(vgtime_parse_iso("2024-02-29 12:00:00", 19, 60, &ms) == 19);
	vgtime_format(ms, out);
	CHECK_STR(out, "2024-02-29T11:00:00.000Z");
	CHECK_INT(vgtime_parse_iso("2023-02-29T00:00:00Z", 20, 0, &ms), 0);
	CHECK_INT(vgtime_parse_iso("not a time", 10, 0, &ms), 0);
	vgtime_format(-1, out);
	CHECK_STR(out, "1969-12-31T23:59:59.999Z");
}

TEST(ytree_positions_and_styles)
{
	const char *y = "a: 1\nb:\n  - x\n  - 'null'\n  - null\n---\nc: &k {d: e}\nf: *k\n";
	struct ydoc *docs;
	size_t n;
	struct vg_err err = { 0 };
	struct ynode *b, *f;

	CHECK_INT(ytree_parse("t.yml", y, strlen(y), &docs, &n, &err), 0);
	CHECK_INT(n, 2);
	b = ytree_get(docs[0].root, "b");
	CHECK(b != NULL && b->kind == YN_SEQ && b->n == 3);
	CHECK_INT(b->items[1]->line, 4);
	CHECK_INT(b->items[1]->col, 5);
	CHECK(!ytree_is_null(b->items[1]));
	CHECK(ytree_is_null(b->items[2]));
	f = ytree_get(docs[1].root, "f");
	CHECK(f != NULL && ytree_is_str(ytree_get(f, "d"), "e"));
	ytree_free_docs(docs, n);
}

TEST(ytree_reports_syntax_errors)
{
	const char *y = "a: [1, 2\nb: c\n";
	struct ydoc *docs;
	size_t n;
	struct vg_err err = { 0 };

	CHECK_INT(ytree_parse("bad.yml", y, strlen(y), &docs, &n, &err), -1);
	CHECK(err.set);
	CHECK_STR(err.file, "bad.yml");
	CHECK(err.line >= 1);
}

TEST(ytree_bounds_alias_bombs)
{
	struct buf b;
	struct ydoc *docs;
	size_t n;
	struct vg_err err = { 0 };

	buf_init(&b);
	buf_adds(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 12; i++)
		buf_printf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
		    i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	CHECK_INT(ytree_parse("bomb.yml", b.p, b.len, &docs, &n, &err), -1);
	CHECK(err.set);
	buf_free(&b);
}

int main(void)
{
	RUN(arena_grows_and_resets);
	RUN(fields_intern_is_stable);
	RUN(event_multi_values_and_reset);
	RUN(event_add_ents);
	RUN(buf_json_escapes);
	RUN(time_iso_round_trip);
	RUN(ytree_positions_and_styles);
	RUN(ytree_reports_syntax_errors);
	RUN(ytree_bounds_alias_bombs);
	return unit_done();
}
