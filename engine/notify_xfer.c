/*
 * notify_xfer.c: the curl multi socket interface on libevent.
 *
 * Each socket curl cares about gets one persistent event whose flags follow
 * curl's wishes; curl's single timeout is one timer. Completed transfers are
 * collected with curl_multi_info_read after every action. A callback may
 * add new transfers; it may not free the notify_xfer.
 *
 * curl is never called from inside its own callbacks: a timeout of 0 from
 * CURLMOPT_TIMERFUNCTION is served by an immediate timer, as the curl
 * documentation asks.
 */
#include "notify_xfer.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

struct sock {
	struct notify_xfer *x;
	curl_socket_t fd;
	struct event *ev;
	struct sock *prev, *next;
};

struct job {
	CURL *easy;
	notify_xfer_cb cb;
	void *arg;
	struct job *prev, *next;
};

struct notify_xfer {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	int running;
	size_t njobs;
	struct job *jobs;        /* every transfer added and not finished */
	struct sock *socks;      /* every socket curl asked us to watch */
};

#define LIST_ADD(head, e)                                               \
	do {                                                            \
		(e)->prev = NULL;                                       \
		(e)->next = (head);                                     \
		if ((head) != NULL)                                     \
			(head)->prev = (e);                             \
		(head) = (e);                                           \
	} while (0)

#define LIST_DEL(head, e)                                               \
	do {                                                            \
		if ((e)->prev != NULL)                                  \
			(e)->prev->next = (e)->next;                    \
		else                                                    \
			(head) = (e)->next;                             \
		if ((e)->next != NULL)                                  \
			(e)->next->prev = (e)->prev;                    \
	} while (0)

static void job_forget(struct notify_xfer *x, struct job *j)
{
	curl_multi_remove_handle(x->multi, j->easy);
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, NULL);
	LIST_DEL(x->jobs, j);
	x->njobs--;
	free(j);
}

static void check_done(struct notify_xfer *x)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(x->multi, &left)) != NULL) {
		struct job *j = NULL;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
		if (j != NULL) {
			notify_xfer_cb cb = j->cb;
			void *arg = j->arg;

			job_forget(x, j);
			cb(arg, easy, rc);
		} else {
			curl_multi_remove_handle(x->multi, easy);
		}
	}
}

static void event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify_xfer *x = ((struct sock *)arg)->x;
	int flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(x->multi, fd, flags, &x->running);
	check_done(x);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify_xfer *x = arg;

	(void)fd;
	(void)what;
	curl_multi_socket_action(x->multi, CURL_SOCKET_TIMEOUT, 0, &x->running);
	check_done(x);
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct notify_xfer *x = arg;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(x->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(x->timer, &tv);
	return 0;
}

static int curl_sock_cb(CURL *easy, curl_socket_t fd, int what, void *arg,
    void *sockp)
{
	struct notify_xfer *x = arg;
	struct sock *s = sockp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			LIST_DEL(x->socks, s);
			free(s);
			curl_multi_assign(x->multi, fd, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (s == NULL) {
		s = vg_calloc(1, sizeof(*s));
		s->x = x;
		s->fd = fd;
		LIST_ADD(x->socks, s);
		curl_multi_assign(x->multi, fd, s);
	} else {
		event_free(s->ev);
	}
	s->ev = event_new(x->base, fd, kind, event_cb, s);
	event_add(s->ev, NULL);
	return 0;
}

struct notify_xfer *notify_xfer_new(struct event_base *base,
    struct vg_err *err)
{
	struct notify_xfer *x;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		vg_err_set(err, NULL, 0, 0, "curl_global_init failed");
		return NULL;
	}
	x = vg_calloc(1, sizeof(*x));
	x->base = base;
	if ((x->multi = curl_multi_init()) == NULL) {
		vg_err_set(err, NULL, 0, 0, "curl_multi_init failed");
		free(x);
		return NULL;
	}
	x->timer = evtimer_new(base, timer_cb, x);
	curl_multi_setopt(x->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
	curl_multi_setopt(x->multi, CURLMOPT_SOCKETDATA, x);
	curl_multi_setopt(x->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(x->multi, CURLMOPT_TIMERDATA, x);
	return x;
}

int notify_xfer_add(struct notify_xfer *x, CURL *easy, notify_xfer_cb cb,
    void *arg)
{
	struct job *j = vg_calloc(1, sizeof(*j));

	j->easy = easy;
	j->cb = cb;
	j->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, j);
	if (curl_multi_add_handle(x->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(j);
		return -1;
	}
	LIST_ADD(x->jobs, j);
	x->njobs++;
	return 0;
}

void notify_xfer_remove(struct notify_xfer *x, CURL *easy)
{
	struct job *j = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
	if (j != NULL)
		job_forget(x, j);
}

size_t notify_xfer_running(const struct notify_xfer *x)
{
	return x->njobs;
}

void notify_xfer_free(struct notify_xfer *x)
{
	if (x == NULL)
		return;
	while (x->jobs != NULL)
		job_forget(x, x->jobs);
	curl_multi_cleanup(x->multi);
	/* sockets of cached connections curl did not report removed */
	while (x->socks != NULL) {
		struct sock *s = x->socks;

		LIST_DEL(x->socks, s);
		event_free(s->ev);
		free(s);
	}
	event_free(x->timer);
	free(x);
}
