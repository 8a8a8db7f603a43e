// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rate of new device state between two samples.
 */
#include "sample.h"

void precopy_sample_rate(const struct precopy_sample *prev, struct precopy_sample *cur)
{
	cur->rate_known = false;
	if (!prev || cur->t <= prev->t || cur->reinit)
		return;
	/*
	 * What the device has pending grows by what became dirty and shrinks
	 * by what was read, so new state = growth + drained. Reading can race
	 * the device reporting, so a negative result is clamped to zero.
	 */
	double pending_now = (double)cur->initial_bytes + (double)cur->dirty_bytes;
	double pending_then = (double)prev->initial_bytes + (double)prev->dirty_bytes;
	double created = pending_now - pending_then + (double)cur->drained_bytes;

	cur->rate = created > 0 ? created / (cur->t - prev->t) : 0;
	cur->rate_known = true;
}
