/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two ways iommufd-dirty learns which pages were written by DMA:
 *
 *   iommu   an iommufd HWPT allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
 *           either set up here (standalone: device bound to a new iommufd,
 *           IOAS, HWPT, the watched memory mapped) or inherited from whoever
 *           owns it (--iommufd-fd, --hwpt);
 *   device  VFIO DMA logging, for devices that track their own writes.
 *
 * Functions print one clear error line themselves (this is tool code, not
 * lib/) and return -errno: -EOPNOTSUPP means "the host or device cannot do
 * this" (exit 3), -EDOM "the ranges given are not whole IO pages" (exit 2). A tracker remembers what it created and enabled, and
 * dirty_tracker_close() undoes exactly that and nothing else.
 */
#ifndef IOMMUFD_DIRTY_TRACKER_H
#define IOMMUFD_DIRTY_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/device.h"
#include "ranges.h"

enum dirty_backend {
	DIRTY_BACKEND_IOMMU,
	DIRTY_BACKEND_DEVICE,
};

struct dirty_mapping {
	void *va;
	uint64_t iova;
	uint64_t length;
	bool mapped; /* in the IOAS */
};

struct dirty_tracker {
	enum dirty_backend backend;
	bool inherited;
	/* For messages: the device as the user named it, or "hwpt N". */
	char what[128];

	struct vmt_device *dev; /* standalone iommu and device backends */
	int iommufd;
	uint32_t hwpt_id;
	bool hwpt_created;
	bool hwpt_attached;

	struct dirty_mapping *maps;
	size_t nmaps;

	/* The finest page size the tracker reports at; 0 when not known. */
	uint64_t io_page_size;
	/* Set by _start when tracking was switched on here: _stop switches it off. */
	bool tracking_enabled;
};

/*
 * Standalone iommu: open device (a cdev, BDF or UUID with a cdev), check
 * IOMMU_GET_HW_INFO for dirty tracking, allocate the HWPT, attach, and map
 * maps (anonymous memory, "memfd" or a file) at their IOVAs.
 */
int dirty_tracker_open_iommu(struct dirty_tracker *t, const char *device,
			     const struct dirty_range_list *maps);
/* Inherited iommu: someone else's iommufd and HWPT; nothing is created. */
int dirty_tracker_open_inherited(struct dirty_tracker *t, int iommufd, uint32_t hwpt_id);
/* Device backend: open device, check that it supports DMA logging. */
int dirty_tracker_open_device(struct dirty_tracker *t, const char *device);

/*
 * Switch tracking on for ranges at page_size (the iommu backend tracks the
 * whole HWPT and ignores both; an inherited HWPT is switched on only when
 * enable is set: by default its owner did that).
 */
int dirty_tracker_start(struct dirty_tracker *t, const struct dirty_range_list *ranges,
			uint64_t page_size, bool enable);
/*
 * The dirty bits of [iova, iova + length) at page_size into bitmap (which
 * this zeroes first: the kernel only sets bits). clear = false peeks
 * (IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR; refused by the device backend,
 * whose REPORT always clears).
 */
int dirty_tracker_read(struct dirty_tracker *t, uint64_t iova, uint64_t length, uint64_t page_size,
		       bool clear, uint64_t *bitmap);
/*
 * The smallest page size the inherited HWPT accepts at iova: found by
 * peeking (NO_CLEAR) at growing power-of-two lengths; the kernel refuses
 * lengths that are not multiples of the IOAS's IO page alignment.
 */
int dirty_tracker_probe_page_size(struct dirty_tracker *t, uint64_t iova, uint64_t max_length,
				  uint64_t *page_size);
/* Switch off what _start switched on. Safe to call twice. */
int dirty_tracker_stop(struct dirty_tracker *t);
/* Undo what _open created (after _stop); never touches inherited objects. */
void dirty_tracker_close(struct dirty_tracker *t);

#endif
