// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-conformance: the kernel's VFIO migration and iommufd dirty-tracking
 * rules, checked with raw ioctls on whatever answers them: the real kernel
 * (mtty and the iommufd mock, tests/kernel) or the simulator (tests/sim).
 * The same binary and the same expectations run on both tiers; where they
 * disagree the kernel is right (tests/README).
 *
 * It is a reference checker, independent of the project's library: only
 * the uAPI headers, and every ioctl through one named function below.
 * Expectations come from the Linux 6.12 source; each rule names where.
 *
 * The only per-tier inputs are what the DEVICE legitimately chooses: how
 * many bytes it produces (--precopy-bytes, --stopcopy-bytes,
 * --direct-bytes) and its MIG_DATA_SIZE answer (--data-size), and which
 * kernel version answers (uname -r, or --kernel for the simulator): a few
 * rules changed within 6.12 stable (version_rules below).
 *
 * Output is TAP; exit 0 when every check passed, 1 otherwise, 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "uapi/vfio-uapi.h"
#include "uapi/iommufd-uapi.h"

#define PROG "vfio-conformance"
#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#define NO_FD (-1)
/* data_fd is preset to this before a SET, to see that the kernel wrote it */
#define FD_POISON 0x5a5a5a

/* ------------------------------------------------------------------ TAP */

static unsigned int test_count, fail_count;

static const char *errname(int err)
{
	static char buf[32];

	switch (err) {
	case 0: return "success";
	case -EINVAL: return "EINVAL";
	case -ENOTTY: return "ENOTTY";
	case -ENODEV: return "ENODEV";
	case -EBADF: return "EBADF";
	case -EBADFD: return "EBADFD";
	case -ENOENT: return "ENOENT";
	case -EOPNOTSUPP: return "EOPNOTSUPP";
	case -E2BIG: return "E2BIG";
	case -EOVERFLOW: return "EOVERFLOW";
	case -ENOMEM: return "ENOMEM";
	case -EFAULT: return "EFAULT";
	case -ESPIPE: return "ESPIPE";
	case -EBUSY: return "EBUSY";
	case -ENOMSG: return "ENOMSG";
	case -EIO: return "EIO";
	case -EPERM: return "EPERM";
	case -EMSGSIZE: return "EMSGSIZE";
	case -EEXIST: return "EEXIST";
	}
	snprintf(buf, sizeof(buf), err < 0 ? "errno %d" : "%d", err < 0 ? -err : err);
	return buf;
}

static bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	test_count++;
	if (!ok)
		fail_count++;
	printf("%s %u - ", ok ? "ok" : "not ok", test_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return ok;
}

/* An ioctl/syscall answer (0 or -errno) against the kernel's. */
static bool check_err(int got, int want, const char *what, const char *rule)
{
	if (got == want)
		return check(true, "%s: %s", what, errname(want));
	return check(false, "%s: got %s, kernel gives %s (%s)", what, errname(got),
		     errname(want), rule);
}

static bool check_u64(uint64_t got, uint64_t want, const char *what, const char *rule)
{
	if (got == want)
		return check(true, "%s: %" PRIu64, what, want);
	return check(false, "%s: got %" PRIu64 ", expected %" PRIu64 " (%s)", what, got, want,
		     rule);
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int neg_errno(int ret)
{
	return ret < 0 ? -errno : ret;
}

/* ------------------------------------------------- the ioctls, one each */

static int vfio_bind_iommufd(int devfd, __u32 argsz, __u32 flags, int iommufd, __u32 *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = argsz, .flags = flags, .iommufd = iommufd,
	};
	int ret = neg_errno(ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));

	if (!ret && devid)
		*devid = bind.out_devid;
	return ret;
}

static int vfio_attach_iommufd_pt_flags(int devfd, __u32 pt_id, __u32 flags)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach), .flags = flags, .pt_id = pt_id,
	};

	return neg_errno(ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
}

static int vfio_attach_iommufd_pt(int devfd, __u32 pt_id)
{
	return vfio_attach_iommufd_pt_flags(devfd, pt_id, 0);
}

static int vfio_get_info(int devfd, __u32 argsz, struct vfio_device_info *info)
{
	*info = (struct vfio_device_info){ .argsz = argsz };
	return neg_errno(ioctl(devfd, VFIO_DEVICE_GET_INFO, info));
}

static int vfio_reset(int devfd)
{
	return neg_errno(ioctl(devfd, VFIO_DEVICE_RESET));
}

/*
 * VFIO_DEVICE_FEATURE with an explicit argsz, so that short ones can be
 * tried: header + @len bytes of @payload, copied back after the call.
 */
static int vfio_device_feature(int devfd, __u32 flags, void *payload, size_t len, __u32 argsz)
{
	union {
		struct vfio_device_feature hdr;
		__u64 words[8];
	} buf = { .hdr = { .argsz = argsz, .flags = flags } };
	int ret;

	if (len > sizeof(buf) - sizeof(buf.hdr))
		return -E2BIG;
	if (len)
		memcpy(buf.hdr.data, payload, len);
	ret = neg_errno(ioctl(devfd, VFIO_DEVICE_FEATURE, &buf));
	if (len)
		memcpy(payload, buf.hdr.data, len);
	return ret;
}

static int vfio_mig_get_precopy_info(int datafd, __u32 argsz, struct vfio_precopy_info *info)
{
	*info = (struct vfio_precopy_info){ .argsz = argsz };
	return neg_errno(ioctl(datafd, VFIO_MIG_GET_PRECOPY_INFO, info));
}

/* An ioctl the data_fd does not know: VFIO_DEVICE_GET_INFO's number. */
static int data_fd_foreign_ioctl(int datafd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	return neg_errno(ioctl(datafd, VFIO_DEVICE_GET_INFO, &info));
}

/* the legacy container and group (drivers/vfio/container.c, group.c) */
static int vfio_get_api_version(int container)
{
	return neg_errno(ioctl(container, VFIO_GET_API_VERSION));
}

static int vfio_check_extension(int container, unsigned long ext)
{
	return neg_errno(ioctl(container, VFIO_CHECK_EXTENSION, ext));
}

static int vfio_set_iommu(int container, unsigned long type)
{
	return neg_errno(ioctl(container, VFIO_SET_IOMMU, type));
}

static int vfio_group_get_status(int group, __u32 argsz, __u32 *flags)
{
	struct vfio_group_status status = { .argsz = argsz };
	int ret = neg_errno(ioctl(group, VFIO_GROUP_GET_STATUS, &status));

	*flags = status.flags;
	return ret;
}

static int vfio_group_set_container(int group, int container)
{
	return neg_errno(ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
}

/* the device fd, or -errno */
static int vfio_group_get_device_fd(int group, const char *name)
{
	return neg_errno(ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name));
}

static int iommu_ioas_alloc_raw(int iommufd, __u32 size, __u32 flags, __u32 *ioas_id)
{
	struct iommu_ioas_alloc alloc = { .size = size, .flags = flags };
	int ret = neg_errno(ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc));

	if (!ret)
		*ioas_id = alloc.out_ioas_id;
	return ret;
}

static int iommu_ioas_alloc(int iommufd, __u32 *ioas_id)
{
	return iommu_ioas_alloc_raw(iommufd, sizeof(struct iommu_ioas_alloc), 0, ioas_id);
}

/* IOAS_MAP as the caller built it; the iova the kernel chose comes back in it */
static int iommu_ioas_map(int iommufd, struct iommu_ioas_map *map)
{
	return neg_errno(ioctl(iommufd, IOMMU_IOAS_MAP, map));
}

static int iommu_ioas_unmap(int iommufd, __u32 ioas_id, __u64 iova, __u64 length,
			    __u64 *unmapped)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = ioas_id, .iova = iova, .length = length,
	};
	int ret = neg_errno(ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap));

	if (unmapped)
		*unmapped = ret ? 0 : unmap.length;
	return ret;
}

static int iommu_destroy(int iommufd, __u32 id)
{
	struct iommu_destroy destroy = { .size = sizeof(destroy), .id = id };

	return neg_errno(ioctl(iommufd, IOMMU_DESTROY, &destroy));
}

static int iommu_ioas_map_fixed(int iommufd, __u32 ioas_id, void *va, __u64 length, __u64 iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = length,
		.iova = iova,
	};

	return neg_errno(ioctl(iommufd, IOMMU_IOAS_MAP, &map));
}

static int iommu_hwpt_alloc_dirty(int iommufd, __u32 dev_id, __u32 pt_id, __u32 *hwpt_id)
{
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int ret = neg_errno(ioctl(iommufd, IOMMU_HWPT_ALLOC, &alloc));

	if (!ret)
		*hwpt_id = alloc.out_hwpt_id;
	return ret;
}

static int iommu_hwpt_set_dirty_tracking(int iommufd, __u32 hwpt_id, __u32 flags)
{
	struct iommu_hwpt_set_dirty_tracking set = {
		.size = sizeof(set), .flags = flags, .hwpt_id = hwpt_id,
	};

	return neg_errno(ioctl(iommufd, IOMMU_HWPT_SET_DIRTY_TRACKING, &set));
}

/* with no room for ranges: the kernel fills the counts and says EMSGSIZE */
static int iommu_ioas_iova_ranges(int iommufd, __u32 ioas_id, __u32 *num_iovas,
				  __u64 *alignment)
{
	struct iommu_ioas_iova_ranges ranges = { .size = sizeof(ranges), .ioas_id = ioas_id };
	int ret = neg_errno(ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &ranges));

	*num_iovas = ranges.num_iovas;
	*alignment = ranges.out_iova_alignment;
	return ret;
}

/* The command as the caller built it (its .size may lie on purpose). */
static int iommu_hwpt_get_dirty_bitmap(int iommufd, void *cmd)
{
	return neg_errno(ioctl(iommufd, IOMMU_HWPT_GET_DIRTY_BITMAP, cmd));
}

/* ------------------------------------------- migration feature helpers */

static const char *const state_names[] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
	[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
};

static const char *sname(__u32 s)
{
	return s < VMT_VFIO_DEVICE_STATE_COUNT ? state_names[s] : "(invalid)";
}

enum {
	ST_ERROR = VFIO_DEVICE_STATE_ERROR,
	ST_STOP = VFIO_DEVICE_STATE_STOP,
	ST_RUNNING = VFIO_DEVICE_STATE_RUNNING,
	ST_STOP_COPY = VFIO_DEVICE_STATE_STOP_COPY,
	ST_RESUMING = VFIO_DEVICE_STATE_RESUMING,
	ST_RUNNING_P2P = VFIO_DEVICE_STATE_RUNNING_P2P,
	ST_PRE_COPY = VFIO_DEVICE_STATE_PRE_COPY,
	ST_PRE_COPY_P2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

static int mig_get_state(int devfd, __u32 *state)
{
	struct vfio_device_feature_mig_state mig = { .data_fd = FD_POISON };
	int ret = vfio_device_feature(devfd,
				      VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
				      &mig, sizeof(mig),
				      sizeof(struct vfio_device_feature) + sizeof(mig));

	*state = ret ? ~0U : mig.device_state;
	return ret;
}

/* SET; *data_fd gets what the kernel wrote back (also on failure). */
static int mig_set_state(int devfd, __u32 state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = {
		.device_state = state, .data_fd = FD_POISON,
	};
	int ret = vfio_device_feature(devfd,
				      VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
				      &mig, sizeof(mig),
				      sizeof(struct vfio_device_feature) + sizeof(mig));

	if (data_fd)
		*data_fd = mig.data_fd;
	else if (mig.data_fd >= 0 && mig.data_fd != FD_POISON)
		close(mig.data_fd);
	return ret;
}

static int mig_data_size(int devfd, __u64 *len)
{
	struct vfio_device_feature_mig_data_size ds = { .stop_copy_length = ~0ULL };
	int ret = vfio_device_feature(devfd,
				      VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
				      &ds, sizeof(ds),
				      sizeof(struct vfio_device_feature) + sizeof(ds));

	*len = ds.stop_copy_length;
	return ret;
}

static void close_fd(int *fd)
{
	if (*fd >= 0 && *fd != FD_POISON)
		close(*fd);
	*fd = NO_FD;
}

/* ----------------------------------------------------- device context */

struct dev {
	const char *path;
	int fd, iommufd;
	__u32 devid, ioas;
};

/* open + /dev/iommu + BIND + IOAS + ATTACH, the documented cdev sequence */
static int dev_open(struct dev *d, const char *path)
{
	int ret;

	*d = (struct dev){ .path = path, .fd = -1, .iommufd = -1 };
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return -errno;
	d->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (d->iommufd < 0)
		return -errno;
	ret = vfio_bind_iommufd(d->fd, sizeof(struct vfio_device_bind_iommufd), 0, d->iommufd,
				&d->devid);
	if (ret)
		return ret;
	ret = iommu_ioas_alloc(d->iommufd, &d->ioas);
	if (ret)
		return ret;
	return vfio_attach_iommufd_pt(d->fd, d->ioas);
}

static void dev_close(struct dev *d)
{
	close_fd(&d->fd);
	close_fd(&d->iommufd);
}

static bool dev_open_checked(struct dev *d, const char *path)
{
	int ret = dev_open(d, path);

	if (ret)
		return check(false, "open, bind, IOAS, attach %s: %s", path, errname(ret));
	return true;
}

/* Back to RUNNING with no data_fd: VFIO_DEVICE_RESET (mtty_reset). */
static bool dev_to_running(struct dev *d)
{
	__u32 state = ~0U;
	int ret = vfio_reset(d->fd);

	if (!ret)
		ret = mig_get_state(d->fd, &state);
	if (ret || state != ST_RUNNING)
		return check(false, "%s: reset to RUNNING: %s, state %s", d->path, errname(ret),
			     sname(state));
	return true;
}

/* read() until it returns 0 or fails; the byte count, or -errno. */
static ssize_t read_to_end(int fd, unsigned char *buf, size_t cap)
{
	size_t total = 0;

	for (;;) {
		ssize_t n = read(fd, buf + total, cap - total);

		if (n < 0)
			return -errno;
		if (n == 0)
			return (ssize_t)total;
		total += (size_t)n;
		if (total == cap)
			return -E2BIG;
	}
}

static int write_all(int fd, const unsigned char *buf, size_t len)
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

/* one read() of up to @n bytes: the count or -errno */
static int read_once(int fd, size_t n)
{
	unsigned char buf[64];

	return (int)neg_errno((int)read(fd, buf, n < sizeof(buf) ? n : sizeof(buf)));
}

/* ------------------------------------------- rules that changed in 6.12.y */

/*
 * Debian serves only the newest 6.12 stable, so the kernel moves under the
 * tiers.  Where a rule changed within the series, the entry names the first
 * version with the new behaviour and the upstream change, and the check
 * expects what the version it runs on does.
 */
struct kversion {
	unsigned int major, minor, sub;
};

enum version_rule {
	/* IOMMU_HWPT_GET_DIRTY_BITMAP of IOVA that no mapped area covers */
	RULE_DIRTY_UNMAPPED_EINVAL,
	RULE_COUNT
};

static const struct {
	struct kversion since;
	const char *change; /* the upstream commit, as ChangeLog-<since> lists it */
	const char *after, *before;
} version_rules[RULE_COUNT] = {
	[RULE_DIRTY_UNMAPPED_EINVAL] = {
		.since = { 6, 12, 118 },
		.change = "iommufd/iova_bitmap: Ensure that iova_bitmap_set() handles the full IOVA",
		.after = "iommu_read_and_clear_dirty returns iova_bitmap_for_each's result, "
			 "-EINVAL from __iommu_read_and_clear_dirty: !iopt_area_contig_done",
		.before = "iommu_read_and_clear_dirty drops iova_bitmap_for_each's result",
	},
};

static struct kversion kernel;
static const char *kernel_release; /* as uname -r or --kernel gave it */

static bool parse_kversion(const char *s, struct kversion *v)
{
	int end = 0;

	*v = (struct kversion){ 0 };
	if (sscanf(s, "%u.%u%n", &v->major, &v->minor, &end) != 2)
		return false;
	if (s[end] == '.' && sscanf(s + end, ".%u", &v->sub) != 1)
		return false;
	return true;
}

static bool kversion_at_least(const struct kversion *v, const struct kversion *since)
{
	if (v->major != since->major)
		return v->major > since->major;
	if (v->minor != since->minor)
		return v->minor > since->minor;
	return v->sub >= since->sub;
}

/* Whether this kernel has the new behaviour; *why names versions and change. */
static bool kernel_has(enum version_rule r, char *why, size_t len)
{
	const struct kversion *since = &version_rules[r].since;
	bool has = kversion_at_least(&kernel, since);

	snprintf(why, len, "Linux %s, %s %u.%u.%u (\"%s\"): %s", kernel_release,
		 has ? "at or after" : "before", since->major, since->minor, since->sub,
		 version_rules[r].change, has ? version_rules[r].after : version_rules[r].before);
	return has;
}

/* ------------------------------------------------------------ options */

struct opts {
	__u64 precopy_bytes, stopcopy_bytes, direct_bytes, data_size;
	const char *only;
	const char *group_node, *group_name;
	const char *cdev[2];
	int ncdev;
};

static struct opts opt = {
	/* mtty, one port (samples/vfio-mdev/mtty.c): 24-byte header, 36-byte port */
	.precopy_bytes = 24, .stopcopy_bytes = 36, .direct_bytes = 60, .data_size = 60,
};

#define STREAM_CAP (1u << 20)
static unsigned char stream_buf[STREAM_CAP];

/* B's state as a complete stream (STOP_COPY straight from RUNNING). */
static ssize_t save_stream(struct dev *b, unsigned char *buf)
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

/* ------------------------------------------------------------- groups */

/*
 * vfio_df_ioctl_bind_iommufd (drivers/vfio/device_cdev.c),
 * vfio_device_fops_unl_ioctl (vfio_main.c): nothing but BIND before BIND.
 */
static void group_bind(void)
{
	struct vfio_device_info info;
	__u64 flags = 0;
	__u32 devid = 0;
	int fd, fd2, iommufd, nullfd, closed_fd;
	unsigned char byte;

	fd = open(opt.cdev[0], O_RDWR | O_CLOEXEC);
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (!check(fd >= 0 && iommufd >= 0, "open %s and /dev/iommu", opt.cdev[0]))
		return;
	check_err(vfio_get_info(fd, sizeof(info), &info), -EINVAL,
		  "GET_INFO before BIND", "vfio_device_fops_unl_ioctl: !access_granted");
	check_err(vfio_device_feature(fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
				      &flags, sizeof(flags),
				      sizeof(struct vfio_device_feature) + sizeof(flags)),
		  -EINVAL, "FEATURE GET MIGRATION before BIND",
		  "vfio_device_fops_unl_ioctl: !access_granted");
	check_err(vfio_reset(fd), -EINVAL, "RESET before BIND",
		  "vfio_device_fops_unl_ioctl: !access_granted");
	check_err(vfio_attach_iommufd_pt(fd, 1), -EINVAL, "ATTACH_IOMMUFD_PT before BIND",
		  "vfio_device_fops_unl_ioctl: !access_granted");
	check_err(neg_errno((int)read(fd, &byte, 1)), -EINVAL, "read() of the device before BIND",
		  "vfio_device_fops_read: !access_granted");

	check_err(vfio_bind_iommufd(fd, offsetof(struct vfio_device_bind_iommufd, out_devid), 0,
				    iommufd, NULL),
		  -EINVAL, "BIND with argsz short of out_devid", "vfio_df_ioctl_bind_iommufd: argsz < minsz");
	check_err(vfio_bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 1, iommufd, NULL),
		  -EINVAL, "BIND with flags 1", "vfio_df_ioctl_bind_iommufd: bind.flags");
	check_err(vfio_bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 0, -1, NULL),
		  -EINVAL, "BIND with iommufd -1", "vfio_df_ioctl_bind_iommufd: iommufd < 0");
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	check_err(vfio_bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 0, nullfd, NULL),
		  -EBADFD, "BIND with /dev/null as the iommufd",
		  "iommufd_ctx_from_fd: f_op != iommufd_fops");
	closed_fd = nullfd;
	close(nullfd);
	check_err(vfio_bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 0, closed_fd,
				    NULL),
		  -EBADF, "BIND with a closed fd as the iommufd", "iommufd_ctx_from_fd: fget fails");
	check_err(vfio_bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd) + 8, 0, iommufd,
				    &devid),
		  0, "BIND with argsz 8 beyond the struct", "vfio_df_ioctl_bind_iommufd: only minsz read");
	check_err(vfio_bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 0, iommufd, NULL),
		  -EINVAL, "second BIND of the same fd",
		  "vfio_df_ioctl_bind_iommufd: access_granted, 'one device cannot be bound twice'");

	fd2 = open(opt.cdev[0], O_RDWR | O_CLOEXEC);
	check(fd2 >= 0, "a second open() of a bound cdev succeeds (vfio_device_fops_cdev_open)");
	if (fd2 >= 0) {
		check_err(vfio_bind_iommufd(fd2, sizeof(struct vfio_device_bind_iommufd), 0, iommufd,
					    NULL),
			  -EINVAL, "BIND of a second fd of an opened device",
			  "vfio_df_open: open_count != 0 on the cdev path");
		close(fd2);
	}

	check_err(vfio_device_feature(fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
				      &flags, sizeof(flags),
				      sizeof(struct vfio_device_feature) + sizeof(flags)),
		  0, "FEATURE GET MIGRATION after BIND, before ATTACH", "access_granted at BIND");
	check_err(vfio_attach_iommufd_pt_flags(fd, 1, 1), -EINVAL, "ATTACH with flags 1",
		  "vfio_df_ioctl_attach_pt: attach.flags");
	check_err(vfio_attach_iommufd_pt(fd, 0xfffff), -ENOENT, "ATTACH to a pt_id that does not exist",
		  "iommufd_device_attach: iommufd_get_object");
	{
		__u32 ioas = 0;

		if (check_err(iommu_ioas_alloc(iommufd, &ioas), 0, "IOAS_ALLOC", "iommufd_ioas_alloc_ioctl"))
			check_err(vfio_attach_iommufd_pt(fd, ioas), 0, "ATTACH to the IOAS",
				  "vfio_df_ioctl_attach_pt");
	}
	check_err(vfio_get_info(fd, offsetof(struct vfio_device_info, num_irqs), &info), -EINVAL,
		  "GET_INFO with argsz short of num_irqs", "mtty_ioctl: info.argsz < minsz");
	/*
	 * Device facts, but of mtty, which the simulator's mdevs model: only
	 * VFIO_DEVICE_FLAGS_PCI (no RESET flag, though VFIO_DEVICE_RESET works).
	 */
	if (check_err(vfio_get_info(fd, sizeof(info), &info), 0, "GET_INFO", "mtty_ioctl"))
		check(info.flags == VFIO_DEVICE_FLAGS_PCI && info.num_regions == VFIO_PCI_NUM_REGIONS &&
		      info.num_irqs == VFIO_PCI_NUM_IRQS,
		      "GET_INFO: flags 0x%x, %u regions, %u irqs; mtty: 0x%x (PCI only), %u, %u "
		      "(mtty_get_device_info)", info.flags, info.num_regions, info.num_irqs,
		      VFIO_DEVICE_FLAGS_PCI, VFIO_PCI_NUM_REGIONS, VFIO_PCI_NUM_IRQS);
	close(fd);
	close(iommufd);
}

/* vfio_ioctl_device_feature + vfio_check_feature (include/linux/vfio.h) */
static void group_feature(void)
{
	const __u32 hdr = sizeof(struct vfio_device_feature);
	const __u32 GET = VFIO_DEVICE_FEATURE_GET, SET = VFIO_DEVICE_FEATURE_SET,
		    PROBE = VFIO_DEVICE_FEATURE_PROBE;
	const __u32 MIGRATION = VFIO_DEVICE_FEATURE_MIGRATION,
		    MIG_STATE = VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_state st;
	struct dev d;
	__u32 state = ~0U;

	if (!dev_open_checked(&d, opt.cdev[0]))
		return;
	check_err(vfio_device_feature(d.fd, GET | MIGRATION, &mig, sizeof(mig), 4), -EINVAL,
		  "FEATURE argsz 4, below the header", "vfio_ioctl_device_feature: argsz < minsz");
	check_err(vfio_device_feature(d.fd, GET | MIGRATION | (1u << 20), &mig, sizeof(mig),
				      hdr + sizeof(mig)),
		  -EINVAL, "FEATURE with an unknown flag bit",
		  "vfio_ioctl_device_feature: unknown flags");
	check_err(vfio_device_feature(d.fd, GET | SET | MIGRATION, &mig, sizeof(mig),
				      hdr + sizeof(mig)),
		  -EINVAL, "GET|SET on MIGRATION",
		  "vfio_ioctl_device_feature: GET & SET exclusive without PROBE");
	st = (struct vfio_device_feature_mig_state){ .device_state = ST_STOP };
	check_err(vfio_device_feature(d.fd, GET | SET | MIG_STATE, &st, sizeof(st),
				      hdr + sizeof(st)),
		  -EINVAL, "GET|SET on MIG_DEVICE_STATE",
		  "vfio_ioctl_device_feature: GET & SET exclusive without PROBE");
	check_err(vfio_device_feature(d.fd, PROBE | GET | SET | MIG_STATE, &st, sizeof(st),
				      hdr + sizeof(st)),
		  0, "PROBE|GET|SET on MIG_DEVICE_STATE", "vfio_check_feature: PROBE returns 0");
	check_err(vfio_device_feature(d.fd, PROBE | SET | MIG_STATE, &st, sizeof(st), hdr), 0,
		  "PROBE|SET on MIG_DEVICE_STATE with no payload",
		  "vfio_check_feature: PROBE before the argsz check");
	check_err(mig_get_state(d.fd, &state), 0, "GET MIG_DEVICE_STATE", "migration_get_state");
	check(state == ST_RUNNING, "PROBE|SET changed nothing: state %s, RUNNING expected",
	      sname(state));
	check_err(vfio_device_feature(d.fd, PROBE | MIGRATION, &mig, sizeof(mig), hdr), 0,
		  "PROBE on MIGRATION", "vfio_check_feature");
	check_err(vfio_device_feature(d.fd, PROBE | GET | MIGRATION, &mig, sizeof(mig), hdr), 0,
		  "PROBE|GET on MIGRATION", "vfio_check_feature");
	check_err(vfio_device_feature(d.fd, PROBE | SET | MIGRATION, &mig, sizeof(mig), hdr),
		  -EINVAL, "PROBE|SET on MIGRATION (GET-only feature)",
		  "vfio_check_feature: op not in supported_ops");
	check_err(vfio_device_feature(d.fd, SET | MIGRATION, &mig, sizeof(mig), hdr + sizeof(mig)),
		  -EINVAL, "SET on MIGRATION", "vfio_check_feature: op not in supported_ops");
	check_err(vfio_device_feature(d.fd, MIGRATION, &mig, sizeof(mig), hdr + sizeof(mig)),
		  -EINVAL, "MIGRATION with neither GET, SET nor PROBE",
		  "vfio_check_feature: one of GET or SET");
	check_err(vfio_device_feature(d.fd, GET | MIGRATION, &mig, sizeof(mig), hdr + 4), -EINVAL,
		  "GET MIGRATION with a 4-byte payload", "vfio_check_feature: argsz < minsz");
	check_err(vfio_device_feature(d.fd, GET | MIGRATION, &mig, sizeof(mig), hdr + sizeof(mig) + 16),
		  0, "GET MIGRATION with argsz 16 beyond the payload", "vfio_check_feature: argsz >= minsz");
	mig.flags = 0;
	if (check_err(vfio_device_feature(d.fd, GET | MIGRATION, &mig, sizeof(mig),
					  hdr + sizeof(mig)),
		      0, "GET MIGRATION", "vfio_ioctl_device_feature_migration"))
		check_u64(mig.flags,
			  VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
			  "migration flags STOP_COPY|P2P|PRE_COPY", "mtty_init_dev");
	st = (struct vfio_device_feature_mig_state){ .device_state = ST_STOP };
	check_err(vfio_device_feature(d.fd, SET | MIG_STATE, &st, sizeof(st), hdr + 4), -EINVAL,
		  "SET MIG_DEVICE_STATE with a 4-byte payload", "vfio_check_feature: argsz < minsz");
	st = (struct vfio_device_feature_mig_state){ .data_fd = FD_POISON };
	if (check_err(vfio_device_feature(d.fd, GET | MIG_STATE, &st, sizeof(st), hdr + sizeof(st)),
		      0, "GET MIG_DEVICE_STATE", "vfio_ioctl_device_feature_mig_device_state"))
		check(st.device_state == ST_RUNNING && st.data_fd == -1,
		      "GET gives RUNNING and data_fd -1 (got %s, %d)", sname(st.device_state),
		      st.data_fd);
	check_err(vfio_device_feature(d.fd, GET | 60, &mig, sizeof(mig), hdr + sizeof(mig)),
		  -ENOTTY, "GET of feature 60, which nobody implements",
		  "vfio_ioctl_device_feature: no device_feature op");
	dev_close(&d);
}

/* Expected data_fd of a successful SET from -> to (the last arc walked). */
static bool fsm_gives_fd(__u32 from, __u32 to)
{
	bool from_precopy = from == ST_PRE_COPY || from == ST_PRE_COPY_P2P;

	switch (to) {
	case ST_PRE_COPY:
	case ST_PRE_COPY_P2P:
		return !from_precopy;
	case ST_STOP_COPY:
		/* PRE_COPY_P2P -> STOP_COPY keeps the saving file (mtty_save_device_data) */
		return from != ST_STOP_COPY && !from_precopy;
	case ST_RESUMING:
		return from != ST_RESUMING;
	default:
		return false;
	}
}

/* vfio_mig_get_next_state: only STOP_COPY -> PRE_COPY(_P2P) and ERROR are refused */
static int fsm_expected_err(__u32 from, __u32 to)
{
	if (to == ST_ERROR || to >= VMT_VFIO_DEVICE_STATE_COUNT)
		return -EINVAL;
	if (from == ST_STOP_COPY && (to == ST_PRE_COPY || to == ST_PRE_COPY_P2P))
		return -EINVAL;
	return 0;
}

static const __u32 all_states[] = {
	ST_RUNNING, ST_STOP, ST_RUNNING_P2P, ST_PRE_COPY, ST_PRE_COPY_P2P, ST_STOP_COPY,
	ST_RESUMING,
};
#define NSTATES (sizeof(all_states) / sizeof(all_states[0]))

/*
 * Every (from, to) pair of the 7 states of flags STOP_COPY|P2P|PRE_COPY, plus
 * ERROR and an out-of-range state as targets.  RESUMING is left with a valid
 * stream of the other device written, so that its arcs out can succeed.
 */
static void group_fsm(void)
{
	struct dev a, b;
	ssize_t len;
	size_t i, j;
	const __u32 targets[] = {
		ST_RUNNING, ST_STOP, ST_RUNNING_P2P, ST_PRE_COPY, ST_PRE_COPY_P2P, ST_STOP_COPY,
		ST_RESUMING, ST_ERROR, VMT_VFIO_DEVICE_STATE_COUNT,
	};

	if (!dev_open_checked(&a, opt.cdev[0]) || !dev_open_checked(&b, opt.cdev[1]))
		return;
	len = save_stream(&b, stream_buf);
	if (len < 0)
		return;
	for (i = 0; i < NSTATES; i++) {
		for (j = 0; j < sizeof(targets) / sizeof(targets[0]); j++) {
			__u32 from = all_states[i], to = targets[j], got_state;
			int from_fd = NO_FD, fd = NO_FD, ret, want = fsm_expected_err(from, to);
			bool want_fd = !want && fsm_gives_fd(from, to), fd_ok, ok;

			if (!dev_to_running(&a))
				return;
			ret = from == ST_RUNNING ? 0 : mig_set_state(a.fd, from, &from_fd);
			if (!ret && from == ST_RESUMING)
				ret = write_all(from_fd, stream_buf, (size_t)len);
			if (ret) {
				check(false, "%s -> %s: reaching %s: %s", sname(from), sname(to),
				      sname(from), errname(ret));
				close_fd(&from_fd);
				continue;
			}
			ret = mig_set_state(a.fd, to, &fd);
			fd_ok = want_fd ? fd >= 0 && fd != FD_POISON && fd != from_fd : fd == -1;
			if (mig_get_state(a.fd, &got_state))
				got_state = ~0U;
			ok = ret == want && fd_ok && got_state == (want ? from : to);
			check(ok, "%s -> %s: %s, data_fd %s, then GET %s%s%s", sname(from),
			      to < VMT_VFIO_DEVICE_STATE_COUNT ? sname(to) : "8 (out of range)",
			      errname(ret), fd >= 0 && fd != FD_POISON ? "new" :
					    fd == -1 ? "-1" : "not written",
			      sname(got_state), ok ? "" : "; kernel: ",
			      ok ? "" : (want ? "EINVAL, data_fd -1, state unchanged"
				       : want_fd ? "success, a new data_fd, the target state"
				       : "success, data_fd -1, the target state"));
			close_fd(&fd);
			close_fd(&from_fd);
		}
	}
	dev_to_running(&a);
	dev_close(&a);
	dev_close(&b);
}

/*
 * What becomes of a data_fd: mtty_disable_files on the arcs out of data
 * states, the saving file kept across PRE_COPY -> STOP_COPY, and what the
 * VFS gives for the calls the anon files do not have (stream_open).
 */
static void group_datafd(void)
{
	struct vfio_precopy_info info;
	struct dev a;
	int fd1 = NO_FD, fd2 = NO_FD, fd3 = NO_FD, kept = NO_FD, ret;
	unsigned char byte = 0;

	if (!dev_open_checked(&a, opt.cdev[0]))
		return;
	check_err(mig_set_state(a.fd, ST_PRE_COPY, &fd1), 0, "RUNNING -> PRE_COPY", "mtty_step_state");
	if (!check(fd1 >= 0 && fd1 != FD_POISON, "RUNNING -> PRE_COPY gives a data_fd (%d)", fd1))
		goto out;
	ret = fcntl(fd1, F_GETFD);
	check(ret >= 0 && (ret & FD_CLOEXEC), "the data_fd is close-on-exec "
	      "(vfio_ioct_mig_return_fd: get_unused_fd_flags(O_CLOEXEC))");
	check_err(neg_errno((int)pread(fd1, &byte, 1, 0)), -ESPIPE, "pread() of the data_fd",
		  "stream_open clears FMODE_PREAD");
	check_err(neg_errno((int)lseek(fd1, 0, SEEK_SET)), -ESPIPE, "lseek() of the data_fd",
		  "stream_open clears FMODE_LSEEK");
	check_err(neg_errno((int)write(fd1, &byte, 1)), -EBADF, "write() of the saving data_fd",
		  "anon_inode_getfile(O_RDONLY)");
	{
		struct pollfd pfd = { .fd = fd1, .events = POLLIN | POLLOUT };
		int pipefd[2];

		ret = poll(&pfd, 1, 0);
		check(ret == 1 && pfd.revents == (POLLIN | POLLOUT),
		      "poll() of the saving data_fd: %d, revents 0x%x; kernel: 1, POLLIN|POLLOUT "
		      "(mtty_save_fops has no .poll: DEFAULT_POLLMASK)", ret, pfd.revents);
		if (check(!pipe2(pipefd, O_CLOEXEC), "pipe2")) {
			check_err(neg_errno((int)splice(fd1, NULL, pipefd[1], NULL, 16, SPLICE_F_NONBLOCK)),
				  -EINVAL, "splice() from the data_fd",
				  "do_splice_read: no .splice_read -> warn_unsupported");
			check_err(neg_errno((int)sendfile(pipefd[1], fd1, NULL, 16)), -EINVAL,
				  "sendfile() from the data_fd", "no .splice_read");
			close(pipefd[0]);
			close(pipefd[1]);
		}
	}
	check_err(data_fd_foreign_ioctl(fd1), -ENOTTY, "another ioctl on the saving data_fd",
		  "mtty_precopy_ioctl: cmd != VFIO_MIG_GET_PRECOPY_INFO");
	check_err(mig_set_state(a.fd, ST_RUNNING, NULL), 0, "PRE_COPY -> RUNNING", "mtty_step_state");
	check_err(read_once(fd1, 1), -ENODEV, "read() of the PRE_COPY data_fd after PRE_COPY -> RUNNING",
		  "mtty_disable_files; mtty_save_read: migf->disabled");
	check_err(vfio_mig_get_precopy_info(fd1, sizeof(info), &info), -EINVAL,
		  "PRECOPY_INFO on it in RUNNING", "mtty_precopy_ioctl: state checked first");
	check_err(mig_set_state(a.fd, ST_PRE_COPY, &fd2), 0, "RUNNING -> PRE_COPY again",
		  "mtty_step_state");
	check(fd2 >= 0 && fd2 != FD_POISON, "a new data_fd (%d)", fd2);
	check_err(vfio_mig_get_precopy_info(fd1, sizeof(info), &info), -ENODEV,
		  "PRECOPY_INFO on the old data_fd while in PRE_COPY again",
		  "mtty_precopy_ioctl: migf->disabled");
	check_err(vfio_mig_get_precopy_info(fd2, sizeof(info), &info), 0,
		  "PRECOPY_INFO on the new data_fd", "mtty_precopy_ioctl");
	check_err(mig_set_state(a.fd, ST_STOP_COPY, &kept), 0, "PRE_COPY -> STOP_COPY",
		  "vfio_mig_get_next_state via PRE_COPY_P2P");
	check(kept == -1, "PRE_COPY -> STOP_COPY returns data_fd -1: the saving data_fd is kept "
	      "(mtty_save_device_data; got %d)", kept);
	close_fd(&kept);
	ret = read_once(fd2, 64);
	check(ret > 0, "the kept data_fd reads on in STOP_COPY (read() gave %s)", errname(ret));
	check_err(mig_set_state(a.fd, ST_STOP, NULL), 0, "STOP_COPY -> STOP", "mtty_step_state");
	check_err(read_once(fd2, 1), -ENODEV, "read() of the STOP_COPY data_fd after STOP_COPY -> STOP",
		  "mtty_disable_files");
	check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd3), 0, "STOP -> STOP_COPY", "mtty_step_state");
	check(fd3 >= 0 && fd3 != FD_POISON, "STOP -> STOP_COPY gives a new data_fd (%d)", fd3);
	check_err(mig_set_state(a.fd, ST_RESUMING, &kept), 0, "STOP_COPY -> RESUMING (via STOP)",
		  "vfio_mig_get_next_state");
	check_err(read_once(fd3, 1), -ENODEV, "read() of the STOP_COPY data_fd after leaving STOP_COPY",
		  "mtty_disable_files");
	if (check(kept >= 0 && kept != FD_POISON, "RESUMING gives a data_fd (%d)", kept)) {
		check_err(read_once(kept, 1), -EBADF, "read() of the resuming data_fd",
			  "anon_inode_getfile(O_WRONLY)");
		check_err(neg_errno((int)pwrite(kept, &byte, 1, 0)), -ESPIPE,
			  "pwrite() of the resuming data_fd", "stream_open clears FMODE_PWRITE");
		check_err(vfio_mig_get_precopy_info(kept, sizeof(info), &info), -ENOTTY,
			  "PRECOPY_INFO on the resuming data_fd", "mtty_resume_fops has no ioctl");
		check_err(vfio_reset(a.fd), 0, "RESET in RESUMING", "mtty_reset");
		check_err(neg_errno((int)write(kept, &byte, 1)), -ENODEV,
			  "write() of the resuming data_fd after RESET", "mtty_disable_files");
	}
out:
	close_fd(&fd1);
	close_fd(&fd2);
	close_fd(&fd3);
	close_fd(&kept);
	dev_to_running(&a);
	dev_close(&a);
}

/* VFIO_MIG_GET_PRECOPY_INFO and the ends of the saving stream */
static void group_precopy(void)
{
	struct vfio_precopy_info info;
	struct dev a;
	int fd = NO_FD, kept = NO_FD, ret;
	ssize_t n;
	__u32 state = ~0U;

	if (!dev_open_checked(&a, opt.cdev[0]))
		return;
	check_err(mig_set_state(a.fd, ST_PRE_COPY, &fd), 0, "RUNNING -> PRE_COPY", "mtty_step_state");
	if (!check(fd >= 0 && fd != FD_POISON, "a data_fd"))
		goto out;
	check_err(vfio_mig_get_precopy_info(fd, offsetof(struct vfio_precopy_info, dirty_bytes),
					    &info),
		  -EINVAL, "PRECOPY_INFO with argsz short of dirty_bytes",
		  "mtty_precopy_ioctl: argsz < minsz");
	check_err(vfio_mig_get_precopy_info(fd, sizeof(info) + 8, &info), 0,
		  "PRECOPY_INFO with argsz 8 beyond the struct", "mtty_precopy_ioctl: argsz >= minsz");
	if (check_err(vfio_mig_get_precopy_info(fd, sizeof(info), &info), 0, "PRECOPY_INFO",
		      "mtty_precopy_ioctl")) {
		check_u64(info.initial_bytes, opt.precopy_bytes, "initial_bytes at the start",
			  "device's pre-copy size");
		check_u64(info.dirty_bytes, 0, "dirty_bytes", "nothing dirtied");
	}
	check_err(read_once(fd, 1), 1, "read() of 1 byte", "mtty_save_read");
	if (!vfio_mig_get_precopy_info(fd, sizeof(info), &info))
		check_u64(info.initial_bytes, opt.precopy_bytes - 1,
			  "initial_bytes after reading 1 byte", "filled_size - *pos");
	n = read_to_end(fd, stream_buf, STREAM_CAP);
	check_u64((__u64)n + 1, opt.precopy_bytes,
		  "pre-copy bytes read until read() returned 0 (the temporary end)",
		  "mtty_save_read returns 0 at filled_size, not ENOMSG");
	check_err(read_once(fd, 64), 0, "read() again at the temporary end", "mtty_save_read");
	mig_get_state(a.fd, &state);
	check(state == ST_PRE_COPY,
	      "still PRE_COPY after the temporary end (%s)", sname(state));
	if (!vfio_mig_get_precopy_info(fd, sizeof(info), &info))
		check(info.initial_bytes == 0 && info.dirty_bytes == 0,
		      "PRECOPY_INFO at the temporary end: 0, 0 (got %llu, %llu)",
		      (unsigned long long)info.initial_bytes,
		      (unsigned long long)info.dirty_bytes);
	check_err(mig_set_state(a.fd, ST_PRE_COPY_P2P, &kept), 0, "PRE_COPY -> PRE_COPY_P2P",
		  "mtty_step_state");
	check(kept == -1, "PRE_COPY -> PRE_COPY_P2P returns data_fd -1 (%d)", kept);
	close_fd(&kept);
	check_err(vfio_mig_get_precopy_info(fd, sizeof(info), &info), 0, "PRECOPY_INFO in PRE_COPY_P2P",
		  "mtty_precopy_ioctl: PRE_COPY or PRE_COPY_P2P");
	check_err(mig_set_state(a.fd, ST_STOP_COPY, &kept), 0, "PRE_COPY_P2P -> STOP_COPY",
		  "mtty_step_state");
	check(kept == -1, "PRE_COPY_P2P -> STOP_COPY returns data_fd -1 (%d)", kept);
	close_fd(&kept);
	check_err(vfio_mig_get_precopy_info(fd, sizeof(info), &info), -EINVAL,
		  "PRECOPY_INFO in STOP_COPY", "mtty_precopy_ioctl: not a PRE_COPY state");
	check_err(vfio_mig_get_precopy_info(fd, 8, &info), -EINVAL,
		  "PRECOPY_INFO in STOP_COPY with a short argsz", "mtty_precopy_ioctl: argsz < minsz");
	n = read_to_end(fd, stream_buf, STREAM_CAP);
	check_u64((__u64)n, opt.stopcopy_bytes, "stop-copy bytes after pre-copy, up to read() = 0",
		  "device's stop-copy size");
	check_err(read_once(fd, 64), 0, "read() again at the end of STOP_COPY", "mtty_save_read");
	close_fd(&fd);

	if (!dev_to_running(&a))
		goto out;
	check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd), 0, "RUNNING -> STOP_COPY", "mtty_step_state");
	if (check(fd >= 0 && fd != FD_POISON, "a data_fd")) {
		check_err(vfio_mig_get_precopy_info(fd, sizeof(info), &info), -EINVAL,
			  "PRECOPY_INFO on a STOP_COPY data_fd", "mtty_precopy_ioctl");
		struct iovec iov[2] = {
			{ .iov_base = stream_buf, .iov_len = 10 },
			{ .iov_base = stream_buf + 10, .iov_len = STREAM_CAP - 10 },
		};

		n = neg_errno((int)readv(fd, iov, 2));
		check_u64((__u64)n, opt.direct_bytes,
			  "readv() of 10 + many bytes: a STOP_COPY straight from RUNNING",
			  "do_loop_readv_writev over mtty_save_read: the device's full state");
		check_err(read_once(fd, 64), 0, "read() after it", "end of STOP_COPY");
	}
	close_fd(&fd);
	if (!dev_to_running(&a))
		goto out;
	if (check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd), 0, "RUNNING -> STOP_COPY again",
		      "mtty_step_state")) {
		__u64 total = 0;

		while ((ret = read_once(fd, 1)) == 1)
			total++;
		check(ret == 0 && total == opt.direct_bytes,
		      "1-byte read()s: %llu bytes, then %s; expected %llu, then 0",
		      (unsigned long long)total, errname(ret), (unsigned long long)opt.direct_bytes);
	}
out:
	close_fd(&fd);
	dev_to_running(&a);
	dev_close(&a);
}

/* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: GET only, in every state */
static void group_datasize(void)
{
	const __u32 hdr = sizeof(struct vfio_device_feature);
	struct vfio_device_feature_mig_data_size ds = { 0 };
	const __u32 walk[] = { ST_RUNNING, ST_RUNNING_P2P, ST_PRE_COPY_P2P, ST_PRE_COPY,
			       ST_STOP_COPY, ST_STOP, ST_RESUMING };
	struct dev a;
	size_t i;
	char what[64];

	if (!dev_open_checked(&a, opt.cdev[0]))
		return;
	for (i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
		__u64 len = 0;
		int fd = NO_FD;

		if (walk[i] != ST_RUNNING &&
		    !check_err(mig_set_state(a.fd, walk[i], &fd), 0, sname(walk[i]), "FSM"))
			continue;
		snprintf(what, sizeof(what), "MIG_DATA_SIZE in %s", sname(walk[i]));
		if (check_err(mig_data_size(a.fd, &len), 0, what, "mtty_get_data_size"))
			check_u64(len, opt.data_size, what, "the device's answer does not change");
		close_fd(&fd);
	}
	check_err(vfio_device_feature(a.fd, VFIO_DEVICE_FEATURE_SET |
				      VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds, sizeof(ds),
				      hdr + sizeof(ds)),
		  -EINVAL, "SET MIG_DATA_SIZE", "vfio_check_feature: GET only");
	check_err(vfio_device_feature(a.fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
				      VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds, sizeof(ds), hdr),
		  0, "PROBE|GET MIG_DATA_SIZE", "vfio_check_feature");
	check_err(vfio_device_feature(a.fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
				      VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds, sizeof(ds), hdr),
		  -EINVAL, "PROBE|SET MIG_DATA_SIZE", "vfio_check_feature");
	check_err(vfio_device_feature(a.fd, VFIO_DEVICE_FEATURE_GET |
				      VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds, sizeof(ds), hdr + 4),
		  -EINVAL, "GET MIG_DATA_SIZE with a 4-byte payload", "vfio_check_feature: argsz");
	dev_to_running(&a);
	dev_close(&a);
}

/* A's state into B: RESUMING, write, RESUMING -> STOP (mtty_load_state). */
static void group_resume(void)
{
	struct dev a, b;
	int sfd = NO_FD, kept = NO_FD, rfd = NO_FD;
	ssize_t pre, post;
	size_t len;
	__u32 state = ~0U;
	unsigned char extra = 0;

	if (!dev_open_checked(&a, opt.cdev[0]) || !dev_open_checked(&b, opt.cdev[1]))
		return;
	/* the save side through PRE_COPY, as a migration does */
	if (mig_set_state(a.fd, ST_PRE_COPY, &sfd) || sfd < 0) {
		check(false, "A: RUNNING -> PRE_COPY");
		goto out;
	}
	pre = read_to_end(sfd, stream_buf, STREAM_CAP);
	check_err(mig_set_state(a.fd, ST_STOP_COPY, &kept), 0, "A: PRE_COPY -> STOP_COPY", "FSM");
	post = pre < 0 ? -1 : read_to_end(sfd, stream_buf + pre, STREAM_CAP - (size_t)pre);
	close_fd(&sfd);
	if (!check(pre >= 0 && post > 0, "A saved %zd + %zd bytes", pre, post))
		goto out;
	len = (size_t)(pre + post);
	check_u64(len, opt.precopy_bytes + opt.stopcopy_bytes, "A's stream length",
		  "pre-copy + stop-copy");

	check_err(mig_set_state(b.fd, ST_RESUMING, &rfd), 0, "B: RUNNING -> RESUMING", "FSM");
	if (!check(rfd >= 0 && rfd != FD_POISON, "B: RESUMING gives a data_fd"))
		goto out;
	{
		struct iovec iov[2] = {
			{ .iov_base = stream_buf, .iov_len = 5 },
			{ .iov_base = stream_buf + 5, .iov_len = len - 5 },
		};

		check_u64((__u64)neg_errno((int)writev(rfd, iov, 2)), len,
			  "B: writev() of A's stream as 5 + the rest bytes",
			  "do_loop_readv_writev over mtty_resume_write");
	}
	check_err(write_all(rfd, &extra, 1), -ENOMEM, "B: one byte more than the state",
		  "mtty_resume_write: requested_length > mtty_data_size");
	check_err(mig_set_state(b.fd, ST_STOP, NULL), 0, "B: RESUMING -> STOP", "mtty_load_state");
	check_err(neg_errno((int)write(rfd, &extra, 1)), -ENODEV,
		  "B: write() of the resuming data_fd after RESUMING -> STOP", "mtty_disable_files");
	close_fd(&rfd);
	check_err(mig_set_state(b.fd, ST_RUNNING, NULL), 0, "B: STOP -> RUNNING", "FSM");

	/* the whole stream plus one byte in ONE write: refused as a whole */
	check_err(mig_set_state(b.fd, ST_RESUMING, &rfd), 0, "B: RUNNING -> RESUMING again", "FSM");
	stream_buf[len] = 0;
	check_err(neg_errno((int)write(rfd, stream_buf, len + 1)), -ENOMEM,
		  "B: a single write() of the stream plus one byte",
		  "mtty_resume_write checks the requested length before copying");
	close_fd(&rfd);
	if (!dev_to_running(&b))
		goto out;

	/* truncated: one byte short */
	check_err(mig_set_state(b.fd, ST_RESUMING, &rfd), 0, "B: RUNNING -> RESUMING, truncated",
		  "FSM");
	check_err(write_all(rfd, stream_buf, len - 1), 0, "B: write all but the last byte",
		  "mtty_resume_write");
	check_err(mig_set_state(b.fd, ST_STOP, NULL), -EINVAL,
		  "B: RESUMING -> STOP on a truncated stream", "mtty_load_state: filled_size < size");
	mig_get_state(b.fd, &state);
	check(state == ST_RESUMING,
	      "B: the failed arc leaves RESUMING (%s)", sname(state));
	check_err(mig_set_state(b.fd, ST_RUNNING, NULL), -EINVAL,
		  "B: RESUMING -> RUNNING fails at its first arc too", "mtty_set_state");
	mig_get_state(b.fd, &state);
	check(state == ST_RESUMING, "B: still RESUMING (%s)",
	      sname(state));
	close_fd(&rfd);
out:
	close_fd(&sfd);
	close_fd(&rfd);
	dev_to_running(&a);
	dev_to_running(&b);
	dev_close(&a);
	dev_close(&b);
}

/* VFIO_DEVICE_RESET from the data states: mtty_reset, deferred_reset */
static void group_reset(void)
{
	const __u32 from[] = { ST_STOP_COPY, ST_PRE_COPY, ST_PRE_COPY_P2P, ST_RESUMING, ST_STOP };
	struct dev a;
	size_t i;
	char what[80];

	if (!dev_open_checked(&a, opt.cdev[0]))
		return;
	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		int fd = NO_FD;
		__u32 state = ~0U;
		unsigned char byte = 0;

		if (!check_err(mig_set_state(a.fd, from[i], &fd), 0, sname(from[i]), "FSM"))
			continue;
		snprintf(what, sizeof(what), "RESET in %s", sname(from[i]));
		check_err(vfio_reset(a.fd), 0, what, "mtty_ioctl: VFIO_DEVICE_RESET -> mtty_reset");
		mig_get_state(a.fd, &state);
		check(state == ST_RUNNING,
		      "state after RESET in %s: %s, RUNNING expected", sname(from[i]), sname(state));
		if (fd >= 0 && fd != FD_POISON) {
			snprintf(what, sizeof(what), "%s() of the %s data_fd after RESET",
				 from[i] == ST_RESUMING ? "write" : "read", sname(from[i]));
			check_err(from[i] == ST_RESUMING ? neg_errno((int)write(fd, &byte, 1))
							 : read_once(fd, 1),
				  -ENODEV, what, "mtty_state_mutex_unlock: mtty_disable_files");
		}
		close_fd(&fd);
	}
	/* a fresh save after RESET starts from the beginning */
	{
		int fd = NO_FD;
		ssize_t n;

		if (check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd), 0,
			      "RUNNING -> STOP_COPY after RESET", "FSM")) {
			n = read_to_end(fd, stream_buf, STREAM_CAP);
			check_u64((__u64)n, opt.direct_bytes, "a whole stream after RESET",
				  "new saving file");
		}
		close_fd(&fd);
	}
	dev_to_running(&a);
	dev_close(&a);
}

/*
 * Closing the device: vfio_device_fops_release -> close_device (mtty_close:
 * mtty_disable_files only).  The VFIO core does not touch the migration
 * state, and mtty has no open_device: the state survives a close.
 */
static void group_close(void)
{
	struct dev a;
	int fd = NO_FD;
	__u32 state = ~0U;

	if (!dev_open_checked(&a, opt.cdev[0]))
		return;
	if (!check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd), 0, "RUNNING -> STOP_COPY", "FSM"))
		goto out;
	dev_close(&a);
	check_err(read_once(fd, 1), -ENODEV,
		  "read() of a data_fd that outlived the device fd",
		  "vfio_df_close -> mtty_close -> mtty_disable_files");
	close_fd(&fd);
	if (!dev_open_checked(&a, opt.cdev[0]))
		return;
	mig_get_state(a.fd, &state);
	check(state == ST_STOP_COPY,
	      "state after close and reopen: %s; kernel: STOP_COPY (no reset on close: "
	      "mtty_close only disables files, vfio core keeps the state)", sname(state));
	check_err(mig_set_state(a.fd, ST_STOP, NULL), 0,
		  "leave it with SET STOP", "mtty_step_state: STOP_COPY -> STOP");
out:
	close_fd(&fd);
	dev_to_running(&a);
	dev_close(&a);
}

/*
 * DMA logging: the core's checks in vfio_ioctl_device_feature_logging_*
 * (vfio_main.c).  mtty has log_ops that accept everything (mtty_log_start),
 * so only the core's own refusals and plain successes are checked.
 */
static void group_dmalog(void)
{
	const __u32 hdr = sizeof(struct vfio_device_feature);
	const __u32 GET = VFIO_DEVICE_FEATURE_GET, SET = VFIO_DEVICE_FEATURE_SET,
		    PROBE = VFIO_DEVICE_FEATURE_PROBE;
	const __u32 START = VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
		    STOP = VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
		    REPORT = VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	static struct vfio_device_feature_dma_logging_range ranges[257];
	static __u64 bitmap[64];
	struct vfio_device_feature_dma_logging_control ctl, base;
	struct vfio_device_feature_dma_logging_report rep, rbase;
	struct dev a;

	if (!dev_open_checked(&a, opt.cdev[0]))
		return;
	base = (struct vfio_device_feature_dma_logging_control){
		.page_size = 4096, .num_ranges = 1, .ranges = (uintptr_t)ranges,
	};
	ranges[0] = (struct vfio_device_feature_dma_logging_range){ 0x100000, 0x10000 };
#define START_WITH(flags, argsz, want, what, rule)                                               \
	check_err(vfio_device_feature(a.fd, (flags) | START, &ctl, sizeof(ctl), (argsz)), want,   \
		  what, rule)
	ctl = base;
	START_WITH(PROBE | SET, hdr, 0, "PROBE|SET DMA_LOGGING_START", "vfio_check_feature");
	START_WITH(PROBE | GET, hdr, -EINVAL, "PROBE|GET DMA_LOGGING_START (SET-only)",
		   "vfio_check_feature");
	START_WITH(GET, hdr + sizeof(ctl), -EINVAL, "GET DMA_LOGGING_START", "vfio_check_feature");
	START_WITH(SET, hdr + 8, -EINVAL, "START with an 8-byte payload",
		   "vfio_check_feature: argsz < sizeof(control)");
	ctl = base;
	ctl.num_ranges = 0;
	START_WITH(SET, hdr + sizeof(ctl), -EINVAL, "START with 0 ranges", "!nnodes");
	ctl = base;
	ctl.num_ranges = 257;
	START_WITH(SET, hdr + sizeof(ctl), -E2BIG, "START with 257 ranges",
		   "nnodes > LOG_MAX_RANGES (PAGE_SIZE / 16)");
	ctl = base;
	ranges[0].iova = 0x100800;
	START_WITH(SET, hdr + sizeof(ctl), -EINVAL, "START with an iova not aligned to page_size",
		   "!IS_ALIGNED(range.iova, page_size)");
	ranges[0] = (struct vfio_device_feature_dma_logging_range){ 0x100000, 0x10800 };
	START_WITH(SET, hdr + sizeof(ctl), -EINVAL, "START with a length not aligned to page_size",
		   "!IS_ALIGNED(range.length, page_size)");
	ranges[0] = (struct vfio_device_feature_dma_logging_range){ 0x100000, 0x10000 };
	ranges[1] = (struct vfio_device_feature_dma_logging_range){ 0x10f000, 0x2000 };
	ctl.num_ranges = 2;
	START_WITH(SET, hdr + sizeof(ctl), -EINVAL, "START with overlapping ranges",
		   "interval_tree_iter_first: overlapping");
	ranges[1] = (struct vfio_device_feature_dma_logging_range){ ~0ULL - 0xfff, 0x2000 };
	START_WITH(SET, hdr + sizeof(ctl), -EOVERFLOW, "START with a range that wraps",
		   "check_add_overflow(iova, length)");
	ctl = base;
	ranges[0] = (struct vfio_device_feature_dma_logging_range){ 0x100000, 0x10000 };
	START_WITH(SET, hdr + sizeof(ctl), 0, "START of one 64 KiB range, 4 KiB pages",
		   "log_ops->log_start");
#undef START_WITH

	rbase = (struct vfio_device_feature_dma_logging_report){
		.iova = 0x100000, .length = 0x10000, .page_size = 4096, .bitmap = (uintptr_t)bitmap,
	};
#define REPORT_WITH(flags, argsz, want, what, rule)                                              \
	check_err(vfio_device_feature(a.fd, (flags) | REPORT, &rep, sizeof(rep), (argsz)), want, \
		  what, rule)
	rep = rbase;
	REPORT_WITH(PROBE | GET, hdr, 0, "PROBE|GET DMA_LOGGING_REPORT", "vfio_check_feature");
	REPORT_WITH(SET, hdr + sizeof(rep), -EINVAL, "SET DMA_LOGGING_REPORT (GET-only)",
		    "vfio_check_feature");
	REPORT_WITH(GET, hdr + 16, -EINVAL, "REPORT with a 16-byte payload",
		    "vfio_check_feature: argsz < sizeof(report)");
	rep = rbase;
	rep.page_size = 2048;
	REPORT_WITH(GET, hdr + sizeof(rep), -EINVAL, "REPORT with page_size 2048",
		    "page_size < SZ_4K");
	rep.page_size = 3 * 4096;
	REPORT_WITH(GET, hdr + sizeof(rep), -EINVAL, "REPORT with page_size 12 KiB",
		    "!is_power_of_2(page_size)");
	rep.page_size = 0;
	REPORT_WITH(GET, hdr + sizeof(rep), -EINVAL, "REPORT with page_size 0", "page_size < SZ_4K");
	rep = rbase;
	rep.iova = ~0ULL - 0xfff;
	rep.length = 0x2000;
	REPORT_WITH(GET, hdr + sizeof(rep), -EOVERFLOW, "REPORT of a range that wraps",
		    "check_add_overflow(iova, length)");
	rep = rbase;
	REPORT_WITH(GET, hdr + sizeof(rep), 0, "REPORT of the logged range",
		    "iova_bitmap_for_each(log_read_and_clear)");
#undef REPORT_WITH
	check_err(vfio_device_feature(a.fd, GET | STOP, NULL, 0, hdr), -EINVAL,
		  "GET DMA_LOGGING_STOP (SET-only)", "vfio_check_feature");
	check_err(vfio_device_feature(a.fd, SET | STOP, NULL, 0, hdr), 0, "SET DMA_LOGGING_STOP",
		  "log_ops->log_stop");
	dev_close(&a);
}

/*
 * The legacy path to the same device: container, group, GET_DEVICE_FD by
 * name, and its exclusion with the cdev (vfio_device_block_group,
 * vfio_group_fops_open).
 */
static void group_group(void)
{
	__u32 flags = 0;
	int container, grp, grp2, dfd = -1, ret;
	struct dev d;

	if (!opt.group_node || !opt.group_name) {
		check(false, "group: needs --group NODE --name NAME");
		return;
	}
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (!check(container >= 0, "open /dev/vfio/vfio"))
		return;
	check_err(vfio_get_api_version(container), VFIO_API_VERSION, "GET_API_VERSION",
		  "vfio_fops_unl_ioctl: VFIO_API_VERSION");
	check_err(vfio_check_extension(container, VFIO_TYPE1v2_IOMMU), 1,
		  "CHECK_EXTENSION(TYPE1v2) of an empty container", "vfio_iommu_type1_check_extension");
	check_err(vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU), -EINVAL,
		  "SET_IOMMU with no group in the container",
		  "vfio_ioctl_set_iommu: list_empty(group_list)");
	grp = open(opt.group_node, O_RDWR | O_CLOEXEC);
	if (!check(grp >= 0, "open the group %s", opt.group_node))
		goto out;
	grp2 = open(opt.group_node, O_RDWR | O_CLOEXEC);
	check_err(grp2 < 0 ? -errno : 0, -EBUSY, "a second open of the group",
		  "vfio_group_fops_open: group->opened_file");
	if (grp2 >= 0)
		close(grp2);
	check_err(vfio_group_get_status(grp, 4, &flags), -EINVAL, "GET_STATUS with argsz 4",
		  "vfio_group_ioctl_get_status: argsz < minsz");
	if (check_err(vfio_group_get_status(grp, sizeof(struct vfio_group_status), &flags), 0,
		      "GET_STATUS", "vfio_group_ioctl_get_status"))
		check(flags == VFIO_GROUP_FLAGS_VIABLE,
		      "a fresh group is VIABLE, no CONTAINER_SET (flags 0x%x)", flags);
	check_err(vfio_group_get_device_fd(grp, opt.group_name), -EINVAL,
		  "GET_DEVICE_FD before SET_CONTAINER", "vfio_df_group_open: !vfio_group_has_iommu");
	check_err(vfio_group_set_container(grp, container), 0, "SET_CONTAINER",
		  "vfio_container_attach_group");
	if (!vfio_group_get_status(grp, sizeof(struct vfio_group_status), &flags))
		check(flags == (VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET),
		      "GET_STATUS after SET_CONTAINER: VIABLE|CONTAINER_SET (flags 0x%x)", flags);
	check_err(vfio_group_set_container(grp, container), -EINVAL, "SET_CONTAINER again",
		  "vfio_group_ioctl_set_container: vfio_group_has_iommu");
	check_err(vfio_group_get_device_fd(grp, opt.group_name), -EINVAL,
		  "GET_DEVICE_FD before SET_IOMMU",
		  "vfio_group_use_container: !container->iommu_driver");
	check_err(vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU), 0, "SET_IOMMU(TYPE1v2)",
		  "vfio_ioctl_set_iommu");
	check_err(vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU), -EINVAL, "SET_IOMMU again",
		  "vfio_ioctl_set_iommu: container->iommu_driver");
	check_err(vfio_group_get_device_fd(grp, "no-such-device"), -ENODEV,
		  "GET_DEVICE_FD of a name not in the group", "vfio_device_get_from_name");
	dfd = vfio_group_get_device_fd(grp, opt.group_name);
	if (check(dfd >= 0, "GET_DEVICE_FD(%s): %s", opt.group_name, dfd >= 0 ? "an fd" : errname(dfd))) {
		__u32 state = ~0U;

		ret = fcntl(dfd, F_GETFD);
		check(ret >= 0 && (ret & FD_CLOEXEC), "the device fd is close-on-exec "
		      "(get_unused_fd_flags(O_CLOEXEC))");
		check_err(vfio_bind_iommufd(dfd, sizeof(struct vfio_device_bind_iommufd), 0, container,
					    NULL),
			  -EINVAL, "BIND_IOMMUFD on a device fd from the group",
			  "vfio_df_ioctl_bind_iommufd: df->group");
		mig_get_state(dfd, &state);
		check(state == ST_RUNNING, "GET MIG_DEVICE_STATE through the group fd: %s",
		      sname(state));
		if (opt.ncdev >= 1) {
			ret = dev_open(&d, opt.cdev[0]);
			check_err(ret, -EBUSY, "cdev BIND while the group is open",
				  "vfio_device_block_group: group->opened_file");
			dev_close(&d);
		}
		close(dfd);
	}
	close(grp);
	if (opt.ncdev >= 1 && dev_open_checked(&d, opt.cdev[0])) {
		grp = open(opt.group_node, O_RDWR | O_CLOEXEC);
		check_err(grp < 0 ? -errno : 0, -EBUSY, "open the group while the cdev is bound",
			  "vfio_group_fops_open: cdev_device_open_cnt");
		if (grp >= 0)
			close(grp);
		dev_close(&d);
	}
out:
	close(container);
}

/* IOAS objects on a fresh iommufd (ioas.c, io_pagetable.c, main.c) */
static void group_ioas(void)
{
	const size_t len = 64 * 1024;
	struct iommu_ioas_map map, base;
	__u64 unmapped, align;
	__u32 ioas = 0, id, nranges;
	int iommufd;
	void *mem;

	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!check(iommufd >= 0 && mem != MAP_FAILED, "open /dev/iommu, mmap 64 KiB"))
		return;
	check_err(iommu_ioas_alloc_raw(iommufd, offsetof(struct iommu_ioas_alloc, out_ioas_id), 0,
				       &id),
		  -EINVAL, "IOAS_ALLOC with size short of out_ioas_id",
		  "iommufd_fops_ioctl: user_size < min_size");
	check_err(iommu_ioas_alloc_raw(iommufd, sizeof(struct iommu_ioas_alloc), 1, &id),
		  -EOPNOTSUPP, "IOAS_ALLOC with flags 1", "iommufd_ioas_alloc_ioctl: cmd->flags");
	if (!check_err(iommu_ioas_alloc(iommufd, &ioas), 0, "IOAS_ALLOC", "iommufd_ioas_alloc_ioctl"))
		goto out;
	check_err(iommu_ioas_iova_ranges(iommufd, ioas, &nranges, &align), -EMSGSIZE,
		  "IOAS_IOVA_RANGES with no room for ranges",
		  "iommufd_ioas_iova_ranges: num_iovas < max_iovas");
	check(nranges >= 1, "IOAS_IOVA_RANGES counts %u allowed range(s) anyway", nranges);

	base = (struct iommu_ioas_map){
		.size = sizeof(base),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas, .user_va = (uintptr_t)mem, .length = len, .iova = 0x1000000,
	};
	map = base;
	map.flags |= 1u << 5;
	check_err(iommu_ioas_map(iommufd, &map), -EOPNOTSUPP, "IOAS_MAP with an unknown flag",
		  "iommufd_ioas_map: flags");
	map = base;
	map.__reserved = 1;
	check_err(iommu_ioas_map(iommufd, &map), -EOPNOTSUPP, "IOAS_MAP with __reserved != 0",
		  "iommufd_ioas_map: __reserved");
	map = base;
	map.iova = ~0ULL;
	check_err(iommu_ioas_map(iommufd, &map), -EOVERFLOW, "IOAS_MAP at iova ULONG_MAX",
		  "iommufd_ioas_map: iova >= ULONG_MAX");
	map = base;
	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA;
	check_err(iommu_ioas_map(iommufd, &map), -EINVAL, "IOAS_MAP neither readable nor writeable",
		  "iommufd_ioas_map: !(WRITEABLE | READABLE)");
	map = base;
	map.ioas_id = 0xfffff;
	check_err(iommu_ioas_map(iommufd, &map), -ENOENT, "IOAS_MAP to an ioas_id that does not exist",
		  "iommufd_get_ioas");
	map = base;
	check_err(iommu_ioas_map(iommufd, &map), 0, "IOAS_MAP 64 KiB at 0x1000000", "iopt_map_user_pages");
	map = base;
	check_err(iommu_ioas_map(iommufd, &map), -EEXIST, "IOAS_MAP over the same IOVA again",
		  "iopt_check_iova: area exists");
	map = base;
	map.flags &= ~IOMMU_IOAS_MAP_FIXED_IOVA;
	map.iova = 0;
	if (check_err(iommu_ioas_map(iommufd, &map), 0, "IOAS_MAP at an IOVA the kernel picks",
		      "IOPT_ALLOC_IOVA"))
		check(map.iova + len <= 0x1000000 || map.iova >= 0x1000000 + len,
		      "the picked IOVA 0x%llx does not overlap the fixed mapping",
		      (unsigned long long)map.iova);
	check_err(iommu_ioas_unmap(iommufd, ioas, 0x1000000, 0, NULL), -EINVAL, "IOAS_UNMAP length 0",
		  "iopt_unmap_iova: !length");
	check_err(iommu_ioas_unmap(iommufd, ioas, 0x1000000, 4096, NULL), -ENOENT,
		  "IOAS_UNMAP of a part of an area", "iopt_unmap_iova_range: whole areas only");
	check_err(iommu_ioas_unmap(iommufd, ioas, 0x40000000, 4096, NULL), -ENOENT,
		  "IOAS_UNMAP where nothing is mapped", "iommufd_ioas_unmap: !unmapped");
	if (check_err(iommu_ioas_unmap(iommufd, ioas, 0x1000000, len, &unmapped), 0,
		      "IOAS_UNMAP of the fixed area", "iopt_unmap_iova"))
		check_u64(unmapped, len, "IOAS_UNMAP says how much", "cmd->length = unmapped");
	if (check_err(iommu_ioas_unmap(iommufd, ioas, 0, ~0ULL, &unmapped), 0,
		      "IOAS_UNMAP iova 0, length U64_MAX: everything", "iopt_unmap_all"))
		check_u64(unmapped, len, "the rest unmapped", "cmd->length = unmapped");
	check_err(iommu_destroy(iommufd, 0xfffff), -ENOENT, "DESTROY of an id that does not exist",
		  "iommufd_object_remove");
	check_err(iommu_destroy(iommufd, ioas), 0, "DESTROY of the IOAS", "iommufd_object_remove");
	check_err(iommu_destroy(iommufd, ioas), -ENOENT, "DESTROY of it again",
		  "iommufd_object_remove");
out:
	munmap(mem, len);
	close(iommufd);
}

/* ------------------------------------------- iommufd dirty bitmap rules */

struct dirty_ctx {
	int iommufd;
	__u32 hwpt;
	__u64 iova, length, pgsize;
};

static bool env_u64(const char *name, __u64 *val)
{
	const char *s = getenv(name);
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*val = strtoull(s, &end, 0);
	return !errno && !*end;
}

/* the kernel tier: the objects iommufd-mock exec made (tests/kernel/iommufd-mock.c) */
static bool dirty_from_env(struct dirty_ctx *c)
{
	__u64 fd, hwpt;

	if (!env_u64("VMT_IOMMUFD_FD", &fd) || !env_u64("VMT_HWPT_ID", &hwpt) ||
	    !env_u64("VMT_IOVA", &c->iova) || !env_u64("VMT_LENGTH", &c->length) ||
	    !env_u64("VMT_IO_PAGE_SIZE", &c->pgsize))
		return false;
	c->iommufd = (int)fd;
	c->hwpt = (__u32)hwpt;
	return true;
}

/*
 * Standalone: the same shape on a device cdev: 64 KiB at iova 0x1000000 in
 * an IOAS, a dirty-tracking HWPT, tracking enabled.  IO page size from
 * IOMMU_IOAS_IOVA_RANGES' out_iova_alignment.
 */
static bool dirty_standalone(struct dirty_ctx *c, struct dev *d)
{
	__u32 nranges;
	void *mem;
	int ret;

	if (!dev_open_checked(d, opt.cdev[0]))
		return false;
	c->iommufd = d->iommufd;
	c->iova = 0x1000000;
	c->length = 64 * 1024;
	mem = mmap(NULL, c->length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return check(false, "mmap 64 KiB");
	ret = iommu_ioas_map_fixed(c->iommufd, d->ioas, mem, c->length, c->iova);
	if (!ret)
		ret = iommu_hwpt_alloc_dirty(c->iommufd, d->devid, d->ioas, &c->hwpt);
	if (!ret)
		ret = vfio_attach_iommufd_pt(d->fd, c->hwpt);
	if (!ret)
		ret = iommu_hwpt_set_dirty_tracking(c->iommufd, c->hwpt,
						    IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	if (ret)
		return check(false, "map, HWPT_ALLOC(DIRTY_TRACKING), attach, enable: %s",
			     errname(ret));
	ret = iommu_ioas_iova_ranges(c->iommufd, d->ioas, &nranges, &c->pgsize);
	if (ret == -EMSGSIZE)
		ret = 0;
	if (ret || !c->pgsize)
		return check(false, "IOAS_IOVA_RANGES: %s, alignment %llu", errname(ret),
			     (unsigned long long)c->pgsize);
	return true;
}

/* iommufd_hwpt_get_dirty_bitmap, iommufd_check_iova_range, iommufd_fops_ioctl */
static void group_dirty(void)
{
	struct dirty_ctx c;
	struct dev d = { .fd = -1, .iommufd = -1 };
	static __u64 bitmap[1024];
	struct {
		struct iommu_hwpt_get_dirty_bitmap cmd;
		__u64 trailing;
	} big;
	struct iommu_hwpt_get_dirty_bitmap cmd, base;
	bool unmapped_einval;
	char why[320];
	__u64 ps;

	if (dirty_from_env(&c)) {
		diag("objects from iommufd-mock exec: hwpt %u, iova 0x%llx, %llu bytes, "
		     "IO page %llu", c.hwpt, (unsigned long long)c.iova,
		     (unsigned long long)c.length, (unsigned long long)c.pgsize);
	} else {
		if (opt.ncdev < 1) {
			check(false, "dirty: no VMT_IOMMUFD_FD and no device to set up objects on");
			return;
		}
		if (!dirty_standalone(&c, &d))
			goto out;
		diag("standalone objects: hwpt %u, iova 0x%llx, %llu bytes, IO page %llu", c.hwpt,
		     (unsigned long long)c.iova, (unsigned long long)c.length,
		     (unsigned long long)c.pgsize);
	}
	ps = c.pgsize;
	base = (struct iommu_hwpt_get_dirty_bitmap){
		.size = sizeof(cmd), .hwpt_id = c.hwpt, .iova = c.iova, .length = c.length,
		.page_size = ps, .data = (uintptr_t)bitmap,
	};
	check_err(iommu_hwpt_set_dirty_tracking(c.iommufd, c.hwpt, 2), -EOPNOTSUPP,
		  "SET_DIRTY_TRACKING with an unknown flag",
		  "iommufd_hwpt_set_dirty_tracking: flags & ~ENABLE");
	check_err(iommu_hwpt_set_dirty_tracking(c.iommufd, 0xfffff,
						IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
		  -ENOENT, "SET_DIRTY_TRACKING of an hwpt_id that does not exist",
		  "iommufd_get_hwpt_paging");
	check_err(iommu_hwpt_set_dirty_tracking(c.iommufd, c.hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
		  0, "SET_DIRTY_TRACKING enable while enabled", "iopt_set_dirty_tracking");
	cmd = base;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), 0, "GET_DIRTY_BITMAP of the range",
		  "iommufd_hwpt_get_dirty_bitmap");
	cmd = base;
	cmd.flags = IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), 0, "with NO_CLEAR",
		  "iommufd_hwpt_get_dirty_bitmap");
	cmd = base;
	cmd.flags = 2;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EOPNOTSUPP, "unknown flag 2",
		  "iommufd_hwpt_get_dirty_bitmap: flags");
	cmd = base;
	cmd.__reserved = 1;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EOPNOTSUPP, "__reserved != 0",
		  "iommufd_hwpt_get_dirty_bitmap: __reserved");
	cmd = base;
	cmd.hwpt_id = 0xfffff;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -ENOENT, "hwpt_id that does not exist",
		  "iommufd_get_hwpt_paging");
	cmd = base;
	cmd.length = 0;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EINVAL, "length 0",
		  "iommufd_check_iova_range: !length");
	cmd = base;
	cmd.iova = c.iova + ps / 2;
	cmd.page_size = ps / 2;
	cmd.length = c.length - ps;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EINVAL,
		  "iova off the IOAS alignment (half an IO page)",
		  "iommufd_check_iova_range: iova & (iova_alignment - 1)");
	cmd = base;
	cmd.length = c.length - ps / 2;
	cmd.page_size = ps / 2;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EINVAL,
		  "length off the IOAS alignment",
		  "iommufd_check_iova_range: (last_iova + 1) & (iova_alignment - 1)");
	cmd = base;
	cmd.page_size = 0;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EINVAL, "page_size 0",
		  "iommufd_check_iova_range: !page_size");
	cmd = base;
	cmd.iova = c.iova + ps;
	cmd.length = c.length - 2 * ps;
	cmd.page_size = 4 * ps;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EINVAL,
		  "iova not aligned to page_size (4 IO pages)",
		  "iommufd_check_iova_range: iova & (page_size - 1)");
	cmd = base;
	cmd.length = 3 * ps;
	cmd.page_size = 2 * ps;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EINVAL,
		  "length not a multiple of page_size",
		  "iommufd_check_iova_range: (last_iova + 1) & (page_size - 1)");
	/*
	 * 3 IO pages: not a power of 2.  The kernel has no such check: it masks
	 * with page_size - 1 (0b10...1 for 3 * 2^k), which the aperture start
	 * and a 64 KiB length pass, and iova_bitmap uses __ffs(page_size).
	 */
	cmd = base;
	cmd.page_size = 3 * ps;
	cmd.length = c.length;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd),
		  ((c.iova | (c.iova + c.length)) & (3 * ps - 1)) ? -EINVAL : 0,
		  "page_size 3 IO pages (not a power of 2)",
		  "iommufd_check_iova_range masks with page_size - 1; no power-of-2 check");
	cmd = base;
	cmd.iova = ~0ULL - ps + 1;
	cmd.length = 2 * ps;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EOVERFLOW, "iova + length wraps",
		  "iommufd_check_iova_range: check_add_overflow");
	unmapped_einval = kernel_has(RULE_DIRTY_UNMAPPED_EINVAL, why, sizeof(why));
	cmd = base;
	cmd.iova = c.iova + c.length;
	cmd.length = 16 * ps;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), unmapped_einval ? -EINVAL : 0,
		  "an aligned range past the mapped IOVA", why);
	cmd = base;
	cmd.length = c.length + 16 * ps;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), unmapped_einval ? -EINVAL : 0,
		  "a range from the mapped IOVA on past its end", why);
	cmd = base;
	cmd.size = offsetof(struct iommu_hwpt_get_dirty_bitmap, data);
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &cmd), -EINVAL, "size short of data",
		  "iommufd_fops_ioctl: user_size < min_size");
	big.cmd = base;
	big.cmd.size = sizeof(big);
	big.trailing = 1;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &big), -E2BIG,
		  "size beyond the struct with a non-zero byte there",
		  "copy_struct_from_user");
	big.trailing = 0;
	check_err(iommu_hwpt_get_dirty_bitmap(c.iommufd, &big), 0,
		  "size beyond the struct, zeroes there", "copy_struct_from_user");
out:
	if (d.fd >= 0 || d.iommufd >= 0)
		dev_close(&d);
}

/* ---------------------------------------------------------------- main */

static const struct {
	const char *name;
	void (*run)(void);
	int cdevs;
} groups[] = {
	{ "bind", group_bind, 1 },	   { "feature", group_feature, 1 },
	{ "fsm", group_fsm, 2 },	   { "datafd", group_datafd, 1 },
	{ "precopy", group_precopy, 1 },   { "datasize", group_datasize, 1 },
	{ "resume", group_resume, 2 },	   { "reset", group_reset, 1 },
	{ "close", group_close, 1 },	   { "dmalog", group_dmalog, 1 },
	{ "group", group_group, 1 },	   { "ioas", group_ioas, 0 },	   { "dirty", group_dirty, 0 },
};

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage: " PROG " [options] [CDEV_A [CDEV_B]]\n"
	      "Check the kernel's VFIO migration and iommufd rules on the devices (TAP).\n"
	      "  --only GROUP[,GROUP...]   run only these groups (default: all)\n"
	      "  --precopy-bytes N         initial pre-copy bytes of the device (24)\n"
	      "  --stopcopy-bytes N        stop-copy bytes after a pre-copy (36)\n"
	      "  --direct-bytes N          bytes of a STOP_COPY straight from RUNNING (60)\n"
	      "  --data-size N             its MIG_DATA_SIZE answer (60)\n"
	      "  --group NODE --name NAME  CDEV_A's group node and device name (group)\n"
	      "  --kernel VERSION          expect the rules of this Linux version\n"
	      "                            (default: uname -r)\n"
	      "Groups:",
	      out);
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		fprintf(out, " %s", groups[i].name);
	fputs("\nThe dirty group uses VMT_IOMMUFD_FD, VMT_HWPT_ID, VMT_IOVA, VMT_LENGTH and\n"
	      "VMT_IO_PAGE_SIZE when set (iommufd-mock exec), else sets up objects on CDEV_A.\n",
	      out);
}

static bool parse_u64(const char *s, __u64 *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return *s && !*end && !errno;
}

static bool selected(const char *name)
{
	const char *p = opt.only;
	size_t n = strlen(name);

	if (!p)
		return true;
	while (*p) {
		if (!strncmp(p, name, n) && (p[n] == ',' || !p[n]))
			return true;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return false;
}

/* --kernel, else uname -r: the version whose rules the checks expect */
static bool kernel_version_known(void)
{
	static struct utsname uts;
	const char *from = "--kernel";

	if (!kernel_release) {
		if (uname(&uts)) {
			fprintf(stderr, PROG ": uname: %s\n", strerror(errno));
			return false;
		}
		kernel_release = uts.release;
		from = "uname -r";
	}
	if (!parse_kversion(kernel_release, &kernel)) {
		fprintf(stderr, PROG ": kernel version '%s' (%s) is not MAJOR.MINOR[.SUBLEVEL]\n",
			kernel_release, from);
		return false;
	}
	diag("kernel %s (%s): rules of Linux %u.%u.%u", kernel_release, from, kernel.major,
	     kernel.minor, kernel.sub);
	return true;
}

int main(int argc, char **argv)
{
	size_t i;
	int ai;
	bool any = false;

	for (ai = 1; ai < argc; ai++) {
		const char *a = argv[ai];
		__u64 *num = NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--only") && ai + 1 < argc) {
			opt.only = argv[++ai];
			continue;
		} else if (!strcmp(a, "--group") && ai + 1 < argc) {
			opt.group_node = argv[++ai];
			continue;
		} else if (!strcmp(a, "--name") && ai + 1 < argc) {
			opt.group_name = argv[++ai];
			continue;
		} else if (!strcmp(a, "--kernel") && ai + 1 < argc) {
			kernel_release = argv[++ai];
			continue;
		} else if (!strcmp(a, "--precopy-bytes")) {
			num = &opt.precopy_bytes;
		} else if (!strcmp(a, "--stopcopy-bytes")) {
			num = &opt.stopcopy_bytes;
		} else if (!strcmp(a, "--direct-bytes")) {
			num = &opt.direct_bytes;
		} else if (!strcmp(a, "--data-size")) {
			num = &opt.data_size;
		} else if (a[0] == '-') {
			fprintf(stderr, PROG ": unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (opt.ncdev < 2) {
			opt.cdev[opt.ncdev++] = a;
			continue;
		} else {
			fprintf(stderr, PROG ": at most two devices\n");
			return 2;
		}
		if (ai + 1 >= argc || !parse_u64(argv[ai + 1], num)) {
			fprintf(stderr, PROG ": %s needs a number\n", a);
			return 2;
		}
		ai++;
	}
	if (!kernel_version_known())
		return 2;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (!selected(groups[i].name))
			continue;
		any = true;
		if (opt.ncdev < groups[i].cdevs) {
			fprintf(stderr, PROG ": group %s needs %d device(s)\n", groups[i].name,
				groups[i].cdevs);
			return 2;
		}
		diag("group %s", groups[i].name);
		groups[i].run();
	}
	if (!any) {
		fprintf(stderr, PROG ": no such group: %s\n", opt.only);
		return 2;
	}
	printf("1..%u\n", test_count);
	if (fail_count)
		diag("%u of %u checks failed", fail_count, test_count);
	return fail_count ? 1 : 0;
}
