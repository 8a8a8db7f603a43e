// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Clocks in nanoseconds.
 */
#include <time.h>

#include "common/c.h"
#include "common/timeutil.h"

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t vmt_monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t vmt_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}
