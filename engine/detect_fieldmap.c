/*
 * detect_fieldmap.c: what a Sigma field name means in the events of one
 * loaded detection rule, for stages that name fields in the rules'
 * namespace after loading (correlation group-by, condition fields and
 * aliases). The translation is the one the rule's selections got: the
 * field mappings of its logsource, restricted entries first, then those
 * for every logsource (detect_field_ids). Load-time only: it may intern
 * names. Nothing here evaluates events.
 */
#include "detect_int.h"

#include <stdlib.h>
#include <string.h>

uint32_t *detect_rule_field_ids(const struct ruleset *rs, const struct rule *r,
    const char *name, size_t *n)
{
	struct fieldmap fm = { 0 };
	uint32_t *ids, k = 0;

	*n = 0;
	if (rs != NULL && r != NULL && r->impl != NULL && rs->nmfs > 0) {
		fm.mfs = vg_calloc(rs->nmfs + 1, sizeof(*fm.mfs));
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < rs->nmfs; i++) {
				const struct map_fields *mf = &rs->mfs[i];

				if (pass == 0 ? mf->restricted &&
				    detect_ls_covers(&mf->ls, &r->impl->ls) :
				    !mf->restricted)
					fm.mfs[fm.n++] = mf;
			}
	}
	ids = detect_field_ids(&fm, name, &k);
	free(fm.mfs);
	*n = k;
	return ids;
}
