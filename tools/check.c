/*
 * check.c: `vigil check [-c FILE] [PATH...]` validates decoder, rule and
 * mapping files or folders (with no PATH: everything the config names).
 * Problems print as `path:line:col: error: message`; the last line sums up
 * the rules (and names how many correlation documents were found). Exit 0 when nothing was rejected, 1 otherwise.
 *
 * A file is a decoder file when its first document has a top-level
 * `decoders:` key; every other YAML file goes to the rule loader, which also
 * takes mapping documents.
 *
 * The rule loaders accept `vigil: {incident_key: ...}` as it is and the
 * response engine ignores a malformed one (engine/response_keys.c, at vigild
 * start); check warns about it here, with its file:line:col, so that it is
 * caught before it is ignored.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "correlate.h"
#include "tool.h"
#include "ytree.h"

#define KEY_FIELDS 8     /* as engine/response_keys.c takes them */
#define KEY_FIELD_LEN 128
#define KEY_NAME_LEN 64

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

static void key_warn(struct vg_diag *d, const char *file,
    const struct ynode *at, const char *what)
{
	vg_diag_warn(d, file, at->line, at->col, "vigil.incident_key: %s; "
	    "expected a list of up to %d field names, or {name: NAME, fields: "
	    "[...]} (vigild ignores it: the default incident key is used)",
	    what, KEY_FIELDS);
}

/* One field name of an incident key; 0 when vigild would take it. */
static int key_field(struct vg_diag *d, const char *file,
    const struct ynode *f)
{
	if (f->kind != YN_SCALAR || ytree_is_null(f) || f->len == 0) {
		key_warn(d, file, f, "a field name must be a non-empty string");
		return -1;
	}
	if (f->len > KEY_FIELD_LEN || memchr(f->str, '|', f->len) != NULL) {
		key_warn(d, file, f, "a field name has at most 128 bytes and "
		    "no '|'");
		return -1;
	}
	return 0;
}

/* The `incident_key` of one rule's `vigil:` map, as vigild reads it. */
static void check_incident_key(struct vg_diag *d, const char *file,
    const struct ynode *vigil, int has_id)
{
	const struct ynode *v, *fl, *nm;

	if (vigil == NULL || vigil->kind != YN_MAP ||
	    (v = ytree_get(vigil, "incident_key")) == NULL)
		return;
	fl = v;
	if (v->kind == YN_MAP) {
		for (size_t i = 0; i + 1 < v->n; i += 2) {
			const struct ynode *k = v->items[i];

			if (!ytree_is_str(k, "name") && !ytree_is_str(k, "fields")) {
				key_warn(d, file, k, "unknown key (name and fields "
				    "only)");
				return;
			}
		}
		nm = ytree_get(v, "name");
		fl = ytree_get(v, "fields");
		if (nm != NULL && (nm->kind != YN_SCALAR || nm->len == 0 ||
		    nm->len > KEY_NAME_LEN || strspn(nm->str, "abcdefghijklmnopq"
		    "rstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
		    nm->len)) {
			key_warn(d, file, nm, "name: 1 to 64 letters, digits, '_', "
			    "'-' or '.'");
			return;
		}
		if (fl == NULL) {
			key_warn(d, file, v, "fields: missing");
			return;
		}
	}
	if (fl->kind == YN_SEQ) {
		if (fl->n == 0 || fl->n > KEY_FIELDS) {
			key_warn(d, file, fl, fl->n == 0 ? "no field names" :
			    "too many field names");
			return;
		}
		for (size_t i = 0; i < fl->n; i++)
			if (key_field(d, file, fl->items[i]) < 0)
				return;
	} else if (key_field(d, file, fl) < 0) {
		return;
	}
	if (!has_id)
		vg_diag_warn(d, file, v->line, v->col, "vigil.incident_key: the "
		    "correlation rule has no id, which the key is kept under "
		    "(vigild ignores it)");
}

static void check_incident_keys(const struct ruleset *rs, struct vg_diag *d)
{
	for (size_t i = 0; i < detect_rule_count(rs); i++) {
		const struct rule *r = detect_rule(rs, i);

		check_incident_key(d, r->file, detect_rule_vigil(r), 1);
	}
	for (size_t i = 0; i < detect_correlation_count(rs); i++) {
		const struct ynode *doc = detect_correlation_doc(rs, i);
		const struct ynode *id = ytree_get(doc, "id");

		check_incident_key(d, detect_correlation_file(rs, i),
		    ytree_get(doc, "vigil"), id != NULL && id->kind == YN_SCALAR &&
		    !ytree_is_null(id));
	}
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
	check_incident_keys(rs, &d);
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
