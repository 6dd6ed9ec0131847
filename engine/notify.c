/*
 * notify.c: the sender. Items move pending -> sending -> done | dead, with
 * a retryable failure going back to pending after its backoff. Every item
 * has its own timer for its next attempt; due items wait in a ready queue
 * so that at most max_inflight attempts run at once. Each transition that
 * must survive a restart is handed to the store first.
 *
 * Items of one channel with the same dedup key (one incident) go out in
 * the order they were queued: an item waits while an older one of its
 * incident is pending or in flight, so a resolve never overtakes its
 * trigger, even across retries.
 *
 * When the store cannot save a new item (Redis down), the item is sent
 * anyway: a page delivered without durability beats a page not sent.
 *
 * Everything runs on the loop's thread; results are reported from the
 * loop, never from inside notify_send.
 */
#include "notify.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <jansson.h>

#include "execstep.h"
#include "log.h"
#include "notify_xfer.h"

#define DEF_INFLIGHT 64
#define RESP_MAX 4096

struct nitem;

struct ticket {
	struct nitem *ni;        /* NULL once the item is gone */
};

struct nitem {
	struct notify_item it;
	struct notify *n;
	const struct notify_channel *ch;
	size_t chi;
	struct event *timer;
	CURL *easy;
	struct curl_slist *hdrs, *rcpts;
	struct notify_req req;
	size_t up_off;
	struct buf resp;
	int64_t retry_after_ms;
	char errbuf[CURL_ERROR_SIZE];
	struct execstep *job;
	struct ticket *ticket;
	char *order;             /* channel + dedup key */
	uint64_t seq;            /* queue order */
	int blocked;             /* waits for an older item of its incident */
	int queued;
	struct nitem *prev, *next; /* every item */
	struct nitem *qnext;       /* the ready queue */
};

struct notify {
	struct notify_conf c;
	struct notify_xfer *xfer;
	struct nitem *items;
	struct nitem *qhead, *qtail;
	struct notify_stats st;
	uint64_t (*per)[3];      /* per channel: delivered, retried, dead */
	struct event *kick;
	uint64_t rnd;
	uint64_t seq;
	struct log_rl rl_store;
};

static void pump(struct notify *n);
static void enqueue(struct nitem *ni);

static double jitter(struct notify *n)
{
	/* xorshift64*: spreading retries needs no cryptographic quality */
	n->rnd ^= n->rnd >> 12;
	n->rnd ^= n->rnd << 25;
	n->rnd ^= n->rnd >> 27;
	return (double)((n->rnd * 2685821657736338717ULL) >> 11) /
	    (double)(1ULL << 53);
}

static void kick(struct notify *n)
{
	event_active(n->kick, EV_TIMEOUT, 0);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

/* ---- items ---- */

static void ni_release_transfer(struct nitem *ni)
{
	if (ni->easy != NULL) {
		notify_xfer_remove(ni->n->xfer, ni->easy);
		curl_easy_cleanup(ni->easy);
		ni->easy = NULL;
	}
	curl_slist_free_all(ni->hdrs);
	curl_slist_free_all(ni->rcpts);
	ni->hdrs = ni->rcpts = NULL;
	notify_req_clear(&ni->req);
	buf_free(&ni->resp);
	buf_init(&ni->resp);
	ni->up_off = 0;
	ni->retry_after_ms = 0;
}

static void ni_free(struct nitem *ni)
{
	struct notify *n = ni->n;

	if (ni->prev != NULL)
		ni->prev->next = ni->next;
	else
		n->items = ni->next;
	if (ni->next != NULL)
		ni->next->prev = ni->prev;
	if (ni->queued) {
		struct nitem **pp = &n->qhead, *last = NULL;

		while (*pp != ni) {
			last = *pp;
			pp = &(*pp)->qnext;
		}
		*pp = ni->qnext;
		if (n->qtail == ni)
			n->qtail = last;
	}
	if (ni->job != NULL)
		execstep_cancel(ni->job);
	ni_release_transfer(ni);
	event_free(ni->timer);
	if (ni->ticket != NULL)
		ni->ticket->ni = NULL;
	/* the next item of the same incident may go now */
	{
		struct nitem *next = NULL;

		for (struct nitem *o = n->items; o != NULL; o = o->next) {
			if (o->blocked && strcmp(o->order, ni->order) == 0 &&
			    (next == NULL || o->seq < next->seq))
				next = o;
		}
		if (next != NULL) {
			next->blocked = 0;
			enqueue(next);
		}
	}
	notify_item_clear(&ni->it);
	free(ni->order);
	free(ni);
}

static void enqueue(struct nitem *ni)
{
	struct notify *n = ni->n;

	if (ni->queued)
		return;
	ni->queued = 1;
	ni->qnext = NULL;
	if (n->qtail != NULL)
		n->qtail->qnext = ni;
	else
		n->qhead = ni;
	n->qtail = ni;
	kick(n);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	enqueue(arg);
}

static void schedule(struct nitem *ni)
{
	int64_t d = ni->it.next_ms - vg_now_ms();
	struct timeval tv;

	if (d <= 0) {
		enqueue(ni);
		return;
	}
	tv.tv_sec = d / 1000;
	tv.tv_usec = (d % 1000) * 1000;
	evtimer_add(ni->timer, &tv);
}

static void save_done(void *arg, int status)
{
	struct ticket *t = arg;
	struct nitem *ni = t->ni;

	free(t);
	if (ni == NULL)
		return;
	ni->ticket = NULL;
	if (status < 0 && log_ratelimited(&ni->n->rl_store))
		log_warnx("notify: could not store notification %s for channel %s; "
		    "sending it anyway", ni->it.id, ni->it.channel);
	schedule(ni);
}

/* Store the item, then schedule its next attempt. */
static void save_then_schedule(struct nitem *ni)
{
	const struct notify_store *s = ni->n->c.store;
	struct ticket *t;

	if (s == NULL || s->save == NULL) {
		schedule(ni);
		return;
	}
	t = vg_calloc(1, sizeof(*t));
	t->ni = ni;
	ni->ticket = t;
	s->save(s->ctx, &ni->it, save_done, t);
}

/* The dedup key inside a payload, or the item id. */
static char *order_key(const struct notify_item *it)
{
	json_t *p = json_loads(it->payload, JSON_ALLOW_NUL, NULL);
	const char *dk = json_string_value(json_object_get(json_object_get(p,
	    "incident"), "dedup_key"));
	struct buf b;
	char *out;

	buf_init(&b);
	buf_printf(&b, "%s\n%s", it->channel, dk ? dk : it->id);
	out = vg_strdup(buf_cstr(&b));
	buf_free(&b);
	json_decref(p);
	return out;
}

static struct nitem *ni_new(struct notify *n, const struct notify_channel *ch,
    struct notify_item *it)
{
	struct nitem *ni = vg_calloc(1, sizeof(*ni));

	ni->order = order_key(it);
	ni->seq = ++n->seq;

	ni->it = *it;            /* takes the strings */
	memset(it, 0, sizeof(*it));
	ni->n = n;
	ni->ch = ch;
	ni->chi = (size_t)(ch - n->c.channels->v);
	ni->timer = evtimer_new(n->c.base, timer_cb, ni);
	buf_init(&ni->resp);
	ni->next = n->items;
	if (n->items != NULL)
		n->items->prev = ni;
	n->items = ni;
	n->st.pending++;
	return ni;
}

/* ---- results ---- */

static void result(struct nitem *ni, enum notify_class c, long status,
    const char *detail)
{
	struct notify *n = ni->n;
	const struct notify_store *s = n->c.store;
	int64_t now = vg_now_ms();

	ni->job = NULL;
	n->st.inflight--;
	ni->it.last_status = status;
	snprintf(ni->it.last_error, sizeof(ni->it.last_error), "%s", detail);
	if (c == NOTIFY_RETRY && (ni->it.attempts >= ni->ch->retry.attempts ||
	    now - ni->it.created_ms >= ni->ch->retry.max_age_ms)) {
		c = NOTIFY_FAIL;
		snprintf(ni->it.last_error, sizeof(ni->it.last_error),
		    "gave up after %u attempts: %s", ni->it.attempts, detail);
	}
	if (c == NOTIFY_RETRY) {
		ni->it.state = NOTIFY_PENDING;
		ni->it.next_ms = now + notify_backoff(&ni->ch->retry,
		    ni->it.attempts, jitter(n), ni->retry_after_ms);
		n->st.retried++;
		n->per[ni->chi][1]++;
		n->st.pending++;
	} else {
		ni->it.state = c == NOTIFY_OK ? NOTIFY_DONE : NOTIFY_DEAD;
		if (c == NOTIFY_OK) {
			n->st.delivered++;
			n->per[ni->chi][0]++;
		} else {
			n->st.dead++;
			n->per[ni->chi][2]++;
			log_warnx("notify: channel %s: notification %s is dead: %s",
			    ni->it.channel, ni->it.id, ni->it.last_error);
		}
	}
	if (n->c.on_result != NULL)
		n->c.on_result(n->c.arg, &ni->it, c, ni->it.last_error);
	ni_release_transfer(ni);
	if (c == NOTIFY_RETRY) {
		save_then_schedule(ni);
	} else {
		if (s != NULL && s->finish != NULL)
			s->finish(s->ctx, &ni->it);
		ni_free(ni);
	}
	kick(n);
}

/* A printable, single-line excerpt of a response for the timeline. */
static void excerpt(char *out, size_t cap, const char *s, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < len && k + 1 < cap && i < 160; i++) {
		unsigned char c = (unsigned char)s[i];

		out[k++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[k] = '\0';
}

static void http_done(void *arg, CURL *easy, CURLcode rc)
{
	struct nitem *ni = arg;
	long status = 0;
	char detail[512], ex[200];
	enum notify_class c;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (ni->ch->type == NOTIFY_EMAIL) {
		c = notify_classify_smtp((int)rc, status);
		if (rc == CURLE_OK)
			snprintf(detail, sizeof(detail), "SMTP %ld", status);
		else
			snprintf(detail, sizeof(detail), "SMTP %ld: %s", status,
			    ni->errbuf[0] ? ni->errbuf : curl_easy_strerror(rc));
	} else {
		c = notify_classify_http((int)rc, status);
		excerpt(ex, sizeof(ex), ni->resp.p ? ni->resp.p : "", ni->resp.len);
		if (rc != CURLE_OK)
			snprintf(detail, sizeof(detail), "%s",
			    ni->errbuf[0] ? ni->errbuf : curl_easy_strerror(rc));
		else if (c == NOTIFY_OK || ex[0] == '\0')
			snprintf(detail, sizeof(detail), "HTTP %ld", status);
		else
			snprintf(detail, sizeof(detail), "HTTP %ld: %s", status, ex);
	}
	/* the handle is ours again; release_transfer cleans it up */
	ni->easy = easy;
	result(ni, c, status, detail);
}

static void exec_done(void *arg, const struct execstep_result *r)
{
	struct nitem *ni = arg;
	char detail[512], ex[200];
	enum notify_class c = notify_classify_exec(r->started, r->exit_code,
	    r->timed_out);

	excerpt(ex, sizeof(ex), r->err, r->err_len);
	if (!r->started)
		snprintf(detail, sizeof(detail), "%s", r->error);
	else if (r->timed_out)
		snprintf(detail, sizeof(detail), "timed out%s%s", ex[0] ? ": " : "",
		    ex);
	else if (r->exit_code < 0)
		snprintf(detail, sizeof(detail), "signal %d%s%s", r->signo,
		    ex[0] ? ": " : "", ex);
	else
		snprintf(detail, sizeof(detail), "exit %d%s%s", r->exit_code,
		    ex[0] ? ": " : "", ex);
	result(ni, c, r->exit_code, detail);
}

/* ---- attempts ---- */

static size_t write_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct nitem *ni = arg;
	size_t n = sz * nm;

	if (ni->resp.len < RESP_MAX)
		buf_add(&ni->resp, p, n < RESP_MAX - ni->resp.len ? n :
		    RESP_MAX - ni->resp.len);
	return n;
}

static size_t header_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct nitem *ni = arg;
	size_t n = sz * nm;

	if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		size_t i = 12;
		int64_t v = 0;

		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		/* seconds only; an HTTP date falls back to our own backoff */
		while (i < n && p[i] >= '0' && p[i] <= '9' && v < 86400)
			v = v * 10 + (p[i++] - '0');
		ni->retry_after_ms = v * 1000;
	}
	return n;
}

static size_t read_cb(char *out, size_t sz, size_t nm, void *arg)
{
	struct nitem *ni = arg;
	size_t left = ni->req.body_len - ni->up_off, n = sz * nm;

	if (n > left)
		n = left;
	memcpy(out, ni->req.body + ni->up_off, n);
	ni->up_off += n;
	return n;
}

static int start_curl(struct nitem *ni, struct vg_err *err)
{
	const struct notify_channel *ch = ni->ch;
	CURL *e = curl_easy_init();

	if (e == NULL) {
		vg_err_set(err, NULL, 0, 0, "curl_easy_init failed");
		return -1;
	}
	ni->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, ni->req.url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ch->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)ch->timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ni->errbuf);
	if (ch->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, ch->ca_file);
	if (ch->type == NOTIFY_EMAIL) {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, ni->req.mail_from);
		for (size_t i = 0; i < ni->req.nrcpt; i++)
			ni->rcpts = curl_slist_append(ni->rcpts, ni->req.rcpt[i]);
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, ni->rcpts);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, ni);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)ni->req.body_len);
		curl_easy_setopt(e, CURLOPT_USE_SSL, ch->starttls == NOTIFY_TLS_ON ?
		    (long)CURLUSESSL_ALL : ch->starttls == NOTIFY_TLS_TRY ?
		    (long)CURLUSESSL_TRY : (long)CURLUSESSL_NONE);
		if (ch->username != NULL) {
			curl_easy_setopt(e, CURLOPT_USERNAME, ch->username);
			curl_easy_setopt(e, CURLOPT_PASSWORD, ch->password);
		}
	} else {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, ni->req.body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)ni->req.body_len);
		for (size_t i = 0; i < ni->req.nheaders; i++)
			ni->hdrs = curl_slist_append(ni->hdrs, ni->req.headers[i]);
		ni->hdrs = curl_slist_append(ni->hdrs, "Expect:");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, ni->hdrs);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, ni);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, ni);
	}
	if (notify_xfer_add(ni->n->xfer, e, http_done, ni) < 0) {
		curl_easy_cleanup(e);
		vg_err_set(err, NULL, 0, 0, "curl refused the transfer");
		return -1;
	}
	ni->easy = e;
	return 0;
}

static void attempt(struct nitem *ni)
{
	struct notify *n = ni->n;
	struct vg_err err = { 0 };

	n->st.pending--;
	n->st.inflight++;
	n->st.attempts++;
	ni->it.state = NOTIFY_SENDING;
	ni->it.attempts++;
	if (notify_render(ni->ch, &ni->it, vg_now_ms(), &ni->req, &err) < 0) {
		result(ni, NOTIFY_FAIL, 0, err.msg);
		return;
	}
	if (ni->ch->type == NOTIFY_EXEC) {
		struct execstep_req req;
		char ev[64];
		const char *env[1];

		if (n->c.exec == NULL) {
			result(ni, NOTIFY_FAIL, 0, "no folders are allowed for exec");
			return;
		}
		snprintf(ev, sizeof(ev), "VIGIL_NOTIFY_EVENT=%s",
		    ni->it.event == NOTIFY_TRIGGER ? "trigger" :
		    ni->it.event == NOTIFY_ACKNOWLEDGE ? "acknowledge" : "resolve");
		env[0] = ev;
		memset(&req, 0, sizeof(req));
		req.prog = ni->ch->argv[0];
		req.args = (const char *const *)ni->ch->argv + 1;
		req.nargs = ni->ch->nargv - 1;
		req.env = env;
		req.nenv = 1;
		req.input = ni->req.body;
		req.input_len = ni->req.body_len;
		req.timeout_ms = ni->ch->timeout_ms;
		ni->job = execstep_start(n->c.base, n->c.exec, &req, exec_done, ni,
		    &err);
		if (ni->job == NULL)
			result(ni, NOTIFY_RETRY, 0, err.msg);
		return;
	}
	if (start_curl(ni, &err) < 0)
		result(ni, NOTIFY_RETRY, 0, err.msg);
}

/* Is an older item of ni's incident still waiting or in flight? */
static int has_elder(const struct notify *n, const struct nitem *ni)
{
	for (const struct nitem *o = n->items; o != NULL; o = o->next) {
		if (o != ni && o->seq < ni->seq && strcmp(o->order, ni->order) == 0)
			return 1;
	}
	return 0;
}

static void pump(struct notify *n)
{
	while (n->qhead != NULL && n->st.inflight < n->c.max_inflight) {
		struct nitem *ni = n->qhead;

		n->qhead = ni->qnext;
		if (n->qhead == NULL)
			n->qtail = NULL;
		ni->queued = 0;
		if (has_elder(n, ni)) {
			ni->blocked = 1; /* released when the elder is over */
			continue;
		}
		attempt(ni);
	}
}

/* ---- the API ---- */

struct notify *notify_new(const struct notify_conf *c, struct vg_err *err)
{
	struct notify *n = vg_calloc(1, sizeof(*n));

	n->c = *c;
	if (n->c.max_inflight == 0)
		n->c.max_inflight = DEF_INFLIGHT;
	if ((n->xfer = notify_xfer_new(c->base, err)) == NULL) {
		free(n);
		return NULL;
	}
	n->per = vg_calloc(c->channels->n + 1, sizeof(*n->per));
	n->kick = event_new(c->base, -1, 0, kick_cb, n);
	n->rnd = (uint64_t)vg_mono_ms() * 0x9E3779B97F4A7C15ULL ^
	    (uint64_t)(uintptr_t)n;
	if (n->rnd == 0)
		n->rnd = 1;
	return n;
}

void notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	while (n->items != NULL)
		ni_free(n->items);
	notify_xfer_free(n->xfer);
	event_free(n->kick);
	free(n->per);
	free(n);
}

int notify_send(struct notify *n, const char *channel,
    const struct notify_msg *m, char id_out[40], struct vg_err *err)
{
	const struct notify_channel *ch = notify_channel(n->c.channels, channel);
	struct notify_item it;
	struct nitem *ni;

	if (ch == NULL) {
		vg_err_set(err, NULL, 0, 0, "no channel named '%s'", channel);
		return -1;
	}
	if (notify_item_make(ch, m, vg_now_ms(), &it, err) < 0)
		return -1;
	if (id_out != NULL)
		memcpy(id_out, it.id, sizeof(it.id));
	ni = ni_new(n, ch, &it);
	n->st.queued++;
	save_then_schedule(ni);
	return 0;
}

int notify_resume(struct notify *n, const struct notify_item *it,
    struct vg_err *err)
{
	const struct notify_channel *ch = notify_channel(n->c.channels,
	    it->channel);
	struct notify_item copy;
	struct nitem *ni;

	if (ch == NULL) {
		vg_err_set(err, NULL, 0, 0, "notification %s: no channel named "
		    "'%s' any more", it->id, it->channel);
		return -1;
	}
	if (it->state == NOTIFY_DONE || it->state == NOTIFY_DEAD) {
		vg_err_set(err, NULL, 0, 0, "notification %s is already over",
		    it->id);
		return -1;
	}
	copy = *it;
	copy.channel = vg_strdup(it->channel);
	copy.payload = vg_strdup(it->payload);
	copy.rcpt = vg_calloc(it->nrcpt + 1, sizeof(*copy.rcpt));
	for (size_t i = 0; i < it->nrcpt; i++)
		copy.rcpt[i] = vg_strdup(it->rcpt[i]);
	copy.state = NOTIFY_PENDING;
	ni = ni_new(n, ch, &copy);
	n->st.queued++;
	schedule(ni);
	return 0;
}

const struct notify_stats *notify_stats(const struct notify *n)
{
	return &n->st;
}

size_t notify_outstanding(const struct notify *n)
{
	return n->st.pending + n->st.inflight;
}

void notify_metrics(const struct notify *n, struct buf *out)
{
	static const char *const res[] = { "delivered", "retried", "dead" };

	buf_adds(out, "# TYPE vigil_notifications_total counter\n");
	for (size_t i = 0; i < n->c.channels->n; i++) {
		for (int k = 0; k < 3; k++) {
			buf_adds(out, "vigil_notifications_total{channel=\"");
			buf_adds(out, n->c.channels->v[i].name);
			buf_printf(out, "\",result=\"%s\"} %" PRIu64 "\n", res[k],
			    n->per[i][k]);
		}
	}
	buf_printf(out, "# TYPE vigil_notify_outbox gauge\n"
	    "vigil_notify_outbox{state=\"pending\"} %zu\n"
	    "vigil_notify_outbox{state=\"inflight\"} %zu\n",
	    n->st.pending, n->st.inflight);
}
