/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel version whose rules the checks expect.  Debian serves only
 * the newest 6.12 stable, so the kernel moves under the tiers; where a rule
 * changed within a stable series, the table in kversion.c names the first
 * version with the new behaviour and the upstream change, and the check
 * expects what the version it runs on does: uname -r, or --kernel (the
 * simulator says which version it follows: vfiosim-run --linux-version).
 */
#ifndef VMC_KVERSION_H
#define VMC_KVERSION_H

#include <stdbool.h>
#include <stddef.h>

enum version_rule {
	/* IOMMU_HWPT_GET_DIRTY_BITMAP of IOVA that no mapped area covers */
	RULE_DIRTY_UNMAPPED_EINVAL,
	RULE_COUNT
};

/* release: "6.12.118", "6.12.118-amd64", "6.12"; from: "--kernel" or "uname -r". -EINVAL if unreadable. */
int kversion_set(const char *release, const char *from);
/* uname -r unless kversion_set() came first; 0 or -errno. */
int kversion_load(void);
/* "6.12.118 (uname -r)" */
const char *kversion_string(void);
/* "kernel 6.12.117 (--kernel): rules of Linux 6.12.117" */
void kversion_describe(char *out, size_t len);
/* Whether this kernel has rule r's new behaviour; *why names both versions and the change. */
bool kernel_has(enum version_rule r, char *why, size_t len);

#endif
