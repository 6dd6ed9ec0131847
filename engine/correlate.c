/*
 * correlate.c: the correlation stage at run time. A correlator turns each
 * detection match that some correlation refers to into one update of the
 * window of its rule and group in Redis (correlate_lua.c), and turns the
 * script's answers into correlation alerts; alerts of inner correlations
 * are fed, as events, to the correlations that refer to them. The updates
 * of one pass of the loop leave as one script call (a batch, see struct
 * batch), pipelined with the rest by the Redis client.
 *
 * The event is copied (one flat allocation, reused) when some correlation
 * wants it, and kept until the answers to its updates are back, because
 * those come later, from the loop, when the pipeline has moved on. Events
 * of windows closed by the clock come back from Redis as JSON (stored with
 * them), since the process that closes a window may not be the one that saw
 * its events, or may have restarted since.
 *
 * The clock: windows evaluated at their end and absences are registered in
 * a due index in Redis; correlate_advance claims what is due (a script, so
 * each group is closed by one correlator) and closes it. Replay advances on
 * event time, the daemon on a timer with the wall clock.
 *
 * What this file does not do: decide anything about windows (the scripts
 * do), write alerts anywhere (the callback does), or block (except replay's
 * backpressure and correlate_finish, which run the caller's loop).
 */
#include "correlate_int.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "jsonin.h"
#include "log.h"

#define MAX_GROUP_KEY 160
#define TICK_BATCH 256
#define TTL_MARGIN_MS (5 * 60 * 1000)
#define CLOCK_END ((int64_t)1 << 52)  /* "time has run out", exact in Lua */
#define DEF_LATENESS_MS 10000
#define DEF_CAP 10000u
#define DEF_MAX_OUTSTANDING 20000u
/*
 * Updates per script call. The daemon sends what one loop pass issued when
 * the pass ends, unless BATCH_INFLIGHT of its calls are still unanswered:
 * then the updates wait in the batch, which grows, until an answer comes
 * back (never for a timer). Idle, an update leaves at the end of its pass;
 * behind, calls grow with the backlog, up to BATCH_MAX: Redis spends less
 * per update in a big call (the script's fixed cost is shared, and the
 * more updates of one group a call carries, the more it folds, see
 * corr_lua_batch), and an update held back would only have waited in
 * Redis's queue behind the calls in flight. BATCH_MAX bounds how long one
 * call keeps the first of its answers waiting. Replay has no one waiting
 * and sends BATCH_REPLAY at a time.
 */
#define BATCH_MAX 1024
#define BATCH_INFLIGHT 1
#define BATCH_REPLAY 8192

/* One field of a copied event. */
struct sfield {
	uint32_t id;
	uint8_t kind;
	double num;
	uint32_t name_off, name_len, val_off, val_len;
};

/* An event kept until the answers to its updates are back. */
struct slot {
	struct slot *next;    /* free list */
	int refs;
	int64_t ev_ts, recv_ms;
	int has_ts;
	struct sfield *f;
	uint32_t n, cap;
	struct buf text;      /* names and values, each NUL-terminated */
};

enum { REQ_UPDATE, REQ_CLOSE, REQ_TICK };

struct creq {
	struct creq *next;    /* free list */
	struct correlator *c;
	struct corr_rule *cr;
	struct slot *slot;    /* REQ_UPDATE */
	int kind;
	struct buf gv;        /* REQ_UPDATE: group values, NUL-separated;
	                         REQ_CLOSE: the due member */
};

/* Per rule, from the correlator's defaults. */
struct crt {
	int64_t lateness_ms;
	char lat[24], cap[16], ttl[24];
};

/*
 * Updates issued during one pass of the loop, sent as one call of
 * corr_lua_batch when the pass ends and fewer than BATCH_INFLIGHT calls
 * are unanswered (else when one is answered; replay: when full, or when it
 * waits for Redis), when batch_max are waiting, or before any other
 * command of the correlator, which must not overtake them. Each update keeps its own
 * request and gets its own answer, in order. While Redis is unreachable,
 * updates go one per command instead, so that the client's bounded buffer
 * holds, drops and counts updates; a batch that was in flight when the
 * connection broke is held (and, if the buffer overflows, dropped and
 * counted) whole.
 */
struct batch {
	struct batch *next;   /* free list */
	struct correlator *c;
	struct creq **q;
	size_t n, cap;
	int sent;             /* in flight (counted in c->bflight) */
};

struct correlator {
	const struct corr_set *cs;
	struct rds *r;
	int s_update, s_tick, s_batch;
	correlate_alert_cb cb;
	void *arg;
	char *prefix;
	struct crt *rt;
	char *due_key;
	char due_ttl[24];
	int replay;
	size_t max_out;
	size_t batch_max;
	int64_t patience;

	uint32_t instance;
	uint32_t seq;
	uint64_t evseq;
	uint64_t *stamp;      /* per rule: evseq of the last feed */

	int64_t clock;
	int64_t next_due;     /* earliest known due time, INT64_MAX: none */
	int64_t due_since;    /* earliest registered while a tick is out */
	int tick_busy;
	int64_t last_tick_items;
	uint64_t polled;      /* replay: updates at the last loop pass */
	int stalled;          /* replay: gave up waiting for Redis ... */
	uint64_t stalled_replies; /* ... when it had answered this many */
	struct event *bp_timer;   /* wakes the loop while waiting */
	struct event *timer;

	struct buf kb, jb, gb, vb, tb;  /* scratch */
	struct buf cgv;                 /* group values of a close answer */
	struct vg_event *ev_slot;       /* alerts: event from a slot */
	struct vg_event *ev_json;       /* alerts: event from JSON */
	struct jsonin_limits jl;

	struct slot *free_slots;
	struct creq *free_reqs;

	/* the batch being filled: its requests, their keys, the fixed
	 * arguments of each rule it uses (once) and each update's own
	 * (offsets into kbuf, rbuf and abuf, made pointers when sent) */
	struct batch *cur;
	struct batch *free_batches;
	struct buf kbuf, rbuf, abuf;
	size_t *koff, *klen, *roff, *rlen, *aoff, *alen;
	size_t nk, nra, na, kcap, rcap, acap;
	uint64_t bserial;     /* batches sent, from 1 */
	uint64_t *rseen;      /* per rule: the batch it is in, ... */
	uint32_t *rslot;      /* ... and its number there, from 1 */
	uint32_t nrb;         /* rules in the batch */
	const char **sv;
	size_t *sl;
	size_t svcap;
	struct event *flush_ev;
	int bflight;          /* batches sent and not yet answered */
	size_t outstanding;
	struct correlate_stats st;
	/* correlate_watch_low */
	void (*low_cb)(void *);
	void *low_arg;
	size_t low;
};

/* ---- copied events ---- */

static struct slot *slot_new(struct correlator *c, const struct vg_event *ev)
{
	struct slot *s = c->free_slots;

	if (s != NULL)
		c->free_slots = s->next;
	else
		s = vg_calloc(1, sizeof(*s));
	s->next = NULL;
	s->refs = 1;
	s->n = 0;
	buf_clear(&s->text);
	s->ev_ts = ev->ts_ms;
	s->has_ts = ev->has_ts;
	s->recv_ms = ev->recv_ms;
	for (uint32_t i = 0; i < ev->n; i++) {
		const struct fent *e = &ev->ents[i];
		struct sfield *f;

		if (e->dead)
			continue;
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 32;
			s->f = vg_realloc(s->f, s->cap * sizeof(*s->f));
		}
		f = &s->f[s->n++];
		f->id = e->id;
		f->kind = e->v.kind;
		f->num = e->v.num;
		f->name_off = f->name_len = 0;
		if (e->id == FIELD_NONE) {
			f->name_off = (uint32_t)s->text.len;
			f->name_len = e->name_len;
			buf_add(&s->text, e->name, e->name_len);
			buf_addc(&s->text, '\0');
		}
		f->val_off = (uint32_t)s->text.len;
		f->val_len = e->v.len;
		buf_add(&s->text, e->v.s, e->v.len);
		buf_addc(&s->text, '\0');
	}
	return s;
}

static void slot_unref(struct correlator *c, struct slot *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	if (s->text.cap > 64 * 1024) {
		/* an unusually large event: do not keep its memory around */
		buf_free(&s->text);
		buf_init(&s->text);
	}
	s->next = c->free_slots;
	c->free_slots = s;
}

/* Rebuild the event in ev, pointing into s (which must stay alive). */
static void slot_restore(const struct slot *s, struct vg_event *ev)
{
	vg_event_reset(ev);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct sfield *f = &s->f[i];
		const char *val = s->text.p + f->val_off;

		if (f->id != FIELD_NONE) {
			uint32_t k = vg_event_add_ref(ev, f->id, val, f->val_len);

			ev->ents[k].v.kind = f->kind;
			ev->ents[k].v.num = f->num;
		} else {
			vg_event_add_named(ev, s->text.p + f->name_off, f->name_len,
			    val, f->val_len, (enum value_kind)f->kind, f->num);
		}
	}
	ev->ts_ms = s->ev_ts;
	ev->has_ts = s->has_ts;
	ev->recv_ms = s->recv_ms;
}

/* ---- requests ---- */

static struct creq *req_new(struct correlator *c, int kind,
    struct corr_rule *cr)
{
	struct creq *q = c->free_reqs;

	if (q != NULL)
		c->free_reqs = q->next;
	else
		q = vg_calloc(1, sizeof(*q));
	q->next = NULL;
	q->c = c;
	q->cr = cr;
	q->kind = kind;
	q->slot = NULL;
	buf_clear(&q->gv);
	return q;
}

static void req_done(struct creq *q)
{
	struct correlator *c = q->c;

	slot_unref(c, q->slot);
	q->slot = NULL;
	if (q->gv.cap > 4096) {
		buf_free(&q->gv);
		buf_init(&q->gv);
	}
	q->next = c->free_reqs;
	c->free_reqs = q;
	if (c->outstanding > 0)
		c->outstanding--;
	if (c->low_cb != NULL && c->outstanding <= c->low) {
		void (*cb)(void *) = c->low_cb;

		c->low_cb = NULL;
		cb(c->low_arg);
	}
}

/* ---- keys ---- */

static void sha1_hex(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0;

	if (EVP_Digest(s, n, md, &mdn, EVP_sha1(), NULL) != 1)
		mdn = 0;
	for (unsigned i = 0; i < mdn; i++) {
		buf_addc(out, hex[md[i] >> 4]);
		buf_addc(out, hex[md[i] & 15]);
	}
}

/* c->kb = "<rule>:<group>" for the values in gv (NUL-separated). */
static void group_member(struct correlator *c, const struct corr_rule *cr,
    const struct buf *gv, size_t ngroup)
{
	size_t start, off = 0;

	buf_clear(&c->kb);
	buf_adds(&c->kb, cr->key);
	buf_addc(&c->kb, ':');
	start = c->kb.len;
	for (size_t g = 0; g < ngroup; g++) {
		size_t n = strlen(gv->p + off);

		if (g > 0)
			buf_addc(&c->kb, ':');
		corr_key_escape(&c->kb, gv->p + off, n);
		off += n + 1;
	}
	if (c->kb.len - start > MAX_GROUP_KEY) {
		c->kb.len = start;
		buf_addc(&c->kb, '#');
		sha1_hex(&c->kb, gv->p, gv->len);
	}
}

/* c->tb = the four keys of member, NUL-separated; offsets in off[]. */
static void group_keys(struct correlator *c, const char *member, size_t mlen,
    size_t off[4], size_t len[4])
{
	static const char *const sfx[4] = { "", ":e", ":j", ":b" };

	buf_clear(&c->tb);
	for (int i = 0; i < 4; i++) {
		off[i] = c->tb.len;
		buf_adds(&c->tb, c->prefix);
		buf_add(&c->tb, "c{", 2);
		buf_add(&c->tb, member, mlen);
		buf_addc(&c->tb, '}');
		buf_adds(&c->tb, sfx[i]);
		len[i] = c->tb.len - off[i];
		buf_addc(&c->tb, '\0');
	}
}

/* ---- script calls ---- */

static void upd_cb(void *arg, const struct redisReply *rep);
static void close_cb(void *arg, const struct redisReply *rep);
static void tick_cb(void *arg, const struct redisReply *rep);
static void batch_flush(struct correlator *c);

/* Fixed arguments 2..17 of the window script. */
static int fixed_args(struct correlator *c, const struct corr_rule *cr,
    const char **v, const char *clock)
{
	const struct crt *rt = &c->rt[cr->idx];
	int n = 0;

	v[n++] = cr->a_type;
	v[n++] = cr->a_mode;
	v[n++] = cr->a_span;
	v[n++] = rt->lat;
	v[n++] = rt->cap;
	for (int j = 0; j < CC_N; j++)
		v[n++] = cr->a_cond[j];
	v[n++] = cr->a_nroles;
	v[n++] = cr->a_rank;
	v[n++] = cr->a_sup;
	v[n++] = rt->ttl;
	v[n++] = clock;
	return n;
}

static int64_t due_of(const struct redisReply *rep)
{
	if (rep->elements < 3 || rep->element[2]->type != REDIS_REPLY_INTEGER)
		return -1;
	return rep->element[2]->integer;
}

static void register_due(struct correlator *c, const char *member,
    size_t mlen, int64_t due)
{
	char score[24];
	const char *zv[4] = { "ZADD", c->due_key, score, member };
	size_t zl[4] = { 4, strlen(c->due_key), 0, mlen };
	const char *ev[3] = { "PEXPIRE", c->due_key, c->due_ttl };

	snprintf(score, sizeof(score), "%lld", (long long)due);
	zl[2] = strlen(score);
	batch_flush(c);
	rds_cmd(c->r, RDS_RETRY, NULL, NULL, 4, zv, zl);
	rds_cmd(c->r, RDS_RETRY, NULL, NULL, 3, ev, NULL);
	if (due < c->next_due)
		c->next_due = due;
	if (due < c->due_since)
		c->due_since = due;
	/* replay: the clock may already be past it */
	if (c->replay && due <= c->clock)
		correlate_advance(c, c->clock);
}

/* ---- batches ---- */

static void keep_arg(struct buf *b, size_t **off, size_t **len, size_t *n,
    size_t *cap, const char *s, size_t l)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*off = vg_realloc(*off, *cap * sizeof(**off));
		*len = vg_realloc(*len, *cap * sizeof(**len));
	}
	(*off)[*n] = b->len;
	(*len)[*n] = l;
	(*n)++;
	buf_add(b, s, l);
}

static void batch_release(struct correlator *c, struct batch *b)
{
	b->n = 0;
	if (b->cap > BATCH_REPLAY) {
		free(b->q);
		b->q = NULL;
		b->cap = 0;
	}
	b->next = c->free_batches;
	c->free_batches = b;
}

/* The answer to a batch: each update's own answer, in order. */
static void batch_cb(void *arg, const struct redisReply *rep)
{
	struct batch *b = arg;
	struct correlator *c = b->c;
	int whole = rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	    rep->elements == b->n;

	if (b->sent) {
		b->sent = 0;
		c->bflight--;
	}
	for (size_t i = 0; i < b->n; i++) {
		const struct redisReply *e = whole ? rep->element[i] : NULL;

		if (whole && e->type == REDIS_REPLY_INTEGER && e->integer == 0) {
			/* applied, nothing to tell */
			req_done(b->q[i]);
		} else if (rep == NULL || whole) {
			upd_cb(b->q[i], e);
		} else {
			/* an error (or a reply of another shape) for all */
			c->st.errors++;
			req_done(b->q[i]);
		}
	}
	batch_release(c, b);
	/* updates held while this call was out go now (from the loop: this
	 * may run inside rds_free) */
	if (c->cur != NULL && c->flush_ev != NULL)
		event_active(c->flush_ev, EV_TIMEOUT, 0);
}

/* Send the batch being filled, if any (corr_lua_batch's KEYS and ARGV). */
static void batch_flush(struct correlator *c)
{
	struct batch *b = c->cur;
	char nb[24], nr[16];
	size_t argc, k = 0;

	if (b == NULL || b->n == 0)
		return;
	c->cur = NULL;
	argc = c->nk + 2 + c->nra + c->na;
	if (argc > c->svcap) {
		c->svcap = argc;
		c->sv = vg_realloc(c->sv, argc * sizeof(*c->sv));
		c->sl = vg_realloc(c->sl, argc * sizeof(*c->sl));
	}
	for (size_t i = 0; i < c->nk; i++, k++) {
		c->sv[k] = c->kbuf.p + c->koff[i];
		c->sl[k] = c->klen[i];
	}
	snprintf(nb, sizeof(nb), "%zu", b->n);
	c->sv[k] = nb;
	c->sl[k++] = strlen(nb);
	snprintf(nr, sizeof(nr), "%u", c->nrb);
	c->sv[k] = nr;
	c->sl[k++] = strlen(nr);
	for (size_t i = 0; i < c->nra; i++, k++) {
		c->sv[k] = c->rbuf.p + c->roff[i];
		c->sl[k] = c->rlen[i];
	}
	for (size_t i = 0; i < c->na; i++, k++) {
		c->sv[k] = c->abuf.p + c->aoff[i];
		c->sl[k] = c->alen[i];
	}
	b->sent = 0;
	if (rds_evalsha(c->r, RDS_RETRY, c->s_batch, batch_cb, b, (int)c->nk,
	    (int)argc, c->sv, c->sl) < 0) {
		batch_cb(b, NULL);
	} else {
		b->sent = 1;
		c->bflight++;
	}
	c->nk = c->nra = c->na = 0;
	c->nrb = 0;
	c->bserial++;
	buf_clear(&c->kbuf);
	buf_clear(&c->rbuf);
	buf_clear(&c->abuf);
}

/* The loop pass that issued updates is over, or a call was answered. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct correlator *c = arg;

	(void)fd;
	(void)what;
	if (c->bflight < BATCH_INFLIGHT)
		batch_flush(c);
}

/*
 * Send one update (argv v[0..n) of corr_lua_update: its 4 keys, "u", the
 * 16 fixed arguments of its rule, then its own 7): into the batch while
 * Redis is there, else on its own.
 */
static void send_update(struct correlator *c, struct creq *q, int n,
    const char **v, const size_t *l)
{
	size_t ri = q->cr->idx;
	char rb[16];
	struct batch *b;

	if (!rds_ready(c->r) || n != 4 + CORR_UPDATE_ARGS) {
		batch_flush(c);
		if (rds_evalsha(c->r, RDS_RETRY, c->s_update, upd_cb, q, 4, n, v,
		    l) < 0)
			upd_cb(q, NULL);
		return;
	}
	if ((b = c->cur) == NULL) {
		if ((b = c->free_batches) != NULL)
			c->free_batches = b->next;
		else
			b = vg_calloc(1, sizeof(*b));
		b->next = NULL;
		b->c = c;
		b->n = 0;
		c->cur = b;
		if (c->flush_ev != NULL)
			event_active(c->flush_ev, EV_TIMEOUT, 0);
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : BATCH_MAX;
		b->q = vg_realloc(b->q, b->cap * sizeof(*b->q));
	}
	b->q[b->n++] = q;
	/* the group's main key: the other three are it plus a suffix */
	keep_arg(&c->kbuf, &c->koff, &c->klen, &c->nk, &c->kcap, v[0], l[0]);
	if (c->rseen[ri] != c->bserial) {
		c->rseen[ri] = c->bserial;
		c->rslot[ri] = ++c->nrb;
		for (int i = 5; i < 21; i++)
			keep_arg(&c->rbuf, &c->roff, &c->rlen, &c->nra, &c->rcap,
			    v[i], l[i]);
	}
	snprintf(rb, sizeof(rb), "%u", c->rslot[ri]);
	keep_arg(&c->abuf, &c->aoff, &c->alen, &c->na, &c->acap, rb, strlen(rb));
	for (int i = 21; i < n; i++)
		keep_arg(&c->abuf, &c->aoff, &c->alen, &c->na, &c->acap, v[i], l[i]);
	if (b->n >= c->batch_max)
		batch_flush(c);
}

/* ---- feeding ---- */

static int value_of(struct correlator *c, const struct corr_rule *cr,
    const struct corr_ref *ref, const struct vg_event *ev)
{
	buf_clear(&c->vb);
	if (cr->type == CT_VALUE_COUNT) {
		for (size_t i = 0; i < cr->nvalue; i++) {
			const char *s = corr_field_str(ev, ref->value_fields[i],
			    ref->value_more[i]);

			if (s == NULL)
				return -1;
			if (i > 0)
				buf_addc(&c->vb, '\x1f');
			buf_adds(&c->vb, s);
		}
		return 0;
	}
	if (cr->type == CT_VALUE_SUM || cr->type == CT_VALUE_AVG ||
	    cr->type == CT_VALUE_PERCENTILE || cr->type == CT_VALUE_MEDIAN) {
		const struct value *v = corr_field_get(ev,
		    ref->value_fields[0], ref->value_more[0]);
		double x;
		char *end;

		if (v == NULL)
			return -1;
		if (v->kind == V_NUM) {
			x = v->num;
		} else {
			if (v->len == 0)
				return -1;
			errno = 0;
			x = strtod(v->s, &end);
			if (errno != 0 || *end != '\0')
				return -1;
		}
		if (!isfinite(x))
			return -1;
		buf_printf(&c->vb, "%.17g", x);
		return 0;
	}
	return 0;
}

/*
 * One update of cr's window for ev as role. *slotp is the event's copy,
 * made on first need (its first reference belongs to the caller).
 */
static void feed(struct correlator *c, struct corr_rule *cr, int role,
    const struct vg_event *ev, int64_t ts, struct slot **slotp, int derived)
{
	const struct corr_ref *ref = &cr->refs[role];
	struct creq *q;
	size_t off[4], len[4];
	const char *v[32];
	size_t l[32];
	char tsb[24], idb[20], roleb[8];
	int n = 0, per_role;

	per_role = cr->type == CT_TEMPORAL || cr->type == CT_TEMPORAL_ORDERED;
	if (!per_role) {
		/* an event that matches two of the rules counts once */
		if (c->stamp[cr->idx] == c->evseq)
			return;
		c->stamp[cr->idx] = c->evseq;
	}
	q = req_new(c, REQ_UPDATE, cr);
	for (size_t g = 0; g < cr->ngroup; g++) {
		const char *s = corr_field_str(ev, ref->group_fields[g],
		    ref->group_more[g]);

		if (s == NULL) {
			c->st.no_group++;
			goto skip;
		}
		buf_adds(&q->gv, s);
		buf_addc(&q->gv, '\0');
	}
	if (value_of(c, cr, ref, ev) < 0) {
		c->st.no_value++;
		goto skip;
	}
	buf_clear(&c->jb);
	if (cr->mode == CM_CLOSE || (cr->mode == CM_ABSENCE && role == 0))
		alert_event_json(&c->jb, ev);
	buf_clear(&c->gb);
	if (cr->mode != CM_ARRIVAL) {
		size_t o = 0;

		for (size_t g = 0; g < cr->ngroup; g++) {
			size_t sl = strlen(q->gv.p + o);

			buf_printf(&c->gb, "%zu:", sl);
			buf_add(&c->gb, q->gv.p + o, sl);
			o += sl + 1;
		}
	}
	group_member(c, cr, &q->gv, cr->ngroup);
	group_keys(c, c->kb.p, c->kb.len, off, len);

	snprintf(tsb, sizeof(tsb), "%lld", (long long)ts);
	snprintf(idb, sizeof(idb), "%08x%08x", c->instance, c->seq++);
	snprintf(roleb, sizeof(roleb), "%d", role);
	for (int i = 0; i < 4; i++) {
		v[n] = c->tb.p + off[i];
		l[n++] = len[i];
	}
	v[n] = "u";
	l[n++] = 1;
	{
		int k = fixed_args(c, cr, v + n, "0");

		for (int i = 0; i < k; i++)
			l[n + i] = strlen(v[n + i]);
		n += k;
	}
	v[n] = c->gb.p ? c->gb.p : "";
	l[n++] = c->gb.len;
	v[n] = tsb;
	l[n++] = strlen(tsb);
	v[n] = idb;
	l[n++] = 16;
	v[n] = roleb;
	l[n++] = strlen(roleb);
	v[n] = c->vb.p ? c->vb.p : "";
	l[n++] = c->vb.len;
	v[n] = c->jb.p ? c->jb.p : "";
	l[n++] = c->jb.len;
	v[n] = derived ? "1" : "0";
	l[n++] = 1;

	if (*slotp == NULL)
		*slotp = slot_new(c, ev);
	q->slot = *slotp;
	q->slot->refs++;
	c->outstanding++;
	c->st.updates++;
	send_update(c, q, n, v, l);
	return;
skip:
	q->next = c->free_reqs;
	c->free_reqs = q;
}

/*
 * Replay: do not run ahead of Redis by more than max_out updates. When
 * Redis gives no answer for c->patience ms (away, or frozen), the replay
 * goes on without waiting (the client's bounded buffer drops and counts)
 * until answers come again.
 */
static void bp_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void backpressure(struct correlator *c)
{
	struct event_base *base = rds_base(c->r);
	struct timeval tv = { 0, 100000 };
	uint64_t replies;
	int64_t since;

	if (!c->replay)
		return;
	/* let what is queued go out (and answers come back) now and then,
	 * so alerts follow the input instead of waiting for the end */
	if (c->st.updates - c->polled >= 256) {
		c->polled = c->st.updates;
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	if (c->outstanding <= c->max_out)
		return;
	batch_flush(c);
	replies = rds_stats(c->r)->replies;
	if (c->stalled && replies == c->stalled_replies)
		return;
	c->stalled = 0;
	since = vg_mono_ms();
	if (c->bp_timer == NULL)
		c->bp_timer = event_new(base, -1, EV_PERSIST, bp_tick, NULL);
	if (c->bp_timer != NULL)
		event_add(c->bp_timer, &tv);
	while (c->outstanding > c->max_out / 2) {
		uint64_t now = rds_stats(c->r)->replies;

		if (now != replies) {
			replies = now;
			since = vg_mono_ms();
		} else if (vg_mono_ms() - since > c->patience) {
			c->stalled = 1;
			c->stalled_replies = replies;
			log_warnx("correlate: no answer from Redis for %lld ms; going "
			    "on, updates beyond the buffer are dropped and counted",
			    (long long)c->patience);
			break;
		}
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			break;
	}
	if (c->bp_timer != NULL)
		event_del(c->bp_timer);
}

void correlate_event(struct correlator *c, const struct vg_event *ev,
    int64_t ts_ms, const struct rule *const *matches, size_t n)
{
	struct slot *slot = NULL;
	int wanted = 0;

	c->evseq++;
	for (size_t i = 0; i < n; i++) {
		const struct corr_det *d = corr_det_find(c->cs, matches[i]);

		if (d == NULL)
			continue;
		wanted = 1;
		for (size_t j = 0; j < d->nuses; j++)
			feed(c, d->uses[j].cr, d->uses[j].role, ev, ts_ms, &slot, 0);
	}
	if (wanted)
		c->st.events++;
	slot_unref(c, slot);
	if (c->replay) {
		correlate_advance(c, ts_ms);
		backpressure(c);
	}
}

/* ---- answers ---- */

static const struct redisReply *el(const struct redisReply *rep, size_t i)
{
	return i < rep->elements ? rep->element[i] : NULL;
}

static long long el_int(const struct redisReply *rep, size_t i)
{
	const struct redisReply *e = el(rep, i);

	if (e == NULL)
		return -1;
	if (e->type == REDIS_REPLY_INTEGER)
		return e->integer;
	if (e->type == REDIS_REPLY_STRING)
		return strtoll(e->str, NULL, 10);
	return -1;
}

static void emit(struct correlator *c, struct corr_rule *cr,
    const struct vg_event *ev, struct slot *slot, const char *const *gvals,
    int64_t ts, uint64_t count, double value, uint64_t suppressed);

/* Parse NUL-separated (update) or netstring (close) group values. */
static size_t split_gv(const char *p, size_t len, int netstring,
    const char **vals, struct buf *store)
{
	size_t n = 0, o = 0;

	if (!netstring) {
		while (o < len && n < CORR_MAX_GROUP) {
			vals[n++] = p + o;
			o += strlen(p + o) + 1;
		}
		return n;
	}
	buf_clear(store);
	{
		size_t offs[CORR_MAX_GROUP];

		while (o < len && n < CORR_MAX_GROUP) {
			char *end;
			unsigned long l = strtoul(p + o, &end, 10);

			if (*end != ':' || (size_t)(end + 1 - p) + l > len)
				break;
			offs[n++] = store->len;
			buf_add(store, end + 1, l);
			buf_addc(store, '\0');
			o = (size_t)(end + 1 - p) + l;
		}
		for (size_t i = 0; i < n; i++)
			vals[i] = store->p + offs[i];
	}
	return n;
}

/* The alerts in a script answer (elements 5.. of rep). */
static void answer_fires(struct correlator *c, struct corr_rule *cr,
    const struct redisReply *rep, struct slot *slot, const char *const *gvals,
    size_t ngv)
{
	long long nf = el_int(rep, 5);

	if (ngv < cr->ngroup)
		return;
	for (long long i = 0; i < nf; i++) {
		size_t b = 6 + (size_t)i * 5;
		const struct redisReply *vj = el(rep, b + 4), *vv = el(rep, b + 2);
		const struct vg_event *ev;
		double value = 0;

		if (vj == NULL || vv == NULL) {
			c->st.errors++;
			return;
		}
		if (vv->type == REDIS_REPLY_STRING)
			value = strtod(vv->str, NULL);
		if (vj->type == REDIS_REPLY_STRING && vj->len > 0) {
			struct vg_err err = { 0 };

			vg_event_reset(c->ev_json);
			if (jsonin_parse(c->ev_json, vj->str, vj->len, &c->jl, 0,
			    &err) != JSONIN_OK)
				c->st.errors++;
			ev = c->ev_json;
			emit(c, cr, ev, NULL, gvals, el_int(rep, b),
			    (uint64_t)el_int(rep, b + 1), value,
			    (uint64_t)el_int(rep, b + 3));
		} else if (slot != NULL) {
			slot_restore(slot, c->ev_slot);
			emit(c, cr, c->ev_slot, slot, gvals, el_int(rep, b),
			    (uint64_t)el_int(rep, b + 1), value,
			    (uint64_t)el_int(rep, b + 3));
		} else {
			vg_event_reset(c->ev_json);
			emit(c, cr, c->ev_json, NULL, gvals, el_int(rep, b),
			    (uint64_t)el_int(rep, b + 1), value,
			    (uint64_t)el_int(rep, b + 3));
		}
	}
}

static int answer_ok(struct correlator *c, const struct redisReply *rep)
{
	if (rep == NULL) {
		c->st.dropped++;
		return 0;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 6) {
		c->st.errors++;
		return 0;
	}
	return 1;
}

static void answer_counts(struct correlator *c, const struct redisReply *rep)
{
	long long v;

	if ((v = el_int(rep, 1)) > 0)
		c->st.cap_drops += (uint64_t)v;
	if ((v = el_int(rep, 3)) > 0)
		c->st.suppressed += (uint64_t)v;
}

static void upd_cb(void *arg, const struct redisReply *rep)
{
	struct creq *q = arg;
	struct correlator *c = q->c;
	struct corr_rule *cr = q->cr;
	const char *gvals[CORR_MAX_GROUP];
	size_t ngv;
	long long status;
	int64_t due;

	if (!answer_ok(c, rep))
		goto done;
	status = el_int(rep, 0);
	if (status == 1) {
		c->st.late++;
		goto done;
	}
	if (status == 2)
		c->st.duplicates++;
	answer_counts(c, rep);
	if ((due = due_of(rep)) >= 0) {
		group_member(c, cr, &q->gv, cr->ngroup);
		register_due(c, c->kb.p, c->kb.len, due);
	}
	ngv = split_gv(q->gv.p, q->gv.len, 0, gvals, NULL);
	answer_fires(c, cr, rep, q->slot, gvals, ngv);
done:
	req_done(q);
}

static void close_cb(void *arg, const struct redisReply *rep)
{
	struct creq *q = arg;
	struct correlator *c = q->c;
	struct corr_rule *cr = q->cr;
	const char *gvals[CORR_MAX_GROUP];
	const struct redisReply *g;
	size_t ngv = 0;
	int64_t due;

	if (!answer_ok(c, rep))
		goto done;
	c->st.closes++;
	answer_counts(c, rep);
	if ((due = due_of(rep)) >= 0)
		register_due(c, q->gv.p, q->gv.len, due);
	g = el(rep, 4);
	if (g != NULL && g->type == REDIS_REPLY_STRING)
		ngv = split_gv(g->str, g->len, 1, gvals, &c->cgv);
	if (cr->ngroup == 0 || ngv == cr->ngroup)
		answer_fires(c, cr, rep, NULL, gvals, ngv);
	else if (el_int(rep, 5) > 0)
		c->st.errors++;
done:
	req_done(q);
}

static struct corr_rule *rule_by_key(const struct correlator *c,
    const char *k, size_t n)
{
	for (size_t i = 0; i < c->cs->nrules; i++) {
		struct corr_rule *cr = c->cs->rules[i];

		if (strlen(cr->key) == n && memcmp(cr->key, k, n) == 0)
			return cr;
	}
	return NULL;
}

static void send_close(struct correlator *c, const char *member, size_t mlen)
{
	const char *colon = memchr(member, ':', mlen);
	struct corr_rule *cr;
	struct creq *q;
	size_t off[4], len[4];
	const char *v[32];
	size_t l[32];
	char clock[24];
	int n = 0, k;

	cr = colon ? rule_by_key(c, member, (size_t)(colon - member)) : NULL;
	if (cr == NULL || cr->mode == CM_ARRIVAL) {
		/* a rule this process does not have (another configuration) */
		c->st.errors++;
		return;
	}
	batch_flush(c);
	q = req_new(c, REQ_CLOSE, cr);
	buf_add(&q->gv, member, mlen);
	group_keys(c, member, mlen, off, len);
	snprintf(clock, sizeof(clock), "%lld", (long long)c->clock);
	for (int i = 0; i < 4; i++) {
		v[n] = c->tb.p + off[i];
		l[n++] = len[i];
	}
	v[n] = "c";
	l[n++] = 1;
	k = fixed_args(c, cr, v + n, clock);
	for (int i = 0; i < k; i++)
		l[n + i] = strlen(v[n + i]);
	n += k;
	v[n] = "";
	l[n++] = 0;
	c->outstanding++;
	if (rds_evalsha(c->r, RDS_RETRY, c->s_update, close_cb, q, 4, n, v, l) < 0) {
		c->st.dropped++;
		req_done(q);
	}
}

/* Claim what is due. Ticks are cheap to repeat, so while Redis is away
 * they are not sent at all, except at the end of a replay (RDS_RETRY). */
static void send_tick(struct correlator *c, unsigned flags)
{
	char clock[24], lim[16];
	const char *v[3] = { c->due_key, clock, lim };
	struct creq *q;

	if (!(flags & RDS_RETRY) && !rds_ready(c->r))
		return;
	batch_flush(c);
	snprintf(clock, sizeof(clock), "%lld", (long long)c->clock);
	snprintf(lim, sizeof(lim), "%d", TICK_BATCH);
	q = req_new(c, REQ_TICK, NULL);
	c->tick_busy = 1;
	c->due_since = INT64_MAX;
	c->outstanding++;
	if (rds_evalsha(c->r, flags, c->s_tick, tick_cb, q, 1, 3, v, NULL) < 0) {
		c->tick_busy = 0;
		req_done(q);
	}
}

static void tick_cb(void *arg, const struct redisReply *rep)
{
	struct creq *q = arg;
	struct correlator *c = q->c;
	const struct redisReply *items;
	long long next;

	c->tick_busy = 0;
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) {
		if (rep != NULL)
			c->st.errors++;
		c->last_tick_items = -2;
		req_done(q);
		return;
	}
	c->last_tick_items = 0;
	next = el_int(rep, 0);
	items = el(rep, 1);
	/* what was registered after the tick left is not in its answer */
	c->next_due = next < 0 ? INT64_MAX : next;
	if (c->due_since < c->next_due)
		c->next_due = c->due_since;
	if (items != NULL && items->type == REDIS_REPLY_ARRAY) {
		c->last_tick_items = (int64_t)items->elements;
		for (size_t i = 0; i < items->elements; i++) {
			const struct redisReply *m = items->element[i];

			if (m->type == REDIS_REPLY_STRING)
				send_close(c, m->str, m->len);
		}
	}
	req_done(q);
	/* more due than one batch, or due meanwhile */
	if (c->last_tick_items >= TICK_BATCH || c->next_due <= c->clock)
		send_tick(c, 0);
}

static void emit(struct correlator *c, struct corr_rule *cr,
    const struct vg_event *ev, struct slot *slot, const char *const *gvals,
    int64_t ts, uint64_t count, double value, uint64_t suppressed)
{
	struct alert_kv kv[CORR_MAX_GROUP];

	for (size_t g = 0; g < cr->ngroup; g++) {
		kv[g].name = cr->group_by[g];
		kv[g].value = gvals[g];
	}
	if (cr->emits && c->cb != NULL) {
		struct correlate_alert ca;

		memset(&ca, 0, sizeof(ca));
		ca.a.kind = ALERT_CORRELATION;
		ca.a.rule = &cr->rule;
		ca.a.ts_ms = ts;
		ca.a.group = kv;
		ca.a.ngroup = cr->ngroup;
		ca.a.count = count;
		ca.a.ev = ev;
		ca.a.suppressed = suppressed;
		ca.value = value;
		ca.absence = cr->mode == CM_ABSENCE;
		c->st.alerts++;
		c->cb(c->arg, &ca);
	}
	if (cr->nouts > 0) {
		/* the alert is an event of the correlations that refer to
		 * this rule, at the alert's time */
		struct slot *s = slot;

		if (s != NULL)
			s->refs++;
		c->evseq++;
		for (size_t i = 0; i < cr->nouts; i++) {
			c->st.chained++;
			feed(c, cr->outs[i].cr, cr->outs[i].role, ev, ts, &s, 1);
		}
		slot_unref(c, s);
	}
}

/* ---- clock ---- */

void correlate_advance(struct correlator *c, int64_t now_ms)
{
	if (now_ms > c->clock)
		c->clock = now_ms;
	if (c->tick_busy || c->next_due > c->clock)
		return;
	send_tick(c, 0);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct correlator *c = arg;

	(void)fd;
	(void)what;
	/* other processes register deadlines too: always look */
	c->next_due = INT64_MIN;
	correlate_advance(c, vg_now_ms());
}

int correlate_start_timer(struct correlator *c, int64_t interval_ms)
{
	struct timeval tv;

	if (interval_ms <= 0)
		interval_ms = 1000;
	tv.tv_sec = (time_t)(interval_ms / 1000);
	tv.tv_usec = (suseconds_t)(interval_ms % 1000) * 1000;
	if (c->timer == NULL)
		c->timer = event_new(rds_base(c->r), -1, EV_PERSIST, timer_cb, c);
	if (c->timer == NULL || event_add(c->timer, &tv) < 0)
		return -1;
	return 0;
}

static int drain(struct correlator *c, int64_t end)
{
	while (c->outstanding > 0 || rds_outstanding(c->r) > 0) {
		int64_t left = end - vg_mono_ms();

		batch_flush(c);
		if (left <= 0 || rds_drain(c->r, left) < 0)
			return -1;
	}
	return 0;
}

int correlate_finish(struct correlator *c, int expire_all, int64_t timeout_ms)
{
	int64_t end = vg_mono_ms() + timeout_ms;

	if (drain(c, end) < 0)
		return -1;
	if (!expire_all)
		return 0;
	c->clock = CLOCK_END;
	for (;;) {
		c->last_tick_items = -1;
		if (!c->tick_busy)
			send_tick(c, RDS_RETRY);
		if (drain(c, end) < 0 || c->last_tick_items < -1)
			return -1;
		if (c->last_tick_items == 0)
			return 0;
		if (vg_mono_ms() >= end)
			return -1;
	}
}

/* ---- life ---- */

static void rule_runtime(struct correlator *c, const struct correlate_conf *conf)
{
	int64_t def_lat = conf->lateness_ms < 0 ? DEF_LATENESS_MS : conf->lateness_ms;
	uint32_t def_cap = conf->max_group_events ? conf->max_group_events : DEF_CAP;
	int64_t due_ttl = 60000;

	c->rt = vg_calloc(c->cs->nrules + 1, sizeof(*c->rt));
	for (size_t i = 0; i < c->cs->nrules; i++) {
		const struct corr_rule *cr = c->cs->rules[i];
		struct crt *rt = &c->rt[i];
		int64_t ttl;

		rt->lateness_ms = cr->lateness_ms >= 0 ? cr->lateness_ms : def_lat;
		ttl = cr->timespan_ms + rt->lateness_ms + cr->suppress_ms +
		    TTL_MARGIN_MS;
		snprintf(rt->lat, sizeof(rt->lat), "%lld", (long long)rt->lateness_ms);
		snprintf(rt->cap, sizeof(rt->cap), "%u", cr->cap ? cr->cap : def_cap);
		snprintf(rt->ttl, sizeof(rt->ttl), "%lld", (long long)ttl);
		if (ttl > due_ttl)
			due_ttl = ttl;
	}
	snprintf(c->due_ttl, sizeof(c->due_ttl), "%lld", (long long)due_ttl);
}

struct correlator *correlate_new(const struct corr_set *cs, struct rds *r,
    const struct correlate_conf *conf, correlate_alert_cb cb, void *arg)
{
	struct correlator *c = vg_calloc(1, sizeof(*c));
	const char *prefix = conf->prefix ? conf->prefix : "vigil:";
	size_t pl = strlen(prefix);

	c->cs = cs;
	c->r = r;
	c->cb = cb;
	c->arg = arg;
	c->prefix = vg_strdup(prefix);
	c->due_key = vg_malloc(pl + 5);
	memcpy(c->due_key, prefix, pl);
	memcpy(c->due_key + pl, "cdue", 5);
	c->replay = conf->replay;
	c->max_out = conf->max_outstanding ? conf->max_outstanding :
	    DEF_MAX_OUTSTANDING;
	c->patience = conf->patience_ms > 0 ? conf->patience_ms : 10000;
	if (getrandom(&c->instance, sizeof(c->instance), 0) !=
	    (ssize_t)sizeof(c->instance))
		c->instance = (uint32_t)vg_now_ms() ^ (uint32_t)(uintptr_t)c;
	c->stamp = vg_calloc(cs->nrules + 1, sizeof(*c->stamp));
	c->clock = INT64_MIN;
	c->next_due = INT64_MAX;
	c->due_since = INT64_MAX;
	c->s_update = rds_script(r, corr_lua_update);
	c->s_tick = rds_script(r, corr_lua_tick);
	c->s_batch = rds_script(r, corr_lua_batch);
	/* replay flushes when a batch is full, when it waits for Redis and
	 * at the end, not at every pass of the loop it runs */
	c->batch_max = c->replay ? BATCH_REPLAY : BATCH_MAX;
	if (!c->replay)
		c->flush_ev = event_new(rds_base(r), -1, 0, flush_cb, c);
	buf_init(&c->kbuf);
	buf_init(&c->rbuf);
	buf_init(&c->abuf);
	c->bserial = 1;
	c->rseen = vg_calloc(cs->nrules + 1, sizeof(*c->rseen));
	c->rslot = vg_calloc(cs->nrules + 1, sizeof(*c->rslot));
	buf_init(&c->kb);
	buf_init(&c->jb);
	buf_init(&c->gb);
	buf_init(&c->vb);
	buf_init(&c->tb);
	buf_init(&c->cgv);
	c->ev_slot = vg_event_new();
	c->ev_json = vg_event_new();
	jsonin_limits_default(&c->jl);
	rule_runtime(c, conf);
	return c;
}

void correlate_free(struct correlator *c)
{
	if (c == NULL)
		return;
	if (c->timer)
		event_free(c->timer);
	if (c->bp_timer)
		event_free(c->bp_timer);
	if (c->flush_ev)
		event_free(c->flush_ev);
	/* updates never sent (rds_free answered all the others) */
	if (c->cur != NULL) {
		for (size_t i = 0; i < c->cur->n; i++)
			req_done(c->cur->q[i]);
		batch_release(c, c->cur);
		c->cur = NULL;
	}
	while (c->free_batches) {
		struct batch *b = c->free_batches;

		c->free_batches = b->next;
		free(b->q);
		free(b);
	}
	buf_free(&c->kbuf);
	buf_free(&c->rbuf);
	buf_free(&c->abuf);
	free(c->koff);
	free(c->klen);
	free(c->roff);
	free(c->rlen);
	free(c->rseen);
	free(c->rslot);
	free(c->aoff);
	free(c->alen);
	free(c->sv);
	free(c->sl);
	while (c->free_slots) {
		struct slot *s = c->free_slots;

		c->free_slots = s->next;
		free(s->f);
		buf_free(&s->text);
		free(s);
	}
	while (c->free_reqs) {
		struct creq *q = c->free_reqs;

		c->free_reqs = q->next;
		buf_free(&q->gv);
		free(q);
	}
	buf_free(&c->kb);
	buf_free(&c->jb);
	buf_free(&c->gb);
	buf_free(&c->vb);
	buf_free(&c->tb);
	buf_free(&c->cgv);
	vg_event_free(c->ev_slot);
	vg_event_free(c->ev_json);
	free(c->rt);
	free(c->stamp);
	free(c->prefix);
	free(c->due_key);
	free(c);
}

const struct correlate_stats *correlate_stats(const struct correlator *c)
{
	return &c->st;
}

size_t correlate_outstanding(const struct correlator *c)
{
	return c->outstanding;
}

void correlate_watch_low(struct correlator *c, size_t low,
    void (*cb)(void *), void *arg)
{
	c->low_cb = cb;
	c->low_arg = arg;
	c->low = low;
}

void correlate_metrics(const struct correlator *c, struct buf *out)
{
	correlate_stats_metrics(&c->st, out);
}

void correlate_stats_metrics(const struct correlate_stats *st, struct buf *out)
{
	static const struct {
		const char *name;
		size_t off;
	} m[] = {
#define M(x) { #x, offsetof(struct correlate_stats, x) }
		M(events), M(updates), M(dropped), M(late), M(no_group),
		M(no_value), M(cap_drops), M(alerts), M(chained), M(suppressed),
		M(closes), M(errors), M(duplicates),
#undef M
	};

	for (size_t i = 0; i < VG_ARRAY_LEN(m); i++)
		buf_printf(out, "vigil_correlation_%s_total %llu\n", m[i].name,
		    (unsigned long long)*(const uint64_t *)(const void *)
		    ((const char *)st + m[i].off));
}
