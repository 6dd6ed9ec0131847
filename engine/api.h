/*
 * api.h: the incident HTTP API on vigild's evhttp listener.
 *
 *   GET    /api/v1/incidents[?state=open|triggered|acknowledged|resolved&limit=N]
 *   GET    /api/v1/incidents/{id}
 *   POST   /api/v1/incidents/{id}/ack       {"by": "alice", "note": "..."}
 *   POST   /api/v1/incidents/{id}/resolve   {"by": "alice", "note": "..."}
 *   GET    /api/v1/silences
 *   POST   /api/v1/silences                 {"matchers": {...}, "ends_at" | "duration",
 *                                            "author", "comment", ["starts_at"]}
 *   DELETE /api/v1/silences/{id}
 *   GET    /api/v1/approvals                (pending ones)
 *   POST   /api/v1/approvals/{id}           {"decision": "approve" | "deny", "by": "bob",
 *                                            "comment": "..."}
 *
 * With a token configured every request needs `Authorization: Bearer
 * <token>` (compared in constant time). Errors are JSON objects
 * {"error": "..."} with the status saying what kind: 400 bad input, 401 no
 * or wrong token, 403 not allowed (approver outside the group), 404 no such
 * thing, 405 wrong method (with Allow), 409 conflict (already resolved,
 * already decided), 413 body over 64 KiB, 503 Redis unavailable.
 *
 * Runs on the loop that serves the evhttp (the response loop).
 */
#ifndef VG_API_H
#define VG_API_H

struct evhttp;
struct evhttp_request;
struct response;

/* Serve the API for r on http: the exact paths are registered with
 * evhttp_set_cb; paths with ids reach api_route through the listener's
 * generic callback. token: the bearer token, or NULL for none (copied).
 * The API's state is freed with r. */
void api_register(struct evhttp *http, struct response *r, const char *token);

/* Handle req when its path belongs to the API (arg: the struct response,
 * may be NULL); 1 when it did (a reply is sent, now or later), 0 when the
 * path is not the API's. */
int api_route(struct evhttp_request *req, void *arg);

#endif
