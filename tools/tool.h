/*
 * tool.h: what the subcommands of the `vigil` tool share: loading the
 * configuration and what it names, and reading log lines fast.
 */
#ifndef VG_TOOL_H
#define VG_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decode.h"
#include "detect.h"

struct tool_env {
	struct config *cfg;
	struct decode_set *dec;
	struct ruleset *rules;
	struct decode_stats dec_st;
	struct detect_stats rule_st;
};

/*
 * Load the config (`-c path`, else ./vigil.yml when present, else the
 * built-in defaults), then the decoders and rules it names, or those of
 * parser_paths / rule_paths when given. Problems go to stderr. Returns 0,
 * or -1 when the config itself is invalid.
 */
int tool_load(struct tool_env *env, const char *config_path,
    char **parser_paths, size_t nparsers, char **rule_paths, size_t nrules,
    int quiet);
void tool_env_free(struct tool_env *env);

/* Line reader over a file descriptor: big reads, memchr, no copy unless a
 * line crosses a read boundary. Lines longer than max are truncated (the
 * rest of the line skipped) and counted. */
struct lines {
	int fd;
	char *buf;
	size_t cap, start, end;
	size_t max;
	int eof;
	int skipping;          /* inside the rest of an over-long line */
	uint64_t truncated;
	uint64_t bytes_read;
};

void lines_init(struct lines *l, int fd, size_t max);
void lines_destroy(struct lines *l);
/* 1 with a line (without its newline or trailing CR), 0 at end, -1 on a
 * read error (errno). The line stays valid until the next call. */
int lines_next(struct lines *l, const char **line, size_t *len);

int cmd_check(int argc, char **argv);
int cmd_logtest(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_incidents(int argc, char **argv);  /* incidents.c */
int cmd_silence(int argc, char **argv);    /* incidents.c */
int loadgen_main(int argc, char **argv);   /* loadgen.c */

#endif
