/*
 * detect_load.c: reads rule and mapping files into a ruleset.
 *
 * Loading runs in phases so that order between files never matters:
 * every file is parsed and its documents sorted into mappings, rules,
 * Sigma filters and correlations (rule collections with `action: global`,
 * `reset` and `repeat` are merged here); then mappings load, filters are
 * checked, and each rule compiles against the field mappings of its
 * logsource, takes the filters that name it, and joins the group of rules
 * that share its mapped logsource conditions.
 *
 * Every problem is reported with file:line:col and loading goes on; a rule
 * with any error is left out and counted as rejected. Correlation rules are
 * kept as YAML for the correlation stage, which checks them; they count
 * neither as loaded nor as rejected here.
 */
#define _POSIX_C_SOURCE 200809L
#include "detect_int.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void dl_error_at(struct dload *dl, const char *file, int line, int col,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dl->errors++;
	vg_diag_error(dl->d, file, line, col, "%s", msg);
}

void dl_error(struct dload *dl, const struct ynode *at, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dl->errors++;
	vg_diag_error(dl->d, at ? at->file : NULL, at ? at->line : 0,
	    at ? at->col : 0, "%s", msg);
}

void dl_warn(struct dload *dl, const struct ynode *at, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dl->warnings++;
	vg_diag_warn(dl->d, at ? at->file : NULL, at ? at->line : 0,
	    at ? at->col : 0, "%s", msg);
}

/* A document to load; root is borrowed from a parsed file or owned. */
struct doc {
	const struct ynode *root;
	const char *file;
	int line;
};

struct filt {
	const struct ynode *root;  /* the filter document */
	const struct ynode *body;  /* its `filter:` map */
	const struct ynode *cond;
	char *title;
	struct lsource ls;
	int used;
};

struct loader {
	struct dload dl;
	struct ruleset *rs;
	struct ydoc **files;   /* parsed files */
	size_t *nfdocs;
	size_t nfiles;
	struct ynode **owned;  /* merged collection documents */
	size_t nowned;
	struct doc *maps, *rules, *filters;
	size_t nmaps, nrules, nfilters;
	struct filt *filts;
	char **seen;           /* real paths already read (hash set) */
	uint8_t *seenhow;      /* SEEN_* per slot */
	size_t nseen, capseen;
	int rejected, loaded, files_read, correlations;
};

static void doc_push(struct doc **v, size_t *n, const struct ynode *root,
    const char *file, int line)
{
	*v = vg_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].root = root;
	(*v)[*n].file = file;
	(*v)[*n].line = line;
	(*n)++;
}

/* ---- rule collections ---- */

static struct ynode *copy_except(const struct ynode *n, const char *skip)
{
	struct ynode *c = detect_ynode_copy(n);

	if (c->kind == YN_MAP && skip != NULL) {
		size_t o = 0;

		for (size_t i = 0; i + 1 < c->n; i += 2) {
			if (ytree_is_str(c->items[i], skip)) {
				detect_ynode_free(c->items[i]);
				detect_ynode_free(c->items[i + 1]);
				continue;
			}
			c->items[o++] = c->items[i];
			c->items[o++] = c->items[i + 1];
		}
		c->n = o;
	}
	return c;
}

/* Deep merge: maps merge key by key, anything else in `over` wins. */
static struct ynode *merge(const struct ynode *base, const struct ynode *over)
{
	struct ynode *r;

	if (base == NULL || base->kind != YN_MAP || over->kind != YN_MAP)
		return copy_except(over, "action");
	r = copy_except(base, "action");
	for (size_t i = 0; i + 1 < over->n; i += 2) {
		const struct ynode *k = over->items[i], *v = over->items[i + 1];
		size_t j;

		if (ytree_is_str(k, "action"))
			continue;
		for (j = 0; j + 1 < r->n; j += 2) {
			if (k->kind == YN_SCALAR && ytree_is_str(r->items[j], k->str))
				break;
		}
		if (j + 1 < r->n) {
			struct ynode *m = merge(r->items[j + 1], v);

			detect_ynode_free(r->items[j + 1]);
			r->items[j + 1] = m;
		} else {
			r->items = vg_realloc(r->items, (r->n + 2) * sizeof(*r->items));
			r->items[r->n++] = detect_ynode_copy(k);
			r->items[r->n++] = detect_ynode_copy(v);
		}
	}
	return r;
}

static const struct ynode *own(struct loader *L, struct ynode *n)
{
	L->owned = vg_realloc(L->owned, (L->nowned + 1) * sizeof(*L->owned));
	L->owned[L->nowned++] = n;
	return n;
}

static void classify(struct loader *L, const struct ynode *root,
    const char *file, int line, int maps_done)
{
	if (detect_is_mapping_doc(root)) {
		if (!maps_done)
			doc_push(&L->maps, &L->nmaps, root, file, line);
	}
	else if (ytree_get(root, "correlation") != NULL) {
		/* the correlation stage checks and compiles these */
		L->correlations++;
		detect_keep_correlation(L->rs, root, file);
	} else if (ytree_get(root, "filter") != NULL &&
	    ytree_get(root, "detection") == NULL) {
		doc_push(&L->filters, &L->nfilters, root, file, line);
	} else {
		doc_push(&L->rules, &L->nrules, root, file, line);
	}
}

/* Sort the documents of one rule file, resolving collections. */
static void sort_docs(struct loader *L, struct ydoc *docs, size_t n,
    int maps_done)
{
	const struct ynode *global = NULL, *prev = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct ynode *root = docs[i].root, *action;

		if (root == NULL)
			continue;
		if (root->kind != YN_MAP) {
			dl_error(&L->dl, root, "a rule document must be a map, not %s",
			    ytree_kind_name(root));
			L->rejected++;
			continue;
		}
		if ((action = ytree_get(root, "action")) != NULL) {
			if (ytree_is_str(action, "global")) {
				global = global ? own(L, merge(global, root)) : root;
				continue;
			}
			if (ytree_is_str(action, "reset")) {
				global = NULL;
				continue;
			}
			if (ytree_is_str(action, "repeat")) {
				if (prev == NULL) {
					dl_error(&L->dl, action, "action: repeat with no "
					    "previous rule to repeat");
					L->rejected++;
					continue;
				}
				prev = own(L, merge(prev, root));
				classify(L, prev, docs[i].file, root->line, maps_done);
				continue;
			}
			dl_error(&L->dl, action, "unsupported action '%s' (expected "
			    "global, reset or repeat)", action->kind == YN_SCALAR ?
			    action->str : "?");
			L->rejected++;
			continue;
		}
		prev = global ? own(L, merge(global, root)) : root;
		classify(L, prev, docs[i].file, root->line, maps_done);
	}
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

#define SEEN_MAPS 1   /* read for its mapping documents */
#define SEEN_ALL 2    /* read for everything */

/*
 * How this file (by real path) was read before (SEEN_* bits, 0 if never),
 * and remember it is now read `how`. A folder can be both a mapping path
 * and a rule path: its mappings must load once, its rules still load.
 */
static int seen_before(struct loader *L, const char *path, int how)
{
	char *rp = realpath(path, NULL);
	size_t i;
	int was;

	if (rp == NULL)
		rp = vg_strdup(path);
	if (L->nseen * 2 >= L->capseen) {
		/* grow the open-addressing set */
		size_t cap = L->capseen ? L->capseen * 2 : 1024;
		char **t = vg_calloc(cap, sizeof(*t));
		uint8_t *h = vg_calloc(cap, 1);

		for (size_t k = 0; k < L->capseen; k++) {
			if (L->seen[k] == NULL)
				continue;
			i = str_hash(L->seen[k]) & (cap - 1);
			while (t[i] != NULL)
				i = (i + 1) & (cap - 1);
			t[i] = L->seen[k];
			h[i] = L->seenhow[k];
		}
		free(L->seen);
		free(L->seenhow);
		L->seen = t;
		L->seenhow = h;
		L->capseen = cap;
	}
	for (i = str_hash(rp) & (L->capseen - 1); L->seen[i];
	    i = (i + 1) & (L->capseen - 1)) {
		if (strcmp(L->seen[i], rp) == 0) {
			free(rp);
			was = L->seenhow[i];
			L->seenhow[i] |= (uint8_t)how;
			return was;
		}
	}
	L->seen[i] = rp;
	L->seenhow[i] = (uint8_t)how;
	L->nseen++;
	return 0;
}

static void keep_file(struct loader *L, struct ydoc *docs, size_t n)
{
	L->files = vg_realloc(L->files, (L->nfiles + 1) * sizeof(*L->files));
	L->nfdocs = vg_realloc(L->nfdocs, (L->nfiles + 1) * sizeof(*L->nfdocs));
	L->files[L->nfiles] = docs;
	L->nfdocs[L->nfiles] = n;
	L->nfiles++;
}

/*
 * Parse one file or buffer. `how` is SEEN_MAPS to keep its mapping
 * documents only, SEEN_ALL for everything; `was` says how it was read
 * before (its mappings are not loaded twice).
 */
static void read_source(struct loader *L, const char *name, const char *buf,
    size_t len, int how, int was)
{
	struct ydoc *docs = NULL;
	size_t n = 0;
	struct vg_err err = { 0 };
	int rc;

	if (was == 0)
		L->files_read++;
	if (buf != NULL)
		rc = ytree_parse(name, buf, len, &docs, &n, &err);
	else
		rc = ytree_load_file(name, &docs, &n, &err);
	if (rc < 0) {
		vg_diag_err(L->dl.d, &err);
		L->dl.errors++;
		L->rejected++;
		return;
	}
	keep_file(L, docs, n);
	if (how == SEEN_MAPS) {
		for (size_t i = 0; i < n; i++) {
			if (detect_is_mapping_doc(docs[i].root))
				doc_push(&L->maps, &L->nmaps, docs[i].root,
				    docs[i].file, docs[i].line);
		}
		return;
	}
	sort_docs(L, docs, n, was & SEEN_MAPS);
}

static void read_paths(struct loader *L, const char *const *paths, size_t np,
    int how)
{
	size_t nfiles = 0;
	int before = L->dl.d ? L->dl.d->errors : 0;
	char **files = vg_list_yaml(paths, np, &nfiles, L->dl.d);

	if (L->dl.d != NULL && L->dl.d->errors > before) {
		/* unreadable paths: vg_list_yaml reported them */
		L->dl.errors += L->dl.d->errors - before;
		L->rejected += L->dl.d->errors - before;
	}
	for (size_t i = 0; i < nfiles; i++) {
		int was = seen_before(L, files[i], how);

		/* read whole, or read for what is asked again: done */
		if ((was & SEEN_ALL) || (was != 0 && how == SEEN_MAPS))
			continue;
		read_source(L, files[i], NULL, 0, how, was);
	}
	vg_free_list(files, nfiles);
}

/* ---- filters ---- */

static void check_filters(struct loader *L)
{
	L->filts = vg_calloc(L->nfilters + 1, sizeof(*L->filts));
	for (size_t i = 0; i < L->nfilters; i++) {
		const struct ynode *root = L->filters[i].root, *v, *ls, *rules;
		struct filt *f = &L->filts[i];
		int before = L->dl.errors, nsel = 0;

		f->root = root;
		v = ytree_get(root, "title");
		if (v == NULL || v->kind != YN_SCALAR || v->len == 0)
			dl_error(&L->dl, v ? v : root, "a filter needs a title");
		else
			f->title = vg_strndup(v->str, v->len);
		ls = ytree_get(root, "logsource");
		if (ls == NULL || ls->kind != YN_MAP) {
			dl_error(&L->dl, ls ? ls : root, "a filter needs a logsource map");
		} else {
			static const char *const keys[] = { "category", "product",
			    "service" };

			for (size_t k = 0; k < 3; k++) {
				const struct ynode *lv = ytree_get(ls, keys[k]);
				char *s = detect_scalar_dup(lv);

				if (lv != NULL && !ytree_is_null(lv) && s == NULL)
					dl_error(&L->dl, lv, "logsource %s must be a "
					    "string", keys[k]);
				if (k == 0)
					f->ls.category = s;
				else if (k == 1)
					f->ls.product = s;
				else
					f->ls.service = s;
			}
		}
		f->body = ytree_get(root, "filter");
		if (f->body->kind != YN_MAP) {
			dl_error(&L->dl, f->body, "filter must be a map");
			goto next;
		}
		rules = ytree_get(f->body, "rules");
		if (rules == NULL || (rules->kind != YN_SEQ && rules->kind != YN_SCALAR) ||
		    ytree_is_null(rules)) {
			dl_error(&L->dl, rules ? rules : f->body,
			    "filter: 'rules' must list the ids or names of the rules to filter");
		} else if (rules->kind == YN_SEQ) {
			for (size_t k = 0; k < rules->n; k++) {
				if (rules->items[k]->kind != YN_SCALAR)
					dl_error(&L->dl, rules->items[k],
					    "filter: a rule reference must be a string");
			}
		}
		f->cond = ytree_get(f->body, "condition");
		if (f->cond == NULL)
			dl_error(&L->dl, f->body, "filter: missing condition");
		for (size_t k = 0; k + 1 < f->body->n; k += 2) {
			const struct ynode *key = f->body->items[k];

			if (ytree_is_str(key, "rules") || ytree_is_str(key, "condition"))
				continue;
			if (key->kind != YN_SCALAR || key->len == 0)
				dl_error(&L->dl, key, "a search identifier must be a string");
			nsel++;
		}
		if (nsel == 0)
			dl_error(&L->dl, f->body, "filter: no selection");
		if (L->dl.errors == before) {
			/* compile once with no field mapping to report errors
			 * here, once, rather than for every rule it names */
			struct sel *sels = vg_calloc((size_t)nsel, sizeof(*sels));
			uint32_t ns = 0;
			struct cnode *cn = NULL;

			for (size_t k = 0; k + 1 < f->body->n; k += 2) {
				const struct ynode *key = f->body->items[k];

				if (ytree_is_str(key, "rules") ||
				    ytree_is_str(key, "condition"))
					continue;
				sels[ns].name = vg_strdup(key->str);
				sels[ns].root = detect_sel_compile(&L->dl,
				    f->body->items[k + 1], NULL);
				ns++;
			}
			if (L->dl.errors == before)
				cn = detect_cond_compile(&L->dl, f->cond, sels, ns);
			detect_cnode_free(cn);
			for (uint32_t k = 0; k < ns; k++) {
				free(sels[k].name);
				detect_snode_free(sels[k].root);
			}
			free(sels);
		}
next:
		if (L->dl.errors != before) {
			L->rejected++;
			f->body = NULL; /* not applied */
		}
	}
}

static int filter_names(const struct filt *f, const struct rule *r)
{
	const struct ynode *rules = ytree_get(f->body, "rules");

	if (rules->kind == YN_SCALAR)
		return strcmp(rules->str, r->id) == 0 ||
		    (r->name && strcmp(rules->str, r->name) == 0);
	for (size_t i = 0; i < rules->n; i++) {
		const struct ynode *it = rules->items[i];

		if (strcmp(it->str, r->id) == 0 ||
		    (r->name && strcmp(it->str, r->name) == 0))
			return 1;
	}
	return 0;
}

static void cn_shift(struct cnode *cn, uint32_t off)
{
	if (cn->op == CN_SEL)
		cn->sel += off;
	for (uint32_t i = 0; i < cn->n; i++)
		cn_shift(cn->kids[i], off);
}

/*
 * Add filter f to rule r: its condition becomes (cond) and not (filter).
 * Returns 0, 1 when the filter does not apply (warned), -1 on failure.
 */
static int apply_filter(struct loader *L, struct rule *r, struct filt *f,
    const struct fieldmap *fm)
{
	struct rule_impl *ri = r->impl;
	struct dload quiet = { 0 };
	uint32_t off = ri->nsels, n = 0;

	quiet.rs = L->rs;
	struct cnode *fc, *not, *and;

	if (!detect_ls_covers(&f->ls, &ri->ls)) {
		dl_warn(&L->dl, f->root, "filter '%s' names rule '%s' whose "
		    "logsource it does not cover; not applied", f->title, r->id);
		return 1;
	}
	for (size_t k = 0; k + 1 < f->body->n; k += 2) {
		if (!ytree_is_str(f->body->items[k], "rules") &&
		    !ytree_is_str(f->body->items[k], "condition"))
			n++;
	}
	ri->sels = vg_realloc(ri->sels, (ri->nsels + n) * sizeof(*ri->sels));
	for (size_t k = 0; k + 1 < f->body->n; k += 2) {
		const struct ynode *key = f->body->items[k];
		struct sel *s;

		if (ytree_is_str(key, "rules") || ytree_is_str(key, "condition"))
			continue;
		s = &ri->sels[ri->nsels++];
		s->name = vg_strdup(key->str);
		s->filter = vg_strdup(f->title);
		/* already checked once: errors here are not new */
		s->root = detect_sel_compile(&quiet, f->body->items[k + 1], fm);
		if (s->root == NULL)
			return -1;
	}
	fc = detect_cond_compile(&quiet, f->cond, ri->sels + off, n);
	if (fc == NULL)
		return -1;
	cn_shift(fc, off);
	not = vg_calloc(1, sizeof(*not));
	not->op = CN_NOT;
	not->n = 1;
	not->kids = vg_malloc(sizeof(*not->kids));
	not->kids[0] = fc;
	and = vg_calloc(1, sizeof(*and));
	and->op = CN_AND;
	and->n = 2;
	and->kids = vg_malloc(2 * sizeof(*and->kids));
	and->kids[0] = ri->cond;
	and->kids[1] = not;
	ri->cond = and;
	f->used = 1;
	return 0;
}

/* ---- rules ---- */

static const char *const levels[] = { "informational", "low", "medium",
    "high", "critical" };
static const char *const statuses[] = { "stable", "test", "experimental",
    "deprecated", "unsupported" };

static int in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, list[i]) == 0)
			return 1;
	}
	return 0;
}

void detect_rule_free(struct rule *r)
{
	struct rule_impl *ri;

	if (r == NULL)
		return;
	ri = r->impl;
	if (ri != NULL && ri->pack != NULL) {
		detect_pack_free(ri);
	} else if (ri != NULL) {
		for (uint32_t i = 0; i < ri->nsels; i++) {
			free(ri->sels[i].name);
			free(ri->sels[i].filter);
			detect_snode_free(ri->sels[i].root);
		}
		free(ri->sels);
		detect_cnode_free(ri->cond);
	}
	if (ri != NULL) {
		detect_ls_free(&ri->ls);
		detect_ynode_free(ri->vigil);
		free(ri->need);
		free(ri);
	}
	free(r->id);
	free(r->name);
	free(r->title);
	free(r->level);
	free(r->status);
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r->file);
	free(r);
}

/* The field mappings for a logsource: restricted ones first. */
static void fieldmap_for(const struct ruleset *rs, const struct lsource *ls,
    struct fieldmap *fm)
{
	const struct map_fields **v = vg_calloc(rs->nmfs + 1, sizeof(*v));
	size_t n = 0;

	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < rs->nmfs; i++) {
			const struct map_fields *mf = &rs->mfs[i];

			if (pass == 0 && mf->restricted && detect_ls_covers(&mf->ls, ls))
				v[n++] = mf;
			else if (pass == 1 && !mf->restricted)
				v[n++] = mf;
		}
	}
	fm->mfs = v;
	fm->n = n;
}

static char *ls_text(const struct lsource *ls)
{
	char buf[512];
	size_t o = 0;

	buf[0] = '\0';
	if (ls->category)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "category: %s",
		    ls->category);
	if (ls->product && o < sizeof(buf))
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%sproduct: %s",
		    o ? ", " : "", ls->product);
	if (ls->service && o < sizeof(buf))
		snprintf(buf + o, sizeof(buf) - o, "%sservice: %s", o ? ", " : "",
		    ls->service);
	return vg_strdup(buf[0] ? buf : "no category, product or service");
}

/* Find or make the group of rules whose logsource selects `ents`. */
static uint32_t group_for(struct ruleset *rs, const uint32_t *ents, uint32_t n)
{
	struct lsgroup *g;

	for (size_t i = 0; i < rs->ngroups; i++) {
		g = &rs->groups[i];
		if (g->nentries == n && (n == 0 ||
		    memcmp(g->entries, ents, n * sizeof(*ents)) == 0))
			return (uint32_t)i;
	}
	rs->groups = vg_realloc(rs->groups, (rs->ngroups + 1) * sizeof(*rs->groups));
	g = &rs->groups[rs->ngroups];
	memset(g, 0, sizeof(*g));
	g->entries = vg_malloc((n + 1) * sizeof(*ents));
	memcpy(g->entries, ents, n * sizeof(*ents));
	g->nentries = n;
	return (uint32_t)rs->ngroups++;
}

static void group_add(struct ruleset *rs, uint32_t gi, uint32_t rule)
{
	struct lsgroup *g = &rs->groups[gi];

	if (g->nrules == g->caprules) {
		g->caprules = g->caprules ? g->caprules * 2 : 8;
		g->rules = vg_realloc(g->rules, g->caprules * sizeof(*g->rules));
	}
	g->rules[g->nrules++] = rule;
}

static char *req_str(struct loader *L, const struct ynode *root,
    const char *key, int required)
{
	const struct ynode *v = ytree_get(root, key);

	if (v == NULL || ytree_is_null(v)) {
		if (required)
			dl_error(&L->dl, v ? v : root, "missing '%s'", key);
		return NULL;
	}
	if (v->kind != YN_SCALAR) {
		dl_error(&L->dl, v, "'%s' must be a string, not %s", key,
		    ytree_kind_name(v));
		return NULL;
	}
	return vg_strndup(v->str, v->len);
}

static void read_meta(struct loader *L, struct rule *r, const struct ynode *root,
    const struct doc *dc)
{
	const struct ynode *tags = ytree_get(root, "tags");
	char buf[600];

	r->title = req_str(L, root, "title", 1);
	r->id = req_str(L, root, "id", 0);
	if (r->id == NULL) {
		snprintf(buf, sizeof(buf), "%s:%d", dc->file ? dc->file : "",
		    root->line);
		r->id = vg_strdup(buf);
	}
	r->name = req_str(L, root, "name", 0);
	r->status = req_str(L, root, "status", 0);
	if (r->status != NULL && !in_list(r->status, statuses,
	    VG_ARRAY_LEN(statuses)))
		dl_error(&L->dl, ytree_get(root, "status"), "status '%s' is not "
		    "one of stable, test, experimental, deprecated, unsupported",
		    r->status);
	r->level = req_str(L, root, "level", 0);
	if (r->level == NULL) {
		r->level = vg_strdup("medium"); /* see rules/README.md */
	} else if (!in_list(r->level, levels, VG_ARRAY_LEN(levels))) {
		dl_error(&L->dl, ytree_get(root, "level"), "level '%s' is not one "
		    "of informational, low, medium, high, critical", r->level);
	}
	if (tags != NULL && !ytree_is_null(tags)) {
		if (tags->kind != YN_SEQ) {
			dl_error(&L->dl, tags, "tags must be a list");
		} else {
			r->tags = vg_calloc(tags->n + 1, sizeof(*r->tags));
			for (size_t i = 0; i < tags->n; i++) {
				if (tags->items[i]->kind != YN_SCALAR) {
					dl_error(&L->dl, tags->items[i],
					    "a tag must be a string");
					continue;
				}
				r->tags[r->ntags++] = vg_strdup(tags->items[i]->str);
			}
		}
	}
}

static int read_logsource(struct loader *L, struct rule *r,
    const struct ynode *root)
{
	const struct ynode *ls = ytree_get(root, "logsource");
	static const char *const keys[] = { "category", "product", "service" };

	if (ls == NULL || ls->kind != YN_MAP) {
		dl_error(&L->dl, ls ? ls : root, "missing 'logsource' map");
		return -1;
	}
	for (size_t k = 0; k < 3; k++) {
		const struct ynode *v = ytree_get(ls, keys[k]);
		char *s = NULL;

		if (v != NULL && !ytree_is_null(v)) {
			if (v->kind != YN_SCALAR) {
				dl_error(&L->dl, v, "logsource %s must be a string",
				    keys[k]);
				return -1;
			}
			s = vg_strndup(v->str, v->len);
		}
		if (k == 0)
			r->impl->ls.category = s;
		else if (k == 1)
			r->impl->ls.product = s;
		else
			r->impl->ls.service = s;
	}
	return 0;
}

static void read_detection(struct loader *L, struct rule *r,
    const struct ynode *root, const struct fieldmap *fm)
{
	const struct ynode *det = ytree_get(root, "detection"), *cond = NULL;
	struct rule_impl *ri = r->impl;
	int before = L->dl.errors;

	if (det == NULL || det->kind != YN_MAP) {
		dl_error(&L->dl, det ? det : root, "missing 'detection' map");
		return;
	}
	ri->sels = vg_calloc(det->n / 2 + 1, sizeof(*ri->sels));
	for (size_t i = 0; i + 1 < det->n; i += 2) {
		const struct ynode *k = det->items[i], *v = det->items[i + 1];
		struct sel *s;

		if (ytree_is_str(k, "condition")) {
			cond = v;
			continue;
		}
		if (ytree_is_str(k, "timeframe")) {
			dl_error(&L->dl, k, "timeframe is not supported (old "
			    "aggregation syntax); write a correlation rule");
			continue;
		}
		if (k->kind != YN_SCALAR || k->len == 0) {
			dl_error(&L->dl, k, "a search identifier must be a string");
			continue;
		}
		s = &ri->sels[ri->nsels];
		s->root = detect_sel_compile(&L->dl, v, fm);
		if (s->root == NULL)
			continue;
		s->name = vg_strndup(k->str, k->len);
		ri->nsels++;
	}
	if (cond == NULL) {
		dl_error(&L->dl, det, "the detection has no condition");
		return;
	}
	if (L->dl.errors != before)
		return; /* missing selections would only add noise */
	ri->cond = detect_cond_compile(&L->dl, cond, ri->sels, ri->nsels);
}

static void compile_rule(struct loader *L, const struct doc *dc)
{
	const struct ynode *root = dc->root, *v;
	struct ruleset *rs = L->rs;
	struct rule *r = vg_calloc(1, sizeof(*r));
	struct fieldmap fm = { 0 };
	uint32_t *ents, nents = 0;

	L->dl.errors = 0;
	r->impl = vg_calloc(1, sizeof(*r->impl));
	r->file = vg_strdup(dc->file ? dc->file : "");
	r->line = root->line;
	read_meta(L, r, root, dc);
	if (read_logsource(L, r, root) < 0) {
		read_detection(L, r, root, NULL); /* report its errors too */
		goto rejected;
	}
	fieldmap_for(rs, &r->impl->ls, &fm);
	read_detection(L, r, root, &fm);
	if ((v = ytree_get(root, "vigil")) != NULL)
		r->impl->vigil = detect_ynode_copy_in(v, r->file);
	if (L->dl.errors > 0)
		goto rejected;
	for (size_t i = 0; i < L->nfilters; i++) {
		struct filt *f = &L->filts[i];

		if (f->body != NULL && filter_names(f, r) &&
		    apply_filter(L, r, f, &fm) < 0) {
			dl_error(&L->dl, ytree_get(root, "detection"), "filter '%s' "
			    "does not compile for this rule", f->title);
			goto rejected;
		}
	}
	/* logsource: the mapping entries it selects */
	ents = vg_malloc((rs->nmls + 1) * sizeof(*ents));
	for (size_t i = 0; i < rs->nmls; i++) {
		if (detect_ls_covers(&rs->mls[i].ls, &r->impl->ls))
			ents[nents++] = (uint32_t)i;
	}
	if (nents == 0) {
		char *t = ls_text(&r->impl->ls);

		dl_warn(&L->dl, ytree_get(root, "logsource"), "logsource (%s) has "
		    "no mapping; the rule applies to every event", t);
		free(t);
	}
	r->impl->group = group_for(rs, ents, nents);
	free(ents);
	r->impl->index = (uint32_t)rs->nrules;
	group_add(rs, r->impl->group, r->impl->index);
	if (r->impl->nsels > rs->max_sels)
		rs->max_sels = r->impl->nsels;
	if (rs->nrules == rs->caprules) {
		rs->caprules = rs->caprules ? rs->caprules * 2 : 64;
		rs->rules = vg_realloc(rs->rules, rs->caprules * sizeof(*rs->rules));
	}
	rs->rules[rs->nrules++] = r;
	free(fm.mfs);
	L->loaded++;
	return;
rejected:
	free(fm.mfs);
	detect_rule_free(r);
	L->rejected++;
}

static int cmp_rule_id(const void *a, const void *b)
{
	const struct rule *x = *(const struct rule *const *)a;
	const struct rule *y = *(const struct rule *const *)b;
	int c = strcmp(x->id, y->id);

	return c ? c : (x->impl->index < y->impl->index ? -1 : 1);
}

/* Filters and correlations name rules by id: two with one id is a mistake. */
static void check_duplicate_ids(struct loader *L)
{
	struct ruleset *rs = L->rs;
	const struct rule **v;

	if (rs->nrules < 2)
		return;
	v = vg_malloc(rs->nrules * sizeof(*v));
	for (size_t i = 0; i < rs->nrules; i++)
		v[i] = rs->rules[i];
	qsort(v, rs->nrules, sizeof(*v), cmp_rule_id);
	for (size_t i = 1; i < rs->nrules; i++) {
		if (strcmp(v[i]->id, v[i - 1]->id) != 0)
			continue;
		L->dl.warnings++;
		vg_diag_warn(L->dl.d, v[i]->file, v[i]->line, 1, "duplicate rule "
		    "id '%s' (also %s:%d)", v[i]->id, v[i - 1]->file, v[i - 1]->line);
	}
	free(v);
}

static void loader_free(struct loader *L)
{
	for (size_t i = 0; i < L->nfiles; i++)
		ytree_free_docs(L->files[i], L->nfdocs[i]);
	free(L->files);
	free(L->nfdocs);
	for (size_t i = 0; i < L->nowned; i++)
		detect_ynode_free(L->owned[i]);
	free(L->owned);
	for (size_t i = 0; i < L->nfilters && L->filts; i++) {
		free(L->filts[i].title);
		detect_ls_free(&L->filts[i].ls);
	}
	free(L->filts);
	free(L->maps);
	free(L->rules);
	free(L->filters);
	vg_free_list(L->seen, L->capseen);
	free(L->seenhow);
}

static struct ruleset *load(const char *bufname, const char *buf, size_t len,
    const struct detect_opts *o, struct vg_diag *d, struct detect_stats *st)
{
	struct loader L;

	memset(&L, 0, sizeof(L));
	L.dl.d = d;
	L.rs = detect_ruleset_new();
	L.dl.rs = L.rs;
	field_init();
	/* rule paths first: a file named by both is then read whole once */
	if (o != NULL && o->nrule_paths > 0)
		read_paths(&L, o->rule_paths, o->nrule_paths, SEEN_ALL);
	if (o != NULL && o->nmapping_paths > 0)
		read_paths(&L, o->mapping_paths, o->nmapping_paths, SEEN_MAPS);
	if (buf != NULL)
		read_source(&L, bufname ? bufname : "<buffer>", buf, len, SEEN_ALL, 0);
	for (size_t i = 0; i < L.nmaps; i++) {
		int before = L.dl.errors;

		detect_map_load(&L.dl, L.rs, L.maps[i].root);
		if (L.dl.errors != before)
			L.rejected++;
	}
	check_filters(&L);
	for (size_t i = 0; i < L.nrules; i++)
		compile_rule(&L, &L.rules[i]);
	check_duplicate_ids(&L);
	for (size_t i = 0; i < L.nfilters; i++) {
		if (L.filts[i].body != NULL && !L.filts[i].used)
			dl_warn(&L.dl, L.filts[i].root, "filter '%s' names no "
			    "loaded rule", L.filts[i].title);
	}
	detect_ruleset_finish(L.rs);
	if (st != NULL) {
		st->files = L.files_read;
		st->loaded = L.loaded;
		st->rejected = L.rejected;
		st->warnings = L.dl.warnings;
		st->correlations = L.correlations;
	}
	loader_free(&L);
	return L.rs;
}

struct ruleset *detect_load(const struct detect_opts *o, struct vg_diag *d,
    struct detect_stats *st)
{
	return load(NULL, NULL, 0, o, d, st);
}

struct ruleset *detect_load_buffer(const char *name, const char *buf,
    size_t len, const struct detect_opts *o, struct vg_diag *d,
    struct detect_stats *st)
{
	return load(name, buf ? buf : "", buf ? len : 0, o, d, st);
}
