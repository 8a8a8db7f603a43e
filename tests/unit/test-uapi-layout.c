// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The uAPI structures and ioctl numbers this project passes to the kernel,
 * pinned to the kernel ABI (x86-64 and every other LP64 or ILP32 ABI with
 * 8-byte aligned __aligned_u64). Whether they come from the system headers
 * or from lib/uapi/, a wrong size or offset fails the build of this test
 * instead of turning into -EINVAL or a corrupted ioctl at run time.
 * The numbers are written out literally from the ABI on purpose.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>

#include "vfio/uapi/iommufd-uapi.h"
#include "vfio/uapi/vfio-uapi.h"

#define SIZE(type, n) static_assert(sizeof(struct type) == (n), "sizeof(struct " #type ") != " #n)
#define OFF(type, field, n)                                \
	static_assert(offsetof(struct type, field) == (n), \
		      "offsetof(struct " #type ", " #field ") != " #n)
#define NUM(macro, n) static_assert((macro) == (n), #macro " != " #n)

/* VFIO migration v2 and device features */
SIZE(vfio_device_feature, 8);
OFF(vfio_device_feature, flags, 4);
OFF(vfio_device_feature, data, 8);
SIZE(vfio_device_feature_migration, 8);
SIZE(vfio_device_feature_mig_state, 8);
OFF(vfio_device_feature_mig_state, data_fd, 4);
SIZE(vfio_precopy_info, 24);
OFF(vfio_precopy_info, flags, 4);
OFF(vfio_precopy_info, initial_bytes, 8);
OFF(vfio_precopy_info, dirty_bytes, 16);
SIZE(vfio_device_feature_mig_data_size, 8);
SIZE(vfio_device_feature_dma_logging_control, 24);
OFF(vfio_device_feature_dma_logging_control, num_ranges, 8);
OFF(vfio_device_feature_dma_logging_control, ranges, 16);
SIZE(vfio_device_feature_dma_logging_range, 16);
OFF(vfio_device_feature_dma_logging_range, length, 8);
SIZE(vfio_device_feature_dma_logging_report, 32);
OFF(vfio_device_feature_dma_logging_report, length, 8);
OFF(vfio_device_feature_dma_logging_report, page_size, 16);
OFF(vfio_device_feature_dma_logging_report, bitmap, 24);

/* VFIO device cdev + iommufd */
SIZE(vfio_device_bind_iommufd, 16);
OFF(vfio_device_bind_iommufd, iommufd, 8);
OFF(vfio_device_bind_iommufd, out_devid, 12);
SIZE(vfio_device_attach_iommufd_pt, 12);
OFF(vfio_device_attach_iommufd_pt, pt_id, 8);
SIZE(vfio_device_detach_iommufd_pt, 8);

/* iommufd */
SIZE(iommu_destroy, 8);
SIZE(iommu_ioas_alloc, 12);
OFF(iommu_ioas_alloc, out_ioas_id, 8);
SIZE(iommu_iova_range, 16);
SIZE(iommu_ioas_iova_ranges, 32);
OFF(iommu_ioas_iova_ranges, num_iovas, 8);
OFF(iommu_ioas_iova_ranges, allowed_iovas, 16);
OFF(iommu_ioas_iova_ranges, out_iova_alignment, 24);
SIZE(iommu_ioas_map, 40);
OFF(iommu_ioas_map, flags, 4);
OFF(iommu_ioas_map, ioas_id, 8);
OFF(iommu_ioas_map, user_va, 16);
OFF(iommu_ioas_map, length, 24);
OFF(iommu_ioas_map, iova, 32);
SIZE(iommu_ioas_unmap, 24);
OFF(iommu_ioas_unmap, iova, 8);
OFF(iommu_ioas_unmap, length, 16);
SIZE(iommu_hwpt_alloc, 48);
OFF(iommu_hwpt_alloc, dev_id, 8);
OFF(iommu_hwpt_alloc, pt_id, 12);
OFF(iommu_hwpt_alloc, out_hwpt_id, 16);
OFF(iommu_hwpt_alloc, data_type, 24);
OFF(iommu_hwpt_alloc, data_len, 28);
OFF(iommu_hwpt_alloc, data_uptr, 32);
OFF(iommu_hwpt_alloc, fault_id, 40);
SIZE(iommu_hw_info, 40);
OFF(iommu_hw_info, dev_id, 8);
OFF(iommu_hw_info, data_uptr, 16);
OFF(iommu_hw_info, out_data_type, 24);
OFF(iommu_hw_info, out_max_pasid_log2, 28);
OFF(iommu_hw_info, out_capabilities, 32);
SIZE(iommu_hwpt_set_dirty_tracking, 16);
OFF(iommu_hwpt_set_dirty_tracking, hwpt_id, 8);
SIZE(iommu_hwpt_get_dirty_bitmap, 48);
OFF(iommu_hwpt_get_dirty_bitmap, hwpt_id, 4);
OFF(iommu_hwpt_get_dirty_bitmap, flags, 8);
OFF(iommu_hwpt_get_dirty_bitmap, iova, 16);
OFF(iommu_hwpt_get_dirty_bitmap, length, 24);
OFF(iommu_hwpt_get_dirty_bitmap, page_size, 32);
OFF(iommu_hwpt_get_dirty_bitmap, data, 40);

/* ioctl numbers: _IO(';', nr) = 0x3b00 | nr (no size or direction bits) */
NUM(VFIO_DEVICE_FEATURE, 0x3b75);	    /* VFIO_BASE + 17 */
NUM(VFIO_DEVICE_BIND_IOMMUFD, 0x3b76);	    /* VFIO_BASE + 18 */
NUM(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3b77); /* VFIO_BASE + 19 */
NUM(VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3b78); /* VFIO_BASE + 20 */
NUM(VFIO_MIG_GET_PRECOPY_INFO, 0x3b79);	    /* VFIO_BASE + 21 */
NUM(IOMMU_DESTROY, 0x3b80);
NUM(IOMMU_IOAS_ALLOC, 0x3b81);
NUM(IOMMU_IOAS_IOVA_RANGES, 0x3b84);
NUM(IOMMU_IOAS_MAP, 0x3b85);
NUM(IOMMU_IOAS_UNMAP, 0x3b86);
NUM(IOMMU_HWPT_ALLOC, 0x3b89);
NUM(IOMMU_GET_HW_INFO, 0x3b8a);
NUM(IOMMU_HWPT_SET_DIRTY_TRACKING, 0x3b8b);
NUM(IOMMU_HWPT_GET_DIRTY_BITMAP, 0x3b8c);

/* feature numbers, flags and states */
NUM(VFIO_DEVICE_FEATURE_MIGRATION, 1);
NUM(VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, 2);
NUM(VFIO_DEVICE_FEATURE_DMA_LOGGING_START, 6);
NUM(VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, 7);
NUM(VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, 8);
NUM(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, 9);
NUM(VFIO_DEVICE_FEATURE_GET, 1 << 16);
NUM(VFIO_DEVICE_FEATURE_SET, 1 << 17);
NUM(VFIO_DEVICE_FEATURE_PROBE, 1 << 18);
NUM(VFIO_MIGRATION_STOP_COPY, 1 << 0);
NUM(VFIO_MIGRATION_P2P, 1 << 1);
NUM(VFIO_MIGRATION_PRE_COPY, 1 << 2);
NUM(VFIO_DEVICE_STATE_ERROR, 0);
NUM(VFIO_DEVICE_STATE_STOP, 1);
NUM(VFIO_DEVICE_STATE_RUNNING, 2);
NUM(VFIO_DEVICE_STATE_STOP_COPY, 3);
NUM(VFIO_DEVICE_STATE_RESUMING, 4);
NUM(VFIO_DEVICE_STATE_RUNNING_P2P, 5);
NUM(VFIO_DEVICE_STATE_PRE_COPY, 6);
NUM(VFIO_DEVICE_STATE_PRE_COPY_P2P, 7);
NUM(IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 1 << 1);
NUM(IOMMU_HW_CAP_DIRTY_TRACKING, 1 << 0);
NUM(IOMMU_HWPT_DIRTY_TRACKING_ENABLE, 1);
NUM(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, 1);
NUM(IOMMU_IOAS_MAP_FIXED_IOVA, 1 << 0);
NUM(IOMMU_IOAS_MAP_WRITEABLE, 1 << 1);
NUM(IOMMU_IOAS_MAP_READABLE, 1 << 2);

int main(void)
{
	/* Everything was checked at compile time. */
	printf("1..1\nok 1 - uAPI sizes, offsets and ioctl numbers match the kernel ABI\n");
	return 0;
}
