/*
 * correlate_load.c: Sigma correlation documents (kept by detect as YAML)
 * into compiled struct corr_rule: type, referenced rules (by id or name,
 * detection or correlation), group-by and condition fields resolved per
 * referenced rule (aliases, then the field mapping of the rule's logsource,
 * as detection mapped its selections), timespan, condition, generate, and
 * the vigil: extension (absence, suppress, lateness, max_events,
 * percentile).
 *
 * Every problem is reported with file:line:col and rejects the document;
 * a correlation that refers to a rejected one, or is part of a cycle, is
 * rejected too. Nothing here touches Redis or events.
 */
#include "correlate_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "ytree.h"

#define MAX_KEY_PART 120

static const char *const type_names[] = {
	[CT_EVENT_COUNT] = "event_count",
	[CT_VALUE_COUNT] = "value_count",
	[CT_TEMPORAL] = "temporal",
	[CT_TEMPORAL_ORDERED] = "temporal_ordered",
	[CT_VALUE_SUM] = "value_sum",
	[CT_VALUE_AVG] = "value_avg",
	[CT_VALUE_PERCENTILE] = "value_percentile",
	[CT_VALUE_MEDIAN] = "value_median",
};

static const char *const cond_names[CC_N] = { "gt", "gte", "lt", "lte", "eq", "neq" };

/* Top-level keys of a correlation document that need no checking here. */
static const char *const meta_keys[] = {
	"title", "id", "name", "status", "description", "author", "references",
	"date", "modified", "taxonomy", "correlation", "falsepositives", "level",
	"generate", "tags", "vigil", "related", "license", "fields", "scope",
};

struct lrule {
	struct corr_rule *cr;
	const struct ynode *root, *corr, *rules, *aliases, *field;
	const char *file;
	int bad;
	int color;       /* cycle search: 0 new, 1 on the path, 2 done */
	const struct ynode **refnodes;
};

struct loader {
	const struct ruleset *rs;
	struct vg_diag *d;
	struct lrule *lr;
	size_t n;
};

#define ERR(L, lr, node, ...)                                            \
	do {                                                             \
		const struct ynode *n_ = (node);                         \
		vg_diag_error((L)->d, (lr)->file, n_ ? n_->line : 0,     \
		    n_ ? n_->col : 0, __VA_ARGS__);                      \
		(lr)->bad = 1;                                           \
	} while (0)

static int is_str(const struct ynode *n)
{
	return n != NULL && n->kind == YN_SCALAR;
}

static char *opt_str(struct loader *L, struct lrule *lr, const struct ynode *m,
    const char *key)
{
	const struct ynode *v = ytree_get(m, key);

	if (v == NULL || ytree_is_null(v))
		return NULL;
	if (!is_str(v)) {
		ERR(L, lr, v, "%s: expected a string, found %s", key,
		    ytree_kind_name(v));
		return NULL;
	}
	return vg_strndup(v->str, v->len);
}

/* A string or a list of strings, into an owned array. */
static char **str_list(struct loader *L, struct lrule *lr,
    const struct ynode *v, const char *what, size_t *n)
{
	char **out;

	*n = 0;
	if (v == NULL || ytree_is_null(v))
		return NULL;
	if (is_str(v)) {
		out = vg_malloc(sizeof(*out));
		out[0] = vg_strndup(v->str, v->len);
		*n = 1;
		return out;
	}
	if (v->kind != YN_SEQ) {
		ERR(L, lr, v, "%s: expected a list of strings, found %s", what,
		    ytree_kind_name(v));
		return NULL;
	}
	out = vg_calloc(v->n + 1, sizeof(*out));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *it = v->items[i];

		if (!is_str(it) || it->len == 0) {
			ERR(L, lr, it, "%s: expected a non-empty string, found %s",
			    what, ytree_kind_name(it));
			continue;
		}
		for (size_t j = 0; j < *n; j++)
			if (strcmp(out[j], it->str) == 0)
				ERR(L, lr, it, "%s: '%s' is listed twice", what,
				    it->str);
		out[(*n)++] = vg_strndup(it->str, it->len);
	}
	return out;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static int parse_duration(const struct ynode *v, int64_t *ms)
{
	return is_str(v) && config_parse_duration(v->str, ms) == 0 ? 0 : -1;
}

static int parse_number(const struct ynode *v, double *out)
{
	char *end;
	double x;

	if (!is_str(v) || v->len == 0)
		return -1;
	errno = 0;
	x = strtod(v->str, &end);
	if (errno != 0 || *end != '\0' || !isfinite(x))
		return -1;
	*out = x;
	return 0;
}

/* ---- Redis key parts ---- */

void corr_key_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '%' || c == '{' || c == '}' ||
		    c == ':') {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_add(b, e, 3);
		} else {
			buf_addc(b, (char)c);
		}
	}
}

/* The escaped text, or '#' and its SHA1 when that would be too long. */
static char *key_part(const char *s)
{
	struct buf b;
	char *out;

	buf_init(&b);
	corr_key_escape(&b, s, strlen(s));
	if (b.len > MAX_KEY_PART) {
		static const char hex[] = "0123456789abcdef";
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdn = 0;

		buf_clear(&b);
		buf_addc(&b, '#');
		if (EVP_Digest(s, strlen(s), md, &mdn, EVP_sha1(), NULL) == 1)
			for (unsigned i = 0; i < mdn; i++) {
				buf_addc(&b, hex[md[i] >> 4]);
				buf_addc(&b, hex[md[i] & 15]);
			}
	}
	out = vg_strndup(b.p ? b.p : "", b.len);
	buf_free(&b);
	return out;
}

/* ---- one document ---- */

static int type_of(const char *s)
{
	for (size_t i = 0; i < VG_ARRAY_LEN(type_names); i++)
		if (strcmp(s, type_names[i]) == 0)
			return (int)i;
	return -1;
}

static void parse_condition(struct loader *L, struct lrule *lr,
    const struct ynode *c)
{
	struct corr_rule *cr = lr->cr;

	if (c == NULL || ytree_is_null(c))
		return;
	if (c->kind != YN_MAP) {
		ERR(L, lr, c, "condition: expected a map such as {gte: 5}, "
		    "found %s", ytree_kind_name(c));
		return;
	}
	for (size_t i = 0; i + 1 < c->n; i += 2) {
		const struct ynode *k = c->items[i], *v = c->items[i + 1];
		int found = 0;

		if (ytree_is_str(k, "field")) {
			lr->field = v;
			cr->value_names = str_list(L, lr, v, "condition.field",
			    &cr->nvalue);
			if (cr->nvalue > CORR_MAX_VALUE)
				ERR(L, lr, v, "condition.field: at most %d fields",
				    CORR_MAX_VALUE);
			continue;
		}
		for (int j = 0; j < CC_N; j++) {
			if (!ytree_is_str(k, cond_names[j]))
				continue;
			found = 1;
			if (parse_number(v, &cr->cond[j]) < 0)
				ERR(L, lr, v, "condition.%s: expected a number",
				    cond_names[j]);
			else
				cr->has[j] = 1;
		}
		if (!found)
			ERR(L, lr, k, "condition: unknown key '%s' (expected gt, "
			    "gte, lt, lte, eq, neq or field)",
			    is_str(k) ? k->str : "?");
	}
}

static int has_bound(const struct corr_rule *cr)
{
	for (int j = 0; j < CC_N; j++)
		if (cr->has[j])
			return 1;
	return 0;
}

/* A range that no number satisfies (gt 10 and lt 5). */
static int cond_empty(const struct corr_rule *cr)
{
	double lo = -INFINITY, hi = INFINITY;
	int lo_open = 0, hi_open = 0;

	if (cr->has[CC_GT])
		lo = cr->cond[CC_GT], lo_open = 1;
	if (cr->has[CC_GTE] && cr->cond[CC_GTE] > lo)
		lo = cr->cond[CC_GTE], lo_open = 0;
	if (cr->has[CC_LT])
		hi = cr->cond[CC_LT], hi_open = 1;
	if (cr->has[CC_LTE] && cr->cond[CC_LTE] < hi)
		hi = cr->cond[CC_LTE], hi_open = 0;
	if (cr->has[CC_EQ]) {
		double e = cr->cond[CC_EQ];

		if (e < lo || (e == lo && lo_open) || e > hi ||
		    (e == hi && hi_open) || (cr->has[CC_NEQ] && cr->cond[CC_NEQ] == e))
			return 1;
	}
	return lo > hi || (lo == hi && (lo_open || hi_open));
}

static void parse_vigil(struct loader *L, struct lrule *lr,
    const struct ynode *v)
{
	struct corr_rule *cr = lr->cr;

	if (v == NULL || ytree_is_null(v))
		return;
	if (v->kind != YN_MAP) {
		ERR(L, lr, v, "vigil: expected a map, found %s",
		    ytree_kind_name(v));
		return;
	}
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *k = v->items[i], *x = v->items[i + 1];
		long lv;

		if (ytree_is_str(k, "absence")) {
			if (ytree_bool(x, &cr->absence) < 0)
				ERR(L, lr, x, "vigil.absence: expected true or false");
		} else if (ytree_is_str(k, "suppress")) {
			if (parse_duration(x, &cr->suppress_ms) < 0)
				ERR(L, lr, x, "vigil.suppress: expected a duration "
				    "such as 10m");
		} else if (ytree_is_str(k, "lateness")) {
			if (parse_duration(x, &cr->lateness_ms) < 0)
				ERR(L, lr, x, "vigil.lateness: expected a duration "
				    "such as 10s, or 0");
		} else if (ytree_is_str(k, "max_events")) {
			if (ytree_long(x, &lv) < 0 || lv < 1 || lv > 1000000)
				ERR(L, lr, x, "vigil.max_events: expected a number "
				    "from 1 to 1000000");
			else
				cr->cap = (uint32_t)lv;
		} else if (ytree_is_str(k, "percentile")) {
			if (parse_number(x, &cr->percentile) < 0 ||
			    cr->percentile < 0 || cr->percentile > 100)
				ERR(L, lr, x, "vigil.percentile: expected a number "
				    "from 0 to 100");
		} else if (ytree_is_str(k, "incident_key")) {
			/* the response's (response_keys.c); not correlation's */
		} else {
			ERR(L, lr, k, "vigil: unknown key '%s' (expected absence, "
			    "suppress, lateness, max_events, percentile or "
			    "incident_key)",
			    is_str(k) ? k->str : "?");
		}
	}
}

static void parse_doc(struct loader *L, struct lrule *lr)
{
	const struct ynode *root = lr->root, *c, *v;
	struct corr_rule *cr;
	int gen_top = -1, gen_corr = -1, t;

	cr = lr->cr = vg_calloc(1, sizeof(*cr));
	cr->lateness_ms = -1;
	cr->percentile = -1;
	cr->rule.file = vg_strdup(lr->file);
	cr->rule.line = root->line;
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const struct ynode *k = root->items[i];
		int known = 0;

		for (size_t j = 0; j < VG_ARRAY_LEN(meta_keys); j++)
			if (ytree_is_str(k, meta_keys[j]))
				known = 1;
		if (!known) {
			vg_diag_warn(L->d, lr->file, k->line, k->col,
			    "unknown key '%s' in a correlation rule (ignored)",
			    is_str(k) ? k->str : "?");
		}
	}
	cr->rule.title = opt_str(L, lr, root, "title");
	if (cr->rule.title == NULL)
		ERR(L, lr, root, "correlation rule without a title");
	cr->rule.id = opt_str(L, lr, root, "id");
	cr->rule.name = opt_str(L, lr, root, "name");
	cr->rule.level = opt_str(L, lr, root, "level");
	cr->rule.status = opt_str(L, lr, root, "status");
	if ((v = ytree_get(root, "tags")) != NULL)
		cr->rule.tags = str_list(L, lr, v, "tags", &cr->rule.ntags);
	if (cr->rule.id == NULL) {
		char tmp[600];

		snprintf(tmp, sizeof(tmp), "%s:%d", lr->file, root->line);
		cr->rule.id = vg_strdup(tmp);
	}
	if ((v = ytree_get(root, "generate")) != NULL &&
	    ytree_bool(v, &gen_top) < 0)
		ERR(L, lr, v, "generate: expected true or false");

	c = lr->corr = ytree_get(root, "correlation");
	if (c == NULL || c->kind != YN_MAP) {
		ERR(L, lr, c ? c : root, "correlation: expected a map");
		return;
	}
	for (size_t i = 0; i + 1 < c->n; i += 2) {
		const struct ynode *k = c->items[i];
		static const char *const ck[] = { "type", "rules", "group-by",
		    "timespan", "timeframe", "condition", "aliases", "generate" };
		int known = 0;

		for (size_t j = 0; j < VG_ARRAY_LEN(ck); j++)
			if (ytree_is_str(k, ck[j]))
				known = 1;
		if (!known)
			ERR(L, lr, k, "correlation: unknown key '%s'",
			    is_str(k) ? k->str : "?");
	}
	if ((v = ytree_get(c, "generate")) != NULL &&
	    ytree_bool(v, &gen_corr) < 0)
		ERR(L, lr, v, "correlation.generate: expected true or false");
	if (gen_top >= 0 && gen_corr >= 0 && gen_top != gen_corr)
		ERR(L, lr, v, "generate is given twice with different values");
	cr->generate = gen_top > 0 || gen_corr > 0;

	v = ytree_get(c, "type");
	if (!is_str(v)) {
		ERR(L, lr, v ? v : c, "correlation.type: missing (event_count, "
		    "value_count, temporal, temporal_ordered, value_sum, "
		    "value_avg, value_percentile or value_median)");
		t = -1;
	} else if ((t = type_of(v->str)) < 0) {
		ERR(L, lr, v, "correlation.type: unknown type '%s'", v->str);
	}
	cr->type = t < 0 ? CT_EVENT_COUNT : (enum corr_type)t;

	lr->rules = ytree_get(c, "rules");
	if (lr->rules == NULL || (lr->rules->kind == YN_SEQ && lr->rules->n == 0)) {
		ERR(L, lr, lr->rules ? lr->rules : c,
		    "correlation.rules: missing or empty");
	} else {
		char **names;
		size_t n;

		names = str_list(L, lr, lr->rules, "correlation.rules", &n);
		free_list(names, n);
		if (n > CORR_MAX_RULES)
			ERR(L, lr, lr->rules, "correlation.rules: at most %d rules",
			    CORR_MAX_RULES);
	}
	cr->group_by = str_list(L, lr, ytree_get(c, "group-by"),
	    "correlation.group-by", &cr->ngroup);
	if (cr->ngroup > CORR_MAX_GROUP)
		ERR(L, lr, ytree_get(c, "group-by"),
		    "correlation.group-by: at most %d fields", CORR_MAX_GROUP);

	v = ytree_get(c, "timespan");
	if (v == NULL)
		v = ytree_get(c, "timeframe");
	if (v == NULL)
		ERR(L, lr, c, "correlation.timespan: missing");
	else if (parse_duration(v, &cr->timespan_ms) < 0 || cr->timespan_ms <= 0)
		ERR(L, lr, v, "correlation.timespan: expected a duration such "
		    "as 30s, 5m, 1h or 1d");
	else if (cr->timespan_ms > (int64_t)366 * 86400 * 1000)
		ERR(L, lr, v, "correlation.timespan: longer than a year");

	parse_condition(L, lr, ytree_get(c, "condition"));
	lr->aliases = ytree_get(c, "aliases");
	if (lr->aliases != NULL && !ytree_is_null(lr->aliases) &&
	    lr->aliases->kind != YN_MAP)
		ERR(L, lr, lr->aliases, "correlation.aliases: expected a map");
	parse_vigil(L, lr, ytree_get(root, "vigil"));
}

/* Type-specific rules once the references are known (nrefs). */
static void check_semantics(struct loader *L, struct lrule *lr)
{
	struct corr_rule *cr = lr->cr;
	const struct ynode *cn = ytree_get(lr->corr, "condition");
	const struct ynode *at = cn ? cn : lr->corr;
	size_t nr = cr->nrefs;
	int valued = cr->type == CT_VALUE_COUNT || cr->type == CT_VALUE_SUM ||
	    cr->type == CT_VALUE_AVG || cr->type == CT_VALUE_PERCENTILE ||
	    cr->type == CT_VALUE_MEDIAN;

	if (valued && cr->nvalue == 0)
		ERR(L, lr, at, "%s needs condition.field", type_names[cr->type]);
	if (!valued && cr->nvalue > 0)
		ERR(L, lr, lr->field, "condition.field is only for value_count "
		    "and the value_* types");
	if (valued && cr->type != CT_VALUE_COUNT && cr->nvalue > 1)
		ERR(L, lr, lr->field, "%s takes one field", type_names[cr->type]);
	if (cr->percentile >= 0 && cr->type != CT_VALUE_PERCENTILE)
		ERR(L, lr, ytree_get(ytree_get(lr->root, "vigil"), "percentile"),
		    "vigil.percentile is only for value_percentile");
	if (cr->type == CT_VALUE_PERCENTILE && cr->percentile < 0)
		cr->percentile = 50;
	if (cr->type == CT_VALUE_MEDIAN)
		cr->percentile = 50;

	if (cr->absence) {
		if (cr->type != CT_TEMPORAL_ORDERED || nr != 2)
			ERR(L, lr, lr->corr, "vigil.absence needs a temporal_ordered "
			    "correlation of exactly two rules: the event, then the "
			    "one expected after it");
		if (has_bound(cr))
			ERR(L, lr, at, "vigil.absence takes no condition");
		cr->mode = CM_ABSENCE;
		return;
	}
	if (cr->type == CT_TEMPORAL || cr->type == CT_TEMPORAL_ORDERED) {
		if (nr < 2 && cr->type == CT_TEMPORAL_ORDERED)
			ERR(L, lr, lr->rules, "temporal_ordered needs at least two rules");
		if (!has_bound(cr)) {
			cr->has[CC_GTE] = 1;
			cr->cond[CC_GTE] = (double)nr;
		}
		if (cr->type == CT_TEMPORAL_ORDERED) {
			int all = 1;

			for (int j = 0; j < CC_N; j++)
				if (cr->has[j] && !((j == CC_GTE || j == CC_EQ) &&
				    cr->cond[j] == (double)nr))
					all = 0;
			if (!all)
				ERR(L, lr, at, "temporal_ordered supports only its "
				    "default condition: all %zu rules, in order", nr);
		}
	} else if (!has_bound(cr)) {
		ERR(L, lr, at, "%s needs a condition such as {gte: 5}",
		    type_names[cr->type]);
	}
	if (has_bound(cr) && cond_empty(cr))
		ERR(L, lr, at, "condition can never hold");

	if (cr->type == CT_TEMPORAL_ORDERED)
		cr->mode = CM_ARRIVAL;
	else if (cr->type == CT_VALUE_AVG || cr->type == CT_VALUE_PERCENTILE ||
	    cr->type == CT_VALUE_MEDIAN || cr->has[CC_LT] || cr->has[CC_LTE] ||
	    cr->has[CC_EQ] || cr->has[CC_NEQ])
		cr->mode = CM_CLOSE;
	else
		cr->mode = CM_ARRIVAL;
}

/* ---- references ---- */

static int names_rule(const struct rule *r, const char *s)
{
	return (r->id && strcmp(r->id, s) == 0) ||
	    (r->name && strcmp(r->name, s) == 0);
}

static void resolve_refs(struct loader *L, struct lrule *lr)
{
	struct corr_rule *cr = lr->cr;
	const struct ynode *rl = lr->rules;
	size_t n;

	if (rl == NULL)
		return;
	n = rl->kind == YN_SEQ ? rl->n : 1;
	cr->refs = vg_calloc(n + 1, sizeof(*cr->refs));
	lr->refnodes = vg_calloc(n + 1, sizeof(*lr->refnodes));
	for (size_t i = 0; i < n && i < CORR_MAX_RULES; i++) {
		const struct ynode *it = rl->kind == YN_SEQ ? rl->items[i] : rl;
		struct corr_ref *ref = &cr->refs[cr->nrefs];
		int hits = 0;

		memset(ref, 0, sizeof(*ref));
		if (!is_str(it))
			continue;
		for (size_t j = 0; j < L->n; j++) {
			if (L->lr[j].cr == NULL || !names_rule(&L->lr[j].cr->rule, it->str))
				continue;
			ref->corr = L->lr[j].cr;
			hits++;
		}
		for (size_t j = 0; j < detect_rule_count(L->rs); j++) {
			const struct rule *r = detect_rule(L->rs, j);

			if (!names_rule(r, it->str))
				continue;
			ref->det = r;
			hits++;
		}
		if (hits == 0) {
			ERR(L, lr, it, "correlation.rules: no rule has the id or name "
			    "'%s' (or it was rejected)", it->str);
			continue;
		}
		if (hits > 1) {
			ERR(L, lr, it, "correlation.rules: '%s' names %d rules",
			    it->str, hits);
			continue;
		}
		if (ref->corr == cr) {
			ERR(L, lr, it, "correlation.rules: the rule refers to itself");
			continue;
		}
		lr->refnodes[cr->nrefs] = it;
		cr->nrefs++;
	}
}

static struct lrule *lrule_of(struct loader *L, const struct corr_rule *cr)
{
	for (size_t i = 0; i < L->n; i++)
		if (L->lr[i].cr == cr)
			return &L->lr[i];
	return NULL;
}

/* Reject correlations on a cycle; returns 1 if lr is on one. */
static int find_cycle(struct loader *L, struct lrule *lr)
{
	int cyc = 0;

	if (lr->color == 2)
		return 0;
	if (lr->color == 1)
		return 1;
	lr->color = 1;
	for (size_t i = 0; i < lr->cr->nrefs; i++) {
		struct lrule *sub;

		if (lr->cr->refs[i].corr == NULL)
			continue;
		sub = lrule_of(L, lr->cr->refs[i].corr);
		if (sub != NULL && find_cycle(L, sub)) {
			ERR(L, lr, lr->refnodes[i], "correlation.rules: '%s' leads "
			    "back to this rule (a cycle)",
			    lr->refnodes[i] ? lr->refnodes[i]->str : "?");
			cyc = 1;
		}
	}
	lr->color = 2;
	return cyc;
}

/* Item i of a string-or-list node, for pointing at it. */
static const struct ynode *list_item(const struct ynode *v, size_t i)
{
	if (v != NULL && v->kind == YN_SEQ && i < v->n)
		return v->items[i];
	return v;
}

/* Append to *ids (*n of them) the event fields of name in the events of
 * the detection rules under the correlation cr, without duplicates. The
 * loader has rejected cycles; depth bounds the walk anyway. */
static void inner_fields(struct loader *L, const struct corr_rule *cr,
    const char *name, uint32_t **ids, size_t *n, int depth)
{
	for (size_t i = 0; i < cr->nrefs && depth < CORR_MAX_RULES; i++) {
		const struct corr_ref *ref = &cr->refs[i];
		uint32_t *v;
		size_t k;

		if (ref->corr != NULL) {
			inner_fields(L, ref->corr, name, ids, n, depth + 1);
			continue;
		}
		v = detect_rule_field_ids(L->rs, ref->det, name, &k);
		for (size_t j = 0; j < k; j++) {
			size_t d;

			for (d = 0; d < *n && (*ids)[d] != v[j]; d++)
				;
			if (d < *n)
				continue;
			*ids = vg_realloc(*ids, (*n + 1) * sizeof(**ids));
			(*ids)[(*n)++] = v[j];
		}
		free(v);
	}
}

/*
 * The event fields of name (a group-by entry or condition field, at node
 * `at`) in the events of the rule ref: through correlation.aliases, then,
 * for a detection rule, through the field mapping of its logsource, as its
 * selections were (Sigma names become event names; names that are event
 * names already stay). *id is the first, *more the others when there are
 * several (one per event shape) or NULL. A referenced correlation's events
 * are the events that completed its alerts: events of the detection rules
 * under it, so the name is mapped through each of theirs.
 */
static void ref_field(struct loader *L, struct lrule *lr,
    const struct corr_ref *ref, const char *name, const struct ynode *at,
    uint32_t *id, uint32_t **more)
{
	const struct ynode *al = lr->aliases, *m, *tn = at;
	const struct rule *r = ref->det ? ref->det : &ref->corr->rule;
	const char *target = name;
	uint32_t *ids;
	size_t n;

	*id = FIELD_NONE;
	*more = NULL;
	if (al != NULL && al->kind == YN_MAP &&
	    (m = ytree_get(al, name)) != NULL) {
		if (m->kind != YN_MAP) {
			ERR(L, lr, m, "correlation.aliases.%s: expected a map of "
			    "rule name to field", name);
			return;
		}
		target = NULL;
		for (size_t i = 0; i + 1 < m->n && target == NULL; i += 2) {
			const struct ynode *k = m->items[i], *v = m->items[i + 1];

			if (!is_str(k) || !names_rule(r, k->str))
				continue;
			if (!is_str(v) || v->len == 0) {
				ERR(L, lr, v, "correlation.aliases.%s.%s: expected "
				    "a field name", name, k->str);
				return;
			}
			target = v->str;
			tn = v;
		}
		if (target == NULL) {
			ERR(L, lr, m, "correlation.aliases.%s: no field for rule "
			    "'%s'", name, r->name ? r->name : r->id);
			return;
		}
	}
	if (ref->det != NULL) {
		ids = detect_rule_field_ids(L->rs, ref->det, target, &n);
	} else {
		ids = NULL;
		n = 0;
		inner_fields(L, ref->corr, target, &ids, &n, 0);
	}
	if (n == 0) {
		ERR(L, lr, tn, "'%s' maps to no usable event field for rule '%s' "
		    "(see rules/mappings)", target, r->name ? r->name : r->id);
	} else {
		*id = ids[0];
		if (n > 1) {
			*more = vg_calloc(n, sizeof(**more));
			memcpy(*more, ids + 1, (n - 1) * sizeof(**more));
			(*more)[n - 1] = FIELD_NONE;
		}
	}
	free(ids);
}

static void check_alias_keys(struct loader *L, struct lrule *lr)
{
	const struct ynode *al = lr->aliases;
	struct corr_rule *cr = lr->cr;

	if (al == NULL || al->kind != YN_MAP)
		return;
	for (size_t i = 0; i + 1 < al->n; i += 2) {
		const struct ynode *k = al->items[i], *m = al->items[i + 1];
		int used = 0;

		for (size_t g = 0; g < cr->ngroup; g++)
			if (ytree_is_str(k, cr->group_by[g]))
				used = 1;
		for (size_t g = 0; g < cr->nvalue; g++)
			if (ytree_is_str(k, cr->value_names[g]))
				used = 1;
		if (!used)
			vg_diag_warn(L->d, lr->file, k->line, k->col,
			    "correlation.aliases: '%s' is not used in group-by "
			    "or condition.field", is_str(k) ? k->str : "?");
		if (m->kind != YN_MAP)
			continue;
		for (size_t j = 0; j + 1 < m->n; j += 2) {
			const struct ynode *rk = m->items[j];
			int ok = 0;

			for (size_t x = 0; x < cr->nrefs; x++) {
				const struct corr_ref *ref = &cr->refs[x];
				const struct rule *r = ref->det ? ref->det :
				    &ref->corr->rule;

				if (is_str(rk) && names_rule(r, rk->str))
					ok = 1;
			}
			if (!ok)
				ERR(L, lr, rk, "correlation.aliases.%s: '%s' is not "
				    "one of the correlation's rules",
				    is_str(k) ? k->str : "?",
				    is_str(rk) ? rk->str : "?");
		}
	}
}

static void compile_fields(struct loader *L, struct lrule *lr)
{
	struct corr_rule *cr = lr->cr;
	const struct ynode *gb = ytree_get(lr->corr, "group-by");

	check_alias_keys(L, lr);
	for (size_t i = 0; i < cr->nrefs; i++) {
		struct corr_ref *ref = &cr->refs[i];

		for (size_t g = 0; g < cr->ngroup && g < CORR_MAX_GROUP; g++)
			ref_field(L, lr, ref, cr->group_by[g], list_item(gb, g),
			    &ref->group_fields[g], &ref->group_more[g]);
		for (size_t g = 0; g < cr->nvalue && g < CORR_MAX_VALUE; g++)
			ref_field(L, lr, ref, cr->value_names[g],
			    list_item(lr->field, g), &ref->value_fields[g],
			    &ref->value_more[g]);
	}
}

static void format_args(struct corr_rule *cr)
{
	static const char *const tcode[] = {
		[CT_EVENT_COUNT] = "ec", [CT_VALUE_COUNT] = "vc",
		[CT_TEMPORAL] = "tp", [CT_TEMPORAL_ORDERED] = "to",
		[CT_VALUE_SUM] = "vs", [CT_VALUE_AVG] = "va",
		[CT_VALUE_PERCENTILE] = "vp", [CT_VALUE_MEDIAN] = "vp",
	};
	static const char *const mcode[] = {
		[CM_ARRIVAL] = "a", [CM_CLOSE] = "b", [CM_ABSENCE] = "x",
	};
	const char *k = cr->rule.id ? cr->rule.id : cr->rule.title;

	snprintf(cr->a_type, sizeof(cr->a_type), "%s", tcode[cr->type]);
	snprintf(cr->a_mode, sizeof(cr->a_mode), "%s", mcode[cr->mode]);
	snprintf(cr->a_span, sizeof(cr->a_span), "%lld",
	    (long long)cr->timespan_ms);
	for (int j = 0; j < CC_N; j++) {
		if (cr->has[j])
			snprintf(cr->a_cond[j], sizeof(cr->a_cond[j]), "%.17g",
			    cr->cond[j]);
		else
			cr->a_cond[j][0] = '\0';
	}
	snprintf(cr->a_nroles, sizeof(cr->a_nroles), "%zu", cr->nrefs);
	snprintf(cr->a_rank, sizeof(cr->a_rank), "%.17g",
	    cr->percentile < 0 ? 50.0 : cr->percentile);
	snprintf(cr->a_sup, sizeof(cr->a_sup), "%lld",
	    (long long)cr->suppress_ms);
	cr->key = key_part(k ? k : "?");
}

/* ---- the set ---- */

static size_t ptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static struct corr_det *det_slot(struct corr_set *cs, const struct rule *r)
{
	size_t m = cs->dcap - 1;

	for (size_t i = ptr_hash(r) & m;; i = (i + 1) & m)
		if (cs->dets[i].r == r || cs->dets[i].r == NULL)
			return &cs->dets[i];
}

const struct corr_det *corr_det_find(const struct corr_set *cs,
    const struct rule *r)
{
	const struct corr_det *e;

	if (cs == NULL || cs->dcap == 0 || r == NULL)
		return NULL;
	e = det_slot((struct corr_set *)cs, r);
	return e->r == r ? e : NULL;
}

static void add_use(struct corr_use **uses, size_t *n, struct corr_rule *cr,
    int role)
{
	*uses = vg_realloc(*uses, (*n + 1) * sizeof(**uses));
	(*uses)[*n].cr = cr;
	(*uses)[*n].role = role;
	(*n)++;
}

static void build_index(struct corr_set *cs)
{
	size_t nref = 0;

	for (size_t i = 0; i < cs->nrules; i++)
		nref += cs->rules[i]->nrefs;
	cs->dcap = 16;
	while (cs->dcap < 2 * nref + 2)
		cs->dcap *= 2;
	cs->dets = vg_calloc(cs->dcap, sizeof(*cs->dets));
	for (size_t i = 0; i < cs->nrules; i++) {
		struct corr_rule *cr = cs->rules[i];

		for (size_t j = 0; j < cr->nrefs; j++) {
			struct corr_ref *ref = &cr->refs[j];

			if (ref->corr != NULL) {
				add_use(&ref->corr->outs, &ref->corr->nouts, cr,
				    (int)j);
				continue;
			}
			{
				struct corr_det *e = det_slot(cs, ref->det);

				if (e->r == NULL) {
					e->r = ref->det;
					cs->ndets++;
				}
				add_use(&e->uses, &e->nuses, cr, (int)j);
				if (cr->generate)
					e->generates = 1;
			}
		}
	}
	for (size_t i = 0; i < cs->nrules; i++) {
		struct corr_rule *cr = cs->rules[i];

		cr->emits = cr->nouts == 0;
		for (size_t j = 0; j < cr->nouts; j++)
			if (cr->outs[j].cr->generate)
				cr->emits = 1;
	}
}

static void corr_rule_free(struct corr_rule *cr)
{
	if (cr == NULL)
		return;
	free(cr->rule.id);
	free(cr->rule.name);
	free(cr->rule.title);
	free(cr->rule.level);
	free(cr->rule.status);
	free_list(cr->rule.tags, cr->rule.ntags);
	free(cr->rule.file);
	free_list(cr->group_by, cr->ngroup);
	free_list(cr->value_names, cr->nvalue);
	for (size_t i = 0; cr->refs != NULL && i < cr->nrefs; i++) {
		for (size_t g = 0; g < CORR_MAX_GROUP; g++)
			free(cr->refs[i].group_more[g]);
		for (size_t g = 0; g < CORR_MAX_VALUE; g++)
			free(cr->refs[i].value_more[g]);
	}
	free(cr->refs);
	free(cr->outs);
	free(cr->key);
	free(cr);
}

struct corr_set *correlate_load(const struct ruleset *rs, struct vg_diag *d,
    struct correlate_load_stats *st)
{
	struct corr_set *cs = vg_calloc(1, sizeof(*cs));
	struct vg_diag quiet;
	struct loader L = { rs, d, NULL, 0 };
	int warnings0, changed;

	if (d == NULL) {
		vg_diag_init(&quiet, NULL);
		L.d = d = &quiet;
	}
	warnings0 = d->warnings;
	L.n = detect_correlation_count(rs);
	L.lr = vg_calloc(L.n + 1, sizeof(*L.lr));
	for (size_t i = 0; i < L.n; i++) {
		L.lr[i].root = detect_correlation_doc(rs, i);
		L.lr[i].file = detect_correlation_file(rs, i);
		if (L.lr[i].file == NULL)
			L.lr[i].file = "";
		if (L.lr[i].root == NULL || L.lr[i].root->kind != YN_MAP) {
			L.lr[i].bad = 1;
			continue;
		}
		parse_doc(&L, &L.lr[i]);
	}
	/* ids and names must be unique among correlations */
	for (size_t i = 0; i < L.n; i++)
		for (size_t j = 0; j < i; j++) {
			struct corr_rule *a = L.lr[i].cr, *b = L.lr[j].cr;

			if (a == NULL || b == NULL)
				continue;
			if (strcmp(a->rule.id, b->rule.id) == 0)
				ERR(&L, &L.lr[i], L.lr[i].root, "correlation id '%s' "
				    "is used twice (also %s:%d)", a->rule.id,
				    b->rule.file, b->rule.line);
			else if (a->rule.name && b->rule.name &&
			    strcmp(a->rule.name, b->rule.name) == 0)
				ERR(&L, &L.lr[i], L.lr[i].root, "correlation name '%s' "
				    "is used twice (also %s:%d)", a->rule.name,
				    b->rule.file, b->rule.line);
		}
	for (size_t i = 0; i < L.n; i++)
		if (L.lr[i].cr != NULL)
			resolve_refs(&L, &L.lr[i]);
	for (size_t i = 0; i < L.n; i++)
		if (L.lr[i].cr != NULL)
			find_cycle(&L, &L.lr[i]);
	for (size_t i = 0; i < L.n; i++)
		if (L.lr[i].cr != NULL && !L.lr[i].bad) {
			check_semantics(&L, &L.lr[i]);
			compile_fields(&L, &L.lr[i]);
		}
	/* a correlation that refers to a rejected one is rejected */
	do {
		changed = 0;
		for (size_t i = 0; i < L.n; i++) {
			struct lrule *lr = &L.lr[i];

			if (lr->cr == NULL || lr->bad)
				continue;
			for (size_t j = 0; j < lr->cr->nrefs; j++) {
				struct lrule *sub = lr->cr->refs[j].corr ?
				    lrule_of(&L, lr->cr->refs[j].corr) : NULL;

				if (sub != NULL && sub->bad && !lr->bad) {
					ERR(&L, lr, lr->refnodes[j], "correlation.rules: "
					    "'%s' was rejected", lr->refnodes[j]->str);
					changed = 1;
				}
			}
		}
	} while (changed);

	cs->rules = vg_calloc(L.n + 1, sizeof(*cs->rules));
	for (size_t i = 0; i < L.n; i++) {
		struct lrule *lr = &L.lr[i];

		if (lr->bad || lr->cr == NULL) {
			if (st)
				st->rejected++;
			continue;
		}
		format_args(lr->cr);
		lr->cr->idx = cs->nrules;
		cs->rules[cs->nrules++] = lr->cr;
		lr->cr = NULL;
		if (st)
			st->loaded++;
	}
	for (size_t i = 0; i < L.n; i++) {
		corr_rule_free(L.lr[i].cr);
		free(L.lr[i].refnodes);
	}
	free(L.lr);
	build_index(cs);
	if (st)
		st->warnings += d->warnings - warnings0;
	return cs;
}

void correlate_set_free(struct corr_set *cs)
{
	if (cs == NULL)
		return;
	for (size_t i = 0; i < cs->nrules; i++)
		corr_rule_free(cs->rules[i]);
	free(cs->rules);
	for (size_t i = 0; i < cs->dcap; i++)
		free(cs->dets[i].uses);
	free(cs->dets);
	free(cs);
}

size_t correlate_rule_count(const struct corr_set *cs)
{
	return cs ? cs->nrules : 0;
}

const struct rule *correlate_rule(const struct corr_set *cs, size_t i)
{
	return cs && i < cs->nrules ? &cs->rules[i]->rule : NULL;
}

int correlate_rule_generates(const struct corr_set *cs, const struct rule *r)
{
	const struct corr_det *e = corr_det_find(cs, r);

	return e == NULL || e->generates;
}

int correlate_wants(const struct corr_set *cs, const struct rule *r)
{
	return corr_det_find(cs, r) != NULL;
}
