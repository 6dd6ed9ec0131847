/*
 * test_syslog.c: the syslog header parser against the shapes real senders
 * produce (rsyslog, syslog-ng, logger, Cisco IOS/ASA, Juniper, FortiGate,
 * kernel, systemd) and against hostile input. Every case checks the whole
 * event: fields in order, as `name=value` (text) or `name#value` (number),
 * bytes outside printable ASCII shown as \xNN.
 */
#include <pthread.h>

#include "unit.h"
#include "../../engine/event.h"
#include "../../engine/syslog.h"
#include "../../engine/vg.h"
#include "../../engine/vgtime.h"

static struct vg_event *ev;
static struct syslog_opts opts;

/* 2026-11-23T12:00:00Z, the default reference time of these tests */
#define REF_MS 1795435200000LL

static int64_t iso(const char *s)
{
	int64_t ms = 0;

	vgtime_parse_iso(s, strlen(s), 0, &ms);
	return ms;
}

static struct vg_event *ev_general;

/* The entries of e as text, with their chains and the index. */
static void dump(const struct vg_event *e, enum syslog_format f, char *out,
    size_t cap)
{
	size_t o = (size_t)snprintf(out, cap, "%d %u %d %lld\n", (int)f, e->n,
	    e->has_ts, (long long)e->ts_ms);

	for (uint32_t i = 0; i < e->n && o < cap - 64; i++) {
		const struct fent *x = &e->ents[i];

		o += (size_t)snprintf(out + o, cap - o, "%u %s %u %d %d %.17g %u %u %u ",
		    x->id, x->name, x->name_len, x->dead, x->v.kind, x->v.num,
		    x->next, vg_event_first(e, x->id), x->v.len);
		for (uint32_t j = 0; j < x->v.len && o < cap - 8; j++)
			o += (size_t)snprintf(out + o, cap - o, "%02x",
			    (unsigned char)x->v.s[j]);
		o += (size_t)snprintf(out + o, cap - o, "\n");
	}
}

/* Every line these tests parse is parsed by the general path alone too
 * (syslog_parse_general): syslog_parse's fast path for the common shape
 * must build the same event. */
static void same_as_general(const char *line, size_t len, int stable,
    enum syslog_format f)
{
	static char a[1 << 21], b[1 << 21];

	vg_event_reset(ev_general);
	dump(ev_general, syslog_parse_general(ev_general, line, len, &opts, stable),
	    a, sizeof(a));
	dump(ev, f, b, sizeof(b));
	if (strcmp(a, b) != 0)
		UNIT_FAIL("fast and general paths differ on \"%.*s\"", (int)len,
		    line);
}

static enum syslog_format parse_n(const char *line, size_t len)
{
	enum syslog_format f;

	vg_event_reset(ev);
	f = syslog_parse(ev, line, len, &opts);
	same_as_general(line, len, 0, f);
	return f;
}

static enum syslog_format parse(const char *line)
{
	return parse_n(line, strlen(line));
}

/* The event's live fields, one line each. */
static const char *render(void)
{
	static char out[1 << 20];
	size_t o = 0;

	for (uint32_t i = 0; i < ev->n; i++) {
		const struct fent *e = &ev->ents[i];

		if (e->dead)
			continue;
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%c", e->name,
		    e->v.kind == V_NUM ? '#' : '=');
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

#define EXPECT(line, fmt, fields)                                       \
	do {                                                            \
		CHECK_INT(parse(line), fmt);                            \
		CHECK_STR(render(), fields);                            \
	} while (0)

#define PRI(p, f, s) "log.syslog.priority#" #p "\nlog.syslog.facility.code#" \
	#f "\nlog.syslog.severity.code#" #s "\n"

TEST(rsyslog_traditional_forward)
{
	EXPECT("<86>Nov 23 00:00:00 web01 sshd[41480]: Failed password for bob "
	    "from 185.24.143.27 port 54964 ssh2", SYSLOG_3164,
	    PRI(86, 10, 6)
	    "@timestamp=2026-11-23T00:00:00.000Z\n"
	    "host.hostname=web01\n"
	    "process.name=sshd\n"
	    "process.pid#41480\n"
	    "message=Failed password for bob from 185.24.143.27 port 54964 ssh2\n");
	CHECK(ev->has_ts);
	CHECK_INT(ev->ts_ms, iso("2026-11-23T00:00:00Z"));
}

TEST(rsyslog_forward_format_rfc3339)
{
	EXPECT("<30>2026-11-23T01:02:03.456789+01:00 web01 systemd[1]: Started "
	    "Session 5 of user root.", SYSLOG_3164,
	    PRI(30, 3, 6)
	    "@timestamp=2026-11-23T00:02:03.456Z\n"
	    "host.hostname=web01\n"
	    "process.name=systemd\n"
	    "process.pid#1\n"
	    "message=Started Session 5 of user root.\n");
	CHECK_INT(ev->ts_ms, iso("2026-11-23T00:02:03.456Z"));
	/* rsyslog file format, no PRI */
	EXPECT("2026-11-23T00:00:05.000000+00:00 db01 CRON[7876]: (root) CMD "
	    "(run-parts /etc/cron.hourly)", SYSLOG_3164,
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=db01\n"
	    "process.name=CRON\n"
	    "process.pid#7876\n"
	    "message=(root) CMD (run-parts /etc/cron.hourly)\n");
}

TEST(syslog_ng_default)
{
	EXPECT("<38>Nov 23 00:00:05 bastion sshd[7782]: Accepted publickey for "
	    "alice from 10.0.1.5 port 50000 ssh2: ED25519 SHA256:abc",
	    SYSLOG_3164,
	    PRI(38, 4, 6)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=bastion\n"
	    "process.name=sshd\n"
	    "process.pid#7782\n"
	    "message=Accepted publickey for alice from 10.0.1.5 port 50000 "
	    "ssh2: ED25519 SHA256:abc\n");
	/* syslog-ng's RFC 5424 output with its meta sequenceId */
	EXPECT("<38>1 2026-11-23T00:00:05+01:00 bastion sshd 7782 - "
	    "[meta sequenceId=\"17\"] Connection closed", SYSLOG_5424,
	    PRI(38, 4, 6)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-22T23:00:05.000Z\n"
	    "host.hostname=bastion\n"
	    "process.name=sshd\n"
	    "process.pid#7782\n"
	    "log.syslog.structured_data.meta.sequenceId=17\n"
	    "message=Connection closed\n");
}

TEST(logger_rfc3164)
{
	EXPECT("<13>Nov 23 00:00:05 myhost alice: hello world", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=myhost\n"
	    "process.name=alice\n"
	    "message=hello world\n");
	/* logger --rfc3164 -i */
	EXPECT("<13>Nov 23 00:00:05 myhost alice[4242]: hello", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=myhost\n"
	    "process.name=alice\n"
	    "process.pid#4242\n"
	    "message=hello\n");
}

TEST(logger_rfc5424)
{
	EXPECT("<13>1 2026-11-23T00:00:05.123456+01:00 myhost alice - - "
	    "[timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"218500\"] "
	    "hello world", SYSLOG_5424,
	    PRI(13, 1, 5)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-22T23:00:05.123Z\n"
	    "host.hostname=myhost\n"
	    "process.name=alice\n"
	    "log.syslog.structured_data.timeQuality.tzKnown=1\n"
	    "log.syslog.structured_data.timeQuality.isSynced=1\n"
	    "log.syslog.structured_data.timeQuality.syncAccuracy=218500\n"
	    "message=hello world\n");
	CHECK_INT(ev->ts_ms, iso("2026-11-22T23:00:05.123Z"));
}

TEST(rfc5424_examples)
{
	EXPECT("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 "
	    "- \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
	    SYSLOG_5424,
	    PRI(34, 4, 2)
	    "log.syslog.version#1\n"
	    "@timestamp=2003-10-11T22:14:15.003Z\n"
	    "host.hostname=mymachine.example.com\n"
	    "process.name=su\n"
	    "log.syslog.msgid=ID47\n"
	    "message='su root' failed for lonvick on /dev/pts/8\n");
	EXPECT("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 "
	    "- - %% It's time to make the do-nuts.", SYSLOG_5424,
	    PRI(165, 20, 5)
	    "log.syslog.version#1\n"
	    "@timestamp=2003-08-24T12:14:15.000Z\n"
	    "host.hostname=192.0.2.1\n"
	    "process.name=myproc\n"
	    "process.pid#8710\n"
	    "message=%% It's time to make the do-nuts.\n");
	EXPECT("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog "
	    "- ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
	    "eventID=\"1011\"] \xEF\xBB\xBF" "An application event log entry...",
	    SYSLOG_5424,
	    PRI(165, 20, 5)
	    "log.syslog.version#1\n"
	    "@timestamp=2003-10-11T22:14:15.003Z\n"
	    "host.hostname=mymachine.example.com\n"
	    "process.name=evntslog\n"
	    "log.syslog.msgid=ID47\n"
	    "log.syslog.structured_data.exampleSDID@32473.iut=3\n"
	    "log.syslog.structured_data.exampleSDID@32473.eventSource=Application\n"
	    "log.syslog.structured_data.exampleSDID@32473.eventID=1011\n"
	    "message=An application event log entry...\n");
}

TEST(rfc5424_multiple_sd_elements_no_msg)
{
	EXPECT("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog "
	    "- ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
	    "eventID=\"1011\"][examplePriority@32473 class=\"high\"]",
	    SYSLOG_5424,
	    PRI(165, 20, 5)
	    "log.syslog.version#1\n"
	    "@timestamp=2003-10-11T22:14:15.003Z\n"
	    "host.hostname=mymachine.example.com\n"
	    "process.name=evntslog\n"
	    "log.syslog.msgid=ID47\n"
	    "log.syslog.structured_data.exampleSDID@32473.iut=3\n"
	    "log.syslog.structured_data.exampleSDID@32473.eventSource=Application\n"
	    "log.syslog.structured_data.exampleSDID@32473.eventID=1011\n"
	    "log.syslog.structured_data.examplePriority@32473.class=high\n"
	    "message=\n");
}

TEST(rfc5424_sd_escapes_and_repeats)
{
	EXPECT("<14>1 2026-11-23T00:00:05Z h app 1 - [x@1 a=\"q\\\"uote\" "
	    "b=\"back\\\\slash\" c=\"br\\]acket\" d=\"other\\n\" e=\"\" "
	    "f=\"sp ace=[x]\"] [y@1 ip=\"192.0.2.1\" ip=\"192.0.2.2\"] m",
	    SYSLOG_5424,
	    PRI(14, 1, 6)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=h\n"
	    "process.name=app\n"
	    "process.pid#1\n"
	    "log.syslog.structured_data.x@1.a=q\"uote\n"
	    "log.syslog.structured_data.x@1.b=back\\slash\n"
	    "log.syslog.structured_data.x@1.c=br]acket\n"
	    "log.syslog.structured_data.x@1.d=other\\n\n"
	    "log.syslog.structured_data.x@1.e=\n"
	    "log.syslog.structured_data.x@1.f=sp ace=[x]\n"
	    "message=[y@1 ip=\"192.0.2.1\" ip=\"192.0.2.2\"] m\n");
	/* a space between elements is not SD: the second one is text; glued
	 * elements are, and repeated params become a multi-valued field */
	EXPECT("<14>1 2026-11-23T00:00:05Z h app 1 - [x@1 a=\"1\"][y@1 "
	    "ip=\"192.0.2.1\" ip=\"192.0.2.2\"] m", SYSLOG_5424,
	    PRI(14, 1, 6)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=h\n"
	    "process.name=app\n"
	    "process.pid#1\n"
	    "log.syslog.structured_data.x@1.a=1\n"
	    "log.syslog.structured_data.y@1.ip=192.0.2.1\n"
	    "log.syslog.structured_data.y@1.ip=192.0.2.2\n"
	    "message=m\n");
}

TEST(rfc5424_nilvalues)
{
	EXPECT("<14>1 - - - - - -", SYSLOG_5424,
	    PRI(14, 1, 6)
	    "log.syslog.version#1\n"
	    "message=\n");
	CHECK(!ev->has_ts);
	EXPECT("<14>1 - - - - - - only text", SYSLOG_5424,
	    PRI(14, 1, 6)
	    "log.syslog.version#1\n"
	    "message=only text\n");
	EXPECT("<14>1 2026-11-23T00:00:05Z - app - MSG1 - x", SYSLOG_5424,
	    PRI(14, 1, 6)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "process.name=app\n"
	    "log.syslog.msgid=MSG1\n"
	    "message=x\n");
}

TEST(rfc5424_procid_not_numeric_and_bom)
{
	EXPECT("<14>1 2026-11-23T00:00:05Z host app worker-3 - - "
	    "\xEF\xBB\xBF\xC3\xA9t\xC3\xA9", SYSLOG_5424,
	    PRI(14, 1, 6)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=app\n"
	    "log.syslog.procid=worker-3\n"
	    "message=\\xc3\\xa9t\\xc3\\xa9\n");
}

TEST(rfc5424_malformed_falls_back)
{
	/* broken SD: the header is kept, the rest is text */
	EXPECT("<14>1 2026-11-23T00:00:05Z host app - - [bad sd", SYSLOG_5424,
	    PRI(14, 1, 6)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=app\n"
	    "message=[bad sd\n");
	/* truncated header: not 5424, the text after the PRI is the message */
	EXPECT("<14>1 2026-11-23T00:00:05Z host", SYSLOG_3164,
	    PRI(14, 1, 6)
	    "message=1 2026-11-23T00:00:05Z host\n");
	/* bad time */
	EXPECT("<14>1 2026-13-23T00:00:05Z host app - - - x", SYSLOG_3164,
	    PRI(14, 1, 6)
	    "message=1 2026-13-23T00:00:05Z host app - - - x\n");
}

TEST(no_pri)
{
	EXPECT("Nov 23 00:00:05 web01 sshd[12]: Invalid user a from 192.0.2.7",
	    SYSLOG_3164,
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=web01\n"
	    "process.name=sshd\n"
	    "process.pid#12\n"
	    "message=Invalid user a from 192.0.2.7\n");
}

TEST(no_hostname)
{
	EXPECT("<13>Nov 23 00:00:05 sshd[12]: msg", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "process.name=sshd\n"
	    "process.pid#12\n"
	    "message=msg\n");
	EXPECT("<6>Nov 23 00:00:05 kernel: Linux version 6.1.0", SYSLOG_3164,
	    PRI(6, 0, 6)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "process.name=kernel\n"
	    "message=Linux version 6.1.0\n");
}

TEST(rfc3339_inside_3164)
{
	EXPECT("<13>2026-11-23T00:00:05.123+01:00 host prog: msg", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-22T23:00:05.123Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=msg\n");
	/* a zone-less one takes the configured offset */
	opts.tz_offset_min = -300;
	EXPECT("<13>2026-11-23T00:00:05 host prog: msg", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T05:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=msg\n");
	opts.tz_offset_min = 0;
}

TEST(single_digit_day_and_fractions)
{
	EXPECT("<13>Nov  3 00:00:05 host prog: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-03T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=x\n");
	EXPECT("<13>Nov 3 00:00:05.987654 host prog: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-03T00:00:05.987Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=x\n");
	/* lower-case month names and a leap second clamp */
	EXPECT("nov 23 23:59:60 host prog: x", SYSLOG_3164,
	    "@timestamp=2026-11-23T23:59:59.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=x\n");
}

TEST(zoneless_offset)
{
	opts.tz_offset_min = 60;
	EXPECT("<13>Nov 23 00:00:05 host prog: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-22T23:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=x\n");
	opts.tz_offset_min = 0;
}

TEST(year_rollover_backwards)
{
	opts.ref_ms = iso("2027-01-01T00:00:10Z");
	parse("<13>Dec 31 23:59:59 host prog: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2026-12-31T23:59:59.000Z");
	CHECK_INT(ev->ts_ms, iso("2026-12-31T23:59:59Z"));
	opts.ref_ms = REF_MS;
}

TEST(year_rollover_forwards)
{
	opts.ref_ms = iso("2026-12-31T12:00:00Z");
	parse("<13>Jan  1 00:00:01 host prog: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2027-01-01T00:00:01.000Z");
	/* the year is taken in the configured zone: at 23:30 UTC it is
	 * already Jan 1 at +01:00 */
	opts.tz_offset_min = 60;
	opts.ref_ms = iso("2026-12-31T23:30:00Z");
	parse("<13>Jan  1 00:40:00 host prog: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2026-12-31T23:40:00.000Z");
	parse("<13>Dec 31 23:59:00 host prog: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2026-12-31T22:59:00.000Z");
	opts.tz_offset_min = 0;
	opts.ref_ms = REF_MS;
}

TEST(year_nearest_and_feb29)
{
	/* nearest wins even when it is ahead: Mar 1 seen on Nov 23 */
	parse("<13>Mar  1 00:00:00 host prog: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2027-03-01T00:00:00.000Z");
	parse("<13>Jun  1 00:00:00 host prog: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2026-06-01T00:00:00.000Z");
	/* no leap year next to 2026: the nearest one */
	parse("<13>Feb 29 12:00:00 host prog: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2028-02-29T12:00:00.000Z");
	/* a day the month never has is not a timestamp */
	EXPECT("<13>Nov 31 00:00:05 host prog: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "message=Nov 31 00:00:05 host prog: x\n");
	CHECK(!ev->has_ts);
}

TEST(ref_zero_uses_now)
{
	int64_t now = vg_now_ms();

	opts.ref_ms = 0;
	parse("<13>Jan  1 00:00:00 host prog: x");
	CHECK(ev->has_ts);
	CHECK(ev->ts_ms > now - 200LL * 86400000 &&
	    ev->ts_ms < now + 200LL * 86400000);
	opts.ref_ms = REF_MS;
}

TEST(bad_pri)
{
	/* out of range: no priority fields, the header still parses */
	EXPECT("<192>Nov 23 00:00:05 host prog: x", SYSLOG_3164,
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=x\n");
	EXPECT("<999>hello", SYSLOG_PLAIN, "message=<999>hello\n");
	EXPECT("<1a>hello", SYSLOG_PLAIN, "message=<1a>hello\n");
	EXPECT("<1234>hello", SYSLOG_PLAIN, "message=<1234>hello\n");
	EXPECT("<>hello", SYSLOG_PLAIN, "message=<>hello\n");
	EXPECT("<13", SYSLOG_PLAIN, "message=<13\n");
	/* edges of the range, leading zero */
	EXPECT("<0>x", SYSLOG_3164, PRI(0, 0, 0) "message=x\n");
	EXPECT("<191>x", SYSLOG_3164, PRI(191, 23, 7) "message=x\n");
	EXPECT("<013>x", SYSLOG_3164, PRI(13, 1, 5) "message=x\n");
}

TEST(pri_only_and_text)
{
	EXPECT("<13>", SYSLOG_3164, PRI(13, 1, 5) "message=\n");
	EXPECT("<13>hello world", SYSLOG_3164, PRI(13, 1, 5)
	    "message=hello world\n");
}

TEST(garbage_and_empty)
{
	EXPECT("", SYSLOG_PLAIN, "message=\n");
	EXPECT("\r\n", SYSLOG_PLAIN, "message=\n");
	EXPECT("\x01\x02garbage \xff", SYSLOG_PLAIN,
	    "message=\\x01\\x02garbage \\xff\n");
	EXPECT("just some text: here", SYSLOG_PLAIN,
	    "message=just some text: here\n");
	CHECK(!ev->has_ts);
}

TEST(trailing_newline_cr_nul)
{
	static const char line[] = "<13>Nov 23 00:00:05 host prog: x\r\n\0";

	CHECK_INT(parse_n(line, sizeof(line) - 1), SYSLOG_3164);
	CHECK_STR(render(), PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=x\n");
}

TEST(nul_bytes_inside_message)
{
	static const char line[] = "<13>Nov 23 00:00:05 host prog: a\0b\0c";
	const struct value *v;

	CHECK_INT(parse_n(line, sizeof(line) - 1), SYSLOG_3164);
	v = vg_event_get(ev, F_MESSAGE);
	CHECK(v != NULL);
	CHECK_INT(v->len, 5);
	CHECK(memcmp(v->s, "a\0b\0c", 6) == 0);
}

TEST(invalid_utf8_kept)
{
	EXPECT("<13>Nov 23 00:00:05 host prog: \xff\xfe\xc3(", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=\\xff\\xfe\\xc3(\n");
}

TEST(very_long_line)
{
	static char line[200000];
	const struct value *v;
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "<13>Nov 23 00:00:05 host prog: ");
	memset(line + n, 'A', sizeof(line) - n - 1);
	CHECK_INT(parse_n(line, sizeof(line) - 1), SYSLOG_3164);
	v = vg_event_get(ev, F_MESSAGE);
	CHECK(v != NULL);
	CHECK_INT(v->len, sizeof(line) - 1 - n);
	CHECK_STR(vg_event_str(ev, F_PROCESS_NAME), "prog");
	/* and one long token with no header at all */
	memset(line, 'x', sizeof(line) - 1);
	CHECK_INT(parse_n(line, sizeof(line) - 1), SYSLOG_PLAIN);
	CHECK_INT(vg_event_get(ev, F_MESSAGE)->len, sizeof(line) - 1);
}

TEST(cisco_ios_sequence_and_code)
{
	opts.ref_ms = iso("2026-03-01T12:00:00Z");
	EXPECT("<189>123: *Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured "
	    "from console by console", SYSLOG_3164,
	    PRI(189, 23, 5)
	    "event.sequence#123\n"
	    "@timestamp=2026-03-01T00:01:02.345Z\n"
	    "event.code=SYS-5-CONFIG_I\n"
	    "message=Configured from console by console\n");
	opts.ref_ms = REF_MS;
	EXPECT("<189>45: router1: .Nov 23 00:00:05 UTC: %LINK-3-UPDOWN: "
	    "Interface GigabitEthernet0/1, changed state to down", SYSLOG_3164,
	    PRI(189, 23, 5)
	    "event.sequence#45\n"
	    "host.hostname=router1\n"
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "event.code=LINK-3-UPDOWN\n"
	    "message=Interface GigabitEthernet0/1, changed state to down\n");
}

TEST(cisco_zone_names)
{
	/* UTC names pin the offset; other abbreviations are consumed and the
	 * configured offset applies */
	opts.tz_offset_min = 60;
	parse("<187>46: Nov 23 00:00:05.123 GMT: %LINEPROTO-5-UPDOWN: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2026-11-23T00:00:05.123Z");
	CHECK_STR(vg_event_str(ev, F_MESSAGE), "x");
	EXPECT("<187>47: Nov 23 00:00:05.123 CET: %LINEPROTO-5-UPDOWN: x",
	    SYSLOG_3164,
	    PRI(187, 23, 3)
	    "event.sequence#47\n"
	    "@timestamp=2026-11-22T23:00:05.123Z\n"
	    "event.code=LINEPROTO-5-UPDOWN\n"
	    "message=x\n");
	opts.tz_offset_min = 0;
}

TEST(cisco_without_sequence)
{
	EXPECT("<189>*Nov 23 00:01:02.345: %SEC_LOGIN-5-LOGIN_SUCCESS: Login "
	    "Success [user: admin]", SYSLOG_3164,
	    PRI(189, 23, 5)
	    "@timestamp=2026-11-23T00:01:02.345Z\n"
	    "event.code=SEC_LOGIN-5-LOGIN_SUCCESS\n"
	    "message=Login Success [user: admin]\n");
	/* relayed with a hostname, the device's own sequence and time after */
	EXPECT("<189>Nov 23 00:00:05 router1 123: Nov 23 00:00:04.500 UTC: "
	    "%SYS-5-CONFIG_I: Configured from console", SYSLOG_3164,
	    PRI(189, 23, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=router1\n"
	    "event.sequence#123\n"
	    "event.code=SYS-5-CONFIG_I\n"
	    "message=Configured from console\n");
	/* hostname then code, no sequence */
	EXPECT("<187>Nov 23 00:00:05 router1 %LINK-3-UPDOWN: Interface Gi0/1",
	    SYSLOG_3164,
	    PRI(187, 23, 3)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=router1\n"
	    "event.code=LINK-3-UPDOWN\n"
	    "message=Interface Gi0/1\n");
	/* no timestamps configured on the device */
	EXPECT("<189>77: %SYS-5-RESTART: System restarted", SYSLOG_3164,
	    PRI(189, 23, 5)
	    "event.sequence#77\n"
	    "event.code=SYS-5-RESTART\n"
	    "message=System restarted\n");
}

TEST(cisco_asa)
{
	EXPECT("<166>Nov 23 2026 00:00:05: %ASA-6-302013: Built outbound TCP "
	    "connection 1 for outside:203.0.113.9/443 (203.0.113.9/443) to "
	    "inside:10.0.0.5/5000 (10.0.0.5/5000)", SYSLOG_3164,
	    PRI(166, 20, 6)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "event.code=ASA-6-302013\n"
	    "message=Built outbound TCP connection 1 for "
	    "outside:203.0.113.9/443 (203.0.113.9/443) to "
	    "inside:10.0.0.5/5000 (10.0.0.5/5000)\n");
	/* the explicit year wins over the reference */
	EXPECT("<166>Nov 23 2024 00:00:05 fw01 : %ASA-4-106023: Deny tcp",
	    SYSLOG_3164,
	    PRI(166, 20, 6)
	    "@timestamp=2024-11-23T00:00:05.000Z\n"
	    "host.hostname=fw01\n"
	    "event.code=ASA-4-106023\n"
	    "message=Deny tcp\n");
}

TEST(juniper)
{
	EXPECT("<28>Nov 23 00:00:05 fw01 RT_FLOW: RT_FLOW_SESSION_CREATE: "
	    "session created 10.0.0.1/5000->8.8.8.8/53", SYSLOG_3164,
	    PRI(28, 3, 4)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=fw01\n"
	    "process.name=RT_FLOW\n"
	    "message=RT_FLOW_SESSION_CREATE: session created "
	    "10.0.0.1/5000->8.8.8.8/53\n");
	EXPECT("<165>1 2026-11-23T00:00:05.123+01:00 fw01 RT_FLOW - "
	    "RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.40 "
	    "source-address=\"10.0.0.1\" source-port=\"5000\"] session created",
	    SYSLOG_5424,
	    PRI(165, 20, 5)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-22T23:00:05.123Z\n"
	    "host.hostname=fw01\n"
	    "process.name=RT_FLOW\n"
	    "log.syslog.msgid=RT_FLOW_SESSION_CREATE\n"
	    "log.syslog.structured_data.junos@2636.1.1.1.2.40.source-address=10.0.0.1\n"
	    "log.syslog.structured_data.junos@2636.1.1.1.2.40.source-port=5000\n"
	    "message=session created\n");
	/* Junos sshd with the year-less header and a host FQDN */
	EXPECT("<38>Nov 23 00:00:05 sw1.example.net sshd[4411]: Failed password "
	    "for root from 192.0.2.9 port 2222 ssh2", SYSLOG_3164,
	    PRI(38, 4, 6)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=sw1.example.net\n"
	    "process.name=sshd\n"
	    "process.pid#4411\n"
	    "message=Failed password for root from 192.0.2.9 port 2222 ssh2\n");
}

TEST(fortigate_key_value)
{
	EXPECT("<189>date=2026-11-23 time=00:00:05 devname=\"FG100E\" "
	    "devid=\"FG100E4Q\" logid=\"0000000013\" type=\"traffic\" "
	    "srcip=10.0.0.5 dstip=8.8.8.8 action=\"accept\"", SYSLOG_3164,
	    PRI(189, 23, 5)
	    "message=date=2026-11-23 time=00:00:05 devname=\"FG100E\" "
	    "devid=\"FG100E4Q\" logid=\"0000000013\" type=\"traffic\" "
	    "srcip=10.0.0.5 dstip=8.8.8.8 action=\"accept\"\n");
	CHECK(!ev->has_ts);
}

TEST(kernel_messages)
{
	EXPECT("<4>Nov 23 00:00:00 vpn01 kernel: [UFW BLOCK] IN=eth0 OUT= "
	    "SRC=61.217.30.212 DST=10.0.0.5 PROTO=TCP SPT=18482 DPT=80",
	    SYSLOG_3164,
	    PRI(4, 0, 4)
	    "@timestamp=2026-11-23T00:00:00.000Z\n"
	    "host.hostname=vpn01\n"
	    "process.name=kernel\n"
	    "message=[UFW BLOCK] IN=eth0 OUT= SRC=61.217.30.212 DST=10.0.0.5 "
	    "PROTO=TCP SPT=18482 DPT=80\n");
	EXPECT("<6>Nov 23 00:00:05 host kernel: [12345.678901] usb 1-1: new "
	    "high-speed USB device", SYSLOG_3164,
	    PRI(6, 0, 6)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=kernel\n"
	    "message=[12345.678901] usb 1-1: new high-speed USB device\n");
}

TEST(systemd_and_friends)
{
	EXPECT("<30>Nov 23 00:00:05 host systemd[1]: Started Daily apt "
	    "download activities.", SYSLOG_3164,
	    PRI(30, 3, 6)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=systemd\n"
	    "process.pid#1\n"
	    "message=Started Daily apt download activities.\n");
	EXPECT("<38>Nov 23 00:00:05 host systemd-logind[612]: New session 5 of "
	    "user alice.", SYSLOG_3164,
	    PRI(38, 4, 6)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=systemd-logind\n"
	    "process.pid#612\n"
	    "message=New session 5 of user alice.\n");
	EXPECT("<22>Nov 23 00:00:05 mail01 postfix/smtpd[54801]: connect from "
	    "unknown[203.0.113.9]", SYSLOG_3164,
	    PRI(22, 2, 6)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=mail01\n"
	    "process.name=postfix/smtpd\n"
	    "process.pid#54801\n"
	    "message=connect from unknown[203.0.113.9]\n");
	EXPECT("<78>Nov 23 00:00:00 bastion CRON[7876]: (root) CMD (run-parts "
	    "/etc/cron.hourly)", SYSLOG_3164,
	    PRI(78, 9, 6)
	    "@timestamp=2026-11-23T00:00:00.000Z\n"
	    "host.hostname=bastion\n"
	    "process.name=CRON\n"
	    "process.pid#7876\n"
	    "message=(root) CMD (run-parts /etc/cron.hourly)\n");
}

TEST(rsyslog_5424_double_space)
{
	EXPECT("<38>1 2026-11-23T10:00:00.000000+00:00 web1 sshd 42 - -  Failed "
	    "password for root from 192.0.2.1 port 22 ssh2", SYSLOG_5424,
	    PRI(38, 4, 6)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-23T10:00:00.000Z\n"
	    "host.hostname=web1\n"
	    "process.name=sshd\n"
	    "process.pid#42\n"
	    "message=Failed password for root from 192.0.2.1 port 22 ssh2\n");
	EXPECT("<85>1 2026-11-23T10:00:00Z bastion sudo 7 - -     carol : TTY=pts/0",
	    SYSLOG_5424, PRI(85, 10, 5)
	    "log.syslog.version#1\n"
	    "@timestamp=2026-11-23T10:00:00.000Z\n"
	    "host.hostname=bastion\n"
	    "process.name=sudo\n"
	    "process.pid#7\n"
	    "message=   carol : TTY=pts/0\n");
}

TEST(sudo_keeps_leading_spaces)
{
	/* one separating space is eaten, sudo's own indentation stays */
	EXPECT("<85>Nov 23 00:00:00 bastion sudo[19267]:    carol : TTY=pts/0 ; "
	    "PWD=/home/carol ; USER=root ; COMMAND=/usr/bin/id", SYSLOG_3164,
	    PRI(85, 10, 5)
	    "@timestamp=2026-11-23T00:00:00.000Z\n"
	    "host.hostname=bastion\n"
	    "process.name=sudo\n"
	    "process.pid#19267\n"
	    "message=   carol : TTY=pts/0 ; PWD=/home/carol ; USER=root ; "
	    "COMMAND=/usr/bin/id\n");
}

TEST(tag_shapes)
{
	/* "prog[pid]" without a colon */
	EXPECT("<13>Nov 23 00:00:05 host prog[42] hello", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "process.pid#42\n"
	    "message=hello\n");
	/* macOS launchd */
	EXPECT("<13>Nov 23 00:00:05 mac com.apple.xpc.launchd[1] "
	    "(com.apple.foo[123]): Service exited", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=mac\n"
	    "process.name=com.apple.xpc.launchd\n"
	    "process.pid#1\n"
	    "message=(com.apple.foo[123]): Service exited\n");
	/* a non-numeric pid, an empty one */
	EXPECT("<13>Nov 23 00:00:05 host prog[main]: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "log.syslog.procid=main\n"
	    "message=x\n");
	EXPECT("<13>Nov 23 00:00:05 host prog[]: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=x\n");
	/* pids read while the tag is scanned: 18 digits are a number, 19
	 * are not; leading zeros are dropped from small numbers and kept
	 * in big ones; a digit run with a letter is a procid */
	EXPECT("<13>Nov 23 00:00:05 host p[123456789012345678]: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=p\n"
	    "process.pid#123456789012345678\n"
	    "message=x\n");
	EXPECT("<13>Nov 23 00:00:05 host p[1234567890123456789]: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=p\n"
	    "log.syslog.procid=1234567890123456789\n"
	    "message=x\n");
	EXPECT("<13>Nov 23 00:00:05 host p[007]: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=p\n"
	    "process.pid#7\n"
	    "message=x\n");
	EXPECT("<13>Nov 23 00:00:05 host p[00400]: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=p\n"
	    "process.pid#400\n"
	    "message=x\n");
	EXPECT("<13>Nov 23 00:00:05 host p[12a3]: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=p\n"
	    "log.syslog.procid=12a3\n"
	    "message=x\n");
	CHECK(vg_event_get(ev, F_PROCESS_PID) == NULL);
	parse("<13>Nov 23 00:00:05 host p[41480]: x");
	CHECK(vg_event_get(ev, F_PROCESS_PID)->num == 41480);
	/* a colon inside the program name that is not followed by a space */
	EXPECT("<13>Nov 23 00:00:05 host app:worker[9]: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=app:worker\n"
	    "process.pid#9\n"
	    "message=x\n");
	/* host and text, no tag */
	EXPECT("<13>Nov 23 00:00:05 host free text here", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "message=free text here\n");
	/* host only */
	EXPECT("<13>Nov 23 00:00:05 host", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "message=\n");
	/* a URL in the text is not a tag */
	EXPECT("<13>Nov 23 00:00:05 host prog: see http://x/y", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=see http://x/y\n");
}

TEST(hostnames_ip)
{
	EXPECT("<13>Nov 23 00:00:05 2001:db8::1 sshd[1]: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=2001:db8::1\n"
	    "process.name=sshd\n"
	    "process.pid#1\n"
	    "message=x\n");
	EXPECT("<13>Nov 23 00:00:05 10.0.0.1 prog: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=10.0.0.1\n"
	    "process.name=prog\n"
	    "message=x\n");
}

TEST(last_message_repeated)
{
	EXPECT("<13>Nov 23 00:00:05 host last message repeated 3 times",
	    SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "message=last message repeated 3 times\n"
	    "log.syslog.repeated#3\n");
	EXPECT("Nov 23 00:00:05 last message repeated 12 times", SYSLOG_3164,
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "message=last message repeated 12 times\n"
	    "log.syslog.repeated#12\n");
	EXPECT("<13>Nov 23 00:00:05 host --- last message repeated 2 times ---",
	    SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "message=--- last message repeated 2 times ---\n"
	    "log.syslog.repeated#2\n");
	EXPECT("<38>Nov 23 00:00:05 host sshd[12]: message repeated 2 times: "
	    "[ Failed password for root from 192.0.2.4 port 22 ssh2]",
	    SYSLOG_3164,
	    PRI(38, 4, 6)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=sshd\n"
	    "process.pid#12\n"
	    "message=message repeated 2 times: [ Failed password for root "
	    "from 192.0.2.4 port 22 ssh2]\n"
	    "log.syslog.repeated#2\n");
	/* not the phrase: nothing added */
	EXPECT("<13>Nov 23 00:00:05 host prog: last message repeated x times",
	    SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=host\n"
	    "process.name=prog\n"
	    "message=last message repeated x times\n");
}

TEST(fields_keep_existing_event_fields)
{
	/* the listener's fields added before parsing stay */
	vg_event_reset(ev);
	vg_event_add(ev, F_OBSERVER_INGRESS, "udp", 3);
	syslog_parse(ev, "<13>Nov 23 00:00:05 h p: x", 26, &opts);
	CHECK_STR(render(), "observer.ingress=udp\n" PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "host.hostname=h\n"
	    "process.name=p\n"
	    "message=x\n");
}

TEST(null_opts)
{
	vg_event_reset(ev);
	CHECK_INT(syslog_parse(ev, "<13>2026-11-23T00:00:05 h p: x", 30, NULL),
	    SYSLOG_3164);
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2026-11-23T00:00:05.000Z");
}

#define FRESH "log.syslog.structured_data.zz@9.another_fresh_name"

TEST(sd_names_are_not_interned)
{
	uint32_t before;

	parse("<14>1 - h a - - [zz@9 fresh_param_name_xyz=\"1\"] m");
	before = field_count();
	parse("<14>1 - h a - - [zz@9 another_fresh_name=\"1\"] m");
	CHECK_INT(field_count(), before);
	CHECK_INT(field_lookup(FRESH, strlen(FRESH)), FIELD_NONE);
	/* a name a rule interned resolves to its id */
	{
		uint32_t id = field_intern("log.syslog.structured_data.origin.ip",
		    36);

		parse("<14>1 - h a - - [origin ip=\"192.0.2.1\"] m");
		CHECK_STR(vg_event_str(ev, id), "192.0.2.1");
	}
}

TEST(hostile_shapes)
{
	/* truncated headers at every point must not read past the end */
	static const char full[] = "<189>45: router1: .Nov 23 00:00:05.123 UTC: "
	    "%LINK-3-UPDOWN: x";
	static const char full5[] = "<14>1 2026-11-23T00:00:05Z h a 1 m "
	    "[x@1 a=\"\\\"\"] m";
	char buf[128];

	for (size_t n = 0; n < sizeof(full); n++) {
		memcpy(buf, full, n);
		parse_n(buf, n);
		CHECK(vg_event_get(ev, F_MESSAGE) != NULL);
	}
	for (size_t n = 0; n < sizeof(full5); n++) {
		memcpy(buf, full5, n);
		parse_n(buf, n);
		CHECK(vg_event_get(ev, F_MESSAGE) != NULL);
	}
	EXPECT("<13>Nov 23 00:00:05 [", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "message=[\n");
	EXPECT("<13>Nov 23 00:00:05 :", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "message=:\n");
	EXPECT("<13>Nov 23 00:00:05 %A-1-: x", SYSLOG_3164,
	    PRI(13, 1, 5)
	    "@timestamp=2026-11-23T00:00:05.000Z\n"
	    "process.name=%A-1-\n"
	    "message=x\n");
	EXPECT("<14>1 - h a 99999999999999999999 - - m", SYSLOG_5424,
	    PRI(14, 1, 6)
	    "log.syslog.version#1\n"
	    "host.hostname=h\n"
	    "process.name=a\n"
	    "log.syslog.procid=99999999999999999999\n"
	    "message=m\n");
}

TEST(timestamp_text_matches_vgtime_format)
{
	static const char *const times[] = {
		"1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z",
		"0001-01-01T00:00:00Z", "2000-02-29T12:34:56.789Z",
		"2026-11-23T09:08:07.006Z", "9999-12-31T23:59:59.999Z",
		"2100-03-01T00:00:00.100Z",
	};
	char line[128], want[32];

	for (size_t i = 0; i < VG_ARRAY_LEN(times); i++) {
		snprintf(line, sizeof(line), "<13>%s h p: x", times[i]);
		parse(line);
		CHECK(ev->has_ts);
		CHECK_INT(ev->ts_ms, iso(times[i]));
		vgtime_format(iso(times[i]), want);
		CHECK_STR(vg_event_str(ev, F_TIMESTAMP), want);
	}
	/* the same day twice, then another: the cached date follows */
	parse("<13>2026-11-23T00:00:00Z h p: x");
	parse("<13>2026-11-23T23:59:59Z h p: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2026-11-23T23:59:59.000Z");
	parse("<13>2026-11-24T00:00:00Z h p: x");
	CHECK_STR(vg_event_str(ev, F_TIMESTAMP), "2026-11-24T00:00:00.000Z");
}

/* In a thread of its own, so that its per-thread caches start empty: a
 * time of -1 ms (which also marks "no time yet" in the cache of the last
 * text) is formatted, not taken from the empty cache, twice running. */
static void *first_time_is_minus_one(void *arg)
{
	struct vg_event *e = vg_event_new();
	static const char line[] = "<13>1969-12-31T23:59:59.999Z h p: x";
	int *ok = arg;

	*ok = 1;
	for (int i = 0; i < 2; i++) {
		vg_event_reset(e);
		syslog_parse(e, line, sizeof(line) - 1, &opts);
		if (!e->has_ts || e->ts_ms != -1 ||
		    strcmp(vg_event_str(e, F_TIMESTAMP), "1969-12-31T23:59:59.999Z") != 0)
			*ok = 0;
	}
	vg_event_reset(e);
	syslog_parse(e, "<13>1970-01-01T00:00:00.000Z h p: x", 35, &opts);
	if (strcmp(vg_event_str(e, F_TIMESTAMP), "1970-01-01T00:00:00.000Z") != 0)
		*ok = 0;
	vg_event_free(e);
	return NULL;
}

TEST(timestamp_cache_in_a_new_thread)
{
	pthread_t t;
	int ok = 0;

	CHECK_INT(pthread_create(&t, NULL, first_time_is_minus_one, &ok), 0);
	pthread_join(t, NULL);
	CHECK_INT(ok, 1);
}

/* Whether text p lies inside [base, base + n). */
static int inside(const char *p, const char *base, size_t n)
{
	return (uintptr_t)p >= (uintptr_t)base && (uintptr_t)p < (uintptr_t)base + n;
}

/*
 * syslog_parse_stable: the message, which ends where the text ends (its NUL), is
 * the caller's text; the other fields are copies, and every field reads
 * the same as without the option. Trailing CR LF trimmed: the message does
 * not end at the NUL, so it is copied.
 */
static enum syslog_format parse_stable(const char *line)
{
	enum syslog_format f;

	vg_event_reset(ev);
	f = syslog_parse_stable(ev, line, strlen(line), &opts);
	same_as_general(line, strlen(line), 1, f);
	return f;
}

TEST(parse_stable_refers_to_the_message)
{
	static const char line[] = "<86>Nov 23 00:00:00 web01 sshd[41480]: Failed password for bob";
	static const char crlf[] = "<86>Nov 23 00:00:00 web01 sshd[7]: two words\r\n";
	static const char bom[] = "<165>1 2026-11-23T00:00:00Z h app - - - \xEF\xBB\xBFtext";
	char want[4096];
	const struct value *m;

	CHECK_INT(parse(line), SYSLOG_3164);
	snprintf(want, sizeof(want), "%s", render());
	m = vg_event_get(ev, F_MESSAGE);
	CHECK(m != NULL && !inside(m->s, line, sizeof(line)));

	CHECK_INT(parse_stable(line), SYSLOG_3164);
	CHECK_STR(render(), want);
	m = vg_event_get(ev, F_MESSAGE);
	CHECK(m != NULL && m->s == line + sizeof(line) - 1 - 23 && m->len == 23);
	CHECK(!inside(vg_event_str(ev, F_HOST_HOSTNAME), line, sizeof(line)));
	CHECK(!inside(vg_event_str(ev, F_PROCESS_NAME), line, sizeof(line)));

	CHECK_INT(parse_stable(crlf), SYSLOG_3164);
	m = vg_event_get(ev, F_MESSAGE);
	CHECK(m != NULL && !inside(m->s, crlf, sizeof(crlf)));
	CHECK_STR(m->s, "two words");

	CHECK_INT(parse_stable(bom), SYSLOG_5424);
	m = vg_event_get(ev, F_MESSAGE);
	CHECK(m != NULL && m->s == bom + sizeof(bom) - 1 - 4);
	CHECK_STR(m->s, "text");
}

int main(void)
{
	ev = vg_event_new();
	ev_general = vg_event_new();
	opts.ref_ms = REF_MS;
	opts.tz_offset_min = 0;
	RUN(rsyslog_traditional_forward);
	RUN(rsyslog_forward_format_rfc3339);
	RUN(syslog_ng_default);
	RUN(logger_rfc3164);
	RUN(logger_rfc5424);
	RUN(rfc5424_examples);
	RUN(rfc5424_multiple_sd_elements_no_msg);
	RUN(rfc5424_sd_escapes_and_repeats);
	RUN(rfc5424_nilvalues);
	RUN(rfc5424_procid_not_numeric_and_bom);
	RUN(rfc5424_malformed_falls_back);
	RUN(no_pri);
	RUN(no_hostname);
	RUN(rfc3339_inside_3164);
	RUN(single_digit_day_and_fractions);
	RUN(zoneless_offset);
	RUN(year_rollover_backwards);
	RUN(year_rollover_forwards);
	RUN(year_nearest_and_feb29);
	RUN(ref_zero_uses_now);
	RUN(bad_pri);
	RUN(pri_only_and_text);
	RUN(garbage_and_empty);
	RUN(trailing_newline_cr_nul);
	RUN(nul_bytes_inside_message);
	RUN(invalid_utf8_kept);
	RUN(very_long_line);
	RUN(cisco_ios_sequence_and_code);
	RUN(cisco_zone_names);
	RUN(cisco_without_sequence);
	RUN(cisco_asa);
	RUN(juniper);
	RUN(fortigate_key_value);
	RUN(kernel_messages);
	RUN(systemd_and_friends);
	RUN(sudo_keeps_leading_spaces);
	RUN(rsyslog_5424_double_space);
	RUN(tag_shapes);
	RUN(hostnames_ip);
	RUN(last_message_repeated);
	RUN(fields_keep_existing_event_fields);
	RUN(null_opts);
	RUN(sd_names_are_not_interned);
	RUN(hostile_shapes);
	RUN(timestamp_text_matches_vgtime_format);
	RUN(timestamp_cache_in_a_new_thread);
	RUN(parse_stable_refers_to_the_message);
	vg_event_free(ev);
	vg_event_free(ev_general);
	return unit_done();
}
