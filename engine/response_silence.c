/*
 * response_silence.c: silences (which alerts are recorded without paging)
 * and reading fields out of alert JSON.
 *
 * A silence matches on any of: rules (ids or titles), levels, tags, and
 * fields (each named field has one of the listed values); every criterion
 * given must hold, and at least one must be given. It has a start (default:
 * now), an end, an author and a comment; all three are required so that a
 * silence never outlives its reason unnoticed.
 *
 * Pure: no I/O, any thread.
 */
#include "response_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alert.h"
#include "playbook_cfg.h"
#include "vgtime.h"

#define SIL_MAX_ITEMS 64
#define SIL_MAX_TEXT 1024

static const char *const level_names[] = {
	"informational", "low", "medium", "high", "critical",
};

int resp_level(const char *s)
{
	for (int i = 0; s != NULL && i < 5; i++) {
		if (strcmp(s, level_names[i]) == 0)
			return i;
	}
	return -1;
}

/* ---- alert fields ---- */

/* name in obj: the key itself, or a nested path split at some dot. */
static const json_t *lookup(const json_t *obj, const char *name, int depth)
{
	const json_t *v;

	if (!json_is_object(obj) || depth > 16)
		return NULL;
	if ((v = json_object_get(obj, name)) != NULL)
		return v;
	for (const char *dot = strchr(name, '.'); dot != NULL;
	    dot = strchr(dot + 1, '.')) {
		char head[256];
		size_t n = (size_t)(dot - name);
		const json_t *child;

		if (n >= sizeof(head))
			break;
		memcpy(head, name, n);
		head[n] = '\0';
		child = json_object_get(obj, head);
		if (json_is_object(child) &&
		    (v = lookup(child, dot + 1, depth + 1)) != NULL)
			return v;
	}
	return NULL;
}

const json_t *resp_alert_field(const json_t *alert, const char *name)
{
	const json_t *v = json_object_get(json_object_get(alert, "group"), name);

	if (v != NULL && !json_is_null(v))
		return v;
	v = lookup(json_object_get(alert, "event"), name, 0);
	return v != NULL && !json_is_null(v) ? v : NULL;
}

int resp_scalar(const json_t *v, char *out, size_t cap)
{
	if (json_is_array(v)) {
		size_t i;
		const json_t *x;

		json_array_foreach(v, i, x) {
			if (resp_scalar(x, out, cap) == 0)
				return 0;
		}
		return -1;
	}
	if (json_is_string(v))
		snprintf(out, cap, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, cap, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, cap, "%.17g", json_real_value(v));
	else if (json_is_true(v))
		snprintf(out, cap, "true");
	else if (json_is_false(v))
		snprintf(out, cap, "false");
	else
		return -1;
	return 0;
}

/* ---- silences ---- */

void silence_clear(struct silence *s)
{
	pbc_free_list(s->rules, s->nrules);
	pbc_free_list(s->tags, s->ntags);
	for (size_t i = 0; i < s->nfields; i++) {
		free(s->fields[i].name);
		pbc_free_list(s->fields[i].values, s->fields[i].nvalues);
	}
	free(s->fields);
	free(s->author);
	free(s->comment);
	memset(s, 0, sizeof(*s));
}

static int why_set(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return -1;
}

/* A string or a list of strings into an owned list. */
static int strlist(const json_t *v, const char *what, char ***out, size_t *n,
    char *why, size_t whylen)
{
	size_t i;
	const json_t *x;

	*out = NULL;
	*n = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (json_string_length(v) == 0 ||
		    json_string_length(v) > SIL_MAX_TEXT ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(why, whylen, "%s: expected non-empty strings", what);
			return -1;
		}
		*out = vg_calloc(2, sizeof(char *));
		(*out)[0] = vg_strdup(json_string_value(v));
		*n = 1;
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) > SIL_MAX_ITEMS) {
		snprintf(why, whylen, "%s: expected a string or a list of at most "
		    "%d strings", what, SIL_MAX_ITEMS);
		return -1;
	}
	*out = vg_calloc(json_array_size(v) + 1, sizeof(char *));
	json_array_foreach(v, i, x) {
		if (!json_is_string(x) || json_string_length(x) == 0 ||
		    json_string_length(x) > SIL_MAX_TEXT ||
		    strlen(json_string_value(x)) != json_string_length(x)) {
			snprintf(why, whylen, "%s: expected non-empty strings", what);
			return -1;
		}
		(*out)[(*n)++] = vg_strdup(json_string_value(x));
	}
	return 0;
}

/* A time: ISO 8601, or (fresh only) a duration from now. */
static int get_time(const json_t *v, int64_t now_ms, int allow_dur,
    int64_t *out)
{
	const char *s = json_string_value(v);
	int64_t ms;

	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*out = json_integer_value(v);
		return 0;
	}
	if (s == NULL || *s == '\0')
		return -1;
	if (vgtime_parse_iso(s, strlen(s), 0, &ms) == strlen(s)) {
		*out = ms;
		return 0;
	}
	if (allow_dur && pbc_parse_duration(s, &ms) == 0 && ms > 0) {
		*out = now_ms + ms;
		return 0;
	}
	return -1;
}

int silence_parse(const char *json, size_t len, int fresh, int64_t now_ms,
    struct silence *s, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	const json_t *m, *v;
	const char *key;
	char **levels = NULL;
	size_t nlevels = 0;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (j == NULL || !json_is_object(j)) {
		why_set(why, whylen, "the body must be a JSON object");
		goto done;
	}
	json_object_foreach(j, key, v) {
		static const char *const known[] = {
			"id", "matchers", "starts_at", "ends_at", "duration", "author",
			"comment", "created_at", "state",
		};
		size_t k;

		for (k = 0; k < VG_ARRAY_LEN(known) && strcmp(key, known[k]); k++)
			;
		if (k == VG_ARRAY_LEN(known)) {
			snprintf(why, whylen, "unknown key '%s' (expected matchers, "
			    "starts_at, ends_at or duration, author, comment)", key);
			goto done;
		}
	}
	m = json_object_get(j, "matchers");
	if (!json_is_object(m)) {
		why_set(why, whylen, "matchers: expected an object with rules, "
		    "levels, tags or fields");
		goto done;
	}
	json_object_foreach((json_t *)m, key, v) {
		if (strcmp(key, "rules") && strcmp(key, "levels") &&
		    strcmp(key, "tags") && strcmp(key, "fields")) {
			snprintf(why, whylen, "matchers: unknown key '%s' (expected "
			    "rules, levels, tags or fields)", key);
			goto done;
		}
	}
	if (strlist(json_object_get(m, "rules"), "matchers.rules", &s->rules,
	    &s->nrules, why, whylen) < 0 ||
	    strlist(json_object_get(m, "tags"), "matchers.tags", &s->tags,
	    &s->ntags, why, whylen) < 0 ||
	    strlist(json_object_get(m, "levels"), "matchers.levels", &levels,
	    &nlevels, why, whylen) < 0)
		goto done;
	for (size_t i = 0; i < nlevels; i++) {
		int lv = resp_level(levels[i]);

		if (lv < 0) {
			snprintf(why, whylen, "matchers.levels: '%.64s' is not one of "
			    "informational, low, medium, high, critical",
			    levels[i] != NULL ? levels[i] : "");
			goto done;
		}
		s->levels |= 1u << lv;
	}
	if ((v = json_object_get(m, "fields")) != NULL && !json_is_null(v)) {
		const char *fname;
		const json_t *fv;

		if (!json_is_object(v) || json_object_size(v) > SIL_MAX_ITEMS) {
			why_set(why, whylen, "matchers.fields: expected an object of "
			    "field names and values");
			goto done;
		}
		s->fields = vg_calloc(json_object_size(v) + 1, sizeof(*s->fields));
		json_object_foreach((json_t *)v, fname, fv) {
			struct sil_field *f = &s->fields[s->nfields];
			char what[300];

			if (*fname == '\0' || strlen(fname) > 255) {
				why_set(why, whylen, "matchers.fields: bad field name");
				goto done;
			}
			snprintf(what, sizeof(what), "matchers.fields.%s", fname);
			if (json_is_integer(fv)) {
				char num[32];

				snprintf(num, sizeof(num), "%lld",
				    (long long)json_integer_value(fv));
				f->values = vg_calloc(2, sizeof(char *));
				f->values[0] = vg_strdup(num);
				f->nvalues = 1;
			} else if (strlist(fv, what, &f->values, &f->nvalues, why,
			    whylen) < 0 || f->nvalues == 0) {
				if (f->nvalues == 0)
					snprintf(why, whylen, "%s: expected a value or a "
					    "list of values", what);
				pbc_free_list(f->values, f->nvalues);
				goto done;
			}
			f->name = vg_strdup(fname);
			s->nfields++;
		}
	}
	if (s->nrules == 0 && s->levels == 0 && s->ntags == 0 && s->nfields == 0) {
		why_set(why, whylen, "matchers: at least one of rules, levels, tags "
		    "or fields is required (a silence must not silence everything)");
		goto done;
	}
	s->starts_ms = now_ms;
	if ((v = json_object_get(j, "starts_at")) != NULL && !json_is_null(v) &&
	    get_time(v, now_ms, 0, &s->starts_ms) < 0) {
		why_set(why, whylen, "starts_at: expected an ISO 8601 time such as "
		    "2026-11-23T08:00:00Z");
		goto done;
	}
	v = json_object_get(j, "ends_at");
	if (v == NULL || json_is_null(v))
		v = json_object_get(j, "duration");
	if (v == NULL || json_is_null(v) ||
	    get_time(v, now_ms, fresh, &s->ends_ms) < 0) {
		why_set(why, whylen, "ends_at (an ISO 8601 time) or duration (like "
		    "2h) is required: a silence must end");
		goto done;
	}
	if (fresh && s->ends_ms <= now_ms) {
		why_set(why, whylen, "ends_at: the silence would already be over");
		goto done;
	}
	if (s->ends_ms <= s->starts_ms) {
		why_set(why, whylen, "ends_at: must be after starts_at");
		goto done;
	}
	key = json_string_value(json_object_get(j, "author"));
	if (key == NULL || *key == '\0' || strlen(key) > 256) {
		why_set(why, whylen, "author: required (who silences)");
		goto done;
	}
	s->author = vg_strdup(key);
	key = json_string_value(json_object_get(j, "comment"));
	if (key == NULL || *key == '\0' || strlen(key) > SIL_MAX_TEXT) {
		why_set(why, whylen, "comment: required (why)");
		goto done;
	}
	s->comment = vg_strdup(key);
	if (fresh) {
		alert_new_id(s->id);
		s->created_ms = now_ms;
	} else {
		key = json_string_value(json_object_get(j, "id"));
		if (key == NULL || strlen(key) >= sizeof(s->id)) {
			why_set(why, whylen, "id: missing");
			goto done;
		}
		snprintf(s->id, sizeof(s->id), "%s", key);
		get_time(json_object_get(j, "created_at"), now_ms, 0,
		    &s->created_ms);
	}
	rc = 0;
done:
	pbc_free_list(levels, nlevels);
	json_decref(j);
	if (rc < 0)
		silence_clear(s);
	return rc;
}

static void jlist(struct buf *out, char **v, size_t n)
{
	buf_addc(out, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(out, ',');
		buf_json_str(out, v[i], strlen(v[i]));
	}
	buf_addc(out, ']');
}

static void jtime(struct buf *out, int64_t ms)
{
	char ts[32];
	size_t n = vgtime_format(ms, ts);

	buf_json_str(out, ts, n);
}

void silence_json(const struct silence *s, int64_t now_ms, struct buf *out)
{
	int first = 1;

	buf_adds(out, "{\"id\":");
	buf_json_str(out, s->id, strlen(s->id));
	buf_adds(out, ",\"matchers\":{");
	if (s->nrules > 0) {
		buf_adds(out, "\"rules\":");
		jlist(out, s->rules, s->nrules);
		first = 0;
	}
	if (s->levels != 0) {
		int k = 0;

		buf_adds(out, first ? "\"levels\":[" : ",\"levels\":[");
		for (int i = 0; i < 5; i++) {
			if (s->levels & (1u << i)) {
				buf_printf(out, "%s\"%s\"", k++ ? "," : "", level_names[i]);
			}
		}
		buf_addc(out, ']');
		first = 0;
	}
	if (s->ntags > 0) {
		buf_adds(out, first ? "\"tags\":" : ",\"tags\":");
		jlist(out, s->tags, s->ntags);
		first = 0;
	}
	if (s->nfields > 0) {
		buf_adds(out, first ? "\"fields\":{" : ",\"fields\":{");
		for (size_t i = 0; i < s->nfields; i++) {
			if (i > 0)
				buf_addc(out, ',');
			buf_json_str(out, s->fields[i].name, strlen(s->fields[i].name));
			buf_addc(out, ':');
			jlist(out, s->fields[i].values, s->fields[i].nvalues);
		}
		buf_addc(out, '}');
	}
	buf_adds(out, "},\"starts_at\":");
	jtime(out, s->starts_ms);
	buf_adds(out, ",\"ends_at\":");
	jtime(out, s->ends_ms);
	buf_adds(out, ",\"created_at\":");
	jtime(out, s->created_ms);
	buf_adds(out, ",\"author\":");
	buf_json_str(out, s->author, strlen(s->author));
	buf_adds(out, ",\"comment\":");
	buf_json_str(out, s->comment, strlen(s->comment));
	if (now_ms > 0)
		buf_printf(out, ",\"state\":\"%s\"", now_ms < s->starts_ms ?
		    "pending" : now_ms < s->ends_ms ? "active" : "expired");
	buf_addc(out, '}');
}

static int tag_in(const json_t *tags, const char *want)
{
	size_t i;
	const json_t *t;

	json_array_foreach(tags, i, t) {
		const char *s = json_string_value(t);

		if (s != NULL && strcasecmp(s, want) == 0)
			return 1;
	}
	return 0;
}

static int value_in(const json_t *v, const struct sil_field *f)
{
	char tmp[512];

	if (json_is_array(v)) {
		size_t i;
		const json_t *x;

		json_array_foreach(v, i, x) {
			if (value_in(x, f))
				return 1;
		}
		return 0;
	}
	if (resp_scalar(v, tmp, sizeof(tmp)) < 0)
		return 0;
	for (size_t i = 0; i < f->nvalues; i++) {
		if (strcmp(tmp, f->values[i]) == 0)
			return 1;
	}
	return 0;
}

int silence_matches(const struct silence *s, const json_t *alert,
    int64_t now_ms)
{
	const json_t *rule = json_object_get(alert, "rule");

	if (now_ms < s->starts_ms || now_ms >= s->ends_ms)
		return 0;
	if (s->nrules > 0) {
		const char *id = json_string_value(json_object_get(rule, "id"));
		const char *title = json_string_value(json_object_get(rule, "title"));
		size_t i;

		for (i = 0; i < s->nrules; i++) {
			if ((id != NULL && strcmp(id, s->rules[i]) == 0) ||
			    (title != NULL && strcmp(title, s->rules[i]) == 0))
				break;
		}
		if (i == s->nrules)
			return 0;
	}
	if (s->levels != 0) {
		int lv = resp_level(json_string_value(json_object_get(rule, "level")));

		if (lv < 0 || !(s->levels & (1u << lv)))
			return 0;
	}
	if (s->ntags > 0) {
		const json_t *tags = json_object_get(rule, "tags");
		size_t i;

		for (i = 0; i < s->ntags && !tag_in(tags, s->tags[i]); i++)
			;
		if (i == s->ntags)
			return 0;
	}
	for (size_t i = 0; i < s->nfields; i++) {
		const json_t *v = resp_alert_field(alert, s->fields[i].name);

		if (v == NULL || !value_in(v, &s->fields[i]))
			return 0;
	}
	return 1;
}
