// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel calls of uffd-probe, each traced at -vv.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "uffd-ioctl.h"
#include "uffd-uapi.h"

#ifndef __NR_userfaultfd
#error "this architecture's headers do not define __NR_userfaultfd"
#endif

static int traced(const char *what, int ret)
{
	int err = ret < 0 ? errno : 0;

	vmt_trace("%s = %d%s%s", what, ret < 0 ? -err : ret, err ? " " : "",
		  err ? strerror(err) : "");
	return ret < 0 ? -err : ret;
}

int uffd_syscall_open(int extra_flags)
{
	long fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | extra_flags);
	char what[64];

	snprintf(what, sizeof(what), "userfaultfd(flags 0x%x)",
		 O_CLOEXEC | O_NONBLOCK | extra_flags);
	return traced(what, (int)fd);
}

int uffd_dev_ioctl_new(int dev_fd, int extra_flags)
{
	return traced("USERFAULTFD_IOC_NEW",
		      ioctl(dev_fd, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK | extra_flags));
}

int uffd_ioctl_api(int uffd, uint64_t want_features, uint64_t *offered_features,
		   uint64_t *api_ioctls)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = want_features,
	};
	int ret = ioctl(uffd, UFFDIO_API, &api) ? -errno : 0;

	vmt_trace("UFFDIO_API(features 0x%llx) = %d%s%s: offered 0x%llx, ioctls 0x%llx",
		  (unsigned long long)want_features, ret, ret ? " " : "", ret ? strerror(-ret) : "",
		  (unsigned long long)api.features, (unsigned long long)api.ioctls);
	if (ret == 0) {
		if (offered_features)
			*offered_features = api.features;
		if (api_ioctls)
			*api_ioctls = api.ioctls;
	}
	return ret;
}

int uffd_ioctl_register(int uffd, void *addr, uint64_t len, uint64_t mode, uint64_t *range_ioctls)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = mode,
	};
	int ret = ioctl(uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;

	vmt_trace("UFFDIO_REGISTER(%p +%llu, mode 0x%llx) = %d%s%s: ioctls 0x%llx", addr,
		  (unsigned long long)len, (unsigned long long)mode, ret, ret ? " " : "",
		  ret ? strerror(-ret) : "", (unsigned long long)reg.ioctls);
	if (ret == 0 && range_ioctls)
		*range_ioctls = reg.ioctls;
	return ret;
}

int uffd_ioctl_unregister(int uffd, void *addr, uint64_t len)
{
	struct uffdio_range range = { .start = (uintptr_t)addr, .len = len };

	return traced("UFFDIO_UNREGISTER", ioctl(uffd, UFFDIO_UNREGISTER, &range));
}

/*
 * The filling ioctls report how much they did in the struct; a short count
 * without an error is reported as -EIO so callers need not look twice. Not
 * traced per call: the benchmark issues thousands.
 */
int uffd_ioctl_copy(int uffd, void *dst, const void *src, uint64_t len)
{
	struct uffdio_copy copy = {
		.dst = (uintptr_t)dst,
		.src = (uintptr_t)src,
		.len = len,
	};

	if (ioctl(uffd, UFFDIO_COPY, &copy))
		return -errno;
	return copy.copy == (int64_t)len ? 0 : -EIO;
}

int uffd_ioctl_zeropage(int uffd, void *dst, uint64_t len)
{
	struct uffdio_zeropage zp = {
		.range = { .start = (uintptr_t)dst, .len = len },
	};

	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zp))
		return -errno;
	return zp.zeropage == (int64_t)len ? 0 : -EIO;
}

int uffd_ioctl_continue(int uffd, void *dst, uint64_t len)
{
	struct uffdio_continue cont = {
		.range = { .start = (uintptr_t)dst, .len = len },
	};

	if (ioctl(uffd, UFFDIO_CONTINUE, &cont))
		return -errno;
	return cont.mapped == (int64_t)len ? 0 : -EIO;
}
