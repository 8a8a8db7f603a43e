/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One pass over the watched ranges: read each range's dirty bitmap in
 * bounded pieces (at most max_bitmap_bytes per read, so memory stays
 * bounded for terabytes of IOVA) and hand each piece on as one
 * DIRTY_BITMAP record, or just count its dirty pages.
 */
#ifndef IOMMUFD_DIRTY_SCAN_H
#define IOMMUFD_DIRTY_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "stream/writer.h"
#include "ranges.h"
#include "tracker.h"

struct dirty_scan {
	struct dirty_tracker *tracker;
	const struct dirty_range_list *ranges;
	uint64_t page_size;
	uint64_t max_bitmap_bytes; /* a multiple of 8 */
	bool clear;
	uint32_t source;	      /* the records' source index */
	struct migstream_writer *out; /* NULL: count only */

	uint64_t *bitmap; /* max_bitmap_bytes, owned */
};

/* Allocates the bitmap buffer. 0 or -ENOMEM. */
int dirty_scan_init(struct dirty_scan *s);
void dirty_scan_free(struct dirty_scan *s);

struct dirty_scan_result {
	uint64_t pages;	      /* pages looked at */
	uint64_t dirty_pages; /* counted only when asked */
	uint64_t reads;	      /* bitmap reads (pieces) */
};

/*
 * One pass. count: also count dirty pages. Read errors were reported by
 * the tracker; a stream write error is reported here.
 */
int dirty_scan_once(struct dirty_scan *s, bool count, struct dirty_scan_result *res);

#endif
