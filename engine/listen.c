/*
 * listen.c: vigild's inputs inside one worker. UDP and unix datagram
 * sockets are read in batches with recvmmsg; plain TCP connections are read
 * with recv, TCP_READ_MAX bytes at a time, into the worker's receive buffer
 * (a libevent bufferevent reads 4 KiB per call), TLS connections through a
 * bufferevent; both go through the RFC 6587 framer. A datagram is run
 * through the worker's pipeline right where it was read.
 *
 * Stream frames are copied into batches (struct batch, ~64 KiB). A batch
 * goes to another worker's pipeline when that worker has room in its inbox
 * (at most PEER_QUEUE queued or running) and is not framing input of its
 * own, else it runs at once in the reading worker; so a single busy
 * connection uses every worker, and workers that each have busy
 * connections keep their batches (handing them over would only move them
 * between caches). Each batch carries its own alert lines (and where each
 * ends, so the response's filter needs no scan for them); the reading
 * worker hands them to the sink queue strictly in the order its batches
 * were read (fifo), and one worker at a time writes that queue in order,
 * one write per batch, so the alerts of a connection stay in the order of
 * its messages and a worker never waits while another writes (it did, on
 * the sink's lock, with connections at every worker: 8 connections were
 * slower than 1). Events that some correlation wants are copied into
 * their batch with their matches, and the reading worker feeds them to its
 * correlator when it writes the batch: correlation sees each connection's
 * events in the order sent, so a batch run early elsewhere cannot make
 * earlier events late.
 *
 * Backpressure: at most FIFO_MAX batches per reading worker are read and
 * not yet written; beyond that the worker stops framing (plain TCP: the
 * rest of the last read waits in the connection's hold and the socket is
 * not read; TLS: the bytes stay in the bufferevent, which stops reading at
 * its high-water mark), the socket's buffers fill and TCP slows the sender
 * down. The same pause holds while the worker's correlator has CORR_HIGH
 * updates unanswered by a Redis that is connected but behind, until they
 * fall to CORR_LOW (resumed from the reply that gets there); only a Redis
 * that is unreachable leaves updates to the client's bounded outage buffer. Nothing accepted over TCP is
 * dropped. UDP cannot be slowed: what the kernel drops for lack of buffer
 * space is read from the socket (SO_MEMINFO) and exported; its correlation
 * updates go on into the client (bounded, dropped and counted beyond).
 *
 * Each worker binds its own socket per UDP/TCP/TLS input with SO_REUSEPORT,
 * so the kernel spreads senders over the workers; a unix socket is served by
 * worker 0 alone. The kernel picks a stream socket by a hash of the
 * connection's addresses, which often leaves workers uneven; the worker
 * that accepts a connection hands it to the one serving the fewest.
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
#include <time.h>
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
#define TCP_READ_MAX (256 * 1024)  /* plain TCP: bytes per recv */
#define TCP_READS 4               /* recvs per wake-up and connection */
#define TCP_HIGH_WATER (1024 * 1024) /* TLS: bufferevent's read limit */
#define BATCH_BYTES (64 * 1024)  /* frame bytes per batch */
#define BATCH_FRAMES 1024
#define PEER_QUEUE 2           /* batches queued or running at a peer */
#define FIFO_MAX 32            /* batches read and not yet written */
/* Correlation backpressure: stream reading pauses while the worker's
 * correlator has this many updates unanswered (in flight + held by its
 * client) and Redis is connected, and resumes at CORR_LOW. The batches
 * already read (FIFO_MAX of BATCH_FRAMES events) still feed it meanwhile. */
#define CORR_HIGH 65536
#define CORR_LOW 16384
#define SPARE_MAX 8            /* recycled batches kept per worker */

/* Frames of one connection, run by one worker's pipeline. */
struct batch {
	struct batch *next;       /* owner's fifo */
	struct batch *inext;      /* inbox of the worker running it */
	struct batch *snext;      /* the sink queue */
	struct worker *owner;     /* the worker that read it and writes out */
	size_t idx;               /* input */
	int64_t recv_ms;
	struct buf data;          /* the frames, back to back */
	uint32_t *lens;
	size_t n, cap;
	struct buf out;           /* alert lines, in frame order */
	size_t *aends;            /* where each line of out ends (for the
	                             response's filter, which then does not
	                             look for them) */
	size_t naend, aendcap;
	/* events some correlation wants, copied, with their matches: the
	 * reading worker feeds them to its correlator when it writes the
	 * batch, so correlation sees a connection's events in order */
	struct crec *recs;
	size_t nrec, reccap;
	struct buf evdata;        /* their fields (struct cfield + name +
	                             value), and raw messages */
	const struct rule **rules;
	size_t nrules, rulecap;
	uint64_t gen;             /* rule set generation of the records */
	struct corr_ver *cv;      /* keeps their rules alive until fed */
	int done;                 /* atomic: out is complete */
	int written;              /* atomic: out is in the sink */
	char peer[INET6_ADDRSTRLEN];
};

struct crec {
	int64_t ts_ms;            /* the time correlation uses */
	int64_t ev_ts, recv_ms;
	int has_ts;
	const char *decoder;      /* static in the decoder set */
	size_t off, nfields;      /* fields from evdata + off */
	size_t raw, raw_len;      /* raw message at evdata + raw */
	size_t at, n;             /* its matches: rules[at .. at + n) */
};

/* One field of a recorded event; its name (for ids not interned) and its
 * value follow, each NUL-terminated. */
struct cfield {
	uint32_t id;
	uint32_t name_len, len;
	uint8_t kind;
	double num;
};

struct conn {
	struct conn *prev, *next;
	struct worker *w;
	size_t idx;
	struct input_shared *in;
	struct bufferevent *bev;  /* TLS */
	/* plain TCP: read straight from the socket into the worker's read
	 * buffer (libevent's bufferevents read 4 KiB at a time); what framing
	 * left when the fifo filled up waits in hold, and reading stops */
	evutil_socket_t fd;
	struct event *rev;
	struct buf hold;
	size_t hold_off;
	int reading;              /* rev is added */
	struct timeval idle;      /* idle_timeout, when has_idle */
	int has_idle;
	struct framing *fr;
	int handshaken;
	int stalled;              /* framing stopped: the fifo is full */
	int force;                /* closing: frame everything regardless */
	struct batch *cur;        /* being filled */
	char peer[INET6_ADDRSTRLEN];
};

/* A connection one worker accepted and another serves. */
struct adopt {
	struct adopt *next;
	size_t idx;
	evutil_socket_t fd;
	char peer[INET6_ADDRSTRLEN];
};

static void batch_record(struct worker *w, struct batch *b,
    const struct vg_event *ev, int64_t ts_ms, const struct rule *const *m,
    size_t n);
static void adopt_cb(evutil_socket_t fd, short what, void *arg);

/* Note where the n alert lines b->out got from offset at end (one line
 * per rule, each ending in a newline): one rule, as most events fire,
 * needs no look at the text. */
static void batch_ends(struct batch *b, size_t at, size_t n)
{
	const char *p = b->out.p + at, *end = b->out.p + b->out.len;

	if (b->naend + n > b->aendcap) {
		b->aendcap = (b->naend + n) * 2 > 256 ? (b->naend + n) * 2 : 256;
		b->aends = vg_realloc(b->aends, b->aendcap * sizeof(*b->aends));
	}
	for (size_t i = 0; i + 1 < n && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			break;
		p = nl + 1;
		b->aends[b->naend++] = (size_t)(p - b->out.p);
	}
	if (p < end)
		b->aends[b->naend++] = b->out.len;
}

/* One message through w's pipeline; detection alert lines go to out. With
 * b, correlation is recorded in b for the reading worker; without, w's
 * correlator is fed at once. */
static void process_one(struct worker *w, size_t input, const char *msg,
    size_t len, const char *peer, int64_t recv_ms, struct buf *out,
    struct batch *b)
{
	struct input_stats *st = &w->st[input];
	const char *name = input < w->d->ninputs ? w->d->ins[input].conf->name :
	    "http";
	const struct rule *const *m;
	struct vg_event *ev;
	size_t n, at;

	CTR_ADD(st->received, 1);
	CTR_ADD(st->bytes, len);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r' ||
	    msg[len - 1] == '\0'))
		len--;
	ev = pipeline_process(w->pl, msg, len, name, peer, recv_ms);
	if (pipeline_rules_gen(w->pl) != w->cache_gen) {
		/* a reload: the cache knows rules by address */
		alert_cache_free(w->cache);
		w->cache = alert_cache_new();
		w->cache_gen = pipeline_rules_gen(w->pl);
	}
	if ((n = pipeline_last_matches(w->pl, &m)) > 0) {
		/* forward only: a batch written late must not take a worker
		 * back to an older generation */
		if (pipeline_rules_gen(w->pl) > w->corr_gen)
			worker_correlate_sync(w, pipeline_rules_gen(w->pl));
		if (w->cv != NULL && w->cv->cs != NULL) {
			size_t k = 0;
			int64_t ts = ev->has_ts ? ev->ts_ms : ev->recv_ms;

			if (b != NULL)
				batch_record(w, b, ev, ts, m, n);
			else if (w->corr != NULL)
				correlate_event(w->corr, ev, ts, m, n);
			/* building blocks of correlations (generate: false) are
			 * not written on their own */
			if (n > w->gcap) {
				w->gcap = n * 2;
				w->gen = vg_realloc(w->gen, w->gcap * sizeof(*w->gen));
			}
			for (size_t i = 0; i < n; i++)
				if (correlate_rule_generates(w->cv->cs, m[i]))
					w->gen[k++] = m[i];
			m = w->gen;
			if ((n = k) == 0)
				return;
		}

		/* the event is serialised once for all the rules it fired */
		at = out->len;
		alert_detections_json(w->cache, out, ev, ev->ts_ms, m, n, NULL,
		    NULL, NULL);
		w->alerts += n;
		if (b != NULL)
			batch_ends(b, at, n);
	}
}

void process_msg(struct worker *w, size_t input, const char *msg, size_t len,
    const char *peer)
{
	size_t at = w->out.len;

	process_one(w, input, msg, len, peer, vg_now_ms(), &w->out, NULL);
	if (w->out.len > at)
		response_submit_lines(w->d->resp, w->out.p + at, w->out.len - at);
	if (w->out.len >= (1u << 16))
		worker_flush(w);
}

/* Write alert lines to the sink (any worker; the sink locks). */
static void sink_put(struct worker *w, const char *p, size_t len)
{
	struct daemon *d = w->d;

	if (len == 0)
		return;
	if (alert_sink_write(d->sink, p, len) < 0 ||
	    alert_sink_flush(d->sink) < 0) {
		__atomic_add_fetch(&d->sink_errors, 1, __ATOMIC_RELAXED);
		if (log_ratelimited(&w->rl_sink))
			log_warn("alert: write to %s failed", d->cfg->out_file);
	}
}

void worker_flush(struct worker *w)
{
	sink_put(w, w->out.p, w->out.len);
	buf_clear(&w->out);
}

/* A correlation alert, from the worker's loop: written and submitted like
 * a detection. */
static void corr_alert_cb(void *arg, const struct correlate_alert *ca)
{
	struct worker *w = arg;
	size_t at = w->out.len;

	alert_to_json(&w->out, &ca->a);
	response_submit_lines(w->d->resp, w->out.p + at, w->out.len - at);
	__atomic_add_fetch(&w->corr_alerts, 1, __ATOMIC_RELAXED);
	worker_publish(w);
	/* it comes from a Redis reply, not from input that flushes after */
	worker_flush(w);
}

#define STATS_N(s) (sizeof(s) / sizeof(uint64_t))

/* struct correlate_stats: all uint64_t counters */
static void cst_add(struct correlate_stats *to, const struct correlate_stats *a,
    const struct correlate_stats *minus)
{
	uint64_t *t = (uint64_t *)(void *)to;
	const uint64_t *x = (const uint64_t *)(const void *)a;
	const uint64_t *y = (const uint64_t *)(const void *)minus;

	for (size_t i = 0; i < STATS_N(*to); i++)
		t[i] += x[i] - (y != NULL ? y[i] : 0);
}

/* The counters of struct rds_stats (not its gauges). */
static void rst_add(struct rds_stats *to, const struct rds_stats *a,
    const struct rds_stats *minus)
{
	static const struct rds_stats zero;

	if (minus == NULL)
		minus = &zero;
	to->commands += a->commands - minus->commands;
	to->replies += a->replies - minus->replies;
	to->error_replies += a->error_replies - minus->error_replies;
	to->dropped += a->dropped - minus->dropped;
	to->retried += a->retried - minus->retried;
	to->noscript += a->noscript - minus->noscript;
	to->connects += a->connects - minus->connects;
	to->disconnects += a->disconnects - minus->disconnects;
	to->connect_failures += a->connect_failures - minus->connect_failures;
}

static void retired_free(struct worker *w, struct corr_retired *r)
{
	/* what it counted since it was retired */
	cst_add(&w->cst_base, correlate_stats(r->corr), &r->cst0);
	rst_add(&w->rst_base, rds_stats(r->rds), &r->rst0);
	/* the client first: it answers what is outstanding to the correlator */
	rds_free(r->rds);
	correlate_free(r->corr);
	corr_ver_put(w->d, r->cv);
	free(r);
}

/* Every 250 ms while correlating: free the retired correlators Redis has
 * answered, and publish the counters (the client connects and reconnects
 * without any event going through the worker). */
static void retire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct corr_retired **pp = &w->retired, *r;

	(void)fd;
	(void)what;
	while ((r = *pp) != NULL) {
		if (correlate_outstanding(r->corr) == 0 &&
		    rds_outstanding(r->rds) == 0) {
			*pp = r->next;
			retired_free(w, r);
		} else {
			pp = &r->next;
		}
	}
	worker_publish(w);
}

static void tick_start(struct worker *w)
{
	struct timeval tv = { 0, 250 * 1000 };

	if (w->retire_ev == NULL)
		w->retire_ev = event_new(w->base, -1, EV_PERSIST, retire_cb, w);
	if (w->retire_ev != NULL && !event_pending(w->retire_ev, EV_TIMEOUT,
	    NULL))
		event_add(w->retire_ev, &tv);
}

/* Redis caught up (or went away, when buffering is all there is):
 * connections read again, from the loop rather than from inside the
 * client's reply path. */
static void corr_watch_cb(void *arg)
{
	struct worker *w = arg;

	correlate_watch_low(w->corr, 0, NULL, NULL);
	rds_watch_low(w->rds, 0, NULL, NULL);
	w->corr_paused = 0;
	if (w->done_ev != NULL)
		event_active(w->done_ev, EV_READ, 0);
}

static void corr_unpause(struct worker *w)
{
	if (w->corr_paused)
		corr_watch_cb(w);
}

/* After feeding the correlator: while Redis is connected but behind,
 * pause the streams (UDP cannot be paused and goes on); while it is
 * unreachable, the client's bounded buffer takes the updates (and drops
 * and counts beyond it), as it does for UDP. */
static void corr_backpressure(struct worker *w)
{
	if (w->corr_paused || w->corr == NULL || !rds_ready(w->rds) ||
	    correlate_outstanding(w->corr) < CORR_HIGH)
		return;
	w->corr_paused = 1;
	/* whichever comes first: caught up, or the connection lost */
	correlate_watch_low(w->corr, CORR_LOW, corr_watch_cb, w);
	rds_watch_low(w->rds, 0, corr_watch_cb, w);
}

static void corr_retire(struct worker *w)
{
	struct corr_retired *r;

	/* the new correlator starts with nothing outstanding */
	corr_unpause(w);
	if (w->corr == NULL) {
		corr_ver_put(w->d, w->cv);
		w->cv = NULL;
		return;
	}
	r = vg_calloc(1, sizeof(*r));
	r->rds = w->rds;
	r->corr = w->corr;
	r->cv = w->cv;
	r->cst0 = *correlate_stats(r->corr);
	r->rst0 = *rds_stats(r->rds);
	cst_add(&w->cst_base, &r->cst0, NULL);
	rst_add(&w->rst_base, &r->rst0, NULL);
	w->rds = NULL;
	w->corr = NULL;
	w->cv = NULL;
	r->next = w->retired;
	w->retired = r;
	tick_start(w);
}

void worker_correlate_sync(struct worker *w, uint64_t gen)
{
	struct daemon *d = w->d;
	struct corr_ver *v = corr_ver_get(d, gen);
	struct rds_conf rc = { 0 };
	struct vg_err e = { 0 };
	static const struct correlate_conf cc = { .lateness_ms = -1 };

	w->corr_gen = gen;
	if (v == w->cv) {
		corr_ver_put(d, v);
		return;
	}
	/* the old correlator finishes what it sent; keys of the rules both
	 * sets have are the same in Redis, so their windows go on */
	corr_retire(w);
	w->cv = v;
	if (v == NULL || v->cs == NULL || d->corr_url == NULL)
		return;
	rc.url = d->corr_url;
	rc.name = "correlate";
	if ((w->rds = rds_new(w->base, &rc, &e)) == NULL) {
		log_errx("correlate: %s", e.msg);
		return;
	}
	w->corr = correlate_new(v->cs, w->rds, &cc, corr_alert_cb, w);
	if (correlate_start_timer(w->corr, 0) < 0)
		log_warnx("correlate: worker %d: no timer", w->id);
	tick_start(w);
}

void worker_correlate_stop(struct worker *w)
{
	struct corr_retired *r;

	corr_retire(w);
	while ((r = w->retired) != NULL) {
		w->retired = r->next;
		retired_free(w, r);
	}
	if (w->retire_ev != NULL) {
		event_free(w->retire_ev);
		w->retire_ev = NULL;
	}
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
	if (w->corr != NULL || w->retired != NULL || w->cst_base.events > 0 ||
	    w->rst_base.commands > 0) {
		struct correlate_stats c = w->cst_base;
		struct rds_stats r = w->rst_base;
		const uint64_t *from = (const uint64_t *)(const void *)&c;
		uint64_t *to = (uint64_t *)(void *)&w->cst;

		r.pending = r.pending_bytes = r.inflight = 0;
		r.ready = 0;
		if (w->corr != NULL) {
			const struct rds_stats *now = rds_stats(w->rds);

			cst_add(&c, correlate_stats(w->corr), NULL);
			rst_add(&r, now, NULL);
			r.pending = now->pending;
			r.pending_bytes = now->pending_bytes;
			r.inflight = now->inflight;
			r.ready = now->ready;
		}
		for (struct corr_retired *o = w->retired; o != NULL; o = o->next) {
			const struct rds_stats *now = rds_stats(o->rds);

			cst_add(&c, correlate_stats(o->corr), &o->cst0);
			rst_add(&r, now, &o->rst0);
			r.pending += now->pending;
			r.pending_bytes += now->pending_bytes;
			r.inflight += now->inflight;
		}
		for (size_t i = 0; i < STATS_N(w->cst); i++)
			CTR_SET(to[i], from[i]);
		CTR_SET(w->rst.commands, r.commands);
		CTR_SET(w->rst.replies, r.replies);
		CTR_SET(w->rst.error_replies, r.error_replies);
		CTR_SET(w->rst.dropped, r.dropped);
		CTR_SET(w->rst.retried, r.retried);
		CTR_SET(w->rst.noscript, r.noscript);
		CTR_SET(w->rst.connects, r.connects);
		CTR_SET(w->rst.disconnects, r.disconnects);
		CTR_SET(w->rst.connect_failures, r.connect_failures);
		CTR_SET(w->rst.pending, r.pending);
		CTR_SET(w->rst.pending_bytes, r.pending_bytes);
		CTR_SET(w->rst.inflight, r.inflight);
		CTR_SET(w->rst.ready, r.ready);
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

/* ---- batches ---- */

static struct batch *batch_get(struct worker *w, const struct conn *c)
{
	struct batch *b = w->spare;

	if (b != NULL)
		w->spare = b->next;
	else
		b = vg_calloc(1, sizeof(*b));
	b->next = b->inext = NULL;
	b->owner = w;
	b->idx = c->idx;
	b->recv_ms = vg_now_ms();
	buf_clear(&b->data);
	buf_clear(&b->out);
	b->naend = 0;
	b->n = 0;
	b->nrec = b->nrules = 0;
	buf_clear(&b->evdata);
	b->gen = 0;
	b->cv = NULL;
	b->done = 0;
	b->written = 0;
	memcpy(b->peer, c->peer, sizeof(b->peer));
	return b;
}

/* Copy ev and its matches into b (the processing worker, w). A compact
 * copy: a struct vg_event per record would cost its index pages. */
static void batch_record(struct worker *w, struct batch *b,
    const struct vg_event *ev, int64_t ts_ms, const struct rule *const *m,
    size_t n)
{
	const struct corr_set *cs = w->cv->cs;
	struct crec *r;
	size_t i;

	for (i = 0; i < n && !correlate_wants(cs, m[i]); i++)
		;
	if (i == n)
		return;
	if (b->cv == NULL || b->gen != w->corr_gen) {
		/* the rules of the records stay alive until they are fed */
		corr_ver_put(w->d, b->cv);
		b->cv = corr_ver_get(w->d, w->corr_gen);
		b->gen = w->corr_gen;
	}
	if (b->nrec == b->reccap) {
		b->reccap = b->reccap ? b->reccap * 2 : 64;
		b->recs = vg_realloc(b->recs, b->reccap * sizeof(*b->recs));
	}
	r = &b->recs[b->nrec++];
	r->ts_ms = ts_ms;
	r->ev_ts = ev->ts_ms;
	r->has_ts = ev->has_ts;
	r->recv_ms = ev->recv_ms;
	r->decoder = ev->decoder;
	r->off = b->evdata.len;
	r->nfields = 0;
	for (uint32_t k = 0; k < ev->n; k++) {
		const struct fent *f = &ev->ents[k];
		struct cfield cf;

		if (f->dead)
			continue;
		memset(&cf, 0, sizeof(cf));
		cf.id = f->id;
		cf.name_len = f->id == FIELD_NONE ? f->name_len : 0;
		cf.len = f->v.len;
		cf.kind = f->v.kind;
		cf.num = f->v.num;
		buf_add(&b->evdata, &cf, sizeof(cf));
		if (cf.name_len > 0)
			buf_add(&b->evdata, f->name, cf.name_len);
		buf_add(&b->evdata, "", 1);
		buf_add(&b->evdata, f->v.s, f->v.len);
		buf_add(&b->evdata, "", 1);
		r->nfields++;
	}
	r->raw = b->evdata.len;
	r->raw_len = ev->raw != NULL ? ev->raw_len : 0;
	if (ev->raw != NULL)
		buf_add(&b->evdata, ev->raw, ev->raw_len);
	buf_add(&b->evdata, "", 1);
	r->at = b->nrules;
	r->n = n;
	if (b->nrules + n > b->rulecap) {
		b->rulecap = (b->nrules + n) * 2;
		b->rules = vg_realloc(b->rules, b->rulecap * sizeof(*b->rules));
	}
	memcpy(b->rules + b->nrules, m, n * sizeof(*m));
	b->nrules += n;
}

/* Rebuild recorded event r of b in e. */
static void crec_event(const struct batch *b, const struct crec *r,
    struct vg_event *e)
{
	const char *p = b->evdata.p + r->off;

	vg_event_reset(e);
	for (size_t k = 0; k < r->nfields; k++) {
		struct cfield cf;
		const char *name, *val;

		memcpy(&cf, p, sizeof(cf));
		name = p + sizeof(cf);
		val = name + cf.name_len + 1;
		p = val + cf.len + 1;
		if (cf.id != FIELD_NONE && cf.kind == V_STR)
			vg_event_add_ref(e, cf.id, val, cf.len);
		else if (cf.id != FIELD_NONE && cf.kind == V_NUM)
			vg_event_add_num(e, cf.id, val, cf.len, cf.num);
		else if (cf.id != FIELD_NONE)
			vg_event_add_named(e, field_name(cf.id), strlen(field_name(
			    cf.id)), val, cf.len, (enum value_kind)cf.kind, cf.num);
		else
			vg_event_add_named(e, name, cf.name_len, val, cf.len,
			    (enum value_kind)cf.kind, cf.num);
	}
	e->ts_ms = r->ev_ts;
	e->has_ts = r->has_ts;
	e->recv_ms = r->recv_ms;
	e->raw = r->raw_len > 0 ? b->evdata.p + r->raw : NULL;
	e->raw_len = r->raw_len;
	e->decoder = r->decoder;
}

/* The reading worker, writing b: its correlation records, in order. */
static void batch_correlate(struct worker *w, struct batch *b)
{
	if (b->nrec == 0)
		return;
	if (b->gen > w->corr_gen)
		worker_correlate_sync(w, b->gen);
	/* a record of an older generation than w's correlator names rules it
	 * does not have: ignored (only around a reload) */
	if (w->corr != NULL) {
		if (w->cev == NULL)
			w->cev = vg_event_new();
		for (size_t i = 0; i < b->nrec; i++) {
			const struct crec *r = &b->recs[i];

			crec_event(b, r, w->cev);
			correlate_event(w->corr, w->cev, r->ts_ms, b->rules + r->at,
			    r->n);
		}
	}
	b->nrec = b->nrules = 0;
	buf_clear(&b->evdata);
	corr_ver_put(w->d, b->cv);
	b->cv = NULL;
}

static void batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	buf_free(&b->data);
	buf_free(&b->out);
	free(b->aends);
	free(b->lens);
	buf_free(&b->evdata);
	free(b->recs);
	free(b->rules);
	free(b);
}

static void batch_put(struct worker *w, struct batch *b)
{
	size_t n = 0;

	for (struct batch *s = w->spare; s != NULL; s = s->next)
		n++;
	if (n >= SPARE_MAX) {
		batch_free(b);
		return;
	}
	b->next = w->spare;
	w->spare = b;
}

/* Run b's frames through w's pipeline (w: any worker, in its thread). */
static void batch_run(struct worker *w, struct batch *b)
{
	size_t off = 0;

	for (size_t i = 0; i < b->n; i++) {
		process_one(w, b->idx, b->data.p + off, b->lens[i], b->peer,
		    b->recv_ms, &b->out, b);
		off += b->lens[i];
	}
	response_submit_ends(w->d->resp, b->out.p, b->aends, b->naend);
	worker_publish(w);
}

/*
 * Hand the batches from first (linked by snext) to the sink queue, and
 * unless another worker is writing it already, write the queue until it is
 * empty. A worker that finds the writer busy goes on with its input instead
 * of waiting on the sink's lock: two workers writing at once mostly wait
 * for each other. The queue keeps the order of hand-over, and each owner
 * hands its batches over in reading order. An owner learns its batch is
 * written from b->written (and its done_ev when another worker wrote it).
 */
static void sinkq_write(struct worker *w, struct batch *first,
    struct batch *last)
{
	struct daemon *d = w->d;
	struct batch *b;

	pthread_mutex_lock(&d->sinkq_lock);
	if (d->sinkq_tail != NULL)
		d->sinkq_tail->snext = first;
	else
		d->sinkq_head = first;
	d->sinkq_tail = last;
	if (d->sinkq_busy) {
		pthread_mutex_unlock(&d->sinkq_lock);
		return;
	}
	d->sinkq_busy = 1;
	while ((b = d->sinkq_head) != NULL) {
		d->sinkq_head = d->sinkq_tail = NULL;
		pthread_mutex_unlock(&d->sinkq_lock);
		while (b != NULL) {
			struct batch *next = b->snext;
			struct worker *owner = b->owner;

			sink_put(w, b->out.p, b->out.len);
			/* b belongs to its owner again from here */
			__atomic_store_n(&b->written, 1, __ATOMIC_RELEASE);
			if (owner != w)
				event_active(owner->done_ev, EV_READ, 0);
			b = next;
		}
		pthread_mutex_lock(&d->sinkq_lock);
	}
	d->sinkq_busy = 0;
	pthread_mutex_unlock(&d->sinkq_lock);
}

/* Hand the alerts of the finished batches at the head of w's fifo to the
 * sink, in order, and recycle the batches already written. */
static void fifo_commit(struct worker *w)
{
	struct batch *b, *first = NULL, *last = NULL;

	while ((b = w->fifo_sub) != NULL &&
	    __atomic_load_n(&b->done, __ATOMIC_ACQUIRE)) {
		w->fifo_sub = b->next;
		batch_correlate(w, b);
		b->snext = NULL;
		if (b->out.len == 0) {
			b->written = 1;
		} else {
			if (last != NULL)
				last->snext = b;
			else
				first = b;
			last = b;
		}
	}
	if (first != NULL)
		sinkq_write(w, first, last);
	while ((b = w->fifo_head) != NULL && b != w->fifo_sub &&
	    __atomic_load_n(&b->written, __ATOMIC_ACQUIRE)) {
		w->fifo_head = b->next;
		if (w->fifo_head == NULL)
			w->fifo_tail = NULL;
		w->fifo_len--;
		batch_put(w, b);
	}
	corr_backpressure(w);
}

/* Run what other workers handed to w. */
static void inbox_run(struct worker *w)
{
	for (;;) {
		struct batch *b;
		struct worker *owner;

		pthread_mutex_lock(&w->inbox_lock);
		if ((b = w->inbox_head) != NULL) {
			w->inbox_head = b->inext;
			if (w->inbox_head == NULL)
				w->inbox_tail = NULL;
		}
		pthread_mutex_unlock(&w->inbox_lock);
		if (b == NULL)
			return;
		batch_run(w, b);
		/* b belongs to its owner again once done is set */
		owner = b->owner;
		__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
		__atomic_sub_fetch(&w->inbox_depth, 1, __ATOMIC_RELAXED);
		event_active(owner->done_ev, EV_READ, 0);
	}
}

/* Offer b to another worker with room; 0 when none took it. */
static int batch_hand(struct worker *w, struct batch *b)
{
	struct daemon *d = w->d;
	int n = d->nworkers;

	if (n < 2 || __atomic_load_n(&d->draining, __ATOMIC_RELAXED))
		return 0;
	for (int i = 0; i < n; i++) {
		struct worker *t = &d->workers[(w->next_peer + (unsigned)i) %
		    (unsigned)n];
		int wake;

		/* a peer framing its own input has work: handing it ours
		 * too would only move batches between caches */
		if (t == w || __atomic_load_n(&t->inbox_depth, __ATOMIC_RELAXED) >=
		    PEER_QUEUE || __atomic_load_n(&t->reading, __ATOMIC_RELAXED))
			continue;
		pthread_mutex_lock(&t->inbox_lock);
		if (t->inbox_closed) {
			pthread_mutex_unlock(&t->inbox_lock);
			continue;
		}
		wake = t->inbox_head == NULL;
		if (t->inbox_tail != NULL)
			t->inbox_tail->inext = b;
		else
			t->inbox_head = b;
		t->inbox_tail = b;
		__atomic_add_fetch(&t->inbox_depth, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&t->inbox_lock);
		if (wake)
			event_active(t->inbox_ev, EV_READ, 0);
		w->next_peer = (w->next_peer + (unsigned)i + 1) % (unsigned)n;
		return 1;
	}
	return 0;
}

/* The connection's current batch is complete: queue it for writing and
 * run it here or at a peer. */
static void batch_dispatch(struct worker *w, struct conn *c)
{
	struct batch *b = c->cur;

	if (b == NULL)
		return;
	c->cur = NULL;
	if (w->fifo_tail != NULL)
		w->fifo_tail->next = b;
	else
		w->fifo_head = b;
	w->fifo_tail = b;
	if (w->fifo_sub == NULL)
		w->fifo_sub = b;
	w->fifo_len++;
	if (!batch_hand(w, b)) {
		batch_run(w, b);
		b->done = 1;
	}
	/* what peers handed in runs between our own batches */
	inbox_run(w);
	fifo_commit(w);
}

/* ---- streams ---- */

static void conn_consume(struct conn *c);

/* Peers finished batches of ours: write, then frame what waited. */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	fifo_commit(w);
	if (w->stalled && w->fifo_len < FIFO_MAX && !w->corr_paused) {
		w->stalled = 0;
		for (struct conn *c = w->conns; c != NULL; c = c->next) {
			if (c->stalled) {
				c->stalled = 0;
				conn_consume(c);
			}
		}
	}
	worker_publish(w);
}

static void inbox_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	inbox_run(arg);
}

int listen_batches_init(struct worker *w)
{
	pthread_mutex_init(&w->inbox_lock, NULL);
	w->done_ev = event_new(w->base, -1, 0, done_cb, w);
	w->inbox_ev = event_new(w->base, -1, 0, inbox_cb, w);
	w->adopt_ev = event_new(w->base, -1, 0, adopt_cb, w);
	return w->done_ev != NULL && w->inbox_ev != NULL && w->adopt_ev != NULL ?
	    0 : -1;
}

void listen_batches_fini(struct worker *w)
{
	struct batch *b;

	vg_event_free(w->cev);
	w->cev = NULL;
	if (w->done_ev == NULL && w->inbox_ev == NULL && w->adopt_ev == NULL)
		return;
	/* handed over and never served (a start-up failure) */
	while (w->adopt_head != NULL) {
		struct adopt *a = w->adopt_head;

		w->adopt_head = a->next;
		evutil_closesocket(a->fd);
		free(a);
	}
	while ((b = w->spare) != NULL) {
		w->spare = b->next;
		batch_free(b);
	}
	w->fifo_sub = NULL;
	while ((b = w->fifo_head) != NULL) {
		w->fifo_head = b->next;
		corr_ver_put(w->d, b->cv);
		batch_free(b);
	}
	if (w->done_ev != NULL)
		event_free(w->done_ev);
	if (w->inbox_ev != NULL)
		event_free(w->inbox_ev);
	if (w->adopt_ev != NULL)
		event_free(w->adopt_ev);
	w->done_ev = w->inbox_ev = w->adopt_ev = NULL;
	pthread_mutex_destroy(&w->inbox_lock);
}

/*
 * Stopping: close the inbox (running what is queued: its owners wait for
 * it), and after listen_drain wait until the batches w handed out are done
 * and written. Every worker closes its inbox before it waits, and a closed
 * inbox takes nothing, so no one waits for a worker that waits.
 */
static void inbox_close(struct worker *w)
{
	pthread_mutex_lock(&w->inbox_lock);
	w->inbox_closed = 1;
	pthread_mutex_unlock(&w->inbox_lock);
	inbox_run(w);
}

static void fifo_wait(struct worker *w)
{
	fifo_commit(w);
	while (w->fifo_head != NULL) {
		struct timespec ts = { 0, 200 * 1000 };

		nanosleep(&ts, NULL);
		fifo_commit(w);
	}
}

/* The worker has too much read and not yet written (or Redis is behind):
 * stream framing pauses. */
static int worker_full(const struct worker *w)
{
	return w->fifo_len >= FIFO_MAX || w->corr_paused;
}

static int frame_cb(void *arg, const char *data, size_t len, unsigned flags)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	struct input_stats *st = &w->st[c->idx];
	struct batch *b;

	if (flags & FRAMING_TRUNCATED)
		CTR_ADD(st->truncated, 1);
	if (flags & FRAMING_PARTIAL)
		CTR_ADD(st->partial, 1);
	if ((b = c->cur) == NULL)
		b = c->cur = batch_get(w, c);
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->lens = vg_realloc(b->lens, b->cap * sizeof(*b->lens));
	}
	b->lens[b->n++] = (uint32_t)len;
	buf_add(&b->data, data, len);
	if (b->data.len >= BATCH_BYTES || b->n >= BATCH_FRAMES) {
		batch_dispatch(w, c);
		if (worker_full(w) && !c->force) {
			/* backpressure: the rest stays in the bufferevent or in
			 * the connection's hold */
			c->stalled = w->stalled = 1;
			return 1;
		}
	}
	return 0;
}

/* Plain TCP: watch the socket or stop reading it (stalled, closing). */
static void conn_reading(struct conn *c, int on)
{
	if (c->rev == NULL || c->reading == on)
		return;
	if (on)
		event_add(c->rev, c->has_idle ? &c->idle : NULL);
	else
		event_del(c->rev);
	c->reading = on;
}

/* Plain TCP: frame p[0..n) just read; what backpressure leaves unframed
 * goes to the connection's hold, and reading stops until it is framed. */
static void conn_take(struct conn *c, const char *p, size_t n)
{
	size_t off = 0;

	if (c->hold_off == c->hold.len && (c->force || (!c->stalled &&
	    !worker_full(c->w)))) {
		while (off < n && (c->force || !c->stalled))
			off += framing_feed(c->fr, p + off, n - off, frame_cb, c);
	} else if (!c->force) {
		c->stalled = c->w->stalled = 1;
	}
	if (off < n)
		buf_add(&c->hold, p + off, n - off);
	if (c->stalled && !c->force)
		conn_reading(c, 0);
}

/* Frame and process everything the connection holds (TLS: its input
 * buffer), unless the worker has too much read and not yet written. */
static void conn_consume(struct conn *c)
{
	if (c->stalled && !c->force)
		return;
	if (worker_full(c->w) && !c->force) {
		c->stalled = c->w->stalled = 1;
		conn_reading(c, 0);
		return;
	}
	c->stalled = 0;
	if (c->bev != NULL) {
		struct evbuffer *buf = bufferevent_get_input(c->bev);
		struct evbuffer_iovec v[16];
		size_t len;

		while (!c->stalled && (len = evbuffer_get_length(buf)) > 0) {
			size_t total = 0;
			int n = evbuffer_peek(buf, (ev_ssize_t)len, NULL, v, 16);

			if (n > 16)
				n = 16;
			for (int i = 0; i < n && !c->stalled; i++)
				total += framing_feed(c->fr, v[i].iov_base,
				    v[i].iov_len, frame_cb, c);
			if (total == 0)
				break;
			evbuffer_drain(buf, total);
		}
	} else {
		while (!c->stalled && c->hold_off < c->hold.len)
			c->hold_off += framing_feed(c->fr, c->hold.p + c->hold_off,
			    c->hold.len - c->hold_off, frame_cb, c);
		if (c->hold_off == c->hold.len) {
			buf_clear(&c->hold);
			c->hold_off = 0;
		}
		conn_reading(c, !c->stalled && !c->force);
	}
	/* what was read is not held back waiting for more */
	batch_dispatch(c->w, c);
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;

	c->force = 1;
	conn_consume(c);
	framing_finish(c->fr, frame_cb, c);
	batch_dispatch(w, c);
	framing_free(c->fr);
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
	} else {
		event_free(c->rev);
		evutil_closesocket(c->fd);
		buf_free(&c->hold);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	__atomic_sub_fetch(&c->in->open, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&w->nconns, 1, __ATOMIC_RELAXED);
	free(c);
	worker_flush(w);
	worker_publish(w);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	__atomic_store_n(&c->w->reading, 1, __ATOMIC_RELAXED);
	conn_consume(c);
	__atomic_store_n(&c->w->reading, 0, __ATOMIC_RELAXED);
	worker_flush(c->w);
	worker_publish(c->w);
}

/* Plain TCP: up to TCP_READS reads of TCP_READ_MAX bytes into the worker's
 * receive buffer, each framed before the next. */
static void conn_sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	struct input_stats *st = &w->st[c->idx];

	if (what & EV_TIMEOUT) {
		CTR_ADD(st->closed[CONN_IDLE], 1);
		log_info("listener: %s: %s idle, closed", c->in->conf->name, c->peer);
		conn_free(c);
		return;
	}
	__atomic_store_n(&w->reading, 1, __ATOMIC_RELAXED);
	for (int r = 0; r < TCP_READS && !c->stalled; r++) {
		ssize_t n = recv(fd, w->udp_bufs, TCP_READ_MAX, 0);

		if (n == 0) {
			__atomic_store_n(&w->reading, 0, __ATOMIC_RELAXED);
			conn_free(c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			__atomic_store_n(&w->reading, 0, __ATOMIC_RELAXED);
			CTR_ADD(st->closed[CONN_ERROR], 1);
			conn_free(c);
			return;
		}
		conn_take(c, w->udp_bufs, (size_t)n);
		if ((size_t)n < TCP_READ_MAX)
			break;
	}
	/* what was read is not held back waiting for more */
	batch_dispatch(w, c);
	__atomic_store_n(&w->reading, 0, __ATOMIC_RELAXED);
	worker_flush(w);
	worker_publish(w);
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

/* Serve plain TCP or TLS connection fd of input idx in w (w's thread). */
static void conn_start(struct worker *w, size_t idx, evutil_socket_t fd,
    const char *peer)
{
	struct input_shared *in = &w->d->ins[idx];
	struct input_stats *st = &w->st[idx];
	struct conn *c;

	c = vg_calloc(1, sizeof(*c));
	c->fd = -1;
	c->w = w;
	c->idx = idx;
	c->in = in;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->fr = framing_new(in->conf->max_message);
	if (in->tls != NULL) {
		SSL *ssl = SSL_new(in->tls);

		/*
		 * Callbacks deferred to the loop: libevent's TLS reader calls
		 * the event callback for a close_notify found in the same
		 * pass as the last records before it commits their bytes to
		 * the input buffer, and conn_free there would frame the
		 * input without them (up to a record per connection lost,
		 * the last message delivered cut). Deferred, the event
		 * callback runs after that pass, with every byte in.
		 */
		c->bev = ssl == NULL ? NULL : bufferevent_openssl_socket_new(w->base,
		    fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (c->bev != NULL)
			/* senders often close without close_notify */
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		else if (ssl != NULL)
			SSL_free(ssl);
	} else {
		c->fd = fd;
		c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, conn_sock_cb,
		    c);
		c->handshaken = 1;
	}
	if (c->bev == NULL && c->rev == NULL) {
		__atomic_sub_fetch(&in->open, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&w->nconns, 1, __ATOMIC_RELAXED);
		CTR_ADD(st->closed[CONN_ERROR], 1);
		evutil_closesocket(fd);
		framing_free(c->fr);
		free(c);
		return;
	}
	if (in->conf->idle_timeout_ms > 0) {
		c->idle.tv_sec = (time_t)(in->conf->idle_timeout_ms / 1000);
		c->idle.tv_usec = (suseconds_t)(in->conf->idle_timeout_ms % 1000) *
		    1000;
		c->has_idle = 1;
	}
	if (c->bev != NULL) {
		bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
		bufferevent_set_max_single_read(c->bev, TCP_READ_MAX);
		bufferevent_setwatermark(c->bev, EV_READ, 0, TCP_HIGH_WATER);
		if (c->has_idle)
			bufferevent_set_timeouts(c->bev, &c->idle, NULL);
		bufferevent_enable(c->bev, EV_READ);
	} else {
		conn_reading(c, 1);
	}
	c->next = w->conns;
	if (c->next != NULL)
		c->next->prev = c;
	w->conns = c;
	CTR_ADD(st->accepted, 1);
}

/*
 * The worker that serves a new stream connection: the one serving the
 * fewest, w (the one that accepted it) among equals; counted there. The
 * kernel spreads connections over the workers' SO_REUSEPORT sockets by a
 * hash of their addresses, which leaves 8 connections on 2 workers as 5
 * and 3 or worse about 3 times in 4; a worker's connections are framed,
 * and their alerts written, by that worker.
 */
static struct worker *conn_home(struct worker *w)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct daemon *d = w->d;
	struct worker *t = w;

	pthread_mutex_lock(&lock);
	for (int k = 0; k < d->nworkers; k++) {
		struct worker *o = &d->workers[k];

		if (__atomic_load_n(&o->nconns, __ATOMIC_RELAXED) <
		    __atomic_load_n(&t->nconns, __ATOMIC_RELAXED))
			t = o;
	}
	__atomic_add_fetch(&t->nconns, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock);
	return t;
}

/* Hand fd over to t; -1 when t is draining (the caller keeps it). */
static int adopt_offer(struct worker *t, size_t idx, evutil_socket_t fd,
    const char *peer)
{
	struct adopt *a = vg_calloc(1, sizeof(*a)), **pp;

	a->idx = idx;
	a->fd = fd;
	snprintf(a->peer, sizeof(a->peer), "%s", peer);
	pthread_mutex_lock(&t->inbox_lock);
	if (t->adopt_closed) {
		pthread_mutex_unlock(&t->inbox_lock);
		free(a);
		return -1;
	}
	for (pp = &t->adopt_head; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = a;
	pthread_mutex_unlock(&t->inbox_lock);
	event_active(t->adopt_ev, EV_READ, 0);
	return 0;
}

/* Serve the connections other workers handed over; with closing, take no
 * more after these (draining). */
static void adopt_take(struct worker *w, int closing)
{
	struct adopt *a;

	pthread_mutex_lock(&w->inbox_lock);
	a = w->adopt_head;
	w->adopt_head = NULL;
	if (closing)
		w->adopt_closed = 1;
	pthread_mutex_unlock(&w->inbox_lock);
	while (a != NULL) {
		struct adopt *next = a->next;

		conn_start(w, a->idx, a->fd, a->peer);
		free(a);
		a = next;
	}
}

static void adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	adopt_take(arg, 0);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct wsock *ws = arg;
	struct worker *w = ws->w, *t;
	struct input_shared *in = ws->in;
	struct input_stats *st = &w->st[ws->idx];
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
	t = conn_home(w);
	if (t != w) {
		if (adopt_offer(t, ws->idx, fd, peer) == 0)
			return;
		__atomic_sub_fetch(&t->nconns, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&w->nconns, 1, __ATOMIC_RELAXED);
	}
	conn_start(w, ws->idx, fd, peer);
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
	char *tmp = c->w->udp_bufs;
	ssize_t n;

	c->force = 1;
	conn_consume(c);
	if (c->bev != NULL)
		return;
	while ((n = recv(c->fd, tmp, TCP_READ_MAX, MSG_DONTWAIT)) > 0)
		conn_take(c, tmp, (size_t)n);
}

/*
 * Shutdown: every message accepted so far is processed. Datagrams queued in
 * the sockets are read, each connection's buffered and queued bytes are
 * framed, a last frame without its trailer is delivered, then everything is
 * closed.
 */
void listen_drain(struct worker *w)
{
	__atomic_store_n(&w->d->draining, 1, __ATOMIC_RELAXED);
	if (w->inbox_ev != NULL)
		inbox_close(w);
	listen_close(w);
	/* connections handed over are served (and drained below); a worker
	 * still accepting keeps them from now on */
	if (w->adopt_ev != NULL)
		adopt_take(w, 1);
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
	fifo_wait(w);
	worker_flush(w);
	worker_publish(w);
}
