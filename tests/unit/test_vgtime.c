/*
 * test_vgtime.c: vgtime_format_fast, with its per-thread caches (the last
 * text, the second, the day), writes what vgtime_format writes for every
 * time, in any order: repeats, steps within a second, across seconds, days
 * and years, and times outside 1970..9999 that it hands to vgtime_format.
 */
#include <pthread.h>
#include <stdint.h>

#include "unit.h"
#include "../../engine/vgtime.h"

static int mismatches;

static void same(int64_t ms)
{
	char want[32], got[32];
	size_t wn = vgtime_format(ms, want), gn;

	memset(got, '#', sizeof(got));
	gn = vgtime_format_fast(ms, got);
	if (gn != wn || strcmp(got, want) != 0) {
		if (mismatches++ < 5)
			UNIT_FAIL("%lld: got \"%s\" (%zu), want \"%s\" (%zu)",
			    (long long)ms, got, gn, want, wn);
	}
}

TEST(runs_and_steps_match_vgtime_format)
{
	/* 2026-11-23T00:00:00Z */
	const int64_t t0 = 1795392000000LL;
	static const int64_t steps[] = { 0, 0, 1, 1, 999, 1000, 1000, 59999,
		60000, 3599999, 3600000, 86399999, 86400000, -1, -86400000,
		31 * 86400000LL, 400 * 86400000LL };

	mismatches = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		same(t0 + steps[i]);
		same(t0 + steps[i]);
	}
	/* a time, then one outside the fast range, then the same time again */
	same(t0);
	same(-1);
	same(t0);
	same(-1);
	same(-1);
	same(0);
	same(0);
	same(253402300799999LL); /* 9999-12-31T23:59:59.999Z */
	same(253402300800000LL); /* year 10000: vgtime_format's */
	same(253402300799999LL);
	same(951782400000LL);    /* 2000-02-29 */
	same(951782400000LL + 86400000);
	CHECK_INT(mismatches, 0);
}

/* A deterministic walk of times, forwards and back, near and far. */
TEST(random_walk_matches_vgtime_format)
{
	uint64_t x = 88172645463325252ull;
	int64_t ms = 1795392000000LL;

	mismatches = 0;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (x % 6) {
		case 0: break;                               /* the same */
		case 1: ms += (int64_t)(x >> 8) % 1000; break; /* same second */
		case 2: ms += (int64_t)(x >> 8) % 100000; break;
		case 3: ms -= (int64_t)(x >> 8) % 100000000; break;
		case 4: ms = (int64_t)((x >> 8) % 260000000000000ull) - 1000; break;
		default: ms += 86400000; break;
		}
		same(ms);
	}
	CHECK_INT(mismatches, 0);
}

/* Another thread starts with empty caches: its first time, even the one
 * the caches' "none" marks use, is formatted, not taken from them. */
static void *fresh_thread(void *arg)
{
	int *bad = arg;
	char out[32];

	*bad = 0;
	vgtime_format_fast(-1, out);
	if (strcmp(out, "1969-12-31T23:59:59.999Z") != 0)
		(*bad)++;
	vgtime_format_fast(0, out);
	if (strcmp(out, "1970-01-01T00:00:00.000Z") != 0)
		(*bad)++;
	return NULL;
}

TEST(a_new_thread_starts_empty)
{
	pthread_t t;
	int bad = -1;
	char out[32];

	vgtime_format_fast(1795392000000LL, out);
	CHECK_INT(pthread_create(&t, NULL, fresh_thread, &bad), 0);
	pthread_join(t, NULL);
	CHECK_INT(bad, 0);
}

int main(void)
{
	RUN(runs_and_steps_match_vgtime_format);
	RUN(random_walk_matches_vgtime_format);
	RUN(a_new_thread_starts_empty);
	return unit_done();
}
