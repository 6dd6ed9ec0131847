/*
 * playbook_int.h: what the playbook_*.c files share and nobody else needs.
 */
#ifndef VG_PLAYBOOK_INT_H
#define VG_PLAYBOOK_INT_H

#include <jansson.h>

#include "playbook.h"

#define PB_RENDER_MAX 65536  /* bytes one template may render to */

/*
 * Compile template text s. Returns 0, or -1 with why and *errcol (0-based
 * offset into s of the problem).
 */
int pb_tmpl_compile(const char *s, struct pb_tmpl *out, char *why,
    size_t whylen, size_t *erroff);
void pb_tmpl_free(struct pb_tmpl *t);
/* Has the template variables? */
int pb_tmpl_has_vars(const struct pb_tmpl *t);

/* Split a variable or field name into namespace and rest; -1 with why for
 * a name under alert. that does not exist. */
int pb_var_parse(const char *name, size_t len, enum pb_ns *ns,
    const char **rest, char *why, size_t whylen);

/* The JSON value of a variable in the alert (NULL when absent); rule tags
 * come back as the array. Borrowed from the alert. */
const json_t *pb_lookup(const struct pb_vars *v, enum pb_ns ns,
    const char *name);

/* A canonical address or network ("10.0.0.0/8", "2001:db8::1"); 0 or -1. */
int pb_parse_net(const char *s, size_t len, struct pb_net *out);
/* 1 when s looks like an address (IPv4-like digits and dots, or IPv6-like
 * hex and colons), whether or not it is canonical. */
int pb_addr_like(const char *s, size_t len);
/* Do two networks overlap? */
int pb_net_overlap(const struct pb_net *a, const struct pb_net *b);
void pb_net_format(const struct pb_net *n, char *out, size_t cap);

/* The builtin protected networks. */
extern const char *const pb_builtin_protected[];
extern const size_t pb_nbuiltin_protected;

/*
 * Render t like playbook_render; when set is not NULL every substituted
 * value is checked against its protected networks and refused (-1) when
 * protected or not canonical.
 */
int pb_render_checked(const struct pb_tmpl *t, const struct pb_vars *v,
    int strict, const struct playbook_set *set, struct buf *out, char *why,
    size_t whylen);
/* Check one whole value (an argument) the same way; 0 or -1 with why. */
int pb_check_value(const struct playbook_set *set, const char *s, size_t len,
    char *why, size_t whylen);

void pb_json_free(struct pb_json *j);

#endif
