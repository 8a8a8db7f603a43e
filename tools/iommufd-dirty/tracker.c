// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One face for both backends: start, read, stop, close.
 */
#include <errno.h>
#include <string.h>

#include "stream/dirty-bitmap.h"
#include "tracker-internal.h"

int dirty_tracker_start(struct dirty_tracker *t, const struct dirty_range_list *ranges,
			uint64_t page_size, bool enable)
{
	int ret;

	if (t->backend == DIRTY_BACKEND_DEVICE)
		return dirty_tracker_device_start(t, ranges, page_size);
	/*
	 * Enabling clears every dirty bit of the HWPT (iopt_set_dirty_tracking):
	 * on an inherited HWPT that would throw away what its owner has not
	 * read yet, so it happens only when asked.
	 */
	if (t->inherited && !enable)
		return 0;
	ret = dirty_tracker_iommu_set(t, true);
	if (ret == 0)
		t->tracking_enabled = true;
	return ret;
}

int dirty_tracker_read(struct dirty_tracker *t, uint64_t iova, uint64_t length, uint64_t page_size,
		       bool clear, uint64_t *bitmap)
{
	/* The kernel ORs bits into the buffer (iova_bitmap_set), never clears it. */
	memset(bitmap, 0, dirty_bitmap_words(length / page_size) * sizeof(uint64_t));
	if (t->backend == DIRTY_BACKEND_DEVICE)
		return clear ? dirty_tracker_device_read(t, iova, length, page_size, bitmap)
			     : -EOPNOTSUPP;
	return dirty_tracker_iommu_read(t, iova, length, page_size, clear, bitmap);
}

int dirty_tracker_stop(struct dirty_tracker *t)
{
	int ret;

	if (!t->tracking_enabled)
		return 0;
	if (t->backend == DIRTY_BACKEND_DEVICE)
		ret = dirty_tracker_device_stop(t);
	else
		ret = dirty_tracker_iommu_set(t, false);
	/* Even when stopping failed: trying again at close would only fail again. */
	t->tracking_enabled = false;
	return ret;
}

void dirty_tracker_close(struct dirty_tracker *t)
{
	if (t->inherited)
		return;
	if (t->backend == DIRTY_BACKEND_IOMMU)
		dirty_tracker_iommu_close(t);
	if (t->dev)
		vmt_device_close(t->dev);
	t->dev = NULL;
}
