/*
 * alert.c: alert JSON lines in the fixed schema of ARCHITECTURE.md, events
 * as nested ECS JSON, UUIDv7 alert ids, and the file / stdout sink.
 *
 * It does not decide what is an alert, and it does not talk to Redis (the
 * stream output gets the same line from the caller).
 *
 * Nesting (alert_event_json). Dotted names become nested objects, keys in the
 * order in which they first appear at each level; several values of one name
 * become an array, in the order they were added. Three rules keep every value
 * and the output deterministic:
 *  - A name with an empty segment ("a..b", ".a", "a.", "") or more than
 *    EJ_MAX_DEPTH segments is not nested: it is a key of the top object,
 *    spelled as is.
 *  - A name that is both a field and the prefix of other fields ("source" and
 *    "source.ip"): the object wins, and the field's own value goes into it
 *    under the empty key, first: {"source":{"":"x","ip":"203.0.113.9"}}. The
 *    empty key cannot clash with a child, since empty segments never nest.
 *  - A value of kind V_NUM whose text is not a JSON number is written as a
 *    string; V_BOOL follows num (0 false), V_NULL is null.
 * Names are compared byte for byte; two names that differ only in invalid
 * UTF-8 bytes print as the same key (each bad byte becomes U+FFFD).
 * The nesting runs in a per-thread scratch area (a node tree with a hash on
 * parent + segment) that grows to the largest event seen and is reused, so a
 * steady stream of alerts allocates nothing. Since the events of one decoder
 * have the same fields in the same order, the nesting of each such sequence
 * of field ids is done once and kept per thread as a shape (the literal text
 * with value slots); an event of a known shape is then a copy of the literal
 * runs and its escaped values. A name that is not interned (JSON input keeps
 * most of its names so) is part of the sequence by its bytes. Events with
 * more than EJ_SHAPE_FIELDS live fields take the general path every time.
 * An event of the decoder whose last shape it has, with no entry dead (the
 * usual case), is written in one pass: each slot's entry is checked against
 * the shape as it is written, and the text is dropped if one was not it.
 * Short strings and plain-digit numbers are written inline (see ej_put).
 * Values that a decoder's events always have (event.action, the syslog
 * codes) are folded into its text after a few events and only checked
 * (see struct ej_fold).
 *
 * Ids are UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit
 * per-thread sequence (rand_a) that starts at a random value each
 * millisecond and counts up, so the ids of one thread sort in creation order
 * and stay distinct even when thousands fall in one millisecond, then 62
 * random bits. The randomness is a per-thread generator seeded from
 * getrandom(2) and reseeded in a forked child.
 *
 * The sink buffers whole lines and writes them with write(2) on an O_APPEND
 * descriptor, so each write holds whole lines only and a reader never sees
 * half an alert from a flush. Callers flush (alert_sink_flush) at least once
 * a second and on exit; alert_sink_reopen follows a logrotate rename.
 */
#include "alert.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vgtime.h"

/* ---- ids ---- */

struct idgen {
	int seeded;
	unsigned fork_gen;
	uint64_t state;
	int64_t last_ms;
	uint32_t seq;
};

static _Thread_local struct idgen idgen;
static atomic_uint fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_child(void)
{
	atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed);
}

static void atfork_register(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

/* splitmix64: a bijection of the counter, so a thread never repeats. */
static uint64_t idgen_next(struct idgen *g)
{
	uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void idgen_seed(struct idgen *g)
{
	uint64_t seed = 0;
	size_t got = 0;

	while (got < sizeof(seed)) {
		ssize_t n = getrandom((char *)&seed + got, sizeof(seed) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(seed)) {
		/* no getrandom: still distinct per thread and process */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(uintptr_t)g;
	}
	g->state = seed;
	g->last_ms = INT64_MIN;
	g->seeded = 1;
}

static struct idgen *idgen_get(void)
{
	struct idgen *g = &idgen;
	unsigned fg;

	pthread_once(&atfork_once, atfork_register);
	fg = atomic_load_explicit(&fork_generation, memory_order_relaxed);
	if (!g->seeded || g->fork_gen != fg) {
		idgen_seed(g);
		g->fork_gen = fg;
	}
	return g;
}

#ifdef __SSE2__
/*
 * The 16 bytes of hi:lo (big-endian, as the id's text reads) as 32
 * lowercase hex digits, 16 in each of *a and *b: the high and low nibble
 * of each byte go to two bytes side by side, and each becomes '0'..'9' or
 * 'a'..'f' at once ('a' - '0' - 10 = 39 added where it is above 9).
 */
static inline void hex32(uint64_t hi, uint64_t lo, __m128i *a, __m128i *b)
{
	__m128i v = _mm_set_epi64x((long long)__builtin_bswap64(lo),
	    (long long)__builtin_bswap64(hi));
	__m128i lown = _mm_set1_epi8(0x0f);
	__m128i h = _mm_and_si128(_mm_srli_epi16(v, 4), lown);
	__m128i l = _mm_and_si128(v, lown);
	__m128i x = _mm_unpacklo_epi8(h, l), y = _mm_unpackhi_epi8(h, l);
	__m128i nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0');
	__m128i gap = _mm_set1_epi8('a' - '0' - 10);

	*a = _mm_add_epi8(_mm_add_epi8(x, zero),
	    _mm_and_si128(_mm_cmpgt_epi8(x, nine), gap));
	*b = _mm_add_epi8(_mm_add_epi8(y, zero),
	    _mm_and_si128(_mm_cmpgt_epi8(y, nine), gap));
}

/* hi:lo in the id's 8-4-4-4-12 form, 36 characters at out. */
static inline void uuid_text(char *out, uint64_t hi, uint64_t lo)
{
	char t[32];
	__m128i a, b;

	hex32(hi, lo, &a, &b);
	_mm_storeu_si128((__m128i *)(void *)t, a);
	_mm_storeu_si128((__m128i *)(void *)(t + 16), b);
	memcpy(out, t, 8);
	out[8] = '-';
	memcpy(out + 9, t + 8, 4);
	out[13] = '-';
	memcpy(out + 14, t + 12, 4);
	out[18] = '-';
	memcpy(out + 19, t + 16, 4);
	out[23] = '-';
	memcpy(out + 24, t + 20, 12);
}
#else
/* v as 8 lowercase hex digits at out, most significant first, without a
 * loop: each nibble is spread into a byte of a word (the low nibble of v
 * in the low byte), the word is byte-swapped into text order, and each
 * byte becomes '0'..'9' or 'a'..'f' at once ('a' - '0' - 10 = 0x27 added
 * where the nibble is above 9). */
static inline void hex8(char *out, uint32_t v)
{
	uint64_t x = v;

	x = (x | x << 16) & 0x0000ffff0000ffffULL;
	x = (x | x << 8) & 0x00ff00ff00ff00ffULL;
	x = (x | x << 4) & 0x0f0f0f0f0f0f0f0fULL;
	x = __builtin_bswap64(x);
	x += 0x3030303030303030ULL +
	    (((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL) * 0x27;
	memcpy(out, &x, 8);
}

static inline void uuid_text(char *out, uint64_t hi, uint64_t lo)
{
	char t[8];

	hex8(out, (uint32_t)(hi >> 32));
	out[8] = '-';
	hex8(t, (uint32_t)hi);
	memcpy(out + 9, t, 4);
	out[13] = '-';
	memcpy(out + 14, t + 4, 4);
	out[18] = '-';
	hex8(t, (uint32_t)(lo >> 32));
	memcpy(out + 19, t, 4);
	out[23] = '-';
	memcpy(out + 24, t + 4, 4);
	hex8(out + 28, (uint32_t)lo);
}
#endif

/* One id for the time now, 36 characters at out (no NUL). */
static inline void idgen_make(struct idgen *g, int64_t now, char *out)
{
	uint64_t hi, lo;

	if (__builtin_expect(now > g->last_ms, 0)) {
		g->last_ms = now;
		/* top bit clear: at least 2048 ids before the millisecond is full */
		g->seq = (uint32_t)(idgen_next(g) & 0x7ff);
	} else if (++g->seq > 0xfff) {
		/* the sequence is used up (or the clock stepped back): move the
		 * timestamp on by one, which keeps the thread's ids increasing */
		g->last_ms++;
		g->seq = (uint32_t)(idgen_next(g) & 0x7ff);
	}
	hi = ((uint64_t)g->last_ms & 0xffffffffffffULL) << 16 | 0x7000u | g->seq;
	lo = (idgen_next(g) >> 2) | 0x8000000000000000ULL;
	uuid_text(out, hi, lo);
}

void alert_new_id(char out[37])
{
	idgen_make(idgen_get(), vg_now_ms(), out);
	out[36] = '\0';
}

/* The generator is copied into a local for the loop, so that its state
 * stays in registers, and written back after. */
void alert_fill_ids(char *base, const size_t *at, size_t n)
{
	struct idgen *g = idgen_get(), l = *g;
	int64_t now = 0;

	for (size_t i = 0; i < n; i++) {
		if ((i & 255) == 0)
			now = vg_now_ms();
		idgen_make(&l, now, base + at[i]);
	}
	*g = l;
}

/* ---- event JSON ---- */

#define EJ_MAX_DEPTH 64
#define EJ_NONE UINT32_MAX
/* Shapes: events with at most this many live fields get a template. */
#define EJ_SHAPE_FIELDS 256
/* Per thread; the cache starts over when it holds this many. */
#define EJ_SHAPES_MAX 512

struct ej_node {
	const char *seg;
	uint32_t seglen;
	uint32_t parent;
	uint32_t child, last_child, sibling;
	uint32_t val, last_val, nval; /* entries, chained through vnext */
};

/*
 * The JSON of every event whose live fields have the same ids (and, for
 * FIELD_NONE, the same names) in the same order differs only in the values:
 * a shape keeps the literal text between them (braces, keys, commas) and,
 * for each value slot in output order, how many literal bytes come before it
 * and which live field fills it.
 */
struct ej_slot {
	uint32_t pre;      /* literal bytes before the value */
	uint32_t ord;      /* the live field (ordinal) that fills it */
	uint32_t id;       /* and its id */
	uint32_t eoff;     /* ord * sizeof(struct fent): where it is when no
	                      entry is dead */
};

struct ej_shape {
	uint32_t hash;
	uint32_t n;        /* live fields = value slots */
	uint32_t litlen;   /* literal bytes in all */
	int named;         /* some field is FIELD_NONE (compared by name) */
	uint32_t *ids;     /* [n] id of each live field, in entry order, and
	                      [n] EJ_NONE, which no field has */
	struct ej_slot *slots; /* [n] in output order */
	uint32_t *noff;    /* [n] FIELD_NONE: its name at names + noff[k] */
	uint32_t *nlen;    /* [n] and its length */
	char *lit;
	char *names;
};

/*
 * The events of one decoder mostly have one shape: the last shape of each
 * decoder (by name pointer; a stale one only costs a miss, since the field
 * ids are compared) is tried before the hash of the field ids is made.
 * A decoder's memo is in one of EJ_MEMO_WAYS slots from its hash on, so
 * busy decoders do not take each other's (their constants would be learnt
 * again and again): with a few hundred decoder names and their children,
 * the four slots are full only in rare sets, which then share one.
 */
#define EJ_MEMO 256
#define EJ_MEMO_WAYS 4

struct ej_fold;
struct ej_snap;

struct ej_memo {
	const char *decoder;
	struct ej_shape *shape;
	struct ej_fold *fold;  /* the decoder's constant values folded in */
	struct ej_snap *snap;  /* while learning them: [shape->n] */
	uint32_t seen;         /* events learnt from */
	uint32_t refits;       /* folds made again with fewer constants */
	int nofold;            /* too few constant values */
};

static inline size_t ej_memo_slot(const char *decoder)
{
	uint64_t h = (uint64_t)(uintptr_t)decoder * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 56); /* EJ_MEMO slots */
}

struct ej_scratch {
	struct ej_node *nodes;
	size_t ncap, nnodes;
	uint32_t *vnext;   /* per entry: next value of the same node */
	size_t vcap;
	uint32_t *slot;    /* hash of (parent, segment) -> node, valid if stamp */
	uint32_t *stamp;
	size_t scap;       /* power of two */
	uint32_t gen;

	/* shapes: open addressing on the hash of the id sequence */
	struct ej_shape **shapes;
	size_t shcap, nshapes;
	struct ej_memo memo[EJ_MEMO];
	uint32_t *live;    /* entry index of each live field */
	size_t livecap;
	/* while building a shape: value slots (output offset, entry) */
	int recording;
	uint32_t *rpos, *rent;
	size_t rcap, nrec;
	struct buf tmpl;
};

static pthread_key_t ej_key;
static pthread_once_t ej_once = PTHREAD_ONCE_INIT;

static void ej_memo_reset(struct ej_memo *m)
{
	free(m->fold);
	free(m->snap);
	memset(m, 0, sizeof(*m));
}

/* The memo of decoder, or NULL. */
static inline struct ej_memo *ej_memo_find(struct ej_scratch *s,
    const char *decoder)
{
	size_t at = ej_memo_slot(decoder);

	for (size_t w = 0; w < EJ_MEMO_WAYS; w++) {
		struct ej_memo *m = &s->memo[(at + w) & (EJ_MEMO - 1)];

		if (m->decoder == decoder)
			return m;
		if (m->decoder == NULL)
			return NULL;
	}
	return NULL;
}

/* The memo for decoder: its own, a free slot, or the first slot. */
static struct ej_memo *ej_memo_take(struct ej_scratch *s, const char *decoder)
{
	size_t at = ej_memo_slot(decoder);

	for (size_t w = 0; w < EJ_MEMO_WAYS; w++) {
		struct ej_memo *m = &s->memo[(at + w) & (EJ_MEMO - 1)];

		if (m->decoder == decoder || m->decoder == NULL)
			return m;
	}
	return &s->memo[at];
}

static void ej_shapes_clear(struct ej_scratch *s)
{
	for (size_t i = 0; i < EJ_MEMO; i++)
		ej_memo_reset(&s->memo[i]);
	for (size_t i = 0; i < s->shcap; i++) {
		free(s->shapes[i]);
		s->shapes[i] = NULL;
	}
	s->nshapes = 0;
}

static void ej_scratch_free(void *p)
{
	struct ej_scratch *s = p;

	if (s == NULL)
		return;
	ej_shapes_clear(s);
	free(s->shapes);
	free(s->nodes);
	free(s->vnext);
	free(s->slot);
	free(s->stamp);
	free(s->live);
	free(s->rpos);
	free(s->rent);
	buf_free(&s->tmpl);
	free(s);
}

static void ej_key_create(void)
{
	pthread_key_create(&ej_key, ej_scratch_free);
}

/* The key frees a thread's scratch when it exits; the thread-local
 * pointer saves the key lookup per event. */
static struct ej_scratch *ej_scratch_get(void)
{
	static _Thread_local struct ej_scratch *mine;
	struct ej_scratch *s = mine;

	if (s != NULL)
		return s;
	pthread_once(&ej_once, ej_key_create);
	if ((s = pthread_getspecific(ej_key)) == NULL) {
		s = vg_calloc(1, sizeof(*s));
		pthread_setspecific(ej_key, s);
	}
	mine = s;
	return s;
}

/*
 * Number of segments of a nestable name, or 0 when it must stay flat
 * (an empty segment, or too deep).
 */
static uint32_t ej_segments(const char *s, size_t len)
{
	const char *p = s, *end = s + len, *dot;
	uint32_t n = 1;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	while ((dot = memchr(p, '.', (size_t)(end - p))) != NULL) {
		if (dot[1] == '.' || ++n > EJ_MAX_DEPTH)
			return 0;
		p = dot + 1;
	}
	return n;
}

static uint32_t ej_child(struct ej_scratch *s, uint32_t parent, const char *seg,
    uint32_t seglen)
{
	uint32_t h = 2166136261u ^ (parent * 0x9e3779b1u);
	size_t mask = s->scap - 1, i;
	struct ej_node *n;
	uint32_t id;

	for (uint32_t k = 0; k < seglen; k++) {
		h ^= (unsigned char)seg[k];
		h *= 16777619u;
	}
	for (i = h & mask;; i = (i + 1) & mask) {
		if (s->stamp[i] != s->gen)
			break;
		n = &s->nodes[s->slot[i]];
		if (n->parent == parent && n->seglen == seglen &&
		    memcmp(n->seg, seg, seglen) == 0)
			return s->slot[i];
	}
	id = (uint32_t)s->nnodes++;
	s->stamp[i] = s->gen;
	s->slot[i] = id;
	n = &s->nodes[id];
	n->seg = seg;
	n->seglen = seglen;
	n->parent = parent;
	n->child = n->last_child = n->sibling = EJ_NONE;
	n->val = n->last_val = EJ_NONE;
	n->nval = 0;
	if (s->nodes[parent].child == EJ_NONE)
		s->nodes[parent].child = id;
	else
		s->nodes[s->nodes[parent].last_child].sibling = id;
	s->nodes[parent].last_child = id;
	return id;
}

/*
 * Is s[0..n) (NUL-terminated, as every value) a JSON number that JSON
 * readers take as one: the RFC 8259 grammar, and within what they hold,
 * an integer in 64 bits and a real below the double's overflow (jansson,
 * which vigild reads alerts with, refuses the others, and so would the
 * whole alert). Others are written as strings.
 */
static int json_number(const char *s, size_t n)
{
	static const char max[] = "9223372036854775807";
	size_t i = 0, start, digits;
	int real = 0;

	if (i < n && s[i] == '-')
		i++;
	start = i;
	if (i < n && s[i] == '0') {
		i++;
	} else if (i < n && s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return 0;
	}
	digits = i - start;
	if (i < n && s[i] == '.') {
		for (start = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == start)
			return 0;
		real = 1;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (start = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == start)
			return 0;
		real = 1;
	}
	if (i != n)
		return 0;
	if (real)
		return isfinite(strtod(s, NULL));
	if (digits != sizeof(max) - 1)
		return digits < sizeof(max) - 1;
	/* 19 digits: up to INT64_MAX, or to INT64_MIN's magnitude */
	if (s[0] != '-')
		return strncmp(s, max, digits) <= 0;
	return strncmp(s + 1, max, digits) <= 0 ||
	    strncmp(s + 1, "9223372036854775808", digits) == 0;
}

static void ej_grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 64;
	*p = vg_realloc(*p, *cap * size);
}

/* Two arrays of one length. */
static void ej_grow2(uint32_t **a, uint32_t **b, size_t *cap, size_t need)
{
	size_t c = *cap;

	ej_grow((void **)a, &c, need, sizeof(**a));
	ej_grow((void **)b, cap, need, sizeof(**b));
}

/*
 * The literal runs of a shape are short (",\"host\":{\"hostname\":"): they
 * are copied 32 bytes a step, reading up to
 * EJ_COPY_PAD bytes past a run (a shape's text is padded) and writing as
 * far past it (the output reserves as much; what follows overwrites it).
 */
#define EJ_COPY_PAD 32

static inline void ej_copy(char *d, const char *s, size_t n)
{
	size_t j = 0;

	do {
		memcpy(d + j, s + j, 16);
		memcpy(d + j + 16, s + j + 16, 16);
		j += 32;
	} while (j < n);
}

/* Room ej_put may need for v. */
#define EJ_VALUE_MAX(len) (BUF_JSON_MAX(len) + 8)

/* One value at d (room for EJ_VALUE_MAX); returns the end. The general
 * case, out of line. */
static __attribute__((noinline)) char *ej_put_any(char *d, const struct value *v)
{
	switch (v->kind) {
	case V_NUM:
		if (json_number(v->s, v->len)) {
			memcpy(d, v->s, v->len);
			return d + v->len;
		}
		break;
	case V_BOOL:
		if (v->num != 0) {
			memcpy(d, "true", 4);
			return d + 4;
		}
		memcpy(d, "false", 5);
		return d + 5;
	case V_NULL:
		memcpy(d, "null", 4);
		return d + 4;
	default:
		break;
	}
	return buf_json_put(d, v->s, v->len);
}

/* Nonzero unless each byte of w is an ASCII digit: b + 0x46 has its top
 * bit set above '9', b - 0x30 below '0' (and for every byte >= 0x80 one
 * of them does); a carry or borrow only comes out of a byte that is
 * flagged already, so the word as a whole is exact. */
static inline uint64_t ej_not_digits8(uint64_t w)
{
	return ((w + 0x4646464646464646ULL) | (w - 0x3030303030303030ULL)) &
	    0x8080808080808080ULL;
}

/*
 * ej_put_any with the common cases inline: strings (short ones copied
 * whole, see buf_json_put_inline) and numbers of 1 to 8 plain digits
 * without a leading zero (ports, pids, syslog codes), which are JSON
 * numbers as they stand. Same bytes.
 */
static inline __attribute__((always_inline)) char *ej_put(char *d,
    const struct value *v)
{
	const char *s = v->s;
	size_t n = v->len;
	uint32_t x, y;

	if (v->kind == V_STR)
		return buf_json_put_inline(d, s, n);
	if (v->kind == V_NUM && n - 1 < 8 && (s[0] != '0' || n == 1)) {
		if (n >= 4) {
			memcpy(&x, s, 4);
			memcpy(&y, s + n - 4, 4);
			if (ej_not_digits8((uint64_t)x | (uint64_t)y << 32) == 0) {
				memcpy(d, &x, 4);
				memcpy(d + n - 4, &y, 4);
				return d + n;
			}
		} else {
			unsigned char c0 = (unsigned char)s[0], c1 = (unsigned char)s[n >> 1];
			unsigned char c2 = (unsigned char)s[n - 1];

			if (ej_not_digits8(0x3030303030000000ULL | (uint64_t)c2 << 16 |
			    (uint64_t)c1 << 8 | c0) == 0) {
				d[0] = (char)c0;
				d[n >> 1] = (char)c1;
				d[n - 1] = (char)c2;
				return d + n;
			}
		}
	}
	return ej_put_any(d, v);
}

static void ej_value(struct ej_scratch *s, struct buf *out,
    const struct vg_event *ev, uint32_t i)
{
	if (s->recording) {
		/* building a shape: remember the slot, write nothing */
		ej_grow2(&s->rpos, &s->rent, &s->rcap, s->nrec + 1);
		s->rpos[s->nrec] = (uint32_t)out->len;
		s->rent[s->nrec++] = i;
		return;
	}
	buf_reserve(out, EJ_VALUE_MAX(ev->ents[i].v.len));
	out->len = (size_t)(ej_put(out->p + out->len, &ev->ents[i].v) - out->p);
}

static void ej_values(struct ej_scratch *s, struct buf *out,
    const struct vg_event *ev, const struct ej_node *n)
{
	if (n->nval == 1) {
		ej_value(s, out, ev, n->val);
		return;
	}
	buf_addc(out, '[');
	for (uint32_t i = n->val; i != EJ_NONE; i = s->vnext[i]) {
		if (i != n->val)
			buf_addc(out, ',');
		ej_value(s, out, ev, i);
	}
	buf_addc(out, ']');
}

/* The members of node id's object, without braces. Depth <= EJ_MAX_DEPTH. */
static void ej_members(struct ej_scratch *s, struct buf *out,
    const struct vg_event *ev, uint32_t id)
{
	int first = 1;

	for (uint32_t c = s->nodes[id].child; c != EJ_NONE; c = s->nodes[c].sibling) {
		const struct ej_node *n = &s->nodes[c];

		if (!first)
			buf_addc(out, ',');
		first = 0;
		buf_json_str(out, n->seg, n->seglen);
		buf_addc(out, ':');
		if (n->child == EJ_NONE) {
			ej_values(s, out, ev, n);
			continue;
		}
		buf_addc(out, '{');
		if (n->nval > 0) {
			buf_add(out, "\"\":", 3);
			ej_values(s, out, ev, n);
			buf_addc(out, ',');
		}
		ej_members(s, out, ev, c);
		buf_addc(out, '}');
	}
}

/* The general nesting, into out (or, recording, the shape of it). */
static void ej_generic(struct ej_scratch *s, struct buf *out,
    const struct vg_event *ev)
{
	size_t total = 1;

	ej_grow((void **)&s->vnext, &s->vcap, ev->n, sizeof(*s->vnext));
	/* pass 1: segment counts (0: flat, EJ_NONE: dead) bound the nodes */
	for (uint32_t i = 0; i < ev->n; i++) {
		const struct fent *e = &ev->ents[i];
		uint32_t segs;

		if (e->dead) {
			s->vnext[i] = EJ_NONE;
			continue;
		}
		segs = ej_segments(e->name, e->name_len);
		s->vnext[i] = segs;
		total += segs ? segs : 1;
	}
	ej_grow((void **)&s->nodes, &s->ncap, total, sizeof(*s->nodes));
	if (s->scap < total * 2) {
		size_t cap = s->scap ? s->scap : 64;

		while (cap < total * 2)
			cap *= 2;
		free(s->slot);
		free(s->stamp);
		s->slot = vg_malloc(cap * sizeof(*s->slot));
		s->stamp = vg_calloc(cap, sizeof(*s->stamp));
		s->scap = cap;
		s->gen = 0;
	}
	if (++s->gen == 0) {
		memset(s->stamp, 0, s->scap * sizeof(*s->stamp));
		s->gen = 1;
	}
	s->nnodes = 1;
	s->nodes[0].child = s->nodes[0].last_child = EJ_NONE;
	s->nodes[0].nval = 0;

	/* pass 2: the tree, in order of first appearance */
	for (uint32_t i = 0; i < ev->n; i++) {
		const struct fent *e = &ev->ents[i];
		uint32_t segs = s->vnext[i], node = 0;
		struct ej_node *n;

		if (segs == EJ_NONE)
			continue;
		if (segs == 0) {
			node = ej_child(s, 0, e->name, e->name_len);
		} else {
			const char *p = e->name, *end = e->name + e->name_len;

			for (uint32_t k = 0; k < segs; k++) {
				const char *dot = k + 1 < segs ?
				    memchr(p, '.', (size_t)(end - p)) : end;

				node = ej_child(s, node, p, (uint32_t)(dot - p));
				p = dot + 1;
			}
		}
		n = &s->nodes[node];
		s->vnext[i] = EJ_NONE;
		if (n->nval++ == 0)
			n->val = i;
		else
			s->vnext[n->last_val] = i;
		n->last_val = i;
	}
	buf_addc(out, '{');
	ej_members(s, out, ev, 0);
	buf_addc(out, '}');
}

static uint32_t ej_hash(uint64_t h)
{
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(h ^ (h >> 32));
}

/*
 * A name that is not interned, for the hash of a sequence: its length and
 * its first and last 8 bytes (names of one prefix differ at the end); the
 * names themselves are compared when the hash matches.
 */
static uint64_t ej_name_hash(const char *p, size_t len)
{
	uint64_t a = 0, b = 0;

	if (len >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + len - 8, 8);
	} else {
		memcpy(&a, p, len);
	}
	return (a * 0x9e3779b97f4a7c15ULL) ^ (b + len) * 0xc2b2ae3d27d4eb4fULL;
}

/* Has the shape the live fields ents[live[0..n)] in its sequence? */
static int ej_shape_is(const struct ej_shape *sh, const struct fent *ents,
    const uint32_t *live, uint32_t n)
{
	if (sh->n != n)
		return 0;
	for (uint32_t k = 0; k < n; k++) {
		const struct fent *e = &ents[live[k]];

		if (sh->ids[k] != e->id)
			return 0;
		if (e->id == FIELD_NONE && (sh->nlen[k] != e->name_len ||
		    memcmp(sh->names + sh->noff[k], e->name, e->name_len) != 0))
			return 0;
	}
	return 1;
}

/* Record the nesting of ev (live fields s->live[0..n)) as a new shape. */
static struct ej_shape *ej_shape_build(struct ej_scratch *s,
    const struct vg_event *ev, uint32_t hash, uint32_t n)
{
	struct ej_shape *sh;
	uint32_t *ord_of;
	size_t at = 0, lit, nb = 0;

	buf_clear(&s->tmpl);
	s->nrec = 0;
	s->recording = 1;
	ej_generic(s, &s->tmpl, ev);
	s->recording = 0;
	if (s->nrec != n)
		return NULL; /* cannot happen: each live field is one slot */
	lit = s->tmpl.len;
	for (uint32_t k = 0; k < n; k++) {
		if (ev->ents[s->live[k]].id == FIELD_NONE)
			nb += ev->ents[s->live[k]].name_len;
	}
	sh = vg_malloc(sizeof(*sh) + n * sizeof(struct ej_slot) +
	    (3 * n + 1) * sizeof(uint32_t) + lit + EJ_COPY_PAD + nb);
	sh->hash = hash;
	sh->n = n;
	sh->litlen = (uint32_t)lit;
	sh->named = nb > 0;
	sh->slots = (struct ej_slot *)(sh + 1);
	sh->ids = (uint32_t *)(sh->slots + n);
	sh->noff = sh->ids + n + 1;
	sh->nlen = sh->noff + n;
	sh->lit = (char *)(sh->nlen + n);
	sh->names = sh->lit + lit + EJ_COPY_PAD;
	memcpy(sh->lit, s->tmpl.p, lit);
	memset(sh->lit + lit, 0, EJ_COPY_PAD);
	/* entry index -> live ordinal, through vnext (free after the build) */
	ord_of = s->vnext;
	nb = 0;
	for (uint32_t k = 0; k < n; k++) {
		const struct fent *e = &ev->ents[s->live[k]];

		sh->ids[k] = e->id;
		sh->noff[k] = (uint32_t)nb;
		sh->nlen[k] = 0;
		if (e->id == FIELD_NONE) {
			memcpy(sh->names + nb, e->name, e->name_len);
			sh->nlen[k] = e->name_len;
			nb += e->name_len;
		}
		ord_of[s->live[k]] = k;
	}
	sh->ids[n] = EJ_NONE;
	for (uint32_t k = 0; k < n; k++) {
		sh->slots[k].pre = s->rpos[k] - (uint32_t)at;
		at = s->rpos[k];
		sh->slots[k].ord = ord_of[s->rent[k]];
		sh->slots[k].id = sh->ids[sh->slots[k].ord];
		sh->slots[k].eoff = sh->slots[k].ord * (uint32_t)sizeof(struct fent);
	}
	return sh;
}

static void ej_shape_insert(struct ej_scratch *s, struct ej_shape *sh)
{
	size_t mask, i;

	if (s->nshapes >= EJ_SHAPES_MAX)
		ej_shapes_clear(s); /* many shapes: hostile or odd input */
	if ((s->nshapes + 1) * 2 > s->shcap) {
		struct ej_shape **old = s->shapes;
		size_t oldcap = s->shcap;

		s->shcap = oldcap ? oldcap * 2 : 64;
		s->shapes = vg_calloc(s->shcap, sizeof(*s->shapes));
		for (size_t k = 0; k < oldcap; k++) {
			if (old[k] == NULL)
				continue;
			for (i = old[k]->hash & (s->shcap - 1); s->shapes[i] != NULL;
			    i = (i + 1) & (s->shcap - 1))
				;
			s->shapes[i] = old[k];
		}
		free(old);
	}
	mask = s->shcap - 1;
	for (i = sh->hash & mask; s->shapes[i] != NULL; i = (i + 1) & mask)
		;
	s->shapes[i] = sh;
	s->nshapes++;
}

/* ej_write_dense reserves room ahead for values of up to this many bytes
 * each; a longer one reserves for itself. */
#define EJ_DENSE_LEN 64

/* The slots [sl, sl_end) of ents between the runs of lit (up to end)
 * written to out, room reserved for n values of a dense length and more
 * for a longer one as it comes; nonzero when an entry was not the one its
 * slot expects. */
static inline __attribute__((always_inline)) uint32_t ej_fill(struct buf *out, const struct ej_slot *sl,
    const struct ej_slot *sl_end, const char *lit, const char *end,
    const struct fent *ents, size_t n)
{
	uint32_t bad = 0;
	char *d;

	buf_reserve(out, (size_t)(end - lit) + EJ_COPY_PAD +
	    n * EJ_VALUE_MAX(EJ_DENSE_LEN));
	d = out->p + out->len;
	for (; sl < sl_end; sl++) {
		uint32_t pre = sl->pre;
		const struct fent *e = (const struct fent *)(const void *)
		    ((const char *)ents + sl->eoff);

		bad |= (e->id ^ sl->id) | e->dead;
		ej_copy(d, lit, pre);
		d += pre;
		lit += pre;
		if (e->v.len > EJ_DENSE_LEN) {
			/* room for this one too, the rest as before */
			out->len = (size_t)(d - out->p);
			buf_reserve(out, (size_t)(end - lit) + EJ_COPY_PAD +
			    EJ_VALUE_MAX(e->v.len) +
			    (size_t)(sl_end - sl) * EJ_VALUE_MAX(EJ_DENSE_LEN));
			d = out->p + out->len;
		}
		d = ej_put(d, &e->v);
	}
	ej_copy(d, lit, (size_t)(end - lit));
	d += end - lit;
	out->len = (size_t)(d - out->p);
	return bad;
}

/*
 * Shape sh written for the entries ents[0..sh->n), none dead, entry i
 * being live field i: the usual case of an event of the decoder that
 * last had this shape. The check that each entry is the field the shape
 * says goes along with the writing (the text is written in any case,
 * every entry being readable); -1 when one was not, and the caller drops
 * the text.
 */
static int ej_write_dense(const struct ej_shape *sh, struct buf *out,
    const struct fent *ents)
{
	return ej_fill(out, sh->slots, sh->slots + sh->n, sh->lit,
	    sh->lit + sh->litlen, ents, sh->n) == 0 ? 0 : -1;
}

/*
 * Constant values. Most fields of a decoder's events hold the same value
 * every time (event.category, event.action, process.name, the syslog
 * codes of one program). After EJ_LEARN events of one decoder and shape
 * written by ej_write_dense, the slots whose value (1 to 32 bytes) was
 * the same each time are folded into the literal text as escaped values:
 * a fold. An event is then written from the fold once its constant
 * entries are checked to hold exactly those values (through the same
 * overlapping words that copy a short string), which costs less than
 * writing them. When one does not but the event has the shape, the fold
 * is made again without the values that differed (a time that changes by
 * the second, a host name); after EJ_REFITS times, or with fewer than two
 * constant values, the decoder goes without.
 */
#define EJ_LEARN 4
#define EJ_REFITS 16
#define EJ_CONST_MAX 32

struct ej_snap {
	uint32_t len;      /* 0: not constant */
	uint32_t kind;
	uint64_t w[4];
};

/*
 * A constant is checked by its length class (EJ_CLASSES: 1-3, 4-7, 8-16,
 * 17-32 bytes), each class in a loop of its own with its loads fixed:
 * the entry's length and kind against lk (one masked load, see ej_lk),
 * its id and dead flag, then its bytes as words (ej_cwords).
 */
#define EJ_CLASSES 4

struct ej_const {
	uint32_t eoff, id;
	uint64_t lk;       /* len | kind << 32 */
	uint64_t w[4];     /* ej_cwords of the value */
};

struct ej_fold {
	uint32_t ncon, nvar;
	uint32_t litlen;
	uint32_t nk[EJ_CLASSES]; /* constants of each class, in cons in
	                            class order */
	struct ej_const *cons;  /* [ncon] */
	struct ej_slot *vars;   /* [nvar], pre counted in lit */
	char *lit;              /* padded by EJ_COPY_PAD */
};

/* The words of a value of 1 to EJ_CONST_MAX bytes: two overlapping loads
 * of 16, 8 or 4 bytes, or the first, middle and last byte; equal words
 * for equal lengths mean equal bytes. */
static inline void ej_words(const char *s, uint32_t n, uint64_t w[4])
{
	uint32_t x, y;

	if (n >= 16) {
		memcpy(w, s, 16);
		memcpy(w + 2, s + n - 16, 16);
		return;
	}
	w[2] = w[3] = 0;
	if (n >= 8) {
		memcpy(&w[0], s, 8);
		memcpy(&w[1], s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		w[0] = (uint64_t)x | (uint64_t)y << 32;
		w[1] = 0;
	} else {
		w[0] = (uint64_t)(unsigned char)s[0] |
		    (uint64_t)(unsigned char)s[n >> 1] << 8 |
		    (uint64_t)(unsigned char)s[n - 1] << 16;
		w[1] = 0;
	}
}

static inline int ej_same(const struct value *v, uint32_t len, uint32_t kind,
    const uint64_t w[4])
{
	uint64_t x[4];

	if (v->len != len || v->kind != kind)
		return 0;
	ej_words(v->s, len, x);
	return ((x[0] ^ w[0]) | (x[1] ^ w[1]) | (x[2] ^ w[2]) | (x[3] ^ w[3])) == 0;
}

static inline uint32_t ej_class(uint32_t n)
{
	return n < 4 ? 0 : n < 8 ? 1 : n <= 16 ? 2 : 3;
}

/* The words of a value of n bytes (1 to EJ_CONST_MAX) of class cls: two
 * loads of 2 bytes (the first two, and the last with the NUL after it),
 * two overlapping loads of 4, of 8 or of 16 bytes. Equal words for equal lengths mean equal bytes; the words a
 * class does not use are zero. */
static inline __attribute__((always_inline)) void ej_cwords(const char *s,
    uint32_t n, uint32_t cls, uint64_t w[4])
{
	uint32_t x, y;
	uint16_t a, b;

	w[1] = w[2] = w[3] = 0;
	switch (cls) {
	case 0:
		/* a value's text is NUL-terminated (struct value): s[n] may
		 * be read, and 2 bytes at s and at s + n - 1 cover it */
		memcpy(&a, s, 2);
		memcpy(&b, s + n - 1, 2);
		w[0] = (uint64_t)a | (uint64_t)b << 16;
		break;
	case 1:
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		w[0] = (uint64_t)x | (uint64_t)y << 32;
		break;
	case 2:
		memcpy(&w[0], s, 8);
		memcpy(&w[1], s + n - 8, 8);
		break;
	default:
		memcpy(w, s, 16);
		memcpy(w + 2, s + n - 16, 16);
		break;
	}
}

/* A value's length and kind as one word, len | kind << 32: on a little
 * endian machine one load of the 8 bytes from len (len, kind and
 * padding, which the mask drops). */
_Static_assert(offsetof(struct value, kind) == offsetof(struct value, len) + 4 &&
    sizeof(((struct value *)0)->len) == 4 &&
    offsetof(struct value, len) + 8 <= sizeof(struct value),
    "struct value: len and kind in one word");

static inline uint64_t ej_lk(const struct value *v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t x;

	memcpy(&x, (const char *)v + offsetof(struct value, len), 8);
	return x & 0xffffffffffULL;
#else
	return (uint64_t)v->len | (uint64_t)v->kind << 32;
#endif
}

/* Does entry e hold constant c's value (its field and liveness aside)? */
static int ej_const_value(const struct ej_const *c, const struct fent *e)
{
	uint64_t w[4];

	if (ej_lk(&e->v) != c->lk)
		return 0;
	ej_cwords(e->v.s, (uint32_t)c->lk, ej_class((uint32_t)c->lk), w);
	return ((w[0] ^ c->w[0]) | (w[1] ^ c->w[1]) | (w[2] ^ c->w[2]) |
	    (w[3] ^ c->w[3])) == 0;
}

/* The constants [c, end) of class cls checked against ents: 0 when each
 * entry is its constant's field, live, with its value. */
static inline __attribute__((always_inline)) int ej_cons_check(
    const struct ej_const *c, const struct ej_const *end,
    const struct fent *ents, uint32_t cls)
{
	uint64_t diff = 0;

	for (; c < end; c++) {
		const struct fent *e = (const struct fent *)(const void *)
		    ((const char *)ents + c->eoff);
		uint64_t w[4];

		/* the length first: the words are read for it */
		if (((ej_lk(&e->v) ^ c->lk) | (e->id ^ c->id) | e->dead) != 0)
			return -1;
		ej_cwords(e->v.s, (uint32_t)c->lk, cls, w);
		diff |= w[0] ^ c->w[0];
		if (cls >= 2)
			diff |= w[1] ^ c->w[1];
		if (cls == 3)
			diff |= (w[2] ^ c->w[2]) | (w[3] ^ c->w[3]);
	}
	return diff != 0 ? -1 : 0;
}

/* Build m's fold from sh and ents (the last event learnt, whose values
 * are the constant ones); NULL when fewer than two slots are constant. */
static struct ej_fold *ej_fold_build(const struct ej_shape *sh,
    const struct ej_snap *snap, const struct fent *ents)
{
	uint32_t ncon = 0, nvar, at = 0, last = 0, next[EJ_CLASSES];
	size_t room = sh->litlen + EJ_COPY_PAD;
	const char *lit = sh->lit;
	struct ej_fold *f;
	char *d;

	for (uint32_t k = 0; k < sh->n; k++) {
		if (snap[sh->slots[k].ord].len > 0) {
			ncon++;
			room += EJ_VALUE_MAX(EJ_CONST_MAX);
		}
	}
	if (ncon < 2)
		return NULL;
	nvar = sh->n - ncon;
	f = vg_malloc(sizeof(*f) + ncon * sizeof(*f->cons) +
	    nvar * sizeof(*f->vars) + room);
	f->cons = (struct ej_const *)(f + 1);
	f->vars = (struct ej_slot *)(f->cons + ncon);
	f->lit = (char *)(f->vars + nvar);
	f->ncon = ncon;
	f->nvar = 0;
	memset(f->nk, 0, sizeof(f->nk));
	for (uint32_t k = 0; k < sh->n; k++) {
		if (snap[k].len > 0)
			f->nk[ej_class(snap[k].len)]++;
	}
	for (uint32_t k = 0, at_k = 0; k < EJ_CLASSES; k++) {
		next[k] = at_k;
		at_k += f->nk[k];
	}
	d = f->lit;
	for (uint32_t k = 0; k < sh->n; k++) {
		const struct ej_slot *sl = &sh->slots[k];
		const struct ej_snap *sn = &snap[sl->ord];

		memcpy(d, lit, sl->pre);
		d += sl->pre;
		lit += sl->pre;
		if (sn->len > 0) {
			uint32_t cls = ej_class(sn->len);
			struct ej_const *c = &f->cons[next[cls]++];
			const struct value *v = &((const struct fent *)(const void *)
			    ((const char *)ents + sl->eoff))->v;

			c->eoff = sl->eoff;
			c->id = sl->id;
			c->lk = (uint64_t)sn->len | (uint64_t)sn->kind << 32;
			ej_cwords(v->s, sn->len, cls, c->w);
			d = ej_put_any(d, v);
		} else {
			struct ej_slot *v = &f->vars[f->nvar++];

			*v = *sl;
			at = (uint32_t)(d - f->lit);
			v->pre = at - last;
			last = at;
		}
	}
	memcpy(d, lit, (size_t)(sh->lit + sh->litlen - lit));
	d += sh->lit + sh->litlen - lit;
	f->litlen = (uint32_t)(d - f->lit);
	memset(d, 0, EJ_COPY_PAD);
	return f;
}

/* After ej_write_dense wrote ents with m's shape: one more event learnt. */
static void ej_learn(struct ej_memo *m, const struct fent *ents)
{
	const struct ej_shape *sh = m->shape;

	if (m->snap == NULL)
		m->snap = vg_calloc(sh->n, sizeof(*m->snap));
	for (uint32_t i = 0; i < sh->n; i++) {
		const struct value *v = &ents[i].v;
		struct ej_snap *sn = &m->snap[i];

		if (m->seen == 0) {
			/* a bool is written from its number, not its text */
			if (v->len == 0 || v->len > EJ_CONST_MAX || v->kind == V_BOOL)
				continue;
			sn->len = v->len;
			sn->kind = v->kind;
			ej_words(v->s, v->len, sn->w);
		} else if (sn->len > 0 && !ej_same(v, sn->len, sn->kind, sn->w)) {
			sn->len = 0;
		}
	}
	if (++m->seen < EJ_LEARN)
		return;
	m->fold = ej_fold_build(sh, m->snap, ents);
	free(m->snap);
	m->snap = NULL;
	if (m->fold == NULL)
		m->nofold = 1;
}

/* ents had m's shape but not all of its fold's constant values: the fold
 * made again with those that they had. */
static void ej_refit(struct ej_memo *m, const struct fent *ents)
{
	const struct ej_shape *sh = m->shape;
	const struct ej_fold *f = m->fold;
	struct ej_snap *snap = vg_calloc(sh->n, sizeof(*snap));

	for (uint32_t k = 0; k < f->ncon; k++) {
		const struct ej_const *c = &f->cons[k];
		const struct fent *e = (const struct fent *)(const void *)
		    ((const char *)ents + c->eoff);

		if (ej_const_value(c, e)) {
			struct ej_snap *sn = &snap[c->eoff / sizeof(struct fent)];

			/* (the words are made again from ents) */
			sn->len = (uint32_t)c->lk;
			sn->kind = (uint32_t)(c->lk >> 32);
		}
	}
	free(m->fold);
	m->fold = NULL;
	if (++m->refits <= EJ_REFITS)
		m->fold = ej_fold_build(sh, snap, ents);
	if (m->fold == NULL)
		m->nofold = 1;
	free(snap);
}

/* ents written with fold f, as ej_write_dense would with its shape; -1
 * (and perhaps some text to drop) when they do not fit it. */
static int ej_write_fold(const struct ej_fold *f, struct buf *out,
    const struct fent *ents)
{
	const struct ej_const *c = f->cons;
	const struct ej_slot *sl = f->vars, *sl_end = f->vars + f->nvar;
	const char *lit = f->lit, *end = f->lit + f->litlen;

	if (ej_cons_check(c, c + f->nk[0], ents, 0) != 0)
		return -1;
	c += f->nk[0];
	if (ej_cons_check(c, c + f->nk[1], ents, 1) != 0)
		return -1;
	c += f->nk[1];
	if (ej_cons_check(c, c + f->nk[2], ents, 2) != 0)
		return -1;
	c += f->nk[2];
	if (ej_cons_check(c, c + f->nk[3], ents, 3) != 0)
		return -1;
	return ej_fill(out, sl, sl_end, lit, end, ents, f->nvar) == 0 ? 0 : -1;
}

/*
 * The shape path: 0 when ev was written, -1 when it needs the general one
 * (too many fields).
 */
static int ej_fast(struct ej_scratch *s, struct buf *out,
    const struct vg_event *ev)
{
	const struct fent *ents = ev->ents;
	struct ej_shape *sh = NULL;
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	size_t vlen = 0, mask;
	uint32_t n = 0, hash, *live;
	const char *lit;
	char *d;

	if (ev->decoder != NULL) {
		/* the shape this decoder's events had last time, checked in
		 * the one pass that lists the live fields; the id after the
		 * last (EJ_NONE) matches no field */
		struct ej_memo *m = ej_memo_find(s, ev->decoder);
		struct ej_shape *c = m != NULL ? m->shape : NULL;

		if (c != NULL && c->n == ev->n && !c->named) {
			size_t start = out->len;

			if (m->fold != NULL) {
				if (ej_write_fold(m->fold, out, ents) == 0)
					return 0;
				out->len = start;
			}
			if (ej_write_dense(c, out, ents) == 0) {
				if (m->fold != NULL)
					ej_refit(m, ents);
				else if (!m->nofold)
					ej_learn(m, ents);
				return 0;
			}
			out->len = start; /* not this shape after all */
		}
		ej_grow((void **)&s->live, &s->livecap, ev->n, sizeof(*s->live));
		live = s->live;
		if (c != NULL) {
			const uint32_t *ids = c->ids;
			uint32_t i;

			for (i = 0; i < ev->n; i++) {
				const struct fent *e = &ents[i];

				if (e->dead)
					continue;
				if (e->id != ids[n] || (e->id == FIELD_NONE &&
				    (c->nlen[n] != e->name_len || memcmp(c->names +
				    c->noff[n], e->name, e->name_len) != 0)))
					break;
				live[n++] = i;
				vlen += e->v.len;
			}
			if (i == ev->n && n == c->n) {
				sh = c;
				goto write;
			}
		}
		n = 0;
		vlen = 0;
	} else {
		ej_grow((void **)&s->live, &s->livecap, ev->n, sizeof(*s->live));
		live = s->live;
	}
	for (uint32_t i = 0; i < ev->n; i++) {
		if (ents[i].dead)
			continue;
		if (n == EJ_SHAPE_FIELDS)
			return -1;
		live[n++] = i;
		h = (h ^ ents[i].id) * 0x100000001b3ULL;
		if (ents[i].id == FIELD_NONE)
			h = (h ^ ej_name_hash(ents[i].name, ents[i].name_len)) *
			    0x100000001b3ULL;
		vlen += ents[i].v.len;
	}
	hash = ej_hash(h ^ n);
	if (s->shcap > 0) {
		mask = s->shcap - 1;
		for (size_t i = hash & mask; s->shapes[i] != NULL; i = (i + 1) & mask) {
			struct ej_shape *c = s->shapes[i];

			if (c->hash == hash && ej_shape_is(c, ents, live, n)) {
				sh = c;
				break;
			}
		}
	}
	if (sh == NULL) {
		if ((sh = ej_shape_build(s, ev, hash, n)) == NULL)
			return -1;
		ej_shape_insert(s, sh);
	}
	if (ev->decoder != NULL) {
		struct ej_memo *m = ej_memo_take(s, ev->decoder);

		if (m->decoder != ev->decoder || m->shape != sh) {
			ej_memo_reset(m);
			m->decoder = ev->decoder;
			m->shape = sh;
		}
	}
write:
	/* n values of vlen bytes in all: EJ_VALUE_MAX each */
	buf_reserve(out, sh->litlen + BUF_JSON_MAX(vlen) + 8 * (size_t)n +
	    EJ_COPY_PAD);
	d = out->p + out->len;
	lit = sh->lit;
	for (uint32_t k = 0; k < n; k++) {
		const struct ej_slot *sl = &sh->slots[k];

		ej_copy(d, lit, sl->pre);
		d += sl->pre;
		lit += sl->pre;
		d = ej_put(d, &ents[live[sl->ord]].v);
	}
	ej_copy(d, lit, (size_t)(sh->lit + sh->litlen - lit));
	d += sh->lit + sh->litlen - lit;
	out->len = (size_t)(d - out->p);
	return 0;
}

void alert_event_json(struct buf *out, const struct vg_event *ev)
{
	struct ej_scratch *s;

	if (ev == NULL || ev->n == 0) {
		buf_add(out, "{}", 2);
		return;
	}
	s = ej_scratch_get();
	if (ej_fast(s, out, ev) == 0)
		return;
	ej_generic(s, out, ev);
}

/* ---- alert JSON ---- */

static void str_or_null(struct buf *out, const char *s)
{
	if (s == NULL)
		buf_add(out, "null", 4);
	else
		buf_json_str(out, s, strlen(s));
}

static void add_u64(struct buf *out, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	buf_add(out, tmp + sizeof(tmp) - n, (size_t)n);
}

/* From the closing quote of the timestamp to "event": included. */
static void alert_middle(struct buf *out, const struct alert *a)
{
	const struct rule *r = a->rule;

	if (a->kind == ALERT_CORRELATION)
		buf_adds(out, "\",\"kind\":\"correlation\",\"rule\":{\"id\":");
	else
		buf_adds(out, "\",\"kind\":\"detection\",\"rule\":{\"id\":");
	str_or_null(out, r ? r->id : NULL);
	buf_add(out, ",\"title\":", 9);
	str_or_null(out, r ? r->title : NULL);
	buf_add(out, ",\"level\":", 9);
	str_or_null(out, r ? r->level : NULL);
	buf_add(out, ",\"tags\":[", 9);
	for (size_t i = 0; r != NULL && i < r->ntags; i++) {
		if (i > 0)
			buf_addc(out, ',');
		str_or_null(out, r->tags[i]);
	}
	buf_add(out, "]},\"group\":{", 12);
	for (size_t i = 0; i < a->ngroup; i++) {
		const char *name = a->group[i].name ? a->group[i].name : "";

		if (i > 0)
			buf_addc(out, ',');
		buf_json_str(out, name, strlen(name));
		buf_addc(out, ':');
		str_or_null(out, a->group[i].value);
	}
	buf_add(out, "},\"count\":", 10);
	add_u64(out, a->count);
	if (a->suppressed > 0) {
		buf_add(out, ",\"suppressed\":", 14);
		add_u64(out, a->suppressed);
	}
	buf_add(out, ",\"event\":", 9);
}

void alert_to_json_id(struct buf *out, const struct alert *a, const char *id)
{
	char ts[32];
	size_t tl = vgtime_format_fast(a->ts_ms, ts);

	buf_add(out, "{\"id\":", 6);
	str_or_null(out, id);
	buf_add(out, ",\"@timestamp\":\"", 15);
	buf_add(out, ts, tl);
	alert_middle(out, a);
	alert_event_json(out, a->ev);
	buf_add(out, "}\n", 2);
}

void alert_to_json(struct buf *out, const struct alert *a)
{
	char id[37];

	alert_new_id(id);
	alert_to_json_id(out, a, id);
}

/*
 * The middle of a detection alert depends on the rule only: the cache
 * keeps it per rule address, written once by alert_middle.
 */
struct alert_cache {
	const struct rule **keys;
	uint32_t *off, *len;   /* in text */
	size_t cap, n;         /* cap: power of two */
	struct buf text;
	/* the last event time written and its text: events come in runs of
	 * one time */
	int64_t ts_ms;
	size_t tl;             /* 0: none yet */
	char ts[32];
};

struct alert_cache *alert_cache_new(void)
{
	return vg_calloc(1, sizeof(struct alert_cache));
}

void alert_cache_free(struct alert_cache *c)
{
	if (c == NULL)
		return;
	free(c->keys);
	free(c->off);
	free(c->len);
	buf_free(&c->text);
	free(c);
}

static size_t cache_slot(const struct alert_cache *c, const struct rule *r)
{
	uint64_t h = (uint64_t)(uintptr_t)r * 0x9e3779b97f4a7c15ULL;
	size_t mask = c->cap - 1, i;

	for (i = (size_t)(h >> 32) & mask; c->keys[i] != NULL && c->keys[i] != r;
	    i = (i + 1) & mask)
		;
	return i;
}

/* A rule not in the cache yet: its middle written and kept. */
static __attribute__((noinline)) const char *cache_add(struct alert_cache *c,
    const struct rule *r, size_t *len)
{
	size_t i;

	if ((c->n + 1) * 2 > c->cap) {
		const struct rule **keys = c->keys;
		uint32_t *off = c->off, *ln = c->len;
		size_t cap = c->cap;

		c->cap = cap ? cap * 2 : 64;
		c->keys = vg_calloc(c->cap, sizeof(*c->keys));
		c->off = vg_malloc(c->cap * sizeof(*c->off));
		c->len = vg_malloc(c->cap * sizeof(*c->len));
		for (size_t k = 0; k < cap; k++) {
			if (keys[k] == NULL)
				continue;
			i = cache_slot(c, keys[k]);
			c->keys[i] = keys[k];
			c->off[i] = off[k];
			c->len[i] = ln[k];
		}
		free(keys);
		free(off);
		free(ln);
	}
	i = cache_slot(c, r);
	c->keys[i] = r;
	c->off[i] = (uint32_t)c->text.len;
	{
		struct alert a = { .kind = ALERT_DETECTION, .rule = r, .count = 1 };

		alert_middle(&c->text, &a);
	}
	c->len[i] = (uint32_t)(c->text.len - c->off[i]);
	c->n++;
	*len = c->len[i];
	return c->text.p + c->off[i];
}

/* The rule's middle part: *len bytes, valid until the next call. */
static inline __attribute__((always_inline)) const char *cache_middle(
    struct alert_cache *c, const struct rule *r, size_t *len)
{
	size_t i;

	if (c->cap > 0 && c->keys[i = cache_slot(c, r)] == r) {
		*len = c->len[i];
		return c->text.p + c->off[i];
	}
	return cache_add(c, r, len);
}

/* alert_detections_json with id_at: the lines, ids left as zeros. */
static inline __attribute__((always_inline)) void detections_blank(
    struct alert_cache *c, struct buf *out, const struct vg_event *ev,
    int64_t ts_ms, const struct rule *const *rules, size_t n, size_t *id_at,
    size_t *event_at, size_t *event_len)
{
	static const char zero_id[] = "00000000-0000-0000-0000-000000000000";
	const char *ts;
	size_t tl, ev_off = 0, ev_len = 0;

	if (c->tl == 0 || c->ts_ms != ts_ms) {
		c->tl = vgtime_format_fast(ts_ms, c->ts);
		c->ts_ms = ts_ms;
	}
	tl = c->tl;
	ts = c->ts;
	for (size_t i = 0; i < n; i++) {
		size_t ml;
		const char *mid = cache_middle(c, rules[i], &ml);
		char *d;

		buf_reserve(out, 6 + 38 + 15 + tl + ml + ev_len + 2);
		d = out->p + out->len;
		memcpy(d, "{\"id\":\"", 7);
		d += 7;
		id_at[i] = (size_t)(d - out->p);
		memcpy(d, zero_id, 36);
		d += 36;
		memcpy(d, "\",\"@timestamp\":\"", 16);
		d += 16;
		if (tl == 24)
			memcpy(d, ts, 24); /* years 0..9999: no call */
		else
			memcpy(d, ts, tl);
		d += tl;
		memcpy(d, mid, ml);
		d += ml;
		if (i == 0) {
			out->len = (size_t)(d - out->p);
			ev_off = out->len;
			alert_event_json(out, ev);
			ev_len = out->len - ev_off;
			buf_reserve(out, 2);
			d = out->p + out->len;
		} else {
			memcpy(d, out->p + ev_off, ev_len);
			d += ev_len;
		}
		*d++ = '}';
		*d++ = '\n';
		out->len = (size_t)(d - out->p);
	}
	if (event_at != NULL)
		*event_at = ev_off;
	if (event_len != NULL)
		*event_len = ev_len;
}

/* Without id_at: the ids filled in after each run of lines, what
 * alert_new_id gives, with the clock read once. */
static __attribute__((noinline)) void detections_with_ids(
    struct alert_cache *c, struct buf *out, const struct vg_event *ev,
    int64_t ts_ms, const struct rule *const *rules, size_t n,
    size_t *event_at, size_t *event_len)
{
	size_t at[64], k, ev_off = 0, ev_len = 0;

	for (size_t i = 0; i < n; i += k) {
		k = n - i < VG_ARRAY_LEN(at) ? n - i : VG_ARRAY_LEN(at);
		alert_detections_json(c, out, ev, ts_ms, rules + i, k, at,
		    i == 0 ? &ev_off : NULL, i == 0 ? &ev_len : NULL);
		alert_fill_ids(out->p, at, k);
	}
	if (event_at != NULL)
		*event_at = ev_off;
	if (event_len != NULL)
		*event_len = ev_len;
}

void alert_detections_json(struct alert_cache *c, struct buf *out,
    const struct vg_event *ev, int64_t ts_ms, const struct rule *const *rules,
    size_t n, size_t *id_at, size_t *event_at, size_t *event_len)
{
	if (id_at == NULL)
		detections_with_ids(c, out, ev, ts_ms, rules, n, event_at, event_len);
	else
		detections_blank(c, out, ev, ts_ms, rules, n, id_at, event_at,
		    event_len);
}

/* ---- sink ---- */

#define SINK_BUF (64 * 1024)
/* A regular file's blocks are reserved (fallocate, size unchanged) this far
 * ahead of what was written: appends then find their blocks allocated and
 * skip the file system's per-block delayed allocation, which costs more
 * than copying the alerts into the page cache. Up to this much stays
 * reserved past the end of the file when vigild stops or rotates it. */
#define SINK_PREALLOC ((off_t)8 * 1024 * 1024)

struct sink_out {
	int fd;     /* -1: unused */
	char *buf;
	size_t len;
	int prealloc;        /* reserve blocks ahead (a regular file) */
	off_t end, reserved; /* the file's size as written; reserved up to */
};

struct alert_sink {
	pthread_mutex_t lock;
	char *path;  /* NULL: no file */
	struct sink_out file, out;
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Start counting o's file from its current size; reserve only for a
 * regular file. */
static void out_track(struct sink_out *o)
{
	struct stat st;

	o->prealloc = fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode);
	o->end = o->reserved = o->prealloc ? st.st_size : 0;
}

static int out_write(struct sink_out *o, const char *p, size_t n)
{
	if (o->prealloc && o->end + (off_t)n > o->reserved) {
		struct stat st;
		off_t want;

		/* appends go to the file's end, wherever another writer or a
		 * copy-and-truncate rotation left it: reserve from there */
		if (fstat(o->fd, &st) == 0 && st.st_size != o->end) {
			o->end = st.st_size;
			if (o->reserved > o->end)
				o->reserved = o->end;
		}
		want = o->end + (off_t)n + SINK_PREALLOC;
		if (fallocate(o->fd, FALLOC_FL_KEEP_SIZE, o->end, want - o->end) == 0)
			o->reserved = want;
		else if (errno == EOPNOTSUPP || errno == ENOSYS)
			o->prealloc = 0;  /* the file system cannot: plain appends */
	}
	o->end += (off_t)n;
	return write_all(o->fd, p, n);
}

/* On failure the buffered lines are dropped: a full disk must not grow us. */
static int out_flush(struct sink_out *o)
{
	int rc;

	if (o->fd < 0 || o->len == 0)
		return 0;
	rc = out_write(o, o->buf, o->len);
	o->len = 0;
	return rc;
}

static int out_add(struct sink_out *o, const char *p, size_t n)
{
	int rc = 0;

	if (o->fd < 0)
		return 0;
	if (o->len + n > SINK_BUF && out_flush(o) < 0)
		rc = -1;
	if (n > SINK_BUF)
		return out_write(o, p, n) < 0 ? -1 : rc;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return rc;
}

/* Create the folders above path (mode 0750). */
static void mkdir_parents(const char *path)
{
	char *p = vg_strdup(path);

	for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (s[-1] != '/')
			(void)mkdir(p, 0750);
		*s = '/';
	}
	free(p);
}

static int open_file(const char *path)
{
	int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
	int fd = open(path, flags, 0640);

	if (fd < 0 && errno == ENOENT) {
		mkdir_parents(path);
		fd = open(path, flags, 0640);
	}
	return fd;
}

struct alert_sink *alert_sink_open(const char *path, int to_stdout,
    struct vg_err *err)
{
	struct alert_sink *s = vg_calloc(1, sizeof(*s));

	pthread_mutex_init(&s->lock, NULL);
	s->file.fd = s->out.fd = -1;
	if (path != NULL && *path != '\0') {
		if ((s->file.fd = open_file(path)) < 0) {
			vg_err_set(err, path, 0, 0, "cannot open alert file: %s",
			    strerror(errno));
			pthread_mutex_destroy(&s->lock);
			free(s);
			return NULL;
		}
		s->path = vg_strdup(path);
		s->file.buf = vg_malloc(SINK_BUF);
		out_track(&s->file);
	}
	if (to_stdout) {
		s->out.fd = STDOUT_FILENO;
		s->out.buf = vg_malloc(SINK_BUF);
	}
	return s;
}

int alert_sink_write(struct alert_sink *s, const char *data, size_t len)
{
	int rc = 0, e = 0;

	pthread_mutex_lock(&s->lock);
	if (out_add(&s->file, data, len) < 0) {
		rc = -1;
		e = errno;
	}
	if (out_add(&s->out, data, len) < 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		errno = e;
	return rc;
}

int alert_sink_flush(struct alert_sink *s)
{
	int rc = 0, e = 0;

	pthread_mutex_lock(&s->lock);
	if (out_flush(&s->file) < 0) {
		rc = -1;
		e = errno;
	}
	if (out_flush(&s->out) < 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		errno = e;
	return rc;
}

int alert_sink_reopen(struct alert_sink *s)
{
	int rc = 0, e = 0, fd;

	pthread_mutex_lock(&s->lock);
	if (s->path == NULL)
		goto out;
	if (out_flush(&s->file) < 0) {
		rc = -1;
		e = errno;
	}
	/* keep writing to the old file if the new one cannot be opened */
	if ((fd = open_file(s->path)) < 0) {
		rc = -1;
		e = errno;
		goto out;
	}
	close(s->file.fd);
	s->file.fd = fd;
	out_track(&s->file);
out:
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		errno = e;
	return rc;
}

void alert_sink_close(struct alert_sink *s)
{
	if (s == NULL)
		return;
	(void)alert_sink_flush(s);
	if (s->file.fd >= 0)
		close(s->file.fd);
	free(s->file.buf);
	free(s->out.buf);
	free(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
