/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What tracker.c dispatches to in tracker-iommu.c and tracker-device.c.
 */
#ifndef IOMMUFD_DIRTY_TRACKER_INTERNAL_H
#define IOMMUFD_DIRTY_TRACKER_INTERNAL_H

#include "tracker.h"

int dirty_tracker_iommu_set(struct dirty_tracker *t, bool enable);
int dirty_tracker_iommu_read(struct dirty_tracker *t, uint64_t iova, uint64_t length,
			     uint64_t page_size, bool clear, uint64_t *bitmap);
void dirty_tracker_iommu_close(struct dirty_tracker *t);

int dirty_tracker_device_start(struct dirty_tracker *t, const struct dirty_range_list *ranges,
			       uint64_t page_size);
int dirty_tracker_device_stop(struct dirty_tracker *t);
int dirty_tracker_device_read(struct dirty_tracker *t, uint64_t iova, uint64_t length,
			      uint64_t page_size, uint64_t *bitmap);

#endif
