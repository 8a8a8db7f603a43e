// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The function -> file table of the kernel rules the checks cite.  Only
 * prefixes: the VFIO and iommufd code names its functions by file.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "common/c.h"
#include "citations.h"

static const struct {
	const char *prefix; /* a function name, or the start of a family of them */
	const char *file;
} table[] = {
	/* exact names first: they would match a family prefix below */
	{ "vfio_check_feature", "include/linux/vfio.h" },
	{ "vfio_device_block_group", "drivers/vfio/group.c" },
	{ "vfio_device_get_from_name", "drivers/vfio/group.c" },
	{ "vfio_df_group_open", "drivers/vfio/group.c" },
	{ "vfio_df_ioctl_", "drivers/vfio/device_cdev.c" },
	{ "vfio_device_fops_cdev_open", "drivers/vfio/device_cdev.c" },
	{ "vfio_df_", "drivers/vfio/vfio_main.c" },
	{ "vfio_device_fops_", "drivers/vfio/vfio_main.c" },
	{ "vfio_ioctl_device_feature", "drivers/vfio/vfio_main.c" },
	{ "vfio_ioct_mig_return_fd", "drivers/vfio/vfio_main.c" },
	{ "vfio_mig_get_next_state", "drivers/vfio/vfio_main.c" },
	{ "vfio_fops_unl_ioctl", "drivers/vfio/container.c" },
	{ "vfio_ioctl_set_iommu", "drivers/vfio/container.c" },
	{ "vfio_container_", "drivers/vfio/container.c" },
	{ "vfio_group_", "drivers/vfio/group.c" },
	{ "vfio_iommu_type1_", "drivers/vfio/vfio_iommu_type1.c" },
	{ "mtty_", "samples/vfio-mdev/mtty.c" },
	{ "iommufd_fops_ioctl", "drivers/iommu/iommufd/main.c" },
	{ "iommufd_object_", "drivers/iommu/iommufd/main.c" },
	{ "iommufd_ctx_from_fd", "drivers/iommu/iommufd/main.c" },
	{ "iommufd_get_object", "drivers/iommu/iommufd/main.c" },
	{ "iommufd_get_hwpt_paging", "drivers/iommu/iommufd/iommufd_private.h" },
	{ "iommufd_get_ioas", "drivers/iommu/iommufd/ioas.c" },
	{ "iommufd_ioas_", "drivers/iommu/iommufd/ioas.c" },
	{ "iommufd_device_", "drivers/iommu/iommufd/device.c" },
	{ "iommufd_hwpt_", "drivers/iommu/iommufd/hw_pagetable.c" },
	{ "iommufd_check_iova_range", "drivers/iommu/iommufd/io_pagetable.c" },
	{ "iommu_read_and_clear_dirty", "drivers/iommu/iommufd/io_pagetable.c" },
	{ "iopt_", "drivers/iommu/iommufd/io_pagetable.c" },
	{ "copy_struct_from_user", "include/linux/uaccess.h" },
	{ "stream_open", "fs/open.c" },
	{ "anon_inode_getfile", "fs/anon_inodes.c" },
	{ "do_splice_read", "fs/splice.c" },
	{ "do_loop_readv_writev", "fs/read_write.c" },
	{ "get_unused_fd_flags", "fs/file.c" },
};

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static const char *file_of(const char *word, size_t n)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++) {
		size_t plen = strlen(table[i].prefix);

		if (plen <= n && !strncmp(word, table[i].prefix, plen) &&
		    (table[i].prefix[plen - 1] == '_' || plen == n))
			return table[i].file;
	}
	return NULL;
}

const char *citation_source(const char *text, char *func, size_t len)
{
	const char *p = text;

	while (p && *p) {
		size_t n = 0;
		const char *file;

		while (*p && !ident_char(*p))
			p++;
		while (ident_char(p[n]))
			n++;
		if (!n)
			break;
		file = file_of(p, n);
		if (file) {
			if (len) {
				size_t k = n < len - 1 ? n : len - 1;

				memcpy(func, p, k);
				func[k] = '\0';
			}
			return file;
		}
		p += n;
	}
	return NULL;
}
