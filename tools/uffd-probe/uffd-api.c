// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The UFFDIO_API handshake.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "uffd-api.h"
#include "uffd-ioctl.h"
#include "uffd-names.h"
#include "uffd-uapi.h"

int uffd_open_and_enable(const char *device_path, bool need_kernel_faults, uint64_t features,
			 enum uffd_open_method *used, const char **stage)
{
	int fd = uffd_open_best(device_path, need_kernel_faults, used);
	int ret;

	if (fd < 0) {
		*stage = "open";
		return fd;
	}
	ret = uffd_ioctl_api(fd, features, NULL, NULL);
	if (ret) {
		*stage = "UFFDIO_API";
		close(fd);
		return ret;
	}
	return fd;
}

void uffd_api_probe(const char *device_path, struct uffd_api_result *out)
{
	int fd;

	*out = (struct uffd_api_result){ .api = UFFD_API };
	for (unsigned int b = 0; b < 64; b++)
		if (uffd_feature_name(b))
			out->known_features |= (uint64_t)1 << b;

	fd = uffd_open_best(device_path, false, &out->method);
	if (fd < 0) {
		out->err = -fd;
		snprintf(out->error, sizeof(out->error), "no way to open a userfaultfd works: %s",
			 strerror(-fd));
		return;
	}
	out->err = -uffd_ioctl_api(fd, 0, &out->features, &out->ioctls);
	if (out->err)
		snprintf(out->error, sizeof(out->error), "UFFDIO_API (api 0x%llx): %s",
			 (unsigned long long)UFFD_API, strerror(out->err));
	else
		out->ok = true;
	close(fd);
}
