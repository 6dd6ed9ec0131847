/*
 * test_detect.c: Sigma detection: selections, values, wildcards and
 * escapes, every modifier, the condition grammar, rule collections,
 * filters, mappings, metadata, errors and explanations.
 */
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "../../engine/detect.h"
#include "../../engine/event.h"
#include "../../engine/ytree.h"

static char diag[65536];
static struct detect_stats st;
static struct vg_event *ev;

/* Load YAML text; diagnostics land in diag (no source lines). */
static struct ruleset *load(const char *yaml)
{
	char *p = NULL;
	size_t n = 0;
	FILE *mf = open_memstream(&p, &n);
	struct vg_diag d;
	struct ruleset *rs;

	vg_diag_init(&d, mf);
	d.no_source = 1;
	memset(&st, 0, sizeof(st));
	rs = detect_load_buffer("t.yml", yaml, strlen(yaml), NULL, &d, &st);
	fclose(mf);
	snprintf(diag, sizeof(diag), "%s", p ? p : "");
	free(p);
	return rs;
}

/* Does diag hold this exact line? */
static int has_line(const char *line)
{
	size_t n = strlen(line);

	for (const char *p = diag; (p = strstr(p, line)) != NULL; p++) {
		if ((p == diag || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

static int count_lines(const char *what)
{
	int n = 0;

	for (const char *p = diag; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

#define HDR "title: T\nid: R\nlogsource:\n    product: test\ndetection:\n"
#define RULE(det) load(HDR det)

static void S(const char *name, const char *val)
{
	vg_event_add(ev, field_intern(name, strlen(name)), val, strlen(val));
}

static void SN(const char *name, const char *val, size_t len)
{
	vg_event_add(ev, field_intern(name, strlen(name)), val, len);
}

static void N(const char *name, const char *text)
{
	vg_event_add_num(ev, field_intern(name, strlen(name)), text, strlen(text),
	    strtod(text, NULL));
}

static void NUL(const char *name)
{
	vg_event_add_named(ev, name, strlen(name), "null", 4, V_NULL, 0);
}

static void reset(void)
{
	vg_event_reset(ev);
}

/* Number of rules of rs that match the current event. */
static int run(const struct ruleset *rs)
{
	struct detect_ctx *ctx = detect_ctx_new(rs);
	const struct rule *const *m;
	int n = (int)detect_event(rs, ctx, ev, &m);

	detect_ctx_free(ctx);
	return n;
}

/* Match the current event against a one-value field condition. */
static int one(struct ruleset *rs, const char *field, const char *val)
{
	reset();
	S(field, val);
	return run(rs);
}

TEST(maps_are_and_lists_are_or)
{
	struct ruleset *rs = RULE(
	    "    sel:\n"
	    "        user.name: root\n"
	    "        source.ip:\n"
	    "            - 10.0.0.1\n"
	    "            - 10.0.0.2\n"
	    "    condition: sel\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(st.rejected, 0);
	reset();
	S("user.name", "root");
	S("source.ip", "10.0.0.2");
	CHECK_INT(run(rs), 1);
	reset();
	S("user.name", "root");
	S("source.ip", "10.0.0.3");
	CHECK_INT(run(rs), 0);
	reset();
	S("source.ip", "10.0.0.1");
	CHECK_INT(run(rs), 0);
	detect_free(rs);
}

TEST(list_of_maps_is_or)
{
	struct ruleset *rs = RULE(
	    "    sel:\n"
	    "        - Image|endswith: '\\example.exe'\n"
	    "        - Description|contains: 'Test executable'\n"
	    "    condition: sel\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "Image", "C:\\x\\EXAMPLE.exe"), 1);
	CHECK_INT(one(rs, "Description", "a test executable here"), 1);
	CHECK_INT(one(rs, "Image", "C:\\x\\example.exe.bak"), 0);
	CHECK_INT(one(rs, "Other", "Test executable"), 0);
	detect_free(rs);
}

TEST(keywords_match_message_or_any_string)
{
	struct ruleset *rs = RULE(
	    "    keywords:\n"
	    "        - 'EVILSERVICE'\n"
	    "        - 'svchost.exe -n evil'\n"
	    "    condition: keywords\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "message", "service EvilService started"), 1);
	CHECK_INT(one(rs, "message", "run svchost.exe -n evil now"), 1);
	CHECK_INT(one(rs, "message", "svchost.exe -n good"), 0);
	/* a message is there: other fields are not searched */
	reset();
	S("message", "nothing");
	S("user.name", "evilservice");
	CHECK_INT(run(rs), 0);
	/* no message: every string value is */
	reset();
	S("user.name", "evilservice");
	CHECK_INT(run(rs), 1);
	reset();
	N("count", "1");
	CHECK_INT(run(rs), 0);
	detect_free(rs);
}

/* A literal that one rule looks up whole in a field and another looks for
 * as a keyword: the scan finds it in the same value twice, once for each,
 * and both rules match. */
TEST(keyword_and_field_rule_share_a_literal)
{
	struct ruleset *rs = load(
	    "title: E\nid: E\nlogsource:\n    product: test\ndetection:\n"
	    "    sel:\n        message: 'session opened'\n    condition: sel\n"
	    "---\n"
	    "title: S\nid: S\nlogsource:\n    product: test\ndetection:\n"
	    "    sel:\n        message|startswith: 'login of'\n    condition: sel\n"
	    "---\n"
	    "title: U\nid: U\nlogsource:\n    product: test\ndetection:\n"
	    "    sel:\n        user.name: 'mallory'\n    condition: sel\n"
	    "---\n"
	    "title: K\nid: K\nlogsource:\n    product: test\ndetection:\n"
	    "    keywords:\n        - 'session opened'\n        - 'login of'\n"
	    "        - 'mallory'\n    condition: keywords\n");

	CHECK_INT(st.loaded, 4);
	CHECK_INT(one(rs, "message", "session opened"), 2);      /* E, K */
	CHECK_INT(one(rs, "message", "Session Opened"), 2);
	CHECK_INT(one(rs, "message", "a session opened here"), 1); /* K */
	CHECK_INT(one(rs, "message", "login of bob"), 2);        /* S, K */
	CHECK_INT(one(rs, "message", "login of"), 2);
	CHECK_INT(one(rs, "message", "session closed"), 0);
	/* no message: keywords search every string value */
	CHECK_INT(one(rs, "user.name", "mallory"), 2);           /* U, K */
	reset();
	S("message", "session opened");
	S("user.name", "mallory");
	CHECK_INT(run(rs), 3);                                   /* E, U, K */
	reset();
	S("host.hostname", "h1");
	S("process.name", "app");
	S("message", "session opened");
	CHECK_INT(run(rs), 2);                                   /* E, K */
	detect_free(rs);
}

TEST(keyword_all_needs_every_keyword)
{
	struct ruleset *rs = RULE(
	    "    keywords_cmdlet:\n"
	    "        '|all':\n"
	    "            - 'OabVirtualDirectory'\n"
	    "            - ' -ExternalUrl '\n"
	    "    condition: keywords_cmdlet\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "message", "Set-OabVirtualDirectory -ExternalUrl 'x'"), 1);
	CHECK_INT(one(rs, "message", "Set-OabVirtualDirectory -InternalUrl 'x'"), 0);
	detect_free(rs);
}

TEST(null_means_absent_or_null)
{
	struct ruleset *rs = RULE(
	    "    selection:\n"
	    "        EventID: 4738\n"
	    "    filter:\n"
	    "        PasswordLastSet: null\n"
	    "    condition: selection and not filter\n");

	CHECK_INT(st.loaded, 1);
	reset();
	S("EventID", "4738");
	CHECK_INT(run(rs), 0); /* absent: null */
	reset();
	S("EventID", "4738");
	NUL("PasswordLastSet");
	CHECK_INT(run(rs), 0); /* JSON null */
	reset();
	S("EventID", "4738");
	S("PasswordLastSet", "");
	CHECK_INT(run(rs), 1); /* empty is a value: use '' for it */
	reset();
	S("EventID", "4738");
	S("PasswordLastSet", "2026-01-01");
	CHECK_INT(run(rs), 1);
	detect_free(rs);

	rs = RULE("    sel:\n        FieldB: ''\n    condition: sel\n");
	CHECK_INT(one(rs, "FieldB", ""), 1);
	CHECK_INT(one(rs, "FieldB", "x"), 0);
	reset();
	CHECK_INT(run(rs), 0);
	detect_free(rs);
}

TEST(null_in_a_list_is_an_error)
{
	struct ruleset *rs = RULE(
	    "    sel:\n"
	    "        FieldB:\n"
	    "            - ''\n"
	    "            - null\n"
	    "    condition: sel\n");

	CHECK_INT(st.loaded, 0);
	CHECK_INT(st.rejected, 1);
	CHECK(has_line("t.yml:9:15: error: null cannot be part of a list of "
	    "values; use a selection of its own"));
	detect_free(rs);
}

TEST(wildcards_star_and_question_mark)
{
	struct ruleset *rs = RULE(
	    "    sel:\n"
	    "        a: 'prog?.exe'\n"
	    "        b: 'antivirus_V*.exe'\n"
	    "        c: '*'\n"
	    "    condition: sel\n");

	reset();
	S("a", "PROGa.exe");
	S("b", "antivirus_V21.2.1.exe");
	S("c", "");
	CHECK_INT(run(rs), 1);
	reset();
	S("a", "prog.exe"); /* ? is one mandatory character */
	S("b", "antivirus_V.exe");
	S("c", "x");
	CHECK_INT(run(rs), 0);
	reset();
	S("a", "prog\xc3\xa9.exe"); /* ? is a whole UTF-8 character */
	S("b", "antivirus_V.exe");
	S("c", "x");
	CHECK_INT(run(rs), 1);
	reset();
	S("a", "progab.exe");
	S("b", "antivirus_V1.exe");
	S("c", "x");
	CHECK_INT(run(rs), 0);
	reset(); /* c absent: `*` needs a value */
	S("a", "progA.exe");
	S("b", "antivirus_V1.exe");
	CHECK_INT(run(rs), 0);
	detect_free(rs);

	rs = RULE("    sel:\n        a: '*a*b?c*d'\n    condition: sel\n");
	CHECK_INT(one(rs, "a", "xxAyyBzCqqD"), 1);
	CHECK_INT(one(rs, "a", "abxcd"), 1);
	CHECK_INT(one(rs, "a", "abcd"), 0);
	CHECK_INT(one(rs, "a", "aabbbxcdd"), 1);
	CHECK_INT(one(rs, "a", "abxcdx"), 0);
	detect_free(rs);
}

TEST(escaped_wildcards_and_backslashes)
{
	/* YAML single quotes keep backslashes as written */
	struct ruleset *rs = RULE(
	    "    s1:\n        a: 'what\\?'\n"
	    "    s2:\n        a: '5 \\* 3'\n"
	    "    s3:\n        a: 'C:\\Windows\\*'\n"
	    "    s4:\n        a: 'C:\\\\Windows\\\\*'\n"
	    "    s5:\n        a: 'x\\\\\\*'\n"
	    "    s6:\n        a: 'y\\\\\\\\'\n"
	    "    s7:\n        a: 'z\\\\\\'\n"
	    "    condition: 1 of them\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "a", "what?"), 1);
	CHECK_INT(one(rs, "a", "whatx"), 0);
	CHECK_INT(one(rs, "a", "5 * 3"), 1);
	CHECK_INT(one(rs, "a", "5 x 3"), 0);
	/* \W is a plain backslash, \* a plain star */
	CHECK_INT(one(rs, "a", "C:\\Windows*"), 1);
	CHECK_INT(one(rs, "a", "C:\\Windowsx"), 0);
	/* \\ is one backslash, then * is a wildcard */
	CHECK_INT(one(rs, "a", "C:\\Windows\\system32"), 1);
	/* \\\* is a backslash and a plain star */
	CHECK_INT(one(rs, "a", "x\\*"), 1);
	CHECK_INT(one(rs, "a", "x\\abc"), 0);
	/* four and three backslashes are two */
	CHECK_INT(one(rs, "a", "y\\\\"), 1);
	CHECK_INT(one(rs, "a", "z\\\\"), 1);
	CHECK_INT(one(rs, "a", "z\\"), 0);
	detect_free(rs);
}

TEST(contains_startswith_endswith)
{
	struct ruleset *rs = RULE(
	    "    s1:\n        a|contains: 'mid'\n"
	    "    s2:\n        b|startswith: 'adm'\n"
	    "    s3:\n        c|endswith: '\\cmd.exe'\n"
	    "    s4:\n        d|contains: 'one*two'\n"
	    "    condition: 1 of them\n");

	CHECK_INT(one(rs, "a", "xxMIDyy"), 1);
	CHECK_INT(one(rs, "a", "mi d"), 0);
	CHECK_INT(one(rs, "b", "ADMin"), 1);
	CHECK_INT(one(rs, "b", "xadm"), 0);
	CHECK_INT(one(rs, "c", "C:\\Windows\\System32\\CMD.EXE"), 1);
	CHECK_INT(one(rs, "c", "cmd.exe"), 0);
	CHECK_INT(one(rs, "d", "..one..two.."), 1);
	CHECK_INT(one(rs, "d", "..two..one.."), 0);
	detect_free(rs);
}

TEST(all_modifier_on_lists)
{
	struct ruleset *rs = RULE(
	    "    sel:\n"
	    "        CommandLine|contains|all:\n"
	    "            - ' -enc '\n"
	    "            - 'powershell'\n"
	    "    condition: sel\n");

	CHECK_INT(one(rs, "CommandLine", "PowerShell -nop -enc AAA"), 1);
	CHECK_INT(one(rs, "CommandLine", "PowerShell -nop"), 0);
	CHECK_INT(one(rs, "CommandLine", "cmd -enc x"), 0);
	/* multi-valued: each pattern may be met by a different value */
	reset();
	S("CommandLine", "powershell");
	S("CommandLine", "x -enc y");
	CHECK_INT(run(rs), 1);
	detect_free(rs);
}

TEST(multi_valued_fields_match_any_value)
{
	struct ruleset *rs = RULE("    sel:\n        tags: admin\n    condition: sel\n");

	reset();
	S("tags", "guest");
	S("tags", "ADMIN");
	CHECK_INT(run(rs), 1);
	reset();
	S("tags", "guest");
	S("tags", "user");
	CHECK_INT(run(rs), 0);
	detect_free(rs);
}

TEST(case_insensitive_by_default_and_cased)
{
	struct ruleset *rs = RULE(
	    "    s1:\n        a: 'MiXeD'\n"
	    "    s2:\n        b|cased: 'MiXeD'\n"
	    "    s3:\n        c|contains|cased: 'Ab'\n"
	    "    condition: 1 of them\n");

	CHECK_INT(one(rs, "a", "mixed"), 1);
	CHECK_INT(one(rs, "a", "MIXED"), 1);
	CHECK_INT(one(rs, "b", "MiXeD"), 1);
	CHECK_INT(one(rs, "b", "mixed"), 0);
	CHECK_INT(one(rs, "c", "xAbx"), 1);
	CHECK_INT(one(rs, "c", "xabx"), 0);
	/* folding is ASCII only: other letters compare as written */
	detect_free(rs);
	rs = RULE("    sel:\n        a: '\xc3\x89T\xc3\x89'\n    condition: sel\n");
	CHECK_INT(one(rs, "a", "\xc3\x89t\xc3\x89"), 1);
	CHECK_INT(one(rs, "a", "\xc3\xa9t\xc3\xa9"), 0);
	detect_free(rs);
}

TEST(numbers_and_booleans)
{
	struct ruleset *rs = RULE(
	    "    s1:\n        EventID: 4688\n"
	    "    s2:\n        flag: true\n"
	    "    s3:\n        quoted: '10'\n"
	    "    condition: 1 of them\n");

	CHECK_INT(one(rs, "EventID", "4688"), 1);
	reset();
	N("EventID", "4688");
	CHECK_INT(run(rs), 1);
	reset();
	N("EventID", "4688.0");
	CHECK_INT(run(rs), 1); /* the same number */
	CHECK_INT(one(rs, "EventID", "04688"), 0);
	CHECK_INT(one(rs, "EventID", "4689"), 0);
	reset();
	vg_event_add_named(ev, "flag", 4, "true", 4, V_BOOL, 1);
	CHECK_INT(run(rs), 1);
	CHECK_INT(one(rs, "flag", "TRUE"), 1);
	CHECK_INT(one(rs, "flag", "false"), 0);
	reset();
	N("quoted", "10");
	CHECK_INT(run(rs), 1);
	detect_free(rs);
}

TEST(regex_modifier_and_flags)
{
	struct ruleset *rs = RULE(
	    "    s1:\n        a|re: '^ab+c$'\n"
	    "    s2:\n        b|re|i: '^ab+c$'\n"
	    "    s3:\n        c|re: '^x.y$'\n"
	    "    s4:\n        d|re|s: '^x.y$'\n"
	    "    s5:\n        e|re|m: '^second$'\n"
	    "    condition: 1 of them\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "a", "abbbc"), 1);
	CHECK_INT(one(rs, "a", "ABBC"), 0); /* case-sensitive by default */
	CHECK_INT(one(rs, "b", "ABBC"), 1);
	CHECK_INT(one(rs, "c", "x\ny"), 0);
	CHECK_INT(one(rs, "d", "x\ny"), 1);
	CHECK_INT(one(rs, "e", "first\nsecond\nthird"), 1);
	CHECK_INT(one(rs, "a", "first\nabc"), 0);
	/* invalid UTF-8 in the value is no error */
	CHECK_INT(one(rs, "a", "ab\xff"), 0);
	detect_free(rs);
}

/* Regexes go through the literal prefilter: each must still match. */
TEST(regex_literals_never_hide_a_match)
{
	static const struct {
		const char *re, *value;
	} cases[] = {
		{ "ab?c", "ac" }, { "colou?r", "color" }, { "x{0,2}yz", "yz" },
		{ "(foo|bar)baz", "barbaz" }, { "a\\.b", "a.b" },
		{ "one|two", "two" }, { "[0-9]{3}-abc", "123-abc-" },
		{ "\\d+ apples", "12 apples" }, { "(?i)HeLLo", "hello" },
		{ "a+bc", "aaabc" }, { "ab{2}c", "abbc" }, { "ab*c", "ac" },
		{ "q{x", "q{x" }, { "^(?:a|b)c$", "bc" }, { "x[ab]*y", "xy" },
		{ "\\$env:Public\\[", "x$env:Public[1]" }, { "caf\u00e9", "caf\u00e9" },
		{ "Caf\xc3\xa9", "Caf\xc3\xa9" }, { "lazy.*?end", "lazy end" },
		{ "a\\tb", "a\tb" }, { "[]x]yz", "]yz" }, { "w(?#note)z", "wz" },
		{ "(?i)\xc3\x89t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },
		{ "(?i)desk", "de\xc5\xbf\xe2\x84\xaa" }, /* long s, Kelvin sign */
		{ "x(?i:sk)y", "x\xc5\xbf\xe2\x84\xaay" },
	};
	char yaml[512];

	for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
		struct ruleset *rs;

		snprintf(yaml, sizeof(yaml), HDR "    sel:\n        a|re: '%s'\n"
		    "    condition: sel\n", cases[i].re);
		rs = load(yaml);
		CHECK_INT(st.loaded, 1);
		if (one(rs, "a", cases[i].value) != 1)
			UNIT_FAIL("/%s/ does not match '%s'", cases[i].re, cases[i].value);
		detect_free(rs);
	}
}

TEST(regex_errors_and_limits)
{
	struct ruleset *rs = RULE("    sel:\n        a|re: 'ab(c'\n    condition: sel\n");
	struct detect_ctx *ctx;
	const struct rule *const *m;

	CHECK_INT(st.rejected, 1);
	CHECK(has_line("t.yml:7:20: error: re: missing closing parenthesis at offset 4"));
	detect_free(rs);
	rs = RULE("    sel:\n        a|i: 'x'\n    condition: sel\n");
	CHECK(has_line("t.yml:7:11: error: modifier 'i' must follow 're'"));
	detect_free(rs);
	rs = RULE("    sel:\n        a|re|contains: 'x'\n    condition: sel\n");
	CHECK(has_line("t.yml:7:9: error: modifier 're' cannot be combined with 'contains'"));
	detect_free(rs);
	/* catastrophic backtracking is cut short and counted */
	rs = RULE("    sel:\n        a|re: '^(a|aa)+$'\n    condition: sel\n");
	CHECK_INT(st.loaded, 1);
	reset();
	S("a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	ctx = detect_ctx_new(rs);
	CHECK_INT(detect_event(rs, ctx, ev, &m), 0);
	CHECK_INT(detect_ctx_regex_limit_hits(ctx), 1);
	detect_ctx_free(ctx);
	detect_free(rs);
}

TEST(cidr_ipv4_ipv6_and_edges)
{
	struct ruleset *rs = RULE(
	    "    s8:\n        a|cidr: 10.0.0.0/8\n"
	    "    s32:\n        b|cidr: 192.0.2.7/32\n"
	    "    s0:\n        c|cidr: 0.0.0.0/0\n"
	    "    v6:\n        d|cidr: '2001:db8::/32'\n"
	    "    v6h:\n        e|cidr: '2001:db8::1/128'\n"
	    "    all6:\n        f|cidr: '::/0'\n"
	    "    mapped:\n        g|cidr: '::ffff:10.0.0.0/104'\n"
	    "    odd:\n        h|cidr: 172.16.0.0/12\n"
	    "    condition: 1 of them\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "a", "10.255.1.2"), 1);
	CHECK_INT(one(rs, "a", "11.0.0.1"), 0);
	CHECK_INT(one(rs, "a", "::ffff:10.1.2.3"), 1); /* IPv4-mapped host */
	CHECK_INT(one(rs, "a", "10.1.2"), 0);
	CHECK_INT(one(rs, "a", "not an ip"), 0);
	CHECK_INT(one(rs, "b", "192.0.2.7"), 1);
	CHECK_INT(one(rs, "b", "192.0.2.8"), 0);
	CHECK_INT(one(rs, "c", "203.0.113.9"), 1);
	CHECK_INT(one(rs, "c", "2001:db8::1"), 0); /* /0 of IPv4 is IPv4 only */
	CHECK_INT(one(rs, "d", "2001:DB8:ffff::1"), 1);
	CHECK_INT(one(rs, "d", "2001:db9::1"), 0);
	CHECK_INT(one(rs, "e", "2001:db8::1"), 1);
	CHECK_INT(one(rs, "e", "2001:db8::2"), 0);
	CHECK_INT(one(rs, "e", "[2001:db8::1]"), 1);
	CHECK_INT(one(rs, "e", "2001:db8::1%eth0"), 1);
	CHECK_INT(one(rs, "f", "fe80::1"), 1);
	CHECK_INT(one(rs, "f", "10.0.0.1"), 0); /* an IPv6 network holds no IPv4 host */
	CHECK_INT(one(rs, "g", "10.9.9.9"), 1);
	CHECK_INT(one(rs, "g", "::ffff:10.9.9.9"), 1);
	CHECK_INT(one(rs, "g", "11.9.9.9"), 0);
	CHECK_INT(one(rs, "h", "172.31.255.255"), 1);
	CHECK_INT(one(rs, "h", "172.32.0.0"), 0);
	detect_free(rs);

	rs = RULE("    sel:\n        a|cidr:\n            - 10.0.0.0/33\n"
	    "            - 'fe80::/129'\n            - 'x/8'\n    condition: sel\n");
	CHECK_INT(st.rejected, 1);
	CHECK(has_line("t.yml:8:15: error: cidr: bad prefix length in '10.0.0.0/33'"));
	CHECK(has_line("t.yml:9:15: error: cidr: bad prefix length in 'fe80::/129'"));
	CHECK(has_line("t.yml:10:15: error: cidr: 'x/8' is not an IP network"));
	detect_free(rs);
}

TEST(exists_modifier)
{
	struct ruleset *rs = RULE(
	    "    s1:\n        a|exists: true\n"
	    "    s2:\n        b|exists: false\n        c: x\n"
	    "    condition: 1 of them\n");

	CHECK_INT(one(rs, "a", ""), 1);
	reset();
	NUL("a");
	CHECK_INT(run(rs), 1); /* present, even if null */
	CHECK_INT(one(rs, "c", "x"), 1);
	reset();
	S("b", "1");
	S("c", "x");
	CHECK_INT(run(rs), 0);
	detect_free(rs);
	rs = RULE("    s1:\n        a|exists: maybe\n    condition: s1\n");
	CHECK(has_line("t.yml:7:19: error: exists: the value must be true or false"));
	detect_free(rs);
	rs = RULE("    s1:\n        a|exists|contains: true\n    condition: s1\n");
	CHECK(has_line("t.yml:7:9: error: modifier 'exists' cannot be combined with other modifiers"));
	detect_free(rs);
}

/* Presence tests are answered inside the AND and OR that hold them. */
TEST(exists_among_values_in_and_and_or)
{
	struct ruleset *rs = RULE(
	    "    sel:\n"
	    "        - a|exists: true\n"
	    "          b|exists: false\n"
	    "          c: x\n"
	    "        - d|exists: true\n"
	    "          e|exists: true\n"
	    "    condition: sel\n");

	reset();
	S("a", "1");
	S("c", "X");
	CHECK_INT(run(rs), 1);
	reset();
	S("a", "1");
	S("b", "1");
	S("c", "x");
	CHECK_INT(run(rs), 0); /* b is present */
	reset();
	S("a", "1");
	S("c", "y");
	CHECK_INT(run(rs), 0); /* c differs */
	reset();
	S("c", "x");
	CHECK_INT(run(rs), 0); /* a is absent */
	reset();
	S("d", "");
	CHECK_INT(run(rs), 0); /* e is absent */
	reset();
	S("e", "");
	S("d", "");
	CHECK_INT(run(rs), 1);
	reset();
	S("b", "1");
	S("d", "1");
	NUL("e");
	CHECK_INT(run(rs), 1); /* the second map: e present, if null */
	detect_free(rs);
}

/* Equality compares whole words (8 bytes, two overlapping halves, or a
 * few bytes): every length, a difference at every position, bytes next
 * to the letters ('@', '[', '`', '{') and bytes above 0x7f. */
TEST(equality_at_every_length_and_position)
{
	static const char src[] = "aZ@[`{\xc3\xa9q-Z9_mNoPzA@y.";
	char yaml[512], want[64], val[64];

	for (size_t n = 1; n < sizeof(src); n++) {
		struct ruleset *rs;

		memcpy(want, src, n);
		want[n] = '\0';
		if ((unsigned char)want[n - 1] == 0xc3)
			continue; /* half a character: no YAML text */
		snprintf(yaml, sizeof(yaml), HDR "    sel:\n        f: '%s'\n"
		    "    condition: sel\n", want);
		rs = load(yaml);
		CHECK_INT(st.loaded, 1);
		/* the same bytes, and with the case of every letter swapped */
		CHECK_INT(one(rs, "f", want), 1);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)want[i];

			val[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 :
			    c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		val[n] = '\0';
		CHECK_INT(one(rs, "f", val), 1);
		/* one byte different, at each position: '@' is no 'a' ... */
		for (size_t i = 0; i < n; i++) {
			memcpy(val, want, n + 1);
			val[i] = (char)((unsigned char)val[i] ^ 0x20 ^ 0x40);
			if (one(rs, "f", val) != 0) {
				CHECK_INT(one(rs, "f", val), 0);
				printf("  length %zu, position %zu\n", n, i);
			}
			val[i] = (char)((unsigned char)want[i] ^ 1);
			if (one(rs, "f", val) != 0) {
				CHECK_INT(one(rs, "f", val), 0);
				printf("  length %zu, position %zu\n", n, i);
			}
		}
		/* one byte more or less */
		memcpy(val, want, n);
		val[n] = 'a';
		val[n + 1] = '\0';
		CHECK_INT(one(rs, "f", val), 0);
		val[n - 1] = '\0';
		CHECK_INT(one(rs, "f", val), 0);
		detect_free(rs);
	}
}

/* contains in values of 64 bytes or more (searched 16 positions at a
 * time, the last block overlapping): a needle at every place, in either
 * case, among bytes that start it or are one off ('`' is next to 'a'),
 * and with its last byte wrong. */
TEST(contains_in_long_values_at_every_position)
{
	struct ruleset *rs = RULE(
	    "    sel:\n        f|contains: 'aB-9z'\n    condition: sel\n");
	struct ruleset *rs2 = RULE(
	    "    sel:\n        f|contains: '=q'\n    condition: sel\n");
	char v[160];
	int bad = 0;

	for (size_t len = 64; len < 100; len++) {
		for (size_t at = 0; at + 5 <= len; at++) {
			for (size_t i = 0; i < len; i++)
				v[i] = "aA`b-a"[(i + len) % 6];
			memcpy(v + at, at % 2 ? "Ab-9Z" : "ab-9z", 5);
			v[len] = '\0';
			bad += one(rs, "f", v) != 1;
			v[at + 4] = '{';
			bad += one(rs, "f", v) != 0;
			for (size_t i = 0; i < len; i++)
				v[i] = "=Q=x"[(i + len) % 4] == 'Q' ? 'p' : "=Q=x"[(i + len) % 4];
			v[at] = '=';
			v[at + 1] = at % 3 ? 'Q' : 'q';
			bad += one(rs2, "f", v) != 1;
			v[at + 1] = 'r';
			bad += one(rs2, "f", v) != 0;
		}
	}
	CHECK_INT(bad, 0);
	detect_free(rs);
	detect_free(rs2);
}

TEST(numeric_comparisons)
{
	struct ruleset *rs = RULE(
	    "    lt:\n        a|lt: 10\n"
	    "    lte:\n        b|lte: 10\n"
	    "    gt:\n        c|gt: -1.5\n"
	    "    gte:\n        d|gte: '10'\n"
	    "    condition: 1 of them\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "a", "9.99"), 1);
	CHECK_INT(one(rs, "a", "10"), 0);
	CHECK_INT(one(rs, "a", "abc"), 0);
	CHECK_INT(one(rs, "a", ""), 0);
	CHECK_INT(one(rs, "a", " 5"), 0);
	reset();
	N("a", "3");
	CHECK_INT(run(rs), 1);
	CHECK_INT(one(rs, "b", "10"), 1);
	CHECK_INT(one(rs, "b", "10.01"), 0);
	CHECK_INT(one(rs, "c", "-1"), 1);
	CHECK_INT(one(rs, "c", "-2"), 0);
	CHECK_INT(one(rs, "d", "10"), 1);
	CHECK_INT(one(rs, "d", "1e2"), 1);
	CHECK_INT(one(rs, "d", "9"), 0);
	reset();
	vg_event_add_named(ev, "a", 1, "true", 4, V_BOOL, 1);
	CHECK_INT(run(rs), 0);
	detect_free(rs);
	rs = RULE("    s:\n        a|gt: ten\n    condition: s\n");
	CHECK(has_line("t.yml:7:15: error: 'ten' is not a number"));
	detect_free(rs);
	rs = RULE("    s:\n        a|gt|contains: 1\n    condition: s\n");
	CHECK(has_line("t.yml:7:9: error: modifier 'gt' compares numbers and cannot be "
	    "combined with string modifiers"));
	detect_free(rs);
}

TEST(base64_and_base64offset)
{
	struct ruleset *rs = RULE(
	    "    b64:\n        a|base64: '/bin/sh'\n"
	    "    off:\n        b|base64offset|contains: '/bin/sh'\n"
	    "    condition: 1 of them\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "a", "L2Jpbi9zaA=="), 1);
	CHECK_INT(one(rs, "a", "l2jpbi9zaa=="), 0); /* base64 is not folded */
	/* "/bin/sh -c id" behind 0, 1 and 2 bytes */
	CHECK_INT(one(rs, "b", "echo L2Jpbi9zaCAtYyBpZA== | base64 -d"), 1);
	CHECK_INT(one(rs, "b", "YS9iaW4vc2ggLWMgaWQ="), 1);
	CHECK_INT(one(rs, "b", "YWIvYmluL3NoIC1jIGlk"), 1);
	CHECK_INT(one(rs, "b", "L2Jpbi9iYXNo"), 0); /* /bin/bash */
	detect_free(rs);
	rs = RULE("    s:\n        a|base64: 'x*'\n    condition: s\n");
	CHECK(has_line("t.yml:7:19: error: base64: a value with wildcards cannot be "
	    "encoded (escape * and ? with a backslash)"));
	detect_free(rs);
}

TEST(utf16_encodings)
{
	struct ruleset *rs = RULE(
	    "    le:\n        a|utf16le: 'cmd'\n"
	    "    be:\n        b|utf16be: 'cmd'\n"
	    "    wide:\n        c|wide|contains: 'cmd'\n"
	    "    bom:\n        d|utf16: 'cmd'\n"
	    "    b64:\n        e|wide|base64offset|contains: 'whoami'\n"
	    "    condition: 1 of them\n");

	CHECK_INT(st.loaded, 1);
	reset();
	SN("a", "c\0m\0d\0", 6);
	CHECK_INT(run(rs), 1);
	reset();
	SN("a", "\0c\0m\0d", 6);
	CHECK_INT(run(rs), 0);
	reset();
	SN("b", "\0c\0m\0d", 6);
	CHECK_INT(run(rs), 1);
	reset();
	SN("c", "x\0c\0m\0d\0y\0", 10);
	CHECK_INT(run(rs), 1);
	reset();
	SN("d", "\xff\xfe" "c\0m\0d\0", 8);
	CHECK_INT(run(rs), 1);
	/* powershell -enc payloads: "whoami /all" in UTF-16LE behind 0..2 bytes */
	CHECK_INT(one(rs, "e", "powershell -enc dwBoAG8AYQBtAGkAIAAvAGEAbABsAA=="), 1);
	CHECK_INT(one(rs, "e", "UXcAaABvAGEAbQBpACAALwBhAGwAbAA="), 1);
	CHECK_INT(one(rs, "e", "UVF3AGgAbwBhAG0AaQAgAC8AYQBsAGwA"), 1);
	CHECK_INT(one(rs, "e", "dwBoAG8AYQBtAA=="), 0);
	detect_free(rs);
}

TEST(windash_variants)
{
	struct ruleset *rs = RULE(
	    "    sel:\n        CommandLine|windash|contains: ' -exec bypass'\n"
	    "    sel2:\n        Other|windash: 'a-b'\n"
	    "    condition: 1 of them\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "CommandLine", "powershell -exec bypass"), 1);
	CHECK_INT(one(rs, "CommandLine", "powershell /exec bypass"), 1);
	CHECK_INT(one(rs, "CommandLine", "powershell \xe2\x80\x93" "exec bypass"), 1);
	CHECK_INT(one(rs, "CommandLine", "powershell \xe2\x80\x94" "exec bypass"), 1);
	CHECK_INT(one(rs, "CommandLine", "powershell \xe2\x80\x95" "exec bypass"), 1);
	CHECK_INT(one(rs, "CommandLine", "powershell +exec bypass"), 0);
	/* a dash inside a word is not a flag: not permuted */
	CHECK_INT(one(rs, "Other", "a-b"), 1);
	CHECK_INT(one(rs, "Other", "a/b"), 0);
	detect_free(rs);
}

TEST(fieldref_compares_two_fields)
{
	struct ruleset *rs = RULE(
	    "    sel:\n        TargetFilename|fieldref: Image\n    condition: sel\n");

	reset();
	S("TargetFilename", "C:\\a.exe");
	S("Image", "c:\\A.EXE");
	CHECK_INT(run(rs), 1);
	reset();
	S("TargetFilename", "C:\\a.exe");
	S("Image", "C:\\b.exe");
	CHECK_INT(run(rs), 0);
	reset();
	S("TargetFilename", "C:\\a.exe");
	CHECK_INT(run(rs), 0);
	detect_free(rs);
}

#define PH \
	"placeholders:\n" \
	"    dom: [CORP, LAB]\n" \
	"    admins: [root, 'adm*']\n" \
	"    none: []\n" \
	"    one: 'x?z'\n" \
	"---\n"

TEST(expand_placeholders)
{
	struct ruleset *rs = RULE(
	    "    sel:\n        a|contains|expand: '%known_cdcs%'\n    condition: sel\n");

	CHECK_INT(st.rejected, 1);
	CHECK(has_line("t.yml:7:28: error: expand: placeholder %known_cdcs% has no "
	    "value (give it one under 'placeholders:' in a rules file)"));
	detect_free(rs);
	/* no placeholder, \\% is a plain percent */
	rs = RULE("    sel:\n        a|expand: '\\%plain%'\n    condition: sel\n");
	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "a", "%plain%"), 1);
	detect_free(rs);
	/* without expand a placeholder is plain text */
	rs = RULE("    sel:\n        a: '%name%'\n    condition: sel\n");
	CHECK_INT(one(rs, "a", "%NAME%"), 1);
	detect_free(rs);

	/* values, their wildcards, and every combination of two placeholders */
	rs = load(PH HDR
	    "    s1:\n        a|expand: '%dom%\\\\%admins%'\n"
	    "    s2:\n        b|expand|endswith: '\\%%one%'\n"
	    "    s3:\n        c|expand: '%none%'\n"
	    "    s5:\n        e|expand|base64: '%dom%'\n"
	    "    s6:\n        f|expand|all|contains: ['%dom%', 'q']\n"
	    "    s7:\n        g|expand|all|contains: ['%none%', 'q']\n"
	    "    condition: 1 of them\n");
	CHECK_INT(st.loaded, 1);
	CHECK_INT(st.rejected, 0);
	CHECK_INT(one(rs, "a", "corp\\root"), 1);
	CHECK_INT(one(rs, "a", "LAB\\admin7"), 1);
	CHECK_INT(one(rs, "a", "LAB\\xroot"), 0);
	CHECK_INT(one(rs, "a", "OTHER\\root"), 0);
	CHECK_INT(one(rs, "a", "CORProot"), 0);
	CHECK_INT(one(rs, "b", "50%xyz"), 1);
	CHECK_INT(one(rs, "b", "50%xz"), 0);
	CHECK_INT(one(rs, "b", "xyz"), 0);
	/* a placeholder with no value matches nothing, so neq holds */
	CHECK_INT(one(rs, "c", ""), 0);
	CHECK_INT(one(rs, "c", "%none%"), 0);
	CHECK_INT(one(rs, "e", "Q09SUA=="), 1);
	CHECK_INT(one(rs, "e", "TEFC"), 1);
	CHECK_INT(one(rs, "e", "CORP"), 0);
	CHECK_INT(one(rs, "f", "LAB q"), 1);
	CHECK_INT(one(rs, "f", "LAB"), 0);
	CHECK_INT(one(rs, "g", "q"), 0); /* all of: the empty one never holds */
	detect_free(rs);

	rs = load(PH HDR "    s:\n        d|neq|expand: '%none%'\n    condition: s\n");
	CHECK_INT(one(rs, "d", "anything"), 1);
	CHECK_INT(one(rs, "x", "d absent"), 1);
	detect_free(rs);
	/* a filter whose placeholder has no value excludes nothing */
	rs = load(PH HDR "    sel:\n        a: x\n"
	    "    filter:\n        b|contains|expand: '%none%'\n"
	    "    condition: sel and not filter\n");
	CHECK_INT(one(rs, "a", "x"), 1);
	detect_free(rs);

	rs = load("placeholders:\n    a: [1, {x: y}]\n    'b%': x\n    c: ~\n"
	    "    d: x\n---\nplaceholders: {d: y}\n");
	CHECK_INT(st.rejected, 2); /* each mapping document with an error */
	CHECK(has_line("t.yml:2:12: error: a placeholder value must be a string or a number"));
	CHECK(has_line("t.yml:3:5: error: a placeholder name must be a non-empty string "
	    "without '%'"));
	CHECK(has_line("t.yml:4:8: error: placeholder %c% must have a value or a list "
	    "of values ([] for none)"));
	CHECK(has_line("t.yml:7:16: error: placeholder %d% is defined twice (also t.yml:5)"));
	detect_free(rs);
}

TEST(neq_and_time_modifiers)
{
	struct ruleset *rs = RULE(
	    "    sel:\n        a: x\n        b|neq: [one, two]\n    condition: sel\n");

	reset();
	S("a", "x");
	S("b", "three");
	CHECK_INT(run(rs), 1);
	reset();
	S("a", "x");
	S("b", "TWO");
	CHECK_INT(run(rs), 0);
	reset();
	S("a", "x");
	CHECK_INT(run(rs), 1); /* like `not`: an absent field differs */
	detect_free(rs);

	rs = RULE("    night:\n        '@timestamp|hour|gte': 22\n"
	    "    june:\n        t|month: 6\n"
	    "    week:\n        w|week: 53\n"
	    "    condition: 1 of them\n");
	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "@timestamp", "2026-11-23T23:10:00Z"), 1);
	CHECK_INT(one(rs, "@timestamp", "2026-11-23T21:59:59Z"), 0);
	CHECK_INT(one(rs, "t", "2026-06-01T00:00:00Z"), 1);
	CHECK_INT(one(rs, "t", "2026-07-01T00:00:00Z"), 0);
	CHECK_INT(one(rs, "t", "June"), 0);
	CHECK_INT(one(rs, "w", "2026-12-31T00:00:00Z"), 1); /* 2026 has 53 ISO weeks */
	CHECK_INT(one(rs, "w", "2027-01-01T00:00:00Z"), 1);
	CHECK_INT(one(rs, "w", "2027-01-04T00:00:00Z"), 0);
	detect_free(rs);
}

/* Modifiers together, as the spec allows them; a value's variants
 * (windash, base64offset, utf16, expand) count as one value for |all. */
TEST(modifier_combinations)
{
	struct ruleset *rs = RULE(
	    "    wa:\n        a|windash|contains|all: ['-x', '-y']\n"
	    "    ba:\n        b|base64offset|contains|all: ['/bin/sh', 'curl']\n"
	    "    ims:\n        c|re|i|m|s: '^begin.end$'\n"
	    "    rm:\n        d|re: '^second$'\n"
	    "    fc:\n        g|fieldref|cased: h\n"
	    "    cs:\n        i|cased|startswith: 'Ab'\n"
	    "    be:\n        k|utf16be|base64offset|contains: 'ab'\n"
	    "    ca:\n        l|cased|contains|all: ['Ab', 'cD']\n"
	    "    condition: 1 of them\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "a", "cmd -x /y"), 1);
	CHECK_INT(one(rs, "a", "cmd \xe2\x80\x93y \xe2\x80\x94x"), 1);
	CHECK_INT(one(rs, "a", "cmd /x"), 0);
	CHECK_INT(one(rs, "a", "cmd -x +y"), 0);
	/* "/bin/sh;curl": offset 0 holds both, "x/bin/sh curl" offset 1 */
	CHECK_INT(one(rs, "b", "L2Jpbi9zaDtjdXJs"), 1);
	CHECK_INT(one(rs, "b", "eC9iaW4vc2ggY3VybA=="), 1);
	CHECK_INT(one(rs, "b", "L2Jpbi9zaA=="), 0); /* /bin/sh alone */
	CHECK_INT(one(rs, "c", "x\nBEGIN\nEND"), 1);
	CHECK_INT(one(rs, "c", "x\nBEGIN-END"), 1);
	CHECK_INT(one(rs, "c", "BEGIN-END-"), 0);
	CHECK_INT(one(rs, "d", "first\nsecond"), 0); /* no m: ^ is the start */
	CHECK_INT(one(rs, "d", "second"), 1);
	reset();
	S("g", "Same");
	S("h", "same");
	CHECK_INT(run(rs), 0); /* cased fieldref */
	reset();
	S("g", "Same");
	S("h", "Same");
	CHECK_INT(run(rs), 1);
	CHECK_INT(one(rs, "i", "Abc"), 1);
	CHECK_INT(one(rs, "i", "abc"), 0);
	/* "ab" in UTF-16BE (00 61 00 62) at offsets 0, 1, 2 */
	CHECK_INT(one(rs, "k", "AGEAYg=="), 1);
	CHECK_INT(one(rs, "k", "eABhAGI="), 1);
	CHECK_INT(one(rs, "k", "eHkAYQBi"), 1);
	CHECK_INT(one(rs, "k", "YWI="), 0); /* "ab" in ASCII */
	CHECK_INT(one(rs, "l", "xAbycDz"), 1);
	CHECK_INT(one(rs, "l", "xabycDz"), 0);
	detect_free(rs);

	/* neq holds when the field is absent, so one rule each */
	rs = RULE("    s:\n        e|fieldref|neq: f\n    condition: s\n");
	reset();
	S("e", "a");
	S("f", "A");
	CHECK_INT(run(rs), 0); /* equal (case-insensitively): not neq */
	reset();
	S("e", "a");
	S("f", "b");
	CHECK_INT(run(rs), 1);
	detect_free(rs);
	rs = RULE("    s:\n        j|cidr|neq: ['10.0.0.0/8', 'fc00::/7']\n"
	    "    condition: s\n");
	CHECK_INT(one(rs, "j", "10.1.2.3"), 0);
	CHECK_INT(one(rs, "j", "fd00::1"), 0);
	CHECK_INT(one(rs, "j", "192.0.2.1"), 1);
	detect_free(rs);
	rs = RULE("    s:\n        m|re|neq: '^ok'\n    condition: s\n");
	CHECK_INT(one(rs, "m", "ok fine"), 0);
	CHECK_INT(one(rs, "m", "not ok"), 1);
	detect_free(rs);
}

TEST(unsupported_modifiers_are_errors_with_position)
{
	struct ruleset *rs = load(
	    "title: T\n"
	    "logsource:\n"
	    "    product: test\n"
	    "detection:\n"
	    "    sel:\n"
	    "        a|xyz: 1\n"
	    "        'b|contains|zz': 2\n"
	    "    condition: sel\n");

	CHECK_INT(st.loaded, 0);
	CHECK_INT(st.rejected, 1);
	CHECK(has_line("t.yml:6:11: error: unsupported modifier 'xyz'"));
	CHECK(has_line("t.yml:7:21: error: unsupported modifier 'zz'"));
	detect_free(rs);
}

TEST(condition_precedence_and_parentheses)
{
	struct ruleset *rs = RULE(
	    "    a:\n        a: 1\n"
	    "    b:\n        b: 1\n"
	    "    c:\n        c: 1\n"
	    "    condition: a or b and not c\n");

	/* a or (b and (not c)) */
	reset();
	S("a", "1");
	S("c", "1");
	CHECK_INT(run(rs), 1);
	reset();
	S("b", "1");
	S("c", "1");
	CHECK_INT(run(rs), 0);
	reset();
	S("b", "1");
	CHECK_INT(run(rs), 1);
	detect_free(rs);

	rs = RULE("    a:\n        a: 1\n    b:\n        b: 1\n    c:\n        c: 1\n"
	    "    condition: (a or b) and not c\n");
	reset();
	S("a", "1");
	S("c", "1");
	CHECK_INT(run(rs), 0);
	reset();
	S("a", "1");
	CHECK_INT(run(rs), 1);
	detect_free(rs);

	rs = RULE("    a:\n        a: 1\n    b:\n        b: 1\n"
	    "    condition: NOT a AND (b)\n");
	CHECK_INT(st.loaded, 1);
	CHECK_INT(one(rs, "b", "1"), 1);
	reset();
	S("a", "1");
	S("b", "1");
	CHECK_INT(run(rs), 0);
	detect_free(rs);

	rs = RULE("    a:\n        a: 1\n    condition: not not a\n");
	CHECK_INT(one(rs, "a", "1"), 1);
	CHECK_INT(one(rs, "x", "1"), 0);
	detect_free(rs);
}

TEST(condition_quantifiers)
{
	struct ruleset *rs = RULE(
	    "    selection_a:\n        a: 1\n"
	    "    selection_b:\n        b: 1\n"
	    "    filter_x:\n        x: 1\n"
	    "    _helper:\n        h: 1\n"
	    "    condition: all of selection_* and not 1 of filter*\n");

	reset();
	S("a", "1");
	S("b", "1");
	CHECK_INT(run(rs), 1);
	reset();
	S("a", "1");
	CHECK_INT(run(rs), 0);
	reset();
	S("a", "1");
	S("b", "1");
	S("x", "1");
	CHECK_INT(run(rs), 0);
	detect_free(rs);

	rs = RULE("    s1:\n        a: 1\n    s2:\n        b: 1\n    _u:\n        h: 1\n"
	    "    condition: 1 of them\n");
	CHECK_INT(one(rs, "b", "1"), 1);
	CHECK_INT(one(rs, "h", "1"), 0); /* _u is left out of `them` */
	detect_free(rs);

	rs = RULE("    s1:\n        a: 1\n    s2:\n        b: 1\n    _u:\n        h: 1\n"
	    "    condition: all of them\n");
	reset();
	S("a", "1");
	S("b", "1");
	CHECK_INT(run(rs), 1);
	detect_free(rs);

	rs = RULE("    s1:\n        a: 1\n    s2:\n        b: 1\n    s3:\n        c: 1\n"
	    "    condition: 2 of s*\n");
	reset();
	S("a", "1");
	S("c", "1");
	CHECK_INT(run(rs), 1);
	CHECK_INT(one(rs, "a", "1"), 0);
	detect_free(rs);

	rs = RULE("    s1:\n        a: 1\n    condition: any of s*\n");
	CHECK_INT(one(rs, "a", "1"), 1);
	detect_free(rs);
}

TEST(condition_lists_are_or)
{
	struct ruleset *rs = RULE("    a:\n        a: 1\n    b:\n        b: 1\n"
	    "    condition:\n        - a\n        - b\n");

	CHECK_INT(one(rs, "a", "1"), 1);
	CHECK_INT(one(rs, "b", "1"), 1);
	CHECK_INT(one(rs, "c", "1"), 0);
	detect_free(rs);
}

TEST(condition_errors)
{
	struct ruleset *rs = RULE("    sel:\n        a: 1\n    condition: sel and nope\n");

	CHECK_INT(st.rejected, 1);
	CHECK(has_line("t.yml:8:24: error: unknown search identifier 'nope'"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: 1\n    condition: sel | count() > 5\n");
	CHECK(has_line("t.yml:8:20: error: aggregation expressions ('| count() ...') "
	    "are not supported; write a correlation rule"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: 1\n    condition: (sel\n");
	CHECK(has_line("t.yml:8:20: error: expected ')'"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: 1\n    condition: sel*\n");
	CHECK(has_line("t.yml:8:16: error: 'sel*': identifier patterns need '1 of' or 'all of'"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: 1\n    condition: 1 of filter_*\n");
	CHECK(has_line("t.yml:8:21: error: 'filter_*' matches no search identifier"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: 1\n    condition: sel and\n");
	CHECK(has_line("t.yml:8:23: error: condition ends too early"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: 1\n    condition: sel sel\n");
	CHECK(has_line("t.yml:8:20: error: unexpected 'sel'"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: 1\n");
	CHECK(has_line("t.yml:6:5: error: the detection has no condition"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: 1\n    condition: 3 of sel*\n");
	CHECK(has_line("t.yml:8:16: error: '3 of' can never hold: too few search "
	    "identifiers match"));
	detect_free(rs);
}

TEST(rule_metadata_and_validation)
{
	struct ruleset *rs = load(
	    "title: First\n"
	    "id: 929a690e-bef0-4204-a928-ef5e620d6fcc\n"
	    "status: test\n"
	    "level: high\n"
	    "tags: [attack.t1110, attack.credential-access]\n"
	    "custom_key: fine\n"
	    "vigil:\n"
	    "    suppress: 5m\n"
	    "logsource: {product: test}\n"
	    "detection: {sel: {a: 1}, condition: sel}\n"
	    "---\n"
	    "title: Second\n"
	    "logsource: {product: test}\n"
	    "detection: {sel: {a: 1}, condition: sel}\n");
	const struct rule *r;
	const struct ynode *v;

	CHECK_INT(st.loaded, 2);
	CHECK_INT(detect_rule_count(rs), 2);
	r = detect_rule(rs, 0);
	CHECK_STR(r->id, "929a690e-bef0-4204-a928-ef5e620d6fcc");
	CHECK_STR(r->title, "First");
	CHECK_STR(r->level, "high");
	CHECK_STR(r->status, "test");
	CHECK_INT(r->ntags, 2);
	CHECK_STR(r->tags[1], "attack.credential-access");
	CHECK_STR(r->file, "t.yml");
	CHECK_INT(r->line, 1);
	v = detect_rule_vigil(r);
	CHECK(v != NULL);
	CHECK_STR(ytree_get(v, "suppress")->str, "5m");
	r = detect_rule(rs, 1);
	CHECK_STR(r->id, "t.yml:12"); /* no id: where it is */
	CHECK_STR(r->level, "medium"); /* no level: medium */
	CHECK(r->status == NULL);
	CHECK_INT(r->ntags, 0);
	CHECK(detect_rule_vigil(r) == NULL);
	detect_free(rs);

	rs = load("id: x\nlevel: severe\nstatus: wip\ndetection: {sel: {a: 1}, condition: sel}\n");
	CHECK_INT(st.rejected, 1);
	CHECK(has_line("t.yml:1:1: error: missing 'title'"));
	CHECK(has_line("t.yml:2:8: error: level 'severe' is not one of informational, "
	    "low, medium, high, critical"));
	CHECK(has_line("t.yml:3:9: error: status 'wip' is not one of stable, test, "
	    "experimental, deprecated, unsupported"));
	CHECK(has_line("t.yml:1:1: error: missing 'logsource' map"));
	detect_free(rs);
}

TEST(duplicate_ids_are_warned)
{
	struct ruleset *rs = load(
	    "title: A\nid: same\nlogsource: {product: x}\n"
	    "detection: {sel: {a: 1}, condition: sel}\n"
	    "---\n"
	    "title: B\nid: same\nlogsource: {product: x}\n"
	    "detection: {sel: {a: 1}, condition: sel}\n");

	CHECK_INT(st.loaded, 2);
	CHECK(has_line("t.yml:6:1: warning: duplicate rule id 'same' (also t.yml:1)"));
	CHECK_INT(st.warnings, 3); /* and the two unmapped logsources */
	detect_free(rs);
}

TEST(every_error_of_a_file_is_reported)
{
	struct ruleset *rs = load(
	    "title: A\nlogsource: {product: x}\n"
	    "detection: {sel: {a|bad1: 1}, condition: sel}\n"
	    "---\n"
	    "title: B\nlogsource: {product: x}\n"
	    "detection: {sel: {a: 1}, condition: sel}\n"
	    "---\n"
	    "title: C\nlogsource: {product: x}\n"
	    "detection: {sel: {a|bad2: 1, b|bad3: 2}, condition: sel}\n");

	CHECK_INT(st.loaded, 1);
	CHECK_INT(st.rejected, 2);
	CHECK_INT(count_lines("error:"), 3);
	CHECK(has_line("t.yml:3:21: error: unsupported modifier 'bad1'"));
	CHECK(has_line("t.yml:11:21: error: unsupported modifier 'bad2'"));
	CHECK(has_line("t.yml:11:32: error: unsupported modifier 'bad3'"));
	detect_free(rs);
}

TEST(correlation_documents_are_kept_not_rejected)
{
	struct ruleset *rs = load(
	    "title: Base\nname: base\nlogsource: {product: x}\n"
	    "detection: {sel: {a: 1}, condition: sel}\n"
	    "---\n"
	    "title: Many\n"
	    "correlation:\n"
	    "    type: event_count\n"
	    "    rules: [base]\n"
	    "    group-by: [source.ip]\n"
	    "    timespan: 5m\n"
	    "    condition: {gte: 5}\n"
	    "---\n"
	    "title: Other\n"
	    "correlation: {type: temporal, rules: [base, R2], timespan: 1m}\n"
	    "---\n"
	    "title: Unnamed\nid: R2\nlogsource: {product: x}\n"
	    "detection: {sel: {a: 2}, condition: sel}\n");
	const struct ynode *c;

	CHECK_INT(st.loaded, 2);
	CHECK_INT(st.rejected, 0);
	CHECK_INT(st.correlations, 2);
	CHECK_INT(count_lines("error:"), 0);
	CHECK_STR(detect_rule(rs, 0)->name, "base");
	CHECK(detect_rule(rs, 1)->name == NULL);
	CHECK_STR(detect_rule(rs, 1)->id, "R2");
	CHECK_INT(detect_correlation_count(rs), 2);
	c = ytree_get(detect_correlation_doc(rs, 0), "correlation");
	CHECK_STR(ytree_get(c, "type")->str, "event_count");
	CHECK_STR(c->file, "t.yml");
	CHECK_INT(c->line, 8);
	CHECK_INT(c->col, 5);
	CHECK_STR(detect_correlation_file(rs, 0), "t.yml");
	CHECK_INT(detect_correlation_doc(rs, 1)->line, 14);
	CHECK_STR(ytree_get(ytree_get(detect_correlation_doc(rs, 1),
	    "correlation"), "type")->str, "temporal");
	CHECK_STR(detect_correlation_file(rs, 1), "t.yml");
	CHECK(detect_correlation_doc(rs, 2) == NULL);
	CHECK(detect_correlation_file(rs, 2) == NULL);
	detect_free(rs);
}

TEST(rule_collections_global_reset_repeat)
{
	struct ruleset *rs = load(
	    "action: global\n"
	    "title: Shared\n"
	    "logsource: {product: x}\n"
	    "level: high\n"
	    "detection:\n"
	    "    base:\n"
	    "        a: 1\n"
	    "    condition: base and sel\n"
	    "---\n"
	    "id: one\n"
	    "detection:\n"
	    "    sel:\n"
	    "        b: 1\n"
	    "---\n"
	    "action: repeat\n"
	    "id: two\n"
	    "detection:\n"
	    "    sel:\n"
	    "        b: 2\n"
	    "---\n"
	    "action: reset\n"
	    "---\n"
	    "title: Alone\n"
	    "id: three\n"
	    "logsource: {product: x}\n"
	    "detection: {sel: {c: 1}, condition: sel}\n");
	const struct rule *r;

	CHECK_INT(st.loaded, 3);
	CHECK_INT(st.rejected, 0);
	r = detect_rule(rs, 0);
	CHECK_STR(r->id, "one");
	CHECK_STR(r->title, "Shared");
	CHECK_STR(r->level, "high");
	CHECK_STR(detect_rule(rs, 1)->id, "two");
	CHECK_STR(detect_rule(rs, 1)->title, "Shared");
	CHECK_STR(detect_rule(rs, 2)->level, "medium");
	reset();
	S("a", "1");
	S("b", "2");
	CHECK_INT(run(rs), 1);
	reset();
	S("a", "1");
	S("b", "1");
	CHECK_INT(run(rs), 1);
	reset();
	S("b", "1");
	CHECK_INT(run(rs), 0);
	CHECK_INT(one(rs, "c", "1"), 1);
	detect_free(rs);
	rs = load("action: repeat\ntitle: x\n---\naction: nope\n");
	CHECK(has_line("t.yml:1:9: error: action: repeat with no previous rule to repeat"));
	CHECK(has_line("t.yml:4:9: error: unsupported action 'nope' (expected global, "
	    "reset or repeat)"));
	CHECK_INT(st.rejected, 2);
	detect_free(rs);
}

TEST(sigma_filters_apply_to_named_rules)
{
	struct ruleset *rs = load(
	    "title: Rar\n"
	    "id: 6f3e2987-db24-4c78-a860-b4f4095a7095\n"
	    "logsource: {category: process_creation, product: windows}\n"
	    "detection: {sel: {Image|endswith: '\\rar.exe'}, condition: sel}\n"
	    "---\n"
	    "title: Other\n"
	    "id: other\n"
	    "logsource: {category: process_creation, product: windows}\n"
	    "detection: {sel: {Image|endswith: '\\rar.exe'}, condition: sel}\n"
	    "---\n"
	    "title: Filter Administrator account\n"
	    "logsource: {category: process_creation, product: windows}\n"
	    "filter:\n"
	    "    rules:\n"
	    "        - 6f3e2987-db24-4c78-a860-b4f4095a7095\n"
	    "    selection:\n"
	    "        User|startswith: 'adm_'\n"
	    "    condition: selection\n");
	struct detect_ctx *ctx;
	const struct rule *const *m;

	CHECK_INT(st.loaded, 2);
	CHECK_INT(st.rejected, 0);
	reset();
	S("Image", "C:\\rar.exe");
	S("User", "adm_bob");
	ctx = detect_ctx_new(rs);
	CHECK_INT(detect_event(rs, ctx, ev, &m), 1);
	CHECK_STR(m[0]->id, "other");
	reset();
	S("Image", "C:\\rar.exe");
	S("User", "bob");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 2);
	CHECK_STR(m[0]->id, "6f3e2987-db24-4c78-a860-b4f4095a7095");
	CHECK_STR(m[1]->id, "other");
	detect_ctx_free(ctx);
	detect_free(rs);

	rs = load("title: F\nlogsource: {product: windows}\n"
	    "filter: {rules: [nothing], sel: {a: 1}, condition: sel}\n");
	CHECK(has_line("t.yml:1:1: warning: filter 'F' names no loaded rule"));
	detect_free(rs);
	rs = load("title: F\nlogsource: {product: windows}\n"
	    "filter: {rules: [r], sel: {a|zz: 1}, condition: sel}\n");
	CHECK(has_line("t.yml:3:30: error: unsupported modifier 'zz'"));
	CHECK_INT(st.rejected, 1);
	detect_free(rs);
}

#define MAPS \
	"title: maps\n" \
	"logsources:\n" \
	"    - product: linux\n" \
	"      conditions:\n" \
	"          - log.syslog.priority|exists: true\n" \
	"    - product: linux\n" \
	"      service: sshd\n" \
	"      conditions: {process.name: sshd}\n" \
	"    - category: webserver\n" \
	"      conditions: {process.name: [nginx, apache2]}\n" \
	"fieldmappings:\n" \
	"    - logsource: {product: linux}\n" \
	"      fields:\n" \
	"          User: user.name\n" \
	"          Src: [source.ip, client.ip]\n" \
	"    - fields:\n" \
	"          cs-method: http.request.method\n" \
	"---\n"

TEST(mappings_select_events_and_rename_fields)
{
	struct ruleset *rs = load(MAPS
	    "title: ssh root\nid: ssh\nlogsource: {product: linux, service: sshd}\n"
	    "detection: {sel: {User: root}, condition: sel}\n"
	    "---\n"
	    "title: any linux\nid: lnx\nlogsource: {product: linux, category: process_creation}\n"
	    "detection: {sel: {Src|cidr: 10.0.0.0/8}, condition: sel}\n"
	    "---\n"
	    "title: web\nid: web\nlogsource: {category: webserver}\n"
	    "detection: {sel: {cs-method: POST}, condition: sel}\n"
	    "---\n"
	    "title: cloud\nid: aws\nlogsource: {product: aws, service: cloudtrail}\n"
	    "detection: {sel: {eventName: x}, condition: sel}\n");
	struct detect_ctx *ctx = detect_ctx_new(rs);
	const struct rule *const *m;

	CHECK_INT(st.loaded, 4);
	CHECK_INT(st.rejected, 0);
	CHECK_INT(st.warnings, 1);
	CHECK(has_line("t.yml:36:12: warning: logsource (product: aws, service: "
	    "cloudtrail) has no mapping; the rule applies to every event"));
	reset();
	S("log.syslog.priority", "38");
	S("process.name", "sshd");
	S("user.name", "ROOT");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 1);
	CHECK_STR(m[0]->id, "ssh");
	/* same fields, another program: not sshd's logsource */
	reset();
	S("log.syslog.priority", "38");
	S("process.name", "su");
	S("user.name", "root");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 0);
	/* not a syslog event: product linux does not hold */
	reset();
	S("process.name", "sshd");
	S("user.name", "root");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 0);
	/* a field mapped to two event fields: either */
	reset();
	S("log.syslog.priority", "38");
	S("client.ip", "10.1.1.1");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 1);
	CHECK_STR(m[0]->id, "lnx");
	reset();
	S("process.name", "nginx");
	S("http.request.method", "post");
	S("eventName", "x");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 2);
	CHECK_STR(m[0]->id, "web");
	CHECK_STR(m[1]->id, "aws");
	detect_ctx_free(ctx);
	detect_free(rs);
}

TEST(field_mapping_star_stands_for_any_name)
{
	struct ruleset *rs = load(
	    "fieldmappings:\n"
	    "    - logsource: {product: w, category: pc}\n"
	    "      fields:\n"
	    "          Image: ['*', 'ed.*', NewProcessName]\n"
	    "    - logsource: {product: w}\n"
	    "      fields:\n"
	    "          EventID: [EventID, sys.EventID]\n"
	    "          '*': ['*', 'ed.*']\n"
	    "    - fields:\n"
	    "          CommandLine: never.used\n"
	    "          Other: x.other\n"
	    "---\n"
	    "title: pc\nid: pc\nlogsource: {product: w, category: pc}\n"
	    "detection: {sel: {Image|endswith: '\\a.exe', CommandLine|contains: run,\n"
	    "    EventID: 1}, condition: sel}\n"
	    "---\n"
	    "title: o\nid: o\nlogsource: {product: w}\n"
	    "detection: {sel: {Image|endswith: '\\a.exe'}, condition: sel}\n"
	    "---\n"
	    "title: l\nid: l\nlogsource: {product: l}\n"
	    "detection: {sel: {CommandLine: x, Other: y}, condition: sel}\n");
	struct detect_ctx *ctx = detect_ctx_new(rs);
	const struct rule *const *m;

	CHECK_INT(st.loaded, 3);
	CHECK_INT(st.rejected, 0);
	/* its own entry first (NewProcessName), the name's `*` forms; the
	 * later entry's `*` for CommandLine, never the unrestricted entry */
	reset();
	S("NewProcessName", "C:\\x\\A.EXE");
	S("ed.CommandLine", "run it");
	S("sys.EventID", "1");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 1);
	CHECK_STR(m[0]->id, "pc");
	reset();
	S("ed.Image", "C:\\x\\a.exe");
	S("CommandLine", "run");
	S("EventID", "1");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 2);
	CHECK_STR(m[0]->id, "pc");
	CHECK_STR(m[1]->id, "o");
	/* the `*` entry does not map EventID to ed.EventID */
	reset();
	S("ed.Image", "C:\\x\\a.exe");
	S("ed.CommandLine", "run");
	S("ed.EventID", "1");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 1);
	CHECK_STR(m[0]->id, "o");
	/* NewProcessName is only for category pc */
	reset();
	S("NewProcessName", "C:\\x\\a.exe");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 0);
	/* product l: only the unrestricted entry applies */
	reset();
	S("never.used", "x");
	S("x.other", "y");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 1);
	CHECK_STR(m[0]->id, "l");
	detect_ctx_free(ctx);
	detect_free(rs);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		UNIT_FAIL("cannot write %s", path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

/* A folder named as both rule path and mapping path: everything once. */
TEST(rule_and_mapping_paths_overlap)
{
	char dir[] = "/tmp/vigil-detect-XXXXXX", p1[64], p2[64], p3[64], sub[64];
	const char *paths[1], *rules[2];
	struct detect_opts o;
	struct detect_stats s;
	struct vg_diag d;
	struct ruleset *rs;

	if (mkdtemp(dir) == NULL) {
		UNIT_FAIL("mkdtemp");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/mappings", dir);
	mkdir(sub, 0700);
	snprintf(p1, sizeof(p1), "%s/mappings/m.yml", dir);
	snprintf(p2, sizeof(p2), "%s/r.yml", dir);
	snprintf(p3, sizeof(p3), "%s/bad.yml", dir);
	write_file(p1, "logsources:\n  - product: linux\n"
	    "    conditions: {log.syslog.priority|exists: true}\n");
	write_file(p2, "title: r\nid: r\nlogsource: {product: linux}\n"
	    "detection: {sel: {a: 1}, condition: sel}\n");
	write_file(p3, "title: [\n");
	paths[0] = dir;
	vg_diag_init(&d, NULL);
	memset(&o, 0, sizeof(o));
	o.rule_paths = paths;
	o.nrule_paths = 1;
	o.mapping_paths = paths;
	o.nmapping_paths = 1;
	rs = detect_load(&o, &d, &s);
	CHECK_INT(s.files, 3);
	CHECK_INT(s.loaded, 1);
	CHECK_INT(s.rejected, 1); /* bad.yml, reported once */
	CHECK_INT(d.errors, 1);
	CHECK_INT(s.warnings, 0);
	detect_free(rs);
	/* rules named one by one, mappings by their folder */
	rules[0] = p2;
	rules[1] = p2;
	o.rule_paths = rules;
	o.nrule_paths = 2;
	vg_diag_init(&d, NULL);
	rs = detect_load(&o, &d, &s);
	CHECK_INT(s.loaded, 1);
	CHECK_INT(s.warnings, 0);
	CHECK_INT(detect_rule_count(rs), 1);
	detect_free(rs);
	unlink(p1);
	unlink(p2);
	unlink(p3);
	rmdir(sub);
	rmdir(dir);
}

TEST(mapping_errors)
{
	struct ruleset *rs = load(
	    "logsources:\n"
	    "    - colour: red\n"
	    "    - product: linux\n"
	    "      conditions: {a|nope: 1}\n"
	    "fieldmappings:\n"
	    "    User: {x: y}\n");

	CHECK(has_line("t.yml:2:7: error: unknown key 'colour' in a logsources entry"));
	CHECK(has_line("t.yml:4:22: error: unsupported modifier 'nope'"));
	CHECK(has_line("t.yml:6:11: error: 'User' must map to a field name or a list "
	    "of field names"));
	CHECK_INT(st.rejected, 1);
	detect_free(rs);
}

TEST(matches_come_in_load_order)
{
	struct ruleset *rs = load(MAPS
	    "title: a\nid: a\nlogsource: {product: linux, service: sshd}\n"
	    "detection: {sel: {x: 1}, condition: sel}\n"
	    "---\n"
	    "title: b\nid: b\nlogsource: {product: linux}\n"
	    "detection: {sel: {x: 1}, condition: sel}\n"
	    "---\n"
	    "title: c\nid: c\nlogsource: {product: linux, service: sshd}\n"
	    "detection: {sel: {x: 1}, condition: sel}\n");
	struct detect_ctx *ctx = detect_ctx_new(rs);
	const struct rule *const *m;

	reset();
	S("log.syslog.priority", "38");
	S("process.name", "sshd");
	S("x", "1");
	CHECK_INT(detect_event(rs, ctx, ev, &m), 3);
	CHECK_STR(m[0]->id, "a");
	CHECK_STR(m[1]->id, "b");
	CHECK_STR(m[2]->id, "c");
	detect_ctx_free(ctx);
	detect_free(rs);
}

TEST(explain_says_why)
{
	struct ruleset *rs = load(MAPS
	    "title: root login\nid: r1\nlogsource: {product: linux, service: sshd}\n"
	    "detection:\n"
	    "    sel:\n"
	    "        User: root\n"
	    "        event.outcome: success\n"
	    "    filter:\n"
	    "        Src|cidr: 10.0.0.0/8\n"
	    "    condition: sel and not filter\n"
	    "---\n"
	    "title: kw\nid: r2\nlogsource: {product: linux, service: sshd}\n"
	    "detection: {kw: [Corrupted MAC, bad client], condition: kw}\n"
	    "---\n"
	    "title: web\nid: r3\nlogsource: {category: webserver}\n"
	    "detection: {sel: {cs-method: POST}, condition: sel}\n");
	struct detect_ctx *ctx = detect_ctx_new(rs);
	struct buf b;

	buf_init(&b);
	reset();
	S("log.syslog.priority", "38");
	S("process.name", "sshd");
	S("message", "Accepted password for bob");
	S("user.name", "bob");
	S("event.outcome", "success");
	detect_explain(rs, ctx, ev, &b);
	CHECK_STR(buf_cstr(&b),
	    "[{\"rule\":\"r1\",\"title\":\"root login\",\"matched\":false,"
	    "\"why\":\"selection 'sel' failed: field 'User' (user.name) is 'bob', "
	    "expected 'root'\"},"
	    "{\"rule\":\"r2\",\"title\":\"kw\",\"matched\":false,"
	    "\"why\":\"selection 'kw' failed: the message holds no keyword: it is "
	    "'Accepted password for bob', expected one of 'Corrupted MAC', "
	    "'bad client'\"}]");
	buf_clear(&b);
	reset();
	S("log.syslog.priority", "38");
	S("process.name", "sshd");
	S("user.name", "root");
	S("event.outcome", "success");
	S("source.ip", "10.2.3.4");
	detect_explain(rs, ctx, ev, &b);
	CHECK(strstr(buf_cstr(&b), "{\"rule\":\"r1\",\"title\":\"root login\","
	    "\"matched\":false,\"why\":\"excluded: selection 'filter' matched (field "
	    "'Src' (source.ip) is '10.2.3.4')\"}") != NULL);
	buf_clear(&b);
	reset();
	S("log.syslog.priority", "38");
	S("process.name", "sshd");
	S("user.name", "root");
	S("source.ip", "192.0.2.1");
	S("event.outcome", "success");
	detect_explain(rs, ctx, ev, &b);
	CHECK(strstr(buf_cstr(&b), "{\"rule\":\"r1\",\"title\":\"root login\","
	    "\"matched\":true,\"why\":\"selection 'sel' matched (field 'User' "
	    "(user.name) is 'root', field 'event.outcome' is 'success'); selection "
	    "'filter' failed: field 'Src' (source.ip) is '192.0.2.1', "
	    "expected in 10.0.0.0/8\"}") != NULL);
	buf_clear(&b);
	/* none of the mapped fields present: all of them are named */
	reset();
	S("log.syslog.priority", "38");
	S("process.name", "sshd");
	S("user.name", "root");
	S("event.outcome", "success");
	detect_explain(rs, ctx, ev, &b);
	CHECK(strstr(buf_cstr(&b), "'filter' failed: field 'Src' (source.ip, "
	    "client.ip) is absent") != NULL);
	buf_clear(&b);
	reset();
	S("log.syslog.priority", "38");
	S("process.name", "sshd");
	S("event.outcome", "success");
	detect_explain(rs, ctx, ev, &b);
	CHECK(strstr(buf_cstr(&b), "\"why\":\"selection 'sel' failed: field 'User' "
	    "(user.name) is absent\"") != NULL);
	/* only the rules of the event's logsource */
	CHECK(strstr(buf_cstr(&b), "\"r3\"") == NULL);
	buf_free(&b);
	detect_ctx_free(ctx);
	detect_free(rs);
}

TEST(explain_lists_and_modifiers)
{
	struct ruleset *rs = RULE(
	    "    sel:\n"
	    "        CommandLine|contains|all: [' -enc ', powershell]\n"
	    "        Image|endswith: ['\\a.exe', '\\b.exe']\n"
	    "    condition: sel\n");
	struct detect_ctx *ctx = detect_ctx_new(rs);
	struct buf b;

	buf_init(&b);
	reset();
	S("CommandLine", "powershell -nop");
	S("Image", "C:\\a.exe");
	detect_explain(rs, ctx, ev, &b);
	CHECK_STR(buf_cstr(&b), "[{\"rule\":\"R\",\"title\":\"T\",\"matched\":false,"
	    "\"why\":\"selection 'sel' failed: field 'CommandLine' is 'powershell -nop', "
	    "expected to contain ' -enc ' as well (all)\"}]");
	buf_clear(&b);
	reset();
	S("CommandLine", "powershell -enc x");
	S("Image", "C:\\c.exe");
	detect_explain(rs, ctx, ev, &b);
	CHECK_STR(buf_cstr(&b), "[{\"rule\":\"R\",\"title\":\"T\",\"matched\":false,"
	    "\"why\":\"selection 'sel' failed: field 'Image' is 'C:\\\\c.exe', "
	    "expected to end with one of '\\\\a.exe', '\\\\b.exe'\"}]");
	buf_free(&b);
	detect_ctx_free(ctx);
	detect_free(rs);
}

TEST(yaml_errors_and_odd_documents)
{
	struct ruleset *rs = load("title: [unclosed\n");

	CHECK_INT(st.rejected, 1);
	CHECK(strstr(diag, "t.yml:2:1: error: YAML:") != NULL);
	detect_free(rs);
	rs = load("- just\n- a list\n");
	CHECK(has_line("t.yml:1:1: error: a rule document must be a map, not a list"));
	detect_free(rs);
	rs = load("");
	CHECK_INT(st.loaded, 0);
	CHECK_INT(st.rejected, 0);
	CHECK_INT(detect_rule_count(rs), 0);
	detect_free(rs);
	rs = RULE("    sel: {}\n    condition: sel\n");
	CHECK(has_line("t.yml:6:10: error: empty selection"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: {b: c}\n    condition: sel\n");
	CHECK(has_line("t.yml:7:12: error: a value must be a string or a number, not a map"));
	detect_free(rs);
	rs = RULE("    sel:\n        a: 1\n    timeframe: 5m\n    condition: sel\n");
	CHECK(has_line("t.yml:8:5: error: timeframe is not supported (old aggregation "
	    "syntax); write a correlation rule"));
	detect_free(rs);
}

int main(void)
{
	ev = vg_event_new();
	RUN(maps_are_and_lists_are_or);
	RUN(list_of_maps_is_or);
	RUN(keywords_match_message_or_any_string);
	RUN(keyword_and_field_rule_share_a_literal);
	RUN(keyword_all_needs_every_keyword);
	RUN(null_means_absent_or_null);
	RUN(null_in_a_list_is_an_error);
	RUN(wildcards_star_and_question_mark);
	RUN(escaped_wildcards_and_backslashes);
	RUN(contains_startswith_endswith);
	RUN(all_modifier_on_lists);
	RUN(multi_valued_fields_match_any_value);
	RUN(case_insensitive_by_default_and_cased);
	RUN(numbers_and_booleans);
	RUN(regex_modifier_and_flags);
	RUN(regex_literals_never_hide_a_match);
	RUN(regex_errors_and_limits);
	RUN(cidr_ipv4_ipv6_and_edges);
	RUN(exists_modifier);
	RUN(exists_among_values_in_and_and_or);
	RUN(equality_at_every_length_and_position);
	RUN(contains_in_long_values_at_every_position);
	RUN(numeric_comparisons);
	RUN(base64_and_base64offset);
	RUN(utf16_encodings);
	RUN(windash_variants);
	RUN(fieldref_compares_two_fields);
	RUN(expand_placeholders);
	RUN(neq_and_time_modifiers);
	RUN(modifier_combinations);
	RUN(unsupported_modifiers_are_errors_with_position);
	RUN(condition_precedence_and_parentheses);
	RUN(condition_quantifiers);
	RUN(condition_lists_are_or);
	RUN(condition_errors);
	RUN(rule_metadata_and_validation);
	RUN(duplicate_ids_are_warned);
	RUN(every_error_of_a_file_is_reported);
	RUN(correlation_documents_are_kept_not_rejected);
	RUN(rule_collections_global_reset_repeat);
	RUN(sigma_filters_apply_to_named_rules);
	RUN(mappings_select_events_and_rename_fields);
	RUN(field_mapping_star_stands_for_any_name);
	RUN(rule_and_mapping_paths_overlap);
	RUN(mapping_errors);
	RUN(matches_come_in_load_order);
	RUN(explain_says_why);
	RUN(explain_lists_and_modifiers);
	RUN(yaml_errors_and_odd_documents);
	vg_event_free(ev);
	return unit_done();
}
