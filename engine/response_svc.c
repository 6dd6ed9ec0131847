/*
 * response_svc.c: what vigild needs to run the response service on its
 * main loop: the Redis connection (to redis.url, or to the embedded,
 * supervised redis-server in data_dir when none is configured), then the
 * service itself. Kept apart so that daemon.c starts and stops it with one
 * call each.
 */
#include "response.h"

#include <stdlib.h>

#include "log.h"
#include "redis.h"

struct response_svc {
	struct rds_server *srv;
	struct rds *rds;
	struct response *r;
};

struct response_svc *response_svc_start(const struct config *cfg,
    struct event_base *base, const char *redis_url,
    void (*on_alert)(void *arg, const char *json, size_t len), void *arg,
    struct vg_err *err)
{
	struct response_svc *s = vg_calloc(1, sizeof(*s));
	struct rds_conf rc = { 0 };
	struct response_conf c = { 0 };
	struct vg_diag d;

	if (redis_url == NULL || *redis_url == '\0')
		redis_url = cfg->redis_url;
	if (redis_url == NULL || *redis_url == '\0') {
		struct rds_server_conf sc = { 0 };

		sc.dir = cfg->data_dir;
		sc.persist = 1;
		if ((s->srv = rds_server_start(&sc, err)) == NULL)
			goto fail;
		if (rds_server_supervise(s->srv, base) < 0) {
			vg_err_set(err, NULL, 0, 0, "cannot supervise redis-server");
			goto fail;
		}
		redis_url = rds_server_url(s->srv);
	}
	rc.url = redis_url;
	rc.name = "response";
	if ((s->rds = rds_new(base, &rc, err)) == NULL)
		goto fail;
	vg_diag_init(&d, stderr);
	c.cfg = cfg;
	c.base = base;
	c.rds = s->rds;
	c.on_alert = on_alert;
	c.arg = arg;
	if ((s->r = response_new(&c, &d, err)) == NULL)
		goto fail;
	return s;
fail:
	response_svc_stop(s);
	return NULL;
}

struct response *response_svc_response(const struct response_svc *s)
{
	return s ? s->r : NULL;
}

const char *response_svc_redis_url(const struct response_svc *s)
{
	return s && s->srv ? rds_server_url(s->srv) : NULL;
}

void response_svc_stop(struct response_svc *s)
{
	if (s == NULL)
		return;
	response_free(s->r);
	rds_free(s->rds);
	rds_server_stop(s->srv);
	free(s);
}
