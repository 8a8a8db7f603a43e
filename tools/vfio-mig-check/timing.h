/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the checks measure on the way: how long each FSM arc took (the
 * SET ioctl, as the fsm group walks every pair) and how fast the data fd
 * reads.  Reported, never checked: the figures depend on the machine.
 */
#ifndef VMC_TIMING_H
#define VMC_TIMING_H

#include <stddef.h>
#include <stdint.h>

struct arc_timing {
	uint32_t from, to;
	unsigned int count;
	uint64_t min_ns, max_ns, total_ns;
};

/* A successful SET from -> to that took ns. */
void timing_arc(uint32_t from, uint32_t to, uint64_t ns);
/* bytes read from a data fd in ns (one read-to-the-end). */
void timing_read(uint64_t bytes, uint64_t ns);

const struct arc_timing *timing_arcs(unsigned int *count);
/* Totals of timing_read(): bytes and nanoseconds. */
void timing_read_totals(uint64_t *bytes, uint64_t *ns);
/* The table as TAP comments (diag). */
void timing_report(void);

#endif
