/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-mig-check's command line.
 */
#ifndef VMC_OPTIONS_H
#define VMC_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_SELECTED_GROUPS 32

struct check_options {
	const char *device[2]; /* -d DEV [-d PEER] */
	int ndevices;
	bool yes;  /* --yes: the devices' migration state may be changed */
	bool list; /* --list */
	const char *group[MAX_SELECTED_GROUPS];
	int ngroups;	   /* 0: all */
	const char *junit; /* --junit FILE */
	bool json;	   /* -J */
	const char *kernel_version;
	/* --iommufd-fd N --hwpt ID --range IOVA:LENGTH --io-page-size N */
	int iommufd;
	uint32_t hwpt;
	uint64_t iova, length, io_page_size;
};

/*
 * Exits with a usage error (2) on a bad command line; --help and --version
 * exit 0. The strings stay lib/common/cli's until check_options_free().
 */
void check_options_parse(struct check_options *o, int argc, const char **argv);
void check_options_free(struct check_options *o);

#endif
