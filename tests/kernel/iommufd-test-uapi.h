/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IOMMUFD_TEST ioctl (CONFIG_IOMMUFD_TEST) as far as the kernel tier uses it.
 *
 * This is a kernel self-test interface, not a stable ABI, and its header is not
 * installed by headers_install, so only the parts used here are written down,
 * checked against Linux 6.12.  If the tier moves to a newer kernel, re-check the
 * op numbers and the position of 'last' against that kernel's
 * drivers/iommu/iommufd/iommufd_test.h.
 */
#ifndef VMT_IOMMUFD_TEST_UAPI_H
#define VMT_IOMMUFD_TEST_UAPI_H

#include <stddef.h>
#include <linux/types.h>
#include <linux/ioctl.h>

#include "kt-uapi.h"

/* Op numbers: the kernel's enum starts at 1 and they are used by position. */
#define VMT_TEST_OP_MOCK_DOMAIN_REPLACE 10
#define VMT_TEST_OP_MOCK_DOMAIN_FLAGS 12
#define VMT_TEST_OP_DIRTY 13

/* The mock IOMMU only accepts IOVAs in this window. */
#define VMT_MOCK_APERTURE_START (1ULL << 24)
#define VMT_MOCK_APERTURE_LAST ((1ULL << 31) - 1)

/*
 * The mock maps in half-pages, and VMT_TEST_OP_DIRTY indexes its page table by
 * iova / page_size: any other page_size marks the wrong entries (or none).
 */
#define VMT_MOCK_IO_PAGE_SIZE 2048ULL

struct vmt_iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id; /* ioas, stdev or hwpt id, depending on op */
	__u32 __reserved;
	union {
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags;
		} mock_domain_flags;
		struct {
			__u32 pt_id;
		} mock_domain_replace;
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr; /* bitmap of pages to mark */
			__aligned_u64 out_nr_dirty;
		} dirty;
		/* The kernel's union is this large; 'last' must land where it expects. */
		__u8 union_size[48];
	};
	__u32 last;
};

_Static_assert(offsetof(struct vmt_iommu_test_cmd, last) == 64,
	       "iommu_test_cmd layout differs from Linux 6.12");

#define VMT_IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

#endif /* VMT_IOMMUFD_TEST_UAPI_H */
