// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pre-copy shared by the tools; see precopy.h.
 */
#include "precopy.h"
#include "timeutil.h"
#include "vfio-mig.h"

uint32_t vmt_precopy_state_for(uint32_t running_state)
{
	switch (running_state) {
	case VFIO_DEVICE_STATE_RUNNING:
		return VFIO_DEVICE_STATE_PRE_COPY;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		return VFIO_DEVICE_STATE_PRE_COPY_P2P;
	default:
		return VMT_STATE_UNKNOWN;
	}
}

int vmt_precopy_sample(struct vmt_device *dev, uint32_t index, struct migstream_precopy_info *info)
{
	return vmt_precopy_sample_flags(dev, index, info, NULL);
}

int vmt_precopy_sample_flags(struct vmt_device *dev, uint32_t index, struct migstream_precopy_info *info,
			     uint32_t *flags)
{
	int ret;

	*info = (struct migstream_precopy_info){ .device = index, .state = dev->state };
	ret = vmt_mig_precopy_info_flags(dev, &info->initial_bytes, &info->dirty_bytes, flags);
	if (ret < 0)
		return ret;
	info->time_ns = vmt_realtime_ns();
	if (vmt_mig_stop_copy_size(dev, &info->stop_copy_size) < 0)
		info->stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;
	return 0;
}

void vmt_precopy_split_sample(struct vmt_precopy_split *s, uint64_t initial_bytes)
{
	if (!s->in_dirty)
		s->initial_left = initial_bytes;
}

size_t vmt_precopy_split_take(struct vmt_precopy_split *s, size_t len)
{
	size_t initial = 0;

	if (!s->in_dirty)
		initial = len < s->initial_left ? len : (size_t)s->initial_left;
	s->initial_left -= initial;
	if (initial < len)
		s->in_dirty = true;
	return initial;
}
