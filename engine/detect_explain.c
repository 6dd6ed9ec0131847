/*
 * detect_explain.c: says, for `vigil logtest -v`, why a rule matched an
 * event or why it did not, in terms a rule author can act on: which
 * selection failed, on which field, what the event held and what the rule
 * expected. It re-evaluates the rule with the ordinary matchers, so the
 * explanation cannot disagree with detect_event. Not on the hot path.
 */
#include "detect_int.h"

#include <string.h>

#define SHOW_MAX 80     /* bytes of an event value quoted */
#define LIST_MAX 5      /* patterns or alternatives listed */

static void why_false(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct rule_impl *ri, const struct cnode *cn, struct buf *b);
static void why_true(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct rule_impl *ri, const struct cnode *cn, struct buf *b);

static void quote(struct buf *b, const char *s, size_t n)
{
	buf_addc(b, '\'');
	if (n > SHOW_MAX) {
		buf_add(b, s, SHOW_MAX);
		buf_adds(b, "...");
	} else {
		buf_add(b, s, n);
	}
	buf_addc(b, '\'');
}

/*
 * "field 'Image' (Event.EventData.Image)": the Sigma name and the event
 * fields it maps to; of several (a Windows name maps to one per JSON
 * shape), those the event holds, or all of them when it holds none.
 */
static void field_name_of(struct buf *b, const struct vg_event *ev,
    const struct fcond *fc)
{
	uint32_t present = 0, shown = 0;

	buf_adds(b, "field '");
	buf_adds(b, fc->name);
	buf_addc(b, '\'');
	if (fc->nfields == 1 && strcmp(field_name(fc->fields[0]), fc->name) == 0)
		return;
	for (uint32_t i = 0; i < fc->nfields; i++)
		present += vg_event_first(ev, fc->fields[i]) != FENT_END;
	buf_adds(b, " (");
	for (uint32_t i = 0; i < fc->nfields; i++) {
		if (present > 0 && vg_event_first(ev, fc->fields[i]) == FENT_END)
			continue;
		if (shown++ > 0)
			buf_adds(b, ", ");
		buf_adds(b, field_name(fc->fields[i]));
	}
	buf_addc(b, ')');
}

static const char *const verbs[] = {
	[PK_EQ] = "", [PK_PREFIX] = "to start with ", [PK_SUFFIX] = "to end with ",
	[PK_CONTAINS] = "to contain ", [PK_GLOB] = "to match ", [PK_ANY] = "",
	[PK_RE] = "to match ", [PK_CIDR] = "in ", [PK_LT] = "< ",
	[PK_LTE] = "<= ", [PK_GT] = "> ", [PK_GTE] = ">= ",
	[PK_REF] = "equal to field ",
};

/* The pattern's value as the rule wrote it. */
static void pat_value(struct buf *b, const struct pat *p)
{
	if (p->kind == PK_ANY) {
		buf_adds(b, "any value");
	} else if (p->kind == PK_RE) {
		buf_addc(b, '/');
		buf_adds(b, p->shown);
		buf_addc(b, '/');
	} else if (p->kind >= PK_CIDR && p->kind <= PK_GTE) {
		buf_adds(b, p->shown);
	} else {
		quote(b, p->shown, strlen(p->shown));
	}
}

static void pat_text(struct buf *b, const struct fcond *fc, const struct pat *p)
{
	/* keywords are always looked for anywhere: no verb */
	if (!(fc->keyword && p->kind == PK_CONTAINS))
		buf_adds(b, verbs[p->kind]);
	pat_value(b, p);
}

static int same_value(const struct pat *a, const struct pat *b)
{
	return strcmp(a->shown, b->shown) == 0;
}

/*
 * "to contain one of 'a', 'b'": the verb once when every pattern has the
 * same kind, and the variants of one value (windash, base64offset) once.
 */
static void pats_text(struct buf *b, const struct fcond *fc)
{
	uint32_t shown = 0, distinct = 0;
	int same = 1;

	for (uint32_t i = 0; i < fc->npats; i++) {
		if (i == 0 || !same_value(&fc->pats[i], &fc->pats[i - 1]))
			distinct++;
		if (fc->pats[i].kind != fc->pats[0].kind)
			same = 0;
	}
	if (same && !(fc->keyword && fc->pats[0].kind == PK_CONTAINS))
		buf_adds(b, verbs[fc->pats[0].kind]);
	if (distinct > 1)
		buf_adds(b, fc->all ? "all of " : "one of ");
	for (uint32_t i = 0; i < fc->npats; i++) {
		if (i > 0 && same_value(&fc->pats[i], &fc->pats[i - 1]))
			continue;
		if (shown == LIST_MAX) {
			buf_printf(b, ", ... (%u more)", distinct - shown);
			break;
		}
		if (shown > 0)
			buf_adds(b, ", ");
		if (same)
			pat_value(b, &fc->pats[i]);
		else
			pat_text(b, fc, &fc->pats[i]);
		shown++;
	}
	if (fc->cased && fc->pats[0].kind <= PK_ANY)
		buf_adds(b, " (case-sensitive)");
}

/* First value of the condition's fields, or NULL. */
static const struct value *first_value(const struct vg_event *ev,
    const struct fcond *fc, uint32_t *count)
{
	const struct value *v = NULL;

	*count = 0;
	for (uint32_t f = 0; f < fc->nfields; f++) {
		for (uint32_t i = vg_event_first(ev, fc->fields[f]); i != FENT_END;
		    i = ev->ents[i].next) {
			if (v == NULL)
				v = &ev->ents[i].v;
			(*count)++;
		}
	}
	return v;
}

static void value_text(struct buf *b, const struct value *v, uint32_t count)
{
	if (v->kind == V_NULL)
		buf_adds(b, "null");
	else
		quote(b, v->s, v->len);
	if (count > 1)
		buf_printf(b, " (and %u more values)", count - 1);
}

static int value_matches(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc, const struct value *v)
{
	for (uint32_t k = 0; k < fc->npats; k++) {
		if (detect_pat_match(ctx, ev, fc, &fc->pats[k], v))
			return 1;
	}
	return 0;
}

static void fc_false(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc, struct buf *b)
{
	const struct value *v;
	uint32_t count;

	if (fc->keyword) {
		buf_adds(b, vg_event_first(ev, F_MESSAGE) != FENT_END ?
		    "the message holds " : "no string value of the event holds ");
		if (vg_event_first(ev, F_MESSAGE) != FENT_END) {
			const struct value *m = vg_event_get(ev, F_MESSAGE);

			buf_adds(b, "no keyword: it is ");
			quote(b, m->s, m->len);
			buf_adds(b, ", expected ");
		}
		pats_text(b, fc);
		return;
	}
	v = first_value(ev, fc, &count);
	field_name_of(b, ev, fc);
	switch (fc->kind) {
	case FC_EXISTS:
		buf_adds(b, fc->want ? " is absent" : " exists");
		return;
	case FC_NULL:
		if (fc->neg) {
			buf_adds(b, " is absent or null");
		} else {
			buf_adds(b, " is ");
			value_text(b, v, count);
			buf_adds(b, ", expected absent or null");
		}
		return;
	}
	if (fc->never && !fc->neg) {
		buf_adds(b, " cannot match: |expand gave it no value");
		return;
	}
	if (v == NULL) {
		buf_adds(b, " is absent");
		return;
	}
	if (fc->neg) {
		/* find the value that it must not have */
		for (uint32_t f = 0; f < fc->nfields; f++) {
			for (uint32_t i = vg_event_first(ev, fc->fields[f]);
			    i != FENT_END; i = ev->ents[i].next) {
				if (value_matches(ctx, ev, fc, &ev->ents[i].v)) {
					v = &ev->ents[i].v;
					goto found;
				}
			}
		}
found:
		buf_adds(b, " is ");
		quote(b, v->s, v->len);
		buf_adds(b, ", expected not ");
		pats_text(b, fc);
		return;
	}
	buf_adds(b, " is ");
	value_text(b, v, count);
	buf_adds(b, ", expected ");
	if (fc->tpart != TP_NONE) {
		static const char *const parts[] = { "", "minute", "hour", "day",
		    "week", "month", "year" };

		buf_printf(b, "its %s ", parts[fc->tpart]);
	}
	if (fc->all && fc->ngrp > 1) {
		/* name the first value (in any variant) no value satisfies */
		for (uint32_t k = 0, e; k < fc->npats; k = e) {
			int hit = 0;

			e = detect_grp_end(fc, k);
			for (uint32_t f = 0; f < fc->nfields && !hit; f++) {
				for (uint32_t i = vg_event_first(ev, fc->fields[f]);
				    i != FENT_END && !hit; i = ev->ents[i].next) {
					for (uint32_t j = k; j < e && !hit; j++)
						hit = detect_pat_match(ctx, ev, fc,
						    &fc->pats[j], &ev->ents[i].v);
				}
			}
			if (!hit) {
				pat_text(b, fc, &fc->pats[k]);
				buf_adds(b, " as well (all)");
				return;
			}
		}
	}
	pats_text(b, fc);
}

static void fc_true(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc, struct buf *b)
{
	uint32_t count;
	const struct value *v;

	if (fc->keyword) {
		buf_adds(b, "keyword ");
		for (uint32_t k = 0; k < fc->npats; k++) {
			const struct value *m = vg_event_get(ev, F_MESSAGE);

			if (m != NULL && detect_pat_match(ctx, ev, fc, &fc->pats[k], m)) {
				pat_value(b, &fc->pats[k]);
				buf_adds(b, " found in the message");
				return;
			}
		}
		pats_text(b, fc);
		buf_adds(b, " found");
		return;
	}
	field_name_of(b, ev, fc);
	if (fc->kind == FC_EXISTS) {
		buf_adds(b, fc->want ? " exists" : " is absent");
		return;
	}
	if (fc->kind == FC_NULL && !fc->neg) {
		buf_adds(b, " is absent or null");
		return;
	}
	v = first_value(ev, fc, &count);
	if (fc->kind == FC_VALUES && !fc->neg) {
		for (uint32_t f = 0; f < fc->nfields; f++) {
			for (uint32_t i = vg_event_first(ev, fc->fields[f]);
			    i != FENT_END; i = ev->ents[i].next) {
				if (value_matches(ctx, ev, fc, &ev->ents[i].v)) {
					v = &ev->ents[i].v;
					count = 1;
					goto found;
				}
			}
		}
	}
found:
	if (v == NULL) {
		buf_adds(b, " is absent");
		return;
	}
	buf_adds(b, " is ");
	value_text(b, v, count);
}

static void sn_false(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct snode *sn, struct buf *b)
{
	uint32_t shown = 0;

	switch (sn->kind) {
	case SN_FC:
		fc_false(ctx, ev, sn->fc, b);
		return;
	case SN_AND:
		for (uint32_t i = 0; i < sn->n; i++) {
			if (!detect_sn_eval(ctx, ev, sn->kids[i])) {
				sn_false(ctx, ev, sn->kids[i], b);
				return;
			}
		}
		return;
	case SN_OR:
		buf_printf(b, "none of %u alternatives matched: ", sn->n);
		for (uint32_t i = 0; i < sn->n; i++) {
			if (shown == LIST_MAX) {
				buf_adds(b, "; ...");
				break;
			}
			if (shown++ > 0)
				buf_adds(b, "; ");
			sn_false(ctx, ev, sn->kids[i], b);
		}
		return;
	}
}

static void sn_true(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct snode *sn, struct buf *b)
{
	switch (sn->kind) {
	case SN_FC:
		fc_true(ctx, ev, sn->fc, b);
		return;
	case SN_AND:
		for (uint32_t i = 0; i < sn->n; i++) {
			if (i > 0)
				buf_adds(b, ", ");
			sn_true(ctx, ev, sn->kids[i], b);
		}
		return;
	case SN_OR:
		for (uint32_t i = 0; i < sn->n; i++) {
			if (detect_sn_eval(ctx, ev, sn->kids[i])) {
				sn_true(ctx, ev, sn->kids[i], b);
				return;
			}
		}
		return;
	}
}

static void sel_name(struct buf *b, const struct sel *s)
{
	if (s->filter != NULL)
		buf_printf(b, "filter '%s' selection '%s'", s->filter, s->name);
	else
		buf_printf(b, "selection '%s'", s->name);
}

static void why_true(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct rule_impl *ri, const struct cnode *cn, struct buf *b)
{
	uint32_t shown = 0;

	switch (cn->op) {
	case CN_SEL:
		sel_name(b, &ri->sels[cn->sel]);
		buf_adds(b, " matched (");
		sn_true(ctx, ev, ri->sels[cn->sel].root, b);
		buf_addc(b, ')');
		return;
	case CN_NOT:
		why_false(ctx, ev, ri, cn->kids[0], b);
		return;
	case CN_AND:
		for (uint32_t i = 0; i < cn->n; i++) {
			if (i > 0)
				buf_adds(b, "; ");
			why_true(ctx, ev, ri, cn->kids[i], b);
		}
		return;
	case CN_OR:
		for (uint32_t i = 0; i < cn->n; i++) {
			if (detect_cn_eval(ctx, ev, ri, cn->kids[i])) {
				why_true(ctx, ev, ri, cn->kids[i], b);
				return;
			}
		}
		return;
	case CN_OF:
		for (uint32_t i = 0; i < cn->n; i++) {
			if (!detect_cn_eval(ctx, ev, ri, cn->kids[i]))
				continue;
			if (shown > 0)
				buf_adds(b, "; ");
			why_true(ctx, ev, ri, cn->kids[i], b);
			if (++shown >= (cn->k ? cn->k : cn->n))
				break;
		}
		return;
	}
}

static void why_false(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct rule_impl *ri, const struct cnode *cn, struct buf *b)
{
	uint32_t shown = 0, need;

	switch (cn->op) {
	case CN_SEL:
		sel_name(b, &ri->sels[cn->sel]);
		buf_adds(b, " failed: ");
		sn_false(ctx, ev, ri->sels[cn->sel].root, b);
		return;
	case CN_NOT:
		buf_adds(b, "excluded: ");
		why_true(ctx, ev, ri, cn->kids[0], b);
		return;
	case CN_AND:
		for (uint32_t i = 0; i < cn->n; i++) {
			if (!detect_cn_eval(ctx, ev, ri, cn->kids[i])) {
				why_false(ctx, ev, ri, cn->kids[i], b);
				return;
			}
		}
		return;
	case CN_OR:
	case CN_OF:
		need = cn->op == CN_OR ? 1 : cn->k ? cn->k : cn->n;
		if (cn->op == CN_OF && cn->k == 0) {
			/* all of: the first that failed says it */
			for (uint32_t i = 0; i < cn->n; i++) {
				if (!detect_cn_eval(ctx, ev, ri, cn->kids[i])) {
					why_false(ctx, ev, ri, cn->kids[i], b);
					return;
				}
			}
			return;
		}
		if (cn->op == CN_OF)
			buf_printf(b, "'%s' needs %u: ", cn->text, need);
		for (uint32_t i = 0; i < cn->n; i++) {
			if (detect_cn_eval(ctx, ev, ri, cn->kids[i]))
				continue;
			if (shown == LIST_MAX) {
				buf_adds(b, "; ...");
				break;
			}
			if (shown++ > 0)
				buf_adds(b, "; ");
			why_false(ctx, ev, ri, cn->kids[i], b);
		}
		return;
	}
}

void detect_explain_rule(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct rule *r, struct buf *out)
{
	const struct rule_impl *ri = r->impl;
	int m = detect_cn_eval(ctx, ev, ri, ri->cond);
	struct buf *b = &ctx->tmp;

	buf_clear(b);
	if (m)
		why_true(ctx, ev, ri, ri->cond, b);
	else
		why_false(ctx, ev, ri, ri->cond, b);
	buf_adds(out, "{\"rule\":");
	buf_json_str(out, r->id, strlen(r->id));
	buf_adds(out, ",\"title\":");
	buf_json_str(out, r->title, strlen(r->title));
	buf_adds(out, m ? ",\"matched\":true,\"why\":" : ",\"matched\":false,\"why\":");
	buf_json_str(out, b->p ? b->p : "", b->len);
	buf_addc(out, '}');
}
