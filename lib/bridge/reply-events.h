/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The return path's replies (migstream(5), RETURN PATH) as events of the
 * flight recorder (vfio-mig-events(5)): the load records what it sends,
 * the save what it receives, in the same words.
 */
#ifndef VMT_REPLY_EVENTS_H
#define VMT_REPLY_EVENTS_H

#include <stdbool.h>

#include "common/events.h"
#include "stream/reply.h"

/* A SWITCHOVER_ACK for device (the name the tool was given), sent or received. */
void vmt_events_ack(struct vmt_events *ev, bool sent, const char *device,
		    const struct migstream_switchover_ack *ack);
/* A LOAD_RESULT, sent or received. */
void vmt_events_load_result(struct vmt_events *ev, bool sent,
			    const struct migstream_load_result *result);

#endif
