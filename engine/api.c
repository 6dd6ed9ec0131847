/*
 * api.c: routing the incident HTTP API (paths in api.h) onto the response
 * service's operations, with the bearer token check, method checks, body
 * size limits and JSON errors. Nothing here touches Redis: the response
 * operations do, and answer through api_reply, which owns nothing but the
 * request (libevent keeps a request whose client went away until it is
 * answered, then frees it).
 */
#include "api.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "response.h"

#define API_MAX_BODY (64 * 1024)

struct api {
	struct response *r;
	char *token;
};

static void api_free(void *p)
{
	struct api *a = p;

	if (a == NULL)
		return;
	if (a->token != NULL) {
		OPENSSL_cleanse(a->token, strlen(a->token));
		free(a->token);
	}
	free(a);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return status < 500 ? "Bad Request" : "Internal Server Error";
	}
}

static void api_reply(void *arg, int status, const char *body, size_t len)
{
	struct evhttp_request *req = arg;
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
	    "no-store");
	evhttp_send_reply(req, status, reason(status), b);
	evbuffer_free(b);
}

static void api_error(struct evhttp_request *req, int status, const char *msg)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "{\"error\":");
	buf_json_str(&b, msg, strlen(msg));
	buf_adds(&b, "}\n");
	api_reply(req, status, b.p, b.len);
	buf_free(&b);
}

static int method_is(struct evhttp_request *req, enum evhttp_cmd_type want,
    const char *allow)
{
	if (evhttp_request_get_command(req) == want)
		return 1;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	api_error(req, 405, "method not allowed here");
	return 0;
}

static int authorized(const struct api *a, struct evhttp_request *req)
{
	const char *h;
	size_t want;

	if (a->token == NULL)
		return 1;
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	want = strlen(a->token);
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0 &&
	    strlen(h + 7) == want && CRYPTO_memcmp(h + 7, a->token, want) == 0)
		return 1;
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "WWW-Authenticate", "Bearer realm=\"vigil\"");
	api_error(req, 401, "missing or wrong bearer token");
	return 0;
}

/* The request body as a NUL-terminated string (owned), "" when empty;
 * NULL after answering 413. */
static char *body_of(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char *s;

	if (n > API_MAX_BODY) {
		api_error(req, 413, "the body is over 64 KiB");
		return NULL;
	}
	s = vg_malloc(n + 1);
	evbuffer_copyout(in, s, n);
	s[n] = '\0';
	*len = n;
	return s;
}

/* A JSON object body (an empty body is {}); NULL after answering. */
static json_t *json_body(struct evhttp_request *req)
{
	size_t len = 0;
	char *s = body_of(req, &len);
	json_t *j;
	json_error_t err;

	if (s == NULL)
		return NULL;
	if (len == 0 || strspn(s, " \t\r\n") == len) {
		free(s);
		return json_object();
	}
	j = json_loadb(s, len, JSON_REJECT_DUPLICATES, &err);
	free(s);
	if (!json_is_object(j)) {
		json_decref(j);
		api_error(req, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* An optional string member; -1 after answering when it is not one. */
static int opt_str(struct evhttp_request *req, json_t *j, const char *name,
    const char **out)
{
	json_t *v = json_object_get(j, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		struct buf b;

		buf_init(&b);
		buf_printf(&b, "%s: expected a string", name);
		api_error(req, 400, buf_cstr(&b));
		buf_free(&b);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* The path segment after prefix (up to the next '/'), copied into out;
 * returns what follows it ("" or "/..."). */
static const char *segment(const char *p, char *out, size_t cap)
{
	size_t n = strcspn(p, "/");

	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return p + strcspn(p, "/");
}

static void incidents(struct api *a, struct evhttp_request *req,
    const char *rest)
{
	char id[64];
	const char *tail;
	json_t *j;
	const char *by, *note;

	if (*rest == '\0') {
		struct evkeyvalq q;
		const char *query = evhttp_uri_get_query(
		    evhttp_request_get_evhttp_uri(req));
		const char *state = NULL, *limit = NULL;
		long lim = 100;

		if (!method_is(req, EVHTTP_REQ_GET, "GET"))
			return;
		TAILQ_INIT(&q);
		if (query != NULL && evhttp_parse_query_str(query, &q) < 0) {
			api_error(req, 400, "bad query string");
			return;
		}
		state = evhttp_find_header(&q, "state");
		limit = evhttp_find_header(&q, "limit");
		if (limit != NULL) {
			char *end;

			lim = strtol(limit, &end, 10);
			if (*limit == '\0' || *end != '\0')
				lim = -1;
		}
		response_incidents(a->r, state, lim, api_reply, req);
		evhttp_clear_headers(&q);
		return;
	}
	tail = segment(rest + 1, id, sizeof(id));
	if (*tail == '\0') {
		if (method_is(req, EVHTTP_REQ_GET, "GET"))
			response_incident(a->r, id, api_reply, req);
		return;
	}
	if (strcmp(tail, "/ack") != 0 && strcmp(tail, "/resolve") != 0) {
		api_error(req, 404, "no such endpoint");
		return;
	}
	if (!method_is(req, EVHTTP_REQ_POST, "POST"))
		return;
	if ((j = json_body(req)) == NULL)
		return;
	if (opt_str(req, j, "by", &by) == 0 && opt_str(req, j, "note", &note) == 0) {
		if (strcmp(tail, "/ack") == 0)
			response_ack(a->r, id, by, note, api_reply, req);
		else
			response_resolve(a->r, id, by, note, api_reply, req);
	}
	json_decref(j);
}

static void silences(struct api *a, struct evhttp_request *req,
    const char *rest)
{
	char id[64];

	if (*rest == '\0') {
		enum evhttp_cmd_type m = evhttp_request_get_command(req);

		if (m == EVHTTP_REQ_GET) {
			response_silences(a->r, api_reply, req);
		} else if (m == EVHTTP_REQ_POST) {
			size_t len = 0;
			char *body = body_of(req, &len);

			if (body != NULL)
				response_silence_add(a->r, body, len, api_reply, req);
			free(body);
		} else {
			method_is(req, EVHTTP_REQ_GET, "GET, POST");
		}
		return;
	}
	if (*segment(rest + 1, id, sizeof(id)) != '\0' || id[0] == '\0') {
		api_error(req, 404, "no such endpoint");
		return;
	}
	if (method_is(req, EVHTTP_REQ_DELETE, "DELETE"))
		response_silence_delete(a->r, id, api_reply, req);
}

static void approvals(struct api *a, struct evhttp_request *req,
    const char *rest)
{
	char id[64];
	json_t *j;
	const char *dec, *by, *comment;

	if (*rest == '\0') {
		if (method_is(req, EVHTTP_REQ_GET, "GET"))
			response_approvals(a->r, api_reply, req);
		return;
	}
	if (*segment(rest + 1, id, sizeof(id)) != '\0' || id[0] == '\0') {
		api_error(req, 404, "no such endpoint");
		return;
	}
	if (!method_is(req, EVHTTP_REQ_POST, "POST"))
		return;
	if ((j = json_body(req)) == NULL)
		return;
	if (opt_str(req, j, "decision", &dec) == 0 &&
	    opt_str(req, j, "by", &by) == 0 &&
	    opt_str(req, j, "comment", &comment) == 0) {
		if (dec == NULL || (strcmp(dec, "approve") != 0 &&
		    strcmp(dec, "deny") != 0))
			api_error(req, 400, "decision: expected approve or deny");
		else
			response_approve(a->r, id, strcmp(dec, "approve") == 0, by,
			    comment, api_reply, req);
	}
	json_decref(j);
}

int api_route(struct evhttp_request *req, void *arg)
{
	struct response *r = arg;
	struct api *a = response_api(r);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	static const struct {
		const char *prefix;
		void (*fn)(struct api *, struct evhttp_request *, const char *);
	} routes[] = {
		{ "/api/v1/incidents", incidents },
		{ "/api/v1/silences", silences },
		{ "/api/v1/approvals", approvals },
	};
	char clean[512];
	size_t n;

	if (a == NULL || path == NULL)
		return 0;
	n = strlen(path);
	if (n >= sizeof(clean))
		return 0;
	memcpy(clean, path, n + 1);
	if (n > 1 && clean[n - 1] == '/')
		clean[--n] = '\0';
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t pl = strlen(routes[i].prefix);

		if (strncmp(clean, routes[i].prefix, pl) != 0 ||
		    (clean[pl] != '\0' && clean[pl] != '/'))
			continue;
		if (authorized(a, req))
			routes[i].fn(a, req, clean + pl);
		return 1;
	}
	return 0;
}

static void exact_cb(struct evhttp_request *req, void *arg)
{
	if (!api_route(req, arg))
		api_error(req, 404, "no such endpoint");
}

void api_register(struct evhttp *http, struct response *r, const char *token)
{
	struct api *a = vg_calloc(1, sizeof(*a));

	a->r = r;
	a->token = token != NULL && *token ? vg_strdup(token) : NULL;
	response_set_api(r, a, api_free);
	evhttp_set_cb(http, "/api/v1/incidents", exact_cb, r);
	evhttp_set_cb(http, "/api/v1/silences", exact_cb, r);
	evhttp_set_cb(http, "/api/v1/approvals", exact_cb, r);
}
