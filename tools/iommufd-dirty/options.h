/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-dirty's command line: parsed and checked for consistency here,
 * so main() only runs what was asked. Usage errors exit 2 from inside.
 */
#ifndef IOMMUFD_DIRTY_OPTIONS_H
#define IOMMUFD_DIRTY_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/c.h"
#include "ranges.h"
#include "tracker.h"

/* Read at most this much bitmap per ioctl: one RAW record's worth, 32 Mi pages. */
#define DIRTY_DEFAULT_MAX_BITMAP (4u << 20)
#define DIRTY_DEFAULT_INTERVAL_NS NSEC_PER_SEC
/* VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT refuses smaller (SZ_4K in vfio_main.c). */
#define DIRTY_DEVICE_MIN_PAGE_SIZE 4096u

struct dirty_options {
	enum dirty_backend backend;
	const char *device;
	struct dirty_range_list maps;	/* --map: standalone iommu */
	struct dirty_range_list ranges; /* --range */
	int iommufd_fd;			/* -1: not inherited */
	uint32_t hwpt_id;
	bool enable_tracking;

	uint64_t page_size; /* 0: from the tracker */
	uint64_t interval_ns;
	uint64_t count;	      /* 0: no limit */
	uint64_t duration_ns; /* 0: no limit */
	bool once;
	bool no_clear;
	bool stats;
	bool json;
	uint64_t max_bitmap;
	uint32_t source;
	const char *output; /* NULL: stdout */
	bool force;
};

void dirty_options_parse(struct dirty_options *cfg, int argc, const char **argv);
/* Frees cfg and the command line's arguments its strings point into. */
void dirty_options_free(struct dirty_options *cfg);

/* The ranges the scan reads: --range when given, else the --map ranges. */
const struct dirty_range_list *dirty_options_watched(const struct dirty_options *cfg);

#endif
