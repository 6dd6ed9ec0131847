/*
 * test_jsonin.c: JSON messages flattened into fields, and every way one is
 * rejected. Events are checked whole: one line per field, `name` then a
 * kind mark (= text, # number, ? boolean, ~ null) then the value, bytes
 * outside printable ASCII as \xNN.
 */
#include <dirent.h>

#include "unit.h"
#include "../../engine/event.h"
#include "../../engine/jsonin.h"
#include "../../engine/vg.h"
#include "../../engine/vgtime.h"

static struct vg_event *ev;
static struct vg_err err;

static const char *render(void)
{
	static char out[1 << 16];
	static const char mark[] = { '=', '#', '?', '~' };
	size_t o = 0;

	for (uint32_t i = 0; i < ev->n; i++) {
		const struct fent *e = &ev->ents[i];

		if (e->dead)
			continue;
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%.*s%c",
		    (int)e->name_len, e->name, mark[e->v.kind & 3]);
		for (uint32_t j = 0; j < e->v.len && o < sizeof(out) - 8; j++) {
			unsigned char c = (unsigned char)e->v.s[j];

			if (c < 0x20 || c >= 0x7f)
				o += (size_t)snprintf(out + o, 8, "\\x%02x", c);
			else
				out[o++] = (char)c;
		}
		if (o < sizeof(out) - 1)
			out[o++] = '\n';
	}
	out[o] = '\0';
	return out;
}

static enum jsonin_result parse_lim(const char *s, size_t len,
    const struct jsonin_limits *lim)
{
	vg_event_reset(ev);
	vg_err_clear(&err);
	return jsonin_parse(ev, s, len, lim, 0, &err);
}

static enum jsonin_result parse(const char *s)
{
	return parse_lim(s, strlen(s), NULL);
}

#define EXPECT(json, fields)                                            \
	do {                                                            \
		CHECK_INT(parse(json), JSONIN_OK);                      \
		CHECK_STR(render(), fields);                            \
		CHECK(!err.set);                                        \
	} while (0)

#define REJECT(json, res)                                               \
	do {                                                            \
		CHECK_INT(parse(json), res);                            \
		CHECK_INT(ev->n, 0);                                    \
		CHECK(err.set);                                         \
	} while (0)

TEST(flattens_nested_objects)
{
	EXPECT("{\"source\":{\"ip\":\"203.0.113.9\",\"port\":4711},"
	    "\"event\":{\"action\":\"ssh_login\",\"outcome\":\"failure\"},"
	    "\"message\":\"Failed password\"}",
	    "source.ip=203.0.113.9\n"
	    "source.port#4711\n"
	    "event.action=ssh_login\n"
	    "event.outcome=failure\n"
	    "message=Failed password\n");
	/* a known name gets its id, so rules find it */
	CHECK_STR(vg_event_str(ev, F_MESSAGE), "Failed password");
	EXPECT("{\"a\":{\"b\":{\"c\":{\"d\":\"deep\"}}}}", "a.b.c.d=deep\n");
}

TEST(arrays_become_multi_valued)
{
	uint32_t id = field_intern("tags", 4);
	int n = 0;

	EXPECT("{\"tags\":[\"a\",\"b\",3,null]}",
	    "tags=a\n"
	    "tags=b\n"
	    "tags#3\n"
	    "tags~null\n");
	for (uint32_t i = vg_event_first(ev, id); i != FENT_END; i = ev->ents[i].next)
		n++;
	CHECK_INT(n, 4);
	/* arrays of objects flatten each under the prefix */
	EXPECT("{\"a\":[{\"b\":1},{\"b\":2,\"c\":\"x\"}]}",
	    "a.b#1\n"
	    "a.b#2\n"
	    "a.c=x\n");
	/* nested arrays flatten too */
	EXPECT("{\"m\":[[1,2],[3,[4]],[]]}",
	    "m#1\n"
	    "m#2\n"
	    "m#3\n"
	    "m#4\n");
}

TEST(value_kinds_and_texts)
{
	const struct value *v;

	EXPECT("{\"s\":\"x\",\"i\":-42,\"big\":9007199254740993,"
	    "\"max\":9223372036854775807,\"r\":0.1,\"r2\":1.0,\"r3\":1e300,"
	    "\"r4\":-2.5e-7,\"r5\":3.141592653589793,\"t\":true,\"f\":false,"
	    "\"n\":null}",
	    "s=x\n"
	    "i#-42\n"
	    "big#9007199254740993\n"
	    "max#9223372036854775807\n"
	    "r#0.1\n"
	    "r2#1.0\n"
	    "r3#1e+300\n"
	    "r4#-2.5e-07\n"
	    "r5#3.141592653589793\n"
	    "t?true\n"
	    "f?false\n"
	    "n~null\n");
	v = &ev->ents[1].v;
	CHECK(v->num == -42.0);
	v = &ev->ents[4].v;
	CHECK(v->num == 0.1);
	CHECK(ev->ents[9].v.num == 1.0);
	CHECK(ev->ents[10].v.num == 0.0);
}

TEST(integers_beyond_64_bits_become_reals)
{
	EXPECT("{\"x\":18446744073709551616,\"y\":1}",
	    "x#1.8446744073709552e+19\n"
	    "y#1.0\n");
}

TEST(strings_escapes_unicode_nul)
{
	const struct value *v;

	EXPECT("{\"u\":\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\n\",\"m\":\"a\\u0000b\"}",
	    "u=\\xc3\\xa9\\xf0\\x9f\\x98\\x80\"\\/\\x0a\n"
	    "m=a\\x00b\n");
	v = &ev->ents[1].v;
	CHECK_INT(v->len, 3);
	CHECK(memcmp(v->s, "a\0b", 4) == 0);
}

TEST(odd_keys)
{
	/* dotted keys, empty keys */
	EXPECT("{\"a.b\":1,\"\":2,\"c\":{\"\":3}}",
	    "a.b#1\n"
	    "#2\n"
	    "c.#3\n");
	/* empty containers add nothing */
	EXPECT("{\"a\":{},\"b\":[],\"c\":[{}]}", "");
	EXPECT("{}", "");
	/* whitespace around the object */
	EXPECT(" \t{\"a\" : 1 }\r\n ", "a#1\n");
}

TEST(duplicates_last_wins)
{
	EXPECT("{\"a\":1,\"b\":\"x\",\"a\":2}",
	    "a#2\n"
	    "b=x\n");
}

#define ZONELESS "{\"@timestamp\":\"2026-11-23T00:00:05\"}"

TEST(timestamp_string)
{
	EXPECT("{\"@timestamp\":\"2026-11-23T00:00:05.123+01:00\",\"m\":1}",
	    "@timestamp=2026-11-23T00:00:05.123+01:00\n"
	    "m#1\n");
	CHECK(ev->has_ts);
	CHECK_INT(ev->ts_ms, 1795388405123LL);
	/* zone-less: the offset passed in */
	vg_event_reset(ev);
	CHECK_INT(jsonin_parse(ev, ZONELESS, strlen(ZONELESS), NULL, 60, NULL),
	    JSONIN_OK);
	CHECK(ev->has_ts);
	CHECK_INT(ev->ts_ms, 1795388405000LL);
}

TEST(timestamp_numeric_and_bad)
{
	EXPECT("{\"@timestamp\":1795435200000}", "@timestamp#1795435200000\n");
	CHECK(ev->has_ts);
	CHECK_INT(ev->ts_ms, 1795435200000LL);
	EXPECT("{\"@timestamp\":1795435200000.9}",
	    "@timestamp#1795435200000.9\n");
	CHECK(ev->has_ts);
	CHECK_INT(ev->ts_ms, 1795435200000LL);
	/* unparseable: kept as a field, no event time */
	EXPECT("{\"@timestamp\":\"yesterday\"}", "@timestamp=yesterday\n");
	CHECK(!ev->has_ts);
	EXPECT("{\"@timestamp\":\"2026-11-23T00:00:05Z trailing\"}",
	    "@timestamp=2026-11-23T00:00:05Z trailing\n");
	CHECK(!ev->has_ts);
	EXPECT("{\"@timestamp\":true}", "@timestamp?true\n");
	CHECK(!ev->has_ts);
	/* only the top-level name counts */
	EXPECT("{\"x\":{\"@timestamp\":\"2026-11-23T00:00:05Z\"}}",
	    "x.@timestamp=2026-11-23T00:00:05Z\n");
	CHECK(!ev->has_ts);
	/* an array: the first value that parses */
	EXPECT("{\"@timestamp\":[\"bad\",\"2026-11-23T00:00:05Z\","
	    "\"2027-01-01T00:00:00Z\"]}",
	    "@timestamp=bad\n"
	    "@timestamp=2026-11-23T00:00:05Z\n"
	    "@timestamp=2027-01-01T00:00:00Z\n");
	CHECK_INT(ev->ts_ms, 1795392005000LL);
}

TEST(invalid_json)
{
	REJECT("{", JSONIN_INVALID);
	REJECT("", JSONIN_INVALID);
	REJECT("{\"a\":}", JSONIN_INVALID);
	REJECT("{'a':1}", JSONIN_INVALID);
	REJECT("{\"a\":1} x", JSONIN_INVALID);
	REJECT("{\"a\":1}{\"b\":2}", JSONIN_INVALID);
	REJECT("{\"a\":NaN}", JSONIN_INVALID);
	REJECT("{\"a\":1e999}", JSONIN_INVALID);
	REJECT("{\"a\":\"\xff\"}", JSONIN_INVALID);
	REJECT("\xEF\xBB\xBF{\"a\":1}", JSONIN_INVALID);
	CHECK_INT(parse("{\"a\":1,\"b\":x}"), JSONIN_INVALID);
	CHECK_INT(err.col, 12);
	CHECK(strncmp(err.msg, "invalid JSON: ", 14) == 0);
}

TEST(not_an_object)
{
	REJECT("[1,2]", JSONIN_INVALID);
	REJECT("\"str\"", JSONIN_INVALID);
	REJECT("42", JSONIN_INVALID);
	REJECT("null", JSONIN_INVALID);
	REJECT("true", JSONIN_INVALID);
}

TEST(limit_too_big)
{
	struct jsonin_limits lim;
	static const char js[] = "{\"a\":\"0123456789\"}";

	jsonin_limits_default(&lim);
	lim.max_bytes = sizeof(js) - 2;
	CHECK_INT(parse_lim(js, sizeof(js) - 1, &lim), JSONIN_TOO_BIG);
	CHECK_INT(ev->n, 0);
	CHECK_INT(err.col, (int)sizeof(js) - 1);
	lim.max_bytes = sizeof(js) - 1;
	CHECK_INT(parse_lim(js, sizeof(js) - 1, &lim), JSONIN_OK);
	CHECK_STR(render(), "a=0123456789\n");
}

static char *nest(int depth, const char *open, const char *leaf,
    const char *close)
{
	size_t lo = strlen(open), ll = strlen(leaf), lc = strlen(close);
	char *s = malloc((size_t)depth * (lo + lc) + ll + 1), *p = s;

	for (int i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, leaf, ll);
	p += ll;
	for (int i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

#define QS "{\"a\":\"[[{{\\\"[[\"}"

TEST(limit_too_deep)
{
	struct jsonin_limits lim;
	char *s;

	/* the default depth is 32: the top object and 31 more */
	s = nest(32, "{\"a\":", "1", "}");
	CHECK_INT(parse(s), JSONIN_OK);
	CHECK_INT(ev->n, 1);
	CHECK_INT(ev->ents[0].name_len, 31 * 2 + 1);
	free(s);
	s = nest(33, "{\"a\":", "1", "}");
	REJECT(s, JSONIN_TOO_DEEP);
	CHECK_INT(err.col, 32 * 5 + 1);
	free(s);
	/* arrays count as levels */
	s = nest(32, "[", "1", "]");
	{
		char *o = malloc(strlen(s) + 8);

		sprintf(o, "{\"a\":%s}", s);
		REJECT(o, JSONIN_TOO_DEEP);
		free(o);
	}
	free(s);
	/* brackets inside strings do not count */
	jsonin_limits_default(&lim);
	lim.max_depth = 1;
	CHECK_INT(parse_lim(QS, strlen(QS), &lim), JSONIN_OK);
	CHECK_STR(render(), "a=[[{{\"[[\n");
}

TEST(deep_nesting_no_stack_blowup)
{
	struct jsonin_limits lim;
	size_t n = 1 << 20;
	char *s = malloc(n);

	memset(s, '[', n);
	s[0] = '{';
	CHECK_INT(parse_lim(s, n, NULL), JSONIN_TOO_DEEP);
	CHECK_INT(ev->n, 0);
	/* even with our own limit lifted, Jansson's bounds the parse */
	jsonin_limits_default(&lim);
	lim.max_depth = 1 << 30;
	CHECK_INT(parse_lim(s, n, &lim), JSONIN_INVALID);
	CHECK_INT(ev->n, 0);
	free(s);
}

TEST(limit_too_many_fields)
{
	struct jsonin_limits lim;
	static const char js[] = "{\"a\":1,\"b\":[2,3],\"c\":{\"d\":4}}";

	jsonin_limits_default(&lim);
	lim.max_fields = 4;
	CHECK_INT(parse_lim(js, sizeof(js) - 1, &lim), JSONIN_OK);
	CHECK_STR(render(), "a#1\nb#2\nb#3\nc.d#4\n");
	lim.max_fields = 3;
	CHECK_INT(parse_lim(js, sizeof(js) - 1, &lim), JSONIN_TOO_MANY);
	CHECK_INT(ev->n, 0);
	CHECK(err.set);
}

TEST(failure_leaves_event_untouched)
{
	struct jsonin_limits lim;
	static const char js[] = "{\"@timestamp\":\"2026-11-23T00:00:05Z\","
	    "\"message\":\"x\",\"b\":2}";

	jsonin_limits_default(&lim);
	lim.max_fields = 2;
	vg_event_reset(ev);
	vg_event_add(ev, F_OBSERVER_INGRESS, "http", 4);
	CHECK_INT(jsonin_parse(ev, js, sizeof(js) - 1, &lim, 0, NULL),
	    JSONIN_TOO_MANY);
	CHECK_STR(render(), "observer.ingress=http\n");
	CHECK(vg_event_str(ev, F_MESSAGE) == NULL);
	CHECK(!ev->has_ts);
	/* and a success adds to what was there */
	lim.max_fields = 3;
	CHECK_INT(jsonin_parse(ev, js, sizeof(js) - 1, &lim, 0, NULL), JSONIN_OK);
	CHECK_STR(render(), "observer.ingress=http\n"
	    "@timestamp=2026-11-23T00:00:05Z\n"
	    "message=x\n"
	    "b#2\n");
}

TEST(names_are_not_interned)
{
	uint32_t before;

	parse("{\"zz_fresh_key_1\":{\"q\":1}}");
	before = field_count();
	CHECK_INT(parse("{\"zz_fresh_key_2\":{\"q\":1}}"), JSONIN_OK);
	CHECK_INT(field_count(), before);
	CHECK_INT(ev->ents[0].id, FIELD_NONE);
	CHECK_STR(ev->ents[0].name, "zz_fresh_key_2.q");
}

TEST(result_names_and_defaults)
{
	struct jsonin_limits lim;

	CHECK_STR(jsonin_result_name(JSONIN_OK), "ok");
	CHECK_STR(jsonin_result_name(JSONIN_INVALID), "invalid");
	CHECK_STR(jsonin_result_name(JSONIN_TOO_BIG), "too_big");
	CHECK_STR(jsonin_result_name(JSONIN_TOO_DEEP), "too_deep");
	CHECK_STR(jsonin_result_name(JSONIN_TOO_MANY), "too_many_fields");
	jsonin_limits_default(&lim);
	CHECK_INT(lim.max_bytes, 1048576);
	CHECK_INT(lim.max_depth, 32);
	CHECK_INT(lim.max_fields, 4096);
}

TEST(evtx_record_time_when_no_timestamp)
{
	EXPECT("{\"Event\":{\"System\":{\"TimeCreated\":{\"#attributes\":"
	    "{\"SystemTime\":\"2026-03-02T10:15:02.123456Z\"}},\"EventID\":1}}}",
	    "Event.System.TimeCreated.#attributes.SystemTime=2026-03-02T10:15:02.123456Z\n"
	    "Event.System.EventID#1\n");
	CHECK(ev->has_ts);
	CHECK_INT(ev->ts_ms, 1772446502123LL);
	/* @timestamp wins, wherever it is */
	EXPECT("{\"Event\":{\"System\":{\"TimeCreated\":{\"#attributes\":"
	    "{\"SystemTime\":\"2026-03-02T10:15:02Z\"}}}},"
	    "\"@timestamp\":\"2026-11-23T00:00:05Z\"}",
	    "Event.System.TimeCreated.#attributes.SystemTime=2026-03-02T10:15:02Z\n"
	    "@timestamp=2026-11-23T00:00:05Z\n");
	CHECK_INT(ev->ts_ms, 1795392005000LL);
	/* and when it does not parse, the record time still counts */
	EXPECT("{\"@timestamp\":\"soon\",\"Event\":{\"System\":{\"TimeCreated\":"
	    "{\"#attributes\":{\"SystemTime\":\"2026-03-02T10:15:02Z\"}}}}}",
	    "@timestamp=soon\n"
	    "Event.System.TimeCreated.#attributes.SystemTime=2026-03-02T10:15:02Z\n");
	CHECK_INT(ev->ts_ms, 1772446502000LL);
}

/* ---- the fast parser against Jansson ---- */

static char ra[1 << 16], rb[1 << 16];
static int mismatches, compared;

/* Parse with jsonin_parse and with Jansson alone: same result, fields,
 * time. */
static void same_as_jansson(const char *s, size_t len, const struct jsonin_limits *lim)
{
	enum jsonin_result x, y;
	int tsx, tsy;
	int64_t msx, msy;

	vg_event_reset(ev);
	vg_err_clear(&err);
	x = jsonin_parse(ev, s, len, lim, 0, &err);
	snprintf(ra, sizeof(ra), "%s", render());
	tsx = ev->has_ts;
	msx = ev->ts_ms;
	vg_event_reset(ev);
	vg_err_clear(&err);
	y = jsonin_parse_reference(ev, s, len, lim, 0, &err);
	snprintf(rb, sizeof(rb), "%s", render());
	tsy = ev->has_ts;
	msy = ev->ts_ms;
	compared++;
	if (x != y || strcmp(ra, rb) != 0 || tsx != tsy || (tsx && msx != msy)) {
		if (mismatches++ < 5)
			fprintf(stderr, "  fast %s, Jansson %s on %.*s\n",
			    jsonin_result_name(x), jsonin_result_name(y),
			    (int)(len > 200 ? 200 : len), s);
	}
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

TEST(fast_parser_agrees_with_jansson)
{
	static const char *const cases[] = {
		"{}", " {} ", "{\"a\":1}", "{\"a\":-0}", "{\"a\":-0.0}", "{\"a\":0e5}",
		"{\"a\":1E+2}", "{\"a\":1e-400}", "{\"a\":1e400}", "{\"a\":01}",
		"{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":+1}", "{\"a\":0x10}",
		"{\"a\":9223372036854775807}", "{\"a\":9223372036854775808}",
		"{\"a\":-9223372036854775808}", "{\"a\":-9223372036854775809}",
		"{\"a\":123456789012345678901234567890}", "{\"a\":1.5,\"a\":2}",
		"{\"a\":{\"b\":1},\"a\":{\"c\":2}}", "{\"a\":[1,{\"b\":[2,3]}],\"c\":null}",
		"{\"a\":tru}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":true,}",
		"{,}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{\"a\":[1,]}", "{\"a\":[,1]}",
		"{\"\\u0061\":1,\"a\":2}", "{\"a\\u0000b\":1}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\"}", "{\"a\":\"\\ud83d\\u0041\"}",
		"{\"a\":\"\\uD83D\\uDE00\"}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\'\"}",
		"{\"a\":\"tab\there\"}", "{\"a\":\"\x7f\"}", "{\"a\":\"\xc3\xa9\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
		"{\"a\":\"\xe2\x82\"}", "{\"\xff\":1}", "{\"a\":1}\n", "{\"a\":1}\x00",
		"\n\r\t{\"a\":1}\t", "{\"a\":\"x\"}{", "[]", "[{\"a\":1}]", "\"x\"",
		"{\"@timestamp\":\"2026-11-23T00:00:05Z\",\"@timestamp\":1}",
		"{\"@timestamp\":[1795435200000.5,\"x\"]}", "{\"@timestamp\":1e30}",
		"{\"a\":[[[[[[[[[[1]]]]]]]]]]}", "{\"a\":\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"}",
		"{\"a\":[\"\\u00e9\",\"\\u20ac\",\"\\U0041\"]}", "{\"a\":1,\"b\":{}}",
		"{\"a\":{\"\":{\"\":1}},\"\":2}",
	};
	struct jsonin_limits tight = { 4096, 3, 5 }, def;
	DIR *dir;
	struct dirent *de;
	FILE *f;
	static char line[1 << 16];

	jsonin_limits_default(&def);
	for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
		same_as_jansson(cases[i], strlen(cases[i]), NULL);
		same_as_jansson(cases[i], strlen(cases[i]), &tight);
	}
	/* embedded NUL bytes */
	same_as_jansson("{\"a\":\"x\0y\"}", 11, NULL);
	same_as_jansson("{\"a\":1}\0", 8, NULL);
	/* the fuzz seeds, the Windows fixtures */
	if ((dir = opendir("tests/fuzz/corpus/json")) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			char path[512];
			size_t n;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "tests/fuzz/corpus/json/%s", de->d_name);
			if ((f = fopen(path, "rb")) == NULL)
				continue;
			n = fread(line, 1, sizeof(line), f);
			fclose(f);
			same_as_jansson(line, n, NULL);
			same_as_jansson(line, n, &tight);
		}
		closedir(dir);
	}
	f = fopen("tests/fixtures/windows/events.jsonl", "r");
	CHECK(f != NULL);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);
		char mut[1 << 16];

		same_as_jansson(line, n, NULL);
		/* and mutations of each: bytes replaced, dropped, repeated */
		for (int k = 0; k < 300; k++) {
			static const char pick[] = "\"\\{}[],:0-e.u tn1E+\x80\xc3\xff\x00";
			size_t m = n, at;
			int op = (int)(next_rand() % 4);

			memcpy(mut, line, n);
			for (int j = 0; j < 1 + (int)(next_rand() % 3); j++) {
				at = (size_t)(next_rand() % m);
				if (op == 0) {
					mut[at] = pick[next_rand() % (sizeof(pick) - 1)];
				} else if (op == 1 && m > 1) {
					memmove(mut + at, mut + at + 1, m - at - 1);
					m--;
				} else if (op == 2 && m + 1 < sizeof(mut)) {
					memmove(mut + at + 1, mut + at, m - at);
					mut[at] = pick[next_rand() % (sizeof(pick) - 1)];
					m++;
				} else if (op == 3 && m + 8 < sizeof(mut)) {
					size_t l = m - at < 8 ? m - at : 8;

					memmove(mut + at + l, mut + at, m - at);
					m += l;
				}
			}
			same_as_jansson(mut, m, (k & 7) == 0 ? &tight : &def);
		}
	}
	if (f != NULL)
		fclose(f);
	printf("# fast parser vs Jansson: %d messages compared\n", compared);
	CHECK(compared > 11000);
	CHECK_INT(mismatches, 0);
}

int main(void)
{
	ev = vg_event_new();
	RUN(flattens_nested_objects);
	RUN(arrays_become_multi_valued);
	RUN(value_kinds_and_texts);
	RUN(integers_beyond_64_bits_become_reals);
	RUN(strings_escapes_unicode_nul);
	RUN(odd_keys);
	RUN(duplicates_last_wins);
	RUN(timestamp_string);
	RUN(timestamp_numeric_and_bad);
	RUN(invalid_json);
	RUN(not_an_object);
	RUN(limit_too_big);
	RUN(limit_too_deep);
	RUN(deep_nesting_no_stack_blowup);
	RUN(limit_too_many_fields);
	RUN(failure_leaves_event_untouched);
	RUN(names_are_not_interned);
	RUN(result_names_and_defaults);
	RUN(evtx_record_time_when_no_timestamp);
	RUN(fast_parser_agrees_with_jansson);
	vg_event_free(ev);
	return unit_done();
}
