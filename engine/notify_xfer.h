/*
 * notify_xfer.h: libcurl transfers (HTTPS, SMTP) driven by a libevent loop
 * through the multi socket interface, so that sending a notification never
 * blocks the loop: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION),
 * and the loop hands readiness back with curl_multi_socket_action().
 * Name resolution uses curl's threaded resolver.
 *
 * One struct notify_xfer per loop thread; everything here runs on it.
 */
#ifndef VG_NOTIFY_XFER_H
#define VG_NOTIFY_XFER_H

#include <curl/curl.h>

#include "vg.h"

struct event_base;
struct notify_xfer;

/* A finished transfer: rc is curl's result; the handle is still the
 * caller's (removed from the multi, not cleaned up). */
typedef void (*notify_xfer_cb)(void *arg, CURL *easy, CURLcode rc);

/* Returns NULL with err when curl cannot be set up. Calls
 * curl_global_init once per process (thread-safe since curl 7.84). */
struct notify_xfer *notify_xfer_new(struct event_base *base,
    struct vg_err *err);
/* Abort every transfer (their callbacks are not called; the caller still
 * owns and cleans up the handles) and free. */
void notify_xfer_free(struct notify_xfer *x);

/* Start easy (configured by the caller); cb runs once from the loop when it
 * ends. Returns 0, or -1 when curl refused it (cb never runs). */
int notify_xfer_add(struct notify_xfer *x, CURL *easy, notify_xfer_cb cb,
    void *arg);
/* Stop one transfer early; its callback is not called. */
void notify_xfer_remove(struct notify_xfer *x, CURL *easy);
/* Transfers running. */
size_t notify_xfer_running(const struct notify_xfer *x);

#endif
