/*
 * fuzz_json.c: jsonin_parse on arbitrary bytes with tight limits, so every
 * rejection path is reached. Checks that a rejected message leaves no field
 * and an accepted one only NUL-terminated values.
 */
#include <stdint.h>
#include <stdlib.h>

#include "event.h"
#include "jsonin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_event *ev;
	struct jsonin_limits lim = { 8192, 8, 64 };
	struct vg_err err;
	enum jsonin_result r;

	if (ev == NULL)
		ev = vg_event_new();
	vg_event_reset(ev);
	vg_err_clear(&err);
	r = jsonin_parse(ev, (const char *)data, size, &lim, 0, &err);
	if (r != JSONIN_OK && (ev->n != 0 || ev->has_ts || !err.set))
		abort();
	if (r == JSONIN_OK && ev->n > lim.max_fields)
		abort();
	for (uint32_t i = 0; i < ev->n; i++)
		if (ev->ents[i].v.s[ev->ents[i].v.len] != '\0')
			abort();
	return 0;
}
