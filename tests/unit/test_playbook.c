/*
 * test_playbook.c: the playbook loader (formats and every diagnostic with
 * its position), matching, templates, protected addresses, rendering steps
 * into calls, and the run state machine; the shipped playbooks load.
 */
#include <jansson.h>

#include "unit.h"
#include "../../engine/execstep.h"
#include "../../engine/oncall.h"
#include "../../engine/playbook.h"

static const char ALERT[] =
    "{\"id\":\"0190f0e4-0000-7000-8000-000000000001\","
    "\"@timestamp\":\"2026-11-23T00:00:05.000Z\",\"kind\":\"correlation\","
    "\"rule\":{\"id\":\"ssh-bruteforce\",\"title\":\"SSH password guessing\","
    "\"level\":\"high\",\"tags\":[\"attack.credential_access\",\"attack.T1110\"]},"
    "\"group\":{\"source.ip\":\"203.0.113.9\"},\"count\":5,"
    "\"event\":{\"source\":{\"ip\":\"203.0.113.9\",\"port\":4711},"
    "\"user\":{\"name\":\"$(touch /tmp/pwned); rm -rf /\"},"
    "\"event\":{\"action\":\"ssh_login\",\"outcome\":\"failure\"},"
    "\"host\":{\"hostname\":\"gw1\"},\"process\":{\"name\":\"sshd\"},"
    "\"tags\":[\"a\",\"b\"],\"score\":0.25,\"ok\":true,"
    "\"message\":\"; id {{source.ip}}\"}}";

static json_t *alert(void)
{
	json_error_t e;
	json_t *a = json_loads(ALERT, 0, &e);

	if (a == NULL)
		fprintf(stderr, "alert: %s\n", e.text);
	return a;
}

static const char ONCALL[] =
    "users: {alice: {email: alice@example.org}}\n"
    "schedules:\n"
    "  primary: {layers: [{users: [alice], start: 2026-01-01, turn: 1w}]}\n"
    "escalation_policies:\n"
    "  default: {steps: [{schedule: primary}]}\n"
    "groups: {leads: [alice]}\n";

static int chan_exists(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "ops-slack") == 0 || strcmp(name, "pagerduty") == 0;
}

static struct oncall *oc;
static struct execstep_policy *xpol;

static struct playbook_set *load(const char *text, struct vg_diag *d,
    struct playbook_stats *st, char **out)
{
	static const char *const prot[] = { "192.0.2.1", "10.1.0.0/16" };
	struct playbook_opts o;
	size_t outlen = 0;
	FILE *f = open_memstream(out, &outlen);
	struct playbook_set *s;

	memset(&o, 0, sizeof(o));
	o.oncall = oc;
	o.channel_exists = chan_exists;
	o.nchannels = 2;
	o.exec = xpol;
	o.protected = prot;
	o.nprotected = 2;
	vg_diag_init(d, f);
	d->no_source = 1;
	s = playbook_load_buffer("pb.yml", text, strlen(text), &o, d, st);
	fclose(f);
	return s;
}

static const char GOOD[] =
    "name: ssh-guessing\n"
    "description: block and page\n"
    "match:\n"
    "  rules: [ssh-bruteforce, Other rule]\n"
    "  tags: attack.t1110\n"
    "  level: medium\n"
    "  kind: correlation\n"
    "  fields:\n"
    "    source.ip: {not_cidr: [10.0.0.0/8, 192.168.0.0/16], cidr: 203.0.113.0/24}\n"
    "    event.outcome: [failure, unknown]\n"
    "    process.name: {not: [cron]}\n"
    "    tags: b\n"
    "group_by: [source.ip]\n"
    "urgency: high\n"
    "steps:\n"
    "  - id: block\n"
    "    redis: {blocklist: ssh, add: '{{source.ip}}', ttl: 2h}\n"
    "    retries: 2\n"
    "    retry_delay: 1s\n"
    "    on_failure: page\n"
    "  - id: firewall\n"
    "    exec:\n"
    "      argv: [true, --ip, '{{source.ip}}', '--user={{user.name}}', '{{message}}']\n"
    "      env: {VIGIL_RULE: '{{alert.rule.id}}'}\n"
    "    timeout: 5s\n"
    "    on_failure: page\n"
    "  - id: tell-firewall\n"
    "    webhook:\n"
    "      url: https://fw.example.org/api/block\n"
    "      headers: {Authorization: Bearer abc}\n"
    "      json: {ip: '{{source.ip}}', ttl: 3600, why: '{{alert.rule.title}} x{{alert.count}}', tags: ['{{alert.rule.tags}}', true, null], port: '{{source.port}}'}\n"
    "    on_failure: page\n"
    "  - id: page\n"
    "    notify:\n"
    "      policy: default\n"
    "      summary: 'SSH guessing from {{source.ip}} ({{alert.count}} tries, {{nope.field}})'\n"
    "      details: {host: '{{host.hostname}}', score: '{{score}}', ok: '{{ok}}'}\n"
    "  - id: ask\n"
    "    approve: {group: leads}\n"
    "    timeout: 1h\n"
    "    on_success: unblock\n"
    "    on_failure: end\n"
    "  - id: unblock\n"
    "    redis: {blocklist: ssh, remove: '{{alert.group.source.ip}}'}\n"
    "---\n"
    "name: everything\n"
    "enabled: false\n"
    "match: {level: informational}\n"
    "steps: [{wait: 5m}, {notify: {channel: ops-slack}}]\n"
    "---\n"
    "protected: [198.51.100.0/24, '2001:db8::/32']\n";

TEST(loads_and_matches)
{
	struct vg_diag d;
	struct playbook_stats st;
	char *out = NULL;
	struct playbook_set *s = load(GOOD, &d, &st, &out);
	const struct playbook *pb, *m[4];
	json_t *a = alert();

	CHECK_INT(d.errors, 0);
	CHECK_INT(d.warnings, 0);
	CHECK_INT(st.loaded, 2);
	CHECK_INT(st.rejected, 0);
	if (d.errors)
		fprintf(stderr, "%s", out);
	free(out);
	pb = playbook_find(s, "ssh-guessing");
	CHECK(pb != NULL);
	if (pb == NULL || a == NULL)
		goto out;
	CHECK_INT(pb->nsteps, 6);
	CHECK_INT(pb->steps[0].on_success, 1);
	CHECK_INT(pb->steps[0].on_failure, 3);
	CHECK_INT(pb->steps[4].on_success, 5);
	CHECK_INT(pb->steps[4].on_failure, PB_END);
	CHECK_INT(pb->steps[5].on_success, PB_END);
	CHECK_INT(pb->steps[5].on_failure, PB_ABORT);
	CHECK_INT(pb->urgency_high, 1);
	CHECK_INT(pb->nconds, 5);
	/* builtin 4 + options 2 + document 2 */
	CHECK_INT(s->nprotected, 8);
	CHECK_INT(playbook_match(s, a, m, 4), 1);
	CHECK(m[0] == pb);
	/* each criterion on its own */
	json_object_set_new(json_object_get(a, "rule"), "level", json_string("low"));
	CHECK_INT(playbook_matches(pb, a), 0);
	json_object_set_new(json_object_get(a, "rule"), "level", json_string("critical"));
	CHECK_INT(playbook_matches(pb, a), 1);
	json_object_set_new(json_object_get(a, "rule"), "id", json_string("x"));
	CHECK_INT(playbook_matches(pb, a), 0);
	json_object_set_new(json_object_get(a, "rule"), "title", json_string("Other rule"));
	CHECK_INT(playbook_matches(pb, a), 1);
	json_object_set_new(a, "group", json_pack("{s:s}", "source.ip", "10.2.3.4"));
	CHECK_INT(playbook_matches(pb, a), 0);
	json_object_set_new(a, "group", json_pack("{s:s}", "source.ip", "198.18.0.1"));
	CHECK_INT(playbook_matches(pb, a), 0); /* not in 203.0.113.0/24 */
	json_object_set_new(a, "group", json_pack("{s:s}", "source.ip", "203.0.113.77"));
	CHECK_INT(playbook_matches(pb, a), 1);
	json_object_set_new(json_object_get(json_object_get(a, "event"), "process"),
	    "name", json_string("cron"));
	CHECK_INT(playbook_matches(pb, a), 0);
	json_object_set_new(json_object_get(json_object_get(a, "event"), "process"),
	    "name", json_string("sshd"));
	json_object_set_new(json_object_get(a, "event"), "tags", json_pack("[s]", "c"));
	CHECK_INT(playbook_matches(pb, a), 0);
	json_object_set_new(json_object_get(a, "event"), "tags", json_pack("[s,s]", "c", "b"));
	CHECK_INT(playbook_matches(pb, a), 1);
	json_object_set_new(a, "kind", json_string("detection"));
	CHECK_INT(playbook_matches(pb, a), 0);
	/* a disabled playbook never matches through the set */
	CHECK_INT(playbook_matches(playbook_find(s, "everything"), a), 1);
	CHECK_INT(playbook_match(s, a, m, 4), 0);
out:
	json_decref(a);
	playbook_set_free(s);
}

/* not_rules leaves rules to another playbook: matched by id or title;
 * on its own it does not say which alerts a playbook wants. */
TEST(not_rules)
{
	static const char text[] =
	    "name: other-brute-force\n"
	    "match:\n"
	    "  kind: correlation\n"
	    "  tags: [attack.t1110]\n"
	    "  not_rules: [ssh-spraying, \"SSH password guessing\"]\n"
	    "steps: [{notify: {channel: ops-slack}}]\n"
	    "---\n"
	    "name: only-not\n"
	    "match: {not_rules: [x]}\n"
	    "steps: [{notify: {channel: ops-slack}}]\n";
	struct vg_diag d;
	struct playbook_stats st;
	char *out = NULL;
	struct playbook_set *s = load(text, &d, &st, &out);
	const struct playbook *pb = playbook_find(s, "other-brute-force");
	json_t *a = alert();

	CHECK_INT(st.loaded, 1);
	CHECK_INT(st.rejected, 1);
	CHECK(out != NULL && strstr(out, "pb.yml:9:8: error: match: say which "
	    "alerts") != NULL);
	free(out);
	CHECK(pb != NULL);
	if (pb == NULL || a == NULL)
		goto out;
	CHECK_INT(pb->nnot_rules, 2);
	/* the alert's title is excluded */
	CHECK_INT(playbook_matches(pb, a), 0);
	json_object_set_new(json_object_get(a, "rule"), "title",
	    json_string("Other brute force"));
	CHECK_INT(playbook_matches(pb, a), 1);
	/* and by id */
	json_object_set_new(json_object_get(a, "rule"), "id",
	    json_string("ssh-spraying"));
	CHECK_INT(playbook_matches(pb, a), 0);
out:
	json_decref(a);
	playbook_set_free(s);
}

static const char *rendered(const char *text, int strict)
{
	static char res[1024];
	char why[256] = "";
	struct vg_diag d;
	struct playbook_stats st;
	char *out = NULL, yaml[512];
	struct playbook_set *s;
	json_t *a = alert();
	struct pb_vars v;
	const char *inc[] = { "id", "inc-7", "url", "https://vigil/incidents/inc-7" };
	struct buf b;

	snprintf(yaml, sizeof(yaml), "name: t\nmatch: {level: low}\n"
	    "steps: [{notify: {channel: ops-slack, summary: '%s'}}]\n", text);
	s = load(yaml, &d, &st, &out);
	free(out);
	if (st.loaded != 1) {
		playbook_set_free(s);
		json_decref(a);
		return "(load error)";
	}
	memset(&v, 0, sizeof(v));
	v.alert = a;
	v.incident = inc;
	v.nincident = 2;
	v.playbook = "t";
	buf_init(&b);
	if (playbook_render(&s->pbs[0]->steps[0].u.notify.summary, &v, strict, &b,
	    why, sizeof(why)) < 0)
		snprintf(res, sizeof(res), "error: %s", why);
	else
		snprintf(res, sizeof(res), "%s", buf_cstr(&b));
	buf_free(&b);
	playbook_set_free(s);
	json_decref(a);
	return res;
}

TEST(templates)
{
	CHECK_STR(rendered("{{source.ip}}:{{ source.port }}", 1), "203.0.113.9:4711");
	CHECK_STR(rendered("{{alert.id}} {{alert.kind}} {{alert.count}} "
	    "{{alert.timestamp}}", 1), "0190f0e4-0000-7000-8000-000000000001 "
	    "correlation 5 2026-11-23T00:00:05.000Z");
	CHECK_STR(rendered("{{alert.rule.title}} [{{alert.rule.level}}] "
	    "{{alert.rule.tags}}", 1), "SSH password guessing [high] "
	    "attack.credential_access, attack.T1110");
	/* ECS fields named like namespaces are fields */
	CHECK_STR(rendered("{{event.action}}/{{event.outcome}}", 1),
	    "ssh_login/failure");
	CHECK_STR(rendered("{{alert.group.source.ip}} {{alert.event.source.port}}",
	    1), "203.0.113.9 4711");
	CHECK_STR(rendered("{{incident.id}} {{incident.url}} {{playbook.name}}", 1),
	    "inc-7 https://vigil/incidents/inc-7 t");
	CHECK_STR(rendered("{{tags}} {{score}} {{ok}}", 1), "a 0.25 true");
	/* values are copied, never expanded again */
	CHECK_STR(rendered("{{message}}", 1), "; id {{source.ip}}");
	CHECK_STR(rendered("{{user.name}}", 1), "$(touch /tmp/pwned); rm -rf /");
	CHECK_STR(rendered("a {{no.such}} b", 0), "a  b");
	CHECK_STR(rendered("a {{no.such}} b", 1), "error: no value for {{no.such}}");
	CHECK_STR(rendered("{{source}}", 1), "error: no value for {{source}}");
	CHECK_STR(rendered("{{incident.state}}", 1),
	    "error: no value for {{incident.state}}");
	CHECK_STR(rendered("}} {} { plain", 1), "}} {} { plain");
	CHECK_STR(rendered("", 1), "");
}

TEST(protected_addresses)
{
	struct vg_diag d;
	struct playbook_stats st;
	char *out = NULL;
	struct playbook_set *s = load(GOOD, &d, &st, &out);

	free(out);
	CHECK_INT(playbook_protected(s, "127.0.0.1"), 1);
	CHECK_INT(playbook_protected(s, "127.255.0.9"), 1);
	CHECK_INT(playbook_protected(s, "::1"), 1);
	CHECK_INT(playbook_protected(s, "::ffff:127.0.0.1"), 1);
	CHECK_INT(playbook_protected(s, "0.0.0.0"), 1);
	CHECK_INT(playbook_protected(s, "192.0.2.1"), 1);
	CHECK_INT(playbook_protected(s, "192.0.2.2"), 0);
	CHECK_INT(playbook_protected(s, "10.1.200.3"), 1);
	CHECK_INT(playbook_protected(s, "10.2.0.1"), 0);
	/* a network that contains a protected one overlaps it */
	CHECK_INT(playbook_protected(s, "10.0.0.0/8"), 1);
	CHECK_INT(playbook_protected(s, "0.0.0.0/0"), 1);
	CHECK_INT(playbook_protected(s, "198.51.100.77"), 1);
	CHECK_INT(playbook_protected(s, "2001:db8:1::5"), 1);
	CHECK_INT(playbook_protected(s, "2001:db9::5"), 0);
	CHECK_INT(playbook_protected(s, "203.0.113.9"), 0);
	CHECK_INT(playbook_protected(s, "010.1.0.1"), -1);
	CHECK_INT(playbook_protected(s, "1.2.3"), -1);
	CHECK_INT(playbook_protected(s, "host.example.org"), -1);
	playbook_set_free(s);
}

static int prepare_step(const char *step, json_t *a, struct pb_call *c,
    char *why, size_t whylen)
{
	static struct vg_diag d;
	static struct playbook_stats st;
	static struct playbook_set *s;
	const struct playbook *pb;
	struct pb_vars v;
	const char *inc[] = { "id", "inc-7" };
	char *out = NULL;

	if (s == NULL) {
		s = load(GOOD, &d, &st, &out);
		free(out);
	}
	if (step == NULL) {
		playbook_set_free(s);
		s = NULL;
		return 0;
	}
	pb = playbook_find(s, "ssh-guessing");
	memset(&v, 0, sizeof(v));
	v.alert = a;
	v.incident = inc;
	v.nincident = 1;
	return playbook_prepare(s, pb, playbook_step(pb, step), &v, "vigil:", c,
	    why, whylen);
}

TEST(prepare_calls)
{
	json_t *a = alert();
	struct pb_call c;
	char why[256] = "";

	CHECK_INT(prepare_step("firewall", a, &c, why, sizeof(why)), 0);
	CHECK_INT(c.kind, PB_EXEC);
	CHECK_STR(c.prog, "true");
	CHECK_INT(c.nargs, 4);
	if (c.nargs == 4) {
		CHECK_STR(c.args[0], "--ip");
		CHECK_STR(c.args[1], "203.0.113.9");
		CHECK_STR(c.args[2], "--user=$(touch /tmp/pwned); rm -rf /");
		CHECK_STR(c.args[3], "; id {{source.ip}}");
	}
	CHECK_INT(c.nenv, 1);
	CHECK_STR(c.env[0], "VIGIL_RULE=ssh-bruteforce");
	CHECK_INT(c.timeout_ms, 5000);
	CHECK(c.body != NULL && c.body[c.body_len - 1] == '\n');
	CHECK(c.body != NULL && strncmp(c.body, "{\"id\":\"0190f0e4", 15) == 0);
	playbook_call_free(&c);

	CHECK_INT(prepare_step("tell-firewall", a, &c, why, sizeof(why)), 0);
	CHECK_STR(c.url, "https://fw.example.org/api/block");
	CHECK_STR(c.method, "POST");
	CHECK_INT(c.nheaders, 1);
	CHECK_STR(c.headers[0], "Authorization: Bearer abc");
	CHECK_STR(c.body, "{\"ip\":\"203.0.113.9\",\"ttl\":3600,\"why\":\"SSH "
	    "password guessing x5\",\"tags\":[\"attack.credential_access, "
	    "attack.T1110\",true,null],\"port\":\"4711\"}");
	playbook_call_free(&c);

	CHECK_INT(prepare_step("block", a, &c, why, sizeof(why)), 0);
	CHECK_STR(c.key, "vigil:blocklist:ssh");
	CHECK_STR(c.member, "203.0.113.9");
	CHECK_INT(c.remove, 0);
	CHECK_INT(c.ttl_ms, 7200000);
	CHECK_INT(c.timeout_ms, 10000); /* the default for redis steps */
	playbook_call_free(&c);

	CHECK_INT(prepare_step("page", a, &c, why, sizeof(why)), 0);
	CHECK_STR(c.summary, "SSH guessing from 203.0.113.9 (5 tries, )");
	CHECK_INT(c.ndetails, 3);
	CHECK_STR(c.details[0], "host");
	CHECK_STR(c.details[1], "gw1");
	CHECK_STR(c.details[3], "0.25");
	CHECK_STR(c.details[5], "true");
	playbook_call_free(&c);

	CHECK_INT(prepare_step("ask", a, &c, why, sizeof(why)), 0);
	CHECK_STR(c.summary, "SSH password guessing");
	CHECK_INT(c.timeout_ms, 3600000);
	playbook_call_free(&c);

	/* protected and odd addresses stop containment steps */
	json_object_set_new(a, "group", json_pack("{s:s}", "source.ip", "127.0.0.1"));
	CHECK_INT(prepare_step("block", a, &c, why, sizeof(why)), -1);
	CHECK_STR(why, "127.0.0.1 is protected (127.0.0.0/8)");
	CHECK_INT(prepare_step("firewall", a, &c, why, sizeof(why)), -1);
	CHECK_INT(prepare_step("tell-firewall", a, &c, why, sizeof(why)), -1);
	/* notifications still go out */
	CHECK_INT(prepare_step("page", a, &c, why, sizeof(why)), 0);
	playbook_call_free(&c);
	json_object_set_new(a, "group", json_pack("{s:s}", "source.ip", " 10.1.0.9\n"));
	CHECK_INT(prepare_step("block", a, &c, why, sizeof(why)), -1);
	CHECK_STR(why, "10.1.0.9 is protected (10.1.0.0/16)");
	json_object_set_new(a, "group", json_pack("{s:s}", "source.ip", "010.1.0.9"));
	CHECK_INT(prepare_step("block", a, &c, why, sizeof(why)), -1);
	CHECK_STR(why, "'010.1.0.9' looks like an address but is not a canonical one");
	json_object_set_new(a, "group", json_pack("{s:s}", "source.ip", "::ffff:192.0.2.1"));
	CHECK_INT(prepare_step("block", a, &c, why, sizeof(why)), -1);
	CHECK_STR(why, "::ffff:192.0.2.1 is protected (192.0.2.1/32)");
	json_object_set_new(a, "group", json_pack("{s:s}", "source.ip", "2001:db8::1%eth0"));
	CHECK_INT(prepare_step("block", a, &c, why, sizeof(why)), -1);
	CHECK_STR(why, "2001:db8::1 is protected (2001:db8::/32)");
	/* a missing value fails a containment step instead of running it */
	json_object_del(a, "group");
	json_object_del(json_object_get(a, "event"), "source");
	CHECK_INT(prepare_step("firewall", a, &c, why, sizeof(why)), -1);
	CHECK_STR(why, "no value for {{source.ip}}");
	json_decref(a);
	prepare_step(NULL, NULL, NULL, NULL, 0);
}

TEST(default_webhook_payload)
{
	static const char pbtext[] =
	    "name: hook\nmatch: {level: low}\n"
	    "steps: [{id: h, webhook: {url: 'http://127.0.0.1:1/x', method: PUT}}]\n";
	struct vg_diag d;
	struct playbook_stats st;
	char *out = NULL, why[128];
	struct playbook_set *s = load(pbtext, &d, &st, &out);
	json_t *a = json_pack("{s:s,s:{s:s}}", "id", "a1", "rule", "id", "r");
	const char *inc[] = { "id", "inc-1" };
	struct pb_vars v = { a, inc, 1, NULL };
	struct pb_call c;

	free(out);
	CHECK_INT(st.loaded, 1);
	if (st.loaded == 1) {
		CHECK_INT(playbook_prepare(s, s->pbs[0], &s->pbs[0]->steps[0], &v,
		    "vigil:", &c, why, sizeof(why)), 0);
		CHECK_STR(c.method, "PUT");
		CHECK_STR(c.body, "{\"version\":1,\"type\":\"vigil.alert\","
		    "\"playbook\":\"hook\",\"step\":\"h\",\"incident\":{\"id\":"
		    "\"inc-1\"},\"alert\":{\"id\":\"a1\",\"rule\":{\"id\":\"r\"}}}");
		playbook_call_free(&c);
	}
	json_decref(a);
	playbook_set_free(s);
}

TEST(run_state_machine)
{
	struct vg_diag d;
	struct playbook_stats st;
	char *out = NULL;
	struct playbook_set *s = load(GOOD, &d, &st, &out);
	const struct playbook *pb = playbook_find(s, "ssh-guessing");
	struct playbook_run r;
	const struct pb_step *x;

	free(out);
	if (pb == NULL) {
		CHECK(0);
		playbook_set_free(s);
		return;
	}
	playbook_run_init(&r, pb);
	x = playbook_run_step(&r, pb);
	CHECK_STR(x->id, "block");
	/* two retries, 1 s then 2 s after each failure */
	x = playbook_run_report(&r, pb, 0, 1000);
	CHECK_STR(x->id, "block");
	CHECK_INT(r.attempt, 1);
	CHECK_INT(r.not_before_ms, 2000);
	x = playbook_run_report(&r, pb, 0, 5000);
	CHECK_INT(r.not_before_ms, 7000);
	x = playbook_run_report(&r, pb, 0, 8000);
	CHECK_STR(x->id, "page"); /* on_failure */
	CHECK_INT(r.attempt, 0);
	x = playbook_run_report(&r, pb, 1, 9000);
	CHECK_STR(x->id, "ask");
	x = playbook_run_report(&r, pb, 0, 9500); /* denied or expired */
	CHECK(x == NULL);
	CHECK_INT(r.outcome, PB_COMPLETED);
	CHECK_INT(r.steps_run, 3);
	CHECK(playbook_run_report(&r, pb, 1, 9600) == NULL);
	/* success all the way */
	playbook_run_init(&r, pb);
	for (int i = 0; i < 5; i++)
		x = playbook_run_report(&r, pb, 1, 0);
	CHECK_STR(x->id, "unblock");
	CHECK(playbook_run_report(&r, pb, 0, 0) == NULL);
	CHECK_INT(r.outcome, PB_FAILED);
	CHECK_INT(r.steps_run, 6);
	playbook_set_free(s);
}

TEST(loader_diagnostics)
{
	static const char bad[] =
	    "name: bad one\n"
	    "match: {level: severe, colour: red}\n"
	    "steps:\n"
	    "  - {id: a, wait: 5m, notify: {channel: ops-slack}}\n"
	    "  - {id: b, exec: ['{{prog}}', x], on_failure: a}\n"
	    "  - {id: c, exec: {argv: [nosuchprog, -c, id], env: {LD_PRELOAD: x}}}\n"
	    "  - {id: d, webhook: {url: 'ftp://x/{{a}}'}, on_success: zz}\n"
	    "  - {id: end, redis: {blocklist: 'no/slash', add: '{{alert.nope}}'}}\n"
	    "  - {id: f, notify: {policy: nopolicy, summary: 'x {{ unclosed'}}\n"
	    "  - {id: g, approve: {group: nogroup}, on_success: a}\n"
	    "  - {id: a, wait: 1x}\n"
	    "---\n"
	    "name: loop\n"
	    "match: {tags: [x]}\n"
	    "steps:\n"
	    "  - {id: one, wait: 1m, on_success: two}\n"
	    "  - {id: two, wait: 1m, on_success: one}\n"
	    "---\n"
	    "name: fine\n"
	    "match: {fields: {source.ip: {cidr: 10.0.0.0/33}}}\n"
	    "steps: [{notify: {channel: fax}}]\n"
	    "---\n"
	    "protected: [10.0.0.300]\n"
	    "---\n"
	    "name: ok\n"
	    "match: {kind: correlation}\n"
	    "steps: [{wait: 1m, on_success: end}, {wait: 1m}]\n"
	    "---\n"
	    "name: ok\n"
	    "match: {kind: detection}\n"
	    "steps: [{wait: 1m}]\n";
	static const char *const want[] = {
	    "pb.yml:1:7: error: name: 'bad one' is not a valid name",
	    "pb.yml:2:16: error: match.level: expected informational, low, medium, high or critical",
	    "pb.yml:2:24: error: match: unknown key 'colour' (expected rules, tags, level, kind, fields, not_rules)",
	    "pb.yml:4:19: error: step a: one action per step (notify given too)",
	    "pb.yml:5:20: error: exec: the program must be literal, not a template",
	    "pb.yml:6:27: error: exec: program nosuchprog: No such file or directory",
	    "pb.yml:6:53: error: exec.env: 'LD_PRELOAD' may not be set",
	    "pb.yml:7:28: error: webhook.url: expected a literal http:// or https:// URL",
	    "pb.yml:8:10: error: step id: 'end' is reserved for branches",
	    "pb.yml:8:34: error: redis.blocklist: 'no/slash' is not a valid name",
	    "pb.yml:8:54: error: redis value: unknown variable 'alert.nope'",
	    "pb.yml:9:30: error: notify.policy: no escalation policy 'nopolicy'",
	    "pb.yml:9:52: error: notify.summary: '{{' without a closing '}}'",
	    "pb.yml:10:30: error: approve.group: no group 'nogroup' under oncall.groups",
	    "pb.yml:11:10: error: step id 'a' used twice (first at line 4)",
	    "pb.yml:11:19: error: wait: expected a duration",
	    "pb.yml:7:58: error: no step 'zz' (or next, end, abort)",
	    "pb.yml:4:5: error: steps: the branches loop back to step a",
	    "pb.yml:16:5: error: steps: the branches loop back to step one",
	    "pb.yml:20:36: error: cidr: '10.0.0.0/33' is not an address or network",
	    "pb.yml:21:28: error: notify: no channel named 'fax'",
	    "pb.yml:23:13: error: protected: '10.0.0.300' is not an address",
	    "pb.yml:27:38: warning: step step2 is never reached",
	    "pb.yml:29:7: error: playbook 'ok' defined twice (first in pb.yml:25)",
	};
	struct vg_diag d;
	struct playbook_stats st;
	char *out = NULL;
	struct playbook_set *s;

	s = load(bad, &d, &st, &out);
	for (size_t i = 0; i < VG_ARRAY_LEN(want); i++) {
		if (strstr(out, want[i]) == NULL) {
			UNIT_FAIL("missing: %s", want[i]);
		}
	}
	CHECK_INT(d.errors, (int)VG_ARRAY_LEN(want) - 1);
	CHECK_INT(d.warnings, 1);
	CHECK_INT(st.loaded, 1);
	CHECK_INT(st.rejected, 5);
	CHECK(playbook_find(s, "ok") != NULL);
	if (unit_fail_now)
		fprintf(stderr, "%s", out);
	free(out);
	playbook_set_free(s);
}

TEST(exec_needs_a_policy)
{
	static const char text[] =
	    "name: x\nmatch: {level: low}\nsteps: [{exec: [true]}]\n";
	struct vg_diag d;
	struct playbook_stats st;
	char *out = NULL;
	size_t outlen;
	FILE *f = open_memstream(&out, &outlen);
	struct playbook_set *s;

	vg_diag_init(&d, f);
	d.no_source = 1;
	s = playbook_load_buffer("x.yml", text, strlen(text), NULL, &d, &st);
	fclose(f);
	CHECK_STR(out, "x.yml:3:17: error: exec: no folders are allowed for exec "
	    "steps in this configuration\n");
	CHECK_INT(st.rejected, 1);
	free(out);
	playbook_set_free(s);
}

TEST(shipped_playbooks_load)
{
	const char *paths[] = { "playbooks" };
	struct playbook_opts o;
	struct playbook_stats st;
	struct vg_diag d;
	struct playbook_set *s;

	memset(&o, 0, sizeof(o));
	o.oncall = oc;
	vg_diag_init(&d, stderr);
	s = playbook_load(paths, 1, &o, &d, &st);
	CHECK_INT(d.errors, 0);
	CHECK_INT(st.rejected, 0);
	CHECK(st.loaded >= 3);
	CHECK(s->nprotected > 4);
	playbook_set_free(s);
}

int main(void)
{
	struct vg_diag d;
	struct vg_err err = { 0 };
	const char *dirs[] = { "/usr/bin" };

	vg_diag_init(&d, stderr);
	oc = oncall_load_buffer("oc.yml", ONCALL, strlen(ONCALL), NULL, &d);
	xpol = execstep_policy_new(dirs, 1, &err);
	if (oc == NULL || xpol == NULL) {
		fprintf(stderr, "setup failed: %s\n", err.msg);
		return 1;
	}
	RUN(loads_and_matches);
	RUN(not_rules);
	RUN(templates);
	RUN(protected_addresses);
	RUN(prepare_calls);
	RUN(default_webhook_payload);
	RUN(run_state_machine);
	RUN(loader_diagnostics);
	RUN(exec_needs_a_policy);
	RUN(shipped_playbooks_load);
	oncall_free(oc);
	execstep_policy_free(xpol);
	return unit_done();
}
