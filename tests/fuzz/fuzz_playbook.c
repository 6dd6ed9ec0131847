/*
 * fuzz_playbook.c: arbitrary bytes as a playbook file. The loader must
 * return a set, count every rejected playbook with an error, never crash,
 * leak or read out of bounds; every playbook it keeps must have a sound
 * step graph, and matching, rendering and running each step against a
 * fixed alert must stay within it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "playbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ALERT[] =
    "{\"id\":\"a1\",\"@timestamp\":\"2026-11-23T00:00:05.000Z\","
    "\"kind\":\"correlation\",\"rule\":{\"id\":\"r1\",\"title\":\"T\","
    "\"level\":\"high\",\"tags\":[\"attack.t1110\"]},"
    "\"group\":{\"source.ip\":\"203.0.113.9\"},\"count\":3,"
    "\"event\":{\"source\":{\"ip\":\"203.0.113.9\",\"port\":22},"
    "\"user\":{\"name\":\"$(id)\"},\"tags\":[\"x\",1,null]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *alert;
	struct vg_diag d;
	struct playbook_stats st;
	struct playbook_set *s;
	const struct playbook *m[8];
	const char *inc[] = { "id", "inc-1" };

	if (alert == NULL)
		alert = json_loads(ALERT, 0, NULL);
	vg_diag_init(&d, NULL);
	s = playbook_load_buffer("fuzz/playbook.yml", (const char *)data, size,
	    NULL, &d, &st);
	if (s == NULL || (st.rejected > 0 && d.errors == 0) ||
	    (d.errors > 0 && st.rejected == 0) || (size_t)st.loaded != s->n)
		abort();
	playbook_match(s, alert, m, 8);
	for (size_t i = 0; i < s->n; i++) {
		const struct playbook *pb = s->pbs[i];
		struct pb_vars v = { alert, inc, 1, NULL };
		struct playbook_run r;
		unsigned guard = 0;

		if (pb->name == NULL || pb->nsteps == 0)
			abort();
		playbook_matches(pb, alert);
		for (size_t k = 0; k < pb->nsteps; k++) {
			const struct pb_step *stp = &pb->steps[k];
			struct pb_call c;
			char why[256];

			if (stp->on_success >= (int)pb->nsteps ||
			    stp->on_failure >= (int)pb->nsteps ||
			    stp->on_success < PB_ABORT || stp->on_failure < PB_ABORT)
				abort();
			if (playbook_prepare(s, pb, stp, &v, "vigil:", &c, why,
			    sizeof(why)) == 0)
				playbook_call_free(&c);
		}
		/* any mix of outcomes ends within steps * (retries + 1) */
		playbook_run_init(&r, pb);
		while (playbook_run_step(&r, pb) != NULL) {
			playbook_run_report(&r, pb, (int)(guard % 3 != 0), 0);
			if (++guard > pb->nsteps * 11 + 1)
				abort();
		}
	}
	playbook_set_free(s);
	return 0;
}
