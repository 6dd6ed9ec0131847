/*
 * event.h: the event, a flat set of dotted ECS fields, and the process-wide
 * field registry.
 *
 * Field names are interned once into small integer ids (field_intern) so that
 * compiled decoders and rules refer to fields by id, and an event finds the
 * values of a field in O(1) through a generation-stamped index. The registry
 * is append-only with a fixed capacity: lookups are lock-free and may run in
 * any thread while a loader interns new names. Names that were never interned
 * (for example arbitrary keys of a JSON message) are kept in the event with
 * id FIELD_NONE and their name copied, so nothing is lost on output.
 *
 * Values live in the event's arena; a value's string is always NUL-terminated.
 * Events are reused: vg_event_reset() forgets every field in O(1).
 */
#ifndef VG_EVENT_H
#define VG_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define FIELD_MAX 65536u
#define FIELD_NONE 0u
#define FENT_END UINT32_MAX

/* Fields with fixed ids, registered before anything else. */
enum {
	F_TIMESTAMP = 1,        /* @timestamp */
	F_HOST_HOSTNAME,        /* host.hostname */
	F_PROCESS_NAME,         /* process.name */
	F_PROCESS_PID,          /* process.pid */
	F_SYSLOG_PRIORITY,      /* log.syslog.priority */
	F_SYSLOG_FACILITY,      /* log.syslog.facility.code */
	F_SYSLOG_SEVERITY,      /* log.syslog.severity.code */
	F_SYSLOG_MSGID,         /* log.syslog.msgid */
	F_SYSLOG_VERSION,       /* log.syslog.version */
	F_SYSLOG_APPNAME,       /* log.syslog.appname */
	F_MESSAGE,              /* message */
	F_OBSERVER_INGRESS,     /* observer.ingress */
	F_LOG_SOURCE_ADDRESS,   /* log.source.address */
	F_EVENT_ORIGINAL,       /* event.original */
	F_BUILTIN_END
};

/* Register the builtin names; idempotent, called implicitly by field_*(). */
void field_init(void);
/* Id of name, registering it if new; FIELD_NONE only when the registry is
 * full. Thread-safe. */
uint32_t field_intern(const char *name, size_t len);
/* Id of name or FIELD_NONE; lock-free, any thread. */
uint32_t field_lookup(const char *name, size_t len);
/* Name of an interned id (NUL-terminated, lives forever). */
const char *field_name(uint32_t id);
uint32_t field_name_len(uint32_t id);
/* Ids in use are 1..field_count(). */
uint32_t field_count(void);

enum value_kind { V_STR = 0, V_NUM, V_BOOL, V_NULL };

struct value {
	const char *s;   /* text form, NUL-terminated ("true", "null", "42") */
	uint32_t len;
	uint8_t kind;    /* enum value_kind */
	double num;      /* V_NUM: the number; V_BOOL: 0 or 1 */
};

struct fent {
	uint32_t id;       /* FIELD_NONE for names not interned */
	uint32_t next;     /* next value of the same field, or FENT_END */
	const char *name;  /* NUL-terminated; interned name or arena copy */
	uint32_t name_len;
	uint8_t dead;      /* removed by vg_event_set/vg_event_del */
	struct value v;
};

struct vg_event {
	struct arena arena;
	struct fent *ents;
	uint32_t n, cap;
	/* index: first[id]/last[id] valid when stamp[id] == gen */
	uint32_t *first, *last, *stamp;
	uint32_t gen;

	int64_t ts_ms;      /* event time (ms since epoch), valid if has_ts */
	int has_ts;
	int64_t recv_ms;    /* time of receipt */
	const char *raw;    /* the message as received (arena copy) */
	size_t raw_len;
	const char *decoder; /* name of the decoder that matched, or NULL */
};

struct vg_event *vg_event_new(void);
void vg_event_free(struct vg_event *ev);
/* Forget all fields and the arena's contents. */
void vg_event_reset(struct vg_event *ev);

/* Add one value; s is copied into the arena. Returns the entry index. */
uint32_t vg_event_add(struct vg_event *ev, uint32_t id, const char *s, size_t len);
/* Add one value without copying: s must stay valid and NUL-terminated at
 * s[len] for the life of the event (an arena string, a literal). */
uint32_t vg_event_add_ref(struct vg_event *ev, uint32_t id, const char *s, size_t len);
/* Make room for n more entries (ev->cap - ev->n >= n); returns where the
 * next one goes. vg_event_push grows the entries with it. */
struct fent *vg_event_reserve(struct vg_event *ev, uint32_t n);
/*
 * Chain entry at, of field id (not FIELD_NONE), after the field's earlier
 * values in the index. The arrays are the event's (ents, stamp, first,
 * last, gen), passed so that a caller adding many entries loads them into
 * locals once: its stores to the entries could otherwise alias them.
 */
static inline void vg_event_link(struct fent *ents, uint32_t *stamp,
    uint32_t *first, uint32_t *last, uint32_t gen, uint32_t id, uint32_t at)
{
	if (stamp[id] != gen) {
		stamp[id] = gen;
		first[id] = at;
	} else {
		ents[last[id]].next = at;
	}
	last[id] = at;
}
/*
 * What every adder does, inline for the stages that add fields to every
 * event (syslog, decoders): one entry for id, named name[0..name_len) (its
 * interned name: field_name(id), field_name_len(id)), with text s[0..len)
 * that outlives the event and is NUL-terminated, chained after the
 * field's earlier values. Returns the entry index.
 */
static inline uint32_t vg_event_push(struct vg_event *ev, uint32_t id,
    const char *name, uint32_t name_len, const char *s, size_t len,
    enum value_kind kind, double num)
{
	struct fent *e;
	uint32_t i;

	if (ev->n == ev->cap)
		(void)vg_event_reserve(ev, 1);
	i = ev->n++;
	e = &ev->ents[i];
	e->id = id;
	e->next = FENT_END;
	e->name = name;
	e->name_len = name_len;
	e->dead = 0;
	e->v.s = s;
	e->v.len = (uint32_t)len;
	e->v.kind = (uint8_t)kind;
	e->v.num = num;
	if (id != FIELD_NONE)
		vg_event_link(ev->ents, ev->stamp, ev->first, ev->last, ev->gen, id, i);
	return i;
}

/* Add n entries prepared by the caller (id, name, name_len and v as in a
 * struct fent; next and dead are set here) without copying their text,
 * which must stay valid and NUL-terminated for the life of the event: a
 * decoder's or syslog's constant fields, added together for less than n
 * vg_event_add_ref. Inline: the decoders add their winner's with it on
 * most events. */
static inline void vg_event_add_ents(struct vg_event *ev, const struct fent *e,
    uint32_t n)
{
	uint32_t *stamp, *first, *last, gen, at;
	struct fent *ents;

	if (n == 0)
		return;
	if (ev->cap - ev->n < n)
		(void)vg_event_reserve(ev, n);
	ents = ev->ents;
	stamp = ev->stamp;
	first = ev->first;
	last = ev->last;
	gen = ev->gen;
	at = ev->n;
	for (uint32_t k = 0; k < n; k++, at++) {
		ents[at] = e[k];
		ents[at].next = FENT_END;
		ents[at].dead = 0;
		if (e[k].id != FIELD_NONE)
			vg_event_link(ents, stamp, first, last, gen, e[k].id, at);
	}
	ev->n = at;
}
/* Add a number (text copied, num parsed by the caller). */
uint32_t vg_event_add_num(struct vg_event *ev, uint32_t id, const char *s, size_t len,
    double num);
/* Add a value of any kind for a field named by its text; interned names get
 * their id, others are stored with FIELD_NONE and a copied name. */
uint32_t vg_event_add_named(struct vg_event *ev, const char *name, size_t nlen,
    const char *s, size_t len, enum value_kind kind, double num);
/* Replace every value of id with this one (copied). */
uint32_t vg_event_set(struct vg_event *ev, uint32_t id, const char *s, size_t len);
/* Remove every value of id. */
void vg_event_del(struct vg_event *ev, uint32_t id);

/* First entry index of id, or FENT_END; walk with ents[i].next. */
static inline uint32_t vg_event_first(const struct vg_event *ev, uint32_t id)
{
	if (id == FIELD_NONE || id >= FIELD_MAX || ev->stamp[id] != ev->gen)
		return FENT_END;
	return ev->first[id];
}

/* First value of id, or NULL. */
static inline const struct value *vg_event_get(const struct vg_event *ev, uint32_t id)
{
	uint32_t i = vg_event_first(ev, id);

	return i == FENT_END ? NULL : &ev->ents[i].v;
}

/* First value of id as a string, or NULL. */
static inline const char *vg_event_str(const struct vg_event *ev, uint32_t id)
{
	const struct value *v = vg_event_get(ev, id);

	return v ? v->s : NULL;
}

#endif
