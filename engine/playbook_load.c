/*
 * playbook_load.c: playbook files into struct playbook_set.
 *
 * A file holds one or more YAML documents; each is a playbook, or a
 * `protected:` document adding addresses and networks that containment
 * steps must never act on. Every problem is reported with file:line:col and
 * the loader keeps going: a playbook with an error is skipped whole and
 * counted as rejected (a file that cannot be read or parsed counts as one
 * rejected playbook), so `vigil check` fails while the good ones still load.
 *
 * Templates are compiled here, step ids resolved to indexes, and the step
 * graph is checked to be acyclic, so nothing at run time can loop.
 *
 * Load time only, one thread.
 */
#include "playbook_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "execstep.h"
#include "oncall.h"
#include "playbook_cfg.h"
#include "ytree.h"

#define MAX_STEPS 100
#define MAX_ARGS 64
#define MAX_LIST 1000
#define DAY_MS (86400 * 1000LL)

struct loader {
	struct pbc p;
	const struct playbook_opts *o;
	struct playbook_set *set;
	struct playbook_stats *st;
};

/* ---- freeing ---- */

void pb_json_free(struct pb_json *j)
{
	if (j == NULL)
		return;
	pb_tmpl_free(&j->str);
	free(j->raw);
	for (size_t i = 0; i < j->n; i++) {
		if (j->keys != NULL)
			free(j->keys[i]);
		pb_json_free(&j->items[i]);
	}
	free(j->keys);
	free(j->items);
}

static void free_kvs(struct pb_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].name);
		pb_tmpl_free(&kv[i].value);
	}
	free(kv);
}

static void free_step(struct pb_step *s)
{
	free(s->id);
	switch (s->kind) {
	case PB_NOTIFY:
		free(s->u.notify.policy);
		pbc_free_list(s->u.notify.channels, s->u.notify.nchannels);
		pb_tmpl_free(&s->u.notify.summary);
		free_kvs(s->u.notify.details, s->u.notify.ndetails);
		break;
	case PB_EXEC:
		free(s->u.exec.prog);
		for (size_t i = 0; i < s->u.exec.nargs; i++)
			pb_tmpl_free(&s->u.exec.args[i]);
		free(s->u.exec.args);
		free_kvs(s->u.exec.env, s->u.exec.nenv);
		break;
	case PB_WEBHOOK:
		free(s->u.webhook.url);
		free(s->u.webhook.method);
		free_kvs(s->u.webhook.headers, s->u.webhook.nheaders);
		if (s->u.webhook.json != NULL) {
			pb_json_free(s->u.webhook.json);
			free(s->u.webhook.json);
		}
		break;
	case PB_REDIS:
		free(s->u.redis.blocklist);
		pb_tmpl_free(&s->u.redis.member);
		break;
	case PB_WAIT:
		break;
	case PB_APPROVE:
		free(s->u.approve.group);
		pb_tmpl_free(&s->u.approve.summary);
		break;
	}
}

static void free_playbook(struct playbook *pb)
{
	if (pb == NULL)
		return;
	free(pb->name);
	free(pb->description);
	free(pb->file);
	pbc_free_list(pb->rules, pb->nrules);
	pbc_free_list(pb->not_rules, pb->nnot_rules);
	pbc_free_list(pb->tags, pb->ntags);
	for (size_t i = 0; i < pb->nconds; i++) {
		free(pb->conds[i].field);
		pbc_free_list(pb->conds[i].values, pb->conds[i].nvalues);
		free(pb->conds[i].nets);
	}
	free(pb->conds);
	pbc_free_list(pb->group_by, pb->ngroup_by);
	for (size_t i = 0; i < pb->nsteps; i++)
		free_step(&pb->steps[i]);
	free(pb->steps);
	free(pb);
}

void playbook_set_free(struct playbook_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		free_playbook(s->pbs[i]);
	free(s->pbs);
	free(s->protected);
	free(s);
}

/* ---- pieces ---- */

/* Compile template text from scalar node n into t. */
static int tmpl(struct loader *L, const struct ynode *n, const char *what,
    struct pb_tmpl *t)
{
	char why[512];
	size_t off = 0;
	const char *s = pbc_str0(&L->p, n, what);

	memset(t, 0, sizeof(*t));
	if (s == NULL)
		return -1;
	if (pb_tmpl_compile(s, t, why, sizeof(why), &off) < 0) {
		/* point at the offending byte when the scalar is on one line */
		struct ynode at = *n;

		if (!n->quoted && memchr(s, '\n', off) == NULL)
			at.col += (int)off;
		else if (n->quoted && memchr(s, '\n', off) == NULL &&
		    memchr(s, '\\', off) == NULL)
			at.col += (int)off + 1;
		pbc_err(&L->p, &at, "%s: %s", what, why);
		return -1;
	}
	t->line = n->line;
	t->col = n->col;
	return 0;
}

static int add_net(struct loader *L, const struct ynode *n, const char *what,
    struct pb_net **nets, size_t *nn)
{
	struct pb_net net;
	const char *s = pbc_str(&L->p, n, what);

	if (s == NULL)
		return -1;
	if (pb_parse_net(s, strlen(s), &net) < 0) {
		pbc_err(&L->p, n, "%s: '%.64s' is not an address or network (like "
		    "192.0.2.1, 10.0.0.0/8 or 2001:db8::/32)", what, s);
		return -1;
	}
	*nets = vg_realloc(*nets, (*nn + 1) * sizeof(**nets));
	(*nets)[(*nn)++] = net;
	return 0;
}

static int net_list(struct loader *L, const struct ynode *n, const char *what,
    struct pb_net **nets, size_t *nn)
{
	int bad = 0;

	if (n->kind == YN_SCALAR)
		return add_net(L, n, what, nets, nn);
	if (n->kind != YN_SEQ || n->n == 0 || n->n > MAX_LIST) {
		pbc_err(&L->p, n, "%s: expected an address, a network or a list of "
		    "them", what);
		return -1;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (add_net(L, n->items[i], what, nets, nn) < 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

static int level_num(const char *s)
{
	static const char *const names[] = {
		"informational", "low", "medium", "high", "critical",
	};

	for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

static const char *const cond_ops[] = {
	"equals", "not", "cidr", "not_cidr", "exists", "contains",
};

static void load_cond(struct loader *L, struct playbook *pb,
    const struct ynode *k, const struct ynode *v)
{
	struct pb_cond c;
	const char *field = pbc_str(&L->p, k, "match.fields");
	enum pb_ns ns;
	const char *rest;
	char why[512];

	memset(&c, 0, sizeof(c));
	if (field == NULL)
		return;
	if (pb_var_parse(field, strlen(field), &ns, &rest, why, sizeof(why)) < 0 ||
	    ns == PB_INCIDENT || ns == PB_PLAYBOOK) {
		pbc_err(&L->p, k, "match.fields: %s", ns == PB_INCIDENT ||
		    ns == PB_PLAYBOOK ? "only alert fields can be matched" : why);
		return;
	}
	if (v == NULL || ytree_is_null(v)) {
		pbc_err(&L->p, k, "match.fields.%s: expected a value, a list of "
		    "values or a map of operators", field);
		return;
	}
	if (v->kind == YN_MAP) {
		/* one operator per condition; several make several conditions */
		for (size_t i = 0; i + 1 < v->n; i += 2) {
			const struct ynode *ok = v->items[i], *ov = v->items[i + 1];
			size_t op;

			memset(&c, 0, sizeof(c));
			for (op = 0; op < VG_ARRAY_LEN(cond_ops); op++) {
				if (ok->kind == YN_SCALAR && strcmp(ok->str, cond_ops[op]) == 0)
					break;
			}
			if (op == VG_ARRAY_LEN(cond_ops)) {
				pbc_err(&L->p, ok, "match.fields.%s: unknown operator '%.32s' "
				    "(equals, not, cidr, not_cidr, exists, contains)", field,
				    ok->kind == YN_SCALAR ? ok->str : "?");
				continue;
			}
			c.op = (enum pb_cond_op)op;
			if (c.op == PB_EXISTS) {
				if (pbc_bool(&L->p, ov, "exists", &c.exists) < 0)
					continue;
			} else if (c.op == PB_CIDR || c.op == PB_NOT_CIDR) {
				if (net_list(L, ov, cond_ops[op], &c.nets, &c.nnets) < 0) {
					free(c.nets);
					continue;
				}
			} else if (ytree_is_null(ov) || pbc_strlist(&L->p, ov,
			    cond_ops[op], &c.values, &c.nvalues) < 0) {
				if (ytree_is_null(ov))
					pbc_err(&L->p, ov, "%s: expected a value or a list",
					    cond_ops[op]);
				continue;
			}
			c.field = vg_strdup(field);
			pb->conds = vg_realloc(pb->conds, (pb->nconds + 1) *
			    sizeof(*pb->conds));
			pb->conds[pb->nconds++] = c;
		}
		return;
	}
	c.op = PB_EQ;
	if (pbc_strlist(&L->p, v, "match.fields", &c.values, &c.nvalues) < 0)
		return;
	c.field = vg_strdup(field);
	pb->conds = vg_realloc(pb->conds, (pb->nconds + 1) * sizeof(*pb->conds));
	pb->conds[pb->nconds++] = c;
}

static void load_match(struct loader *L, struct playbook *pb,
    const struct ynode *n)
{
	static const char *const keys[] = {
		"rules", "tags", "level", "kind", "fields", "not_rules",
	};
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	int given = 0;

	if (pbc_keys(&L->p, n, "match", keys, VG_ARRAY_LEN(keys), vals) < 0)
		return;
	if (vals[0] != NULL && pbc_strlist(&L->p, vals[0], "match.rules",
	    &pb->rules, &pb->nrules) == 0)
		given++;
	if (vals[1] != NULL && pbc_strlist(&L->p, vals[1], "match.tags",
	    &pb->tags, &pb->ntags) == 0)
		given++;
	if (vals[2] != NULL) {
		const struct ynode *lv = vals[2];

		given++;
		if (lv->kind == YN_SCALAR) {
			if ((pb->min_level = level_num(lv->str)) < 0)
				pbc_err(&L->p, lv, "match.level: expected informational, "
				    "low, medium, high or critical");
		} else if (lv->kind == YN_SEQ && lv->n > 0) {
			for (size_t i = 0; i < lv->n; i++) {
				int x = lv->items[i]->kind == YN_SCALAR ?
				    level_num(lv->items[i]->str) : -1;

				if (x < 0)
					pbc_err(&L->p, lv->items[i], "match.level: expected "
					    "informational, low, medium, high or critical");
				else
					pb->levels |= 1u << x;
			}
		} else {
			pbc_err(&L->p, lv, "match.level: expected a level (the "
			    "least one) or a list of levels");
		}
	}
	if (vals[3] != NULL) {
		given++;
		if (ytree_is_str(vals[3], "detection"))
			pb->kind = 0;
		else if (ytree_is_str(vals[3], "correlation"))
			pb->kind = 1;
		else
			pbc_err(&L->p, vals[3], "match.kind: expected detection or "
			    "correlation");
	}
	if (vals[4] != NULL) {
		given++;
		if (vals[4]->kind != YN_MAP || vals[4]->n == 0) {
			pbc_err(&L->p, vals[4], "match.fields: expected a map of field "
			    "names to conditions");
		} else {
			/* duplicate keys are errors; any name is allowed */
			for (size_t i = 0; i + 1 < vals[4]->n; i += 2) {
				for (size_t j = 0; j < i &&
				    vals[4]->items[i]->kind == YN_SCALAR; j += 2) {
					if (ytree_is_str(vals[4]->items[j], vals[4]->items[i]->str))
						pbc_err(&L->p, vals[4]->items[i], "match.fields: "
						    "duplicate field '%.64s'", vals[4]->items[i]->str);
				}
				load_cond(L, pb, vals[4]->items[i], vals[4]->items[i + 1]);
			}
		}
	}
	/* what a playbook leaves to another one; says nothing about which
	 * alerts it wants, so it does not count as given */
	if (vals[5] != NULL)
		pbc_strlist(&L->p, vals[5], "match.not_rules", &pb->not_rules,
		    &pb->nnot_rules);
	if (given == 0)
		pbc_err(&L->p, n, "match: say which alerts (rules, tags, level, kind "
		    "or fields); to handle every alert write level: informational");
}

/* kv map of templates (env, details) or literals (headers). */
static int load_kvs(struct loader *L, const struct ynode *n, const char *what,
    int literal, struct pb_kv **out, size_t *nout)
{
	int bad = 0;

	*out = NULL;
	*nout = 0;
	if (n->kind != YN_MAP || n->n / 2 > MAX_ARGS) {
		pbc_err(&L->p, n, "%s: expected a map of at most %d names to values",
		    what, MAX_ARGS);
		return -1;
	}
	*out = vg_calloc(n->n / 2 + 1, sizeof(**out));
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const char *name = pbc_str(&L->p, n->items[i], what);
		struct pb_kv kv;

		if (name == NULL) {
			bad = 1;
			continue;
		}
		for (size_t j = 0; j < i; j += 2) {
			if (ytree_is_str(n->items[j], name)) {
				pbc_err(&L->p, n->items[i], "%s: duplicate name '%.64s'",
				    what, name);
				bad = 1;
			}
		}
		if (tmpl(L, n->items[i + 1], what, &kv.value) < 0) {
			bad = 1;
			continue;
		}
		if (literal && pb_tmpl_has_vars(&kv.value)) {
			pbc_err(&L->p, n->items[i + 1], "%s: values are literal here, "
			    "without {{variables}}", what);
			pb_tmpl_free(&kv.value);
			bad = 1;
			continue;
		}
		kv.name = vg_strdup(name);
		(*out)[(*nout)++] = kv;
	}
	return bad ? -1 : 0;
}

static int env_name_ok(const char *s)
{
	static const char *const refused[] = {
		"PATH", "IFS", "ENV", "BASH_ENV", "SHELLOPTS", "PS4", "HOME",
	};

	if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (const char *c = s; *c; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    *c == '_'))
			return 0;
	}
	if (strncmp(s, "LD_", 3) == 0 || strncmp(s, "PYTHON", 6) == 0 ||
	    strncmp(s, "PERL", 4) == 0 || strncmp(s, "RUBY", 4) == 0)
		return 0;
	for (size_t i = 0; i < VG_ARRAY_LEN(refused); i++) {
		if (strcmp(s, refused[i]) == 0)
			return 0;
	}
	return 1;
}

static void step_exec(struct loader *L, struct pb_step *s,
    const struct ynode *n)
{
	static const char *const keys[] = { "argv", "env", "stdin" };
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	const struct ynode *argv;

	s->u.exec.stdin_alert = 1;
	if (n->kind == YN_SEQ) {
		argv = n;
	} else {
		if (pbc_keys(&L->p, n, "exec", keys, VG_ARRAY_LEN(keys), vals) < 0)
			return;
		argv = vals[0];
		if (argv == NULL) {
			pbc_err(&L->p, n, "exec: missing argv (the program and its "
			    "arguments)");
			return;
		}
		if (vals[1] != NULL && load_kvs(L, vals[1], "exec.env", 0,
		    &s->u.exec.env, &s->u.exec.nenv) == 0) {
			for (size_t i = 0; i < s->u.exec.nenv; i++) {
				if (!env_name_ok(s->u.exec.env[i].name))
					pbc_err(&L->p, vals[1], "exec.env: '%.64s' may not be "
					    "set (upper-case names; not PATH, HOME, IFS, LD_*, "
					    "interpreter variables)", s->u.exec.env[i].name);
			}
		}
		if (vals[2] != NULL) {
			if (ytree_is_str(vals[2], "alert"))
				s->u.exec.stdin_alert = 1;
			else if (ytree_is_str(vals[2], "none"))
				s->u.exec.stdin_alert = 0;
			else
				pbc_err(&L->p, vals[2], "exec.stdin: expected alert or none");
		}
	}
	if (argv->kind != YN_SEQ || argv->n == 0 || argv->n > MAX_ARGS + 1) {
		pbc_err(&L->p, argv, "exec: argv must be a list: the program, then "
		    "up to %d arguments", MAX_ARGS);
		return;
	}
	{
		const char *prog = pbc_str(&L->p, argv->items[0], "exec program");

		if (prog == NULL)
			return;
		if (strstr(prog, "{{") != NULL) {
			pbc_err(&L->p, argv->items[0], "exec: the program must be "
			    "literal, not a template");
			return;
		}
		s->u.exec.prog = vg_strdup(prog);
		if (L->o == NULL || L->o->exec == NULL) {
			pbc_err(&L->p, argv->items[0], "exec: no folders are allowed "
			    "for exec steps in this configuration");
		} else {
			struct vg_err err = { 0 };
			char *real = execstep_resolve(L->o->exec, prog, &err);

			if (real == NULL)
				pbc_err(&L->p, argv->items[0], "exec: %s", err.msg);
			free(real);
		}
	}
	s->u.exec.args = vg_calloc(argv->n, sizeof(*s->u.exec.args));
	for (size_t i = 1; i < argv->n; i++) {
		if (tmpl(L, argv->items[i], "exec argument",
		    &s->u.exec.args[s->u.exec.nargs]) == 0)
			s->u.exec.nargs++;
	}
}

static int load_json(struct loader *L, const struct ynode *n,
    struct pb_json *j, int depth)
{
	memset(j, 0, sizeof(*j));
	if (depth > 16) {
		pbc_err(&L->p, n, "webhook.json: nested too deep");
		return -1;
	}
	if (n->kind == YN_SCALAR) {
		if (!n->quoted && (ytree_is_null(n) || strcmp(n->str, "true") == 0 ||
		    strcmp(n->str, "false") == 0)) {
			j->type = PBJ_RAW;
			j->raw = vg_strdup(ytree_is_null(n) ? "null" : n->str);
			return 0;
		}
		if (!n->quoted && n->len > 0 && n->len < 32 &&
		    strspn(n->str, "-0123456789") == n->len && n->str[0] != '0' &&
		    strchr(n->str + 1, '-') == NULL && strcmp(n->str, "-") != 0) {
			j->type = PBJ_RAW;
			j->raw = vg_strdup(n->str);
			return 0;
		}
		j->type = PBJ_STR;
		return tmpl(L, n, "webhook.json", &j->str);
	}
	j->items = vg_calloc(n->n + 1, sizeof(*j->items));
	if (n->kind == YN_SEQ) {
		j->type = PBJ_ARR;
		for (size_t i = 0; i < n->n; i++) {
			if (load_json(L, n->items[i], &j->items[j->n], depth + 1) < 0) {
				pb_json_free(&j->items[j->n]);
				return -1;
			}
			j->n++;
		}
		return 0;
	}
	j->type = PBJ_OBJ;
	j->keys = vg_calloc(n->n / 2 + 1, sizeof(*j->keys));
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const char *k = pbc_str0(&L->p, n->items[i], "webhook.json key");

		if (k == NULL)
			return -1;
		if (load_json(L, n->items[i + 1], &j->items[j->n], depth + 1) < 0) {
			pb_json_free(&j->items[j->n]);
			return -1;
		}
		j->keys[j->n++] = vg_strdup(k);
	}
	return 0;
}

static int header_ok(const char *name)
{
	if (*name == '\0')
		return 0;
	for (const char *c = name; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
			return 0;
	}
	return strcasecmp(name, "Content-Length") != 0 &&
	    strcasecmp(name, "Host") != 0 && strcasecmp(name, "Transfer-Encoding");
}

static void step_webhook(struct loader *L, struct pb_step *s,
    const struct ynode *n)
{
	static const char *const keys[] = { "url", "method", "headers", "json" };
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	const char *url, *m = "POST";

	if (pbc_keys(&L->p, n, "webhook", keys, VG_ARRAY_LEN(keys), vals) < 0)
		return;
	if (vals[0] == NULL) {
		pbc_err(&L->p, n, "webhook: missing url");
	} else if ((url = pbc_str(&L->p, vals[0], "webhook.url")) != NULL) {
		if ((strncmp(url, "http://", 7) != 0 &&
		    strncmp(url, "https://", 8) != 0) ||
		    strpbrk(url, " \t\r\n") != NULL || strstr(url, "{{") != NULL)
			pbc_err(&L->p, vals[0], "webhook.url: expected a literal "
			    "http:// or https:// URL");
		else
			s->u.webhook.url = vg_strdup(url);
	}
	if (vals[1] != NULL && (m = pbc_str(&L->p, vals[1], "webhook.method")) &&
	    strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0 &&
	    strcmp(m, "PATCH") != 0 && strcmp(m, "DELETE") != 0) {
		pbc_err(&L->p, vals[1], "webhook.method: expected POST, PUT, PATCH or "
		    "DELETE");
		m = NULL;
	}
	s->u.webhook.method = vg_strdup(m ? m : "POST");
	if (vals[2] != NULL && load_kvs(L, vals[2], "webhook.headers", 1,
	    &s->u.webhook.headers, &s->u.webhook.nheaders) == 0) {
		for (size_t i = 0; i < s->u.webhook.nheaders; i++) {
			const struct pb_kv *h = &s->u.webhook.headers[i];

			if (!header_ok(h->name) || strpbrk(h->value.segs[0].text,
			    "\r\n") != NULL)
				pbc_err(&L->p, vals[2], "webhook.headers: bad header "
				    "'%.64s'", h->name);
		}
	}
	if (vals[3] != NULL) {
		s->u.webhook.json = vg_calloc(1, sizeof(*s->u.webhook.json));
		if (vals[3]->kind != YN_MAP)
			pbc_err(&L->p, vals[3], "webhook.json: expected a map (the JSON "
			    "object to send)");
		else
			load_json(L, vals[3], s->u.webhook.json, 0);
	}
}

static void step_redis(struct loader *L, struct pb_step *s,
    const struct ynode *n)
{
	static const char *const keys[] = { "blocklist", "add", "remove", "ttl" };
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	const char *name;

	if (pbc_keys(&L->p, n, "redis", keys, VG_ARRAY_LEN(keys), vals) < 0)
		return;
	if (vals[0] == NULL)
		pbc_err(&L->p, n, "redis: missing blocklist (the list's name)");
	else if ((name = pbc_name(&L->p, vals[0], "redis.blocklist")) != NULL)
		s->u.redis.blocklist = vg_strdup(name);
	if ((vals[1] == NULL) == (vals[2] == NULL)) {
		pbc_err(&L->p, n, "redis: give either add or remove (the value)");
		return;
	}
	s->u.redis.remove = vals[2] != NULL;
	if (tmpl(L, vals[1] ? vals[1] : vals[2], "redis value",
	    &s->u.redis.member) < 0)
		return;
	s->u.redis.ttl_ms = 3600 * 1000;
	if (vals[3] != NULL) {
		if (s->u.redis.remove)
			pbc_err(&L->p, vals[3], "redis.ttl: only for add");
		else
			pbc_duration(&L->p, vals[3], "redis.ttl", 1000, 365 * DAY_MS,
			    &s->u.redis.ttl_ms);
	}
}

static void step_notify(struct loader *L, struct pb_step *s,
    const struct ynode *n)
{
	static const char *const keys[] = {
		"policy", "channel", "channels", "action", "summary", "details",
	};
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	const char *str;
	int targets = 0;

	if (pbc_keys(&L->p, n, "notify", keys, VG_ARRAY_LEN(keys), vals) < 0)
		return;
	if (vals[0] != NULL && (str = pbc_name(&L->p, vals[0], "notify.policy"))) {
		targets++;
		s->u.notify.policy = vg_strdup(str);
		/* with no policies at all (a fresh install) the shipped
		 * playbooks still load; the step will page nobody */
		if (L->o != NULL && L->o->oncall != NULL &&
		    L->o->oncall->npolicies == 0)
			pbc_warn(&L->p, vals[0], "notify.policy: no escalation "
			    "policies are configured (oncall.escalation_policies); "
			    "this step pages nobody");
		else if (L->o != NULL && L->o->oncall != NULL &&
		    oncall_policy(L->o->oncall, str) == NULL)
			pbc_err(&L->p, vals[0], "notify.policy: no escalation policy "
			    "'%s' under oncall.escalation_policies", str);
	}
	for (int k = 1; k <= 2; k++) {
		if (vals[k] == NULL)
			continue;
		targets++;
		if (s->u.notify.channels != NULL)
			continue;
		if (pbc_strlist(&L->p, vals[k], keys[k], &s->u.notify.channels,
		    &s->u.notify.nchannels) < 0)
			continue;
		for (size_t i = 0; i < s->u.notify.nchannels; i++) {
			if (L->o == NULL || L->o->channel_exists == NULL)
				break;
			if (L->o->nchannels == 0) {
				pbc_warn(&L->p, vals[k], "notify: no channels are "
				    "configured; this step notifies nobody");
				break;
			}
			if (!L->o->channel_exists(L->o->ctx, s->u.notify.channels[i]))
				pbc_err(&L->p, vals[k], "notify: no channel named '%.64s'",
				    s->u.notify.channels[i]);
		}
	}
	if (targets != 1)
		pbc_err(&L->p, n, "notify: give one of policy, channel or channels");
	s->u.notify.action = PB_TRIGGER;
	if (vals[3] != NULL) {
		if (ytree_is_str(vals[3], "trigger"))
			s->u.notify.action = PB_TRIGGER;
		else if (ytree_is_str(vals[3], "acknowledge"))
			s->u.notify.action = PB_ACKNOWLEDGE;
		else if (ytree_is_str(vals[3], "resolve"))
			s->u.notify.action = PB_RESOLVE;
		else
			pbc_err(&L->p, vals[3], "notify.action: expected trigger, "
			    "acknowledge or resolve");
	}
	if (vals[4] != NULL) {
		tmpl(L, vals[4], "notify.summary", &s->u.notify.summary);
	} else {
		char why[128];
		size_t off;

		pb_tmpl_compile("{{alert.rule.title}}", &s->u.notify.summary, why,
		    sizeof(why), &off);
	}
	if (vals[5] != NULL)
		load_kvs(L, vals[5], "notify.details", 0, &s->u.notify.details,
		    &s->u.notify.ndetails);
}

static void step_approve(struct loader *L, struct pb_step *s,
    const struct ynode *n)
{
	static const char *const keys[] = { "group", "summary" };
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	const char *g;

	if (pbc_keys(&L->p, n, "approve", keys, VG_ARRAY_LEN(keys), vals) < 0)
		return;
	if (vals[0] == NULL) {
		pbc_err(&L->p, n, "approve: missing group (who may approve)");
	} else if ((g = pbc_name(&L->p, vals[0], "approve.group")) != NULL) {
		s->u.approve.group = vg_strdup(g);
		if (L->o != NULL && L->o->oncall != NULL &&
		    L->o->oncall->ngroups == 0)
			pbc_warn(&L->p, vals[0], "approve.group: no groups are "
			    "configured (oncall.groups); nobody can approve");
		else if (L->o != NULL && L->o->oncall != NULL &&
		    oncall_group(L->o->oncall, g) == NULL)
			pbc_err(&L->p, vals[0], "approve.group: no group '%s' under "
			    "oncall.groups", g);
	}
	if (vals[1] != NULL) {
		tmpl(L, vals[1], "approve.summary", &s->u.approve.summary);
	} else {
		char why[128];
		size_t off;

		pb_tmpl_compile("{{alert.rule.title}}", &s->u.approve.summary, why,
		    sizeof(why), &off);
	}
}

static const char *const kind_keys[] = {
	"notify", "exec", "webhook", "redis", "wait", "approve",
};

const char *playbook_kind_name(enum pb_kind k)
{
	return (size_t)k < VG_ARRAY_LEN(kind_keys) ? kind_keys[k] : "?";
}

/* Branch targets are resolved after every id is known. */
struct pending {
	const struct ynode *on_success, *on_failure;
};

static void load_step(struct loader *L, struct playbook *pb, size_t idx,
    const struct ynode *n, struct pending *pend)
{
	static const char *const keys[] = {
		"id", "notify", "exec", "webhook", "redis", "wait", "approve",
		"timeout", "retries", "retry_delay", "on_success", "on_failure",
		"description",
	};
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	struct pb_step *s = &pb->steps[idx];
	int kinds = 0;
	long retries = 0;
	char idbuf[32];

	memset(s, 0, sizeof(*s));
	s->line = n->line;
	s->retry_delay_ms = 10000;
	memset(pend, 0, sizeof(*pend));
	snprintf(idbuf, sizeof(idbuf), "step%zu", idx + 1);
	if (pbc_keys(&L->p, n, "step", keys, VG_ARRAY_LEN(keys), vals) < 0) {
		s->id = vg_strdup(idbuf);
		return;
	}
	if (vals[0] != NULL) {
		const char *id = pbc_name(&L->p, vals[0], "step id");

		if (id != NULL && (strcmp(id, "next") == 0 || strcmp(id, "end") == 0 ||
		    strcmp(id, "abort") == 0)) {
			pbc_err(&L->p, vals[0], "step id: '%s' is reserved for branches",
			    id);
			id = NULL;
		}
		for (size_t i = 0; id != NULL && i < idx; i++) {
			if (strcmp(pb->steps[i].id, id) == 0) {
				pbc_err(&L->p, vals[0], "step id '%s' used twice (first at "
				    "line %d)", id, pb->steps[i].line);
				break;
			}
		}
		s->id = vg_strdup(id ? id : idbuf);
	} else {
		s->id = vg_strdup(idbuf);
	}
	for (int k = 1; k <= 6; k++) {
		if (vals[k] == NULL)
			continue;
		if (kinds++ > 0) {
			pbc_err(&L->p, vals[k], "step %s: one action per step (%s given "
			    "too)", s->id, playbook_kind_name(s->kind));
			continue;
		}
		s->kind = (enum pb_kind)(k - 1);
		switch (s->kind) {
		case PB_NOTIFY:
			step_notify(L, s, vals[k]);
			break;
		case PB_EXEC:
			step_exec(L, s, vals[k]);
			break;
		case PB_WEBHOOK:
			step_webhook(L, s, vals[k]);
			break;
		case PB_REDIS:
			step_redis(L, s, vals[k]);
			break;
		case PB_WAIT:
			pbc_duration(&L->p, vals[k], "wait", 1000, 30 * DAY_MS,
			    &s->u.wait.ms);
			break;
		case PB_APPROVE:
			step_approve(L, s, vals[k]);
			break;
		}
	}
	if (kinds == 0)
		pbc_err(&L->p, n, "step %s: no action (notify, exec, webhook, redis, "
		    "wait or approve)", s->id);
	if (vals[7] != NULL) {
		if (s->kind == PB_WAIT)
			pbc_err(&L->p, vals[7], "timeout: a wait step has none");
		else
			pbc_duration(&L->p, vals[7], "timeout", 100, 30 * DAY_MS,
			    &s->timeout_ms);
	}
	if (vals[8] != NULL && pbc_long(&L->p, vals[8], "retries", 0, 10,
	    &retries) == 0)
		s->retries = (int)retries;
	if (vals[9] != NULL)
		pbc_duration(&L->p, vals[9], "retry_delay", 100, 3600 * 1000,
		    &s->retry_delay_ms);
	pend->on_success = vals[10];
	pend->on_failure = vals[11];
}

static int branch(struct loader *L, const struct playbook *pb, size_t idx,
    const struct ynode *n, int dflt)
{
	const char *t;

	if (n == NULL)
		return dflt;
	if ((t = pbc_str(&L->p, n, "branch")) == NULL)
		return dflt;
	if (strcmp(t, "next") == 0)
		return idx + 1 < pb->nsteps ? (int)idx + 1 : PB_END;
	if (strcmp(t, "end") == 0)
		return PB_END;
	if (strcmp(t, "abort") == 0)
		return PB_ABORT;
	for (size_t i = 0; i < pb->nsteps; i++) {
		if (strcmp(pb->steps[i].id, t) == 0) {
			if (i == idx) {
				pbc_err(&L->p, n, "step %s branches to itself (use retries)",
				    t);
				return dflt;
			}
			return (int)i;
		}
	}
	pbc_err(&L->p, n, "no step '%.64s' (or next, end, abort)", t);
	return dflt;
}

/* Depth-first search for a cycle; color: 0 new, 1 on stack, 2 done. */
static int find_cycle(const struct playbook *pb, size_t i, uint8_t *color,
    size_t *cycle_at)
{
	int next[2];

	color[i] = 1;
	next[0] = pb->steps[i].on_success;
	next[1] = pb->steps[i].on_failure;
	for (int k = 0; k < 2; k++) {
		if (next[k] < 0)
			continue;
		if (color[next[k]] == 1) {
			*cycle_at = (size_t)next[k];
			return 1;
		}
		if (color[next[k]] == 0 && find_cycle(pb, (size_t)next[k], color,
		    cycle_at))
			return 1;
	}
	color[i] = 2;
	return 0;
}

static void load_steps(struct loader *L, struct playbook *pb,
    const struct ynode *n)
{
	struct pending *pend;
	uint8_t *color;
	size_t at = 0;

	if (n->kind != YN_SEQ || n->n == 0 || n->n > MAX_STEPS) {
		pbc_err(&L->p, n, "steps: expected a list of 1 to %d steps",
		    MAX_STEPS);
		return;
	}
	pb->steps = vg_calloc(n->n, sizeof(*pb->steps));
	pend = vg_calloc(n->n, sizeof(*pend));
	for (size_t i = 0; i < n->n; i++) {
		load_step(L, pb, i, n->items[i], &pend[i]);
		pb->nsteps++;
	}
	for (size_t i = 0; i < pb->nsteps; i++) {
		pb->steps[i].on_success = branch(L, pb, i, pend[i].on_success,
		    i + 1 < pb->nsteps ? (int)i + 1 : PB_END);
		pb->steps[i].on_failure = branch(L, pb, i, pend[i].on_failure,
		    PB_ABORT);
	}
	color = vg_calloc(pb->nsteps, 1);
	if (find_cycle(pb, 0, color, &at)) {
		pbc_err(&L->p, n->items[at], "steps: the branches loop back to step "
		    "%s; a playbook's steps must not form a cycle", pb->steps[at].id);
		goto out;
	}
	for (size_t i = 0; i < pb->nsteps; i++) {
		if (color[i] == 0)
			pbc_warn(&L->p, n->items[i], "step %s is never reached",
			    pb->steps[i].id);
	}
	/* steps never reached may still not loop among themselves */
	for (size_t i = 0; i < pb->nsteps; i++) {
		if (color[i] == 0 && find_cycle(pb, i, color, &at)) {
			pbc_err(&L->p, n->items[at], "steps: the branches loop back to "
			    "step %s; a playbook's steps must not form a cycle",
			    pb->steps[at].id);
			break;
		}
	}
out:
	free(color);
	free(pend);
}

/* ---- documents ---- */

static void load_protected(struct loader *L, const struct ynode *root)
{
	static const char *const keys[] = { "protected" };
	const struct ynode *vals[1];

	if (pbc_keys(&L->p, root, "protected document", keys, 1, vals) < 0 ||
	    vals[0] == NULL)
		return;
	net_list(L, vals[0], "protected", &L->set->protected,
	    &L->set->nprotected);
}

static void load_playbook(struct loader *L, const struct ydoc *doc)
{
	static const char *const keys[] = {
		"name", "description", "enabled", "match", "group_by", "urgency",
		"steps",
	};
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	const struct ynode *root = doc->root;
	struct playbook *pb = vg_calloc(1, sizeof(*pb));
	int errs = L->p.errors;
	const char *s;

	pb->file = vg_strdup(doc->file);
	pb->line = root->line;
	pb->enabled = 1;
	pb->min_level = -1;
	pb->kind = -1;
	pb->urgency_high = -1;
	if (pbc_keys(&L->p, root, "playbook", keys, VG_ARRAY_LEN(keys), vals) < 0)
		goto out;
	if (vals[0] == NULL)
		pbc_err(&L->p, root, "playbook: missing name");
	else if ((s = pbc_name(&L->p, vals[0], "name")) != NULL) {
		const struct playbook *first = playbook_find(L->set, s);

		pb->name = vg_strdup(s);
		if (first != NULL)
			pbc_err(&L->p, vals[0], "playbook '%s' defined twice (first in "
			    "%s:%d)", s, first->file, first->line);
	}
	if (vals[1] != NULL && (s = pbc_str0(&L->p, vals[1], "description")))
		pb->description = vg_strdup(s);
	if (vals[2] != NULL)
		pbc_bool(&L->p, vals[2], "enabled", &pb->enabled);
	if (vals[3] == NULL)
		pbc_err(&L->p, root, "playbook: missing match (which alerts it "
		    "handles)");
	else
		load_match(L, pb, vals[3]);
	if (vals[4] != NULL)
		pbc_strlist(&L->p, vals[4], "group_by", &pb->group_by,
		    &pb->ngroup_by);
	if (vals[5] != NULL) {
		if (ytree_is_str(vals[5], "high"))
			pb->urgency_high = 1;
		else if (ytree_is_str(vals[5], "low"))
			pb->urgency_high = 0;
		else
			pbc_err(&L->p, vals[5], "urgency: expected high or low");
	}
	if (vals[6] == NULL)
		pbc_err(&L->p, root, "playbook: missing steps");
	else
		load_steps(L, pb, vals[6]);
out:
	if (L->p.errors != errs || pb->name == NULL) {
		L->st->rejected++;
		free_playbook(pb);
		return;
	}
	L->set->pbs = vg_realloc(L->set->pbs, (L->set->n + 1) *
	    sizeof(*L->set->pbs));
	L->set->pbs[L->set->n++] = pb;
	L->st->loaded++;
}

static void load_docs(struct loader *L, const struct ydoc *docs, size_t ndocs)
{
	for (size_t i = 0; i < ndocs; i++) {
		const struct ynode *root = docs[i].root;

		if (root == NULL)
			continue;
		if (root->kind == YN_MAP && ytree_get(root, "protected") != NULL &&
		    ytree_get(root, "steps") == NULL && ytree_get(root, "name") == NULL) {
			int errs = L->p.errors;

			load_protected(L, root);
			if (L->p.errors != errs)
				L->st->rejected++;
			continue;
		}
		if (root->kind != YN_MAP) {
			pbc_err(&L->p, root, "playbook: expected a map, got %s",
			    ytree_kind_name(root));
			L->st->rejected++;
			continue;
		}
		load_playbook(L, &docs[i]);
	}
}

static struct playbook_set *set_new(struct loader *L,
    const struct playbook_opts *o, struct vg_diag *d,
    struct playbook_stats *st)
{
	struct playbook_set *set = vg_calloc(1, sizeof(*set));

	memset(L, 0, sizeof(*L));
	memset(st, 0, sizeof(*st));
	L->p.d = d;
	L->o = o;
	L->set = set;
	L->st = st;
	for (size_t i = 0; i < pb_nbuiltin_protected; i++) {
		set->protected = vg_realloc(set->protected, (set->nprotected + 1) *
		    sizeof(*set->protected));
		pb_parse_net(pb_builtin_protected[i], strlen(pb_builtin_protected[i]),
		    &set->protected[set->nprotected++]);
	}
	for (size_t i = 0; o != NULL && i < o->nprotected; i++) {
		struct pb_net n;

		if (pb_parse_net(o->protected[i], strlen(o->protected[i]), &n) < 0) {
			vg_diag_error(d, NULL, 0, 0, "protected: '%.64s' is not an "
			    "address or network", o->protected[i]);
			st->rejected++;
			continue;
		}
		set->protected = vg_realloc(set->protected, (set->nprotected + 1) *
		    sizeof(*set->protected));
		set->protected[set->nprotected++] = n;
	}
	return set;
}

struct playbook_set *playbook_load(const char *const *paths, size_t npaths,
    const struct playbook_opts *o, struct vg_diag *d,
    struct playbook_stats *st)
{
	struct playbook_stats dummy;
	struct loader L;
	struct playbook_set *set;
	char **files;
	size_t nfiles = 0;
	int errs0 = d ? d->errors : 0;

	if (st == NULL)
		st = &dummy;
	set = set_new(&L, o, d, st);
	files = vg_list_yaml(paths, npaths, &nfiles, d);
	if (d != NULL && d->errors != errs0)
		st->rejected += d->errors - errs0;
	for (size_t i = 0; i < nfiles; i++) {
		struct ydoc *docs = NULL;
		size_t ndocs = 0;
		struct vg_err err = { 0 };

		st->files++;
		if (ytree_load_file(files[i], &docs, &ndocs, &err) < 0) {
			vg_diag_err(d, &err);
			st->rejected++;
			continue;
		}
		load_docs(&L, docs, ndocs);
		ytree_free_docs(docs, ndocs);
	}
	vg_free_list(files, nfiles);
	return set;
}

struct playbook_set *playbook_load_buffer(const char *name, const char *buf,
    size_t len, const struct playbook_opts *o, struct vg_diag *d,
    struct playbook_stats *st)
{
	struct playbook_stats dummy;
	struct loader L;
	struct playbook_set *set;
	struct ydoc *docs = NULL;
	size_t ndocs = 0;
	struct vg_err err = { 0 };

	if (st == NULL)
		st = &dummy;
	set = set_new(&L, o, d, st);
	st->files = 1;
	if (ytree_parse(name, buf, len, &docs, &ndocs, &err) < 0) {
		vg_diag_err(d, &err);
		st->rejected++;
		return set;
	}
	load_docs(&L, docs, ndocs);
	ytree_free_docs(docs, ndocs);
	return set;
}

const struct playbook *playbook_find(const struct playbook_set *s,
    const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->pbs[i]->name, name) == 0)
			return s->pbs[i];
	}
	return NULL;
}

const struct pb_step *playbook_step(const struct playbook *pb, const char *id)
{
	for (size_t i = 0; i < pb->nsteps; i++) {
		if (strcmp(pb->steps[i].id, id) == 0)
			return &pb->steps[i];
	}
	return NULL;
}
