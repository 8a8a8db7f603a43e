// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Refusing devices in use, and leaving them RUNNING; see safety.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strutils.h"
#include "vfio/iommufd-ioctl.h"
#include "vfio/sysfs.h"
#include "vfio/vfio-ioctl.h"
#include "probe.h"
#include "safety.h"

void safety_drop_everything(void)
{
	/* the checks' device, iommufd, group and data fds: the devices can be bound again */
	close_range(STDERR_FILENO + 1, ~0U, 0);
}

#define CDEV_DIR "/dev/vfio/devices/"

/*
 * The cdev path of a spec that names one: a path (also a link to a cdev),
 * a bare "vfioN", or fd:N (the cdev open on N; the checks open it anew,
 * so a bound fd, a VMM's, is found in use).  -ENODEV: not a cdev.
 */
static int cdev_path_of(const char *spec, char *out, size_t len)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (!strncmp(spec, "fd:", 3)) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", spec + 3);
		n = readlink(link, path, sizeof(path) - 1);
		if (n < 0)
			return errno == ENOENT ? -EBADF : -errno;
		path[n] = '\0';
	} else if (!strchr(spec, '/')) {
		snprintf(path, sizeof(path), CDEV_DIR "%s", spec);
	} else if (strncmp(spec, CDEV_DIR, strlen(CDEV_DIR)) && realpath(spec, path)) {
		/* ./vfio0, a link: where it leads */
	} else if (vmt_copy_string(path, sizeof(path), spec)) {
		return -ENAMETOOLONG;
	}
	if (strncmp(path, CDEV_DIR, strlen(CDEV_DIR)) || !path[strlen(CDEV_DIR)])
		return -ENODEV;
	return vmt_copy_string(out, len, path) ? -ENAMETOOLONG : 0;
}

/* The sysfs directory of spec, and its cdev node; the forms as vmt_device_spec_check's. */
static int find_sysfs_dir(const char *spec, struct target *t, char *dir, size_t len)
{
	char bdf[32], cdev[64];
	int ret;

	if (vmt_sysfs_is_uuid(spec))
		ret = vmt_sysfs_mdev_dir(spec, dir, len);
	else if (strncmp(spec, "fd:", 3) && !strchr(spec, '/') &&
		 !vmt_sysfs_parse_pci_address(spec, bdf, sizeof(bdf)))
		ret = vmt_sysfs_pci_dir(bdf, dir, len);
	else if ((ret = cdev_path_of(spec, t->cdev, sizeof(t->cdev))))
		return ret;
	else
		return vmt_sysfs_dir_of_cdev(t->cdev + strlen(CDEV_DIR), dir, len);
	if (!ret)
		ret = vmt_sysfs_vfio_cdev(dir, cdev, sizeof(cdev));
	if (!ret)
		snprintf(t->cdev, sizeof(t->cdev), CDEV_DIR "%s", cdev);
	return ret;
}

int target_resolve(const char *spec, struct target *t)
{
	char dir[PATH_MAX], group[32];
	const char *base;
	int ret;

	*t = (struct target){ .spec = spec, .final_state = ~0U };
	ret = find_sysfs_dir(spec, t, dir, sizeof(dir));
	if (ret)
		/* a cdev path still works without sysfs, only the group group is skipped */
		return t->cdev[0] && access(t->cdev, F_OK) == 0 ? 0 : ret;
	base = strrchr(dir, '/');
	if (vmt_copy_string(t->name, sizeof(t->name), base ? base + 1 : dir))
		t->name[0] = '\0'; /* no usable name: the group group is skipped */
	if (!vmt_sysfs_iommu_group(dir, group, sizeof(group)))
		snprintf(t->group_node, sizeof(t->group_node), "/dev/vfio/%s", group);
	return access(t->cdev, F_OK) ? -errno : 0;
}

static void read_facts(struct dev *d, struct target_facts *facts)
{
	uint64_t caps = 0;

	facts->dma_logging = !vmt_vfio_feature_probe(d->fd, VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
						     VFIO_DEVICE_FEATURE_SET);
	facts->iommu_dirty = !vmt_iommufd_get_hw_info(d->iommufd, d->devid, &caps, NULL) &&
			     (caps & IOMMU_HW_CAP_DIRTY_TRACKING);
}

int target_preflight(const struct target *t, struct target_facts *facts, char *why, size_t len)
{
	struct dev d;
	uint32_t state = ~0U;
	int ret = dev_open(&d, t->cdev);

	*facts = (struct target_facts){ 0 };
	if (ret == -EBUSY || (ret == -EINVAL && d.fd >= 0 && d.iommufd >= 0)) {
		snprintf(why, len,
			 "in use: binding it gave %s (another process holds it, "
			 "through its group or its cdev)",
			 strerror(-ret));
		ret = -EBUSY;
	} else if (ret) {
		snprintf(why, len, "cannot open and bind it: %s", strerror(-ret));
	} else if ((ret = vmt_vfio_mig_get_flags(d.fd, &facts->mig_flags))) {
		snprintf(why, len, "%s",
			 ret == -ENOTTY || ret == -EOPNOTSUPP
				 ? "the device does not support VFIO migration"
				 : "cannot read its migration flags");
		ret = ret == -ENOTTY ? -EOPNOTSUPP : ret;
	} else if ((ret = mig_get_state(d.fd, &state)) || state != ST_RUNNING) {
		snprintf(why, len, "in use: it is in %s, not RUNNING (a migration under way?)",
			 ret ? "an unreadable state" : sname(state));
		ret = -EBUSY;
	} else {
		read_facts(&d, facts);
	}
	dev_close(&d);
	return ret;
}

int target_leave_running(struct target *t)
{
	struct dev d;
	int ret = dev_open(&d, t->cdev);

	if (!ret)
		ret = mig_get_state(d.fd, &t->final_state);
	if (!ret && t->final_state != ST_RUNNING) {
		t->was_reset = true;
		ret = vmt_vfio_device_reset(d.fd);
		if (!ret)
			ret = mig_get_state(d.fd, &t->final_state);
	}
	if (ret)
		t->final_state = ~0U;
	dev_close(&d);
	return ret ? ret : t->final_state == ST_RUNNING ? 0 : -EIO;
}
