/*
 * alert.h: alerts as JSON lines in the fixed schema of ARCHITECTURE.md, and
 * the event as nested ECS JSON. Output sinks: a file (reopened on SIGHUP for
 * logrotate) and stdout.
 */
#ifndef VG_ALERT_H
#define VG_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "detect.h"
#include "event.h"

enum alert_kind { ALERT_DETECTION, ALERT_CORRELATION };

struct alert_kv {
	const char *name;  /* dotted field name */
	const char *value;
};

struct alert {
	enum alert_kind kind;
	const struct rule *rule;
	int64_t ts_ms;                /* event time of the alert */
	const struct alert_kv *group; /* empty for a detection */
	size_t ngroup;
	uint64_t count;               /* 1 for a detection */
	const struct vg_event *ev;       /* the (last) event */
	uint64_t suppressed;          /* correlation: alerts folded into this
	                                 one by vigil.suppress, written as
	                                 "suppressed" when not 0 */
};

/* A new unique alert id (UUIDv7 text, 36 chars + NUL). Any thread. */
void alert_new_id(char out[37]);

/* n new ids, in order, written as 36 characters (no NUL) at base + at[i]:
 * what n calls of alert_new_id give, with the clock read once per 256.
 * Any thread. */
void alert_fill_ids(char *base, const size_t *at, size_t n);

/* Append the alert as one JSON object and a newline. Any thread. */
void alert_to_json(struct buf *out, const struct alert *a);
/* The same with a given id (from alert_new_id), for callers that keep the
 * id (incidents) or must write the same alert twice. Borrows id. */
void alert_to_json_id(struct buf *out, const struct alert *a, const char *id);

/*
 * Bulk detection output (replay): one alert line per rule of rules[0..n)
 * for event ev at ts_ms, byte for byte what alert_to_json_id writes, with
 * the event serialised once and each rule's constant part (kind, rule,
 * group, count) taken from cache c. With id_at, line i's id is left as
 * zeros for the caller to fill in output order, and id_at[i] gets the
 * offset in out of its 36 characters; without, ids come from
 * alert_new_id. event_at / event_len (may be NULL) get where the event
 * object of the first line is in out. Borrows everything; the thread that
 * owns c.
 */
struct alert_cache;
/* A cache remembers rules by address: use one per ruleset (and thread)
 * and free it before the ruleset. */
struct alert_cache *alert_cache_new(void);
void alert_cache_free(struct alert_cache *c);
void alert_detections_json(struct alert_cache *c, struct buf *out,
    const struct vg_event *ev, int64_t ts_ms, const struct rule *const *rules,
    size_t n, size_t *id_at, size_t *event_at, size_t *event_len);

/* Append ev's fields as a nested JSON object (dotted names become nested
 * objects; multi-valued fields become arrays; numbers stay numbers). */
void alert_event_json(struct buf *out, const struct vg_event *ev);

/* The sink functions may be called from any thread (a lock inside).
 * Writes are buffered; call alert_sink_flush at least once a second. */
struct alert_sink;
/* path "" or NULL: no file. Returns NULL with err set if the file cannot be
 * opened. */
struct alert_sink *alert_sink_open(const char *path, int to_stdout,
    struct vg_err *err);
/* Write whole lines; returns 0 or -1 (errno). */
int alert_sink_write(struct alert_sink *s, const char *data, size_t len);
int alert_sink_flush(struct alert_sink *s);
/* Reopen the file (SIGHUP; call it from the loop that saw the signal, not
 * from the handler). If the new file cannot be opened, writing goes on to
 * the old one and -1 is returned. */
int alert_sink_reopen(struct alert_sink *s);
void alert_sink_close(struct alert_sink *s);

#endif
