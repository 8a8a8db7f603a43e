/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lib/vfio/mig's observer that writes to a flight recorder: every state
 * arc, failed ioctl and recovery step of every device, as events of
 * vfio-mig-events(5). lib/vfio/mig itself knows nothing of the recorder.
 */
#ifndef VMT_VFIO_MIG_EVENTS_H
#define VMT_VFIO_MIG_EVENTS_H

#include "common/events.h"

/* From now on lib/vfio/mig's notes go to ev (NULL: nowhere). */
void vmt_mig_record_events(struct vmt_events *ev);

#endif
