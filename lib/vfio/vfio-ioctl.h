/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One function per VFIO ioctl the project uses. Each builds its argument
 * with designated initialisers and .argsz = sizeof, traces the call at
 * -vv naming the ioctl, and returns 0 (or a non-negative result where
 * noted) or -errno. No policy here: lib/vfio/mig.h and lib/vfio/device.h
 * decide what a result means.
 */
#ifndef VMT_VFIO_IOCTL_H
#define VMT_VFIO_IOCTL_H

#include <stddef.h>
#include <stdint.h>

#include "vfio/uapi/vfio-uapi.h"

/* ---- container (/dev/vfio/vfio) and group (/dev/vfio/N) ---- */

/* The API version (VFIO_API_VERSION is 0) or -errno. */
int vmt_vfio_get_api_version(int container_fd);
/* 1 when the container supports extension ext (e.g. VFIO_TYPE1v2_IOMMU), 0 if not, or -errno. */
int vmt_vfio_check_extension(int container_fd, unsigned long ext);
int vmt_vfio_set_iommu(int container_fd, unsigned long iommu_type);
/* *flags gets VFIO_GROUP_FLAGS_*. */
int vmt_vfio_group_get_status(int group_fd, uint32_t *flags);
int vmt_vfio_group_set_container(int group_fd, int container_fd);
/* A device fd (>= 0) for the device named name (BDF or mdev UUID), or -errno. */
int vmt_vfio_group_get_device_fd(int group_fd, const char *name);

/* ---- device ---- */

int vmt_vfio_device_reset(int device_fd);
/* cdev path: bind to an iommufd, then attach to an IOAS or HWPT. */
int vmt_vfio_device_bind_iommufd(int device_fd, int iommufd, uint32_t *out_devid);
int vmt_vfio_device_attach_iommufd_pt(int device_fd, uint32_t pt_id);

/* ---- VFIO_DEVICE_FEATURE, generic ---- */

/* The largest feature payload the generic helpers carry. */
#define VMT_VFIO_FEATURE_MAX_DATA 256

/*
 * 0 when the device supports feature for the operations in ops
 * (VFIO_DEVICE_FEATURE_GET and/or _SET), -ENOTTY/-EINVAL/-EOPNOTSUPP when not.
 */
int vmt_vfio_feature_probe(int device_fd, uint32_t feature, uint32_t ops);
/* GET copies len bytes of the feature's data into data. */
int vmt_vfio_feature_get(int device_fd, uint32_t feature, void *data, size_t len);
/* SET from data; data is copied back (SET may return values, e.g. data_fd). */
int vmt_vfio_feature_set(int device_fd, uint32_t feature, void *data, size_t len);

/* ---- typed features ---- */

/* VFIO_DEVICE_FEATURE_MIGRATION: *flags = VFIO_MIGRATION_*. */
int vmt_vfio_mig_get_flags(int device_fd, uint64_t *flags);
/* VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE GET. */
int vmt_vfio_mig_get_state(int device_fd, uint32_t *state);
/*
 * VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE SET; *data_fd (may be NULL) gets the
 * new data fd, or -1 when the arc does not create one.
 */
int vmt_vfio_mig_set_state(int device_fd, uint32_t state, int *data_fd);
/* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: the device's estimate of its STOP_COPY size. */
int vmt_vfio_mig_get_data_size(int device_fd, uint64_t *stop_copy_length);
/*
 * VFIO_MIG_GET_PRECOPY_INFO, on the data fd (not the device fd). *flags
 * (may be NULL) gets the output flags, meaningful only after the
 * PRECOPY_INFOv2 opt-in (before it a kernel echoes what it was given: 0).
 */
int vmt_vfio_mig_get_precopy_info(int data_fd, uint64_t *initial_bytes, uint64_t *dirty_bytes,
				  uint32_t *flags);
/* VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2: PROBE, then SET with no data. */
int vmt_vfio_mig_enable_precopy_info_v2(int device_fd);

/* DMA logging (device dirty tracking of guest memory). */
/*
 * *page_size is in/out: the device may track at another granularity (mlx5
 * rounds up) and the kernel copies the one it chose back.
 */
int vmt_vfio_dma_logging_start(int device_fd, uint64_t *page_size,
			       const struct vfio_device_feature_dma_logging_range *ranges,
			       uint32_t num_ranges);
int vmt_vfio_dma_logging_stop(int device_fd);
/* bitmap: one bit per page of [iova, iova + length), 64-bit words. */
int vmt_vfio_dma_logging_report(int device_fd, uint64_t iova, uint64_t length, uint64_t page_size,
				uint64_t *bitmap);

/*
 * ---- as the caller built them ----
 * vfio-mig-check asks the kernel questions with wrong sizes and flags on
 * purpose, to see it refuse them: these pass the caller's struct as it is
 * (argsz included) and only trace and return the answer (-errno or >= 0).
 * Everyone else uses the functions above.
 */
int vmt_vfio_device_feature_raw(int device_fd, struct vfio_device_feature *feature);
int vmt_vfio_device_bind_iommufd_raw(int device_fd, struct vfio_device_bind_iommufd *bind);
int vmt_vfio_device_attach_iommufd_pt_raw(int device_fd,
					  struct vfio_device_attach_iommufd_pt *attach);
int vmt_vfio_device_get_info_raw(int device_fd, struct vfio_device_info *info);
int vmt_vfio_mig_get_precopy_info_raw(int data_fd, struct vfio_precopy_info *info);
int vmt_vfio_group_get_status_raw(int group_fd, struct vfio_group_status *status);

#endif
