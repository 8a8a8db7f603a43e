/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checks' view of a device: the cdev opened the documented way (open,
 * /dev/iommu, BIND, IOAS, ATTACH), the migration feature with arguments as
 * the checks build them, and plain reads and writes of a data fd.  Every
 * ioctl goes through lib/vfio/vfio-ioctl.h or lib/vfio/iommufd-ioctl.h; the "as
 * built" wrappers there carry the deliberately wrong sizes.
 */
#ifndef VMC_PROBE_H
#define VMC_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfio/uapi/iommufd-uapi.h"
#include "vfio/uapi/vfio-uapi.h"

#define NO_FD (-1)
/* data_fd is preset to this before a SET, to see that the kernel wrote it */
#define FD_POISON 0x5a5a5a

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

const char *sname(uint32_t state);
/* Whether flags (VFIO_MIGRATION_*) allow the state (vfio_mig_get_next_state's table). */
bool state_supported(uint32_t state, uint64_t flags);

struct dev {
	const char *path;
	int fd, iommufd;
	uint32_t devid, ioas;
	bool ready; /* dev_open succeeded: its state can be asked and set */
};
/* A dev not opened yet: dev_release() does nothing to it. */
#define DEV_CLOSED                            \
	{                                     \
		.fd = NO_FD, .iommufd = NO_FD \
	}

/* 0 or -errno; *d is usable for dev_close() either way. */
int dev_open(struct dev *d, const char *path);
void dev_close(struct dev *d);
/* The end of a group: back to RUNNING when it was opened (dev_to_running), closed. */
void dev_release(struct dev *d);
/* dev_open, a failed check (and *d closed) when it fails. */
bool dev_open_checked(struct dev *d, const char *path);
/* VFIO_DEVICE_RESET and GET: back to RUNNING with no data_fd, or a failed check. */
bool dev_to_running(struct dev *d);

/* VFIO_DEVICE_FEATURE with an explicit argsz: header + len bytes of payload, copied back. */
int feature(int devfd, uint32_t flags, void *payload, size_t len, uint32_t argsz);
int mig_get_state(int devfd, uint32_t *state);
/* SET; *data_fd gets what the kernel wrote back (also on failure), or it is closed. */
int mig_set_state(int devfd, uint32_t state, int *data_fd);
int mig_data_size(int devfd, uint64_t *len);
int mig_flags(int devfd, uint64_t *flags);
int precopy_info(int datafd, uint32_t argsz, struct vfio_precopy_info *info);

int bind_iommufd(int devfd, uint32_t argsz, uint32_t flags, int iommufd, uint32_t *devid);
int attach_pt(int devfd, uint32_t pt_id, uint32_t flags);
int get_info(int devfd, uint32_t argsz, struct vfio_device_info *info);

void close_fd(int *fd);
int neg_errno(int ret);

/*
 * Where the bytes read from a data_fd go.  A device's state can be many
 * GiB (mlx5, vGPUs): no check keeps it in memory.  What a check needs of
 * it is its size (counted), its bytes again to write into a resuming
 * device (a spool), or its digest next to a migstream (group-stream.c):
 * each is a sink, fed through one bounded buffer.
 */
struct sink {
	/* 0 or -errno */
	int (*take)(struct sink *s, const unsigned char *buf, size_t len);
};

/* The buffer every transfer of device state goes through. */
#define IO_CHUNK (1u << 20)
extern unsigned char io_buf[IO_CHUNK];

/*
 * read() until 0 or an error: the byte count, or -errno.  to == NULL: the
 * bytes are only counted.
 */
int64_t read_to_end(int fd, struct sink *to);
/* The same, and -ENOMSG counts as the end too; *end_errno gets what ended it (0 or -ENOMSG). */
int64_t read_to_pause(int fd, struct sink *to, int *end_errno);
int write_all(int fd, const unsigned char *buf, size_t len);
/* one read() of up to n (<= 64) bytes: the count or -errno */
int read_once(int fd, size_t n);

/*
 * A saved state, to be written into a resuming device again: an unlinked
 * temporary file in $TMPDIR (else /tmp), so that it costs disk, not memory.
 */
struct spool {
	struct sink sink;
	int fd;
	uint64_t len;
};

/* 0 or -errno; *s is usable for spool_close() either way. */
int spool_open(struct spool *s);
void spool_close(struct spool *s);
/* Bytes [offset, offset + len) of s written to fd, through io_buf: 0 or -errno. */
int spool_write_to(const struct spool *s, uint64_t offset, uint64_t len, int fd);
/* Bytes [offset, offset + len) of s into buf (len <= IO_CHUNK): 0 or -errno. */
int spool_read(const struct spool *s, uint64_t offset, size_t len, unsigned char *buf);

/*
 * B's state as a complete stream (RUNNING -> STOP_COPY) into to (NULL:
 * counted), B back in RUNNING: the byte count, or -EIO after a failed check.
 */
int64_t save_stream(struct dev *b, struct sink *to);

/*
 * check_u64 of a byte count read or written, or a failed check naming the
 * error when got is -errno: a count is never shown negative.
 */
bool check_bytes(int64_t got, uint64_t want, const char *what, const char *rule);

#endif
