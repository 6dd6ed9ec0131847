/*
 * playbook_tmpl.c: templates, alert variables, match criteria and protected
 * addresses.
 *
 * Templates are compiled at load time into literal and variable segments;
 * rendering appends each segment's text once. A value is copied as bytes
 * and never scanned for `{{` again, so an alert cannot inject variables.
 *
 * Variables are read from the alert JSON: alert metadata under `alert.`,
 * the correlation group's flat dotted keys, the event's nested ECS object.
 * A multi-valued field renders its first value.
 */
#include "playbook_int.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pb_builtin_protected[] = {
	"127.0.0.0/8", "::1/128", "0.0.0.0/32", "::/128",
};
const size_t pb_nbuiltin_protected = VG_ARRAY_LEN(pb_builtin_protected);

static void why_set(char *why, size_t whylen, const char *fmt, ...)
    VG_PRINTF(3, 4);

static void why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* ---- variables ---- */

static const char *const alert_keys[] = { "id", "kind", "count", "timestamp" };
static const char *const rule_keys[] = { "id", "title", "level", "tags" };

static int valid_var_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '@';
}

static int in_list(const char *s, size_t len, const char *const *list,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
			return 1;
	}
	return 0;
}

static int has_prefix(const char *s, size_t len, const char *p)
{
	size_t pl = strlen(p);

	return len > pl && memcmp(s, p, pl) == 0;
}

int pb_var_parse(const char *name, size_t len, enum pb_ns *ns,
    const char **rest, char *why, size_t whylen)
{
	if (len == 0 || name[0] == '.' || name[len - 1] == '.') {
		why_set(why, whylen, "empty or malformed variable name");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!valid_var_char((unsigned char)name[i]) ||
		    (name[i] == '.' && i + 1 < len && name[i + 1] == '.')) {
			why_set(why, whylen, "bad character in variable name '%.*s'",
			    (int)(len > 64 ? 64 : len), name);
			return -1;
		}
	}
	if (has_prefix(name, len, "alert.rule.")) {
		*ns = PB_RULE;
		*rest = name + 11;
		if (!in_list(*rest, len - 11, rule_keys, VG_ARRAY_LEN(rule_keys)))
			goto unknown;
		return 0;
	}
	if (has_prefix(name, len, "alert.group.")) {
		*ns = PB_GROUP;
		*rest = name + 12;
		return 0;
	}
	if (has_prefix(name, len, "alert.event.")) {
		*ns = PB_EVENT;
		*rest = name + 12;
		return 0;
	}
	if (has_prefix(name, len, "alert.") || (len == 5 &&
	    memcmp(name, "alert", 5) == 0)) {
		*ns = PB_ALERT;
		*rest = name + 6;
		if (len <= 6 || !in_list(*rest, len - 6, alert_keys,
		    VG_ARRAY_LEN(alert_keys)))
			goto unknown;
		return 0;
	}
	if (has_prefix(name, len, "incident.")) {
		*ns = PB_INCIDENT;
		*rest = name + 9;
		return 0;
	}
	if (len == 13 && memcmp(name, "playbook.name", 13) == 0) {
		*ns = PB_PLAYBOOK;
		*rest = name + 9;
		return 0;
	}
	*ns = PB_FIELD;
	*rest = name;
	return 0;
unknown:
	why_set(why, whylen, "unknown variable '%.*s' (alert.id, alert.kind, "
	    "alert.count, alert.timestamp, alert.rule.id, alert.rule.title, "
	    "alert.rule.level, alert.rule.tags, alert.group.<field>, "
	    "alert.event.<field>, incident.<key>, playbook.name, or a field name)",
	    (int)(len > 64 ? 64 : len), name);
	return -1;
}

/* Find dotted `path` in a nested object: a flat key first, then every split
 * at a dot into an object member and the rest. */
static const json_t *walk(const json_t *obj, const char *path, int depth)
{
	const json_t *v;
	char key[256];
	size_t len = strlen(path);

	if (!json_is_object(obj) || depth > 32)
		return NULL;
	if ((v = json_object_get(obj, path)) != NULL)
		return v;
	for (size_t i = 0; i < len && i < sizeof(key); i++) {
		const json_t *sub;

		if (path[i] != '.')
			continue;
		memcpy(key, path, i);
		key[i] = '\0';
		sub = json_object_get(obj, key);
		if (json_is_object(sub) && (v = walk(sub, path + i + 1, depth + 1)))
			return v;
	}
	return NULL;
}

const json_t *pb_lookup(const struct pb_vars *v, enum pb_ns ns,
    const char *name)
{
	const json_t *a = v->alert, *r;

	switch (ns) {
	case PB_LIT:
		return NULL;
	case PB_ALERT:
		if (strcmp(name, "timestamp") == 0)
			return json_object_get(a, "@timestamp");
		return json_object_get(a, name);
	case PB_RULE:
		return json_object_get(json_object_get(a, "rule"), name);
	case PB_GROUP:
		return walk(json_object_get(a, "group"), name, 0);
	case PB_EVENT:
		return walk(json_object_get(a, "event"), name, 0);
	case PB_FIELD:
		if ((r = walk(json_object_get(a, "group"), name, 0)) != NULL)
			return r;
		return walk(json_object_get(a, "event"), name, 0);
	case PB_INCIDENT:
	case PB_PLAYBOOK:
		return NULL; /* not in the alert; see var_text */
	}
	return NULL;
}

/*
 * The text of one scalar JSON value into tmp (or borrowed); NULL for null,
 * objects, and arrays without a scalar.
 */
static const char *scalar_text(const json_t *j, char *tmp, size_t cap,
    size_t *len)
{
	if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++) {
			const char *s = scalar_text(json_array_get(j, i), tmp, cap, len);

			if (s != NULL)
				return s;
		}
		return NULL;
	}
	if (json_is_string(j)) {
		*len = json_string_length(j);
		return json_string_value(j);
	}
	if (json_is_integer(j)) {
		*len = (size_t)snprintf(tmp, cap, "%" PRId64,
		    (int64_t)json_integer_value(j));
		return tmp;
	}
	if (json_is_real(j)) {
		double d = json_real_value(j);

		*len = (size_t)snprintf(tmp, cap, "%.15g", d);
		if (strtod(tmp, NULL) != d)
			*len = (size_t)snprintf(tmp, cap, "%.17g", d);
		return tmp;
	}
	if (json_is_true(j) || json_is_false(j)) {
		*len = json_is_true(j) ? 4 : 5;
		return json_is_true(j) ? "true" : "false";
	}
	return NULL;
}

/* The text of segment sg, or NULL when it has no value. rule.tags joins
 * its values with ", " into jbuf. */
static const char *var_text(const struct pb_seg *sg, const struct pb_vars *v,
    char *tmp, size_t cap, struct buf *jbuf, size_t *len)
{
	const json_t *j;

	if (sg->ns == PB_INCIDENT) {
		for (size_t i = 0; i < v->nincident; i++) {
			if (strcmp(v->incident[2 * i], sg->text) == 0) {
				*len = strlen(v->incident[2 * i + 1]);
				return v->incident[2 * i + 1];
			}
		}
		return NULL;
	}
	if (sg->ns == PB_PLAYBOOK) {
		if (v->playbook == NULL)
			return NULL;
		*len = strlen(v->playbook);
		return v->playbook;
	}
	j = pb_lookup(v, sg->ns, sg->text);
	if (sg->ns == PB_RULE && strcmp(sg->text, "tags") == 0 &&
	    json_is_array(j)) {
		buf_clear(jbuf);
		for (size_t i = 0; i < json_array_size(j); i++) {
			const json_t *t = json_array_get(j, i);

			if (!json_is_string(t))
				continue;
			if (jbuf->len > 0)
				buf_adds(jbuf, ", ");
			buf_add(jbuf, json_string_value(t), json_string_length(t));
		}
		*len = jbuf->len;
		return buf_cstr(jbuf);
	}
	return scalar_text(j, tmp, cap, len);
}

/* ---- templates ---- */

void pb_tmpl_free(struct pb_tmpl *t)
{
	for (size_t i = 0; i < t->nsegs; i++)
		free(t->segs[i].text);
	free(t->segs);
	t->segs = NULL;
	t->nsegs = 0;
}

int pb_tmpl_has_vars(const struct pb_tmpl *t)
{
	for (size_t i = 0; i < t->nsegs; i++) {
		if (t->segs[i].ns != PB_LIT)
			return 1;
	}
	return 0;
}

static void add_seg(struct pb_tmpl *t, enum pb_ns ns, const char *s,
    size_t len)
{
	t->segs = vg_realloc(t->segs, (t->nsegs + 1) * sizeof(*t->segs));
	t->segs[t->nsegs].ns = ns;
	t->segs[t->nsegs].text = vg_strndup(s, len);
	t->segs[t->nsegs].len = len;
	t->nsegs++;
}

int pb_tmpl_compile(const char *s, struct pb_tmpl *out, char *why,
    size_t whylen, size_t *erroff)
{
	size_t i = 0, lit = 0, n = strlen(s);

	memset(out, 0, sizeof(*out));
	while (i < n) {
		const char *close;
		size_t a, b;
		enum pb_ns ns;
		const char *rest;

		if (!(s[i] == '{' && s[i + 1] == '{')) {
			i++;
			continue;
		}
		if (i > lit)
			add_seg(out, PB_LIT, s + lit, i - lit);
		close = strstr(s + i + 2, "}}");
		if (close == NULL) {
			why_set(why, whylen, "'{{' without a closing '}}'");
			*erroff = i;
			goto fail;
		}
		a = i + 2;
		b = (size_t)(close - s);
		while (a < b && s[a] == ' ')
			a++;
		while (b > a && s[b - 1] == ' ')
			b--;
		if (pb_var_parse(s + a, b - a, &ns, &rest, why, whylen) < 0) {
			*erroff = a;
			goto fail;
		}
		add_seg(out, ns, rest, (size_t)(s + b - rest));
		i = (size_t)(close - s) + 2;
		lit = i;
	}
	if (n > lit || out->nsegs == 0)
		add_seg(out, PB_LIT, s + lit, n - lit);
	return 0;
fail:
	pb_tmpl_free(out);
	return -1;
}

int pb_render_checked(const struct pb_tmpl *t, const struct pb_vars *v,
    int strict, const struct playbook_set *set, struct buf *out, char *why,
    size_t whylen)
{
	struct buf jbuf;
	size_t start = out->len;
	int rc = -1;

	buf_init(&jbuf);
	for (size_t i = 0; i < t->nsegs; i++) {
		const struct pb_seg *sg = &t->segs[i];
		char tmp[64];
		const char *s;
		size_t len = 0;

		if (sg->ns == PB_LIT) {
			buf_add(out, sg->text, sg->len);
		} else if ((s = var_text(sg, v, tmp, sizeof(tmp), &jbuf, &len)) ==
		    NULL) {
			if (strict) {
				why_set(why, whylen, "no value for {{%s%s}}",
				    sg->ns == PB_RULE ? "alert.rule." :
				    sg->ns == PB_ALERT ? "alert." :
				    sg->ns == PB_GROUP ? "alert.group." :
				    sg->ns == PB_EVENT ? "alert.event." :
				    sg->ns == PB_INCIDENT ? "incident." :
				    sg->ns == PB_PLAYBOOK ? "playbook." : "", sg->text);
				goto out;
			}
		} else {
			if (set != NULL && pb_check_value(set, s, len, why, whylen) < 0)
				goto out;
			buf_add(out, s, len);
		}
		if (out->len - start > PB_RENDER_MAX) {
			why_set(why, whylen, "value longer than %d bytes", PB_RENDER_MAX);
			goto out;
		}
	}
	rc = 0;
out:
	buf_free(&jbuf);
	if (rc < 0)
		out->len = start;
	return rc;
}

int playbook_render(const struct pb_tmpl *t, const struct pb_vars *v,
    int strict, struct buf *out, char *why, size_t whylen)
{
	return pb_render_checked(t, v, strict, NULL, out, why, whylen);
}

/* ---- addresses ---- */

/* Strict dotted quad: four decimal parts 0..255 without leading zeros. */
static int parse_v4(const char *s, size_t len, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			start = ++i;
		}
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return -1;
		out[part] = (uint8_t)v;
	}
	return i == len ? 0 : -1;
}

int pb_parse_net(const char *s, size_t len, struct pb_net *out)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	char tmp[64];
	int maxp;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(tmp))
		return -1;
	if (parse_v4(s, alen, out->addr) == 0) {
		out->family = 4;
		maxp = 32;
	} else {
		memcpy(tmp, s, alen);
		tmp[alen] = '\0';
		if (memchr(tmp, ':', alen) == NULL ||
		    inet_pton(AF_INET6, tmp, out->addr) != 1)
			return -1;
		out->family = 6;
		maxp = 128;
	}
	out->prefix = maxp;
	if (slash != NULL) {
		size_t i = alen + 1;
		int p = 0;

		if (i >= len || len - i > 3 || (s[i] == '0' && len - i > 1))
			return -1;
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			p = p * 10 + (s[i] - '0');
		}
		if (p > maxp)
			return -1;
		out->prefix = p;
	}
	/* an IPv4-mapped IPv6 address is the IPv4 address */
	if (out->family == 6 && out->prefix >= 96) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0xff, 0xff };

		if (memcmp(out->addr, mapped, 12) == 0) {
			memmove(out->addr, out->addr + 12, 4);
			memset(out->addr + 4, 0, 12);
			out->family = 4;
			out->prefix -= 96;
		}
	}
	return 0;
}

int pb_addr_like(const char *s, size_t len)
{
	int dots = 0, colons = 0, digits = 0, other = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= '0' && c <= '9')
			digits++;
		else if (c == '.')
			dots++;
		else if (c == ':')
			colons++;
		else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		    c == 'x' || c == 'X')
			other++;
		else if (c != '/')
			return 0;
	}
	if (colons > 0)
		return 1;                       /* IPv6-like */
	if (dots > 0 && digits > 0 && other == 0)
		return 1;                       /* IPv4-like */
	if (dots > 0 && len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return 1;                       /* 0x0a.0.0.1 */
	return 0;
}

int pb_net_overlap(const struct pb_net *a, const struct pb_net *b)
{
	int p = a->prefix < b->prefix ? a->prefix : b->prefix;
	int full = p / 8, rem = p % 8;

	if (a->family != b->family)
		return 0;
	if (memcmp(a->addr, b->addr, (size_t)full) != 0)
		return 0;
	if (rem != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));

		if ((a->addr[full] & mask) != (b->addr[full] & mask))
			return 0;
	}
	return 1;
}

void pb_net_format(const struct pb_net *n, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(n->family == 4 ? AF_INET : AF_INET6, n->addr, a, sizeof(a));
	snprintf(out, cap, "%s/%d", a, n->prefix);
}

int playbook_protected(const struct playbook_set *set, const char *s)
{
	struct pb_net n;

	if (pb_parse_net(s, strlen(s), &n) < 0)
		return -1;
	for (size_t i = 0; i < set->nprotected; i++) {
		if (pb_net_overlap(&n, &set->protected[i]))
			return 1;
	}
	return 0;
}

int pb_check_value(const struct playbook_set *set, const char *s, size_t len,
    char *why, size_t whylen)
{
	const char *pct;
	struct pb_net n;

	/* what a lenient reader would see: no surrounding blanks, no zone */
	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if ((pct = memchr(s, '%', len)) != NULL && memchr(s, ':', len) != NULL)
		len = (size_t)(pct - s);
	if (!pb_addr_like(s, len))
		return 0;
	if (pb_parse_net(s, len, &n) < 0) {
		why_set(why, whylen, "'%.*s' looks like an address but is not a "
		    "canonical one", (int)(len > 64 ? 64 : len), s);
		return -1;
	}
	for (size_t i = 0; i < set->nprotected; i++) {
		if (pb_net_overlap(&n, &set->protected[i])) {
			char net[64];

			pb_net_format(&set->protected[i], net, sizeof(net));
			why_set(why, whylen, "%.*s is protected (%s)",
			    (int)(len > 64 ? 64 : len), s, net);
			return -1;
		}
	}
	return 0;
}

/* ---- matching ---- */

static int level_of(const char *s)
{
	static const char *const names[] = {
		"informational", "low", "medium", "high", "critical",
	};

	for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
		if (s != NULL && strcmp(s, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

static int str_eq_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		if (vg_lower((unsigned char)*a) != vg_lower((unsigned char)*b))
			return 0;
	}
	return *a == *b;
}

/* Does one scalar value satisfy c (for the positive operators)? */
static int value_hits(const struct pb_cond *c, const char *s, size_t len)
{
	switch (c->op) {
	case PB_EQ:
	case PB_NE:
		for (size_t i = 0; i < c->nvalues; i++) {
			if (strlen(c->values[i]) == len &&
			    memcmp(c->values[i], s, len) == 0)
				return 1;
		}
		return 0;
	case PB_CONTAINS:
		for (size_t i = 0; i < c->nvalues; i++) {
			if (memmem(s, len, c->values[i], strlen(c->values[i])) != NULL)
				return 1;
		}
		return 0;
	case PB_CIDR:
	case PB_NOT_CIDR: {
		struct pb_net n;

		if (pb_parse_net(s, len, &n) < 0)
			return 0;
		for (size_t i = 0; i < c->nnets; i++) {
			if (n.prefix >= c->nets[i].prefix &&
			    pb_net_overlap(&n, &c->nets[i]))
				return 1;
		}
		return 0;
	}
	case PB_EXISTS:
		return 1;
	}
	return 0;
}

static int cond_holds(const struct pb_cond *c, const json_t *alert)
{
	struct pb_vars v = { alert, NULL, 0, NULL };
	enum pb_ns ns;
	const char *rest;
	const json_t *j;
	size_t n, hits = 0, vals = 0;

	if (pb_var_parse(c->field, strlen(c->field), &ns, &rest, NULL, 0) < 0)
		return 0;
	j = pb_lookup(&v, ns, rest);
	n = json_is_array(j) ? json_array_size(j) : 1;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_is_array(j) ? json_array_get(j, i) : j;
		char tmp[64];
		size_t len;
		const char *s = scalar_text(e, tmp, sizeof(tmp), &len);

		if (s == NULL)
			continue;
		vals++;
		if (value_hits(c, s, len))
			hits++;
	}
	switch (c->op) {
	case PB_EXISTS:
		return (vals > 0) == (c->exists != 0);
	case PB_NE:
	case PB_NOT_CIDR:
		return hits == 0;
	default:
		return hits > 0;
	}
}

int playbook_matches(const struct playbook *pb, const json_t *alert)
{
	const json_t *rule = json_object_get(alert, "rule");

	if (!json_is_object(alert))
		return 0;
	if (pb->kind >= 0) {
		const char *k = json_string_value(json_object_get(alert, "kind"));

		if (k == NULL || strcmp(k, pb->kind ? "correlation" : "detection"))
			return 0;
	}
	if (pb->nrules > 0) {
		const char *id = json_string_value(json_object_get(rule, "id"));
		const char *title = json_string_value(json_object_get(rule, "title"));
		size_t i;

		for (i = 0; i < pb->nrules; i++) {
			if ((id && strcmp(id, pb->rules[i]) == 0) ||
			    (title && strcmp(title, pb->rules[i]) == 0))
				break;
		}
		if (i == pb->nrules)
			return 0;
	}
	if (pb->nnot_rules > 0) {
		const char *id = json_string_value(json_object_get(rule, "id"));
		const char *title = json_string_value(json_object_get(rule, "title"));

		for (size_t i = 0; i < pb->nnot_rules; i++) {
			if ((id && strcmp(id, pb->not_rules[i]) == 0) ||
			    (title && strcmp(title, pb->not_rules[i]) == 0))
				return 0;
		}
	}
	if (pb->ntags > 0) {
		const json_t *tags = json_object_get(rule, "tags");
		int hit = 0;

		for (size_t i = 0; i < json_array_size(tags) && !hit; i++) {
			const char *t = json_string_value(json_array_get(tags, i));

			for (size_t k = 0; t != NULL && k < pb->ntags && !hit; k++)
				hit = str_eq_ci(t, pb->tags[k]);
		}
		if (!hit)
			return 0;
	}
	if (pb->min_level >= 0 || pb->levels != 0) {
		int lv = level_of(json_string_value(json_object_get(rule, "level")));

		if (lv < 0)
			return 0;
		if (pb->min_level >= 0 && lv < pb->min_level)
			return 0;
		if (pb->levels != 0 && !(pb->levels & (1u << lv)))
			return 0;
	}
	for (size_t i = 0; i < pb->nconds; i++) {
		if (!cond_holds(&pb->conds[i], alert))
			return 0;
	}
	return 1;
}

size_t playbook_match(const struct playbook_set *s, const json_t *alert,
    const struct playbook **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (!s->pbs[i]->enabled || !playbook_matches(s->pbs[i], alert))
			continue;
		if (n < max)
			out[n] = s->pbs[i];
		n++;
	}
	return n;
}

void playbook_payload(const struct pb_vars *v, const char *step,
    struct buf *out)
{
	char *alert = v->alert ? json_dumps(v->alert, JSON_COMPACT) : NULL;

	buf_adds(out, "{\"version\":1,\"type\":\"vigil.alert\",\"playbook\":");
	if (v->playbook != NULL)
		buf_json_str(out, v->playbook, strlen(v->playbook));
	else
		buf_adds(out, "null");
	buf_adds(out, ",\"step\":");
	if (step != NULL)
		buf_json_str(out, step, strlen(step));
	else
		buf_adds(out, "null");
	buf_adds(out, ",\"incident\":{");
	for (size_t i = 0; i < v->nincident; i++) {
		if (i > 0)
			buf_addc(out, ',');
		buf_json_str(out, v->incident[2 * i], strlen(v->incident[2 * i]));
		buf_addc(out, ':');
		buf_json_str(out, v->incident[2 * i + 1],
		    strlen(v->incident[2 * i + 1]));
	}
	buf_adds(out, "},\"alert\":");
	buf_adds(out, alert != NULL ? alert : "null");
	buf_addc(out, '}');
	free(alert);
}
