/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the save engine tells its flight recorder (--events,
 * vfio-mig-events(5)) besides the state arcs lib/vfio/mig reports itself:
 * pre-copy rounds, the switchover, each device's stop-copy read, each
 * channel's throughput every second and its end. Nothing is recorded
 * without --events (ctx->events NULL).
 */
#ifndef VMT_SAVE_EVENTS_H
#define VMT_SAVE_EVENTS_H

#include <stdint.h>

#include "stream/migstream.h"
#include "save.h"

/* A device's GET_PRECOPY_INFO after a pass (its bytes and time in sd->pass_*). */
void save_events_round(struct save_ctx *ctx, const struct save_device *sd,
		       const struct migstream_precopy_info *info, bool reinit);
/* The switchover begins (ctx->result.switch_ns): its trigger and what was left. */
void save_events_switchover(struct save_ctx *ctx);
/* Stop-copy done: the expected stop-copy time at the switchover against the measured one. */
void save_events_stop_copy(struct save_ctx *ctx);
/* A device's data of phase read to its end: bytes, from start_ns until now. */
void save_events_device_data(struct save_ctx *ctx, const struct save_device *sd,
			     enum migstream_phase phase, uint64_t bytes, uint64_t start_ns);
/* Each channel's bytes out since the last sample, once a second at most (main thread). */
void save_events_tick(struct save_ctx *ctx);
/* STREAM_END written on every channel: the last sample and each channel's total. */
void save_events_channels_done(struct save_ctx *ctx);

#endif
