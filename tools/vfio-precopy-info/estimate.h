/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Will pre-copy converge, and what will stop-copy cost? A first-order model,
 * stated as an estimate with its inputs:
 *
 *   pending   initial_bytes + dirty_bytes when sampling started, or at
 *             the last REINIT (pre-copy info v2): a new initial section
 *             starts pre-copy again, and what came before it is done
 *   rate      new device state per second (measured: growth of pending plus
 *             what was drained in between, over the sampled time since
 *             the same point)
 *   B         the link bandwidth the user expects (--bandwidth)
 *
 * Iterative pre-copy converges when rate < B: each round sends what the
 * previous one left, and what is left shrinks by rate/B each round. It then
 * takes about pending / (B - rate) seconds. Stop-copy sends what the device
 * says it will (MIG_DATA_SIZE) at B: that time is the device's part of the
 * downtime, compared with the target (--downtime).
 */
#ifndef VMT_PRECOPY_ESTIMATE_H
#define VMT_PRECOPY_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>

struct precopy_estimate_input {
	double bandwidth;	  /* bytes/s, > 0 */
	double downtime_target_s; /* > 0 */
	uint64_t pending_bytes;	  /* initial + dirty at the first sample */
	bool rate_known;	  /* at least two samples */
	double rate;		  /* new bytes/s */
	bool stop_copy_known;
	uint64_t stop_copy_bytes; /* MIG_DATA_SIZE at the last sample */
	/* REINITs seen; the figures above start at the last one, since_s into the run. */
	unsigned int reinits;
	double since_s;
};

struct precopy_estimate {
	bool converges_known; /* false when the rate is unknown */
	bool converges;
	double rate_share;     /* rate / bandwidth */
	double precopy_time_s; /* when it converges */
	bool stop_copy_known;
	double stop_copy_time_s;
	bool meets_downtime;
};

void precopy_estimate(const struct precopy_estimate_input *in, struct precopy_estimate *out);

#endif
