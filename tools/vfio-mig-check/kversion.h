/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel version the checks hold the device to.  Where a rule changed
 * within a stable series the expectation follows the version seen: the
 * running kernel's (uname -r), or --kernel-version's.
 */
#ifndef VMC_KVERSION_H
#define VMC_KVERSION_H

#include <stdbool.h>

/* "6.12.118" or "6.12.118-amd64": 0, or -EINVAL when it is not a version. */
int kversion_set(const char *release);
/* uname -r, unless kversion_set() came first. */
const char *kversion_string(void);
bool kversion_at_least(unsigned int major, unsigned int minor, unsigned int patch);

#endif
