/*
 * fuzz_syslog.c: syslog_parse on arbitrary bytes, with one event reused and
 * reset between runs as a worker does. Checks what the parser promises:
 * a message field always, every value NUL-terminated at its length, and
 * an event time whenever @timestamp is set, written as vgtime_format
 * writes it; and that the fast path for the common RFC 3164 shape builds
 * the very event the general scanner alone builds (syslog_parse_general),
 * from a copy and in place.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "syslog.h"
#include "vgtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct vg_event *ev)
{
	for (uint32_t i = 0; i < ev->n; i++)
		if (ev->ents[i].v.s == NULL || ev->ents[i].v.s[ev->ents[i].v.len] != '\0')
			abort();
	if (vg_event_get(ev, F_MESSAGE) == NULL)
		abort();
	if ((vg_event_get(ev, F_TIMESTAMP) != NULL) != (ev->has_ts != 0))
		abort();
	if (ev->has_ts) {
		char want[32];

		vgtime_format(ev->ts_ms, want);
		if (strcmp(vg_event_str(ev, F_TIMESTAMP), want) != 0)
			abort();
	}
}

/* The two events hold the same fields, values and time. */
static void same(const struct vg_event *a, enum syslog_format fa,
    const struct vg_event *b, enum syslog_format fb)
{
	if (fa != fb || a->n != b->n || a->has_ts != b->has_ts ||
	    (a->has_ts && a->ts_ms != b->ts_ms))
		abort();
	for (uint32_t i = 0; i < a->n; i++) {
		const struct fent *x = &a->ents[i], *y = &b->ents[i];

		if (x->id != y->id || x->dead != y->dead || x->next != y->next ||
		    x->name_len != y->name_len ||
		    memcmp(x->name, y->name, x->name_len) != 0 ||
		    x->v.kind != y->v.kind || x->v.len != y->v.len ||
		    memcmp(x->v.s, y->v.s, x->v.len) != 0 ||
		    (x->v.kind != V_STR && x->v.num != y->v.num) ||
		    vg_event_first(a, x->id) != vg_event_first(b, y->id))
			abort();
	}
}

/* data as syslog_parse_stable wants it: a NUL after the last byte */
static const char *terminated(const uint8_t *data, size_t size)
{
	static char *copy;
	static size_t cap;

	if (size + 1 > cap) {
		free(copy);
		cap = size + 1;
		if ((copy = malloc(cap)) == NULL)
			abort();
	}
	memcpy(copy, data, size);
	copy[size] = '\0';
	return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_event *ev, *gen;
	const char *msg = terminated(data, size);
	struct syslog_opts c = { 60, 1795435200000LL };
	enum syslog_format f;
	/* 2026-11-23T12:00:00Z, then a reference near a year boundary with a
	 * negative offset */
	struct syslog_opts a = { 0, 1795435200000LL };
	struct syslog_opts b = { -720, 1798761599000LL };

	if (ev == NULL) {
		ev = vg_event_new();
		gen = vg_event_new();
	}
	vg_event_reset(ev);
	syslog_parse(ev, (const char *)data, size, &a);
	check(ev);
	vg_event_reset(ev);
	syslog_parse(ev, (const char *)data, size, &b);
	check(ev);

	/* fast path or not, the same event: copied and in place */
	vg_event_reset(ev);
	vg_event_reset(gen);
	f = syslog_parse(ev, (const char *)data, size, &c);
	same(gen, syslog_parse_general(gen, (const char *)data, size, &c, 0), ev, f);
	vg_event_reset(ev);
	vg_event_reset(gen);
	f = syslog_parse_stable(ev, msg, size, &a);
	same(gen, syslog_parse_general(gen, msg, size, &a, 1), ev, f);
	return 0;
}
