/*
 * detect_map.c: mapping documents (rules/mappings/), which say what a
 * Sigma logsource means for vigil's events and how Sigma field names become
 * event field names. The format is described in rules/README.md:
 *
 *   logsources:
 *     - product: linux
 *       service: sshd
 *       conditions: {process.name: sshd}     # a Sigma selection
 *   fieldmappings:                           # for every logsource, or
 *     User: user.name
 *   fieldmappings:                           # restricted ones
 *     - logsource: {product: linux}
 *       fields: {Image: process.executable, User: [user.name, user.id]}
 *     - logsource: {product: windows}         # `*`: any other name, and
 *       fields: {'*': ['*', 'winlog.event_data.*']}  # in a target: the name
 *
 *   placeholders:                            # values for |expand
 *     known_cdcs: [dc01, dc02]
 *
 * This file only loads them; grouping rules by logsource is in detect.c.
 */
#include "detect_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *detect_scalar_dup(const struct ynode *n)
{
	if (n == NULL || n->kind != YN_SCALAR || ytree_is_null(n))
		return NULL;
	return vg_strndup(n->str, n->len);
}

struct ynode *detect_ynode_copy_in(const struct ynode *n, const char *file)
{
	struct ynode *c;

	if (n == NULL)
		return NULL;
	c = vg_calloc(1, sizeof(*c));
	*c = *n;
	c->file = file;
	c->str = n->str ? vg_strndup(n->str, n->len) : NULL;
	c->items = n->n ? vg_malloc(n->n * sizeof(*c->items)) : NULL;
	for (size_t i = 0; i < n->n; i++)
		c->items[i] = detect_ynode_copy_in(n->items[i], file);
	return c;
}

struct ynode *detect_ynode_copy(const struct ynode *n)
{
	return n ? detect_ynode_copy_in(n, n->file) : NULL;
}

void detect_ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		detect_ynode_free(n->items[i]);
	free(n->items);
	free(n->str);
	free(n);
}

void detect_ls_free(struct lsource *ls)
{
	free(ls->category);
	free(ls->product);
	free(ls->service);
	memset(ls, 0, sizeof(*ls));
}

static int ls_eq(const char *entry, const char *rule)
{
	return entry == NULL || (rule != NULL && strcasecmp(entry, rule) == 0);
}

int detect_ls_covers(const struct lsource *entry, const struct lsource *rule)
{
	return ls_eq(entry->category, rule->category) &&
	    ls_eq(entry->product, rule->product) &&
	    ls_eq(entry->service, rule->service);
}

int detect_is_mapping_doc(const struct ynode *root)
{
	return root != NULL && root->kind == YN_MAP &&
	    ytree_get(root, "detection") == NULL &&
	    (ytree_get(root, "logsources") != NULL ||
	    ytree_get(root, "fieldmappings") != NULL ||
	    ytree_get(root, "placeholders") != NULL);
}

/* category/product/service of a map; other keys are left to the caller. */
static int read_ls(struct dload *dl, const struct ynode *map,
    struct lsource *ls, int *named)
{
	static const char *const keys[] = { "category", "product", "service" };
	int bad = 0;

	memset(ls, 0, sizeof(*ls));
	*named = 0;
	for (size_t i = 0; i < VG_ARRAY_LEN(keys); i++) {
		const struct ynode *v = ytree_get(map, keys[i]);
		char **dst = i == 0 ? &ls->category : i == 1 ? &ls->product :
		    &ls->service;

		if (v == NULL)
			continue;
		if (v->kind != YN_SCALAR || ytree_is_null(v) || v->len == 0) {
			dl_error(dl, v, "logsource %s must be a non-empty string",
			    keys[i]);
			bad = 1;
			continue;
		}
		*dst = vg_strndup(v->str, v->len);
		(*named)++;
	}
	return bad ? -1 : 0;
}

static void load_logsources(struct dload *dl, struct ruleset *rs,
    const struct ynode *list)
{
	if (list->kind != YN_SEQ) {
		dl_error(dl, list, "logsources must be a list");
		return;
	}
	for (size_t i = 0; i < list->n; i++) {
		const struct ynode *e = list->items[i], *conds = NULL;
		struct map_ls m = { 0 };
		int named, bad = 0;

		if (e->kind != YN_MAP) {
			dl_error(dl, e, "a logsources entry must be a map");
			continue;
		}
		for (size_t k = 0; k + 1 < e->n; k += 2) {
			const struct ynode *key = e->items[k];

			if (ytree_is_str(key, "conditions"))
				conds = e->items[k + 1];
			else if (!ytree_is_str(key, "category") &&
			    !ytree_is_str(key, "product") &&
			    !ytree_is_str(key, "service") &&
			    !ytree_is_str(key, "description")) {
				dl_error(dl, key, "unknown key '%s' in a logsources "
				    "entry", key->kind == YN_SCALAR ? key->str : "?");
				bad = 1;
			}
		}
		if (read_ls(dl, e, &m.ls, &named) < 0)
			bad = 1;
		else if (named == 0) {
			dl_error(dl, e, "a logsources entry names no category, "
			    "product or service");
			bad = 1;
		}
		if (!bad && conds != NULL && !ytree_is_null(conds) &&
		    (m.cond = detect_sel_compile(dl, conds, NULL)) == NULL)
			bad = 1;
		if (bad) {
			detect_ls_free(&m.ls);
			continue;
		}
		m.file = vg_strdup(e->file ? e->file : "");
		m.line = e->line;
		rs->mls = vg_realloc(rs->mls, (rs->nmls + 1) * sizeof(*rs->mls));
		rs->mls[rs->nmls++] = m;
	}
}

static int read_fields(struct dload *dl, const struct ynode *map,
    struct map_fields *mf)
{
	int bad = 0;

	if (map->kind != YN_MAP) {
		dl_error(dl, map, "field mappings must be a map of Sigma names "
		    "to event field names");
		return -1;
	}
	mf->from = vg_calloc(map->n / 2 + 1, sizeof(*mf->from));
	mf->to = vg_calloc(map->n / 2 + 1, sizeof(*mf->to));
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		const struct ynode *const *items;
		size_t n;
		char **to;

		if (k->kind != YN_SCALAR || k->len == 0) {
			dl_error(dl, k, "a Sigma field name must be a string");
			bad = 1;
			continue;
		}
		if (v->kind == YN_SCALAR) {
			items = (const struct ynode *const *)&map->items[i + 1];
			n = 1;
		} else if (v->kind == YN_SEQ && v->n > 0) {
			items = (const struct ynode *const *)v->items;
			n = v->n;
		} else {
			dl_error(dl, v, "'%s' must map to a field name or a list "
			    "of field names", k->str);
			bad = 1;
			continue;
		}
		to = vg_calloc(n + 1, sizeof(*to));
		for (size_t j = 0; j < n; j++) {
			if (items[j]->kind != YN_SCALAR || items[j]->len == 0 ||
			    ytree_is_null(items[j])) {
				dl_error(dl, items[j], "a field name must be a "
				    "non-empty string");
				bad = 1;
				to[j] = vg_strdup("");
			} else {
				to[j] = vg_strndup(items[j]->str, items[j]->len);
			}
		}
		mf->from[mf->n] = vg_strndup(k->str, k->len);
		mf->to[mf->n] = to;
		mf->n++;
	}
	return bad ? -1 : 0;
}

static void mf_free(struct map_fields *mf)
{
	for (size_t i = 0; i < mf->n; i++) {
		for (size_t j = 0; mf->to[i][j] != NULL; j++)
			free(mf->to[i][j]);
		free(mf->to[i]);
		free(mf->from[i]);
	}
	free(mf->from);
	free(mf->to);
	detect_ls_free(&mf->ls);
}

static void add_mf(struct ruleset *rs, struct map_fields *mf)
{
	rs->mfs = vg_realloc(rs->mfs, (rs->nmfs + 1) * sizeof(*rs->mfs));
	rs->mfs[rs->nmfs++] = *mf;
}

static void load_fieldmappings(struct dload *dl, struct ruleset *rs,
    const struct ynode *v)
{
	if (v->kind == YN_MAP) {
		struct map_fields mf = { 0 };

		if (read_fields(dl, v, &mf) < 0)
			mf_free(&mf);
		else
			add_mf(rs, &mf);
		return;
	}
	if (v->kind != YN_SEQ) {
		dl_error(dl, v, "fieldmappings must be a map or a list");
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *e = v->items[i], *ls, *fields;
		struct map_fields mf = { 0 };
		int named, bad = 0;

		if (e->kind != YN_MAP) {
			dl_error(dl, e, "a fieldmappings entry must be a map");
			continue;
		}
		for (size_t k = 0; k + 1 < e->n; k += 2) {
			const struct ynode *key = e->items[k];

			if (!ytree_is_str(key, "logsource") &&
			    !ytree_is_str(key, "fields") &&
			    !ytree_is_str(key, "description")) {
				dl_error(dl, key, "unknown key '%s' in a fieldmappings "
				    "entry", key->kind == YN_SCALAR ? key->str : "?");
				bad = 1;
			}
		}
		ls = ytree_get(e, "logsource");
		fields = ytree_get(e, "fields");
		if (fields == NULL) {
			dl_error(dl, e, "a fieldmappings entry needs 'fields'");
			continue;
		}
		if (ls != NULL) {
			if (ls->kind != YN_MAP) {
				dl_error(dl, ls, "logsource must be a map");
				bad = 1;
			} else if (read_ls(dl, ls, &mf.ls, &named) < 0) {
				bad = 1;
			} else {
				mf.restricted = named > 0;
			}
		}
		if (read_fields(dl, fields, &mf) < 0 || bad)
			mf_free(&mf);
		else
			add_mf(rs, &mf);
	}
}

/*
 *   placeholders:
 *     known_cdcs: [dc01, 'dc02.corp.example', 10.0.0.10]
 *     Servers: 'srv*'          # one value; wildcards work
 *     Nothing: []              # no value: |expand matches nothing
 */
static void load_placeholders(struct dload *dl, struct ruleset *rs,
    const struct ynode *map)
{
	if (map->kind != YN_MAP) {
		dl_error(dl, map, "placeholders must be a map of names to values");
		return;
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		const struct ynode *const *items;
		struct placeholder ph = { 0 };
		size_t n, j;
		int bad = 0;

		if (k->kind != YN_SCALAR || k->len == 0 ||
		    memchr(k->str, '%', k->len) != NULL) {
			dl_error(dl, k, "a placeholder name must be a non-empty "
			    "string without '%%'");
			continue;
		}
		for (j = 0; j < rs->nphs; j++) {
			if (strcmp(rs->phs[j].name, k->str) == 0)
				break;
		}
		if (j < rs->nphs) {
			dl_error(dl, k, "placeholder %%%s%% is defined twice (also "
			    "%s:%d)", k->str, rs->phs[j].file, rs->phs[j].line);
			continue;
		}
		if (v->kind == YN_SCALAR && !ytree_is_null(v)) {
			items = (const struct ynode *const *)&map->items[i + 1];
			n = 1;
		} else if (v->kind == YN_SEQ) {
			items = (const struct ynode *const *)v->items;
			n = v->n;
		} else {
			dl_error(dl, v, "placeholder %%%s%% must have a value or a "
			    "list of values ([] for none)", k->str);
			continue;
		}
		ph.vals = vg_calloc(n + 1, sizeof(*ph.vals));
		for (j = 0; j < n; j++) {
			if (items[j]->kind != YN_SCALAR || ytree_is_null(items[j])) {
				dl_error(dl, items[j], "a placeholder value must be a "
				    "string or a number");
				bad = 1;
				break;
			}
			detect_sstr_parse(items[j]->str, items[j]->len, &ph.vals[ph.n++]);
		}
		if (bad) {
			for (j = 0; j < ph.n; j++)
				free(ph.vals[j].t);
			free(ph.vals);
			continue;
		}
		ph.name = vg_strndup(k->str, k->len);
		ph.file = vg_strdup(k->file ? k->file : "");
		ph.line = k->line;
		ph.col = k->col;
		rs->phs = vg_realloc(rs->phs, (rs->nphs + 1) * sizeof(*rs->phs));
		rs->phs[rs->nphs++] = ph;
	}
}

const struct placeholder *detect_placeholder(const struct ruleset *rs,
    const char *name, size_t len)
{
	for (size_t i = 0; rs != NULL && i < rs->nphs; i++) {
		if (strlen(rs->phs[i].name) == len &&
		    memcmp(rs->phs[i].name, name, len) == 0)
			return &rs->phs[i];
	}
	return NULL;
}

void detect_map_load(struct dload *dl, struct ruleset *rs,
    const struct ynode *root)
{
	const struct ynode *v;

	if ((v = ytree_get(root, "logsources")) != NULL)
		load_logsources(dl, rs, v);
	if ((v = ytree_get(root, "fieldmappings")) != NULL)
		load_fieldmappings(dl, rs, v);
	if ((v = ytree_get(root, "placeholders")) != NULL)
		load_placeholders(dl, rs, v);
}

void detect_map_free(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->nmls; i++) {
		detect_ls_free(&rs->mls[i].ls);
		if (rs->mls[i].pack != NULL) {
			detect_pack_sn_free(rs->mls[i].cond);
			free(rs->mls[i].pack);
		} else {
			detect_snode_free(rs->mls[i].cond);
		}
		free(rs->mls[i].file);
	}
	free(rs->mls);
	for (size_t i = 0; i < rs->nmfs; i++)
		mf_free(&rs->mfs[i]);
	free(rs->mfs);
	for (size_t i = 0; i < rs->nphs; i++) {
		for (size_t j = 0; j < rs->phs[i].n; j++)
			free(rs->phs[i].vals[j].t);
		free(rs->phs[i].vals);
		free(rs->phs[i].name);
		free(rs->phs[i].file);
	}
	free(rs->phs);
	rs->mls = NULL;
	rs->mfs = NULL;
	rs->phs = NULL;
	rs->nmls = rs->nmfs = rs->nphs = 0;
}
