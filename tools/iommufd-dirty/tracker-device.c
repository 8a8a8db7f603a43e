// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device backend: VFIO DMA logging, for devices that record their own
 * DMA writes (mlx5, pds).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vfio/vfio-ioctl.h"
#include "run-failure.h"
#include "tracker-internal.h"

/*
 * The core accepts as many ranges as fit in one kernel page
 * (LOG_MAX_RANGES in vfio_main.c; E2BIG above); drivers merge further
 * themselves (vfio_combine_iova_ranges) down to what the hardware tracks.
 */
static size_t log_max_ranges(void)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		page = 4096;
	return (size_t)page / sizeof(struct vfio_device_feature_dma_logging_range);
}

int dirty_tracker_open_device(struct dirty_tracker *t, const char *device)
{
	int ret;

	*t = (struct dirty_tracker){ .backend = DIRTY_BACKEND_DEVICE, .iommufd = -1 };
	snprintf(t->what, sizeof(t->what), "%s", device);
	ret = vmt_device_open(device, NULL, &t->dev);
	if (ret)
		return dirty_fail_device_open(device, ret);
	ret = vmt_vfio_feature_probe(t->dev->fd, VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
				     VFIO_DEVICE_FEATURE_SET);
	if (ret == -ENOTTY || ret == -EOPNOTSUPP || ret == -EINVAL) {
		return dirty_refuse(
			-EOPNOTSUPP, 0,
			"%s: the device does not support DMA logging "
			"(VFIO_DEVICE_FEATURE_DMA_LOGGING_START: %s); try --backend iommu",
			device, strerror(-ret));
	}
	if (ret)
		dirty_fail(ret, 0, "%s: probing VFIO_DEVICE_FEATURE_DMA_LOGGING_START", device);
	return ret;
}

int dirty_tracker_device_start(struct dirty_tracker *t, const struct dirty_range_list *ranges,
			       uint64_t page_size)
{
	size_t max = log_max_ranges(), n;
	uint64_t tracked_page_size = page_size;
	struct vfio_device_feature_dma_logging_range *vr;
	struct dirty_range *merged;
	int ret;

	merged = calloc(ranges->n < max ? ranges->n : max, sizeof(*merged));
	vr = calloc(ranges->n < max ? ranges->n : max, sizeof(*vr));
	if (!merged || !vr) {
		free(merged);
		free(vr);
		return -ENOMEM;
	}
	n = dirty_range_list_merge(ranges, max, merged);
	if (n < ranges->n)
		vmt_info("%s: %zu ranges merged into %zu for DMA logging (the kernel takes at "
			 "most %zu); reports still cover only the ranges given",
			 t->what, ranges->n, n, max);
	for (size_t i = 0; i < n; i++)
		vr[i] = (struct vfio_device_feature_dma_logging_range){
			.iova = merged[i].iova,
			.length = merged[i].length,
		};
	ret = vmt_vfio_dma_logging_start(t->dev->fd, &tracked_page_size, vr, (uint32_t)n);
	free(merged);
	free(vr);
	if (ret) {
		dirty_refuse(
			ret, 0,
			"%s: VFIO_DEVICE_FEATURE_DMA_LOGGING_START of %zu range(s) at page size "
			"%" PRIu64 ": %s%s",
			t->what, n, page_size, strerror(-ret),
			ret == -EBUSY ? " (logging already started by another user?)" : "");
		return ret;
	}
	t->tracking_enabled = true;
	/*
	 * The device may track coarser than asked (mlx5 rounds up); REPORT at
	 * the asked size then replicates its bits, so the records keep the
	 * user's page size and alignment.
	 */
	if (tracked_page_size != page_size)
		vmt_dbg("%s: device tracks %" PRIu64 "-byte pages, reporting at %" PRIu64, t->what,
			tracked_page_size, page_size);
	return 0;
}

int dirty_tracker_device_stop(struct dirty_tracker *t)
{
	int ret = vmt_vfio_dma_logging_stop(t->dev->fd);

	if (ret)
		dirty_fail(ret, 0, "%s: VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP", t->what);
	return ret;
}

int dirty_tracker_device_read(struct dirty_tracker *t, uint64_t iova, uint64_t length,
			      uint64_t page_size, uint64_t *bitmap)
{
	int ret = vmt_vfio_dma_logging_report(t->dev->fd, iova, length, page_size, bitmap);

	if (ret)
		dirty_fail(ret, 0,
			   "%s: VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT of IOVA 0x%" PRIx64
			   " length 0x%" PRIx64 " page size %" PRIu64 "",
			   t->what, iova, length, page_size);
	return ret;
}
