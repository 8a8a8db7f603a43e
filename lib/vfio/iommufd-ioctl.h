/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One function per iommufd ioctl the project uses (on an fd of /dev/iommu).
 * Arguments are built with designated initialisers and .size = sizeof; each
 * call is traced at -vv; results are 0 or -errno.
 */
#ifndef VMT_IOMMUFD_IOCTL_H
#define VMT_IOMMUFD_IOCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "vfio/uapi/iommufd-uapi.h"

int vmt_iommufd_destroy(int iommufd, uint32_t id);
int vmt_iommufd_ioas_alloc(int iommufd, uint32_t *out_ioas_id);
/*
 * Map [va, va + length) into the IOAS. flags: IOMMU_IOAS_MAP_*; with
 * IOMMU_IOAS_MAP_FIXED_IOVA *iova is used as given, otherwise the kernel
 * picks one and *iova gets it.
 */
int vmt_iommufd_ioas_map(int iommufd, uint32_t ioas_id, uint32_t flags, void *va, uint64_t length,
			 uint64_t *iova);
/* *unmapped (may be NULL) gets the number of bytes unmapped. */
int vmt_iommufd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t length,
			   uint64_t *unmapped);
/*
 * The usable IOVA ranges: on entry *num_ranges is the capacity of ranges,
 * on return the number the kernel has (-EMSGSIZE when more than capacity;
 * *num_ranges then says how many, and *out_alignment is filled as well).
 */
int vmt_iommufd_ioas_iova_ranges(int iommufd, uint32_t ioas_id, struct iommu_iova_range *ranges,
				 uint32_t *num_ranges, uint64_t *out_alignment);
/* IOMMU_GET_HW_INFO for a bound device: IOMMU_HW_CAP_* and the driver data type. */
int vmt_iommufd_get_hw_info(int iommufd, uint32_t dev_id, uint64_t *capabilities,
			    uint32_t *data_type);
/* flags: IOMMU_HWPT_ALLOC_* (e.g. DIRTY_TRACKING); pt_id is an IOAS. */
int vmt_iommufd_hwpt_alloc(int iommufd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
			   uint32_t *out_hwpt_id);
int vmt_iommufd_hwpt_set_dirty_tracking(int iommufd, uint32_t hwpt_id, bool enable);
/*
 * Dirty bits of [iova, iova + length) at page_size into bitmap (bit i of
 * 64-bit words = page i); flags: IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR or 0.
 */
int vmt_iommufd_hwpt_get_dirty_bitmap(int iommufd, uint32_t hwpt_id, uint64_t iova, uint64_t length,
				      uint64_t page_size, uint32_t flags, uint64_t *bitmap);

/*
 * ---- as the caller built them ----
 * For vfio-mig-check, which gives the kernel wrong sizes and flags on
 * purpose: the caller's command goes as it is (its .size may lie).
 */
int vmt_iommufd_ioas_alloc_raw(int iommufd, struct iommu_ioas_alloc *cmd);
int vmt_iommufd_ioas_map_raw(int iommufd, struct iommu_ioas_map *cmd);
int vmt_iommufd_hwpt_set_dirty_tracking_raw(int iommufd, struct iommu_hwpt_set_dirty_tracking *cmd);
/* cmd: a struct iommu_hwpt_get_dirty_bitmap, possibly followed by more bytes */
int vmt_iommufd_hwpt_get_dirty_bitmap_raw(int iommufd, void *cmd);

#endif
