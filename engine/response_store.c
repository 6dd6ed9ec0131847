/*
 * response_store.c: the response's Redis plumbing: requests whose answer
 * may come after the response is gone, commits (one atomic change of an
 * incident through SCR_COMMIT, with the outbox items it writes), run
 * records, incidents read back, the durable outbox behind struct
 * notify_store (saved before the first attempt, resumed after a restart),
 * the timer poller (claims due timers with a lease), and the silence cache
 * with the silence operations of the API.
 *
 * Loop thread.
 */
#include "response_int.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "vgtime.h"

#define CLAIM_MAX 200
#define POLL_MAX_MS 1000
#define SIL_REFRESH_MS 5000
#define SIL_KEEP_EXPIRED_MS (86400 * 1000LL)

/* ---- small helpers ---- */

void svec_addn(struct svec *s, const char *str, size_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->v = vg_realloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = vg_strndup(str, len);
}

void svec_add(struct svec *s, const char *str)
{
	svec_addn(s, str, strlen(str));
}

void svec_addi(struct svec *s, int64_t v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	svec_add(s, tmp);
}

void svec_free(struct svec *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

char *resp_key(const struct response *r, const char *what, const char *id)
{
	struct buf b;
	char *out;

	buf_init(&b);
	buf_printf(&b, "%s%s%s", r->B, what, id ? id : "");
	out = vg_strdup(buf_cstr(&b));
	buf_free(&b);
	return out;
}

char *resp_url(const struct response *r, const char *id)
{
	struct buf b;
	char *out;

	if (r->rc->url == NULL || r->rc->url[0] == '\0')
		return NULL;
	buf_init(&b);
	buf_printf(&b, "%s/api/v1/incidents/%s", r->rc->url, id);
	out = vg_strdup(buf_cstr(&b));
	buf_free(&b);
	return out;
}

void resp_redis_error(struct response *r, const char *what,
    const redisReply *rep)
{
	r->st.redis_errors++;
	if (log_ratelimited(&r->rl_redis))
		log_warnx("response: %s: %s", what, rep == NULL ? "Redis unavailable" :
		    rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
}

/* ---- requests ---- */

struct rq *rq_new(struct response *r, rq_fn fn, void *arg)
{
	struct rq *q = vg_calloc(1, sizeof(*q));

	q->life = r->life;
	q->life->refs++;
	q->fn = fn;
	q->arg = arg;
	return q;
}

static void rq_free(struct rq *q)
{
	if (q->items != NULL) {
		pitems_free(q->items);
		free(q->items);
	}
	free(q->s1);
	free(q->s2);
	free(q->s3);
	if (--q->life->refs == 0 && q->life->r == NULL)
		free(q->life);
	free(q);
}

void rq_reply_cb(void *arg, const struct redisReply *rep)
{
	struct rq *q = arg;

	if (q->life->r != NULL && q->fn != NULL)
		q->fn(q->life->r, q, rep);
	else if (q->done != NULL)
		q->done(q->darg, -1);  /* the sender's ticket frees itself */
	rq_free(q);
}

int resp_cmd(struct response *r, struct rq *q, int argc, const char **argv,
    const size_t *lens)
{
	if (rds_cmd(r->rds, RDS_RETRY, rq_reply_cb, q, argc, argv, lens) < 0) {
		rq_free(q);
		return -1;
	}
	return 0;
}

int resp_eval(struct response *r, int script, struct rq *q, int argc,
    const char **argv, const size_t *lens)
{
	if (rds_evalsha(r->rds, RDS_RETRY, r->scr[script], rq_reply_cb, q, 1,
	    argc, argv, lens) < 0) {
		rq_free(q);
		return -1;
	}
	return 0;
}

int resp_eval_vec(struct response *r, int script, struct rq *q,
    const struct svec *v)
{
	const char **argv = vg_calloc(v->n + 1, sizeof(*argv));
	int rc;

	argv[0] = r->k_seq;
	for (size_t i = 0; i < v->n; i++)
		argv[i + 1] = v->v[i];
	rc = resp_eval(r, script, q, (int)v->n + 1, argv, NULL);
	free(argv);
	return rc;
}

/* ---- commits ---- */

void pitems_free(struct pitems *p)
{
	for (size_t i = 0; i < p->n; i++) {
		notify_item_clear(&p->v[i].it);
		free(p->v[i].json);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

void commit_init(struct commit *c, const char *id)
{
	memset(c, 0, sizeof(*c));
	c->id = vg_strdup(id);
}

void commit_clear(struct commit *c)
{
	free(c->id);
	free(c->guard_field);
	free(c->guard_value);
	svec_free(&c->sets);
	svec_free(&c->dels);
	svec_free(&c->incrs);
	svec_free(&c->dues);
	svec_free(&c->tls);
	svec_free(&c->pcs);
	if (c->items != NULL) {
		pitems_free(c->items);
		free(c->items);
	}
	memset(c, 0, sizeof(*c));
}

void commit_set(struct commit *c, const char *field, const char *value)
{
	svec_add(&c->sets, field);
	svec_add(&c->sets, value ? value : "");
}

void commit_seti(struct commit *c, const char *field, int64_t value)
{
	svec_add(&c->sets, field);
	svec_addi(&c->sets, value);
}

void commit_del(struct commit *c, const char *field)
{
	svec_add(&c->dels, field);
}

void commit_incr(struct commit *c, const char *field, int64_t by)
{
	svec_add(&c->incrs, field);
	svec_addi(&c->incrs, by);
}

void commit_due(struct commit *c, const char *member, int64_t score)
{
	svec_add(&c->dues, member);
	if (score < 0)
		svec_add(&c->dues, "-");
	else
		svec_addi(&c->dues, score);
}

void commit_tl(struct commit *c, const char *type, const char *members)
{
	struct buf b;
	char ts[32];

	vgtime_format(vg_now_ms(), ts);
	buf_init(&b);
	buf_printf(&b, "{\"ts\":\"%s\",\"type\":\"%s\"%s%s}", ts, type,
	    members && *members ? "," : "", members ? members : "");
	svec_addn(&c->tls, b.p, b.len);
	buf_free(&b);
}

void commit_paged(struct commit *c, const char *channel, const char *user)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s\t%s", channel, user ? user : "");
	svec_addn(&c->pcs, b.p, b.len);
	buf_free(&b);
}

void commit_guard(struct commit *c, const char *field, char op,
    const char *value)
{
	free(c->guard_field);
	free(c->guard_value);
	c->guard_field = vg_strdup(field);
	c->guard_op = op;
	c->guard_value = vg_strdup(value ? value : "");
}

void commit_item(struct commit *c, struct notify_item *it)
{
	struct pitem *p;
	struct buf b;

	if (c->items == NULL)
		c->items = vg_calloc(1, sizeof(*c->items));
	c->items->v = vg_realloc(c->items->v, (c->items->n + 1) *
	    sizeof(*c->items->v));
	p = &c->items->v[c->items->n++];
	p->it = *it;
	memset(it, 0, sizeof(*it));
	buf_init(&b);
	notify_item_to_json(&p->it, &b);
	p->json = vg_strndup(b.p ? b.p : "", b.len);
	buf_free(&b);
}

int commit_status(const redisReply *rep)
{
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER)
		return -2;
	return (int)rep->element[0]->integer;
}

static void commit_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	int st = commit_status(rep);

	if (st == -2)
		resp_redis_error(r, "commit", rep);
	if (st == 1 && q->items != NULL) {
		if (r->fault_kill_after_store && rep->elements > 1) {
			log_warnx("response: VIGIL_FAULT=kill-after-store: %zu "
			    "notifications stored, dying before sending them",
			    rep->elements - 1);
			raise(SIGKILL);
		}
		for (size_t i = 1; i < rep->elements; i++) {
			const redisReply *e = rep->element[i];

			if (e->type != REDIS_REPLY_STRING)
				continue;
			for (size_t k = 0; k < q->items->n; k++) {
				struct vg_err err = { 0 };

				if (strcmp(q->items->v[k].it.id, e->str) != 0)
					continue;
				if (notify_resume(r->notify, &q->items->v[k].it, &err) < 0)
					log_warnx("response: %s", err.msg);
				else
					r->st.pages++;
			}
		}
	}
	if (st == 0)
		r->st.commits_stale++;
	if (q->then != NULL)
		q->then(r, q, rep);
}

static void take(struct svec *argv, struct svec *sec, size_t width)
{
	svec_addi(argv, (int64_t)(sec->n / width));
	for (size_t i = 0; i < sec->n; i++)
		svec_add(argv, sec->v[i]);
}

static int commit_send_q(struct response *r, struct commit *c,
    struct rq *q);

int commit_send(struct response *r, struct commit *c, rq_fn fn, void *arg)
{
	struct rq *q = rq_new(r, commit_reply, arg);

	q->then = fn;
	return commit_send_q(r, c, q);
}

int commit_send_tag(struct response *r, struct commit *c, rq_fn fn,
    const char *tag, long n)
{
	struct rq *q = rq_new(r, commit_reply, NULL);

	q->then = fn;
	q->s3 = vg_strdup(tag);
	q->n = n;
	return commit_send_q(r, c, q);
}

static int commit_send_q(struct response *r, struct commit *c, struct rq *q)
{
	struct svec a = { 0 };
	int rc;

	svec_add(&a, r->B);
	svec_add(&a, c->id);
	svec_add(&a, r->k_outbox);
	svec_add(&a, c->guard_field ? c->guard_field : "");
	svec_add(&a, c->guard_op == '=' ? "=" : c->guard_op == '!' ? "!" : "");
	svec_add(&a, c->guard_value ? c->guard_value : "");
	svec_addi(&a, RESP_TL_MAX);
	take(&a, &c->sets, 2);
	take(&a, &c->dels, 1);
	take(&a, &c->incrs, 2);
	take(&a, &c->dues, 2);
	take(&a, &c->tls, 1);
	svec_addi(&a, c->items ? (int64_t)c->items->n : 0);
	for (size_t i = 0; c->items != NULL && i < c->items->n; i++) {
		svec_add(&a, c->items->v[i].it.id);
		svec_add(&a, c->items->v[i].json);
	}
	take(&a, &c->pcs, 1);
	q->items = c->items;
	c->items = NULL;
	rc = resp_eval_vec(r, SCR_COMMIT, q, &a);
	svec_free(&a);
	commit_clear(c);
	return rc;
}

/* ---- run records ---- */

void runrec_format(const struct runrec *rr, char *out, size_t cap)
{
	snprintf(out, cap, "%d %u %" PRId64 " %d %u %" PRId64 " %s",
	    rr->run.step, rr->run.attempt, rr->run.not_before_ms,
	    (int)rr->run.outcome, rr->run.steps_run, rr->started_ms,
	    rr->approval[0] ? rr->approval : "-");
}

int runrec_parse(const char *s, struct runrec *rr)
{
	int outcome;
	char ap[40];

	memset(rr, 0, sizeof(*rr));
	if (s == NULL || sscanf(s, "%d %u %" SCNd64 " %d %u %" SCNd64 " %39s",
	    &rr->run.step, &rr->run.attempt, &rr->run.not_before_ms, &outcome,
	    &rr->run.steps_run, &rr->started_ms, ap) != 7 ||
	    outcome < PB_RUNNING || outcome > PB_FAILED)
		return -1;
	rr->run.outcome = (enum pb_outcome)outcome;
	if (strcmp(ap, "-") != 0)
		snprintf(rr->approval, sizeof(rr->approval), "%s", ap);
	return 0;
}

/* ---- incidents as read back ---- */

int ivw_from_reply(struct ivw *v, const redisReply *rep)
{
	memset(v, 0, sizeof(*v));
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY)
		return -1;
	v->kv = vg_calloc(rep->elements + 1, sizeof(char *));
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *k = rep->element[i], *x = rep->element[i + 1];

		if (k->type != REDIS_REPLY_STRING || x->type != REDIS_REPLY_STRING)
			continue;
		v->kv[2 * v->n] = vg_strndup(k->str, k->len);
		v->kv[2 * v->n + 1] = vg_strndup(x->str, x->len);
		v->n++;
	}
	if (v->n == 0) {
		ivw_clear(v);
		return -1;
	}
	return 0;
}

void ivw_clear(struct ivw *v)
{
	for (size_t i = 0; i < 2 * v->n; i++)
		free(v->kv[i]);
	free(v->kv);
	memset(v, 0, sizeof(*v));
}

const char *ivw_get(const struct ivw *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->kv[2 * i], name) == 0)
			return v->kv[2 * i + 1];
	}
	return NULL;
}

int64_t ivw_int(const struct ivw *v, const char *name)
{
	const char *s = ivw_get(v, name);

	return s ? strtoll(s, NULL, 10) : 0;
}

/* ---- the timer poller ---- */

static void schedule_poll(struct response *r, int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(r->due_timer, &tv);
}

static void claim_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	int64_t next = -1, now = vg_now_ms(), wait = POLL_MAX_MS;

	(void)q;
	r->polling = 0;
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1) {
		resp_redis_error(r, "claiming due timers", rep);
		schedule_poll(r, POLL_MAX_MS);
		return;
	}
	if (rep->element[0]->type == REDIS_REPLY_STRING)
		next = strtoll(rep->element[0]->str, NULL, 10);
	for (size_t i = 1; i < rep->elements; i++) {
		if (rep->element[i]->type == REDIS_REPLY_STRING)
			run_due(r, rep->element[i]->str);
	}
	if (next >= 0 && next - now < wait)
		wait = next - now;
	if (rep->elements > CLAIM_MAX || r->repoll)
		wait = 0;
	r->repoll = 0;
	schedule_poll(r, wait);
}

void resp_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct response *r = arg;
	struct svec a = { 0 };

	(void)fd;
	(void)what;
	if (r->polling) {
		r->repoll = 1;
		return;
	}
	svec_add(&a, r->B);
	svec_addi(&a, vg_now_ms());
	svec_addi(&a, RESP_LEASE_MS);
	svec_addi(&a, CLAIM_MAX);
	r->polling = 1;
	if (resp_eval_vec(r, SCR_CLAIM, rq_new(r, claim_reply, NULL), &a) < 0) {
		r->polling = 0;
		schedule_poll(r, POLL_MAX_MS);
	}
	svec_free(&a);
}

void resp_kick_poll(struct response *r)
{
	if (!r->resumed)
		return;
	if (r->polling) {
		r->repoll = 1;
		return;
	}
	schedule_poll(r, 0);
}

/* ---- silences ---- */

static void sil_schedule(struct response *r, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(r->sil_timer, &tv);
}

static void sil_reply(struct response *r, struct rq *q, const redisReply *rep)
{
	int64_t now = vg_now_ms();
	struct silence *v;
	size_t n = 0;

	(void)q;
	r->sil_loading = 0;
	sil_schedule(r, SIL_REFRESH_MS);
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		resp_redis_error(r, "reading silences", rep);
		return;
	}
	v = vg_calloc(rep->elements / 2 + 1, sizeof(*v));
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *x = rep->element[i + 1];
		char why[256];

		if (x->type != REDIS_REPLY_STRING ||
		    silence_parse(x->str, x->len, 0, now, &v[n], why,
		    sizeof(why)) < 0)
			continue;
		if (v[n].ends_ms + SIL_KEEP_EXPIRED_MS < now) {
			const char *argv[3] = { "HDEL", NULL, v[n].id };
			char *k = resp_key(r, "sil", NULL);

			argv[1] = k;
			resp_cmd(r, rq_new(r, NULL, NULL), 3, argv, NULL);
			free(k);
			silence_clear(&v[n]);
			continue;
		}
		n++;
	}
	for (size_t i = 0; i < r->nsil; i++)
		silence_clear(&r->sil[i]);
	free(r->sil);
	r->sil = v;
	r->nsil = n;
	if (!r->sil_loaded) {
		r->sil_loaded = 1;
		event_active(r->qev, EV_READ, 0);
	}
}

void resp_sil_cb(evutil_socket_t fd, short what, void *arg)
{
	struct response *r = arg;
	const char *argv[2] = { "HGETALL", NULL };
	char *k;

	(void)fd;
	(void)what;
	if (r->sil_loading)
		return;
	k = resp_key(r, "sil", NULL);
	argv[1] = k;
	r->sil_loading = 1;
	if (resp_cmd(r, rq_new(r, sil_reply, NULL), 2, argv, NULL) < 0) {
		r->sil_loading = 0;
		sil_schedule(r, SIL_REFRESH_MS);
	}
	free(k);
}

/* Read silences again now (after a change through the API). */
static void sil_refresh(struct response *r)
{
	evtimer_del(r->sil_timer);
	resp_sil_cb(-1, 0, r);
}

/* ---- the outbox ---- */

static void resume_reply(struct response *r, struct rq *q,
    const redisReply *rep);

void resp_outbox_resume(struct response *r)
{
	const char *argv[2] = { "HGETALL", r->k_outbox };

	resp_cmd(r, rq_new(r, resume_reply, NULL), 2, argv, NULL);
}

static void save_reply(struct response *r, struct rq *q, const redisReply *rep)
{
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		resp_redis_error(r, "storing a notification", rep);
		q->done(q->darg, -1);
		return;
	}
	q->done(q->darg, 0);
}

void resp_store_save(void *ctx, const struct notify_item *it,
    void (*done)(void *arg, int status), void *arg)
{
	struct response *r = ctx;
	struct buf b;
	const char *argv[4];
	size_t lens[4];
	struct rq *q;

	buf_init(&b);
	notify_item_to_json(it, &b);
	argv[0] = "HSET";
	argv[1] = r->k_outbox;
	argv[2] = it->id;
	argv[3] = b.p;
	for (int i = 0; i < 3; i++)
		lens[i] = strlen(argv[i]);
	lens[3] = b.len;
	q = rq_new(r, save_reply, NULL);
	q->done = done;
	q->darg = arg;
	if (rds_cmd(r->rds, RDS_RETRY, rq_reply_cb, q, 4, argv, lens) < 0) {
		q->fn = NULL;
		rq_reply_cb(q, NULL);
		done(arg, -1);
	}
	buf_free(&b);
}

void resp_store_finish(void *ctx, const struct notify_item *it)
{
	struct response *r = ctx;
	const char *argv[3] = { "HDEL", r->k_outbox, it->id };

	resp_cmd(r, rq_new(r, NULL, NULL), 3, argv, NULL);
}

static void resume_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	size_t n = 0;

	(void)q;
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		/* without the outbox nothing may be paged: try again */
		resp_redis_error(r, "reading the outbox", rep);
		resp_outbox_resume(r);
		return;
	}
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *x = rep->element[i + 1];
		struct notify_item it;
		struct vg_err err = { 0 };

		if (x->type != REDIS_REPLY_STRING ||
		    notify_item_from_json(x->str, x->len, &it, &err) < 0) {
			log_warnx("response: outbox entry skipped: %s", err.msg);
			continue;
		}
		if (notify_resume(r->notify, &it, &err) < 0) {
			log_warnx("response: %s", err.msg);
			resp_store_finish(r, &it);
		} else {
			n++;
		}
		notify_item_clear(&it);
	}
	if (n > 0)
		log_notice("response: %zu queued notifications resumed", n);
	r->resumed = 1;
	event_active(r->qev, EV_READ, 0);
	schedule_poll(r, 0);
}

/* ---- API operations that live here: silences ---- */

static void reply_str(response_reply_cb cb, void *arg, int status,
    const char *body)
{
	cb(arg, status, body, strlen(body));
}

static void reply_err(response_reply_cb cb, void *arg, int status,
    const char *msg)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "{\"error\":");
	buf_json_str(&b, msg, strlen(msg));
	buf_adds(&b, "}\n");
	cb(arg, status, b.p, b.len);
	buf_free(&b);
}

void response_silences(struct response *r, response_reply_cb cb, void *arg)
{
	struct buf b;
	int64_t now = vg_now_ms();

	/* the cache is at most a few seconds old, and current after any
	 * change made through this process */
	buf_init(&b);
	buf_adds(&b, "{\"silences\":[");
	for (size_t i = 0; i < r->nsil; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		silence_json(&r->sil[i], now, &b);
	}
	buf_adds(&b, "]}\n");
	cb(arg, 200, b.p, b.len);
	buf_free(&b);
}

static void sil_put_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		resp_redis_error(r, "storing a silence", rep);
		reply_err(q->cb, q->cbarg, 503, "Redis is unavailable");
		return;
	}
	if (q->n == 0) {
		reply_str(q->cb, q->cbarg, 201, q->s2);
	} else if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 0) {
		reply_err(q->cb, q->cbarg, 404, "no such silence");
	} else {
		struct buf b;

		buf_init(&b);
		buf_adds(&b, "{\"deleted\":");
		buf_json_str(&b, q->s1, strlen(q->s1));
		buf_adds(&b, "}\n");
		q->cb(q->cbarg, 200, b.p, b.len);
		buf_free(&b);
	}
	sil_refresh(r);
}

void response_silence_add(struct response *r, const char *json, size_t len,
    response_reply_cb cb, void *arg)
{
	struct silence s;
	char why[256];
	struct buf b;
	const char *argv[4];
	struct rq *q;
	char *k;
	int64_t now = vg_now_ms();

	if (silence_parse(json, len, 1, now, &s, why, sizeof(why)) < 0) {
		reply_err(cb, arg, 400, why);
		return;
	}
	if (!rds_ready(r->rds)) {
		silence_clear(&s);
		reply_err(cb, arg, 503, "Redis is unavailable");
		return;
	}
	buf_init(&b);
	silence_json(&s, 0, &b);
	k = resp_key(r, "sil", NULL);
	argv[0] = "HSET";
	argv[1] = k;
	argv[2] = s.id;
	argv[3] = buf_cstr(&b);
	q = rq_new(r, sil_put_reply, NULL);
	q->cb = cb;
	q->cbarg = arg;
	q->s1 = vg_strdup(s.id);
	buf_clear(&b);
	silence_json(&s, now, &b);
	buf_addc(&b, '\n');
	q->s2 = vg_strdup(buf_cstr(&b));
	buf_clear(&b);
	silence_json(&s, 0, &b);
	argv[3] = buf_cstr(&b);
	if (resp_cmd(r, q, 4, argv, NULL) < 0)
		reply_err(cb, arg, 503, "Redis is unavailable");
	else {
		/* the key lives a while past the latest end: NX gives it a
		 * first TTL, GT only ever lengthens it */
		const char *ex[4] = { "PEXPIRE", k, NULL, "NX" };
		char ttl[32];

		snprintf(ttl, sizeof(ttl), "%" PRId64, (int64_t)(s.ends_ms - now +
		    SIL_KEEP_EXPIRED_MS));
		ex[2] = ttl;
		resp_cmd(r, rq_new(r, NULL, NULL), 4, ex, NULL);
		ex[3] = "GT";
		resp_cmd(r, rq_new(r, NULL, NULL), 4, ex, NULL);
		log_notice("response: silence %s added by %s until %" PRId64,
		    s.id, s.author, s.ends_ms);
	}
	free(k);
	buf_free(&b);
	silence_clear(&s);
}

void response_silence_delete(struct response *r, const char *id,
    response_reply_cb cb, void *arg)
{
	const char *argv[3];
	struct rq *q;
	char *k;

	if (!rds_ready(r->rds)) {
		reply_err(cb, arg, 503, "Redis is unavailable");
		return;
	}
	k = resp_key(r, "sil", NULL);
	argv[0] = "HDEL";
	argv[1] = k;
	argv[2] = id;
	q = rq_new(r, sil_put_reply, NULL);
	q->cb = cb;
	q->cbarg = arg;
	q->n = 1;
	q->s1 = vg_strdup(id);
	if (resp_cmd(r, q, 3, argv, NULL) < 0)
		reply_err(cb, arg, 503, "Redis is unavailable");
	free(k);
}
