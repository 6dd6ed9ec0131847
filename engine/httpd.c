/*
 * httpd.c: vigild's HTTP listener, served by the main thread: /healthz,
 * /metrics (Prometheus text format, summed over the workers) and
 * POST /api/v1/events (one JSON object or NDJSON, run through the main
 * thread's own pipeline as the input "http"). /api/... needs the bearer token
 * of http.token_file when one is configured; /healthz and /metrics never do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "api.h"
#include "daemon_int.h"
#include "response.h"

#define HTTP_MAX_BODY (32 << 20)
#define HTTP_MAX_ERRORS 10

static const char *const drop_names[DROP_N] = { "kernel", "error", "not_json" };
static const char *const conn_names[CONN_N] = {
	"max_connections", "tls_handshake", "idle", "error",
};

static void reply_json(struct evhttp_request *req, int code, const char *reason,
    struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evhttp_send_reply(req, code, reason, body);
}

static void reply_error(struct evhttp_request *req, int code, const char *reason,
    const char *msg)
{
	struct evbuffer *b = evbuffer_new();
	struct buf j = { 0 };

	buf_json_str(&j, msg, strlen(msg));
	evbuffer_add_printf(b, "{\"error\":%.*s}\n", (int)j.len, j.p);
	buf_free(&j);
	reply_json(req, code, reason, b);
	evbuffer_free(b);
}

/* Bearer token check for /api/...; replies and returns -1 when refused. */
static int authorized(struct daemon *d, struct evhttp_request *req)
{
	const char *h;
	size_t want;

	if (d->token == NULL)
		return 0;
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	want = strlen(d->token);
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0 &&
	    strlen(h + 7) == want && CRYPTO_memcmp(h + 7, d->token, want) == 0)
		return 0;
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "WWW-Authenticate", "Bearer realm=\"vigil\"");
	reply_error(req, 401, "Unauthorized", "missing or wrong bearer token");
	return -1;
}

/* ---- /metrics ---- */

struct totals {
	struct input_stats in;
	uint64_t open;
};

static void sum_input(struct daemon *d, size_t i, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (int k = 0; k <= d->nworkers; k++) {
		const struct input_stats *s = &d->workers[k].st[i];

		t->in.received += CTR_GET(s->received);
		t->in.bytes += CTR_GET(s->bytes);
		t->in.truncated += CTR_GET(s->truncated);
		t->in.partial += CTR_GET(s->partial);
		t->in.accepted += CTR_GET(s->accepted);
		for (int r = 0; r < DROP_N; r++)
			t->in.dropped[r] += CTR_GET(s->dropped[r]);
		for (int r = 0; r < CONN_N; r++)
			t->in.closed[r] += CTR_GET(s->closed[r]);
	}
	if (i < d->ninputs) {
		t->open = (uint64_t)__atomic_load_n(&d->ins[i].open, __ATOMIC_RELAXED);
		for (int k = 0; k < d->nworkers; k++)
			t->in.dropped[DROP_KERNEL] +=
			    listen_kernel_drops(&d->workers[k].socks[i]);
	}
}

static const char *input_name(struct daemon *d, size_t i)
{
	return i < d->ninputs ? d->ins[i].conf->name : "http";
}

static int is_stream(struct daemon *d, size_t i)
{
	return i < d->ninputs && (d->ins[i].conf->type == INPUT_TCP ||
	    d->ins[i].conf->type == INPUT_TLS);
}

/*
 * The correlators' Redis clients (one per worker), summed: whether they
 * are connected, how often they connected and lost the connection, the
 * updates they hold while Redis is away and those they had to drop, and
 * Redis' error replies. The response service's own client is reported by
 * response_metrics as vigil_redis_*{conn="response"}.
 */
static void corr_redis_metrics(struct daemon *d, struct evbuffer *b)
{
	struct rds_stats t = { 0 };
	int up = 0;

	for (int k = 0; k <= d->nworkers; k++) {
		const struct rds_stats *s = &d->workers[k].rst;

		t.commands += CTR_GET(s->commands);
		t.replies += CTR_GET(s->replies);
		t.error_replies += CTR_GET(s->error_replies);
		t.dropped += CTR_GET(s->dropped);
		t.retried += CTR_GET(s->retried);
		t.connects += CTR_GET(s->connects);
		t.disconnects += CTR_GET(s->disconnects);
		t.connect_failures += CTR_GET(s->connect_failures);
		t.pending += CTR_GET(s->pending);
		t.pending_bytes += CTR_GET(s->pending_bytes);
		t.inflight += CTR_GET(s->inflight);
		up += CTR_GET(s->ready) != 0;
	}
	evbuffer_add_printf(b,
	    "# HELP vigil_correlation_redis_connected Correlation Redis clients "
	    "(one per worker) connected, scripts loaded.\n"
	    "# TYPE vigil_correlation_redis_connected gauge\n"
	    "vigil_correlation_redis_connected %d\n"
	    "# HELP vigil_correlation_redis_connects_total Connections made "
	    "ready (the first and every reconnect).\n"
	    "# TYPE vigil_correlation_redis_connects_total counter\n"
	    "vigil_correlation_redis_connects_total %llu\n"
	    "# HELP vigil_correlation_redis_disconnects_total Ready connections "
	    "lost.\n"
	    "# TYPE vigil_correlation_redis_disconnects_total counter\n"
	    "vigil_correlation_redis_disconnects_total %llu\n"
	    "# HELP vigil_correlation_redis_connect_failures_total Connection "
	    "attempts that failed.\n"
	    "# TYPE vigil_correlation_redis_connect_failures_total counter\n"
	    "vigil_correlation_redis_connect_failures_total %llu\n"
	    "# HELP vigil_correlation_redis_buffered Updates held while Redis is "
	    "unreachable or busy.\n"
	    "# TYPE vigil_correlation_redis_buffered gauge\n"
	    "vigil_correlation_redis_buffered %llu\n"
	    "# HELP vigil_correlation_redis_buffered_bytes Bytes of the held "
	    "updates.\n"
	    "# TYPE vigil_correlation_redis_buffered_bytes gauge\n"
	    "vigil_correlation_redis_buffered_bytes %llu\n"
	    "# HELP vigil_correlation_redis_inflight Updates sent and not yet "
	    "answered.\n"
	    "# TYPE vigil_correlation_redis_inflight gauge\n"
	    "vigil_correlation_redis_inflight %llu\n"
	    "# HELP vigil_correlation_redis_commands_total Commands accepted.\n"
	    "# TYPE vigil_correlation_redis_commands_total counter\n"
	    "vigil_correlation_redis_commands_total %llu\n"
	    "# HELP vigil_correlation_redis_dropped_total Updates dropped (buffer "
	    "full) or refused.\n"
	    "# TYPE vigil_correlation_redis_dropped_total counter\n"
	    "vigil_correlation_redis_dropped_total %llu\n"
	    "# HELP vigil_correlation_redis_retried_total Updates resent after a "
	    "broken connection.\n"
	    "# TYPE vigil_correlation_redis_retried_total counter\n"
	    "vigil_correlation_redis_retried_total %llu\n"
	    "# HELP vigil_correlation_redis_errors_total Error replies from "
	    "Redis.\n"
	    "# TYPE vigil_correlation_redis_errors_total counter\n"
	    "vigil_correlation_redis_errors_total %llu\n",
	    up, (unsigned long long)t.connects,
	    (unsigned long long)t.disconnects,
	    (unsigned long long)t.connect_failures,
	    (unsigned long long)t.pending, (unsigned long long)t.pending_bytes,
	    (unsigned long long)t.inflight, (unsigned long long)t.commands,
	    (unsigned long long)t.dropped, (unsigned long long)t.retried,
	    (unsigned long long)t.error_replies);
}

static void metrics_cb(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	struct evbuffer *b = evbuffer_new();
	struct totals *t = vg_calloc(d->ninputs + 1, sizeof(*t));
	struct pipeline_stats p = { 0 };
	uint64_t alerts = 0, corr_alerts = 0;

	for (int k = 0; k <= d->nworkers; k++)
		corr_alerts += __atomic_load_n(&d->workers[k].corr_alerts,
		    __ATOMIC_RELAXED);
	for (size_t i = 0; i <= d->ninputs; i++)
		sum_input(d, i, &t[i]);
	for (int k = 0; k <= d->nworkers; k++) {
		const struct pipeline_stats *s = &d->workers[k].pst;

		p.messages += CTR_GET(s->messages);
		p.parsed_5424 += CTR_GET(s->parsed_5424);
		p.parsed_3164 += CTR_GET(s->parsed_3164);
		p.parsed_json += CTR_GET(s->parsed_json);
		p.parsed_plain += CTR_GET(s->parsed_plain);
		p.json_rejected += CTR_GET(s->json_rejected);
		p.truncated += CTR_GET(s->truncated);
		p.no_timestamp += CTR_GET(s->no_timestamp);
		p.skewed += CTR_GET(s->skewed);
		p.decoded += CTR_GET(s->decoded);
		p.detections += CTR_GET(s->detections);
	}
	(void)alerts;

#define EACH_INPUT(metric, expr) do {                                        \
	for (size_t i_ = 0; i_ <= d->ninputs; i_++)                          \
		evbuffer_add_printf(b, metric "{input=\"%s\"} %llu\n",        \
		    input_name(d, i_), (unsigned long long)(expr));           \
} while (0)
	evbuffer_add_printf(b, "# HELP vigil_messages_received_total Messages "
	    "received, by input.\n# TYPE vigil_messages_received_total counter\n");
	EACH_INPUT("vigil_messages_received_total", t[i_].in.received);
	evbuffer_add_printf(b, "# HELP vigil_bytes_received_total Bytes of the "
	    "messages received, by input.\n# TYPE vigil_bytes_received_total counter\n");
	EACH_INPUT("vigil_bytes_received_total", t[i_].in.bytes);
	evbuffer_add_printf(b, "# HELP vigil_messages_truncated_total Messages "
	    "cut to the size limit.\n# TYPE vigil_messages_truncated_total counter\n");
	EACH_INPUT("vigil_messages_truncated_total", t[i_].in.truncated);
	evbuffer_add_printf(b, "# HELP vigil_messages_partial_total Messages "
	    "delivered without their trailer when the connection closed.\n"
	    "# TYPE vigil_messages_partial_total counter\n");
	EACH_INPUT("vigil_messages_partial_total", t[i_].in.partial);
	evbuffer_add_printf(b, "# HELP vigil_messages_dropped_total Messages "
	    "lost, by input and reason.\n# TYPE vigil_messages_dropped_total counter\n");
	for (size_t i = 0; i <= d->ninputs; i++) {
		for (int r = 0; r < DROP_N; r++)
			evbuffer_add_printf(b, "vigil_messages_dropped_total{input=\"%s\","
			    "reason=\"%s\"} %llu\n", input_name(d, i), drop_names[r],
			    (unsigned long long)t[i].in.dropped[r]);
	}
	evbuffer_add_printf(b, "# HELP vigil_connections_total Connections "
	    "accepted.\n# TYPE vigil_connections_total counter\n");
	for (size_t i = 0; i < d->ninputs; i++) {
		if (is_stream(d, i))
			evbuffer_add_printf(b, "vigil_connections_total{input=\"%s\"} "
			    "%llu\n", input_name(d, i),
			    (unsigned long long)t[i].in.accepted);
	}
	evbuffer_add_printf(b, "# HELP vigil_connections_open Connections open "
	    "now.\n# TYPE vigil_connections_open gauge\n");
	for (size_t i = 0; i < d->ninputs; i++) {
		if (is_stream(d, i))
			evbuffer_add_printf(b, "vigil_connections_open{input=\"%s\"} "
			    "%llu\n", input_name(d, i), (unsigned long long)t[i].open);
	}
	evbuffer_add_printf(b, "# HELP vigil_connections_closed_total Connections "
	    "refused or closed by vigild, by reason.\n"
	    "# TYPE vigil_connections_closed_total counter\n");
	for (size_t i = 0; i < d->ninputs; i++) {
		if (!is_stream(d, i))
			continue;
		for (int r = 0; r < CONN_N; r++)
			evbuffer_add_printf(b, "vigil_connections_closed_total{input=\"%s\","
			    "reason=\"%s\"} %llu\n", input_name(d, i), conn_names[r],
			    (unsigned long long)t[i].in.closed[r]);
	}
	evbuffer_add_printf(b, "# HELP vigil_worker_connections Stream "
	    "connections each worker serves now.\n"
	    "# TYPE vigil_worker_connections gauge\n");
	for (int k = 0; k < d->nworkers; k++)
		evbuffer_add_printf(b, "vigil_worker_connections{worker=\"%d\"} %d\n",
		    k, __atomic_load_n(&d->workers[k].nconns, __ATOMIC_RELAXED));
	evbuffer_add_printf(b,
	    "# HELP vigil_messages_parsed_total Messages parsed, by format.\n"
	    "# TYPE vigil_messages_parsed_total counter\n"
	    "vigil_messages_parsed_total{format=\"rfc5424\"} %llu\n"
	    "vigil_messages_parsed_total{format=\"rfc3164\"} %llu\n"
	    "vigil_messages_parsed_total{format=\"json\"} %llu\n"
	    "vigil_messages_parsed_total{format=\"plain\"} %llu\n"
	    "# HELP vigil_json_rejected_total Messages starting with '{' that are "
	    "not valid JSON within the limits (kept as text).\n"
	    "# TYPE vigil_json_rejected_total counter\n"
	    "vigil_json_rejected_total %llu\n"
	    "# HELP vigil_events_no_timestamp_total Events without a usable time "
	    "(time of receipt used).\n"
	    "# TYPE vigil_events_no_timestamp_total counter\n"
	    "vigil_events_no_timestamp_total %llu\n"
	    "# HELP vigil_events_skewed_total Events whose time was further than "
	    "time.max_skew from their arrival.\n"
	    "# TYPE vigil_events_skewed_total counter\n"
	    "vigil_events_skewed_total %llu\n"
	    "# HELP vigil_events_decoded_total Events a decoder matched.\n"
	    "# TYPE vigil_events_decoded_total counter\n"
	    "vigil_events_decoded_total %llu\n"
	    "# HELP vigil_alerts_total Alerts written, by kind.\n"
	    "# TYPE vigil_alerts_total counter\n"
	    "vigil_alerts_total{kind=\"detection\"} %llu\n"
	    "vigil_alerts_total{kind=\"correlation\"} %llu\n"
	    "# HELP vigil_alert_write_errors_total Failed writes to the alerts "
	    "output.\n# TYPE vigil_alert_write_errors_total counter\n"
	    "vigil_alert_write_errors_total %llu\n"
	    "# HELP vigil_workers Worker threads.\n# TYPE vigil_workers gauge\n"
	    "vigil_workers %d\n"
	    "# HELP vigil_start_time_seconds When vigild started (Unix time).\n"
	    "# TYPE vigil_start_time_seconds gauge\n"
	    "vigil_start_time_seconds %lld\n",
	    (unsigned long long)p.parsed_5424, (unsigned long long)p.parsed_3164,
	    (unsigned long long)p.parsed_json, (unsigned long long)p.parsed_plain,
	    (unsigned long long)p.json_rejected, (unsigned long long)p.no_timestamp,
	    (unsigned long long)p.skewed, (unsigned long long)p.decoded,
	    (unsigned long long)p.detections, (unsigned long long)corr_alerts,
	    (unsigned long long)__atomic_load_n(&d->sink_errors, __ATOMIC_RELAXED),
	    d->nworkers, (long long)(d->started_ms / 1000));
#undef EACH_INPUT
	if (d->live != NULL) {
		const struct ruleset *rs = detect_live_get(d->live, NULL);

		evbuffer_add_printf(b,
		    "# HELP vigil_rules_loaded Detection rules running.\n"
		    "# TYPE vigil_rules_loaded gauge\n"
		    "vigil_rules_loaded %zu\n"
		    "# HELP vigil_rules_generation Rule set generation (1 at start, "
		    "+1 per successful reload).\n"
		    "# TYPE vigil_rules_generation gauge\n"
		    "vigil_rules_generation %llu\n"
		    "# HELP vigil_rule_reloads_total Rule reloads (SIGHUP, POST "
		    "/api/v1/reload), by result.\n"
		    "# TYPE vigil_rule_reloads_total counter\n"
		    "vigil_rule_reloads_total{result=\"ok\"} %llu\n"
		    "vigil_rule_reloads_total{result=\"failed\"} %llu\n",
		    detect_rule_count(rs),
		    (unsigned long long)detect_live_gen(d->live),
		    (unsigned long long)__atomic_load_n(&d->reloads_ok, __ATOMIC_RELAXED),
		    (unsigned long long)__atomic_load_n(&d->reloads_failed,
		    __ATOMIC_RELAXED));
		detect_ruleset_unref(rs);
	}
	if (__atomic_load_n(&d->corr_on, __ATOMIC_RELAXED)) {
		struct correlate_stats cs = { 0 };
		uint64_t *sum = (uint64_t *)(void *)&cs;
		struct buf m = { 0 };

		/* summed over the workers' published copies (all uint64_t) */
		for (int k = 0; k <= d->nworkers; k++) {
			const uint64_t *w = (const uint64_t *)(const void *)
			    &d->workers[k].cst;

			for (size_t i = 0; i < sizeof(cs) / sizeof(uint64_t); i++)
				sum[i] += CTR_GET(w[i]);
		}
		correlate_stats_metrics(&cs, &m);
		evbuffer_add(b, m.p, m.len);
		buf_free(&m);
		corr_redis_metrics(d, b);
	}
	if (d->resp != NULL) {
		struct buf m = { 0 };

		response_metrics(d->resp, &m);
		evbuffer_add(b, m.p, m.len);
		buf_free(&m);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
	free(t);
}

static void healthz_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();

	(void)arg;
	evbuffer_add_printf(b, "ok\n");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* ---- POST /api/v1/events ---- */

static void peer_of(struct evhttp_request *req, char *out, size_t outlen)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	const char *addr = NULL;
	ev_uint16_t port;

	if (c != NULL)
		evhttp_connection_get_peer(c, (char **)&addr, &port);
	snprintf(out, outlen, "%s", addr != NULL ? addr : "unknown");
}

static void events_cb(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	struct worker *w = &d->workers[d->nworkers];
	struct input_stats *st = &w->st[d->ninputs];
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer *b;
	size_t len = evbuffer_get_length(in), accepted = 0, rejected = 0, nerr = 0;
	const char *body, *p, *end;
	struct buf errs = { 0 };
	char peer[64];
	int lineno = 0;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    "POST");
		reply_error(req, 405, "Method Not Allowed", "use POST");
		return;
	}
	if (authorized(d, req) < 0)
		return;
	peer_of(req, peer, sizeof(peer));
	body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	end = body + len;
	for (p = body; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end, *s = p;
		uint64_t bad0;

		lineno++;
		p = nl != NULL ? nl + 1 : end;
		while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (s == e)
			continue;
		bad0 = pipeline_stats(w->pl)->json_rejected;
		if (*s != '{') {
			CTR_ADD(st->dropped[DROP_NOT_JSON], 1);
			rejected++;
		} else {
			process_msg(w, d->ninputs, s, (size_t)(e - s), peer);
			if (pipeline_stats(w->pl)->json_rejected == bad0) {
				accepted++;
				continue;
			}
			rejected++;
		}
		if (nerr++ < HTTP_MAX_ERRORS) {
			buf_printf(&errs, "%s{\"line\":%d,\"error\":\"%s\"}",
			    errs.len > 0 ? "," : "", lineno, *s != '{' ?
			    "not a JSON object" : "invalid JSON or over the size and "
			    "depth limits (kept as a text event)");
		}
	}
	worker_flush(w);
	worker_publish(w);
	b = evbuffer_new();
	evbuffer_add_printf(b, "{\"accepted\":%zu,\"rejected\":%zu,\"errors\":[%.*s]}\n",
	    accepted, rejected, (int)errs.len, errs.p != NULL ? errs.p : "");
	buf_free(&errs);
	if (accepted == 0 && rejected > 0)
		reply_json(req, 400, "Bad Request", b);
	else
		reply_json(req, 200, "OK", b);
	evbuffer_free(b);
}

/* POST /api/v1/reload: recompile the rules aside and swap them in. */
static void reload_cb(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	struct buf errs = { 0 }, j = { 0 };
	struct evbuffer *b;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    "POST");
		reply_error(req, 405, "Method Not Allowed", "use POST");
		return;
	}
	if (authorized(d, req) < 0)
		return;
	if (d->live == NULL) {
		reply_error(req, 409, "Conflict", "no rule set to reload");
		return;
	}
	b = evbuffer_new();
	if (daemon_reload(d, &errs) < 0) {
		buf_json_str(&j, errs.p != NULL ? errs.p : "", errs.len);
		evbuffer_add_printf(b, "{\"error\":\"the new rules have errors; the "
		    "running rules stay\",\"diagnostics\":%.*s}\n", (int)j.len, j.p);
		reply_json(req, 422, "Unprocessable Entity", b);
	} else {
		const struct ruleset *rs = detect_live_get(d->live, NULL);

		evbuffer_add_printf(b, "{\"reloaded\":true,\"rules\":%zu,"
		    "\"generation\":%llu}\n", detect_rule_count(rs),
		    (unsigned long long)detect_live_gen(d->live));
		detect_ruleset_unref(rs);
		reply_json(req, 200, "OK", b);
	}
	evbuffer_free(b);
	buf_free(&errs);
	buf_free(&j);
}

static void notfound_cb(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;

	if (api_route(req, d->resp))
		return;
	reply_error(req, 404, "Not Found", "no such endpoint");
}

int httpd_open(struct daemon *d)
{
	char host[256];
	int port;

	if (d->cfg->http_listen == NULL || d->cfg->http_listen[0] == '\0')
		return 0;
	if (config_parse_listen(d->cfg->http_listen, host, sizeof(host), &port,
	    NULL) < 0) {
		log_warnx("http: bad address %s", d->cfg->http_listen);
		return -1;
	}
	d->http = evhttp_new(d->base);
	evhttp_set_max_body_size(d->http, HTTP_MAX_BODY);
	evhttp_set_max_headers_size(d->http, 16 << 10);
	evhttp_set_timeout(d->http, 30);
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_cb(d->http, "/metrics", metrics_cb, d);
	evhttp_set_cb(d->http, "/healthz", healthz_cb, d);
	evhttp_set_cb(d->http, "/api/v1/events", events_cb, d);
	evhttp_set_cb(d->http, "/api/v1/reload", reload_cb, d);
	evhttp_set_gencb(d->http, notfound_cb, d);
	if (evhttp_bind_socket(d->http, host, (ev_uint16_t)port) < 0) {
		log_warn("http: bind %s", d->cfg->http_listen);
		return -1;
	}
	log_info("http: listening on %s", d->cfg->http_listen);
	return 0;
}

void httpd_close(struct daemon *d)
{
	if (d->http != NULL)
		evhttp_free(d->http);
	d->http = NULL;
}
