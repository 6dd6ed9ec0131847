/*
 * response_page.c: pages: notification items for a set of targets (with
 * ids derived from what they are, so a repeated step queues nothing new),
 * escalation through on-call policies, update and repeat pages, the
 * acknowledge / resolve follow-ups to whoever was paged, auto-resolve, and
 * the timeline entries for notification results.
 *
 * Escalation: page number n of the policy (oncall_policy_page) is sent
 * when its time comes, in one commit guarded by esc_next == n that also
 * schedules page n + 1. An acknowledgement removes the timer in the same
 * script that changes the state, so nothing is paged after it.
 *
 * Everything runs on the response loop.
 */
#include "response_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "vgtime.h"

#define NOW_SLACK_MS 5           /* a timer this close is due now */

/* ---- ids and items ---- */

void resp_item_id(const char *seed, char out[40])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[65];

	EVP_Digest(seed, strlen(seed), md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	/* RFC 9562 version 8 (custom), variant 10 */
	hex[12] = '8';
	hex[16] = "89ab"[md[8] & 3];
	snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
	    hex + 16, hex + 20);
}

/* Give item it the id derived from seed, in the payload too. */
static void item_set_id(struct notify_item *it, const char *seed)
{
	char id[40];
	char *p;

	resp_item_id(seed, id);
	if (strlen(id) != strlen(it->id) ||
	    (p = strstr(it->payload, it->id)) == NULL)
		return;
	memcpy(p, id, strlen(id));
	memcpy(it->id, id, sizeof(id));
}

int resp_in_group(const struct response *r, const char *group,
    const char *user)
{
	const struct oncall_group *g = oncall_group(r->oc, group);

	for (size_t i = 0; g != NULL && i < g->nusers; i++) {
		if (strcmp(r->oc->users[g->users[i]].id, user) == 0)
			return 1;
	}
	return 0;
}

struct target *page_target(struct targets *t, const char *channel)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].channel, channel) == 0)
			return &t->v[i];
	}
	if (t->n == MAX_TARGETS)
		return NULL;
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	t->v[t->n].channel = channel;
	return &t->v[t->n++];
}

void page_target_user(struct targets *t, const char *channel,
    const struct oncall_user *u)
{
	struct target *x = page_target(t, channel);

	if (x == NULL || u == NULL)
		return;
	for (size_t i = 0; i < x->nusers; i++) {
		if (x->users[i] == u)
			return;
	}
	if (x->nusers < MAX_USERS)
		x->users[x->nusers++] = u;
}

/* The targets recorded in an incident's paged set. */
static void targets_from_pc(const struct response *r, char **pc, size_t npc,
    struct targets *t)
{
	t->n = 0;
	for (size_t i = 0; i < npc; i++) {
		char *tab = strchr(pc[i], '\t');
		const struct notify_channel *ch;

		if (tab == NULL)
			continue;
		*tab = '\0';
		ch = notify_channel(r->chans, pc[i]);
		*tab = '\t';
		if (ch == NULL)
			continue;
		if (tab[1] == '\0')
			page_target(t, ch->name);
		else
			page_target_user(t, ch->name, oncall_user(r->oc, tab + 1));
	}
}

void resp_jmember(struct buf *b, const char *name, const char *v)
{
	if (b->len > 0)
		buf_addc(b, ',');
	buf_printf(b, "\"%s\":", name);
	buf_json_str(b, v ? v : "", v ? strlen(v) : 0);
}

/* The source host of an alert: host.hostname, else "vigil". */
static void source_of(const json_t *alert, char *out, size_t cap)
{
	const json_t *v = resp_alert_field(alert, "host.hostname");

	if (v == NULL || resp_scalar(v, out, cap) < 0)
		snprintf(out, cap, "vigil");
}

/*
 * Queue a notification to every target in commit c: items with ids from
 * seed + channel, the paged set, and a timeline entry each. Returns how
 * many items.
 */
size_t page_add(struct response *r, struct commit *c,
    const struct ivw *inc, const char *seed, enum notify_event ev,
    const char *summary, const char *const *details, size_t ndetails,
    const char *alert_json, const struct targets *t, const char *why)
{
	const char *id = ivw_get(inc, "id");
	json_t *alert = alert_json ?
	    json_loads(alert_json, JSON_ALLOW_NUL, NULL) : NULL;
	char src[256], dedup[300], seedbuf[600], alerts[32];
	const char *det[64];
	size_t nd = 0, made = 0;
	char *url = resp_url(r, id);
	struct notify_msg m;

	source_of(alert, src, sizeof(src));
	snprintf(dedup, sizeof(dedup), "%sinc:%s", r->prefix, id);
	snprintf(alerts, sizeof(alerts), "%" PRId64, ivw_int(inc, "alerts"));
	for (size_t i = 0; i < ndetails && nd + 2 < VG_ARRAY_LEN(det) - 2; i++) {
		det[nd++] = details[2 * i];
		det[nd++] = details[2 * i + 1];
	}
	det[nd++] = "alerts";
	det[nd++] = alerts;
	for (size_t i = 0; i < t->n; i++) {
		const struct notify_channel *ch = notify_channel(r->chans,
		    t->v[i].channel);
		struct notify_item it;
		struct vg_err err = { 0 };
		struct buf e;

		buf_init(&e);
		if (ch == NULL) {
			resp_jmember(&e, "channel", t->v[i].channel);
			resp_jmember(&e, "error", "no such channel");
			commit_tl(c, "notification_failed", buf_cstr(&e));
			buf_free(&e);
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.event = ev;
		m.incident_id = id;
		m.dedup_key = dedup;
		m.summary = summary;
		m.severity = ivw_get(inc, "level");
		if (m.severity == NULL || resp_level(m.severity) < 0)
			m.severity = "medium";
		m.urgency_high = strcmp(ivw_get(inc, "urgency") ?
		    ivw_get(inc, "urgency") : "", "high") == 0;
		m.source = src;
		m.url = url;
		m.ts_ms = vg_now_ms();
		m.details = det;
		m.ndetails = nd / 2;
		m.to = t->v[i].users;
		m.nto = t->v[i].nusers;
		m.alert_json = alert_json;
		if (notify_item_make(ch, &m, vg_now_ms(), &it, &err) < 0) {
			resp_jmember(&e, "channel", ch->name);
			resp_jmember(&e, "error", err.msg);
			commit_tl(c, "notification_failed", buf_cstr(&e));
			buf_free(&e);
			continue;
		}
		snprintf(seedbuf, sizeof(seedbuf), "%s%s|%s", r->B, seed, ch->name);
		item_set_id(&it, seedbuf);
		resp_jmember(&e, "channel", ch->name);
		resp_jmember(&e, "notification", it.id);
		resp_jmember(&e, "event", ev == NOTIFY_TRIGGER ? "trigger" :
		    ev == NOTIFY_ACKNOWLEDGE ? "acknowledge" : "resolve");
		resp_jmember(&e, "why", why);
		buf_adds(&e, ",\"to\":[");
		for (size_t k = 0; k < t->v[i].nusers; k++) {
			if (k > 0)
				buf_addc(&e, ',');
			buf_json_str(&e, t->v[i].users[k]->id,
			    strlen(t->v[i].users[k]->id));
			commit_paged(c, ch->name, t->v[i].users[k]->id);
		}
		buf_addc(&e, ']');
		if (t->v[i].nusers == 0)
			commit_paged(c, ch->name, NULL);
		commit_tl(c, "notification_queued", buf_cstr(&e));
		commit_item(c, &it);
		buf_free(&e);
		made++;
	}
	free(url);
	json_decref(alert);
	return made;
}

/* ---- loading an incident with its paged set (SCR_GET, no timeline) ---- */

typedef void (*inc_fn)(struct response *r, const char *id,
    const struct ivw *inc, char **pc, size_t npc, struct rq *q);

static void inc_reply(struct response *r, struct rq *q, const redisReply *rep)
{
	inc_fn fn = (inc_fn)(uintptr_t)q->n;
	struct ivw inc = { 0 };
	char **pc = NULL;
	size_t npc = 0;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		resp_redis_error(r, "reading an incident", rep);
		return;
	}
	if (rep->elements == 3 && ivw_from_reply(&inc, rep->element[0]) == 0) {
		const redisReply *p = rep->element[2];

		pc = vg_calloc(p->elements + 1, sizeof(*pc));
		for (size_t i = 0; i < p->elements; i++) {
			if (p->element[i]->type == REDIS_REPLY_STRING)
				pc[npc++] = vg_strndup(p->element[i]->str,
				    p->element[i]->len);
		}
		fn(r, q->s1, &inc, pc, npc, q);
	} else {
		fn(r, q->s1, NULL, NULL, 0, q);
	}
	for (size_t i = 0; i < npc; i++)
		free(pc[i]);
	free(pc);
	ivw_clear(&inc);
}

static void inc_load(struct response *r, const char *id, inc_fn fn,
    const char *extra)
{
	struct svec a = { 0 };
	struct rq *q = rq_new(r, inc_reply, NULL);

	q->n = (long)(uintptr_t)fn;
	q->s1 = vg_strdup(id);
	q->s2 = extra ? vg_strdup(extra) : NULL;
	svec_add(&a, r->B);
	svec_add(&a, id);
	svec_add(&a, "0");
	resp_eval_vec(r, SCR_GET, q, &a);
	svec_free(&a);
}

/* A commit whose reply nobody waits for (timers, timeline entries). */
void resp_commit_async(struct response *r, struct commit *c)
{
	commit_send(r, c, NULL, NULL);
}

void resp_drop_due(struct response *r, const char *id, const char *member)
{
	struct commit c;

	commit_init(&c, id);
	commit_due(&c, member, -1);
	resp_commit_async(r, &c);
}

/*
 * When a guarded page commit finds the incident changed under it (another
 * page went out in between), read it again and decide anew rather than
 * leave the timer to its lease. The tag: the incident; n: 'e', 'u', 'p'.
 */
static void again_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	if (commit_status(rep) != 0 || q->s3 == NULL)
		return;
	if (q->n == 'e')
		page_escalate(r, q->s3);
	else
		page_update(r, q->s3, q->n == 'p');
}

static void commit_or_again(struct response *r, struct commit *c,
    const char *id, char kind)
{
	if (c->guard_op == 0)
		resp_commit_async(r, c);
	else
		commit_send_tag(r, c, again_reply, id, kind);
}

/* ---- escalation ---- */

char *resp_member(char kind, const char *id, const char *pb)
{
	struct buf b;
	char *out;

	buf_init(&b);
	buf_printf(&b, "%c|%s%s%s", kind, id, pb ? "|" : "", pb ? pb : "");
	out = vg_strdup(buf_cstr(&b));
	buf_free(&b);
	return out;
}

/* The details stored with the escalation: "name\x1fvalue\x1f..." */
static size_t split_details(char *s, const char **out, size_t max)
{
	size_t n = 0;

	while (s != NULL && *s != '\0' && n + 1 < max) {
		char *sep = strchr(s, '\x1f');

		out[n++] = s;
		if (sep == NULL)
			break;
		*sep = '\0';
		s = sep + 1;
	}
	return n & ~(size_t)1;
}

static void esc_loaded(struct response *r, const char *id,
    const struct ivw *inc, char **pc, size_t npc, struct rq *q)
{
	const struct oncall_policy *p;
	struct oncall_page pg, nx;
	const struct oncall_step *step;
	const struct oncall_user *users[MAX_USERS];
	struct targets t;
	struct commit c;
	int64_t now = vg_now_ms(), n, start;
	char *member = resp_member('e', id, NULL), seed[200], nbuf[32];
	const char *st, *det[64];
	char *dcopy;
	size_t nu, nd;
	struct buf e;

	(void)pc;
	(void)npc;
	(void)q;
	if (inc == NULL) {
		resp_drop_due(r, id, member);
		free(member);
		return;
	}
	st = ivw_get(inc, "state");
	commit_init(&c, id);
	if (st == NULL || strcmp(st, "triggered") != 0 ||
	    ivw_get(inc, "esc_policy") == NULL || ivw_int(inc, "esc_done")) {
		commit_due(&c, member, -1);
		goto send;
	}
	if ((p = oncall_policy(r->oc, ivw_get(inc, "esc_policy"))) == NULL) {
		buf_init(&e);
		resp_jmember(&e, "policy", ivw_get(inc, "esc_policy"));
		commit_tl(&c, "escalation_stopped", buf_cstr(&e));
		buf_free(&e);
		commit_seti(&c, "esc_done", 1);
		commit_due(&c, member, -1);
		goto send;
	}
	n = ivw_int(inc, "esc_next");
	start = ivw_int(inc, "esc_start");
	snprintf(nbuf, sizeof(nbuf), "%" PRId64, n);
	commit_guard(&c, "esc_next", '=', ivw_get(inc, "esc_next") ?
	    ivw_get(inc, "esc_next") : "0");
	if (oncall_policy_page(p, start, (unsigned)n, &pg) < 0) {
		commit_tl(&c, "escalation_exhausted", NULL);
		commit_seti(&c, "esc_done", 1);
		commit_due(&c, member, -1);
		if (r->rc->repeat_interval_ms > 0) {
			char *pm = resp_member('p', id, NULL);

			commit_due(&c, pm, now + r->rc->repeat_interval_ms);
			free(pm);
		}
		goto send;
	}
	if (pg.at_ms > now + NOW_SLACK_MS) {
		commit_due(&c, member, pg.at_ms);
		goto send;
	}
	step = &p->steps[pg.step];
	nu = oncall_step_targets(r->oc, step, now, users, MAX_USERS);
	t.n = 0;
	buf_init(&e);
	buf_printf(&e, "\"policy\":");
	buf_json_str(&e, p->name, strlen(p->name));
	buf_printf(&e, ",\"step\":%zu,\"round\":%u,\"users\":[", pg.step + 1,
	    pg.round);
	for (size_t i = 0; i < nu; i++) {
		buf_printf(&e, "%s", i ? "," : "");
		buf_json_str(&e, users[i]->id, strlen(users[i]->id));
		if (step->nchannels > 0) {
			for (size_t k = 0; k < step->nchannels; k++)
				page_target_user(&t, step->channels[k], users[i]);
		} else {
			for (size_t k = 0; k < users[i]->nchannels; k++)
				page_target_user(&t, users[i]->channels[k], users[i]);
		}
	}
	buf_addc(&e, ']');
	commit_tl(&c, nu > 0 ? "escalated" : "nobody_on_call", buf_cstr(&e));
	buf_free(&e);
	dcopy = ivw_get(inc, "esc_details") ?
	    vg_strdup(ivw_get(inc, "esc_details")) : NULL;
	nd = split_details(dcopy, det, VG_ARRAY_LEN(det));
	snprintf(seed, sizeof(seed), "esc|%s|%" PRId64, id, n);
	if (page_add(r, &c, inc, seed, NOTIFY_TRIGGER, ivw_get(inc, "summary"),
	    det, nd / 2, ivw_get(inc, "alert"), &t, "escalation") > 0) {
		commit_seti(&c, "last_page", now);
		commit_set(&c, "alerts_at_page", ivw_get(inc, "alerts"));
		commit_incr(&c, "pages", 1);
	}
	free(dcopy);
	commit_incr(&c, "esc_next", 1);
	if (oncall_policy_page(p, start, (unsigned)n + 1, &nx) == 0) {
		commit_due(&c, member, nx.at_ms > now ? nx.at_ms : now);
	} else {
		commit_due(&c, member, now);   /* says it is exhausted */
	}
send:
	commit_or_again(r, &c, id, 'e');
	free(member);
}

void page_escalate(struct response *r, const char *id)
{
	inc_load(r, id, esc_loaded, NULL);
}

/* ---- update and repeat pages ---- */

static void upd_loaded(struct response *r, const char *id,
    const struct ivw *inc, char **pc, size_t npc, struct rq *q)
{
	int repeat = q->s2 != NULL && strcmp(q->s2, "p") == 0;
	char *member = resp_member(repeat ? 'p' : 'u', id, NULL);
	struct targets t;
	struct commit c;
	struct buf s;
	char seed[200];
	int64_t now = vg_now_ms();
	const char *st;

	if (inc == NULL) {
		resp_drop_due(r, id, member);
		free(member);
		return;
	}
	st = ivw_get(inc, "state");
	commit_init(&c, id);
	commit_due(&c, member, -1);
	if (st == NULL || strcmp(st, "triggered") != 0)
		goto send;
	if (repeat && ivw_get(inc, "esc_policy") != NULL &&
	    !ivw_int(inc, "esc_done"))
		goto send;  /* the policy is still paging */
	if (!repeat && ivw_int(inc, "alerts") <= ivw_int(inc, "alerts_at_page"))
		goto send;
	targets_from_pc(r, pc, npc, &t);
	if (t.n == 0)
		goto send;
	buf_init(&s);
	if (repeat)
		buf_printf(&s, "Reminder, not acknowledged: %s (%" PRId64 " alerts)",
		    ivw_get(inc, "summary"), ivw_int(inc, "alerts"));
	else
		buf_printf(&s, "%s (%" PRId64 " alerts, %" PRId64 " new)",
		    ivw_get(inc, "summary"), ivw_int(inc, "alerts"),
		    ivw_int(inc, "alerts") - ivw_int(inc, "alerts_at_page"));
	snprintf(seed, sizeof(seed), "%s|%s|%" PRId64, repeat ? "rep" : "upd", id,
	    repeat ? ivw_int(inc, "pages") : ivw_int(inc, "alerts"));
	commit_guard(&c, repeat ? "pages" : "alerts_at_page", '=',
	    ivw_get(inc, repeat ? "pages" : "alerts_at_page") ?
	    ivw_get(inc, repeat ? "pages" : "alerts_at_page") : "");
	page_add(r, &c, inc, seed, NOTIFY_TRIGGER, buf_cstr(&s), NULL, 0,
	    ivw_get(inc, "alert"), &t, repeat ? "repeat" : "update");
	buf_free(&s);
	commit_seti(&c, "last_page", now);
	commit_set(&c, "alerts_at_page", ivw_get(inc, "alerts"));
	commit_incr(&c, "pages", 1);
	if (repeat && r->rc->repeat_interval_ms > 0)
		commit_due(&c, member, now + r->rc->repeat_interval_ms);
send:
	commit_or_again(r, &c, id, repeat ? 'p' : 'u');
	free(member);
}

void page_followup(struct response *r, const struct ivw *inc,
    enum notify_event ev, char **pc, size_t npc, const char *by)
{
	struct targets t;
	struct commit c;
	struct buf s;
	char seed[200];
	const char *id = ivw_get(inc, "id");

	if (id == NULL)
		return;
	targets_from_pc(r, pc, npc, &t);
	if (t.n == 0)
		return;
	commit_init(&c, id);
	buf_init(&s);
	buf_printf(&s, "%s by %s: %s", ev == NOTIFY_ACKNOWLEDGE ? "Acknowledged" :
	    "Resolved", by, ivw_get(inc, "summary") ? ivw_get(inc, "summary") : "");
	snprintf(seed, sizeof(seed), "%s|%s", ev == NOTIFY_ACKNOWLEDGE ? "ack" :
	    "res", id);
	page_add(r, &c, inc, seed, ev, buf_cstr(&s), NULL, 0,
	    ivw_get(inc, "alert"), &t, ev == NOTIFY_ACKNOWLEDGE ? "acknowledged" :
	    "resolved");
	buf_free(&s);
	resp_commit_async(r, &c);
}

void page_update(struct response *r, const char *id, int repeat)
{
	inc_load(r, id, upd_loaded, repeat ? "p" : "u");
}

/* ---- auto-resolve ---- */

static void auto_reply(struct response *r, struct rq *q, const redisReply *rep)
{
	struct ivw inc = { 0 };
	char **pc;
	size_t npc;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1) {
		resp_redis_error(r, "auto-resolve", rep);
		return;
	}
	if (rep->element[0]->integer != 1 || rep->elements < 3)
		return;
	npc = (size_t)rep->element[2]->integer;
	if (3 + npc > rep->elements)
		return;
	pc = vg_calloc(npc + 1, sizeof(*pc));
	for (size_t i = 0; i < npc; i++)
		pc[i] = vg_strndup(rep->element[3 + i]->str, rep->element[3 + i]->len);
	{
		redisReply fake = { 0 };

		fake.type = REDIS_REPLY_ARRAY;
		fake.elements = rep->elements - 3 - npc;
		fake.element = rep->element + 3 + npc;
		ivw_from_reply(&inc, &fake);
	}
	r->st.auto_resolved++;
	r->st.resolved++;
	run_cancel_incident(r, q->s1);
	page_followup(r, &inc, NOTIFY_RESOLVE, pc, npc, "vigil");
	ivw_clear(&inc);
	for (size_t i = 0; i < npc; i++)
		free(pc[i]);
	free(pc);
}

void page_auto_resolve(struct response *r, const char *id)
{
	struct svec a = { 0 };
	struct rq *q = rq_new(r, auto_reply, NULL);
	char ts[32], quiet[64];
	struct buf e;
	int64_t now = vg_now_ms();

	q->s1 = vg_strdup(id);
	vgtime_format(now, ts);
	snprintf(quiet, sizeof(quiet), "no alerts for %" PRId64 " s",
	    r->rc->auto_resolve_ms / 1000);
	buf_init(&e);
	buf_printf(&e, "{\"ts\":\"%s\",\"type\":\"resolved\",\"by\":\"vigil\","
	    "\"auto\":true,\"note\":\"%s\"}", ts, quiet);
	svec_add(&a, r->B);
	svec_add(&a, id);
	svec_add(&a, "auto");
	svec_addi(&a, now);
	svec_addn(&a, e.p, e.len);
	svec_add(&a, "vigil");
	svec_add(&a, quiet);
	svec_addi(&a, r->rc->resolved_ttl_ms);
	svec_addi(&a, r->rc->auto_resolve_ms);
	svec_addi(&a, RESP_TL_MAX);
	resp_eval_vec(r, SCR_STATE, q, &a);
	svec_free(&a);
	buf_free(&e);
}

/* ---- notification results into the timeline ---- */

void run_notify_result(void *arg, const struct notify_item *it,
    enum notify_class c, const char *detail)
{
	struct response *r = arg;
	json_t *p = json_loads(it->payload, JSON_ALLOW_NUL, NULL);
	const char *id = json_string_value(json_object_get(json_object_get(p,
	    "incident"), "id"));
	struct commit cm;
	struct buf e;

	if (id != NULL) {
		commit_init(&cm, id);
		buf_init(&e);
		resp_jmember(&e, "channel", it->channel);
		resp_jmember(&e, "notification", it->id);
		resp_jmember(&e, "event", it->event == NOTIFY_TRIGGER ?
		    "trigger" : it->event == NOTIFY_ACKNOWLEDGE ? "acknowledge" :
		    "resolve");
		buf_printf(&e, ",\"attempt\":%u", it->attempts);
		resp_jmember(&e, "detail", detail);
		commit_tl(&cm, c == NOTIFY_OK ? "notification_sent" :
		    c == NOTIFY_RETRY ? "notification_retry" : "notification_failed",
		    buf_cstr(&e));
		if (c == NOTIFY_OK)
			commit_incr(&cm, "sent", 1);
		else if (c == NOTIFY_FAIL)
			commit_incr(&cm, "failed", 1);
		resp_commit_async(r, &cm);
		buf_free(&e);
	}
	json_decref(p);
	if (c == NOTIFY_FAIL)
		resp_raise_dead_letter(r, it, detail);
}
