/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Clocks in nanoseconds, the unit every tool measures and records in.
 */
#ifndef VMT_TIMEUTIL_H
#define VMT_TIMEUTIL_H

#include <stdint.h>

/* CLOCK_MONOTONIC: intervals, deadlines, throughput. */
uint64_t vmt_monotonic_ns(void);
/* CLOCK_REALTIME: timestamps that go into streams. */
uint64_t vmt_realtime_ns(void);

#endif
