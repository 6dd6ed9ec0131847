/*
 * event.c: the field registry and the event container; see event.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "event.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "vg.h"

#define SLOTS (FIELD_MAX * 2u) /* open addressing, load factor <= 1/2 */

static _Atomic uint32_t slots[SLOTS];
static const char *names[FIELD_MAX];
static uint32_t name_lens[FIELD_MAX];
static _Atomic uint32_t nnames;
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static const char *const builtin[] = {
	[F_TIMESTAMP] = "@timestamp",
	[F_HOST_HOSTNAME] = "host.hostname",
	[F_PROCESS_NAME] = "process.name",
	[F_PROCESS_PID] = "process.pid",
	[F_SYSLOG_PRIORITY] = "log.syslog.priority",
	[F_SYSLOG_FACILITY] = "log.syslog.facility.code",
	[F_SYSLOG_SEVERITY] = "log.syslog.severity.code",
	[F_SYSLOG_MSGID] = "log.syslog.msgid",
	[F_SYSLOG_VERSION] = "log.syslog.version",
	[F_SYSLOG_APPNAME] = "log.syslog.appname",
	[F_MESSAGE] = "message",
	[F_OBSERVER_INGRESS] = "observer.ingress",
	[F_LOG_SOURCE_ADDRESS] = "log.source.address",
	[F_EVENT_ORIGINAL] = "event.original",
};

static uint32_t hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* Probe for name; returns its id, or 0 with *slot set to the empty slot. */
static uint32_t probe(const char *name, size_t len, uint32_t *slot)
{
	uint32_t i = hash(name, len) & (SLOTS - 1);

	for (;;) {
		uint32_t id = atomic_load_explicit(&slots[i], memory_order_acquire);

		if (id == 0) {
			if (slot != NULL)
				*slot = i;
			return 0;
		}
		if (name_lens[id] == len && memcmp(names[id], name, len) == 0)
			return id;
		i = (i + 1) & (SLOTS - 1);
	}
}

static uint32_t intern_locked(const char *name, size_t len)
{
	uint32_t slot, id;
	char *copy;

	if ((id = probe(name, len, &slot)) != 0)
		return id;
	id = atomic_load_explicit(&nnames, memory_order_relaxed) + 1;
	if (id >= FIELD_MAX)
		return FIELD_NONE;
	copy = vg_strndup(name, len);
	names[id] = copy;
	name_lens[id] = (uint32_t)len;
	atomic_store_explicit(&nnames, id, memory_order_release);
	atomic_store_explicit(&slots[slot], id, memory_order_release);
	return id;
}

static void init_builtins(void)
{
	pthread_mutex_lock(&intern_lock);
	for (uint32_t id = 1; id < F_BUILTIN_END; id++)
		intern_locked(builtin[id], strlen(builtin[id]));
	pthread_mutex_unlock(&intern_lock);
}

void field_init(void)
{
	pthread_once(&init_once, init_builtins);
}

uint32_t field_intern(const char *name, size_t len)
{
	uint32_t id;

	field_init();
	if ((id = probe(name, len, NULL)) != 0)
		return id;
	pthread_mutex_lock(&intern_lock);
	id = intern_locked(name, len);
	pthread_mutex_unlock(&intern_lock);
	return id;
}

uint32_t field_lookup(const char *name, size_t len)
{
	field_init();
	return probe(name, len, NULL);
}

const char *field_name(uint32_t id)
{
	field_init();
	if (id == FIELD_NONE || id > atomic_load_explicit(&nnames, memory_order_acquire))
		return "";
	return names[id];
}

uint32_t field_name_len(uint32_t id)
{
	field_init();
	if (id == FIELD_NONE || id > atomic_load_explicit(&nnames, memory_order_acquire))
		return 0;
	return name_lens[id];
}

uint32_t field_count(void)
{
	field_init();
	return atomic_load_explicit(&nnames, memory_order_acquire);
}

struct vg_event *vg_event_new(void)
{
	struct vg_event *ev = vg_calloc(1, sizeof(*ev));

	field_init();
	arena_init(&ev->arena, 32768);
	ev->cap = 64;
	ev->ents = vg_malloc(ev->cap * sizeof(*ev->ents));
	/* calloc'd: pages of the index are touched only for ids in use */
	ev->first = vg_calloc(FIELD_MAX, sizeof(uint32_t));
	ev->last = vg_calloc(FIELD_MAX, sizeof(uint32_t));
	ev->stamp = vg_calloc(FIELD_MAX, sizeof(uint32_t));
	ev->gen = 1;
	return ev;
}

void vg_event_free(struct vg_event *ev)
{
	if (ev == NULL)
		return;
	arena_destroy(&ev->arena);
	free(ev->ents);
	free(ev->first);
	free(ev->last);
	free(ev->stamp);
	free(ev);
}

void vg_event_reset(struct vg_event *ev)
{
	/* the usual event fits the first chunk: nothing to free */
	if (ev->arena.head == ev->arena.first && ev->arena.first->next == NULL)
		ev->arena.first->used = 0;
	else
		arena_reset(&ev->arena);
	ev->n = 0;
	if (++ev->gen == 0) {
		/* wrapped: stale stamps could look current */
		memset(ev->stamp, 0, FIELD_MAX * sizeof(uint32_t));
		ev->gen = 1;
	}
	ev->ts_ms = 0;
	ev->has_ts = 0;
	ev->recv_ms = 0;
	ev->raw = NULL;
	ev->raw_len = 0;
	ev->decoder = NULL;
}

/*
 * field_name() and field_name_len() for the hot path: an id a caller holds
 * came from field_intern, which ran field_init first, so the registry is
 * set up and the pthread_once of every field_* call can be skipped. An id
 * above the count (never interned) reads as the empty name, as there.
 */
static inline void name_of(uint32_t id, const char **name, uint32_t *len)
{
	if (id == FIELD_NONE ||
	    id > atomic_load_explicit(&nnames, memory_order_acquire)) {
		*name = "";
		*len = 0;
		return;
	}
	*name = names[id];
	*len = name_lens[id];
}

uint32_t vg_event_add_ref(struct vg_event *ev, uint32_t id, const char *s, size_t len)
{
	const char *name;
	uint32_t nlen;

	name_of(id, &name, &nlen);
	return vg_event_push(ev, id, name, nlen, s, len, V_STR, 0);
}

struct fent *vg_event_reserve(struct vg_event *ev, uint32_t n)
{
	if (ev->cap - ev->n < n) {
		while (ev->cap - ev->n < n)
			ev->cap *= 2;
		ev->ents = vg_realloc(ev->ents, ev->cap * sizeof(*ev->ents));
	}
	return ev->ents + ev->n;
}

uint32_t vg_event_add(struct vg_event *ev, uint32_t id, const char *s, size_t len)
{
	const char *name;
	uint32_t nlen;

	name_of(id, &name, &nlen);
	return vg_event_push(ev, id, name, nlen, arena_strdup_in(&ev->arena, s, len), len,
	    V_STR, 0);
}

uint32_t vg_event_add_num(struct vg_event *ev, uint32_t id, const char *s, size_t len,
    double num)
{
	const char *name;
	uint32_t nlen;

	name_of(id, &name, &nlen);
	return vg_event_push(ev, id, name, nlen, arena_strdup_in(&ev->arena, s, len), len,
	    V_NUM, num);
}

uint32_t vg_event_add_named(struct vg_event *ev, const char *name, size_t nlen,
    const char *s, size_t len, enum value_kind kind, double num)
{
	uint32_t id = field_lookup(name, nlen);
	const char *nm;

	if (id != FIELD_NONE)
		nm = field_name(id);
	else
		nm = arena_strndup(&ev->arena, name, nlen);
	return vg_event_push(ev, id, nm, (uint32_t)nlen, arena_strndup(&ev->arena, s, len),
	    len, kind, num);
}

void vg_event_del(struct vg_event *ev, uint32_t id)
{
	for (uint32_t i = vg_event_first(ev, id); i != FENT_END; i = ev->ents[i].next)
		ev->ents[i].dead = 1;
	if (id != FIELD_NONE && id < FIELD_MAX)
		ev->stamp[id] = 0;
}

uint32_t vg_event_set(struct vg_event *ev, uint32_t id, const char *s, size_t len)
{
	vg_event_del(ev, id);
	return vg_event_add(ev, id, s, len);
}
