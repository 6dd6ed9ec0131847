/*
 * jsonin.c: JSON messages (one object each, e.g. from HTTP ingest or JSON
 * lines) flattened into dotted event fields with Jansson.
 *
 * Hostile input is bounded three times: the size before anything else, the
 * nesting depth by a cheap byte scan before Jansson builds a tree (so a
 * megabyte of '[' costs one pass, not a deep parse), and the number of leaf
 * values by a counting walk. The tree is walked twice, once to check the
 * limits and size the name buffer, once to emit, so a rejected message
 * leaves nothing in the event.
 *
 * Field names are not interned here (vg_event_add_named keeps unknown names as
 * copies), so arbitrary keys cannot fill the process-wide field registry.
 * It does not map names (Windows event names and the like): decoders and
 * mapping files do.
 */
#include "jsonin.h"

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
};

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

static int is_ts_name(const struct walk *w, size_t nlen)
{
	return nlen == 10 && memcmp(w->name, "@timestamp", 10) == 0;
}

/* The first @timestamp value that parses sets the event time. */
static void take_ts(struct walk *w, json_t *v)
{
	int64_t ms;

	if (w->ts_done)
		return;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);

		if (vgtime_parse_iso(s, len, w->tz, &ms) != len)
			return;
	} else if (json_is_integer(v)) {
		ms = (int64_t)json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);

		if (!(d > -9.2e18 && d < 9.2e18))
			return;
		ms = (int64_t)d;
	} else {
		return;
	}
	w->ts_done = 1;
	w->ts_ms = ms;
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
	if (is_ts_name(w, nlen))
		take_ts(w, v);
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

enum jsonin_result jsonin_parse(struct vg_event *ev, const char *buf, size_t len,
    const struct jsonin_limits *lim, int tz_offset_min, struct vg_err *err)
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
	if (len > lim->max_bytes) {
		vg_err_set(err, NULL, 0, (int)(lim->max_bytes < INT32_MAX ?
		    lim->max_bytes + 1 : 0), "JSON message of %zu bytes is over "
		    "the limit of %zu", len, lim->max_bytes);
		return JSONIN_TOO_BIG;
	}
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
	if (w.ts_done) {
		ev->ts_ms = w.ts_ms;
		ev->has_ts = 1;
	}
	return JSONIN_OK;
}
