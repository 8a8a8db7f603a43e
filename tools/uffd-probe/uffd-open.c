// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Opening a userfaultfd three ways, and explaining refusals.
 *
 * The rules (fs/userfaultfd.c, userfaultfd_syscall_allowed): the syscall with
 * UFFD_USER_MODE_ONLY is always allowed; without it the caller needs
 * CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1, else EPERM. The device
 * node is governed only by its file permissions, and its fds handle kernel
 * faults too. ENOSYS means no CONFIG_USERFAULTFD or a seccomp filter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/c.h"
#include "common/log.h"
#include "uffd-ioctl.h"
#include "uffd-open.h"
#include "uffd-uapi.h"

#define CAP_SYS_PTRACE_BIT 19

static const char *const method_names[UFFD_OPEN_METHOD_COUNT] = {
	[UFFD_OPEN_SYSCALL] = "syscall",
	[UFFD_OPEN_SYSCALL_USER_ONLY] = "syscall-user-mode-only",
	[UFFD_OPEN_DEVICE] = "device",
};

const char *uffd_open_method_name(enum uffd_open_method method)
{
	return method < UFFD_OPEN_METHOD_COUNT ? method_names[method] : "?";
}

bool uffd_open_method_kernel_faults(enum uffd_open_method method)
{
	return method != UFFD_OPEN_SYSCALL_USER_ONLY;
}

static int read_int_file(const char *path)
{
	FILE *f = fopen(path, "re");
	int v;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* A field of /proc/self/status, as text after the colon. */
static bool status_field(const char *name, char *value, size_t len)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	size_t nlen = strlen(name);
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(value, len, "%s", v);
			value[strcspn(value, "\n")] = '\0';
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

void uffd_privileges_read(const char *device_path, struct uffd_privileges *privs)
{
	char value[64];
	struct stat st;

	*privs = (struct uffd_privileges){
		.euid = geteuid(),
		.cap_sys_ptrace = -1,
		.unprivileged_userfaultfd = read_int_file("/proc/sys/vm/unprivileged_userfaultfd"),
		.seccomp_mode = -1,
		.device_path = device_path,
	};
	if (status_field("CapEff", value, sizeof(value))) {
		unsigned long long caps = strtoull(value, NULL, 16);

		privs->cap_sys_ptrace = !!(caps & (1ULL << CAP_SYS_PTRACE_BIT));
	}
	if (status_field("Seccomp", value, sizeof(value)))
		privs->seccomp_mode = atoi(value);
	if (stat(device_path, &st) == 0) {
		privs->device_mode = st.st_mode;
		privs->device_uid = st.st_uid;
		privs->device_gid = st.st_gid;
	} else {
		privs->device_errno = errno;
	}
}

int uffd_open_with(enum uffd_open_method method, const char *device_path)
{
	int dev_fd, fd;

	switch (method) {
	case UFFD_OPEN_SYSCALL:
		return uffd_syscall_open(0);
	case UFFD_OPEN_SYSCALL_USER_ONLY:
		return uffd_syscall_open(UFFD_USER_MODE_ONLY);
	case UFFD_OPEN_DEVICE:
		dev_fd = open(device_path, O_RDWR | O_CLOEXEC);
		if (dev_fd < 0)
			return -errno;
		fd = uffd_dev_ioctl_new(dev_fd, 0);
		close(dev_fd);
		return fd;
	default:
		return -EINVAL;
	}
}

static void explain_enosys(const struct uffd_privileges *privs, char *buf, size_t len)
{
	if (privs->seccomp_mode > 0)
		snprintf(buf, len, "blocked by seccomp (Seccomp: %d in /proc/self/status)",
			 privs->seccomp_mode);
	else
		snprintf(buf, len, "kernel built without CONFIG_USERFAULTFD");
}

static void explain_syscall(const struct uffd_privileges *privs, int err, bool user_only, char *buf,
			    size_t len)
{
	switch (err) {
	case EPERM:
		if (user_only)
			snprintf(buf, len,
				 "refused although UFFD_USER_MODE_ONLY is always allowed "
				 "by the kernel: a security module or seccomp filter denies it");
		else if (privs->unprivileged_userfaultfd == 0 && privs->cap_sys_ptrace == 0)
			snprintf(buf, len,
				 "needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1 "
				 "(or UFFD_USER_MODE_ONLY)");
		else
			snprintf(buf, len,
				 "denied by a security module or seccomp filter "
				 "(vm.unprivileged_userfaultfd=%d, CAP_SYS_PTRACE %s)",
				 privs->unprivileged_userfaultfd,
				 privs->cap_sys_ptrace > 0 ? "held" : "not held");
		break;
	case ENOSYS:
		explain_enosys(privs, buf, len);
		break;
	case EINVAL:
		snprintf(buf, len,
			 user_only ? "kernel older than 5.11: no UFFD_USER_MODE_ONLY"
				   : "kernel rejected the flags");
		break;
	case EMFILE:
	case ENFILE:
		snprintf(buf, len, "out of file descriptors");
		break;
	default:
		snprintf(buf, len, "%s", strerror(err));
	}
}

static void explain_device(const struct uffd_privileges *privs, int err, char *buf, size_t len)
{
	switch (err) {
	case ENOENT:
		snprintf(buf, len, "%s does not exist (kernel older than 6.1, or no devtmpfs node)",
			 privs->device_path);
		break;
	case EACCES:
	case EPERM:
		if (privs->device_errno == 0)
			snprintf(buf, len, "no permission to open %s (mode %04o, owner %u:%u)",
				 privs->device_path, (unsigned int)(privs->device_mode & 07777),
				 (unsigned int)privs->device_uid, (unsigned int)privs->device_gid);
		else
			snprintf(buf, len, "no permission to open %s", privs->device_path);
		break;
	case ENXIO:
	case ENODEV:
		snprintf(buf, len, "%s exists but no driver answers (no CONFIG_USERFAULTFD?)",
			 privs->device_path);
		break;
	case ENOTTY:
	case EINVAL:
		snprintf(buf, len, "%s does not accept USERFAULTFD_IOC_NEW: not a userfaultfd node",
			 privs->device_path);
		break;
	case ENOSYS:
		explain_enosys(privs, buf, len);
		break;
	default:
		snprintf(buf, len, "%s: %s", privs->device_path, strerror(err));
	}
}

void uffd_open_try(enum uffd_open_method method, const struct uffd_privileges *privs,
		   struct uffd_open_result *out)
{
	int fd = uffd_open_with(method, privs->device_path);

	*out = (struct uffd_open_result){ .method = method, .ok = fd >= 0 };
	if (fd >= 0) {
		close(fd);
		return;
	}
	out->err = -fd;
	if (method == UFFD_OPEN_DEVICE)
		explain_device(privs, -fd, out->reason, sizeof(out->reason));
	else
		explain_syscall(privs, -fd, method == UFFD_OPEN_SYSCALL_USER_ONLY, out->reason,
				sizeof(out->reason));
	vmt_dbg("open %s: %s", uffd_open_method_name(method), out->reason);
}

int uffd_open_best(const char *device_path, bool need_kernel_faults, enum uffd_open_method *used)
{
	static const enum uffd_open_method order[] = {
		UFFD_OPEN_SYSCALL,
		UFFD_OPEN_DEVICE,
		UFFD_OPEN_SYSCALL_USER_ONLY,
	};
	int first_err = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(order); i++) {
		int fd;

		if (need_kernel_faults && !uffd_open_method_kernel_faults(order[i]))
			continue;
		fd = uffd_open_with(order[i], device_path);
		if (fd >= 0) {
			*used = order[i];
			return fd;
		}
		if (!first_err)
			first_err = fd;
	}
	return first_err ? first_err : -ENOSYS;
}
