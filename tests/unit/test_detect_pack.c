/*
 * test_detect_pack.c: detect_ruleset_finish packs each rule's selections,
 * condition nodes, field conditions, field ids, literals and patterns (with
 * their strings) into one block, in the order evaluation visits them, and
 * keeps each field condition's literals side by side (fc->lits), and each
 * rule's group, needed fields, condition and selections in rs->reval. Exact
 * expectations on the layout (every node inside the block, a selection
 * right after the condition node that reads it, shared selections placed
 * once) and on matching through the packed form, including a selection
 * that the condition does not name, explanations, and freeing; and
 * contains without case finding either case of its first byte, and
 * equality without case folding 8 bytes at a time. Mapping conditions
 * are packed likewise.
 */
#include <malloc.h>

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
	R("two-sels", "    sel:\n        CommandLine|contains:\n"
	    "            - mimikatz\n            - 'lsadump::sam'\n"
	    "        Image|endswith: '\\tool.exe'\n"
	    "    filter:\n        User: SYSTEM\n"
	    "    condition: sel and not filter\n")
	R("shared-sel", "    sel_a:\n        CommandLine|contains: alpha\n"
	    "    sel_b:\n        CommandLine|re: 'be+ta'\n"
	    "    unused:\n        CommandLine: never\n"
	    "    condition: (sel_a and sel_b) or (sel_b and 1 of sel_a*)\n")
	R("keywords", "    keywords:\n        - 'segfault at'\n        - 'oops'\n"
	    "    condition: keywords\n")
	R("fold", "    sel:\n        Image|contains: 'aab'\n    condition: sel\n")
	R("ref", "    sel:\n        ParentImage|fieldref: Image\n    condition: sel\n")
	R("eqfold", "    sel:\n        User: 'az@[`{-09 mixed\xc3\xa1" "case-name'\n"
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

/* A rule's block: in() checks p lies in [pack, pack + its usable size). */
static const char *base;
static size_t limit;

static int in(const void *p)
{
	return (const char *)p >= base && (const char *)p < base + limit;
}

/* Every node, field list, literal list, pattern and pattern string under
 * sn is in the block; returns how many field conditions. */
static int sn_in(const struct snode *sn, int *bad)
{
	int n = 0;

	if (!in(sn))
		(*bad)++;
	if (sn->n > 0 && !in(sn->kids))
		(*bad)++;
	for (uint32_t i = 0; i < sn->n; i++)
		n += sn_in(sn->kids[i], bad);
	if (sn->fc != NULL) {
		const struct fcond *fc = sn->fc;

		n++;
		if (!in(fc) || (fc->nfields > 0 && !in(fc->fields)) ||
		    !in(fc->pats) || !in(fc->lits))
			(*bad)++;
		for (uint32_t k = 0; k < fc->npats; k++) {
			if (fc->lits[k] != fc->pats[k].lit)
				(*bad)++;
			if (fc->pats[k].s != NULL && !in(fc->pats[k].s))
				(*bad)++;
			if (fc->pats[k].relit != NULL && !in(fc->pats[k].relit))
				(*bad)++;
			/* what stays outside: compiled regexes, shown text */
			if (fc->pats[k].shown != NULL && in(fc->pats[k].shown))
				(*bad)++;
		}
	}
	return n;
}

static void setup(void)
{
	struct vg_diag d;
	FILE *null = fopen("/dev/null", "w");

	vg_diag_init(&d, null);
	rs = detect_load_buffer("t.yml", rules, strlen(rules), NULL, &d, NULL);
	fclose(null);
	ctx = detect_ctx_new(rs);
	ev = vg_event_new();
}

TEST(every_rule_is_packed_in_one_block)
{
	CHECK_INT(detect_rule_count(rs), 6);
	for (size_t i = 0; i < detect_rule_count(rs); i++) {
		const struct rule_impl *ri = detect_rule(rs, i)->impl;
		int bad = 0, nfc = 0;

		CHECK(ri->pack != NULL);
		base = ri->pack;
		limit = malloc_usable_size(ri->pack);
		/* the sels array first, then the condition right after it */
		CHECK(ri->sels == ri->pack);
		CHECK((const char *)ri->cond >= (const char *)(ri->sels + ri->nsels));
		CHECK(in(ri->cond));
		for (uint32_t s = 0; s < ri->nsels; s++)
			nfc += sn_in(ri->sels[s].root, &bad);
		CHECK_INT(bad, 0);
		CHECK(nfc >= 1);
		/* names stay outside, as they were */
		CHECK(!in(ri->sels[0].name));
	}
	CHECK_INT(rule_by_id("two-sels")->impl->nsels, 2);
	CHECK_INT(rule_by_id("shared-sel")->impl->nsels, 3);
}

TEST(a_selection_follows_the_node_that_reads_it)
{
	const struct rule_impl *ri = rule_by_id("two-sels")->impl;
	const struct cnode *and = ri->cond, *sel, *not;

	/* sel and not filter: AND, its kids array, then kid 0 (CN_SEL sel)
	 * with sel's tree right behind it, then the NOT and filter's tree */
	CHECK_INT(and->op, CN_AND);
	CHECK_INT(and->n, 2);
	sel = and->kids[0];
	not = and->kids[1];
	CHECK_INT(sel->op, CN_SEL);
	CHECK_INT(not->op, CN_NOT);
	CHECK((const char *)and->kids > (const char *)and);
	CHECK((const char *)sel > (const char *)and->kids);
	CHECK((const char *)ri->sels[sel->sel].root > (const char *)sel);
	CHECK((const char *)not > (const char *)ri->sels[sel->sel].root);
	CHECK((const char *)ri->sels[not->kids[0]->sel].root >
	    (const char *)not->kids[0]);
	CHECK_STR(ri->sels[sel->sel].name, "sel");
}

TEST(a_shared_selection_is_placed_once)
{
	const struct rule_impl *ri = rule_by_id("shared-sel")->impl;
	const struct snode *a = NULL, *b = NULL, *unused = NULL;

	for (uint32_t s = 0; s < ri->nsels; s++) {
		if (strcmp(ri->sels[s].name, "sel_a") == 0)
			a = ri->sels[s].root;
		else if (strcmp(ri->sels[s].name, "sel_b") == 0)
			b = ri->sels[s].root;
		else
			unused = ri->sels[s].root;
	}
	CHECK(a != NULL && b != NULL && unused != NULL);
	/* placed in the order first read: sel_a, sel_b, then the unused one
	 * after the whole condition */
	CHECK((const char *)a < (const char *)b);
	CHECK((const char *)b < (const char *)unused);
	CHECK_STR(unused->fc->pats[0].s, "never");
	CHECK_INT(unused->fc->pats[0].len, 5);
	CHECK_STR(a->fc->pats[0].s, "alpha");
}

TEST(what_evaluation_reads_first_is_side_by_side)
{
	for (size_t i = 0; i < detect_rule_count(rs); i++) {
		const struct rule_impl *ri = detect_rule(rs, i)->impl;
		const struct rule_eval *re = &rs->reval[ri->index];

		CHECK_INT(ri->index, i);
		CHECK(re->cond == ri->cond);
		CHECK(re->sels == ri->sels);
		CHECK(re->need == ri->need);
		CHECK_INT(re->nneed, ri->nneed);
		CHECK_INT(re->group, ri->group);
	}
	/* one logsource: one group */
	CHECK_INT(rs->reval[0].group, rs->reval[2].group);
}

TEST(the_packed_rules_match)
{
	vg_event_reset(ev);
	add("CommandLine", "tool.exe LSADUMP::SAM /x");
	add("Image", "C:\\t\\tool.exe");
	add("User", "alice");
	CHECK_STR(run(), "two-sels");
	vg_event_reset(ev);
	add("CommandLine", "tool.exe mimikatz");
	add("Image", "C:\\t\\tool.exe");
	add("User", "SYSTEM");
	CHECK_STR(run(), "");
	vg_event_reset(ev);
	add("CommandLine", "alpha beeeta");
	CHECK_STR(run(), "shared-sel");
	vg_event_reset(ev);
	add("CommandLine", "alpha bta");
	CHECK_STR(run(), "");
	vg_event_reset(ev);
	add("message", "kernel: Oops: 0002");
	CHECK_STR(run(), "keywords");
}

/* contains without case: the first byte of each case is found by memchr,
 * the nearer first, and a failed try moves on to the next of that case */
TEST(contains_finds_either_case_of_its_first_byte)
{
	static const struct {
		const char *v;
		const char *want;
	} cases[] = {
		{ "aab", "fold" }, { "AAB", "fold" }, { "xAaB", "fold" },
		{ "aAaAb", "fold" }, { "AaAaB", "fold" }, { "abAaab", "fold" },
		{ "AXaAxaa", "" }, { "aa", "" }, { "ba", "" }, { "aAaAaA", "" },
		{ "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzAaB", "fold" },
		{ "", "" },
	};

	for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
		vg_event_reset(ev);
		add("Image", cases[i].v);
		if (strcmp(run(), cases[i].want) != 0)
			UNIT_FAIL("%s: got %s want %s", cases[i].v, run(), cases[i].want);
	}
}

/* equality without case, 8 bytes at a time: only 'A'..'Z' fold */
TEST(equality_folds_only_ascii_capitals)
{
	static const struct {
		const char *v;
		const char *want;
	} cases[] = {
		{ "az@[`{-09 mixed\xc3\xa1" "case-name", "eqfold" },
		{ "AZ@[`{-09 MIXED\xc3\xa1" "CASE-NAME", "eqfold" },
		{ "aZ@[`{-09 mIxEd\xc3\xa1" "cAsE-nAmE", "eqfold" },
		/* '@' + 0x20 is '`', '[' + 0x20 is '{': not letters */
		{ "az`[`{-09 mixed\xc3\xa1" "case-name", "" },
		{ "az@{`{-09 mixed\xc3\xa1" "case-name", "" },
		/* a byte with the high bit: 0xc3 0x81 is not 0xc3 0xa1 */
		{ "az@[`{-09 mixed\xc3\x81" "case-name", "" },
		{ "az@[`{-09 mixed\xc3\xa1" "case-namE", "eqfold" },
		{ "az@[`{-09 mixed\xc3\xa1" "case-namf", "" },
		{ "az@[`{-09 mixed\xc3\xa1" "case-nam", "" },
	};

	for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
		vg_event_reset(ev);
		add("User", cases[i].v);
		if (strcmp(run(), cases[i].want) != 0)
			UNIT_FAIL("%s: got %s want %s", cases[i].v, run(), cases[i].want);
	}
}

/* A mapping entry's condition is packed too, and still selects events. */
/* fieldref without case folds both sides, 8 bytes at a time */
TEST(fieldref_folds_both_sides)
{
	static const struct {
		const char *a, *b;
		const char *want;
	} cases[] = {
		{ "C:\\Windows\\System32\\cmd.exe", "c:\\wINDOWS\\system32\\CMD.EXE", "ref" },
		{ "C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\System32\\cmd.exf", "" },
		{ "x@y[z]-0123456789", "X`Y{Z]-0123456789", "" },
		{ "x@y[z]-0123456789", "X@Y[Z]-0123456789", "ref" },
		{ "ab\xc3\x81" "cdefgh", "AB\xc3\xa1" "CDEFGH", "" },
		{ "ab\xc3\x81" "cdefgh", "AB\xc3\x81" "CDEFGH", "ref" },
	};

	for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
		vg_event_reset(ev);
		add("Image", cases[i].a);
		add("ParentImage", cases[i].b);
		if (strcmp(run(), cases[i].want) != 0)
			UNIT_FAIL("%s / %s: got %s want %s", cases[i].a, cases[i].b, run(),
			    cases[i].want);
	}
}

TEST(mapping_conditions_are_packed)
{
	static const char text[] =
	    "title: maps\nlogsources:\n    - product: mapp\n"
	    "      conditions: {Channel: [Security, 'Microsoft-Windows-Sysmon/Operational']}\n"
	    "---\n"
	    R("mapped-rule", "    sel:\n        CommandLine|contains: whoami\n"
	        "    condition: sel\n");
	char *mapped = vg_strdup(text);
	struct vg_diag d;
	struct ruleset *mrs;
	struct detect_ctx *mctx;
	const struct rule *const *m;
	const struct snode *c;

	/* the rule text of R(), under the mapped logsource "mapp" */
	memcpy(strstr(mapped, "product: test"), "product: mapp", 13);
	vg_diag_init(&d, NULL);
	mrs = detect_load_buffer("m.yml", mapped, strlen(mapped), NULL, &d, NULL);
	CHECK_INT(detect_rule_count(mrs), 1);
	CHECK_INT(mrs->nmls, 1);
	CHECK(mrs->mls[0].pack != NULL);
	c = mrs->mls[0].cond;
	base = mrs->mls[0].pack;
	limit = malloc_usable_size(mrs->mls[0].pack);
	CHECK(c != NULL && in(c));
	mctx = detect_ctx_new(mrs);
	vg_event_reset(ev);
	add("Channel", "SECURITY");
	add("CommandLine", "cmd /c WHOAMI /all");
	CHECK_INT(detect_event(mrs, mctx, ev, &m), 1);
	vg_event_reset(ev);
	add("Channel", "System");
	add("CommandLine", "cmd /c whoami /all");
	CHECK_INT(detect_event(mrs, mctx, ev, &m), 0);
	vg_event_reset(ev);
	add("Channel", "Microsoft-Windows-Sysmon/Operational");
	add("CommandLine", "whoami");
	CHECK_INT(detect_event(mrs, mctx, ev, &m), 1);
	detect_ctx_free(mctx);
	detect_free(mrs);
	free(mapped);
}

TEST(explanations_read_the_packed_form)
{
	struct buf b;

	buf_init(&b);
	vg_event_reset(ev);
	add("CommandLine", "tool.exe mimikatz");
	add("Image", "C:\\t\\tool.exe");
	add("User", "bob");
	detect_explain(rs, ctx, ev, &b);
	CHECK(strstr(buf_cstr(&b), "two-sels") != NULL);
	CHECK(strstr(buf_cstr(&b), "mimikatz") != NULL);
	buf_free(&b);
}

int main(void)
{
	setup();
	RUN(every_rule_is_packed_in_one_block);
	RUN(a_selection_follows_the_node_that_reads_it);
	RUN(a_shared_selection_is_placed_once);
	RUN(what_evaluation_reads_first_is_side_by_side);
	RUN(the_packed_rules_match);
	RUN(contains_finds_either_case_of_its_first_byte);
	RUN(equality_folds_only_ascii_capitals);
	RUN(fieldref_folds_both_sides);
	RUN(mapping_conditions_are_packed);
	RUN(explanations_read_the_packed_form);
	vg_event_free(ev);
	detect_ctx_free(ctx);
	detect_free(rs);
	return unit_done();
}
