/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Between the device layer and the stream format: a VFIO device as the
 * DEVICE record that describes it. Neither side knows the other; this
 * module knows both.
 */
#ifndef VMT_DEVICE_RECORD_H
#define VMT_DEVICE_RECORD_H

#include <stdint.h>

#include "stream/migstream.h"
#include "vfio/device.h"

/*
 * The DEVICE record for this device, numbered index in its stream:
 * identity and migration flags; stop_copy_size is left to the caller
 * (MIGSTREAM_SIZE_UNKNOWN here).
 */
void vmt_device_fill_record(const struct vmt_device *dev, uint32_t index,
			    struct migstream_device *rec);

#endif
