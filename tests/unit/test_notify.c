/*
 * test_notify.c: notification channels (loading and every diagnostic),
 * payloads for each channel type, result classification, backoff, the
 * stored item form, and the sender on a real libevent loop against an
 * in-process HTTP server (libevent's evhttp): delivery, 500 then 200 (one
 * delivery after one retry), dead letters, Retry-After, timeouts, refused
 * connections, the store seam and resuming, and an exec channel.
 *
 * Waiting is always "run the loop until it happened or a generous deadline
 * passed"; no test asserts how long anything took.
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "unit.h"
#include "../../engine/execstep.h"
#include "../../engine/notify.h"
#include "../../engine/oncall.h"

static char dir[64];
static struct event_base *base;

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static struct notify_channels *load(const char *yaml, struct vg_diag *d,
    char **out, const struct execstep_policy *xp)
{
	char path[256];
	size_t outlen = 0;
	FILE *f = open_memstream(out, &outlen);
	struct notify_load_opts o = { xp };
	struct notify_channels *cs;

	/* the name anchors *_file paths, like the config file does */
	snprintf(path, sizeof(path), "%s/vigil.yml", dir);
	vg_diag_init(d, f);
	d->no_source = 1;
	cs = notify_channels_load_buffer(path, yaml, strlen(yaml), &o, d);
	fclose(f);
	return cs;
}

/* ---- loading ---- */

TEST(channels_load)
{
	static const char yaml[] =
	    "ops-hook:\n"
	    "  type: webhook\n"
	    "  url: https://hooks.example.org/vigil\n"
	    "  headers: {X-Team: soc}\n"
	    "  secret_file: hook.key\n"
	    "  timeout: 5s\n"
	    "  retry: {initial: 2s, max: 1m, attempts: 5, max_age: 1h}\n"
	    "ops-slack: {type: slack, url_file: slack.url}\n"
	    "pd: {type: pagerduty, routing_key_file: pd.key}\n"
	    "mail:\n"
	    "  type: email\n"
	    "  url: smtp://127.0.0.1:2525\n"
	    "  from: vigil@example.org\n"
	    "  to: [soc@example.org, oncall@example.org]\n"
	    "  starttls: off\n";
	struct vg_diag d;
	char *out = NULL;
	struct notify_channels *cs = load(yaml, &d, &out, NULL);
	const struct notify_channel *c;

	CHECK_INT(d.errors, 0);
	if (d.errors)
		fprintf(stderr, "%s", out);
	free(out);
	if (cs == NULL)
		return;
	CHECK_INT(cs->n, 4);
	c = notify_channel(cs, "ops-hook");
	CHECK(c != NULL && c->type == NOTIFY_WEBHOOK);
	CHECK_STR(c->secret, "s3cret");
	CHECK_INT(c->nheaders, 1);
	CHECK_STR(c->headers[0], "X-Team: soc");
	CHECK_INT(c->timeout_ms, 5000);
	CHECK_INT(c->retry.initial_ms, 2000);
	CHECK_INT(c->retry.max_ms, 60000);
	CHECK_INT(c->retry.attempts, 5);
	CHECK_INT(c->retry.max_age_ms, 3600000);
	c = notify_channel(cs, "ops-slack");
	CHECK_STR(c->url, "https://hooks.slack.example/services/T0/B0/XX");
	CHECK_INT(c->retry.attempts, 12);
	c = notify_channel(cs, "pd");
	CHECK_STR(c->routing_key, "R0UTINGKEY");
	CHECK_STR(c->url, "https://events.pagerduty.com/v2/enqueue");
	c = notify_channel(cs, "mail");
	CHECK_INT(c->nto, 2);
	CHECK_INT(c->starttls, NOTIFY_TLS_OFF);
	CHECK(notify_channel_exists(cs, "pd"));
	CHECK(!notify_channel_exists(cs, "fax"));
	notify_channels_free(cs);
	/* the list form */
	cs = load("- {name: a, type: slack, url: 'http://x/y'}\n"
	    "- {name: b, type: webhook, url: 'http://x/z'}\n", &d, &out, NULL);
	free(out);
	CHECK(cs != NULL && cs->n == 2 && strcmp(cs->v[1].name, "b") == 0);
	notify_channels_free(cs);
}

TEST(channels_diagnostics)
{
	static const char yaml[] =
	    "a: {type: slack, url: 'http://x/y', routing_key: k}\n"
	    "b: {type: webhook}\n"
	    "c: {type: pagerduty, routing_key: k, routing_key_file: pd.key}\n"
	    "d: {type: email, url: 'http://mail', from: 'not an address'}\n"
	    "e: {type: email, url: 'smtp://m:25', from: a@b.c, username: u, "
	    "password: p, starttls: off}\n"
	    "f: {type: exec, argv: [notify-sms]}\n"
	    "g: {type: fax}\n"
	    "h: {type: webhook, url: 'ftp://x', retry: {attempts: 0}}\n"
	    "i: {type: slack, url_file: missing.url}\n";
	static const char *const want[] = {
	    "vigil.yml:1:50: error: channels.a: 'routing_key' is not a setting of "
	    "a slack channel",
	    "vigil.yml:2:4: error: channels.b: missing url (or url_file)",
	    "vigil.yml:3:56: error: routing_key: give routing_key or "
	    "routing_key_file, not both",
	    "vigil.yml:4:23: error: channels.d.url: expected smtp://host:port or "
	    "smtps://host:port",
	    "vigil.yml:4:44: error: channels.d.from: 'not an address' is not an "
	    "e-mail address",
	    "vigil.yml:5:87: error: channels.e.starttls: a password is only sent "
	    "over TLS",
	    "vigil.yml:6:24: error: channels.f: no folders are allowed for exec",
	    "vigil.yml:7:11: error: channels.g.type: expected webhook, slack, "
	    "pagerduty, email or exec",
	    "vigil.yml:8:25: error: channels.h.url: expected an http:// or "
	    "https:// URL",
	    "vigil.yml:8:54: error: retry.attempts: expected an integer from 1 to "
	    "1000",
	    "vigil.yml:9:28: error: url_file: cannot read",
	};
	struct vg_diag d;
	char *out = NULL;
	struct notify_channels *cs = load(yaml, &d, &out, NULL);

	CHECK(cs == NULL);
	for (size_t i = 0; i < VG_ARRAY_LEN(want); i++) {
		if (strstr(out, want[i]) == NULL)
			UNIT_FAIL("missing: %s", want[i]);
	}
	CHECK_INT(d.errors, (int)VG_ARRAY_LEN(want));
	if (unit_fail_now)
		fprintf(stderr, "%s", out);
	free(out);
}

/* ---- payloads ---- */

static struct oncall *oc;

static void msg_init(struct notify_msg *m, const struct oncall_user **to,
    size_t nto)
{
	static const char *const det[] = { "user", "root <admin> & co",
	    "attempts", "5" };

	memset(m, 0, sizeof(*m));
	m->event = NOTIFY_TRIGGER;
	m->incident_id = "inc-42";
	m->summary = "SSH password guessing from 203.0.113.9 \xc3\xa9t\xc3\xa9";
	m->severity = "high";
	m->urgency_high = 1;
	m->source = "gw1";
	m->url = "https://vigil.example.org/incidents/inc-42";
	m->ts_ms = 1795392005000LL; /* 2026-11-23T00:00:05Z */
	m->details = det;
	m->ndetails = 2;
	m->to = to;
	m->nto = nto;
	m->alert_json = "{\"id\":\"a1\",\"rule\":{\"id\":\"r1\"}}\n";
}

static struct notify_channels *chans;

TEST(payload_and_webhook)
{
	const struct oncall_user *to[] = { oncall_user(oc, "alice"),
	    oncall_user(oc, "bob") };
	const struct notify_channel *ch = notify_channel(chans, "hook");
	struct notify_msg m;
	struct notify_item it;
	struct notify_req r;
	struct vg_err err = { 0 };
	char want[2048], sig[128], hex[65];
	unsigned char md[32];
	unsigned mdlen = 0;
	struct buf b;

	msg_init(&m, to, 2);
	CHECK_INT(notify_item_make(ch, &m, 1795392006000LL, &it, &err), 0);
	CHECK_INT(strlen(it.id), 36);
	snprintf(want, sizeof(want),
	    "{\"version\":1,\"type\":\"vigil.notification\",\"id\":\"%s\","
	    "\"event\":\"trigger\",\"channel\":\"hook\",\"incident\":{\"id\":"
	    "\"inc-42\",\"dedup_key\":\"inc-42\",\"url\":"
	    "\"https://vigil.example.org/incidents/inc-42\"},\"summary\":\"SSH "
	    "password guessing from 203.0.113.9 \xc3\xa9t\xc3\xa9\",\"severity\":"
	    "\"high\",\"urgency\":\"high\",\"source\":\"gw1\",\"timestamp\":"
	    "\"2026-11-23T00:00:05.000Z\",\"details\":{\"user\":\"root <admin> & "
	    "co\",\"attempts\":\"5\"},\"recipients\":[{\"id\":\"alice\",\"name\":"
	    "\"Alice Liddell\",\"email\":\"alice@example.org\",\"slack\":\"U01ALICE\","
	    "\"phone\":null},{\"id\":\"bob\",\"name\":\"bob\",\"email\":null,"
	    "\"slack\":null,\"phone\":null}],\"alert\":{\"id\":\"a1\",\"rule\":"
	    "{\"id\":\"r1\"}}}", it.id);
	CHECK_STR(it.payload, want);
	{
		json_t *j = json_loads(it.payload, 0, NULL);

		CHECK(json_is_object(j));
		json_decref(j);
	}
	CHECK_INT(notify_render(ch, &it, 1795392010000LL, &r, &err), 0);
	CHECK_STR(r.body, it.payload);
	CHECK_STR(r.url, "http://127.0.0.1:9/hook");
	CHECK_INT(r.nheaders, 6);
	CHECK_STR(r.headers[0], "Content-Type: application/json");
	snprintf(want, sizeof(want), "X-Vigil-Delivery: %s", it.id);
	CHECK_STR(r.headers[2], want);
	CHECK_STR(r.headers[3], "X-Vigil-Event: trigger");
	CHECK_STR(r.headers[4], "X-Team: soc");
	/* the signature covers "<unix time>.<body>" */
	buf_init(&b);
	buf_adds(&b, "1795392010.");
	buf_add(&b, r.body, r.body_len);
	HMAC(EVP_sha256(), "s3cret", 6, (unsigned char *)b.p, b.len, md, &mdlen);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(sig, sizeof(sig), "X-Vigil-Signature: t=1795392010,v1=%s", hex);
	CHECK_STR(r.headers[5], sig);
	buf_free(&b);
	notify_req_clear(&r);
	notify_item_clear(&it);
}

TEST(slack_and_pagerduty)
{
	const struct oncall_user *to[] = { oncall_user(oc, "alice"),
	    oncall_user(oc, "bob") };
	struct notify_msg m;
	struct notify_item it;
	struct notify_req r;
	struct vg_err err = { 0 };

	msg_init(&m, to, 2);
	m.summary = "<!channel> & friends";
	notify_item_make(notify_channel(chans, "slack"), &m, 0, &it, &err);
	CHECK_INT(notify_render(notify_channel(chans, "slack"), &it, 0, &r, &err), 0);
	CHECK_STR(r.body, "{\"text\":\"*[TRIGGERED]* "
	    "<https://vigil.example.org/incidents/inc-42|&lt;!channel&gt; &amp; "
	    "friends>\\nSeverity: high | Urgency: high | Source: gw1 | Incident: "
	    "inc-42\\nOn call: <@U01ALICE> bob\\n\xe2\x80\xa2 *user*: root &lt;admin&gt; "
	    "&amp; co\\n\xe2\x80\xa2 *attempts*: 5\",\"unfurl_links\":false,"
	    "\"unfurl_media\":false}");
	CHECK_INT(r.nheaders, 2);
	notify_req_clear(&r);
	notify_item_clear(&it);

	msg_init(&m, NULL, 0);
	m.dedup_key = "vigil:ssh:203.0.113.9";
	notify_item_make(notify_channel(chans, "pd"), &m, 0, &it, &err);
	CHECK_INT(notify_render(notify_channel(chans, "pd"), &it, 0, &r, &err), 0);
	CHECK_STR(r.body, "{\"routing_key\":\"R0UTINGKEY\",\"event_action\":"
	    "\"trigger\",\"dedup_key\":\"vigil:ssh:203.0.113.9\",\"payload\":"
	    "{\"summary\":\"SSH password guessing from 203.0.113.9 \xc3\xa9t\xc3\xa9\","
	    "\"source\":\"gw1\",\"severity\":\"error\",\"timestamp\":"
	    "\"2026-11-23T00:00:05.000Z\",\"component\":\"vigil\",\"custom_details\":"
	    "{\"incident\":\"inc-42\",\"urgency\":\"high\",\"user\":\"root <admin> & "
	    "co\",\"attempts\":\"5\"}},\"client\":\"vigil\",\"client_url\":"
	    "\"https://vigil.example.org/incidents/inc-42\",\"links\":[{\"href\":"
	    "\"https://vigil.example.org/incidents/inc-42\",\"text\":\"Incident in "
	    "vigil\"}]}");
	CHECK_STR(r.url, "http://127.0.0.1:9/pd");
	notify_req_clear(&r);
	notify_item_clear(&it);
	m.event = NOTIFY_RESOLVE;
	notify_item_make(notify_channel(chans, "pd"), &m, 0, &it, &err);
	CHECK_INT(notify_render(notify_channel(chans, "pd"), &it, 0, &r, &err), 0);
	CHECK_STR(r.body, "{\"routing_key\":\"R0UTINGKEY\",\"event_action\":"
	    "\"resolve\",\"dedup_key\":\"vigil:ssh:203.0.113.9\"}");
	notify_req_clear(&r);
	notify_item_clear(&it);
}

TEST(email_message)
{
	const struct oncall_user *to[] = { oncall_user(oc, "alice"),
	    oncall_user(oc, "bob") };
	const struct notify_channel *ch = notify_channel(chans, "mail");
	struct notify_msg m;
	struct notify_item it;
	struct notify_req r;
	struct vg_err err = { 0 };
	char want[4096];

	msg_init(&m, to, 2);
	m.event = NOTIFY_ACKNOWLEDGE;
	m.summary = "Line one\r\nBcc: evil@example.org";
	notify_item_make(ch, &m, 0, &it, &err);
	/* bob has no address: only alice's */
	CHECK_INT(it.nrcpt, 1);
	CHECK_INT(notify_render(ch, &it, 1795392005000LL, &r, &err), 0);
	snprintf(want, sizeof(want),
	    "From: vigil <vigil@example.org>\r\n"
	    "To: alice@example.org\r\n"
	    "Subject: [vigil] ACKNOWLEDGED: Line one  Bcc: evil@example.org\r\n"
	    "Date: Mon, 23 Nov 2026 00:00:05 +0000\r\n"
	    "Message-ID: <%s@vigil.invalid>\r\n"
	    "References: <inc-42@vigil.invalid>\r\n"
	    "In-Reply-To: <inc-42@vigil.invalid>\r\n"
	    "X-Vigil-Incident: inc-42\r\n"
	    "X-Vigil-Event: acknowledge\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "ACKNOWLEDGED: Line one=0D\r\n"
	    "Bcc: evil@example.org\r\n"
	    "\r\n"
	    "Severity: high (urgency high)\r\n"
	    "Source:   gw1\r\n"
	    "Incident: inc-42\r\n"
	    "Link:     https://vigil.example.org/incidents/inc-42\r\n"
	    "Time:     2026-11-23T00:00:05.000Z\r\n"
	    "On call:  Alice Liddell, bob\r\n"
	    "\r\n"
	    "Details:\r\n"
	    "  user: root <admin> & co\r\n"
	    "  attempts: 5\r\n"
	    "\r\n"
	    "--=20\r\n"
	    "vigil\r\n", it.id);
	CHECK_STR(r.body, want);
	CHECK_STR(r.mail_from, "vigil@example.org");
	CHECK_INT(r.nrcpt, 1);
	notify_req_clear(&r);
	notify_item_clear(&it);
	/* non-ASCII subjects are encoded words; long lines get soft breaks;
	 * a leading dot is encoded */
	m.event = NOTIFY_TRIGGER;
	m.summary = "\xc3\xa9t\xc3\xa9";
	m.ndetails = 0;
	m.nto = 0;
	notify_item_make(ch, &m, 0, &it, &err);
	CHECK_INT(it.nrcpt, 2); /* the channel's own recipients */
	CHECK_INT(notify_render(ch, &it, 0, &r, &err), 0);
	CHECK(strstr(r.body, "Subject: =?UTF-8?B?W3ZpZ2lsXSBUUklHR0VSRUQ6IMOpdMOp?="
	    "\r\n") != NULL);
	CHECK(strstr(r.body, "To: soc@example.org,\r\n oncall@example.org\r\n") != NULL);
	CHECK(strstr(r.body, "TRIGGERED: =C3=A9t=C3=A9\r\n") != NULL);
	notify_req_clear(&r);
	notify_item_clear(&it);
	/* nobody to write to: a dead letter at render time */
	ch = notify_channel(chans, "mail-nobody");
	notify_item_make(ch, &m, 0, &it, &err);
	CHECK_INT(notify_render(ch, &it, 0, &r, &err), -1);
	CHECK_STR(err.msg, "no recipient with an e-mail address");
	notify_item_clear(&it);
}

TEST(classify_and_backoff)
{
	struct notify_retry r = { 1000, 60000, 10, 86400000 };

	CHECK_INT(notify_classify_http(CURLE_OK, 200), NOTIFY_OK);
	CHECK_INT(notify_classify_http(CURLE_OK, 202), NOTIFY_OK);
	CHECK_INT(notify_classify_http(CURLE_OK, 429), NOTIFY_RETRY);
	CHECK_INT(notify_classify_http(CURLE_OK, 408), NOTIFY_RETRY);
	CHECK_INT(notify_classify_http(CURLE_OK, 500), NOTIFY_RETRY);
	CHECK_INT(notify_classify_http(CURLE_OK, 503), NOTIFY_RETRY);
	CHECK_INT(notify_classify_http(CURLE_OK, 400), NOTIFY_FAIL);
	CHECK_INT(notify_classify_http(CURLE_OK, 401), NOTIFY_FAIL);
	CHECK_INT(notify_classify_http(CURLE_OK, 404), NOTIFY_FAIL);
	CHECK_INT(notify_classify_http(CURLE_OK, 301), NOTIFY_FAIL);
	CHECK_INT(notify_classify_http(CURLE_COULDNT_CONNECT, 0), NOTIFY_RETRY);
	CHECK_INT(notify_classify_http(CURLE_OPERATION_TIMEDOUT, 0), NOTIFY_RETRY);
	CHECK_INT(notify_classify_http(CURLE_COULDNT_RESOLVE_HOST, 0), NOTIFY_RETRY);
	CHECK_INT(notify_classify_http(CURLE_URL_MALFORMAT, 0), NOTIFY_FAIL);
	CHECK_INT(notify_classify_smtp(CURLE_OK, 250), NOTIFY_OK);
	CHECK_INT(notify_classify_smtp(CURLE_SEND_ERROR, 451), NOTIFY_RETRY);
	CHECK_INT(notify_classify_smtp(CURLE_SEND_ERROR, 550), NOTIFY_FAIL);
	CHECK_INT(notify_classify_smtp(CURLE_LOGIN_DENIED, 535), NOTIFY_FAIL);
	CHECK_INT(notify_classify_smtp(CURLE_COULDNT_CONNECT, 0), NOTIFY_RETRY);
	CHECK_INT(notify_classify_exec(1, 0, 0), NOTIFY_OK);
	CHECK_INT(notify_classify_exec(1, 75, 0), NOTIFY_RETRY);
	CHECK_INT(notify_classify_exec(1, -1, 1), NOTIFY_RETRY);
	CHECK_INT(notify_classify_exec(1, 2, 0), NOTIFY_FAIL);
	CHECK_INT(notify_classify_exec(0, 127, 0), NOTIFY_FAIL);
	/* 1 s, 2 s, 4 s ... up to 60 s; jitter scales into [1/2, 1] */
	CHECK_INT(notify_backoff(&r, 1, 1.0, 0), 1000);
	CHECK_INT(notify_backoff(&r, 1, 0.0, 0), 500);
	CHECK_INT(notify_backoff(&r, 2, 1.0, 0), 2000);
	CHECK_INT(notify_backoff(&r, 4, 1.0, 0), 8000);
	CHECK_INT(notify_backoff(&r, 7, 1.0, 0), 60000);
	CHECK_INT(notify_backoff(&r, 200, 0.5, 0), 45000);
	CHECK_INT(notify_backoff(&r, 1, 1.0, 30000), 30000);
	CHECK_INT(notify_backoff(&r, 1, 1.0, 86400000), 3600000);
}

TEST(item_round_trip)
{
	struct notify_msg m;
	struct notify_item it, back;
	struct vg_err err = { 0 };
	struct buf b, b2;

	msg_init(&m, NULL, 0);
	notify_item_make(notify_channel(chans, "mail"), &m, 1000, &it, &err);
	it.attempts = 3;
	it.next_ms = 99999;
	it.last_status = 451;
	snprintf(it.last_error, sizeof(it.last_error), "SMTP 451: \"busy\"");
	buf_init(&b);
	buf_init(&b2);
	notify_item_to_json(&it, &b);
	CHECK_INT(notify_item_from_json(b.p, b.len, &back, &err), 0);
	notify_item_to_json(&back, &b2);
	CHECK_STR(buf_cstr(&b2), buf_cstr(&b));
	CHECK_STR(back.payload, it.payload);
	CHECK_INT(back.nrcpt, 2);
	CHECK_INT(back.attempts, 3);
	CHECK_STR(back.last_error, "SMTP 451: \"busy\"");
	notify_item_clear(&back);
	CHECK_INT(notify_item_from_json("{\"id\":1}", 8, &back, &err), -1);
	CHECK_INT(notify_item_from_json("[", 1, &back, &err), -1);
	buf_free(&b);
	buf_free(&b2);
	notify_item_clear(&it);
}

/* ---- the sender against a real HTTP server ---- */

struct rec {
	char path[64];
	char body[4096];
	char delivery[64];
	int status;
};

static struct srv {
	struct evhttp *http;
	int port;
	struct rec recs[64];
	int nrec;
	/* per path: statuses to answer in turn (0: hold, never answer) */
	struct { const char *path; int st[4]; int n, next; } script[8];
	int nscript;
	char log[1024]; /* order of store saves and requests */
} S;

static void srv_cb(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer *out;
	const char *dl;
	struct rec *r;
	int st = 200;
	size_t n;

	(void)arg;
	if (S.nrec < 64) {
		r = &S.recs[S.nrec++];
		snprintf(r->path, sizeof(r->path), "%s", uri);
		n = evbuffer_get_length(in);
		if (n >= sizeof(r->body))
			n = sizeof(r->body) - 1;
		evbuffer_remove(in, r->body, n);
		r->body[n] = '\0';
		dl = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "X-Vigil-Delivery");
		snprintf(r->delivery, sizeof(r->delivery), "%s", dl ? dl : "");
	} else {
		r = NULL;
	}
	for (int i = 0; i < S.nscript; i++) {
		if (strcmp(S.script[i].path, uri) == 0) {
			int k = S.script[i].next < S.script[i].n ? S.script[i].next++ :
			    S.script[i].n - 1;

			st = S.script[i].st[k];
		}
	}
	if (r != NULL)
		r->status = st;
	strncat(S.log, "req ", sizeof(S.log) - strlen(S.log) - 1);
	if (st == 0)
		return; /* hold it: the client times out */
	if (st == 429)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
	out = evbuffer_new();
	evbuffer_add_printf(out, "status %d\n", st);
	evhttp_send_reply(req, st, "x", out);
	evbuffer_free(out);
}

static void script(const char *path, int a, int b)
{
	S.script[S.nscript].path = path;
	S.script[S.nscript].st[0] = a;
	S.script[S.nscript].st[1] = b;
	S.script[S.nscript].n = b ? 2 : 1;
	S.script[S.nscript].next = 0;
	S.nscript++;
}

static int count_path(const char *path)
{
	int n = 0;

	for (int i = 0; i < S.nrec; i++)
		n += strcmp(S.recs[i].path, path) == 0;
	return n;
}

struct results {
	int ok, retry, fail;
	char last[512];
	int64_t last_next;
};

static void on_result(void *arg, const struct notify_item *it,
    enum notify_class c, const char *detail)
{
	struct results *r = arg;

	if (c == NOTIFY_OK)
		r->ok++;
	else if (c == NOTIFY_RETRY)
		r->retry++;
	else
		r->fail++;
	snprintf(r->last, sizeof(r->last), "%s", detail);
	r->last_next = it->next_ms;
}

/* Run the loop until the outbox is empty; 0, or -1 after 30 s. */
static int drain(struct notify *n)
{
	int64_t end = vg_mono_ms() + 30000;

	while (notify_outstanding(n) > 0) {
		if (vg_mono_ms() > end)
			return -1;
		event_base_loop(base, EVLOOP_ONCE);
	}
	return 0;
}

static struct notify *sender(struct results *res, const struct notify_store *st,
    const struct execstep_policy *xp)
{
	struct notify_conf c;
	struct vg_err err = { 0 };
	struct notify *n;

	memset(&c, 0, sizeof(c));
	memset(res, 0, sizeof(*res));
	c.base = base;
	c.channels = chans;
	c.on_result = on_result;
	c.arg = res;
	c.store = st;
	c.exec = xp;
	n = notify_new(&c, &err);
	if (n == NULL)
		fprintf(stderr, "notify_new: %s\n", err.msg);
	return n;
}

static int send1(struct notify *n, const char *channel, char *id)
{
	struct notify_msg m;
	struct vg_err err = { 0 };

	msg_init(&m, NULL, 0);
	if (notify_send(n, channel, &m, id, &err) < 0) {
		fprintf(stderr, "send: %s\n", err.msg);
		return -1;
	}
	return 0;
}

TEST(delivers_once_after_500)
{
	struct results res;
	struct notify *n = sender(&res, NULL, NULL);
	char id[40];
	struct buf m;

	if (n == NULL)
		return;
	S.nrec = 0;
	script("/flaky", 500, 200);
	CHECK_INT(send1(n, "flaky", id), 0);
	CHECK_INT(drain(n), 0);
	CHECK_INT(res.retry, 1);
	CHECK_INT(res.ok, 1);
	CHECK_INT(res.fail, 0);
	CHECK_STR(res.last, "HTTP 200");
	/* two requests; the same delivery id both times; one answered 200 */
	CHECK_INT(count_path("/flaky"), 2);
	CHECK_STR(S.recs[0].delivery, id);
	CHECK_STR(S.recs[1].delivery, id);
	CHECK_INT(S.recs[0].status, 500);
	CHECK_INT(S.recs[1].status, 200);
	CHECK_STR(S.recs[0].body, S.recs[1].body);
	CHECK_INT(notify_stats(n)->delivered, 1);
	CHECK_INT(notify_stats(n)->retried, 1);
	CHECK_INT(notify_stats(n)->attempts, 2);
	buf_init(&m);
	notify_metrics(n, &m);
	CHECK(strstr(buf_cstr(&m), "vigil_notifications_total{channel=\"flaky\","
	    "result=\"delivered\"} 1\n") != NULL);
	CHECK(strstr(buf_cstr(&m), "vigil_notifications_total{channel=\"flaky\","
	    "result=\"retried\"} 1\n") != NULL);
	CHECK(strstr(buf_cstr(&m), "vigil_notify_outbox{state=\"pending\"} 0\n") != NULL);
	buf_free(&m);
	notify_free(n);
}

TEST(dead_letters)
{
	struct results res;
	struct notify *n = sender(&res, NULL, NULL);

	if (n == NULL)
		return;
	S.nrec = 0;
	script("/gone", 404, 0);
	CHECK_INT(send1(n, "gone", NULL), 0);
	CHECK_INT(drain(n), 0);
	CHECK_INT(res.fail, 1);
	CHECK_INT(res.retry, 0);
	CHECK_STR(res.last, "HTTP 404: status 404 ");
	CHECK_INT(count_path("/gone"), 1);
	/* nothing listens: retried, then given up after its 3 attempts */
	CHECK_INT(send1(n, "refused", NULL), 0);
	CHECK_INT(drain(n), 0);
	CHECK_INT(res.retry, 2);
	CHECK_INT(res.fail, 2);
	CHECK(strncmp(res.last, "gave up after 3 attempts: ", 26) == 0);
	CHECK_INT(notify_stats(n)->dead, 2);
	notify_free(n);
}

TEST(retry_after_and_timeout)
{
	struct results res;
	struct notify *n = sender(&res, NULL, NULL);
	int64_t before;

	if (n == NULL)
		return;
	S.nrec = 0;
	script("/busy", 429, 200);
	before = vg_now_ms();
	CHECK_INT(send1(n, "busy", NULL), 0);
	while (res.retry == 0 && notify_outstanding(n) > 0)
		event_base_loop(base, EVLOOP_ONCE);
	/* Retry-After: 1 outweighs the 20 ms backoff */
	CHECK(res.last_next >= before + 1000);
	CHECK_INT(drain(n), 0);
	CHECK_INT(res.ok, 1);
	CHECK_INT(count_path("/busy"), 2);
	/* a server that never answers: the attempt times out */
	script("/hold", 0, 0);
	CHECK_INT(send1(n, "hold", NULL), 0);
	CHECK_INT(drain(n), 0);
	CHECK_INT(res.fail, 1);
	CHECK(strstr(res.last, "gave up after 1 attempts: ") != NULL);
	CHECK(strstr(res.last, "imed out") != NULL);
	notify_free(n);
}

TEST(incident_order_kept_across_retries)
{
	struct results res;
	struct notify *n = sender(&res, NULL, NULL);
	struct notify_msg m;
	struct vg_err err = { 0 };

	if (n == NULL)
		return;
	S.nrec = 0;
	script("/ordered", 503, 200);
	msg_init(&m, NULL, 0);
	CHECK_INT(notify_send(n, "ordered", &m, NULL, &err), 0);
	m.event = NOTIFY_RESOLVE;
	CHECK_INT(notify_send(n, "ordered", &m, NULL, &err), 0);
	/* another incident is not held up */
	m.incident_id = "inc-43";
	CHECK_INT(notify_send(n, "ordered", &m, NULL, &err), 0);
	CHECK_INT(drain(n), 0);
	CHECK_INT(res.ok, 3);
	CHECK_INT(count_path("/ordered"), 4);
	{
		/* inc-42 in order; inc-43 was not held up behind it (when it
		 * arrived relative to inc-42 is up to the two connections) */
		const char *want[] = { "\"trigger\",\"dedup_key\":\"inc-42\"",
		    "\"trigger\",\"dedup_key\":\"inc-42\"",
		    "\"resolve\",\"dedup_key\":\"inc-42\"" };
		int k = 0, other = 0;

		for (int i = 0; i < S.nrec; i++) {
			if (strstr(S.recs[i].body, "\"dedup_key\":\"inc-43\"") != NULL)
				other++;
			else if (k < 3 && strstr(S.recs[i].body, want[k]) != NULL)
				k++;
		}
		CHECK_INT(k, 3);
		CHECK_INT(other, 1);
	}
	notify_free(n);
}

/* A store that records what it is asked, in order, and saves at once. */
static struct notify_item saved;
static int finished;

static void st_save(void *ctx, const struct notify_item *it,
    void (*done)(void *arg, int status), void *arg)
{
	(void)ctx;
	strncat(S.log, "save ", sizeof(S.log) - strlen(S.log) - 1);
	notify_item_clear(&saved);
	{
		struct buf b;
		struct vg_err err = { 0 };

		buf_init(&b);
		notify_item_to_json(it, &b);
		notify_item_from_json(b.p, b.len, &saved, &err);
		buf_free(&b);
	}
	done(arg, 0);
}

static void st_finish(void *ctx, const struct notify_item *it)
{
	(void)ctx;
	strncat(S.log, it->state == NOTIFY_DONE ? "finish-done " : "finish-dead ",
	    sizeof(S.log) - strlen(S.log) - 1);
	finished++;
}

TEST(store_seam_and_resume)
{
	struct notify_store st = { st_save, st_finish, NULL };
	struct results res;
	struct notify *n = sender(&res, &st, NULL);
	struct vg_err err = { 0 };

	if (n == NULL)
		return;
	S.nrec = 0;
	S.log[0] = '\0';
	script("/store", 503, 200);
	CHECK_INT(send1(n, "store", NULL), 0);
	CHECK_INT(drain(n), 0);
	/* stored before the first request, again before the retry */
	CHECK_STR(S.log, "save req save req finish-done ");
	CHECK_INT(finished, 1);
	CHECK_INT(saved.attempts, 1);
	CHECK_INT(saved.state, NOTIFY_PENDING);
	CHECK_INT(saved.last_status, 503);
	notify_free(n);
	/* a restart: the pending item read back from the store is sent */
	n = sender(&res, NULL, NULL);
	S.log[0] = '\0';
	S.nrec = 0;
	saved.next_ms = 0;
	CHECK_INT(notify_resume(n, &saved, &err), 0);
	CHECK_INT(drain(n), 0);
	CHECK_INT(res.ok, 1);
	CHECK_INT(count_path("/store"), 1);
	CHECK_STR(S.recs[0].delivery, saved.id);
	saved.state = NOTIFY_DONE;
	CHECK_INT(notify_resume(n, &saved, &err), -1);
	free(saved.channel);
	saved.channel = vg_strdup("nosuch");
	saved.state = NOTIFY_PENDING;
	CHECK_INT(notify_resume(n, &saved, &err), -1);
	CHECK_INT(send1(n, "nosuch", NULL), -1);
	notify_item_clear(&saved);
	notify_free(n);
}

TEST(exec_channel)
{
	struct execstep_policy *xp;
	const char *dirs[] = { dir };
	struct vg_err err = { 0 };
	struct results res;
	struct notify *n;
	char path[256], *got;
	size_t len;

	xp = execstep_policy_new(dirs, 1, &err);
	CHECK(xp != NULL);
	if (xp == NULL)
		return;
	n = sender(&res, NULL, xp);
	CHECK_INT(send1(n, "script", NULL), 0);
	CHECK_INT(send1(n, "script-tempfail", NULL), 0);
	CHECK_INT(send1(n, "script-fail", NULL), 0);
	CHECK_INT(drain(n), 0);
	CHECK_INT(res.ok, 1);
	CHECK_INT(res.retry, 1);  /* exit 75, then given up (2 attempts) */
	CHECK_INT(res.fail, 2);
	snprintf(path, sizeof(path), "%s/ok.json", dir);
	got = vg_read_file(path, &len);
	CHECK(got != NULL && strncmp(got, "trigger {\"version\":1,", 21) == 0);
	free(got);
	notify_free(n);
	execstep_policy_free(xp);
}

static void setup(void)
{
	static const char ocy[] =
	    "users:\n"
	    "  alice: {name: Alice Liddell, email: alice@example.org, slack: U01ALICE}\n"
	    "  bob: {}\n";
	struct vg_diag d;
	char yaml[4096], *out = NULL, script_text[512];
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	const char *dirs[1];
	struct execstep_policy *xp;
	struct vg_err err = { 0 };
	int refused_port;

	snprintf(dir, sizeof(dir), "/tmp/vigil-notify.XXXXXX");
	if (mkdtemp(dir) == NULL)
		exit(1);
	write_file("hook.key", "s3cret\n", 0600);
	write_file("slack.url", "https://hooks.slack.example/services/T0/B0/XX\n", 0600);
	write_file("pd.key", "R0UTINGKEY\n", 0600);
	snprintf(script_text, sizeof(script_text), "#!/bin/sh\n"
	    "printf '%%s ' \"$VIGIL_NOTIFY_EVENT\" > \"$2\"\n"
	    "cat >> \"$2\"\nexit \"$1\"\n");
	write_file("notify.sh", script_text, 0755);
	base = event_base_new();
	S.http = evhttp_new(base);
	evhttp_set_gencb(S.http, srv_cb, NULL);
	bs = evhttp_bind_socket_with_handle(S.http, "127.0.0.1", 0);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl);
	S.port = ntohs(sa.sin_port);
	{
		/* a port nothing listens on: bind, note, close */
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a2;
		socklen_t l2 = sizeof(a2);

		memset(&a2, 0, sizeof(a2));
		a2.sin_family = AF_INET;
		a2.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&a2, sizeof(a2));
		getsockname(fd, (struct sockaddr *)&a2, &l2);
		refused_port = ntohs(a2.sin_port);
		close(fd);
	}
#define FAST "retry: {initial: 20ms, max: 40ms, attempts: 3}"
	snprintf(yaml, sizeof(yaml),
	    "hook: {type: webhook, url: 'http://127.0.0.1:9/hook', headers: "
	    "{X-Team: soc}, secret_file: hook.key}\n"
	    "slack: {type: slack, url: 'http://127.0.0.1:9/slack'}\n"
	    "pd: {type: pagerduty, url: 'http://127.0.0.1:9/pd', routing_key: "
	    "R0UTINGKEY}\n"
	    "mail: {type: email, url: 'smtp://127.0.0.1:9', from: "
	    "vigil@example.org, to: [soc@example.org, oncall@example.org]}\n"
	    "mail-nobody: {type: email, url: 'smtp://127.0.0.1:9', from: "
	    "vigil@example.org}\n"
	    "flaky: {type: webhook, url: 'http://127.0.0.1:%d/flaky', " FAST "}\n"
	    "gone: {type: webhook, url: 'http://127.0.0.1:%d/gone', " FAST "}\n"
	    "refused: {type: webhook, url: 'http://127.0.0.1:%d/x', " FAST "}\n"
	    "busy: {type: slack, url: 'http://127.0.0.1:%d/busy', " FAST "}\n"
	    "hold: {type: pagerduty, url: 'http://127.0.0.1:%d/hold', "
	    "routing_key: k, timeout: 300ms, retry: {attempts: 1}}\n"
	    "store: {type: webhook, url: 'http://127.0.0.1:%d/store', " FAST "}\n"
	    "ordered: {type: pagerduty, url: 'http://127.0.0.1:%d/ordered', "
	    "routing_key: k, " FAST "}\n"
	    "script: {type: exec, argv: [notify.sh, '0', '%s/ok.json']}\n"
	    "script-tempfail: {type: exec, argv: [notify.sh, '75', '%s/t.json'], "
	    "retry: {initial: 10ms, attempts: 2}}\n"
	    "script-fail: {type: exec, argv: [notify.sh, '3', '%s/f.json']}\n",
	    S.port, S.port, refused_port, S.port, S.port, S.port, S.port, dir, dir,
	    dir);
	dirs[0] = dir;
	xp = execstep_policy_new(dirs, 1, &err);
	chans = load(yaml, &d, &out, xp);
	execstep_policy_free(xp);
	if (chans == NULL) {
		fprintf(stderr, "channels: %s", out);
		exit(1);
	}
	free(out);
	vg_diag_init(&d, stderr);
	oc = oncall_load_buffer("oc.yml", ocy, strlen(ocy), NULL, &d);
	if (oc == NULL)
		exit(1);
}

static void teardown(void)
{
	char cmd[128];

	notify_channels_free(chans);
	oncall_free(oc);
	evhttp_free(S.http);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

int main(void)
{
	setup();
	RUN(channels_load);
	RUN(channels_diagnostics);
	RUN(payload_and_webhook);
	RUN(slack_and_pagerduty);
	RUN(email_message);
	RUN(classify_and_backoff);
	RUN(item_round_trip);
	RUN(delivers_once_after_500);
	RUN(dead_letters);
	RUN(retry_after_and_timeout);
	RUN(incident_order_kept_across_retries);
	RUN(store_seam_and_resume);
	RUN(exec_channel);
	teardown();
	return unit_done();
}
