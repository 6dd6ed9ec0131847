/*
 * test_correlate_load.c: correlation group-by, condition fields and
 * aliases name fields in the namespace of the rules they refer to (Sigma
 * names), translated through the field mapping of each referenced rule's
 * logsource (rules/mappings/): the compiled field ids exactly, then Windows
 * failed logons (Security 4625) as EVTX and Winlogbeat JSON through detect
 * and a correlator on a private redis-server, with exact alerts. ECS names
 * in Linux correlations stay as written.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "unit.h"
#include "../../engine/correlate.h"
#include "../../engine/correlate_int.h"
#include "../../engine/jsonin.h"
#include "../../engine/log.h"
#include "../../engine/redis.h"

static struct rds_server *srv;
static int prefix_no;

static const char win_rules[] =
"title: failed logon\n"
"id: 00000000-0000-4000-8000-000000004625\n"
"name: win_failed_logon\n"
"logsource: {product: windows, service: security}\n"
"detection: {sel: {EventID: 4625}, condition: sel}\n"
"---\n"
"title: ssh failed\n"
"name: ssh_failed\n"
"logsource: {product: linux, service: sshd}\n"
"detection: {sel: {event.outcome: failure}, condition: sel}\n"
"---\n";

/* Load the shipped mappings, win_rules and extra. */
static struct ruleset *load(const char *extra, struct corr_set **cs,
    struct correlate_load_stats *lst, struct vg_diag *d)
{
	static const char *const maps[] = { "rules/mappings" };
	struct detect_opts o;
	struct detect_stats dst = { 0 };
	struct ruleset *rs;
	struct buf y;

	memset(&o, 0, sizeof(o));
	o.mapping_paths = maps;
	o.nmapping_paths = 1;
	buf_init(&y);
	buf_adds(&y, win_rules);
	buf_adds(&y, extra);
	rs = detect_load_buffer("test.yml", y.p, y.len, &o, d, &dst);
	buf_free(&y);
	memset(lst, 0, sizeof(*lst));
	*cs = correlate_load(rs, d, lst);
	return rs;
}

/* "a,b,c": the names of ref's ids for field g (group or value). */
static const char *names(const struct corr_ref *ref, int value, size_t g)
{
	static char out[512];
	uint32_t id = value ? ref->value_fields[g] : ref->group_fields[g];
	const uint32_t *more = value ? ref->value_more[g] : ref->group_more[g];

	snprintf(out, sizeof(out), "%s", id ? field_name(id) : "-");
	for (; more != NULL && *more != FIELD_NONE; more++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), ",%s",
		    field_name(*more));
	return out;
}

TEST(sigma_names_map_per_referenced_rule)
{
	struct vg_diag d;
	struct correlate_load_stats lst;
	struct corr_set *cs;
	struct ruleset *rs;
	const struct corr_rule *cr;

	vg_diag_init(&d, stderr);
	d.no_source = 1;
	rs = load(
	    "title: spraying\n"
	    "id: spraying_id\n"
	    "correlation:\n"
	    "  type: value_count\n"
	    "  rules: [win_failed_logon, ssh_failed]\n"
	    "  group-by: [ip, Computer]\n"
	    "  aliases:\n"
	    "    ip: {win_failed_logon: IpAddress, ssh_failed: SourceIp}\n"
	    "  timespan: 5m\n"
	    "  condition: {field: TargetUserName, gte: 3}\n"
	    "---\n"
	    "title: ssh guessing\n"
	    "name: ssh_guessing\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: ssh_failed\n"
	    "  group-by: [source.ip, User]\n"
	    "  timespan: 1m\n"
	    "  condition: {gte: 5}\n"
	    "---\n"
	    "title: guessing again\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: ssh_guessing\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 1h\n"
	    "  condition: {gte: 2}\n"
	    "---\n"
	    "title: spraying again\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: spraying_id\n"
	    "  group-by: [ip, LogonType]\n"
	    "  aliases:\n"
	    "    ip: {spraying_id: IpAddress}\n"
	    "  timespan: 1h\n"
	    "  condition: {gte: 2}\n", &cs, &lst, &d);
	CHECK_INT(lst.loaded, 4);
	CHECK_INT(lst.rejected, 0);
	CHECK_INT(d.errors, 0);
	CHECK_INT((int)correlate_rule_count(cs), 4);
	if (correlate_rule_count(cs) != 4)
		goto done;
	/* Windows: each JSON shape's field, in the mapping's order (flat,
	 * EVTX, Winlogbeat); Linux: the ECS name of the linux mapping */
	cr = cs->rules[0];
	CHECK_STR(names(&cr->refs[0], 0, 0),
	    "IpAddress,Event.EventData.IpAddress,winlog.event_data.IpAddress");
	CHECK_STR(names(&cr->refs[0], 0, 1),
	    "Computer,Event.System.Computer,winlog.computer_name");
	CHECK_STR(names(&cr->refs[0], 1, 0), "TargetUserName,"
	    "Event.EventData.TargetUserName,winlog.event_data.TargetUserName");
	CHECK_STR(names(&cr->refs[1], 0, 0), "source.ip");
	CHECK(cr->refs[1].group_more[0] == NULL);
	/* the linux mapping has no entry for these: as written */
	CHECK_STR(names(&cr->refs[1], 0, 1), "Computer");
	CHECK_STR(names(&cr->refs[1], 1, 0), "TargetUserName");
	/* the alert's group keys stay the names as written */
	CHECK_STR(cr->group_by[0], "ip");
	/* ECS names are not touched; Sigma's User is user.name on Linux */
	cr = cs->rules[1];
	CHECK_STR(names(&cr->refs[0], 0, 0), "source.ip");
	CHECK(cr->refs[0].group_more[0] == NULL);
	CHECK_STR(names(&cr->refs[0], 0, 1), "user.name");
	CHECK(cr->refs[0].group_more[1] == NULL);
	/* a correlation's events are the events that completed its alerts:
	 * the names are those of the detection rules under it */
	cr = cs->rules[2];
	CHECK(cr->refs[0].corr == cs->rules[1]);
	CHECK_STR(names(&cr->refs[0], 0, 0), "source.ip");
	CHECK(cr->refs[0].group_more[0] == NULL);
	/* ... each with its own mapping (Windows, then Linux) */
	cr = cs->rules[3];
	CHECK(cr->refs[0].corr == cs->rules[0]);
	CHECK_STR(names(&cr->refs[0], 0, 0),
	    "IpAddress,Event.EventData.IpAddress,winlog.event_data.IpAddress");
	CHECK_STR(names(&cr->refs[0], 0, 1), "LogonType,"
	    "Event.EventData.LogonType,winlog.event_data.LogonType");
done:
	correlate_set_free(cs);
	detect_free(rs);
}

TEST(alias_to_a_missing_rule_is_rejected_at_its_line)
{
	struct vg_diag d;
	struct correlate_load_stats lst;
	struct corr_set *cs;
	struct ruleset *rs;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	vg_diag_init(&d, f);
	d.no_source = 1;
	rs = load(
	    "title: spraying\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: [win_failed_logon, ssh_failed]\n"
	    "  group-by: [ip]\n"
	    "  aliases:\n"
	    "    ip: {win_failed_logon: IpAddress}\n"
	    "  timespan: 5m\n"
	    "  condition: {gte: 3}\n", &cs, &lst, &d);
	fclose(f);
	CHECK_INT(lst.loaded, 0);
	CHECK_INT(lst.rejected, 1);
	CHECK_STR(text, "test.yml:18:9: error: correlation.aliases.ip: no field "
	    "for rule 'ssh_failed'\n");
	free(text);
	correlate_set_free(cs);
	detect_free(rs);
}

/* ---- end to end on Redis ---- */

struct h {
	struct event_base *base;
	struct rds *r;
	struct ruleset *rs;
	struct corr_set *cs;
	struct correlator *c;
	struct detect_ctx *ctx;
	struct vg_event *ev;
	struct buf log;
	char prefix[32];
	struct correlate_conf conf;
	struct correlate_load_stats lst;
};

static void alert_cb(void *arg, const struct correlate_alert *ca)
{
	struct h *h = arg;

	buf_printf(&h->log, "%s @%lld count=%llu", ca->a.rule->title,
	    (long long)ca->a.ts_ms, (unsigned long long)ca->a.count);
	for (size_t i = 0; i < ca->a.ngroup; i++)
		buf_printf(&h->log, " %s=%s", ca->a.group[i].name,
		    ca->a.group[i].value);
	if (ca->a.ngroup == 0)
		buf_adds(&h->log, " (no group)");
	buf_printf(&h->log, " value=%g\n", ca->value);
}

static int h_init(struct h *h, const char *extra)
{
	struct rds_conf rc = { 0 };
	struct vg_err e = { 0 };
	struct vg_diag d;

	memset(h, 0, sizeof(*h));
	buf_init(&h->log);
	vg_diag_init(&d, stderr);
	d.no_source = 1;
	h->rs = load(extra, &h->cs, &h->lst, &d);
	h->ctx = detect_ctx_new(h->rs);
	h->base = event_base_new();
	rc.url = rds_server_url(srv);
	rc.name = "test";
	h->r = rds_new(h->base, &rc, &e);
	snprintf(h->prefix, sizeof(h->prefix), "cl%d:", ++prefix_no);
	h->conf.prefix = h->prefix;
	h->conf.replay = 1;
	h->c = correlate_new(h->cs, h->r, &h->conf, alert_cb, h);
	h->ev = vg_event_new();
	return h->lst.rejected == 0 && h->lst.loaded > 0 && d.errors == 0 ?
	    0 : -1;
}

static void h_free(struct h *h)
{
	rds_free(h->r);
	correlate_free(h->c);
	correlate_set_free(h->cs);
	detect_ctx_free(h->ctx);
	detect_free(h->rs);
	vg_event_free(h->ev);
	event_base_free(h->base);
	buf_free(&h->log);
}

/* One JSON event at second sec through detect into the correlator;
 * returns how many rules it matched. */
static size_t feed(struct h *h, int sec, const char *json)
{
	const struct rule *const *m;
	struct vg_err e = { 0 };
	size_t n;

	vg_event_reset(h->ev);
	if (jsonin_parse(h->ev, json, strlen(json), NULL, 0, &e) != JSONIN_OK) {
		CHECK(!"event JSON");
		return 0;
	}
	h->ev->ts_ms = (int64_t)sec * 1000;
	h->ev->has_ts = 1;
	n = detect_event(h->rs, h->ctx, h->ev, &m);
	correlate_event(h->c, h->ev, h->ev->ts_ms, m, n);
	return n;
}

/* A 4625 as evtx_dump writes it, or as Winlogbeat ships it. */
static size_t failed(struct h *h, int sec, int beat, const char *ip,
    const char *user)
{
	char j[1024];

	if (beat)
		snprintf(j, sizeof(j), "{\"winlog\":{\"channel\":\"Security\","
		    "\"event_id\":4625,\"computer_name\":\"dc01\",\"event_data\":"
		    "{\"IpAddress\":\"%s\",\"TargetUserName\":\"%s\","
		    "\"LogonType\":\"3\"}}}", ip, user);
	else
		snprintf(j, sizeof(j), "{\"Event\":{\"#attributes\":{\"xmlns\":"
		    "\"http://schemas.microsoft.com/win/2004/08/events/event\"},"
		    "\"System\":{\"Provider\":{\"#attributes\":{\"Name\":"
		    "\"Microsoft-Windows-Security-Auditing\"}},\"EventID\":4625,"
		    "\"Channel\":\"Security\",\"Computer\":\"dc01\"},"
		    "\"EventData\":{\"IpAddress\":\"%s\",\"IpPort\":\"50123\","
		    "\"TargetUserName\":\"%s\",\"LogonType\":3}}}", ip, user);
	return feed(h, sec, j);
}

TEST(windows_failed_logons_grouped_by_sigma_ipaddress)
{
	struct h h;
	size_t hits = 0;

	CHECK_INT(h_init(&h,
	    "title: logon guessing\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: win_failed_logon\n"
	    "  group-by: [IpAddress]\n"
	    "  timespan: 1m\n"
	    "  condition: {gte: 3}\n"
	    "---\n"
	    "title: logon spraying\n"
	    "correlation:\n"
	    "  type: value_count\n"
	    "  rules: win_failed_logon\n"
	    "  group-by: [IpAddress]\n"
	    "  timespan: 1m\n"
	    "  condition: {field: TargetUserName, gte: 3}\n"), 0);
	/* 10.0.0.1: three failures for one user, as EVTX JSON: guessing */
	for (int i = 0; i < 3; i++)
		hits += failed(&h, i, 0, "10.0.0.1", "admin");
	/* 10.0.0.2: four users, EVTX and Winlogbeat mixed: guessing at the
	 * third event, spraying at the third distinct user */
	hits += failed(&h, 10, 0, "10.0.0.2", "alice");
	hits += failed(&h, 11, 1, "10.0.0.2", "bob");
	hits += failed(&h, 12, 0, "10.0.0.2", "carol");
	hits += failed(&h, 13, 1, "10.0.0.2", "dave");
	/* 10.0.0.3: two only */
	hits += failed(&h, 20, 1, "10.0.0.3", "admin");
	hits += failed(&h, 21, 0, "10.0.0.3", "root");
	/* a 4624 is not a failure: no rule */
	hits += feed(&h, 22, "{\"Event\":{\"System\":{\"EventID\":4624,"
	    "\"Channel\":\"Security\"},\"EventData\":{\"IpAddress\":"
	    "\"10.0.0.3\",\"TargetUserName\":\"x\"}}}");
	CHECK_INT((int)hits, 9);
	CHECK_INT(correlate_finish(h.c, 1, 20000), 0);
	CHECK_STR(buf_cstr(&h.log),
	    "logon guessing @2000 count=3 IpAddress=10.0.0.1 value=3\n"
	    "logon guessing @12000 count=3 IpAddress=10.0.0.2 value=3\n"
	    "logon spraying @12000 count=3 IpAddress=10.0.0.2 value=3\n");
	CHECK_INT((int)correlate_stats(h.c)->no_group, 0);
	CHECK_INT((int)correlate_stats(h.c)->no_value, 0);
	h_free(&h);
}

TEST(linux_ecs_group_by_unchanged)
{
	struct h h;

	CHECK_INT(h_init(&h,
	    "title: ssh guessing\n"
	    "correlation:\n"
	    "  type: event_count\n"
	    "  rules: ssh_failed\n"
	    "  group-by: [source.ip]\n"
	    "  timespan: 1m\n"
	    "  condition: {gte: 3}\n"), 0);
	for (int i = 0; i < 3; i++)
		CHECK_INT((int)feed(&h, i, "{\"process\":{\"name\":\"sshd\"},"
		    "\"event\":{\"outcome\":\"failure\"},"
		    "\"source\":{\"ip\":\"192.0.2.7\"}}"), 1);
	for (int i = 0; i < 3; i++)
		CHECK_INT((int)feed(&h, 5 + i, "{\"process\":{\"name\":\"sshd\"},"
		    "\"event\":{\"outcome\":\"failure\"},"
		    "\"source\":{\"ip\":\"192.0.2.8\"}}"), 1);
	CHECK_INT(correlate_finish(h.c, 1, 20000), 0);
	CHECK_STR(buf_cstr(&h.log),
	    "ssh guessing @2000 count=3 source.ip=192.0.2.7 value=3\n"
	    "ssh guessing @7000 count=3 source.ip=192.0.2.8 value=3\n");
	h_free(&h);
}

int main(void)
{
	struct rds_server_conf sc = { 0 };
	struct vg_err e = { 0 };

	log_init("test_correlate_load", LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	RUN(sigma_names_map_per_referenced_rule);
	RUN(alias_to_a_missing_rule_is_rejected_at_its_line);
	srv = rds_server_start(&sc, &e);
	if (srv == NULL) {
		printf("not ok - rds_server_start: %s\n", e.msg);
		return 1;
	}
	RUN(windows_failed_logons_grouped_by_sigma_ipaddress);
	RUN(linux_ecs_group_by_unchanged);
	rds_server_stop(srv);
	return unit_done();
}
