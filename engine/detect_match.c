/*
 * detect_match.c: evaluation of compiled Sigma detections against one event.
 * This is the hot path: it never allocates, never logs, and compares bytes
 * against patterns that were lowercased at load time (ASCII folding of the
 * event's bytes happens on the fly). Regex limits that are hit count as a
 * non-match and are counted on the context.
 *
 * It does not compile anything: see detect_sel.c and detect_cond.c.
 */
#include "detect_int.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vgtime.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The n (1..3) bytes at s, little-endian, in a word. */
static inline uint64_t load_few(const char *s, size_t n)
{
	uint64_t x = (unsigned char)s[0];

	if (n > 1)
		x |= (uint64_t)(unsigned char)s[1] << 8;
	if (n > 2)
		x |= (uint64_t)(unsigned char)s[2] << 16;
	return x;
}

static inline uint64_t load4(const char *s)
{
	uint32_t x;

	memcpy(&x, s, 4);
	return x;
}

/*
 * Does v (n bytes, any case) equal the folded p (n bytes)? Whole words:
 * 8 bytes at a time and the last 8 again (overlapping), or two 4-byte
 * halves that may overlap, never reading outside either string.
 */
static inline __attribute__((always_inline)) int same_fold(const char *v,
    const char *p, size_t n)
{
	size_t i = 0;
	uint64_t a, b;

	if (n >= 8) {
		for (; i + 8 <= n; i += 8) {
			memcpy(&a, v + i, 8);
			memcpy(&b, p + i, 8);
			if (fold8(a) != b)
				return 0;
		}
		if (i == n)
			return 1;
		memcpy(&a, v + n - 8, 8);
		memcpy(&b, p + n - 8, 8);
		return fold8(a) == b;
	}
	if (n >= 4)
		return fold8(load4(v) | load4(v + n - 4) << 32) ==
		    (load4(p) | load4(p + n - 4) << 32);
	if (n == 0)
		return 1;
	return fold8(load_few(v, n)) == load_few(p, n);
}

static int eq_fold(const char *v, size_t vl, const char *p, size_t pl)
{
	return vl == pl && same_fold(v, p, pl);
}

/* Both sides folded. */
static int eq_fold2(const char *a, const char *b, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (fold8(x) != fold8(y))
			return 0;
	}
	for (; i < n; i++) {
		if (vg_lower((unsigned char)a[i]) != vg_lower((unsigned char)b[i]))
			return 0;
	}
	return 1;
}

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#ifdef __SSE2__
#define FIND_WIDE 64   /* haystacks this long are searched 16 at a time */

/*
 * find_fold over a long haystack (FIND_WIDE bytes or more) for a needle
 * of 2 bytes or more: 16 positions at a time are tested for the needle's
 * first two bytes in either case (a lowercase letter of the needle is
 * compared with the byte | 0x20, anything else exactly), then the rest
 * of the few that have them. The last 16 positions are an overlapping
 * block that ends with the haystack: no load reads past it.
 */
static const char *find_fold_wide(const char *h, size_t hl, const char *n,
    size_t nl)
{
	const unsigned char c0 = (unsigned char)n[0], c1 = (unsigned char)n[1];
	const __m128i v0 = _mm_set1_epi8((char)c0), v1 = _mm_set1_epi8((char)c1);
	const __m128i m0 = _mm_set1_epi8(c0 >= 'a' && c0 <= 'z' ? 0x20 : 0);
	const __m128i m1 = _mm_set1_epi8(c1 >= 'a' && c1 <= 'z' ? 0x20 : 0);
	const size_t last = hl - nl; /* the last position it may start at */
	size_t i = 0;

	if ((c0 >= 'A' && c0 <= 'Z') || (c1 >= 'A' && c1 <= 'Z'))
		return NULL; /* a folded needle has no capitals */
	for (;;) {
		size_t b = i + 17 <= hl ? i : hl - 17;
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(h + b));
		__m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(h + b + 1));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(
		    _mm_cmpeq_epi8(_mm_or_si128(x, m0), v0),
		    _mm_cmpeq_epi8(_mm_or_si128(x1, m1), v1)));

		m &= ~0u << (i - b);           /* the positions before i: done */
		if (last - b < 15)
			m &= (2u << (last - b)) - 1; /* none after last */
		for (; m != 0; m &= m - 1) {
			size_t j = b + (size_t)__builtin_ctz(m);

			if (same_fold(h + j + 2, n + 2, nl - 2))
				return h + j;
		}
		if (b + 16 > last)
			return NULL;
		i = b + 16;
	}
}
#endif

/* Position of lowercased needle n in h, folding h; NULL if absent. */
static const char *find_fold(const char *h, size_t hl, const char *n, size_t nl)
{
	const char *end, *q;
	unsigned char c0;

	if (nl == 0)
		return h;
	if (hl < nl)
		return NULL;
#ifdef __SSE2__
	if (hl >= FIND_WIDE && nl >= 2)
		return find_fold_wide(h, hl, n, nl);
#endif
	end = h + (hl - nl) + 1;
	c0 = (unsigned char)n[0];
	if (is_alpha(c0)) {
		/* the nearer of the two cases, each found by memchr (a byte
		 * loop over a long command line costs more) */
		const char *lo, *up;

		if (c0 < 'a')
			return NULL; /* a folded needle has no capitals */
		lo = memchr(h, c0, (size_t)(end - h));
		up = memchr(h, c0 - 32, (size_t)(end - h));
		while (lo != NULL || up != NULL) {
			if (up == NULL || (lo != NULL && lo < up)) {
				q = lo;
				lo = memchr(lo + 1, c0, (size_t)(end - lo - 1));
			} else {
				q = up;
				up = memchr(up + 1, c0 - 32, (size_t)(end - up - 1));
			}
			if (eq_fold(q + 1, nl - 1, n + 1, nl - 1))
				return q;
		}
		return NULL;
	}
	for (q = h; q < end; q++) {
		/* no case to fold: let memchr skip ahead */
		q = memchr(q, c0, (size_t)(end - q));
		if (q == NULL)
			return NULL;
		if (eq_fold(q + 1, nl - 1, n + 1, nl - 1))
			return q;
	}
	return NULL;
}

static int str_match(const struct pat *p, const char *s, size_t n, int cased)
{
	switch (p->kind) {
	case PK_EQ:
		if (cased)
			return n == p->len && memcmp(s, p->s, n) == 0;
		return eq_fold(s, n, p->s, p->len);
	case PK_PREFIX:
		if (n < p->len)
			return 0;
		if (cased)
			return memcmp(s, p->s, p->len) == 0;
		return eq_fold(s, p->len, p->s, p->len);
	case PK_SUFFIX:
		if (n < p->len)
			return 0;
		if (cased)
			return memcmp(s + n - p->len, p->s, p->len) == 0;
		return eq_fold(s + n - p->len, p->len, p->s, p->len);
	case PK_CONTAINS:
		if (cased)
			return memmem(s, n, p->s, p->len) != NULL;
		return find_fold(s, n, p->s, p->len) != NULL;
	case PK_ANY:
		return 1;
	}
	return 0;
}

/* Bytes of the character starting at s (1 for invalid UTF-8). */
static size_t char_len(const unsigned char *s, size_t n)
{
	size_t len = 1;

	if (s[0] < 0xC0)
		return 1;
	while (len < 4 && len < n && (s[len] & 0xC0) == 0x80)
		len++;
	return len;
}

/*
 * Wildcard match with backtracking to the last star only: segments between
 * stars have a fixed number of characters, so the leftmost placement of
 * each is always the right one. `?` is one UTF-8 character.
 */
static int glob_match(const uint16_t *t, uint32_t nt, const char *str,
    size_t n, int cased)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t ti = 0, star_t = UINT32_MAX;
	size_t si = 0, star_s = 0;

	while (si < n) {
		if (ti < nt && t[ti] == TOK_STAR) {
			star_t = ti++;
			star_s = si;
			continue;
		}
		if (ti < nt && t[ti] == TOK_QMARK) {
			si += char_len(s + si, n - si);
			ti++;
			continue;
		}
		if (ti < nt && t[ti] == (cased ? s[si] : vg_lower(s[si]))) {
			si++;
			ti++;
			continue;
		}
		if (star_t == UINT32_MAX)
			return 0;
		ti = star_t + 1;
		star_s += char_len(s + star_s, n - star_s);
		si = star_s;
	}
	while (ti < nt && t[ti] == TOK_STAR)
		ti++;
	return ti == nt;
}

int detect_addr_parse(const char *s, size_t len, uint8_t out[16], int *v4)
{
	char tmp[64];
	const char *pct;
	struct in_addr a4;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if ((pct = memchr(s, '%', len)) != NULL)
		len = (size_t)(pct - s); /* fe80::1%eth0: the zone is not part of it */
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, &a4) == 1) {
		memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		if (v4 != NULL)
			*v4 = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, out) == 1) {
		if (v4 != NULL)
			*v4 = 0;
		return 0;
	}
	return -1;
}

static int is_mapped(const uint8_t a[16])
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, pre, 12) == 0;
}

static int cidr_match(const struct pat *p, const char *s, size_t n)
{
	uint8_t a[16];
	unsigned bits = p->plen, i;

	if (detect_addr_parse(s, n, a, NULL) < 0)
		return 0;
	/* an IPv6 network such as ::/0 holds no IPv4 host (nor its mapped form) */
	if (!p->v4 && is_mapped(a))
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8) {
		if (a[i] != p->addr[i])
			return 0;
	}
	if (bits > 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((a[i] & mask) != (p->addr[i] & mask))
			return 0;
	}
	return 1;
}

/* The value as a number: numbers as they are, text if it is all number. */
static int value_num(const struct value *v, double *out)
{
	char *end;

	if (v->kind == V_NUM) {
		*out = v->num;
		return 0;
	}
	if (v->kind != V_STR || v->len == 0 || v->len > 64)
		return -1;
	if (v->s[0] == ' ' || v->s[0] == '\t' || v->s[0] == '\n')
		return -1;
	*out = strtod(v->s, &end);
	if (end != v->s + v->len || isnan(*out))
		return -1;
	return 0;
}

/* Part of a date value (ISO 8601 text), for the time modifiers. */
static int value_time_part(const struct value *v, int part, double *out)
{
	int64_t ms, days, y;
	unsigned m, d;
	int64_t sod;

	if (v->kind != V_STR || vgtime_parse_iso(v->s, v->len, 0, &ms) == 0)
		return -1;
	days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	sod = (ms - days * 86400000) / 1000;
	vgtime_civil_from_days(days, &y, &m, &d);
	switch (part) {
	case TP_MINUTE:
		*out = (double)((sod / 60) % 60);
		return 0;
	case TP_HOUR:
		*out = (double)(sod / 3600);
		return 0;
	case TP_DAY:
		*out = d;
		return 0;
	case TP_MONTH:
		*out = m;
		return 0;
	case TP_YEAR:
		*out = (double)y;
		return 0;
	case TP_WEEK: {
		/* ISO 8601 week: the week holding the year's first Thursday */
		int64_t wd = ((days % 7) + 7 + 3) % 7; /* 0 = Monday; 1970-01-01 was a Thursday */
		int64_t thu = days - wd + 3, ty, jan1;
		unsigned tm, td;

		vgtime_civil_from_days(thu, &ty, &tm, &td);
		jan1 = vgtime_days_from_civil(ty, 1, 1);
		*out = (double)((thu - jan1) / 7 + 1);
		return 0;
	}
	}
	return -1;
}

static int num_cmp(int kind, double a, double b)
{
	switch (kind) {
	case PK_LT:
		return a < b;
	case PK_LTE:
		return a <= b;
	case PK_GT:
		return a > b;
	case PK_GTE:
		return a >= b;
	case PK_EQ:
		return a == b;
	}
	return 0;
}

static int re_match(struct detect_ctx *ctx, const struct pat *p, const char *s,
    size_t n)
{
	int rc;

	if (p->jit)
		rc = pcre2_jit_match(p->re, (PCRE2_SPTR)s, n, 0, 0, ctx->md, ctx->mctx);
	else
		rc = pcre2_match(p->re, (PCRE2_SPTR)s, n, 0, 0, ctx->md, ctx->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
		ctx->re_limit_hits++;
		if (ctx->cur != NULL)
			ctx->re_limit_rule = ctx->cur;
	}
	return 0;
}

static int ref_match(const struct vg_event *ev, const struct fcond *fc,
    const struct pat *p, const struct value *v)
{
	for (uint32_t f = 0; f < p->nrefs; f++) {
		for (uint32_t i = vg_event_first(ev, p->refs[f]); i != FENT_END;
		    i = ev->ents[i].next) {
			const struct value *w = &ev->ents[i].v;

			if (w->len != v->len || w->kind == V_NULL)
				continue;
			if (fc->cased ? memcmp(w->s, v->s, v->len) == 0 :
			    eq_fold2(w->s, v->s, v->len))
				return 1;
		}
	}
	return 0;
}

/* The matcher's own copy, inlined into the loops over patterns. */
static inline __attribute__((always_inline)) int pat_match(
    struct detect_ctx *ctx, const struct vg_event *ev, const struct fcond *fc,
    const struct pat *p, const struct value *v)
{
	double x;

	if (v->kind == V_NULL)
		return 0;
	/* the literal every match holds is nowhere in the event */
	if (p->lit != 0 && ctx->scanned == ctx->epoch &&
	    ctx->lseen[p->lit - 1].epoch != ctx->epoch)
		return 0;
	if (fc->tpart != TP_NONE) {
		if (value_time_part(v, fc->tpart, &x) < 0)
			return 0;
		return num_cmp(p->kind, x, p->num);
	}
	switch (p->kind) {
	case PK_EQ:
		if (p->isnum && v->kind == V_NUM)
			return v->num == p->num;
		if (!fc->cased) /* the usual case, without a call */
			return v->len == p->len && same_fold(v->s, p->s, p->len);
		return str_match(p, v->s, v->len, fc->cased);
	case PK_PREFIX:
	case PK_SUFFIX:
	case PK_CONTAINS:
	case PK_ANY:
		return str_match(p, v->s, v->len, fc->cased);
	case PK_GLOB:
		return glob_match(p->tok, p->ntok, v->s, v->len, fc->cased);
	case PK_RE:
		/* too short, or without the bytes every match holds */
		if (v->len < p->remin || (p->relen > 0 &&
		    find_fold(v->s, v->len, p->relit, p->relen) == NULL))
			return 0;
		return re_match(ctx, p, v->s, v->len);
	case PK_CIDR:
		return cidr_match(p, v->s, v->len);
	case PK_LT:
	case PK_LTE:
	case PK_GT:
	case PK_GTE:
		if (v->kind == V_BOOL || value_num(v, &x) < 0)
			return 0;
		return num_cmp(p->kind, x, p->num);
	case PK_REF:
		return ref_match(ev, fc, p, v);
	}
	return 0;
}

int detect_pat_match(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc, const struct pat *p, const struct value *v)
{
	return pat_match(ctx, ev, fc, p, v);
}

/* Walks the values a field condition looks at. */
struct viter {
	const struct vg_event *ev;
	const struct fcond *fc;
	uint32_t fi;   /* next field of fc->fields */
	uint32_t ei;   /* current entry, FENT_END when a field is done */
	int scan;      /* keyword without message: every string entry */
};

static void viter_init(struct viter *it, const struct vg_event *ev,
    const struct fcond *fc)
{
	it->ev = ev;
	it->fc = fc;
	it->fi = 0;
	it->scan = 0;
	if (fc->keyword) {
		it->ei = vg_event_first(ev, F_MESSAGE);
		if (it->ei == FENT_END) {
			it->scan = 1;
			it->ei = 0;
		}
		it->fi = UINT32_MAX;
	} else {
		it->ei = FENT_END;
	}
}

static inline __attribute__((always_inline)) const struct value *
viter_next(struct viter *it)
{
	const struct vg_event *ev = it->ev;

	if (it->scan) {
		while (it->ei < ev->n) {
			const struct fent *e = &ev->ents[it->ei++];

			if (!e->dead && e->v.kind == V_STR)
				return &e->v;
		}
		return NULL;
	}
	for (;;) {
		if (it->ei != FENT_END) {
			const struct value *v = &ev->ents[it->ei].v;

			it->ei = ev->ents[it->ei].next;
			return v;
		}
		if (it->fi >= it->fc->nfields)
			return NULL;
		it->ei = vg_event_first(ev, it->fc->fields[it->fi++]);
	}
}

/* Is the literal of pattern k of fc (that every match holds) known to be
 * absent from the event? Read from fc->lits, not the pattern's own line. */
static inline int lit_absent(const struct detect_ctx *ctx,
    const struct fcond *fc, uint32_t k)
{
	uint32_t l = fc->lits != NULL ? fc->lits[k] : 0;

	return l != 0 && ctx->scanned == ctx->epoch &&
	    ctx->lseen[l - 1].epoch != ctx->epoch;
}

/* Does some value match one of the patterns pats[b..e)? */
static int any_value(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc, uint32_t b, uint32_t e)
{
	struct viter it;
	const struct value *v;

	viter_init(&it, ev, fc);
	while ((v = viter_next(&it)) != NULL) {
		for (uint32_t k = b; k < e; k++) {
			if (!lit_absent(ctx, fc, k) &&
			    pat_match(ctx, ev, fc, &fc->pats[k], v))
				return 1;
		}
	}
	return 0;
}

uint32_t detect_grp_end(const struct fcond *fc, uint32_t b)
{
	uint32_t e = b + 1;

	while (e < fc->npats && fc->pats[e].grp == fc->pats[b].grp)
		e++;
	return e;
}

/* The field condition, inlined where a selection reaches it. */
static inline __attribute__((always_inline)) int fc_eval(
    struct detect_ctx *ctx, const struct vg_event *ev, const struct fcond *fc)
{
	int r = 0;

	switch (fc->kind) {
	case FC_EXISTS:
		for (uint32_t f = 0; f < fc->nfields && !r; f++)
			r = vg_event_first(ev, fc->fields[f]) != FENT_END;
		r = r == fc->want;
		break;
	case FC_NULL:
		r = 1;
		for (uint32_t f = 0; f < fc->nfields && r; f++) {
			for (uint32_t i = vg_event_first(ev, fc->fields[f]);
			    i != FENT_END; i = ev->ents[i].next) {
				if (ev->ents[i].v.kind != V_NULL) {
					r = 0;
					break;
				}
			}
		}
		break;
	case FC_VALUES:
		if (fc->never)
			break;
		if (fc->tagged && ctx->scanned == ctx->epoch) {
			/* no pattern's literal is in the event: none can match,
			 * whatever the values (a long filter list, mostly) */
			uint32_t k;

			for (k = 0; k < fc->npats; k++) {
				uint32_t l = fc->lits != NULL ? fc->lits[k] :
				    fc->pats[k].lit;

				if (ctx->lseen[l - 1].epoch == ctx->epoch)
					break;
			}
			if (k == fc->npats)
				break;
		}
		if (fc->all) {
			/* each value the rule wrote, in one of its variants */
			r = 1;
			for (uint32_t k = 0, e; k < fc->npats && r; k = e) {
				e = detect_grp_end(fc, k);
				r = any_value(ctx, ev, fc, k, e);
			}
		} else {
			struct viter it;
			const struct value *v;

			viter_init(&it, ev, fc);
			while (!r && (v = viter_next(&it)) != NULL) {
				for (uint32_t k = 0; k < fc->npats; k++) {
					if (!lit_absent(ctx, fc, k) &&
					    pat_match(ctx, ev, fc, &fc->pats[k], v)) {
						r = 1;
						break;
					}
				}
			}
		}
		break;
	}
	return fc->neg ? !r : r;
}

int detect_fc_eval(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc)
{
	return fc_eval(ctx, ev, fc);
}

int detect_fc_plain(const struct fcond *fc)
{
	if (fc->kind != FC_VALUES || fc->keyword || fc->never ||
	    fc->tpart != TP_NONE || fc->nfields == 0 || fc->npats == 0)
		return 0;
	for (uint32_t k = 0; k < fc->npats; k++) {
		switch (fc->pats[k].kind) {
		case PK_EQ:
		case PK_PREFIX:
		case PK_SUFFIX:
		case PK_CONTAINS:
		case PK_ANY:
			break;
		default:
			return 0;
		}
	}
	return 1;
}

void detect_fc_cset(struct fcond *fc)
{
	struct cset cs = { 0 };

	if (fc->cs != NULL || !fc->plain || fc->cased || fc->all ||
	    fc->npats < CSET_MIN)
		return;
	for (uint32_t k = 0; k < fc->npats; k++) {
		const struct pat *p = &fc->pats[k];
		uint8_t c, j;

		if (p->kind != PK_CONTAINS || p->len == 0 || p->lit != 0 ||
		    (fc->lits != NULL && fc->lits[k] != 0))
			return;
		c = (uint8_t)p->s[0];
		for (j = 0; j < cs.n && cs.first[j] != c; j++)
			;
		if (j == cs.n) {
			if (cs.n == CSET_FIRST)
				return;
			cs.first[cs.n++] = c;
		}
	}
	fc->cs = vg_malloc(sizeof(*fc->cs));
	*fc->cs = cs;
}

/* The value s (len bytes) case-folded, kept while the same value is
 * asked for again in this event (an event's values stay put while it is
 * evaluated; epoch 0 is a context that never started one, whose callers
 * evaluate events of their own: nothing is kept for them); 32 zero bytes
 * follow it, for the 16-byte loads of cset_find. */
static const uint8_t *value_folded(struct detect_ctx *ctx, const char *s,
    uint32_t len)
{
	uint8_t *f;
	uint32_t i = 0;

	if (ctx->vepoch == ctx->epoch && ctx->epoch != 0 && ctx->vs == s &&
	    ctx->vlen == len)
		return ctx->vfold;
	if ((size_t)len + 32 > ctx->vfoldcap) {
		ctx->vfoldcap = (size_t)len + 288;
		free(ctx->vfold);
		ctx->vfold = vg_malloc(ctx->vfoldcap);
	}
	f = ctx->vfold;
	fold_from(f, s, i, len);
	memset(f + len, 0, 32);
	ctx->vs = s;
	ctx->vlen = len;
	ctx->vepoch = ctx->epoch;
	return f;
}

/* Is one of fc's needles (all contains, folded) in the folded value f of
 * len bytes? The positions holding one of the needles' first bytes, 16
 * at a time, then the needles that start with that byte there. */
static int cset_find(const struct fcond *fc, const uint8_t *f, uint32_t len)
{
	const struct cset *cs = fc->cs;

	for (uint32_t i = 0; i < len; i += 16) {
		uint32_t m = 0;

#ifdef __SSE2__
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(f + i));
		__m128i acc = _mm_setzero_si128();

		for (uint8_t j = 0; j < cs->n; j++)
			acc = _mm_or_si128(acc, _mm_cmpeq_epi8(x,
			    _mm_set1_epi8((char)cs->first[j])));
		m = (uint32_t)_mm_movemask_epi8(acc);
#else
		for (uint32_t b = 0; b < 16; b++) {
			for (uint8_t j = 0; j < cs->n; j++) {
				if (f[i + b] == cs->first[j])
					m |= 1u << b;
			}
		}
#endif
		if (len - i < 16)
			m &= (1u << (len - i)) - 1; /* the zero bytes after it */
		for (; m != 0; m &= m - 1) {
			uint32_t at = i + (uint32_t)__builtin_ctz(m);

			for (uint32_t k = 0; k < fc->npats; k++) {
				const struct pat *p = &fc->pats[k];
				uint32_t q;

				if ((uint8_t)p->s[0] != f[at] || p->len > len - at)
					continue;
				for (q = 1; q < p->len && f[at + q] == (uint8_t)p->s[q]; q++)
					;
				if (q == p->len)
					return 1;
			}
		}
	}
	return 0;
}

/* Does a value of fc's fields match one of the patterns pats[b..e)? */
static inline __attribute__((always_inline)) int plain_any(
    struct detect_ctx *ctx, const struct vg_event *ev, const struct fcond *fc,
    uint32_t b, uint32_t e)
{
	const int scanned = ctx->scanned == ctx->epoch;
	const uint32_t epoch = ctx->epoch;
	const struct pf_seen *lseen = ctx->lseen;

	for (uint32_t f = 0; f < fc->nfields; f++) {
		for (uint32_t i = vg_event_first(ev, fc->fields[f]); i != FENT_END;
		    i = ev->ents[i].next) {
			const struct value *v = &ev->ents[i].v;

			if (v->kind == V_NULL)
				continue;
			if (fc->cs != NULL) {
				/* every needle at once (b, e: all of them) */
				if (cset_find(fc, value_folded(ctx, v->s, v->len), v->len))
					return 1;
				continue;
			}
			for (uint32_t k = b; k < e; k++) {
				const struct pat *p = &fc->pats[k];
				uint32_t l = fc->lits[k]; /* set with plain */
				int m;

				if (l != 0 && scanned && lseen[l - 1].epoch != epoch)
					continue;
				if (p->kind == PK_EQ && p->isnum && v->kind == V_NUM)
					m = v->num == p->num;
				else if (p->kind == PK_EQ && !fc->cased)
					m = v->len == p->len &&
					    same_fold(v->s, p->s, p->len);
				else
					m = str_match(p, v->s, v->len, fc->cased);
				if (m)
					return 1;
			}
		}
	}
	return 0;
}

int detect_match_nowhole;

/*
 * A wholeeq condition whose literals k.. include one the scan found in
 * this event: was it found in a string value of fc's fields as long as
 * itself? Then that value, folded, is the literal (fcond.wholeeq): a
 * match. 0 when no hit says so (a literal found in another field, or
 * inside a longer value): the values decide.
 */
/* The same from pattern k on (k's literal was seen): the first one seen
 * in line, the rest in a call. */
int __attribute__((noinline)) detect_whole_rest(const struct detect_ctx *ctx,
    const struct vg_event *ev, const struct fcond *fc, uint32_t k)
{
	for (; k < fc->npats; k++) {
		if (detect_whole_one(ctx, ev, fc, k))
			return 1;
	}
	return 0;
}

static inline __attribute__((always_inline)) int whole_hit(
    const struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc, uint32_t k)
{
	return detect_whole_one(ctx, ev, fc, k) ||
	    (k + 1 < fc->npats && detect_whole_rest(ctx, ev, fc, k + 1));
}

/*
 * fc_eval for a plain condition (detect_fc_plain): the same answer from
 * the same steps, in loops that know there is nothing else to it (no
 * keywords, time parts, regexes) and hold little in registers.
 */
static inline __attribute__((always_inline)) int fc_plain_eval(
    struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc)
{
	if (fc->tagged && ctx->scanned == ctx->epoch) {
		/* no pattern's literal is in the event */
		uint32_t k;

		for (k = 0; k < fc->npats; k++) {
			uint32_t l = fc->lits[k]; /* set with plain */

			if (ctx->lseen[l - 1].epoch == ctx->epoch)
				break;
		}
		if (k == fc->npats)
			return fc->neg;
		/* one is: a value of these fields, looked up whole? */
		if (fc->wholeeq && !detect_match_nowhole &&
		    whole_hit(ctx, ev, fc, k))
			return !fc->neg;
	}
	if (fc->all) {
		/* each value the rule wrote, in one of its variants */
		for (uint32_t k = 0, e; k < fc->npats; k = e) {
			e = detect_grp_end(fc, k);
			if (!plain_any(ctx, ev, fc, k, e))
				return fc->neg;
		}
		return !fc->neg;
	}
	return plain_any(ctx, ev, fc, 0, fc->npats) ? !fc->neg : fc->neg;
}

/* The same out of line, for an OR's kids (a lone condition and the AND
 * of a selection's conditions, the common nodes, have it inline). */
static int __attribute__((noinline)) fc_plain_call(struct detect_ctx *ctx,
    const struct vg_event *ev, const struct fcond *fc)
{
	return fc_plain_eval(ctx, ev, fc);
}

/* A node that only asks whether fields are present (a logsource's
 * `winlog.channel|exists: false`): answered in its parent's loop, without
 * the call that a field condition of values needs. 0 or 1; -1 for any
 * other node. */
static inline int sn_exists(const struct vg_event *ev, const struct snode *sn)
{
	const struct fcond *fc;
	int r = 0;

	if (sn->kind != SN_FC || sn->fc->kind != FC_EXISTS)
		return -1;
	fc = sn->fc;
	for (uint32_t f = 0; f < fc->nfields && !r; f++)
		r = vg_event_first(ev, fc->fields[f]) != FENT_END;
	r = r == fc->want;
	return fc->neg ? !r : r;
}

int detect_sn_eval(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct snode *sn)
{
	int r;

	switch (sn->kind) {
	case SN_FC:
		if (sn->fc->plain)
			return fc_plain_eval(ctx, ev, sn->fc);
		return fc_eval(ctx, ev, sn->fc);
	case SN_AND:
		for (uint32_t i = 0; i < sn->n; i++) {
			const struct snode *k = sn->kids[i];

			if (k->kind == SN_FC && k->fc->plain)
				r = fc_plain_eval(ctx, ev, k->fc);
			else if ((r = sn_exists(ev, k)) < 0)
				r = detect_sn_eval(ctx, ev, k);
			if (!r)
				return 0;
		}
		return 1;
	case SN_OR:
		for (uint32_t i = 0; i < sn->n; i++) {
			const struct snode *k = sn->kids[i];

			if (k->kind == SN_FC && k->fc->plain)
				r = fc_plain_call(ctx, ev, k->fc);
			else if ((r = sn_exists(ev, k)) < 0)
				r = detect_sn_eval(ctx, ev, k);
			if (r)
				return 1;
		}
		return 0;
	}
	return 0;
}

int detect_cond_eval(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct sel *sels, const struct cnode *cn)
{
	uint32_t got = 0, need;

	switch (cn->op) {
	case CN_SEL:
		return detect_sn_eval(ctx, ev, sels[cn->sel].root);
	case CN_NOT:
		return !detect_cond_eval(ctx, ev, sels, cn->kids[0]);
	case CN_AND:
		for (uint32_t i = 0; i < cn->n; i++) {
			if (!detect_cond_eval(ctx, ev, sels, cn->kids[i]))
				return 0;
		}
		return 1;
	case CN_OR:
		for (uint32_t i = 0; i < cn->n; i++) {
			if (detect_cond_eval(ctx, ev, sels, cn->kids[i]))
				return 1;
		}
		return 0;
	case CN_OF:
		need = cn->k ? cn->k : cn->n;
		for (uint32_t i = 0; i < cn->n; i++) {
			if (detect_cond_eval(ctx, ev, sels, cn->kids[i])) {
				if (++got >= need)
					return 1;
			} else if (cn->n - i - 1 + got < need) {
				return 0; /* too few left to reach need */
			}
		}
		return got >= need;
	}
	return 0;
}

int detect_cn_eval(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct rule_impl *ri, const struct cnode *cn)
{
	return detect_cond_eval(ctx, ev, ri->sels, cn);
}
