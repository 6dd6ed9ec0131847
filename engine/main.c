/*
 * main.c: vigild, the engine. `vigild [-c FILE]` runs in the foreground;
 * `vigild -t [-c FILE]` checks the configuration and every decoder, rule
 * and playbook it names, then exits (0 when all are valid).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "decode.h"
#include "detect.h"
#include "log.h"
#include "response.h"

static void usage(void)
{
	fprintf(stderr, "usage: vigild [-t] [-d] [-c FILE]\n"
	    "  -c FILE  configuration (default vigil.yml)\n"
	    "  -t       check the configuration and everything it names, then exit\n"
	    "  -d       debug logging\n");
}

/* Playbooks are checked by their own loader once it exists; until then a
 * configured playbook folder must at least be readable. */
static int check_playbook_paths(const struct config *cfg, struct vg_diag *d)
{
	int bad = 0;

	for (size_t i = 0; i < cfg->nplaybooks; i++) {
		struct stat sb;

		if (stat(cfg->playbooks[i], &sb) < 0) {
			vg_diag_error(d, cfg->file, 0, 0, "playbooks: %s: %s",
			    cfg->playbooks[i], strerror(errno));
			bad++;
		}
	}
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *path = "vigil.yml";
	int c, test_only = 0, debug = 0, status;
	struct vg_diag d;
	struct config *cfg;
	struct decode_set *dec;
	struct ruleset *rules;
	struct decode_stats dst = { 0 };
	struct detect_stats rst = { 0 };
	struct detect_opts o;

	while ((c = getopt(argc, argv, "c:tdh")) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 't': test_only = 1; break;
		case 'd': debug = 1; break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	log_init("vigild", debug ? LOG_DEBUG : LOG_INFO);
	vg_diag_init(&d, stderr);
	if ((cfg = config_load(path, &d)) == NULL) {
		fprintf(stderr, "vigild: %s: configuration rejected (%d errors)\n",
		    path, d.errors);
		return 1;
	}
	dec = decode_load((const char *const *)cfg->parsers, cfg->nparsers, &d, &dst);
	memset(&o, 0, sizeof(o));
	o.rule_paths = (const char *const *)cfg->rules;
	o.nrule_paths = cfg->nrules;
	o.mapping_paths = (const char *const *)cfg->rules;
	o.nmapping_paths = cfg->nrules;
	rules = detect_load(&o, &d, &rst);
	check_playbook_paths(cfg, &d);

	if (test_only) {
		/* on-call, channels, exec folders and playbooks, as vigild would
		 * load them */
		response_check(cfg, &d);
		status = (d.errors > 0 || dst.rejected > 0 || rst.rejected > 0) ? 1 : 0;
		printf("%s: %s; %d decoders loaded, %d rejected; %d rules loaded, "
		    "%d rejected; %d warnings\n", path, status ? "errors" : "ok",
		    dst.loaded, dst.rejected, rst.loaded, rst.rejected, d.warnings);
		detect_free(rules);
		decode_free(dec);
		config_free(cfg);
		return status;
	}
	if (d.errors > 0)
		log_warnx("main: %d problems in decoders and rules; the rest loaded "
		    "(see above; vigild -t lists them)", d.errors);
	status = daemon_run(cfg, dec, rules) < 0 ? 1 : 0;
	detect_free(rules);
	decode_free(dec);
	config_free(cfg);
	return status;
}
