/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One pre-copy sample of a device as the stream records it: the bridge
 * between lib/vfio (the device's GET_PRECOPY_INFO and MIG_DATA_SIZE) and
 * lib/stream (struct migstream_precopy_info), used by vfio-mig-save and
 * vfio-precopy-info.
 */
#ifndef VMT_BRIDGE_PRECOPY_SAMPLE_H
#define VMT_BRIDGE_PRECOPY_SAMPLE_H

#include <stdint.h>

#include "stream/migstream.h"
#include "vfio/device.h"

/*
 * GET_PRECOPY_INFO and MIG_DATA_SIZE (MIGSTREAM_SIZE_UNKNOWN when the device
 * does not say) now, as the record for stream device index; GET_PRECOPY_INFO's
 * output flags (REINIT after the v2 opt-in) go to *flags unless it is NULL.
 * 0 or the -errno of GET_PRECOPY_INFO.
 */
int vmt_precopy_sample(struct vmt_device *dev, uint32_t index, struct migstream_precopy_info *info,
		       uint32_t *flags);

#endif
