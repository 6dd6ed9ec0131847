/*
 * test_detect_index_re.c: the literal sets the prefilter takes from a
 * regex (detect_index.c): windows of consecutive elements, where a small
 * class counts as the set of its folded bytes, so that a regex whose
 * plain runs are single bytes is still indexed by the few strings every
 * match holds; and what stops a window (quantifiers with a minimum of 0,
 * negated classes, classes with k or s without case). Exact expectations
 * on the literals kept and the candidates of each event.
 */
#include "unit.h"
#include "../../engine/detect.h"
#include "../../engine/detect_int.h"
#include "../../engine/event.h"

static struct ruleset *rs;
static struct detect_ctx *ctx;
static struct vg_event *ev;

#define R(id, det) "title: " id "\nid: " id "\nlogsource:\n    product: test\n" \
	"detection:\n" det "level: low\n---\n"

static const char rules[] =
	/* the runs are "\", "." and ".": one byte each */
	R("re-dot", "    sel:\n        CommandLine|re: '\\\\[a-zA-Z0-9]{1,32}\\.[a-zA-Z0-9]{1,6}\\.[ \"'']'\n"
	    "    condition: sel\n")
	/* a word byte, then the backtick (then a group, which ends it) */
	R("re-word", "    sel:\n        CommandLine|re: '\\w+`(?:ab|c)'\n"
	    "    condition: sel\n")
	/* without case, [sk] could be the Kelvin sign: only zz is needed */
	R("re-ci", "    sel:\n        CommandLine|re: '(?i)zz[sk]q'\n"
	    "    condition: sel\n")
	/* a negated class and an optional byte end windows */
	R("re-neg", "    sel:\n        CommandLine|re: 'q[^a]wv?y'\n"
	    "    condition: sel\n")
	/* a class next to a class: 2 x 3 strings of two bytes */
	R("re-two", "    sel:\n        ParentImage|re: '[jq][vxz]'\n"
	    "    condition: sel\n");

static uint32_t fid(const char *name)
{
	return field_intern(name, strlen(name));
}

static void add(const char *name, const char *val)
{
	vg_event_add(ev, fid(name), val, strlen(val));
}

static const struct rule *rule_by_id(const char *id)
{
	for (size_t i = 0; i < detect_rule_count(rs); i++) {
		if (strcmp(detect_rule(rs, i)->id, id) == 0)
			return detect_rule(rs, i);
	}
	return NULL;
}

/* Is s one of the prefilter's literals? */
static int has_lit(const char *s)
{
	size_t n = strlen(s);

	for (uint32_t l = 0; l < rs->pf.nlits; l++) {
		if (rs->pf.llen[l] == n && memcmp(rs->pf.ltext + rs->pf.loff[l], s, n) == 0)
			return 1;
	}
	return 0;
}

static int cand(const char *id)
{
	const struct rule *r = rule_by_id(id);

	for (size_t i = 0; r != NULL && i < ctx->ncands; i++) {
		if (ctx->cands[i] == r->impl->index)
			return 1;
	}
	return 0;
}

static const char *run(void)
{
	static char out[512];
	const struct rule *const *m;
	size_t n = detect_event(rs, ctx, ev, &m), o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(out) - 64; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? " " : "",
		    m[i]->id);
	return out;
}

static void setup(void)
{
	struct vg_diag d;
	FILE *null = fopen("/dev/null", "w");

	vg_diag_init(&d, null);
	rs = detect_load_buffer("re.yml", rules, strlen(rules), NULL, &d, NULL);
	fclose(null);
	ctx = detect_ctx_new(rs);
	ev = vg_event_new();
}

TEST(small_classes_give_literal_sets)
{
	CHECK_INT(detect_rule_count(rs), 5);
	CHECK_INT(rule_by_id("re-dot")->impl->indexed, 1);
	CHECK_INT(rule_by_id("re-word")->impl->indexed, 1);
	CHECK_INT(rule_by_id("re-ci")->impl->indexed, 1);
	CHECK_INT(rule_by_id("re-neg")->impl->indexed, 0);
	CHECK_INT(rule_by_id("re-two")->impl->indexed, 1);
	/* the last dot and the class after it: three strings */
	CHECK(has_lit(". "));
	CHECK(has_lit(".\""));
	CHECK(has_lit(".'"));
	/* each of the 37 folded word bytes before the backtick */
	CHECK(has_lit("a`"));
	CHECK(has_lit("9`"));
	CHECK(has_lit("_`"));
	CHECK(has_lit("A`") == 0);
	CHECK(has_lit("zz"));
	CHECK(has_lit("zzs") == 0);
	CHECK(has_lit("zzk") == 0);
	CHECK(has_lit("jv"));
	CHECK(has_lit("qz"));
	/* one prefilter literal per distinct string */
	CHECK_INT(rs->pf.nlits, 3 + 37 + 1 + 6);
}

TEST(a_window_vouches_for_its_rule)
{
	vg_event_reset(ev);
	add("CommandLine", "rundll32 c:\\users\\x\\a.dat. run");
	CHECK_STR(run(), "re-dot");
	CHECK_INT(cand("re-dot"), 1);
	/* the same dots without a space or quote after: not a candidate */
	vg_event_reset(ev);
	add("CommandLine", "rundll32 c:\\users\\x\\a.dat.run");
	CHECK_STR(run(), "");
	CHECK_INT(cand("re-dot"), 0);
	/* looked for folded; the regex, with case, decides */
	vg_event_reset(ev);
	add("CommandLine", "iex X`AB");
	CHECK_STR(run(), "");
	CHECK_INT(cand("re-word"), 1);
	vg_event_reset(ev);
	add("CommandLine", "iex X`ab");
	CHECK_STR(run(), "re-word");
	vg_event_reset(ev);
	add("CommandLine", "iex -`ab");
	CHECK_STR(run(), "");
	CHECK_INT(cand("re-word"), 0);
	vg_event_reset(ev);
	add("CommandLine", "ZZKQ");
	CHECK_STR(run(), "re-ci");
	/* the non-indexed rule still matches */
	vg_event_reset(ev);
	add("CommandLine", "qbwy");
	CHECK_STR(run(), "re-neg");
	vg_event_reset(ev);
	add("ParentImage", "c:\\QX.exe");
	CHECK_STR(run(), "");
	CHECK_INT(cand("re-two"), 1);
	vg_event_reset(ev);
	add("ParentImage", "c:\\qx.exe");
	CHECK_STR(run(), "re-two");
	vg_event_reset(ev);
	add("ParentImage", "c:\\qy.exe");
	CHECK_STR(run(), "");
	CHECK_INT(cand("re-two"), 0);
}

int main(void)
{
	setup();
	RUN(small_classes_give_literal_sets);
	RUN(a_window_vouches_for_its_rule);
	vg_event_free(ev);
	detect_ctx_free(ctx);
	detect_free(rs);
	return unit_done();
}
