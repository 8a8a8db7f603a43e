// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Thin wrappers over the VFIO ioctls; see vfio-ioctl.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/log.h"
#include "vfio/vfio-ioctl.h"

static int vfio_ioctl_result(int ret, const char *what, int fd)
{
	int err = ret < 0 ? -errno : ret;

	vmt_trace("vfio: %s on fd %d: %s", what, fd, err < 0 ? strerror(-err) : "ok");
	return err;
}

int vmt_vfio_get_api_version(int container_fd)
{
	return vfio_ioctl_result(ioctl(container_fd, VFIO_GET_API_VERSION), "VFIO_GET_API_VERSION",
				 container_fd);
}

int vmt_vfio_check_extension(int container_fd, unsigned long ext)
{
	return vfio_ioctl_result(ioctl(container_fd, VFIO_CHECK_EXTENSION, ext),
				 "VFIO_CHECK_EXTENSION", container_fd);
}

int vmt_vfio_set_iommu(int container_fd, unsigned long iommu_type)
{
	return vfio_ioctl_result(ioctl(container_fd, VFIO_SET_IOMMU, iommu_type), "VFIO_SET_IOMMU",
				 container_fd);
}

int vmt_vfio_group_get_status(int group_fd, uint32_t *flags)
{
	struct vfio_group_status status = {
		.argsz = sizeof(status),
	};
	int ret = vfio_ioctl_result(ioctl(group_fd, VFIO_GROUP_GET_STATUS, &status),
				    "VFIO_GROUP_GET_STATUS", group_fd);

	if (ret == 0)
		*flags = status.flags;
	return ret;
}

int vmt_vfio_group_set_container(int group_fd, int container_fd)
{
	return vfio_ioctl_result(ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container_fd),
				 "VFIO_GROUP_SET_CONTAINER", group_fd);
}

int vmt_vfio_group_get_device_fd(int group_fd, const char *name)
{
	return vfio_ioctl_result(ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, name),
				 "VFIO_GROUP_GET_DEVICE_FD", group_fd);
}

int vmt_vfio_device_reset(int device_fd)
{
	return vfio_ioctl_result(ioctl(device_fd, VFIO_DEVICE_RESET), "VFIO_DEVICE_RESET",
				 device_fd);
}

int vmt_vfio_device_bind_iommufd(int device_fd, int iommufd, uint32_t *out_devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int ret = vfio_ioctl_result(ioctl(device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind),
				    "VFIO_DEVICE_BIND_IOMMUFD", device_fd);

	if (ret == 0 && out_devid)
		*out_devid = bind.out_devid;
	return ret;
}

int vmt_vfio_device_attach_iommufd_pt(int device_fd, uint32_t pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = pt_id,
	};

	return vfio_ioctl_result(ioctl(device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach),
				 "VFIO_DEVICE_ATTACH_IOMMUFD_PT", device_fd);
}

/* struct vfio_device_feature ends in a flexible array: header and data share one aligned buffer. */
union feature_buf {
	struct vfio_device_feature hdr;
	uint64_t align[(sizeof(struct vfio_device_feature) + VMT_VFIO_FEATURE_MAX_DATA) / 8 + 1];
};

static const char *feature_name(uint32_t feature)
{
	switch (feature) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		return "MIGRATION";
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return "MIG_DEVICE_STATE";
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return "MIG_DATA_SIZE";
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
		return "DMA_LOGGING_START";
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
		return "DMA_LOGGING_STOP";
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return "DMA_LOGGING_REPORT";
	default:
		return "feature";
	}
}

static int device_feature(int device_fd, uint32_t flags, void *data, size_t len)
{
	union feature_buf buf;
	const char *op = (flags & VFIO_DEVICE_FEATURE_PROBE) ? "PROBE"
			 : (flags & VFIO_DEVICE_FEATURE_SET) ? "SET"
							     : "GET";
	uint32_t feature = flags & VFIO_DEVICE_FEATURE_MASK;
	int ret;

	if (len > VMT_VFIO_FEATURE_MAX_DATA)
		return -EINVAL;
	memset(&buf, 0, sizeof(buf));
	buf.hdr = (struct vfio_device_feature){
		.argsz = sizeof(buf.hdr) + len,
		.flags = flags,
	};
	if (len)
		memcpy(buf.hdr.data, data, len);
	ret = ioctl(device_fd, VFIO_DEVICE_FEATURE, &buf);
	if (ret < 0)
		ret = -errno;
	vmt_trace("vfio: VFIO_DEVICE_FEATURE %s %s (%u) on fd %d: %s", op, feature_name(feature),
		  feature, device_fd, ret < 0 ? strerror(-ret) : "ok");
	if (ret >= 0 && len)
		memcpy(data, buf.hdr.data, len);
	return ret < 0 ? ret : 0;
}

int vmt_vfio_feature_probe(int device_fd, uint32_t feature, uint32_t ops)
{
	return device_feature(device_fd, VFIO_DEVICE_FEATURE_PROBE | ops | feature, NULL, 0);
}

int vmt_vfio_feature_get(int device_fd, uint32_t feature, void *data, size_t len)
{
	return device_feature(device_fd, VFIO_DEVICE_FEATURE_GET | feature, data, len);
}

int vmt_vfio_feature_set(int device_fd, uint32_t feature, void *data, size_t len)
{
	return device_feature(device_fd, VFIO_DEVICE_FEATURE_SET | feature, data, len);
}

int vmt_vfio_mig_get_flags(int device_fd, uint64_t *flags)
{
	struct vfio_device_feature_migration mig = { .flags = 0 };
	int ret = vmt_vfio_feature_get(device_fd, VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig));

	if (ret == 0)
		*flags = mig.flags;
	return ret;
}

int vmt_vfio_mig_get_state(int device_fd, uint32_t *state)
{
	struct vfio_device_feature_mig_state mig = { .data_fd = -1 };
	int ret = vmt_vfio_feature_get(device_fd, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig,
				       sizeof(mig));

	if (ret == 0)
		*state = mig.device_state;
	return ret;
}

int vmt_vfio_mig_set_state(int device_fd, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = {
		.device_state = state,
		.data_fd = -1,
	};
	int ret = vmt_vfio_feature_set(device_fd, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig,
				       sizeof(mig));

	if (data_fd)
		*data_fd = ret == 0 ? mig.data_fd : -1;
	return ret;
}

int vmt_vfio_mig_get_data_size(int device_fd, uint64_t *stop_copy_length)
{
	struct vfio_device_feature_mig_data_size size = { .stop_copy_length = 0 };
	int ret = vmt_vfio_feature_get(device_fd, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size,
				       sizeof(size));

	if (ret == 0)
		*stop_copy_length = size.stop_copy_length;
	return ret;
}

int vmt_vfio_mig_enable_precopy_info_v2(int device_fd)
{
	int ret = vmt_vfio_feature_probe(device_fd, VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2,
					 VFIO_DEVICE_FEATURE_SET);

	if (ret == 0)
		ret = vmt_vfio_feature_set(device_fd, VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2, NULL,
					   0);
	return ret;
}

int vmt_vfio_mig_get_precopy_info(int data_fd, uint64_t *initial_bytes, uint64_t *dirty_bytes,
				  uint32_t *flags)
{
	struct vfio_precopy_info info = {
		.argsz = sizeof(info),
	};
	int ret = vfio_ioctl_result(ioctl(data_fd, VFIO_MIG_GET_PRECOPY_INFO, &info),
				    "VFIO_MIG_GET_PRECOPY_INFO", data_fd);

	if (ret == 0) {
		*initial_bytes = info.initial_bytes;
		*dirty_bytes = info.dirty_bytes;
		if (flags)
			*flags = info.flags;
	}
	return ret;
}

int vmt_vfio_dma_logging_start(int device_fd, uint64_t *page_size,
			       const struct vfio_device_feature_dma_logging_range *ranges,
			       uint32_t num_ranges)
{
	struct vfio_device_feature_dma_logging_control control = {
		.page_size = *page_size,
		.num_ranges = num_ranges,
		.ranges = (uintptr_t)ranges,
	};
	int ret = vmt_vfio_feature_set(device_fd, VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &control,
				       sizeof(control));

	if (ret == 0)
		*page_size = control.page_size;
	return ret;
}

int vmt_vfio_dma_logging_stop(int device_fd)
{
	return vmt_vfio_feature_set(device_fd, VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0);
}

int vmt_vfio_dma_logging_report(int device_fd, uint64_t iova, uint64_t length, uint64_t page_size,
				uint64_t *bitmap)
{
	struct vfio_device_feature_dma_logging_report report = {
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.bitmap = (uintptr_t)bitmap,
	};

	return vmt_vfio_feature_get(device_fd, VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &report,
				    sizeof(report));
}

int vmt_vfio_device_feature_raw(int device_fd, struct vfio_device_feature *feature)
{
	return vfio_ioctl_result(ioctl(device_fd, VFIO_DEVICE_FEATURE, feature),
				 "VFIO_DEVICE_FEATURE (as built)", device_fd);
}

int vmt_vfio_device_bind_iommufd_raw(int device_fd, struct vfio_device_bind_iommufd *bind)
{
	return vfio_ioctl_result(ioctl(device_fd, VFIO_DEVICE_BIND_IOMMUFD, bind),
				 "VFIO_DEVICE_BIND_IOMMUFD (as built)", device_fd);
}

int vmt_vfio_device_attach_iommufd_pt_raw(int device_fd,
					  struct vfio_device_attach_iommufd_pt *attach)
{
	return vfio_ioctl_result(ioctl(device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, attach),
				 "VFIO_DEVICE_ATTACH_IOMMUFD_PT (as built)", device_fd);
}

int vmt_vfio_device_get_info_raw(int device_fd, struct vfio_device_info *info)
{
	return vfio_ioctl_result(ioctl(device_fd, VFIO_DEVICE_GET_INFO, info),
				 "VFIO_DEVICE_GET_INFO (as built)", device_fd);
}

int vmt_vfio_mig_get_precopy_info_raw(int data_fd, struct vfio_precopy_info *info)
{
	return vfio_ioctl_result(ioctl(data_fd, VFIO_MIG_GET_PRECOPY_INFO, info),
				 "VFIO_MIG_GET_PRECOPY_INFO (as built)", data_fd);
}

int vmt_vfio_group_get_status_raw(int group_fd, struct vfio_group_status *status)
{
	return vfio_ioctl_result(ioctl(group_fd, VFIO_GROUP_GET_STATUS, status),
				 "VFIO_GROUP_GET_STATUS (as built)", group_fd);
}
