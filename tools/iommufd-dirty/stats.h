/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The --stats line for one read: dirty pages and the rate they appeared
 * at, as text or (--json) one JSON object per line.
 */
#ifndef IOMMUFD_DIRTY_STATS_H
#define IOMMUFD_DIRTY_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct dirty_stats_line {
	uint64_t read;	     /* 1, 2, ... */
	uint64_t time_ns;    /* CLOCK_REALTIME of the read */
	uint64_t elapsed_ns; /* since the previous read, or since tracking began */
	uint64_t pages;	     /* pages watched */
	uint64_t dirty_pages;
	uint64_t page_size;
};

/* The "schema" of a --json line: "iommufd-dirty/1" (iommufd-dirty(1) documents it). */
#define DIRTY_STATS_SCHEMA_VERSION 1

/* 0, or -errno when out reports an error. */
int dirty_stats_print(FILE *out, const struct dirty_stats_line *line, bool json);

#endif
