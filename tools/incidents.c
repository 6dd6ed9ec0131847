/*
 * incidents.c: `vigil incidents ...` and `vigil silence ...`, a client of
 * vigild's HTTP API (engine/api.h). The address and token come from the
 * configuration (http.listen, http.token_file), or --url / --token-file.
 * Output is text for people, or the API's JSON with --json.
 *
 * Exit status: 0 done, 1 vigild answered with an error or could not be
 * reached, 2 bad usage.
 *
 * libcurl is opened when a request is made, not linked into bin/vigil:
 * with its dependencies it is about thirty shared libraries whose loading
 * and relocation took ~2.5 ms of every vigil start (replay, check,
 * logtest), none of which uses it. libcurl.so.4 comes with vigild's
 * dependencies (libcurl4-openssl-dev).
 */
#include <dlfcn.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "tool.h"
#include "buf.h"
#include "config.h"
#include "vg.h"

struct client {
	char url[512];       /* http://host:port */
	char *token;
	int json;
};

struct reply {
	long status;
	struct buf body;
};

/* The libcurl functions call() uses, from libcurl.so.4. */
static struct {
	int tried;
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;

/* 0 when libcurl is there, else -1 after saying why. */
static int curl_open(void)
{
	void *lib, *f[8];
	static const char *const names[8] = {
		"curl_easy_init", "curl_easy_setopt", "curl_easy_perform",
		"curl_easy_getinfo", "curl_easy_cleanup", "curl_easy_strerror",
		"curl_slist_append", "curl_slist_free_all",
	};

	if (cu.tried)
		return cu.easy_init != NULL ? 0 : -1;
	cu.tried = 1;
	if ((lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "vigil: cannot load libcurl (apt-get install libcurl4): %s\n",
		    dlerror());
		return -1;
	}
	for (int i = 0; i < 8; i++) {
		if ((f[i] = dlsym(lib, names[i])) == NULL) {
			fprintf(stderr, "vigil: libcurl.so.4 has no %s\n", names[i]);
			return -1;
		}
	}
	/* object to function pointer: POSIX guarantees dlsym's results work */
	memcpy(&cu.easy_setopt, &f[1], sizeof(f[1]));
	memcpy(&cu.easy_perform, &f[2], sizeof(f[2]));
	memcpy(&cu.easy_getinfo, &f[3], sizeof(f[3]));
	memcpy(&cu.easy_cleanup, &f[4], sizeof(f[4]));
	memcpy(&cu.easy_strerror, &f[5], sizeof(f[5]));
	memcpy(&cu.slist_append, &f[6], sizeof(f[6]));
	memcpy(&cu.slist_free_all, &f[7], sizeof(f[7]));
	memcpy(&cu.easy_init, &f[0], sizeof(f[0])); /* last: marks success */
	return 0;
}

static size_t write_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct reply *r = arg;
	size_t n = sz * nm;

	if (r->body.len < (8u << 20))
		buf_add(&r->body, p, n);
	return n;
}

/* One request; 0 with the reply (status, body), or -1 after saying why. */
static int call(const struct client *c, const char *method, const char *path,
    const char *body, struct reply *out)
{
	CURL *e;
	struct curl_slist *h = NULL;
	char url[1024], errbuf[CURL_ERROR_SIZE] = "";
	struct buf auth;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	buf_init(&out->body);
	if (curl_open() < 0)
		return -1;
	if ((e = cu.easy_init()) == NULL) {
		fprintf(stderr, "vigil: curl_easy_init failed\n");
		return -1;
	}
	snprintf(url, sizeof(url), "%s%s", c->url, path);
	cu.easy_setopt(e, CURLOPT_URL, url);
	cu.easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	cu.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(e, CURLOPT_TIMEOUT, 30L);
	cu.easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	cu.easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	cu.easy_setopt(e, CURLOPT_WRITEDATA, out);
	buf_init(&auth);
	if (c->token != NULL) {
		buf_printf(&auth, "Authorization: Bearer %s", c->token);
		h = cu.slist_append(h, buf_cstr(&auth));
	}
	if (body != NULL) {
		h = cu.slist_append(h, "Content-Type: application/json");
		cu.easy_setopt(e, CURLOPT_POSTFIELDS, body);
	}
	h = cu.slist_append(h, "Expect:");
	cu.easy_setopt(e, CURLOPT_HTTPHEADER, h);
	rc = cu.easy_perform(e);
	if (rc == CURLE_OK)
		cu.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
	cu.slist_free_all(h);
	cu.easy_cleanup(e);
	buf_free(&auth);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vigil: cannot reach vigild at %s: %s\n", c->url,
		    errbuf[0] ? errbuf : cu.easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* The reply as JSON when 2xx; otherwise print the error and NULL. */
static json_t *answer(const struct client *c, struct reply *r)
{
	json_t *j = json_loadb(r->body.p ? r->body.p : "", r->body.len,
	    JSON_ALLOW_NUL, NULL);

	if (r->status >= 200 && r->status < 300 && j != NULL) {
		if (c->json) {
			fwrite(r->body.p, 1, r->body.len, stdout);
			if (r->body.len > 0 && r->body.p[r->body.len - 1] != '\n')
				putchar('\n');
		}
		return j;
	}
	fprintf(stderr, "vigil: %s (HTTP %ld)\n",
	    json_string_value(json_object_get(j, "error")) ?
	    json_string_value(json_object_get(j, "error")) : "unexpected answer",
	    r->status);
	json_decref(j);
	return NULL;
}

static const char *js(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* Who is acting: $VIGIL_USER, $USER, else the login name. */
static const char *whoami(void)
{
	const char *u = getenv("VIGIL_USER");

	if (u == NULL || *u == '\0')
		u = getenv("USER");
	if (u == NULL || *u == '\0')
		u = getlogin();
	return u != NULL && *u ? u : "unknown";
}

static int client_init(struct client *c, const char *config, const char *url,
    const char *token_file)
{
	struct config *cfg = NULL;
	struct vg_diag d;
	char host[256];
	int port;

	memset(c, 0, sizeof(*c));
	vg_diag_init(&d, stderr);
	if (url == NULL)
		url = getenv("VIGIL_URL");
	if (url == NULL || token_file == NULL) {
		if (config == NULL && access("vigil.yml", F_OK) == 0)
			config = "vigil.yml";
		cfg = config != NULL ? config_load(config, &d) : config_default(".");
		if (cfg == NULL)
			return -1;
	}
	if (url != NULL) {
		snprintf(c->url, sizeof(c->url), "%s", url);
	} else {
		if (cfg->http_listen[0] == '\0' ||
		    config_parse_listen(cfg->http_listen, host, sizeof(host), &port,
		    NULL) < 0) {
			fprintf(stderr, "vigil: the HTTP API is off in %s (http.listen)\n",
			    cfg->file[0] ? cfg->file : "the defaults");
			config_free(cfg);
			return -1;
		}
		/* a wildcard listener is reached on loopback */
		if (strcmp(host, "0.0.0.0") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		else if (strcmp(host, "::") == 0)
			snprintf(host, sizeof(host), "::1");
		snprintf(c->url, sizeof(c->url), strchr(host, ':') ?
		    "http://[%s]:%d" : "http://%s:%d", host, port);
	}
	{
		size_t n = strlen(c->url);

		while (n > 0 && c->url[n - 1] == '/')
			c->url[--n] = '\0';
	}
	if (token_file == NULL && cfg != NULL && cfg->http_token_file[0])
		token_file = cfg->http_token_file;
	if (token_file != NULL && *token_file) {
		FILE *f = fopen(token_file, "r");
		char line[512];

		if (f == NULL) {
			fprintf(stderr, "vigil: cannot read the token file %s\n",
			    token_file);
			config_free(cfg);
			return -1;
		}
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		c->token = vg_strdup(line);
	}
	config_free(cfg);
	return 0;
}

static void client_free(struct client *c)
{
	free(c->token);
}

/* ---- incidents ---- */

static void print_list(const json_t *j)
{
	const json_t *l = json_object_get(j, "incidents"), *e;
	size_t i;

	if (json_array_size(l) == 0) {
		printf("no incidents\n");
		return;
	}
	printf("%-6s %-12s %-13s %6s  %-24s  %s\n", "ID", "STATE", "LEVEL",
	    "ALERTS", "CREATED", "SUMMARY");
	json_array_foreach(l, i, e) {
		printf("%-6s %-12s %-13s %6lld  %-24s  %s\n", js(e, "id"),
		    js(e, "state"), js(json_object_get(e, "rule"), "level"),
		    (long long)json_integer_value(json_object_get(e, "alerts")),
		    js(e, "created_at"), js(e, "summary"));
	}
}

/* A timeline entry's other members as "name=value" pairs. */
static void print_entry(const json_t *e)
{
	const char *k;
	const json_t *v;

	printf("  %s  %-20s", js(e, "ts"), js(e, "type"));
	json_object_foreach((json_t *)e, k, v) {
		char *s;

		if (strcmp(k, "ts") == 0 || strcmp(k, "type") == 0)
			continue;
		s = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT |
		    JSON_ENCODE_ANY);
		printf(" %s=%s", k, s ? s : json_string_value(v));
		free(s);
	}
	putchar('\n');
}

static void print_incident(const json_t *j)
{
	const json_t *a = json_object_get(j, "acknowledged");
	const json_t *r = json_object_get(j, "resolved");
	const json_t *esc = json_object_get(j, "escalation");
	const json_t *e;
	size_t i;

	printf("incident %s: %s\n", js(j, "id"), js(j, "summary"));
	printf("  state:     %s\n", js(j, "state"));
	printf("  rule:      %s (%s, %s)\n", js(json_object_get(j, "rule"), "title"),
	    js(json_object_get(j, "rule"), "id"),
	    js(json_object_get(j, "rule"), "level"));
	printf("  urgency:   %s\n", js(j, "urgency"));
	printf("  key:       %s\n", js(j, "key"));
	printf("  alerts:    %lld (%lld silenced)\n",
	    (long long)json_integer_value(json_object_get(j, "alerts")),
	    (long long)json_integer_value(json_object_get(j, "silenced_alerts")));
	printf("  created:   %s\n", js(j, "created_at"));
	printf("  last:      %s\n", js(j, "last_alert_at"));
	if (json_is_object(a))
		printf("  acked:     %s by %s\n", js(a, "at"), js(a, "by"));
	if (json_is_object(r))
		printf("  resolved:  %s by %s%s%s\n", js(r, "at"), js(r, "by"),
		    *js(r, "note") ? ": " : "", js(r, "note"));
	if (json_is_object(esc))
		printf("  escalation: %s, %lld pages, %s\n", js(esc, "policy"),
		    (long long)json_integer_value(json_object_get(esc, "pages_sent")),
		    js(esc, "state"));
	json_array_foreach(json_object_get(j, "runs"), i, e)
		printf("  playbook:  %s (%s, %lld steps)\n", js(e, "playbook"),
		    js(e, "outcome"),
		    (long long)json_integer_value(json_object_get(e, "steps_run")));
	printf("timeline:\n");
	json_array_foreach(json_object_get(j, "timeline"), i, e)
		print_entry(e);
}

static int usage_incidents(void)
{
	fprintf(stderr, "usage: vigil incidents [-c FILE] [--url URL] "
	    "[--token-file FILE] [--json] COMMAND\n"
	    "  list [--state open|triggered|acknowledged|resolved|all] [--limit N]\n"
	    "  show ID\n"
	    "  ack ID [--by NAME] [--note TEXT]\n"
	    "  resolve ID [--by NAME] [--note TEXT]\n");
	return 2;
}

static const struct option common_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "url", required_argument, NULL, 'u' },
	{ "token-file", required_argument, NULL, 't' },
	{ "json", no_argument, NULL, 'j' },
	{ "state", required_argument, NULL, 's' },
	{ "limit", required_argument, NULL, 'l' },
	{ "by", required_argument, NULL, 'b' },
	{ "note", required_argument, NULL, 'n' },
	{ "author", required_argument, NULL, 'a' },
	{ "comment", required_argument, NULL, 'm' },
	{ "rule", required_argument, NULL, 'R' },
	{ "level", required_argument, NULL, 'L' },
	{ "tag", required_argument, NULL, 'T' },
	{ "field", required_argument, NULL, 'F' },
	{ "duration", required_argument, NULL, 'd' },
	{ "until", required_argument, NULL, 'U' },
	{ "starts", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *config, *url, *token_file, *state, *limit, *by, *note;
	const char *author, *comment, *duration, *until, *starts;
	json_t *rules, *levels, *tags, *fields;
	int json, bad;
};

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->rules = json_array();
	o->levels = json_array();
	o->tags = json_array();
	o->fields = json_object();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", common_opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'u': o->url = optarg; break;
		case 't': o->token_file = optarg; break;
		case 'j': o->json = 1; break;
		case 's': o->state = optarg; break;
		case 'l': o->limit = optarg; break;
		case 'b': o->by = optarg; break;
		case 'n': o->note = optarg; break;
		case 'a': o->author = optarg; break;
		case 'm': o->comment = optarg; break;
		case 'R': json_array_append_new(o->rules, json_string(optarg)); break;
		case 'L': json_array_append_new(o->levels, json_string(optarg)); break;
		case 'T': json_array_append_new(o->tags, json_string(optarg)); break;
		case 'F': {
			const char *eq = strchr(optarg, '=');
			json_t *list;
			char name[256];

			if (eq == NULL || eq == optarg ||
			    (size_t)(eq - optarg) >= sizeof(name)) {
				fprintf(stderr, "vigil: --field expects NAME=VALUE\n");
				o->bad = 1;
				break;
			}
			memcpy(name, optarg, (size_t)(eq - optarg));
			name[eq - optarg] = '\0';
			if ((list = json_object_get(o->fields, name)) == NULL) {
				list = json_array();
				json_object_set_new(o->fields, name, list);
			}
			json_array_append_new(list, json_string(eq + 1));
			break;
		}
		case 'd': o->duration = optarg; break;
		case 'U': o->until = optarg; break;
		case 'S': o->starts = optarg; break;
		default: o->bad = 1; break;
		}
	}
}

static void opts_free(struct opts *o)
{
	json_decref(o->rules);
	json_decref(o->levels);
	json_decref(o->tags);
	json_decref(o->fields);
}

/* Percent-encode s for a path segment or query value. */
static void enc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')
			buf_addc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}


/* One command of incidents or silence, from its options to its answer. */
struct session {
	struct opts o;
	struct client c;
	struct reply rep;
	struct buf path;
	json_t *j;
	const char *sub;     /* the command word: list, show, add ... */
};

/* Options, command word, client: 0 ready, 2 bad usage, 1 no client. */
static int session_open(struct session *s, int argc, char **argv)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->rep.body);
	buf_init(&s->path);
	parse_opts(argc, argv, &s->o);
	if (s->o.bad || optind >= argc)
		return 2;
	/* getopt_long moved the options before the command and its id */
	s->sub = argv[optind++];
	if (client_init(&s->c, s->o.config, s->o.url, s->o.token_file) < 0)
		return 1;
	s->c.json = s->o.json;
	return 0;
}

/* Send a request: 0 with the answer in s->j, or -1 after saying why. */
static int session_ask(struct session *s, const char *method, const char *path,
    const char *body)
{
	if (call(&s->c, method, path, body, &s->rep) < 0)
		return -1;
	return (s->j = answer(&s->c, &s->rep)) != NULL ? 0 : -1;
}

static void session_close(struct session *s)
{
	json_decref(s->j);
	buf_free(&s->rep.body);
	buf_free(&s->path);
	client_free(&s->c);
	opts_free(&s->o);
}

int cmd_incidents(int argc, char **argv)
{
	struct session s;
	int rc = session_open(&s, argc, argv);

	if (rc != 0) {
		session_close(&s);
		return rc == 2 ? usage_incidents() : 1;
	}
	rc = 1;
	if (strcmp(s.sub, "list") == 0 && optind == argc) {
		const char *state = s.o.state != NULL ? s.o.state : "open";

		buf_adds(&s.path, "/api/v1/incidents?state=");
		enc(&s.path, strcmp(state, "all") == 0 ? "" : state);
		buf_adds(&s.path, "&limit=");
		enc(&s.path, s.o.limit ? s.o.limit : "100");
		if (session_ask(&s, "GET", buf_cstr(&s.path), NULL) == 0) {
			if (!s.c.json)
				print_list(s.j);
			rc = 0;
		}
	} else if (strcmp(s.sub, "show") == 0 && optind + 1 == argc) {
		buf_adds(&s.path, "/api/v1/incidents/");
		enc(&s.path, argv[optind]);
		if (session_ask(&s, "GET", buf_cstr(&s.path), NULL) == 0) {
			if (!s.c.json)
				print_incident(s.j);
			rc = 0;
		}
	} else if ((strcmp(s.sub, "ack") == 0 || strcmp(s.sub, "resolve") == 0) &&
	    optind + 1 == argc) {
		json_t *b = json_object();
		char *body;

		json_object_set_new(b, "by", json_string(s.o.by ? s.o.by : whoami()));
		if (s.o.note != NULL)
			json_object_set_new(b, "note", json_string(s.o.note));
		body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
		buf_adds(&s.path, "/api/v1/incidents/");
		enc(&s.path, argv[optind]);
		buf_printf(&s.path, "/%s", s.sub);
		if (session_ask(&s, "POST", buf_cstr(&s.path), body) == 0) {
			if (!s.c.json)
				printf("incident %s %s by %s\n", js(s.j, "id"),
				    js(s.j, "state"), strcmp(s.sub, "ack") == 0 ?
				    js(json_object_get(s.j, "acknowledged"), "by") :
				    js(json_object_get(s.j, "resolved"), "by"));
			rc = 0;
		}
		free(body);
	} else {
		rc = usage_incidents();
	}
	session_close(&s);
	return rc;
}

/* ---- silences ---- */

static int usage_silence(void)
{
	fprintf(stderr, "usage: vigil silence [-c FILE] [--url URL] "
	    "[--token-file FILE] [--json] COMMAND\n"
	    "  add [--rule ID|TITLE]... [--level L]... [--tag T]... "
	    "[--field NAME=VALUE]...\n"
	    "      (--duration 2h | --until TIME) [--starts TIME] --comment TEXT "
	    "[--author NAME]\n"
	    "  list\n"
	    "  delete ID\n");
	return 2;
}

static void print_silences(const json_t *j)
{
	const json_t *l = json_object_get(j, "silences"), *e;
	size_t i;

	if (json_array_size(l) == 0) {
		printf("no silences\n");
		return;
	}
	json_array_foreach(l, i, e) {
		char *m = json_dumps(json_object_get(e, "matchers"), JSON_COMPACT);

		printf("%s  %-8s  %s .. %s  by %s: %s\n    %s\n", js(e, "id"),
		    js(e, "state"), js(e, "starts_at"), js(e, "ends_at"),
		    js(e, "author"), js(e, "comment"), m ? m : "{}");
		free(m);
	}
}

int cmd_silence(int argc, char **argv)
{
	struct session s;
	int rc = session_open(&s, argc, argv);

	if (rc != 0) {
		session_close(&s);
		return rc == 2 ? usage_silence() : 1;
	}
	rc = 1;
	if (strcmp(s.sub, "list") == 0 && optind == argc) {
		if (session_ask(&s, "GET", "/api/v1/silences", NULL) == 0) {
			if (!s.c.json)
				print_silences(s.j);
			rc = 0;
		}
	} else if (strcmp(s.sub, "delete") == 0 && optind + 1 == argc) {
		buf_adds(&s.path, "/api/v1/silences/");
		enc(&s.path, argv[optind]);
		if (session_ask(&s, "DELETE", buf_cstr(&s.path), NULL) == 0) {
			if (!s.c.json)
				printf("silence %s deleted\n", js(s.j, "deleted"));
			rc = 0;
		}
	} else if (strcmp(s.sub, "add") == 0 && optind == argc) {
		json_t *b = json_object(), *m = json_object();
		char *body;

		if (json_array_size(s.o.rules))
			json_object_set(m, "rules", s.o.rules);
		if (json_array_size(s.o.levels))
			json_object_set(m, "levels", s.o.levels);
		if (json_array_size(s.o.tags))
			json_object_set(m, "tags", s.o.tags);
		if (json_object_size(s.o.fields))
			json_object_set(m, "fields", s.o.fields);
		json_object_set_new(b, "matchers", m);
		if (s.o.until != NULL)
			json_object_set_new(b, "ends_at", json_string(s.o.until));
		if (s.o.duration != NULL)
			json_object_set_new(b, "duration", json_string(s.o.duration));
		if (s.o.starts != NULL)
			json_object_set_new(b, "starts_at", json_string(s.o.starts));
		json_object_set_new(b, "author", json_string(s.o.author ?
		    s.o.author : whoami()));
		if (s.o.comment != NULL)
			json_object_set_new(b, "comment", json_string(s.o.comment));
		body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
		if (session_ask(&s, "POST", "/api/v1/silences", body) == 0) {
			if (!s.c.json)
				printf("silence %s until %s\n", js(s.j, "id"),
				    js(s.j, "ends_at"));
			rc = 0;
		}
		free(body);
	} else {
		rc = usage_silence();
	}
	session_close(&s);
	return rc;
}
