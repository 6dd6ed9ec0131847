/*
 * fuzz_oncall.c: arbitrary bytes as the oncall section of vigil.yml. The
 * loader must return an oncall or NULL with errors counted; for one it
 * accepts, "who is on call" at instants spread over centuries and every
 * escalation page must answer consistently: a shift holds the instant it
 * was asked about, and pages never go back in time.
 */
#include <stdint.h>
#include <stdlib.h>

#include "oncall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int64_t instants[] = {
	-4102444800000LL, 0, 1774746000000LL, 1792890000000LL, 1795392005123LL,
	4109878800000LL, 253402300799000LL, -1,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_diag d;
	struct oncall *oc;

	vg_diag_init(&d, NULL);
	oc = oncall_load_buffer("fuzz/oncall.yml", (const char *)data, size, NULL,
	    &d);
	if (oc == NULL) {
		if (d.errors == 0)
			abort();
		return 0;
	}
	if (d.errors != 0)
		abort();
	for (size_t i = 0; i < oc->nschedules; i++) {
		for (size_t k = 0; k < sizeof(instants) / sizeof(instants[0]); k++) {
			struct oncall_shift sh;
			int r = oncall_who(oc, &oc->schedules[i], instants[k], &sh);

			if ((r == 0) != (sh.user != NULL) || sh.start_ms > instants[k] ||
			    sh.end_ms <= instants[k] - 999)
				abort();
		}
	}
	for (size_t i = 0; i < oc->npolicies; i++) {
		struct oncall_page pg;
		int64_t last = 0;
		const struct oncall_user *u[8];

		for (unsigned n = 0; oncall_policy_page(&oc->policies[i], 0, n,
		    &pg) == 0; n++) {
			if (pg.at_ms < last || pg.step >= oc->policies[i].nsteps)
				abort();
			last = pg.at_ms;
			if (oncall_step_targets(oc, &oc->policies[i].steps[pg.step],
			    pg.at_ms, u, 8) > 8)
				abort();
		}
	}
	oncall_free(oc);
	return 0;
}
