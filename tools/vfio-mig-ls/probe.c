// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-ls: identity and migration facts of one device; see probe.h.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "vfio/device.h"
#include "vfio/iommufd-ioctl.h"
#include "vfio/mig.h"
#include "vfio/vfio-ioctl.h"

#include "probe.h"

static void read_identity(struct ls_device *d)
{
	const char *dir = d->entry.dir;
	uint64_t vendor, device;

	vmt_sysfs_vfio_cdev(dir, d->cdev, sizeof(d->cdev));
	vmt_sysfs_iommu_group(dir, d->group, sizeof(d->group));
	vmt_sysfs_link_name(dir, "driver", d->driver, sizeof(d->driver));
	vmt_sysfs_link_name(dir, "mdev_type", d->mdev_type, sizeof(d->mdev_type));
	if (vmt_sysfs_read_u64(dir, "vendor", &vendor) == 0 &&
	    vmt_sysfs_read_u64(dir, "device", &device) == 0 && vendor <= UINT16_MAX &&
	    device <= UINT16_MAX) {
		d->has_ids = true;
		d->vendor = (uint16_t)vendor;
		d->device = (uint16_t)device;
	}
}

static enum ls_access access_of_error(int neg_errno)
{
	switch (neg_errno) {
	case -EBUSY:
		return LS_BUSY;
	case -EACCES:
	case -EPERM:
		return LS_DENIED;
	case -ENOENT:
	case -ENODEV:
		return LS_NO_NODE;
	default:
		return LS_FAILED;
	}
}

static void read_migration(struct ls_device *d, struct vmt_device *dev)
{
	if (vmt_mig_query(dev) < 0)
		return;
	d->migratable = true;
	d->mig_flags = dev->mig_flags;
	d->state_known = vmt_mig_get_state(dev, &d->state) == 0;
	d->stop_copy_known = vmt_mig_stop_copy_size(dev, &d->stop_copy_bytes) == 0;
}

static enum ls_tristate dma_logging_of(struct vmt_device *dev)
{
	int ret = vmt_vfio_feature_probe(dev->fd, VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
					 VFIO_DEVICE_FEATURE_SET);

	if (ret == 0)
		return LS_YES;
	/* vfio_ioctl_device_feature: ENOTTY when the driver has no such feature. */
	return ret == -ENOTTY || ret == -EOPNOTSUPP ? LS_NO : LS_UNKNOWN;
}

/* Only a device bound to an iommufd can ask its IOMMU (IOMMU_GET_HW_INFO). */
static enum ls_tristate iommu_dirty_of(struct vmt_device *dev)
{
	uint64_t caps = 0;

	if (dev->access != VMT_ACCESS_CDEV ||
	    vmt_iommufd_get_hw_info(dev->iommufd, dev->dev_id, &caps, NULL) < 0)
		return LS_UNKNOWN;
	return caps & IOMMU_HW_CAP_DIRTY_TRACKING ? LS_YES : LS_NO;
}

void ls_probe_device(const struct vmt_sysfs_vfio_entry *entry, bool open, struct ls_device *out)
{
	struct vmt_device *dev;
	int ret;

	*out = (struct ls_device){ .entry = *entry };
	read_identity(out);
	if (!open)
		return;
	/*
	 * Opening takes nothing from anyone: a device a VMM holds refuses the
	 * bind (cdev) or the group open with EBUSY, and is listed as busy.
	 */
	ret = vmt_device_open(entry->name, NULL, &dev);
	if (ret < 0) {
		out->access = access_of_error(ret);
		out->open_errno = -ret;
		vmt_dbg("%s: cannot open: %s", entry->name, strerror(-ret));
		return;
	}
	out->access = LS_OPENED;
	out->via = vmt_device_access_name(dev->access);
	read_migration(out, dev);
	out->dma_logging = dma_logging_of(dev);
	out->iommu_dirty = iommu_dirty_of(dev);
	vmt_device_close(dev);
}

const char *ls_access_name(enum ls_access access)
{
	switch (access) {
	case LS_OPENED:
		return "ok";
	case LS_BUSY:
		return "busy";
	case LS_DENIED:
		return "denied";
	case LS_NO_NODE:
		return "no-node";
	case LS_FAILED:
		return "error";
	default:
		return "-";
	}
}
