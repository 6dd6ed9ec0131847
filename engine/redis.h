/*
 * redis.h: vigil's Redis client and the embedded redis-server.
 *
 * The client (struct rds) is one asynchronous connection bound to a libevent
 * loop, for any module that keeps state in Redis (correlation windows,
 * incidents, the notification outbox). It never blocks and never crashes
 * when Redis goes away:
 *  - commands are written with hiredis' async API, so everything issued
 *    during one loop iteration leaves in one write (pipelining);
 *  - scripts are registered once (rds_script), loaded on every connect and
 *    called by SHA (rds_evalsha); a NOSCRIPT reply reloads the script and
 *    resends the command, invisibly to the caller;
 *  - while Redis is unreachable, commands flagged RDS_RETRY wait in a bounded
 *    buffer (count and bytes; the oldest are dropped and counted when it is
 *    full), and so do those that were in flight when the connection broke;
 *    the buffer is sent, in order, once the connection is back;
 *  - reconnection uses exponential backoff with jitter.
 *
 * The embedded server (struct rds_server) is a private redis-server started
 * as a child process on a unix socket in a data folder, with append-only
 * persistence, supervised (restarted when it dies) and stopped on exit.
 *
 * Functions are prefixed rds_ because hiredis owns the redis prefix.
 * A struct rds belongs to the thread that runs its event loop.
 */
#ifndef VG_REDIS_H
#define VG_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "vg.h"

struct event_base;
struct redisReply; /* hiredis' reply: type, integer, str/len, element[] */

/* A parsed Redis URL:
 *   redis://[[user]:password@]host[:port][/db]   (host may be [v6addr])
 *   unix://[[user]:password@]/path/to/socket[?db=N]
 * Password bytes may be percent-encoded. */
struct rds_url {
	int is_unix;
	char host[256];
	int port;          /* 6379 by default */
	char path[108];    /* unix socket path */
	char password[256];
	int db;            /* 0..; SELECTed after connect when not 0 */
};

/* Returns 0, or -1 with a reason in err. Pure; any thread. */
int rds_parse_url(const char *url, struct rds_url *out, struct vg_err *err);

struct rds_conf {
	const char *url;
	const char *name;         /* who uses the connection, for log lines and
	                             metrics labels ("correlate"); may be NULL */
	size_t max_pending;       /* RDS_RETRY commands held while Redis is
	                             unreachable or busy; 0: 100000 */
	size_t max_pending_bytes; /* 0: 64 MiB */
	size_t max_inflight;      /* written and unanswered before more are
	                             held back; 0: 65536 */
	int64_t backoff_min_ms;   /* first reconnect delay; 0: 100 */
	int64_t backoff_max_ms;   /* 0: 5000 */
	int64_t connect_timeout_ms; /* 0: 2000 */
};

struct rds_stats {
	uint64_t commands;        /* accepted by rds_cmd / rds_evalsha */
	uint64_t replies;         /* replies handed to callers */
	uint64_t error_replies;   /* of which Redis errors */
	uint64_t dropped;         /* held commands dropped (buffer full) or
	                             refused (no RDS_RETRY while down) */
	uint64_t retried;         /* resent after the connection broke */
	uint64_t noscript;        /* NOSCRIPT replies (script reloaded) */
	uint64_t connects;        /* connections made ready */
	uint64_t disconnects;     /* ready connections lost */
	uint64_t connect_failures;
	size_t pending;           /* held now */
	size_t pending_bytes;
	size_t inflight;          /* written, waiting for their reply */
	int ready;                /* connected, scripts loaded */
};

/* Flags of a command. */
enum {
	/* Keep the command while Redis is unreachable (bounded buffer) and
	 * resend it if the connection breaks before its reply: at-least-once.
	 * Without it, a command issued while the connection is down is refused
	 * and one in flight when it breaks gets a NULL reply. */
	RDS_RETRY = 1,
};

/*
 * Reply callback: reply is borrowed for the call (NULL when the command was
 * dropped, refused after a broken connection, or the client is being
 * freed). Called exactly once for every accepted command, from the loop
 * (never from inside rds_cmd). It may issue new commands.
 */
typedef void (*rds_reply_cb)(void *arg, const struct redisReply *reply);

struct rds;

/*
 * A client for c->url on base; connecting starts at once, in the
 * background. Returns NULL with err set only for a bad URL. Borrows base
 * and c (strings are copied).
 */
struct rds *rds_new(struct event_base *base, const struct rds_conf *c,
    struct vg_err *err);
/* Disconnect; every outstanding command's callback runs with NULL first. */
void rds_free(struct rds *r);

/* Register a Lua script (copied); returns its handle (>= 0). It is loaded
 * now if connected and on every later connect. */
int rds_script(struct rds *r, const char *body);
/* The script's SHA1 as 40 hex digits. */
const char *rds_script_sha(const struct rds *r, int script);

/*
 * Issue a command (argv[0] is the command name; argvlen may be NULL for
 * NUL-terminated strings). argv is copied. Returns 0 when accepted (cb runs
 * later, exactly once), or -1 when refused (cb never runs; counted in
 * dropped): no RDS_RETRY and not connected.
 */
int rds_cmd(struct rds *r, unsigned flags, rds_reply_cb cb, void *arg,
    int argc, const char **argv, const size_t *argvlen);
/* EVALSHA of a registered script with argv[0..nkeys) as KEYS and the rest
 * as ARGV; same contract as rds_cmd. */
int rds_evalsha(struct rds *r, unsigned flags, int script, rds_reply_cb cb,
    void *arg, int nkeys, int argc, const char **argv, const size_t *argvlen);

/* Connected and scripts loaded. */
int rds_ready(const struct rds *r);
/* Commands accepted and not yet answered (held + in flight). */
size_t rds_outstanding(const struct rds *r);
const struct rds_stats *rds_stats(const struct rds *r);
struct event_base *rds_base(const struct rds *r);

/*
 * Backpressure for a caller that stopped feeding r while Redis was behind:
 * cb(arg) runs once, from the loop right after the reply (or the loss of
 * the connection) that brought rds_outstanding(r) to low or below or made
 * r not ready. It must not issue commands or free r from inside (defer
 * that, e.g. with event_active). One watch at a time: a later call
 * replaces it; cb NULL cancels it. rds_free drops it without a call.
 */
void rds_watch_low(struct rds *r, size_t low, void (*cb)(void *), void *arg);

/*
 * Run the loop until every outstanding command is answered, or timeout_ms
 * (wall clock) passes. Only for callers that own the loop and are not inside
 * it (replay, tests). Returns 0 when drained, -1 on timeout.
 */
int rds_drain(struct rds *r, int64_t timeout_ms);

/* Append Prometheus lines vigil_redis_*{conn="<name>"} for r. */
void rds_metrics(const struct rds *r, struct buf *out);

/* ---- the embedded redis-server ---- */

struct rds_server_conf {
	const char *dir;     /* data folder (created if missing); NULL: a
	                        private temporary folder, removed on stop */
	int persist;         /* append-only file in dir (ignored for a
	                        temporary folder) */
	const char *binary;  /* NULL: redis-server from PATH */
};

struct rds_server;

/*
 * Start redis-server on <dir>/redis.sock (no TCP) and wait until it answers
 * (it may first replay its append-only file). A server left running in dir
 * by an earlier process (its pid file names a live redis-server) is stopped
 * first, so its data is flushed and loaded again by ours. The child gets
 * SIGTERM if the thread that started it dies. Blocks up to ~30 s; start-up
 * only. Returns NULL with err set on failure.
 */
struct rds_server *rds_server_start(const struct rds_server_conf *c,
    struct vg_err *err);
/* "unix://<dir>/redis.sock"; lives as long as s. */
const char *rds_server_url(const struct rds_server *s);
pid_t rds_server_pid(const struct rds_server *s);
/* Times the server was restarted by supervision. */
uint64_t rds_server_restarts(const struct rds_server *s);
/*
 * Watch the child from base (every 500 ms): when it has died, log it and
 * start it again (with backoff), without waiting; clients reconnect on
 * their own. Returns 0, or -1 if the timer cannot be added.
 */
int rds_server_supervise(struct rds_server *s, struct event_base *base);
/* Stop supervision, then SIGTERM (append-only file flushed), SIGKILL after
 * 10 s; remove a temporary folder. rds_server_stop(NULL) is a no-op. */
void rds_server_stop(struct rds_server *s);

#endif
