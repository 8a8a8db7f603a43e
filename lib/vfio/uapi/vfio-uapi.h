/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VFIO uAPI this project needs.
 *
 * <linux/vfio.h> is always included; whatever an older system header lacks
 * (Debian bookworm ships 6.1: no PRE_COPY, no precopy info, no MIG_DATA_SIZE,
 * no iommufd cdev ioctls) is defined here from the kernel ABI. configure
 * detects each piece separately so a newer system header always wins.
 * tests/unit/test-uapi-layout.c pins every size and offset to the ABI.
 */
#ifndef VMT_UAPI_VFIO_H
#define VMT_UAPI_VFIO_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/vfio.h>

/* Migration v2 states added after 6.1 are enum members: configure tells. */
#if !HAVE_DECL_VFIO_DEVICE_STATE_PRE_COPY
#define VFIO_DEVICE_STATE_PRE_COPY 6
#endif
#if !HAVE_DECL_VFIO_DEVICE_STATE_PRE_COPY_P2P
#define VFIO_DEVICE_STATE_PRE_COPY_P2P 7
#endif
/* One past the highest state this project knows. */
#define VMT_VFIO_DEVICE_STATE_COUNT 8

#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY (1 << 2)
#endif

#if !HAVE_DECL_VFIO_MIG_GET_PRECOPY_INFO
struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};
#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)
#endif

/*
 * Pre-copy info v2 (after 6.12): a SET of this feature, with no data, opts
 * in to vfio_precopy_info.flags as an output; VFIO_PRECOPY_INFO_REINIT then
 * says that new initial data is on the stream (initial_bytes starts again,
 * dirty_bytes resets).
 */
#if !HAVE_DECL_VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOV2
#define VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 12
#endif
#if !HAVE_DECL_VFIO_PRECOPY_INFO_REINIT
#define VFIO_PRECOPY_INFO_REINIT (1 << 0)
#endif

#if !HAVE_DECL_VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
#endif

#if !HAVE_DECL_VFIO_DEVICE_FEATURE_DMA_LOGGING_START
struct vfio_device_feature_dma_logging_control {
	__aligned_u64 page_size;
	__u32 num_ranges;
	__u32 __reserved;
	__aligned_u64 ranges;
};

struct vfio_device_feature_dma_logging_range {
	__aligned_u64 iova;
	__aligned_u64 length;
};

struct vfio_device_feature_dma_logging_report {
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 bitmap;
};
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_START 6
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP 7
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT 8
#endif

#if !HAVE_DECL_VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#endif

#if !HAVE_DECL_VFIO_DEVICE_ATTACH_IOMMUFD_PT
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

#endif /* VMT_UAPI_VFIO_H */
