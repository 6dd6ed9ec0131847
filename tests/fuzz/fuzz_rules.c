/*
 * fuzz_rules.c: arbitrary bytes as a rule file (rules, mappings, filters,
 * collections, correlations), loaded from memory; whatever compiles is
 * evaluated and explained against a small fixed event.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "detect.h"
#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void add(struct vg_event *ev, const char *name, const char *val)
{
	vg_event_add(ev, field_intern(name, strlen(name)), val, strlen(val));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_event *ev;
	struct vg_diag d;
	struct detect_stats st;
	struct ruleset *rs;
	struct detect_ctx *ctx;
	const struct rule *const *m;
	struct buf b;

	if (ev == NULL) {
		ev = vg_event_new();
		add(ev, "message", "Failed password for root from 203.0.113.9 port 4711 ssh2");
		add(ev, "process.name", "sshd");
		add(ev, "log.syslog.priority", "38");
		add(ev, "user.name", "root");
		add(ev, "source.ip", "203.0.113.9");
		vg_event_add_num(ev, field_intern("source.port", 11), "4711", 4, 4711);
		add(ev, "@timestamp", "2026-11-23T00:00:05.000Z");
		add(ev, "CommandLine", "powershell -enc dwBoAG8AYQBtAGkA /c whoami");
	}
	vg_diag_init(&d, NULL);
	rs = detect_load_buffer("fuzz.yml", (const char *)data, size, NULL, &d, &st);
	ctx = detect_ctx_new(rs);
	detect_event(rs, ctx, ev, &m);
	buf_init(&b);
	detect_explain(rs, ctx, ev, &b);
	buf_free(&b);
	detect_ctx_free(ctx);
	detect_free(rs);
	return 0;
}
