/*
 * correlate_int.h: what correlate_load.c compiles and correlate.c runs.
 * Private to the correlate module.
 */
#ifndef VG_CORRELATE_INT_H
#define VG_CORRELATE_INT_H

#include "correlate.h"

enum corr_type {
	CT_EVENT_COUNT,
	CT_VALUE_COUNT,
	CT_TEMPORAL,
	CT_TEMPORAL_ORDERED,
	CT_VALUE_SUM,
	CT_VALUE_AVG,
	CT_VALUE_PERCENTILE,
	CT_VALUE_MEDIAN,
};

/* When the condition is tested. */
enum corr_mode {
	CM_ARRIVAL,  /* at each event, over the windows that contain it */
	CM_CLOSE,    /* once per window, when the window has ended */
	CM_ABSENCE,  /* vigil.absence: when the wait for the answer ends */
};

enum { CC_GT, CC_GTE, CC_LT, CC_LTE, CC_EQ, CC_NEQ, CC_N };

#define CORR_MAX_GROUP 16  /* group-by fields */
#define CORR_MAX_VALUE 8   /* condition fields */
#define CORR_MAX_RULES 64  /* rules a correlation refers to */

struct corr_rule;

/* One rule a correlation refers to, in its `rules:` order (the role). */
struct corr_ref {
	const struct rule *det;      /* a detection rule, or */
	struct corr_rule *corr;      /* a correlation rule */
	uint32_t group_fields[CORR_MAX_GROUP]; /* aliases resolved */
	uint32_t value_fields[CORR_MAX_VALUE];
	/* when the rule's field mapping gives a name several event fields
	 * (one per Windows JSON shape), the others, FIELD_NONE-terminated;
	 * else NULL */
	uint32_t *group_more[CORR_MAX_GROUP];
	uint32_t *value_more[CORR_MAX_VALUE];
};

/* A field of a referenced rule in ev: the first of its event fields that
 * the event has. */
static inline const struct value *corr_field_get(const struct vg_event *ev,
    uint32_t id, const uint32_t *more)
{
	const struct value *v = vg_event_get(ev, id);

	while (v == NULL && more != NULL && *more != FIELD_NONE)
		v = vg_event_get(ev, *more++);
	return v;
}

static inline const char *corr_field_str(const struct vg_event *ev,
    uint32_t id, const uint32_t *more)
{
	const struct value *v = corr_field_get(ev, id, more);

	return v ? v->s : NULL;
}

/* A correlation that refers to some rule, and as which role. */
struct corr_use {
	struct corr_rule *cr;
	int role;
};

struct corr_rule {
	struct rule rule;            /* for alerts: id, name, title, level... */
	size_t idx;                  /* position in the set */
	enum corr_type type;
	enum corr_mode mode;
	int64_t timespan_ms;
	int64_t lateness_ms;         /* -1: the correlator's default */
	int64_t suppress_ms;         /* 0: none */
	uint32_t cap;                /* 0: the correlator's default */
	double percentile;           /* value_percentile rank, 0..100 */
	int has[CC_N];
	double cond[CC_N];
	int generate;
	int absence;

	char **group_by;             /* names as written (alert group keys) */
	size_t ngroup;
	char **value_names;
	size_t nvalue;
	struct corr_ref *refs;
	size_t nrefs;

	struct corr_use *outs;       /* correlations that refer to this one */
	size_t nouts;
	int emits;                   /* alerts go to the callback */

	char *key;                   /* escaped rule key in Redis keys */

	/* fixed script arguments, formatted once */
	char a_type[4], a_mode[2], a_span[24], a_cap[16], a_cond[CC_N][32];
	char a_nroles[8], a_rank[32], a_sup[24];
};

/* Detection rule -> the correlations that use it. */
struct corr_det {
	const struct rule *r;
	struct corr_use *uses;
	size_t nuses;
	int generates;
};

struct corr_set {
	struct corr_rule **rules;
	size_t nrules;
	struct corr_det *dets;       /* open addressing on the pointer */
	size_t dcap;                 /* power of two, or 0 */
	size_t ndets;
};

const struct corr_det *corr_det_find(const struct corr_set *cs,
    const struct rule *r);
/* Append s escaped for a Redis key (%XX for '%', '{', '}', ':', spaces,
 * control and non-ASCII bytes). */
void corr_key_escape(struct buf *b, const char *s, size_t n);

extern const char corr_lua_update[];
extern const char corr_lua_batch[];
#define CORR_UPDATE_ARGS 24 /* ARGV of one update in corr_lua_update */
extern const char corr_lua_tick[];

#endif
