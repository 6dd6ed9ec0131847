/*
 * config.h: vigil.yml. Every fixed key of ARCHITECTURE.md is parsed and
 * checked here; unknown keys are errors with file:line:col; relative paths are
 * resolved against the config file's folder. The loader keeps going and
 * reports every error once, then fails.
 */
#ifndef VG_CONFIG_H
#define VG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "vg.h"

enum input_type { INPUT_UDP, INPUT_TCP, INPUT_TLS, INPUT_UNIX };

struct input_conf {
	char *name;
	enum input_type type;
	char *listen;        /* "host:port" (udp, tcp, tls) */
	char *path;          /* unix */
	char *cert, *key, *ca; /* tls; resolved paths */
	int line;            /* position in the config */
};

struct config {
	char *file;          /* path of the config file ("" for defaults) */
	char *dir;           /* its folder */

	struct input_conf *inputs;
	size_t ninputs;

	char *redis_url;     /* "" = embedded */
	char *redis_prefix;

	char **parsers;      /* resolved paths */
	size_t nparsers;
	char **rules;
	size_t nrules;
	char **playbooks;
	size_t nplaybooks;

	char *out_file;      /* resolved; "" = disabled */
	int out_stdout;
	char *out_redis_stream;

	char *http_listen;
	char *http_token_file;

	int workers;         /* 0: one per core */
	char *data_dir;      /* resolved */

	char *user;          /* drop privileges to this user after binding */

	/* time: */
	int tz_offset_min;   /* time.timezone: "UTC" or "+HH:MM"/"-HH:MM" */
	int64_t max_skew_ms; /* time.max_skew: event time this far from receipt
	                        is implausible and replaced by receipt time */
};

/* Defaults of ARCHITECTURE.md, paths relative to dir. Owned. */
struct config *config_default(const char *dir);
/* Load path; NULL when any error was reported to d. Owned. */
struct config *config_load(const char *path, struct vg_diag *d);
void config_free(struct config *c);
/* "udp" ... */
const char *config_input_type_name(enum input_type t);

#endif
