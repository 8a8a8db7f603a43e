// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A device's pre-copy figures as a PRECOPY_INFO record; see precopy-sample.h.
 */
#include "bridge/precopy-sample.h"
#include "common/timeutil.h"
#include "vfio/mig.h"

int vmt_precopy_sample(struct vmt_device *dev, uint32_t index, struct migstream_precopy_info *info,
		       uint32_t *flags)
{
	int ret;

	*info = (struct migstream_precopy_info){ .device = index, .state = dev->state };
	ret = vmt_mig_precopy_info(dev, &info->initial_bytes, &info->dirty_bytes, flags);
	if (ret < 0)
		return ret;
	info->time_ns = vmt_realtime_ns();
	if (vmt_mig_stop_copy_size(dev, &info->stop_copy_size) < 0)
		info->stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;
	return 0;
}
