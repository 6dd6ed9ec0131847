/*
 * test_response.c: the response service against a real redis-server (on a
 * unix socket in a temporary folder) and an HTTP receiver on the same event
 * loop: incidents and their de-duplication, the cheap filter, silences,
 * grouping timers, playbook steps (redis blocklist, exec with hostile
 * values, webhook, wait, approve), escalation with and without an
 * acknowledgement, the API operations and their errors, retries, dead
 * letters, auto-resolve, and a restart that resumes the outbox and the
 * timers without paging twice.
 *
 * Waiting is always "until the condition holds or a deadline passes"; no
 * assertion depends on how long something took.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "unit.h"
#include "../../engine/config.h"
#include "../../engine/redis.h"
#include "../../engine/response.h"
#include "../../engine/response_int.h"

#define DEADLINE_MS 20000

static struct rds_server *srv;

/* ---- an HTTP receiver on the test's loop ---- */

#define MAXREQ 256

struct req {
	char path[128];
	char method[8];
	char delivery[64];
	char *body;
	int status;
};

struct recv {
	struct evhttp *http;
	int port;
	struct req reqs[MAXREQ];
	int n;
	/* scripted answers: path, then statuses ("500,200") */
	char script_path[4][64];
	int script[4][8];
	int nscript[4];
	int used[4];
};

static void recv_cb(struct evhttp_request *req, void *arg)
{
	struct recv *rv = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *path = evhttp_request_get_uri(req);
	const char *d = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Vigil-Delivery");
	int status = 200;
	struct evbuffer *out = evbuffer_new();

	for (int i = 0; i < 4; i++) {
		if (rv->nscript[i] > 0 && strcmp(rv->script_path[i], path) == 0) {
			int k = rv->used[i] < rv->nscript[i] ? rv->used[i] :
			    rv->nscript[i] - 1;

			status = rv->script[i][k];
			rv->used[i]++;
		}
	}
	if (rv->n < MAXREQ) {
		struct req *q = &rv->reqs[rv->n++];

		snprintf(q->path, sizeof(q->path), "%s", path);
		snprintf(q->method, sizeof(q->method), "%s",
		    evhttp_request_get_command(req) == EVHTTP_REQ_PUT ? "PUT" : "POST");
		snprintf(q->delivery, sizeof(q->delivery), "%s", d ? d : "");
		q->body = calloc(1, len + 1);
		evbuffer_copyout(in, q->body, len);
		q->status = status;
	}
	evbuffer_add_printf(out, "{}");
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Nope", out);
	evbuffer_free(out);
}

static int recv_open(struct recv *rv, struct event_base *base)
{
	struct evhttp_bound_socket *h;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(rv, 0, sizeof(*rv));
	rv->http = evhttp_new(base);
	evhttp_set_allowed_methods(rv->http, EVHTTP_REQ_POST | EVHTTP_REQ_PUT);
	evhttp_set_gencb(rv->http, recv_cb, rv);
	h = evhttp_bind_socket_with_handle(rv->http, "127.0.0.1", 0);
	if (h == NULL)
		return -1;
	getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&sin, &sl);
	rv->port = ntohs(sin.sin_port);
	return 0;
}

static void recv_close(struct recv *rv)
{
	for (int i = 0; i < rv->n; i++)
		free(rv->reqs[i].body);
	if (rv->http != NULL)
		evhttp_free(rv->http);
	memset(rv, 0, sizeof(*rv));
}

static void recv_script(struct recv *rv, const char *path, const char *seq)
{
	for (int i = 0; i < 4; i++) {
		if (rv->nscript[i] == 0) {
			snprintf(rv->script_path[i], sizeof(rv->script_path[i]), "%s", path);
			for (const char *p = seq; *p && rv->nscript[i] < 8; ) {
				rv->script[i][rv->nscript[i]++] = atoi(p);
				p += strcspn(p, ",");
				if (*p == ',')
					p++;
			}
			return;
		}
	}
}

static int recv_count(const struct recv *rv, const char *path, int status)
{
	int n = 0;

	for (int i = 0; i < rv->n; i++) {
		if (strcmp(rv->reqs[i].path, path) == 0 &&
		    (status == 0 || rv->reqs[i].status == status))
			n++;
	}
	return n;
}

/* The k-th request to path (0-based), parsed. */
static json_t *recv_json(const struct recv *rv, const char *path, int k)
{
	for (int i = 0; i < rv->n; i++) {
		if (strcmp(rv->reqs[i].path, path) == 0 && k-- == 0)
			return json_loads(rv->reqs[i].body, 0, NULL);
	}
	return NULL;
}

static const char record_sh[] =
    "#!/bin/sh\n"
    "out=\"$(dirname \"$0\")/../record.out\"\n"
    "for a in \"$@\"; do printf '[%s]\\n' \"$a\" >> \"$out\"; done\n"
    "cat > \"$(dirname \"$0\")/../record.stdin\"\n"
    "echo recorded\n";

/* ---- the fixture ---- */

struct fx {
	struct event_base *base;
	struct rds *rds;
	struct config *cfg;
	struct response *r;
	struct recv rv;
	char dir[256];
	struct event *tick;
	char raised[8][4096];
	int nraised;
};

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void on_alert(void *arg, const char *json, size_t len)
{
	struct fx *f = arg;

	if (f->nraised < 8)
		snprintf(f->raised[f->nraised++], sizeof(f->raised[0]), "%.*s",
		    (int)len, json);
}

/* Run the loop until cond() or the deadline; returns cond(). */
static int loop_until(struct fx *f, int (*cond)(struct fx *), int64_t ms)
{
	int64_t end = vg_mono_ms() + ms;

	while (!cond(f) && vg_mono_ms() < end)
		event_base_loop(f->base, EVLOOP_ONCE);
	return cond(f);
}

static void write_file(const char *dir, const char *name, const char *text,
    int mode)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	if (fp == NULL)
		return;
	fputs(text, fp);
	fclose(fp);
	chmod(p, (mode_t)mode);
}

/* Flush Redis (synchronously, through the client) */
static int flushed;
static void flush_cb(void *arg, const struct redisReply *rep)
{
	(void)arg;
	(void)rep;
	flushed = 1;
}

static int is_flushed(struct fx *f)
{
	(void)f;
	return flushed;
}

/* text with @PORT@ (the receiver's port) and @DIR@ (the temp folder)
 * filled in, into y */
static void subst(const struct fx *f, const char *text, struct buf *y)
{
	for (const char *p = text; *p; p++) {
		if (strncmp(p, "@PORT@", 6) == 0) {
			buf_printf(y, "%d", f->rv.port);
			p += 5;
		} else if (strncmp(p, "@DIR@", 5) == 0) {
			buf_adds(y, f->dir);
			p += 4;
		} else {
			buf_addc(y, *p);
		}
	}
}

/*
 * Start a fixture: config YAML and playbook text (may be NULL), both with
 * @PORT@ and @DIR@ filled in; bin/record is an allowed exec program.
 */
static int fx_start(struct fx *f, const char *yaml, const char *playbook)
{
	struct vg_diag d;
	struct vg_err err = { 0 };
	struct rds_conf rc;
	struct response_conf c;
	char path[512];
	struct buf y;
	struct timeval tv = { 0, 20000 };

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-resp.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	chmod(f->dir, 0755);
	f->base = event_base_new();
	f->tick = event_new(f->base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(f->tick, &tv);
	if (recv_open(&f->rv, f->base) < 0)
		return -1;
	memset(&rc, 0, sizeof(rc));
	rc.url = rds_server_url(srv);
	rc.name = "response";
	f->rds = rds_new(f->base, &rc, &err);
	{
		const char *argv[1] = { "FLUSHALL" };

		flushed = 0;
		rds_cmd(f->rds, RDS_RETRY, flush_cb, NULL, 1, argv, NULL);
		loop_until(f, is_flushed, DEADLINE_MS);
	}
	buf_init(&y);
	snprintf(path, sizeof(path), "%s/pb", f->dir);
	mkdir(path, 0755);
	if (playbook != NULL) {
		subst(f, playbook, &y);
		write_file(path, "p.yml", buf_cstr(&y), 0644);
		buf_clear(&y);
	}
	snprintf(path, sizeof(path), "%s/bin", f->dir);
	mkdir(path, 0755);
	write_file(path, "record", record_sh, 0755);
	write_file(path, "slow", "#!/bin/sh\nsleep 30\n", 0755);
	subst(f, yaml, &y);
	snprintf(path, sizeof(path), "%s/vigil.yml", f->dir);
	vg_diag_init(&d, stderr);
	f->cfg = config_load_buffer(path, y.p, y.len, &d);
	buf_free(&y);
	if (f->cfg == NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	c.cfg = f->cfg;
	c.base = f->base;
	c.rds = f->rds;
	c.instance = "test";
	c.on_alert = on_alert;
	c.arg = f;
	f->r = response_new(&c, &d, &err);
	if (f->r == NULL) {
		fprintf(stderr, "  response_new: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* Stop the response (as a crash would leave Redis: nothing finished). */
static void fx_stop_response(struct fx *f)
{
	response_free(f->r);
	f->r = NULL;
}

static void fx_restart_response(struct fx *f)
{
	struct vg_diag d;
	struct vg_err err = { 0 };
	struct response_conf c;

	vg_diag_init(&d, stderr);
	memset(&c, 0, sizeof(c));
	c.cfg = f->cfg;
	c.base = f->base;
	c.rds = f->rds;
	c.instance = "test";
	c.on_alert = on_alert;
	c.arg = f;
	f->r = response_new(&c, &d, &err);
}

static void fx_end(struct fx *f)
{
	char cmd[600];

	response_free(f->r);
	rds_free(f->rds);
	recv_close(&f->rv);
	config_free(f->cfg);
	if (f->tick != NULL)
		event_free(f->tick);
	if (f->base != NULL)
		event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (f->dir[0] && system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", f->dir);
}

/* ---- alerts ---- */

static int seq;

/* An alert line in the fixed schema. */
static void alert(struct fx *f, const char *rule, const char *level,
    const char *kind, const char *group, const char *event)
{
	char line[4096];

	snprintf(line, sizeof(line), "{\"id\":\"00000000-0000-7000-8000-%012d\","
	    "\"@timestamp\":\"2026-11-23T00:00:05.000Z\",\"kind\":\"%s\","
	    "\"rule\":{\"id\":\"%s\",\"title\":\"Rule %s\",\"level\":\"%s\","
	    "\"tags\":[\"attack.t1110\"]},\"group\":%s,\"count\":1,\"event\":%s}\n",
	    ++seq, kind, rule, rule, level, group ? group : "{}",
	    event ? event : "{\"host\":{\"hostname\":\"web1\"}}");
	response_submit(f->r, line, strlen(line));
}

/* ---- API calls ---- */

struct answer {
	int status;
	json_t *body;
	int done;
};

static void answer_cb(void *arg, int status, const char *body, size_t len)
{
	struct answer *a = arg;

	a->status = status;
	a->body = json_loadb(body, len, 0, NULL);
	a->done = 1;
}

static struct answer *cur_answer;
static int answered(struct fx *f)
{
	(void)f;
	return cur_answer->done;
}

static void wait_answer(struct fx *f, struct answer *a)
{
	cur_answer = a;
	loop_until(f, answered, DEADLINE_MS);
}

static void answer_clear(struct answer *a)
{
	json_decref(a->body);
	memset(a, 0, sizeof(*a));
}

/* GET /api/v1/incidents?state=...: the list (owned), waiting for it. */
static json_t *incidents(struct fx *f, const char *state)
{
	struct answer a = { 0 };
	json_t *l;

	response_incidents(f->r, state, 100, answer_cb, &a);
	wait_answer(f, &a);
	l = json_incref(json_object_get(a.body, "incidents"));
	answer_clear(&a);
	return l;
}

static json_t *incident(struct fx *f, const char *id)
{
	struct answer a = { 0 };
	json_t *v;

	response_incident(f->r, id, answer_cb, &a);
	wait_answer(f, &a);
	v = a.status == 200 ? json_incref(a.body) : NULL;
	answer_clear(&a);
	return v;
}

static long long jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* How many timeline entries of incident id have this type. */
static int tl_count(struct fx *f, const char *id, const char *type)
{
	json_t *v = incident(f, id);
	const json_t *e;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(v, "timeline"), i, e) {
		if (strcmp(jstr(e, "type"), type) == 0)
			n++;
	}
	json_decref(v);
	return n;
}

/* conditions over the fixture (set before loop_until) */
static const char *want_path;
static int want_n;
static int got_requests(struct fx *f)
{
	return recv_count(&f->rv, want_path, 200) >= want_n;
}

static int quiet(struct fx *f)
{
	return f->r != NULL && notify_outstanding(f->r->notify) == 0 &&
	    rds_outstanding(f->rds) == 0 && f->r->njobs == 0 && !f->r->armed;
}

/* Let the loop settle: the queue, jobs and outbox empty. */
static void settle(struct fx *f)
{
	loop_until(f, quiet, DEADLINE_MS);
}

static const char *want_state, *want_id;
static int state_is(struct fx *f)
{
	json_t *v = incident(f, want_id);
	int ok = v != NULL && strcmp(jstr(v, "state"), want_state) == 0;

	json_decref(v);
	return ok;
}

static int want_incidents;
static int have_incidents(struct fx *f)
{
	json_t *l = incidents(f, NULL);
	int ok = (int)json_array_size(l) >= want_incidents;

	json_decref(l);
	return ok;
}

/* ---- configurations ---- */

static const char base_yaml[] =
    "inputs: []\n"
    "http: {listen: \"\"}\n"
    "playbooks: [pb]\n"
    "response:\n"
    "  group_wait: 0\n"
    "  group_interval: 1h\n"
    "  repeat_interval: 0\n"
    "  min_level: high\n"
    "  exec_dirs: [bin]\n"
    "  protected: [192.0.2.1]\n"
    "channels:\n"
    "  hook: {type: webhook, url: \"http://127.0.0.1:@PORT@/hook\", retry: {initial: 50ms, max: 100ms}}\n"
    "  flaky: {type: webhook, url: \"http://127.0.0.1:@PORT@/flaky\", retry: {initial: 50ms, max: 100ms}}\n"
    "  gone: {type: webhook, url: \"http://127.0.0.1:@PORT@/gone\"}\n"
    "  first: {type: webhook, url: \"http://127.0.0.1:@PORT@/first\"}\n"
    "  second: {type: webhook, url: \"http://127.0.0.1:@PORT@/second\"}\n"
    "oncall:\n"
    "  users:\n"
    "    alice: {channels: [first]}\n"
    "    bob: {channels: [second]}\n"
    "    carol: {channels: [hook]}\n"
    "  groups:\n"
    "    leads: [carol]\n"
    "  escalation_policies:\n"
    "    esc:\n"
    "      steps:\n"
    "        - {users: [alice]}\n"
    "        - {users: [bob], delay: 1s}\n";

static const char hook_pb[] =
    "name: page-hook\n"
    "match: {rules: [r-hook]}\n"
    "steps:\n"
    "  - id: page\n"
    "    notify: {channel: hook, summary: \"guessing from {{source.ip}}\"}\n"
    "---\n"
    "name: page-flaky\n"
    "match: {rules: [r-flaky]}\n"
    "steps:\n"
    "  - notify: {channel: flaky}\n"
    "---\n"
    "name: page-gone\n"
    "match: {rules: [r-gone]}\n"
    "steps:\n"
    "  - notify: {channel: gone}\n"
    "---\n"
    "name: escalate\n"
    "match: {rules: [r-esc]}\n"
    "group_by: [source.ip]\n"
    "steps:\n"
    "  - notify: {policy: esc, summary: \"esc {{source.ip}}\"}\n"
    "---\n"
    "name: contain\n"
    "match: {rules: [r-contain]}\n"
    "group_by: [source.ip]\n"
    "steps:\n"
    "  - id: block\n"
    "    redis: {blocklist: ssh, add: \"{{source.ip}}\", ttl: 1h}\n"
    "    on_failure: run\n"
    "  - id: run\n"
    "    exec: [record, \"{{user.name}}\", \"{{source.ip}}\"]\n"
    "  - id: tell\n"
    "    webhook: {url: \"http://127.0.0.1:@PORT@/fw\", json: {block: \"{{source.ip}}\", n: 1}}\n"
    "  - id: pause\n"
    "    wait: 1s\n"
    "  - id: ask\n"
    "    approve: {group: leads, summary: \"unblock {{source.ip}}?\"}\n"
    "  - id: done\n"
    "    notify: {channel: hook, summary: \"approved\"}\n";

static int fx_std(struct fx *f)
{
	return fx_start(f, base_yaml, hook_pb);
}

/* ---- tests ---- */

TEST(filter_and_dedup)
{
	struct fx f;
	json_t *l, *v;

	if (fx_std(&f) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	/* the cheap filter: low detections nobody wants stop at submit */
	{
		const char *low = "{\"id\":\"x\",\"@timestamp\":\"t\",\"kind\":\"detection\","
		    "\"rule\":{\"id\":\"r-none\",\"title\":\"T\",\"level\":\"low\",\"tags\":[]},"
		    "\"group\":{},\"count\":1,\"event\":{}}";
		const char *named = "{\"id\":\"x\",\"@timestamp\":\"t\",\"kind\":\"detection\","
		    "\"rule\":{\"id\":\"r-hook\",\"title\":\"T\",\"level\":\"low\",\"tags\":[]},"
		    "\"group\":{},\"count\":1,\"event\":{\"source\":{\"ip\":\"1.2.3.4\"}}}";
		const char *corr = "{\"id\":\"x\",\"@timestamp\":\"t\",\"kind\":\"correlation\","
		    "\"rule\":{\"id\":\"r-c\",\"title\":\"T\",\"level\":\"low\",\"tags\":[]},"
		    "\"group\":{\"source.ip\":\"9.9.9.9\"},\"count\":5,\"event\":{}}";

		/* quotes and backslashes escaped in the title: still read
		 * through to the level */
		const char *esc = "{\"id\":\"x\",\"@timestamp\":\"t\",\"kind\":\"detection\","
		    "\"rule\":{\"id\":\"r-none\",\"title\":\"a \\\"b\\\" c\\\\\","
		    "\"level\":\"low\",\"tags\":[]},\"group\":{},\"count\":1,\"event\":{}}";

		CHECK_INT(response_submit(f.r, low, strlen(low)), 0);
		CHECK_INT(response_submit(f.r, esc, strlen(esc)), 0);
		CHECK_INT(response_submit(f.r, named, strlen(named)), 1);
		CHECK_INT(response_submit(f.r, corr, strlen(corr)), 1);
		CHECK_INT(response_submit(f.r, "{\"a\":\n1}", 8), -1);
	}
	/* three high alerts of one rule and group: one incident; one of them
	 * comes in a buffer of lines with one nobody wants */
	for (int i = 0; i < 2; i++)
		alert(&f, "r-high", "high", "detection", "{\"source.ip\":\"10.0.0.1\"}",
		    NULL);
	{
		const char *lines =
		    "{\"id\":\"y\",\"@timestamp\":\"t\",\"kind\":\"detection\","
		    "\"rule\":{\"id\":\"r-none\",\"title\":\"T\",\"level\":\"low\","
		    "\"tags\":[]},\"group\":{},\"count\":1,\"event\":{}}\n"
		    "{\"id\":\"z\",\"@timestamp\":\"t\",\"kind\":\"detection\","
		    "\"rule\":{\"id\":\"r-high\",\"title\":\"Rule r-high\","
		    "\"level\":\"high\",\"tags\":[]},\"group\":{\"source.ip\":"
		    "\"10.0.0.1\"},\"count\":1,\"event\":{}}\n";

		CHECK_INT(response_submit_lines(f.r, lines, strlen(lines)), 1);
	}
	/* the same lines cut by their producer (response_submit_ends): two
	 * nobody wants around one more of the first incident, that one
	 * ending in CR LF; a NULL service takes nothing */
	{
		const char *low =
		    "{\"id\":\"y\",\"@timestamp\":\"t\",\"kind\":\"detection\","
		    "\"rule\":{\"id\":\"r-none\",\"title\":\"T\",\"level\":\"low\","
		    "\"tags\":[]},\"group\":{},\"count\":1,\"event\":{}}\n";
		const char *high =
		    "{\"id\":\"w\",\"@timestamp\":\"t\",\"kind\":\"detection\","
		    "\"rule\":{\"id\":\"r-high\",\"title\":\"Rule r-high\","
		    "\"level\":\"high\",\"tags\":[]},\"group\":{\"source.ip\":"
		    "\"10.0.0.1\"},\"count\":1,\"event\":{}}\r\n";
		char lines[1024];
		size_t ends[3];

		snprintf(lines, sizeof(lines), "%s%s%s", low, high, low);
		ends[0] = strlen(low);
		ends[1] = ends[0] + strlen(high);
		ends[2] = ends[1] + strlen(low);
		CHECK_INT(response_submit_ends(NULL, lines, ends, 3), 0);
		CHECK_INT(response_submit_ends(f.r, lines, ends, 3), 1);
	}
	alert(&f, "r-high", "high", "detection", "{\"source.ip\":\"10.0.0.2\"}", NULL);
	alert(&f, "r-med", "medium", "detection", "{}", NULL);
	want_incidents = 4;
	loop_until(&f, have_incidents, DEADLINE_MS);
	settle(&f);
	l = incidents(&f, "open");
	CHECK_INT(json_array_size(l), 4);
	{
		size_t i;
		const json_t *e;
		int seen = 0;

		json_array_foreach(l, i, e) {
			if (strcmp(jstr(e, "key"), "r|r-high|source.ip=10.0.0.1") == 0) {
				CHECK_INT(jint(e, "alerts"), 4);
				CHECK_STR(jstr(e, "state"), "triggered");
				CHECK_STR(jstr(e, "urgency"), "high");
				CHECK_STR(jstr(e, "summary"), "Rule r-high (source.ip=10.0.0.1)");
				seen |= 1;
			}
			if (strcmp(jstr(e, "key"), "r|r-high|source.ip=10.0.0.2") == 0) {
				CHECK_INT(jint(e, "alerts"), 1);
				seen |= 2;
			}
			if (strcmp(jstr(e, "key"), "r|r-c|source.ip=9.9.9.9") == 0) {
				CHECK_STR(jstr(e, "kind"), "correlation");
				seen |= 4;
			}
			if (strcmp(jstr(e, "key"), "r|r-hook") == 0)
				seen |= 8;
		}
		CHECK_INT(seen, 15);
	}
	json_decref(l);
	/* the medium detection no playbook wants stopped at submit too */
	{
		struct buf m;

		buf_init(&m);
		response_metrics(f.r, &m);
		CHECK(strstr(buf_cstr(&m),
		    "vigil_response_alerts_total{result=\"below_level\"} 0\n") != NULL);
		CHECK(strstr(buf_cstr(&m),
		    "vigil_response_alerts_total{result=\"filtered\"} 6\n") != NULL);
		CHECK(strstr(buf_cstr(&m),
		    "vigil_incidents_total{event=\"created\"} 4\n") != NULL);
		buf_free(&m);
	}
	v = incident(&f, "1");
	CHECK(v != NULL);
	json_decref(v);
	CHECK(incident(&f, "999") == NULL);
	fx_end(&f);
}

TEST(burst_is_one_page)
{
	struct fx f;
	json_t *p;

	if (fx_std(&f) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	for (int i = 0; i < 50; i++)
		alert(&f, "r-hook", "low", "detection", "{}",
		    "{\"source\":{\"ip\":\"203.0.113.9\"},\"host\":{\"hostname\":\"gw\"}}");
	want_path = "/hook";
	want_n = 1;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	settle(&f);
	CHECK_INT(recv_count(&f.rv, "/hook", 0), 1);
	p = recv_json(&f.rv, "/hook", 0);
	CHECK_STR(jstr(p, "summary"), "guessing from 203.0.113.9");
	CHECK_STR(jstr(p, "event"), "trigger");
	CHECK_STR(jstr(p, "source"), "gw");
	CHECK_STR(jstr(json_object_get(p, "incident"), "id"), "1");
	CHECK_STR(jstr(json_object_get(p, "incident"), "dedup_key"), "vigil:inc:1");
	CHECK_STR(jstr(json_object_get(json_object_get(p, "alert"), "rule"), "id"),
	    "r-hook");
	json_decref(p);
	{
		json_t *v = incident(&f, "1");

		CHECK_INT(jint(v, "alerts"), 50);
		CHECK_INT(jint(v, "pages"), 1);
		CHECK_INT(jint(json_object_get(v, "notifications"), "sent"), 1);
		json_decref(v);
	}
	CHECK_INT(tl_count(&f, "1", "alert"), 50);
	CHECK_INT(tl_count(&f, "1", "notification_sent"), 1);
	CHECK_INT(tl_count(&f, "1", "playbook_completed"), 1);
	fx_end(&f);
}


TEST(retry_then_one_delivery_and_dead_letter)
{
	struct fx f;

	if (fx_std(&f) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	recv_script(&f.rv, "/flaky", "500,200");
	recv_script(&f.rv, "/gone", "404");
	alert(&f, "r-flaky", "low", "detection", "{}", NULL);
	want_path = "/flaky";
	want_n = 1;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	settle(&f);
	CHECK_INT(recv_count(&f.rv, "/flaky", 500), 1);
	CHECK_INT(recv_count(&f.rv, "/flaky", 200), 1);
	/* the same delivery id both times: receivers can drop duplicates */
	CHECK_STR(f.rv.reqs[0].delivery, f.rv.reqs[1].delivery);
	CHECK_INT(tl_count(&f, "1", "notification_retry"), 1);
	CHECK_INT(tl_count(&f, "1", "notification_sent"), 1);
	/* 404: a dead letter, raised as an alert of its own */
	alert(&f, "r-gone", "low", "detection", "{}", NULL);
	want_incidents = 3;
	CHECK(loop_until(&f, have_incidents, DEADLINE_MS));
	settle(&f);
	CHECK_INT(recv_count(&f.rv, "/gone", 404), 1);
	CHECK_INT(f.nraised, 1);
	{
		json_t *a = json_loads(f.raised[0], 0, NULL);
		json_t *l = incidents(&f, "open");
		const json_t *e;
		size_t i;
		int found = 0;

		CHECK_STR(jstr(json_object_get(a, "rule"), "id"),
		    "vigil-notification-dead-letter");
		CHECK_STR(jstr(json_object_get(a, "group"), "vigil.channel"), "gone");
		CHECK_STR(jstr(json_object_get(json_object_get(json_object_get(a,
		    "event"), "vigil"), "notification"), "error"), "HTTP 404: {}");
		json_array_foreach(l, i, e) {
			if (strcmp(jstr(json_object_get(e, "rule"), "id"),
			    "vigil-notification-dead-letter") == 0) {
				found++;
				CHECK_STR(jstr(e, "urgency"), "high");
			}
		}
		CHECK_INT(found, 1);
		json_decref(a);
		json_decref(l);
	}
	CHECK_INT(tl_count(&f, "2", "notification_failed"), 1);
	fx_end(&f);
}

static int esc_pages_at(struct fx *f)
{
	return recv_count(&f->rv, "/second", 200) >= want_n;
}

TEST(escalation_and_ack)
{
	struct fx f;
	struct answer a = { 0 };
	json_t *p;

	if (fx_std(&f) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	/* incident 1: nobody acknowledges; bob is paged after his delay */
	alert(&f, "r-esc", "low", "detection", "{}",
	    "{\"source\":{\"ip\":\"198.51.100.1\"}}");
	want_path = "/first";
	want_n = 1;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	/* incident 2: acknowledged as soon as alice is paged */
	alert(&f, "r-esc", "low", "detection", "{}",
	    "{\"source\":{\"ip\":\"198.51.100.2\"}}");
	want_n = 2;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	response_ack(f.r, "2", "alice", "looking", answer_cb, &a);
	wait_answer(&f, &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(jstr(a.body, "state"), "acknowledged");
	CHECK_STR(jstr(json_object_get(a.body, "acknowledged"), "by"), "alice");
	answer_clear(&a);
	/* incident 3, after the ack: its step-2 page comes after incident 2's
	 * would have, so once it is here, incident 2's would be too */
	alert(&f, "r-esc", "low", "detection", "{}",
	    "{\"source\":{\"ip\":\"198.51.100.3\"}}");
	want_n = 2;
	CHECK(loop_until(&f, esc_pages_at, DEADLINE_MS));
	settle(&f);
	CHECK_INT(recv_count(&f.rv, "/second", 200), 2);
	for (int k = 0; k < 2; k++) {
		p = recv_json(&f.rv, "/second", k);
		CHECK(strcmp(jstr(json_object_get(p, "incident"), "id"), "2") != 0);
		CHECK_STR(jstr(json_array_get(json_object_get(p, "recipients"), 0),
		    "id"), "bob");
		json_decref(p);
	}
	/* alice: three pages and the acknowledgement of incident 2 */
	CHECK_INT(recv_count(&f.rv, "/first", 200), 4);
	{
		int acks = 0;

		for (int k = 0; k < 4; k++) {
			p = recv_json(&f.rv, "/first", k);
			if (strcmp(jstr(p, "event"), "acknowledge") == 0) {
				acks++;
				CHECK_STR(jstr(json_object_get(p, "incident"), "id"), "2");
				CHECK_STR(jstr(json_array_get(json_object_get(p,
				    "recipients"), 0), "id"), "alice");
			}
			json_decref(p);
		}
		CHECK_INT(acks, 1);
	}
	p = incident(&f, "1");
	CHECK_STR(jstr(json_object_get(p, "escalation"), "policy"), "esc");
	CHECK_INT(jint(json_object_get(p, "escalation"), "pages_sent"), 2);
	json_decref(p);
	CHECK_INT(tl_count(&f, "2", "escalated"), 1);
	CHECK_INT(tl_count(&f, "1", "escalated"), 2);
	fx_end(&f);
}

TEST(api_errors)
{
	struct fx f;
	struct answer a = { 0 };

	if (fx_std(&f) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	alert(&f, "r-high", "high", "detection", "{}", NULL);
	want_incidents = 1;
	CHECK(loop_until(&f, have_incidents, DEADLINE_MS));
#define CALL(expr, st, msg) do {                                             \
		expr;                                                        \
		wait_answer(&f, &a);                                         \
		CHECK_INT(a.status, st);                                     \
		if (msg != NULL)                                             \
			CHECK_STR(jstr(a.body, "error"), (const char *)msg); \
		answer_clear(&a);                                            \
	} while (0)
	CALL(response_ack(f.r, "42", "alice", NULL, answer_cb, &a), 404,
	    "no such incident");
	CALL(response_ack(f.r, "../1", "alice", NULL, answer_cb, &a), 404,
	    "no such incident");
	CALL(response_ack(f.r, "1", "", NULL, answer_cb, &a), 400,
	    "by: required (who), at most 128 characters");
	CALL(response_ack(f.r, "1", "al\nice", NULL, answer_cb, &a), 400,
	    "by: required (who), at most 128 characters");
	CALL(response_ack(f.r, "1", "alice", NULL, answer_cb, &a), 200, NULL);
	CALL(response_ack(f.r, "1", "bob", NULL, answer_cb, &a), 409,
	    "the incident is already acknowledged");
	CALL(response_resolve(f.r, "1", "bob", "false positive", answer_cb, &a),
	    200, NULL);
	CALL(response_resolve(f.r, "1", "bob", NULL, answer_cb, &a), 409,
	    "the incident is already resolved");
	CALL(response_ack(f.r, "1", "bob", NULL, answer_cb, &a), 409,
	    "the incident is already resolved");
	CALL(response_incidents(f.r, "closed", 10, answer_cb, &a), 400,
	    "state: expected open, triggered, acknowledged or resolved");
	CALL(response_incidents(f.r, NULL, 0, answer_cb, &a), 400,
	    "limit: expected 1 to 1000");
	CALL(response_approve(f.r, "nope", 1, "carol", NULL, answer_cb, &a), 404,
	    "no such approval");
	CALL(response_approve(f.r, "01a20936-7186-7340-8a3f-f8e20aba3cf8", 1,
	    "carol", NULL, answer_cb, &a), 404, "no such approval");
	CALL(response_silence_delete(f.r, "nope", answer_cb, &a), 404,
	    "no such silence");
	CALL(response_silence_add(f.r, "[]", 2, answer_cb, &a), 400,
	    "the body must be a JSON object");
	CALL(response_silence_add(f.r, "{\"matchers\":{}}", 15, answer_cb, &a), 400,
	    "matchers: at least one of rules, levels, tags or fields is required "
	    "(a silence must not silence everything)");
	{
		const char *b1 = "{\"matchers\":{\"rules\":[\"r\"]},\"author\":\"a\","
		    "\"comment\":\"c\"}";
		const char *b2 = "{\"matchers\":{\"rules\":[\"r\"]},\"duration\":\"2h\","
		    "\"comment\":\"c\"}";
		const char *b3 = "{\"matchers\":{\"rules\":[\"r\"]},\"duration\":\"2h\","
		    "\"author\":\"a\"}";
		const char *b4 = "{\"matchers\":{\"levels\":[\"severe\"]},\"duration\":\"2h\","
		    "\"author\":\"a\",\"comment\":\"c\"}";
		const char *b5 = "{\"matchers\":{\"rules\":[\"r\"]},\"ends_at\":"
		    "\"2001-01-01T00:00:00Z\",\"author\":\"a\",\"comment\":\"c\"}";
		const char *b6 = "{\"matchers\":{\"rule\":[\"r\"]},\"duration\":\"2h\","
		    "\"author\":\"a\",\"comment\":\"c\"}";

		CALL(response_silence_add(f.r, b1, strlen(b1), answer_cb, &a), 400,
		    "ends_at (an ISO 8601 time) or duration (like 2h) is required: a "
		    "silence must end");
		CALL(response_silence_add(f.r, b2, strlen(b2), answer_cb, &a), 400,
		    "author: required (who silences)");
		CALL(response_silence_add(f.r, b3, strlen(b3), answer_cb, &a), 400,
		    "comment: required (why)");
		CALL(response_silence_add(f.r, b4, strlen(b4), answer_cb, &a), 400,
		    "matchers.levels: 'severe' is not one of informational, low, "
		    "medium, high, critical");
		CALL(response_silence_add(f.r, b5, strlen(b5), answer_cb, &a), 400,
		    "ends_at: the silence would already be over");
		CALL(response_silence_add(f.r, b6, strlen(b6), answer_cb, &a), 400,
		    "matchers: unknown key 'rule' (expected rules, levels, tags or "
		    "fields)");
	}
#undef CALL
	fx_end(&f);
}

/* ---- direct Redis reads ---- */

struct rget {
	int done;
	long long i;
	char s[512];
	size_t n;
};

static void rget_cb(void *arg, const struct redisReply *rep)
{
	struct rget *g = arg;

	g->done = 1;
	if (rep == NULL)
		return;
	if (rep->type == REDIS_REPLY_INTEGER)
		g->i = rep->integer;
	else if (rep->type == REDIS_REPLY_STRING)
		snprintf(g->s, sizeof(g->s), "%.*s", (int)rep->len, rep->str);
	else if (rep->type == REDIS_REPLY_ARRAY)
		g->n = rep->elements;
}

static struct rget *cur_get;
static int got_reply(struct fx *f)
{
	(void)f;
	return cur_get->done;
}

static struct rget rget_cmd(struct fx *f, int argc, const char **argv)
{
	struct rget g;

	memset(&g, 0, sizeof(g));
	rds_cmd(f->rds, RDS_RETRY, rget_cb, &g, argc, argv, NULL);
	cur_get = &g;
	loop_until(f, got_reply, DEADLINE_MS);
	return g;
}

static char *slurp(const char *dir, const char *name)
{
	char p[512];
	size_t len;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return vg_read_file(p, &len);
}

static int approval_pending(struct fx *f)
{
	return recv_count(&f->rv, "/hook", 200) >= 1;
}

static int run_over_cond(struct fx *f)
{
	return recv_count(&f->rv, "/hook", 200) >= 2;
}

TEST(containment_playbook)
{
	struct fx f;
	struct answer a = { 0 };
	char *rec;
	const char *aid;
	json_t *p, *v;

	if (fx_std(&f) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	/* a hostile user name reaches the program as one literal argument */
	alert(&f, "r-contain", "low", "detection", "{}",
	    "{\"source\":{\"ip\":\"203.0.113.7\"},"
	    "\"user\":{\"name\":\"$(touch /tmp/pwned); rm -rf / ; id\"}}");
	want_path = "/fw";
	want_n = 1;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	/* the approval request goes to the group (carol: the hook channel) */
	CHECK(loop_until(&f, approval_pending, DEADLINE_MS));
	p = recv_json(&f.rv, "/hook", 0);
	CHECK_STR(jstr(p, "summary"), "Approval needed (leads): unblock 203.0.113.7?");
	aid = jstr(json_object_get(p, "details"), "approval");
	CHECK_INT(strlen(aid), 36);
	/* the blocklist entry expires in an hour */
	{
		const char *zs[3] = { "ZSCORE", "vigil:blocklist:ssh", "203.0.113.7" };
		const char *tt[2] = { "PTTL", "vigil:blocklist:ssh" };
		struct rget g = rget_cmd(&f, 3, zs);
		long long exp = strtoll(g.s, NULL, 10), now = vg_now_ms();

		CHECK(exp > now + 3500000 && exp <= now + 3600000);
		g = rget_cmd(&f, 2, tt);
		CHECK(g.i > 3500000 && g.i <= 3600000);
	}
	rec = slurp(f.dir, "record.out");
	CHECK_STR(rec, "[$(touch /tmp/pwned); rm -rf / ; id]\n[203.0.113.7]\n");
	free(rec);
	CHECK(access("/tmp/pwned", F_OK) != 0);
	rec = slurp(f.dir, "record.stdin");
	{
		json_t *in = rec ? json_loads(rec, 0, NULL) : NULL;

		CHECK_STR(jstr(json_object_get(in, "rule"), "id"), "r-contain");
		json_decref(in);
	}
	free(rec);
	{
		json_t *fw = recv_json(&f.rv, "/fw", 0);

		CHECK_STR(jstr(fw, "block"), "203.0.113.7");
		CHECK_INT(jint(fw, "n"), 1);
		json_decref(fw);
	}
	/* only the group may approve */
	response_approve(f.r, aid, 1, "bob", NULL, answer_cb, &a);
	wait_answer(&f, &a);
	CHECK_INT(a.status, 403);
	CHECK_STR(jstr(a.body, "error"), "bob is not in group leads");
	answer_clear(&a);
	response_approvals(f.r, answer_cb, &a);
	wait_answer(&f, &a);
	CHECK_INT(a.status, 200);
	CHECK_INT(json_array_size(json_object_get(a.body, "approvals")), 1);
	CHECK_STR(jstr(json_array_get(json_object_get(a.body, "approvals"), 0),
	    "state"), "pending");
	answer_clear(&a);
	response_approve(f.r, aid, 1, "carol", "ok", answer_cb, &a);
	wait_answer(&f, &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(jstr(a.body, "state"), "approved");
	answer_clear(&a);
	response_approve(f.r, aid, 0, "carol", NULL, answer_cb, &a);
	wait_answer(&f, &a);
	CHECK_INT(a.status, 409);
	CHECK_STR(jstr(a.body, "error"), "the approval is already approved");
	answer_clear(&a);
	json_decref(p);
	CHECK(loop_until(&f, run_over_cond, DEADLINE_MS));
	settle(&f);
	p = recv_json(&f.rv, "/hook", 1);
	CHECK_STR(jstr(p, "summary"), "approved");
	json_decref(p);
	v = incident(&f, "1");
	{
		const json_t *run = json_array_get(json_object_get(v, "runs"), 0);
		const json_t *e;
		size_t i;
		int steps = 0;

		CHECK_STR(jstr(run, "playbook"), "contain");
		CHECK_STR(jstr(run, "outcome"), "completed");
		CHECK_INT(jint(run, "steps_run"), 6);
		json_array_foreach(json_object_get(v, "timeline"), i, e) {
			if (strcmp(jstr(e, "type"), "step") != 0)
				continue;
			steps++;
			CHECK(json_is_true(json_object_get(e, "ok")));
			if (strcmp(jstr(e, "step"), "run") == 0) {
				CHECK_STR(jstr(e, "detail"), "exit 0");
				CHECK_STR(jstr(e, "stdout"), "recorded\n");
			}
			if (strcmp(jstr(e, "step"), "ask") == 0)
				CHECK_STR(jstr(e, "detail"), "approved by carol");
		}
		CHECK_INT(steps, 6);
	}
	json_decref(v);
	/* a protected address is never blocked: the step fails, the run
	 * goes on (on_failure: run) and the exec refuses it as well */
	alert(&f, "r-contain", "low", "detection", "{}",
	    "{\"source\":{\"ip\":\"192.0.2.1\"},\"user\":{\"name\":\"x\"}}");
	want_incidents = 2;
	CHECK(loop_until(&f, have_incidents, DEADLINE_MS));
	settle(&f);
	v = incident(&f, "2");
	{
		const json_t *e;
		size_t i;
		int fails = 0;

		json_array_foreach(json_object_get(v, "timeline"), i, e) {
			if (strcmp(jstr(e, "type"), "step") == 0 &&
			    json_is_false(json_object_get(e, "ok"))) {
				fails++;
				CHECK(strstr(jstr(e, "detail"), "192.0.2.1 is protected") != NULL);
			}
		}
		CHECK_INT(fails, 2);
		CHECK_STR(jstr(json_array_get(json_object_get(v, "runs"), 0), "outcome"),
		    "failed");
	}
	json_decref(v);
	{
		const char *zs[3] = { "ZSCORE", "vigil:blocklist:ssh", "192.0.2.1" };
		struct rget g = rget_cmd(&f, 3, zs);

		CHECK_STR(g.s, "");
	}
	fx_end(&f);
}

static int sentinel_paged(struct fx *f)
{
	return recv_count(&f->rv, "/hook", 200) >= want_n;
}

TEST(silences)
{
	struct fx f;
	struct answer a = { 0 };
	const char *body = "{\"matchers\":{\"fields\":{\"source.ip\":\"203.0.113.66\"},"
	    "\"levels\":[\"low\"]},\"duration\":\"2h\",\"author\":\"alice\","
	    "\"comment\":\"pen test\"}";
	char sid[64];
	json_t *v;

	if (fx_std(&f) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	response_silence_add(f.r, body, strlen(body), answer_cb, &a);
	wait_answer(&f, &a);
	CHECK_INT(a.status, 201);
	CHECK_STR(jstr(a.body, "author"), "alice");
	CHECK_STR(jstr(a.body, "state"), "active");
	snprintf(sid, sizeof(sid), "%s", jstr(a.body, "id"));
	answer_clear(&a);
	settle(&f);
	response_silences(f.r, answer_cb, &a);
	wait_answer(&f, &a);
	CHECK_INT(json_array_size(json_object_get(a.body, "silences")), 1);
	CHECK_STR(jstr(json_array_get(json_object_get(a.body, "silences"), 0),
	    "comment"), "pen test");
	answer_clear(&a);
	/* silenced: recorded on an incident, nobody paged */
	alert(&f, "r-hook", "low", "detection", "{}",
	    "{\"source\":{\"ip\":\"203.0.113.66\"}}");
	/* not silenced (another address): paged, after the silenced one */
	alert(&f, "r-hook", "high", "detection", "{\"source.ip\":\"203.0.113.67\"}",
	    "{\"source\":{\"ip\":\"203.0.113.67\"}}");
	want_n = 1;
	CHECK(loop_until(&f, sentinel_paged, DEADLINE_MS));
	settle(&f);
	CHECK_INT(recv_count(&f.rv, "/hook", 0), 1);
	v = recv_json(&f.rv, "/hook", 0);
	CHECK_STR(jstr(v, "summary"), "guessing from 203.0.113.67");
	json_decref(v);
	v = incident(&f, "1");
	CHECK_INT(jint(v, "alerts"), 0);
	CHECK_INT(jint(v, "silenced_alerts"), 1);
	CHECK_INT(json_array_size(json_object_get(v, "playbooks")), 0);
	json_decref(v);
	CHECK_INT(tl_count(&f, "1", "alert_silenced"), 1);
	response_silence_delete(f.r, sid, answer_cb, &a);
	wait_answer(&f, &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(jstr(a.body, "deleted"), sid);
	answer_clear(&a);
	settle(&f);
	/* without the silence the same key pages: the open incident gets its
	 * playbook now */
	alert(&f, "r-hook", "low", "detection", "{}",
	    "{\"source\":{\"ip\":\"203.0.113.66\"}}");
	want_n = 2;
	CHECK(loop_until(&f, sentinel_paged, DEADLINE_MS));
	settle(&f);
	v = incident(&f, "1");
	CHECK_INT(jint(v, "alerts"), 1);
	CHECK_INT(jint(v, "silenced_alerts"), 1);
	json_decref(v);
	fx_end(&f);
}

static const char restart_yaml[] =
    "inputs: []\n"
    "http: {listen: \"\"}\n"
    "playbooks: [pb]\n"
    "response: {group_wait: 0, repeat_interval: 0, auto_resolve: 0}\n"
    "channels:\n"
    "  later: {type: webhook, url: \"http://127.0.0.1:@PORT@/later\", retry: {initial: 200ms, max: 400ms}}\n"
    "  first: {type: webhook, url: \"http://127.0.0.1:@PORT@/first\"}\n"
    "  second: {type: webhook, url: \"http://127.0.0.1:@PORT@/second\"}\n"
    "oncall:\n"
    "  users:\n"
    "    alice: {channels: [first]}\n"
    "    bob: {channels: [second]}\n"
    "  escalation_policies:\n"
    "    esc:\n"
    "      steps:\n"
    "        - {users: [alice]}\n"
    "        - {users: [bob], delay: 2s}\n";

static const char restart_pb[] =
    "name: later\n"
    "match: {rules: [r-later]}\n"
    "steps:\n"
    "  - notify: {channel: later}\n"
    "---\n"
    "name: esc\n"
    "match: {rules: [r-esc]}\n"
    "steps:\n"
    "  - notify: {policy: esc}\n";

static int later_failed_once(struct fx *f)
{
	return recv_count(&f->rv, "/later", 503) >= 1;
}

/* Only the notification waiting for its retry is left in the outbox (the
 * others are delivered and recorded as such). */
static int outbox_one(struct fx *f)
{
	const char *hl[2] = { "HLEN", "vigil:{resp}:ob:test" };
	struct rget g = rget_cmd(f, 2, hl);

	return g.i == 1 && recv_count(&f->rv, "/first", 200) == 1;
}

TEST(restart_resumes_without_paging_twice)
{
	struct fx f;

	if (fx_start(&f, restart_yaml, restart_pb) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	/* the receiver fails: the page waits in the outbox for a retry */
	recv_script(&f.rv, "/later", "503,200");
	alert(&f, "r-later", "high", "detection", "{}", NULL);
	/* an escalation whose second step is due after the restart */
	alert(&f, "r-esc", "high", "detection", "{}", NULL);
	CHECK(loop_until(&f, later_failed_once, DEADLINE_MS));
	CHECK(loop_until(&f, outbox_one, DEADLINE_MS));
	/* "crash": everything stops; the outbox and the timers stay */
	fx_stop_response(&f);
	fx_restart_response(&f);
	CHECK(f.r != NULL);
	want_path = "/later";
	want_n = 1;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	want_path = "/second";
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	settle(&f);
	CHECK_INT(recv_count(&f.rv, "/later", 200), 1);
	CHECK_INT(recv_count(&f.rv, "/first", 0), 1);
	CHECK_INT(recv_count(&f.rv, "/second", 0), 1);
	/* the very same notification, resumed */
	CHECK_STR(f.rv.reqs[0].path, "/later");
	{
		const char *first = NULL, *last = NULL;

		for (int i = 0; i < f.rv.n; i++) {
			if (strcmp(f.rv.reqs[i].path, "/later") == 0) {
				if (first == NULL)
					first = f.rv.reqs[i].delivery;
				last = f.rv.reqs[i].delivery;
			}
		}
		CHECK_STR(first, last);
	}
	/* a third start, everything done: nothing more is sent */
	fx_stop_response(&f);
	fx_restart_response(&f);
	settle(&f);
	{
		struct rget g;
		const char *hl[2] = { "HLEN", "vigil:{resp}:ob:test" };

		g = rget_cmd(&f, 2, hl);
		CHECK_INT(g.i, 0);
	}
	CHECK_INT(recv_count(&f.rv, "/later", 0), 2);
	CHECK_INT(recv_count(&f.rv, "/first", 0), 1);
	CHECK_INT(recv_count(&f.rv, "/second", 0), 1);
	fx_end(&f);
}

static const char auto_yaml[] =
    "inputs: []\n"
    "http: {listen: \"\"}\n"
    "playbooks: [pb]\n"
    "response: {group_wait: 2s, auto_resolve: 3s, repeat_interval: 0}\n"
    "channels:\n"
    "  hook: {type: webhook, url: \"http://127.0.0.1:@PORT@/hook\"}\n";

static const char auto_pb[] =
    "name: hook\n"
    "match: {rules: [r-hook]}\n"
    "steps:\n"
    "  - notify: {channel: hook}\n";

TEST(group_wait_and_auto_resolve)
{
	struct fx f;
	json_t *p;

	if (fx_start(&f, auto_yaml, auto_pb) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	alert(&f, "r-hook", "low", "detection", "{}", NULL);
	want_incidents = 1;
	CHECK(loop_until(&f, have_incidents, DEADLINE_MS));
	/* within group_wait: these join the first page */
	alert(&f, "r-hook", "low", "detection", "{}", NULL);
	alert(&f, "r-hook", "low", "detection", "{}", NULL);
	want_path = "/hook";
	want_n = 1;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	p = recv_json(&f.rv, "/hook", 0);
	CHECK_STR(jstr(json_object_get(p, "details"), "alerts"), "3");
	json_decref(p);
	/* quiet for auto_resolve: resolved by vigil, and said so */
	want_id = "1";
	want_state = "resolved";
	CHECK(loop_until(&f, state_is, DEADLINE_MS));
	want_n = 2;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	settle(&f);
	p = recv_json(&f.rv, "/hook", 1);
	CHECK_STR(jstr(p, "event"), "resolve");
	json_decref(p);
	p = incident(&f, "1");
	CHECK_STR(jstr(json_object_get(p, "resolved"), "by"), "vigil");
	json_decref(p);
	/* a new alert of the same key opens a new incident */
	alert(&f, "r-hook", "low", "detection", "{}", NULL);
	want_incidents = 2;
	CHECK(loop_until(&f, have_incidents, DEADLINE_MS));
	fx_end(&f);
}

static const char timers_yaml[] =
    "inputs: []\n"
    "http: {listen: \"\"}\n"
    "playbooks: [pb]\n"
    "response: {group_wait: 0, group_interval: 1s, repeat_interval: 2s, exec_dirs: [bin]}\n"
    "channels:\n"
    "  hook: {type: webhook, url: \"http://127.0.0.1:@PORT@/hook\"}\n";

static const char timers_pb[] =
    "name: hook\n"
    "match: {rules: [r-hook]}\n"
    "steps:\n"
    "  - notify: {channel: hook, summary: \"s\"}\n"
    "---\n"
    "name: retrying\n"
    "match: {rules: [r-retry]}\n"
    "steps:\n"
    "  - id: call\n"
    "    webhook: {url: \"http://127.0.0.1:@PORT@/fail\"}\n"
    "    retries: 2\n"
    "    retry_delay: 1s\n"
    "  - id: after\n"
    "    notify: {channel: hook, summary: \"after the call\"}\n"
    "---\n"
    "name: slow\n"
    "match: {rules: [r-slow]}\n"
    "steps:\n"
    "  - id: run\n"
    "    exec: [slow]\n"
    "    timeout: 1s\n"
    "    on_failure: tell\n"
    "  - id: tell\n"
    "    notify: {channel: hook, summary: \"slow failed\"}\n";

/* The summaries of the pages to /hook, in order, joined with '|'. */
static void hook_summaries(struct fx *f, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < f->rv.n; i++) {
		json_t *j;

		if (strcmp(f->rv.reqs[i].path, "/hook") != 0)
			continue;
		j = json_loads(f->rv.reqs[i].body, 0, NULL);
		n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s:%s",
		    n ? "|" : "", jstr(j, "event"), jstr(j, "summary"));
		json_decref(j);
	}
}

TEST(update_and_repeat_pages)
{
	struct fx f;
	struct answer a = { 0 };
	char sums[2048];

	if (fx_start(&f, timers_yaml, timers_pb) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	alert(&f, "r-hook", "low", "detection", "{}", NULL);
	want_path = "/hook";
	want_n = 1;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	/* three more: one update page after group_interval, not three */
	for (int i = 0; i < 3; i++)
		alert(&f, "r-hook", "low", "detection", "{}", NULL);
	want_n = 2;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	/* nothing new and nobody acknowledges: a reminder after
	 * repeat_interval */
	want_n = 3;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	response_ack(f.r, "1", "alice", NULL, answer_cb, &a);
	wait_answer(&f, &a);
	CHECK_INT(a.status, 200);
	answer_clear(&a);
	want_n = 4;
	CHECK(loop_until(&f, got_requests, DEADLINE_MS));
	settle(&f);
	hook_summaries(&f, sums, sizeof(sums));
	CHECK_STR(sums, "trigger:s|trigger:s (4 alerts, 3 new)|"
	    "trigger:Reminder, not acknowledged: s (4 alerts)|"
	    "acknowledge:Acknowledged by alice: s");
	/* acknowledged: no reminder is due any more */
	{
		const char *zs[3] = { "ZSCORE", "vigil:{resp}:due", "p|1" };
		struct rget g = rget_cmd(&f, 3, zs);

		CHECK_STR(g.s, "");
	}
	fx_end(&f);
}

static int after_call_paged(struct fx *f)
{
	char sums[2048];

	hook_summaries(f, sums, sizeof(sums));
	return strstr(sums, "trigger:after the call") != NULL &&
	    strstr(sums, "trigger:slow failed") != NULL;
}

TEST(step_retries_and_timeouts)
{
	struct fx f;
	json_t *v;
	const json_t *e;
	size_t i;
	char steps[512];
	size_t n = 0;
	char sums[2048];

	if (fx_start(&f, timers_yaml, timers_pb) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	recv_script(&f.rv, "/fail", "500,500,200");
	alert(&f, "r-retry", "low", "detection", "{}", NULL);
	alert(&f, "r-slow", "low", "detection", "{}", NULL);
	CHECK(loop_until(&f, after_call_paged, DEADLINE_MS));
	CHECK_INT(recv_count(&f.rv, "/fail", 0), 3);
	CHECK_INT(recv_count(&f.rv, "/fail", 200), 1);
	hook_summaries(&f, sums, sizeof(sums));
	CHECK(strstr(sums, "trigger:after the call") != NULL);
	CHECK(strstr(sums, "trigger:slow failed") != NULL);
	v = incident(&f, "1");
	steps[0] = '\0';
	json_array_foreach(json_object_get(v, "timeline"), i, e) {
		if (strcmp(jstr(e, "type"), "step") == 0)
			n += (size_t)snprintf(steps + n, sizeof(steps) - n, "%s%s:%lld:%s:%s",
			    n ? "|" : "", jstr(e, "step"), jint(e, "attempt"),
			    json_is_true(json_object_get(e, "ok")) ? "ok" : "fail",
			    jstr(e, "detail"));
	}
	CHECK_STR(steps, "call:1:fail:HTTP 500|call:2:fail:HTTP 500|"
	    "call:3:ok:HTTP 200|after:1:ok:queued for 1 channel");
	json_decref(v);
	v = incident(&f, "2");
	n = 0;
	steps[0] = '\0';
	json_array_foreach(json_object_get(v, "timeline"), i, e) {
		if (strcmp(jstr(e, "type"), "step") == 0)
			n += (size_t)snprintf(steps + n, sizeof(steps) - n, "%s%s:%s:%.9s",
			    n ? "|" : "", jstr(e, "step"),
			    json_is_true(json_object_get(e, "ok")) ? "ok" : "fail",
			    jstr(e, "detail"));
	}
	CHECK_STR(steps, "run:fail:timed out|tell:ok:queued fo");
	CHECK_STR(jstr(json_array_get(json_object_get(v, "runs"), 0), "outcome"),
	    "completed");
	json_decref(v);
	fx_end(&f);
}

TEST(redis_down_answers_503)
{
	struct fx f;
	struct rds *down;
	struct rds_conf rc;
	struct vg_err err = { 0 };
	struct response_conf c;
	struct response *r;
	struct vg_diag d;
	struct answer a = { 0 };

	if (fx_std(&f) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	memset(&rc, 0, sizeof(rc));
	rc.url = "unix:///nonexistent/vigil/redis.sock";
	rc.name = "down";
	down = rds_new(f.base, &rc, &err);
	CHECK(down != NULL);
	vg_diag_init(&d, stderr);
	memset(&c, 0, sizeof(c));
	c.cfg = f.cfg;
	c.base = f.base;
	c.rds = down;
	c.instance = "down";
	r = response_new(&c, &d, &err);
	CHECK(r != NULL);
	if (r != NULL) {
		/* alerts wait (bounded) for Redis; the API says it at once */
		struct response *keep = f.r;

		f.r = r;
		alert(&f, "r-high", "high", "detection", "{}", NULL);
		f.r = keep;
		CHECK_INT(r->qn, 1);
		response_incidents(r, NULL, 10, answer_cb, &a);
		CHECK_INT(a.done, 1);
		CHECK_INT(a.status, 503);
		CHECK_STR(jstr(a.body, "error"), "Redis is unavailable");
		answer_clear(&a);
		response_ack(r, "1", "alice", NULL, answer_cb, &a);
		CHECK_INT(a.status, 503);
		answer_clear(&a);
		{
			const char *b = "{\"matchers\":{\"rules\":[\"r\"]},\"duration\":"
			    "\"1h\",\"author\":\"a\",\"comment\":\"c\"}";

			response_silence_add(r, b, strlen(b), answer_cb, &a);
			CHECK_INT(a.status, 503);
			answer_clear(&a);
		}
		response_free(r);
	}
	rds_free(down);
	fx_end(&f);
}

/* No playbook, silence or rule key could read an alert's event: the loop
 * parses alerts without it (a byte scan leaves it out), and falls back to
 * the whole line for what the scan does not know; both give the same
 * incidents, and a broken event still makes the alert invalid. */
static const char plain_yaml[] =
    "inputs: []\n"
    "http: {listen: \"\"}\n"
    "playbooks: [pb]\n"
    "response: {group_wait: 0, group_interval: 1h, min_level: high}\n";

TEST(event_left_out_without_readers)
{
	struct fx f;
	json_t *l;
	static const char *const lines[] = {
		/* the scan's subset: strings with escapes and UTF-8, nesting,
		 * integers, fractions, literals; "event" first */
		"{\"event\":{\"a\":[1,-0,2.50,true,false,null,{\"b\":\"caf\xc3\xa9 "
		"\\\"q\\\" \\\\ \\/ \\n\"}],\"host\":{\"hostname\":\"w\xe6\x97\xa5\"}},"
		"\"id\":\"a1\",\"kind\":\"detection\",\"rule\":{\"id\":\"r-one\","
		"\"title\":\"One\",\"level\":\"high\",\"tags\":[]},\"group\":"
		"{\"source.ip\":\"10.0.0.1\"},\"count\":1}",
		/* outside it (an exponent, a \u escape): the whole line */
		"{\"id\":\"a2\",\"kind\":\"detection\",\"rule\":{\"id\":\"r-one\","
		"\"title\":\"One\",\"level\":\"high\",\"tags\":[]},\"group\":"
		"{\"source.ip\":\"10.0.0.1\"},\"count\":1,\"event\":{\"n\":1e5,"
		"\"s\":\"\\u00e9\"}}",
		/* a broken event: invalid, as when parsed whole */
		"{\"id\":\"a3\",\"kind\":\"detection\",\"rule\":{\"id\":\"r-one\","
		"\"title\":\"One\",\"level\":\"high\",\"tags\":[]},\"group\":"
		"{\"source.ip\":\"10.0.0.1\"},\"count\":1,\"event\":{\"n\":}}",
		/* and text after the object */
		"{\"id\":\"a4\",\"kind\":\"detection\",\"rule\":{\"id\":\"r-one\","
		"\"title\":\"One\",\"level\":\"high\",\"tags\":[]},\"group\":"
		"{\"source.ip\":\"10.0.0.1\"},\"count\":1,\"event\":{}} x",
		"{\"id\":\"b1\",\"kind\":\"detection\",\"rule\":{\"id\":\"r-two\","
		"\"title\":\"Two\",\"level\":\"critical\",\"tags\":[]},\"group\":"
		"{\"user.name\":\"j\xc3\xb6rg\",\"n\":7},\"count\":2,\"event\":"
		"{\"user\":{\"name\":\"j\xc3\xb6rg\"}}}",
	};

	if (fx_start(&f, plain_yaml, NULL) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	for (size_t i = 0; i < VG_ARRAY_LEN(lines); i++)
		CHECK_INT(response_submit(f.r, lines[i], strlen(lines[i])), 1);
	want_incidents = 2;
	CHECK(loop_until(&f, have_incidents, DEADLINE_MS));
	settle(&f);
	l = incidents(&f, "open");
	CHECK_INT(json_array_size(l), 2);
	{
		size_t i;
		const json_t *e;
		int seen = 0;

		json_array_foreach(l, i, e) {
			if (strcmp(jstr(e, "key"), "r|r-one|source.ip=10.0.0.1") == 0) {
				CHECK_INT(jint(e, "alerts"), 2);
				CHECK_STR(jstr(e, "urgency"), "high");
				CHECK_STR(jstr(e, "summary"), "One (source.ip=10.0.0.1)");
				seen |= 1;
			}
			if (strcmp(jstr(e, "key"),
			    "r|r-two|n=7|user.name=j\xc3\xb6rg") == 0) {
				CHECK_INT(jint(e, "alerts"), 1);
				CHECK_STR(jstr(e, "summary"),
				    "Two (n=7, user.name=j\xc3\xb6rg)");
				seen |= 2;
			}
		}
		CHECK_INT(seen, 3);
	}
	json_decref(l);
	{
		struct buf m;

		buf_init(&m);
		response_metrics(f.r, &m);
		CHECK(strstr(buf_cstr(&m),
		    "vigil_response_alerts_total{result=\"invalid\"} 2\n") != NULL);
		buf_free(&m);
	}
	fx_end(&f);
}

/* A flood of alerts that differ only in id and time is parsed once per
 * drain (the loop reuses an earlier parse, with their own id and time):
 * each still counts, in its incident, with its own id in the timeline, an
 * alert of another group between them in its own incident. */
TEST(flood_reuses_the_last_parse)
{
	struct fx f;
	json_t *l, *v;
	char ids[256], want[256];
	size_t n = 0, w = 0;
	int first = seq + 1;

	if (fx_start(&f, plain_yaml, NULL) < 0) {
		CHECK(0);
		fx_end(&f);
		return;
	}
	/* one drain: all queued before the loop runs */
	for (int i = 0; i < 3; i++)
		alert(&f, "r-one", "high", "detection", "{\"source.ip\":\"10.0.0.1\"}",
		    NULL);
	alert(&f, "r-one", "high", "detection", "{\"source.ip\":\"10.0.0.2\"}",
	    NULL);
	for (int i = 0; i < 2; i++)
		alert(&f, "r-one", "high", "detection", "{\"source.ip\":\"10.0.0.1\"}",
		    NULL);
	want_incidents = 2;
	CHECK(loop_until(&f, have_incidents, DEADLINE_MS));
	settle(&f);
	l = incidents(&f, "open");
	CHECK_INT(json_array_size(l), 2);
	{
		size_t i;
		const json_t *e;
		int seen = 0;

		json_array_foreach(l, i, e) {
			if (strcmp(jstr(e, "key"), "r|r-one|source.ip=10.0.0.1") == 0) {
				CHECK_INT(jint(e, "alerts"), 5);
				CHECK_STR(jstr(e, "summary"), "Rule r-one (source.ip=10.0.0.1)");
				seen |= 1;
				v = incident(&f, jstr(e, "id"));
				ids[0] = '\0';
				{
					size_t k;
					const json_t *t;

					json_array_foreach(json_object_get(v, "timeline"), k, t) {
						if (strcmp(jstr(t, "type"), "alert") == 0)
							n += (size_t)snprintf(ids + n, sizeof(ids) - n,
							    "%s%s", n ? " " : "", jstr(t, "alert") + 24);
					}
				}
				json_decref(v);
			}
			if (strcmp(jstr(e, "key"), "r|r-one|source.ip=10.0.0.2") == 0) {
				CHECK_INT(jint(e, "alerts"), 1);
				seen |= 2;
			}
		}
		CHECK_INT(seen, 3);
	}
	json_decref(l);
	for (int k = 0; k < 6; k++) {
		if (k != 3)
			w += (size_t)snprintf(want + w, sizeof(want) - w, "%s%012d",
			    w ? " " : "", first + k);
	}
	CHECK_STR(ids, want);
	fx_end(&f);
}

int main(void)
{
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };

	log_init("test_response", LOG_WARNING);
	srv = rds_server_start(&sc, &e);
	if (srv == NULL) {
		printf("not ok - redis-server: %s\n", e.msg);
		return 1;
	}
	RUN(filter_and_dedup);
	RUN(burst_is_one_page);
	RUN(retry_then_one_delivery_and_dead_letter);
	RUN(escalation_and_ack);
	RUN(api_errors);
	RUN(containment_playbook);
	RUN(silences);
	RUN(restart_resumes_without_paging_twice);
	RUN(group_wait_and_auto_resolve);
	RUN(update_and_repeat_pages);
	RUN(step_retries_and_timeouts);
	RUN(redis_down_answers_503);
	RUN(event_left_out_without_readers);
	RUN(flood_reuses_the_last_parse);
	rds_server_stop(srv);
	return unit_done();
}
