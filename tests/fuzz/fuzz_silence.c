/*
 * fuzz_silence.c: arbitrary bytes as the body of POST /api/v1/silences.
 * The parser must accept or refuse with a reason, never crash, leak or
 * read out of bounds; an accepted silence must survive its stored form
 * (silence_json, parsed back as stored) unchanged, and matching it against
 * fixed alerts must stay within it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "response_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const ALERTS[] = {
    "{\"id\":\"a1\",\"kind\":\"correlation\",\"rule\":{\"id\":\"r1\","
    "\"title\":\"T\",\"level\":\"high\",\"tags\":[\"attack.t1110\"]},"
    "\"group\":{\"source.ip\":\"203.0.113.9\"},\"count\":3,"
    "\"event\":{\"source\":{\"ip\":\"203.0.113.9\",\"port\":22},"
    "\"user\":{\"name\":[\"a\",1,null]},\"a.b\":{\"c\":{\"d\":true}}}}",
    "{\"rule\":null,\"group\":[],\"event\":\"x\"}",
    "{}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *alerts[3];
	struct silence s, back;
	struct buf a, b;
	char why[256];
	const int64_t now = 1795392000000LL;

	if (alerts[0] == NULL) {
		for (int i = 0; i < 3; i++)
			alerts[i] = json_loads(ALERTS[i], 0, NULL);
	}
	why[0] = '\0';
	if (silence_parse((const char *)data, size, 1, now, &s, why,
	    sizeof(why)) < 0) {
		if (why[0] == '\0')
			abort();     /* a refusal always says why */
		return 0;
	}
	buf_init(&a);
	buf_init(&b);
	silence_json(&s, 0, &a);
	if (silence_parse(a.p, a.len, 0, now, &back, why, sizeof(why)) < 0)
		abort();
	silence_json(&back, 0, &b);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
		abort();
	for (int i = 0; i < 3; i++) {
		if (silence_matches(&s, alerts[i], now) !=
		    silence_matches(&back, alerts[i], now))
			abort();
		(void)silence_matches(&s, alerts[i], s.ends_ms);
	}
	silence_json(&s, now, &b);
	silence_clear(&s);
	silence_clear(&back);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
