// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The checks' device helpers; see probe.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/timeutil.h"
#include "vfio/iommufd-ioctl.h"
#include "vfio/mig.h"
#include "vfio/vfio-ioctl.h"
#include "probe.h"
#include "results.h"
#include "timing.h"

unsigned char io_buf[IO_CHUNK];

const char *sname(uint32_t s)
{
	return vmt_state_name(s);
}

/*
 * The checker's own copy of the kernel's state_flags_table, not
 * lib/vfio/mig's: the expectations must not share a mistake with the
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
	d->ready = !ret;
	return ret;
}

void dev_close(struct dev *d)
{
	close_fd(&d->fd);
	close_fd(&d->iommufd);
	d->ready = false;
}

void dev_release(struct dev *d)
{
	if (d->ready)
		dev_to_running(d);
	dev_close(d);
}

bool dev_open_checked(struct dev *d, const char *path)
{
	int ret = dev_open(d, path);

	if (ret) {
		/* not left bound: later groups, and the end of the run, open it again */
		dev_close(d);
		return check(false, "open, bind, IOAS, attach %s: %s", path, errname(ret));
	}
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

int64_t read_to_pause(int fd, struct sink *to, int *end_errno)
{
	uint64_t total = 0, read_ns = 0;
	int ret;

	*end_errno = 0;
	for (;;) {
		uint64_t start = vmt_monotonic_ns();
		ssize_t n = read(fd, io_buf, sizeof(io_buf));

		read_ns += vmt_monotonic_ns() - start;
		if (n < 0 && errno == ENOMSG) {
			*end_errno = -ENOMSG;
			n = 0;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if (to && (ret = to->take(to, io_buf, (size_t)n)))
			return ret;
		total += (uint64_t)n;
	}
	/* the reads alone: where the bytes went is not the device's speed */
	timing_read(total, read_ns);
	return (int64_t)total;
}

int64_t read_to_end(int fd, struct sink *to)
{
	int end;
	int64_t n = read_to_pause(fd, to, &end);

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

static int spool_take(struct sink *sink, const unsigned char *buf, size_t len)
{
	struct spool *s = (struct spool *)sink;
	int ret = write_all(s->fd, buf, len);

	if (!ret)
		s->len += len;
	return ret;
}

int spool_open(struct spool *s)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];

	*s = (struct spool){ .sink = { .take = spool_take }, .fd = NO_FD };
	if (!dir || !*dir)
		dir = "/tmp";
	s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->fd >= 0)
		return 0;
	/* a file system without O_TMPFILE: a named file, unlinked at once */
	if (snprintf(path, sizeof(path), "%s/vfio-mig-check.XXXXXX", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	s->fd = mkostemp(path, O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	unlink(path);
	return 0;
}

void spool_close(struct spool *s)
{
	close_fd(&s->fd);
	s->len = 0;
}

int spool_read(const struct spool *s, uint64_t offset, size_t len, unsigned char *buf)
{
	ssize_t n =
		lseek(s->fd, (off_t)offset, SEEK_SET) < 0 ? -errno : vmt_read_full(s->fd, buf, len);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

int spool_write_to(const struct spool *s, uint64_t offset, uint64_t len, int fd)
{
	while (len) {
		size_t n = len < sizeof(io_buf) ? (size_t)len : sizeof(io_buf);
		int ret = spool_read(s, offset, n, io_buf);

		if (!ret)
			ret = write_all(fd, io_buf, n);
		if (ret)
			return ret;
		offset += n;
		len -= n;
	}
	return 0;
}

int64_t save_stream(struct dev *b, struct sink *to)
{
	int fd = NO_FD, ret;
	int64_t n;

	ret = mig_set_state(b->fd, ST_STOP_COPY, &fd);
	if (ret || fd < 0) {
		check(false, "%s: RUNNING -> STOP_COPY for a stream: %s, data_fd %d", b->path,
		      errname(ret), fd);
		close_fd(&fd);
		return -EIO;
	}
	n = read_to_end(fd, to);
	close_fd(&fd);
	if (n <= 0) {
		check(false, "%s: reading its stream: %s", b->path,
		      n ? errname((int)n) : "no bytes");
		return -EIO;
	}
	if (!dev_to_running(b))
		return -EIO;
	return n;
}

bool check_bytes(int64_t got, uint64_t want, const char *what, const char *rule)
{
	char expected[32];

	if (got >= 0)
		return check_u64((uint64_t)got, want, what, rule);
	snprintf(expected, sizeof(expected), "%llu", (unsigned long long)want);
	return check_answer(false, what, rule, expected, errname((int)got));
}
