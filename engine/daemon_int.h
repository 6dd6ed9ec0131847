/*
 * daemon_int.h: vigild's internals shared by daemon.c (start-up, workers,
 * signals, privileges), listen.c (sockets, connections, framing, TLS) and
 * httpd.c (metrics, health, HTTP ingest). Not a public interface.
 *
 * Threads: one per worker, each with its own event_base, its own
 * SO_REUSEPORT sockets and its own pipeline. Datagrams are processed in the
 * thread that read them. A stream connection is served by the worker that
 * had the fewest when it was accepted; that worker frames it, cuts the
 * frames into batches and hands some to idle workers' pipelines (struct
 * batch), so one busy connection keeps every core working; the alerts of
 * its batches are written by the reading worker in the order the batches
 * were read. The main thread handles signals and serves HTTP (its HTTP
 * ingest has a pipeline too). Counters are written by one thread only and
 * read by the metrics handler with relaxed atomics.
 */
#ifndef VG_DAEMON_INT_H
#define VG_DAEMON_INT_H

#include <pthread.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "alert.h"
#include "buf.h"
#include "config.h"
#include "correlate.h"
#include "log.h"
#include "pipeline.h"

/* A counter with one writer; readers use CTR_GET from any thread. */
#define CTR_ADD(x, n) __atomic_store_n(&(x), \
	__atomic_load_n(&(x), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
#define CTR_SET(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define CTR_GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Why a message was lost; the label of vigil_messages_dropped_total. */
enum drop_reason {
	DROP_KERNEL,     /* UDP: the socket's receive buffer overflowed (read
	                    from the sockets, not counted in input_stats) */
	DROP_ERROR,      /* receive error */
	DROP_NOT_JSON,   /* HTTP ingest line that is not a JSON object */
	DROP_N
};

/* Why a connection was refused or cut. */
enum conn_reason {
	CONN_MAX,        /* max_connections reached */
	CONN_TLS,        /* TLS handshake failed (bad certificate, ...) */
	CONN_IDLE,       /* idle_timeout */
	CONN_ERROR,      /* socket error */
	CONN_N
};

/* Per worker and input; one writer (the worker). */
struct input_stats {
	uint64_t received, bytes, truncated, partial;
	uint64_t dropped[DROP_N];
	uint64_t accepted;        /* connections */
	uint64_t closed[CONN_N];  /* refused or cut, by reason */
};

/* Per input, shared by the workers. */
struct input_shared {
	const struct input_conf *conf;
	SSL_CTX *tls;             /* tls inputs */
	int open;                 /* open connections (atomic) */
};

struct conn;
struct batch;
struct adopt;

/* One worker's socket for one input. */
struct wsock {
	struct worker *w;
	size_t idx;               /* input index */
	struct input_shared *in;
	int fd;                   /* udp/unix; -1 for stream inputs */
	int owns_fd;
	struct event *ev;
	struct evconnlistener *listener;
};

struct daemon;

/*
 * The correlation rules of one rule set generation (hot reload): compiled
 * by the main thread beside the detection rules, published before the
 * swap, and taken by each worker when its pipeline reaches that
 * generation. cs is NULL when the set has no correlation rules. rs is a
 * reference to the rule set cs points into. Freed (under daemon.corr_lock)
 * when superseded and no worker's correlator uses it any more.
 */
struct corr_ver {
	struct corr_ver *next;    /* older */
	uint64_t gen;
	struct corr_set *cs;
	const struct ruleset *rs;
	int refs;                 /* workers' correlators, + 1 while newest */
};

/* A correlator replaced by a reload, kept until Redis answered what it
 * sent (its updates are not lost), then freed. */
struct corr_retired {
	struct corr_retired *next;
	struct rds *rds;
	struct correlator *corr;
	struct corr_ver *cv;
	struct correlate_stats cst0; /* its counters when retired */
	struct rds_stats rst0;
};

struct worker {
	struct daemon *d;
	int id;                   /* 0..nworkers-1; nworkers: the main thread */
	pthread_t thread;
	struct event_base *base;
	struct pipeline *pl;
	struct buf out;           /* alerts not yet handed to the sink */
	struct alert_cache *cache; /* per-rule constant parts of alert lines */
	uint64_t cache_gen;       /* the rule set generation cache is for */
	struct wsock *socks;      /* one per input; NULL entries for inputs
	                             this worker does not serve */
	struct input_stats *st;   /* one per input (+1 for HTTP ingest) */
	struct pipeline_stats pst; /* published copy of the pipeline's */
	uint64_t alerts;
	/* correlation: a client and a correlator on base for the rules of
	 * cv (NULL without correlation rules); corr_gen: the rule set
	 * generation they follow */
	struct rds *rds;
	struct correlator *corr;
	struct corr_ver *cv;
	uint64_t corr_gen;
	struct corr_retired *retired;
	struct event *retire_ev;  /* 250 ms tick: frees drained retired
	                             correlators, publishes counters */
	struct event *corr_ev;    /* main: a reload published new rules */
	uint64_t corr_alerts;     /* atomic */
	/* published copies (CTR_SET / CTR_GET per counter) of the counters of
	 * the correlator and its client, including those of retired ones
	 * (cst_base, rst_base: counted before they were replaced) */
	struct correlate_stats cst, cst_base;
	struct rds_stats rst, rst_base;
	const struct rule **gen;  /* scratch: the matches whose detections
	                             are written (Sigma generate) */
	size_t gcap;
	struct conn *conns;
	/* batches this worker framed, in reading order, until their alerts
	 * are written (owner only) */
	struct batch *fifo_head, *fifo_tail;
	struct batch *fifo_sub;   /* the first not yet handed to the sink
	                             queue; before it, batches wait until
	                             written */
	size_t fifo_len;
	struct batch *spare;      /* recycled batches (owner only) */
	struct vg_event *cev;     /* scratch: a recorded event rebuilt for
	                             the correlator */
	struct event *done_ev;    /* another worker finished one of ours */
	int stalled;              /* a connection waits for fifo room */
	int corr_paused;          /* Redis is behind: connections wait until
	                             the correlator's client has caught up
	                             (rds_watch_low on rds) */
	/* batches other workers hand to this one's pipeline */
	pthread_mutex_t inbox_lock;
	struct batch *inbox_head, *inbox_tail;
	int inbox_closed;         /* draining: no more handed in */
	int inbox_depth;          /* queued or running here (atomic) */
	struct event *inbox_ev;
	unsigned next_peer;       /* where the next batch is offered */
	int reading;              /* framing its own connections' input
	                             (atomic): peers offer it no batch then */
	/* stream connections: served here (atomic, counting those handed
	 * over and not yet adopted), and those another worker accepted and
	 * handed over (under inbox_lock; adopt_closed: draining) */
	int nconns;
	struct adopt *adopt_head;
	int adopt_closed;
	struct event *adopt_ev;
	struct event *stop_ev;
	char *udp_bufs;           /* receive buffers: datagrams, and plain TCP
	                             reads (TCP_READ_MAX) */
	struct log_rl rl_sink, rl_conn;
};

struct daemon {
	struct detect_live *live; /* the running rule set (hot reload) */
	uint64_t reloads_ok, reloads_failed; /* atomic */
	const struct config *cfg;
	struct pipeline_conf pc;
	struct event_base *base;  /* main thread: signals, HTTP */
	struct alert_sink *sink;
	struct input_shared *ins;
	size_t ninputs;
	struct worker *workers;   /* nworkers + 1: the last is the main thread */
	int nworkers;
	struct evhttp *http;
	char *token;              /* bearer token for /api/..., or NULL */
	struct response_svc *resp_svc; /* incidents, playbooks, paging */
	struct response *resp;    /* its service; workers submit alerts */
	/* correlation rule sets by generation, newest first (corr_lock) */
	pthread_mutex_t corr_lock;
	struct corr_ver *vers;
	char *corr_url;           /* the Redis correlators use, or NULL */
	int corr_on;              /* some generation had correlation rules:
	                             /metrics shows correlation (atomic) */
	uint64_t sink_errors;     /* atomic */
	/* batches whose alerts wait for the sink, in hand-over order: one
	 * worker at a time writes them all (sinkq_busy), the others go on
	 * instead of waiting on the sink's lock */
	pthread_mutex_t sinkq_lock;
	struct batch *sinkq_head, *sinkq_tail;
	int sinkq_busy;
	int draining;             /* stopping: batches stay where read (atomic) */
	int64_t started_ms;
};

/* listen.c */
int listen_open(struct daemon *d, struct worker *w, size_t i);
void listen_close(struct worker *w);
void listen_drain(struct worker *w);
/* Batch hand-over between workers (after worker_init, before the threads
 * start; listen_batches_fini after they stopped). */
int listen_batches_init(struct worker *w);
void listen_batches_fini(struct worker *w);
int listen_tls_init(struct input_shared *in);
void process_msg(struct worker *w, size_t input, const char *msg, size_t len,
    const char *peer);
void worker_flush(struct worker *w);
void worker_publish(struct worker *w);
/* Make w's correlator follow the correlation rules of generation gen
 * (the newest published at or before it): a new correlator for new rules,
 * the old one retired until drained. w's thread (or before it starts). */
void worker_correlate_sync(struct worker *w, uint64_t gen);
/* Free w's correlators (after its loop stopped). */
void worker_correlate_stop(struct worker *w);
/* What the kernel dropped on a datagram socket (any thread). */
uint64_t listen_kernel_drops(const struct wsock *ws);

/* daemon.c: compile the configured rules aside and swap them in; on any
 * error the running set stays. errs (may be NULL) gets the diagnostics.
 * Main thread. */
int daemon_reload(struct daemon *d, struct buf *errs);
/* The newest correlation version at or before gen, with a reference for
 * the caller (NULL when none); corr_ver_put drops it. Any thread. */
struct corr_ver *corr_ver_get(struct daemon *d, uint64_t gen);
void corr_ver_put(struct daemon *d, struct corr_ver *v);

/* httpd.c */
int httpd_open(struct daemon *d);
void httpd_close(struct daemon *d);

#endif
