/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uffd-probe's command line: which profiles to check, on which memory, and
 * whether to fault pages in for real. The strings stay lib/common/cli's
 * until probe_options_free().
 */
#ifndef VMT_UFFD_PROBE_OPTIONS_H
#define VMT_UFFD_PROBE_OPTIONS_H

#include <stdbool.h>

#include "uffd-profiles.h"

struct probe_options {
	bool quiet;
	bool json;
	bool list_profiles;
	bool functional;
	unsigned long faults;
	int memory; /* -1: each profile's own */
	const struct uffd_profile *required[8];
	unsigned int nrequired;
	const char *device;    /* NULL: UFFD_DEFAULT_DEVICE */
	const char *tmpfs_dir; /* NULL: UFFD_DEFAULT_TMPFS_DIR */
};

/* Parses argv; usage errors exit 2, --help and --version exit 0. */
void probe_options_parse(struct probe_options *o, int argc, const char **argv);
/* Frees the command line's arguments o's strings point into. */
void probe_options_free(struct probe_options *o);

#endif
