/*
 * response_run.c: playbook runs step by step (pages themselves are in
 * response_page.c).
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
 * Everything runs on the response loop.
 */
#include "response_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alert.h"
#include "log.h"
#include "notify_xfer.h"
#include "vgtime.h"

#define STEP_GRACE_MS 30000      /* lease beyond a step's own timeout */
#define NOW_SLACK_MS 5           /* a timer this close is due now */
#define HTTP_RESP_MAX 4096

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
	int zombie;              /* on r->zombies meanwhile */
	int reload;              /* after the commit: read again and go on */
	int start_esc;           /* after the commit: page escalation */
};

static void job_load(struct job *j);
static void job_free(struct job *j);

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
	if (j->zombie) {
		struct response *r = j->r;

		if (j->prev != NULL)
			j->prev->next = j->next;
		else
			r->zombies = j->next;
		if (j->next != NULL)
			j->next->prev = j->prev;
	}
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
		if (j->pending > 0) {
			/* kept where run_free_all finds it, should the response
			 * go before the reply comes */
			j->zombie = 1;
			j->next = j->r->zombies;
			if (j->next != NULL)
				j->next->prev = j;
			j->r->zombies = j;
		}
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
	while (r->zombies != NULL)
		job_free(r->zombies);
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
		page_escalate(r, j->id);
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
	char *member = resp_member('r', j->id, j->pbname);

	commit_due(c, member, at);
	free(member);
}

/* Over: drop the timer, record the outcome. */
static void run_over(struct job *j, struct commit *c)
{
	struct buf e;

	buf_init(&e);
	resp_jmember(&e, "playbook", j->pbname);
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
	resp_jmember(&e, "playbook", j->pbname);
	resp_jmember(&e, "step", st->id);
	resp_jmember(&e, "kind", playbook_kind_name(st->kind));
	buf_printf(&e, ",\"ok\":%s,\"attempt\":%u", ok ? "true" : "false",
	    j->rr.run.attempt + 1);
	resp_jmember(&e, "detail", detail);
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
			char *member = resp_member('e', j->id, NULL);

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
			page_target(&t, st->u.notify.channels[i]);
		snprintf(seed, sizeof(seed), "pb|%s|%s|%s|%u", j->id, j->pbname,
		    st->id, j->rr.run.steps_run);
		snprintf(field, sizeof(field), "ra:%s", j->pbname);
		n = page_add(r, &c, &j->inc, seed, ev, j->call.summary,
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
				char *pm = resp_member('p', j->id, NULL);

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
	resp_jmember(&e, "playbook", j->pbname);
	resp_jmember(&e, "step", j->st->id);
	resp_jmember(&e, "approval", aid);
	resp_jmember(&e, "group", j->st->u.approve.group);
	commit_tl(&c, "approval_requested", buf_cstr(&e));
	buf_free(&e);
	for (size_t i = 0; g != NULL && i < g->nusers; i++) {
		const struct oncall_user *u = &r->oc->users[g->users[i]];

		for (size_t k = 0; k < u->nchannels; k++)
			page_target_user(&t, u->channels[k], u);
	}
	if (t.n > 0) {
		struct buf s;
		const char *det[2] = { "approval", aid };

		buf_init(&s);
		buf_printf(&s, "Approval needed (%s): %s", j->st->u.approve.group,
		    j->call.summary);
		snprintf(seed, sizeof(seed), "ap|%s", aid);
		page_add(r, &c, &j->inc, seed, NOTIFY_TRIGGER, buf_cstr(&s), det, 1,
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
		resp_commit_async(r, &c);
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
		resp_jmember(&e, "playbook", j->pbname);
		resp_jmember(&e, "why", j->pb == NULL ?
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
	j->alert = ra ? json_loads(ra, JSON_ALLOW_NUL, NULL) : NULL;
	if (j->alert == NULL)
		j->alert = json_loads(ivw_get(&j->inc, "alert") ?
		    ivw_get(&j->inc, "alert") : "{}", JSON_ALLOW_NUL, NULL);
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
		char *member = resp_member('r', j->id, j->pbname);

		resp_drop_due(r, j->id, member);
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
		page_escalate(r, member + 2);
		return;
	case 'u':
		page_update(r, member + 2, 0);
		return;
	case 'p':
		page_update(r, member + 2, 1);
		return;
	case 'a':
		page_auto_resolve(r, member + 2);
		return;
	}
}
