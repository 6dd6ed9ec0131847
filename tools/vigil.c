/*
 * vigil.c: the command-line tool's entry point and the pieces its
 * subcommands share (loading what a config names, reading lines).
 * Subcommands live in their own files: check.c, logtest.c, replay.c,
 * loadgen.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tool.h"


static void usage(FILE *out)
{
	fputs("usage: vigil <command> [options]\n"
	    "\n"
	    "  check [-c FILE] [PATH...]     validate rule, decoder and mapping files or folders\n"
	    "  logtest [-c FILE] [-v]        decode and match log lines read on stdin\n"
	    "  replay [-c FILE] [--rules PATH]... [--parsers PATH]... [--redis URL]\n"
	    "         [--threads N] FILE...  run log files through the pipeline, alerts on stdout\n"
	    "  loadgen --target udp://H:P|tcp://H:P|tls://H:P [--octet-counting] [--connections N]\n"
	    "          [--rate N] [--count N] [--duration S] [--file F]   (--help for more)\n"
	    "                                send syslog load, report messages and bytes per second\n"
	    "  incidents list|show ID|ack ID|resolve ID [--by NAME] [--note TEXT]\n"
	    "                                incidents of a running vigild (HTTP API)\n"
	    "  silence add|list|delete ID    silences (vigil silence --help)\n", out);
}

int main(int argc, char **argv)
{
	log_init("vigil", LOG_NOTICE);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "logtest") == 0)
		return cmd_logtest(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	if (strcmp(argv[1], "loadgen") == 0)
		return loadgen_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "incidents") == 0)
		return cmd_incidents(argc - 1, argv + 1);
	if (strcmp(argv[1], "silence") == 0)
		return cmd_silence(argc - 1, argv + 1);
	fprintf(stderr, "vigil: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

int tool_load(struct tool_env *env, const char *config_path,
    char **parser_paths, size_t nparsers, char **rule_paths, size_t nrules,
    int quiet)
{
	struct vg_diag d;
	struct detect_opts o;

	memset(env, 0, sizeof(*env));
	vg_diag_init(&d, quiet ? NULL : stderr);
	if (config_path == NULL && access("vigil.yml", F_OK) == 0)
		config_path = "vigil.yml";
	if (config_path != NULL)
		env->cfg = config_load(config_path, &d);
	else
		env->cfg = config_default(".");
	if (env->cfg == NULL)
		return -1;
	if (nparsers == 0) {
		parser_paths = env->cfg->parsers;
		nparsers = env->cfg->nparsers;
	}
	env->dec = decode_load((const char *const *)parser_paths, nparsers, &d,
	    &env->dec_st);
	memset(&o, 0, sizeof(o));
	o.rule_paths = (const char *const *)(nrules ? rule_paths : env->cfg->rules);
	o.nrule_paths = nrules ? nrules : env->cfg->nrules;
	o.mapping_paths = (const char *const *)env->cfg->rules;
	o.nmapping_paths = env->cfg->nrules;
	env->rules = detect_load(&o, &d, &env->rule_st);
	return 0;
}

void tool_env_free(struct tool_env *env)
{
	detect_free(env->rules);
	decode_free(env->dec);
	config_free(env->cfg);
	memset(env, 0, sizeof(*env));
}

void lines_init(struct lines *l, int fd, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->max = max;
	l->cap = max * 2 > (1u << 20) ? max * 2 : (1u << 20);
	l->buf = vg_malloc(l->cap);
}

void lines_destroy(struct lines *l)
{
	free(l->buf);
	l->buf = NULL;
}

/* Read more into the buffer, compacting first; 0 at EOF, -1 on error. */
static int lines_fill(struct lines *l)
{
	ssize_t n;

	if (l->start > 0) {
		memmove(l->buf, l->buf + l->start, l->end - l->start);
		l->end -= l->start;
		l->start = 0;
	}
	do
		n = read(l->fd, l->buf + l->end, l->cap - l->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0) {
		l->eof = 1;
		return 0;
	}
	l->end += (size_t)n;
	l->bytes_read += (size_t)n;
	return 1;
}

int lines_next(struct lines *l, const char **line, size_t *len)
{
	for (;;) {
		char *s = l->buf + l->start;
		size_t avail = l->end - l->start;
		char *nl = avail ? memchr(s, '\n', avail) : NULL;

		if (l->skipping) {
			/* discard the rest of a truncated line */
			if (nl == NULL) {
				l->start = l->end;
			} else {
				l->start += (size_t)(nl - s) + 1;
				l->skipping = 0;
				continue;
			}
		} else if (nl != NULL || (l->eof && avail > 0) || avail > l->max) {
			size_t n = nl ? (size_t)(nl - s) : avail;

			if (n > l->max || (nl == NULL && !l->eof)) {
				/* over-long: deliver the first max bytes */
				n = l->max;
				l->truncated++;
				l->start += n;
				l->skipping = 1;
			} else {
				l->start += n + (nl != NULL);
			}
			if (n > 0 && s[n - 1] == '\r')
				n--;
			*line = s;
			*len = n;
			return 1;
		}
		if (l->eof)
			return 0;
		if (lines_fill(l) < 0)
			return -1;
	}
}
