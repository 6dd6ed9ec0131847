/*
 * notify_fmt.c: what goes on the wire. Items carry the versioned payload;
 * each attempt renders it into the channel's form: the payload itself
 * (webhook, exec), a Slack message, a PagerDuty Events v2 event, or an
 * RFC 5322 message (quoted-printable UTF-8 body, RFC 2047 subject) for SMTP.
 * Also the classification of attempt results and the backoff.
 *
 * Alert text is hostile: it never reaches a header unescaped (CR and LF are
 * dropped from the subject, which is encoded), Slack's control characters
 * are escaped, and every JSON string goes through the JSON writer.
 */
#include "notify.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alert.h"
#include "oncall.h"
#include "vgtime.h"

#define SUMMARY_MAX 1024     /* PagerDuty's limit, used for every channel */
#define RETRY_AFTER_MAX (3600 * 1000LL)

static const char *const event_names[] = { "trigger", "acknowledge", "resolve" };
static const char *const event_upper[] = {
	"TRIGGERED", "ACKNOWLEDGED", "RESOLVED",
};
static const char *const state_names[] = { "pending", "sending", "done", "dead" };

static void jstr(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_adds(b, "null");
	else
		buf_json_str(b, s, strlen(s));
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* ---- items ---- */

void notify_item_clear(struct notify_item *it)
{
	free(it->channel);
	free(it->payload);
	for (size_t i = 0; i < it->nrcpt; i++)
		free(it->rcpt[i]);
	free(it->rcpt);
	memset(it, 0, sizeof(*it));
}

static void add_rcpt(struct notify_item *it, const char *a)
{
	for (size_t i = 0; i < it->nrcpt; i++) {
		if (strcmp(it->rcpt[i], a) == 0)
			return;
	}
	it->rcpt = vg_realloc(it->rcpt, (it->nrcpt + 1) * sizeof(*it->rcpt));
	it->rcpt[it->nrcpt++] = vg_strdup(a);
}

int notify_item_make(const struct notify_channel *ch,
    const struct notify_msg *m, int64_t now_ms, struct notify_item *it,
    struct vg_err *err)
{
	struct buf b;
	char ts[32];
	const char *summary = m->summary ? m->summary : "";
	json_t *alert = NULL;

	memset(it, 0, sizeof(*it));
	if ((unsigned)m->event > NOTIFY_RESOLVE) {
		vg_err_set(err, NULL, 0, 0, "notify: bad event");
		return -1;
	}
	alert_new_id(it->id);
	it->channel = vg_strdup(ch->name);
	it->event = m->event;
	it->created_ms = it->next_ms = now_ms;
	it->state = NOTIFY_PENDING;
	vgtime_format(m->ts_ms ? m->ts_ms : now_ms, ts);
	buf_init(&b);
	buf_adds(&b, "{\"version\":1,\"type\":\"vigil.notification\",\"id\":");
	jstr(&b, it->id);
	buf_adds(&b, ",\"event\":");
	jstr(&b, event_names[m->event]);
	buf_adds(&b, ",\"channel\":");
	jstr(&b, ch->name);
	buf_adds(&b, ",\"incident\":{\"id\":");
	jstr(&b, m->incident_id ? m->incident_id : it->id);
	buf_adds(&b, ",\"dedup_key\":");
	jstr(&b, m->dedup_key ? m->dedup_key : m->incident_id ? m->incident_id :
	    it->id);
	if (m->url != NULL) {
		buf_adds(&b, ",\"url\":");
		jstr(&b, m->url);
	}
	buf_adds(&b, "},\"summary\":");
	buf_json_str(&b, summary, utf8_cut(summary, strlen(summary), SUMMARY_MAX));
	buf_adds(&b, ",\"severity\":");
	jstr(&b, m->severity ? m->severity : "medium");
	buf_adds(&b, ",\"urgency\":");
	jstr(&b, m->urgency_high ? "high" : "low");
	buf_adds(&b, ",\"source\":");
	jstr(&b, m->source ? m->source : "vigil");
	buf_adds(&b, ",\"timestamp\":");
	jstr(&b, ts);
	buf_adds(&b, ",\"details\":{");
	for (size_t i = 0; i < m->ndetails; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		jstr(&b, m->details[2 * i]);
		buf_addc(&b, ':');
		jstr(&b, m->details[2 * i + 1]);
	}
	buf_adds(&b, "},\"recipients\":[");
	for (size_t i = 0; i < m->nto; i++) {
		const struct oncall_user *u = m->to[i];

		if (i > 0)
			buf_addc(&b, ',');
		buf_adds(&b, "{\"id\":");
		jstr(&b, u->id);
		buf_adds(&b, ",\"name\":");
		jstr(&b, u->name);
		buf_adds(&b, ",\"email\":");
		jstr(&b, u->email);
		buf_adds(&b, ",\"slack\":");
		jstr(&b, u->slack);
		buf_adds(&b, ",\"phone\":");
		jstr(&b, u->phone);
		buf_addc(&b, '}');
		if (u->email != NULL)
			add_rcpt(it, u->email);
	}
	buf_addc(&b, ']');
	/* the alert goes in as is, but only when it is a JSON object */
	if (m->alert_json != NULL &&
	    (alert = json_loads(m->alert_json,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL)) &&
	    json_is_object(alert)) {
		buf_adds(&b, ",\"alert\":");
		buf_adds(&b, m->alert_json);
		while (b.len > 0 && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == ' '))
			b.len--;
	}
	json_decref(alert);
	buf_addc(&b, '}');
	it->payload = vg_strndup(b.p, b.len);
	buf_free(&b);
	if (ch->type == NOTIFY_EMAIL && it->nrcpt == 0) {
		for (size_t i = 0; i < ch->nto; i++)
			add_rcpt(it, ch->to[i]);
	}
	return 0;
}

void notify_item_to_json(const struct notify_item *it, struct buf *out)
{
	buf_adds(out, "{\"id\":");
	jstr(out, it->id);
	buf_adds(out, ",\"channel\":");
	jstr(out, it->channel);
	buf_adds(out, ",\"event\":");
	jstr(out, event_names[it->event]);
	buf_adds(out, ",\"state\":");
	jstr(out, state_names[it->state]);
	buf_printf(out, ",\"created_ms\":%" PRId64 ",\"next_ms\":%" PRId64
	    ",\"attempts\":%u,\"last_status\":%ld,\"last_error\":",
	    it->created_ms, it->next_ms, it->attempts, it->last_status);
	jstr(out, it->last_error);
	buf_adds(out, ",\"rcpt\":[");
	for (size_t i = 0; i < it->nrcpt; i++) {
		if (i > 0)
			buf_addc(out, ',');
		jstr(out, it->rcpt[i]);
	}
	buf_adds(out, "],\"payload\":");
	jstr(out, it->payload);
	buf_addc(out, '}');
}

static int name_index(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; s != NULL && i < n; i++) {
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

int notify_item_from_json(const char *s, size_t len, struct notify_item *it,
    struct vg_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
	const char *id, *ch, *pl, *le;
	int ev, st;
	json_t *rc;

	memset(it, 0, sizeof(*it));
	if (j == NULL) {
		vg_err_set(err, NULL, 0, 0, "notify item: %s", je.text);
		return -1;
	}
	id = json_string_value(json_object_get(j, "id"));
	ch = json_string_value(json_object_get(j, "channel"));
	pl = json_string_value(json_object_get(j, "payload"));
	le = json_string_value(json_object_get(j, "last_error"));
	ev = name_index(json_string_value(json_object_get(j, "event")),
	    event_names, 3);
	st = name_index(json_string_value(json_object_get(j, "state")),
	    state_names, 4);
	rc = json_object_get(j, "rcpt");
	if (id == NULL || strlen(id) >= sizeof(it->id) || ch == NULL ||
	    pl == NULL || ev < 0 || st < 0 || !json_is_array(rc) ||
	    !json_is_integer(json_object_get(j, "created_ms")) ||
	    !json_is_integer(json_object_get(j, "next_ms")) ||
	    !json_is_integer(json_object_get(j, "attempts"))) {
		vg_err_set(err, NULL, 0, 0, "notify item: missing or bad fields");
		json_decref(j);
		return -1;
	}
	snprintf(it->id, sizeof(it->id), "%s", id);
	it->channel = vg_strdup(ch);
	it->payload = vg_strdup(pl);
	it->event = (enum notify_event)ev;
	it->state = (enum notify_state)st;
	it->created_ms = json_integer_value(json_object_get(j, "created_ms"));
	it->next_ms = json_integer_value(json_object_get(j, "next_ms"));
	it->attempts = (unsigned)json_integer_value(json_object_get(j, "attempts"));
	it->last_status = (long)json_integer_value(json_object_get(j, "last_status"));
	snprintf(it->last_error, sizeof(it->last_error), "%s", le ? le : "");
	for (size_t i = 0; i < json_array_size(rc); i++) {
		const char *a = json_string_value(json_array_get(rc, i));

		if (a != NULL)
			add_rcpt(it, a);
	}
	json_decref(j);
	return 0;
}

/* ---- rendering ---- */

void notify_req_clear(struct notify_req *r)
{
	free(r->url);
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->body);
	free(r->mail_from);
	for (size_t i = 0; i < r->nrcpt; i++)
		free(r->rcpt[i]);
	free(r->rcpt);
	memset(r, 0, sizeof(*r));
}

static void add_header(struct notify_req *r, const char *fmt, ...)
    VG_PRINTF(2, 3);

static void add_header(struct notify_req *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->headers = vg_realloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
	r->headers[r->nheaders++] = vg_strdup(line);
}

static const char *pget(const json_t *p, const char *k)
{
	const char *s = json_string_value(json_object_get(p, k));

	return s ? s : "";
}

static const char *iget(const json_t *p, const char *k)
{
	const char *s = json_string_value(json_object_get(json_object_get(p,
	    "incident"), k));

	return s ? s : "";
}

/* Slack's three control characters. */
static void slack_esc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			buf_adds(b, "&amp;");
		else if (*s == '<')
			buf_adds(b, "&lt;");
		else if (*s == '>')
			buf_adds(b, "&gt;");
		else
			buf_addc(b, *s);
	}
}

static void render_slack(const json_t *p, int ev, struct buf *out)
{
	struct buf t;
	const char *url = iget(p, "url");
	const json_t *det = json_object_get(p, "details");
	const json_t *rc = json_object_get(p, "recipients");
	const char *k;
	json_t *v;

	buf_init(&t);
	buf_printf(&t, "*[%s]* ", event_upper[ev]);
	if (*url != '\0' && strpbrk(url, "|<> ") == NULL) {
		buf_addc(&t, '<');
		buf_adds(&t, url);
		buf_addc(&t, '|');
		slack_esc(&t, pget(p, "summary"));
		buf_addc(&t, '>');
	} else {
		slack_esc(&t, pget(p, "summary"));
	}
	buf_adds(&t, "\nSeverity: ");
	slack_esc(&t, pget(p, "severity"));
	buf_adds(&t, " | Urgency: ");
	slack_esc(&t, pget(p, "urgency"));
	buf_adds(&t, " | Source: ");
	slack_esc(&t, pget(p, "source"));
	buf_adds(&t, " | Incident: ");
	slack_esc(&t, iget(p, "id"));
	for (size_t i = 0; i < json_array_size(rc); i++) {
		const char *sl = json_string_value(json_object_get(json_array_get(rc,
		    i), "slack"));
		const char *nm = json_string_value(json_object_get(json_array_get(rc,
		    i), "name"));

		buf_adds(&t, i == 0 ? "\nOn call: " : " ");
		if (sl != NULL && strspn(sl, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
		    strlen(sl) && *sl != '\0') {
			buf_adds(&t, "<@");
			buf_adds(&t, sl);
			buf_addc(&t, '>');
		} else if (nm != NULL) {
			slack_esc(&t, nm);
		}
	}
	json_object_foreach((json_t *)det, k, v) {
		buf_adds(&t, "\n\xe2\x80\xa2 *");
		slack_esc(&t, k);
		buf_adds(&t, "*: ");
		slack_esc(&t, json_string_value(v) ? json_string_value(v) : "");
	}
	buf_adds(out, "{\"text\":");
	buf_json_str(out, t.p, t.len);
	buf_adds(out, ",\"unfurl_links\":false,\"unfurl_media\":false}");
	buf_free(&t);
}

static const char *pd_severity(const char *level)
{
	if (strcmp(level, "critical") == 0)
		return "critical";
	if (strcmp(level, "high") == 0)
		return "error";
	if (strcmp(level, "medium") == 0)
		return "warning";
	return "info";
}

static void render_pagerduty(const struct notify_channel *ch, const json_t *p,
    int ev, struct buf *out)
{
	const char *dk = iget(p, "dedup_key"), *url = iget(p, "url");
	const json_t *det = json_object_get(p, "details");
	const char *k;
	json_t *v;

	buf_adds(out, "{\"routing_key\":");
	jstr(out, ch->routing_key);
	buf_adds(out, ",\"event_action\":");
	jstr(out, event_names[ev]);
	buf_adds(out, ",\"dedup_key\":");
	buf_json_str(out, dk, utf8_cut(dk, strlen(dk), 255));
	if (ev == NOTIFY_TRIGGER) {
		const char *sum = pget(p, "summary");

		buf_adds(out, ",\"payload\":{\"summary\":");
		buf_json_str(out, sum, utf8_cut(sum, strlen(sum), SUMMARY_MAX));
		buf_adds(out, ",\"source\":");
		jstr(out, pget(p, "source"));
		buf_adds(out, ",\"severity\":");
		jstr(out, pd_severity(pget(p, "severity")));
		buf_adds(out, ",\"timestamp\":");
		jstr(out, pget(p, "timestamp"));
		buf_adds(out, ",\"component\":\"vigil\",\"custom_details\":{"
		    "\"incident\":");
		jstr(out, iget(p, "id"));
		buf_adds(out, ",\"urgency\":");
		jstr(out, pget(p, "urgency"));
		json_object_foreach((json_t *)det, k, v) {
			buf_addc(out, ',');
			jstr(out, k);
			buf_addc(out, ':');
			jstr(out, json_string_value(v) ? json_string_value(v) : "");
		}
		buf_adds(out, "}},\"client\":\"vigil\"");
		if (*url != '\0') {
			buf_adds(out, ",\"client_url\":");
			jstr(out, url);
			buf_adds(out, ",\"links\":[{\"href\":");
			jstr(out, url);
			buf_adds(out, ",\"text\":\"Incident in vigil\"}]");
		}
	}
	buf_addc(out, '}');
}

/* Only characters that are safe in a Message-ID or header token. */
static void token(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		buf_addc(b, ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_') ?
		    (char)c : '_');
	}
}

static void base64(struct buf *b, const unsigned char *s, size_t n)
{
	unsigned char tmp[128];

	for (size_t i = 0; i < n; i += 48) {
		size_t k = n - i < 48 ? n - i : 48;
		int len = EVP_EncodeBlock(tmp, s + i, (int)k);

		buf_add(b, tmp, (size_t)len);
	}
}

/* Subject header text: controls become spaces; non-ASCII goes out as
 * RFC 2047 encoded words of at most 45 bytes each. */
static void subject(struct buf *b, const char *s, size_t len)
{
	unsigned char clean[512];
	size_t n = 0, i = 0;
	int ascii = 1;

	len = utf8_cut(s, len, sizeof(clean) - 1);
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)s[k];

		clean[n++] = c < 0x20 || c == 0x7f ? ' ' : c;
		if (c >= 0x80)
			ascii = 0;
	}
	if (ascii) {
		buf_add(b, clean, n);
		return;
	}
	while (i < n) {
		size_t k = utf8_cut((const char *)clean + i, n - i, 45);

		if (k == 0)
			k = n - i < 45 ? n - i : 45;
		if (i > 0)
			buf_adds(b, "\r\n ");
		buf_adds(b, "=?UTF-8?B?");
		base64(b, clean + i, k);
		buf_adds(b, "?=");
		i += k;
	}
}

/* Quoted-printable (RFC 2045) of text with \n line ends, CRLF out. */
static void qp(struct buf *b, const char *s, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[4];
		size_t w;
		int last = i + 1 == n || s[i + 1] == '\n';

		if (c == '\n') {
			buf_adds(b, "\r\n");
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=' && !(c == '.' && col == 0)) ||
		    ((c == ' ' || c == '\t') && !last)) {
			enc[0] = (char)c;
			w = 1;
		} else {
			snprintf(enc, sizeof(enc), "=%02X", c);
			w = 3;
		}
		if (col + w > 75) {
			buf_adds(b, "=\r\n");
			col = 0;
			if (w == 1 && c == '.') {
				snprintf(enc, sizeof(enc), "=%02X", c);
				w = 3;
			}
		}
		buf_add(b, enc, w);
		col += w;
	}
	if (col > 0)
		buf_adds(b, "\r\n");
}

static void mail_date(struct buf *b, int64_t ms)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const mn[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t s = ms / 1000, days = s / 86400, y;
	unsigned m, d;
	int64_t sod = s % 86400;

	if (sod < 0) {
		sod += 86400;
		days--;
	}
	vgtime_civil_from_days(days, &y, &m, &d);
	buf_printf(b, "%s, %02u %s %04" PRId64 " %02d:%02d:%02d +0000",
	    wd[((days % 7) + 7 + 4) % 7], d, mn[m - 1], y, (int)(sod / 3600),
	    (int)(sod / 60 % 60), (int)(sod % 60));
}

static int render_email(const struct notify_channel *ch,
    const struct notify_item *it, const json_t *p, int ev, int64_t now_ms,
    struct notify_req *out, struct vg_err *err)
{
	struct buf m, body, subj;
	const json_t *det = json_object_get(p, "details");
	const json_t *rc = json_object_get(p, "recipients");
	const char *k, *url = iget(p, "url");
	json_t *v;

	if (it->nrcpt == 0) {
		vg_err_set(err, NULL, 0, 0, "no recipient with an e-mail address");
		return -1;
	}
	buf_init(&m);
	buf_init(&body);
	buf_init(&subj);
	buf_printf(&subj, "[vigil] %s: %s", event_upper[ev], pget(p, "summary"));
	buf_printf(&m, "From: vigil <%s>\r\nTo: ", ch->from);
	for (size_t i = 0; i < it->nrcpt; i++)
		buf_printf(&m, "%s%s", i ? ",\r\n " : "", it->rcpt[i]);
	buf_adds(&m, "\r\nSubject: ");
	subject(&m, subj.p, subj.len);
	buf_adds(&m, "\r\nDate: ");
	mail_date(&m, now_ms);
	buf_adds(&m, "\r\nMessage-ID: <");
	token(&m, it->id);
	buf_adds(&m, "@vigil.invalid>\r\nReferences: <");
	token(&m, iget(p, "dedup_key"));
	buf_adds(&m, "@vigil.invalid>\r\n");
	if (ev != NOTIFY_TRIGGER) {
		buf_adds(&m, "In-Reply-To: <");
		token(&m, iget(p, "dedup_key"));
		buf_adds(&m, "@vigil.invalid>\r\n");
	}
	buf_adds(&m, "X-Vigil-Incident: ");
	token(&m, iget(p, "id"));
	buf_printf(&m, "\r\nX-Vigil-Event: %s\r\nAuto-Submitted: auto-generated\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", event_names[ev]);
	buf_printf(&body, "%s: %s\n\n", event_upper[ev], pget(p, "summary"));
	buf_printf(&body, "Severity: %s (urgency %s)\nSource:   %s\nIncident: %s\n",
	    pget(p, "severity"), pget(p, "urgency"), pget(p, "source"),
	    iget(p, "id"));
	if (*url != '\0')
		buf_printf(&body, "Link:     %s\n", url);
	buf_printf(&body, "Time:     %s\n", pget(p, "timestamp"));
	for (size_t i = 0; i < json_array_size(rc); i++)
		buf_printf(&body, "%s%s", i == 0 ? "On call:  " : ", ",
		    pget(json_array_get(rc, i), "name"));
	if (json_array_size(rc) > 0)
		buf_addc(&body, '\n');
	if (json_object_size(det) > 0)
		buf_adds(&body, "\nDetails:\n");
	json_object_foreach((json_t *)det, k, v)
		buf_printf(&body, "  %s: %s\n", k,
		    json_string_value(v) ? json_string_value(v) : "");
	buf_adds(&body, "\n-- \nvigil\n");
	qp(&m, body.p, body.len);
	out->url = vg_strdup(ch->url);
	out->mail_from = vg_strdup(ch->from);
	out->rcpt = vg_calloc(it->nrcpt, sizeof(*out->rcpt));
	for (size_t i = 0; i < it->nrcpt; i++)
		out->rcpt[out->nrcpt++] = vg_strdup(it->rcpt[i]);
	out->body = vg_strndup(m.p, m.len);
	out->body_len = m.len;
	buf_free(&m);
	buf_free(&body);
	buf_free(&subj);
	return 0;
}

static void sign(const struct notify_channel *ch, const char *body, size_t len,
    int64_t now_ms, struct notify_req *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char ts[32], hex[2 * EVP_MAX_MD_SIZE + 1];
	struct buf msg;

	snprintf(ts, sizeof(ts), "%" PRId64, now_ms / 1000);
	buf_init(&msg);
	buf_adds(&msg, ts);
	buf_addc(&msg, '.');
	buf_add(&msg, body, len);
	HMAC(EVP_sha256(), ch->secret, (int)strlen(ch->secret),
	    (const unsigned char *)msg.p, msg.len, md, &mdlen);
	buf_free(&msg);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * mdlen] = '\0';
	add_header(out, "X-Vigil-Signature: t=%s,v1=%s", ts, hex);
}

int notify_render(const struct notify_channel *ch,
    const struct notify_item *it, int64_t now_ms, struct notify_req *out,
    struct vg_err *err)
{
	json_error_t je;
	json_t *p;
	struct buf b;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	p = json_loads(it->payload, JSON_ALLOW_NUL, &je);
	if (!json_is_object(p)) {
		vg_err_set(err, NULL, 0, 0, "bad payload: %s", je.text);
		json_decref(p);
		return -1;
	}
	buf_init(&b);
	switch (ch->type) {
	case NOTIFY_WEBHOOK:
	case NOTIFY_EXEC:
		buf_adds(&b, it->payload);
		break;
	case NOTIFY_SLACK:
		render_slack(p, (int)it->event, &b);
		break;
	case NOTIFY_PAGERDUTY:
		render_pagerduty(ch, p, (int)it->event, &b);
		break;
	case NOTIFY_EMAIL:
		rc = render_email(ch, it, p, (int)it->event, now_ms, out, err);
		break;
	}
	json_decref(p);
	if (rc < 0 || ch->type == NOTIFY_EMAIL) {
		buf_free(&b);
		if (rc < 0)
			notify_req_clear(out);
		return rc;
	}
	out->body = vg_strndup(b.p, b.len);
	out->body_len = b.len;
	buf_free(&b);
	if (ch->type == NOTIFY_EXEC)
		return 0;
	out->url = vg_strdup(ch->url);
	add_header(out, "Content-Type: application/json");
	add_header(out, "User-Agent: vigil");
	if (ch->type == NOTIFY_WEBHOOK) {
		add_header(out, "X-Vigil-Delivery: %s", it->id);
		add_header(out, "X-Vigil-Event: %s", event_names[it->event]);
		for (size_t i = 0; i < ch->nheaders; i++)
			add_header(out, "%s", ch->headers[i]);
		if (ch->secret != NULL)
			sign(ch, out->body, out->body_len, now_ms, out);
	}
	return 0;
}

/* ---- results ---- */

enum notify_class notify_classify_http(int curl_code, long status)
{
	switch ((CURLcode)curl_code) {
	case CURLE_OK:
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_TOO_MANY_REDIRECTS:
		return NOTIFY_FAIL;
	default:
		/* resolving, connecting, TLS, timeouts, broken connections */
		return NOTIFY_RETRY;
	}
	if (status >= 200 && status < 300)
		return NOTIFY_OK;
	if (status == 429 || status == 408 || status >= 500 || status == 0)
		return NOTIFY_RETRY;
	return NOTIFY_FAIL;
}

enum notify_class notify_classify_smtp(int curl_code, long reply)
{
	if ((CURLcode)curl_code == CURLE_OK)
		return NOTIFY_OK;
	if ((CURLcode)curl_code == CURLE_URL_MALFORMAT ||
	    (CURLcode)curl_code == CURLE_UNSUPPORTED_PROTOCOL ||
	    (CURLcode)curl_code == CURLE_LOGIN_DENIED)
		return NOTIFY_FAIL;
	if (reply >= 500 && reply < 600)
		return NOTIFY_FAIL;
	return NOTIFY_RETRY;
}

enum notify_class notify_classify_exec(int started, int exit_code,
    int timed_out)
{
	if (!started)
		return NOTIFY_FAIL;
	if (timed_out || exit_code < 0 || exit_code == 75)
		return NOTIFY_RETRY;
	return exit_code == 0 ? NOTIFY_OK : NOTIFY_FAIL;
}

int64_t notify_backoff(const struct notify_retry *r, unsigned attempts,
    double jitter, int64_t retry_after_ms)
{
	int64_t d = r->initial_ms;

	for (unsigned i = 1; i < attempts && d < r->max_ms; i++)
		d *= 2;
	if (d > r->max_ms)
		d = r->max_ms;
	if (jitter < 0)
		jitter = 0;
	if (jitter > 1)
		jitter = 1;
	d = d / 2 + (int64_t)((double)(d - d / 2) * jitter);
	if (retry_after_ms > RETRY_AFTER_MAX)
		retry_after_ms = RETRY_AFTER_MAX;
	return d > retry_after_ms ? d : retry_after_ms;
}
