/*
 * response_keys.c: incident keys chosen by the rules themselves. A
 * detection or correlation rule may say, in its `vigil:` extension,
 *
 *   vigil: {incident_key: [source.ip]}
 *       one incident per rule and address (the rule id stays in the key);
 *   vigil: {incident_key: {name: ssh-attacker, fields: [source.ip]}}
 *       one incident per address for every rule naming ssh-attacker.
 *
 * response_set_rules reads that from a loaded rule set (vigild calls it at
 * start and after each reload) into a table sorted by rule id; taking an
 * alert looks its rule id up there. A matching playbook's group_by still
 * wins (the playbook answers for what it groups), and a rule without the
 * key keeps the default (rule id and correlation group values).
 *
 * Not here: validating the key for `vigil check` (the rule loaders accept
 * the key; a malformed one is reported here, once, and ignored).
 *
 * Loop thread.
 */
#include "response_int.h"

#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "log.h"
#include "ytree.h"

#define RKEY_FIELDS 8

struct rkey {
	char *rule;              /* rule id */
	char *name;              /* shared key name, or NULL: the rule's own */
	char **fields;
	size_t nfields;
};

static void rkey_clear(struct rkey *k)
{
	free(k->rule);
	free(k->name);
	for (size_t i = 0; i < k->nfields; i++)
		free(k->fields[i]);
	free(k->fields);
}

void resp_rule_keys_free(struct response *r)
{
	for (size_t i = 0; i < r->nrkeys; i++)
		rkey_clear(&r->rkeys[i]);
	free(r->rkeys);
	r->rkeys = NULL;
	r->nrkeys = 0;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

static int add_field(struct rkey *k, const struct ynode *f)
{
	if (f == NULL || f->kind != YN_SCALAR || f->len == 0 || f->len > 128 ||
	    strchr(f->str, '|') != NULL || k->nfields >= RKEY_FIELDS)
		return -1;
	k->fields = vg_realloc(k->fields, (k->nfields + 1) * sizeof(*k->fields));
	k->fields[k->nfields++] = vg_strdup(f->str);
	return 0;
}

/* The key of one rule's `vigil:` map into k; 1 when there is one, 0 when
 * the rule says nothing, -1 (logged) when it is malformed. */
static int read_key(const char *id, const struct ynode *vigil, struct rkey *k)
{
	const struct ynode *v = ytree_get(vigil, "incident_key"), *fl = v;
	const char *file = vigil ? vigil->file : NULL;

	memset(k, 0, sizeof(*k));
	if (v == NULL)
		return 0;
	if (v->kind == YN_MAP) {
		const struct ynode *nm = ytree_get(v, "name");

		fl = ytree_get(v, "fields");
		if (nm != NULL && (nm->kind != YN_SCALAR || !valid_name(nm->str)))
			goto bad;
		if (nm != NULL)
			k->name = vg_strdup(nm->str);
		if (v->n != (nm ? 4u : 2u) || fl == NULL)
			goto bad;
	}
	if (fl != NULL && fl->kind == YN_SCALAR) {
		if (add_field(k, fl) < 0)
			goto bad;
	} else if (fl != NULL && fl->kind == YN_SEQ && fl->n > 0) {
		for (size_t i = 0; i < fl->n; i++) {
			if (add_field(k, fl->items[i]) < 0)
				goto bad;
		}
	} else {
		goto bad;
	}
	k->rule = vg_strdup(id);
	return 1;
bad:
	log_warnx("response: %s:%d: rule %s: vigil.incident_key: expected a "
	    "list of up to %d field names, or {name: NAME, fields: [...]}; "
	    "ignored", file ? file : "?", v->line, id, RKEY_FIELDS);
	rkey_clear(k);
	memset(k, 0, sizeof(*k));
	return -1;
}

static int cmp_rkey(const void *a, const void *b)
{
	return strcmp(((const struct rkey *)a)->rule,
	    ((const struct rkey *)b)->rule);
}

void response_set_rules(struct response *r, const struct ruleset *rs)
{
	struct rkey *v = NULL, k;
	size_t n = 0, cap = 0;

	if (r == NULL)
		return;
	for (size_t i = 0; rs != NULL && i < detect_rule_count(rs) +
	    detect_correlation_count(rs); i++) {
		const struct ynode *vigil, *id;
		const char *rid;

		if (i < detect_rule_count(rs)) {
			const struct rule *ru = detect_rule(rs, i);

			vigil = detect_rule_vigil(ru);
			rid = ru->id;
		} else {
			const struct ynode *doc = detect_correlation_doc(rs,
			    i - detect_rule_count(rs));

			vigil = ytree_get(doc, "vigil");
			id = ytree_get(doc, "id");
			rid = id != NULL && id->kind == YN_SCALAR ? id->str : NULL;
		}
		if (vigil == NULL || rid == NULL || read_key(rid, vigil, &k) <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = vg_realloc(v, cap * sizeof(*v));
		}
		v[n++] = k;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_rkey);
	resp_rule_keys_free(r);
	r->rkeys = v;
	r->nrkeys = n;
	if (n > 0)
		log_info("response: %zu rule%s choose their incident key", n,
		    n == 1 ? "" : "s");
}

/* The key and the summary's tail for an alert whose rule chose its key;
 * 0 when it did not (the caller uses the default). */
int resp_rule_key(const struct response *r, const json_t *alert,
    const char *rule_id, struct buf *key, struct buf *tail)
{
	struct rkey want = { .rule = (char *)rule_id };
	const struct rkey *k;
	char val[512];

	if (r->nrkeys == 0)
		return 0;
	k = bsearch(&want, r->rkeys, r->nrkeys, sizeof(*r->rkeys), cmp_rkey);
	if (k == NULL)
		return 0;
	if (k->name != NULL)
		buf_printf(key, "k|%s", k->name);
	else
		buf_printf(key, "r|%s", k->rule);
	for (size_t i = 0; i < k->nfields; i++) {
		const json_t *x = resp_alert_field(alert, k->fields[i]);

		if (x == NULL || resp_scalar(x, val, sizeof(val)) < 0)
			val[0] = '\0';
		buf_printf(key, "|%s=%s", k->fields[i], val);
		buf_printf(tail, "%s%s=%s", i ? ", " : "", k->fields[i], val);
	}
	return 1;
}
