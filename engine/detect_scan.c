/*
 * detect_scan.c: the prefilter's scan, the per-event half of detect_index.c.
 * It builds the tables that find the literals in a value (a bitmap of the
 * rarest 4-gram of each literal of 4 bytes or more, with the literals
 * anchored at each gram; a bitmap of the byte pairs that start a literal
 * of 2 or 3 bytes), and per event scans the values the rules look at,
 * turning each literal found (in a field that wants it, behind a gate
 * that passes) into candidate rules. It never allocates per event but for
 * the fold buffer growing to the longest value once.
 */
#include "detect_int.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static uint32_t gram_at(const char *s)
{
	uint32_t g;

	memcpy(&g, s, 4);
	return g;
}

/* The two bytes at s, in memory order (one load; the same on any host
 * for the tables and the scan). */
static inline uint32_t pair_at(const void *s)
{
	uint16_t p;

	memcpy(&p, s, 2);
	return p;
}

/* The bit of gram g in the region of class c. */
static inline uint32_t gram_bit(uint32_t g, const struct pf_class *c)
{
	return c->goff + (((g ^ c->mix) * 0x9E3779B1u) >> c->gshift);
}

/* The bit of the 8-gram g (memory order) in the region of a wide class. */
static inline uint32_t gram8_bit(uint64_t g, const struct pf_class *c)
{
	g ^= (uint64_t)c->mix << 17;
	g *= 0xff51afd7ed558ccdull;
	return c->goff + (uint32_t)(g >> (32 + c->gshift));
}

/* The same for the pair of bytes that starts a short literal. */
static inline uint32_t pair_bit(uint32_t pair, const struct pf_class *c)
{
	return c->poff + (((pair ^ c->mix) * 0x9E3779B1u) >> c->pshift);
}

static inline int bit_set(const uint64_t *bits, uint32_t b)
{
	return (int)(bits[b >> 6] >> (b & 63) & 1);
}

static uint32_t gram_slot(uint32_t g, uint32_t cap)
{
	return ((g ^ (g >> 15)) * 0x2C1B3C6Du) & (cap - 1);
}

/* A set of 4-grams with a count each, open addressing. */
struct gcount {
	uint32_t *key, *n;     /* n == 0: empty */
	uint32_t cap;
};

static uint32_t *gc_at(struct gcount *c, uint32_t g)
{
	uint32_t i = gram_slot(g, c->cap);

	while (c->n[i] != 0 && c->key[i] != g)
		i = (i + 1) & (c->cap - 1);
	c->key[i] = g;
	return &c->n[i];
}

static uint32_t short_key(const uint8_t *s, uint32_t n)
{
	uint32_t k = s[0] | (uint32_t)s[1] << 8;

	return n == 3 ? (k | (uint32_t)s[2] << 16 | 1u << 24) : k;
}

static uint32_t short_slot(uint32_t k, uint32_t cap)
{
	return (k * 0x9E3779B1u >> 7) & (cap - 1);
}

/* Literals of 2 or 3 bytes (LIT_MIN keeps single bytes out). */
static void build_short(struct prefilter *pf)
{
	uint32_t n = 0;

	for (uint32_t l = 0; l < pf->nlits; l++) {
		if (pf->llen[l] >= LIT_MIN && pf->llen[l] < 4)
			n++;
	}
	if (n == 0)
		return;
	for (pf->scap = 16; pf->scap < n * 2; pf->scap *= 2)
		;
	pf->skey = vg_calloc(pf->scap, sizeof(*pf->skey));
	pf->sval = vg_calloc(pf->scap, sizeof(*pf->sval));
	for (uint32_t l = 0; l < pf->nlits; l++) {
		const uint8_t *t = (const uint8_t *)pf->ltext + pf->loff[l];
		uint32_t k, i;

		if (pf->llen[l] < 2 || pf->llen[l] > 3)
			continue;
		k = short_key(t, pf->llen[l]);
		for (i = short_slot(k, pf->scap); pf->sval[i] != 0; i = (i + 1) & (pf->scap - 1))
			;
		pf->skey[i] = k;
		pf->sval[i] = l + 1;
	}
}

static uint32_t short_get(const struct prefilter *pf, uint32_t k)
{
	for (uint32_t i = short_slot(k, pf->scap); pf->sval[i] != 0;
	    i = (i + 1) & (pf->scap - 1)) {
		if (pf->skey[i] == k)
			return pf->sval[i];
	}
	return 0;
}

struct anchor {
	uint32_t gram, lit, off;
};

static int cmp_anchor(const void *a, const void *b)
{
	const struct anchor *x = a, *y = b;

	if (x->gram != y->gram)
		return x->gram < y->gram ? -1 : 1;
	return x->lit < y->lit ? -1 : x->lit > y->lit;
}

/* How common a (folded) byte is in log text, roughly: space and the
 * frequent letters most, then digits and separators. */
static unsigned byte_common(uint8_t c)
{
	static const uint8_t letter[26] = {
		80, 15, 28, 43, 120, 22, 20, 60, 70, 2, 8, 40, 24, /* a..m */
		67, 75, 19, 1, 60, 63, 90, 28, 10, 24, 2, 20, 1,   /* n..z */
	};

	if (c == ' ')
		return 200;
	if (c >= 'a' && c <= 'z')
		return letter[c - 'a'];
	if (c >= '0' && c <= '9')
		return 50;
	if (c == '/' || c == '.' || c == '-' || c == '_' || c == ':' || c == '=' ||
	    c == '\\')
		return 40;
	return 5;
}

/* One anchor per long literal: its 4-gram that the fewest literals share,
 * so a hit at a common gram ("c:\w") compares few literals; among those,
 * the one that starts with the rarest byte (see scan_few). */
static void build_long(struct prefilter *pf)
{
	struct gcount gc = { 0 };
	struct anchor *an;
	uint32_t na = 0, ngrams = 0;

	for (uint32_t l = 0; l < pf->nlits; l++) {
		if (pf->llen[l] >= 4) {
			pf->nlong++;
			ngrams += pf->llen[l] - 3;
		}
	}
	if (pf->nlong == 0)
		return;
	for (gc.cap = 64; gc.cap < ngrams * 2; gc.cap *= 2)
		;
	gc.key = vg_calloc(gc.cap, sizeof(*gc.key));
	gc.n = vg_calloc(gc.cap, sizeof(*gc.n));
	for (uint32_t l = 0; l < pf->nlits; l++) {
		const char *s = pf->ltext + pf->loff[l];

		for (uint32_t k = 0; pf->llen[l] >= 4 && k + 4 <= pf->llen[l]; k++)
			(*gc_at(&gc, gram_at(s + k)))++;
	}
	an = vg_malloc(pf->nlong * sizeof(*an));
	for (uint32_t l = 0; l < pf->nlits; l++) {
		const char *s = pf->ltext + pf->loff[l];
		uint32_t best = 0;
		uint64_t bestn = UINT64_MAX;

		if (pf->llen[l] < 4)
			continue;
		/* a literal of 8 bytes or more is anchored where 8 of its
		 * bytes follow, for the scan of wide classes */
		uint32_t room = pf->llen[l] >= 8 ? 8 : 4;

		for (uint32_t k = 0; k + room <= pf->llen[l]; k++) {
			uint64_t n = (uint64_t)*gc_at(&gc, gram_at(s + k)) << 8 |
			    byte_common((uint8_t)s[k]);

			if (n < bestn) {
				bestn = n;
				best = k;
			}
		}
		an[na].gram = gram_at(s + best);
		an[na].lit = l;
		an[na].off = best;
		na++;
	}
	free(gc.key);
	free(gc.n);
	qsort(an, na, sizeof(*an), cmp_anchor);
	for (pf->gcap = 64; pf->gcap < na * 2; pf->gcap *= 2)
		;
	pf->gtab = vg_calloc(pf->gcap, sizeof(*pf->gtab));
	pf->anc = vg_calloc(na, sizeof(*pf->anc));
	for (uint32_t i = 0, cur = 0; i < na; i++) {
		struct pf_anchor *a = &pf->anc[i];

		a->lit = an[i].lit;
		a->off = an[i].off;
		a->len = pf->llen[an[i].lit];
		a->text = pf->loff[an[i].lit];
		memcpy(&a->head, pf->ltext + a->text, a->len < 8 ? a->len : 8);
		memset(&a->hmask, 0xff, a->len < 8 ? a->len : 8);
		if (i == 0 || an[i].gram != an[i - 1].gram) {
			/* a slot is taken when its range is not empty */
			for (cur = gram_slot(an[i].gram, pf->gcap); pf->gtab[cur].end != 0;
			    cur = (cur + 1) & (pf->gcap - 1))
				;
			pf->gtab[cur].key = an[i].gram;
			pf->gtab[cur].beg = i;
		}
		pf->gtab[cur].end = i + 1;
	}
	free(an);
}

void detect_scan_build(struct prefilter *pf)
{
	build_short(pf);
	build_long(pf);
}

static int cmp_where(const void *a, const void *b)
{
	const struct pf_where *x = a, *y = b;

	if (x->field != y->field)
		return x->field < y->field ? -1 : 1;
	return x->lit < y->lit ? -1 : x->lit > y->lit;
}

/* A class's mix: a hash of the literals its fields look for, so fields
 * that look for the same ones share their bits. Two classes that happen
 * to mix alike only share bits: more values go to the exact checks. */
static uint32_t class_mix(const struct pf_where *w, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ w[i].lit) * 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

/* log2 of a region for n literals */
static uint8_t region_log(uint32_t n)
{
	uint8_t lg = PF_REGION_MIN_LOG;

	while (lg < 21 && (1ull << lg) < (uint64_t)n * PF_BITS_PER)
		lg++;
	return lg;
}

struct cls_size {
	uint32_t mix, field;   /* field: FIELD_NONE for keywords */
	uint32_t nlong, nshort;
};

static int cmp_cls_size(const void *a, const void *b)
{
	const struct cls_size *x = a, *y = b;

	if (x->mix != y->mix)
		return x->mix < y->mix ? -1 : 1;
	return x->field < y->field ? -1 : x->field > y->field;
}

/* Each class its regions: fields that look for the same literals (the
 * same mix) share them; offset 0 is an empty region for fields without
 * a class. */
static void place_classes(struct prefilter *pf, struct cls_size *cs, size_t nc)
{
	uint64_t gtot = 1u << PF_REGION_MIN_LOG, ptot = 1u << PF_REGION_MIN_LOG;
	struct pf_class none = { 0 };

	none.gshift = none.pshift = 32 - PF_REGION_MIN_LOG;
	for (uint32_t f = 0; f < pf->nscan; f++)
		pf->cls[f] = none;
	pf->kwcls = none;
	if (nc > 0)
		qsort(cs, nc, sizeof(*cs), cmp_cls_size);
	for (size_t b = 0, e; b < nc; b = e) {
		struct pf_class c = { 0 };
		uint32_t nl = 0, ns = 0;
		uint8_t gl, pl;

		for (e = b; e < nc && cs[e].mix == cs[b].mix; e++) {
			nl = cs[e].nlong > nl ? cs[e].nlong : nl;
			ns = cs[e].nshort > ns ? cs[e].nshort : ns;
		}
		gl = region_log(nl);
		pl = region_log(ns);
		c.mix = cs[b].mix;
		c.goff = (uint32_t)gtot;
		c.poff = (uint32_t)ptot;
		c.gshift = (uint8_t)(32 - gl);
		c.pshift = (uint8_t)(32 - pl);
		gtot += 1ull << gl;
		ptot += 1ull << pl;
		for (size_t i = b; i < e; i++) {
			if (cs[i].field == FIELD_NONE)
				pf->kwcls = c;
			else
				pf->cls[cs[i].field] = c;
		}
	}
	pf->bits = vg_calloc(gtot / 64, sizeof(*pf->bits));
	pf->pairs = vg_calloc(ptot / 64, sizeof(*pf->pairs));
	pf->kwpairs = vg_calloc(65536 / 64, sizeof(*pf->kwpairs));
}

/* Is a field looked up whole rather than scanned? */
static inline int whole_field(const struct prefilter *pf, uint32_t field)
{
	return field < pf->nscan && pf->scan[field] != 0 &&
	    !(pf->scan[field] & PF_PART);
}

/* A 64-bit hash of len bytes at s from seed h: 8 bytes a step, most
 * values are one or two steps. */
static inline uint64_t bytes_hash(const void *s, uint32_t len, uint64_t h)
{
	const char *p = s;
	uint32_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t x;

		memcpy(&x, p + i, 8);
		h = (h ^ x) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (i < len) {
		/* the last 1..7 bytes in a word, without a call to memcpy: two
		 * 4-byte loads that may overlap, or the first, middle and last
		 * of 1..3 bytes (len is in the seed of every caller) */
		uint32_t r = len - i, lo, hi;
		uint64_t x;

		if (r >= 4) {
			memcpy(&lo, p + i, 4);
			memcpy(&hi, p + len - 4, 4);
			x = (uint64_t)hi << 32 | lo;
		} else {
			x = (uint64_t)(uint8_t)p[i] |
			    (uint64_t)(uint8_t)p[i + r / 2] << 8 |
			    (uint64_t)(uint8_t)p[len - 1] << 16;
		}
		h = (h ^ x) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return h;
}

/* Hash of the folded bytes of a value or literal, for the whole-value
 * table. */
static uint32_t whole_hash(const uint8_t *s, uint32_t len)
{
	return (uint32_t)bytes_hash(s, len, 0x9E3779B97F4A7C15ull ^ len);
}

/* The literal whose folded bytes are s[0..len), or UINT32_MAX. */
static inline uint32_t whole_get(const struct prefilter *pf, const uint8_t *s,
    uint32_t len)
{
	for (uint32_t i = whole_hash(s, len) & (pf->xcap - 1); pf->xslot[i] != 0;
	    i = (i + 1) & (pf->xcap - 1)) {
		uint32_t l = pf->xslot[i] - 1;

		if (pf->llen[l] == len &&
		    vg_same_bytes(pf->ltext + pf->loff[l], s, len))
			return l;
	}
	return UINT32_MAX;
}

/* The whole-value table: the literals that whole fields look for (w is
 * sorted and distinct), and each such field's longest. */
static void build_whole(struct prefilter *pf, const struct pf_where *w,
    size_t n)
{
	uint32_t cnt = 0;

	pf->xlen = vg_calloc(pf->nscan + 1, sizeof(*pf->xlen));
	for (size_t i = 0; i < n; i++) {
		if (whole_field(pf, w[i].field))
			cnt++;
	}
	for (pf->xcap = 16; pf->xcap < cnt * 2; pf->xcap *= 2)
		;
	pf->xslot = vg_calloc(pf->xcap, sizeof(*pf->xslot));
	for (size_t i = 0; i < n; i++) {
		uint32_t l = w[i].lit, len = pf->llen[l], s;
		const uint8_t *t = (const uint8_t *)pf->ltext + pf->loff[l];

		if (!whole_field(pf, w[i].field))
			continue;
		if (len > pf->xlen[w[i].field])
			pf->xlen[w[i].field] = len;
		if (whole_get(pf, t, len) != UINT32_MAX)
			continue;
		for (s = whole_hash(t, len) & (pf->xcap - 1); pf->xslot[s] != 0;
		    s = (s + 1) & (pf->xcap - 1))
			;
		pf->xslot[s] = l + 1;
	}
}

void detect_scan_mark(struct prefilter *pf, struct pf_where *w, size_t n)
{
	uint32_t *lgram = vg_calloc(pf->nlits + 1, sizeof(*lgram));
	uint64_t *lgram8 = vg_calloc(pf->nlits + 1, sizeof(*lgram8));
	uint16_t *lfirst = vg_calloc(pf->nlits + 1, sizeof(*lfirst));
	struct cls_size *cs;
	size_t k = 0, nc = 0;

	pf->cls = vg_calloc(pf->nscan + 1, sizeof(*pf->cls));
	pf->fbit = vg_calloc(pf->nscan + 1, sizeof(*pf->fbit));
	for (uint32_t f = 0; f < pf->nscan; f++)
		pf->fbit[f] = field_bit(f);
	pf->first = vg_calloc(pf->nscan + 1, sizeof(*pf->first));
	pf->kwfirst = vg_calloc(1, sizeof(*pf->kwfirst));
	if (n > 0)
		qsort(w, n, sizeof(*w), cmp_where);
	/* the classes: one mix per field, from its (distinct) literals */
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && w[i].field == w[k - 1].field && w[i].lit == w[k - 1].lit)
			continue;
		w[k++] = w[i];
	}
	n = k;
	build_whole(pf, w, n);
	cs = vg_calloc(n + 1, sizeof(*cs));
	for (size_t b = 0, e; b < n; b = e) {
		struct cls_size *c = &cs[nc];

		for (e = b; e < n && w[e].field == w[b].field; e++) {
			uint32_t len = pf->llen[w[e].lit];

			if (len >= 4)
				c->nlong++;
			else if (len >= LIT_MIN)
				c->nshort++;
		}
		if (w[b].field != FIELD_NONE && w[b].field >= pf->nscan) {
			memset(c, 0, sizeof(*c));
			continue; /* never scanned */
		}
		c->mix = class_mix(w + b, e - b);
		c->field = w[b].field;
		nc++;
	}
	place_classes(pf, cs, nc);
	free(cs);
	/* wide fields: every literal they look for has 8 bytes or more
	 * (hashes), so 8-grams are tested, and a hex 4-gram that some hash
	 * is anchored at does not stop the scan */
	for (size_t b = 0, e; b < n; b = e) {
		uint8_t wide = w[b].field != FIELD_NONE && w[b].field < pf->nscan;

		for (e = b; e < n && w[e].field == w[b].field; e++)
			wide &= pf->llen[w[e].lit] >= 8;
		if (wide)
			pf->cls[w[b].field].wide = 1;
	}
	/* each literal's anchor gram, then its bit in each class */
	for (uint32_t a = 0; a < pf->nlong; a++) {
		const struct pf_anchor *an = &pf->anc[a];

		lgram[an->lit] = gram_at(pf->ltext + an->text + an->off);
		if (an->len >= 8)
			memcpy(&lgram8[an->lit], pf->ltext + an->text + an->off, 8);
		lfirst[an->lit] = (uint16_t)((uint8_t)pf->ltext[an->text + an->off] |
		    (uint8_t)pf->ltext[an->text + an->off + 1] << 8);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t l = w[i].lit, b;
		const uint8_t *t = (const uint8_t *)pf->ltext + pf->loff[l];
		const struct pf_class *c;

		if (w[i].field == FIELD_NONE)
			c = &pf->kwcls;
		else if (w[i].field < pf->nscan)
			c = &pf->cls[w[i].field];
		else
			continue; /* never scanned */
		if (pf->llen[l] >= 4) {
			struct pf_first *fi = w[i].field == FIELD_NONE ? pf->kwfirst :
			    &pf->first[w[i].field];
			uint8_t j;

			if (c->wide)
				b = gram8_bit(lgram8[l], c);
			else
				b = gram_bit(lgram[l], c);
			pf->bits[b >> 6] |= 1ull << (b & 63);
			/* the anchor's first pair among the class's few? */
			for (j = 0; j < fi->n && j < PF_FEW && fi->p[j] != lfirst[l]; j++)
				;
			if (j == fi->n && j < PF_FEW)
				fi->p[fi->n++] = lfirst[l];
			else if (j == PF_FEW)
				fi->n = PF_FEW + 1;
		}
		else if (pf->llen[l] >= LIT_MIN && w[i].field == FIELD_NONE)
			pf->kwpairs[pair_at(t) >> 6] |= 1ull << (pair_at(t) & 63);
		else if (pf->llen[l] >= LIT_MIN)
			b = pair_bit(pair_at(t), c),
			    pf->pairs[b >> 6] |= 1ull << (b & 63);
	}
	free(lgram);
	free(lgram8);
	free(lfirst);
}

/* ---- per event ---- */

/* Postings b..e were hit, at `at` (PF_AT_*) in the value: their rules
 * become candidates once they have a literal of each set they need, where
 * they need it. */
static inline void stamp1(const struct prefilter *pf, struct detect_ctx *ctx,
    uint32_t post)
{
	uint32_t r = post >> 1;
	uint8_t m;

	if (ctx->rstamp[r] != ctx->epoch) {
		ctx->rstamp[r] = ctx->epoch;
		ctx->rmask[r] = 0;
	}
	m = ctx->rmask[r] | (uint8_t)(1u << (post & 1));
	if (m == pf->rneed[r]) {
		m |= 0x80;
		ctx->cands[ctx->ncands++] = r;
	}
	ctx->rmask[r] = m;
}

static void stamp(const struct prefilter *pf, struct detect_ctx *ctx,
    uint32_t b, uint32_t e, unsigned at)
{
	for (uint32_t i = b; i < e; i++) {
		if (pf->pat[i] & ~at)
			continue; /* equality, startswith or endswith: not here */
		stamp1(pf, ctx, pf->prule[i]);
	}
}

/*
 * May literal l matter for this event: does the gate of some rule that
 * needs it pass? Gates are mapping entries, evaluated once per event (and
 * only when one of their literals turns up), so a Cisco keyword in a Linux
 * message is dropped after one look at the Cisco logsource.
 */
static int __attribute__((noinline)) gates_try(const struct prefilter *pf,
    struct detect_ctx *ctx, const struct vg_event *ev, uint64_t m)
{
	uint64_t todo;

	for (todo = m & ~ctx->gfail; todo != 0; todo &= todo - 1) {
		unsigned b = (unsigned)__builtin_ctzll(todo);

		if (detect_entry_ok(ctx, ev, pf->gate_entry[b])) {
			ctx->gpass |= 1ull << b;
			return 1;
		}
		ctx->gfail |= 1ull << b;
	}
	return 0;
}

/* The same, answered in line when the event's gates known so far settle
 * it (most literals: a gate that passed already, or none left to try). */
static inline int gates_pass_mask(const struct prefilter *pf,
    struct detect_ctx *ctx, const struct vg_event *ev, uint64_t m)
{
	if ((m & GATE_ALWAYS) || (m & ctx->gpass))
		return 1;
	if ((m & ~ctx->gfail) == 0)
		return 0;
	return gates_try(pf, ctx, ev, m);
}

static int gates_pass(const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, uint32_t l)
{
	return gates_pass_mask(pf, ctx, ev, pf->lits[l].gates);
}

/*
 * The postings of literal l that a value of `field` (kw: keywords look
 * there) can serve: a literal's postings are sorted by field, keywords
 * (FIELD_NONE) first, so the keywords' run starts it and the field's run
 * is found by binary search; a literal that many rules share in other
 * fields costs nothing here. run[0..1): keywords, run[2..3): the field.
 */
static void lit_runs(const struct prefilter *pf, uint32_t l, uint32_t field,
    int kw, uint32_t run[4])
{
	uint32_t b = pf->lits[l].poff, end = pf->lits[l].pend, lo, hi;

	run[0] = run[1] = run[2] = run[3] = b;
	if (b == end)
		return; /* looked for by patterns only, no rule waits for it */
	if (kw && pf->pfield[b] == FIELD_NONE) {
		for (hi = b; hi < end && pf->pfield[hi] == FIELD_NONE; hi++)
			;
		run[1] = hi;
	}
	if (field == UINT32_MAX || field == FIELD_NONE)
		return;
	if (pf->pfield[b] == field && pf->pfield[end - 1] == field) {
		/* the usual literal: all its postings are in this field */
		run[3] = end;
		return;
	}
	/* first posting with pfield >= field */
	for (lo = b, hi = end; lo < hi;) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (pf->pfield[mid] < field)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pf->pfield[end - 1] == field)
		hi = end; /* the field's run ends the literal's */
	else
		for (hi = lo; hi < end && pf->pfield[hi] == field; hi++)
			;
	run[2] = lo;
	run[3] = hi;
}

/*
 * Literal l was found in entry e of field `field` (kw: keywords look
 * here), at `at`: stamp the postings that wait for it there.
 */
static void hit(const struct prefilter *pf, struct detect_ctx *ctx,
    uint32_t l, uint32_t e, uint32_t field, int kw, unsigned at)
{
	struct pf_seen *sn = &ctx->lseen[l];
	unsigned want = at | (kw ? PF_SEEN_KW : 0);
	uint32_t run[4];

	if (sn->epoch == ctx->epoch && sn->entry == e) {
		if ((want & ~(unsigned)sn->at) == 0)
			return; /* already handled for this value */
		/* found again where more postings want it, or by the keyword
		 * scan after the field's lookup: walk them again (a rule
		 * already stamped stays as it is) */
		want |= sn->at;
		at = want & (PF_AT_START | PF_AT_END);
		kw = (want & PF_SEEN_KW) != 0;
	}
	sn->epoch = ctx->epoch;
	sn->entry = e;
	sn->at = (uint8_t)want;
	lit_runs(pf, l, field, kw, run);
	stamp(pf, ctx, run[0], run[1], at);
	stamp(pf, ctx, run[2], run[3], at);
}

/* Short literals are the rule: a byte loop beats a call to memcmp. */
static inline int same(const uint8_t *a, const char *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (a[i] != (uint8_t)b[i])
			return 0;
	}
	return 1;
}

/* Literal l is at [st, st + ll) of the value being scanned (of length
 * len, in a field that looks for it): record it for the value cache, and
 * hit it if its gates pass. */
static inline void found(const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, uint32_t l, uint32_t e, uint32_t field, int kw,
    uint32_t st, uint32_t ll, uint32_t len)
{
	unsigned at = (st == 0 ? PF_AT_START : 0) |
	    (st + ll == len ? PF_AT_END : 0);

	if (ctx->vrec == 1) {
		if (ctx->vstamp[l] != ctx->vserial) {
			ctx->vstamp[l] = ctx->vserial;
			if (ctx->nvfound < VC_FOUND_MAX)
				ctx->vfound[ctx->nvfound++] = l << 2 | at;
			else
				ctx->vrec = 2;
		} else {
			for (uint32_t k = 0; k < ctx->nvfound; k++) {
				if (ctx->vfound[k] >> 2 == l)
					ctx->vfound[k] |= at;
			}
		}
	}
	if (gates_pass(pf, ctx, ev, l))
		hit(pf, ctx, l, e, field, kw, at);
}

/* Position i of the folded value f holds 4-gram g, whose hash bit is
 * set: compare the literals anchored at g, if any. */
static void __attribute__((noinline)) gram_found(const struct prefilter *pf,
    struct detect_ctx *ctx, const struct vg_event *ev, const uint8_t *f,
    uint32_t len, uint32_t i, uint32_t g, uint32_t e, uint32_t field, int kw,
    uint64_t want)
{
	for (uint32_t s = gram_slot(g, pf->gcap); pf->gtab[s].end != 0;
	    s = (s + 1) & (pf->gcap - 1)) {
		const struct pf_gram *gr = &pf->gtab[s];

		if (gr->key != g)
			continue;
		for (uint32_t a = gr->beg; a < gr->end; a++) {
			const struct pf_anchor *an = &pf->anc[a];
			uint64_t head;
			uint32_t st;

			/* looked for in this field (or as a keyword), and room? */
			if (!(an->fields & want) || i < an->off ||
			    i - an->off + an->len > len)
				continue;
			st = i - an->off;
			/* the first bytes, then the rest (the fold buffer has
			 * room for an 8-byte load past the value) */
			memcpy(&head, f + st, 8);
			if ((head & an->hmask) != an->head)
				continue;
			if (an->len > 8 && !same(f + st + 8, pf->ltext + an->text + 8,
			    an->len - 8))
				continue;
			found(pf, ctx, ev, an->lit, e, field, kw, st, an->len, len);
		}
		return;
	}
}

/* Position i of f starts a pair whose bit is set: look the literals of 2
 * and 3 bytes there up. */
static void __attribute__((noinline)) pair_found(const struct prefilter *pf,
    struct detect_ctx *ctx, const struct vg_event *ev, const uint8_t *f,
    uint32_t len, uint32_t i, uint32_t e, uint32_t field, int kw, uint64_t want)
{
	uint32_t s;

	if ((s = short_get(pf, f[i] | (uint32_t)f[i + 1] << 8)) != 0 &&
	    (pf->lits[s - 1].fields & want))
		found(pf, ctx, ev, s - 1, e, field, kw, i, 2, len);
	if (i + 2 < len && (s = short_get(pf, short_key(f + i, 3))) != 0 &&
	    (pf->lits[s - 1].fields & want))
		found(pf, ctx, ev, s - 1, e, field, kw, i, 3, len);
}

/*
 * One pass over the folded value f: at each position, the bit of its
 * 4-gram (long literals) and of its first two bytes (short ones) in the
 * field's class and the keywords' class, as asked; the rest out of line.
 * nl, kl, ns, ks are constants where it is inlined, so each case is a
 * loop of its own. f has 8 defined bytes past len.
 */
static inline __attribute__((always_inline)) void scan_loop(
    const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, const uint8_t *f, uint32_t len, uint32_t e,
    uint32_t field, int kw, uint64_t want, const struct pf_class *cm,
    const struct pf_class *km, int nl, int kl, int ns, int ks, int wd)
{
	const uint64_t *bits = pf->bits, *pairs = pf->pairs, *kwp = pf->kwpairs;
	const struct pf_class c = *cm, k = *km; /* in registers */

	cm = &c;
	km = &k;
	for (uint32_t i = 0; i + 1 < len; i++) {
		uint32_t g = gram_at((const char *)f + i);
		uint32_t pr = pair_at(f + i);
		uint64_t g8 = 0;
		int lg, sh;

		if (wd)
			memcpy(&g8, f + i, 8); /* f has 8 defined bytes past len */
		/* | not ||: both tests, no branch between them */
		lg = (int)(nl && bit_set(bits, wd ? gram8_bit(g8, cm) :
		    gram_bit(g, cm))) |
		    (int)(kl && bit_set(bits, gram_bit(g, km)));
		sh = (int)(ns && bit_set(pairs, pair_bit(pr, cm))) |
		    (int)(ks && bit_set(kwp, pr));

		if (__builtin_expect(lg | sh, 0)) {
			if (lg && i + 4 <= len)
				gram_found(pf, ctx, ev, f, len, i, g, e, field, kw, want);
			if (sh)
				pair_found(pf, ctx, ev, f, len, i, e, field, kw, want);
		}
	}
}

#ifndef __SSE2__
/* The high bit of each zero byte of x is set (and maybe of a byte above
 * one: a borrow), no other: 0 when x has no zero byte. */
static inline uint64_t has_zero(uint64_t x)
{
	return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}
#endif

/*
 * The long literals of one class (m), whose anchors all start with one
 * of fi's few pairs of bytes: 8 positions at a time are let through only
 * when one of them starts such a pair, then each such position is tested
 * as scan_loop does (positions counted from the low byte: little-endian).
 */
static void scan_few(const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, const uint8_t *f, uint32_t len, uint32_t e,
    uint32_t field, int kw, uint64_t want, const struct pf_class *m,
    const struct pf_first *fi)
{
#ifdef __SSE2__
	/* the same, 16 positions at a time: one compare per byte of a pair */
	__m128i r0[PF_FEW], r1[PF_FEW];

	for (uint8_t k = 0; k < fi->n; k++) {
		r0[k] = _mm_set1_epi8((char)(fi->p[k] & 0xff));
		r1[k] = _mm_set1_epi8((char)(fi->p[k] >> 8));
	}
	for (uint32_t i = 0; i + 4 <= len; i += 16) {
		/* f has 16 defined bytes past len */
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(f + i));
		__m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(f + i + 1));
		__m128i acc = _mm_setzero_si128();
		unsigned hit16;

		for (uint8_t k = 0; k < fi->n; k++)
			acc = _mm_or_si128(acc, _mm_and_si128(_mm_cmpeq_epi8(x, r0[k]),
			    _mm_cmpeq_epi8(x1, r1[k])));
		hit16 = (unsigned)_mm_movemask_epi8(acc);
		if (__builtin_expect(hit16 == 0, 1))
			continue;
		for (; hit16 != 0; hit16 &= hit16 - 1) {
			uint32_t j = i + (uint32_t)__builtin_ctz(hit16), g;

			if (j + 4 > len)
				break;
			g = gram_at((const char *)f + j);
			if (bit_set(pf->bits, gram_bit(g, m)))
				gram_found(pf, ctx, ev, f, len, j, g, e, field, kw, want);
		}
	}
#else
	uint64_t rep0[PF_FEW], rep1[PF_FEW];

	for (uint8_t k = 0; k < fi->n; k++) {
		rep0[k] = (fi->p[k] & 0xff) * 0x0101010101010101ull;
		rep1[k] = (uint64_t)(fi->p[k] >> 8) * 0x0101010101010101ull;
	}
	for (uint32_t i = 0; i + 4 <= len; i += 8) {
		uint64_t x, x1, hit8 = 0;

		/* byte j of x is f[i + j], of x1 the one after it (f has 8
		 * defined bytes past len) */
		memcpy(&x, f + i, 8);
		memcpy(&x1, f + i + 1, 8);
		for (uint8_t k = 0; k < fi->n; k++)
			hit8 |= has_zero(x ^ rep0[k]) & has_zero(x1 ^ rep1[k]);
		if (__builtin_expect(hit8 == 0, 1))
			continue;
		/* the positions flagged, in order */
		for (; hit8 != 0; hit8 &= hit8 - 1) {
			uint32_t j = i + (uint32_t)__builtin_ctzll(hit8) / 8, g;

			if (j + 4 > len)
				break;
			g = gram_at((const char *)f + j);
			if (bit_set(pf->bits, gram_bit(g, m)))
				gram_found(pf, ctx, ev, f, len, j, g, e, field, kw, want);
		}
	}
#endif
}

int detect_scan_noavx2;

#if defined(__x86_64__) && defined(__GNUC__) && defined(__SSE2__)
#define SCAN_AVX2 1
#include <immintrin.h>

/* Does the CPU run AVX2 (the scan below)? A load or two and a test. */
static inline int have_avx2(void)
{
	return !detect_scan_noavx2 && __builtin_cpu_supports("avx2");
}

/*
 * scan_few and the fold before it, 32 bytes a step, for CPUs with AVX2
 * (chosen per call by have_avx2; built for them alone, whatever the
 * compiler's flags): the same positions reach gram_found in the same
 * order. text is folded into f (len bytes, then 32 zero bytes).
 */
static __attribute__((target("avx2"))) void fold_avx2(const char *text,
    uint8_t *f, uint32_t len)
{
	const __m256i k3f = _mm256_set1_epi8(0x3f), lim = _mm256_set1_epi8(-102);
	const __m256i sp = _mm256_set1_epi8(0x20);
	uint32_t i = 0;

	for (; i + 32 <= len; i += 32) {
		/* 'A'..'Z' land on -128..-103 once 0x3f is added */
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(text + i));
		__m256i up = _mm256_cmpgt_epi8(lim, _mm256_add_epi8(x, k3f));

		_mm256_storeu_si256((__m256i *)(void *)(f + i),
		    _mm256_or_si256(x, _mm256_and_si256(up, sp)));
	}
	if (i < len && len >= 32) {
		/* the tail: the last 32 bytes again, some folded twice */
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)
		    (text + len - 32));
		__m256i up = _mm256_cmpgt_epi8(lim, _mm256_add_epi8(x, k3f));

		_mm256_storeu_si256((__m256i *)(void *)(f + len - 32),
		    _mm256_or_si256(x, _mm256_and_si256(up, sp)));
		i = len;
	}
	if (i + 16 <= len) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(text + i));
		__m128i up = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x3f)),
		    _mm_set1_epi8(-102));

		_mm_storeu_si128((__m128i *)(void *)(f + i),
		    _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20))));
		i += 16;
	}
	fold_from(f, text, i, len);
	memset(f + len, 0, 32);
}

/* One case of scan_few_avx2: n (1..PF_FEW) is a constant where it is
 * inlined, so the pairs stay in registers and the tests are unrolled. */
static inline __attribute__((always_inline, target("avx2"))) void
scan_few_avx2_n(const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, const uint8_t *f, uint32_t len, uint32_t e,
    uint32_t field, int kw, uint64_t want, const struct pf_class *m,
    const struct pf_first *fi, uint32_t start, int n)
{
	const __m256i a0 = _mm256_set1_epi8((char)(fi->p[0] & 0xff));
	const __m256i b0 = _mm256_set1_epi8((char)(fi->p[0] >> 8));
	const __m256i a1 = _mm256_set1_epi8((char)(fi->p[n > 1] & 0xff));
	const __m256i b1 = _mm256_set1_epi8((char)(fi->p[n > 1] >> 8));
	const __m256i a2 = _mm256_set1_epi8((char)(fi->p[n > 2 ? 2 : 0] & 0xff));
	const __m256i b2 = _mm256_set1_epi8((char)(fi->p[n > 2 ? 2 : 0] >> 8));
	const __m256i a3 = _mm256_set1_epi8((char)(fi->p[n > 3 ? 3 : 0] & 0xff));
	const __m256i b3 = _mm256_set1_epi8((char)(fi->p[n > 3 ? 3 : 0] >> 8));

	for (uint32_t i = start; i + 4 <= len; i += 32) {
		/* f has 32 defined bytes past len */
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(f + i));
		__m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(f + i + 1));
		__m256i acc = _mm256_and_si256(_mm256_cmpeq_epi8(x, a0),
		    _mm256_cmpeq_epi8(x1, b0));
		uint32_t hit32;

		if (n > 1)
			acc = _mm256_or_si256(acc, _mm256_and_si256(
			    _mm256_cmpeq_epi8(x, a1), _mm256_cmpeq_epi8(x1, b1)));
		if (n > 2)
			acc = _mm256_or_si256(acc, _mm256_and_si256(
			    _mm256_cmpeq_epi8(x, a2), _mm256_cmpeq_epi8(x1, b2)));
		if (n > 3)
			acc = _mm256_or_si256(acc, _mm256_and_si256(
			    _mm256_cmpeq_epi8(x, a3), _mm256_cmpeq_epi8(x1, b3)));
		hit32 = (uint32_t)_mm256_movemask_epi8(acc);
		if (__builtin_expect(hit32 == 0, 1))
			continue;
		for (; hit32 != 0; hit32 &= hit32 - 1) {
			uint32_t j = i + (uint32_t)__builtin_ctz(hit32), g;

			if (j + 4 > len)
				break;
			g = gram_at((const char *)f + j);
			if (bit_set(pf->bits, gram_bit(g, m)))
				gram_found(pf, ctx, ev, f, len, j, g, e, field, kw, want);
		}
	}
}

/* scan_few_avx2 from the block of 32 positions at start (a multiple of
 * 32: the blocks before it hold none of fi's pairs). */
static __attribute__((target("avx2"))) void scan_few_avx2(
    const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, const uint8_t *f, uint32_t len, uint32_t e,
    uint32_t field, int kw, uint64_t want, const struct pf_class *m,
    const struct pf_first *fi, uint32_t start)
{
	switch (fi->n) {
	case 1:
		scan_few_avx2_n(pf, ctx, ev, f, len, e, field, kw, want, m, fi,
		    start, 1);
		break;
	case 2:
		scan_few_avx2_n(pf, ctx, ev, f, len, e, field, kw, want, m, fi,
		    start, 2);
		break;
	case 3:
		scan_few_avx2_n(pf, ctx, ev, f, len, e, field, kw, want, m, fi,
		    start, 3);
		break;
	default:
		scan_few_avx2_n(pf, ctx, ev, f, len, e, field, kw, want, m, fi,
		    start, 4);
		break;
	}
}

/* The pairs of fi, each byte | 0x20, as few_mask_avx2 compares them. */
struct few_pairs {
	__m256i a0, b0, a1, b1, a2, b2, a3, b3;
};

/* One case of few_first_avx2 (n constant where it is inlined): the
 * positions of the 32 at p where one of the pairs may start. Every byte
 * is compared | 0x20 with the pair's (folded) bytes | 0x20: a letter
 * there in either case, and the few other bytes that differ from the
 * pair's in that bit only (a control byte for a digit or '.', '`' for
 * '@'), which the scan of the folded value then rules out. */
static inline __attribute__((always_inline, target("avx2"))) uint32_t
few_mask_avx2(const char *p, const struct few_pairs *q, int n)
{
	const __m256i sp = _mm256_set1_epi8(0x20);
	const __m256i x = _mm256_or_si256(sp,
	    _mm256_loadu_si256((const __m256i *)(const void *)p));
	const __m256i x1 = _mm256_or_si256(sp,
	    _mm256_loadu_si256((const __m256i *)(const void *)(p + 1)));
	__m256i acc = _mm256_and_si256(_mm256_cmpeq_epi8(x, q->a0),
	    _mm256_cmpeq_epi8(x1, q->b0));

	if (n > 1)
		acc = _mm256_or_si256(acc, _mm256_and_si256(
		    _mm256_cmpeq_epi8(x, q->a1), _mm256_cmpeq_epi8(x1, q->b1)));
	if (n > 2)
		acc = _mm256_or_si256(acc, _mm256_and_si256(
		    _mm256_cmpeq_epi8(x, q->a2), _mm256_cmpeq_epi8(x1, q->b2)));
	if (n > 3)
		acc = _mm256_or_si256(acc, _mm256_and_si256(
		    _mm256_cmpeq_epi8(x, q->a3), _mm256_cmpeq_epi8(x1, q->b3)));
	return (uint32_t)_mm256_movemask_epi8(acc);
}

static inline __attribute__((always_inline, target("avx2"))) uint32_t
few_first_avx2_n(const char *text, uint32_t len, const struct pf_first *fi,
    int n)
{
	struct few_pairs q;
	uint32_t i, m;

#define FEW_SET(k) \
	q.a##k = _mm256_set1_epi8((char)((fi->p[n > k ? k : 0] | 0x20) & 0xff)); \
	q.b##k = _mm256_set1_epi8((char)((fi->p[n > k ? k : 0] >> 8) | 0x20))
	FEW_SET(0);
	FEW_SET(1);
	FEW_SET(2);
	FEW_SET(3);
#undef FEW_SET
	for (i = 0; i + 33 <= len; i += 32) {
		if (few_mask_avx2(text + i, &q, n) != 0)
			return i;
	}
	if (i + 4 > len)
		return UINT32_MAX;
	if (len >= 33) {
		/* the last 33 bytes again (positions len - 33 on, the ones
		 * before i without a pair): no load past the value */
		uint32_t s = len - 33;

		m = few_mask_avx2(text + s, &q, n) & ((1u << 30) - 1);
		return m != 0 ? (s + (uint32_t)__builtin_ctz(m)) & ~31u :
		    UINT32_MAX;
	}
	{
		/* a short value: from a copy with zero bytes after it */
		uint8_t tail[64];

		_mm256_storeu_si256((__m256i *)(void *)tail, _mm256_setzero_si256());
		_mm256_storeu_si256((__m256i *)(void *)(tail + 32),
		    _mm256_setzero_si256());
		memcpy(tail, text, len);
		/* positions with 4 bytes of the value from them */
		m = few_mask_avx2((const char *)tail, &q, n) &
		    ((1u << (len - 3)) - 1);
		return m != 0 ? 0 : UINT32_MAX;
	}
}

/*
 * The first block of 32 positions of text (unfolded) where one of fi's
 * pairs starts, or UINT32_MAX when none does: most values hold none, and
 * then neither the fold nor scan_few_avx2 is needed.
 */
static __attribute__((target("avx2"))) uint32_t few_first_avx2(
    const char *text, uint32_t len, const struct pf_first *fi)
{
	switch (fi->n) {
	case 1:
		return few_first_avx2_n(text, len, fi, 1);
	case 2:
		return few_first_avx2_n(text, len, fi, 2);
	case 3:
		return few_first_avx2_n(text, len, fi, 3);
	default:
		return few_first_avx2_n(text, len, fi, 4);
	}
}
#endif

/*
 * nhow: PF_SHORT and/or PF_LONG, the kinds of literals the field looks
 * for (0 when none or field is UINT32_MAX); khow the same for keywords
 * (0 when kw is not set). A position is looked at when the bit of its
 * gram is set in the field's class or in the keywords'.
 */
static void __attribute__((noinline)) scan_bytes_all(
    const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, const char *text, uint32_t len, uint32_t e,
    uint32_t field, int kw, unsigned nhow, unsigned khow)
{
	uint8_t *f;
	uint64_t want = (field != UINT32_MAX ? pf->fbit[field] : 0) |
	    (kw ? FIELD_KW : 0);
	const struct pf_class *cm = field != UINT32_MAX ? &pf->cls[field] :
	    &pf->kwcls, *km = &pf->kwcls;
	unsigned nl = (nhow & PF_LONG) != 0, kl = (khow & PF_LONG) != 0;
	unsigned ns = (nhow & PF_SHORT) != 0, ks = (khow & PF_SHORT) != 0;
	unsigned wd = nl && field != UINT32_MAX && pf->cls[field].wide;
	uint32_t i;

	if (len + 32 > ctx->foldcap) {
		ctx->foldcap = len + 264;
		free(ctx->fold);
		ctx->fold = vg_malloc(ctx->foldcap);
	}
	f = ctx->fold;
	i = 0;
#ifdef SCAN_AVX2
	if (!ns && !ks && (nl ^ kl) && !wd && pf->nlong > 0 && have_avx2()) {
		/* the message's keywords, mostly: fold and scan 32 at a time */
		const struct pf_first *fi = nl ? &pf->first[field] : pf->kwfirst;

		if (fi->n >= 1 && fi->n <= PF_FEW) {
			uint32_t b = few_first_avx2(text, len, fi);

			if (b == UINT32_MAX)
				return;
			fold_avx2(text, f, len);
			scan_few_avx2(pf, ctx, ev, f, len, e, field, kw, want,
			    nl ? cm : km, fi, b);
			return;
		}
	}
#endif
#ifdef __SSE2__
	for (; i + 16 <= len; i += 16) {
		/* 'A'..'Z' land on -128..-103 once 0x3f is added */
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(text + i));
		__m128i up = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x3f)),
		    _mm_set1_epi8(-102));

		_mm_storeu_si128((__m128i *)(void *)(f + i),
		    _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20))));
	}
#endif
	fold_from(f, text, i, len);
	memset(f + len, 0, 16); /* defined bytes for the wide loads */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ /* scan_few counts bytes so */
	if (!ns && !ks && (nl ^ kl) && !wd && pf->nlong > 0) {
		const struct pf_first *fi = nl ? &pf->first[field] : pf->kwfirst;

		if (fi->n <= PF_FEW) {
			scan_few(pf, ctx, ev, f, len, e, field, kw, want,
			    nl ? cm : km, fi);
			return;
		}
	}
#endif
	switch ((nl && pf->nlong > 0) | (kl && pf->nlong > 0) << 1 |
	    (ns && pf->scap > 0) << 2 | (ks && pf->scap > 0) << 3 |
	    (wd && pf->nlong > 0) << 4) {
#define SCAN_CASE(m) case m: \
		scan_loop(pf, ctx, ev, f, len, e, field, kw, want, cm, km, \
		    (m) & 1, (m) >> 1 & 1, (m) >> 2 & 1, (m) >> 3 & 1, (m) >> 4); \
		break;
	SCAN_CASE(1) SCAN_CASE(2) SCAN_CASE(3) SCAN_CASE(4) SCAN_CASE(5)
	SCAN_CASE(6) SCAN_CASE(7) SCAN_CASE(8) SCAN_CASE(9) SCAN_CASE(10)
	SCAN_CASE(11) SCAN_CASE(12) SCAN_CASE(13) SCAN_CASE(14) SCAN_CASE(15)
	/* wide: with the field's long literals only */
	SCAN_CASE(17) SCAN_CASE(19) SCAN_CASE(21) SCAN_CASE(23)
	SCAN_CASE(25) SCAN_CASE(27) SCAN_CASE(29) SCAN_CASE(31)
#undef SCAN_CASE
	default:
		break;
	}
}

/* scan_bytes_all, with its usual case in line where a value is read: a
 * field (or the keywords) with a few long literals' first bytes, on a CPU
 * with AVX2, whose fold buffer has room. */
static inline __attribute__((always_inline)) void scan_bytes(
    const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, const char *text, uint32_t len, uint32_t e,
    uint32_t field, int kw, unsigned nhow, unsigned khow)
{
#ifdef SCAN_AVX2
	unsigned nl = (nhow & PF_LONG) != 0, kl = (khow & PF_LONG) != 0;

	if (((nhow | khow) & PF_SHORT) == 0 && (nl ^ kl) &&
	    len + 32 <= ctx->foldcap && pf->nlong > 0 &&
	    !(nl && field != UINT32_MAX && pf->cls[field].wide) && have_avx2()) {
		const struct pf_first *fi = nl ? &pf->first[field] : pf->kwfirst;

		if (fi->n >= 1 && fi->n <= PF_FEW) {
			uint64_t want = (field != UINT32_MAX ? pf->fbit[field] : 0) |
			    (kw ? FIELD_KW : 0);
			const struct pf_class *m = nl ? (field != UINT32_MAX ?
			    &pf->cls[field] : &pf->kwcls) : &pf->kwcls;

			uint32_t b = few_first_avx2(text, len, fi);

			if (b == UINT32_MAX)
				return;
			fold_avx2(text, ctx->fold, len);
			scan_few_avx2(pf, ctx, ev, ctx->fold, len, e, field, kw,
			    want, m, fi, b);
			return;
		}
	}
#endif
	scan_bytes_all(pf, ctx, ev, text, len, e, field, kw, nhow, khow);
}

static uint64_t value_hash(const char *s, uint32_t len, uint32_t field, int kw)
{
	uint64_t seed = 0x9E3779B97F4A7C15ull ^
	    ((uint64_t)field << 1 | (uint64_t)kw) ^ (uint64_t)len << 40;

	return bytes_hash(s, len, seed) | 1; /* 0 marks an empty slot */
}

/* Is the record of slot v still whole, and for this value? */
static const uint8_t *vc_record(const struct detect_ctx *ctx,
    const struct vc_slot *v, uint64_t h, const char *text, uint32_t len,
    uint32_t field, int kw)
{
	const uint8_t *rec;

	if (v->hash != h || v->len != len || v->field != field || v->kw != kw ||
	    v->pos + VC_RING < ctx->vwpos)
		return NULL;
	rec = ctx->vring + v->pos % VC_RING;
	return vg_same_bytes(rec, text, len) ? rec : NULL;
}

/*
 * Keep what the scan of a value found, in slot v: the value's bytes, then
 * per literal found its id and where (PF_AT_*), its gates and the
 * postings it serves in this field at that place, so that a replay
 * touches the record and the rules' stamps only. A record too big for
 * the scratch space is not kept.
 */
static void vc_store(const struct prefilter *pf, struct detect_ctx *ctx,
    struct vc_slot *v, uint64_t h, const char *text, uint32_t len,
    uint32_t field, int kw)
{
	uint32_t pad = (len + 3) & ~3u, need, nw = 0;
	uint32_t *w = ctx->vwords;
	uint64_t at;

	for (uint32_t k = 0; k < ctx->nvfound; k++) {
		uint32_t l = ctx->vfound[k] >> 2, where = ctx->vfound[k] & 3;
		uint32_t run[4], np = 0, head = nw;

		if (nw + 4 > VC_WORDS)
			return;
		lit_runs(pf, l, field, kw, run);
		w[nw++] = ctx->vfound[k];
		nw++; /* the count, below */
		w[nw++] = (uint32_t)pf->lits[l].gates;
		w[nw++] = (uint32_t)(pf->lits[l].gates >> 32);
		for (int r = 0; r < 4; r += 2) {
			for (uint32_t i = run[r]; i < run[r + 1]; i++) {
				if (pf->pat[i] & ~where)
					continue;
				if (nw == VC_WORDS)
					return;
				w[nw++] = pf->prule[i];
				np++;
			}
		}
		w[head + 1] = np;
	}
	need = pad + nw * 4;
	at = ctx->vwpos;
	if (at % VC_RING + need > VC_RING)
		at += VC_RING - at % VC_RING; /* records do not wrap */
	memcpy(ctx->vring + at % VC_RING, text, len);
	memcpy(ctx->vring + at % VC_RING + pad, w, nw * 4);
	ctx->vwpos = at + need;
	v->hash = h;
	v->pos = at;
	v->field = field;
	v->len = len;
	v->nfound = ctx->nvfound;
	v->kw = (uint8_t)kw;
}

/* Replay the record of a value (entry e) that the scan of the same bytes
 * in the same field found: as found() would, literal by literal. */
static void vc_replay(const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, const uint32_t *q, uint32_t nfound, uint32_t e,
    uint32_t field, int kw)
{
	for (uint32_t k = 0; k < nfound; k++) {
		uint32_t l = q[0] >> 2, at = q[0] & 3, np = q[1];
		uint64_t gates = (uint64_t)q[3] << 32 | q[2];
		const uint32_t *post = q + 4;
		struct pf_seen *sn;

		q = post + np;
		if (!gates_pass_mask(pf, ctx, ev, gates))
			continue;
		sn = &ctx->lseen[l];
		if (sn->epoch == ctx->epoch && sn->entry == e) {
			/* seen in this entry already (a number's other text):
			 * hit() merges the places */
			hit(pf, ctx, l, e, field, kw, at);
			continue;
		}
		sn->epoch = ctx->epoch;
		sn->entry = e;
		sn->at = (uint8_t)(at | (kw ? PF_SEEN_KW : 0));
		for (uint32_t i = 0; i < np; i++)
			stamp1(pf, ctx, post[i]);
	}
}

/*
 * Scan a value, or replay what the scan of the same bytes in the same
 * field found before. Fields whose values do not repeat (hashes, GUIDs,
 * times) are scanned without looking: 1 in 4 values must have been seen
 * for the lookups to pay.
 */
static void __attribute__((noinline)) scan_cached(const struct prefilter *pf,
    struct detect_ctx *ctx, const struct vg_event *ev, const char *text,
    uint32_t len, uint32_t e, uint32_t field, int kw, unsigned nhow,
    unsigned khow, struct vc_stat *st)
{
	struct vc_slot *v;
	const uint8_t *rec;
	uint64_t h;

	h = value_hash(text, len, field, kw);
	v = &ctx->vslots[h >> (64 - VC_SLOTS_LOG)];
	if (++st->looks == 1024) {
		if (st->hits < 256)
			st->skip = 16384;
		st->looks = st->hits = 0;
	}
	if ((rec = vc_record(ctx, v, h, text, len, field, kw)) != NULL) {
		st->hits++;
		vc_replay(pf, ctx, ev, (const uint32_t *)(const void *)
		    (rec + ((len + 3) & ~3u)), v->nfound, e, field, kw);
		return;
	}
	if (++ctx->vserial == 0) {
		memset(ctx->vstamp, 0, pf->nlits * sizeof(*ctx->vstamp));
		ctx->vserial = 1;
	}
	ctx->nvfound = 0;
	ctx->vrec = 1;
	scan_bytes(pf, ctx, ev, text, len, e, field, kw, nhow, khow);
	if (ctx->vrec == 1)
		vc_store(pf, ctx, v, h, text, len, field, kw);
	ctx->vrec = 0;
}

/* In line where an entry is read: the values that are only scanned go
 * straight to the scan. */
static inline __attribute__((always_inline)) void scan_value(
    const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, const char *text, uint32_t len, uint32_t e,
    uint32_t field, int kw, unsigned nhow, unsigned khow)
{
	struct vc_stat *st = &ctx->vstat[field < pf->nscan ? field : pf->nscan];

	if (len < VC_MIN || len > VC_MAX || st->skip > 0) {
		if (st->skip > 0)
			st->skip--;
		scan_bytes(pf, ctx, ev, text, len, e, field, kw, nhow, khow);
		return;
	}
	scan_cached(pf, ctx, ev, text, len, e, field, kw, nhow, khow, st);
}

/*
 * A value of a whole field (entry e): its literals are compared with the
 * whole value, so one lookup of its folded bytes finds the only one it
 * can be; a value longer than the field's longest literal is none.
 */
static void whole_value(const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, const char *text, uint32_t len, uint32_t e,
    uint32_t field)
{
	uint8_t f[64];
	uint8_t *fo = f;
	uint32_t i, l;

	if (len < LIT_MIN || len > pf->xlen[field])
		return;
	if (len > sizeof(f)) {
		if (len > ctx->foldcap) {
			ctx->foldcap = len + 264;
			free(ctx->fold);
			ctx->fold = vg_malloc(ctx->foldcap);
		}
		fo = ctx->fold;
	}
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t x;

		memcpy(&x, text + i, 8);
		x = fold8(x);
		memcpy(fo + i, &x, 8);
	}
	if (i == len) {
		/* whole words */
	} else if (len >= 8) {
		/* the last 8 bytes, some folded again (to the same bytes) */
		uint64_t x;

		memcpy(&x, text + len - 8, 8);
		x = fold8(x);
		memcpy(fo + len - 8, &x, 8);
	} else if (len >= 4) {
		/* 4..7 bytes: two 4-byte halves that may overlap */
		uint32_t a, b;
		uint64_t x;

		memcpy(&a, text, 4);
		memcpy(&b, text + len - 4, 4);
		x = fold8((uint64_t)b << 32 | a);
		a = (uint32_t)x;
		b = (uint32_t)(x >> 32);
		memcpy(fo + len - 4, &b, 4);
		memcpy(fo, &a, 4);
	} else {
		for (; i < len; i++)
			fo[i] = (uint8_t)vg_lower((unsigned char)text[i]);
	}
	l = whole_get(pf, fo, len);
	if (l != UINT32_MAX && (pf->lits[l].fields & pf->fbit[field]))
		found(pf, ctx, ev, l, e, field, 0, 0, len, len);
}

/* Is the text of a number already its canonical text (detect_int_text):
 * digits without a leading zero, a '-' before any but 0, no more than 15,
 * and the number they spell? Then the canonical text, the same bytes,
 * would find what the text found: it is neither made nor read again. */
static inline int num_is_canon(const struct value *v)
{
	const char *s = v->s;
	uint32_t i = s[0] == '-', n = v->len;
	long long x = 0;

	if (n <= i || n - i > 15 || (s[i] == '0' && (n - i > 1 || i)))
		return 0;
	for (uint32_t k = i; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return 0;
		x = x * 10 + (s[k] - '0');
	}
	return (double)(i ? -x : x) == v->num;
}

/* One value of a field that the scan reads (entry e): looked up whole or
 * scanned (named: pf.scan's bits for the field; kw: keywords look here). */
static inline __attribute__((always_inline)) void index_entry(
    const struct prefilter *pf, struct detect_ctx *ctx,
    const struct vg_event *ev, uint32_t e, unsigned named, int kw)
{
	const struct fent *f = &ev->ents[e];
	unsigned khow = kw ? pf->kwscan : 0;

	if ((named | khow) == 0)
		return;
	if (named != 0 && !(named & PF_PART)) {
		/* a whole field: looked up, then scanned for keywords */
		whole_value(pf, ctx, ev, f->v.s, f->v.len, e, f->id);
		if (f->v.kind == V_NUM && !num_is_canon(&f->v)) {
			char canon[32];

			if (detect_int_text(f->v.num, canon))
				whole_value(pf, ctx, ev, canon,
				    (uint32_t)strlen(canon), e, f->id);
		}
		if (khow == 0)
			return;
		named = 0;
	}
	scan_value(pf, ctx, ev, f->v.s, f->v.len, e,
	    named ? f->id : UINT32_MAX, kw, named, khow);
	if (f->v.kind == V_NUM && !num_is_canon(&f->v)) {
		/* 4688 matches a number whatever its text ("4688.0") */
		char canon[32];

		if (detect_int_text(f->v.num, canon))
			scan_value(pf, ctx, ev, canon, (uint32_t)strlen(canon), e,
			    named ? f->id : UINT32_MAX, kw, named, khow);
	}
}

void detect_index_scan(const struct ruleset *rs, struct detect_ctx *ctx,
    const struct vg_event *ev)
{
	const struct prefilter *pf = &rs->pf;
	/* in locals: the calls below write through ctx, which the compiler
	 * cannot tell apart from the tables */
	const uint8_t *act = rs->act;
	const struct fent *ents = ev->ents;
	const uint32_t n = ev->n;

	ctx->ncands = 0;
	if (pf->nindexed == 0)
		return;
	ctx->scanned = ctx->epoch;
	ctx->gpass = ctx->gfail = 0;
	if (pf->keywords && vg_event_first(ev, F_MESSAGE) == FENT_END) {
		/* no message: keywords look at every string */
		for (uint32_t e = 0; e < n; e++) {
			const struct fent *f = &ents[e];
			unsigned named = f->id < pf->nscan ? pf->scan[f->id] : 0;

			if (!f->dead && f->v.kind != V_NULL)
				index_entry(pf, ctx, ev, e, named, f->v.kind == V_STR);
		}
		return;
	}
	for (uint32_t e = 0; e < n; e++) {
		/* act has a byte for every id: no bounds to check */
		unsigned a = act[ents[e].id & (FIELD_MAX - 1)];

		/* most entries: nothing looks at their field */
		if (a == 0 || ents[e].dead || ents[e].v.kind == V_NULL)
			continue;
		index_entry(pf, ctx, ev, e, a & ~(unsigned)ACT_KW, (a & ACT_KW) != 0);
	}
}
