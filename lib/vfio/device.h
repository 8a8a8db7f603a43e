/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening a VFIO device the way the user names it, and what is known about it.
 *
 * A device is named by
 *   - its cdev, /dev/vfio/devices/vfioN or just vfioN: bound to a fresh
 *     iommufd (/dev/iommu) and attached to a new, empty IOAS (migration needs
 *     no DMA mappings); no other path is taken, so a typo or a hostile name
 *     (../../etc/passwd, a FIFO) is refused before anything is opened;
 *   - a PCI address, 0000:01:00.0 or 01:00.0, or an mdev UUID: resolved
 *     through sysfs (.../vfio-dev/vfioN for the cdev, preferred; otherwise
 *     the iommu_group link for the legacy group/container path);
 *   - fd:N, a device fd inherited from the caller (a VMM), used as it is:
 *     never bound, attached or closed by the library.
 * vmt_device_open_opts.force_group takes the legacy group/container path even
 * when a cdev exists (the name must then be a PCI address or an mdev UUID).
 *
 * Closing the last fd of a device ends its migration session (the driver
 * disables the data fds). The state on the next open is the driver's choice:
 * mlx5, hisi_acc and qat reset to RUNNING in open_device, the mtty sample
 * keeps the state it was left in. An inherited fd:N stays open in the VMM,
 * so there the state the tool leaves is exactly what the VMM sees.
 */
#ifndef VMT_VFIO_DEVICE_H
#define VMT_VFIO_DEVICE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "vfio/state.h"

enum vmt_device_access {
	VMT_ACCESS_CDEV = 1,  /* /dev/vfio/devices/vfioN + iommufd */
	VMT_ACCESS_GROUP = 2, /* /dev/vfio/N + /dev/vfio/vfio container */
	VMT_ACCESS_FD = 3,    /* fd:N inherited */
};

struct vmt_device_open_opts {
	bool force_group; /* --group: legacy group/container path */
};

/* Longest device name (cdev path, PCI address, UUID) a user may give. */
#define VMT_DEVICE_NAME_MAX 4096

struct vmt_device {
	char name[VMT_DEVICE_NAME_MAX + 1]; /* as given by the user */
	char node[PATH_MAX];		    /* what was opened: cdev, group node, "fd:N" */
	enum vmt_device_access access;
	int fd; /* the device fd */
	bool fd_inherited;

	/* cdev path */
	int iommufd;
	uint32_t dev_id;
	uint32_t ioas_id;
	/* group path */
	int container_fd;
	int group_fd;

	/* Identity, from sysfs when the device could be found there. */
	char sysfs_dir[PATH_MAX]; /* "" when unknown */
	bool has_pci_ids;
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;
	uint8_t revision;
	char driver[256];
	char mdev_type[256];

	/* Migration: filled and kept by lib/vfio/mig.c. */
	bool mig_queried;
	uint64_t mig_flags;  /* VFIO_MIGRATION_* */
	uint32_t state;	     /* last state set or read, or VMT_STATE_UNKNOWN */
	int data_fd;	     /* the open migration data fd, or -1 */
	unsigned int resets; /* VFIO_DEVICE_RESETs issued by recovery */
};

/*
 * The forms above as messages name them, after "not ": the one wording of
 * every "this is not a device name" (lib/common/cli.c, lib/common/failure.c).
 */
#define VMT_DEVICE_FORMS_NAMED "vfioN, /dev/vfio/devices/vfioN, a PCI address or an mdev UUID"
#define VMT_DEVICE_FORMS_ALL "vfioN, /dev/vfio/devices/vfioN, a PCI address, an mdev UUID or fd:N"

/*
 * Open the device named spec. -ENOENT: no such device (cdev, sysfs entry
 * or group node); -EINVAL: spec is none of the forms above; -EBUSY: group
 * not viable or device in use; other -errno from the kernel.
 */
int vmt_device_open(const char *spec, const struct vmt_device_open_opts *opts,
		    struct vmt_device **out);
/*
 * Whether spec is a device name vmt_device_open() understands (0), or
 * none of the forms above (-EINVAL): a usage error, found before anything
 * is opened.
 */
int vmt_device_spec_check(const char *spec);

/* Closes the data fd and what the library opened (not an inherited fd). */
void vmt_device_close(struct vmt_device *dev);

/* "cdev", "group", "fd" */
const char *vmt_device_access_name(enum vmt_device_access access);

#endif
