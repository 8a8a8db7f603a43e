/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One look at a device in PRE_COPY: what GET_PRECOPY_INFO and MIG_DATA_SIZE
 * say, how much was drained since the previous look, and the rate of new
 * device state that follows from the two.
 */
#ifndef VMT_PRECOPY_SAMPLE_H
#define VMT_PRECOPY_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

struct precopy_sample {
	double t;	  /* seconds since the device entered PRE_COPY */
	uint64_t time_ns; /* CLOCK_REALTIME, for stream records */
	uint32_t state;
	uint64_t initial_bytes;
	uint64_t dirty_bytes;
	bool stop_copy_known;
	uint64_t stop_copy_bytes;
	uint64_t drained_bytes; /* read from the data fd since the previous sample */
	uint64_t drained_total;
	/*
	 * VFIO_PRECOPY_INFO_REINIT: the device began a new initial section
	 * (initial_bytes starts again, dirty_bytes reset). Known only with
	 * pre-copy info v2; without it the device cannot say.
	 */
	bool reinit_known;
	bool reinit;
	/* (pending now - pending before + drained) / dt; from the 2nd sample */
	bool rate_known;
	double rate;
};

/*
 * Fill cur->rate from prev (NULL for the first sample). A REINIT sample
 * has no rate: its jump is a new section, not state made in the interval.
 */
void precopy_sample_rate(const struct precopy_sample *prev, struct precopy_sample *cur);

#endif
