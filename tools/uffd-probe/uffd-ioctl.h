/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every userfaultfd system call and ioctl the tool makes, one named function
 * each, so a trace (-vv) shows each kernel call with its arguments and result.
 * All return 0 (or a file descriptor) on success and -errno on failure.
 */
#ifndef UFFD_PROBE_IOCTL_H
#define UFFD_PROBE_IOCTL_H

#include <stdint.h>

/* userfaultfd(2) with O_CLOEXEC | O_NONBLOCK | extra_flags: fd or -errno. */
int uffd_syscall_open(int extra_flags);
/* USERFAULTFD_IOC_NEW on an open /dev/userfaultfd: a new uffd or -errno. */
int uffd_dev_ioctl_new(int dev_fd, int extra_flags);

/* UFFDIO_API: enable want_features; the kernel reports what it offers. */
int uffd_ioctl_api(int uffd, uint64_t want_features, uint64_t *offered_features,
		   uint64_t *api_ioctls);
/* UFFDIO_REGISTER: *range_ioctls gets the ioctls the kernel grants on it. */
int uffd_ioctl_register(int uffd, void *addr, uint64_t len, uint64_t mode, uint64_t *range_ioctls);
int uffd_ioctl_unregister(int uffd, void *addr, uint64_t len);
int uffd_ioctl_copy(int uffd, void *dst, const void *src, uint64_t len);
int uffd_ioctl_zeropage(int uffd, void *dst, uint64_t len);
int uffd_ioctl_continue(int uffd, void *dst, uint64_t len);

#endif
