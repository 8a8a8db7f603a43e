/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checks' results: each one recorded (for the JUnit and JSON reports
 * written at the end) and, in TAP mode, printed as it happens, so that a
 * run cut short by a signal or a hang still shows how far it got.
 *
 * A failed check keeps the rule it tested, where the kernel says so (file
 * and function, from citations.h), what the kernel gives and what the
 * device did.
 */
#ifndef VMC_RESULTS_H
#define VMC_RESULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/c.h"

struct check_result {
	const char *group;
	unsigned int number;
	bool ok;
	char *what;   /* the question asked */
	char *rule;   /* the kernel's rule, as cited; NULL when the message says it all */
	char *kernel; /* what the kernel's rule gives; NULL with rule NULL */
	char *device; /* what the device did */
};

struct group_result {
	const char *name;
	const char *skip_reason; /* NULL: the group ran */
	unsigned int first, count, failed;
	uint64_t elapsed_ns;
};

/*
 * tap: print the TAP stream on stdout as checks happen. poll (may be NULL)
 * is called after every check: where a stop signal ends the run.
 */
void results_init(bool tap, void (*poll)(void));
void results_begin_group(const char *name);
void results_end_group(void);
void results_skip_group(const char *name, const char *reason);

/* A check whose message says what was asked and what happened. */
VMT_PRINTF(2, 3)
bool check(bool ok, const char *fmt, ...);
/* An ioctl or syscall answer (0, a count, or -errno) against the kernel's. */
bool check_err(int got, int want, const char *what, const char *rule);
bool check_u64(uint64_t got, uint64_t want, const char *what, const char *rule);
/* Any other answer: what the kernel's rule gives and what the device did, as text. */
bool check_answer(bool ok, const char *what, const char *rule, const char *kernel,
		  const char *device);
/* A comment line in the TAP stream (and the JSON "notes"). */
VMT_PRINTF(1, 2)
void diag(const char *fmt, ...);

/* "EINVAL", "success", "errno 123", or a count. */
const char *errname(int err);

unsigned int results_total(void);
unsigned int results_failed(void);
const struct check_result *results_checks(unsigned int *count);
const struct group_result *results_groups(unsigned int *count);
char *const *results_notes(unsigned int *count);
/* The TAP plan and the summary comment; tap mode only. */
void results_finish_tap(void);
void results_free(void);

#endif
