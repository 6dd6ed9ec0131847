/*
 * test_detect_index_sets.c: the literal sets a rule is indexed by. A rule
 * with no literal of its own ("not filter") is indexed by what its
 * logsource's mapping entries need (a channel and event ids), so the
 * events of other logsources do not make it a candidate; a logsource
 * whose conditions need no literal leaves it evaluated for every event.
 * A |all condition gives a set per value, so a rule needs two of them.
 * Exact expectations on candidates and matches.
 */
#include "unit.h"
#include "../../engine/detect.h"
#include "../../engine/detect_int.h"
#include "../../engine/event.h"

static struct vg_event *ev;

static const char ls_rules[] =
    "title: maps\nlogsources:\n"
    "    - product: win\n      conditions:\n"
    "          - Channel|exists: true\n"
    "    - product: win\n      category: file_delete\n      conditions:\n"
    "          - Channel: 'Microsoft-Windows-Sysmon/Operational'\n"
    "            EventID: [23, 26]\n"
    "    - product: win\n      category: raw_access\n      conditions:\n"
    "          - Channel: 'Microsoft-Windows-Sysmon/Operational'\n"
    "            EventID: 9\n"
    "---\n"
    "title: del\nid: del\nlogsource:\n    product: win\n    category: file_delete\n"
    "detection:\n    filter:\n        Image|contains: '\\\\'\n"
    "    condition: not filter\nlevel: low\n"
    "---\n"
    "title: raw\nid: raw\nlogsource:\n    product: win\n    category: raw_access\n"
    "detection:\n    filter:\n        Image|contains: '\\\\'\n"
    "    condition: not filter\nlevel: low\n"
    "---\n"
    "title: any\nid: any\nlogsource:\n    product: win\n"
    "detection:\n    filter:\n        Image|contains: '\\\\'\n"
    "    condition: not filter\nlevel: low\n";

static uint32_t fid(const char *name)
{
	return field_intern(name, strlen(name));
}

static void add(const char *name, const char *val)
{
	vg_event_add(ev, fid(name), val, strlen(val));
}

static void add_num(const char *name, const char *val)
{
	vg_event_add_num(ev, fid(name), val, strlen(val), strtod(val, NULL));
}

static const struct rule *rule_by_id(const struct ruleset *rs, const char *id)
{
	for (size_t i = 0; i < detect_rule_count(rs); i++) {
		if (strcmp(detect_rule(rs, i)->id, id) == 0)
			return detect_rule(rs, i);
	}
	return NULL;
}

static int cand(const struct ruleset *rs, const struct detect_ctx *c,
    const char *id)
{
	const struct rule *r = rule_by_id(rs, id);

	for (size_t i = 0; r != NULL && i < c->ncands; i++) {
		if (c->cands[i] == r->impl->index)
			return 1;
	}
	return 0;
}

static const char *run(const struct ruleset *rs, struct detect_ctx *c)
{
	static char out[512];
	const struct rule *const *m;
	size_t n = detect_event(rs, c, ev, &m), o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(out) - 64; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? " " : "",
		    m[i]->id);
	return out;
}

TEST(rules_without_literals_need_their_logsource_literals)
{
	struct vg_diag d;
	FILE *null = fopen("/dev/null", "w");
	struct ruleset *rs;
	struct detect_ctx *c;

	vg_diag_init(&d, null);
	rs = detect_load_buffer("ls.yml", ls_rules, strlen(ls_rules), NULL, &d, NULL);
	fclose(null);
	CHECK(rs != NULL);
	CHECK_INT(detect_rule_count(rs), 3);
	/* the channel and the event ids: two sets */
	CHECK_INT(rule_by_id(rs, "del")->impl->indexed, 1);
	CHECK_INT(rs->pf.rneed[rule_by_id(rs, "del")->impl->index], 3);
	/* event 9 is a single byte: the channel alone */
	CHECK_INT(rule_by_id(rs, "raw")->impl->indexed, 1);
	CHECK_INT(rs->pf.rneed[rule_by_id(rs, "raw")->impl->index], 1);
	/* a channel that exists is no literal */
	CHECK_INT(rule_by_id(rs, "any")->impl->indexed, 0);
	c = detect_ctx_new(rs);

	/* a Security event: neither is a candidate, "any" matches */
	vg_event_reset(ev);
	add("Channel", "Security");
	add_num("EventID", "23");
	add("Image", "tool");
	CHECK_STR(run(rs, c), "any");
	CHECK_INT(cand(rs, c, "del"), 0);
	CHECK_INT(cand(rs, c, "raw"), 0);
	/* Sysmon event 1: the channel alone makes "raw" a candidate */
	vg_event_reset(ev);
	add("Channel", "Microsoft-Windows-Sysmon/Operational");
	add_num("EventID", "1");
	add("Image", "tool");
	CHECK_STR(run(rs, c), "any");
	CHECK_INT(cand(rs, c, "del"), 0);
	CHECK_INT(cand(rs, c, "raw"), 1);
	/* Sysmon event 26, and 9 */
	vg_event_reset(ev);
	add("Channel", "microsoft-windows-sysmon/operational");
	add_num("EventID", "26");
	add("Image", "tool");
	CHECK_STR(run(rs, c), "del any");
	CHECK_INT(cand(rs, c, "del"), 1);
	vg_event_reset(ev);
	add("Channel", "Microsoft-Windows-Sysmon/Operational");
	add_num("EventID", "9");
	add("Image", "tool");
	CHECK_STR(run(rs, c), "raw any");
	vg_event_reset(ev);
	add("Channel", "Microsoft-Windows-Sysmon/Operational");
	add_num("EventID", "9");
	add("Image", "C:\\tool.exe");
	CHECK_STR(run(rs, c), "");
	detect_ctx_free(c);
	detect_free(rs);
}

TEST(each_value_of_all_is_a_set)
{
	static const char all_rules[] =
	    "title: ts\nid: ts\nlogsource:\n    product: win\n"
	    "detection:\n    sel:\n        ParentCommandLine|contains|all:\n"
	    "            - '\\svchost.exe'\n            - 'termsvcs'\n"
	    "    condition: sel\nlevel: low\n"
	    "---\n"
	    "title: one\nid: one\nlogsource:\n    product: win\n"
	    "detection:\n    sel:\n        ParentCommandLine|contains|all: 'qqzz'\n"
	    "    condition: sel\nlevel: low\n";
	struct vg_diag d;
	FILE *null = fopen("/dev/null", "w");
	struct ruleset *rs;
	struct detect_ctx *c;

	vg_diag_init(&d, null);
	rs = detect_load_buffer("all.yml", all_rules, strlen(all_rules), NULL, &d, NULL);
	fclose(null);
	CHECK(rs != NULL);
	CHECK_INT(detect_rule_count(rs), 2);
	/* two values: both needed */
	CHECK_INT(rs->pf.rneed[rule_by_id(rs, "ts")->impl->index], 3);
	/* one value: one set */
	CHECK_INT(rs->pf.rneed[rule_by_id(rs, "one")->impl->index], 1);
	c = detect_ctx_new(rs);
	vg_event_reset(ev);
	add("ParentCommandLine", "C:\\Windows\\system32\\svchost.exe -k netsvcs");
	CHECK_STR(run(rs, c), "");
	CHECK_INT(cand(rs, c, "ts"), 0);
	vg_event_reset(ev);
	add("ParentCommandLine", "x termsvcs y");
	CHECK_STR(run(rs, c), "");
	CHECK_INT(cand(rs, c, "ts"), 0);
	vg_event_reset(ev);
	add("ParentCommandLine", "C:\\Windows\\System32\\svchost.exe -k termsvcs");
	CHECK_STR(run(rs, c), "ts");
	vg_event_reset(ev);
	add("ParentCommandLine", "a QQZZ");
	CHECK_STR(run(rs, c), "one");
	detect_ctx_free(c);
	detect_free(rs);
}

int main(void)
{
	ev = vg_event_new();
	RUN(rules_without_literals_need_their_logsource_literals);
	RUN(each_value_of_all_is_a_set);
	vg_event_free(ev);
	return unit_done();
}
