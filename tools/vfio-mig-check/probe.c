// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The checks' device helpers; see probe.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "iommufd-ioctl.h"
#include "probe.h"
#include "results.h"
#include "timing.h"
#include "timeutil.h"
#include "vfio-ioctl.h"
#include "vfio-mig.h"

unsigned char stream_buf[STREAM_CAP];

const char *sname(uint32_t s)
{
	return vmt_mig_state_name(s);
}

/*
 * The checker's own copy of the kernel's state_flags_table, not
 * lib/vfio-mig's: the expectations must not share a mistake with the
 * library the other tools run on.
 */
bool state_supported(uint32_t state, uint64_t flags)
{
	uint64_t need;

	switch (state) {
	case ST_RUNNING_P2P:
		need = VFIO_MIGRATION_P2P;
		break;
	case ST_PRE_COPY:
		need = VFIO_MIGRATION_PRE_COPY;
		break;
	case ST_PRE_COPY_P2P:
		need = VFIO_MIGRATION_PRE_COPY | VFIO_MIGRATION_P2P;
		break;
	case ST_ERROR:
		return false;
	default:
		need = VFIO_MIGRATION_STOP_COPY;
		break;
	}
	return state < VMT_VFIO_DEVICE_STATE_COUNT && (flags & need) == need;
}

int neg_errno(int ret)
{
	return ret < 0 ? -errno : ret;
}

void close_fd(int *fd)
{
	if (*fd >= 0 && *fd != FD_POISON)
		close(*fd);
	*fd = NO_FD;
}

int feature(int devfd, uint32_t flags, void *payload, size_t len, uint32_t argsz)
{
	union {
		struct vfio_device_feature hdr;
		uint64_t words[8];
	} buf = { .hdr = { .argsz = argsz, .flags = flags } };
	int ret;

	if (len > sizeof(buf) - sizeof(buf.hdr))
		return -E2BIG;
	if (len)
		memcpy(buf.hdr.data, payload, len);
	ret = vmt_vfio_device_feature_raw(devfd, &buf.hdr);
	if (len)
		memcpy(payload, buf.hdr.data, len);
	return ret;
}

int mig_get_state(int devfd, uint32_t *state)
{
	struct vfio_device_feature_mig_state mig = { .data_fd = FD_POISON };
	int ret = feature(devfd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			  &mig, sizeof(mig), sizeof(struct vfio_device_feature) + sizeof(mig));

	*state = ret ? ~0U : mig.device_state;
	return ret;
}

int mig_set_state(int devfd, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = {
		.device_state = state,
		.data_fd = FD_POISON,
	};
	int ret = feature(devfd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			  &mig, sizeof(mig), sizeof(struct vfio_device_feature) + sizeof(mig));

	if (data_fd)
		*data_fd = mig.data_fd;
	else if (mig.data_fd >= 0 && mig.data_fd != FD_POISON)
		close(mig.data_fd);
	return ret;
}

int mig_data_size(int devfd, uint64_t *len)
{
	struct vfio_device_feature_mig_data_size ds = { .stop_copy_length = ~0ULL };
	int ret = feature(devfd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds,
			  sizeof(ds), sizeof(struct vfio_device_feature) + sizeof(ds));

	*len = ds.stop_copy_length;
	return ret;
}

int mig_flags(int devfd, uint64_t *flags)
{
	struct vfio_device_feature_migration mig = { .flags = 0 };
	int ret = feature(devfd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig,
			  sizeof(mig), sizeof(struct vfio_device_feature) + sizeof(mig));

	*flags = mig.flags;
	return ret;
}

int precopy_info(int datafd, uint32_t argsz, struct vfio_precopy_info *info)
{
	*info = (struct vfio_precopy_info){ .argsz = argsz };
	return vmt_vfio_mig_get_precopy_info_raw(datafd, info);
}

int bind_iommufd(int devfd, uint32_t argsz, uint32_t flags, int iommufd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = argsz,
		.flags = flags,
		.iommufd = iommufd,
	};
	int ret = vmt_vfio_device_bind_iommufd_raw(devfd, &bind);

	if (!ret && devid)
		*devid = bind.out_devid;
	return ret;
}

int attach_pt(int devfd, uint32_t pt_id, uint32_t flags)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.flags = flags,
		.pt_id = pt_id,
	};

	return vmt_vfio_device_attach_iommufd_pt_raw(devfd, &attach);
}

int get_info(int devfd, uint32_t argsz, struct vfio_device_info *info)
{
	*info = (struct vfio_device_info){ .argsz = argsz };
	return vmt_vfio_device_get_info_raw(devfd, info);
}

int dev_open(struct dev *d, const char *path)
{
	int ret;

	*d = (struct dev){ .path = path, .fd = -1, .iommufd = -1 };
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return -errno;
	d->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (d->iommufd < 0)
		return -errno;
	ret = vmt_vfio_device_bind_iommufd(d->fd, d->iommufd, &d->devid);
	if (!ret)
		ret = vmt_iommufd_ioas_alloc(d->iommufd, &d->ioas);
	if (!ret)
		ret = vmt_vfio_device_attach_iommufd_pt(d->fd, d->ioas);
	return ret;
}

void dev_close(struct dev *d)
{
	close_fd(&d->fd);
	close_fd(&d->iommufd);
}

bool dev_open_checked(struct dev *d, const char *path)
{
	int ret = dev_open(d, path);

	if (ret)
		return check(false, "open, bind, IOAS, attach %s: %s", path, errname(ret));
	return true;
}

bool dev_to_running(struct dev *d)
{
	uint32_t state = ~0U;
	int ret = vmt_vfio_device_reset(d->fd);

	if (!ret)
		ret = mig_get_state(d->fd, &state);
	if (ret || state != ST_RUNNING)
		return check(false, "%s: reset to RUNNING: %s, state %s", d->path, errname(ret),
			     sname(state));
	return true;
}

ssize_t read_to_pause(int fd, unsigned char *buf, size_t cap, int *end_errno)
{
	uint64_t start = vmt_monotonic_ns();
	size_t total = 0;

	*end_errno = 0;
	for (;;) {
		ssize_t n = read(fd, buf + total, cap - total);

		if (n < 0 && errno == ENOMSG) {
			*end_errno = -ENOMSG;
			n = 0;
		}
		if (n < 0)
			return -errno;
		if (n == 0) {
			timing_read(total, vmt_monotonic_ns() - start);
			return (ssize_t)total;
		}
		total += (size_t)n;
		if (total == cap)
			return -E2BIG;
	}
}

ssize_t read_to_end(int fd, unsigned char *buf, size_t cap)
{
	int end;
	ssize_t n = read_to_pause(fd, buf, cap, &end);

	return end ? end : n;
}

int write_all(int fd, const unsigned char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int read_once(int fd, size_t n)
{
	unsigned char buf[64];

	return neg_errno((int)read(fd, buf, n < sizeof(buf) ? n : sizeof(buf)));
}

ssize_t save_stream(struct dev *b, unsigned char *buf)
{
	int fd = NO_FD, ret;
	ssize_t n;

	ret = mig_set_state(b->fd, ST_STOP_COPY, &fd);
	if (ret || fd < 0) {
		check(false, "%s: RUNNING -> STOP_COPY for a stream: %s, data_fd %d", b->path,
		      errname(ret), fd);
		close_fd(&fd);
		return -EIO;
	}
	n = read_to_end(fd, buf, STREAM_CAP);
	close_fd(&fd);
	if (n <= 0) {
		check(false, "%s: reading its stream: %s", b->path, errname((int)n));
		return -EIO;
	}
	if (!dev_to_running(b))
		return -EIO;
	return n;
}
