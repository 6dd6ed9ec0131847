/*
 * notify_chan.c: the `channels` tree into struct notify_channels.
 *
 * Each type has its own keys; a key that belongs to another type is an
 * error, so a typo cannot silently drop a setting. Secrets may be written
 * inline but are better kept in files (`routing_key_file`, `password_file`,
 * `secret_file`, `url_file`), read here once, relative to the configuration
 * file's folder, trailing newline removed.
 *
 * Load time only, one thread.
 */
#include "notify.h"

#include <stdlib.h>
#include <string.h>

#include "execstep.h"
#include "playbook_cfg.h"
#include "ytree.h"

#define MAX_CHANNELS 1000
#define SECRET_MAX 4096

static const char *const type_names[] = {
	"webhook", "slack", "pagerduty", "email", "exec",
};

const char *notify_type_name(enum notify_type t)
{
	return (size_t)t < VG_ARRAY_LEN(type_names) ? type_names[t] : "?";
}

static void free_channel(struct notify_channel *c)
{
	free(c->name);
	free(c->url);
	pbc_free_list(c->headers, c->nheaders);
	free(c->secret);
	free(c->routing_key);
	free(c->from);
	pbc_free_list(c->to, c->nto);
	free(c->username);
	free(c->password);
	free(c->ca_file);
	pbc_free_list(c->argv, c->nargv);
}

void notify_channels_free(struct notify_channels *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free_channel(&c->v[i]);
	free(c->v);
	free(c);
}

const struct notify_channel *notify_channel(const struct notify_channels *c,
    const char *name)
{
	for (size_t i = 0; c != NULL && i < c->n; i++) {
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	}
	return NULL;
}

int notify_channel_exists(void *ctx, const char *name)
{
	return notify_channel(ctx, name) != NULL;
}

/* path relative to the folder of the file n came from. Owned. */
static char *relative(const struct ynode *n, const char *path)
{
	const char *slash = n->file ? strrchr(n->file, '/') : NULL;
	size_t dl, pl = strlen(path);
	char *out;

	if (path[0] == '/' || slash == NULL)
		return vg_strdup(path);
	dl = (size_t)(slash - n->file);
	out = vg_malloc(dl + pl + 2);
	memcpy(out, n->file, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, path, pl + 1);
	return out;
}

/* A secret given inline (v) or in a file (f); owned, or NULL. */
static char *secret(struct pbc *L, const struct ynode *v, const struct ynode *f,
    const char *what)
{
	const char *s;
	char *path, *data;
	size_t len = 0;

	if (v != NULL && f != NULL) {
		pbc_err(L, f, "%s: give %s or %s_file, not both", what, what, what);
		return NULL;
	}
	if (v != NULL)
		return (s = pbc_str(L, v, what)) ? vg_strdup(s) : NULL;
	if (f == NULL || (s = pbc_str(L, f, what)) == NULL)
		return NULL;
	path = relative(f, s);
	data = vg_read_file(path, &len);
	if (data == NULL) {
		pbc_err(L, f, "%s_file: cannot read %s", what, path);
		free(path);
		return NULL;
	}
	free(path);
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	if (len == 0 || len > SECRET_MAX || memchr(data, '\0', len) != NULL ||
	    strpbrk(data, "\r\n") != NULL) {
		pbc_err(L, f, "%s_file: expected one non-empty line", what);
		free(data);
		return NULL;
	}
	return data;
}

static int http_url_ok(const char *u)
{
	return (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) &&
	    strpbrk(u, " \t\r\n") == NULL && strlen(u) > 8;
}

static int addr_ok(const char *a)
{
	const char *at = strchr(a, '@');

	return at != NULL && at != a && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
	    strpbrk(a, " \t\r\n<>,;:\"()[]\\") == NULL && strlen(a) < 256;
}

enum {
	K_NAME, K_TYPE, K_URL, K_URL_FILE, K_HEADERS, K_SECRET, K_SECRET_FILE,
	K_ROUTING_KEY, K_ROUTING_KEY_FILE, K_FROM, K_TO, K_USERNAME, K_PASSWORD,
	K_PASSWORD_FILE, K_STARTTLS, K_CA_FILE, K_ARGV, K_TIMEOUT, K_RETRY, K_N
};

static const char *const keys[K_N] = {
	"name", "type", "url", "url_file", "headers", "secret", "secret_file",
	"routing_key", "routing_key_file", "from", "to", "username", "password",
	"password_file", "starttls", "ca_file", "argv", "timeout", "retry",
};

/* Which keys each type takes, besides name, type, timeout, retry. */
static const int type_keys[][8] = {
	/* webhook */ { K_URL, K_URL_FILE, K_HEADERS, K_SECRET, K_SECRET_FILE,
	    K_CA_FILE, -1 },
	/* slack */ { K_URL, K_URL_FILE, K_CA_FILE, -1 },
	/* pagerduty */ { K_URL, K_ROUTING_KEY, K_ROUTING_KEY_FILE, K_CA_FILE, -1 },
	/* email */ { K_URL, K_FROM, K_TO, K_USERNAME, K_PASSWORD,
	    K_PASSWORD_FILE, K_STARTTLS, K_CA_FILE },
	/* exec */ { K_ARGV, -1 },
};

static int key_allowed(enum notify_type t, int k)
{
	if (k == K_NAME || k == K_TYPE || k == K_TIMEOUT || k == K_RETRY)
		return 1;
	for (size_t i = 0; i < VG_ARRAY_LEN(type_keys[t]); i++) {
		if (type_keys[t][i] == k)
			return 1;
		if (type_keys[t][i] == -1)
			break;
	}
	return 0;
}

static void load_retry(struct pbc *L, const struct ynode *n,
    struct notify_retry *r)
{
	static const char *const rk[] = { "initial", "max", "attempts", "max_age" };
	const struct ynode *v[4];
	long a;

	if (pbc_keys(L, n, "retry", rk, 4, v) < 0)
		return;
	if (v[0] != NULL)
		pbc_duration(L, v[0], "retry.initial", 10, 3600 * 1000,
		    &r->initial_ms);
	if (v[1] != NULL)
		pbc_duration(L, v[1], "retry.max", 10, 86400 * 1000LL, &r->max_ms);
	if (v[2] != NULL && pbc_long(L, v[2], "retry.attempts", 1, 1000, &a) == 0)
		r->attempts = (unsigned)a;
	if (v[3] != NULL)
		pbc_duration(L, v[3], "retry.max_age", 1000, 30 * 86400 * 1000LL,
		    &r->max_age_ms);
	if (r->max_ms < r->initial_ms)
		pbc_err(L, n, "retry: max is smaller than initial");
}

static int load_channel(struct pbc *L, const struct ynode *n, const char *name,
    const struct notify_load_opts *o, struct notify_channel *c)
{
	const struct ynode *v[K_N];
	int errs = L->errors;
	char what[192];
	const char *s;
	size_t t;

	memset(c, 0, sizeof(*c));
	c->line = n->line;
	c->timeout_ms = 10000;
	c->retry.initial_ms = 1000;
	c->retry.max_ms = 300000;
	c->retry.attempts = 12;
	c->retry.max_age_ms = 86400 * 1000LL;
	snprintf(what, sizeof(what), "channels.%s", name ? name : "?");
	if (pbc_keys(L, n, what, keys, K_N, v) < 0)
		return -1;
	if (name == NULL) {
		if (v[K_NAME] == NULL) {
			pbc_err(L, n, "%s: missing name", what);
			return -1;
		}
		if ((name = pbc_name(L, v[K_NAME], "channel name")) == NULL)
			return -1;
		snprintf(what, sizeof(what), "channels.%s", name);
	} else if (v[K_NAME] != NULL) {
		pbc_err(L, v[K_NAME], "%s: the name is the key already", what);
	}
	if (v[K_TYPE] == NULL) {
		pbc_err(L, n, "%s: missing type (webhook, slack, pagerduty, email, "
		    "exec)", what);
		return -1;
	}
	for (t = 0; t < VG_ARRAY_LEN(type_names); t++) {
		if (ytree_is_str(v[K_TYPE], type_names[t]))
			break;
	}
	if (t == VG_ARRAY_LEN(type_names)) {
		pbc_err(L, v[K_TYPE], "%s.type: expected webhook, slack, pagerduty, "
		    "email or exec", what);
		return -1;
	}
	c->type = (enum notify_type)t;
	c->name = vg_strdup(name);
	for (int k = 0; k < K_N; k++) {
		if (v[k] != NULL && !key_allowed(c->type, k))
			pbc_err(L, v[k], "%s: '%s' is not a setting of a %s channel",
			    what, keys[k], type_names[t]);
	}
	if (L->errors != errs)
		return -1;
	if (v[K_TIMEOUT] != NULL)
		pbc_duration(L, v[K_TIMEOUT], "timeout", 100, 600 * 1000,
		    &c->timeout_ms);
	if (v[K_RETRY] != NULL)
		load_retry(L, v[K_RETRY], &c->retry);
	if (v[K_CA_FILE] != NULL && (s = pbc_str(L, v[K_CA_FILE], "ca_file")))
		c->ca_file = relative(v[K_CA_FILE], s);
	switch (c->type) {
	case NOTIFY_WEBHOOK:
	case NOTIFY_SLACK:
	case NOTIFY_PAGERDUTY:
		if (c->type == NOTIFY_PAGERDUTY) {
			c->url = v[K_URL] ? secret(L, v[K_URL], NULL, "url") :
			    vg_strdup("https://events.pagerduty.com/v2/enqueue");
			c->routing_key = secret(L, v[K_ROUTING_KEY],
			    v[K_ROUTING_KEY_FILE], "routing_key");
			if (c->routing_key == NULL && v[K_ROUTING_KEY] == NULL &&
			    v[K_ROUTING_KEY_FILE] == NULL)
				pbc_err(L, n, "%s: missing routing_key or "
				    "routing_key_file", what);
			else if (c->routing_key != NULL && strlen(c->routing_key) > 64)
				pbc_err(L, n, "%s: routing_key longer than 64 characters",
				    what);
		} else {
			if (v[K_URL] == NULL && v[K_URL_FILE] == NULL)
				pbc_err(L, n, "%s: missing url (or url_file)", what);
			c->url = secret(L, v[K_URL], v[K_URL_FILE], "url");
		}
		if (c->url != NULL && !http_url_ok(c->url))
			pbc_err(L, v[K_URL] ? v[K_URL] : v[K_URL_FILE] ? v[K_URL_FILE] :
			    n, "%s.url: expected an http:// or https:// URL", what);
		if (v[K_HEADERS] != NULL) {
			const struct ynode *h = v[K_HEADERS];

			if (h->kind != YN_MAP || h->n / 2 > 64) {
				pbc_err(L, h, "%s.headers: expected a map of names to "
				    "values", what);
				break;
			}
			c->headers = vg_calloc(h->n / 2 + 1, sizeof(*c->headers));
			for (size_t i = 0; i + 1 < h->n; i += 2) {
				const char *hn = pbc_str(L, h->items[i], "header name");
				const char *hv = pbc_str0(L, h->items[i + 1], "header value");
				struct buf b;

				if (hn == NULL || hv == NULL)
					continue;
				if (strpbrk(hn, " :\t\r\n") != NULL ||
				    strpbrk(hv, "\r\n") != NULL) {
					pbc_err(L, h->items[i], "%s.headers: bad header '%.64s'",
					    what, hn);
					continue;
				}
				buf_init(&b);
				buf_printf(&b, "%s: %s", hn, hv);
				c->headers[c->nheaders++] = vg_strdup(buf_cstr(&b));
				buf_free(&b);
			}
		}
		if (v[K_SECRET] != NULL || v[K_SECRET_FILE] != NULL)
			c->secret = secret(L, v[K_SECRET], v[K_SECRET_FILE], "secret");
		break;
	case NOTIFY_EMAIL:
		if (v[K_URL] == NULL) {
			pbc_err(L, n, "%s: missing url (smtp://host:port or "
			    "smtps://host:port)", what);
		} else if ((s = pbc_str(L, v[K_URL], "url")) != NULL) {
			if ((strncmp(s, "smtp://", 7) != 0 &&
			    strncmp(s, "smtps://", 8) != 0) ||
			    strpbrk(s, " \t\r\n") != NULL)
				pbc_err(L, v[K_URL], "%s.url: expected smtp://host:port or "
				    "smtps://host:port", what);
			else
				c->url = vg_strdup(s);
		}
		if (v[K_FROM] == NULL)
			pbc_err(L, n, "%s: missing from (the sender's address)", what);
		else if ((s = pbc_str(L, v[K_FROM], "from")) != NULL) {
			if (!addr_ok(s))
				pbc_err(L, v[K_FROM], "%s.from: '%.64s' is not an e-mail "
				    "address", what, s);
			else
				c->from = vg_strdup(s);
		}
		if (v[K_TO] != NULL && pbc_strlist(L, v[K_TO], "to", &c->to,
		    &c->nto) == 0) {
			for (size_t i = 0; i < c->nto; i++) {
				if (!addr_ok(c->to[i]))
					pbc_err(L, v[K_TO], "%s.to: '%.64s' is not an e-mail "
					    "address", what, c->to[i]);
			}
		}
		if (v[K_USERNAME] != NULL && (s = pbc_str(L, v[K_USERNAME],
		    "username")))
			c->username = vg_strdup(s);
		if (v[K_PASSWORD] != NULL || v[K_PASSWORD_FILE] != NULL)
			c->password = secret(L, v[K_PASSWORD], v[K_PASSWORD_FILE],
			    "password");
		if ((c->username == NULL) != (c->password == NULL))
			pbc_err(L, n, "%s: give both username and password, or "
			    "neither", what);
		c->starttls = c->username ? NOTIFY_TLS_ON : NOTIFY_TLS_TRY;
		if (v[K_STARTTLS] != NULL) {
			if (ytree_is_str(v[K_STARTTLS], "required"))
				c->starttls = NOTIFY_TLS_ON;
			else if (ytree_is_str(v[K_STARTTLS], "optional"))
				c->starttls = NOTIFY_TLS_TRY;
			else if (ytree_is_str(v[K_STARTTLS], "off"))
				c->starttls = NOTIFY_TLS_OFF;
			else
				pbc_err(L, v[K_STARTTLS], "%s.starttls: expected required, "
				    "optional or off", what);
			if (c->starttls != NOTIFY_TLS_ON && c->username != NULL)
				pbc_err(L, v[K_STARTTLS], "%s.starttls: a password is only "
				    "sent over TLS; use required (or smtps://)", what);
		}
		break;
	case NOTIFY_EXEC:
		if (v[K_ARGV] == NULL || v[K_ARGV]->kind != YN_SEQ ||
		    v[K_ARGV]->n == 0 || v[K_ARGV]->n > 65) {
			pbc_err(L, v[K_ARGV] ? v[K_ARGV] : n, "%s.argv: expected a list: "
			    "the program, then its arguments", what);
			break;
		}
		if (pbc_strlist(L, v[K_ARGV], "argv", &c->argv, &c->nargv) < 0)
			break;
		if (o == NULL || o->exec == NULL) {
			pbc_err(L, v[K_ARGV]->items[0], "%s: no folders are allowed for "
			    "exec in this configuration", what);
		} else {
			struct vg_err err = { 0 };
			char *real = execstep_resolve(o->exec, c->argv[0], &err);

			if (real == NULL)
				pbc_err(L, v[K_ARGV]->items[0], "%s: %s", what, err.msg);
			free(real);
		}
		break;
	}
	return L->errors == errs ? 0 : -1;
}

struct notify_channels *notify_channels_load(const struct ynode *tree,
    const struct notify_load_opts *o, struct vg_diag *d)
{
	struct notify_channels *cs = vg_calloc(1, sizeof(*cs));
	struct pbc L;
	size_t n;

	memset(&L, 0, sizeof(L));
	L.d = d;
	if (tree == NULL || ytree_is_null(tree))
		return cs;
	if (tree->kind == YN_SCALAR) {
		pbc_err(&L, tree, "channels: expected a map of channel names, or a "
		    "list of channels");
		goto out;
	}
	n = tree->kind == YN_MAP ? tree->n / 2 : tree->n;
	if (n > MAX_CHANNELS) {
		pbc_err(&L, tree, "channels: more than %d", MAX_CHANNELS);
		goto out;
	}
	cs->v = vg_calloc(n + 1, sizeof(*cs->v));
	for (size_t i = 0; i < n; i++) {
		const struct ynode *k = tree->kind == YN_MAP ? tree->items[2 * i] : NULL;
		const struct ynode *v = tree->kind == YN_MAP ? tree->items[2 * i + 1] :
		    tree->items[i];
		const char *name = NULL;
		struct notify_channel c;

		if (k != NULL && (name = pbc_name(&L, k, "channel name")) == NULL)
			continue;
		if (load_channel(&L, v, name, o, &c) < 0) {
			free_channel(&c);
			continue;
		}
		if (notify_channel(cs, c.name) != NULL) {
			pbc_err(&L, k ? k : v, "channels: '%s' defined twice", c.name);
			free_channel(&c);
			continue;
		}
		cs->v[cs->n++] = c;
	}
out:
	if (L.errors != 0) {
		notify_channels_free(cs);
		return NULL;
	}
	return cs;
}

struct notify_channels *notify_channels_load_buffer(const char *name,
    const char *buf, size_t len, const struct notify_load_opts *o,
    struct vg_diag *d)
{
	struct ydoc *docs = NULL;
	size_t ndocs = 0;
	struct vg_err err = { 0 };
	struct notify_channels *cs;

	if (ytree_parse(name, buf, len, &docs, &ndocs, &err) < 0) {
		vg_diag_err(d, &err);
		return NULL;
	}
	cs = notify_channels_load(ndocs ? docs[0].root : NULL, o, d);
	ytree_free_docs(docs, ndocs);
	return cs;
}
