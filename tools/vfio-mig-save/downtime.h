/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The expected stop-copy time, as QEMU's downtime-limit takes it: what the
 * devices say is left over the measured rate of the slowest path.
 */
#ifndef VMT_SAVE_DOWNTIME_H
#define VMT_SAVE_DOWNTIME_H

#include "save.h"

/*
 * After a pre-copy sample of every device: each device's bytes left
 * (MIG_DATA_SIZE asked now where the device answers, else the pre-copy
 * info's initial + dirty) into sd->left_bytes, and the estimate from them.
 */
void downtime_estimate(struct save_ctx *ctx, struct save_estimate *e);

/* Whether --downtime-limit is met by e. */
bool downtime_fits(const struct save_ctx *ctx, const struct save_estimate *e);

#endif
