/*
 * jsonin.h: JSON messages (one object per message) flattened into dotted
 * fields (a single-pass parser, Jansson for the rest; see jsonin.c):
 * {"source":{"ip":"1.2.3.4"}} becomes source.ip; arrays
 * become multi-valued fields (arrays of objects flatten each object under the
 * same prefix). Bounded in size, depth and field count.
 */
#ifndef VG_JSONIN_H
#define VG_JSONIN_H

#include <stddef.h>

#include "event.h"
#include "vg.h"

struct jsonin_limits {
	size_t max_bytes;  /* default 1 MiB */
	int max_depth;     /* default 32 */
	size_t max_fields; /* default 4096 */
};

enum jsonin_result {
	JSONIN_OK = 0,
	JSONIN_INVALID,   /* not valid JSON, or not an object */
	JSONIN_TOO_BIG,   /* larger than max_bytes */
	JSONIN_TOO_DEEP,  /* nested deeper than max_depth */
	JSONIN_TOO_MANY,  /* more than max_fields leaf values */
};

void jsonin_limits_default(struct jsonin_limits *l);

/*
 * Parse buf[0..len) as one JSON object into ev. `@timestamp` (RFC 3339 or
 * milliseconds) sets ev->ts_ms/has_ts (zone-less: tz_offset_min); without
 * one, the EVTX record time Event.System.TimeCreated.#attributes.SystemTime
 * does. On anything but JSONIN_OK, ev
 * holds no field from buf and err says why (with the byte offset as col).
 * Borrows buf. Any thread.
 */
enum jsonin_result jsonin_parse(struct vg_event *ev, const char *buf, size_t len,
    const struct jsonin_limits *lim, int tz_offset_min, struct vg_err *err);

/*
 * The same parse through Jansson alone: the reference that jsonin_parse's
 * own parser is tested against (jsonin_parse hands Jansson what its parser
 * does not take: duplicate keys, integers beyond 64 bits, every error).
 * Slower; same contract. Any thread.
 */
enum jsonin_result jsonin_parse_reference(struct vg_event *ev, const char *buf,
    size_t len, const struct jsonin_limits *lim, int tz_offset_min,
    struct vg_err *err);

const char *jsonin_result_name(enum jsonin_result r);

#endif
