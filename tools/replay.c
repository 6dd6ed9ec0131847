/*
 * replay.c: `vigil replay` runs log files (syslog or JSON lines; `-` is
 * stdin) through the pipeline on event time and prints alerts as JSON lines
 * on stdout, a summary on stderr, and a progress bar when stderr is a
 * terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "pipeline.h"
#include "tool.h"

#define REPLAY_MAX_LINE (1u << 20)

struct replay {
	struct buf out;
	uint64_t alerts;
	int progress;
	uint64_t total_bytes, done_bytes;
	int64_t started, last_draw;
};

static void alert_cb(void *arg, const struct alert *a)
{
	struct replay *r = arg;

	alert_to_json(&r->out, a);
	r->alerts++;
	if (r->out.len > (1u << 16)) {
		fwrite(r->out.p, 1, r->out.len, stdout);
		buf_clear(&r->out);
	}
}

static void draw_progress(struct replay *r, const struct pipeline_stats *st,
    int final)
{
	int64_t now = vg_mono_ms();
	double secs = (double)(now - r->started) / 1000.0;
	double rate = secs > 0 ? (double)st->messages / secs : 0;

	if (!final && now - r->last_draw < 200)
		return;
	r->last_draw = now;
	if (r->total_bytes > 0) {
		int pct = (int)(100.0 * (double)r->done_bytes / (double)r->total_bytes);
		int bars = pct / 4;

		if (pct > 100)
			pct = 100, bars = 25;
		fprintf(stderr, "\r[%.*s%*s] %3d%% %llu events, %llu alerts, %.0f events/s ",
		    bars, "#########################", 25 - bars, "", pct,
		    (unsigned long long)st->messages, (unsigned long long)r->alerts, rate);
	} else {
		fprintf(stderr, "\r%llu events, %llu alerts, %.0f events/s ",
		    (unsigned long long)st->messages, (unsigned long long)r->alerts, rate);
	}
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

static int replay_fd(struct replay *r, struct pipeline *p, int fd,
    const char *name)
{
	struct lines l;
	const char *line;
	size_t len;
	int rc;
	uint64_t n = 0, prev_read = 0;

	lines_init(&l, fd, REPLAY_MAX_LINE);
	while ((rc = lines_next(&l, &line, &len)) > 0) {
		if (len == 0)
			continue;
		pipeline_process(p, line, len, NULL, NULL, vg_now_ms());
		if (r->progress && (++n & 0x3fff) == 0) {
			r->done_bytes += l.bytes_read - prev_read;
			prev_read = l.bytes_read;
			draw_progress(r, pipeline_stats(p), 0);
		}
	}
	r->done_bytes += l.bytes_read - prev_read;
	if (l.truncated > 0)
		fprintf(stderr, "vigil replay: %s: %llu lines longer than %u bytes truncated\n",
		    name, (unsigned long long)l.truncated, REPLAY_MAX_LINE);
	if (rc < 0)
		fprintf(stderr, "vigil replay: %s: read error: %s\n", name, strerror(errno));
	lines_destroy(&l);
	return rc < 0 ? -1 : 0;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "rules", required_argument, NULL, 'r' },
		{ "parsers", required_argument, NULL, 'p' },
		{ "redis", required_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	char **rules = vg_calloc((size_t)argc, sizeof(char *));
	char **parsers = vg_calloc((size_t)argc, sizeof(char *));
	size_t nrules = 0, nparsers = 0;
	struct tool_env env;
	struct pipeline_conf pc;
	struct pipeline *p = NULL;
	struct replay r;
	int c, status = 0, quiet = 0;
	const struct pipeline_stats *st;
	double secs;

	memset(&r, 0, sizeof(r));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:q", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'r': rules[nrules++] = optarg; break;
		case 'p': parsers[nparsers++] = optarg; break;
		case 'R':
			/* correlation state lives in Redis; detection needs none */
			break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr, "usage: vigil replay [-c FILE] [--rules PATH]... "
			    "[--parsers PATH]... [--redis URL] FILE...\n");
			status = 2;
			goto done;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vigil replay: no input files (use - for stdin)\n");
		status = 2;
		goto done;
	}
	if (tool_load(&env, config, parsers, nparsers, rules, nrules, 0) < 0) {
		status = 1;
		goto done;
	}
	pipeline_conf_defaults(&pc);
	pc.decoders = env.dec;
	pc.rules = env.rules;
	pc.replay = 1;
	pc.tz_offset_min = env.cfg->tz_offset_min;
	pc.max_message = REPLAY_MAX_LINE;
	p = pipeline_new(&pc, alert_cb, &r);

	r.progress = !quiet && isatty(STDERR_FILENO);
	for (int i = optind; i < argc; i++) {
		struct stat sb;

		if (strcmp(argv[i], "-") != 0 && stat(argv[i], &sb) == 0 &&
		    S_ISREG(sb.st_mode))
			r.total_bytes += (uint64_t)sb.st_size;
	}
	r.started = r.last_draw = vg_mono_ms();
	for (int i = optind; i < argc; i++) {
		int fd = STDIN_FILENO;

		if (strcmp(argv[i], "-") != 0 &&
		    (fd = open(argv[i], O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "vigil replay: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		if (replay_fd(&r, p, fd, argv[i]) < 0)
			status = 1;
		if (fd != STDIN_FILENO)
			close(fd);
	}
	fwrite(r.out.p ? r.out.p : "", 1, r.out.len, stdout);
	fflush(stdout);
	st = pipeline_stats(p);
	if (r.progress)
		draw_progress(&r, st, 1);
	secs = (double)(vg_mono_ms() - r.started) / 1000.0;
	if (!quiet)
		fprintf(stderr, "replay: %llu events, %llu decoded, %llu alerts in %.3f s "
		    "(%.0f events/s); %llu rules, %zu decoders\n",
		    (unsigned long long)st->messages, (unsigned long long)st->decoded,
		    (unsigned long long)r.alerts, secs,
		    secs > 0 ? (double)st->messages / secs : 0.0,
		    (unsigned long long)detect_rule_count(env.rules), decode_count(env.dec));
	pipeline_free(p);
	tool_env_free(&env);
done:
	buf_free(&r.out);
	free(rules);
	free(parsers);
	return status;
}
