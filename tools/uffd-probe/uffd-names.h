/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Names of userfaultfd feature bits, ioctl bits and register modes, as the
 * uAPI spells them without their prefixes ("MISSING_SHMEM", "COPY").
 */
#ifndef UFFD_PROBE_NAMES_H
#define UFFD_PROBE_NAMES_H

#include <stdint.h>

/* NULL for a bit this build does not know: print it as a number. */
const char *uffd_feature_name(unsigned int bit);
const char *uffd_ioctl_name(unsigned int bit);
/* A feature name (as above, case-insensitive) to its mask; 0 if unknown. */
uint64_t uffd_feature_by_name(const char *name);

/* The range ioctls a registration can grant, for the matrix's columns. */
extern const unsigned int uffd_range_ioctl_bits[];
extern const unsigned int uffd_range_ioctl_count;

/*
 * "COPY,ZEROPAGE,WAKE" (ioctls) or "EVENT_FORK,bit20" (features) into buf;
 * "-" for none. Unknown bits as "bitN" so a newer kernel is not hidden.
 */
const char *uffd_format_ioctls(uint64_t mask, char *buf, unsigned long len);
const char *uffd_format_features(uint64_t mask, char *buf, unsigned long len);

#endif
