/*
 * playbook_run.c: turning a step into a call the caller performs, and the
 * run's state machine (retries with doubling delays, branches).
 *
 * Containment steps (exec, webhook, redis) render strictly: a missing value
 * fails the step rather than running a program with an empty argument, and
 * every substituted value and every whole argument is checked against the
 * protected networks. Notifications render leniently: a page with an empty
 * field is better than no page.
 */
#include "playbook_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_DELAY_MAX (86400 * 1000LL)

static void why_set(char *why, size_t whylen, const char *fmt, ...)
    VG_PRINTF(3, 4);

static void why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

void playbook_call_free(struct pb_call *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nargs; i++)
		free(c->args[i]);
	free(c->args);
	for (size_t i = 0; i < c->nenv; i++)
		free(c->env[i]);
	free(c->env);
	for (size_t i = 0; i < c->nheaders; i++)
		free(c->headers[i]);
	free(c->headers);
	for (size_t i = 0; i < 2 * c->ndetails; i++)
		free(c->details[i]);
	free(c->details);
	free(c->body);
	free(c->key);
	free(c->member);
	free(c->summary);
	memset(c, 0, sizeof(*c));
}

/* Render t into an owned string. */
static char *render(const struct pb_tmpl *t, const struct pb_vars *v,
    int strict, const struct playbook_set *set, char *why, size_t whylen)
{
	struct buf b;
	char *s = NULL;

	buf_init(&b);
	if (pb_render_checked(t, v, strict, set, &b, why, whylen) == 0)
		s = vg_strndup(b.p ? b.p : "", b.len);
	buf_free(&b);
	return s;
}

/* A containment argument: rendered strictly, values and the whole checked. */
static char *render_arg(const struct pb_tmpl *t, const struct pb_vars *v,
    const struct playbook_set *set, char *why, size_t whylen)
{
	char *s = render(t, v, 1, set, why, whylen);

	if (s != NULL && pb_check_value(set, s, strlen(s), why, whylen) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static int render_json(const struct pb_json *j, const struct pb_vars *v,
    const struct playbook_set *set, struct buf *out, char *why, size_t whylen)
{
	char *s;

	switch (j->type) {
	case PBJ_RAW:
		buf_adds(out, j->raw);
		return 0;
	case PBJ_STR:
		if ((s = render_arg(&j->str, v, set, why, whylen)) == NULL)
			return -1;
		buf_json_str(out, s, strlen(s));
		free(s);
		return 0;
	case PBJ_ARR:
	case PBJ_OBJ:
		buf_addc(out, j->type == PBJ_ARR ? '[' : '{');
		for (size_t i = 0; i < j->n; i++) {
			if (i > 0)
				buf_addc(out, ',');
			if (j->type == PBJ_OBJ) {
				buf_json_str(out, j->keys[i], strlen(j->keys[i]));
				buf_addc(out, ':');
			}
			if (render_json(&j->items[i], v, set, out, why, whylen) < 0)
				return -1;
		}
		buf_addc(out, j->type == PBJ_ARR ? ']' : '}');
		return 0;
	}
	return -1;
}

static char *alert_line(const struct pb_vars *v, size_t *len)
{
	char *s = v->alert ? json_dumps(v->alert, JSON_COMPACT) : NULL;
	char *out;
	size_t n;

	if (s == NULL) {
		*len = 0;
		return NULL;
	}
	n = strlen(s);
	out = vg_malloc(n + 2);
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	free(s);
	*len = n + 1;
	return out;
}

int playbook_prepare(const struct playbook_set *set, const struct playbook *pb,
    const struct pb_step *st, const struct pb_vars *v, const char *prefix,
    struct pb_call *out, char *why, size_t whylen)
{
	struct pb_vars vv = *v;

	memset(out, 0, sizeof(*out));
	if (vv.playbook == NULL)
		vv.playbook = pb->name;
	out->kind = st->kind;
	out->timeout_ms = st->timeout_ms;
	if (out->timeout_ms == 0) {
		static const int64_t dflt[] = {
			[PB_NOTIFY] = 0, [PB_EXEC] = 30000, [PB_WEBHOOK] = 30000,
			[PB_REDIS] = 10000, [PB_WAIT] = 0, [PB_APPROVE] = 3600000,
		};

		out->timeout_ms = dflt[st->kind];
	}
	switch (st->kind) {
	case PB_EXEC:
		out->prog = st->u.exec.prog;
		out->args = vg_calloc(st->u.exec.nargs + 1, sizeof(*out->args));
		for (size_t i = 0; i < st->u.exec.nargs; i++) {
			if ((out->args[i] = render_arg(&st->u.exec.args[i], &vv, set, why,
			    whylen)) == NULL)
				goto fail;
			out->nargs++;
		}
		out->env = vg_calloc(st->u.exec.nenv + 1, sizeof(*out->env));
		for (size_t i = 0; i < st->u.exec.nenv; i++) {
			const struct pb_kv *kv = &st->u.exec.env[i];
			char *val = render_arg(&kv->value, &vv, set, why, whylen);
			size_t nl = strlen(kv->name), vl;

			if (val == NULL)
				goto fail;
			vl = strlen(val);
			out->env[i] = vg_malloc(nl + vl + 2);
			memcpy(out->env[i], kv->name, nl);
			out->env[i][nl] = '=';
			memcpy(out->env[i] + nl + 1, val, vl + 1);
			free(val);
			out->nenv++;
		}
		if (st->u.exec.stdin_alert)
			out->body = alert_line(&vv, &out->body_len);
		return 0;
	case PB_WEBHOOK: {
		struct buf b;

		out->url = st->u.webhook.url;
		out->method = st->u.webhook.method;
		out->headers = vg_calloc(st->u.webhook.nheaders + 1,
		    sizeof(*out->headers));
		for (size_t i = 0; i < st->u.webhook.nheaders; i++) {
			const struct pb_kv *h = &st->u.webhook.headers[i];
			struct buf hb;

			buf_init(&hb);
			buf_printf(&hb, "%s: %s", h->name, h->value.segs[0].text);
			out->headers[out->nheaders++] = vg_strdup(buf_cstr(&hb));
			buf_free(&hb);
		}
		buf_init(&b);
		if (st->u.webhook.json != NULL) {
			if (render_json(st->u.webhook.json, &vv, set, &b, why,
			    whylen) < 0) {
				buf_free(&b);
				goto fail;
			}
		} else {
			playbook_payload(&vv, st->id, &b);
		}
		out->body = vg_strndup(b.p ? b.p : "", b.len);
		out->body_len = b.len;
		buf_free(&b);
		return 0;
	}
	case PB_REDIS: {
		size_t pl = strlen(prefix ? prefix : ""), bl;

		if ((out->member = render_arg(&st->u.redis.member, &vv, set, why,
		    whylen)) == NULL)
			goto fail;
		if (out->member[0] == '\0') {
			why_set(why, whylen, "empty value for the blocklist");
			goto fail;
		}
		bl = strlen(st->u.redis.blocklist);
		out->key = vg_malloc(pl + 10 + bl + 1);
		memcpy(out->key, prefix ? prefix : "", pl);
		memcpy(out->key + pl, "blocklist:", 10);
		memcpy(out->key + pl + 10, st->u.redis.blocklist, bl + 1);
		out->remove = st->u.redis.remove;
		out->ttl_ms = st->u.redis.ttl_ms;
		return 0;
	}
	case PB_NOTIFY:
		out->summary = render(&st->u.notify.summary, &vv, 0, NULL, why, whylen);
		if (out->summary == NULL)
			goto fail;
		out->details = vg_calloc(2 * st->u.notify.ndetails + 1,
		    sizeof(*out->details));
		for (size_t i = 0; i < st->u.notify.ndetails; i++) {
			const struct pb_kv *kv = &st->u.notify.details[i];
			char *val = render(&kv->value, &vv, 0, NULL, why, whylen);

			if (val == NULL)
				goto fail;
			out->details[2 * i] = vg_strdup(kv->name);
			out->details[2 * i + 1] = val;
			out->ndetails++;
		}
		return 0;
	case PB_APPROVE:
		out->summary = render(&st->u.approve.summary, &vv, 0, NULL, why,
		    whylen);
		if (out->summary == NULL)
			goto fail;
		return 0;
	case PB_WAIT:
		out->wait_ms = st->u.wait.ms;
		return 0;
	}
	why_set(why, whylen, "unknown step kind");
fail:
	playbook_call_free(out);
	return -1;
}

/* ---- the run ---- */

void playbook_run_init(struct playbook_run *r, const struct playbook *pb)
{
	memset(r, 0, sizeof(*r));
	r->step = pb->nsteps > 0 ? 0 : -1;
	r->outcome = pb->nsteps > 0 ? PB_RUNNING : PB_COMPLETED;
}

const struct pb_step *playbook_run_step(const struct playbook_run *r,
    const struct playbook *pb)
{
	if (r->outcome != PB_RUNNING || r->step < 0 ||
	    (size_t)r->step >= pb->nsteps)
		return NULL;
	return &pb->steps[r->step];
}

const struct pb_step *playbook_run_report(struct playbook_run *r,
    const struct playbook *pb, int ok, int64_t now_ms)
{
	const struct pb_step *st = playbook_run_step(r, pb);
	int next;

	if (st == NULL)
		return NULL;
	if (!ok && r->attempt < (unsigned)st->retries) {
		int64_t d = st->retry_delay_ms;

		for (unsigned i = 0; i < r->attempt && d < RETRY_DELAY_MAX; i++)
			d *= 2;
		if (d > RETRY_DELAY_MAX)
			d = RETRY_DELAY_MAX;
		r->attempt++;
		r->not_before_ms = now_ms + d;
		return st;
	}
	r->steps_run++;
	r->attempt = 0;
	r->not_before_ms = now_ms;
	next = ok ? st->on_success : st->on_failure;
	if (next == PB_END || next == PB_ABORT) {
		r->step = -1;
		r->outcome = next == PB_END ? PB_COMPLETED : PB_FAILED;
		return NULL;
	}
	r->step = next;
	return &pb->steps[next];
}
