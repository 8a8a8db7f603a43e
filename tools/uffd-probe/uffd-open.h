/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ways to obtain a userfaultfd, what the caller is allowed, and in plain
 * words why a way is refused.
 */
#ifndef UFFD_PROBE_OPEN_H
#define UFFD_PROBE_OPEN_H

#include <stdbool.h>
#include <sys/types.h>

#define UFFD_DEFAULT_DEVICE "/dev/userfaultfd"

enum uffd_open_method {
	UFFD_OPEN_SYSCALL,	     /* userfaultfd(2), kernel and user faults */
	UFFD_OPEN_SYSCALL_USER_ONLY, /* userfaultfd(UFFD_USER_MODE_ONLY) */
	UFFD_OPEN_DEVICE,	     /* /dev/userfaultfd + USERFAULTFD_IOC_NEW */
	UFFD_OPEN_METHOD_COUNT,
};

/* What decides whether each method works. -1 in an int field: unknown. */
struct uffd_privileges {
	uid_t euid;
	int cap_sys_ptrace;	      /* in the effective set */
	int unprivileged_userfaultfd; /* vm.unprivileged_userfaultfd */
	int seccomp_mode;	      /* /proc/self/status Seccomp: 0, 1 strict, 2 filter */
	const char *device_path;
	int device_errno; /* stat() of the node: 0 or errno */
	mode_t device_mode;
	uid_t device_uid;
	gid_t device_gid;
};

struct uffd_open_result {
	enum uffd_open_method method;
	bool ok;
	int err;	  /* errno when refused */
	char reason[256]; /* why, when refused */
};

const char *uffd_open_method_name(enum uffd_open_method method);
/* Whether an fd from this method also catches faults taken inside the kernel. */
bool uffd_open_method_kernel_faults(enum uffd_open_method method);

void uffd_privileges_read(const char *device_path, struct uffd_privileges *privs);

/* Open with one method: fd or -errno. */
int uffd_open_with(enum uffd_open_method method, const char *device_path);

/* Try a method, close the fd, record the outcome and its explanation. */
void uffd_open_try(enum uffd_open_method method, const struct uffd_privileges *privs,
		   struct uffd_open_result *out);

/*
 * Open by the first method that works, preferring ones that catch kernel
 * faults; with need_kernel_faults, only those. fd or -errno (of the first
 * method tried); *used says which method gave it.
 */
int uffd_open_best(const char *device_path, bool need_kernel_faults, enum uffd_open_method *used);

#endif
