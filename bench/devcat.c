// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-devcat: the baseline of bench/save-load. It moves a device's state
 * the way cat would if cat could open a VFIO device: "save" reads the STOP_COPY
 * data fd to stdout, "load" writes stdin to a RESUMING data fd, 1 MiB at a
 * time, no framing, no checksums. The device work (the simulator producing
 * and checking bytes in the same process) is the same as for vfio-mig-save
 * and vfio-mig-load, so the ratio measures what the stream format and the
 * tools cost, not the device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vfio/device.h"
#include "vfio/mig.h"

#define BUF_SIZE (1u << 20)

static int copy_out(struct vmt_device *dev, uint8_t *buf)
{
	for (;;) {
		size_t got = 0;
		int st = vmt_mig_read_data(dev->data_fd, buf, BUF_SIZE, false, &got);

		if (st < 0)
			return st;
		for (size_t done = 0; done < got;) {
			ssize_t n = write(STDOUT_FILENO, buf + done, got - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			done += (size_t)n;
		}
		if (st == VMT_DATA_END)
			return 0;
	}
}

static int copy_in(struct vmt_device *dev, uint8_t *buf)
{
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, BUF_SIZE);
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		rc = vmt_mig_write_data(dev->data_fd, buf, (size_t)n);
		if (rc < 0)
			return rc;
	}
}

int main(int argc, char **argv)
{
	const struct vmt_device_open_opts opts = { 0 };
	struct vmt_device *dev = NULL;
	bool save;
	uint8_t *buf;
	int rc;

	vmt_log_init(argv[0]);
	if (argc != 3 || (strcmp(argv[1], "save") != 0 && strcmp(argv[1], "load") != 0)) {
		fprintf(stderr, "usage: %s save|load DEV\n", argv[0]);
		return 2;
	}
	save = strcmp(argv[1], "save") == 0;
	buf = malloc(BUF_SIZE);
	if (!buf)
		return 1;
	rc = vmt_device_open(argv[2], &opts, &dev);
	if (rc == 0)
		rc = vmt_mig_query(dev);
	if (rc == 0)
		rc = vmt_mig_set_state(dev, save ? VFIO_DEVICE_STATE_STOP_COPY
						 : VFIO_DEVICE_STATE_RESUMING);
	if (rc == 0)
		rc = save ? copy_out(dev, buf) : copy_in(dev, buf);
	if (rc == 0)
		rc = vmt_mig_set_state(dev, VFIO_DEVICE_STATE_STOP);
	if (rc == 0)
		rc = vmt_mig_set_state(dev, VFIO_DEVICE_STATE_RUNNING);
	if (rc < 0)
		fprintf(stderr, "%s: %s %s: %s\n", argv[0], argv[1], argv[2], strerror(-rc));
	if (dev)
		vmt_device_close(dev);
	free(buf);
	return rc < 0;
}
