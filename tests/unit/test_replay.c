/*
 * test_replay.c: what a multi-threaded replay relies on in the pipeline.
 * Replay runs chunks of one input in several pipelines and hands the event
 * time from one to the next (pipeline_last_ts / pipeline_set_last_ts); when
 * a worker started from a wrong time, the merge runs lines again until one
 * ends on the time the worker had. That is exact only if a line's event
 * (and so its alerts) depends on the state before it through the event
 * time it gets, and nothing else: checked here with the shipped decoders
 * and rules on lines that use the state (year-less times, no time at all).
 */
#include "unit.h"
#include "../../engine/alert.h"
#include "../../engine/pipeline.h"

static const char *const lines[] = {
	"<86>1 2025-12-31T23:59:50.000Z h sshd 1 - - Failed password for root from 203.0.113.9 port 1 ssh2",
	"<86>Dec 31 23:59:59 h sshd[1]: Failed password for root from 203.0.113.9 port 2 ssh2",
	"{\"process\":{\"name\":\"sshd\"},\"message\":\"Failed password for carol from 10.1.1.1 port 3 ssh2\"}",
	"<86>Jan  1 00:00:01 h sshd[1]: Failed password for root from 203.0.113.9 port 4 ssh2",
	"plain text without anything",
	"{\"process\":{\"name\":\"sshd\"},\"message\":\"Failed password for carol from 10.1.1.1 port 5 ssh2\"}",
	"<86>Dec 31 23:59:58 h sshd[1]: Failed password for root from 203.0.113.9 port 6 ssh2",
	"<86>Feb 29 12:00:00 h sshd[1]: Failed password for root from 203.0.113.9 port 7 ssh2",
	"<86>Jul  3 00:00:00 h su[2]: FAILED SU (to root) bob on pts/1",
	"{\"@timestamp\":\"2027-03-01T00:00:00.000Z\",\"process\":{\"name\":\"sshd\"},\"message\":\"Accepted password for root from 203.0.113.77 port 8 ssh2\"}",
	"<85>Mar  1 00:00:01 bastion sudo[200]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash",
	"{\"message\":\"no time here\"}",
	"<134>Nov 23 00:00:26 web01 nginx[600]: 203.0.113.20 - - [23/Nov/2026:00:00:26 +0000] \"GET /../../etc/passwd HTTP/1.1\" 400 157 \"-\" \"curl/8.5.0\"",
};
#define NLINES VG_ARRAY_LEN(lines)

static struct decode_set *dec;
static struct ruleset *rs;
static struct pipeline_conf pc;

/* One line from state ts0: its event time, and its event and alerts as
 * text (the alert ids fixed). */
static int64_t run_line(struct pipeline *p, size_t i, int64_t ts0, struct buf *out)
{
	const struct rule *const *m;
	struct vg_event *ev;
	size_t n;

	pipeline_set_last_ts(p, ts0);
	ev = pipeline_process(p, lines[i], strlen(lines[i]), NULL, NULL, 1000);
	n = pipeline_last_matches(p, &m);
	buf_clear(out);
	alert_event_json(out, ev);
	for (size_t k = 0; k < n; k++) {
		struct alert a = { .kind = ALERT_DETECTION, .rule = m[k],
			.ts_ms = ev->ts_ms, .count = 1, .ev = ev };

		alert_to_json_id(out, &a, "00000000-0000-7000-8000-000000000000");
	}
	buf_cstr(out);
	return pipeline_last_ts(p);
}

TEST(loads_shipped_decoders_and_rules)
{
	static const char *const parsers[] = { "parsers" };
	static const char *const rules[] = { "rules" };
	struct detect_opts o = { rules, 1, rules, 1 };
	struct decode_stats dst;
	struct detect_stats rst;
	struct vg_diag d;

	vg_diag_init(&d, NULL);
	dec = decode_load(parsers, 1, &d, &dst);
	rs = detect_load(&o, &d, &rst);
	CHECK(dec != NULL && decode_count(dec) > 0);
	CHECK(rs != NULL && detect_rule_count(rs) > 0);
	pipeline_conf_defaults(&pc);
	pc.decoders = dec;
	pc.rules = rs;
	pc.replay = 1;
}

TEST(last_ts_starts_at_zero_and_follows_events)
{
	struct pipeline *p = pipeline_new(&pc, NULL, NULL);
	struct buf b;

	buf_init(&b);
	CHECK_INT(pipeline_last_ts(p), 0);
	pipeline_set_last_ts(p, 42);
	CHECK_INT(pipeline_last_ts(p), 42);
	/* no time in the line: the previous event's */
	CHECK_INT(run_line(p, 4, 1767225601000LL, &b), 1767225601000LL);
	/* no previous event: the time of receipt */
	CHECK_INT(run_line(p, 4, 0, &b), 1000);
	/* a year-less time near the reference, across the new year */
	CHECK_INT(run_line(p, 1, 1767225601000LL, &b), 1767225599000LL);
	CHECK_INT(run_line(p, 3, 1767225599000LL, &b), 1767225601000LL);
	buf_free(&b);
	pipeline_free(p);
}

/* Splitting the input anywhere and handing the time over gives what one
 * pipeline gives. */
TEST(handoff_at_every_line_equals_one_pipeline)
{
	struct pipeline *one = pipeline_new(&pc, NULL, NULL);
	struct pipeline *a = pipeline_new(&pc, NULL, NULL);
	struct pipeline *b = pipeline_new(&pc, NULL, NULL);
	char *want[NLINES];
	int64_t ts[NLINES], state = 0;
	struct buf out;

	buf_init(&out);
	for (size_t i = 0; i < NLINES; i++) {
		state = ts[i] = run_line(one, i, state, &out);
		want[i] = vg_strdup(out.p);
	}
	for (size_t k = 0; k <= NLINES; k++) {
		int64_t s = 0;

		for (size_t i = 0; i < NLINES; i++) {
			struct pipeline *p = i < k ? a : b;

			s = run_line(p, i, s, &out);
			if (s != ts[i] || strcmp(out.p, want[i]) != 0)
				UNIT_FAIL("split %zu line %zu: %s", k, i, out.p);
		}
	}
	for (size_t i = 0; i < NLINES; i++)
		free(want[i]);
	buf_free(&out);
	pipeline_free(one);
	pipeline_free(a);
	pipeline_free(b);
}

/* From any state, two runs of a line that end on the same event time made
 * the same event and alerts. */
TEST(a_line_depends_on_the_state_only_through_its_time)
{
	static const int64_t states[] = { 1000, 1767225590000LL, 1767225601000LL,
		1767225599000LL, 1767225601000LL + 86400000LL * 40,
		1767225601000LL + 86400000LL * 170, 1767225601000LL + 86400000LL * 200,
		1767225601000LL - 86400000LL * 200, 1709208000000LL, 1803513600000LL,
		4102444800000LL, 1 };
	struct pipeline *p = pipeline_new(&pc, NULL, NULL);
	struct buf out;
	int same = 0;

	buf_init(&out);
	for (size_t i = 0; i < NLINES; i++) {
		int64_t got[VG_ARRAY_LEN(states)];
		char *txt[VG_ARRAY_LEN(states)];

		for (size_t s = 0; s < VG_ARRAY_LEN(states); s++) {
			got[s] = run_line(p, i, states[s], &out);
			txt[s] = vg_strdup(out.p);
			for (size_t t = 0; t < s; t++) {
				if (got[t] != got[s])
					continue;
				same++;
				if (strcmp(txt[t], txt[s]) != 0)
					UNIT_FAIL("line %zu: states %zu and %zu: %s / %s",
					    i, t, s, txt[t], txt[s]);
			}
		}
		for (size_t s = 0; s < VG_ARRAY_LEN(states); s++)
			free(txt[s]);
	}
	/* the check compared something: year-less lines agree on most states */
	CHECK(same > 100);
	buf_free(&out);
	pipeline_free(p);
}

/* Whether text p lies inside [base, base + n). */
static int inside(const char *p, const char *base, size_t n)
{
	return (uintptr_t)p >= (uintptr_t)base && (uintptr_t)p < (uintptr_t)base + n;
}

/*
 * pipeline_process_stable (replay's lines, NUL where each ends) gives the
 * event and alerts of pipeline_process, line by line; the message of a
 * syslog line is then the line's own text, not a copy; a line cut to
 * max_message is copied, since its text does not end at the NUL.
 */
TEST(stable_lines_give_the_same_events_and_alerts)
{
	struct pipeline *p = pipeline_new(&pc, NULL, NULL);
	struct pipeline_conf small = pc;
	struct pipeline *ps;
	struct buf want, got;
	const struct value *m;
	struct vg_event *ev;
	char *copy;

	buf_init(&want);
	buf_init(&got);
	for (size_t i = 0; i < NLINES; i++) {
		const struct rule *const *r;
		size_t n, len = strlen(lines[i]);

		run_line(p, i, 1767225601000LL, &want);
		copy = vg_strdup(lines[i]);
		pipeline_set_last_ts(p, 1767225601000LL);
		ev = pipeline_process_stable(p, copy, len, NULL, NULL, 1000);
		n = pipeline_last_matches(p, &r);
		buf_clear(&got);
		alert_event_json(&got, ev);
		for (size_t k = 0; k < n; k++) {
			struct alert a = { .kind = ALERT_DETECTION, .rule = r[k],
				.ts_ms = ev->ts_ms, .count = 1, .ev = ev };

			alert_to_json_id(&got, &a, "00000000-0000-7000-8000-000000000000");
		}
		buf_cstr(&got);
		if (strcmp(got.p, want.p) != 0)
			UNIT_FAIL("line %zu: %s\nwant %s", i, got.p, want.p);
		m = vg_event_get(ev, F_MESSAGE);
		if (lines[i][0] == '<' && (m == NULL || !inside(m->s, copy, len + 1) ||
		    m->s[m->len] != '\0'))
			UNIT_FAIL("line %zu: the message is not the line's text", i);
		free(copy);
	}
	/* without _stable, a copy */
	copy = vg_strdup(lines[1]);
	ev = pipeline_process(p, copy, strlen(copy), NULL, NULL, 1000);
	m = vg_event_get(ev, F_MESSAGE);
	CHECK(m != NULL && !inside(m->s, copy, strlen(copy) + 1));
	CHECK_STR(m->s, "Failed password for root from 203.0.113.9 port 2 ssh2");
	/* cut to max_message: a copy, NUL-terminated where it was cut */
	small.max_message = 40;
	ps = pipeline_new(&small, NULL, NULL);
	ev = pipeline_process_stable(ps, copy, strlen(copy), NULL, NULL, 1000);
	m = vg_event_get(ev, F_MESSAGE);
	CHECK(m != NULL && !inside(m->s, copy, strlen(copy) + 1));
	CHECK_STR(m->s, "Failed pa");
	CHECK_INT(pipeline_stats(ps)->truncated, 1);
	free(copy);
	pipeline_free(ps);
	buf_free(&want);
	buf_free(&got);
	pipeline_free(p);
}

int main(void)
{
	RUN(loads_shipped_decoders_and_rules);
	RUN(last_ts_starts_at_zero_and_follows_events);
	RUN(handoff_at_every_line_equals_one_pipeline);
	RUN(a_line_depends_on_the_state_only_through_its_time);
	RUN(stable_lines_give_the_same_events_and_alerts);
	detect_free(rs);
	decode_free(dec);
	return unit_done();
}
