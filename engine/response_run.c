/*
 * response_run.c: doing what incidents need: playbook runs step by step,
 * pages through escalation policies and channels, update and repeat
 * pages, auto-resolve, and the timeline entries for notification results.
 *
 * A run is driven by a job: read the incident (run record, alert), decide,
 * commit. Every commit is guarded by the run record it started from, so
 * when two processes (or a process and its restarted self) reach the same
 * step only one advances it. Containment steps (exec, webhook, redis)
 * first commit a lease (the step's timeout ahead) and then act, so a crash
 * repeats the step after the lease (at least once); a notify step's items
 * go into the same commit that advances the run, and their ids are derived
 * from the run's position, so a repeat after a crash queues nothing twice.
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

#include <event2/event.h>
#include <openssl/evp.h>

#include "alert.h"
#include "log.h"
#include "notify_xfer.h"
#include "vgtime.h"

#define STEP_GRACE_MS 30000      /* lease beyond a step's own timeout */
#define NOW_SLACK_MS 5           /* a timer this close is due now */
#define MAX_TARGETS 64
#define MAX_USERS 32
#define HTTP_RESP_MAX 4096

struct target {
	const char *channel;
	const struct oncall_user *users[MAX_USERS];
	size_t nusers;
};

struct targets {
	struct target v[MAX_TARGETS];
	size_t n;
};

enum job_op { OP_NONE, OP_EXEC, OP_HTTP, OP_REDIS };

struct job {
	struct job *next, *prev;
	struct response *r;
	char *id;
	char *pbname;
	const struct playbook *pb;
	const struct playbook_set *set;
	struct ivw inc;
	struct runrec rr;
	char rec0[160];          /* the record our commit expects */
	json_t *alert;
	const struct pb_step *st;
	struct pb_call call;
	int has_call;
	enum job_op op;
	int op_done;
	struct execstep *xj;
	CURL *easy;
	struct curl_slist *hdrs;
	struct buf resp;
	struct event *tmo;
	int pending;             /* Redis replies outstanding */
	int dead;                /* cancelled: free once nothing is pending */
	int reload;              /* after the commit: read again and go on */
	int start_esc;           /* after the commit: page escalation */
};

static void job_load(struct job *j);
static void job_free(struct job *j);

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

static struct target *target_for(struct targets *t, const char *channel)
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

static void target_add_user(struct targets *t, const char *channel,
    const struct oncall_user *u)
{
	struct target *x = target_for(t, channel);

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
			target_for(t, ch->name);
		else
			target_add_user(t, ch->name, oncall_user(r->oc, tab + 1));
	}
}

static void json_members_str(struct buf *b, const char *name, const char *v)
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
static size_t add_pages(struct response *r, struct commit *c,
    const struct ivw *inc, const char *seed, enum notify_event ev,
    const char *summary, const char *const *details, size_t ndetails,
    const char *alert_json, const struct targets *t, const char *why)
{
	const char *id = ivw_get(inc, "id");
	json_t *alert = alert_json ? json_loads(alert_json, 0, NULL) : NULL;
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
			json_members_str(&e, "channel", t->v[i].channel);
			json_members_str(&e, "error", "no such channel");
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
			json_members_str(&e, "channel", ch->name);
			json_members_str(&e, "error", err.msg);
			commit_tl(c, "notification_failed", buf_cstr(&e));
			buf_free(&e);
			continue;
		}
		snprintf(seedbuf, sizeof(seedbuf), "%s%s|%s", r->B, seed, ch->name);
		item_set_id(&it, seedbuf);
		json_members_str(&e, "channel", ch->name);
		json_members_str(&e, "notification", it.id);
		json_members_str(&e, "event", ev == NOTIFY_TRIGGER ? "trigger" :
		    ev == NOTIFY_ACKNOWLEDGE ? "acknowledge" : "resolve");
		json_members_str(&e, "why", why);
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
static void fire_and_forget(struct response *r, struct commit *c)
{
	commit_send(r, c, NULL, NULL);
}

static void drop_due(struct response *r, const char *id, const char *member)
{
	struct commit c;

	commit_init(&c, id);
	commit_due(&c, member, -1);
	fire_and_forget(r, &c);
}

/* ---- escalation ---- */

static char *mkmember(char kind, const char *id, const char *pb)
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
	char *member = mkmember('e', id, NULL), seed[200], nbuf[32];
	const char *st, *det[64];
	char *dcopy;
	size_t nu, nd;
	struct buf e;

	(void)pc;
	(void)npc;
	(void)q;
	if (inc == NULL) {
		drop_due(r, id, member);
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
		json_members_str(&e, "policy", ivw_get(inc, "esc_policy"));
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
			char *pm = mkmember('p', id, NULL);

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
				target_add_user(&t, step->channels[k], users[i]);
		} else {
			for (size_t k = 0; k < users[i]->nchannels; k++)
				target_add_user(&t, users[i]->channels[k], users[i]);
		}
	}
	buf_addc(&e, ']');
	commit_tl(&c, nu > 0 ? "escalated" : "nobody_on_call", buf_cstr(&e));
	buf_free(&e);
	dcopy = ivw_get(inc, "esc_details") ?
	    vg_strdup(ivw_get(inc, "esc_details")) : NULL;
	nd = split_details(dcopy, det, VG_ARRAY_LEN(det));
	snprintf(seed, sizeof(seed), "esc|%s|%" PRId64, id, n);
	if (add_pages(r, &c, inc, seed, NOTIFY_TRIGGER, ivw_get(inc, "summary"),
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
	fire_and_forget(r, &c);
	free(member);
}

static void esc_fire(struct response *r, const char *id)
{
	inc_load(r, id, esc_loaded, NULL);
}

/* ---- update and repeat pages ---- */

static void upd_loaded(struct response *r, const char *id,
    const struct ivw *inc, char **pc, size_t npc, struct rq *q)
{
	int repeat = q->s2 != NULL && strcmp(q->s2, "p") == 0;
	char *member = mkmember(repeat ? 'p' : 'u', id, NULL);
	struct targets t;
	struct commit c;
	struct buf s;
	char seed[200];
	int64_t now = vg_now_ms();
	const char *st;

	if (inc == NULL) {
		drop_due(r, id, member);
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
	add_pages(r, &c, inc, seed, NOTIFY_TRIGGER, buf_cstr(&s), NULL, 0,
	    ivw_get(inc, "alert"), &t, repeat ? "repeat" : "update");
	buf_free(&s);
	commit_seti(&c, "last_page", now);
	commit_set(&c, "alerts_at_page", ivw_get(inc, "alerts"));
	commit_incr(&c, "pages", 1);
	if (repeat && r->rc->repeat_interval_ms > 0)
		commit_due(&c, member, now + r->rc->repeat_interval_ms);
send:
	fire_and_forget(r, &c);
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
	add_pages(r, &c, inc, seed, ev, buf_cstr(&s), NULL, 0,
	    ivw_get(inc, "alert"), &t, ev == NOTIFY_ACKNOWLEDGE ? "acknowledged" :
	    "resolved");
	buf_free(&s);
	fire_and_forget(r, &c);
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

static void auto_resolve(struct response *r, const char *id)
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

/* ---- jobs: playbook runs ---- */

static struct job *job_find(struct response *r, const char *id,
    const char *pb)
{
	for (struct job *j = r->jobs; j != NULL; j = j->next) {
		if (!j->dead && strcmp(j->id, id) == 0 && strcmp(j->pbname, pb) == 0)
			return j;
	}
	return NULL;
}

static void job_unlink(struct job *j)
{
	struct response *r = j->r;

	if (j->prev != NULL)
		j->prev->next = j->next;
	else if (r->jobs == j)
		r->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	j->next = j->prev = NULL;
	r->njobs--;
}

static void op_release(struct job *j)
{
	if (j->xj != NULL) {
		execstep_cancel(j->xj);
		j->xj = NULL;
	}
	if (j->easy != NULL) {
		notify_xfer_remove(j->r->xfer, j->easy);
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	if (j->tmo != NULL)
		evtimer_del(j->tmo);
	buf_free(&j->resp);
	buf_init(&j->resp);
	if (j->has_call)
		playbook_call_free(&j->call);
	j->has_call = 0;
	j->op = OP_NONE;
}

static void job_reset(struct job *j)
{
	op_release(j);
	ivw_clear(&j->inc);
	json_decref(j->alert);
	j->alert = NULL;
	j->st = NULL;
	j->op_done = 0;
	j->reload = 0;
	j->start_esc = 0;
}

static void job_free(struct job *j)
{
	job_reset(j);
	if (j->tmo != NULL)
		event_free(j->tmo);
	free(j->id);
	free(j->pbname);
	free(j);
}

/* Done with j: free it now or when its last reply comes. */
static void job_end(struct job *j)
{
	if (!j->dead) {
		j->dead = 1;
		job_unlink(j);
	}
	op_release(j);
	if (j->pending == 0)
		job_free(j);
}

static void tmo_cb(evutil_socket_t fd, short what, void *arg);

void run_start(struct response *r, const char *id, const char *pb)
{
	struct job *j;

	if (job_find(r, id, pb) != NULL)
		return;
	j = vg_calloc(1, sizeof(*j));
	j->r = r;
	j->id = vg_strdup(id);
	j->pbname = vg_strdup(pb);
	if (strcmp(pb, RESP_DEFAULT_PB) == 0 && r->dflt != NULL) {
		j->pb = r->dflt->pbs[0];
		j->set = r->dflt;
	} else {
		j->pb = playbook_find(r->pbs, pb);
		j->set = r->pbs;
	}
	buf_init(&j->resp);
	j->tmo = evtimer_new(r->base, tmo_cb, j);
	j->next = r->jobs;
	if (r->jobs != NULL)
		r->jobs->prev = j;
	r->jobs = j;
	r->njobs++;
	job_load(j);
}

void run_cancel_incident(struct response *r, const char *id)
{
	struct job *j = r->jobs, *next;

	for (; j != NULL; j = next) {
		next = j->next;
		if (strcmp(j->id, id) == 0)
			job_end(j);
	}
}

void run_free_all(struct response *r)
{
	while (r->jobs != NULL) {
		struct job *j = r->jobs;

		job_unlink(j);
		j->dead = 1;
		job_free(j);
	}
}

static void job_commit_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	struct job *j = q->arg;
	int st = commit_status(rep);

	j->pending--;
	if (j->dead) {
		if (j->pending == 0)
			job_free(j);
		return;
	}
	if (st != 1) {
		/* someone else advanced the run, or the incident is gone: the
		 * timer, if any, brings it back to whoever owns it */
		job_end(j);
		return;
	}
	if (j->start_esc)
		esc_fire(r, j->id);
	if (j->reload) {
		job_reset(j);
		job_load(j);
		return;
	}
	job_end(j);
}

/* Commit c for job j, guarded by the record it read; afterwards go on
 * when j->reload says so. */
static void job_commit(struct job *j, struct commit *c, const char *newrec)
{
	char field[300];

	snprintf(field, sizeof(field), "r:%s", j->pbname);
	commit_guard(c, field, '=', j->rec0);
	if (newrec != NULL)
		commit_set(c, field, newrec);
	j->pending++;
	if (commit_send(j->r, c, job_commit_reply, j) < 0) {
		j->pending--;
		job_end(j);
	}
}

static void commit_record_due(struct job *j, struct commit *c, int64_t at)
{
	char *member = mkmember('r', j->id, j->pbname);

	commit_due(c, member, at);
	free(member);
}

/* Over: drop the timer, record the outcome. */
static void run_over(struct job *j, struct commit *c)
{
	struct buf e;

	buf_init(&e);
	json_members_str(&e, "playbook", j->pbname);
	buf_printf(&e, ",\"steps\":%u", j->rr.run.steps_run);
	commit_tl(c, j->rr.run.outcome == PB_COMPLETED ? "playbook_completed" :
	    "playbook_failed", buf_cstr(&e));
	buf_free(&e);
	commit_record_due(j, c, -1);
}

/*
 * The step ended (ok or not; detail and the extra timeline members say
 * how). Advance the run and commit it with c's other changes (pages).
 */
static void step_done(struct job *j, int ok, const char *detail,
    const char *extra, struct commit *cin)
{
	struct response *r = j->r;
	struct commit cc, *c = cin;
	const struct pb_step *st = j->st, *next;
	char rec[160];
	struct buf e;
	int64_t now = vg_now_ms();

	if (c == NULL) {
		commit_init(&cc, j->id);
		c = &cc;
	}
	j->op_done = 1;
	if (ok)
		r->st.steps_ok++;
	else
		r->st.steps_failed++;
	buf_init(&e);
	json_members_str(&e, "playbook", j->pbname);
	json_members_str(&e, "step", st->id);
	json_members_str(&e, "kind", playbook_kind_name(st->kind));
	buf_printf(&e, ",\"ok\":%s,\"attempt\":%u", ok ? "true" : "false",
	    j->rr.run.attempt + 1);
	json_members_str(&e, "detail", detail);
	if (extra != NULL && *extra)
		buf_printf(&e, ",%s", extra);
	commit_tl(c, "step", buf_cstr(&e));
	buf_free(&e);
	next = playbook_run_report(&j->rr.run, j->pb, ok, now);
	j->rr.started_ms = 0;
	j->rr.approval[0] = '\0';
	runrec_format(&j->rr, rec, sizeof(rec));
	if (next == NULL) {
		run_over(j, c);
	} else {
		commit_record_due(j, c, j->rr.run.not_before_ms);
		j->reload = j->rr.run.not_before_ms <= now + NOW_SLACK_MS;
	}
	{
		char apf[300];

		snprintf(apf, sizeof(apf), "ap:%s", j->pbname);
		commit_del(c, apf);
	}
	op_release(j);
	job_commit(j, c, rec);
}

/* Render the step's call; -1 after failing the step. */
static int prepare(struct job *j)
{
	struct response *r = j->r;
	const char *inc[10];
	char alerts[32], why[512];
	char *url = resp_url(r, j->id);
	struct pb_vars v;
	int rc;

	snprintf(alerts, sizeof(alerts), "%" PRId64, ivw_int(&j->inc, "alerts"));
	inc[0] = "id";
	inc[1] = j->id;
	inc[2] = "url";
	inc[3] = url ? url : "";
	inc[4] = "alerts";
	inc[5] = alerts;
	inc[6] = "state";
	inc[7] = ivw_get(&j->inc, "state");
	inc[8] = "key";
	inc[9] = ivw_get(&j->inc, "key");
	memset(&v, 0, sizeof(v));
	v.alert = j->alert;
	v.incident = inc;
	v.nincident = 5;
	v.playbook = j->pb->name;
	why[0] = '\0';
	rc = playbook_prepare(j->set, j->pb, j->st, &v, r->prefix, &j->call, why,
	    sizeof(why));
	free(url);
	if (rc < 0) {
		step_done(j, 0, why[0] ? why : "could not prepare the step", NULL,
		    NULL);
		return -1;
	}
	j->has_call = 1;
	return 0;
}

/* ---- step operations ---- */

static void excerpt_json(struct buf *out, const char *name, const char *s,
    size_t len, int truncated)
{
	size_t n = len < RESP_OUT_MAX ? len : RESP_OUT_MAX;

	if (len == 0)
		return;
	if (out->len > 0)
		buf_addc(out, ',');
	buf_printf(out, "\"%s\":", name);
	buf_json_str(out, s, n);
	if (truncated || n < len)
		buf_printf(out, ",\"%s_truncated\":true", name);
}

static void exec_done(void *arg, const struct execstep_result *x)
{
	struct job *j = arg;
	struct buf ex, d;
	int ok = x->started && !x->timed_out && x->exit_code == 0;

	j->xj = NULL;
	buf_init(&ex);
	buf_init(&d);
	if (!x->started)
		buf_printf(&d, "not started: %s", x->error);
	else if (x->timed_out)
		buf_printf(&d, "timed out after %" PRId64 " ms", x->ms);
	else if (x->exit_code < 0)
		buf_printf(&d, "killed by signal %d", x->signo);
	else
		buf_printf(&d, "exit %d", x->exit_code);
	excerpt_json(&ex, "stdout", x->out, x->out_len, x->out_truncated);
	excerpt_json(&ex, "stderr", x->err, x->err_len, x->err_truncated);
	step_done(j, ok, buf_cstr(&d), buf_cstr(&ex), NULL);
	buf_free(&ex);
	buf_free(&d);
}

static size_t http_write(char *p, size_t sz, size_t nm, void *arg)
{
	struct job *j = arg;
	size_t n = sz * nm;

	if (j->resp.len < HTTP_RESP_MAX)
		buf_add(&j->resp, p, n < HTTP_RESP_MAX - j->resp.len ? n :
		    HTTP_RESP_MAX - j->resp.len);
	return n;
}

static void http_done(void *arg, CURL *easy, CURLcode rc)
{
	struct job *j = arg;
	long status = 0;
	struct buf d, ex;
	int ok;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	ok = rc == CURLE_OK && status >= 200 && status < 300;
	buf_init(&d);
	buf_init(&ex);
	if (rc != CURLE_OK)
		buf_printf(&d, "%s", curl_easy_strerror(rc));
	else
		buf_printf(&d, "HTTP %ld", status);
	excerpt_json(&ex, "response", j->resp.p ? j->resp.p : "", j->resp.len, 0);
	step_done(j, ok, buf_cstr(&d), buf_cstr(&ex), NULL);
	buf_free(&d);
	buf_free(&ex);
}

static void redis_step_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	struct job *j = q->arg;
	int ok = rep != NULL && rep->type == REDIS_REPLY_INTEGER;
	struct buf d;

	(void)r;
	j->pending--;
	if (j->dead) {
		if (j->pending == 0)
			job_free(j);
		return;
	}
	if (j->op != OP_REDIS || j->op_done)
		return;   /* timed out before */
	buf_init(&d);
	if (ok)
		buf_printf(&d, "%s %s %s", j->call.remove ? "removed" : "added",
		    j->call.member, j->call.key);
	else
		buf_printf(&d, "Redis: %s", rep == NULL ? "unavailable" :
		    rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
	step_done(j, ok, buf_cstr(&d), NULL, NULL);
	buf_free(&d);
}

static void tmo_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)what;
	if (j->op == OP_REDIS && !j->op_done)
		step_done(j, 0, "timed out waiting for Redis", NULL, NULL);
}

static void start_op(struct job *j)
{
	struct response *r = j->r;
	struct vg_err err = { 0 };
	const struct pb_call *c = &j->call;

	switch (j->st->kind) {
	case PB_EXEC: {
		struct execstep_req req;

		memset(&req, 0, sizeof(req));
		req.prog = c->prog;
		req.args = (const char *const *)c->args;
		req.nargs = c->nargs;
		req.env = (const char *const *)c->env;
		req.nenv = c->nenv;
		req.input = c->body;
		req.input_len = c->body_len;
		req.timeout_ms = c->timeout_ms;
		j->op = OP_EXEC;
		if (r->xp == NULL) {
			step_done(j, 0, "no folders are allowed for exec "
			    "(response.exec_dirs)", NULL, NULL);
			return;
		}
		j->xj = execstep_start(r->base, r->xp, &req, exec_done, j, &err);
		if (j->xj == NULL)
			step_done(j, 0, err.msg, NULL, NULL);
		return;
	}
	case PB_WEBHOOK: {
		CURL *e = curl_easy_init();

		j->op = OP_HTTP;
		if (e == NULL) {
			step_done(j, 0, "curl_easy_init failed", NULL, NULL);
			return;
		}
		curl_easy_setopt(e, CURLOPT_URL, c->url);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)c->body_len);
		if (c->method != NULL && strcmp(c->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
		for (size_t i = 0; i < c->nheaders; i++)
			j->hdrs = curl_slist_append(j->hdrs, c->headers[i]);
		j->hdrs = curl_slist_append(j->hdrs, "Content-Type: application/json");
		j->hdrs = curl_slist_append(j->hdrs, "Expect:");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->hdrs);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
		if (notify_xfer_add(r->xfer, e, http_done, j) < 0) {
			curl_easy_cleanup(e);
			step_done(j, 0, "curl refused the request", NULL, NULL);
			return;
		}
		j->easy = e;
		return;
	}
	case PB_REDIS: {
		const char *argv[6];
		char now[32], until[32], ttl[32];
		int64_t t = vg_now_ms();
		struct rq *q;

		snprintf(now, sizeof(now), "%" PRId64, t);
		snprintf(until, sizeof(until), "%" PRId64, t + c->ttl_ms);
		snprintf(ttl, sizeof(ttl), "%" PRId64, c->ttl_ms > 0 ? c->ttl_ms :
		    (int64_t)86400000);
		argv[0] = c->key;
		argv[1] = now;
		argv[2] = until;
		argv[3] = c->member;
		argv[4] = ttl;
		argv[5] = c->remove ? "1" : "0";
		j->op = OP_REDIS;
		q = rq_new(r, redis_step_reply, j);
		j->pending++;
		if (resp_eval(r, SCR_BLOCK, q, 6, argv, NULL) < 0) {
			j->pending--;
			step_done(j, 0, "Redis is unavailable", NULL, NULL);
			return;
		}
		if (c->timeout_ms > 0) {
			struct timeval tv = { (time_t)(c->timeout_ms / 1000),
			    (suseconds_t)(c->timeout_ms % 1000) * 1000 };

			evtimer_add(j->tmo, &tv);
		}
		return;
	}
	default:
		step_done(j, 0, "not an operation", NULL, NULL);
	}
}

/* The lease is committed: act. */
static void lease_reply(struct response *r, struct rq *q, const redisReply *rep)
{
	struct job *j = q->arg;

	(void)r;
	j->pending--;
	if (j->dead) {
		if (j->pending == 0)
			job_free(j);
		return;
	}
	if (commit_status(rep) != 1) {
		job_end(j);
		return;
	}
	{
		char rec[160];

		runrec_format(&j->rr, rec, sizeof(rec));
		snprintf(j->rec0, sizeof(j->rec0), "%s", rec);
	}
	start_op(j);
}

/* notify step: pages through a policy or channels, in the step's commit */
static void do_notify(struct job *j)
{
	struct response *r = j->r;
	const struct pb_step *st = j->st;
	const char *state = ivw_get(&j->inc, "state");
	enum notify_event ev = st->u.notify.action == PB_ACKNOWLEDGE ?
	    NOTIFY_ACKNOWLEDGE : st->u.notify.action == PB_RESOLVE ?
	    NOTIFY_RESOLVE : NOTIFY_TRIGGER;
	struct commit c;
	struct buf d;
	char seed[400], field[300];

	if (ev == NOTIFY_TRIGGER && strcmp(state, "acknowledged") == 0) {
		buf_init(&d);
		buf_printf(&d, "not paged: acknowledged by %s",
		    ivw_get(&j->inc, "acked_by") ? ivw_get(&j->inc, "acked_by") : "?");
		step_done(j, 1, buf_cstr(&d), NULL, NULL);
		buf_free(&d);
		return;
	}
	if (prepare(j) < 0)
		return;
	commit_init(&c, j->id);
	buf_init(&d);
	if (st->u.notify.policy != NULL) {
		const char *cur = ivw_get(&j->inc, "esc_policy");

		if (cur != NULL && !ivw_int(&j->inc, "esc_done")) {
			buf_printf(&d, "already escalating through %s", cur);
		} else {
			struct buf det;
			char *member = mkmember('e', j->id, NULL);

			buf_init(&det);
			for (size_t i = 0; i < j->call.ndetails; i++)
				buf_printf(&det, "%s%s\x1f%s", i ? "\x1f" : "",
				    j->call.details[2 * i], j->call.details[2 * i + 1]);
			commit_set(&c, "esc_policy", st->u.notify.policy);
			commit_seti(&c, "esc_start", vg_now_ms());
			commit_seti(&c, "esc_next", 0);
			commit_del(&c, "esc_done");
			commit_set(&c, "summary", j->call.summary);
			commit_set(&c, "esc_details", buf_cstr(&det));
			commit_due(&c, member, vg_now_ms());
			buf_free(&det);
			free(member);
			buf_printf(&d, "escalation through %s started",
			    st->u.notify.policy);
			j->start_esc = 1;
		}
	} else {
		struct targets t = { .n = 0 };
		size_t n;

		for (size_t i = 0; i < st->u.notify.nchannels; i++)
			target_for(&t, st->u.notify.channels[i]);
		snprintf(seed, sizeof(seed), "pb|%s|%s|%s|%u", j->id, j->pbname,
		    st->id, j->rr.run.steps_run);
		snprintf(field, sizeof(field), "ra:%s", j->pbname);
		n = add_pages(r, &c, &j->inc, seed, ev, j->call.summary,
		    (const char *const *)j->call.details, j->call.ndetails,
		    ivw_get(&j->inc, field) ? ivw_get(&j->inc, field) :
		    ivw_get(&j->inc, "alert"), &t, "playbook");
		if (n > 0 && ev == NOTIFY_TRIGGER) {
			commit_set(&c, "summary", j->call.summary);
			commit_seti(&c, "last_page", vg_now_ms());
			commit_set(&c, "alerts_at_page", ivw_get(&j->inc, "alerts"));
			commit_incr(&c, "pages", 1);
			if (r->rc->repeat_interval_ms > 0 &&
			    ivw_get(&j->inc, "esc_policy") == NULL) {
				char *pm = mkmember('p', j->id, NULL);

				commit_due(&c, pm, vg_now_ms() + r->rc->repeat_interval_ms);
				free(pm);
			}
		}
		buf_printf(&d, "queued for %zu channel%s", n, n == 1 ? "" : "s");
		if (n < st->u.notify.nchannels) {
			buf_free(&d);
			step_done(j, 0, "a channel could not be paged", NULL, &c);
			return;
		}
	}
	step_done(j, 1, buf_cstr(&d), NULL, &c);
	buf_free(&d);
}

/* approve step, first time: record the approval and ask the group */
static void do_approve_start(struct job *j)
{
	struct response *r = j->r;
	const struct oncall_group *g = oncall_group(r->oc, j->st->u.approve.group);
	struct targets t = { .n = 0 };
	struct commit c;
	struct buf e;
	char aid[37], rec[160], apf[300], seed[300], created[32], deadline[32];
	char *ak;
	int64_t now = vg_now_ms(), tmo;
	const char *argv[24];
	int argc = 0;

	if (prepare(j) < 0)
		return;
	tmo = j->call.timeout_ms > 0 ? j->call.timeout_ms : 3600000;
	alert_new_id(aid);
	ak = resp_key(r, "ap:", aid);
	snprintf(created, sizeof(created), "%" PRId64, now);
	snprintf(deadline, sizeof(deadline), "%" PRId64, now + tmo);
	argv[argc++] = "HSET";
	argv[argc++] = ak;
	argv[argc++] = "id"; argv[argc++] = aid;
	argv[argc++] = "incident"; argv[argc++] = j->id;
	argv[argc++] = "playbook"; argv[argc++] = j->pbname;
	argv[argc++] = "step"; argv[argc++] = j->st->id;
	argv[argc++] = "group"; argv[argc++] = j->st->u.approve.group;
	argv[argc++] = "summary"; argv[argc++] = j->call.summary;
	argv[argc++] = "state"; argv[argc++] = "pending";
	argv[argc++] = "created"; argv[argc++] = created;
	argv[argc++] = "deadline"; argv[argc++] = deadline;
	resp_cmd(r, rq_new(r, NULL, NULL), argc, argv, NULL);
	{
		char ttl[32];
		const char *ex[3] = { "PEXPIRE", ak, ttl };
		char *idx = resp_key(r, "apidx", NULL);
		const char *za[4] = { "ZADD", idx, created, aid };

		snprintf(ttl, sizeof(ttl), "%" PRId64, tmo + r->rc->resolved_ttl_ms);
		resp_cmd(r, rq_new(r, NULL, NULL), 3, ex, NULL);
		resp_cmd(r, rq_new(r, NULL, NULL), 4, za, NULL);
		free(idx);
	}
	free(ak);
	j->rr.started_ms = now;
	snprintf(j->rr.approval, sizeof(j->rr.approval), "%s", aid);
	runrec_format(&j->rr, rec, sizeof(rec));
	commit_init(&c, j->id);
	snprintf(apf, sizeof(apf), "ap:%s", j->pbname);
	commit_set(&c, apf, aid);
	commit_record_due(j, &c, now + tmo);
	buf_init(&e);
	json_members_str(&e, "playbook", j->pbname);
	json_members_str(&e, "step", j->st->id);
	json_members_str(&e, "approval", aid);
	json_members_str(&e, "group", j->st->u.approve.group);
	commit_tl(&c, "approval_requested", buf_cstr(&e));
	buf_free(&e);
	for (size_t i = 0; g != NULL && i < g->nusers; i++) {
		const struct oncall_user *u = &r->oc->users[g->users[i]];

		for (size_t k = 0; k < u->nchannels; k++)
			target_add_user(&t, u->channels[k], u);
	}
	if (t.n > 0) {
		struct buf s;
		const char *det[2] = { "approval", aid };

		buf_init(&s);
		buf_printf(&s, "Approval needed (%s): %s", j->st->u.approve.group,
		    j->call.summary);
		snprintf(seed, sizeof(seed), "ap|%s", aid);
		add_pages(r, &c, &j->inc, seed, NOTIFY_TRIGGER, buf_cstr(&s), det, 1,
		    ivw_get(&j->inc, "alert"), &t, "approval");
		buf_free(&s);
	}
	op_release(j);
	job_commit(j, &c, rec);
}

static void approval_reply(struct response *r, struct rq *q,
    const redisReply *rep)
{
	struct job *j = q->arg;
	struct ivw a = { 0 };
	const char *st;
	struct buf d;
	int64_t now = vg_now_ms(), tmo;

	(void)r;
	j->pending--;
	if (j->dead) {
		if (j->pending == 0)
			job_free(j);
		return;
	}
	if (ivw_from_reply(&a, rep) < 0) {
		step_done(j, 0, "the approval record is gone", NULL, NULL);
		return;
	}
	st = ivw_get(&a, "state");
	buf_init(&d);
	tmo = ivw_int(&a, "deadline");
	if (st != NULL && strcmp(st, "approved") == 0) {
		buf_printf(&d, "approved by %s", ivw_get(&a, "by"));
		step_done(j, 1, buf_cstr(&d), NULL, NULL);
	} else if (st != NULL && strcmp(st, "denied") == 0) {
		buf_printf(&d, "denied by %s", ivw_get(&a, "by"));
		step_done(j, 0, buf_cstr(&d), NULL, NULL);
	} else if (st != NULL && strcmp(st, "pending") == 0 && now < tmo) {
		struct commit c;

		commit_init(&c, j->id);
		commit_record_due(j, &c, tmo);
		job_commit(j, &c, NULL);
	} else {
		if (st != NULL && strcmp(st, "pending") == 0) {
			char *ak = resp_key(r, "ap:", ivw_get(&a, "id"));
			const char *argv[4] = { "HSET", ak, "state", "expired" };
			char *idx = resp_key(r, "apidx", NULL);
			const char *zr[3] = { "ZREM", idx, ivw_get(&a, "id") };

			resp_cmd(r, rq_new(r, NULL, NULL), 4, argv, NULL);
			resp_cmd(r, rq_new(r, NULL, NULL), 3, zr, NULL);
			free(ak);
			free(idx);
		}
		buf_printf(&d, "no approval from %s in time (%s)",
		    ivw_get(&a, "group") ? ivw_get(&a, "group") : "?",
		    st ? st : "?");
		step_done(j, 0, buf_cstr(&d), NULL, NULL);
	}
	buf_free(&d);
	ivw_clear(&a);
}

/* Decide what the run needs now. */
static void job_decide(struct job *j)
{
	struct response *r = j->r;
	const char *state = ivw_get(&j->inc, "state"), *ra;
	char field[300], rec[160];
	struct commit c;
	int64_t now = vg_now_ms();

	snprintf(field, sizeof(field), "r:%s", j->pbname);
	if (runrec_parse(ivw_get(&j->inc, field), &j->rr) < 0) {
		commit_init(&c, j->id);
		commit_record_due(j, &c, -1);
		fire_and_forget(r, &c);
		job_end(j);
		return;
	}
	snprintf(j->rec0, sizeof(j->rec0), "%s", ivw_get(&j->inc, field));
	commit_init(&c, j->id);
	if (j->pb == NULL || state == NULL || strcmp(state, "resolved") == 0) {
		struct buf e;

		j->rr.run.outcome = PB_FAILED;
		j->rr.run.step = -1;
		runrec_format(&j->rr, rec, sizeof(rec));
		buf_init(&e);
		json_members_str(&e, "playbook", j->pbname);
		json_members_str(&e, "why", j->pb == NULL ?
		    "the playbook is no longer loaded" : "the incident is resolved");
		commit_tl(&c, "playbook_aborted", buf_cstr(&e));
		buf_free(&e);
		commit_record_due(j, &c, -1);
		job_commit(j, &c, rec);
		return;
	}
	if ((j->st = playbook_run_step(&j->rr.run, j->pb)) == NULL) {
		commit_record_due(j, &c, -1);
		job_commit(j, &c, NULL);
		return;
	}
	snprintf(field, sizeof(field), "ra:%s", j->pbname);
	ra = ivw_get(&j->inc, field);
	j->alert = ra ? json_loads(ra, 0, NULL) : NULL;
	if (j->alert == NULL)
		j->alert = json_loads(ivw_get(&j->inc, "alert") ?
		    ivw_get(&j->inc, "alert") : "{}", 0, NULL);
	if (j->rr.run.not_before_ms > now + NOW_SLACK_MS) {
		commit_record_due(j, &c, j->rr.run.not_before_ms);
		job_commit(j, &c, NULL);
		return;
	}
	switch (j->st->kind) {
	case PB_WAIT:
		if (j->rr.started_ms == 0) {
			j->rr.started_ms = now;
			runrec_format(&j->rr, rec, sizeof(rec));
			commit_record_due(j, &c, now + j->st->u.wait.ms);
			job_commit(j, &c, rec);
		} else if (now + NOW_SLACK_MS >= j->rr.started_ms + j->st->u.wait.ms) {
			commit_clear(&c);
			step_done(j, 1, "waited", NULL, NULL);
		} else {
			commit_record_due(j, &c, j->rr.started_ms + j->st->u.wait.ms);
			job_commit(j, &c, NULL);
		}
		return;
	case PB_APPROVE:
		commit_clear(&c);
		if (j->rr.started_ms == 0 || j->rr.approval[0] == '\0') {
			do_approve_start(j);
		} else {
			char *ak = resp_key(r, "ap:", j->rr.approval);
			const char *argv[2] = { "HGETALL", ak };

			j->pending++;
			if (resp_cmd(r, rq_new(r, approval_reply, j), 2, argv, NULL) < 0) {
				j->pending--;
				job_end(j);
			}
			free(ak);
		}
		return;
	case PB_NOTIFY:
		if (j->st->u.notify.action == PB_TRIGGER &&
		    strcmp(state, "triggered") == 0 &&
		    now + NOW_SLACK_MS < ivw_int(&j->inc, "created") +
		    r->rc->group_wait_ms) {
			/* group_wait: more alerts may join before the first page */
			commit_record_due(j, &c, ivw_int(&j->inc, "created") +
			    r->rc->group_wait_ms);
			job_commit(j, &c, NULL);
			return;
		}
		commit_clear(&c);
		do_notify(j);
		return;
	case PB_EXEC:
	case PB_WEBHOOK:
	case PB_REDIS:
		commit_clear(&c);
		if (prepare(j) < 0)
			return;
		/* the lease: a crash repeats the step after it, not sooner */
		commit_init(&c, j->id);
		j->rr.started_ms = now;
		runrec_format(&j->rr, rec, sizeof(rec));
		commit_record_due(j, &c, now + (j->call.timeout_ms > 0 ?
		    j->call.timeout_ms : 30000) + STEP_GRACE_MS);
		snprintf(field, sizeof(field), "r:%s", j->pbname);
		commit_guard(&c, field, '=', j->rec0);
		commit_set(&c, field, rec);
		j->pending++;
		if (commit_send(r, &c, lease_reply, j) < 0) {
			j->pending--;
			job_end(j);
		}
		return;
	}
	commit_clear(&c);
	job_end(j);
}

static void job_loaded(struct response *r, struct rq *q, const redisReply *rep)
{
	struct job *j = q->arg;

	j->pending--;
	if (j->dead) {
		if (j->pending == 0)
			job_free(j);
		return;
	}
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		resp_redis_error(r, "reading an incident for its playbook", rep);
		job_end(j);
		return;
	}
	if (ivw_from_reply(&j->inc, rep) < 0) {
		char *member = mkmember('r', j->id, j->pbname);

		drop_due(r, j->id, member);
		free(member);
		job_end(j);
		return;
	}
	job_decide(j);
}

static void job_load(struct job *j)
{
	char *k = resp_key(j->r, "i:", j->id);
	const char *argv[2] = { "HGETALL", k };

	j->pending++;
	if (resp_cmd(j->r, rq_new(j->r, job_loaded, j), 2, argv, NULL) < 0) {
		j->pending--;
		job_end(j);
	}
	free(k);
}

/* ---- the poller's members ---- */

void run_due(struct response *r, const char *member)
{
	char id[64];
	const char *bar;

	if (strlen(member) < 3 || member[1] != '|')
		return;
	switch (member[0]) {
	case 'r':
		bar = strchr(member + 2, '|');
		if (bar == NULL || (size_t)(bar - member - 2) >= sizeof(id))
			return;
		memcpy(id, member + 2, (size_t)(bar - member - 2));
		id[bar - member - 2] = '\0';
		run_start(r, id, bar + 1);
		return;
	case 'e':
		esc_fire(r, member + 2);
		return;
	case 'u':
		inc_load(r, member + 2, upd_loaded, "u");
		return;
	case 'p':
		inc_load(r, member + 2, upd_loaded, "p");
		return;
	case 'a':
		auto_resolve(r, member + 2);
		return;
	}
}

/* ---- notification results into the timeline ---- */

void run_notify_result(void *arg, const struct notify_item *it,
    enum notify_class c, const char *detail)
{
	struct response *r = arg;
	json_t *p = json_loads(it->payload, 0, NULL);
	const char *id = json_string_value(json_object_get(json_object_get(p,
	    "incident"), "id"));
	struct commit cm;
	struct buf e;

	if (id != NULL) {
		commit_init(&cm, id);
		buf_init(&e);
		json_members_str(&e, "channel", it->channel);
		json_members_str(&e, "notification", it->id);
		json_members_str(&e, "event", it->event == NOTIFY_TRIGGER ?
		    "trigger" : it->event == NOTIFY_ACKNOWLEDGE ? "acknowledge" :
		    "resolve");
		buf_printf(&e, ",\"attempt\":%u", it->attempts);
		json_members_str(&e, "detail", detail);
		commit_tl(&cm, c == NOTIFY_OK ? "notification_sent" :
		    c == NOTIFY_RETRY ? "notification_retry" : "notification_failed",
		    buf_cstr(&e));
		if (c == NOTIFY_OK)
			commit_incr(&cm, "sent", 1);
		else if (c == NOTIFY_FAIL)
			commit_incr(&cm, "failed", 1);
		fire_and_forget(r, &cm);
		buf_free(&e);
	}
	json_decref(p);
	if (c == NOTIFY_FAIL)
		resp_raise_dead_letter(r, it, detail);
}
