/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny test harness: each test is a function, CHECK records a failure
 * with its line and keeps going, RUN prints one TAP line per test, and
 * unit_done() prints the plan and gives main() its exit status.
 */
#ifndef VMT_UNIT_H
#define VMT_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_tests_run, unit_tests_failed, unit_current_failed;

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			unit_current_failed = 1;                                            \
		}                                                                           \
	} while (0)

#define CHECK_EQ(a, b)                                                                       \
	do {                                                                                 \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                             \
		if (a_ != b_) {                                                              \
			printf("#   %s:%d: %s == %s: %" PRIu64 " != %" PRIu64 " (0x%" PRIx64 \
			       " != 0x%" PRIx64 ")\n",                                       \
			       __FILE__, __LINE__, #a, #b, a_, b_, a_, b_);                  \
			unit_current_failed = 1;                                             \
		}                                                                            \
	} while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                           \
	do {                                                                                      \
		const char *h_ = (hay), *n_ = (needle);                                           \
		if (!h_ || !strstr(h_, n_)) {                                                     \
			printf("#   %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
			       h_ ? h_ : "(null)", n_);                                           \
			unit_current_failed = 1;                                                  \
		}                                                                                 \
	} while (0)

#define RUN(fn)                                                                                   \
	do {                                                                                      \
		unit_current_failed = 0;                                                          \
		fn();                                                                             \
		unit_tests_run++;                                                                 \
		if (unit_current_failed)                                                          \
			unit_tests_failed++;                                                      \
		printf("%sok %d - %s\n", unit_current_failed ? "not " : "", unit_tests_run, #fn); \
		fflush(stdout);                                                                   \
	} while (0)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_tests_run);
	if (unit_tests_failed)
		printf("# %d of %d tests failed\n", unit_tests_failed, unit_tests_run);
	return unit_tests_failed ? 1 : 0;
}

#endif
