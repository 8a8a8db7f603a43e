// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Two trackers of the same DMA: the device's own logging (DMA_LOGGING_*)
 * and the IOMMU's dirty bits (a dirty-tracking HWPT), over one mapped
 * range of DEV.  Where a device has both, a page the device wrote is dirty
 * in both bitmaps; they must agree page for page at the device's logging
 * granule.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "vfio/iommufd-ioctl.h"
#include "vfio/vfio-ioctl.h"
#include "groups.h"
#include "probe.h"
#include "results.h"

#define CROSS_IOVA 0x1000000ull
#define CROSS_LENGTH (64 * 1024ull)
#define CROSS_PAGE 4096ull
#define CROSS_WORDS (CROSS_LENGTH / CROSS_PAGE / 64 + 1)

struct cross {
	struct dev d;
	void *mem;
	uint32_t hwpt;
	uint64_t page_size; /* the device's logging granule */
	bool logging;
};

static int cross_setup(struct cross *c)
{
	struct vfio_device_feature_dma_logging_range range = {
		.iova = CROSS_IOVA,
		.length = CROSS_LENGTH,
	};
	uint64_t iova = CROSS_IOVA;
	int ret;

	c->mem = mmap(NULL, CROSS_LENGTH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	if (c->mem == MAP_FAILED)
		return -errno;
	ret = vmt_iommufd_ioas_map(c->d.iommufd, c->d.ioas,
				   IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
					   IOMMU_IOAS_MAP_WRITEABLE,
				   c->mem, CROSS_LENGTH, &iova);
	if (!ret)
		ret = vmt_iommufd_hwpt_alloc(c->d.iommufd, c->d.devid, c->d.ioas,
					     IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &c->hwpt);
	if (!ret)
		ret = vmt_vfio_device_attach_iommufd_pt(c->d.fd, c->hwpt);
	if (!ret)
		ret = vmt_iommufd_hwpt_set_dirty_tracking(c->d.iommufd, c->hwpt, true);
	c->page_size = CROSS_PAGE;
	if (!ret)
		ret = vmt_vfio_dma_logging_start(c->d.fd, &c->page_size, &range, 1);
	c->logging = !ret;
	return ret;
}

static unsigned int count_bits(const uint64_t *words, size_t n)
{
	unsigned int total = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += (unsigned int)__builtin_popcountll(words[i]);
	return total;
}

static void cross_compare(struct cross *c)
{
	uint64_t device[CROSS_WORDS] = { 0 }, iommu[CROSS_WORDS] = { 0 };
	int ret;

	ret = vmt_vfio_dma_logging_report(c->d.fd, CROSS_IOVA, CROSS_LENGTH, c->page_size, device);
	if (!check_err(ret, 0, "DMA_LOGGING_REPORT of the range",
		       "vfio_ioctl_device_feature_logging_report"))
		return;
	ret = vmt_iommufd_hwpt_get_dirty_bitmap(c->d.iommufd, c->hwpt, CROSS_IOVA, CROSS_LENGTH,
						c->page_size, 0, iommu);
	if (!check_err(ret, 0, "IOMMU_HWPT_GET_DIRTY_BITMAP of the range",
		       "iommufd_hwpt_get_dirty_bitmap"))
		return;
	diag("dirty pages of %llu bytes at %llu-byte pages: device log %u, IOMMU %u", CROSS_LENGTH,
	     (unsigned long long)c->page_size, count_bits(device, CROSS_WORDS),
	     count_bits(iommu, CROSS_WORDS));
	check(!memcmp(device, iommu, sizeof(device)),
	      "the device's DMA log and the IOMMU's dirty bitmap agree page for page "
	      "(device %u dirty, IOMMU %u)",
	      count_bits(device, CROSS_WORDS), count_bits(iommu, CROSS_WORDS));
}

void group_dmacross(void)
{
	struct cross c = { .mem = MAP_FAILED };
	int ret;

	if (!dev_open_checked(&c.d, conf.cdev[0]))
		goto out;
	ret = cross_setup(&c);
	if (check_err(ret, 0, "map, dirty-tracking HWPT, attach, enable, DMA_LOGGING_START",
		      "vfio_ioctl_device_feature_logging_start"))
		cross_compare(&c);
	if (c.logging)
		check_err(vmt_vfio_dma_logging_stop(c.d.fd), 0, "DMA_LOGGING_STOP",
			  "vfio_ioctl_device_feature_logging_stop");
out:
	dev_close(&c.d);
	if (c.mem != MAP_FAILED)
		munmap(c.mem, CROSS_LENGTH);
}
