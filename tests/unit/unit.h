/*
 * unit.h: the unit-test harness. A test is a function; checks record the
 * first failure with file:line and keep going. Each test prints one line,
 * `ok - name` or `not ok - name`, which tests/run.sh counts.
 *
 *   TEST(parses_pri) { CHECK_INT(parse("<13>x"), 13); }
 *   int main(void) { RUN(parses_pri); return unit_done(); }
 */
#ifndef VG_UNIT_H
#define VG_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_fail_now;
static int unit_failed, unit_passed;

#define TEST(name) static void name(void)

#define UNIT_FAIL(...)                                                  \
	do {                                                            \
		unit_fail_now++;                                        \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);       \
		fprintf(stderr, __VA_ARGS__);                           \
		fputc('\n', stderr);                                    \
	} while (0)

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond))                                            \
			UNIT_FAIL("check failed: %s", #cond);           \
	} while (0)

#define CHECK_INT(got, want)                                            \
	do {                                                            \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		if (g_ != w_)                                           \
			UNIT_FAIL("%s: got %lld, want %lld", #got, g_, w_); \
	} while (0)

#define CHECK_STR(got, want)                                            \
	do {                                                            \
		const char *g_ = (got), *w_ = (want);                   \
		if ((g_ == NULL) != (w_ == NULL) ||                     \
		    (g_ != NULL && strcmp(g_, w_) != 0))                \
			UNIT_FAIL("%s: got \"%s\", want \"%s\"", #got,  \
			    g_ ? g_ : "(null)", w_ ? w_ : "(null)");    \
	} while (0)

#define RUN(name)                                                       \
	do {                                                            \
		unit_fail_now = 0;                                      \
		name();                                                 \
		if (unit_fail_now) {                                    \
			unit_failed++;                                  \
			printf("not ok - %s\n", #name);                 \
		} else {                                                \
			unit_passed++;                                  \
			printf("ok - %s\n", #name);                     \
		}                                                       \
		fflush(stdout);                                         \
	} while (0)

static inline int unit_done(void)
{
	return unit_failed ? 1 : 0;
}

#endif
