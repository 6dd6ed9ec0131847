/*
 * ytree.c: libyaml event stream to struct ynode trees; see ytree.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "ytree.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YTREE_MAX_DEPTH 256
#define YTREE_MAX_NODES 4000000 /* bounds alias expansion ("billion laughs") */

struct anchor {
	char *name;
	struct ynode *node;
};

struct builder {
	const char *file;
	struct anchor *anchors;
	size_t nanchors, capanchors;
	size_t nodes;
	struct vg_err *err;
};

static void node_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->items[i]);
	free(n->items);
	free(n->str);
	free(n);
}

static struct ynode *node_new(struct builder *b, enum ynode_kind kind,
    const yaml_mark_t *m)
{
	struct ynode *n = vg_calloc(1, sizeof(*n));

	n->kind = kind;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	n->file = b->file;
	b->nodes++;
	return n;
}

static struct ynode *node_copy(struct builder *b, const struct ynode *src)
{
	struct ynode *n;

	if (++b->nodes > YTREE_MAX_NODES)
		return NULL;
	n = vg_calloc(1, sizeof(*n));
	*n = *src;
	n->str = src->str ? vg_strndup(src->str, src->len) : NULL;
	n->items = src->n ? vg_malloc(src->n * sizeof(*n->items)) : NULL;
	for (size_t i = 0; i < src->n; i++) {
		if ((n->items[i] = node_copy(b, src->items[i])) == NULL) {
			n->n = i;
			node_free(n);
			return NULL;
		}
	}
	return n;
}

static void push_item(struct ynode *parent, struct ynode *child)
{
	/* grow in powers of two: n is the count */
	if ((parent->n & (parent->n - 1)) == 0)
		parent->items = vg_realloc(parent->items,
		    (parent->n ? parent->n * 2 : 1) * sizeof(*parent->items));
	parent->items[parent->n++] = child;
}

static void add_anchor(struct builder *b, const unsigned char *name,
    struct ynode *n)
{
	if (name == NULL)
		return;
	if (b->nanchors == b->capanchors) {
		b->capanchors = b->capanchors ? b->capanchors * 2 : 8;
		b->anchors = vg_realloc(b->anchors, b->capanchors * sizeof(*b->anchors));
	}
	b->anchors[b->nanchors].name = vg_strdup((const char *)name);
	b->anchors[b->nanchors].node = n;
	b->nanchors++;
}

static void clear_anchors(struct builder *b)
{
	for (size_t i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	b->nanchors = 0;
}

static int next_event(yaml_parser_t *p, yaml_event_t *ev, struct builder *b)
{
	if (!yaml_parser_parse(p, ev)) {
		vg_err_set(b->err, b->file, (int)p->problem_mark.line + 1,
		    (int)p->problem_mark.column + 1, "YAML: %s%s%s",
		    p->problem ? p->problem : "syntax error",
		    p->context ? " " : "", p->context ? p->context : "");
		return -1;
	}
	return 0;
}

/* Build the node that starts with event *ev (already parsed; consumed). */
static struct ynode *build(yaml_parser_t *p, yaml_event_t *ev,
    struct builder *b, int depth)
{
	struct ynode *n = NULL, *child;
	yaml_event_t sub;

	if (depth > YTREE_MAX_DEPTH) {
		vg_err_set(b->err, b->file, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "YAML nested too deeply");
		yaml_event_delete(ev);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = node_new(b, YN_SCALAR, &ev->start_mark);
		n->str = vg_strndup((const char *)ev->data.scalar.value,
		    ev->data.scalar.length);
		n->len = ev->data.scalar.length;
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
		    ev->data.scalar.style != YAML_ANY_SCALAR_STYLE;
		add_anchor(b, ev->data.scalar.anchor, n);
		yaml_event_delete(ev);
		return n;
	case YAML_ALIAS_EVENT:
		for (size_t i = b->nanchors; i-- > 0;) {
			if (strcmp(b->anchors[i].name,
			    (const char *)ev->data.alias.anchor) == 0) {
				n = node_copy(b, b->anchors[i].node);
				if (n == NULL)
					vg_err_set(b->err, b->file,
					    (int)ev->start_mark.line + 1,
					    (int)ev->start_mark.column + 1,
					    "YAML alias expansion too large");
				yaml_event_delete(ev);
				return n;
			}
		}
		vg_err_set(b->err, b->file, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "YAML: unknown alias '%s'",
		    (const char *)ev->data.alias.anchor);
		yaml_event_delete(ev);
		return NULL;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int is_map = ev->type == YAML_MAPPING_START_EVENT;
		const unsigned char *anchor = is_map ? ev->data.mapping_start.anchor :
		    ev->data.sequence_start.anchor;
		yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT :
		    YAML_SEQUENCE_END_EVENT;
		char *aname = anchor ? vg_strdup((const char *)anchor) : NULL;

		n = node_new(b, is_map ? YN_MAP : YN_SEQ, &ev->start_mark);
		yaml_event_delete(ev);
		for (;;) {
			if (b->nodes > YTREE_MAX_NODES) {
				vg_err_set(b->err, b->file, n->line, n->col,
				    "YAML document too large");
				goto fail;
			}
			if (next_event(p, &sub, b) < 0)
				goto fail;
			if (sub.type == end) {
				yaml_event_delete(&sub);
				break;
			}
			if ((child = build(p, &sub, b, depth + 1)) == NULL)
				goto fail;
			push_item(n, child);
		}
		if (aname != NULL) {
			add_anchor(b, (const unsigned char *)aname, n);
			free(aname);
		}
		return n;
fail:
		free(aname);
		node_free(n);
		return NULL;
	}
	default:
		vg_err_set(b->err, b->file, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "YAML: unexpected event");
		yaml_event_delete(ev);
		return NULL;
	}
}

int ytree_parse(const char *file, const char *buf, size_t len,
    struct ydoc **docsp, size_t *ndocsp, struct vg_err *err)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct builder b = { 0 };
	struct ydoc *docs = NULL;
	size_t ndocs = 0;
	char *fname = vg_strdup(file ? file : "");
	int done = 0;

	*docsp = NULL;
	*ndocsp = 0;
	b.file = fname;
	b.err = err;
	if (!yaml_parser_initialize(&p)) {
		vg_err_set(err, file, 0, 0, "YAML parser initialisation failed");
		free(fname);
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done) {
		if (next_event(&p, &ev, &b) < 0)
			goto fail;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			yaml_event_delete(&ev);
			break;
		case YAML_DOCUMENT_START_EVENT: {
			struct ydoc *d;
			yaml_event_t root;

			docs = vg_realloc(docs, (ndocs + 1) * sizeof(*docs));
			d = &docs[ndocs++];
			d->file = ndocs == 1 ? fname : vg_strdup(fname);
			d->line = (int)ev.start_mark.line + 1;
			d->root = NULL;
			yaml_event_delete(&ev);
			clear_anchors(&b);
			if (next_event(&p, &root, &b) < 0)
				goto fail;
			if (root.type == YAML_DOCUMENT_END_EVENT) {
				yaml_event_delete(&root);
				break;
			}
			/* nodes keep pointing at the first name copy */
			if ((d->root = build(&p, &root, &b, 0)) == NULL)
				goto fail;
			if (next_event(&p, &ev, &b) < 0)
				goto fail;
			yaml_event_delete(&ev);
			break;
		}
		default:
			yaml_event_delete(&ev);
			break;
		}
	}
	clear_anchors(&b);
	free(b.anchors);
	yaml_parser_delete(&p);
	if (ndocs == 0)
		free(fname);
	*docsp = docs;
	*ndocsp = ndocs;
	return 0;
fail:
	clear_anchors(&b);
	free(b.anchors);
	yaml_parser_delete(&p);
	if (ndocs == 0)
		free(fname);
	ytree_free_docs(docs, ndocs);
	return -1;
}

int ytree_load_file(const char *path, struct ydoc **docs, size_t *ndocs,
    struct vg_err *err)
{
	size_t len;
	char *buf = vg_read_file(path, &len);
	int rc;

	*docs = NULL;
	*ndocs = 0;
	if (buf == NULL) {
		vg_err_set(err, path, 0, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	rc = ytree_parse(path, buf, len, docs, ndocs, err);
	free(buf);
	return rc;
}

void ytree_free_docs(struct ydoc *docs, size_t ndocs)
{
	/* every document's nodes borrow docs[0].file */
	for (size_t i = 0; i < ndocs; i++)
		node_free(docs[i].root);
	for (size_t i = 0; i < ndocs; i++)
		free(docs[i].file);
	free(docs);
}

struct ynode *ytree_get(const struct ynode *map, const char *key)
{
	if (map == NULL || map->kind != YN_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];

		if (k->kind == YN_SCALAR && strcmp(k->str, key) == 0)
			return map->items[i + 1];
	}
	return NULL;
}

int ytree_is_null(const struct ynode *n)
{
	if (n == NULL)
		return 1;
	if (n->kind != YN_SCALAR || n->quoted)
		return 0;
	return n->len == 0 || strcmp(n->str, "null") == 0 ||
	    strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0 ||
	    strcmp(n->str, "~") == 0;
}

int ytree_is_str(const struct ynode *n, const char *s)
{
	return n != NULL && n->kind == YN_SCALAR && strcmp(n->str, s) == 0;
}

int ytree_bool(const struct ynode *n, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "on" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "off" };

	if (n == NULL || n->kind != YN_SCALAR)
		return -1;
	for (size_t i = 0; i < VG_ARRAY_LEN(yes); i++) {
		if (strcmp(n->str, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(n->str, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int ytree_long(const struct ynode *n, long *out)
{
	char *end;
	long v;

	if (n == NULL || n->kind != YN_SCALAR || n->len == 0)
		return -1;
	errno = 0;
	v = strtol(n->str, &end, 0);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

const char *ytree_kind_name(const struct ynode *n)
{
	if (n == NULL)
		return "nothing";
	switch (n->kind) {
	case YN_SCALAR:
		return "a scalar";
	case YN_SEQ:
		return "a list";
	case YN_MAP:
		return "a map";
	}
	return "?";
}
