/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sysfs lookups the device layer needs: where a PCI function or mdev
 * lives, its VFIO cdev and IOMMU group, and its identity attributes.
 * Results are 0 or -errno (-ENOENT when an entry does not exist).
 */
#ifndef VMT_SYSFS_H
#define VMT_SYSFS_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* "0000:01:00.0" or "01:00.0" (domain 0) into the canonical form; -EINVAL otherwise. */
int vmt_sysfs_parse_pci_address(const char *s, char *out, size_t len);
/* An mdev UUID: 8-4-4-4-12 hex digits. */
bool vmt_sysfs_is_uuid(const char *s);

/* /sys/bus/pci/devices/BDF or /sys/bus/mdev/devices/UUID, when it exists. */
int vmt_sysfs_pci_dir(const char *bdf, char *out, size_t len);
int vmt_sysfs_mdev_dir(const char *uuid, char *out, size_t len);
/* The device directory of cdev "vfioN" (searching PCI and mdev devices). */
int vmt_sysfs_dir_of_cdev(const char *cdev_name, char *out, size_t len);

/* "vfioN" from DIR/vfio-dev/: -ENOENT when the device has no cdev. */
int vmt_sysfs_vfio_cdev(const char *dir, char *out, size_t len);
/* The IOMMU group number (basename of DIR/iommu_group). */
int vmt_sysfs_iommu_group(const char *dir, char *out, size_t len);
/* The basename of the symlink DIR/attr (driver, mdev_type). */
int vmt_sysfs_link_name(const char *dir, const char *attr, char *out, size_t len);
/* DIR/attr as a number ("0x8086\n" or decimal). */
int vmt_sysfs_read_u64(const char *dir, const char *attr, uint64_t *out);

/* A device that VFIO drives, as sysfs shows it. */
struct vmt_sysfs_vfio_entry {
	char name[64];	    /* "0000:3b:00.1" or an mdev UUID */
	char dir[PATH_MAX]; /* its /sys/bus/.../devices/NAME directory */
	bool mdev;
};

/*
 * Every VFIO device of this host, PCI functions (sorted by address) then
 * mdevs (by UUID): a PCI function with a VFIO cdev or bound to a VFIO
 * driver (vfio-pci and its variants: a driver name with "vfio" in it, the
 * group-only devices of a kernel without VFIO_DEVICE_CDEV), every mdev.
 * *out is malloc'ed (free it); a bus that is absent contributes nothing.
 */
int vmt_sysfs_list_vfio_devices(struct vmt_sysfs_vfio_entry **out, size_t *count);

#endif
