/*
 * test_detect_wholeeq.c: an uncased equality (fcond.wholeeq) is answered
 * by the scan's hit of its literal in a string value of its fields as
 * long as the literal, without comparing the values: whether the value
 * was looked up whole, scanned inside for its field, or for keywords.
 * Exact expectations: which conditions get the flag (not numbers, |cased,
 * |all, keywords); and on many generated events (several values of a
 * field, two event fields for one Sigma field, numbers, nulls, values
 * that hold a literal at both ends or inside, with and without a message
 * while keywords look for the same literal) the rules that match are
 * those that match without the shortcut, and each condition answers as
 * the general evaluator does (a rule ANDing such conditions is answered
 * from the hits alone, detect_weq_and). And the keywords'
 * scan finds its anchor's pair up to the last position of a message.
 */
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
	R("neq", "    sel:\n        event.action: ssh_login\n"
	    "        user.name|neq: root\n    condition: sel\n")
	R("two", "    sel:\n        Who: alice\n    condition: sel\n")
	R("num", "    sel:\n        user.id: 0\n    condition: sel\n")
	R("cased", "    sel:\n        event.action|cased: SSH_Login\n"
	    "    condition: sel\n")
	R("part", "    sel:\n        agent|contains: root\n"
	    "        agent: rootkit\n    condition: sel\n")
	R("all", "    sel:\n        group.name|all: [wheel]\n    condition: sel\n")
	R("kw", "    keywords:\n        - root\n    condition: keywords\n")
	R("msg", "    sel:\n        message: root\n    condition: sel\n")
	R("or", "    a:\n        event.action: ssh_login\n"
	    "    b:\n        user.target.name: ROOT\n    condition: a or b\n")
	R("qnum", "    sel:\n        user.name: '100'\n    condition: sel\n")
	R("three", "    sel:\n        event.action: ssh_login\n"
	    "        user.name: root\n        group.name: wheel\n"
	    "    condition: sel\n");

static const char maps[] =
	"title: m\nfieldmappings:\n  - fields:\n      Who: [user.name, user.target.name]\n";

static uint32_t fid(const char *name)
{
	return field_intern(name, strlen(name));
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
static const char *run(char *out, size_t cap)
{
	const struct rule *const *m;
	size_t n = detect_event(rs, ctx, ev, &m), o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 16 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? " " : "",
		    m[i]->id);
	return out;
}

/* The wholeeq flags of a rule's field conditions, in selection order. */
static void flags(const struct snode *sn, char *out, size_t *o)
{
	if (sn->kind == SN_FC) {
		out[(*o)++] = sn->fc->wholeeq ? 'w' : '-';
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

/* Each field condition: its node's evaluation (with the shortcut) against
 * the general evaluator, after the scan of the current event. */
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
	char out[256];
	int bad = 0;

	run(out, sizeof(out)); /* the scan of this event */
	for (size_t r = 0; r < detect_rule_count(rs); r++) {
		const struct rule_impl *ri = detect_rule(rs, r)->impl;

		for (uint32_t s = 0; s < ri->nsels; s++)
			bad += disagree_sn(ri->sels[s].root);
	}
	return bad;
}

static struct ruleset *load_set(const char *r, const char *m, int *loaded)
{
	char path[] = "/tmp/vigil-wholeeq-XXXXXX";
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
	if (loaded != 12)
		abort();
	ctx = detect_ctx_new(rs);
	ev = vg_event_new();
}

TEST(which_conditions_are_wholeeq)
{
	CHECK_STR(rule_flags("eq"), "ww");
	CHECK_STR(rule_flags("neq"), "ww");
	CHECK_STR(rule_flags("two"), "w");
	CHECK_STR(rule_flags("num"), "-");   /* a number */
	CHECK_STR(rule_flags("cased"), "-");
	CHECK_STR(rule_flags("part"), "-w"); /* contains: not an equality */
	CHECK_STR(rule_flags("all"), "-");
	CHECK_STR(rule_flags("kw"), "-");
	CHECK_STR(rule_flags("msg"), "w");   /* scanned for keywords too */
	CHECK_STR(rule_flags("or"), "ww");
	CHECK_STR(rule_flags("qnum"), "w");  /* quoted: text, not a number */
	/* rules that are one selection ANDing them (not negated) are
	 * answered by detect_weq_and before their condition */
	CHECK_INT(rs->reval[rule_by_id("eq")->impl->index].nweq, 2);
	CHECK_INT(rs->reval[rule_by_id("two")->impl->index].nweq, 1);
	CHECK_INT(rs->reval[rule_by_id("qnum")->impl->index].nweq, 1);
	CHECK_INT(rs->reval[rule_by_id("three")->impl->index].nweq, 3);
	CHECK_INT(rs->reval[rule_by_id("neq")->impl->index].nweq, 0);
	CHECK_INT(rs->reval[rule_by_id("or")->impl->index].nweq, 0);
	CHECK_INT(rs->reval[rule_by_id("part")->impl->index].nweq, 0);
}

TEST(wholeeq_matches_as_written)
{
	char a[256];

	vg_event_reset(ev);
	vg_event_add(ev, fid("event.action"), "SSH_Login", 9);
	vg_event_add(ev, fid("user.name"), "nobody", 6);
	vg_event_add(ev, fid("user.name"), "ADMIN", 5);
	CHECK_STR(run(a, sizeof(a)), "eq neq cased or");
	CHECK_INT(disagree(), 0);
	/* root at both ends of one value is not root */
	vg_event_reset(ev);
	vg_event_add(ev, fid("event.action"), "ssh_login", 9);
	vg_event_add(ev, fid("user.name"), "rootroot", 8);
	vg_event_add(ev, fid("message"), "login", 5);
	CHECK_STR(run(a, sizeof(a)), "neq or");
	CHECK_INT(disagree(), 0);
	/* the same without a message: keywords read every string */
	vg_event_reset(ev);
	vg_event_add(ev, fid("user.name"), "root-x-root", 11);
	vg_event_add(ev, fid("event.action"), "ssh_login", 9);
	CHECK_STR(run(a, sizeof(a)), "neq kw or");
	CHECK_INT(disagree(), 0);
	/* found in another field than the condition's */
	vg_event_reset(ev);
	vg_event_add(ev, fid("user.target.name"), "root", 4);
	vg_event_add(ev, fid("event.action"), "ssh_login", 9);
	vg_event_add(ev, fid("message"), "login", 5);
	CHECK_STR(run(a, sizeof(a)), "neq or");
	CHECK_INT(disagree(), 0);
	/* a number's text */
	vg_event_reset(ev);
	vg_event_add_num(ev, fid("user.name"), "12", 2, 12);
	vg_event_add(ev, fid("user.target.name"), "Alice", 5);
	vg_event_add(ev, fid("message"), "ROOT", 4);
	/* the message is msg's value and kw's keyword: found once for
	 * each */
	CHECK_STR(run(a, sizeof(a)), "two kw msg");
	CHECK_INT(disagree(), 0);
}

/* Values the scan reads inside (agent: contains) or for keywords (the
 * message): a literal found there answers the equality only when it is
 * the whole value. */
TEST(wholeeq_in_scanned_values)
{
	char a[256];

	vg_event_reset(ev);
	vg_event_add(ev, fid("message"), "-", 1);
	vg_event_add(ev, fid("agent"), "RootKit", 7);
	CHECK_STR(run(a, sizeof(a)), "part");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	vg_event_add(ev, fid("message"), "-", 1);
	vg_event_add(ev, fid("agent"), "rootkit2", 8);
	CHECK_STR(run(a, sizeof(a)), "");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	vg_event_add(ev, fid("agent"), "x rootkit", 9);
	vg_event_add(ev, fid("agent"), "rootkit", 7);
	CHECK_STR(run(a, sizeof(a)), "part kw"); /* no message: kw reads agent */
	CHECK_INT(disagree(), 0);
	/* root at the start and again at the end of a message */
	vg_event_reset(ev);
	vg_event_add(ev, fid("message"), "root-root", 9);
	CHECK_STR(run(a, sizeof(a)), "kw");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	vg_event_add(ev, fid("message"), "rOOt", 4);
	CHECK(strstr(run(a, sizeof(a)), "msg") != NULL);
	CHECK_INT(disagree(), 0);
}

/* A number's canonical text is scanned too: '100' found there is no
 * string value "100". */
TEST(wholeeq_not_from_a_numbers_canonical_text)
{
	char a[256];

	vg_event_reset(ev);
	vg_event_add(ev, fid("message"), "-", 1);
	vg_event_add_num(ev, fid("user.name"), "1e2", 3, 100);
	CHECK_STR(run(a, sizeof(a)), "");
	CHECK_INT(disagree(), 0);
	vg_event_reset(ev);
	vg_event_add(ev, fid("message"), "-", 1);
	vg_event_add_num(ev, fid("user.name"), "100", 3, 100);
	CHECK_STR(run(a, sizeof(a)), "qnum");
	CHECK_INT(disagree(), 0);
}

/* A small deterministic generator (xorshift). */
static uint32_t rnd_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

TEST(shortcut_agrees_with_values_on_generated_events)
{
	static const char *const fields[] = { "event.action", "user.name",
	    "user.target.name", "agent", "message", "user.id", "group.name",
	    "other" };
	static const char *const vals[] = { "root", "ROOT", "Root", "rootroot",
	    "root root", "xroot", "rootx", "admin", "ADMIN ", "ssh_login",
	    "SSH_LOGIN", "SSH_Login", "ssh_login2", "alice", "Alice", "",
	    "wheel", "rootkit", "ROOTKIT", "xrootkit", "rootkit root", "0", "00",
	    "12", "ro", "a root b", "100", "1e2", "100.0" };
	char with[256], without[256];
	int diff = 0, bad = 0, matched = 0;

	for (int i = 0; i < 20000; i++) {
		uint32_t n = 1 + rnd(6);

		vg_event_reset(ev);
		for (uint32_t k = 0; k < n; k++) {
			const char *f = fields[rnd(VG_ARRAY_LEN(fields))];
			const char *v = vals[rnd(VG_ARRAY_LEN(vals))];
			uint32_t how = rnd(10);

			if (how == 0)
				vg_event_add_named(ev, f, strlen(f), "null", 4,
				    V_NULL, 0);
			else if (how == 1 && (v[0] >= '0' && v[0] <= '9'))
				vg_event_add_num(ev, fid(f), v, strlen(v),
				    strtod(v, NULL));
			else
				vg_event_add(ev, fid(f), v, strlen(v));
		}
		detect_match_nowhole = 1;
		run(without, sizeof(without));
		detect_match_nowhole = 0;
		run(with, sizeof(with));
		diff += strcmp(with, without) != 0;
		matched += with[0] != '\0';
		bad += disagree();
	}
	CHECK_INT(diff, 0);
	CHECK_INT(bad, 0);
	CHECK(matched > 1000); /* the events do match rules */
}

/*
 * The keywords' scan looks for its anchors' pairs in the unfolded message
 * first (detect_scan.c, few_first_avx2): 'root' is its own anchor, so a
 * message that ends with it has a pair at its last 4 bytes, the last
 * position scanned, in a short message (a copy) or a long one (its last
 * 33 bytes again). Messages of 0..100 bytes of 'r', 'o', 't' in both
 * cases, the control bytes 0x12, 0x0f, 0x14 ('r', 'o', 't' less 0x60),
 * ' ', '/' and '.', half of them ending with 'root' or 'rOOt': kw matches
 * exactly when 'root' is there in any case (a message that is 'root'
 * itself is left out: the equality on message finds it whole first).
 */
TEST(keyword_pairs_up_to_the_last_position)
{
	static const char alpha[] = "rotROT /\x12\x0f\x14RroOtT.";
	char out[256];
	uint32_t st = 88172645u;
	int bad = 0, found = 0;

	for (int pass = 0; pass < 2; pass++) {
		detect_scan_noavx2 = pass;
		for (int i = 0; i < 8000; i++) {
			char msg[128];
			size_t len;
			int want = 0;

			st ^= st << 13;
			st ^= st >> 17;
			st ^= st << 5;
			len = st % 101;
			for (size_t k = 0; k < len; k++) {
				st ^= st << 13;
				st ^= st >> 17;
				st ^= st << 5;
				msg[k] = alpha[st % (sizeof(alpha) - 1)];
			}
			if (len >= 4 && st % 2 == 0)
				memcpy(msg + len - 4, (st >> 8) % 2 ? "rOOt" : "root", 4);
			for (size_t k = 0; k + 4 <= len && !want; k++)
				want = (msg[k] | 0x20) == 'r' && (msg[k + 1] | 0x20) == 'o' &&
				    (msg[k + 2] | 0x20) == 'o' && (msg[k + 3] | 0x20) == 't';
			if (len == 4 && want)
				continue;
			vg_event_reset(ev);
			vg_event_add(ev, fid("message"), msg, len);
			found += want;
			run(out, sizeof(out));
			bad += strcmp(out, want ? "kw" : "") != 0;
		}
	}
	detect_scan_noavx2 = 0;
	CHECK_INT(bad, 0);
	CHECK(found > 2000);
}

int main(void)
{
	setup();
	RUN(which_conditions_are_wholeeq);
	RUN(wholeeq_matches_as_written);
	RUN(wholeeq_in_scanned_values);
	RUN(wholeeq_not_from_a_numbers_canonical_text);
	RUN(shortcut_agrees_with_values_on_generated_events);
	RUN(keyword_pairs_up_to_the_last_position);
	detect_ctx_free(ctx);
	vg_event_free(ev);
	detect_free(rs);
	return unit_done();
}
