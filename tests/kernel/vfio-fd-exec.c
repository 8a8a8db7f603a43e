// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-fd-exec: a stand-in for a VMM that owns a VFIO device and hands its
 * fd to a tool (vfio-mig-save -d fd:N). It opens DEVICE with the project's
 * device layer (cdev: bound to an iommufd and attached), runs CMD with the
 * device fd inherited and its number in $VMT_DEVICE_FD, then, still holding
 * the fd as a VMM would, prints the device's migration state:
 *
 *   vfio-fd-exec: device state STOP
 *
 * and exits with CMD's exit status (125 for its own errors).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vfio/device.h"
#include "vfio/mig.h"

#define EXIT_OWN_ERROR 125

int main(int argc, char **argv)
{
	struct vmt_device *dev;
	char num[16];
	uint32_t state;
	int ret, status;
	pid_t pid;

	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: vfio-fd-exec DEVICE -- CMD [ARGS...]\n");
		return EXIT_OWN_ERROR;
	}
	ret = vmt_device_open(argv[1], NULL, &dev);
	if (ret < 0) {
		fprintf(stderr, "vfio-fd-exec: %s: %s\n", argv[1], strerror(-ret));
		return EXIT_OWN_ERROR;
	}
	/* The tool inherits the fd across exec, like a VMM's passed descriptor. */
	if (fcntl(dev->fd, F_SETFD, 0) < 0) {
		perror("vfio-fd-exec: fcntl");
		return EXIT_OWN_ERROR;
	}
	snprintf(num, sizeof(num), "%d", dev->fd);
	setenv("VMT_DEVICE_FD", num, 1);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("vfio-fd-exec: fork");
		return EXIT_OWN_ERROR;
	}
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		perror("vfio-fd-exec: exec");
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("vfio-fd-exec: waitpid");
		return EXIT_OWN_ERROR;
	}
	ret = vmt_mig_get_state(dev, &state);
	if (ret < 0)
		printf("vfio-fd-exec: device state unreadable: %s\n", strerror(-ret));
	else
		printf("vfio-fd-exec: device state %s\n", vmt_state_name(state));
	vmt_device_close(dev);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
