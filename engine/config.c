/*
 * config.c: vigil.yml into struct config.
 *
 * Every key has a row in a keyword table next to its handler; a key that is
 * in no table is an error, as is a key given twice, a value of the wrong
 * type, an address that cannot be bound, an input that lacks what its type
 * needs. The loader never stops at the first problem: each one is reported
 * once to the struct vg_diag as `file:line:col: error: message`, and only at
 * the end does the load fail. A null value (`key:` with nothing after it, or
 * `~`) means the same as leaving the key out: the default applies.
 *
 * Relative paths are joined to the config file's folder, lexically (no
 * realpath, no check that they exist: the loaders that open them report
 * missing files with their own positions). oncall and channels are only
 * checked to be a map or a list; their module reads the kept YAML trees.
 *
 * Load-time only; nothing here runs on the event path.
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ytree.h"

#define DEFAULT_MAX_SKEW_MS (7 * 86400 * 1000LL)


struct loader {
	struct vg_diag *d;  /* may be NULL: errors are still counted here */
	struct config *c;
	int errors;
};

static void lerr(struct loader *L, const struct ynode *n, const char *fmt, ...)
    VG_PRINTF(3, 4);

static void lerr(struct loader *L, const struct ynode *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	L->errors++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vg_diag_error(L->d, n->file, n->line, n->col, "%s", msg);
}

#define ERR lerr

/* A keyword: its handler gets the value node, never a null one. */
struct key {
	const char *name;
	void (*fn)(struct loader *L, const struct ynode *v);
};

const char *config_input_type_name(enum input_type t)
{
	switch (t) {
	case INPUT_UDP:
		return "udp";
	case INPUT_TCP:
		return "tcp";
	case INPUT_TLS:
		return "tls";
	case INPUT_UNIX:
		return "unix";
	}
	return "?";
}

static const char *const level_names[] = {
	"informational", "low", "medium", "high", "critical",
};

int config_parse_level(const char *s)
{
	for (size_t i = 0; s != NULL && i < VG_ARRAY_LEN(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

const char *config_level_name(int level)
{
	if (level < 0 || (size_t)level >= VG_ARRAY_LEN(level_names))
		return "?";
	return level_names[level];
}

/* ---- small parsers, exported for the listener, http and correlate ---- */

static int valid_hostname(const char *h, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

int config_parse_listen(const char *s, char *host, size_t hostcap, int *port,
    const char **why)
{
	const char *colon, *h, *p, *dummy;
	size_t hlen;
	char tmp[256];
	unsigned char addr[16];
	long v;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':') {
			*why = "expected [address]:port";
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		p = close + 2;
		if (hlen == 0 || hlen >= sizeof(tmp))
			goto bad6;
		memcpy(tmp, h, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, addr) != 1)
			goto bad6;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || colon == s) {
			*why = "expected host:port";
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*why = "an IPv6 address needs brackets, as in [::1]:5514";
			return -1;
		}
		h = s;
		hlen = (size_t)(colon - s);
		p = colon + 1;
		if (strspn(h, "0123456789.") >= hlen) {
			if (hlen >= sizeof(tmp))
				goto bad4;
			memcpy(tmp, h, hlen);
			tmp[hlen] = '\0';
			if (inet_pton(AF_INET, tmp, addr) != 1)
				goto bad4;
		} else if (!valid_hostname(h, hlen)) {
			*why = "invalid host name";
			return -1;
		}
	}
	if (*p == '\0') {
		*why = "missing port";
		return -1;
	}
	if (strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 ||
	    (v = strtol(p, NULL, 10)) < 1 || v > 65535) {
		*why = "port must be a number from 1 to 65535";
		return -1;
	}
	if (host != NULL) {
		if (hlen >= hostcap) {
			*why = "host name too long";
			return -1;
		}
		memcpy(host, h, hlen);
		host[hlen] = '\0';
	}
	if (port != NULL)
		*port = (int)v;
	return 0;
bad6:
	*why = "invalid IPv6 address";
	return -1;
bad4:
	*why = "invalid IPv4 address";
	return -1;
}

int config_parse_duration(const char *s, int64_t *ms)
{
	int64_t total = 0;
	size_t i = 0;

	if (s == NULL || *s == '\0')
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		/* bare number: seconds */
		int64_t v = 0;

		for (; s[i]; i++) {
			if (v > (INT64_MAX / 1000 - 9) / 10)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		*ms = v * 1000;
		return 0;
	}
	while (s[i] != '\0') {
		int64_t v = 0, unit;
		size_t start = i;

		for (; s[i] >= '0' && s[i] <= '9'; i++) {
			if (v > (INT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		if (i == start)
			return -1;
		if (s[i] == 'm' && s[i + 1] == 's') {
			unit = 1;
			i += 2;
		} else if (s[i] == 's') {
			unit = 1000;
			i++;
		} else if (s[i] == 'm') {
			unit = 60 * 1000;
			i++;
		} else if (s[i] == 'h') {
			unit = 3600 * 1000;
			i++;
		} else if (s[i] == 'd') {
			unit = 86400 * 1000;
			i++;
		} else {
			return -1;
		}
		if (v > INT64_MAX / unit || total > INT64_MAX - v * unit)
			return -1;
		total += v * unit;
	}
	*ms = total;
	return 0;
}

int config_parse_tz(const char *s, int *off_min)
{
	int sign, h, m;
	size_t n = strlen(s);

	if (strcmp(s, "Z") == 0 || (n == 3 && vg_lower((unsigned char)s[0]) == 'u' &&
	    vg_lower((unsigned char)s[1]) == 't' && vg_lower((unsigned char)s[2]) == 'c')) {
		*off_min = 0;
		return 0;
	}
	if (n < 5 || (s[0] != '+' && s[0] != '-'))
		return -1;
	sign = s[0] == '-' ? -1 : 1;
#define D(i) (s[i] >= '0' && s[i] <= '9')
	if (n == 6 && D(1) && D(2) && s[3] == ':' && D(4) && D(5)) {
		h = (s[1] - '0') * 10 + (s[2] - '0');
		m = (s[4] - '0') * 10 + (s[5] - '0');
	} else if (n == 5 && D(1) && D(2) && D(3) && D(4)) {
		h = (s[1] - '0') * 10 + (s[2] - '0');
		m = (s[3] - '0') * 10 + (s[4] - '0');
	} else {
		return -1;
	}
#undef D
	if (h > 23 || m > 59)
		return -1;
	*off_min = sign * (h * 60 + m);
	return 0;
}

/* ---- paths ---- */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return vg_strdup(".");
	n = (size_t)(slash - path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n == 0)
		return vg_strdup("/");
	return vg_strndup(path, n);
}

/* p joined to dir unless absolute or empty; "." adds nothing. Owned. */
static char *resolve(const char *dir, const char *p)
{
	size_t dl, pl;
	char *out;

	if (p[0] == '/' || p[0] == '\0' || dir[0] == '\0' || strcmp(dir, ".") == 0)
		return vg_strdup(p);
	dl = strlen(dir);
	pl = strlen(p);
	out = vg_malloc(dl + pl + 2);
	memcpy(out, dir, dl);
	if (dir[dl - 1] != '/')
		out[dl++] = '/';
	memcpy(out + dl, p, pl + 1);
	return out;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **one_path(const char *dir, const char *p, size_t *n)
{
	char **v = vg_malloc(sizeof(*v));

	v[0] = resolve(dir, p);
	*n = 1;
	return v;
}

int config_parse_size(const char *s, size_t *bytes)
{
	uint64_t v = 0, unit = 1;
	size_t i = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > ((uint64_t)1 << 40))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	switch (s[i]) {
	case '\0':
		break;
	case 'k': case 'K':
		unit = (uint64_t)1 << 10;
		break;
	case 'm': case 'M':
		unit = (uint64_t)1 << 20;
		break;
	case 'g': case 'G':
		unit = (uint64_t)1 << 30;
		break;
	default:
		return -1;
	}
	if (s[i] != '\0') {
		i++;
		if (strcmp(s + i, "") != 0 && strcmp(s + i, "iB") != 0 &&
		    strcmp(s + i, "B") != 0)
			return -1;
	}
	if (v > ((uint64_t)1 << 30) / unit)
		return -1;
	*bytes = (size_t)(v * unit);
	return 0;
}

static void input_defaults(struct input_conf *in)
{
	in->max_message = INPUT_DEFAULT_MAX_MESSAGE;
	in->rcvbuf = INPUT_DEFAULT_RCVBUF;
	in->idle_timeout_ms = INPUT_DEFAULT_IDLE_MS;
	in->max_connections = INPUT_DEFAULT_MAX_CONNECTIONS;
}

static void free_input(struct input_conf *in)
{
	free(in->name);
	free(in->listen);
	free(in->path);
	free(in->cert);
	free(in->key);
	free(in->ca);
}

static void free_inputs(struct input_conf *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_input(&v[i]);
	free(v);
}

/* ---- defaults ---- */

struct config *config_default(const char *dir)
{
	struct config *c = vg_calloc(1, sizeof(*c));

	if (dir == NULL || *dir == '\0')
		dir = ".";
	c->file = vg_strdup("");
	c->dir = vg_strdup(dir);
	c->ninputs = 2;
	c->inputs = vg_calloc(2, sizeof(*c->inputs));
	input_defaults(&c->inputs[0]);
	input_defaults(&c->inputs[1]);
	c->inputs[0].name = vg_strdup("syslog-udp");
	c->inputs[0].type = INPUT_UDP;
	c->inputs[0].listen = vg_strdup("127.0.0.1:5514");
	c->inputs[1].name = vg_strdup("syslog-tcp");
	c->inputs[1].type = INPUT_TCP;
	c->inputs[1].listen = vg_strdup("127.0.0.1:5514");
	c->redis_url = vg_strdup("");
	c->redis_prefix = vg_strdup("vigil:");
	c->parsers = one_path(dir, "parsers", &c->nparsers);
	c->rules = one_path(dir, "rules", &c->nrules);
	c->playbooks = one_path(dir, "playbooks", &c->nplaybooks);
	c->out_file = resolve(dir, "var/alerts.jsonl");
	c->out_stdout = 0;
	c->out_redis_stream = vg_strdup("");
	c->http_listen = vg_strdup("127.0.0.1:8514");
	c->http_token_file = vg_strdup("");
	c->workers = 0;
	c->data_dir = resolve(dir, "var");
	c->user = vg_strdup("");
	c->tz_offset_min = 0;
	c->max_skew_ms = DEFAULT_MAX_SKEW_MS;
	c->response.exec_dirs = vg_calloc(1, sizeof(char *));
	c->response.protected = vg_calloc(1, sizeof(char *));
	c->response.min_level = LEVEL_HIGH;
	c->response.group_wait_ms = RESPONSE_DEFAULT_GROUP_WAIT_MS;
	c->response.group_interval_ms = RESPONSE_DEFAULT_GROUP_INTERVAL_MS;
	c->response.repeat_interval_ms = RESPONSE_DEFAULT_REPEAT_INTERVAL_MS;
	c->response.auto_resolve_ms = RESPONSE_DEFAULT_AUTO_RESOLVE_MS;
	c->response.resolved_ttl_ms = RESPONSE_DEFAULT_RESOLVED_TTL_MS;
	c->response.default_policy = vg_strdup("");
	c->response.url = vg_strdup("");
	return c;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->file);
	free(c->dir);
	free_inputs(c->inputs, c->ninputs);
	free(c->redis_url);
	free(c->redis_prefix);
	free_list(c->parsers, c->nparsers);
	free_list(c->rules, c->nrules);
	free_list(c->playbooks, c->nplaybooks);
	free(c->out_file);
	free(c->out_redis_stream);
	free(c->http_listen);
	free(c->http_token_file);
	free(c->data_dir);
	free(c->user);
	free_list(c->response.exec_dirs, c->response.nexec_dirs);
	free_list(c->response.protected, c->response.nprotected);
	free(c->response.default_policy);
	free(c->response.url);
	ytree_free_docs(c->ydocs, c->nydocs);
	free(c);
}

/* ---- map walking ---- */

/* Edit distance of a and b, or a big number when either is long. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], tmp;

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb];
}

/*
 * Check every key of map against names[0..n): report unknown and repeated
 * keys, and fill vals[j] / keys[j] (either may be NULL) with the value and
 * key node of names[j], left NULL when absent or null. When fns is given,
 * fns[j] is called with the value as the key is met, so that diagnostics
 * come out in file order. `where` names the map in messages ("" for the top
 * level).
 */
static void walk_map(struct loader *L, const struct ynode *map, const char *where,
    const char *const *names, size_t n, const struct ynode **vals,
    const struct ynode **keys,
    void (*const *fns)(struct loader *L, const struct ynode *v))
{
	uint64_t seen = 0;

	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		size_t j;

		if (k->kind != YN_SCALAR) {
			ERR(L, k, "expected a key name%s%s, got %s", *where ? " in " : "",
			    where, ytree_kind_name(k));
			continue;
		}
		for (j = 0; j < n && strcmp(k->str, names[j]) != 0; j++)
			;
		if (j == n || strlen(k->str) != k->len) {
			const char *best = NULL;
			/* a typo, not a different word: 1 edit, 2 in long keys */
			size_t bestd = k->len >= 6 ? 3 : 2;

			for (j = 0; k->len > 2 && j < n; j++) {
				size_t dist = edit_distance(k->str, names[j]);

				if (dist < bestd) {
					best = names[j];
					bestd = dist;
				}
			}
			ERR(L, k, "unknown key '%s'%s%s%s%s%s", k->str,
			    *where ? " in " : "", where,
			    best ? " (did you mean '" : "", best ? best : "",
			    best ? "'?)" : "");
			continue;
		}
		if (seen & ((uint64_t)1 << j)) {
			ERR(L, k, "duplicate key '%s'%s%s", k->str, *where ? " in " : "",
			    where);
			continue;
		}
		seen |= (uint64_t)1 << j;
		if (ytree_is_null(v))
			continue;
		if (vals != NULL)
			vals[j] = v;
		if (keys != NULL)
			keys[j] = k;
		if (fns != NULL && fns[j] != NULL)
			fns[j](L, v);
	}
}

/* v as an owned string, or -1 after reporting why not. */
static int get_str(struct loader *L, const char *what, const struct ynode *v,
    char **out)
{
	if (v->kind != YN_SCALAR) {
		ERR(L, v, "%s: expected a string, got %s", what, ytree_kind_name(v));
		return -1;
	}
	if (strlen(v->str) != v->len) {
		ERR(L, v, "%s: contains a NUL byte", what);
		return -1;
	}
	free(*out);
	*out = vg_strndup(v->str, v->len);
	return 0;
}

/* A path: empty only when allow_empty (then kept ""), else resolved. */
static int get_path(struct loader *L, const char *what, const struct ynode *v,
    int allow_empty, char **out)
{
	char *s = NULL;

	if (get_str(L, what, v, &s) < 0)
		return -1;
	if (*s == '\0' && !allow_empty) {
		ERR(L, v, "%s: expected a path, got an empty string", what);
		free(s);
		return -1;
	}
	free(*out);
	*out = resolve(L->c->dir, s);
	free(s);
	return 0;
}

static int get_bool(struct loader *L, const char *what, const struct ynode *v,
    int *out)
{
	if (ytree_bool(v, out) < 0) {
		ERR(L, v, "%s: expected true or false", what);
		return -1;
	}
	return 0;
}

static int get_listen(struct loader *L, const char *what, const struct ynode *v,
    int allow_empty, char **out)
{
	char *s = NULL;
	const char *why;

	if (get_str(L, what, v, &s) < 0)
		return -1;
	if (!(allow_empty && *s == '\0') &&
	    config_parse_listen(s, NULL, 0, NULL, &why) < 0) {
		ERR(L, v, "%s: invalid address '%s': %s", what, s, why);
		free(s);
		return -1;
	}
	free(*out);
	*out = s;
	return 0;
}

/* A list of paths, or one path as a string. */
static void get_paths(struct loader *L, const char *what, const struct ynode *v,
    char ***listp, size_t *np)
{
	char **list;
	size_t n = 0;
	int bad = 0;

	if (v->kind == YN_SCALAR) {
		char *p = NULL;

		if (get_path(L, what, v, 0, &p) < 0)
			return;
		free_list(*listp, *np);
		*listp = vg_malloc(sizeof(char *));
		(*listp)[0] = p;
		*np = 1;
		return;
	}
	if (v->kind != YN_SEQ) {
		ERR(L, v, "%s: expected a list of paths, got %s", what,
		    ytree_kind_name(v));
		return;
	}
	list = vg_calloc(v->n ? v->n : 1, sizeof(*list));
	for (size_t i = 0; i < v->n; i++) {
		if (get_path(L, what, v->items[i], 0, &list[n]) < 0)
			bad = 1;
		else
			n++;
	}
	if (bad) {
		free_list(list, n);
		return;
	}
	free_list(*listp, *np);
	*listp = list;
	*np = n;
}

static int expect_map(struct loader *L, const char *what, const struct ynode *v)
{
	if (v->kind != YN_MAP) {
		ERR(L, v, "%s: expected a map, got %s", what, ytree_kind_name(v));
		return -1;
	}
	return 0;
}

/* ---- inputs ---- */

enum {
	IK_NAME, IK_TYPE, IK_LISTEN, IK_PATH, IK_CERT, IK_KEY, IK_CA,
	IK_MAXMSG, IK_RCVBUF, IK_IDLE, IK_MAXCONN, IK_N
};
static const char *const input_keys[IK_N] = {
	"name", "type", "listen", "path", "cert", "key", "ca",
	"max_message", "rcvbuf", "idle_timeout", "max_connections",
};

/* The operational knobs of an input: sizes, durations, counts. */
static void parse_input_limits(struct loader *L, const char *where,
    const struct ynode *const *v, struct input_conf *in)
{
	size_t sz;
	int64_t ms;

	if (v[IK_MAXMSG] != NULL) {
		if (v[IK_MAXMSG]->kind != YN_SCALAR ||
		    config_parse_size(v[IK_MAXMSG]->str, &sz) < 0 || sz < 480)
			ERR(L, v[IK_MAXMSG], "%s.max_message: expected a size from 480 "
			    "bytes to 1 GiB, like 65536, 64k or 1M", where);
		else
			in->max_message = sz;
	}
	if (v[IK_RCVBUF] != NULL) {
		if (v[IK_RCVBUF]->kind != YN_SCALAR ||
		    config_parse_size(v[IK_RCVBUF]->str, &sz) < 0 || sz < 4096)
			ERR(L, v[IK_RCVBUF], "%s.rcvbuf: expected a size from 4k to "
			    "1 GiB, like 8M", where);
		else
			in->rcvbuf = sz;
	}
	if (v[IK_IDLE] != NULL) {
		if (v[IK_IDLE]->kind != YN_SCALAR ||
		    strlen(v[IK_IDLE]->str) != v[IK_IDLE]->len ||
		    config_parse_duration(v[IK_IDLE]->str, &ms) < 0)
			ERR(L, v[IK_IDLE], "%s.idle_timeout: expected a duration like "
			    "30s, 10m or 1h, or 0 for none", where);
		else
			in->idle_timeout_ms = ms;
	}
	if (v[IK_MAXCONN] != NULL) {
		const struct ynode *n = v[IK_MAXCONN];

		if (n->kind != YN_SCALAR || n->len == 0 || n->len > 7 ||
		    strspn(n->str, "0123456789") != n->len || atoi(n->str) < 1)
			ERR(L, n, "%s.max_connections: expected an integer from 1 to "
			    "9999999", where);
		else
			in->max_connections = atoi(n->str);
	}
}

static int valid_input_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* Parse one input map into *in; 0 when it is complete and valid. */
static int parse_input(struct loader *L, const struct ynode *m, size_t idx,
    struct input_conf *in)
{
	const struct ynode *v[IK_N] = { 0 }, *k[IK_N] = { 0 };
	char where[48], what[64];
	int errs = L->errors, have_type = 0;

	snprintf(where, sizeof(where), "inputs[%zu]", idx);
	if (m->kind != YN_MAP) {
		ERR(L, m, "%s: expected a map, got %s", where, ytree_kind_name(m));
		return -1;
	}
	in->line = m->line;
	input_defaults(in);
	walk_map(L, m, where, input_keys, IK_N, v, k, NULL);

	if (v[IK_NAME] == NULL) {
		ERR(L, m, "%s: missing 'name'", where);
	} else {
		snprintf(what, sizeof(what), "%s.name", where);
		if (get_str(L, what, v[IK_NAME], &in->name) == 0 &&
		    !valid_input_name(in->name))
			ERR(L, v[IK_NAME], "%s: '%s' is not a valid input name "
			    "(letters, digits, '.', '_' and '-')", what, in->name);
	}
	if (v[IK_TYPE] == NULL) {
		ERR(L, m, "%s: missing 'type'", where);
	} else if (v[IK_TYPE]->kind != YN_SCALAR) {
		ERR(L, v[IK_TYPE], "%s.type: expected udp, tcp, tls or unix, got %s",
		    where, ytree_kind_name(v[IK_TYPE]));
	} else {
		static const enum input_type types[] = {
			INPUT_UDP, INPUT_TCP, INPUT_TLS, INPUT_UNIX,
		};

		for (size_t i = 0; i < VG_ARRAY_LEN(types); i++) {
			if (strcmp(v[IK_TYPE]->str, config_input_type_name(types[i])) == 0) {
				in->type = types[i];
				have_type = 1;
			}
		}
		if (!have_type)
			ERR(L, v[IK_TYPE], "%s.type: unknown input type '%s' "
			    "(expected udp, tcp, tls or unix)", where, v[IK_TYPE]->str);
	}
	if (have_type) {
		/* keys that the type takes; the others are mistakes */
		int takes[IK_N] = { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

		if (in->type == INPUT_UNIX)
			takes[IK_PATH] = 1;
		else
			takes[IK_LISTEN] = 1;
		if (in->type == INPUT_UDP || in->type == INPUT_UNIX)
			takes[IK_RCVBUF] = 1;
		else
			takes[IK_MAXMSG] = takes[IK_IDLE] = takes[IK_MAXCONN] = 1;
		parse_input_limits(L, where, v, in);
		if (in->type == INPUT_TLS)
			takes[IK_CERT] = takes[IK_KEY] = takes[IK_CA] = 1;
		for (int i = 0; i < IK_N; i++) {
			if (k[i] != NULL && !takes[i])
				ERR(L, k[i], "%s: '%s' does not apply to %s inputs", where,
				    input_keys[i], config_input_type_name(in->type));
		}
		if (in->type == INPUT_UNIX) {
			snprintf(what, sizeof(what), "%s.path", where);
			if (v[IK_PATH] == NULL)
				ERR(L, m, "%s: unix input needs 'path'", where);
			else
				get_path(L, what, v[IK_PATH], 0, &in->path);
		} else {
			snprintf(what, sizeof(what), "%s.listen", where);
			if (v[IK_LISTEN] == NULL)
				ERR(L, m, "%s: %s input needs 'listen'", where,
				    config_input_type_name(in->type));
			else
				get_listen(L, what, v[IK_LISTEN], 0, &in->listen);
		}
		if (in->type == INPUT_TLS) {
			static const int tk[] = { IK_CERT, IK_KEY, IK_CA };
			char **dst[] = { &in->cert, &in->key, &in->ca };

			if (v[IK_CERT] == NULL || v[IK_KEY] == NULL)
				ERR(L, m, "%s: tls input needs 'cert' and 'key'", where);
			for (size_t i = 0; i < VG_ARRAY_LEN(tk); i++) {
				if (v[tk[i]] == NULL)
					continue;
				snprintf(what, sizeof(what), "%s.%s", where, input_keys[tk[i]]);
				get_path(L, what, v[tk[i]], 0, dst[i]);
			}
		}
	}
	return L->errors == errs ? 0 : -1;
}

static void h_inputs(struct loader *L, const struct ynode *v)
{
	struct input_conf *ins;
	size_t n = 0;
	int bad = 0;

	if (v->kind != YN_SEQ) {
		ERR(L, v, "inputs: expected a list, got %s", ytree_kind_name(v));
		return;
	}
	ins = vg_calloc(v->n ? v->n : 1, sizeof(*ins));
	for (size_t i = 0; i < v->n; i++) {
		struct input_conf *in = &ins[n];
		const struct ynode *item = v->items[i];

		if (parse_input(L, item, i, in) < 0) {
			/* without a valid name it cannot clash; keep looking */
			free_input(in);
			memset(in, 0, sizeof(*in));
			bad = 1;
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			if (strcmp(ins[j].name, in->name) == 0) {
				const struct ynode *nn = ytree_get(item, "name");

				ERR(L, nn, "inputs[%zu]: duplicate input name '%s' "
				    "(first at line %d)", i, in->name, ins[j].line);
				bad = 1;
				break;
			}
		}
		n++;
	}
	if (bad) {
		free_inputs(ins, n);
		return;
	}
	free_inputs(L->c->inputs, L->c->ninputs);
	L->c->inputs = ins;
	L->c->ninputs = n;
}

/* ---- the other sections ---- */

static void h_redis(struct loader *L, const struct ynode *v)
{
	static const char *const names[] = { "url", "prefix" };
	const struct ynode *vals[2] = { 0 };

	if (expect_map(L, "redis", v) < 0)
		return;
	walk_map(L, v, "redis", names, 2, vals, NULL, NULL);
	if (vals[0] != NULL) {
		char *url = NULL;

		if (get_str(L, "redis.url", vals[0], &url) == 0) {
			static const char *const schemes[] = {
				"redis://", "rediss://", "unix://",
			};
			int ok = *url == '\0';

			for (size_t i = 0; !ok && i < VG_ARRAY_LEN(schemes); i++) {
				size_t sl = strlen(schemes[i]);

				if (strncmp(url, schemes[i], sl) == 0 && url[sl] != '\0')
					ok = i < 2 || url[sl] == '/';
			}
			if (!ok) {
				ERR(L, vals[0], "redis.url: expected \"\" (embedded) or a "
				    "redis://host:port/db, rediss://... or unix:///path URL, "
				    "got '%s'", url);
				free(url);
			} else {
				free(L->c->redis_url);
				L->c->redis_url = url;
			}
		}
	}
	if (vals[1] != NULL)
		get_str(L, "redis.prefix", vals[1], &L->c->redis_prefix);
}

static void h_parsers(struct loader *L, const struct ynode *v)
{
	get_paths(L, "parsers", v, &L->c->parsers, &L->c->nparsers);
}

static void h_rules(struct loader *L, const struct ynode *v)
{
	get_paths(L, "rules", v, &L->c->rules, &L->c->nrules);
}

static void h_playbooks(struct loader *L, const struct ynode *v)
{
	get_paths(L, "playbooks", v, &L->c->playbooks, &L->c->nplaybooks);
}

static void h_outputs(struct loader *L, const struct ynode *v)
{
	static const char *const names[] = { "file", "stdout", "redis_stream" };
	const struct ynode *vals[3] = { 0 };

	if (expect_map(L, "outputs", v) < 0)
		return;
	walk_map(L, v, "outputs", names, 3, vals, NULL, NULL);
	if (vals[0] != NULL)
		get_path(L, "outputs.file", vals[0], 1, &L->c->out_file);
	if (vals[1] != NULL)
		get_bool(L, "outputs.stdout", vals[1], &L->c->out_stdout);
	if (vals[2] != NULL)
		get_str(L, "outputs.redis_stream", vals[2], &L->c->out_redis_stream);
}

static void h_http(struct loader *L, const struct ynode *v)
{
	static const char *const names[] = { "listen", "token_file" };
	const struct ynode *vals[2] = { 0 };

	if (expect_map(L, "http", v) < 0)
		return;
	walk_map(L, v, "http", names, 2, vals, NULL, NULL);
	if (vals[0] != NULL)
		get_listen(L, "http.listen", vals[0], 1, &L->c->http_listen);
	if (vals[1] != NULL)
		get_path(L, "http.token_file", vals[1], 1, &L->c->http_token_file);
}

static void h_oncall(struct loader *L, const struct ynode *v)
{
	if (v->kind == YN_SCALAR)
		ERR(L, v, "oncall: expected a map or a list, got %s", ytree_kind_name(v));
	else
		L->c->oncall = v;
}

static void h_channels(struct loader *L, const struct ynode *v)
{
	if (v->kind == YN_SCALAR)
		ERR(L, v, "channels: expected a map or a list, got %s",
		    ytree_kind_name(v));
	else
		L->c->channels = v;
}

static void h_workers(struct loader *L, const struct ynode *v)
{
	long n = 0;
	size_t i;

	/* decimal only: strtol's base 0 would read "010" as 8 */
	if (v->kind != YN_SCALAR || v->len == 0 || v->len > 9 ||
	    (i = strspn(v->str, "0123456789")) != v->len) {
		ERR(L, v, "workers: expected an integer >= 0");
		return;
	}
	n = strtol(v->str, NULL, 10);
	if (n > WORKERS_MAX) {
		ERR(L, v, "workers: at most %d", WORKERS_MAX);
		return;
	}
	L->c->workers = (int)n;
}

static void h_data_dir(struct loader *L, const struct ynode *v)
{
	get_path(L, "data_dir", v, 0, &L->c->data_dir);
}

static void h_user(struct loader *L, const struct ynode *v)
{
	get_str(L, "user", v, &L->c->user);
}

static void h_time(struct loader *L, const struct ynode *v)
{
	static const char *const names[] = { "timezone", "max_skew" };
	const struct ynode *vals[2] = { 0 };

	if (expect_map(L, "time", v) < 0)
		return;
	walk_map(L, v, "time", names, 2, vals, NULL, NULL);
	if (vals[0] != NULL) {
		int off;

		if (vals[0]->kind != YN_SCALAR ||
		    config_parse_tz(vals[0]->str, &off) < 0)
			ERR(L, vals[0], "time.timezone: expected UTC or an offset like "
			    "+02:00 or -05:30 (zone names are not supported)");
		else
			L->c->tz_offset_min = off;
	}
	if (vals[1] != NULL) {
		int64_t ms;

		if (vals[1]->kind != YN_SCALAR ||
		    strlen(vals[1]->str) != vals[1]->len ||
		    config_parse_duration(vals[1]->str, &ms) < 0 || ms <= 0)
			ERR(L, vals[1], "time.max_skew: expected a duration like 30s, "
			    "15m, 1h or 2d, or a number of seconds, greater than 0");
		else
			L->c->max_skew_ms = ms;
	}
}

/* ---- response ---- */

/* An address or network as the playbook module accepts it: a canonical
 * IPv4 or IPv6 address with an optional /prefix. */
static int valid_net(const char *s)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned char a[16];
	int v6, max;

	if (n == 0 || n >= sizeof(host))
		return 0;
	memcpy(host, s, n);
	host[n] = '\0';
	v6 = strchr(host, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, a) != 1)
		return 0;
	if (slash == NULL)
		return 1;
	max = v6 ? 128 : 32;
	if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3 ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1))
		return 0;
	return atoi(slash + 1) <= max;
}

static void get_duration(struct loader *L, const char *what,
    const struct ynode *v, int allow_zero, int64_t *out)
{
	int64_t ms;

	if (v->kind != YN_SCALAR || strlen(v->str) != v->len ||
	    config_parse_duration(v->str, &ms) < 0 || (ms == 0 && !allow_zero)) {
		ERR(L, v, "%s: expected a duration like 30s, 15m, 1h or 2d, or a "
		    "number of seconds%s", what, allow_zero ? "" :
		    ", greater than 0");
		return;
	}
	*out = ms;
}

static void h_response(struct loader *L, const struct ynode *v)
{
	enum {
		RK_EXEC, RK_PROT, RK_MIN, RK_GW, RK_GI, RK_RI, RK_AR, RK_TTL,
		RK_POLICY, RK_URL, RK_N
	};
	static const char *const names[RK_N] = {
		"exec_dirs", "protected", "min_level", "group_wait",
		"group_interval", "repeat_interval", "auto_resolve", "resolved_ttl",
		"default_policy", "url",
	};
	const struct ynode *vals[RK_N] = { 0 };
	struct config_response *r = &L->c->response;

	if (expect_map(L, "response", v) < 0)
		return;
	r->line = v->line;
	walk_map(L, v, "response", names, RK_N, vals, NULL, NULL);
	if (vals[RK_EXEC] != NULL)
		get_paths(L, "response.exec_dirs", vals[RK_EXEC], &r->exec_dirs,
		    &r->nexec_dirs);
	if (vals[RK_PROT] != NULL) {
		const struct ynode *p = vals[RK_PROT];
		char **list;
		size_t n = 0;
		int bad = 0;

		if (p->kind != YN_SEQ) {
			ERR(L, p, "response.protected: expected a list of addresses or "
			    "networks, got %s", ytree_kind_name(p));
		} else {
			list = vg_calloc(p->n + 1, sizeof(*list));
			for (size_t i = 0; i < p->n; i++) {
				char *s = NULL;

				if (get_str(L, "response.protected", p->items[i], &s) < 0) {
					bad = 1;
					continue;
				}
				if (!valid_net(s)) {
					ERR(L, p->items[i], "response.protected: '%s' is not "
					    "an IPv4 or IPv6 address or network (like "
					    "192.0.2.1 or 198.51.100.0/24)", s);
					free(s);
					bad = 1;
					continue;
				}
				list[n++] = s;
			}
			if (bad) {
				free_list(list, n);
			} else {
				free_list(r->protected, r->nprotected);
				r->protected = list;
				r->nprotected = n;
			}
		}
	}
	if (vals[RK_MIN] != NULL) {
		const struct ynode *m = vals[RK_MIN];
		int lv = m->kind == YN_SCALAR && strlen(m->str) == m->len ?
		    config_parse_level(m->str) : -1;

		if (lv < 0)
			ERR(L, m, "response.min_level: expected informational, low, "
			    "medium, high or critical");
		else
			r->min_level = lv;
	}
	if (vals[RK_GW] != NULL)
		get_duration(L, "response.group_wait", vals[RK_GW], 1,
		    &r->group_wait_ms);
	if (vals[RK_GI] != NULL)
		get_duration(L, "response.group_interval", vals[RK_GI], 0,
		    &r->group_interval_ms);
	if (vals[RK_RI] != NULL)
		get_duration(L, "response.repeat_interval", vals[RK_RI], 1,
		    &r->repeat_interval_ms);
	if (vals[RK_AR] != NULL)
		get_duration(L, "response.auto_resolve", vals[RK_AR], 1,
		    &r->auto_resolve_ms);
	if (vals[RK_TTL] != NULL)
		get_duration(L, "response.resolved_ttl", vals[RK_TTL], 0,
		    &r->resolved_ttl_ms);
	if (vals[RK_POLICY] != NULL)
		get_str(L, "response.default_policy", vals[RK_POLICY],
		    &r->default_policy);
	if (vals[RK_URL] != NULL) {
		char *u = NULL;

		if (get_str(L, "response.url", vals[RK_URL], &u) == 0) {
			if (*u != '\0' && strncmp(u, "http://", 7) != 0 &&
			    strncmp(u, "https://", 8) != 0) {
				ERR(L, vals[RK_URL], "response.url: expected \"\" or an "
				    "http:// or https:// URL, got '%s'", u);
				free(u);
			} else {
				/* links are made by appending paths */
				size_t n = strlen(u);

				while (n > 0 && u[n - 1] == '/')
					u[--n] = '\0';
				free(r->url);
				r->url = u;
			}
		}
	}
}

static const struct key top_keys[] = {
	{ "inputs", h_inputs },
	{ "redis", h_redis },
	{ "parsers", h_parsers },
	{ "rules", h_rules },
	{ "playbooks", h_playbooks },
	{ "outputs", h_outputs },
	{ "http", h_http },
	{ "oncall", h_oncall },
	{ "channels", h_channels },
	{ "workers", h_workers },
	{ "data_dir", h_data_dir },
	{ "time", h_time },
	{ "user", h_user },
	{ "response", h_response },
};

#define NTOP VG_ARRAY_LEN(top_keys)

/* ---- loading ---- */

struct config *config_load_buffer(const char *name, const char *buf,
    size_t len, struct vg_diag *d)
{
	struct config *c;
	struct loader L = { 0 };
	struct vg_err err = { 0 };
	struct ydoc *docs = NULL;
	size_t ndocs = 0;
	const struct ynode *root = NULL;

	if (name == NULL)
		name = "";
	if (ytree_parse(name, buf, len, &docs, &ndocs, &err) < 0) {
		vg_diag_err(d, &err);
		if (!err.set)
			vg_diag_error(d, name, 0, 0, "cannot parse YAML");
		return NULL;
	}
	{
		char *dir = dir_of(name);

		c = config_default(dir);
		free(dir);
	}
	free(c->file);
	c->file = vg_strdup(name);
	c->ydocs = docs;
	c->nydocs = ndocs;
	L.d = d;
	L.c = c;

	for (size_t i = 0; i < ndocs; i++) {
		if (i > 0) {
			struct ynode at = { .file = docs[i].file, .line = docs[i].line,
			    .col = 1 };

			ERR(&L, &at, "a config holds one YAML document; found another here");
			break;
		}
		root = docs[i].root;
	}
	if (root != NULL && !ytree_is_null(root)) {
		if (root->kind != YN_MAP) {
			ERR(&L, root, "expected a map of settings, got %s",
			    ytree_kind_name(root));
		} else {
			const char *names[NTOP];
			void (*fns[NTOP])(struct loader *, const struct ynode *);

			for (size_t i = 0; i < NTOP; i++) {
				names[i] = top_keys[i].name;
				fns[i] = top_keys[i].fn;
			}
			walk_map(&L, root, "", names, NTOP, NULL, NULL, fns);
		}
	}
	if (L.errors > 0) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *config_load(const char *path, struct vg_diag *d)
{
	size_t len;
	char *buf;
	struct config *c;

	if ((buf = vg_read_file(path, &len)) == NULL) {
		vg_diag_error(d, path, 0, 0, "cannot read config: %s", strerror(errno));
		return NULL;
	}
	c = config_load_buffer(path, buf, len, d);
	free(buf);
	return c;
}
