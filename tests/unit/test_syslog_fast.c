/*
 * test_syslog_fast.c: syslog_parse's fast path for the common RFC 3164
 * shape ("<PRI>Mmm dd hh:mm:ss host tag[pid]: text") against the general
 * scanner alone (syslog_parse_general): on many generated lines, each also
 * mutated byte by byte, both must build the same event (every entry with
 * its name, kind, text, number and chain, the index, the event time) and
 * return the same format, copied or referenced (stable) alike, with the
 * per-thread time caches warm or cold.
 */
#include <stdint.h>

#include "unit.h"
#include "../../engine/event.h"
#include "../../engine/syslog.h"
#include "../../engine/vg.h"

/* 2026-11-23T12:00:00Z */
#define REF_MS 1795435200000LL

static struct vg_event *ea, *eb;

/* Everything an event holds that a later stage can see. */
static size_t dump(const struct vg_event *e, enum syslog_format f, char *out,
    size_t cap)
{
	size_t o = 0;

	o += (size_t)snprintf(out + o, cap - o, "fmt=%d n=%u ts=%d/%lld\n", (int)f,
	    e->n, e->has_ts, (long long)e->ts_ms);
	for (uint32_t i = 0; i < e->n && o < cap - 64; i++) {
		const struct fent *x = &e->ents[i];

		o += (size_t)snprintf(out + o, cap - o,
		    "%u %.*s/%u dead=%d kind=%d num=%.17g next=%u first=%u len=%u nul=%d [",
		    x->id, (int)x->name_len, x->name, x->name_len, x->dead, x->v.kind,
		    x->v.num, x->next, vg_event_first(e, x->id), x->v.len,
		    x->v.s[x->v.len] == '\0');
		for (uint32_t j = 0; j < x->v.len && o < cap - 8; j++)
			o += (size_t)snprintf(out + o, cap - o, "%02x",
			    (unsigned char)x->v.s[j]);
		o += (size_t)snprintf(out + o, cap - o, "]\n");
	}
	return o;
}

static int compared, differed;

/* Parse line[0..len) (line[len] is the NUL) both ways and compare. */
static void both(const char *line, size_t len, const struct syslog_opts *o,
    int stable, int fast_first)
{
	static char da[1 << 16], db[1 << 16];
	enum syslog_format fa, fb;

	vg_event_reset(ea);
	vg_event_reset(eb);
	if (fast_first) {
		fb = stable ? syslog_parse_stable(eb, line, len, o) :
		    syslog_parse(eb, line, len, o);
		fa = syslog_parse_general(ea, line, len, o, stable);
	} else {
		fa = syslog_parse_general(ea, line, len, o, stable);
		fb = stable ? syslog_parse_stable(eb, line, len, o) :
		    syslog_parse(eb, line, len, o);
	}
	dump(ea, fa, da, sizeof(da));
	dump(eb, fb, db, sizeof(db));
	compared++;
	if (strcmp(da, db) != 0) {
		if (differed++ < 5)
			UNIT_FAIL("paths differ on \"%.*s\" (stable %d):\n"
			    "general:\n%sfast:\n%s", (int)len, line, stable, da, db);
	}
	/* a message that stays put is referenced, never copied */
	if (stable && len > 0) {
		const struct value *m = vg_event_get(eb, F_MESSAGE);

		if (m != NULL && m->s + m->len == line + len &&
		    (m->s < line || m->s > line + len))
			UNIT_FAIL("message of \"%s\" copied", line);
	}
}

static void check_line(const char *line, size_t len, int k)
{
	static const struct syslog_opts opts[3] = {
		{ 0, REF_MS },
		{ 120, REF_MS },
		{ -720, 1798761599000LL }, /* near a year's end */
	};
	const struct syslog_opts *o = &opts[k % 3];

	both(line, len, o, 0, k & 1);
	both(line, len, o, 1, (k >> 1) & 1);
}

static const char *const pris[] = { "<86>", "<13>", "<0>", "<4>", "<013>",
	"<191>", "<192>", "<999>", "<1000>", "<>", "<1a>", "", "<38>", "<7>" };
static const char *const times[] = { "Nov 23 00:00:00", "Nov 23 00:00:05",
	"Nov  3 00:00:05", "Nov 3 00:00:05", "Nov 23 00:00:05.123",
	"Nov 23 2026 00:00:05", "Feb 29 12:00:00", "Feb 30 12:00:00",
	"Dec 31 23:59:59", "Jan  1 00:00:00", "Foo 23 00:00:00",
	"nov 23 00:00:60", "Nov 23 24:00:00", "2026-11-23T00:00:05Z",
	"Nov 23 00:00:05 UTC:", "*Mar  1 00:01:02.345:", ".Nov 23 00:00:05" };
static const char *const seps[] = { " ", " ", " ", " ", "  ", "" };
static const char *const hosts[] = { "web01", "localhost", "10.0.0.5", "last",
	"lb01", "---", "%ASA-6-302013:", "host:", "h[1]", "mail.example.org",
	"UTC", "a", "123", "x]y", "\xEF\xBB\xBFh" };
static const char *const tags[] = { "sshd[41480]:", "sshd[123]:", "CRON[7]:",
	"kernel:", "sshd[0123]:", "sshd[]:", "sshd[abc]:", "sshd[12]",
	"postfix/smtpd[54801]:", "123:", "%SYS-5-CONFIG_I:", ": %ASA-6-1:",
	"sshd[123]x", "p[1234567890123456789]:", "p[123456789012345678]:",
	"sshd[ 12]:", "su:", "systemd-logind[612]:", "a:b", "[1]:", "p:x",
	"sudo:", "p[191]:", "p[192]:", "p[000]:", "tag", "" };
static const char *const texts[] = {
	"Failed password for bob from 1.2.3.4 port 5 ssh2",
	"", "x", "\xEF\xBB\xBFtext", "last message repeated 3 times",
	"message repeated 2 times: [ Failed password]",
	"--- last message repeated 4 times ---",
	"   indented", "[UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4", "a: b [c]" };
static const char *const tails[] = { "", "\n", "\r\n", "\0" };

/* A small deterministic generator (xorshift). */
static uint64_t rnd_state = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state % n);
}

#define PICK(a) a[rnd(sizeof(a) / sizeof(a[0]))]

static size_t gen(char *out, size_t cap)
{
	const char *tail = PICK(tails);
	int n = snprintf(out, cap, "%s%s%s%s%s%s%s%s", PICK(pris), PICK(times),
	    PICK(seps), PICK(hosts), PICK(seps), PICK(tags), PICK(seps),
	    PICK(texts));
	size_t len = (size_t)n;

	if (tail[0] == '\0' && rnd(8) == 0) {
		out[len++] = '\0'; /* a NUL that is trimmed */
	} else {
		memcpy(out + len, tail, strlen(tail));
		len += strlen(tail);
	}
	out[len] = '\0';
	return len;
}

/* One change: a byte replaced, inserted or removed. */
static size_t mutate(char *s, size_t len, size_t cap)
{
	static const char bytes[] = " :[]<>%0123456789aZ.-*\n\r\xEF\xBB\xBF";
	char c = bytes[rnd(sizeof(bytes))]; /* may be the NUL */
	size_t at = len > 0 ? rnd((uint32_t)len + 1) : 0;

	switch (rnd(3)) {
	case 0:
		if (at < len)
			s[at] = c;
		break;
	case 1:
		if (len + 2 < cap) {
			memmove(s + at + 1, s + at, len - at);
			s[at] = c;
			len++;
		}
		break;
	default:
		if (at < len) {
			memmove(s + at, s + at + 1, len - at - 1);
			len--;
		}
		break;
	}
	s[len] = '\0';
	return len;
}

TEST(generated_lines_agree)
{
	char line[1024];

	compared = differed = 0;
	for (int k = 0; k < 40000; k++) {
		size_t len = gen(line, sizeof(line) - 16);

		check_line(line, len, k);
	}
	CHECK_INT(differed, 0);
	CHECK_INT(compared, 80000);
}

TEST(mutated_lines_agree)
{
	char line[1024];

	compared = differed = 0;
	for (int k = 0; k < 40000; k++) {
		size_t len = gen(line, sizeof(line) - 16);
		int m = 1 + (int)rnd(3);

		for (int j = 0; j < m; j++)
			len = mutate(line, len, sizeof(line) - 16);
		check_line(line, len, k);
	}
	CHECK_INT(differed, 0);
}

/* Every prefix of common lines: short input at each field boundary. */
TEST(prefixes_agree)
{
	static const char *const lines[] = {
		"<86>Nov 23 00:00:00 web01 sshd[41480]: Failed password for bob",
		"<4>Nov 23 00:00:00 vpn01 kernel: [UFW BLOCK] IN=eth0",
		"<191>Feb 29 00:00:00 h p[192]: message repeated 2 times: [ x]",
		"<13>Nov  3 00:00:05 h postfix/smtpd[54801] text",
	};
	char buf[256];

	compared = differed = 0;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t n = strlen(lines[i]);

		for (size_t len = 0; len <= n; len++) {
			memcpy(buf, lines[i], len);
			buf[len] = '\0';
			check_line(buf, len, (int)len);
		}
	}
	CHECK_INT(differed, 0);
}

/* Pids of 1 to 20 digits, with and without leading zeros, and each byte
 * that may follow them, at each distance from the line's end: the
 * fast path reads up to 8 of them in one word. */
TEST(pid_lengths_agree)
{
	static const char *const after[] = { "]: x", "]:", "]", "] x", "]x",
		"x]: x", ":", " ", "", "]: 0123456789", "0" };
	char line[256], digits[32];

	compared = differed = 0;
	for (int len = 1; len <= 20; len++) {
		for (int lead = 0; lead < 3; lead++) {
			for (int d = 0; d < len; d++)
				digits[d] = (char)(d < lead ? '0' : '1' + (d * 7 + len) % 9);
			digits[len] = '\0';
			for (size_t a = 0; a < sizeof(after) / sizeof(after[0]); a++) {
				int n = snprintf(line, sizeof(line),
				    "<13>Nov 23 00:00:05 h p[%s%s", digits, after[a]);

				check_line(line, (size_t)n, len + a);
			}
		}
	}
	CHECK_INT(differed, 0);
	CHECK_INT(compared, 20 * 3 * 11 * 2);
}

/* The fast path writes into an event that already holds fields only
 * through the general path: the listener's field stays first. */
TEST(event_with_fields_agrees)
{
	static const char line[] = "<13>Nov 23 00:00:05 h p[42]: x";
	const struct syslog_opts o = { 0, REF_MS };
	static char da[4096], db[4096];

	vg_event_reset(ea);
	vg_event_reset(eb);
	vg_event_add(ea, F_OBSERVER_INGRESS, "udp", 3);
	vg_event_add(eb, F_OBSERVER_INGRESS, "udp", 3);
	dump(ea, syslog_parse_general(ea, line, sizeof(line) - 1, &o, 0), da,
	    sizeof(da));
	dump(eb, syslog_parse(eb, line, sizeof(line) - 1, &o), db, sizeof(db));
	CHECK_STR(db, da);
	CHECK_STR(eb->ents[0].name, "observer.ingress");
	CHECK_INT(eb->n, 9);
}

int main(void)
{
	ea = vg_event_new();
	eb = vg_event_new();
	RUN(generated_lines_agree);
	RUN(mutated_lines_agree);
	RUN(prefixes_agree);
	RUN(pid_lengths_agree);
	RUN(event_with_fields_agrees);
	vg_event_free(ea);
	vg_event_free(eb);
	return unit_done();
}
