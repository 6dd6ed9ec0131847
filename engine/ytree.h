/*
 * ytree.h: YAML documents as an in-memory tree with source positions, built
 * with libyaml. Config, decoder, rule, mapping and playbook loaders walk this
 * tree, so every error they report carries file:line:col.
 *
 * Anchors and aliases are resolved by copying. Scalars keep whether they were
 * written plain or quoted, because `null`, `true` and numbers mean different
 * things in the two forms.
 */
#ifndef VG_YTREE_H
#define VG_YTREE_H

#include <stddef.h>

#include "vg.h"

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode {
	enum ynode_kind kind;
	int line, col;      /* 1-based position of the node's start */
	char *str;          /* YN_SCALAR: value, NUL-terminated */
	size_t len;
	int quoted;         /* YN_SCALAR: written quoted or as a block scalar */
	struct ynode **items; /* YN_SEQ: items; YN_MAP: key0, val0, key1, val1... */
	size_t n;           /* number of items (pairs * 2 for maps) */
	const char *file;   /* borrowed from the owning ydoc */
};

struct ydoc {
	char *file;
	struct ynode *root; /* NULL for an empty document */
	int line;           /* where the document starts */
};

/*
 * Parse every document of a YAML stream. Returns 0 and an owned array of
 * *ndocs documents (free with ytree_free_docs), or -1 with err set.
 * `file` names the source in positions and errors.
 */
int ytree_parse(const char *file, const char *buf, size_t len,
    struct ydoc **docs, size_t *ndocs, struct vg_err *err);
int ytree_load_file(const char *path, struct ydoc **docs, size_t *ndocs,
    struct vg_err *err);
void ytree_free_docs(struct ydoc *docs, size_t ndocs);

/* Map lookup by key text; NULL when absent or when map is not a map. */
struct ynode *ytree_get(const struct ynode *map, const char *key);
/* A plain scalar null, ~ or empty, or a NULL node. */
int ytree_is_null(const struct ynode *n);
/* A scalar (any style) equal to s. */
int ytree_is_str(const struct ynode *n, const char *s);
/* Parse a plain or quoted scalar as bool / long; -1 if not one. */
int ytree_bool(const struct ynode *n, int *out);
int ytree_long(const struct ynode *n, long *out);
const char *ytree_kind_name(const struct ynode *n);

#endif
