/*
 * test_alert.c: the alert JSON schema, event nesting, UUIDv7 ids and the
 * alert file / stdout sink.
 */
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "../../engine/alert.h"
#include "../../engine/vgtime.h"

#define ID0 "00000000-0000-7000-8000-000000000000"

static int valid_uuid7(const char *s);

static uint32_t fid(const char *name)
{
	return field_intern(name, strlen(name));
}

static void add(struct vg_event *ev, const char *name, const char *v)
{
	vg_event_add(ev, fid(name), v, strlen(v));
}

static void add_num(struct vg_event *ev, const char *name, const char *v)
{
	vg_event_add_num(ev, fid(name), v, strlen(v), strtod(v, NULL));
}

/* alert_event_json of ev as a string (owned by a static buffer). */
static const char *ej(const struct vg_event *ev)
{
	static struct buf b;

	buf_clear(&b);
	alert_event_json(&b, ev);
	return buf_cstr(&b);
}

static struct vg_event *sshd_event(void)
{
	struct vg_event *ev = vg_event_new();

	add(ev, "@timestamp", "2026-11-23T00:00:05.000Z");
	add(ev, "host.hostname", "web1");
	add(ev, "process.name", "sshd");
	add_num(ev, "process.pid", "4242");
	add(ev, "message", "Failed password for root from 203.0.113.9 port 4711 ssh2");
	add(ev, "event.category", "authentication");
	add(ev, "event.outcome", "failure");
	add(ev, "user.name", "root");
	add(ev, "source.ip", "203.0.113.9");
	add_num(ev, "source.port", "4711");
	return ev;
}

#define SSHD_JSON                                                               \
	"{\"@timestamp\":\"2026-11-23T00:00:05.000Z\",\"host\":{\"hostname\":\"web1\"}," \
	"\"process\":{\"name\":\"sshd\",\"pid\":4242},"                          \
	"\"message\":\"Failed password for root from 203.0.113.9 port 4711 ssh2\"," \
	"\"event\":{\"category\":\"authentication\",\"outcome\":\"failure\"},"    \
	"\"user\":{\"name\":\"root\"},\"source\":{\"ip\":\"203.0.113.9\",\"port\":4711}}"

static char *rule_tags[] = { "attack.t1110", "attack.credential_access" };

static struct rule test_rule = {
	.id = "5b8a4d1e-2f0a-4c3e-9d7b-0e6f1a2b3c4d",
	.title = "SSH brute force",
	.level = "high",
	.tags = rule_tags,
	.ntags = 2,
};

TEST(detection_alert_exact)
{
	struct vg_event *ev = sshd_event();
	struct alert a = {
		.kind = ALERT_DETECTION,
		.rule = &test_rule,
		.count = 1,
		.ev = ev,
	};
	struct buf b;
	char id[37];

	CHECK_INT(vgtime_parse_iso("2026-11-23T00:00:05Z", 20, 0, &a.ts_ms), 20);
	buf_init(&b);
	alert_to_json_id(&b, &a, ID0);
	CHECK_STR(buf_cstr(&b),
	    "{\"id\":\"" ID0 "\",\"@timestamp\":\"2026-11-23T00:00:05.000Z\","
	    "\"kind\":\"detection\",\"rule\":{\"id\":\"5b8a4d1e-2f0a-4c3e-9d7b-0e6f1a2b3c4d\","
	    "\"title\":\"SSH brute force\",\"level\":\"high\","
	    "\"tags\":[\"attack.t1110\",\"attack.credential_access\"]},"
	    "\"group\":{},\"count\":1,\"event\":" SSHD_JSON "}\n");

	/* alert_to_json: the same with a fresh id */
	buf_clear(&b);
	alert_to_json(&b, &a);
	buf_cstr(&b);
	CHECK(b.len > 44 && strncmp(b.p, "{\"id\":\"", 7) == 0 && b.p[43] == '"');
	memcpy(id, b.p + 7, 36);
	id[36] = '\0';
	CHECK(id[14] == '7');
	CHECK(strstr(b.p, "\",\"@timestamp\":\"2026-11-23T00:00:05.000Z\",\"kind\":"
	    "\"detection\"") == b.p + 43);
	CHECK(b.p[b.len - 1] == '\n' && memchr(b.p, '\n', b.len) == b.p + b.len - 1);
	buf_free(&b);
	vg_event_free(ev);
}

TEST(correlation_alert_exact)
{
	struct vg_event *ev = sshd_event();
	struct alert_kv group[] = {
		{ "source.ip", "203.0.113.9" },
		{ "user.name", "ro\"ot" },
	};
	struct alert a = {
		.kind = ALERT_CORRELATION,
		.rule = &test_rule,
		.ts_ms = 1795392005123LL,
		.group = group,
		.ngroup = 2,
		.count = 18446744073709551615ULL,
		.ev = ev,
	};
	struct buf b;

	buf_init(&b);
	alert_to_json_id(&b, &a, ID0);
	CHECK_STR(buf_cstr(&b),
	    "{\"id\":\"" ID0 "\",\"@timestamp\":\"2026-11-23T00:00:05.123Z\","
	    "\"kind\":\"correlation\",\"rule\":{\"id\":\"5b8a4d1e-2f0a-4c3e-9d7b-0e6f1a2b3c4d\","
	    "\"title\":\"SSH brute force\",\"level\":\"high\","
	    "\"tags\":[\"attack.t1110\",\"attack.credential_access\"]},"
	    "\"group\":{\"source.ip\":\"203.0.113.9\",\"user.name\":\"ro\\\"ot\"},"
	    "\"count\":18446744073709551615,\"event\":" SSHD_JSON "}\n");
	buf_clear(&b);
	a.count = 5;
	a.ngroup = 1;
	alert_to_json_id(&b, &a, ID0);
	CHECK(strstr(buf_cstr(&b), "\"group\":{\"source.ip\":\"203.0.113.9\"},\"count\":5,") != NULL);
	buf_free(&b);
	vg_event_free(ev);
}

TEST(alert_missing_parts)
{
	struct rule bare = { .id = "r1", .title = NULL, .level = NULL };
	struct alert_kv group[] = { { "host.name", NULL } };
	struct alert a = { .kind = ALERT_CORRELATION, .rule = &bare, .ts_ms = 0,
		.group = group, .ngroup = 1, .count = 0, .ev = NULL };
	struct buf b;

	buf_init(&b);
	alert_to_json_id(&b, &a, ID0);
	CHECK_STR(buf_cstr(&b),
	    "{\"id\":\"" ID0 "\",\"@timestamp\":\"1970-01-01T00:00:00.000Z\","
	    "\"kind\":\"correlation\",\"rule\":{\"id\":\"r1\",\"title\":null,"
	    "\"level\":null,\"tags\":[]},\"group\":{\"host.name\":null},\"count\":0,"
	    "\"event\":{}}\n");
	/* alerts folded by vigil.suppress go between the count and the event */
	buf_clear(&b);
	a.count = 7;
	a.suppressed = 12;
	alert_to_json_id(&b, &a, ID0);
	CHECK(strstr(buf_cstr(&b), "\"group\":{\"host.name\":null},\"count\":7,"
	    "\"suppressed\":12,\"event\":{}}\n") != NULL);
	buf_clear(&b);
	a.suppressed = 0;
	a.rule = NULL;
	a.ngroup = 0;
	alert_to_json_id(&b, &a, ID0);
	CHECK(strstr(buf_cstr(&b), "\"rule\":{\"id\":null,\"title\":null,\"level\":null,"
	    "\"tags\":[]},\"group\":{},") != NULL);
	buf_free(&b);
}

TEST(nesting_keeps_first_appearance_order)
{
	struct vg_event *ev = vg_event_new();

	add(ev, "b.x", "1");
	add(ev, "a", "2");
	add(ev, "b.y", "3");
	add(ev, "c.d.e", "4");
	add(ev, "b.z.w", "5");
	add(ev, "c.f", "6");
	add(ev, "b.z.v", "7");
	CHECK_STR(ej(ev), "{\"b\":{\"x\":\"1\",\"y\":\"3\",\"z\":{\"w\":\"5\",\"v\":\"7\"}},"
	    "\"a\":\"2\",\"c\":{\"d\":{\"e\":\"4\"},\"f\":\"6\"}}");
	vg_event_reset(ev);
	CHECK_STR(ej(ev), "{}");
	add(ev, "log.syslog.structured_data.origin@32473.ip", "10.0.0.1");
	CHECK_STR(ej(ev), "{\"log\":{\"syslog\":{\"structured_data\":{\"origin@32473\":"
	    "{\"ip\":\"10.0.0.1\"}}}}}");
	vg_event_free(ev);
	CHECK_STR(ej(NULL), "{}");
}

TEST(multi_values_become_arrays)
{
	struct vg_event *ev = vg_event_new();

	add(ev, "tags", "a");
	add(ev, "user.name", "root");
	add(ev, "tags", "b");
	add_num(ev, "source.port", "1");
	add(ev, "tags", "c");
	add_num(ev, "source.port", "2");
	vg_event_add_named(ev, "x.unknown_one", 13, "u1", 2, V_STR, 0);
	vg_event_add_named(ev, "x.unknown_one", 13, "u2", 2, V_STR, 0);
	CHECK_STR(ej(ev), "{\"tags\":[\"a\",\"b\",\"c\"],\"user\":{\"name\":\"root\"},"
	    "\"source\":{\"port\":[1,2]},\"x\":{\"unknown_one\":[\"u1\",\"u2\"]}}");
	vg_event_free(ev);
}

TEST(value_kinds)
{
	static const struct {
		const char *text, *json;
	} nums[] = {
		{ "0", "0" }, { "-1", "-1" }, { "42", "42" }, { "3.25", "3.25" },
		{ "-1.5e3", "-1.5e3" }, { "1E+9", "1E+9" }, { "0.0", "0.0" },
		{ "01", "\"01\"" }, { "0x10", "\"0x10\"" }, { "NaN", "\"NaN\"" },
		{ "inf", "\"inf\"" }, { "1.", "\"1.\"" }, { ".5", "\".5\"" },
		{ "+1", "\"+1\"" }, { "1e", "\"1e\"" }, { "-", "\"-\"" }, { "", "\"\"" },
		{ "12 ", "\"12 \"" },
		/* numbers JSON readers hold: 64-bit integers, finite reals */
		{ "9223372036854775807", "9223372036854775807" },
		{ "9223372036854775808", "\"9223372036854775808\"" },
		{ "-9223372036854775808", "-9223372036854775808" },
		{ "-9223372036854775809", "\"-9223372036854775809\"" },
		{ "999999999999999999", "999999999999999999" },
		{ "99999999999999999999999", "\"99999999999999999999999\"" },
		{ "1.5e308", "1.5e308" }, { "1.8e308", "\"1.8e308\"" },
		{ "-1e400", "\"-1e400\"" }, { "1e-400", "1e-400" },
		{ "123456789012345678901234567890.5", "123456789012345678901234567890.5" },
	};
	struct vg_event *ev = vg_event_new();
	char want[128];

	for (size_t i = 0; i < VG_ARRAY_LEN(nums); i++) {
		vg_event_reset(ev);
		add_num(ev, "n", nums[i].text);
		snprintf(want, sizeof(want), "{\"n\":%s}", nums[i].json);
		CHECK_STR(ej(ev), want);
	}
	vg_event_reset(ev);
	vg_event_add_named(ev, "t", 1, "true", 4, V_BOOL, 1);
	vg_event_add_named(ev, "f", 1, "false", 5, V_BOOL, 0);
	vg_event_add_named(ev, "z", 1, "null", 4, V_NULL, 0);
	vg_event_add_named(ev, "s", 1, "true", 4, V_STR, 0);
	vg_event_add_named(ev, "q", 1, "7", 1, V_STR, 0);
	CHECK_STR(ej(ev), "{\"t\":true,\"f\":false,\"z\":null,\"s\":\"true\",\"q\":\"7\"}");
	vg_event_free(ev);
}

TEST(escaping)
{
	struct vg_event *ev = vg_event_new();

	add(ev, "message", "say \"hi\"\\\n\t\x01 caf\xc3\xa9 \xff!");
	vg_event_add_named(ev, "we\"ird.k\\ey", 11, "v", 1, V_STR, 0);
	vg_event_add_named(ev, "ctl.\x02", 5, "v", 1, V_STR, 0);
	CHECK_STR(ej(ev), "{\"message\":\"say \\\"hi\\\"\\\\\\n\\t\\u0001 caf\xc3\xa9 "
	    "\xef\xbf\xbd!\",\"we\\\"ird\":{\"k\\\\ey\":\"v\"},\"ctl\":{\"\\u0002\":\"v\"}}");
	vg_event_free(ev);
}

TEST(leaf_and_prefix_conflicts)
{
	struct vg_event *ev = vg_event_new();

	add(ev, "source", "x");
	add(ev, "source.ip", "203.0.113.9");
	CHECK_STR(ej(ev), "{\"source\":{\"\":\"x\",\"ip\":\"203.0.113.9\"}}");
	vg_event_reset(ev);
	add(ev, "source.ip", "203.0.113.9");
	add(ev, "source.port", "1");
	add(ev, "source", "x");
	add(ev, "source", "y");
	CHECK_STR(ej(ev), "{\"source\":{\"\":[\"x\",\"y\"],\"ip\":\"203.0.113.9\","
	    "\"port\":\"1\"}}");
	vg_event_reset(ev);
	add(ev, "a.b", "1");
	add(ev, "a.b.c", "2");
	add(ev, "a", "3");
	CHECK_STR(ej(ev), "{\"a\":{\"\":\"3\",\"b\":{\"\":\"1\",\"c\":\"2\"}}}");
	vg_event_free(ev);
}

TEST(empty_segments_stay_flat)
{
	struct vg_event *ev = vg_event_new();
	struct buf deep;

	vg_event_add_named(ev, "a..b", 4, "1", 1, V_STR, 0);
	vg_event_add_named(ev, ".a", 2, "2", 1, V_STR, 0);
	vg_event_add_named(ev, "a.", 2, "3", 1, V_STR, 0);
	vg_event_add_named(ev, "", 0, "4", 1, V_STR, 0);
	vg_event_add_named(ev, "a.c", 3, "5", 1, V_STR, 0);
	vg_event_add_named(ev, "a..b", 4, "6", 1, V_STR, 0);
	vg_event_add_named(ev, ".", 1, "7", 1, V_STR, 0);
	CHECK_STR(ej(ev), "{\"a..b\":[\"1\",\"6\"],\".a\":\"2\",\"a.\":\"3\",\"\":\"4\","
	    "\"a\":{\"c\":\"5\"},\".\":\"7\"}");

	/* 64 segments nest; 65 stay one flat key */
	buf_init(&deep);
	for (int i = 0; i < 64; i++)
		buf_adds(&deep, i ? ".s" : "s");
	vg_event_reset(ev);
	vg_event_add_named(ev, deep.p, deep.len, "d", 1, V_STR, 0);
	{
		struct buf want;

		buf_init(&want);
		buf_addc(&want, '{');
		for (int i = 0; i < 63; i++)
			buf_adds(&want, "\"s\":{");
		buf_adds(&want, "\"s\":\"d\"");
		for (int i = 0; i < 64; i++)
			buf_addc(&want, '}');
		CHECK_STR(ej(ev), buf_cstr(&want));
		buf_free(&want);
	}
	buf_adds(&deep, ".s");
	vg_event_reset(ev);
	vg_event_add_named(ev, deep.p, deep.len, "d", 1, V_STR, 0);
	{
		struct buf want;

		buf_init(&want);
		buf_adds(&want, "{\"");
		buf_add(&want, deep.p, deep.len);
		buf_adds(&want, "\":\"d\"}");
		CHECK_STR(ej(ev), buf_cstr(&want));
		buf_free(&want);
	}
	buf_free(&deep);
	vg_event_free(ev);
}

TEST(dead_entries_are_skipped)
{
	struct vg_event *ev = vg_event_new();
	uint32_t tags = fid("tags");

	add(ev, "tags", "a");
	add(ev, "user.name", "root");
	add(ev, "tags", "b");
	add(ev, "gone.x", "1");
	vg_event_set(ev, tags, "c", 1);
	vg_event_del(ev, fid("gone.x"));
	CHECK_STR(ej(ev), "{\"user\":{\"name\":\"root\"},\"tags\":\"c\"}");
	vg_event_del(ev, fid("user.name"));
	vg_event_del(ev, tags);
	CHECK_STR(ej(ev), "{}");
	vg_event_free(ev);
}

TEST(big_event_and_reuse)
{
	struct vg_event *ev = vg_event_new();
	struct buf want;
	char name[32], val[32];

	/* grows the scratch area, then a small event reuses it */
	buf_init(&want);
	buf_adds(&want, "{\"big\":{");
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "big.f%d", i);
		snprintf(val, sizeof(val), "%d", i);
		vg_event_add_named(ev, name, strlen(name), val, strlen(val), V_NUM, i);
		buf_printf(&want, "%s\"f%d\":%d", i ? "," : "", i, i);
	}
	buf_adds(&want, "}}");
	CHECK_STR(ej(ev), buf_cstr(&want));
	buf_free(&want);
	vg_event_reset(ev);
	add(ev, "a.b", "1");
	CHECK_STR(ej(ev), "{\"a\":{\"b\":\"1\"}}");
	vg_event_free(ev);
}

/* Scalars in a parsed JSON document (array elements count one each). */
static size_t count_leaves(const json_t *j)
{
	size_t n = 0, i;
	const char *k;
	json_t *v;

	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v)
			n += count_leaves(v);
		return n;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			n += count_leaves(v);
		return n;
	}
	return 1;
}

TEST(random_events_give_valid_json)
{
	static const char *const segs[] = { "a", "b", "c", "", "d\"e", "\xff" };
	static const char *const vals[] = { "1", "-2.5", "x", "", "0x1", "\n" };
	struct vg_event *ev = vg_event_new();
	unsigned seed = 12345;
	int bad = 0;

	for (int round = 0; round < 3000; round++) {
		int n = (int)(seed % 40), live = 0;
		json_t *j;
		json_error_t jerr;

		vg_event_reset(ev);
		for (int i = 0; i < n; i++) {
			char name[64] = "";
			int nseg;

			seed = seed * 1103515245u + 12345u;
			nseg = 1 + (int)((seed >> 16) % 4);
			for (int k = 0; k < nseg; k++) {
				seed = seed * 1103515245u + 12345u;
				if (k > 0)
					strcat(name, ".");
				strcat(name, segs[(seed >> 16) % VG_ARRAY_LEN(segs)]);
			}
			seed = seed * 1103515245u + 12345u;
			{
				const char *v = vals[(seed >> 16) % VG_ARRAY_LEN(vals)];
				enum value_kind kind = (enum value_kind)((seed >> 20) % 4);

				vg_event_add_named(ev, name, strlen(name), v, strlen(v), kind,
				    (seed >> 24) & 1);
			}
			live++;
			if ((seed >> 26) % 8 == 0) {
				uint32_t id = ev->ents[ev->n - 1].id;

				if (id != FIELD_NONE) {
					/* every value of that name dies */
					for (uint32_t e = 0; e < ev->n; e++)
						live -= ev->ents[e].id == id && !ev->ents[e].dead;
					vg_event_del(ev, id);
				}
			}
		}
		j = json_loads(ej(ev), JSON_REJECT_DUPLICATES, &jerr);
		if (j == NULL || !json_is_object(j) || count_leaves(j) != (size_t)live) {
			if (bad++ == 0)
				UNIT_FAIL("round %d: %s: %s", round, j ? "lost values" :
				    jerr.text, ej(ev));
		}
		json_decref(j);
		seed = seed * 1103515245u + 12345u;
	}
	CHECK_INT(bad, 0);
	vg_event_free(ev);
}

static void *json_thread(void *arg)
{
	struct vg_event *ev = sshd_event();
	struct buf b;
	int *ok = arg;

	buf_init(&b);
	*ok = 1;
	for (int i = 0; i < 2000; i++) {
		buf_clear(&b);
		alert_event_json(&b, ev);
		if (strcmp(buf_cstr(&b), SSHD_JSON) != 0)
			*ok = 0;
	}
	buf_free(&b);
	vg_event_free(ev);
	return NULL;
}

TEST(event_json_in_threads)
{
	pthread_t t[4];
	int ok[4] = { 0 };

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, json_thread, &ok[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(ok[i], 1);
	}
}

/* ---- the shape path, bulk detections, the escaper ---- */

/* The JSON escaping of the first version of buf_json_str, byte by byte. */
static void ref_json_str(struct buf *b, const unsigned char *s, size_t n)
{
	buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)c);
		} else if (c == '\n') {
			buf_adds(b, "\\n");
		} else if (c == '\r') {
			buf_adds(b, "\\r");
		} else if (c == '\t') {
			buf_adds(b, "\\t");
		} else if (c < 0x20) {
			buf_printf(b, "\\u%04x", c);
		} else if (c < 0x80) {
			buf_addc(b, (char)c);
		} else {
			/* valid 2-byte sequences only in this reference */
			if (c >= 0xC2 && c <= 0xDF && i + 1 < n &&
			    (s[i + 1] & 0xC0) == 0x80) {
				buf_addc(b, (char)c);
				buf_addc(b, (char)s[++i]);
			} else {
				buf_adds(b, "\xEF\xBF\xBD");
			}
		}
	}
	buf_addc(b, '"');
}

TEST(json_str_word_at_a_time)
{
	/* every byte value at every position of a word, in long runs */
	static const unsigned char pick[] = { 'a', ' ', '~', 0x7f, '"', '\\',
		'\n', 0x01, 0x1f, 0xC3, 0xA9, 0xff, 0x80, '0', 0x21, 0x5b, 0x5d };
	unsigned seed = 7;
	struct buf got, want;
	int bad = 0;

	buf_init(&got);
	buf_init(&want);
	for (int round = 0; round < 20000; round++) {
		unsigned char s[64];
		size_t n;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(s);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly plain text so that whole clean words occur */
			s[i] = (seed >> 16) % 4 ? (unsigned char)('a' + (seed >> 20) % 26) :
			    pick[(seed >> 20) % sizeof(pick)];
		}
		buf_clear(&got);
		buf_clear(&want);
		buf_json_str(&got, (const char *)s, n);
		ref_json_str(&want, s, n);
		if (strcmp(buf_cstr(&got), buf_cstr(&want)) != 0 && bad++ == 0)
			UNIT_FAIL("round %d: got %s want %s", round, got.p, want.p);
	}
	CHECK_INT(bad, 0);
	/* each byte value alone, after 8 clean bytes */
	for (int c = 0; c < 256; c++) {
		unsigned char s[9] = "abcdefgh";

		s[8] = (unsigned char)c;
		buf_clear(&got);
		buf_clear(&want);
		buf_json_str(&got, (const char *)s, 9);
		ref_json_str(&want, s, 9);
		if (strcmp(buf_cstr(&got), buf_cstr(&want)) != 0)
			UNIT_FAIL("byte %d: got %s want %s", c, got.p, want.p);
	}
	buf_free(&got);
	buf_free(&want);
}

/*
 * Events whose names are all interned take the shape path; the same event
 * with one more, non-interned, name takes the general one, which puts
 * that name last at the top: both must agree on everything else.
 */
TEST(shapes_agree_with_general_nesting)
{
	static const char *const names[] = { "a", "a.b", "a.c", "b.x.y", "b.x",
		"c", "@timestamp", "log.syslog.priority", "source.ip", "source",
		"d.e.f.g", "q\"x.y", "t.u" };
	static const char *const vals[] = { "1", "-2.5", "x", "", "0x1", "\n",
		"caf\xc3\xa9", "\xff" };
	struct vg_event *ev = vg_event_new();
	struct buf fast, gen;
	unsigned seed = 99;
	int bad = 0;

	buf_init(&fast);
	buf_init(&gen);
	for (int round = 0; round < 4000; round++) {
		int n;

		seed = seed * 1103515245u + 12345u;
		/* few distinct shapes, so most rounds reuse a cached one */
		n = (int)((seed >> 16) % (round < 2000 ? 4 : 12));
		vg_event_reset(ev);
		for (int i = 0; i < n; i++) {
			const char *nm, *v;
			enum value_kind kind;

			seed = seed * 1103515245u + 12345u;
			nm = names[(seed >> 16) % VG_ARRAY_LEN(names)];
			v = vals[(seed >> 20) % VG_ARRAY_LEN(vals)];
			kind = (enum value_kind)((seed >> 24) % 4);
			vg_event_add_named(ev, nm, strlen(nm), v, strlen(v), kind,
			    (seed >> 28) & 1);
			if (ev->ents[ev->n - 1].id == FIELD_NONE) {
				field_intern(nm, strlen(nm));
				ev->n--;
				i--;
				continue;
			}
			if ((seed >> 29) == 0)
				vg_event_del(ev, ev->ents[ev->n - 1].id);
		}
		buf_clear(&fast);
		alert_event_json(&fast, ev);
		vg_event_add_named(ev, "zz-never-interned", 17, "z", 1, V_STR, 0);
		buf_clear(&gen);
		alert_event_json(&gen, ev);
		/* fast "{...}" + ,"zz..":"z" == general */
		buf_cstr(&fast);
		fast.len--;
		if (fast.len > 1)
			buf_addc(&fast, ',');
		buf_adds(&fast, "\"zz-never-interned\":\"z\"}");
		if (strcmp(buf_cstr(&fast), buf_cstr(&gen)) != 0 && bad++ == 0)
			UNIT_FAIL("round %d: shape %s general %s", round, fast.p, gen.p);
	}
	CHECK_INT(bad, 0);
	buf_free(&fast);
	buf_free(&gen);
	vg_event_free(ev);
}

TEST(many_shapes_start_the_cache_over)
{
	struct vg_event *ev = vg_event_new();
	char name[32], want[64];

	/* more distinct shapes than a thread keeps: each still right */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 1500; i++) {
			snprintf(name, sizeof(name), "shape%d.k", i);
			vg_event_reset(ev);
			vg_event_add(ev, fid(name), "v", 1);
			snprintf(want, sizeof(want), "{\"shape%d\":{\"k\":\"v\"}}", i);
			CHECK_STR(ej(ev), want);
		}
	}
	vg_event_free(ev);
}

/* An event of names that are not interned, in the given order. */
static void named_event(struct vg_event *ev, const char *const *names,
    size_t n, const char *val)
{
	vg_event_reset(ev);
	for (size_t i = 0; i < n; i++)
		vg_event_add_named(ev, names[i], strlen(names[i]), val, strlen(val),
		    V_STR, 0);
}

/*
 * Names that are not interned are part of a shape by their bytes: names
 * of one length, one first and one last 8 bytes (one hash) but another
 * middle, or another order, or one name fewer, are other shapes.
 */
TEST(shapes_of_names_not_interned)
{
	static const char *const a[] = { "h13aaaaaa.X.bbbbbbbb", "h13solo" };
	static const char *const b[] = { "h13aaaaaa.Y.bbbbbbbb", "h13solo" };
	static const char *const c[] = { "h13solo", "h13aaaaaa.X.bbbbbbbb" };
	static const char *const d[] = { "h13aaaaaa.X.bbbbbbbb", "h13aaaaaa.X",
		"h13solo" };
	struct vg_event *ev = vg_event_new();

	for (int round = 0; round < 3; round++) {
		named_event(ev, a, 2, "1");
		CHECK_INT(ev->ents[0].id, FIELD_NONE);
		CHECK_STR(ej(ev),
		    "{\"h13aaaaaa\":{\"X\":{\"bbbbbbbb\":\"1\"}},\"h13solo\":\"1\"}");
		named_event(ev, b, 2, "2");
		CHECK_STR(ej(ev),
		    "{\"h13aaaaaa\":{\"Y\":{\"bbbbbbbb\":\"2\"}},\"h13solo\":\"2\"}");
		named_event(ev, c, 2, "3");
		CHECK_STR(ej(ev),
		    "{\"h13solo\":\"3\",\"h13aaaaaa\":{\"X\":{\"bbbbbbbb\":\"3\"}}}");
		named_event(ev, d, 3, "4");
		CHECK_STR(ej(ev), "{\"h13aaaaaa\":{\"X\":{\"\":\"4\","
		    "\"bbbbbbbb\":\"4\"}},\"h13solo\":\"4\"}");
		named_event(ev, d, 2, "5");
		CHECK_STR(ej(ev), "{\"h13aaaaaa\":{\"X\":{\"\":\"5\","
		    "\"bbbbbbbb\":\"5\"}}}");
		/* an interned name among them */
		named_event(ev, a, 1, "6");
		add(ev, "h13int.k", "7");
		CHECK_STR(ej(ev), "{\"h13aaaaaa\":{\"X\":{\"bbbbbbbb\":\"6\"}},"
		    "\"h13int\":{\"k\":\"7\"}}");
	}
	vg_event_free(ev);
}

/*
 * Events that name their decoder are first tried against the shape that
 * decoder's events had last time (with a pass without branches when no
 * entry is dead): whatever the sequence of shapes, dead entries and names
 * not interned, the text is the one an event without a decoder gets.
 */
TEST(decoder_shapes_agree_with_shape_lookup)
{
	static const char *const names[] = { "a", "a.b", "b.x.y", "c",
		"@timestamp", "log.syslog.priority", "source.ip", "source" };
	static const char *const vals[] = { "1", "-2.5", "x", "", "0x1", "\n",
		"caf\xc3\xa9", "\xff", "12345678", "0", "007", "a longer value, \"quoted\"",
		/* longer than what is reserved ahead per value, and six times
		 * as long escaped */
		"a value of more than sixty-four bytes, which reserves room for "
		"itself as it comes along",
		"\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08"
		"\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08"
		"\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08"
		"\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08"
		"\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08" };
	static const char *const decoders[] = { "dec-a", "dec-b" };
	struct vg_event *ev = vg_event_new();
	struct buf memo, plain;
	unsigned seed = 4242;
	int bad = 0, nshape = 0;
	uint32_t ids[4][6];

	buf_init(&memo);
	buf_init(&plain);
	/* four shapes of six interned fields, reused with new values */
	for (int k = 0; k < 4; k++) {
		for (int i = 0; i < 6; i++) {
			seed = seed * 1103515245u + 12345u;
			ids[k][i] = fid(names[(seed >> 16) % VG_ARRAY_LEN(names)]);
		}
	}
	for (int round = 0; round < 6000; round++) {
		int k, how;

		seed = seed * 1103515245u + 12345u;
		/* mostly one shape per decoder, sometimes another */
		k = (seed >> 16) % 8 < 6 ? round % 2 : (int)((seed >> 20) % 4);
		how = (int)((seed >> 24) % 8);
		vg_event_reset(ev);
		for (int i = 0; i < 6; i++) {
			const char *v;

			seed = seed * 1103515245u + 12345u;
			v = vals[(seed >> 16) % VG_ARRAY_LEN(vals)];
			if ((seed >> 20) % 3 == 0)
				vg_event_add_num(ev, ids[k][i], v, strlen(v), 0);
			else
				vg_event_add(ev, ids[k][i], v, strlen(v));
		}
		if (how == 0)
			vg_event_del(ev, ids[k][(seed >> 24) % 6]);
		else if (how == 1)
			vg_event_add_named(ev, "h18 not.interned", 16, "n", 1, V_STR, 0);
		else if (how == 2)
			vg_event_add(ev, ids[(k + 1) % 4][0], "extra", 5);
		ev->decoder = NULL;
		buf_clear(&plain);
		alert_event_json(&plain, ev);
		ev->decoder = decoders[round % 2];
		buf_clear(&memo);
		buf_adds(&memo, "lead");
		alert_event_json(&memo, ev);
		if (strcmp(buf_cstr(&memo) + 4, buf_cstr(&plain)) != 0 && bad++ == 0)
			UNIT_FAIL("round %d: memo %s plain %s", round, memo.p + 4, plain.p);
		nshape += memo.len > 6;
	}
	CHECK_INT(bad, 0);
	CHECK(nshape > 5000);
	/* values far longer than the room reserved ahead, into a buffer of
	 * no more room than it needs */
	for (int round = 0; round < 3; round++) {
		char big[1000];
		struct buf b1, b2;

		memset(big, 1 + round, sizeof(big));
		vg_event_reset(ev);
		add(ev, "h18big.a", "short");
		vg_event_add(ev, fid("h18big.b"), big, sizeof(big));
		vg_event_add(ev, fid("h18big.c"), big, sizeof(big));
		ev->decoder = NULL;
		buf_init(&b1);
		alert_event_json(&b1, ev);
		ev->decoder = "dec-big";
		buf_init(&b2);
		alert_event_json(&b2, ev);
		CHECK_INT(b2.len, 2 * 6 * sizeof(big) + strlen(
		    "{\"h18big\":{\"a\":\"short\",\"b\":\"\",\"c\":\"\"}}"));
		CHECK(b1.len == b2.len && memcmp(b1.p, b2.p, b1.len) == 0);
		buf_free(&b1);
		buf_free(&b2);
	}
	/* an exact one: a decoder's event, then the same decoder with a field
	 * gone, then with the same ids but a value of another kind */
	vg_event_reset(ev);
	add(ev, "h18.a", "x");
	add_num(ev, "h18.b", "42");
	add(ev, "h18c", "y");
	ev->decoder = "dec-exact";
	CHECK_STR(ej(ev), "{\"h18\":{\"a\":\"x\",\"b\":42},\"h18c\":\"y\"}");
	vg_event_del(ev, fid("h18.a"));
	CHECK_STR(ej(ev), "{\"h18\":{\"b\":42},\"h18c\":\"y\"}");
	vg_event_reset(ev);
	add(ev, "h18.a", "x");
	add(ev, "h18.b", "42");
	add(ev, "h18c", "\"y\"");
	ev->decoder = "dec-exact";
	CHECK_STR(ej(ev), "{\"h18\":{\"a\":\"x\",\"b\":\"42\"},\"h18c\":\"\\\"y\\\"\"}");
	buf_free(&memo);
	buf_free(&plain);
	vg_event_free(ev);
}

/*
 * A decoder's values that stay the same are folded into its text after a
 * few events; values that then change (text, kind, a bool's number, a
 * field gone or added) must still come out as an event without a decoder
 * gets them, through many refits and past the point where the decoder
 * goes without.
 */
TEST(decoder_constants_fold_and_refit)
{
	static const char *const longs[] = { "0123456789abcdef", "0123456789abcdefg",
		"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdefX",
		"0123456789abcdef0123456789abcdeF" };
	static const char *const shorts[] = { "a", "ab", "abc", "ab\"", "\x01" };
	struct vg_event *ev = vg_event_new();
	struct buf memo, plain;
	unsigned seed = 1818;
	int bad = 0;
	const char *cl = longs[0], *cs = shorts[2], *cm = "authentication";
	int numkind = 0, boolnum = 1;

	buf_init(&memo);
	buf_init(&plain);
	for (int round = 0; round < 8000; round++) {
		char var[32];
		unsigned r;

		seed = seed * 1103515245u + 12345u;
		r = (seed >> 16) % 1000;
		/* the "constants" change now and then, more often later */
		if (r < (round < 4000 ? 5u : 60u))
			cl = longs[(seed >> 20) % VG_ARRAY_LEN(longs)];
		else if (r < (round < 4000 ? 10u : 120u))
			cs = shorts[(seed >> 20) % VG_ARRAY_LEN(shorts)];
		else if (r < 13)
			numkind = !numkind;
		else if (r < 16)
			boolnum = !boolnum;
		else if (r < 19)
			cm = cm[0] == 'a' ? "authorization!" : "authentication";
		snprintf(var, sizeof(var), "v%u", seed % 100000);
		vg_event_reset(ev);
		add(ev, "h18f.event.category", cm);
		if (numkind)
			add_num(ev, "h18f.code", "42");
		else
			add(ev, "h18f.code", "42");
		add(ev, "h18f.long", cl);
		add(ev, "h18f.var", var);
		add(ev, "h18f.short", cs);
		vg_event_add(ev, fid("h18f.bool"), "true", 4);
		ev->ents[ev->n - 1].v.kind = V_BOOL;
		ev->ents[ev->n - 1].v.num = boolnum;
		add_num(ev, "h18f.pid", var + 1);
		add(ev, "h18f.tail", "tail");
		if (r >= 990)
			vg_event_del(ev, fid("h18f.short"));
		else if (r >= 980)
			add(ev, "h18f.extra", "x");
		ev->decoder = NULL;
		buf_clear(&plain);
		alert_event_json(&plain, ev);
		ev->decoder = "dec-fold";
		buf_clear(&memo);
		alert_event_json(&memo, ev);
		if (strcmp(buf_cstr(&memo), buf_cstr(&plain)) != 0 && bad++ == 0)
			UNIT_FAIL("round %d: memo %s plain %s", round, memo.p, plain.p);
	}
	CHECK_INT(bad, 0);
	/* for each pair: a fresh decoder learns the first value as a constant,
	 * then gets the second, which differs in one byte or in kind */
	{
		static const struct {
			const char *a, *b;
			int bnum;
		} pairs[] = {
			{ "abc", "axc", 0 }, { "abc", "a\x01c", 0 }, { "ab", "ax", 0 },
			{ "x", "\"", 0 }, { "abcd", "abcx", 0 }, { "abcd", "xbcd", 0 },
			{ "abcdefg", "abcxefg", 0 }, { "abcdefgh", "abcdefgx", 0 },
			{ "0123456789abcdef", "0123456789abcdeX", 0 },
			{ "0123456789abcdef", "0123456X89abcdef", 0 },
			{ "0123456789abcdefg", "0123456789abcdefX", 0 },
			{ "0123456789abcdefghij", "0123456789abcdeXghij", 0 },
			{ "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdeX", 0 },
			{ "0123456789abcdef0123456789abcdef", "0123456789abcdeX0123456789abcdef", 0 },
			{ "42", "42", 1 }, { "7", "7", 1 },
		};
		static char dec[VG_ARRAY_LEN(pairs)][16];

		for (size_t i = 0; i < VG_ARRAY_LEN(pairs); i++) {
			snprintf(dec[i], sizeof(dec[i]), "dec-pair-%zu", i);
			for (int k = 0; k < 7; k++) {
				const char *v = k < 6 ? pairs[i].a : pairs[i].b;

				vg_event_reset(ev);
				add(ev, "h18p.k", "const");
				if (k == 6 && pairs[i].bnum)
					add_num(ev, "h18p.v", v);
				else
					add(ev, "h18p.v", v);
				add(ev, "h18p.w", "also");
				ev->decoder = NULL;
				buf_clear(&plain);
				alert_event_json(&plain, ev);
				ev->decoder = dec[i];
				buf_clear(&memo);
				alert_event_json(&memo, ev);
				if (strcmp(buf_cstr(&memo), buf_cstr(&plain)) != 0)
					UNIT_FAIL("pair %zu event %d: memo %s plain %s", i, k,
					    memo.p, plain.p);
			}
		}
	}
	/* exact, after a fresh decoder has learnt its constants */
	for (int i = 0; i < 10; i++) {
		char want[256], var[16];

		snprintf(var, sizeof(var), "%d", 100 + i);
		vg_event_reset(ev);
		add(ev, "h18g.a", "same");
		add_num(ev, "h18g.b", var);
		add_num(ev, "h18g.c", "7");
		ev->decoder = "dec-exact-fold";
		snprintf(want, sizeof(want), "{\"h18g\":{\"a\":\"same\",\"b\":%s,\"c\":7}}",
		    var);
		CHECK_STR(ej(ev), want);
	}
	vg_event_reset(ev);
	add(ev, "h18g.a", "same");
	add_num(ev, "h18g.b", "5");
	add(ev, "h18g.c", "7");
	ev->decoder = "dec-exact-fold";
	CHECK_STR(ej(ev), "{\"h18g\":{\"a\":\"same\",\"b\":5,\"c\":\"7\"}}");
	buf_free(&memo);
	buf_free(&plain);
	vg_event_free(ev);
}

/*
 * The folded constants are checked by length class (1-3, 4-7, 8-16, 17-32
 * bytes) in an order of their own: a constant of each length 1 to 32,
 * among constants of every class, learnt by a fresh decoder, then changed
 * at each byte, or one byte longer or shorter with the same start, or of
 * another kind: each event as an event without a decoder gets it.
 */
TEST(decoder_constants_every_length_and_byte)
{
	static const char base[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	static char dec[32 * 36][16];
	struct vg_event *ev = vg_event_new();
	struct buf memo, plain;
	size_t nd = 0;
	int bad = 0, runs = 0;

	buf_init(&memo);
	buf_init(&plain);
	for (size_t n = 1; n <= 32; n++) {
		/* p < n: byte p changed; n: one longer; n + 1: one shorter;
		 * n + 2: a number of the same text */
		for (size_t p = 0; p <= n + 2; p++) {
			char v[40];

			snprintf(dec[nd], sizeof(dec[nd]), "dec-len-%zu", nd);
			for (int k = 0; k < 7; k++) {
				size_t len = n;
				int num = 0;

				memcpy(v, base, n);
				if (k == 6 && p < n)
					v[p] = p % 2 ? '"' : 'X';
				else if (k == 6 && p == n)
					v[len++] = '!';
				else if (k == 6 && p == n + 1)
					len--;
				else if (k == 6)
					num = 1;
				v[len] = '\0';
				vg_event_reset(ev);
				add(ev, "h26c.two", "ab");
				if (num)
					add_num(ev, "h26c.v", v);
				else if (len > 0)
					add(ev, "h26c.v", v);
				else
					vg_event_add(ev, fid("h26c.v"), "", 0);
				add(ev, "h26c.twenty", "abcdefghijklmnopqrst");
				add(ev, "h26c.var", k % 2 ? "odd" : "even");
				add(ev, "h26c.five", "abcde");
				add(ev, "h26c.twelve", "abcdefghijkl");
				ev->decoder = NULL;
				buf_clear(&plain);
				alert_event_json(&plain, ev);
				ev->decoder = dec[nd];
				buf_clear(&memo);
				alert_event_json(&memo, ev);
				runs++;
				if (strcmp(buf_cstr(&memo), buf_cstr(&plain)) != 0 && bad++ == 0)
					UNIT_FAIL("length %zu change %zu event %d: memo %s plain %s",
					    n, p, k, memo.p, plain.p);
			}
			nd++;
		}
	}
	CHECK_INT(bad, 0);
	CHECK_INT(runs, 7 * (32 * 33 / 2 + 32 * 3));
	/* exact: the last one, a number where a string was learnt */
	CHECK_STR(memo.p, "{\"h26c\":{\"two\":\"ab\",\"v\":"
	    "\"0123456789abcdefghijklmnopqrstuv\",\"twenty\":\"abcdefghijklmnopqrst\","
	    "\"var\":\"even\",\"five\":\"abcde\",\"twelve\":\"abcdefghijkl\"}}");
	buf_free(&memo);
	buf_free(&plain);
	vg_event_free(ev);
}

/* Strings of 0 to 40 bytes (the lengths written inline and the tails of
 * the loop), clean or with one byte that needs attention at each place. */
TEST(json_str_short_lengths_every_position)
{
	static const char *const odd[] = { "\"", "\\", "\n", "\x01", "\x1f",
		"\x7f", "\xff", "\x80", "\xc3\xa9", "\xc3", " ", "~" };
	struct buf got, want;
	int bad = 0;

	buf_init(&got);
	buf_init(&want);
	for (size_t n = 0; n <= 40; n++) {
		for (size_t p = 0; p <= n; p++) {
			for (size_t k = 0; k < VG_ARRAY_LEN(odd); k++) {
				unsigned char s[48];
				size_t ol = strlen(odd[k]);

				for (size_t i = 0; i < n; i++)
					s[i] = (unsigned char)('a' + i % 26);
				/* p == n: the clean string */
				if (p < n && p + ol <= n)
					memcpy(s + p, odd[k], ol);
				buf_clear(&got);
				buf_clear(&want);
				buf_json_str(&got, (const char *)s, n);
				ref_json_str(&want, s, n);
				if (strcmp(buf_cstr(&got), buf_cstr(&want)) != 0 && bad++ == 0)
					UNIT_FAIL("n %zu at %zu odd %zu: got %s want %s", n, p, k,
					    got.p, want.p);
			}
		}
	}
	CHECK_INT(bad, 0);
	/* exact */
	buf_clear(&got);
	buf_json_str(&got, "ab\"", 3);
	CHECK_STR(buf_cstr(&got), "\"ab\\\"\"");
	buf_clear(&got);
	buf_json_str(&got, "", 0);
	CHECK_STR(buf_cstr(&got), "\"\"");
	buf_clear(&got);
	buf_json_str(&got, "2026-11-23T00:00:05.000Z", 24);
	CHECK_STR(buf_cstr(&got), "\"2026-11-23T00:00:05.000Z\"");
	buf_free(&got);
	buf_free(&want);
}

/*
 * Strings of 32 to 100 bytes take the AVX2 path where the CPU has it (32
 * bytes a step, the tail through the window of the last 32) and the SSE2
 * one with buf_json_noavx2: both against the reference, clean, with one
 * byte that needs attention at each place, and with two (the second in
 * the tail after the first was escaped).
 */
TEST(json_str_long_both_paths)
{
	static const char *const odd[] = { "\"", "\\", "\n", "\x01", "\x7f",
		"\xff", "\xc3\xa9", "\xc3", "~" };
	struct buf got, want;
	int bad = 0, runs = 0;

	buf_init(&got);
	buf_init(&want);
	for (int noavx2 = 0; noavx2 <= 1; noavx2++) {
		buf_json_noavx2 = noavx2;
		for (size_t n = 32; n <= 100; n++) {
			for (size_t p = 0; p <= n; p++) {
				for (size_t k = 0; k < VG_ARRAY_LEN(odd); k++) {
					for (size_t q = 0; q < 3; q++) {
						unsigned char s[112];
						size_t ol = strlen(odd[k]);
						/* the second: none, in the last 32, the last */
						size_t at2 = q == 0 ? n : q == 1 ? n - 1 - (p * 7 + k) % 31 : n - 1;

						for (size_t i = 0; i < n; i++)
							s[i] = (unsigned char)('a' + i % 26);
						if (p < n && p + ol <= n)
							memcpy(s + p, odd[k], ol);
						if (at2 < n && (at2 + 1 < p || at2 >= p + ol))
							s[at2] = '"';
						buf_clear(&got);
						buf_clear(&want);
						buf_json_str(&got, (const char *)s, n);
						ref_json_str(&want, s, n);
						runs++;
						if (strcmp(buf_cstr(&got), buf_cstr(&want)) != 0 &&
						    bad++ == 0)
							UNIT_FAIL("noavx2 %d n %zu at %zu odd %zu q %zu: "
							    "got %s want %s", noavx2, n, p, k, q, got.p,
							    want.p);
					}
				}
			}
		}
	}
	buf_json_noavx2 = 0;
	CHECK_INT(bad, 0);
	CHECK_INT(runs, 2 * 9 * 3 * (101 * 102 / 2 - 32 * 33 / 2));
	/* exact: a clean 40-byte string, and one with a quote in its tail */
	buf_clear(&got);
	buf_json_str(&got, "0123456789abcdefghijklmnopqrstuvwxyz0123", 40);
	CHECK_STR(buf_cstr(&got), "\"0123456789abcdefghijklmnopqrstuvwxyz0123\"");
	buf_clear(&got);
	buf_json_str(&got, "0123456789abcdefghijklmnopqrstuvwxyz\"123", 40);
	CHECK_STR(buf_cstr(&got), "\"0123456789abcdefghijklmnopqrstuvwxyz\\\"123\"");
	buf_free(&got);
	buf_free(&want);
}

/* Numbers of plain digits are copied as they stand; the rest goes through
 * the JSON number check. */
TEST(plain_digit_numbers)
{
	static const struct {
		const char *text, *json;
	} nums[] = {
		{ "7", "7" }, { "0", "0" }, { "10", "10" }, { "100", "100" },
		{ "4711", "4711" }, { "54964", "54964" }, { "12345678", "12345678" },
		{ "123456789", "123456789" }, { "1234567890123456789", "1234567890123456789" },
		{ "00", "\"00\"" }, { "05", "\"05\"" }, { "0123", "\"0123\"" },
		{ "-7", "-7" }, { "-0", "-0" }, { "1a", "\"1a\"" }, { "12a4", "\"12a4\"" },
		{ "1234567a", "\"1234567a\"" }, { "9/", "\"9/\"" }, { ":1", "\":1\"" },
		{ "1\xb9", "\"1\xef\xbf\xbd\"" }, { "12 4", "\"12 4\"" },
	};
	struct vg_event *ev = vg_event_new();
	char want[128];

	for (size_t i = 0; i < VG_ARRAY_LEN(nums); i++) {
		vg_event_reset(ev);
		add_num(ev, "n", nums[i].text);
		snprintf(want, sizeof(want), "{\"n\":%s}", nums[i].json);
		CHECK_STR(ej(ev), want);
	}
	vg_event_free(ev);
}

static struct rule second_rule = {
	.id = "r-2",
	.title = "Second \"quoted\" rule",
	.level = "low",
};

TEST(bulk_detections_match_single_alerts)
{
	struct vg_event *ev = sshd_event();
	const struct rule *rules[] = { &test_rule, &second_rule, &test_rule };
	struct alert_cache *c = alert_cache_new();
	struct buf bulk, want;
	size_t id_at[3], ev_at, ev_len;
	int64_t ts = 1795392005123LL;

	buf_init(&bulk);
	buf_init(&want);
	for (int pass = 0; pass < 2; pass++) {
		/* pass 1 reads the rule parts from the cache */
		buf_clear(&bulk);
		buf_clear(&want);
		buf_adds(&bulk, "lead\n");
		alert_detections_json(c, &bulk, ev, ts, rules, 3, id_at, &ev_at, &ev_len);
		buf_adds(&want, "lead\n");
		for (int i = 0; i < 3; i++) {
			struct alert a = { .kind = ALERT_DETECTION, .rule = rules[i],
				.ts_ms = ts, .count = 1, .ev = ev };

			alert_to_json_id(&want, &a, "00000000-0000-0000-0000-000000000000");
		}
		CHECK_STR(buf_cstr(&bulk), buf_cstr(&want));
		CHECK_INT(ev_len, strlen(SSHD_JSON));
		CHECK(ev_at < bulk.len && memcmp(bulk.p + ev_at, SSHD_JSON, ev_len) == 0);
		for (int i = 0; i < 3; i++) {
			CHECK(id_at[i] >= 7 && memcmp(bulk.p + id_at[i] - 7, "{\"id\":\"", 7) == 0);
			CHECK(bulk.p[id_at[i] + 36] == '"');
		}
		CHECK(id_at[0] == 12 && id_at[1] > id_at[0] && id_at[2] > id_at[1]);
	}
	/* no id_at: fresh ids, otherwise the same bytes */
	buf_clear(&bulk);
	alert_detections_json(c, &bulk, ev, ts, rules, 1, NULL, NULL, NULL);
	buf_cstr(&bulk);
	CHECK(bulk.len > 44 && bulk.p[7 + 14] == '7');
	CHECK(memcmp(bulk.p + 43, want.p + 5 + 43, bulk.len - 43) == 0);
	/* no rules: nothing */
	buf_clear(&bulk);
	alert_detections_json(c, &bulk, ev, ts, rules, 0, NULL, &ev_at, &ev_len);
	CHECK_INT(bulk.len, 0);
	CHECK_INT(ev_len, 0);
	alert_cache_free(c);
	alert_cache_free(NULL);
	buf_free(&bulk);
	buf_free(&want);
	vg_event_free(ev);
}

TEST(timestamps_match_vgtime_format)
{
	static const int64_t ms[] = { 0, 1, 999, 86399999, 86400000,
		1795392005123LL, 951782400000LL /* 2000-02-29 */, 4102444799999LL,
		253402300799999LL, 253402300800000LL, -1, -86400001 };
	struct alert a = { .kind = ALERT_DETECTION, .rule = &test_rule, .count = 1 };
	struct buf b;
	char want[64], ts[32];

	buf_init(&b);
	for (size_t i = 0; i < VG_ARRAY_LEN(ms); i++) {
		a.ts_ms = ms[i];
		vgtime_format(ms[i], ts);
		snprintf(want, sizeof(want), "\"@timestamp\":\"%s\",", ts);
		buf_clear(&b);
		alert_to_json_id(&b, &a, ID0);
		if (strstr(buf_cstr(&b), want) == NULL)
			UNIT_FAIL("%lld: %s", (long long)ms[i], b.p);
	}
	buf_free(&b);
}

/* Without id_at the ids are made as the lines are, in runs: each line
 * as alert_to_json_id writes it but for its id, the ids valid and
 * increasing, the event where event_at says. */
TEST(bulk_detections_with_fresh_ids)
{
	enum { N = 150 };
	const struct rule *rules[N];
	struct vg_event *ev = sshd_event();
	struct alert_cache *c = alert_cache_new();
	struct buf bulk, one;
	size_t ev_at = 99, ev_len = 99, at = 0;
	int64_t ts = 1795392005123LL;
	char last[37] = "";
	int bad = 0;

	buf_init(&bulk);
	buf_init(&one);
	for (int i = 0; i < N; i++)
		rules[i] = i % 3 ? &test_rule : &second_rule;
	buf_adds(&bulk, "x");
	alert_detections_json(c, &bulk, ev, ts, rules, N, NULL, &ev_at, &ev_len);
	buf_cstr(&bulk);
	CHECK_INT(ev_len, strlen(SSHD_JSON));
	CHECK(memcmp(bulk.p + ev_at, SSHD_JSON, ev_len) == 0);
	at = 1;
	for (int i = 0; i < N; i++) {
		struct alert a = { .kind = ALERT_DETECTION, .rule = rules[i],
			.ts_ms = ts, .count = 1, .ev = ev };
		char id[37];

		buf_clear(&one);
		memcpy(id, bulk.p + at + 7, 36);
		id[36] = '\0';
		alert_to_json_id(&one, &a, id);
		if (at + one.len > bulk.len || memcmp(bulk.p + at, one.p, one.len) != 0 ||
		    !valid_uuid7(id) || strcmp(id, last) <= 0) {
			if (bad++ == 0)
				UNIT_FAIL("line %d: %.*s", i, (int)one.len, bulk.p + at);
		}
		memcpy(last, id, 37);
		at += one.len;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(at, bulk.len);
	buf_free(&bulk);
	buf_free(&one);
	alert_cache_free(c);
	vg_event_free(ev);
}

/* Alerts in order, back and forth across seconds and days: the text
 * kept per second is never stale. */
/*
 * The bulk writer keeps the last event time's text in its cache: a
 * sequence of times with repeats, steps back and forth, and times that
 * vgtime_format writes otherwise (before 1970, after 9999), through one
 * cache, each line's time as vgtime_format has it.
 */
TEST(bulk_timestamps_in_sequence_through_one_cache)
{
	static const int64_t steps[] = { 1795392005123LL, 1795392005123LL,
		1795392005124LL, 1795392005123LL, 0, 0, -1, -1, 1795392006000LL,
		253402300800000LL, 253402300800000LL, 253402300799999LL, 1,
		1795392005123LL };
	struct vg_event *ev = sshd_event();
	const struct rule *rules[] = { &test_rule, &second_rule };
	struct alert_cache *c = alert_cache_new();
	size_t id_at[2];
	struct buf b;
	char want[64], ts[40];
	int bad = 0;

	buf_init(&b);
	for (size_t i = 0; i < VG_ARRAY_LEN(steps); i++) {
		vgtime_format(steps[i], ts);
		snprintf(want, sizeof(want), "\"@timestamp\":\"%s\",\"kind\"", ts);
		buf_clear(&b);
		alert_detections_json(c, &b, ev, steps[i], rules, 2, id_at, NULL, NULL);
		buf_cstr(&b);
		/* both lines */
		if (strstr(b.p, want) == NULL || strstr(strchr(b.p, '\n') + 1, want) == NULL)
			if (bad++ == 0)
				UNIT_FAIL("%zu %lld: %s", i, (long long)steps[i], b.p);
	}
	CHECK_INT(bad, 0);
	CHECK(strstr(b.p, "\"@timestamp\":\"2026-11-23T00:00:05.123Z\",") != NULL);
	alert_cache_free(c);
	buf_free(&b);
	vg_event_free(ev);
}

TEST(timestamps_in_sequence_match_vgtime_format)
{
	static const int64_t steps[] = { 0, 1, 999, 1000, 1001, 59999, 60000,
		86399999, 86400000, 86400001, 86399000, 86400999, 1795392005123LL,
		1795392005999LL, 1795392006000LL, 1795392005000LL, 1795392005123LL,
		1795305605123LL, 951782399999LL, 951782400000LL, 951868800000LL };
	struct alert a = { .kind = ALERT_DETECTION, .rule = &test_rule, .count = 1 };
	struct buf b;
	char want[64], ts[32];

	buf_init(&b);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < VG_ARRAY_LEN(steps); i++) {
			size_t k = pass ? VG_ARRAY_LEN(steps) - 1 - i : i;

			a.ts_ms = steps[k];
			vgtime_format(steps[k], ts);
			snprintf(want, sizeof(want), "\"@timestamp\":\"%s\",", ts);
			buf_clear(&b);
			alert_to_json_id(&b, &a, ID0);
			if (strstr(buf_cstr(&b), want) == NULL)
				UNIT_FAIL("%lld: %s", (long long)steps[k], b.p);
		}
	}
	a.ts_ms = 1795392005123LL;
	buf_clear(&b);
	alert_to_json_id(&b, &a, ID0);
	CHECK(strstr(buf_cstr(&b), "\"@timestamp\":\"2026-11-23T00:00:05.123Z\",") != NULL);
	buf_free(&b);
}

/* ---- ids ---- */

static int valid_uuid7(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return s[14] == '7' && strchr("89ab", s[19]) != NULL;
}

static int64_t uuid_ms(const char *s)
{
	char hex[13];

	memcpy(hex, s, 8);
	memcpy(hex + 8, s + 9, 4);
	hex[12] = '\0';
	return strtoll(hex, NULL, 16);
}


TEST(fill_ids_in_place_and_in_order)
{
	enum { N = 5000 };
	char *text = malloc(N * 40 + 1), last[37];
	size_t *at = malloc(N * sizeof(*at));
	int bad = 0;

	memset(text, '.', N * 40);
	text[N * 40] = '\0';
	for (size_t i = 0; i < N; i++)
		at[i] = i * 40 + 2;
	alert_new_id(last);
	alert_fill_ids(text, at, N);
	for (size_t i = 0; i < N; i++) {
		char id[37];

		memcpy(id, text + at[i], 36);
		id[36] = '\0';
		/* the bytes around each id untouched */
		if (text[at[i] - 1] != '.' || text[at[i] + 36] != '.' || !valid_uuid7(id) ||
		    strcmp(id, last) <= 0)
			bad++;
		memcpy(last, id, 37);
	}
	CHECK_INT(bad, 0);
	{
		char after[37];

		alert_new_id(after);
		CHECK(strcmp(after, last) > 0);
	}
	alert_fill_ids(text, at, 0);
	free(text);
	free(at);
}

#define NIDS 100000

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 37);
}

TEST(uuid7_format_order_and_uniqueness)
{
	char (*ids)[37] = malloc(NIDS * sizeof(*ids));
	int64_t before = vg_now_ms(), after;
	int bad = 0, unordered = 0, dups = 0;

	for (int i = 0; i < NIDS; i++)
		alert_new_id(ids[i]);
	after = vg_now_ms();
	for (int i = 0; i < NIDS; i++) {
		if (!valid_uuid7(ids[i]))
			bad++;
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
			unordered++;
	}
	CHECK_INT(bad, 0);
	/* one thread's ids increase, even within a millisecond */
	CHECK_INT(unordered, 0);
	CHECK(uuid_ms(ids[0]) >= before && uuid_ms(ids[0]) <= after);
	/* at most one millisecond borrowed per 2048 ids */
	CHECK(uuid_ms(ids[NIDS - 1]) <= after + NIDS / 2048 + 1);
	qsort(ids, NIDS, sizeof(*ids), cmp_id);
	for (int i = 1; i < NIDS; i++)
		dups += strcmp(ids[i - 1], ids[i]) == 0;
	CHECK_INT(dups, 0);
	free(ids);
}

#define NTHREADS 4

static void *id_thread(void *arg)
{
	char (*ids)[37] = arg;

	for (int i = 0; i < NIDS / NTHREADS; i++)
		alert_new_id(ids[i]);
	return NULL;
}

TEST(uuid7_unique_across_threads)
{
	char (*ids)[37] = malloc(NIDS * sizeof(*ids));
	pthread_t t[NTHREADS];
	int dups = 0, bad = 0;

	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, id_thread, ids + i * (NIDS / NTHREADS));
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	qsort(ids, NIDS, sizeof(*ids), cmp_id);
	for (int i = 0; i < NIDS; i++) {
		bad += !valid_uuid7(ids[i]);
		dups += i > 0 && strcmp(ids[i - 1], ids[i]) == 0;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(dups, 0);
	free(ids);
}

TEST(uuid7_differs_after_fork)
{
	int fds[2];
	char parent[37], child[37] = "";
	pid_t pid;

	alert_new_id(parent);
	CHECK_INT(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		char id[37];

		alert_new_id(id);
		(void)!write(fds[1], id, 37);
		_exit(0);
	}
	alert_new_id(parent);
	close(fds[1]);
	CHECK_INT(read(fds[0], child, 37), 37);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	CHECK(valid_uuid7(child));
	/* same state in both processes would give the same random tail */
	CHECK(strcmp(parent + 19, child + 19) != 0);
}

/* ---- sink ---- */

static char *slurp(const char *path)
{
	size_t len;
	char *s = vg_read_file(path, &len);

	return s ? s : vg_strdup("<unreadable>");
}

TEST(sink_file_write_flush_reopen)
{
	char dir[] = "/tmp/vigil-alert-XXXXXX", path[128], rotated[140], *s;
	struct vg_err err = { 0 };
	struct alert_sink *sink;
	struct stat st;
	struct buf big;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sub/deeper/alerts.jsonl", dir);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	sink = alert_sink_open(path, 0, &err);
	CHECK(sink != NULL);
	CHECK(!err.set);
	if (sink == NULL)
		return;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0640);
	CHECK_INT(alert_sink_write(sink, "{\"a\":1}\n", 8), 0);
	CHECK_INT(alert_sink_write(sink, "{\"a\":2}\n", 8), 0);
	s = slurp(path);
	CHECK_STR(s, ""); /* buffered */
	free(s);
	CHECK_INT(alert_sink_flush(sink), 0);
	s = slurp(path);
	CHECK_STR(s, "{\"a\":1}\n{\"a\":2}\n");
	free(s);

	/* logrotate: rename, then SIGHUP */
	CHECK_INT(rename(path, rotated), 0);
	CHECK_INT(alert_sink_write(sink, "{\"a\":3}\n", 8), 0);
	CHECK_INT(alert_sink_reopen(sink), 0);
	CHECK_INT(alert_sink_write(sink, "{\"a\":4}\n", 8), 0);
	CHECK_INT(alert_sink_flush(sink), 0);
	s = slurp(rotated);
	CHECK_STR(s, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
	free(s);
	s = slurp(path);
	CHECK_STR(s, "{\"a\":4}\n");
	free(s);

	/* lines bigger than the buffer, and many small ones */
	buf_init(&big);
	for (int i = 0; i < 30000; i++)
		buf_adds(&big, "xxxxxxxxx");
	buf_addc(&big, '\n');
	CHECK_INT(alert_sink_write(sink, big.p, big.len), 0);
	for (int i = 0; i < 10000; i++)
		CHECK_INT(alert_sink_write(sink, "{}\n", 3), 0);
	alert_sink_close(sink);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_size, 8 + 270001 + 30000);
	s = slurp(path);
	CHECK(strncmp(s + 8, big.p, big.len) == 0);
	CHECK_STR(s + 8 + big.len + 29997, "{}\n");
	free(s);
	buf_free(&big);

	/* appends to an existing file */
	sink = alert_sink_open(path, 0, NULL);
	CHECK(sink != NULL);
	alert_sink_write(sink, "z\n", 2);
	alert_sink_close(sink);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_size, 8 + 270001 + 30000 + 2);

	unlink(path);
	unlink(rotated);
	snprintf(path, sizeof(path), "%s/sub/deeper", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

TEST(sink_errors_and_no_file)
{
	struct vg_err err = { 0 };
	struct alert_sink *sink;

	sink = alert_sink_open("/dev/null/x/alerts.jsonl", 0, &err);
	CHECK(sink == NULL);
	CHECK(err.set);
	CHECK_STR(err.file, "/dev/null/x/alerts.jsonl");
	CHECK_STR(err.msg, "cannot open alert file: Not a directory");
	sink = alert_sink_open("", 0, NULL);
	CHECK(sink != NULL);
	CHECK_INT(alert_sink_write(sink, "x\n", 2), 0);
	CHECK_INT(alert_sink_flush(sink), 0);
	CHECK_INT(alert_sink_reopen(sink), 0);
	alert_sink_close(sink);
	alert_sink_close(NULL);
}

TEST(sink_stdout)
{
	char path[] = "/tmp/vigil-stdout-XXXXXX", *s;
	int fd = mkstemp(path), saved;
	struct alert_sink *sink;

	CHECK(fd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	sink = alert_sink_open(NULL, 1, NULL);
	alert_sink_write(sink, "{\"x\":1}\n", 8);
	alert_sink_flush(sink);
	alert_sink_write(sink, "{\"x\":2}\n", 8);
	alert_sink_close(sink);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	s = slurp(path);
	CHECK_STR(s, "{\"x\":1}\n{\"x\":2}\n");
	free(s);
	unlink(path);
}

int main(void)
{
	umask(022);
	RUN(detection_alert_exact);
	RUN(correlation_alert_exact);
	RUN(alert_missing_parts);
	RUN(nesting_keeps_first_appearance_order);
	RUN(multi_values_become_arrays);
	RUN(value_kinds);
	RUN(escaping);
	RUN(leaf_and_prefix_conflicts);
	RUN(empty_segments_stay_flat);
	RUN(dead_entries_are_skipped);
	RUN(big_event_and_reuse);
	RUN(random_events_give_valid_json);
	RUN(event_json_in_threads);
	RUN(json_str_word_at_a_time);
	RUN(shapes_agree_with_general_nesting);
	RUN(many_shapes_start_the_cache_over);
	RUN(shapes_of_names_not_interned);
	RUN(decoder_shapes_agree_with_shape_lookup);
	RUN(decoder_constants_fold_and_refit);
	RUN(decoder_constants_every_length_and_byte);
	RUN(json_str_short_lengths_every_position);
	RUN(json_str_long_both_paths);
	RUN(plain_digit_numbers);
	RUN(bulk_detections_match_single_alerts);
	RUN(timestamps_match_vgtime_format);
	RUN(timestamps_in_sequence_match_vgtime_format);
	RUN(bulk_timestamps_in_sequence_through_one_cache);
	RUN(bulk_detections_with_fresh_ids);
	RUN(uuid7_format_order_and_uniqueness);
	RUN(uuid7_unique_across_threads);
	RUN(fill_ids_in_place_and_in_order);
	RUN(uuid7_differs_after_fork);
	RUN(sink_file_write_flush_reopen);
	RUN(sink_errors_and_no_file);
	RUN(sink_stdout);
	return unit_done();
}
