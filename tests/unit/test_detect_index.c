/*
 * test_detect_index.c: the literal prefilter's per-event structures, with
 * exact expectations on which rules become candidates: bitmaps keyed by
 * the class of the field scanned (a literal one field looks for does not
 * vouch for a rule in another), the few-keywords scan (the anchors' pairs
 * found first in the unfolded value), the value cache (a repeated value
 * replays what its first scan found, and a field whose
 * values never repeat stops looking), field conditions ruled out whole
 * when none of their literals is in the event, and postings of equality,
 * startswith and endswith that need their literal at the value's ends,
 * fields of equalities only looked up whole instead of scanned,
 * and rules the prefilter cannot index skipped when the event lacks every
 * field they need.
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
	R("cmd-mimikatz", "    sel:\n        CommandLine|contains: mimikatz\n"
	    "    condition: sel\n")
	R("img-evilbin", "    sel:\n        Image|endswith: '\\evilbin.exe'\n"
	    "    condition: sel\n")
	R("kw-kernel", "    keywords:\n        - 'segfault at'\n"
	    "        - 'general protection fault'\n    condition: keywords\n")
	R("cmd-lsadump", "    sel:\n        CommandLine|contains: 'lsadump::sam'\n"
	    "    condition: sel\n")
	R("cmd-regex", "    sel:\n        CommandLine|re: 'a.b'\n    condition: sel\n")
	R("img-filtered", "    sel:\n        Image|endswith: '.exe'\n"
	    "    filter:\n        CommandLine|contains:\n            - mimikatz\n"
	    "            - 'lsadump::sam'\n    condition: sel and not filter\n")
	R("eq-security", "    sel:\n        Provider_Name: Security\n    condition: sel\n")
	R("pre-netuser", "    sel:\n        CommandLine|startswith: 'net user'\n"
	    "    condition: sel\n")
	R("eq-4688", "    sel:\n        EventID: 4688\n    condition: sel\n");

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

/* The first field condition of a selection tree. */
static const struct fcond *first_fc(const struct snode *sn)
{
	const struct fcond *fc = NULL;

	if (sn->kind == SN_FC)
		return sn->fc;
	for (uint32_t i = 0; i < sn->n && fc == NULL; i++)
		fc = first_fc(sn->kids[i]);
	return fc;
}

/* Did the prefilter name rule `id` a candidate for the last event? */
static int cand(const char *id)
{
	const struct rule *r = rule_by_id(id);

	for (size_t i = 0; r != NULL && i < ctx->ncands; i++) {
		if (ctx->cands[i] == r->impl->index)
			return 1;
	}
	return 0;
}

/* Run the event; the ids of the rules that matched, space-separated. */
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
	rs = detect_load_buffer("t.yml", rules, strlen(rules), NULL, &d, NULL);
	fclose(null);
	ctx = detect_ctx_new(rs);
	ev = vg_event_new();
}

TEST(rules_behind_the_prefilter)
{
	CHECK_INT(detect_rule_count(rs), 9);
	/* the regex has no literal of two bytes: evaluated for every event */
	CHECK(rule_by_id("cmd-regex") != NULL);
	CHECK_INT(rule_by_id("cmd-regex")->impl->indexed, 0);
	CHECK_INT(rule_by_id("cmd-mimikatz")->impl->indexed, 1);
	CHECK_INT(rule_by_id("kw-kernel")->impl->indexed, 1);
	CHECK_INT(rs->pf.nindexed, 8);
	CHECK_INT(rs->nagroups, 1);
}

TEST(a_literal_vouches_only_in_its_field)
{
	vg_event_reset(ev);
	add("CommandLine", "run mimikatz now");
	add("Image", "C:\\x\\evilbin.exe");
	CHECK_STR(run(), "cmd-mimikatz img-evilbin");
	CHECK(cand("cmd-mimikatz"));
	CHECK(cand("img-evilbin"));
	CHECK(!cand("cmd-lsadump"));
	CHECK(!cand("kw-kernel"));

	/* the image rule's literal in the command line: its class (the
	 * command line's) has no bit for it, so no rule is a candidate */
	vg_event_reset(ev);
	add("CommandLine", "C:\\x\\evilbin.exe -q");
	CHECK_STR(run(), "");
	CHECK(!cand("img-evilbin"));
	CHECK(!cand("cmd-mimikatz"));
	CHECK_INT(ctx->ncands, 0);
	/* the two fields look for different literals: different classes,
	 * each with regions of its own, sized to its literals (one each:
	 * the smallest region) */
	{
		const struct pf_class *c = &rs->pf.cls[fid("CommandLine")];
		const struct pf_class *i = &rs->pf.cls[fid("Image")];

		CHECK(c->mix != i->mix);
		CHECK(c->goff != i->goff);
		CHECK(c->goff != 0 && i->goff != 0); /* 0: the empty region */
		CHECK_INT(c->gshift, 32 - PF_REGION_MIN_LOG);
		CHECK_INT(i->gshift, 32 - PF_REGION_MIN_LOG);
		/* and the keywords theirs */
		CHECK(rs->pf.kwcls.goff != 0 && rs->pf.kwcls.goff != c->goff &&
		    rs->pf.kwcls.goff != i->goff);
	}
}

TEST(few_keywords_are_scanned_by_their_first_bytes)
{
	/* two keywords: their anchors start with at most two bytes */
	CHECK(rs->pf.kwfirst->n >= 1 && rs->pf.kwfirst->n <= 2);
	vg_event_reset(ev);
	add("message", "app[17]: segfault at 0 ip 00007f sp 00007ffd error 4");
	CHECK_STR(run(), "kw-kernel");
	CHECK(cand("kw-kernel"));

	vg_event_reset(ev);
	add("message", "general protection of the realm, segfault later");
	CHECK_STR(run(), "");
	CHECK(!cand("kw-kernel"));

	/* at the very end of the value, and upper case */
	vg_event_reset(ev);
	add("message", "kernel: GENERAL PROTECTION FAULT");
	CHECK_STR(run(), "kw-kernel");
	CHECK(cand("kw-kernel"));

	/* 16 (SSE2) or 32 (AVX2, where the CPU has it) positions a step: a
	 * keyword at every offset of two steps, across their ends, in upper
	 * and lower case, with the bytes around it that fold ('@' and '['
	 * are next to 'A' and 'Z'), the value ending right after it or up to
	 * 36 bytes later; each pass with its own filler bytes, so that no
	 * value is found in the value cache instead of scanned */
	for (int pass = 0; pass < 2; pass++) {
		detect_scan_noavx2 = pass;
		for (int off = 0; off < 80; off++) {
			char msg[160];

			memset(msg, pass ? (off % 2 ? ']' : '`') : (off % 2 ? '@' : '['),
			    sizeof(msg));
			memcpy(msg + off, off % 3 ? "SegFault AT" : "segfault at", 11);
			msg[off + 11 + off % 37] = '\0';
			vg_event_reset(ev);
			add("message", msg);
			CHECK_STR(run(), "kw-kernel");
			/* one byte short */
			msg[off + 10] = '\0';
			vg_event_reset(ev);
			add("message", msg);
			CHECK_STR(run(), "");
		}
	}
	detect_scan_noavx2 = 0;
}

/* Does msg (len bytes) hold one of kw-kernel's keywords, any case? */
static int holds_keyword(const char *msg, size_t len)
{
	static const char *const kws[] = { "segfault at", "general protection fault" };

	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(kws[k]);

		for (size_t i = 0; i + n <= len; i++) {
			size_t j = 0;

			while (j < n && (msg[i + j] >= 'A' && msg[i + j] <= 'Z' ?
			    msg[i + j] + 32 : msg[i + j]) == kws[k][j])
				j++;
			if (j == n)
				return 1;
		}
	}
	return 0;
}

/*
 * The few-keywords scan first looks for the anchors' pairs in the
 * unfolded value (each byte | 0x20), and folds and scans only from the
 * first block that has one: on generated messages of 0..120 bytes made
 * of the keywords' bytes in both cases, the bytes that differ from them
 * in bit 5 only ('@' and '`', NUL and ' ', control bytes and digits) and
 * others, with a keyword (or a keyword with one byte swapped for its bit-5
 * twin) at any offset and often at the end, the rule matches exactly when
 * a keyword is there,
 * with AVX2 (where the CPU has it) and without.
 */
TEST(the_pairs_are_found_in_the_unfolded_value)
{
	static const char alpha[] = "segfaultSEGFAULTgeneralprotectionGENERAL @`"
	    "\x00\x01\x05\x07\x0e\x0f\x13\x14\x15[{]}^~_\x7f" "0123:.=-/";
	static const char *const kws[] = { "segfault at", "general protection fault",
	    "SEGFAULT AT", "General Protection Fault" };
	uint32_t st = 2463534242u;
	int bad = 0, found = 0;

	for (int pass = 0; pass < 2; pass++) {
		detect_scan_noavx2 = pass;
		for (int i = 0; i < 6000; i++) {
			char msg[160];
			size_t len;

			st ^= st << 13;
			st ^= st >> 17;
			st ^= st << 5;
			len = st % 121;
			for (size_t k = 0; k < len; k++) {
				st ^= st << 13;
				st ^= st >> 17;
				st ^= st << 5;
				msg[k] = alpha[st % (sizeof(alpha) - 1)];
			}
			if (st % 3 == 0) {
				const char *kw = kws[(st >> 4) % 4];
				size_t n = strlen(kw);

				if (n <= len) {
					size_t at = (st >> 12) % 4 == 0 ? len - n :
					    (st >> 8) % (len - n + 1); /* the end, often */

					memcpy(msg + at, kw, n);
					if ((st >> 20) % 4 == 0)
						msg[at + (st >> 24) % n] ^= 0x20;
				}
			}
			vg_event_reset(ev);
			vg_event_add(ev, fid("message"), msg, len);
			found += holds_keyword(msg, len);
			bad += strcmp(run(), holds_keyword(msg, len) ? "kw-kernel" : "") != 0;
		}
	}
	detect_scan_noavx2 = 0;
	CHECK_INT(bad, 0);
	CHECK(found > 1000);
}

TEST(a_repeated_value_replays_its_literals)
{
	uint32_t cl = fid("CommandLine");
	struct vc_stat *vs = &ctx->vstat[cl];
	uint32_t looks = vs->looks, hits = vs->hits;

	vg_event_reset(ev);
	add("CommandLine", "mimikatz lsadump::sam exit");
	CHECK_STR(run(), "cmd-mimikatz cmd-lsadump");
	CHECK_INT(vs->looks, looks + 1);
	CHECK_INT(vs->hits, hits);
	/* the same bytes again: found in the cache, same candidates */
	vg_event_reset(ev);
	add("CommandLine", "mimikatz lsadump::sam exit");
	CHECK_STR(run(), "cmd-mimikatz cmd-lsadump");
	CHECK(cand("cmd-mimikatz"));
	CHECK(cand("cmd-lsadump"));
	CHECK_INT(vs->looks, looks + 2);
	CHECK_INT(vs->hits, hits + 1);
	/* one byte differs: scanned again, and lsadump is not there */
	vg_event_reset(ev);
	add("CommandLine", "mimikatz lsadump::saM exit");
	CHECK_STR(run(), "cmd-mimikatz cmd-lsadump");
	vg_event_reset(ev);
	add("CommandLine", "mimikatz lsadump::sax exit");
	CHECK_STR(run(), "cmd-mimikatz");
	CHECK(!cand("cmd-lsadump"));
	CHECK_INT(vs->hits, hits + 1);
	/* a short value repeats as well (an event.action): looked up */
	vg_event_reset(ev);
	add("CommandLine", "mimikatz");
	CHECK_STR(run(), "cmd-mimikatz");
	CHECK_INT(vs->looks, looks + 5);
	vg_event_reset(ev);
	add("CommandLine", "MimiKatz");
	CHECK_STR(run(), "cmd-mimikatz");
	CHECK_INT(vs->looks, looks + 6);
	vg_event_reset(ev);
	add("CommandLine", "mimikatz");
	CHECK_STR(run(), "cmd-mimikatz");
	CHECK(cand("cmd-mimikatz"));
	CHECK_INT(vs->looks, looks + 7);
	CHECK_INT(vs->hits, hits + 2);
	/* below VC_MIN bytes: scanned without looking */
	vg_event_reset(ev);
	add("CommandLine", "sam");
	CHECK_STR(run(), "");
	CHECK_INT(vs->looks, looks + 7);
}

TEST(values_that_never_repeat_stop_the_lookups)
{
	uint32_t cl = fid("CommandLine");
	struct vc_stat *vs = &ctx->vstat[cl];
	char buf[64];

	for (int i = 0; i < 1100; i++) {
		vg_event_reset(ev);
		snprintf(buf, sizeof(buf), "tool.exe --run %06d", i);
		add("CommandLine", buf);
		run();
	}
	/* 1024 lookups with no hit: the field is scanned without looking */
	CHECK(vs->skip > 0);
	vg_event_reset(ev);
	add("CommandLine", "run mimikatz again and again");
	CHECK_STR(run(), "cmd-mimikatz");
}

TEST(conditions_without_their_literals_are_false_whole)
{
	const struct rule *r = rule_by_id("img-filtered");
	const struct fcond *filter = first_fc(r->impl->sels[1].root);

	/* every literal of the filter is one the scan looks for (other
	 * rules need them): tagged; a regex without one is not */
	CHECK_STR(r->impl->sels[1].name, "filter");
	CHECK_INT(filter->tagged, 1);
	CHECK_INT(first_fc(r->impl->sels[0].root)->tagged, 1);
	CHECK_INT(first_fc(rule_by_id("cmd-regex")->impl->sels[0].root)->tagged, 0);
	vg_event_reset(ev);
	add("Image", "C:\\x\\setup.exe");
	add("CommandLine", "setup.exe /quiet");
	CHECK_STR(run(), "img-filtered");
	vg_event_reset(ev);
	add("Image", "C:\\x\\setup.exe");
	add("CommandLine", "setup.exe /LsaDump::SAM");
	CHECK_STR(run(), "cmd-lsadump");
}

TEST(equality_and_ends_need_their_literal_there)
{
	/* inside a longer value: no candidate for the equality */
	vg_event_reset(ev);
	add("Provider_Name", "Microsoft-Windows-Security-Auditing");
	CHECK_STR(run(), "");
	CHECK(!cand("eq-security"));
	vg_event_reset(ev);
	add("Provider_Name", "SECURITY");
	CHECK_STR(run(), "eq-security");
	CHECK(cand("eq-security"));

	/* startswith: found later in the value, then at its start */
	vg_event_reset(ev);
	add("CommandLine", "cmd.exe /c net user bob /add");
	CHECK_STR(run(), "");
	CHECK(!cand("pre-netuser"));
	vg_event_reset(ev);
	add("CommandLine", "net user bob /add");
	CHECK_STR(run(), "pre-netuser");
	CHECK(cand("pre-netuser"));
	/* the same literal twice in one value, the second time at the
	 * start of nothing: still only where the first one is */
	vg_event_reset(ev);
	add("CommandLine", "net user x & net user");
	CHECK_STR(run(), "pre-netuser");
	vg_event_reset(ev);
	add("CommandLine", "x net user & net user");
	CHECK_STR(run(), "");
	CHECK(!cand("pre-netuser"));
	/* a value's second occurrence is at its start in another value of
	 * the same event (two command lines) */
	vg_event_reset(ev);
	add("CommandLine", "x net user");
	add("CommandLine", "net user y");
	CHECK_STR(run(), "pre-netuser");

	/* a number: its canonical text is a value of its own */
	vg_event_reset(ev);
	vg_event_add_num(ev, fid("EventID"), "4688.0", 6, 4688.0);
	CHECK_STR(run(), "eq-4688");
	CHECK(cand("eq-4688"));
	vg_event_reset(ev);
	vg_event_add_num(ev, fid("EventID"), "14688", 5, 14688.0);
	CHECK_STR(run(), "");
	CHECK(!cand("eq-4688"));
	vg_event_reset(ev);
	add("EventID", "4688");
	CHECK_STR(run(), "eq-4688");
}

TEST(unindexed_rules_need_one_of_their_fields)
{
	const struct rule *r = rule_by_id("cmd-regex");
	uint32_t g = r->impl->group;

	CHECK_INT(r->impl->nneed, 1);
	CHECK(r->impl->need != NULL && r->impl->need[0] == fid("CommandLine"));
	/* its group has no other rule evaluated for every event */
	CHECK_INT(rs->groups[g].nneed, 1);
	CHECK(rs->groups[g].need != NULL && rs->groups[g].need[0] == fid("CommandLine"));
	/* no command line: neither the rule nor its logsource is looked at */
	vg_event_reset(ev);
	add("Provider_Name", "Service Control Manager");
	CHECK_STR(run(), "");
	CHECK_INT(ctx->ncands, 0);
	CHECK(ctx->gstate_ep[g] != ctx->epoch); /* not answered this event */
	/* with one: evaluated */
	vg_event_reset(ev);
	add("CommandLine", "a-b");
	CHECK_STR(run(), "cmd-regex");
	CHECK_INT(ctx->gstate_ep[g], ctx->epoch);
	CHECK_INT(ctx->gstate[g], 1);
	vg_event_reset(ev);
	add("CommandLine", "ab");
	CHECK_STR(run(), "");
	CHECK_INT(ctx->gstate_ep[g], ctx->epoch);
	CHECK_INT(ctx->gstate[g], 1);
}

TEST(a_replay_keeps_where_its_literals_were)
{
	uint32_t cl = fid("CommandLine");
	struct vc_stat *vs = &ctx->vstat[cl];
	uint32_t hits;

	/* an earlier test made the field stop looking: look again */
	memset(vs, 0, sizeof(*vs));
	/* startswith: the literal inside the value, scanned then replayed
	 * (the record keeps only the postings that take it there) */
	for (int i = 0; i < 2; i++) {
		hits = vs->hits;
		vg_event_reset(ev);
		add("CommandLine", "cmd.exe /c net user eve /add");
		CHECK_STR(run(), "");
		CHECK(!cand("pre-netuser"));
		CHECK_INT(vs->hits, hits + (uint32_t)i);
	}
	/* at the start: a candidate both times */
	for (int i = 0; i < 2; i++) {
		hits = vs->hits;
		vg_event_reset(ev);
		add("CommandLine", "net user eve /add");
		CHECK_STR(run(), "pre-netuser");
		CHECK(cand("pre-netuser"));
		CHECK_INT(vs->hits, hits + (uint32_t)i);
	}
	/* a replayed value and a scanned one in the same event: the
	 * literal's places merge as when both are scanned */
	vg_event_reset(ev);
	add("CommandLine", "net user eve /add");
	add("CommandLine", "mimikatz");
	CHECK_STR(run(), "cmd-mimikatz pre-netuser");
	/* a long number and its canonical text are one entry: EventID
	 * looks for whole values, so it is looked up, never cached */
	for (int i = 0; i < 2; i++) {
		vg_event_reset(ev);
		vg_event_add_num(ev, fid("EventID"), "4688.000000000", 14, 4688.0);
		CHECK_STR(run(), "eq-4688");
		CHECK(cand("eq-4688"));
	}
	CHECK_INT(ctx->vstat[fid("EventID")].looks, 0);
	CHECK_INT(ctx->vstat[fid("EventID")].hits, 0);
}

TEST(integers_have_one_canonical_text)
{
	char t[32];

	CHECK_INT(detect_int_text(4688.0, t), 1);
	CHECK_STR(t, "4688");
	CHECK_INT(detect_int_text(0.0, t), 1);
	CHECK_STR(t, "0");
	CHECK_INT(detect_int_text(-0.0, t), 1);
	CHECK_STR(t, "0");
	CHECK_INT(detect_int_text(-42.0, t), 1);
	CHECK_STR(t, "-42");
	CHECK_INT(detect_int_text(999999999999999.0, t), 1);
	CHECK_STR(t, "999999999999999");
	CHECK_INT(detect_int_text(-999999999999999.0, t), 1);
	CHECK_STR(t, "-999999999999999");
	CHECK_INT(detect_int_text(1e15, t), 0);
	CHECK_INT(detect_int_text(2.5, t), 0);
	CHECK_INT(detect_int_text(0.0 / 0.0, t), 0);
}

/* A number whose text is its canonical text is looked up once; any other
 * text of the same number is found through the canonical text (and the
 * rule compares the number: text "4688" of 4689 is not 4688). */
TEST(numbers_are_found_by_their_text_or_canonical_text)
{
	static const struct {
		const char *text;
		double num;
		int match;
	} v[] = {
		{ "4688", 4688, 1 }, { "04688", 4688, 1 }, { "4688.0", 4688, 1 },
		{ "+4688", 4688, 1 }, { "4.688e3", 4688, 1 }, { "4689", 4689, 0 },
		{ "-4688", -4688, 0 }, { "46880", 46880, 0 }, { "0", 0, 0 },
		{ "-0", -0.0, 0 }, { "4688", 4689, 0 }, { "4689", 4688, 1 },
	};
	int bad = 0;

	for (size_t i = 0; i < VG_ARRAY_LEN(v); i++) {
		vg_event_reset(ev);
		add("message", "x");
		vg_event_add_num(ev, fid("EventID"), v[i].text, strlen(v[i].text),
		    v[i].num);
		bad += strcmp(run(), v[i].match ? "eq-4688" : "") != 0;
	}
	CHECK_INT(bad, 0);
}

TEST(fields_of_whole_values_are_looked_up)
{
	uint32_t pn = fid("Provider_Name");

	/* equality only: looked up whole, its longest literal bounds it */
	CHECK_INT(rs->pf.scan[pn], PF_LONG);
	CHECK_INT(rs->pf.xlen[pn], 8);
	CHECK_INT(rs->pf.xlen[fid("EventID")], 4);
	/* a contains, a startswith, an endswith: scanned */
	CHECK_INT(rs->pf.scan[fid("CommandLine")], PF_LONG | PF_PART);
	CHECK_INT(rs->pf.scan[fid("Image")], PF_LONG | PF_PART);
	vg_event_reset(ev);
	add("Provider_Name", "SECURITY");
	CHECK_STR(run(), "eq-security");
	CHECK(cand("eq-security"));
	CHECK_INT(ctx->lseen[rule_by_id("eq-security")->impl->sels[0].root->fc
	    ->pats[0].lit - 1].epoch, ctx->epoch);
	/* the literal inside a longer value, or a part of it: nothing */
	vg_event_reset(ev);
	add("Provider_Name", "Securit");
	add("Provider_Name", "Security-Auditing");
	add("Provider_Name", "xSecurity");
	CHECK_STR(run(), "");
	CHECK(!cand("eq-security"));
	CHECK(ctx->lseen[rule_by_id("eq-security")->impl->sels[0].root->fc
	    ->pats[0].lit - 1].epoch != ctx->epoch);
	/* another field's literal in this one vouches for nothing */
	vg_event_reset(ev);
	add("Provider_Name", "mimikatz");
	add("EventID", "security");
	CHECK_STR(run(), "");
	CHECK_INT(ctx->ncands, 0);
	/* a string value of a numeric equality, and a long value */
	vg_event_reset(ev);
	add("EventID", "4688");
	add("Provider_Name", "security security security security security "
	    "security security security security security security");
	CHECK_STR(run(), "eq-4688");
	CHECK_INT(ctx->ncands, 1);
}

TEST(wide_fields_are_scanned_by_8_grams)
{
	/* the command line's literals all have 8 bytes or more (mimikatz,
	 * lsadump::sam, net user); the image's do not (.exe) */
	CHECK_INT(rs->pf.cls[fid("CommandLine")].wide, 1);
	CHECK_INT(rs->pf.cls[fid("Image")].wide, 0);
	CHECK_INT(rs->pf.kwcls.wide, 0);
	/* the literal at the very end: its 8 bytes are the value's last */
	vg_event_reset(ev);
	add("CommandLine", "x MimiKatz");
	CHECK_STR(run(), "cmd-mimikatz");
	/* the whole value, and one byte short */
	vg_event_reset(ev);
	add("CommandLine", "mimikatz");
	CHECK_STR(run(), "cmd-mimikatz");
	vg_event_reset(ev);
	add("CommandLine", "mimikat");
	CHECK_STR(run(), "");
	CHECK_INT(ctx->ncands, 0);
	/* one differing byte in the second 4 bytes of an anchor */
	vg_event_reset(ev);
	add("CommandLine", "mimikatx lsadump::sax");
	CHECK_STR(run(), "");
	CHECK_INT(ctx->ncands, 0);
}

TEST(rules_of_no_field_need_their_logsource_fields)
{
	static const char nf_rules[] =
	    "title: maps\nlogsources:\n"
	    "    - product: win\n      conditions:\n"
	    "          - Channel|exists: true\n          - winlog.channel|exists: true\n"
	    "---\n"
	    "title: nf\nid: nf\nlogsource:\n    product: win\n"
	    "detection:\n    filter:\n        Image|contains: '\\\\'\n"
	    "    condition: not filter\nlevel: low\n";
	struct vg_diag d;
	FILE *null = fopen("/dev/null", "w");
	struct ruleset *rr;
	struct detect_ctx *c;
	const struct rule *const *m;
	const struct rule *r;

	vg_diag_init(&d, null);
	rr = detect_load_buffer("n.yml", nf_rules, strlen(nf_rules), NULL, &d, NULL);
	fclose(null);
	CHECK(rr != NULL);
	CHECK_INT(detect_rule_count(rr), 1);
	r = detect_rule(rr, 0);
	/* not indexed, and no field of its own */
	CHECK_INT(r->impl->indexed, 0);
	CHECK(r->impl->need == NULL);
	/* but its logsource needs a channel */
	CHECK_INT(rr->need_any, 0);
	CHECK(fid("Channel") < rr->nneedf && rr->needf[fid("Channel")]);
	CHECK(fid("winlog.channel") < rr->nneedf && rr->needf[fid("winlog.channel")]);
	c = detect_ctx_new(rr);
	/* no channel: not looked at, its logsource unchecked */
	vg_event_reset(ev);
	add("message", "a syslog line");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	CHECK(c->gstate_ep[r->impl->group] != c->epoch);
	/* a channel and no backslash in the image: a match */
	vg_event_reset(ev);
	add("winlog.channel", "Security");
	add("Image", "tool");
	CHECK_INT(detect_event(rr, c, ev, &m), 1);
	CHECK_STR(m[0]->id, "nf");
	CHECK_INT(c->gstate[r->impl->group], 1);
	vg_event_reset(ev);
	add("Channel", "Security");
	add("Image", "C:\\tool.exe");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	detect_ctx_free(c);
	detect_free(rr);
}

/* The first pattern of rule `id` in rs. */
static const struct pat *first_pat(const struct ruleset *set, const char *id)
{
	for (size_t i = 0; i < detect_rule_count(set); i++) {
		const struct rule *r = detect_rule(set, i);

		if (strcmp(r->id, id) == 0)
			return &first_fc(r->impl->sels[0].root)->pats[0];
	}
	return NULL;
}

TEST(regexes_need_their_bytes_and_length)
{
	static const char re_rules[] =
	    R("re-tick", "    sel:\n        CommandLine|re: '\\w+`\\w+'\n"
		"    condition: sel\n")
	    R("re-hex", "    sel:\n        Hashes|re: '[a-f0-9]{64}'\n"
		"    condition: sel\n")
	    R("re-alt", "    sel:\n        CommandLine|re: 'xy|zw'\n"
		"    condition: sel\n")
	    R("re-nl", "    sel:\n        ParentCommandLine|re: 'go\\n\\n\\t'\n"
		"    condition: sel\n");
	struct vg_diag d;
	FILE *null = fopen("/dev/null", "w");
	struct ruleset *rr;
	struct detect_ctx *c;
	const struct pat *p;
	const struct rule *const *m;
	char hex[80];

	vg_diag_init(&d, null);
	rr = detect_load_buffer("r.yml", re_rules, strlen(re_rules), NULL, &d, NULL);
	fclose(null);
	CHECK(rr != NULL);
	CHECK_INT(detect_rule_count(rr), 4);
	c = detect_ctx_new(rr);
	/* \n and \t are bytes of the literal: the rule is indexed by it */
	p = first_pat(rr, "re-nl");
	CHECK_INT(p->relen, 5);
	CHECK(p->relit != NULL && memcmp(p->relit, "go\n\n\t", 5) == 0);
	CHECK_INT(detect_rule(rr, 3)->impl->indexed, 1);
	vg_event_reset(ev);
	add("ParentCommandLine", "x go\n\n\ty");
	CHECK_INT(detect_event(rr, c, ev, &m), 1);
	CHECK_STR(m[0]->id, "re-nl");
	CHECK_INT(c->ncands, 1);
	/* the literal is looked for without case, the regex has it */
	vg_event_reset(ev);
	add("ParentCommandLine", "x GO\n\n\ty");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	CHECK_INT(c->ncands, 1);
	vg_event_reset(ev);
	add("ParentCommandLine", "x go\n \n\ty");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	CHECK_INT(c->ncands, 0);
	/* the backtick, a single byte, is what every match holds */
	p = first_pat(rr, "re-tick");
	CHECK(p != NULL && p->kind == PK_RE);
	CHECK_INT(p->relen, 1);
	CHECK(p->relit != NULL && p->relit[0] == '`');
	CHECK_INT(p->remin, 3);
	/* no literal, but 64 bytes at least */
	p = first_pat(rr, "re-hex");
	CHECK_INT(p->relen, 0);
	CHECK_INT(p->remin, 64);
	/* two branches: no one literal */
	p = first_pat(rr, "re-alt");
	CHECK_INT(p->relen, 0);
	CHECK_INT(p->remin, 2);

	vg_event_reset(ev);
	add("CommandLine", "iex`x");
	CHECK_INT(detect_event(rr, c, ev, &m), 1);
	CHECK_STR(m[0]->id, "re-tick");
	vg_event_reset(ev);
	add("CommandLine", "iex'x");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	vg_event_reset(ev);
	add("CommandLine", "a zw");
	CHECK_INT(detect_event(rr, c, ev, &m), 1);
	CHECK_STR(m[0]->id, "re-alt");
	memset(hex, 'a', 63);
	hex[63] = '\0';
	vg_event_reset(ev);
	add("Hashes", hex);
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	hex[63] = 'f';
	hex[64] = '\0';
	vg_event_reset(ev);
	add("Hashes", hex);
	CHECK_INT(detect_event(rr, c, ev, &m), 1);
	CHECK_STR(m[0]->id, "re-hex");
	detect_ctx_free(c);
	detect_free(rr);
}

TEST(short_keywords_are_tested_by_their_pair)
{
	static const char kw_rules[] =
	    R("kw-short", "    keywords:\n        - 'zq'\n        - 'jx!'\n"
		"    condition: keywords\n");
	struct vg_diag d;
	FILE *null = fopen("/dev/null", "w");
	struct ruleset *rr;
	struct detect_ctx *c;
	const struct rule *const *m;
	uint16_t zq, jx;

	vg_diag_init(&d, null);
	rr = detect_load_buffer("k.yml", kw_rules, strlen(kw_rules), NULL, &d, NULL);
	fclose(null);
	CHECK(rr != NULL);
	CHECK_INT(rr->pf.nindexed, 1);
	/* the keywords' pairs are bits of their own, indexed by the bytes */
	memcpy(&zq, "zq", 2);
	memcpy(&jx, "jx", 2);
	CHECK(rr->pf.kwpairs[zq >> 6] >> (zq & 63) & 1);
	CHECK(rr->pf.kwpairs[jx >> 6] >> (jx & 63) & 1);
	CHECK_INT(rr->pf.kwscan, PF_SHORT);
	c = detect_ctx_new(rr);
	vg_event_reset(ev);
	add("message", "one ZQ two");
	CHECK_INT(detect_event(rr, c, ev, &m), 1);
	CHECK_INT(c->ncands, 1);
	vg_event_reset(ev);
	add("message", "ends with jx!");
	CHECK_INT(detect_event(rr, c, ev, &m), 1);
	vg_event_reset(ev);
	add("message", "zx qz jx? z");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	CHECK_INT(c->ncands, 0);
	detect_ctx_free(c);
	detect_free(rr);
}

TEST(an_alternative_needs_a_literal_of_each_set_of_its_branch)
{
	static const char or_rules[] =
	    R("or-two", "    sel_1:\n        Image|contains: '\\Windows\\'\n"
		"        CommandLine|contains: '\\..\\..\\'\n"
		"    sel_2:\n        CommandLine|contains: '.exe\\..\\'\n"
		"    filter:\n        CommandLine|contains: 'skip-me'\n"
		"    condition: 1 of sel_* and not filter\n");
	struct vg_diag d;
	FILE *null = fopen("/dev/null", "w");
	struct ruleset *rr;
	struct detect_ctx *c;
	const struct rule *const *m;

	vg_diag_init(&d, null);
	rr = detect_load_buffer("o.yml", or_rules, strlen(or_rules), NULL, &d, NULL);
	fclose(null);
	CHECK(rr != NULL);
	CHECK_INT(detect_rule_count(rr), 1);
	CHECK_INT(detect_rule(rr, 0)->impl->indexed, 1);
	/* the image's literal or sel_2's, and the traversal or sel_2's */
	CHECK_INT(rr->pf.rneed[0], 3);
	CHECK_INT(rr->pf.nlits, 3);
	c = detect_ctx_new(rr);
	/* a Windows image alone: not a candidate any more */
	vg_event_reset(ev);
	add("Image", "C:\\Windows\\System32\\cmd.exe");
	add("CommandLine", "cmd.exe /c dir");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	CHECK_INT(c->ncands, 0);
	/* with the traversal: candidate, and a match */
	vg_event_reset(ev);
	add("Image", "C:\\Windows\\System32\\cmd.exe");
	add("CommandLine", "cmd.exe /c ..\\..\\..\\x");
	CHECK_INT(detect_event(rr, c, ev, &m), 1);
	CHECK_INT(c->ncands, 1);
	/* the traversal without the image (nor .exe\\..\\): not either */
	vg_event_reset(ev);
	add("Image", "D:\\tools\\cmd.exe");
	add("CommandLine", "cmd.exe /c ..\\..\\..\\x");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	CHECK_INT(c->ncands, 0);
	/* sel_2's literal in the image, where it does not count: the
	 * second set has nothing, so not a candidate */
	vg_event_reset(ev);
	add("Image", "C:\\Windows\\x.exe\\..\\y.exe");
	add("CommandLine", "y.exe");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	CHECK_INT(c->ncands, 0);
	/* the second branch alone has its literal in both sets */
	vg_event_reset(ev);
	add("Image", "D:\\tools\\a.exe");
	add("CommandLine", "a.exe\\..\\b.exe");
	CHECK_INT(detect_event(rr, c, ev, &m), 1);
	CHECK_INT(c->ncands, 1);
	/* and the filter still applies */
	vg_event_reset(ev);
	add("CommandLine", "a.exe\\..\\b.exe skip-me");
	CHECK_INT(detect_event(rr, c, ev, &m), 0);
	detect_ctx_free(c);
	detect_free(rr);
}

int main(void)
{
	setup();
	RUN(rules_behind_the_prefilter);
	RUN(a_literal_vouches_only_in_its_field);
	RUN(few_keywords_are_scanned_by_their_first_bytes);
	RUN(the_pairs_are_found_in_the_unfolded_value);
	RUN(a_repeated_value_replays_its_literals);
	RUN(values_that_never_repeat_stop_the_lookups);
	RUN(conditions_without_their_literals_are_false_whole);
	RUN(equality_and_ends_need_their_literal_there);
	RUN(unindexed_rules_need_one_of_their_fields);
	RUN(a_replay_keeps_where_its_literals_were);
	RUN(fields_of_whole_values_are_looked_up);
	RUN(integers_have_one_canonical_text);
	RUN(numbers_are_found_by_their_text_or_canonical_text);
	RUN(wide_fields_are_scanned_by_8_grams);
	RUN(rules_of_no_field_need_their_logsource_fields);
	RUN(regexes_need_their_bytes_and_length);
	RUN(short_keywords_are_tested_by_their_pair);
	RUN(an_alternative_needs_a_literal_of_each_set_of_its_branch);
	vg_event_free(ev);
	detect_ctx_free(ctx);
	detect_free(rs);
	return unit_done();
}
