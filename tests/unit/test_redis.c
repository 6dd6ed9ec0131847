/*
 * test_redis.c: the Redis client and the embedded redis-server, against a
 * real redis-server started on a unix socket in a temporary folder: URL
 * parsing, pipelined commands, scripts and NOSCRIPT, an outage (buffered
 * commands applied in order on recovery, the bound and its drop counter),
 * persistence across a restart, supervision, and freeing with commands
 * outstanding.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "unit.h"
#include "../../engine/log.h"
#include "../../engine/redis.h"

/* ---- helpers ---- */

struct got {
	int calls;
	int nulls;
	int errors;
	long long ints[4096];
	int nints;
	char str[256];
};

static void got_cb(void *arg, const struct redisReply *rep)
{
	struct got *g = arg;

	g->calls++;
	if (rep == NULL) {
		g->nulls++;
		return;
	}
	if (rep->type == REDIS_REPLY_ERROR)
		g->errors++;
	if (rep->type == REDIS_REPLY_INTEGER && g->nints < 4096)
		g->ints[g->nints++] = rep->integer;
	if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS ||
	    rep->type == REDIS_REPLY_ERROR)
		snprintf(g->str, sizeof(g->str), "%.*s", (int)rep->len, rep->str);
}

static int cmd(struct rds *r, unsigned flags, struct got *g, const char *a0,
    const char *a1, const char *a2)
{
	const char *argv[3] = { a0, a1, a2 };
	int argc = a2 ? 3 : a1 ? 2 : 1;

	return rds_cmd(r, flags, got_cb, g, argc, argv, NULL);
}

/* Run the loop until cond holds; generous bound, never a timing check. */
#define LOOP_UNTIL(base, cond)                                          \
	do {                                                            \
		int64_t end_ = vg_mono_ms() + 20000;                    \
		struct timeval tv_ = { 0, 10000 };                      \
		while (!(cond) && vg_mono_ms() < end_) {                \
			event_base_loopexit((base), &tv_);              \
			event_base_dispatch(base);                      \
		}                                                       \
	} while (0)

static struct rds *client(struct event_base *base, const char *url,
    size_t max_pending)
{
	struct rds_conf c = { 0 };
	struct vg_err e = { 0 };

	c.url = url;
	c.name = "test";
	c.max_pending = max_pending;
	c.backoff_min_ms = 20;
	c.backoff_max_ms = 100;
	return rds_new(base, &c, &e);
}

/* ---- tests ---- */

TEST(urls_parse)
{
	struct rds_url u;
	struct vg_err e = { 0 };

	CHECK_INT(rds_parse_url("redis://127.0.0.1", &u, &e), 0);
	CHECK_STR(u.host, "127.0.0.1");
	CHECK_INT(u.port, 6379);
	CHECK_INT(u.db, 0);
	CHECK_INT(rds_parse_url("redis://:s%40cret@db.example:6380/3", &u, &e), 0);
	CHECK_STR(u.host, "db.example");
	CHECK_INT(u.port, 6380);
	CHECK_INT(u.db, 3);
	CHECK_STR(u.password, "s@cret");
	CHECK_INT(rds_parse_url("redis://user:pw@[::1]:7000", &u, &e), 0);
	CHECK_STR(u.host, "::1");
	CHECK_INT(u.port, 7000);
	CHECK_STR(u.password, "pw");
	CHECK_INT(rds_parse_url("unix:///var/run/redis.sock?db=2", &u, &e), 0);
	CHECK_INT(u.is_unix, 1);
	CHECK_STR(u.path, "/var/run/redis.sock");
	CHECK_INT(u.db, 2);
	CHECK_INT(rds_parse_url("unix://:pw@/tmp/r.sock", &u, &e), 0);
	CHECK_STR(u.path, "/tmp/r.sock");
	CHECK_STR(u.password, "pw");
	CHECK_INT(rds_parse_url("redis://host:0", &u, NULL), -1);
	CHECK_INT(rds_parse_url("redis://host:70000", &u, NULL), -1);
	CHECK_INT(rds_parse_url("redis://host/x", &u, NULL), -1);
	CHECK_INT(rds_parse_url("redis://", &u, NULL), -1);
	CHECK_INT(rds_parse_url("unix://relative.sock", &u, NULL), -1);
	CHECK_INT(rds_parse_url("http://x", &u, NULL), -1);
	vg_err_clear(&e);
	CHECK_INT(rds_parse_url("rediss://x", &u, &e), -1);
	CHECK(strstr(e.msg, "TLS") != NULL);
	CHECK_INT(rds_parse_url("redis://:%zz@h", &u, NULL), -1);
	CHECK_INT(rds_parse_url("", &u, NULL), -1);
}

TEST(commands_pipeline_in_order)
{
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *s = rds_server_start(&sc, &e);
	struct event_base *base = event_base_new();
	struct rds *r;
	struct got g = { 0 };

	CHECK(s != NULL);
	if (s == NULL) {
		fprintf(stderr, "  %s\n", e.msg);
		event_base_free(base);
		return;
	}
	r = client(base, rds_server_url(s), 0);
	CHECK(r != NULL);
	/* accepted before the connection is up: held, then sent in order */
	for (int i = 0; i < 1000; i++)
		CHECK_INT(cmd(r, RDS_RETRY, &g, "INCR", "k", NULL), 0);
	LOOP_UNTIL(base, g.calls == 1000);
	CHECK_INT(g.calls, 1000);
	CHECK_INT(g.nints, 1000);
	for (int i = 0; i < g.nints; i++)
		if (g.ints[i] != i + 1) {
			CHECK_INT(g.ints[i], i + 1);
			break;
		}
	CHECK_INT(rds_ready(r), 1);
	/* an error reply reaches the caller as such */
	memset(&g, 0, sizeof(g));
	CHECK_INT(cmd(r, 0, &g, "LPUSH", "k", "x"), 0);
	LOOP_UNTIL(base, g.calls == 1);
	CHECK_INT(g.errors, 1);
	CHECK(strncmp(g.str, "WRONGTYPE", 9) == 0);
	CHECK_INT(rds_stats(r)->error_replies, 1);
	CHECK_INT(rds_outstanding(r), 0);
	rds_free(r);
	event_base_free(base);
	rds_server_stop(s);
}

TEST(scripts_and_noscript)
{
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *s = rds_server_start(&sc, &e);
	struct event_base *base = event_base_new();
	struct rds *r;
	struct got g = { 0 };
	const char *argv[2] = { "cnt", "5" };
	int sid;

	if (s == NULL) {
		CHECK(s != NULL);
		event_base_free(base);
		return;
	}
	r = client(base, rds_server_url(s), 0);
	sid = rds_script(r, "return redis.call('INCRBY', KEYS[1], ARGV[1])");
	CHECK_STR(rds_script_sha(r, sid), "8cd00688c05c46bde4a2e60658ef20a2e5c0b248");
	CHECK_INT(rds_evalsha(r, RDS_RETRY, sid, got_cb, &g, 1, 2, argv, NULL), 0);
	LOOP_UNTIL(base, g.calls == 1);
	CHECK_INT(g.nints, 1);
	CHECK_INT(g.ints[0], 5);
	/* the server forgets its scripts: NOSCRIPT is handled inside */
	{
		struct got f = { 0 };

		CHECK_INT(cmd(r, 0, &f, "SCRIPT", "FLUSH", NULL), 0);
		for (int i = 0; i < 10; i++)
			CHECK_INT(rds_evalsha(r, RDS_RETRY, sid, got_cb, &g, 1, 2,
			    argv, NULL), 0);
		LOOP_UNTIL(base, g.calls == 11);
		CHECK_INT(f.calls, 1);
	}
	CHECK_INT(g.calls, 11);
	CHECK_INT(g.errors, 0);
	CHECK_INT(g.nints, 11);
	for (int i = 0; i < 11; i++)
		CHECK_INT(g.ints[i], 5 * (i + 1));
	CHECK(rds_stats(r)->noscript >= 10);
	/* a script registered while connected is loaded at once */
	{
		int s2 = rds_script(r, "return 42");
		struct got h = { 0 };

		CHECK_INT(rds_evalsha(r, 0, s2, got_cb, &h, 0, 0, NULL, NULL), 0);
		LOOP_UNTIL(base, h.calls == 1);
		CHECK_INT(h.ints[0], 42);
		CHECK_INT(rds_stats(r)->noscript, 10);
	}
	rds_free(r);
	event_base_free(base);
	rds_server_stop(s);
}

TEST(outage_buffers_bounded_and_applies_in_order)
{
	char dir[] = "/tmp/vigil-test-redis.XXXXXX";
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *s;
	struct event_base *base = event_base_new();
	struct rds *r;
	struct got g = { 0 }, refused = { 0 }, chk = { 0 };
	uint64_t fails;

	CHECK(mkdtemp(dir) != NULL);
	sc.dir = dir;
	sc.persist = 1;
	s = rds_server_start(&sc, &e);
	if (s == NULL) {
		CHECK(s != NULL);
		event_base_free(base);
		return;
	}
	r = client(base, rds_server_url(s), 100);
	CHECK_INT(cmd(r, RDS_RETRY, &g, "DEL", "list", NULL), 0);
	LOOP_UNTIL(base, g.calls == 1 && rds_ready(r));
	/* the server goes away */
	rds_server_stop(s);
	s = NULL;
	LOOP_UNTIL(base, !rds_ready(r));
	CHECK_INT(rds_ready(r), 0);
	/* no RDS_RETRY: refused at once, callback never runs */
	CHECK_INT(cmd(r, 0, &refused, "PING", NULL, NULL), -1);
	/* 150 updates into a buffer of 100: the 50 oldest are dropped */
	memset(&g, 0, sizeof(g));
	for (int i = 0; i < 150; i++) {
		char v[16];

		snprintf(v, sizeof(v), "%d", i);
		CHECK_INT(cmd(r, RDS_RETRY, &g, "RPUSH", "list", v), 0);
	}
	CHECK_INT(g.calls, 50);
	CHECK_INT(g.nulls, 50);
	CHECK_INT(rds_stats(r)->pending, 100);
	CHECK_INT(rds_stats(r)->dropped, 51);
	/* reconnect attempts back off while it is down */
	fails = rds_stats(r)->connect_failures;
	LOOP_UNTIL(base, rds_stats(r)->connect_failures >= fails + 3);
	CHECK(rds_stats(r)->connect_failures >= fails + 3);
	/* it comes back (same folder, same socket): the buffer is applied */
	s = rds_server_start(&sc, &e);
	CHECK(s != NULL);
	LOOP_UNTIL(base, g.calls == 150);
	CHECK_INT(g.calls, 150);
	CHECK_INT(g.nints, 100);
	CHECK_INT(g.ints[0], 1);
	CHECK_INT(g.ints[99], 100);
	{
		const char *argv[4] = { "LRANGE", "list", "0", "-1" };

		CHECK_INT(rds_cmd(r, 0, got_cb, &chk, 4, argv, NULL), 0);
		LOOP_UNTIL(base, chk.calls == 1);
	}
	CHECK_INT(refused.calls, 0);
	CHECK_INT(rds_stats(r)->disconnects, 1);
	CHECK(rds_stats(r)->connects >= 2);
	rds_free(r);
	event_base_free(base);
	rds_server_stop(s);
	{
		char cmdline[512];

		snprintf(cmdline, sizeof(cmdline), "rm -rf %s", dir);
		CHECK_INT(system(cmdline), 0);
	}
}

/* Array replies: a small helper script result check. */
struct arr {
	int calls;
	long long v[8];
	size_t n;
};

static void arr_cb(void *arg, const struct redisReply *rep)
{
	struct arr *a = arg;

	a->calls++;
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < rep->elements && i < 8; i++)
		a->v[a->n++] = rep->element[i]->integer;
}

TEST(outage_order_checked_by_script)
{
	char dir[] = "/tmp/vigil-test-redis.XXXXXX";
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *s;
	struct event_base *base = event_base_new();
	struct rds *r;
	struct got g = { 0 };
	struct arr a = { 0 };
	int sid;
	const char *argv[1] = { "list" };

	CHECK(mkdtemp(dir) != NULL);
	sc.dir = dir;
	sc.persist = 1;
	s = rds_server_start(&sc, &e);
	if (s == NULL) {
		CHECK(s != NULL);
		event_base_free(base);
		return;
	}
	r = client(base, rds_server_url(s), 100);
	sid = rds_script(r, "local l = redis.call('LRANGE', KEYS[1], 0, -1) "
	    "local ok = 1 for i, v in ipairs(l) do "
	    "if tonumber(v) ~= 49 + i then ok = 0 end end "
	    "return {#l, ok}");
	LOOP_UNTIL(base, rds_ready(r));
	rds_server_stop(s);
	LOOP_UNTIL(base, !rds_ready(r));
	for (int i = 0; i < 150; i++) {
		char v[16];

		snprintf(v, sizeof(v), "%d", i);
		cmd(r, RDS_RETRY, &g, "RPUSH", "list", v);
	}
	s = rds_server_start(&sc, &e);
	CHECK(s != NULL);
	LOOP_UNTIL(base, g.calls == 150);
	CHECK_INT(rds_evalsha(r, RDS_RETRY, sid, arr_cb, &a, 1, 1, argv, NULL), 0);
	LOOP_UNTIL(base, a.calls == 1);
	CHECK_INT(a.n, 2);
	CHECK_INT(a.v[0], 100);
	CHECK_INT(a.v[1], 1);
	rds_free(r);
	event_base_free(base);
	rds_server_stop(s);
	{
		char cmdline[512];

		snprintf(cmdline, sizeof(cmdline), "rm -rf %s", dir);
		CHECK_INT(system(cmdline), 0);
	}
}

TEST(inflight_commands_resent_after_break)
{
	char dir[] = "/tmp/vigil-test-redis.XXXXXX";
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *s;
	struct event_base *base = event_base_new();
	struct rds *r;
	struct got g = { 0 };

	CHECK(mkdtemp(dir) != NULL);
	sc.dir = dir;
	sc.persist = 1;
	s = rds_server_start(&sc, &e);
	if (s == NULL) {
		CHECK(s != NULL);
		event_base_free(base);
		return;
	}
	r = client(base, rds_server_url(s), 0);
	LOOP_UNTIL(base, rds_ready(r));
	/* written to a server that is frozen, then dies: never executed */
	kill(rds_server_pid(s), SIGSTOP);
	for (int i = 0; i < 100; i++)
		cmd(r, RDS_RETRY, &g, "INCR", "n", NULL);
	CHECK_INT(rds_stats(r)->inflight, 100);
	kill(rds_server_pid(s), SIGKILL);
	rds_server_stop(s);
	LOOP_UNTIL(base, !rds_ready(r));
	CHECK_INT(g.calls, 0);
	CHECK_INT(rds_stats(r)->pending, 100);
	s = rds_server_start(&sc, &e);
	CHECK(s != NULL);
	LOOP_UNTIL(base, g.calls == 100);
	CHECK_INT(g.nints, 100);
	CHECK_INT(g.ints[0], 1);
	CHECK_INT(g.ints[99], 100);
	CHECK_INT(rds_stats(r)->retried, 100);
	rds_free(r);
	event_base_free(base);
	rds_server_stop(s);
	{
		char cmdline[512];

		snprintf(cmdline, sizeof(cmdline), "rm -rf %s", dir);
		CHECK_INT(system(cmdline), 0);
	}
}

TEST(persistence_and_stale_server)
{
	char dir[] = "/tmp/vigil-test-redis.XXXXXX";
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *s, *s2;
	struct event_base *base = event_base_new();
	struct rds *r;
	struct got g = { 0 };
	pid_t old;

	CHECK(mkdtemp(dir) != NULL);
	sc.dir = dir;
	sc.persist = 1;
	s = rds_server_start(&sc, &e);
	if (s == NULL) {
		CHECK(s != NULL);
		event_base_free(base);
		return;
	}
	r = client(base, rds_server_url(s), 0);
	cmd(r, RDS_RETRY, &g, "SET", "kept", "yes");
	LOOP_UNTIL(base, g.calls == 1);
	rds_free(r);
	/* a second start in the same folder stops the first (as after a
	 * kill -9 of vigil) and finds the data again */
	old = rds_server_pid(s);
	s2 = rds_server_start(&sc, &e);
	CHECK(s2 != NULL);
	if (s2 != NULL) {
		CHECK(rds_server_pid(s2) != old);
		CHECK(kill(old, 0) < 0);
		r = client(base, rds_server_url(s2), 0);
		memset(&g, 0, sizeof(g));
		cmd(r, RDS_RETRY, &g, "GET", "kept", NULL);
		LOOP_UNTIL(base, g.calls == 1);
		CHECK_STR(g.str, "yes");
		rds_free(r);
	}
	/* s's child is gone; stopping it only frees */
	rds_server_stop(s);
	rds_server_stop(s2);
	event_base_free(base);
	{
		char cmdline[512];

		snprintf(cmdline, sizeof(cmdline), "rm -rf %s", dir);
		CHECK_INT(system(cmdline), 0);
	}
}

TEST(supervision_restarts_a_dead_server)
{
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *s = rds_server_start(&sc, &e);
	struct event_base *base = event_base_new();
	struct rds *r;
	struct got g = { 0 };
	pid_t first;
	char dir[256];
	struct stat sb;

	if (s == NULL) {
		CHECK(s != NULL);
		event_base_free(base);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", rds_server_url(s) + 7);
	*strrchr(dir, '/') = '\0';
	CHECK_INT(rds_server_supervise(s, base), 0);
	r = client(base, rds_server_url(s), 0);
	LOOP_UNTIL(base, rds_ready(r));
	first = rds_server_pid(s);
	kill(first, SIGKILL);
	LOOP_UNTIL(base, rds_server_restarts(s) == 1 && rds_ready(r) &&
	    rds_stats(r)->connects == 2);
	CHECK_INT(rds_server_restarts(s), 1);
	CHECK(rds_server_pid(s) != first);
	CHECK_INT(rds_ready(r), 1);
	cmd(r, RDS_RETRY, &g, "PING", NULL, NULL);
	LOOP_UNTIL(base, g.calls == 1);
	CHECK_STR(g.str, "PONG");
	rds_free(r);
	rds_server_stop(s);
	/* the temporary folder is gone */
	CHECK(stat(dir, &sb) < 0);
	event_base_free(base);
}

TEST(free_with_outstanding_commands)
{
	struct event_base *base = event_base_new();
	struct rds *r;
	struct got g = { 0 };
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *s = rds_server_start(&sc, &e);

	if (s == NULL) {
		CHECK(s != NULL);
		event_base_free(base);
		return;
	}
	r = client(base, rds_server_url(s), 0);
	LOOP_UNTIL(base, rds_ready(r));
	for (int i = 0; i < 10; i++)
		cmd(r, RDS_RETRY, &g, "PING", NULL, NULL);
	/* written but unanswered, plus never-connected held ones */
	rds_free(r);
	CHECK_INT(g.calls, 10);
	CHECK_INT(g.nulls, 10);
	r = client(base, "unix:///nonexistent/vigil.sock", 0);
	memset(&g, 0, sizeof(g));
	cmd(r, RDS_RETRY, &g, "PING", NULL, NULL);
	rds_free(r);
	CHECK_INT(g.calls, 1);
	CHECK_INT(g.nulls, 1);
	rds_free(NULL);
	rds_server_stop(NULL);
	rds_server_stop(s);
	event_base_free(base);
}

TEST(drain_waits_for_replies)
{
	struct event_base *base = event_base_new();
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };
	struct rds_server *s = rds_server_start(&sc, &e);
	struct rds *r;
	struct got g = { 0 };

	if (s == NULL) {
		CHECK(s != NULL);
		event_base_free(base);
		return;
	}
	r = client(base, rds_server_url(s), 0);
	for (int i = 0; i < 500; i++)
		cmd(r, RDS_RETRY, &g, "INCR", "n", NULL);
	CHECK_INT(rds_drain(r, 20000), 0);
	CHECK_INT(g.calls, 500);
	CHECK_INT(g.ints[499], 500);
	CHECK_INT(rds_outstanding(r), 0);
	rds_free(r);
	rds_server_stop(s);
	event_base_free(base);
}

int main(void)
{
	log_init("test_redis", LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	RUN(urls_parse);
	RUN(commands_pipeline_in_order);
	RUN(scripts_and_noscript);
	RUN(outage_buffers_bounded_and_applies_in_order);
	RUN(outage_order_checked_by_script);
	RUN(inflight_commands_resent_after_break);
	RUN(persistence_and_stale_server);
	RUN(supervision_restarts_a_dead_server);
	RUN(free_with_outstanding_commands);
	RUN(drain_waits_for_replies);
	return unit_done();
}
