/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Named uses of userfaultfd and what each needs, as data: the same table
 * drives --require, --list-profiles and the man page's list.
 */
#ifndef UFFD_PROBE_PROFILES_H
#define UFFD_PROBE_PROFILES_H

#include <stdbool.h>
#include <stdint.h>

#include "uffd-matrix.h"
#include "uffd-memory.h"
#include "uffd-open.h"

struct uffd_profile {
	const char *name;
	const char *user;	   /* who needs it */
	enum uffd_mem_kind memory; /* the memory it registers */
	bool memory_from_option;   /* --memory may change it */
	bool kernel_faults;	   /* fd must catch faults taken inside the kernel */
	uint64_t features;	   /* must be offered and enabled on one fd */
	enum uffd_reg_mode mode;
	uint64_t ioctls; /* must be granted on the registered range */
	const char *why;
};

extern const struct uffd_profile uffd_profiles[];
extern const unsigned int uffd_profile_count;

const struct uffd_profile *uffd_profile_find(const char *name);

#define UFFD_PROFILE_MAX_UNMET 8

struct uffd_profile_result {
	const struct uffd_profile *profile;
	enum uffd_mem_kind memory;
	uint64_t features; /* required, after --memory */
	uint64_t ioctls;   /* required, after --memory */
	bool met;
	bool untestable;	      /* unmet only because its memory cannot be made here */
	enum uffd_open_method method; /* of the fd that was used */
	bool opened;
	unsigned int unmet_count;
	char unmet[UFFD_PROFILE_MAX_UNMET][640];
};

/*
 * Check a profile for real: open, enable its features, create its memory,
 * register it and compare the granted ioctls. memory_override < 0 keeps the
 * profile's own memory.
 */
void uffd_profile_check(const struct uffd_profile *profile, int memory_override,
			const char *device_path, const char *tmpfs_dir,
			struct uffd_profile_result *out);

#endif
