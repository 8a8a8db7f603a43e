// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Name tables for userfaultfd bits.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/c.h"
#include "uffd-names.h"
#include "uffd-uapi.h"

static const char *const feature_names[] = {
	[0] = "PAGEFAULT_FLAG_WP",
	[1] = "EVENT_FORK",
	[2] = "EVENT_REMAP",
	[3] = "EVENT_REMOVE",
	[4] = "MISSING_HUGETLBFS",
	[5] = "MISSING_SHMEM",
	[6] = "EVENT_UNMAP",
	[7] = "SIGBUS",
	[8] = "THREAD_ID",
	[9] = "MINOR_HUGETLBFS",
	[10] = "MINOR_SHMEM",
	[11] = "EXACT_ADDRESS",
	[12] = "WP_HUGETLBFS_SHMEM",
	[13] = "WP_UNPOPULATED",
	[14] = "POISON",
	[15] = "WP_ASYNC",
	[16] = "MOVE",
};

static const char *const ioctl_names[] = {
	[_UFFDIO_REGISTER] = "REGISTER",
	[_UFFDIO_UNREGISTER] = "UNREGISTER",
	[_UFFDIO_WAKE] = "WAKE",
	[_UFFDIO_COPY] = "COPY",
	[_UFFDIO_ZEROPAGE] = "ZEROPAGE",
	[_UFFDIO_MOVE] = "MOVE",
	[_UFFDIO_WRITEPROTECT] = "WRITEPROTECT",
	[_UFFDIO_CONTINUE] = "CONTINUE",
	[_UFFDIO_POISON] = "POISON",
	[_UFFDIO_API] = "API",
};

const unsigned int uffd_range_ioctl_bits[] = {
	_UFFDIO_COPY,	  _UFFDIO_ZEROPAGE, _UFFDIO_WAKE, _UFFDIO_WRITEPROTECT,
	_UFFDIO_CONTINUE, _UFFDIO_POISON,   _UFFDIO_MOVE,
};
const unsigned int uffd_range_ioctl_count = ARRAY_SIZE(uffd_range_ioctl_bits);

const char *uffd_feature_name(unsigned int bit)
{
	return bit < ARRAY_SIZE(feature_names) ? feature_names[bit] : NULL;
}

const char *uffd_ioctl_name(unsigned int bit)
{
	return bit < ARRAY_SIZE(ioctl_names) ? ioctl_names[bit] : NULL;
}

uint64_t uffd_feature_by_name(const char *name)
{
	for (unsigned int bit = 0; bit < ARRAY_SIZE(feature_names); bit++)
		if (feature_names[bit] && strcasecmp(feature_names[bit], name) == 0)
			return (uint64_t)1 << bit;
	return 0;
}

static const char *format_bits(uint64_t mask, const char *(*name_of)(unsigned int),
			       const unsigned int *order, unsigned int order_count, char *buf,
			       unsigned long len)
{
	size_t used = 0;
	uint64_t left = mask;

	buf[0] = '\0';
	/* Range ioctls read best in the order the issue lists them. */
	for (unsigned int i = 0; i < order_count; i++) {
		uint64_t bit = (uint64_t)1 << order[i];

		if (!(left & bit))
			continue;
		left &= ~bit;
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? "," : "",
				 name_of(order[i]));
	}
	for (unsigned int b = 0; b < 64; b++) {
		const char *name;

		if (!(left & ((uint64_t)1 << b)))
			continue;
		name = name_of(b);
		if (name)
			used += snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? "," : "", name);
		else
			used += snprintf(buf + used, used < len ? len - used : 0, "%sbit%u",
					 used ? "," : "", b);
	}
	if (!buf[0] && len > 1)
		snprintf(buf, len, "-");
	return buf;
}

const char *uffd_format_ioctls(uint64_t mask, char *buf, unsigned long len)
{
	return format_bits(mask, uffd_ioctl_name, uffd_range_ioctl_bits, uffd_range_ioctl_count,
			   buf, len);
}

const char *uffd_format_features(uint64_t mask, char *buf, unsigned long len)
{
	return format_bits(mask, uffd_feature_name, NULL, 0, buf, len);
}
