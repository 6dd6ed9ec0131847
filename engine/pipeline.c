/*
 * pipeline.c: the per-event path from bytes to alerts; see pipeline.h.
 *
 * It does no I/O: listeners and the replay tool feed it messages, and alerts
 * leave through the callback. Correlation hooks in after detection.
 */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "syslog.h"
#include "vgtime.h"

struct pipeline {
	const struct pipeline_conf *conf;
	pipeline_alert_cb cb;
	void *arg;
	struct vg_event *ev;
	struct decode_ctx *dctx;
	struct detect_ctx *rctx;
	uint64_t rules_gen;   /* with conf->live */
	const struct rule *const *matches;
	size_t nmatches;
	int64_t last_ts;      /* event time of the previous event (replay) */
	struct pipeline_stats st;
};

void pipeline_conf_defaults(struct pipeline_conf *c)
{
	memset(c, 0, sizeof(*c));
	jsonin_limits_default(&c->json);
	c->max_skew_ms = 7LL * 86400 * 1000;
	c->max_message = 64 * 1024;
}

struct pipeline *pipeline_new(const struct pipeline_conf *conf,
    pipeline_alert_cb cb, void *arg)
{
	struct pipeline *p = vg_calloc(1, sizeof(*p));

	p->conf = conf;
	p->cb = cb;
	p->arg = arg;
	p->ev = vg_event_new();
	if (conf->decoders != NULL)
		p->dctx = decode_ctx_new(conf->decoders);
	if (conf->live != NULL)
		detect_ctx_refresh(&p->rctx, conf->live, &p->rules_gen);
	else if (conf->rules != NULL)
		p->rctx = detect_ctx_new(conf->rules);
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	vg_event_free(p->ev);
	decode_ctx_free(p->dctx);
	detect_ctx_free(p->rctx);
	free(p);
}

/* Settle the event time: parsed, else previous event (replay) or receipt;
 * in the daemon an implausible time is replaced by the time of receipt. */
static void settle_time(struct pipeline *p, struct vg_event *ev, int64_t recv_ms)
{
	const struct pipeline_conf *c = p->conf;
	char ts[32];
	size_t n;

	if (ev->has_ts && !c->replay && c->max_skew_ms > 0 &&
	    llabs(ev->ts_ms - recv_ms) > c->max_skew_ms) {
		p->st.skewed++;
		ev->has_ts = 0;
	}
	if (ev->has_ts)
		return;
	p->st.no_timestamp++;
	ev->ts_ms = c->replay && p->last_ts != 0 ? p->last_ts : recv_ms;
	ev->has_ts = 1;
	n = vgtime_format(ev->ts_ms, ts);
	vg_event_set(ev, F_TIMESTAMP, ts, n);
}

static struct vg_event *process(struct pipeline *p, const char *msg, size_t len,
    const char *ingress, const char *peer, int64_t recv_ms, int stable)
{
	const struct pipeline_conf *c = p->conf;
	struct vg_event *ev = p->ev;
	int parsed = 0;

	vg_event_reset(ev);
	p->nmatches = 0;
	p->st.messages++;
	p->st.bytes += len;
	if (c->max_message > 0 && len > c->max_message) {
		len = c->max_message;
		p->st.truncated++;
		stable = 0; /* msg[len] is not the NUL */
	}
	ev->raw = msg;
	ev->raw_len = len;
	ev->recv_ms = recv_ms;

	if (len > 0 && msg[0] == '{') {
		if (jsonin_parse(ev, msg, len, &c->json, c->tz_offset_min, NULL) ==
		    JSONIN_OK) {
			p->st.parsed_json++;
			parsed = 1;
		} else {
			p->st.json_rejected++;
		}
	}
	if (!parsed) {
		struct syslog_opts so = {
			.tz_offset_min = c->tz_offset_min,
			.ref_ms = c->replay && p->last_ts ? p->last_ts : recv_ms,
		};

		switch (stable ? syslog_parse_stable(ev, msg, len, &so) :
		    syslog_parse(ev, msg, len, &so)) {
		case SYSLOG_5424: p->st.parsed_5424++; break;
		case SYSLOG_3164: p->st.parsed_3164++; break;
		default: p->st.parsed_plain++; break;
		}
	}
	settle_time(p, ev, recv_ms);
	if (ingress != NULL)
		vg_event_add_ref(ev, F_OBSERVER_INGRESS, ingress, strlen(ingress));
	if (peer != NULL)
		vg_event_add(ev, F_LOG_SOURCE_ADDRESS, peer, strlen(peer));

	if (p->dctx != NULL && decode_event(c->decoders, p->dctx, ev) != NULL)
		p->st.decoded++;

	if (c->live != NULL)
		detect_ctx_refresh(&p->rctx, c->live, &p->rules_gen);
	if (p->rctx != NULL)
		p->nmatches = detect_event(detect_ctx_ruleset(p->rctx), p->rctx, ev,
		    &p->matches);
	for (size_t i = 0; i < p->nmatches; i++) {
		struct alert a = {
			.kind = ALERT_DETECTION,
			.rule = p->matches[i],
			.ts_ms = ev->ts_ms,
			.count = 1,
			.ev = ev,
		};

		p->st.detections++;
		if (p->cb != NULL)
			p->cb(p->arg, &a);
	}
	if (c->replay)
		p->last_ts = ev->ts_ms;
	return ev;
}

struct vg_event *pipeline_process(struct pipeline *p, const char *msg, size_t len,
    const char *ingress, const char *peer, int64_t recv_ms)
{
	return process(p, msg, len, ingress, peer, recv_ms, 0);
}

struct vg_event *pipeline_process_stable(struct pipeline *p, const char *msg,
    size_t len, const char *ingress, const char *peer, int64_t recv_ms)
{
	return process(p, msg, len, ingress, peer, recv_ms, 1);
}

size_t pipeline_last_matches(const struct pipeline *p,
    const struct rule *const **matches)
{
	*matches = p->matches;
	return p->nmatches;
}

uint64_t pipeline_rules_gen(const struct pipeline *p)
{
	return p->rules_gen;
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *p)
{
	return &p->st;
}

int64_t pipeline_last_ts(const struct pipeline *p)
{
	return p->last_ts;
}

void pipeline_set_last_ts(struct pipeline *p, int64_t ts)
{
	p->last_ts = ts;
}
