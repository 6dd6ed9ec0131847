/*
 * daemon.c: vigild's start-up, threads and signals. The main thread binds
 * every input once per worker (SO_REUSEPORT), opens the HTTP listener,
 * drops root privileges when `user:` says so, then starts the workers and
 * waits for signals: TERM/INT drain and stop, HUP reopens the alerts file.
 * What the workers do with the sockets is in listen.c; HTTP in httpd.c.
 */
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "api.h"
#include "daemon_int.h"
#include "response.h"

/* Alerts the response raises itself (undeliverable pages) */
static void resp_alert_cb(void *arg, const char *json, size_t len)
{
	struct daemon *d = arg;

	if (alert_sink_write(d->sink, json, len) < 0 ||
	    alert_sink_flush(d->sink) < 0)
		__atomic_add_fetch(&d->sink_errors, 1, __ATOMIC_RELAXED);
}

static void stop_worker_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	listen_drain(w);
	event_base_loopbreak(w->base);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	log_notice("main: signal %d, stopping", (int)sig);
	event_base_loopexit(d->base, NULL);
}

struct corr_ver *corr_ver_get(struct daemon *d, uint64_t gen)
{
	struct corr_ver *v;

	pthread_mutex_lock(&d->corr_lock);
	for (v = d->vers; v != NULL && v->gen > gen; v = v->next)
		;
	if (v != NULL)
		v->refs++;
	pthread_mutex_unlock(&d->corr_lock);
	return v;
}

/* Free v, unlinked, when nobody holds it (corr_lock held). */
static void corr_ver_reap(struct daemon *d, struct corr_ver *v)
{
	struct corr_ver **pp;

	if (v->refs > 0)
		return;
	for (pp = &d->vers; *pp != NULL && *pp != v; pp = &(*pp)->next)
		;
	if (*pp == v)
		*pp = v->next;
	correlate_set_free(v->cs);
	detect_ruleset_unref(v->rs);
	free(v);
}

void corr_ver_put(struct daemon *d, struct corr_ver *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&d->corr_lock);
	v->refs--;
	corr_ver_reap(d, v);
	pthread_mutex_unlock(&d->corr_lock);
}

/* Make cs (may be NULL; compiled over rs) the newest version, for
 * generation gen. Takes cs; adds a reference to rs. Main thread. */
static struct corr_ver *corr_ver_publish(struct daemon *d, struct corr_set *cs,
    const struct ruleset *rs, uint64_t gen)
{
	struct corr_ver *v = vg_calloc(1, sizeof(*v)), *old;

	if (cs != NULL && correlate_rule_count(cs) == 0) {
		correlate_set_free(cs);
		cs = NULL;
	}
	v->gen = gen;
	v->cs = cs;
	v->rs = detect_ruleset_ref(rs);
	v->refs = 1;
	if (cs != NULL)
		__atomic_store_n(&d->corr_on, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&d->corr_lock);
	old = d->vers;
	v->next = old;
	d->vers = v;
	if (old != NULL) {
		old->refs--;
		corr_ver_reap(d, old);
	}
	pthread_mutex_unlock(&d->corr_lock);
	return v;
}

int daemon_reload(struct daemon *d, struct buf *errs)
{
	const struct config *cfg = d->cfg;
	struct detect_opts o;
	struct detect_stats st = { 0 };
	struct vg_diag diag;
	struct ruleset *rs;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint64_t gen, want;
	struct corr_set *cs = NULL;
	struct correlate_load_stats cst = { 0 };
	struct corr_ver *v;

	if (f == NULL)
		return -1;
	memset(&o, 0, sizeof(o));
	o.rule_paths = (const char *const *)cfg->rules;
	o.nrule_paths = cfg->nrules;
	o.mapping_paths = (const char *const *)cfg->rules;
	o.nmapping_paths = cfg->nrules;
	vg_diag_init(&diag, f);
	diag.no_source = 1;
	rs = detect_load(&o, &diag, &st);
	/* the correlation rules are compiled aside too: a broken one keeps
	 * the running set like a broken detection rule */
	if (st.rejected == 0 && diag.errors == 0 && rs != NULL)
		cs = correlate_load(rs, &diag, &cst);
	fclose(f);
	if (st.rejected > 0 || diag.errors > 0 || cst.rejected > 0) {
		char *line, *save = NULL;

		correlate_set_free(cs);
		detect_free(rs);
		__atomic_add_fetch(&d->reloads_failed, 1, __ATOMIC_RELAXED);
		for (line = strtok_r(text, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			log_warnx("rules: %s", line);
			if (errs != NULL)
				buf_printf(errs, "%s\n", line);
		}
		log_warnx("rules: reload failed (%d rejected, %d errors); the "
		    "running rules stay", st.rejected + cst.rejected, diag.errors);
		free(text);
		return -1;
	}
	free(text);
	response_set_rules(d->resp, rs);
	/* published before the swap: a worker that sees the new generation
	 * finds its correlation rules (reloads are serialised here, on the
	 * main thread, so the next generation is known) */
	want = detect_live_gen(d->live) + 1;
	v = corr_ver_publish(d, cs, rs, want);
	gen = detect_live_swap(d->live, rs);
	if (gen != want) {
		pthread_mutex_lock(&d->corr_lock);
		v->gen = gen;
		pthread_mutex_unlock(&d->corr_lock);
	}
	__atomic_add_fetch(&d->reloads_ok, 1, __ATOMIC_RELAXED);
	log_notice("rules: reloaded: %d rules (generation %llu), %d correlation "
	    "rules", st.loaded, (unsigned long long)gen, cst.loaded);
	if (cst.loaded > 0 && d->corr_url == NULL)
		log_warnx("correlate: no Redis: the correlation rules are not run");
	/* idle workers switch now, not at their next message */
	for (int k = 0; k <= d->nworkers; k++) {
		if (d->workers[k].corr_ev != NULL)
			event_active(d->workers[k].corr_ev, EV_READ, 0);
	}
	return 0;
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)sig;
	(void)what;
	worker_flush(&d->workers[d->nworkers]);
	if (alert_sink_reopen(d->sink) < 0)
		log_warn("alert: reopen %s", d->cfg->out_file);
	else
		log_info("alert: reopened %s", d->cfg->out_file);
	daemon_reload(d, NULL);
}

/* A reload published new rules: switch without waiting for a message. */
static void corr_reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t gen = detect_live_gen(w->d->live);

	(void)fd;
	(void)what;
	if (gen > w->corr_gen)
		worker_correlate_sync(w, gen);
}

static int worker_init(struct daemon *d, struct worker *w, int id)
{
	w->d = d;
	w->id = id;
	w->base = id == d->nworkers ? d->base : event_base_new();
	if (w->base == NULL)
		return -1;
	w->pl = pipeline_new(&d->pc, NULL, NULL);
	w->cache = alert_cache_new();
	w->st = vg_calloc(d->ninputs + 1, sizeof(*w->st));
	w->socks = vg_calloc(d->ninputs > 0 ? d->ninputs : 1, sizeof(*w->socks));
	for (size_t i = 0; i < d->ninputs; i++)
		w->socks[i].fd = -1;
	if (id < d->nworkers) {
		w->udp_bufs = vg_malloc((size_t)64 * 65536);
		w->stop_ev = event_new(w->base, -1, 0, stop_worker_cb, w);
		if (listen_batches_init(w) < 0)
			return -1;
	}
	return 0;
}

static void worker_fini(struct worker *w)
{
	if (w->d == NULL)
		return;
	if (w->stop_ev != NULL)
		event_free(w->stop_ev);
	listen_batches_fini(w);
	for (size_t i = 0; i < w->d->ninputs; i++) {
		struct wsock *ws = &w->socks[i];

		if (ws->listener != NULL)
			evconnlistener_free(ws->listener);
		if (ws->ev != NULL)
			event_free(ws->ev);
		if (ws->owns_fd)
			close(ws->fd);
	}
	worker_correlate_stop(w);
	if (w->corr_ev != NULL)
		event_free(w->corr_ev);
	free(w->gen);
	pipeline_free(w->pl);
	alert_cache_free(w->cache);
	buf_free(&w->out);
	free(w->st);
	free(w->socks);
	free(w->udp_bufs);
	if (w->base != NULL && w->base != w->d->base)
		event_base_free(w->base);
}

/* The bearer token for /api/...: the first line of token_file. */
static int load_token(struct daemon *d)
{
	const char *path = d->cfg->http_token_file;
	char line[512];
	FILE *f;
	size_t n;

	if (path == NULL || path[0] == '\0')
		return 0;
	if ((f = fopen(path, "r")) == NULL) {
		log_warn("http: token_file %s", path);
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n < 16) {
		log_warnx("http: token_file %s: the token must be at least 16 "
		    "characters", path);
		return -1;
	}
	d->token = vg_strdup(line);
	return 0;
}

/*
 * Started as root with `user:` set: give root up for good once every port
 * is bound. The alerts file and data_dir are handed to the user first, so
 * that logrotate's SIGHUP can still reopen the file.
 */
static int drop_privileges(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	struct passwd *pw;

	if (cfg->user == NULL || cfg->user[0] == '\0')
		return 0;
	if (geteuid() != 0) {
		log_info("main: user '%s' ignored: not started as root", cfg->user);
		return 0;
	}
	if ((pw = getpwnam(cfg->user)) == NULL) {
		log_warnx("main: user '%s' does not exist", cfg->user);
		return -1;
	}
	if (cfg->data_dir[0] != '\0' && chown(cfg->data_dir, pw->pw_uid,
	    pw->pw_gid) < 0)
		log_warn("main: chown %s", cfg->data_dir);
	if (cfg->out_file[0] != '\0' && chown(cfg->out_file, pw->pw_uid,
	    pw->pw_gid) < 0)
		log_warn("main: chown %s", cfg->out_file);
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		log_warn("main: cannot switch to user '%s'", cfg->user);
		return -1;
	}
	if (setuid(0) == 0) {
		log_warnx("main: could become root again after switching to '%s'",
		    cfg->user);
		return -1;
	}
	log_notice("main: running as %s (uid %d, gid %d)", pw->pw_name,
	    (int)pw->pw_uid, (int)pw->pw_gid);
	return 0;
}

/*
 * Correlation rules of the start-up rule set: one correlator per worker,
 * on the Redis the response service uses (its embedded server, or
 * redis.url). A reload compiles the correlation rules of its set aside
 * (daemon_reload) and each worker switches to them (worker_correlate_sync);
 * window state lives in Redis under each rule's key, so the windows of
 * rules that did not change go on across the reload.
 */
static int correlate_setup(struct daemon *d, const struct ruleset *rules)
{
	struct vg_diag diag;
	struct correlate_load_stats st = { 0 };
	struct corr_set *cs;
	const char *url;
	uint64_t gen = d->live != NULL ? detect_live_gen(d->live) : 0;

	if (rules == NULL)
		return 0;
	url = response_svc_redis_url(d->resp_svc);
	if (url == NULL)
		url = d->cfg->redis_url;
	if (url != NULL && url[0] != '\0')
		d->corr_url = vg_strdup(url);
	vg_diag_init(&diag, stderr);
	cs = correlate_load(rules, &diag, &st);
	corr_ver_publish(d, cs, rules, gen);
	for (int k = 0; k <= d->nworkers; k++) {
		struct worker *w = &d->workers[k];

		w->corr_ev = event_new(w->base, -1, 0, corr_reload_cb, w);
		worker_correlate_sync(w, gen);
		if (d->vers->cs != NULL && w->corr == NULL)
			return -1;
	}
	if (d->vers->cs != NULL)
		log_info("correlate: %zu correlation rules on %s",
		    correlate_rule_count(d->vers->cs), url);
	return 0;
}

static int worker_count(const struct config *cfg)
{
	long n = cfg->workers;

	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	return (int)n;
}

int daemon_run(const struct config *cfg, const struct decode_set *dec,
    const struct ruleset *rules)
{
	struct daemon dd, *d = &dd;
	struct vg_err err = { 0 };
	struct event *sig_term = NULL, *sig_int = NULL, *sig_hup = NULL;
	sigset_t all, old;
	int rc = -1, started = 0;

	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->corr_lock, NULL);
	pthread_mutex_init(&d->sinkq_lock, NULL);
	d->cfg = cfg;
	d->started_ms = vg_now_ms();
	evthread_use_pthreads();
	signal(SIGPIPE, SIG_IGN);
	if (cfg->data_dir[0] != '\0' && mkdir(cfg->data_dir, 0750) < 0 &&
	    errno != EEXIST)
		log_warn("main: cannot create data_dir %s", cfg->data_dir);
	if ((d->sink = alert_sink_open(cfg->out_file, cfg->out_stdout, &err)) == NULL) {
		log_errx("alert: %s", err.msg);
		return -1;
	}
	pipeline_conf_defaults(&d->pc);
	d->pc.decoders = dec;
	d->pc.rules = rules;
	/* the live set takes a reference of its own; main frees its own */
	if (rules != NULL) {
		d->live = detect_live_new(detect_ruleset_ref(rules));
		d->pc.live = d->live;
	}
	d->pc.tz_offset_min = cfg->tz_offset_min;
	d->pc.max_skew_ms = cfg->max_skew_ms;
	d->nworkers = worker_count(cfg);
	d->ninputs = cfg->ninputs;
	d->ins = vg_calloc(d->ninputs > 0 ? d->ninputs : 1, sizeof(*d->ins));
	d->workers = vg_calloc((size_t)d->nworkers + 1, sizeof(*d->workers));
	if ((d->base = event_base_new()) == NULL)
		goto done;
	if (load_token(d) < 0)
		goto done;
	for (size_t i = 0; i < d->ninputs; i++) {
		d->ins[i].conf = &cfg->inputs[i];
		if (cfg->inputs[i].type == INPUT_TLS && listen_tls_init(&d->ins[i]) < 0)
			goto done;
	}
	for (int k = 0; k <= d->nworkers; k++) {
		if (worker_init(d, &d->workers[k], k) < 0)
			goto done;
	}
	for (size_t i = 0; i < d->ninputs; i++) {
		const struct input_conf *ic = &cfg->inputs[i];

		for (int k = 0; k < d->nworkers; k++) {
			if (listen_open(d, &d->workers[k], i) < 0)
				goto done;
		}
		log_info("listener: %s: %s %s%s", ic->name,
		    config_input_type_name(ic->type),
		    ic->type == INPUT_UNIX ? ic->path : ic->listen,
		    ic->ca != NULL ? " (client certificates required)" : "");
	}
	if (httpd_open(d) < 0)
		goto done;
	if (drop_privileges(d) < 0)
		goto done;
	if ((d->resp_svc = response_svc_start(cfg, d->base, NULL, resp_alert_cb, d,
	    &err)) == NULL) {
		log_errx("response: %s", err.msg);
		goto done;
	}
	d->resp = response_svc_response(d->resp_svc);
	response_set_rules(d->resp, rules);
	if (correlate_setup(d, rules) < 0)
		goto done;
	if (d->http != NULL)
		api_register(d->http, d->resp, d->token);

	sig_term = evsignal_new(d->base, SIGTERM, stop_cb, d);
	sig_int = evsignal_new(d->base, SIGINT, stop_cb, d);
	sig_hup = evsignal_new(d->base, SIGHUP, hup_cb, d);
	event_add(sig_term, NULL);
	event_add(sig_int, NULL);
	event_add(sig_hup, NULL);

	/* workers never see signals: the main thread's loop takes them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; started < d->nworkers; started++) {
		struct worker *w = &d->workers[started];

		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			log_warnx("main: cannot start worker %d", started);
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started == d->nworkers) {
		log_notice("main: vigild running: %d workers, %zu decoders, %zu rules",
		    d->nworkers, decode_count(dec), detect_rule_count(rules));
		event_base_dispatch(d->base);
		rc = 0;
	}

	/* stop: no more HTTP ingest; each worker drains what it accepted */
	httpd_close(d);
	__atomic_store_n(&d->draining, 1, __ATOMIC_RELAXED);
	for (int k = 0; k < started; k++)
		event_active(d->workers[k].stop_ev, EV_READ, 0);
	for (int k = 0; k < started; k++)
		pthread_join(d->workers[k].thread, NULL);
	worker_flush(&d->workers[d->nworkers]);
	if (rc == 0)
		log_notice("main: stopped");
done:
	httpd_close(d);
	if (sig_term != NULL) {
		event_free(sig_term);
		event_free(sig_int);
		event_free(sig_hup);
	}
	for (size_t i = 0; i < d->ninputs; i++) {
		/* a unix socket left behind by a failed start */
		if (d->ins[i].conf != NULL && d->ins[i].conf->type == INPUT_UNIX &&
		    d->workers[0].socks != NULL && d->workers[0].socks[i].owns_fd)
			unlink(d->ins[i].conf->path);
	}
	for (int k = 0; k <= d->nworkers; k++)
		worker_fini(&d->workers[k]);
	/* after the workers: freeing their correlators' Redis clients may
	 * still hand the response alerts */
	response_svc_stop(d->resp_svc);
	if (d->vers != NULL) {
		/* the last version: every worker's reference is gone */
		d->vers->refs--;
		corr_ver_reap(d, d->vers);
	}
	pthread_mutex_destroy(&d->corr_lock);
	pthread_mutex_destroy(&d->sinkq_lock);
	free(d->corr_url);
	for (size_t i = 0; i < d->ninputs; i++) {
		if (d->ins[i].tls != NULL)
			SSL_CTX_free(d->ins[i].tls);
	}
	free(d->workers);
	free(d->ins);
	free(d->token);
	if (d->live != NULL)
		detect_live_free(d->live);
	if (d->base != NULL)
		event_base_free(d->base);
	alert_sink_close(d->sink);
	return rc;
}
