/*
 * playbook_cfg.h: small YAML helpers shared by the response loaders
 * (playbooks, on-call schedules, notification channels): every problem goes
 * to a struct vg_diag with the node's file:line:col, and the loaders keep
 * going after an error so that one run reports all of them.
 *
 * Load time only, one thread.
 */
#ifndef VG_PLAYBOOK_CFG_H
#define VG_PLAYBOOK_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "vg.h"
#include "ytree.h"

struct pbc {
	struct vg_diag *d;  /* may be NULL: errors are still counted */
	int errors;
};

void pbc_err(struct pbc *L, const struct ynode *n, const char *fmt, ...)
    VG_PRINTF(3, 4);
void pbc_warn(struct pbc *L, const struct ynode *n, const char *fmt, ...)
    VG_PRINTF(3, 4);

/*
 * Walk map `map` (reporting it when it is not a map): unknown keys (listed
 * in the error with the allowed ones) and repeated keys are errors; vals[i]
 * gets the value of allowed[i], NULL when absent or null. Returns 0, or -1
 * when map is not a map.
 */
int pbc_keys(struct pbc *L, const struct ynode *map, const char *what,
    const char *const *allowed, size_t nallowed, const struct ynode **vals);

/* A non-empty string scalar; returns it (borrowed) or NULL after an error. */
const char *pbc_str(struct pbc *L, const struct ynode *n, const char *what);
/* A string scalar that may be empty. */
const char *pbc_str0(struct pbc *L, const struct ynode *n, const char *what);
/* A name: 1..128 of [A-Za-z0-9_.-]. */
const char *pbc_name(struct pbc *L, const struct ynode *n, const char *what);
/* A scalar or a list of scalars (each non-empty) into an owned array of
 * owned strings; 0 or -1. */
int pbc_strlist(struct pbc *L, const struct ynode *n, const char *what,
    char ***out, size_t *nout);
/* An integer in lo..hi. */
int pbc_long(struct pbc *L, const struct ynode *n, const char *what, long lo,
    long hi, long *out);
int pbc_bool(struct pbc *L, const struct ynode *n, const char *what, int *out);
/* A duration ("500ms", "30s", "15m", "1h30m", "2d", "1w", or bare seconds)
 * in lo..hi milliseconds. */
int pbc_duration(struct pbc *L, const struct ynode *n, const char *what,
    int64_t lo, int64_t hi, int64_t *ms);

/* The duration grammar alone; 0 or -1. */
int pbc_parse_duration(const char *s, int64_t *ms);
/* A size: "65536", "64k", "1m" (KiB, MiB); 0 or -1. */
int pbc_parse_size(const char *s, size_t *out);

/* free() every string of a list and the list. */
void pbc_free_list(char **v, size_t n);

#endif
