/*
 * daemon.c: vigild's event loop (libevent). Inputs: UDP and unix datagram
 * sockets (batched with recvmmsg), TCP with per-frame RFC 6587 framing.
 * Every message runs through the pipeline to completion in the loop thread;
 * alerts go to the configured sink. /healthz and /metrics are served on the
 * http listener.
 *
 * This is the single-threaded core; TLS, per-core workers with
 * SO_REUSEPORT, backpressure and privilege dropping build on it.
 */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "framing.h"
#include "log.h"
#include "pipeline.h"

#define UDP_BATCH 64
#define UDP_MAX 65536
#define TCP_MAX_FRAME (64 * 1024)

struct daemon;

struct input_stats {
	uint64_t received, bytes, truncated, connections, errors;
};

struct input {
	struct daemon *d;
	const struct input_conf *conf;
	int fd;
	struct event *ev;
	struct evconnlistener *listener;
	struct input_stats st;
};

struct conn {
	struct conn *prev, *next;
	struct input *in;
	struct bufferevent *bev;
	struct framing *fr;
	char peer[INET6_ADDRSTRLEN + 8];
};

struct daemon {
	const struct config *cfg;
	struct event_base *base;
	struct pipeline_conf pc;
	struct pipeline *pl;
	struct alert_sink *sink;
	struct buf out;
	struct input *inputs;
	size_t ninputs;
	struct conn *conns;
	struct evhttp *http;
	struct event *sig_term, *sig_int, *sig_hup, *flush_timer;
	uint64_t alerts;
	uint64_t sink_errors;
	char *udp_bufs;
	struct log_rl rl_sink;
};

static void alert_cb(void *arg, const struct alert *a)
{
	struct daemon *d = arg;

	d->alerts++;
	alert_to_json(&d->out, a);
	if (d->out.len >= (1u << 16)) {
		if (alert_sink_write(d->sink, d->out.p, d->out.len) < 0) {
			d->sink_errors++;
			if (log_ratelimited(&d->rl_sink))
				log_warn("alert: write to %s failed", d->cfg->out_file);
		}
		buf_clear(&d->out);
	}
}

static void flush_alerts(struct daemon *d)
{
	if (d->out.len > 0) {
		if (alert_sink_write(d->sink, d->out.p, d->out.len) < 0) {
			d->sink_errors++;
			if (log_ratelimited(&d->rl_sink))
				log_warn("alert: write to %s failed", d->cfg->out_file);
		}
		buf_clear(&d->out);
	}
	alert_sink_flush(d->sink);
}

static void process(struct input *in, const char *msg, size_t len, const char *peer)
{
	in->st.received++;
	in->st.bytes += len;
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r' ||
	    msg[len - 1] == '\0'))
		len--;
	pipeline_process(in->d->pl, msg, len, in->conf->name, peer, vg_now_ms());
}

static void addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
		    (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    out, (socklen_t)outlen);
	else
		snprintf(out, outlen, "local");
}

static void dgram_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct input *in = arg;
	struct daemon *d = in->d;
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage addrs[UDP_BATCH];
	int n;

	(void)what;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i].iov_base = d->udp_bufs + (size_t)i * UDP_MAX;
		iov[i].iov_len = UDP_MAX;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &addrs[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
	}
	n = recvmmsg(fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			in->st.errors++;
		return;
	}
	for (int i = 0; i < n; i++) {
		char peer[INET6_ADDRSTRLEN];

		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			in->st.truncated++;
		if (msgs[i].msg_hdr.msg_namelen == 0)
			snprintf(peer, sizeof(peer), "local");
		else
			addr_text((struct sockaddr *)&addrs[i], peer, sizeof(peer));
		process(in, iov[i].iov_base, msgs[i].msg_len, peer);
	}
}

static int frame_cb(void *arg, const char *data, size_t len, unsigned flags)
{
	struct conn *c = arg;

	if (flags & FRAMING_TRUNCATED)
		c->in->st.truncated++;
	process(c->in, data, len, c->peer);
	return 0;
}

static void conn_free(struct conn *c)
{
	framing_finish(c->fr, frame_cb, c);
	framing_free(c->fr);
	bufferevent_free(c->bev);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->in->d->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *buf = bufferevent_get_input(bev);
	struct evbuffer_iovec v[16];
	size_t len;

	while ((len = evbuffer_get_length(buf)) > 0) {
		size_t total = 0;
		int n = evbuffer_peek(buf, (ev_ssize_t)len, NULL, v, 16);

		if (n > 16)
			n = 16;
		for (int i = 0; i < n; i++)
			total += framing_feed(c->fr, v[i].iov_base, v[i].iov_len,
			    frame_cb, c);
		if (total == 0)
			break;
		evbuffer_drain(buf, total);
	}
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		conn_read_cb(c->bev, c);
		conn_free(c);
	}
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct input *in = arg;
	struct conn *c = vg_calloc(1, sizeof(*c));

	(void)l;
	(void)salen;
	c->in = in;
	c->fr = framing_new(TCP_MAX_FRAME);
	addr_text(sa, c->peer, sizeof(c->peer));
	c->bev = bufferevent_socket_new(in->d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
	c->next = in->d->conns;
	if (c->next != NULL)
		c->next->prev = c;
	in->d->conns = c;
	in->st.connections++;
}

/* Parse "host:port" / "[v6]:port" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	int len = (int)sizeof(*ss);

	if (evutil_parse_sockaddr_port(listen, (struct sockaddr *)ss, &len) < 0)
		return -1;
	*sslen = (socklen_t)len;
	return 0;
}

static int open_dgram(struct input *in)
{
	const struct input_conf *ic = in->conf;
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	socklen_t sslen;
	int fd, one = 1, rcvbuf = 8 << 20;

	if (ic->type == INPUT_UNIX) {
		if (strlen(ic->path) >= sizeof(sun.sun_path)) {
			log_warnx("listener: %s: unix socket path too long", ic->name);
			return -1;
		}
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, ic->path);
		unlink(ic->path);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			log_warn("listener: %s: bind %s", ic->name, ic->path);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		chmod(ic->path, 0666);
	} else {
		if (parse_listen(ic->listen, &ss, &sslen) < 0) {
			log_warnx("listener: %s: bad address %s", ic->name, ic->listen);
			return -1;
		}
		fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
			log_warn("listener: %s: bind udp %s", ic->name, ic->listen);
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	in->fd = fd;
	in->ev = event_new(in->d->base, fd, EV_READ | EV_PERSIST, dgram_read_cb, in);
	event_add(in->ev, NULL);
	log_info("listener: %s: %s %s", ic->name, config_input_type_name(ic->type),
	    ic->type == INPUT_UNIX ? ic->path : ic->listen);
	return 0;
}

static int open_stream(struct input *in)
{
	const struct input_conf *ic = in->conf;
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (parse_listen(ic->listen, &ss, &sslen) < 0) {
		log_warnx("listener: %s: bad address %s", ic->name, ic->listen);
		return -1;
	}
	in->listener = evconnlistener_new_bind(in->d->base, accept_cb, in,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024,
	    (struct sockaddr *)&ss, (int)sslen);
	if (in->listener == NULL) {
		log_warn("listener: %s: bind tcp %s", ic->name, ic->listen);
		return -1;
	}
	log_info("listener: %s: tcp %s", ic->name, ic->listen);
	return 0;
}

static void metrics_cb(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	const struct pipeline_stats *st = pipeline_stats(d->pl);
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "# TYPE vigil_messages_received_total counter\n");
	for (size_t i = 0; i < d->ninputs; i++)
		evbuffer_add_printf(b, "vigil_messages_received_total{input=\"%s\"} %llu\n",
		    d->inputs[i].conf->name,
		    (unsigned long long)d->inputs[i].st.received);
	evbuffer_add_printf(b, "# TYPE vigil_bytes_received_total counter\n");
	for (size_t i = 0; i < d->ninputs; i++)
		evbuffer_add_printf(b, "vigil_bytes_received_total{input=\"%s\"} %llu\n",
		    d->inputs[i].conf->name, (unsigned long long)d->inputs[i].st.bytes);
	evbuffer_add_printf(b, "# TYPE vigil_messages_dropped_total counter\n");
	for (size_t i = 0; i < d->ninputs; i++)
		evbuffer_add_printf(b, "vigil_messages_dropped_total{input=\"%s\",reason=\"error\"} %llu\n",
		    d->inputs[i].conf->name, (unsigned long long)d->inputs[i].st.errors);
	evbuffer_add_printf(b, "# TYPE vigil_messages_truncated_total counter\n");
	for (size_t i = 0; i < d->ninputs; i++)
		evbuffer_add_printf(b, "vigil_messages_truncated_total{input=\"%s\"} %llu\n",
		    d->inputs[i].conf->name, (unsigned long long)d->inputs[i].st.truncated);
	evbuffer_add_printf(b, "# TYPE vigil_connections_total counter\n");
	for (size_t i = 0; i < d->ninputs; i++)
		evbuffer_add_printf(b, "vigil_connections_total{input=\"%s\"} %llu\n",
		    d->inputs[i].conf->name, (unsigned long long)d->inputs[i].st.connections);
	evbuffer_add_printf(b,
	    "# TYPE vigil_messages_parsed_total counter\n"
	    "vigil_messages_parsed_total{format=\"rfc5424\"} %llu\n"
	    "vigil_messages_parsed_total{format=\"rfc3164\"} %llu\n"
	    "vigil_messages_parsed_total{format=\"json\"} %llu\n"
	    "vigil_messages_parsed_total{format=\"plain\"} %llu\n"
	    "# TYPE vigil_json_rejected_total counter\n"
	    "vigil_json_rejected_total %llu\n"
	    "# TYPE vigil_events_decoded_total counter\n"
	    "vigil_events_decoded_total %llu\n"
	    "# TYPE vigil_alerts_total counter\n"
	    "vigil_alerts_total{kind=\"detection\"} %llu\n"
	    "vigil_alerts_total{kind=\"correlation\"} 0\n"
	    "# TYPE vigil_alert_write_errors_total counter\n"
	    "vigil_alert_write_errors_total %llu\n",
	    (unsigned long long)st->parsed_5424, (unsigned long long)st->parsed_3164,
	    (unsigned long long)st->parsed_json, (unsigned long long)st->parsed_plain,
	    (unsigned long long)st->json_rejected, (unsigned long long)st->decoded,
	    (unsigned long long)st->detections, (unsigned long long)d->sink_errors);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void healthz_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();

	(void)arg;
	evbuffer_add_printf(b, "ok\n");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static int open_http(struct daemon *d)
{
	char host[256];
	const char *colon;
	long port;

	if (d->cfg->http_listen == NULL || d->cfg->http_listen[0] == '\0')
		return 0;
	colon = strrchr(d->cfg->http_listen, ':');
	if (colon == NULL || (size_t)(colon - d->cfg->http_listen) >= sizeof(host))
		return -1;
	memcpy(host, d->cfg->http_listen, (size_t)(colon - d->cfg->http_listen));
	host[colon - d->cfg->http_listen] = '\0';
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	port = strtol(colon + 1, NULL, 10);
	d->http = evhttp_new(d->base);
	evhttp_set_max_body_size(d->http, 1 << 20);
	evhttp_set_cb(d->http, "/metrics", metrics_cb, d);
	evhttp_set_cb(d->http, "/healthz", healthz_cb, d);
	if (evhttp_bind_socket(d->http, host, (ev_uint16_t)port) < 0) {
		log_warn("http: bind %s", d->cfg->http_listen);
		return -1;
	}
	log_info("http: listening on %s", d->cfg->http_listen);
	return 0;
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	log_notice("main: signal %d, stopping", (int)sig);
	event_base_loopexit(d->base, NULL);
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)sig;
	(void)what;
	flush_alerts(d);
	if (alert_sink_reopen(d->sink) < 0)
		log_warn("alert: reopen %s", d->cfg->out_file);
	else
		log_info("alert: reopened %s", d->cfg->out_file);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush_alerts(arg);
}

int daemon_run(const struct config *cfg, const struct decode_set *dec,
    const struct ruleset *rules)
{
	struct daemon dd, *d = &dd;
	struct vg_err err = { 0 };
	struct timeval second = { 1, 0 };
	int rc = -1;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	signal(SIGPIPE, SIG_IGN);
	if (cfg->data_dir[0] != '\0' && mkdir(cfg->data_dir, 0750) < 0 &&
	    errno != EEXIST)
		log_warn("main: cannot create data_dir %s", cfg->data_dir);
	if ((d->sink = alert_sink_open(cfg->out_file, cfg->out_stdout, &err)) == NULL) {
		log_errx("alert: %s", err.msg);
		return -1;
	}
	pipeline_conf_defaults(&d->pc);
	d->pc.decoders = dec;
	d->pc.rules = rules;
	d->pc.tz_offset_min = cfg->tz_offset_min;
	d->pc.max_skew_ms = cfg->max_skew_ms;
	d->pl = pipeline_new(&d->pc, alert_cb, d);
	d->base = event_base_new();
	d->udp_bufs = vg_malloc((size_t)UDP_BATCH * UDP_MAX);
	d->inputs = vg_calloc(cfg->ninputs, sizeof(*d->inputs));
	d->ninputs = cfg->ninputs;
	for (size_t i = 0; i < cfg->ninputs; i++) {
		struct input *in = &d->inputs[i];

		in->d = d;
		in->conf = &cfg->inputs[i];
		in->fd = -1;
		switch (in->conf->type) {
		case INPUT_UDP:
		case INPUT_UNIX:
			if (open_dgram(in) < 0)
				goto done;
			break;
		case INPUT_TCP:
			if (open_stream(in) < 0)
				goto done;
			break;
		case INPUT_TLS:
			log_errx("listener: %s: tls inputs are not available yet in this version",
			    in->conf->name);
			goto done;
		}
	}
	if (open_http(d) < 0)
		goto done;
	d->sig_term = evsignal_new(d->base, SIGTERM, stop_cb, d);
	d->sig_int = evsignal_new(d->base, SIGINT, stop_cb, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, hup_cb, d);
	d->flush_timer = event_new(d->base, -1, EV_PERSIST, flush_cb, d);
	event_add(d->sig_term, NULL);
	event_add(d->sig_int, NULL);
	event_add(d->sig_hup, NULL);
	event_add(d->flush_timer, &second);
	log_notice("main: vigild running: %zu decoders, %zu rules", decode_count(dec),
	    detect_rule_count(rules));
	event_base_dispatch(d->base);
	rc = 0;
done:
	/* drain what the open connections already delivered */
	while (d->conns != NULL) {
		conn_read_cb(d->conns->bev, d->conns);
		conn_free(d->conns);
	}
	flush_alerts(d);
	for (size_t i = 0; i < d->ninputs; i++) {
		struct input *in = &d->inputs[i];

		if (in->ev != NULL)
			event_free(in->ev);
		if (in->listener != NULL)
			evconnlistener_free(in->listener);
		if (in->fd >= 0)
			close(in->fd);
		if (in->conf->type == INPUT_UNIX && in->fd >= 0)
			unlink(in->conf->path);
	}
	if (d->http != NULL)
		evhttp_free(d->http);
	if (d->sig_term != NULL) {
		event_free(d->sig_term);
		event_free(d->sig_int);
		event_free(d->sig_hup);
		event_free(d->flush_timer);
	}
	free(d->inputs);
	free(d->udp_bufs);
	event_base_free(d->base);
	pipeline_free(d->pl);
	alert_sink_close(d->sink);
	buf_free(&d->out);
	return rc;
}
