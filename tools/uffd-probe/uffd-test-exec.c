// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uffd-test-exec: run a command with less privilege or a seccomp filter, so
 * the uffd-probe tests can check each refusal it must explain. A helper of
 * our own rather than setpriv(1), because the kernel-tier guest only has
 * busybox, whose setpriv cannot change user.
 *
 *   uffd-test-exec [--user UID:GID] [--drop-ptrace] [--seccomp-enosys] -- CMD [ARG...]
 *
 *   --user UID:GID     become this user, with no supplementary groups; a
 *                      non-root user keeps no capabilities
 *   --drop-ptrace      take CAP_SYS_PTRACE out of the bounding set, so even
 *                      root runs CMD without it
 *   --seccomp-enosys   make the userfaultfd system call fail with ENOSYS, as
 *                      a container runtime's seccomp profile does
 *
 * Exit 77 when the kernel cannot do what was asked (no seccomp), so tests skip.
 */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/c.h"

#define CAP_SYS_PTRACE_NR 19
#define EXIT_SKIP 77

#if defined(__x86_64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

static int deny_userfaultfd(void)
{
#ifdef THIS_AUDIT_ARCH
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_userfaultfd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = ARRAY_SIZE(code),
		.filter = code,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		fprintf(stderr, "uffd-test-exec: cannot install a seccomp filter: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
#else
	fprintf(stderr, "uffd-test-exec: no seccomp filter for this architecture\n");
	return -1;
#endif
}

static int become(const char *spec)
{
	unsigned int uid, gid;
	char end;

	if (sscanf(spec, "%u:%u%c", &uid, &gid, &end) != 2) {
		fprintf(stderr, "uffd-test-exec: --user wants UID:GID, not '%s'\n", spec);
		exit(2);
	}
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid)) {
		fprintf(stderr, "uffd-test-exec: cannot become %u:%u: %s\n", uid, gid,
			strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *user = NULL;
	int drop_ptrace = 0, seccomp = 0, i;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			user = argv[++i];
		} else if (strcmp(argv[i], "--drop-ptrace") == 0) {
			drop_ptrace = 1;
		} else if (strcmp(argv[i], "--seccomp-enosys") == 0) {
			seccomp = 1;
		} else {
			fprintf(stderr, "uffd-test-exec: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: uffd-test-exec [--user UID:GID] [--drop-ptrace] "
				"[--seccomp-enosys] -- CMD [ARG...]\n");
		return 2;
	}
	if (drop_ptrace && prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE_NR, 0, 0, 0)) {
		fprintf(stderr, "uffd-test-exec: cannot drop CAP_SYS_PTRACE: %s\n",
			strerror(errno));
		return 1;
	}
	if (user && become(user))
		return 1;
	if (seccomp && deny_userfaultfd())
		return EXIT_SKIP;
	execvp(argv[i], argv + i);
	fprintf(stderr, "uffd-test-exec: %s: %s\n", argv[i], strerror(errno));
	return 127;
}
