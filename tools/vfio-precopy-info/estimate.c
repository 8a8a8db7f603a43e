// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The convergence and downtime estimate (see estimate.h for the model).
 */
#include "estimate.h"

void precopy_estimate(const struct precopy_estimate_input *in, struct precopy_estimate *out)
{
	*out = (struct precopy_estimate){ 0 };

	if (in->rate_known) {
		out->converges_known = true;
		out->rate_share = in->rate / in->bandwidth;
		out->converges = in->rate < in->bandwidth;
		if (out->converges)
			out->precopy_time_s =
				(double)in->pending_bytes / (in->bandwidth - in->rate);
	}
	if (in->stop_copy_known) {
		out->stop_copy_known = true;
		out->stop_copy_time_s = (double)in->stop_copy_bytes / in->bandwidth;
		out->meets_downtime = out->stop_copy_time_s <= in->downtime_target_s;
	}
}
