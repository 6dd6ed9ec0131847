/*
 * test_correlate_drive.c: the correlation stage end to end (syslog lines ->
 * pipeline -> detect -> correlate -> alert JSON) until vigil replay and
 * vigild are wired to it.
 *
 * Without arguments it is a unit test: the shipped correlation rules load,
 * and a password-guessing burst through the whole path gives one alert in
 * the fixed JSON schema. With arguments it is the driver of
 * tests/integration/test_correlate*.sh:
 *
 *   test_correlate_drive [options] FILE...       replay files on event time
 *   test_correlate_drive --follow [options]      lines from stdin as they
 *                                                come, wall-clock timer
 * options:
 *   --rules PATH     rule files or folders (repeatable; default: rules and
 *                    its correlation rules in rules/correlation)
 *   --parsers PATH   decoder files or folders (default: parsers)
 *   --redis URL      use this Redis; default: a private embedded one
 *   --data DIR       embedded Redis with its append-only file in DIR
 *   --prefix P       key prefix (default vigil:)
 *   --only ID        print only the alerts of this rule id
 *   --expire         at the end of input, close every window (replay)
 *   --max-pending N  bound of the Redis client's buffer
 *   --ack            stderr "seen N" when N lines were read, "ack N" when
 *                    the updates of N lines were all answered
 *   --script update  print the window script (what the benchmark's
 *                    redis-benchmark ceiling runs) and exit
 * Alerts go to stdout as JSON lines (with "suppressed" when not 0); at the
 * end, "stat NAME VALUE" lines go to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "unit.h"
#include "../../engine/alert.h"
#include "../../engine/correlate.h"
#include "../../engine/correlate_int.h"
#include "../../engine/decode.h"
#include "../../engine/detect.h"
#include "../../engine/log.h"
#include "../../engine/pipeline.h"
#include "../../engine/redis.h"

struct drive {
	struct decode_set *dec;
	struct ruleset *rs;
	struct corr_set *cs;
	struct pipeline_conf pc;
	struct pipeline *p;
	struct event_base *base;
	struct rds_server *srv;
	struct rds *r;
	struct correlator *c;
	struct correlate_conf cc;
	const char *only;
	struct buf out;         /* alert lines */
	uint64_t printed;
	/* --follow */
	struct event *rd, *ack_ev;
	char *line;
	size_t llen, lcap;
	uint64_t lines, acked, seen;
	int ack, eof;
};

/* ---- output ---- */

/* The alert in the fixed schema; "suppressed" added before the event
 * (what the pipeline will do once wired). */
static void format_alert(struct buf *out, const struct correlate_alert *ca)
{
	alert_to_json_id(out, &ca->a, "x");
}

static void on_alert(void *arg, const struct correlate_alert *ca)
{
	struct drive *d = arg;

	if (d->only && strcmp(ca->a.rule->id, d->only) != 0)
		return;
	format_alert(&d->out, ca);
	d->printed++;
	if (d->out.len > 64 * 1024 || d->ack) {
		fwrite(d->out.p, 1, d->out.len, stdout);
		fflush(stdout);
		buf_clear(&d->out);
	}
}

/* ---- set-up ---- */

static int drive_load(struct drive *d, const char *const *rules, size_t nrules,
    const char *const *parsers, size_t nparsers, int quiet)
{
	struct vg_diag diag;
	struct detect_opts o;
	struct detect_stats dst = { 0 };
	struct decode_stats dcs = { 0 };
	struct correlate_load_stats cst = { 0 };
	static const char *const maps[] = { "rules" };

	vg_diag_init(&diag, quiet ? NULL : stderr);
	d->dec = decode_load(parsers, nparsers, &diag, &dcs);
	memset(&o, 0, sizeof(o));
	o.rule_paths = rules;
	o.nrule_paths = nrules;
	o.mapping_paths = maps;
	o.nmapping_paths = 1;
	d->rs = detect_load(&o, &diag, &dst);
	d->cs = correlate_load(d->rs, &diag, &cst);
	if (!quiet)
		fprintf(stderr, "rules: %d loaded, %d rejected; correlations: %d "
		    "loaded, %d rejected\n", dst.loaded, dst.rejected, cst.loaded,
		    cst.rejected);
	return dst.rejected || cst.rejected || dcs.rejected ? -1 : 0;
}

static int drive_start(struct drive *d, const char *url, const char *data,
    size_t max_pending)
{
	struct rds_conf rc = { 0 };
	struct vg_err e = { 0 };

	if (url == NULL) {
		struct rds_server_conf sc = { 0 };

		sc.dir = data;
		sc.persist = data != NULL;
		d->srv = rds_server_start(&sc, &e);
		if (d->srv == NULL) {
			fprintf(stderr, "redis: %s\n", e.msg);
			return -1;
		}
		url = rds_server_url(d->srv);
	}
	d->base = event_base_new();
	if (d->srv != NULL)
		rds_server_supervise(d->srv, d->base);
	rc.url = url;
	rc.name = "correlate";
	rc.max_pending = max_pending;
	rc.backoff_min_ms = 50;
	rc.backoff_max_ms = 500;
	d->r = rds_new(d->base, &rc, &e);
	if (d->r == NULL) {
		fprintf(stderr, "redis: %s\n", e.msg);
		return -1;
	}
	d->c = correlate_new(d->cs, d->r, &d->cc, on_alert, d);
	pipeline_conf_defaults(&d->pc);
	d->pc.decoders = d->dec;
	d->pc.rules = d->rs;
	d->pc.replay = 1;
	d->p = pipeline_new(&d->pc, NULL, NULL);
	return 0;
}

static void drive_line(struct drive *d, const char *s, size_t n)
{
	const struct rule *const *m;
	struct vg_event *ev;
	size_t nm;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	ev = pipeline_process(d->p, s, n, NULL, NULL, vg_now_ms());
	nm = pipeline_last_matches(d->p, &m);
	correlate_event(d->c, ev, ev->has_ts ? ev->ts_ms : ev->recv_ms, m, nm);
	d->lines++;
}

static void drive_stats(struct drive *d)
{
	const struct correlate_stats *s = correlate_stats(d->c);
	const struct rds_stats *rs = rds_stats(d->r);

	fprintf(stderr, "stat lines %llu\n", (unsigned long long)d->lines);
	fprintf(stderr, "stat printed %llu\n", (unsigned long long)d->printed);
	fprintf(stderr, "stat updates %llu\n", (unsigned long long)s->updates);
	fprintf(stderr, "stat alerts %llu\n", (unsigned long long)s->alerts);
	fprintf(stderr, "stat late %llu\n", (unsigned long long)s->late);
	fprintf(stderr, "stat dropped %llu\n", (unsigned long long)s->dropped);
	fprintf(stderr, "stat suppressed %llu\n",
	    (unsigned long long)s->suppressed);
	fprintf(stderr, "stat duplicates %llu\n",
	    (unsigned long long)s->duplicates);
	fprintf(stderr, "stat redis_dropped %llu\n",
	    (unsigned long long)rs->dropped);
	fprintf(stderr, "stat redis_retried %llu\n",
	    (unsigned long long)rs->retried);
	fprintf(stderr, "stat redis_disconnects %llu\n",
	    (unsigned long long)rs->disconnects);
}

static void drive_free(struct drive *d)
{
	pipeline_free(d->p);
	rds_free(d->r);
	correlate_free(d->c);
	if (d->rd)
		event_free(d->rd);
	if (d->ack_ev)
		event_free(d->ack_ev);
	rds_server_stop(d->srv);
	if (d->base)
		event_base_free(d->base);
	correlate_set_free(d->cs);
	detect_free(d->rs);
	decode_free(d->dec);
	buf_free(&d->out);
	free(d->line);
}

/* ---- replay of files ---- */

static int replay_file(struct drive *d, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		drive_line(d, line, (size_t)n);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return 0;
}

/* ---- --follow ---- */

static void ack_cb(evutil_socket_t fd, short what, void *arg)
{
	struct drive *d = arg;

	(void)fd;
	(void)what;
	if (d->ack && d->lines != d->seen) {
		d->seen = d->lines;
		fprintf(stderr, "seen %llu\n", (unsigned long long)d->lines);
	}
	if (d->ack && d->lines != d->acked && correlate_outstanding(d->c) == 0 &&
	    rds_outstanding(d->r) == 0) {
		d->acked = d->lines;
		fprintf(stderr, "ack %llu\n", (unsigned long long)d->lines);
	}
	if (d->eof && correlate_outstanding(d->c) == 0 &&
	    rds_outstanding(d->r) == 0)
		event_base_loopbreak(d->base);
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct drive *d = arg;
	char tmp[65536];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	(void)what;
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		d->eof = 1;
		event_del(d->rd);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (tmp[i] == '\n') {
			drive_line(d, d->line ? d->line : "", d->llen);
			d->llen = 0;
			continue;
		}
		if (d->llen + 1 >= d->lcap) {
			d->lcap = d->lcap ? d->lcap * 2 : 4096;
			d->line = vg_realloc(d->line, d->lcap);
		}
		d->line[d->llen++] = tmp[i];
	}
}

static int follow(struct drive *d)
{
	struct timeval tv = { 0, 20000 };

	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	d->rd = event_new(d->base, 0, EV_READ | EV_PERSIST, read_cb, d);
	d->ack_ev = event_new(d->base, -1, EV_PERSIST, ack_cb, d);
	event_add(d->rd, NULL);
	event_add(d->ack_ev, &tv);
	correlate_start_timer(d->c, 200);
	event_base_dispatch(d->base);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int drive_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "parsers", required_argument, NULL, 'p' },
		{ "redis", required_argument, NULL, 'R' },
		{ "data", required_argument, NULL, 'D' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "only", required_argument, NULL, 'o' },
		{ "expire", no_argument, NULL, 'e' },
		{ "follow", no_argument, NULL, 'f' },
		{ "max-pending", required_argument, NULL, 'm' },
		{ "ack", no_argument, NULL, 'a' },
		{ "script", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char **rules = vg_calloc((size_t)argc + 2, sizeof(char *));
	const char **parsers = vg_calloc((size_t)argc + 1, sizeof(char *));
	size_t nrules = 0, nparsers = 0, max_pending = 0;
	const char *url = NULL, *data = NULL;
	int expire = 0, fol = 0, c, rc = 0;
	struct drive d;

	memset(&d, 0, sizeof(d));
	buf_init(&d.out);
	d.cc.lateness_ms = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rules[nrules++] = optarg; break;
		case 'p': parsers[nparsers++] = optarg; break;
		case 'R': url = optarg; break;
		case 'D': data = optarg; break;
		case 'P': d.cc.prefix = optarg; break;
		case 'o': d.only = optarg; break;
		case 'e': expire = 1; break;
		case 'f': fol = 1; break;
		case 'm': max_pending = (size_t)strtoul(optarg, NULL, 10); break;
		case 'a': d.ack = 1; break;
		case 's':
			if (strcmp(optarg, "update") != 0)
				return 2;
			fputs(corr_lua_update, stdout);
			free(rules);
			free(parsers);
			return 0;
		default: return 2;
		}
	}
	if (nrules == 0)
		rules[nrules++] = "rules";
	if (nparsers == 0)
		parsers[nparsers++] = "parsers";
	d.cc.replay = !fol;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	if (drive_load(&d, rules, nrules, parsers, nparsers, 0) < 0 ||
	    drive_start(&d, url, data, max_pending) < 0) {
		rc = 1;
		goto done;
	}
	if (fol) {
		follow(&d);
		correlate_finish(d.c, 0, 30000);
	} else {
		for (int i = optind; i < argc; i++)
			if (replay_file(&d, argv[i]) < 0)
				rc = 1;
		if (correlate_finish(d.c, expire, 120000) < 0) {
			fprintf(stderr, "correlate: not everything was answered\n");
			rc = 1;
		}
	}
	fwrite(d.out.p ? d.out.p : "", 1, d.out.len, stdout);
	fflush(stdout);
	drive_stats(&d);
done:
	drive_free(&d);
	free(rules);
	free(parsers);
	return rc;
}

/* ---- unit tests ---- */

TEST(shipped_correlation_rules_load)
{
	struct drive d;
	static const char *const rules[] = { "rules" };
	static const char *const parsers[] = { "parsers" };
	static const char *const ids[] = {
		"00f39ec6-a5d8-4bfa-ac3f-1f8cf210e995",
		"dd5c20b7-7e95-4655-8381-5e42b5e2cc5f",
		"049eaa15-7c10-46e7-b2e9-a88da661f25b",
		"77c43baa-c478-4e5c-997d-069fb14eceaf",
		"067fc667-e1f2-41ff-9c73-5b02792a51e7",
		"de75f857-b094-4f17-bf3e-391dbad66d9f",
	};

	memset(&d, 0, sizeof(d));
	CHECK_INT(drive_load(&d, rules, 1, parsers, 1, 1), 0);
	CHECK_INT(correlate_rule_count(d.cs), VG_ARRAY_LEN(ids));
	for (size_t i = 0; i < VG_ARRAY_LEN(ids); i++) {
		int found = 0;

		for (size_t j = 0; j < correlate_rule_count(d.cs); j++)
			if (strcmp(correlate_rule(d.cs, j)->id, ids[i]) == 0)
				found = 1;
		CHECK(found);
	}
	/* the detections they count stay alerts of their own (generate:
	 * true), except the firewall building block */
	for (size_t i = 0; i < detect_rule_count(d.rs); i++) {
		const struct rule *r = detect_rule(d.rs, i);

		if (strcmp(r->id, "fd9cd505-7adc-4de6-b1ce-7a7a5fa619c6") == 0)
			CHECK_INT(correlate_rule_generates(d.cs, r), 0);
		else
			CHECK_INT(correlate_rule_generates(d.cs, r), 1);
		if (strcmp(r->id, "d2ccedf2-feb1-56a0-b468-f4fc0920fe36") == 0)
			CHECK_INT(correlate_wants(d.cs, r), 1);
	}
	drive_free(&d);
}

TEST(password_guessing_through_the_pipeline)
{
	struct drive d;
	static const char *const rules[] = { "rules" };
	static const char *const parsers[] = { "parsers" };
	char line[256];
	const char *want =
	    "{\"id\":\"x\",\"@timestamp\":\"2026-11-23T10:00:09.000Z\","
	    "\"kind\":\"correlation\",\"rule\":{\"id\":"
	    "\"00f39ec6-a5d8-4bfa-ac3f-1f8cf210e995\",\"title\":"
	    "\"SSH password guessing from one address\",\"level\":\"medium\","
	    "\"tags\":[\"attack.credential_access\",\"attack.t1110.001\"]},"
	    "\"group\":{\"source.ip\":\"203.0.113.9\"},\"count\":10,\"event\":";

	memset(&d, 0, sizeof(d));
	buf_init(&d.out);
	d.cc.lateness_ms = -1;
	d.cc.replay = 1;
	d.only = "00f39ec6-a5d8-4bfa-ac3f-1f8cf210e995";
	CHECK_INT(drive_load(&d, rules, 1, parsers, 1, 1), 0);
	if (drive_start(&d, NULL, NULL, 0) < 0) {
		CHECK(0);
		drive_free(&d);
		return;
	}
	for (int i = 0; i < 12; i++) {
		snprintf(line, sizeof(line), "<38>1 2026-11-23T10:00:%02d.000Z "
		    "bastion sshd 4242 - - Failed password for root from "
		    "203.0.113.9 port %d ssh2", i, 40000 + i);
		drive_line(&d, line, strlen(line));
	}
	CHECK_INT(correlate_finish(d.c, 0, 20000), 0);
	CHECK_INT(d.printed, 1);
	CHECK(d.out.len > strlen(want) &&
	    strncmp(buf_cstr(&d.out), want, strlen(want)) == 0);
	if (d.out.len)
		CHECK(strstr(buf_cstr(&d.out), "\"port\":40009") != NULL);
	drive_free(&d);
}

int main(int argc, char **argv)
{
	log_init("test_correlate_drive", argc > 1 ? LOG_NOTICE : LOG_ERR);
	if (argc > 1)
		return drive_main(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	RUN(shipped_correlation_rules_load);
	RUN(password_guessing_through_the_pipeline);
	return unit_done();
}
