/*
 * logtest.c: `vigil logtest [-v]` for rule and decoder authors: one JSON
 * object per line read on stdin with the decoded event, the decoder that
 * matched and the rules that fired; `-v` adds, per rule of the event's
 * logsource, why it did or did not match.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "pipeline.h"
#include "tool.h"

int cmd_logtest(int argc, char **argv)
{
	const char *config = NULL;
	int c, verbose = 0, status = 0;
	struct tool_env env;
	struct pipeline_conf pc;
	struct pipeline *p;
	struct lines l;
	const char *line;
	size_t len;
	struct buf out;
	struct detect_ctx *xctx = NULL;

	optind = 1;
	while ((c = getopt(argc, argv, "c:v")) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: vigil logtest [-c FILE] [-v]\n");
			return 2;
		}
	}
	if (tool_load(&env, config, NULL, 0, NULL, 0, 0) < 0)
		return 1;
	pipeline_conf_defaults(&pc);
	pc.decoders = env.dec;
	pc.rules = env.rules;
	pc.replay = 1;
	pc.tz_offset_min = env.cfg->tz_offset_min;
	p = pipeline_new(&pc, NULL, NULL);
	if (verbose)
		xctx = detect_ctx_new(env.rules);
	buf_init(&out);
	lines_init(&l, STDIN_FILENO, 1u << 20);
	while (lines_next(&l, &line, &len) > 0) {
		struct vg_event *ev;
		const struct rule *const *m;
		size_t nm;

		if (len == 0)
			continue;
		ev = pipeline_process(p, line, len, "logtest", NULL, vg_now_ms());
		nm = pipeline_last_matches(p, &m);
		buf_clear(&out);
		buf_adds(&out, "{\"event\":");
		alert_event_json(&out, ev);
		buf_adds(&out, ",\"decoder\":");
		if (ev->decoder != NULL)
			buf_json_str(&out, ev->decoder, strlen(ev->decoder));
		else
			buf_adds(&out, "null");
		buf_adds(&out, ",\"matches\":[");
		for (size_t i = 0; i < nm; i++) {
			if (i > 0)
				buf_addc(&out, ',');
			buf_json_str(&out, m[i]->id, strlen(m[i]->id));
		}
		buf_addc(&out, ']');
		if (verbose) {
			buf_adds(&out, ",\"explain\":");
			detect_explain(env.rules, xctx, ev, &out);
		}
		buf_adds(&out, "}\n");
		fwrite(out.p, 1, out.len, stdout);
		fflush(stdout);
	}
	lines_destroy(&l);
	buf_free(&out);
	detect_ctx_free(xctx);
	pipeline_free(p);
	tool_env_free(&env);
	return status;
}
