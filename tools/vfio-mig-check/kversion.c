// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel version; see kversion.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "kversion.h"

static struct {
	bool known;
	char release[65];
	unsigned int major, minor, patch;
} kv;

int kversion_set(const char *release)
{
	unsigned int major, minor, patch = 0;

	if (sscanf(release, "%u.%u.%u", &major, &minor, &patch) < 2)
		return -EINVAL;
	kv.known = true;
	snprintf(kv.release, sizeof(kv.release), "%s", release);
	kv.major = major;
	kv.minor = minor;
	kv.patch = patch;
	return 0;
}

static void kversion_load(void)
{
	struct utsname u;

	if (kv.known)
		return;
	if (uname(&u) || kversion_set(u.release))
		snprintf(kv.release, sizeof(kv.release), "unknown");
	kv.known = true;
}

const char *kversion_string(void)
{
	kversion_load();
	return kv.release;
}

bool kversion_at_least(unsigned int major, unsigned int minor, unsigned int patch)
{
	kversion_load();
	if (kv.major != major)
		return kv.major > major;
	if (kv.minor != minor)
		return kv.minor > minor;
	return kv.patch >= patch;
}
