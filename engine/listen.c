/*
 * listen.c: vigild's inputs inside one worker. UDP and unix datagram
 * sockets are read in batches with recvmmsg; TCP and TLS connections go
 * through a bufferevent and the RFC 6587 framer. Every message is run
 * through the worker's pipeline right where it was read.
 *
 * Backpressure: a worker reads a connection only when its loop is free, and
 * the pipeline runs inside the read callback, so a worker that falls behind
 * stops reading; the socket's buffers fill and TCP slows the sender down.
 * Nothing accepted over TCP is dropped. UDP cannot be slowed: what the
 * kernel drops for lack of buffer space is read from the socket (SO_MEMINFO)
 * and exported.
 *
 * Each worker binds its own socket per UDP/TCP/TLS input with SO_REUSEPORT,
 * so the kernel spreads senders over the workers; a unix socket is served by
 * worker 0 alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/sock_diag.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "daemon_int.h"
#include "framing.h"
#include "response.h"

#define UDP_BATCH 64
#define UDP_MAX 65536
#define UDP_ROUNDS 16          /* batches per wake-up, so TCP is not starved */
#define TCP_READ_MAX (256 * 1024)
#define TCP_HIGH_WATER (1024 * 1024)

struct conn {
	struct conn *prev, *next;
	struct worker *w;
	size_t idx;
	struct input_shared *in;
	struct bufferevent *bev;
	struct framing *fr;
	int handshaken;
	char peer[INET6_ADDRSTRLEN];
};

void process_msg(struct worker *w, size_t input, const char *msg, size_t len,
    const char *peer)
{
	struct input_stats *st = &w->st[input];
	const char *name = input < w->d->ninputs ? w->d->ins[input].conf->name :
	    "http";
	const struct rule *const *m;
	struct vg_event *ev;
	size_t n;

	CTR_ADD(st->received, 1);
	CTR_ADD(st->bytes, len);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r' ||
	    msg[len - 1] == '\0'))
		len--;
	ev = pipeline_process(w->pl, msg, len, name, peer, vg_now_ms());
	if (pipeline_rules_gen(w->pl) != w->cache_gen) {
		/* a reload: the cache knows rules by address */
		alert_cache_free(w->cache);
		w->cache = alert_cache_new();
		w->cache_gen = pipeline_rules_gen(w->pl);
	}
	if ((n = pipeline_last_matches(w->pl, &m)) > 0) {
		size_t at = w->out.len;

		if (w->corr != NULL && pipeline_rules_gen(w->pl) == w->d->cs_gen) {
			size_t k = 0;

			correlate_event(w->corr, ev, ev->has_ts ? ev->ts_ms : ev->recv_ms,
			    m, n);
			/* building blocks of correlations (generate: false) are
			 * not written on their own */
			if (n > w->gcap) {
				w->gcap = n * 2;
				w->gen = vg_realloc(w->gen, w->gcap * sizeof(*w->gen));
			}
			for (size_t i = 0; i < n; i++)
				if (correlate_rule_generates(w->d->cs, m[i]))
					w->gen[k++] = m[i];
			m = w->gen;
			if ((n = k) == 0)
				return;
		}

		/* the event is serialised once for all the rules it fired */
		alert_detections_json(w->cache, &w->out, ev, ev->ts_ms, m, n, NULL,
		    NULL, NULL);
		response_submit_lines(w->d->resp, w->out.p + at, w->out.len - at);
		w->alerts += n;
		if (w->out.len >= (1u << 16))
			worker_flush(w);
	}
}

void worker_flush(struct worker *w)
{
	struct daemon *d = w->d;

	if (w->out.len == 0)
		return;
	if (alert_sink_write(d->sink, w->out.p, w->out.len) < 0 ||
	    alert_sink_flush(d->sink) < 0) {
		__atomic_add_fetch(&d->sink_errors, 1, __ATOMIC_RELAXED);
		if (log_ratelimited(&w->rl_sink))
			log_warn("alert: write to %s failed", d->cfg->out_file);
	}
	buf_clear(&w->out);
}

/* A correlation alert, from the worker's loop: written and submitted like
 * a detection; "suppressed" goes before the event when not 0. */
static void corr_alert_cb(void *arg, const struct correlate_alert *ca)
{
	struct worker *w = arg;
	size_t at = w->out.len;
	struct buf b;
	const char *p, *ev;

	buf_init(&b);
	alert_to_json(&b, &ca->a);
	p = buf_cstr(&b);
	ev = strstr(p, ",\"event\":");
	if (ca->suppressed > 0 && ev != NULL) {
		buf_add(&w->out, p, (size_t)(ev - p));
		buf_printf(&w->out, ",\"suppressed\":%llu",
		    (unsigned long long)ca->suppressed);
		buf_adds(&w->out, ev);
	} else {
		buf_adds(&w->out, p);
	}
	buf_free(&b);
	response_submit_lines(w->d->resp, w->out.p + at, w->out.len - at);
	__atomic_add_fetch(&w->corr_alerts, 1, __ATOMIC_RELAXED);
	worker_publish(w);
	/* it comes from a Redis reply, not from input that flushes after */
	worker_flush(w);
}

int worker_correlate_start(struct worker *w, const char *url)
{
	struct rds_conf rc = { 0 };
	struct vg_err e = { 0 };
	static const struct correlate_conf cc = { .lateness_ms = -1 };

	rc.url = url;
	rc.name = "correlate";
	if ((w->rds = rds_new(w->base, &rc, &e)) == NULL) {
		log_errx("correlate: %s", e.msg);
		return -1;
	}
	w->corr = correlate_new(w->d->cs, w->rds, &cc, corr_alert_cb, w);
	return correlate_start_timer(w->corr, 0);
}

/* Copy the pipeline's counters where the metrics handler reads them. */
void worker_publish(struct worker *w)
{
	const struct pipeline_stats *s = pipeline_stats(w->pl);
	struct pipeline_stats *p = &w->pst;

	CTR_SET(p->messages, s->messages);
	CTR_SET(p->parsed_5424, s->parsed_5424);
	CTR_SET(p->parsed_3164, s->parsed_3164);
	CTR_SET(p->parsed_json, s->parsed_json);
	CTR_SET(p->parsed_plain, s->parsed_plain);
	CTR_SET(p->json_rejected, s->json_rejected);
	CTR_SET(p->truncated, s->truncated);
	CTR_SET(p->no_timestamp, s->no_timestamp);
	CTR_SET(p->skewed, s->skewed);
	CTR_SET(p->decoded, s->decoded);
	CTR_SET(p->detections, s->detections);
	if (w->corr != NULL) {
		/* struct correlate_stats is all uint64_t counters */
		const uint64_t *from = (const uint64_t *)(const void *)
		    correlate_stats(w->corr);
		uint64_t *to = (uint64_t *)(void *)&w->cst;

		for (size_t i = 0; i < sizeof(w->cst) / sizeof(uint64_t); i++)
			CTR_SET(to[i], from[i]);
	}
}

static void addr_text(const struct sockaddr *sa, socklen_t salen, char *out,
    size_t outlen)
{
	if (salen == 0 || sa->sa_family == AF_UNIX)
		snprintf(out, outlen, "local");
	else if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
		    (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    out, (socklen_t)outlen);
	else
		snprintf(out, outlen, "unknown");
}

/* ---- datagrams ---- */

/* One recvmmsg batch; the number of messages read, 0 when none is left. */
static int dgram_batch(struct wsock *ws)
{
	struct worker *w = ws->w;
	struct input_stats *st = &w->st[ws->idx];
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage addrs[UDP_BATCH];
	int n;

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i].iov_base = w->udp_bufs + (size_t)i * UDP_MAX;
		iov[i].iov_len = UDP_MAX;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &addrs[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
	}
	n = recvmmsg(ws->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			CTR_ADD(st->dropped[DROP_ERROR], 1);
			if (log_ratelimited(&w->rl_conn))
				log_warn("listener: %s: receive", ws->in->conf->name);
		}
		return 0;
	}
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &msgs[i].msg_hdr;
		char peer[INET6_ADDRSTRLEN];

		if (h->msg_flags & MSG_TRUNC)
			CTR_ADD(st->truncated, 1);
		addr_text((struct sockaddr *)&addrs[i], h->msg_namelen, peer,
		    sizeof(peer));
		process_msg(w, ws->idx, iov[i].iov_base, msgs[i].msg_len, peer);
	}
	return n;
}

static void dgram_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wsock *ws = arg;

	(void)fd;
	(void)what;
	for (int r = 0; r < UDP_ROUNDS; r++) {
		if (dgram_batch(ws) < UDP_BATCH)
			break;
	}
	worker_flush(ws->w);
	worker_publish(ws->w);
}

/* ---- streams ---- */

static int frame_cb(void *arg, const char *data, size_t len, unsigned flags)
{
	struct conn *c = arg;
	struct input_stats *st = &c->w->st[c->idx];

	if (flags & FRAMING_TRUNCATED)
		CTR_ADD(st->truncated, 1);
	if (flags & FRAMING_PARTIAL)
		CTR_ADD(st->partial, 1);
	process_msg(c->w, c->idx, data, len, c->peer);
	return 0;
}

/* Frame and process everything in the connection's input buffer. */
static void conn_consume(struct conn *c)
{
	struct evbuffer *buf = bufferevent_get_input(c->bev);
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

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;

	conn_consume(c);
	framing_finish(c->fr, frame_cb, c);
	framing_free(c->fr);
	bufferevent_free(c->bev);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	__atomic_sub_fetch(&c->in->open, 1, __ATOMIC_RELAXED);
	free(c);
	worker_flush(w);
	worker_publish(w);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	conn_consume(c);
	worker_flush(c->w);
	worker_publish(c->w);
}

static void tls_errors(struct conn *c, char *out, size_t outlen)
{
	unsigned long e;
	size_t n = 0;

	out[0] = '\0';
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		if (n + 2 < outlen) {
			if (n > 0)
				out[n++] = ';';
			ERR_error_string_n(e, out + n, outlen - n);
			n = strlen(out);
		}
	}
	if (n == 0)
		snprintf(out, outlen, "%s", evutil_socket_error_to_string(
		    evutil_socket_geterror(bufferevent_getfd(c->bev))));
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct input_stats *st = &c->w->st[c->idx];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->handshaken = 1;
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		CTR_ADD(st->closed[CONN_IDLE], 1);
		log_info("listener: %s: %s idle, closed", c->in->conf->name, c->peer);
	} else if (what & BEV_EVENT_ERROR) {
		if (c->in->tls != NULL && !c->handshaken) {
			char why[256];

			tls_errors(c, why, sizeof(why));
			CTR_ADD(st->closed[CONN_TLS], 1);
			if (log_ratelimited(&c->w->rl_conn))
				log_warnx("listener: %s: %s: TLS handshake failed: %s",
				    c->in->conf->name, c->peer, why);
		} else {
			CTR_ADD(st->closed[CONN_ERROR], 1);
		}
	} else if (!(what & BEV_EVENT_EOF)) {
		return;
	}
	conn_free(c);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct wsock *ws = arg;
	struct worker *w = ws->w;
	struct input_shared *in = ws->in;
	struct input_stats *st = &w->st[ws->idx];
	struct conn *c;
	char peer[INET6_ADDRSTRLEN];

	(void)l;
	addr_text(sa, (socklen_t)salen, peer, sizeof(peer));
	if (__atomic_add_fetch(&in->open, 1, __ATOMIC_RELAXED) >
	    in->conf->max_connections) {
		__atomic_sub_fetch(&in->open, 1, __ATOMIC_RELAXED);
		CTR_ADD(st->closed[CONN_MAX], 1);
		if (log_ratelimited(&w->rl_conn))
			log_warnx("listener: %s: %s refused: max_connections (%d) "
			    "reached", in->conf->name, peer, in->conf->max_connections);
		evutil_closesocket(fd);
		return;
	}
	c = vg_calloc(1, sizeof(*c));
	c->w = w;
	c->idx = ws->idx;
	c->in = in;
	memcpy(c->peer, peer, sizeof(peer));
	c->fr = framing_new(in->conf->max_message);
	if (in->tls != NULL) {
		SSL *ssl = SSL_new(in->tls);

		c->bev = ssl == NULL ? NULL : bufferevent_openssl_socket_new(w->base,
		    fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev != NULL)
			/* senders often close without close_notify */
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		else if (ssl != NULL)
			SSL_free(ssl);
	} else {
		c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
		c->handshaken = 1;
	}
	if (c->bev == NULL) {
		__atomic_sub_fetch(&in->open, 1, __ATOMIC_RELAXED);
		CTR_ADD(st->closed[CONN_ERROR], 1);
		evutil_closesocket(fd);
		framing_free(c->fr);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_set_max_single_read(c->bev, TCP_READ_MAX);
	bufferevent_setwatermark(c->bev, EV_READ, 0, TCP_HIGH_WATER);
	if (in->conf->idle_timeout_ms > 0) {
		struct timeval tv = {
			.tv_sec = (time_t)(in->conf->idle_timeout_ms / 1000),
			.tv_usec = (suseconds_t)(in->conf->idle_timeout_ms % 1000) * 1000,
		};

		bufferevent_set_timeouts(c->bev, &tv, NULL);
	}
	bufferevent_enable(c->bev, EV_READ);
	c->next = w->conns;
	if (c->next != NULL)
		c->next->prev = c;
	w->conns = c;
	CTR_ADD(st->accepted, 1);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct wsock *ws = arg;

	(void)l;
	/* EMFILE and friends: the listener retries on the next wake-up */
	if (log_ratelimited(&ws->w->rl_conn))
		log_warn("listener: %s: accept", ws->in->conf->name);
}

/* ---- opening ---- */

/*
 * SO_REUSEPORT would let a second vigild share the port silently and take
 * half the traffic: the first worker first binds a probe without it, which
 * fails when anything else holds the address.
 */
static int probe_free(const struct input_conf *ic, const struct sockaddr *sa,
    socklen_t salen, int type)
{
	int fd = socket(sa->sa_family, type | SOCK_CLOEXEC, 0), one = 1, rc;

	if (fd < 0)
		return -1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, sa, salen);
	if (rc < 0)
		log_warn("listener: %s: cannot bind %s %s", ic->name,
		    config_input_type_name(ic->type), ic->listen);
	close(fd);
	return rc;
}

static int inet_socket(struct worker *w, const struct input_conf *ic, int type)
{
	struct sockaddr_storage ss;
	int sslen = (int)sizeof(ss), fd, one = 1;

	if (evutil_parse_sockaddr_port(ic->listen, (struct sockaddr *)&ss,
	    &sslen) < 0) {
		log_warnx("listener: %s: bad address %s", ic->name, ic->listen);
		return -1;
	}
	if (w->id == 0 && probe_free(ic, (struct sockaddr *)&ss,
	    (socklen_t)sslen, type) < 0)
		return -1;
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("listener: %s: socket", ic->name);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) < 0) {
		log_warn("listener: %s: bind %s %s", ic->name,
		    config_input_type_name(ic->type), ic->listen);
		close(fd);
		return -1;
	}
	return fd;
}

static void set_rcvbuf(int fd, const struct input_conf *ic)
{
	int want = (int)ic->rcvbuf, got = 0;
	socklen_t len = sizeof(got);

	/* as root, FORCE goes past net.core.rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 &&
	    got / 2 < want)
		/* Linux doubles the value it is given and reports that */
		log_info("listener: %s: receive buffer %d bytes (asked %d; raise "
		    "net.core.rmem_max)", ic->name, got / 2, want);
}

static int open_unix(struct worker *w, struct wsock *ws)
{
	const struct input_conf *ic = ws->in->conf;
	struct sockaddr_un sun;
	int fd;

	if (strlen(ic->path) >= sizeof(sun.sun_path)) {
		log_warnx("listener: %s: unix socket path too long", ic->name);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, ic->path, strlen(ic->path) + 1);
	(void)w;
	unlink(ic->path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_warn("listener: %s: bind %s", ic->name, ic->path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	chmod(ic->path, 0666);
	return fd;
}

int listen_open(struct daemon *d, struct worker *w, size_t i)
{
	struct wsock *ws = &w->socks[i];
	const struct input_conf *ic = d->ins[i].conf;
	int fd;

	ws->w = w;
	ws->idx = i;
	ws->in = &d->ins[i];
	ws->fd = -1;
	switch (ic->type) {
	case INPUT_UNIX:
		if (w->id != 0)
			return 0;
		if ((fd = open_unix(w, ws)) < 0)
			return -1;
		set_rcvbuf(fd, ic);
		break;
	case INPUT_UDP:
		if ((fd = inet_socket(w, ic, SOCK_DGRAM)) < 0)
			return -1;
		set_rcvbuf(fd, ic);
		break;
	case INPUT_TCP:
	case INPUT_TLS:
		if ((fd = inet_socket(w, ic, SOCK_STREAM)) < 0)
			return -1;
		if (listen(fd, 1024) < 0) {
			log_warn("listener: %s: listen %s", ic->name, ic->listen);
			close(fd);
			return -1;
		}
		ws->listener = evconnlistener_new(w->base, accept_cb, ws,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
		if (ws->listener == NULL) {
			close(fd);
			return -1;
		}
		evconnlistener_set_error_cb(ws->listener, accept_error_cb);
		return 0;
	default:
		return -1;
	}
	ws->fd = fd;
	ws->owns_fd = 1;
	ws->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, dgram_cb, ws);
	event_add(ws->ev, NULL);
	return 0;
}

int listen_tls_init(struct input_shared *in)
{
	const struct input_conf *ic = in->conf;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[256];

	if (ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, ic->cert) != 1) {
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		log_warnx("listener: %s: certificate %s: %s", ic->name, ic->cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, ic->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		log_warnx("listener: %s: key %s: %s", ic->name, ic->key, why);
		goto fail;
	}
	if (ic->ca != NULL && ic->ca[0] != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, ic->ca, NULL) != 1) {
			ERR_error_string_n(ERR_get_error(), why, sizeof(why));
			log_warnx("listener: %s: ca %s: %s", ic->name, ic->ca, why);
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	in->tls = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -1;
}

uint64_t listen_kernel_drops(const struct wsock *ws)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (ws->fd < 0 || getsockopt(ws->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len < (socklen_t)((SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)))
		return 0;
	return mem[SK_MEMINFO_DROPS];
}

/* Stop accepting: free the listeners (closing their sockets). */
void listen_close(struct worker *w)
{
	for (size_t i = 0; i < w->d->ninputs; i++) {
		struct wsock *ws = &w->socks[i];

		if (ws->listener != NULL) {
			evconnlistener_free(ws->listener);
			ws->listener = NULL;
		}
	}
}

/* Read what plain TCP has already accepted into the socket, without
 * waiting for more. */
static void conn_drain_socket(struct conn *c)
{
	char tmp[65536];
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	ssize_t n;

	conn_consume(c);
	if (c->in->tls != NULL || fd < 0)
		return;
	while ((n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT)) > 0) {
		size_t off = 0;

		while (off < (size_t)n)
			off += framing_feed(c->fr, tmp + off, (size_t)n - off,
			    frame_cb, c);
	}
}

/*
 * Shutdown: every message accepted so far is processed. Datagrams queued in
 * the sockets are read, each connection's buffered and queued bytes are
 * framed, a last frame without its trailer is delivered, then everything is
 * closed.
 */
void listen_drain(struct worker *w)
{
	listen_close(w);
	for (size_t i = 0; i < w->d->ninputs; i++) {
		struct wsock *ws = &w->socks[i];

		if (ws->ev != NULL) {
			while (dgram_batch(ws) > 0)
				;
			event_free(ws->ev);
			ws->ev = NULL;
		}
		if (ws->owns_fd) {
			close(ws->fd);
			ws->fd = -1;
			ws->owns_fd = 0;
			if (ws->in->conf->type == INPUT_UNIX)
				unlink(ws->in->conf->path);
		}
	}
	while (w->conns != NULL) {
		conn_drain_socket(w->conns);
		conn_free(w->conns);
	}
	worker_flush(w);
	worker_publish(w);
}
