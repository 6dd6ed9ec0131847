/*
 * response.c: the response service's frame: loading what the
 * configuration names, the queue between worker threads and the response
 * loop, turning alerts into incidents (one Redis script per incident key
 * and batch), dead letters raised as alerts, and the metrics.
 *
 * The queue: response_submit runs in worker threads, so it first decides
 * with a byte scan of the alert line (kind, rule id, title, level) whether
 * anyone could want the alert; most low-level detections stop there. The
 * rest is appended under a mutex and the loop is woken once per batch.
 * The loop parses each alert (without its event object when nothing of
 * the configuration could read it), checks playbooks and silences exactly, and
 * folds alerts of one key into one script call per batch, so a flood
 * costs a round trip per incident, not per alert.
 *
 * Nothing is drained from the queue until the silences and the outbox
 * have been read once (response_store.c), so a restart neither pages a
 * silenced alert nor resends a queued page twice.
 */
#include "response_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "alert.h"
#include "log.h"
#include "notify_xfer.h"
#include "vgtime.h"

#define QUEUE_MAX_ALERTS 100000
#define QUEUE_MAX_BYTES (64u << 20)
#define ALERT_MAX (1u << 20)
#define DRAIN_MAX 2000           /* alerts per loop turn */
#define DRAIN_EVERY_MS 10        /* under load, batches at most this often */
#define FULL_SLOTS 8192

/* ---- loading ---- */

struct loaded {
	struct execstep_policy *xp;
	struct notify_channels *chans;
	struct oncall *oc;
	struct playbook_set *pbs;
	struct playbook_set *dflt;
	struct playbook_stats st;
};

static void loaded_free(struct loaded *L)
{
	playbook_set_free(L->dflt);
	playbook_set_free(L->pbs);
	oncall_free(L->oc);
	notify_channels_free(L->chans);
	execstep_policy_free(L->xp);
	memset(L, 0, sizeof(*L));
}

/* Everything the configuration names; problems to d. Returns the number
 * of errors in the configuration itself (channels, on-call, exec folders,
 * the default policy); playbooks with errors are skipped and counted in
 * L->st.rejected, like rules and decoders. */
static int load_all(const struct config *cfg, struct vg_diag *d,
    struct loaded *L)
{
	const struct config_response *rc = &cfg->response;
	struct vg_err err = { 0 };
	struct notify_load_opts no = { 0 };
	struct oncall_opts oo = { 0 };
	struct playbook_opts po = { 0 };
	int errors = 0;

	memset(L, 0, sizeof(*L));
	if (rc->nexec_dirs > 0) {
		L->xp = execstep_policy_new((const char *const *)rc->exec_dirs,
		    rc->nexec_dirs, &err);
		if (L->xp == NULL) {
			vg_diag_error(d, cfg->file, rc->line, 0,
			    "response.exec_dirs: %s", err.msg);
			errors++;
		}
	}
	no.exec = L->xp;
	if ((L->chans = notify_channels_load(cfg->channels, &no, d)) == NULL) {
		errors++;
		L->chans = vg_calloc(1, sizeof(*L->chans));
	}
	oo.channel_exists = notify_channel_exists;
	oo.ctx = L->chans;
	if ((L->oc = oncall_load(cfg->oncall, &oo, d)) == NULL) {
		errors++;
		L->oc = oncall_load(NULL, NULL, NULL);
	}
	po.oncall = L->oc;
	po.channel_exists = notify_channel_exists;
	po.ctx = L->chans;
	po.nchannels = L->chans->n;
	po.exec = L->xp;
	po.protected = (const char *const *)rc->protected;
	po.nprotected = rc->nprotected;
	L->pbs = playbook_load((const char *const *)cfg->playbooks,
	    cfg->nplaybooks, &po, d, &L->st);
	if (rc->default_policy != NULL && rc->default_policy[0] != '\0') {
		struct buf y;
		struct playbook_stats st = { 0 };

		if (oncall_policy(L->oc, rc->default_policy) == NULL) {
			vg_diag_error(d, cfg->file, rc->line, 0,
			    "response.default_policy: no escalation policy named '%s' "
			    "under oncall.escalation_policies", rc->default_policy);
			errors++;
		} else {
			buf_init(&y);
			buf_printf(&y, "name: " RESP_DEFAULT_PB "\n"
			    "match: {level: informational}\n"
			    "steps:\n  - id: page\n    notify:\n      policy: \"%s\"\n",
			    rc->default_policy);
			L->dflt = playbook_load_buffer("response.default_policy", y.p,
			    y.len, &po, d, &st);
			buf_free(&y);
			if (st.rejected > 0 || L->dflt == NULL || L->dflt->n != 1)
				errors++;
		}
	}
	return errors;
}

int response_check(const struct config *cfg, struct vg_diag *d)
{
	struct loaded L;
	int errors = load_all(cfg, d, &L);

	errors += L.st.rejected;
	loaded_free(&L);
	return errors;
}

/* ---- the cheap filter ---- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is the raw JSON string s[0..n) (escaped, no quotes) a name playbooks
 * want? */
static int name_wanted(const struct response *r, const char *s, size_t n)
{
	size_t lo = 0, hi = r->nnames;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *m = r->names[mid];
		size_t ml = strlen(m);
		int c = memcmp(s, m, n < ml ? n : ml);

		if (c == 0)
			c = n < ml ? -1 : n > ml ? 1 : 0;
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static void add_name(struct response *r, const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_json_str(&b, s, strlen(s));
	r->names = vg_realloc(r->names, (r->nnames + 1) * sizeof(*r->names));
	r->names[r->nnames++] = vg_strndup(b.p + 1, b.len - 2);
	buf_free(&b);
}

static void filter_build(struct response *r)
{
	for (size_t i = 0; i < r->pbs->n; i++) {
		const struct playbook *pb = r->pbs->pbs[i];

		if (!pb->enabled)
			continue;
		if (pb->nrules > 0) {
			for (size_t k = 0; k < pb->nrules; k++)
				add_name(r, pb->rules[k]);
			continue;
		}
		r->wild = vg_realloc(r->wild, (r->nwild + 1) * sizeof(*r->wild));
		r->wild[r->nwild].kind = pb->kind;
		r->wild[r->nwild].min_level = pb->min_level;
		r->wild[r->nwild].levels = pb->levels;
		r->nwild++;
	}
	if (r->nnames > 0)
		qsort(r->names, r->nnames, sizeof(*r->names), name_cmp);
}

/* After `"key":` at p: a JSON string's raw body, or null (*n = 0, *s =
 * NULL). Returns the position after it, or NULL when neither. */
static const char *raw_str(const char *p, const char *end, const char **s,
    size_t *n)
{
	if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
		*s = NULL;
		*n = 0;
		return p + 4;
	}
	if (p >= end || *p != '"')
		return NULL;
	*s = ++p;
	/* the first quote not escaped: an even run of backslashes before it
	 * (memchr: every alert line goes through here, on the workers) */
	for (;;) {
		const char *q = memchr(p, '"', (size_t)(end - p)), *b;

		if (q == NULL)
			return NULL;
		for (b = q; b > *s && b[-1] == '\\'; b--)
			;
		if (((q - b) & 1) == 0) {
			*n = (size_t)(q - *s);
			return q + 1;
		}
		p = q + 1;
	}
}

static const char *expect(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
		return NULL;
	return p + n;
}

static int level_of(const char *s, size_t n)
{
	static const char *const names[] = {
		"informational", "low", "medium", "high", "critical",
	};

	for (int i = 0; s != NULL && i < 5; i++) {
		if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
			return i;
	}
	return 0;
}

/*
 * Could an incident come of this alert? A byte scan of the fixed alert
 * layout (kind, then rule id, title, level); anything unexpected says yes,
 * so the exact decision on the loop stays the only one that drops.
 */
static int wanted(const struct response *r, const char *s, size_t len)
{
	const char *end = s + len, *p, *id, *title, *lvs;
	size_t idn, titlen, lvn;
	int corr, lv;

	p = memmem(s, len, "\"kind\":\"", 8);
	if (p == NULL)
		return 1;
	p += 8;
	if (expect(p, end, "correlation\"") != NULL)
		return 1;
	if ((p = expect(p, end, "detection\",\"rule\":{\"id\":")) == NULL)
		return 1;
	corr = 0;
	if ((p = raw_str(p, end, &id, &idn)) == NULL ||
	    (p = expect(p, end, ",\"title\":")) == NULL ||
	    (p = raw_str(p, end, &title, &titlen)) == NULL ||
	    (p = expect(p, end, ",\"level\":")) == NULL ||
	    raw_str(p, end, &lvs, &lvn) == NULL)
		return 1;
	lv = level_of(lvs, lvn);
	if (lv >= r->rc->min_level)
		return 1;
	if ((id != NULL && name_wanted(r, id, idn)) ||
	    (title != NULL && name_wanted(r, title, titlen)))
		return 1;
	for (size_t i = 0; i < r->nwild; i++) {
		const struct wild *w = &r->wild[i];

		if (w->kind == 1 && !corr)
			continue;
		if (w->min_level >= 0 && lv < w->min_level)
			continue;
		if (w->levels != 0 && !(w->levels & (1u << lv)))
			continue;
		return 1;
	}
	return 0;
}

/* ---- the queue ---- */

static int enqueue(struct response *r, char flag, const char *json,
    size_t len)
{
	int kick = 0;

	pthread_mutex_lock(&r->mu);
	if (r->qn >= QUEUE_MAX_ALERTS || r->q.len + len + 2 > QUEUE_MAX_BYTES) {
		pthread_mutex_unlock(&r->mu);
		__atomic_add_fetch(&r->dropped_atomic, 1, __ATOMIC_RELAXED);
		return -1;
	}
	buf_addc(&r->q, flag);
	buf_add(&r->q, json, len);
	buf_addc(&r->q, '\n');
	r->qn++;
	if (!r->armed) {
		r->armed = 1;
		kick = 1;
	}
	pthread_mutex_unlock(&r->mu);
	if (kick)
		event_active(r->qev, EV_READ, 0);
	return 1;
}

int response_submit(struct response *r, const char *json, size_t len)
{
	if (r == NULL)
		return 0;
	while (len > 0 && (json[len - 1] == '\n' || json[len - 1] == '\r'))
		len--;
	__atomic_add_fetch(&r->submitted_atomic, 1, __ATOMIC_RELAXED);
	if (len == 0 || len > ALERT_MAX || memchr(json, '\n', len) != NULL) {
		__atomic_add_fetch(&r->dropped_atomic, 1, __ATOMIC_RELAXED);
		return -1;
	}
	if (!wanted(r, json, len)) {
		__atomic_add_fetch(&r->filtered_atomic, 1, __ATOMIC_RELAXED);
		return 0;
	}
	return enqueue(r, 'N', json, len);
}

struct keep {
	const char *s;
	size_t n;
};

/* Append kept lines under one lock; returns how many fit. */
static size_t keep_flush(struct response *r, const struct keep *k, size_t n,
    size_t *dropped)
{
	size_t queued = 0;
	int kick = 0;

	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < n; i++) {
		if (r->qn >= QUEUE_MAX_ALERTS ||
		    r->q.len + k[i].n + 2 > QUEUE_MAX_BYTES) {
			(*dropped)++;
			continue;
		}
		buf_addc(&r->q, 'N');
		buf_add(&r->q, k[i].s, k[i].n);
		buf_addc(&r->q, '\n');
		r->qn++;
		queued++;
	}
	if (!r->armed && r->qn > 0) {
		r->armed = 1;
		kick = 1;
	}
	pthread_mutex_unlock(&r->mu);
	if (kick)
		event_active(r->qev, EV_READ, 0);
	return queued;
}

/* What the submit filter did with a buffer of lines. */
struct submit {
	struct keep keep[64];
	size_t nkeep, queued, submitted, filtered, dropped;
};

/* One line s[0..e) without its newline. */
static void submit_line(struct response *r, struct submit *u, const char *s,
    const char *e)
{
	if (e > s && e[-1] == '\r')
		e--;
	if (e == s)
		return;
	u->submitted++;
	if ((size_t)(e - s) > ALERT_MAX) {
		u->dropped++;
		return;
	}
	if (!wanted(r, s, (size_t)(e - s))) {
		u->filtered++;
		return;
	}
	u->keep[u->nkeep].s = s;
	u->keep[u->nkeep].n = (size_t)(e - s);
	if (++u->nkeep == VG_ARRAY_LEN(u->keep)) {
		u->queued += keep_flush(r, u->keep, u->nkeep, &u->dropped);
		u->nkeep = 0;
	}
}

static size_t submit_done(struct response *r, struct submit *u)
{
	if (u->nkeep > 0)
		u->queued += keep_flush(r, u->keep, u->nkeep, &u->dropped);
	if (u->submitted)
		__atomic_add_fetch(&r->submitted_atomic, u->submitted,
		    __ATOMIC_RELAXED);
	if (u->filtered)
		__atomic_add_fetch(&r->filtered_atomic, u->filtered,
		    __ATOMIC_RELAXED);
	if (u->dropped)
		__atomic_add_fetch(&r->dropped_atomic, u->dropped,
		    __ATOMIC_RELAXED);
	return u->queued;
}

size_t response_submit_lines(struct response *r, const char *lines,
    size_t len)
{
	const char *p = lines, *end = lines + len;
	struct submit u;

	if (r == NULL)
		return 0;
	u.nkeep = u.queued = u.submitted = u.filtered = u.dropped = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *s = p;

		p = nl ? nl + 1 : end;
		submit_line(r, &u, s, e);
	}
	return submit_done(r, &u);
}

size_t response_submit_ends(struct response *r, const char *lines,
    const size_t *ends, size_t n)
{
	struct submit u;
	size_t at = 0;

	if (r == NULL)
		return 0;
	u.nkeep = u.queued = u.submitted = u.filtered = u.dropped = 0;
	for (size_t i = 0; i < n; i++) {
		/* the producer knows where its lines end: the filter reads
		 * the start of each and nothing scans the rest */
		size_t e = ends[i];

		if (e > at && lines[e - 1] == '\n')
			submit_line(r, &u, lines + at, lines + e - 1);
		else
			submit_line(r, &u, lines + at, lines + e);
		at = e;
	}
	return submit_done(r, &u);
}

/* ---- alerts into incidents ---- */

struct batch {
	char *key;
	size_t n, nsil;
	char *first;             /* the first alert's line */
	char last_id[64];
	char *rule_id, *title, *level, *kind, *group, *summary;
	int high;
	struct svec pbs;         /* name, alert line, ... */
	struct svec tl;
};

struct batches {
	struct batch *v;
	size_t n;
	size_t *slots;           /* hash of keys: index + 1, 0 empty */
	size_t nslots;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct batch *batch_get(struct batches *bs, const char *key,
    int *fresh)
{
	size_t i;

	if (bs->nslots == 0) {
		bs->nslots = 4096;
		bs->slots = vg_calloc(bs->nslots, sizeof(*bs->slots));
	}
	for (i = fnv(key) & (bs->nslots - 1); bs->slots[i] != 0;
	    i = (i + 1) & (bs->nslots - 1)) {
		if (strcmp(bs->v[bs->slots[i] - 1].key, key) == 0) {
			*fresh = 0;
			return &bs->v[bs->slots[i] - 1];
		}
	}
	bs->v = vg_realloc(bs->v, (bs->n + 1) * sizeof(*bs->v));
	memset(&bs->v[bs->n], 0, sizeof(bs->v[0]));
	bs->v[bs->n].key = vg_strdup(key);
	bs->slots[i] = ++bs->n;
	*fresh = 1;
	return &bs->v[bs->n - 1];
}

static void batches_free(struct batches *bs)
{
	for (size_t i = 0; i < bs->n; i++) {
		struct batch *b = &bs->v[i];

		free(b->key);
		free(b->first);
		free(b->rule_id);
		free(b->title);
		free(b->level);
		free(b->kind);
		free(b->group);
		free(b->summary);
		svec_free(&b->pbs);
		svec_free(&b->tl);
	}
	free(bs->v);
	free(bs->slots);
	memset(bs, 0, sizeof(*bs));
}

/* The set of keys with a full alert timeline: open addressing over
 * hashes, emptied when half full (forgetting costs only entries sent in
 * vain). */
static size_t full_slot(const struct response *r, uint64_t h)
{
	size_t i = h & (FULL_SLOTS - 1);

	while (r->full[i] != 0 && r->full[i] != h)
		i = (i + 1) & (FULL_SLOTS - 1);
	return i;
}

static int full_has(const struct response *r, const char *key)
{
	uint64_t h = fnv(key) | 1;

	return r->full[full_slot(r, h)] == h;
}

static void full_set(struct response *r, const char *key, int on)
{
	uint64_t h = fnv(key) | 1;
	size_t i = full_slot(r, h);

	if (!on) {
		/* a new incident for the key: rebuild without it */
		if (r->full[i] == h) {
			uint64_t *old = r->full;

			r->full = vg_calloc(FULL_SLOTS, sizeof(*r->full));
			r->nfull = 0;
			for (size_t k = 0; k < FULL_SLOTS; k++) {
				if (old[k] != 0 && old[k] != h) {
					r->full[full_slot(r, old[k])] = old[k];
					r->nfull++;
				}
			}
			free(old);
		}
		return;
	}
	if (r->full[i] == h)
		return;
	if (r->nfull >= FULL_SLOTS / 2) {
		memset(r->full, 0, FULL_SLOTS * sizeof(*r->full));
		r->nfull = 0;
		i = full_slot(r, h);
	}
	r->full[i] = h;
	r->nfull++;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The incident key and the summary's tail ("source.ip=203.0.113.9"). */
static void make_key(const struct response *r, const json_t *alert,
    const struct playbook *by, struct buf *key, struct buf *tail)
{
	char val[512];

	if (by != NULL) {
		buf_printf(key, "p|%s", by->name);
		for (size_t i = 0; i < by->ngroup_by; i++) {
			const json_t *v = resp_alert_field(alert, by->group_by[i]);

			if (v == NULL || resp_scalar(v, val, sizeof(val)) < 0)
				val[0] = '\0';
			buf_printf(key, "|%s=%s", by->group_by[i], val);
			buf_printf(tail, "%s%s=%s", i ? ", " : "", by->group_by[i], val);
		}
		return;
	}
	if (resp_rule_key(r, alert, jstr(json_object_get(alert, "rule"), "id"),
	    key, tail))
		return;
	buf_printf(key, "r|%s", jstr(json_object_get(alert, "rule"), "id"));
	{
		const json_t *g = json_object_get(alert, "group");
		const char *names[64];
		size_t n = 0;
		const char *k;
		json_t *v;

		json_object_foreach((json_t *)g, k, v) {
			if (n < VG_ARRAY_LEN(names))
				names[n++] = k;
		}
		qsort(names, n, sizeof(*names), cmp_keys);
		for (size_t i = 0; i < n; i++) {
			v = json_object_get(g, names[i]);
			if (resp_scalar(v, val, sizeof(val)) < 0)
				val[0] = '\0';
			buf_printf(key, "|%s=%s", names[i], val);
			buf_printf(tail, "%s%s=%s", i ? ", " : "", names[i], val);
		}
	}
}

static const struct silence *silenced_by(const struct response *r,
    const json_t *alert, int64_t now)
{
	for (size_t i = 0; i < r->nsil; i++) {
		if (silence_matches(&r->sil[i], alert, now))
			return &r->sil[i];
	}
	return NULL;
}

/*
 * Parsing an alert without its event. Most of an alert line is the event
 * object, and jansson allocates for each of its keys and values; the
 * incident only needs the event when a playbook, a silence or a rule's
 * incident key could look into it. skip_value passes over one JSON value
 * of a strict subset (no \u escapes, no exponents, integers of at most 18
 * digits, well-formed UTF-8, nesting at most SKIP_DEPTH): what it accepts
 * jansson accepts too, so leaving a value it passed out of the parse
 * changes nothing but that member; on anything else the whole line is
 * parsed and jansson judges it.
 */
#define SKIP_DEPTH 32

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Bytes of the UTF-8 sequence at p (lead >= 0x80), 0 if malformed. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	}
	return n;
}

/* p at '"': just past the closing quote, or NULL. */
static const char *skip_str(const char *p, const char *end)
{
	for (p++; p < end; ) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			if (end - p < 2 || strchr("\"\\/bfnrt", p[1]) == NULL ||
			    p[1] == '\0')
				return NULL;
			p += 2;
		} else if (c >= 0x80) {
			size_t n = utf8_len((const unsigned char *)p,
			    (const unsigned char *)end);

			if (n == 0)
				return NULL;
			p += n;
		} else {
			p++;
		}
	}
	return NULL;
}

static const char *skip_digits(const char *p, const char *end, size_t max)
{
	const char *s = p;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > s && (size_t)(p - s) <= max ? p : NULL;
}

static const char *skip_value(const char *p, const char *end, int depth)
{
	if (p >= end)
		return NULL;
	switch (*p) {
	case '"':
		return skip_str(p, end);
	case '{':
	case '[': {
		char close = *p == '{' ? '}' : ']';

		if (depth >= SKIP_DEPTH)
			return NULL;
		p = skip_ws(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (p >= end || *p != '"' ||
				    (p = skip_str(p, end)) == NULL)
					return NULL;
				p = skip_ws(p, end);
				if (p >= end || *p != ':')
					return NULL;
				p = skip_ws(p + 1, end);
			}
			if ((p = skip_value(p, end, depth + 1)) == NULL)
				return NULL;
			p = skip_ws(p, end);
			if (p < end && *p == close)
				return p + 1;
			if (p >= end || *p != ',')
				return NULL;
			p = skip_ws(p + 1, end);
		}
	}
	case 't':
		return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		break;
	}
	/* -?(0|[1-9][0-9]*)(.[0-9]+)?, no exponent: never out of range */
	if (*p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p >= end || *p < '1' || *p > '9' ||
	    (p = skip_digits(p, end, 18)) == NULL)
		return NULL;
	if (p < end && *p == '.' && (p = skip_digits(p + 1, end, 30)) == NULL)
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E'))
		return NULL;
	return p;
}

/* The alert line without its top-level "event" members, in out; 0 when
 * there was one to leave out, -1 when the line is to be parsed whole. */
static int strip_event(const char *line, size_t len, struct buf *out)
{
	const char *p = line, *end = line + len;
	int cut = 0, first = 1;

	buf_clear(out);
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	buf_addc(out, '{');
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return -1;
	for (;;) {
		const char *k = p, *v;

		if (p >= end || *p != '"' || (p = skip_str(p, end)) == NULL)
			return -1;
		v = skip_ws(p, end);
		if (v >= end || *v != ':')
			return -1;
		if ((v = skip_value(skip_ws(v + 1, end), end, 1)) == NULL)
			return -1;
		if (p - k == 7 && memcmp(k, "\"event\"", 7) == 0) {
			cut = 1;
		} else {
			if (!first)
				buf_addc(out, ',');
			buf_add(out, k, (size_t)(v - k));
			first = 0;
		}
		p = skip_ws(v, end);
		if (p < end && *p == '}')
			break;
		if (p >= end || *p != ',')
			return -1;
		p = skip_ws(p + 1, end);
	}
	if (!cut)
		return -1;
	/* the closing brace and whatever follows: jansson judges the rest */
	buf_add(out, p, (size_t)(end - p));
	return 0;
}

/* Could anything of the current configuration look into the event? */
static int event_needed(const struct response *r)
{
	return r->nsil > 0 || r->nrkeys > 0 || r->pbs == NULL || r->pbs->n > 0;
}

/*
 * One drain's last few distinct alerts parsed without their event. A
 * flood's alerts mostly differ from an earlier one only in their id and
 * time; parsing each whole again was most of the response loop's cost.
 * rest: the text after those two, the same for every alert a parse
 * serves; next: the slot a new parse takes.
 */
#define MEMO_SLOTS 8
struct memo {
	json_t *a[MEMO_SLOTS];
	struct buf rest[MEMO_SLOTS];
	size_t next;
};

/* A plain JSON string at p (printable ASCII, no escapes): its text, and
 * where it ends. */
static const char *plain_str(const char *p, const char *end, const char **s,
    size_t *n)
{
	const char *q;

	if (p >= end || *p != '"')
		return NULL;
	for (q = p + 1; q < end && *q != '"'; q++) {
		if (*q == '\\' || (unsigned char)*q < 0x20 ||
		    (unsigned char)*q > 0x7e)
			return NULL;
	}
	if (q >= end)
		return NULL;
	*s = p + 1;
	*n = (size_t)(q - p - 1);
	return q + 1;
}

static void memo_init(struct memo *mo)
{
	for (size_t i = 0; i < MEMO_SLOTS; i++) {
		mo->a[i] = NULL;
		buf_init(&mo->rest[i]);
	}
	mo->next = 0;
}

static void memo_free(struct memo *mo)
{
	for (size_t i = 0; i < MEMO_SLOTS; i++) {
		json_decref(mo->a[i]);
		buf_free(&mo->rest[i]);
	}
}

/* Parse alert text s (its event left out) through mo: an alert that is
 * one parsed before but for a plain "id" and "@timestamp" in front reuses
 * that parse with those two set. A reference for the caller, or NULL. */
static json_t *memo_parse(struct memo *mo, const struct buf *s)
{
	const char *p = s->p, *end = s->p + s->len, *id = NULL, *ts = NULL;
	size_t idn = 0, tsn = 0, n, k;
	json_error_t jerr;
	json_t *a;

	if (s->len > 6 && memcmp(p, "{\"id\":", 6) == 0 &&
	    (p = plain_str(p + 6, end, &id, &idn)) != NULL &&
	    (size_t)(end - p) > 14 && memcmp(p, ",\"@timestamp\":", 14) == 0 &&
	    (p = plain_str(p + 14, end, &ts, &tsn)) != NULL) {
		n = (size_t)(end - p);
		for (k = 0; k < MEMO_SLOTS; k++) {
			if (mo->a[k] != NULL && mo->rest[k].len == n &&
			    memcmp(mo->rest[k].p, p, n) == 0)
				break;
		}
		if (k < MEMO_SLOTS &&
		    json_object_set_new(mo->a[k], "id", json_stringn(id, idn)) == 0 &&
		    json_object_set_new(mo->a[k], "@timestamp",
		    json_stringn(ts, tsn)) == 0)
			return json_incref(mo->a[k]);
	} else {
		p = NULL;
	}
	a = json_loadb(s->p, s->len, JSON_ALLOW_NUL, &jerr);
	if (p != NULL && json_is_object(a)) {
		k = mo->next;
		mo->next = (k + 1) % MEMO_SLOTS;
		json_decref(mo->a[k]);
		mo->a[k] = json_incref(a);
		buf_clear(&mo->rest[k]);
		buf_add(&mo->rest[k], p, (size_t)(end - p));
	}
	return a;
}

static void take_alert(struct response *r, struct batches *bs,
    const char *line, size_t len, int forced, int64_t now, struct buf *scratch,
    struct memo *mo)
{
	json_error_t jerr;
	json_t *a = !event_needed(r) && strip_event(line, len, scratch) == 0 ?
	    memo_parse(mo, scratch) :
	    json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	const struct playbook *m[32];
	const struct playbook *by = NULL;
	const struct silence *sil;
	const json_t *rule;
	struct batch *b;
	struct buf key, tail, e;
	size_t nm;
	int lv, corr, fresh, high;

	if (!json_is_object(a)) {
		r->st.invalid++;
		json_decref(a);
		return;
	}
	rule = json_object_get(a, "rule");
	lv = resp_level(jstr(rule, "level"));
	if (lv < 0)
		lv = 0;
	corr = strcmp(jstr(a, "kind"), "correlation") == 0;
	nm = playbook_match(r->pbs, a, m, VG_ARRAY_LEN(m));
	if (nm > VG_ARRAY_LEN(m))
		nm = VG_ARRAY_LEN(m);
	if (!forced && nm == 0 && !corr && lv < r->rc->min_level) {
		r->st.below_level++;
		json_decref(a);
		return;
	}
	r->st.taken++;
	sil = silenced_by(r, a, now);
	high = lv >= LEVEL_HIGH;
	{
		int said_low = 0, said_high = 0;

		for (size_t i = 0; i < nm; i++) {
			if (by == NULL && m[i]->ngroup_by > 0)
				by = m[i];
			said_high |= m[i]->urgency_high == 1;
			said_low |= m[i]->urgency_high == 0;
		}
		/* a playbook's urgency wins over the level; high wins over low */
		if (said_high)
			high = 1;
		else if (said_low)
			high = 0;
	}
	buf_init(&key);
	buf_init(&tail);
	buf_init(&e);
	make_key(r, a, by, &key, &tail);
	b = batch_get(bs, buf_cstr(&key), &fresh);
	if (fresh) {
		b->first = vg_strndup(line, len);
		b->rule_id = vg_strdup(jstr(rule, "id"));
		b->title = vg_strdup(jstr(rule, "title"));
		b->level = vg_strdup(jstr(rule, "level"));
		b->kind = vg_strdup(corr ? "correlation" : "detection");
		{
			char *g = json_dumps(json_object_get(a, "group"), JSON_COMPACT);

			b->group = g ? g : vg_strdup("{}");
		}
		buf_clear(&e);
		buf_adds(&e, b->title[0] ? b->title : b->rule_id);
		if (tail.len > 0)
			buf_printf(&e, " (%s)", buf_cstr(&tail));
		b->summary = vg_strdup(buf_cstr(&e));
	}
	if (high)
		b->high = 1;
	snprintf(b->last_id, sizeof(b->last_id), "%s", jstr(a, "id"));
	if (sil != NULL) {
		b->nsil++;
		r->st.silenced++;
	} else {
		b->n++;
		for (size_t i = 0; i < nm; i++) {
			size_t k;

			for (k = 0; k < b->pbs.n && strcmp(b->pbs.v[k], m[i]->name);
			    k += 2)
				;
			if (k >= b->pbs.n) {
				svec_add(&b->pbs, m[i]->name);
				svec_addn(&b->pbs, line, len);
			}
		}
		if (nm == 0 && r->dflt != NULL && b->pbs.n == 0) {
			svec_add(&b->pbs, RESP_DEFAULT_PB);
			svec_addn(&b->pbs, line, len);
		}
	}
	if (b->tl.n < RESP_TL_ALERTS) {
		char ts[32];

		vgtime_format(now, ts);
		buf_clear(&e);
		buf_printf(&e, "{\"ts\":\"%s\",\"type\":\"%s\",\"alert\":", ts,
		    sil ? "alert_silenced" : "alert");
		buf_json_str(&e, jstr(a, "id"), strlen(jstr(a, "id")));
		buf_adds(&e, ",\"rule\":");
		buf_json_str(&e, jstr(rule, "id"), strlen(jstr(rule, "id")));
		buf_printf(&e, ",\"level\":\"%s\",\"count\":%lld",
		    jstr(rule, "level"),
		    (long long)json_integer_value(json_object_get(a, "count")));
		if (sil != NULL) {
			buf_adds(&e, ",\"silence\":");
			buf_json_str(&e, sil->id, strlen(sil->id));
		}
		buf_addc(&e, '}');
		svec_addn(&b->tl, e.p, e.len);
	}
	buf_free(&key);
	buf_free(&tail);
	buf_free(&e);
	json_decref(a);
}

static void add_reply(struct response *r, struct rq *q, const redisReply *rep)
{
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 6 ||
	    rep->element[0]->type != REDIS_REPLY_STRING) {
		resp_redis_error(r, "adding alerts to an incident", rep);
		return;
	}
	if (rep->element[1]->type == REDIS_REPLY_INTEGER &&
	    rep->element[1]->integer == 1) {
		r->st.incidents_created++;
		full_set(r, q->s1, 0);
	}
	if (rep->element[5]->type == REDIS_REPLY_INTEGER &&
	    rep->element[5]->integer >= RESP_TL_ALERTS)
		full_set(r, q->s1, 1);
	for (size_t i = 6; i < rep->elements; i++) {
		if (rep->element[i]->type == REDIS_REPLY_STRING)
			run_start(r, rep->element[0]->str, rep->element[i]->str);
	}
}

static void send_batch(struct response *r, struct batch *b, int64_t now)
{
	struct svec a = { 0 };
	char ts[32], rec[128];
	struct buf e;

	vgtime_format(now, ts);
	buf_init(&e);
	buf_printf(&e, "{\"ts\":\"%s\",\"type\":\"created\",\"key\":", ts);
	buf_json_str(&e, b->key, strlen(b->key));
	buf_adds(&e, ",\"rule\":");
	buf_json_str(&e, b->rule_id, strlen(b->rule_id));
	buf_adds(&e, ",\"title\":");
	buf_json_str(&e, b->title, strlen(b->title));
	buf_addc(&e, '}');
	svec_add(&a, r->B);
	svec_add(&a, b->key);
	svec_addi(&a, now);
	svec_add(&a, ts);
	svec_addi(&a, (int64_t)b->n);
	svec_addi(&a, (int64_t)b->nsil);
	svec_add(&a, b->first);
	svec_add(&a, b->last_id);
	svec_add(&a, b->rule_id);
	svec_add(&a, b->title);
	svec_add(&a, b->level);
	svec_add(&a, b->kind);
	svec_add(&a, b->high ? "high" : "low");
	svec_add(&a, b->group);
	svec_add(&a, b->summary);
	svec_addn(&a, e.p, e.len);
	svec_addi(&a, r->rc->auto_resolve_ms);
	svec_addi(&a, r->rc->group_interval_ms);
	svec_addi(&a, (r->rc->auto_resolve_ms > 0 ? r->rc->auto_resolve_ms :
	    90 * 86400000LL) + r->rc->resolved_ttl_ms);
	svec_addi(&a, RESP_TL_ALERTS);
	svec_addi(&a, RESP_TL_MAX);
	svec_addi(&a, (int64_t)(b->pbs.n / 2));
	for (size_t i = 0; i < b->pbs.n; i += 2) {
		const struct playbook *pb = strcmp(b->pbs.v[i], RESP_DEFAULT_PB) == 0 ?
		    r->dflt->pbs[0] : playbook_find(r->pbs, b->pbs.v[i]);
		struct runrec rr;

		memset(&rr, 0, sizeof(rr));
		playbook_run_init(&rr.run, pb);
		rr.run.not_before_ms = now;
		runrec_format(&rr, rec, sizeof(rec));
		svec_add(&a, b->pbs.v[i]);
		svec_add(&a, b->pbs.v[i + 1]);
		svec_add(&a, rec);
		svec_addi(&a, now + RESP_LEASE_MS);
	}
	if (full_has(r, b->key)) {
		svec_addi(&a, 0);   /* the script counts them as folded */
	} else {
		svec_addi(&a, (int64_t)b->tl.n);
		for (size_t i = 0; i < b->tl.n; i++)
			svec_add(&a, b->tl.v[i]);
	}
	{
		struct rq *q = rq_new(r, add_reply, NULL);

		q->s1 = vg_strdup(b->key);
		if (resp_eval_vec(r, SCR_ADD, q, &a) < 0)
			resp_redis_error(r, "adding alerts to an incident", NULL);
	}
	svec_free(&a);
	buf_free(&e);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct response *r = arg;
	struct batches bs = { 0 };
	struct buf scratch;
	struct memo mo;
	int64_t now = vg_now_ms();
	size_t done = 0;
	const char *p, *end;

	(void)fd;
	(void)what;
	if (!r->sil_loaded || !r->resumed)
		return;     /* started again once both are read */
	{
		/* a flood becomes a few large batches (one script call per key
		 * each) instead of one small batch per loop turn; an alert after
		 * a quiet moment goes at once */
		int64_t mono = vg_mono_ms(), since = mono - r->last_drain_ms;

		if (since >= 0 && since < DRAIN_EVERY_MS) {
			if (!evtimer_pending(r->qtimer, NULL)) {
				struct timeval tv = { 0,
				    (suseconds_t)(DRAIN_EVERY_MS - since) * 1000 };

				evtimer_add(r->qtimer, &tv);
			}
			return;
		}
		r->last_drain_ms = mono;
	}
	pthread_mutex_lock(&r->mu);
	buf_clear(&r->work);
	if (r->qn == 0 || r->q.len == 0) {
		r->armed = 0;
		pthread_mutex_unlock(&r->mu);
		return;
	}
	/* take up to DRAIN_MAX alerts, leave the rest queued */
	p = r->q.p;
	end = r->q.p + r->q.len;
	while (p < end && done < DRAIN_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		p = nl ? nl + 1 : end;
		done++;
	}
	buf_add(&r->work, r->q.p, (size_t)(p - r->q.p));
	memmove(r->q.p, p, (size_t)(end - p));
	r->q.len = (size_t)(end - p);
	r->qn -= done;
	if (r->qn == 0)
		r->armed = 0;
	pthread_mutex_unlock(&r->mu);
	buf_init(&scratch);
	memo_init(&mo);
	for (p = r->work.p, end = r->work.p + r->work.len; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		if (e - p > 1)
			take_alert(r, &bs, p + 1, (size_t)(e - p - 1), *p == 'F', now,
			    &scratch, &mo);
		p = nl ? nl + 1 : end;
	}
	buf_free(&scratch);
	memo_free(&mo);
	for (size_t i = 0; i < bs.n; i++)
		send_batch(r, &bs.v[i], now);
	batches_free(&bs);
	if (r->armed)
		event_active(r->qev, EV_READ, 0);
}

/* ---- dead letters ---- */

void resp_raise_dead_letter(struct response *r, const struct notify_item *it,
    const char *detail)
{
	json_t *p = json_loads(it->payload, JSON_ALLOW_NUL, NULL);
	const json_t *inc = json_object_get(p, "incident");
	const char *rule = json_string_value(json_object_get(json_object_get(
	    json_object_get(p, "alert"), "rule"), "id"));
	char id[37], ts[32];
	struct buf b;

	/* a dead letter about a dead letter would loop */
	if (rule != NULL && strcmp(rule, RESP_DEAD_RULE) == 0) {
		log_warnx("response: notification %s about an undeliverable "
		    "notification is undeliverable too: %s", it->id, detail);
		json_decref(p);
		return;
	}
	alert_new_id(id);
	vgtime_format(vg_now_ms(), ts);
	buf_init(&b);
	buf_printf(&b, "{\"id\":\"%s\",\"@timestamp\":\"%s\",\"kind\":\"detection\","
	    "\"rule\":{\"id\":\"" RESP_DEAD_RULE "\",\"title\":\"Notification "
	    "could not be delivered\",\"level\":\"high\",\"tags\":[\"vigil.response\"]},"
	    "\"group\":{\"vigil.channel\":", id, ts);
	buf_json_str(&b, it->channel, strlen(it->channel));
	buf_adds(&b, "},\"count\":1,\"event\":{\"@timestamp\":");
	buf_printf(&b, "\"%s\",\"message\":", ts);
	{
		struct buf m;

		buf_init(&m);
		buf_printf(&m, "notification %s to channel %s could not be "
		    "delivered: %s", it->id, it->channel, detail);
		buf_json_str(&b, m.p, m.len);
		buf_free(&m);
	}
	buf_adds(&b, ",\"vigil\":{\"channel\":");
	buf_json_str(&b, it->channel, strlen(it->channel));
	buf_adds(&b, ",\"notification\":{\"id\":");
	buf_json_str(&b, it->id, strlen(it->id));
	buf_adds(&b, ",\"error\":");
	buf_json_str(&b, detail, strlen(detail));
	buf_printf(&b, ",\"attempts\":%u,\"status\":%ld}", it->attempts,
	    it->last_status);
	{
		const char *iid = json_string_value(json_object_get(inc, "id"));

		if (iid != NULL) {
			buf_adds(&b, ",\"incident\":");
			buf_json_str(&b, iid, strlen(iid));
		}
	}
	buf_adds(&b, "}}}");
	json_decref(p);
	r->st.dead_letters++;
	if (r->c.on_alert != NULL) {
		buf_addc(&b, '\n');
		r->c.on_alert(r->c.arg, b.p, b.len);
		b.len--;
	}
	enqueue(r, 'F', b.p, b.len);
	buf_free(&b);
}

/* ---- metrics ---- */

void response_metrics(struct response *r, struct buf *out)
{
	const struct resp_stats *s = &r->st;
	uint64_t sub = __atomic_load_n(&r->submitted_atomic, __ATOMIC_RELAXED);
	uint64_t fil = __atomic_load_n(&r->filtered_atomic, __ATOMIC_RELAXED);
	uint64_t drp = __atomic_load_n(&r->dropped_atomic, __ATOMIC_RELAXED);
	size_t jobs = r->njobs;
	buf_printf(out,
	    "# HELP vigil_response_alerts_total Alerts offered to the response, "
	    "by what became of them.\n# TYPE vigil_response_alerts_total counter\n"
	    "vigil_response_alerts_total{result=\"submitted\"} %" PRIu64 "\n"
	    "vigil_response_alerts_total{result=\"filtered\"} %" PRIu64 "\n"
	    "vigil_response_alerts_total{result=\"below_level\"} %" PRIu64 "\n"
	    "vigil_response_alerts_total{result=\"dropped\"} %" PRIu64 "\n"
	    "vigil_response_alerts_total{result=\"invalid\"} %" PRIu64 "\n"
	    "vigil_response_alerts_total{result=\"incident\"} %" PRIu64 "\n"
	    "vigil_response_alerts_total{result=\"silenced\"} %" PRIu64 "\n"
	    "# HELP vigil_incidents_total Incident state changes.\n"
	    "# TYPE vigil_incidents_total counter\n"
	    "vigil_incidents_total{event=\"created\"} %" PRIu64 "\n"
	    "vigil_incidents_total{event=\"acknowledged\"} %" PRIu64 "\n"
	    "vigil_incidents_total{event=\"resolved\"} %" PRIu64 "\n"
	    "vigil_incidents_total{event=\"auto_resolved\"} %" PRIu64 "\n"
	    "# HELP vigil_playbook_steps_total Playbook steps finished.\n"
	    "# TYPE vigil_playbook_steps_total counter\n"
	    "vigil_playbook_steps_total{result=\"ok\"} %" PRIu64 "\n"
	    "vigil_playbook_steps_total{result=\"failed\"} %" PRIu64 "\n"
	    "# HELP vigil_pages_total Notifications queued for incidents.\n"
	    "# TYPE vigil_pages_total counter\nvigil_pages_total %" PRIu64 "\n"
	    "# HELP vigil_dead_letters_total Notifications given up on (raised "
	    "as alerts).\n# TYPE vigil_dead_letters_total counter\n"
	    "vigil_dead_letters_total %" PRIu64 "\n"
	    "# HELP vigil_response_redis_errors_total Failed response requests "
	    "to Redis.\n# TYPE vigil_response_redis_errors_total counter\n"
	    "vigil_response_redis_errors_total %" PRIu64 "\n"
	    "# HELP vigil_response_runs Playbook runs being driven now.\n"
	    "# TYPE vigil_response_runs gauge\nvigil_response_runs %zu\n",
	    sub, fil, s->below_level, drp, s->invalid, s->taken - s->silenced,
	    s->silenced, s->incidents_created, s->acked, s->resolved,
	    s->auto_resolved, s->steps_ok, s->steps_failed, s->pages,
	    s->dead_letters, s->redis_errors, jobs);
	notify_metrics(r->notify, out);
	rds_metrics(r->rds, out);
}

/* ---- life ---- */

void response_set_api(struct response *r, void *api, void (*free_fn)(void *))
{
	if (r->api_free != NULL)
		r->api_free(r->api);
	r->api = api;
	r->api_free = free_fn;
}

void *response_api(const struct response *r)
{
	return r ? r->api : NULL;
}

struct response *response_new(const struct response_conf *c,
    struct vg_diag *d, struct vg_err *err)
{
	struct response *r = vg_calloc(1, sizeof(*r));
	struct loaded L;
	struct notify_conf nc;
	char host[256];

	r->c = *c;
	r->cfg = c->cfg;
	r->rc = &c->cfg->response;
	r->base = c->base;
	r->rds = c->rds;
	r->life = vg_calloc(1, sizeof(*r->life));
	r->life->r = r;
	pthread_mutex_init(&r->mu, NULL);
	buf_init(&r->q);
	buf_init(&r->work);
	if (load_all(c->cfg, d, &L) > 0) {
		loaded_free(&L);
		vg_err_set(err, c->cfg->file, 0, 0, "the on-call, channel or "
		    "response configuration has errors (see above)");
		goto fail;
	}
	if (L.st.rejected > 0)
		log_warnx("response: %d playbooks rejected (see above; vigil check "
		    "lists them); the rest loaded", L.st.rejected);
	r->xp = L.xp;
	r->chans = L.chans;
	r->oc = L.oc;
	r->pbs = L.pbs;
	r->dflt = L.dflt;
	r->prefix = vg_strdup(c->cfg->redis_prefix);
	{
		struct buf b;

		buf_init(&b);
		buf_printf(&b, "%s{resp}:", r->prefix);
		r->B = vg_strdup(buf_cstr(&b));
		buf_free(&b);
	}
	if (c->instance != NULL && c->instance[0] != '\0') {
		r->instance = vg_strdup(c->instance);
	} else {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "vigild");
		host[sizeof(host) - 1] = '\0';
		r->instance = vg_strdup(host);
	}
	{
		const char *fault = getenv("VIGIL_FAULT");

		r->fault_kill_after_store = fault != NULL &&
		    strcmp(fault, "kill-after-store") == 0;
	}
	r->k_seq = resp_key(r, "seq", NULL);
	r->k_outbox = resp_key(r, "ob:", r->instance);
	for (int i = 0; i < SCR_N; i++)
		r->scr[i] = rds_script(r->rds, resp_lua[i]);
	filter_build(r);
	r->store.save = resp_store_save;
	r->store.finish = resp_store_finish;
	r->store.ctx = r;
	memset(&nc, 0, sizeof(nc));
	nc.base = r->base;
	nc.channels = r->chans;
	nc.exec = r->xp;
	nc.store = &r->store;
	nc.on_result = run_notify_result;
	nc.arg = r;
	if ((r->notify = notify_new(&nc, err)) == NULL)
		goto fail;
	if ((r->xfer = notify_xfer_new(r->base, err)) == NULL)
		goto fail;
	r->qev = event_new(r->base, -1, 0, drain_cb, r);
	r->qtimer = evtimer_new(r->base, drain_cb, r);
	r->last_drain_ms = vg_mono_ms() - DRAIN_EVERY_MS;
	r->full = vg_calloc(FULL_SLOTS, sizeof(*r->full));
	r->due_timer = evtimer_new(r->base, resp_poll_cb, r);
	r->sil_timer = evtimer_new(r->base, resp_sil_cb, r);
	resp_sil_cb(-1, 0, r);
	resp_outbox_resume(r);
	log_info("response: %zu playbooks, %zu channels, %zu escalation policies; "
	    "incidents from correlation alerts, playbook matches and detections "
	    "at or above %s", r->pbs->n, r->chans->n, r->oc->npolicies,
	    config_level_name(r->rc->min_level));
	return r;
fail:
	response_free(r);
	return NULL;
}

void response_free(struct response *r)
{
	if (r == NULL)
		return;
	if (r->api_free != NULL)
		r->api_free(r->api);
	run_free_all(r);
	notify_free(r->notify);
	notify_xfer_free(r->xfer);
	if (r->qev != NULL)
		event_free(r->qev);
	if (r->qtimer != NULL)
		event_free(r->qtimer);
	free(r->full);
	if (r->due_timer != NULL)
		event_free(r->due_timer);
	if (r->sil_timer != NULL)
		event_free(r->sil_timer);
	for (size_t i = 0; i < r->nsil; i++)
		silence_clear(&r->sil[i]);
	free(r->sil);
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	free(r->wild);
	resp_rule_keys_free(r);
	playbook_set_free(r->dflt);
	playbook_set_free(r->pbs);
	oncall_free(r->oc);
	notify_channels_free(r->chans);
	execstep_policy_free(r->xp);
	buf_free(&r->q);
	buf_free(&r->work);
	pthread_mutex_destroy(&r->mu);
	free(r->prefix);
	free(r->B);
	free(r->k_seq);
	free(r->k_outbox);
	free(r->instance);
	r->life->r = NULL;
	if (r->life->refs == 0)
		free(r->life);
	free(r);
}
