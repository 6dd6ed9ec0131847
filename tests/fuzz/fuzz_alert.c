/*
 * fuzz_alert.c: the alert writer's event JSON on what arbitrary syslog
 * lines become (syslog_parse, then the shipped decoders of parsers/, loaded
 * once; run from the repository root). The writer keeps, per thread and
 * per decoder, the event's shape and the values that stayed constant, and
 * writes later events of that decoder through them; so each event is
 * written here seven times in this thread (the first writes learn, the
 * later ones take the folded path, and the next input of the same decoder
 * with other values refits it) and once in a thread of its own, which has
 * learnt nothing. Checks: all eight texts are the same bytes, and the text
 * is one JSON object (jansson).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "buf.h"
#include "decode.h"
#include "event.h"
#include "syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fresh {
	const struct vg_event *ev;
	struct buf out;
};

static void *fresh_write(void *arg)
{
	struct fresh *f = arg;

	alert_event_json(&f->out, f->ev);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_event *ev;
	static struct decode_set *set;
	static struct decode_ctx *ctx;
	struct syslog_opts o = { 0, 1795435200000LL };
	struct buf first, again;
	struct fresh f;
	pthread_t t;
	json_t *j;

	if (ev == NULL) {
		const char *p = "parsers";

		ev = vg_event_new();
		if ((set = decode_load(&p, 1, NULL, NULL)) == NULL)
			abort();
		ctx = decode_ctx_new(set);
	}
	vg_event_reset(ev);
	syslog_parse(ev, (const char *)data, size, &o);
	(void)decode_event(set, ctx, ev);

	buf_init(&first);
	buf_init(&again);
	alert_event_json(&first, ev);
	for (int i = 0; i < 6; i++) {
		buf_clear(&again);
		alert_event_json(&again, ev);
		if (again.len != first.len || memcmp(again.p, first.p, first.len) != 0)
			abort();
	}
	f.ev = ev;
	buf_init(&f.out);
	if (pthread_create(&t, NULL, fresh_write, &f) != 0)
		abort();
	pthread_join(t, NULL);
	if (f.out.len != first.len || memcmp(f.out.p, first.p, first.len) != 0)
		abort();

	j = json_loadb(first.p, first.len, JSON_ALLOW_NUL, NULL);
	if (!json_is_object(j))
		abort();
	json_decref(j);
	buf_free(&f.out);
	buf_free(&again);
	buf_free(&first);
	return 0;
}
