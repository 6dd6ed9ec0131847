/*
 * test_detect_index_sets.c: the literal sets a rule is indexed by. A |all
 * condition gives a set per value, so a rule needs two of them. Exact
 * expectations on candidates and matches.
 */
#include "unit.h"
#include "../../engine/detect.h"
#include "../../engine/detect_int.h"
#include "../../engine/event.h"

static struct vg_event *ev;

static uint32_t fid(const char *name)
{
	return field_intern(name, strlen(name));
}

static void add(const char *name, const char *val)
{
	vg_event_add(ev, fid(name), val, strlen(val));
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
	RUN(each_value_of_all_is_a_set);
	vg_event_free(ev);
	return unit_done();
}
