/*
 * fuzz_syslog.c: syslog_parse on arbitrary bytes, with one event reused and
 * reset between runs as a worker does. Checks what the parser promises:
 * a message field always, every value NUL-terminated at its length, and
 * an event time whenever @timestamp is set, written as vgtime_format
 * writes it.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_event *ev;
	/* 2026-11-23T12:00:00Z, then a reference near a year boundary with a
	 * negative offset */
	struct syslog_opts a = { 0, 1795435200000LL };
	struct syslog_opts b = { -720, 1798761599000LL };

	if (ev == NULL)
		ev = vg_event_new();
	vg_event_reset(ev);
	syslog_parse(ev, (const char *)data, size, &a);
	check(ev);
	vg_event_reset(ev);
	syslog_parse(ev, (const char *)data, size, &b);
	check(ev);
	return 0;
}
