/*
 * oncall.c: loading the `oncall` tree and answering "who is on call" and
 * "whom to page next"; see oncall.h for the model.
 *
 * The k-th hand-off of a layer happens at the local wall-clock time
 * start_local + k * turn, converted to UTC with tz_to_utc(): a hand-off time
 * that is skipped when clocks go forward happens at the jump, one that
 * happens twice happens the first time. Finding the turn that holds an
 * instant starts from the local-time estimate and steps to the exact one, so
 * the cost does not depend on how long the layer has been running.
 *
 * Load time builds everything; queries allocate nothing.
 */
#include "oncall.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "playbook_cfg.h"
#include "tzif.h"
#include "vgtime.h"
#include "ytree.h"

#define MAX_USERS 10000
#define MAX_ITEMS 1000       /* schedules, overrides, policies, groups */
#define MAX_LAYERS 50        /* per schedule: each query walks them all */
#define MAX_WINDOWS 32       /* per layer */
#define LOOK_STEPS 64        /* spans merged when reporting a shift */
#define TURN_MIN 60          /* seconds */
#define TURN_MAX (366 * 86400LL)
#define YEAR_MIN 1900
#define YEAR_MAX 9999

/* ---- time helpers ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t to_ms(int64_t s)
{
	if (s <= INT64_MIN / 1000)
		return INT64_MIN;
	if (s >= INT64_MAX / 1000)
		return INT64_MAX;
	return s * 1000;
}

static int weekday(int64_t days)
{
	return (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01: Thursday (4) */
}

static int two(const char *s, int *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

/* "HH:MM" (or "HH:MM:SS"); 24:00 allowed when allow24. Seconds, or -1. */
static int32_t parse_hhmm(const char *s, int allow24)
{
	int h, m, sec = 0;
	size_t n = strlen(s);

	if ((n != 5 && n != 8) || two(s, &h) < 0 || s[2] != ':' ||
	    two(s + 3, &m) < 0)
		return -1;
	if (n == 8 && (s[5] != ':' || two(s + 6, &sec) < 0 || sec > 59))
		return -1;
	if (m > 59 || h > 24 || (h == 24 && (!allow24 || m != 0 || sec != 0)))
		return -1;
	return h * 3600 + m * 60 + sec;
}

/*
 * "YYYY-MM-DD", optionally followed by 'T' or ' ' and "HH:MM[:SS]" and, when
 * zone_ok, by "Z" or "+HH:MM"/"-HH:MM". *secs gets the seconds since
 * 1970-01-01T00:00 of the written calendar; *has_time and *has_zone say
 * what was there (with a zone, *secs is already UTC).
 */
static int parse_when(const char *s, int zone_ok, int64_t *secs,
    int *has_time, int *has_zone)
{
	int y1, y2, mo, d, h = 0, mi = 0, se = 0;
	int64_t y;
	size_t i = 10;

	*has_time = *has_zone = 0;
	if (strlen(s) < 10 || two(s, &y1) < 0 || two(s + 2, &y2) < 0 ||
	    s[4] != '-' || two(s + 5, &mo) < 0 || s[7] != '-' ||
	    two(s + 8, &d) < 0)
		return -1;
	y = y1 * 100 + y2;
	if (y < YEAR_MIN || y > YEAR_MAX || mo < 1 || mo > 12 || d < 1 ||
	    d > 31)
		return -1;
	{
		static const int md[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		if (d > md[mo - 1] || (mo == 2 && d == 29 && !leap))
			return -1;
	}
	if (s[i] == 'T' || s[i] == ' ') {
		i++;
		if (two(s + i, &h) < 0 || s[i + 2] != ':' || two(s + i + 3, &mi) < 0)
			return -1;
		i += 5;
		if (s[i] == ':') {
			if (two(s + i + 1, &se) < 0)
				return -1;
			i += 3;
		}
		if (h > 23 || mi > 59 || se > 59)
			return -1;
		*has_time = 1;
	}
	*secs = vgtime_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + se;
	if (s[i] == '\0')
		return 0;
	if (!zone_ok || !*has_time)
		return -1;
	if (s[i] == 'Z' && s[i + 1] == '\0') {
		*has_zone = 1;
		return 0;
	}
	if ((s[i] == '+' || s[i] == '-') && strlen(s + i) == 6) {
		int oh, om;

		if (two(s + i + 1, &oh) < 0 || s[i + 3] != ':' ||
		    two(s + i + 4, &om) < 0 || oh > 23 || om > 59)
			return -1;
		*secs -= (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
		*has_zone = 1;
		return 0;
	}
	return -1;
}

/* ---- loading ---- */

struct loader {
	struct pbc p;
	struct oncall *oc;
	const struct oncall_opts *o;
};

static void free_user(struct oncall_user *u)
{
	free(u->id);
	free(u->name);
	free(u->email);
	free(u->slack);
	free(u->phone);
	pbc_free_list(u->channels, u->nchannels);
}

static void free_schedule(struct oncall_schedule *s)
{
	free(s->name);
	for (size_t i = 0; i < s->nlayers; i++) {
		free(s->layers[i].name);
		free(s->layers[i].users);
		free(s->layers[i].windows);
	}
	free(s->layers);
	free(s->overrides);
}

static void free_policy(struct oncall_policy *p)
{
	free(p->name);
	for (size_t i = 0; i < p->nsteps; i++) {
		free(p->steps[i].schedules);
		free(p->steps[i].users);
		pbc_free_list(p->steps[i].channels, p->steps[i].nchannels);
	}
	free(p->steps);
}

void oncall_free(struct oncall *oc)
{
	if (oc == NULL)
		return;
	for (size_t i = 0; i < oc->nusers; i++)
		free_user(&oc->users[i]);
	free(oc->users);
	for (size_t i = 0; i < oc->nschedules; i++)
		free_schedule(&oc->schedules[i]);
	free(oc->schedules);
	for (size_t i = 0; i < oc->npolicies; i++)
		free_policy(&oc->policies[i]);
	free(oc->policies);
	for (size_t i = 0; i < oc->ngroups; i++) {
		free(oc->groups[i].name);
		free(oc->groups[i].users);
	}
	free(oc->groups);
	for (size_t i = 0; i < oc->nzones; i++)
		tz_free(oc->zones[i]);
	free(oc->zones);
	free(oc);
}

static const struct tz *get_zone(struct loader *L, const struct ynode *n,
    const char *what)
{
	struct oncall *oc = L->oc;
	const char *name = pbc_str(&L->p, n, what);
	struct vg_err err = { 0 };
	struct tz *z;

	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < oc->nzones; i++) {
		if (strcmp(tz_name(oc->zones[i]), name) == 0)
			return oc->zones[i];
	}
	if ((z = tz_load(L->o ? L->o->tzdir : NULL, name, &err)) == NULL) {
		pbc_err(&L->p, n, "%s: %s", what, err.msg);
		return NULL;
	}
	oc->zones = vg_realloc(oc->zones, (oc->nzones + 1) * sizeof(*oc->zones));
	oc->zones[oc->nzones++] = z;
	return z;
}

static long find_user(const struct oncall *oc, const char *id)
{
	for (size_t i = 0; i < oc->nusers; i++) {
		if (strcmp(oc->users[i].id, id) == 0)
			return (long)i;
	}
	return -1;
}

static void check_channels(struct loader *L, const struct ynode *n,
    const char *what, char **names, size_t nnames)
{
	if (L->o == NULL || L->o->channel_exists == NULL)
		return;
	for (size_t i = 0; i < nnames; i++) {
		if (!L->o->channel_exists(L->o->ctx, names[i])) {
			const struct ynode *at = n->kind == YN_SEQ && i < n->n ?
			    n->items[i] : n;

			pbc_err(&L->p, at, "%s: no channel named '%s'", what, names[i]);
		}
	}
}

/* A list of user ids into indexes; duplicates allowed when dups. */
static int user_list(struct loader *L, const struct ynode *n, const char *what,
    int dups, size_t **out, size_t *nout)
{
	size_t *v;
	size_t k = 0;
	int bad = 0;

	*out = NULL;
	*nout = 0;
	if (n == NULL || (n->kind != YN_SEQ && n->kind != YN_SCALAR) ||
	    (n->kind == YN_SEQ && n->n == 0)) {
		pbc_err(&L->p, n, "%s: expected a user or a non-empty list of users",
		    what);
		return -1;
	}
	if (n->kind == YN_SEQ && n->n > MAX_USERS) {
		pbc_err(&L->p, n, "%s: more than %d users", what, MAX_USERS);
		return -1;
	}
	v = vg_calloc(n->kind == YN_SEQ ? n->n : 1, sizeof(*v));
	for (size_t i = 0; i < (n->kind == YN_SEQ ? n->n : 1); i++) {
		const struct ynode *it = n->kind == YN_SEQ ? n->items[i] : n;
		const char *id = pbc_str(&L->p, it, what);
		long u;

		if (id == NULL) {
			bad = 1;
			continue;
		}
		if ((u = find_user(L->oc, id)) < 0) {
			pbc_err(&L->p, it, "%s: no user '%.64s' under oncall.users",
			    what, id);
			bad = 1;
			continue;
		}
		if (!dups) {
			size_t j;

			for (j = 0; j < k && v[j] != (size_t)u; j++)
				;
			if (j < k) {
				pbc_err(&L->p, it, "%s: user '%s' listed twice", what, id);
				bad = 1;
				continue;
			}
		}
		v[k++] = (size_t)u;
	}
	if (bad) {
		free(v);
		return -1;
	}
	*out = v;
	*nout = k;
	return 0;
}

static void load_users(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = {
		"name", "email", "slack", "phone", "channels",
	};
	struct oncall *oc = L->oc;

	if (n->kind != YN_MAP) {
		pbc_err(&L->p, n, "oncall.users: expected a map of user ids");
		return;
	}
	if (n->n / 2 > MAX_USERS) {
		pbc_err(&L->p, n, "oncall.users: more than %d users", MAX_USERS);
		return;
	}
	oc->users = vg_calloc(n->n / 2 + 1, sizeof(*oc->users));
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *k = n->items[i], *v = n->items[i + 1];
		const struct ynode *vals[VG_ARRAY_LEN(keys)];
		struct oncall_user u;
		const char *id = pbc_name(&L->p, k, "oncall.users");
		const char *s;
		char what[192];

		if (id == NULL)
			continue;
		if (find_user(oc, id) >= 0) {
			pbc_err(&L->p, k, "oncall.users: user '%s' defined twice", id);
			continue;
		}
		memset(&u, 0, sizeof(u));
		u.line = k->line;
		snprintf(what, sizeof(what), "oncall.users.%s", id);
		if (!ytree_is_null(v) &&
		    pbc_keys(&L->p, v, what, keys, VG_ARRAY_LEN(keys), vals) == 0) {
			if (vals[0] != NULL && (s = pbc_str(&L->p, vals[0], what)))
				u.name = vg_strdup(s);
			if (vals[1] != NULL && (s = pbc_str(&L->p, vals[1], what))) {
				if (strchr(s, '@') == NULL || strpbrk(s, " \r\n<>,;") != NULL)
					pbc_err(&L->p, vals[1], "%s.email: '%.64s' is not an "
					    "e-mail address", what, s);
				else
					u.email = vg_strdup(s);
			}
			if (vals[2] != NULL && (s = pbc_str(&L->p, vals[2], what)))
				u.slack = vg_strdup(s);
			if (vals[3] != NULL && (s = pbc_str(&L->p, vals[3], what)))
				u.phone = vg_strdup(s);
			if (vals[4] != NULL && pbc_strlist(&L->p, vals[4], what,
			    &u.channels, &u.nchannels) == 0)
				check_channels(L, vals[4], what, u.channels, u.nchannels);
		}
		u.id = vg_strdup(id);
		if (u.name == NULL)
			u.name = vg_strdup(id);
		oc->users[oc->nusers++] = u;
	}
}

static int parse_days(struct loader *L, const struct ynode *n, uint8_t *out)
{
	static const char *const names[] = {
		"sun", "mon", "tue", "wed", "thu", "fri", "sat",
	};
	uint8_t days = 0;

	if (n == NULL) {
		*out = 0x7f;
		return 0;
	}
	for (size_t i = 0; i < (n->kind == YN_SEQ ? n->n : 1); i++) {
		const struct ynode *it = n->kind == YN_SEQ ? n->items[i] : n;
		int a = -1, b = -1;

		if (it->kind != YN_SCALAR)
			goto bad;
		if (strcmp(it->str, "daily") == 0) {
			days = 0x7f;
			continue;
		}
		for (int d = 0; d < 7; d++) {
			size_t ln = strlen(it->str);

			if (ln >= 3 && strncmp(it->str, names[d], 3) == 0)
				a = d;
			if (ln == 7 && it->str[3] == '-' &&
			    strcmp(it->str + 4, names[d]) == 0)
				b = d;
		}
		if (a < 0 || (strlen(it->str) != 3 && b < 0))
			goto bad;
		if (b < 0)
			b = a;
		for (int d = a;; d = (d + 1) % 7) {
			days |= (uint8_t)(1u << d);
			if (d == b)
				break;
		}
		continue;
bad:
		pbc_err(&L->p, it, "days: expected mon, tue, wed, thu, fri, sat, sun, "
		    "a range like mon-fri, or daily");
		return -1;
	}
	if (n->kind == YN_SEQ && n->n == 0) {
		pbc_err(&L->p, n, "days: empty list");
		return -1;
	}
	*out = days;
	return 0;
}

static void load_windows(struct loader *L, const struct ynode *n,
    struct oncall_layer *ly, const char *what)
{
	static const char *const keys[] = { "days", "from", "to" };

	if (n->kind != YN_SEQ || n->n == 0 || n->n > MAX_WINDOWS) {
		pbc_err(&L->p, n, "%s.restrict: expected a list of 1 to %d {days, "
		    "from, to}", what, MAX_WINDOWS);
		return;
	}
	ly->windows = vg_calloc(n->n, sizeof(*ly->windows));
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *vals[3];
		struct oncall_window w = { 0x7f, 0, 0 };
		const char *s;
		int ok = 1;

		if (pbc_keys(&L->p, n->items[i], "restrict", keys, 3, vals) < 0)
			continue;
		if (parse_days(L, vals[0], &w.days) < 0)
			ok = 0;
		if (vals[1] != NULL && (s = pbc_str(&L->p, vals[1], "restrict.from")) &&
		    (w.from = parse_hhmm(s, 0)) < 0) {
			pbc_err(&L->p, vals[1], "restrict.from: expected HH:MM");
			ok = 0;
		}
		if (vals[2] != NULL && (s = pbc_str(&L->p, vals[2], "restrict.to")) &&
		    (w.to = parse_hhmm(s, 1)) < 0) {
			pbc_err(&L->p, vals[2], "restrict.to: expected HH:MM");
			ok = 0;
		}
		if (vals[1] == NULL && vals[2] == NULL)
			w.from = w.to = 0; /* whole days */
		else if (vals[1] == NULL || vals[2] == NULL) {
			pbc_err(&L->p, n->items[i], "restrict: give both from and to");
			ok = 0;
		}
		if (w.to == 86400)
			w.to = 0;
		if (ok)
			ly->windows[ly->nwindows++] = w;
	}
}

static int load_layer(struct loader *L, const struct ynode *n,
    const struct tz *stz, struct oncall_layer *ly, const char *swhat,
    size_t idx)
{
	static const char *const keys[] = {
		"name", "users", "start", "handoff", "turn", "time_zone", "end",
		"restrict",
	};
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	int errs = L->p.errors, has_time, has_zone;
	char what[256];
	const char *s;
	int64_t ms;

	memset(ly, 0, sizeof(*ly));
	ly->end_local = INT64_MAX;
	snprintf(what, sizeof(what), "%s.layers[%zu]", swhat, idx);
	if (pbc_keys(&L->p, n, what, keys, VG_ARRAY_LEN(keys), vals) < 0)
		return -1;
	if (vals[0] != NULL && (s = pbc_str(&L->p, vals[0], what)))
		ly->name = vg_strdup(s);
	else
		ly->name = vg_strdup(what);
	ly->tz = stz;
	if (vals[5] != NULL)
		ly->tz = get_zone(L, vals[5], what);
	if (vals[1] == NULL)
		pbc_err(&L->p, n, "%s: missing users", what);
	else
		user_list(L, vals[1], what, 1, &ly->users, &ly->nusers);
	if (vals[4] == NULL)
		pbc_err(&L->p, n, "%s: missing turn (1d, 1w, 12h ...)", what);
	else if (pbc_duration(&L->p, vals[4], "turn", TURN_MIN * 1000,
	    TURN_MAX * 1000, &ms) == 0) {
		if (ms % 1000 != 0)
			pbc_err(&L->p, vals[4], "turn: whole seconds only");
		ly->turn = ms / 1000;
	}
	if (vals[2] == NULL) {
		pbc_err(&L->p, n, "%s: missing start (the first hand-off's date, "
		    "YYYY-MM-DD)", what);
	} else if ((s = pbc_str(&L->p, vals[2], "start")) != NULL) {
		if (parse_when(s, 0, &ly->start_local, &has_time, &has_zone) < 0)
			pbc_err(&L->p, vals[2], "start: expected YYYY-MM-DD or "
			    "YYYY-MM-DDTHH:MM in the layer's time zone");
		else if (has_time && vals[3] != NULL)
			pbc_err(&L->p, vals[3], "handoff: start already has a time");
	}
	if (vals[3] != NULL && (s = pbc_str(&L->p, vals[3], "handoff")) != NULL) {
		int32_t h = parse_hhmm(s, 0);

		if (h < 0)
			pbc_err(&L->p, vals[3], "handoff: expected HH:MM");
		else
			ly->start_local += h;
	}
	if (vals[6] != NULL && (s = pbc_str(&L->p, vals[6], "end")) != NULL) {
		if (parse_when(s, 0, &ly->end_local, &has_time, &has_zone) < 0)
			pbc_err(&L->p, vals[6], "end: expected YYYY-MM-DD or "
			    "YYYY-MM-DDTHH:MM in the layer's time zone");
		else if (ly->end_local <= ly->start_local)
			pbc_err(&L->p, vals[6], "end: must be after start");
	}
	if (vals[7] != NULL)
		load_windows(L, vals[7], ly, what);
	return L->p.errors == errs && ly->tz != NULL ? 0 : -1;
}

static void load_overrides(struct loader *L, const struct ynode *n,
    struct oncall_schedule *s, const char *swhat)
{
	static const char *const keys[] = { "user", "start", "end" };

	if (n->kind != YN_SEQ || n->n > MAX_ITEMS) {
		pbc_err(&L->p, n, "%s.overrides: expected a list of {user, start, "
		    "end}", swhat);
		return;
	}
	s->overrides = vg_calloc(n->n + 1, sizeof(*s->overrides));
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *vals[3];
		struct oncall_override ov;
		int errs = L->p.errors;
		const char *str;
		long u = -1;

		memset(&ov, 0, sizeof(ov));
		if (pbc_keys(&L->p, n->items[i], "override", keys, 3, vals) < 0)
			continue;
		for (int k = 0; k < 3; k++) {
			if (vals[k] == NULL)
				pbc_err(&L->p, n->items[i], "override: missing %s", keys[k]);
		}
		if (vals[0] != NULL && (str = pbc_str(&L->p, vals[0], "user")) &&
		    (u = find_user(L->oc, str)) < 0)
			pbc_err(&L->p, vals[0], "override: no user '%.64s' under "
			    "oncall.users", str);
		for (int k = 1; k < 3; k++) {
			int64_t secs;
			int has_time, has_zone;

			if (vals[k] == NULL || (str = pbc_str(&L->p, vals[k],
			    keys[k])) == NULL)
				continue;
			if (parse_when(str, 1, &secs, &has_time, &has_zone) < 0) {
				pbc_err(&L->p, vals[k], "override %s: expected "
				    "YYYY-MM-DDTHH:MM, local or with Z or +HH:MM", keys[k]);
				continue;
			}
			if (!has_zone)
				secs = tz_to_utc(s->tz, secs);
			if (k == 1)
				ov.start = secs;
			else
				ov.end = secs;
		}
		if (L->p.errors != errs)
			continue;
		if (ov.end <= ov.start) {
			pbc_err(&L->p, vals[2], "override: end must be after start");
			continue;
		}
		ov.user = (size_t)u;
		s->overrides[s->noverrides++] = ov;
	}
}

static void load_schedules(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = { "time_zone", "layers", "overrides" };
	struct oncall *oc = L->oc;

	if (n->kind != YN_MAP || n->n / 2 > MAX_ITEMS) {
		pbc_err(&L->p, n, "oncall.schedules: expected a map of schedule names");
		return;
	}
	oc->schedules = vg_calloc(n->n / 2 + 1, sizeof(*oc->schedules));
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *vals[3];
		struct oncall_schedule s;
		const char *name = pbc_name(&L->p, n->items[i], "oncall.schedules");
		char what[192];
		int errs = L->p.errors;

		if (name == NULL)
			continue;
		if (oncall_schedule(oc, name) != NULL) {
			pbc_err(&L->p, n->items[i], "schedule '%s' defined twice", name);
			continue;
		}
		snprintf(what, sizeof(what), "oncall.schedules.%s", name);
		if (pbc_keys(&L->p, n->items[i + 1], what, keys, 3, vals) < 0)
			continue;
		memset(&s, 0, sizeof(s));
		if (vals[0] != NULL) {
			s.tz = get_zone(L, vals[0], "time_zone");
		} else {
			struct vg_err err = { 0 };
			struct tz *z;

			/* UTC needs no file; keep it with the others for freeing */
			for (size_t z0 = 0; z0 < oc->nzones && s.tz == NULL; z0++) {
				if (strcmp(tz_name(oc->zones[z0]), "UTC") == 0)
					s.tz = oc->zones[z0];
			}
			if (s.tz == NULL && (z = tz_load(L->o ? L->o->tzdir : NULL,
			    "UTC", &err)) != NULL) {
				oc->zones = vg_realloc(oc->zones,
				    (oc->nzones + 1) * sizeof(*oc->zones));
				oc->zones[oc->nzones++] = z;
				s.tz = z;
			}
		}
		if (s.tz == NULL)
			continue;
		if (vals[1] == NULL || vals[1]->kind != YN_SEQ || vals[1]->n == 0 ||
		    vals[1]->n > MAX_LAYERS) {
			pbc_err(&L->p, vals[1] ? vals[1] : n->items[i + 1],
			    "%s.layers: expected a list of 1 to %d layers", what,
			    MAX_LAYERS);
		} else {
			s.layers = vg_calloc(vals[1]->n, sizeof(*s.layers));
			for (size_t k = 0; k < vals[1]->n; k++) {
				if (load_layer(L, vals[1]->items[k], s.tz,
				    &s.layers[s.nlayers], what, k) == 0) {
					s.nlayers++;
				} else {
					struct oncall_layer *ly = &s.layers[s.nlayers];

					free(ly->name);
					free(ly->users);
					free(ly->windows);
				}
			}
		}
		if (vals[2] != NULL)
			load_overrides(L, vals[2], &s, what);
		s.name = vg_strdup(name);
		if (L->p.errors != errs) {
			free_schedule(&s);
			continue;
		}
		oc->schedules[oc->nschedules++] = s;
	}
}

static long find_schedule(const struct oncall *oc, const char *name)
{
	for (size_t i = 0; i < oc->nschedules; i++) {
		if (strcmp(oc->schedules[i].name, name) == 0)
			return (long)i;
	}
	return -1;
}

static int load_step(struct loader *L, const struct ynode *n,
    struct oncall_step *st, size_t idx, const char *pwhat)
{
	static const char *const keys[] = {
		"schedule", "schedules", "users", "delay", "channels",
	};
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	int errs = L->p.errors;
	char what[256];

	memset(st, 0, sizeof(*st));
	snprintf(what, sizeof(what), "%s.steps[%zu]", pwhat, idx);
	if (pbc_keys(&L->p, n, what, keys, VG_ARRAY_LEN(keys), vals) < 0)
		return -1;
	if (vals[0] != NULL && vals[1] != NULL)
		pbc_err(&L->p, vals[1], "%s: give schedule or schedules, not both",
		    what);
	if (vals[0] != NULL || vals[1] != NULL) {
		char **names = NULL;
		size_t nn = 0;
		const struct ynode *sn = vals[0] ? vals[0] : vals[1];

		if (pbc_strlist(&L->p, sn, what, &names, &nn) == 0) {
			st->schedules = vg_calloc(nn + 1, sizeof(*st->schedules));
			for (size_t i = 0; i < nn; i++) {
				long s = find_schedule(L->oc, names[i]);

				if (s < 0)
					pbc_err(&L->p, sn, "%s: no schedule '%.64s' under "
					    "oncall.schedules", what, names[i]);
				else
					st->schedules[st->nschedules++] = (size_t)s;
			}
			pbc_free_list(names, nn);
		}
	}
	if (vals[2] != NULL)
		user_list(L, vals[2], what, 0, &st->users, &st->nusers);
	if (vals[0] == NULL && vals[1] == NULL && vals[2] == NULL)
		pbc_err(&L->p, n, "%s: page whom? give a schedule or users", what);
	if (vals[3] != NULL)
		pbc_duration(&L->p, vals[3], "delay", idx == 0 ? 0 : 1000,
		    7 * 86400 * 1000LL, &st->delay_ms);
	else if (idx > 0)
		pbc_err(&L->p, n, "%s: missing delay (how long after the previous "
		    "step this one pages)", what);
	if (vals[4] != NULL && pbc_strlist(&L->p, vals[4], what, &st->channels,
	    &st->nchannels) == 0)
		check_channels(L, vals[4], what, st->channels, st->nchannels);
	return L->p.errors == errs ? 0 : -1;
}

static void load_policies(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = { "steps", "repeat", "repeat_delay" };
	struct oncall *oc = L->oc;

	if (n->kind != YN_MAP || n->n / 2 > MAX_ITEMS) {
		pbc_err(&L->p, n, "oncall.escalation_policies: expected a map of "
		    "policy names");
		return;
	}
	oc->policies = vg_calloc(n->n / 2 + 1, sizeof(*oc->policies));
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *vals[3];
		struct oncall_policy p;
		const char *name = pbc_name(&L->p, n->items[i],
		    "oncall.escalation_policies");
		char what[192];
		int errs = L->p.errors;
		long rep = 0;

		if (name == NULL)
			continue;
		if (oncall_policy(oc, name) != NULL) {
			pbc_err(&L->p, n->items[i], "policy '%s' defined twice", name);
			continue;
		}
		snprintf(what, sizeof(what), "oncall.escalation_policies.%s", name);
		if (pbc_keys(&L->p, n->items[i + 1], what, keys, 3, vals) < 0)
			continue;
		memset(&p, 0, sizeof(p));
		p.repeat_delay_ms = 30 * 60 * 1000;
		if (vals[0] == NULL || vals[0]->kind != YN_SEQ || vals[0]->n == 0 ||
		    vals[0]->n > 100) {
			pbc_err(&L->p, vals[0] ? vals[0] : n->items[i + 1],
			    "%s.steps: expected a list of 1 to 100 steps", what);
		} else {
			p.steps = vg_calloc(vals[0]->n, sizeof(*p.steps));
			for (size_t k = 0; k < vals[0]->n; k++) {
				struct oncall_step *st = &p.steps[p.nsteps];

				if (load_step(L, vals[0]->items[k], st, k, what) == 0) {
					p.nsteps++;
				} else {
					free(st->schedules);
					free(st->users);
					pbc_free_list(st->channels, st->nchannels);
				}
			}
		}
		if (vals[1] != NULL && pbc_long(&L->p, vals[1], "repeat", 0, 9,
		    &rep) == 0)
			p.repeat = (int)rep;
		if (vals[2] != NULL)
			pbc_duration(&L->p, vals[2], "repeat_delay", 1000,
			    7 * 86400 * 1000LL, &p.repeat_delay_ms);
		p.name = vg_strdup(name);
		if (L->p.errors != errs) {
			free_policy(&p);
			continue;
		}
		oc->policies[oc->npolicies++] = p;
	}
}

static void load_groups(struct loader *L, const struct ynode *n)
{
	struct oncall *oc = L->oc;

	if (n->kind != YN_MAP || n->n / 2 > MAX_ITEMS) {
		pbc_err(&L->p, n, "oncall.groups: expected a map of group names to "
		    "lists of users");
		return;
	}
	oc->groups = vg_calloc(n->n / 2 + 1, sizeof(*oc->groups));
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const char *name = pbc_name(&L->p, n->items[i], "oncall.groups");
		struct oncall_group g;

		if (name == NULL)
			continue;
		if (oncall_group(oc, name) != NULL) {
			pbc_err(&L->p, n->items[i], "group '%s' defined twice", name);
			continue;
		}
		memset(&g, 0, sizeof(g));
		if (user_list(L, n->items[i + 1], "oncall.groups", 0, &g.users,
		    &g.nusers) < 0)
			continue;
		g.name = vg_strdup(name);
		oc->groups[oc->ngroups++] = g;
	}
}

struct oncall *oncall_load(const struct ynode *tree,
    const struct oncall_opts *o, struct vg_diag *d)
{
	static const char *const keys[] = {
		"users", "schedules", "escalation_policies", "groups",
	};
	const struct ynode *vals[VG_ARRAY_LEN(keys)];
	struct loader L;

	memset(&L, 0, sizeof(L));
	L.p.d = d;
	L.o = o;
	L.oc = vg_calloc(1, sizeof(*L.oc));
	if (tree == NULL || ytree_is_null(tree))
		return L.oc;
	if (pbc_keys(&L.p, tree, "oncall", keys, VG_ARRAY_LEN(keys), vals) == 0) {
		/* order matters: schedules name users, policies name both */
		if (vals[0] != NULL)
			load_users(&L, vals[0]);
		if (vals[1] != NULL)
			load_schedules(&L, vals[1]);
		if (vals[2] != NULL)
			load_policies(&L, vals[2]);
		if (vals[3] != NULL)
			load_groups(&L, vals[3]);
	}
	if (L.p.errors != 0) {
		oncall_free(L.oc);
		return NULL;
	}
	return L.oc;
}

struct oncall *oncall_load_buffer(const char *name, const char *buf,
    size_t len, const struct oncall_opts *o, struct vg_diag *d)
{
	struct ydoc *docs = NULL;
	size_t ndocs = 0;
	struct vg_err err = { 0 };
	struct oncall *oc;

	if (ytree_parse(name, buf, len, &docs, &ndocs, &err) < 0) {
		vg_diag_err(d, &err);
		return NULL;
	}
	if (ndocs > 1) {
		vg_diag_error(d, name, docs[1].line, 1, "oncall: one document only");
		ytree_free_docs(docs, ndocs);
		return NULL;
	}
	oc = oncall_load(ndocs ? docs[0].root : NULL, o, d);
	ytree_free_docs(docs, ndocs);
	return oc;
}

/* ---- lookups ---- */

const struct oncall_user *oncall_user(const struct oncall *oc, const char *id)
{
	long i = find_user(oc, id);

	return i < 0 ? NULL : &oc->users[i];
}

const struct oncall_schedule *oncall_schedule(const struct oncall *oc,
    const char *name)
{
	long i = find_schedule(oc, name);

	return i < 0 ? NULL : &oc->schedules[i];
}

const struct oncall_policy *oncall_policy(const struct oncall *oc,
    const char *name)
{
	for (size_t i = 0; i < oc->npolicies; i++) {
		if (strcmp(oc->policies[i].name, name) == 0)
			return &oc->policies[i];
	}
	return NULL;
}

const struct oncall_group *oncall_group(const struct oncall *oc,
    const char *name)
{
	for (size_t i = 0; i < oc->ngroups; i++) {
		if (strcmp(oc->groups[i].name, name) == 0)
			return &oc->groups[i];
	}
	return NULL;
}

/* ---- who is on call ---- */

struct span {
	int64_t lo, hi; /* UTC seconds, [lo, hi) */
};

static void clip(struct span *sp, int64_t lo, int64_t hi)
{
	if (lo > sp->lo)
		sp->lo = lo;
	if (hi < sp->hi)
		sp->hi = hi;
}

static int64_t handoff(const struct oncall_layer *ly, int64_t k)
{
	return tz_to_utc(ly->tz, ly->start_local + k * ly->turn);
}

/*
 * Is layer ly inside one of its windows at t? Clips sp to the window (or
 * to the gap between windows) that holds t.
 */
static int in_window(const struct oncall_layer *ly, int64_t t, struct span *sp)
{
	int64_t day = floor_div(tz_to_local(ly->tz, t), 86400);
	int64_t before = INT64_MIN, after = INT64_MAX;

	if (ly->nwindows == 0)
		return 1;
	/* a window may start up to a day before t's local day and end up to
	 * a week after it */
	for (int64_t d = day - 8; d <= day + 8; d++) {
		int wd = weekday(d);

		for (size_t i = 0; i < ly->nwindows; i++) {
			const struct oncall_window *w = &ly->windows[i];
			int64_t ws, we;

			if (!(w->days & (1u << wd)))
				continue;
			ws = tz_to_utc(ly->tz, d * 86400 + w->from);
			we = tz_to_utc(ly->tz, d * 86400 + w->to +
			    (w->to <= w->from ? 86400 : 0));
			if (ws <= t && t < we) {
				clip(sp, ws, we);
				return 1;
			}
			if (we <= t && we > before)
				before = we;
			if (ws > t && ws < after)
				after = ws;
		}
	}
	clip(sp, before, after);
	return 0;
}

/* The user of layer ly at t (index into oc->users), or -1; clips sp to the
 * span over which that answer holds. */
static long layer_at(const struct oncall_layer *ly, int64_t t, struct span *sp)
{
	int64_t u0 = handoff(ly, 0), uend = INT64_MAX, k, uk, uk1;

	if (ly->end_local != INT64_MAX)
		uend = tz_to_utc(ly->tz, ly->end_local);
	if (t < u0) {
		clip(sp, INT64_MIN, u0);
		return -1;
	}
	if (t >= uend) {
		clip(sp, uend, INT64_MAX);
		return -1;
	}
	k = floor_div(tz_to_local(ly->tz, t) - ly->start_local, ly->turn);
	if (k < 0)
		k = 0;
	while (k > 0 && handoff(ly, k) > t)
		k--;
	while (handoff(ly, k + 1) <= t)
		k++;
	uk = handoff(ly, k);
	uk1 = handoff(ly, k + 1);
	clip(sp, uk, uk1 < uend ? uk1 : uend);
	if (!in_window(ly, t, sp))
		return -1;
	return (long)ly->users[k % (int64_t)ly->nusers];
}

/* Who is on call at t (user index or -1, deciding layer in *layer) and the
 * span over which that holds. */
static long who_at(const struct oncall_schedule *s, int64_t t, int *layer,
    struct span *sp)
{
	long who = -1;

	sp->lo = INT64_MIN;
	sp->hi = INT64_MAX;
	*layer = -1;
	/* overrides: the last one listed that holds t wins; clip to all */
	for (size_t i = 0; i < s->noverrides; i++) {
		const struct oncall_override *ov = &s->overrides[i];

		if (ov->start <= t && t < ov->end) {
			who = (long)ov->user;
			clip(sp, ov->start, ov->end);
		} else if (ov->start > t) {
			clip(sp, INT64_MIN, ov->start);
		} else {
			clip(sp, ov->end, INT64_MAX);
		}
	}
	if (who >= 0)
		return who;
	for (size_t i = s->nlayers; i-- > 0;) {
		long u = layer_at(&s->layers[i], t, sp);

		if (u >= 0) {
			*layer = (int)i;
			return u;
		}
	}
	return -1;
}

int oncall_who(const struct oncall *oc, const struct oncall_schedule *s,
    int64_t t_ms, struct oncall_shift *out)
{
	int64_t t = floor_div(t_ms, 1000);
	struct span sp, more;
	int layer, l2;
	long who = who_at(s, t, &layer, &sp);

	/* merge neighbouring spans with the same answer, so the shift reads
	 * like a person's turn rather than the finest span */
	for (int i = 0; i < LOOK_STEPS && sp.hi != INT64_MAX; i++) {
		if (who_at(s, sp.hi, &l2, &more) != who)
			break;
		sp.hi = more.hi;
	}
	for (int i = 0; i < LOOK_STEPS && sp.lo != INT64_MIN; i++) {
		if (who_at(s, sp.lo - 1, &l2, &more) != who)
			break;
		sp.lo = more.lo;
	}
	out->user = who >= 0 ? &oc->users[who] : NULL;
	out->layer = who >= 0 ? layer : -1;
	out->start_ms = to_ms(sp.lo);
	out->end_ms = to_ms(sp.hi);
	return who >= 0 ? 0 : -1;
}

/* ---- escalation ---- */

int oncall_policy_page(const struct oncall_policy *p, int64_t trigger_ms,
    unsigned n, struct oncall_page *out)
{
	int64_t round_len, at;
	unsigned round;
	size_t step;

	if (p->nsteps == 0)
		return -1;
	round = (unsigned)(n / p->nsteps);
	step = n % p->nsteps;
	if (round > (unsigned)p->repeat)
		return -1;
	round_len = p->repeat_delay_ms;
	for (size_t i = 1; i < p->nsteps; i++)
		round_len += p->steps[i].delay_ms;
	at = trigger_ms + p->steps[0].delay_ms + (int64_t)round * round_len;
	for (size_t i = 1; i <= step; i++)
		at += p->steps[i].delay_ms;
	out->round = round;
	out->step = step;
	out->at_ms = at;
	return 0;
}

size_t oncall_step_targets(const struct oncall *oc,
    const struct oncall_step *st, int64_t at_ms,
    const struct oncall_user **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < st->nschedules + st->nusers && n < max; i++) {
		const struct oncall_user *u;
		struct oncall_shift sh;
		size_t j;

		if (i < st->nschedules) {
			if (oncall_who(oc, &oc->schedules[st->schedules[i]], at_ms,
			    &sh) < 0)
				continue;
			u = sh.user;
		} else {
			u = &oc->users[st->users[i - st->nschedules]];
		}
		for (j = 0; j < n && out[j] != u; j++)
			;
		if (j == n)
			out[n++] = u;
	}
	return n;
}
