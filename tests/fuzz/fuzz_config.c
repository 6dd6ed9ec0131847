/*
 * fuzz_config.c: arbitrary bytes as vigil.yml. The loader must return a
 * config or NULL with errors counted, never crash, leak or read out of
 * bounds; a config it accepts must hold what the header promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_diag d;
	struct config *c;

	vg_diag_init(&d, NULL);
	c = config_load_buffer("fuzz/vigil.yml", (const char *)data, size, &d);
	if (c == NULL) {
		if (d.errors == 0)
			abort(); /* a failed load always says why */
		return 0;
	}
	if (d.errors != 0 || c->redis_url == NULL || c->redis_prefix == NULL ||
	    c->out_file == NULL || c->data_dir == NULL || c->http_listen == NULL ||
	    c->workers < 0 || c->max_skew_ms <= 0)
		abort();
	for (size_t i = 0; i < c->ninputs; i++) {
		const struct input_conf *in = &c->inputs[i];

		if (in->name == NULL || (in->type == INPUT_UNIX ? in->path == NULL :
		    in->listen == NULL) || (in->type == INPUT_TLS &&
		    (in->cert == NULL || in->key == NULL)))
			abort();
		if (in->listen != NULL &&
		    config_parse_listen(in->listen, NULL, 0, NULL, NULL) < 0)
			abort();
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->inputs[j].name, in->name) == 0)
				abort();
		}
	}
	config_free(c);
	return 0;
}
