// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel version and the rules that changed within 6.12 stable; see
 * kversion.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "kversion.h"

struct kversion {
	unsigned int major, minor, sub;
};

static const struct {
	struct kversion since;
	const char *change; /* the upstream commit, as ChangeLog-<since> lists it */
	const char *after, *before;
} version_rules[RULE_COUNT] = {
	[RULE_DIRTY_UNMAPPED_EINVAL] = {
		.since = { 6, 12, 118 },
		.change = "iommufd/iova_bitmap: Ensure that iova_bitmap_set() handles the full IOVA",
		.after = "iommu_read_and_clear_dirty returns iova_bitmap_for_each's result, "
			 "-EINVAL from __iommu_read_and_clear_dirty: !iopt_area_contig_done",
		.before = "iommu_read_and_clear_dirty drops iova_bitmap_for_each's result",
	},
};

static struct {
	bool known;
	struct kversion v;
	char release[65];
	char text[96];
	const char *from;
} kernel;

static bool parse_kversion(const char *s, struct kversion *v)
{
	int end = 0;

	*v = (struct kversion){ 0 };
	if (sscanf(s, "%u.%u%n", &v->major, &v->minor, &end) != 2)
		return false;
	if (s[end] == '.' && sscanf(s + end, ".%u", &v->sub) != 1)
		return false;
	return true;
}

int kversion_set(const char *release, const char *from)
{
	if (!parse_kversion(release, &kernel.v))
		return -EINVAL;
	snprintf(kernel.release, sizeof(kernel.release), "%s", release);
	snprintf(kernel.text, sizeof(kernel.text), "%s (%s)", release, from);
	kernel.from = from;
	kernel.known = true;
	return 0;
}

int kversion_load(void)
{
	struct utsname uts;

	if (kernel.known)
		return 0;
	if (uname(&uts))
		return -errno;
	return kversion_set(uts.release, "uname -r");
}

const char *kversion_string(void)
{
	return kernel.known ? kernel.text : "unknown";
}

void kversion_describe(char *out, size_t len)
{
	snprintf(out, len, "kernel %s (%s): rules of Linux %u.%u.%u", kernel.release, kernel.from,
		 kernel.v.major, kernel.v.minor, kernel.v.sub);
}

static bool at_least(const struct kversion *v, const struct kversion *since)
{
	if (v->major != since->major)
		return v->major > since->major;
	if (v->minor != since->minor)
		return v->minor > since->minor;
	return v->sub >= since->sub;
}

bool kernel_has(enum version_rule r, char *why, size_t len)
{
	const struct kversion *since = &version_rules[r].since;
	bool has = at_least(&kernel.v, since);

	snprintf(why, len, "Linux %s, %s %u.%u.%u (\"%s\"): %s", kernel.release,
		 has ? "at or after" : "before", since->major, since->minor, since->sub,
		 version_rules[r].change, has ? version_rules[r].after : version_rules[r].before);
	return has;
}
