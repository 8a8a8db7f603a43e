// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Opening VFIO devices by cdev, PCI address, mdev UUID, group or inherited
 * fd; see vfio-device.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/c.h"
#include "common/log.h"
#include "common/strutils.h"
#include "vfio/device.h"
#include "vfio/iommufd-ioctl.h"
#include "vfio/sysfs.h"
#include "vfio/vfio-ioctl.h"

#define VFIO_CDEV_DIR "/dev/vfio/devices"
#define VFIO_CONTAINER_NODE "/dev/vfio/vfio"
#define IOMMUFD_NODE "/dev/iommu"

static int open_node(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	vmt_trace("vfio-device: opened %s as fd %d", path, fd);
	return fd;
}

/* "/dev/vfio/devices/vfio3" -> "vfio3"; NULL when path is not a cdev path. */
static const char *cdev_name_of(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strncmp(base, "vfio", 4) != 0 || !base[4])
		return NULL;
	for (const char *p = base + 4; *p; p++)
		if (*p < '0' || *p > '9')
			return NULL;
	return base;
}

/* Exactly "/dev/vfio/devices/vfioN". */
static bool is_cdev_path(const char *path)
{
	static const char dir[] = VFIO_CDEV_DIR "/";
	const char *name = cdev_name_of(path);

	return name && name == path + strlen(dir) && strncmp(path, dir, strlen(dir)) == 0;
}

/* Identity: PCI ids when the directory has them, the driver, the mdev type. */
static void collect_identity(struct vmt_device *dev)
{
	uint64_t v[6];
	static const char *const attrs[6] = { "vendor",		  "device", "subsystem_vendor",
					      "subsystem_device", "class",  "revision" };
	bool all = true;

	if (!dev->sysfs_dir[0])
		return;
	for (int i = 0; i < 6; i++)
		if (vmt_sysfs_read_u64(dev->sysfs_dir, attrs[i], &v[i]) < 0)
			all = false;
	if (all) {
		dev->has_pci_ids = true;
		dev->vendor = v[0];
		dev->device = v[1];
		dev->subsys_vendor = v[2];
		dev->subsys_device = v[3];
		dev->class_code = v[4];
		dev->revision = v[5];
	}
	vmt_sysfs_link_name(dev->sysfs_dir, "driver", dev->driver, sizeof(dev->driver));
	vmt_sysfs_link_name(dev->sysfs_dir, "mdev_type", dev->mdev_type, sizeof(dev->mdev_type));
}

static int open_cdev(struct vmt_device *dev, const char *node)
{
	int ret;

	if ((ret = vmt_copy_string(dev->node, sizeof(dev->node), node)) < 0)
		return ret;
	dev->access = VMT_ACCESS_CDEV;
	dev->fd = open_node(node);
	if (dev->fd < 0)
		return dev->fd;
	dev->iommufd = open_node(IOMMUFD_NODE);
	if (dev->iommufd < 0)
		return dev->iommufd;
	ret = vmt_vfio_device_bind_iommufd(dev->fd, dev->iommufd, &dev->dev_id);
	/* vfio_df_open: a cdev device already open elsewhere refuses a second bind with EINVAL. */
	if (ret == -EINVAL)
		return -EBUSY;
	if (ret < 0)
		return ret;
	/* Migration needs no DMA mappings: an empty IOAS is enough to attach to. */
	ret = vmt_iommufd_ioas_alloc(dev->iommufd, &dev->ioas_id);
	if (ret < 0)
		return ret;
	return vmt_vfio_device_attach_iommufd_pt(dev->fd, dev->ioas_id);
}

static int pick_iommu_type(int container_fd, bool noiommu, unsigned long *type)
{
	static const unsigned long preferred[] = { VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU };

	if (noiommu) {
		if (vmt_vfio_check_extension(container_fd, VFIO_NOIOMMU_IOMMU) > 0) {
			*type = VFIO_NOIOMMU_IOMMU;
			return 0;
		}
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(preferred); i++) {
		if (vmt_vfio_check_extension(container_fd, preferred[i]) > 0) {
			*type = preferred[i];
			return 0;
		}
	}
	return -EOPNOTSUPP;
}

/* Legacy path: container, group, then the device fd by its sysfs name (BDF or UUID). */
static int open_group(struct vmt_device *dev)
{
	char group[64], node[PATH_MAX];
	const char *devname = strrchr(dev->sysfs_dir, '/');
	unsigned long iommu_type;
	uint32_t status = 0;
	struct stat st;
	bool noiommu = false;
	int ret;

	if (!devname)
		return -ENOENT;
	devname++;
	ret = vmt_sysfs_iommu_group(dev->sysfs_dir, group, sizeof(group));
	if (ret < 0)
		return ret;
	snprintf(node, sizeof(node), "/dev/vfio/%s", group);
	if (stat(node, &st) < 0) {
		snprintf(node, sizeof(node), "/dev/vfio/noiommu-%s", group);
		if (stat(node, &st) < 0)
			return -ENOENT;
		noiommu = true;
	}
	if ((ret = vmt_copy_string(dev->node, sizeof(dev->node), node)) < 0)
		return ret;
	dev->access = VMT_ACCESS_GROUP;

	dev->container_fd = open_node(VFIO_CONTAINER_NODE);
	if (dev->container_fd < 0)
		return dev->container_fd;
	ret = vmt_vfio_get_api_version(dev->container_fd);
	if (ret < 0)
		return ret;
	if (ret != VFIO_API_VERSION)
		return -EOPNOTSUPP;
	ret = pick_iommu_type(dev->container_fd, noiommu, &iommu_type);
	if (ret < 0)
		return ret;

	dev->group_fd = open_node(node);
	if (dev->group_fd < 0)
		return dev->group_fd;
	ret = vmt_vfio_group_get_status(dev->group_fd, &status);
	if (ret < 0)
		return ret;
	/* Not viable: another device of the group is bound to a host driver. */
	if (!(status & VFIO_GROUP_FLAGS_VIABLE))
		return -EBUSY;
	ret = vmt_vfio_group_set_container(dev->group_fd, dev->container_fd);
	if (ret < 0)
		return ret;
	ret = vmt_vfio_set_iommu(dev->container_fd, iommu_type);
	if (ret < 0)
		return ret;
	ret = vmt_vfio_group_get_device_fd(dev->group_fd, devname);
	if (ret < 0)
		return ret;
	dev->fd = ret;
	return 0;
}

static int open_inherited(struct vmt_device *dev, const char *num)
{
	char link[64], target[PATH_MAX];
	uint64_t fd;
	ssize_t n;

	if (vmt_parse_u64(num, 0, INT32_MAX, &fd) < 0)
		return -EINVAL;
	if (fcntl((int)fd, F_GETFD) < 0)
		return -EBADF;
	dev->fd = (int)fd;
	dev->fd_inherited = true;
	dev->access = VMT_ACCESS_FD;
	snprintf(dev->node, sizeof(dev->node), "fd:%d", dev->fd);
	/* Identity when the fd is a cdev we can name; a group-obtained fd stays anonymous. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dev->fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		if (is_cdev_path(target))
			vmt_sysfs_dir_of_cdev(cdev_name_of(target), dev->sysfs_dir,
					      sizeof(dev->sysfs_dir));
	}
	return 0;
}

enum spec_kind {
	SPEC_INVALID,
	SPEC_FD,   /* fd:N */
	SPEC_NODE, /* /dev/vfio/devices/vfioN, or vfioN for it */
	SPEC_PCI,  /* 0000:01:00.0 or 01:00.0 */
	SPEC_UUID, /* an mdev */
};

static enum spec_kind spec_kind_of(const char *spec)
{
	char bdf[32];
	uint64_t fd;

	if (strncmp(spec, "fd:", 3) == 0)
		return vmt_parse_u64(spec + 3, 0, INT32_MAX, &fd) == 0 ? SPEC_FD : SPEC_INVALID;
	/*
	 * Only the cdev directory's own names: any other path ("../../etc/passwd",
	 * a FIFO that blocks the open) is a typo or worse, never a device to open.
	 */
	if (cdev_name_of(spec) == spec || is_cdev_path(spec))
		return SPEC_NODE;
	if (vmt_sysfs_parse_pci_address(spec, bdf, sizeof(bdf)) == 0)
		return SPEC_PCI;
	if (vmt_sysfs_is_uuid(spec))
		return SPEC_UUID;
	return SPEC_INVALID;
}

int vmt_device_spec_check(const char *spec)
{
	return spec_kind_of(spec) == SPEC_INVALID ? -EINVAL : 0;
}

/* BDF or UUID to its sysfs directory. */
static int sysfs_dir_of_name(const char *spec, enum spec_kind kind, char *out, size_t len)
{
	char bdf[32];

	if (kind == SPEC_UUID)
		return vmt_sysfs_mdev_dir(spec, out, len);
	if (vmt_sysfs_parse_pci_address(spec, bdf, sizeof(bdf)) < 0)
		return -EINVAL;
	return vmt_sysfs_pci_dir(bdf, out, len);
}

static int open_spec(struct vmt_device *dev, const char *spec,
		     const struct vmt_device_open_opts *opts)
{
	enum spec_kind kind = spec_kind_of(spec);
	char cdev[64], node[PATH_MAX];
	int ret;

	if (kind == SPEC_INVALID)
		return -EINVAL;
	if (kind == SPEC_FD)
		return open_inherited(dev, spec + 3);

	if (kind == SPEC_NODE) {
		const char *name = cdev_name_of(spec);

		snprintf(node, sizeof(node), VFIO_CDEV_DIR "/%s", name);
		vmt_sysfs_dir_of_cdev(name, dev->sysfs_dir, sizeof(dev->sysfs_dir));
		if (opts && opts->force_group) {
			if (!dev->sysfs_dir[0])
				return -ENOENT;
			return open_group(dev);
		}
		return open_cdev(dev, node);
	}

	ret = sysfs_dir_of_name(spec, kind, dev->sysfs_dir, sizeof(dev->sysfs_dir));
	if (ret < 0)
		return ret;
	if (!(opts && opts->force_group) &&
	    vmt_sysfs_vfio_cdev(dev->sysfs_dir, cdev, sizeof(cdev)) == 0) {
		struct stat st;

		snprintf(node, sizeof(node), VFIO_CDEV_DIR "/%s", cdev);
		/* A kernel without VFIO_DEVICE_CDEV has no node: fall back to the group. */
		if (stat(node, &st) == 0)
			return open_cdev(dev, node);
		vmt_dbg("%s: %s missing, using the group", spec, node);
	}
	return open_group(dev);
}

int vmt_device_open(const char *spec, const struct vmt_device_open_opts *opts,
		    struct vmt_device **out)
{
	struct vmt_device *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->fd = dev->iommufd = dev->container_fd = dev->group_fd = dev->data_fd = -1;
	dev->state = VMT_STATE_UNKNOWN;
	ret = vmt_copy_string(dev->name, sizeof(dev->name), spec);
	if (ret == 0)
		ret = open_spec(dev, spec, opts);
	if (ret < 0) {
		vmt_dbg("%s: open failed: %s", spec, strerror(-ret));
		vmt_device_close(dev);
		return ret;
	}
	collect_identity(dev);
	vmt_dbg("%s: opened via %s (%s)%s%s", spec, vmt_device_access_name(dev->access), dev->node,
		dev->sysfs_dir[0] ? ", sysfs " : "", dev->sysfs_dir);
	*out = dev;
	return 0;
}

void vmt_device_close(struct vmt_device *dev)
{
	if (!dev)
		return;
	if (dev->data_fd >= 0)
		close(dev->data_fd);
	if (dev->fd >= 0 && !dev->fd_inherited)
		close(dev->fd);
	if (dev->iommufd >= 0)
		close(dev->iommufd);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	if (dev->container_fd >= 0)
		close(dev->container_fd);
	free(dev);
}

const char *vmt_device_access_name(enum vmt_device_access access)
{
	switch (access) {
	case VMT_ACCESS_CDEV:
		return "cdev";
	case VMT_ACCESS_GROUP:
		return "group";
	case VMT_ACCESS_FD:
		return "fd";
	default:
		return "none";
	}
}
