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

struct ydoc;
struct ynode;

enum input_type { INPUT_UDP, INPUT_TCP, INPUT_TLS, INPUT_UNIX };

struct input_conf {
	char *name;
	enum input_type type;
	char *listen;        /* "host:port" (udp, tcp, tls) */
	char *path;          /* unix */
	char *cert, *key, *ca; /* tls; resolved paths */
	size_t max_message;  /* longer messages are cut to this and counted
	                        (tcp, tls: frame limit; default 64 KiB) */
	size_t rcvbuf;       /* udp, unix: SO_RCVBUF asked for (default 8 MiB;
	                        the kernel caps it at net.core.rmem_max) */
	int64_t idle_timeout_ms; /* tcp, tls: close a silent connection
	                            (default 10 minutes; 0: never) */
	int max_connections; /* tcp, tls: open connections at most (default
	                        1024); more are closed at once and counted */
	int line;            /* position in the config */
};

#define INPUT_DEFAULT_MAX_MESSAGE (64 * 1024)
#define INPUT_DEFAULT_RCVBUF (8 << 20)
#define INPUT_DEFAULT_IDLE_MS (10 * 60 * 1000)
#define INPUT_DEFAULT_MAX_CONNECTIONS 1024
#define WORKERS_MAX 1024

/* Rule levels, in order; response.min_level holds one. */
enum config_level {
	LEVEL_INFORMATIONAL, LEVEL_LOW, LEVEL_MEDIUM, LEVEL_HIGH, LEVEL_CRITICAL
};

/* response: incidents, playbooks and paging (see vigil.yml). */
struct config_response {
	char **exec_dirs;    /* resolved folders exec steps and channels may run
	                        programs from; none: exec is refused */
	size_t nexec_dirs;
	char **protected;    /* addresses / networks containment never acts on */
	size_t nprotected;
	int min_level;       /* detections at or above open incidents (enum
	                        config_level); correlation alerts and alerts a
	                        playbook matches always do */
	int64_t group_wait_ms;     /* before the first page of an incident */
	int64_t group_interval_ms; /* between update pages of one incident */
	int64_t repeat_interval_ms; /* re-page an unacknowledged incident; 0 off */
	int64_t auto_resolve_ms;   /* resolve after this long without alerts;
	                              0: never */
	int64_t resolved_ttl_ms;   /* keep resolved incidents this long */
	char *default_policy;      /* escalation policy for incidents no
	                              playbook handles; "": recorded only */
	char *url;                 /* external base URL for incident links in
	                              pages; "": none */
	int line;                  /* position of the section; 0: absent */
};

#define RESPONSE_DEFAULT_GROUP_WAIT_MS (10 * 1000LL)
#define RESPONSE_DEFAULT_GROUP_INTERVAL_MS (5 * 60 * 1000LL)
#define RESPONSE_DEFAULT_REPEAT_INTERVAL_MS (4 * 3600 * 1000LL)
#define RESPONSE_DEFAULT_AUTO_RESOLVE_MS (24 * 3600 * 1000LL)
#define RESPONSE_DEFAULT_RESOLVED_TTL_MS (30 * 86400 * 1000LL)

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

	/* oncall and channels: only their shape (map or list) is checked here;
	 * the notify module interprets the trees, positions intact. NULL when
	 * absent. Owned through ydocs. */
	const struct ynode *oncall;
	const struct ynode *channels;
	struct ydoc *ydocs;
	size_t nydocs;

	struct config_response response;
};

/* Defaults of ARCHITECTURE.md, paths relative to dir. Owned. */
struct config *config_default(const char *dir);
/* Load path; NULL when any error was reported to d. Owned. */
struct config *config_load(const char *path, struct vg_diag *d);
/* Load a config held in memory; `name` stands for its path: it names the
 * source in diagnostics and its folder anchors relative paths. Borrows buf.
 * NULL when any error was reported to d. Owned. */
struct config *config_load_buffer(const char *name, const char *buf,
    size_t len, struct vg_diag *d);
void config_free(struct config *c);

/* Split "host:port" or "[v6addr]:port" into host (no brackets, NUL-terminated,
 * at most hostcap - 1 bytes) and a port in 1..65535. Hosts are IPv4 or IPv6
 * literals or DNS names. Returns 0, or -1 with a reason in why (may be NULL). */
int config_parse_listen(const char *s, char *host, size_t hostcap, int *port,
    const char **why);
/* "500ms", "30s", "15m", "1h", "2d", combinations ("1h30m") or a bare number
 * of seconds ("3600") into milliseconds. Returns 0, or -1. */
int config_parse_duration(const char *s, int64_t *ms);
/* "65536", "64k"/"64K"/"64KiB", "8m"/"8M"/"8MiB", "1g"/"1G"/"1GiB" (binary
 * units) into *bytes; 0 or -1 when malformed or above 1 GiB. */
int config_parse_size(const char *s, size_t *bytes);
/* "UTC", "Z", "+HH:MM", "-HH:MM" (or +HHMM) into minutes east of UTC.
 * Returns 0, or -1. */
int config_parse_tz(const char *s, int *off_min);
/* "udp" ... */
const char *config_input_type_name(enum input_type t);
/* "informational" .. "critical" into enum config_level; -1 when unknown. */
int config_parse_level(const char *s);
const char *config_level_name(int level);

#endif
