// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mtty-migrate: migrate one mtty mdev instance into another over the VFIO
 * migration uAPI (v2, with pre-copy), as a reference for the kernel tier.
 *
 * It is the test tier's independent implementation of the protocol the
 * project's tools speak, so a test can tell "the tier is broken" from "the
 * tool is broken".  It prints every observation (flags, sizes, transitions)
 * so the bats tests can check them against what mtty is known to do.
 *
 * Exit status: 0 migrated, 1 error, 2 usage, 3 the destination rejected the
 * stream: a write to its data_fd or RESUMING -> STOP failed (what --corrupt
 * and --truncate are meant to provoke).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/c.h"
#include "kt-uapi.h"

#define EXIT_USAGE 2
#define EXIT_REJECTED 3

/* One VFIO device opened through its cdev and attached to its own iommufd. */
struct mig_dev {
	const char *role; /* "src" or "dst": prefixes every message */
	int dev_fd;
	int iommufd;
	__u32 devid;
	__u32 ioas_id;
	int data_fd;
};

struct stream {
	unsigned char *buf;
	size_t len;
	size_t cap;
};

static const char *state_name(__u32 state)
{
	static const char *const names[] = {
		[VFIO_DEVICE_STATE_ERROR] = "ERROR",
		[VFIO_DEVICE_STATE_STOP] = "STOP",
		[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
		[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
		[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
		[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
		[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
		[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
	};

	if (state < ARRAY_SIZE(names) && names[state])
		return names[state];
	return "UNKNOWN";
}

/* ---- one function per ioctl ---- */

static int iommufd_ioas_alloc(int iommufd, __u32 *ioas_id)
{
	struct iommu_ioas_alloc cmd = {
		.size = sizeof(cmd),
	};

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &cmd))
		return -errno;
	*ioas_id = cmd.out_ioas_id;
	return 0;
}

static int vfio_device_bind_iommufd(int dev_fd, int iommufd, __u32 *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};

	if (ioctl(dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -errno;
	*devid = bind.out_devid;
	return 0;
}

static int vfio_device_attach_iommufd_pt(int dev_fd, __u32 pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = pt_id,
	};

	if (ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return -errno;
	return 0;
}

/*
 * VFIO_DEVICE_FEATURE takes a header followed by the feature's payload in one
 * buffer; the payload is copied in and out here so callers keep typed structs.
 */
static int vfio_device_feature(int dev_fd, __u32 flags, void *payload, size_t payload_size)
{
	__u64 buf[(sizeof(struct vfio_device_feature) + 64) / sizeof(__u64)];
	struct vfio_device_feature *feature = (void *)buf;

	if (payload_size > 64)
		return -EINVAL;
	memset(buf, 0, sizeof(buf));
	feature->argsz = sizeof(*feature) + payload_size;
	feature->flags = flags;
	memcpy(feature->data, payload, payload_size);
	if (ioctl(dev_fd, VFIO_DEVICE_FEATURE, feature))
		return -errno;
	memcpy(payload, feature->data, payload_size);
	return 0;
}

static int vfio_mig_get_precopy_info(int data_fd, struct vfio_precopy_info *info)
{
	*info = (struct vfio_precopy_info){
		.argsz = sizeof(*info),
	};
	if (ioctl(data_fd, VFIO_MIG_GET_PRECOPY_INFO, info))
		return -errno;
	return 0;
}

/* ---- migration steps ---- */

static int mig_get_flags(struct mig_dev *dev, __u64 *flags)
{
	struct vfio_device_feature_migration mig = { 0 };
	int ret;

	ret = vfio_device_feature(dev->dev_fd,
				  VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig,
				  sizeof(mig));
	if (ret)
		return ret;
	*flags = mig.flags;
	return 0;
}

static int mig_get_state(struct mig_dev *dev, __u32 *state)
{
	struct vfio_device_feature_mig_state st = { 0 };
	int ret;

	ret = vfio_device_feature(dev->dev_fd,
				  VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
				  &st, sizeof(st));
	if (ret)
		return ret;
	*state = st.device_state;
	return 0;
}

static int mig_get_data_size(struct mig_dev *dev, __u64 *stop_copy_length)
{
	struct vfio_device_feature_mig_data_size sz = { 0 };
	int ret;

	ret = vfio_device_feature(dev->dev_fd,
				  VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &sz,
				  sizeof(sz));
	if (ret)
		return ret;
	*stop_copy_length = sz.stop_copy_length;
	return 0;
}

/*
 * Moves the device to @to and reports the transition.  A state that opens a
 * data stream returns its fd; PRE_COPY -> STOP_COPY keeps the pre-copy fd and
 * the kernel answers -1 then, so a valid fd already held is kept.
 */
static int mig_set_state(struct mig_dev *dev, __u32 to)
{
	struct vfio_device_feature_mig_state st = {
		.device_state = to,
		.data_fd = -1,
	};
	__u32 from = VFIO_DEVICE_STATE_ERROR;
	int ret;

	mig_get_state(dev, &from);
	ret = vfio_device_feature(dev->dev_fd,
				  VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
				  &st, sizeof(st));
	if (ret) {
		fprintf(stderr, "%s: %s -> %s failed: %s\n", dev->role, state_name(from),
			state_name(to), strerror(-ret));
		return ret;
	}
	if (st.data_fd >= 0) {
		if (dev->data_fd >= 0)
			close(dev->data_fd);
		dev->data_fd = st.data_fd;
		printf("%s: %s -> %s data_fd new\n", dev->role, state_name(from), state_name(to));
	} else {
		printf("%s: %s -> %s data_fd %s\n", dev->role, state_name(from), state_name(to),
		       dev->data_fd >= 0 ? "kept" : "none");
	}
	return 0;
}

static int stream_append(struct stream *s, const void *data, size_t len)
{
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		unsigned char *buf;

		while (cap < s->len + len)
			cap *= 2;
		buf = realloc(s->buf, cap);
		if (!buf)
			return -ENOMEM;
		s->buf = buf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

/*
 * Reads what the device has for now.  In PRE_COPY the end of the currently
 * available data is signalled by read() returning 0 (mtty) or ENOMSG (the
 * documented alternative), neither of which ends the stream.
 */
static ssize_t mig_read_available(struct mig_dev *dev, struct stream *s)
{
	unsigned char chunk[4096];
	ssize_t total = 0;

	for (;;) {
		ssize_t n = read(dev->data_fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOMSG)
			break;
		if (n < 0) {
			int err = errno;

			fprintf(stderr, "%s: read from data_fd: %s\n", dev->role, strerror(err));
			return -err;
		}
		if (n == 0)
			break;
		if (stream_append(s, chunk, n))
			return -ENOMEM;
		total += n;
	}
	return total;
}

static int mig_write_all(struct mig_dev *dev, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(dev->data_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			fprintf(stderr, "%s: write to data_fd: %s\n", dev->role, strerror(err));
			return -err;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static int mig_open(struct mig_dev *dev, const char *role, const char *cdev)
{
	int ret;

	*dev = (struct mig_dev){ .role = role, .dev_fd = -1, .iommufd = -1, .data_fd = -1 };
	dev->dev_fd = open(cdev, O_RDWR | O_CLOEXEC);
	if (dev->dev_fd < 0) {
		fprintf(stderr, "%s: open %s: %s\n", role, cdev, strerror(errno));
		return -1;
	}
	/* Each side gets its own iommufd, as two separate VMMs would. */
	dev->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (dev->iommufd < 0) {
		fprintf(stderr, "%s: open /dev/iommu: %s\n", role, strerror(errno));
		return -1;
	}
	ret = vfio_device_bind_iommufd(dev->dev_fd, dev->iommufd, &dev->devid);
	if (ret) {
		fprintf(stderr, "%s: VFIO_DEVICE_BIND_IOMMUFD: %s\n", role, strerror(-ret));
		return -1;
	}
	ret = iommufd_ioas_alloc(dev->iommufd, &dev->ioas_id);
	if (ret) {
		fprintf(stderr, "%s: IOMMU_IOAS_ALLOC: %s\n", role, strerror(-ret));
		return -1;
	}
	ret = vfio_device_attach_iommufd_pt(dev->dev_fd, dev->ioas_id);
	if (ret) {
		fprintf(stderr, "%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s\n", role, strerror(-ret));
		return -1;
	}
	printf("%s: %s bound, devid %u, ioas %u\n", role, cdev, dev->devid, dev->ioas_id);
	return 0;
}

static void mig_close(struct mig_dev *dev)
{
	if (dev->data_fd >= 0)
		close(dev->data_fd);
	if (dev->dev_fd >= 0)
		close(dev->dev_fd);
	if (dev->iommufd >= 0)
		close(dev->iommufd);
}

static int save_source(struct mig_dev *src, bool precopy, struct stream *s)
{
	__u64 flags, stop_copy_length;
	__u32 state;
	ssize_t n;
	int ret;

	ret = mig_get_flags(src, &flags);
	if (ret) {
		fprintf(stderr, "src: get MIGRATION feature: %s\n", strerror(-ret));
		return -1;
	}
	printf("src: migration flags 0x%llx%s%s%s%s\n", (unsigned long long)flags,
	       flags & VFIO_MIGRATION_STOP_COPY ? " STOP_COPY" : "",
	       flags & VFIO_MIGRATION_P2P ? " P2P" : "",
	       flags & VFIO_MIGRATION_PRE_COPY ? " PRE_COPY" : "",
	       flags & ~(__u64)(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				VFIO_MIGRATION_PRE_COPY)
		       ? " (unknown bits)"
		       : "");
	if (!(flags & VFIO_MIGRATION_STOP_COPY)) {
		fprintf(stderr, "src: device does not support STOP_COPY\n");
		return -1;
	}
	if (precopy && !(flags & VFIO_MIGRATION_PRE_COPY)) {
		fprintf(stderr, "src: device does not support PRE_COPY\n");
		return -1;
	}

	ret = mig_get_state(src, &state);
	if (ret) {
		fprintf(stderr, "src: get device state: %s\n", strerror(-ret));
		return -1;
	}
	printf("src: state %s\n", state_name(state));

	ret = mig_get_data_size(src, &stop_copy_length);
	if (ret)
		printf("src: MIG_DATA_SIZE unavailable: %s\n", strerror(-ret));
	else
		printf("src: stop_copy_length %llu\n", (unsigned long long)stop_copy_length);

	if (precopy) {
		struct vfio_precopy_info info;

		if (mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY))
			return -1;
		if (src->data_fd < 0) {
			fprintf(stderr, "src: PRE_COPY gave no data_fd\n");
			return -1;
		}
		ret = vfio_mig_get_precopy_info(src->data_fd, &info);
		if (ret) {
			fprintf(stderr, "src: VFIO_MIG_GET_PRECOPY_INFO: %s\n", strerror(-ret));
			return -1;
		}
		printf("src: precopy initial_bytes %llu dirty_bytes %llu\n",
		       (unsigned long long)info.initial_bytes,
		       (unsigned long long)info.dirty_bytes);
		n = mig_read_available(src, s);
		if (n < 0)
			return -1;
		printf("src: pre-copy read %zd bytes\n", n);
	}

	if (mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY))
		return -1;
	if (src->data_fd < 0) {
		fprintf(stderr, "src: STOP_COPY gave no data_fd\n");
		return -1;
	}
	n = mig_read_available(src, s);
	if (n < 0)
		return -1;
	printf("src: stop-copy read %zd bytes\n", n);
	if (mig_set_state(src, VFIO_DEVICE_STATE_STOP))
		return -1;
	return 0;
}

/*
 * Returns 0 when resumed, EXIT_REJECTED when the device refused the data.
 * mtty checks the stream header as it is written (the write fails) and the
 * length when leaving RESUMING (the transition fails); both are reported,
 * and STOP is still attempted after a refused write to show what the
 * device then does.
 */
static int load_destination(struct mig_dev *dst, const struct stream *s, size_t len)
{
	bool rejected = false;
	__u32 state;
	int ret;

	ret = mig_get_state(dst, &state);
	if (ret) {
		fprintf(stderr, "dst: get device state: %s\n", strerror(-ret));
		return 1;
	}
	printf("dst: state %s\n", state_name(state));
	/* The kernel walks RUNNING -> STOP -> RESUMING itself. */
	if (mig_set_state(dst, VFIO_DEVICE_STATE_RESUMING))
		return 1;
	if (dst->data_fd < 0) {
		fprintf(stderr, "dst: RESUMING gave no data_fd\n");
		return 1;
	}
	ret = mig_write_all(dst, s->buf, len);
	if (ret == -EFAULT || ret == -EINVAL) {
		printf("dst: device refused the data on write: %s\n", strerror(-ret));
		rejected = true;
	} else if (ret) {
		return 1;
	} else {
		printf("dst: wrote %zu bytes\n", len);
	}
	/* Leaving RESUMING is where the device checks it got a whole state. */
	if (mig_set_state(dst, VFIO_DEVICE_STATE_STOP)) {
		if (mig_get_state(dst, &state) == 0)
			printf("dst: state after failed RESUMING -> STOP %s\n", state_name(state));
		rejected = true;
	}
	if (rejected) {
		printf("dst: stream rejected\n");
		return EXIT_REJECTED;
	}
	if (mig_set_state(dst, VFIO_DEVICE_STATE_RUNNING))
		return 1;
	ret = mig_get_state(dst, &state);
	if (ret || state != VFIO_DEVICE_STATE_RUNNING) {
		fprintf(stderr, "dst: not RUNNING after resume (%s)\n",
			ret ? strerror(-ret) : state_name(state));
		return 1;
	}
	printf("dst: state %s\n", state_name(state));
	return 0;
}

static int save_stream(const char *path, const struct stream *s)
{
	FILE *f = fopen(path, "wb");

	if (!f) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(s->buf, 1, s->len, f) != s->len || fclose(f)) {
		fprintf(stderr, "write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_offset(const char *opt, const char *arg, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(arg, &end, 0);
	if (errno || end == arg || *end || *out < 0) {
		fprintf(stderr, "mtty-migrate: invalid %s value '%s'\n", opt, arg);
		return -1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage: mtty-migrate [options] SRC_CDEV DST_CDEV\n"
	      "Migrate the VFIO device SRC_CDEV (e.g. /dev/vfio/devices/vfio0) into DST_CDEV.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --corrupt OFFSET  flip the byte at OFFSET of the stream before loading\n"
	      "  -t, --truncate LEN    load only the first LEN bytes of the stream\n"
	      "                        (with either, exit 3 means the destination refused it)\n"
	      "  -n, --no-precopy      go RUNNING -> STOP_COPY directly\n"
	      "  -s, --save FILE       also write the migration stream to FILE\n"
	      "  -h, --help            show this help\n",
	      out);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "corrupt", required_argument, NULL, 'c' },
		{ "truncate", required_argument, NULL, 't' },
		{ "no-precopy", no_argument, NULL, 'n' },
		{ "save", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mig_dev src = { .dev_fd = -1, .iommufd = -1, .data_fd = -1 };
	struct mig_dev dst = { .dev_fd = -1, .iommufd = -1, .data_fd = -1 };
	struct stream s = { 0 };
	const char *save_path = NULL;
	long corrupt_at = -1, truncate_to = -1;
	size_t load_len;
	bool precopy = true;
	int c, rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "c:t:ns:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_offset("--corrupt", optarg, &corrupt_at))
				return EXIT_USAGE;
			break;
		case 't':
			if (parse_offset("--truncate", optarg, &truncate_to))
				return EXIT_USAGE;
			break;
		case 'n':
			precopy = false;
			break;
		case 's':
			save_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fputs("Try 'mtty-migrate --help' for more information.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fputs("mtty-migrate: need SRC_CDEV and DST_CDEV\n"
		      "Try 'mtty-migrate --help' for more information.\n",
		      stderr);
		return EXIT_USAGE;
	}

	if (mig_open(&src, "src", argv[optind]) || mig_open(&dst, "dst", argv[optind + 1]))
		goto out;
	if (save_source(&src, precopy, &s))
		goto out;
	printf("src: total %zu bytes\n", s.len);
	if (save_path && save_stream(save_path, &s))
		goto out;
	if (corrupt_at >= 0) {
		if ((size_t)corrupt_at >= s.len) {
			fprintf(stderr, "mtty-migrate: --corrupt %ld is past the %zu-byte stream\n",
				corrupt_at, s.len);
			goto out;
		}
		s.buf[corrupt_at] ^= 0xff;
		printf("corrupted byte %ld\n", corrupt_at);
	}
	load_len = s.len;
	if (truncate_to >= 0) {
		if ((size_t)truncate_to >= s.len) {
			fprintf(stderr,
				"mtty-migrate: --truncate %ld does not shorten the %zu-byte stream\n",
				truncate_to, s.len);
			goto out;
		}
		load_len = truncate_to;
		printf("truncated to %zu bytes\n", load_len);
	}
	rc = load_destination(&dst, &s, load_len);
	if (rc == 0)
		printf("migrated %zu bytes\n", load_len);
out:
	mig_close(&src);
	mig_close(&dst);
	free(s.buf);
	return rc;
}
