// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Thin wrappers over the iommufd ioctls; see iommufd-ioctl.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vfio/iommufd-ioctl.h"
#include "common/log.h"

static int iommufd_call(int iommufd, unsigned long request, void *arg, const char *what)
{
	int ret = ioctl(iommufd, request, arg);

	if (ret < 0)
		ret = -errno;
	vmt_trace("iommufd: %s on fd %d: %s", what, iommufd, ret < 0 ? strerror(-ret) : "ok");
	return ret < 0 ? ret : 0;
}

int vmt_iommufd_destroy(int iommufd, uint32_t id)
{
	struct iommu_destroy cmd = {
		.size = sizeof(cmd),
		.id = id,
	};

	return iommufd_call(iommufd, IOMMU_DESTROY, &cmd, "IOMMU_DESTROY");
}

int vmt_iommufd_ioas_alloc(int iommufd, uint32_t *out_ioas_id)
{
	struct iommu_ioas_alloc cmd = {
		.size = sizeof(cmd),
	};
	int ret = iommufd_call(iommufd, IOMMU_IOAS_ALLOC, &cmd, "IOMMU_IOAS_ALLOC");

	if (ret == 0)
		*out_ioas_id = cmd.out_ioas_id;
	return ret;
}

int vmt_iommufd_ioas_map(int iommufd, uint32_t ioas_id, uint32_t flags, void *va, uint64_t length,
			 uint64_t *iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = length,
		.iova = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? *iova : 0,
	};
	int ret = iommufd_call(iommufd, IOMMU_IOAS_MAP, &cmd, "IOMMU_IOAS_MAP");

	if (ret == 0)
		*iova = cmd.iova;
	return ret;
}

int vmt_iommufd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t length,
			   uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int ret = iommufd_call(iommufd, IOMMU_IOAS_UNMAP, &cmd, "IOMMU_IOAS_UNMAP");

	if (ret == 0 && unmapped)
		*unmapped = cmd.length;
	return ret;
}

int vmt_iommufd_ioas_iova_ranges(int iommufd, uint32_t ioas_id, struct iommu_iova_range *ranges,
				 uint32_t *num_ranges, uint64_t *out_alignment)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = *num_ranges,
		.allowed_iovas = (uintptr_t)ranges,
	};
	int ret = iommufd_call(iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd, "IOMMU_IOAS_IOVA_RANGES");

	/* EMSGSIZE still reports how many ranges there are. */
	if (ret == 0 || ret == -EMSGSIZE)
		*num_ranges = cmd.num_iovas;
	if ((ret == 0 || ret == -EMSGSIZE) && out_alignment)
		*out_alignment = cmd.out_iova_alignment;
	return ret;
}

int vmt_iommufd_get_hw_info(int iommufd, uint32_t dev_id, uint64_t *capabilities,
			    uint32_t *data_type)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
	};
	int ret = iommufd_call(iommufd, IOMMU_GET_HW_INFO, &cmd, "IOMMU_GET_HW_INFO");

	if (ret == 0) {
		if (capabilities)
			*capabilities = cmd.out_capabilities;
		if (data_type)
			*data_type = cmd.out_data_type;
	}
	return ret;
}

int vmt_iommufd_hwpt_alloc(int iommufd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
			   uint32_t *out_hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};
	int ret = iommufd_call(iommufd, IOMMU_HWPT_ALLOC, &cmd, "IOMMU_HWPT_ALLOC");

	if (ret == 0)
		*out_hwpt_id = cmd.out_hwpt_id;
	return ret;
}

int vmt_iommufd_hwpt_set_dirty_tracking(int iommufd, uint32_t hwpt_id, bool enable)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = enable ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt_id,
	};

	return iommufd_call(iommufd, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd,
			    "IOMMU_HWPT_SET_DIRTY_TRACKING");
}

int vmt_iommufd_hwpt_get_dirty_bitmap(int iommufd, uint32_t hwpt_id, uint64_t iova, uint64_t length,
				      uint64_t page_size, uint32_t flags, uint64_t *bitmap)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.flags = flags,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.data = (uintptr_t)bitmap,
	};

	return iommufd_call(iommufd, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd,
			    "IOMMU_HWPT_GET_DIRTY_BITMAP");
}

int vmt_iommufd_ioas_alloc_raw(int iommufd, struct iommu_ioas_alloc *cmd)
{
	return iommufd_call(iommufd, IOMMU_IOAS_ALLOC, cmd, "IOMMU_IOAS_ALLOC (as built)");
}

int vmt_iommufd_ioas_map_raw(int iommufd, struct iommu_ioas_map *cmd)
{
	return iommufd_call(iommufd, IOMMU_IOAS_MAP, cmd, "IOMMU_IOAS_MAP (as built)");
}

int vmt_iommufd_hwpt_set_dirty_tracking_raw(int iommufd, struct iommu_hwpt_set_dirty_tracking *cmd)
{
	return iommufd_call(iommufd, IOMMU_HWPT_SET_DIRTY_TRACKING, cmd,
			    "IOMMU_HWPT_SET_DIRTY_TRACKING (as built)");
}

int vmt_iommufd_hwpt_get_dirty_bitmap_raw(int iommufd, void *cmd)
{
	return iommufd_call(iommufd, IOMMU_HWPT_GET_DIRTY_BITMAP, cmd,
			    "IOMMU_HWPT_GET_DIRTY_BITMAP (as built)");
}
