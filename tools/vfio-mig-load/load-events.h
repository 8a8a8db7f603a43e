/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the load tells its flight recorder (--events, vfio-mig-events(5))
 * besides the state arcs lib/vfio/mig reports itself and the replies
 * (reply.c): each input channel's throughput every second, each device's
 * stop-copy data written. Nothing without --events (ld->events NULL).
 */
#ifndef VMT_LOAD_EVENTS_H
#define VMT_LOAD_EVENTS_H

#include "load.h"
#include "target.h"

/* After each record (main thread): its channel's position; once a second, the samples. */
void load_events_record_read(struct load *ld);
/* The stream is read: the last samples. */
void load_events_input_done(struct load *ld);
/* A device's writer, before RESUMING -> STOP: its stop-copy data, from the first chunk read. */
void load_events_device_written(struct load *ld, const struct load_target *t);

#endif
