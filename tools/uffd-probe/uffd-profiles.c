// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Profiles: the requirement table and its checker.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/c.h"
#include "common/log.h"
#include "uffd-api.h"
#include "uffd-ioctl.h"
#include "uffd-names.h"
#include "uffd-profiles.h"
#include "uffd-uapi.h"

#define IOCTL(name) ((uint64_t)1 << _UFFDIO_##name)

/* Rows of the table that postcopy borrows from for --memory. */
enum {
	ROW_POSTCOPY,
	ROW_POSTCOPY_SHMEM,
	ROW_POSTCOPY_HUGETLB
};

/* Keep in step with man/uffd-probe.1, PROFILES. */
const struct uffd_profile uffd_profiles[] = {
	[ROW_POSTCOPY] = {
		.name = "postcopy",
		.user = "QEMU post-copy migration of guest RAM",
		.memory = UFFD_MEM_ANON,
		.memory_from_option = true,
		.kernel_faults = true,
		.features = 0,
		.mode = UFFD_REG_MISSING,
		.ioctls = IOCTL(WAKE) | IOCTL(COPY) | IOCTL(ZEROPAGE),
		.why = "the destination registers guest RAM for missing faults and fills each "
		       "page as it arrives with COPY (ZEROPAGE for zero pages), waking vCPUs "
		       "with WAKE; KVM and vhost touch guest RAM from the kernel, so the fd "
		       "must not be user-mode-only",
	},
	[ROW_POSTCOPY_SHMEM] = {
		.name = "postcopy-shmem",
		.user = "QEMU post-copy with shared-memory guest RAM (memfd, vhost-user)",
		.memory = UFFD_MEM_SHMEM,
		.kernel_faults = true,
		.features = UFFD_FEATURE_MISSING_SHMEM,
		.mode = UFFD_REG_MISSING,
		.ioctls = IOCTL(WAKE) | IOCTL(COPY),
		.why = "as postcopy, on shmem; QEMU checks the kernel offers MISSING_SHMEM and, "
		       "per RAM block, needs only COPY (it uses ZEROPAGE where granted)",
	},
	[ROW_POSTCOPY_HUGETLB] = {
		.name = "postcopy-hugetlb",
		.user = "QEMU post-copy with hugetlbfs guest RAM",
		.memory = UFFD_MEM_HUGETLB,
		.kernel_faults = true,
		.features = UFFD_FEATURE_MISSING_HUGETLBFS,
		.mode = UFFD_REG_MISSING,
		.ioctls = IOCTL(WAKE) | IOCTL(COPY),
		.why = "as postcopy, on hugetlbfs; QEMU checks the kernel offers "
		       "MISSING_HUGETLBFS; the kernel grants no ZEROPAGE there, so zero huge "
		       "pages are placed with COPY",
	},
	{
		.name = "lazy-restore",
		.user = "CRIU lazy pages (restore, then fetch memory on demand)",
		.memory = UFFD_MEM_ANON,
		.kernel_faults = true,
		.features = UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP |
			    UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP,
		.mode = UFFD_REG_MISSING,
		.ioctls = IOCTL(WAKE) | IOCTL(COPY) | IOCTL(ZEROPAGE),
		.why = "the lazy-pages daemon must follow the restored tasks' fork, mremap, "
		       "madvise(DONTNEED) and munmap through the non-cooperative events "
		       "(enabling EVENT_FORK needs CAP_SYS_PTRACE) and fills pages with COPY "
		       "and ZEROPAGE; restored tasks fault in system calls too",
	},
	{
		.name = "wp-async",
		.user = "write-protect dirty tracking (async WP with PAGEMAP_SCAN)",
		.memory = UFFD_MEM_ANON,
		.kernel_faults = false,
		.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_ASYNC |
			    UFFD_FEATURE_WP_UNPOPULATED,
		.mode = UFFD_REG_WP,
		.ioctls = IOCTL(WRITEPROTECT),
		.why = "memory is write-protected with WRITEPROTECT; with WP_ASYNC the kernel "
		       "resolves each write fault itself and the tracker reads the written "
		       "pages with PAGEMAP_SCAN, no fault handler thread; WP_UNPOPULATED makes "
		       "pages never touched count as protected",
	},
};

const unsigned int uffd_profile_count = ARRAY_SIZE(uffd_profiles);

const struct uffd_profile *uffd_profile_find(const char *name)
{
	for (unsigned int i = 0; i < uffd_profile_count; i++)
		if (strcmp(uffd_profiles[i].name, name) == 0)
			return &uffd_profiles[i];
	return NULL;
}

VMT_PRINTF(2, 3)
static void unmet(struct uffd_profile_result *r, const char *fmt, ...)
{
	va_list ap;

	r->met = false;
	if (r->unmet_count >= UFFD_PROFILE_MAX_UNMET)
		return;
	va_start(ap, fmt);
	vsnprintf(r->unmet[r->unmet_count++], sizeof(r->unmet[0]), fmt, ap);
	va_end(ap);
}

/* postcopy on --memory KIND needs what the postcopy-KIND profile lists. */
static void apply_memory(const struct uffd_profile *p, int memory_override,
			 struct uffd_profile_result *r)
{
	const struct uffd_profile *like = p;

	r->memory = p->memory;
	if (!p->memory_from_option || memory_override < 0)
		goto out;
	r->memory = memory_override;
	if (memory_override == UFFD_MEM_SHMEM || memory_override == UFFD_MEM_TMPFS_FILE)
		like = &uffd_profiles[ROW_POSTCOPY_SHMEM];
	else if (memory_override == UFFD_MEM_HUGETLB)
		like = &uffd_profiles[ROW_POSTCOPY_HUGETLB];
out:
	r->features = like->features;
	r->ioctls = like->ioctls;
}

static void check_registration(int uffd, const struct uffd_profile *p, const char *tmpfs_dir,
			       struct uffd_profile_result *r)
{
	struct uffd_reg_cell cell = { 0 };
	struct uffd_mem mem;
	char reason[160], names[256];
	uint64_t missing;

	if (uffd_mem_create(r->memory, 1, tmpfs_dir, &mem, reason, sizeof(reason))) {
		r->untestable = r->unmet_count == 0;
		unmet(r, "%s memory cannot be tested here: %s", uffd_mem_kind_name(r->memory),
		      reason);
		return;
	}
	uffd_register_probe(uffd, &mem, p->mode, &cell);
	uffd_mem_destroy(&mem);
	if (cell.status != UFFD_CELL_OK) {
		unmet(r, "registering %s memory in %s mode fails: %s",
		      uffd_mem_kind_name(r->memory), uffd_reg_mode_name(p->mode), cell.note);
		return;
	}
	missing = r->ioctls & ~cell.ioctls;
	if (missing)
		unmet(r, "%s memory registered in %s mode lacks ioctls %s",
		      uffd_mem_kind_name(r->memory), uffd_reg_mode_name(p->mode),
		      uffd_format_ioctls(missing, names, sizeof(names)));
}

/* Say why each acceptable opening method was refused. */
static void explain_no_fd(const struct uffd_profile *p, const char *device_path,
			  struct uffd_profile_result *r)
{
	struct uffd_privileges privs;
	char why[512] = "";
	size_t used = 0;

	uffd_privileges_read(device_path, &privs);
	for (int m = 0; m < UFFD_OPEN_METHOD_COUNT; m++) {
		struct uffd_open_result o;

		if (p->kernel_faults && !uffd_open_method_kernel_faults(m))
			continue;
		uffd_open_try(m, &privs, &o);
		if (!o.ok)
			used += snprintf(why + used, used < sizeof(why) ? sizeof(why) - used : 0,
					 "%s%s: %s", used ? "; " : "", uffd_open_method_name(m),
					 o.reason);
	}
	unmet(r, "cannot open a userfaultfd%s (%s)",
	      p->kernel_faults ? " that also catches kernel faults" : "", why);
}

void uffd_profile_check(const struct uffd_profile *p, int memory_override, const char *device_path,
			const char *tmpfs_dir, struct uffd_profile_result *r)
{
	uint64_t offered = 0, missing;
	char names[256];
	int uffd, ret;

	*r = (struct uffd_profile_result){ .profile = p, .met = true };
	apply_memory(p, memory_override, r);

	uffd = uffd_open_best(device_path, p->kernel_faults, &r->method);
	if (uffd < 0) {
		explain_no_fd(p, device_path, r);
		/* Go on with a user-mode-only fd: list everything else that is missing too. */
		uffd = uffd_open_best(device_path, false, &r->method);
		if (uffd < 0)
			return;
	}
	r->opened = true;
	if (uffd_ioctl_api(uffd, 0, &offered, NULL)) {
		unmet(r, "UFFDIO_API handshake fails");
		close(uffd);
		return;
	}
	close(uffd);
	missing = r->features & ~offered;
	if (missing)
		unmet(r, "kernel does not offer features %s",
		      uffd_format_features(missing, names, sizeof(names)));

	/* Offered is not enough: EVENT_FORK is refused at enable time without CAP_SYS_PTRACE. */
	uffd = uffd_open_with(r->method, device_path);
	if (uffd < 0) {
		unmet(r, "reopening the userfaultfd fails: %s", strerror(-uffd));
		return;
	}
	ret = uffd_ioctl_api(uffd, r->features & offered, NULL, NULL);
	if (ret == -EPERM && (r->features & UFFD_FEATURE_EVENT_FORK)) {
		unmet(r, "enabling EVENT_FORK needs CAP_SYS_PTRACE");
	} else if (ret) {
		unmet(r, "enabling features %s fails: %s",
		      uffd_format_features(r->features & offered, names, sizeof(names)),
		      strerror(-ret));
	}
	if (ret) {
		/* Registration does not depend on these features: check it anyway. */
		close(uffd);
		uffd = uffd_open_with(r->method, device_path);
		if (uffd < 0 || uffd_ioctl_api(uffd, 0, NULL, NULL)) {
			if (uffd >= 0)
				close(uffd);
			return;
		}
	}
	check_registration(uffd, p, tmpfs_dir, r);
	close(uffd);
}
