/*
 * jsonin.c: JSON messages (one object each, e.g. from HTTP ingest or JSON
 * lines) flattened into dotted event fields.
 *
 * Two parsers, one result. The fast path reads the bytes once and records
 * each leaf (dotted name, value) in the event's arena without building a
 * tree; only when the whole message checks out are the leaves added to the
 * event. It takes well-formed objects as shippers write them and hands
 * everything else to Jansson, which is the reference: a duplicate key
 * (Jansson keeps the last value, at the first key's place), an integer
 * beyond 64 bits, anything malformed, too deep or too large (so every
 * rejection, with its message and offset, is Jansson's). A Windows event
 * from Winlogbeat (1.5 KB, 50 leaves) takes a few microseconds this way,
 * where building and walking a Jansson tree takes ten times that.
 *
 * On the Jansson path hostile input is bounded three times: the size
 * before anything else, the nesting depth by a cheap byte scan before
 * Jansson builds a tree (so a megabyte of '[' costs one pass, not a deep
 * parse), and the number of leaf values by a counting walk. The tree is
 * walked twice, once to check the limits and size the name buffer, once
 * to emit, so a rejected message leaves nothing in the event.
 *
 * Field names are not interned here (vg_event_add_named keeps unknown names as
 * copies), so arbitrary keys cannot fill the process-wide field registry.
 * It does not map names (Windows event names and the like): decoders and
 * mapping files do. Event time: the first `@timestamp` that parses, else
 * the EVTX record time (`Event.System.TimeCreated.#attributes.SystemTime`,
 * as EVTX-to-JSON converters write it).
 */
#include "jsonin.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgtime.h"

void jsonin_limits_default(struct jsonin_limits *l)
{
	l->max_bytes = 1u << 20;
	l->max_depth = 32;
	l->max_fields = 4096;
}

const char *jsonin_result_name(enum jsonin_result r)
{
	switch (r) {
	case JSONIN_OK:
		return "ok";
	case JSONIN_INVALID:
		return "invalid";
	case JSONIN_TOO_BIG:
		return "too_big";
	case JSONIN_TOO_DEEP:
		return "too_deep";
	case JSONIN_TOO_MANY:
		return "too_many_fields";
	}
	return "invalid";
}

/*
 * Nesting depth of the raw text (strings skipped): returns 0 when it stays
 * within max_depth, else the 1-based offset of the first bracket too deep.
 * The top-level object is depth 1.
 */
static size_t depth_scan(const char *s, size_t len, int max_depth)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth)
				return i + 1;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

struct walk {
	struct vg_event *ev;
	int emit;           /* 0: check limits and measure, 1: add fields */
	int max_depth;
	size_t max_fields;
	size_t fields;      /* leaf values seen */
	size_t name_max;    /* longest dotted name */
	char *name;         /* emit: buffer of name_max bytes */
	int tz;
	int ts_done;
	int64_t ts_ms;
	int sys_done;       /* the EVTX record time, if no @timestamp */
	int64_t sys_ms;
};

#define SYSTIME "Event.System.TimeCreated.#attributes.SystemTime"
#define SYSTIME_LEN (sizeof(SYSTIME) - 1)

/* Shortest %g text that reads back as d, with ".0" so it stays a real. */
static size_t fmt_real(double d, char *out, size_t cap)
{
	int n = 0;

	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(out, cap, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	if (n > 0 && (size_t)n + 2 < cap && strpbrk(out, ".eEni") == NULL) {
		out[n++] = '.';
		out[n++] = '0';
		out[n] = '\0';
	}
	return n > 0 ? (size_t)n : 0;
}

/* 1 for @timestamp, 2 for the EVTX record time, else 0. */
static int time_name(const char *name, size_t nlen)
{
	if (nlen == 10 && memcmp(name, "@timestamp", 10) == 0)
		return 1;
	if (nlen == SYSTIME_LEN && memcmp(name, SYSTIME, SYSTIME_LEN) == 0)
		return 2;
	return 0;
}

/* A time value: RFC 3339 text, or milliseconds as a number. */
static int time_value(enum value_kind kind, const char *s, size_t len,
    double num, int tz, int64_t *ms)
{
	if (kind == V_STR)
		return vgtime_parse_iso(s, len, tz, ms) == len ? 0 : -1;
	if (kind == V_NUM && num > -9.2e18 && num < 9.2e18) {
		*ms = (int64_t)num;
		return 0;
	}
	return -1;
}

/* The first value of each time field that parses. */
static void take_time(int which, enum value_kind kind, const char *s,
    size_t len, double num, int tz, int *done, int64_t *ms, int *sdone,
    int64_t *sms)
{
	if (which == 1 && !*done && time_value(kind, s, len, num, tz, ms) == 0)
		*done = 1;
	if (which == 2 && !*sdone && time_value(kind, s, len, num, tz, sms) == 0)
		*sdone = 1;
}

static void take_ts(struct walk *w, json_t *v, size_t nlen)
{
	int which = time_name(w->name, nlen);

	if (which == 0)
		return;
	if (json_is_string(v))
		take_time(which, V_STR, json_string_value(v), json_string_length(v),
		    0, w->tz, &w->ts_done, &w->ts_ms, &w->sys_done, &w->sys_ms);
	else if (json_is_integer(v))
		take_time(which, V_NUM, NULL, 0, (double)json_integer_value(v),
		    w->tz, &w->ts_done, &w->ts_ms, &w->sys_done, &w->sys_ms);
	else if (json_is_real(v))
		take_time(which, V_NUM, NULL, 0, json_real_value(v),
		    w->tz, &w->ts_done, &w->ts_ms, &w->sys_done, &w->sys_ms);
}

static void emit_leaf(struct walk *w, json_t *v, size_t nlen)
{
	char b[40];
	size_t n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		vg_event_add_named(w->ev, w->name, nlen, json_string_value(v),
		    json_string_length(v), V_STR, 0);
		break;
	case JSON_INTEGER:
		n = (size_t)snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		vg_event_add_named(w->ev, w->name, nlen, b, n, V_NUM,
		    (double)json_integer_value(v));
		break;
	case JSON_REAL:
		n = fmt_real(json_real_value(v), b, sizeof(b));
		vg_event_add_named(w->ev, w->name, nlen, b, n, V_NUM,
		    json_real_value(v));
		break;
	case JSON_TRUE:
		vg_event_add_named(w->ev, w->name, nlen, "true", 4, V_BOOL, 1);
		break;
	case JSON_FALSE:
		vg_event_add_named(w->ev, w->name, nlen, "false", 5, V_BOOL, 0);
		break;
	default:
		vg_event_add_named(w->ev, w->name, nlen, "null", 4, V_NULL, 0);
		break;
	}
	take_ts(w, v, nlen);
}

/*
 * Flatten v, whose dotted name is w->name[0..nlen) (top: no name), at
 * container depth `depth` (of v's parent). Recursion is bounded by
 * max_depth, which the byte scan has already enforced.
 */
static enum jsonin_result walk(struct walk *w, json_t *v, size_t nlen, int top,
    int depth)
{
	enum jsonin_result r;

	if (json_is_object(v)) {
		const char *key;
		size_t klen;
		json_t *child;

		if (depth + 1 > w->max_depth)
			return JSONIN_TOO_DEEP;
		json_object_keylen_foreach(v, key, klen, child) {
			size_t cl = top ? klen : nlen + 1 + klen;

			if (cl > w->name_max)
				w->name_max = cl;
			if (w->emit) {
				if (!top)
					w->name[nlen] = '.';
				memcpy(w->name + cl - klen, key, klen);
			}
			if ((r = walk(w, child, cl, 0, depth + 1)) != JSONIN_OK)
				return r;
		}
		return JSONIN_OK;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *child;

		if (depth + 1 > w->max_depth)
			return JSONIN_TOO_DEEP;
		/* elements share the array's name: a multi-valued field */
		json_array_foreach(v, i, child)
			if ((r = walk(w, child, nlen, top, depth + 1)) != JSONIN_OK)
				return r;
		return JSONIN_OK;
	}
	if (++w->fields > w->max_fields)
		return JSONIN_TOO_MANY;
	if (w->emit)
		emit_leaf(w, v, nlen);
	return JSONIN_OK;
}

/* ---- the fast path ---- */

#define FAST_DEPTH 64      /* deeper: Jansson's business */
#define FAST_KEYS 128      /* keys of one object it checks for duplicates */

struct leaf {
	uint32_t name, nlen;   /* in fast.names */
	const char *s;         /* the value's text (input or arena) */
	uint32_t len;
	uint8_t kind;
	double num;
};

struct fast {
	const unsigned char *p, *end;
	struct arena *a;
	char *path;            /* the dotted name being built */
	size_t pcap;
	struct leaf *lv;
	size_t nl, capl;
	char *names;
	size_t nn, capn;
	int max_depth;
	size_t max_fields;
};

/* 1: plain string byte; 0: quote, backslash, control or non-ASCII */
static const uint8_t plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x80..0xff: 0 */
};

static void *fast_grow(struct fast *F, void *old, size_t used, size_t *cap,
    size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	while (n < need)
		n *= 2;
	p = arena_alloc(F->a, n * elem);
	if (used > 0)
		memcpy(p, old, used * elem);
	*cap = n;
	return p; /* the old block stays in the arena until the event ends */
}

static void fast_ws(struct fast *F)
{
	while (F->p < F->end && (*F->p == ' ' || *F->p == '\n' || *F->p == '\r' ||
	    *F->p == '\t'))
		F->p++;
}

/* Length of a well-formed UTF-8 sequence at s (RFC 3629, as Jansson
 * checks it), or 0. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0];
	size_t n;
	uint32_t v;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
	    (n == 4 && (v < 0x10000 || v > 0x10FFFF)))
		return 0;
	return n;
}

static int hex4(const unsigned char *s, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * The string at F->p (at its opening quote): its bytes in *s / *len,
 * pointing into the input when it has no escape, else decoded into dst
 * (which must hold the raw length) or, when dst is NULL, into the arena.
 * -1 for anything Jansson should judge; nul_ok: \u0000 allowed.
 */
static int fast_string(struct fast *F, char *dst, const char **s, size_t *len,
    int nul_ok)
{
	const unsigned char *q = F->p + 1, *b = q;
	char *o;

	while (q < F->end && plain[*q])
		q++;
	if (q < F->end && *q == '"') {
		*s = (const char *)b;
		*len = (size_t)(q - b);
		F->p = q + 1;
		return 0;
	}
	/* escapes or non-ASCII: decode (never longer than the raw text) */
	o = dst ? dst : arena_alloc(F->a, (size_t)(F->end - b) + 1);
	*s = o;
	memcpy(o, b, (size_t)(q - b));
	o += q - b;
	for (;;) {
		unsigned c;

		if (q >= F->end)
			return -1;
		c = *q;
		if (plain[c]) {
			*o++ = (char)*q++;
		} else if (c == '"') {
			break;
		} else if (c >= 0x80) {
			size_t n = utf8_len(q, F->end);

			if (n == 0)
				return -1;
			memcpy(o, q, n);
			o += n;
			q += n;
		} else if (c == '\\') {
			uint32_t u, lo;

			if (q + 1 >= F->end)
				return -1;
			switch (q[1]) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '/': *o++ = '/'; break;
			case 'b': *o++ = '\b'; break;
			case 'f': *o++ = '\f'; break;
			case 'n': *o++ = '\n'; break;
			case 'r': *o++ = '\r'; break;
			case 't': *o++ = '\t'; break;
			case 'u':
				if (F->end - q < 6 || hex4(q + 2, &u) < 0)
					return -1;
				if (u >= 0xDC00 && u <= 0xDFFF)
					return -1; /* a lone low surrogate */
				if (u >= 0xD800 && u <= 0xDBFF) {
					if (F->end - q < 12 || q[6] != '\\' || q[7] != 'u' ||
					    hex4(q + 8, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
						return -1;
					u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					q += 6;
				}
				if (u == 0 && !nul_ok)
					return -1;
				if (u < 0x80) {
					*o++ = (char)u;
				} else if (u < 0x800) {
					*o++ = (char)(0xC0 | u >> 6);
					*o++ = (char)(0x80 | (u & 0x3F));
				} else if (u < 0x10000) {
					*o++ = (char)(0xE0 | u >> 12);
					*o++ = (char)(0x80 | ((u >> 6) & 0x3F));
					*o++ = (char)(0x80 | (u & 0x3F));
				} else {
					*o++ = (char)(0xF0 | u >> 18);
					*o++ = (char)(0x80 | ((u >> 12) & 0x3F));
					*o++ = (char)(0x80 | ((u >> 6) & 0x3F));
					*o++ = (char)(0x80 | (u & 0x3F));
				}
				q += 4;
				break;
			default:
				return -1;
			}
			q += 2;
		} else {
			return -1; /* a control character */
		}
	}
	*len = (size_t)(o - *s);
	F->p = q + 1;
	return 0;
}

static int fast_leaf(struct fast *F, size_t nlen, const char *s, size_t len,
    enum value_kind kind, double num)
{
	struct leaf *l;

	if (F->nl >= F->max_fields || len > UINT32_MAX)
		return -1; /* too many: Jansson's path says so */
	if (F->nl == F->capl)
		F->lv = fast_grow(F, F->lv, F->nl, &F->capl, F->nl + 1, sizeof(*F->lv));
	if (F->nn + nlen > F->capn)
		F->names = fast_grow(F, F->names, F->nn, &F->capn, F->nn + nlen, 1);
	memcpy(F->names + F->nn, F->path, nlen);
	l = &F->lv[F->nl++];
	l->name = (uint32_t)F->nn;
	l->nlen = (uint32_t)nlen;
	F->nn += nlen;
	l->s = s;
	l->len = (uint32_t)len;
	l->kind = (uint8_t)kind;
	l->num = num;
	return 0;
}

/* A number as Jansson reads it: an integer within 64 bits keeps its
 * text, a real is written the way fmt_real writes Jansson's reals. */
static int fast_number(struct fast *F, size_t nlen)
{
	const unsigned char *b = F->p, *q = b;
	int real = 0;
	char tmp[512];
	size_t n;

	if (q < F->end && *q == '-')
		q++;
	if (q >= F->end || *q < '0' || *q > '9')
		return -1;
	if (*q == '0') {
		q++;
		if (q < F->end && *q >= '0' && *q <= '9')
			return -1;
	} else {
		while (q < F->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < F->end && *q == '.') {
		real = 1;
		if (++q >= F->end || *q < '0' || *q > '9')
			return -1;
		while (q < F->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < F->end && (*q == 'e' || *q == 'E')) {
		real = 1;
		q++;
		if (q < F->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= F->end || *q < '0' || *q > '9')
			return -1;
		while (q < F->end && *q >= '0' && *q <= '9')
			q++;
	}
	n = (size_t)(q - b);
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, b, n);
	tmp[n] = '\0';
	F->p = q;
	errno = 0;
	if (!real) {
		char *end;
		long long v = strtoll(tmp, &end, 10);

		if (errno == ERANGE)
			return -1; /* Jansson retries the message with reals */
		if (v == 0 && tmp[0] == '-')
			return fast_leaf(F, nlen, "0", 1, V_NUM, 0);
		return fast_leaf(F, nlen, (const char *)b, n, V_NUM, (double)v);
	} else {
		double d = strtod(tmp, NULL);
		char out[40];
		size_t k;

		if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
			return -1;
		k = fmt_real(d, out, sizeof(out));
		return fast_leaf(F, nlen, arena_strndup(F->a, out, k), k, V_NUM, d);
	}
}

static int fast_value(struct fast *F, size_t nlen, int depth);

/* The top-level object has no name: its keys are the names. */
static int fast_object(struct fast *F, size_t nlen, int top, int depth)
{
	uint64_t seen[4] = { 0 }, keys[FAST_KEYS];
	size_t nkeys = 0;

	if (depth > F->max_depth || depth > FAST_DEPTH)
		return -1;
	F->p++;
	fast_ws(F);
	if (F->p < F->end && *F->p == '}') {
		F->p++;
		return 0;
	}
	for (;;) {
		size_t klen, off = top ? 0 : nlen + 1, raw;
		const char *k;
		uint64_t h = 1469598103934665603ull;

		if (F->p >= F->end || *F->p != '"' || nkeys == FAST_KEYS)
			return -1;
		/* the key goes right after "name." in the path */
		raw = (size_t)(F->end - F->p);
		if (off + raw + 1 > F->pcap)
			F->path = fast_grow(F, F->path, off, &F->pcap, off + raw + 1, 1);
		if (!top)
			F->path[nlen] = '.';
		if (fast_string(F, F->path + off, &k, &klen, 0) < 0)
			return -1;
		if (k != F->path + off)
			memcpy(F->path + off, k, klen);
		/* a duplicate key: Jansson keeps the last value in the first
		 * key's place; leave it that work */
		for (size_t i = 0; i < klen; i++)
			h = (h ^ (unsigned char)F->path[off + i]) * 1099511628211ull;
		if (seen[(h >> 6) & 3] >> (h & 63) & 1) {
			for (size_t i = 0; i < nkeys; i++) {
				if (keys[i] == h)
					return -1;
			}
		}
		seen[(h >> 6) & 3] |= 1ull << (h & 63);
		keys[nkeys++] = h;
		fast_ws(F);
		if (F->p >= F->end || *F->p != ':')
			return -1;
		F->p++;
		if (fast_value(F, off + klen, depth) < 0)
			return -1;
		fast_ws(F);
		if (F->p < F->end && *F->p == ',') {
			F->p++;
			fast_ws(F);
			continue;
		}
		if (F->p < F->end && *F->p == '}') {
			F->p++;
			return 0;
		}
		return -1;
	}
}

static int fast_array(struct fast *F, size_t nlen, int depth)
{
	if (depth > F->max_depth || depth > FAST_DEPTH)
		return -1;
	F->p++;
	fast_ws(F);
	if (F->p < F->end && *F->p == ']') {
		F->p++;
		return 0;
	}
	for (;;) {
		/* elements share the array's name: a multi-valued field */
		if (fast_value(F, nlen, depth) < 0)
			return -1;
		fast_ws(F);
		if (F->p < F->end && *F->p == ',') {
			F->p++;
			continue;
		}
		if (F->p < F->end && *F->p == ']') {
			F->p++;
			return 0;
		}
		return -1;
	}
}

static int fast_word(struct fast *F, const char *w, size_t n)
{
	if ((size_t)(F->end - F->p) < n || memcmp(F->p, w, n) != 0)
		return -1;
	F->p += n;
	/* "truex" is one bad token to Jansson */
	if (F->p < F->end && ((*F->p | 0x20) >= 'a' && (*F->p | 0x20) <= 'z'))
		return -1;
	return 0;
}

/* A value whose dotted name is F->path[0..nlen), inside a container at
 * depth `depth`. */
static int fast_value(struct fast *F, size_t nlen, int depth)
{
	const char *s;
	size_t len;

	fast_ws(F);
	if (F->p >= F->end)
		return -1;
	switch (*F->p) {
	case '{':
		return fast_object(F, nlen, 0, depth + 1);
	case '[':
		return fast_array(F, nlen, depth + 1);
	case '"':
		if (fast_string(F, NULL, &s, &len, 1) < 0)
			return -1;
		return fast_leaf(F, nlen, s, len, V_STR, 0);
	case 't':
		if (fast_word(F, "true", 4) < 0)
			return -1;
		return fast_leaf(F, nlen, "true", 4, V_BOOL, 1);
	case 'f':
		if (fast_word(F, "false", 5) < 0)
			return -1;
		return fast_leaf(F, nlen, "false", 5, V_BOOL, 0);
	case 'n':
		if (fast_word(F, "null", 4) < 0)
			return -1;
		return fast_leaf(F, nlen, "null", 4, V_NULL, 0);
	default:
		return fast_number(F, nlen);
	}
}

/*
 * Parse buf as one object into ev without Jansson; 0 when done, -1 when
 * the message is for the Jansson path (ev untouched either way but for
 * arena space until the event is reset).
 */
static int fast_parse(struct vg_event *ev, const char *buf, size_t len,
    const struct jsonin_limits *lim, int tz)
{
	struct fast F;
	int done = 0, sdone = 0;
	int64_t ms = 0, sms = 0;

	memset(&F, 0, sizeof(F));
	F.p = (const unsigned char *)buf;
	F.end = F.p + len;
	F.a = &ev->arena;
	F.max_depth = lim->max_depth;
	F.max_fields = lim->max_fields;
	fast_ws(&F);
	if (F.p >= F.end || *F.p != '{')
		return -1;
	if (fast_object(&F, 0, 1, 1) < 0)
		return -1;
	fast_ws(&F);
	if (F.p != F.end)
		return -1;
	for (size_t i = 0; i < F.nl; i++) {
		const struct leaf *l = &F.lv[i];
		const char *name = F.names + l->name;
		int which = time_name(name, l->nlen);

		vg_event_add_named(ev, name, l->nlen, l->s, l->len,
		    (enum value_kind)l->kind, l->num);
		if (which != 0)
			take_time(which, (enum value_kind)l->kind, l->s, l->len,
			    l->num, tz, &done, &ms, &sdone, &sms);
	}
	if (done || sdone) {
		ev->ts_ms = done ? ms : sms;
		ev->has_ts = 1;
	}
	return 0;
}

static enum jsonin_result too_big(size_t len, const struct jsonin_limits *lim,
    struct vg_err *err)
{
	vg_err_set(err, NULL, 0, (int)(lim->max_bytes < INT32_MAX ?
	    lim->max_bytes + 1 : 0), "JSON message of %zu bytes is over "
	    "the limit of %zu", len, lim->max_bytes);
	return JSONIN_TOO_BIG;
}

enum jsonin_result jsonin_parse(struct vg_event *ev, const char *buf, size_t len,
    const struct jsonin_limits *lim, int tz_offset_min, struct vg_err *err)
{
	struct jsonin_limits def;

	if (lim == NULL) {
		jsonin_limits_default(&def);
		lim = &def;
	}
	if (len > lim->max_bytes)
		return too_big(len, lim, err);
	if (fast_parse(ev, buf, len, lim, tz_offset_min) == 0)
		return JSONIN_OK;
	return jsonin_parse_reference(ev, buf, len, lim, tz_offset_min, err);
}

enum jsonin_result jsonin_parse_reference(struct vg_event *ev, const char *buf,
    size_t len, const struct jsonin_limits *lim, int tz_offset_min,
    struct vg_err *err)
{
	struct jsonin_limits def;
	struct walk w;
	json_error_t jerr;
	json_t *root;
	enum jsonin_result r;
	size_t off;

	if (lim == NULL) {
		jsonin_limits_default(&def);
		lim = &def;
	}
	if (len > lim->max_bytes)
		return too_big(len, lim, err);
	if ((off = depth_scan(buf, len, lim->max_depth)) != 0) {
		vg_err_set(err, NULL, 0, off < INT32_MAX ? (int)off : 0,
		    "JSON nested deeper than %d", lim->max_depth);
		return JSONIN_TOO_DEEP;
	}
	root = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr);
	if (root == NULL && json_error_code(&jerr) == json_error_numeric_overflow)
		/* an integer beyond 64 bits: keep the message, as a real */
		root = json_loadb(buf, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
		    &jerr);
	if (root == NULL) {
		vg_err_set(err, NULL, 0, jerr.position < INT32_MAX ?
		    (int)jerr.position : 0, "invalid JSON: %s", jerr.text);
		return JSONIN_INVALID;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		vg_err_set(err, NULL, 0, 1, "JSON message is not an object");
		return JSONIN_INVALID;
	}

	memset(&w, 0, sizeof(w));
	w.ev = ev;
	w.max_depth = lim->max_depth;
	w.max_fields = lim->max_fields;
	w.tz = tz_offset_min;
	if ((r = walk(&w, root, 0, 1, 0)) != JSONIN_OK) {
		json_decref(root);
		if (r == JSONIN_TOO_MANY)
			vg_err_set(err, NULL, 0, 0, "JSON message has more than "
			    "%zu fields", lim->max_fields);
		else
			vg_err_set(err, NULL, 0, 0, "JSON nested deeper than %d",
			    lim->max_depth);
		return r;
	}
	/* limits hold: the second walk cannot fail */
	w.emit = 1;
	w.fields = 0;
	w.name = arena_alloc(&ev->arena, w.name_max + 1);
	walk(&w, root, 0, 1, 0);
	json_decref(root);
	if (w.ts_done || w.sys_done) {
		ev->ts_ms = w.ts_done ? w.ts_ms : w.sys_ms;
		ev->has_ts = 1;
	}
	return JSONIN_OK;
}
