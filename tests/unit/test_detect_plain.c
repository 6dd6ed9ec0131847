/*
 * test_detect_plain.c: field conditions over named fields with string
 * patterns only (equality, prefix, suffix, contains, any) are marked plain
 * by detect_ruleset_finish and evaluated by detect_match.c's short path.
 * Exact expectations: which conditions are plain; and on many events
 * (several values of a field, null values, numbers, two event fields for
 * one Sigma field, |neq, |cased, |all, literals the prefilter did or did
 * not see), the short path answers as the general evaluator does, and the
 * rules match as written. A list of contains that no literal rules out
 * is matched in one pass over the folded value (fc->cs). Logsource
 * entries whose conditions only ask which of at most six fields are
 * present answer from a table made at finish: which entries get one, and
 * for every combination of the fields, the rules that match and the table
 * against the condition; and an entry's answer is its event's, across the
 * wrap of the event counter. Rules no literal vouches for are looked at
 * when the event has a field they need, with few such fields or many.
 */
#include <ctype.h>
#include <unistd.h>

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
	R("eq", "    sel:\n        user.name: [root, admin]\n"
	    "        event.action: ssh_login\n    condition: sel\n")
	R("num", "    sel:\n        user.id: 0\n    condition: sel\n")
	R("mixed", "    sel:\n        url|startswith: '/admin'\n"
	    "        url|endswith: '.php'\n"
	    "        agent|contains: [curl, 'Wget/']\n    condition: sel\n")
	R("any", "    sel:\n        url: '*'\n    condition: sel\n")
	R("neq", "    sel:\n        event.action: ssh_login\n"
	    "        user.name|neq: root\n    condition: sel\n")
	R("cased", "    sel:\n        tag|cased: MixedCase\n    condition: sel\n")
	R("two", "    sel:\n        Who: alice\n    condition: sel\n")
	R("re", "    sel:\n        url|re: 'x+z'\n    condition: sel\n")
	R("kw", "    keywords:\n        - 'segfault at'\n    condition: keywords\n")
	R("all", "    sel:\n        agent|contains|all: [curl, x]\n"
	    "    condition: sel\n")
	R("inj", "    sel:\n        url|contains: [';CAT ', '|id', '$(', '`',"
	    " '%60', 'Ab']\n    condition: sel\n");

static const char maps[] =
	"title: m\nfieldmappings:\n  - fields:\n      Who: [user.name, user.target.name]\n";

static uint32_t fid(const char *name)
{
	return field_intern(name, strlen(name));
}

static void add(const char *name, const char *val)
{
	vg_event_add(ev, fid(name), val, strlen(val));
}

static void add_num(const char *name, const char *text)
{
	vg_event_add_num(ev, fid(name), text, strlen(text), strtod(text, NULL));
}

static void add_null(const char *name)
{
	vg_event_add_named(ev, name, strlen(name), "null", 4, V_NULL, 0);
}

static const struct rule *rule_by_id(const char *id)
{
	for (size_t i = 0; i < detect_rule_count(rs); i++) {
		if (strcmp(detect_rule(rs, i)->id, id) == 0)
			return detect_rule(rs, i);
	}
	return NULL;
}

/* The rules that match the event, by id. */
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

/* The plain flags of a rule's field conditions, in selection order ('!':
 * plain without the literals the short path reads unchecked). */
static void flags(const struct snode *sn, char *out, size_t *o)
{
	if (sn->kind == SN_FC) {
		out[(*o)++] = !sn->fc->plain ? '-' : sn->fc->lits != NULL ? 'p' : '!';
		out[*o] = '\0';
	}
	for (uint32_t i = 0; i < sn->n; i++)
		flags(sn->kids[i], out, o);
}

static const char *rule_flags(const char *id)
{
	static char out[32];
	const struct rule_impl *ri = rule_by_id(id)->impl;
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t s = 0; s < ri->nsels; s++)
		flags(ri->sels[s].root, out, &o);
	return out;
}

/* Every field condition of every rule: the short path (detect_sn_eval of
 * its node) against the general evaluator (detect_fc_eval), on the
 * current event after the prefilter's scan. Returns the mismatches. */
static int disagree_sn(const struct snode *sn)
{
	int bad = 0;

	if (sn->kind == SN_FC && detect_sn_eval(ctx, ev, sn) !=
	    detect_fc_eval(ctx, ev, sn->fc))
		bad++;
	for (uint32_t i = 0; i < sn->n; i++)
		bad += disagree_sn(sn->kids[i]);
	return bad;
}

static int disagree(void)
{
	int bad = 0;

	run(); /* the scan: the literals seen in this event */
	for (size_t r = 0; r < detect_rule_count(rs); r++) {
		const struct rule_impl *ri = detect_rule(rs, r)->impl;

		for (uint32_t s = 0; s < ri->nsels; s++)
			bad += disagree_sn(ri->sels[s].root);
	}
	return bad;
}

/* Load rule text r with mapping text m (each written to a file). */
static struct ruleset *load_set(const char *r, const char *m, int *loaded)
{
	char path[] = "/tmp/vigil-plain-XXXXXX";
	char rpath[600], mpath[600];
	const char *rp[1], *mp[1];
	struct detect_opts o = { 0 };
	struct detect_stats st;
	struct vg_diag d;
	struct ruleset *set;
	FILE *f;

	if (mkdtemp(path) == NULL)
		abort();
	snprintf(rpath, sizeof(rpath), "%s/r.yml", path);
	snprintf(mpath, sizeof(mpath), "%s/m.yml", path);
	f = fopen(rpath, "w");
	fputs(r, f);
	fclose(f);
	f = fopen(mpath, "w");
	fputs(m, f);
	fclose(f);
	rp[0] = rpath;
	mp[0] = mpath;
	o.rule_paths = rp;
	o.nrule_paths = 1;
	o.mapping_paths = mp;
	o.nmapping_paths = 1;
	f = fopen("/dev/null", "w"); /* warnings: logsources without mapping */
	vg_diag_init(&d, f);
	set = detect_load(&o, &d, &st);
	fclose(f);
	*loaded = st.loaded;
	unlink(rpath);
	unlink(mpath);
	rmdir(path);
	return set;
}

static void setup(void)
{
	int loaded;

	rs = load_set(rules, maps, &loaded);
	if (loaded != 11)
		abort();
	ctx = detect_ctx_new(rs);
	ev = vg_event_new();
}

TEST(which_conditions_are_plain)
{
	CHECK_STR(rule_flags("eq"), "pp");
	CHECK_STR(rule_flags("num"), "p");
	CHECK_STR(rule_flags("mixed"), "ppp");
	CHECK_STR(rule_flags("any"), "p");
	CHECK_STR(rule_flags("neq"), "pp");
	CHECK_STR(rule_flags("cased"), "p");
	CHECK_STR(rule_flags("two"), "p");
	CHECK_STR(rule_flags("re"), "-");
	CHECK_STR(rule_flags("kw"), "-");
	CHECK_STR(rule_flags("all"), "p");
	CHECK_STR(rule_flags("inj"), "p");
}

/* A list of contains that no literal rules out (the rule is evaluated for
 * every event: '`' is one byte) is matched in one pass over the folded
 * value: the first bytes ; | $ ` % a. */
TEST(a_list_of_contains_is_one_pass)
{
	const struct fcond *fc = rule_by_id("inj")->impl->sels[0].root->fc;
	static const char *const needles[] = { ";cat ", "|ID", "$(", "`", "%60",
	    "aB" };
	char url[80];
	int n = 0;

	CHECK(rule_by_id("inj")->impl->sels[0].root->kind == SN_FC);
	CHECK(fc->cs != NULL);
	if (fc->cs == NULL)
		return;
	CHECK_INT(fc->cs->n, 6);
	CHECK(memchr(fc->cs->first, ';', fc->cs->n) != NULL);
	CHECK(memchr(fc->cs->first, 'a', fc->cs->n) != NULL);
	/* no other condition of the rules has one */
	CHECK(rule_by_id("mixed")->impl->sels[0].root->kids[2]->fc->cs == NULL);
	/* every needle at every place of values of 0..40 bytes, and one
	 * byte of it missing: as the general evaluator answers */
	for (size_t k = 0; k < 6; k++) {
		size_t nl = strlen(needles[k]);

		for (size_t len = 0; len <= 40; len++) {
			for (size_t at = 0; at + nl <= len; at++) {
				memset(url, 'x', len);
				memcpy(url + at, needles[k], nl);
				url[len] = '\0';
				vg_event_reset(ev);
				add("url", url);
				n += disagree();
				n += strcmp(run(), "any inj") != 0;
				/* the needle's last byte replaced */
				url[at + nl - 1] = '#';
				vg_event_reset(ev);
				add("url", url);
				n += disagree();
				n += strcmp(run(), "any") != 0;
			}
		}
	}
	CHECK_INT(n, 0);
	/* the second value of the field holds it */
	vg_event_reset(ev);
	add("url", "/a/b");
	add("url", "/x?q=$(id)");
	CHECK_STR(run(), "any inj");
	vg_event_reset(ev);
	add("url", "%6");
	add("url", "0");
	CHECK_STR(run(), "any");
	/* a context that never ran detect_event (its caller evaluates
	 * events of its own): no fold is kept from one event to the next,
	 * though their values lie at the same place */
	{
		struct detect_ctx *b = detect_ctx_new(rs);
		const struct snode *root = rule_by_id("inj")->impl->sels[0].root;

		vg_event_reset(ev);
		add("url", "/x?a=`id`");
		CHECK_INT(detect_sn_eval(b, ev, root), 1);
		vg_event_reset(ev);
		add("url", "/x?a='id'");
		CHECK_INT(detect_sn_eval(b, ev, root), 0);
		detect_ctx_free(b);
	}
}

TEST(plain_conditions_match_as_written)
{
	vg_event_reset(ev);
	add("event.action", "SSH_Login");
	add("user.name", "nobody");
	add("user.name", "ADMIN"); /* a second value of the field */
	CHECK_STR(run(), "eq neq"); /* neq: no value is root */
	CHECK_INT(disagree(), 0);

	vg_event_reset(ev);
	add("event.action", "ssh_login");
	add_null("user.name");
	add("user.name", "root");
	CHECK_STR(run(), "eq");
	CHECK_INT(disagree(), 0);

	vg_event_reset(ev);
	add("event.action", "ssh_login");
	add_null("user.name");
	CHECK_STR(run(), "neq"); /* null is no value: neq holds */
	CHECK_INT(disagree(), 0);

	vg_event_reset(ev);
	add_num("user.id", "0.0");
	CHECK_STR(run(), "num");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	add("user.id", "0");
	CHECK_STR(run(), "num");
	vg_event_reset(ev);
	add("user.id", "00");
	CHECK_STR(run(), "");
	CHECK_INT(disagree(), 0);

	vg_event_reset(ev);
	add("url", "/ADMIN/index.PHP");
	add("agent", "Wget/1.21");
	CHECK_STR(run(), "mixed any");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	add("url", "/admin/index.php5");
	add("agent", "curl/8");
	CHECK_STR(run(), "any");
	CHECK_INT(disagree(), 0);
	/* |all: each value the rule wrote, in one value or two */
	vg_event_reset(ev);
	add("agent", "CURL/8 (X11)");
	CHECK_STR(run(), "all");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	add("agent", "curl/8");
	add("agent", "X");
	CHECK_STR(run(), "all");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	add("agent", "curl/8");
	add("agentx", "x");
	CHECK_STR(run(), "");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	add("url", "");
	CHECK_STR(run(), "any");
	vg_event_reset(ev);
	add_null("url");
	CHECK_STR(run(), "");
	CHECK_INT(disagree(), 0);

	vg_event_reset(ev);
	add("tag", "mixedcase");
	CHECK_STR(run(), "");
	add("tag", "MixedCase");
	CHECK_STR(run(), "cased");
	CHECK_INT(disagree(), 0);

	/* Who is two event fields: the second holds it */
	vg_event_reset(ev);
	add("user.target.name", "Alice");
	CHECK_STR(run(), "two");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	add("user.target.name", "alicia");
	add("user.name", "bob");
	CHECK_STR(run(), "");
	add("event.action", "ssh_login");
	CHECK_STR(run(), "neq");
	CHECK_INT(disagree(), 0);
}

/* Logsource entries that only ask which fields are present answer from
 * a table over their fields; any other entry is evaluated. */
static const char truth_maps[] =
	"title: m\nlogsources:\n"
	"  - product: lnx\n    conditions:\n"
	"      - prio|exists: true\n        chan|exists: false\n"
	"        Chan|exists: false\n"
	"      - proc|exists: true\n        chan|exists: false\n"
	"  - product: lnx\n    service: x\n    conditions:\n"
	"      proc: x\n"
	"  - product: six\n    conditions:\n"
	"      - a|exists: true\n        b|exists: true\n        c|exists: true\n"
	"      - d|exists: true\n        e|exists: false\n      - f|exists: true\n"
	"  - product: many\n    conditions:\n"
	"      a|exists: true\n      b|exists: true\n      c|exists: true\n"
	"      d|exists: true\n      e|exists: true\n      f|exists: true\n"
	"      g|exists: false\n";

#define LR(id, ls) "title: " id "\nid: " id "\nlogsource:\n" ls \
	"detection:\n    sel:\n        k: v\n    condition: sel\nlevel: low\n---\n"

static const char truth_rules[] =
	LR("r-lnx", "    product: lnx\n")
	LR("r-x", "    product: lnx\n    service: x\n")
	LR("r-six", "    product: six\n")
	LR("r-many", "    product: many\n");

TEST(presence_only_logsources_answer_from_a_table)
{
	static const char *const names[] = { "prio", "chan", "Chan", "proc",
	    "a", "b", "c", "d", "e", "f", "g", "k" };
	struct ruleset *set;
	struct detect_ctx *c;
	int loaded;

	set = load_set(truth_rules, truth_maps, &loaded);
	CHECK_INT(loaded, 4);
	if (set->nmls != 4) {
		CHECK_INT((int)set->nmls, 4);
		detect_free(set);
		return;
	}
	/* entries in file order: lnx (4 fields), lnx/x (values), six (6
	 * fields), many (7 fields: too many for the table) */
	CHECK_INT(set->mls[0].ntf, 4);
	CHECK_INT(set->mls[1].ntf, 0);
	CHECK_INT(set->mls[2].ntf, 6);
	CHECK_INT(set->mls[3].ntf, 0);
	c = detect_ctx_new(set);
	/* every combination of the 12 fields' presence: the table answers
	 * as the condition does, and the rules match accordingly */
	for (unsigned b = 0; b < 1u << 12; b++) {
		const struct rule *const *m;
		int want_lnx, want_x, want_six, want_many;
		size_t n;
		char got[64] = "", want[64] = "";

		vg_event_reset(ev);
		for (unsigned j = 0; j < 12; j++) {
			if (b >> j & 1)
				add(names[j], j == 3 ? "x" : "v");
		}
		want_lnx = (b & 1) && !(b & 2) && !(b & 4) ? 1 :
		    ((b & 8) && !(b & 2));
		want_x = want_lnx && (b & 8);
		want_six = ((b >> 4 & 7) == 7) || ((b >> 7 & 1) && !(b >> 8 & 1)) ||
		    (b >> 9 & 1);
		want_many = (b >> 4 & 63) == 63 && !(b >> 10 & 1);
		want_lnx &= (b >> 11 & 1) != 0; /* k: v */
		want_x &= (b >> 11 & 1) != 0;
		want_six &= (b >> 11 & 1) != 0;
		want_many &= (b >> 11 & 1) != 0;
		snprintf(want, sizeof(want), "%s%s%s%s", want_lnx ? "r-lnx " : "",
		    want_x ? "r-x " : "", want_six ? "r-six " : "",
		    want_many ? "r-many " : "");
		n = detect_event(set, c, ev, &m);
		for (size_t i = 0; i < n; i++) {
			strcat(got, m[i]->id);
			strcat(got, " ");
		}
		if (strcmp(got, want) != 0) {
			CHECK_STR(got, want);
			printf("  fields %#x\n", b);
			break;
		}
		/* the tables against the conditions themselves */
		for (uint32_t e = 0; e < 4; e += 2) {
			if (detect_sn_eval(c, ev, set->mls[e].cond) !=
			    detect_entry_ok(c, ev, e)) {
				CHECK_INT(detect_sn_eval(c, ev, set->mls[e].cond),
				    detect_entry_ok(c, ev, e));
				printf("  entry %u, fields %#x\n", e, b);
				b = 1u << 12;
				break;
			}
		}
	}
	detect_ctx_free(c);
	detect_free(set);
}

/* A logsource's answer holds for its event only: events that alternate
 * between passing and failing it, also across the wrap of the context's
 * event counter (the stamps that say which answers are this event's). */
TEST(logsource_answers_are_per_event_across_the_wrap)
{
	struct ruleset *set;
	struct detect_ctx *c;
	int loaded;

	set = load_set(truth_rules, truth_maps, &loaded);
	CHECK_INT(loaded, 4);
	c = detect_ctx_new(set);
	c->epoch = UINT32_MAX - 3;
	for (int i = 0; i < 8; i++) {
		const struct rule *const *m;
		size_t n;

		vg_event_reset(ev);
		add(i % 2 ? "chan" : "prio", "v");
		add("proc", "x");
		add("k", "v");
		n = detect_event(set, c, ev, &m);
		if (i % 2) {
			CHECK_INT((int)n, 0); /* a channel: not lnx */
		} else {
			CHECK_INT((int)n, 2);
			if (n == 2) {
				CHECK_STR(m[0]->id, "r-lnx");
				CHECK_STR(m[1]->id, "r-x");
			}
		}
		CHECK_INT(detect_entry_ok(c, ev, 0), i % 2 == 0);
	}
	CHECK(c->epoch < 8); /* it wrapped */
	detect_ctx_free(c);
	/* a context that never ran detect_event answers each time */
	c = detect_ctx_new(set);
	for (int i = 0; i < 4; i++) {
		vg_event_reset(ev);
		add(i % 2 ? "chan" : "prio", "v");
		CHECK_INT(detect_entry_ok(c, ev, 0), i % 2 == 0);
	}
	detect_ctx_free(c);
	detect_free(set);
}

/* Rules no literal vouches for are looked at when the event has a field
 * one of them needs: found through the index for up to NEEDF_IDS_MAX
 * such fields, by walking the event's entries for more. */
TEST(fields_needed_by_unindexed_rules_few_or_many)
{
	char text[4096];

	for (int many = 0; many < 2; many++) {
		int nr = many ? NEEDF_IDS_MAX + 1 : 2, loaded;
		size_t o = 0;
		struct ruleset *set;
		struct detect_ctx *c;

		for (int i = 0; i < nr; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o,
			    "title: u%d\nid: u%d\nlogsource:\n    product: test\n"
			    "detection:\n    sel:\n        need%d|re: 'x.z'\n"
			    "    condition: sel\nlevel: low\n---\n", i, i, i);
		set = load_set(text, "title: none\nfieldmappings: []\n", &loaded);
		CHECK_INT(loaded, nr);
		CHECK_INT(set->need_any, 0);
		CHECK(many ? set->needf_ids == NULL : set->needf_ids != NULL);
		c = detect_ctx_new(set);
		for (int i = 0; i < nr; i++) {
			const struct rule *const *m;
			char name[16], want[16];

			snprintf(name, sizeof(name), "need%d", i);
			snprintf(want, sizeof(want), "u%d", i);
			vg_event_reset(ev);
			add("other", "xyz");
			CHECK_INT((int)detect_event(set, c, ev, &m), 0);
			add(name, "..xyz..");
			if (detect_event(set, c, ev, &m) != 1) {
				CHECK_STR(name, "matched once");
				continue;
			}
			CHECK_STR(m[0]->id, want);
			vg_event_reset(ev);
			add(name, "xz");
			CHECK_INT((int)detect_event(set, c, ev, &m), 0);
		}
		detect_ctx_free(c);
		detect_free(set);
	}
}


/* A literal's postings by field: one looked for in several fields and as
 * a keyword (its runs found in the middle, at the ends), one that only
 * one field looks for (its postings are that field's run whole), one that
 * two rules of one field share (contains, endswith). Exact matches. */
#define RL(id, det) "title: " id "\nid: " id "\nlogsource:\n    product: test\n" \
	"detection:\n" det "    condition: sel\nlevel: low\n---\n"
static const char runs_rules[] =
	RL("r1", "    sel:\n        fa|contains: zetaword\n")
	RL("r2", "    sel:\n        fb|contains: zetaword\n")
	RL("r3", "    sel:\n        fc|contains: zetaword\n")
	RL("r4", "    sel:\n        - 'zetaword'\n")
	RL("r5", "    sel:\n        fw: [zetaword, otherword]\n")
	RL("r6", "    sel:\n        fs|contains: solofield\n")
	RL("r7", "    sel:\n        fd|contains: duoword\n")
	RL("r8", "    sel:\n        fd|endswith: duoword\n");

static const char *run_set(struct ruleset *set, struct detect_ctx *c)
{
	static char out[256];
	const struct rule *const *m;
	size_t n = detect_event(set, c, ev, &m), o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(out) - 64; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? " " : "",
		    m[i]->id);
	return out;
}

TEST(literal_runs_by_field)
{
	static const struct {
		const char *field, *val, *want;
	} cases[] = {
		{ "fa", "xx zetaword yy", "r1" },
		{ "fb", "ZetaWord", "r2" },
		{ "fc", "..zetaword", "r3" },
		{ "message", "a zetaword b", "r4" },
		{ "fw", "ZETAWORD", "r5" },
		{ "fw", "zetaword!", "" },
		{ "fw", "otherword", "r5" },
		{ "fs", "..solofield..", "r6" },
		{ "fa", "..solofield..", "" },
		{ "fd", "the duoword", "r7 r8" },
		{ "fd", "duoword x", "r7" },
		{ "fs", "duoword", "" },
		{ "other", "zetaword solofield duoword", "" },
	};
	struct ruleset *set;
	struct detect_ctx *c;
	int loaded;

	set = load_set(runs_rules, "title: none\nfieldmappings: []\n", &loaded);
	CHECK_INT(loaded, 8);
	c = detect_ctx_new(set);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vg_event_reset(ev);
		add("message", "nothing here");
		if (strcmp(cases[i].field, "message") != 0)
			add(cases[i].field, cases[i].val);
		else {
			vg_event_reset(ev);
			add("message", cases[i].val);
		}
		if (strcmp(run_set(set, c), cases[i].want) != 0) {
			CHECK_STR(cases[i].val, cases[i].want);
			CHECK_STR(run_set(set, c), cases[i].want);
		}
	}
	/* several fields at once, and the keyword too */
	vg_event_reset(ev);
	add("message", "zetaword");
	add("fc", "zetaword");
	add("fa", "zetaword");
	add("fw", "zetaword");
	add("fd", "duoword");
	CHECK_STR(run_set(set, c), "r1 r3 r4 r5 r7 r8");
	vg_event_reset(ev);
	add("message", "none");
	add("fb", "a zetaword");
	add("fs", "SOLOFIELD");
	CHECK_STR(run_set(set, c), "r2 r6");
	detect_ctx_free(c);
	detect_free(set);
}


/* Values of a field that only equalities read are folded and looked up
 * whole; a field that contains reads keeps what the scan of a value found
 * and replays it for the same bytes. For every length 2..40 (whole words,
 * a last partial word, the 4..7 and 2..3 byte cases): the value in mixed
 * case matches; the same value with any one byte changed does not, nor
 * the value one byte longer or shorter; and again for the same bytes in
 * later events. */
/* Is id one of the space-separated ids of out? */
static int has_id(const char *out, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = out; (p = strstr(p, id)) != NULL; p += n) {
		if ((p == out || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

TEST(whole_values_and_replays_of_every_length)
{
	static const char alpha[] =
	    "abcdefghijklmnopqrstuvwxyz0123456789-_./:;+=,~!@"; /* 48 */
	static char text[32768];
	char lit[48], val[48];
	size_t o = 0;
	struct ruleset *set;
	struct detect_ctx *c;
	int loaded, bad = 0;

	for (int n = 2; n <= 40; n++) {
		memcpy(lit, alpha + (n % 7), (size_t)n);
		lit[n] = '\0';
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "title: w%d\nid: w%d\nlogsource:\n    product: test\n"
		    "detection:\n    sel:\n        fq: '%s'\n"
		    "    condition: sel\nlevel: low\n---\n"
		    "title: c%d\nid: c%d\nlogsource:\n    product: test\n"
		    "detection:\n    sel:\n        fr|contains: '%s'\n"
		    "    condition: sel\nlevel: low\n---\n", n, n, lit, n, n, lit);
	}
	set = load_set(text, "title: none\nfieldmappings: []\n", &loaded);
	CHECK_INT(loaded, 78);
	c = detect_ctx_new(set);
	for (int round = 0; round < 2; round++) {
		for (int n = 2; n <= 40; n++) {
			char want[16];

			memcpy(val, alpha + (n % 7), (size_t)n);
			val[n] = '\0';
			for (int j = 0; j < n; j += 2)
				val[j] = (char)toupper((unsigned char)val[j]);
			snprintf(want, sizeof(want), "w%d", n);
			vg_event_reset(ev);
			add("message", "none");
			add("fq", val);
			bad += strcmp(run_set(set, c), want) != 0;
			/* fr: shorter literals of other rules may be in it */
			snprintf(want, sizeof(want), "c%d", n);
			vg_event_reset(ev);
			add("message", "none");
			add("fr", val);
			bad += !has_id(run_set(set, c), want);
			for (int j = 0; j < n; j++) {
				char keep = val[j];

				val[j] = '#';
				vg_event_reset(ev);
				add("message", "none");
				add("fq", val);
				bad += strcmp(run_set(set, c), "") != 0;
				vg_event_reset(ev);
				add("message", "none");
				add("fr", val);
				bad += has_id(run_set(set, c), want);
				val[j] = keep;
			}
			/* one byte longer, one shorter: no whole match */
			val[n] = 'z';
			val[n + 1] = '\0';
			vg_event_reset(ev);
			add("message", "none");
			add("fq", val);
			bad += strcmp(run_set(set, c), "") != 0;
			val[n - 1] = '\0';
			vg_event_reset(ev);
			add("message", "none");
			add("fq", val);
			bad += strcmp(run_set(set, c), "") != 0;
		}
	}
	CHECK_INT(bad, 0);
	detect_ctx_free(c);
	detect_free(set);
}

int main(void)
{
	setup();
	RUN(which_conditions_are_plain);
	RUN(plain_conditions_match_as_written);
	RUN(a_list_of_contains_is_one_pass);
	RUN(presence_only_logsources_answer_from_a_table);
	RUN(logsource_answers_are_per_event_across_the_wrap);
	RUN(fields_needed_by_unindexed_rules_few_or_many);
	RUN(literal_runs_by_field);
	RUN(whole_values_and_replays_of_every_length);
	vg_event_free(ev);
	detect_ctx_free(ctx);
	detect_free(rs);
	return unit_done();
}
