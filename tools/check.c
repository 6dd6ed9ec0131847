/*
 * check.c: `vigil check [-c FILE] [PATH...]` validates decoder, rule and
 * mapping files or folders (with no PATH: everything the config names).
 * Problems print as `path:line:col: error: message`; the last line sums up
 * the rules (and names how many correlation documents were found). Exit 0 when nothing was rejected, 1 otherwise.
 *
 * A file is a decoder file when its first document has a top-level
 * `decoders:` key; every other YAML file goes to the rule loader, which also
 * takes mapping documents.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "correlate.h"
#include "tool.h"
#include "ytree.h"

static int is_decoder_file(const char *path)
{
	struct ydoc *docs;
	size_t n;
	int yes = 0;

	if (ytree_load_file(path, &docs, &n, NULL) < 0)
		return 0;
	yes = n > 0 && ytree_get(docs[0].root, "decoders") != NULL;
	ytree_free_docs(docs, n);
	return yes;
}

int cmd_check(int argc, char **argv)
{
	const char *config = NULL;
	struct config *cfg;
	struct vg_diag d;
	char **files = NULL, **dec = NULL, **rules = NULL;
	size_t nfiles = 0, ndec = 0, nrules = 0;
	struct decode_stats dst = { 0 };
	struct detect_stats rst = { 0 };
	struct decode_set *ds = NULL;
	struct ruleset *rs = NULL;
	struct detect_opts o;
	int c, status;

	optind = 1;
	while ((c = getopt(argc, argv, "c:")) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		default:
			fprintf(stderr, "usage: vigil check [-c FILE] [PATH...]\n");
			return 2;
		}
	}
	vg_diag_init(&d, stderr);
	if (config == NULL && access("vigil.yml", F_OK) == 0)
		config = "vigil.yml";
	cfg = config ? config_load(config, &d) : config_default(".");
	if (cfg == NULL) {
		printf("0 rules loaded, 0 rejected (invalid configuration)\n");
		return 1;
	}
	if (optind < argc) {
		files = vg_list_yaml((const char *const *)argv + optind,
		    (size_t)(argc - optind), &nfiles, &d);
		dec = vg_calloc(nfiles, sizeof(char *));
		rules = vg_calloc(nfiles, sizeof(char *));
		for (size_t i = 0; i < nfiles; i++) {
			if (is_decoder_file(files[i]))
				dec[ndec++] = files[i];
			else
				rules[nrules++] = files[i];
		}
	} else {
		dec = vg_calloc(cfg->nparsers, sizeof(char *));
		for (size_t i = 0; i < cfg->nparsers; i++)
			dec[ndec++] = cfg->parsers[i];
		rules = vg_calloc(cfg->nrules, sizeof(char *));
		for (size_t i = 0; i < cfg->nrules; i++)
			rules[nrules++] = cfg->rules[i];
	}
	if (ndec > 0) {
		ds = decode_load((const char *const *)dec, ndec, &d, &dst);
		printf("%d decoders loaded, %d rejected\n", dst.loaded, dst.rejected);
	}
	memset(&o, 0, sizeof(o));
	o.rule_paths = (const char *const *)rules;
	o.nrule_paths = nrules;
	o.mapping_paths = (const char *const *)cfg->rules;
	o.nmapping_paths = cfg->nrules;
	rs = detect_load(&o, &d, &rst);
	/* correlation documents are compiled by the correlation stage, as
	 * vigild and replay would: a broken one is a rejected rule */
	if (rst.correlations > 0) {
		struct correlate_load_stats cst = { 0 };
		struct corr_set *cs = correlate_load(rs, &d, &cst);

		rst.rejected += cst.rejected;
		printf("%d rules loaded, %d rejected, %d correlation rules\n",
		    rst.loaded, rst.rejected, cst.loaded);
		correlate_set_free(cs);
	} else {
		printf("%d rules loaded, %d rejected\n", rst.loaded, rst.rejected);
	}
	status = (dst.rejected > 0 || rst.rejected > 0 || d.errors > 0) ? 1 : 0;
	detect_free(rs);
	decode_free(ds);
	free(dec);
	free(rules);
	vg_free_list(files, nfiles);
	config_free(cfg);
	return status;
}
