/*
 * test_framing.c: the stream framer. Every stream is framed whole, one byte
 * at a time, cut at every position (and every pair of positions for short
 * streams) and in random chunkings; all must give the same frames and the
 * same counters. Each chunk is fed from its own heap copy, freed after the
 * feed, so the sanitizers catch a frame that points into an old chunk.
 *
 * Frames render as "<flags>:<bytes>\n": flags are O (octet), T (truncated),
 * P (partial), B (bad count), or "-"; bytes outside printable ASCII, and
 * backslash, render as \xNN; frames over 200 bytes render as ~len#fnv1a.
 */
#include <stdint.h>

#include "unit.h"
#include "../../engine/buf.h"
#include "../../engine/framing.h"

struct coll {
	struct buf text;
	const char *lo, *hi; /* the chunk being fed */
	int in_place;        /* frames that pointed into the caller's chunk */
	int pause;           /* the callback asks framing_feed to return */
	size_t max_len;
};

struct result {
	char *text;
	struct framing_stats st;
	int in_place;
	size_t max_pending;
	size_t max_len;
	int feeds;
};

static uint32_t fnv(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

static void render(struct buf *b, const char *d, size_t len, unsigned fl)
{
	size_t i;

	if (fl & FRAMING_OCTET)
		buf_addc(b, 'O');
	if (fl & FRAMING_TRUNCATED)
		buf_addc(b, 'T');
	if (fl & FRAMING_PARTIAL)
		buf_addc(b, 'P');
	if (fl & FRAMING_BADCOUNT)
		buf_addc(b, 'B');
	if (fl == 0)
		buf_addc(b, '-');
	buf_addc(b, ':');
	if (len > 200) {
		buf_printf(b, "~%zu#%08x\n", len, fnv(d, len));
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf_addc(b, (char)c);
		else
			buf_printf(b, "\\x%02x", c);
	}
	buf_addc(b, '\n');
}

static int collect_cb(void *arg, const char *data, size_t len, unsigned flags)
{
	struct coll *c = arg;

	if (c->lo != NULL && data >= c->lo && data + len <= c->hi)
		c->in_place++;
	if (len > c->max_len)
		c->max_len = len;
	render(&c->text, data, len, flags);
	return c->pause;
}

/* Frame in[0..len) fed in the chunks that end at cuts[0..ncuts), then len. */
static void run_cuts(struct result *r, const char *in, size_t len, size_t max,
    const size_t *cuts, size_t ncuts, int pause)
{
	struct framing *f = framing_new(max);
	struct coll c;
	size_t pos = 0, k;

	memset(&c, 0, sizeof(c));
	memset(r, 0, sizeof(*r));
	buf_init(&c.text);
	c.pause = pause;
	for (k = 0; k <= ncuts; k++) {
		size_t next = k < ncuts ? cuts[k] : len;
		size_t n = next - pos, done = 0;
		char *chunk = vg_malloc(n ? n : 1);

		memcpy(chunk, in + pos, n);
		c.lo = chunk;
		c.hi = chunk + n;
		do {
			size_t got = framing_feed(f, chunk + done, n - done,
			    collect_cb, &c);

			r->feeds++;
			if (!pause && got != n - done)
				UNIT_FAIL("consumed %zu of %zu", got, n - done);
			if (got == 0 && n - done > 0) {
				UNIT_FAIL("no progress at %zu", pos + done);
				break;
			}
			done += got;
			if (framing_pending(f) > r->max_pending)
				r->max_pending = framing_pending(f);
		} while (done < n);
		free(chunk);
		pos = next;
	}
	c.lo = c.hi = NULL;
	framing_finish(f, collect_cb, &c);
	CHECK_INT(framing_pending(f), 0);
	r->st = *framing_stats(f);
	r->text = vg_strdup(buf_cstr(&c.text));
	r->in_place = c.in_place;
	r->max_len = c.max_len;
	buf_free(&c.text);
	framing_free(f);
}

static void run_whole(struct result *r, const char *in, size_t len, size_t max)
{
	run_cuts(r, in, len, max, NULL, 0, 0);
}

static int stats_eq(const struct framing_stats *a, const struct framing_stats *b)
{
	return a->frames == b->frames && a->octet_frames == b->octet_frames &&
	    a->lf_frames == b->lf_frames && a->truncated == b->truncated &&
	    a->partial == b->partial && a->bad_count == b->bad_count &&
	    a->bytes == b->bytes;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* One chunking against the whole-feed result; reports the first mismatch. */
static int same_as(const struct result *want, const char *in, size_t len,
    size_t max, const size_t *cuts, size_t ncuts, int pause, const char *what)
{
	struct result r;
	int ok;

	run_cuts(&r, in, len, max, cuts, ncuts, pause);
	ok = strcmp(r.text, want->text) == 0 && stats_eq(&r.st, &want->st) &&
	    r.max_pending <= max + 16;
	if (!ok)
		UNIT_FAIL("%s (cuts %zu, first %zu): got\n%swant\n%s", what,
		    ncuts, ncuts ? cuts[0] : 0, r.text, want->text);
	free(r.text);
	return ok;
}

/*
 * Frame in whole and check the text; then every other chunking must agree
 * with it, counters included.
 */
static void check_all(const char *in, size_t len, size_t max, const char *want,
    struct framing_stats *st_out)
{
	struct result w;
	size_t *cuts = vg_malloc((len + 1) * sizeof(*cuts));
	size_t i, j, n;
	uint32_t seed;

	run_whole(&w, in, len, max == 0 ? FRAMING_DEFAULT_MAX : max);
	CHECK_STR(w.text, want);
	CHECK_INT(w.st.bytes, len);
	if (st_out != NULL)
		*st_out = w.st;
	if (max == 0)
		max = FRAMING_DEFAULT_MAX;
	for (i = 0; i < len; i++)
		cuts[i] = i;
	if (!same_as(&w, in, len, max, cuts, len, 0, "one byte at a time"))
		goto out;
	if (!same_as(&w, in, len, max, NULL, 0, 1, "pausing after each frame"))
		goto out;
	if (!same_as(&w, in, len, max, cuts, len, 1, "bytewise and pausing"))
		goto out;
	for (i = 0; i <= len; i++) {
		cuts[0] = i;
		if (!same_as(&w, in, len, max, cuts, 1, 0, "split once"))
			goto out;
	}
	for (i = 0; len <= 120 && i <= len; i++) {
		for (j = i; j <= len; j++) {
			cuts[0] = i;
			cuts[1] = j;
			if (!same_as(&w, in, len, max, cuts, 2, 0, "split twice"))
				goto out;
		}
	}
	for (seed = 1; seed <= 100; seed++) {
		uint32_t s = seed;
		size_t pos = 0, span = seed % 2 ? 7 : 64;

		n = 0;
		while ((pos += 1 + rnd(&s) % span) < len)
			cuts[n++] = pos;
		if (!same_as(&w, in, len, max, cuts, n, seed % 5 == 0,
		    "random chunks"))
			goto out;
	}
out:
	free(cuts);
	free(w.text);
}

#define S(lit) lit, sizeof(lit) - 1

TEST(lf_frames_and_trailers)
{
	struct framing_stats st;

	check_all(S("a\nbb\r\nccc\0dddd\n"), 0,
	    "-:a\n-:bb\n-:ccc\n-:dddd\n", &st);
	CHECK_INT(st.frames, 4);
	CHECK_INT(st.lf_frames, 4);
	CHECK_INT(st.octet_frames, 0);
	CHECK_INT(st.truncated, 0);
	/* Only one CR right before the LF is a trailer. */
	check_all(S("a\rb\na\r\r\nc\r\0"), 0,
	    "-:a\\x0db\n-:a\\x0d\n-:c\\x0d\n", NULL);
}

TEST(lf_blank_frames_are_skipped)
{
	struct framing_stats st;

	check_all(S("\n\r\n\n\0\0a\n\r\n\n"), 0, "-:a\n", &st);
	CHECK_INT(st.frames, 1);
	CHECK_INT(st.lf_frames, 1);
	CHECK_INT(st.bytes, 11);
}

TEST(octet_frames)
{
	struct framing_stats st;

	check_all(S("5 hello3 abc1 x"), 0, "O:hello\nO:abc\nO:x\n", &st);
	CHECK_INT(st.frames, 3);
	CHECK_INT(st.octet_frames, 3);
	CHECK_INT(st.lf_frames, 0);
	/* LF, CR and NUL inside an octet frame are data. */
	check_all(S("12 line1\nline2\r4 \0\0\0\0003 a\0b"), 0,
	    "O:line1\\x0aline2\\x0d\nO:\\x00\\x00\\x00\\x00\nO:a\\x00b\n",
	    NULL);
	/* An LF after an octet frame is a blank LF frame: skipped. */
	check_all(S("5 hello\n6 world\n\n"), 0, "O:hello\nO:world\\x0a\n",
	    NULL);
}

TEST(mixed_per_frame)
{
	static const char in[] =
	    "<1>lf\n"
	    "6 <2>oct"
	    "<3>lf2\r\n"
	    "8 <4>o\nct2"
	    "123abc\n"
	    "012 abc\n"
	    "99999999999 x\n"
	    "4 \0\0\0\0"
	    "last";
	struct framing_stats st;

	check_all(in, sizeof(in) - 1, 0,
	    "-:<1>lf\n"
	    "O:<2>oct\n"
	    "-:<3>lf2\n"
	    "O:<4>o\\x0act2\n"
	    "-:123abc\n"
	    "-:012 abc\n"
	    "B:99999999999 x\n"
	    "O:\\x00\\x00\\x00\\x00\n"
	    "P:last\n", &st);
	CHECK_INT(st.frames, 9);
	CHECK_INT(st.octet_frames, 3);
	CHECK_INT(st.lf_frames, 6);
	CHECK_INT(st.bad_count, 1);
	CHECK_INT(st.partial, 1);
	CHECK_INT(st.truncated, 0);
	CHECK_INT(st.bytes, sizeof(in) - 1);
}

TEST(count_without_space_is_text)
{
	struct framing_stats st;

	check_all(S("123abc\n123\n1\n5\r\n7\0009-\n"), 0,
	    "-:123abc\n-:123\n-:1\n-:5\n-:7\n-:9-\n", &st);
	CHECK_INT(st.bad_count, 0);
	CHECK_INT(st.octet_frames, 0);
}

TEST(leading_zero_is_text)
{
	struct framing_stats st;

	check_all(S("012 abc\n0 \n00005 hello\n"), 0,
	    "-:012 abc\n-:0 \n-:00005 hello\n", &st);
	CHECK_INT(st.bad_count, 0);
	CHECK_INT(st.octet_frames, 0);
}

TEST(huge_counts)
{
	struct framing_stats st;
	struct result r;
	char *in;
	size_t n;

	/* More than 10 digits: a bad count, read as text. */
	check_all(S("99999999999999999999 x\n2 ok"), 0,
	    "B:99999999999999999999 x\nO:ok\n", &st);
	CHECK_INT(st.bad_count, 1);
	CHECK_INT(st.frames, 2);
	check_all(S("12345678901abc\n"), 0, "B:12345678901abc\n", NULL);
	/* A run of digits alone is bounded by max_frame like any text. */
	check_all(S("1234567890123456789012345\nx\n"), 8,
	    "TB:12345678\n-:x\n", &st);
	CHECK_INT(st.truncated, 1);
	CHECK_INT(st.bad_count, 1);
	check_all(S("12345678\n"), 4, "T:1234\n", NULL);

	/* Ten digits: a count, oversized; its head goes out, the rest is
	 * skipped without being buffered. */
	n = 11 + 100000;
	in = vg_malloc(n);
	memcpy(in, "9999999999 ", 11);
	memset(in + 11, 'x', n - 11);
	run_whole(&r, in, n, 16);
	CHECK_STR(r.text, "OT:xxxxxxxxxxxxxxxx\n");
	CHECK_INT(r.st.truncated, 1);
	CHECK_INT(r.st.bytes, n);
	free(r.text);
	{
		size_t cuts[] = {5, 11, 12, 27, 28, 5000};

		run_cuts(&r, in, n, 16, cuts, VG_ARRAY_LEN(cuts), 0);
		CHECK_STR(r.text, "OT:xxxxxxxxxxxxxxxx\n");
		CHECK(r.max_pending <= 16);
		free(r.text);
	}
	free(in);
	/* Cut short by the close: partial, and truncated as it would be. */
	check_all(S("9999999999 abc"), 0, "OTP:abc\n", &st);
	CHECK_INT(st.partial, 1);
	CHECK_INT(st.truncated, 1);
}

TEST(truncation_lf)
{
	struct framing_stats st;

	check_all(S("abcdefghijkl\nxy\n"), 8, "T:abcdefgh\n-:xy\n", &st);
	CHECK_INT(st.truncated, 1);
	CHECK_INT(st.frames, 2);
	/* Exactly max_frame, with either trailer: not truncated. */
	check_all(S("abcdefgh\nabcdefgh\r\nabcdefgh\0"), 8,
	    "-:abcdefgh\n-:abcdefgh\n-:abcdefgh\n", &st);
	CHECK_INT(st.truncated, 0);
	/* A CR that is not a trailer counts. */
	check_all(S("abcdefgh\r\0abcdefgh\rX\nabcdefghi\r\nok\n"), 8,
	    "T:abcdefgh\nT:abcdefgh\nT:abcdefgh\n-:ok\n", &st);
	CHECK_INT(st.truncated, 3);
	/* The skip ends at a NUL as well as at an LF. */
	check_all(S("abcdefghijkl\0xy\n"), 8, "T:abcdefgh\n-:xy\n", NULL);
	/* max_frame 1 still works, digits and all. */
	check_all(S("ab\n12\n3 xyz1 q\n"), 1, "T:a\nT:1\nOT:x\nO:q\n", NULL);
}

TEST(truncation_octet)
{
	struct framing_stats st;

	check_all(S("12 abcdefghijkl5 hello"), 8, "OT:abcdefgh\nO:hello\n",
	    &st);
	CHECK_INT(st.truncated, 1);
	CHECK_INT(st.octet_frames, 2);
	/* The skip is exact: the next frame starts right after the count. */
	check_all(S("10 abcdefghij3 xyz"), 4, "OT:abcd\nO:xyz\n", NULL);
	check_all(S("8 abcdefgh2 \n\n"), 8, "O:abcdefgh\nO:\\x0a\\x0a\n", &st);
	CHECK_INT(st.truncated, 0);
	/* Oversized with default max_frame. */
	{
		size_t n = 6 + 70000 + 4;
		char *in = vg_malloc(n), want[64];
		struct result r;
		size_t cuts[] = {3, 6, 7, 65541, 65542, 65543, 70005, 70006};

		memcpy(in, "70000 ", 6);
		memset(in + 6, 'a', 70000);
		memcpy(in + 6 + 70000, "2 ok", 4);
		snprintf(want, sizeof(want), "OT:~65536#%08x\nO:ok\n",
		    fnv(in + 6, 65536));
		run_whole(&r, in, n, 0);
		CHECK_STR(r.text, want);
		CHECK_INT(r.in_place, 2);
		free(r.text);
		run_cuts(&r, in, n, 0, cuts, VG_ARRAY_LEN(cuts), 0);
		CHECK_STR(r.text, want);
		CHECK_INT(r.st.truncated, 1);
		CHECK(r.max_pending <= 65536);
		free(r.text);
		free(in);
	}
}

TEST(partial_at_finish)
{
	struct framing_stats st;

	check_all(S("a\nabc"), 0, "-:a\nP:abc\n", &st);
	CHECK_INT(st.partial, 1);
	CHECK_INT(st.lf_frames, 2);
	/* A CR without its LF is data. */
	check_all(S("abc\r"), 0, "P:abc\\x0d\n", NULL);
	check_all(S("5 hello10 abc"), 0, "O:hello\nOP:abc\n", &st);
	CHECK_INT(st.partial, 1);
	CHECK_INT(st.octet_frames, 2);
	/* Digits alone are a pending text frame. */
	check_all(S("123"), 0, "P:123\n", NULL);
	/* Nothing pending: nothing delivered. */
	check_all(S("12 "), 0, "", &st);
	CHECK_INT(st.frames, 0);
	check_all(S("a\n\r"), 0, "-:a\nP:\\x0d\n", NULL);
	check_all(S("a\n"), 0, "-:a\n", &st);
	CHECK_INT(st.partial, 0);
	/* max_frame + 1 bytes ending in CR, then the close. */
	check_all(S("abcd\r"), 4, "TP:abcd\n", NULL);
}

TEST(binary_and_invalid_utf8)
{
	char lf[256], oct[4 + 256], want[2048];
	struct buf b;
	size_t i, n = 0;

	/* Every byte value but the two terminators, LF-framed. */
	for (i = 1; i < 256; i++)
		if (i != '\n')
			lf[n++] = (char)i;
	lf[n++] = '\n';
	buf_init(&b);
	render(&b, lf, n - 1, 0);
	check_all(lf, n, 0, buf_cstr(&b), NULL);
	/* Every byte value, octet-counted. */
	memcpy(oct, "256 ", 4);
	for (i = 0; i < 256; i++)
		oct[4 + i] = (char)i;
	buf_clear(&b);
	render(&b, oct + 4, 256, FRAMING_OCTET);
	snprintf(want, sizeof(want), "%s", buf_cstr(&b));
	check_all(oct, sizeof(oct), 0, want, NULL);
	buf_free(&b);
	check_all(S("\xc3\x28 \xff\xfe\xed\xa0\x80\n4 \xc0\xaf\xf8\x88"), 0,
	    "-:\\xc3( \\xff\\xfe\\xed\\xa0\\x80\nO:\\xc0\\xaf\\xf8\\x88\n",
	    NULL);
}

TEST(megabyte_line)
{
	size_t n = (1u << 20) + 10, *cuts, ncuts = 0, i;
	char *in = vg_malloc(n), want[128];
	struct result r;
	uint32_t s = 7;

	memset(in, 'a', 1u << 20);
	memcpy(in + (1u << 20), "\n<13>next\n", 10);
	snprintf(want, sizeof(want), "T:~65536#%08x\n-:<13>next\n",
	    fnv(in, 65536));
	run_whole(&r, in, n, 0);
	CHECK_STR(r.text, want);
	CHECK_INT(r.st.truncated, 1);
	CHECK_INT(r.st.frames, 2);
	CHECK_INT(r.st.lf_frames, 2);
	CHECK_INT(r.st.bytes, n);
	CHECK_INT(r.in_place, 2); /* nothing was copied */
	CHECK_INT(r.max_pending, 0);
	free(r.text);

	cuts = vg_malloc(n * sizeof(*cuts));
	for (i = 0; i < n; i++)
		cuts[i] = i;
	run_cuts(&r, in, n, 0, cuts, n, 0);
	CHECK_STR(r.text, want);
	CHECK_INT(r.st.truncated, 1);
	CHECK_INT(r.max_pending, 65536);
	free(r.text);
	for (i = 0; (i += 1 + rnd(&s) % 9000) < n;)
		cuts[ncuts++] = i;
	run_cuts(&r, in, n, 0, cuts, ncuts, 0);
	CHECK_STR(r.text, want);
	CHECK_INT(r.st.truncated, 1);
	CHECK(r.max_pending <= 65536);
	free(r.text);
	free(cuts);
	free(in);
}

TEST(zero_copy_only_for_whole_frames)
{
	struct result r;
	size_t cuts[] = {2};

	run_whole(&r, S("abc\n5 hello"), 0);
	CHECK_STR(r.text, "-:abc\nO:hello\n");
	CHECK_INT(r.in_place, 2);
	free(r.text);
	/* "ab" | "c\n5 hello": the first frame spans feeds, the second not. */
	run_cuts(&r, S("abc\n5 hello"), 0, cuts, 1, 0);
	CHECK_STR(r.text, "-:abc\nO:hello\n");
	CHECK_INT(r.in_place, 1);
	CHECK_INT(r.max_pending, 2);
	free(r.text);
}

static int stop_cb(void *arg, const char *data, size_t len, unsigned flags)
{
	(void)data;
	(void)len;
	(void)flags;
	++*(int *)arg;
	return 1;
}

TEST(pause_returns_consumed)
{
	struct framing *f = framing_new(4);
	static const char in[] = "a\n\nbc\n3 xyzabcdefg\nq";
	int n = 0;

	CHECK_INT(framing_feed(f, in, 20, stop_cb, &n), 2);
	CHECK_INT(n, 1);
	/* The blank frame is skipped, the next one ends at "bc\n". */
	CHECK_INT(framing_feed(f, in + 2, 18, stop_cb, &n), 4);
	CHECK_INT(framing_feed(f, in + 6, 14, stop_cb, &n), 5);
	CHECK_INT(n, 3);
	/* A truncated head with no end in sight stops the feed after
	 * consuming it all; the skip goes on in the next feed. */
	CHECK_INT(framing_feed(f, in + 11, 7, stop_cb, &n), 7);
	CHECK_INT(n, 4);
	CHECK_INT(framing_feed(f, in + 18, 2, stop_cb, &n), 2);
	CHECK_INT(n, 4);
	CHECK_INT(framing_pending(f), 1);
	CHECK_INT(framing_stats(f)->bytes, 20);
	CHECK_INT(framing_stats(f)->truncated, 1);
	framing_finish(f, stop_cb, &n);
	CHECK_INT(n, 5);
	CHECK_INT(framing_stats(f)->partial, 1);
	framing_free(f);
}

TEST(limits_and_reuse)
{
	struct framing *f = framing_new(0);
	struct coll c;

	CHECK_INT(framing_max_frame(f), FRAMING_DEFAULT_MAX);
	framing_free(f);
	f = framing_new((size_t)1 << 40);
	CHECK_INT(framing_max_frame(f), FRAMING_LIMIT_MAX);
	framing_free(f);
	framing_free(NULL);

	/* finish leaves the framer ready for a new stream. */
	memset(&c, 0, sizeof(c));
	buf_init(&c.text);
	f = framing_new(8);
	framing_feed(f, S("12 abc"), collect_cb, &c);
	framing_finish(f, collect_cb, &c);
	framing_feed(f, S("xy\n"), collect_cb, &c);
	framing_finish(f, collect_cb, &c);
	CHECK_STR(buf_cstr(&c.text), "OTP:abc\n-:xy\n");
	CHECK_INT(framing_stats(f)->frames, 2);
	CHECK_INT(framing_feed(f, "", 0, collect_cb, &c), 0);
	framing_free(f);
	buf_free(&c.text);
}

int main(void)
{
	RUN(lf_frames_and_trailers);
	RUN(lf_blank_frames_are_skipped);
	RUN(octet_frames);
	RUN(mixed_per_frame);
	RUN(count_without_space_is_text);
	RUN(leading_zero_is_text);
	RUN(huge_counts);
	RUN(truncation_lf);
	RUN(truncation_octet);
	RUN(partial_at_finish);
	RUN(binary_and_invalid_utf8);
	RUN(megabyte_line);
	RUN(zero_copy_only_for_whole_frames);
	RUN(pause_returns_consumed);
	RUN(limits_and_reuse);
	return unit_done();
}
