// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * DMA logging (the device's dirty tracking) and the iommufd side: IOAS
 * objects on a fresh iommufd, and the dirty-bitmap arguments of a
 * dirty-tracking HWPT, set up here on DEV or inherited (--iommufd-fd).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "groups.h"
#include "iommufd-ioctl.h"
#include "kversion.h"
#include "probe.h"
#include "results.h"

static int ioas_alloc(int iommufd, uint32_t size, uint32_t flags, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc alloc = { .size = size, .flags = flags };
	int ret = vmt_iommufd_ioas_alloc_raw(iommufd, &alloc);

	if (!ret)
		*ioas_id = alloc.out_ioas_id;
	return ret;
}

static int set_dirty_tracking(int iommufd, uint32_t hwpt_id, uint32_t flags)
{
	struct iommu_hwpt_set_dirty_tracking set = {
		.size = sizeof(set),
		.flags = flags,
		.hwpt_id = hwpt_id,
	};

	return vmt_iommufd_hwpt_set_dirty_tracking_raw(iommufd, &set);
}

/* with no room for ranges: the kernel fills the counts and says EMSGSIZE */
static int iova_ranges(int iommufd, uint32_t ioas_id, uint32_t *num_iovas, uint64_t *alignment)
{
	*num_iovas = 0;
	*alignment = 0;
	return vmt_iommufd_ioas_iova_ranges(iommufd, ioas_id, NULL, num_iovas, alignment);
}

/*
 * DMA logging: the core's checks in vfio_ioctl_device_feature_logging_*
 * (vfio_main.c).  mtty has log_ops that accept everything (mtty_log_start),
 * so only the core's own refusals and plain successes are checked.
 */
void group_dmalog(void)
{
	const uint32_t hdr = sizeof(struct vfio_device_feature);
	const uint32_t GET = VFIO_DEVICE_FEATURE_GET, SET = VFIO_DEVICE_FEATURE_SET,
		    PROBE = VFIO_DEVICE_FEATURE_PROBE;
	const uint32_t START = VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
		    STOP = VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
		    REPORT = VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	static struct vfio_device_feature_dma_logging_range ranges[257];
	static uint64_t bitmap[64];
	struct vfio_device_feature_dma_logging_control ctl, base;
	struct vfio_device_feature_dma_logging_report rep, rbase;
	struct dev a;

	if (!dev_open_checked(&a, conf.cdev[0]))
		return;
	base = (struct vfio_device_feature_dma_logging_control){
		.page_size = 4096, .num_ranges = 1, .ranges = (uintptr_t)ranges,
	};
	ranges[0] = (struct vfio_device_feature_dma_logging_range){ 0x100000, 0x10000 };
#define START_WITH(flags, argsz, want, what, rule)                                               \
	check_err(feature(a.fd, (flags) | START, &ctl, sizeof(ctl), (argsz)), want,   \
		  what, rule)
	ctl = base;
	START_WITH(PROBE | SET, hdr, 0, "PROBE|SET DMA_LOGGING_START", "vfio_check_feature");
	START_WITH(PROBE | GET, hdr, -EINVAL, "PROBE|GET DMA_LOGGING_START (SET-only)",
		   "vfio_check_feature");
	START_WITH(GET, hdr + sizeof(ctl), -EINVAL, "GET DMA_LOGGING_START", "vfio_check_feature");
	START_WITH(SET, hdr + 8, -EINVAL, "START with an 8-byte payload",
		   "vfio_check_feature: argsz < sizeof(control)");
	ctl = base;
	ctl.num_ranges = 0;
	START_WITH(SET, hdr + sizeof(ctl), -EINVAL, "START with 0 ranges", "vfio_ioctl_device_feature_logging_start: !nnodes");
	ctl = base;
	ctl.num_ranges = 257;
	START_WITH(SET, hdr + sizeof(ctl), -E2BIG, "START with 257 ranges",
		   "vfio_ioctl_device_feature_logging_start: nnodes > LOG_MAX_RANGES");
	ctl = base;
	ranges[0].iova = 0x100800;
	START_WITH(SET, hdr + sizeof(ctl), -EINVAL, "START with an iova not aligned to page_size",
		   "vfio_ioctl_device_feature_logging_start: !IS_ALIGNED(range.iova, page_size)");
	ranges[0] = (struct vfio_device_feature_dma_logging_range){ 0x100000, 0x10800 };
	START_WITH(SET, hdr + sizeof(ctl), -EINVAL, "START with a length not aligned to page_size",
		   "vfio_ioctl_device_feature_logging_start: !IS_ALIGNED(range.length, page_size)");
	ranges[0] = (struct vfio_device_feature_dma_logging_range){ 0x100000, 0x10000 };
	ranges[1] = (struct vfio_device_feature_dma_logging_range){ 0x10f000, 0x2000 };
	ctl.num_ranges = 2;
	START_WITH(SET, hdr + sizeof(ctl), -EINVAL, "START with overlapping ranges",
		   "vfio_ioctl_device_feature_logging_start: interval_tree_iter_first, overlapping");
	ranges[1] = (struct vfio_device_feature_dma_logging_range){ ~0ULL - 0xfff, 0x2000 };
	START_WITH(SET, hdr + sizeof(ctl), -EOVERFLOW, "START with a range that wraps",
		   "vfio_ioctl_device_feature_logging_start: check_add_overflow(iova, length)");
	ctl = base;
	ranges[0] = (struct vfio_device_feature_dma_logging_range){ 0x100000, 0x10000 };
	START_WITH(SET, hdr + sizeof(ctl), 0, "START of one 64 KiB range, 4 KiB pages",
		   "vfio_ioctl_device_feature_logging_start: log_ops->log_start");
#undef START_WITH

	rbase = (struct vfio_device_feature_dma_logging_report){
		.iova = 0x100000, .length = 0x10000, .page_size = 4096, .bitmap = (uintptr_t)bitmap,
	};
#define REPORT_WITH(flags, argsz, want, what, rule)                                              \
	check_err(feature(a.fd, (flags) | REPORT, &rep, sizeof(rep), (argsz)), want, \
		  what, rule)
	rep = rbase;
	REPORT_WITH(PROBE | GET, hdr, 0, "PROBE|GET DMA_LOGGING_REPORT", "vfio_check_feature");
	REPORT_WITH(SET, hdr + sizeof(rep), -EINVAL, "SET DMA_LOGGING_REPORT (GET-only)",
		    "vfio_check_feature");
	REPORT_WITH(GET, hdr + 16, -EINVAL, "REPORT with a 16-byte payload",
		    "vfio_check_feature: argsz < sizeof(report)");
	rep = rbase;
	rep.page_size = 2048;
	REPORT_WITH(GET, hdr + sizeof(rep), -EINVAL, "REPORT with page_size 2048",
		    "vfio_ioctl_device_feature_logging_report: page_size < SZ_4K");
	rep.page_size = 3 * 4096;
	REPORT_WITH(GET, hdr + sizeof(rep), -EINVAL, "REPORT with page_size 12 KiB",
		    "vfio_ioctl_device_feature_logging_report: !is_power_of_2(page_size)");
	rep.page_size = 0;
	REPORT_WITH(GET, hdr + sizeof(rep), -EINVAL, "REPORT with page_size 0", "vfio_ioctl_device_feature_logging_report: page_size < SZ_4K");
	rep = rbase;
	rep.iova = ~0ULL - 0xfff;
	rep.length = 0x2000;
	REPORT_WITH(GET, hdr + sizeof(rep), -EOVERFLOW, "REPORT of a range that wraps",
		    "vfio_ioctl_device_feature_logging_report: check_add_overflow(iova, length)");
	rep = rbase;
	REPORT_WITH(GET, hdr + sizeof(rep), 0, "REPORT of the logged range",
		    "vfio_ioctl_device_feature_logging_report: iova_bitmap_for_each");
#undef REPORT_WITH
	check_err(feature(a.fd, GET | STOP, NULL, 0, hdr), -EINVAL,
		  "GET DMA_LOGGING_STOP (SET-only)", "vfio_check_feature");
	check_err(feature(a.fd, SET | STOP, NULL, 0, hdr), 0, "SET DMA_LOGGING_STOP",
		  "vfio_ioctl_device_feature_logging_stop: log_ops->log_stop");
	dev_close(&a);
}

/* IOAS objects on a fresh iommufd (ioas.c, io_pagetable.c, main.c) */
void group_ioas(void)
{
	const size_t len = 64 * 1024;
	struct iommu_ioas_map map, base;
	uint64_t unmapped, align;
	uint32_t ioas = 0, id, nranges;
	int iommufd;
	void *mem;

	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!check(iommufd >= 0 && mem != MAP_FAILED, "open /dev/iommu, mmap 64 KiB"))
		return;
	check_err(ioas_alloc(iommufd, offsetof(struct iommu_ioas_alloc, out_ioas_id), 0,
				       &id),
		  -EINVAL, "IOAS_ALLOC with size short of out_ioas_id",
		  "iommufd_fops_ioctl: user_size < min_size");
	check_err(ioas_alloc(iommufd, sizeof(struct iommu_ioas_alloc), 1, &id),
		  -EOPNOTSUPP, "IOAS_ALLOC with flags 1", "iommufd_ioas_alloc_ioctl: cmd->flags");
	if (!check_err(vmt_iommufd_ioas_alloc(iommufd, &ioas), 0, "IOAS_ALLOC", "iommufd_ioas_alloc_ioctl"))
		goto out;
	check_err(iova_ranges(iommufd, ioas, &nranges, &align), -EMSGSIZE,
		  "IOAS_IOVA_RANGES with no room for ranges",
		  "iommufd_ioas_iova_ranges: num_iovas < max_iovas");
	check(nranges >= 1, "IOAS_IOVA_RANGES counts %u allowed range(s) anyway", nranges);

	base = (struct iommu_ioas_map){
		.size = sizeof(base),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas, .user_va = (uintptr_t)mem, .length = len, .iova = 0x1000000,
	};
	map = base;
	map.flags |= 1u << 5;
	check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), -EOPNOTSUPP, "IOAS_MAP with an unknown flag",
		  "iommufd_ioas_map: flags");
	map = base;
	map.__reserved = 1;
	check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), -EOPNOTSUPP, "IOAS_MAP with __reserved != 0",
		  "iommufd_ioas_map: __reserved");
	map = base;
	map.iova = ~0ULL;
	check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), -EOVERFLOW, "IOAS_MAP at iova ULONG_MAX",
		  "iommufd_ioas_map: iova >= ULONG_MAX");
	map = base;
	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA;
	check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), -EINVAL, "IOAS_MAP neither readable nor writeable",
		  "iommufd_ioas_map: !(WRITEABLE | READABLE)");
	map = base;
	map.ioas_id = 0xfffff;
	check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), -ENOENT, "IOAS_MAP to an ioas_id that does not exist",
		  "iommufd_get_ioas");
	map = base;
	check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), 0, "IOAS_MAP 64 KiB at 0x1000000", "iopt_map_user_pages");
	map = base;
	check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), -EEXIST, "IOAS_MAP over the same IOVA again",
		  "iopt_check_iova: area exists");
	map = base;
	map.flags &= ~IOMMU_IOAS_MAP_FIXED_IOVA;
	map.iova = 0;
	if (check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), 0, "IOAS_MAP at an IOVA the kernel picks",
		      "IOPT_ALLOC_IOVA"))
		check(map.iova + len <= 0x1000000 || map.iova >= 0x1000000 + len,
		      "the picked IOVA 0x%llx does not overlap the fixed mapping",
		      (unsigned long long)map.iova);
	check_err(vmt_iommufd_ioas_unmap(iommufd, ioas, 0x1000000, 0, NULL), -EINVAL, "IOAS_UNMAP length 0",
		  "iopt_unmap_iova: !length");
	check_err(vmt_iommufd_ioas_unmap(iommufd, ioas, 0x1000000, 4096, NULL), -ENOENT,
		  "IOAS_UNMAP of a part of an area", "iopt_unmap_iova_range: whole areas only");
	check_err(vmt_iommufd_ioas_unmap(iommufd, ioas, 0x40000000, 4096, NULL), -ENOENT,
		  "IOAS_UNMAP where nothing is mapped", "iommufd_ioas_unmap: !unmapped");
	if (check_err(vmt_iommufd_ioas_unmap(iommufd, ioas, 0x1000000, len, &unmapped), 0,
		      "IOAS_UNMAP of the fixed area", "iopt_unmap_iova"))
		check_u64(unmapped, len, "IOAS_UNMAP says how much", "cmd->length = unmapped");
	if (check_err(vmt_iommufd_ioas_unmap(iommufd, ioas, 0, ~0ULL, &unmapped), 0,
		      "IOAS_UNMAP iova 0, length U64_MAX: everything", "iopt_unmap_all"))
		check_u64(unmapped, len, "the rest unmapped", "cmd->length = unmapped");
	check_err(vmt_iommufd_destroy(iommufd, 0xfffff), -ENOENT, "DESTROY of an id that does not exist",
		  "iommufd_object_remove");
	check_err(vmt_iommufd_destroy(iommufd, ioas), 0, "DESTROY of the IOAS", "iommufd_object_remove");
	check_err(vmt_iommufd_destroy(iommufd, ioas), -ENOENT, "DESTROY of it again",
		  "iommufd_object_remove");
out:
	munmap(mem, len);
	close(iommufd);
}

/* ------------------------------------------- iommufd dirty bitmap rules */

struct dirty_ctx {
	int iommufd;
	uint32_t hwpt;
	uint64_t iova, length, pgsize;
};

/* the kernel tier: the objects iommufd-mock exec made, passed as --iommufd-fd etc. */
static bool dirty_inherited(struct dirty_ctx *c)
{
	if (conf.iommufd < 0)
		return false;
	*c = (struct dirty_ctx){
		.iommufd = conf.iommufd,
		.hwpt = conf.hwpt,
		.iova = conf.iova,
		.length = conf.length,
		.pgsize = conf.io_page_size,
	};
	return true;
}

/*
 * Standalone: the same shape on a device cdev: 64 KiB at iova 0x1000000 in
 * an IOAS, a dirty-tracking HWPT, tracking enabled.  IO page size from
 * IOMMU_IOAS_IOVA_RANGES' out_iova_alignment.
 */
static bool dirty_standalone(struct dirty_ctx *c, struct dev *d)
{
	uint32_t nranges;
	void *mem;
	int ret;

	if (!dev_open_checked(d, conf.cdev[0]))
		return false;
	c->iommufd = d->iommufd;
	c->iova = 0x1000000;
	c->length = 64 * 1024;
	mem = mmap(NULL, c->length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return check(false, "mmap 64 KiB");
	ret = vmt_iommufd_ioas_map(c->iommufd, d->ioas, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				   IOMMU_IOAS_MAP_WRITEABLE, mem, c->length, &c->iova);
	if (!ret)
		ret = vmt_iommufd_hwpt_alloc(c->iommufd, d->devid, d->ioas,
					     IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &c->hwpt);
	if (!ret)
		ret = attach_pt(d->fd, c->hwpt, 0);
	if (!ret)
		ret = set_dirty_tracking(c->iommufd, c->hwpt,
						    IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	if (ret)
		return check(false, "map, HWPT_ALLOC(DIRTY_TRACKING), attach, enable: %s",
			     errname(ret));
	ret = iova_ranges(c->iommufd, d->ioas, &nranges, &c->pgsize);
	if (ret == -EMSGSIZE)
		ret = 0;
	if (ret || !c->pgsize)
		return check(false, "IOAS_IOVA_RANGES: %s, alignment %llu", errname(ret),
			     (unsigned long long)c->pgsize);
	return true;
}

/* iommufd_hwpt_get_dirty_bitmap, iommufd_check_iova_range, iommufd_fops_ioctl */
void group_dirty(void)
{
	struct dirty_ctx c;
	struct dev d = { .fd = -1, .iommufd = -1 };
	static uint64_t bitmap[1024];
	struct {
		struct iommu_hwpt_get_dirty_bitmap cmd;
		uint64_t trailing;
	} big;
	struct iommu_hwpt_get_dirty_bitmap cmd, base;
	bool unmapped_einval;
	char why[320];
	uint64_t ps;

	if (dirty_inherited(&c)) {
		diag("inherited objects (--iommufd-fd): hwpt %u, iova 0x%llx, %llu bytes, "
		     "IO page %llu", c.hwpt, (unsigned long long)c.iova,
		     (unsigned long long)c.length, (unsigned long long)c.pgsize);
	} else {
		if (!dirty_standalone(&c, &d))
			goto out;
		diag("standalone objects: hwpt %u, iova 0x%llx, %llu bytes, IO page %llu", c.hwpt,
		     (unsigned long long)c.iova, (unsigned long long)c.length,
		     (unsigned long long)c.pgsize);
	}
	ps = c.pgsize;
	base = (struct iommu_hwpt_get_dirty_bitmap){
		.size = sizeof(cmd), .hwpt_id = c.hwpt, .iova = c.iova, .length = c.length,
		.page_size = ps, .data = (uintptr_t)bitmap,
	};
	check_err(set_dirty_tracking(c.iommufd, c.hwpt, 2), -EOPNOTSUPP,
		  "SET_DIRTY_TRACKING with an unknown flag",
		  "iommufd_hwpt_set_dirty_tracking: flags & ~ENABLE");
	check_err(set_dirty_tracking(c.iommufd, 0xfffff,
						IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
		  -ENOENT, "SET_DIRTY_TRACKING of an hwpt_id that does not exist",
		  "iommufd_get_hwpt_paging");
	check_err(set_dirty_tracking(c.iommufd, c.hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
		  0, "SET_DIRTY_TRACKING enable while enabled", "iopt_set_dirty_tracking");
	cmd = base;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), 0, "GET_DIRTY_BITMAP of the range",
		  "iommufd_hwpt_get_dirty_bitmap");
	cmd = base;
	cmd.flags = IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), 0, "with NO_CLEAR",
		  "iommufd_hwpt_get_dirty_bitmap");
	cmd = base;
	cmd.flags = 2;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EOPNOTSUPP, "unknown flag 2",
		  "iommufd_hwpt_get_dirty_bitmap: flags");
	cmd = base;
	cmd.__reserved = 1;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EOPNOTSUPP, "__reserved != 0",
		  "iommufd_hwpt_get_dirty_bitmap: __reserved");
	cmd = base;
	cmd.hwpt_id = 0xfffff;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -ENOENT, "hwpt_id that does not exist",
		  "iommufd_get_hwpt_paging");
	cmd = base;
	cmd.length = 0;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EINVAL, "length 0",
		  "iommufd_check_iova_range: !length");
	cmd = base;
	cmd.iova = c.iova + ps / 2;
	cmd.page_size = ps / 2;
	cmd.length = c.length - ps;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EINVAL,
		  "iova off the IOAS alignment (half an IO page)",
		  "iommufd_check_iova_range: iova & (iova_alignment - 1)");
	cmd = base;
	cmd.length = c.length - ps / 2;
	cmd.page_size = ps / 2;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EINVAL,
		  "length off the IOAS alignment",
		  "iommufd_check_iova_range: (last_iova + 1) & (iova_alignment - 1)");
	cmd = base;
	cmd.page_size = 0;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EINVAL, "page_size 0",
		  "iommufd_check_iova_range: !page_size");
	cmd = base;
	cmd.iova = c.iova + ps;
	cmd.length = c.length - 2 * ps;
	cmd.page_size = 4 * ps;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EINVAL,
		  "iova not aligned to page_size (4 IO pages)",
		  "iommufd_check_iova_range: iova & (page_size - 1)");
	cmd = base;
	cmd.length = 3 * ps;
	cmd.page_size = 2 * ps;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EINVAL,
		  "length not a multiple of page_size",
		  "iommufd_check_iova_range: (last_iova + 1) & (page_size - 1)");
	/*
	 * 3 IO pages: not a power of 2.  The kernel has no such check: it masks
	 * with page_size - 1 (0b10...1 for 3 * 2^k), which the aperture start
	 * and a 64 KiB length pass, and iova_bitmap uses __ffs(page_size).
	 */
	cmd = base;
	cmd.page_size = 3 * ps;
	cmd.length = c.length;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd),
		  ((c.iova | (c.iova + c.length)) & (3 * ps - 1)) ? -EINVAL : 0,
		  "page_size 3 IO pages (not a power of 2)",
		  "iommufd_check_iova_range masks with page_size - 1; no power-of-2 check");
	cmd = base;
	cmd.iova = ~0ULL - ps + 1;
	cmd.length = 2 * ps;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EOVERFLOW, "iova + length wraps",
		  "iommufd_check_iova_range: check_add_overflow");
	unmapped_einval = kernel_has(RULE_DIRTY_UNMAPPED_EINVAL, why, sizeof(why));
	cmd = base;
	cmd.iova = c.iova + c.length;
	cmd.length = 16 * ps;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd),
		  unmapped_einval ? -EINVAL : 0, "an aligned range past the mapped IOVA", why);
	cmd = base;
	cmd.length = c.length + 16 * ps;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd),
		  unmapped_einval ? -EINVAL : 0, "a range from the mapped IOVA on past its end", why);
	cmd = base;
	cmd.size = offsetof(struct iommu_hwpt_get_dirty_bitmap, data);
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EINVAL, "size short of data",
		  "iommufd_fops_ioctl: user_size < min_size");
	big.cmd = base;
	big.cmd.size = sizeof(big);
	big.trailing = 1;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &big), -E2BIG,
		  "size beyond the struct with a non-zero byte there",
		  "copy_struct_from_user");
	big.trailing = 0;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &big), 0,
		  "size beyond the struct, zeroes there", "copy_struct_from_user");
out:
	if (d.fd >= 0 || d.iommufd >= 0)
		dev_close(&d);
}

