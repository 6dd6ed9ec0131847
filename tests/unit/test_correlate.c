/*
 * test_correlate.c: correlation rules against a real redis-server (a
 * private one on a unix socket in a temporary folder). Each rule type with
 * exact alerts on crafted sequences: window edges (an event exactly at the
 * boundary), out-of-order events within and beyond the allowed lateness,
 * groups of several fields, value aggregates, end-evaluated conditions,
 * absence, suppression, chained correlations and generate; then state that
 * outlives a correlator, two correlators sharing one Redis, an outage, and
 * the daemon holding updates while its batch call is out.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "unit.h"
#include "../../engine/correlate.h"
#include "../../engine/correlate_int.h"
#include "../../engine/log.h"
#include "../../engine/redis.h"
#include "../../engine/ytree.h"

static struct rds_server *srv;
static int prefix_no;

/* Detection rules shared by the tests; correlations are added per test. */
static const char base_rules[] =
"title: login failed\n"
"id: 00000000-0000-4000-8000-000000000001\n"
"name: failed\n"
"logsource: {product: t}\n"
"detection: {sel: {event.outcome: failure}, condition: sel}\n"
"---\n"
"title: login succeeded\n"
"id: 00000000-0000-4000-8000-000000000002\n"
"name: success\n"
"logsource: {product: t}\n"
"detection: {sel: {event.outcome: success}, condition: sel}\n"
"---\n"
"title: recon a\n"
"name: recon_a\n"
"logsource: {product: t}\n"
"detection: {sel: {event.action: a}, condition: sel}\n"
"---\n"
"title: recon b\n"
"name: recon_b\n"
"logsource: {product: t}\n"
"detection: {sel: {event.action: b}, condition: sel}\n"
"---\n"
"title: recon c\n"
"name: recon_c\n"
"logsource: {product: t}\n"
"detection: {sel: {event.action: c}, condition: sel}\n"
"---\n"
"title: web request\n"
"name: request\n"
"logsource: {product: t}\n"
"detection: {sel: {event.action: request}, condition: sel}\n"
"---\n"
"title: backup started\n"
"name: backup_start\n"
"logsource: {product: t}\n"
"detection: {sel: {event.action: backup_start}, condition: sel}\n"
"---\n"
"title: backup finished\n"
"name: backup_done\n"
"logsource: {product: t}\n"
"detection: {sel: {event.action: backup_done}, condition: sel}\n"
"---\n";

struct h {
	struct event_base *base;
	struct rds *r;
	struct ruleset *rs;
	struct corr_set *cs;
	struct correlator *c;
	struct vg_event *ev;
	struct buf log;
	char prefix[32];
	struct correlate_load_stats lst;
	struct correlate_conf conf;
};

static void alert_cb(void *arg, const struct correlate_alert *ca)
{
	struct h *h = arg;
	const char *n = vg_event_str(ca->a.ev, field_intern("n", 1));

	buf_printf(&h->log, "%s @%lld count=%llu", ca->a.rule->title,
	    (long long)ca->a.ts_ms, (unsigned long long)ca->a.count);
	for (size_t i = 0; i < ca->a.ngroup; i++)
		buf_printf(&h->log, " %s=%s", ca->a.group[i].name,
		    ca->a.group[i].value);
	if (ca->a.suppressed)
		buf_printf(&h->log, " suppressed=%llu",
		    (unsigned long long)ca->a.suppressed);
	if (ca->value != floor(ca->value))
		buf_printf(&h->log, " value=%.4f", ca->value);
	if (ca->absence)
		buf_adds(&h->log, " absence");
	buf_printf(&h->log, " ev=%s\n", n ? n : "-");
}

static struct rds *client(struct event_base *base)
{
	struct rds_conf rc = { 0 };
	struct vg_err e = { 0 };

	rc.url = rds_server_url(srv);
	rc.name = "test";
	rc.backoff_min_ms = 20;
	rc.backoff_max_ms = 200;
	return rds_new(base, &rc, &e);
}

/* Load base_rules + extra; 0 when every correlation loaded. */
static int h_init(struct h *h, const char *extra, int replay)
{
	struct buf y;
	struct vg_diag d;
	struct detect_stats dst = { 0 };

	memset(h, 0, sizeof(*h));
	buf_init(&h->log);
	buf_init(&y);
	buf_adds(&y, base_rules);
	buf_adds(&y, extra);
	vg_diag_init(&d, stderr);
	d.no_source = 1;
	h->rs = detect_load_buffer("test.yml", y.p, y.len, NULL, &d, &dst);
	buf_free(&y);
	h->cs = correlate_load(h->rs, &d, &h->lst);
	h->base = event_base_new();
	h->r = client(h->base);
	snprintf(h->prefix, sizeof(h->prefix), "t%d:", ++prefix_no);
	h->conf.prefix = h->prefix;
	h->conf.lateness_ms = 30000;
	h->conf.replay = replay;
	h->c = correlate_new(h->cs, h->r, &h->conf, alert_cb, h);
	h->ev = vg_event_new();
	return h->lst.rejected == 0 && h->lst.loaded > 0 ? 0 : -1;
}

static const struct rule *rule_named(struct h *h, const char *name)
{
	for (size_t i = 0; i < detect_rule_count(h->rs); i++) {
		const struct rule *r = detect_rule(h->rs, i);

		if (r->name && strcmp(r->name, name) == 0)
			return r;
	}
	return NULL;
}

/* Feed an event matching rule `name` at ts with fields "k=v,k=v". */
static void feed(struct h *h, struct correlator *c, const char *name,
    int64_t ts, const char *fields)
{
	const struct rule *r = rule_named(h, name);
	const char *p = fields;

	vg_event_reset(h->ev);
	while (p && *p) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');
		size_t vl;

		if (end == NULL)
			end = p + strlen(p);
		vl = (size_t)(end - eq - 1);
		if (strncmp(p, "bytes", 5) == 0)
			vg_event_add_num(h->ev, field_intern(p, (size_t)(eq - p)),
			    eq + 1, vl, strtod(eq + 1, NULL));
		else
			vg_event_add(h->ev, field_intern(p, (size_t)(eq - p)),
			    eq + 1, vl);
		p = *end ? end + 1 : end;
	}
	h->ev->ts_ms = ts;
	h->ev->has_ts = 1;
	CHECK(r != NULL);
	if (r != NULL)
		correlate_event(c, h->ev, ts, &r, 1);
}

static void h_free(struct h *h)
{
	rds_free(h->r);
	correlate_free(h->c);
	correlate_set_free(h->cs);
	detect_free(h->rs);
	vg_event_free(h->ev);
	event_base_free(h->base);
	buf_free(&h->log);
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The alert log with its lines sorted (for alerts of several clocks). */
static const char *sorted(struct h *h)
{
	char *lines[256], *p, *save = NULL;
	size_t n = 0;
	static struct buf out;
	char *copy = vg_strndup(h->log.p ? h->log.p : "", h->log.len);

	for (p = strtok_r(copy, "\n", &save); p && n < 256;
	    p = strtok_r(NULL, "\n", &save))
		lines[n++] = p;
	qsort(lines, n, sizeof(*lines), cmp_lines);
	buf_free(&out);
	buf_init(&out);
	for (size_t i = 0; i < n; i++) {
		buf_adds(&out, lines[i]);
		buf_addc(&out, '\n');
	}
	free(copy);
	return buf_cstr(&out);
}

static const char *logtext(struct h *h)
{
	return h->log.len ? buf_cstr(&h->log) : "";
}

/* ---- rule types ---- */

TEST(event_count_window_edges_and_consumption)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: brute force\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 10s\n"
	    "  condition: {gte: 3}\n", 1), 0);
	/* A: the third event is exactly 10 s after the first: in the window */
	feed(&h, h.c, "failed", 0, "source.ip=A,n=a1");
	feed(&h, h.c, "failed", 4000, "source.ip=A,n=a2");
	/* B: one millisecond more is out */
	feed(&h, h.c, "failed", 0, "source.ip=B,n=b1");
	feed(&h, h.c, "failed", 5000, "source.ip=B,n=b2");
	feed(&h, h.c, "failed", 10000, "source.ip=A,n=a3");
	feed(&h, h.c, "failed", 10001, "source.ip=B,n=b3");
	/* A's three were consumed by the alert: two more are not enough */
	feed(&h, h.c, "failed", 11000, "source.ip=A,n=a4");
	feed(&h, h.c, "failed", 12000, "source.ip=A,n=a5");
	feed(&h, h.c, "failed", 12000, "source.ip=B,n=b4");
	feed(&h, h.c, "failed", 13000, "source.ip=A,n=a6");
	/* no source.ip: not counted anywhere */
	feed(&h, h.c, "failed", 13000, "n=x");
	/* another rule's events are not counted */
	feed(&h, h.c, "success", 13000, "source.ip=A,n=s");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h),
	    "brute force @10000 count=3 source.ip=A ev=a3\n"
	    "brute force @12000 count=3 source.ip=B ev=b4\n"
	    "brute force @13000 count=3 source.ip=A ev=a6\n");
	CHECK_INT(correlate_stats(h.c)->no_group, 1);
	CHECK_INT(correlate_stats(h.c)->updates, 10);
	CHECK_INT(correlate_stats(h.c)->alerts, 3);
	h_free(&h);
}

TEST(event_count_groups_of_several_fields)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: pair\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip, user.name]\n"
	    "  timespan: 1m\n"
	    "  condition: {gt: 1}\n", 1), 0);
	feed(&h, h.c, "failed", 1000, "source.ip=A,user.name=root,n=1");
	feed(&h, h.c, "failed", 2000, "source.ip=A,user.name=admin,n=2");
	feed(&h, h.c, "failed", 3000, "source.ip=B,user.name=root,n=3");
	/* values that would be ambiguous if joined naively */
	feed(&h, h.c, "failed", 3500, "source.ip=A:root,user.name=x,n=4");
	feed(&h, h.c, "failed", 4000, "source.ip=A,user.name=root,n=5");
	feed(&h, h.c, "failed", 4500, "source.ip=A:root,user.name=x,n=6");
	feed(&h, h.c, "failed", 5000, "source.ip=A,user.name=root:x,n=7");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h),
	    "pair @4000 count=2 source.ip=A user.name=root ev=5\n"
	    "pair @4500 count=2 source.ip=A:root user.name=x ev=6\n");
	h_free(&h);
}

TEST(event_count_out_of_order_and_late)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: ooo\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 10s\n"
	    "  condition: {gte: 3}\n", 1), 0);
	/* lateness 30 s (the test default) */
	feed(&h, h.c, "failed", 0, "source.ip=A,n=a1");
	feed(&h, h.c, "failed", 20000, "source.ip=A,n=a2");
	feed(&h, h.c, "failed", 5000, "source.ip=A,n=a3");
	feed(&h, h.c, "failed", 8000, "source.ip=A,n=a4");   /* 0,5000,8000 */
	feed(&h, h.c, "failed", 9000, "source.ip=A,n=a5");   /* 9000,20000: 11 s */
	feed(&h, h.c, "failed", -15000, "source.ip=A,n=late"); /* < 20000 - 30000 */
	/* the window that fires ends after the late-arriving event */
	feed(&h, h.c, "failed", 100000, "source.ip=B,n=b1");
	feed(&h, h.c, "failed", 110000, "source.ip=B,n=b2");
	feed(&h, h.c, "failed", 112000, "source.ip=B,n=b3");
	feed(&h, h.c, "failed", 109000, "source.ip=B,n=b4");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h),
	    "ooo @8000 count=3 source.ip=A ev=a4\n"
	    "ooo @110000 count=3 source.ip=B ev=b4\n");
	CHECK_INT(correlate_stats(h.c)->late, 1);
	h_free(&h);
}

TEST(value_count_distinct_users)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: spraying\n"
	    "correlation:\n"
	    "  type: value_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 1m\n"
	    "  condition: {field: user.name, gte: 3}\n", 1), 0);
	feed(&h, h.c, "failed", 0, "source.ip=A,user.name=root,n=1");
	feed(&h, h.c, "failed", 1000, "source.ip=A,user.name=root,n=2");
	feed(&h, h.c, "failed", 2000, "source.ip=A,user.name=admin,n=3");
	feed(&h, h.c, "failed", 3000, "source.ip=A,n=nouser");
	feed(&h, h.c, "failed", 4000, "source.ip=A,user.name=admin,n=4");
	feed(&h, h.c, "failed", 61000, "source.ip=A,user.name=test,n=5");
	/* root (1000) and admin (4000) are within [1000, 61000]: 3 values */
	feed(&h, h.c, "failed", 70000, "source.ip=A,user.name=a,n=6");
	feed(&h, h.c, "failed", 71000, "source.ip=A,user.name=b,n=7");
	feed(&h, h.c, "failed", 72000, "source.ip=A,user.name=c,n=8");
	/* out of order: d arrives before e and f, which are earlier */
	feed(&h, h.c, "failed", 200000, "source.ip=B,user.name=d,n=9");
	feed(&h, h.c, "failed", 175000, "source.ip=B,user.name=e,n=10");
	feed(&h, h.c, "failed", 130000, "source.ip=B,user.name=g,n=late");
	feed(&h, h.c, "failed", 190000, "source.ip=B,user.name=f,n=11");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h),
	    "spraying @61000 count=3 source.ip=A ev=5\n"
	    "spraying @72000 count=3 source.ip=A ev=8\n"
	    "spraying @200000 count=3 source.ip=B ev=11\n");
	CHECK_INT(correlate_stats(h.c)->no_value, 1);
	CHECK_INT(correlate_stats(h.c)->late, 1);
	h_free(&h);
}

TEST(temporal_any_order)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: recon\n"
	    "correlation:\n"
	    "  type: temporal\n"
	    "  rules: [recon_a, recon_b, recon_c]\n"
	    "  group-by: [host.hostname]\n"
	    "  timespan: 10s\n", 1), 0);
	feed(&h, h.c, "recon_c", 0, "host.hostname=h1,n=1");
	feed(&h, h.c, "recon_a", 3000, "host.hostname=h1,n=2");
	feed(&h, h.c, "recon_a", 4000, "host.hostname=h2,n=3");
	feed(&h, h.c, "recon_b", 10000, "host.hostname=h1,n=4");
	/* h2: c comes 11 s after a */
	feed(&h, h.c, "recon_b", 14000, "host.hostname=h2,n=5");
	feed(&h, h.c, "recon_c", 15000, "host.hostname=h2,n=6");
	feed(&h, h.c, "recon_a", 16000, "host.hostname=h2,n=7");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h),
	    "recon @10000 count=3 host.hostname=h1 ev=4\n"
	    "recon @16000 count=3 host.hostname=h2 ev=7\n");
	h_free(&h);
}

TEST(temporal_ordered_sequence)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: fail then success\n"
	    "correlation:\n"
	    "  type: temporal_ordered\n"
	    "  rules: [failed, success]\n"
	    "  group-by: [user.name]\n"
	    "  timespan: 10s\n", 1), 0);
	feed(&h, h.c, "success", 0, "user.name=u1,n=1");      /* no failure yet */
	feed(&h, h.c, "failed", 1000, "user.name=u1,n=2");
	feed(&h, h.c, "success", 5000, "user.name=u1,n=3");   /* fires */
	/* out of order: the success arrives first */
	feed(&h, h.c, "success", 20000, "user.name=u2,n=4");
	feed(&h, h.c, "failed", 15000, "user.name=u2,n=5");   /* fires, @20000 */
	/* exactly 10 s apart: in; 10.001 s: out */
	feed(&h, h.c, "failed", 30000, "user.name=u3,n=6");
	feed(&h, h.c, "success", 40000, "user.name=u3,n=7");
	feed(&h, h.c, "failed", 50000, "user.name=u4,n=8");
	feed(&h, h.c, "success", 60001, "user.name=u4,n=9");
	/* wrong order within the window */
	feed(&h, h.c, "success", 70000, "user.name=u5,n=10");
	feed(&h, h.c, "failed", 71000, "user.name=u5,n=11");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h),
	    "fail then success @5000 count=2 user.name=u1 ev=3\n"
	    "fail then success @20000 count=2 user.name=u2 ev=5\n"
	    "fail then success @40000 count=2 user.name=u3 ev=7\n");
	h_free(&h);
}

TEST(value_sum_over_threshold)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: exfil\n"
	    "correlation:\n"
	    "  type: value_sum\n"
	    "  rules: [request]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 10s\n"
	    "  condition: {field: bytes, gt: 1000}\n", 1), 0);
	feed(&h, h.c, "request", 0, "source.ip=A,bytes=400,n=1");
	feed(&h, h.c, "request", 5000, "source.ip=A,bytes=400,n=2");
	feed(&h, h.c, "request", 6000, "source.ip=A,bytes=nan-ish,n=bad");
	feed(&h, h.c, "request", 10000, "source.ip=A,bytes=300,n=3");
	feed(&h, h.c, "request", 20000, "source.ip=A,bytes=1000,n=4");
	feed(&h, h.c, "request", 30001, "source.ip=A,bytes=1,n=5");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h),
	    "exfil @10000 count=3 source.ip=A ev=3\n");
	CHECK_INT(correlate_stats(h.c)->no_value, 1);
	h_free(&h);
}

TEST(value_avg_percentile_median_at_window_end)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: avg\n"
	    "correlation:\n"
	    "  type: value_avg\n"
	    "  rules: [request]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 10s\n"
	    "  condition: {field: bytes, gt: 500}\n"
	    "vigil: {lateness: 0s}\n"
	    "---\n"
	    "title: p90\n"
	    "correlation:\n"
	    "  type: value_percentile\n"
	    "  rules: [request]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 10s\n"
	    "  condition: {field: bytes, gte: 900}\n"
	    "vigil: {lateness: 0s, percentile: 90}\n"
	    "---\n"
	    "title: median\n"
	    "correlation:\n"
	    "  type: value_median\n"
	    "  rules: [request]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 10s\n"
	    "  condition: {field: bytes, lt: 600}\n"
	    "vigil: {lateness: 0s}\n", 1), 0);
	feed(&h, h.c, "request", 0, "source.ip=A,bytes=100,n=1");
	feed(&h, h.c, "request", 2000, "source.ip=A,bytes=1000,n=2");
	feed(&h, h.c, "request", 4000, "source.ip=A,bytes=900,n=3");
	/* exactly at the end: still in the window */
	feed(&h, h.c, "request", 10000, "source.ip=A,bytes=0,n=4");
	/* next window of A; and time passes for everyone */
	feed(&h, h.c, "request", 10001, "source.ip=A,bytes=700,n=5");
	feed(&h, h.c, "request", 25000, "source.ip=Z,bytes=1,n=6");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	/* window [0,10000]: 100 1000 900 0: avg 500 (not > 500), p90 969,
	 * median 500; window [10001,20001]: 700 */
	CHECK_STR(sorted(&h),
	    "avg @20001 count=1 source.ip=A ev=5\n"
	    "median @10000 count=4 source.ip=A ev=4\n"
	    "p90 @10000 count=4 source.ip=A ev=4\n");
	h_free(&h);
}

TEST(upper_bounds_evaluated_when_the_window_ends)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: few\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [success]\n"
	    "  group-by: [host.hostname]\n"
	    "  timespan: 10s\n"
	    "  condition: {lt: 3}\n"
	    "vigil: {lateness: 1s}\n"
	    "---\n"
	    "title: range\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [success]\n"
	    "  group-by: [host.hostname]\n"
	    "  timespan: 10s\n"
	    "  condition: {gte: 2, lte: 3}\n"
	    "vigil: {lateness: 1s}\n", 1), 0);
	feed(&h, h.c, "success", 0, "host.hostname=x,n=x1");
	feed(&h, h.c, "success", 1000, "host.hostname=y,n=y1");
	feed(&h, h.c, "success", 5000, "host.hostname=x,n=x2");
	feed(&h, h.c, "success", 6000, "host.hostname=y,n=y2");
	feed(&h, h.c, "success", 7000, "host.hostname=y,n=y3");
	feed(&h, h.c, "success", 8000, "host.hostname=y,n=y4");
	feed(&h, h.c, "success", 4500, "host.hostname=x,n=x3"); /* out of order */
	/* 11000 + 1 s lateness closes x's window [0,10000] ... */
	feed(&h, h.c, "success", 11000, "host.hostname=z,n=z1");
	/* ... and 12000 y's [1000,11000] */
	feed(&h, h.c, "success", 12000, "host.hostname=z,n=z2");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(sorted(&h),
	    "range @10000 count=3 host.hostname=x ev=x2\n");
	/* the rest of time: z's window [11000,21000] has 2 */
	buf_clear(&h.log);
	CHECK_INT(correlate_finish(h.c, 1, 20000), 0);
	CHECK_STR(sorted(&h),
	    "few @21000 count=2 host.hostname=z ev=z2\n"
	    "range @21000 count=2 host.hostname=z ev=z2\n");
	h_free(&h);
}

TEST(absence_fires_when_the_wait_ends)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: backup did not finish\n"
	    "correlation:\n"
	    "  type: temporal_ordered\n"
	    "  rules: [backup_start, backup_done]\n"
	    "  group-by: [host.hostname]\n"
	    "  timespan: 1m\n"
	    "vigil: {absence: true, lateness: 0s}\n", 1), 0);
	feed(&h, h.c, "backup_start", 0, "host.hostname=h1,n=1");
	feed(&h, h.c, "backup_start", 0, "host.hostname=h2,n=2");
	feed(&h, h.c, "backup_start", 0, "host.hostname=h3,n=3");
	feed(&h, h.c, "backup_start", 10000, "host.hostname=h2,n=4");
	feed(&h, h.c, "backup_done", 30000, "host.hostname=h1,n=5");
	/* exactly at the end of the wait: answered */
	feed(&h, h.c, "backup_start", 1000, "host.hostname=h5,n=6");
	feed(&h, h.c, "backup_done", 61000, "host.hostname=h5,n=7");
	/* one millisecond late: not answered */
	feed(&h, h.c, "backup_done", 60001, "host.hostname=h3,n=8");
	/* time passes (another host's event) */
	correlate_advance(h.c, 70000);
	feed(&h, h.c, "backup_start", 100000, "host.hostname=h4,n=9");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(sorted(&h),
	    "backup did not finish @60000 count=1 host.hostname=h3 absence ev=3\n"
	    "backup did not finish @60000 count=2 host.hostname=h2 absence ev=4\n");
	/* the input ends: h4 still waits, until time runs out */
	buf_clear(&h.log);
	CHECK_INT(correlate_finish(h.c, 1, 20000), 0);
	CHECK_STR(logtext(&h),
	    "backup did not finish @160000 count=1 host.hostname=h4 absence ev=9\n");
	h_free(&h);
}

TEST(suppression_folds_repeats)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: noisy\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 10s\n"
	    "  condition: {gte: 2}\n"
	    "vigil: {suppress: 1m}\n", 1), 0);
	for (int i = 0; i < 6; i++) {
		char f[64];

		snprintf(f, sizeof(f), "source.ip=A,n=%d", i);
		feed(&h, h.c, "failed", i * 1000, f);
	}
	feed(&h, h.c, "failed", 2000, "source.ip=B,n=b1");
	feed(&h, h.c, "failed", 3000, "source.ip=B,n=b2");
	/* 60 s after the first alert: allowed again, carries the 2 folded */
	feed(&h, h.c, "failed", 60000, "source.ip=A,n=6");
	feed(&h, h.c, "failed", 61000, "source.ip=A,n=7");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h),
	    "noisy @1000 count=2 source.ip=A ev=1\n"
	    "noisy @3000 count=2 source.ip=B ev=b2\n"
	    "noisy @61000 count=2 source.ip=A suppressed=2 ev=7\n");
	CHECK_INT(correlate_stats(h.c)->suppressed, 2);
	h_free(&h);
}

TEST(chained_correlations_and_generate)
{
	struct h h;
	const struct rule *failed, *success, *recon;

	CHECK_INT(h_init(&h,
	    "title: brute force then login\n"
	    "id: 00000000-0000-4000-8000-0000000000f1\n"
	    "correlation:\n"
	    "  type: temporal_ordered\n"
	    "  rules: [many_failed, success]\n"
	    "  group-by: [user.name]\n"
	    "  timespan: 1m\n"
	    "level: high\n"
	    "---\n"
	    "title: many failed logins\n"
	    "name: many_failed\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [user.name]\n"
	    "  timespan: 1m\n"
	    "  condition: {gte: 3}\n"
	    "---\n"
	    "title: recon twice\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [recon_a]\n"
	    "  group-by: [host.hostname]\n"
	    "  timespan: 1m\n"
	    "  condition: {gte: 2}\n"
	    "generate: true\n", 1), 0);
	failed = rule_named(&h, "failed");
	success = rule_named(&h, "success");
	recon = rule_named(&h, "recon_a");
	CHECK_INT(correlate_rule_generates(h.cs, failed), 0);
	CHECK_INT(correlate_rule_generates(h.cs, success), 0);
	CHECK_INT(correlate_rule_generates(h.cs, recon), 1);
	CHECK_INT(correlate_rule_generates(h.cs, rule_named(&h, "recon_b")), 1);
	CHECK_INT(correlate_wants(h.cs, failed), 1);
	CHECK_INT(correlate_wants(h.cs, rule_named(&h, "recon_b")), 0);
	CHECK_INT(correlate_rule_count(h.cs), 3);
	feed(&h, h.c, "failed", 1000, "user.name=bob,n=1");
	feed(&h, h.c, "failed", 2000, "user.name=bob,n=2");
	feed(&h, h.c, "failed", 3000, "user.name=bob,n=3");
	/* the success may reach Redis before the inner alert does */
	feed(&h, h.c, "success", 4000, "user.name=bob,n=4");
	feed(&h, h.c, "success", 5000, "user.name=eve,n=5");
	/* the inner alert reaches the outer rule after an event 48 s later,
	 * more than the 30 s lateness: an alert is never late */
	feed(&h, h.c, "failed", 100000, "user.name=carol,n=6");
	feed(&h, h.c, "failed", 101000, "user.name=carol,n=7");
	feed(&h, h.c, "failed", 102000, "user.name=carol,n=8");
	feed(&h, h.c, "success", 150000, "user.name=carol,n=9");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	/* the inner alert is not emitted (generate: false), the outer is */
	CHECK_STR(logtext(&h),
	    "brute force then login @4000 count=2 user.name=bob ev=3\n"
	    "brute force then login @150000 count=2 user.name=carol ev=8\n");
	CHECK_INT(correlate_stats(h.c)->chained, 2);
	CHECK_INT(correlate_stats(h.c)->late, 0);
	h_free(&h);
}

TEST(aliases_group_across_fields)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: same address\n"
	    "correlation:\n"
	    "  type: temporal\n"
	    "  rules: [failed, request]\n"
	    "  group-by: [ip]\n"
	    "  timespan: 1m\n"
	    "  aliases:\n"
	    "    ip:\n"
	    "      failed: source.ip\n"
	    "      request: destination.ip\n", 1), 0);
	feed(&h, h.c, "failed", 1000, "source.ip=A,destination.ip=B,n=1");
	feed(&h, h.c, "request", 2000, "source.ip=B,destination.ip=A,n=2");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h), "same address @2000 count=2 ip=A ev=2\n");
	h_free(&h);
}

/* ---- loading ---- */

static const char *load_errors(const char *yaml, struct correlate_load_stats *st)
{
	static char out[8192];
	FILE *f = fmemopen(out, sizeof(out) - 1, "w");
	struct vg_diag d;
	struct detect_stats dst = { 0 };
	struct buf y;
	struct ruleset *rs;
	struct corr_set *cs;

	memset(out, 0, sizeof(out));
	buf_init(&y);
	buf_adds(&y, base_rules);
	buf_adds(&y, yaml);
	vg_diag_init(&d, f);
	d.no_source = 1;
	rs = detect_load_buffer("t.yml", y.p, y.len, NULL, &d, &dst);
	memset(st, 0, sizeof(*st));
	d.out = f;
	cs = correlate_load(rs, &d, st);
	fclose(f);
	correlate_set_free(cs);
	detect_free(rs);
	buf_free(&y);
	return out;
}

TEST(loader_reports_every_problem)
{
	struct correlate_load_stats st;
	const char *e;

	e = load_errors(
	    "title: a\n"
	    "correlation: {type: event_count, rules: [nosuch], timespan: 5m,"
	    " condition: {gte: 1}}\n"
	    "---\n"
	    "title: b\n"
	    "correlation: {type: event_count, rules: [failed], timespan: 5x,"
	    " condition: {gte: 1}}\n"
	    "---\n"
	    "title: c\n"
	    "correlation: {type: value_count, rules: [failed], timespan: 5m,"
	    " condition: {gte: 1}}\n"
	    "---\n"
	    "title: d\n"
	    "correlation: {type: event_count, rules: [failed], timespan: 5m,"
	    " condition: {gt: 10, lt: 5}}\n"
	    "---\n"
	    "title: e\n"
	    "correlation: {type: nearby, rules: [failed], timespan: 5m}\n"
	    "---\n"
	    "title: f\n"
	    "name: f\n"
	    "correlation: {type: temporal, rules: [g, failed], timespan: 5m}\n"
	    "---\n"
	    "title: g\n"
	    "name: g\n"
	    "correlation: {type: temporal, rules: [f, failed], timespan: 5m}\n"
	    "---\n"
	    "title: h\n"
	    "correlation: {type: temporal_ordered, rules: [failed, success],"
	    " timespan: 5m}\n"
	    "vigil: {absence: true, suppress: often}\n"
	    "---\n"
	    "title: i\n"
	    "correlation: {type: event_count, rules: [failed], timespan: 5m,"
	    " condition: {gte: 2}, group-by: [ip], aliases: {ip: {success: x}}}\n"
	    "---\n"
	    "title: j\n"
	    "correlation: {type: temporal_ordered, rules: [failed, success],"
	    " timespan: 5m, condition: {gte: 1}}\n"
	    "---\n"
	    "title: ok\n"
	    "correlation: {type: event_count, rules: [failed], timespan: 5m,"
	    " condition: {gte: 1}, groupby: [x]}\n"
	    "---\n"
	    "title: fine\n"
	    "correlation: {type: event_count, rules: [failed], timespan: 5m,"
	    " condition: {gte: 1}}\n", &st);
	CHECK_INT(st.loaded, 1);
	CHECK_INT(st.rejected, 11);
	CHECK(strstr(e, "no rule has the id or name 'nosuch'") != NULL);
	CHECK(strstr(e, "correlation.timespan: expected a duration") != NULL);
	CHECK(strstr(e, "value_count needs condition.field") != NULL);
	CHECK(strstr(e, "condition can never hold") != NULL);
	CHECK(strstr(e, "unknown type 'nearby'") != NULL);
	CHECK(strstr(e, "leads back to this rule (a cycle)") != NULL);
	CHECK(strstr(e, "vigil.suppress: expected a duration") != NULL);
	CHECK(strstr(e, "aliases.ip: 'success' is not one of the correlation's "
	    "rules") != NULL);
	CHECK(strstr(e, "aliases.ip: no field for rule 'failed'") != NULL);
	CHECK(strstr(e, "temporal_ordered supports only its default condition")
	    != NULL);
	CHECK(strstr(e, "correlation: unknown key 'groupby'") != NULL);
	/* positions: file:line:col */
	CHECK(strstr(e, "t.yml:") != NULL);
}

TEST(loader_survives_hostile_shapes)
{
	struct correlate_load_stats st;
	static const char *const docs[] = {
		"title: a\ncorrelation: just a string\n",
		"title: b\ncorrelation: {type: event_count, rules: {a: b}, timespan: 5m,"
		" condition: {gte: 1}}\n",
		"title: c\ncorrelation: {type: event_count, rules: [failed], timespan: 5m,"
		" condition: [1, 2]}\n",
		"title: d\ncorrelation: {type: event_count, rules: [failed], timespan: 5m,"
		" condition: {gte: 1}, group-by: [[x]]}\n",
		"title: e\ncorrelation: {type: event_count, rules: [failed], timespan: [1],"
		" condition: {gte: 1}}\n",
		"title: f\ncorrelation: {type: event_count, rules: [failed], timespan: 5m,"
		" condition: {gte: 1}}\nvigil: [1]\n",
		"title: g\ncorrelation: {type: temporal, rules: [failed, success],"
		" timespan: 5m, aliases: x}\n",
		"title: h\ntags: {a: 1}\ncorrelation: {type: event_count, rules: [failed],"
		" timespan: 5m, condition: {gte: 1}}\n",
		"title: i\ngenerate: maybe\ncorrelation: {type: event_count,"
		" rules: [failed], timespan: 5m, condition: {gte: 1}}\n",
		"title: [x]\ncorrelation: {type: event_count, rules: [failed],"
		" timespan: 5m, condition: {gte: 1}}\n",
		"title: k\ncorrelation: {type: [event_count], rules: [failed],"
		" timespan: 5m, condition: {gte: 1}}\n",
		"title: l\ncorrelation: {type: event_count, rules: [failed, failed],"
		" timespan: 5m, condition: {gte: 1}}\n",
		"title: m\ncorrelation: {type: event_count, rules: [failed],"
		" timespan: 0s, condition: {gte: 1}}\n",
		"title: n\ncorrelation: {type: event_count, rules: [failed],"
		" timespan: 5m, condition: {gte: '1e999'}}\n",
		"title: o\ncorrelation: {type: value_percentile, rules: [request],"
		" timespan: 5m, condition: {field: bytes, gt: 1}}\nvigil: {percentile: 101}\n",
		"title: p\ncorrelation: {type: event_count, rules: [failed],"
		" timespan: 5m, condition: {gte: 1}}\nvigil: {max_events: 0, lateness: -1s}\n",
	};
	struct buf all;

	buf_init(&all);
	for (size_t i = 0; i < VG_ARRAY_LEN(docs); i++) {
		buf_adds(&all, docs[i]);
		if (i + 1 < VG_ARRAY_LEN(docs))
			buf_adds(&all, "---\n");
	}
	load_errors(buf_cstr(&all), &st);
	CHECK_INT(st.loaded, 0);
	CHECK_INT(st.rejected, (int)VG_ARRAY_LEN(docs));
	buf_free(&all);
}

/* ---- state in Redis ---- */

#define LOOP_UNTIL(base, cond)                                          \
	do {                                                            \
		int64_t end_ = vg_mono_ms() + 20000;                    \
		struct timeval tv_ = { 0, 10000 };                      \
		while (!(cond) && vg_mono_ms() < end_) {                \
			event_base_loopexit((base), &tv_);              \
			event_base_dispatch(base);                      \
		}                                                       \
	} while (0)


TEST(state_outlives_the_correlator)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: burst\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 1m\n"
	    "  condition: {gte: 3}\n", 1), 0);
	feed(&h, h.c, "failed", 1000, "source.ip=A,n=1");
	feed(&h, h.c, "failed", 2000, "source.ip=A,n=2");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	/* a new process: new client, new correlator, same Redis and prefix */
	rds_free(h.r);
	correlate_free(h.c);
	h.r = client(h.base);
	h.c = correlate_new(h.cs, h.r, &h.conf, alert_cb, &h);
	feed(&h, h.c, "failed", 3000, "source.ip=A,n=3");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_STR(logtext(&h), "burst @3000 count=3 source.ip=A ev=3\n");
	h_free(&h);
}

TEST(two_correlators_share_one_redis)
{
	struct h h;
	struct rds *r2;
	struct correlator *c2;

	CHECK_INT(h_init(&h,
	    "title: burst\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 1m\n"
	    "  condition: {gte: 10}\n", 0), 0);
	r2 = client(h.base);
	c2 = correlate_new(h.cs, r2, &h.conf, alert_cb, &h);
	/* a burst of 10, each correlator sees half (Redis interleaves their
	 * connections as it likes): one alert, whoever raises it */
	for (int i = 0; i < 10; i++) {
		char f[64];

		snprintf(f, sizeof(f), "source.ip=A,n=%d", i);
		feed(&h, i % 2 ? c2 : h.c, "failed", 1000 + i, f);
	}
	LOOP_UNTIL(h.base, correlate_outstanding(h.c) == 0 &&
	    correlate_outstanding(c2) == 0);
	CHECK_INT(correlate_stats(h.c)->alerts + correlate_stats(c2)->alerts, 1);
	CHECK(strncmp(logtext(&h), "burst @1009 count=10 source.ip=A ev=", 36) == 0);
	/* and a second burst, with a third correlator's worth of overlap:
	 * 25 more, 2 alerts */
	buf_clear(&h.log);
	for (int i = 0; i < 25; i++) {
		char f[64];

		snprintf(f, sizeof(f), "source.ip=A,n=%d", i);
		feed(&h, i % 2 ? c2 : h.c, "failed", 2000 + i, f);
	}
	LOOP_UNTIL(h.base, correlate_outstanding(h.c) == 0 &&
	    correlate_outstanding(c2) == 0);
	CHECK_INT(correlate_stats(h.c)->alerts + correlate_stats(c2)->alerts, 3);
	rds_free(r2);
	correlate_free(c2);
	h_free(&h);
}

TEST(outage_buffers_updates_and_catches_up)
{
	char dir[] = "/tmp/vigil-test-corr.XXXXXX";
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *own;
	struct rds_conf rc = { 0 };
	struct h h;

	CHECK(mkdtemp(dir) != NULL);
	sc.dir = dir;
	sc.persist = 1;
	own = rds_server_start(&sc, &e);
	if (own == NULL) {
		CHECK(own != NULL);
		return;
	}
	CHECK_INT(h_init(&h,
	    "title: burst\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 1m\n"
	    "  condition: {gte: 5}\n", 0), 0);
	/* this test's own server, and a buffer of 6 updates */
	rds_free(h.r);
	correlate_free(h.c);
	rc.url = rds_server_url(own);
	rc.name = "test";
	rc.max_pending = 6;
	rc.backoff_min_ms = 20;
	rc.backoff_max_ms = 100;
	h.r = rds_new(h.base, &rc, &e);
	h.c = correlate_new(h.cs, h.r, &h.conf, alert_cb, &h);
	LOOP_UNTIL(h.base, rds_ready(h.r));
	feed(&h, h.c, "failed", 1000, "source.ip=A,n=1");
	feed(&h, h.c, "failed", 2000, "source.ip=A,n=2");
	LOOP_UNTIL(h.base, correlate_outstanding(h.c) == 0);
	rds_server_stop(own);
	LOOP_UNTIL(h.base, !rds_ready(h.r));
	/* Redis is away: updates wait in the bounded buffer; B's first two
	 * are dropped (counted) to make room */
	feed(&h, h.c, "failed", 3000, "source.ip=B,n=b1");
	feed(&h, h.c, "failed", 3100, "source.ip=B,n=b2");
	feed(&h, h.c, "failed", 3200, "source.ip=B,n=b3");
	feed(&h, h.c, "failed", 3300, "source.ip=B,n=b4");
	feed(&h, h.c, "failed", 3400, "source.ip=B,n=b5");
	feed(&h, h.c, "failed", 4000, "source.ip=A,n=3");
	feed(&h, h.c, "failed", 5000, "source.ip=A,n=4");
	feed(&h, h.c, "failed", 6000, "source.ip=A,n=5");
	CHECK_INT(correlate_stats(h.c)->dropped, 2);
	CHECK_INT(rds_stats(h.r)->dropped, 2);
	CHECK_STR(logtext(&h), "");
	own = rds_server_start(&sc, &e);
	CHECK(own != NULL);
	LOOP_UNTIL(h.base, correlate_outstanding(h.c) == 0);
	CHECK_STR(logtext(&h), "burst @6000 count=5 source.ip=A ev=5\n");
	h_free(&h);
	rds_server_stop(own);
	{
		char cmdline[512];

		snprintf(cmdline, sizeof(cmdline), "rm -rf %s", dir);
		CHECK_INT(system(cmdline), 0);
	}
}

struct reply_seen {
	int calls;
	long long v[16];
	size_t n;
};

static void script_cb(void *arg, const struct redisReply *rep)
{
	struct reply_seen *r = arg;

	r->calls++;
	r->n = 0;
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < rep->elements && i < 16; i++)
		r->v[r->n++] = rep->element[i]->type == REDIS_REPLY_STRING ?
		    strtoll(rep->element[i]->str, NULL, 10) :
		    rep->element[i]->integer;
}

/* One window update straight to the script: status, and the first alert's
 * time and count (-1 when none). */
static void script_update(struct rds *r, int sid, const char *ts,
    const char *id, const char *cap, struct reply_seen *out)
{
	const char *v[28] = {
		"u:c{r:g}", "u:c{r:g}:e", "u:c{r:g}:j", "u:c{r:g}:b",
		"u", "ec", "a", "60000", "0", cap, "", "2", "", "", "", "",
		"1", "50", "0", "600000", "0", "", ts, id, "0", "", "", "0",
	};
	struct event_base *base = rds_base(r);
	int before = out->calls;
	int64_t end = vg_mono_ms() + 20000;
	struct timeval tv = { 0, 10000 };

	if (rds_evalsha(r, RDS_RETRY, sid, script_cb, out, 4, 28, v, NULL) < 0) {
		CHECK(0);
		return;
	}
	while (out->calls == before && vg_mono_ms() < end) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	CHECK(out->calls > before);
}

TEST(script_answers_a_resent_update_the_same_way)
{
	struct event_base *base = event_base_new();
	struct rds *r = client(base);
	int sid = rds_script(r, corr_lua_update);
	struct reply_seen a = { 0 };

	script_update(r, sid, "1000", "00000000000000a1", "100", &a);
	CHECK_INT(a.v[0], 0);
	CHECK_INT(a.v[5], 0);
	script_update(r, sid, "2000", "00000000000000a2", "100", &a);
	CHECK_INT(a.v[0], 0);
	CHECK_INT(a.v[5], 1);
	CHECK_INT(a.v[6], 2000);
	CHECK_INT(a.v[7], 2);
	/* the same update again (its answer was lost with a connection):
	 * the same alert, flagged, and nothing counted twice */
	script_update(r, sid, "2000", "00000000000000a2", "100", &a);
	CHECK_INT(a.v[0], 2);
	CHECK_INT(a.v[5], 1);
	CHECK_INT(a.v[6], 2000);
	CHECK_INT(a.v[7], 2);
	script_update(r, sid, "3000", "00000000000000a3", "100", &a);
	CHECK_INT(a.v[0], 0);
	CHECK_INT(a.v[5], 0);
	/* late (lateness 0): older than the group's newest event */
	script_update(r, sid, "2999", "00000000000000a4", "100", &a);
	CHECK_INT(a.v[0], 1);
	rds_free(r);
	event_base_free(base);
}

/* ---- corr_lua_batch answers and leaves state as corr_lua_update ---- */

/* One update of a batch test: group, time, id, role, value. */
struct bu {
	const char *g;
	const char *ts;
	const char *id;
	const char *role;
	const char *val;
};

/* A rule's 16 fixed arguments (corr_lua_update ARGV[2..17]). */
struct brule {
	const char *a[16];
};

static void reply_text(struct buf *b, const redisReply *r)
{
	if (r == NULL) {
		buf_adds(b, "nil");
		return;
	}
	switch (r->type) {
	case REDIS_REPLY_INTEGER:
		buf_printf(b, "%lld", r->integer);
		break;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		buf_printf(b, "'%.*s'", (int)r->len, r->str);
		break;
	case REDIS_REPLY_ARRAY:
		buf_addc(b, '[');
		for (size_t i = 0; i < r->elements; i++) {
			if (i > 0)
				buf_addc(b, ' ');
			reply_text(b, r->element[i]);
		}
		buf_addc(b, ']');
		break;
	default:
		buf_adds(b, "?");
	}
}

static void key_of(char *out, size_t n, const char *pfx, const char *g,
    const char *sfx)
{
	snprintf(out, n, "%sc{r:%s}%s", pfx, g, sfx);
}

/* The updates one by one through corr_lua_update, replies into b. */
static void run_single(redisContext *rc, const char *sha, const char *pfx,
    const struct brule *br, const struct bu *u, size_t n, struct buf *b)
{
	for (size_t i = 0; i < n; i++) {
		char k[4][64];
		const char *v[31];
		redisReply *r;
		int c = 0;

		key_of(k[0], 64, pfx, u[i].g, "");
		key_of(k[1], 64, pfx, u[i].g, ":e");
		key_of(k[2], 64, pfx, u[i].g, ":j");
		key_of(k[3], 64, pfx, u[i].g, ":b");
		v[c++] = "EVALSHA";
		v[c++] = sha;
		v[c++] = "4";
		for (int j = 0; j < 4; j++)
			v[c++] = k[j];
		v[c++] = "u";
		for (int j = 0; j < 16; j++)
			v[c++] = br->a[j];
		v[c++] = "";
		v[c++] = u[i].ts;
		v[c++] = u[i].id;
		v[c++] = u[i].role;
		v[c++] = u[i].val;
		v[c++] = "";
		v[c++] = "0";
		r = redisCommandArgv(rc, c, v, NULL);
		reply_text(b, r);
		buf_addc(b, '\n');
		freeReplyObject(r);
	}
}

/* The same updates as one corr_lua_batch call, replies into b. */
static void run_batch(redisContext *rc, const char *sha, const char *pfx,
    const struct brule *br, const struct bu *u, size_t n, struct buf *b)
{
	size_t c = 0, max = 5 + 16 + 9 * n;
	const char **v = vg_calloc(max, sizeof(*v));
	char (*k)[64] = vg_calloc(n, sizeof(*k));
	char nb[16], nk[16];
	redisReply *r;

	snprintf(nb, sizeof(nb), "%zu", n);
	v[c++] = "EVALSHA";
	v[c++] = sha;
	v[c++] = nb;
	for (size_t i = 0; i < n; i++) {
		key_of(k[i], 64, pfx, u[i].g, "");
		v[c++] = k[i];
	}
	snprintf(nk, sizeof(nk), "%zu", n);
	v[c++] = nk;
	v[c++] = "1";
	for (int j = 0; j < 16; j++)
		v[c++] = br->a[j];
	for (size_t i = 0; i < n; i++) {
		v[c++] = "1";
		v[c++] = "";
		v[c++] = u[i].ts;
		v[c++] = u[i].id;
		v[c++] = u[i].role;
		v[c++] = u[i].val;
		v[c++] = "";
		v[c++] = "0";
	}
	r = redisCommandArgv(rc, (int)c, v, NULL);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *e = r->element[i];

			/* 0 stands for the answer of an update with nothing
			 * to tell */
			if (e->type == REDIS_REPLY_INTEGER && e->integer == 0)
				buf_adds(b, "[0 0 -1 0 '' 0]");
			else
				reply_text(b, e);
			buf_addc(b, '\n');
		}
	} else {
		reply_text(b, r);
	}
	freeReplyObject(r);
	free(v);
	free(k);
}

/* The state of the groups of u under pfx, without the prefix. */
static void state_text(redisContext *rc, const char *pfx, const struct bu *u,
    size_t n, struct buf *b)
{
	static const char *const sfx[] = { "", ":e", ":j", ":b" };

	for (size_t i = 0; i < n; i++) {
		int seen = 0;

		for (size_t j = 0; j < i; j++)
			if (strcmp(u[j].g, u[i].g) == 0)
				seen = 1;
		if (seen)
			continue;
		for (int s = 0; s < 4; s++) {
			char key[64];
			redisReply *r;

			key_of(key, sizeof(key), pfx, u[i].g, sfx[s]);
			r = redisCommand(rc, "TYPE %s", key);
			buf_printf(b, "%s%s %s ", u[i].g, sfx[s], r ? r->str : "?");
			if (r != NULL && strcmp(r->str, "hash") == 0) {
				freeReplyObject(r);
				/* field order in a hash is not state: sort it */
				r = redisCommand(rc, "EVAL %s 1 %s",
				    "local t = redis.call('HGETALL', KEYS[1]) "
				    "local f = {} for i = 1, #t, 2 do f[#f + 1] = "
				    "t[i] .. '=' .. t[i + 1] end table.sort(f) "
				    "return f", key);
			} else if (r != NULL && strcmp(r->str, "zset") == 0) {
				freeReplyObject(r);
				r = redisCommand(rc, "ZRANGE %s 0 -1 WITHSCORES", key);
			} else {
				freeReplyObject(r);
				r = NULL;
			}
			reply_text(b, r);
			buf_addc(b, '\n');
			freeReplyObject(r);
		}
	}
}

/*
 * before[] one by one on both prefixes, then after[] one by one on "s:"
 * and as one batch on "b:": the same replies and the same state.
 */
static void same_as_single(redisContext *rc, const char *s1, const char *sb,
    const struct brule *br, const struct bu *before, size_t nb,
    const struct bu *after, size_t na)
{
	struct buf x, y, sx, sy;

	buf_init(&x);
	buf_init(&y);
	buf_init(&sx);
	buf_init(&sy);
	freeReplyObject(redisCommand(rc, "FLUSHALL"));
	run_single(rc, s1, "s:", br, before, nb, &x);
	run_single(rc, s1, "b:", br, before, nb, &x);
	buf_clear(&x);
	run_single(rc, s1, "s:", br, after, na, &x);
	run_batch(rc, sb, "b:", br, after, na, &y);
	CHECK_STR(buf_cstr(&y), buf_cstr(&x));
	state_text(rc, "s:", after, na, &sx);
	state_text(rc, "b:", after, na, &sy);
	CHECK_STR(buf_cstr(&sy), buf_cstr(&sx));
	buf_free(&x);
	buf_free(&y);
	buf_free(&sx);
	buf_free(&sy);
}

static char *load(redisContext *rc, const char *body)
{
	redisReply *r = redisCommand(rc, "SCRIPT LOAD %s", body);
	char *sha = vg_strdup(r && r->type == REDIS_REPLY_STRING ? r->str : "");

	freeReplyObject(r);
	return sha;
}

TEST(batch_folds_to_the_same_answers_and_state)
{
	const char *url = rds_server_url(srv);
	redisContext *rc = redisConnectUnix(url + strlen("unix://"));
	char *s1, *sb;
	/* event_count gte 3 in 10 s, lateness 5 s, cap 100 */
	static const struct brule ec3 = { {
		"ec", "a", "10000", "5000", "100", "", "3", "", "", "", "",
		"1", "50", "0", "600000", "0" } };
	/* the same, suppressed for 15 s after an alert */
	static const struct brule ec3s = { {
		"ec", "a", "10000", "5000", "100", "", "3", "", "", "", "",
		"1", "50", "15000", "600000", "0" } };
	/* an upper bound: every event while fewer than 3 */
	static const struct brule eclt = { {
		"ec", "a", "10000", "5000", "100", "", "", "3", "", "", "",
		"1", "50", "0", "600000", "0" } };
	/* cap 4 */
	static const struct brule ecc = { {
		"ec", "a", "10000", "5000", "4", "", "3", "", "", "", "",
		"1", "50", "0", "600000", "0" } };
	/* value_count gte 3 in 10 s */
	static const struct brule vc3 = { {
		"vc", "a", "10000", "5000", "100", "", "3", "", "", "", "",
		"1", "50", "0", "600000", "0" } };
	/* temporal: both of two rules within 10 s */
	static const struct brule tp2 = { {
		"tp", "a", "10000", "5000", "100", "", "2", "", "", "", "",
		"2", "50", "0", "600000", "0" } };
	static const struct bu pre[] = {
		{ "A", "1000", "00000000000000p1", "0", "" },
		{ "B", "1500", "00000000000000p2", "0", "" },
	};
	/* two groups interleaved, equal times, a gap longer than the window */
	static const struct bu run[] = {
		{ "A", "2000", "0000000000000001", "0", "" },
		{ "B", "2000", "0000000000000002", "0", "" },
		{ "A", "2000", "0000000000000003", "0", "" },
		{ "A", "3000", "0000000000000004", "0", "" },
		{ "B", "9000", "0000000000000005", "0", "" },
		{ "A", "4000", "0000000000000006", "0", "" },
		{ "A", "5000", "0000000000000007", "0", "" },
		{ "A", "16000", "0000000000000008", "0", "" },
		{ "B", "12000", "0000000000000009", "0", "" },
		{ "A", "16000", "000000000000000a", "0", "" },
		{ "A", "17000", "000000000000000b", "0", "" },
		{ "A", "30000", "000000000000000c", "0", "" },
		{ "A", "30001", "000000000000000d", "0", "" },
		{ "A", "30002", "000000000000000e", "0", "" },
		{ "A", "30003", "000000000000000f", "0", "" },
	};
	/* out of order inside the run: folded no more, one by one */
	static const struct bu ooo[] = {
		{ "A", "5000", "0000000000000011", "0", "" },
		{ "A", "4000", "0000000000000012", "0", "" },
		{ "A", "6000", "0000000000000013", "0", "" },
		{ "A", "1000", "0000000000000014", "0", "" },
	};
	/* values repeated and renewed as the window slides */
	static const struct bu vals[] = {
		{ "A", "2000", "0000000000000021", "0", "root" },
		{ "A", "3000", "0000000000000022", "0", "root" },
		{ "A", "4000", "0000000000000023", "0", "admin" },
		{ "A", "13500", "0000000000000024", "0", "root" },
		{ "A", "14000", "0000000000000025", "0", "test" },
		{ "A", "15000", "0000000000000026", "0", "guest" },
		{ "A", "15000", "0000000000000027", "0", "guest" },
		{ "A", "16000", "0000000000000028", "0", "x" },
		{ "A", "17000", "0000000000000029", "0", "y" },
		{ "A", "40000", "000000000000002a", "0", "z" },
	};
	static const struct bu roles[] = {
		{ "A", "2000", "0000000000000031", "0", "" },
		{ "A", "3000", "0000000000000032", "0", "" },
		{ "A", "4000", "0000000000000033", "1", "" },
		{ "A", "20000", "0000000000000034", "1", "" },
		{ "A", "21000", "0000000000000035", "1", "" },
		{ "A", "22000", "0000000000000036", "0", "" },
	};

	CHECK(rc != NULL && rc->err == 0);
	if (rc == NULL || rc->err)
		return;
	s1 = load(rc, corr_lua_update);
	sb = load(rc, corr_lua_batch);
	same_as_single(rc, s1, sb, &ec3, pre, 2, run, VG_ARRAY_LEN(run));
	same_as_single(rc, s1, sb, &ec3, NULL, 0, run, VG_ARRAY_LEN(run));
	same_as_single(rc, s1, sb, &ec3s, pre, 2, run, VG_ARRAY_LEN(run));
	same_as_single(rc, s1, sb, &eclt, pre, 2, run, VG_ARRAY_LEN(run));
	same_as_single(rc, s1, sb, &ecc, pre, 2, run, VG_ARRAY_LEN(run));
	same_as_single(rc, s1, sb, &ec3, pre, 2, ooo, VG_ARRAY_LEN(ooo));
	same_as_single(rc, s1, sb, &vc3, NULL, 0, vals, VG_ARRAY_LEN(vals));
	same_as_single(rc, s1, sb, &vc3, vals, 3, vals + 3, VG_ARRAY_LEN(vals) - 3);
	same_as_single(rc, s1, sb, &tp2, NULL, 0, roles, VG_ARRAY_LEN(roles));
	/* a resent batch: applied updates answer as they would alone */
	same_as_single(rc, s1, sb, &ec3, run, 4, run + 2, 3);
	free(s1);
	free(sb);
	redisFree(rc);
}

/* Run h's loop until nothing is outstanding (bounded: a held update that
 * never leaves fails the checks instead of hanging). */
static void settle(struct h *h)
{
	int64_t end = vg_mono_ms() + 20000;

	while (correlate_outstanding(h->c) > 0 && vg_mono_ms() < end) {
		struct timeval tv = { 0, 100000 };

		event_base_loopexit(h->base, &tv);
		event_base_loop(h->base, EVLOOP_ONCE);
	}
}

/*
 * The daemon sends a pass's updates when the pass ends, but while its call
 * is unanswered the next passes' updates wait and leave together when the
 * answer comes: one more call, not one per pass, and the same alerts.
 */
TEST(daemon_holds_updates_while_a_call_is_out)
{
	struct h h;
	int64_t end = vg_mono_ms() + 20000;
	uint64_t c0;

	CHECK_INT(h_init(&h,
	    "title: brute force\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 10s\n"
	    "  condition: {gte: 3}\n", 0), 0);
	while (!rds_ready(h.r) && vg_mono_ms() < end) {
		struct timeval tv = { 0, 20000 };

		event_base_loopexit(h.base, &tv);
		event_base_loop(h.base, EVLOOP_ONCE);
	}
	CHECK(rds_ready(h.r));
	c0 = rds_stats(h.r)->commands;
	/* one pass: its update leaves when the pass ends (Redis is frozen,
	 * so the answer cannot come before the next passes) */
	kill(rds_server_pid(srv), SIGSTOP);
	feed(&h, h.c, "failed", 0, "source.ip=A,n=a1");
	CHECK_INT(rds_stats(h.r)->commands, c0);
	event_base_loop(h.base, EVLOOP_NONBLOCK);
	CHECK_INT(rds_stats(h.r)->commands, c0 + 1);
	/* two more passes before its answer: their updates are held */
	feed(&h, h.c, "failed", 1000, "source.ip=A,n=a2");
	feed(&h, h.c, "failed", 1000, "source.ip=B,n=b1");
	event_base_loop(h.base, EVLOOP_NONBLOCK);
	feed(&h, h.c, "failed", 2000, "source.ip=A,n=a3");
	feed(&h, h.c, "failed", 2000, "source.ip=B,n=b2");
	feed(&h, h.c, "failed", 3000, "source.ip=B,n=b3");
	event_base_loop(h.base, EVLOOP_NONBLOCK);
	CHECK_INT(rds_stats(h.r)->commands, c0 + 1);
	CHECK_INT(correlate_outstanding(h.c), 6);
	kill(rds_server_pid(srv), SIGCONT);
	settle(&h);
	CHECK_INT(correlate_outstanding(h.c), 0);
	CHECK_INT(rds_stats(h.r)->commands, c0 + 2);
	CHECK_STR(logtext(&h),
	    "brute force @2000 count=3 source.ip=A ev=a3\n"
	    "brute force @3000 count=3 source.ip=B ev=b3\n");
	CHECK_INT(correlate_stats(h.c)->updates, 6);
	CHECK_INT(correlate_stats(h.c)->errors, 0);
	h_free(&h);
}

TEST(group_cap_drops_the_oldest)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: capped\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 1m\n"
	    "  condition: {gte: 5}\n"
	    "vigil: {max_events: 3}\n", 1), 0);
	for (int i = 0; i < 5; i++)
		feed(&h, h.c, "failed", 1000 * i, "source.ip=A,n=x");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	/* 3 kept between events (+ the new one), so gte 5 never holds */
	CHECK_STR(logtext(&h), "");
	CHECK_INT(correlate_stats(h.c)->cap_drops, 2);
	h_free(&h);
}

TEST(replay_goes_on_when_redis_freezes)
{
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *own = rds_server_start(&sc, &e);
	struct rds_conf rc = { 0 };
	struct h h;

	if (own == NULL) {
		CHECK(own != NULL);
		return;
	}
	CHECK_INT(h_init(&h,
	    "title: burst\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [failed]\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 1h\n"
	    "  condition: {gte: 40}\n", 1), 0);
	rds_free(h.r);
	correlate_free(h.c);
	rc.url = rds_server_url(own);
	rc.name = "test";
	rc.max_pending = 20;
	h.r = rds_new(h.base, &rc, &e);
	h.conf.max_outstanding = 10;
	h.conf.patience_ms = 200;
	h.c = correlate_new(h.cs, h.r, &h.conf, alert_cb, &h);
	/* frozen, not gone: the connection stays up, nothing answers */
	feed(&h, h.c, "failed", 0, "source.ip=A,n=0");
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	kill(rds_server_pid(own), SIGSTOP);
	for (int i = 1; i < 60; i++)
		feed(&h, h.c, "failed", i * 1000, "source.ip=A,n=x");
	/* still here (the updates wait in the socket and the client) */
	CHECK_INT(correlate_outstanding(h.c), 59);
	kill(rds_server_pid(own), SIGCONT);
	CHECK_INT(correlate_finish(h.c, 0, 20000), 0);
	CHECK_INT(correlate_stats(h.c)->updates, 60);
	CHECK_INT(correlate_stats(h.c)->dropped, 0);
	CHECK_STR(logtext(&h), "burst @39000 count=40 source.ip=A ev=x\n");
	h_free(&h);
	rds_server_stop(own);
}

int main(void)
{
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };

	log_init("test_correlate", LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	srv = rds_server_start(&sc, &e);
	if (srv == NULL) {
		printf("not ok - redis_server_start: %s\n", e.msg);
		return 1;
	}
	RUN(event_count_window_edges_and_consumption);
	RUN(event_count_groups_of_several_fields);
	RUN(event_count_out_of_order_and_late);
	RUN(value_count_distinct_users);
	RUN(temporal_any_order);
	RUN(temporal_ordered_sequence);
	RUN(value_sum_over_threshold);
	RUN(value_avg_percentile_median_at_window_end);
	RUN(upper_bounds_evaluated_when_the_window_ends);
	RUN(absence_fires_when_the_wait_ends);
	RUN(suppression_folds_repeats);
	RUN(chained_correlations_and_generate);
	RUN(aliases_group_across_fields);
	RUN(loader_reports_every_problem);
	RUN(loader_survives_hostile_shapes);
	RUN(script_answers_a_resent_update_the_same_way);
	RUN(batch_folds_to_the_same_answers_and_state);
	RUN(group_cap_drops_the_oldest);
	RUN(daemon_holds_updates_while_a_call_is_out);
	RUN(state_outlives_the_correlator);
	RUN(two_correlators_share_one_redis);
	RUN(outage_buffers_updates_and_catches_up);
	RUN(replay_goes_on_when_redis_freezes);
	rds_server_stop(srv);
	return unit_done();
}
