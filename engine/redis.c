/*
 * redis.c: the asynchronous Redis client of redis.h.
 *
 * Client states: IDLE (waiting for the reconnect timer), CONNECTING (TCP or
 * unix connect in progress, bounded by a timer), HANDSHAKE (AUTH, SELECT and
 * SCRIPT LOAD written, their replies awaited, bounded by the same timer) and
 * READY. Commands are written to hiredis only when READY and while fewer
 * than max_inflight are unanswered; the rest wait in the pending FIFO. A
 * command keeps its formatted bytes until its reply, so it can be resent
 * after NOSCRIPT or after the connection broke (RDS_RETRY). Commands that
 * were in flight when the connection broke go back in front of the pending
 * ones, in their original order, so a caller's updates reach Redis in the
 * order they were issued.
 *
 * What this file does not do: decide what to store (the callers' Lua
 * scripts do), or block the loop (only rds_drain waits, for callers outside
 * any loop). The embedded server is redis_server.c.
 */
#include "redis.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <openssl/evp.h>

#include "log.h"

#define DEF_MAX_PENDING 100000u
#define DEF_MAX_PENDING_BYTES (64u * 1024u * 1024u)
#define DEF_MAX_INFLIGHT 65536u
#define DEF_BACKOFF_MIN 100
#define DEF_BACKOFF_MAX 5000
#define DEF_CONNECT_TIMEOUT 2000
#define NOSCRIPT_TRIES 3

/* ---- URLs ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = vg_lower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..n) into out (cap bytes with the NUL). */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_db(const char *s, size_t n, int *db)
{
	long v = 0;

	if (n == 0 || n > 6)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*db = (int)v;
	return 0;
}

/* "[user]:password@" before rest; sets *rest past it. */
static int parse_userinfo(const char *s, const char *end, struct rds_url *u,
    const char **rest, struct vg_err *err)
{
	const char *at = NULL, *colon;

	for (const char *p = s; p < end && *p != '/'; p++)
		if (*p == '@')
			at = p;
	if (u->is_unix) {
		/* unix://[:pw@]/path: the '@' comes before the first '/' */
		at = NULL;
		for (const char *p = s; p < end && *p != '/'; p++)
			if (*p == '@')
				at = p;
	}
	if (at == NULL) {
		*rest = s;
		return 0;
	}
	colon = memchr(s, ':', (size_t)(at - s));
	if (colon == NULL) {
		/* a bare word is a password too (redis-cli -u accepts it) */
		colon = s - 1;
	}
	if (pct_decode(colon + 1, (size_t)(at - colon - 1), u->password,
	    sizeof(u->password)) < 0) {
		vg_err_set(err, NULL, 0, 0, "bad password encoding in Redis URL");
		return -1;
	}
	*rest = at + 1;
	return 0;
}

int rds_parse_url(const char *url, struct rds_url *u, struct vg_err *err)
{
	const char *p, *end;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (url == NULL || *url == '\0') {
		vg_err_set(err, NULL, 0, 0, "empty Redis URL");
		return -1;
	}
	end = url + strlen(url);
	if (strncmp(url, "redis://", 8) == 0) {
		const char *hs, *he, *q;

		if (parse_userinfo(url + 8, end, u, &p, err) < 0)
			return -1;
		if (*p == '[') {
			hs = p + 1;
			he = strchr(hs, ']');
			if (he == NULL) {
				vg_err_set(err, NULL, 0, 0,
				    "unterminated [address] in Redis URL");
				return -1;
			}
			q = he + 1;
		} else {
			hs = p;
			he = p + strcspn(p, ":/?");
			q = he;
		}
		if (he == hs || (size_t)(he - hs) >= sizeof(u->host)) {
			vg_err_set(err, NULL, 0, 0, "bad host in Redis URL");
			return -1;
		}
		memcpy(u->host, hs, (size_t)(he - hs));
		u->host[he - hs] = '\0';
		if (*q == ':') {
			long port = 0;
			const char *d = ++q;

			while (*q >= '0' && *q <= '9' && port <= 65535)
				port = port * 10 + (*q++ - '0');
			if (q == d || port < 1 || port > 65535) {
				vg_err_set(err, NULL, 0, 0,
				    "bad port in Redis URL");
				return -1;
			}
			u->port = (int)port;
		}
		if (*q == '/' && q[1] != '\0') {
			const char *d = q + 1;
			size_t n = strcspn(d, "?");

			if (parse_db(d, n, &u->db) < 0) {
				vg_err_set(err, NULL, 0, 0,
				    "bad database number in Redis URL");
				return -1;
			}
			q = d + n;
		} else if (*q == '/') {
			q++;
		}
		if (*q != '\0') {
			vg_err_set(err, NULL, 0, 0,
			    "unexpected '%s' in Redis URL", q);
			return -1;
		}
		return 0;
	}
	if (strncmp(url, "unix://", 7) == 0) {
		const char *q;
		size_t n;

		u->is_unix = 1;
		if (parse_userinfo(url + 7, end, u, &p, err) < 0)
			return -1;
		if (*p != '/') {
			vg_err_set(err, NULL, 0, 0,
			    "unix Redis URL needs an absolute path (unix:///path)");
			return -1;
		}
		n = strcspn(p, "?");
		if (n >= sizeof(u->path)) {
			vg_err_set(err, NULL, 0, 0,
			    "unix socket path longer than %zu bytes",
			    sizeof(u->path) - 1);
			return -1;
		}
		memcpy(u->path, p, n);
		u->path[n] = '\0';
		q = p + n;
		if (*q == '?') {
			q++;
			if (strncmp(q, "db=", 3) != 0 ||
			    parse_db(q + 3, strlen(q + 3), &u->db) < 0) {
				vg_err_set(err, NULL, 0, 0,
				    "bad query in unix Redis URL (only ?db=N)");
				return -1;
			}
		}
		return 0;
	}
	if (strncmp(url, "rediss://", 9) == 0) {
		vg_err_set(err, NULL, 0, 0, "TLS to Redis (rediss://) is not supported");
		return -1;
	}
	vg_err_set(err, NULL, 0, 0,
	    "Redis URL must start with redis:// or unix://");
	return -1;
}

/* ---- client ---- */

enum rstate { RS_IDLE, RS_CONNECTING, RS_HANDSHAKE, RS_READY };

struct rcmd {
	struct rcmd *next;
	struct rds *r;
	char *data;        /* formatted RESP (hiredis allocation) */
	size_t len;
	rds_reply_cb cb;
	void *arg;
	unsigned flags;
	int script;        /* script handle for EVALSHA, else -1 */
	int tries;         /* NOSCRIPT resends */
	int internal;      /* 0: user; 1: handshake; 2: SCRIPT LOAD later */
	uint64_t wseq;     /* when it was last written */
};

struct rscript {
	char *body;
	char sha[41];
	uint64_t load_wseq; /* when SCRIPT LOAD was last written */
};

struct cmdq {
	struct rcmd *head, *tail;
	size_t n, bytes;
};

struct rds {
	struct event_base *base;
	struct rds_url url;
	char *where;           /* URL without password, for logs */
	char *name;
	size_t max_pending, max_pending_bytes, max_inflight;
	int64_t backoff_min, backoff_max, connect_timeout;

	redisAsyncContext *ac;
	enum rstate state;
	int broken;            /* the connection is being torn down */
	int closing;           /* rds_free in progress */
	int aborting;          /* we are freeing ac ourselves */
	uint64_t wseq;         /* commands written, ever */
	struct event *timer;   /* reconnect delay / connect timeout */
	int64_t backoff;
	size_t handshake_left;

	struct cmdq pending;   /* not written yet */
	struct cmdq requeue;   /* in flight when the connection broke */

	struct rscript *scripts;
	size_t nscripts;

	struct rds_stats st;
	struct log_rl rl_down, rl_err;

	/* rds_watch_low */
	void (*low_cb)(void *);
	void *low_arg;
	size_t low;
};

static void q_push(struct cmdq *q, struct rcmd *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->n++;
	q->bytes += c->len;
}

static struct rcmd *q_pop(struct cmdq *q)
{
	struct rcmd *c = q->head;

	if (c == NULL)
		return NULL;
	q->head = c->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	q->bytes -= c->len;
	c->next = NULL;
	return c;
}

static void q_push_front(struct cmdq *q, struct rcmd *c)
{
	c->next = q->head;
	q->head = c;
	if (q->tail == NULL)
		q->tail = c;
	q->n++;
	q->bytes += c->len;
}

/* Move all of src in front of dst. */
static void q_splice_front(struct cmdq *dst, struct cmdq *src)
{
	if (src->head == NULL)
		return;
	src->tail->next = dst->head;
	if (dst->tail == NULL)
		dst->tail = src->tail;
	dst->head = src->head;
	dst->n += src->n;
	dst->bytes += src->bytes;
	memset(src, 0, sizeof(*src));
}

static void cmd_free(struct rcmd *c)
{
	if (c == NULL)
		return;
	redisFreeCommand(c->data);
	free(c);
}

static void sync_gauges(struct rds *r)
{
	r->st.pending = r->pending.n + r->requeue.n;
	r->st.pending_bytes = r->pending.bytes + r->requeue.bytes;
	r->st.ready = r->state == RS_READY && !r->broken;
}

/* The watcher of rds_watch_low, once its condition holds. */
static void low_check(struct rds *r)
{
	void (*cb)(void *) = r->low_cb;

	if (cb == NULL || r->closing)
		return;
	if (r->pending.n + r->requeue.n + r->st.inflight > r->low &&
	    r->state == RS_READY && !r->broken)
		return;
	r->low_cb = NULL;
	cb(r->low_arg);
}

/* Finish a command with no reply. */
static void cmd_fail(struct rcmd *c)
{
	if (c->internal == 0 && c->cb != NULL)
		c->cb(c->arg, NULL);
	cmd_free(c);
}

/* Keep the pending buffer within its bounds, dropping the oldest. */
static void enforce_bounds(struct rds *r)
{
	while (r->pending.n > 0 && (r->pending.n > r->max_pending ||
	    r->pending.bytes > r->max_pending_bytes)) {
		struct rcmd *c = q_pop(&r->pending);

		r->st.dropped++;
		if (log_ratelimited(&r->rl_err))
			log_warnx("redis %s: buffer full (%zu commands, %zu bytes): "
			    "dropping the oldest", r->where, r->pending.n,
			    r->pending.bytes);
		cmd_fail(c);
	}
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv);

/* Hand c to hiredis; -1 when the context refuses it (tearing down). */
static int write_cmd(struct rds *r, struct rcmd *c)
{
	if (r->ac == NULL || r->broken)
		return -1;
	if (redisAsyncFormattedCommand(r->ac, on_reply, c, c->data, c->len) !=
	    REDIS_OK)
		return -1;
	r->st.inflight++;
	c->wseq = ++r->wseq;
	return 0;
}

static int can_write(const struct rds *r)
{
	return r->state == RS_READY && !r->broken && r->ac != NULL &&
	    !r->closing;
}

/* Write held commands while the in-flight bound allows. */
static void pump(struct rds *r)
{
	while (can_write(r) && r->st.inflight < r->max_inflight &&
	    r->pending.head != NULL) {
		struct rcmd *c = q_pop(&r->pending);

		if (write_cmd(r, c) < 0) {
			q_push_front(&r->pending, c);
			break;
		}
	}
	sync_gauges(r);
}

static struct rcmd *cmd_new(struct rds *r, int argc, const char **argv,
    const size_t *argvlen)
{
	struct rcmd *c = vg_calloc(1, sizeof(*c));
	int n;

	n = redisFormatCommandArgv(&c->data, argc, argv, argvlen);
	if (n < 0 || c->data == NULL) {
		fprintf(stderr, "vigil: out of memory formatting a Redis command\n");
		abort();
	}
	c->len = (size_t)n;
	c->r = r;
	c->script = -1;
	return c;
}

/* Returns the write sequence number, 0 if it could not be written. */
static uint64_t send_internal(struct rds *r, int kind, int argc,
    const char **argv)
{
	struct rcmd *c = cmd_new(r, argc, argv, NULL);

	c->internal = kind;
	if (write_cmd(r, c) < 0) {
		cmd_free(c);
		return 0;
	}
	if (kind == 1)
		r->handshake_left++;
	return c->wseq;
}

static void load_script(struct rds *r, size_t i)
{
	const char *argv[3] = { "SCRIPT", "LOAD", r->scripts[i].body };

	r->scripts[i].load_wseq = send_internal(r,
	    r->state == RS_READY ? 2 : 1, 3, argv);
}

static void schedule(struct rds *r, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(r->timer, &tv);
}

static void become_ready(struct rds *r)
{
	size_t held = r->pending.n;

	r->state = RS_READY;
	r->backoff = 0;
	r->st.connects++;
	evtimer_del(r->timer);
	if (held > 0)
		log_notice("redis %s: connected (%s); sending %zu held commands",
		    r->where, r->name, held);
	else
		log_info("redis %s: connected (%s)", r->where, r->name);
	pump(r);
}

/* The connection is gone (or never came): back to IDLE with a delay. */
static void conn_down(struct rds *r, const char *why)
{
	int was_ready = r->state == RS_READY;
	int64_t delay;

	if (r->closing)
		return;
	r->ac = NULL;
	r->broken = 0;
	r->state = RS_IDLE;
	r->handshake_left = 0;
	r->st.inflight = 0;
	if (was_ready)
		r->st.disconnects++;
	else
		r->st.connect_failures++;
	r->st.retried += r->requeue.n;
	q_splice_front(&r->pending, &r->requeue);
	enforce_bounds(r);
	if (r->backoff == 0)
		r->backoff = r->backoff_min;
	else if ((r->backoff *= 2) > r->backoff_max)
		r->backoff = r->backoff_max;
	/* +-25% jitter so that many clients do not reconnect in step */
	delay = r->backoff - r->backoff / 4 +
	    (int64_t)(random() % (r->backoff / 2 + 1));
	if (was_ready || log_ratelimited(&r->rl_down))
		log_warnx("redis %s: %s (%s); retrying in %lld ms, %zu commands held",
		    r->where, why ? why : "connection lost", r->name,
		    (long long)delay, r->pending.n);
	sync_gauges(r);
	evtimer_del(r->timer);
	schedule(r, delay);
	low_check(r);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct rds *r = ac->data;

	if (r == NULL || r->closing)
		return;
	if (status != REDIS_OK) {
		char why[256];

		snprintf(why, sizeof(why), "cannot connect: %s",
		    ac->errstr[0] ? ac->errstr : "error");
		/* hiredis frees ac after this returns */
		conn_down(r, why);
		return;
	}
	r->state = RS_HANDSHAKE;
	r->handshake_left = 0;
	if (r->url.password[0] != '\0') {
		const char *argv[2] = { "AUTH", r->url.password };

		send_internal(r, 1, 2, argv);
	}
	if (r->url.db != 0) {
		char db[16];
		const char *argv[2] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", r->url.db);
		send_internal(r, 1, 2, argv);
	}
	for (size_t i = 0; i < r->nscripts; i++)
		load_script(r, i);
	if (r->handshake_left == 0)
		become_ready(r);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rds *r = ac->data;
	char why[256];

	(void)status;
	if (r == NULL || r->closing || r->aborting)
		return;
	snprintf(why, sizeof(why), "connection lost: %s",
	    ac->errstr[0] ? ac->errstr : "closed");
	conn_down(r, why);
}

static void handshake_reply(struct rds *r, struct rcmd *c,
    const redisReply *rep)
{
	if (rep->type == REDIS_REPLY_ERROR) {
		log_errx("redis %s: connection set-up failed: %.*s", r->where,
		    (int)rep->len, rep->str);
		if (c->internal == 1 && r->ac != NULL && !r->broken) {
			/* replies of the rest of the hand-shake still arrive;
			 * then hiredis closes and on_disconnect retries */
			r->broken = 1;
			redisAsyncDisconnect(r->ac);
		}
		return;
	}
	if (c->internal == 1 && r->state == RS_HANDSHAKE &&
	    --r->handshake_left == 0 && !r->broken)
		become_ready(r);
}

static int is_noscript(const redisReply *rep)
{
	return rep->type == REDIS_REPLY_ERROR && rep->len >= 8 &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rcmd *c = priv;
	struct rds *r = c->r;
	redisReply *rep = reply;

	(void)ac;
	if (r->st.inflight > 0)
		r->st.inflight--;
	if (rep == NULL) {
		/* the connection is going away: hiredis fails every
		 * outstanding callback, then calls on_disconnect */
		r->broken = 1;
		if (c->internal == 0 && (c->flags & RDS_RETRY) && !r->closing) {
			q_push(&r->requeue, c);
			return;
		}
		cmd_fail(c);
		return;
	}
	if (c->internal != 0) {
		handshake_reply(r, c, rep);
		cmd_free(c);
		return;
	}
	if (c->script >= 0 && is_noscript(rep) && c->tries < NOSCRIPT_TRIES &&
	    !r->closing) {
		/* SCRIPT FLUSH, or a server that restarted behind a proxy:
		 * load again and resend, in order. Commands written before
		 * the last load need no new one. */
		struct rscript *s = &r->scripts[c->script];

		r->st.noscript++;
		c->tries++;
		if (c->wseq > s->load_wseq)
			load_script(r, (size_t)c->script);
		if (write_cmd(r, c) == 0)
			return;
		if (c->flags & RDS_RETRY) {
			q_push(&r->requeue, c);
			return;
		}
	}
	r->st.replies++;
	if (rep->type == REDIS_REPLY_ERROR) {
		r->st.error_replies++;
		if (log_ratelimited(&r->rl_err))
			log_warnx("redis %s: error reply: %.*s", r->where,
			    (int)rep->len, rep->str);
	}
	if (c->cb != NULL)
		c->cb(c->arg, rep);
	cmd_free(c);
	pump(r);
	low_check(r);
}

static void connect_now(struct rds *r)
{
	redisAsyncContext *ac;
	int64_t to = r->connect_timeout;
	struct timeval tv = { (time_t)(to / 1000), (suseconds_t)(to % 1000) * 1000 };

	if (r->url.is_unix)
		ac = redisAsyncConnectUnix(r->url.path);
	else
		ac = redisAsyncConnect(r->url.host, r->url.port);
	if (ac == NULL) {
		r->state = RS_CONNECTING; /* so conn_down counts a failure */
		conn_down(r, "cannot connect: out of memory");
		return;
	}
	if (ac->err) {
		char why[256];

		snprintf(why, sizeof(why), "cannot connect: %s", ac->errstr);
		redisAsyncFree(ac);
		r->state = RS_CONNECTING;
		conn_down(r, why);
		return;
	}
	ac->data = r;
	if (redisLibeventAttach(ac, r->base) != REDIS_OK) {
		redisAsyncFree(ac);
		r->state = RS_CONNECTING;
		conn_down(r, "cannot attach to the event loop");
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	r->ac = ac;
	r->broken = 0;
	r->state = RS_CONNECTING;
	evtimer_add(r->timer, &tv);
}

/* Reconnect delay over, or connecting / hand-shake took too long. */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rds *r = arg;
	redisAsyncContext *ac;

	(void)fd;
	(void)what;
	if (r->closing)
		return;
	if (r->state == RS_IDLE) {
		connect_now(r);
		return;
	}
	if (r->state == RS_CONNECTING || r->state == RS_HANDSHAKE) {
		ac = r->ac;
		r->aborting = 1;
		r->ac = NULL;
		if (ac != NULL)
			redisAsyncFree(ac);
		r->aborting = 0;
		conn_down(r, r->state == RS_CONNECTING ? "connect timed out" :
		    "no answer to the connection set-up");
	}
}

static char *url_for_logs(const struct rds_url *u)
{
	char tmp[512];

	if (u->is_unix)
		snprintf(tmp, sizeof(tmp), "unix://%s", u->path);
	else if (strchr(u->host, ':'))
		snprintf(tmp, sizeof(tmp), "[%s]:%d", u->host, u->port);
	else
		snprintf(tmp, sizeof(tmp), "%s:%d", u->host, u->port);
	if (u->db != 0) {
		size_t n = strlen(tmp);

		snprintf(tmp + n, sizeof(tmp) - n, " db %d", u->db);
	}
	return vg_strdup(tmp);
}

struct rds *rds_new(struct event_base *base, const struct rds_conf *c,
    struct vg_err *err)
{
	struct rds *r;
	struct rds_url u;

	if (rds_parse_url(c->url, &u, err) < 0)
		return NULL;
	r = vg_calloc(1, sizeof(*r));
	r->base = base;
	r->url = u;
	r->where = url_for_logs(&u);
	r->name = vg_strdup(c->name ? c->name : "redis");
	r->max_pending = c->max_pending ? c->max_pending : DEF_MAX_PENDING;
	r->max_pending_bytes = c->max_pending_bytes ? c->max_pending_bytes :
	    DEF_MAX_PENDING_BYTES;
	r->max_inflight = c->max_inflight ? c->max_inflight : DEF_MAX_INFLIGHT;
	r->backoff_min = c->backoff_min_ms > 0 ? c->backoff_min_ms : DEF_BACKOFF_MIN;
	r->backoff_max = c->backoff_max_ms > 0 ? c->backoff_max_ms : DEF_BACKOFF_MAX;
	if (r->backoff_max < r->backoff_min)
		r->backoff_max = r->backoff_min;
	r->connect_timeout = c->connect_timeout_ms > 0 ? c->connect_timeout_ms :
	    DEF_CONNECT_TIMEOUT;
	r->timer = evtimer_new(base, timer_cb, r);
	if (r->timer == NULL) {
		vg_err_set(err, NULL, 0, 0, "cannot create a timer");
		free(r->where);
		free(r->name);
		free(r);
		return NULL;
	}
	r->state = RS_IDLE;
	connect_now(r);
	return r;
}

static void q_fail_all(struct cmdq *q)
{
	struct rcmd *c;

	while ((c = q_pop(q)) != NULL)
		cmd_fail(c);
}

void rds_free(struct rds *r)
{
	if (r == NULL)
		return;
	r->closing = 1;
	if (r->ac != NULL) {
		redisAsyncContext *ac = r->ac;

		r->ac = NULL;
		redisAsyncFree(ac);
	}
	q_fail_all(&r->requeue);
	q_fail_all(&r->pending);
	if (r->timer)
		event_free(r->timer);
	for (size_t i = 0; i < r->nscripts; i++)
		free(r->scripts[i].body);
	free(r->scripts);
	free(r->where);
	free(r->name);
	free(r);
}

static void sha1_hex(const char *s, char out[41])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha1(), NULL) != 1 || n != 20) {
		fprintf(stderr, "vigil: SHA1 unavailable\n");
		abort();
	}
	for (unsigned i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = '\0';
}

int rds_script(struct rds *r, const char *body)
{
	struct rscript *s;

	r->scripts = vg_realloc(r->scripts, (r->nscripts + 1) * sizeof(*r->scripts));
	s = &r->scripts[r->nscripts];
	memset(s, 0, sizeof(*s));
	s->body = vg_strdup(body);
	sha1_hex(body, s->sha);
	r->nscripts++;
	if (can_write(r))
		load_script(r, r->nscripts - 1);
	return (int)(r->nscripts - 1);
}

const char *rds_script_sha(const struct rds *r, int script)
{
	if (script < 0 || (size_t)script >= r->nscripts)
		return NULL;
	return r->scripts[script].sha;
}

static int submit(struct rds *r, struct rcmd *c)
{
	if (r->closing || (!(c->flags & RDS_RETRY) && !can_write(r))) {
		r->st.dropped++;
		cmd_free(c);
		return -1;
	}
	r->st.commands++;
	if (can_write(r) && r->pending.head == NULL &&
	    r->st.inflight < r->max_inflight && write_cmd(r, c) == 0)
		return 0;
	q_push(&r->pending, c);
	enforce_bounds(r);
	sync_gauges(r);
	return 0;
}

int rds_cmd(struct rds *r, unsigned flags, rds_reply_cb cb, void *arg,
    int argc, const char **argv, const size_t *argvlen)
{
	struct rcmd *c;

	if (argc < 1)
		return -1;
	c = cmd_new(r, argc, argv, argvlen);
	c->cb = cb;
	c->arg = arg;
	c->flags = flags;
	return submit(r, c);
}

int rds_evalsha(struct rds *r, unsigned flags, int script, rds_reply_cb cb,
    void *arg, int nkeys, int argc, const char **argv, const size_t *argvlen)
{
	const char *sv[64];
	size_t sl[64];
	const char **v = sv;
	size_t *l = sl;
	char nk[16];
	struct rcmd *c;
	int n = argc + 3;

	if (script < 0 || (size_t)script >= r->nscripts || nkeys < 0 ||
	    nkeys > argc)
		return -1;
	if (n > (int)VG_ARRAY_LEN(sv)) {
		v = vg_malloc((size_t)n * sizeof(*v));
		l = vg_malloc((size_t)n * sizeof(*l));
	}
	snprintf(nk, sizeof(nk), "%d", nkeys);
	v[0] = "EVALSHA";
	l[0] = 7;
	v[1] = r->scripts[script].sha;
	l[1] = 40;
	v[2] = nk;
	l[2] = strlen(nk);
	for (int i = 0; i < argc; i++) {
		v[i + 3] = argv[i];
		l[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
	}
	c = cmd_new(r, n, v, l);
	if (v != sv) {
		free(v);
		free(l);
	}
	c->cb = cb;
	c->arg = arg;
	c->flags = flags;
	c->script = script;
	return submit(r, c);
}

int rds_ready(const struct rds *r)
{
	return can_write(r);
}

size_t rds_outstanding(const struct rds *r)
{
	return r->pending.n + r->requeue.n + r->st.inflight;
}

void rds_watch_low(struct rds *r, size_t low, void (*cb)(void *), void *arg)
{
	r->low_cb = cb;
	r->low_arg = arg;
	r->low = low;
}

const struct rds_stats *rds_stats(const struct rds *r)
{
	((struct rds *)r)->st.pending = r->pending.n + r->requeue.n;
	((struct rds *)r)->st.pending_bytes = r->pending.bytes + r->requeue.bytes;
	((struct rds *)r)->st.ready = can_write(r);
	return &r->st;
}

struct event_base *rds_base(const struct rds *r)
{
	return r->base;
}

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

int rds_drain(struct rds *r, int64_t timeout_ms)
{
	int64_t end = vg_mono_ms() + timeout_ms;
	struct timeval tv = { 0, 20000 };
	struct event *tick = event_new(r->base, -1, EV_PERSIST, drain_tick, NULL);
	int rc = 0;

	if (tick == NULL)
		return -1;
	event_add(tick, &tv);
	while (rds_outstanding(r) > 0) {
		if (vg_mono_ms() >= end ||
		    event_base_loop(r->base, EVLOOP_ONCE) < 0) {
			rc = -1;
			break;
		}
	}
	event_free(tick);
	return rc;
}

void rds_metrics(const struct rds *r, struct buf *out)
{
	const struct rds_stats *s = rds_stats(r);
	const char *n = r->name;

	buf_printf(out, "vigil_redis_commands_total{conn=\"%s\"} %llu\n", n,
	    (unsigned long long)s->commands);
	buf_printf(out, "vigil_redis_replies_total{conn=\"%s\"} %llu\n", n,
	    (unsigned long long)s->replies);
	buf_printf(out, "vigil_redis_error_replies_total{conn=\"%s\"} %llu\n", n,
	    (unsigned long long)s->error_replies);
	buf_printf(out, "vigil_redis_dropped_total{conn=\"%s\"} %llu\n", n,
	    (unsigned long long)s->dropped);
	buf_printf(out, "vigil_redis_retried_total{conn=\"%s\"} %llu\n", n,
	    (unsigned long long)s->retried);
	buf_printf(out, "vigil_redis_noscript_total{conn=\"%s\"} %llu\n", n,
	    (unsigned long long)s->noscript);
	buf_printf(out, "vigil_redis_connects_total{conn=\"%s\"} %llu\n", n,
	    (unsigned long long)s->connects);
	buf_printf(out, "vigil_redis_disconnects_total{conn=\"%s\"} %llu\n", n,
	    (unsigned long long)s->disconnects);
	buf_printf(out, "vigil_redis_connect_failures_total{conn=\"%s\"} %llu\n",
	    n, (unsigned long long)s->connect_failures);
	buf_printf(out, "vigil_redis_pending{conn=\"%s\"} %zu\n", n, s->pending);
	buf_printf(out, "vigil_redis_pending_bytes{conn=\"%s\"} %zu\n", n,
	    s->pending_bytes);
	buf_printf(out, "vigil_redis_inflight{conn=\"%s\"} %zu\n", n, s->inflight);
	buf_printf(out, "vigil_redis_up{conn=\"%s\"} %d\n", n, s->ready);
}
