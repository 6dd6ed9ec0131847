/*
 * incident.c: incidents as responders see them: the JSON views of the
 * HTTP API (list, one incident with its timeline), acknowledging and
 * resolving (with the follow-up notifications to whoever was paged), and
 * approvals of `approve` steps.
 *
 * State changes are one script each (SCR_STATE): it checks the state,
 * moves the incident between the indexes, stops the escalation and update
 * timers (acknowledge), or the runs, approvals and the open-key mapping
 * too (resolve), and writes the timeline entry, atomically. Views read
 * Redis, never a cache, so every vigild sharing it answers the same.
 *
 * Loop thread.
 */
#include "response_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgtime.h"

#define LIST_FIELDS \
	X(id) X(key) X(state) X(created) X(updated) X(last_alert) X(alerts) \
	X(silenced) X(rule_id) X(title) X(level) X(kind) X(urgency) X(group) \
	X(pbs) X(acked_by) X(acked_at) X(ack_note) X(resolved_by) \
	X(resolved_at) X(note) X(esc_policy) X(esc_next) X(esc_done) X(pages) \
	X(summary) X(sent) X(failed) X(folded)

static const char *const list_fields[] = {
#define X(f) #f,
	LIST_FIELDS
#undef X
};

/* ---- replies ---- */

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

static void reply_buf(response_reply_cb cb, void *arg, int status,
    struct buf *b)
{
	buf_addc(b, '\n');
	cb(arg, status, b->p, b->len);
}

/* While Redis is away the API answers at once rather than holding the
 * request until it is back. */
static int redis_down(struct response *r, response_reply_cb cb, void *arg)
{
	if (rds_ready(r->rds))
		return 0;
	reply_err(cb, arg, 503, "Redis is unavailable");
	return 1;
}

static int valid_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n > 0 && n <= 20 && strspn(id, "0123456789") == n;
}

static int valid_text(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20)
			return 0;
	}
	return 1;
}

/* ---- the JSON view ---- */

static void jstr_field(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, ",\"%s\":", name);
	if (v == NULL)
		buf_adds(b, "null");
	else
		buf_json_str(b, v, strlen(v));
}

static void jtime_field(struct buf *b, const char *name, const struct ivw *v,
    const char *field)
{
	const char *s = ivw_get(v, field);
	char ts[32];

	buf_printf(b, ",\"%s\":", name);
	if (s == NULL || *s == '\0') {
		buf_adds(b, "null");
		return;
	}
	vgtime_format(strtoll(s, NULL, 10), ts);
	buf_printf(b, "\"%s\"", ts);
}

/* Embed stored JSON as it is when it parses, else as a string. */
static void jraw(struct buf *b, const char *s)
{
	json_t *j;

	if (s == NULL) {
		buf_adds(b, "null");
		return;
	}
	if ((j = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)) != NULL) {
		json_decref(j);
		buf_adds(b, s);
	} else {
		buf_json_str(b, s, strlen(s));
	}
}

void incident_json(struct buf *out, const struct ivw *v,
    const redisReply *timeline, int full)
{
	const char *pbs = ivw_get(v, "pbs");

	buf_adds(out, "{\"id\":");
	buf_json_str(out, ivw_get(v, "id") ? ivw_get(v, "id") : "", 
	    ivw_get(v, "id") ? strlen(ivw_get(v, "id")) : 0);
	jstr_field(out, "state", ivw_get(v, "state"));
	jstr_field(out, "summary", ivw_get(v, "summary"));
	buf_adds(out, ",\"rule\":{\"id\":");
	buf_json_str(out, ivw_get(v, "rule_id") ? ivw_get(v, "rule_id") : "",
	    ivw_get(v, "rule_id") ? strlen(ivw_get(v, "rule_id")) : 0);
	jstr_field(out, "title", ivw_get(v, "title"));
	jstr_field(out, "level", ivw_get(v, "level"));
	buf_addc(out, '}');
	jstr_field(out, "kind", ivw_get(v, "kind"));
	jstr_field(out, "urgency", ivw_get(v, "urgency"));
	jstr_field(out, "key", ivw_get(v, "key"));
	buf_adds(out, ",\"group\":");
	jraw(out, ivw_get(v, "group") ? ivw_get(v, "group") : "{}");
	buf_printf(out, ",\"alerts\":%" PRId64 ",\"silenced_alerts\":%" PRId64
	    ",\"alerts_folded\":%" PRId64, ivw_int(v, "alerts"),
	    ivw_int(v, "silenced"), ivw_int(v, "folded"));
	jtime_field(out, "created_at", v, "created");
	jtime_field(out, "updated_at", v, "updated");
	jtime_field(out, "last_alert_at", v, "last_alert");
	buf_adds(out, ",\"playbooks\":[");
	if (pbs != NULL && *pbs) {
		const char *p = pbs;
		int k = 0;

		while (*p) {
			size_t n = strcspn(p, ",");

			if (k++)
				buf_addc(out, ',');
			buf_json_str(out, p, n);
			p += n;
			if (*p == ',')
				p++;
		}
	}
	buf_printf(out, "],\"pages\":%" PRId64 ",\"notifications\":{\"sent\":%"
	    PRId64 ",\"failed\":%" PRId64 "}", ivw_int(v, "pages"),
	    ivw_int(v, "sent"), ivw_int(v, "failed"));
	buf_adds(out, ",\"acknowledged\":");
	if (ivw_get(v, "acked_by") != NULL) {
		buf_adds(out, "{\"by\":");
		buf_json_str(out, ivw_get(v, "acked_by"), strlen(ivw_get(v, "acked_by")));
		jtime_field(out, "at", v, "acked_at");
		jstr_field(out, "note", ivw_get(v, "ack_note"));
		buf_addc(out, '}');
	} else {
		buf_adds(out, "null");
	}
	buf_adds(out, ",\"resolved\":");
	if (ivw_get(v, "resolved_by") != NULL) {
		buf_adds(out, "{\"by\":");
		buf_json_str(out, ivw_get(v, "resolved_by"),
		    strlen(ivw_get(v, "resolved_by")));
		jtime_field(out, "at", v, "resolved_at");
		jstr_field(out, "note", ivw_get(v, "note"));
		buf_addc(out, '}');
	} else {
		buf_adds(out, "null");
	}
	buf_adds(out, ",\"escalation\":");
	if (ivw_get(v, "esc_policy") != NULL) {
		const char *st = ivw_get(v, "state");
		const char *es = ivw_int(v, "esc_done") ? "done" :
		    st && strcmp(st, "triggered") == 0 ? "running" : "stopped";

		buf_adds(out, "{\"policy\":");
		buf_json_str(out, ivw_get(v, "esc_policy"),
		    strlen(ivw_get(v, "esc_policy")));
		buf_printf(out, ",\"pages_sent\":%" PRId64 ",\"state\":\"%s\"}",
		    ivw_int(v, "esc_next"), es);
	} else {
		buf_adds(out, "null");
	}
	if (full) {
		buf_adds(out, ",\"runs\":[");
		for (size_t i = 0, k = 0; i < v->n; i++) {
			const char *name = v->kv[2 * i];
			struct runrec rr;
			static const char *const outcomes[] = {
				"running", "completed", "failed",
			};

			if (strncmp(name, "r:", 2) != 0 ||
			    runrec_parse(v->kv[2 * i + 1], &rr) < 0)
				continue;
			if (k++)
				buf_addc(out, ',');
			buf_adds(out, "{\"playbook\":");
			buf_json_str(out, name + 2, strlen(name + 2));
			buf_printf(out, ",\"outcome\":\"%s\",\"steps_run\":%u,"
			    "\"step\":%d,\"attempt\":%u", outcomes[rr.run.outcome],
			    rr.run.steps_run, rr.run.step, rr.run.attempt);
			if (rr.approval[0])
				buf_printf(out, ",\"approval\":\"%s\"", rr.approval);
			buf_addc(out, '}');
		}
		buf_adds(out, "],\"alert\":");
		jraw(out, ivw_get(v, "alert"));
		buf_adds(out, ",\"timeline\":[");
		for (size_t i = 0; timeline != NULL && i < timeline->elements; i++) {
			const redisReply *e = timeline->element[i];

			if (e->type != REDIS_REPLY_STRING)
				continue;
			if (i > 0)
				buf_addc(out, ',');
			buf_add(out, e->str, e->len);
		}
		buf_addc(out, ']');
	}
	buf_addc(out, '}');
}

/* ---- list ---- */

static void list_reply(struct response *r, struct rq *q, const redisReply *rep)
{
	struct buf b;
	size_t n = 0;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		resp_redis_error(r, "listing incidents", rep);
		reply_err(q->cb, q->cbarg, 503, "Redis is unavailable");
		return;
	}
	buf_init(&b);
	buf_adds(&b, "{\"incidents\":[");
	for (size_t i = 0; i < rep->elements; i++) {
		const redisReply *row = rep->element[i];
		struct ivw v;

		if (row->type != REDIS_REPLY_ARRAY ||
		    row->elements != VG_ARRAY_LEN(list_fields))
			continue;
		v.kv = vg_calloc(2 * row->elements + 1, sizeof(char *));
		v.n = 0;
		for (size_t k = 0; k < row->elements; k++) {
			if (row->element[k]->type != REDIS_REPLY_STRING)
				continue;
			v.kv[2 * v.n] = vg_strdup(list_fields[k]);
			v.kv[2 * v.n + 1] = vg_strndup(row->element[k]->str,
			    row->element[k]->len);
			v.n++;
		}
		if (n++)
			buf_addc(&b, ',');
		incident_json(&b, &v, NULL, 0);
		ivw_clear(&v);
	}
	buf_printf(&b, "],\"count\":%zu}", n);
	reply_buf(q->cb, q->cbarg, 200, &b);
	buf_free(&b);
}

void response_incidents(struct response *r, const char *state, long limit,
    response_reply_cb cb, void *arg)
{
	const char *states;
	struct svec a = { 0 };
	struct rq *q;

	if (state == NULL || *state == '\0')
		states = "triggered,acknowledged,resolved";
	else if (strcmp(state, "open") == 0)
		states = "triggered,acknowledged";
	else if (strcmp(state, "triggered") == 0 ||
	    strcmp(state, "acknowledged") == 0 || strcmp(state, "resolved") == 0)
		states = state;
	else {
		reply_err(cb, arg, 400, "state: expected open, triggered, "
		    "acknowledged or resolved");
		return;
	}
	if (limit < 1 || limit > 1000) {
		reply_err(cb, arg, 400, "limit: expected 1 to 1000");
		return;
	}
	if (redis_down(r, cb, arg))
		return;
	svec_add(&a, r->B);
	svec_add(&a, states);
	svec_addi(&a, limit);
	for (size_t i = 0; i < VG_ARRAY_LEN(list_fields); i++)
		svec_add(&a, list_fields[i]);
	q = rq_new(r, list_reply, NULL);
	q->cb = cb;
	q->cbarg = arg;
	if (resp_eval_vec(r, SCR_LIST, q, &a) < 0)
		reply_err(cb, arg, 503, "Redis is unavailable");
	svec_free(&a);
}

/* ---- one incident ---- */

static void get_reply(struct response *r, struct rq *q, const redisReply *rep)
{
	struct ivw v;
	struct buf b;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		resp_redis_error(r, "reading an incident", rep);
		reply_err(q->cb, q->cbarg, 503, "Redis is unavailable");
		return;
	}
	if (rep->elements != 3 || ivw_from_reply(&v, rep->element[0]) < 0) {
		reply_err(q->cb, q->cbarg, 404, "no such incident");
		return;
	}
	buf_init(&b);
	incident_json(&b, &v, rep->element[1], 1);
	reply_buf(q->cb, q->cbarg, 200, &b);
	buf_free(&b);
	ivw_clear(&v);
}

void response_incident(struct response *r, const char *id,
    response_reply_cb cb, void *arg)
{
	struct svec a = { 0 };
	struct rq *q;

	if (!valid_id(id)) {
		reply_err(cb, arg, 404, "no such incident");
		return;
	}
	if (redis_down(r, cb, arg))
		return;
	svec_add(&a, r->B);
	svec_add(&a, id);
	svec_add(&a, "1");
	q = rq_new(r, get_reply, NULL);
	q->cb = cb;
	q->cbarg = arg;
	if (resp_eval_vec(r, SCR_GET, q, &a) < 0)
		reply_err(cb, arg, 503, "Redis is unavailable");
	svec_free(&a);
}

/* ---- acknowledge, resolve ---- */

static void state_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	int resolve = q->n == 1;
	struct ivw v = { 0 };
	char **pc = NULL;
	size_t npc;
	struct buf b;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER) {
		resp_redis_error(r, "changing an incident", rep);
		reply_err(q->cb, q->cbarg, 503, "Redis is unavailable");
		return;
	}
	if (rep->element[0]->integer == -1) {
		reply_err(q->cb, q->cbarg, 404, "no such incident");
		return;
	}
	if (rep->element[0]->integer == 0) {
		const char *st = rep->elements > 1 &&
		    rep->element[1]->type == REDIS_REPLY_STRING ?
		    rep->element[1]->str : "?";

		buf_init(&b);
		buf_printf(&b, "the incident is already %s", st);
		reply_err(q->cb, q->cbarg, 409, buf_cstr(&b));
		buf_free(&b);
		return;
	}
	npc = rep->elements > 2 ? (size_t)rep->element[2]->integer : 0;
	if (3 + npc > rep->elements) {
		reply_err(q->cb, q->cbarg, 500, "unexpected reply from Redis");
		return;
	}
	pc = vg_calloc(npc + 1, sizeof(*pc));
	for (size_t i = 0; i < npc; i++)
		pc[i] = vg_strndup(rep->element[3 + i]->str, rep->element[3 + i]->len);
	{
		redisReply rest = { 0 };

		rest.type = REDIS_REPLY_ARRAY;
		rest.elements = rep->elements - 3 - npc;
		rest.element = rep->element + 3 + npc;
		ivw_from_reply(&v, &rest);
	}
	if (resolve) {
		r->st.resolved++;
		run_cancel_incident(r, q->s1);
	} else {
		r->st.acked++;
	}
	page_followup(r, &v, resolve ? NOTIFY_RESOLVE : NOTIFY_ACKNOWLEDGE, pc,
	    npc, q->s2);
	buf_init(&b);
	incident_json(&b, &v, NULL, 0);
	reply_buf(q->cb, q->cbarg, 200, &b);
	buf_free(&b);
	for (size_t i = 0; i < npc; i++)
		free(pc[i]);
	free(pc);
	ivw_clear(&v);
}

static void change(struct response *r, const char *id, const char *by,
    const char *note, int resolve, response_reply_cb cb, void *arg)
{
	struct svec a = { 0 };
	struct rq *q;
	struct buf e;
	char ts[32];
	int64_t now = vg_now_ms();

	if (!valid_id(id)) {
		reply_err(cb, arg, 404, "no such incident");
		return;
	}
	if (!valid_text(by, 128)) {
		reply_err(cb, arg, 400, "by: required (who), at most 128 characters");
		return;
	}
	if (note != NULL && *note != '\0' && !valid_text(note, 1024)) {
		reply_err(cb, arg, 400, "note: at most 1024 characters on one line");
		return;
	}
	if (redis_down(r, cb, arg))
		return;
	vgtime_format(now, ts);
	buf_init(&e);
	buf_printf(&e, "{\"ts\":\"%s\",\"type\":\"%s\",\"by\":", ts,
	    resolve ? "resolved" : "acknowledged");
	buf_json_str(&e, by, strlen(by));
	if (note != NULL && *note) {
		buf_adds(&e, ",\"note\":");
		buf_json_str(&e, note, strlen(note));
	}
	buf_addc(&e, '}');
	svec_add(&a, r->B);
	svec_add(&a, id);
	svec_add(&a, resolve ? "resolve" : "ack");
	svec_addi(&a, now);
	svec_addn(&a, e.p, e.len);
	svec_add(&a, by);
	svec_add(&a, note ? note : "");
	svec_addi(&a, r->rc->resolved_ttl_ms);
	svec_addi(&a, r->rc->auto_resolve_ms);
	svec_addi(&a, RESP_TL_MAX);
	q = rq_new(r, state_reply, NULL);
	q->cb = cb;
	q->cbarg = arg;
	q->n = resolve;
	q->s1 = vg_strdup(id);
	q->s2 = vg_strdup(by);
	if (resp_eval_vec(r, SCR_STATE, q, &a) < 0)
		reply_err(cb, arg, 503, "Redis is unavailable");
	svec_free(&a);
	buf_free(&e);
}

void response_ack(struct response *r, const char *id, const char *by,
    const char *note, response_reply_cb cb, void *arg)
{
	change(r, id, by, note, 0, cb, arg);
}

void response_resolve(struct response *r, const char *id, const char *by,
    const char *note, response_reply_cb cb, void *arg)
{
	change(r, id, by, note, 1, cb, arg);
}

/* ---- approvals ---- */

static void approval_json(struct buf *b, const struct ivw *a)
{
	buf_adds(b, "{\"id\":");
	buf_json_str(b, ivw_get(a, "id") ? ivw_get(a, "id") : "",
	    ivw_get(a, "id") ? strlen(ivw_get(a, "id")) : 0);
	jstr_field(b, "incident", ivw_get(a, "incident"));
	jstr_field(b, "playbook", ivw_get(a, "playbook"));
	jstr_field(b, "step", ivw_get(a, "step"));
	jstr_field(b, "group", ivw_get(a, "group"));
	jstr_field(b, "summary", ivw_get(a, "summary"));
	jstr_field(b, "state", ivw_get(a, "state"));
	jtime_field(b, "created_at", a, "created");
	jtime_field(b, "deadline", a, "deadline");
	jstr_field(b, "by", ivw_get(a, "by"));
	buf_addc(b, '}');
}

static void apl_reply(struct response *r, struct rq *q, const redisReply *rep)
{
	struct buf b;
	size_t n = 0;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		resp_redis_error(r, "listing approvals", rep);
		reply_err(q->cb, q->cbarg, 503, "Redis is unavailable");
		return;
	}
	buf_init(&b);
	buf_adds(&b, "{\"approvals\":[");
	for (size_t i = 0; i < rep->elements; i++) {
		struct ivw a;

		if (ivw_from_reply(&a, rep->element[i]) < 0)
			continue;
		if (n++)
			buf_addc(&b, ',');
		approval_json(&b, &a);
		ivw_clear(&a);
	}
	buf_adds(&b, "]}");
	reply_buf(q->cb, q->cbarg, 200, &b);
	buf_free(&b);
}

void response_approvals(struct response *r, response_reply_cb cb, void *arg)
{
	struct svec a = { 0 };
	struct rq *q;

	if (redis_down(r, cb, arg))
		return;
	svec_add(&a, r->B);
	q = rq_new(r, apl_reply, NULL);
	q->cb = cb;
	q->cbarg = arg;
	if (resp_eval_vec(r, SCR_APLIST, q, &a) < 0)
		reply_err(cb, arg, 503, "Redis is unavailable");
	svec_free(&a);
}

static void decide_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	struct buf b;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER) {
		resp_redis_error(r, "deciding an approval", rep);
		reply_err(q->cb, q->cbarg, 503, "Redis is unavailable");
		return;
	}
	if (rep->element[0]->integer == -1) {
		reply_err(q->cb, q->cbarg, 404, "no such approval");
		return;
	}
	buf_init(&b);
	if (rep->element[0]->integer == 0) {
		buf_printf(&b, "the approval is already %s", rep->elements > 1 &&
		    rep->element[1]->type == REDIS_REPLY_STRING ?
		    rep->element[1]->str : "decided");
		reply_err(q->cb, q->cbarg, 409, buf_cstr(&b));
		buf_free(&b);
		return;
	}
	buf_adds(&b, "{\"id\":");
	buf_json_str(&b, q->s1, strlen(q->s1));
	buf_printf(&b, ",\"state\":\"%s\",\"by\":", q->n ? "approved" : "denied");
	buf_json_str(&b, q->s2, strlen(q->s2));
	buf_addc(&b, '}');
	reply_buf(q->cb, q->cbarg, 200, &b);
	buf_free(&b);
	resp_kick_poll(r);
}

static void approval_read(struct response *r, struct rq *q,
    const redisReply *rep)
{
	struct ivw a;
	const char *group, *st;
	struct svec v = { 0 };
	struct buf e;
	char ts[32];
	struct rq *q2;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		reply_err(q->cb, q->cbarg, 503, "Redis is unavailable");
		return;
	}
	if (ivw_from_reply(&a, rep) < 0) {
		reply_err(q->cb, q->cbarg, 404, "no such approval");
		return;
	}
	group = ivw_get(&a, "group");
	st = ivw_get(&a, "state");
	if (st == NULL || strcmp(st, "pending") != 0) {
		buf_init(&e);
		buf_printf(&e, "the approval is already %s", st ? st : "decided");
		reply_err(q->cb, q->cbarg, 409, buf_cstr(&e));
		buf_free(&e);
		ivw_clear(&a);
		return;
	}
	if (group == NULL || !resp_in_group(r, group, q->s2)) {
		buf_init(&e);
		buf_printf(&e, "%s is not in group %s", q->s2, group ? group : "?");
		reply_err(q->cb, q->cbarg, 403, buf_cstr(&e));
		buf_free(&e);
		ivw_clear(&a);
		return;
	}
	vgtime_format(vg_now_ms(), ts);
	buf_init(&e);
	buf_printf(&e, "{\"ts\":\"%s\",\"type\":\"%s\",\"approval\":", ts,
	    q->n ? "approved" : "denied");
	buf_json_str(&e, q->s1, strlen(q->s1));
	buf_adds(&e, ",\"by\":");
	buf_json_str(&e, q->s2, strlen(q->s2));
	if (q->s3 != NULL && *q->s3) {
		buf_adds(&e, ",\"comment\":");
		buf_json_str(&e, q->s3, strlen(q->s3));
	}
	buf_addc(&e, '}');
	svec_add(&v, r->B);
	svec_add(&v, q->s1);
	svec_add(&v, q->n ? "approved" : "denied");
	svec_add(&v, q->s2);
	svec_add(&v, q->s3 ? q->s3 : "");
	svec_addi(&v, vg_now_ms());
	svec_addn(&v, e.p, e.len);
	svec_addi(&v, RESP_TL_MAX);
	q2 = rq_new(r, decide_reply, NULL);
	q2->cb = q->cb;
	q2->cbarg = q->cbarg;
	q2->n = q->n;
	q2->s1 = vg_strdup(q->s1);
	q2->s2 = vg_strdup(q->s2);
	if (resp_eval_vec(r, SCR_APPROVE, q2, &v) < 0)
		reply_err(q->cb, q->cbarg, 503, "Redis is unavailable");
	svec_free(&v);
	buf_free(&e);
	ivw_clear(&a);
}

void response_approve(struct response *r, const char *id, int approve,
    const char *by, const char *comment, response_reply_cb cb, void *arg)
{
	char *k;
	const char *argv[2];
	struct rq *q;

	if (id == NULL || strlen(id) != 36 ||
	    strspn(id, "0123456789abcdef-") != 36) {
		reply_err(cb, arg, 404, "no such approval");
		return;
	}
	if (!valid_text(by, 128)) {
		reply_err(cb, arg, 400, "by: required (who decides)");
		return;
	}
	if (comment != NULL && *comment && !valid_text(comment, 1024)) {
		reply_err(cb, arg, 400, "comment: at most 1024 characters on one line");
		return;
	}
	if (redis_down(r, cb, arg))
		return;
	k = resp_key(r, "ap:", id);
	argv[0] = "HGETALL";
	argv[1] = k;
	q = rq_new(r, approval_read, NULL);
	q->cb = cb;
	q->cbarg = arg;
	q->n = approve ? 1 : 0;
	q->s1 = vg_strdup(id);
	q->s2 = vg_strdup(by);
	q->s3 = comment ? vg_strdup(comment) : NULL;
	if (resp_cmd(r, q, 2, argv, NULL) < 0)
		reply_err(cb, arg, 503, "Redis is unavailable");
	free(k);
}
