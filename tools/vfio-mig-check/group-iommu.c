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

#include "common/c.h"
#include "vfio/iommufd-ioctl.h"
#include "groups.h"
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

/* The range DMA logging starts on, and the IO page it is logged at. */
#define LOG_IOVA 0x100000
#define LOG_LENGTH 0x10000
#define LOG_PAGE 4096

/*
 * One DMA_LOGGING_START: the feature flags, the payload's size after the
 * header, the ranges, what the kernel gives and the rule.
 */
struct log_start_case {
	uint32_t flags;
	uint32_t payload;
	uint32_t num_ranges;
	struct vfio_device_feature_dma_logging_range range[2];
	int want;
	const char *what, *rule;
};

#define LOG_RANGE                    \
	{                            \
		LOG_IOVA, LOG_LENGTH \
	}
#define CONTROL_SIZE sizeof(struct vfio_device_feature_dma_logging_control)

static const struct log_start_case log_start_cases[] = {
	{ VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
	  0,
	  1,
	  { LOG_RANGE },
	  0,
	  "PROBE|SET DMA_LOGGING_START",
	  "vfio_check_feature" },
	{ VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET,
	  0,
	  1,
	  { LOG_RANGE },
	  -EINVAL,
	  "PROBE|GET DMA_LOGGING_START (SET-only)",
	  "vfio_check_feature" },
	{ VFIO_DEVICE_FEATURE_GET,
	  CONTROL_SIZE,
	  1,
	  { LOG_RANGE },
	  -EINVAL,
	  "GET DMA_LOGGING_START",
	  "vfio_check_feature" },
	{ VFIO_DEVICE_FEATURE_SET,
	  8,
	  1,
	  { LOG_RANGE },
	  -EINVAL,
	  "START with an 8-byte payload",
	  "vfio_check_feature: argsz < sizeof(control)" },
	{ VFIO_DEVICE_FEATURE_SET,
	  CONTROL_SIZE,
	  0,
	  { LOG_RANGE },
	  -EINVAL,
	  "START with 0 ranges",
	  "vfio_ioctl_device_feature_logging_start: !nnodes" },
	{ VFIO_DEVICE_FEATURE_SET,
	  CONTROL_SIZE,
	  257,
	  { LOG_RANGE },
	  -E2BIG,
	  "START with 257 ranges",
	  "vfio_ioctl_device_feature_logging_start: nnodes > LOG_MAX_RANGES" },
	{ VFIO_DEVICE_FEATURE_SET,
	  CONTROL_SIZE,
	  1,
	  { { LOG_IOVA + 0x800, LOG_LENGTH } },
	  -EINVAL,
	  "START with an iova not aligned to page_size",
	  "vfio_ioctl_device_feature_logging_start: !IS_ALIGNED(range.iova, page_size)" },
	{ VFIO_DEVICE_FEATURE_SET,
	  CONTROL_SIZE,
	  1,
	  { { LOG_IOVA, LOG_LENGTH + 0x800 } },
	  -EINVAL,
	  "START with a length not aligned to page_size",
	  "vfio_ioctl_device_feature_logging_start: !IS_ALIGNED(range.length, page_size)" },
	{ VFIO_DEVICE_FEATURE_SET,
	  CONTROL_SIZE,
	  2,
	  { LOG_RANGE, { 0x10f000, 0x2000 } },
	  -EINVAL,
	  "START with overlapping ranges",
	  "vfio_ioctl_device_feature_logging_start: interval_tree_iter_first, overlapping" },
	{ VFIO_DEVICE_FEATURE_SET,
	  CONTROL_SIZE,
	  2,
	  { LOG_RANGE, { ~0ULL - 0xfff, 0x2000 } },
	  -EOVERFLOW,
	  "START with a range that wraps",
	  "vfio_ioctl_device_feature_logging_start: check_add_overflow(iova, length)" },
	{ VFIO_DEVICE_FEATURE_SET,
	  CONTROL_SIZE,
	  1,
	  { LOG_RANGE },
	  0,
	  "START of one 64 KiB range, 4 KiB pages",
	  "vfio_ioctl_device_feature_logging_start: log_ops->log_start" },
};

/* One DMA_LOGGING_REPORT, likewise, of the range the last START logged. */
struct log_report_case {
	uint32_t flags;
	uint32_t payload;
	uint64_t iova, length, page_size;
	int want;
	const char *what, *rule;
};

#define REPORT_SIZE sizeof(struct vfio_device_feature_dma_logging_report)

static const struct log_report_case log_report_cases[] = {
	{ VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET, 0, LOG_IOVA, LOG_LENGTH, LOG_PAGE, 0,
	  "PROBE|GET DMA_LOGGING_REPORT", "vfio_check_feature" },
	{ VFIO_DEVICE_FEATURE_SET, REPORT_SIZE, LOG_IOVA, LOG_LENGTH, LOG_PAGE, -EINVAL,
	  "SET DMA_LOGGING_REPORT (GET-only)", "vfio_check_feature" },
	{ VFIO_DEVICE_FEATURE_GET, 16, LOG_IOVA, LOG_LENGTH, LOG_PAGE, -EINVAL,
	  "REPORT with a 16-byte payload", "vfio_check_feature: argsz < sizeof(report)" },
	{ VFIO_DEVICE_FEATURE_GET, REPORT_SIZE, LOG_IOVA, LOG_LENGTH, 2048, -EINVAL,
	  "REPORT with page_size 2048",
	  "vfio_ioctl_device_feature_logging_report: page_size < SZ_4K" },
	{ VFIO_DEVICE_FEATURE_GET, REPORT_SIZE, LOG_IOVA, LOG_LENGTH, 3 * 4096, -EINVAL,
	  "REPORT with page_size 12 KiB",
	  "vfio_ioctl_device_feature_logging_report: !is_power_of_2(page_size)" },
	{ VFIO_DEVICE_FEATURE_GET, REPORT_SIZE, LOG_IOVA, LOG_LENGTH, 0, -EINVAL,
	  "REPORT with page_size 0",
	  "vfio_ioctl_device_feature_logging_report: page_size < SZ_4K" },
	{ VFIO_DEVICE_FEATURE_GET, REPORT_SIZE, ~0ULL - 0xfff, 0x2000, LOG_PAGE, -EOVERFLOW,
	  "REPORT of a range that wraps",
	  "vfio_ioctl_device_feature_logging_report: check_add_overflow(iova, length)" },
	{ VFIO_DEVICE_FEATURE_GET, REPORT_SIZE, LOG_IOVA, LOG_LENGTH, LOG_PAGE, 0,
	  "REPORT of the logged range",
	  "vfio_ioctl_device_feature_logging_report: iova_bitmap_for_each" },
};

static void check_log_start(int devfd, const struct log_start_case *k)
{
	/* Room for 257: the kernel refuses more than LOG_MAX_RANGES before reading them. */
	static struct vfio_device_feature_dma_logging_range ranges[257];
	struct vfio_device_feature_dma_logging_control ctl = {
		.page_size = LOG_PAGE,
		.num_ranges = k->num_ranges,
		.ranges = (uintptr_t)ranges,
	};

	ranges[0] = k->range[0];
	ranges[1] = k->range[1];
	check_err(feature(devfd, k->flags | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl,
			  sizeof(ctl), sizeof(struct vfio_device_feature) + k->payload),
		  k->want, k->what, k->rule);
}

static void check_log_report(int devfd, const struct log_report_case *k)
{
	static uint64_t bitmap[64];
	struct vfio_device_feature_dma_logging_report rep = {
		.iova = k->iova,
		.length = k->length,
		.page_size = k->page_size,
		.bitmap = (uintptr_t)bitmap,
	};

	check_err(feature(devfd, k->flags | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &rep,
			  sizeof(rep), sizeof(struct vfio_device_feature) + k->payload),
		  k->want, k->what, k->rule);
}

/*
 * DMA logging: the core's checks in vfio_ioctl_device_feature_logging_*
 * (vfio_main.c).  mtty has log_ops that accept everything (mtty_log_start),
 * so only the core's own refusals and plain successes are checked.
 */
void group_dmalog(void)
{
	const uint32_t hdr = sizeof(struct vfio_device_feature);
	struct dev a;
	size_t i;

	if (!dev_open_checked(&a, conf.cdev[0]))
		return;
	for (i = 0; i < ARRAY_SIZE(log_start_cases); i++)
		check_log_start(a.fd, &log_start_cases[i]);
	for (i = 0; i < ARRAY_SIZE(log_report_cases); i++)
		check_log_report(a.fd, &log_report_cases[i]);
	check_err(feature(a.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
			  NULL, 0, hdr),
		  -EINVAL, "GET DMA_LOGGING_STOP (SET-only)", "vfio_check_feature");
	check_err(feature(a.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
			  NULL, 0, hdr),
		  0, "SET DMA_LOGGING_STOP",
		  "vfio_ioctl_device_feature_logging_stop: log_ops->log_stop");
	dev_close(&a);
}

/*
 * One IOAS_MAP: how it differs from the base mapping (64 KiB at a fixed
 * IOVA, readable and writeable) and what the kernel gives, with the rule.
 */
struct ioas_map_case {
	int want;
	const char *what, *rule;
	uint32_t flags; /* 0: the base's */
	uint32_t reserved;
	uint32_t ioas_id; /* 0: the IOAS under test */
	uint64_t iova;	  /* 0: the base's */
};

static const struct ioas_map_case map_cases[] = {
	{ -EOPNOTSUPP, "IOAS_MAP with an unknown flag", "iommufd_ioas_map: flags",
	  .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
		   1u << 5 },
	{ -EOPNOTSUPP, "IOAS_MAP with __reserved != 0", "iommufd_ioas_map: __reserved",
	  .reserved = 1 },
	{ -EOVERFLOW, "IOAS_MAP at iova ULONG_MAX", "iommufd_ioas_map: iova >= ULONG_MAX",
	  .iova = ~0ULL },
	{ -EINVAL, "IOAS_MAP neither readable nor writeable",
	  "iommufd_ioas_map: !(WRITEABLE | READABLE)", .flags = IOMMU_IOAS_MAP_FIXED_IOVA },
	{ -ENOENT, "IOAS_MAP to an ioas_id that does not exist", "iommufd_get_ioas",
	  .ioas_id = 0xfffff },
	{ 0, "IOAS_MAP 64 KiB at 0x1000000", "iopt_map_user_pages" },
	{ -EEXIST, "IOAS_MAP over the same IOVA again", "iopt_check_iova: area exists" },
};

static void check_ioas_map(int iommufd, const struct iommu_ioas_map *base,
			   const struct ioas_map_case *k)
{
	struct iommu_ioas_map map = *base;

	if (k->flags)
		map.flags = k->flags;
	if (k->ioas_id)
		map.ioas_id = k->ioas_id;
	if (k->iova)
		map.iova = k->iova;
	map.__reserved = k->reserved;
	check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), k->want, k->what, k->rule);
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
	check_err(ioas_alloc(iommufd, offsetof(struct iommu_ioas_alloc, out_ioas_id), 0, &id),
		  -EINVAL, "IOAS_ALLOC with size short of out_ioas_id",
		  "iommufd_fops_ioctl: user_size < min_size");
	check_err(ioas_alloc(iommufd, sizeof(struct iommu_ioas_alloc), 1, &id), -EOPNOTSUPP,
		  "IOAS_ALLOC with flags 1", "iommufd_ioas_alloc_ioctl: cmd->flags");
	if (!check_err(vmt_iommufd_ioas_alloc(iommufd, &ioas), 0, "IOAS_ALLOC",
		       "iommufd_ioas_alloc_ioctl"))
		goto out;
	check_err(iova_ranges(iommufd, ioas, &nranges, &align), -EMSGSIZE,
		  "IOAS_IOVA_RANGES with no room for ranges",
		  "iommufd_ioas_iova_ranges: num_iovas < max_iovas");
	check(nranges >= 1, "IOAS_IOVA_RANGES counts %u allowed range(s) anyway", nranges);

	base = (struct iommu_ioas_map){
		.size = sizeof(base),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)mem,
		.length = len,
		.iova = 0x1000000,
	};
	for (size_t i = 0; i < ARRAY_SIZE(map_cases); i++)
		check_ioas_map(iommufd, &base, &map_cases[i]);
	map = base;
	map.flags &= ~IOMMU_IOAS_MAP_FIXED_IOVA;
	map.iova = 0;
	if (check_err(vmt_iommufd_ioas_map_raw(iommufd, &map), 0,
		      "IOAS_MAP at an IOVA the kernel picks", "IOPT_ALLOC_IOVA"))
		check(map.iova + len <= 0x1000000 || map.iova >= 0x1000000 + len,
		      "the picked IOVA 0x%llx does not overlap the fixed mapping",
		      (unsigned long long)map.iova);
	check_err(vmt_iommufd_ioas_unmap(iommufd, ioas, 0x1000000, 0, NULL), -EINVAL,
		  "IOAS_UNMAP length 0", "iopt_unmap_iova: !length");
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
	check_err(vmt_iommufd_destroy(iommufd, 0xfffff), -ENOENT,
		  "DESTROY of an id that does not exist", "iommufd_object_remove");
	check_err(vmt_iommufd_destroy(iommufd, ioas), 0, "DESTROY of the IOAS",
		  "iommufd_object_remove");
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
	ret = vmt_iommufd_ioas_map(c->iommufd, d->ioas,
				   IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
					   IOMMU_IOAS_MAP_WRITEABLE,
				   mem, c->length, &c->iova);
	if (!ret)
		ret = vmt_iommufd_hwpt_alloc(c->iommufd, d->devid, d->ioas,
					     IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &c->hwpt);
	if (!ret)
		ret = attach_pt(d->fd, c->hwpt, 0);
	if (!ret)
		ret = set_dirty_tracking(c->iommufd, c->hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
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

/*
 * One GET_DIRTY_BITMAP of the HWPT under test: its range, page size and
 * the fields that differ from a plain call, what the kernel gives, the rule.
 */
struct bitmap_case {
	int want;
	const char *what, *rule;
	uint32_t flags;
	uint32_t hwpt_id; /* 0: the HWPT under test */
	uint32_t reserved;
	uint64_t iova, length, page_size;
};

static void check_dirty_bitmap(const struct dirty_ctx *c, uint64_t *bitmap,
			       const struct bitmap_case *k)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = k->hwpt_id ? k->hwpt_id : c->hwpt,
		.flags = k->flags,
		.__reserved = k->reserved,
		.iova = k->iova,
		.length = k->length,
		.page_size = k->page_size,
		.data = (uintptr_t)bitmap,
	};

	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c->iommufd, &cmd), k->want, k->what,
		  k->rule);
}

/* The arguments GET_DIRTY_BITMAP refuses, in the order the kernel checks them. */
static void check_bitmap_arguments(const struct dirty_ctx *c, uint64_t *bitmap)
{
	const uint64_t ps = c->pgsize, iova = c->iova, len = c->length;
	char why[320];
	bool unmapped_einval = kernel_has(RULE_DIRTY_UNMAPPED_EINVAL, why, sizeof(why));
	/* In the order the kernel checks them; sizes in IO pages where they scale. */
	const struct bitmap_case cases[] = {
		{ 0, "GET_DIRTY_BITMAP of the range", "iommufd_hwpt_get_dirty_bitmap", .iova = iova,
		  .length = len, .page_size = ps },
		{ 0, "with NO_CLEAR", "iommufd_hwpt_get_dirty_bitmap",
		  .flags = IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, .iova = iova, .length = len,
		  .page_size = ps },
		{ -EOPNOTSUPP, "unknown flag 2", "iommufd_hwpt_get_dirty_bitmap: flags", .flags = 2,
		  .iova = iova, .length = len, .page_size = ps },
		{ -EOPNOTSUPP, "__reserved != 0", "iommufd_hwpt_get_dirty_bitmap: __reserved",
		  .reserved = 1, .iova = iova, .length = len, .page_size = ps },
		{ -ENOENT, "hwpt_id that does not exist", "iommufd_get_hwpt_paging",
		  .hwpt_id = 0xfffff, .iova = iova, .length = len, .page_size = ps },
		{ -EINVAL, "length 0", "iommufd_check_iova_range: !length", .iova = iova,
		  .length = 0, .page_size = ps },
		{ -EINVAL, "iova off the IOAS alignment (half an IO page)",
		  "iommufd_check_iova_range: iova & (iova_alignment - 1)", .iova = iova + ps / 2,
		  .length = len - ps, .page_size = ps / 2 },
		{ -EINVAL, "length off the IOAS alignment",
		  "iommufd_check_iova_range: (last_iova + 1) & (iova_alignment - 1)", .iova = iova,
		  .length = len - ps / 2, .page_size = ps / 2 },
		{ -EINVAL, "page_size 0", "iommufd_check_iova_range: !page_size", .iova = iova,
		  .length = len, .page_size = 0 },
		{ -EINVAL, "iova not aligned to page_size (4 IO pages)",
		  "iommufd_check_iova_range: iova & (page_size - 1)", .iova = iova + ps,
		  .length = len - 2 * ps, .page_size = 4 * ps },
		{ -EINVAL, "length not a multiple of page_size",
		  "iommufd_check_iova_range: (last_iova + 1) & (page_size - 1)", .iova = iova,
		  .length = 3 * ps, .page_size = 2 * ps },
		/*
		 * 3 IO pages: not a power of 2.  The kernel has no such check: it
		 * masks with page_size - 1 (0b10...1 for 3 * 2^k), which the
		 * aperture start and a 64 KiB length pass, and iova_bitmap uses
		 * __ffs(page_size).
		 */
		{ ((iova | (iova + len)) & (3 * ps - 1)) ? -EINVAL : 0,
		  "page_size 3 IO pages (not a power of 2)",
		  "iommufd_check_iova_range masks with page_size - 1; no power-of-2 check",
		  .iova = iova, .length = len, .page_size = 3 * ps },
		{ -EOVERFLOW, "iova + length wraps", "iommufd_check_iova_range: check_add_overflow",
		  .iova = ~0ULL - ps + 1, .length = 2 * ps, .page_size = ps },
		{ unmapped_einval ? -EINVAL : 0, "an aligned range past the mapped IOVA", why,
		  .iova = iova + len, .length = 16 * ps, .page_size = ps },
		{ unmapped_einval ? -EINVAL : 0, "a range from the mapped IOVA on past its end",
		  why, .iova = iova, .length = len + 16 * ps, .page_size = ps },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check_dirty_bitmap(c, bitmap, &cases[i]);
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
	uint64_t ps;

	if (dirty_inherited(&c)) {
		diag("inherited objects (--iommufd-fd): hwpt %u, iova 0x%llx, %llu bytes, "
		     "IO page %llu",
		     c.hwpt, (unsigned long long)c.iova, (unsigned long long)c.length,
		     (unsigned long long)c.pgsize);
	} else {
		if (!dirty_standalone(&c, &d))
			goto out;
		diag("standalone objects: hwpt %u, iova 0x%llx, %llu bytes, IO page %llu", c.hwpt,
		     (unsigned long long)c.iova, (unsigned long long)c.length,
		     (unsigned long long)c.pgsize);
	}
	ps = c.pgsize;
	base = (struct iommu_hwpt_get_dirty_bitmap){
		.size = sizeof(cmd),
		.hwpt_id = c.hwpt,
		.iova = c.iova,
		.length = c.length,
		.page_size = ps,
		.data = (uintptr_t)bitmap,
	};
	check_err(set_dirty_tracking(c.iommufd, c.hwpt, 2), -EOPNOTSUPP,
		  "SET_DIRTY_TRACKING with an unknown flag",
		  "iommufd_hwpt_set_dirty_tracking: flags & ~ENABLE");
	check_err(set_dirty_tracking(c.iommufd, 0xfffff, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), -ENOENT,
		  "SET_DIRTY_TRACKING of an hwpt_id that does not exist",
		  "iommufd_get_hwpt_paging");
	check_err(set_dirty_tracking(c.iommufd, c.hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0,
		  "SET_DIRTY_TRACKING enable while enabled", "iopt_set_dirty_tracking");
	check_bitmap_arguments(&c, bitmap);
	cmd = base;
	cmd.size = offsetof(struct iommu_hwpt_get_dirty_bitmap, data);
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &cmd), -EINVAL,
		  "size short of data", "iommufd_fops_ioctl: user_size < min_size");
	big.cmd = base;
	big.cmd.size = sizeof(big);
	big.trailing = 1;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &big), -E2BIG,
		  "size beyond the struct with a non-zero byte there", "copy_struct_from_user");
	big.trailing = 0;
	check_err(vmt_iommufd_hwpt_get_dirty_bitmap_raw(c.iommufd, &big), 0,
		  "size beyond the struct, zeroes there", "copy_struct_from_user");
out:
	if (d.fd >= 0 || d.iommufd >= 0)
		dev_close(&d);
}
